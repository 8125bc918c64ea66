/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The chip-to-chip channel (ztp/c2c.h): frames, the streaming decoder, the
 * pairing table, the module's key derivation, the host's commands.
 *
 * The decoder keeps at most one frame's bytes in the caller's buffer, the
 * candidate frame always at buf[0] (a start flag). Its states are implicit
 * in what is buffered: nothing; a start flag without LEN (need bytes); LEN
 * known and checked (need the rest); whole (judge it). Every verdict frees
 * at least one byte, so it never loops, and a candidate is at most
 * ZTP_C2C_FRAME_MAX bytes, so it never waits for more than the buffer holds.
 */
#include <string.h>

#include "hex.h"
#include "num.h"
#include "ztp/c2c.h"
#include "ztp/err.h"

#define PREFIX "+USECC2C:"
#define DERIVE_INFO "ztp c2c v2"

uint16_t
ztp_c2c_fcs16(const uint8_t *p, size_t n)
{
	uint16_t fcs = 0xFFFF;
	int b;

	while (n-- > 0) {
		fcs ^= *p++;
		for (b = 0; b < 8; b++)
			fcs = (fcs & 1) ? (uint16_t)((fcs >> 1) ^ 0x8408) : (uint16_t)(fcs >> 1);
	}
	return (uint16_t)~fcs;
}

static size_t
padded(size_t len)
{
	return (len / ZTP_AES_BLOCK + 1) * ZTP_AES_BLOCK;
}

/* Body bytes around the padded clear text. */
static size_t
body_extra(int version)
{
	return version == 1 ? ZTP_SHA256_LEN + ZTP_AES_BLOCK : ZTP_AES_BLOCK + ZTP_C2C_TAG_LEN;
}

size_t
ztp_c2c_frame_len(int version, size_t len)
{
	if ((version != 1 && version != 2) || len > ZTP_C2C_CHUNK_MAX)
		return 0;
	return ZTP_C2C_OVERHEAD + padded(len) + body_extra(version);
}

size_t
ztp_c2c_msg_len(int version, size_t len)
{
	size_t full = len / ZTP_C2C_CHUNK_MAX, rest = len % ZTP_C2C_CHUNK_MAX;

	return full * ztp_c2c_frame_len(version, ZTP_C2C_CHUNK_MAX) +
	    (rest > 0 ? ztp_c2c_frame_len(version, rest) : 0);
}

static void
put_le16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v & 0xFF);
	p[1] = (uint8_t)(v >> 8);
}

static size_t
get_le16(const uint8_t *p)
{
	return (size_t)p[0] | (size_t)p[1] << 8;
}

/* The truncated MAC of version 2: HMAC(hmac_key, p[0..n) | te_secret)[0..16). */
static int
mac_v2(const struct ztp_crypto *c, const struct ztp_c2c_keys *k, const uint8_t *p, size_t n,
    uint8_t tag[ZTP_C2C_TAG_LEN])
{
	struct ztp_iov v[2] = { { p, n }, { k->te_secret, ZTP_C2C_TE_SECRET_LEN } };
	uint8_t full[ZTP_SHA256_LEN];
	int rc;

	rc = ztp_hmac_sha256(c, k->hmac_key, ZTP_C2C_HMAC_KEY_LEN, v, 2, full);
	memcpy(tag, full, ZTP_C2C_TAG_LEN);
	ztp_wipe(full, sizeof(full));
	return rc;
}

/*
 * A version 2 body at out: IV | AES-CBC(pad(out+16's len clear bytes)) | MAC.
 * The clear text is already at out + 16; cap counts from out. *blen: the body's length.
 */
