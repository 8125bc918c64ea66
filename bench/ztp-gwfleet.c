/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-gwfleet: many simulated gateways in one process, onboarding over MQTT
 * as docs/protocol/gateways.md says, for bench/gateways.sh (issue 15). T
 * threads share N gateways; each thread onboards one gateway at a time,
 * from start to finish:
 *
 *   1. connect to the provisioning listener with its LDevID (client id
 *      ztp-<udid>, clean_session false), subscribe to P/prov/<udid>/bundle
 *   2. publish the request on P/prov/<udid>/req (its LDevID and IDevID,
 *      a fresh nonce, the IDevID's signature)        <- t_request
 *   3. receive the bundle                              <- t_bundle
 *   4. enrol over EST: mutual TLS with the LDevID, HTTP Basic with the UDID
 *      and the bundle's one-time password, a new P-256 key and a CSR with
 *      CN = UDID (libcurl, a new connection each time)
 *   5. connect to the operational listener with the certificate issued and
 *      the bundle's user name and password, publish the status "online"
 *      and wait for the broker's PUBACK                <- t_online
 *
 * end to end = t_online - t_request; request to bundle = t_bundle -
 * t_request. The gateways' identities are made before the timed phase, in
 * memory with the OpenSSL API (an IDevID from --mfr-ca, an LDevID from
 * --ldev-ca, CN = UDID; the LDevID and, later, the operational
 * certificate are written to --dir, since libmosquitto and libcurl take
 * files), and so is what ztpd must know first: with --expect an
 * expectation per UDID (POST /v1/gateway-expectations), so that a request
 * is approved as soon as it verifies.
 *
 * --est-only is the baseline: each device only enrols (step 4, the same
 * code and client: mutual TLS with its LDevID and a one-time password,
 * made beforehand with POST /v1/enrolment-passwords), timed from the key's
 * generation to the certificate in hand.
 *
 * --cut K keeps the operational connections of the first K gateways open
 * (one poll() thread serves them) and, once all are onboarded, revokes
 * their certificates one at a time (POST /v1/certs/{serial}/revoke), or
 * blocks the devices (--cut-by block; both: alternately), each time
 * waiting for the broker to close that gateway's connection: the time
 * from the admin call to the close is the cut latency.
 *
 * Prints "name: value unit" lines (and with --json a JSON object of the
 * same figures). Exit status 0 when every gateway (and every cut) made it,
 * 1 if one did not, 2 on a usage or setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <mosquitto.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "b64.h"
#include "clock.h"
#include "num.h"

#define FLEET_MAX 100000
#define THREADS_MAX 256
#define UDID_MAX 64
#define KEEPALIVE_S 60
#define MSG_MAX 65536          /* the protocol's bound on a message */
#define HTTP_ANSWER_MAX 262144 /* an EST or admin answer */
#define TURN_MS 50             /* one mosquitto_loop() at most */
#define ERRORS_SHOWN 10
#define FIRMWARE "gwfleet-1"

/* how a gateway failed; the figure names */
enum failure {
	F_NONE,
	F_SETUP,        /* its expectation or password could not be made */
	F_PROV_CONNECT, /* the provisioning listener refused or did not answer */
	F_SUBSCRIBE,
	F_REQUEST,
	F_NO_BUNDLE,    /* no answer within --timeout-ms */
	F_REFUSED,      /* refused or rejected */
	F_BAD_BUNDLE,
	F_EST,
	F_OP_CONNECT,
	F_STATUS,
	F_LOCAL,
	F_DEADLINE,     /* --max-seconds passed before its turn */
	F__COUNT
};

static const char *const failure_names[F__COUNT] = { "none", "setup", "prov_connect",
	"subscribe", "request", "no_bundle", "refused", "bad_bundle", "est", "op_connect",
	"status", "local", "deadline" };

enum cut_by { CUT_REVOKE, CUT_BLOCK, CUT_BOTH };

/* One gateway. */
struct gw {
	char udid[UDID_MAX + 1];
	EVP_PKEY *idev_key;
	char *idev_pem, *ldev_pem; /* certificate PEMs, for the request */
	char est_password[130];    /* --est-only: made by the admin API */
	char serial[48];           /* of the operational certificate */
	int done;
	enum failure why;
	char error[160];
	uint64_t t_request, t_bundle, t_est0, t_est1, t_online; /* monotonic, us */
	/* held for --cut: its operational connection, served by the poller */
	struct mosquitto *held;
	_Atomic uint64_t cut_at; /* when the broker closed it, us; 0: not yet */
	int cut_by;              /* CUT_REVOKE or CUT_BLOCK */
};

static struct {
	const char *prov, *broker_ca, *mfr_ca, *mfr_key, *ldev_ca, *ldev_key, *batch,
	    *batch_pw_file, *prefix, *udid_prefix, *admin, *admin_ca, *token_file, *est,
	    *est_ca, *dir, *json, *group;
	char prov_host[256];
	int prov_port;
	unsigned gateways, threads, cut, cut_pause_ms, timeout_ms, max_seconds;
	enum cut_by cut_by;
	int est_only, expect, progress, quiet, nodelay;
} O = { .prefix = "ztp", .udid_prefix = "gw", .threads = 8, .timeout_ms = 30000,
	.max_seconds = 3600, .cut_by = CUT_REVOKE,
	.cut_pause_ms = 1000 };

/* ---- options: one table drives getopt and --help */

enum opt_id {
	OPT_GATEWAYS = 256,
	OPT_THREADS,
	OPT_UDID_PREFIX,
	OPT_PROV,
	OPT_BROKER_CA,
	OPT_MFR_CA,
	OPT_MFR_KEY,
	OPT_LDEV_CA,
	OPT_LDEV_KEY,
	OPT_BATCH,
	OPT_BATCH_PW,
	OPT_PREFIX,
	OPT_ADMIN,
	OPT_ADMIN_CA,
	OPT_TOKEN_FILE,
	OPT_EXPECT,
	OPT_GROUP,
	OPT_EST_ONLY,
	OPT_EST,
	OPT_EST_CA,
	OPT_CUT,
	OPT_CUT_BY,
	OPT_CUT_PAUSE,
	OPT_DIR,
	OPT_NODELAY,
	OPT_TIMEOUT,
	OPT_MAX_SECONDS,
	OPT_JSON,
	OPT_PROGRESS,
	OPT_QUIET,
	OPT_HELP
};

static const struct {
	const char *name, *arg, *help;
	int id;
} opts[] = {
	{ "gateways", "N", "how many gateways (or devices with --est-only)", OPT_GATEWAYS },
	{ "threads", "T", "threads, each onboarding one gateway at a time (default 8)",
	    OPT_THREADS },
	{ "udid-prefix", "P", "the UDIDs are P-00000, P-00001, ... (default gw)",
	    OPT_UDID_PREFIX },
	{ "prov", "HOST:PORT", "the broker's provisioning listener", OPT_PROV },
	{ "broker-ca", "FILE", "the CA that authenticates the provisioning listener",
	    OPT_BROKER_CA },
	{ "mfr-ca", "FILE", "the manufacturer CA's certificate (IDevIDs)", OPT_MFR_CA },
	{ "mfr-key", "FILE", "its key", OPT_MFR_KEY },
	{ "ldev-ca", "FILE", "the operator's LDevID CA's certificate", OPT_LDEV_CA },
	{ "ldev-key", "FILE", "its key", OPT_LDEV_KEY },
	{ "batch", "NAME", "the batch the gateways belong to", OPT_BATCH },
	{ "batch-password-file", "FILE", "the batch password (ztpctl gateway-batch create)",
	    OPT_BATCH_PW },
	{ "prefix", "P", "the topic prefix (default ztp)", OPT_PREFIX },
	{ "admin", "HOST:PORT", "ztpd's admin listener (--expect, --est-only, --cut)",
	    OPT_ADMIN },
	{ "admin-ca", "FILE", "the CA of ztpd's admin listener", OPT_ADMIN_CA },
	{ "token-file", "FILE", "an admin bearer token", OPT_TOKEN_FILE },
	{ "expect", NULL, "before the timed phase, expect every UDID (POST "
	    "/v1/gateway-expectations), so that requests are approved at once", OPT_EXPECT },
	{ "group", "NAME", "the expectations' gateway group", OPT_GROUP },
	{ "est-only", NULL, "the baseline: only enrol over EST (a one-time password made "
	    "first through the admin API, mutual TLS with the LDevID)", OPT_EST_ONLY },
	{ "est", "URL", "--est-only: the EST server, https://HOST:PORT", OPT_EST },
	{ "est-ca", "FILE", "--est-only: the CA of the EST server", OPT_EST_CA },
	{ "cut", "K", "keep the first K gateways online, then cut each off and time it "
	    "(default 0)", OPT_CUT },
	{ "cut-by", "HOW", "revoke (its certificate), block (its device) or both "
	    "(alternately; default revoke)", OPT_CUT_BY },
	{ "cut-pause-ms", "MS", "before each cut, a random pause of 0 to MS (default 1000), so "
	    "that the cuts do not fall in step with a periodic scan of the server", OPT_CUT_PAUSE },
	{ "dir", "DIR", "where the LDevIDs and operational certificates go (an existing "
	    "directory; default a new one in /tmp, removed at the end)", OPT_DIR },
	{ "tcp-nodelay", NULL, "set TCP_NODELAY on the gateways' MQTT connections (libmosquitto "
	    "does not by default)", OPT_NODELAY },
	{ "timeout-ms", "MS", "each wait: a connection, an answer, a cut (default 30000)",
	    OPT_TIMEOUT },
	{ "max-seconds", "S", "the timed phase's deadline (default 3600)", OPT_MAX_SECONDS },
	{ "json", "FILE", "also write the figures as one JSON object", OPT_JSON },
	{ "progress", NULL, "a line on stderr every 5 s", OPT_PROGRESS },
	{ "quiet", NULL, "print no figures", OPT_QUIET },
	{ "help", NULL, "print this help and exit", OPT_HELP },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void
help_line(FILE *f, const char *left, const char *help)
{
	const char *p = help, *brk;
	size_t width = 79 - 27;

	fprintf(f, "  %-24s ", left);
	while (strlen(p) > width) {
		for (brk = p + width; brk > p && *brk != ' '; brk--)
			;
		if (brk == p)
			break;
		fprintf(f, "%.*s\n%27s", (int)(brk - p), p, "");
		p = brk + 1;
	}
	fprintf(f, "%s\n", p);
}

static void
usage(FILE *f, int status)
{
	size_t i;
	char left[40];

	fprintf(f,
	    "usage: ztp-gwfleet --gateways N --prov HOST:PORT --broker-ca FILE --mfr-ca F\n"
	    "                   --mfr-key F --ldev-ca F --ldev-key F --batch NAME\n"
	    "                   --batch-password-file F [--expect --admin HOST:PORT\n"
	    "                   --admin-ca F --token-file F] [--cut K] [options]\n"
	    "       ztp-gwfleet --est-only --gateways N --est URL --est-ca F --ldev-ca F\n"
	    "                   --ldev-key F --admin HOST:PORT --admin-ca F --token-file F\n"
	    "\n"
	    "N simulated gateways onboarding over MQTT (docs/protocol/gateways.md), T at\n"
	    "a time: request, bundle, EST enrolment, operational connection, status. Or\n"
	    "(--est-only) N devices that only enrol over EST, the baseline.\n"
	    "\n");
	for (i = 0; i < NOPTS; i++) {
		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
		    opts[i].arg ? opts[i].arg : "");
		help_line(f, left, opts[i].help);
	}
	fprintf(f, "\nExit status: 0 all made it, 1 one did not, 2 usage or setup error.\n");
	exit(status);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("ztp-gwfleet: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static unsigned
parse_uint(const char *what, const char *v, uint64_t min, uint64_t max)
{
	uint64_t n;

	if (v == NULL || num_parse_u64z(v, min, max, &n) != 0)
		die("--%s: expected a number from %llu to %llu, not '%s'", what,
		    (unsigned long long)min, (unsigned long long)max, v ? v : "");
	return (unsigned)n;
}

/*
 * "HOST:PORT" or "[V6]:PORT" (after a scheme, if any, and without a path)
 * into host (cap bytes) and *port. Returns 0 or -1.
 */
static int
split_hostport(const char *v, char *host, size_t cap, int *port)
{
	const char *colon = strrchr(v, ':'), *h = v;
	size_t hl;
	uint64_t p;

	if (colon == NULL || colon == v)
		return -1;
	hl = (size_t)(colon - v);
	if (v[0] == '[') {
		if (hl < 3 || v[hl - 1] != ']')
			return -1;
		h = v + 1;
		hl -= 2;
	}
	if (hl >= cap || num_parse_u64z(colon + 1, 1, 65535, &p) != 0)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

static void
parse_options(int argc, char **argv)
{
	struct option lo[NOPTS + 1];
	size_t i;
	int c;

	for (i = 0; i < NOPTS; i++) {
		lo[i].name = opts[i].name;
		lo[i].has_arg = opts[i].arg ? required_argument : no_argument;
		lo[i].flag = NULL;
		lo[i].val = opts[i].id;
	}
	memset(&lo[NOPTS], 0, sizeof(lo[NOPTS]));
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case OPT_GATEWAYS:
			O.gateways = parse_uint("gateways", optarg, 1, FLEET_MAX);
			break;
		case OPT_THREADS:
			O.threads = parse_uint("threads", optarg, 1, THREADS_MAX);
			break;
		case OPT_UDID_PREFIX:
			O.udid_prefix = optarg;
			break;
		case OPT_PROV:
			O.prov = optarg;
			if (split_hostport(optarg, O.prov_host, sizeof(O.prov_host), &O.prov_port))
				die("--prov: expected HOST:PORT, not '%s'", optarg);
			break;
		case OPT_BROKER_CA:
			O.broker_ca = optarg;
			break;
		case OPT_MFR_CA:
			O.mfr_ca = optarg;
			break;
		case OPT_MFR_KEY:
			O.mfr_key = optarg;
			break;
		case OPT_LDEV_CA:
			O.ldev_ca = optarg;
			break;
		case OPT_LDEV_KEY:
			O.ldev_key = optarg;
			break;
		case OPT_BATCH:
			O.batch = optarg;
			break;
		case OPT_BATCH_PW:
			O.batch_pw_file = optarg;
			break;
		case OPT_PREFIX:
			O.prefix = optarg;
			break;
		case OPT_ADMIN:
			O.admin = optarg;
			break;
		case OPT_ADMIN_CA:
			O.admin_ca = optarg;
			break;
		case OPT_TOKEN_FILE:
			O.token_file = optarg;
			break;
		case OPT_EXPECT:
			O.expect = 1;
			break;
		case OPT_GROUP:
			O.group = optarg;
			break;
		case OPT_EST_ONLY:
			O.est_only = 1;
			break;
		case OPT_EST:
			O.est = optarg;
			break;
		case OPT_EST_CA:
			O.est_ca = optarg;
			break;
		case OPT_CUT:
			O.cut = parse_uint("cut", optarg, 0, FLEET_MAX);
			break;
		case OPT_CUT_BY:
			if (strcmp(optarg, "revoke") == 0)
				O.cut_by = CUT_REVOKE;
			else if (strcmp(optarg, "block") == 0)
				O.cut_by = CUT_BLOCK;
			else if (strcmp(optarg, "both") == 0)
				O.cut_by = CUT_BOTH;
			else
				die("--cut-by: revoke, block or both, not '%s'", optarg);
			break;
		case OPT_CUT_PAUSE:
			O.cut_pause_ms = parse_uint("cut-pause-ms", optarg, 0, 60000);
			break;
		case OPT_DIR:
			O.dir = optarg;
			break;
		case OPT_NODELAY:
			O.nodelay = 1;
			break;
		case OPT_TIMEOUT:
			O.timeout_ms = parse_uint("timeout-ms", optarg, 100, 600000);
			break;
		case OPT_MAX_SECONDS:
			O.max_seconds = parse_uint("max-seconds", optarg, 1, 86400);
			break;
		case OPT_JSON:
			O.json = optarg;
			break;
		case OPT_PROGRESS:
			O.progress = 1;
			break;
		case OPT_QUIET:
			O.quiet = 1;
			break;
		case OPT_HELP:
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s'", argv[optind]);
}

/* ---- small helpers */

/* The first line of a small file (a token, a password), malloc'd; dies if it cannot. */
static char *
read_line(const char *path)
{
	char buf[1024];
	FILE *f = fopen(path, "re");
	size_t n;

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0')
		die("%s is empty", path);
	return strdup(buf);
}

static void
set_error(struct gw *g, enum failure why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_error(struct gw *g, enum failure why, const char *fmt, ...)
{
	va_list ap;

	g->why = why;
	va_start(ap, fmt);
	vsnprintf(g->error, sizeof(g->error), fmt, ap);
	va_end(ap);
}

/* PEM of x into a malloc'd string, NULL on failure. */
static char *
cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out = NULL;
	long n;

	if (b == NULL || PEM_write_bio_X509(b, x) != 1)
		goto out;
	n = BIO_get_mem_data(b, &p);
	if (n > 0 && (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, p, (size_t)n);
		out[n] = '\0';
	}
out:
	BIO_free(b);
	return out;
}

/* Write a certificate (x) or a key (k) as PEM to path, mode 0600. 0 or -1. */
static int
write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), ok;
	FILE *f;

	if (fd < 0)
		return -1;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return -1;
	}
	ok = x != NULL ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	return fclose(f) == 0 && ok == 1 ? 0 : -1;
}

/* Write s to path, mode 0600. 0 or -1. */
static int
write_text(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(s), off = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (off < len) {
		if ((n = write(fd, s + off, len - off)) <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	return close(fd);
}

static void
gw_path(char *out, size_t cap, const struct gw *g, const char *what)
{
	snprintf(out, cap, "%s/%s.%s", O.dir, g->udid, what);
}

/* ---- the factory: identities made in memory */

static X509 *mfr_ca, *ldev_ca;
static EVP_PKEY *mfr_key, *ldev_key;

static X509 *
load_cert(const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *x;

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		die("%s: not a PEM certificate", path);
	return x;
}

static EVP_PKEY *
load_key(const char *path)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		die("%s: not a PEM private key", path);
	return k;
}

static int
add_ext(X509 *x, X509 *ca, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok == 1 ? 0 : -1;
}

/*
 * A certificate for key, issued by ca (its key cakey), valid from an hour
 * ago for 30 days, a random 63-bit serial: subject O=org, CN=udid (and
 * serialNumber=SN-udid for an IDevID); clientAuth for an LDevID. The
 * caller frees it; NULL on failure.
 */
static X509 *
issue(X509 *ca, EVP_PKEY *cakey, EVP_PKEY *key, const char *udid, int ldevid)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	BIGNUM *bn = BN_new();
	ASN1_INTEGER *serial = NULL;
	char sn[UDID_MAX + 8];
	int ok = 0;

	if (x == NULL || n == NULL || bn == NULL)
		goto out;
	snprintf(sn, sizeof(sn), "SN-%s", udid);
	if (X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
		(const unsigned char *)(ldevid ? "operator" : "maker"), -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)udid, -1, -1,
		0) != 1 ||
	    (!ldevid && X509_NAME_add_entry_by_txt(n, "serialNumber", MBSTRING_ASC,
			    (const unsigned char *)sn, -1, -1, 0) != 1))
		goto out;
	if (BN_rand(bn, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		goto out;
	if (X509_set_version(x, 2) != 1 || X509_set_serialNumber(x, serial) != 1 ||
	    X509_set_subject_name(x, n) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) == NULL ||
	    X509_set_pubkey(x, key) != 1)
		goto out;
	if (add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, ca, NID_key_usage, "critical,digitalSignature") != 0 ||
	    add_ext(x, ca, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, ca, NID_authority_key_identifier, "keyid") != 0 ||
	    (ldevid && add_ext(x, ca, NID_ext_key_usage, "clientAuth") != 0))
		goto out;
	ok = X509_sign(x, cakey, EVP_sha256()) > 0;
