/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's certificate tables (schema 4 and later), on a real SQLite
 * file in a fresh temporary directory per test, or with ZTP_TEST_PG on a
 * fresh PostgreSQL database per test (store_fixture.h): allowlist and its
 * import, one-time enrolment passwords, manufacturer CAs, devices
 * ("things") and their blocking, issued certificates and revocations, the
 * CRL, and the groups' certificate policy.
 */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
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

#include "clock.h"
#include "log.h"
#include "signer_msg.h"
#include "store.h"
#include "ztp/err.h"

#define ICCID_A "8944502509186389635"
#define ICCID_B "8944502509186389643"
#define UDID_1 "dev-1"
#define UDID_2 "dev-2"
#define HOUR_MS (3600 * 1000)

static const uint8_t data_key[CRYPTO_KEY_LEN] = { 0x33, 0x01, 0x02, 0x03 };
static const uint8_t psk16[16] = { 0xA5, 0x5A, 0xA5, 0x5A, 0xA5, 0x5A, 0xA5, 0x5A, 0xA5, 0x5A,
	0xA5, 0x5A, 0xA5, 0x5A, 0xA5, 0x5A };

#include "store_fixture.h"

static int
setup(void **state)
{
	return fixture_setup(state, data_key);
}







static void
add_group(struct fx *fx, const char *name)
{
	struct store_group g;

	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "%s", name);
	assert_int_equal(store_group_create(fx->st, &g, NULL), 0);
}

static void
add_sim(struct fx *fx, const char *iccid)
{
	assert_int_equal(store_sim_create(fx->st, iccid, psk16, sizeof(psk16), NULL), 0);
}

static int
sim_blocked(struct fx *fx, const char *iccid)
{
	struct store_sim sim;

	assert_int_equal(store_sim_get(fx->st, iccid, &sim), 0);
	return sim.blocked;
}

static struct store_allow
allow(const char *udid, uint8_t keybyte, const char *group, const char *iccid)
{
	struct store_allow a;

	memset(&a, 0, sizeof(a));
	snprintf(a.udid, sizeof(a.udid), "%s", udid);
	memset(a.key_sha256, keybyte, sizeof(a.key_sha256));
	snprintf(a.group, sizeof(a.group), "%s", group);
	snprintf(a.iccid, sizeof(a.iccid), "%s", iccid);
	return a;
}

static void
add_allow(struct fx *fx, const char *udid, const char *group, const char *iccid)
{
	struct store_allow a = allow(udid, 0x11, group, iccid);

	assert_int_equal(store_allow_add(fx->st, &a), 0);
}

static struct store_cert
cert(const char *serial, const char *udid, int64_t not_after)
{
	struct store_cert c;

	memset(&c, 0, sizeof(c));
	snprintf(c.serial, sizeof(c.serial), "%s", serial);
	snprintf(c.udid, sizeof(c.udid), "%s", udid);
	snprintf(c.subject, sizeof(c.subject), "serialNumber=%s,CN=device", udid);
	memset(c.key_sha256, 0x42, sizeof(c.key_sha256));
	c.not_before = 1700000000;
	c.not_after = not_after;
	snprintf(c.method, sizeof(c.method), "allowlist");
	return c;
}

/* Record a certificate of udid (far from expiry), no password. */
static void
record(struct fx *fx, const char *serial, const char *udid, const char *group)
{
	struct store_cert c = cert(serial, udid, 4000000000);

	assert_int_equal(store_cert_record(fx->st, &c, group, 0), 0);
}

static int64_t
revocations(struct fx *fx)
{
	int64_t n = -1;

	assert_int_equal(store_crl_revocations(fx->st, &n), 0);
	return n;
}

static int64_t
mfr_generation(struct fx *fx)
{
	int64_t n = -1;

	assert_int_equal(store_mfr_ca_generation(fx->st, &n), 0);
	return n;
}

static int64_t
password_used_at(struct fx *fx, int64_t id)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "SELECT used_at FROM enrol_passwords WHERE id = %lld",
	    (long long)id);
	return sql_int(fx->path, sql, NULL);
}

/* What a list callback saw: names (UDIDs, serials, CA names) in order. */
struct seen {
	int n;
	char v[16][STORE_UDID_MAX + 1];
	int64_t certs[16];
	int reason[16];
};

static void
seen_add(struct seen *s, const char *name)
{
	assert_true(s->n < 16);
	snprintf(s->v[s->n++], sizeof(s->v[0]), "%s", name);
}

static int
on_allow(const struct store_allow *a, void *arg)
{
	seen_add(arg, a->udid);
	return 0;
}

static int
on_thing(const struct store_thing *t, void *arg)
{
	struct seen *s = arg;

	s->certs[s->n] = t->certs;
	seen_add(s, t->udid);
	return 0;
}

static int
on_cert(const struct store_cert *c, void *arg)
{
	struct seen *s = arg;

	s->reason[s->n] = c->reason;
	seen_add(s, c->serial);
	return 0;
}

static int
on_mfr(const struct store_mfr_ca *ca, void *arg)
{
	seen_add(arg, ca->name);
	return 0;
}

/* ---- the schema ---- */

#define CERT_TABLES "('allowlist', 'enrol_passwords', 'mfr_cas', 'things', 'certs', 'counters', 'crl')"
#define GROUP_EST_COLUMNS "('est_auth', 'cert_days', 'reenroll_grace_s')"
#define PG_USER_SCHEMA "table_schema NOT IN ('pg_catalog', 'information_schema')"

static void
test_fresh_open_has_all_certificate_tables(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_schema_version(fx->st), fixture_schema_target(fx->st));
	if (fixture_pg()) {
		assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM information_schema.tables"
						   " WHERE " PG_USER_SCHEMA " AND table_name IN " CERT_TABLES,
				     NULL),
		    7);
		assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM information_schema.columns"
						   " WHERE " PG_USER_SCHEMA " AND table_name = 'groups'"
						   " AND column_name IN " GROUP_EST_COLUMNS,
				     NULL),
		    3);
	} else {
		assert_int_equal(sql_int(fx->path, "PRAGMA user_version", NULL), STORE_SCHEMA_VERSION);
		assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sqlite_master WHERE"
						   " type = 'table' AND name IN " CERT_TABLES,
				     NULL),
		    7);
		assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM pragma_table_info('groups')"
						   " WHERE name IN " GROUP_EST_COLUMNS,
				     NULL),
		    3);
	}
	/* the counters start at 0 */
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM counters WHERE value = 0"
					   " AND name IN ('revocations', 'crl_number', 'mfr_cas')",
			     NULL),
	    3);
}

static void
test_reopen_keeps_the_certificate_tables(void **state)
{
	struct fx *fx = *state;
	struct store_allow a;
	struct store_cert c;

	add_allow(fx, UDID_1, "", "");
	record(fx, "1a", UDID_1, NULL);
	close_store(fx);
	assert_int_equal(store_open(&fx->st, fx->path, data_key), 0);
	assert_int_equal(store_schema_version(fx->st), fixture_schema_target(fx->st));
	assert_int_equal(store_allow_get(fx->st, UDID_1, &a), 0);
	assert_int_equal(store_cert_get(fx->st, "1a", &c), 0);
	assert_string_equal(c.udid, UDID_1);
}

/* ---- UDIDs ---- */

static void
test_udid_valid_accepts_letters_digits_and_four_marks(void **state)
{
	assert_true(store_udid_valid("a"));
	assert_true(store_udid_valid("AZaz09-.:_"));
	assert_true(store_udid_valid("B58D51C5504D5257352E3120FF0D1338"));
	assert_true(store_udid_valid("urn:dev:mac:00-11-22-33-44-55"));
}