static int
seal_v2(const struct ztp_crypto *c, const struct ztp_c2c_keys *k, const uint8_t iv[16],
    uint8_t *out, size_t len, size_t cap, size_t *blen)
{
	uint8_t *p = out + ZTP_AES_BLOCK;
	size_t plen;
	int rc;

	if ((rc = ztp_pkcs7_pad(p, len, cap - ZTP_AES_BLOCK, &plen)) != 0)
		return rc;
	memcpy(out, iv, ZTP_AES_BLOCK);
	if ((rc = ztp_aes128_cbc_encrypt(c, k->key, iv, p, plen, p)) != 0)
		return rc;
	if ((rc = mac_v2(c, k, out, ZTP_AES_BLOCK + plen, p + plen)) != 0)
		return rc;
	*blen = ZTP_AES_BLOCK + plen + ZTP_C2C_TAG_LEN;
	return 0;
}

/* A version 1 body at out: AES-CBC(pad(P) | SHA-256(pad(P))) | IV, P at out. */
static int
seal_v1(const struct ztp_crypto *c, const struct ztp_c2c_keys *k, const uint8_t iv[16],
    uint8_t *out, size_t len, size_t cap, size_t *blen)
{
	struct ztp_iov v;
	size_t plen;
	int rc;

	if ((rc = ztp_pkcs7_pad(out, len, cap, &plen)) != 0)
		return rc;
	v.p = out;
	v.n = plen;
	if (c->sha256(c->arg, &v, 1, out + plen) != 0)
		return ZTP_ECRYPTO;
	memcpy(out + plen + ZTP_SHA256_LEN, iv, ZTP_AES_BLOCK);
	rc = ztp_aes128_cbc_encrypt(c, k->key, iv, out, plen + ZTP_SHA256_LEN, out);
	*blen = plen + ZTP_SHA256_LEN + ZTP_AES_BLOCK;
	return rc;
}

static int
keys_valid(const struct ztp_crypto *c, const struct ztp_c2c_keys *k)
{
	return c != NULL && k != NULL && (k->version == 1 || k->version == 2);
}

int
ztp_c2c_frame_encode(const struct ztp_crypto *c, const struct ztp_c2c_keys *k,
    const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t rnd[ZTP_AES_BLOCK];
	size_t need = ztp_c2c_frame_len(k != NULL ? k->version : 0, len), at, blen = 0;
	int rc;

	if (!keys_valid(c, k) || need == 0 || (in == NULL && len > 0) || out == NULL)
		return ZTP_EINVAL;
	if (cap < need)
		return ZTP_ETOOBIG;
	if (iv == NULL) {
		if (c->random(c->arg, rnd, sizeof(rnd)) != 0)
			return ZTP_ECRYPTO;
		iv = rnd;
	}
	at = k->version == 2 ? 3 + ZTP_AES_BLOCK : 3;
	memmove(out + at, in, len);
	if (k->version == 2)
		rc = seal_v2(c, k, iv, out + 3, len, need - ZTP_C2C_OVERHEAD, &blen);
	else
		rc = seal_v1(c, k, iv, out + 3, len, need - ZTP_C2C_OVERHEAD, &blen);
	if (rc != 0) {
		ztp_wipe(out, need);
		return rc;
	}
	out[0] = ZTP_C2C_FLAG;
	put_le16(out + 1, blen);
	put_le16(out + 3 + blen, ztp_c2c_fcs16(out + 1, 2 + blen));
	out[3 + blen + 2] = ZTP_C2C_FLAG;
	*outlen = need;
	return 0;
}

int
ztp_c2c_encode(const struct ztp_crypto *c, const struct ztp_c2c_keys *k, const uint8_t *ivs,
    size_t niv, const uint8_t *msg, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t off = 0, n, flen, i = 0;
	int rc;

	if (outlen == NULL || !keys_valid(c, k) || (msg == NULL && len > 0) ||
	    (out == NULL && len > 0))
		return ZTP_EINVAL;
	*outlen = 0;
	if (ivs != NULL && niv < (len + ZTP_C2C_CHUNK_MAX - 1) / ZTP_C2C_CHUNK_MAX)
		return ZTP_EINVAL;
	if (cap < ztp_c2c_msg_len(k->version, len))
		return ZTP_ETOOBIG;
	while (len > 0) {
		n = len < ZTP_C2C_CHUNK_MAX ? len : ZTP_C2C_CHUNK_MAX;
		rc = ztp_c2c_frame_encode(c, k, ivs != NULL ? ivs + i * ZTP_AES_BLOCK : NULL, msg, n,
		    out + off, cap - off, &flen);
		if (rc != 0) {
			ztp_wipe(out, off);
			return rc;
		}
		off += flen;
		msg += n;
		len -= n;
		i++;
	}
	*outlen = off;
	return 0;
}