out:
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	X509_NAME_free(n);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/*
 * g's identities: an IDevID (kept in memory, key and PEM) unless
 * --est-only, and an LDevID (its PEM kept, cert and key written to --dir).
 */
static int
make_identities(struct gw *g)
{
	EVP_PKEY *lk = NULL;
	X509 *idev = NULL, *ldev = NULL;
	char cert[4096], key[4096];
	int rc = -1;

	if (!O.est_only) {
		if ((g->idev_key = EVP_EC_gen("P-256")) == NULL ||
		    (idev = issue(mfr_ca, mfr_key, g->idev_key, g->udid, 0)) == NULL ||
		    (g->idev_pem = cert_pem(idev)) == NULL)
			goto out;
	}
	if ((lk = EVP_EC_gen("P-256")) == NULL ||
	    (ldev = issue(ldev_ca, ldev_key, lk, g->udid, 1)) == NULL ||
	    (g->ldev_pem = cert_pem(ldev)) == NULL)
		goto out;
	gw_path(cert, sizeof(cert), g, "ldevid.pem");
	gw_path(key, sizeof(key), g, "ldevid.key");
	if (write_pem(cert, ldev, NULL) != 0 || write_pem(key, NULL, lk) != 0)
		goto out;
	rc = 0;
out:
	X509_free(idev);
	X509_free(ldev);
	EVP_PKEY_free(lk);
	return rc;
}

