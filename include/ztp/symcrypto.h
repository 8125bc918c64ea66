/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Symmetric cryptography for the device core (libztp): HMAC-SHA256,
 * HKDF-SHA256, AES-128-CBC, AES-128-CCM and constant-time helpers, built
 * on three primitives the platform supplies (struct ztp_crypto): one AES
 * block (encrypt and decrypt), SHA-256 over a list of pieces, and a random
 * source. A module maker plugs in its crypto engine; a Linux host uses
 * ztp_crypto_openssl() (src/device/crypto_ossl.c, not part of the core).
 *
 * Portable C: no allocation, no I/O. Every buffer is the caller's; keys
 * on the stack are wiped before a function returns.
 */
#ifndef ZTP_SYMCRYPTO_H
#define ZTP_SYMCRYPTO_H
#include <stddef.h>
#include <stdint.h>

#define ZTP_AES_BLOCK 16
#define ZTP_AES128_KEY 16
#define ZTP_SHA256_LEN 32
#define ZTP_IOV_MAX 8 /* pieces one SHA-256 call may take */

/* One piece of a message. */
struct ztp_iov {
	const void *p;
	size_t n;
};

/*
 * What the platform supplies. Each returns 0, or a negative value on
 * failure (the core reports ZTP_ECRYPTO). arg is passed back unchanged.
 *   aes128: one block under key, in place allowed; enc 1 encrypt, 0 decrypt.
 *   sha256: the digest of the concatenation of iov[0..n) (n <= ZTP_IOV_MAX).
 *   random: len bytes from a cryptographic random source.
 */
struct ztp_crypto {
	int (*aes128)(void *arg, int enc, const uint8_t key[ZTP_AES128_KEY],
	    const uint8_t in[ZTP_AES_BLOCK], uint8_t out[ZTP_AES_BLOCK]);
	int (*sha256)(void *arg, const struct ztp_iov *iov, size_t n, uint8_t out[ZTP_SHA256_LEN]);
	int (*random)(void *arg, uint8_t *buf, size_t len);
	void *arg;
};

/* Zero p[0..n) in a way the compiler keeps. */
void ztp_wipe(void *p, size_t n);

/* 1 if a[0..n) equals b[0..n), 0 if not; the time does not depend on the bytes. */
int ztp_ct_equal(const void *a, const void *b, size_t n);

/*
 * HMAC-SHA256 under key[0..keylen) of the concatenation of msg[0..n)
 * (n <= ZTP_IOV_MAX - 1). Returns 0 or ZTP_EINVAL / ZTP_ECRYPTO.
 */
int ztp_hmac_sha256(const struct ztp_crypto *c, const uint8_t *key, size_t keylen,
    const struct ztp_iov *msg, size_t n, uint8_t out[ZTP_SHA256_LEN]);

/*
 * HKDF-Expand (RFC 5869) with SHA-256: out[0..outlen) from the
 * pseudo-random key prk[0..prklen) and info = the concatenation of
 * info[0..n) (n <= ZTP_IOV_MAX - 2); outlen <= 255 * 32.
 */
int ztp_hkdf_expand(const struct ztp_crypto *c, const uint8_t *prk, size_t prklen,
    const struct ztp_iov *info, size_t n, uint8_t *out, size_t outlen);

/*
 * AES-128-CBC over whole blocks (len a multiple of 16; in and out may be
 * the same buffer). No padding: ztp_pkcs7_pad / ztp_pkcs7_unpad.
 */
int ztp_aes128_cbc_encrypt(const struct ztp_crypto *c, const uint8_t key[ZTP_AES128_KEY],
    const uint8_t iv[ZTP_AES_BLOCK], const uint8_t *in, size_t len, uint8_t *out);
int ztp_aes128_cbc_decrypt(const struct ztp_crypto *c, const uint8_t key[ZTP_AES128_KEY],
    const uint8_t iv[ZTP_AES_BLOCK], const uint8_t *in, size_t len, uint8_t *out);

/*
 * PKCS#7 padding to a multiple of 16: buf holds len bytes and room for
 * the padding (cap >= len rounded up to the next multiple of 16, always
 * 1..16 bytes added); *outlen gets the padded length. unpad checks every
 * padding byte (in constant time over the last block) and returns
 * ZTP_EMALFORMED for a bad one.
 */
int ztp_pkcs7_pad(uint8_t *buf, size_t len, size_t cap, size_t *outlen);
int ztp_pkcs7_unpad(const uint8_t *buf, size_t len, size_t *outlen);

/*
 * AES-128-CCM (RFC 3610, NIST SP 800-38C): nonce of 7..13 bytes, tag of
 * 4..16 bytes (even), additional data aad[0..aadlen) (may be NULL/0).
 * seal: out gets the ciphertext (len bytes) and then the tag. open: in is
 * ciphertext then tag (inlen >= taglen); out gets inlen - taglen bytes,
 * and nothing usable (it is wiped) when the tag does not verify:
 * ZTP_EAUTH. in and out may be the same buffer. The length must fit the
 * nonce's counter (15 - noncelen bytes): ZTP_ERANGE.
 */
int ztp_aes128_ccm_seal(const struct ztp_crypto *c, const uint8_t key[ZTP_AES128_KEY],
    const uint8_t *nonce, size_t noncelen, const uint8_t *aad, size_t aadlen, const uint8_t *in,
    size_t len, size_t taglen, uint8_t *out);
int ztp_aes128_ccm_open(const struct ztp_crypto *c, const uint8_t key[ZTP_AES128_KEY],
    const uint8_t *nonce, size_t noncelen, const uint8_t *aad, size_t aadlen, const uint8_t *in,
    size_t inlen, size_t taglen, uint8_t *out);

#endif
