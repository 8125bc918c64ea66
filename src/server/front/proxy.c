/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proxy mode: the forwarding (proxy.h). The pure parts are proxy_req.c.
 *
 * Per worker, one target per distinct upstream (URL, CA, client
 * certificate): its SSL_CTX, at most upstream-connections evhttp
 * connections carrying one request each at a time, and a queue of at most
 * PROXY_QUEUE_PER_CONN requests per connection waiting for one. A
 * connection that closes or fails is retired and never reconnected (an SSL
 * object does not outlive its connection); a new one is opened when needed.
 * Each request has one deadline (upstream-timeout) from its start to its
 * complete answer, waiting included. A GET whose kept-alive connection
 * failed before any answer (the upstream closed it meanwhile) is tried once
 * more on a new connection; a POST never is.
 *
 * The device's request stays with evhttp while the upstream answers. If the
 * device goes away meanwhile, evhttp either detaches the request (EOF,
 * time-out: it becomes ours to free) or frees it with its connection; the
 * connection's close callback (proxy_conn_closing) tells which.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "events.h"
#include "http_util.h"
#include "log.h"
#include "num.h"
#include "proxy.h"
#include "proxy_req.h"
#include "server.h"
#include "ztp/err.h"

#define PROXY_TARGETS_MAX 64
#define PROXY_QUEUE_PER_CONN 4
#define PROXY_HEADERS_MAX 16384
#define PROXY_CTYPE_MAX 128
#define PROXY_TRIES 2
/* bytes of an answer read at most: more than a SIM takes, to tell "too large" for certain */
#define PROXY_READ_MAX 4096

struct proxy_target;
struct proxy_job;

struct proxy_conn {
	struct proxy_target *t;
	struct evhttp_connection *evcon;
	struct proxy_job *job; /* the request in flight, NULL when idle */
	int used;              /* answered a request: a kept-alive connection */
	int retired;           /* closed or failed: in the graveyard */
	int nodelay;           /* TCP_NODELAY set on its socket */
	LIST_ENTRY(proxy_conn) next;
};

/* what a file was when it was read: a changed file makes a new target */
struct file_sig {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct proxy_target {
	struct proxy_worker *pw;
	struct store_upstream spec;
	struct file_sig sig[3]; /* ca, cert, key as they were read */
	int stale;              /* a file changed: no new request uses it */
	struct proxy_url url;
	SSL_CTX *ctx; /* https only */
	LIST_HEAD(, proxy_conn) conns;
	int nconns;
	TAILQ_HEAD(, proxy_job) waiting;
	int nwaiting;
	int64_t used_at;
	TAILQ_ENTRY(proxy_target) next;
};

struct proxy_job {
	struct proxy_worker *pw;
	struct proxy_target *t;
	struct proxy_conn *pc;
	struct conn *c;              /* the device's connection; NULL once freed */
	struct evhttp_request *dreq; /* the device's request; NULL once evhttp freed it */
	struct evhttp_request *ureq; /* the upstream request in flight */
	struct event *timer;
	enum evhttp_cmd_type method;
	char path[PROXY_URI_MAX];
	char iccid[ICCID_STR_SIZE];
	char device_id[STORE_DEVID_HEX];
	char generation[16];         /* "" for a certificate device's request */
	char udid[STORE_UDID_MAX + 1]; /* a certificate device's UDID, else "" */
	char peer[64];
	char inm[STORE_ETAG_SIZE + 8];
	char ctype[PROXY_CTYPE_MAX + 1];
	uint8_t body[STORE_TELEMETRY_MAX];
	size_t bodylen;
	int tries;
	int queued;
	int failed;                  /* err was reported by evhttp */
	enum evhttp_request_error err;
	int sock_err;                /* the socket's error when evhttp reported one */
	int fresh;                   /* a retry: on a new connection */
	uint64_t announced;          /* the answer's Content-Length; 0 if none */
	TAILQ_ENTRY(proxy_job) qnext;
	LIST_ENTRY(proxy_job) next;
};

struct proxy_worker {
	struct worker *w;
	struct evdns_base *dns;
	TAILQ_HEAD(, proxy_target) targets;
	int ntargets;
	LIST_HEAD(, proxy_job) jobs;
	LIST_HEAD(, proxy_conn) graveyard; /* retired connections, freed by reap */
	struct event *reap;
};

static void job_start(struct proxy_job *j);

/* ---- contexts */

/*
 * The TLS client context of an https upstream: TLS 1.2 or later, the peer
 * verified against ca (or the system's CAs), a client certificate if set.
 */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	return 0;
}

