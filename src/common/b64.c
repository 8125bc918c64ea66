/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Base64 (b64.h): the server's EST bodies and answers, the EST client's
 * answers, ztpctl's allowlist keys. The characters are checked here, the
 * decoding is OpenSSL's (EVP_DecodeBlock), which alone would skip some
 * other characters and decode a '=' in the middle as zero bits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "b64.h"
#include "ztp/err.h"

/* base64 characters decoded at a time: a multiple of 4 */
#define B64_CHUNK 256
/* bytes of input a line of 64 characters holds */
#define B64_LINE_BYTES 48

enum b64_class { B64_OTHER, B64_SPACE, B64_ALPHA, B64_PAD };

/*
 * What c is to RFC 8951's base64: one of the 64 characters, the pad, the
 * whitespace it allows between them (CR LF SP TAB), or anything else.
 */
static enum b64_class
b64_class(unsigned char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '+' || c == '/')
		return B64_ALPHA;
	if (c == '=')
		return B64_PAD;
	if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
		return B64_SPACE;
	return B64_OTHER;
}

/*
 * Decode chunk[0..n) (a multiple of 4 characters, no whitespace) to
 * out + *done, dropping the last `pads` bytes: EVP_DecodeBlock counts the
 * pad characters as zero bytes.
 */
static int
b64_flush(const unsigned char *chunk, size_t n, size_t pads, uint8_t *out, size_t *done)
{
	unsigned char bin[B64_CHUNK / 4 * 3];
	int m;

	m = EVP_DecodeBlock(bin, chunk, (int)n);
	if (m < 0 || (size_t)m != n / 4 * 3 || (size_t)m < pads) {
		OPENSSL_cleanse(bin, sizeof(bin));
		return ZTP_EMALFORMED;
	}
	memcpy(out + *done, bin, (size_t)m - pads);
	*done += (size_t)m - pads;
	OPENSSL_cleanse(bin, sizeof(bin)); /* it may be a password */
	return 0;
}

int
b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	unsigned char chunk[B64_CHUNK];
	size_t i, n = 0, pads = 0, seen = 0, k = 0, total, done = 0;
	enum b64_class c;
	int rc;

	if (outlen != NULL)
		*outlen = 0;
	if ((in == NULL && len > 0) || (out == NULL && cap > 0) || outlen == NULL)
		return ZTP_EINVAL;
	/* the characters, and the pad: one or two '=' that end the text */
	for (i = 0; i < len; i++) {
		c = b64_class((unsigned char)in[i]);
		if (c == B64_OTHER || (c == B64_ALPHA && pads > 0))
			return ZTP_EMALFORMED;
		if (c == B64_SPACE)
			continue;
		if (c == B64_PAD)
			pads++;
		n++;
	}
	if (n % 4 != 0 || pads > 2)
		return ZTP_EMALFORMED;
	total = n / 4 * 3 - pads;
	if (total > cap)
		return ZTP_ETOOBIG;
	for (i = 0; i < len && seen < n; i++) {
		if (b64_class((unsigned char)in[i]) == B64_SPACE)
			continue;
		chunk[k++] = (unsigned char)in[i];
		seen++;
		if (k < sizeof(chunk) && seen < n)
			continue;
		/* the pad is in the last chunk only */
		if ((rc = b64_flush(chunk, k, seen == n ? pads : 0, out, &done)) != 0)
			goto out;
		k = 0;
	}
	rc = done == total ? 0 : ZTP_EMALFORMED;
	if (rc == 0)
		*outlen = done;
out:
	OPENSSL_cleanse(chunk, sizeof(chunk));
	return rc;
}

int
b64_encode_lines(const uint8_t *in, size_t len, char **out, size_t *outlen)
{
	size_t lines, cap, off = 0, i, n;
	char *buf;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (out == NULL || outlen == NULL || (in == NULL && len > 0))
		return ZTP_EINVAL;
	if (len > SIZE_MAX / 2 - 66)
		return ZTP_ETOOBIG;
	lines = len / B64_LINE_BYTES + (len % B64_LINE_BYTES != 0);
	cap = lines * 65 + 1; /* EVP_EncodeBlock writes a NUL after each line */
	if ((buf = malloc(cap)) == NULL)
		return ZTP_ENOMEM;
	for (i = 0; i < len; i += n) {
		n = len - i < B64_LINE_BYTES ? len - i : B64_LINE_BYTES;
		off += (size_t)EVP_EncodeBlock((unsigned char *)buf + off, in + i, (int)n);
		buf[off++] = '\n';
	}
	buf[off] = '\0';
	*out = buf;
	*outlen = off;
	return 0;
}