/*
 * Open a version 2 body b[0..blen) in place: MAC first (constant time),
 * then decrypt and unpad. The clear text is at b + 16, *clen bytes.
 */
static enum ztp_c2c_fault
open_v2(const struct ztp_crypto *c, const struct ztp_c2c_keys *k, uint8_t *b, size_t blen,
    size_t *clen)
{
	uint8_t tag[ZTP_C2C_TAG_LEN];
	size_t n = blen - ZTP_AES_BLOCK - ZTP_C2C_TAG_LEN;
	int ok;

	if (mac_v2(c, k, b, blen - ZTP_C2C_TAG_LEN, tag) != 0)
		return ZTP_C2C_F_CRYPTO;
	ok = ztp_ct_equal(tag, b + blen - ZTP_C2C_TAG_LEN, ZTP_C2C_TAG_LEN);
	ztp_wipe(tag, sizeof(tag));
	if (!ok)
		return ZTP_C2C_F_MAC;
	if (ztp_aes128_cbc_decrypt(c, k->key, b, b + ZTP_AES_BLOCK, n, b + ZTP_AES_BLOCK) != 0)
		return ZTP_C2C_F_CRYPTO;
	return ztp_pkcs7_unpad(b + ZTP_AES_BLOCK, n, clen) == 0 ? ZTP_C2C_F_NONE : ZTP_C2C_F_PAD;
}

/* Open a version 1 body in place: decrypt, check the hash, unpad. Clear text at b. */
static enum ztp_c2c_fault
open_v1(const struct ztp_crypto *c, const struct ztp_c2c_keys *k, uint8_t *b, size_t blen,
    size_t *clen)
{
	uint8_t h[ZTP_SHA256_LEN], iv[ZTP_AES_BLOCK];
	size_t n = blen - ZTP_AES_BLOCK, plen = n - ZTP_SHA256_LEN;
	struct ztp_iov v = { b, plen };
	int ok;

	memcpy(iv, b + n, ZTP_AES_BLOCK);
	if (ztp_aes128_cbc_decrypt(c, k->key, iv, b, n, b) != 0 || c->sha256(c->arg, &v, 1, h) != 0)
		return ZTP_C2C_F_CRYPTO;
	ok = ztp_ct_equal(h, b + plen, ZTP_SHA256_LEN);
	ztp_wipe(h, sizeof(h));
	if (!ok)
		return ZTP_C2C_F_MAC;
	return ztp_pkcs7_unpad(b, plen, clen) == 0 ? ZTP_C2C_F_NONE : ZTP_C2C_F_PAD;
}

const char *
ztp_c2c_fault_str(enum ztp_c2c_fault f)
{
	switch (f) {
	case ZTP_C2C_F_NONE:
		return "no fault";
	case ZTP_C2C_F_SHORT:
		return "LEN too short for the version";
	case ZTP_C2C_F_LONG:
		return "LEN over the longest body";
	case ZTP_C2C_F_ALIGN:
		return "encrypted part not a multiple of 16";
	case ZTP_C2C_F_FCS:
		return "bad FCS";
	case ZTP_C2C_F_END:
		return "no end flag";
	case ZTP_C2C_F_CUT:
		return "frame cut short by the next";
	case ZTP_C2C_F_MAC:
		return "bad MAC";
	case ZTP_C2C_F_PAD:
		return "bad padding";
	case ZTP_C2C_F_CRYPTO:
		return "crypto failure";
	}
	return "unknown fault";
}

