/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Modes and constructions over the platform's primitives (symcrypto.h):
 * HMAC (RFC 2104), HKDF-Expand (RFC 5869), CBC, PKCS#7, CCM (RFC 3610).
 */
#include <string.h>

#include "ztp/err.h"
#include "ztp/symcrypto.h"

#define HMAC_BLOCK 64

void
ztp_wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n-- > 0)
		*v++ = 0;
}

int
ztp_ct_equal(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (uint8_t)(x[i] ^ y[i]);
	return d == 0;
}

static int
block(const struct ztp_crypto *c, int enc, const uint8_t key[ZTP_AES128_KEY],
    const uint8_t in[ZTP_AES_BLOCK], uint8_t out[ZTP_AES_BLOCK])
{
	return c->aes128(c->arg, enc, key, in, out) == 0 ? 0 : ZTP_ECRYPTO;
}

int
ztp_hmac_sha256(const struct ztp_crypto *c, const uint8_t *key, size_t keylen,
    const struct ztp_iov *msg, size_t n, uint8_t out[ZTP_SHA256_LEN])
{
	uint8_t pad[HMAC_BLOCK], inner[ZTP_SHA256_LEN];
	struct ztp_iov v[ZTP_IOV_MAX];
	struct ztp_iov k = { key, keylen };
	size_t i;
	int rc = ZTP_ECRYPTO;

	if (c == NULL || (key == NULL && keylen > 0) || n > ZTP_IOV_MAX - 1 ||
	    (msg == NULL && n > 0) || out == NULL)
		return ZTP_EINVAL;
	memset(pad, 0, sizeof(pad));
	if (keylen > HMAC_BLOCK) {
		if (c->sha256(c->arg, &k, 1, pad) != 0)
			goto out;
	} else if (keylen > 0) {
		memcpy(pad, key, keylen);
	}
	for (i = 0; i < HMAC_BLOCK; i++)
		pad[i] ^= 0x36;
	v[0].p = pad;
	v[0].n = HMAC_BLOCK;
	for (i = 0; i < n; i++)
		v[i + 1] = msg[i];
	if (c->sha256(c->arg, v, n + 1, inner) != 0)
		goto out;
	for (i = 0; i < HMAC_BLOCK; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	v[1].p = inner;
	v[1].n = sizeof(inner);
	if (c->sha256(c->arg, v, 2, out) != 0)
		goto out;
	rc = 0;
out:
	ztp_wipe(pad, sizeof(pad));
	ztp_wipe(inner, sizeof(inner));
	return rc;
}

int
ztp_hkdf_expand(const struct ztp_crypto *c, const uint8_t *prk, size_t prklen,
    const struct ztp_iov *info, size_t n, uint8_t *out, size_t outlen)
{
	uint8_t t[ZTP_SHA256_LEN], ctr = 0;
	struct ztp_iov v[ZTP_IOV_MAX];
	size_t i, done = 0, take, m;
	int rc = 0;

	if (c == NULL || prk == NULL || n > ZTP_IOV_MAX - 3 || (info == NULL && n > 0) ||
	    (out == NULL && outlen > 0) || outlen > 255 * ZTP_SHA256_LEN)
		return ZTP_EINVAL;
	while (done < outlen) {
		ctr++;
		m = 0;
		if (ctr > 1) {
			v[m].p = t;
			v[m++].n = sizeof(t);
		}
		for (i = 0; i < n; i++)
			v[m++] = info[i];
		v[m].p = &ctr;
		v[m++].n = 1;
		rc = ztp_hmac_sha256(c, prk, prklen, v, m, t);
		if (rc != 0)
			break;
		take = outlen - done < sizeof(t) ? outlen - done : sizeof(t);
		memcpy(out + done, t, take);
		done += take;
	}
	ztp_wipe(t, sizeof(t));
	if (rc != 0 && out != NULL)
		ztp_wipe(out, outlen);
	return rc;
}

int
ztp_aes128_cbc_encrypt(const struct ztp_crypto *c, const uint8_t key[ZTP_AES128_KEY],
    const uint8_t iv[ZTP_AES_BLOCK], const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t x[ZTP_AES_BLOCK];
	size_t off, i;
	int rc = 0;

	if (c == NULL || key == NULL || iv == NULL || len % ZTP_AES_BLOCK != 0 ||
	    (len > 0 && (in == NULL || out == NULL)))
		return ZTP_EINVAL;
	memcpy(x, iv, sizeof(x));
	for (off = 0; off < len && rc == 0; off += ZTP_AES_BLOCK) {
		for (i = 0; i < ZTP_AES_BLOCK; i++)
			x[i] ^= in[off + i];
		rc = block(c, 1, key, x, x);
		memcpy(out + off, x, ZTP_AES_BLOCK);
	}
	ztp_wipe(x, sizeof(x));
	return rc;
}

int
ztp_aes128_cbc_decrypt(const struct ztp_crypto *c, const uint8_t key[ZTP_AES128_KEY],
    const uint8_t iv[ZTP_AES_BLOCK], const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t prev[ZTP_AES_BLOCK], cur[ZTP_AES_BLOCK], x[ZTP_AES_BLOCK];
	size_t off, i;
	int rc = 0;

	if (c == NULL || key == NULL || iv == NULL || len % ZTP_AES_BLOCK != 0 ||
	    (len > 0 && (in == NULL || out == NULL)))
		return ZTP_EINVAL;
	memcpy(prev, iv, sizeof(prev));
	for (off = 0; off < len && rc == 0; off += ZTP_AES_BLOCK) {
		memcpy(cur, in + off, ZTP_AES_BLOCK); /* in may be out */
		rc = block(c, 0, key, cur, x);
		for (i = 0; i < ZTP_AES_BLOCK; i++)
			out[off + i] = x[i] ^ prev[i];
		memcpy(prev, cur, sizeof(prev));
	}
	ztp_wipe(x, sizeof(x));
	return rc;
}

int
ztp_pkcs7_pad(uint8_t *buf, size_t len, size_t cap, size_t *outlen)
{
	size_t pad = ZTP_AES_BLOCK - len % ZTP_AES_BLOCK;

	if (buf == NULL || outlen == NULL || len > cap || cap - len < pad)
		return ZTP_EINVAL;
	memset(buf + len, (int)pad, pad);
	*outlen = len + pad;
	return 0;
}

int
ztp_pkcs7_unpad(const uint8_t *buf, size_t len, size_t *outlen)
{
	const uint8_t *last;
	uint8_t pad, bad;
	size_t i;

	if (buf == NULL || outlen == NULL || len == 0 || len % ZTP_AES_BLOCK != 0)
		return ZTP_EMALFORMED;
	last = buf + len - ZTP_AES_BLOCK;
	pad = last[ZTP_AES_BLOCK - 1];
	bad = (uint8_t)((pad == 0) | (pad > ZTP_AES_BLOCK));
	/* every byte of the last block that padding would cover must equal pad */
	for (i = 0; i < ZTP_AES_BLOCK; i++) {
		uint8_t in_pad = (uint8_t)(ZTP_AES_BLOCK - i <= pad);
		bad |= (uint8_t)(in_pad & (last[i] != pad));
	}
	if (bad)
		return ZTP_EMALFORMED;
	*outlen = len - pad;
	return 0;
}

/* ---- CCM */

/* Counter block i: flags L-1, the nonce, i big-endian in the last L bytes. */
static void
ccm_ctr(uint8_t a[ZTP_AES_BLOCK], const uint8_t *nonce, size_t noncelen, size_t i)
{
	size_t L = 15 - noncelen, k;

	a[0] = (uint8_t)(L - 1);
	memcpy(a + 1, nonce, noncelen);
	for (k = 0; k < L; k++) {
		a[15 - k] = (uint8_t)(i & 0xff);
		i >>= 8;
	}
}

/* x ^= data[0..n) block by block, encrypting after each block (CBC-MAC), zero padded. */
static int
cbcmac(const struct ztp_crypto *c, const uint8_t *key, uint8_t x[ZTP_AES_BLOCK], size_t *fill,
    const uint8_t *data, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		x[*fill] ^= data[i];
		if (++*fill == ZTP_AES_BLOCK) {
			if ((rc = block(c, 1, key, x, x)) != 0)
				return rc;
			*fill = 0;
		}
	}
	return 0;
}

