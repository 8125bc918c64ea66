/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One enrolment run over EST (RFC 7030) with the libztp EST client
 * (ztp/est.h), the key in a file key store (ztp/keystore.h): what
 * ztp-enroll does at each start, and what ztp-agent does to enrol with its
 * bundle and to renew. It does only what is needed and says what with its
 * return code (enroll.h).
 *
 *   1. open (or create, 0700) the key store; a P-256 key in slot 0 unless
 *      there is one (a key made by a run that was cut short is used, never
 *      replaced);
 *   2. GET cacerts, the server authenticated with the trust anchors; the CA
 *      certificates go to slot 11 when they changed;
 *   3. the certificate in slot 10: none, for another key or device, or not
 *      valid under the CA certificates -> simpleenroll (with whatever of
 *      HTTP Basic with the UDID and the password, and the TLS client
 *      identity (objects or PEM files), the caller gave: both together if
 *      it gave both; neither
 *      for an allowlisted key); valid and due (a third of its lifetime
 *      left, or renew_before, or force) -> simplereenroll, authenticated by
 *      that certificate and key; expired -> simplereenroll first (the
 *      server may still accept it, ztpd within its re-enrolment grace),
 *      then simpleenroll; else nothing to do;
 *   4. a 202 answer is asked again after its Retry-After, within max_wait
 *      seconds in all;
 *   5. the issued certificate is checked (the key of slot 0, the UDID,
 *      verifies against the CA certificates) and only then stored in slot 10.
 *
 * The password and the keys are never in a message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "enroll.h"
#include "ztp/csr.h"
#include "ztp/err.h"
#include "ztp/est.h"
#include "ztp/keystore.h"

#define ATTEMPTS_MAX 20 /* 202 answers in a row, whatever they say */

