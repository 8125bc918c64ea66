/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-attack: what an attacker without credentials does to ztpd's
 * listeners, and the measuring side that shows whether legitimate callers
 * are still served meanwhile (issue 11; bench/attack.sh and
 * tests/integration/test_attack_*.sh). For loopback tests only.
 *
 *   idle N            N TCP connections that send nothing; any the server
 *                     closes is opened again, so the pressure stays
 *   slowloris N       N connections that dribble a TLS ClientHello one byte
 *                     every --interval seconds (device port); with --tls the
 *                     handshake is finished (server certificate, not
 *                     verified) and an endless HTTP request head is dribbled
 *                     instead (admin, EST ports); reopened when closed
 *   bodies N SIZE     N TLS connections (admin port), each a POST --path with
 *                     Content-Length SIZE and no Authorization, the whole
 *                     body written as fast as the server takes it, then held
 *   unknown-psk N     N TLS 1.3 PSK handshakes, --parallel at a time, each
 *                     offering a random well-formed ICCID identity (ASCII
 *                     digits or EF_ICCID bytes, alternately) that no SIM has
 *   connect-close N   N TCP connects, --parallel at a time, each closed as
 *                     soon as it is established, no byte sent
 *   measure           -n calls of each side, one at a time, while an attack
 *                     runs: --device (a SIM's configuration fetch, TLS 1.3
 *                     PSK) and --admin (GET --admin-path with a bearer
 *                     token), each with a --timeout from connect to the last
 *                     byte; prints calls, failures, p50, p99 and max
 *
 * One thread and epoll drive the attack modes; a connection's slot is
 * reused when the server closes it. New connections are paced by --rate
 * (per second). --src FIRST-LAST spreads them over IPv4 source addresses,
 * round-robin (bind before connect, IP_BIND_ADDRESS_NO_PORT). The run ends
 * after --duration seconds, on SIGTERM or SIGINT, or when a counted mode has
 * done its count; what was done is printed then, "name: value" per line.
 * With --progress a status line goes to stderr every second.
 *
 * RLIMIT_NOFILE is raised to its hard limit; a mode that needs more
 * descriptors than that stops at once with the figure.
 *
 * Exit: 0 done (refused handshakes are what unknown-psk expects), 1 an
 * error (nothing could connect, no descriptors, out of memory), 2 usage,
 * 3 measure: a call failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <poll.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "crypto.h"
#include "hex.h"
#include "num.h"
#include "ztp/iccid.h"

#define MAX_CONNS 100000
#define FD_SPARE 32          /* descriptors besides the connections */
#define TICK_US 100000u      /* timers: dribbles, deadlines, progress */
#define HS_DEADLINE_US 10000000u /* unknown-psk: a handshake's outcome */
#define BODY_CHUNK 16384
#define HEAD_CAP 512
#define RESP_CAP 65536 /* measure: an answer */
#define DEFAULT_DEVID "B58D51C5504D5257352E3120FF0D1338"
#define MAX_FAIL_LOG 5 /* measure: failures described on stderr, per side */

enum mode { M_IDLE, M_SLOWLORIS, M_BODIES, M_UNKNOWN_PSK, M_CONNECT_CLOSE, M_MEASURE };
static const char *const mode_name[] = { "idle", "slowloris", "bodies", "unknown-psk",
	"connect-close", "measure" };

/*
 * A slot's state. FREE slots wait in the open queue (or, counted modes,
 * for the count); the others are in epoll.
 *   CONNECTING -> (idle) HOLD | (slowloris) DRIBBLE | (TLS modes) TLS
 *   TLS -> (slowloris --tls) DRIBBLE | (bodies) SENDING | (unknown-psk) closed
 *   SENDING -> HOLD once the whole body is written
 */
enum cstate { C_FREE, C_CONNECTING, C_TLS, C_DRIBBLE, C_SENDING, C_HOLD, C__COUNT };
static const char *const cstate_name[C__COUNT] = { "free", "connecting", "handshaking",
	"dribbling", "sending", "holding" };

struct conn {
	int fd;
	enum cstate state;
	int queued;     /* in the open queue */
	SSL *ssl;
	uint64_t sent;  /* payload bytes written */
	uint64_t due;   /* slowloris: the next byte; unknown-psk: the deadline (us) */
	char head[16];  /* the answer's first bytes, for its status */
	size_t headlen;
	uint8_t identity[ICCID_IDENTITY_MAX];
	size_t idlen;
	const uint8_t *psk; /* measure: the SIM's key; else a random one */
	size_t psklen;
};

struct opts {
	enum mode mode;
	uint64_t count, size;
	struct sockaddr_storage target;
	socklen_t target_len;
	char target_str[80];
	int have_src;
	uint32_t src_first, src_last, src_next; /* IPv4, host order */
	struct sockaddr_storage src6;          /* a single source address (IPv6 or IPv4) */
	socklen_t src6_len;
	double duration;
	uint64_t rate, interval, parallel;
	int tls, progress;
	const char *path;
	/* measure */
	char device_str[80], admin_str[80];
	struct sockaddr_storage device, admin;
	socklen_t device_len, admin_len;
	char iccid[ICCID_STR_SIZE];
	uint8_t psk[64];
	size_t psklen;
	char devid[40];
	const char *fetch_path, *admin_path, *token, *json;
	uint64_t calls, timeout, pause_ms;
	double max_seconds;
};

struct stats {
	uint64_t connects, connected, connect_errors, closed_by_server, reopened;
	uint64_t tls_ok, tls_failed, timed_out, bodies_written, done, peak_open;
	uint64_t bytes_out, bytes_in;
	uint64_t status[600];
	int last_errno;
	char last_tls_error[160];
};

