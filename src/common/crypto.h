/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small wrappers over OpenSSL for what every ztp binary needs.
 */
#ifndef ZTP_CRYPTO_H
#define ZTP_CRYPTO_H
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#define CRYPTO_KEY_LEN 32
#define CRYPTO_SEAL_OVERHEAD (12 + 16) /* nonce + tag */

/* Fill buf with len bytes from the OS CSPRNG. Returns 0 or ZTP_ECRYPTO. */
int crypto_random(void *buf, size_t len);

/* A random password: 18 random bytes as 24 base64url characters and a NUL. */
#define CRYPTO_PASSWORD_LEN 24
int crypto_random_password(char out[CRYPTO_PASSWORD_LEN + 1]);

/* Constant-time comparison: 1 if equal, 0 if not. */
int crypto_equal(const void *a, const void *b, size_t len);

/* HMAC-SHA256 of msg under key into out[32]. Returns 0 or ZTP_ECRYPTO. */
int crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
    uint8_t out[32]);

/* SHA-256 of msg into out[32]. */
int crypto_sha256(const void *msg, size_t len, uint8_t out[32]);

/*
 * SHA-256 of key's DER SubjectPublicKeyInfo into out[32]: how ztp names a
 * public key (allowlist, certificate records, the signer's check). Returns
 * 0 or ZTP_ECRYPTO.
 */
int crypto_pkey_sha256(EVP_PKEY *key, uint8_t out[32]);

/*
 * AES-256-GCM with a fresh random nonce: out = nonce || ciphertext || tag,
 * len + CRYPTO_SEAL_OVERHEAD bytes. aad binds the ciphertext to its row.
 */
int crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const void *aad, size_t aadlen,
    const uint8_t *pt, size_t ptlen, uint8_t *out, size_t cap, size_t *outlen);

/* Inverse of crypto_seal. Returns 0, ZTP_EAUTH if the tag fails, ZTP_ERANGE. */
int crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const void *aad, size_t aadlen,
    const uint8_t *in, size_t inlen, uint8_t *out, size_t cap, size_t *outlen);

/* HKDF-SHA256 of key with info into out[outlen]. */
int crypto_derive(const uint8_t key[CRYPTO_KEY_LEN], const char *info, uint8_t *out,
    size_t outlen);

/*
 * A TLS 1.3 session holding the external PSK psk[0..len), for OpenSSL's
 * PSK callbacks on either side; cipher fixes the hash (a SHA-256 suite for
 * ztp). The caller owns it (SSL_SESSION_free). NULL on failure.
 */
SSL_SESSION *crypto_psk_session(const SSL_CIPHER *cipher, const uint8_t *psk, size_t len);

/* Every certificate of the PEM file path, in order; NULL if none or unreadable. */
STACK_OF(X509) *crypto_read_certs(const char *path);

#endif