/* ---- the streaming decoder ---- */

int
ztp_c2c_dec_init(struct ztp_c2c_dec *d, const struct ztp_crypto *c,
    const struct ztp_c2c_keys *k, uint8_t *buf, size_t cap)
{
	if (d == NULL || !keys_valid(c, k) || buf == NULL || cap < ZTP_C2C_FRAME_MAX)
		return ZTP_EINVAL;
	memset(d, 0, sizeof(*d));
	d->c = c;
	d->k = k;
	d->buf = buf;
	d->cap = cap;
	return 0;
}

void
ztp_c2c_dec_reset(struct ztp_c2c_dec *d)
{
	if (d == NULL || d->buf == NULL)
		return;
	ztp_wipe(d->buf, d->len);
	d->len = 0;
}

/* Drop the first n buffered bytes. */
static void
drop(struct ztp_c2c_dec *d, size_t n)
{
	memmove(d->buf, d->buf + n, d->len - n);
	ztp_wipe(d->buf + d->len - n, n);
	d->len -= n;
}

/* What LEN alone says of a frame of this version. */
static enum ztp_c2c_fault
check_len(int version, size_t blen)
{
	if (blen > 256 + body_extra(version))
		return ZTP_C2C_F_LONG;
	if (blen < ZTP_AES_BLOCK + body_extra(version))
		return ZTP_C2C_F_SHORT;
	if (blen % ZTP_AES_BLOCK != 0) /* body_extra is whole blocks */
		return ZTP_C2C_F_ALIGN;
	return ZTP_C2C_F_NONE;
}

/* A whole frame at p (its LEN checked, all its bytes there): FCS and end flag. */
static enum ztp_c2c_fault
check_whole(const uint8_t *p)
{
	size_t blen = get_le16(p + 1);

	if (ztp_c2c_fcs16(p + 1, 2 + blen) != get_le16(p + 3 + blen))
		return ZTP_C2C_F_FCS;
	if (p[3 + blen + 2] != ZTP_C2C_FLAG)
		return ZTP_C2C_F_END;
	return ZTP_C2C_F_NONE;
}

/* 1 if p[0..avail) starts with a whole frame that passes every check but the crypto. */
static int
whole_at(int version, const uint8_t *p, size_t avail)
{
	size_t blen;

	if (avail < 3 || p[0] != ZTP_C2C_FLAG)
		return 0;
	blen = get_le16(p + 1);
	if (check_len(version, blen) != ZTP_C2C_F_NONE || avail < blen + ZTP_C2C_OVERHEAD)
		return 0;
	return check_whole(p) == ZTP_C2C_F_NONE;
}

static int
reject(struct ztp_c2c_dec *d, enum ztp_c2c_fault f, size_t n)
{
	d->fault = f;
	drop(d, n);
	switch (f) {
	case ZTP_C2C_F_LONG:
		return ZTP_ETOOBIG;
	case ZTP_C2C_F_MAC:
		return ZTP_EAUTH;
	case ZTP_C2C_F_CRYPTO:
		return ZTP_ECRYPTO;
	default:
		return ZTP_EMALFORMED;
	}
}

/* The whole, well-formed frame at buf[0]: its clear text into out, then drop it. */
static int
open_frame(struct ztp_c2c_dec *d, uint8_t *out, size_t *outlen)
{
	size_t blen = get_le16(d->buf + 1), clen = 0;
	uint8_t *b = d->buf + 3;
	enum ztp_c2c_fault f;

	if (d->k->version == 2)
		f = open_v2(d->c, d->k, b, blen, &clen);
	else
		f = open_v1(d->c, d->k, b, blen, &clen);
	if (f != ZTP_C2C_F_NONE)
		return reject(d, f, blen + ZTP_C2C_OVERHEAD);
	memcpy(out, d->k->version == 2 ? b + ZTP_AES_BLOCK : b, clen);
	*outlen = clen;
	drop(d, blen + ZTP_C2C_OVERHEAD);
	return 1;
}

