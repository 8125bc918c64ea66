/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ZTP certificates on the device listener (module_ztpcert.h): a module
 * whose features include ztp-cert and whose owner named a CA for it gets a
 * bundle, its own EC P-256 key, a device certificate signed by that CA
 * (CN = its RoT UID, serialNumber = its sealed serial when that is a
 * PrintableString) and the CA's certificate.
 *
 * The key pair is made here, in the front: it is the device's, and the
 * store keeps the bundle sealed so that it can be sent again until the
 * module confirms it. The CA's key stays in the signer, which gets the CA
 * wrapped (signer_ztpca_sign). A bundle is issued at the first GET /m/z
 * after the feature and the CA are set, again when the module's CA
 * changes, and again once a third of its certificate's validity is left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "clock.h"
#include "events.h"
#include "hex.h"
#include "http_util.h"
#include "log.h"
#include "modmsg.h"
#include "module_ztpcert.h"
#include "server.h"
#include "signer_client.h"
#include "signer_msg.h"
#include "store.h"
#include "ztp/err.h"
#include "ztp/ztpcert.h"

#define EV_MODULE_CERT "module_cert" /* a ZTP certificate issued or confirmed */

_Static_assert(ZTP_CERT_BUNDLE_MAX <= STORE_ZTPBUNDLE_MAX, "the store keeps a bundle");
_Static_assert(SIGNER_ZTPCA_CERT_MAX <= ZTP_CERT_CERT_MAX, "a module keeps a ZTP CA's certificate");

/* 1 if s is an X.520 PrintableString (the certificate's serialNumber). */
static int
printable_string(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			(*s >= '0' && *s <= '9') || strchr(" '()+,-./:=?", *s) != NULL))
			return 0;
	return 1;
}

/* 1 if bundle b (of the module) is of ca and not yet due for renewal at now_s. */
static int
bundle_current(const struct store_ztpbundle *b, const struct store_ztpca *ca, int64_t now_s)
{
	int64_t life = b->not_after - b->issued_at / 1000;

	return strcmp(b->owner, ca->owner) == 0 && strcmp(b->ca, ca->name) == 0 &&
	    now_s < b->not_after - (life > 0 ? life / 3 : 0);
}

/* The owner of m: its own, else (a bootstrap) its profile's; "" if none. */
static void
owner_of(struct store *st, const struct store_mod *m, char owner[STORE_OWNER_MAX + 1])
{
	uint32_t f, hb, hbmin;

	if (m->owner[0] != '\0') {
		snprintf(owner, STORE_OWNER_MAX + 1, "%s", m->owner);
		return;
	}
	if (store_module_profile(st, m->profile_uid, owner, &f, &hb, &hbmin) != 0)
		owner[0] = '\0';
}

int
module_ztpcert_waiting(struct store *st, const struct store_mod *m, uint32_t features)
{
	char owner[STORE_OWNER_MAX + 1];
	struct store_ztpca *ca;
	struct store_ztpbundle b;
	int rc, waiting = 0;

	if (!(features & MODMSG_F_ZTP_CERT))
		return 0;
	owner_of(st, m, owner);
	if (owner[0] == '\0' || (ca = malloc(sizeof(*ca))) == NULL)
		return 0;
	rc = store_ztpca_for_module(st, m->rot_uid, owner, m->profile_uid, ca);
	if (rc == 0) {
		rc = store_ztpbundle_get(st, m->rot_uid, &b, NULL, 0, NULL);
		waiting = rc == ZTP_ENOENT ||
		    (rc == 0 && (b.delivered_at == 0 || !bundle_current(&b, ca, clock_now_ms() / 1000)));
	}
	if (rc != 0 && rc != ZTP_ENOENT)
		log_warnx("module %s: cannot tell whether a certificate waits: %s", m->rot_uid,
		    ztp_strerror(rc));
	OPENSSL_cleanse(ca, sizeof(*ca));
	free(ca);
	return waiting;
}

