/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The EST endpoint (RFC 7030): authorisation, signing through the CA
 * process, recording, answers. Parsing of what the client sends is
 * est_req.c's; the CA key is the signer's (signer.h).
 *
 * Who may enrol (simpleenroll, serverkeygen), in this order:
 *   - a device with a certificate of ours (mutual TLS), for its own UDID:
 *     a re-enrolment;
 *   - a device with a manufacturer certificate (IDevID) from an imported
 *     manufacturer CA, for the UDID in that certificate;
 *   - HTTP Basic with the UDID as user name and a one-time enrolment
 *     password;
 *   - a device on the allowlist, with no credentials: its CSR must carry
 *     the allowlisted key (the CSR's signature proves it holds it).
 * Each method must be allowed by the policy of the device's group (or the
 * server's --est-auth). Whatever the method, a UDID on the allowlist must
 * use its allowlisted key. simplereenroll needs a certificate of ours for
 * the same UDID, which may have expired within the group's grace period.
 * However authorised, a UDID gets at most --est-certs-per-hour certificates
 * in any hour (over_limit()).
 * A certificate is returned only after its record is committed, and
 * recorded only once its answer is built.
 *
 * serverkeygen makes a key of the CSR's kind (est_keygen_choose()) on a
 * thread of its own and answers when it is made (see KEYGEN_MAX): the
 * worker's loop serves its other connections meanwhile.
 *
 * The checks of a client certificate of ours (it chains to our CA, is on
 * record for the UDID it names, not revoked, in time) are also the device
 * listener's, with --device-cert-auth: est_api_verify_device_peer in its
 * handshake, est_api_peer_check with each of its requests.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "clock.h"
#include "config.h"
#include "crypto.h"
#include "est_req.h"
#include "events.h"
#include "fault.h"
#include "hex.h"
#include "http_util.h"
#include "log.h"
#include "pki.h"
#include "server.h"
#include "signer_client.h"
#include "store.h"
#include "ztp/err.h"

#define RETRY_AFTER_S "2" /* the CA process is being restarted */
#define MFR_MAX 256       /* manufacturer CAs a worker trusts */

struct mfr_entry {
	uint8_t sha256[32];
	char group[STORE_GROUP_SIZE];
};

struct keygen_job;

/* Per worker: trust stores for client certificates, the fixed answers, keys being made. */
struct est_worker {
	X509_STORE *ours;
	X509_STORE *mfr;
	int64_t mfr_gen; /* the store's manufacturer CA generation mfr was built at */
	struct mfr_entry *mfr_map;
	size_t n_mfr;
	char *cacerts; /* base64 PKCS#7 of ca.pem's certificates */
	size_t cacerts_len;
	LIST_HEAD(, keygen_job) jobs; /* serverkeygen: keys being made */
	int njobs;
};

/* ---- per-worker state ---- */

static void keygen_worker_exit(struct est_worker *e);

static struct est_worker *
est_state(struct worker *w)
{
	struct est_worker *e = w->est;
	const struct datadir *dd = w->srv->dd;
	X509 **certs = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	int i, n = sk_X509_num(dd->ca_chain);

	if (e != NULL)
		return e;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->mfr_gen = -1;
	LIST_INIT(&e->jobs);
	if ((certs = calloc((size_t)n, sizeof(*certs))) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		certs[i] = sk_X509_value(dd->ca_chain, i);
	/* our CA, trusted as the anchor even if it is an intermediate */
	if ((e->ours = X509_STORE_new()) == NULL || X509_STORE_add_cert(e->ours, dd->ca_cert) != 1 ||
	    est_pkcs7_certs(certs, (size_t)n, &der, &len) != 0 ||
	    est_base64_encode(der, len, &e->cacerts, &e->cacerts_len) != 0)
		goto fail;
	free(certs);
	free(der);
	w->est = e;
	return e;
fail:
	free(certs);
	free(der);
	X509_STORE_free(e->ours);
	free(e->cacerts);
	free(e);
	return NULL;
}

void
est_api_worker_free(struct worker *w)
{
	struct est_worker *e = w->est;

	if (e == NULL)
		return;
	keygen_worker_exit(e);
	X509_STORE_free(e->ours);
	X509_STORE_free(e->mfr);
	free(e->mfr_map);
	free(e->cacerts);
	free(e);
	w->est = NULL;
}

struct mfr_build {
	X509_STORE *st;
	struct mfr_entry *map;
	size_t n;
};

static int
mfr_add(const struct store_mfr_ca *ca, void *arg)
{
	struct mfr_build *b = arg;
	BIO *bio;
	X509 *cert;

	if (b->n >= MFR_MAX) {
		log_warnx("EST: more than %d manufacturer CAs; %s and later ones are not trusted",
		    MFR_MAX, ca->name);
		return 1;
	}
	if ((bio = BIO_new_mem_buf(ca->pem, -1)) == NULL)
		return 0;
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (cert == NULL || X509_STORE_add_cert(b->st, cert) != 1) {
		log_warnx("EST: manufacturer CA %s cannot be loaded", ca->name);
		X509_free(cert);
		return 0;
	}
	X509_free(cert);
	memcpy(b->map[b->n].sha256, ca->sha256, 32);
	snprintf(b->map[b->n].group, sizeof(b->map[0].group), "%s", ca->group);
	b->n++;
	return 0;
}

/* The manufacturer trust store, rebuilt when the store's CAs changed. */
static X509_STORE *
mfr_store(struct worker *w, struct est_worker *e)
{
	struct mfr_build b = { 0 };
	int64_t gen;

	if (store_mfr_ca_generation(w->store, &gen) != 0)
		return e->mfr; /* keep what we have */
	if (gen == e->mfr_gen && e->mfr != NULL)
		return e->mfr;
	if ((b.st = X509_STORE_new()) == NULL || (b.map = calloc(MFR_MAX, sizeof(*b.map))) == NULL ||
	    store_mfr_ca_list(w->store, mfr_add, &b) < 0) {
		X509_STORE_free(b.st);
		free(b.map);
		return e->mfr;
	}
	X509_STORE_free(e->mfr);
	free(e->mfr_map);
	e->mfr = b.st;
	e->mfr_map = b.map;
	e->n_mfr = b.n;
	e->mfr_gen = gen;
	return e->mfr;
}

/* ---- small helpers ---- */

/*
 * The identity in a certificate's subject. Ours carry the UDID as CN (and
 * as serialNumber when it is printable): CN first. An IDevID (802.1AR)
 * often names the model in its CN and the device in its serialNumber:
 * serialNumber first.
 */
static int
cert_udid(X509 *cert, int serial_first, char *out, size_t cap)
{
	X509_NAME *name = X509_get_subject_name(cert);
	int nids[2], i, idx, n;
	unsigned char *utf8;

	nids[0] = serial_first ? NID_serialNumber : NID_commonName;
	nids[1] = serial_first ? NID_commonName : NID_serialNumber;
	for (i = 0; i < 2; i++) {
		if ((idx = X509_NAME_get_index_by_NID(name, nids[i], -1)) < 0)
			continue;
		n = ASN1_STRING_to_UTF8(&utf8,
		    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
		if (n <= 0)
			return ZTP_EMALFORMED; /* present but unreadable: no falling back */
		if ((size_t)n < cap && est_udid_valid((const char *)utf8, (size_t)n)) {
			memcpy(out, utf8, (size_t)n);
			out[n] = '\0';
			OPENSSL_free(utf8);
			return 0;
		}
		OPENSSL_free(utf8);
		return ZTP_EMALFORMED;
	}
	return ZTP_EMALFORMED;
}

static int
serial_hex(const ASN1_INTEGER *ai, char out[STORE_SERIAL_HEX])
{
	uint8_t buf[SIGNER_SERIAL_MAX];
	BIGNUM *bn;
	int n;

	if ((bn = ASN1_INTEGER_to_BN(ai, NULL)) == NULL)
		return ZTP_EMALFORMED;
	n = BN_num_bytes(bn);
	if (BN_is_negative(bn) || n <= 0 || n > (int)sizeof(buf)) {
		BN_free(bn);
		return ZTP_EMALFORMED;
	}
	BN_bn2bin(bn, buf);
	BN_free(bn);
	return hex_encode(buf, (size_t)n, out, STORE_SERIAL_HEX);
}

struct policy {
	int auth;
	int days;
	int64_t grace;
};

/* The policy of group ("" for none); ZTP_ESTORE if it cannot be read. */
static int
policy_for(struct worker *w, const char *group, struct policy *p)
{
	const struct config *cfg = w->srv->cfg;
	struct store_group g;
	int rc;

	p->auth = cfg->est_auth;
	p->days = cfg->cert_days;
	p->grace = cfg->reenroll_grace;
	if (group[0] == '\0')
		return 0;
	if ((rc = store_group_get(w->store, group, &g)) != 0)
		return rc == ZTP_ENOENT ? 0 : rc;
	if (g.est_auth != 0)
		p->auth = g.est_auth;
	if (g.cert_days > 0)
		p->days = g.cert_days;
	if (g.reenroll_grace_s >= 0)
		p->grace = g.reenroll_grace_s;
	return 0;
}

/*
 * What the store knows of udid: its allowlist entry, its record, and the
 * group it belongs to (the record's, else the allowlist's). 0, or
 * ZTP_ESTORE when the store cannot tell (then nothing is issued).
 */
struct known {
	int allowed, recorded;
	struct store_allow allow;
	struct store_thing thing;
	char group[STORE_GROUP_SIZE];
};

static int
known_of(struct worker *w, const char *udid, struct known *k)
{
	int rc;

	memset(k, 0, sizeof(*k));
	if ((rc = store_allow_get(w->store, udid, &k->allow)) == 0)
		k->allowed = 1;
	else if (rc != ZTP_ENOENT)
		return rc;
	if ((rc = store_thing_get(w->store, udid, &k->thing)) == 0)
		k->recorded = 1;
	else if (rc != ZTP_ENOENT)
		return rc;
	snprintf(k->group, sizeof(k->group), "%s",
	    k->recorded && k->thing.group[0] ? k->thing.group : k->allowed ? k->allow.group : "");
	return 0;
}

/* ---- client certificates, in the handshake ---- */

static int refuse_cert(X509_STORE_CTX *xctx, struct conn *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
refuse_cert(X509_STORE_CTX *xctx, struct conn *c, int err, const char *fmt, ...)
{
	char detail[STORE_DETAIL_MAX];
	va_list ap;

	X509_STORE_CTX_set_error(xctx, err);
	if (c != NULL && c->linger_fd == 0 && c->bev != NULL && bufferevent_getfd(c->bev) >= 0)
		c->linger_fd = fcntl(bufferevent_getfd(c->bev), F_DUPFD_CLOEXEC, 0) + 1;
	if (c != NULL && !c->event_recorded) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
		c->event_recorded = 1;
		events_note(c->w, EV_CLIENT_CERT_REFUSED, NULL, c->peer, "%s", detail);
	}
	return 0;
}

/* Verify leaf with its chain against trust; flags X509_V_FLAG_*. Returns the verify error. */
static int
verify_with(X509_STORE *trust, X509 *leaf, STACK_OF(X509) *untrusted, unsigned long flags,
    STACK_OF(X509) **chain)
{
	X509_STORE_CTX *v;
	int ok, err;

	if (trust == NULL || (v = X509_STORE_CTX_new()) == NULL)
		return X509_V_ERR_OUT_OF_MEM;
	if (X509_STORE_CTX_init(v, trust, leaf, untrusted) != 1) {
		X509_STORE_CTX_free(v);
		return X509_V_ERR_OUT_OF_MEM;
	}
	X509_STORE_CTX_set_flags(v, flags | X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_CTX_set_purpose(v, X509_PURPOSE_SSL_CLIENT);
	ok = X509_verify_cert(v);
	err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(v);
	if (ok == 1 && err == X509_V_OK)
		err = X509_V_OK;
	else if (err == X509_V_OK)
		err = X509_V_ERR_UNSPECIFIED;
	if (err == X509_V_OK && chain != NULL)
		*chain = X509_STORE_CTX_get1_chain(v);
	X509_STORE_CTX_free(v);
	return err;
}

/*
 * Does leaf (untrusted: the rest of the chain the peer sent) chain to our
 * CA? Strictly (RFC 5280, as we issue them); its validity period is
 * checked unless no_time (EST checks it later, with the re-enrolment
 * grace). Reads no store. The verify error, X509_V_OK if it does.
 */
static int
chain_ours(struct worker *w, X509 *leaf, STACK_OF(X509) *untrusted, int no_time)
{
	struct est_worker *e = est_state(w);

	if (e == NULL)
		return X509_V_ERR_OUT_OF_MEM;
	return verify_with(e->ours, leaf, untrusted,
	    X509_V_FLAG_X509_STRICT | (no_time ? X509_V_FLAG_NO_CHECK_TIME : 0), NULL);
}

/*
 * The serial and the UDID of leaf, a certificate of our CA, into
 * c->est_serial and c->est_udid ("" when its subject names no UDID:
 * cert_record then finds it is not its record's). 0, or ZTP_EMALFORMED
 * for a serial we never issue (est_serial is then "").
 */
static int
cert_names(struct conn *c, X509 *leaf)
{
	if (cert_udid(leaf, 0, c->est_udid, sizeof(c->est_udid)) != 0)
		c->est_udid[0] = '\0';
	if (serial_hex(X509_get0_serialNumber(leaf), c->est_serial) != 0) {
		c->est_serial[0] = '\0';
		return ZTP_EMALFORMED;
	}
	return 0;
}

/*
 * What the store says of c's certificate of ours (c->est_serial,
 * c->est_udid): X509_V_OK and *rec when it is on record for that UDID and
 * not revoked; else X509_V_ERR_CERT_REJECTED (not on record, or its
 * record is another UDID's), X509_V_ERR_CERT_REVOKED, or
 * X509_V_ERR_UNSPECIFIED (the store cannot be read), the reason in why.
 */
static int
cert_record(struct worker *w, const struct conn *c, struct store_cert *rec, char *why,
    size_t cap)
{
	int rc = c->est_serial[0] ? store_cert_get(w->store, c->est_serial, rec) : ZTP_ENOENT;

	if (rc != 0 && rc != ZTP_ENOENT)
		return snprintf(why, cap, "client certificate %s: the store cannot be read",
			   c->est_serial), X509_V_ERR_UNSPECIFIED;
	if (rc == ZTP_ENOENT)
		return snprintf(why, cap, "client certificate %s: issued by our CA but not on record",
			   c->est_serial), X509_V_ERR_CERT_REJECTED;
	if (rec->revoked_at != 0)
		return snprintf(why, cap, "client certificate %s is revoked", c->est_serial),
		    X509_V_ERR_CERT_REVOKED;
	if (c->est_udid[0] == '\0' || strcmp(c->est_udid, rec->udid) != 0)
		return snprintf(why, cap, "client certificate %s: subject is not its record's",
			   c->est_serial), X509_V_ERR_CERT_REJECTED;
	return X509_V_OK;
}

/* A certificate of ours: recorded, not revoked, in time (with the grace). */
static int
check_ours(X509_STORE_CTX *xctx, struct conn *c, X509 *leaf)
{
	struct worker *w = c->w;
	struct store_cert rec;
	struct policy p;
	struct known k;
	char why[STORE_DETAIL_MAX];
	time_t now = time(NULL), limit;
	int err;

	cert_names(c, leaf);
	if ((err = cert_record(w, c, &rec, why, sizeof(why))) != X509_V_OK)
		return refuse_cert(xctx, c, err, "%s", why);
	if (X509_cmp_time(X509_get0_notBefore(leaf), &now) > 0)
		return refuse_cert(xctx, c, X509_V_ERR_CERT_NOT_YET_VALID,
		    "client certificate %s is not valid yet", c->est_serial);
	if (X509_cmp_time(X509_get0_notAfter(leaf), &now) < 0) {
		if (known_of(w, rec.udid, &k) != 0 || policy_for(w, k.group, &p) != 0)
			return refuse_cert(xctx, c, X509_V_ERR_UNSPECIFIED,
			    "client certificate %s: the store cannot be read", c->est_serial);
		limit = now - (time_t)p.grace;
		if (X509_cmp_time(X509_get0_notAfter(leaf), &limit) < 0)
			return refuse_cert(xctx, c, X509_V_ERR_CERT_HAS_EXPIRED,
			    "client certificate %s expired past the re-enrolment grace",
			    c->est_serial);
		c->est_peer_expired = 1;
	}
	c->est_peer = EST_PEER_OURS;
	return 1;
}

/* An IDevID: the group of the manufacturer CA its chain ends at. */
static int
check_manufacturer(X509_STORE_CTX *xctx, struct conn *c, X509 *leaf, STACK_OF(X509) *chain)
{
	struct est_worker *e = c->w->est;
	X509 *anchor = sk_X509_value(chain, sk_X509_num(chain) - 1);
	uint8_t md[32];
	unsigned int mdlen = 0;
	size_t i;

	if (cert_udid(leaf, 1, c->est_udid, sizeof(c->est_udid)) != 0)
		return refuse_cert(xctx, c, X509_V_ERR_CERT_REJECTED,
		    "manufacturer certificate without a UDID in its subject");
	if (X509_digest(anchor, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
		return refuse_cert(xctx, c, X509_V_ERR_UNSPECIFIED, "%s", "digest failed");
	for (i = 0; i < e->n_mfr; i++)
		if (memcmp(e->mfr_map[i].sha256, md, 32) == 0)
			break;
	if (i == e->n_mfr)
		return refuse_cert(xctx, c, X509_V_ERR_CERT_UNTRUSTED,
		    "manufacturer certificate of %s: its CA was removed", c->est_udid);
	snprintf(c->est_group, sizeof(c->est_group), "%s", e->mfr_map[i].group);
	c->est_peer = EST_PEER_MANUFACTURER;
	return 1;
}

int
est_api_verify_peer(X509_STORE_CTX *xctx, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct conn *c = ssl ? tls_conn(ssl) : NULL;
	X509 *leaf = X509_STORE_CTX_get0_cert(xctx);
	STACK_OF(X509) *untrusted = X509_STORE_CTX_get0_untrusted(xctx), *chain = NULL;
	struct est_worker *e;
	int err, ok;

	if (c == NULL || leaf == NULL || (e = est_state(c->w)) == NULL) {
		X509_STORE_CTX_set_error(xctx, X509_V_ERR_UNSPECIFIED);
		return 0;
	}
	if (c->peer[0] == '\0')
		conn_peer(SSL_get_fd(ssl), c->peer, sizeof(c->peer));
	c->est_peer = EST_PEER_NONE;
	/*
	 * ours: time is checked by check_ours, with the re-enrolment grace;
	 * strict, as we issue them. Manufacturers' IDevIDs are taken as RFC 5280
	 * allows (some lack extensions strict mode wants).
	 */
	if (chain_ours(c->w, leaf, untrusted, 1) == X509_V_OK)
		return check_ours(xctx, c, leaf);
	err = verify_with(mfr_store(c->w, e), leaf, untrusted, 0, &chain);
	if (err != X509_V_OK)
		return refuse_cert(xctx, c, err, "client certificate refused: %s",
		    X509_verify_cert_error_string(err));
	ok = check_manufacturer(xctx, c, leaf, chain);
	sk_X509_pop_free(chain, X509_free);
	return ok;
}

/*
 * The device listener's client certificate check (--device-cert-auth):
 * ours only, no manufacturer's. In the handshake, what needs no store: it
 * chains to our CA, strictly, in its validity period, and names a UDID
 * (a handshake never waits on the database); the rest, with each request
 * (est_api_peer_check). A refusal fails the handshake, with a
 * client_cert_refused event.
 */
int
est_api_verify_device_peer(X509_STORE_CTX *xctx, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct conn *c = ssl ? tls_conn(ssl) : NULL;
	X509 *leaf = X509_STORE_CTX_get0_cert(xctx);
	int err;

	if (c == NULL || leaf == NULL) {
		X509_STORE_CTX_set_error(xctx, X509_V_ERR_UNSPECIFIED);
		return 0;
	}
	if (c->peer[0] == '\0')
		conn_peer(SSL_get_fd(ssl), c->peer, sizeof(c->peer));
	c->est_peer = EST_PEER_NONE;
	err = chain_ours(c->w, leaf, X509_STORE_CTX_get0_untrusted(xctx), 0);
	if (err != X509_V_OK)
		return refuse_cert(xctx, c, err, "device listener: client certificate refused: %s",
		    X509_verify_cert_error_string(err));
	if (cert_names(c, leaf) != 0 || c->est_udid[0] == '\0')
		return refuse_cert(xctx, c, X509_V_ERR_CERT_REJECTED,
		    "device listener: client certificate %s of our CA names no UDID",
		    c->est_serial);
	c->est_peer = EST_PEER_OURS;
	return 1;
}

int
est_api_peer_check(struct worker *w, struct conn *c, struct store_cert *rec, char *why,
    size_t cap)
{
	int err = cert_record(w, c, rec, why, cap);

	if (err == X509_V_ERR_UNSPECIFIED)
		return 503;
	if (err != X509_V_OK)
		return 403;
	if (rec->not_after < (int64_t)time(NULL))
		return snprintf(why, cap, "client certificate %s has expired", c->est_serial), 403;
	return 0;
}

/* ---- answers ---- */

static void
reply(struct evhttp_request *req, int status, const char *ctype, const void *body, size_t len,
    const char *cte)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = evbuffer_new();
	char clen[24];

	snprintf(clen, sizeof(clen), "%zu", len);
	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Content-Length", clen);
	if (cte != NULL)
		evhttp_add_header(h, "Content-Transfer-Encoding", cte);
	if (buf != NULL && len > 0)
		evbuffer_add(buf, body, len);
	evhttp_send_reply(req, status, http_reason(status), buf);
	if (buf != NULL)
		evbuffer_free(buf);
}

static void reply_text(struct evhttp_request *req, int status, const char *text);

static void
wipe_free(const void *data, size_t len, void *arg)
{
	OPENSSL_clear_free((void *)data, len);
}

/* As reply(), for a malloc'd body that holds a secret: evhttp sends it from
 * there (no copy) and it is wiped and freed once sent. */
static void
reply_secret(struct evhttp_request *req, int status, const char *ctype, unsigned char *body,
    size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = evbuffer_new();
	char clen[24];

	if (buf == NULL || evbuffer_add_reference(buf, body, len, wipe_free, NULL) != 0) {
		OPENSSL_clear_free(body, len);
		if (buf != NULL)
			evbuffer_free(buf);
		reply_text(req, 500, "out of memory");
		return;
	}
	snprintf(clen, sizeof(clen), "%zu", len);
	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Content-Length", clen);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, status, http_reason(status), buf);
	evbuffer_free(buf);
}

static void
reply_text(struct evhttp_request *req, int status, const char *text)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "%s\n", text);

	reply(req, status, "text/plain; charset=utf-8", line,
	    n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1, NULL);
}

/* Refuse an enrolment: event, log line, answer. */
static void
refuse(struct worker *w, struct conn *c, struct evhttp_request *req, int status,
    const char *udid, const char *why)
{
	/* a peer can cause these at will: queued, coalesced, rate limited (events.h) */
	events_note(w, EV_ENROL_REFUSED, NULL, c ? c->peer : NULL, "%s: %s",
	    udid && udid[0] ? udid : "-", why);
	if (status == 401)
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
		    "Basic realm=\"ztp\"");
	reply_text(req, status, why);
}

/*
 * The answer to simpleenroll and simplereenroll: the certificate
 * cert[0..cert_len) (DER, as the signer made it) as a base64 certs-only
 * PKCS#7, malloc'd into *body (*len bytes; the caller frees it). 0 or a
 * code.
 */
static int
certs_body(const uint8_t *cert, size_t cert_len, char **body, size_t *len)
{
	uint8_t *der = NULL;
	size_t dlen;
	int rc;

	*body = NULL;
	*len = 0;
	if ((rc = est_pkcs7_cert_der(cert, cert_len, &der, &dlen)) == 0)
		rc = est_base64_encode(der, dlen, body, len);
	free(der);
	return rc;
}

#define KEYGEN_BOUNDARY "ztp-est-serverkeygen-0b5f2c"
#define KEYGEN_CTYPE "multipart/mixed; boundary=" KEYGEN_BOUNDARY

/*
 * The answer to serverkeygen (RFC 7030 §4.4.2), multipart/mixed
 * (KEYGEN_CTYPE): the key as PKCS#8 and cert (DER) as certs-only PKCS#7, both
 * base64, in one malloc'd buffer *body of *len bytes. It holds the private
 * key: the caller sends it with reply_secret(), which wipes it once sent,
 * or wipes it with OPENSSL_clear_free(). Every copy of the key made here
 * is wiped. 0 or a code.
 */
static int
keygen_body(const uint8_t *cert, size_t cert_len, EVP_PKEY *key, unsigned char **body,
    size_t *len)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	uint8_t *kder = NULL, *cder = NULL;
	char *kb64 = NULL, *cb64 = NULL;
	size_t clen, kb64len = 0, cb64len, cap = 0;
	unsigned char *buf = NULL;
	int klen = 0, n, rc = ZTP_ECRYPTO;

	*body = NULL;
	*len = 0;
	if ((p8 = EVP_PKEY2PKCS8(key)) == NULL ||
	    (klen = i2d_PKCS8_PRIV_KEY_INFO(p8, &kder)) <= 0 ||
	    est_base64_encode(kder, (size_t)klen, &kb64, &kb64len) != 0 ||
	    est_pkcs7_cert_der(cert, cert_len, &cder, &clen) != 0 ||
	    est_base64_encode(cder, clen, &cb64, &cb64len) != 0)
		goto out;
	cap = kb64len + cb64len + 512;
	if ((buf = malloc(cap)) == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	n = snprintf((char *)buf, cap,
	    "--%s\r\nContent-Type: application/pkcs8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	    "%s\r\n--%s\r\nContent-Type: application/pkcs7-mime; smime-type=certs-only\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--%s--\r\n",
	    KEYGEN_BOUNDARY, kb64, KEYGEN_BOUNDARY, cb64, KEYGEN_BOUNDARY);
	if (n < 0 || (size_t)n >= cap)
		goto out;
	*body = buf;
	*len = (size_t)n;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL)
		OPENSSL_clear_free(buf, cap);
	if (kder != NULL)
		OPENSSL_clear_free(kder, (size_t)klen);
	if (kb64 != NULL)
		OPENSSL_clear_free(kb64, kb64len);
	PKCS8_PRIV_KEY_INFO_free(p8);
	free(cder);
	free(cb64);
	return rc;
}

/* ---- enrolment ---- */

/* An authorised enrolment: what issuing needs, kept across a key generation. */
struct enrol {
	enum est_op op;
	char udid[EST_UDID_MAX + 1];
	char renews[STORE_SERIAL_HEX]; /* re-enrolment: the certificate it renews */
	char method[16];
	char group[STORE_GROUP_SIZE];
	int64_t password_id;
	int need; /* the STORE_EST_* the group's policy must allow, 0: none */
};

/*
 * Our certificate on this connection, checked again now: it was checked in
 * the handshake, but a connection lives on (keep-alive) and the
 * certificate may have been revoked or have expired since. 0, or a status.
 */
static int
peer_still_good(struct worker *w, struct conn *c, const struct known *k, char *why,
    size_t cap)
{
	struct store_cert rec;
	struct policy p;
	int64_t now = (int64_t)time(NULL);
	int err = cert_record(w, c, &rec, why, cap);

	if (err == X509_V_ERR_UNSPECIFIED || (err == X509_V_OK && policy_for(w, k->group, &p) != 0))
		return snprintf(why, cap, "the store cannot be read"), 503;
	if (err != X509_V_OK)
		return 403;
	if (rec.not_after < now - p.grace)
		return snprintf(why, cap, "the certificate %s expired past the re-enrolment grace",
			   c->est_serial), 403;
	c->est_peer_expired = rec.not_after < now;
	return 0;
}

/* A one-time password (HTTP Basic). */
static int
check_password(struct worker *w, const char *udid, const char *pass, struct store_password *pw,
    char *why, size_t cap)
{
	int rc = store_password_check(w->store, udid, pass, pw);

	if (rc == ZTP_EEXPIRED)
		return snprintf(why, cap, "the enrolment password of %s has expired", udid), 401;
	if (rc == ZTP_ECONFLICT)
		return snprintf(why, cap, "the enrolment password of %s was used", udid), 401;
	if (rc == ZTP_EAUTH)
		return snprintf(why, cap, "wrong enrolment password for %s", udid), 401;
	if (rc != 0)
		return snprintf(why, cap, "the store cannot be read"), 503;
	return 0;
}

/*
 * Decide who is asking and whether they may: 0 and *en, or an HTTP
 * status with its reason in why. A device the store knows stays in its
 * group, whose policy applies, whoever asks: a manufacturer CA of another
 * group, or a password made for another group, cannot move it.
 *
 * *bare is set to 1 for a request that presented no credential at all: no
 * client certificate, no HTTP Basic, and a UDID that the allowlist does not
 * let in by its key (not on it, or its group does not allow allowlist
 * enrolment), so that the CSR's key proves nothing either. Else 0.
 */
static int
authorise(struct worker *w, struct conn *c, const struct est_request *r, struct enrol *en,
    int *bare, char *why, size_t cap)
{
	const char *udid = r->csr.udid;
	struct store_password pw;
	struct known k;
	struct policy p;
	int status;

	memset(en, 0, sizeof(*en));
	*bare = 0;
	en->op = r->op;
	snprintf(en->udid, sizeof(en->udid), "%s", udid);
	if (known_of(w, udid, &k) != 0)
		return snprintf(why, cap, "the store cannot be read"), 503;
	if (c->est_peer == EST_PEER_NONE && !r->has_basic) {
		if (k.allowed && policy_for(w, k.group, &p) != 0)
			return snprintf(why, cap, "the store cannot be read"), 503;
		*bare = !k.allowed || (p.auth & STORE_EST_ALLOWLIST) == 0;
	}
	if (k.recorded && k.thing.blocked)
		return snprintf(why, cap, "device %s is blocked", udid), 403;
	snprintf(en->group, sizeof(en->group), "%s", k.group);
	if (c->est_peer == EST_PEER_OURS) {
		if (strcmp(c->est_udid, udid) != 0)
			return snprintf(why, cap, "the CSR's subject %s is not the certificate's", udid),
			       403;
		if ((status = peer_still_good(w, c, &k, why, cap)) != 0)
			return status;
		if (c->est_peer_expired && r->op != EST_SIMPLEREENROLL)
			return snprintf(why, cap, "the certificate has expired: use simplereenroll"),
			       403;
		snprintf(en->method, sizeof(en->method), "reenroll");
		snprintf(en->renews, sizeof(en->renews), "%s", c->est_serial);
	} else if (r->op == EST_SIMPLEREENROLL) {
		return snprintf(why, cap, "re-enrolment needs the current certificate (mutual TLS)"),
		       403;
	} else if (c->est_peer == EST_PEER_MANUFACTURER) {
		if (strcmp(c->est_udid, udid) != 0)
			return snprintf(why, cap, "the CSR's subject %s is not the manufacturer"
						  " certificate's", udid), 403;
		if (!r->has_basic && (k.recorded || k.allowed) && strcmp(k.group, c->est_group) != 0)
			return snprintf(why, cap, "%s belongs to another group than its manufacturer"
						  " CA's", udid), 403;
		snprintf(en->method, sizeof(en->method), "manufacturer");
		snprintf(en->group, sizeof(en->group), "%s", c->est_group);
		en->need = STORE_EST_MANUFACTURER;
		if (r->has_basic) {
			/*
			 * The factory certificate and a one-time password (a
			 * gateway's LDevID and its bundle's, docs/gateways.md):
			 * both must hold, and the password is spent.
			 */
			if (strcmp(r->user, udid) != 0)
				return snprintf(why, cap, "the user name is not the CSR's UDID %s",
					   udid), 401;
			if ((status = check_password(w, udid, r->pass, &pw, why, cap)) != 0)
				return status;
			if ((k.recorded || k.allowed) && pw.group[0] != '\0' &&
			    strcmp(pw.group, k.group) != 0)
				return snprintf(why, cap, "the password was made for another group"
							  " than %s's", udid), 403;
			snprintf(en->method, sizeof(en->method), "mfr+password");
			if (pw.group[0] != '\0')
				snprintf(en->group, sizeof(en->group), "%s", pw.group);
			en->password_id = pw.id;
			en->need = STORE_EST_PASSWORD;
		}
	} else if (r->has_basic) {
		/*
		 * HTTP Basic only: a CSR's challengePassword is, in RFC 7030
		 * (§3.5), the TLS session's tls-unique value that links the
		 * request to the connection (libest's estclient sends it so),
		 * not a shared secret.
		 */
		if (strcmp(r->user, udid) != 0)
			return snprintf(why, cap, "the user name is not the CSR's UDID %s", udid), 401;
		if ((status = check_password(w, udid, r->pass, &pw, why, cap)) != 0)
			return status;
		if ((k.recorded || k.allowed) && pw.group[0] != '\0' && strcmp(pw.group, k.group) != 0)
			return snprintf(why, cap, "the password was made for another group than"
						  " %s's", udid), 403;
		snprintf(en->method, sizeof(en->method), "password");
		if (!k.recorded && !k.allowed)
			snprintf(en->group, sizeof(en->group), "%s", pw.group);
		en->password_id = pw.id;
		en->need = STORE_EST_PASSWORD;
	} else if (k.allowed) {
		snprintf(en->method, sizeof(en->method), "allowlist");
		en->need = STORE_EST_ALLOWLIST;
	} else {
		return snprintf(why, cap, "%s is not on the allowlist and sent no credentials", udid),
		       401;
	}
	if (k.allowed && r->op == EST_SERVERKEYGEN)
		return snprintf(why, cap, "%s has an allowlisted key: serverkeygen cannot apply",
			   udid), 403;
	if (k.allowed && memcmp(k.allow.key_sha256, r->csr.key_sha256, 32) != 0)
		return snprintf(why, cap, "the CSR's key is not the key allowlisted for %s", udid),
		       403;
	if (en->need != 0) {
		if (policy_for(w, en->group, &p) != 0)
			return snprintf(why, cap, "the store cannot be read"), 503;
		if ((p.auth & en->need) == 0)
			return snprintf(why, cap, "enrolment by %s is not allowed for %s", en->method,
				   udid), 403;
	}
	return 0;
}

/*
 * The per-device issuance limit (--est-certs-per-hour): at most that many
 * certificates of one UDID in any hour, whatever the method (simpleenroll,
 * simplereenroll, serverkeygen). Counted in the store (its index on udid,
 * issued_at), so that every worker and process agrees. Checked once the
 * request is authorised, before a key is made or the signer asked and
 * before a password is spent; checked again in store_cert_record()'s
 * transaction, which refuses (ZTP_EBUSY) a certificate that concurrent
 * requests pushed over the limit meanwhile: that one was signed for
 * nothing, but is never handed out.
 *
 * Returns 0 when en may have one more certificate now (always when
 * raced is 0 and there is no limit); else req is answered, 1: 429 with
 * Retry-After (the seconds until a certificate leaves the window, at least
 * 1) and an enrol_refused event with the limit and the count, or 503 if
 * the store cannot tell. raced: store_cert_record() refused: answer 429
 * whatever the count is now.
 */
static int
over_limit(struct worker *w, struct conn *c, struct evhttp_request *req, const struct enrol *en,
    int raced)
{
	int max = w->srv->cfg->est_certs_per_hour;
	int64_t now = clock_now_ms(), count = 0, frees_at = 0, secs;
	char why[192], ra[24];

	if (max == 0 && !raced)
		return 0;
	if (store_cert_count_since(w->store, en->udid, now - STORE_CERT_WINDOW_MS, max, &count,
		&frees_at) != 0) {
		refuse(w, c, req, 503, en->udid, "the store cannot be read");
		return 1;
	}
	if (count < max && !raced)
		return 0;
	secs = frees_at > 0 ? (frees_at + STORE_CERT_WINDOW_MS - now + 999) / 1000 : 1;
	if (secs < 1)
		secs = 1;
	snprintf(ra, sizeof(ra), "%lld", (long long)secs);
	snprintf(why, sizeof(why), "%s (%s): %lld certificates issued in the last hour, the limit"
				   " is %d (--est-certs-per-hour); %s, retry in %lld s",
	    en->op == EST_SERVERKEYGEN ? "serverkeygen" :
	    en->op == EST_SIMPLEREENROLL ? "simplereenroll" : "simpleenroll", en->method,
	    (long long)count, max, raced ? "reached meanwhile: signed, not returned" : "nothing signed",
	    (long long)secs);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", ra);
	refuse(w, c, req, 429, en->udid, why);
	return 1;
}

/*
 * The key an enrolment certifies: its DER SubjectPublicKeyInfo, its type
 * and size as the front found them, and the SHA-256 of the SPKI (32 bytes).
 */
struct enrol_key {
	const uint8_t *spki;
	size_t spki_len;
	enum est_key_type type;
	int bits;
	const uint8_t *sha256;
};

/*
 * The subject line recorded with a certificate (X509_NAME_oneline), made
 * from the subject the signer was asked for: the signer's make_subject()
 * puts exactly those attributes (O, OU, CN, serialNumber, those present)
 * in the certificate, so the certificate need not be decoded for it.
 */
static void
subject_line(const struct signer_subject *s, char *out, size_t cap)
{
	X509_NAME *name = X509_NAME_new();

	out[0] = '\0';
	if (name == NULL)
		return;
	if ((s->org[0] == '\0' ||
		X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
		    (const unsigned char *)s->org, -1, -1, 0) == 1) &&
	    (s->org_unit[0] == '\0' ||
		X509_NAME_add_entry_by_NID(name, NID_organizationalUnitName, MBSTRING_UTF8,
		    (const unsigned char *)s->org_unit, -1, -1, 0) == 1) &&
	    (s->cn[0] == '\0' ||
		X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
		    (const unsigned char *)s->cn, -1, -1, 0) == 1) &&
	    (s->serial_number[0] == '\0' ||
		X509_NAME_add_entry_by_NID(name, NID_serialNumber, MBSTRING_ASC,
		    (const unsigned char *)s->serial_number, -1, -1, 0) == 1))
		X509_NAME_oneline(name, out, (int)cap);
	X509_NAME_free(name);
}