/* One verdict on what is buffered: 1 frame, 0 need more, < 0 rejected. */
static int
step(struct ztp_c2c_dec *d, uint8_t *out, size_t *outlen)
{
	int v = d->k->version;
	enum ztp_c2c_fault f;
	size_t i, blen;

	for (i = 0; i < d->len && d->buf[i] != ZTP_C2C_FLAG; i++)
		;
	drop(d, i);
	if (d->len < 3)
		return 0;
	blen = get_le16(d->buf + 1);
	if ((f = check_len(v, blen)) != ZTP_C2C_F_NONE)
		return reject(d, f, 1);
	if (d->len < blen + ZTP_C2C_OVERHEAD) {
		for (i = 1; i < d->len; i++)
			if (whole_at(v, d->buf + i, d->len - i))
				return reject(d, ZTP_C2C_F_CUT, i);
		return 0;
	}
	if ((f = check_whole(d->buf)) != ZTP_C2C_F_NONE)
		return reject(d, f, 1);
	return open_frame(d, out, outlen);
}

int
ztp_c2c_dec_push(struct ztp_c2c_dec *d, const uint8_t *in, size_t len, size_t *used,
    uint8_t *out, size_t cap, size_t *outlen)
{
	size_t take;
	int rc;

	if (used == NULL || outlen == NULL)
		return ZTP_EINVAL;
	*used = 0;
	*outlen = 0;
	if (d == NULL || d->buf == NULL || (in == NULL && len > 0) || out == NULL ||
	    cap < ZTP_C2C_CHUNK_MAX)
		return ZTP_EINVAL;
	d->fault = ZTP_C2C_F_NONE;
	for (;;) {
		take = d->cap - d->len;
		if (take > len - *used)
			take = len - *used;
		if (take > 0)
			memcpy(d->buf + d->len, in + *used, take);
		d->len += take;
		*used += take;
		/* 0 leaves room in the buffer: the loop takes more or ends */
		if ((rc = step(d, out, outlen)) != 0 || *used == len)
			return rc;
	}
}

/* ---- the confirmation of a pairing ---- */

int
ztp_c2c_confirm_encrypt(const struct ztp_crypto *c, const struct ztp_c2c_keys *k,
    const uint8_t *iv, const uint8_t tag[ZTP_C2C_TAG_LEN], uint8_t out[ZTP_C2C_ENC_TAG_LEN])
{
	uint8_t rnd[ZTP_AES_BLOCK];
	size_t blen = 0;
	int rc;

	if (!keys_valid(c, k) || k->version != 2 || tag == NULL || out == NULL)
		return ZTP_EINVAL;
	if (iv == NULL) {
		if (c->random(c->arg, rnd, sizeof(rnd)) != 0)
			return ZTP_ECRYPTO;
		iv = rnd;
	}
	memcpy(out + ZTP_AES_BLOCK, tag, ZTP_C2C_TAG_LEN);
	rc = seal_v2(c, k, iv, out, ZTP_C2C_TAG_LEN, ZTP_C2C_ENC_TAG_LEN, &blen);
	if (rc != 0)
		ztp_wipe(out, ZTP_C2C_ENC_TAG_LEN);
	return rc;
}

int
ztp_c2c_confirm_check(const struct ztp_crypto *c, const struct ztp_c2c_keys *k,
    const uint8_t *enc, size_t len, const uint8_t tag[ZTP_C2C_TAG_LEN])
{
	uint8_t b[ZTP_C2C_ENC_TAG_LEN];
	size_t clen = 0;
	enum ztp_c2c_fault f;
	int rc;

	if (!keys_valid(c, k) || k->version != 2 || tag == NULL || (enc == NULL && len > 0))
		return ZTP_EINVAL;
	if (len != ZTP_C2C_ENC_TAG_LEN)
		return ZTP_EMALFORMED;
	memcpy(b, enc, len);
	f = open_v2(c, k, b, len, &clen);
	if (f == ZTP_C2C_F_CRYPTO)
		rc = ZTP_ECRYPTO;
	else if (f != ZTP_C2C_F_NONE || clen != ZTP_C2C_TAG_LEN ||
	    !ztp_ct_equal(b + ZTP_AES_BLOCK, tag, ZTP_C2C_TAG_LEN))
		rc = ZTP_EAUTH;
	else
		rc = 0;
	ztp_wipe(b, sizeof(b));
	return rc;
}

