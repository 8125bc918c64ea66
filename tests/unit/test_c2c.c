/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The chip-to-chip codec (ztp/c2c.h): FCS-16's check value, round trips of
 * every message length for both versions, frames found in a stream with
 * junk, every way a frame is rejected, frames and the confirmation tag
 * built independently here with OpenSSL (EVP AES-128-CBC, HMAC, SHA-256,
 * HKDF), the pairing table's saved form and its edges, the host's
 * commands and the pairing answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "hex.h"
#include "ztp/c2c.h"
#include "ztp/crypto_ossl.h"
#include "ztp/err.h"

static const struct ztp_crypto *C;

static void
keys_init(struct ztp_c2c_keys *k, int version)
{
	memset(k, 0, sizeof(*k));
	k->version = version;
	RAND_bytes(k->key, sizeof(k->key));
	RAND_bytes(k->hmac_key, sizeof(k->hmac_key));
	RAND_bytes(k->te_secret, sizeof(k->te_secret));
}

/* What the decoder makes of in[0..len), clear text concatenated; the number of rejections in *errs. */
static size_t
decode_all(const struct ztp_c2c_keys *k, const uint8_t *in, size_t len, size_t step,
    uint8_t *out, size_t cap, int *errs)
{
	struct ztp_c2c_dec d;
	uint8_t buf[ZTP_C2C_FRAME_MAX], chunk[ZTP_C2C_CHUNK_MAX];
	size_t off = 0, total = 0, used, n, clen;
	int rc;

	*errs = 0;
	assert_int_equal(ztp_c2c_dec_init(&d, C, k, buf, sizeof(buf)), 0);
	do {
		n = len - off < step ? len - off : step;
		do {
			rc = ztp_c2c_dec_push(&d, in + off, n, &used, chunk, sizeof(chunk), &clen);
			off += used;
			n -= used;
			if (rc == 1) {
				assert_true(total + clen <= cap);
				memcpy(out + total, chunk, clen);
				total += clen;
			} else if (rc < 0) {
				(*errs)++;
			}
		} while (rc != 0);
		assert_int_equal(n, 0);
	} while (off < len);
	return total;
}

static void
test_fcs_check_value(void **state)
{
	(void)state;
	assert_int_equal(ztp_c2c_fcs16((const uint8_t *)"123456789", 9), 0x906E);
	assert_int_equal(ztp_c2c_fcs16(NULL, 0), 0x0000);
}

static void
roundtrip(int version)
{
	static uint8_t msg[1100], enc[1400], dec[1100];
	struct ztp_c2c_keys k;
	size_t len, outlen, frames, got;
	int errs;

	keys_init(&k, version);
	for (len = 0; len <= sizeof(msg); len++) {
		RAND_bytes(msg, (int)len);
		assert_int_equal(ztp_c2c_encode(C, &k, NULL, 0, msg, len, enc, sizeof(enc), &outlen), 0);
		assert_int_equal(outlen, ztp_c2c_msg_len(version, len));
		frames = (len + ZTP_C2C_CHUNK_MAX - 1) / ZTP_C2C_CHUNK_MAX;
		/* full frames of 255, then the rest */
		if (frames > 0)
			assert_int_equal(enc[1] | enc[2] << 8,
			    ztp_c2c_frame_len(version, len < 255 ? len : 255) - ZTP_C2C_OVERHEAD);
		got = decode_all(&k, enc, outlen, len % 7 == 0 ? 1 : outlen + 1, dec, sizeof(dec),
		    &errs);
		assert_int_equal(errs, 0);
		assert_int_equal(got, len);
		assert_memory_equal(dec, msg, len);
	}
	assert_int_equal(ztp_c2c_msg_len(version, 0), 0);
}

static void
test_roundtrip_v1(void **state)
{
	(void)state;
	roundtrip(1);
}

static void
test_roundtrip_v2(void **state)
{
	(void)state;
	roundtrip(2);
}