/*
 * A device that enrolled with its IDevID: its certificate is remembered
 * (pki.h), so that the CRL of a foreign PKI that lists it blocks the
 * device. A failure is logged; the enrolment stands.
 */
static void
seen_idevid(struct worker *w, struct conn *c, const struct enrol *en)
{
	X509 *idevid;
	int rc;

	if (c->est_peer != EST_PEER_MANUFACTURER || strcmp(en->method, "manufacturer") != 0 ||
	    c->ssl == NULL || (idevid = SSL_get0_peer_certificate(c->ssl)) == NULL)
		return;
	if ((rc = pki_cert_seen(w->store, idevid, en->udid, "idevid")) != 0)
		log_warnx("EST: the IDevID of %s is not recorded for CRL synchronisation: %s",
		    en->udid, ztp_strerror(rc));
}

/*
 * Issue the certificate of an authorised enrolment en and answer: the
 * signer certifies the key k (SIGN_SPKI: the CSR was decoded and verified
 * once, here), the answer is built, the certificate recorded, then the
 * answer sent. key: the key made here for serverkeygen, sent with the
 * certificate; NULL for the other operations. An RSA key gets
 * keyEncipherment too.
 *
 * The answer is built before the record: a certificate whose answer cannot
 * be built is never recorded, and the password it would spend stays
 * unused. A certificate is sent only once its record is committed.
 */
