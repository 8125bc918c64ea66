/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-upstream: the customer's server of bench/proxy.sh, made so that it
 * is never the bottleneck of a proxy-mode benchmark. Every request that
 * carries ZTP-ICCID (ztpd always sets it) gets the same answer:
 *   200, Content-Length, Content-Type, ETag, and the body of --body FILE
 * or 304 without a body when If-None-Match is that ETag. A request without
 * ZTP-ICCID gets 400 (it did not come through ztpd), except GET /stats:
 * {"requests": N, "refused": M}, what was answered so far, so that a
 * driver can check that each proxied fetch reached it.
 *
 * libevent's evhttp on --threads event loops, each its own event_base and
 * evhttp on a dup of one listening socket (the kernel hands each new
 * connection to one of them); HTTP/1.1 keep-alive as evhttp does it. With
 * --cert and --key, HTTPS: every connection a bufferevent_openssl (TLS 1.2
 * or 1.3, OpenSSL's default groups and suites, no session tickets).
 *
 * It listens on 127.0.0.1 only, on --port or an ephemeral one, and prints
 * "port: N" once it accepts. SIGTERM or SIGINT stops it; it prints
 * "requests: N" and "refused: M" then. Exit 0, 1 on a failure to start, 2
 * on a usage error.
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "num.h"

#define MAX_THREADS 16
#define BODY_MAX 16384
#define ETAG_MAX 128
#define CTYPE_MAX 128

struct opts {
	uint64_t port, threads;
	const char *body_file, *cert, *key;
	char etag[ETAG_MAX + 1];
	char ctype[CTYPE_MAX + 1];
};

/* One event loop; reply holds the body by reference while evhttp takes it. */
struct thread {
	pthread_t tid;
	struct event_base *base;
	struct evhttp *http;
	struct evbuffer *reply;
};

static struct opts O;
static uint8_t body[BODY_MAX];
static size_t body_len;
static char body_len_str[24];
static SSL_CTX *tls_ctx;
static struct thread threads[MAX_THREADS];
static size_t nthreads;
static atomic_uint_fast64_t n_requests, n_refused;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench-upstream --body FILE --etag ETAG [--content-type TYPE]\n"
	    "                      [--port PORT] [--threads N] [--cert FILE --key FILE]\n"
	    "  --body FILE             the answer's body (at most %d bytes)\n"
	    "  --etag ETAG             the answer's ETag, sent as given (quotes included)\n"
	    "  --content-type TYPE     the answer's Content-Type (default application/json)\n"
	    "  --port PORT             on 127.0.0.1 (default 0: an ephemeral port)\n"
	    "  --threads N             event loops, 1 to %d (default 1)\n"
	    "  --cert FILE --key FILE  HTTPS with this certificate chain and key (PEM)\n",
	    BODY_MAX, MAX_THREADS);
	exit(2);
}

/* A header value sent as given: printable ASCII, 1 to max bytes. */
static int
header_ok(const char *v, size_t max)
{
	size_t i, n = strlen(v);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return 0;
	return 1;
}

static void
parse_args(int argc, char **argv)
{
	int i;

	O.threads = 1;
	snprintf(O.ctype, sizeof(O.ctype), "application/json");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h") || v == NULL)
			usage();
		i++;
		if (!strcmp(a, "--body")) {
			O.body_file = v;
		} else if (!strcmp(a, "--etag")) {
			if (!header_ok(v, ETAG_MAX))
				usage();
			snprintf(O.etag, sizeof(O.etag), "%s", v);
		} else if (!strcmp(a, "--content-type")) {
			if (!header_ok(v, CTYPE_MAX))
				usage();
			snprintf(O.ctype, sizeof(O.ctype), "%s", v);
		} else if (!strcmp(a, "--port")) {
			if (num_parse_u64z(v, 0, 65535, &O.port) != 0)
				usage();
		} else if (!strcmp(a, "--threads")) {
			if (num_parse_u64z(v, 1, MAX_THREADS, &O.threads) != 0)
				usage();
		} else if (!strcmp(a, "--cert")) {
			O.cert = v;
		} else if (!strcmp(a, "--key")) {
			O.key = v;
		} else {
			usage();
		}
	}
	if (O.body_file == NULL || O.etag[0] == '\0' || (O.cert == NULL) != (O.key == NULL))
		usage();
}

