/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module's client (ztp/modclient.h): one contact of a root of trust,
 * blocking sockets with poll() deadlines, OpenSSL for TLS 1.3.
 *
 * A contact:
 *
 *   CONNECT  psk = ztp_rot_psk(); TCP connect; TLS handshake with psk
 *            alert 115/51/47 on a pending key: drop it, store, CONNECT again
 *            (at most twice: the pending key, then the current one)
 *            success on a pending key: accepted, not committed yet
 *   REQUEST  POST /m/b (epoch 0) or /m/h; answer
 *            any answer after a pending key was accepted: commit, store
 *            200: next key from the exporter, pending, store
 *            403/409/429: refused (after a commit in this contact, a 429
 *            to the recovery heartbeat is still DONE: the key moved)
 *   CONFIRM  POST /m/c epoch; answer
 *            204: commit, store: DONE
 *   CERT     (the answer's status said a ZTP certificate waits, store_cert
 *            set) GET /m/z; 200: parse, store_cert, POST /m/z its hash
 *            409: drop the pending key, store: REFUSED (start again later)
 *
 * Bytes are counted on the SSL's socket BIO: every TLS record in and out,
 * which is the TCP payload of the connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "crypto.h"
#include "modmsg.h"
#include "num.h"
#include "ztp/err.h"
#include "ztp/modclient.h"
#include "ztp/ztpcert.h"

#define SUITES "TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256"

struct modclient {
	SSL_CTX *ctx;
	struct modclient_opts o;
	char host[MODCLIENT_HOST_MAX + 1];
	char hosthdr[MODCLIENT_HOST_MAX + 3]; /* [v6] */
	char firmware[ZTP_ROT_FIRMWARE_MAX + 1];
};

/* One TLS connection of a contact. */
struct conn {
	struct modclient *c;
	int fd;
	SSL *ssl;
	const struct ztp_rot_psk *psk;
	int alert; /* fatal alert received, -1 none */
	uint64_t deadline_ms;
};

static void clog_(const struct modclient *c, enum modclient_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
clog_(const struct modclient *c, enum modclient_log_level level, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (c->o.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->o.log(c->o.arg, level, msg);
}

static void
lock(struct modclient *c)
{
	if (c->o.lock != NULL)
		c->o.lock(c->o.arg, 1);
}

static void
unlock(struct modclient *c)
{
	if (c->o.lock != NULL)
		c->o.lock(c->o.arg, 0);
}

static int64_t
now_s(struct modclient *c)
{
	return c->o.now != NULL ? c->o.now(c->o.arg) : (int64_t)time(NULL);
}

/* ---- TLS */

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

/* The external PSK to offer: the connection's key, as a TLS 1.3 session of a SHA-256 suite. */
static int
use_session(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
    SSL_SESSION **sess)
{
	static const unsigned char ccm_id[] = { 0x13, 0x04 };
	struct conn *k = SSL_get_app_data(ssl);
	const SSL_CIPHER *cipher;
	SSL_SESSION *s;

	*sess = NULL;
	if (k == NULL || k->psk == NULL)
		return 0;
	cipher = SSL_CIPHER_find(ssl, ccm_id);
	if (cipher == NULL || !is_sha256(SSL_CIPHER_get_handshake_digest(cipher)))
		return 0;
	if (md != NULL && !is_sha256(md))
		return 1; /* no PSK for this hash: the handshake fails */
	if ((s = crypto_psk_session(cipher, k->psk->key, ZTP_ROT_KEY_LEN)) == NULL)
		return 0;
	*sess = s;
	*id = (const unsigned char *)k->psk->identity;
	*idlen = k->psk->identity_len;
	return 1;
}

static void
info_cb(const SSL *ssl, int where, int ret)
{
	struct conn *k = SSL_get_app_data(ssl);

	if (k == NULL || !(where & SSL_CB_ALERT) || (ret >> 8) != SSL3_AL_FATAL)
		return;
	if ((where & SSL_CB_READ) && k->alert < 0)
		k->alert = ret & 0xff;
	clog_(k->c, MODCLIENT_LOG_INFO, "TLS alert %d (%s) %s %s:%u", ret & 0xff,
	    SSL_alert_desc_string_long(ret), (where & SSL_CB_READ) ? "from" : "to", k->c->host,
	    k->c->o.port);
}

static SSL_CTX *
ctx_new(void)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	/*
	 * What the ClientHello carries, and no more: TLS 1.3, two suites,
	 * X25519 (one key share), psk_dhe_ke (SSL_OP_ALLOW_NO_DHE_KEX is not
	 * set), one signature algorithm (the extension is mandatory; no
	 * certificate is ever accepted), no ticket, no empty session ID and
	 * ChangeCipherSpec of the middlebox compatibility mode.
	 */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, SUITES) || !SSL_CTX_set1_groups_list(ctx, "X25519") ||
	    !SSL_CTX_set1_sigalgs_list(ctx, "ed25519")) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_ENCRYPT_THEN_MAC |
		SSL_OP_NO_EXTENDED_MASTER_SECRET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_clear_options(ctx, SSL_OP_ENABLE_MIDDLEBOX_COMPAT | SSL_OP_ALLOW_NO_DHE_KEX);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, refuse_certificate);
	SSL_CTX_set_psk_use_session_callback(ctx, use_session);
	SSL_CTX_set_info_callback(ctx, info_cb);
	return ctx;
}

