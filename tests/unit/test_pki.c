/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Foreign PKIs in the front (pki.c, pki_sync.c), on a real SQLite file or
 * with ZTP_TEST_PG on a fresh PostgreSQL database per test
 * (store_fixture.h): which CRLs pki_crl_check takes and why it refuses the
 * others; the certificates devices present, recorded by issuer and
 * serial; a CRL applied: the listed devices blocked once, with their event,
 * an older CRL or one of another key refused and recorded, nothing
 * blocked. The CA, certificates and CRLs are made here (pki_testca.h); the
 * fetch over HTTP is test_pki_crl.sh's.
 */
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
#include <openssl/sha.h>

#include "clock.h"
#include "log.h"
#include "pki.h"
#include "store.h"
#include "ztp/err.h"

#include "pki_testca.h"
#include "store_fixture.h"

static const uint8_t key[CRYPTO_KEY_LEN] = { 3 };

/* the foreign PKI of every test, and another key that is not its CA's */
static EVP_PKEY *ca_key, *other_key;
static X509 *ca;
static char issuer[STORE_ISSUER_HEX];

static int
group_setup(void **state)
{
	unsigned char *der = NULL, md[32];
	int n, i;

	log_init("test", LOG_FORMAT_TEXT, LOG_LEVEL_WARN + 1);
	ca = testca_new("Maker IDevID CA", "critical,keyCertSign,cRLSign", &ca_key);
	other_key = EVP_EC_gen("P-256");
	/* the issuer as foreign_certs keeps it: SHA-256 of the DER of the name, lower-case hex */
	n = i2d_X509_NAME(X509_get_subject_name(ca), &der);
	SHA256(der, (size_t)n, md);
	OPENSSL_free(der);
	for (i = 0; i < 32; i++)
		snprintf(issuer + 2 * i, 3, "%02x", md[i]);
	return other_key != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_key);
	return 0;
}

static int
setup(void **state)
{
	return fixture_setup(state, key);
}

static char why[STORE_DETAIL_MAX];

/* pki_crl_check of c signed by k (DER); its answer, the CRL into *out (freed if NULL). */
static int
check(const struct testca_crl *c, EVP_PKEY *k, struct pki_crl *out)
{
	struct pki_crl tmp;
	size_t len;
	uint8_t *der = testca_crl_der(ca, k, c, &len);
	int rc;

	why[0] = '\0';
	rc = pki_crl_check(der, len, ca, time(NULL), out != NULL ? out : &tmp, why, sizeof(why));
	if (rc == 0 && out == NULL)
		pki_crl_free(&tmp);
	free(der);
	return rc;
}

static void
test_crl_check_takes_the_cas_crl_der_or_pem(void **state)
{
	static const char *const serials[] = { "0A1B2C", "FF", "00" };
	struct testca_crl c = { .number = "1F", .this_update = -60, .next_update = 86400,
		.serials = serials, .n = 3 };
	struct pki_crl crl;
	char serial[STORE_SERIAL_HEX], *pem, *text;
	uint8_t *der;
	size_t len, i, n;

	assert_int_equal(check(&c, ca_key, &crl), 0);
	assert_string_equal(crl.number, "1F");
	assert_int_equal(crl.entries, 3);
	assert_true(crl.this_update > time(NULL) - 120 && crl.this_update <= time(NULL));
	assert_true(crl.next_update > time(NULL));
	/* the entries as the store keeps serials (the CRL sorts them) */
	for (i = 0, n = 0; i < crl.entries; i++) {
		assert_int_equal(pki_crl_serial(&crl, i, serial), 0);
		n += !strcmp(serial, "0A1B2C") + !strcmp(serial, "FF") + !strcmp(serial, "00");
	}
	assert_int_equal(n, 3);
	assert_int_equal(pki_crl_serial(&crl, 3, serial), ZTP_EINVAL);
	pki_crl_free(&crl);
	/* PEM, with text around it */
	der = testca_crl_der(ca, ca_key, &c, &len);
	pem = testca_pem("X509 CRL", der, len);
	text = malloc(strlen(pem) + 64);
	assert_non_null(text);
	snprintf(text, strlen(pem) + 64, "Certificate Revocation List:\n%s\ntrailing\n", pem);
	assert_int_equal(pki_crl_check((const uint8_t *)text, strlen(text), ca, time(NULL), &crl,
			     why, sizeof(why)),
	    0);
	assert_int_equal(crl.entries, 3);
	pki_crl_free(&crl);
	free(text);
	free(pem);
	free(der);
	/* no number, no nextUpdate, no entries */
	c.number = NULL;
	c.next_update = 0;
	c.n = 0;
	assert_int_equal(check(&c, ca_key, &crl), 0);
	assert_string_equal(crl.number, "");
	assert_int_equal(crl.next_update, 0);
	assert_int_equal(crl.entries, 0);
	pki_crl_free(&crl);
	/* a little ahead of our clock is tolerated */
	c.this_update = PKI_FUTURE_SKEW_S - 60;
	assert_int_equal(check(&c, ca_key, NULL), 0);
}

