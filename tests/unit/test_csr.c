/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device key and its certificate request (include/ztp/csr.h), on a
 * file key store in a mkdtemp directory, and on test backends that can
 * only sign (as PKCS#11 or a secure element) or that sign with the wrong
 * key.
 */
#define _GNU_SOURCE /* nftw's FTW_PHYS and FTW_DEPTH */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ztp/csr.h"
#include "ztp/err.h"
#include "ztp/keystore.h"

#define UDID "0123456789ABCDEF-ztp.dev:01"

struct fx {
	char base[64];
	char dir[128];
	struct keystore *ks;
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	snprintf(f->base, sizeof(f->base), "/tmp/ztp-csr.XXXXXX");
	assert_non_null(mkdtemp(f->base));
	snprintf(f->dir, sizeof(f->dir), "%s/store", f->base);
	assert_int_equal(keystore_file_open(f->dir, KEYSTORE_FILE_CREATE, &f->ks, err,
	    sizeof(err)), 0);
	*state = f;
	return 0;
}

/* setup, and a key in slot 0 */
static int
setup_key(void **state)
{
	struct fx *f;

	setup(state);
	f = *state;
	assert_int_equal(csr_generate_key(f->ks, KEYSTORE_SLOT_DEVICE_KEY, 0), 0);
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	keystore_close(f->ks);
	nftw(f->base, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- helpers ---- */

/* csr_create in DER, parsed; the whole of the DER must be the request. */
static X509_REQ *
make_req(struct keystore *ks, const char *udid, const char *password)
{
	struct csr_req r = { .udid = udid, .challenge_password = password,
		.slot = KEYSTORE_SLOT_DEVICE_KEY };
	uint8_t *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	X509_REQ *x;

	assert_int_equal(csr_create(ks, &r, CSR_DER, &der, &len), 0);
	assert_non_null(der);
	p = der;
	x = d2i_X509_REQ(NULL, &p, (long)len);
	assert_non_null(x);
	assert_ptr_equal(p, der + len);
	free(der);
	return x;
}

/* The text of the only entry `nid` of name, which must be of ASN.1 type `type`. */
static void
expect_entry(const X509_NAME *name, int nid, int type, const char *want)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	const ASN1_STRING *s;

	assert_true(i >= 0);
	assert_int_equal(X509_NAME_get_index_by_NID(name, nid, i), -1); /* only one */
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	assert_int_equal(ASN1_STRING_type(s), type);
	assert_int_equal(ASN1_STRING_length(s), (int)strlen(want));
	assert_memory_equal(ASN1_STRING_get0_data(s), want, strlen(want));
}

/* The private key of slot 0, read from its file by OpenSSL directly. */
static EVP_PKEY *
slot0_from_disk(struct fx *f)
{
	char path[256];
	FILE *fp;
	EVP_PKEY *pk;

	snprintf(path, sizeof(path), "%s/slot-00", f->dir);
	assert_non_null(fp = fopen(path, "r"));
	pk = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(pk);
	return pk;
}

/* ---- test backends over a file store ---- */

/*
 * A store that can only give public keys and sign, as a token does: no get,
 * no OpenSSL handle, and it counts its signatures. With `wrong_slot` >= 0 it
 * signs with that slot's key instead of the one asked for.
 */
struct signer {
	struct keystore base;
	struct keystore *inner;
	int wrong_slot;
	int signatures;
};

static int
signer_public_key(struct keystore *ks, int slot, uint8_t *out, size_t cap, size_t *len)
{
	struct signer *s = (struct signer *)ks;

	return keystore_public_key(s->inner, slot, out, cap, len);
}

static int
signer_sign(struct keystore *ks, int slot, const uint8_t *d, size_t dlen, uint8_t *sig,
    size_t cap, size_t *siglen)
{
	struct signer *s = (struct signer *)ks;

	s->signatures++;
	return keystore_sign_digest(s->inner, s->wrong_slot >= 0 ? s->wrong_slot : slot, d, dlen,
	    sig, cap, siglen);
}

static const struct keystore_ops signer_ops = {
	.name = "signer",
	.public_key = signer_public_key,
	.sign_digest = signer_sign,
};

/* ---- the key ---- */

static void
test_generate_key_puts_a_p256_key_in_slot_0(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *pk;
	char group[32];

	assert_int_equal(csr_generate_key(f->ks, KEYSTORE_SLOT_DEVICE_KEY, 0), 0);
	pk = slot0_from_disk(f);
	assert_true(EVP_PKEY_is_a(pk, "EC"));
	assert_int_equal(EVP_PKEY_get_utf8_string_param(pk, "group", group, sizeof(group), NULL),
	    1);
	assert_string_equal(group, "prime256v1");
	EVP_PKEY_free(pk);
}

static void
test_generate_key_refuses_to_overwrite_unless_asked(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *a = slot0_from_disk(f), *b;

	assert_int_equal(csr_generate_key(f->ks, KEYSTORE_SLOT_DEVICE_KEY, 0), ZTP_EEXIST);
	b = slot0_from_disk(f);
	assert_int_equal(EVP_PKEY_eq(a, b), 1);
	EVP_PKEY_free(b);
	assert_int_equal(csr_generate_key(f->ks, KEYSTORE_SLOT_DEVICE_KEY, 1), 0);
	b = slot0_from_disk(f);
	assert_int_not_equal(EVP_PKEY_eq(a, b), 1);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

/* ---- the request ---- */

static void
test_request_verifies_with_its_own_public_key(void **state)
{
	struct fx *f = *state;
	X509_REQ *x = make_req(f->ks, UDID, NULL);
	const ASN1_BIT_STRING *sig = NULL;
	const X509_ALGOR *alg = NULL;
	STACK_OF(X509_EXTENSION) *exts;

	assert_int_equal(X509_REQ_verify(x, X509_REQ_get0_pubkey(x)), 1);
	assert_int_equal(X509_REQ_get_version(x), X509_REQ_VERSION_1);
	assert_int_equal(X509_REQ_get_signature_nid(x), NID_ecdsa_with_SHA256);
	X509_REQ_get0_signature(x, &sig, &alg);
	assert_int_equal(sig->flags & 0x07, 0); /* no unused bits */
	exts = X509_REQ_get_extensions(x); /* a new stack, or NULL */
	assert_int_equal(sk_X509_EXTENSION_num(exts) <= 0, 1);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(x);
}

static void
test_subject_cn_and_serial_number_are_the_udid(void **state)
{
	struct fx *f = *state;
	X509_REQ *x = make_req(f->ks, UDID, NULL);
	const X509_NAME *name = X509_REQ_get_subject_name(x);

	assert_int_equal(X509_NAME_entry_count(name), 2);
	expect_entry(name, NID_commonName, V_ASN1_UTF8STRING, UDID);
	expect_entry(name, NID_serialNumber, V_ASN1_PRINTABLESTRING, UDID);
	X509_REQ_free(x);
}

static void
test_the_public_key_is_the_key_of_slot_0(void **state)
{
	struct fx *f = *state;
	X509_REQ *x = make_req(f->ks, UDID, NULL);
	EVP_PKEY *disk = slot0_from_disk(f), *spki;
	uint8_t *der = NULL;
	const unsigned char *p;
	size_t len = 0;

	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(x), disk), 1);
	/* and csr_public_key, what the operator allowlists, is the same key */
	assert_int_equal(csr_public_key(f->ks, 0, CSR_DER, &der, &len), 0);
	p = der;
	assert_non_null(spki = d2i_PUBKEY(NULL, &p, (long)len));
	assert_ptr_equal(p, der + len);
	assert_int_equal(EVP_PKEY_eq(spki, disk), 1);
	EVP_PKEY_free(spki);
	free(der);
	/* a new key makes a request with the new key */
	assert_int_equal(csr_generate_key(f->ks, 0, 1), 0);
	X509_REQ_free(x);
	x = make_req(f->ks, UDID, NULL);
	assert_int_not_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(x), disk), 1);
	EVP_PKEY_free(disk);
	X509_REQ_free(x);
}

