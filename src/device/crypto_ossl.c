/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct ztp_crypto over OpenSSL's libcrypto (crypto_ossl.h): a Linux
 * host's platform for the device core.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ztp/crypto_ossl.h"

static int
ossl_aes128(void *arg, int enc, const uint8_t key[ZTP_AES128_KEY], const uint8_t in[ZTP_AES_BLOCK],
    uint8_t out[ZTP_AES_BLOCK])
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t buf[ZTP_AES_BLOCK];
	int n = 0, ok;

	(void)arg;
	if (x == NULL)
		return -1;
	ok = EVP_CipherInit_ex(x, EVP_aes_128_ecb(), NULL, key, NULL, enc) == 1 &&
	    EVP_CIPHER_CTX_set_padding(x, 0) == 1 &&
	    EVP_CipherUpdate(x, buf, &n, in, ZTP_AES_BLOCK) == 1 && n == ZTP_AES_BLOCK;
	EVP_CIPHER_CTX_free(x);
	if (ok)
		memcpy(out, buf, ZTP_AES_BLOCK);
	OPENSSL_cleanse(buf, sizeof(buf));
	return ok ? 0 : -1;
}

static int
ossl_sha256(void *arg, const struct ztp_iov *iov, size_t n, uint8_t out[ZTP_SHA256_LEN])
{
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	unsigned len = 0;
	size_t i;
	int ok;

	(void)arg;
	if (x == NULL)
		return -1;
	ok = EVP_DigestInit_ex(x, EVP_sha256(), NULL) == 1;
	for (i = 0; ok && i < n; i++)
		ok = iov[i].n == 0 || EVP_DigestUpdate(x, iov[i].p, iov[i].n) == 1;
	ok = ok && EVP_DigestFinal_ex(x, out, &len) == 1 && len == ZTP_SHA256_LEN;
	EVP_MD_CTX_free(x);
	return ok ? 0 : -1;
}

static int
ossl_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	return len > 0x7fffffff || RAND_bytes(buf, (int)len) != 1 ? -1 : 0;
}

static const struct ztp_crypto ossl = { ossl_aes128, ossl_sha256, ossl_random, NULL };

const struct ztp_crypto *
ztp_crypto_openssl(void)
{
	return &ossl;
}
