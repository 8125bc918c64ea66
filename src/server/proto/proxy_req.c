/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>

#include "proxy_req.h"
#include "ztp/err.h"

int
proxy_url_parse(const char *url, struct proxy_url *out, char *why, size_t cap)
{
	struct evhttp_uri *uri = NULL;
	struct proxy_url r;
	const char *scheme, *host, *path;
	unsigned char addr[16];
	size_t hlen, plen;
	int rc = ZTP_EINVAL;

	memset(&r, 0, sizeof(r));
	if (url == NULL || url[0] == '\0' || strlen(url) >= STORE_UPSTREAM_URL_MAX) {
		ztp_errf(why, cap, ZTP_EINVAL, "the upstream URL is empty or too long");
		goto out;
	}
	/* libevent's parser; non-strict would take spaces and other junk in the path */
	if ((uri = evhttp_uri_parse_with_flags(url, 0)) == NULL) {
		ztp_errf(why, cap, ZTP_EINVAL, "the upstream is not a URL");
		goto out;
	}
	scheme = evhttp_uri_get_scheme(uri);
	if (scheme != NULL && strcasecmp(scheme, "https") == 0)
		r.https = 1;
	else if (scheme == NULL || strcasecmp(scheme, "http") != 0) {
		ztp_errf(why, cap, ZTP_EINVAL, "the upstream URL must start with http:// or https://");
		goto out;
	}
	if (evhttp_uri_get_userinfo(uri) != NULL || evhttp_uri_get_query(uri) != NULL ||
	    evhttp_uri_get_fragment(uri) != NULL) {
		ztp_errf(why, cap, ZTP_EINVAL,
		    "the upstream URL takes no user, query or fragment: a base path only");
		goto out;
	}
	host = evhttp_uri_get_host(uri);
	hlen = host ? strlen(host) : 0;
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(r.host)) {
		ztp_errf(why, cap, ZTP_EINVAL, "the upstream URL has no host, or one too long");
		goto out;
	}
	memcpy(r.host, host, hlen);
	r.host[hlen] = '\0';
	if (inet_pton(AF_INET6, r.host, addr) == 1)
		r.host_is_ip = 6;
	else if (inet_pton(AF_INET, r.host, addr) == 1)
		r.host_is_ip = 4;
	/* "host:" with no port: libevent takes it as no port at all */
	if ((host = strstr(url, "://")) != NULL) {
		size_t alen = strcspn(host + 3, "/");
		if (alen > 0 && host[3 + alen - 1] == ':') {
			ztp_errf(why, cap, ZTP_EINVAL, "the upstream URL has an empty port");
			goto out;
		}
	}
	r.port = evhttp_uri_get_port(uri);
	if (r.port == 0 || r.port > 65535) {
		ztp_errf(why, cap, ZTP_EINVAL, "the upstream port must be from 1 to 65535");
		goto out;
	}
	if (r.port < 0)
		r.port = r.https ? 443 : 80;
	if ((r.https && r.port == 443) || (!r.https && r.port == 80))
		snprintf(r.host_header, sizeof(r.host_header), r.host_is_ip == 6 ? "[%s]" : "%s",
		    r.host);
	else
		snprintf(r.host_header, sizeof(r.host_header), r.host_is_ip == 6 ? "[%s]:%d" : "%s:%d",
		    r.host, r.port);
	path = evhttp_uri_get_path(uri);
	plen = path ? strlen(path) : 0;
	while (plen > 0 && path[plen - 1] == '/')
		plen--;
	if (plen > 0 && path[0] != '/') {
		ztp_errf(why, cap, ZTP_EINVAL, "the upstream path must start with /");
		goto out;
	}
	memcpy(r.base, path, plen);
	r.base[plen] = '\0';
	*out = r;
	rc = 0;
out:
	if (uri != NULL)
		evhttp_uri_free(uri);
	return rc;
}

static int
path_ok(const char *p, size_t max)
{
	size_t n = strnlen(p, max);

	return n < max && (n == 0 || p[0] == '/');
}