static void
test_udid_valid_refuses_other_characters(void **state)
{
	static const char *const bad[] = { "a b", "a/b", "a+b", "a@b", "a,b", "a=b", "a%b",
		"a\tb", "a\"b", "a\\b", "caf\xc3\xa9", "a?b", "a#b" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(store_udid_valid(bad[i]));
}

static void
test_udid_of_64_characters_is_valid_65_is_not(void **state)
{
	char u[STORE_UDID_MAX + 2];

	memset(u, 'x', STORE_UDID_MAX);
	u[STORE_UDID_MAX] = '\0';
	assert_true(store_udid_valid(u));
	u[STORE_UDID_MAX] = 'x';
	u[STORE_UDID_MAX + 1] = '\0';
	assert_false(store_udid_valid(u));
}

static void
test_udid_empty_or_null_is_invalid(void **state)
{
	assert_false(store_udid_valid(""));
	assert_false(store_udid_valid(NULL));
}

/* ---- the allowlist ---- */

static void
test_allow_add_then_get(void **state)
{
	struct fx *fx = *state;
	struct store_allow a = allow(UDID_1, 0x11, "g1", ICCID_A), out;
	int64_t before = clock_now_ms();

	add_group(fx, "g1");
	assert_int_equal(store_allow_add(fx->st, &a), 0);
	assert_int_equal(store_allow_get(fx->st, UDID_1, &out), 0);
	assert_string_equal(out.udid, UDID_1);
	assert_memory_equal(out.key_sha256, a.key_sha256, 32);
	assert_string_equal(out.group, "g1");
	assert_string_equal(out.iccid, ICCID_A);
	assert_true(out.created_at >= before && out.created_at <= clock_now_ms());
}

static void
test_allow_add_without_group_and_iccid(void **state)
{
	struct fx *fx = *state;
	struct store_allow out;

	add_allow(fx, UDID_1, "", "");
	assert_int_equal(store_allow_get(fx->st, UDID_1, &out), 0);
	assert_string_equal(out.group, "");
	assert_string_equal(out.iccid, "");
}

static void
test_allow_add_of_the_same_entry_again_is_ok_and_unchanged(void **state)
{
	struct fx *fx = *state;
	struct store_allow a = allow(UDID_1, 0x11, "", ICCID_A), first, again;

	assert_int_equal(store_allow_add(fx->st, &a), 0);
	assert_int_equal(store_allow_get(fx->st, UDID_1, &first), 0);
	sleep_ms(3);
	assert_int_equal(store_allow_add(fx->st, &a), 0);
	assert_int_equal(store_allow_get(fx->st, UDID_1, &again), 0);
	assert_int_equal(again.created_at, first.created_at);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM allowlist", NULL), 1);
}

static void
test_allow_add_of_another_key_is_exist_and_keeps_the_old(void **state)
{
	struct fx *fx = *state;
	struct store_allow a = allow(UDID_1, 0x11, "", ""), b = allow(UDID_1, 0x22, "", ""), out;

	assert_int_equal(store_allow_add(fx->st, &a), 0);
	assert_int_equal(store_allow_add(fx->st, &b), ZTP_EEXIST);
	assert_int_equal(store_allow_get(fx->st, UDID_1, &out), 0);
	assert_memory_equal(out.key_sha256, a.key_sha256, 32);
}

static void
test_allow_add_of_another_group_is_exist_and_keeps_the_old(void **state)
{
	struct fx *fx = *state;
	struct store_allow a = allow(UDID_1, 0x11, "g1", ""), b = allow(UDID_1, 0x11, "g2", "");
	struct store_allow c = allow(UDID_1, 0x11, "", ""), out;

	add_group(fx, "g1");
	add_group(fx, "g2");
	assert_int_equal(store_allow_add(fx->st, &a), 0);
	assert_int_equal(store_allow_add(fx->st, &b), ZTP_EEXIST);
	assert_int_equal(store_allow_add(fx->st, &c), ZTP_EEXIST);
	assert_int_equal(store_allow_get(fx->st, UDID_1, &out), 0);
	assert_string_equal(out.group, "g1");
}

static void
test_allow_add_of_another_iccid_is_exist_and_keeps_the_old(void **state)
{
	struct fx *fx = *state;
	struct store_allow a = allow(UDID_1, 0x11, "", ICCID_A), b = allow(UDID_1, 0x11, "", ICCID_B);
	struct store_allow c = allow(UDID_1, 0x11, "", ""), out;

	assert_int_equal(store_allow_add(fx->st, &a), 0);
	assert_int_equal(store_allow_add(fx->st, &b), ZTP_EEXIST);
	assert_int_equal(store_allow_add(fx->st, &c), ZTP_EEXIST);
	assert_int_equal(store_allow_get(fx->st, UDID_1, &out), 0);
	assert_string_equal(out.iccid, ICCID_A);
}

static void
test_allow_add_with_an_unknown_group_is_noent(void **state)
{
	struct fx *fx = *state;
	struct store_allow a = allow(UDID_1, 0x11, "nope", ""), out;

	assert_int_equal(store_allow_add(fx->st, &a), ZTP_ENOENT);
	assert_int_equal(store_allow_get(fx->st, UDID_1, &out), ZTP_ENOENT);
}

static void
test_allow_add_of_an_invalid_udid_or_iccid_is_inval(void **state)
{
	struct fx *fx = *state;
	struct store_allow a = allow("has space", 0x11, "", ""), out;

	assert_int_equal(store_allow_add(fx->st, &a), ZTP_EINVAL);
	a = allow("", 0x11, "", "");
	assert_int_equal(store_allow_add(fx->st, &a), ZTP_EINVAL);
	a = allow(UDID_1, 0x11, "", "89445025091863896"); /* 17 digits */
	assert_int_equal(store_allow_add(fx->st, &a), ZTP_EINVAL);
	a = allow(UDID_1, 0x11, "", "894450250918638963x");
	assert_int_equal(store_allow_add(fx->st, &a), ZTP_EINVAL);
	a = allow(UDID_1, 0x11, "bad group", "");
	assert_int_equal(store_allow_add(fx->st, &a), ZTP_EINVAL);
	assert_int_equal(store_allow_get(fx->st, UDID_1, &out), ZTP_ENOENT);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM allowlist", NULL), 0);
}

static void
test_allow_get_of_unknown_udid_is_noent(void **state)
{
	struct fx *fx = *state;
	struct store_allow out;

	assert_int_equal(store_allow_get(fx->st, UDID_1, &out), ZTP_ENOENT);
}

static void
test_allow_delete_then_get_is_noent(void **state)
{
	struct fx *fx = *state;
	struct store_allow out;

	add_allow(fx, UDID_1, "", "");
	add_allow(fx, UDID_2, "", "");
	assert_int_equal(store_allow_delete(fx->st, UDID_1), 0);
	assert_int_equal(store_allow_get(fx->st, UDID_1, &out), ZTP_ENOENT);
	assert_int_equal(store_allow_delete(fx->st, UDID_1), ZTP_ENOENT);
	assert_int_equal(store_allow_get(fx->st, UDID_2, &out), 0);
}

static void
test_allow_delete_of_unknown_udid_is_noent(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_allow_delete(fx->st, UDID_1), ZTP_ENOENT);
}

static void
test_allow_list_pages_with_after_and_limit(void **state)
{
	struct fx *fx = *state;
	struct seen s;

	add_allow(fx, "u3", "", "");
	add_allow(fx, "u1", "", "");
	add_allow(fx, "u5", "", "");
	add_allow(fx, "u2", "", "");
	add_allow(fx, "u4", "", "");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_allow_list(fx->st, "", 2, on_allow, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0], "u1");
	assert_string_equal(s.v[1], "u2");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_allow_list(fx->st, "u2", 2, on_allow, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0], "u3");
	assert_string_equal(s.v[1], "u4");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_allow_list(fx->st, "u4", 2, on_allow, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "u5");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_allow_list(fx->st, NULL, 10, on_allow, &s), 0);
	assert_int_equal(s.n, 5);
}

/* The import batch of the two import tests, over group g1 and a pre-added "pre". */
static void
import_rows(struct store_allow_row rows[7])
{
	memset(rows, 0, 7 * sizeof(rows[0]));
	rows[0].a = allow("imp-a", 0x01, "g1", ICCID_A);                 /* added */
	rows[1].a = allow("imp-x", 0x02, "", "");
	snprintf(rows[1].invalid, sizeof(rows[1].invalid), "bad public key");
	rows[2].a = allow("imp y", 0x03, "", "");                        /* invalid UDID */
	rows[3].a = allow("imp-z", 0x04, "nope", "");                    /* no such group */
	rows[4].a = allow("imp-a", 0x05, "g1", ICCID_A);                 /* another key */
	rows[5].a = allow("imp-b", 0x06, "", "");                        /* added */
	rows[6].a = allow("pre", 0x07, "", "");                          /* unchanged */
}

static void
test_allow_import_adds_keeps_and_refuses_with_reasons(void **state)
{
	struct fx *fx = *state;
	struct store_import_result *res = malloc(sizeof(*res));
	struct store_allow_row rows[7];
	struct store_allow pre = allow("pre", 0x07, "", ""), out;

	assert_non_null(res);
	add_group(fx, "g1");
	assert_int_equal(store_allow_add(fx->st, &pre), 0);
	import_rows(rows);
	assert_int_equal(store_allow_import(fx->st, rows, 7, res), 0);
	assert_int_equal(res->added, 2);
	assert_int_equal(res->unchanged, 1);
	assert_int_equal(res->nrefused, 4);
	assert_int_equal(res->refused[0].index, 1);
	assert_string_equal(res->refused[0].why, "bad public key");
	assert_int_equal(res->refused[1].index, 2);
	assert_string_equal(res->refused[1].why, "invalid UDID, ICCID or group name");
	assert_int_equal(res->refused[2].index, 3);
	assert_string_equal(res->refused[2].why, "no such group");
	assert_int_equal(res->refused[3].index, 4);
	assert_string_equal(res->refused[3].why, "the UDID has another allowlist entry");
	/* the first entry of imp-a stands */
	assert_int_equal(store_allow_get(fx->st, "imp-a", &out), 0);
	assert_int_equal(out.key_sha256[0], 0x01);
	assert_string_equal(out.group, "g1");
	assert_string_equal(out.iccid, ICCID_A);
	assert_int_equal(store_allow_get(fx->st, "imp-b", &out), 0);
	assert_int_equal(store_allow_get(fx->st, "imp-x", &out), ZTP_ENOENT);
	assert_int_equal(store_allow_get(fx->st, "imp-z", &out), ZTP_ENOENT);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM allowlist", NULL), 3);
	free(res);
}

static void
test_allow_import_is_idempotent(void **state)
{
	struct fx *fx = *state;
	struct store_import_result *res = malloc(sizeof(*res));
	struct store_allow_row rows[7];
	struct store_allow pre = allow("pre", 0x07, "", "");

	assert_non_null(res);
	add_group(fx, "g1");
	assert_int_equal(store_allow_add(fx->st, &pre), 0);
	import_rows(rows);
	assert_int_equal(store_allow_import(fx->st, rows, 7, res), 0);
	assert_int_equal(store_allow_import(fx->st, rows, 7, res), 0);
	assert_int_equal(res->added, 0);
	assert_int_equal(res->unchanged, 3);
	assert_int_equal(res->nrefused, 4);
	assert_int_equal(res->refused[3].index, 4);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM allowlist", NULL), 3);
	free(res);
}