/* ---- HTTP (libcurl): EST and the admin API */

struct answer {
	char *buf;
	size_t len;
	int too_big;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n;
	char *nb;

	if (a->len + len > HTTP_ANSWER_MAX) {
		a->too_big = 1;
		return 0;
	}
	if ((nb = realloc(a->buf, a->len + len + 1)) == NULL)
		return 0;
	a->buf = nb;
	memcpy(a->buf + a->len, p, len);
	a->len += len;
	a->buf[a->len] = '\0';
	return len;
}

static const char *token;
static char admin_base[300];

/*
 * POST body (JSON) to the admin API's path on h (kept alive between
 * calls); *code is the status (0: no answer), *ans the body (the caller
 * frees ans->buf). 0, or -1 with the reason in err.
 */
static int
admin_post(CURL *h, const char *path, const char *body, long *code, struct answer *ans,
    char *err, size_t cap)
{
	char url[600], auth[1200];
	struct curl_slist *hdr = NULL;
	CURLcode c;

	*code = 0;
	memset(ans, 0, sizeof(*ans));
	snprintf(url, sizeof(url), "%s%s", admin_base, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	hdr = curl_slist_append(hdr, auth);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_CAINFO, O.admin_ca);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, ans);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)O.timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	c = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdr);
	if (c != CURLE_OK) {
		snprintf(err, cap, "POST %s: %s", path, curl_easy_strerror(c));
		return -1;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
	return 0;
}

/* What ztpd must know before g's turn: its expectation, or (--est-only) its password. */
static int
admin_setup(CURL *h, struct gw *g)
{
	struct answer a;
	json_t *req = NULL, *ans = NULL;
	char *body = NULL, err[300];
	const char *pw;
	long code;
	int rc = -1;

	if (O.est_only) {
		req = json_pack("{s:s, s:i}", "udid", g->udid, "ttl_s", 86400);
	} else {
		req = json_pack("{s:s}", "udid", g->udid);
		if (req != NULL && O.group != NULL)
			json_object_set_new(req, "group", json_string(O.group));
	}
	if (req == NULL || (body = json_dumps(req, JSON_COMPACT)) == NULL) {
		set_error(g, F_SETUP, "out of memory");
		goto out;
	}
	if (admin_post(h, O.est_only ? "/v1/enrolment-passwords" : "/v1/gateway-expectations",
		body, &code, &a, err, sizeof(err)) != 0) {
		set_error(g, F_SETUP, "%s", err);
		goto out;
	}
	if (code != 201 && code != 200) {
		set_error(g, F_SETUP, "%s: %ld %.100s", O.est_only ? "password" : "expectation",
		    code, a.buf ? a.buf : "");
		goto out;
	}
	if (O.est_only) {
		if ((ans = json_loadb(a.buf ? a.buf : "", a.len, 0, NULL)) == NULL ||
		    (pw = json_string_value(json_object_get(ans, "password"))) == NULL ||
		    strlen(pw) >= sizeof(g->est_password)) {
			set_error(g, F_SETUP, "password: an answer without one");
			goto out;
		}
		snprintf(g->est_password, sizeof(g->est_password), "%s", pw);
	}
	rc = 0;
out:
	if (a.buf != NULL)
		OPENSSL_cleanse(a.buf, a.len);
	free(a.buf);
	free(body);
	json_decref(req);
	json_decref(ans);
	return rc;
}

