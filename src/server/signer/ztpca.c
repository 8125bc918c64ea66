/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ZTP certificate authorities in the signer (ztpca.h): create, import,
 * sign with, prove possession of. Each request opens what it needs and
 * frees it before it returns; the CA's private key in clear is wiped.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "log.h"
#include "ztpca.h"
#include "ztp/err.h"

#define WRAP_VERSION 1
#define WRAP_INFO "ztp ztp-ca key wrap v1"
#define BACKDATE_SECS 3600

/* The answer's wrapped key: valid until the next request (the signer is one thread). */
static uint8_t wrapped_out[SIGNER_ZTPCA_KEY_MAX];

/*
 * The wrapping key, from the signer's CA private key (ztpca.h). 0, or
 * ZTP_ECRYPTO for a key whose private part cannot be read.
 */
static int
wrap_key(EVP_PKEY *k, uint8_t out[CRYPTO_KEY_LEN])
{
	uint8_t priv[1024], ikm[32];
	size_t len = 0;
	BIGNUM *bn = NULL;
	int rc = ZTP_ECRYPTO, n;

	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_EC:
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bn_param(k, EVP_PKEY_get_base_id(k) == EVP_PKEY_EC ?
			OSSL_PKEY_PARAM_PRIV_KEY : OSSL_PKEY_PARAM_RSA_D, &bn) != 1 ||
		    BN_num_bytes(bn) > (int)sizeof(priv))
			goto out;
		n = BN_bn2bin(bn, priv);
		len = (size_t)n;
		break;
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		len = sizeof(priv);
		if (EVP_PKEY_get_raw_private_key(k, priv, &len) != 1)
			goto out;
		break;
	default:
		goto out;
	}
	if (len == 0 || crypto_sha256(priv, len, ikm) != 0 ||
	    crypto_derive(ikm, WRAP_INFO, out, CRYPTO_KEY_LEN) != 0)
		goto out;
	rc = 0;
out:
	BN_clear_free(bn);
	OPENSSL_cleanse(priv, sizeof(priv));
	OPENSSL_cleanse(ikm, sizeof(ikm));
	ERR_clear_error();
	return rc;
}

/* The associated data of a wrapped key: "ztp-ca:<id>". */
static size_t
wrap_aad(const char *id, char *out, size_t cap)
{
	int n = snprintf(out, cap, "ztp-ca:%s", id);

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Wrap key (as PKCS#8) for id into wrapped_out; *len. 0 or a code with *why. */
static int
wrap(EVP_PKEY *signer_key, EVP_PKEY *key, const char *id, size_t *len, const char **why)
{
	uint8_t wk[CRYPTO_KEY_LEN];
	char aad[SIGNER_ZTPCA_ID_MAX + 16];
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	unsigned char *der = NULL;
	size_t alen, n = 0;
	int dlen = 0, rc = ZTP_ECRYPTO;

	*why = "cannot wrap the CA key";
	if ((alen = wrap_aad(id, aad, sizeof(aad))) == 0 || wrap_key(signer_key, wk) != 0 ||
	    (p8 = EVP_PKEY2PKCS8(key)) == NULL || (dlen = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) <= 0)
		goto out;
	if ((size_t)dlen > SIGNER_ZTPCA_PKCS8_MAX) {
		*why = "the CA key is too large";
		rc = ZTP_ERANGE;
		goto out;
	}
	wrapped_out[0] = WRAP_VERSION;
	if (crypto_seal(wk, aad, alen, der, (size_t)dlen, wrapped_out + 1,
		sizeof(wrapped_out) - 1, &n) != 0)
		goto out;
	*len = n + 1;
	rc = 0;
out:
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)dlen);
	PKCS8_PRIV_KEY_INFO_free(p8);
	OPENSSL_cleanse(wk, sizeof(wk));
	ERR_clear_error();
	return rc;
}

/* One PKCS#8 DER, all of buf, into a key (*out); 0 or ZTP_EMALFORMED. */
static int
pkcs8_parse(const uint8_t *buf, size_t len, EVP_PKEY **out)
{
	const unsigned char *p = buf;
	PKCS8_PRIV_KEY_INFO *p8;

	*out = NULL;
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len)) == NULL ||
	    p != buf + len || (*out = EVP_PKCS82PKEY(p8)) == NULL) {
		PKCS8_PRIV_KEY_INFO_free(p8);
		ERR_clear_error();
		return ZTP_EMALFORMED;
	}
	PKCS8_PRIV_KEY_INFO_free(p8);
	return 0;
}

