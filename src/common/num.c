/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "num.h"
#include "ztp/err.h"

int
num_parse_u64(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s == NULL || len == 0 || len > 20)
		return ZTP_EMALFORMED;
	if (len > 1 && s[0] == '0')
		return ZTP_EMALFORMED;
	for (i = 0; i < len; i++) {
		unsigned d;
		if (s[i] < '0' || s[i] > '9')
			return ZTP_EMALFORMED;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return ZTP_ERANGE;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return ZTP_ERANGE;
	*out = v;
	return 0;
}

int
num_parse_u64z(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (s == NULL)
		return ZTP_EMALFORMED;
	return num_parse_u64(s, strlen(s), min, max, out);
}