static void
test_allow_import_over_the_batch_max_is_toobig_and_adds_nothing(void **state)
{
	struct fx *fx = *state;
	struct store_import_result *res = malloc(sizeof(*res));
	struct store_allow_row *rows = calloc(STORE_IMPORT_BATCH_MAX + 1, sizeof(*rows));
	struct store_allow out;
	size_t i;

	assert_non_null(res);
	assert_non_null(rows);
	for (i = 0; i <= STORE_IMPORT_BATCH_MAX; i++) {
		snprintf(rows[i].a.udid, sizeof(rows[i].a.udid), "d-%05zu", i);
		rows[i].a.key_sha256[0] = 1;
	}
	assert_int_equal(store_allow_import(fx->st, rows, STORE_IMPORT_BATCH_MAX + 1, res),
	    ZTP_ETOOBIG);
	assert_int_equal(res->added, 0);
	assert_int_equal(res->nrefused, 0);
	assert_int_equal(store_allow_get(fx->st, "d-00000", &out), ZTP_ENOENT);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM allowlist", NULL), 0);
	free(rows);
	free(res);
}

static void
test_allow_import_of_the_batch_max_is_taken(void **state)
{
	struct fx *fx = *state;
	struct store_import_result *res = malloc(sizeof(*res));
	struct store_allow_row *rows = calloc(STORE_IMPORT_BATCH_MAX, sizeof(*rows));
	size_t i;

	assert_non_null(res);
	assert_non_null(rows);
	for (i = 0; i < STORE_IMPORT_BATCH_MAX; i++) {
		snprintf(rows[i].a.udid, sizeof(rows[i].a.udid), "d-%05zu", i);
		rows[i].a.key_sha256[0] = 1;
	}
	assert_int_equal(store_allow_import(fx->st, rows, STORE_IMPORT_BATCH_MAX, res), 0);
	assert_int_equal(res->added, STORE_IMPORT_BATCH_MAX);
	assert_int_equal(res->nrefused, 0);
	/* and as many refusals fit the result */
	for (i = 0; i < STORE_IMPORT_BATCH_MAX; i++)
		snprintf(rows[i].invalid, sizeof(rows[i].invalid), "no");
	assert_int_equal(store_allow_import(fx->st, rows, STORE_IMPORT_BATCH_MAX, res), 0);
	assert_int_equal(res->nrefused, STORE_IMPORT_BATCH_MAX);
	assert_int_equal(res->refused[STORE_IMPORT_BATCH_MAX - 1].index,
	    STORE_IMPORT_BATCH_MAX - 1);
	free(rows);
	free(res);
}

static void
test_allow_import_of_nothing_is_ok(void **state)
{
	struct fx *fx = *state;
	struct store_import_result *res = malloc(sizeof(*res));

	assert_non_null(res);
	assert_int_equal(store_allow_import(fx->st, NULL, 0, res), 0);
	assert_int_equal(res->added + res->unchanged + res->nrefused, 0);
	free(res);
}

/* ---- enrolment passwords ---- */

static void
test_password_create_then_check(void **state)
{
	struct fx *fx = *state;
	struct store_password pw, got;
	int64_t exp = clock_now_ms() + HOUR_MS;

	add_group(fx, "g1");
	assert_int_equal(store_password_create(fx->st, UDID_1, "g1", "open sesame", exp, &pw), 0);
	assert_true(pw.id > 0);
	assert_string_equal(pw.udid, UDID_1);
	assert_string_equal(pw.group, "g1");
	assert_int_equal(pw.expires_at, exp);
	assert_int_equal(pw.used_at, 0);
	assert_int_equal(store_password_check(fx->st, UDID_1, "open sesame", &got), 0);
	assert_int_equal(got.id, pw.id);
	assert_string_equal(got.udid, UDID_1);
	assert_string_equal(got.group, "g1");
	assert_int_equal(got.created_at, pw.created_at);
	assert_int_equal(got.expires_at, exp);
	assert_int_equal(got.used_at, 0);
	/* a check does not use it up */
	assert_int_equal(store_password_check(fx->st, UDID_1, "open sesame", NULL), 0);
}

static void
test_password_wrong_is_auth(void **state)
{
	struct fx *fx = *state;
	struct store_password got;

	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "open sesame",
			     clock_now_ms() + HOUR_MS, NULL),
	    0);
	assert_int_equal(store_password_check(fx->st, UDID_1, "open sesame!", &got), ZTP_EAUTH);
	assert_int_equal(store_password_check(fx->st, UDID_1, "open sesam", &got), ZTP_EAUTH);
	assert_int_equal(store_password_check(fx->st, UDID_1, "", &got), ZTP_EAUTH);
	assert_int_equal(store_password_check(fx->st, UDID_1, NULL, &got), ZTP_EAUTH);
}

static void
test_password_of_another_udid_is_auth(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "open sesame",
			     clock_now_ms() + HOUR_MS, NULL),
	    0);
	assert_int_equal(store_password_check(fx->st, UDID_2, "open sesame", NULL), ZTP_EAUTH);
	assert_int_equal(store_password_check(fx->st, "not valid", "open sesame", NULL), ZTP_EAUTH);
}

static void
test_password_expired_is_expired(void **state)
{
	struct fx *fx = *state;
	struct store_password pw;
	char sql[96];

	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "open sesame",
			     clock_now_ms() + HOUR_MS, &pw),
	    0);
	snprintf(sql, sizeof(sql), "UPDATE enrol_passwords SET expires_at = %lld WHERE id = %lld",
	    (long long)clock_now_ms(), (long long)pw.id);
	sql_run(fx->path, sql);
	assert_int_equal(store_password_check(fx->st, UDID_1, "open sesame", NULL), ZTP_EEXPIRED);
	/* a wrong password is still just wrong */
	assert_int_equal(store_password_check(fx->st, UDID_1, "open", NULL), ZTP_EAUTH);
}

static void
test_password_expires_with_time(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "open sesame",
			     clock_now_ms() + 200, NULL),
	    0);
	sleep_ms(250);
	assert_int_equal(store_password_check(fx->st, UDID_1, "open sesame", NULL), ZTP_EEXPIRED);
}

static void
test_password_used_is_conflict(void **state)
{
	struct fx *fx = *state;
	struct store_password pw;
	struct store_cert c = cert("01", UDID_1, 4000000000);

	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "open sesame",
			     clock_now_ms() + HOUR_MS, &pw),
	    0);
	assert_int_equal(store_cert_record(fx->st, &c, NULL, pw.id), 0);
	assert_int_equal(store_password_check(fx->st, UDID_1, "open sesame", NULL), ZTP_ECONFLICT);
	assert_true(password_used_at(fx, pw.id) > 0);
}

static void
test_password_create_refuses_bad_input(void **state)
{
	struct fx *fx = *state;
	int64_t exp = clock_now_ms() + HOUR_MS;
	char longpw[STORE_PASSWORD_MAX + 2];

	assert_int_equal(store_password_create(fx->st, "a b", NULL, "pw", exp, NULL), ZTP_EINVAL);
	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "", exp, NULL), ZTP_EINVAL);
	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, NULL, exp, NULL), ZTP_EINVAL);
	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "pw", clock_now_ms() - 1, NULL),
	    ZTP_EINVAL);
	assert_int_equal(store_password_create(fx->st, UDID_1, "nope", "pw", exp, NULL), ZTP_ENOENT);
	memset(longpw, 'p', STORE_PASSWORD_MAX + 1);
	longpw[STORE_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, longpw, exp, NULL), ZTP_EINVAL);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM enrol_passwords", NULL), 0);
	/* STORE_PASSWORD_MAX characters are fine */
	longpw[STORE_PASSWORD_MAX] = '\0';
	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, longpw, exp, NULL), 0);
	assert_int_equal(store_password_check(fx->st, UDID_1, longpw, NULL), 0);
}

static void
test_password_is_not_in_the_database_file(void **state)
{
	static const char pw[] = "a-recognisable-one-time-password";
	struct fx *fx = *state;

	assert_int_equal(store_password_create(fx->st, "udid-in-clear", NULL, pw,
			     clock_now_ms() + HOUR_MS, NULL),
	    0);
	close_store(fx);
	assert_true(db_contains(fx, "udid-in-clear", 13));
	assert_false(db_contains(fx, pw, strlen(pw)));
}

static void
test_two_passwords_for_one_udid_both_work(void **state)
{
	struct fx *fx = *state;
	struct store_password p1, p2, got;
	struct store_cert c = cert("01", UDID_1, 4000000000);
	int64_t exp = clock_now_ms() + HOUR_MS;

	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "first", exp, &p1), 0);
	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "second", exp, &p2), 0);
	assert_int_not_equal(p1.id, p2.id);
	assert_int_equal(store_password_check(fx->st, UDID_1, "first", &got), 0);
	assert_int_equal(got.id, p1.id);
	assert_int_equal(store_password_check(fx->st, UDID_1, "second", &got), 0);
	assert_int_equal(got.id, p2.id);
	/* using one leaves the other */
	assert_int_equal(store_cert_record(fx->st, &c, NULL, p1.id), 0);
	assert_int_equal(store_password_check(fx->st, UDID_1, "first", NULL), ZTP_ECONFLICT);
	assert_int_equal(store_password_check(fx->st, UDID_1, "second", &got), 0);
	assert_int_equal(got.id, p2.id);
}

static void
test_same_password_twice_finds_the_unused_one(void **state)
{
	struct fx *fx = *state;
	struct store_password p1, p2, got;
	struct store_cert c = cert("01", UDID_1, 4000000000);
	int64_t exp = clock_now_ms() + HOUR_MS;

	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "same", exp, &p1), 0);
	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "same", exp, &p2), 0);
	/* the newest first */
	assert_int_equal(store_password_check(fx->st, UDID_1, "same", &got), 0);
	assert_int_equal(got.id, p2.id);
	assert_int_equal(store_cert_record(fx->st, &c, NULL, p2.id), 0);
	assert_int_equal(store_password_check(fx->st, UDID_1, "same", &got), 0);
	assert_int_equal(got.id, p1.id);
}

