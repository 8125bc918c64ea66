/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The root of trust's services (rotsvc.h): the derivations both sides
 * share, then the module's side of PSK, E2E and local data protection.
 */
#include <string.h>

#include "modmsg.h"
#include "ztp/err.h"
#include "ztp/rotsvc.h"

#define PSK_ID_MAGIC 0x11
#define LOCAL_MAGIC0 'Z'
#define LOCAL_MAGIC1 'L'
#define LOCAL_VERSION 1
#define LOCAL_TAG 16

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
ztp_svc_root(const struct ztp_crypto *c, const uint8_t key[ZTP_ROT_KEY_LEN], uint32_t epoch,
    uint8_t out[ZTP_SVC_LEN])
{
	uint8_t e[4];
	struct ztp_iov info[2] = { { "ztp svc", 7 }, { e, 4 } };

	put32(e, epoch);
	return ztp_hkdf_expand(c, key, ZTP_ROT_KEY_LEN, info, 2, out, ZTP_SVC_LEN);
}

/* ---- PSK */

int
ztp_psk_identity_parse(const uint8_t *id, size_t len, uint32_t *sid, uint32_t *epoch,
    size_t *psk_len)
{
	if (id == NULL || len != ZTP_PSK_ID_LEN || id[0] != PSK_ID_MAGIC ||
	    (id[1] != 0x01 && id[1] != 0x02) || get32(id + 2) == 0 || get32(id + 6) == 0)
		return ZTP_EMALFORMED;
	*sid = get32(id + 2);
	*epoch = get32(id + 6);
	*psk_len = id[1] == 0x01 ? 16 : 32;
	return 0;
}

int
ztp_psk_derive(const struct ztp_crypto *c, const uint8_t svc[ZTP_SVC_LEN],
    const uint8_t id[ZTP_PSK_ID_LEN], uint8_t *psk, size_t psk_len)
{
	struct ztp_iov info[2] = { { "ztp psk", 7 }, { id, ZTP_PSK_ID_LEN } };

	if (psk_len != 16 && psk_len != 32)
		return ZTP_EINVAL;
	return ztp_hkdf_expand(c, svc, ZTP_SVC_LEN, info, 2, psk, psk_len);
}

/* ---- E2E key identities and messages */

int
ztp_e2e_ki_encode(const struct ztp_e2e_ki *k, uint8_t *out, size_t *len)
{
	uint8_t m;
	int i;

	if (k->mac_len != 16 && k->mac_len != 8)
		return ZTP_EINVAL;
	m = k->mac_len == 16 ? 1 : 2;
	if (k->sid == 0 || k->epoch == 0 || k->counter > ZTP_ROT_E2E_CTR_MAX)
		return ZTP_ERANGE;
	if (k->len == ZTP_E2E_KI_SHORT_LEN) {
		if (k->dir != ZTP_E2E_UP || k->epoch > 0xFFFF || k->counter > 0xFFFFFFFFu)
			return ZTP_ERANGE;
		out[0] = (uint8_t)(0x20 | m);
		put32(out + 1, k->sid);
		out[5] = (uint8_t)(k->epoch >> 8);
		out[6] = (uint8_t)k->epoch;
		put32(out + 7, (uint32_t)k->counter);
	} else if (k->len == ZTP_E2E_KI_LEN) {
		if (k->dir != ZTP_E2E_UP && k->dir != ZTP_E2E_DOWN)
			return ZTP_EINVAL;
		out[0] = (uint8_t)(0x10 | m);
		out[1] = (uint8_t)k->dir;
		put32(out + 2, k->sid);
		put32(out + 6, k->epoch);
		for (i = 0; i < 6; i++)
			out[10 + i] = (uint8_t)(k->counter >> (8 * (5 - i)));
	} else {
		return ZTP_EINVAL;
	}
	*len = k->len;
	return 0;
}

