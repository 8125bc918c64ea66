/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EST request parsing and response encoding (src/server/proto/est_req.h): every
 * route and status of est_req_parse, the CSR checks, Authorization: Basic,
 * base64, the certs-only PKCS#7 and the CSR attributes. Keys, requests and
 * certificates are made here with OpenSSL; nothing is read from disk.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "crypto.h"
#include "est_req.h"
#include "ztp/err.h"

#define P_CACERTS "/.well-known/est/cacerts"
#define P_ENROLL "/.well-known/est/simpleenroll"
#define P_REENROLL "/.well-known/est/simplereenroll"
#define P_CSRATTRS "/.well-known/est/csrattrs"
#define P_KEYGEN "/.well-known/est/serverkeygen"
#define PKCS10 "application/pkcs10"
#define UDID "0123456789ABCDEF-ztp.dev:01"

/* keys made once for all tests: RSA key generation is slow */
static EVP_PKEY *k_p256, *k_p384, *k_rsa1024, *k_rsa2048, *k_ed25519, *k_k256;

static int
group_setup(void **state)
{
	k_p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	k_p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	k_k256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	k_rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	k_rsa2048 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	k_ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (k_p256 == NULL || k_p384 == NULL || k_k256 == NULL || k_rsa1024 == NULL ||
	    k_rsa2048 == NULL || k_ed25519 == NULL)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	EVP_PKEY_free(k_p256);
	EVP_PKEY_free(k_p384);
	EVP_PKEY_free(k_k256);
	EVP_PKEY_free(k_rsa1024);
	EVP_PKEY_free(k_rsa2048);
	EVP_PKEY_free(k_ed25519);
	return 0;
}

/* ---- building requests ---- */

struct csr_spec {
	EVP_PKEY *key;        /* NULL: k_p256 */
	const char *cn;       /* NULL: none */
	const char *sn;       /* serialNumber, NULL: none */
	const char *cn2;      /* a second CN, NULL: none */
	const char *sn2;      /* a second serialNumber, NULL: none */
	const char *pass;     /* challengePassword, NULL: none */
	size_t pass_len;      /* 0: strlen(pass) */
	int pass_type;        /* V_ASN1_...; 0: MBSTRING_ASC */
	int pass_twice;       /* two challengePassword attributes */
	int pass_two_values;  /* one attribute with two values */
};

/*
 * Add nid=v to name, as OpenSSL chooses its string type (serialNumber: a
 * PrintableString), or as a UTF8String if that type cannot hold v.
 */
static void
name_add(X509_NAME *name, int nid, const char *v)
{
	if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, (const unsigned char *)v, -1,
		-1, 0) == 1)
		return;
	assert_int_equal(X509_NAME_add_entry_by_NID(name, nid, V_ASN1_UTF8STRING,
	    (const unsigned char *)v, -1, -1, 0), 1);
}

static void
add_challenge(X509_REQ *req, const struct csr_spec *s)
{
	int type = s->pass_type != 0 ? s->pass_type : MBSTRING_ASC;
	int len = s->pass_len != 0 ? (int)s->pass_len : (int)strlen(s->pass);
	X509_ATTRIBUTE *attr;

	if (!s->pass_two_values) {
		assert_int_equal(X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword, type,
		    (const unsigned char *)s->pass, len), 1);
		return;
	}
	attr = X509_ATTRIBUTE_create_by_NID(NULL, NID_pkcs9_challengePassword, type,
	    s->pass, len);
	assert_non_null(attr);
	assert_int_equal(X509_ATTRIBUTE_set1_data(attr, type, s->pass, len), 1);
	assert_int_equal(X509_ATTRIBUTE_count(attr), 2);
	assert_int_equal(X509_REQ_add1_attr(req, attr), 1);
	X509_ATTRIBUTE_free(attr);
}

/* The DER CSR of s, signed with its key: *der malloc'd. */
static void
make_csr(const struct csr_spec *s, uint8_t **der, size_t *len)
{
	EVP_PKEY *key = s->key != NULL ? s->key : k_p256;
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *enc = NULL;
	int n;

	assert_non_null(req);
	assert_non_null(name);
	if (s->cn != NULL)
		name_add(name, NID_commonName, s->cn);
	if (s->cn2 != NULL)
		name_add(name, NID_commonName, s->cn2);
	if (s->sn != NULL)
		name_add(name, NID_serialNumber, s->sn);
	if (s->sn2 != NULL)
		name_add(name, NID_serialNumber, s->sn2);
	assert_int_equal(X509_REQ_set_version(req, X509_REQ_VERSION_1), 1);
	assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	if (s->pass != NULL)
		add_challenge(req, s);
	if (s->pass != NULL && s->pass_twice) {
		/* OpenSSL adds no duplicate: add another attribute and rename it */
		assert_int_equal(X509_REQ_add1_attr_by_NID(req, NID_pkcs9_unstructuredName,
		    MBSTRING_ASC, (const unsigned char *)s->pass, -1), 1);
		assert_int_equal(X509_ATTRIBUTE_set1_object(
		    X509_REQ_get_attr(req, X509_REQ_get_attr_count(req) - 1),
		    OBJ_nid2obj(NID_pkcs9_challengePassword)), 1);
	}
	assert_true(X509_REQ_sign(req, key,
	    EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256()) > 0);
	n = i2d_X509_REQ(req, &enc);
	assert_true(n > 0);
	*der = malloc((size_t)n);
	assert_non_null(*der);
	memcpy(*der, enc, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(enc);
	X509_NAME_free(name);
	X509_REQ_free(req);
}

/* base64 of der[0..len) in LF lines, as est_base64_encode writes it: malloc'd. */
static char *
b64(const uint8_t *der, size_t len)
{
	char *s = NULL;
	size_t n = 0;

	assert_int_equal(est_base64_encode(der, len, &s, &n), 0);
	assert_int_equal(strlen(s), n);
	return s;
}

/* The base64 body of the CSR of s: malloc'd. */
static char *
csr_body(const struct csr_spec *s)
{
	uint8_t *der;
	size_t len;
	char *body;

	make_csr(s, &der, &len);
	body = b64(der, len);
	free(der);
	return body;
}

/* 1 if why is non-empty printable ASCII. */
static int
why_printable(const char *why)
{
	size_t i;

	if (why[0] == '\0')
		return 0;
	for (i = 0; why[i] != '\0'; i++)
		if ((unsigned char)why[i] < 0x20 || (unsigned char)why[i] > 0x7e)
			return 0;
	return 1;
}

static uint8_t zero_request[sizeof(struct est_request)];

/*
 * est_req_parse with a body of len bytes. A failure must come with a
 * printable reason and leave *out zeroed (the password cleansed).
 */
static int
parse_n(const char *method, const char *path, const char *ctype, const char *authz,
    const void *body, size_t len, struct est_request *out, char *why, size_t whycap)
{
	int rc;

	memset(out, 0xA5, sizeof(*out));
	memset(why, 0, whycap);
	rc = est_req_parse(method, path, ctype, authz, body, len, out, why, whycap);
	if (rc != 0) {
		assert_true(why_printable(why));
		assert_memory_equal(out, zero_request, sizeof(*out));
	}
	return rc;
}

/* parse_n with a NUL-terminated body (NULL: none), a request per test */
static struct est_request rq;
static char why[256];

static int
parse(const char *method, const char *path, const char *ctype, const char *authz,
    const char *body)
{
	return parse_n(method, path, ctype, authz, body, body != NULL ? strlen(body) : 0, &rq,
	    why, sizeof(why));
}

/* POST an enrolment of the CSR of s; the body is freed. */
static int
enroll(const struct csr_spec *s)
{
	char *body = csr_body(s);
	int rc = parse("POST", P_ENROLL, PKCS10, NULL, body);

	free(body);
	return rc;
}

/* ---- routes and methods ---- */

static void
test_cacerts_get(void **state)
{
	assert_int_equal(parse("GET", P_CACERTS, NULL, NULL, NULL), 0);
	assert_int_equal(rq.op, EST_CACERTS);
	assert_int_equal(rq.has_csr, 0);
	assert_int_equal(rq.has_basic, 0);
	assert_string_equal(why, "");
}

static void
test_csrattrs_get(void **state)
{
	assert_int_equal(parse("GET", P_CSRATTRS, NULL, NULL, NULL), 0);
	assert_int_equal(rq.op, EST_CSRATTRS);
	assert_int_equal(rq.has_csr, 0);
}

static void
test_crl_get(void **state)
{
	assert_int_equal(parse("GET", "/crl", NULL, NULL, NULL), 0);
	assert_int_equal(rq.op, EST_CRL);
}

static void
test_query_is_ignored(void **state)
{
	assert_int_equal(parse("GET", P_CACERTS "?a=b&c", NULL, NULL, NULL), 0);
	assert_int_equal(rq.op, EST_CACERTS);
	assert_int_equal(parse("GET", "/crl?", NULL, NULL, NULL), 0);
	assert_int_equal(rq.op, EST_CRL);
	assert_int_equal(parse("GET", P_CSRATTRS "?/x/simpleenroll", NULL, NULL, NULL), 0);
	assert_int_equal(rq.op, EST_CSRATTRS);
}

static void
test_simpleenroll_post(void **state)
{
	struct csr_spec s = { .cn = UDID, .sn = UDID };

	assert_int_equal(enroll(&s), 0);
	assert_int_equal(rq.op, EST_SIMPLEENROLL);
	assert_int_equal(rq.has_csr, 1);
	assert_string_equal(rq.csr.udid, UDID);
	assert_ptr_equal(rq.csr.der, rq.der);
	assert_true(rq.csr.der_len > 0 && rq.csr.der_len <= EST_CSR_MAX);
}

static void
test_simplereenroll_post(void **state)
{
	struct csr_spec s = { .cn = UDID };
	char *body = csr_body(&s);

	assert_int_equal(parse("POST", P_REENROLL, PKCS10, NULL, body), 0);
	assert_int_equal(rq.op, EST_SIMPLEREENROLL);
	assert_int_equal(rq.has_csr, 1);
	assert_string_equal(rq.csr.udid, UDID);
	free(body);
}

static void
test_serverkeygen_post(void **state)
{
	struct csr_spec s = { .cn = UDID };
	char *body = csr_body(&s);

	assert_int_equal(parse("POST", P_KEYGEN, PKCS10, NULL, body), 0);
	assert_int_equal(rq.op, EST_SERVERKEYGEN);
	assert_int_equal(rq.has_csr, 1);
	free(body);
}

static void
test_the_der_is_the_csr(void **state)
{
	struct csr_spec s = { .cn = UDID };
	uint8_t *der;
	size_t len;
	char *body;

	make_csr(&s, &der, &len);
	body = b64(der, len);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, body), 0);
	assert_int_equal(rq.csr.der_len, len);
	assert_memory_equal(rq.csr.der, der, len);
	free(body);
	free(der);
}