/* ---- the client */

static int
host_ok(const char *h)
{
	size_t n, i;

	if (h == NULL || (n = strlen(h)) == 0 || n > MODCLIENT_HOST_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = h[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			ch == '-' || ch == '.' || ch == ':'))
			return 0;
	}
	return 1;
}

struct modclient *
modclient_new(const struct modclient_opts *opts, char *err, size_t errcap)
{
	struct modclient *c;
	struct in6_addr v6;

	if (opts == NULL || !host_ok(opts->host) || opts->port == 0) {
		ztp_errf(err, errcap, ZTP_EINVAL, "module client: a host name or address and a port");
		return NULL;
	}
	if (opts->firmware == NULL ||
	    !modmsg_firmware_valid(opts->firmware, strlen(opts->firmware))) {
		ztp_errf(err, errcap, ZTP_EINVAL,
		    "module client: firmware version: 1 to %d printable characters",
		    ZTP_ROT_FIRMWARE_MAX);
		return NULL;
	}
	if (opts->store == NULL) {
		ztp_errf(err, errcap, ZTP_EINVAL, "module client: no store callback");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		ztp_errf(err, errcap, ZTP_ENOMEM, "module client: out of memory");
		return NULL;
	}
	c->o = *opts;
	snprintf(c->host, sizeof(c->host), "%s", opts->host);
	snprintf(c->firmware, sizeof(c->firmware), "%s", opts->firmware);
	snprintf(c->hosthdr, sizeof(c->hosthdr),
	    inet_pton(AF_INET6, c->host, &v6) == 1 ? "[%s]" : "%s", c->host);
	c->o.host = c->host;
	c->o.firmware = c->firmware;
	if (c->o.timeout_ms == 0)
		c->o.timeout_ms = MODCLIENT_TIMEOUT_MS_DEFAULT;
	if ((c->ctx = ctx_new()) == NULL) {
		ztp_errf(err, errcap, ZTP_ECRYPTO, "module client: cannot set up TLS");
		free(c);
		return NULL;
	}
	return c;
}

