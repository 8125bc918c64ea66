/* SPDX-License-Identifier: Apache-2.0 */
#include "hex.h"
#include "ztp/err.h"

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_encode(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	if (cap == 0 || len > (cap - 1) / 2)
		return ZTP_ERANGE;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[buf[i] >> 4];
		out[2 * i + 1] = digits[buf[i] & 0x0f];
	}
	out[2 * len] = '\0';
	return 0;
}

int
hex_valid(const char *s, size_t slen)
{
	size_t i;

	if (slen == 0 || slen % 2 != 0)
		return 0;
	for (i = 0; i < slen; i++)
		if (nibble(s[i]) < 0)
			return 0;
	return 1;
}

int
hex_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t i;

	if (slen % 2 != 0)
		return ZTP_EMALFORMED;
	if (slen / 2 > cap)
		return ZTP_ETOOBIG;
	for (i = 0; i < slen; i += 2) {
		int hi = nibble(s[i]), lo = nibble(s[i + 1]);
		if (hi < 0 || lo < 0)
			return ZTP_EMALFORMED;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = slen / 2;
	return 0;
}