static void
test_unknown_paths_are_404(void **state)
{
	static const char *const paths[] = {
		"",
		"/",
		"/.well-known/est",
		"/.well-known/est/",
		"/.well-known/est/foo",
		"/.well-known/est/cacerts/",
		"/.well-known/est/CACERTS",
		"/.well-known/est/cacertsx",
		"/.well-known/estcacerts",
		"/.well-known/est//simpleenroll",
		"/.well-known/est/a/b/simpleenroll",
		"/.well-known/est/a/foo",
		"/.well-known/est/crl",
		"/.well-known/EST/cacerts",
		".well-known/est/cacerts",
		"//.well-known/est/cacerts",
		"/crl/",
		"/crlx",
		"/CRL",
		"/cacerts",
		"?/.well-known/est/cacerts",
		"/.well-known/est/cacerts#x",
	};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(parse("GET", paths[i], NULL, NULL, NULL), 404);
		assert_string_equal(why, "unknown path");
		assert_int_equal(parse("POST", paths[i], PKCS10, NULL, "AAAA"), 404);
	}
}

static void
test_ca_label_is_404(void **state)
{
	assert_int_equal(parse("POST", "/.well-known/est/ca1/simpleenroll", PKCS10, NULL,
	    "AAAA"), 404);
	assert_string_equal(why, "CA labels are not supported");
	assert_int_equal(parse("GET", "/.well-known/est/ca1/cacerts", NULL, NULL, NULL), 404);
	assert_string_equal(why, "CA labels are not supported");
	assert_int_equal(parse("GET", "/.well-known/est/x/csrattrs?q", NULL, NULL, NULL), 404);
	assert_string_equal(why, "CA labels are not supported");
	/* the label comes before the method check */
	assert_int_equal(parse("PUT", "/.well-known/est/x/serverkeygen", NULL, NULL, NULL), 404);
	assert_string_equal(why, "CA labels are not supported");
}

static void
test_wrong_method_is_405(void **state)
{
	static const struct {
		const char *method, *path;
	} cases[] = {
		{ "POST", P_CACERTS },
		{ "HEAD", P_CACERTS },
		{ "get", P_CACERTS },
		{ "PUT", P_CSRATTRS },
		{ "POST", P_CSRATTRS },
		{ "POST", "/crl" },
		{ "HEAD", "/crl" },
		{ "GET", P_ENROLL },
		{ "post", P_ENROLL },
		{ "PUT", P_REENROLL },
		{ "GET", P_KEYGEN },
		{ "DELETE", P_KEYGEN },
		{ "", P_CACERTS },
		{ "GETX", P_CACERTS },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].method, cases[i].path, PKCS10, NULL, "AAAA"), 405);
		assert_non_null(strstr(why, "only"));
	}
}

static void
test_get_with_a_body_ignores_it(void **state)
{
	assert_int_equal(parse("GET", P_CACERTS, "text/plain", NULL, "not base64 !"), 0);
	assert_int_equal(rq.op, EST_CACERTS);
	assert_int_equal(rq.has_csr, 0);
}

static void
test_null_arguments_are_einval(void **state)
{
	struct est_request r;

	assert_int_equal(est_req_parse(NULL, P_CACERTS, NULL, NULL, NULL, 0, &r, why, sizeof(why)),
	    ZTP_EINVAL);
	assert_int_equal(est_req_parse("GET", NULL, NULL, NULL, NULL, 0, &r, why, sizeof(why)),
	    ZTP_EINVAL);
	assert_int_equal(est_req_parse("GET", P_CACERTS, NULL, NULL, NULL, 0, NULL, why,
	    sizeof(why)), ZTP_EINVAL);
	assert_int_equal(est_req_parse("POST", P_ENROLL, PKCS10, NULL, NULL, 4, &r, why,
	    sizeof(why)), ZTP_EINVAL);
	/* no room for a reason is fine */
	assert_int_equal(est_req_parse("GET", "/x", NULL, NULL, NULL, 0, &r, NULL, 0), 404);
}

/* ---- Content-Type ---- */

static void
test_content_type_missing_is_415(void **state)
{
	struct csr_spec s = { .cn = UDID };
	char *body = csr_body(&s);

	assert_int_equal(parse("POST", P_ENROLL, NULL, NULL, body), 415);
	assert_int_equal(parse("POST", P_REENROLL, NULL, NULL, body), 415);
	assert_int_equal(parse("POST", P_KEYGEN, NULL, NULL, body), 415);
	free(body);
}

static void
test_content_type_wrong_is_415(void **state)
{
	static const char *const types[] = {
		"",
		"application/pkcs7-mime",
		"text/plain",
		"application/pkcs10x",
		"application/pkcs1",
		"application/pkcs",
		"application/pkcs10,text/plain",
		"application/ pkcs10",
		"x application/pkcs10",
		"application/pkcs10\r\n",
	};
	struct csr_spec s = { .cn = UDID };
	char *body = csr_body(&s);
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		assert_int_equal(parse("POST", P_ENROLL, types[i], NULL, body), 415);
		assert_non_null(strstr(why, "Content-Type"));
	}
	free(body);
}

static void
test_content_type_parameters_are_accepted(void **state)
{
	static const char *const types[] = {
		"application/pkcs10; charset=utf-8",
		"application/pkcs10;x=y",
		"application/pkcs10 ; a=b; c=\"d\"",
		"application/pkcs10\t;a=b",
		"application/pkcs10;",
		" application/pkcs10 ",
		"application/pkcs10\t",
	};
	struct csr_spec s = { .cn = UDID };
	char *body = csr_body(&s);
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		assert_int_equal(parse("POST", P_ENROLL, types[i], NULL, body), 0);
	free(body);
}