/* ---- recording certificates ---- */

static void
test_cert_record_creates_the_thing_with_its_group_and_allowlist_iccid(void **state)
{
	struct fx *fx = *state;
	struct store_cert c = cert("0a1b", UDID_1, 4000000000), out;
	struct store_thing t;
	int64_t before = clock_now_ms();

	add_group(fx, "g1");
	add_allow(fx, UDID_1, "", ICCID_A);
	assert_int_equal(store_thing_get(fx->st, UDID_1, &t), ZTP_ENOENT);
	assert_int_equal(store_cert_record(fx->st, &c, "g1", 0), 0);
	assert_int_equal(store_thing_get(fx->st, UDID_1, &t), 0);
	assert_string_equal(t.udid, UDID_1);
	assert_string_equal(t.group, "g1");
	assert_string_equal(t.iccid, ICCID_A);
	assert_int_equal(t.blocked, 0);
	assert_int_equal(t.certs, 1);
	assert_string_equal(t.serial, "0a1b");
	assert_true(t.created_at >= before);
	assert_int_equal(store_cert_get(fx->st, "0a1b", &out), 0);
	assert_true(out.issued_at >= before && out.issued_at <= clock_now_ms());
}

static void
test_cert_record_without_allowlist_entry_has_no_iccid(void **state)
{
	struct fx *fx = *state;
	struct store_thing t;

	record(fx, "01", UDID_1, NULL);
	assert_int_equal(store_thing_get(fx->st, UDID_1, &t), 0);
	assert_string_equal(t.group, "");
	assert_string_equal(t.iccid, "");
}

static void
test_cert_record_updates_the_things_group(void **state)
{
	struct fx *fx = *state;
	struct store_thing t;

	add_group(fx, "g1");
	add_group(fx, "g2");
	add_allow(fx, UDID_1, "", ICCID_A);
	record(fx, "01", UDID_1, "g1");
	record(fx, "02", UDID_1, "g2");
	assert_int_equal(store_thing_get(fx->st, UDID_1, &t), 0);
	assert_string_equal(t.group, "g2");
	assert_string_equal(t.iccid, ICCID_A);
	assert_int_equal(t.certs, 2);
}

static void
test_cert_record_consumes_the_password(void **state)
{
	struct fx *fx = *state;
	struct store_password pw;
	struct store_cert c1 = cert("01", UDID_1, 4000000000), c2 = cert("02", UDID_1, 4000000000);
	struct store_cert out;

	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "open sesame",
			     clock_now_ms() + HOUR_MS, &pw),
	    0);
	assert_int_equal(password_used_at(fx, pw.id), 0);
	assert_int_equal(store_cert_record(fx->st, &c1, NULL, pw.id), 0);
	assert_true(password_used_at(fx, pw.id) > 0);
	/* the same password again: nothing recorded */
	assert_int_equal(store_cert_record(fx->st, &c2, NULL, pw.id), ZTP_ECONFLICT);
	assert_int_equal(store_cert_get(fx->st, "02", &out), ZTP_ENOENT);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM certs", NULL), 1);
}

static void
test_cert_record_with_an_unknown_password_id_is_conflict(void **state)
{
	struct fx *fx = *state;
	struct store_cert c = cert("01", UDID_1, 4000000000), out;
	struct store_thing t;

	assert_int_equal(store_cert_record(fx->st, &c, NULL, 12345), ZTP_ECONFLICT);
	assert_int_equal(store_cert_get(fx->st, "01", &out), ZTP_ENOENT);
	assert_int_equal(store_thing_get(fx->st, UDID_1, &t), ZTP_ENOENT);
}

static void
test_cert_record_for_a_blocked_thing_is_auth_and_records_nothing(void **state)
{
	struct fx *fx = *state;
	struct store_password pw;
	struct store_cert c = cert("01", UDID_1, 4000000000), out;
	struct store_thing t;

	add_allow(fx, UDID_1, "", "");
	assert_int_equal(store_thing_block(fx->st, UDID_1, SIGNER_REASON_UNSPECIFIED, NULL), 0);
	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "open sesame",
			     clock_now_ms() + HOUR_MS, &pw),
	    0);
	assert_int_equal(store_cert_record(fx->st, &c, NULL, pw.id), ZTP_EAUTH);
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), ZTP_EAUTH);
	assert_int_equal(store_cert_get(fx->st, "01", &out), ZTP_ENOENT);
	assert_int_equal(store_thing_get(fx->st, UDID_1, &t), 0);
	assert_int_equal(t.certs, 0);
	assert_true(t.blocked);
	/* the password was not used up */
	assert_int_equal(password_used_at(fx, pw.id), 0);
	assert_int_equal(store_password_check(fx->st, UDID_1, "open sesame", NULL), 0);
}

static void
test_cert_record_of_a_duplicate_serial_changes_nothing(void **state)
{
	struct fx *fx = *state;
	struct store_password pw;
	struct store_cert c = cert("01", UDID_1, 4000000000), out;
	struct store_thing t;

	add_group(fx, "g1");
	add_group(fx, "g2");
	record(fx, "01", UDID_1, "g1");
	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "open sesame",
			     clock_now_ms() + HOUR_MS, &pw),
	    0);
	snprintf(c.method, sizeof(c.method), "password");
	assert_int_equal(store_cert_record(fx->st, &c, "g2", pw.id), ZTP_EEXIST);
	/* rolled back: the password is unused, the device's group unchanged */
	assert_int_equal(password_used_at(fx, pw.id), 0);
	assert_int_equal(store_password_check(fx->st, UDID_1, "open sesame", NULL), 0);
	assert_int_equal(store_thing_get(fx->st, UDID_1, &t), 0);
	assert_string_equal(t.group, "g1");
	assert_int_equal(t.certs, 1);
	assert_int_equal(store_cert_get(fx->st, "01", &out), 0);
	assert_string_equal(out.method, "allowlist");
	/* the same serial for another device creates no record of it either */
	c = cert("01", UDID_2, 4000000000);
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), ZTP_EEXIST);
	assert_int_equal(store_thing_get(fx->st, UDID_2, &t), ZTP_ENOENT);
}

static void
test_cert_record_refuses_bad_input(void **state)
{
	struct fx *fx = *state;
	struct store_cert c = cert("01", "a b", 4000000000);

	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), ZTP_EINVAL);
	c = cert("", UDID_1, 4000000000);
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), ZTP_EINVAL);
	c = cert("01", UDID_1, 4000000000);
	c.method[0] = '\0';
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), ZTP_EINVAL);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM certs", NULL), 0);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM things", NULL), 0);
}

/* ---- the per-device issuance limit ---- */

#define T0 1800000000000LL /* ms: issued_at values set behind the store's back */

/* Set serial's issued_at to ms. */
static void
set_issued_at(struct fx *fx, const char *serial, int64_t ms)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "UPDATE certs SET issued_at = %lld WHERE serial = '%s'",
	    (long long)ms, serial);
	sql_run(fx->path, sql);
}

static void
test_cert_count_since_counts_the_udids_certs_after_since(void **state)
{
	struct fx *fx = *state;
	int64_t n = -1, frees = -1;

	record(fx, "01", UDID_1, NULL);
	record(fx, "02", UDID_1, NULL);
	record(fx, "03", UDID_1, NULL);
	record(fx, "04", UDID_2, NULL);
	set_issued_at(fx, "01", T0 - HOUR_MS); /* out of a window that starts at T0 - HOUR_MS */
	set_issued_at(fx, "02", T0);
	set_issued_at(fx, "03", T0 + 1000);
	set_issued_at(fx, "04", T0);
	assert_int_equal(store_cert_count_since(fx->st, UDID_1, T0 - HOUR_MS, 0, &n, &frees), 0);
	assert_int_equal(n, 2); /* issued_at == since is out */
	assert_int_equal(frees, 0);
	assert_int_equal(store_cert_count_since(fx->st, UDID_1, T0 - HOUR_MS - 1, 0, &n, &frees), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_cert_count_since(fx->st, UDID_1, T0, 0, &n, &frees), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_cert_count_since(fx->st, UDID_2, T0 - HOUR_MS, 0, &n, &frees), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_cert_count_since(fx->st, "dev-none", 0, 5, &n, &frees), 0);
	assert_int_equal(n, 0);
	assert_int_equal(frees, 0);
	/* revoked certificates count: they were issued */
	assert_int_equal(store_cert_revoke(fx->st, "03", SIGNER_REASON_SUPERSEDED), 0);
	assert_int_equal(store_cert_count_since(fx->st, UDID_1, T0 - HOUR_MS, 0, &n, &frees), 0);
	assert_int_equal(n, 2);
}

static void
test_cert_count_since_says_which_cert_must_leave_the_window(void **state)
{
	struct fx *fx = *state;
	int64_t n = -1, frees = -1;

	record(fx, "01", UDID_1, NULL);
	record(fx, "02", UDID_1, NULL);
	record(fx, "03", UDID_1, NULL);
	set_issued_at(fx, "01", T0 + 2000);
	set_issued_at(fx, "02", T0);
	set_issued_at(fx, "03", T0 + 1000);
	/* under the limit: nothing to wait for */
	assert_int_equal(store_cert_count_since(fx->st, UDID_1, T0 - 1, 4, &n, &frees), 0);
	assert_int_equal(n, 3);
	assert_int_equal(frees, 0);
	/* at the limit: the oldest */
	assert_int_equal(store_cert_count_since(fx->st, UDID_1, T0 - 1, 3, &n, &frees), 0);
	assert_int_equal(frees, T0);
	/* over it (the limit was lowered): two must leave, the second oldest frees a place */
	assert_int_equal(store_cert_count_since(fx->st, UDID_1, T0 - 1, 2, &n, &frees), 0);
	assert_int_equal(frees, T0 + 1000);
	assert_int_equal(store_cert_count_since(fx->st, UDID_1, T0 - 1, 1, &n, &frees), 0);
	assert_int_equal(frees, T0 + 2000);
}