/* The frame count and sizes of a 600-byte message: 255, 255, 90. */
static void
test_message_split(void **state)
{
	uint8_t msg[600], enc[800], ivs[3 * 16];
	struct ztp_c2c_keys k;
	size_t outlen, f1 = ztp_c2c_frame_len(2, 255), f3 = ztp_c2c_frame_len(2, 90);

	(void)state;
	keys_init(&k, 2);
	memset(msg, 'a', sizeof(msg));
	RAND_bytes(ivs, sizeof(ivs));
	assert_int_equal(f1, 6 + 16 + 256 + 16);
	assert_int_equal(f3, 6 + 16 + 96 + 16);
	assert_int_equal(ztp_c2c_encode(C, &k, ivs, 3, msg, 600, enc, sizeof(enc), &outlen), 0);
	assert_int_equal(outlen, 2 * f1 + f3);
	assert_int_equal(enc[0], 0xF9);
	assert_int_equal(enc[f1 - 1], 0xF9);
	assert_int_equal(enc[f1], 0xF9);
	/* each frame's IV is the one given */
	assert_memory_equal(enc + 3, ivs, 16);
	assert_memory_equal(enc + f1 + 3, ivs + 16, 16);
	assert_memory_equal(enc + 2 * f1 + 3, ivs + 32, 16);
	/* too few IVs, too little room */
	assert_int_equal(ztp_c2c_encode(C, &k, ivs, 2, msg, 600, enc, sizeof(enc), &outlen),
	    ZTP_EINVAL);
	assert_int_equal(ztp_c2c_encode(C, &k, NULL, 0, msg, 600, enc, 2 * f1 + f3 - 1, &outlen),
	    ZTP_ETOOBIG);
	/* an empty message is no frame */
	assert_int_equal(ztp_c2c_encode(C, &k, NULL, 0, msg, 0, enc, 0, &outlen), 0);
	assert_int_equal(outlen, 0);
	/* one frame takes at most 255 */
	assert_int_equal(ztp_c2c_frame_encode(C, &k, NULL, msg, 256, enc, sizeof(enc), &outlen),
	    ZTP_EINVAL);
}

static void
test_stream_with_junk(void **state)
{
	static const char junk1[] = "\r\nOK\r\n+CREG: 0,1\r\n";
	static const uint8_t junk2[] = { 0x00, 0xF9, 0x10, 0x00, 0xAA, 0xF9, 0xFF, 0xFF, 0x55 };
	uint8_t a[300], b[40], stream[1200], out[400], fa[700], fb[120];
	struct ztp_c2c_keys k;
	size_t na, nb, off = 0, got, step;
	int errs, v;

	(void)state;
	for (v = 1; v <= 2; v++) {
		keys_init(&k, v);
		RAND_bytes(a, sizeof(a));
		RAND_bytes(b, sizeof(b));
		assert_int_equal(ztp_c2c_encode(C, &k, NULL, 0, a, sizeof(a), fa, sizeof(fa), &na), 0);
		assert_int_equal(ztp_c2c_encode(C, &k, NULL, 0, b, sizeof(b), fb, sizeof(fb), &nb), 0);
		off = 0;
		memcpy(stream + off, junk1, sizeof(junk1) - 1);
		off += sizeof(junk1) - 1;
		memcpy(stream + off, fa, na);
		off += na;
		memcpy(stream + off, junk2, sizeof(junk2));
		off += sizeof(junk2);
		memcpy(stream + off, fb, nb);
		off += nb;
		memcpy(stream + off, "\xF9", 1); /* a start that never completes */
		off += 1;
		for (step = 1; step <= off; step = step * 3 + 1) {
			got = decode_all(&k, stream, off, step, out, sizeof(out), &errs);
			assert_int_equal(got, sizeof(a) + sizeof(b));
			assert_memory_equal(out, a, sizeof(a));
			assert_memory_equal(out + sizeof(a), b, sizeof(b));
			assert_true(errs >= 1); /* junk2's false starts */
		}
	}
}

/* A v2 frame around body[0..blen), FCS and flags added. */
static size_t
frame(const uint8_t *body, size_t blen, uint8_t *out)
{
	uint16_t fcs;

	out[0] = 0xF9;
	out[1] = (uint8_t)blen;
	out[2] = (uint8_t)(blen >> 8);
	memcpy(out + 3, body, blen);
	fcs = ztp_c2c_fcs16(out + 1, blen + 2);
	out[3 + blen] = (uint8_t)fcs;
	out[4 + blen] = (uint8_t)(fcs >> 8);
	out[5 + blen] = 0xF9;
	return blen + 6;
}