static struct opts O;
static struct stats S;
static volatile sig_atomic_t stop_flag;
static struct conn *conns;
static size_t nconns;
static uint32_t *openq; /* ring of slot numbers waiting for a connection */
static size_t q_head, q_len;
static uint64_t started; /* counted modes: connections begun */
static int epfd = -1;
static SSL_CTX *psk_ctx, *cert_ctx;
static uint8_t *hello; /* slowloris: the ClientHello dribbled */
static size_t hello_len;
static char http_head[HEAD_CAP];
static size_t http_head_len;
static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t x = rng_state; /* xorshift64: identities and stagger, not secrets */

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ztp-attack idle N          --target HOST:PORT [common]\n"
	    "       ztp-attack slowloris N     --target HOST:PORT [--tls] [--interval S] [common]\n"
	    "       ztp-attack bodies N SIZE   --target HOST:PORT [--path P] [common]\n"
	    "       ztp-attack unknown-psk N   --target HOST:PORT [--parallel P] [common]\n"
	    "       ztp-attack connect-close N --target HOST:PORT [--parallel P] [common]\n"
	    "       ztp-attack measure [--device HOST:PORT --iccid ICCID --psk HEX\n"
	    "                          [--device-id HEX] [--fetch-path P]]\n"
	    "                          [--admin HOST:PORT --token TOKEN [--admin-path P]]\n"
	    "                          [-n CALLS] [--timeout S] [--pause-ms MS]\n"
	    "                          [--max-seconds S] [--json FILE] [--src ADDR]\n"
	    "common: --src FIRST[-LAST]  source addresses, round-robin (IPv4 range or one address)\n"
	    "        --duration S        stop after S seconds (default: SIGTERM, or the count)\n"
	    "        --rate R            new connections per second at most (default 5000, 0: no limit)\n"
	    "        --interval S        slowloris: seconds between two bytes (default 2)\n"
	    "        --parallel P        counted modes: connections at once (default 8)\n"
	    "        --path P            bodies, slowloris --tls: the request path (default /v1/sims)\n"
	    "        --progress          a status line on stderr every second\n"
	    "measure: -n calls per side (default 50), --timeout per call, connect to last byte\n"
	    "         (default 5), --pause-ms between two calls of a side (default 50),\n"
	    "         --max-seconds for the whole run (default 300); percentiles are over\n"
	    "         every call, a failed one counted at the time it took to fail\n");
	exit(2);
}

static void
die_usage(const char *what, const char *v)
{
	fprintf(stderr, "ztp-attack: bad %s '%s'\n", what, v);
	usage();
}

/* HOST:PORT, [V6]:PORT: numeric addresses only. 0, or -1. */
static int
parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon, *h = s;
	size_t hl;
	uint64_t port;
	struct addrinfo hints, *res = NULL;

	if ((colon = strrchr(s, ':')) == NULL || num_parse_u64z(colon + 1, 1, 65535, &port) != 0)
		return -1;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	return 0;
}

/* FIRST-LAST (IPv4) or one address of either family. 0, or -1. */
static int
parse_src(const char *s)
{
	char first[64];
	const char *dash = strchr(s, '-');
	struct in_addr a, b;
	size_t n = dash != NULL ? (size_t)(dash - s) : strlen(s);

	if (n >= sizeof(first))
		return -1;
	memcpy(first, s, n);
	first[n] = '\0';
	O.have_src = 1;
	if (dash == NULL && strchr(s, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&O.src6;
		memset(s6, 0, sizeof(*s6));
		s6->sin6_family = AF_INET6;
		O.src6_len = sizeof(*s6);
		return inet_pton(AF_INET6, s, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	if (inet_pton(AF_INET, first, &a) != 1)
		return -1;
	b = a;
	if (dash != NULL && inet_pton(AF_INET, dash + 1, &b) != 1)
		return -1;
	O.src_first = ntohl(a.s_addr);
	O.src_last = ntohl(b.s_addr);
	O.src_next = O.src_first;
	return O.src_last >= O.src_first ? 0 : -1;
}

static double
parse_seconds(const char *what, const char *v, double max)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || *end != '\0' || !(d >= 0) || d > max)
		die_usage(what, v);
	return d;
}

static uint64_t
parse_u64(const char *what, const char *v, uint64_t min, uint64_t max)
{
	uint64_t n;

	if (num_parse_u64z(v, min, max, &n) != 0)
		die_usage(what, v);
	return n;
}

static void
parse_args(int argc, char **argv)
{
	int i = 2;

	if (argc < 2)
		usage();
	O.rate = 5000;
	O.interval = 2;
	O.parallel = 8;
	O.path = "/v1/sims";
	O.calls = 50;
	O.timeout = 5;
	O.pause_ms = 50;
	O.max_seconds = 300;
	snprintf(O.devid, sizeof(O.devid), "%s", DEFAULT_DEVID);
	O.admin_path = "/v1/sims?limit=1";
	if (!strcmp(argv[1], "idle"))
		O.mode = M_IDLE;
	else if (!strcmp(argv[1], "slowloris"))
		O.mode = M_SLOWLORIS;
	else if (!strcmp(argv[1], "bodies"))
		O.mode = M_BODIES;
	else if (!strcmp(argv[1], "unknown-psk"))
		O.mode = M_UNKNOWN_PSK;
	else if (!strcmp(argv[1], "connect-close"))
		O.mode = M_CONNECT_CLOSE;
	else if (!strcmp(argv[1], "measure"))
		O.mode = M_MEASURE;
	else
		usage();
	if (O.mode != M_MEASURE) {
		if (argc < 3)
			usage();
		O.count = parse_u64("count", argv[i++], 1, MAX_CONNS);
		if (O.mode == M_BODIES) {
			if (argc < 4)
				usage();
			O.size = parse_u64("size", argv[i++], 0, UINT64_C(1) << 40);
		}
	}
	for (; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--tls")) {
			O.tls = 1;
			continue;
		}
		if (!strcmp(a, "--progress")) {
			O.progress = 1;
			continue;
		}
		if (v == NULL || !strcmp(a, "--help") || !strcmp(a, "-h"))
			usage();
		i++;
		if (!strcmp(a, "--target")) {
			if (parse_hostport(v, &O.target, &O.target_len) != 0)
				die_usage("target", v);
			snprintf(O.target_str, sizeof(O.target_str), "%s", v);
		} else if (!strcmp(a, "--src")) {
			if (parse_src(v) != 0)
				die_usage("source addresses", v);
		} else if (!strcmp(a, "--duration")) {
			O.duration = parse_seconds("duration", v, 86400);
		} else if (!strcmp(a, "--rate")) {
			O.rate = parse_u64("rate", v, 0, 1000000);
		} else if (!strcmp(a, "--interval")) {
			O.interval = parse_u64("interval", v, 1, 3600);
		} else if (!strcmp(a, "--parallel")) {
			O.parallel = parse_u64("parallel", v, 1, 4096);
		} else if (!strcmp(a, "--path")) {
			O.path = v;
		} else if (!strcmp(a, "--device")) {
			if (parse_hostport(v, &O.device, &O.device_len) != 0)
				die_usage("device address", v);
			snprintf(O.device_str, sizeof(O.device_str), "%s", v);
		} else if (!strcmp(a, "--admin")) {
			if (parse_hostport(v, &O.admin, &O.admin_len) != 0)
				die_usage("admin address", v);
			snprintf(O.admin_str, sizeof(O.admin_str), "%s", v);
		} else if (!strcmp(a, "--iccid")) {
			if (!iccid_valid(v, strlen(v)))
				die_usage("ICCID", v);
			snprintf(O.iccid, sizeof(O.iccid), "%s", v);
		} else if (!strcmp(a, "--psk")) {
			if (hex_decode(v, strlen(v), O.psk, sizeof(O.psk), &O.psklen) != 0 ||
			    O.psklen == 0)
				die_usage("PSK", "(hidden)");
		} else if (!strcmp(a, "--device-id")) {
			if (strlen(v) >= sizeof(O.devid) || !hex_valid(v, strlen(v)))
				die_usage("device id", v);
			snprintf(O.devid, sizeof(O.devid), "%s", v);
		} else if (!strcmp(a, "--fetch-path")) {
			O.fetch_path = v;
		} else if (!strcmp(a, "--admin-path")) {
			O.admin_path = v;
		} else if (!strcmp(a, "--token")) {
			O.token = v;
		} else if (!strcmp(a, "--json")) {
			O.json = v;
		} else if (!strcmp(a, "-n")) {
			O.calls = parse_u64("call count", v, 1, 1000000);
		} else if (!strcmp(a, "--timeout")) {
			O.timeout = parse_u64("timeout", v, 1, 600);
		} else if (!strcmp(a, "--pause-ms")) {
			O.pause_ms = parse_u64("pause", v, 0, 60000);
		} else if (!strcmp(a, "--max-seconds")) {
			O.max_seconds = parse_seconds("max-seconds", v, 86400);
		} else {
			fprintf(stderr, "ztp-attack: unknown option %s\n", a);
			usage();
		}
	}
	if (O.mode == M_MEASURE) {
		if (O.device_len == 0 && O.admin_len == 0) {
			fprintf(stderr, "ztp-attack: measure needs --device or --admin\n");
			usage();
		}
		if (O.device_len != 0 && (O.iccid[0] == '\0' || O.psklen == 0)) {
			fprintf(stderr, "ztp-attack: --device needs --iccid and --psk\n");
			usage();
		}
		if (O.admin_len != 0 && O.token == NULL) {
			fprintf(stderr, "ztp-attack: --admin needs --token\n");
			usage();
		}
		if (O.have_src && O.src_first != O.src_last) {
			fprintf(stderr, "ztp-attack: measure takes one --src address\n");
			usage();
		}
		return;
	}
	if (O.target_len == 0) {
		fprintf(stderr, "ztp-attack: --target HOST:PORT is required\n");
		usage();
	}
	if (O.have_src && O.src6_len == 0 && O.target.ss_family != AF_INET)
		die_usage("source addresses (IPv4) for the target", O.target_str);
	if (O.have_src && O.src6_len != 0 && O.target.ss_family != AF_INET6)
		die_usage("source address (IPv6) for the target", O.target_str);
	if (O.tls && O.mode != M_SLOWLORIS)
		die_usage("option for this mode", "--tls");
}

