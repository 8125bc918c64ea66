/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node bundle: what a second ztpd on the same store needs from the
 * first (ztpd export-node, ztpd join; docs/node-bundle.md), encrypted with
 * a passphrase. This module is the format only: no I/O, no allocation but
 * nodebundle_seal()'s and nodebundle_open()'s result.
 *
 * Version 1, every integer big-endian:
 *
 *   offset  size
 *    0       8   magic "ZTP-NODE"
 *    8       2   version, 1
 *   10       1   KDF, 1: scrypt
 *   11       1   scrypt log2(N), 14..20
 *   12       1   scrypt r, 1..32
 *   13       1   scrypt p, 1..4         (128 * r * N at most 256 MiB)
 *   14       2   zero
 *   16      16   salt
 *   32      12   AES-256-GCM nonce
 *   44       4   length n of the plaintext, at most NODEBUNDLE_PLAIN_MAX
 *   48       n   the plaintext, AES-256-GCM encrypted under
 *                scrypt(passphrase, salt, N, r, p), 32 bytes; the 48 bytes
 *                before it are the associated data
 *   48+n    16   GCM tag
 *
 * The file is exactly 64 + n bytes. The plaintext is a run of sections,
 * each a type (1 byte), a length (4 bytes) and that many bytes, in
 * ascending type order, each type at most once, nothing after the last:
 *
 *   1  secret.key  exactly 32 bytes                      required
 *   2  ca.pem      1..256 KiB of text (no NUL)           required
 *   3  ca.key      1..64 KiB of text (no NUL)            optional
 *   4  ca.pass     exactly 64 hexadecimal characters     optional, only with 3
 *
 * (3 without 4: a data directory from before ca.pass, whose ca.key opens
 * with a passphrase derived from secret.key; the signer migrates it.)
 * Anything else is refused: another version, KDF or section type, costs
 * out of bounds, a length past the end, trailing bytes.
 */
#ifndef ZTP_NODEBUNDLE_H
#define ZTP_NODEBUNDLE_H
#include <stddef.h>
#include <stdint.h>

#define NODEBUNDLE_VERSION 1
#define NODEBUNDLE_HEADER_LEN 48
#define NODEBUNDLE_TAG_LEN 16
#define NODEBUNDLE_SALT_LEN 16
#define NODEBUNDLE_NONCE_LEN 12
#define NODEBUNDLE_KEY_LEN 32
#define NODEBUNDLE_PLAIN_MAX (1024 * 1024)
#define NODEBUNDLE_FILE_MAX (NODEBUNDLE_HEADER_LEN + NODEBUNDLE_PLAIN_MAX + NODEBUNDLE_TAG_LEN)
#define NODEBUNDLE_PASS_MAX 1024 /* bytes of a passphrase */

#define NODEBUNDLE_SECRET_KEY_LEN 32
#define NODEBUNDLE_CA_PEM_MAX (256 * 1024)
#define NODEBUNDLE_CA_KEY_MAX (64 * 1024)
#define NODEBUNDLE_CA_PASS_LEN 64

/* scrypt's costs: what export-node writes, and the bounds a reader accepts */
#define NODEBUNDLE_KDF_SCRYPT 1
#define NODEBUNDLE_LOG2N_DEFAULT 17 /* with r 8: 128 MiB, a fraction of a second */
#define NODEBUNDLE_LOG2N_MIN 14
#define NODEBUNDLE_LOG2N_MAX 20
#define NODEBUNDLE_R_DEFAULT 8
#define NODEBUNDLE_R_MAX 32
#define NODEBUNDLE_P_DEFAULT 1
#define NODEBUNDLE_P_MAX 4
#define NODEBUNDLE_KDF_MEM_MAX ((uint64_t)256 * 1024 * 1024)

enum nodebundle_section {
	NODEBUNDLE_SECRET_KEY = 1,
	NODEBUNDLE_CA_PEM = 2,
	NODEBUNDLE_CA_KEY = 3,
	NODEBUNDLE_CA_PASS = 4,
};

/* What a bundle holds. Decoded, the pointers point into the plaintext. */
struct nodebundle {
	const uint8_t *secret_key; /* NODEBUNDLE_SECRET_KEY_LEN bytes */
	const uint8_t *ca_pem;
	size_t ca_pem_len;
	const uint8_t *ca_key; /* NULL: none */
	size_t ca_key_len;
	const uint8_t *ca_pass; /* NULL: none; NODEBUNDLE_CA_PASS_LEN bytes */
	size_t ca_pass_len;
};