/*
 * Issue a bundle for module m with ca into bundle (ZTP_CERT_BUNDLE_MAX
 * bytes, *len) and keep it (sealed) as m's. 0 or a code (ZTP_EIO: no
 * working signer).
 */
static int
issue(struct worker *w, const struct store_mod *m, const struct store_ztpca *ca, uint8_t *bundle,
    size_t *len, struct store_ztpbundle *b)
{
	static const struct signer_csr_req zero;
	struct signer_csr_req r = zero;
	struct signer_issued out = { 0 };
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	unsigned char *p8der = NULL, *spki = NULL;
	char id[SIGNER_ZTPCA_ID_MAX + 1];
	EVP_PKEY *key = NULL;
	int p8len = 0, spkilen = 0, rc = ZTP_ECRYPTO;

	if ((key = EVP_EC_gen("P-256")) == NULL || (p8 = EVP_PKEY2PKCS8(key)) == NULL ||
	    (p8len = i2d_PKCS8_PRIV_KEY_INFO(p8, &p8der)) <= 0 ||
	    (spkilen = i2d_PUBKEY(key, &spki)) <= 0)
		goto out;
	snprintf(r.subject.cn, sizeof(r.subject.cn), "%s", m->rot_uid);
	if (m->serial[0] != '\0' && strlen(m->serial) <= SIGNER_NAME_MAX &&
	    printable_string(m->serial))
		snprintf(r.subject.serial_number, sizeof(r.subject.serial_number), "%s", m->serial);
	r.profile.days = ca->device_days;
	r.profile.key_usage = SIGNER_KU_DIGITAL_SIGNATURE;
	r.profile.ext_key_usage = SIGNER_EKU_CLIENT_AUTH;
	r.spki = spki;
	r.spki_len = (size_t)spkilen;
	r.key_type = SIGNER_KEY_EC_P256;
	r.key_bits = 256;
	snprintf(id, sizeof(id), "%s/%s", ca->owner, ca->name);
	if ((rc = signer_ztpca_sign(w->srv->signer, id, ca->cert, ca->cert_len, ca->key,
		 ca->key_len, &r, &out)) != 0)
		goto out;
	if ((rc = ztp_cert_encode(p8der, (size_t)p8len, out.der, out.der_len, ca->cert,
		 ca->cert_len, bundle, ZTP_CERT_BUNDLE_MAX, len)) != 0)
		goto out;
	memset(b, 0, sizeof(*b));
	snprintf(b->rot_uid, sizeof(b->rot_uid), "%s", m->rot_uid);
	snprintf(b->owner, sizeof(b->owner), "%s", ca->owner);
	snprintf(b->ca, sizeof(b->ca), "%s", ca->name);
	SHA256(out.der, out.der_len, b->cert_sha256);
	hex_encode(out.serial, out.serial_len, b->serial, sizeof(b->serial));
	for (char *p = b->serial; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	b->not_after = out.not_after;
	b->issued_at = clock_now_ms();
	rc = store_ztpbundle_put(w->store, b, bundle, *len);
out:
	if (p8der != NULL)
		OPENSSL_clear_free(p8der, (size_t)p8len);
	PKCS8_PRIV_KEY_INFO_free(p8);
	OPENSSL_free(spki);
	EVP_PKEY_free(key);
	signer_issued_free(&out);
	ERR_clear_error();
	return rc;
}

/* 200 with the bundle as the body (no Content-Type: the module's answers are bytes). */
static void
reply_bundle(struct evhttp_request *req, const uint8_t *bundle, size_t len)
{
	struct evbuffer *buf;

	if ((buf = evbuffer_new()) == NULL) {
		http_reply_error(req, 503, "unavailable", "out of memory");
		return;
	}
	evbuffer_add(buf, bundle, len);
	evhttp_send_reply(req, 200, "OK", buf);
	/* the evbuffer's copy went out; ours is the caller's to wipe */
	evbuffer_free(buf);
}

/* GET /m/z: the bundle. */
static void
serve_fetch(struct evhttp_request *req, struct worker *w, struct conn *c,
    const struct store_mod *m)
{
	struct store_ztpca *ca = NULL;
	struct store_ztpbundle b;
	uint8_t *bundle = NULL;
	size_t len = 0;
	int rc;

	if (!(m->features_applied & MODMSG_F_ZTP_CERT)) {
		http_reply_error(req, 404, "not_found", "ztp-cert is not on for this module");
		return;
	}
	if ((ca = malloc(sizeof(*ca))) == NULL || (bundle = malloc(ZTP_CERT_BUNDLE_MAX)) == NULL) {
		http_reply_error(req, 503, "unavailable", "out of memory");
		goto out;
	}
	rc = store_ztpca_for_module(w->store, m->rot_uid, m->owner, m->profile_uid, ca);
	if (rc != 0) {
		http_reply_error(req, rc == ZTP_ENOENT ? 404 : 500,
		    rc == ZTP_ENOENT ? "not_found" : "internal",
		    rc == ZTP_ENOENT ? "no ZTP CA for this module" : "store failure");
		goto out;
	}
	rc = store_ztpbundle_get(w->store, m->rot_uid, &b, bundle, ZTP_CERT_BUNDLE_MAX, &len);
	if (rc == 0 && bundle_current(&b, ca, clock_now_ms() / 1000)) {
		reply_bundle(req, bundle, len);
		goto out;
	}
	if (rc != 0 && rc != ZTP_ENOENT && rc != ZTP_EAUTH) {
		http_reply_error(req, 500, "internal", "store failure");
		goto out;
	}
	if ((rc = issue(w, m, ca, bundle, &len, &b)) != 0) {
		if (rc == ZTP_EIO) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "5");
			http_reply_error(req, 503, "unavailable", "the CA process is not available");
		} else {
			log_warnx("module %s: no certificate from ZTP CA %s/%s: %s", m->rot_uid,
			    ca->owner, ca->name, ztp_strerror(rc));
			http_reply_error(req, 500, "internal", "the certificate could not be issued");
		}
		goto out;
	}
	events_note_dev(w, EV_MODULE_CERT, m->owner, m->rot_uid, c->peer,
	    "certificate %s issued by ZTP CA %s", b.serial, ca->name);
	reply_bundle(req, bundle, len);
