/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ZTP certificate authorities in the signer (src/server/signer/ztpca.h),
 * end to end: a data directory made as ztpd makes it, a real signer child,
 * the CAs it makes and imports, the certificates it signs with them
 * checked with OpenSSL; and the codec of their messages (signer_msg.h).
 */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cakey.h"
#include "crypto.h"
#include "datadir.h"
#include "signer_client.h"
#include "signer_msg.h"
#include "ztp/err.h"

static char dir[PATH_MAX];
static uint8_t datakey[CRYPTO_KEY_LEN];
static const struct signer_opts fast = { 5000, 10000, 0 };

static void
rm_dir(const char *path)
{
	char p[PATH_MAX + 300];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(path);
}

static int
group_setup(void **state)
{
	struct datadir dd;

	snprintf(dir, sizeof(dir), "/tmp/ztp-test-ztpca.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	if (cakey_create(dir) != 0 || datadir_open(&dd, dir) != 0)
		return -1;
	memcpy(datakey, dd.key, sizeof(datakey));
	datadir_close(&dd);
	return 0;
}

static int
group_teardown(void **state)
{
	rm_dir(dir);
	return 0;
}

static int
setup(void **state)
{
	struct signer *s;

	if (signer_start(&s, dir, datakey, &fast) != 0)
		return -1;
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	signer_free(*state);
	return 0;
}

/* ---- helpers ---- */

static X509 *
d2i_cert(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	assert_non_null(x);
	assert_ptr_equal(p, der + len);
	return x;
}

/* The text of the first entry nid of name ("" if none) into out. */
static void
name_entry(const X509_NAME *name, int nid, char *out, size_t cap)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	const ASN1_STRING *s;

	out[0] = '\0';
	if (i < 0)
		return;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	snprintf(out, cap, "%.*s", ASN1_STRING_length(s), (const char *)ASN1_STRING_get0_data(s));
}

/* 1 if cert verifies under issuer's key and names issuer as its issuer. */
static int
signed_by(X509 *cert, X509 *issuer)
{
	EVP_PKEY *k = X509_get0_pubkey(issuer);

	return k != NULL && X509_verify(cert, k) == 1 &&
	    X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(issuer)) == 0;
}

/* A device request: CN, serialNumber, 30 days, clientAuth, for key's SPKI (*spki, freed by caller). */
static void
dev_req(struct signer_csr_req *r, EVP_PKEY *key, uint8_t **spki)
{
	int n;

	memset(r, 0, sizeof(*r));
	snprintf(r->subject.cn, sizeof(r->subject.cn), "00112233445566778899aabbccddeeff");
	snprintf(r->subject.serial_number, sizeof(r->subject.serial_number), "SN-0001");
	r->profile.days = 30;
	r->profile.key_usage = SIGNER_KU_DIGITAL_SIGNATURE;
	r->profile.ext_key_usage = SIGNER_EKU_CLIENT_AUTH;
	*spki = NULL;
	n = i2d_PUBKEY(key, spki);
	assert_true(n > 0);
	r->spki = *spki;
	r->spki_len = (size_t)n;
	r->key_type = SIGNER_KEY_EC_P256;
	r->key_bits = 256;
}

/* A CA made here with key: self-signed, CA:TRUE unless ca is 0; its DER into *der. */
static size_t
own_ca(EVP_PKEY *key, int ca, int days, uint8_t **der)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int len;

	assert_non_null(x);
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"imported CA", -1, -1, 0));
	assert_true(X509_set_version(x, X509_VERSION_3));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 7));
	assert_true(X509_set_subject_name(x, n) && X509_set_issuer_name(x, n));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400));
	assert_true(X509_set_pubkey(x, key));
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	assert_non_null(ext);
	assert_true(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	*der = NULL;
	len = i2d_X509(x, der);
	assert_true(len > 0);
	X509_free(x);
	X509_NAME_free(n);
	return (size_t)len;
}

static size_t
pkcs8(EVP_PKEY *key, uint8_t **der)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
	int n;

	assert_non_null(p8);
	*der = NULL;
	n = i2d_PKCS8_PRIV_KEY_INFO(p8, der);
	assert_true(n > 0);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return (size_t)n;
}

/* ---- the signer ---- */