static SSL_CTX *
upstream_ctx(const struct store_upstream *u, char *why, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		ztp_errf(why, cap, ZTP_ENOMEM, "out of memory");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* an encrypted key fails to load: no pass phrase prompt on a terminal */
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	if (u->ca[0] != '\0' ? SSL_CTX_load_verify_locations(ctx, u->ca, NULL) != 1 :
			       SSL_CTX_set_default_verify_paths(ctx) != 1) {
		ztp_errf(why, cap, ZTP_EINVAL, "cannot load the upstream CA %s",
		    u->ca[0] ? u->ca : "(the system's)");
		goto fail;
	}
	if (u->cert[0] != '\0' &&
	    (SSL_CTX_use_certificate_chain_file(ctx, u->cert) != 1 ||
		SSL_CTX_use_PrivateKey_file(ctx, u->key, SSL_FILETYPE_PEM) != 1 ||
		SSL_CTX_check_private_key(ctx) != 1)) {
		ztp_errf(why, cap, ZTP_EINVAL,
		    "cannot load the upstream client certificate %s with its key %s (an "
		    "unencrypted PEM key that matches the certificate)", u->cert, u->key);
		goto fail;
	}
	ERR_clear_error();
	return ctx;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

int
proxy_upstream_try(const struct store_upstream *u, char *why, size_t cap)
{
	struct proxy_url pu;
	SSL_CTX *ctx;
	int rc;

	if ((rc = proxy_upstream_check(u, why, cap)) != 0)
		return rc;
	if (u->url[0] == '\0' || strcmp(u->url, "off") == 0 ||
	    (rc = proxy_url_parse(u->url, &pu, why, cap)) != 0 || !pu.https)
		return rc;
	if ((ctx = upstream_ctx(u, why, cap)) == NULL)
		return ZTP_EINVAL;
	SSL_CTX_free(ctx);
	return 0;
}

/* ---- the worker's state */

static void
conn_free_now(struct proxy_conn *pc)
{
	evhttp_connection_set_closecb(pc->evcon, NULL, NULL);
	evhttp_connection_free(pc->evcon);
	free(pc);
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_worker *pw = arg;
	struct proxy_conn *pc;

	while ((pc = LIST_FIRST(&pw->graveyard)) != NULL) {
		LIST_REMOVE(pc, next);
		conn_free_now(pc);
	}
}

static struct proxy_worker *
worker_state(struct worker *w)
{
	struct proxy_worker *pw = w->proxy;

	if (pw != NULL)
		return pw;
	if ((pw = calloc(1, sizeof(*pw))) == NULL)
		return NULL;
	pw->w = w;
	TAILQ_INIT(&pw->targets);
	LIST_INIT(&pw->jobs);
	LIST_INIT(&pw->graveyard);
	if ((pw->reap = event_new(w->base, -1, 0, reap_cb, pw)) == NULL) {
		free(pw);
		return NULL;
	}
	w->proxy = pw;
	return pw;
}

/*
 * Retire a connection: out of its target's pool now, freed from the event
 * loop (never from inside one of its own callbacks).
 */
static void
conn_retire(struct proxy_conn *pc)
{
	struct proxy_worker *pw = pc->t->pw;

	if (pc->retired)
		return;
	pc->retired = 1;
	LIST_REMOVE(pc, next);
	pc->t->nconns--;
	LIST_INSERT_HEAD(&pw->graveyard, pc, next);
	event_active(pw->reap, EV_TIMEOUT, 1);
}

/* evhttp closes the connection (the upstream closed it, or it failed) */
static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	conn_retire(arg);
}

