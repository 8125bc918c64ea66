/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request head guard: it looks at every request head on a connection
 * before evhttp reads it, and answers itself what must not reach a handler,
 * before one byte of the body is read (docs/operations.md):
 * - a head over --max-header-size: 431 and an event;
 * - framing two parsers could read two ways: 400 (httphead.c);
 * - a body over the route's limit: 413 and an event;
 * - on the admin listener, a request for the API without a valid bearer
 *   token: 401, the body is never read;
 * then the connection closes. A refused connection's input is read and
 * dropped until it is gone (or for a second), so that the client reads the
 * answer rather than a reset.
 *
 * How: a callback on the TLS bufferevent's input buffer. It runs when
 * decrypted bytes are added, before the bufferevent tells evhttp; it
 * follows the requests through the stream (heads and Content-Length
 * bodies) and when it refuses one, it drains the input so evhttp never
 * sees it, and writes the answer on the TLS connection itself.
 *
 * It also keeps the half-close of TLS 1.3 working: a client that sends its
 * request and at once its close_notify (gnutls-cli at the end of its input)
 * still gets its answer. The bufferevent reports that close_notify before
 * the request's bytes reach evhttp, which would drop the connection; so its
 * EOF is held until the answer is out, then the connection closes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "admin_req.h"
#include "clock.h"
#include "est_req.h"
#include "events.h"
#include "http_util.h"
#include "httphead.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "tlsbev.h"
#include "token.h"
#include "ztp/err.h"

#define GUARD_PUBLIC_BODY_MAX 4096 /* admin: a request without a token (POST /v1/auth/token) */
#define GUARD_REFUSED_LINGER 1     /* s: a refused connection's input is dropped this long */

/* the length of the request target's path (up to its query) */
static size_t
path_len(const struct httphead *h)
{
	const char *q = memchr(h->target, '?', h->target_len);

	return q != NULL ? (size_t)(q - h->target) : h->target_len;
}

/* the path is path */
static int
target_is(const struct httphead *h, const char *path)
{
	size_t n = strlen(path);

	return path_len(h) == n && memcmp(h->target, path, n) == 0;
}

static int
target_under(const struct httphead *h, const char *prefix)
{
	size_t n = strlen(prefix);

	return h->target_len >= n && memcmp(h->target, prefix, n) == 0;
}

/* the path ends with suffix */
static int
target_ends(const struct httphead *h, const char *suffix)
{
	size_t n = strlen(suffix), len = path_len(h);

	return len >= n && memcmp(h->target + len - n, suffix, n) == 0;
}

static const char *
listener_name(enum listener_kind kind)
{
	return kind == LISTENER_DEVICE ? "device" : kind == LISTENER_ADMIN ? "admin" : "EST";
}

/*
 * Write the refusal on the TLS connection itself (the bufferevent is not
 * writing: nothing is in flight), say close_notify and FIN, and close once
 * the client is gone or in a second.
 */
static void
refuse(struct conn *c, struct evbuffer *in, int status, const char *why, const char *extra)
{
	struct bufferevent *bev = c->bev;
	SSL *ssl = c->ssl;
	char body[256], resp[768];
	int n, blen, fd = bufferevent_getfd(bev);

	c->g_state = GUARD_REFUSED;
	evbuffer_drain(in, evbuffer_get_length(in));
	if (c->g_heads > c->nrequests || evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		/* an answer to an earlier request is on its way: it closes the connection */
		c->peer_eof = 1;
		return;
	}
	if (c->kind == LISTENER_EST)
		blen = snprintf(body, sizeof(body), "%s\n", why);
	else
		blen = snprintf(body, sizeof(body), "{\"error\": \"%s\", \"detail\": \"%s\"}",
		    http_error_code(status), why);
	if (blen < 0 || (size_t)blen >= sizeof(body))
		blen = 0;
	n = snprintf(resp, sizeof(resp),
	    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n"
	    "%s\r\n%.*s",
	    status, http_reason(status), c->kind == LISTENER_EST ? "text/plain" :
	    "application/json", blen, extra ? extra : "", blen, body);
	if (ssl != NULL && n > 0 && (size_t)n < sizeof(resp)) {
		ERR_clear_error();
		if (SSL_write(ssl, resp, n) == n)
			SSL_shutdown(ssl);
		ERR_clear_error();
	}
	if (fd >= 0)
		shutdown(fd, SHUT_WR);
	conn_close_soon(c, GUARD_REFUSED_LINGER);
}

/* Why a request carries no valid token, or NULL if it does. */
static const char *
token_problem(struct conn *c, const struct httphead *h)
{
	char key_id[TOKEN_KEYID_MAX + 1];
	int64_t expires;
	int rc;

	if (h->auth == NULL)
		return "no bearer token";
	if (h->auth_len < 7 || memcmp(h->auth, "Bearer ", 7) != 0)
		return "the Authorization header is not a bearer token";
	rc = token_verify(c->w->srv->dd->token_key, h->auth + 7, h->auth_len - 7,
	    clock_now_ms() / 1000, key_id, &expires);
	OPENSSL_cleanse(key_id, sizeof(key_id));
	return rc == 0 ? NULL : rc == ZTP_EEXPIRED ? "token expired" :
	    rc == ZTP_EAUTH ? "token signature invalid (forged?)" : "malformed token";
}