static void
issue(struct worker *w, struct conn *c, struct evhttp_request *req, const struct enrol *en,
    const struct enrol_key *k, EVP_PKEY *key)
{
	struct signer_csr_req sr;
	struct signer_issued issued = { 0 };
	struct store_cert rec;
	struct policy p;
	unsigned char *secret = NULL; /* serverkeygen's answer: it holds the key */
	char *certs = NULL, why[192], until[21];
	size_t len = 0;
	int rc;

	if (policy_for(w, en->group, &p) != 0) {
		refuse(w, c, req, 503, en->udid, "the store cannot be read");
		return;
	}
	memset(&sr, 0, sizeof(sr));
	sr.spki = k->spki;
	sr.spki_len = k->spki_len;
	sr.key_type = (uint8_t)k->type;
	sr.key_bits = (uint16_t)k->bits;
	/* the subject is the UDID, whatever else the CSR asked for */
	snprintf(sr.subject.cn, sizeof(sr.subject.cn), "%s", en->udid);
	/* serialNumber is a PrintableString: a UDID with '_' goes in the CN only */
	if (strchr(en->udid, '_') == NULL)
		snprintf(sr.subject.serial_number, sizeof(sr.subject.serial_number), "%s", en->udid);
	sr.profile.days = (uint32_t)p.days;
	sr.profile.ext_key_usage = SIGNER_EKU_CLIENT_AUTH;
	sr.profile.key_usage = SIGNER_KU_DIGITAL_SIGNATURE;
	if (k->type == EST_KEY_RSA)
		sr.profile.key_usage |= SIGNER_KU_KEY_ENCIPHERMENT;
	rc = signer_sign_spki(w->srv->signer, &sr, &issued);
	if (rc == ZTP_EIO) {
		/* the CA process is down or being restarted: come back (RFC 7030 §4.2.3) */
		log_warnx("EST: no working signer for %s; answered 202", en->udid);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
		    RETRY_AFTER_S);
		reply_text(req, 202, "the CA is busy: retry later");
		goto out;
	}
	if (rc != 0) {
		snprintf(why, sizeof(why), "the CA refused the request: %s", ztp_strerror(rc));
		refuse(w, c, req, rc == ZTP_EEXPIRED ? 503 : 400, en->udid, why);
		goto out;
	}
	/* the signer's DER goes out as it came: decoding it would cost a key decoder */
	rc = key != NULL ? keygen_body(issued.der, issued.der_len, key, &secret, &len) :
			   certs_body(issued.der, issued.der_len, &certs, &len);
	if (rc != 0) {
		log_warnx("EST: the answer for %s cannot be built (%s): nothing recorded",
		    en->udid, ztp_strerror(rc));
		reply_text(req, 500, "cannot encode the answer");
		goto out;
	}
	memset(&rec, 0, sizeof(rec));
	hex_encode(issued.serial, issued.serial_len, rec.serial, sizeof(rec.serial));
	snprintf(rec.udid, sizeof(rec.udid), "%s", en->udid);
	subject_line(&sr.subject, rec.subject, sizeof(rec.subject));
	memcpy(rec.key_sha256, k->sha256, 32);
	rec.not_before = issued.not_before;
	rec.not_after = issued.not_after;
	snprintf(rec.method, sizeof(rec.method), "%s",
	    en->op == EST_SERVERKEYGEN ? "serverkeygen" : en->method);
	snprintf(rec.renews, sizeof(rec.renews), "%s", en->renews);
	rec.per_window_max = w->srv->cfg->est_certs_per_hour;
	fault_point("est_before_record");
	rc = store_cert_record(w->store, &rec, en->group, en->password_id);
	if (rc == ZTP_EBUSY) {
		log_info("EST: certificate %s for %s signed, but over the limit meanwhile:"
			 " not recorded, not returned", rec.serial, en->udid);
		over_limit(w, c, req, en, 1);
		goto out;
	}
	if (rc == ZTP_ECONFLICT || rc == ZTP_EAUTH) {
		refuse(w, c, req, rc == ZTP_ECONFLICT ? 401 : 403, en->udid,
		    rc == ZTP_ECONFLICT ? "the enrolment password was used meanwhile" :
					  "the device was blocked, or its certificate revoked, meanwhile");
		goto out;
	}
	if (rc != 0) {
		log_warnx("EST: certificate %s for %s not recorded (%s): not returned", rec.serial,
		    en->udid, ztp_strerror(rc));
		reply_text(req, 500, "the certificate could not be recorded");
		goto out;
	}
	fault_point("est_after_record");
	seen_idevid(w, c, en);
	events_record(w->store, EV_CERT_ISSUED, NULL, c->peer,
	    "certificate %s for %s (%s%s%s), until %s", rec.serial, en->udid, rec.method,
	    en->group[0] ? ", group " : "", en->group, clock_iso8601(rec.not_after, until));
	if (key != NULL) {
		reply_secret(req, 200, KEYGEN_CTYPE, secret, len); /* wiped and freed once sent */
		secret = NULL;
	} else {
		reply(req, 200, "application/pkcs7-mime; smime-type=certs-only", certs, len,
		    "base64");
	}
