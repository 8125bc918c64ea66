/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host side of the SAFE2 applet's network access: one attempt of an
 * HTTP/1.1 request over TLS 1.3 with an external PSK, on libevent
 * (evdns, evhttp over an OpenSSL bufferevent). See ztp/transport.h.
 *
 * An attempt goes through these states, one slot per job:
 *
 *   ATT_IDLE --transport_start--> ATT_STARTING   (a deferred step: the
 *       callback never runs inside transport_start)
 *   ATT_STARTING --> ATT_RESOLVING               (evdns, for a name that is
 *       not in the cache) --> ATT_REQUESTING      (evhttp)
 *   ATT_REQUESTING --> ATT_FINISHING             (outcome decided inside an
 *       evhttp callback; the connection is freed from the next deferred
 *       step, outside evhttp, which does not allow freeing it from its
 *       own callbacks)
 *   any state --deadline, or finishing step--> ATT_IDLE, then the callback.
 *
 * Bytes on the wire are counted on the SSL's socket BIO, which the
 * bufferevent creates when it connects and replaces (freeing it) when evhttp
 * resets the connection: the BIO is hooked when the handshake starts and its
 * counts are taken when it is freed, or when the attempt finishes, whichever
 * comes first (see bio_hook()).
 *
 * What must be known about the response is taken in the header callback,
 * while the TLS session is live: on "Connection: close" evhttp resets the
 * connection (and the bufferevent calls SSL_clear) before it reports the
 * completed request. That is also where PSK rotation will read its
 * header and the TLS exporter (see on_headers()).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "crypto.h"
#include "num.h"
#include "ztp/err.h"
#include "ztp/transport.h"

#define SUITE_CCM "TLS_AES_128_CCM_SHA256"
#define SUITE_GCM "TLS_AES_128_GCM_SHA256"
#define DNS_CACHE_SIZE 4

enum att_state { ATT_IDLE, ATT_STARTING, ATT_RESOLVING, ATT_REQUESTING, ATT_FINISHING };

/*
 * The argument of an evdns request. evdns always calls back, even after
 * evdns_cancel_request() or evdns_base_free(), possibly after the
 * transport is gone: the ticket is on the heap, cancelling sets t to NULL
 * and the callback frees it.
 */
struct dns_ticket {
	struct transport *t; /* NULL: abandoned */
	enum safe2_job job;
};

struct dns_entry {
	char host[SAFE2_HOST_MAX + 1]; /* "": free slot */
	struct in_addr addr;
	uint64_t expires_ms; /* monotonic */
};

struct attempt {
	/* set once by transport_new */
	struct transport *t;
	enum safe2_job job;
	struct event *step;     /* deferred work: start, finish */
	struct event *deadline; /* the attempt's time-out */

	/* everything below is reset by transport_start */
	enum att_state state;
	transport_done_cb cb;
	void *cb_arg;
	uint64_t started_ms;

	/* the request, copied */
	char host[SAFE2_HOST_MAX + 1];
	uint16_t port;
	uint8_t identity[SAFE2_IDENTITY_MAX];
	size_t identity_len;
	uint8_t psk[SAFE2_PSK_MAX];
	size_t psk_len;
	int post;
	char target[SAFE2_TARGET_MAX];
	uint8_t body[SAFE2_BODY_MAX];
	size_t body_len;
	char if_none_match[SAFE2_ETAG_MAX + 1]; /* "": none */

	/* in flight */
	struct dns_ticket *ticket;
	struct evdns_request *dns_req;
	struct evhttp_connection *evcon; /* owns the bufferevent, which owns ssl */
	SSL *ssl;
	BIO *bio; /* the socket BIO being counted; NULL: none (or already counted) */

	/* what happened */
	struct transport_info info;
	int decided;
	enum safe2_outcome outcome;
	int alert_seen;
	uint8_t alert;
	int headers_done;
	int too_large;
	int status;
	uint8_t rbody[SAFE2_BODY_MAX];
	size_t rbody_len;
	char etag[SAFE2_ETAG_MAX + 1]; /* "": none */
	uint32_t rotate_gen; /* ZTP-PSK-Rotate: 0 none */
	uint8_t rotate_key[TRANSPORT_ROTATE_KEY_LEN];
};

struct transport {
	struct event_base *base;
	struct transport_opts opts;
	char nameserver[TRANSPORT_NAMESERVER_MAX + 1];
	SSL_CTX *ctx;
	struct evdns_base *dns; /* NULL: names cannot be resolved */
	struct dns_entry cache[DNS_CACHE_SIZE];
	struct attempt att[SAFE2_JOBS];
	struct transport_info last[SAFE2_JOBS];
	int have_last[SAFE2_JOBS];
};

static void finish(struct attempt *a);

static const char *
job_name(enum safe2_job job)
{
	return job == SAFE2_JOB_CONFIG ? "config" : "telemetry";
}

