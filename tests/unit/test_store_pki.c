/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Foreign PKIs in the store (store_pki.c), on a real SQLite file or with
 * ZTP_TEST_PG on a fresh PostgreSQL database per test (store_fixture.h):
 * PKIs added, read, listed, deleted; a due fetch taken once; a CRL never
 * accepted older than the last one; certificates seen, found by a CRL's
 * serials, acted on once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "store.h"
#include "ztp/err.h"

#include "store_fixture.h"

static const uint8_t key[CRYPTO_KEY_LEN] = { 9 };
static const char issuer_a[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
static const char issuer_b[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

static int
setup(void **state)
{
	log_init("test", LOG_FORMAT_TEXT, LOG_LEVEL_WARN + 1);
	return fixture_setup(state, key);
}

/* A PKI named name (heap: the caller frees it). */
static struct store_pki *
pki_of(const char *name, int64_t interval)
{
	struct store_pki *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	snprintf(p->name, sizeof(p->name), "%s", name);
	memset(p->ca, 0x30, 300);
	p->ca_len = 300;
	snprintf(p->crl_url, sizeof(p->crl_url), "http://127.0.0.1:8080/%s.crl", name);
	p->interval_s = interval;
	p->created_at = 1000;
	return p;
}

static int
names_cb(const struct store_pki *p, void *arg)
{
	char *out = arg;

	strcat(out, p->name);
	strcat(out, ",");
	return 0;
}

static int
stop_cb(const struct store_pki *p, void *arg)
{
	(*(int *)arg)++;
	return 1;
}

static void
test_pki_add_get_list_delete(void **state)
{
	struct fx *fx = *state;
	struct store_pki *p = pki_of("maker-b", 3600), *got = calloc(1, sizeof(*got));
	char names[64] = "";
	int n = 0;

	assert_int_equal(store_pki_add(fx->st, p), 0);
	assert_int_equal(store_pki_add(fx->st, p), ZTP_EEXIST);
	snprintf(p->name, sizeof(p->name), "maker-a");
	assert_int_equal(store_pki_add(fx->st, p), 0);
	assert_int_equal(store_pki_get(fx->st, "maker-b", got), 0);
	assert_string_equal(got->name, "maker-b");
	assert_int_equal(got->ca_len, 300);
	assert_int_equal(got->ca[299], 0x30);
	assert_string_equal(got->crl_url, "http://127.0.0.1:8080/maker-b.crl");
	assert_int_equal(got->interval_s, 3600);
	assert_int_equal(got->created_at, 1000);
	/* never fetched */
	assert_int_equal(got->last_fetch_at, 0);
	assert_int_equal(got->last_ok_at, 0);
	assert_string_equal(got->last_error, "");
	assert_string_equal(got->crl_number, "");
	assert_int_equal(got->revoked, 0);
	assert_int_equal(store_pki_list(fx->st, names_cb, names), 0);
	assert_string_equal(names, "maker-a,maker-b,");
	assert_int_equal(store_pki_list(fx->st, stop_cb, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_pki_delete(fx->st, "maker-a"), 0);
	assert_int_equal(store_pki_delete(fx->st, "maker-a"), ZTP_ENOENT);
	assert_int_equal(store_pki_get(fx->st, "maker-a", got), ZTP_ENOENT);
	free(p);
	free(got);
}

static void
test_pki_add_refuses_values_out_of_bounds(void **state)
{
	struct fx *fx = *state;
	struct store_pki *p = pki_of("x", STORE_PKI_INTERVAL_MIN - 1);

	assert_int_equal(store_pki_add(fx->st, p), ZTP_EINVAL);
	p->interval_s = STORE_PKI_INTERVAL_MAX + 1;
	assert_int_equal(store_pki_add(fx->st, p), ZTP_EINVAL);
	p->interval_s = STORE_PKI_INTERVAL_MIN;
	snprintf(p->name, sizeof(p->name), "bad name");
	assert_int_equal(store_pki_add(fx->st, p), ZTP_EINVAL);
	snprintf(p->name, sizeof(p->name), "x");
	p->ca_len = 0;
	assert_int_equal(store_pki_add(fx->st, p), ZTP_EINVAL);
	p->ca_len = 300;
	p->crl_url[0] = '\0';
	assert_int_equal(store_pki_add(fx->st, p), ZTP_EINVAL);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM pkis", NULL), 0);
	free(p);
}

static void
test_a_due_fetch_is_taken_once(void **state)
{
	struct fx *fx = *state;
	struct store_pki *p = pki_of("maker", 60);
	int claimed = -1;

	assert_int_equal(store_pki_add(fx->st, p), 0);
	/* never fetched: due */
	assert_int_equal(store_pki_fetch_begin(fx->st, "maker", 100000, 0, &claimed), 0);
	assert_int_equal(claimed, 1);
	/* taken: not due again until its interval passed */
	assert_int_equal(store_pki_fetch_begin(fx->st, "maker", 100000, 0, &claimed), 0);
	assert_int_equal(claimed, 0);
	assert_int_equal(store_pki_fetch_begin(fx->st, "maker", 159999, 0, &claimed), 0);
	assert_int_equal(claimed, 0);
	assert_int_equal(store_pki_fetch_begin(fx->st, "maker", 160000, 0, &claimed), 0);
	assert_int_equal(claimed, 1);
	/* forced: whenever */
	assert_int_equal(store_pki_fetch_begin(fx->st, "maker", 160001, 1, &claimed), 0);
	assert_int_equal(claimed, 1);
	assert_int_equal(store_pki_get(fx->st, "maker", p), 0);
	assert_int_equal(p->last_fetch_at, 160001);
	assert_int_equal(store_pki_due_at(p), 160001 + 60000);
	assert_int_equal(store_pki_fetch_begin(fx->st, "other", 1, 1, &claimed), ZTP_ENOENT);
	assert_int_equal(claimed, 0);
	free(p);
}

static void
test_a_failed_fetch_is_tried_again_sooner(void **state)
{
	struct fx *fx = *state;
	struct store_pki *p = pki_of("maker", 3600);
	int64_t t = 1000000;
	char why[128];
	int claimed = -1;

	assert_int_equal(store_pki_add(fx->st, p), 0);
	assert_int_equal(store_pki_get(fx->st, "maker", p), 0);
	assert_int_equal(store_pki_due_at(p), 0);
	assert_int_equal(store_pki_fetch_begin(fx->st, "maker", t, 0, &claimed), 0);
	assert_int_equal(claimed, 1);
	assert_int_equal(store_pki_fetch_failed(fx->st, "maker", "HTTP 503"), 0);
	assert_int_equal(store_pki_get(fx->st, "maker", p), 0);
	assert_int_equal(store_pki_due_at(p), t + STORE_PKI_RETRY_S * 1000);
	assert_int_equal(store_pki_fetch_begin(fx->st, "maker", t + STORE_PKI_RETRY_S * 1000 - 1, 0,
			     &claimed),
	    0);
	assert_int_equal(claimed, 0);
	t += STORE_PKI_RETRY_S * 1000;
	assert_int_equal(store_pki_fetch_begin(fx->st, "maker", t, 0, &claimed), 0);
	assert_int_equal(claimed, 1);
	/* accepted: the whole interval again */
	assert_int_equal(store_pki_accept(fx->st, "maker", t, "1", 1, 0, why, sizeof(why)), 0);
	assert_int_equal(store_pki_get(fx->st, "maker", p), 0);
	assert_int_equal(store_pki_due_at(p), t + 3600 * 1000);
	assert_int_equal(store_pki_fetch_begin(fx->st, "maker", t + STORE_PKI_RETRY_S * 1000, 0,
			     &claimed),
	    0);
	assert_int_equal(claimed, 0);
	/* an interval shorter than the retry: the interval */
	p->interval_s = 60;
	snprintf(p->name, sizeof(p->name), "quick");
	p->last_fetch_at = 5000;
	snprintf(p->last_error, sizeof(p->last_error), "x");
	assert_int_equal(store_pki_due_at(p), 5000 + 60000);
	free(p);
}

static void
test_failure_recorded_then_cleared_by_an_accepted_crl(void **state)
{
	struct fx *fx = *state;
	struct store_pki *p = pki_of("maker", 60);
	char why[128];

	assert_int_equal(store_pki_add(fx->st, p), 0);
	assert_int_equal(store_pki_fetch_failed(fx->st, "maker", "HTTP 404"), 0);
	assert_int_equal(store_pki_get(fx->st, "maker", p), 0);
	assert_string_equal(p->last_error, "HTTP 404");
	assert_int_equal(p->last_ok_at, 0);
	/* never "": that is what an accepted fetch leaves; bytes not UTF-8 are replaced */
	assert_int_equal(store_pki_fetch_failed(fx->st, "maker", ""), 0);
	assert_int_equal(store_pki_get(fx->st, "maker", p), 0);
	assert_string_equal(p->last_error, "failed");
	assert_int_equal(store_pki_fetch_failed(fx->st, "maker", "bad \xff byte"), 0);
	assert_int_equal(store_pki_get(fx->st, "maker", p), 0);
	assert_string_equal(p->last_error, "bad ? byte");
	assert_int_equal(store_pki_fetch_failed(fx->st, "other", "x"), ZTP_ENOENT);
	assert_int_equal(store_pki_accept(fx->st, "maker", 5000, "1A", 1700000000, 3, why,
			     sizeof(why)),
	    0);
	assert_int_equal(store_pki_get(fx->st, "maker", p), 0);
	assert_string_equal(p->last_error, "");
	assert_int_equal(p->last_ok_at, 5000);
	assert_string_equal(p->crl_number, "1A");
	assert_int_equal(p->crl_this_update, 1700000000);
	assert_int_equal(p->revoked, 3);
	free(p);
}

/* store_pki_accept at now with number and this_update; its answer. */
static int
accept_crl(struct fx *fx, int64_t now, const char *number, int64_t this_update, char *why)
{
	return store_pki_accept(fx->st, "maker", now, number, this_update, 1, why, 128);
}

static void
test_an_older_crl_is_refused(void **state)
{
	struct fx *fx = *state;
	struct store_pki *p = pki_of("maker", 60);
	char why[128];

	assert_int_equal(store_pki_add(fx->st, p), 0);
	assert_int_equal(accept_crl(fx, 1, "FF", 1000, why), 0);
	/* the same CRL again: taken */
	assert_int_equal(accept_crl(fx, 2, "FF", 1000, why), 0);
	assert_int_equal(accept_crl(fx, 3, "00FF", 1000, why), 0);
	/* a lower number, whatever its length or leading zeros */
	assert_int_equal(accept_crl(fx, 4, "FE", 2000, why), ZTP_ECONFLICT);
	assert_non_null(strstr(why, "below"));
	assert_int_equal(accept_crl(fx, 4, "0F", 2000, why), ZTP_ECONFLICT);
	/* no number where the last one had one */
	assert_int_equal(accept_crl(fx, 4, "", 2000, why), ZTP_ECONFLICT);
	assert_non_null(strstr(why, "no crlNumber"));
	/* a higher number, but an earlier thisUpdate */
	assert_int_equal(accept_crl(fx, 4, "100", 999, why), ZTP_ECONFLICT);
	assert_non_null(strstr(why, "thisUpdate"));
	/* nothing of those changed the row */
	assert_int_equal(store_pki_get(fx->st, "maker", p), 0);
	assert_int_equal(p->last_ok_at, 3);
	assert_string_equal(p->crl_number, "00FF");
	assert_int_equal(p->crl_this_update, 1000);
	/* newer: "100" is above "FF" */
	assert_int_equal(accept_crl(fx, 5, "100", 1000, why), 0);
	assert_int_equal(accept_crl(fx, 6, "100", 1001, why), 0);
	/* out of bounds */
	assert_int_equal(accept_crl(fx, 7, "fff", 1001, why), ZTP_EINVAL);
	assert_int_equal(accept_crl(fx, 7, "10000000000000000000000000000000000000000", 1001,
			     why),
	    ZTP_EINVAL);
	assert_int_equal(store_pki_accept(fx->st, "other", 1, "1", 1, 1, why, sizeof(why)),
	    ZTP_ENOENT);
	free(p);
}

static void
test_crls_without_numbers_go_by_this_update(void **state)
{
	struct fx *fx = *state;
	struct store_pki *p = pki_of("maker", 60);
	char why[128];

	assert_int_equal(store_pki_add(fx->st, p), 0);
	assert_int_equal(accept_crl(fx, 1, "", 1000, why), 0);
	assert_int_equal(accept_crl(fx, 2, "", 999, why), ZTP_ECONFLICT);
	assert_int_equal(accept_crl(fx, 3, "", 1000, why), 0);
	/* a number where there was none: taken */
	assert_int_equal(accept_crl(fx, 4, "1", 1000, why), 0);
	assert_int_equal(store_pki_get(fx->st, "maker", p), 0);
	assert_string_equal(p->crl_number, "1");
	free(p);
}

static void
test_seen_certificate_is_upserted_and_keeps_its_mark(void **state)
{
	struct fx *fx = *state;
	struct store_foreign_cert fc;

	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a, "0A1B", "dev-1", "idevid", 10),
	    0);
	assert_int_equal(store_foreign_cert_get(fx->st, issuer_a, "0A1B", &fc), 0);
	assert_string_equal(fc.udid, "dev-1");
	assert_string_equal(fc.kind, "idevid");
	assert_int_equal(fc.seen_at, 10);
	assert_int_equal(fc.blocked_at, 0);
	assert_int_equal(store_foreign_cert_mark(fx->st, issuer_a, "0A1B", 15), 0);
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a, "0A1B", "dev-1", "ldevid", 20),
	    0);
	assert_int_equal(store_foreign_cert_get(fx->st, issuer_a, "0A1B", &fc), 0);
	assert_string_equal(fc.kind, "ldevid");
	assert_int_equal(fc.seen_at, 20);
	assert_int_equal(fc.blocked_at, 15);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM foreign_certs", NULL), 1);
	/* the same serial from another issuer is another certificate */
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_b, "0A1B", "dev-2", "idevid", 30),
	    0);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM foreign_certs", NULL), 2);
	assert_int_equal(store_foreign_cert_get(fx->st, issuer_b, "0B1B", &fc), ZTP_ENOENT);
}