/* Open m's wrapped key (for its identity) into *out. 0 or a code with *why. */
static int
unwrap(EVP_PKEY *signer_key, const struct signer_ztpca *z, EVP_PKEY **out, const char **why)
{
	uint8_t wk[CRYPTO_KEY_LEN], der[SIGNER_ZTPCA_PKCS8_MAX];
	char aad[SIGNER_ZTPCA_ID_MAX + 16];
	size_t alen, n = 0;
	int rc;

	*out = NULL;
	*why = "the CA key does not open (not wrapped by this CA, or for another CA)";
	if (z->key_len < SIGNER_ZTPCA_WRAP_OVERHEAD + 1 || z->key[0] != WRAP_VERSION)
		return ZTP_EAUTH;
	if ((alen = wrap_aad(z->id, aad, sizeof(aad))) == 0)
		return ZTP_EINVAL;
	if (wrap_key(signer_key, wk) != 0) {
		*why = "cannot derive the wrapping key";
		return ZTP_ECRYPTO;
	}
	rc = crypto_open(wk, aad, alen, z->key + 1, z->key_len - 1, der, sizeof(der), &n);
	OPENSSL_cleanse(wk, sizeof(wk));
	if (rc != 0) {
		OPENSSL_cleanse(der, sizeof(der));
		return ZTP_EAUTH;
	}
	rc = pkcs8_parse(der, n, out);
	OPENSSL_cleanse(der, sizeof(der));
	if (rc != 0)
		*why = "the wrapped CA key is not a PKCS#8 key";
	return rc;
}

/* One DER certificate, all of buf, into *out; 0 or ZTP_EMALFORMED. */
static int
cert_parse(const uint8_t *buf, size_t len, X509 **out)
{
	const unsigned char *p = buf;

	if ((*out = d2i_X509(NULL, &p, (long)len)) == NULL || p != buf + len) {
		X509_free(*out);
		*out = NULL;
		ERR_clear_error();
		return ZTP_EMALFORMED;
	}
	return 0;
}

static int
asn1_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* A key a ZTP CA may have: EC P-256/P-384, RSA 2048-4096. */
static int
ca_key_ok(EVP_PKEY *k)
{
	char group[64];
	int bits = EVP_PKEY_get_bits(k);

	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_EC:
		return EVP_PKEY_get_group_name(k, group, sizeof(group), NULL) == 1 &&
		    (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0);
	case EVP_PKEY_RSA:
		return bits >= 2048 && bits <= 4096;
	}
	return 0;
}

/*
 * The CA of a request that uses one: its certificate (*cert) and its
 * unwrapped key (*key), which must match. 0 or a code with *why.
 */
static int
open_ca(EVP_PKEY *signer_key, const struct signer_ztpca *z, X509 **cert, EVP_PKEY **key,
    const char **why)
{
	int rc;

	*cert = NULL;
	*key = NULL;
	if ((rc = cert_parse(z->cert, z->cert_len, cert)) != 0) {
		*why = "the CA certificate is not one DER certificate";
		return rc;
	}
	if ((rc = unwrap(signer_key, z, key, why)) != 0)
		goto fail;
	if (X509_check_private_key(*cert, *key) != 1) {
		*why = "the wrapped key is not the CA certificate's";
		rc = ZTP_EAUTH;
		goto fail;
	}
	return 0;
fail:
	X509_free(*cert);
	EVP_PKEY_free(*key);
	*cert = NULL;
	*key = NULL;
	ERR_clear_error();
	return rc;
}

/* A random positive serial of 16 bytes into cert. */
static int
set_serial(X509 *cert)
{
	uint8_t serial[16];
	BIGNUM *bn;
	int ok;

	if (crypto_random(serial, sizeof(serial)) != 0)
		return 0;
	serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL)
		return 0;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
	BN_free(bn);
	return ok;
}

