/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A foreign PKI made in memory for the unit tests of pki.c, pki_sync.c and
 * admin_pkireq.c: a CA (key, certificate with the extensions a test asks
 * for), certificates it issues, and CRLs it (or another key) signs, with
 * OpenSSL. Included by the test files after cmocka; every helper asserts.
 */
#ifndef ZTP_TEST_PKI_TESTCA_H
#define ZTP_TEST_PKI_TESTCA_H
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static inline void
testca_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

/* A certificate of subject "CN=cn" for key, signed by ca_key under ca (NULL: self-signed). */
static inline X509 *
testca_cert(EVP_PKEY *key, const char *cn, const char *serial_hex, X509 *ca, EVP_PKEY *ca_key,
    const char *bc, const char *ku)
{
	X509 *x = X509_new();
	BIGNUM *bn = NULL;
	X509_NAME *n;

	assert_non_null(x);
	assert_true(X509_set_version(x, 2));
	assert_true(BN_hex2bn(&bn, serial_hex) > 0);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	BN_free(bn);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_true(X509_set_pubkey(x, key));
	n = X509_get_subject_name(x);
	assert_true(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Maker",
	    -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
	    -1, 0));
	assert_true(X509_set_issuer_name(x, ca != NULL ? X509_get_subject_name(ca) : n));
	if (bc != NULL)
		testca_ext(x, ca, NID_basic_constraints, bc);
	if (ku != NULL)
		testca_ext(x, ca, NID_key_usage, ku);
	assert_true(X509_sign(x, ca_key != NULL ? ca_key : key, EVP_sha256()) > 0);
	return x;
}

/* A CA: a new P-256 key into *key and its self-signed certificate "O=Maker, CN=cn". */
static inline X509 *
testca_new(const char *cn, const char *ku, EVP_PKEY **key)
{
	*key = EVP_EC_gen("P-256");
	assert_non_null(*key);
	return testca_cert(*key, cn, "01", NULL, NULL, "critical,CA:TRUE", ku);
}

/* What a test CRL holds. */
struct testca_crl {
	const char *number;   /* hex; NULL: no crlNumber */
	long this_update;     /* seconds from now */
	long next_update;     /* seconds from now; 0: none */
	const char *const *serials; /* hex */
	size_t n;
	int delta;            /* with a deltaCRLIndicator */
	int indirect;         /* with an issuingDistributionPoint indirectCRL */
	int critical_unknown; /* with a critical extension nobody knows */
};

/* The CRL c of the issuer name of ca, signed by key, as DER (*len bytes, malloc'd). */
static inline uint8_t *
testca_crl_der(X509 *ca, EVP_PKEY *key, const struct testca_crl *c, size_t *len)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t;
	ASN1_INTEGER *ai;
	BIGNUM *bn;
	X509_REVOKED *r;
	unsigned char *der = NULL;
	uint8_t *out;
	size_t i;
	int n;

	assert_non_null(crl);
	assert_true(X509_CRL_set_version(crl, 1));
	assert_true(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)));
	t = X509_gmtime_adj(NULL, c->this_update);
	assert_true(X509_CRL_set1_lastUpdate(crl, t));
	ASN1_TIME_free(t);
	if (c->next_update != 0) {
		t = X509_gmtime_adj(NULL, c->next_update);
		assert_true(X509_CRL_set1_nextUpdate(crl, t));
		ASN1_TIME_free(t);
	}
	for (i = 0; i < c->n; i++) {
		r = X509_REVOKED_new();
		bn = NULL;
		assert_true(BN_hex2bn(&bn, c->serials[i]) > 0);
		ai = BN_to_ASN1_INTEGER(bn, NULL);
		BN_free(bn);
		assert_true(X509_REVOKED_set_serialNumber(r, ai));
		ASN1_INTEGER_free(ai);
		t = X509_gmtime_adj(NULL, -60);
		assert_true(X509_REVOKED_set_revocationDate(r, t));
		ASN1_TIME_free(t);
		assert_true(X509_CRL_add0_revoked(crl, r));
	}
	if (c->number != NULL) {
		bn = NULL;
		assert_true(BN_hex2bn(&bn, c->number) > 0);
		ai = BN_to_ASN1_INTEGER(bn, NULL);
		BN_free(bn);
		assert_true(X509_CRL_add1_ext_i2d(crl, NID_crl_number, ai, 0, 0));
		if (c->delta)
			assert_true(X509_CRL_add1_ext_i2d(crl, NID_delta_crl, ai, 1, 0));
		ASN1_INTEGER_free(ai);
	}
	if (c->indirect) {
		ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();
		idp->indirectCRL = 1;
		assert_true(X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0));
		ISSUING_DIST_POINT_free(idp);
	}
	if (c->critical_unknown) {
		ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		X509_EXTENSION *e;
		assert_true(ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x05\x00", 2));
		e = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os);
		assert_non_null(e);
		assert_true(X509_CRL_add_ext(crl, e, -1));
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(os);
		ASN1_OBJECT_free(obj);
	}
	assert_true(X509_CRL_sort(crl));
	assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	n = i2d_X509_CRL(crl, &der);
	assert_true(n > 0);
	out = malloc((size_t)n);
	assert_non_null(out);
	memcpy(out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	X509_CRL_free(crl);
	return out;
}

/* der[0..len) as PEM of kind ("X509 CRL", "CERTIFICATE"), NUL-terminated, malloc'd. */
static inline char *
testca_pem(const char *kind, const uint8_t *der, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *out;
	long n;

	assert_non_null(b);
	assert_true(PEM_write_bio(b, kind, "", der, (long)len) > 0);
	n = BIO_get_mem_data(b, &p);
	assert_true(n > 0);
	out = malloc((size_t)n + 1);
	assert_non_null(out);
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
	BIO_free(b);
	return out;
}

/* The DER of x (malloc'd, *len). */
static inline uint8_t *
testca_der(X509 *x, size_t *len)
{
	unsigned char *der = NULL;
	uint8_t *out;
	int n = i2d_X509(x, &der);

	assert_true(n > 0);
	out = malloc((size_t)n);
	assert_non_null(out);
	memcpy(out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	return out;
}

#endif