static void
test_crl_check_refuses_another_signer_or_issuer(void **state)
{
	struct testca_crl c = { .number = "2", .this_update = -60 };
	EVP_PKEY *k2;
	X509 *ca2, *nocrlsign;
	uint8_t *der;
	size_t len;
	struct pki_crl crl;

	/* the CA's name, another key */
	assert_int_equal(check(&c, other_key, NULL), ZTP_EAUTH);
	assert_non_null(strstr(why, "signature"));
	/* another CA's CRL (its own name and key) */
	ca2 = testca_new("Other CA", "critical,keyCertSign,cRLSign", &k2);
	der = testca_crl_der(ca2, k2, &c, &len);
	assert_int_equal(pki_crl_check(der, len, ca, time(NULL), &crl, why, sizeof(why)), ZTP_EAUTH);
	assert_non_null(strstr(why, "issuer"));
	free(der);
	/* a CA whose keyUsage does not let it sign CRLs signs none, even its own name's */
	nocrlsign = testca_cert(ca_key, "Maker IDevID CA", "01", NULL, NULL, "critical,CA:TRUE",
	    "critical,keyCertSign");
	der = testca_crl_der(ca, ca_key, &c, &len);
	assert_int_equal(pki_crl_check(der, len, nocrlsign, time(NULL), &crl, why, sizeof(why)),
	    ZTP_EAUTH);
	assert_non_null(strstr(why, "CRLs"));
	free(der);
	X509_free(nocrlsign);
	X509_free(ca2);
	EVP_PKEY_free(k2);
}

static void
test_crl_check_refuses_kinds_of_crl_it_does_not_handle(void **state)
{
	struct testca_crl c = { .number = "3", .this_update = -60 };

	c.delta = 1;
	assert_int_equal(check(&c, ca_key, NULL), ZTP_EINVAL);
	assert_non_null(strstr(why, "delta"));
	c.delta = 0;
	c.indirect = 1;
	assert_int_equal(check(&c, ca_key, NULL), ZTP_EINVAL);
	assert_non_null(strstr(why, "indirect"));
	c.indirect = 0;
	c.critical_unknown = 1;
	assert_int_equal(check(&c, ca_key, NULL), ZTP_EINVAL);
	assert_non_null(strstr(why, "critical"));
	c.critical_unknown = 0;
	/* from the future */
	c.this_update = PKI_FUTURE_SKEW_S + 3600;
	assert_int_equal(check(&c, ca_key, NULL), ZTP_EINVAL);
	assert_non_null(strstr(why, "future"));
	/* a nextUpdate before the thisUpdate */
	c.this_update = -60;
	c.next_update = -120;
	assert_int_equal(check(&c, ca_key, NULL), ZTP_EMALFORMED);
}