static void
test_content_type_is_case_insensitive(void **state)
{
	static const char *const types[] = {
		"APPLICATION/PKCS10",
		"Application/Pkcs10",
		"application/PKCS10; Charset=UTF-8",
	};
	struct csr_spec s = { .cn = UDID };
	char *body = csr_body(&s);
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		assert_int_equal(parse("POST", P_ENROLL, types[i], NULL, body), 0);
	free(body);
}

/* ---- the body ---- */

/* s with `ins` inserted after every `every` characters: malloc'd. */
static char *
spread(const char *s, size_t every, const char *ins)
{
	size_t n = strlen(s), il = strlen(ins), i, off = 0;
	char *out = malloc(n + (n / every + 1) * il + 1);

	assert_non_null(out);
	for (i = 0; i < n; i++) {
		if (i % every == 0) {
			memcpy(out + off, ins, il);
			off += il;
		}
		out[off++] = s[i];
	}
	out[off] = '\0';
	return out;
}

/* s without CR and LF: malloc'd. */
static char *
one_line(const char *s)
{
	char *out = malloc(strlen(s) + 1), *p = out;

	assert_non_null(out);
	for (; *s != '\0'; s++)
		if (*s != '\r' && *s != '\n')
			*p++ = *s;
	*p = '\0';
	return out;
}

static void
test_body_with_crlf_lines_and_spaces_is_accepted(void **state)
{
	static const char *const ins[] = { " ", "\t", "\r\n", "\n", "\r", " \r\n\t " };
	struct csr_spec s = { .cn = UDID };
	char *body = csr_body(&s), *line = one_line(body), *b;
	size_t i;

	/* as encoded: 64-character lines ending in LF */
	assert_non_null(strchr(body, '\n'));
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, body), 0);
	/* on one line */
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, line), 0);
	for (i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
		b = spread(line, 7, ins[i]);
		assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, b), 0);
		assert_string_equal(rq.csr.udid, UDID);
		free(b);
	}
	/* whitespace before, after and around the pad */
	b = malloc(strlen(line) + 16);
	assert_non_null(b);
	snprintf(b, strlen(line) + 16, "\r\n  %s \r\n\r\n", line);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, b), 0);
	free(b);
	free(line);
	free(body);
}

static void
test_body_with_illegal_characters_is_400(void **state)
{
	static const char bad[] = { '-', '*', '%', '.', '_', '\v', '\f', '\0', (char)0x80,
		(char)0xff };
	struct csr_spec s = { .cn = UDID };
	char *body = csr_body(&s), *pem;
	size_t i, n = strlen(body);

	for (i = 0; i < sizeof(bad); i++) {
		char keep = body[10];
		body[10] = bad[i];
		assert_int_equal(parse_n("POST", P_ENROLL, PKCS10, NULL, body, n, &rq, why,
		    sizeof(why)), 400);
		assert_non_null(strstr(why, "base64"));
		body[10] = keep;
	}
	/* a trailing character OpenSSL's decoder would skip */
	pem = malloc(n + 2);
	assert_non_null(pem);
	snprintf(pem, n + 2, "%s-", body);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, pem), 400);
	free(pem);
	/* PEM instead of base64 */
	pem = malloc(n + 128);
	assert_non_null(pem);
	snprintf(pem, n + 128,
	    "-----BEGIN CERTIFICATE REQUEST-----\n%s-----END CERTIFICATE REQUEST-----\n", body);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, pem), 400);
	free(pem);
	/* base64url */
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, "ab-_"), 400);
	free(body);
}

static void
test_body_with_bad_padding_is_400(void **state)
{
	struct csr_spec s = { .cn = UDID };
	char *body = csr_body(&s), *line = one_line(body), *b;
	size_t n = strlen(line);

	b = malloc(n + 8);
	assert_non_null(b);
	/* without its padding (the DER's length decides whether it has any) */
	memcpy(b, line, n + 1);
	while (n > 0 && b[n - 1] == '=')
		b[--n] = '\0';
	if (n % 4 != 0)
		assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, b), 400);
	/* padding added where it does not belong */
	snprintf(b, n + 8, "%s====", line);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, b), 400);
	free(b);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, "AA="), 400);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, "A==="), 400);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, "===="), 400);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, "AA==AAAA"), 400);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, "A=AA"), 400);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, "AAA=A==="), 400);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, "AAAAA"), 400);
	assert_non_null(strstr(why, "base64"));
	free(line);
	free(body);
}

static void
test_empty_body_is_400(void **state)
{
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, ""), 400);
	assert_non_null(strstr(why, "empty"));
	assert_int_equal(parse_n("POST", P_ENROLL, PKCS10, NULL, NULL, 0, &rq, why, sizeof(why)),
	    400);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, " \r\n\t"), 400);
	assert_non_null(strstr(why, "empty"));
}

static void
test_body_over_the_limit_is_413(void **state)
{
	char *b = malloc(EST_BODY_MAX + 2);

	assert_non_null(b);
	memset(b, 'A', EST_BODY_MAX + 1);
	b[EST_BODY_MAX + 1] = '\0';
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, b), 413);
	/* whitespace counts: the limit is on what was sent */
	memset(b, ' ', EST_BODY_MAX + 1);
	b[0] = 'A';
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, b), 413);
	free(b);
}

static void
test_decoded_csr_over_the_limit_is_413(void **state)
{
	uint8_t *der = calloc(1, EST_CSR_MAX + 1);
	char *body;

	assert_non_null(der);
	body = b64(der, EST_CSR_MAX + 1);
	assert_true(strlen(body) <= EST_BODY_MAX);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, body), 413);
	free(body);
	/* EST_CSR_MAX bytes are decoded (and then are not a CSR) */
	body = b64(der, EST_CSR_MAX);
	assert_int_equal(parse("POST", P_ENROLL, PKCS10, NULL, body), 400);
	free(body);
	free(der);
}

/* POST the base64 of der[0..len). */
static int
enroll_der(const uint8_t *der, size_t len)
{
	char *body = b64(der, len);
	int rc = parse("POST", P_ENROLL, PKCS10, NULL, body);

	free(body);
	return rc;
}

static void
test_csr_with_trailing_bytes_is_400(void **state)
{
	struct csr_spec s = { .cn = UDID };
	uint8_t *der, *more;
	size_t len;

	make_csr(&s, &der, &len);
	assert_int_equal(enroll_der(der, len), 0);
	more = malloc(2 * len);
	assert_non_null(more);
	memcpy(more, der, len);
	more[len] = 0x00;
	assert_int_equal(enroll_der(more, len + 1), 400);
	assert_non_null(strstr(why, "follow the CSR"));
	/* two CSRs */
	memcpy(more + len, der, len);
	assert_int_equal(enroll_der(more, 2 * len), 400);
	free(more);
	free(der);
}

static void
test_truncated_csr_is_400(void **state)
{
	struct csr_spec s = { .cn = UDID };
	uint8_t *der;
	size_t len, cut;

	make_csr(&s, &der, &len);
	for (cut = 1; cut < len; cut += (cut < 8 || cut > len - 8) ? 1 : 37)
		assert_int_equal(enroll_der(der, cut), 400);
	free(der);
}

static void
test_tampered_signature_is_400(void **state)
{
	EVP_PKEY *keys[] = { k_p256, k_rsa2048, k_ed25519 };
	struct csr_spec s = { .cn = UDID };
	uint8_t *der;
	size_t len, i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		s.key = keys[i];
		make_csr(&s, &der, &len);
		/* the signature BIT STRING ends the DER */
		der[len - 1] ^= 0x01;
		assert_int_equal(enroll_der(der, len), 400);
		assert_string_equal(why, "the CSR's signature does not verify");
		free(der);
	}
}

static void
test_tampered_subject_is_400(void **state)
{
	struct csr_spec s = { .cn = "AAAA" };
	uint8_t *der, *p;
	size_t len;

	make_csr(&s, &der, &len);
	p = memmem(der, len, "AAAA", 4);
	assert_non_null(p);
	p[0] = 'B';
	assert_int_equal(enroll_der(der, len), 400);
	assert_string_equal(why, "the CSR's signature does not verify");
	free(der);
}

