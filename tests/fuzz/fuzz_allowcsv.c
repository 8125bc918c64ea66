/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a factory's allowlist file (src/cli/allowcsv.h).
 *
 * The bytes are passed to allowcsv_parse() as one line, as they are
 * (libFuzzer's buffer is exactly size bytes, so ASan sees any read past
 * the end), once where a header may be and once where it may not; then as
 * a file, split at '\n' and cut at ALLOWCSV_LINE_MAX + 2 bytes as ztpctl's
 * reader does, with a header allowed until the first line not skipped.
 *
 * An accepted row must hold a UDID by the server's rule (1 to 64 of
 * A-Z a-z 0-9 - . : _), a 32-byte key in lower-case hex, a valid group and
 * ICCID or none, and must be the line's own fields; a line over the bound
 * must be refused as too long; a refused or skipped line must leave the
 * row alone. A broken invariant aborts.
 */
#include <string.h>

#include "allowcsv.h"
#include "fuzz.h"
#include "hex.h"
#include "simcsv.h"
#include "ztp/err.h"
#include "ztp/iccid.h"

#define FILE_LINE_CUT (ALLOWCSV_LINE_MAX + 2) /* ztpctl's reader's line buffer */

/* the server's rule for a UDID, written again here (store_udid_valid) */
static int
udid_ok(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > 64)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' || s[i] == ':' ||
			s[i] == '_'))
			return 0;
	return 1;
}

static int
lower_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
any_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			(s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

/* s[0..len) is shaped like padded standard base64 */
static int
base64_shaped(const char *s, size_t len)
{
	size_t i, pad = 0;

	if (len < 4 || len % 4 != 0)
		return 0;
	while (pad < 2 && s[len - 1 - pad] == '=')
		pad++;
	for (i = 0; i < len - pad; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '/'))
			return 0;
	return 1;
}

/* the line without its line end, as the bound counts it */
static size_t
strip_end(const uint8_t *data, size_t size)
{
	if (size > 0 && data[size - 1] == '\n')
		size--;
	if (size > 0 && data[size - 1] == '\r')
		size--;
	return size;
}

static void
check_row(const struct allowcsv_row *row, const uint8_t *data, size_t size, int may_be_header)
{
	const char *s, *comma;
	size_t ulen, klen, glen, ilen, n, i;
	uint8_t key[32];
	char back[ALLOWCSV_LINE_MAX + 1];

	ulen = strnlen(row->udid, sizeof(row->udid));
	klen = strnlen(row->key, sizeof(row->key));
	glen = strnlen(row->group, sizeof(row->group));
	ilen = strnlen(row->iccid, sizeof(row->iccid));
	FUZZ_CHECK(ulen < sizeof(row->udid) && klen < sizeof(row->key) &&
	    glen < sizeof(row->group) && ilen < sizeof(row->iccid));
	FUZZ_CHECK(udid_ok(row->udid, ulen));
	FUZZ_CHECK(allowcsv_udid_valid(row->udid, ulen));
	FUZZ_CHECK(klen == 64 && lower_hex(row->key, klen));
	FUZZ_CHECK(hex_decode(row->key, klen, key, sizeof(key), &n) == 0 && n == 32);
	FUZZ_CHECK(glen == 0 || simcsv_group_valid(row->group, glen));
	FUZZ_CHECK(ilen == 0 ||
	    (iccid_valid(row->iccid, ilen) && fuzz_all_digits(row->iccid, ilen)));

	/* the row is the line's fields: udid,key[,group[,iccid]] */
	size = strip_end(data, size);
	FUZZ_CHECK(size <= ALLOWCSV_LINE_MAX);
	s = (const char *)data;
	if (may_be_header && size >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		size -= 3;
	}
	FUZZ_CHECK(size > ulen && memcmp(s, row->udid, ulen) == 0 && s[ulen] == ',');
	s += ulen + 1;
	size -= ulen + 1;
	comma = memchr(s, ',', size);
	n = comma != NULL ? (size_t)(comma - s) : size;
	if (n == 64 && any_hex(s, n)) {
		for (i = 0; i < n; i++)
			FUZZ_CHECK(row->key[i] ==
			    (s[i] >= 'A' && s[i] <= 'F' ? (char)(s[i] - 'A' + 'a') : s[i]));
	} else {
		FUZZ_CHECK(base64_shaped(s, n));
	}
	s += n;
	size -= n;
	if (ilen > 0) {
		n = (size_t)snprintf(back, sizeof(back), ",%s,%s", row->group, row->iccid);
		FUZZ_CHECK(n == size && memcmp(back, s, size) == 0);
	} else if (glen > 0) {
		n = (size_t)snprintf(back, sizeof(back), ",%s", row->group);
		FUZZ_CHECK(n == size && memcmp(back, s, size) == 0);
	} else {
		/* "udid,key" or "udid,key,": no group */
		FUZZ_CHECK(size == 0 || (size == 1 && s[0] == ','));
	}
}

/* One line; returns what allowcsv_parse did, after checking it. */
static int
fuzz_line(const uint8_t *data, size_t size, int may_be_header)
{
	struct allowcsv_row row, untouched;
	enum allowcsv_reason why = ALLOWCSV_NREASONS;
	int rc;

	memset(&row, 0xa5, sizeof(row));
	memcpy(&untouched, &row, sizeof(row));
	rc = allowcsv_parse((const char *)data, size, may_be_header, &row, &why);
	if (strip_end(data, size) > ALLOWCSV_LINE_MAX) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED && why == ALLOWCSV_TOO_LONG);
		FUZZ_CHECK(memcmp(&row, &untouched, sizeof(row)) == 0);
		return rc;
	}
	if (rc == 0) {
		FUZZ_CHECK(why == ALLOWCSV_NREASONS);
		check_row(&row, data, size, may_be_header);
		return rc;
	}
	FUZZ_CHECK(memcmp(&row, &untouched, sizeof(row)) == 0);
	if (rc == ALLOWCSV_SKIP) {
		FUZZ_CHECK(why == ALLOWCSV_NREASONS);
		return rc;
	}
	FUZZ_CHECK(rc == ZTP_EMALFORMED);
	FUZZ_CHECK(why > ALLOWCSV_OK && why < ALLOWCSV_NREASONS);
	FUZZ_CHECK(strcmp(allowcsv_reason(why), "unknown reason") != 0);
	return rc;
}

/* The bytes as a file: lines as ztpctl's reader gives them to the parser. */
static void
fuzz_file(const uint8_t *data, size_t size)
{
	const uint8_t *nl;
	size_t pos = 0, n;
	int rows_seen = 0, rc;

	while (pos < size) {
		nl = memchr(data + pos, '\n', size - pos);
		n = nl != NULL ? (size_t)(nl - (data + pos)) : size - pos;
		rc = fuzz_line(data + pos, n < FILE_LINE_CUT ? n : FILE_LINE_CUT, !rows_seen);
		if (n > ALLOWCSV_LINE_MAX + 1)
			FUZZ_CHECK(rc == ZTP_EMALFORMED);
		if (rc != ALLOWCSV_SKIP)
			rows_seen = 1;
		pos += n + (nl != NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_line(data, size, 0);
	fuzz_line(data, size, 1);
	fuzz_file(data, size);
	return 0;
}
