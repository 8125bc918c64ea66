/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the EST request parser (src/server/proto/est_req.h), which
 * reads every request of the EST endpoint before it is authenticated.
 *
 * Input: four lines, then the body:
 *   MODE-OR-METHOD \n PATH \n CONTENT-TYPE \n AUTHORIZATION \n BODY...
 * A header line of a single "-" is an absent header (NULL). Each line is
 * handed over NUL-terminated (a NUL inside cuts it, as a C string would);
 * the body is copied to a heap buffer of exactly its size, so that reading
 * past it is caught.
 *   "CSR": est_csr_parse() of the body as DER (the other lines are unused);
 *   "B64": est_base64_decode() of the body, and a round trip through
 *          est_base64_encode();
 *   anything else is the method of est_req_parse().
 * Checked: a refusal is a documented status with a printable reason and a
 * zeroed output (the password and challengePassword cleansed); an accepted
 * request matches its route and method and keeps every documented bound;
 * the key serverkeygen would make for an accepted CSR (est_keygen_choose())
 * is of the CSR key's type and size, or refused with 400 (Ed25519, RSA of
 * an odd size).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "est_req.h"
#include "fuzz.h"
#include "ztp/err.h"

static struct est_request req;
static const uint8_t zero[sizeof(struct est_request)];

/* 1 if s (NUL-terminated within cap bytes) has a control character. */
static int
has_ctl(const char *s, size_t cap)
{
	size_t i;

	for (i = 0; i < cap && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return 1;
	return 0;
}

static void
check_why(int rc, const char *why, size_t cap)
{
	size_t n = strnlen(why, cap), i;

	FUZZ_CHECK(n < cap);
	if (rc == 0)
		return;
	FUZZ_CHECK(n > 0);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(why[i] >= 0x20 && why[i] <= 0x7e);
}

/* serverkeygen's choice for an accepted CSR: the CSR key's kind, Ed25519 refused. */
static void
check_keygen(const struct est_csr *c)
{
	struct est_keygen kg;
	char why[160];
	int rc;

	memset(&kg, 0xa5, sizeof(kg));
	memset(why, 0xa5, sizeof(why));
	rc = est_keygen_choose(c, &kg, why, sizeof(why));
	check_why(rc, why, sizeof(why));
	if (c->key_type == EST_KEY_ED25519 || (c->key_type == EST_KEY_RSA && c->key_bits % 2 != 0)) {
		FUZZ_CHECK(rc == 400 && kg.type == 0 && kg.bits == 0);
		return;
	}
	FUZZ_CHECK(rc == 0 && kg.type == c->key_type && kg.bits == c->key_bits);
}

static void
check_csr(const struct est_csr *c, const uint8_t *der, size_t len)
{
	size_t n;

	FUZZ_CHECK(c->der == der && c->der_len == len);
	FUZZ_CHECK(len >= 1 && len <= EST_CSR_MAX);
	n = strnlen(c->udid, sizeof(c->udid));
	FUZZ_CHECK(n < sizeof(c->udid) && est_udid_valid(c->udid, n));
	FUZZ_CHECK(strnlen(c->cn, sizeof(c->cn)) < sizeof(c->cn));
	FUZZ_CHECK(strnlen(c->serial_number, sizeof(c->serial_number)) <
	    sizeof(c->serial_number));
	if (c->cn[0] != '\0') {
		FUZZ_CHECK(strcmp(c->udid, c->cn) == 0);
		FUZZ_CHECK(c->serial_number[0] == '\0' || strcmp(c->cn, c->serial_number) == 0);
	} else {
		FUZZ_CHECK(strcmp(c->udid, c->serial_number) == 0);
	}
	FUZZ_CHECK(c->key_type >= EST_KEY_EC_P256 && c->key_type <= EST_KEY_ED25519);
	switch (c->key_type) {
	case EST_KEY_EC_P256:
		FUZZ_CHECK(c->key_bits == 256);
		break;
	case EST_KEY_EC_P384:
		FUZZ_CHECK(c->key_bits == 384);
		break;
	case EST_KEY_RSA:
		FUZZ_CHECK(c->key_bits >= 2048 && c->key_bits <= 4096);
		break;
	case EST_KEY_ED25519:
		break;
	}
	FUZZ_CHECK(strnlen(c->challenge, sizeof(c->challenge)) < sizeof(c->challenge));
	FUZZ_CHECK(c->has_challenge == 0 || c->has_challenge == 1);
	FUZZ_CHECK(c->has_challenge == (c->challenge[0] != '\0'));
	FUZZ_CHECK(!has_ctl(c->challenge, sizeof(c->challenge)));
	check_keygen(c);
}

/* The route the path names, as est_req.h lists them; -1 for none. */
static int
route_of(const char *path, const char **method)
{
	static const struct {
		const char *path, *method;
		enum est_op op;
	} r[] = {
		{ "/.well-known/est/cacerts", "GET", EST_CACERTS },
		{ "/.well-known/est/simpleenroll", "POST", EST_SIMPLEENROLL },
		{ "/.well-known/est/simplereenroll", "POST", EST_SIMPLEREENROLL },
		{ "/.well-known/est/csrattrs", "GET", EST_CSRATTRS },
		{ "/.well-known/est/serverkeygen", "POST", EST_SERVERKEYGEN },
		{ "/crl", "GET", EST_CRL },
	};
	size_t n = strcspn(path, "?"), i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		if (strlen(r[i].path) == n && memcmp(path, r[i].path, n) == 0) {
			*method = r[i].method;
			return (int)r[i].op;
		}
	}
	return -1;
}