static void
target_free(struct proxy_target *t)
{
	struct proxy_conn *pc;

	while ((pc = LIST_FIRST(&t->conns)) != NULL) {
		LIST_REMOVE(pc, next);
		conn_free_now(pc);
	}
	SSL_CTX_free(t->ctx);
	free(t);
}

static int
spec_equal(const struct store_upstream *a, const struct store_upstream *b)
{
	return !strcmp(a->url, b->url) && !strcmp(a->ca, b->ca) && !strcmp(a->cert, b->cert) &&
	    !strcmp(a->key, b->key);
}

/* The signatures of u's files ("" or missing: zeros). */
static void
spec_sigs(const struct store_upstream *u, struct file_sig sig[3])
{
	const char *paths[3] = { u->ca, u->cert, u->key };
	struct stat st;
	int i;

	memset(sig, 0, 3 * sizeof(*sig));
	for (i = 0; i < 3; i++) {
		if (paths[i][0] == '\0' || stat(paths[i], &st) != 0)
			continue;
		sig[i].dev = st.st_dev;
		sig[i].ino = st.st_ino;
		sig[i].size = st.st_size;
		sig[i].mtime = st.st_mtim;
		sig[i].ctime = st.st_ctim;
	}
}

static int
target_busy(const struct proxy_target *t)
{
	const struct proxy_conn *pc;

	if (t->nwaiting > 0)
		return 1;
	LIST_FOREACH(pc, &t->conns, next)
		if (pc->job != NULL)
			return 1;
	return 0;
}

static void
target_drop(struct proxy_worker *pw, struct proxy_target *t)
{
	TAILQ_REMOVE(&pw->targets, t, next);
	pw->ntargets--;
	target_free(t);
}

/*
 * The worker's target for upstream u, made on first use. Its files are
 * read then, and again when one of them changes (checked at each request:
 * a renewed client certificate or CA is used from the next request on; the
 * old target serves what it has in flight and goes once idle). At most
 * PROXY_TARGETS_MAX: the least recently used idle one makes room.
 */
