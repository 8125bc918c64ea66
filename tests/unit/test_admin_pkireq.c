/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A foreign PKI's creation body and a CRL's URL (admin_pkireq.h): what is
 * accepted, what is refused with a reason, and that a refusal writes
 * nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "admin_pkireq.h"
#include "ztp/err.h"

#include "pki_testca.h"

static char why[192];
static struct store_pki *out;
static char *ca_pem;    /* a CA allowed to sign CRLs */
static uint8_t *ca_der; /* its DER */
static size_t ca_der_len;

static int
setup(void **state)
{
	EVP_PKEY *k;
	X509 *x = testca_new("Maker CA", "critical,keyCertSign,cRLSign", &k);

	ca_der = testca_der(x, &ca_der_len);
	ca_pem = testca_pem("CERTIFICATE", ca_der, ca_der_len);
	out = malloc(sizeof(*out));
	X509_free(x);
	EVP_PKEY_free(k);
	return out != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	free(out);
	free(ca_pem);
	free(ca_der);
	return 0;
}

/* The body of {"name", "ca", "crl_url"} with extra members (a JSON text to append, or ""). */
static char *
body(const char *name, const char *pem, const char *url, const char *extra)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "name", name, "ca", pem, "crl_url", url);
	char *s = json_dumps(o, JSON_COMPACT), *b;
	size_t n;

	json_decref(o);
	assert_non_null(s);
	n = strlen(s) + strlen(extra) + 2;
	b = malloc(n);
	assert_non_null(b);
	s[strlen(s) - 1] = '\0'; /* the closing brace */
	snprintf(b, n, "%s%s}", s, extra);
	free(s);
	return b;
}

static int
create(const char *b)
{
	memset(out, 0x5a, sizeof(*out));
	why[0] = '\0';
	return admin_pkireq_create((const uint8_t *)b, strlen(b), out, why, sizeof(why));
}

static int
untouched(void)
{
	size_t i;

	for (i = 0; i < sizeof(*out); i++)
		if (((const unsigned char *)out)[i] != 0x5a)
			return 0;
	return 1;
}

/* create(b) is refused with rc, a reason holding needle, out untouched; b freed. */
static void
refused(char *b, int rc, const char *needle)
{
	assert_int_equal(create(b), rc);
	assert_true(why[0] != '\0');
	if (needle != NULL && strstr(why, needle) == NULL)
		fail_msg("reason \"%s\" has no \"%s\" (body %s)", why, needle, b);
	assert_true(untouched());
	free(b);
}

static void
test_create_accepts_and_defaults(void **state)
{
	char *b = body("maker-b.1", ca_pem, "http://crl.example.com:8080/maker.crl", "");

	assert_int_equal(create(b), 0);
	assert_string_equal(out->name, "maker-b.1");
	assert_string_equal(out->crl_url, "http://crl.example.com:8080/maker.crl");
	assert_int_equal(out->interval_s, STORE_PKI_INTERVAL_DEFAULT);
	assert_int_equal(out->ca_len, ca_der_len);
	assert_memory_equal(out->ca, ca_der, ca_der_len);
	assert_int_equal(out->created_at, 0);
	assert_int_equal(out->last_fetch_at, 0);
	assert_string_equal(out->last_error, "");
	free(b);
	b = body("m", ca_pem, "https://[::1]/crl?issuer=maker", ",\"interval_s\":60");
	assert_int_equal(create(b), 0);
	assert_int_equal(out->interval_s, 60);
	free(b);
	b = body("m", ca_pem, "HTTPS://pki.example/c.crl", ",\"interval_s\":2592000");
	assert_int_equal(create(b), 0);
	assert_int_equal(out->interval_s, STORE_PKI_INTERVAL_MAX);
	free(b);
}

static void
test_create_refuses_bad_members(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"null",
		"{\"name\":\"m\",\"ca\":\"x\"}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *b = strdup(bad[i]);
		refused(b, ZTP_EMALFORMED, NULL);
	}
	refused(body("a b", ca_pem, "http://h/c", ""), ZTP_EMALFORMED, "\"name\"");
	refused(body("", ca_pem, "http://h/c", ""), ZTP_EMALFORMED, "\"name\"");
	refused(body("m", ca_pem, "http://h/c", ",\"extra\":1"), ZTP_EMALFORMED, "extra");
	refused(body("m", ca_pem, "http://h/c", ",\"name\":\"n\""), ZTP_EMALFORMED, NULL);
	refused(body("m", ca_pem, "http://h/c", ",\"interval_s\":59"), ZTP_EMALFORMED,
	    "interval_s");
	refused(body("m", ca_pem, "http://h/c", ",\"interval_s\":2592001"), ZTP_EMALFORMED,
	    "interval_s");
	refused(body("m", ca_pem, "http://h/c", ",\"interval_s\":\"60\""), ZTP_EMALFORMED,
	    "interval_s");
	refused(body("m", ca_pem, "http://h/c", ",\"interval_s\":60.5"), ZTP_EMALFORMED,
	    "interval_s");
}

