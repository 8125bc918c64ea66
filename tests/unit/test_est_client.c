/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The EST client (include/ztp/est.h): the parsers of the server's answers,
 * the renewal dates, the checks of an issued certificate and what is
 * stored, and whole requests against a small TLS server in a thread of
 * this test (canned answers, so that 202, refusals, oversize answers,
 * untrusted or misnamed servers and silence can be provoked). Certificates
 * are made here with OpenSSL.
 */
#define _GNU_SOURCE /* nftw's FTW_PHYS and FTW_DEPTH */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ztp/csr.h"
#include "ztp/err.h"
#include "ztp/est.h"
#include "ztp/keystore.h"

#define UDID "gw-0001.example:7"
#define DAY 86400L

/* ---- certificates ---- */

static long next_serial = 1000;

static EVP_PKEY *
new_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/*
 * A certificate for key's public key: subject CN=cn (and serialNumber=sn
 * if not NULL), valid from now+nb to now+na seconds, signed by issuer and
 * issuer_key (NULL, NULL: self-signed with key), a CA or not, with
 * subjectAltName san if not NULL.
 */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, const char *sn, X509 *issuer, EVP_PKEY *issuer_key,
    int ca, long nb, long na, const char *san)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	assert_non_null(x);
	assert_non_null(n);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), next_serial++), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), nb));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), na));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	if (sn != NULL)
		assert_int_equal(X509_NAME_add_entry_by_NID(n, NID_serialNumber, MBSTRING_ASC,
		    (const unsigned char *)sn, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, n), 1);
	assert_int_equal(X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) :
	    n), 1);
	add_ext(x, issuer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, issuer, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" :
	    "critical,digitalSignature");
	if (san != NULL)
		add_ext(x, issuer, NID_subject_alt_name, san);
	assert_true(X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

static STACK_OF(X509) *
stack_of(X509 *a, X509 *b)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	assert_non_null(sk);
	assert_true(X509_up_ref(a));
	assert_true(sk_X509_push(sk, a) > 0);
	if (b != NULL) {
		assert_true(X509_up_ref(b));
		assert_true(sk_X509_push(sk, b) > 0);
	}
	return sk;
}

/* DER of a certs-only PKCS#7 SignedData of certs[0..n). *len: its length. */
static uint8_t *
p7_der(X509 **certs, int n, size_t *len)
{
	PKCS7 *p7 = PKCS7_new();
	unsigned char *der = NULL;
	uint8_t *out;
	int i, l;

	assert_non_null(p7);
	assert_int_equal(PKCS7_set_type(p7, NID_pkcs7_signed), 1);
	assert_int_equal(PKCS7_content_new(p7, NID_pkcs7_data), 1);
	for (i = 0; i < n; i++)
		assert_int_equal(PKCS7_add_certificate(p7, certs[i]), 1);
	l = i2d_PKCS7(p7, &der);
	assert_true(l > 0);
	out = malloc((size_t)l);
	assert_non_null(out);
	memcpy(out, der, (size_t)l);
	*len = (size_t)l;
	OPENSSL_free(der);
	PKCS7_free(p7);
	return out;
}

/* base64 of der[len], in lines of 64 with CRLF if crlf; malloc'd, NUL-terminated. */
static char *
b64(const uint8_t *der, size_t len, int crlf)
{
	size_t n = 4 * ((len + 2) / 3), i, o = 0;
	char *flat = malloc(n + 1), *out;

	assert_non_null(flat);
	EVP_EncodeBlock((unsigned char *)flat, der, (int)len);
	if (!crlf)
		return flat;
	out = malloc(n + 2 * (n / 64 + 1) + 1);
	assert_non_null(out);
	for (i = 0; i < n; i++) {
		out[o++] = flat[i];
		if (i % 64 == 63 || i == n - 1) {
			out[o++] = '\r';
			out[o++] = '\n';
		}
	}
	out[o] = '\0';
	free(flat);
	return out;
}

static char *
p7_b64(X509 **certs, int n, int crlf)
{
	size_t len;
	uint8_t *der = p7_der(certs, n, &len);
	char *s = b64(der, len, crlf);

	free(der);
	return s;
}

/* ---- fixtures: a test PKI, a temporary directory and key store ---- */

static struct pki {
	EVP_PKEY *ca_key, *other_key, *srv_key;
	X509 *ca, *other_ca, *srv, *srv_misnamed;
} P;

static int
group_setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	P.ca_key = new_key();
	P.other_key = new_key();
	P.srv_key = new_key();
	P.ca = make_cert(P.ca_key, "ztp test CA", NULL, NULL, NULL, 1, -30 * DAY, 3650 * DAY, NULL);
	P.other_ca = make_cert(P.other_key, "another CA", NULL, NULL, NULL, 1, -DAY, 3650 * DAY,
	    NULL);
	P.srv = make_cert(P.srv_key, "est server", NULL, P.ca, P.ca_key, 0, -DAY, 365 * DAY,
	    "DNS:localhost,IP:127.0.0.1");
	P.srv_misnamed = make_cert(P.srv_key, "est server", NULL, P.ca, P.ca_key, 0, -DAY,
	    365 * DAY, "DNS:other.example,IP:10.9.9.9");
	return 0;
}

static int
group_teardown(void **state)
{
	X509_free(P.ca);
	X509_free(P.other_ca);
	X509_free(P.srv);
	X509_free(P.srv_misnamed);
	EVP_PKEY_free(P.ca_key);
	EVP_PKEY_free(P.other_key);
	EVP_PKEY_free(P.srv_key);
	return 0;
}