int
ztp_e2e_ki_parse(const uint8_t *b, size_t len, struct ztp_e2e_ki *k)
{
	struct ztp_e2e_ki t;
	int i;

	memset(&t, 0, sizeof(t));
	if (b == NULL || len < 1)
		return ZTP_EMALFORMED;
	if ((b[0] & 0x0F) != 1 && (b[0] & 0x0F) != 2)
		return ZTP_EMALFORMED;
	t.mac_len = (b[0] & 0x0F) == 1 ? 16 : 8;
	if ((b[0] >> 4) == 1) {
		if (len < ZTP_E2E_KI_LEN || (b[1] != ZTP_E2E_UP && b[1] != ZTP_E2E_DOWN))
			return ZTP_EMALFORMED;
		t.len = ZTP_E2E_KI_LEN;
		t.dir = (enum ztp_e2e_dir)b[1];
		t.sid = get32(b + 2);
		t.epoch = get32(b + 6);
		for (i = 0; i < 6; i++)
			t.counter = t.counter << 8 | b[10 + i];
	} else if ((b[0] >> 4) == 2) {
		if (len < ZTP_E2E_KI_SHORT_LEN)
			return ZTP_EMALFORMED;
		t.len = ZTP_E2E_KI_SHORT_LEN;
		t.dir = ZTP_E2E_UP;
		t.sid = get32(b + 1);
		t.epoch = (uint32_t)b[5] << 8 | b[6];
		t.counter = get32(b + 7);
	} else {
		return ZTP_EMALFORMED;
	}
	if (t.sid == 0 || t.epoch == 0)
		return ZTP_EMALFORMED;
	*k = t;
	return 0;
}

int
ztp_e2e_params(const struct ztp_crypto *c, const uint8_t svc[ZTP_SVC_LEN], const uint8_t *ki,
    size_t kilen, uint8_t key[ZTP_E2E_KEY_LEN], uint8_t nonce[ZTP_E2E_NONCE_LEN])
{
	uint8_t okm[ZTP_E2E_KEY_LEN + ZTP_E2E_NONCE_LEN];
	struct ztp_iov info[2] = { { "ztp e2e", 7 }, { ki, kilen } };
	int rc;

	rc = ztp_hkdf_expand(c, svc, ZTP_SVC_LEN, info, 2, okm, sizeof(okm));
	if (rc == 0) {
		memcpy(key, okm, ZTP_E2E_KEY_LEN);
		memcpy(nonce, okm + ZTP_E2E_KEY_LEN, ZTP_E2E_NONCE_LEN);
	}
	ztp_wipe(okm, sizeof(okm));
	return rc;
}

int
ztp_e2e_seal_with(const struct ztp_crypto *c, const uint8_t svc[ZTP_SVC_LEN],
    const struct ztp_e2e_ki *k, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
    size_t *outlen)
{
	uint8_t key[ZTP_E2E_KEY_LEN], nonce[ZTP_E2E_NONCE_LEN];
	size_t kilen = 0;
	int rc;

	if (len > ZTP_E2E_DATA_MAX)
		return ZTP_ETOOBIG;
	if (cap < ZTP_E2E_KI_LEN || cap - ZTP_E2E_KI_LEN < len + 16)
		return ZTP_ETOOBIG;
	if ((rc = ztp_e2e_ki_encode(k, out, &kilen)) != 0)
		return rc;
	rc = ztp_e2e_params(c, svc, out, kilen, key, nonce);
	if (rc == 0)
		rc = ztp_aes128_ccm_seal(c, key, nonce, sizeof(nonce), NULL, 0, in, len, k->mac_len,
		    out + kilen);
	ztp_wipe(key, sizeof(key));
	if (rc == 0)
		*outlen = kilen + len + k->mac_len;
	return rc;
}

int
ztp_e2e_open_with(const struct ztp_crypto *c, const uint8_t svc[ZTP_SVC_LEN],
    const uint8_t *data, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t key[ZTP_E2E_KEY_LEN], nonce[ZTP_E2E_NONCE_LEN];
	struct ztp_e2e_ki k;
	size_t n;
	int rc;

	if ((rc = ztp_e2e_ki_parse(data, len, &k)) != 0)
		return rc;
	if (len - k.len < k.mac_len)
		return ZTP_EMALFORMED;
	n = len - k.len - k.mac_len;
	if (n > cap)
		return ZTP_ETOOBIG;
	rc = ztp_e2e_params(c, svc, data, k.len, key, nonce);
	if (rc == 0)
		rc = ztp_aes128_ccm_open(c, key, nonce, sizeof(nonce), NULL, 0, data + k.len,
		    len - k.len, k.mac_len, out);
	ztp_wipe(key, sizeof(key));
	if (rc == 0)
		*outlen = n;
	return rc;
}

/* ---- the module's side */

