/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-bench: a load client of the device endpoint (and, with --ca, of the
 * EST endpoint and its baseline: see below). Each fetch is what a SIM
 * does: a new TCP connection, a fresh TLS 1.3 handshake with an external
 * PSK (identity the ICCID in ASCII digits or the 10 EF_ICCID bytes,
 * TLS_AES_128_CCM_SHA256 by default, psk_ke or psk_dhe_ke), then
 *   GET /v1/config/<DeviceID>?iccid=<EF_ICCID hex> HTTP/1.1, Connection: close
 * and the whole response, whose status is checked.
 *
 * -c connections run at once, spread over -t threads, each thread an
 * event_base driving its connections with libevent's HTTP client over
 * OpenSSL bufferevents (non-blocking, epoll). The run ends after -d seconds
 * (after --warmup more) or -n fetches, and always within --max-seconds.
 *
 * Bytes on the wire are counted by a callback on each connection's socket
 * BIO: every TLS byte read and written from the first ClientHello byte to
 * the last response byte (the peers' close_notify alerts after the
 * response are not waited for, so not counted).
 *
 * --iccid-range FIRST:COUNT picks each fetch's SIM at random among COUNT
 * ICCIDs from FIRST, with PSK = SHA-256(ICCID in ASCII digits), so that a
 * registry filled the same way (bench/registry.sh) can be exercised.
 *
 * --ca FILE switches to certificates instead of a PSK (the EST endpoint,
 * and its baseline): a full TLS 1.3 handshake with (EC)DHE each time, the
 * server's chain verified against FILE (no name check); with --cert and
 * --key the client shows its certificate, and the server must have asked
 * for one (mutual TLS). --est CSR_FILE makes each fetch an enrolment:
 *   POST /.well-known/est/simpleenroll, Content-Type: application/pkcs10,
 *   the file's bytes (base64 of a DER PKCS#10 CSR) as the body
 * and a success is 200 with application/pkcs7-mime; a 202 (the CA is
 * busy) is counted apart, as "busy_202". --est-devices PREFIX:COUNT
 * instead sends, for each enrolment, the CSR of a random one of COUNT
 * devices PREFIX-0 .. PREFIX-<COUNT-1>, whose P-256 private keys are
 * SHA-256 of the UDID (so that the server's per-device history stays
 * short); --print-devices prints what to allowlist for them.
 *
 * --server-pid P (up to 4 times: a server and its helper processes)
 * samples the server's CPU time (/proc/P/stat, summed) over the measured
 * window, and the client's own (getrusage): the CPU each side spends per
 * fetch, and how many cores each used, which tells whether the server or
 * the client was the bottleneck. The machine's busy time (/proc/stat)
 * less both is "other_cpu": what other tenants of a shared host took
 * meanwhile.
 *
 * The figures go to stdout, one per line, "name: value unit", and with
 * --json FILE to FILE as one JSON object. Exit 0 if every fetch succeeded,
 * 1 if one failed or was answered 202 (or none was made), 2 on a usage
 * error.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "clock.h"
#include "crypto.h"
#include "hex.h"
#include "num.h"
#include "ztp/err.h"
#include "ztp/iccid.h"

#define MAX_CONNS 4096
#define MAX_THREADS 64
#define PSK_MAX 64
#define PATH_CAP 256
#define SAMPLES_MAX (1u << 24) /* per thread: 64 MiB of latencies at most */
#define DEFAULT_DEVID "B58D51C5504D5257352E3120FF0D1338"
#define MAX_SERVER_PIDS 4
#define BODY_MAX 16384 /* --est: the CSR file */
#define EST_PATH "/.well-known/est/simpleenroll"
#define EST_REPLY_TYPE "application/pkcs7-mime"

/* RES_BUSY (an EST 202) is neither a success nor an error: it is counted apart. */
enum result { RES_OK, RES_CONNECT, RES_HTTP, RES_STATUS, RES_KEX, RES_SUITE, RES_AUTH, RES_BODY,
	RES_BUSY, RES__COUNT };
static const char *const result_name[RES__COUNT] = { "ok", "errors_handshake", "errors_http",
	"errors_status", "errors_kex", "errors_suite", "errors_no_cert_request", "errors_body",
	"busy_202" };

struct opts {
	char host[64];
	uint64_t port;
	char iccid[ICCID_STR_SIZE]; /* one SIM, unless range_count > 0 */
	uint8_t psk[PSK_MAX];
	size_t psklen;
	uint64_t range_first, range_count;
	int bcd;
	int ccm;
	int psk_ke;
	const char *groups;
	char devid[40];
	const char *path;
	uint64_t conns, threads, count, expect, timeout;
	uint64_t server_pids[MAX_SERVER_PIDS];
	size_t n_server_pids;
	double duration, warmup, max_seconds;
	const char *label, *json;
	int quiet;
	int print_sims;
	const char *ca, *cert, *key; /* certificate mode: ca != NULL */
	const char *est_csr;
	char *body; /* --est: the CSR file's bytes, sent as is */
	size_t body_len;
	char dev_prefix[33]; /* --est-devices */
	uint64_t dev_count;
	int est; /* --est or --est-devices: each fetch is a simpleenroll */
	int print_devices;
};

/* --est-devices: one device's UDID, the SHA-256 of its SPKI and its CSR. */
struct device {
	char udid[64];
	uint8_t key_sha256[32];
	char *csr; /* base64 of the DER CSR in 64-character lines, as openssl base64 */
	size_t csr_len;
	char *spki; /* base64 of the DER SubjectPublicKeyInfo, one line */
};

static struct device *devices;

static struct opts O;
static uint64_t t_start, t_window, t_stop; /* microseconds, CLOCK_MONOTONIC */
static atomic_uint_fast64_t issued;
static atomic_int key_share_ext = -1; /* bytes of the ClientHello's key_share extension */
static atomic_int suite_named;         /* certificate mode: the first suite negotiated */
static char suite_name[64];

struct thread;

/* One connection slot: at most one fetch in flight at a time. */
struct slot {
	struct thread *t;
	struct evhttp_connection *evcon, *dead;
	struct event *next_ev;
	uint64_t started, handshake_at;
	uint64_t bytes_in, bytes_out;
	uint32_t records_in, records_out;
	int key_share;  /* ServerHello: -1 not seen, 0 without key_share, 1 with */
	int hrr;
	int suite_ok;
	int cert_req;   /* a CertificateRequest came */
	const char *body; /* --est: this enrolment's CSR */
	size_t body_len;
	uint8_t identity[ICCID_IDENTITY_MAX];
	size_t idlen;
	uint8_t psk[PSK_MAX];
	size_t psklen;
	char path[PATH_CAP];
};