/* ---- TLS */

/* The client's PSK: the slot's identity, a random key no SIM has. */
static int
use_session(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
    SSL_SESSION **sess)
{
	static const unsigned char gcm_id[] = { 0x13, 0x01 };
	struct conn *c = SSL_get_app_data(ssl);
	uint8_t key[32];
	SSL_SESSION *ps;

	(void)md;
	*sess = NULL;
	if (c == NULL)
		return 0;
	if (c->psk != NULL) {
		ps = crypto_psk_session(SSL_CIPHER_find(ssl, gcm_id), c->psk, c->psklen);
	} else {
		crypto_random(key, sizeof(key));
		ps = crypto_psk_session(SSL_CIPHER_find(ssl, gcm_id), key, sizeof(key));
		OPENSSL_cleanse(key, sizeof(key));
	}
	if (ps == NULL)
		return 0;
	*sess = ps;
	*id = c->identity;
	*idlen = c->idlen;
	return 1;
}

static SSL_CTX *
make_psk_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256");
	SSL_CTX_set_psk_use_session_callback(ctx, use_session);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

/* The server's certificate is not checked: the attacker does not care. */
static SSL_CTX *
make_cert_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

/* A random ICCID no SIM has, as ASCII digits or (every other one) EF_ICCID bytes. */
static void
random_identity(struct conn *c)
{
	char digits[ICCID_STR_SIZE];
	int k;

	memcpy(digits, "8999", 4); /* 89: telecom; 99: a country code no SIM maker uses here */
	for (k = 4; k < 19; k++)
		digits[k] = (char)('0' + rng() % 10);
	digits[19] = '\0';
	if (rng() & 1) {
		iccid_to_ef(digits, c->identity);
		c->idlen = ICCID_EF_LEN;
	} else {
		memcpy(c->identity, digits, 19);
		c->idlen = 19;
	}
}

/* slowloris: the bytes of one real ClientHello (PSK, as a SIM sends it). 0, or -1. */
static int
make_hello(void)
{
	struct conn tmp;
	SSL *ssl = SSL_new(psk_ctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	int rc = -1;
	long n;
	char *p;

	memset(&tmp, 0, sizeof(tmp));
	random_identity(&tmp);
	if (ssl == NULL || rb == NULL || wb == NULL)
		goto out;
	SSL_set_bio(ssl, rb, wb);
	rb = wb = NULL;
	SSL_set_app_data(ssl, &tmp);
	if (SSL_connect(ssl) == 1)
		goto out;
	n = BIO_get_mem_data(SSL_get_wbio(ssl), &p);
	if (n <= 0 || (hello = malloc((size_t)n)) == NULL)
		goto out;
	memcpy(hello, p, (size_t)n);
	hello_len = (size_t)n;
	rc = 0;
out:
	SSL_free(ssl);
	BIO_free(rb);
	BIO_free(wb);
	return rc;
}

/* ---- attack: slots, the open queue, epoll */

static int
ep_set(struct conn *c, uint32_t events, int op)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u32 = (uint32_t)(c - conns);
	return epoll_ctl(epfd, op, c->fd, &ev);
}