static void
test_create_makes_a_self_signed_ca_of_its_subject_and_days(void **state)
{
	struct signer_ztpca_ca ca;
	char cn[80], org[80];
	X509 *x;
	int64_t now = (int64_t)time(NULL);

	assert_int_equal(signer_ztpca_create(*state, "acme/fleet", "fleet", "acme", 3650, &ca), 0);
	assert_true(ca.key_len > SIGNER_ZTPCA_WRAP_OVERHEAD && ca.key_len <= SIGNER_ZTPCA_KEY_MAX);
	x = d2i_cert(ca.cert, ca.cert_len);
	assert_true(signed_by(x, x));
	assert_int_equal(X509_check_ca(x), 1);
	assert_true(X509_get_key_usage(x) & KU_KEY_CERT_SIGN);
	name_entry(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	name_entry(X509_get_subject_name(x), NID_organizationName, org, sizeof(org));
	assert_string_equal(cn, "fleet");
	assert_string_equal(org, "acme");
	assert_true(ca.not_after - now > 3649LL * 86400 && ca.not_after - now <= 3650LL * 86400);
	assert_true(ca.not_before <= now);
	X509_free(x);
	signer_ztpca_ca_free(&ca);
}

static void
test_sign_issues_a_device_certificate_under_the_ztp_ca(void **state)
{
	struct signer_ztpca_ca ca;
	struct signer_csr_req r;
	struct signer_issued out;
	EVP_PKEY *dev = EVP_EC_gen("P-256");
	uint8_t *spki;
	char cn[80], sn[80];
	X509 *cax, *x;

	assert_int_equal(signer_ztpca_create(*state, "acme/fleet", "fleet", NULL, 365, &ca), 0);
	dev_req(&r, dev, &spki);
	assert_int_equal(signer_ztpca_sign(*state, "acme/fleet", ca.cert, ca.cert_len, ca.key,
			     ca.key_len, &r, &out),
	    0);
	cax = d2i_cert(ca.cert, ca.cert_len);
	x = d2i_cert(out.der, out.der_len);
	assert_true(signed_by(x, cax));
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), dev), 1);
	name_entry(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	name_entry(X509_get_subject_name(x), NID_serialNumber, sn, sizeof(sn));
	assert_string_equal(cn, "00112233445566778899aabbccddeeff");
	assert_string_equal(sn, "SN-0001");
	assert_true(out.not_after - out.not_before <= 31LL * 86400);
	X509_free(x);
	X509_free(cax);
	OPENSSL_free(spki);
	EVP_PKEY_free(dev);
	signer_issued_free(&out);
	signer_ztpca_ca_free(&ca);
}

static void
test_pop_certificate_has_the_code_as_cn_and_verifies(void **state)
{
	static const char code[] =
	    "6e5b2c3f0c0d6b1a9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a49382";
	struct signer_ztpca_ca ca;
	struct signer_issued out;
	char cn[80];
	X509 *cax, *x;

	assert_int_equal(signer_ztpca_create(*state, "acme/aws", "aws", "acme", 365, &ca), 0);
	assert_int_equal(signer_ztpca_pop(*state, "acme/aws", ca.cert, ca.cert_len, ca.key,
			     ca.key_len, code, 30, &out),
	    0);
	cax = d2i_cert(ca.cert, ca.cert_len);
	x = d2i_cert(out.der, out.der_len);
	assert_true(signed_by(x, cax));
	name_entry(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, code);
	X509_free(x);
	X509_free(cax);
	signer_issued_free(&out);
	signer_ztpca_ca_free(&ca);
}

static void
test_wrapped_key_opens_only_under_its_identity(void **state)
{
	struct signer_ztpca_ca ca, other;
	struct signer_issued out;

	assert_int_equal(signer_ztpca_create(*state, "acme/fleet", "fleet", NULL, 365, &ca), 0);
	assert_int_equal(signer_ztpca_create(*state, "other/fleet", "fleet", NULL, 365, &other), 0);
	/* another owner's identity: the associated data differs */
	assert_int_equal(signer_ztpca_pop(*state, "other/fleet", ca.cert, ca.cert_len, ca.key,
			     ca.key_len, "code", 1, &out),
	    ZTP_EAUTH);
	/* a flipped bit anywhere in the wrapped key */
	for (size_t i = 0; i < ca.key_len; i += 7) {
		ca.key[i] ^= 0x01;
		assert_int_equal(signer_ztpca_pop(*state, "acme/fleet", ca.cert, ca.cert_len, ca.key,
				     ca.key_len, "code", 1, &out),
		    ZTP_EAUTH);
		ca.key[i] ^= 0x01;
	}
	/* the key of one CA with the certificate of another */
	assert_int_equal(signer_ztpca_pop(*state, "acme/fleet", other.cert, other.cert_len, ca.key,
			     ca.key_len, "code", 1, &out),
	    ZTP_EAUTH);
	assert_int_equal(signer_ztpca_pop(*state, "acme/fleet", ca.cert, ca.cert_len, ca.key,
			     ca.key_len, "code", 1, &out),
	    0);
	signer_issued_free(&out);
	signer_ztpca_ca_free(&ca);
	signer_ztpca_ca_free(&other);
}