static void
test_not_a_csr_is_400(void **state)
{
	static const uint8_t junk[] = "hello, world";
	static const uint8_t seq[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	/* SEQUENCE, indefinite length: BER, not DER */
	static const uint8_t indef[] = { 0x30, 0x80, 0x00, 0x00 };

	assert_int_equal(enroll_der(junk, sizeof(junk) - 1), 400);
	assert_int_equal(enroll_der(seq, sizeof(seq)), 400);
	assert_int_equal(enroll_der(indef, sizeof(indef)), 400);
}

static void
test_ber_length_is_400(void **state)
{
	struct csr_spec s = { .cn = UDID };
	uint8_t *der, *ber;
	size_t len, hdr;

	/* the outer SEQUENCE's length in a longer form than DER allows */
	make_csr(&s, &der, &len);
	assert_int_equal(der[0], 0x30);
	hdr = der[1] < 0x80 ? 2 : 2 + (der[1] & 0x7f);
	assert_true(len - hdr < 0x10000);
	ber = malloc(len + 8);
	assert_non_null(ber);
	ber[0] = 0x30;
	ber[1] = 0x84;
	ber[2] = 0;
	ber[3] = 0;
	ber[4] = (uint8_t)((len - hdr) >> 8);
	ber[5] = (uint8_t)(len - hdr);
	memcpy(ber + 6, der + hdr, len - hdr);
	assert_int_equal(enroll_der(ber, 6 + len - hdr), 400);
	free(ber);
	free(der);
}

/* ---- the identity ---- */

static void
test_cn_only(void **state)
{
	struct csr_spec s = { .cn = UDID };

	assert_int_equal(enroll(&s), 0);
	assert_string_equal(rq.csr.cn, UDID);
	assert_string_equal(rq.csr.serial_number, "");
	assert_string_equal(rq.csr.udid, UDID);
}

static void
test_serial_number_only(void **state)
{
	struct csr_spec s = { .sn = UDID };

	assert_int_equal(enroll(&s), 0);
	assert_string_equal(rq.csr.cn, "");
	assert_string_equal(rq.csr.serial_number, UDID);
	assert_string_equal(rq.csr.udid, UDID);
}

static void
test_cn_and_serial_number_equal(void **state)
{
	struct csr_spec s = { .cn = UDID, .sn = UDID };

	assert_int_equal(enroll(&s), 0);
	assert_string_equal(rq.csr.cn, UDID);
	assert_string_equal(rq.csr.serial_number, UDID);
	assert_string_equal(rq.csr.udid, UDID);
}

static void
test_cn_and_serial_number_different_is_400(void **state)
{
	struct csr_spec s = { .cn = UDID, .sn = "other-device" };

	assert_int_equal(enroll(&s), 400);
	assert_non_null(strstr(why, "differ"));
	/* case matters */
	s.sn = "0123456789abcdef-ztp.dev:01";
	assert_int_equal(enroll(&s), 400);
}

static void
test_no_identity_is_400(void **state)
{
	struct csr_spec s = { 0 };

	assert_int_equal(enroll(&s), 400);
	assert_non_null(strstr(why, "neither"));
}

static void
test_two_cns_or_two_serial_numbers_is_400(void **state)
{
	struct csr_spec s = { .cn = UDID, .cn2 = UDID };

	assert_int_equal(enroll(&s), 400);
	assert_non_null(strstr(why, "two commonNames"));
	s = (struct csr_spec){ .sn = UDID, .sn2 = "x" };
	assert_int_equal(enroll(&s), 400);
	assert_non_null(strstr(why, "two serialNumbers"));
}

static void
test_identity_not_a_udid_is_400(void **state)
{
	static const char *const bad[] = { "dev 1", "dev/1", "dev@x", "dev,1", "dev+1",
		"d\xc3\xa9v", "dev\x7f", "dev=1" };
	char longer[EST_UDID_MAX + 2];
	struct csr_spec s = { 0 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = (struct csr_spec){ .cn = bad[i] };
		assert_int_equal(enroll(&s), 400);
		assert_non_null(strstr(why, "not a UDID"));
		s = (struct csr_spec){ .sn = bad[i] };
		assert_int_equal(enroll(&s), 400);
		assert_non_null(strstr(why, "not a UDID"));
	}
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	s = (struct csr_spec){ .cn = longer };
	assert_int_equal(enroll(&s), 400);
	/* the longest */
	longer[EST_UDID_MAX] = '\0';
	assert_int_equal(enroll(&s), 0);
	assert_int_equal(strlen(rq.csr.udid), EST_UDID_MAX);
}

static void
test_udid_characters(void **state)
{
	assert_int_equal(est_udid_valid("a", 1), 1);
	assert_int_equal(est_udid_valid("Az09-.:_", 8), 1);
	assert_int_equal(est_udid_valid("", 0), 0);
	assert_int_equal(est_udid_valid(NULL, 0), 0);
	assert_int_equal(est_udid_valid("a\0b", 3), 0);
	assert_int_equal(est_udid_valid("a b", 3), 0);
	assert_int_equal(est_udid_valid("a/b", 3), 0);
	/* only len bytes are read */
	assert_int_equal(est_udid_valid("ab c", 2), 1);
	assert_int_equal(est_udid_valid(
	    "0123456789012345678901234567890123456789012345678901234567890123", 64), 1);
	assert_int_equal(est_udid_valid(
	    "01234567890123456789012345678901234567890123456789012345678901234", 65), 0);
}

static void
test_underscore_is_a_udid_character(void **state)
{
	struct csr_spec s = { .cn = "dev_01" };

	assert_int_equal(enroll(&s), 0);
	assert_string_equal(rq.csr.udid, "dev_01");
}

/* ---- keys ---- */

static void
expect_key(EVP_PKEY *key, enum est_key_type type, int bits)
{
	struct csr_spec s = { .key = key, .cn = UDID };
	unsigned char *spki = NULL, md[32];
	unsigned int mdlen = 0;
	int n;

	assert_int_equal(enroll(&s), 0);
	assert_int_equal(rq.csr.key_type, type);
	assert_int_equal(rq.csr.key_bits, bits);
	n = i2d_PUBKEY(key, &spki);
	assert_true(n > 0);
	assert_int_equal(EVP_Digest(spki, (size_t)n, md, &mdlen, EVP_sha256(), NULL), 1);
	assert_memory_equal(rq.csr.key_sha256, md, 32);
	OPENSSL_free(spki);
}

static void
test_key_p256(void **state)
{
	expect_key(k_p256, EST_KEY_EC_P256, 256);
}

static void
test_key_p384(void **state)
{
	expect_key(k_p384, EST_KEY_EC_P384, 384);
}

static void
test_key_rsa2048(void **state)
{
	expect_key(k_rsa2048, EST_KEY_RSA, 2048);
}

static void
test_key_ed25519(void **state)
{
	struct csr_spec s = { .key = k_ed25519, .cn = UDID };

	assert_int_equal(enroll(&s), 0);
	assert_int_equal(rq.csr.key_type, EST_KEY_ED25519);
	assert_int_equal(rq.csr.key_bits, EVP_PKEY_get_bits(k_ed25519));
}

static void
test_key_rsa1024_is_400(void **state)
{
	struct csr_spec s = { .key = k_rsa1024, .cn = UDID };

	assert_int_equal(enroll(&s), 400);
	assert_non_null(strstr(why, "key"));
}

static void
test_key_secp256k1_is_400(void **state)
{
	struct csr_spec s = { .key = k_k256, .cn = UDID };

	assert_int_equal(enroll(&s), 400);
	assert_non_null(strstr(why, "key"));
}

/* ---- serverkeygen: the key made for a CSR ---- */

/* The choice for the CSR of key, parsed as a serverkeygen request. */
static int
keygen_for(EVP_PKEY *key, struct est_keygen *kg)
{
	struct csr_spec s = { .key = key, .cn = UDID };
	char *body = csr_body(&s);

	assert_int_equal(parse("POST", P_KEYGEN, PKCS10, NULL, body), 0);
	free(body);
	return est_keygen_choose(&rq.csr, kg, why, sizeof(why));
}

/* The choice for a CSR key of type and bits, as the parser would fill them. */
static int
keygen_of(enum est_key_type type, int bits, struct est_keygen *kg)
{
	struct est_csr csr;

	memset(&csr, 0, sizeof(csr));
	csr.key_type = type;
	csr.key_bits = bits;
	return est_keygen_choose(&csr, kg, why, sizeof(why));
}

static void
test_keygen_p256_csr_gets_p256(void **state)
{
	struct est_keygen kg;

	assert_int_equal(keygen_for(k_p256, &kg), 0);
	assert_int_equal(kg.type, EST_KEY_EC_P256);
	assert_int_equal(kg.bits, 256);
	assert_string_equal(why, "");
}

static void
test_keygen_p384_csr_gets_p384(void **state)
{
	struct est_keygen kg;

	assert_int_equal(keygen_for(k_p384, &kg), 0);
	assert_int_equal(kg.type, EST_KEY_EC_P384);
	assert_int_equal(kg.bits, 384);
}

static void
test_keygen_rsa2048_csr_gets_rsa2048(void **state)
{
	struct est_keygen kg;

	assert_int_equal(keygen_for(k_rsa2048, &kg), 0);
	assert_int_equal(kg.type, EST_KEY_RSA);
	assert_int_equal(kg.bits, 2048);
}

static void
test_keygen_rsa_gets_the_csr_keys_size(void **state)
{
	static const int sizes[] = { 2048, 2050, 3000, 3072, 4000, 4096 };
	struct est_keygen kg;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(keygen_of(EST_KEY_RSA, sizes[i], &kg), 0);
		assert_int_equal(kg.type, EST_KEY_RSA);
		assert_int_equal(kg.bits, sizes[i]);
	}
}