/*
 * Enrol g over EST (docs/est.md): a new P-256 key, a CSR with CN = UDID,
 * POST /.well-known/est/simpleenroll over a new connection with mutual TLS
 * (its LDevID) and HTTP Basic (UDID, password), the certificate taken out
 * of the PKCS#7 answer. With keep, the certificate and key go to --dir
 * (op.pem, op.key) and the serial to g->serial. 0, or -1 with g's error.
 */
static int
est_enrol(CURL *h, struct gw *g, const char *url, const char *ca_pem, const char *ca_file,
    const char *password, int keep)
{
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	X509_NAME *n = NULL;
	PKCS7 *p7 = NULL;
	STACK_OF(X509) *certs = NULL;
	X509 *mine = NULL;
	BIGNUM *bn = NULL;
	struct curl_slist *hdr = NULL;
	struct answer a = { 0 };
	struct curl_blob blob;
	unsigned char *der = NULL, *derp;
	uint8_t *p7der = NULL;
	const unsigned char *cp;
	char *b64 = NULL, *hex = NULL, full[400], cert[4096], key_path[4096];
	size_t b64len, p7len;
	long code = 0;
	int len, i, rc = -1;
	CURLcode c;

	if ((key = EVP_EC_gen("P-256")) == NULL || (req = X509_REQ_new()) == NULL ||
	    (n = X509_NAME_new()) == NULL ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)g->udid, -1,
		-1, 0) != 1 ||
	    X509_REQ_set_version(req, 0) != 1 || X509_REQ_set_subject_name(req, n) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1 || X509_REQ_sign(req, key, EVP_sha256()) <= 0 ||
	    (len = i2d_X509_REQ(req, NULL)) <= 0 || (der = malloc((size_t)len)) == NULL) {
		set_error(g, F_LOCAL, "cannot make the key and CSR");
		goto out;
	}
	derp = der;
	i2d_X509_REQ(req, &derp);
	if (b64_encode_lines(der, (size_t)len, &b64, &b64len) != 0) {
		set_error(g, F_LOCAL, "cannot encode the CSR");
		goto out;
	}
	snprintf(full, sizeof(full), "%s/.well-known/est/simpleenroll", url);
	gw_path(cert, sizeof(cert), g, "ldevid.pem");
	gw_path(key_path, sizeof(key_path), g, "ldevid.key");
	hdr = curl_slist_append(hdr, "Content-Type: application/pkcs10");
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, full);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, b64);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)b64len);
	curl_easy_setopt(h, CURLOPT_SSLCERT, cert);
	curl_easy_setopt(h, CURLOPT_SSLKEY, key_path);
	if (ca_pem != NULL) {
		blob.data = (void *)ca_pem;
		blob.len = strlen(ca_pem);
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	} else {
		curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
	}
	curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(h, CURLOPT_USERNAME, g->udid);
	curl_easy_setopt(h, CURLOPT_PASSWORD, password);
	/* every enrolment a new connection and a full handshake, as a device's */
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)O.timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	c = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_PASSWORD, "");
	if (c != CURLE_OK) {
		set_error(g, F_EST, "EST: %s", curl_easy_strerror(c));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		set_error(g, F_EST, "EST answered %ld: %.100s", code, a.buf ? a.buf : "");
		goto out;
	}
	if ((p7der = malloc(a.len + 1)) == NULL ||
	    b64_decode(a.buf, a.len, p7der, a.len + 1, &p7len) != 0) {
		set_error(g, F_EST, "EST: the answer is not base64");
		goto out;
	}
	cp = p7der;
	if ((p7 = d2i_PKCS7(NULL, &cp, (long)p7len)) == NULL || !PKCS7_type_is_signed(p7) ||
	    (certs = p7->d.sign->cert) == NULL) {
		set_error(g, F_EST, "EST: the answer is not a PKCS#7 of certificates");
		goto out;
	}
	for (i = 0; i < sk_X509_num(certs); i++)
		if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(certs, i)), key) == 1)
			mine = sk_X509_value(certs, i);
	if (mine == NULL) {
		set_error(g, F_EST, "EST: no certificate for our key in the answer");
		goto out;
	}
	if (keep) {
		if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(mine), NULL)) == NULL ||
		    (hex = BN_bn2hex(bn)) == NULL || strlen(hex) >= sizeof(g->serial)) {
			set_error(g, F_LOCAL, "the certificate's serial");
			goto out;
		}
		snprintf(g->serial, sizeof(g->serial), "%s", hex);
		gw_path(cert, sizeof(cert), g, "op.pem");
		gw_path(key_path, sizeof(key_path), g, "op.key");
		if (write_pem(cert, mine, NULL) != 0 || write_pem(key_path, NULL, key) != 0) {
			set_error(g, F_LOCAL, "cannot write the certificate: %s", strerror(errno));
			goto out;
		}
	}
	rc = 0;
out:
	OPENSSL_free(hex);
	BN_free(bn);
	PKCS7_free(p7);
	free(p7der);
	free(a.buf);
	curl_slist_free_all(hdr);
	free(b64);
	free(der);
	X509_NAME_free(n);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return rc;
}

/* ---- MQTT (libmosquitto), one connection at a time per thread */

/* what the callbacks of one connection saw */
struct mconn {
	int connected, conn_rc, subscribed, got, published, disconnected;
	int sub_mid, pub_mid;
	char topic[200];
	char *msg; /* the first message on topic, NUL-terminated */
	size_t msg_len;
	uint64_t msg_at, pub_at;
};

static void
on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct mconn *c = arg;

	(void)m;
	c->connected = 1;
	c->conn_rc = rc;
}

static void
on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *granted)
{
	struct mconn *c = arg;

	(void)m;
	if (mid == c->sub_mid)
		c->subscribed = n == 1 && granted[0] <= 2 ? 1 : -1;
}

static void
on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct mconn *c = arg;

	(void)m;
	if (c->got || strcmp(msg->topic, c->topic) != 0)
		return;
	c->msg_at = clock_mono_us();
	c->got = 1;
	if (msg->payloadlen < 0 || msg->payloadlen > MSG_MAX ||
	    (c->msg = malloc((size_t)msg->payloadlen + 1)) == NULL)
		return;
	memcpy(c->msg, msg->payload, (size_t)msg->payloadlen);
	c->msg[msg->payloadlen] = '\0';
	c->msg_len = (size_t)msg->payloadlen;
}

static void
on_publish(struct mosquitto *m, void *arg, int mid)
{
	struct mconn *c = arg;

	(void)m;
	if (mid == c->pub_mid) {
		c->pub_at = clock_mono_us();
		c->published = 1;
	}
}

static void
on_disconnect(struct mosquitto *m, void *arg, int rc)
{
	struct mconn *c = arg;

	(void)m;
	(void)rc;
	c->disconnected = 1;
}

/*
 * A client of host:port with mutual TLS (ca, cert, key), client id
 * ztp-<udid>, clean_session false, user and password if given; connected
 * (CONNACK 0) by deadline. NULL with err on failure.
 */
