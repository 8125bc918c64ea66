/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device key and its certificate request (ztp/csr.h).
 *
 * OpenSSL builds the request (X509_REQ) but never sees the private key: the
 * request's to-be-signed part is encoded by i2d_re_X509_REQ_tbs(), hashed,
 * signed by the key store (raw r || s, as hardware returns it), and the
 * signature is put back as an ECDSA-Sig-Value with X509_REQ_set0_signature().
 * Then X509_REQ_verify() checks it with the slot's public key, so a store
 * that signs with another key, or garbage, is caught here and not by the
 * server.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ztp/csr.h"
#include "ztp/err.h"
#include "ztp/keystore.h"

/* udid_valid() (udid.h) without '_': the UDID also goes in a PrintableString serialNumber */
int
csr_udid_valid(const char *udid)
{
	size_t i;
	unsigned char c;

	if (udid == NULL || udid[0] == '\0')
		return 0;
	for (i = 0; udid[i] != '\0'; i++) {
		if (i >= CSR_UDID_MAX)
			return 0;
		c = (unsigned char)udid[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == ':'))
			return 0;
	}
	return 1;
}

static int
password_valid(const char *pw)
{
	size_t i;

	if (pw[0] == '\0')
		return 0;
	for (i = 0; pw[i] != '\0'; i++)
		if (i >= CSR_PASSWORD_MAX || (unsigned char)pw[i] < 0x20 ||
		    (unsigned char)pw[i] > 0x7e)
			return 0;
	return 1;
}

int
csr_generate_key(struct keystore *ks, int slot, int overwrite)
{
	return keystore_generate_key(ks, slot, KEYSTORE_KEY_P256, overwrite);
}

/* *pk: a new EVP_PKEY holding the P-256 public key pub[len] (04 || X || Y). */
static int
pubkey_from_point(struct keystore *ks, const uint8_t *pub, size_t len, EVP_PKEY **pk)
{
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[3];
	char group[] = SN_X9_62_prime256v1;
	int rc;

	*pk = NULL;
	if (len != KEYSTORE_P256_PUBKEY_LEN || pub[0] != 0x04)
		return keystore_fail(ks, ZTP_EMALFORMED,
		    "the key store's public key is not an uncompressed P-256 point");
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, len);
	params[2] = OSSL_PARAM_construct_end();
	/* a point that is not on the curve is refused here */
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		rc = keystore_fail(ks, ZTP_EMALFORMED,
		    "the key store's public key is not a P-256 point");
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* *pk: the public key of slot `slot`, through the key store. */
static int
slot_pubkey(struct keystore *ks, int slot, EVP_PKEY **pk)
{
	uint8_t pub[KEYSTORE_P256_PUBKEY_LEN];
	size_t len = 0;
	int rc;

	*pk = NULL;
	if ((rc = keystore_public_key(ks, slot, pub, sizeof(pub), &len)) != 0)
		return rc;
	return pubkey_from_point(ks, pub, len, pk);
}

/* Copy what bio holds into *out (malloc'd, NUL-terminated) and *outlen. */
static int
bio_take(struct keystore *ks, BIO *bio, uint8_t **out, size_t *outlen)
{
	char *p;
	long n;

	if ((n = BIO_get_mem_data(bio, &p)) <= 0)
		return keystore_fail(ks, ZTP_ECRYPTO, "PEM encoding failed");
	if ((*out = malloc((size_t)n + 1)) == NULL)
		return keystore_fail(ks, ZTP_ENOMEM, "out of memory");
	memcpy(*out, p, (size_t)n);
	(*out)[n] = '\0';
	*outlen = (size_t)n;
	return 0;
}

/*
 * Sign req's to-be-signed part through the key store and set its signature
 * (ecdsa-with-SHA256, the DER ECDSA-Sig-Value of the store's r || s).
 */