static int
cbcmac_flush(const struct ztp_crypto *c, const uint8_t *key, uint8_t x[ZTP_AES_BLOCK],
    size_t *fill)
{
	int rc = 0;

	if (*fill > 0)
		rc = block(c, 1, key, x, x);
	*fill = 0;
	return rc;
}

/* The CBC-MAC of B0, the encoded aad and the message: T into tag[16]. */
static int
ccm_mac(const struct ztp_crypto *c, const uint8_t *key, const uint8_t *nonce, size_t noncelen,
    const uint8_t *aad, size_t aadlen, const uint8_t *msg, size_t len, size_t taglen,
    uint8_t tag[ZTP_AES_BLOCK])
{
	uint8_t b0[ZTP_AES_BLOCK], alen[6];
	size_t fill = 0, L = 15 - noncelen, k, an;
	size_t m = len;
	int rc;

	b0[0] = (uint8_t)((aadlen > 0 ? 0x40 : 0) | (((taglen - 2) / 2) << 3) | (L - 1));
	memcpy(b0 + 1, nonce, noncelen);
	for (k = 0; k < L; k++) {
		b0[15 - k] = (uint8_t)(m & 0xff);
		m >>= 8;
	}
	memset(tag, 0, ZTP_AES_BLOCK);
	if ((rc = cbcmac(c, key, tag, &fill, b0, sizeof(b0))) != 0)
		return rc;
	if (aadlen > 0) {
		if (aadlen < 0xFF00u) {
			alen[0] = (uint8_t)(aadlen >> 8);
			alen[1] = (uint8_t)aadlen;
			an = 2;
		} else {
			alen[0] = 0xFF;
			alen[1] = 0xFE;
			alen[2] = (uint8_t)((uint32_t)aadlen >> 24);
			alen[3] = (uint8_t)((uint32_t)aadlen >> 16);
			alen[4] = (uint8_t)((uint32_t)aadlen >> 8);
			alen[5] = (uint8_t)aadlen;
			an = 6;
		}
		if ((rc = cbcmac(c, key, tag, &fill, alen, an)) != 0 ||
		    (rc = cbcmac(c, key, tag, &fill, aad, aadlen)) != 0 ||
		    (rc = cbcmac_flush(c, key, tag, &fill)) != 0)
			return rc;
	}
	if ((rc = cbcmac(c, key, tag, &fill, msg, len)) != 0)
		return rc;
	return cbcmac_flush(c, key, tag, &fill);
}