/* AES-128-CBC by EVP, padding as asked (PKCS#7 by OpenSSL, or none). */
static size_t
evp_cbc(const uint8_t *key, const uint8_t *iv, const uint8_t *in, size_t len, int pad,
    uint8_t *out)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n = 0, m = 0;

	assert_non_null(x);
	assert_int_equal(EVP_EncryptInit_ex(x, EVP_aes_128_cbc(), NULL, key, iv), 1);
	EVP_CIPHER_CTX_set_padding(x, pad);
	assert_int_equal(EVP_EncryptUpdate(x, out, &n, in, (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(x, out + n, &m), 1);
	EVP_CIPHER_CTX_free(x);
	return (size_t)(n + m);
}

/* A version 2 body made by OpenSSL: IV | C | HMAC(IV | C | te)[0..16). */
static size_t
ossl_body_v2(const struct ztp_c2c_keys *k, const uint8_t *iv, const uint8_t *p, size_t len,
    int pad, uint8_t *body)
{
	uint8_t mac[32], tmp[400];
	unsigned ml = 0;
	size_t cl;

	memcpy(body, iv, 16);
	cl = evp_cbc(k->key, iv, p, len, pad, body + 16);
	memcpy(tmp, body, 16 + cl);
	memcpy(tmp + 16 + cl, k->te_secret, 16);
	assert_non_null(HMAC(EVP_sha256(), k->hmac_key, 16, tmp, 32 + cl, mac, &ml));
	memcpy(body + 16 + cl, mac, 16);
	return 32 + cl;
}

/* A version 1 body made by OpenSSL: CBC(padded | SHA-256(padded)) | IV; padded given whole. */
static size_t
ossl_body_v1(const struct ztp_c2c_keys *k, const uint8_t *iv, const uint8_t *padded, size_t plen,
    uint8_t *body)
{
	uint8_t tmp[400];
	size_t cl;

	memcpy(tmp, padded, plen);
	SHA256(padded, plen, tmp + plen);
	cl = evp_cbc(k->key, iv, tmp, plen + 32, 0, body);
	memcpy(body + cl, iv, 16);
	return cl + 16;
}

static void
test_kat_vs_openssl(void **state)
{
	uint8_t iv[16], msg[255], body[400], body2[400], want[420], got[420], padded[256];
	struct ztp_c2c_keys k;
	size_t len, wl, gl, pl;

	(void)state;
	for (len = 0; len <= 255; len += 17) {
		RAND_bytes(iv, 16);
		RAND_bytes(msg, (int)len);
		keys_init(&k, 2);
		wl = frame(body, ossl_body_v2(&k, iv, msg, len, 1, body), want);
		assert_int_equal(ztp_c2c_frame_encode(C, &k, iv, msg, len, got, sizeof(got), &gl), 0);
		assert_int_equal(gl, wl);
		assert_memory_equal(got, want, wl);

		keys_init(&k, 1);
		/* PKCS#7 by hand for version 1, checked against EVP's padding */
		pl = (len / 16 + 1) * 16;
		memcpy(padded, msg, len);
		memset(padded + len, (int)(pl - len), pl - len);
		assert_int_equal(evp_cbc(k.key, iv, msg, len, 1, body), pl);
		assert_int_equal(evp_cbc(k.key, iv, padded, pl, 0, body2), pl);
		assert_memory_equal(body, body2, pl);
		wl = frame(body, ossl_body_v1(&k, iv, padded, pl, body), want);
		assert_int_equal(ztp_c2c_frame_encode(C, &k, iv, msg, len, got, sizeof(got), &gl), 0);
		assert_int_equal(gl, wl);
		assert_memory_equal(got, want, wl);
	}
}

/* Push f[0..n) to a fresh decoder: the first verdict, its fault. */
static int
verdict(const struct ztp_c2c_keys *k, const uint8_t *f, size_t n, enum ztp_c2c_fault *fault,
    size_t *used)
{
	static uint8_t buf[ZTP_C2C_FRAME_MAX];
	struct ztp_c2c_dec d;
	uint8_t out[ZTP_C2C_CHUNK_MAX];
	size_t olen;
	int rc;

	assert_int_equal(ztp_c2c_dec_init(&d, C, k, buf, sizeof(buf)), 0);
	rc = ztp_c2c_dec_push(&d, f, n, used, out, sizeof(out), &olen);
	*fault = d.fault;
	return rc;
}

static void
expect_fault(const struct ztp_c2c_keys *k, const uint8_t *f, size_t n, int rc,
    enum ztp_c2c_fault fault)
{
	enum ztp_c2c_fault got;
	size_t used;

	assert_int_equal(verdict(k, f, n, &got, &used), rc);
	assert_int_equal(got, fault);
	assert_non_null(ztp_c2c_fault_str(got));
}

static void
test_malformed(void **state)
{
	uint8_t iv[16], msg[40], body[400], f[420], bad[32];
	struct ztp_c2c_keys k2, k1;
	enum ztp_c2c_fault fault;
	size_t n, used;
	int rc;

	(void)state;
	keys_init(&k2, 2);
	keys_init(&k1, 1);
	RAND_bytes(iv, 16);
	memset(msg, 'x', sizeof(msg));
	/* LEN too short for the version, judged from the first three bytes */
	expect_fault(&k2, (const uint8_t *)"\xF9\x20\x00", 3, ZTP_EMALFORMED, ZTP_C2C_F_SHORT);
	expect_fault(&k1, (const uint8_t *)"\xF9\x30\x00", 3, ZTP_EMALFORMED, ZTP_C2C_F_SHORT);
	/* the shortest valid LENs are waited for */
	assert_int_equal(verdict(&k2, (const uint8_t *)"\xF9\x30\x00", 3, &fault, &used), 0);
	assert_int_equal(verdict(&k1, (const uint8_t *)"\xF9\x40\x00", 3, &fault, &used), 0);
	/* LEN over the maximum: at once, not after waiting for the bytes */
	expect_fault(&k2, (const uint8_t *)"\xF9\x30\x01", 3, ZTP_ETOOBIG, ZTP_C2C_F_LONG);
	expect_fault(&k1, (const uint8_t *)"\xF9\x40\x01", 3, ZTP_ETOOBIG, ZTP_C2C_F_LONG);
	expect_fault(&k2, (const uint8_t *)"\xF9\xFF\xFF", 3, ZTP_ETOOBIG, ZTP_C2C_F_LONG);
	/* not a multiple of 16 */
	expect_fault(&k2, (const uint8_t *)"\xF9\x31\x00", 3, ZTP_EMALFORMED, ZTP_C2C_F_ALIGN);
	expect_fault(&k1, (const uint8_t *)"\xF9\x48\x00", 3, ZTP_EMALFORMED, ZTP_C2C_F_ALIGN);

	/* a good frame, then one thing wrong at a time */
	n = frame(body, ossl_body_v2(&k2, iv, msg, 20, 1, body), f);
	f[n - 3] ^= 1; /* FCS */
	expect_fault(&k2, f, n, ZTP_EMALFORMED, ZTP_C2C_F_FCS);
	f[n - 3] ^= 1;
	f[n - 1] = 0x7E; /* end flag */
	expect_fault(&k2, f, n, ZTP_EMALFORMED, ZTP_C2C_F_END);
	f[n - 1] = 0xF9;
	body[20] ^= 0x80; /* a ciphertext bit, the FCS made good again */
	n = frame(body, n - 6, f);
	expect_fault(&k2, f, n, ZTP_EAUTH, ZTP_C2C_F_MAC);
	body[20] ^= 0x80;
	k2.te_secret[0] ^= 1; /* another TE secret */
	n = frame(body, n - 6, f);
	expect_fault(&k2, f, n, ZTP_EAUTH, ZTP_C2C_F_MAC);
	k2.te_secret[0] ^= 1;
	expect_fault(&k2, f, n, 1, ZTP_C2C_F_NONE);

	/* bad padding under a good MAC: the last byte 0x00, then 0x11, then inconsistent */
	memset(bad, 'y', sizeof(bad));
	bad[31] = 0x00;
	expect_fault(&k2, f, frame(body, ossl_body_v2(&k2, iv, bad, 32, 0, body), f),
	    ZTP_EMALFORMED, ZTP_C2C_F_PAD);
	bad[31] = 0x11;
	expect_fault(&k2, f, frame(body, ossl_body_v2(&k2, iv, bad, 32, 0, body), f),
	    ZTP_EMALFORMED, ZTP_C2C_F_PAD);
	bad[31] = 0x03;
	bad[30] = 0x03;
	bad[29] = 0x04;
	expect_fault(&k2, f, frame(body, ossl_body_v2(&k2, iv, bad, 32, 0, body), f),
	    ZTP_EMALFORMED, ZTP_C2C_F_PAD);
	/* version 1: bad padding under a good hash, then a bad hash */
	bad[31] = 0x00;
	expect_fault(&k1, f, frame(body, ossl_body_v1(&k1, iv, bad, 32, body), f), ZTP_EMALFORMED,
	    ZTP_C2C_F_PAD);
	bad[31] = 0x01;
	n = frame(body, ossl_body_v1(&k1, iv, bad, 32, body), f);
	expect_fault(&k1, f, n, 1, ZTP_C2C_F_NONE);
	body[5] ^= 1;
	expect_fault(&k1, f, frame(body, n - 6, f), ZTP_EAUTH, ZTP_C2C_F_MAC);

	/* a frame cut short, a whole one after it: the cut one is given up */
	n = frame(body, ossl_body_v2(&k2, iv, msg, 20, 1, body), f + 10);
	memcpy(f, f + 10, 10);
	f[1] = 0x20; /* its LEN: 288, more than there is */
	f[2] = 0x01;
	rc = verdict(&k2, f, n + 10, &fault, &used);
	assert_int_equal(rc, ZTP_EMALFORMED);
	assert_int_equal(fault, ZTP_C2C_F_CUT);
}

/* A frame that says it is long, then nothing: the decoder takes every byte and waits. */
static void
test_no_wait_beyond_buffer(void **state)
{
	static uint8_t big[5000];
	struct ztp_c2c_keys k;
	uint8_t buf[ZTP_C2C_FRAME_MAX], out[ZTP_C2C_CHUNK_MAX];
	struct ztp_c2c_dec d;
	size_t used, olen, off = 0;
	int rc, errs = 0;

	(void)state;
	keys_init(&k, 2);
	assert_int_equal(ztp_c2c_dec_init(&d, C, &k, buf, sizeof(buf) - 1), ZTP_EINVAL);
	assert_int_equal(ztp_c2c_dec_init(&d, C, &k, buf, sizeof(buf)), 0);
	memset(big, 0xF9, sizeof(big)); /* every byte a start flag with LEN 0xF9F9 */
	do {
		rc = ztp_c2c_dec_push(&d, big + off, sizeof(big) - off, &used, out, sizeof(out), &olen);
		off += used;
		if (rc < 0)
			errs++;
	} while (rc != 0);
	assert_int_equal(off, sizeof(big));
	assert_true(errs > 0);
	assert_true(d.len < 3);
	ztp_c2c_dec_reset(&d);
	assert_int_equal(d.len, 0);
}

static void
test_confirm(void **state)
{
	uint8_t iv[16], tag[16], enc[ZTP_C2C_ENC_TAG_LEN], body[100], want[100];
	struct ztp_c2c_keys k;

	(void)state;
	keys_init(&k, 2);
	RAND_bytes(iv, 16);
	RAND_bytes(tag, 16);
	assert_int_equal(ztp_c2c_confirm_encrypt(C, &k, iv, tag, enc), 0);
	/* as OpenSSL makes it: a v2 body of the 16-byte tag, 16 bytes of 0x10 as padding */
	assert_int_equal(ossl_body_v2(&k, iv, tag, 16, 1, want), ZTP_C2C_ENC_TAG_LEN);
	assert_memory_equal(enc, want, ZTP_C2C_ENC_TAG_LEN);
	assert_int_equal(ztp_c2c_confirm_check(C, &k, enc, sizeof(enc), tag), 0);
	assert_int_equal(ztp_c2c_confirm_check(C, &k, enc, sizeof(enc) - 16, tag), ZTP_EMALFORMED);
	enc[20] ^= 1;
	assert_int_equal(ztp_c2c_confirm_check(C, &k, enc, sizeof(enc), tag), ZTP_EAUTH);
	enc[20] ^= 1;
	tag[0] ^= 1;
	assert_int_equal(ztp_c2c_confirm_check(C, &k, enc, sizeof(enc), tag), ZTP_EAUTH);
	tag[0] ^= 1;
	/* a random IV each time */
	assert_int_equal(ztp_c2c_confirm_encrypt(C, &k, NULL, tag, body), 0);
	assert_memory_not_equal(body, enc, 16);
	assert_int_equal(ztp_c2c_confirm_check(C, &k, body, ZTP_C2C_ENC_TAG_LEN, tag), 0);
	k.version = 1;
	assert_int_equal(ztp_c2c_confirm_encrypt(C, &k, iv, tag, enc), ZTP_EINVAL);
}

static void
test_derive_vs_openssl(void **state)
{
	static const uint8_t uid[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
		0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	uint8_t slave[32], tag[16], okm[48];
	struct ztp_c2c_keys k;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *x = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM p[5];
	char info[] = "ztp c2c v2", md[] = "SHA256";

	(void)state;
	RAND_bytes(slave, sizeof(slave));
	memset(&k, 0, sizeof(k));
	assert_int_equal(ztp_c2c_derive(C, uid, sizeof(uid), slave, &k, tag), 0);
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, md, 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)uid, sizeof(uid));
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, slave, sizeof(slave));
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, strlen(info));
	p[4] = OSSL_PARAM_construct_end();
	assert_int_equal(EVP_KDF_derive(x, okm, sizeof(okm), p), 1);
	EVP_KDF_CTX_free(x);
	EVP_KDF_free(kdf);
	assert_int_equal(k.version, 2);
	assert_memory_equal(k.key, okm, 16);
	assert_memory_equal(k.hmac_key, okm + 16, 16);
	assert_memory_equal(tag, okm + 32, 16);
}