static void
test_keygen_ed25519_is_400(void **state)
{
	struct est_keygen kg;

	assert_int_equal(keygen_for(k_ed25519, &kg), 400);
	assert_non_null(strstr(why, "serverkeygen"));
	assert_non_null(strstr(why, "Ed25519"));
	assert_int_equal(kg.type, 0);
	assert_int_equal(kg.bits, 0);
}

static void
test_keygen_rsa_out_of_2048_to_4096_is_400(void **state)
{
	static const int sizes[] = { 0, 1024, 2046, 4097, 4098, 8192, -1 };
	struct est_keygen kg;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(keygen_of(EST_KEY_RSA, sizes[i], &kg), 400);
		assert_non_null(strstr(why, "2048 to 4096"));
		assert_int_equal(kg.type, 0);
	}
}

/* OpenSSL makes a modulus one bit shorter than an odd size asked for */
static void
test_keygen_rsa_of_an_odd_size_is_400(void **state)
{
	static const int sizes[] = { 2049, 3071, 4095 };
	struct est_keygen kg;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(keygen_of(EST_KEY_RSA, sizes[i], &kg), 400);
		assert_non_null(strstr(why, "even"));
		assert_int_equal(kg.type, 0);
	}
}

static void
test_keygen_ec_bits_not_the_curves_is_400(void **state)
{
	struct est_keygen kg;

	assert_int_equal(keygen_of(EST_KEY_EC_P256, 384, &kg), 400);
	assert_int_equal(keygen_of(EST_KEY_EC_P384, 256, &kg), 400);
	assert_int_equal(keygen_of(EST_KEY_EC_P256, 0, &kg), 400);
	assert_int_equal(kg.type, 0);
}

static void
test_keygen_no_key_type_is_400(void **state)
{
	struct est_keygen kg;

	assert_int_equal(keygen_of((enum est_key_type)0, 256, &kg), 400);
	assert_int_equal(keygen_of((enum est_key_type)99, 2048, &kg), 400);
	assert_true(strlen(why) > 0);
}

static void
test_keygen_null_arguments_are_einval(void **state)
{
	struct est_keygen kg;
	struct est_csr csr;

	memset(&csr, 0, sizeof(csr));
	csr.key_type = EST_KEY_EC_P256;
	csr.key_bits = 256;
	assert_int_equal(est_keygen_choose(NULL, &kg, why, sizeof(why)), ZTP_EINVAL);
	assert_int_equal(est_keygen_choose(&csr, NULL, why, sizeof(why)), ZTP_EINVAL);
	/* no room for a reason is not an error */
	assert_int_equal(est_keygen_choose(&csr, &kg, NULL, 0), 0);
	csr.key_type = EST_KEY_ED25519;
	assert_int_equal(est_keygen_choose(&csr, &kg, NULL, 0), 400);
}

static void
test_different_keys_hash_differently(void **state)
{
	struct csr_spec s = { .cn = UDID };
	uint8_t first[32];

	assert_int_equal(enroll(&s), 0);
	memcpy(first, rq.csr.key_sha256, 32);
	s.key = k_p384;
	assert_int_equal(enroll(&s), 0);
	assert_memory_not_equal(first, rq.csr.key_sha256, 32);
}

/* ---- challengePassword ---- */

static void
test_challenge_password_extracted(void **state)
{
	struct csr_spec s = { .cn = UDID, .pass = "one-time pass 42" };

	assert_int_equal(enroll(&s), 0);
	assert_int_equal(rq.csr.has_challenge, 1);
	assert_string_equal(rq.csr.challenge, "one-time pass 42");
}

static void
test_challenge_password_string_types(void **state)
{
	static const int types[] = { V_ASN1_PRINTABLESTRING, V_ASN1_UTF8STRING,
		V_ASN1_IA5STRING };
	struct csr_spec s = { .cn = UDID, .pass = "secret" };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		s.pass_type = types[i];
		assert_int_equal(enroll(&s), 0);
		assert_string_equal(rq.csr.challenge, "secret");
	}
	/* UTF-8 beyond ASCII is kept as it is */
	s.pass = "p\xc3\xa4ss";
	s.pass_type = V_ASN1_UTF8STRING;
	assert_int_equal(enroll(&s), 0);
	assert_string_equal(rq.csr.challenge, "p\xc3\xa4ss");
}

static void
test_no_challenge_password(void **state)
{
	struct csr_spec s = { .cn = UDID };

	assert_int_equal(enroll(&s), 0);
	assert_int_equal(rq.csr.has_challenge, 0);
	assert_string_equal(rq.csr.challenge, "");
}

