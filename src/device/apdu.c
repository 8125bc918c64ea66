/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "ztp/apdu.h"
#include "ztp/err.h"

int
apdu_parse(const uint8_t *buf, size_t len, struct apdu *out)
{
	struct apdu a;
	size_t lc;

	if (buf == NULL || len < APDU_HEADER_LEN || len > APDU_MAX_CMD)
		return ZTP_EMALFORMED;
	memset(&a, 0, sizeof(a));
	a.cla = buf[0];
	a.ins = buf[1];
	a.p1 = buf[2];
	a.p2 = buf[3];
	if (len == 4) {
		a.apdu_case = 1;
	} else if (len == 5) {
		a.apdu_case = 2;
		a.le = buf[4] ? buf[4] : 256;
	} else {
		lc = buf[4];
		if (lc == 0) /* extended lengths are not supported */
			return ZTP_EMALFORMED;
		if (len == 5 + lc) {
			a.apdu_case = 3;
		} else if (len == 5 + lc + 1) {
			a.apdu_case = 4;
			a.le = buf[5 + lc] ? buf[5 + lc] : 256;
		} else {
			return ZTP_EMALFORMED;
		}
		a.lc = lc;
		a.data = buf + 5;
	}
	*out = a;
	return 0;
}

size_t
apdu_encode(uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data, size_t lc,
    size_t le, uint8_t *out, size_t cap)
{
	size_t n = APDU_HEADER_LEN;

	if (lc > APDU_MAX_DATA || le > 256 || (lc > 0 && data == NULL))
		return 0;
	if (cap < APDU_HEADER_LEN + (lc ? 1 + lc : 0) + (le ? 1 : 0))
		return 0;
	out[0] = cla;
	out[1] = ins;
	out[2] = p1;
	out[3] = p2;
	if (lc > 0) {
		out[n++] = (uint8_t)lc;
		memcpy(out + n, data, lc);
		n += lc;
	}
	if (le > 0)
		out[n++] = (uint8_t)(le == 256 ? 0 : le);
	return n;
}