static void
test_create_refuses_bad_urls(void **state)
{
	static const char *const bad[] = {
		"",
		"crl.example.com/c.crl",
		"ftp://crl.example.com/c.crl",
		"file:///etc/passwd",
		"ldap://ldap.example.com/cn=CA",
		"http://user:secret@crl.example.com/c.crl",
		"http://crl.example.com/c.crl#frag",
		"http:///c.crl",
		"http://crl.example.com:/c.crl",
		"http://crl.example.com:0/c.crl",
		"http://crl.example.com:65536/c.crl",
		"http://crl.example.com/a b.crl",
		"http://crl.example.com/\x7f",
		"http://crl.example.com/\xc3\xa9",
		"http://crl.example.com/a\tb",
	};
	char longurl[STORE_PKI_URL_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(admin_pkireq_url_check(bad[i], why, sizeof(why)), ZTP_EMALFORMED);
		assert_true(why[0] != '\0');
		/* never the URL (it may hold a password) in the reason */
		if (strstr(bad[i], "secret") != NULL)
			assert_null(strstr(why, "secret"));
	}
	refused(body("m", ca_pem, "ftp://h/c", ""), ZTP_EMALFORMED, "crl_url");
	memset(longurl, 'a', sizeof(longurl) - 1);
	memcpy(longurl, "http://h/", 9);
	longurl[sizeof(longurl) - 1] = '\0';
	assert_int_equal(admin_pkireq_url_check(longurl, why, sizeof(why)), ZTP_EMALFORMED);
	longurl[STORE_PKI_URL_MAX] = '\0';
	assert_int_equal(admin_pkireq_url_check(longurl, why, sizeof(why)), 0);
	assert_int_equal(admin_pkireq_url_check(NULL, why, sizeof(why)), ZTP_EMALFORMED);
}

/* The PEM of a certificate made with bc and ku (a CA's own key). */
static char *
pem_of(const char *bc, const char *ku)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = testca_cert(k, "Some CA", "02", NULL, NULL, bc, ku);
	size_t len;
	uint8_t *der = testca_der(x, &len);
	char *pem = testca_pem("CERTIFICATE", der, len);

	free(der);
	X509_free(x);
	EVP_PKEY_free(k);
	return pem;
}

static void
test_create_refuses_a_ca_that_cannot_sign_its_crl(void **state)
{
	char *pem, *two, *key_pem;
	EVP_PKEY *k;
	BIO *bio;
	long n;
	char *p;

	pem = pem_of("critical,CA:TRUE", "critical,keyCertSign");
	refused(body("m", pem, "http://h/c", ""), ZTP_EMALFORMED, "cRLSign");
	free(pem);
	pem = pem_of("critical,CA:FALSE", NULL);
	refused(body("m", pem, "http://h/c", ""), ZTP_EMALFORMED, "CA");
	free(pem);
	/* no keyUsage at all: it may */
	pem = pem_of("critical,CA:TRUE", NULL);
	two = body("m", pem, "http://h/c", "");
	assert_int_equal(create(two), 0);
	free(two);
	free(pem);
	/* two certificates, a private key, not PEM */
	two = malloc(2 * strlen(ca_pem) + 1);
	assert_non_null(two);
	strcpy(two, ca_pem);
	strcat(two, ca_pem);
	refused(body("m", two, "http://h/c", ""), ZTP_EMALFORMED, "exactly one");
	free(two);
	k = EVP_EC_gen("P-256");
	bio = BIO_new(BIO_s_mem());
	assert_true(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL));
	n = BIO_get_mem_data(bio, &p);
	key_pem = strndup(p, (size_t)n);
	refused(body("m", key_pem, "http://h/c", ""), ZTP_EMALFORMED, "private key");
	assert_null(strstr(why, "BEGIN"));
	free(key_pem);
	BIO_free(bio);
	EVP_PKEY_free(k);
	refused(body("m", "MIIB", "http://h/c", ""), ZTP_EMALFORMED, "\"ca\"");
	refused(body("m", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		    "http://h/c", ""),
	    ZTP_EMALFORMED, "\"ca\"");
}

static void
test_create_refuses_a_body_over_its_bound(void **state)
{
	size_t n = ADMIN_PKIREQ_BODY_MAX + 1;
	char *b = malloc(n + 1);

	assert_non_null(b);
	memset(b, ' ', n);
	b[0] = '{';
	b[n - 1] = '}';
	b[n] = '\0';
	refused(b, ZTP_ETOOBIG, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_accepts_and_defaults),
		cmocka_unit_test(test_create_refuses_bad_members),
		cmocka_unit_test(test_create_refuses_bad_urls),
		cmocka_unit_test(test_create_refuses_a_ca_that_cannot_sign_its_crl),
		cmocka_unit_test(test_create_refuses_a_body_over_its_bound),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
