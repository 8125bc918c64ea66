/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device core's symmetric crypto (ztp/symcrypto.h) checked against
 * another implementation (OpenSSL's EVP) and published vectors: HMAC,
 * HKDF-Expand (RFC 5869 case 1), CBC, PKCS#7, CCM (RFC 3610 packet 1 and
 * EVP at every length and parameter), and the refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "hex.h"
#include "ztp/crypto_ossl.h"
#include "ztp/err.h"
#include "ztp/symcrypto.h"

static const struct ztp_crypto *C;

static size_t
unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;

	assert_int_equal(hex_decode(h, strlen(h), out, cap, &n), 0);
	return n;
}

static void
test_hmac_vs_openssl(void **state)
{
	uint8_t key[100], msg[300], a[32], b[32];
	unsigned blen = 0;
	size_t kl, ml;

	(void)state;
	for (kl = 0; kl <= 100; kl += 7) {
		for (ml = 0; ml <= 300; ml += 37) {
			struct ztp_iov v[2] = { { msg, ml / 3 }, { msg + ml / 3, ml - ml / 3 } };

			RAND_bytes(key, sizeof(key));
			RAND_bytes(msg, sizeof(msg));
			assert_int_equal(ztp_hmac_sha256(C, key, kl, v, 2, a), 0);
			assert_non_null(HMAC(EVP_sha256(), key, (int)kl, msg, ml, b, &blen));
			assert_memory_equal(a, b, 32);
		}
	}
}

/* RFC 5869 A.1: PRK and OKM of test case 1 */
static void
test_hkdf_rfc5869(void **state)
{
	uint8_t prk[32], info[10], okm[42], want[42];
	struct ztp_iov v = { info, 0 };

	(void)state;
	unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", prk, sizeof(prk));
	v.n = unhex("f0f1f2f3f4f5f6f7f8f9", info, sizeof(info));
	unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
	    want, sizeof(want));
	assert_int_equal(ztp_hkdf_expand(C, prk, 32, &v, 1, okm, sizeof(okm)), 0);
	assert_memory_equal(okm, want, sizeof(want));
	assert_int_equal(ztp_hkdf_expand(C, prk, 32, &v, 1, okm, 255 * 32 + 1), ZTP_EINVAL);
}

static void
evp_cbc(int enc, const uint8_t *key, const uint8_t *iv, const uint8_t *in, size_t len,
    uint8_t *out)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n = 0, m = 0;

	assert_int_equal(EVP_CipherInit_ex(x, EVP_aes_128_cbc(), NULL, key, iv, enc), 1);
	EVP_CIPHER_CTX_set_padding(x, 0);
	assert_int_equal(EVP_CipherUpdate(x, out, &n, in, (int)len), 1);
	assert_int_equal(EVP_CipherFinal_ex(x, out + n, &m), 1);
	assert_int_equal((size_t)(n + m), len);
	EVP_CIPHER_CTX_free(x);
}

static void
test_cbc_vs_openssl(void **state)
{
	uint8_t key[16], iv[16], pt[256], a[256], b[256];
	size_t len;

	(void)state;
	for (len = 0; len <= 256; len += 16) {
		RAND_bytes(key, 16);
		RAND_bytes(iv, 16);
		RAND_bytes(pt, sizeof(pt));
		assert_int_equal(ztp_aes128_cbc_encrypt(C, key, iv, pt, len, a), 0);
		if (len > 0)
			evp_cbc(1, key, iv, pt, len, b);
		assert_memory_equal(a, b, len);
		assert_int_equal(ztp_aes128_cbc_decrypt(C, key, iv, a, len, a), 0); /* in place */
		assert_memory_equal(a, pt, len);
	}
	assert_int_equal(ztp_aes128_cbc_encrypt(C, key, iv, pt, 15, a), ZTP_EINVAL);
	assert_int_equal(ztp_aes128_cbc_decrypt(C, key, iv, pt, 17, a), ZTP_EINVAL);
}

