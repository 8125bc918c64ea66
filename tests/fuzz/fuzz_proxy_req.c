/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: proxy mode's upstream settings (proxy_req.h).
 *
 * The bytes are four NUL-separated strings, as a group's upstream arrives
 * through the admin API: URL, CA, client certificate, key. Invariants: a
 * refusal writes nothing and says why; an accepted URL has a host, a port
 * in range, a base path that is empty or starts with '/' and does not end
 * with one, and joins with a device path within the limit; the settings
 * check agrees with the URL parser.
 */
#include <string.h>

#include "fuzz.h"
#include "proxy_req.h"
#include "ztp/err.h"

/* the next NUL-terminated field of data into out (cap bytes); truncated */
static void
field(const uint8_t **p, const uint8_t *end, char *out, size_t cap)
{
	size_t n = 0;

	while (*p < end && **p != '\0') {
		if (n + 1 < cap)
			out[n++] = (char)**p;
		(*p)++;
	}
	if (*p < end)
		(*p)++;
	out[n] = '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char path[] = "/v1/config/B58D51C5504D5257352E3120FF0D1338?iccid=984405529081369836F5";
	const uint8_t *p = data, *end = data + size;
	struct store_upstream u;
	struct proxy_url url, before;
	char why[160], uri[PROXY_URI_MAX];
	size_t n;
	int rc, rc2;

	memset(&u, 0, sizeof(u));
	field(&p, end, u.url, sizeof(u.url));
	field(&p, end, u.ca, sizeof(u.ca));
	field(&p, end, u.cert, sizeof(u.cert));
	field(&p, end, u.key, sizeof(u.key));

	memset(&url, 0xa5, sizeof(url));
	memcpy(&before, &url, sizeof(url));
	why[0] = '\0';
	rc = proxy_url_parse(u.url, &url, why, sizeof(why));
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EINVAL);
		FUZZ_CHECK(why[0] != '\0');
		FUZZ_CHECK(memcmp(&url, &before, sizeof(url)) == 0);
	} else {
		FUZZ_CHECK(url.host[0] != '\0');
		FUZZ_CHECK(url.port >= 1 && url.port <= 65535);
		n = strlen(url.base);
		FUZZ_CHECK(n == 0 || (url.base[0] == '/' && url.base[n - 1] != '/'));
		FUZZ_CHECK(strchr(url.host_header, '\r') == NULL && strchr(url.host_header, '\n') == NULL);
		if (proxy_uri_join(&url, path, uri, sizeof(uri)) == 0)
			FUZZ_CHECK(strlen(uri) == n + strlen(path));
		else
			FUZZ_CHECK(n + strlen(path) >= sizeof(uri));
	}
	why[0] = '\0';
	rc2 = proxy_upstream_check(&u, why, sizeof(why));
	FUZZ_CHECK(rc2 == 0 || (rc2 == ZTP_EINVAL && why[0] != '\0'));
	if (rc2 == 0 && u.url[0] != '\0' && strcmp(u.url, "off") != 0)
		FUZZ_CHECK(rc == 0);
	if (rc2 == 0 && (u.ca[0] || u.cert[0]))
		FUZZ_CHECK(rc == 0 && url.https);
	return 0;
}