static int
sign_through_store(struct keystore *ks, int slot, X509_REQ *req)
{
	unsigned char *tbs = NULL, *der = NULL;
	unsigned char md[KEYSTORE_P256_DIGEST_LEN];
	uint8_t sig[KEYSTORE_P256_SIG_LEN];
	size_t siglen = 0;
	unsigned int mdlen = 0;
	int tbslen, derlen, rc;
	BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG *es = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *bits = NULL;

	if ((tbslen = i2d_re_X509_REQ_tbs(req, &tbs)) <= 0 ||
	    EVP_Digest(tbs, (size_t)tbslen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md)) {
		rc = keystore_fail(ks, ZTP_ECRYPTO, "cannot encode the request");
		goto out;
	}
	if ((rc = keystore_sign_digest(ks, slot, md, sizeof(md), sig, sizeof(sig), &siglen)) !=
	    0)
		goto out;
	if (siglen != KEYSTORE_P256_SIG_LEN) {
		rc = keystore_fail(ks, ZTP_ECRYPTO, "the key store's signature is %zu bytes, not %d",
		    siglen, KEYSTORE_P256_SIG_LEN);
		goto out;
	}
	if ((es = ECDSA_SIG_new()) == NULL || (r = BN_bin2bn(sig, 32, NULL)) == NULL ||
	    (s = BN_bin2bn(sig + 32, 32, NULL)) == NULL) {
		rc = keystore_fail(ks, ZTP_ENOMEM, "out of memory");
		goto out;
	}
	if (ECDSA_SIG_set0(es, r, s) != 1) {
		rc = keystore_fail(ks, ZTP_ECRYPTO, "cannot encode the signature");
		goto out;
	}
	r = s = NULL; /* es owns them */
	if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0 || (alg = X509_ALGOR_new()) == NULL ||
	    X509_ALGOR_set0(alg, OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, NULL) != 1 ||
	    X509_REQ_set1_signature_algo(req, alg) != 1 || (bits = ASN1_BIT_STRING_new()) == NULL ||
	    ASN1_BIT_STRING_set(bits, der, derlen) != 1) {
		rc = keystore_fail(ks, ZTP_ECRYPTO, "cannot encode the signature");
		goto out;
	}
	/* a signature is whole bytes: say "0 unused bits" rather than let i2d guess */
	bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	X509_REQ_set0_signature(req, bits);
	bits = NULL; /* req owns it */
	rc = 0;
out:
	ASN1_BIT_STRING_free(bits);
	X509_ALGOR_free(alg);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	OPENSSL_free(tbs);
	return rc;
}

/* Copy DER that OpenSSL allocated (derlen from its i2d call) into *out (malloc'd, the caller frees it). */
static int
der_take(struct keystore *ks, const unsigned char *der, int derlen, const char *what,
    uint8_t **out, size_t *outlen)
{
	if (derlen <= 0)
		return keystore_fail(ks, ZTP_ECRYPTO, "cannot encode %s", what);
	if ((*out = malloc((size_t)derlen)) == NULL)
		return keystore_fail(ks, ZTP_ENOMEM, "out of memory");
	memcpy(*out, der, (size_t)derlen);
	*outlen = (size_t)derlen;
	return 0;
}