/*
 * The body limit of a request on this listener; -1 when refused without
 * its body (*why set): on the admin listener, a request for the API with
 * a body and no valid token.
 */
static int
decide(struct conn *c, const struct httphead *h, int64_t *limit, const char **why)
{
	switch (c->kind) {
	case LISTENER_DEVICE:
		*limit = c->mod ? MODMSG_BODY_MAX : STORE_TELEMETRY_MAX;
		return 0;
	case LISTENER_EST:
		*limit = 2 * EST_BODY_MAX;
		conn_authenticated(c);
		return 0;
	default:
		break;
	}
	if ((*why = token_problem(c, h)) == NULL) {
		conn_authenticated(c);
		*limit = h->method == HTTPHEAD_POST && target_ends(h, "/import") ?
		    ADMINREQ_IMPORT_MAX : ADMINREQ_BODY_MAX;
		return 0;
	}
	if (h->method == HTTPHEAD_POST && target_is(h, "/v1/auth/token")) {
		*limit = GUARD_PUBLIC_BODY_MAX;
		return 0;
	}
	/*
	 * Not the API (the handler answers 404), or no body: the handler
	 * answers, with no body read. Else refused here, before the body.
	 */
	*limit = 0;
	if (!target_under(h, "/v1/") || h->content_length <= 0)
		return 0;
	return -1;
}

/* A whole head came: let it through to evhttp, or refuse it. */
static int
head_done(struct conn *c, struct evbuffer *in, const struct httphead *h)
{
	struct worker *w = c->w;
	const char *why = NULL;
	int64_t limit;
	char shown[128];

	if (decide(c, h, &limit, &why) != 0) {
		events_note(w, EV_TOKEN_REFUSED, NULL, c->peer,
		    "%s (a request with a %lld-byte body, refused before its body)", why,
		    (long long)h->content_length);
		refuse(c, in, 401, why, "WWW-Authenticate: Bearer realm=\"ztp\"\r\n");
		return -1;
	}
	if (h->content_length > limit) {
		snprintf(shown, sizeof(shown), "body of %lld bytes over the limit of %lld",
		    (long long)h->content_length, (long long)limit);
		events_note(w, EV_REQUEST_REFUSED, c->have_id ? c->id.iccid : NULL, c->peer,
		    "%s request: %s", listener_name(c->kind), shown);
		refuse(c, in, 413, shown, NULL);
		return -1;
	}
	c->g_heads++;
	c->g_body_left = h->method == HTTPHEAD_HEAD || h->content_length < 0 ? 0 :
	    (uint64_t)h->content_length;
	c->g_state = c->g_body_left > 0 ? GUARD_BODY : GUARD_HEAD;
	return 0;
}

static void
head_refused(struct conn *c, struct evbuffer *in, const struct httphead *h)
{
	struct worker *w = c->w;
	const char *iccid = c->have_id ? c->id.iccid : NULL;

	if (h->status == 431)
		events_note(w, EV_REQUEST_REFUSED, iccid, c->peer,
		    "%s request headers over %d bytes", listener_name(c->kind),
		    w->srv->cfg->max_header_size);
	else
		events_note(w, EV_REQUEST_REFUSED, iccid, c->peer, "%s request refused (%d): %s",
		    listener_name(c->kind), h->status, h->why);
	refuse(c, in, h->status, h->why, NULL);
}

/*
 * The head in the input, from offset off, n bytes there: decided once it
 * is whole. Returns the bytes of the input that belong to the head.
 */
static size_t
look_at_head(struct conn *c, struct evbuffer *in, size_t off, size_t n)
{
	size_t max = (size_t)c->w->srv->cfg->max_header_size, take, before = c->g_head_len;
	struct evbuffer_ptr p;
	struct httphead h;
	int rc;

	if (c->g_head == NULL && (c->g_head = malloc(max + 1)) == NULL) {
		struct httphead oom = { .status = 503, .why = "out of memory" };
		head_refused(c, in, &oom);
		return n;
	}
	take = max + 1 - before;
	if (take > n)
		take = n;
	if (evbuffer_ptr_set(in, &p, off, EVBUFFER_PTR_SET) != 0 ||
	    evbuffer_copyout_from(in, &p, c->g_head + before, take) != (ev_ssize_t)take) {
		struct httphead bad = { .status = 500, .why = "cannot read the request" };
		head_refused(c, in, &bad);
		return n;
	}
	c->g_head_len += take;
	rc = httphead_parse(c->g_head, c->g_head_len, max, &h);
	if (rc == HTTPHEAD_MORE)
		return take;
	if (rc != 0) {
		head_refused(c, in, &h);
		return n;
	}
	head_done(c, in, &h); /* h points into c->g_head */
	free(c->g_head);
	c->g_head = NULL;
	c->g_head_len = 0;
	return h.len - before;
}