static struct proxy_target *
target_get(struct proxy_worker *pw, const struct store_upstream *u, char *why, size_t cap)
{
	struct proxy_target *t, *tmp, *victim = NULL;
	struct file_sig sig[3];

	spec_sigs(u, sig);
	for (t = TAILQ_FIRST(&pw->targets); t != NULL; t = tmp) {
		tmp = TAILQ_NEXT(t, next);
		if (!t->stale && spec_equal(&t->spec, u)) {
			if (memcmp(t->sig, sig, sizeof(sig)) == 0) {
				t->used_at = clock_now_ms();
				return t;
			}
			log_info("upstream %s: a CA or client certificate file changed; reading it again",
			    u->url);
			t->stale = 1;
		}
		if (t->stale && !target_busy(t)) {
			target_drop(pw, t);
			continue;
		}
		if (!target_busy(t) && (victim == NULL || t->used_at < victim->used_at))
			victim = t;
	}
	if (pw->ntargets >= PROXY_TARGETS_MAX) {
		if (victim == NULL) {
			ztp_errf(why, cap, ZTP_EBUSY, "too many upstreams in use");
			return NULL;
		}
		target_drop(pw, victim);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		ztp_errf(why, cap, ZTP_ENOMEM, "out of memory");
		return NULL;
	}
	t->pw = pw;
	t->spec = *u;
	memcpy(t->sig, sig, sizeof(sig));
	LIST_INIT(&t->conns);
	TAILQ_INIT(&t->waiting);
	if (proxy_url_parse(u->url, &t->url, why, cap) != 0 ||
	    (t->url.https && (t->ctx = upstream_ctx(u, why, cap)) == NULL)) {
		free(t);
		return NULL;
	}
	/* a host name is looked up without blocking the worker, or not at all */
	if (!t->url.host_is_ip && pw->dns == NULL &&
	    (pw->dns = evdns_base_new(pw->w->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
		 EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL) {
		ztp_errf(why, cap, ZTP_EIO, "no DNS resolver (resolv.conf) for %s", t->url.host);
		SSL_CTX_free(t->ctx);
		free(t);
		return NULL;
	}
	t->used_at = clock_now_ms();
	TAILQ_INSERT_HEAD(&pw->targets, t, next);
	pw->ntargets++;
	return t;
}

/* A new connection to t: TLS with the peer's name checked for https. */
static struct proxy_conn *
conn_new(struct proxy_target *t)
{
	const struct config *cfg = t->pw->w->srv->cfg;
	struct event_base *base = t->pw->w->base;
	struct bufferevent *bev = NULL;
	struct proxy_conn *pc;
	SSL *ssl = NULL;

	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return NULL;
	if (t->url.https) {
		if ((ssl = SSL_new(t->ctx)) == NULL)
			goto fail;
		if (t->url.host_is_ip ?
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), t->url.host) != 1 :
			(SSL_set_tlsext_host_name(ssl, t->url.host) != 1 ||
			    SSL_set1_host(ssl, t->url.host) != 1))
			goto fail;
		bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
		    BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL)
			goto fail;
		ssl = NULL; /* the bufferevent's now */
	} else if ((bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		goto fail;
	}
	pc->evcon = evhttp_connection_base_bufferevent_new(base,
	    t->url.host_is_ip ? NULL : t->pw->dns, bev, t->url.host, (unsigned short)t->url.port);
	if (pc->evcon == NULL)
		goto fail;
	bev = NULL;
	pc->t = t;
	evhttp_connection_set_timeout(pc->evcon, cfg->upstream_timeout);
	evhttp_connection_set_retries(pc->evcon, 0);
	evhttp_connection_set_max_body_size(pc->evcon, PROXY_READ_MAX);
	evhttp_connection_set_max_headers_size(pc->evcon, PROXY_HEADERS_MAX);
	evhttp_connection_set_closecb(pc->evcon, conn_closed_cb, pc);
	LIST_INSERT_HEAD(&t->conns, pc, next);
	t->nconns++;
	return pc;
fail:
	ERR_clear_error();
	if (bev != NULL)
		bufferevent_free(bev);
	SSL_free(ssl);
	free(pc);
	return NULL;
}

/* ---- a request */

static void
job_free(struct proxy_job *j)
{
	if (j->queued) {
		TAILQ_REMOVE(&j->t->waiting, j, qnext);
		j->t->nwaiting--;
	}
	if (j->c != NULL)
		j->c->proxy = NULL;
	LIST_REMOVE(j, next);
	if (j->timer != NULL)
		event_free(j->timer);
	OPENSSL_cleanse(j, sizeof(*j));
	free(j);
}

/*
 * The answer to the device: status with body (NULL for none), then the job
 * is gone. error: an error code for a JSON error answer (NULL when passing
 * the upstream's answer on).
 */
static void
job_reply(struct proxy_job *j, int status, const char *error, const char *detail,
    struct evbuffer *body)
{
	struct evhttp_request *req = j->dreq;

	if (req != NULL && evhttp_request_get_connection(req) == NULL) {
		/* the device went away and evhttp gave the request to us */
		evhttp_request_free(req);
	} else if (req != NULL) {
		if (error != NULL)
			http_reply_error(req, status, error, detail);
		else
			evhttp_send_reply(req, status, http_reason(status), body);
		if (j->c != NULL)
			device_api_finish(j->c, req);
	}
	job_free(j);
}

/* The upstream failed: an event, and the status the SIM gets. */
static void
job_fail(struct proxy_job *j, int status, const char *what)
{
	struct store *st = j->pw->w->store;

	events_record(st, EV_UPSTREAM_ERROR, j->iccid, j->peer, "%s %s%s%s: %s",
	    j->method == EVHTTP_REQ_GET ? "GET" : "POST", j->t->url.host_header, j->t->url.base,
	    j->path, what);
	job_reply(j, status, status == 504 ? "upstream_timeout" : "upstream_error", what, NULL);
}

