/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device key store: numbered slots holding the device's private key and
 * its certificates, behind an interface that a file, a PKCS#11 token, a TPM
 * or a secure element can implement. See docs/device-keys.md.
 *
 * Slot layout (that of the secure elements of the seeds, e.g. an ATECC608
 * as Arduino IoT Cloud personalises it):
 *
 *   slot  0      the device private key, ECDSA P-256 (never leaves the store)
 *   slots 1-9    further private keys (key slots; unused by ztp today)
 *   slot  10     the device certificate, one X.509 certificate, DER or PEM
 *   slot  11     the CA certificate(s) the device trusts (EST /cacerts), DER
 *                or PEM, one or more
 *   slot  12     a second CA or the chain of the device certificate, DER or
 *                PEM, one or more
 *   slots 13-15  opaque data, at most KEYSTORE_DATA_MAX bytes
 *
 * A private key is used only through the interface: the store generates it,
 * gives its public key and signs digests with it. There is no call that
 * returns private key bytes, so a backend whose key cannot be exported
 * (PKCS#11, TPM, secure element) implements the same operations.
 *
 * The keystore_*() functions check their arguments and the slot kind, then
 * call the backend. Certificate slots (10-12) are checked on the way in and
 * on the way out: keystore_put refuses, and keystore_get reports as
 * ZTP_EMALFORMED, anything that is not one or more X.509 certificates.
 *
 * Errors are ZTP_E... codes; after a failure keystore_error() says what
 * failed in words (no secrets in it). A struct keystore is not thread-safe:
 * use one per thread, or lock around it.
 */
#ifndef ZTP_KEYSTORE_H
#define ZTP_KEYSTORE_H
#include <stddef.h>
#include <stdint.h>

struct evp_pkey_st; /* OpenSSL's EVP_PKEY */

#define KEYSTORE_SLOT_DEVICE_KEY 0
#define KEYSTORE_SLOT_DEVICE_CERT 10
#define KEYSTORE_SLOT_CA_CERT 11
#define KEYSTORE_SLOT_CA_CHAIN 12
#define KEYSTORE_SLOT_KEY_LAST 9 /* slots 0..9 hold private keys */
#define KEYSTORE_SLOT_MAX 15

#define KEYSTORE_DATA_MAX (64 * 1024) /* the largest data slot content */
#define KEYSTORE_ERR_MAX 256

/* P-256: public key 04 || X || Y (SEC 1 uncompressed), signature r || s */
#define KEYSTORE_P256_PUBKEY_LEN 65
#define KEYSTORE_P256_DIGEST_LEN 32
#define KEYSTORE_P256_SIG_LEN 64

enum keystore_key_type {
	KEYSTORE_KEY_P256 = 1, /* ECDSA on NIST P-256 (secp256r1, prime256v1) */
};

struct keystore;

/*
 * What a backend implements. Every operation returns 0 or a ZTP_E... code
 * and, on failure, should say why with keystore_fail(). The keystore_*()
 * wrappers have checked the arguments listed with each operation before it
 * is called.
 */
struct keystore_ops {
	const char *name; /* "file", "pkcs11", ... for messages */

	/*
	 * Copy the content of data slot `slot` (10..15) into buf[cap], its
	 * length into *len. ZTP_ENOENT: the slot is empty. ZTP_ERANGE: cap is
	 * too small, *len is the size needed. buf may be NULL when cap is 0.
	 */
	int (*get)(struct keystore *ks, int slot, uint8_t *buf, size_t cap, size_t *len);

	/* Replace data slot `slot` with data[len] (1..KEYSTORE_DATA_MAX), atomically. */
	int (*put)(struct keystore *ks, int slot, const uint8_t *data, size_t len);

	/* Empty slot `slot` (a key or a data slot). An empty slot is not an error. */
	int (*erase)(struct keystore *ks, int slot);

	/*
	 * Generate a key of `type` in key slot `slot` (0..9), inside the store.
	 * An occupied slot is ZTP_EEXIST unless overwrite is non-zero.
	 */
	int (*generate_key)(struct keystore *ks, int slot, enum keystore_key_type type,
	    int overwrite);

	/*
	 * The public key of key slot `slot` into out[cap], its length into *len:
	 * for P-256 the 65 bytes 04 || X || Y. ZTP_ENOENT: no key.
	 */
	int (*public_key)(struct keystore *ks, int slot, uint8_t *out, size_t cap, size_t *len);

	/*
	 * Sign digest[dlen] with the key of slot `slot`, into sig[cap], its
	 * length into *siglen: for P-256 a SHA-256 digest (32 bytes) and the
	 * raw 64-byte signature r || s, each big-endian, left-padded with zeros
	 * (what PKCS#11 CKM_ECDSA and secure elements produce).
	 */
	int (*sign_digest)(struct keystore *ks, int slot, const uint8_t *digest, size_t dlen,
	    uint8_t *sig, size_t cap, size_t *siglen);

	/*
	 * Optional (NULL if the backend cannot): an OpenSSL key handle for key
	 * slot `slot`, for TLS client authentication. *out is a new reference
	 * the caller frees with EVP_PKEY_free(). A handle may hold the key in
	 * this process (the file backend) or refer to it (a provider's key).
	 */
	int (*pkey)(struct keystore *ks, int slot, struct evp_pkey_st **out);

	/* Free everything ks holds, ks included. */
	void (*close)(struct keystore *ks);
};

/* The head of every backend's structure (embed it first). */
struct keystore {
	const struct keystore_ops *ops;
	char err[KEYSTORE_ERR_MAX]; /* the last failure, in words; "" if none */
};

/* 1 if slot is a key slot (0..9), 0 if not. */
int keystore_slot_is_key(int slot);

/* 1 if slot is a data slot (10..15), 0 if not. */
int keystore_slot_is_data(int slot);

/*
 * The content of data slot `slot` into buf[cap], its length into *len.
 * Returns 0; ZTP_EINVAL for a bad argument or a key slot (a private key is
 * never read out); ZTP_ENOENT if the slot is empty; ZTP_ERANGE if cap is too
 * small (*len is the size needed: call with buf NULL and cap 0 to learn it);
 * ZTP_ETOOBIG or ZTP_EMALFORMED if what the store holds is over
 * KEYSTORE_DATA_MAX or is not what the slot holds; ZTP_EIO.
 */
int keystore_get(struct keystore *ks, int slot, uint8_t *buf, size_t cap, size_t *len);

/*
 * Replace the content of data slot `slot` with data[len]; a reader sees the
 * old content or the new one, never a mix. Returns 0; ZTP_EINVAL for a bad
 * argument, a key slot or len 0; ZTP_ETOOBIG if len > KEYSTORE_DATA_MAX;
 * ZTP_EMALFORMED if a certificate slot is given anything but certificates;
 * ZTP_EIO. On failure the slot keeps its old content.
 */
int keystore_put(struct keystore *ks, int slot, const uint8_t *data, size_t len);

/* Empty slot `slot`. Returns 0 (also if it was empty), ZTP_EINVAL, ZTP_EIO. */
int keystore_erase(struct keystore *ks, int slot);

/*
 * Generate a new private key of `type` in key slot `slot`. Returns 0;
 * ZTP_EEXIST if the slot holds a key and overwrite is 0 (the key is kept);
 * ZTP_EINVAL; ZTP_ECRYPTO; ZTP_EIO.
 */
int keystore_generate_key(struct keystore *ks, int slot, enum keystore_key_type type,
    int overwrite);

/*
 * The public key of key slot `slot` (P-256: 04 || X || Y, 65 bytes) into
 * out[cap], its length into *len. Returns 0; ZTP_ENOENT if there is no key;
 * ZTP_ERANGE if cap is too small; ZTP_EMALFORMED if the slot holds something
 * that is not a P-256 key; ZTP_EINVAL; ZTP_EIO; ZTP_ECRYPTO.
 */
int keystore_public_key(struct keystore *ks, int slot, uint8_t *out, size_t cap, size_t *len);

/*
 * Sign the SHA-256 digest[dlen] (dlen 32) with the key of slot `slot`:
 * r || s (64 bytes) into sig[cap], its length into *siglen. Returns 0;
 * ZTP_ENOENT if there is no key; ZTP_ERANGE if cap < 64; ZTP_EINVAL;
 * ZTP_EMALFORMED; ZTP_EIO; ZTP_ECRYPTO.
 */
int keystore_sign_digest(struct keystore *ks, int slot, const uint8_t *digest, size_t dlen,
    uint8_t *sig, size_t cap, size_t *siglen);

/*
 * An OpenSSL handle on the key of slot `slot` (*out: a new reference, the
 * caller frees it with EVP_PKEY_free()). Returns 0; ZTP_EINVAL if the
 * backend has no such handle (sign with keystore_sign_digest() instead);
 * the errors of keystore_public_key().
 */
int keystore_pkey(struct keystore *ks, int slot, struct evp_pkey_st **out);

/* Close ks and free it. NULL is fine. */
void keystore_close(struct keystore *ks);

/* What the last failed call on ks was about, in words; "" if nothing failed. */
const char *keystore_error(const struct keystore *ks);

/*
 * For backends and the modules built on the interface: write the message of
 * a failure into ks->err and return rc.
 */
int keystore_fail(struct keystore *ks, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the file backend ---- */

/* keystore_file_open flags */
#define KEYSTORE_FILE_CREATE 0x1 /* create the directory if it does not exist */

/*
 * A key store in directory `dir`: one file per slot, "slot-NN" (NN the slot
 * number, two digits); a key slot's file is its private key in PEM
 * (PKCS#8, unencrypted: the directory's permissions protect it).
 *
 *  - The directory is created (with KEYSTORE_FILE_CREATE; its parent must
 *    exist) with mode 0700. An existing directory that group or others may
 *    access is refused (ZTP_ECONFLICT), as is a symbolic link.
 *  - Every file is written to a temporary file in the directory, with mode
 *    0600, fsync'd, renamed over the slot's file, and the directory fsync'd:
 *    after a crash a slot has its old content or its new one. Temporary
 *    files left by an interrupted write (".slot-NN.tmp.*") are never read
 *    and are removed when the store is opened.
 *  - Reads are bounded (KEYSTORE_DATA_MAX) and accept regular files only; a
 *    key file that group or others may access is refused.
 *  - One process at a time: two processes writing one store may lose an
 *    update (never tear a file), and opening a store removes the temporary
 *    files of a write in progress elsewhere.
 *
 * Returns 0 with *out set (free it with keystore_close()); ZTP_EINVAL;
 * ZTP_ENOENT if dir does not exist and KEYSTORE_FILE_CREATE is not given;
 * ZTP_ECONFLICT (see above); ZTP_ENOMEM; ZTP_EIO. On failure a message is
 * written to err[errcap] (err may be NULL).
 */
int keystore_file_open(const char *dir, unsigned flags, struct keystore **out, char *err,
    size_t errcap);

#endif
