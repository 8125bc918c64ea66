/* SPDX-License-Identifier: Apache-2.0 */
/*
 * allowcsv: the line parser of ztpctl allowlist import (see allowcsv.h).
 * The line is a factory's: every read is inside line[0..len), a base64
 * key is decoded into a buffer sized from the line's bound, and nothing is
 * written to *row until the whole line has been accepted.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "allowcsv.h"
#include "b64.h"
#include "crypto.h"
#include "hex.h"
#include "simcsv.h"
#include "udid.h"
#include "ztp/err.h"
#include "ztp/iccid.h"

#define ALLOWCSV_FIELDS_MAX 4
#define KEY_HEX_LEN (ALLOWCSV_KEY_HEX_SIZE - 1)
/* the longest SubjectPublicKeyInfo a line can hold in base64 */
#define SPKI_DER_MAX (ALLOWCSV_LINE_MAX / 4 * 3)

static const char *const reasons[ALLOWCSV_NREASONS] = {
	[ALLOWCSV_OK] = "no error",
	[ALLOWCSV_TOO_LONG] = "line too long",
	[ALLOWCSV_NUL] = "NUL byte in the line",
	[ALLOWCSV_QUOTES] = "quotes are not supported",
	[ALLOWCSV_TOO_MANY_FIELDS] = "more than 4 fields (udid,key,group,iccid)",
	[ALLOWCSV_ONE_FIELD] = "expected udid,key[,group[,iccid]]",
	[ALLOWCSV_SPACE] = "space around a field",
	[ALLOWCSV_BAD_UDID] = "invalid UDID: expected 1 to 64 of A-Z a-z 0-9 - . : _",
	[ALLOWCSV_BAD_KEY] = ("invalid key: expected 64 hex digits (SHA-256 of the DER "
			      "SubjectPublicKeyInfo) or the SubjectPublicKeyInfo in base64"),
	[ALLOWCSV_BAD_GROUP] = "invalid group name: expected 1 to 63 of A-Z a-z 0-9 _ . -",
	[ALLOWCSV_BAD_ICCID] = "invalid ICCID: expected 18 to 20 digits",
};

const char *
allowcsv_reason(enum allowcsv_reason why)
{
	if ((unsigned)why >= ALLOWCSV_NREASONS)
		return "unknown reason";
	return reasons[why];
}

int
allowcsv_udid_valid(const char *s, size_t len)
{
	_Static_assert(ALLOWCSV_UDID_MAX == UDID_MAX, "allowcsv_udid_valid() is udid_valid()");
	return udid_valid(s, len);
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* 1 if s[0..len) is the lower-case ASCII word w in any case, else 0 */
static int
equals_nocase(const char *s, size_t len, const char *w)
{
	size_t i;

	if (len != strlen(w))
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != w[i])
			return 0;
	}
	return 1;
}

/*
 * The SHA-256 of the SubjectPublicKeyInfo that s[0..len) holds in base64
 * (len <= ALLOWCSV_LINE_MAX), in lower-case hex. The base64 is one CSV
 * field: padded, and none of the whitespace b64_decode() allows between an
 * EST body's characters (a space, tab, CR or LF in the field refuses it).
 * The DER must be one X509_PUBKEY with nothing after it whose key OpenSSL
 * can load; the hash is of its DER as OpenSSL encodes it again. Returns 0
 * or -1; OpenSSL's error queue is left as it was.
 */
