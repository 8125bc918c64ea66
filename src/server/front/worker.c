/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker threads: each runs its own event_base with its own store
 * connection, evhttp servers and SO_REUSEPORT listening sockets.
 *
 * Connections are bounded per worker (the listener pauses at the limit),
 * each has a deadline for its handshake and every complete request
 * (request-timeout) on top of evhttp's read/write inactivity time-out
 * (idle-timeout), and headers and bodies are capped.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/crypto.h>

#include "admin_req.h"
#include "clock.h"
#include "coro.h"
#include "est_req.h"
#include "events.h"
#include "log.h"
#include "pki.h"
#include "proxy.h"
#include "retention.h"
#include "server.h"
#include "store.h"
#include "tlsbev.h"
#include "ztp/err.h"

#define DRAIN_SECONDS 2
#define DEVICE_BODY_CAP 4096 /* evhttp's hard cap; the handler refuses over 255 */

void conn_free(struct conn *c);

/* ---- per-listener budgets ---- */

#define PEER_BUCKETS 1024
#define STATS_SECONDS 60

#define PEER_SLOTS_MAX 65536 /* per worker: beyond, no new slot for failures */
#define FAIL_WINDOW_MS 60000

struct peer_slot {
	uint8_t key[16];
	int kind;
	int count;         /* unfinished handshakes */
	int fails;         /* refused handshakes since fail_start */
	int64_t fail_start;
	struct peer_slot *next;
};

/* A slot that counts nothing any more goes. */
static int
slot_idle(const struct peer_slot *p, int64_t now)
{
	return p->count <= 0 && (p->fails == 0 || now - p->fail_start >= FAIL_WINDOW_MS);
}

struct peer_table {
	struct peer_slot *b[PEER_BUCKETS];
	int nslots;
};

static unsigned
peer_hash(const uint8_t key[16], int kind)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % PEER_BUCKETS;
}

/* The slot of (key, kind), made if create; NULL if none (or no memory). */
static struct peer_slot *
peer_get(struct worker *w, const uint8_t key[16], int kind, int create)
{
	unsigned i = peer_hash(key, kind);
	struct peer_slot *p;

	if (w->peers == NULL)
		return NULL;
	for (p = w->peers->b[i]; p != NULL; p = p->next)
		if (p->kind == kind && memcmp(p->key, key, 16) == 0)
			return p;
	if (!create || w->peers->nslots >= PEER_SLOTS_MAX || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	memcpy(p->key, key, 16);
	p->kind = kind;
	p->next = w->peers->b[i];
	w->peers->b[i] = p;
	w->peers->nslots++;
	return p;
}

static void
peer_put(struct worker *w, const uint8_t key[16], int kind)
{
	unsigned i = peer_hash(key, kind);
	struct peer_slot **pp, *p;

	if (w->peers == NULL)
		return;
	for (pp = &w->peers->b[i]; (p = *pp) != NULL; pp = &p->next)
		if (p->kind == kind && memcmp(p->key, key, 16) == 0) {
			p->count--;
			if (slot_idle(p, clock_now_ms())) {
				*pp = p->next;
				free(p);
				w->peers->nslots--;
			}
			return;
		}
}

/*
 * The slots of addresses whose failures are old and that hold no
 * handshake: once a minute (stats_cb), so the table does not keep every
 * address that ever failed.
 */
static void
peer_table_sweep(struct worker *w)
{
	int64_t now = clock_now_ms();
	struct peer_slot **pp, *p;
	int i;

	for (i = 0; w->peers != NULL && i < PEER_BUCKETS; i++)
		for (pp = &w->peers->b[i]; (p = *pp) != NULL;) {
			if (slot_idle(p, now)) {
				*pp = p->next;
				free(p);
				w->peers->nslots--;
			} else {
				pp = &p->next;
			}
		}
}

static void
peer_table_free(struct worker *w)
{
	struct peer_slot *p, *next;
	int i;

	if (w->peers == NULL)
		return;
	for (i = 0; i < PEER_BUCKETS; i++)
		for (p = w->peers->b[i]; p != NULL; p = next) {
			next = p->next;
			free(p);
		}
	free(w->peers);
	w->peers = NULL;
}

/* The peer's address as a key: IPv4 mapped into IPv6, IPv6 cut to its /64. */
static int
peer_key(int fd, uint8_t key[16])
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(key, 0, 16);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		return 0;
	}
	if (ss.ss_family == AF_INET6) {
		memcpy(key, &((struct sockaddr_in6 *)&ss)->sin6_addr, 8);
		return 0;
	}
	return -1;
}

