/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An HTTP/1.x request head, checked before evhttp reads the request.
 *
 * ztpd's listeners look at each request head as it arrives (front/guard.c)
 * to answer what must not reach a handler, and before any body byte is
 * read: a head over the size limit (431), framing that two parsers could
 * read two ways (400: conflicting or malformed Content-Length, both
 * Content-Length and Transfer-Encoding, folded lines), a chunked body (411:
 * every client of ours sends Content-Length), a method we do not serve
 * (501), a version other than 1.0 or 1.1 (505). Its framing is the one
 * evhttp uses, so that both see the same requests: lines end with LF or
 * CRLF, the head ends at the first empty line, the body is Content-Length
 * bytes (none without it, none for HEAD).
 *
 * Pure: no allocation, no I/O, bounded by the caller's buffer.
 */
#ifndef ZTP_HTTPHEAD_H
#define ZTP_HTTPHEAD_H
#include <stddef.h>
#include <stdint.h>

enum httphead_method {
	HTTPHEAD_GET = 1,
	HTTPHEAD_POST,
	HTTPHEAD_PUT,
	HTTPHEAD_DELETE,
	HTTPHEAD_HEAD,
};

struct httphead {
	size_t len;             /* bytes of the head, through its empty line */
	enum httphead_method method;
	const char *target;     /* the request-target, as sent (in the caller's buffer) */
	size_t target_len;
	int64_t content_length; /* -1: none */
	const char *auth;       /* the Authorization value, NULL if none */
	size_t auth_len;
	/* when refused: the answer and why (a constant string) */
	int status;
	const char *why;
};

#define HTTPHEAD_MORE 1
#define HTTPHEAD_CL_MAX 999999999999LL /* Content-Length values above are refused */

/*
 * Look at the head in buf[0..len). Returns 0 with h filled when buf holds a
 * whole head of at most max bytes; HTTPHEAD_MORE when it may still become
 * one (no empty line yet, len <= max); ZTP_EMALFORMED with h->status and
 * h->why when the request is refused (431 once more than max bytes came
 * without the end of the head).
 */
int httphead_parse(const char *buf, size_t len, size_t max, struct httphead *h);

#endif
