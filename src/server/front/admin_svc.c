/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin routes of the root of trust's services (issue 14;
 * docs/admin-api.md "Services"): a customer's server looks up the PSK of
 * an identity, the decryption parameters of an E2E key identity, and has
 * a message encrypted for one module. Each answers only for a module the
 * key sees (another owner's is 404, as if it did not exist), with the
 * feature on, never for a quarantined one; every call is an event of the
 * module's owner (never with a key in it).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "admin_int.h"
#include "admin_modreq.h"
#include "clock.h"
#include "events.h"
#include "hex.h"
#include "http_util.h"
#include "modmsg.h"
#include "store.h"
#include "server.h"
#include "ztp/crypto_ossl.h"
#include "ztp/err.h"
#include "ztp/rotsvc.h"

/* base64 of b[0..n) (n <= 64) as a JSON string */
static json_t *
b64_json(const uint8_t *b, size_t n)
{
	char out[4 * 64 / 3 + 4];
	json_t *j;

	EVP_EncodeBlock((unsigned char *)out, b, (int)n);
	j = json_string(out);
	OPENSSL_cleanse(out, sizeof(out));
	return j;
}

/*
 * The module of a service id, if the key sees it and it may use service
 * feature: 0, else the answer (404 unseen or unknown, 403 feature off or
 * quarantined) is sent, an event recorded, and -1 returned.
 */
static int
svc_module(struct areq *a, uint32_t sid, uint32_t feature, const char *kind, const char *what,
    struct store_mod *m)
{
	const char *why = NULL;
	int code = 0, rc;

	rc = store_module_by_sid(a->w->store, sid, m);
	if (rc == ZTP_ENOENT || (rc == 0 && !admin_scope_sees(a, m->owner))) {
		/* recorded for the caller's owner, without naming the device */
		events_note_dev(a->w, kind, a->all_owners ? NULL : a->owner, NULL,
		    a->c ? a->c->peer : NULL, "%s refused: unknown to key %s", what, a->key_id);
		http_reply_error(a->req, 404, "not_found", "no such device");
		return -1;
	}
	if (rc != 0) {
		admin_reply_rc(a, rc, "store failure");
		return -1;
	}
	if (m->quarantined) {
		code = 403;
		why = "the device is quarantined";
	} else if (!(m->features & feature)) {
		code = 403;
		why = feature == MODMSG_F_PSK ? "the feature psk is off for the device" :
						"the feature e2e is off for the device";
	}
	if (code != 0) {
		events_note_dev(a->w, kind, m->owner, m->rot_uid, a->c ? a->c->peer : NULL,
		    "%s refused (%s) to key %s", what, why, a->key_id);
		http_reply_error(a->req, code, "forbidden", why);
		return -1;
	}
	return 0;
}

/* S(e) of m's epoch: 0, else 404 sent (an epoch never committed), -1. */
static int
svc_key(struct areq *a, const struct store_mod *m, uint32_t epoch, uint8_t svc[ZTP_SVC_LEN])
{
	int rc = store_module_svc(a->w->store, m->rot_uid, epoch, svc);

	if (rc == ZTP_ENOENT)
		http_reply_error(a->req, 404, "not_found", "no key of that epoch for the device");
	else if (rc != 0)
		admin_reply_rc(a, rc, "store failure");
	return rc == 0 ? 0 : -1;
}

/* GET /v1/psk/{identity}: the PSK of an identity AT+USECPSK gave (28 hex digits). */
void
admin_psk_get(struct areq *a)
{
	uint8_t id[ZTP_PSK_ID_LEN], svc[ZTP_SVC_LEN], psk[32];
	char idhex[2 * ZTP_PSK_ID_LEN + 1];
	struct store_mod m;
	uint32_t sid, epoch;
	size_t n = 0, len = 0;
	json_t *o;

	if (strlen(a->param) != 2 * ZTP_PSK_ID_LEN || !hex_valid(a->param, strlen(a->param)) ||
	    hex_decode(a->param, strlen(a->param), id, sizeof(id), &n) != 0 ||
	    ztp_psk_identity_parse(id, n, &sid, &epoch, &len) != 0) {
		http_reply_error(a->req, 400, "bad_request",
		    "not a PSK identity: 28 hex digits, as AT+USECPSK gives them");
		return;
	}
	hex_encode(id, sizeof(id), idhex, sizeof(idhex));
	if (svc_module(a, sid, MODMSG_F_PSK, EV_PSK_LOOKUP, "PSK lookup", &m) != 0 ||
	    svc_key(a, &m, epoch, svc) != 0)
		return;
	if (ztp_psk_derive(ztp_crypto_openssl(), svc, id, psk, len) != 0) {
		OPENSSL_cleanse(svc, sizeof(svc));
		http_reply_error(a->req, 500, "internal", "cannot derive the key");
		return;
	}
	OPENSSL_cleanse(svc, sizeof(svc));
	events_note_dev(a->w, EV_PSK_LOOKUP, m.owner, m.rot_uid, a->c ? a->c->peer : NULL,
	    "PSK of identity %s (epoch %u) given to key %s", idhex, (unsigned)epoch, a->key_id);
	o = json_pack("{s:s, s:s, s:o, s:I}", "device", m.rot_uid, "identity", idhex, "psk",
	    b64_json(psk, len), "psk_bits", (json_int_t)(8 * len));
	OPENSSL_cleanse(psk, sizeof(psk));
	http_reply_json(a->req, 200, o);
}

static const char *
direction_name(enum ztp_e2e_dir d)
{
	return d == ZTP_E2E_UP ? "upstream" : "downstream";
}

/* POST /v1/e2e/decryption-parameters {"key_identity": hex} */
void
admin_e2e_params(struct areq *a)
{
	uint8_t ki[16], svc[ZTP_SVC_LEN], key[ZTP_E2E_KEY_LEN], nonce[ZTP_E2E_NONCE_LEN];
	char why[200], kihex[33];
	struct ztp_e2e_ki k;
	struct store_mod m;
	size_t kilen = 0;
	json_t *o;
	int rc;

	if ((rc = admin_modreq_e2e_params(a->body, a->bodylen, ki, &kilen, why, sizeof(why))) !=
	    0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	if (ztp_e2e_ki_parse(ki, kilen, &k) != 0) {
		http_reply_error(a->req, 400, "bad_request", "not a key identity ztp gives");
		return;
	}
	hex_encode(ki, kilen, kihex, sizeof(kihex));
	if (svc_module(a, k.sid, MODMSG_F_E2E, EV_E2E_PARAMS, "E2E decryption parameters", &m) !=
		0 ||
	    svc_key(a, &m, k.epoch, svc) != 0)
		return;
	rc = ztp_e2e_params(ztp_crypto_openssl(), svc, ki, kilen, key, nonce);
	OPENSSL_cleanse(svc, sizeof(svc));
	if (rc != 0) {
		http_reply_error(a->req, 500, "internal", "cannot derive the key");
		return;
	}
	events_note_dev(a->w, EV_E2E_PARAMS, m.owner, m.rot_uid, a->c ? a->c->peer : NULL,
	    "decryption parameters of %s (%s, epoch %u, counter %llu) given to key %s", kihex,
	    direction_name(k.dir), (unsigned)k.epoch, (unsigned long long)k.counter, a->key_id);
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:s}", "device", m.rot_uid,
	    "key_identity", kihex, "algorithm", k.mac_len == 16 ? "AES_128_CCM" : "AES_128_CCM_8",
	    "key", b64_json(key, sizeof(key)), "nonce", b64_json(nonce, sizeof(nonce)), "mac_len",
	    (json_int_t)k.mac_len, "epoch", (json_int_t)k.epoch, "counter", (json_int_t)k.counter,
	    "direction", direction_name(k.dir));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(nonce, sizeof(nonce));
	http_reply_json(a->req, 200, o);
}