struct thread {
	pthread_t tid;
	int id;
	struct event_base *base;
	SSL_CTX *ctx;
	struct slot *slots;
	size_t nslots, active;
	uint64_t rng;
	uint32_t *lat, *hs; /* microseconds, for the fetches that succeeded */
	size_t nsamples, cap;
	uint64_t results[RES__COUNT];
	uint64_t bytes_in, bytes_out, records_in, records_out;
	int failed; /* out of memory for samples */
};

static void
sleep_until(uint64_t t)
{
	uint64_t n;
	struct timespec ts;

	while ((n = clock_mono_us()) < t) {
		ts.tv_sec = (time_t)((t - n) / 1000000u);
		ts.tv_nsec = (long)((t - n) % 1000000u) * 1000;
		nanosleep(&ts, NULL);
	}
}

static uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* ---- the TLS side: PSK, key exchange check, byte counting */

static int
use_session(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
    SSL_SESSION **sess)
{
	static const unsigned char ccm_id[] = { 0x13, 0x04 }, gcm_id[] = { 0x13, 0x01 };
	struct slot *s = SSL_get_app_data(ssl);
	const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, O.ccm ? ccm_id : gcm_id);
	SSL_SESSION *ps;

	(void)md;
	*sess = NULL;
	if (s == NULL || (ps = crypto_psk_session(cipher, s->psk, s->psklen)) == NULL)
		return 0;
	*sess = ps;
	*id = s->identity;
	*idlen = s->idlen;
	return 1;
}

/*
 * The extensions of a ClientHello (type 1) or ServerHello (type 2) body,
 * bounds checked: *off and *end delimit them. 0, or -1 if malformed.
 */
static int
hello_extensions(const uint8_t *p, size_t len, size_t *off, size_t *end)
{
	size_t o = 4 + 2 + 32, n;

	if (o + 1 > len)
		return -1;
	o += 1 + p[o]; /* legacy session id */
	if (p[0] == 1) {
		if (o + 2 > len)
			return -1;
		o += 2 + ((size_t)p[o] << 8 | p[o + 1]); /* cipher suites */
		if (o + 1 > len)
			return -1;
		o += 1 + p[o]; /* compression methods */
	} else {
		o += 2 + 1; /* cipher suite, compression method */
	}
	if (o + 2 > len)
		return -1;
	n = (size_t)p[o] << 8 | p[o + 1];
	o += 2;
	*off = o;
	*end = o + n > len ? len : o + n;
	return 0;
}

/* The size of extension type in [off, end), with its 4-byte header; 0 if absent. */
static size_t
find_extension(const uint8_t *p, size_t off, size_t end, unsigned type)
{
	while (off + 4 <= end) {
		unsigned t = (unsigned)p[off] << 8 | p[off + 1];
		size_t l = (size_t)p[off + 2] << 8 | p[off + 3];
		if (t == type)
			return 4 + l;
		off += 4 + l;
	}
	return 0;
}

/*
 * Every TLS record header is counted. ServerHello: key_share (51) or not
 * tells psk_dhe_ke from psk_ke; HRR is noted. The first ClientHello's
 * key_share extension is measured (what a SIM doing psk_ke does not send).
 * A CertificateRequest is noted (mutual TLS must have one).
 */
static void
msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
    void *arg)
{
	static const uint8_t hrr_random[32] = { 0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11,
		0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
		0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C };
	struct slot *s = SSL_get_app_data(ssl);
	const uint8_t *p = buf;
	size_t off, end;

	(void)version;
	(void)arg;
	if (s == NULL)
		return;
	if (content_type == SSL3_RT_HEADER) {
		if (write_p)
			s->records_out++;
		else
			s->records_in++;
		return;
	}
	if (content_type != SSL3_RT_HANDSHAKE || len < 4)
		return;
	if (!write_p && p[0] == 13)
		s->cert_req = 1;
	if (len < 4 + 2 + 32)
		return;
	if (write_p && p[0] == 1 && atomic_load(&key_share_ext) < 0 &&
	    hello_extensions(p, len, &off, &end) == 0)
		atomic_store(&key_share_ext, (int)find_extension(p, off, end, 51));
	if (write_p || p[0] != 2)
		return;
	if (memcmp(p + 6, hrr_random, sizeof(hrr_random)) == 0) {
		s->hrr = 1;
		return;
	}
	if (hello_extensions(p, len, &off, &end) == 0)
		s->key_share = find_extension(p, off, end, 51) > 0;
}

static long
bio_cb(BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret,
    size_t *processed)
{
	struct slot *s = (struct slot *)BIO_get_callback_arg(b);

	(void)argp;
	(void)len;
	(void)argi;
	(void)argl;
	if (s != NULL && ret > 0 && processed != NULL) {
		if (oper == (BIO_CB_READ | BIO_CB_RETURN))
			s->bytes_in += *processed;
		else if (oper == (BIO_CB_WRITE | BIO_CB_RETURN))
			s->bytes_out += *processed;
	}
	return ret;
}

/*
 * At the start of the handshake the socket exists: count its bytes, and
 * send each write at once (the request follows the client's Finished;
 * Nagle would hold it until the server's delayed ACK). At its end, note
 * the time and check the suite (with certificates: TLS 1.3).
 */
static void
info_cb(const SSL *cssl, int where, int ret)
{
	static const uint32_t ccm_id = 0x03001304, gcm_id = 0x03001301;
	SSL *ssl = (SSL *)cssl;
	struct slot *s = SSL_get_app_data(ssl);
	BIO *bio;
	int fd, one = 1;

	(void)ret;
	if (s == NULL)
		return;
	if (where & SSL_CB_HANDSHAKE_START) {
		bio = SSL_get_rbio(ssl);
		if (bio != NULL && BIO_get_callback_ex(bio) != bio_cb) {
			BIO_set_callback_arg(bio, (char *)s);
			BIO_set_callback_ex(bio, bio_cb);
		}
		if ((fd = SSL_get_fd(ssl)) >= 0)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if ((where & SSL_CB_HANDSHAKE_DONE) && s->handshake_at == 0) {
		s->handshake_at = clock_mono_us();
		if (O.ca == NULL) {
			s->suite_ok = SSL_CIPHER_get_id(SSL_get_current_cipher(ssl)) ==
			    (O.ccm ? ccm_id : gcm_id);
			return;
		}
		/* certificates: any TLS 1.3 suite; the first one is reported */
		s->suite_ok = SSL_version(ssl) == TLS1_3_VERSION;
		if (s->suite_ok && atomic_exchange(&suite_named, 1) == 0)
			snprintf(suite_name, sizeof(suite_name), "%s",
			    SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)));
	}
}

/*
 * Certificate mode: TLS 1.3 with OpenSSL's default suites and groups (or
 * --groups), the server's chain verified against --ca, and with --cert
 * the client's certificate and key. No resumption: every handshake is a
 * full one.
 */