static void
test_bad_challenge_password_is_400(void **state)
{
	char longer[EST_PASS_MAX + 2];
	struct csr_spec s = { .cn = UDID, .pass = "secret", .pass_type = V_ASN1_BMPSTRING,
		.pass_len = 6 };

	assert_int_equal(enroll(&s), 400);
	assert_null(strstr(why, "secret"));
	s = (struct csr_spec){ .cn = UDID, .pass = "sec\nret", .pass_type = V_ASN1_UTF8STRING };
	assert_int_equal(enroll(&s), 400);
	assert_non_null(strstr(why, "control"));
	s = (struct csr_spec){ .cn = UDID, .pass = "sec\0ret", .pass_type = V_ASN1_UTF8STRING,
		.pass_len = 7 };
	assert_int_equal(enroll(&s), 400);
	s = (struct csr_spec){ .cn = UDID, .pass = "secret", .pass_twice = 1 };
	assert_int_equal(enroll(&s), 400);
	assert_non_null(strstr(why, "two"));
	s = (struct csr_spec){ .cn = UDID, .pass = "secret", .pass_two_values = 1,
		.pass_type = V_ASN1_UTF8STRING };
	assert_int_equal(enroll(&s), 400);
	assert_non_null(strstr(why, "one value"));
	memset(longer, 'p', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	s = (struct csr_spec){ .cn = UDID, .pass = longer };
	assert_int_equal(enroll(&s), 400);
	longer[EST_PASS_MAX] = '\0';
	assert_int_equal(enroll(&s), 0);
	assert_int_equal(strlen(rq.csr.challenge), EST_PASS_MAX);
}

static void
test_challenge_cleared_when_the_csr_fails(void **state)
{
	struct csr_spec s = { .cn = UDID, .sn = "other", .pass = "secret" };
	struct est_csr c;
	uint8_t *der;
	size_t len;

	make_csr(&s, &der, &len);
	memset(&c, 0xA5, sizeof(c));
	assert_int_equal(est_csr_parse(der, len, &c, why, sizeof(why)), 400);
	assert_int_equal(c.has_challenge, 0);
	assert_string_equal(c.challenge, "");
	free(der);
}

/* ---- est_csr_parse alone ---- */

static void
test_csr_parse_limits(void **state)
{
	struct csr_spec s = { .cn = UDID };
	struct est_csr c;
	uint8_t *big = calloc(1, EST_CSR_MAX + 1), *der;
	size_t len;

	assert_non_null(big);
	assert_int_equal(est_csr_parse(big, 0, &c, why, sizeof(why)), 400);
	assert_int_equal(est_csr_parse(big, EST_CSR_MAX + 1, &c, why, sizeof(why)), 413);
	assert_int_equal(est_csr_parse(big, EST_CSR_MAX, &c, why, sizeof(why)), 400);
	assert_int_equal(est_csr_parse(NULL, 1, &c, why, sizeof(why)), ZTP_EINVAL);
	make_csr(&s, &der, &len);
	assert_int_equal(est_csr_parse(der, len, &c, why, sizeof(why)), 0);
	assert_ptr_equal(c.der, der);
	assert_int_equal(c.der_len, len);
	assert_string_equal(c.udid, UDID);
	free(der);
	free(big);
}

/* ---- Authorization: Basic ---- */

/* "Basic " and the base64 of raw[0..len) */
static char *
basic_of(const char *scheme, const void *raw, size_t len)
{
	char *enc = b64(raw, len), *line = one_line(enc), *out;
	size_t n = strlen(scheme) + strlen(line) + 2;

	out = malloc(n);
	assert_non_null(out);
	snprintf(out, n, "%s %s", scheme, line);
	free(line);
	free(enc);
	return out;
}

static int
get_with(const char *authz)
{
	return parse("GET", P_CSRATTRS, NULL, authz, NULL);
}

static void
test_basic_auth(void **state)
{
	char *a = basic_of("Basic", "alice:s3cret", 12);

	assert_int_equal(get_with(a), 0);
	assert_int_equal(rq.has_basic, 1);
	assert_string_equal(rq.user, "alice");
	assert_string_equal(rq.pass, "s3cret");
	free(a);
	/* RFC 7617's example */
	assert_int_equal(get_with("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), 0);
	assert_string_equal(rq.user, "Aladdin");
	assert_string_equal(rq.pass, "open sesame");
}

static void
test_basic_auth_on_enroll(void **state)
{
	struct csr_spec s = { .cn = UDID };
	char *body = csr_body(&s);

	assert_int_equal(parse("POST", P_ENROLL, PKCS10, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
	    body), 0);
	assert_int_equal(rq.has_basic, 1);
	assert_int_equal(rq.has_csr, 1);
	assert_string_equal(rq.pass, "open sesame");
	free(body);
}

static void
test_basic_scheme_is_case_insensitive(void **state)
{
	static const char *const schemes[] = { "basic", "BASIC", "bAsIc" };
	char *a;
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		a = basic_of(schemes[i], "u:p", 3);
		assert_int_equal(get_with(a), 0);
		assert_int_equal(rq.has_basic, 1);
		assert_string_equal(rq.user, "u");
		assert_string_equal(rq.pass, "p");
		free(a);
	}
}

static void
test_basic_spaces(void **state)
{
	assert_int_equal(get_with("Basic    dTpw"), 0);
	assert_string_equal(rq.user, "u");
	assert_int_equal(get_with("  Basic dTpw  "), 0);
	assert_string_equal(rq.pass, "p");
	assert_int_equal(get_with("Basic dT pw"), 400);
	assert_int_equal(get_with("Basic dTpw\r\n"), 400);
	assert_int_equal(get_with("Basic\tdTpw"), 400);
	assert_int_equal(get_with("Basic"), 400);
	assert_int_equal(get_with("Basic   "), 400);
}

static void
test_basic_splits_at_the_first_colon(void **state)
{
	assert_int_equal(get_with("Basic dTphOmI6Yw=="), 0); /* "u:a:b:c" */
	assert_string_equal(rq.user, "u");
	assert_string_equal(rq.pass, "a:b:c");
	assert_int_equal(get_with("Basic OnA="), 0); /* ":p" */
	assert_string_equal(rq.user, "");
	assert_string_equal(rq.pass, "p");
	assert_int_equal(get_with("Basic dTo="), 0); /* "u:" */
	assert_string_equal(rq.user, "u");
	assert_string_equal(rq.pass, "");
}

static void
test_basic_without_colon_is_400(void **state)
{
	assert_int_equal(get_with("Basic YWxpY2U="), 400); /* "alice" */
	assert_non_null(strstr(why, "':'"));
}

static void
test_basic_bad_base64_is_400(void **state)
{
	static const char *const bad[] = { "Basic dTpw=", "Basic dTp", "Basic dT*w",
		"Basic dTpw====", "Basic =dTp", "Basic dTpw-" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(get_with(bad[i]), 400);
		assert_non_null(strstr(why, "Basic"));
	}
}

static void
test_basic_overlong_is_400(void **state)
{
	char raw[EST_USER_MAX + EST_PASS_MAX + 64];
	char *a;

	/* the longest user and password */
	memset(raw, 'u', EST_USER_MAX);
	raw[EST_USER_MAX] = ':';
	memset(raw + EST_USER_MAX + 1, 'p', EST_PASS_MAX);
	a = basic_of("Basic", raw, EST_USER_MAX + 1 + EST_PASS_MAX);
	assert_int_equal(get_with(a), 0);
	assert_int_equal(strlen(rq.user), EST_USER_MAX);
	assert_int_equal(strlen(rq.pass), EST_PASS_MAX);
	free(a);
	/* a user one longer */
	memset(raw, 'u', EST_USER_MAX + 1);
	raw[EST_USER_MAX + 1] = ':';
	memset(raw + EST_USER_MAX + 2, 'p', 4);
	a = basic_of("Basic", raw, EST_USER_MAX + 6);
	assert_int_equal(get_with(a), 400);
	free(a);
	/* a password one longer */
	raw[0] = 'u';
	raw[1] = ':';
	memset(raw + 2, 'p', EST_PASS_MAX + 1);
	a = basic_of("Basic", raw, EST_PASS_MAX + 3);
	assert_int_equal(get_with(a), 400);
	free(a);
	/* over the whole limit */
	memset(raw, 'x', sizeof(raw));
	raw[1] = ':';
	a = basic_of("Basic", raw, sizeof(raw));
	assert_int_equal(get_with(a), 400);
	assert_null(strstr(why, "xxxx"));
	free(a);
}

static void
test_basic_control_characters_are_400(void **state)
{
	static const char *const raws[] = { "u\x01:p", "u:p\x7f", "u:p\tq", "u\0x:p",
		"u:p\r\n", "u:\x1b[2J" };
	static const size_t lens[] = { 4, 4, 5, 5, 5, 6 };
	char *a;
	size_t i;

	for (i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
		a = basic_of("Basic", raws[i], lens[i]);
		assert_int_equal(get_with(a), 400);
		assert_non_null(strstr(why, "control"));
		free(a);
	}
}

static void
test_other_schemes_are_ignored(void **state)
{
	static const char *const others[] = { "Bearer abc.def.ghi", "Bearer dTpw", "Digest x=y",
		"Basically dTpw", "", "  ", "Basic:dTpw", "BasicdTpw" };
	size_t i;

	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_int_equal(get_with(others[i]), 0);
		assert_int_equal(rq.has_basic, 0);
		assert_string_equal(rq.user, "");
		assert_string_equal(rq.pass, "");
	}
}

static void
test_password_is_cleared_on_failure(void **state)
{
	struct est_request r;
	char w[256];
	/* "alice:hunter2", then a request that fails after the header was read */
	static const char authz[] = "Basic YWxpY2U6aHVudGVyMg==";

	assert_int_equal(parse_n("POST", P_ENROLL, "text/plain", authz, "AAAA", 4, &r, w,
	    sizeof(w)), 415);
	assert_int_equal(r.has_basic, 0);
	assert_null(strstr(w, "hunter2"));
	assert_int_equal(parse_n("POST", P_ENROLL, PKCS10, authz, "AAAA", 4, &r, w, sizeof(w)),
	    400);
	assert_null(strstr(w, "hunter2"));
	assert_int_equal(parse_n("POST", P_ENROLL, PKCS10, authz, "!!", 2, &r, w, sizeof(w)),
	    400);
	assert_null(strstr(w, "hunter2"));
}

/* ---- base64 ---- */

static void
test_base64_round_trip(void **state)
{
	uint8_t in[1000], out[1000];
	size_t len, n, i, lines;
	char *enc;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (len = 0; len <= sizeof(in); len += len < 100 ? 1 : 97) {
		enc = NULL;
		assert_int_equal(est_base64_encode(in, len, &enc, &n), 0);
		assert_non_null(enc);
		assert_int_equal(strlen(enc), n);
		/* lines of 64 characters (the last maybe shorter), each ending in LF */
		lines = (len + 47) / 48;
		assert_int_equal(n, (len + 2) / 3 * 4 + lines);
		for (i = 0; i < lines; i++)
			if (i + 1 < lines)
				assert_int_equal(enc[65 * i + 64], '\n');
		assert_null(strchr(enc, '\r'));
		if (len > 0)
			assert_int_equal(enc[n - 1], '\n');
		memset(out, 0, sizeof(out));
		assert_int_equal(est_base64_decode(enc, n, out, len, &i), 0);
		assert_int_equal(i, len);
		assert_memory_equal(out, in, len);
		free(enc);
	}
}

static void
test_base64_vectors(void **state)
{
	static const struct {
		const char *plain, *enc;
	} v[] = { /* RFC 4648 section 10 */
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" } };
	uint8_t out[16];
	size_t i, n;
	char *enc;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = strlen(v[i].enc);
		assert_int_equal(est_base64_decode(v[i].enc, n, out, sizeof(out), &n), 0);
		assert_int_equal(n, strlen(v[i].plain));
		assert_memory_equal(out, v[i].plain, n);
		assert_int_equal(est_base64_encode((const uint8_t *)v[i].plain, strlen(v[i].plain),
		    &enc, &n), 0);
		if (v[i].plain[0] == '\0') {
			assert_string_equal(enc, "");
		} else {
			assert_int_equal(n, strlen(v[i].enc) + 1);
			assert_memory_equal(enc, v[i].enc, strlen(v[i].enc));
		}
		free(enc);
	}
}

static void
test_base64_decode_errors(void **state)
{
	uint8_t out[16];
	size_t n = 99;

	assert_int_equal(est_base64_decode("Zm9vYmFy", 8, out, 5, &n), ZTP_ETOOBIG);
	assert_int_equal(n, 0);
	assert_int_equal(est_base64_decode("Zm9vYmFy", 8, out, 6, &n), 0);
	assert_int_equal(est_base64_decode("Zm9vYg==", 8, out, 4, &n), 0);
	assert_int_equal(est_base64_decode("Zm9vYg=", 7, out, 16, &n), ZTP_EMALFORMED);
	assert_int_equal(est_base64_decode("Zm9vY===", 8, out, 16, &n), ZTP_EMALFORMED);
	assert_int_equal(est_base64_decode("Zm=vYmFy", 8, out, 16, &n), ZTP_EMALFORMED);
	assert_int_equal(est_base64_decode("Zm9v\vYmFy", 9, out, 16, &n), ZTP_EMALFORMED);
	assert_int_equal(est_base64_decode("Zm9v\0YmFy", 9, out, 16, &n), ZTP_EMALFORMED);
	/* only len bytes are read */
	assert_int_equal(est_base64_decode("Zm9v!!!!", 4, out, 16, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(est_base64_decode("Zm9v", 4, NULL, 16, &n), ZTP_EINVAL);
	assert_int_equal(est_base64_decode(NULL, 4, out, 16, &n), ZTP_EINVAL);
	assert_int_equal(est_base64_decode(" \r\n", 3, out, 0, &n), 0);
	assert_int_equal(n, 0);
}

/* ---- PKCS#7 certs-only ---- */

/* A self-signed certificate for cn. */
static X509 *
make_cert(const char *cn, long serial)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	assert_non_null(x);
	assert_non_null(name);
	name_add(name, NID_commonName, cn);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
	assert_int_equal(X509_set_subject_name(x, name), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, k_p256), 1);
	assert_true(X509_sign(x, k_p256, EVP_sha256()) > 0);
	X509_NAME_free(name);
	return x;
}

static void
check_pkcs7(X509 *const *certs, size_t n)
{
	const unsigned char *p;
	STACK_OF(X509) *got;
	uint8_t *der = NULL;
	PKCS7 *p7;
	size_t len = 0, i;

	assert_int_equal(est_pkcs7_certs(certs, n, &der, &len), 0);
	assert_non_null(der);
	p = der;
	p7 = d2i_PKCS7(NULL, &p, (long)len);
	assert_non_null(p7);
	assert_ptr_equal(p, der + len);
	assert_true(PKCS7_type_is_signed(p7));
	/* certs-only: id-data without content, no signer, no CRL */
	assert_true(PKCS7_type_is_data(p7->d.sign->contents));
	assert_null(p7->d.sign->contents->d.data);
	assert_int_equal(sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info), 0);
	assert_true(sk_X509_CRL_num(p7->d.sign->crl) <= 0); /* -1: none */
	got = p7->d.sign->cert;
	assert_int_equal(sk_X509_num(got), (int)n);
	for (i = 0; i < n; i++)
		assert_int_equal(X509_cmp(sk_X509_value(got, (int)i), certs[i]), 0);
	PKCS7_free(p7);
	free(der);
}