static void
fill_pairing(struct ztp_c2c_pairing *p, int i, const char *term)
{
	p->state = (uint8_t)(i % 2 ? ZTP_C2C_PAIRED : ZTP_C2C_PENDING);
	RAND_bytes(p->te_secret, 16);
	p->term_len = (uint8_t)strlen(term);
	memset(p->term, 0, sizeof(p->term));
	memcpy(p->term, term, p->term_len);
	RAND_bytes(p->slave, 32);
}

/* Save t, corrupt the byte at off with v (FCS made good again), expect the load to fail. */
static void
load_fails_with(const struct ztp_c2c_table *t, size_t off, uint8_t v)
{
	uint8_t b[ZTP_C2C_TABLE_BYTES];
	struct ztp_c2c_table u;
	uint16_t fcs;

	ztp_c2c_table_save(t, b);
	b[off] = v;
	fcs = ztp_c2c_fcs16(b, sizeof(b) - 2);
	b[sizeof(b) - 2] = (uint8_t)fcs;
	b[sizeof(b) - 1] = (uint8_t)(fcs >> 8);
	memset(&u, 0xAA, sizeof(u));
	assert_int_equal(ztp_c2c_table_load(&u, b, sizeof(b)), ZTP_EMALFORMED);
	assert_int_equal(u.p[0].state, 0);
	assert_int_equal(u.trials, 0);
}

