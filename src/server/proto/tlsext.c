/* SPDX-License-Identifier: Apache-2.0 */
#include "tlsext.h"
#include "ztp/err.h"

static size_t
u16(const uint8_t *p)
{
	return (size_t)p[0] << 8 | p[1];
}

int
tlsext_psk_identities(const uint8_t *ext, size_t len, struct tlsext_psk_identity *out, int max)
{
	size_t idslen, off, end, bindlen;
	int n = 0;

	if (ext == NULL || len < 2 || max < 1)
		return ZTP_EMALFORMED;
	idslen = u16(ext);
	if (idslen < 7 || 2 + idslen > len)
		return ZTP_EMALFORMED;
	end = 2 + idslen;
	for (off = 2; off < end;) {
		size_t idlen;
		if (end - off < 2)
			return ZTP_EMALFORMED;
		idlen = u16(ext + off);
		off += 2;
		if (idlen == 0 || end - off < idlen + 4)
			return ZTP_EMALFORMED;
		if (n < max) {
			out[n].id = ext + off;
			out[n].len = idlen;
			n++;
		}
		off += idlen + 4;
	}
	/* the binders follow and end the extension */
	if (len - end < 2)
		return ZTP_EMALFORMED;
	bindlen = u16(ext + end);
	if (bindlen < 33 || len - end - 2 != bindlen)
		return ZTP_EMALFORMED;
	return n;
}