static struct mosquitto *
mqtt_open(struct mconn *c, const char *udid, const char *host, int port, const char *ca,
    const char *cert, const char *key, const char *user, const char *pass, uint64_t deadline,
    char *err, size_t cap)
{
	struct mosquitto *m;
	char id[UDID_MAX + 8];
	int rc;

	snprintf(id, sizeof(id), "ztp-%s", udid);
	if ((m = mosquitto_new(id, false, c)) == NULL) {
		snprintf(err, cap, "mosquitto_new: %s", strerror(errno));
		return NULL;
	}
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	mosquitto_message_callback_set(m, on_message);
	mosquitto_publish_callback_set(m, on_publish);
	mosquitto_disconnect_callback_set(m, on_disconnect);
	if ((O.nodelay && (rc = mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1)) !=
		MOSQ_ERR_SUCCESS) ||
	    (rc = mosquitto_tls_set(m, ca, NULL, cert, key, NULL)) != MOSQ_ERR_SUCCESS ||
	    (user != NULL && (rc = mosquitto_username_pw_set(m, user, pass)) != MOSQ_ERR_SUCCESS)) {
		snprintf(err, cap, "TLS settings: %s", mosquitto_strerror(rc));
		goto fail;
	}
	if ((rc = mosquitto_connect(m, host, port, KEEPALIVE_S)) != MOSQ_ERR_SUCCESS) {
		snprintf(err, cap, "connect %s:%d: %s", host, port,
		    rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		goto fail;
	}
	while (!c->connected && !c->disconnected && clock_mono_us() < deadline)
		if ((rc = mosquitto_loop(m, TURN_MS, 1)) != MOSQ_ERR_SUCCESS)
			break;
	if (!c->connected || c->conn_rc != 0) {
		snprintf(err, cap, "%s:%d: %s", host, port,
		    c->connected ? mosquitto_connack_string(c->conn_rc) :
				   c->disconnected || rc != MOSQ_ERR_SUCCESS ? "connection closed" :
									       "no CONNACK in time");
		goto fail;
	}
	return m;
fail:
	mosquitto_destroy(m);
	return NULL;
}

/* Turn m's loop until *flag or deadline or its connection ends. 0, or -1 (err). */
static int
mqtt_wait(struct mosquitto *m, struct mconn *c, const int *flag, uint64_t deadline, char *err,
    size_t cap)
{
	int rc;

	while (!*flag) {
		if (c->disconnected) {
			snprintf(err, cap, "the broker closed the connection");
			return -1;
		}
		if (clock_mono_us() >= deadline) {
			snprintf(err, cap, "nothing in %u ms", O.timeout_ms);
			return -1;
		}
		if ((rc = mosquitto_loop(m, TURN_MS, 1)) != MOSQ_ERR_SUCCESS && !*flag) {
			snprintf(err, cap, "%s", mosquitto_strerror(rc));
			return -1;
		}
	}
	return 0;
}

/* Disconnect politely (DISCONNECT sent) and free. */
static void
mqtt_close(struct mosquitto *m)
{
	if (m == NULL)
		return;
	mosquitto_disconnect(m);
	mosquitto_loop(m, 1, 1);
	mosquitto_destroy(m);
}

/* ---- the held connections (--cut): one poll() thread serves them */

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct gw **v;
	size_t n, cap;
	int stop;
	pthread_t tid;
} H = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void
on_held_disconnect(struct mosquitto *m, void *arg, int rc)
{
	struct gw *g = arg;
	uint64_t zero = 0;

	(void)m;
	(void)rc;
	atomic_compare_exchange_strong(&g->cut_at, &zero, clock_mono_us());
	pthread_mutex_lock(&H.mu);
	pthread_cond_broadcast(&H.cv);
	pthread_mutex_unlock(&H.mu);
}

static int
hold(struct gw *g, struct mosquitto *m)
{
	struct gw **nv;

	mosquitto_user_data_set(m, g);
	mosquitto_disconnect_callback_set(m, on_held_disconnect);
	mosquitto_connect_callback_set(m, NULL);
	mosquitto_subscribe_callback_set(m, NULL);
	mosquitto_message_callback_set(m, NULL);
	mosquitto_publish_callback_set(m, NULL);
	pthread_mutex_lock(&H.mu);
	if (H.n == H.cap) {
		size_t cap = H.cap ? 2 * H.cap : 64;
		if ((nv = realloc(H.v, cap * sizeof(*nv))) == NULL) {
			pthread_mutex_unlock(&H.mu);
			return -1;
		}
		H.v = nv;
		H.cap = cap;
	}
	g->held = m;
	H.v[H.n++] = g;
	pthread_mutex_unlock(&H.mu);
	return 0;
}

static void *
poller_main(void *arg)
{
	struct pollfd *pf = NULL;
	struct gw **gs = NULL;
	size_t n, i, k;
	int stop;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&H.mu);
		stop = H.stop;
		n = H.n;
		if (n > 0) {
			struct gw **ng = realloc(gs, n * sizeof(*gs));
			struct pollfd *np = realloc(pf, n * sizeof(*pf));
			if (ng != NULL)
				gs = ng;
			if (np != NULL)
				pf = np;
			if (ng == NULL || np == NULL)
				n = 0;
			else
				memcpy(gs, H.v, n * sizeof(*gs));
		}
		pthread_mutex_unlock(&H.mu);
		if (stop)
			break;
		for (i = k = 0; i < n; i++) {
			int fd;
			if (atomic_load(&gs[i]->cut_at) != 0)
				continue;
			if ((fd = mosquitto_socket(gs[i]->held)) < 0) {
				on_held_disconnect(gs[i]->held, gs[i], 0);
				continue;
			}
			gs[k] = gs[i];
			pf[k].fd = fd;
			pf[k].events = POLLIN | (mosquitto_want_write(gs[i]->held) ? POLLOUT : 0);
			pf[k].revents = 0;
			k++;
		}
		if (k == 0) {
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(pf, k, 20) < 0 && errno != EINTR)
			break;
		for (i = 0; i < k; i++) {
			struct mosquitto *m = gs[i]->held;
			int rc = MOSQ_ERR_SUCCESS;
			if (pf[i].revents & (POLLIN | POLLERR | POLLHUP))
				rc = mosquitto_loop_read(m, 1);
			if (rc == MOSQ_ERR_SUCCESS && (pf[i].revents & POLLOUT))
				rc = mosquitto_loop_write(m, 1);
			if (rc == MOSQ_ERR_SUCCESS)
				rc = mosquitto_loop_misc(m);
			if (rc != MOSQ_ERR_SUCCESS)
				on_held_disconnect(m, gs[i], rc);
		}
	}
	free(pf);
	free(gs);
	return NULL;
}

/* ---- one gateway's onboarding */

static char *batch_password;

/* "scheme://host:port" (no path) into host and port; 0 or -1 */
static int
parse_url(const char *url, const char *scheme, char *host, size_t cap, int *port)
{
	size_t sl = strlen(scheme);

	if (strncmp(url, scheme, sl) != 0 || strchr(url + sl, '/') != NULL)
		return -1;
	return split_hostport(url + sl, host, cap, port);
}

/* The provisioning request of g (protocol: Provisioning request): malloc'd JSON, NULL on failure. */
static char *
make_request(struct gw *g)
{
	unsigned char nonce[16], sig[256], *tbs = NULL;
	char nonce_hex[33], sig_b64[400];
	EVP_MD_CTX *md = NULL;
	json_t *j = NULL;
	char *out = NULL;
	size_t ul = strlen(g->udid), tl, siglen = sizeof(sig), i;
	static const char pfx[] = "ztp-gw-req";

	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return NULL;
	for (i = 0; i < sizeof(nonce); i++)
		snprintf(nonce_hex + 2 * i, 3, "%02x", nonce[i]);
	/* "ztp-gw-req" NUL udid NUL nonce */
	tl = sizeof(pfx) + ul + 1 + 32;
	if ((tbs = malloc(tl)) == NULL)
		return NULL;
	memcpy(tbs, pfx, sizeof(pfx));
	memcpy(tbs + sizeof(pfx), g->udid, ul + 1);
	memcpy(tbs + sizeof(pfx) + ul + 1, nonce_hex, 32);
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, g->idev_key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, tbs, tl) != 1)
		goto out;
	EVP_EncodeBlock((unsigned char *)sig_b64, sig, (int)siglen);
	j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "v", 1, "udid", g->udid,
	    "batch", O.batch, "password", batch_password, "firmware", FIRMWARE, "ldevid",
	    g->ldev_pem, "idevid", g->idev_pem, "nonce", nonce_hex, "idevid_sig", sig_b64);
	if (j != NULL)
		out = json_dumps(j, JSON_COMPACT);
out:
	json_decref(j);
	EVP_MD_CTX_free(md);
	free(tbs);
	return out;
}

/* what a thread keeps between gateways */
struct worker {
	pthread_t tid;
	CURL *est, *admin;
	uint64_t deadline;
};

static struct gw *G;
static atomic_size_t next_gw, done_count, setup_next;
static size_t bundles_count;