static void
test_public_key_pem_is_a_public_key_block(void **state)
{
	struct fx *f = *state;
	uint8_t *pem = NULL;
	size_t len = 0;
	BIO *bio;
	EVP_PKEY *pk, *disk = slot0_from_disk(f);

	assert_int_equal(csr_public_key(f->ks, 0, CSR_PEM, &pem, &len), 0);
	assert_int_equal(strlen((char *)pem), len);
	assert_memory_equal(pem, "-----BEGIN PUBLIC KEY-----\n", 27);
	bio = BIO_new_mem_buf(pem, (int)len);
	assert_non_null(pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL));
	assert_int_equal(EVP_PKEY_eq(pk, disk), 1);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(disk);
	BIO_free(bio);
	free(pem);
}

static void
test_challenge_password_is_present_only_when_asked(void **state)
{
	struct fx *f = *state;
	X509_REQ *x = make_req(f->ks, UDID, "one-time p@ss word!");
	int i = X509_REQ_get_attr_by_NID(x, NID_pkcs9_challengePassword, -1);
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;

	assert_true(i >= 0);
	assert_int_equal(X509_REQ_get_attr_count(x), 1);
	a = X509_REQ_get_attr(x, i);
	assert_int_equal(X509_ATTRIBUTE_count(a), 1);
	t = X509_ATTRIBUTE_get0_type(a, 0);
	assert_true(t->type == V_ASN1_UTF8STRING || t->type == V_ASN1_PRINTABLESTRING);
	assert_int_equal(ASN1_STRING_length(t->value.asn1_string), 19);
	assert_memory_equal(ASN1_STRING_get0_data(t->value.asn1_string), "one-time p@ss word!",
	    19);
	assert_int_equal(X509_REQ_verify(x, X509_REQ_get0_pubkey(x)), 1);
	X509_REQ_free(x);

	x = make_req(f->ks, UDID, NULL);
	assert_int_equal(X509_REQ_get_attr_by_NID(x, NID_pkcs9_challengePassword, -1), -1);
	assert_int_equal(X509_REQ_get_attr_count(x), 0);
	X509_REQ_free(x);
}