/*
 * A listener pauses when it is full of connections none of which may be
 * closed to make room (all authenticated), and accepts again below that.
 */
static void
budget_check(struct worker *w, enum listener_kind kind)
{
	int live = w->nconns_kind[kind] - w->ndropping[kind];
	int full = live >= w->srv->cfg->max_connections && TAILQ_EMPTY(&w->unauth[kind]);

	if (w->lev[kind] == NULL)
		return;
	if (full && !w->paused[kind]) {
		evconnlistener_disable(w->lev[kind]);
		w->paused[kind] = 1;
		w->n_paused[kind]++;
	} else if (!full && w->paused[kind] && !w->draining) {
		evconnlistener_enable(w->lev[kind]);
		w->paused[kind] = 0;
	}
}

static void close_cb(struct evhttp_connection *evcon, void *arg);

static struct evhttp_connection *
conn_evcon(struct conn *c)
{
	void *arg = NULL;

	if (c->evcon_gone)
		return NULL;
	if (c->evcon != NULL)
		return c->evcon;
	bufferevent_getcb(c->bev, NULL, NULL, NULL, &arg);
	return arg;
}

static void
unauth_remove(struct conn *c)
{
	if (c->unauth) {
		TAILQ_REMOVE(&c->w->unauth[c->kind], c, link);
		c->unauth = 0;
	}
}

/*
 * Close c now, with no answer: an unauthenticated connection has no
 * request in flight. evhttp frees it (and c) at the next turn of the loop.
 */
static void
conn_drop(struct conn *c)
{
	struct evhttp_connection *evcon = conn_evcon(c);

	unauth_remove(c);
	if (c->admitting) {
		/* not admitted yet: it never will be */
		TAILQ_REMOVE(&c->w->admitq, c, alink);
		c->admitting = 0;
	}
	if (c->dropping || c->evcon_gone)
		return; /* already going */
	c->dropping = 1;
	c->event_recorded = 1;
	c->w->ndropping[c->kind]++;
	if (evcon != NULL) {
		evhttp_connection_free(evcon);
	} else {
		int fd = bufferevent_getfd(c->bev);
		if (fd >= 0)
			shutdown(fd, SHUT_RDWR);
	}
}

/*
 * A new connection, now that evhttp gave it its socket: at most so many
 * unfinished handshakes per peer, and room made in a full listener by
 * closing its oldest unauthenticated connection.
 */
static void
admit(struct conn *c)
{
	struct worker *w = c->w;
	const struct config *cfg = w->srv->cfg;
	enum listener_kind kind = c->kind;
	struct peer_slot *slot;
	struct conn *old;
	int fd = bufferevent_getfd(c->bev);

	c->evcon = conn_evcon(c);
	if (fd < 0 || c->evcon == NULL)
		return;
	/* told when evhttp frees it (the client went): c is no longer one to close */
	evhttp_connection_set_closecb(c->evcon, close_cb, c);
	if (c->peer[0] == '\0')
		conn_peer(fd, c->peer, sizeof(c->peer));
	if (!c->handshake_done && peer_key(fd, c->peer_key) == 0 &&
	    (slot = peer_get(w, c->peer_key, kind, 1)) != NULL) {
		if (cfg->max_failed_handshakes > 0 && slot->fails >= cfg->max_failed_handshakes &&
		    clock_now_ms() - slot->fail_start < FAIL_WINDOW_MS) {
			/* this address failed too many handshakes this minute: no TLS for it */
			w->n_peer_blocked[kind]++;
			slot->count++;
			c->hs_counted = 1;
			conn_drop(c);
			return;
		}
		if (slot->count >= cfg->max_handshakes_per_peer) {
			w->n_peer_refused[kind]++;
			slot->count++;
			c->hs_counted = 1;
			conn_drop(c);
			return;
		}
		slot->count++;
		c->hs_counted = 1;
	}
	while (w->nconns_kind[kind] - w->ndropping[kind] > cfg->max_connections &&
	    (old = TAILQ_FIRST(&w->unauth[kind])) != NULL) {
		w->n_evicted[kind]++;
		conn_drop(old);
		if (old == c)
			break;
	}
	budget_check(w, kind);
}