/*
 * Onboard g, steps 1 to 5 of the top of this file. On success g->done,
 * its times set and, for one of the first --cut gateways, its operational
 * connection held open; else g->why and g->error.
 */
static void
onboard(struct worker *w, struct gw *g, size_t idx)
{
	struct mconn pc, oc;
	struct mosquitto *m = NULL;
	json_t *b = NULL;
	const char *state, *est_url, *est_ca, *est_pw, *mqtt_url, *mqtt_ca, *user, *pass;
	char err[300], topic[200], cert[4096], key[4096], ca[4096], host[256], status[400];
	char *req = NULL;
	uint64_t deadline;
	int port, mid, rc;

	memset(&pc, 0, sizeof(pc));
	memset(&oc, 0, sizeof(oc));
	gw_path(cert, sizeof(cert), g, "ldevid.pem");
	gw_path(key, sizeof(key), g, "ldevid.key");
	deadline = clock_mono_us() + (uint64_t)O.timeout_ms * 1000;
	/* 1. the provisioning listener, the bundle topic */
	if ((m = mqtt_open(&pc, g->udid, O.prov_host, O.prov_port, O.broker_ca, cert, key, NULL,
		 NULL, deadline, err, sizeof(err))) == NULL) {
		set_error(g, F_PROV_CONNECT, "%s", err);
		goto out;
	}
	snprintf(pc.topic, sizeof(pc.topic), "%s/prov/%s/bundle", O.prefix, g->udid);
	if ((rc = mosquitto_subscribe(m, &pc.sub_mid, pc.topic, 1)) != MOSQ_ERR_SUCCESS ||
	    mqtt_wait(m, &pc, &pc.subscribed, deadline, err, sizeof(err)) != 0 ||
	    pc.subscribed != 1) {
		set_error(g, F_SUBSCRIBE, "subscribe: %s",
		    rc != MOSQ_ERR_SUCCESS ? mosquitto_strerror(rc) :
		    pc.subscribed < 0	   ? "refused" :
					     err);
		goto out;
	}
	/* 2. the request */
	if ((req = make_request(g)) == NULL) {
		set_error(g, F_LOCAL, "cannot make the request");
		goto out;
	}
	snprintf(topic, sizeof(topic), "%s/prov/%s/req", O.prefix, g->udid);
	g->t_request = clock_mono_us();
	deadline = g->t_request + (uint64_t)O.timeout_ms * 1000;
	if ((rc = mosquitto_publish(m, &mid, topic, (int)strlen(req), req, 1, false)) !=
	    MOSQ_ERR_SUCCESS) {
		set_error(g, F_REQUEST, "publish: %s", mosquitto_strerror(rc));
		goto out;
	}
	/* 3. the bundle */
	if (mqtt_wait(m, &pc, &pc.got, deadline, err, sizeof(err)) != 0) {
		set_error(g, F_NO_BUNDLE, "no bundle: %s", err);
		goto out;
	}
	g->t_bundle = pc.msg_at;
	if (pc.msg == NULL || (b = json_loadb(pc.msg, pc.msg_len, 0, NULL)) == NULL ||
	    !json_is_object(b)) {
		set_error(g, F_BAD_BUNDLE, "the answer is not a JSON object");
		goto out;
	}
	state = json_string_value(json_object_get(b, "state"));
	if (state == NULL || strcmp(state, "approved") != 0) {
		set_error(g, F_REFUSED, "%s: %.100s", state ? state : "no state",
		    json_string_value(json_object_get(b, "reason")) ?: "");
		goto out;
	}
	est_url = json_string_value(json_object_get(b, "est_url"));
	est_ca = json_string_value(json_object_get(b, "est_ca"));
	est_pw = json_string_value(json_object_get(b, "est_password"));
	mqtt_url = json_string_value(json_object_get(b, "mqtt_url"));
	mqtt_ca = json_string_value(json_object_get(b, "mqtt_ca"));
	user = json_string_value(json_object_get(b, "mqtt_username"));
	pass = json_string_value(json_object_get(b, "mqtt_password"));
	if (est_url == NULL || est_ca == NULL || est_pw == NULL || mqtt_url == NULL ||
	    mqtt_ca == NULL || user == NULL || pass == NULL ||
	    parse_url(mqtt_url, "mqtts://", host, sizeof(host), &port) != 0) {
		set_error(g, F_BAD_BUNDLE, "a bundle without what it must hold");
		goto out;
	}
	mqtt_close(m);
	m = NULL;
	/* 4. EST */
	g->t_est0 = clock_mono_us();
	if (est_enrol(w->est, g, est_url, est_ca, NULL, est_pw, 1) != 0)
		goto out;
	g->t_est1 = clock_mono_us();
	/* 5. the operational listener, the status */
	gw_path(ca, sizeof(ca), g, "mqttca.pem");
	gw_path(cert, sizeof(cert), g, "op.pem");
	gw_path(key, sizeof(key), g, "op.key");
	if (write_text(ca, mqtt_ca) != 0) {
		set_error(g, F_LOCAL, "cannot write the broker CA: %s", strerror(errno));
		goto out;
	}
	deadline = clock_mono_us() + (uint64_t)O.timeout_ms * 1000;
	if ((m = mqtt_open(&oc, g->udid, host, port, ca, cert, key, user, pass, deadline, err,
		 sizeof(err))) == NULL) {
		set_error(g, F_OP_CONNECT, "%s", err);
		goto out;
	}
	snprintf(topic, sizeof(topic), "%s/dev/%s/status", O.prefix, g->udid);
	snprintf(status, sizeof(status),
	    "{\"v\":1,\"udid\":\"%s\",\"state\":\"online\",\"serial\":\"%s\",\"firmware\":\"%s\"}",
	    g->udid, g->serial, FIRMWARE);
	if ((rc = mosquitto_publish(m, &oc.pub_mid, topic, (int)strlen(status), status, 1,
		 false)) != MOSQ_ERR_SUCCESS ||
	    mqtt_wait(m, &oc, &oc.published, deadline, err, sizeof(err)) != 0) {
		set_error(g, F_STATUS, "status: %s",
		    rc != MOSQ_ERR_SUCCESS ? mosquitto_strerror(rc) : err);
		goto out;
	}
	g->t_online = oc.pub_at;
	g->done = 1;
	if (idx < O.cut) {
		if (hold(g, m) != 0) {
			g->done = 0;
			set_error(g, F_LOCAL, "out of memory");
			goto out;
		}
		m = NULL;
	}
out:
	if (m != NULL)
		mqtt_close(m);
	if (pc.msg != NULL)
		OPENSSL_cleanse(pc.msg, pc.msg_len);
	free(pc.msg);
	free(oc.msg);
	free(req);
	json_decref(b);
}

/* --est-only: the enrolment alone, timed from the key to the certificate */
static void
enrol_only(struct worker *w, struct gw *g)
{
	char est_url[300];

	snprintf(est_url, sizeof(est_url), "%s", O.est);
	g->t_est0 = clock_mono_us();
	if (est_enrol(w->est, g, est_url, NULL, O.est_ca, g->est_password, 0) != 0)
		return;
	g->t_est1 = clock_mono_us();
	OPENSSL_cleanse(g->est_password, sizeof(g->est_password));
	g->done = 1;
}

static void *
setup_main(void *arg)
{
	struct worker *w = arg;
	size_t i;

	while ((i = atomic_fetch_add(&setup_next, 1)) < O.gateways) {
		struct gw *g = &G[i];
		if (make_identities(g) != 0) {
			set_error(g, F_LOCAL, "cannot make its identities");
			continue;
		}
		if ((O.expect || O.est_only) && admin_setup(w->admin, g) != 0)
			continue;
	}
	return NULL;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	size_t i;

	while ((i = atomic_fetch_add(&next_gw, 1)) < O.gateways) {
		struct gw *g = &G[i];
		if (g->why != F_NONE) /* its setup failed */
			continue;
		if (clock_mono_us() >= w->deadline) {
			set_error(g, F_DEADLINE, "--max-seconds passed");
			continue;
		}
		if (O.est_only)
			enrol_only(w, g);
		else
			onboard(w, g, i);
		if (g->done)
			atomic_fetch_add(&done_count, 1);
	}
	return NULL;
}

/* ---- cutting the held gateways off */