static int
add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(cert, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

/* The answer ZTPCA: cert's DER (into *der) and the wrapped key of wlen bytes. */
static int
answer_ca(X509 *cert, size_t wlen, struct signer_msg *out, uint8_t **der, const char **why)
{
	int n;

	*why = "cannot encode the CA certificate";
	if ((n = i2d_X509(cert, der)) <= 0)
		return ZTP_ECRYPTO;
	if (n > SIGNER_ZTPCA_CERT_MAX) {
		*why = "the CA certificate is too large for a module";
		return ZTP_ETOOBIG;
	}
	out->type = SIGNER_MSG_ZTPCA;
	out->u.cert.cert = *der;
	out->u.cert.cert_len = (size_t)n;
	if (asn1_unix(X509_get0_notBefore(cert), &out->u.cert.not_before) != 0 ||
	    asn1_unix(X509_get0_notAfter(cert), &out->u.cert.not_after) != 0 ||
	    out->u.cert.not_before < 0 || out->u.cert.not_after <= out->u.cert.not_before) {
		*why = "the CA certificate's validity is unreadable";
		return ZTP_EMALFORMED;
	}
	out->ztpca.key = wrapped_out;
	out->ztpca.key_len = wlen;
	return 0;
}

/*
 * ZTPCA_CREATE: an EC P-256 key and its self-signed CA certificate:
 * subject O (if given), CN; CA:TRUE pathlen 0, keyCertSign, cRLSign,
 * digitalSignature; the key identifiers.
 */
static int
create(EVP_PKEY *signer_key, const struct signer_msg *m, struct signer_msg *out, uint8_t **der,
    const char **why)
{
	const struct signer_subject *s = &m->u.csr.subject;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	X509_NAME *name = NULL;
	time_t now = time(NULL);
	size_t wlen = 0;
	int rc = ZTP_ECRYPTO;

	*why = "cannot make the CA";
	if ((key = EVP_EC_gen("P-256")) == NULL || (cert = X509_new()) == NULL ||
	    (name = X509_NAME_new()) == NULL)
		goto out;
	if ((s->org[0] != '\0' &&
		!X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
		    (const unsigned char *)s->org, -1, -1, 0)) ||
	    !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
		(const unsigned char *)s->cn, -1, -1, 0))
		goto out;
	if (!X509_set_version(cert, X509_VERSION_3) || !set_serial(cert) ||
	    !X509_set_subject_name(cert, name) || !X509_set_issuer_name(cert, name) ||
	    !X509_set_pubkey(cert, key) ||
	    X509_time_adj_ex(X509_getm_notBefore(cert), 0, -BACKDATE_SECS, &now) ==
		NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(cert), (int)m->u.csr.profile.days, 0,
		&now) == NULL ||
	    !add_ext(cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    !add_ext(cert, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") ||
	    !add_ext(cert, NID_subject_key_identifier, "hash") ||
	    !add_ext(cert, NID_authority_key_identifier, "keyid:always"))
		goto out;
	if (X509_sign(cert, key, EVP_sha256()) <= 0)
		goto out;
	if ((rc = wrap(signer_key, key, m->ztpca.id, &wlen, why)) != 0 ||
	    (rc = answer_ca(cert, wlen, out, der, why)) != 0)
		goto out;
	log_info("signer: made ZTP CA %s, for %u days", m->ztpca.id, m->u.csr.profile.days);
	rc = 0;
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	X509_NAME_free(name);
	ERR_clear_error();
	return rc;
}

/* ZTPCA_IMPORT: check the CA and its key (signer_msg.h), wrap the key. */
static int
import(EVP_PKEY *signer_key, const struct signer_msg *m, struct signer_msg *out, uint8_t **der,
    const char **why)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	uint32_t flags;
	int64_t now = (int64_t)time(NULL), nb, na;
	size_t wlen = 0;
	int rc;

	if ((rc = cert_parse(m->ztpca.cert, m->ztpca.cert_len, &cert)) != 0) {
		*why = "the certificate is not one DER certificate";
		goto out;
	}
	if ((rc = pkcs8_parse(m->ztpca.privkey, m->ztpca.privkey_len, &key)) != 0) {
		*why = "the key is not one PKCS#8 DER private key";
		goto out;
	}
	rc = ZTP_EINVAL;
	if (!ca_key_ok(key)) {
		*why = "the CA key is not EC P-256, P-384 or RSA 2048 to 4096 bits";
		goto out;
	}
	if (X509_check_private_key(cert, key) != 1) {
		*why = "the key is not the certificate's";
		goto out;
	}
	flags = X509_get_extension_flags(cert);
	if (!(flags & EXFLAG_CA) ||
	    ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN))) {
		*why = "the certificate is not a CA's (basicConstraints CA:TRUE, keyCertSign)";
		goto out;
	}
	if (asn1_unix(X509_get0_notBefore(cert), &nb) != 0 ||
	    asn1_unix(X509_get0_notAfter(cert), &na) != 0 || now < nb || now >= na) {
		*why = "the CA certificate is not valid now";
		rc = ZTP_EEXPIRED;
		goto out;
	}
	if ((rc = wrap(signer_key, key, m->ztpca.id, &wlen, why)) != 0 ||
	    (rc = answer_ca(cert, wlen, out, der, why)) != 0)
		goto out;
	log_info("signer: imported ZTP CA %s", m->ztpca.id);
	rc = 0;
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	ERR_clear_error();
	return rc;
}