static void tlog(const struct transport *t, enum transport_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Log through the integrator's callback; messages never carry the PSK. */
static void
tlog(const struct transport *t, enum transport_log_level level, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (t->opts.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->opts.log(t->opts.log_arg, level, msg);
}

void
transport_opts_defaults(struct transport_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = TRANSPORT_TIMEOUT_MS_DEFAULT;
	o->dns_ttl_fallback_s = TRANSPORT_DNS_TTL_FALLBACK_S_DEFAULT;
}

/* ---- DNS cache: a few entries, one per host name, expiring with the TTL */

static struct dns_entry *
cache_find(struct transport *t, const char *host)
{
	uint64_t now = (uint64_t)clock_mono_ms();
	size_t i;

	for (i = 0; i < DNS_CACHE_SIZE; i++)
		if (t->cache[i].host[0] != '\0' && !strcasecmp(t->cache[i].host, host) &&
		    t->cache[i].expires_ms > now)
			return &t->cache[i];
	return NULL;
}

/* Keep host -> addr for ttl_s seconds, in host's slot, a free or expired one, or the oldest. */
static void
cache_put(struct transport *t, const char *host, struct in_addr addr, uint32_t ttl_s)
{
	struct dns_entry *e = NULL;
	uint64_t now = (uint64_t)clock_mono_ms();
	size_t i;

	for (i = 0; i < DNS_CACHE_SIZE && e == NULL; i++)
		if (!strcasecmp(t->cache[i].host, host))
			e = &t->cache[i];
	for (i = 0; i < DNS_CACHE_SIZE && e == NULL; i++)
		if (t->cache[i].host[0] == '\0' || t->cache[i].expires_ms <= now)
			e = &t->cache[i];
	if (e == NULL) {
		e = &t->cache[0];
		for (i = 1; i < DNS_CACHE_SIZE; i++)
			if (t->cache[i].expires_ms < e->expires_ms)
				e = &t->cache[i];
	}
	snprintf(e->host, sizeof(e->host), "%s", host);
	e->addr = addr;
	e->expires_ms = now + (uint64_t)ttl_s * 1000;
}

static void
cache_evict(struct transport *t, const char *host)
{
	size_t i;

	for (i = 0; i < DNS_CACHE_SIZE; i++)
		if (!strcasecmp(t->cache[i].host, host))
			memset(&t->cache[i], 0, sizeof(t->cache[i]));
}

/* ---- TLS */

/* A server certificate is never accepted: the server must prove the PSK. */
static int
refuse_certificate(int preverify_ok, X509_STORE_CTX *x509_ctx)
{
	return 0;
}

static int
is_sha256(const EVP_MD *md)
{
	return md != NULL && EVP_MD_get_type(md) == NID_sha256;
}

/*
 * OpenSSL asks for the external PSK to offer: a session holding the key,
 * the preferred suite (a SHA-256 one, which both offered suites are) and
 * TLS 1.3, with the request's identity. md is the hash of the suite
 * already chosen after a HelloRetryRequest: only SHA-256 fits this PSK.
 */
static int
use_session(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
    SSL_SESSION **sess)
{
	static const unsigned char ccm_id[] = { 0x13, 0x04 }, gcm_id[] = { 0x13, 0x01 };
	struct attempt *a = SSL_get_app_data(ssl);
	const SSL_CIPHER *cipher;
	SSL_SESSION *s;

	*sess = NULL;
	if (a == NULL)
		return 0;
	cipher = SSL_CIPHER_find(ssl, a->t->opts.prefer_gcm ? gcm_id : ccm_id);
	if (cipher == NULL || !is_sha256(SSL_CIPHER_get_handshake_digest(cipher)))
		return 0;
	if (md != NULL && !is_sha256(md))
		return 1; /* no PSK for this hash: the handshake fails */
	if ((s = crypto_psk_session(cipher, a->psk, a->psk_len)) == NULL)
		return 0;
	*sess = s;
	*id = a->identity;
	*idlen = a->identity_len;
	return 1;
}

/* Record what the handshake did: the PSK was used, the suite, the key exchange. */
static void
note_handshake(struct attempt *a, SSL *ssl)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	EVP_PKEY *peer_share = NULL;

	a->info.handshake_done = SSL_session_reused(ssl) == 1;
	a->info.cipher = c != NULL ? SSL_CIPHER_get_name(c) : NULL;
	/* psk_ke: the ServerHello carried no key share */
	if (SSL_get_peer_tmp_key(ssl, &peer_share) == 1) {
		EVP_PKEY_free(peer_share);
		a->info.psk_ke = 0;
	} else {
		a->info.psk_ke = 1;
	}
}

/*
 * Add the socket BIO's counts to the attempt's and stop watching it. Called
 * when the BIO is about to be freed (evhttp resets the connection, or the
 * connection is freed) and when the attempt finishes, so that a BIO freed
 * later, after the slot was reused, never touches the attempt.
 */
static void
bio_unhook(struct attempt *a)
{
	if (a->bio == NULL)
		return;
	a->info.bytes_in += BIO_number_read(a->bio);
	a->info.bytes_out += BIO_number_written(a->bio);
	BIO_set_callback_ex(a->bio, NULL);
	BIO_set_callback_arg(a->bio, NULL);
	a->bio = NULL;
}

static long
bio_cb(BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret,
    size_t *processed)
{
	struct attempt *a = (struct attempt *)BIO_get_callback_arg(b);

	if (oper == BIO_CB_FREE && a != NULL && a->bio == b)
		bio_unhook(a);
	return ret; /* for BIO_CB_FREE: a value <= 0 would keep the BIO */
}

/*
 * Watch the SSL's socket BIO (read and write are the same BIO; the
 * handshake's buffering BIO sits above it and is not counted twice).
 */
static void
bio_hook(struct attempt *a, SSL *ssl)
{
	BIO *b = SSL_get_rbio(ssl);

	if (b == NULL || a->bio == b)
		return;
	bio_unhook(a);
	a->bio = b;
	BIO_set_callback_arg(b, (char *)a);
	BIO_set_callback_ex(b, bio_cb);
}

/* Fatal alerts from the server become SAFE2_OUT_ALERT; ours are only logged. */
static void
info_cb(const SSL *cssl, int where, int ret)
{
	SSL *ssl = (SSL *)cssl;
	struct attempt *a = SSL_get_app_data(ssl);

	if (a == NULL)
		return;
	/*
	 * The socket exists by now: without TCP_NODELAY the request, written
	 * right after the client Finished, waits for the server's delayed ACK.
	 */
	if (where & SSL_CB_HANDSHAKE_START) {
		int fd = SSL_get_fd(ssl), one = 1;
		if (fd >= 0)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		bio_hook(a, ssl);
	}
	if ((where & SSL_CB_ALERT) && (ret >> 8) == SSL3_AL_FATAL) {
		if ((where & SSL_CB_READ) && !a->alert_seen) {
			a->alert_seen = 1;
			a->alert = (uint8_t)(ret & 0xff);
		}
		tlog(a->t, TRANSPORT_LOG_INFO, "%s: TLS alert %d (%s) %s %s:%u", job_name(a->job),
		    ret & 0xff, SSL_alert_desc_string_long(ret),
		    (where & SSL_CB_READ) ? "received from" : "sent to", a->info.addr, a->port);
	}
	if (where & SSL_CB_HANDSHAKE_DONE)
		note_handshake(a, ssl);
}

static SSL_CTX *
ctx_new(const struct transport_opts *o)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx,
		o->prefer_gcm ? SUITE_GCM ":" SUITE_CCM : SUITE_CCM ":" SUITE_GCM) ||
	    (o->psk_ke && !SSL_CTX_set1_groups_list(ctx, "ffdhe2048"))) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/*
	 * psk_ke: an OpenSSL 3.0 client always sends a key share. Offer only
	 * ffdhe2048, which ztpd does not use for (EC)DHE, and allow psk_ke:
	 * the server has no usable share and completes without (EC)DHE where
	 * its policy allows psk_ke, or refuses the handshake.
	 */
	if (o->psk_ke)
		SSL_CTX_set_options(ctx, SSL_OP_ALLOW_NO_DHE_KEX);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, refuse_certificate);
	SSL_CTX_set_psk_use_session_callback(ctx, use_session);
	SSL_CTX_set_info_callback(ctx, info_cb);
	return ctx;
}