struct cut_stats {
	uint64_t *lat, *api; /* us */
	size_t n, failed;
};

/*
 * Cut each held gateway off, one at a time: revoke its certificate or
 * block its device through the admin API, then wait (--timeout-ms) until
 * the broker closes its connection. The latency is from just before the
 * admin call to the close seen by the poller.
 */
static void
cut_all(CURL *h, struct cut_stats cs[2])
{
	size_t i, n;
	struct answer a;
	char path[300], err[300];
	long code;

	pthread_mutex_lock(&H.mu);
	n = H.n;
	pthread_mutex_unlock(&H.mu);
	for (i = 0; i < 2; i++) {
		cs[i].lat = calloc(n + 1, sizeof(uint64_t));
		cs[i].api = calloc(n + 1, sizeof(uint64_t));
		if (cs[i].lat == NULL || cs[i].api == NULL)
			die("out of memory");
	}
	for (i = 0; i < n; i++) {
		struct gw *g;
		struct cut_stats *s;
		uint64_t t0, t1, at, deadline;
		int by;

		pthread_mutex_lock(&H.mu);
		g = H.v[i];
		pthread_mutex_unlock(&H.mu);
		by = O.cut_by == CUT_BOTH ? (int)(i % 2) : (int)O.cut_by;
		g->cut_by = by;
		s = &cs[by];
		if (atomic_load(&g->cut_at) != 0) {
			fprintf(stderr, "ztp-gwfleet: %s: its connection closed before the cut\n",
			    g->udid);
			s->failed++;
			continue;
		}
		if (O.cut_pause_ms > 0) {
			uint32_t r = 0;
			struct timespec ts;
			RAND_bytes((unsigned char *)&r, sizeof(r));
			r %= O.cut_pause_ms + 1;
			ts.tv_sec = r / 1000;
			ts.tv_nsec = (long)(r % 1000) * 1000000L;
			nanosleep(&ts, NULL);
			if (atomic_load(&g->cut_at) != 0) {
				fprintf(stderr, "ztp-gwfleet: %s: its connection closed before the cut\n",
				    g->udid);
				s->failed++;
				continue;
			}
		}
		if (by == CUT_REVOKE)
			snprintf(path, sizeof(path), "/v1/certs/%s/revoke", g->serial);
		else
			snprintf(path, sizeof(path), "/v1/devices/%s/block", g->udid);
		t0 = clock_mono_us();
		if (admin_post(h, path, by == CUT_REVOKE ? "{\"reason\":\"keyCompromise\"}" : "{}",
			&code, &a, err, sizeof(err)) != 0 ||
		    code != 200) {
			fprintf(stderr, "ztp-gwfleet: %s: %s %ld %.100s\n", g->udid,
			    code ? path : err, code, a.buf ? a.buf : "");
			free(a.buf);
			s->failed++;
			continue;
		}
		free(a.buf);
		t1 = clock_mono_us();
		deadline = t1 + (uint64_t)O.timeout_ms * 1000;
		pthread_mutex_lock(&H.mu);
		while ((at = atomic_load(&g->cut_at)) == 0 && clock_mono_us() < deadline) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 10 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&H.cv, &H.mu, &ts);
		}
		pthread_mutex_unlock(&H.mu);
		if (at == 0) {
			fprintf(stderr, "ztp-gwfleet: %s: still connected %u ms after the %s\n",
			    g->udid, O.timeout_ms, by == CUT_REVOKE ? "revocation" : "block");
			s->failed++;
			continue;
		}
		s->lat[s->n] = at > t0 ? at - t0 : 0;
		s->api[s->n] = t1 - t0;
		s->n++;
	}
}

/* ---- figures */

struct fig {
	char name[64];
	double v;
	int prec;
	const char *unit;
};

static struct fig figs[128];
static size_t nfigs;

static void
fig(const char *name, double v, int prec, const char *unit)
{
	if (nfigs == sizeof(figs) / sizeof(figs[0]))
		return;
	snprintf(figs[nfigs].name, sizeof(figs[nfigs].name), "%s", name);
	figs[nfigs].v = v;
	figs[nfigs].prec = prec;
	figs[nfigs].unit = unit;
	nfigs++;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* the q-th quantile (nearest rank) of v[0..n), sorted here, in ms */
static double
quantile_ms(uint64_t *v, size_t n, double q)
{
	size_t r;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), u64_cmp);
	r = (size_t)(q * (double)n + 0.999999);
	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return (double)v[r - 1] / 1000.0;
}

/* NAME_p50, _p90, _p99, _max of v[0..n) (us) in ms */
static void
fig_latency(const char *name, uint64_t *v, size_t n)
{
	char f[64];

	snprintf(f, sizeof(f), "%s_p50", name);
	fig(f, quantile_ms(v, n, 0.50), 3, "ms");
	snprintf(f, sizeof(f), "%s_p90", name);
	fig(f, quantile_ms(v, n, 0.90), 3, "ms");
	snprintf(f, sizeof(f), "%s_p99", name);
	fig(f, quantile_ms(v, n, 0.99), 3, "ms");
	snprintf(f, sizeof(f), "%s_max", name);
	fig(f, quantile_ms(v, n, 1.0), 3, "ms");
}

static double
cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static size_t
summarise(double secs, double cpu, struct cut_stats cs[2])
{
	size_t n = O.gateways, ok = 0, failed = 0, shown = 0, i, nb = 0, fail[F__COUNT] = { 0 };
	uint64_t *e2e = calloc(n, sizeof(uint64_t)), *bun = calloc(n, sizeof(uint64_t));
	uint64_t *est = calloc(n, sizeof(uint64_t)), *op = calloc(n, sizeof(uint64_t));
	uint64_t first_req = UINT64_MAX, last_bundle = 0;
	char name[64];

	if (e2e == NULL || bun == NULL || est == NULL || op == NULL)
		die("out of memory");
	for (i = 0; i < n; i++) {
		struct gw *g = &G[i];
		if (g->t_request != 0 && g->t_request < first_req)
			first_req = g->t_request;
		if (g->t_bundle != 0) {
			bun[nb++] = g->t_bundle - g->t_request;
			if (g->t_bundle > last_bundle)
				last_bundle = g->t_bundle;
		}
		if (g->done) {
			if (!O.est_only) {
				e2e[ok] = g->t_online - g->t_request;
				op[ok] = g->t_online - g->t_est1;
			}
			est[ok] = g->t_est1 - g->t_est0;
			ok++;
			continue;
		}
		failed++;
		fail[g->why]++;
		if (shown++ < ERRORS_SHOWN)
			fprintf(stderr, "ztp-gwfleet: %s failed (%s): %s\n", g->udid,
			    failure_names[g->why], g->error);
	}
	if (shown > ERRORS_SHOWN)
		fprintf(stderr, "ztp-gwfleet: %zu more failed\n", shown - ERRORS_SHOWN);
	bundles_count = nb;
	fig("gateways", (double)n, 0, "");
	fig("ok", (double)ok, 0, "");
	fig("failed", (double)failed, 0, "");
	for (i = 1; i < F__COUNT; i++)
		if (fail[i] > 0) {
			snprintf(name, sizeof(name), "failed_%s", failure_names[i]);
			fig(name, (double)fail[i], 0, "");
		}
	fig("elapsed", secs, 3, "s");
	fig("threads", (double)O.threads, 0, "");
	if (O.est_only) {
		fig("enrolments_per_s", secs > 0 ? (double)ok / secs : 0, 2, "/s");
		fig_latency("enrol", est, ok);
	} else {
		fig("onboarded_per_s", secs > 0 ? (double)ok / secs : 0, 2, "/s");
		fig("bundles", (double)nb, 0, "");
		fig("bundles_per_s",
		    last_bundle > first_req ? (double)nb * 1e6 / (double)(last_bundle - first_req) :
					      0,
		    2, "/s");
		fig_latency("e2e", e2e, ok);
		fig_latency("bundle", bun, nb);
		fig_latency("est_step", est, ok);
		fig_latency("op_step", op, ok);
	}
	fig("client_cpu", cpu, 3, "s");
	fig("client_cpu_per_gateway", n ? cpu * 1000.0 / (double)n : 0, 3, "ms");
	if (O.cut > 0) {
		static const char *const by[2] = { "cut_revoke", "cut_block" };
		for (i = 0; i < 2; i++) {
			if (cs[i].n == 0 && cs[i].failed == 0)
				continue;
			snprintf(name, sizeof(name), "%s_n", by[i]);
			fig(name, (double)cs[i].n, 0, "");
			snprintf(name, sizeof(name), "%s_failed", by[i]);
			fig(name, (double)cs[i].failed, 0, "");
			fig_latency(by[i], cs[i].lat, cs[i].n);
			snprintf(name, sizeof(name), "%s_api", by[i]);
			fig_latency(name, cs[i].api, cs[i].n);
			failed += cs[i].failed;
		}
	}
	free(e2e);
	free(bun);
	free(est);
	free(op);
	return failed;
}