static void
test_pkcs7(void **state)
{
	uint8_t buf[64];
	size_t len, out, back;

	(void)state;
	for (len = 0; len <= 32; len++) {
		memset(buf, 0xAA, sizeof(buf));
		assert_int_equal(ztp_pkcs7_pad(buf, len, sizeof(buf), &out), 0);
		assert_int_equal(out % 16, 0);
		assert_true(out - len >= 1 && out - len <= 16);
		assert_int_equal(ztp_pkcs7_unpad(buf, out, &back), 0);
		assert_int_equal(back, len);
	}
	assert_int_equal(ztp_pkcs7_pad(buf, 16, 31, &out), ZTP_EINVAL); /* no room for 16 */
	memset(buf, 0, 16);
	assert_int_equal(ztp_pkcs7_unpad(buf, 16, &out), ZTP_EMALFORMED); /* pad byte 0 */
	buf[15] = 17;
	assert_int_equal(ztp_pkcs7_unpad(buf, 16, &out), ZTP_EMALFORMED); /* over a block */
	memset(buf, 3, 16);
	buf[13] = 2;
	assert_int_equal(ztp_pkcs7_unpad(buf, 16, &out), ZTP_EMALFORMED); /* one byte differs */
	assert_int_equal(ztp_pkcs7_unpad(buf, 0, &out), ZTP_EMALFORMED);
	assert_int_equal(ztp_pkcs7_unpad(buf, 15, &out), ZTP_EMALFORMED);
}

/* RFC 3610 packet vector #1 (tag 8, nonce 13, 8 bytes of aad) */
static void
test_ccm_rfc3610(void **state)
{
	uint8_t key[16], nonce[13], aad[8], pt[23], out[31], want[31], back[23];

	(void)state;
	unhex("C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF", key, sizeof(key));
	unhex("00000003020100A0A1A2A3A4A5", nonce, sizeof(nonce));
	unhex("0001020304050607", aad, sizeof(aad));
	unhex("08090A0B0C0D0E0F101112131415161718191A1B1C1D1E", pt, sizeof(pt));
	unhex("588C979A61C663D2F066D0C2C0F989806D5F6B61DAC38417E8D12CFDF926E0", want, sizeof(want));
	assert_int_equal(ztp_aes128_ccm_seal(C, key, nonce, 13, aad, 8, pt, 23, 8, out), 0);
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(ztp_aes128_ccm_open(C, key, nonce, 13, aad, 8, out, 31, 8, back), 0);
	assert_memory_equal(back, pt, sizeof(pt));
}

static void
evp_ccm_seal(const uint8_t *key, const uint8_t *nonce, size_t nl, const uint8_t *aad, size_t al,
    const uint8_t *pt, size_t len, size_t tl, uint8_t *out)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n = 0;

	assert_int_equal(EVP_EncryptInit_ex(x, EVP_aes_128_ccm(), NULL, NULL, NULL), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, (int)nl, NULL), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, (int)tl, NULL), 1);
	assert_int_equal(EVP_EncryptInit_ex(x, NULL, NULL, key, nonce), 1);
	assert_int_equal(EVP_EncryptUpdate(x, NULL, &n, NULL, (int)len), 1);
	if (al > 0)
		assert_int_equal(EVP_EncryptUpdate(x, NULL, &n, aad, (int)al), 1);
	assert_int_equal(EVP_EncryptUpdate(x, out, &n, pt, (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(x, out + n, &n), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, (int)tl, out + len), 1);
	EVP_CIPHER_CTX_free(x);
}

static void
test_ccm_vs_openssl(void **state)
{
	static uint8_t pt[1100], a[1116], b[1116], back[1100];
	uint8_t key[16], nonce[13], aad[40];
	size_t len, nl, tl, al;

	(void)state;
	for (len = 0; len <= 1100; len += (len < 40 ? 1 : 53)) {
		nl = 7 + len % 7;
		tl = len % 2 ? 8 : 16;
		al = len % 3 == 0 ? 0 : len % 40;
		RAND_bytes(key, 16);
		RAND_bytes(nonce, sizeof(nonce));
		RAND_bytes(aad, sizeof(aad));
		RAND_bytes(pt, sizeof(pt));
		assert_int_equal(ztp_aes128_ccm_seal(C, key, nonce, nl, aad, al, pt, len, tl, a), 0);
		evp_ccm_seal(key, nonce, nl, aad, al, pt, len, tl, b);
		assert_memory_equal(a, b, len + tl);
		assert_int_equal(ztp_aes128_ccm_open(C, key, nonce, nl, aad, al, a, len + tl, tl, back),
		    0);
		assert_memory_equal(back, pt, len);
	}
}