static void
admit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct conn *c;

	while ((c = TAILQ_FIRST(&w->admitq)) != NULL) {
		TAILQ_REMOVE(&w->admitq, c, alink);
		c->admitting = 0;
		admit(c);
	}
}

static void
stats_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	int k;

	for (k = 0; k < LISTENER__COUNT; k++) {
		if (w->n_evicted[k] == 0 && w->n_peer_refused[k] == 0 && w->n_hs_timeout[k] == 0 &&
		    w->n_paused[k] == 0 && w->n_peer_blocked[k] == 0)
			continue;
		log_info("worker %d, %s listener, last %d s: %ld unauthenticated connections "
			 "closed to make room, %ld over the per-peer limit, %ld from addresses "
			 "with too many failed handshakes, %ld handshakes not finished in %d s, "
			 "paused %ld times",
		    w->id, k == LISTENER_DEVICE ? "device" : k == LISTENER_ADMIN ? "admin" : "EST",
		    STATS_SECONDS, w->n_evicted[k], w->n_peer_refused[k], w->n_peer_blocked[k],
		    w->n_hs_timeout[k], w->srv->cfg->handshake_timeout, w->n_paused[k]);
		w->n_evicted[k] = w->n_peer_refused[k] = w->n_hs_timeout[k] = w->n_paused[k] = 0;
		w->n_peer_blocked[k] = 0;
	}
	peer_table_sweep(w);
}

void
conn_authenticated(struct conn *c)
{
	if (!c->unauth)
		return;
	unauth_remove(c);
	budget_check(c->w, c->kind);
}

void
conn_handshake_failed(struct conn *c)
{
	int64_t now = clock_now_ms();
	struct peer_slot *p;

	if (c->hs_failed || c->peer[0] == '\0')
		return;
	c->hs_failed = 1;
	if ((p = peer_get(c->w, c->peer_key, c->kind, 1)) == NULL)
		return;
	if (p->fails == 0 || now - p->fail_start >= FAIL_WINDOW_MS) {
		p->fails = 0;
		p->fail_start = now;
	}
	p->fails++;
}

void
conn_handshake_done(struct conn *c)
{
	struct timeval tv = { c->w->srv->cfg->request_timeout, 0 };

	if (c->hs_counted) {
		peer_put(c->w, c->peer_key, c->kind);
		c->hs_counted = 0;
	}
	event_add(c->deadline, &tv);
	if (c->kind == LISTENER_DEVICE)
		conn_authenticated(c); /* the PSK, or a certificate of ours, is the credential */
}

void
conn_close_soon(struct conn *c, int seconds)
{
	struct timeval tv = { seconds, 0 };

	c->event_recorded = 1;
	unauth_remove(c);
	if (seconds == 0)
		event_active(c->deadline, EV_TIMEOUT, 1);
	else
		event_add(c->deadline, &tv);
}

/* The deadline passed: shut the socket; evhttp then frees the connection. */
static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	evutil_socket_t s = bufferevent_getfd(c->bev);

	c->timed_out = 1;
	if (s >= 0)
		shutdown(s, SHUT_RDWR);
}

/*
 * evhttp is freeing a connection (every admitted one has this callback):
 * it is no longer one to close to make room; if it served requests, or
 * has one forwarded upstream, say close_notify; a request being forwarded
 * goes with it.
 */
static void
close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;
	SSL *ssl = c->ssl;

	/* the bufferevent, and c with its SSL, go at the next turn of the loop */
	c->evcon_gone = 1;
	c->evcon = NULL;
	unauth_remove(c);
	if (c->admitting) {
		TAILQ_REMOVE(&c->w->admitq, c, alink);
		c->admitting = 0;
	}
	proxy_conn_closing(c);
	if (ssl != NULL && c->handshake_done && !c->timed_out)
		SSL_shutdown(ssl);
}

void
conn_watch_close(struct conn *c, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);

	if (evcon != NULL)
		evhttp_connection_set_closecb(evcon, close_cb, c);
}

void
conn_extend_deadline(struct conn *c, int seconds)
{
	struct timeval left, tv = { seconds, 0 };

	if (evtimer_pending(c->deadline, &left)) {
		struct timeval now;
		evutil_gettimeofday(&now, NULL);
		if (evutil_timercmp(&left, &now, >)) {
			evutil_timersub(&left, &now, &left);
			if (evutil_timercmp(&left, &tv, >=))
				return;
		}
	}
	event_add(c->deadline, &tv);
}