out:
	if (secret != NULL)
		OPENSSL_clear_free(secret, len);
	free(certs);
	signer_issued_free(&issued);
}

/* ---- serverkeygen: the key is made on a thread of its own ---- */

/*
 * Where the key is made. The signer call is synchronous (signer.h): the
 * worker's event loop waits for it, and so does every other worker's
 * signing, serialised behind it; a signature takes milliseconds. An RSA
 * key takes far longer, about a second at 4096 bits and more now and then
 * (it searches for primes). Made in the signer, it would hold the CA
 * process, every worker's enrolments and the CRL behind it, for that time,
 * and the signer has no use for a device's key; made on the worker's
 * thread, as the P-256 key was, it would stall the worker's other
 * connections. So each key is made on a thread of its own in this process,
 * which touches neither libevent nor the store: it makes the key and a CSR
 * signed with it (the signer's proof of possession), then writes a byte to
 * a pipe the worker's loop watches. The worker joins it and goes on as for
 * any enrolment: the signing, the record, the answer. The request stays
 * with evhttp meanwhile; at most KEYGEN_MAX keys are made at a time per
 * worker, more are answered 202 with Retry-After, as when the CA is busy.
 *
 * The connection may end meanwhile. Its deadline (request-timeout) cuts
 * it: then nothing is issued, so no password is spent. Should evhttp
 * detach the request from a failed connection, it is ours: freed unused.
 * At the worker's exit (worker.c) evhttp_free() frees the requests still
 * attached with their connections and clears w->http[], then the loop
 * runs once more: a job that ends then drops its request unanswered
 * (est_api_worker_free() the ones still running, after stopping them).
 */