out:
	if (bundle != NULL)
		OPENSSL_clear_free(bundle, ZTP_CERT_BUNDLE_MAX);
	if (ca != NULL)
		OPENSSL_clear_free(ca, sizeof(*ca));
}

/* POST /m/z with the SHA-256 of the device certificate (an item): the module holds it. */
static void
serve_confirm(struct evhttp_request *req, struct worker *w, struct conn *c,
    const struct store_mod *m, const uint8_t *body, size_t len)
{
	int rc;

	if (body == NULL || len != ZTP_CERT_CONFIRM_BODY || body[0] != ZTP_CERT_ITEM_CONFIRM ||
	    body[1] != ZTP_CERT_CONFIRM_LEN) {
		http_reply_error(req, 400, "bad_request",
		    "the confirmation is one item: the SHA-256 of the device certificate");
		return;
	}
	rc = store_ztpbundle_delivered(w->store, m->rot_uid, body + 2, clock_now_ms());
	switch (rc) {
	case 0:
		events_note_dev(w, EV_MODULE_CERT, m->owner, m->rot_uid, c->peer,
		    "certificate bundle stored by the module");
		evhttp_send_reply(req, 204, "No Content", NULL);
		break;
	case ZTP_ENOENT:
		http_reply_error(req, 404, "not_found", "no certificate for this module");
		break;
	case ZTP_ECONFLICT:
		http_reply_error(req, 409, "conflict", "not the certificate issued last");
		break;
	default:
		http_reply_error(req, 500, "internal", "store failure");
	}
}

void
module_ztpcert_serve(struct evhttp_request *req, struct worker *w, struct conn *c,
    const struct store_mod *m, const uint8_t *body, size_t len)
{
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET)
		serve_fetch(req, w, c, m);
	else
		serve_confirm(req, w, c, m, body, len);
}
