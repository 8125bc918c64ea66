/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: what the EST client (ztp/est.h) parses of the server's
 * bytes. The first byte picks the parser, the rest is its input:
 *
 *   0  est_parse_certs        a base64 certs-only PKCS#7 answer
 *   1  est_parse_retry_after  a Retry-After value
 *   2  est_reason_text        a refusal's body, to print (byte 1: the cap)
 *   3  est_parse_url          the server URL (what --server takes; a C string,
 *                            so it ends at the first NUL)
 *   4  est_ctype_is_pkcs7     a Content-Type value
 *   5  est_certs_parse        certificates as a key store slot holds them
 *
 * Each result is checked against what the format says, read independently
 * where that is short, and certificates go through a PEM round trip.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509.h>

#include "fuzz.h"
#include "ztp/err.h"
#include "ztp/est.h"

#define FUZZ_NOW INT64_C(1800000000) /* 2027-01-15T08:00:00Z */

/* certs -> PEM -> est_certs_parse gives the same certificates, in order. */
static void
check_round_trip(STACK_OF(X509) *certs)
{
	STACK_OF(X509) *again = NULL;
	uint8_t *pem = NULL;
	size_t len = 0;
	int i;

	FUZZ_CHECK(est_certs_pem(certs, &pem, &len) == 0);
	FUZZ_CHECK(pem != NULL && len > 0 && pem[len] == '\0');
	FUZZ_CHECK(est_certs_parse(pem, len, (size_t)sk_X509_num(certs), &again) == 0);
	FUZZ_CHECK(sk_X509_num(again) == sk_X509_num(certs));
	for (i = 0; i < sk_X509_num(certs); i++)
		FUZZ_CHECK(X509_cmp(sk_X509_value(certs, i), sk_X509_value(again, i)) == 0);
	sk_X509_pop_free(again, X509_free);
	free(pem);
}

static void
fuzz_certs(const uint8_t *p, size_t n)
{
	STACK_OF(X509) *certs = (STACK_OF(X509) *)1;
	char why[EST_WHY_MAX];
	int rc;

	why[0] = 'x';
	rc = est_parse_certs(p, n, &certs, why, sizeof(why));
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ETOOBIG || rc == ZTP_ENOMEM);
		FUZZ_CHECK(certs == NULL);
		FUZZ_CHECK(why[0] != '\0' || rc == ZTP_ENOMEM);
		return;
	}
	FUZZ_CHECK(certs != NULL);
	FUZZ_CHECK(sk_X509_num(certs) >= 1 && sk_X509_num(certs) <= EST_CERTS_MAX);
	check_round_trip(certs);
	sk_X509_pop_free(certs, X509_free);
}