void
conn_request_done(struct conn *c, struct evhttp_request *req)
{
	struct timeval tv = { c->w->srv->cfg->request_timeout, 0 };
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);

	guard_request_done(c, req);
	if (c->nrequests == 0 && evcon != NULL)
		evhttp_connection_set_closecb(evcon, close_cb, c);
	c->nrequests++;
	c->in_request = 0;
	event_add(c->deadline, &tv);
}

/*
 * A connection refused in its handshake: keep its socket a little after
 * the connection is gone. In TLS 1.3 the client's request follows its
 * certificate, so it arrives after the alert that refuses the certificate;
 * closing then resets the connection, and a reset can make the client lose
 * the alert that says why. So: FIN after the alert, then read and drop
 * what comes for at most LINGER_MS, on a dup of the socket; at most
 * LINGER_MAX such sockets per worker, others are closed at once.
 */
#define LINGER_MS 1000
#define LINGER_MAX 64

struct lingering {
	struct worker *w;
	struct event *ev, *timer;
	int fd;
	TAILQ_ENTRY(lingering) next;
};

static void
linger_end(struct lingering *l)
{
	TAILQ_REMOVE(&l->w->lingering, l, next);
	event_free(l->ev);
	event_free(l->timer);
	close(l->fd);
	l->w->nlinger--;
	free(l);
}

/* readable: drop what came; the end at EOF, an error or the deadline */
static void
linger_read_cb(evutil_socket_t fd, short what, void *arg)
{
	char buf[4096];
	ssize_t n = 0;
	int i;

	for (i = 0; i < 16 && (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0; i++)
		;
	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
		return; /* more to come: read on, until the deadline */
	linger_end(arg);
}

static void
linger_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	linger_end(arg);
}

/* fd: a dup of the socket, which libevent has closed; ours to close. */
static void
linger_start(struct worker *w, int fd)
{
	struct timeval tv = { LINGER_MS / 1000, (LINGER_MS % 1000) * 1000 };
	struct lingering *l;

	shutdown(fd, SHUT_WR);
	if (w->nlinger >= LINGER_MAX || w->draining || (l = calloc(1, sizeof(*l))) == NULL) {
		close(fd);
		return;
	}
	l->fd = fd;
	l->w = w;
	/* a fixed deadline: a client that keeps sending does not keep the socket */
	if ((l->ev = event_new(w->base, fd, EV_READ | EV_PERSIST, linger_read_cb, l)) == NULL ||
	    (l->timer = evtimer_new(w->base, linger_timer_cb, l)) == NULL ||
	    event_add(l->ev, NULL) != 0 || evtimer_add(l->timer, &tv) != 0) {
		if (l->ev != NULL)
			event_free(l->ev);
		if (l->timer != NULL)
			event_free(l->timer);
		close(fd);
		free(l);
		return;
	}
	TAILQ_INSERT_TAIL(&w->lingering, l, next);
	w->nlinger++;
}

void
conn_free(struct conn *c)
{
	struct worker *w = c->w;
	enum listener_kind c_kind_saved = c->kind;

	if (c->timed_out && c->nrequests == 0 && !c->event_recorded) {
		if (c->handshake_done)
			events_note(w, EV_REQUEST_REFUSED, c->have_id ? c->id.iccid : NULL,
			    c->peer, "slow client: no complete request within %d s, closed",
			    w->srv->cfg->request_timeout);
		else
			w->n_hs_timeout[c->kind]++;
	}
	if (c->proxy != NULL)
		proxy_conn_gone(c);
	if (c->linger_fd > 0)
		linger_start(w, c->linger_fd - 1);
	if (c->admitting)
		TAILQ_REMOVE(&w->admitq, c, alink);
	unauth_remove(c);
	if (c->hs_counted)
		peer_put(w, c->peer_key, c->kind);
	if (c->dropping)
		w->ndropping[c->kind]--;
	w->nconns_kind[c->kind]--;
	guard_detach(c);
	event_free(c->deadline);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
	w->nconns--;
	budget_check(w, c_kind_saved);
}

/*
 * evhttp asks for each accepted connection's bufferevent: a TLS one, with
 * the request head guard on its input. The connection is admitted at the
 * next turn of the loop, once evhttp gave it its socket.
 */