int
proxy_upstream_check(const struct store_upstream *u, char *why, size_t cap)
{
	struct proxy_url pu;
	int rc;

	if (strnlen(u->url, sizeof(u->url)) >= sizeof(u->url))
		return ztp_errf(why, cap, ZTP_EINVAL, "the upstream URL is too long");
	if (!path_ok(u->ca, sizeof(u->ca)) || !path_ok(u->cert, sizeof(u->cert)) ||
	    !path_ok(u->key, sizeof(u->key)))
		return ztp_errf(why, cap, ZTP_EINVAL,
		    "upstream CA, certificate and key are absolute paths on the server (at most %d bytes)",
		    STORE_UPSTREAM_PATH_MAX - 1);
	if ((u->cert[0] != '\0') != (u->key[0] != '\0'))
		return ztp_errf(why, cap, ZTP_EINVAL,
		    "an upstream client certificate needs its key, and a key its certificate");
	if (u->url[0] == '\0' || strcmp(u->url, "off") == 0) {
		if (u->ca[0] || u->cert[0])
			return ztp_errf(why, cap, ZTP_EINVAL,
			    "upstream CA and client certificate need an https upstream URL");
		return 0;
	}
	if ((rc = proxy_url_parse(u->url, &pu, why, cap)) != 0)
		return rc;
	if (!pu.https && (u->ca[0] || u->cert[0]))
		return ztp_errf(why, cap, ZTP_EINVAL,
		    "upstream CA and client certificate need an https upstream URL");
	return 0;
}

int
proxy_device_path(const struct devroute *r, char *out, size_t cap)
{
	static const char digits[] = "0123456789ABCDEF";
	char ef[2 * ICCID_EF_LEN + 1];
	uint8_t bytes[ICCID_EF_LEN];
	const char *prefix;
	size_t i;
	int n;

	switch (r->kind) {
	case DEVROUTE_CONFIG: prefix = "/v1/config/"; break;
	case DEVROUTE_DATA: prefix = "/v1/data/"; break;
	case DEVROUTE_DEV: prefix = "/v1/dev/"; break;
	default: return ZTP_EINVAL;
	}
	if (strnlen(r->device_id, sizeof(r->device_id)) >= sizeof(r->device_id) ||
	    strspn(r->device_id, "0123456789ABCDEF") != strlen(r->device_id) ||
	    r->device_id[0] == '\0' || iccid_to_ef(r->iccid, bytes) != 0)
		return ZTP_EINVAL;
	for (i = 0; i < ICCID_EF_LEN; i++) {
		ef[2 * i] = digits[bytes[i] >> 4];
		ef[2 * i + 1] = digits[bytes[i] & 0x0f];
	}
	ef[2 * ICCID_EF_LEN] = '\0';
	n = snprintf(out, cap, "%s%s?iccid=%s", prefix, r->device_id, ef);
	return n < 0 || (size_t)n >= cap ? ZTP_EINVAL : 0;
}

int
proxy_uri_join(const struct proxy_url *u, const char *path, char *out, size_t cap)
{
	const char *p;
	int n;

	if (path == NULL || path[0] != '/')
		return ZTP_EINVAL;
	for (p = path; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return ZTP_EINVAL;
	n = snprintf(out, cap, "%s%s", u->base, path);
	return n < 0 || (size_t)n >= cap ? ZTP_EINVAL : 0;
}

enum proxy_outcome
proxy_map_status(int status)
{
	/*
	 * 200, 204 and 304 are what the applet understands as success; a 4xx
	 * is the customer's refusal, which the SIM reports (01xx) without
	 * retrying. A 5xx, a redirect (the SIM cannot follow one) or anything
	 * else is the upstream failing: 502, which the SIM retries.
	 */
	if (status == 200 || status == 204 || status == 304)
		return PROXY_PASS;
	if (status >= 400 && status <= 499)
		return PROXY_PASS;
	return PROXY_BAD_ANSWER;
}

int
proxy_header_ok(const char *v, size_t max)
{
	size_t i;

	if (v == NULL)
		return 0;
	for (i = 0; v[i] != '\0'; i++)
		if (i >= max || v[i] < 0x20 || v[i] > 0x7e)
			return 0;
	return 1;
}
