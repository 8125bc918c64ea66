/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device's key and its certificate request (PKCS#10, RFC 2986), for
 * enrolment over EST. The key lives in the key store (ztp/keystore.h) and
 * is used only through it: the request is built with OpenSSL and signed by
 * keystore_sign_digest(), so it works as well with a backend that can only
 * sign (PKCS#11, TPM, secure element) as with the file backend.
 *
 * The request:
 *  - version 1 (0), subject CN=<UDID>, serialNumber=<UDID> (the server's
 *    allowlist matches either);
 *  - the P-256 public key of the key slot;
 *  - optionally a challengePassword attribute (PKCS#9), for EST's one-time
 *    enrolment password;
 *  - no extensions; signed ecdsa-with-SHA256, and verified against the
 *    slot's public key before it is returned.
 *
 * Host code (OpenSSL). Errors are ZTP_E... codes; what failed, in words, is
 * in keystore_error(ks).
 */
#ifndef ZTP_CSR_H
#define ZTP_CSR_H
#include <stddef.h>
#include <stdint.h>

struct keystore;

/*
 * A UDID: 1 to CSR_UDID_MAX characters, each a letter, a digit, '-', '.'
 * or ':'. serialNumber is a PrintableString (no '_', no '@') of at most
 * 64 characters, and these characters need no escaping in any textual form
 * of a distinguished name ("CN=...,serialNumber=...", "/CN=.../...").
 */
#define CSR_UDID_MAX 64
/* a challenge password: 1 to 255 printable ASCII characters (0x20-0x7E) */
#define CSR_PASSWORD_MAX 255

enum csr_format {
	CSR_DER = 1, /* DER bytes */
	CSR_PEM,     /* PEM text, NUL-terminated (the length excludes the NUL) */
};

struct csr_req {
	const char *udid;               /* required */
	const char *challenge_password; /* NULL: no challengePassword attribute */
	int slot;                       /* the key slot; KEYSTORE_SLOT_DEVICE_KEY normally */
};

/* 1 if udid is a valid UDID (see above), 0 if not. NULL is not. */
int csr_udid_valid(const char *udid);

/*
 * Generate the device key, P-256, in key slot `slot` (normally
 * KEYSTORE_SLOT_DEVICE_KEY). Returns 0; ZTP_EEXIST if the slot holds a key
 * and overwrite is 0 (the key is kept: a device's key is its identity, and
 * the allowlist knows the old one); the errors of keystore_generate_key().
 */
int csr_generate_key(struct keystore *ks, int slot, int overwrite);

/*
 * The certificate request for req, in `fmt`: *out (malloc'd, the caller
 * frees it with free()) and *outlen. Returns 0; ZTP_EINVAL for a bad UDID,
 * password, slot or format (nothing is signed); ZTP_ENOENT if the slot holds
 * no key; ZTP_ECRYPTO if OpenSSL fails or the store's signature does not
 * verify with the slot's public key; ZTP_ENOMEM; the errors of
 * keystore_public_key() and keystore_sign_digest(). On failure *out is NULL.
 */
int csr_create(struct keystore *ks, const struct csr_req *req, enum csr_format fmt,
    uint8_t **out, size_t *outlen);

/*
 * The public key of key slot `slot` as a SubjectPublicKeyInfo, in `fmt`
 * (PEM: "-----BEGIN PUBLIC KEY-----"): what the operator imports with
 * `ztpctl allowlist add UDID --pubkey FILE`. *out (malloc'd, the caller
 * frees it with free()) and *outlen. Returns 0, ZTP_EINVAL, ZTP_ENOMEM,
 * ZTP_ECRYPTO, or the errors of keystore_public_key().
 */
int csr_public_key(struct keystore *ks, int slot, enum csr_format fmt, uint8_t **out,
    size_t *outlen);

#endif