static void
test_cert_count_since_reads_the_udid_index_only(void **state)
{
	struct fx *fx = *state;
	int64_t n, frees;

	record(fx, "01", UDID_1, NULL);
	/* the store's own statement, then the plan of the same text */
	assert_int_equal(store_cert_count_since(fx->st, UDID_1, 0, 1, &n, &frees), 0);
	assert_int_equal(n, 1);
	if (fixture_pg()) {
		/* one row: a sequential scan would win; without it, the index alone answers */
		assert_true(sql_rows_contain(fx->path,
		    "SET enable_seqscan = off; EXPLAIN SELECT count(*) FROM certs"
		    " WHERE udid = '" UDID_1 "' AND issued_at > 0",
		    "Index Only Scan using certs_udid"));
		return;
	}
	assert_true(sql_rows_contain(fx->path,
	    "EXPLAIN QUERY PLAN SELECT count(*) FROM certs WHERE udid = ?1 AND issued_at > ?2",
	    "COVERING INDEX certs_udid"));
}

static void
test_cert_count_since_refuses_bad_input(void **state)
{
	struct fx *fx = *state;
	int64_t n = -1, frees = -1;

	assert_int_equal(store_cert_count_since(fx->st, "a b", 0, 1, &n, &frees), ZTP_EINVAL);
	assert_int_equal(store_cert_count_since(fx->st, "", 0, 1, &n, &frees), ZTP_EINVAL);
	assert_int_equal(store_cert_count_since(fx->st, UDID_1, 0, -1, &n, &frees), ZTP_EINVAL);
}

static void
test_cert_record_over_the_window_max_is_busy_and_keeps_the_password(void **state)
{
	struct fx *fx = *state;
	struct store_cert c = cert("03", UDID_1, 4000000000), out;
	struct store_password pw;

	record(fx, "01", UDID_1, NULL);
	record(fx, "02", UDID_1, NULL);
	record(fx, "09", UDID_2, NULL); /* another device's do not count */
	assert_int_equal(store_password_create(fx->st, UDID_1, NULL, "open sesame",
			     clock_now_ms() + HOUR_MS, &pw),
	    0);
	c.per_window_max = 2;
	assert_int_equal(store_cert_record(fx->st, &c, NULL, pw.id), ZTP_EBUSY);
	assert_int_equal(store_cert_get(fx->st, "03", &out), ZTP_ENOENT);
	assert_int_equal(password_used_at(fx, pw.id), 0);
	assert_int_equal(store_password_check(fx->st, UDID_1, "open sesame", NULL), 0);
	/* one of the two leaves the window (issued an hour ago): room for one */
	set_issued_at(fx, "01", clock_now_ms() - HOUR_MS);
	assert_int_equal(store_cert_record(fx->st, &c, NULL, pw.id), 0);
	assert_true(password_used_at(fx, pw.id) > 0);
	/* 0: no limit */
	c = cert("04", UDID_1, 4000000000);
	c.per_window_max = 0;
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), 0);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM certs WHERE udid = ?1", UDID_1), 4);
}

/* ---- reading certificates ---- */

static void
test_cert_get_round_trips(void **state)
{
	struct fx *fx = *state;
	struct store_cert c = cert("7f00aa", UDID_1, 1800000000), out;

	snprintf(c.method, sizeof(c.method), "serverkeygen");
	c.not_before = 1710000000;
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), 0);
	assert_int_equal(store_cert_get(fx->st, "7f00aa", &out), 0);
	assert_string_equal(out.serial, "7f00aa");
	assert_string_equal(out.udid, UDID_1);
	assert_string_equal(out.subject, c.subject);
	assert_memory_equal(out.key_sha256, c.key_sha256, 32);
	assert_int_equal(out.not_before, 1710000000);
	assert_int_equal(out.not_after, 1800000000);
	assert_string_equal(out.method, "serverkeygen");
	assert_int_equal(out.revoked_at, 0);
	assert_int_equal(out.reason, 0);
}

static void
test_cert_get_of_unknown_serial_is_noent(void **state)
{
	struct fx *fx = *state;
	struct store_cert out;

	assert_int_equal(store_cert_get(fx->st, "01", &out), ZTP_ENOENT);
}

static void
test_cert_list_by_udid_pages_with_after_and_limit(void **state)
{
	struct fx *fx = *state;
	struct seen s;

	record(fx, "03", UDID_1, NULL);
	record(fx, "01", UDID_1, NULL);
	record(fx, "02", UDID_2, NULL);
	record(fx, "05", UDID_1, NULL);
	record(fx, "04", UDID_1, NULL);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_cert_list(fx->st, UDID_1, "", 2, on_cert, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0], "01");
	assert_string_equal(s.v[1], "03");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_cert_list(fx->st, UDID_1, "03", 2, on_cert, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0], "04");
	assert_string_equal(s.v[1], "05");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_cert_list(fx->st, UDID_1, "05", 2, on_cert, &s), 0);
	assert_int_equal(s.n, 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_cert_list(fx->st, UDID_2, NULL, 10, on_cert, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "02");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_cert_list(fx->st, "nobody", NULL, 10, on_cert, &s), 0);
	assert_int_equal(s.n, 0);
}

static void
test_cert_list_without_udid_lists_all(void **state)
{
	struct fx *fx = *state;
	struct seen s;

	record(fx, "03", UDID_1, NULL);
	record(fx, "01", UDID_2, NULL);
	record(fx, "02", UDID_1, NULL);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_cert_list(fx->st, NULL, NULL, 10, on_cert, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.v[0], "01");
	assert_string_equal(s.v[1], "02");
	assert_string_equal(s.v[2], "03");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_cert_list(fx->st, "", "01", 1, on_cert, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "02");
}

/* ---- revocation ---- */

static void
test_cert_revoke_of_unknown_serial_is_noent(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_cert_revoke(fx->st, "01", SIGNER_REASON_KEY_COMPROMISE), ZTP_ENOENT);
}

static void
test_cert_revoke_then_again_is_exist_and_keeps_the_first_reason(void **state)
{
	struct fx *fx = *state;
	struct store_cert out;
	int64_t before = clock_now_ms() / 1000;
	int reason = -1;

	record(fx, "01", UDID_1, NULL);
	assert_int_equal(store_cert_revoke(fx->st, "01", SIGNER_REASON_KEY_COMPROMISE), 0);
	assert_int_equal(store_cert_get(fx->st, "01", &out), 0);
	assert_true(out.revoked_at >= before && out.revoked_at <= clock_now_ms() / 1000);
	assert_int_equal(out.reason, SIGNER_REASON_KEY_COMPROMISE);
	assert_int_equal(store_cert_revoke(fx->st, "01", SIGNER_REASON_SUPERSEDED), ZTP_EEXIST);
	assert_int_equal(store_cert_is_revoked(fx->st, "01", &reason), 1);
	assert_int_equal(reason, SIGNER_REASON_KEY_COMPROMISE);
}

static void
test_cert_is_revoked_of_unrevoked_or_unknown_is_zero(void **state)
{
	struct fx *fx = *state;
	int reason = 77;

	record(fx, "01", UDID_1, NULL);
	assert_int_equal(store_cert_is_revoked(fx->st, "01", &reason), 0);
	assert_int_equal(store_cert_is_revoked(fx->st, "02", &reason), 0);
	assert_int_equal(reason, 77);
	assert_int_equal(store_cert_revoke(fx->st, "01", SIGNER_REASON_UNSPECIFIED), 0);
	assert_int_equal(store_cert_is_revoked(fx->st, "01", NULL), 1);
	assert_int_equal(store_cert_is_revoked(fx->st, "01", &reason), 1);
	assert_int_equal(reason, SIGNER_REASON_UNSPECIFIED);
}

static void
test_revoked_list_excludes_expired_and_is_ordered(void **state)
{
	struct fx *fx = *state;
	const int64_t now = 2000000000;
	struct store_cert c;
	struct seen s;

	c = cert("0c", UDID_1, now + 100);  /* revoked, valid */
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), 0);
	c = cert("0a", UDID_1, now + 1);    /* revoked, valid for a second more */
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), 0);
	c = cert("0b", UDID_2, now);        /* revoked, expires at now: out */
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), 0);
	c = cert("09", UDID_2, now - 3600); /* revoked, expired: out */
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), 0);
	c = cert("0d", UDID_1, now + 100);  /* not revoked: out */
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), 0);
	assert_int_equal(store_cert_revoke(fx->st, "0c", SIGNER_REASON_SUPERSEDED), 0);
	assert_int_equal(store_cert_revoke(fx->st, "0a", SIGNER_REASON_KEY_COMPROMISE), 0);
	assert_int_equal(store_cert_revoke(fx->st, "0b", SIGNER_REASON_UNSPECIFIED), 0);
	assert_int_equal(store_cert_revoke(fx->st, "09", SIGNER_REASON_UNSPECIFIED), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_cert_revoked_list(fx->st, now, on_cert, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0], "0a");
	assert_int_equal(s.reason[0], SIGNER_REASON_KEY_COMPROMISE);
	assert_string_equal(s.v[1], "0c");
	assert_int_equal(s.reason[1], SIGNER_REASON_SUPERSEDED);
	/* earlier, the expired ones were still in it */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_cert_revoked_list(fx->st, now - 7200, on_cert, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.v[0], "09");
	assert_string_equal(s.v[1], "0a");
	assert_string_equal(s.v[2], "0b");
	assert_string_equal(s.v[3], "0c");
}

