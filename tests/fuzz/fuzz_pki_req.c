/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a foreign PKI's creation body and a CRL's URL
 * (admin_pkireq.h), what an API client sends to POST /v1/pkis.
 *
 * The first byte picks the parser ('0' the body, '1' a URL alone; another
 * byte: its value modulo 2); the rest is the input, as it is (a URL up to
 * its first NUL). A refusal must be a documented code with a reason within
 * its cap, and the output untouched. An accepted body's values are within
 * their bounds (a name, a URL the URL check takes, an interval, a CA's DER
 * that OpenSSL reads back as a CA certificate), and written back as the
 * canonical body they parse again to the same values.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "admin_pkireq.h"
#include "fuzz.h"
#include "ztp/err.h"

#define WHY_CAP 128
#define CANARY 0x5a

static struct store_pki out, again;

static int
all_canary(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != CANARY)
			return 0;
	return 1;
}

static void
why_check(const char *why, int rc)
{
	FUZZ_CHECK(all_canary(why + WHY_CAP, 16));
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ETOOBIG || rc == ZTP_ENOMEM);
		FUZZ_CHECK(why[0] != '\0' && memchr(why, '\0', WHY_CAP) != NULL);
	}
}

/* The CA's DER as the PEM the body carries. */
static char *
ca_pem(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	BIO *b = BIO_new(BIO_s_mem());
	char *s, *pem;
	long n;

	FUZZ_CHECK(x != NULL && p == der + len && b != NULL);
	FUZZ_CHECK(PEM_write_bio_X509(b, x));
	n = BIO_get_mem_data(b, &s);
	FUZZ_CHECK(n > 0);
	pem = strndup(s, (size_t)n);
	FUZZ_CHECK(pem != NULL);
	BIO_free(b);
	X509_free(x);
	return pem;
}

static void
fuzz_create(const uint8_t *buf, size_t len)
{
	char why[WHY_CAP + 16], *pem, *body;
	json_t *o;
	int rc;

	memset(&out, CANARY, sizeof(out));
	memset(why, CANARY, sizeof(why));
	rc = admin_pkireq_create(buf, len, &out, why, WHY_CAP);
	why_check(why, rc);
	if (rc != 0) {
		FUZZ_CHECK(all_canary(&out, sizeof(out)));
		return;
	}
	FUZZ_CHECK(memchr(out.name, '\0', sizeof(out.name)) != NULL &&
	    store_pki_name_valid(out.name));
	FUZZ_CHECK(memchr(out.crl_url, '\0', sizeof(out.crl_url)) != NULL);
	FUZZ_CHECK(admin_pkireq_url_check(out.crl_url, why, WHY_CAP) == 0);
	FUZZ_CHECK(out.interval_s >= STORE_PKI_INTERVAL_MIN &&
	    out.interval_s <= STORE_PKI_INTERVAL_MAX);
	FUZZ_CHECK(out.ca_len > 0 && out.ca_len <= sizeof(out.ca));
	FUZZ_CHECK(out.created_at == 0 && out.last_fetch_at == 0 && out.last_ok_at == 0 &&
	    out.last_error[0] == '\0' && out.crl_number[0] == '\0' && out.revoked == 0);
	pem = ca_pem(out.ca, out.ca_len);
	o = json_pack("{s:s, s:s, s:s, s:I}", "name", out.name, "ca", pem, "crl_url", out.crl_url,
	    "interval_s", (json_int_t)out.interval_s);
	FUZZ_CHECK(o != NULL);
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	FUZZ_CHECK(body != NULL);
	FUZZ_CHECK(admin_pkireq_create((const uint8_t *)body, strlen(body), &again, why,
		       WHY_CAP) == 0);
	FUZZ_CHECK(strcmp(out.name, again.name) == 0 && strcmp(out.crl_url, again.crl_url) == 0 &&
	    out.interval_s == again.interval_s && out.ca_len == again.ca_len &&
	    memcmp(out.ca, again.ca, out.ca_len) == 0);
	free(body);
	free(pem);
}

static void
fuzz_url(const uint8_t *buf, size_t len)
{
	char why[WHY_CAP + 16], *url = strndup((const char *)buf, len);
	size_t i, n;
	int rc;

	FUZZ_CHECK(url != NULL);
	memset(why, CANARY, sizeof(why));
	rc = admin_pkireq_url_check(url, why, WHY_CAP);
	why_check(why, rc);
	if (rc == 0) {
		n = strlen(url);
		FUZZ_CHECK(n >= 8 && n <= STORE_PKI_URL_MAX);
		FUZZ_CHECK(strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
		for (i = 0; i < n; i++)
			FUZZ_CHECK(url[i] > 0x20 && url[i] < 0x7f && url[i] != '#');
	}
	free(url);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] >= '0' && data[0] <= '1' ? data[0] - '0' : data[0] % 2) {
	case 0:
		fuzz_create(data + 1, size - 1);
		break;
	case 1:
		fuzz_url(data + 1, size - 1);
		break;
	}
	return 0;
}