static void
fuzz_request(const char *method, const char *path, const char *ctype, const char *authz,
    const uint8_t *body, size_t len)
{
	const char *want_method = NULL, *a;
	char why[160];
	int rc, op;

	memset(&req, 0xa5, sizeof(req));
	memset(why, 0xa5, sizeof(why));
	rc = est_req_parse(method, path, ctype, authz, body, len, &req, why, sizeof(why));
	check_why(rc, why, sizeof(why));
	op = route_of(path, &want_method);
	if (rc != 0) {
		FUZZ_CHECK(rc == 400 || rc == 404 || rc == 405 || rc == 413 || rc == 415);
		FUZZ_CHECK(memcmp(&req, zero, sizeof(req)) == 0);
		FUZZ_CHECK((rc == 404) == (op < 0));
		if (rc == 413)
			FUZZ_CHECK(len > EST_BODY_MAX || len > EST_CSR_MAX);
		return;
	}
	FUZZ_CHECK(op >= 0 && (int)req.op == op && strcmp(method, want_method) == 0);
	FUZZ_CHECK(req.has_csr == (strcmp(method, "POST") == 0));
	if (req.has_csr) {
		FUZZ_CHECK(ctype != NULL && len > 0 && len <= EST_BODY_MAX);
		check_csr(&req.csr, req.der, req.csr.der_len);
	} else {
		FUZZ_CHECK(memcmp(&req.csr, zero, sizeof(req.csr)) == 0);
	}
	FUZZ_CHECK(strnlen(req.user, sizeof(req.user)) < sizeof(req.user));
	FUZZ_CHECK(strnlen(req.pass, sizeof(req.pass)) < sizeof(req.pass));
	FUZZ_CHECK(!has_ctl(req.user, sizeof(req.user)) && !has_ctl(req.pass, sizeof(req.pass)));
	if (req.has_basic) {
		FUZZ_CHECK(req.has_basic == 1 && authz != NULL);
		for (a = authz; *a == ' ' || *a == '\t'; a++)
			;
		FUZZ_CHECK(strncasecmp(a, "Basic ", 6) == 0);
	} else {
		FUZZ_CHECK(req.user[0] == '\0' && req.pass[0] == '\0');
	}
}

static void
fuzz_csr(const uint8_t *der, size_t len)
{
	struct est_csr c;
	char why[160];
	int rc;

	memset(&c, 0xa5, sizeof(c));
	rc = est_csr_parse(der, len, &c, why, sizeof(why));
	check_why(rc, why, sizeof(why));
	if (rc != 0) {
		FUZZ_CHECK(rc == 400 || (rc == 413 && len > EST_CSR_MAX));
		FUZZ_CHECK(memcmp(&c, zero, sizeof(c)) == 0);
		return;
	}
	check_csr(&c, der, len);
}

static void
fuzz_base64(const uint8_t *in, size_t len)
{
	uint8_t *out = malloc(len + 1), *again = malloc(len + 1);
	size_t n = 0, m = 0, i;
	char *enc = NULL;
	size_t enclen = 0;
	int rc;

	if (out == NULL || again == NULL)
		goto out;
	rc = est_base64_decode((const char *)in, len, out, len, &n);
	FUZZ_CHECK(rc == 0 || rc == ZTP_EMALFORMED);
	if (rc != 0) {
		FUZZ_CHECK(n == 0);
		goto out;
	}
	FUZZ_CHECK(n <= len / 4 * 3);
	if (n > 0)
		FUZZ_CHECK(est_base64_decode((const char *)in, len, again, n - 1, &m) ==
		    ZTP_ETOOBIG);
	FUZZ_CHECK(est_base64_encode(out, n, &enc, &enclen) == 0);
	FUZZ_CHECK(strlen(enc) == enclen);
	for (i = 0; i < enclen; i++)
		FUZZ_CHECK(enc[i] != '\0');
	FUZZ_CHECK(est_base64_decode(enc, enclen, again, len, &m) == 0);
	FUZZ_CHECK(m == n && memcmp(again, out, n) == 0);
out:
	free(enc);
	free(again);
	free(out);
}

/* The next line of data[*off..size) as a malloc'd string; NULL at the end. */
static char *
next_line(const uint8_t *data, size_t size, size_t *off)
{
	const uint8_t *nl;
	size_t n;
	char *s;

	if (*off >= size || (nl = memchr(data + *off, '\n', size - *off)) == NULL)
		return NULL;
	n = (size_t)(nl - (data + *off));
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, data + *off, n);
	s[n] = '\0';
	*off += n + 1;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line[4] = { NULL, NULL, NULL, NULL };
	uint8_t *body = NULL;
	size_t off = 0, len, i;

	for (i = 0; i < 4; i++)
		if ((line[i] = next_line(data, size, &off)) == NULL)
			goto out;
	len = size - off;
	if ((body = malloc(len > 0 ? len : 1)) == NULL)
		goto out;
	memcpy(body, data + off, len);
	if (strcmp(line[0], "CSR") == 0)
		fuzz_csr(body, len);
	else if (strcmp(line[0], "B64") == 0)
		fuzz_base64(body, len);
	else
		fuzz_request(line[0], line[1], strcmp(line[2], "-") == 0 ? NULL : line[2],
		    strcmp(line[3], "-") == 0 ? NULL : line[3], body, len);
out:
	free(body);
	for (i = 0; i < 4; i++)
		free(line[i]);
	return 0;
}