static void
test_seen_certificate_refuses_malformed_values(void **state)
{
	struct fx *fx = *state;
	char upper[sizeof(issuer_a)];
	size_t i;

	for (i = 0; issuer_a[i] != '\0'; i++)
		upper[i] = issuer_a[i] >= 'a' ? (char)(issuer_a[i] - 'a' + 'A') : issuer_a[i];
	upper[i] = '\0';
	assert_int_equal(store_foreign_cert_seen(fx->st, upper, "0A", "d", "idevid", 1), ZTP_EINVAL);
	assert_int_equal(store_foreign_cert_seen(fx->st, "abcd", "0A", "d", "idevid", 1), ZTP_EINVAL);
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a, "0a", "d", "idevid", 1),
	    ZTP_EINVAL);
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a, "A", "d", "idevid", 1),
	    ZTP_EINVAL);
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a, "", "d", "idevid", 1), ZTP_EINVAL);
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a,
			     "0102030405060708090A0B0C0D0E0F101112131415", "d", "idevid", 1),
	    ZTP_EINVAL);
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a, "0A", "bad udid", "idevid", 1),
	    ZTP_EINVAL);
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a, "0A", "d", "IDevID", 1),
	    ZTP_EINVAL);
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a, "0A", "d", "", 1), ZTP_EINVAL);
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a, "0A", "d",
			     "a-kind-over-16-chars", 1),
	    ZTP_EINVAL);
	/* 20 bytes: the longest serial */
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a,
			     "0102030405060708090A0B0C0D0E0F1011121314", "d", "idevid", 1),
	    0);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM foreign_certs", NULL), 1);
}