/* ---- checks of a request */

static int
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.';
}

/* Visible ASCII only (no space, no control): safe in a request line or header. */
static int
is_visible(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static int
host_valid(const char *host)
{
	struct in6_addr v6;
	size_t len, i;

	if (host == NULL || (len = strnlen(host, SAFE2_HOST_MAX + 1)) == 0 || len > SAFE2_HOST_MAX)
		return 0;
	if (inet_pton(AF_INET6, host, &v6) == 1)
		return 1;
	if (host[0] == '-' || host[0] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (!is_name_char(host[i]))
			return 0;
	return 1;
}

static int
etag_valid(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= SAFE2_ETAG_MAX && is_visible(s, len);
}

static int
req_valid(const struct safe2_http_req *r)
{
	size_t tlen;

	if (!host_valid(r->host) || r->port == 0)
		return 0;
	if (r->identity == NULL || r->identity_len == 0 || r->identity_len > SAFE2_IDENTITY_MAX)
		return 0;
	if (r->psk == NULL || r->psk_len < SAFE2_PSK_MIN || r->psk_len > SAFE2_PSK_MAX)
		return 0;
	if (r->method == NULL || (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0))
		return 0;
	if (r->target == NULL || r->target[0] != '/' ||
	    (tlen = strnlen(r->target, SAFE2_TARGET_MAX)) >= SAFE2_TARGET_MAX ||
	    !is_visible(r->target, tlen))
		return 0;
	if (r->body_len > SAFE2_BODY_MAX || (r->body_len > 0 && r->body == NULL) ||
	    (r->body_len > 0 && strcmp(r->method, "POST") != 0))
		return 0;
	if (r->if_none_match != NULL &&
	    (strnlen(r->if_none_match, SAFE2_ETAG_MAX + 1) > SAFE2_ETAG_MAX ||
		!etag_valid(r->if_none_match)))
		return 0;
	return 1;
}

/* ---- the attempt */

/* The outcome is known (the first decision stands); finish from the next step. */
static void
decide(struct attempt *a, enum safe2_outcome outcome)
{
	if (!a->decided) {
		a->decided = 1;
		a->outcome = outcome;
	}
	a->state = ATT_FINISHING;
	event_active(a->step, EV_TIMEOUT, 1);
}

/* No complete response: an alert from the server, a body too large, or transient. */
static void
decide_failure(struct attempt *a)
{
	if (a->alert_seen)
		decide(a, SAFE2_OUT_ALERT);
	else if (a->too_large)
		decide(a, SAFE2_OUT_TOO_LARGE);
	else
		decide(a, SAFE2_OUT_TRANSIENT);
}

/*
 * Headers are in: the handshake has completed and the session is live.
 * Returning -1 makes evhttp drop the connection (then on_error(EOF) and
 * on_response(NULL)).
 */
static int
on_headers(struct evhttp_request *req, void *arg)
{
	struct attempt *a = arg;
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	int status = evhttp_request_get_response_code(req);
	const char *v;
	uint64_t len;

	if (a->state != ATT_REQUESTING)
		return -1;
	a->headers_done = 1;
	if (a->ssl == NULL || SSL_session_reused(a->ssl) != 1) {
		tlog(a->t, TRANSPORT_LOG_WARN, "%s: response without PSK authentication",
		    job_name(a->job));
		return -1;
	}
	/*
	 * ztpd in proxy mode refused an upstream's body over the limit: the
	 * same failure as a body announced too large (FF02), not a 5xx to retry
	 */
	if (status == 502 && (v = evhttp_find_header(h, "ZTP-Error")) != NULL &&
	    strcmp(v, "body-too-large") == 0) {
		tlog(a->t, TRANSPORT_LOG_INFO, "%s: the server's upstream answered a body over %d bytes",
		    job_name(a->job), SAFE2_BODY_MAX);
		a->too_large = 1;
		return -1;
	}
	/* a body is announced too large: refuse before reading it */
	if (status >= 200 && status != 204 && status != 304 &&
	    (v = evhttp_find_header(h, "Content-Length")) != NULL) {
		if (num_parse_u64z(v, 0, UINT64_MAX, &len) != 0) {
			tlog(a->t, TRANSPORT_LOG_INFO, "%s: malformed Content-Length",
			    job_name(a->job));
			return -1;
		}
		if (len > SAFE2_BODY_MAX) {
			tlog(a->t, TRANSPORT_LOG_INFO, "%s: response body of %llu bytes, over %d",
			    job_name(a->job), (unsigned long long)len, SAFE2_BODY_MAX);
			a->too_large = 1;
			return -1;
		}
	}
	/* as received, quotes included; too long or not printable: absent */
	if ((v = evhttp_find_header(h, "ETag")) != NULL && etag_valid(v))
		snprintf(a->etag, sizeof(a->etag), "%s", v);
	/*
	 * PSK rotation (spec section 6), while the session is live: the next
	 * key from this session's exporter, context the generation in ASCII.
	 */
	if ((v = evhttp_find_header(h, "ZTP-PSK-Rotate")) != NULL) {
		static const char label[] = "EXPORTER-ztp-psk-rotate";
		uint64_t gen;
		if (num_parse_u64z(v, 1, UINT32_MAX, &gen) == 0 &&
		    SSL_export_keying_material(a->ssl, a->rotate_key, sizeof(a->rotate_key), label,
			sizeof(label) - 1, (const unsigned char *)v, strlen(v), 1) == 1) {
			a->rotate_gen = (uint32_t)gen;
			tlog(a->t, TRANSPORT_LOG_INFO, "%s: key generation %s offered",
			    job_name(a->job), v);
		} else {
			tlog(a->t, TRANSPORT_LOG_WARN, "%s: unusable ZTP-PSK-Rotate header",
			    job_name(a->job));
		}
	}
	return 0;
}

static const char *
evreq_error_name(enum evhttp_request_error err)
{
	switch (err) {
	case EVREQ_HTTP_TIMEOUT:
		return "time-out";
	case EVREQ_HTTP_EOF:
		return "connection closed";
	case EVREQ_HTTP_INVALID_HEADER:
		return "invalid or too large response header";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "I/O error";
	case EVREQ_HTTP_REQUEST_CANCEL:
		return "cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "response body too large or malformed";
	}
	return "error";
}

/*
 * evhttp failed the request; on_response(NULL) follows. After the headers,
 * libevent reports a body over the limit as DATA_TOO_LONG (as well as a
 * malformed chunked encoding, which it does not tell apart).
 */
static void
on_error(enum evhttp_request_error err, void *arg)
{
	struct attempt *a = arg;

	if (a->state != ATT_REQUESTING)
		return;
	if (err == EVREQ_HTTP_DATA_TOO_LONG && a->headers_done)
		a->too_large = 1;
	tlog(a->t, TRANSPORT_LOG_DEBUG, "%s: %s", job_name(a->job), evreq_error_name(err));
}

/*
 * The request is over. req is NULL after on_error(), or has no response
 * code when the connection failed; evhttp frees req after this returns.
 */
static void
on_response(struct evhttp_request *req, void *arg)
{
	struct attempt *a = arg;
	struct evbuffer *in;
	size_t n;

	if (a->state != ATT_REQUESTING)
		return;
	if (req == NULL || !a->headers_done || evhttp_request_get_response_code(req) <= 0) {
		if (!a->alert_seen && !a->too_large)
			tlog(a->t, TRANSPORT_LOG_INFO, "%s: no response from %s:%u%s",
			    job_name(a->job), a->info.addr, a->port,
			    a->info.handshake_done ? "" : " (connect or handshake failed)");
		decide_failure(a);
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(in);
	if (n > SAFE2_BODY_MAX) { /* evhttp's own limit makes this unreachable */
		a->too_large = 1;
		decide_failure(a);
		return;
	}
	if (n > 0 && evbuffer_copyout(in, a->rbody, n) != (ev_ssize_t)n) {
		decide_failure(a);
		return;
	}
	a->rbody_len = n;
	a->status = evhttp_request_get_response_code(req);
	decide(a, SAFE2_OUT_HTTP);
}

static int
add_header(struct evkeyvalq *h, const char *key, const char *value)
{
	return evhttp_add_header(h, key, value) == 0 ? 0 : ZTP_ENOMEM;
}

/*
 * Connect to a->info.addr (numeric) and send the request. Failures are
 * decided (transient) here; evhttp may also call on_response() from
 * inside evhttp_make_request() when the connection fails at once.
 */
static void
connect_and_send(struct attempt *a)
{
	struct transport *t = a->t;
	struct bufferevent *bev = NULL;
	struct evhttp_request *req = NULL;
	struct evkeyvalq *h;
	struct timeval tv;
	struct in_addr v4;
	struct in6_addr v6;
	char hosthdr[SAFE2_HOST_MAX + 9], num[24];
	SSL *ssl = NULL;
	int v6host = inet_pton(AF_INET6, a->host, &v6) == 1;

	if ((ssl = SSL_new(t->ctx)) == NULL)
		goto fail;
	SSL_set_app_data(ssl, a);
	/* SNI for a name, for a TLS-routing load balancer; never for an address */
	if (!v6host && inet_pton(AF_INET, a->host, &v4) != 1 &&
	    !SSL_set_tlsext_host_name(ssl, a->host))
		goto fail;
	bev = bufferevent_openssl_socket_new(t->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) /* libevent 2.1 does not free ssl on failure */
		goto fail;
	a->ssl = ssl;
	ssl = NULL; /* owned by bev */
	a->evcon = evhttp_connection_base_bufferevent_new(t->base, t->dns, bev, a->info.addr,
	    a->port);
	if (a->evcon == NULL)
		goto fail;
	bev = NULL; /* owned by evcon */
	tv.tv_sec = t->opts.timeout_ms / 1000;
	tv.tv_usec = (t->opts.timeout_ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(a->evcon, &tv);
	evhttp_connection_set_retries(a->evcon, 0);
	evhttp_connection_set_max_headers_size(a->evcon, TRANSPORT_HEADERS_MAX);
	evhttp_connection_set_max_body_size(a->evcon, SAFE2_BODY_MAX);

	if ((req = evhttp_request_new(on_response, a)) == NULL)
		goto fail;
	evhttp_request_set_header_cb(req, on_headers);
	evhttp_request_set_error_cb(req, on_error);
	h = evhttp_request_get_output_headers(req);
	snprintf(hosthdr, sizeof(hosthdr), v6host ? "[%s]:%u" : "%s:%u", a->host, a->port);
	if (add_header(h, "Host", hosthdr) != 0 || add_header(h, "Connection", "close") != 0 ||
	    (a->if_none_match[0] != '\0' && add_header(h, "If-None-Match", a->if_none_match) != 0))
		goto fail;
	if (a->post) {
		snprintf(num, sizeof(num), "%zu", a->body_len);
		if (add_header(h, "Content-Length", num) != 0 ||
		    evbuffer_add(evhttp_request_get_output_buffer(req), a->body, a->body_len) != 0)
			goto fail;
	}
	a->state = ATT_REQUESTING;
	if (evhttp_make_request(a->evcon, req, a->post ? EVHTTP_REQ_POST : EVHTTP_REQ_GET,
		a->target) != 0) {
		/* req is freed or dropped by evhttp; the connection goes in finish() */
		req = NULL;
		goto fail;
	}
	return;
fail:
	if (req != NULL)
		evhttp_request_free(req);
	if (bev != NULL) { /* frees a->ssl */
		SSL_set_app_data(a->ssl, NULL);
		a->ssl = NULL;
		bufferevent_free(bev);
	}
	SSL_free(ssl);
	ERR_clear_error();
	tlog(t, TRANSPORT_LOG_WARN, "%s: cannot start the request", job_name(a->job));
	decide(a, SAFE2_OUT_TRANSIENT);
}

static void
dns_cb(int result, char type, int count, int ttl, void *addresses, void *arg)
{
	struct dns_ticket *tk = arg;
	struct transport *t = tk->t;
	struct attempt *a;
	struct in_addr addr;
	uint32_t keep;

	if (t == NULL) { /* abandoned */
		free(tk);
		return;
	}
	a = &t->att[tk->job];
	free(tk);
	a->ticket = NULL;
	a->dns_req = NULL;
	if (a->state != ATT_RESOLVING)
		return;
	if (result != DNS_ERR_NONE || type != DNS_IPv4_A || count < 1 || addresses == NULL) {
		tlog(t, TRANSPORT_LOG_INFO, "%s: cannot resolve %s: %s", job_name(a->job), a->host,
		    result != DNS_ERR_NONE ? evdns_err_to_string(result) : "no address");
		decide(a, SAFE2_OUT_TRANSIENT);
		return;
	}
	memcpy(&addr, addresses, sizeof(addr));
	keep = ttl > 0 ? (uint32_t)ttl : t->opts.dns_ttl_fallback_s;
	if (keep > TRANSPORT_DNS_TTL_MAX_S)
		keep = TRANSPORT_DNS_TTL_MAX_S;
	if (keep > 0)
		cache_put(t, a->host, addr, keep);
	inet_ntop(AF_INET, &addr, a->info.addr, sizeof(a->info.addr));
	a->info.addr_from = TRANSPORT_ADDR_DNS;
	tlog(t, TRANSPORT_LOG_DEBUG, "%s: %s is %s (TTL %d s, kept %u s)", job_name(a->job),
	    a->host, a->info.addr, ttl, keep);
	connect_and_send(a);
}

/* Find the address: numeric, localhost, the cache, or ask evdns. */
static void
resolve(struct attempt *a)
{
	struct transport *t = a->t;
	struct dns_entry *e;
	struct in_addr v4;
	struct in6_addr v6;

	if (inet_pton(AF_INET, a->host, &v4) == 1) {
		inet_ntop(AF_INET, &v4, a->info.addr, sizeof(a->info.addr));
		a->info.addr_from = TRANSPORT_ADDR_NUMERIC;
	} else if (inet_pton(AF_INET6, a->host, &v6) == 1) {
		inet_ntop(AF_INET6, &v6, a->info.addr, sizeof(a->info.addr));
		a->info.addr_from = TRANSPORT_ADDR_NUMERIC;
	} else if (!strcasecmp(a->host, "localhost")) {
		snprintf(a->info.addr, sizeof(a->info.addr), "127.0.0.1");
		a->info.addr_from = TRANSPORT_ADDR_LOCAL;
	} else if ((e = cache_find(t, a->host)) != NULL) {
		inet_ntop(AF_INET, &e->addr, a->info.addr, sizeof(a->info.addr));
		a->info.addr_from = TRANSPORT_ADDR_CACHE;
	} else {
		if (t->dns == NULL || (a->ticket = calloc(1, sizeof(*a->ticket))) == NULL) {
			tlog(t, TRANSPORT_LOG_WARN, "%s: cannot resolve %s: no resolver",
			    job_name(a->job), a->host);
			decide(a, SAFE2_OUT_TRANSIENT);
			return;
		}
		a->ticket->t = t;
		a->ticket->job = a->job;
		a->state = ATT_RESOLVING;
		a->dns_req = evdns_base_resolve_ipv4(t->dns, a->host, 0, dns_cb, a->ticket);
		if (a->dns_req == NULL) { /* no callback will come */
			free(a->ticket);
			a->ticket = NULL;
			tlog(t, TRANSPORT_LOG_WARN, "%s: cannot resolve %s", job_name(a->job),
			    a->host);
			decide(a, SAFE2_OUT_TRANSIENT);
		}
		return;
	}
	connect_and_send(a);
}

/* Stop everything the attempt holds; no callback. */
static void
teardown(struct attempt *a)
{
	if (a->step != NULL)
		event_del(a->step);
	if (a->deadline != NULL)
		event_del(a->deadline);
	if (a->ticket != NULL) {
		a->ticket->t = NULL; /* dns_cb frees it */
		if (a->dns_req != NULL)
			evdns_cancel_request(a->t->dns, a->dns_req);
		a->ticket = NULL;
		a->dns_req = NULL;
	}
	bio_unhook(a);
	if (a->ssl != NULL) {
		SSL_set_app_data(a->ssl, NULL);
		a->ssl = NULL;
	}
	if (a->evcon != NULL) {
		evhttp_connection_free(a->evcon);
		a->evcon = NULL;
	}
	OPENSSL_cleanse(a->psk, sizeof(a->psk));
	OPENSSL_cleanse(a->rotate_key, sizeof(a->rotate_key));
	a->psk_len = 0;
	a->rotate_gen = 0;
	a->state = ATT_IDLE;
}

static const char *
outcome_name(enum safe2_outcome o)
{
	switch (o) {
	case SAFE2_OUT_HTTP:
		return "http";
	case SAFE2_OUT_TRANSIENT:
		return "transient";
	case SAFE2_OUT_ALERT:
		return "alert";
	case SAFE2_OUT_TOO_LARGE:
		return "too_large";
	}
	return "?";
}

/*
 * Report the outcome: copy it out of the slot, free the slot, then call
 * back, so that the callback may start, cancel or free anything.
 */
static void
finish(struct attempt *a)
{
	struct transport *t = a->t;
	enum safe2_job job = a->job;
	transport_done_cb cb = a->cb;
	void *cb_arg = a->cb_arg;
	struct safe2_http_resp r;
	uint8_t body[SAFE2_BODY_MAX], rkey[TRANSPORT_ROTATE_KEY_LEN];
	char etag[SAFE2_ETAG_MAX + 1];

	if (!a->decided) {
		a->decided = 1;
		a->outcome = SAFE2_OUT_TRANSIENT;
	}
	memset(&r, 0, sizeof(r));
	r.outcome = a->outcome;
	if (r.outcome == SAFE2_OUT_HTTP) {
		r.status = a->status;
		memcpy(body, a->rbody, a->rbody_len);
		r.body = body;
		r.body_len = a->rbody_len;
		if (a->etag[0] != '\0') {
			memcpy(etag, a->etag, sizeof(etag));
			r.etag = etag;
		}
		if (a->rotate_gen != 0) {
			memcpy(rkey, a->rotate_key, sizeof(rkey));
			r.rotate_generation = a->rotate_gen;
			r.rotate_key = rkey;
			r.rotate_key_len = sizeof(rkey);
		}
	} else if (r.outcome == SAFE2_OUT_ALERT) {
		r.alert = a->alert;
	}
	/* the server did not answer at a resolved address: resolve again next time */
	if (r.outcome == SAFE2_OUT_TRANSIENT && !a->info.handshake_done &&
	    (a->info.addr_from == TRANSPORT_ADDR_CACHE || a->info.addr_from == TRANSPORT_ADDR_DNS))
		cache_evict(t, a->host);
	a->info.elapsed_ms = (uint32_t)((uint64_t)clock_mono_ms() - a->started_ms);
	bio_unhook(a);
	t->last[job] = a->info;
	t->have_last[job] = 1;
	tlog(t, TRANSPORT_LOG_DEBUG, "%s: %s %d (%zu bytes) in %u ms", job_name(job),
	    outcome_name(r.outcome), r.outcome == SAFE2_OUT_ALERT ? r.alert : r.status,
	    r.body_len, a->info.elapsed_ms);
	teardown(a);
	cb(cb_arg, job, &r);
	OPENSSL_cleanse(body, sizeof(body));
	OPENSSL_cleanse(rkey, sizeof(rkey));
}

static void
step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct attempt *a = arg;

	switch (a->state) {
	case ATT_STARTING:
		resolve(a);
		break;
	case ATT_FINISHING:
		finish(a);
		break;
	case ATT_IDLE:
	case ATT_RESOLVING:
	case ATT_REQUESTING:
		break;
	}
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct attempt *a = arg;

	if (a->state == ATT_IDLE)
		return;
	if (!a->decided)
		tlog(a->t, TRANSPORT_LOG_INFO, "%s: no response from %s:%u within %u ms",
		    job_name(a->job), a->host, a->port, a->t->opts.timeout_ms);
	finish(a);
}

/* ---- API */

struct transport *
transport_new(struct event_base *base, const struct transport_opts *opts)
{
	struct transport *t = NULL, *ret = NULL;
	int i;

	if (base == NULL || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->base = base;
	if (opts != NULL)
		t->opts = *opts;
	else
		transport_opts_defaults(&t->opts);
	if (t->opts.timeout_ms == 0)
		t->opts.timeout_ms = TRANSPORT_TIMEOUT_MS_DEFAULT;
	if (t->opts.nameserver != NULL) {
		if (strlen(t->opts.nameserver) > TRANSPORT_NAMESERVER_MAX)
			goto out;
		snprintf(t->nameserver, sizeof(t->nameserver), "%s", t->opts.nameserver);
		t->opts.nameserver = t->nameserver;
	}
	for (i = 0; i < SAFE2_JOBS; i++) {
		struct attempt *a = &t->att[i];
		a->t = t;
		a->job = (enum safe2_job)i;
		a->step = event_new(base, -1, 0, step_cb, a);
		a->deadline = evtimer_new(base, deadline_cb, a);
		if (a->step == NULL || a->deadline == NULL)
			goto out;
	}
	if ((t->ctx = ctx_new(&t->opts)) == NULL)
		goto out;
	/*
	 * Nameservers are added after evdns_base_new: libevent 2.1 applies
	 * DISABLE_WHEN_INACTIVE only to nameservers added after it is set, and
	 * evdns_base_new(EVDNS_BASE_INITIALIZE_NAMESERVERS) adds them before,
	 * leaving a read event that keeps the loop running forever.
	 */
	if ((t->dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL)
		goto out;
	if (t->opts.nameserver != NULL) {
		if (evdns_base_nameserver_ip_add(t->dns, t->nameserver) != 0)
			goto out;
	} else if (evdns_base_resolv_conf_parse(t->dns,
		       DNS_OPTION_NAMESERVERS | DNS_OPTION_SEARCH | DNS_OPTION_MISC,
		       "/etc/resolv.conf") != 0) {
		/* evdns falls back to a nameserver on 127.0.0.1 */
		tlog(t, TRANSPORT_LOG_WARN, "cannot read /etc/resolv.conf");
	}
	ret = t;
	t = NULL;
out:
	transport_free(t);
	ERR_clear_error();
	return ret;
}

void
transport_free(struct transport *t)
{
	int i;

	if (t == NULL)
		return;
	for (i = 0; i < SAFE2_JOBS; i++) {
		teardown(&t->att[i]);
		if (t->att[i].step != NULL)
			event_free(t->att[i].step);
		if (t->att[i].deadline != NULL)
			event_free(t->att[i].deadline);
	}
	if (t->dns != NULL)
		evdns_base_free(t->dns, 1);
	SSL_CTX_free(t->ctx);
	free(t);
}

int
transport_start(struct transport *t, const struct safe2_http_req *req, transport_done_cb cb,
    void *arg)
{
	struct attempt *a;
	struct event *step, *deadline;
	struct timeval tv;

	if (t == NULL || req == NULL || cb == NULL || (unsigned)req->job >= SAFE2_JOBS)
		return ZTP_EINVAL;
	a = &t->att[req->job];
	if (a->state != ATT_IDLE)
		return ZTP_EBUSY;
	if (!req_valid(req))
		return ZTP_EINVAL;
	step = a->step;
	deadline = a->deadline;
	memset(a, 0, sizeof(*a));
	a->t = t;
	a->job = req->job;
	a->step = step;
	a->deadline = deadline;

	snprintf(a->host, sizeof(a->host), "%s", req->host);
	a->port = req->port;
	memcpy(a->identity, req->identity, req->identity_len);
	a->identity_len = req->identity_len;
	memcpy(a->psk, req->psk, req->psk_len);
	a->psk_len = req->psk_len;
	a->post = !strcmp(req->method, "POST");
	snprintf(a->target, sizeof(a->target), "%s", req->target);
	if (req->body_len > 0)
		memcpy(a->body, req->body, req->body_len);
	a->body_len = req->body_len;
	if (req->if_none_match != NULL)
		snprintf(a->if_none_match, sizeof(a->if_none_match), "%s", req->if_none_match);

	a->cb = cb;
	a->cb_arg = arg;
	a->started_ms = (uint64_t)clock_mono_ms();
	tv.tv_sec = t->opts.timeout_ms / 1000;
	tv.tv_usec = (t->opts.timeout_ms % 1000) * 1000;
	if (evtimer_add(a->deadline, &tv) != 0) {
		OPENSSL_cleanse(a->psk, sizeof(a->psk));
		return ZTP_EINTERNAL;
	}
	a->state = ATT_STARTING;
	event_active(a->step, EV_TIMEOUT, 1);
	return 0;
}

void
transport_cancel(struct transport *t, enum safe2_job job)
{
	if (t == NULL || (unsigned)job >= SAFE2_JOBS || t->att[job].state == ATT_IDLE)
		return;
	tlog(t, TRANSPORT_LOG_DEBUG, "%s: cancelled", job_name(job));
	teardown(&t->att[job]);
}

int
transport_last_info(const struct transport *t, enum safe2_job job, struct transport_info *out)
{
	if (t == NULL || (unsigned)job >= SAFE2_JOBS || out == NULL)
		return ZTP_EINVAL;
	if (!t->have_last[job])
		return ZTP_ENOENT;
	*out = t->last[job];
	return 0;
}