static void
print_figs(void)
{
	size_t i;

	if (O.quiet)
		return;
	for (i = 0; i < nfigs; i++)
		printf("%s: %.*f%s%s\n", figs[i].name, figs[i].prec, figs[i].v,
		    figs[i].unit[0] ? " " : "", figs[i].unit);
	fflush(stdout);
}

static void
write_json(const char *path)
{
	json_t *o = json_object();
	size_t i;

	if (o == NULL)
		return;
	json_object_set_new(o, "mode", json_string(O.est_only ? "est_only" : "onboard"));
	for (i = 0; i < nfigs; i++)
		json_object_set_new(o, figs[i].name, json_real(figs[i].v));
	if (json_dump_file(o, path, JSON_INDENT(1)) != 0)
		fprintf(stderr, "ztp-gwfleet: cannot write %s\n", path);
	json_decref(o);
}

/* ---- the run */

static char tmpdir[64];

static void
remove_files(void)
{
	static const char *const what[] = { "ldevid.pem", "ldevid.key", "op.pem", "op.key",
		"mqttca.pem" };
	char p[4096];
	size_t i, k;

	for (i = 0; i < O.gateways; i++)
		for (k = 0; k < sizeof(what) / sizeof(what[0]); k++) {
			gw_path(p, sizeof(p), &G[i], what[k]);
			unlink(p);
		}
	if (tmpdir[0] != '\0')
		rmdir(tmpdir);
}

static void
check_options(void)
{
	if (O.gateways == 0)
		die("give --gateways N; --help says more");
	if (O.ldev_ca == NULL || O.ldev_key == NULL)
		die("give --ldev-ca and --ldev-key");
	if (O.est_only) {
		if (O.est == NULL || O.est_ca == NULL)
			die("--est-only needs --est URL and --est-ca FILE");
		if (O.cut > 0 || O.expect)
			die("--est-only takes no --cut or --expect");
	} else {
		if (O.prov == NULL || O.broker_ca == NULL || O.mfr_ca == NULL || O.mfr_key == NULL ||
		    O.batch == NULL || O.batch_pw_file == NULL)
			die("onboarding needs --prov, --broker-ca, --mfr-ca, --mfr-key, --batch and "
			    "--batch-password-file");
		if (O.cut > O.gateways)
			die("--cut K: at most --gateways");
	}
	if ((O.expect || O.est_only || O.cut > 0) &&
	    (O.admin == NULL || O.admin_ca == NULL || O.token_file == NULL))
		die("--expect, --est-only and --cut need --admin, --admin-ca and --token-file");
	if (strlen(O.udid_prefix) + 6 > UDID_MAX)
		die("--udid-prefix is too long");
}

int
main(int argc, char **argv)
{
	struct worker *w;
	struct cut_stats cs[2];
	struct rlimit rl;
	uint64_t start, last;
	double cpu0, secs;
	size_t i, failed;
	unsigned k;

	parse_options(argc, argv);
	check_options();
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (O.dir == NULL) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/ztp-gwfleet.XXXXXX");
		if (mkdtemp(tmpdir) == NULL)
			die("mkdtemp: %s", strerror(errno));
		O.dir = tmpdir;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || mosquitto_lib_init() != MOSQ_ERR_SUCCESS)
		die("cannot initialise libcurl or libmosquitto");
	ldev_ca = load_cert(O.ldev_ca);
	ldev_key = load_key(O.ldev_key);
	if (!O.est_only) {
		mfr_ca = load_cert(O.mfr_ca);
		mfr_key = load_key(O.mfr_key);
		batch_password = read_line(O.batch_pw_file);
	}
	if (O.token_file != NULL) {
		token = read_line(O.token_file);
		snprintf(admin_base, sizeof(admin_base), "https://%s", O.admin);
	}
	if ((G = calloc(O.gateways, sizeof(*G))) == NULL ||
	    (w = calloc(O.threads, sizeof(*w))) == NULL)
		die("out of memory");
	for (i = 0; i < O.gateways; i++)
		snprintf(G[i].udid, sizeof(G[i].udid), "%s-%05zu", O.udid_prefix, i);
	memset(cs, 0, sizeof(cs));

	/* the factory and the operator's preparations: not timed */
	start = clock_mono_us();
	for (k = 0; k < O.threads; k++) {
		if ((w[k].est = curl_easy_init()) == NULL ||
		    (O.token_file != NULL && (w[k].admin = curl_easy_init()) == NULL))
			die("curl_easy_init failed");
		if (pthread_create(&w[k].tid, NULL, setup_main, &w[k]) != 0)
			die("cannot start a thread");
	}
	for (k = 0; k < O.threads; k++)
		pthread_join(w[k].tid, NULL);
	if (!O.quiet)
		fprintf(stderr, "ztp-gwfleet: %u %s ready in %.1f s\n", O.gateways,
		    O.est_only ? "devices" : "gateways",
		    (double)(clock_mono_us() - start) / 1e6);
	if (O.cut > 0 && pthread_create(&H.tid, NULL, poller_main, NULL) != 0)
		die("cannot start a thread");

	/* the timed phase */
	cpu0 = cpu_s();
	start = last = clock_mono_us();
	for (k = 0; k < O.threads; k++) {
		w[k].deadline = start + (uint64_t)O.max_seconds * 1000000;
		if (pthread_create(&w[k].tid, NULL, worker_main, &w[k]) != 0)
			die("cannot start a thread");
	}
	if (O.progress) {
		while (atomic_load(&next_gw) < O.gateways) {
			struct timespec ts = { 0, 200 * 1000000L };
			nanosleep(&ts, NULL);
			if (clock_mono_us() - last >= 5000000) {
				last = clock_mono_us();
				fprintf(stderr, "ztp-gwfleet: %.0f s, %zu of %u started, %zu done\n",
				    (double)(last - start) / 1e6, atomic_load(&next_gw), O.gateways,
				    atomic_load(&done_count));
			}
		}
	}
	for (k = 0; k < O.threads; k++)
		pthread_join(w[k].tid, NULL);
	secs = (double)(clock_mono_us() - start) / 1e6;
	cpu0 = cpu_s() - cpu0;

	if (O.cut > 0) {
		cut_all(w[0].admin, cs);
		pthread_mutex_lock(&H.mu);
		H.stop = 1;
		pthread_mutex_unlock(&H.mu);
		pthread_join(H.tid, NULL);
		for (i = 0; i < H.n; i++)
			mosquitto_destroy(H.v[i]->held);
		free(H.v);
	}
	failed = summarise(secs, cpu0, cs);
	print_figs();
	if (O.json != NULL)
		write_json(O.json);

	for (i = 0; i < 2; i++) {
		free(cs[i].lat);
		free(cs[i].api);
	}
	for (k = 0; k < O.threads; k++) {
		curl_easy_cleanup(w[k].est);
		curl_easy_cleanup(w[k].admin);
	}
	remove_files();
	for (i = 0; i < O.gateways; i++) {
		EVP_PKEY_free(G[i].idev_key);
		free(G[i].idev_pem);
		free(G[i].ldev_pem);
	}
	free(G);
	free(w);
	if (batch_password != NULL)
		OPENSSL_cleanse(batch_password, strlen(batch_password));
	free(batch_password);
	free((char *)token);
	X509_free(mfr_ca);
	X509_free(ldev_ca);
	EVP_PKEY_free(mfr_key);
	EVP_PKEY_free(ldev_key);
	mosquitto_lib_cleanup();
	curl_global_cleanup();
	return failed > 0 ? 1 : 0;
}