struct found {
	char serials[512];
	int n, stop_after;
};

static int
found_cb(const struct store_foreign_cert *fc, void *arg)
{
	struct found *f = arg;

	f->n++;
	strcat(f->serials, fc->serial);
	strcat(f->serials, ",");
	return f->stop_after != 0 && f->n >= f->stop_after ? 1 : 0;
}

static void
test_listed_finds_the_seen_serials_of_one_issuer_across_chunks(void **state)
{
	struct fx *fx = *state;
	enum { N = 3 * STORE_FOREIGN_CHUNK + 5 };
	static char serials[N][8];
	const char *ptrs[N];
	struct found f = { 0 };
	size_t i;

	for (i = 0; i < N; i++) {
		snprintf(serials[i], sizeof(serials[i]), "%04X", (unsigned)i + 1);
		ptrs[i] = serials[i];
	}
	/* seen: one in the first chunk, one in the third, one in the last; one of another issuer */
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a, "0002", "a", "idevid", 1), 0);
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a, "0083", "b", "idevid", 1), 0);
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a, "00C5", "c", "idevid", 1), 0);
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_b, "0003", "d", "idevid", 1), 0);
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a, "FFFF", "e", "idevid", 1), 0);
	/* a serial the store could not hold matches nothing, and is no error */
	ptrs[7] = "not hex";
	assert_int_equal(store_foreign_cert_listed(fx->st, issuer_a, ptrs, N, found_cb, &f), 0);
	assert_int_equal(f.n, 3);
	assert_non_null(strstr(f.serials, "0002,"));
	assert_non_null(strstr(f.serials, "0083,"));
	assert_non_null(strstr(f.serials, "00C5,"));
	/* a callback's stop */
	memset(&f, 0, sizeof(f));
	f.stop_after = 1;
	assert_int_equal(store_foreign_cert_listed(fx->st, issuer_a, ptrs, N, found_cb, &f), 0);
	assert_int_equal(f.n, 1);
	memset(&f, 0, sizeof(f));
	assert_int_equal(store_foreign_cert_listed(fx->st, issuer_a, ptrs, 0, found_cb, &f), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(store_foreign_cert_listed(fx->st, "nope", ptrs, N, found_cb, &f),
	    ZTP_EINVAL);
}

