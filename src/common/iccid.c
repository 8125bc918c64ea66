/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "hex.h"
#include "ztp/err.h"
#include "ztp/iccid.h"

int
iccid_valid(const char *s, size_t len)
{
	size_t i;

	if (s == NULL || len < ICCID_MIN_DIGITS || len > ICCID_MAX_DIGITS)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
iccid_from_ef(const uint8_t ef[ICCID_EF_LEN], char *out)
{
	char digits[ICCID_STR_SIZE];
	size_t n = 0, i;
	int filler = 0;

	for (i = 0; i < 2 * ICCID_EF_LEN; i++) {
		uint8_t b = ef[i / 2];
		uint8_t nib = (i % 2 == 0) ? (b & 0x0f) : (b >> 4);
		if (nib == 0x0f) {
			filler = 1;
			continue;
		}
		if (nib > 9 || filler)
			return ZTP_EMALFORMED;
		digits[n++] = (char)('0' + nib);
	}
	if (n < ICCID_MIN_DIGITS)
		return ZTP_EMALFORMED;
	digits[n] = '\0';
	memcpy(out, digits, n + 1);
	return 0;
}

int
iccid_to_ef(const char *iccid, uint8_t ef[ICCID_EF_LEN])
{
	size_t len, i;

	if (iccid == NULL)
		return ZTP_EMALFORMED;
	len = strnlen(iccid, ICCID_MAX_DIGITS + 1);
	if (!iccid_valid(iccid, len))
		return ZTP_EMALFORMED;
	for (i = 0; i < 2 * ICCID_EF_LEN; i++) {
		uint8_t nib = i < len ? (uint8_t)(iccid[i] - '0') : 0x0f;
		if (i % 2 == 0)
			ef[i / 2] = nib;
		else
			ef[i / 2] |= (uint8_t)(nib << 4);
	}
	return 0;
}

int
iccid_from_ef_hex(const char *hex, size_t len, char *out)
{
	uint8_t ef[ICCID_EF_LEN];
	size_t n;

	if (hex == NULL || len != 2 * ICCID_EF_LEN ||
	    hex_decode(hex, len, ef, sizeof(ef), &n) != 0)
		return ZTP_EMALFORMED;
	return iccid_from_ef(ef, out);
}

/* ".<decimal>" with no leading zero, at most UINT32_MAX. */
static int
parse_generation(const uint8_t *p, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len < 2 || len > 11 || p[0] != '.')
		return ZTP_EMALFORMED;
	if (len > 2 && p[1] == '0')
		return ZTP_EMALFORMED;
	for (i = 1; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return ZTP_EMALFORMED;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > UINT32_MAX)
		return ZTP_EMALFORMED;
	*out = (uint32_t)v;
	return 0;
}

int
iccid_parse_identity(const uint8_t *id, size_t len, struct iccid_identity *out)
{
	struct iccid_identity r;
	size_t base;

	if (id == NULL || len == 0 || len > ICCID_IDENTITY_MAX)
		return ZTP_EMALFORMED;
	memset(&r, 0, sizeof(r));

	/* ASCII digits up to the first '.', or the end */
	for (base = 0; base < len && id[base] >= '0' && id[base] <= '9'; base++)
		;
	if (base >= ICCID_MIN_DIGITS && base <= ICCID_MAX_DIGITS &&
	    (base == len || id[base] == '.')) {
		memcpy(r.iccid, id, base);
		r.iccid[base] = '\0';
	} else if (len >= ICCID_EF_LEN &&
	    (len == ICCID_EF_LEN || id[ICCID_EF_LEN] == '.')) {
		/* 10 EF_ICCID bytes (which may look like digits, too) */
		if (iccid_from_ef(id, r.iccid) != 0)
			return ZTP_EMALFORMED;
		base = ICCID_EF_LEN;
		r.bcd = 1;
	} else {
		return ZTP_EMALFORMED;
	}
	if (base < len) {
		if (parse_generation(id + base, len - base, &r.generation) != 0)
			return ZTP_EMALFORMED;
		r.has_generation = 1;
	}
	*out = r;
	return 0;
}