static void
test_table(void **state)
{
	struct ztp_c2c_table t, u;
	uint8_t b[ZTP_C2C_TABLE_BYTES], te[16];
	char name[ZTP_C2C_TERM_MAX + 1];
	size_t rec1 = 6 + ZTP_C2C_REC_BYTES;
	int i;

	(void)state;
	assert_int_equal(ZTP_C2C_TABLE_BYTES, 920);
	/* empty */
	memset(&t, 0, sizeof(t));
	ztp_c2c_table_save(&t, b);
	assert_int_equal(ztp_c2c_table_load(&u, b, sizeof(b)), 0);
	assert_memory_equal(&u, &t, sizeof(t));
	/* full, with the longest name and an empty one */
	memset(name, 'n', ZTP_C2C_TERM_MAX);
	name[ZTP_C2C_TERM_MAX] = '\0';
	for (i = 0; i < ZTP_C2C_PAIRINGS; i++)
		fill_pairing(&t.p[i], i, i == 0 ? name : i == 1 ? "" : "/dev/pts/3");
	t.trials = 0x1234;
	ztp_c2c_table_save(&t, b);
	assert_int_equal(ztp_c2c_table_load(&u, b, sizeof(b)), 0);
	assert_memory_equal(&u, &t, sizeof(t));
	for (i = 0; i < ZTP_C2C_PAIRINGS; i++)
		assert_int_equal(ztp_c2c_table_find(&u, t.p[i].te_secret, t.p[i].term,
				     t.p[i].term_len),
		    i);
	RAND_bytes(te, sizeof(te));
	assert_int_equal(ztp_c2c_table_find(&u, te, "/dev/pts/3", 10), ZTP_ENOENT);
	assert_int_equal(ztp_c2c_table_slot(&u, te, "/dev/pts/3", 10), ZTP_ETOOBIG);
	/* the same TE secret on another terminal is another pairing */
	assert_int_equal(ztp_c2c_table_find(&u, t.p[2].te_secret, "/dev/pts/4", 10), ZTP_ENOENT);
	assert_int_equal(ztp_c2c_table_slot(&u, t.p[2].te_secret, "/dev/pts/3", 10), 2);
	u.p[5].state = ZTP_C2C_FREE;
	assert_int_equal(ztp_c2c_table_slot(&u, te, "/dev/pts/3", 10), 5);

	/* lengths, magic, FCS */
	ztp_c2c_table_save(&t, b);
	assert_int_equal(ztp_c2c_table_load(&u, b, sizeof(b) - 1), ZTP_EMALFORMED);
	assert_int_equal(ztp_c2c_table_load(&u, b, 0), ZTP_EMALFORMED);
	assert_int_equal(ztp_c2c_table_load(&u, NULL, sizeof(b)), ZTP_EMALFORMED);
	b[100] ^= 1;
	assert_int_equal(ztp_c2c_table_load(&u, b, sizeof(b)), ZTP_EMALFORMED);
	load_fails_with(&t, 0, 'X');
	/* a record's state, its name's length, its name's bytes, after the name */
	load_fails_with(&t, rec1, 3);
	load_fails_with(&t, rec1 + 17, ZTP_C2C_TERM_MAX + 1);
	load_fails_with(&t, 6 + 2 * ZTP_C2C_REC_BYTES + 18, 0x01);
	load_fails_with(&t, 6 + 2 * ZTP_C2C_REC_BYTES + 18 + 12, 'x');
	/* a free record must be all zeros */
	t.p[7].state = ZTP_C2C_FREE;
	memset(&t.p[7], 0, sizeof(t.p[7]));
	load_fails_with(&t, 6 + 7 * ZTP_C2C_REC_BYTES + 5, 1);
	/* the same pairing twice */
	t.p[3] = t.p[2];
	ztp_c2c_table_save(&t, b);
	assert_int_equal(ztp_c2c_table_load(&u, b, sizeof(b)), ZTP_EMALFORMED);
}