/* A connection is free again: it takes the next waiting request, if any. */
static void
conn_release(struct proxy_conn *pc)
{
	struct proxy_target *t = pc->t;
	struct proxy_job *next;

	pc->job = NULL;
	if (!pc->retired)
		pc->used = 1;
	if ((next = TAILQ_FIRST(&t->waiting)) != NULL) {
		TAILQ_REMOVE(&t->waiting, next, qnext);
		t->nwaiting--;
		next->queued = 0;
		job_start(next);
	}
}

/*
 * No Nagle delay on an upstream socket: a POST's headers and body can leave
 * as two TLS records, and the second would wait for the upstream's delayed
 * ACK (40 ms). The socket exists once the connect started: at once for an
 * IP address, after the lookup for a name (then from the first answer on).
 */
static void
conn_nodelay(struct proxy_conn *pc)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(pc->evcon);
	evutil_socket_t fd = bev != NULL ? bufferevent_getfd(bev) : -1;
	int one = 1;

	if (pc->nodelay || fd < 0)
		return;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0)
		pc->nodelay = 1;
}

static void
upstream_error_cb(enum evhttp_request_error err, void *arg)
{
	struct proxy_job *j = arg;

	j->failed = 1;
	j->err = err;
	j->sock_err = EVUTIL_SOCKET_ERROR(); /* libevent restores it for this callback */
}

static int
upstream_headers_cb(struct evhttp_request *req, void *arg)
{
	struct proxy_job *j = arg;
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Length");

	if (v == NULL || num_parse_u64z(v, 0, UINT64_MAX, &j->announced) != 0)
		j->announced = 0; /* evhttp refuses a malformed one itself */
	if (j->pc != NULL)
		conn_nodelay(j->pc);
	return 0;
}

static const char *
error_text(enum evhttp_request_error err)
{
	switch (err) {
	case EVREQ_HTTP_TIMEOUT: return "no answer in time";
	case EVREQ_HTTP_EOF: return "connection closed before the answer";
	case EVREQ_HTTP_INVALID_HEADER: return "malformed answer";
	case EVREQ_HTTP_BUFFER_ERROR: return "cannot connect, or the connection failed";
	case EVREQ_HTTP_REQUEST_CANCEL: return "cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG: return "answer too large";
	default: return "failed";
	}
}

/* The device gets the upstream's answer: status, ETag, Content-Type, body. */
static void
pass_answer(struct proxy_job *j, struct evhttp_request *ureq, int status)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(ureq);
	struct evbuffer *body = evhttp_request_get_input_buffer(ureq);
	struct evkeyvalq *out;
	const char *v;

	if (j->dreq != NULL && evhttp_request_get_connection(j->dreq) != NULL) {
		out = evhttp_request_get_output_headers(j->dreq);
		if ((v = evhttp_find_header(in, "ETag")) != NULL && proxy_header_ok(v, STORE_ETAG_SIZE + 8))
			evhttp_add_header(out, "ETag", v);
		if ((v = evhttp_find_header(in, "Content-Type")) != NULL &&
		    proxy_header_ok(v, PROXY_CTYPE_MAX))
			evhttp_add_header(out, "Content-Type", v);
		else if (evbuffer_get_length(body) > 0)
			evhttp_add_header(out, "Content-Type", "application/octet-stream");
	}
	log_info("%s: %s %s%s%s: upstream answered %d, %zu bytes", j->iccid,
	    j->method == EVHTTP_REQ_GET ? "GET" : "POST", j->t->url.host_header, j->t->url.base,
	    j->path, status, evbuffer_get_length(body));
	job_reply(j, status, NULL, NULL, status == 204 || status == 304 ? NULL : body);
}

/* The answer's body is over what a SIM takes: 502 with ZTP-Error, which the applet reports as FF02. */
static void
fail_too_large(struct proxy_job *j, uint64_t size)
{
	char what[160];

	snprintf(what, sizeof(what), "answer body of %llu bytes, over %d: not passed on",
	    (unsigned long long)size, PROXY_BODY_MAX);
	if (j->dreq != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(j->dreq), "ZTP-Error",
		    PROXY_ERROR_TOO_LARGE);
	job_fail(j, 502, what);
}