static int
feature_on(const struct ztp_rot *r, uint32_t f)
{
	return (r->features & f) != 0;
}

/* The current key's S(e): the services need the bootstrap and the server's id. */
static int
current_svc(const struct ztp_rot *r, const struct ztp_crypto *c, uint8_t svc[ZTP_SVC_LEN])
{
	if (!ztp_rot_bootstrapped(r) || r->sid == 0)
		return ZTP_ECONFLICT;
	return ztp_svc_root(c, r->key, r->epoch, svc);
}

int
ztp_rot_psk_new(const struct ztp_rot *r, const struct ztp_crypto *c, size_t psk_len,
    uint8_t id[ZTP_PSK_ID_LEN], uint8_t *psk)
{
	uint8_t svc[ZTP_SVC_LEN];
	int rc;

	if (psk_len != 16 && psk_len != 32)
		return ZTP_EINVAL;
	if ((rc = current_svc(r, c, svc)) != 0)
		return rc;
	if (!feature_on(r, MODMSG_F_PSK)) {
		rc = ZTP_EAUTH;
		goto out;
	}
	id[0] = PSK_ID_MAGIC;
	id[1] = psk_len == 16 ? 0x01 : 0x02;
	put32(id + 2, r->sid);
	put32(id + 6, r->epoch);
	if (c->random(c->arg, id + 10, 4) != 0) {
		rc = ZTP_ECRYPTO;
		goto out;
	}
	rc = ztp_psk_derive(c, svc, id, psk, psk_len);
out:
	ztp_wipe(svc, sizeof(svc));
	return rc;
}

int
ztp_rot_e2e_seal(struct ztp_rot *r, const struct ztp_crypto *c, unsigned flags,
    const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen, int *store_first)
{
	uint8_t svc[ZTP_SVC_LEN];
	struct ztp_e2e_ki k;
	int rc;

	*store_first = 0;
	if ((rc = current_svc(r, c, svc)) != 0)
		return rc;
	if (!feature_on(r, MODMSG_F_E2E)) {
		rc = ZTP_EAUTH;
		goto out;
	}
	memset(&k, 0, sizeof(k));
	k.len = flags & ZTP_E2E_SHORT ? ZTP_E2E_KI_SHORT_LEN : ZTP_E2E_KI_LEN;
	k.mac_len = flags & ZTP_E2E_MAC8 ? 8 : 16;
	k.dir = ZTP_E2E_UP;
	k.sid = r->sid;
	k.epoch = r->epoch;
	k.counter = r->e2e_next;
	if (r->e2e_next > ZTP_ROT_E2E_CTR_MAX - ZTP_E2E_RESERVE) {
		rc = ZTP_ERANGE;
		goto out;
	}
	/* the counter is used only once a mark above it is stored */
	if (r->e2e_next >= r->e2e_mark) {
		r->e2e_mark = r->e2e_next + ZTP_E2E_RESERVE;
		*store_first = 1;
	}
	rc = ztp_e2e_seal_with(c, svc, &k, in, len, out, cap, outlen);
	if (rc == 0)
		r->e2e_next++;
out:
	ztp_wipe(svc, sizeof(svc));
	return rc;
}

int
ztp_rot_e2e_open(struct ztp_rot *r, const struct ztp_crypto *c, const uint8_t *data,
    size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t svc[ZTP_SVC_LEN];
	struct ztp_e2e_ki k;
	int rc;

	if (!ztp_rot_bootstrapped(r) || r->sid == 0)
		return ZTP_ECONFLICT;
	if (!feature_on(r, MODMSG_F_E2E))
		return ZTP_EAUTH;
	if (ztp_e2e_ki_parse(data, len, &k) != 0 || k.dir != ZTP_E2E_DOWN || k.sid != r->sid)
		return ZTP_EMALFORMED;
	if (k.epoch == r->epoch)
		rc = ztp_svc_root(c, r->key, r->epoch, svc);
	else if (r->pending && k.epoch == r->pending_epoch)
		rc = ztp_svc_root(c, r->pending_key, r->pending_epoch, svc);
	else
		return ZTP_ENOENT;
	if (rc == 0 && k.counter <= r->down_last)
		rc = ZTP_EEXIST;
	if (rc == 0)
		rc = ztp_e2e_open_with(c, svc, data, len, out, cap, outlen);
	if (rc == 0)
		r->down_last = k.counter;
	ztp_wipe(svc, sizeof(svc));
	return rc;
}