#define KEYGEN_MAX 2

struct keygen_job {
	struct worker *w;
	struct evhttp_request *req;
	struct enrol en;
	struct est_keygen spec;
	pthread_t thread;
	int started; /* thread runs or ran, to be joined */
	int fds[2];  /* the pipe: the thread writes a byte to fds[1] when done */
	struct event *done;
	atomic_int stop; /* the worker is exiting: give up */
	/* the thread's results, read once it is joined */
	int rc;
	EVP_PKEY *key;
	uint8_t *spki; /* the key's DER SubjectPublicKeyInfo, OPENSSL_free() */
	size_t spki_len;
	uint8_t key_sha256[32];
	LIST_ENTRY(keygen_job) next;
};

/* RSA prime search progress: 0 stops the generation (the worker exits). */
static int
keygen_progress(EVP_PKEY_CTX *ctx)
{
	struct keygen_job *j = EVP_PKEY_CTX_get_app_data(ctx);

	return !atomic_load(&j->stop);
}

/*
 * Make the key of j->spec and its SubjectPublicKeyInfo into j (key, spki,
 * spki_len, key_sha256). On the job's thread. No CSR: the signer takes the
 * key (SIGN_SPKI), and the key is ours. 0 or ZTP_ECRYPTO.
 */
static int
keygen_make(struct keygen_job *j)
{
	EVP_PKEY_CTX *ctx = NULL;
	int n = 0, ok;

	ok = (ctx = EVP_PKEY_CTX_new_from_name(NULL, j->spec.type == EST_KEY_RSA ? "RSA" : "EC",
		  NULL)) != NULL &&
	    EVP_PKEY_keygen_init(ctx) == 1;
	if (ok && j->spec.type == EST_KEY_RSA)
		ok = EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, j->spec.bits) == 1;
	else if (ok)
		ok = EVP_PKEY_CTX_set_group_name(ctx,
			 j->spec.type == EST_KEY_EC_P384 ? "P-384" : "P-256") == 1;
	if (ok) {
		EVP_PKEY_CTX_set_app_data(ctx, j);
		EVP_PKEY_CTX_set_cb(ctx, keygen_progress);
		ok = EVP_PKEY_generate(ctx, &j->key) == 1 && EVP_PKEY_get_bits(j->key) == j->spec.bits;
	}
	ok = ok && (n = i2d_PUBKEY(j->key, &j->spki)) > 0 &&
	    crypto_sha256(j->spki, (size_t)n, j->key_sha256) == 0;
	j->spki_len = ok ? (size_t)n : 0;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : ZTP_ECRYPTO;
}