static void
queue_push(struct conn *c)
{
	if (c->queued)
		return;
	openq[(q_head + q_len) % nconns] = (uint32_t)(c - conns);
	q_len++;
	c->queued = 1;
}

static size_t
open_count(void)
{
	size_t i, n = 0;

	for (i = 0; i < nconns; i++)
		n += conns[i].state != C_FREE && conns[i].state != C_CONNECTING;
	return n;
}

/* Close a slot; reopen: put it back in the open queue. */
static void
conn_close(struct conn *c, int reopen)
{
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd); /* leaves epoll with it */
		c->fd = -1;
	}
	c->state = C_FREE;
	c->sent = 0;
	c->headlen = 0;
	if (reopen) {
		S.reopened += O.mode == M_IDLE || O.mode == M_SLOWLORIS;
		queue_push(c);
	}
}

/* A counted mode finished one: the slot starts the next one if any is left. */
static void
conn_done(struct conn *c)
{
	S.done++;
	conn_close(c, 0);
	if (started < O.count)
		queue_push(c);
}

/* The server closed (or broke) a connection we were holding. */
static void
conn_lost(struct conn *c)
{
	S.closed_by_server++;
	if (O.mode == M_UNKNOWN_PSK) {
		S.tls_failed++;
		conn_done(c);
		return;
	}
	conn_close(c, O.mode == M_IDLE || O.mode == M_SLOWLORIS);
}

static void
next_src(struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	if (O.src6_len != 0) {
		memcpy(ss, &O.src6, O.src6_len);
		*len = O.src6_len;
		return;
	}
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(O.src_next);
	*len = sizeof(*sin);
	O.src_next = O.src_next == O.src_last ? O.src_first : O.src_next + 1;
}

/* A non-blocking connect from the next source address. The socket, or -1 (errno). */
static int
tcp_socket(const struct sockaddr_storage *to, socklen_t tolen, int src)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, e;

	fd = socket(to->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (src) {
		next_src(&ss, &len);
#ifdef IP_BIND_ADDRESS_NO_PORT
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
#endif
		if (bind(fd, (struct sockaddr *)&ss, len) != 0)
			goto fail;
	}
	/* the request must not wait for the ACK of the handshake's last flight (Nagle) */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)to, tolen) != 0 && errno != EINPROGRESS)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static void
conn_open(struct conn *c)
{
	c->fd = tcp_socket(&O.target, O.target_len, O.have_src);
	S.connects++;
	if (O.mode == M_UNKNOWN_PSK || O.mode == M_CONNECT_CLOSE)
		started++;
	if (c->fd < 0) {
		S.connect_errors++;
		S.last_errno = errno;
		if (O.mode == M_UNKNOWN_PSK || O.mode == M_CONNECT_CLOSE)
			conn_done(c);
		else
			queue_push(c);
		return;
	}
	c->state = C_CONNECTING;
	c->due = clock_mono_us() + HS_DEADLINE_US;
	if (ep_set(c, EPOLLOUT, EPOLL_CTL_ADD) != 0) {
		S.connect_errors++;
		S.last_errno = errno;
		conn_close(c, 0);
	}
}

/* Open queued slots as far as the rate allows. */
static void
open_pending(double *tokens, uint64_t *last)
{
	uint64_t t = clock_mono_us();

	if (O.rate > 0) {
		double cap = O.rate / 10.0 > 1 ? O.rate / 10.0 : 1;
		*tokens += (double)(t - *last) * (double)O.rate / 1e6;
		if (*tokens > cap)
			*tokens = cap;
	}
	*last = t;
	while (q_len > 0 && !stop_flag && (O.rate == 0 || *tokens >= 1)) {
		struct conn *c = &conns[openq[q_head]];
		if ((O.mode == M_UNKNOWN_PSK || O.mode == M_CONNECT_CLOSE) && started >= O.count)
			break;
		q_head = (q_head + 1) % nconns;
		q_len--;
		c->queued = 0;
		conn_open(c);
		if (O.rate > 0)
			*tokens -= 1;
	}
}

/* The answer's first bytes: count its status once the line is there. */
static void
saw_bytes(struct conn *c, const char *buf, size_t n)
{
	unsigned code;
	size_t k;

	S.bytes_in += n;
	if (c->headlen >= 12)
		return;
	k = n < 12 - c->headlen ? n : 12 - c->headlen;
	memcpy(c->head + c->headlen, buf, k);
	c->headlen += k;
	if (c->headlen == 12 && !memcmp(c->head, "HTTP/1.", 7) && c->head[8] == ' ' &&
	    sscanf(c->head + 9, "%3u", &code) == 1 && code >= 100 && code < 600)
		S.status[code]++;
}

/* Read what the server sends; -1 if it closed or broke the connection. */
static int
conn_read(struct conn *c)
{
	char buf[4096];
	int n;

	for (;;) {
		if (c->ssl == NULL) {
			ssize_t r = read(c->fd, buf, sizeof(buf));
			if (r > 0) {
				saw_bytes(c, buf, (size_t)r);
				continue;
			}
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				return 0;
			return -1;
		}
		ERR_clear_error();
		n = SSL_read(c->ssl, buf, sizeof(buf));
		if (n > 0) {
			saw_bytes(c, buf, (size_t)n);
			continue;
		}
		switch (SSL_get_error(c->ssl, n)) {
		case SSL_ERROR_WANT_READ:
			return 0;
		case SSL_ERROR_WANT_WRITE:
			return 0; /* SSL_write is called often enough in SENDING */
		default:
			return -1;
		}
	}
}

/* One byte more of the ClientHello, or of the endless request head. */
static void
dribble(struct conn *c)
{
	uint8_t b;
	int n;

	if (c->ssl == NULL) {
		if (c->sent >= hello_len)
			return; /* all sent: the server has it all, now it waits on us */
		b = hello[c->sent];
		if (write(c->fd, &b, 1) == 1) {
			c->sent++;
			S.bytes_out++;
		} else if (errno != EAGAIN) {
			conn_lost(c);
		}
		return;
	}
	/* after the head proper, "X-Pad: ..." lines never ending with an empty one */
	if (c->sent < http_head_len)
		b = (uint8_t)http_head[c->sent];
	else
		b = (uint8_t)"X-Pad: aaaaaaaaaa\r\n"[(c->sent - http_head_len) % 19];
	ERR_clear_error();
	n = SSL_write(c->ssl, &b, 1);
	if (n == 1) {
		c->sent++;
		S.bytes_out++;
	} else if (SSL_get_error(c->ssl, n) != SSL_ERROR_WANT_WRITE) {
		conn_lost(c);
	}
}