/* ---- the pairing table ---- */

static const uint8_t table_magic[4] = { 'Z', 'C', '2', 'C' };

int
ztp_c2c_table_find(const struct ztp_c2c_table *t, const uint8_t te[ZTP_C2C_TE_SECRET_LEN],
    const char *term, size_t tlen)
{
	const struct ztp_c2c_pairing *p;
	int i;

	if (t == NULL || te == NULL || (term == NULL && tlen > 0) || tlen > ZTP_C2C_TERM_MAX)
		return ZTP_EINVAL;
	for (i = 0; i < ZTP_C2C_PAIRINGS; i++) {
		p = &t->p[i];
		if (p->state != ZTP_C2C_FREE && p->term_len == tlen &&
		    memcmp(p->term, term, tlen) == 0 &&
		    ztp_ct_equal(p->te_secret, te, ZTP_C2C_TE_SECRET_LEN))
			return i;
	}
	return ZTP_ENOENT;
}

int
ztp_c2c_table_slot(const struct ztp_c2c_table *t, const uint8_t te[ZTP_C2C_TE_SECRET_LEN],
    const char *term, size_t tlen)
{
	int i = ztp_c2c_table_find(t, te, term, tlen);

	if (i != ZTP_ENOENT)
		return i;
	for (i = 0; i < ZTP_C2C_PAIRINGS; i++)
		if (t->p[i].state == ZTP_C2C_FREE)
			return i;
	return ZTP_ETOOBIG;
}

void
ztp_c2c_table_save(const struct ztp_c2c_table *t, uint8_t out[ZTP_C2C_TABLE_BYTES])
{
	const struct ztp_c2c_pairing *p;
	uint8_t *o = out;
	int i;

	memset(out, 0, ZTP_C2C_TABLE_BYTES);
	memcpy(o, table_magic, 4);
	o[4] = (uint8_t)(t->trials >> 8);
	o[5] = (uint8_t)(t->trials & 0xFF);
	o += 6;
	for (i = 0; i < ZTP_C2C_PAIRINGS; i++, o += ZTP_C2C_REC_BYTES) {
		p = &t->p[i];
		if (p->state == ZTP_C2C_FREE)
			continue;
		o[0] = p->state;
		memcpy(o + 1, p->te_secret, ZTP_C2C_TE_SECRET_LEN);
		o[17] = p->term_len;
		memcpy(o + 18, p->term, p->term_len <= ZTP_C2C_TERM_MAX ? p->term_len : 0);
		memcpy(o + 18 + ZTP_C2C_TERM_MAX, p->slave, ZTP_C2C_SLAVE_LEN);
	}
	put_le16(o, ztp_c2c_fcs16(out, ZTP_C2C_TABLE_BYTES - 2));
}

/* One record at r into p: a known state, a printable name, zeros after it and in a free record. */
static int
load_rec(struct ztp_c2c_pairing *p, const uint8_t *r)
{
	size_t i, tlen = r[17];

	if (r[0] > ZTP_C2C_PAIRED || tlen > ZTP_C2C_TERM_MAX)
		return ZTP_EMALFORMED;
	for (i = 0; i < ZTP_C2C_REC_BYTES; i++)
		if (r[0] == ZTP_C2C_FREE && r[i] != 0)
			return ZTP_EMALFORMED;
	for (i = 0; i < ZTP_C2C_TERM_MAX; i++) {
		uint8_t ch = r[18 + i];

		if (i < tlen ? (ch < 0x20 || ch > 0x7E) : ch != 0)
			return ZTP_EMALFORMED;
	}
	p->state = r[0];
	memcpy(p->te_secret, r + 1, ZTP_C2C_TE_SECRET_LEN);
	p->term_len = (uint8_t)tlen;
	memcpy(p->term, r + 18, ZTP_C2C_TERM_MAX);
	memcpy(p->slave, r + 18 + ZTP_C2C_TERM_MAX, ZTP_C2C_SLAVE_LEN);
	return 0;
}