static SSL_CTX *
client_cert_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    (O.groups != NULL && !SSL_CTX_set1_groups_list(ctx, O.groups)) ||
	    SSL_CTX_load_verify_locations(ctx, O.ca, NULL) != 1 ||
	    (O.cert != NULL &&
		(SSL_CTX_use_certificate_chain_file(ctx, O.cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, O.key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1))) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_msg_callback(ctx, msg_cb);
	SSL_CTX_set_info_callback(ctx, info_cb);
	return ctx;
}

static SSL_CTX *
client_ctx(void)
{
	SSL_CTX *ctx;

	if (O.ca != NULL)
		return client_cert_ctx();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx,
		O.ccm ? "TLS_AES_128_CCM_SHA256" : "TLS_AES_128_GCM_SHA256") ||
	    (O.groups != NULL && !SSL_CTX_set1_groups_list(ctx, O.groups))) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/*
	 * psk_ke: an OpenSSL 3.0 client always sends a key share; the groups
	 * default to ffdhe2048 only, which ztpd (and s_server as bench/ runs
	 * it) does not take for key exchange, so the handshake is psk_ke.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
	    (O.psk_ke ? SSL_OP_ALLOW_NO_DHE_KEX : 0));
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_psk_use_session_callback(ctx, use_session);
	SSL_CTX_set_msg_callback(ctx, msg_cb);
	SSL_CTX_set_info_callback(ctx, info_cb);
	return ctx;
}

/* ---- EST devices: P-256 keys derived from the UDID, and their CSRs */

/*
 * The key of a device: private scalar SHA-256(UDID) mod the order of
 * P-256, so that the same UDID always has the same key and --print-devices
 * can say what to allowlist. Not a way to make real keys. *out is the
 * caller's (EVP_PKEY_free). 0, or -1.
 */
static int
device_key(const char *udid, EVP_PKEY **out)
{
	EC_GROUP *grp = NULL;
	EC_POINT *pub = NULL;
	BN_CTX *bn = NULL;
	BIGNUM *d = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t h[32], pt[65];
	size_t ptlen;
	int rc = -1;

	*out = NULL;
	if (crypto_sha256(udid, strlen(udid), h) != 0 || (bn = BN_CTX_new()) == NULL ||
	    (grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL ||
	    (d = BN_bin2bn(h, sizeof(h), NULL)) == NULL ||
	    !BN_nnmod(d, d, EC_GROUP_get0_order(grp), bn) || BN_is_zero(d) ||
	    (pub = EC_POINT_new(grp)) == NULL || !EC_POINT_mul(grp, pub, d, NULL, NULL, bn) ||
	    (ptlen = EC_POINT_point2oct(grp, pub, POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt),
		 bn)) == 0 ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, ptlen) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, out, EVP_PKEY_KEYPAIR, params) != 1)
		goto out;
	rc = 0;
out:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	EC_POINT_free(pub);
	EC_GROUP_free(grp);
	BN_CTX_free(bn);
	OPENSSL_cleanse(h, sizeof(h));
	return rc;
}

/* in[0..len) as base64 in 64-character lines, each ending in \n; *out is the caller's. */
static int
base64_lines(const uint8_t *in, size_t len, char **out, size_t *outlen)
{
	EVP_ENCODE_CTX *e;
	int a = 0, b = 0, ok;

	*out = NULL;
	if (len > BODY_MAX || (e = EVP_ENCODE_CTX_new()) == NULL)
		return -1;
	if ((*out = malloc(EVP_ENCODE_LENGTH(len) + 1)) == NULL) {
		EVP_ENCODE_CTX_free(e);
		return -1;
	}
	EVP_EncodeInit(e);
	ok = EVP_EncodeUpdate(e, (unsigned char *)*out, &a, in, (int)len) == 1;
	if (ok)
		EVP_EncodeFinal(e, (unsigned char *)*out + a, &b);
	EVP_ENCODE_CTX_free(e);
	if (!ok) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*outlen = (size_t)(a + b);
	return 0;
}

/* Device i of --est-devices: its UDID, key hash and CSR (subject CN = UDID, SHA-256). */
static int
device_make(struct device *dv, uint64_t i)
{
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	unsigned char *der = NULL, *spki = NULL;
	int n = 0, m = 0, rc = -1;

	snprintf(dv->udid, sizeof(dv->udid), "%s-%" PRIu64, O.dev_prefix, i);
	if (device_key(dv->udid, &key) != 0 || (req = X509_REQ_new()) == NULL ||
	    !X509_REQ_set_version(req, 0) ||
	    !X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_ASC,
		(const unsigned char *)dv->udid, -1, -1, 0) ||
	    !X509_REQ_set_pubkey(req, key) || X509_REQ_sign(req, key, EVP_sha256()) <= 0 ||
	    (n = i2d_X509_REQ(req, &der)) <= 0 || (m = i2d_PUBKEY(key, &spki)) <= 0 ||
	    crypto_sha256(spki, (size_t)m, dv->key_sha256) != 0 ||
	    base64_lines(der, (size_t)n, &dv->csr, &dv->csr_len) != 0 ||
	    (dv->spki = malloc(EVP_ENCODE_LENGTH(m) + 1)) == NULL)
		goto out;
	EVP_EncodeBlock((unsigned char *)dv->spki, spki, m);
	rc = 0;
out:
	OPENSSL_free(der);
	OPENSSL_free(spki);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return rc;
}

/* All of --est-devices into devices[]; 0, or -1 with a message. */
static int
devices_make(void)
{
	uint64_t i;

	if ((devices = calloc(O.dev_count, sizeof(*devices))) == NULL)
		return -1;
	for (i = 0; i < O.dev_count; i++)
		if (device_make(&devices[i], i) != 0) {
			ERR_print_errors_fp(stderr);
			fprintf(stderr, "ztp-bench: cannot make device %" PRIu64 "\n", i);
			return -1;
		}
	return 0;
}

static void
devices_free(void)
{
	uint64_t i;

	for (i = 0; devices != NULL && i < O.dev_count; i++) {
		free(devices[i].csr);
		free(devices[i].spki);
	}
	free(devices);
	devices = NULL;
}

/*
 * --print-devices: "udid,key_sha256_hex,spki_base64,csr_base64" lines
 * (DER, each base64 on one line): what to allowlist, what each device sends.
 */