void
modclient_free(struct modclient *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

/* ---- the answer's head */

static int
ieq(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

static int
is_tchar(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	    (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* 1 if the comma-separated list v[0..n) has the token "close". */
static int
has_close(const char *v, size_t n)
{
	size_t i = 0, s, e;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (ieq(v + s, e - s, "close"))
			return 1;
	}
	return 0;
}

/* "HTTP/1.x NNN[ reason]" */
static int
status_line(const char *s, size_t n, int *status)
{
	uint64_t v;

	if (n < 12 || (memcmp(s, "HTTP/1.1 ", 9) != 0 && memcmp(s, "HTTP/1.0 ", 9) != 0))
		return ZTP_EMALFORMED;
	if (num_parse_u64(s + 9, 3, 100, 999, &v) != 0 || (n > 12 && s[12] != ' '))
		return ZTP_EMALFORMED;
	if (v < 200 || v > 599) /* no 1xx: we never send Expect or Upgrade */
		return ZTP_EMALFORMED;
	*status = (int)v;
	return 0;
}

/* modclient_parse_head with a body of at most body_max bytes. */
static int
parse_head(const char *buf, size_t len, struct modclient_head *h, size_t body_max)
{
	size_t off = 0, lim = len < MODCLIENT_HEAD_MAX ? len : MODCLIENT_HEAD_MAX;
	int first = 1, have_cl = 0, rc;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	for (;;) {
		const char *line = buf + off, *nl, *colon, *v;
		size_t n, vn, i;

		nl = memchr(line, '\n', lim - off);
		if (nl == NULL)
			return len >= MODCLIENT_HEAD_MAX ? ZTP_ETOOBIG : MODCLIENT_HEAD_MORE;
		n = (size_t)(nl - line);
		off += n + 1;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		for (i = 0; i < n; i++)
			if (line[i] == '\0' || line[i] == '\r')
				return ZTP_EMALFORMED;
		if (first) {
			if ((rc = status_line(line, n, &h->status)) != 0)
				return rc;
			first = 0;
			continue;
		}
		if (n == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t')
			return ZTP_EMALFORMED; /* obsolete line folding */
		if ((colon = memchr(line, ':', n)) == NULL || colon == line)
			return ZTP_EMALFORMED;
		for (v = line; v < colon; v++)
			if (!is_tchar((unsigned char)*v))
				return ZTP_EMALFORMED;
		v = colon + 1;
		vn = n - (size_t)(v - line);
		while (vn > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vn--;
		}
		while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
			vn--;
		if (ieq(line, (size_t)(colon - line), "Content-Length")) {
			uint64_t cl;
			if (have_cl || num_parse_u64(v, vn, 0, UINT64_MAX, &cl) != 0)
				return ZTP_EMALFORMED;
			if (cl > body_max)
				return ZTP_ETOOBIG;
			have_cl = 1;
			h->content_length = (int64_t)cl;
		} else if (ieq(line, (size_t)(colon - line), "Transfer-Encoding")) {
			return ZTP_EMALFORMED;
		} else if (ieq(line, (size_t)(colon - line), "Connection")) {
			if (has_close(v, vn))
				h->close = 1;
		}
	}
	h->len = off;
	if (h->status == 204 || h->status == 304)
		h->content_length = 0;
	else if (!have_cl)
		return ZTP_EMALFORMED;
	return 0;
}

int
modclient_parse_head(const char *buf, size_t len, struct modclient_head *h)
{
	return parse_head(buf, len, h, ZTP_ROT_BODY_MAX);
}

/* ---- blocking I/O with deadlines */

/* Wait until fd is ready for events or the connection's deadline: 0, or -1 (time-out, error). */
static int
wait_fd(struct conn *k, short events)
{
	struct pollfd p;
	int64_t left;
	int n;

	for (;;) {
		left = (int64_t)(k->deadline_ms - (uint64_t)clock_mono_ms());
		if (left <= 0 || k->deadline_ms < (uint64_t)clock_mono_ms())
			return -1;
		p.fd = k->fd;
		p.events = events;
		p.revents = 0;
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* After an SSL call returned ret: wait for what it wants. 0 to call it again, -1 to give up. */
static int
ssl_wait(struct conn *k, int ret)
{
	switch (SSL_get_error(k->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(k, POLLIN);
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(k, POLLOUT);
	default:
		return -1;
	}
}

static void
set_deadline(struct conn *k)
{
	k->deadline_ms = (uint64_t)clock_mono_ms() + k->c->o.timeout_ms;
}

/* A TCP connection to the host, non-blocking, TCP_NODELAY. 0, or -1 with why. */
static int
tcp_connect(struct conn *k, char *why, size_t cap)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[8];
	int one = 1, rc, soerr;
	socklen_t sl;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", k->c->o.port);
	if ((rc = getaddrinfo(k->c->host, port, &hints, &res)) != 0) {
		snprintf(why, cap, "%s: %s", k->c->host, gai_strerror(rc));
		return -1;
	}
	snprintf(why, cap, "%s:%u: no address", k->c->host, k->c->o.port);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		k->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
		if (k->fd < 0)
			continue;
		(void)setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(k->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS && wait_fd(k, POLLOUT) == 0) {
			sl = sizeof(soerr);
			if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
				break;
			errno = soerr;
		} else if (errno == EINPROGRESS) {
			errno = ETIMEDOUT;
		}
		snprintf(why, cap, "connect to %s:%u: %s", k->c->host, k->c->o.port,
		    strerror(errno));
		close(k->fd);
		k->fd = -1;
	}
	freeaddrinfo(res);
	if (k->fd < 0)
		return -1;
	why[0] = '\0';
	return 0;
}

/* Close the connection; its bytes go to res. */
static void
conn_close(struct conn *k, struct modclient_result *res)
{
	BIO *b;

	if (k->ssl != NULL) {
		if ((b = SSL_get_rbio(k->ssl)) != NULL) {
			res->bytes_in += BIO_number_read(b);
			res->bytes_out += BIO_number_written(b);
		}
		SSL_free(k->ssl);
		k->ssl = NULL;
	}
	if (k->fd >= 0) {
		close(k->fd);
		k->fd = -1;
	}
	ERR_clear_error();
}

enum hs_result { HS_OK, HS_REFUSED, HS_FAILED };

/* Connect and shake hands with k->psk. HS_REFUSED: the server refused the key (alert). */
static enum hs_result
conn_open(struct conn *k, struct modclient_result *res)
{
	int ret;

	k->alert = -1;
	k->fd = -1;
	set_deadline(k);
	res->connections++;
	if (tcp_connect(k, res->error, sizeof(res->error)) != 0)
		return HS_FAILED;
	if ((k->ssl = SSL_new(k->c->ctx)) == NULL || !SSL_set_fd(k->ssl, k->fd)) {
		snprintf(res->error, sizeof(res->error), "cannot set up TLS");
		return HS_FAILED;
	}
	SSL_set_app_data(k->ssl, k);
	while ((ret = SSL_connect(k->ssl)) != 1)
		if (ssl_wait(k, ret) != 0)
			break;
	if (k->alert >= 0)
		res->alert = k->alert;
	if (ret != 1) {
		/*
		 * The server does not hold this key: it does not know the
		 * identity (unknown_psk_identity), or holds another key for it
		 * and the binder does not verify (OpenSSL 3.0 answers
		 * illegal_parameter, RFC 8446 says decrypt_error).
		 */
		if (k->alert == SSL_AD_UNKNOWN_PSK_IDENTITY || k->alert == SSL_AD_DECRYPT_ERROR ||
		    k->alert == SSL_AD_ILLEGAL_PARAMETER) {
			snprintf(res->error, sizeof(res->error), "key %s refused (alert %d)",
			    k->psk->identity, k->alert);
			return HS_REFUSED;
		}
		snprintf(res->error, sizeof(res->error), "TLS handshake with %s:%u failed%s",
		    k->c->host, k->c->o.port, k->alert >= 0 ? " (alert)" : "");
		return HS_FAILED;
	}
	if (SSL_session_reused(k->ssl) != 1) {
		snprintf(res->error, sizeof(res->error), "handshake without the PSK");
		return HS_FAILED;
	}
	snprintf(res->cipher, sizeof(res->cipher), "%s", SSL_get_cipher_name(k->ssl));
	return HS_OK;
}

/*
 * method (POST, GET) path with body on k; the answer's status and body
 * into rbody (rmax bytes, at most ZTP_CERT_BUNDLE_MAX). 0, or -1 with why
 * in res->error.
 */
static int
exchange_m(struct conn *k, const char *method, const char *path, const uint8_t *body, size_t len,
    int *status, uint8_t *rbody, size_t rmax, size_t *rlen, int *close_after,
    struct modclient_result *res)
{
	char out[128 + MODCLIENT_HOST_MAX + ZTP_ROT_BODY_MAX];
	char in[MODCLIENT_HEAD_MAX + ZTP_CERT_BUNDLE_MAX];
	struct modclient_head h;
	size_t n = 0, hl;
	int ret, rc = MODCLIENT_HEAD_MORE;

	if (rmax > ZTP_CERT_BUNDLE_MAX)
		rmax = ZTP_CERT_BUNDLE_MAX;
	hl = (size_t)snprintf(out, sizeof(out),
	    "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %zu\r\n\r\n", method, path,
	    k->c->hosthdr, len);
	if (hl + len > sizeof(out)) {
		snprintf(res->error, sizeof(res->error), "request too large");
		return -1;
	}
	if (len > 0) /* GET /m/z has no body (and body may be NULL) */
		memcpy(out + hl, body, len);
	set_deadline(k);
	/* one SSL_write: one TLS record */
	while ((ret = SSL_write(k->ssl, out, (int)(hl + len))) <= 0)
		if (ssl_wait(k, ret) != 0) {
			snprintf(res->error, sizeof(res->error), "%s: cannot send", path);
			return -1;
		}
	for (;;) {
		if (n > 0 && rc == MODCLIENT_HEAD_MORE)
			rc = parse_head(in, n, &h, rmax);
		if (rc == 0) {
			size_t want = h.len + (size_t)h.content_length;
			if (n > want) {
				snprintf(res->error, sizeof(res->error), "%s: bytes after the answer", path);
				return -1;
			}
			if (n == want)
				break;
		} else if (rc != MODCLIENT_HEAD_MORE) {
			snprintf(res->error, sizeof(res->error), "%s: %s answer", path,
			    rc == ZTP_ETOOBIG ? "too large an" : "a malformed");
			return -1;
		}
		/* no more than the head and the largest body may come */
		if (n == MODCLIENT_HEAD_MAX + rmax) {
			snprintf(res->error, sizeof(res->error), "%s: too large an answer", path);
			return -1;
		}
		ret = SSL_read(k->ssl, in + n, (int)(MODCLIENT_HEAD_MAX + rmax - n));
		if (ret > 0) {
			n += (size_t)ret;
			continue;
		}
		if (ssl_wait(k, ret) != 0) {
			snprintf(res->error, sizeof(res->error), "%s: %s", path,
			    SSL_get_error(k->ssl, ret) == SSL_ERROR_ZERO_RETURN ||
				    SSL_get_error(k->ssl, ret) == SSL_ERROR_SYSCALL ?
				"connection closed before the answer" :
				"no answer in time");
			return -1;
		}
	}
	*status = h.status;
	*rlen = (size_t)h.content_length;
	memcpy(rbody, in + h.len, *rlen);
	*close_after = h.close;
	OPENSSL_cleanse(in, n); /* a bundle holds a private key */
	return 0;
}

/* POST path with body on k; the answer's body into rbody (ZTP_ROT_BODY_MAX bytes). */
static int
exchange(struct conn *k, const char *path, const uint8_t *body, size_t len, int *status,
    uint8_t *rbody, size_t *rlen, int *close_after, struct modclient_result *res)
{
	return exchange_m(k, "POST", path, body, len, status, rbody, ZTP_ROT_BODY_MAX, rlen,
	    close_after, res);
}

/*
 * The ZTP certificate the server said waits (section 12): GET /m/z, check
 * the bundle, store it (opts.store_cert), confirm it with the SHA-256 of
 * its device certificate. Sets res->cert: 1 done, -1 failed (the next
 * heartbeat's answer says again that it waits).
 */
static void
fetch_cert(struct modclient *c, struct conn *k, struct modclient_result *res)
{
	static uint8_t bundle[ZTP_CERT_BUNDLE_MAX]; /* of one contact at a time: under certmu */
	static pthread_mutex_t certmu = PTHREAD_MUTEX_INITIALIZER;
	uint8_t conf[ZTP_CERT_CONFIRM_BODY], rbody[ZTP_ROT_BODY_MAX];
	struct ztp_cert_bundle b;
	size_t len = 0, rlen;
	int status, close_after;
	char why[sizeof(res->error)];

	why[0] = '\0';
	res->cert = -1;
	pthread_mutex_lock(&certmu);
	if (exchange_m(k, "GET", "/m/z", NULL, 0, &status, bundle, sizeof(bundle), &len,
		&close_after, res) != 0)
		goto out;
	if (status != 200) {
		snprintf(why, sizeof(why), "certificate: answer %d", status);
		goto out;
	}
	if (ztp_cert_parse(bundle, len, &b) != 0) {
		snprintf(why, sizeof(why), "certificate: a malformed bundle");
		goto out;
	}
	if (c->o.store_cert(c->o.arg, bundle, len) != 0) {
		snprintf(why, sizeof(why), "certificate: cannot store the bundle");
		goto out;
	}
	clog_(c, MODCLIENT_LOG_INFO, "ZTP certificate stored (%zu bytes)", len);
	conf[0] = ZTP_CERT_ITEM_CONFIRM;
	conf[1] = ZTP_CERT_CONFIRM_LEN;
	if (close_after || crypto_sha256(b.part[ZTP_CERT_DEVICE], b.len[ZTP_CERT_DEVICE],
			       conf + 2) != 0) {
		snprintf(why, sizeof(why), "certificate: stored, not confirmed");
		goto out;
	}
	if (exchange(k, "/m/z", conf, sizeof(conf), &status, rbody, &rlen, &close_after, res) !=
	    0)
		goto out;
	if (status != 204) {
		snprintf(why, sizeof(why), "certificate: confirmation answered %d", status);
		goto out;
	}
	res->cert = 1;
out:
	OPENSSL_cleanse(bundle, sizeof(bundle));
	pthread_mutex_unlock(&certmu);
	if (why[0] != '\0')
		snprintf(res->error, sizeof(res->error), "%s", why);
	if (res->cert < 0)
		clog_(c, MODCLIENT_LOG_WARN, "%s", res->error);
}

/* Store r, or say why not. */
static int
store(struct modclient *c, const struct ztp_rot *r, struct modclient_result *res)
{
	if (c->o.store(c->o.arg, r) == 0)
		return 0;
	snprintf(res->error, sizeof(res->error), "cannot store the module state");
	res->outcome = ZTP_MOD_LOCAL;
	return -1;
}

/* A refusal's items (reason, retry after), if its body has them. */
static void
refusal(struct modclient_result *res, const uint8_t *body, size_t len)
{
	struct modmsg m;

	if (modmsg_decode(body, len, &m) != 0)
		return;
	if (MODMSG_HAS(&m, MODMSG_REASON))
		res->reason = m.reason;
	if (MODMSG_HAS(&m, MODMSG_RETRY_AFTER))
		res->retry_after = m.retry_after;
}

static const char *
kind_name(enum ztp_rot_kind kind)
{
	return kind == ZTP_ROT_BOOTSTRAP ? "bootstrap" : "heartbeat";
}

/*
 * Commit the pending key of epoch that this connection's handshake used,
 * once the server answered on it. 0, or -1 (res says why) if it could not
 * be stored.
 */
static int
commit_accepted(struct modclient *c, struct ztp_rot *r, uint32_t epoch,
    struct modclient_result *res)
{
	int committed;

	lock(c);
	committed = ztp_rot_handshake_ok(r, epoch);
	if (committed && store(c, r, res) != 0) {
		unlock(c);
		return -1;
	}
	unlock(c);
	if (committed) {
		res->committed++;
		res->bootstrapped |= epoch == 1;
		clog_(c, MODCLIENT_LOG_INFO, "pending key of epoch %u accepted: committed", epoch);
	}
	return 0;
}

/*
 * REQUEST and CONFIRM on the open connection k (the state machine at the
 * top). accepted: the epoch of the pending key the handshake used, 0 if
 * it used the current key. Sets res->outcome.
 *
 * A pending key the handshake accepted is committed at the server's first
 * answer on the connection, not at the handshake: in TLS 1.3 the client
 * is done before the server has read its Finished, and the server commits
 * a pending key only at the end of its own handshake. A connection lost in
 * between leaves the key pending on both sides, to be offered again at
 * once; a commit at the handshake would leave the module ahead of a server
 * that still has the older key current (at the bootstrap: the factory
 * secret not retired), with no contact due that would bring it along.
 */
static void
request_and_confirm(struct modclient *c, struct conn *k, struct ztp_rot *r, uint32_t accepted,
    struct modclient_result *res)
{
	struct ztp_rot_req req;
	struct ztp_rot_answer a;
	struct ztp_rot before;
	uint8_t rbody[ZTP_ROT_BODY_MAX], key[ZTP_ROT_KEY_LEN], conf[16];
	size_t rlen, clen;
	int status, close_after, rc;

	lock(c);
	if (accepted != 0) {
		/* the request as it will be once the accepted key is committed */
		before = *r;
		ztp_rot_handshake_ok(&before, accepted);
		rc = ztp_rot_request(&before, c->firmware, &req);
		ztp_rot_wipe(&before);
	} else {
		rc = ztp_rot_request(r, c->firmware, &req);
	}
	unlock(c);
	if (rc != 0) {
		snprintf(res->error, sizeof(res->error), "cannot build the request: %s",
		    ztp_strerror(rc));
		res->outcome = ZTP_MOD_LOCAL;
		return;
	}
	res->kind = req.kind;
	if (exchange(k, req.path, req.body, req.len, &status, rbody, &rlen, &close_after, res) != 0)
		return;
	/*
	 * the server answered: it finished its handshake, and committed the key,
	 * unless it says 409 (its commit lost a race or failed): the key stays
	 * pending, the next contact offers it again and learns which
	 */
	if (accepted != 0 && status != 409 && commit_accepted(c, r, accepted, res) != 0)
		return;
	res->status = status;
	if (status != 200) {
		refusal(res, rbody, rlen);
		if (status == 403 || status == 409 || status == 429) {
			/* the recovery heartbeat after a commit: the key moved all the same */
			res->outcome = res->committed && status == 429 ? ZTP_MOD_DONE : ZTP_MOD_REFUSED;
			snprintf(res->error, sizeof(res->error), "answer %d, reason %u", status,
			    res->reason);
		} else {
			snprintf(res->error, sizeof(res->error), "answer %d", status);
		}
		return;
	}

	lock(c);
	rc = ztp_rot_answer(r, &req, rbody, rlen, &a);
	if (rc == 0 &&
	    SSL_export_keying_material(k->ssl, key, sizeof(key), ZTP_ROT_KEY_LABEL,
		strlen(ZTP_ROT_KEY_LABEL), (const unsigned char *)a.context, a.context_len,
		1) != 1)
		rc = ZTP_ECRYPTO;
	if (rc == 0) {
		before = *r;
		rc = ztp_rot_pending_set(r, &a, key, now_s(c));
		OPENSSL_cleanse(key, sizeof(key));
		if (rc == 0 && store(c, r, res) != 0) {
			*r = before; /* a key that is not stored is never used */
			OPENSSL_cleanse(&before, sizeof(before));
			unlock(c);
			return;
		}
		OPENSSL_cleanse(&before, sizeof(before));
	}
	if (rc == 0)
		rc = ztp_rot_confirm(r, conf, sizeof(conf), &clen);
	unlock(c);
	if (rc != 0) {
		snprintf(res->error, sizeof(res->error), "unusable answer (%s)", ztp_strerror(rc));
		return;
	}
	clog_(c, MODCLIENT_LOG_DEBUG, "%s: key of epoch %u pending", kind_name(req.kind), a.epoch);
	if (close_after) {
		snprintf(res->error, sizeof(res->error), "the server closed before /m/c");
		return;
	}

	if (exchange(k, "/m/c", conf, clen, &status, rbody, &rlen, &close_after, res) != 0)
		return;
	res->status = status;
	lock(c);
	if (status == 204) {
		int boot = r->epoch == 0;
		rc = ztp_rot_commit(r);
		if (rc == 0 && store(c, r, res) == 0) {
			res->committed++;
			res->bootstrapped |= boot;
			res->outcome = ZTP_MOD_DONE;
		} else if (rc != 0) {
			snprintf(res->error, sizeof(res->error), "nothing pending to commit");
			res->outcome = ZTP_MOD_LOCAL;
		}
		unlock(c);
		/* a ZTP certificate waits: fetched on this connection (section 12) */
		if (res->outcome == ZTP_MOD_DONE && (a.status & ZTP_CERT_STATUS_WAITING) &&
		    c->o.store_cert != NULL && !close_after)
			fetch_cert(c, k, res);
		return;
	}
	refusal(res, rbody, rlen);
	if (status == 409) {
		/* another registration replaced ours: start again, later */
		ztp_rot_drop_pending(r);
		res->dropped++;
		if (store(c, r, res) == 0)
			res->outcome = ZTP_MOD_REFUSED;
	} else if (status == 403 || status == 429) {
		res->outcome = ZTP_MOD_REFUSED;
	}
	unlock(c);
	snprintf(res->error + strlen(res->error), sizeof(res->error) - strlen(res->error),
	    "%sconfirmation: answer %d, reason %u", res->error[0] ? "; " : "", status,
	    res->reason);
}

int
modclient_contact(struct modclient *c, struct ztp_rot *r, struct modclient_result *res)
{
	struct ztp_rot_psk psk;
	struct conn k;
	enum hs_result hs;
	int tries;

	if (c == NULL || r == NULL || res == NULL)
		return ZTP_EINVAL;
	memset(res, 0, sizeof(*res));
	res->alert = -1;
	res->outcome = ZTP_MOD_TRANSIENT;
	memset(&k, 0, sizeof(k));
	k.c = c;
	k.fd = -1;
	k.psk = &psk;

	for (tries = 0;; tries++) {
		lock(c);
		ztp_rot_psk(r, &psk);
		unlock(c);
		clog_(c, MODCLIENT_LOG_DEBUG, "handshake with %s%s", psk.identity,
		    psk.pending ? " (pending)" : "");
		hs = conn_open(&k, res);
		if (hs == HS_OK)
			break;
		conn_close(&k, res);
		if (hs == HS_FAILED)
			goto out;
		/* refused: a pending key is dropped and the next one tried; the current one is not */
		if (!psk.pending || tries > 0) {
			res->outcome = ZTP_MOD_KEY_UNKNOWN;
			goto out;
		}
		lock(c);
		if (ztp_rot_key_refused(r, psk.epoch)) {
			res->dropped++;
			if (store(c, r, res) != 0) {
				unlock(c);
				goto out;
			}
		}
		unlock(c);
		clog_(c, MODCLIENT_LOG_INFO, "pending key %s refused by the server: dropped",
		    psk.identity);
		res->error[0] = '\0';
	}
	if (psk.pending)
		clog_(c, MODCLIENT_LOG_DEBUG, "pending key %s accepted by the handshake",
		    psk.identity);
	request_and_confirm(c, &k, r, psk.pending ? psk.epoch : 0, res);
out:
	conn_close(&k, res);
	OPENSSL_cleanse(&psk, sizeof(psk));
	return 0;
}
