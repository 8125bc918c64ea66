/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CA's files in the data directory, handled only where the CA key may
 * be: the signer process (created or loaded before it drops privileges)
 * and ztpd --import-ca.
 *
 *   ca.pass   64 hexadecimal characters, random, mode 0600, owned by root
 *             when ztpd starts as root: the passphrase of ca.key. Nothing
 *             the front holds derives it.
 *   ca.key    the CA private key, PEM encrypted with ca.pass (mode 0600)
 *   ca.pem    the CA certificate, then its chain if imported (mode 0644)
 *
 * Data directories of earlier versions have ca.key encrypted with a
 * passphrase derived from secret.key and no ca.pass: cakey_load() reads
 * such a key once with that derivation and encrypts it again with a new
 * ca.pass, so that secret.key no longer opens it.
 */
#ifndef ZTP_CAKEY_H
#define ZTP_CAKEY_H
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * Create a CA (ECDSA P-256, ten years, "ztp CA <host>") in dir unless
 * dir/ca.pem exists: ca.pass, ca.key, then ca.pem. Returns 0 or a code.
 */
int cakey_create(const char *dir);

/*
 * 0 if dir has ca.key (or cannot tell: loading it will say why), or
 * ZTP_ENOENT after logging what that means: dir has the CA certificate
 * but not its key, as a node joined from a bundle without it, and its
 * signer cannot start. Call after cakey_create().
 */
int cakey_present(const char *dir);

/*
 * Load the CA key of dir into *out (the caller frees it) with ca.pass. If
 * there is no ca.pass (or it does not open ca.key) and legacy_key (the
 * 32 bytes of secret.key) is not NULL, read ca.key with the passphrase
 * derived from it and encrypt it again with a new ca.pass. Returns 0,
 * ZTP_EIO (the reason logged) or another code.
 */
int cakey_load(const char *dir, const uint8_t *legacy_key, EVP_PKEY **out);

/*
 * ztpd --import-ca: write keyfile's private key (PEM, unencrypted or
 * asking for its passphrase) as dir/ca.key with a new ca.pass, and
 * certfile's certificates (the CA's, then its chain) as dir/ca.pem, after
 * checking that the key is the first certificate's, that it is a CA
 * (basicConstraints CA:TRUE, keyCertSign, cRLSign) and has not expired.
 * dir must not have a CA yet. Returns 0 or a code (the reason logged).
 */
int cakey_import(const char *dir, const char *certfile, const char *keyfile);

#endif
