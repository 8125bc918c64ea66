/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "crypto.h"
#include "ztp/err.h"

int
crypto_random(void *buf, size_t len)
{
	if (len > 0x7fffffff || RAND_bytes(buf, (int)len) != 1)
		return ZTP_ECRYPTO;
	return 0;
}

int
crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int
crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
    uint8_t out[32])
{
	unsigned int n = 32;

	if (HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &n) == NULL)
		return ZTP_ECRYPTO;
	return 0;
}

int
crypto_sha256(const void *msg, size_t len, uint8_t out[32])
{
	return SHA256(msg, len, out) ? 0 : ZTP_ECRYPTO;
}

int
crypto_pkey_sha256(EVP_PKEY *key, uint8_t out[32])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key, &der), rc;

	if (n <= 0)
		return ZTP_ECRYPTO;
	rc = crypto_sha256(der, (size_t)n, out);
	OPENSSL_free(der);
	return rc;
}

int
crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const void *aad, size_t aadlen,
    const uint8_t *pt, size_t ptlen, uint8_t *out, size_t cap, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n, rc = ZTP_ECRYPTO;

	if (ptlen > 0x7fffffff || aadlen > 0x7fffffff || cap < ptlen + CRYPTO_SEAL_OVERHEAD)
		return ZTP_ERANGE;
	if (crypto_random(out, 12) != 0)
		return ZTP_ECRYPTO;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out) != 1)
		goto out;
	if (aadlen > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
		goto out;
	if (ptlen > 0 && EVP_EncryptUpdate(ctx, out + 12, &n, pt, (int)ptlen) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, out + 12 + ptlen, &n) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + 12 + ptlen) != 1)
		goto out;
	*outlen = ptlen + CRYPTO_SEAL_OVERHEAD;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const void *aad, size_t aadlen,
    const uint8_t *in, size_t inlen, uint8_t *out, size_t cap, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	size_t ctlen;
	int n, rc = ZTP_ECRYPTO;

	if (inlen < CRYPTO_SEAL_OVERHEAD || inlen > 0x7fffffff || aadlen > 0x7fffffff)
		return ZTP_EMALFORMED;
	ctlen = inlen - CRYPTO_SEAL_OVERHEAD;
	if (cap < ctlen)
		return ZTP_ERANGE;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, in) != 1)
		goto out;
	if (aadlen > 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
		goto out;
	if (ctlen > 0 && EVP_DecryptUpdate(ctx, out, &n, in + 12, (int)ctlen) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)(in + 12 + ctlen)) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, out + ctlen, &n) != 1) {
		OPENSSL_cleanse(out, ctlen);
		rc = ZTP_EAUTH;
		goto out;
	}
	*outlen = ctlen;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
crypto_derive(const uint8_t key[CRYPTO_KEY_LEN], const char *info, uint8_t *out,
    size_t outlen)
{
	EVP_PKEY_CTX *pctx;
	int rc = ZTP_ECRYPTO;

	if ((pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL)) == NULL)
		return ZTP_ECRYPTO;
	if (EVP_PKEY_derive_init(pctx) <= 0 ||
	    EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_key(pctx, key, CRYPTO_KEY_LEN) <= 0 ||
	    EVP_PKEY_CTX_add1_hkdf_info(pctx, (const unsigned char *)info, (int)strlen(info)) <= 0 ||
	    EVP_PKEY_derive(pctx, out, &outlen) <= 0)
		goto out;
	rc = 0;
out:
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

SSL_SESSION *
crypto_psk_session(const SSL_CIPHER *cipher, const uint8_t *psk, size_t len)
{
	SSL_SESSION *s;

	if (cipher == NULL || (s = SSL_SESSION_new()) == NULL)
		return NULL;
	if (!SSL_SESSION_set1_master_key(s, psk, len) || !SSL_SESSION_set_cipher(s, cipher) ||
	    !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
		SSL_SESSION_free(s);
		return NULL;
	}
	return s;
}

STACK_OF(X509) *
crypto_read_certs(const char *path)
{
	STACK_OF(X509) *sk;
	X509 *cert;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if ((sk = sk_X509_new_null()) == NULL) {
		fclose(f);
		return NULL;
	}
	while ((cert = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(sk, cert)) {
			X509_free(cert);
			break;
		}
	ERR_clear_error(); /* the end of the file */
	fclose(f);
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		return NULL;
	}
	return sk;
}

int
crypto_random_password(char out[CRYPTO_PASSWORD_LEN + 1])
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t r[CRYPTO_PASSWORD_LEN / 4 * 3];
	size_t i, o = 0;

	if (crypto_random(r, sizeof(r)) != 0)
		return ZTP_ECRYPTO;
	for (i = 0; i < sizeof(r); i += 3) {
		uint32_t v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 | r[i + 2];
		out[o++] = a[(v >> 18) & 63];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	out[o] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}