static void
test_crl_check_refuses_malformed_bytes(void **state)
{
	struct testca_crl c = { .number = "4", .this_update = -60 };
	struct pki_crl crl;
	uint8_t *der, *big;
	size_t len;

	der = testca_crl_der(ca, ca_key, &c, &len);
	/* a byte after the DER, one missing, one changed in the signed part */
	der = realloc(der, len + 1);
	assert_non_null(der);
	der[len] = '\n';
	assert_int_equal(pki_crl_check(der, len + 1, ca, time(NULL), &crl, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_non_null(strstr(why, "after"));
	assert_int_equal(pki_crl_check(der, len - 1, ca, time(NULL), &crl, why, sizeof(why)),
	    ZTP_EMALFORMED);
	der[len / 3] ^= 0x01;
	assert_int_not_equal(pki_crl_check(der, len, ca, time(NULL), &crl, why, sizeof(why)), 0);
	free(der);
	assert_int_equal(pki_crl_check((const uint8_t *)"", 0, ca, time(NULL), &crl, why,
			     sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(pki_crl_check((const uint8_t *)"<html>not found</html>", 22, ca,
			     time(NULL), &crl, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(pki_crl_check((const uint8_t *)"-----BEGIN X509 CRL-----\nAAAA\n"
						       "-----END X509 CRL-----\n",
			     53, ca, time(NULL), &crl, why, sizeof(why)),
	    ZTP_EMALFORMED);
	big = calloc(1, PKI_CRL_MAX + 1);
	assert_non_null(big);
	big[0] = 0x30;
	assert_int_equal(pki_crl_check(big, PKI_CRL_MAX + 1, ca, time(NULL), &crl, why,
			     sizeof(why)),
	    ZTP_ETOOBIG);
	free(big);
}

static void
test_cert_seen_records_issuer_and_serial(void **state)
{
	struct fx *fx = *state;
	struct store_foreign_cert fc;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *dev = testca_cert(k, "dev-1", "00F1E2", ca, ca_key, NULL, NULL);
	X509 *big = testca_cert(k, "dev-1", "0102030405060708090A0B0C0D0E0F101112131415", ca, ca_key,
	    NULL, NULL);

	assert_int_equal(pki_cert_seen(fx->st, dev, "dev-1", "idevid"), 0);
	/* the magnitude's bytes: no leading zero byte */
	assert_int_equal(store_foreign_cert_get(fx->st, issuer, "F1E2", &fc), 0);
	assert_string_equal(fc.udid, "dev-1");
	assert_string_equal(fc.kind, "idevid");
	assert_true(fc.seen_at > 0);
	/* a serial over 20 bytes cannot be kept; a kind that is not one */
	assert_int_equal(pki_cert_seen(fx->st, big, "dev-1", "idevid"), ZTP_ERANGE);
	assert_int_equal(pki_cert_seen(fx->st, dev, "dev-1", "IDevID"), ZTP_EINVAL);
	assert_int_equal(pki_cert_seen(fx->st, NULL, "dev-1", "idevid"), ZTP_EINVAL);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM foreign_certs", NULL), 1);
	X509_free(big);
	X509_free(dev);
	EVP_PKEY_free(k);
}

/* ---- a CRL applied ---- */

/* A device record for udid: a certificate of ours recorded (serial ours). */
static void
thing(struct fx *fx, const char *udid, const char *ours)
{
	struct store_cert c;

	memset(&c, 0, sizeof(c));
	snprintf(c.serial, sizeof(c.serial), "%s", ours);
	snprintf(c.udid, sizeof(c.udid), "%s", udid);
	snprintf(c.subject, sizeof(c.subject), "/CN=%s", udid);
	c.not_before = time(NULL) - 60;
	c.not_after = time(NULL) + 86400;
	snprintf(c.method, sizeof(c.method), "manufacturer");
	assert_int_equal(store_cert_record(fx->st, &c, "", 0), 0);
}

/* udid presented an IDevID of the PKI with serial. */
static void
seen(struct fx *fx, const char *udid, const char *serial)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = testca_cert(k, udid, serial, ca, ca_key, NULL, NULL);

	assert_int_equal(pki_cert_seen(fx->st, x, udid, "idevid"), 0);
	X509_free(x);
	EVP_PKEY_free(k);
}

static int
blocked(struct fx *fx, const char *udid)
{
	struct store_thing t;

	assert_int_equal(store_thing_get(fx->st, udid, &t), 0);
	return t.blocked;
}

static int64_t
events_of(struct fx *fx, const char *kind)
{
	return sql_int(fx->path, "SELECT count(*) FROM events WHERE kind = ?1", kind);
}

/* Apply the CRL c signed by k to the PKI "maker"; the result into *r, its answer. */
static int
apply(struct fx *fx, const struct testca_crl *c, EVP_PKEY *k, struct pki_sync_result *r)
{
	struct store_pki *p = malloc(sizeof(*p));
	uint8_t *der;
	size_t len;
	int rc;

	assert_non_null(p);
	assert_int_equal(store_pki_get(fx->st, "maker", p), 0);
	der = testca_crl_der(ca, k, c, &len);
	memset(r, 0, sizeof(*r));
	rc = pki_sync_apply(NULL, fx->st, p, der, len, clock_now_ms(), "admin-key", r);
	free(der);
	free(p);
	return rc;
}

/* the PKI "maker", with the devices of the sync tests */
static int
sync_setup(void **state)
{
	struct store_pki *p;
	struct fx *fx;
	uint8_t *der;
	size_t len;
	int n;

	if (setup(state) != 0)
		return -1;
	fx = *state;
	p = calloc(1, sizeof(*p));
	der = testca_der(ca, &len);
	if (p == NULL || len > sizeof(p->ca))
		return -1;
	snprintf(p->name, sizeof(p->name), "maker");
	memcpy(p->ca, der, len);
	p->ca_len = len;
	free(der);
	snprintf(p->crl_url, sizeof(p->crl_url), "http://127.0.0.1:1/maker.crl");
	p->interval_s = 3600;
	p->created_at = 1;
	if (store_pki_add(fx->st, p) != 0)
		return -1;
	free(p);
	/* a and b enrolled with IDevIDs; c presented one but has no record; d is blocked */
	thing(fx, "dev-a", "A1");
	thing(fx, "dev-b", "B1");
	thing(fx, "dev-d", "D1");
	seen(fx, "dev-a", "0A");
	seen(fx, "dev-b", "0B");
	seen(fx, "dev-c", "0C");
	seen(fx, "dev-d", "0D");
	if (store_thing_block(fx->st, "dev-d", 9, &n) != 0)
		return -1;
	return 0;
}

static void
test_a_crl_blocks_the_devices_it_lists_once(void **state)
{
	static const char *const serials[] = { "0A", "0C", "0D", "0E" };
	struct testca_crl c = { .number = "10", .this_update = -60, .next_update = 3600,
		.serials = serials, .n = 4 };
	struct fx *fx = *state;
	struct store_cert cert;
	struct store_pki p;
	struct pki_sync_result r;

	assert_int_equal(apply(fx, &c, ca_key, &r), 0);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.crl_number, "10");
	assert_int_equal(r.entries, 4);
	assert_int_equal(r.listed, 3); /* a, c, d; 0E was never seen */
	assert_int_equal(r.blocked, 1);
	assert_int_equal(r.already, 1);
	assert_int_equal(r.unknown, 1);
	assert_int_equal(r.earlier, 0);
	assert_int_equal(r.revoked, 1); /* dev-a's certificate of ours */
	assert_int_equal(r.stale, 0);
	assert_true(blocked(fx, "dev-a"));
	assert_false(blocked(fx, "dev-b"));
	assert_int_equal(store_cert_get(fx->st, "A1", &cert), 0);
	assert_true(cert.revoked_at != 0);
	assert_int_equal(events_of(fx, "pki_revoked"), 1);
	assert_int_equal(events_of(fx, "cert_revoked"), 1);
	assert_int_equal(sql_rows_contain(fx->path, "SELECT detail FROM events WHERE kind ="
						    " 'pki_revoked'",
			     "dev-a"),
	    1);
	assert_int_equal(store_pki_get(fx->st, "maker", &p), 0);
	assert_string_equal(p.crl_number, "10");
	assert_int_equal(p.revoked, 4);
	assert_string_equal(p.last_error, "");
	/* the same CRL again: nothing blocked twice, no second event */
	assert_int_equal(apply(fx, &c, ca_key, &r), 0);
	assert_int_equal(r.listed, 3);
	assert_int_equal(r.blocked, 0);
	assert_int_equal(r.earlier, 2); /* a, d */
	assert_int_equal(r.unknown, 1); /* c, still without a record: left for later */
	assert_int_equal(events_of(fx, "pki_revoked"), 1);
	/* c enrols: the next sync blocks it */
	thing(fx, "dev-c", "C1");
	assert_int_equal(apply(fx, &c, ca_key, &r), 0);
	assert_int_equal(r.blocked, 1);
	assert_int_equal(r.unknown, 0);
	assert_true(blocked(fx, "dev-c"));
	assert_int_equal(events_of(fx, "pki_revoked"), 2);
	assert_int_equal(events_of(fx, "cert_revoked"), 2);
}

static void
test_an_operators_unblock_stands(void **state)
{
	static const char *const first[] = { "0A" }, *const second[] = { "0A", "0B" };
	struct testca_crl c = { .number = "10", .this_update = -60, .serials = first, .n = 1 };
	struct fx *fx = *state;
	struct pki_sync_result r;

	assert_int_equal(apply(fx, &c, ca_key, &r), 0);
	assert_true(blocked(fx, "dev-a"));
	assert_int_equal(store_thing_unblock(fx->st, "dev-a"), 0);
	/* a newer CRL that still lists a, and now b */
	c.number = "11";
	c.serials = second;
	c.n = 2;
	assert_int_equal(apply(fx, &c, ca_key, &r), 0);
	assert_int_equal(r.blocked, 1);
	assert_int_equal(r.earlier, 1);
	assert_false(blocked(fx, "dev-a"));
	assert_true(blocked(fx, "dev-b"));
}

static void
test_a_refused_crl_blocks_nothing_and_is_recorded(void **state)
{
	static const char *const serials[] = { "0A", "0B" };
	struct testca_crl c = { .number = "10", .this_update = -60, .serials = serials, .n = 1 };
	struct fx *fx = *state;
	struct pki_sync_result r;
	struct store_pki p;

	assert_int_equal(apply(fx, &c, ca_key, &r), 0);
	/* another key's, listing b too */
	c.number = "20";
	c.n = 2;
	assert_int_equal(apply(fx, &c, other_key, &r), ZTP_EAUTH);
	assert_int_equal(r.rc, ZTP_EAUTH);
	assert_non_null(strstr(r.error, "signature"));
	assert_false(blocked(fx, "dev-b"));
	assert_int_equal(store_pki_get(fx->st, "maker", &p), 0);
	assert_non_null(strstr(p.last_error, "signature"));
	assert_string_equal(p.crl_number, "10"); /* the last one accepted stays */
	/* an older one (the CA's own), listing b */
	c.number = "0F";
	assert_int_equal(apply(fx, &c, ca_key, &r), ZTP_ECONFLICT);
	assert_non_null(strstr(r.error, "older"));
	assert_false(blocked(fx, "dev-b"));
	assert_int_equal(store_pki_get(fx->st, "maker", &p), 0);
	assert_non_null(strstr(p.last_error, "older"));
	assert_int_equal(events_of(fx, "pki_revoked"), 1);
	/* a good one clears the error */
	c.number = "21";
	assert_int_equal(apply(fx, &c, ca_key, &r), 0);
	assert_true(blocked(fx, "dev-b"));
	assert_int_equal(store_pki_get(fx->st, "maker", &p), 0);
	assert_string_equal(p.last_error, "");
}

static void
test_a_stale_crl_is_applied_and_said_so(void **state)
{
	static const char *const serials[] = { "0B" };
	struct testca_crl c = { .number = "5", .this_update = -7200, .next_update = -3600,
		.serials = serials, .n = 1 };
	struct fx *fx = *state;
	struct pki_sync_result r;

	assert_int_equal(apply(fx, &c, ca_key, &r), 0);
	assert_int_equal(r.stale, 1);
	assert_true(blocked(fx, "dev-b"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_crl_check_takes_the_cas_crl_der_or_pem, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crl_check_refuses_another_signer_or_issuer,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_crl_check_refuses_kinds_of_crl_it_does_not_handle,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_crl_check_refuses_malformed_bytes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cert_seen_records_issuer_and_serial, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_a_crl_blocks_the_devices_it_lists_once,
		    sync_setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_operators_unblock_stands, sync_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_a_refused_crl_blocks_nothing_and_is_recorded,
		    sync_setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_stale_crl_is_applied_and_said_so, sync_setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
