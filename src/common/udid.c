/* SPDX-License-Identifier: Apache-2.0 */
/* The UDID rule (udid.h): libc only, for every binary. */
#include "udid.h"

int
udid_valid(const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	if (s == NULL || len == 0 || len > UDID_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == ':' || c == '_'))
			return 0;
	}
	return 1;
}