static void
test_pkcs7_one_cert(void **state)
{
	X509 *c[1] = { make_cert("ztp root", 1) };

	check_pkcs7(c, 1);
	X509_free(c[0]);
}

static void
test_pkcs7_two_certs(void **state)
{
	X509 *c[2] = { make_cert("ztp issuing", 2), make_cert("ztp root", 1) };

	check_pkcs7(c, 2);
	X509_free(c[0]);
	X509_free(c[1]);
}

static void
test_pkcs7_bad_arguments(void **state)
{
	X509 *c[2] = { make_cert("ztp root", 1), NULL };
	uint8_t *der = (uint8_t *)"x";
	size_t len = 7;

	assert_int_equal(est_pkcs7_certs(c, 0, &der, &len), ZTP_EINVAL);
	assert_null(der);
	assert_int_equal(len, 0);
	assert_int_equal(est_pkcs7_certs(NULL, 1, &der, &len), ZTP_EINVAL);
	assert_int_equal(est_pkcs7_certs(c, 2, &der, &len), ZTP_EINVAL);
	assert_null(der);
	X509_free(c[0]);
}

/* ---- CSR attributes ---- */

static void
test_csrattrs(void **state)
{
	/* RFC 7030 4.5.2's form, for P-256 */
	static const uint8_t want[] = { 0x30, 0x21,
		0x30, 0x15,
		0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
		0x31, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
		0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
	const unsigned char *p;
	STACK_OF(ASN1_TYPE) *sk;
	X509_ATTRIBUTE *attr;
	const ASN1_TYPE *t, *v;
	uint8_t *der = NULL;
	size_t len = 0;

	assert_int_equal(est_csrattrs(&der, &len), 0);
	p = der;
	sk = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)len);
	assert_non_null(sk);
	assert_ptr_equal(p, der + len);
	assert_int_equal(sk_ASN1_TYPE_num(sk), 2);
	t = sk_ASN1_TYPE_value(sk, 0);
	assert_int_equal(t->type, V_ASN1_SEQUENCE);
	p = t->value.sequence->data;
	attr = d2i_X509_ATTRIBUTE(NULL, &p, t->value.sequence->length);
	assert_non_null(attr);
	assert_int_equal(OBJ_obj2nid(X509_ATTRIBUTE_get0_object(attr)), NID_X9_62_id_ecPublicKey);
	assert_int_equal(X509_ATTRIBUTE_count(attr), 1);
	v = X509_ATTRIBUTE_get0_type(attr, 0);
	assert_int_equal(v->type, V_ASN1_OBJECT);
	assert_int_equal(OBJ_obj2nid(v->value.object), NID_X9_62_prime256v1);
	X509_ATTRIBUTE_free(attr);
	t = sk_ASN1_TYPE_value(sk, 1);
	assert_int_equal(t->type, V_ASN1_OBJECT);
	assert_int_equal(OBJ_obj2nid(t->value.object), NID_ecdsa_with_SHA256);
	sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(der, want, sizeof(want));
	free(der);
	assert_int_equal(est_csrattrs(NULL, &len), ZTP_EINVAL);
}


