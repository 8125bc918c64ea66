/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ZTP certificate authorities in the signer (ztpca.c): an owner's CA for
 * the device certificates that modules receive (docs/security-service.md
 * "ZTP certificates", the messages in signer_msg.h). The signer holds no
 * such CA: it makes or imports one and hands its key out wrapped, then
 * opens the wrapped key for each request that signs with it, and forgets
 * it again.
 *
 * The wrapping key: HKDF-SHA256 (crypto_derive, info "ztp ztp-ca key wrap
 * v1") of the SHA-256 of the signer's own CA private key (the EC scalar,
 * the RSA private exponent, the raw Ed25519/Ed448 key). Only a process
 * that holds ca.key can open a wrapped key, on any node that has the same
 * CA (a node bundle with the key); the front, which keeps the wrapped keys
 * in the store, cannot. A wrapped key is: 0x01, then crypto_seal()'s
 * nonce, ciphertext and tag of the CA key's PKCS#8 DER, with the
 * associated data "ztp-ca:" + the CA's identity ("<owner>/<name>"), so
 * that a wrapped key moved to another owner's row does not open.
 */
#ifndef ZTP_ZTPCA_H
#define ZTP_ZTPCA_H
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "signer_msg.h"

/*
 * Answer a decoded ZTPCA_CREATE, ZTPCA_IMPORT, ZTPCA_SIGN or ZTPCA_POP
 * (m) with the signer's own CA key signer_key (for the wrapping key only)
 * into out: ZTPCA or CERT. out may point to *der (the caller frees it with
 * OPENSSL_free) and into a static buffer of this module, valid until the
 * next call. Returns 0 or a code with *why: ZTP_EAUTH (a wrapped key that
 * does not open under its identity, or is not the certificate's),
 * ZTP_EINVAL (not a CA, a key of a type or size refused, a PKCS#8 that is
 * not the certificate's key), ZTP_EMALFORMED (not one DER certificate or
 * PKCS#8), ZTP_EEXPIRED (the CA is not valid now), ZTP_ECRYPTO.
 */
int ztpca_handle(EVP_PKEY *signer_key, const struct signer_msg *m, struct signer_msg *out,
    uint8_t **der, const char **why);

/*
 * signer.c: issue the certificate of request r for the key spki[0..len)
 * with the CA (cert, key), as SIGN_SPKI does with the signer's own CA.
 */
int signer_issue_for(X509 *cert, EVP_PKEY *key, const struct signer_csr_req *r,
    const uint8_t *spki, size_t spki_len, struct signer_msg *out, uint8_t **der,
    const char **why);

#endif