static struct bufferevent *
bev_cb(struct event_base *base, void *arg, enum listener_kind kind)
{
	struct worker *w = arg;
	struct timeval tv = { w->srv->cfg->handshake_timeout, 0 };
	struct bufferevent *bev = NULL;
	struct conn *c;
	SSL *ssl;

	if ((c = calloc(1, sizeof(*c))) == NULL || (ssl = SSL_new(w->srv->ctx[kind])) == NULL)
		fatalx("out of memory for a connection");
	c->w = w;
	c->kind = kind;
	c->accepted_at = clock_now_ms();
	if ((c->deadline = evtimer_new(base, deadline_cb, c)) == NULL)
		fatalx("out of memory for a connection");
	tls_set_conn(ssl, c);
	w->nconns++;
	w->nconns_kind[kind]++;
	TAILQ_INSERT_TAIL(&w->unauth[kind], c, link);
	c->unauth = 1;
	TAILQ_INSERT_TAIL(&w->admitq, c, alink);
	c->admitting = 1;
	event_active(w->admit_ev, EV_TIMEOUT, 1);
	if ((bev = tlsbev_new(base, ssl)) == NULL)
		fatalx("out of memory for a connection");
	c->bev = bev;
	c->ssl = ssl;
	guard_attach(c);
	evtimer_add(c->deadline, &tv);
	return bev;
}

static struct bufferevent *
bev_cb_device(struct event_base *base, void *arg)
{
	return bev_cb(base, arg, LISTENER_DEVICE);
}

static struct bufferevent *
bev_cb_admin(struct event_base *base, void *arg)
{
	return bev_cb(base, arg, LISTENER_ADMIN);
}

static struct bufferevent *
bev_cb_est(struct event_base *base, void *arg)
{
	return bev_cb(base, arg, LISTENER_EST);
}

static void
drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	int64_t now = clock_now_ms();

	/* requests forwarded upstream get their own deadline's time to be answered */
	if ((w->nconns <= 0 && w->nlinger <= 0) ||
	    (now >= w->drain_deadline &&
		(!proxy_pending(w) ||
		    now >= w->drain_deadline + (w->srv->cfg->upstream_timeout + 1) * 1000LL)))
		/*
		 * loopexit, not loopbreak: what this turn of the loop made
		 * active still runs (an answer handed to a connection in this
		 * turn is written by tlsbev.c's event of the same turn)
		 */
		event_base_loopexit(w->base, NULL);
}

/* main asked us to stop: close the listeners, let requests in flight end */
static void
ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval tv = { 0, 50000 };
	char b;
	int k;

	if (read(fd, &b, 1) <= 0 || w->draining)
		return;
	w->draining = 1;
	w->drain_deadline = clock_now_ms() + DRAIN_SECONDS * 1000;
	for (k = 0; k < LISTENER__COUNT; k++)
		if (w->lev[k] != NULL)
			evconnlistener_disable(w->lev[k]);
	w->drain_ev = event_new(w->base, -1, EV_PERSIST, drain_cb, w);
	event_add(w->drain_ev, &tv);
}

/* Requests run in a coroutine when the store waits on a socket (coro.c). */
static void
gen_device(struct evhttp_request *req, void *arg)
{
	coro_request(arg, device_api_handle, req);
}

static void
gen_admin(struct evhttp_request *req, void *arg)
{
	coro_request(arg, admin_api_handle, req);
}

static void
gen_est(struct evhttp_request *req, void *arg)
{
	coro_request(arg, est_api_handle, req);
}