/* out = in ^ keystream (counter blocks 1, 2, ...). */
static int
ccm_ctr_xor(const struct ztp_crypto *c, const uint8_t *key, const uint8_t *nonce,
    size_t noncelen, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t a[ZTP_AES_BLOCK], s[ZTP_AES_BLOCK];
	size_t off, i, n;
	int rc = 0;

	for (off = 0; off < len && rc == 0; off += ZTP_AES_BLOCK) {
		ccm_ctr(a, nonce, noncelen, off / ZTP_AES_BLOCK + 1);
		rc = block(c, 1, key, a, s);
		n = len - off < ZTP_AES_BLOCK ? len - off : ZTP_AES_BLOCK;
		for (i = 0; i < n; i++)
			out[off + i] = in[off + i] ^ s[i];
	}
	ztp_wipe(s, sizeof(s));
	return rc;
}

static int
ccm_args_ok(const struct ztp_crypto *c, const uint8_t *key, const uint8_t *nonce,
    size_t noncelen, const uint8_t *aad, size_t aadlen, size_t taglen)
{
	return c != NULL && key != NULL && nonce != NULL && noncelen >= 7 && noncelen <= 13 &&
	    taglen >= 4 && taglen <= 16 && taglen % 2 == 0 && (aad != NULL || aadlen == 0) &&
	    (uint64_t)aadlen <= 0xFFFFFFFFu;
}