/* ---- local data protection */

int
ztp_rot_local_setup(struct ztp_rot *r, const struct ztp_crypto *c)
{
	static const uint8_t zero[ZTP_ROT_KEY_LEN];

	if (!ztp_ct_equal(r->local, zero, sizeof(zero)))
		return 0;
	if (c->random(c->arg, r->local, sizeof(r->local)) != 0) {
		ztp_wipe(r->local, sizeof(r->local));
		return ZTP_ECRYPTO;
	}
	return 1;
}

/* May local data protection run now? Counts a trial before the bootstrap. */
static int
local_allowed(struct ztp_rot *r)
{
	static const uint8_t zero[ZTP_ROT_KEY_LEN];

	if (ztp_ct_equal(r->local, zero, sizeof(zero)))
		return ZTP_ECONFLICT;
	if (ztp_rot_bootstrapped(r))
		return feature_on(r, MODMSG_F_LOCAL_DATA) ? 0 : ZTP_EAUTH;
	if (r->local_trial >= ZTP_LOCAL_TRIAL_MAX)
		return ZTP_EAUTH;
	r->local_trial++;
	return 0;
}

/* The file key and the associated data (the header and the name). */
static int
local_key(const struct ztp_rot *r, const struct ztp_crypto *c, uint8_t key[16])
{
	struct ztp_iov info[2] = { { "ztp local", 9 }, { r->uid, ZTP_ROT_UID_LEN } };

	return ztp_hkdf_expand(c, r->local, ZTP_ROT_KEY_LEN, info, 2, key, 16);
}

/* aad = header(3) || name; at most 3 + 255 bytes */
static int
local_aad(const char *name, size_t namelen, uint8_t aad[3 + 255], size_t *aadlen)
{
	if (name == NULL || namelen == 0 || namelen > 255)
		return ZTP_EINVAL;
	aad[0] = LOCAL_MAGIC0;
	aad[1] = LOCAL_MAGIC1;
	aad[2] = LOCAL_VERSION;
	memcpy(aad + 3, name, namelen);
	*aadlen = 3 + namelen;
	return 0;
}

int
ztp_rot_local_seal(struct ztp_rot *r, const struct ztp_crypto *c, const char *name,
    size_t namelen, const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t key[16], aad[3 + 255];
	size_t aadlen;
	int rc;

	if ((rc = local_aad(name, namelen, aad, &aadlen)) != 0)
		return rc;
	if (cap < ZTP_LOCAL_OVERHEAD || cap - ZTP_LOCAL_OVERHEAD < len)
		return ZTP_ETOOBIG;
	if ((rc = local_allowed(r)) != 0)
		return rc;
	memcpy(out, aad, 3);
	if (c->random(c->arg, out + 3, 12) != 0)
		return ZTP_ECRYPTO;
	if ((rc = local_key(r, c, key)) == 0)
		rc = ztp_aes128_ccm_seal(c, key, out + 3, 12, aad, aadlen, in, len, LOCAL_TAG,
		    out + 15);
	ztp_wipe(key, sizeof(key));
	if (rc == 0)
		*outlen = len + ZTP_LOCAL_OVERHEAD;
	return rc;
}

int
ztp_rot_local_open(struct ztp_rot *r, const struct ztp_crypto *c, const char *name,
    size_t namelen, const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t key[16], aad[3 + 255];
	size_t aadlen;
	int rc;

	if ((rc = local_aad(name, namelen, aad, &aadlen)) != 0)
		return rc;
	if (in == NULL || len < ZTP_LOCAL_OVERHEAD || memcmp(in, aad, 3) != 0)
		return ZTP_EMALFORMED;
	if (len - ZTP_LOCAL_OVERHEAD > cap)
		return ZTP_ETOOBIG;
	if ((rc = local_allowed(r)) != 0)
		return rc;
	if ((rc = local_key(r, c, key)) == 0)
		rc = ztp_aes128_ccm_open(c, key, in + 3, 12, aad, aadlen, in + 15, len - 15, LOCAL_TAG,
		    out);
	ztp_wipe(key, sizeof(key));
	if (rc == 0)
		*outlen = len - ZTP_LOCAL_OVERHEAD;
	return rc;
}