/* Why a request got no answer, for the event: TLS, DNS, the socket's error, or evhttp's. */
static void
failure_text(struct proxy_job *j, struct proxy_conn *pc, char *what, size_t cap)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(pc->evcon);
	unsigned long e = 0;
	int dns;

	if (pc->t->url.https && bev != NULL)
		e = bufferevent_get_openssl_error(bev);
	if (e != 0) {
		snprintf(what, cap, "TLS: %s",
		    ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "error");
	} else if (bev != NULL && (dns = bufferevent_socket_get_dns_error(bev)) != 0) {
		snprintf(what, cap, "cannot resolve %s: %s", pc->t->url.host, evutil_gai_strerror(dns));
	} else if (!j->failed) {
		/* evhttp reports a connect refused at once without an error */
		snprintf(what, cap, "cannot connect");
	} else if (j->err == EVREQ_HTTP_EOF && j->sock_err != 0) {
		/* and a failed connect, or a reset, as an EOF with the socket's error */
		snprintf(what, cap, "%s: %s", pc->used ? "connection failed" : "cannot connect",
		    evutil_socket_error_to_string(j->sock_err));
	} else {
		snprintf(what, cap, "%s", error_text(j->err));
	}
}

/* evhttp is done with the upstream request: an answer, or NULL on failure. */
static void
upstream_done_cb(struct evhttp_request *ureq, void *arg)
{
	struct proxy_job *j = arg;
	struct proxy_conn *pc = j->pc;
	int status = ureq != NULL ? evhttp_request_get_response_code(ureq) : 0;
	int kept = pc->used;
	size_t len;
	char what[160];

	j->ureq = NULL;
	j->pc = NULL;
	if (status <= 0) {
		/* evhttp reset the connection; never reuse it */
		conn_retire(pc);
		if (j->failed && j->err == EVREQ_HTTP_DATA_TOO_LONG && j->announced > PROXY_BODY_MAX) {
			/* certain: announced (an unannounced one is read up to PROXY_READ_MAX) */
			conn_release(pc);
			fail_too_large(j, j->announced);
			return;
		}
		if (j->failed && j->err == EVREQ_HTTP_DATA_TOO_LONG) {
			/* evhttp says so of a malformed chunked answer too: a failure to retry */
			conn_release(pc);
			snprintf(what, sizeof(what), "malformed answer, or a body over %d bytes",
			    PROXY_READ_MAX);
			job_fail(j, 502, what);
			return;
		}
		if (j->failed && j->err == EVREQ_HTTP_TIMEOUT) {
			conn_release(pc);
			job_fail(j, 504, error_text(j->err));
			return;
		}
		/*
		 * A kept-alive connection the upstream had closed: a GET goes again,
		 * on a new connection (the slot this one frees), before the queue.
		 */
		if (kept && j->method == EVHTTP_REQ_GET && j->tries < PROXY_TRIES) {
			j->failed = 0;
			j->fresh = 1;
			job_start(j);
			conn_release(pc);
			return;
		}
		conn_release(pc);
		failure_text(j, pc, what, sizeof(what));
		job_fail(j, 502, what);
		return;
	}
	conn_release(pc);
	if (proxy_map_status(status) != PROXY_PASS) {
		snprintf(what, sizeof(what), "upstream answered %d", status);
		job_fail(j, 502, what);
		return;
	}
	if ((len = evbuffer_get_length(evhttp_request_get_input_buffer(ureq))) > PROXY_BODY_MAX) {
		fail_too_large(j, len);
		return;
	}
	pass_answer(j, ureq, status);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_job *j = arg;
	struct proxy_conn *pc = j->pc;

	if (j->ureq != NULL) {
		/* evhttp resets the connection and frees the request, without its callback */
		evhttp_cancel_request(j->ureq);
		j->ureq = NULL;
		j->pc = NULL;
		conn_retire(pc);
		conn_release(pc);
	}
	job_fail(j, 504, j->queued ? "no upstream connection free in time" : "no answer in time");
}