static void say(const struct enroll_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A line for the caller. */
static void
say(const struct enroll_opts *o, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (o->msg == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	o->msg(o->msg_arg, line);
}

/* The EST library's log lines: warnings always, the rest when verbose. */
static void
est_log(void *arg, enum est_log_level level, const char *line)
{
	const struct enroll_opts *o = arg;

	if (level == EST_LOG_WARN || o->verbose)
		say(o, "%s", line);
}

void
enroll_fmt_time(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "@%lld", (long long)t);
}

void
enroll_fmt_serial(X509 *x, char *out, size_t cap)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

	snprintf(out, cap, "%s", hex != NULL ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

/* The certificates of data slot `slot` (a new stack), at most max of them. */
static int
slot_certs(struct keystore *ks, int slot, size_t max, STACK_OF(X509) **sk, char *why,
    size_t whycap)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	*sk = NULL;
	rc = keystore_get(ks, slot, NULL, 0, &len);
	if (rc == ZTP_ERANGE && (buf = malloc(len)) == NULL)
		rc = ZTP_ENOMEM;
	else if (rc == ZTP_ERANGE)
		rc = keystore_get(ks, slot, buf, len, &len);
	if (rc != 0) {
		ztp_errf(why, whycap, rc, "slot %d: %s", slot,
		    rc == ZTP_ENOENT ? "no certificate" : keystore_error(ks));
		goto out;
	}
	if ((rc = est_certs_parse(buf, len, max, sk)) != 0)
		ztp_errf(why, whycap, rc, "slot %d: %s", slot,
		    max == 1 ? "not one certificate" : "not certificates");
out:
	free(buf);
	return rc;
}

int
enroll_stored_cert(struct keystore *ks, X509 **cert, char *why, size_t whycap)
{
	STACK_OF(X509) *sk = NULL;
	int rc;

	*cert = NULL;
	if ((rc = slot_certs(ks, KEYSTORE_SLOT_DEVICE_CERT, 1, &sk, why, whycap)) == 0)
		*cert = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

int
enroll_cert_usable(struct keystore *ks, const char *udid, int64_t now, X509 **cert, char *why,
    size_t whycap)
{
	STACK_OF(X509) *cas = NULL;
	X509 *cur = NULL;
	uint8_t pub[KEYSTORE_P256_PUBKEY_LEN];
	size_t publen = 0;
	int rc;

	if (cert != NULL)
		*cert = NULL;
	if ((rc = enroll_stored_cert(ks, &cur, why, whycap)) != 0)
		goto out;
	if ((rc = slot_certs(ks, KEYSTORE_SLOT_CA_CERT, EST_TRUST_MAX, &cas, why, whycap)) != 0)
		goto out;
	if ((rc = keystore_public_key(ks, KEYSTORE_SLOT_DEVICE_KEY, pub, sizeof(pub),
	    &publen)) != 0) {
		ztp_errf(why, whycap, rc, "slot %d: %s", KEYSTORE_SLOT_DEVICE_KEY,
		    keystore_error(ks));
		goto out;
	}
	if ((rc = est_cert_check(cur, pub, publen, udid, cas, now, why, whycap)) != 0)
		goto out;
	if (cert != NULL) {
		*cert = cur;
		cur = NULL;
	}
out:
	X509_free(cur);
	sk_X509_pop_free(cas, X509_free);
	return rc;
}

int
enroll_open_store(const char *dir, struct keystore **ks, int *made, char *why, size_t whycap)
{
	char err[KEYSTORE_ERR_MAX];
	int rc;

	*ks = NULL;
	if (made != NULL)
		*made = 0;
	if ((rc = keystore_file_open(dir, KEYSTORE_FILE_CREATE, ks, err, sizeof(err))) != 0) {
		snprintf(why, whycap, "key store %s: %s", dir, err);
		return ENROLL_LOCAL;
	}
	rc = csr_generate_key(*ks, KEYSTORE_SLOT_DEVICE_KEY, 0);
	if (rc == 0) {
		if (made != NULL)
			*made = 1;
	} else if (rc != ZTP_EEXIST) {
		snprintf(why, whycap, "key store %s: %s", dir, keystore_error(*ks));
		keystore_close(*ks);
		*ks = NULL;
		return ENROLL_LOCAL;
	}
	return 0;
}

/* The code for a failed request, with its message. */
static int
request_failed(const struct enroll_opts *o, int rc, const struct est_result *res)
{
	if (rc == ZTP_EAUTH && res->status == 0) {
		say(o, "refused by the server in the TLS handshake: %s", res->reason);
		if (o->verbose)
			say(o, "%s", res->why);
		return ENROLL_REFUSED;
	}
	if (rc == ZTP_EAUTH || (rc == ZTP_EINVAL && res->status >= 400 && res->status <= 499)) {
		say(o, "refused by the server: HTTP %d%s%s", res->status,
		    res->reason[0] != '\0' ? ": " : "", res->reason);
		if (res->why[0] != '\0' && o->verbose)
			say(o, "%s", res->why);
		return ENROLL_REFUSED;
	}
	if (rc == ZTP_EIO || rc == ZTP_ETOOBIG || rc == ZTP_EMALFORMED || rc == ZTP_EBUSY) {
		say(o, "%s%s%s", res->why[0] != '\0' ? res->why : ztp_strerror(rc),
		    res->reason[0] != '\0' ? ": " : "", res->reason);
		return ENROLL_TEMP;
	}
	say(o, "%s", res->why[0] != '\0' ? res->why : ztp_strerror(rc));
	return ENROLL_LOCAL;
}

/* Sleep s seconds, or less if o->cancel is set meanwhile (then 1). */
static int
sleep_s(const struct enroll_opts *o, uint32_t s)
{
	struct timespec ts;
	uint32_t i;

	for (i = 0; i < s; i++) {
		if (o->cancel != NULL && *o->cancel)
			return 1;
		ts.tv_sec = 1;
		ts.tv_nsec = 0;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			if (o->cancel != NULL && *o->cancel)
				return 1;
	}
	return 0;
}

/*
 * simpleenroll (renew 0) or simplereenroll (renew 1) with cl, asked again
 * after each 202 while the waits fit in max_wait seconds in all (*waited
 * counts them) and at most ATTEMPTS_MAX times. Returns the last request's
 * code: ZTP_EBUSY if it was still 202.
 */
static int
request_cert(const struct enroll_opts *o, struct est_client *cl, int renew, const uint8_t *csr,
    size_t csrlen, uint32_t *waited, X509 **issued, struct est_result *res)
{
	int attempts, rc;

	for (attempts = 1;; attempts++) {
		rc = renew ? est_simplereenroll(cl, csr, csrlen, issued, res) :
		    est_simpleenroll(cl, csr, csrlen, issued, res);
		if (rc != ZTP_EBUSY)
			return rc;
		if (attempts >= ATTEMPTS_MAX || res->retry_after > o->max_wait - *waited) {
			snprintf(res->why, sizeof(res->why), "the server accepted the request "
			    "but has not issued the certificate (asks to come back in %u s; "
			    "waited %u s of --max-wait %u)", (unsigned)res->retry_after,
			    (unsigned)*waited, (unsigned)o->max_wait);
			return ZTP_EBUSY;
		}
		say(o, "accepted, not yet issued: asking again in %u s", (unsigned)res->retry_after);
		if (sleep_s(o, res->retry_after)) {
			snprintf(res->why, sizeof(res->why), "stopped while waiting for the server");
			return ZTP_EBUSY;
		}
		*waited += res->retry_after;
	}
}

int
enroll_run(const struct enroll_opts *o, struct enroll_outcome *outp)
{
	struct enroll_outcome dummy, *out = outp != NULL ? outp : &dummy;
	struct keystore *ks = NULL;
	struct est_client *client = NULL, *renewer = NULL;
	struct est_client_opts eo;
	struct est_result *res = &out->res;
	STACK_OF(X509) *cas = NULL;
	X509 *cur = NULL, *issued = NULL, *id_cert = NULL, *file_cert = NULL;
	STACK_OF(X509) *file_chain = NULL;
	EVP_PKEY *id_key = NULL, *file_key = NULL;
	uint8_t pub[KEYSTORE_P256_PUBKEY_LEN], *csr = NULL;
	size_t publen = 0, csrlen = 0;
	struct csr_req creq;
	char why[EST_WHY_MAX], t1[32];
	int64_t now, nb = 0, na = 0, due = 0;
	uint32_t waited = 0;
	int renew = 0, expired = 0, changed = 0, made = 0, rc;

	memset(out, 0, sizeof(*out));
	/* the identity's files and the client: read before the store is touched */
	if (o->client_cert_file != NULL || o->client_key_file != NULL) {
		if (o->client_cert_file == NULL || o->client_key_file == NULL ||
		    o->client_cert != NULL) {
			say(o, "the client identity: a certificate file and a key file, or objects");
			rc = ENROLL_USAGE;
			goto out;
		}
		if (est_identity_from_files(o->client_cert_file, o->client_key_file, &file_cert,
		    &file_chain, &file_key, why, sizeof(why)) != 0) {
			say(o, "client identity: %s", why);
			rc = ENROLL_USAGE;
			goto out;
		}
	}
	memset(&eo, 0, sizeof(eo));
	eo.url = o->server;
	eo.trust_file = o->ca_file;
	eo.trust = o->ca;
	eo.client_cert = file_cert != NULL ? file_cert : o->client_cert;
	eo.client_key = file_key != NULL ? file_key : o->client_key;
	eo.client_chain = file_cert != NULL ? file_chain : o->client_chain;
	eo.user = o->password != NULL ? o->id : NULL;
	eo.password = o->password;
	eo.timeout_ms = o->timeout_s * 1000;
	eo.log = est_log;
	eo.log_arg = (void *)o;
	if ((rc = est_client_new(&eo, &client, why, sizeof(why))) != 0) {
		say(o, "%s", why);
		rc = rc == ZTP_ENOMEM ? ENROLL_LOCAL : ENROLL_USAGE;
		goto out;
	}
	if ((rc = enroll_open_store(o->store, &ks, &made, why, sizeof(why))) != 0) {
		say(o, "%s", why);
		goto out;
	}
	if (made)
		say(o, "generated the device key (P-256) in slot %d", KEYSTORE_SLOT_DEVICE_KEY);
	if (keystore_public_key(ks, KEYSTORE_SLOT_DEVICE_KEY, pub, sizeof(pub), &publen) != 0) {
		say(o, "key store: %s", keystore_error(ks));
		rc = ENROLL_LOCAL;
		goto out;
	}

	if ((rc = est_cacerts(client, &cas, res)) != 0) {
		rc = request_failed(o, rc, res);
		goto out;
	}
	if ((rc = est_store_cacerts(ks, cas, &changed, why, sizeof(why))) != 0) {
		say(o, "key store: %s", why);
		rc = ENROLL_LOCAL;
		goto out;
	}
	if (changed)
		say(o, "stored %d CA certificate(s) in slot %d", sk_X509_num(cas),
		    KEYSTORE_SLOT_CA_CERT);

	/* what the certificate in slot 10 calls for */
	now = (int64_t)time(NULL);
	rc = enroll_stored_cert(ks, &cur, why, sizeof(why));
	if (rc == ZTP_ENOENT) {
		if (o->verbose)
			say(o, "no certificate yet: enrolling");
	} else if (rc != 0) {
		say(o, "%s: enrolling", why);
	} else if (est_cert_times(cur, &nb, &na) != 0) {
		say(o, "the stored certificate has an unreadable validity: enrolling");
	} else if ((rc = est_cert_check(cur, pub, publen, o->id, cas, now, why,
	    sizeof(why))) != 0) {
		/*
		 * Expired, and good in its last second of validity (OpenSSL counts
		 * notAfter itself as expired): the server may renew it still.
		 */
		if (rc == ZTP_EEXPIRED && now >= na && est_cert_check(cur, pub, publen, o->id, cas,
		    na - 1, why, sizeof(why)) == 0) {
			expired = renew = 1;
			enroll_fmt_time(na, t1, sizeof(t1));
			say(o, "the stored certificate expired at %s: renewing", t1);
		} else {
			say(o, "the stored certificate cannot be used (%s): enrolling", why);
		}
	} else {
		renew = 1;
		if (!est_renew_due(nb, na, now, o->renew_before, &due) && !o->force) {
			enroll_fmt_serial(cur, out->serial, sizeof(out->serial));
			out->not_after = na;
			out->due_at = due;
			rc = ENROLL_NOTHING;
			goto out;
		}
		if (o->verbose)
			say(o, "%s: renewing", o->force ? "--force" : "the certificate is due");
	}

	/*
	 * The request: subject CN = serialNumber = UDID. The password goes in
	 * HTTP Basic only, never into the request (which servers keep).
	 */
	memset(&creq, 0, sizeof(creq));
	creq.udid = o->id;
	creq.slot = KEYSTORE_SLOT_DEVICE_KEY;
	if (csr_create(ks, &creq, CSR_DER, &csr, &csrlen) != 0) {
		say(o, "certificate request: %s", keystore_error(ks));
		rc = ENROLL_LOCAL;
		goto out;
	}
	if (renew) {
		/* mutual TLS with the current certificate and key */
		rc = est_identity_from_keystore(ks, &id_cert, &id_key, why, sizeof(why));
		if (rc != 0) {
			say(o, "%s", why);
			rc = ENROLL_LOCAL;
			goto out;
		}
		eo.client_cert = id_cert;
		eo.client_key = id_key;
		eo.client_chain = NULL;
		eo.user = NULL;
		eo.password = NULL;
		if ((rc = est_client_new(&eo, &renewer, why, sizeof(why))) != 0) {
			say(o, "%s", why);
			rc = ENROLL_LOCAL;
			goto out;
		}
	}
	rc = request_cert(o, renew ? renewer : client, renew, csr, csrlen, &waited, &issued, res);
	if (renew && rc == ZTP_EAUTH && res->status == 0 &&
	    res->tls_alert == SSL_AD_CERTIFICATE_REVOKED)
		out->revoked = 1;
	if (rc != 0 && rc != ZTP_EBUSY && expired) {
		/* past the server's grace, or refused: a new enrolment */
		say(o, "renewal of the expired certificate failed (%s%s%s): enrolling",
		    res->why[0] != '\0' ? res->why : ztp_strerror(rc), res->reason[0] != '\0' ?
		    ": " : "", res->reason);
		renew = 0;
		out->revoked = 0;
		rc = request_cert(o, client, 0, csr, csrlen, &waited, &issued, res);
	}
	if (rc != 0) {
		rc = request_failed(o, rc, res);
		goto out;
	}

	/* the certificate: for our key and UDID, under the CA certificates; then stored */
	now = (int64_t)time(NULL);
	if ((rc = est_store_cert(ks, issued, o->id, cas, now, why, sizeof(why))) != 0) {
		if (rc == ZTP_ECONFLICT || rc == ZTP_ECRYPTO || rc == ZTP_EEXPIRED ||
		    rc == ZTP_EINVAL) {
			say(o, "the server's certificate is unusable, not stored: %s", why);
			rc = ENROLL_TEMP;
		} else {
			say(o, "key store: %s", why);
			rc = ENROLL_LOCAL;
		}
		goto out;
	}
	if (est_cert_times(issued, &nb, &na) != 0)
		na = 0;
	out->renewed = renew;
	out->not_after = na;
	enroll_fmt_serial(issued, out->serial, sizeof(out->serial));
	rc = ENROLL_DONE;
out:
	free(csr);
	X509_free(issued);
	X509_free(cur);
	X509_free(id_cert);
	EVP_PKEY_free(id_key);
	X509_free(file_cert);
	EVP_PKEY_free(file_key);
	sk_X509_pop_free(file_chain, X509_free);
	sk_X509_pop_free(cas, X509_free);
	est_client_free(renewer);
	est_client_free(client);
	keystore_close(ks);
	return rc;
}