/* ZTPCA_SIGN: a device certificate for the request's key. */
static int
sign(EVP_PKEY *signer_key, const struct signer_msg *m, struct signer_msg *out, uint8_t **der,
    const char **why)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc;

	if ((rc = open_ca(signer_key, &m->ztpca, &cert, &key, why)) != 0)
		return rc;
	rc = signer_issue_for(cert, key, &m->u.csr, m->u.csr.spki, m->u.csr.spki_len, out, der, why);
	EVP_PKEY_free(key);
	X509_free(cert);
	return rc;
}

/*
 * ZTPCA_POP: the verification certificate of a cloud's CA registration
 * (AWS IoT register-ca-certificate): CN = the code, signed by the CA, for
 * a key made here and dropped (only the signature counts).
 */
static int
pop(EVP_PKEY *signer_key, const struct signer_msg *m, struct signer_msg *out, uint8_t **der,
    const char **why)
{
	static const struct signer_csr_req zero;
	struct signer_csr_req r = zero;
	EVP_PKEY *cakey = NULL, *tmp = NULL;
	X509 *cert = NULL;
	unsigned char *spki = NULL;
	int len = 0, rc;

	if ((rc = open_ca(signer_key, &m->ztpca, &cert, &cakey, why)) != 0)
		return rc;
	rc = ZTP_ECRYPTO;
	*why = "cannot make the verification key";
	if ((tmp = EVP_EC_gen("P-256")) == NULL || (len = i2d_PUBKEY(tmp, &spki)) <= 0)
		goto out;
	r.subject = m->u.csr.subject;
	r.profile.days = m->u.csr.profile.days;
	r.profile.key_usage = SIGNER_KU_DIGITAL_SIGNATURE;
	r.profile.ext_key_usage = SIGNER_EKU_CLIENT_AUTH;
	r.key_type = SIGNER_KEY_EC_P256;
	r.key_bits = 256;
	rc = signer_issue_for(cert, cakey, &r, spki, (size_t)len, out, der, why);
out:
	OPENSSL_free(spki);
	EVP_PKEY_free(tmp);
	EVP_PKEY_free(cakey);
	X509_free(cert);
	ERR_clear_error();
	return rc;
}

/*
 * ZTPCA_SIGN_DATA: a signature of the digest by the CA's key (the key
 * that signs gateways' commands). *der is the signature, the caller's to free.
 */
static int
sign_data(EVP_PKEY *signer_key, const struct signer_msg *m, struct signer_msg *out,
    uint8_t **der, const char **why)
{
	EVP_PKEY *cakey = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	X509 *cert = NULL;
	size_t len = 0;
	int rc;

	if ((rc = open_ca(signer_key, &m->ztpca, &cert, &cakey, why)) != 0)
		return rc;
	rc = ZTP_ECRYPTO;
	*why = "cannot sign the digest";
	if ((pctx = EVP_PKEY_CTX_new(cakey, NULL)) == NULL || EVP_PKEY_sign_init(pctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_sign(pctx, NULL, &len, m->ztpca.digest, sizeof(m->ztpca.digest)) <= 0 ||
	    len == 0 || len > SIGNER_SIGNATURE_MAX || (*der = OPENSSL_malloc(len)) == NULL)
		goto out;
	if (EVP_PKEY_sign(pctx, *der, &len, m->ztpca.digest, sizeof(m->ztpca.digest)) <= 0)
		goto out;
	out->type = SIGNER_MSG_SIGNATURE;
	out->u.sig.sig = *der;
	out->u.sig.sig_len = len;
	rc = 0;
	*why = "";
out:
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(cakey);
	X509_free(cert);
	ERR_clear_error();
	return rc;
}

int
ztpca_handle(EVP_PKEY *signer_key, const struct signer_msg *m, struct signer_msg *out,
    uint8_t **der, const char **why)
{
	switch (m->type) {
	case SIGNER_MSG_ZTPCA_CREATE:
		return create(signer_key, m, out, der, why);
	case SIGNER_MSG_ZTPCA_IMPORT:
		return import(signer_key, m, out, der, why);
	case SIGNER_MSG_ZTPCA_SIGN:
		return sign(signer_key, m, out, der, why);
	case SIGNER_MSG_ZTPCA_POP:
		return pop(signer_key, m, out, der, why);
	case SIGNER_MSG_ZTPCA_SIGN_DATA:
		return sign_data(signer_key, m, out, der, why);
	}
	*why = "not a ZTP CA request";
	return ZTP_EMALFORMED;
}