/* est_pkcs7_cert_der() wraps the DER as est_pkcs7_certs() encodes the certificate. */
static void
check_pkcs7_der(X509 *c)
{
	uint8_t *want = NULL, *got = NULL, *cder = NULL;
	size_t wlen, glen;
	int n;

	assert_int_equal(est_pkcs7_certs(&c, 1, &want, &wlen), 0);
	assert_true((n = i2d_X509(c, &cder)) > 0);
	assert_int_equal(est_pkcs7_cert_der(cder, (size_t)n, &got, &glen), 0);
	assert_int_equal(glen, wlen);
	assert_memory_equal(got, want, wlen);
	free(want);
	free(got);
	OPENSSL_free(cder);
}

static void
test_pkcs7_of_der_is_that_of_the_certificate(void **state)
{
	X509 *c = make_cert("ztp root", 1), *big = make_cert("ztp root", 2);
	uint8_t *der = (uint8_t *)"x";
	size_t len = 7;

	check_pkcs7_der(c);
	/* an RSA key: a certificate of more than 256 bytes */
	assert_int_equal(X509_set_pubkey(big, k_rsa2048), 1);
	assert_true(X509_sign(big, k_rsa2048, EVP_sha256()) > 0);
	check_pkcs7_der(big);
	/* what is not a SEQUENCE, or no output */
	assert_int_equal(est_pkcs7_cert_der((const uint8_t *)"\x02\x01\x00", 3, &der, &len),
	    ZTP_EINVAL);
	assert_null(der);
	assert_int_equal(len, 0);
	assert_int_equal(est_pkcs7_cert_der(NULL, 3, &der, &len), ZTP_EINVAL);
	assert_int_equal(est_pkcs7_cert_der((const uint8_t *)"\x30\x00", 2, NULL, &len),
	    ZTP_EINVAL);
	X509_free(c);
	X509_free(big);
}

/* The CSR's SPKI is the key's, and key_sha256 its SHA-256 as crypto_pkey_sha256() has it. */
static void
test_csr_spki_and_its_hash_are_the_keys(void **state)
{
	EVP_PKEY *keys[] = { k_p256, k_p384, k_rsa2048, k_ed25519 };
	struct est_csr csr;
	struct csr_spec s = { .cn = UDID };
	uint8_t *der, *spki, hash[32];
	size_t len, i;
	char reason[200];
	int n;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		s.key = keys[i];
		make_csr(&s, &der, &len);
		assert_int_equal(est_csr_parse(der, len, &csr, reason, sizeof(reason)), 0);
		spki = NULL;
		assert_true((n = i2d_PUBKEY(keys[i], &spki)) > 0);
		assert_int_equal(csr.spki_len, (size_t)n);
		assert_memory_equal(csr.spki, spki, csr.spki_len);
		assert_int_equal(crypto_pkey_sha256(keys[i], hash), 0);
		assert_memory_equal(csr.key_sha256, hash, 32);
		OPENSSL_free(spki);
		free(der);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cacerts_get),
		cmocka_unit_test(test_csrattrs_get),
		cmocka_unit_test(test_crl_get),
		cmocka_unit_test(test_query_is_ignored),
		cmocka_unit_test(test_simpleenroll_post),
		cmocka_unit_test(test_simplereenroll_post),
		cmocka_unit_test(test_serverkeygen_post),
		cmocka_unit_test(test_the_der_is_the_csr),
		cmocka_unit_test(test_unknown_paths_are_404),
		cmocka_unit_test(test_ca_label_is_404),
		cmocka_unit_test(test_wrong_method_is_405),
		cmocka_unit_test(test_get_with_a_body_ignores_it),
		cmocka_unit_test(test_null_arguments_are_einval),
		cmocka_unit_test(test_content_type_missing_is_415),
		cmocka_unit_test(test_content_type_wrong_is_415),
		cmocka_unit_test(test_content_type_parameters_are_accepted),
		cmocka_unit_test(test_content_type_is_case_insensitive),
		cmocka_unit_test(test_body_with_crlf_lines_and_spaces_is_accepted),
		cmocka_unit_test(test_body_with_illegal_characters_is_400),
		cmocka_unit_test(test_body_with_bad_padding_is_400),
		cmocka_unit_test(test_empty_body_is_400),
		cmocka_unit_test(test_body_over_the_limit_is_413),
		cmocka_unit_test(test_decoded_csr_over_the_limit_is_413),
		cmocka_unit_test(test_csr_with_trailing_bytes_is_400),
		cmocka_unit_test(test_truncated_csr_is_400),
		cmocka_unit_test(test_tampered_signature_is_400),
		cmocka_unit_test(test_tampered_subject_is_400),
		cmocka_unit_test(test_not_a_csr_is_400),
		cmocka_unit_test(test_ber_length_is_400),
		cmocka_unit_test(test_cn_only),
		cmocka_unit_test(test_serial_number_only),
		cmocka_unit_test(test_cn_and_serial_number_equal),
		cmocka_unit_test(test_cn_and_serial_number_different_is_400),
		cmocka_unit_test(test_no_identity_is_400),
		cmocka_unit_test(test_two_cns_or_two_serial_numbers_is_400),
		cmocka_unit_test(test_identity_not_a_udid_is_400),
		cmocka_unit_test(test_udid_characters),
		cmocka_unit_test(test_underscore_is_a_udid_character),
		cmocka_unit_test(test_key_p256),
		cmocka_unit_test(test_key_p384),
		cmocka_unit_test(test_key_rsa2048),
		cmocka_unit_test(test_key_ed25519),
		cmocka_unit_test(test_key_rsa1024_is_400),
		cmocka_unit_test(test_key_secp256k1_is_400),
		cmocka_unit_test(test_keygen_p256_csr_gets_p256),
		cmocka_unit_test(test_keygen_p384_csr_gets_p384),
		cmocka_unit_test(test_keygen_rsa2048_csr_gets_rsa2048),
		cmocka_unit_test(test_keygen_rsa_gets_the_csr_keys_size),
		cmocka_unit_test(test_keygen_ed25519_is_400),
		cmocka_unit_test(test_keygen_rsa_out_of_2048_to_4096_is_400),
		cmocka_unit_test(test_keygen_rsa_of_an_odd_size_is_400),
		cmocka_unit_test(test_keygen_ec_bits_not_the_curves_is_400),
		cmocka_unit_test(test_keygen_no_key_type_is_400),
		cmocka_unit_test(test_keygen_null_arguments_are_einval),
		cmocka_unit_test(test_different_keys_hash_differently),
		cmocka_unit_test(test_challenge_password_extracted),
		cmocka_unit_test(test_challenge_password_string_types),
		cmocka_unit_test(test_no_challenge_password),
		cmocka_unit_test(test_bad_challenge_password_is_400),
		cmocka_unit_test(test_challenge_cleared_when_the_csr_fails),
		cmocka_unit_test(test_csr_parse_limits),
		cmocka_unit_test(test_basic_auth),
		cmocka_unit_test(test_basic_auth_on_enroll),
		cmocka_unit_test(test_basic_scheme_is_case_insensitive),
		cmocka_unit_test(test_basic_spaces),
		cmocka_unit_test(test_basic_splits_at_the_first_colon),
		cmocka_unit_test(test_basic_without_colon_is_400),
		cmocka_unit_test(test_basic_bad_base64_is_400),
		cmocka_unit_test(test_basic_overlong_is_400),
		cmocka_unit_test(test_basic_control_characters_are_400),
		cmocka_unit_test(test_other_schemes_are_ignored),
		cmocka_unit_test(test_password_is_cleared_on_failure),
		cmocka_unit_test(test_base64_round_trip),
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_decode_errors),
		cmocka_unit_test(test_pkcs7_one_cert),
		cmocka_unit_test(test_pkcs7_two_certs),
		cmocka_unit_test(test_pkcs7_bad_arguments),
		cmocka_unit_test(test_pkcs7_of_der_is_that_of_the_certificate),
		cmocka_unit_test(test_csr_spki_and_its_hash_are_the_keys),
		cmocka_unit_test(test_csrattrs),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