static int
print_devices(void)
{
	char hex[65];
	uint64_t i;
	size_t k;

	for (i = 0; i < O.dev_count; i++) {
		if (hex_encode(devices[i].key_sha256, 32, hex, sizeof(hex)) != 0)
			return 1;
		printf("%s,%s,%s,", devices[i].udid, hex, devices[i].spki);
		for (k = 0; k < devices[i].csr_len; k++)
			if (devices[i].csr[k] != '\n')
				putchar(devices[i].csr[k]);
		putchar('\n');
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- fetches */

/* SIM idx of the range: its ICCID, and its PSK, SHA-256 of the ICCID's digits. */
static int
range_sim(uint64_t idx, char iccid[ICCID_STR_SIZE], uint8_t psk[32])
{
	snprintf(iccid, ICCID_STR_SIZE, "%" PRIu64, O.range_first + idx);
	return crypto_sha256(iccid, strlen(iccid), psk);
}

/* --print-sims: the range as "iccid,psk_hex" lines, the input of a registry import. */
static int
print_sims(void)
{
	char iccid[ICCID_STR_SIZE], hex[65];
	uint8_t psk[32];
	uint64_t i;

	for (i = 0; i < O.range_count; i++) {
		if (range_sim(i, iccid, psk) != 0 || hex_encode(psk, sizeof(psk), hex, sizeof(hex)) != 0)
			return 1;
		printf("%s,%s\n", iccid, hex);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/*
 * The SIM of the next fetch: the one of the options, or one of the range;
 * with certificates only the path.
 */
static int
pick_sim(struct thread *t, struct slot *s)
{
	char iccid[ICCID_STR_SIZE], ef_hex[2 * ICCID_EF_LEN + 1];
	uint8_t ef[ICCID_EF_LEN];
	int rc;

	if (O.ca != NULL) {
		snprintf(s->path, sizeof(s->path), "%s",
		    O.path != NULL ? O.path : O.est ? EST_PATH : "/");
		if (O.dev_count > 0) {
			struct device *d = &devices[xorshift(&t->rng) % O.dev_count];
			s->body = d->csr;
			s->body_len = d->csr_len;
		} else {
			s->body = O.body;
			s->body_len = O.body_len;
		}
		return 0;
	}
	if (O.range_count > 0) {
		if ((rc = range_sim(xorshift(&t->rng) % O.range_count, iccid, s->psk)) != 0)
			return rc;
		s->psklen = 32;
	} else {
		memcpy(iccid, O.iccid, sizeof(iccid));
		memcpy(s->psk, O.psk, O.psklen);
		s->psklen = O.psklen;
	}
	if ((rc = iccid_to_ef(iccid, ef)) != 0 ||
	    (rc = hex_encode(ef, sizeof(ef), ef_hex, sizeof(ef_hex))) != 0)
		return rc;
	if (O.bcd) {
		memcpy(s->identity, ef, sizeof(ef));
		s->idlen = sizeof(ef);
	} else {
		s->idlen = strlen(iccid);
		memcpy(s->identity, iccid, s->idlen);
	}
	if (O.path != NULL)
		snprintf(s->path, sizeof(s->path), "%s", O.path);
	else
		snprintf(s->path, sizeof(s->path), "/v1/config/%s?iccid=%s", O.devid, ef_hex);
	return 0;
}

static void
record(struct thread *t, struct slot *s, enum result r, uint64_t end)
{
	uint32_t *lat, *hs;
	size_t cap;

	if (end < t_window || end > t_stop)
		return; /* warm-up, or after the window */
	t->results[r]++;
	if (r != RES_OK)
		return;
	t->bytes_in += s->bytes_in;
	t->bytes_out += s->bytes_out;
	t->records_in += s->records_in;
	t->records_out += s->records_out;
	if (t->nsamples == t->cap) {
		cap = t->cap ? 2 * t->cap : 4096;
		if (cap > SAMPLES_MAX || (lat = realloc(t->lat, cap * sizeof(*lat))) == NULL) {
			t->failed = 1;
			return;
		}
		t->lat = lat;
		if ((hs = realloc(t->hs, cap * sizeof(*hs))) == NULL) {
			t->failed = 1;
			return;
		}
		t->hs = hs;
		t->cap = cap;
	}
	t->lat[t->nsamples] = (uint32_t)(end - s->started);
	t->hs[t->nsamples] = (uint32_t)(s->handshake_at - s->started);
	t->nsamples++;
}

/*
 * The end of a fetch. The connection is not freed here (evhttp frees it
 * itself on some paths and not on others when it has AUTOFREE; without,
 * never): next_cb frees it, once evhttp's callbacks have returned.
 */
static void
done_cb(struct evhttp_request *req, void *arg)
{
	struct slot *s = arg;
	enum result r;
	int code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	int want_ks = O.psk_ke && O.ca == NULL ? 0 : 1;
	const char *ctype;

	if (code == 0)
		r = s->handshake_at ? RES_HTTP : RES_CONNECT; /* no response */
	else if (code == 202 && O.est && O.expect != 202)
		r = RES_BUSY;
	else if (code != (int)O.expect)
		r = RES_STATUS;
	else if (s->hrr || s->key_share != want_ks)
		r = RES_KEX;
	else if (!s->suite_ok)
		r = RES_SUITE;
	else if (O.cert != NULL && !s->cert_req)
		r = RES_AUTH;
	else
		r = RES_OK;
	if (r == RES_OK && O.est && code == 200) {
		/* an enrolment: a PKCS#7 answer, not parsed (that is the device's cost) */
		ctype = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
		if (ctype == NULL || strncmp(ctype, EST_REPLY_TYPE, strlen(EST_REPLY_TYPE)) != 0 ||
		    evbuffer_get_length(evhttp_request_get_input_buffer(req)) == 0)
			r = RES_BODY;
	}
	s->dead = s->evcon;
	s->evcon = NULL;
	record(s->t, s, r, clock_mono_us());
	event_active(s->next_ev, EV_TIMEOUT, 1);
}

static int
may_start(void)
{
	if (clock_mono_us() >= t_stop)
		return 0;
	return O.count == 0 || atomic_fetch_add(&issued, 1) < O.count;
}

static int
start_fetch(struct slot *s)
{
	struct thread *t = s->t;
	struct bufferevent *bev;
	struct evhttp_request *req;
	struct evkeyvalq *h;
	SSL *ssl;

	s->handshake_at = 0;
	s->bytes_in = s->bytes_out = 0;
	s->records_in = s->records_out = 0;
	s->key_share = -1;
	s->hrr = 0;
	s->suite_ok = 0;
	s->cert_req = 0;
	if (pick_sim(t, s) != 0 || (ssl = SSL_new(t->ctx)) == NULL)
		return -1;
	SSL_set_app_data(ssl, s);
	bev = bufferevent_openssl_socket_new(t->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		return -1;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	s->evcon = evhttp_connection_base_bufferevent_new(t->base, NULL, bev, O.host,
	    (unsigned short)O.port);
	if (s->evcon == NULL) {
		bufferevent_free(bev);
		return -1;
	}
	evhttp_connection_set_timeout(s->evcon, (int)O.timeout);
	evhttp_connection_set_retries(s->evcon, 0);
	if ((req = evhttp_request_new(done_cb, s)) == NULL)
		goto fail;
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", "localhost");
	evhttp_add_header(h, "Connection", "close");
	if (O.est) {
		evhttp_add_header(h, "Content-Type", "application/pkcs10");
		if (evbuffer_add(evhttp_request_get_output_buffer(req), s->body, s->body_len) != 0) {
			evhttp_request_free(req);
			goto fail;
		}
	}
	s->started = clock_mono_us();
	if (evhttp_make_request(s->evcon, req, O.est ? EVHTTP_REQ_POST : EVHTTP_REQ_GET,
		s->path) != 0)
		goto fail; /* evhttp freed req */
	return 0;
fail:
	evhttp_connection_free(s->evcon);
	s->evcon = NULL;
	return -1;
}

/* After a fetch, outside evhttp's callbacks: free its connection, start the next. */
static void
next_cb(evutil_socket_t fd, short what, void *arg)
{
	struct slot *s = arg;
	struct thread *t = s->t;

	(void)fd;
	(void)what;
	if (s->dead != NULL) {
		evhttp_connection_free(s->dead);
		s->dead = NULL;
	}
	while (may_start()) {
		if (start_fetch(s) == 0)
			return;
		record(t, s, RES_CONNECT, clock_mono_us());
	}
	if (--t->active == 0)
		event_base_loopbreak(t->base);
}

static void *
thread_main(void *arg)
{
	struct thread *t = arg;
	size_t i;

	t->active = t->nslots;
	for (i = 0; i < t->nslots; i++)
		event_active(t->slots[i].next_ev, EV_TIMEOUT, 1);
	if (t->nslots > 0)
		event_base_dispatch(t->base);
	return NULL;
}

/* ---- CPU accounting */

static double
client_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of process pid (all its threads) in seconds; -1 if unknown. */
static double
proc_cpu_s(uint64_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%" PRIu64 "/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after the command name in parentheses: state is field 3, utime 14, stime 15 */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/*
 * The CPU time of the --server-pid processes, summed, in seconds, each in
 * per[]; -1 if one is unknown (or none was given).
 */
static double
server_cpu_s(double per[MAX_SERVER_PIDS])
{
	double sum = 0;
	size_t i;

	if (O.n_server_pids == 0)
		return -1;
	for (i = 0; i < O.n_server_pids; i++) {
		if ((per[i] = proc_cpu_s(O.server_pids[i])) < 0)
			return -1;
		sum += per[i];
	}
	return sum;
}

/* Busy CPU time of the whole machine (/proc/stat) in seconds; -1 if unknown. */
static double
machine_cpu_s(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (f == NULL)
		return -1;
	/* user nice system idle iowait irq softirq steal */
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
	    &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8)
		return -1;
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- results */

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (nearest rank) of sorted v[0..n) in milliseconds. */
static double
quantile_ms(const uint32_t *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)n + 0.999999);
	i = i == 0 ? 0 : i - 1;
	return (double)v[i < n ? i : n - 1] / 1000.0;
}

struct figure {
	const char *name, *unit;
	int prec; /* decimals shown */
	double value;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ztp-bench --port P [--host ADDR] (--iccid DIGITS --psk HEX |\n"
	    "                 --iccid-range FIRST:COUNT) [--identity ascii|bcd]\n"
	    "                 [--suite ccm|gcm] [--kex psk_ke|psk_dhe_ke] [--groups LIST]\n"
	    "                 [--device-id HEX] [--path PATH] [--expect STATUS]\n"
	    "                 [-c CONNS] [-t THREADS] [-d SECONDS [--warmup SECONDS] | -n COUNT]\n"
	    "                 [--max-seconds S] [--timeout S] [--server-pid PID]...\n"
	    "                 [--label NAME] [--json FILE] [--quiet]\n"
	    "       ztp-bench --port P [--host ADDR] --ca FILE [--cert FILE --key FILE]\n"
	    "                 [--est CSR_FILE | --est-devices PREFIX:COUNT | --path PATH]\n"
	    "                 [--groups LIST] [--expect STATUS] [-c CONNS] ... (as above)\n"
	    "       ztp-bench --iccid-range FIRST:COUNT --print-sims\n"
	    "       ztp-bench --est-devices PREFIX:COUNT --print-devices\n"
	    "\n"
	    "Fetches a configuration from ztpd's device endpoint (or any TLS 1.3 PSK\n"
	    "HTTP server) over a new connection and a full handshake each time, with\n"
	    "CONNS at once, and prints fetches per second, latency p50/p99 (whole fetch\n"
	    "and handshake), errors, TLS bytes on the wire per fetch, and CPU time per\n"
	    "fetch of the client and (with --server-pid) of the server. With --ca, the\n"
	    "handshake is a TLS 1.3 one with certificates instead of a PSK; with --est,\n"
	    "each fetch is an EST simpleenroll of the CSR.\n"
	    "\n"
	    "  --iccid DIGITS --psk HEX   the one SIM to use\n"
	    "  --iccid-range FIRST:COUNT  a random SIM of COUNT from FIRST for each fetch,\n"
	    "                             PSK = SHA-256(ICCID in ASCII digits)\n"
	    "  --print-sims               print the range's SIMs as iccid,psk_hex lines\n"
	    "                             (a registry import file) and exit\n"
	    "  --identity ascii|bcd       PSK identity: the ICCID's digits (default) or\n"
	    "                             the 10 EF_ICCID bytes\n"
	    "  --suite ccm|gcm            TLS_AES_128_CCM_SHA256 (default) or _GCM_\n"
	    "  --kex psk_ke|psk_dhe_ke    psk_ke: ffdhe2048-only key share and\n"
	    "                             SSL_OP_ALLOW_NO_DHE_KEX (default psk_dhe_ke);\n"
	    "                             the ServerHello is checked for it\n"
	    "  --groups LIST              the groups to offer instead (OpenSSL syntax)\n"
	    "  --device-id HEX            Device ID of the path (default the seed's)\n"
	    "  --path PATH                request PATH instead of /v1/config/...\n"
	    "  --expect STATUS            the status that counts as success (default 200)\n"
	    "  -c CONNS                   simultaneous connections (default 1)\n"
	    "  -t THREADS                 client threads (default min(CONNS, cores))\n"
	    "  -d SECONDS                 measure for SECONDS, after --warmup SECONDS\n"
	    "  -n COUNT                   make COUNT fetches (default 1 without -d)\n"
	    "  --max-seconds S            stop starting fetches after S (default 120)\n"
	    "  --timeout S                per-connection inactivity limit (default 10)\n"
	    "  --ca FILE                  certificates, no PSK: verify the server's chain\n"
	    "                             against FILE (PEM; no name check)\n"
	    "  --cert FILE --key FILE     show this client certificate (PEM chain, key);\n"
	    "                             the server must ask for one\n"
	    "  --est CSR_FILE             POST FILE's bytes (base64 DER PKCS#10) to\n"
	    "                             " EST_PATH " as application/pkcs10;\n"
	    "                             200 must be application/pkcs7-mime, a 202 is\n"
	    "                             counted apart (busy_202)\n"
	    "  --est-devices PREFIX:COUNT as --est, each time the CSR of a random one of\n"
	    "                             COUNT devices PREFIX-0 ..., P-256 private key\n"
	    "                             SHA-256(UDID), subject CN = UDID\n"
	    "  --print-devices            print them as udid,key_sha256_hex,spki_base64,\n"
	    "                             csr_base64 lines (what to allowlist) and exit\n"
	    "  --server-pid PID           sample the server's CPU time; up to %d times\n"
	    "                             (a server and its helpers: the sum, and each)\n"
	    "  --json FILE                also write the figures to FILE\n"
	    "  --quiet                    print nothing but errors\n",
	    MAX_SERVER_PIDS);
	exit(2);
}

static double
parse_seconds(const char *v)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || *end != '\0' || !(d >= 0) || d > 86400)
		usage();
	return d;
}

/* --est: the CSR file into O.body (at most BODY_MAX bytes); 0, or -1 with a message. */
static int
read_body(const char *file)
{
	FILE *f;
	size_t n;

	if ((O.body = malloc(BODY_MAX + 1)) == NULL || (f = fopen(file, "rb")) == NULL) {
		fprintf(stderr, "ztp-bench: cannot read %s\n", file);
		return -1;
	}
	n = fread(O.body, 1, BODY_MAX + 1, f);
	if (ferror(f) || n == 0 || n > BODY_MAX) {
		fclose(f);
		fprintf(stderr, "ztp-bench: %s: empty, unreadable or over %d bytes\n", file,
		    BODY_MAX);
		return -1;
	}
	fclose(f);
	O.body_len = n;
	return 0;
}

/* A character of a UDID as ztpd takes it: A-Z a-z 0-9 - . : _ */
static int
udid_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == ':' || c == '_';
}

static void
parse_args(int argc, char **argv)
{
	char first[ICCID_STR_SIZE + 1], last[32];
	const char *colon;
	size_t k;
	int i;

	snprintf(O.host, sizeof(O.host), "127.0.0.1");
	snprintf(O.devid, sizeof(O.devid), "%s", DEFAULT_DEVID);
	O.ccm = 1;
	O.conns = 1;
	O.expect = 200;
	O.timeout = 10;
	O.max_seconds = 120;
	O.label = "run";
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--quiet")) {
			O.quiet = 1;
			continue;
		}
		if (!strcmp(a, "--print-sims")) {
			O.print_sims = 1;
			continue;
		}
		if (!strcmp(a, "--print-devices")) {
			O.print_devices = 1;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h") || v == NULL)
			usage();
		i++;
		if (!strcmp(a, "--port")) {
			if (num_parse_u64z(v, 1, 65535, &O.port) != 0)
				usage();
		} else if (!strcmp(a, "--host")) {
			if (strlen(v) >= sizeof(O.host))
				usage();
			snprintf(O.host, sizeof(O.host), "%s", v);
		} else if (!strcmp(a, "--iccid")) {
			if (!iccid_valid(v, strlen(v)))
				usage();
			snprintf(O.iccid, sizeof(O.iccid), "%s", v);
		} else if (!strcmp(a, "--psk")) {
			if (hex_decode(v, strlen(v), O.psk, sizeof(O.psk), &O.psklen) != 0 ||
			    O.psklen == 0)
				usage();
		} else if (!strcmp(a, "--iccid-range")) {
			if ((colon = strchr(v, ':')) == NULL || (size_t)(colon - v) >= sizeof(first) ||
			    !iccid_valid(v, (size_t)(colon - v)) ||
			    num_parse_u64(v, (size_t)(colon - v), 0, UINT64_MAX, &O.range_first) != 0 ||
			    num_parse_u64z(colon + 1, 1, 100000000, &O.range_count) != 0 ||
			    O.range_first > UINT64_MAX - O.range_count)
				usage();
			/* every ICCID of the range has the same number of digits */
			snprintf(first, sizeof(first), "%" PRIu64, O.range_first);
			snprintf(last, sizeof(last), "%" PRIu64, O.range_first + O.range_count - 1);
			if (strlen(first) != strlen(last)) {
				fprintf(stderr, "ztp-bench: the range crosses a power of ten\n");
				exit(2);
			}
		} else if (!strcmp(a, "--identity")) {
			if (strcmp(v, "ascii") && strcmp(v, "bcd"))
				usage();
			O.bcd = !strcmp(v, "bcd");
		} else if (!strcmp(a, "--suite")) {
			if (strcmp(v, "ccm") && strcmp(v, "gcm"))
				usage();
			O.ccm = !strcmp(v, "ccm");
		} else if (!strcmp(a, "--kex")) {
			if (strcmp(v, "psk_ke") && strcmp(v, "psk_dhe_ke"))
				usage();
			O.psk_ke = !strcmp(v, "psk_ke");
		} else if (!strcmp(a, "--groups")) {
			O.groups = v;
		} else if (!strcmp(a, "--device-id")) {
			if (!hex_valid(v, strlen(v)) || strlen(v) > 32)
				usage();
			snprintf(O.devid, sizeof(O.devid), "%s", v);
		} else if (!strcmp(a, "--path")) {
			if (v[0] != '/' || strlen(v) >= PATH_CAP)
				usage();
			O.path = v;
		} else if (!strcmp(a, "--expect")) {
			if (num_parse_u64z(v, 100, 599, &O.expect) != 0)
				usage();
		} else if (!strcmp(a, "-c")) {
			if (num_parse_u64z(v, 1, MAX_CONNS, &O.conns) != 0)
				usage();
		} else if (!strcmp(a, "-t")) {
			if (num_parse_u64z(v, 1, MAX_THREADS, &O.threads) != 0)
				usage();
		} else if (!strcmp(a, "-d")) {
			O.duration = parse_seconds(v);
		} else if (!strcmp(a, "--warmup")) {
			O.warmup = parse_seconds(v);
		} else if (!strcmp(a, "-n")) {
			if (num_parse_u64z(v, 1, 100000000, &O.count) != 0)
				usage();
		} else if (!strcmp(a, "--max-seconds")) {
			O.max_seconds = parse_seconds(v);
		} else if (!strcmp(a, "--timeout")) {
			if (num_parse_u64z(v, 1, 3600, &O.timeout) != 0)
				usage();
		} else if (!strcmp(a, "--server-pid")) {
			if (O.n_server_pids == MAX_SERVER_PIDS ||
			    num_parse_u64z(v, 1, 4194304, &O.server_pids[O.n_server_pids++]) != 0)
				usage();
		} else if (!strcmp(a, "--ca")) {
			O.ca = v;
		} else if (!strcmp(a, "--cert")) {
			O.cert = v;
		} else if (!strcmp(a, "--key")) {
			O.key = v;
		} else if (!strcmp(a, "--est")) {
			O.est_csr = v;
			O.est = 1;
		} else if (!strcmp(a, "--est-devices")) {
			if ((colon = strrchr(v, ':')) == NULL || colon == v ||
			    (size_t)(colon - v) >= sizeof(O.dev_prefix) ||
			    num_parse_u64z(colon + 1, 1, 100000, &O.dev_count) != 0)
				usage();
			for (k = 0; k < (size_t)(colon - v); k++)
				if (!udid_char(v[k]))
					usage();
			memcpy(O.dev_prefix, v, (size_t)(colon - v));
			O.dev_prefix[colon - v] = '\0';
			O.est = 1;
		} else if (!strcmp(a, "--label")) {
			O.label = v;
		} else if (!strcmp(a, "--json")) {
			O.json = v;
		} else {
			usage();
		}
	}
	if (O.print_sims) {
		if (O.range_count == 0)
			usage();
		return;
	}
	if (O.print_devices) {
		if (O.dev_count == 0)
			usage();
		return;
	}
	if (O.ca != NULL) {
		/* certificates: no SIM, no PSK options */
		if (O.port == 0 || O.range_count > 0 || O.iccid[0] != '\0' || O.psklen > 0 ||
		    O.bcd || O.psk_ke || !O.ccm || (O.cert == NULL) != (O.key == NULL) ||
		    (O.est && O.path != NULL) || (O.est_csr != NULL && O.dev_count > 0) ||
		    (O.duration > 0 && O.count > 0) ||
		    (O.warmup > 0 && O.duration == 0))
			usage();
		if (O.est_csr != NULL && read_body(O.est_csr) != 0)
			exit(2);
	} else if (O.port == 0 || (O.range_count == 0 && (O.iccid[0] == '\0' || O.psklen == 0)) ||
	    (O.range_count > 0 && O.iccid[0] != '\0') || (O.duration > 0 && O.count > 0) ||
	    (O.warmup > 0 && O.duration == 0) || O.cert != NULL || O.key != NULL || O.est) {
		usage();
	}
	if (O.duration == 0 && O.count == 0)
		O.count = 1;
	if (O.psk_ke && O.groups == NULL)
		O.groups = "ffdhe2048";
	if (O.threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		O.threads = n > 0 ? (uint64_t)n : 1;
	}
	if (O.threads > O.conns)
		O.threads = O.conns;
}