static void
fuzz_retry_after(const uint8_t *p, size_t n)
{
	const char *s = (const char *)p;
	uint32_t secs = 12345, again = 0;
	size_t a = 0, b = n, i;
	uint64_t v = 0;
	int rc, digits_only = 1, over = 0;

	rc = est_parse_retry_after(s, n, FUZZ_NOW, &secs);
	FUZZ_CHECK(rc == 0 || rc == ZTP_EMALFORMED || rc == ZTP_ERANGE);
	if (rc != 0)
		FUZZ_CHECK(secs == 12345);
	/* deterministic */
	FUZZ_CHECK(est_parse_retry_after(s, n, FUZZ_NOW, &again) == rc);
	if (rc == 0)
		FUZZ_CHECK(again == secs);

	/* delta-seconds read here: SP/TAB around 1*DIGIT */
	while (a < b && (s[a] == ' ' || s[a] == '\t'))
		a++;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	if (a == b)
		digits_only = 0;
	for (i = a; i < b && digits_only; i++) {
		if (s[i] < '0' || s[i] > '9') {
			digits_only = 0;
			break;
		}
		if (v > (UINT32_MAX - (uint64_t)(s[i] - '0')) / 10)
			over = 1;
		else
			v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (digits_only) {
		FUZZ_CHECK(rc == (over ? ZTP_ERANGE : 0));
		if (!over)
			FUZZ_CHECK(secs == v);
	} else if (rc == 0) {
		/* an IMF-fixdate: 29 characters once trimmed, ending in GMT */
		FUZZ_CHECK(b - a == 29 && memcmp(s + b - 3, "GMT", 3) == 0);
	}
}

static void
fuzz_reason(const uint8_t *p, size_t n)
{
	char out[EST_REASON_MAX + 1];
	size_t cap, len, i;

	if (n == 0)
		return;
	cap = 1 + p[0] % sizeof(out);
	p++;
	n--;
	memset(out, 0x5a, sizeof(out));
	len = est_reason_text(p, n, out, cap);
	FUZZ_CHECK(len < cap);
	FUZZ_CHECK(out[len] == '\0' && strlen(out) == len);
	for (i = 0; i < len; i++)
		FUZZ_CHECK(out[i] >= 0x20 && out[i] <= 0x7e);
	FUZZ_CHECK(strstr(out, "  ") == NULL);
	if (len > 0)
		FUZZ_CHECK(out[0] != ' ' && out[len - 1] != ' ');
	for (i = cap; i < sizeof(out); i++)
		FUZZ_CHECK(out[i] == 0x5a);
}

static void
fuzz_url(const uint8_t *p, size_t n)
{
	struct est_url u, again;
	char *s, back[EST_URL_MAX + 64];
	size_t i;
	int rc;

	if ((s = malloc(n + 1)) == NULL)
		return;
	memcpy(s, p, n);
	s[n] = '\0';
	rc = est_parse_url(s, &u);
	FUZZ_CHECK(rc == 0 || rc == ZTP_EINVAL);
	if (rc == 0) {
		FUZZ_CHECK(strncasecmp(s, "https://", 8) == 0);
		FUZZ_CHECK(u.host[0] != '\0' && strlen(u.host) <= EST_HOST_MAX && u.port >= 1);
		for (i = 0; u.host[i] != '\0'; i++)
			FUZZ_CHECK(isalnum((unsigned char)u.host[i]) || strchr("-.:", u.host[i]));
		snprintf(back, sizeof(back), strchr(u.host, ':') ? "https://[%s]:%u" :
		    "https://%s:%u", u.host, u.port);
		FUZZ_CHECK(est_parse_url(back, &again) == 0);
		FUZZ_CHECK(!strcmp(again.host, u.host) && again.port == u.port &&
		    again.is_ip == u.is_ip);
	}
	free(s);
}

static void
fuzz_ctype(const uint8_t *p, size_t n)
{
	static const char want[] = "application/pkcs7-mime";
	const char *s = (const char *)p;
	size_t a = 0, w = sizeof(want) - 1;
	int r = est_ctype_is_pkcs7(s, n), expect;

	while (a < n && (s[a] == ' ' || s[a] == '\t'))
		a++;
	expect = n - a >= w && strncasecmp(s + a, want, w) == 0 &&
	    (n - a == w || s[a + w] == ';' || s[a + w] == ' ' || s[a + w] == '\t');
	FUZZ_CHECK(r == expect);
}

static void
fuzz_slot_certs(const uint8_t *p, size_t n)
{
	STACK_OF(X509) *certs = (STACK_OF(X509) *)1;
	int rc;

	rc = est_certs_parse(p, n, 4, &certs);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ETOOBIG || rc == ZTP_ENOMEM);
		FUZZ_CHECK(certs == NULL);
		return;
	}
	FUZZ_CHECK(sk_X509_num(certs) >= 1 && sk_X509_num(certs) <= 4);
	check_round_trip(certs);
	sk_X509_pop_free(certs, X509_free);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 6) {
	case 0:
		fuzz_certs(data + 1, size - 1);
		break;
	case 1:
		fuzz_retry_after(data + 1, size - 1);
		break;
	case 2:
		fuzz_reason(data + 1, size - 1);
		break;
	case 3:
		fuzz_url(data + 1, size - 1);
		break;
	case 4:
		fuzz_ctype(data + 1, size - 1);
		break;
	case 5:
		fuzz_slot_certs(data + 1, size - 1);
		break;
	}
	return 0;
}