int
csr_create(struct keystore *ks, const struct csr_req *req, enum csr_format fmt, uint8_t **out,
    size_t *outlen)
{
	X509_REQ *x = NULL;
	X509_NAME *name = NULL;
	EVP_PKEY *pk = NULL;
	BIO *bio = NULL;
	unsigned char *der = NULL;
	int derlen, rc;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (ks == NULL)
		return ZTP_EINVAL;
	if (req == NULL || out == NULL || outlen == NULL || (fmt != CSR_DER && fmt != CSR_PEM))
		return keystore_fail(ks, ZTP_EINVAL, "certificate request: bad argument");
	if (!csr_udid_valid(req->udid))
		return keystore_fail(ks, ZTP_EINVAL,
		    "bad device id: 1 to %d letters, digits, '-', '.' or ':'", CSR_UDID_MAX);
	if (req->challenge_password != NULL && !password_valid(req->challenge_password))
		return keystore_fail(ks, ZTP_EINVAL,
		    "bad challenge password: 1 to %d printable ASCII characters",
		    CSR_PASSWORD_MAX);
	if (!keystore_slot_is_key(req->slot))
		return keystore_fail(ks, ZTP_EINVAL, "slot %d is not a key slot", req->slot);
	ERR_set_mark();
	if ((rc = slot_pubkey(ks, req->slot, &pk)) != 0)
		goto out;
	if ((x = X509_REQ_new()) == NULL || (name = X509_NAME_new()) == NULL) {
		rc = keystore_fail(ks, ZTP_ENOMEM, "out of memory");
		goto out;
	}
	if (X509_REQ_set_version(x, X509_REQ_VERSION_1) != 1 ||
	    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
		(const unsigned char *)req->udid, -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_NID(name, NID_serialNumber, MBSTRING_ASC,
		(const unsigned char *)req->udid, -1, -1, 0) != 1 ||
	    X509_REQ_set_subject_name(x, name) != 1 || X509_REQ_set_pubkey(x, pk) != 1) {
		rc = keystore_fail(ks, ZTP_ECRYPTO, "cannot build the request");
		goto out;
	}
	if (req->challenge_password != NULL &&
	    X509_REQ_add1_attr_by_NID(x, NID_pkcs9_challengePassword, MBSTRING_ASC,
		(const unsigned char *)req->challenge_password, -1) != 1) {
		rc = keystore_fail(ks, ZTP_ECRYPTO, "cannot add the challenge password");
		goto out;
	}
	if ((rc = sign_through_store(ks, req->slot, x)) != 0)
		goto out;
	if (X509_REQ_verify(x, pk) != 1) {
		rc = keystore_fail(ks, ZTP_ECRYPTO,
		    "the key store's signature does not verify with slot %d's public key",
		    req->slot);
		goto out;
	}
	if (fmt == CSR_DER) {
		derlen = i2d_X509_REQ(x, &der);
		if ((rc = der_take(ks, der, derlen, "the request", out, outlen)) != 0)
			goto out;
	} else {
		if ((bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509_REQ(bio, x) != 1) {
			rc = keystore_fail(ks, ZTP_ECRYPTO, "cannot encode the request");
			goto out;
		}
		if ((rc = bio_take(ks, bio, out, outlen)) != 0)
			goto out;
	}
	rc = 0;
out:
	ERR_pop_to_mark(); /* OpenSSL's error queue as it was */
	OPENSSL_free(der);
	BIO_free(bio);
	X509_NAME_free(name);
	X509_REQ_free(x);
	EVP_PKEY_free(pk);
	return rc;
}

int
csr_public_key(struct keystore *ks, int slot, enum csr_format fmt, uint8_t **out,
    size_t *outlen)
{
	EVP_PKEY *pk = NULL;
	BIO *bio = NULL;
	unsigned char *der = NULL;
	int derlen, rc;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (ks == NULL)
		return ZTP_EINVAL;
	if (out == NULL || outlen == NULL || (fmt != CSR_DER && fmt != CSR_PEM))
		return keystore_fail(ks, ZTP_EINVAL, "public key: bad argument");
	ERR_set_mark();
	if ((rc = slot_pubkey(ks, slot, &pk)) != 0)
		goto out;
	if (fmt == CSR_DER) {
		derlen = i2d_PUBKEY(pk, &der);
		if ((rc = der_take(ks, der, derlen, "the public key", out, outlen)) != 0)
			goto out;
	} else {
		if ((bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_PUBKEY(bio, pk) != 1) {
			rc = keystore_fail(ks, ZTP_ECRYPTO, "cannot encode the public key");
			goto out;
		}
		if ((rc = bio_take(ks, bio, out, outlen)) != 0)
			goto out;
	}
	rc = 0;
out:
	ERR_pop_to_mark();
	OPENSSL_free(der);
	BIO_free(bio);
	EVP_PKEY_free(pk);
	return rc;
}