/* Send j on a free connection, or queue it; on failure j is answered. */
static void
job_start(struct proxy_job *j)
{
	struct proxy_target *t = j->t;
	const struct config *cfg = j->pw->w->srv->cfg;
	struct proxy_conn *pc;
	struct evkeyvalq *h;
	struct evbuffer *out;
	char uri[PROXY_URI_MAX];

	pc = NULL;
	if (!j->fresh)
		LIST_FOREACH(pc, &t->conns, next)
			if (pc->job == NULL)
				break;
	if (pc == NULL && t->nconns < cfg->upstream_connections && (pc = conn_new(t)) == NULL) {
		job_fail(j, 502, "cannot open a connection");
		return;
	}
	if (pc == NULL) {
		if (t->nwaiting >= cfg->upstream_connections * PROXY_QUEUE_PER_CONN) {
			job_fail(j, 503, "every upstream connection busy and the queue full");
			return;
		}
		if (j->fresh) /* a retry was already waiting its turn */
			TAILQ_INSERT_HEAD(&t->waiting, j, qnext);
		else
			TAILQ_INSERT_TAIL(&t->waiting, j, qnext);
		t->nwaiting++;
		j->queued = 1;
		return;
	}
	if (proxy_uri_join(&t->url, j->path, uri, sizeof(uri)) != 0 ||
	    (j->ureq = evhttp_request_new(upstream_done_cb, j)) == NULL) {
		job_fail(j, 502, "the upstream request cannot be built");
		return;
	}
	j->tries++;
	j->pc = pc;
	pc->job = j;
	evhttp_request_set_error_cb(j->ureq, upstream_error_cb);
	evhttp_request_set_header_cb(j->ureq, upstream_headers_cb);
	h = evhttp_request_get_output_headers(j->ureq);
	evhttp_add_header(h, "Host", t->url.host_header);
	evhttp_add_header(h, "ZTP-ICCID", j->iccid);
	evhttp_add_header(h, "ZTP-Device-ID", j->device_id);
	if (j->generation[0] != '\0')
		evhttp_add_header(h, "ZTP-PSK-Generation", j->generation);
	if (j->udid[0] != '\0')
		evhttp_add_header(h, "ZTP-UDID", j->udid);
	if (j->inm[0] != '\0')
		evhttp_add_header(h, "If-None-Match", j->inm);
	if (j->method == EVHTTP_REQ_POST) {
		evhttp_add_header(h, "Content-Type",
		    j->ctype[0] ? j->ctype : "application/octet-stream");
		evbuffer_add(evhttp_request_get_output_buffer(j->ureq), j->body, j->bodylen);
	}
	if (evhttp_make_request(pc->evcon, j->ureq, j->method, uri) != 0) {
		/*
		 * evhttp frees the request when it cannot copy the URI, not when
		 * the connect fails at once (a file descriptor limit): it may leak
		 * then, as freeing it here could free it twice.
		 */
		j->ureq = NULL;
		j->pc = NULL;
		conn_retire(pc);
		conn_release(pc);
		job_fail(j, 502, "the upstream request cannot be sent");
		return;
	}
	conn_nodelay(pc);
	/* on a kept-alive connection the request is queued now: one TLS record for head and body */
	out = bufferevent_get_output(evhttp_connection_get_bufferevent(pc->evcon));
	if (evbuffer_get_length(out) <= PROXY_READ_MAX)
		evbuffer_pullup(out, -1);
}