/* POST /v1/devices/{rot}/e2e/encrypt {"data": base64}: a downstream message */
void
admin_e2e_encrypt(struct areq *a)
{
	static uint8_t data[ADMIN_MODREQ_E2E_DATA_MAX], out[ADMIN_MODREQ_E2E_DATA_MAX + 64];
	static char b64[4 * (ADMIN_MODREQ_E2E_DATA_MAX + 64) / 3 + 8];
	uint8_t svc[ZTP_SVC_LEN];
	char why[200], kihex[33];
	struct ztp_e2e_ki k;
	struct store_mod m;
	size_t n = 0, outlen = 0;
	json_t *o;
	int rc;

	if (!modmsg_uid_hex_valid(a->param, strlen(a->param))) {
		http_reply_error(a->req, 400, "bad_request",
		    "not a RoT UID: expected 32 lower-case hex digits");
		return;
	}
	rc = store_module_get(a->w->store, a->param, &m);
	if (rc != 0 || !admin_scope_sees(a, m.owner)) {
		admin_reply_rc(a, rc == 0 ? ZTP_ENOENT : rc, "no such device");
		return;
	}
	if ((rc = admin_modreq_e2e_encrypt(a->body, a->bodylen, data, &n, why, sizeof(why))) != 0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	if (m.epoch == 0 || m.sid == 0) {
		http_reply_error(a->req, 409, "conflict", "the device is not bootstrapped");
		goto out;
	}
	if (svc_module(a, m.sid, MODMSG_F_E2E, EV_E2E_ENCRYPT, "E2E encryption", &m) != 0)
		goto out;
	memset(&k, 0, sizeof(k));
	k.len = ZTP_E2E_KI_LEN;
	k.mac_len = 16;
	k.dir = ZTP_E2E_DOWN;
	k.sid = m.sid;
	if ((rc = store_module_down_next(a->w->store, m.rot_uid, clock_now_ms(), &k.counter,
		 &k.epoch)) != 0) {
		admin_reply_rc(a, rc, "store failure");
		goto out;
	}
	if (svc_key(a, &m, k.epoch, svc) != 0)
		goto out;
	rc = ztp_e2e_seal_with(ztp_crypto_openssl(), svc, &k, data, n, out, sizeof(out), &outlen);
	OPENSSL_cleanse(svc, sizeof(svc));
	if (rc != 0) {
		http_reply_error(a->req, 500, "internal", "cannot encrypt");
		goto out;
	}
	hex_encode(out, k.len, kihex, sizeof(kihex));
	EVP_EncodeBlock((unsigned char *)b64, out, (int)outlen);
	events_note_dev(a->w, EV_E2E_ENCRYPT, m.owner, m.rot_uid, a->c ? a->c->peer : NULL,
	    "%zu bytes encrypted for the device (%s, epoch %u, counter %llu) by key %s", n, kihex,
	    (unsigned)k.epoch, (unsigned long long)k.counter, a->key_id);
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "device", m.rot_uid, "data", b64,
	    "key_identity", kihex, "length", (json_int_t)outlen, "epoch", (json_int_t)k.epoch,
	    "counter", (json_int_t)k.counter);
	http_reply_json(a->req, 200, o);
out:
	OPENSSL_cleanse(data, sizeof(data));
}
