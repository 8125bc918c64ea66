/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API's routes: a table of {methods, path pattern, handler,
 * access} rows and the one pure function that finds a request's row.
 *
 * A pattern is "/"-separated segments: a literal ("sims"), a parameter of
 * a kind that the matcher checks ("{iccid}", "{udid}" percent-decoded,
 * "{serial}" normalised, "{ca}" a manufacturer CA's name), a parameter it
 * leaves to the handler ("{group}"), "*" for any one segment (not kept), or
 * a last "**" for one or more. At most one parameter, ADMINROUTE_SEG_MAX
 * segments.
 *
 * Of the patterns a path fits, the most specific wins: at the first segment
 * where two differ, a literal beats a parameter or "*", and those beat
 * "**". The rows of that pattern decide: a checked parameter that fails is
 * 400, then a method none of them has is 405 (with the methods they have),
 * else the first row with the method is the route. No pattern: 404.
 */
#ifndef ZTP_ADMIN_ROUTE_H
#define ZTP_ADMIN_ROUTE_H
#include <stddef.h>

/* methods, a bit each; ADMINROUTE_OTHER is any other (HEAD, PATCH...) */
#define ADMINROUTE_GET 0x01u
#define ADMINROUTE_POST 0x02u
#define ADMINROUTE_PUT 0x04u
#define ADMINROUTE_DELETE 0x08u
#define ADMINROUTE_OTHER 0x10u
#define ADMINROUTE_ANY 0x1fu

#define ADMINROUTE_PATH_MAX 256 /* bytes of a path with its NUL */
#define ADMINROUTE_SEG_MAX 6    /* segments of a path or a pattern */
#define ADMINROUTE_VALUE_MAX 64 /* bytes of a decoded or normalised parameter */

/*
 * Who may call a route (struct adminroute's access, a bit each). 0, the
 * default: a bearer token of an all-owners key. ADMINROUTE_PUBLIC: anyone,
 * no token. ADMINROUTE_OWNER_OK: also a key of one owner, whose handler
 * then shows and changes only that owner's things; a route without it
 * answers such a key 403 before its handler runs.
 */
#define ADMINROUTE_PUBLIC 0x1u
#define ADMINROUTE_OWNER_OK 0x2u

struct areq;

struct adminroute {
	unsigned methods;
	const char *pattern;
	void (*handler)(struct areq *a);
	unsigned access; /* ADMINROUTE_PUBLIC, ADMINROUTE_OWNER_OK; 0: all-owners keys only */
};

/* A path cut into segments; empty segments are dropped ("/v1//sims/" is /v1/sims). */
struct adminroute_path {
	char buf[ADMINROUTE_PATH_MAX];
	const char *seg[ADMINROUTE_SEG_MAX];
	size_t nseg;
};

struct adminroute_match {
	const struct adminroute *route; /* the route; or, after 405 and 400, the pattern's first row */
	unsigned allow;                 /* after 405: the methods of the path */
	const char *param;              /* the parameter's value, or NULL */
	const char *why;                /* after 400: what the parameter is not */
	char value[ADMINROUTE_VALUE_MAX + 1]; /* param's storage when decoded or normalised */
};

/*
 * Split path (a NUL-terminated URI path, not decoded) into p. ZTP_ETOOBIG
 * if it has ADMINROUTE_PATH_MAX bytes or more, or more than
 * ADMINROUTE_SEG_MAX segments. p->seg point into p->buf.
 */
int adminroute_split(const char *path, struct adminroute_path *p);

/*
 * Find the route of (method, p) in table[0..n). 0: out->route is the row to
 * call. ZTP_ENOENT: no pattern fits the path (404). ZTP_EINVAL: the path's
 * rows do not take method; out->allow has those they take (405).
 * ZTP_EMALFORMED: the path's checked parameter is bad, out->why says why
 * (400). out->param points into p or into out, so both must outlive it.
 */
int adminroute_match(const struct adminroute *table, size_t n, unsigned method,
    const struct adminroute_path *p, struct adminroute_match *out);

/*
 * 0 if every pattern of table[0..n) is well formed (starts with "/", known
 * parameter kinds, at most one parameter, "**" only last, at most
 * ADMINROUTE_SEG_MAX segments) and every row has methods and a handler;
 * else ZTP_EINVAL with the index of the first bad row in *bad.
 */
int adminroute_check(const struct adminroute *table, size_t n, size_t *bad);

/*
 * A certificate serial number in hex (either case, any leading zeros) into
 * the form the EST endpoint records (upper case, no leading zero byte, as
 * openssl x509 -serial prints it) into out (STORE_SERIAL_HEX bytes); -1 if
 * it is not one. Also what the
 * {serial} parameter gives.
 */
int adminroute_serial_norm(const char *in, char *out);

/*
 * "GET, POST" for an Allow header and "GET or POST" for a message, from a
 * method set, into buf (cap bytes). Returns buf.
 */
const char *adminroute_allow(unsigned methods, int prose, char *buf, size_t cap);

#endif