/*
 * bodies: write the head, then one chunk of the body per call (each turn
 * of the event loop), so that all the bodies are in flight together, as
 * they would be from many attackers, rather than one after the other.
 */
static void
send_body(struct conn *c)
{
	static char chunk[BODY_CHUNK];
	uint64_t total = http_head_len + O.size;
	int n, turn = 0;

	if (chunk[0] == '\0')
		memset(chunk, 'a', sizeof(chunk));
	while (c->sent < total && (c->sent < http_head_len || turn++ == 0)) {
		const char *p;
		size_t len;
		if (c->sent < http_head_len) {
			p = http_head + c->sent;
			len = http_head_len - (size_t)c->sent;
		} else {
			p = chunk;
			len = total - c->sent < sizeof(chunk) ? (size_t)(total - c->sent) : sizeof(chunk);
		}
		ERR_clear_error();
		n = SSL_write(c->ssl, p, (int)len);
		if (n <= 0) {
			int e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
				return;
			conn_lost(c);
			return;
		}
		c->sent += (uint64_t)n;
		S.bytes_out += (uint64_t)n;
	}
	if (c->sent < total)
		return; /* more at the next turn */
	S.bodies_written++;
	c->state = C_HOLD;
	ep_set(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
}

static void
tls_failed(struct conn *c)
{
	unsigned long e = ERR_peek_last_error();

	S.tls_failed++;
	if (e != 0)
		ERR_error_string_n(e, S.last_tls_error, sizeof(S.last_tls_error));
	if (O.mode == M_UNKNOWN_PSK)
		conn_done(c);
	else
		conn_close(c, O.mode == M_SLOWLORIS);
}

static void
tls_step(struct conn *c)
{
	int n, e;

	ERR_clear_error();
	n = SSL_connect(c->ssl);
	if (n != 1) {
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			ep_set(c, EPOLLIN, EPOLL_CTL_MOD);
		else if (e == SSL_ERROR_WANT_WRITE)
			ep_set(c, EPOLLOUT, EPOLL_CTL_MOD);
		else
			tls_failed(c);
		return;
	}
	S.tls_ok++;
	switch (O.mode) {
	case M_UNKNOWN_PSK:
		conn_done(c); /* accepted: should not happen, counted as tls_ok */
		break;
	case M_SLOWLORIS:
		c->state = C_DRIBBLE;
		c->due = clock_mono_us() + rng() % (O.interval * 1000000u);
		ep_set(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
		dribble(c);
		break;
	case M_BODIES:
		c->state = C_SENDING;
		ep_set(c, EPOLLIN | EPOLLOUT | EPOLLRDHUP, EPOLL_CTL_MOD);
		send_body(c);
		break;
	default:
		break;
	}
}

static void
connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
		S.connect_errors++;
		S.last_errno = err != 0 ? err : errno;
		if (O.mode == M_UNKNOWN_PSK || O.mode == M_CONNECT_CLOSE)
			conn_done(c);
		else
			conn_close(c, 1);
		return;
	}
	S.connected++;
	switch (O.mode) {
	case M_CONNECT_CLOSE:
		conn_done(c);
		return;
	case M_IDLE:
		c->state = C_HOLD;
		ep_set(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
		return;
	case M_SLOWLORIS:
		if (!O.tls) {
			c->state = C_DRIBBLE;
			c->due = clock_mono_us() + rng() % (O.interval * 1000000u);
			ep_set(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
			dribble(c);
			return;
		}
		break;
	default:
		break;
	}
	c->ssl = SSL_new(O.mode == M_UNKNOWN_PSK ? psk_ctx : cert_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		fprintf(stderr, "ztp-attack: out of memory for TLS\n");
		exit(1);
	}
	if (O.mode == M_UNKNOWN_PSK) {
		random_identity(c);
		SSL_set_app_data(c->ssl, c);
	} else {
		SSL_set_tlsext_host_name(c->ssl, "localhost");
	}
	c->state = C_TLS;
	tls_step(c);
}

static void
on_event(struct conn *c, uint32_t ev)
{
	switch (c->state) {
	case C_CONNECTING:
		connected(c);
		break;
	case C_TLS:
		tls_step(c);
		break;
	case C_SENDING:
		if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) && conn_read(c) != 0) {
			conn_lost(c);
			break;
		}
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			send_body(c);
		break;
	case C_DRIBBLE:
	case C_HOLD:
		if (conn_read(c) != 0)
			conn_lost(c);
		break;
	default:
		break;
	}
}

static void
print_progress(uint64_t t0)
{
	size_t i, n[C__COUNT] = { 0 };
	int k;

	for (i = 0; i < nconns; i++)
		n[conns[i].state]++;
	fprintf(stderr, "progress: t=%.0f", (double)(clock_mono_us() - t0) / 1e6);
	for (k = 1; k < C__COUNT; k++)
		fprintf(stderr, " %s=%zu", cstate_name[k], n[k]);
	fprintf(stderr,
	    " connects=%" PRIu64 " connected=%" PRIu64 " closed_by_server=%" PRIu64
	    " connect_errors=%" PRIu64 " tls_ok=%" PRIu64 " tls_failed=%" PRIu64
	    " bodies_written=%" PRIu64 " done=%" PRIu64 "\n",
	    S.connects, S.connected, S.closed_by_server, S.connect_errors, S.tls_ok, S.tls_failed,
	    S.bodies_written, S.done);
}

/* Timers, every tick: dribbles, unknown-psk deadlines, the peak. */
static void
tick(void)
{
	uint64_t t = clock_mono_us(), open;
	size_t i;

	for (i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		if (c->state == C_DRIBBLE && c->due <= t) {
			dribble(c);
			c->due = t + O.interval * 1000000u;
		} else if (O.mode == M_UNKNOWN_PSK && (c->state == C_CONNECTING ||
		    c->state == C_TLS) && c->due <= t) {
			S.timed_out++;
			conn_done(c);
		}
	}
	open = open_count();
	if (open > S.peak_open)
		S.peak_open = open;
}