#ifdef ZTP_FAULT_POINTS
/*
 * For tests, in builds with fault points (fault.h): with ZTP_FAULT_KEYGEN_GATE
 * the path of a FIFO, a key once made waits (after a debug line saying so)
 * until a writer opens the FIFO and closes it; without the FIFO, it does
 * not wait. A test holds keys being made for as long as it checks what
 * happens meanwhile, with nothing timed; it must release them (a worker
 * exits only once its keys are made).
 */
static void
keygen_gate(const struct keygen_job *j)
{
	const char *path = getenv("ZTP_FAULT_KEYGEN_GATE");
	char b[16];
	int fd;

	if (path == NULL || access(path, F_OK) != 0)
		return;
	log_debug("EST: the key for %s is made, held at %s", j->en.udid, path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	while (read(fd, b, sizeof(b)) > 0)
		;
	close(fd);
}
#else
#define keygen_gate(j) ((void)0)
#endif

static void *
keygen_main(void *arg)
{
	struct keygen_job *j = arg;
	ssize_t n;

	j->rc = keygen_make(j);
	keygen_gate(j);
	while ((n = write(j->fds[1], "k", 1)) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Free a job whose thread is joined (or never started); its request is not touched. */
static void
keygen_free(struct keygen_job *j)
{
	if (j == NULL)
		return;
	if (j->done != NULL)
		event_free(j->done);
	if (j->fds[0] >= 0)
		close(j->fds[0]);
	if (j->fds[1] >= 0)
		close(j->fds[1]);
	EVP_PKEY_free(j->key); /* OpenSSL wipes a private key when it frees it */
	if (j->spki != NULL)
		OPENSSL_free(j->spki);
	OPENSSL_cleanse(j, sizeof(*j));
	free(j);
}

static void
keygen_forget(struct est_worker *e, struct keygen_job *j)
{
	LIST_REMOVE(j, next);
	e->njobs--;
	keygen_free(j);
}

/*
 * 1 if the client has closed its end of c (FIN or reset): an HTTP client
 * waiting for its answer does not.
 */
static int
peer_gone(struct conn *c)
{
	struct pollfd p = { bufferevent_getfd(c->bev), POLLRDHUP, 0 };

	return p.fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* The key is made (or not): issue and answer, if there is still someone to answer. */
static void
keygen_done(evutil_socket_t fd, short what, void *arg)
{
	struct keygen_job *j = arg;
	struct worker *w = j->w;
	struct est_worker *e = w->est;
	struct evhttp_request *req = j->req;
	struct conn *c;

	pthread_join(j->thread, NULL);
	j->started = 0;
	if (w->http[LISTENER_EST] == NULL) {
		/* the worker is exiting: evhttp_free() took the request with its connection */
		keygen_forget(e, j);
		return;
	}
	if ((c = conn_of(req)) == NULL) {
		/* the connection failed and evhttp left the request to us: nothing issued */
		log_info("EST: the client of %s went away while its key was made", j->en.udid);
		evhttp_request_free(req);
		keygen_forget(e, j);
		return;
	}
	if (c->timed_out || peer_gone(c)) {
		/*
		 * its deadline cut the connection, or the client gave up: no
		 * certificate for anyone, and the password stays unused for
		 * the client's next try
		 */
		log_info("EST: %s: %s while the key of %s was made: nothing issued", c->peer,
		    c->timed_out ? "timed out" : "the client closed the connection", j->en.udid);
		reply_text(req, 503, c->timed_out ? "timed out" : "connection closed");
	} else if (j->rc != 0) {
		log_warnx("EST: no %s key for %s: %s", j->spec.type == EST_KEY_RSA ? "RSA" : "EC",
		    j->en.udid, ztp_strerror(j->rc));
		reply_text(req, 500, "cannot generate a key");
	} else {
		struct enrol_key k = { j->spki, j->spki_len, j->spec.type, j->spec.bits,
			j->key_sha256 };
		issue(w, c, req, &j->en, &k, j->key);
	}
	conn_request_done(c, req);
	keygen_forget(e, j);
}

/*
 * Start making the key of spec for the authorised enrolment en, whose
 * answer then comes from keygen_done(). Returns 1 when started (req is the
 * job's), or 0 when req was answered (202: KEYGEN_MAX keys are being made;
 * 503: no thread, pipe or event).
 */
static int
keygen_start(struct worker *w, struct evhttp_request *req, const struct enrol *en,
    const struct est_keygen *spec)
{
	struct est_worker *e = w->est;
	struct keygen_job *j;

	if (e->njobs >= KEYGEN_MAX) {
		log_info("EST: %d keys being made by worker %d; %s answered 202", e->njobs, w->id,
		    en->udid);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
		    RETRY_AFTER_S);
		reply_text(req, 202, "the server is making other keys: retry later");
		return 0;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		goto fail;
	j->fds[0] = j->fds[1] = -1;
	j->w = w;
	j->req = req;
	j->en = *en;
	j->spec = *spec;
	atomic_init(&j->stop, 0);
	if (pipe2(j->fds, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    (j->done = event_new(w->base, j->fds[0], EV_READ, keygen_done, j)) == NULL ||
	    event_add(j->done, NULL) != 0)
		goto fail;
	LIST_INSERT_HEAD(&e->jobs, j, next);
	e->njobs++;
	if (pthread_create(&j->thread, NULL, keygen_main, j) != 0) {
		LIST_REMOVE(j, next);
		e->njobs--;
		goto fail;
	}
	j->started = 1;
	log_debug("EST: making %s %d key for %s", spec->type == EST_KEY_RSA ? "an RSA" : "an EC",
	    spec->bits, en->udid);
	return 1;
fail:
	log_warn("EST: cannot start making a key for %s", en->udid);
	keygen_free(j);
	reply_text(req, 503, "cannot generate a key now");
	return 0;
}

/* The worker exits: stop the key generations, wait for their threads, drop their requests. */
static void
keygen_worker_exit(struct est_worker *e)
{
	struct keygen_job *j;

	LIST_FOREACH(j, &e->jobs, next)
		atomic_store(&j->stop, 1);
	while ((j = LIST_FIRST(&e->jobs)) != NULL) {
		if (j->started)
			pthread_join(j->thread, NULL);
		/*
		 * j->req went with its connection in evhttp_free(), or, if
		 * evhttp had detached it from a failed connection, is left to
		 * the process's exit: which of the two cannot be told now.
		 */
		keygen_forget(e, j);
	}
}

/* ---- the enrolment request ---- */

/*
 * An enrolment request (simpleenroll, simplereenroll, serverkeygen):
 * answered, 0, or 1 when the answer comes later (a key being made; the
 * request is the job's).
 */
static int
enrol(struct worker *w, struct conn *c, struct evhttp_request *req, const struct est_request *r)
{
	struct est_keygen spec;
	struct enrol_key k;
	struct enrol en;
	char why[192];
	int status, bare;

	/* a kind of key serverkeygen does not make: refused before anything is checked or spent */
	if (r->op == EST_SERVERKEYGEN && est_keygen_choose(&r->csr, &spec, why, sizeof(why)) != 0) {
		refuse(w, c, req, 400, r->csr.udid, why);
		return 0;
	}
	if ((status = authorise(w, c, r, &en, &bare, why, sizeof(why))) != 0) {
		if (c->est_peer == EST_PEER_NONE && !r->has_basic && status != 503) {
			/*
			 * A client that proved nothing learns nothing: whether its
			 * UDID is allowlisted, with which key, or blocked, is in the
			 * event only. A bare request (no credential at all) is not
			 * refused but asked for credentials: libest, like many
			 * clients, sends every request without them first and
			 * retries after the 401, so an event here would stand beside
			 * every password enrolment. A debug line; what the retry
			 * presents, right or wrong, has its event. A wrong key for an
			 * allowlisted UDID is a wrong credential: an event.
			 */
			if (bare)
				log_debug("EST: %s: %s asked without credentials (%s): 401 with a"
					  " challenge", c->peer, r->csr.udid, why);
			else
				events_note(w, EV_ENROL_REFUSED, NULL, c->peer, "%s: %s",
				    r->csr.udid, why);
			evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
			    "Basic realm=\"ztp\"");
			reply_text(req, 401, "not authorised: no credentials, and the UDID is not"
					     " allowlisted with this key");
			return 0;
		}
		refuse(w, c, req, status, r->csr.udid, why);
		return 0;
	}
	if (over_limit(w, c, req, &en, 0))
		return 0;
	if (r->op == EST_SERVERKEYGEN)
		return keygen_start(w, req, &en, &spec);
	k.spki = r->csr.spki;
	k.spki_len = r->csr.spki_len;
	k.type = r->csr.key_type;
	k.bits = r->csr.key_bits;
	k.sha256 = r->csr.key_sha256;
	issue(w, c, req, &en, &k, NULL);
	return 0;
}

/* ---- the handler ---- */

/* Answer req, or return 1 when the answer comes later (a key being made). */
static int
handle(struct worker *w, struct conn *c, struct evhttp_request *req, struct est_request *r)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct est_worker *e = est_state(w);
	uint8_t body[EST_BODY_MAX], *der = NULL;
	char why[160], *b64 = NULL;
	size_t len, blen;
	long n;
	int status, later = 0;

	if (e == NULL) {
		reply_text(req, 503, "out of memory");
		return 0;
	}
	if ((n = http_body(req, body, sizeof(body))) < 0) {
		refuse(w, c, req, 413, NULL, "request body too large");
		return 0;
	}
	status = est_req_parse(http_method_name(req, "OTHER"),
	    evhttp_request_get_uri(req), evhttp_find_header(in, "Content-Type"),
	    evhttp_find_header(in, "Authorization"), body, (size_t)n, r, why, sizeof(why));
	OPENSSL_cleanse(body, (size_t)n);
	if (status != 0) {
		if (status == 400 || status == 413)
			refuse(w, c, req, status, NULL, why);
		else
			reply_text(req, status, why);
		return 0;
	}
	switch (r->op) {
	case EST_CACERTS:
		reply(req, 200, "application/pkcs7-mime", e->cacerts, e->cacerts_len, "base64");
		break;
	case EST_CSRATTRS:
		if (est_csrattrs(&der, &len) != 0 || est_base64_encode(der, len, &b64, &blen) != 0)
			reply_text(req, 500, "cannot encode the CSR attributes");
		else
			reply(req, 200, "application/csrattrs", b64, blen, "base64");
		break;
	case EST_CRL:
		if (ca_crl_der(w->store, &der, &len) != 0)
			reply_text(req, 503, "no CRL has been signed yet");
		else
			reply(req, 200, "application/pkix-crl", der, len, NULL);
		break;
	case EST_SIMPLEENROLL:
	case EST_SIMPLEREENROLL:
	case EST_SERVERKEYGEN:
		later = enrol(w, c, req, r);
		break;
	}
	free(der);
	free(b64);
	return later;
}

void
est_api_handle(struct evhttp_request *req, void *arg)
{
	struct worker *w = arg;
	struct conn *c = conn_of(req);
	struct est_request *r;
	int later = 0;

	if (c == NULL || (r = calloc(1, sizeof(*r))) == NULL) {
		reply_text(req, 503, "unavailable");
	} else {
		later = handle(w, c, req, r);
		OPENSSL_cleanse(r, sizeof(*r));
		free(r);
	}
	/* an answer that comes later is followed by conn_request_done() then */
	if (c != NULL && !later)
		conn_request_done(c, req);
}