struct nodebundle_header {
	uint16_t version;
	uint8_t kdf;
	uint8_t log2n, r, p;
	uint8_t salt[NODEBUNDLE_SALT_LEN];
	uint8_t nonce[NODEBUNDLE_NONCE_LEN];
	uint32_t plain_len;
};

/*
 * The sections of nb into out (cap bytes); *len gets their length.
 * ZTP_EINVAL if nb is not a valid bundle (the rules above), ZTP_ERANGE if
 * cap is too small. nodebundle_encoded_len(): the length, 0 if not valid.
 */
int nodebundle_encode(const struct nodebundle *nb, uint8_t *out, size_t cap, size_t *len);
size_t nodebundle_encoded_len(const struct nodebundle *nb);

/*
 * Read the sections of plain[0..len) into *nb, whose pointers then point
 * into plain. 0, or ZTP_EMALFORMED with the reason in why (whycap bytes);
 * *nb is zeroed on failure.
 */
int nodebundle_decode(const uint8_t *plain, size_t len, struct nodebundle *nb, char *why,
    size_t whycap);

/*
 * Read and check the header of the file buf[0..len), including that len
 * is exactly what its plaintext length says. 0; ZTP_EMALFORMED (not a
 * bundle, truncated, trailing bytes, bad fields), ZTP_ERANGE (another
 * version) or ZTP_ETOOBIG, each with the reason in why.
 */
int nodebundle_header_read(const uint8_t *buf, size_t len, struct nodebundle_header *h,
    char *why, size_t whycap);
/* The 48 header bytes of h into out. */
void nodebundle_header_write(const struct nodebundle_header *h,
    uint8_t out[NODEBUNDLE_HEADER_LEN]);

/*
 * The file key: scrypt of pass[0..passlen) with h's salt and costs.
 * 0, ZTP_EINVAL (costs out of bounds, passphrase empty or too long) or
 * ZTP_ECRYPTO.
 */
int nodebundle_derive(const struct nodebundle_header *h, const char *pass, size_t passlen,
    uint8_t key[NODEBUNDLE_KEY_LEN]);

/*
 * Encrypt plain[0..plainlen) under key with h's nonce into the file out
 * (cap bytes, NODEBUNDLE_HEADER_LEN + plainlen + NODEBUNDLE_TAG_LEN of
 * them), h->plain_len set from plainlen. 0, ZTP_ERANGE, ZTP_ECRYPTO.
 */
int nodebundle_seal_key(struct nodebundle_header *h, const uint8_t key[NODEBUNDLE_KEY_LEN],
    const uint8_t *plain, size_t plainlen, uint8_t *out, size_t cap, size_t *outlen);

/*
 * Decrypt the file buf[0..len), whose header h is (nodebundle_header_read),
 * under key into plain (cap bytes, at least h->plain_len). 0, ZTP_EAUTH
 * (wrong key, or a byte changed), ZTP_ERANGE. On failure plain is wiped.
 */
int nodebundle_open_key(const uint8_t *buf, size_t len, const struct nodebundle_header *h,
    const uint8_t key[NODEBUNDLE_KEY_LEN], uint8_t *plain, size_t cap, size_t *plainlen);

/*
 * The whole of export-node: nb encoded and sealed under pass with a fresh
 * salt and nonce, scrypt at log2n (0: NODEBUNDLE_LOG2N_DEFAULT), r 8, p 1.
 * *out (*outlen bytes) is the caller's to free with free(). 0, ZTP_EINVAL,
 * ZTP_ENOMEM, ZTP_ECRYPTO.
 */
int nodebundle_seal(const struct nodebundle *nb, const char *pass, size_t passlen, int log2n,
    uint8_t **out, size_t *outlen);

/*
 * The whole of join: the file buf[0..len) read, its key derived from pass,
 * decrypted and decoded into *nb, which points into *plain: the caller
 * frees it with nodebundle_plain_free(*plain, *plainlen), which wipes it.
 * 0, or a code of the functions above with the reason in why.
 */
int nodebundle_open(const uint8_t *buf, size_t len, const char *pass, size_t passlen,
    uint8_t **plain, size_t *plainlen, struct nodebundle *nb, char *why, size_t whycap);
void nodebundle_plain_free(uint8_t *plain, size_t len);

#endif
