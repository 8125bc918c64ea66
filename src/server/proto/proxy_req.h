/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proxy mode, the pure part (docs/proxy.md): an upstream's base URL taken
 * apart and checked, the device path joined to it, the upstream's answer
 * mapped to what the SIM gets, and the header values passed on checked.
 * No I/O (proxy.c does the forwarding); unit tests and a fuzz target use it.
 */
#ifndef ZTP_PROXY_REQ_H
#define ZTP_PROXY_REQ_H
#include <stddef.h>

#include "devroute.h"
#include "store.h"

#define PROXY_HOST_MAX 256
#define PROXY_URI_MAX 1024     /* base path + the device's path and query */
#define PROXY_BODY_MAX STORE_CONFIG_MAX /* what a SIM takes (255 bytes) */
#define PROXY_ERROR_TOO_LARGE "body-too-large" /* ZTP-Error of a 502: the SIM fails FF02 */

struct proxy_url {
	int https;
	char host[PROXY_HOST_MAX];  /* without brackets for IPv6 */
	int host_is_ip;
	int port;
	char base[STORE_UPSTREAM_URL_MAX]; /* the path, without a trailing '/'; "" for none */
	char host_header[PROXY_HOST_MAX + 8]; /* "host[:port]" as sent in Host */
};

/*
 * Take an upstream base URL apart: http:// or https://, a host, an optional
 * port, an optional path; no user info, query or fragment. Returns 0, or
 * ZTP_EINVAL with the reason in why.
 */
int proxy_url_parse(const char *url, struct proxy_url *out, char *why, size_t cap);

/*
 * Check an upstream as a group or the server sets it, without touching a
 * file: url "off" (no files then) or a valid URL; ca, cert and key
 * absolute paths or ""; cert and key together; files only with https.
 * Returns 0 or ZTP_EINVAL with the reason in why.
 */
int proxy_upstream_check(const struct store_upstream *u, char *why, size_t cap);

/*
 * The device request's path and query as ztpd forwards it, rebuilt from
 * the parsed route (never the bytes the SIM sent): /v1/config/, /v1/data/
 * or /v1/dev/, the Device ID in upper-case hex, ?iccid= and the 10
 * EF_ICCID bytes in upper-case hex. Returns 0, or ZTP_EINVAL.
 */
int proxy_device_path(const struct devroute *r, char *out, size_t cap);

/*
 * The upstream request's URI: base + path (which starts with '/'), printable
 * ASCII without spaces only. Returns 0, or ZTP_EINVAL if it does not fit
 * out (cap) or holds another byte.
 */
int proxy_uri_join(const struct proxy_url *u, const char *path, char *out, size_t cap);

enum proxy_outcome {
	PROXY_PASS,      /* the status, its headers and body go to the SIM as they are */
	PROXY_BAD_ANSWER /* not an answer a SIM can take: 502 and an event */
};

/* What to do with an upstream answer of status (a complete one, body in limits). */
enum proxy_outcome proxy_map_status(int status);

/*
 * A header value from the upstream that may be passed on (ETag,
 * Content-Type): printable ASCII, at most max bytes. 1 if it may.
 */
int proxy_header_ok(const char *v, size_t max);

#endif