static void
print_summary(double secs)
{
	unsigned k;

	printf("mode: %s\n", mode_name[O.mode]);
	printf("target: %s\n", O.target_str);
	printf("seconds: %.1f s\n", secs);
	printf("connects: %" PRIu64 " connections\n", S.connects);
	printf("connected: %" PRIu64 " connections\n", S.connected);
	printf("connect_errors: %" PRIu64 " connections\n", S.connect_errors);
	if (S.last_errno)
		printf("last_connect_error: %s\n", strerror(S.last_errno));
	printf("open_at_end: %zu connections\n", open_count());
	printf("peak_open: %" PRIu64 " connections\n", S.peak_open);
	printf("closed_by_server: %" PRIu64 " connections\n", S.closed_by_server);
	if (O.mode == M_IDLE || O.mode == M_SLOWLORIS)
		printf("reopened: %" PRIu64 " connections\n", S.reopened);
	if (O.mode == M_BODIES || O.mode == M_UNKNOWN_PSK || O.tls) {
		printf("tls_ok: %" PRIu64 " handshakes\n", S.tls_ok);
		printf("tls_failed: %" PRIu64 " handshakes\n", S.tls_failed);
	}
	if (O.mode == M_UNKNOWN_PSK) {
		printf("refused: %" PRIu64 " handshakes\n", S.tls_failed);
		printf("timed_out: %" PRIu64 " handshakes\n", S.timed_out);
		printf("rate: %.0f /s\n", secs > 0 ? (double)S.done / secs : 0);
		if (S.last_tls_error[0] != '\0')
			printf("last_tls_error: %s\n", S.last_tls_error);
	}
	if (O.mode == M_UNKNOWN_PSK || O.mode == M_CONNECT_CLOSE)
		printf("done: %" PRIu64 " of %" PRIu64 "\n", S.done, O.count);
	if (O.mode == M_BODIES)
		printf("bodies_written: %" PRIu64 " bodies\n", S.bodies_written);
	printf("bytes_out: %" PRIu64 " bytes (HTTP bytes, TLS not counted)\n", S.bytes_out);
	printf("bytes_in: %" PRIu64 " bytes (HTTP bytes, TLS not counted)\n", S.bytes_in);
	for (k = 100; k < 600; k++)
		if (S.status[k] > 0)
			printf("answers_%u: %" PRIu64 " answers\n", k, S.status[k]);
	fflush(stdout);
}