struct fx {
	char base[64];
	char store[128];
	char ca_file[128];
	struct keystore *ks;
	uint8_t pub[KEYSTORE_P256_PUBKEY_LEN];
	size_t publen;
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void
write_pem_cert(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	snprintf(f->base, sizeof(f->base), "/tmp/ztp-est.XXXXXX");
	assert_non_null(mkdtemp(f->base));
	snprintf(f->store, sizeof(f->store), "%s/store", f->base);
	snprintf(f->ca_file, sizeof(f->ca_file), "%s/ca.pem", f->base);
	write_pem_cert(f->ca_file, P.ca);
	assert_int_equal(keystore_file_open(f->store, KEYSTORE_FILE_CREATE, &f->ks, err,
	    sizeof(err)), 0);
	assert_int_equal(csr_generate_key(f->ks, KEYSTORE_SLOT_DEVICE_KEY, 0), 0);
	assert_int_equal(keystore_public_key(f->ks, KEYSTORE_SLOT_DEVICE_KEY, f->pub,
	    sizeof(f->pub), &f->publen), 0);
	*state = f;
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

/* The device's public key (slot 0) as an EVP_PKEY, to put in a certificate. */
static EVP_PKEY *
device_pub(struct fx *f)
{
	uint8_t *der = NULL;
	size_t len = 0;
	const unsigned char *p;
	EVP_PKEY *pk;

	assert_int_equal(csr_public_key(f->ks, KEYSTORE_SLOT_DEVICE_KEY, CSR_DER, &der, &len), 0);
	p = der;
	pk = d2i_PUBKEY(NULL, &p, (long)len);
	assert_non_null(pk);
	free(der);
	return pk;
}

/* A device certificate for slot 0's key from the test CA. */
static X509 *
device_cert(struct fx *f, const char *cn, const char *sn, long nb, long na)
{
	EVP_PKEY *pk = device_pub(f);
	X509 *x = make_cert(pk, cn, sn, P.ca, P.ca_key, 0, nb, na, NULL);

	EVP_PKEY_free(pk);
	return x;
}

/* ---- est_parse_certs ---- */

static void
expect_certs(const char *body, size_t len, X509 **want, int n)
{
	STACK_OF(X509) *sk = NULL;
	char why[EST_WHY_MAX];
	int i;

	assert_int_equal(est_parse_certs((const uint8_t *)body, len, &sk, why, sizeof(why)), 0);
	assert_int_equal(sk_X509_num(sk), n);
	for (i = 0; i < n; i++)
		assert_int_equal(X509_cmp(sk_X509_value(sk, i), want[i]), 0);
	sk_X509_pop_free(sk, X509_free);
}

static void
expect_certs_fail(const void *body, size_t len, int rc)
{
	STACK_OF(X509) *sk = (STACK_OF(X509) *)1;
	char why[EST_WHY_MAX] = "";

	assert_int_equal(est_parse_certs(body, len, &sk, why, sizeof(why)), rc);
	assert_null(sk);
	assert_true(why[0] != '\0');
}

static void
test_certs_one(void **state)
{
	X509 *c[1] = { P.ca };
	char *s = p7_b64(c, 1, 0);

	expect_certs(s, strlen(s), c, 1);
	free(s);
}

static void
test_certs_several_in_order(void **state)
{
	X509 *c[3] = { P.srv, P.ca, P.other_ca };
	char *s = p7_b64(c, 3, 0);

	expect_certs(s, strlen(s), c, 3);
	free(s);
}

static void
test_certs_base64_with_crlf_and_blanks(void **state)
{
	X509 *c[2] = { P.ca, P.other_ca };
	char *s = p7_b64(c, 2, 1), *t;

	assert_non_null(strstr(s, "\r\n"));
	expect_certs(s, strlen(s), c, 2);
	/* spaces and tabs between characters (RFC 8951), and around */
	t = malloc(strlen(s) * 2 + 8);
	assert_non_null(t);
	snprintf(t, 4, " \t ");
	for (size_t i = 0, o = 3; s[i] != '\0'; i++) {
		t[o++] = s[i];
		if (i % 7 == 3)
			t[o++] = ' ';
		t[o] = '\0';
	}
	strcat(t, "\r\n\t");
	expect_certs(t, strlen(t), c, 2);
	free(t);
	free(s);
}

static void
test_certs_empty(void **state)
{
	expect_certs_fail("", 0, ZTP_EMALFORMED);
	expect_certs_fail(" \r\n\t ", 5, ZTP_EMALFORMED);
}

static void
test_certs_garbage(void **state)
{
	static const char hello[] = "aGVsbG8gd29ybGQh"; /* "hello world!" */
	uint8_t junk[300];
	char *s;
	size_t i;

	expect_certs_fail("not base64!", 11, ZTP_EMALFORMED);
	expect_certs_fail("MII\0AAAA", 8, ZTP_EMALFORMED);
	expect_certs_fail(hello, strlen(hello), ZTP_EMALFORMED);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	junk[0] = 0x30;
	s = b64(junk, sizeof(junk), 0);
	expect_certs_fail(s, strlen(s), ZTP_EMALFORMED);
	free(s);
	/* PEM armour is not base64 */
	expect_certs_fail("-----BEGIN PKCS7-----", 21, ZTP_EMALFORMED);
}

static void
test_certs_truncated(void **state)
{
	X509 *c[2] = { P.ca, P.srv };
	size_t len, cut;
	uint8_t *der = p7_der(c, 2, &len);
	char *s = p7_b64(c, 2, 0);

	/* base64 cut mid-quad */
	expect_certs_fail(s, strlen(s) - 1, ZTP_EMALFORMED);
	free(s);
	/* whole base64 of a cut DER, at several points */
	for (cut = 1; cut < len; cut += len / 7) {
		s = b64(der, cut, 0);
		expect_certs_fail(s, strlen(s), ZTP_EMALFORMED);
		free(s);
	}
	free(der);
}

static void
test_certs_bytes_after_the_structure(void **state)
{
	X509 *c[1] = { P.ca };
	size_t len;
	uint8_t *der = p7_der(c, 1, &len), *more = malloc(len + 2);
	char *s;

	assert_non_null(more);
	memcpy(more, der, len);
	more[len] = 0;
	more[len + 1] = 0;
	s = b64(more, len + 2, 0);
	expect_certs_fail(s, strlen(s), ZTP_EMALFORMED);
	free(s);
	free(more);
	free(der);
}

static void
test_certs_data_after_padding(void **state)
{
	X509 *c[1] = { P.ca };
	size_t len;
	uint8_t *der = p7_der(c, 1, &len);
	char *s, *t;

	/* make the length need padding, then put characters after the '=' */
	s = b64(der, len - (len % 3 == 0 ? 1 : 0), 0);
	assert_non_null(strchr(s, '='));
	t = malloc(strlen(s) + 5);
	assert_non_null(t);
	sprintf(t, "%sAAAA", s);
	expect_certs_fail(t, strlen(t), ZTP_EMALFORMED);
	sprintf(t, "%s=", s); /* three '=' or a quad too long */
	expect_certs_fail(t, strlen(t), ZTP_EMALFORMED);
	free(t);
	free(s);
	free(der);
}

static void
test_certs_oversize(void **state)
{
	size_t n = EST_RESPONSE_MAX + 4;
	char *s = malloc(n);

	assert_non_null(s);
	memset(s, 'A', n);
	expect_certs_fail(s, n, ZTP_ETOOBIG);
	free(s);
}

static void
test_certs_too_many(void **state)
{
	X509 *c[EST_CERTS_MAX + 1];
	char *s;
	int i;

	for (i = 0; i <= EST_CERTS_MAX; i++)
		c[i] = P.ca;
	s = p7_b64(c, EST_CERTS_MAX + 1, 1);
	expect_certs_fail(s, strlen(s), ZTP_ETOOBIG);
	free(s);
	s = p7_b64(c, EST_CERTS_MAX, 1);
	expect_certs(s, strlen(s), c, EST_CERTS_MAX);
	free(s);
}

static void
test_certs_not_signed_data_or_no_cert(void **state)
{
	PKCS7 *p7 = PKCS7_new();
	unsigned char *der = NULL;
	char *s;
	int l;

	assert_int_equal(PKCS7_set_type(p7, NID_pkcs7_data), 1);
	l = i2d_PKCS7(p7, &der);
	assert_true(l > 0);
	s = b64(der, (size_t)l, 0);
	expect_certs_fail(s, strlen(s), ZTP_EMALFORMED);
	free(s);
	OPENSSL_free(der);
	PKCS7_free(p7);

	s = p7_b64(NULL, 0, 0); /* SignedData without certificates */
	expect_certs_fail(s, strlen(s), ZTP_EMALFORMED);
	free(s);
}

/* ---- Retry-After, Content-Type, reason, URL ---- */

static int
retry(const char *v, int64_t now, uint32_t *secs)
{
	*secs = 777;
	return est_parse_retry_after(v, strlen(v), now, secs);
}

static void
test_retry_after_seconds(void **state)
{
	uint32_t s;

	assert_int_equal(retry("120", 0, &s), 0);
	assert_int_equal(s, 120);
	assert_int_equal(retry("0", 0, &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(retry(" \t30 ", 0, &s), 0);
	assert_int_equal(s, 30);
	assert_int_equal(retry("007", 0, &s), 0);
	assert_int_equal(s, 7);
	assert_int_equal(retry("4294967295", 0, &s), 0);
	assert_int_equal(s, UINT32_MAX);
}

static void
test_retry_after_overflow(void **state)
{
	uint32_t s;

	assert_int_equal(retry("4294967296", 0, &s), ZTP_ERANGE);
	assert_int_equal(s, 777);
	assert_int_equal(retry("18446744073709551616", 0, &s), ZTP_ERANGE);
	assert_int_equal(retry("99999999999999999999999999999", 0, &s), ZTP_ERANGE);
	assert_int_equal(s, 777);
}

static void
test_retry_after_garbage(void **state)
{
	static const char *bad[] = { "", "  ", "-1", "+5", "1.5", "1e3", "12 34", "abc", "0x10",
		"10s", "Sun, 06 Nov 1994 08:49:37 UTC", "sun, 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
		"Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 31 Feb 2021 08:49:37 GMT",
		"Sun, 29 Feb 2023 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
		"Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:61 GMT",
		"Sun, 06 Nox 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT x" };
	uint32_t s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(retry(bad[i], 0, &s), ZTP_EMALFORMED);
		assert_int_equal(s, 777);
	}
	/* a NUL inside is not a digit */
	assert_int_equal(est_parse_retry_after("1\0002", 3, 0, &s), ZTP_EMALFORMED);
}

static void
test_retry_after_http_date(void **state)
{
	/* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 */
	const int64_t t = 784111777;
	uint32_t s;

	assert_int_equal(retry("Sun, 06 Nov 1994 08:49:37 GMT", t - 100, &s), 0);
	assert_int_equal(s, 100);
	assert_int_equal(retry("Sun, 06 Nov 1994 08:49:37 GMT", t + 5, &s), 0);
	assert_int_equal(s, 0); /* in the past: now */
	assert_int_equal(retry(" Sun, 06 Nov 1994 08:49:37 GMT\t", t, &s), 0);
	assert_int_equal(s, 0);
	/* 29 February of a leap year, 2000 (divisible by 400) */
	assert_int_equal(retry("Tue, 29 Feb 2000 00:00:00 GMT", 951782400 - 60, &s), 0);
	assert_int_equal(s, 60);
	/* a leap second counts as the second before */
	assert_int_equal(retry("Sat, 31 Dec 2016 23:59:60 GMT", 1483228799 - 1, &s), 0);
	assert_int_equal(s, 1);
	/* further than UINT32_MAX seconds away */
	assert_int_equal(retry("Fri, 31 Dec 9999 23:59:59 GMT", 0, &s), ZTP_ERANGE);
	assert_int_equal(s, 777);
}

static void
test_ctype(void **state)
{
	static const char *good[] = { "application/pkcs7-mime",
		"application/pkcs7-mime; smime-type=certs-only", "Application/PKCS7-MIME",
		" application/pkcs7-mime;smime-type=certs-only" };
	static const char *bad[] = { "", "text/plain", "application/pkcs7",
		"application/pkcs7-mimex", "application/pkcs10", "application/json" };
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(est_ctype_is_pkcs7(good[i], strlen(good[i])));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(est_ctype_is_pkcs7(bad[i], strlen(bad[i])));
	assert_false(est_ctype_is_pkcs7(NULL, 0));
}

static void
test_reason_text(void **state)
{
	static const uint8_t body[] = "  {\"error\": \"bad\tpassword\"}\r\n\x01\xff  end \r\n";
	char out[EST_REASON_MAX + 1], small[12];

	assert_int_equal(est_reason_text(body, sizeof(body) - 1, out, sizeof(out)),
	    strlen("{\"error\": \"bad password\"} ?? end"));
	assert_string_equal(out, "{\"error\": \"bad password\"} ?? end");
	/* cut, with "..." */
	assert_int_equal(est_reason_text((const uint8_t *)"abcdefghijklmnopq", 17, small,
	    sizeof(small)), 11);
	assert_string_equal(small, "abcdefgh...");
	/* exactly what fits: not cut */
	assert_int_equal(est_reason_text((const uint8_t *)"abcdefghijk", 11, small, sizeof(small)),
	    11);
	assert_string_equal(small, "abcdefghijk");
	assert_int_equal(est_reason_text((const uint8_t *)"abc", 3, small, 1), 0);
	assert_string_equal(small, "");
	assert_int_equal(est_reason_text(NULL, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(est_reason_text((const uint8_t *)"\r\n", 2, out, sizeof(out)), 0);
}

static void
test_url(void **state)
{
	static const char *bad[] = { "", "http://host", "https://", "https://:443", "https://host:",
		"https://host:0", "https://host:65536", "https://host:08443", "https://host/est",
		"https://host?x", "https://user@host", "https://-host", "https://ho_st",
		"https://[::1", "https://[]:1", "https://[host]", "https://host:1:2",
		"ftp://host", "https://host//" };
	struct est_url u;
	size_t i;

	assert_int_equal(est_parse_url("https://est.example.com", &u), 0);
	assert_string_equal(u.host, "est.example.com");
	assert_int_equal(u.port, 443);
	assert_false(u.is_ip);
	assert_int_equal(est_parse_url("HTTPS://127.0.0.1:8443/", &u), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 8443);
	assert_true(u.is_ip);
	assert_int_equal(est_parse_url("https://[::1]:9443", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 9443);
	assert_true(u.is_ip);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(est_parse_url(bad[i], &u), ZTP_EINVAL);
	assert_int_equal(est_parse_url(NULL, &u), ZTP_EINVAL);
}

/* ---- renewal dates ---- */

static void
test_renew_due_default_third(void **state)
{
	int64_t due = 0;

	/* 300 s of life: due with 100 s left */
	assert_false(est_renew_due(1000, 1300, 1199, -1, &due));
	assert_int_equal(due, 1200);
	assert_true(est_renew_due(1000, 1300, 1200, -1, &due));
	assert_true(est_renew_due(1000, 1300, 5000, -1, &due)); /* expired: due */
	/* a year: due about four months before the end */
	assert_false(est_renew_due(0, 365 * DAY, 243 * DAY, -1, &due));
	assert_int_equal(due, 365 * DAY - 365 * DAY / 3);
	/* nonsense validity: due at once */
	assert_true(est_renew_due(2000, 1000, 2000, -1, &due));
	/* extremes do not overflow */
	assert_true(est_renew_due(INT64_MIN, INT64_MAX, INT64_MAX, -1, &due));
	assert_false(est_renew_due(INT64_MIN, INT64_MAX, 0, -1, &due));
}

static void
test_renew_due_renew_before(void **state)
{
	int64_t due = 0;

	assert_false(est_renew_due(0, 10 * DAY, 8 * DAY, 1 * DAY, &due));
	assert_int_equal(due, 9 * DAY);
	assert_true(est_renew_due(0, 10 * DAY, 9 * DAY, 1 * DAY, &due));
	/* more than the lifetime: due at once */
	assert_true(est_renew_due(0, 10 * DAY, 0, 20 * DAY, &due));
	/* 0: only once expired */
	assert_false(est_renew_due(0, 10 * DAY, 10 * DAY - 1, 0, &due));
	assert_true(est_renew_due(0, 10 * DAY, 10 * DAY, 0, &due));
	assert_true(est_renew_due(0, INT64_MIN + 5, 0, INT64_MAX, &due));
}

static void
test_cert_times(void **state)
{
	X509 *x = make_cert(P.ca_key, "t", NULL, NULL, NULL, 0, 0, 0, NULL);
	int64_t nb, na;

	/* 2030-01-02T03:04:05Z = 1893553445 */
	assert_non_null(ASN1_TIME_set_string(X509_getm_notBefore(x), "20300102030405Z"));
	assert_non_null(ASN1_TIME_set_string(X509_getm_notAfter(x), "491231235959Z"));
	assert_int_equal(est_cert_times(x, &nb, &na), 0);
	assert_int_equal(nb, 1893553445);
	assert_int_equal(na, 2524607999); /* 2049-12-31T23:59:59Z */
	X509_free(x);
}

/* ---- the checks of an issued certificate ---- */

static void
test_cert_check_good(void **state)
{
	struct fx *f = *state;
	X509 *x = device_cert(f, UDID, UDID, -60, 30 * DAY);
	STACK_OF(X509) *cas = stack_of(P.ca, P.other_ca);
	char why[EST_WHY_MAX];

	assert_int_equal(est_cert_check(x, f->pub, f->publen, UDID, cas, time(NULL), why,
	    sizeof(why)), 0);
	assert_int_equal(est_cert_check(x, f->pub, f->publen, NULL, cas, time(NULL), why,
	    sizeof(why)), 0);
	sk_X509_pop_free(cas, X509_free);
	X509_free(x);
}

static void
test_cert_check_refuses_another_key(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = new_key();
	X509 *x = make_cert(k, UDID, UDID, P.ca, P.ca_key, 0, -60, 30 * DAY, NULL);
	STACK_OF(X509) *cas = stack_of(P.ca, NULL);
	char why[EST_WHY_MAX] = "";

	assert_int_equal(est_cert_check(x, f->pub, f->publen, UDID, cas, time(NULL), why,
	    sizeof(why)), ZTP_ECONFLICT);
	assert_non_null(strstr(why, "another key"));
	sk_X509_pop_free(cas, X509_free);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_cert_check_udid(void **state)
{
	struct fx *f = *state;
	X509 *other = device_cert(f, "gw-0002", "gw-0002", -60, 30 * DAY);
	X509 *sn_only = device_cert(f, "something else", UDID, -60, 30 * DAY);
	STACK_OF(X509) *cas = stack_of(P.ca, NULL);
	char why[EST_WHY_MAX];

	assert_int_equal(est_cert_check(other, f->pub, f->publen, UDID, cas, time(NULL), why,
	    sizeof(why)), ZTP_ECONFLICT);
	assert_int_equal(est_cert_check(sn_only, f->pub, f->publen, UDID, cas, time(NULL), why,
	    sizeof(why)), 0);
	sk_X509_pop_free(cas, X509_free);
	X509_free(other);
	X509_free(sn_only);
}

static void
test_cert_check_expired_or_not_yet(void **state)
{
	struct fx *f = *state;
	X509 *old = device_cert(f, UDID, NULL, -10 * DAY, -DAY);
	X509 *future = device_cert(f, UDID, NULL, DAY, 10 * DAY);
	STACK_OF(X509) *cas = stack_of(P.ca, NULL);
	char why[EST_WHY_MAX];
	int64_t now = time(NULL);

	assert_int_equal(est_cert_check(old, f->pub, f->publen, UDID, cas, now, why, sizeof(why)),
	    ZTP_EEXPIRED);
	assert_int_equal(est_cert_check(future, f->pub, f->publen, UDID, cas, now, why,
	    sizeof(why)), ZTP_EEXPIRED);
	/* at a time inside their validity they are fine */
	assert_int_equal(est_cert_check(old, f->pub, f->publen, UDID, cas, now - 5 * DAY, why,
	    sizeof(why)), 0);
	sk_X509_pop_free(cas, X509_free);
	X509_free(old);
	X509_free(future);
}

static void
test_cert_check_another_ca(void **state)
{
	struct fx *f = *state;
	X509 *x = device_cert(f, UDID, NULL, -60, 30 * DAY);
	STACK_OF(X509) *cas = stack_of(P.other_ca, NULL);
	char why[EST_WHY_MAX];

	assert_int_equal(est_cert_check(x, f->pub, f->publen, UDID, cas, time(NULL), why,
	    sizeof(why)), ZTP_ECRYPTO);
	assert_non_null(strstr(why, "does not verify"));
	sk_X509_pop_free(cas, X509_free);
	X509_free(x);
}

static void
test_cert_check_intermediate_and_ca_leaf(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *ik = new_key(), *pk = device_pub(f);
	X509 *inter = make_cert(ik, "intermediate", NULL, P.ca, P.ca_key, 1, -60, 300 * DAY, NULL);
	X509 *x = make_cert(pk, UDID, NULL, inter, ik, 0, -60, 30 * DAY, NULL);
	X509 *ca_leaf = make_cert(pk, UDID, NULL, P.ca, P.ca_key, 1, -60, 30 * DAY, NULL);
	STACK_OF(X509) *only_inter = stack_of(inter, NULL), *both = stack_of(P.ca, inter);
	char why[EST_WHY_MAX];

	/* cacerts of only the intermediate: it is a trust anchor */
	assert_int_equal(est_cert_check(x, f->pub, f->publen, UDID, only_inter, time(NULL), why,
	    sizeof(why)), 0);
	assert_int_equal(est_cert_check(x, f->pub, f->publen, UDID, both, time(NULL), why,
	    sizeof(why)), 0);
	/* a device certificate that is a CA is refused */
	assert_int_equal(est_cert_check(ca_leaf, f->pub, f->publen, UDID, both, time(NULL), why,
	    sizeof(why)), ZTP_ECONFLICT);
	sk_X509_pop_free(only_inter, X509_free);
	sk_X509_pop_free(both, X509_free);
	X509_free(x);
	X509_free(ca_leaf);
	X509_free(inter);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(pk);
}

/* ---- what is stored ---- */

static void
test_store_cert_refuses_another_key(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = new_key();
	X509 *x = make_cert(k, UDID, UDID, P.ca, P.ca_key, 0, -60, 30 * DAY, NULL);
	STACK_OF(X509) *cas = stack_of(P.ca, NULL);
	char why[EST_WHY_MAX];
	size_t len = 0;

	assert_int_equal(est_store_cert(f->ks, x, UDID, cas, time(NULL), why, sizeof(why)),
	    ZTP_ECONFLICT);
	assert_int_equal(keystore_get(f->ks, KEYSTORE_SLOT_DEVICE_CERT, NULL, 0, &len),
	    ZTP_ENOENT);
	sk_X509_pop_free(cas, X509_free);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_store_cert_stores_and_gives_identity(void **state)
{
	struct fx *f = *state;
	X509 *x = device_cert(f, UDID, UDID, -60, 30 * DAY), *got = NULL;
	STACK_OF(X509) *cas = stack_of(P.ca, NULL);
	EVP_PKEY *key = NULL;
	char why[EST_WHY_MAX];

	assert_int_equal(est_identity_from_keystore(f->ks, &got, &key, why, sizeof(why)),
	    ZTP_ENOENT);
	assert_int_equal(est_store_cert(f->ks, x, UDID, cas, time(NULL), why, sizeof(why)), 0);
	assert_int_equal(est_identity_from_keystore(f->ks, &got, &key, why, sizeof(why)), 0);
	assert_int_equal(X509_cmp(got, x), 0);
	assert_int_equal(X509_check_private_key(got, key), 1);
	sk_X509_pop_free(cas, X509_free);
	X509_free(got);
	EVP_PKEY_free(key);
	X509_free(x);
}

static void
test_store_cacerts_only_when_changed(void **state)
{
	struct fx *f = *state;
	STACK_OF(X509) *a = stack_of(P.ca, NULL), *b = stack_of(P.ca, P.other_ca), *got = NULL;
	uint8_t buf[8192];
	size_t len = 0;
	char why[EST_WHY_MAX];
	int changed = -1;

	assert_int_equal(est_store_cacerts(f->ks, a, &changed, why, sizeof(why)), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(est_store_cacerts(f->ks, a, &changed, why, sizeof(why)), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(est_store_cacerts(f->ks, b, &changed, why, sizeof(why)), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(keystore_get(f->ks, KEYSTORE_SLOT_CA_CERT, buf, sizeof(buf), &len), 0);
	assert_int_equal(est_certs_parse(buf, len, 16, &got), 0);
	assert_int_equal(sk_X509_num(got), 2);
	assert_int_equal(X509_cmp(sk_X509_value(got, 1), P.other_ca), 0);
	sk_X509_pop_free(got, X509_free);
	sk_X509_pop_free(a, X509_free);
	sk_X509_pop_free(b, X509_free);
}

static void
test_certs_parse_slot_formats(void **state)
{
	static const char pubkey_pem[] = "-----BEGIN PUBLIC KEY-----\n"
	    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
	    "-----END PUBLIC KEY-----\n";
	STACK_OF(X509) *sk = NULL, *two = stack_of(P.ca, P.other_ca);
	uint8_t *pem = NULL, der[8192], *p;
	size_t len = 0, dlen = 0;
	char *mixed;
	int l;

	/* PEM with text around the blocks */
	assert_int_equal(est_certs_pem(two, &pem, &len), 0);
	mixed = malloc(len + 64);
	assert_non_null(mixed);
	sprintf(mixed, "subject=ztp test CA\n%s", (char *)pem);
	assert_int_equal(est_certs_parse((uint8_t *)mixed, strlen(mixed), 2, &sk), 0);
	assert_int_equal(sk_X509_num(sk), 2);
	sk_X509_pop_free(sk, X509_free);
	assert_int_equal(est_certs_parse(pem, len, 1, &sk), ZTP_ETOOBIG);
	assert_null(sk);
	/* a block that is not a certificate */
	sprintf(mixed, "%s", pubkey_pem);
	assert_int_equal(est_certs_parse((uint8_t *)mixed, strlen(mixed), 2, &sk),
	    ZTP_EMALFORMED);
	/* DER back to back, and with a byte after */
	p = der;
	l = i2d_X509(P.ca, &p);
	assert_true(l > 0);
	dlen = (size_t)l;
	l = i2d_X509(P.other_ca, &p);
	dlen += (size_t)l;
	assert_int_equal(est_certs_parse(der, dlen, 2, &sk), 0);
	assert_int_equal(sk_X509_num(sk), 2);
	sk_X509_pop_free(sk, X509_free);
	der[dlen] = 0x30;
	assert_int_equal(est_certs_parse(der, dlen + 1, 4, &sk), ZTP_EMALFORMED);
	/* regression (fuzz_est_client): empty input left *certs as it was */
	sk = (STACK_OF(X509) *)1;
	assert_int_equal(est_certs_parse(der, 0, 4, &sk), ZTP_EMALFORMED);
	assert_null(sk);
	free(mixed);
	free(pem);
	sk_X509_pop_free(two, X509_free);
}

static void
test_identity_from_files(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = new_key(), *other = new_key(), *key = NULL;
	X509 *x = make_cert(k, "idevid", "SN1", P.ca, P.ca_key, 0, -60, DAY, NULL), *cert = NULL;
	STACK_OF(X509) *chain = NULL;
	char cpath[160], kpath[160], opath[160], why[EST_WHY_MAX];
	FILE *fp;

	snprintf(cpath, sizeof(cpath), "%s/idevid.pem", f->base);
	snprintf(kpath, sizeof(kpath), "%s/idevid.key", f->base);
	snprintf(opath, sizeof(opath), "%s/other.key", f->base);
	assert_non_null(fp = fopen(cpath, "w"));
	assert_int_equal(PEM_write_X509(fp, x), 1);
	assert_int_equal(PEM_write_X509(fp, P.ca), 1);
	fclose(fp);
	assert_non_null(fp = fopen(kpath, "w"));
	assert_int_equal(PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(fp);
	assert_non_null(fp = fopen(opath, "w"));
	assert_int_equal(PEM_write_PrivateKey(fp, other, NULL, NULL, 0, NULL, NULL), 1);
	fclose(fp);

	assert_int_equal(est_identity_from_files(cpath, kpath, &cert, &chain, &key, why,
	    sizeof(why)), 0);
	assert_int_equal(X509_cmp(cert, x), 0);
	assert_int_equal(sk_X509_num(chain), 1);
	X509_free(cert);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);

	assert_int_equal(est_identity_from_files(cpath, opath, &cert, &chain, &key, why,
	    sizeof(why)), ZTP_ECONFLICT);
	assert_null(cert);
	assert_null(key);
	assert_int_equal(est_identity_from_files(cpath, "/nonexistent/key", &cert, &chain, &key,
	    why, sizeof(why)), ZTP_ENOENT);
	/* a certificate file given as key */
	assert_int_equal(est_identity_from_files(cpath, cpath, &cert, &chain, &key, why,
	    sizeof(why)), ZTP_EMALFORMED);
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

/* ---- a TLS server in a thread, for whole requests ---- */

struct srv {
	int lfd;
	uint16_t port;
	pthread_t th;
	SSL_CTX *ctx;
	const char *answer; /* the raw HTTP answer */
	size_t answer_len;
	int hang;           /* read the request, answer nothing until the client goes */
	int drop13;         /* close TLS 1.3 connections after the handshake, at once */
	int conns;          /* connections accepted */
	int stop;           /* srv_stop() was called (atomic) */
	char req[32768];    /* what was asked, head and body */
	size_t req_len;
	char client_cn[128];
	int handshake_ok;
};

static size_t
content_length(const char *head)
{
	const char *p = strcasestr(head, "\r\nContent-Length:");

	return p != NULL ? (size_t)strtoul(p + 17, NULL, 10) : 0;
}

/* One connection: the handshake, the request, the canned answer. */
static void
srv_serve(struct srv *s, int fd)
{
	SSL *ssl = NULL;
	X509 *peer;
	char *end;
	int n;

	ssl = SSL_new(s->ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1) {
		/*
		 * Read what the client sent until it closes: closing over unread
		 * bytes resets the connection, which may destroy the alert before
		 * the client reads it (test_net_lost_refusal_is_temporary_and_not_asked_over_tls12
		 * is about that case).
		 */
		struct timeval tv = { .tv_sec = 2 };
		char junk[4096];
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		while (read(fd, junk, sizeof(junk)) > 0)
			;
		goto out;
	}
	s->handshake_ok = 1;
	if (s->drop13 && SSL_version(ssl) == TLS1_3_VERSION)
		goto out; /* as if its alert was lost */
	s->req_len = 0;
	while (s->req_len < sizeof(s->req) - 1) {
		n = SSL_read(ssl, s->req + s->req_len, (int)(sizeof(s->req) - 1 - s->req_len));
		if (n <= 0)
			break;
		s->req_len += (size_t)n;
		s->req[s->req_len] = '\0';
		if ((end = strstr(s->req, "\r\n\r\n")) != NULL &&
		    s->req_len >= (size_t)(end + 4 - s->req) + content_length(s->req))
			break;
	}
	if ((peer = SSL_get1_peer_certificate(ssl)) != NULL) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, s->client_cn,
		    sizeof(s->client_cn));
		X509_free(peer);
	}
	if (s->hang) {
		struct pollfd c = { .fd = fd, .events = POLLIN };
		poll(&c, 1, 10000); /* the client's close */
		goto out;
	}
	if (s->answer != NULL)
		SSL_write(ssl, s->answer, (int)s->answer_len);
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;
	struct pollfd pfd = { .fd = s->lfd, .events = POLLIN };
	int fd;

	while (poll(&pfd, 1, 10000) == 1 && !__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST) &&
	    (fd = accept(s->lfd, NULL, NULL)) >= 0) {
		s->conns++;
		srv_serve(s, fd);
	}
	return NULL;
}

/* Client certificates: anything in TLS 1.3 (for drop13), checked in TLS 1.2. */
static int
verify_only_tls12(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());

	return SSL_version(ssl) == TLS1_3_VERSION ? 1 : ok;
}

/*
 * Start a server on 127.0.0.1 with cert (from the test CA) answering
 * answer; client_cert: 1 ask for one, 2 require one (from the test CA).
 */
static void
srv_start(struct srv *s, X509 *cert, const char *answer, int client_cert)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->answer = answer;
	s->answer_len = answer != NULL ? strlen(answer) : 0;
	assert_non_null(s->ctx = SSL_CTX_new(TLS_server_method()));
	assert_int_equal(SSL_CTX_use_certificate(s->ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, P.srv_key), 1);
	if (client_cert) {
		assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(s->ctx), P.ca), 1);
		SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER |
		    (client_cert == 2 ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	}
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void
srv_stop(struct srv *s)
{
	__atomic_store_n(&s->stop, 1, __ATOMIC_SEQ_CST);
	shutdown(s->lfd, SHUT_RDWR); /* wakes the poll */
	pthread_join(s->th, NULL);
	close(s->lfd);
	SSL_CTX_free(s->ctx);
}

/* A client of s (or of port, if s is NULL) trusting the test CA's file. */
static struct est_client *
client_for(struct fx *f, struct srv *s, const char *host, X509 *cert, EVP_PKEY *key,
    uint32_t timeout_ms)
{
	struct est_client_opts o;
	struct est_client *c = NULL;
	char url[128], why[EST_WHY_MAX];

	snprintf(url, sizeof(url), "https://%s:%u", host, s->port);
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.trust_file = f->ca_file;
	o.client_cert = cert;
	o.client_key = key;
	o.user = "gw-0001"; /* a Basic user-id has no ':' (RFC 7617), a UDID may */
	o.password = "s3cret:with colon";
	o.timeout_ms = timeout_ms;
	assert_int_equal(est_client_new(&o, &c, why, sizeof(why)), 0);
	return c;
}

/* "HTTP/1.1 <status>" + headers + body, with Content-Length; malloc'd. */
static char *
answer(const char *status, const char *headers, const char *body)
{
	size_t n = strlen(status) + strlen(headers) + strlen(body) + 128;
	char *a = malloc(n);

	assert_non_null(a);
	snprintf(a, n, "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    status, headers, strlen(body), body);
	return a;
}

#define PKCS7_HEADERS "Content-Type: application/pkcs7-mime; smime-type=certs-only\r\n" \
	"Content-Transfer-Encoding: base64\r\n"

static void
test_net_cacerts(void **state)
{
	struct fx *f = *state;
	X509 *c[2] = { P.ca, P.other_ca };
	char *body = p7_b64(c, 2, 1), *a = answer("200 OK", PKCS7_HEADERS, body);
	struct srv s;
	struct est_client *cl;
	struct est_result res;
	STACK_OF(X509) *got = NULL;

	srv_start(&s, P.srv, a, 0);
	cl = client_for(f, &s, "127.0.0.1", NULL, NULL, 5000);
	assert_int_equal(est_cacerts(cl, &got, &res), 0);
	srv_stop(&s);
	assert_int_equal(res.status, 200);
	assert_int_equal(sk_X509_num(got), 2);
	assert_int_equal(X509_cmp(sk_X509_value(got, 1), P.other_ca), 0);
	assert_non_null(strstr(s.req, "GET /.well-known/est/cacerts HTTP/1.1\r\n"));
	assert_null(strcasestr(s.req, "Authorization")); /* never on cacerts */
	sk_X509_pop_free(got, X509_free);
	est_client_free(cl);
	free(a);
	free(body);
}

static void
test_net_localhost_by_name(void **state)
{
	struct fx *f = *state;
	X509 *c[1] = { P.ca };
	char *body = p7_b64(c, 1, 0), *a = answer("200 OK", PKCS7_HEADERS, body);
	struct srv s;
	struct est_client *cl;
	struct est_result res;
	STACK_OF(X509) *got = NULL;

	srv_start(&s, P.srv, a, 0);
	cl = client_for(f, &s, "localhost", NULL, NULL, 5000);
	assert_int_equal(est_cacerts(cl, &got, &res), 0);
	srv_stop(&s);
	assert_non_null(strcasestr(s.req, "\r\nHost: localhost:"));
	sk_X509_pop_free(got, X509_free);
	est_client_free(cl);
	free(a);
	free(body);
}

static void
test_net_untrusted_server(void **state)
{
	struct fx *f = *state;
	/* the right name, from a CA the client does not trust */
	X509 *rogue = make_cert(P.srv_key, "rogue", NULL, P.other_ca, P.other_key, 0, -60, DAY,
	    "IP:127.0.0.1");
	struct srv s;
	struct est_client *cl;
	struct est_result res;
	STACK_OF(X509) *got = NULL;

	srv_start(&s, rogue, "HTTP/1.1 200 OK\r\n\r\n", 0);
	cl = client_for(f, &s, "127.0.0.1", NULL, NULL, 5000);
	assert_int_equal(est_cacerts(cl, &got, &res), ZTP_EIO);
	srv_stop(&s);
	assert_null(got);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.why, "does not verify"));
	assert_int_equal(s.req_len, 0); /* nothing was sent */
	est_client_free(cl);
	X509_free(rogue);
}

static void
test_net_server_of_another_name(void **state)
{
	struct fx *f = *state;
	struct srv s;
	struct est_client *cl;
	struct est_result res;
	STACK_OF(X509) *got = NULL;

	srv_start(&s, P.srv_misnamed, "HTTP/1.1 200 OK\r\n\r\n", 0);
	cl = client_for(f, &s, "127.0.0.1", NULL, NULL, 5000);
	assert_int_equal(est_cacerts(cl, &got, &res), ZTP_EIO);
	srv_stop(&s);
	assert_non_null(strstr(res.why, "mismatch"));
	assert_int_equal(s.req_len, 0);
	est_client_free(cl);
}

static void
test_net_not_pkcs7(void **state)
{
	struct fx *f = *state;
	X509 *c[1] = { P.ca };
	char *body = p7_b64(c, 1, 0), *a = answer("200 OK", "Content-Type: text/plain\r\n", body);
	char *b = answer("200 OK", PKCS7_HEADERS, "garbage!");
	struct srv s;
	struct est_client *cl;
	struct est_result res;
	STACK_OF(X509) *got = NULL;

	srv_start(&s, P.srv, a, 0);
	cl = client_for(f, &s, "127.0.0.1", NULL, NULL, 5000);
	assert_int_equal(est_cacerts(cl, &got, &res), ZTP_EMALFORMED);
	srv_stop(&s);
	assert_non_null(strstr(res.why, "text/plain"));
	est_client_free(cl);

	srv_start(&s, P.srv, b, 0);
	cl = client_for(f, &s, "127.0.0.1", NULL, NULL, 5000);
	assert_int_equal(est_cacerts(cl, &got, &res), ZTP_EMALFORMED);
	srv_stop(&s);
	assert_null(got);
	est_client_free(cl);
	free(a);
	free(b);
	free(body);
}

static void
test_net_oversize_answer(void **state)
{
	struct fx *f = *state;
	static const char announced[] = "HTTP/1.1 200 OK\r\n" PKCS7_HEADERS
	    "Content-Length: 65537\r\n\r\nAAAA";
	size_t n = EST_RESPONSE_MAX + 1000, h;
	char *streamed = malloc(n + 200);
	struct srv s;
	struct est_client *cl;
	struct est_result res;
	STACK_OF(X509) *got = NULL;

	srv_start(&s, P.srv, announced, 0);
	cl = client_for(f, &s, "127.0.0.1", NULL, NULL, 5000);
	assert_int_equal(est_cacerts(cl, &got, &res), ZTP_ETOOBIG);
	srv_stop(&s);
	est_client_free(cl);

	/* no Content-Length: the body runs to the connection's end */
	assert_non_null(streamed);
	h = (size_t)sprintf(streamed,
	    "HTTP/1.1 200 OK\r\n" PKCS7_HEADERS "Connection: close\r\n\r\n");
	memset(streamed + h, 'A', n);
	streamed[h + n] = '\0';
	srv_start(&s, P.srv, streamed, 0);
	cl = client_for(f, &s, "127.0.0.1", NULL, NULL, 5000);
	assert_int_equal(est_cacerts(cl, &got, &res), ZTP_ETOOBIG);
	srv_stop(&s);
	assert_null(got);
	est_client_free(cl);
	free(streamed);
}

/* A DER request from the key store, as ztp-enroll makes it. */
static uint8_t *
make_csr(struct fx *f, size_t *len)
{
	struct csr_req r = { .udid = UDID, .slot = KEYSTORE_SLOT_DEVICE_KEY };
	uint8_t *der = NULL;

	assert_int_equal(csr_create(f->ks, &r, CSR_DER, &der, len), 0);
	return der;
}

static void
test_net_enroll_ok(void **state)
{
	struct fx *f = *state;
	X509 *issued = device_cert(f, UDID, UDID, -60, 30 * DAY), *c[2], *got = NULL;
	size_t csrlen = 0;
	uint8_t *csr = make_csr(f, &csrlen);
	char *body, *a, *csr_b64 = b64(csr, csrlen, 0), *authz = NULL;
	struct srv s;
	struct est_client *cl;
	struct est_result res;
	const char *basic = "Basic Z3ctMDAwMTpzM2NyZXQ6d2l0aCBjb2xvbg==";

	/* the chain first: the client picks the certificate for its key */
	c[0] = P.ca;
	c[1] = issued;
	body = p7_b64(c, 2, 1);
	a = answer("200 OK", PKCS7_HEADERS, body);
	srv_start(&s, P.srv, a, 0);
	cl = client_for(f, &s, "127.0.0.1", NULL, NULL, 5000);
	assert_int_equal(est_simpleenroll(cl, csr, csrlen, &got, &res), 0);
	srv_stop(&s);
	assert_int_equal(X509_cmp(got, issued), 0);
	assert_non_null(strstr(s.req, "POST /.well-known/est/simpleenroll HTTP/1.1\r\n"));
	assert_non_null(strcasestr(s.req, "\r\nContent-Type: application/pkcs10\r\n"));
	/* base64 of "gw-0001:s3cret:with colon" */
	assert_non_null(authz = strcasestr(s.req, "\r\nAuthorization: "));
	assert_memory_equal(authz + 17, basic, strlen(basic));
	assert_string_equal(strstr(s.req, "\r\n\r\n") + 4, csr_b64);
	X509_free(got);
	est_client_free(cl);
	free(a);
	free(body);
	free(csr_b64);
	free(csr);
	X509_free(issued);
}

/* One enrolment against an answer; returns the code, res filled. */
static int
enroll_against(struct fx *f, const char *raw, struct est_result *res)
{
	size_t csrlen = 0;
	uint8_t *csr = make_csr(f, &csrlen);
	struct srv s;
	struct est_client *cl;
	X509 *got = (X509 *)1;
	int rc;

	srv_start(&s, P.srv, raw, 0);
	cl = client_for(f, &s, "127.0.0.1", NULL, NULL, 5000);
	rc = est_simpleenroll(cl, csr, csrlen, &got, res);
	srv_stop(&s);
	if (rc != 0)
		assert_null(got);
	X509_free(rc == 0 ? got : NULL);
	est_client_free(cl);
	free(csr);
	return rc;
}

static void
test_net_enroll_202_retry_after(void **state)
{
	struct fx *f = *state;
	struct est_result res;
	char *a = answer("202 Accepted", "Retry-After: 7\r\n", "");
	char *b = answer("202 Accepted", "Retry-After: soon\r\n", "");
	char *c = answer("202 Accepted", "", "");

	assert_int_equal(enroll_against(f, a, &res), ZTP_EBUSY);
	assert_int_equal(res.status, 202);
	assert_int_equal(res.retry_after, 7);
	assert_int_equal(enroll_against(f, b, &res), ZTP_EBUSY);
	assert_int_equal(res.retry_after, EST_RETRY_AFTER_DEFAULT);
	assert_int_equal(enroll_against(f, c, &res), ZTP_EBUSY);
	assert_int_equal(res.retry_after, EST_RETRY_AFTER_DEFAULT);
	free(a);
	free(b);
	free(c);
}

static void
test_net_enroll_refused(void **state)
{
	struct fx *f = *state;
	struct est_result res;
	char *a = answer("401 Unauthorized", "WWW-Authenticate: Basic realm=\"ztp\"\r\n",
	    "wrong\tpassword\r\n\x01");
	char *b = answer("403 Forbidden", "Content-Type: application/json\r\n",
	    "{\"error\":\"not on the allowlist\"}");
	char *c = answer("400 Bad Request", "", "bad request: no CN");
	char *d = answer("404 Not Found", "", "");

	assert_int_equal(enroll_against(f, a, &res), ZTP_EAUTH);
	assert_int_equal(res.status, 401);
	assert_string_equal(res.reason, "wrong password ?");
	assert_null(strstr(res.why, "s3cret"));
	assert_int_equal(enroll_against(f, b, &res), ZTP_EAUTH);
	assert_int_equal(res.status, 403);
	assert_string_equal(res.reason, "{\"error\":\"not on the allowlist\"}");
	assert_int_equal(enroll_against(f, c, &res), ZTP_EINVAL);
	assert_int_equal(res.status, 400);
	assert_string_equal(res.reason, "bad request: no CN");
	assert_int_equal(enroll_against(f, d, &res), ZTP_EINVAL);
	assert_int_equal(res.status, 404);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void
test_net_enroll_server_errors(void **state)
{
	struct fx *f = *state;
	struct est_result res;
	char *a = answer("503 Service Unavailable", "", "CA down");
	char *b = answer("302 Found", "Location: https://elsewhere/\r\n", "");
	char *c = answer("200 OK", "Content-Type: application/pkcs7-mime\r\n", "");

	assert_int_equal(enroll_against(f, a, &res), ZTP_EIO);
	assert_int_equal(res.status, 503);
	assert_string_equal(res.reason, "CA down");
	assert_int_equal(enroll_against(f, b, &res), ZTP_EIO);
	assert_int_equal(res.status, 302);
	assert_int_equal(enroll_against(f, c, &res), ZTP_EMALFORMED);
	free(a);
	free(b);
	free(c);
}

static void
test_net_reenroll_with_the_stored_certificate(void **state)
{
	struct fx *f = *state;
	X509 *cur = device_cert(f, UDID, UDID, -60, 30 * DAY), *next, *c[1], *got = NULL;
	X509 *id = NULL, *other;
	EVP_PKEY *key = NULL, *other_key;
	STACK_OF(X509) *cas = stack_of(P.ca, NULL);
	size_t csrlen = 0;
	uint8_t *csr = make_csr(f, &csrlen);
	char *body, *a, why[EST_WHY_MAX];
	struct srv s;
	struct est_client *cl;
	struct est_result res;

	assert_int_equal(est_store_cert(f->ks, cur, UDID, cas, time(NULL), why, sizeof(why)), 0);
	assert_int_equal(est_identity_from_keystore(f->ks, &id, &key, why, sizeof(why)), 0);
	next = device_cert(f, UDID, UDID, -60, 60 * DAY);
	c[0] = next;
	body = p7_b64(c, 1, 0);
	a = answer("200 OK", PKCS7_HEADERS, body);
	srv_start(&s, P.srv, a, 2); /* a client certificate is required */
	cl = client_for(f, &s, "127.0.0.1", id, key, 5000);
	assert_int_equal(est_simplereenroll(cl, csr, csrlen, &got, &res), 0);
	srv_stop(&s);
	assert_string_equal(s.client_cn, UDID);
	assert_non_null(strstr(s.req, "POST /.well-known/est/simplereenroll HTTP/1.1\r\n"));
	assert_int_equal(X509_cmp(got, next), 0);
	assert_int_equal(est_store_cert(f->ks, got, UDID, cas, time(NULL), why, sizeof(why)), 0);
	X509_free(got);
	est_client_free(cl);

	/* without a client certificate the server refuses the handshake: a refusal */
	srv_start(&s, P.srv, a, 2);
	cl = client_for(f, &s, "127.0.0.1", NULL, NULL, 5000);
	got = NULL;
	assert_int_equal(est_simplereenroll(cl, csr, csrlen, &got, &res), ZTP_EAUTH);
	srv_stop(&s);
	assert_null(got);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.reason, "TLS alert"));
	est_client_free(cl);

	/* a certificate from a CA the server does not know: refused too */
	other_key = new_key();
	other = make_cert(other_key, UDID, UDID, P.other_ca, P.other_key, 0, -60, DAY, NULL);
	srv_start(&s, P.srv, a, 2);
	cl = client_for(f, &s, "127.0.0.1", other, other_key, 5000);
	assert_int_equal(est_simplereenroll(cl, csr, csrlen, &got, &res), ZTP_EAUTH);
	srv_stop(&s);
	assert_null(got);
	assert_non_null(strstr(res.why, "refused the client certificate"));
	est_client_free(cl);
	X509_free(other);
	EVP_PKEY_free(other_key);

	sk_X509_pop_free(cas, X509_free);
	X509_free(id);
	EVP_PKEY_free(key);
	X509_free(cur);
	X509_free(next);
	free(a);
	free(body);
	free(csr);
}

/*
 * In TLS 1.3 a server's refusal of the client certificate may be lost (it
 * comes after the request was sent). The client does not ask again over
 * TLS 1.2 (where the verdict would come first, but the certificate would
 * travel in clear): it is a temporary failure that says why it may be. The
 * server here drops TLS 1.3 connections after the handshake and would
 * refuse the certificate in TLS 1.2.
 */
static void
test_net_lost_refusal_is_temporary_and_not_asked_over_tls12(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = new_key();
	X509 *foreign = make_cert(k, UDID, UDID, P.other_ca, P.other_key, 0, -60, DAY, NULL);
	X509 *got = NULL, *c[1] = { P.ca };
	size_t csrlen = 0;
	uint8_t *csr = make_csr(f, &csrlen);
	char *body = p7_b64(c, 1, 0), *a = answer("200 OK", PKCS7_HEADERS, body);
	struct srv s;
	struct est_client *cl;
	struct est_result res;

	srv_start(&s, P.srv, a, 1);
	s.drop13 = 1;
	SSL_CTX_set_verify(s.ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
	    verify_only_tls12);
	cl = client_for(f, &s, "127.0.0.1", foreign, k, 5000);
	assert_int_equal(est_simplereenroll(cl, csr, csrlen, &got, &res), ZTP_EIO);
	srv_stop(&s);
	assert_null(got);
	assert_int_equal(s.conns, 1);
	assert_non_null(strstr(res.why, "may have refused the client certificate"));
	est_client_free(cl);

	/* without a client certificate there is no verdict to learn: no second try */
	srv_start(&s, P.srv, a, 0);
	s.drop13 = 1;
	cl = client_for(f, &s, "127.0.0.1", NULL, NULL, 5000);
	assert_int_equal(est_simpleenroll(cl, csr, csrlen, &got, &res), ZTP_EIO);
	srv_stop(&s);
	assert_int_equal(s.conns, 1);
	est_client_free(cl);
	free(a);
	free(body);
	free(csr);
	X509_free(foreign);
	EVP_PKEY_free(k);
}

static void
test_net_timeout(void **state)
{
	struct fx *f = *state;
	struct srv s;
	struct est_client *cl;
	struct est_result res;
	STACK_OF(X509) *got = NULL;
	struct timespec t0, t1;
	long ms;

	srv_start(&s, P.srv, NULL, 0);
	s.hang = 1;
	cl = client_for(f, &s, "127.0.0.1", NULL, NULL, 400);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(est_cacerts(cl, &got, &res), ZTP_EIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	srv_stop(&s);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 350 && ms < 3000);
	assert_non_null(strstr(res.why, "within 400 ms"));
	est_client_free(cl);
}

static void
test_net_connection_refused(void **state)
{
	struct fx *f = *state;
	struct srv s;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct est_client *cl;
	struct est_result res;
	STACK_OF(X509) *got = NULL;
	int fd;

	/* a port nobody listens on */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	memset(&s, 0, sizeof(s));
	s.port = ntohs(a.sin_port);
	cl = client_for(f, &s, "127.0.0.1", NULL, NULL, 3000);
	assert_int_equal(est_cacerts(cl, &got, &res), ZTP_EIO);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.why, "no TLS server answered"));
	est_client_free(cl);
}

static void
test_client_new_refuses_bad_options(void **state)
{
	struct fx *f = *state;
	struct est_client_opts o;
	struct est_client *c = (struct est_client *)1;
	char key_only[160], why[EST_WHY_MAX];
	EVP_PKEY *k = new_key();
	FILE *fp;

	memset(&o, 0, sizeof(o));
	o.url = "http://127.0.0.1:1";
	o.trust_file = f->ca_file;
	assert_int_equal(est_client_new(&o, &c, why, sizeof(why)), ZTP_EINVAL);
	assert_null(c);
	o.url = "https://127.0.0.1:1";
	o.user = "u";
	assert_int_equal(est_client_new(&o, &c, why, sizeof(why)), ZTP_EINVAL);
	o.password = "p\n";
	assert_int_equal(est_client_new(&o, &c, why, sizeof(why)), ZTP_EINVAL);
	o.user = "a:b";
	o.password = "p";
	assert_int_equal(est_client_new(&o, &c, why, sizeof(why)), ZTP_EINVAL);
	o.user = NULL;
	o.password = NULL;
	o.client_key = k;
	assert_int_equal(est_client_new(&o, &c, why, sizeof(why)), ZTP_EINVAL);
	o.client_key = NULL;
	o.trust_file = NULL;
	assert_int_equal(est_client_new(&o, &c, why, sizeof(why)), ZTP_EINVAL);
	/* a trust file with a key and no certificate */
	snprintf(key_only, sizeof(key_only), "%s/key.pem", f->base);
	assert_non_null(fp = fopen(key_only, "w"));
	assert_int_equal(PEM_write_PUBKEY(fp, k), 1);
	fclose(fp);
	o.trust_file = key_only;
	assert_int_equal(est_client_new(&o, &c, why, sizeof(why)), ZTP_EMALFORMED);
	o.trust_file = "/nonexistent/ca.pem";
	assert_int_equal(est_client_new(&o, &c, why, sizeof(why)), ZTP_ENOENT);
	o.trust_file = f->ca_file;
	assert_int_equal(est_client_new(&o, &c, why, sizeof(why)), 0);
	est_client_free(c);
	EVP_PKEY_free(k);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_certs_one),
		cmocka_unit_test(test_certs_several_in_order),
		cmocka_unit_test(test_certs_base64_with_crlf_and_blanks),
		cmocka_unit_test(test_certs_empty),
		cmocka_unit_test(test_certs_garbage),
		cmocka_unit_test(test_certs_truncated),
		cmocka_unit_test(test_certs_bytes_after_the_structure),
		cmocka_unit_test(test_certs_data_after_padding),
		cmocka_unit_test(test_certs_oversize),
		cmocka_unit_test(test_certs_too_many),
		cmocka_unit_test(test_certs_not_signed_data_or_no_cert),
		cmocka_unit_test(test_retry_after_seconds),
		cmocka_unit_test(test_retry_after_overflow),
		cmocka_unit_test(test_retry_after_garbage),
		cmocka_unit_test(test_retry_after_http_date),
		cmocka_unit_test(test_ctype),
		cmocka_unit_test(test_reason_text),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_renew_due_default_third),
		cmocka_unit_test(test_renew_due_renew_before),
		cmocka_unit_test(test_cert_times),
		T(test_cert_check_good),
		T(test_cert_check_refuses_another_key),
		T(test_cert_check_udid),
		T(test_cert_check_expired_or_not_yet),
		T(test_cert_check_another_ca),
		T(test_cert_check_intermediate_and_ca_leaf),
		T(test_store_cert_refuses_another_key),
		T(test_store_cert_stores_and_gives_identity),
		T(test_store_cacerts_only_when_changed),
		T(test_certs_parse_slot_formats),
		T(test_identity_from_files),
		T(test_net_cacerts),
		T(test_net_localhost_by_name),
		T(test_net_untrusted_server),
		T(test_net_server_of_another_name),
		T(test_net_not_pkcs7),
		T(test_net_oversize_answer),
		T(test_net_enroll_ok),
		T(test_net_enroll_202_retry_after),
		T(test_net_enroll_refused),
		T(test_net_enroll_server_errors),
		T(test_net_reenroll_with_the_stored_certificate),
		T(test_net_lost_refusal_is_temporary_and_not_asked_over_tls12),
		T(test_net_timeout),
		T(test_net_connection_refused),
		T(test_client_new_refuses_bad_options),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