static int
setup_http(struct worker *w, enum listener_kind kind)
{
	const struct config *cfg = w->srv->cfg;
	struct evhttp_bound_socket *bound;
	struct evconnlistener *lev;
	struct evhttp *http;
	int fd = w->srv->fds[kind] ? w->srv->fds[kind][w->id] : -1;

	if (fd < 0)
		return 0;
	if ((http = evhttp_new(w->base)) == NULL)
		return ZTP_ENOMEM;
	w->http[kind] = http;
	switch (kind) {
	case LISTENER_DEVICE:
		evhttp_set_bevcb(http, bev_cb_device, w);
		evhttp_set_gencb(http, gen_device, w);
		break;
	case LISTENER_ADMIN:
		evhttp_set_bevcb(http, bev_cb_admin, w);
		evhttp_set_gencb(http, gen_admin, w);
		break;
	default:
		evhttp_set_bevcb(http, bev_cb_est, w);
		evhttp_set_gencb(http, gen_est, w);
		break;
	}
	evhttp_set_timeout(http, cfg->idle_timeout);
	/* evhttp's own caps are the hard bound; handlers check the tighter ones */
	evhttp_set_max_headers_size(http, cfg->max_header_size * 2);
	evhttp_set_max_body_size(http, kind == LISTENER_DEVICE ? DEVICE_BODY_CAP :
	    kind == LISTENER_EST ? 2 * EST_BODY_MAX : ADMINREQ_IMPORT_MAX);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	/*
	 * Every answer with a body names its type, but a module's (items,
	 * docs/protocol/security-service.md): on the device listener nothing is
	 * added, each byte counts on a cellular link.
	 */
	evhttp_set_default_content_type(http, kind == LISTENER_DEVICE ? NULL : "application/json");
	lev = evconnlistener_new(w->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (lev == NULL)
		return ZTP_ENOMEM;
	w->srv->fds[kind][w->id] = -1; /* the listener owns it now */
	if ((bound = evhttp_bind_listener(http, lev)) == NULL)
		return ZTP_ENOMEM;
	w->lev[kind] = evhttp_bound_socket_get_listener(bound);
	return 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	int k;

	event_base_dispatch(w->base);
	coro_end(w); /* work still waiting on the database is dropped */
	/* free the servers (and with them every connection), then the rest */
	for (k = 0; k < LISTENER__COUNT; k++) {
		if (w->http[k] != NULL)
			evhttp_free(w->http[k]);
		w->http[k] = NULL;
		w->lev[k] = NULL;
	}
	event_base_loop(w->base, EVLOOP_NONBLOCK);
	while (!TAILQ_EMPTY(&w->lingering))
		linger_end(TAILQ_FIRST(&w->lingering));
	event_free(w->ctl_ev);
	event_free(w->drain_ev);
	event_free(w->admit_ev);
	event_free(w->stats_ev);
	peer_table_free(w);
	est_api_worker_free(w);
	pki_worker_exit(w);
	proxy_worker_free(w);
	retention_end(w);
	events_worker_end(w); /* the last events noted: written before the store closes */
	store_close(w->store);
	w->store = NULL;
	event_base_free(w->base);
	w->base = NULL;
	return NULL;
}

int
worker_start(struct server *srv, struct worker *w)
{
	char path[1100];
	int k, rc;

	w->srv = srv;
	w->ctl[0] = w->ctl[1] = -1;
	TAILQ_INIT(&w->lingering);
	TAILQ_INIT(&w->admitq);
	for (k = 0; k < LISTENER__COUNT; k++)
		TAILQ_INIT(&w->unauth[k]);
	if ((w->base = event_base_new()) == NULL)
		return ZTP_ENOMEM;
	if ((w->peers = calloc(1, sizeof(*w->peers))) == NULL ||
	    (w->admit_ev = event_new(w->base, -1, 0, admit_cb, w)) == NULL ||
	    (w->stats_ev = event_new(w->base, -1, EV_PERSIST, stats_cb, w)) == NULL)
		return ZTP_ENOMEM;
	{
		struct timeval stv = { STATS_SECONDS, 0 };
		event_add(w->stats_ev, &stv);
	}
	server_store_target(srv, path, sizeof(path));
	if ((rc = store_open(&w->store, path, srv->dd->key)) != 0)
		return rc;
	if ((rc = coro_start(w, srv->cfg->store_connections, path, srv->dd->key)) != 0)
		return rc;
	if ((rc = events_worker_start(w)) != 0 || (rc = retention_start(w)) != 0)
		return rc;
	for (k = 0; k < LISTENER__COUNT; k++)
		if ((rc = setup_http(w, (enum listener_kind)k)) != 0)
			return rc;
	if (pipe(w->ctl) != 0)
		return ZTP_EIO;
	evutil_make_socket_nonblocking(w->ctl[0]);
	w->ctl_ev = event_new(w->base, w->ctl[0], EV_READ | EV_PERSIST, ctl_cb, w);
	if (w->ctl_ev == NULL || event_add(w->ctl_ev, NULL) != 0)
		return ZTP_ENOMEM;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		return ZTP_EIO;
	return 0;
}

void
worker_stop(struct worker *w)
{
	if (w->ctl[1] >= 0 && write(w->ctl[1], "q", 1) != 1)
		log_warn("cannot stop worker %d", w->id);
}

void
worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
	close(w->ctl[0]);
	close(w->ctl[1]);
}