int
main(int argc, char **argv)
{
	struct thread *th;
	struct figure fig[48];
	double sp0[MAX_SERVER_PIDS], sp1[MAX_SERVER_PIDS];
	static const char *const per_pid_name[MAX_SERVER_PIDS] = { "server_cpu_per_fetch_1",
		"server_cpu_per_fetch_2", "server_cpu_per_fetch_3", "server_cpu_per_fetch_4" };
	uint32_t *lat = NULL, *hs = NULL;
	uint64_t res[RES__COUNT] = { 0 }, bin = 0, bout = 0, rin = 0, rout = 0, t_end, errors;
	size_t nfig = 0, n = 0, i, k, j;
	double c0, c1, s0, s1, m0, m1, window, ok;
	json_t *js;
	int r, status = 1;

	parse_args(argc, argv);
	if (O.print_sims)
		return print_sims();
	if (O.dev_count > 0 && devices_make() != 0)
		return 1;
	if (O.print_devices) {
		status = print_devices();
		devices_free();
		return status;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((th = calloc(O.threads, sizeof(*th))) == NULL)
		return 1;
	for (i = 0; i < O.threads; i++) {
		th[i].id = (int)i;
		th[i].rng = 0x9E3779B97F4A7C15ull * (i + 1) ^ (uint64_t)getpid() << 20 ^ clock_mono_us();
		th[i].nslots = O.conns / O.threads + (i < O.conns % O.threads);
		if ((th[i].base = event_base_new()) == NULL || (th[i].ctx = client_ctx()) == NULL ||
		    (th[i].slots = calloc(th[i].nslots, sizeof(struct slot))) == NULL) {
			ERR_print_errors_fp(stderr);
			fprintf(stderr, "ztp-bench: cannot set up thread %zu\n", i);
			return 1;
		}
		for (k = 0; k < th[i].nslots; k++) {
			th[i].slots[k].t = &th[i];
			th[i].slots[k].next_ev = event_new(th[i].base, -1, 0, next_cb, &th[i].slots[k]);
			if (th[i].slots[k].next_ev == NULL)
				return 1;
		}
	}

	t_start = clock_mono_us();
	t_window = t_start + (uint64_t)(O.warmup * 1e6);
	t_stop = O.duration > 0 ? t_window + (uint64_t)(O.duration * 1e6) :
	    t_start + (uint64_t)(O.max_seconds * 1e6);
	if (O.duration > 0 && t_stop > t_start + (uint64_t)(O.max_seconds * 1e6))
		t_stop = t_start + (uint64_t)(O.max_seconds * 1e6);
	for (i = 0; i < O.threads; i++)
		if (pthread_create(&th[i].tid, NULL, thread_main, &th[i]) != 0)
			return 1;
	if (O.duration > 0) {
		sleep_until(t_window);
		c0 = client_cpu_s();
		s0 = server_cpu_s(sp0);
		m0 = machine_cpu_s();
		sleep_until(t_stop);
		c1 = client_cpu_s();
		s1 = server_cpu_s(sp1);
		m1 = machine_cpu_s();
		t_end = t_stop;
		for (i = 0; i < O.threads; i++)
			pthread_join(th[i].tid, NULL);
	} else {
		c0 = client_cpu_s();
		s0 = server_cpu_s(sp0);
		m0 = machine_cpu_s();
		for (i = 0; i < O.threads; i++)
			pthread_join(th[i].tid, NULL);
		t_end = clock_mono_us();
		c1 = client_cpu_s();
		s1 = server_cpu_s(sp1);
		m1 = machine_cpu_s();
	}
	window = (double)(t_end - t_window) / 1e6;

	for (i = 0; i < O.threads; i++)
		n += th[i].nsamples;
	if ((lat = malloc((n + 1) * sizeof(*lat))) == NULL ||
	    (hs = malloc((n + 1) * sizeof(*hs))) == NULL)
		return 1;
	for (i = 0, j = 0; i < O.threads; i++) {
		if (th[i].failed)
			fprintf(stderr, "ztp-bench: thread %zu ran out of memory for samples\n", i);
		memcpy(lat + j, th[i].lat, th[i].nsamples * sizeof(*lat));
		memcpy(hs + j, th[i].hs, th[i].nsamples * sizeof(*hs));
		j += th[i].nsamples;
		for (r = 0; r < RES__COUNT; r++)
			res[r] += th[i].results[r];
		bin += th[i].bytes_in;
		bout += th[i].bytes_out;
		rin += th[i].records_in;
		rout += th[i].records_out;
	}
	qsort(lat, n, sizeof(*lat), cmp_u32);
	qsort(hs, n, sizeof(*hs), cmp_u32);
	ok = (double)res[RES_OK];
	errors = 0;
	for (r = 1; r < RES__COUNT; r++)
		if (r != RES_BUSY)
			errors += res[r];

#define FIG(n_, v_, u_, p_) fig[nfig++] = (struct figure){ n_, u_, p_, (double)(v_) }
	FIG("fetches", res[RES_OK], "fetches", 0);
	FIG("errors", errors, "fetches", 0);
	for (r = 1; r < RES__COUNT; r++)
		if (res[r] > 0)
			FIG(result_name[r], res[r], "fetches", 0);
	FIG("seconds", window, "s", 2);
	FIG("fetches_per_s", window > 0 ? ok / window : 0, "/s", 1);
	FIG("latency_p50", quantile_ms(lat, n, 0.50), "ms", 3);
	FIG("latency_p99", quantile_ms(lat, n, 0.99), "ms", 3);
	FIG("handshake_p50", quantile_ms(hs, n, 0.50), "ms", 3);
	FIG("handshake_p99", quantile_ms(hs, n, 0.99), "ms", 3);
	FIG("tls_bytes_per_fetch", ok > 0 ? (double)(bin + bout) / ok : 0, "bytes", 1);
	FIG("tls_bytes_sent_per_fetch", ok > 0 ? (double)bout / ok : 0, "bytes", 1);
	FIG("tls_bytes_received_per_fetch", ok > 0 ? (double)bin / ok : 0, "bytes", 1);
	FIG("tls_records_sent_per_fetch", ok > 0 ? (double)rout / ok : 0, "records", 2);
	FIG("tls_records_received_per_fetch", ok > 0 ? (double)rin / ok : 0, "records", 2);
	FIG("client_key_share_ext", atomic_load(&key_share_ext) < 0 ? 0 :
	    atomic_load(&key_share_ext), "bytes", 0);
	FIG("client_cpu_per_fetch", ok > 0 ? (c1 - c0) * 1e6 / ok : 0, "us", 1);
	FIG("client_cpu", window > 0 ? (c1 - c0) / window : 0, "cores", 2);
	if (s0 >= 0 && s1 >= 0) {
		FIG("server_cpu_per_fetch", ok > 0 ? (s1 - s0) * 1e6 / ok : 0, "us", 1);
		FIG("server_cpu", window > 0 ? (s1 - s0) / window : 0, "cores", 2);
		for (i = 0; O.n_server_pids > 1 && i < O.n_server_pids; i++)
			FIG(per_pid_name[i], ok > 0 ? (sp1[i] - sp0[i]) * 1e6 / ok : 0, "us", 1);
	}
	if (m0 >= 0 && m1 >= 0 && window > 0) {
		/* what else ran on the machine meanwhile: the noise of a shared host */
		double other = (m1 - m0) - (c1 - c0) - (s0 >= 0 && s1 >= 0 ? s1 - s0 : 0);
		FIG("machine_cpu", (m1 - m0) / window, "cores", 2);
		FIG("other_cpu", other > 0 ? other / window : 0, "cores", 2);
	}
#undef FIG

	if (O.ca != NULL)
		js = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "label", O.label, "auth",
		    O.cert != NULL ? "mutual_tls" : "server_cert", "suite", suite_name, "request",
		    O.est ? "est_simpleenroll" : "get", "path",
		    O.path != NULL ? O.path : O.est ? EST_PATH : "/", "devices",
		    (json_int_t)(O.dev_count > 0 ? O.dev_count : O.est ? 1 : 0), "connections",
		    (json_int_t)O.conns, "threads", (json_int_t)O.threads);
	else
		js = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "label", O.label, "kex",
		    O.psk_ke ? "psk_ke" : "psk_dhe_ke", "suite",
		    O.ccm ? "TLS_AES_128_CCM_SHA256" : "TLS_AES_128_GCM_SHA256", "identity",
		    O.bcd ? "bcd" : "ascii", "sims", O.range_count > 0 ? "range" : "one",
		    "sim_count", (json_int_t)(O.range_count > 0 ? O.range_count : 1),
		    "connections", (json_int_t)O.conns, "threads", (json_int_t)O.threads);
	if (!O.quiet) {
		printf("label: %s\n", O.label);
		if (O.ca != NULL)
			printf("suite: %s\n", suite_name[0] ? suite_name : "none");
	}
	for (i = 0; i < nfig; i++) {
		if (!O.quiet) {
			printf("%s: %.*f %s\n", fig[i].name, fig[i].prec, fig[i].value, fig[i].unit);
		}
		if (js != NULL)
			json_object_set_new(js, fig[i].name, json_real(fig[i].value));
	}
	if (O.json != NULL && (js == NULL || json_dump_file(js, O.json, JSON_INDENT(2)) != 0))
		fprintf(stderr, "ztp-bench: cannot write %s\n", O.json);
	json_decref(js);
	status = (res[RES_OK] > 0 && errors == 0 && res[RES_BUSY] == 0) ? 0 : 1;
	if (errors > 0)
		fprintf(stderr, "ztp-bench: %s: %" PRIu64 " of %" PRIu64 " fetches failed\n",
		    O.label, errors, errors + res[RES_OK] + res[RES_BUSY]);
	if (res[RES_BUSY] > 0)
		fprintf(stderr, "ztp-bench: %s: %" PRIu64 " enrolments answered 202 (CA busy)\n",
		    O.label, res[RES_BUSY]);

	for (i = 0; i < O.threads; i++) {
		for (k = 0; k < th[i].nslots; k++)
			event_free(th[i].slots[k].next_ev);
		free(th[i].slots);
		free(th[i].lat);
		free(th[i].hs);
		SSL_CTX_free(th[i].ctx);
		event_base_free(th[i].base);
	}
	free(th);
	free(lat);
	free(hs);
	free(O.body);
	devices_free();
	return status;
}
