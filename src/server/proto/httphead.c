/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request head guard's parser (httphead.h). It reads only what the
 * guard decides on: the request line, Content-Length, Transfer-Encoding
 * and Authorization; the rest is evhttp's to parse.
 */
#include <string.h>

#include "httphead.h"
#include "ztp/err.h"

static int
refuse(struct httphead *h, int status, const char *why)
{
	h->status = status;
	h->why = why;
	return ZTP_EMALFORMED;
}

/* The end of the head: the byte after the empty line, or 0 if none in buf. */
static size_t
head_end(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		/* nl ends a line; the next line is empty if it is "\n" or "\r\n" */
		if (nl + 1 < end && nl[1] == '\n')
			return (size_t)(nl + 2 - buf);
		if (nl + 2 < end && nl[1] == '\r' && nl[2] == '\n')
			return (size_t)(nl + 3 - buf);
		p = nl + 1;
	}
	return 0;
}

static int
ieq(const char *a, size_t alen, const char *b)
{
	size_t i, blen = strlen(b);

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++) {
		char x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return 1;
}

/* RFC 9110 tchar */
static int
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
parse_method(const char *m, size_t len, enum httphead_method *out)
{
	static const struct {
		const char *name;
		enum httphead_method method;
	} methods[] = {
		{ "GET", HTTPHEAD_GET },
		{ "POST", HTTPHEAD_POST },
		{ "PUT", HTTPHEAD_PUT },
		{ "DELETE", HTTPHEAD_DELETE },
		{ "HEAD", HTTPHEAD_HEAD },
	};
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i].name) == len && memcmp(methods[i].name, m, len) == 0) {
			*out = methods[i].method;
			return 0;
		}
	return -1;
}

/* "METHOD SP target SP HTTP/1.x" */
static int
request_line(const char *line, size_t len, struct httphead *h)
{
	const char *sp1, *sp2, *end = line + len;
	size_t i;

	if (len == 0)
		return refuse(h, 400, "empty request line");
	if ((sp1 = memchr(line, ' ', len)) == NULL || sp1 == line)
		return refuse(h, 400, "malformed request line");
	for (i = 0; line + i < sp1; i++)
		if (!is_tchar((unsigned char)line[i]))
			return refuse(h, 400, "malformed request line");
	if ((sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))) == NULL || sp2 == sp1 + 1)
		return refuse(h, 400, "malformed request line");
	for (i = 0; sp1 + 1 + i < sp2; i++) {
		unsigned char c = (unsigned char)sp1[1 + i];
		if (c <= 0x20 || c == 0x7f)
			return refuse(h, 400, "malformed request target");
	}
	if ((size_t)(end - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return refuse(h, (size_t)(end - sp2 - 1) >= 5 && memcmp(sp2 + 1, "HTTP/", 5) == 0 ?
		    505 : 400, "HTTP/1.0 or HTTP/1.1 only");
	if (sp2[8] != '0' && sp2[8] != '1')
		return refuse(h, 505, "HTTP/1.0 or HTTP/1.1 only");
	if (parse_method(line, (size_t)(sp1 - line), &h->method) != 0)
		return refuse(h, 501, "method not served: GET, POST, PUT, DELETE or HEAD");
	h->target = sp1 + 1;
	h->target_len = (size_t)(sp2 - sp1 - 1);
	return 0;
}

/* A Content-Length value: digits only, one value. */
static int
content_length(const char *v, size_t len, int64_t *out)
{
	int64_t n = 0;
	size_t i;

	if (len == 0 || len > 12)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	if (n > HTTPHEAD_CL_MAX)
		return -1;
	*out = n;
	return 0;
}

/* One header line (no line end): what the guard needs from it. */
static int
header_line(const char *line, size_t len, struct httphead *h, int *te)
{
	const char *colon, *v, *vend;
	size_t i, nlen;
	int64_t cl;

	if (line[0] == ' ' || line[0] == '\t')
		return refuse(h, 400, "folded header line");
	if ((colon = memchr(line, ':', len)) == NULL || colon == line)
		return refuse(h, 400, "malformed header line");
	nlen = (size_t)(colon - line);
	for (i = 0; i < nlen; i++)
		if (!is_tchar((unsigned char)line[i]))
			return refuse(h, 400, "malformed header name");
	v = colon + 1;
	vend = line + len;
	for (i = 0; v + i < vend; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return refuse(h, 400, "control character in a header");
	}
	while (v < vend && (*v == ' ' || *v == '\t'))
		v++;
	while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
		vend--;
	if (ieq(line, nlen, "content-length")) {
		if (content_length(v, (size_t)(vend - v), &cl) != 0)
			return refuse(h, 400, "malformed Content-Length");
		if (h->content_length >= 0 && h->content_length != cl)
			return refuse(h, 400, "conflicting Content-Length headers");
		h->content_length = cl;
	} else if (ieq(line, nlen, "transfer-encoding")) {
		*te = ieq(v, (size_t)(vend - v), "chunked") ? 1 : 2;
	} else if (ieq(line, nlen, "authorization")) {
		if (h->auth != NULL)
			return refuse(h, 400, "more than one Authorization header");
		h->auth = v;
		h->auth_len = (size_t)(vend - v);
	}
	return 0;
}

int
httphead_parse(const char *buf, size_t len, size_t max, struct httphead *h)
{
	const char *p, *end, *nl;
	size_t hlen, llen;
	int rc, te = 0, first = 1;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	hlen = head_end(buf, len > max ? max : len);
	if (hlen == 0)
		return len > max ? refuse(h, 431, "request head over the size limit") :
				   HTTPHEAD_MORE;
	if (memchr(buf, '\0', hlen) != NULL)
		return refuse(h, 400, "NUL byte in the request head");
	/* a CR not before its LF: parsers disagree on it (RFC 9112 section 2.2) */
	for (p = buf; (p = memchr(p, '\r', (size_t)(buf + hlen - p))) != NULL; p++)
		if (p + 1 >= buf + hlen || p[1] != '\n')
			return refuse(h, 400, "bare CR in the request head");
	p = buf;
	end = buf + hlen;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		llen = (size_t)(nl - p);
		if (llen > 0 && p[llen - 1] == '\r')
			llen--;
		if (llen == 0 && !first)
			break; /* the empty line: the end */
		rc = first ? request_line(p, llen, h) : header_line(p, llen, h, &te);
		if (rc != 0)
			return rc;
		first = 0;
		p = nl + 1;
	}
	if (te != 0 && h->content_length >= 0)
		return refuse(h, 400, "both Content-Length and Transfer-Encoding");
	if (te == 1)
		return refuse(h, 411, "chunked bodies are not accepted: send Content-Length");
	if (te == 2)
		return refuse(h, 501, "transfer coding not accepted: send Content-Length");
	h->len = hlen;
	return 0;
}