/* len fits in the 15 - noncelen bytes of the counter */
static int
ccm_len_ok(size_t noncelen, size_t len)
{
	size_t L = 15 - noncelen;

	return L >= sizeof(size_t) || ((uint64_t)len >> (8 * L)) == 0;
}

int
ztp_aes128_ccm_seal(const struct ztp_crypto *c, const uint8_t key[ZTP_AES128_KEY],
    const uint8_t *nonce, size_t noncelen, const uint8_t *aad, size_t aadlen, const uint8_t *in,
    size_t len, size_t taglen, uint8_t *out)
{
	uint8_t t[ZTP_AES_BLOCK], a[ZTP_AES_BLOCK], s0[ZTP_AES_BLOCK];
	size_t i;
	int rc;

	if (!ccm_args_ok(c, key, nonce, noncelen, aad, aadlen, taglen) || out == NULL ||
	    (in == NULL && len > 0))
		return ZTP_EINVAL;
	if (!ccm_len_ok(noncelen, len))
		return ZTP_ERANGE;
	rc = ccm_mac(c, key, nonce, noncelen, aad, aadlen, in, len, taglen, t);
	if (rc == 0)
		rc = ccm_ctr_xor(c, key, nonce, noncelen, in, len, out);
	if (rc == 0) {
		ccm_ctr(a, nonce, noncelen, 0);
		rc = block(c, 1, key, a, s0);
	}
	if (rc == 0)
		for (i = 0; i < taglen; i++)
			out[len + i] = t[i] ^ s0[i];
	ztp_wipe(t, sizeof(t));
	ztp_wipe(s0, sizeof(s0));
	return rc;
}

int
ztp_aes128_ccm_open(const struct ztp_crypto *c, const uint8_t key[ZTP_AES128_KEY],
    const uint8_t *nonce, size_t noncelen, const uint8_t *aad, size_t aadlen, const uint8_t *in,
    size_t inlen, size_t taglen, uint8_t *out)
{
	uint8_t t[ZTP_AES_BLOCK], a[ZTP_AES_BLOCK], s0[ZTP_AES_BLOCK], got[ZTP_AES_BLOCK];
	size_t i, len;
	int rc;

	if (!ccm_args_ok(c, key, nonce, noncelen, aad, aadlen, taglen) || in == NULL ||
	    inlen < taglen || (out == NULL && inlen > taglen))
		return ZTP_EINVAL;
	len = inlen - taglen;
	if (!ccm_len_ok(noncelen, len))
		return ZTP_ERANGE;
	memcpy(got, in + len, taglen); /* before out (maybe in) is written */
	rc = ccm_ctr_xor(c, key, nonce, noncelen, in, len, out);
	if (rc == 0)
		rc = ccm_mac(c, key, nonce, noncelen, aad, aadlen, out, len, taglen, t);
	if (rc == 0) {
		ccm_ctr(a, nonce, noncelen, 0);
		rc = block(c, 1, key, a, s0);
	}
	if (rc == 0) {
		for (i = 0; i < taglen; i++)
			t[i] ^= s0[i];
		if (!ztp_ct_equal(t, got, taglen))
			rc = ZTP_EAUTH;
	}
	if (rc != 0 && len > 0)
		ztp_wipe(out, len);
	ztp_wipe(t, sizeof(t));
	ztp_wipe(s0, sizeof(s0));
	return rc;
}