static void
test_pem_output_is_a_certificate_request(void **state)
{
	struct fx *f = *state;
	struct csr_req r = { .udid = UDID, .slot = 0 };
	uint8_t *pem = NULL;
	size_t len = 0;
	BIO *bio;
	X509_REQ *x;

	assert_int_equal(csr_create(f->ks, &r, CSR_PEM, &pem, &len), 0);
	assert_int_equal(strlen((char *)pem), len);
	assert_memory_equal(pem, "-----BEGIN CERTIFICATE REQUEST-----\n", 36);
	bio = BIO_new_mem_buf(pem, (int)len);
	assert_non_null(x = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL));
	assert_int_equal(X509_REQ_verify(x, X509_REQ_get0_pubkey(x)), 1);
	expect_entry(X509_REQ_get_subject_name(x), NID_commonName, V_ASN1_UTF8STRING, UDID);
	X509_REQ_free(x);
	BIO_free(bio);
	free(pem);
}

static void
test_the_longest_udid_is_accepted(void **state)
{
	struct fx *f = *state;
	char udid[CSR_UDID_MAX + 1];
	X509_REQ *x;

	memset(udid, 'A', CSR_UDID_MAX);
	udid[CSR_UDID_MAX] = '\0';
	x = make_req(f->ks, udid, NULL);
	expect_entry(X509_REQ_get_subject_name(x), NID_serialNumber, V_ASN1_PRINTABLESTRING,
	    udid);
	X509_REQ_free(x);
}