static void
guard_in_cb(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;
	uint64_t k;

	c->g_added += info->n_added;
	c->g_deleted += info->n_deleted;
	if (c->g_busy || info->n_added == 0)
		return;
	c->g_busy = 1;
	while (c->g_pos < c->g_added) {
		size_t off = (size_t)(c->g_pos - c->g_deleted);
		size_t avail = (size_t)(c->g_added - c->g_pos);

		switch (c->g_state) {
		case GUARD_REFUSED:
			evbuffer_drain(in, evbuffer_get_length(in));
			c->g_pos = c->g_added;
			break;
		case GUARD_BODY:
			k = c->g_body_left < avail ? c->g_body_left : avail;
			c->g_pos += k;
			c->g_body_left -= k;
			if (c->g_body_left == 0)
				c->g_state = GUARD_HEAD;
			break;
		default:
			c->g_pos += look_at_head(c, in, off, avail);
			if (c->g_state == GUARD_REFUSED)
				c->g_pos = c->g_added;
			break;
		}
	}
	c->g_busy = 0;
}

void
guard_attach(struct conn *c)
{
	evbuffer_add_cb(bufferevent_get_input(c->bev), guard_in_cb, c);
}

void
guard_detach(struct conn *c)
{
	/* the bufferevent may drain its input once c is gone */
	if (c->bev != NULL)
		evbuffer_remove_cb(bufferevent_get_input(c->bev), guard_in_cb, c);
	free(c->g_head);
	c->g_head = NULL;
	if (c->eof_ev != NULL)
		event_free(c->eof_ev);
	c->eof_ev = NULL;
}

/* ---- the half-close ---- */

static void eof_hold_cb(struct bufferevent *bev, short what, void *arg);

static void
eof_pass(struct conn *c)
{
	void (*cb)(struct bufferevent *, short, void *) = c->held_eventcb;
	void *arg = c->held_arg;
	short what = c->held_what;
	bufferevent_event_cb now;
	void *now_arg;

	/* evhttp may have set its callbacks again since: give it to the current one */
	bufferevent_getcb(c->bev, NULL, NULL, &now, &now_arg);
	c->held_what = 0;
	if (now != NULL && now != eof_hold_cb) {
		cb = now;
		arg = now_arg;
	}
	if (cb != NULL)
		cb(c->bev, what, arg); /* evhttp frees the connection, and c with it */
}

/* The held EOF: the connection closes now, unless an answer is to come. */
static void
eof_check(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->held_what == 0)
		return;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
		/*
		 * an answer is being written, and the bufferevent stopped
		 * writing when it read the close_notify: write it, then evhttp
		 * reads for the next request, sees the EOF and closes
		 */
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	if (c->g_heads > c->nrequests && c->g_state != GUARD_BODY)
		return; /* the answer is coming: evhttp closes after it (guard_request_done) */
	eof_pass(c);
}

/* In place of evhttp's event callback, with its argument (one for all callbacks). */
static void
eof_hold_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = tls_conn(tlsbev_ssl(bev));

	if (c == NULL)
		return;
	if (!(what & BEV_EVENT_EOF) || c->held_eventcb == NULL) {
		if (c->held_eventcb != NULL)
			c->held_eventcb(bev, what, c->held_arg);
		return;
	}
	/* the request that came with the close_notify is not in the input yet: look later */
	c->held_what = what;
	if (c->eof_ev == NULL)
		c->eof_ev = event_new(c->w->base, -1, 0, eof_check, c);
	if (c->eof_ev != NULL)
		event_active(c->eof_ev, EV_TIMEOUT, 1);
	else
		eof_pass(c);
}

/* Put eof_hold_cb in place of evhttp's event callback (evhttp sets its own again). */
static void
eof_hook(struct conn *c)
{
	bufferevent_data_cb rcb, wcb;
	bufferevent_event_cb ecb;
	void *arg;

	bufferevent_getcb(c->bev, &rcb, &wcb, &ecb, &arg);
	if (ecb == eof_hold_cb)
		return;
	c->held_eventcb = ecb;
	c->held_arg = arg;
	bufferevent_setcb(c->bev, rcb, wcb, eof_hold_cb, arg);
}

void
guard_peer_closed(struct conn *c)
{
	if (c->peer_eof || c->bev == NULL)
		return;
	c->peer_eof = 1;
	eof_hook(c);
}

void
guard_request_done(struct conn *c, struct evhttp_request *req)
{
	if (!c->peer_eof)
		return;
	/*
	 * evhttp closes a connection after an answer that says so; and while
	 * it writes the answer it reads again, sees the EOF again and would
	 * drop the answer: the EOF stays held until the answer is out.
	 */
	evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
	eof_hook(c);
}