int
ztp_c2c_table_load(struct ztp_c2c_table *t, const uint8_t *buf, size_t len)
{
	const uint8_t *r;
	int i;

	if (t == NULL)
		return ZTP_EINVAL;
	memset(t, 0, sizeof(*t));
	if (buf == NULL || len != ZTP_C2C_TABLE_BYTES || memcmp(buf, table_magic, 4) != 0 ||
	    ztp_c2c_fcs16(buf, len - 2) != get_le16(buf + len - 2))
		return ZTP_EMALFORMED;
	t->trials = (uint16_t)(buf[4] << 8 | buf[5]);
	for (i = 0, r = buf + 6; i < ZTP_C2C_PAIRINGS; i++, r += ZTP_C2C_REC_BYTES) {
		/* a pairing twice would make find() ambiguous */
		if (load_rec(&t->p[i], r) != 0 ||
		    (t->p[i].state != ZTP_C2C_FREE &&
			ztp_c2c_table_find(t, t->p[i].te_secret, t->p[i].term, t->p[i].term_len) != i))
			goto bad;
	}
	return 0;
bad:
	ztp_wipe(t, sizeof(*t));
	return ZTP_EMALFORMED;
}

int
ztp_c2c_derive(const struct ztp_crypto *c, const uint8_t *module_secret, size_t mlen,
    const uint8_t slave[ZTP_C2C_SLAVE_LEN], struct ztp_c2c_keys *k,
    uint8_t tag[ZTP_C2C_TAG_LEN])
{
	struct ztp_iov ikm = { module_secret, mlen };
	struct ztp_iov info = { DERIVE_INFO, sizeof(DERIVE_INFO) - 1 };
	uint8_t prk[ZTP_SHA256_LEN], okm[48];
	int rc;

	if (c == NULL || (module_secret == NULL && mlen > 0) || slave == NULL || k == NULL ||
	    tag == NULL)
		return ZTP_EINVAL;
	/* HKDF-Extract: the salt is the HMAC key */
	rc = ztp_hmac_sha256(c, slave, ZTP_C2C_SLAVE_LEN, &ikm, 1, prk);
	if (rc == 0)
		rc = ztp_hkdf_expand(c, prk, sizeof(prk), &info, 1, okm, sizeof(okm));
	if (rc == 0) {
		k->version = 2;
		memcpy(k->key, okm, ZTP_C2C_KEY_LEN);
		memcpy(k->hmac_key, okm + 16, ZTP_C2C_HMAC_KEY_LEN);
		memcpy(tag, okm + 32, ZTP_C2C_TAG_LEN);
	}
	ztp_wipe(prk, sizeof(prk));
	ztp_wipe(okm, sizeof(okm));
	return rc;
}

/* ---- the host's commands and answers ---- */

/* An output string under construction; err once anything did not fit. */
struct sbuf {
	char *p;
	size_t cap, n;
	int err;
};

static void
sb_str(struct sbuf *s, const char *str)
{
	size_t n = strlen(str);

	if (s->err || s->n + n >= s->cap) {
		s->err = 1;
		return;
	}
	memcpy(s->p + s->n, str, n + 1);
	s->n += n;
}

static void
sb_hex(struct sbuf *s, const uint8_t *b, size_t n)
{
	sb_str(s, "\"");
	if (s->err || hex_encode(b, n, s->p + s->n, s->cap - s->n) != 0) {
		s->err = 1;
		return;
	}
	s->n += 2 * n;
	sb_str(s, "\"");
}