/* csr_create refuses udid/password with ZTP_EINVAL, returns nothing, signs nothing. */
static void
expect_refused(struct fx *f, const char *udid, const char *password)
{
	struct signer s = { .base = { .ops = &signer_ops }, .inner = f->ks, .wrong_slot = -1 };
	struct csr_req r = { .udid = udid, .challenge_password = password, .slot = 0 };
	uint8_t *out = (uint8_t *)&r;
	size_t len = 99;

	assert_int_equal(csr_create(&s.base, &r, CSR_DER, &out, &len), ZTP_EINVAL);
	assert_null(out);
	assert_int_equal(len, 0);
	assert_int_equal(s.signatures, 0);
	assert_true(keystore_error(&s.base)[0] != '\0');
}

static void
test_bad_udids_are_refused(void **state)
{
	struct fx *f = *state;
	char longest[CSR_UDID_MAX + 2];

	memset(longest, 'A', CSR_UDID_MAX + 1);
	longest[CSR_UDID_MAX + 1] = '\0';
	expect_refused(f, NULL, NULL);
	expect_refused(f, "", NULL);
	expect_refused(f, longest, NULL);
	expect_refused(f, "dev\x01", NULL);
	expect_refused(f, "dev\n", NULL);
	expect_refused(f, "dev\x7f", NULL);
	expect_refused(f, "dev 1", NULL);
	expect_refused(f, "dev_1", NULL);       /* not in a PrintableString */
	expect_refused(f, "CN=x,O=y", NULL);    /* DN syntax */
	expect_refused(f, "d\xc3\xa9v", NULL);  /* UTF-8 */
	assert_int_equal(csr_udid_valid("dev_1"), 0);
	assert_int_equal(csr_udid_valid("A"), 1);
	assert_int_equal(csr_udid_valid("00:11:22:33:44:55"), 1);
	assert_int_equal(csr_udid_valid(longest + 1), 1);
	assert_int_equal(csr_udid_valid(longest), 0);
}

static void
test_bad_challenge_passwords_are_refused(void **state)
{
	struct fx *f = *state;
	char longest[CSR_PASSWORD_MAX + 2];

	memset(longest, 'p', CSR_PASSWORD_MAX + 1);
	longest[CSR_PASSWORD_MAX + 1] = '\0';
	expect_refused(f, UDID, "");
	expect_refused(f, UDID, longest);
	expect_refused(f, UDID, "pass\nword");
	expect_refused(f, UDID, "p\xc3\xa4ss");
	/* 255 characters are fine */
	X509_REQ_free(make_req(f->ks, UDID, longest + 1));
}

static void
test_bad_arguments_are_refused(void **state)
{
	struct fx *f = *state;
	struct csr_req r = { .udid = UDID, .slot = 0 };
	uint8_t *out = NULL;
	size_t len = 0;

	assert_int_equal(csr_create(NULL, &r, CSR_DER, &out, &len), ZTP_EINVAL);
	assert_int_equal(csr_create(f->ks, NULL, CSR_DER, &out, &len), ZTP_EINVAL);
	assert_int_equal(csr_create(f->ks, &r, (enum csr_format)0, &out, &len), ZTP_EINVAL);
	assert_int_equal(csr_create(f->ks, &r, CSR_DER, NULL, &len), ZTP_EINVAL);
	assert_int_equal(csr_create(f->ks, &r, CSR_DER, &out, NULL), ZTP_EINVAL);
	r.slot = KEYSTORE_SLOT_DEVICE_CERT;
	assert_int_equal(csr_create(f->ks, &r, CSR_DER, &out, &len), ZTP_EINVAL);
	assert_non_null(strstr(keystore_error(f->ks), "not a key slot"));
	assert_null(out);
	assert_int_equal(csr_public_key(f->ks, 10, CSR_DER, &out, &len), ZTP_EINVAL);
	assert_int_equal(csr_public_key(f->ks, 0, (enum csr_format)7, &out, &len), ZTP_EINVAL);
}