static void
test_revocation_counter_moves_on_revoke_not_on_a_failed_one(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(revocations(fx), 0);
	record(fx, "01", UDID_1, NULL);
	record(fx, "02", UDID_1, NULL);
	assert_int_equal(revocations(fx), 0);
	assert_int_equal(store_cert_revoke(fx->st, "01", SIGNER_REASON_UNSPECIFIED), 0);
	assert_int_equal(revocations(fx), 1);
	assert_int_equal(store_cert_revoke(fx->st, "01", SIGNER_REASON_UNSPECIFIED), ZTP_EEXIST);
	assert_int_equal(store_cert_revoke(fx->st, "99", SIGNER_REASON_UNSPECIFIED), ZTP_ENOENT);
	assert_int_equal(revocations(fx), 1);
	assert_int_equal(store_cert_revoke(fx->st, "02", SIGNER_REASON_UNSPECIFIED), 0);
	assert_int_equal(revocations(fx), 2);
}

static void
test_revocation_counter_moves_on_block_with_certs_only(void **state)
{
	struct fx *fx = *state;
	int64_t r;

	/* a device without certificates */
	add_allow(fx, UDID_2, "", "");
	assert_int_equal(store_thing_block(fx->st, UDID_2, SIGNER_REASON_UNSPECIFIED, NULL), 0);
	assert_int_equal(revocations(fx), 0);
	record(fx, "01", UDID_1, NULL);
	record(fx, "02", UDID_1, NULL);
	assert_int_equal(store_thing_block(fx->st, UDID_1, SIGNER_REASON_UNSPECIFIED, NULL), 0);
	r = revocations(fx);
	assert_true(r > 0);
	/* blocking again revokes nothing more */
	assert_int_equal(store_thing_block(fx->st, UDID_1, SIGNER_REASON_UNSPECIFIED, NULL), 0);
	assert_int_equal(revocations(fx), r);
}

/* ---- devices: blocking ---- */