/* every bit flipped, in the ciphertext, the tag, the aad or the nonce, is refused */
static void
test_ccm_tamper(void **state)
{
	uint8_t key[16], nonce[12], aad[4] = { 1, 2, 3, 4 }, pt[21], ct[37], out[21];
	size_t bit;

	(void)state;
	RAND_bytes(key, 16);
	RAND_bytes(nonce, sizeof(nonce));
	RAND_bytes(pt, sizeof(pt));
	assert_int_equal(ztp_aes128_ccm_seal(C, key, nonce, 12, aad, 4, pt, 21, 16, ct), 0);
	for (bit = 0; bit < 8 * sizeof(ct); bit++) {
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(out, 0x55, sizeof(out));
		assert_int_equal(ztp_aes128_ccm_open(C, key, nonce, 12, aad, 4, ct, 37, 16, out),
		    ZTP_EAUTH);
		assert_true(ztp_ct_equal(out, (uint8_t[21]){ 0 }, 21)); /* wiped */
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	aad[0] ^= 1;
	assert_int_equal(ztp_aes128_ccm_open(C, key, nonce, 12, aad, 4, ct, 37, 16, out), ZTP_EAUTH);
	aad[0] ^= 1;
	nonce[11] ^= 1;
	assert_int_equal(ztp_aes128_ccm_open(C, key, nonce, 12, aad, 4, ct, 37, 16, out), ZTP_EAUTH);
	nonce[11] ^= 1;
	assert_int_equal(ztp_aes128_ccm_open(C, key, nonce, 12, aad, 4, ct, 37, 16, out), 0);
	/* parameters out of range */
	assert_int_equal(ztp_aes128_ccm_open(C, key, nonce, 6, NULL, 0, ct, 37, 16, out), ZTP_EINVAL);
	assert_int_equal(ztp_aes128_ccm_open(C, key, nonce, 12, NULL, 0, ct, 37, 15, out),
	    ZTP_EINVAL);
	assert_int_equal(ztp_aes128_ccm_open(C, key, nonce, 12, NULL, 0, ct, 7, 8, out) == 0, 0);
	assert_int_equal(ztp_aes128_ccm_open(C, key, nonce, 12, NULL, 0, ct, 7, 16, out), ZTP_EINVAL);
	/* 13-byte nonce: at most 65535 bytes */
	assert_int_equal(ztp_aes128_ccm_seal(C, key, nonce, 13, NULL, 0, pt, 65536, 16, ct),
	    ZTP_ERANGE);
}

static void
test_ct_equal_wipe(void **state)
{
	uint8_t a[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, b[8];

	(void)state;
	memcpy(b, a, 8);
	assert_true(ztp_ct_equal(a, b, 8));
	b[7] ^= 0x80;
	assert_false(ztp_ct_equal(a, b, 8));
	assert_true(ztp_ct_equal(a, b, 0));
	ztp_wipe(a, 8);
	assert_true(ztp_ct_equal(a, (uint8_t[8]){ 0 }, 8));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_vs_openssl),
		cmocka_unit_test(test_hkdf_rfc5869),
		cmocka_unit_test(test_cbc_vs_openssl),
		cmocka_unit_test(test_pkcs7),
		cmocka_unit_test(test_ccm_rfc3610),
		cmocka_unit_test(test_ccm_vs_openssl),
		cmocka_unit_test(test_ccm_tamper),
		cmocka_unit_test(test_ct_equal_wipe),
	};

	C = ztp_crypto_openssl();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