int
ztp_c2c_cmd(enum ztp_c2c_op op, const uint8_t te[ZTP_C2C_TE_SECRET_LEN], const uint8_t *enc,
    char *out, size_t cap)
{
	static const char *const heads[] = { "AT+USECC2C=0,", "AT+USECC2C=1,", "AT+USECC2C=2",
		"AT+USECC2C=3", "AT+USECC2C=4," };
	struct sbuf s = { out, cap, 0, 0 };
	int needs_te = op == ZTP_C2C_PAIR || op == ZTP_C2C_OPEN || op == ZTP_C2C_CONFIRM;

	if (out == NULL || cap == 0)
		return ZTP_EINVAL;
	out[0] = '\0';
	if ((unsigned)op > ZTP_C2C_CONFIRM || (needs_te && te == NULL) ||
	    (op == ZTP_C2C_CONFIRM && enc == NULL))
		return ZTP_EINVAL;
	sb_str(&s, heads[op]);
	if (needs_te)
		sb_hex(&s, te, ZTP_C2C_TE_SECRET_LEN);
	if (op == ZTP_C2C_CONFIRM) {
		sb_str(&s, ",");
		sb_hex(&s, enc, ZTP_C2C_ENC_TAG_LEN);
	}
	if (s.err) {
		out[0] = '\0';
		return ZTP_ETOOBIG;
	}
	return 0;
}

/* "<32 hex digits>" at s[*off] into out (16 bytes). */
static int
take_hex16(const char *s, size_t len, size_t *off, uint8_t out[16])
{
	size_t n = 0;

	if (len - *off < 34 || s[*off] != '"' || s[*off + 33] != '"' ||
	    hex_decode(s + *off + 1, 32, out, 16, &n) != 0 || n != 16)
		return ZTP_EMALFORMED;
	*off += 34;
	return 0;
}

/* A number of one digit (0..9) at s[*off]. */
static int
take_digit(const char *s, size_t len, size_t *off, int *v)
{
	uint64_t n;

	if (*off >= len || num_parse_u64(s + *off, 1, 0, 9, &n) != 0)
		return ZTP_EMALFORMED;
	*v = (int)n;
	(*off)++;
	return 0;
}

static int
take_char(const char *s, size_t len, size_t *off, char ch)
{
	if (*off >= len || s[*off] != ch)
		return ZTP_EMALFORMED;
	(*off)++;
	return 0;
}

int
ztp_c2c_answer_parse(const char *line, size_t len, struct ztp_c2c_answer *a)
{
	struct ztp_c2c_answer r;
	size_t off = sizeof(PREFIX) - 1;
	int status = -1;

	if (line == NULL || a == NULL)
		return ZTP_EINVAL;
	if (len < off || memcmp(line, PREFIX, off) != 0)
		return ZTP_ENOENT;
	memset(&r, 0, sizeof(r));
	while (off < len && line[off] == ' ')
		off++;
	if (take_digit(line, len, &off, &r.op) != 0 || take_char(line, len, &off, ',') != 0 ||
	    take_digit(line, len, &off, &status) != 0 || status != 0 ||
	    take_char(line, len, &off, ',') != 0 || take_hex16(line, len, &off, r.key) != 0)
		goto bad;
	r.version = 1;
	if (off < len) {
		if (take_char(line, len, &off, ',') != 0 ||
		    take_hex16(line, len, &off, r.hmac_key) != 0 ||
		    take_char(line, len, &off, ',') != 0 || take_hex16(line, len, &off, r.tag) != 0 ||
		    off != len)
			goto bad;
		r.version = 2;
	}
	*a = r;
	ztp_wipe(&r, sizeof(r));
	return 0;
bad:
	ztp_wipe(&r, sizeof(r));
	return ZTP_EMALFORMED;
}