static void
test_a_certificate_is_acted_on_once(void **state)
{
	struct fx *fx = *state;
	struct store_foreign_cert fc;

	assert_int_equal(store_foreign_cert_mark(fx->st, issuer_a, "0A", 5), ZTP_ENOENT);
	assert_int_equal(store_foreign_cert_seen(fx->st, issuer_a, "0A", "a", "idevid", 1), 0);
	assert_int_equal(store_foreign_cert_mark(fx->st, issuer_a, "0A", 5), 0);
	assert_int_equal(store_foreign_cert_mark(fx->st, issuer_a, "0A", 6), ZTP_EEXIST);
	assert_int_equal(store_foreign_cert_get(fx->st, issuer_a, "0A", &fc), 0);
	assert_int_equal(fc.blocked_at, 5);
	/* let go: taken again */
	assert_int_equal(store_foreign_cert_mark(fx->st, issuer_a, "0A", 0), 0);
	assert_int_equal(store_foreign_cert_mark(fx->st, issuer_a, "0A", 0), 0);
	assert_int_equal(store_foreign_cert_mark(fx->st, issuer_a, "0A", 7), 0);
	assert_int_equal(store_foreign_cert_get(fx->st, issuer_a, "0A", &fc), 0);
	assert_int_equal(fc.blocked_at, 7);
	assert_int_equal(store_foreign_cert_mark(fx->st, issuer_a, "0A", -1), ZTP_EINVAL);
	assert_int_equal(store_foreign_cert_mark(fx->st, issuer_b, "0A", 0), ZTP_ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pki_add_get_list_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_add_refuses_values_out_of_bounds, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_a_due_fetch_is_taken_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_failed_fetch_is_tried_again_sooner, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failure_recorded_then_cleared_by_an_accepted_crl,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_older_crl_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crls_without_numbers_go_by_this_update, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_seen_certificate_is_upserted_and_keeps_its_mark,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_seen_certificate_refuses_malformed_values, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_listed_finds_the_seen_serials_of_one_issuer_across_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_certificate_is_acted_on_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