static void
test_no_key_in_the_slot_is_noent(void **state)
{
	struct fx *f = *state;
	struct csr_req r = { .udid = UDID, .slot = 0 };
	uint8_t *out = NULL;
	size_t len = 0;

	assert_int_equal(csr_create(f->ks, &r, CSR_DER, &out, &len), ZTP_ENOENT);
	assert_null(out);
	assert_non_null(strstr(keystore_error(f->ks), "empty"));
	assert_int_equal(csr_public_key(f->ks, 0, CSR_PEM, &out, &len), ZTP_ENOENT);
}

/* ---- through the interface only ---- */

static void
test_a_store_that_can_only_sign_makes_the_same_request(void **state)
{
	struct fx *f = *state;
	struct signer s = { .base = { .ops = &signer_ops }, .inner = f->ks, .wrong_slot = -1 };
	struct csr_req r = { .udid = UDID, .challenge_password = "otp", .slot = 0 };
	EVP_PKEY *disk = slot0_from_disk(f), *handle = NULL;
	uint8_t *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	X509_REQ *x;

	/* no key handle from this store: the request is signed through sign_digest */
	assert_int_equal(keystore_pkey(&s.base, 0, &handle), ZTP_EINVAL);
	assert_non_null(strstr(keystore_error(&s.base), "signer"));
	assert_int_equal(csr_create(&s.base, &r, CSR_DER, &der, &len), 0);
	assert_int_equal(s.signatures, 1);
	p = der;
	assert_non_null(x = d2i_X509_REQ(NULL, &p, (long)len));
	assert_int_equal(X509_REQ_verify(x, X509_REQ_get0_pubkey(x)), 1);
	assert_int_equal(X509_REQ_verify(x, disk), 1);
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(x), disk), 1);
	X509_REQ_free(x);
	free(der);
	EVP_PKEY_free(disk);
}

static void
test_a_store_that_signs_with_another_key_is_caught(void **state)
{
	struct fx *f = *state;
	struct signer s = { .base = { .ops = &signer_ops }, .inner = f->ks, .wrong_slot = 1 };
	struct csr_req r = { .udid = UDID, .slot = 0 };
	uint8_t *out = NULL;
	size_t len = 0;

	assert_int_equal(keystore_generate_key(f->ks, 1, KEYSTORE_KEY_P256, 0), 0);
	assert_int_equal(csr_create(&s.base, &r, CSR_PEM, &out, &len), ZTP_ECRYPTO);
	assert_null(out);
	assert_int_equal(s.signatures, 1);
	assert_non_null(strstr(keystore_error(&s.base), "does not verify"));
	assert_int_equal(ERR_peek_error(), 0); /* OpenSSL's error queue left clean */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_generate_key_puts_a_p256_key_in_slot_0, setup,
		    teardown),
#define T(name) cmocka_unit_test_setup_teardown(name, setup_key, teardown)
		T(test_generate_key_refuses_to_overwrite_unless_asked),
		T(test_request_verifies_with_its_own_public_key),
		T(test_subject_cn_and_serial_number_are_the_udid),
		T(test_the_public_key_is_the_key_of_slot_0),
		T(test_public_key_pem_is_a_public_key_block),
		T(test_challenge_password_is_present_only_when_asked),
		T(test_pem_output_is_a_certificate_request),
		T(test_the_longest_udid_is_accepted),
		T(test_bad_udids_are_refused),
		T(test_bad_challenge_passwords_are_refused),
		T(test_bad_arguments_are_refused),
		T(test_a_store_that_can_only_sign_makes_the_same_request),
		T(test_a_store_that_signs_with_another_key_is_caught),
#undef T
		cmocka_unit_test_setup_teardown(test_no_key_in_the_slot_is_noent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
