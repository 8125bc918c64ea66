/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "devroute.h"
#include "hex.h"
#include "ztp/err.h"

static const struct {
	const char *prefix;
	enum devroute_kind kind;
} routes[] = {
	{ "/v1/config/", DEVROUTE_CONFIG },
	{ "/v1/data/", DEVROUTE_DATA },
	{ "/v1/dev/", DEVROUTE_DEV },
};

int
devroute_parse(const char *uri, size_t len, struct devroute *out, const char **why)
{
	struct devroute r;
	const char *path_end, *id, *q, *end = uri + len;
	size_t i, plen, idlen;
	int found = -1, niccid = 0;

	*why = "malformed request target";
	if (uri == NULL || len == 0 || len > DEVROUTE_URI_MAX)
		return len > DEVROUTE_URI_MAX ? ZTP_EMALFORMED : ZTP_ENOENT;
	if (memchr(uri, '\0', len) != NULL)
		return ZTP_EMALFORMED;
	memset(&r, 0, sizeof(r));
	path_end = memchr(uri, '?', len);
	if (path_end == NULL)
		path_end = end;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		plen = strlen(routes[i].prefix);
		if ((size_t)(path_end - uri) >= plen && memcmp(uri, routes[i].prefix, plen) == 0) {
			found = (int)i;
			break;
		}
	}
	if (found < 0)
		return ZTP_ENOENT;
	r.kind = routes[found].kind;
	id = uri + strlen(routes[found].prefix);
	idlen = (size_t)(path_end - id);
	if (memchr(id, '/', idlen) != NULL)
		return ZTP_ENOENT;
	if (idlen > 2 * STORE_DEVID_MAX || !hex_valid(id, idlen)) {
		*why = "the Device ID must be 1 to 16 bytes in hex";
		return ZTP_EMALFORMED;
	}
	for (i = 0; i < idlen; i++) {
		char c = id[i];
		r.device_id[i] = (c >= 'a' && c <= 'f') ? (char)(c - 'a' + 'A') : c;
	}
	r.device_id[idlen] = '\0';

	/* query: name=value pairs separated by '&' */
	q = path_end < end ? path_end + 1 : end;
	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *pend = amp ? amp : end;
		if (pend - q > 6 && memcmp(q, "iccid=", 6) == 0) {
			niccid++;
			if (iccid_from_ef_hex(q + 6, (size_t)(pend - q - 6), r.iccid) != 0) {
				*why = "iccid must be EF_ICCID as 20 hex characters";
				return ZTP_EMALFORMED;
			}
		} else if (pend - q >= 5 && memcmp(q, "iccid", 5) == 0 &&
		    (pend - q == 5 || q[5] == '=')) {
			*why = "iccid is empty";
			return ZTP_EMALFORMED;
		}
		q = amp ? amp + 1 : end;
	}
	if (niccid != 1) {
		*why = niccid == 0 ? "the iccid query parameter is missing" :
				     "the iccid query parameter is repeated";
		return ZTP_EMALFORMED;
	}
	*out = r;
	return 0;
}