/* The body file into body[] (at most BODY_MAX bytes). 0, or -1 with a message. */
static int
read_body(const char *file)
{
	FILE *f;
	size_t n;
	uint8_t extra;
	int rc = -1;

	if ((f = fopen(file, "rb")) == NULL) {
		fprintf(stderr, "bench-upstream: cannot read %s\n", file);
		return -1;
	}
	n = fread(body, 1, sizeof(body), f);
	if (ferror(f) || (n == sizeof(body) && fread(&extra, 1, 1, f) == 1)) {
		fprintf(stderr, "bench-upstream: %s: unreadable or over %d bytes\n", file, BODY_MAX);
		goto out;
	}
	body_len = n;
	snprintf(body_len_str, sizeof(body_len_str), "%zu", n);
	rc = 0;
out:
	fclose(f);
	return rc;
}

/* HTTPS: the server's context, TLS 1.2 or later. NULL with a message on failure. */
static SSL_CTX *
server_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate_chain_file(ctx, O.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, O.key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ERR_print_errors_fp(stderr);
		fprintf(stderr, "bench-upstream: cannot use %s with %s\n", O.cert, O.key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	return ctx;
}

/* evhttp's new connection over TLS: the bufferevent owns the SSL object. */
static struct bufferevent *
tls_bev_cb(struct event_base *base, void *arg)
{
	SSL *ssl = SSL_new(arg);
	struct bufferevent *bev;

	if (ssl == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		SSL_free(ssl);
	return bev;
}

static void
stats_reply(struct evhttp_request *req)
{
	struct evbuffer *buf = evbuffer_new();

	if (buf == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(buf, "{\"requests\": %" PRIuFAST64 ", \"refused\": %" PRIuFAST64 "}\n",
	    atomic_load(&n_requests), atomic_load(&n_refused));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json");
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

/*
 * Every request: the fixed answer. The body is added by reference, never
 * copied, and evhttp moves it to the connection's output.
 */
static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct thread *t = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *inm;

	if (evhttp_find_header(in, "ZTP-ICCID") == NULL) {
		if (evhttp_request_get_command(req) == EVHTTP_REQ_GET &&
		    strcmp(evhttp_request_get_uri(req), "/stats") == 0) {
			stats_reply(req);
			return;
		}
		atomic_fetch_add_explicit(&n_refused, 1, memory_order_relaxed);
		evhttp_send_error(req, 400, "no ZTP-ICCID: not from ztpd");
		return;
	}
	atomic_fetch_add_explicit(&n_requests, 1, memory_order_relaxed);
	evhttp_add_header(out, "ETag", O.etag);
	inm = evhttp_find_header(in, "If-None-Match");
	if (inm != NULL && strcmp(inm, O.etag) == 0) {
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	evhttp_add_header(out, "Content-Type", O.ctype);
	evhttp_add_header(out, "Content-Length", body_len_str);
	if (evbuffer_add_reference(t->reply, body, body_len, NULL, NULL) != 0) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evhttp_send_reply(req, 200, "OK", t->reply);
	evbuffer_drain(t->reply, evbuffer_get_length(t->reply));
}

static void *
thread_main(void *arg)
{
	struct thread *t = arg;

	event_base_dispatch(t->base);
	return NULL;
}

/* SIGTERM, SIGINT: every loop ends (event_base_loopexit is thread-safe here). */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	size_t i;

	for (i = 0; i < nthreads; i++)
		event_base_loopexit(threads[i].base, NULL);
}

/* The listening socket on 127.0.0.1:port, non-blocking; its port in *bound. -1 on failure. */
static int
listen_socket(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	/*
	 * accepted sockets inherit TCP_NODELAY: over TLS evhttp's headers and
	 * the body are two records, and without it the body would wait for
	 * ztpd's delayed ACK of the first (about 40 ms)
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 1024) != 0 ||
	    evutil_make_socket_nonblocking(fd) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		close(fd);
		return -1;
	}
	*bound = ntohs(sin.sin_port);
	return fd;
}

/*
 * One event loop: its base, its reply buffer, its evhttp accepting on a
 * dup of lfd (evhttp's from then on, closed by evhttp_free). 0, or -1;
 * what was made is freed by main either way.
 */
static int
thread_init(struct thread *t, int lfd)
{
	int fd;

	if ((t->base = event_base_new()) == NULL || (t->http = evhttp_new(t->base)) == NULL ||
	    (t->reply = evbuffer_new()) == NULL)
		return -1;
	evhttp_set_allowed_methods(t->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(t->http, request_cb, t);
	if (tls_ctx != NULL)
		evhttp_set_bevcb(t->http, tls_bev_cb, tls_ctx);
	if ((fd = dup(lfd)) < 0)
		return -1;
	if (evhttp_accept_socket(t->http, fd) != 0) {
		close(fd);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct event *sigterm = NULL, *sigint = NULL;
	uint16_t port = 0;
	size_t i, started = 0;
	int lfd = -1, status = 1;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if (read_body(O.body_file) != 0)
		return 1;
	if (O.cert != NULL && (tls_ctx = server_ctx()) == NULL)
		return 1;
	if (evthread_use_pthreads() != 0) {
		fprintf(stderr, "bench-upstream: no libevent threads\n");
		goto out;
	}
	if ((lfd = listen_socket((uint16_t)O.port, &port)) < 0) {
		perror("bench-upstream: listen on 127.0.0.1");
		goto out;
	}
	for (nthreads = 0; nthreads < O.threads;) {
		if (thread_init(&threads[nthreads++], lfd) != 0) {
			fprintf(stderr, "bench-upstream: cannot set up event loop %zu\n", nthreads);
			goto out;
		}
	}
	close(lfd);
	lfd = -1;
	sigterm = evsignal_new(threads[0].base, SIGTERM, signal_cb, NULL);
	sigint = evsignal_new(threads[0].base, SIGINT, signal_cb, NULL);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) != 0 ||
	    evsignal_add(sigint, NULL) != 0) {
		fprintf(stderr, "bench-upstream: cannot catch signals\n");
		goto out;
	}
	for (started = 1; started < nthreads; started++)
		if (pthread_create(&threads[started].tid, NULL, thread_main, &threads[started]) != 0)
			break;
	if (started < nthreads) {
		/* the loops already started end at once */
		fprintf(stderr, "bench-upstream: cannot start thread %zu\n", started);
		signal_cb(-1, 0, NULL);
	} else {
		printf("port: %u\n", port);
		fflush(stdout);
		thread_main(&threads[0]);
		status = 0;
	}
	for (i = 1; i < started; i++)
		pthread_join(threads[i].tid, NULL);
	if (status == 0)
		printf("requests: %" PRIuFAST64 "\nrefused: %" PRIuFAST64 "\n",
		    atomic_load(&n_requests), atomic_load(&n_refused));
out:
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	for (i = 0; i < nthreads; i++) {
		if (threads[i].http != NULL)
			evhttp_free(threads[i].http);
		if (threads[i].reply != NULL)
			evbuffer_free(threads[i].reply);
		if (threads[i].base != NULL)
			event_base_free(threads[i].base);
	}
	if (lfd >= 0)
		close(lfd);
	SSL_CTX_free(tls_ctx);
	return status;
}