static void
test_a_new_signer_process_opens_the_wrapped_key(void **state)
{
	struct signer_ztpca_ca ca;
	struct signer_issued out;

	assert_int_equal(signer_ztpca_create(*state, "acme/fleet", "fleet", NULL, 365, &ca), 0);
	assert_int_equal(signer_restart(*state), 0);
	assert_int_equal(signer_ztpca_pop(*state, "acme/fleet", ca.cert, ca.cert_len, ca.key,
			     ca.key_len, "code", 1, &out),
	    0);
	signer_issued_free(&out);
	signer_ztpca_ca_free(&ca);
}

static void
test_import_checks_the_ca_and_its_key(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-384"), *k2 = EVP_EC_gen("P-256");
	struct signer_ztpca_ca ca;
	struct signer_issued out;
	uint8_t *cert, *notca, *p8, *p82, junk[40];
	size_t cl, nl, pl, pl2;
	X509 *cax, *x;

	cl = own_ca(k, 1, 30, &cert);
	nl = own_ca(k, 0, 30, &notca);
	pl = pkcs8(k, &p8);
	pl2 = pkcs8(k2, &p82);
	memset(junk, 0x30, sizeof(junk));
	assert_int_equal(signer_ztpca_import(*state, "acme/own", cert, cl, p82, pl2, &ca, NULL, 0),
	    ZTP_EINVAL);
	assert_int_equal(signer_ztpca_import(*state, "acme/own", notca, nl, p8, pl, &ca, NULL, 0), ZTP_EINVAL);
	assert_int_equal(signer_ztpca_import(*state, "acme/own", cert, cl, junk, sizeof(junk), &ca, NULL, 0),
	    ZTP_EMALFORMED);
	assert_int_equal(signer_ztpca_import(*state, "acme/own", junk, sizeof(junk), p8, pl, &ca, NULL, 0),
	    ZTP_EMALFORMED);
	assert_int_equal(signer_ztpca_import(*state, "acme/own", cert, cl, p8, pl, &ca, NULL, 0), 0);
	assert_int_equal(ca.cert_len, cl);
	assert_memory_equal(ca.cert, cert, cl);
	assert_int_equal(signer_ztpca_pop(*state, "acme/own", ca.cert, ca.cert_len, ca.key,
			     ca.key_len, "code", 1, &out),
	    0);
	cax = d2i_cert(ca.cert, ca.cert_len);
	x = d2i_cert(out.der, out.der_len);
	assert_true(signed_by(x, cax));
	X509_free(x);
	X509_free(cax);
	signer_issued_free(&out);
	signer_ztpca_ca_free(&ca);
	OPENSSL_free(cert);
	OPENSSL_free(notca);
	OPENSSL_clear_free(p8, pl);
	OPENSSL_clear_free(p82, pl2);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

/* ---- the codec ---- */

static void
roundtrip(const struct signer_msg *m)
{
	static uint8_t buf[SIGNER_MSG_MAX], again[SIGNER_MSG_MAX];
	struct signer_msg d;
	size_t len, len2;

	assert_int_equal(signer_msg_encode(m, buf, sizeof(buf), &len), 0);
	assert_int_equal(signer_msg_decode(buf, len, &d), 0);
	assert_int_equal(d.type, m->type);
	assert_string_equal(d.ztpca.id, m->ztpca.id);
	assert_int_equal(d.ztpca.cert_len, m->ztpca.cert_len);
	assert_int_equal(d.ztpca.key_len, m->ztpca.key_len);
	assert_int_equal(d.ztpca.privkey_len, m->ztpca.privkey_len);
	assert_int_equal(signer_msg_encode(&d, again, sizeof(again), &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, again, len);
}

static void
test_codec_round_trips_every_ztpca_type(void **state)
{
	static const uint8_t cert[100] = { 0x30 }, key[60] = { 1 }, spki[91] = { 0x30 };
	struct signer_msg m;

	memset(&m, 0, sizeof(m));
	m.type = SIGNER_MSG_ZTPCA_CREATE;
	snprintf(m.u.csr.subject.cn, sizeof(m.u.csr.subject.cn), "fleet");
	snprintf(m.u.csr.subject.org, sizeof(m.u.csr.subject.org), "acme");
	m.u.csr.profile.days = 3650;
	snprintf(m.ztpca.id, sizeof(m.ztpca.id), "acme/fleet");
	roundtrip(&m);

	memset(&m, 0, sizeof(m));
	m.type = SIGNER_MSG_ZTPCA_IMPORT;
	m.ztpca.cert = cert;
	m.ztpca.cert_len = sizeof(cert);
	m.ztpca.privkey = key;
	m.ztpca.privkey_len = sizeof(key);
	snprintf(m.ztpca.id, sizeof(m.ztpca.id), "acme/own");
	roundtrip(&m);

	memset(&m, 0, sizeof(m));
	m.type = SIGNER_MSG_ZTPCA_SIGN;
	snprintf(m.u.csr.subject.cn, sizeof(m.u.csr.subject.cn), "dev");
	m.u.csr.profile.days = 30;
	m.u.csr.profile.key_usage = SIGNER_KU_DIGITAL_SIGNATURE;
	m.u.csr.profile.ext_key_usage = SIGNER_EKU_CLIENT_AUTH;
	m.u.csr.spki = spki;
	m.u.csr.spki_len = sizeof(spki);
	m.u.csr.key_type = SIGNER_KEY_EC_P256;
	m.u.csr.key_bits = 256;
	m.ztpca.cert = cert;
	m.ztpca.cert_len = sizeof(cert);
	m.ztpca.key = key;
	m.ztpca.key_len = sizeof(key);
	snprintf(m.ztpca.id, sizeof(m.ztpca.id), "acme/fleet");
	roundtrip(&m);

	memset(&m, 0, sizeof(m));
	m.type = SIGNER_MSG_ZTPCA_POP;
	snprintf(m.u.csr.subject.cn, sizeof(m.u.csr.subject.cn), "code");
	m.u.csr.profile.days = 1;
	m.ztpca.cert = cert;
	m.ztpca.cert_len = sizeof(cert);
	m.ztpca.key = key;
	m.ztpca.key_len = sizeof(key);
	snprintf(m.ztpca.id, sizeof(m.ztpca.id), "acme/fleet");
	roundtrip(&m);

	memset(&m, 0, sizeof(m));
	m.type = SIGNER_MSG_ZTPCA;
	m.u.cert.cert = cert;
	m.u.cert.cert_len = sizeof(cert);
	m.u.cert.not_before = 1;
	m.u.cert.not_after = 2;
	m.ztpca.key = key;
	m.ztpca.key_len = sizeof(key);
	roundtrip(&m);
}

static void
test_codec_refuses_what_a_ztpca_type_does_not_have(void **state)
{
	static const uint8_t cert[100] = { 0x30 }, key[60] = { 1 };
	static uint8_t buf[SIGNER_MSG_MAX];
	static const uint8_t big[SIGNER_ZTPCA_CERT_MAX + 1];
	struct signer_msg m, d;
	size_t len;

	memset(&m, 0, sizeof(m));
	m.type = SIGNER_MSG_ZTPCA_POP;
	snprintf(m.u.csr.subject.cn, sizeof(m.u.csr.subject.cn), "code");
	m.u.csr.profile.days = 1;
	m.ztpca.cert = cert;
	m.ztpca.cert_len = sizeof(cert);
	m.ztpca.key = key;
	m.ztpca.key_len = sizeof(key);
	/* no identity */
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	/* an identity without its '/' */
	snprintf(m.ztpca.id, sizeof(m.ztpca.id), "acmefleet");
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	snprintf(m.ztpca.id, sizeof(m.ztpca.id), "acme/fl\x01");
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	snprintf(m.ztpca.id, sizeof(m.ztpca.id), "acme/fleet");
	/* a key in clear where only a wrapped one may come */
	m.ztpca.privkey = key;
	m.ztpca.privkey_len = sizeof(key);
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	m.ztpca.privkey = NULL;
	m.ztpca.privkey_len = 0;
	/* a CA certificate over what a module holds */
	m.ztpca.cert = big;
	m.ztpca.cert_len = sizeof(big);
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_ERANGE);
	m.ztpca.cert = cert;
	m.ztpca.cert_len = sizeof(cert);
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(signer_msg_decode(buf, len, &d), 0);
	/* no wrapped key */
	m.ztpca.key = NULL;
	m.ztpca.key_len = 0;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_create_makes_a_self_signed_ca_of_its_subject_and_days, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_issues_a_device_certificate_under_the_ztp_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pop_certificate_has_the_code_as_cn_and_verifies,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrapped_key_opens_only_under_its_identity, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_a_new_signer_process_opens_the_wrapped_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_import_checks_the_ca_and_its_key, setup, teardown),
		cmocka_unit_test(test_codec_round_trips_every_ztpca_type),
		cmocka_unit_test(test_codec_refuses_what_a_ztpca_type_does_not_have),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