static void
test_thing_block_from_allowlist_creates_a_blocked_record(void **state)
{
	struct fx *fx = *state;
	struct store_thing t;
	int n = -1;

	add_group(fx, "g1");
	add_allow(fx, UDID_1, "g1", ICCID_A);
	assert_int_equal(store_thing_get(fx->st, UDID_1, &t), ZTP_ENOENT);
	assert_int_equal(store_thing_block(fx->st, UDID_1, SIGNER_REASON_UNSPECIFIED, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_thing_get(fx->st, UDID_1, &t), 0);
	assert_true(t.blocked);
	assert_string_equal(t.group, "g1");
	assert_string_equal(t.iccid, ICCID_A);
	assert_int_equal(t.certs, 0);
	assert_string_equal(t.serial, "");
}

static void
test_thing_block_of_unknown_udid_is_noent(void **state)
{
	struct fx *fx = *state;
	struct store_thing t;
	int n = -1;

	assert_int_equal(store_thing_block(fx->st, UDID_1, SIGNER_REASON_UNSPECIFIED, &n),
	    ZTP_ENOENT);
	assert_int_equal(store_thing_get(fx->st, UDID_1, &t), ZTP_ENOENT);
	assert_int_equal(store_thing_unblock(fx->st, UDID_1), ZTP_ENOENT);
	assert_int_equal(store_thing_block(fx->st, "a b", SIGNER_REASON_UNSPECIFIED, &n), ZTP_EINVAL);
	assert_int_equal(store_thing_unblock(fx->st, "a b"), ZTP_EINVAL);
}

static void
test_thing_block_revokes_unrevoked_certs_with_the_reason(void **state)
{
	struct fx *fx = *state;
	struct store_cert out;
	int n = -1, reason = -1;

	record(fx, "01", UDID_1, NULL);
	record(fx, "02", UDID_1, NULL);
	record(fx, "03", UDID_1, NULL);
	record(fx, "04", UDID_2, NULL);
	assert_int_equal(store_cert_revoke(fx->st, "01", SIGNER_REASON_SUPERSEDED), 0);
	assert_int_equal(store_thing_block(fx->st, UDID_1, SIGNER_REASON_KEY_COMPROMISE, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_cert_is_revoked(fx->st, "01", &reason), 1);
	assert_int_equal(reason, SIGNER_REASON_SUPERSEDED);
	assert_int_equal(store_cert_is_revoked(fx->st, "02", &reason), 1);
	assert_int_equal(reason, SIGNER_REASON_KEY_COMPROMISE);
	assert_int_equal(store_cert_get(fx->st, "03", &out), 0);
	assert_true(out.revoked_at > 0);
	assert_int_equal(out.reason, SIGNER_REASON_KEY_COMPROMISE);
	/* another device's certificate is left alone */
	assert_int_equal(store_cert_is_revoked(fx->st, "04", NULL), 0);
	/* a second block finds nothing left to revoke */
	assert_int_equal(store_thing_block(fx->st, UDID_1, SIGNER_REASON_KEY_COMPROMISE, &n), 0);
	assert_int_equal(n, 0);
}

static void
test_thing_block_blocks_the_allowlist_sim(void **state)
{
	struct fx *fx = *state;

	add_sim(fx, ICCID_A);
	add_sim(fx, ICCID_B);
	add_allow(fx, UDID_1, "", ICCID_A);
	assert_int_equal(store_thing_block(fx->st, UDID_1, SIGNER_REASON_UNSPECIFIED, NULL), 0);
	assert_true(sim_blocked(fx, ICCID_A));
	assert_false(sim_blocked(fx, ICCID_B));
}

static void
test_thing_block_blocks_the_records_sim_after_the_entry_is_gone(void **state)
{
	struct fx *fx = *state;

	add_sim(fx, ICCID_A);
	add_allow(fx, UDID_1, "", ICCID_A);
	record(fx, "01", UDID_1, NULL);
	assert_int_equal(store_allow_delete(fx->st, UDID_1), 0);
	assert_int_equal(store_thing_block(fx->st, UDID_1, SIGNER_REASON_UNSPECIFIED, NULL), 0);
	assert_true(sim_blocked(fx, ICCID_A));
}

static void
test_thing_block_blocks_the_sim_bound_to_the_udid(void **state)
{
	struct fx *fx = *state;
	char bound[STORE_DEVID_HEX];

	add_sim(fx, ICCID_A);
	add_sim(fx, ICCID_B);
	assert_int_equal(store_sim_bind(fx->st, ICCID_B, "0011223344556677", bound), 0);
	add_allow(fx, "0011223344556677", "", "");
	assert_int_equal(store_thing_block(fx->st, "0011223344556677", SIGNER_REASON_UNSPECIFIED,
			     NULL),
	    0);
	assert_true(sim_blocked(fx, ICCID_B));
	assert_false(sim_blocked(fx, ICCID_A));
	assert_int_equal(store_thing_unblock(fx->st, "0011223344556677"), 0);
	assert_false(sim_blocked(fx, ICCID_B));
}

/*
 * The device API stores a SIM's Device ID in upper-case hex (devroute.c):
 * blocking a device by a UDID with hex letters must still find its SIM.
 */
static void
test_thing_block_blocks_the_sim_bound_to_an_upper_case_hex_udid(void **state)
{
	static const char devid[] = "B58D51C5504D5257352E3120FF0D1338";
	struct fx *fx = *state;
	char bound[STORE_DEVID_HEX];

	add_sim(fx, ICCID_A);
	/* bound as the device API binds it: upper-case hex */
	assert_int_equal(store_sim_bind(fx->st, ICCID_A, devid, bound), 0);
	add_allow(fx, devid, "", "");
	assert_int_equal(store_thing_block(fx->st, devid, SIGNER_REASON_UNSPECIFIED, NULL), 0);
	assert_true(sim_blocked(fx, ICCID_A));
}

static void
test_thing_unblock_lifts_the_sim_block_but_certs_stay_revoked(void **state)
{
	struct fx *fx = *state;
	struct store_thing t;
	int reason = -1;

	add_sim(fx, ICCID_A);
	add_allow(fx, UDID_1, "", ICCID_A);
	record(fx, "01", UDID_1, NULL);
	assert_int_equal(store_thing_block(fx->st, UDID_1, SIGNER_REASON_PRIVILEGE_WITHDRAWN, NULL),
	    0);
	assert_true(sim_blocked(fx, ICCID_A));
	assert_int_equal(store_thing_unblock(fx->st, UDID_1), 0);
	assert_false(sim_blocked(fx, ICCID_A));
	assert_int_equal(store_thing_get(fx->st, UDID_1, &t), 0);
	assert_false(t.blocked);
	assert_int_equal(store_cert_is_revoked(fx->st, "01", &reason), 1);
	assert_int_equal(reason, SIGNER_REASON_PRIVILEGE_WITHDRAWN);
	/* and it may enrol again */
	record(fx, "02", UDID_1, NULL);
	assert_int_equal(store_cert_is_revoked(fx->st, "02", NULL), 0);
}

static void
test_thing_unblock_of_an_allowlist_entry_without_record_is_noent(void **state)
{
	struct fx *fx = *state;
	struct store_thing t;

	add_allow(fx, UDID_1, "", "");
	assert_int_equal(store_thing_unblock(fx->st, UDID_1), ZTP_ENOENT);
	assert_int_equal(store_thing_get(fx->st, UDID_1, &t), ZTP_ENOENT);
}

/* ---- devices: reading ---- */

static void
test_thing_get_counts_certs_and_shows_the_newest_serial(void **state)
{
	struct fx *fx = *state;
	struct store_thing t;

	record(fx, "ff", UDID_1, NULL);
	sleep_ms(5);
	/* newer, though lower */
	record(fx, "10", UDID_1, NULL);
	record(fx, "20", UDID_2, NULL);
	assert_int_equal(store_thing_get(fx->st, UDID_1, &t), 0);
	assert_int_equal(t.certs, 2);
	assert_string_equal(t.serial, "10");
	assert_false(t.blocked);
	assert_true(t.updated_at >= t.created_at);
	assert_int_equal(store_thing_get(fx->st, UDID_2, &t), 0);
	assert_int_equal(t.certs, 1);
	assert_string_equal(t.serial, "20");
}

static void
test_thing_get_of_unknown_udid_is_noent(void **state)
{
	struct fx *fx = *state;
	struct store_thing t;

	assert_int_equal(store_thing_get(fx->st, UDID_1, &t), ZTP_ENOENT);
}

static void
test_thing_list_pages_with_after_and_limit(void **state)
{
	struct fx *fx = *state;
	struct seen s;

	record(fx, "01", "t3", NULL);
	record(fx, "02", "t1", NULL);
	record(fx, "03", "t2", NULL);
	record(fx, "04", "t1", NULL);
	add_allow(fx, "t4", "", "");
	assert_int_equal(store_thing_block(fx->st, "t4", SIGNER_REASON_UNSPECIFIED, NULL), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_thing_list(fx->st, "", 2, on_thing, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0], "t1");
	assert_int_equal(s.certs[0], 2);
	assert_string_equal(s.v[1], "t2");
	assert_int_equal(s.certs[1], 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_thing_list(fx->st, "t2", 2, on_thing, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0], "t3");
	assert_string_equal(s.v[1], "t4");
	assert_int_equal(s.certs[1], 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_thing_list(fx->st, "t4", 2, on_thing, &s), 0);
	assert_int_equal(s.n, 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_thing_list(fx->st, NULL, 10, on_thing, &s), 0);
	assert_int_equal(s.n, 4);
}

/* ---- manufacturer CAs ---- */

static struct store_mfr_ca *
mfr(const char *name, uint8_t shabyte, const char *group)
{
	struct store_mfr_ca *ca = calloc(1, sizeof(*ca));

	assert_non_null(ca);
	snprintf(ca->name, sizeof(ca->name), "%s", name);
	snprintf(ca->pem, sizeof(ca->pem),
	    "-----BEGIN CERTIFICATE-----\nMIIB%s\n-----END CERTIFICATE-----\n", name);
	memset(ca->sha256, shabyte, sizeof(ca->sha256));
	snprintf(ca->group, sizeof(ca->group), "%s", group);
	return ca;
}

struct mfr_seen {
	int n;
	struct store_mfr_ca *first;
};

static int
on_mfr_keep_first(const struct store_mfr_ca *ca, void *arg)
{
	struct mfr_seen *m = arg;

	if (m->n++ == 0) {
		m->first = malloc(sizeof(*m->first));
		assert_non_null(m->first);
		memcpy(m->first, ca, sizeof(*ca));
	}
	return 0;
}

static void
test_mfr_ca_add_list_delete(void **state)
{
	struct fx *fx = *state;
	struct store_mfr_ca *b = mfr("vendor-b", 0xBB, ""), *a = mfr("vendor-a", 0xAA, "g1");
	struct mfr_seen m = { 0, NULL };
	struct seen s;

	add_group(fx, "g1");
	assert_int_equal(store_mfr_ca_add(fx->st, b), 0);
	assert_int_equal(store_mfr_ca_add(fx->st, a), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_mfr_ca_list(fx->st, on_mfr, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0], "vendor-a");
	assert_string_equal(s.v[1], "vendor-b");
	assert_int_equal(store_mfr_ca_list(fx->st, on_mfr_keep_first, &m), 0);
	assert_non_null(m.first);
	assert_string_equal(m.first->name, "vendor-a");
	assert_string_equal(m.first->pem, a->pem);
	assert_memory_equal(m.first->sha256, a->sha256, 32);
	assert_string_equal(m.first->group, "g1");
	assert_true(m.first->created_at > 0);
	assert_int_equal(store_mfr_ca_delete(fx->st, "vendor-a"), 0);
	assert_int_equal(store_mfr_ca_delete(fx->st, "vendor-a"), ZTP_ENOENT);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_mfr_ca_list(fx->st, on_mfr, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "vendor-b");
	free(m.first);
	free(a);
	free(b);
}

static void
test_mfr_ca_add_refuses_bad_values_and_duplicates(void **state)
{
	struct fx *fx = *state;
	struct store_mfr_ca *ca = mfr("vendor", 0x01, "");
	struct seen s;

	assert_int_equal(store_mfr_ca_add(fx->st, ca), 0);
	/* the same name, or the same certificate under another name */
	ca->sha256[0] = 0x02;
	assert_int_equal(store_mfr_ca_add(fx->st, ca), ZTP_EEXIST);
	free(ca);
	ca = mfr("vendor2", 0x01, "");
	assert_int_equal(store_mfr_ca_add(fx->st, ca), ZTP_EEXIST);
	free(ca);
	ca = mfr("bad name", 0x03, "");
	assert_int_equal(store_mfr_ca_add(fx->st, ca), ZTP_EINVAL);
	free(ca);
	ca = mfr("nopem", 0x04, "");
	ca->pem[0] = '\0';
	assert_int_equal(store_mfr_ca_add(fx->st, ca), ZTP_EINVAL);
	free(ca);
	ca = mfr("full", 0x05, "");
	memset(ca->pem, 'A', sizeof(ca->pem)); /* not terminated within the field */
	assert_int_equal(store_mfr_ca_add(fx->st, ca), ZTP_EINVAL);
	free(ca);
	ca = mfr("grouped", 0x06, "nope");
	assert_int_equal(store_mfr_ca_add(fx->st, ca), ZTP_ENOENT);
	free(ca);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_mfr_ca_list(fx->st, on_mfr, &s), 0);
	assert_int_equal(s.n, 1);
}

static void
test_mfr_ca_generation_moves_on_add_and_delete_only(void **state)
{
	struct fx *fx = *state;
	struct store_mfr_ca *a = mfr("vendor-a", 0xAA, ""), *b = mfr("vendor-b", 0xBB, "");

	assert_int_equal(mfr_generation(fx), 0);
	assert_int_equal(store_mfr_ca_add(fx->st, a), 0);
	assert_int_equal(mfr_generation(fx), 1);
	assert_int_equal(store_mfr_ca_add(fx->st, b), 0);
	assert_int_equal(mfr_generation(fx), 2);
	assert_int_equal(store_mfr_ca_add(fx->st, a), ZTP_EEXIST);
	assert_int_equal(mfr_generation(fx), 2);
	assert_int_equal(store_mfr_ca_delete(fx->st, "vendor-a"), 0);
	assert_int_equal(mfr_generation(fx), 3);
	assert_int_equal(store_mfr_ca_delete(fx->st, "vendor-a"), ZTP_ENOENT);
	assert_int_equal(mfr_generation(fx), 3);
	free(a);
	free(b);
}

/* ---- the CRL ---- */

static void
test_crl_get_before_any_is_noent(void **state)
{
	struct fx *fx = *state;
	struct store_crl crl;

	assert_int_equal(store_crl_get(fx->st, &crl), ZTP_ENOENT);
	assert_null(crl.der);
}

static void
test_crl_next_number_counts_from_one(void **state)
{
	struct fx *fx = *state;
	uint64_t n = 0;

	assert_int_equal(store_crl_next_number(fx->st, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_crl_next_number(fx->st, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_crl_next_number(fx->st, &n), 0);
	assert_int_equal(n, 3);
	/* and it survives a reopen */
	close_store(fx);
	assert_int_equal(store_open(&fx->st, fx->path, data_key), 0);
	assert_int_equal(store_crl_next_number(fx->st, &n), 0);
	assert_int_equal(n, 4);
}

static void
test_crl_put_then_get(void **state)
{
	static uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
	struct fx *fx = *state;
	struct store_crl crl = { 1, 1700000000, 1700086400, 5, der, sizeof(der) }, out;

	assert_int_equal(store_crl_put(fx->st, &crl), 0);
	assert_int_equal(store_crl_get(fx->st, &out), 0);
	assert_int_equal(out.number, 1);
	assert_int_equal(out.this_update, 1700000000);
	assert_int_equal(out.next_update, 1700086400);
	assert_int_equal(out.revocations, 5);
	assert_int_equal(out.der_len, sizeof(der));
	assert_non_null(out.der);
	assert_true(out.der != der);
	assert_memory_equal(out.der, der, sizeof(der));
	free(out.der);
}

static void
test_crl_put_of_a_lower_or_equal_number_keeps_the_newer(void **state)
{
	static uint8_t der5[] = { 0x30, 0x01, 0x05 }, der3[] = { 0x30, 0x01, 0x03 },
		       der5b[] = { 0x30, 0x01, 0x55 }, der6[] = { 0x30, 0x01, 0x06 };
	struct fx *fx = *state;
	struct store_crl c5 = { 5, 500, 600, 1, der5, sizeof(der5) };
	struct store_crl c3 = { 3, 700, 800, 2, der3, sizeof(der3) };
	struct store_crl c5b = { 5, 900, 950, 3, der5b, sizeof(der5b) };
	struct store_crl c6 = { 6, 1000, 1100, 4, der6, sizeof(der6) };
	struct store_crl out;

	assert_int_equal(store_crl_put(fx->st, &c5), 0);
	assert_int_equal(store_crl_put(fx->st, &c3), 0);
	assert_int_equal(store_crl_put(fx->st, &c5b), 0);
	assert_int_equal(store_crl_get(fx->st, &out), 0);
	assert_int_equal(out.number, 5);
	assert_int_equal(out.this_update, 500);
	assert_int_equal(out.revocations, 1);
	assert_memory_equal(out.der, der5, sizeof(der5));
	free(out.der);
	assert_int_equal(store_crl_put(fx->st, &c6), 0);
	assert_int_equal(store_crl_get(fx->st, &out), 0);
	assert_int_equal(out.number, 6);
	assert_int_equal(out.next_update, 1100);
	assert_memory_equal(out.der, der6, sizeof(der6));
	free(out.der);
}

static void
test_crl_put_refuses_an_empty_der(void **state)
{
	static uint8_t der[] = { 0x30, 0x00 };
	struct fx *fx = *state;
	struct store_crl crl = { 1, 1, 2, 0, NULL, 0 }, out;

	assert_int_equal(store_crl_put(fx->st, &crl), ZTP_EINVAL);
	crl.der = der;
	assert_int_equal(store_crl_put(fx->st, &crl), ZTP_EINVAL);
	crl.der = NULL;
	crl.der_len = sizeof(der);
	assert_int_equal(store_crl_put(fx->st, &crl), ZTP_EINVAL);
	assert_int_equal(store_crl_get(fx->st, &out), ZTP_ENOENT);
}

static void
test_crl_revocations_start_at_zero(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(revocations(fx), 0);
}

/* ---- the groups' certificate policy ---- */

static struct store_group
est_group(const char *name, int est_auth, int cert_days, int64_t grace)
{
	struct store_group g;

	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "%s", name);
	g.est_auth = est_auth;
	g.cert_days = cert_days;
	g.reenroll_grace_s = grace;
	return g;
}

static void
test_group_est_fields_round_trip(void **state)
{
	struct fx *fx = *state;
	struct store_group g = est_group("est", STORE_EST_PASSWORD | STORE_EST_MANUFACTURER, 365,
	    86400);
	struct store_group out;

	assert_int_equal(store_group_create(fx->st, &g, NULL), 0);
	assert_int_equal(store_group_get(fx->st, "est", &out), 0);
	assert_int_equal(out.est_auth, STORE_EST_PASSWORD | STORE_EST_MANUFACTURER);
	assert_int_equal(out.cert_days, 365);
	assert_int_equal(out.reenroll_grace_s, 86400);
	g = est_group("defaults", STORE_EST_ALLOWLIST, 0, -1);
	assert_int_equal(store_group_create(fx->st, &g, NULL), 0);
	assert_int_equal(store_group_get(fx->st, "defaults", &out), 0);
	assert_int_equal(out.est_auth, STORE_EST_ALLOWLIST);
	assert_int_equal(out.cert_days, 0);
	assert_int_equal(out.reenroll_grace_s, -1);
}

/* 0: the group inherits the server's --est-auth */
static void
test_group_est_auth_zero_is_kept_as_inherit(void **state)
{
	struct fx *fx = *state;
	struct store_group g = est_group("zero", 0, 0, 0), out;

	assert_int_equal(store_group_create(fx->st, &g, NULL), 0);
	assert_int_equal(store_group_get(fx->st, "zero", &out), 0);
	assert_int_equal(out.est_auth, 0);
}

static void
test_group_refuses_bad_est_values(void **state)
{
	struct fx *fx = *state;
	struct store_group g, out;

	g = est_group("g", 0x8, 0, -1);
	assert_int_equal(store_group_create(fx->st, &g, NULL), ZTP_EINVAL);
	g = est_group("g", STORE_EST_ALL | 0x10, 0, -1);
	assert_int_equal(store_group_create(fx->st, &g, NULL), ZTP_EINVAL);
	g = est_group("g", -1, 0, -1);
	assert_int_equal(store_group_create(fx->st, &g, NULL), ZTP_EINVAL);
	g = est_group("g", STORE_EST_ALL, 7301, -1);
	assert_int_equal(store_group_create(fx->st, &g, NULL), ZTP_EINVAL);
	g = est_group("g", STORE_EST_ALL, -1, -1);
	assert_int_equal(store_group_create(fx->st, &g, NULL), ZTP_EINVAL);
	g = est_group("g", STORE_EST_ALL, 0, -2);
	assert_int_equal(store_group_create(fx->st, &g, NULL), ZTP_EINVAL);
	assert_int_equal(store_group_get(fx->st, "g", &out), ZTP_ENOENT);
	/* the bounds themselves are fine */
	g = est_group("g", STORE_EST_ALL, 7300, -1);
	assert_int_equal(store_group_create(fx->st, &g, NULL), 0);
	assert_int_equal(store_group_get(fx->st, "g", &out), 0);
	assert_int_equal(out.cert_days, 7300);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fresh_open_has_all_certificate_tables),
		T(test_reopen_keeps_the_certificate_tables),
		T(test_udid_valid_accepts_letters_digits_and_four_marks),
		T(test_udid_valid_refuses_other_characters),
		T(test_udid_of_64_characters_is_valid_65_is_not),
		T(test_udid_empty_or_null_is_invalid),
		T(test_allow_add_then_get),
		T(test_allow_add_without_group_and_iccid),
		T(test_allow_add_of_the_same_entry_again_is_ok_and_unchanged),
		T(test_allow_add_of_another_key_is_exist_and_keeps_the_old),
		T(test_allow_add_of_another_group_is_exist_and_keeps_the_old),
		T(test_allow_add_of_another_iccid_is_exist_and_keeps_the_old),
		T(test_allow_add_with_an_unknown_group_is_noent),
		T(test_allow_add_of_an_invalid_udid_or_iccid_is_inval),
		T(test_allow_get_of_unknown_udid_is_noent),
		T(test_allow_delete_then_get_is_noent),
		T(test_allow_delete_of_unknown_udid_is_noent),
		T(test_allow_list_pages_with_after_and_limit),
		T(test_allow_import_adds_keeps_and_refuses_with_reasons),
		T(test_allow_import_is_idempotent),
		T(test_allow_import_over_the_batch_max_is_toobig_and_adds_nothing),
		T(test_allow_import_of_the_batch_max_is_taken),
		T(test_allow_import_of_nothing_is_ok),
		T(test_password_create_then_check),
		T(test_password_wrong_is_auth),
		T(test_password_of_another_udid_is_auth),
		T(test_password_expired_is_expired),
		T(test_password_expires_with_time),
		T(test_password_used_is_conflict),
		T(test_password_create_refuses_bad_input),
		T(test_password_is_not_in_the_database_file),
		T(test_two_passwords_for_one_udid_both_work),
		T(test_same_password_twice_finds_the_unused_one),
		T(test_cert_record_creates_the_thing_with_its_group_and_allowlist_iccid),
		T(test_cert_record_without_allowlist_entry_has_no_iccid),
		T(test_cert_record_updates_the_things_group),
		T(test_cert_record_consumes_the_password),
		T(test_cert_record_with_an_unknown_password_id_is_conflict),
		T(test_cert_record_for_a_blocked_thing_is_auth_and_records_nothing),
		T(test_cert_record_of_a_duplicate_serial_changes_nothing),
		T(test_cert_record_refuses_bad_input),
		T(test_cert_count_since_counts_the_udids_certs_after_since),
		T(test_cert_count_since_says_which_cert_must_leave_the_window),
		T(test_cert_count_since_reads_the_udid_index_only),
		T(test_cert_count_since_refuses_bad_input),
		T(test_cert_record_over_the_window_max_is_busy_and_keeps_the_password),
		T(test_cert_get_round_trips),
		T(test_cert_get_of_unknown_serial_is_noent),
		T(test_cert_list_by_udid_pages_with_after_and_limit),
		T(test_cert_list_without_udid_lists_all),
		T(test_cert_revoke_of_unknown_serial_is_noent),
		T(test_cert_revoke_then_again_is_exist_and_keeps_the_first_reason),
		T(test_cert_is_revoked_of_unrevoked_or_unknown_is_zero),
		T(test_revoked_list_excludes_expired_and_is_ordered),
		T(test_revocation_counter_moves_on_revoke_not_on_a_failed_one),
		T(test_revocation_counter_moves_on_block_with_certs_only),
		T(test_thing_block_from_allowlist_creates_a_blocked_record),
		T(test_thing_block_of_unknown_udid_is_noent),
		T(test_thing_block_revokes_unrevoked_certs_with_the_reason),
		T(test_thing_block_blocks_the_allowlist_sim),
		T(test_thing_block_blocks_the_records_sim_after_the_entry_is_gone),
		T(test_thing_block_blocks_the_sim_bound_to_the_udid),
		T(test_thing_block_blocks_the_sim_bound_to_an_upper_case_hex_udid),
		T(test_thing_unblock_lifts_the_sim_block_but_certs_stay_revoked),
		T(test_thing_unblock_of_an_allowlist_entry_without_record_is_noent),
		T(test_thing_get_counts_certs_and_shows_the_newest_serial),
		T(test_thing_get_of_unknown_udid_is_noent),
		T(test_thing_list_pages_with_after_and_limit),
		T(test_mfr_ca_add_list_delete),
		T(test_mfr_ca_add_refuses_bad_values_and_duplicates),
		T(test_mfr_ca_generation_moves_on_add_and_delete_only),
		T(test_crl_get_before_any_is_noent),
		T(test_crl_next_number_counts_from_one),
		T(test_crl_put_then_get),
		T(test_crl_put_of_a_lower_or_equal_number_keeps_the_newer),
		T(test_crl_put_refuses_an_empty_der),
		T(test_crl_revocations_start_at_zero),
		T(test_group_est_fields_round_trip),
		T(test_group_est_auth_zero_is_kept_as_inherit),
		T(test_group_refuses_bad_est_values),
	};

	log_init("test_store_est", LOG_FORMAT_TEXT, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