int
proxy_forward(struct worker *w, struct conn *c, struct evhttp_request *req,
    const struct store_upstream *u, const struct store_sim *sim, const struct devroute *r,
    const uint8_t *body, size_t bodylen)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct timeval tv = { w->srv->cfg->upstream_timeout, 0 };
	struct proxy_worker *pw;
	struct proxy_target *t;
	struct proxy_job *j;
	const char *v;
	char why[160];

	if ((pw = worker_state(w)) == NULL || (j = calloc(1, sizeof(*j))) == NULL) {
		http_reply_error(req, 503, "unavailable", "out of memory");
		return ZTP_ENOMEM;
	}
	if ((t = target_get(pw, u, why, sizeof(why))) == NULL) {
		free(j);
		events_record(w->store, EV_UPSTREAM_ERROR, sim->iccid, c->peer, "upstream %s: %s",
		    u->url, why);
		http_reply_error(req, 502, "upstream_error", "the upstream cannot be used");
		return ZTP_EINVAL;
	}
	j->pw = pw;
	j->t = t;
	j->c = c;
	j->dreq = req;
	j->method = evhttp_request_get_command(req);
	snprintf(j->iccid, sizeof(j->iccid), "%s", sim->iccid);
	snprintf(j->device_id, sizeof(j->device_id), "%s", r->device_id);
	/* a PSK's generation, or the UDID of a certificate of ours (--device-cert-auth) */
	if (c->have_id)
		snprintf(j->generation, sizeof(j->generation), "%u", sim->psk_generation);
	else if (c->est_peer == EST_PEER_OURS)
		snprintf(j->udid, sizeof(j->udid), "%s", c->est_udid);
	snprintf(j->peer, sizeof(j->peer), "%s", c->peer);
	/* the SIM's own headers, checked; anything named ZTP-* is never passed on */
	if ((v = evhttp_find_header(in, "If-None-Match")) != NULL &&
	    proxy_header_ok(v, sizeof(j->inm) - 1))
		snprintf(j->inm, sizeof(j->inm), "%s", v);
	if ((v = evhttp_find_header(in, "Content-Type")) != NULL && proxy_header_ok(v, PROXY_CTYPE_MAX))
		snprintf(j->ctype, sizeof(j->ctype), "%s", v);
	/* the path as ztpd rebuilds it from the route: no byte of the SIM's own */
	if (proxy_device_path(r, j->path, sizeof(j->path)) != 0 || bodylen > sizeof(j->body)) {
		free(j);
		http_reply_error(req, 400, "bad_request", "request cannot be forwarded");
		return ZTP_EINVAL;
	}
	if (bodylen > 0)
		memcpy(j->body, body, bodylen);
	j->bodylen = bodylen;
	if ((j->timer = evtimer_new(w->base, deadline_cb, j)) == NULL) {
		free(j);
		http_reply_error(req, 503, "unavailable", "out of memory");
		return ZTP_ENOMEM;
	}
	LIST_INSERT_HEAD(&pw->jobs, j, next);
	c->proxy = j;
	conn_watch_close(c, req);
	/* the device's connection waits as long as the upstream may take */
	conn_extend_deadline(c, w->srv->cfg->upstream_timeout + 1);
	evtimer_add(j->timer, &tv);
	job_start(j);
	return 0;
}

int
proxy_pending(struct worker *w)
{
	return w->proxy != NULL && !LIST_EMPTY(&w->proxy->jobs);
}

void
proxy_conn_closing(struct conn *c)
{
	struct proxy_job *j = c->proxy;

	if (j == NULL)
		return;
	/* still attached: evhttp frees it with the connection; detached: ours */
	if (j->dreq != NULL && evhttp_request_get_connection(j->dreq) != NULL)
		j->dreq = NULL;
}

void
proxy_conn_gone(struct conn *c)
{
	struct proxy_job *j = c->proxy;

	if (j != NULL)
		j->c = NULL;
	c->proxy = NULL;
}

void
proxy_worker_free(struct worker *w)
{
	struct proxy_worker *pw = w->proxy;
	struct proxy_target *t;
	struct proxy_job *j;

	if (pw == NULL)
		return;
	while ((j = LIST_FIRST(&pw->jobs)) != NULL) {
		if (j->dreq != NULL && evhttp_request_get_connection(j->dreq) == NULL)
			evhttp_request_free(j->dreq);
		j->dreq = NULL;
		job_free(j);
	}
	while ((t = TAILQ_FIRST(&pw->targets)) != NULL) {
		TAILQ_REMOVE(&pw->targets, t, next);
		target_free(t);
	}
	reap_cb(-1, 0, pw);
	event_free(pw->reap);
	if (pw->dns != NULL)
		evdns_base_free(pw->dns, 0);
	free(pw);
	w->proxy = NULL;
}