static void
test_cmd(void **state)
{
	uint8_t te[16], enc[ZTP_C2C_ENC_TAG_LEN];
	char out[ZTP_C2C_CMD_MAX], want[300];
	int i;

	(void)state;
	for (i = 0; i < 16; i++)
		te[i] = (uint8_t)(0xA0 + i);
	memset(enc, 0x5A, sizeof(enc));
	assert_int_equal(ztp_c2c_cmd(ZTP_C2C_PAIR, te, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "AT+USECC2C=0,\"A0A1A2A3A4A5A6A7A8A9AAABACADAEAF\"");
	assert_int_equal(ztp_c2c_cmd(ZTP_C2C_OPEN, te, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "AT+USECC2C=1,\"A0A1A2A3A4A5A6A7A8A9AAABACADAEAF\"");
	assert_int_equal(ztp_c2c_cmd(ZTP_C2C_CLOSE, NULL, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "AT+USECC2C=2");
	assert_int_equal(ztp_c2c_cmd(ZTP_C2C_REKEY, NULL, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "AT+USECC2C=3");
	assert_int_equal(ztp_c2c_cmd(ZTP_C2C_CONFIRM, te, enc, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "AT+USECC2C=4,\"A0A1A2A3A4A5A6A7A8A9AAABACADAEAF\",\"%.128s\"",
	    "5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A"
	    "5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A");
	assert_string_equal(out, want);
	assert_int_equal(strlen(out) + 1, sizeof(out));
	assert_int_equal(ztp_c2c_cmd(ZTP_C2C_CONFIRM, te, enc, out, sizeof(out) - 1), ZTP_ETOOBIG);
	assert_string_equal(out, "");
	assert_int_equal(ztp_c2c_cmd(ZTP_C2C_CONFIRM, te, NULL, out, sizeof(out)), ZTP_EINVAL);
	assert_int_equal(ztp_c2c_cmd(ZTP_C2C_PAIR, NULL, NULL, out, sizeof(out)), ZTP_EINVAL);
	assert_int_equal(ztp_c2c_cmd((enum ztp_c2c_op)5, te, NULL, out, sizeof(out)), ZTP_EINVAL);
}

#define H32 "00112233445566778899AABBCCDDEEFF"
#define H32L "ffeeddccbbaa99887766554433221100"

static void
answer_bad(const char *line)
{
	struct ztp_c2c_answer a;

	memset(&a, 0x77, sizeof(a));
	assert_int_equal(ztp_c2c_answer_parse(line, strlen(line), &a), ZTP_EMALFORMED);
	assert_int_equal(a.version, 0x77777777);
}

static void
test_answer(void **state)
{
	struct ztp_c2c_answer a;
	const char *v2 = "+USECC2C: 0,0,\"" H32 "\",\"" H32L "\",\"" H32 "\"";
	const char *v1 = "+USECC2C:0,0,\"" H32L "\"";

	(void)state;
	assert_int_equal(ztp_c2c_answer_parse(v2, strlen(v2), &a), 0);
	assert_int_equal(a.op, 0);
	assert_int_equal(a.version, 2);
	assert_int_equal(a.key[0], 0x00);
	assert_int_equal(a.key[15], 0xFF);
	assert_int_equal(a.hmac_key[0], 0xFF);
	assert_int_equal(a.tag[1], 0x11);
	assert_int_equal(ztp_c2c_answer_parse(v1, strlen(v1), &a), 0);
	assert_int_equal(a.version, 1);
	assert_int_equal(a.key[0], 0xFF);
	assert_int_equal(ztp_c2c_answer_parse("OK", 2, &a), ZTP_ENOENT);
	assert_int_equal(ztp_c2c_answer_parse(v2, 5, &a), ZTP_ENOENT);
	answer_bad("+USECC2C: 0,1,\"" H32 "\"");               /* a non-zero status */
	answer_bad("+USECC2C: 0,0");                            /* no key */
	answer_bad("+USECC2C: 0,0,\"" H32 "00\"");             /* a key too long */
	answer_bad("+USECC2C: 0,0,\"0011\"");                   /* too short */
	answer_bad("+USECC2C: 0,0,\"" H32 "\",\"" H32 "\"");   /* an HMAC key without a tag */
	answer_bad("+USECC2C: 0,0,\"" H32 "\",\"" H32 "\",\"" H32 "\","); /* trailing */
	answer_bad("+USECC2C: 0,0,\"0G112233445566778899AABBCCDDEEFF\""); /* not hex */
	answer_bad("+USECC2C: 10,0,\"" H32 "\"");
	answer_bad("+USECC2C: ,0,\"" H32 "\"");
	answer_bad("+USECC2C: 0,0," H32);
}

static int
setup(void **state)
{
	(void)state;
	C = ztp_crypto_openssl();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fcs_check_value),
		cmocka_unit_test(test_roundtrip_v1),
		cmocka_unit_test(test_roundtrip_v2),
		cmocka_unit_test(test_message_split),
		cmocka_unit_test(test_stream_with_junk),
		cmocka_unit_test(test_kat_vs_openssl),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_no_wait_beyond_buffer),
		cmocka_unit_test(test_confirm),
		cmocka_unit_test(test_derive_vs_openssl),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_cmd),
		cmocka_unit_test(test_answer),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