/* Raise RLIMIT_NOFILE's soft limit to the hard one; need more: -1. */
static int
raise_nofile(uint64_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			return -1;
	}
	if (rl.rlim_cur != RLIM_INFINITY && need > rl.rlim_cur) {
		fprintf(stderr, "ztp-attack: %" PRIu64 " descriptors needed, RLIMIT_NOFILE is %llu\n",
		    need, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

static int
run_attack(void)
{
	struct epoll_event evs[256];
	uint64_t t0, last, next_tick, next_progress, end;
	double tokens;
	size_t i;
	int n, k;

	nconns = (O.mode == M_UNKNOWN_PSK || O.mode == M_CONNECT_CLOSE) ?
	    (O.parallel < O.count ? O.parallel : O.count) : O.count;
	if (raise_nofile(nconns + FD_SPARE) != 0)
		return 1;
	if ((conns = calloc(nconns, sizeof(*conns))) == NULL ||
	    (openq = calloc(nconns, sizeof(*openq))) == NULL) {
		fprintf(stderr, "ztp-attack: out of memory for %zu connections\n", nconns);
		return 1;
	}
	if ((psk_ctx = make_psk_ctx()) == NULL || (cert_ctx = make_cert_ctx()) == NULL) {
		fprintf(stderr, "ztp-attack: cannot set up TLS\n");
		return 1;
	}
	if (O.mode == M_SLOWLORIS && !O.tls && make_hello() != 0) {
		fprintf(stderr, "ztp-attack: cannot make a ClientHello\n");
		return 1;
	}
	if (O.mode == M_BODIES)
		n = snprintf(http_head, sizeof(http_head),
		    "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
		    "Content-Length: %" PRIu64 "\r\n\r\n", O.path, O.size);
	else
		n = snprintf(http_head, sizeof(http_head),
		    "GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ztp-attack\r\n", O.path);
	if (n < 0 || (size_t)n >= sizeof(http_head))
		die_usage("path (too long)", O.path);
	http_head_len = (size_t)n;
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("ztp-attack: epoll_create1");
		return 1;
	}
	for (i = 0; i < nconns; i++) {
		conns[i].fd = -1;
		queue_push(&conns[i]);
	}
	t0 = last = clock_mono_us();
	next_tick = t0 + TICK_US;
	next_progress = t0 + 1000000u;
	end = O.duration > 0 ? t0 + (uint64_t)(O.duration * 1e6) : UINT64_MAX;
	tokens = O.rate > 0 ? 1 : 0;
	while (!stop_flag) {
		uint64_t t = clock_mono_us();
		if (t >= end)
			break;
		if ((O.mode == M_UNKNOWN_PSK || O.mode == M_CONNECT_CLOSE) && S.done >= O.count)
			break;
		open_pending(&tokens, &last);
		n = epoll_wait(epfd, evs, 256, 10);
		if (n < 0 && errno != EINTR) {
			perror("ztp-attack: epoll_wait");
			return 1;
		}
		for (k = 0; k < n; k++) {
			struct conn *c = &conns[evs[k].data.u32];
			if (c->fd >= 0)
				on_event(c, evs[k].events);
		}
		t = clock_mono_us();
		if (t >= next_tick) {
			tick();
			next_tick = t + TICK_US;
		}
		if (O.progress && t >= next_progress) {
			print_progress(t0);
			next_progress += 1000000u;
		}
	}
	tick();
	print_summary((double)(clock_mono_us() - t0) / 1e6);
	for (i = 0; i < nconns; i++)
		conn_close(&conns[i], 0);
	if (S.connects > 0 && S.connected == 0) {
		fprintf(stderr, "ztp-attack: no connection could be made to %s%s%s\n", O.target_str,
		    S.last_errno ? ": " : "", S.last_errno ? strerror(S.last_errno) : "");
		return 1;
	}
	return 0;
}

/* ---- measure: calls one at a time, each with a deadline */

struct side {
	const char *name;
	const struct sockaddr_storage *to;
	socklen_t tolen;
	SSL_CTX *ctx;
	char request[1024];
	size_t reqlen;
	struct conn id; /* device: the PSK identity */
	double *ms;
	uint64_t calls, failures, failures_by[4];
	pthread_t tid;
};
static const char *const fail_name[4] = { "connect", "tls", "timeout", "status" };
enum { F_CONNECT = 1, F_TLS, F_TIMEOUT, F_STATUS }; /* call_once: 0 is success */

/* Wait for fd to be ready for ev until deadline: 0, or -1 when it passed. */
static int
wait_fd(int fd, short ev, uint64_t deadline)
{
	struct pollfd p = { fd, ev, 0 };
	uint64_t t;
	int r;

	for (;;) {
		t = clock_mono_us();
		if (t >= deadline)
			return -1;
		r = poll(&p, 1, (int)((deadline - t + 999) / 1000));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* Wait as an SSL call that returned n asks. 0 to retry, -1 failed, -2 timed out. */
static int
ssl_wait(SSL *ssl, int fd, int n, uint64_t deadline)
{
	switch (SSL_get_error(ssl, n)) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(fd, POLLIN, deadline) == 0 ? 0 : -2;
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(fd, POLLOUT, deadline) == 0 ? 0 : -2;
	default:
		return -1;
	}
}

/* The first case-insensitive match of name in [s, end), or NULL. */
static const char *
find_header(const char *s, const char *end, const char *name)
{
	size_t n = strlen(name);

	for (; s + n <= end; s++)
		if (strncasecmp(s, name, n) == 0)
			return s;
	return NULL;
}

/*
 * One call: connect, handshake, the request, the whole answer (to its
 * Content-Length, or the close), all before the deadline; the status must
 * be 200. 0, or F_* with why in err.
 */
static int
call_once(struct side *s, char *err, size_t errlen)
{
	uint64_t deadline = clock_mono_us() + O.timeout * 1000000u;
	char *resp = NULL, *hend;
	size_t len = 0, hlen = 0, clen = SIZE_MAX;
	SSL *ssl = NULL;
	int fd, n, rc = F_CONNECT, w, e = 0;
	socklen_t el = sizeof(e);
	unsigned code;

	fd = tcp_socket(s->to, s->tolen, O.have_src);
	if (fd < 0) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		goto out;
	}
	if (wait_fd(fd, POLLOUT, deadline) != 0) {
		snprintf(err, errlen, "no TCP connection within %" PRIu64 " s", O.timeout);
		rc = F_TIMEOUT;
		goto out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0) {
		snprintf(err, errlen, "connect: %s", strerror(e));
		goto out;
	}
	rc = F_TLS;
	if ((ssl = SSL_new(s->ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	SSL_set_app_data(ssl, &s->id);
	if (s->id.idlen == 0)
		SSL_set_tlsext_host_name(ssl, "localhost");
	while ((n = SSL_connect(ssl)) != 1) {
		if ((w = ssl_wait(ssl, fd, n, deadline)) == 0)
			continue;
		if (w == -2) {
			snprintf(err, errlen, "handshake not done within %" PRIu64 " s", O.timeout);
			rc = F_TIMEOUT;
		} else {
			snprintf(err, errlen, "handshake failed: %s",
			    ERR_reason_error_string(ERR_peek_last_error()) ?
			    ERR_reason_error_string(ERR_peek_last_error()) : "closed");
		}
		goto out;
	}
	rc = F_TIMEOUT;
	while ((n = SSL_write(ssl, s->request, (int)s->reqlen)) <= 0) {
		if ((w = ssl_wait(ssl, fd, n, deadline)) == 0)
			continue;
		snprintf(err, errlen, "%s", w == -2 ? "request not sent in time" : "request not sent");
		rc = w == -2 ? F_TIMEOUT : F_STATUS;
		goto out;
	}
	if ((resp = malloc(RESP_CAP + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (;;) {
		if (hlen > 0 && len - hlen >= clen)
			break;
		if (len >= RESP_CAP) {
			snprintf(err, errlen, "answer over %d bytes", RESP_CAP);
			rc = F_STATUS;
			goto out;
		}
		n = SSL_read(ssl, resp + len, (int)(RESP_CAP - len));
		if (n > 0) {
			len += (size_t)n;
			resp[len] = '\0';
			if (hlen == 0 && (hend = strstr(resp, "\r\n\r\n")) != NULL) {
				const char *cl = find_header(resp, hend, "\r\nContent-Length:");
				uint64_t v;
				hlen = (size_t)(hend - resp) + 4;
				if (cl != NULL && cl < hend) {
					const char *p = cl + 17, *q;
					while (*p == ' ')
						p++;
					for (q = p; *q >= '0' && *q <= '9'; q++)
						;
					if (num_parse_u64(p, (size_t)(q - p), 0, RESP_CAP, &v) == 0)
						clen = (size_t)v;
				}
			}
			continue;
		}
		if (SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN)
			break;
		if ((w = ssl_wait(ssl, fd, n, deadline)) == 0)
			continue;
		if (w == -2) {
			snprintf(err, errlen, "answer not complete within %" PRIu64 " s (%zu bytes)",
			    O.timeout, len);
			goto out;
		}
		break; /* closed: look at what came */
	}
	rc = F_STATUS;
	if (len < 12 || memcmp(resp, "HTTP/1.", 7) != 0 || sscanf(resp + 9, "%3u", &code) != 1) {
		snprintf(err, errlen, "no HTTP answer (%zu bytes)", len);
		goto out;
	}
	if (code != 200) {
		snprintf(err, errlen, "status %u", code);
		goto out;
	}
	if (hlen == 0 || (clen != SIZE_MAX && len - hlen < clen)) {
		snprintf(err, errlen, "answer cut short (%zu bytes)", len);
		goto out;
	}
	rc = 0;
out:
	if (ssl != NULL && rc == 0)
		SSL_shutdown(ssl); /* close_notify, not waited for */
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	free(resp);
	return rc;
}

static void *
side_run(void *arg)
{
	struct side *s = arg;
	uint64_t end = clock_mono_us() + (uint64_t)(O.max_seconds * 1e6), t;
	char err[200];
	int rc;

	while (s->calls < O.calls && !stop_flag && clock_mono_us() < end) {
		t = clock_mono_us();
		err[0] = '\0';
		ERR_clear_error();
		rc = call_once(s, err, sizeof(err));
		s->ms[s->calls++] = (double)(clock_mono_us() - t) / 1000.0;
		if (rc != 0) {
			s->failures++;
			s->failures_by[rc - 1]++;
			if (s->failures <= MAX_FAIL_LOG)
				fprintf(stderr, "ztp-attack: %s call %" PRIu64 " failed after %.0f ms: %s\n",
				    s->name, s->calls, s->ms[s->calls - 1], err);
		}
		if (O.pause_ms > 0 && s->calls < O.calls && !stop_flag)
			usleep((useconds_t)(O.pause_ms * 1000));
	}
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank quantile of the sorted v[0..n). */
static double
quantile(const double *v, uint64_t n, double q)
{
	uint64_t r;

	if (n == 0)
		return 0;
	r = (uint64_t)ceil(q * (double)n);
	return v[r > 0 ? r - 1 : 0];
}

static void
side_report(struct side *s, FILE *json, int *first)
{
	double p50, p99, max;
	int k;

	qsort(s->ms, s->calls, sizeof(double), cmp_double);
	p50 = quantile(s->ms, s->calls, 0.50);
	p99 = quantile(s->ms, s->calls, 0.99);
	max = s->calls > 0 ? s->ms[s->calls - 1] : 0;
	printf("%s_calls: %" PRIu64 " calls\n", s->name, s->calls);
	printf("%s_failures: %" PRIu64 " calls\n", s->name, s->failures);
	for (k = 0; k < 4; k++)
		if (s->failures_by[k] > 0)
			printf("%s_failures_%s: %" PRIu64 " calls\n", s->name, fail_name[k],
			    s->failures_by[k]);
	printf("%s_p50: %.3f ms\n", s->name, p50);
	printf("%s_p99: %.3f ms\n", s->name, p99);
	printf("%s_max: %.3f ms\n", s->name, max);
	if (json != NULL) {
		fprintf(json, "%s\"%s_calls\": %" PRIu64 ", \"%s_failures\": %" PRIu64
		    ", \"%s_p50_ms\": %.3f, \"%s_p99_ms\": %.3f, \"%s_max_ms\": %.3f",
		    *first ? "" : ", ", s->name, s->calls, s->name, s->failures, s->name, p50,
		    s->name, p99, s->name, max);
		*first = 0;
	}
}

static int
run_measure(void)
{
	struct side sides[2];
	uint8_t ef[ICCID_EF_LEN];
	char efhex[2 * ICCID_EF_LEN + 1], path[256];
	size_t ns = 0, k;
	uint64_t failures = 0;
	FILE *json = NULL;
	int first = 1, n;

	memset(sides, 0, sizeof(sides));
	if ((psk_ctx = make_psk_ctx()) == NULL || (cert_ctx = make_cert_ctx()) == NULL) {
		fprintf(stderr, "ztp-attack: cannot set up TLS\n");
		return 1;
	}
	SSL_CTX_set_options(cert_ctx, SSL_OP_NO_TICKET);
	if (O.device_len != 0) {
		struct side *s = &sides[ns++];
		s->name = "fetch";
		s->to = &O.device;
		s->tolen = O.device_len;
		s->ctx = psk_ctx;
		memcpy(s->id.identity, O.iccid, strlen(O.iccid));
		s->id.idlen = strlen(O.iccid);
		s->id.psk = O.psk;
		s->id.psklen = O.psklen;
		if (O.fetch_path == NULL) {
			iccid_to_ef(O.iccid, ef);
			hex_encode(ef, sizeof(ef), efhex, sizeof(efhex));
			snprintf(path, sizeof(path), "/v1/config/%s?iccid=%s", O.devid, efhex);
		} else {
			snprintf(path, sizeof(path), "%s", O.fetch_path);
		}
		n = snprintf(s->request, sizeof(s->request),
		    "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
		s->reqlen = n > 0 && (size_t)n < sizeof(s->request) ? (size_t)n : 0;
	}
	if (O.admin_len != 0) {
		struct side *s = &sides[ns++];
		s->name = "admin";
		s->to = &O.admin;
		s->tolen = O.admin_len;
		s->ctx = cert_ctx;
		n = snprintf(s->request, sizeof(s->request),
		    "GET %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
		    "Connection: close\r\n\r\n", O.admin_path, O.token);
		s->reqlen = n > 0 && (size_t)n < sizeof(s->request) ? (size_t)n : 0;
	}
	for (k = 0; k < ns; k++) {
		if (sides[k].reqlen == 0)
			die_usage("path or token (too long)", sides[k].name);
		if ((sides[k].ms = calloc(O.calls, sizeof(double))) == NULL) {
			fprintf(stderr, "ztp-attack: out of memory\n");
			return 1;
		}
	}
	for (k = 0; k < ns; k++)
		if (pthread_create(&sides[k].tid, NULL, side_run, &sides[k]) != 0) {
			fprintf(stderr, "ztp-attack: cannot start a thread\n");
			return 1;
		}
	for (k = 0; k < ns; k++)
		pthread_join(sides[k].tid, NULL);
	if (O.json != NULL && (json = fopen(O.json, "w")) == NULL)
		fprintf(stderr, "ztp-attack: cannot write %s: %s\n", O.json, strerror(errno));
	if (json != NULL)
		fprintf(json, "{");
	printf("mode: measure\n");
	printf("timeout: %" PRIu64 " s\n", O.timeout);
	for (k = 0; k < ns; k++) {
		side_report(&sides[k], json, &first);
		failures += sides[k].failures;
		free(sides[k].ms);
	}
	if (json != NULL) {
		fprintf(json, "%s\"timeout_s\": %" PRIu64 "}\n", first ? "" : ", ", O.timeout);
		fclose(json);
	}
	fflush(stdout);
	return failures > 0 ? 3 : 0;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	int rc;

	parse_args(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (crypto_random(&rng_state, sizeof(rng_state)) != 0 || rng_state == 0)
		rng_state = (uint64_t)clock_mono_us() | 1;
	rc = O.mode == M_MEASURE ? run_measure() : run_attack();
	SSL_CTX_free(psk_ctx);
	SSL_CTX_free(cert_ctx);
	free(conns);
	free(openq);
	free(hello);
	return rc;
}