static int
spki_b64_sha256(const char *s, size_t len, char hex[ALLOWCSV_KEY_HEX_SIZE])
{
	unsigned char der[SPKI_DER_MAX + 3], *enc = NULL;
	const unsigned char *p = der;
	X509_PUBKEY *k = NULL;
	uint8_t h[32];
	size_t i, n;
	int m, rc = -1;

	for (i = 0; i < len; i++)
		if (is_blank(s[i]) || s[i] == '\r' || s[i] == '\n')
			return -1;
	if (b64_decode(s, len, der, sizeof(der), &n) != 0 || n == 0)
		return -1;
	ERR_set_mark();
	k = d2i_X509_PUBKEY(NULL, &p, (long)n);
	if (k == NULL || p != der + n || X509_PUBKEY_get0(k) == NULL ||
	    (m = i2d_X509_PUBKEY(k, &enc)) <= 0 || crypto_sha256(enc, (size_t)m, h) != 0)
		goto out;
	for (i = 0; i < sizeof(h); i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	rc = 0;
out:
	OPENSSL_free(enc);
	X509_PUBKEY_free(k);
	ERR_pop_to_mark();
	return rc;
}

/*
 * The key field s[0..len): 64 hex digits, or a base64 SubjectPublicKeyInfo
 * (spki_b64_sha256). hex gets the SHA-256 in lower case. Returns 0 or -1.
 */
static int
key_sha256_hex(const char *s, size_t len, char hex[ALLOWCSV_KEY_HEX_SIZE])
{
	size_t i;

	if (len == KEY_HEX_LEN && hex_valid(s, len)) {
		for (i = 0; i < len; i++)
			hex[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
		hex[len] = '\0';
		return 0;
	}
	return spki_b64_sha256(s, len, hex);
}

int
allowcsv_parse(const char *line, size_t len, int may_be_header, struct allowcsv_row *row,
    enum allowcsv_reason *why)
{
	const char *field[ALLOWCSV_FIELDS_MAX];
	size_t flen[ALLOWCSV_FIELDS_MAX], nfields = 0, i;
	char key[ALLOWCSV_KEY_HEX_SIZE];
	enum allowcsv_reason r;
	int have_key = 0;

	/* the line end, if the caller left it in */
	len = simcsv_chomp(line, len);
	/* before the BOM goes: a reader that cuts long lines still gets them refused */
	if (len > ALLOWCSV_LINE_MAX) {
		r = ALLOWCSV_TOO_LONG;
		goto refuse;
	}
	if (may_be_header && len >= 3 && (unsigned char)line[0] == 0xEF &&
	    (unsigned char)line[1] == 0xBB && (unsigned char)line[2] == 0xBF) {
		line += 3;
		len -= 3;
	}
	for (i = 0; i < len && is_blank(line[i]); i++)
		;
	if (i == len || line[i] == '#')
		return ALLOWCSV_SKIP;
	if (memchr(line, '\0', len) != NULL) {
		r = ALLOWCSV_NUL;
		goto refuse;
	}
	if (memchr(line, '"', len) != NULL) {
		r = ALLOWCSV_QUOTES;
		goto refuse;
	}

	/* at most 4 fields, checked before any is used */
	switch (simcsv_split(line, len, field, flen, ALLOWCSV_FIELDS_MAX, &nfields)) {
	case SIMCSV_OK:
		break;
	case SIMCSV_TOO_MANY_FIELDS:
		r = ALLOWCSV_TOO_MANY_FIELDS;
		goto refuse;
	case SIMCSV_ONE_FIELD:
		r = ALLOWCSV_ONE_FIELD;
		goto refuse;
	default:
		r = ALLOWCSV_SPACE;
		goto refuse;
	}
	/* "udid,<not a key>...": a header; "udid,<a key>" is the device "udid" */
	if (may_be_header && equals_nocase(field[0], flen[0], "udid")) {
		if (key_sha256_hex(field[1], flen[1], key) != 0)
			return ALLOWCSV_SKIP;
		have_key = 1;
	}
	if (!allowcsv_udid_valid(field[0], flen[0])) {
		r = ALLOWCSV_BAD_UDID;
		goto refuse;
	}
	if (!have_key && key_sha256_hex(field[1], flen[1], key) != 0) {
		r = ALLOWCSV_BAD_KEY;
		goto refuse;
	}
	if (nfields > 2 && flen[2] > 0 && !simcsv_group_valid(field[2], flen[2])) {
		r = ALLOWCSV_BAD_GROUP;
		goto refuse;
	}
	if (nfields > 3 && !iccid_valid(field[3], flen[3])) {
		r = ALLOWCSV_BAD_ICCID;
		goto refuse;
	}

	memset(row, 0, sizeof(*row));
	memcpy(row->udid, field[0], flen[0]);
	memcpy(row->key, key, sizeof(key));
	if (nfields > 2)
		memcpy(row->group, field[2], flen[2]);
	if (nfields > 3)
		memcpy(row->iccid, field[3], flen[3]);
	return 0;
refuse:
	*why = r;
	return ZTP_EMALFORMED;
}
