/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's owners and owner-scoped API keys (schema 7), on a real
 * SQLite file, or with ZTP_TEST_PG on a fresh PostgreSQL database per test
 * (store_fixture.h): owner names are checked, listed in pages by name; a
 * key acts for all owners or for one that exists, its secret is kept
 * hashed, a revoked key is refused at once and the last all-owners key
 * cannot be revoked; events carry their owner and device, and a list for
 * one owner holds only that owner's.
 */
#define _GNU_SOURCE /* memmem, in the fixture */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "events.h"
#include "log.h"
#include "store.h"
#include "ztp/err.h"

#include "store_fixture.h"

static const uint8_t key[CRYPTO_KEY_LEN] = { 13 };

#define SECRET "5e17b0c3a9d2e8f1c4b7a6d5e0f3c2b1a4d7e6f5c0b3a2d1e4f7c6b5a0d3e2f1"

static int
setup(void **state)
{
	log_init("test", LOG_FORMAT_TEXT, LOG_LEVEL_WARN + 1);
	return fixture_setup(state, key);
}

static void
test_owner_names_are_checked(void **state)
{
	char longest[STORE_OWNER_MAX + 2];

	(void)state;
	assert_true(store_owner_valid("acme"));
	assert_true(store_owner_valid("A-b.c_9"));
	memset(longest, 'x', sizeof(longest));
	longest[STORE_OWNER_MAX] = '\0';
	assert_true(store_owner_valid(longest));
	longest[STORE_OWNER_MAX] = 'x';
	longest[STORE_OWNER_MAX + 1] = '\0';
	assert_false(store_owner_valid(longest));
	assert_false(store_owner_valid(""));
	assert_false(store_owner_valid(NULL));
	assert_false(store_owner_valid("a b"));
	assert_false(store_owner_valid("a/b"));
	assert_false(store_owner_valid("ä"));
	assert_false(store_owner_valid("a\n"));
}

static void
test_owner_create_get_and_refusals(void **state)
{
	struct fx *fx = *state;
	struct store_owner o;

	assert_int_equal(store_owner_create(fx->st, "acme"), 0);
	assert_int_equal(store_owner_create(fx->st, "acme"), ZTP_EEXIST);
	assert_int_equal(store_owner_create(fx->st, "bad name"), ZTP_EINVAL);
	assert_int_equal(store_owner_get(fx->st, "acme", &o), 0);
	assert_string_equal(o.name, "acme");
	assert_true(o.created_at > 0);
	assert_int_equal(o.keys, 0);
	assert_int_equal(o.profiles, 0);
	assert_int_equal(o.modules, 0);
	assert_int_equal(store_owner_get(fx->st, "none", &o), ZTP_ENOENT);
	assert_int_equal(store_owner_get(fx->st, "bad name", &o), ZTP_ENOENT);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM owners", NULL), 1);
}

struct names {
	char name[8][STORE_OWNER_MAX + 1];
	int n;
};

static int
collect_owner(const struct store_owner *o, void *arg)
{
	struct names *l = arg;

	if (l->n < 8)
		snprintf(l->name[l->n], sizeof(l->name[0]), "%s", o->name);
	l->n++;
	return 0;
}

static void
test_owner_list_pages_by_name(void **state)
{
	struct fx *fx = *state;
	struct names l;

	assert_int_equal(store_owner_create(fx->st, "c"), 0);
	assert_int_equal(store_owner_create(fx->st, "a"), 0);
	assert_int_equal(store_owner_create(fx->st, "b"), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_owner_list(fx->st, "", 2, collect_owner, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.name[0], "a");
	assert_string_equal(l.name[1], "b");
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_owner_list(fx->st, "b", 2, collect_owner, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.name[0], "c");
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_owner_list(fx->st, NULL, 100, collect_owner, &l), 0);
	assert_int_equal(l.n, 3);
}

static void
test_first_key_acts_for_all_owners_named_admin(void **state)
{
	struct fx *fx = *state;
	char owner[STORE_OWNER_MAX + 1] = "x";
	struct store_apikey k;

	assert_int_equal(store_apikey_create(fx->st, "ak_first", SECRET), 0);
	assert_int_equal(store_apikey_get(fx->st, "ak_first", &k), 0);
	assert_string_equal(k.name, "admin");
	assert_string_equal(k.owner, "");
	assert_int_equal(k.revoked_at, 0);
	assert_int_equal(store_apikey_verify_scope(fx->st, "ak_first", SECRET, owner), 0);
	assert_string_equal(owner, "");
	assert_int_equal(store_apikey_verify(fx->st, "ak_first", SECRET), 0);
	assert_int_equal(store_apikey_verify(fx->st, "ak_first", SECRET "0"), ZTP_EAUTH);
	assert_int_equal(store_apikey_scope(fx->st, "ak_first", owner), 0);
	assert_string_equal(owner, "");
}

static void
test_scoped_key_needs_an_existing_owner_and_a_name(void **state)
{
	struct fx *fx = *state;
	char owner[STORE_OWNER_MAX + 1];
	struct store_apikey k;
	struct store_owner o;

	assert_int_equal(store_apikey_create_scoped(fx->st, "ak_1", SECRET, "ops", "acme"),
	    ZTP_ENOENT);
	assert_int_equal(store_owner_create(fx->st, "acme"), 0);
	assert_int_equal(store_apikey_create_scoped(fx->st, "ak_1", SECRET, "bad name", "acme"),
	    ZTP_EINVAL);
	assert_int_equal(store_apikey_create_scoped(fx->st, "", SECRET, "ops", "acme"), ZTP_EINVAL);
	assert_int_equal(store_apikey_create_scoped(fx->st, "ak_1", "", "ops", "acme"), ZTP_EINVAL);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM api_keys", NULL), 0);
	assert_int_equal(store_apikey_create_scoped(fx->st, "ak_1", SECRET, "ops", "acme"), 0);
	assert_int_equal(store_apikey_create_scoped(fx->st, "ak_1", SECRET, "ops", "acme"),
	    ZTP_EEXIST);
	assert_int_equal(store_apikey_get(fx->st, "ak_1", &k), 0);
	assert_string_equal(k.name, "ops");
	assert_string_equal(k.owner, "acme");
	assert_int_equal(store_apikey_verify_scope(fx->st, "ak_1", SECRET, owner), 0);
	assert_string_equal(owner, "acme");
	assert_int_equal(store_apikey_scope(fx->st, "ak_1", owner), 0);
	assert_string_equal(owner, "acme");
	assert_int_equal(store_apikey_scope(fx->st, "ak_none", owner), ZTP_ENOENT);
	assert_int_equal(store_owner_get(fx->st, "acme", &o), 0);
	assert_int_equal(o.keys, 1);
	/* "" is all owners, as NULL */
	assert_int_equal(store_apikey_create_scoped(fx->st, "ak_2", SECRET, "root", ""), 0);
	assert_int_equal(store_apikey_scope(fx->st, "ak_2", owner), 0);
	assert_string_equal(owner, "");
}

static void
test_secret_is_stored_hashed(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_owner_create(fx->st, "acme"), 0);
	assert_int_equal(store_apikey_create_scoped(fx->st, "ak_1", SECRET, "ops", "acme"), 0);
	assert_false(sql_rows_contain(fx->path, "SELECT * FROM api_keys", SECRET));
	close_store(fx);
	assert_true(db_contains(fx, "ak_1", 4));
	assert_false(db_contains(fx, SECRET, strlen(SECRET)));
}

static void
test_revoked_key_is_refused_at_once(void **state)
{
	struct fx *fx = *state;
	char owner[STORE_OWNER_MAX + 1];
	struct store_apikey k;
	struct store_owner o;

	assert_int_equal(store_apikey_create(fx->st, "ak_root", SECRET), 0);
	assert_int_equal(store_owner_create(fx->st, "acme"), 0);
	assert_int_equal(store_apikey_create_scoped(fx->st, "ak_1", SECRET, "ops", "acme"), 0);
	assert_int_equal(store_apikey_revoke(fx->st, "ak_1", 12345), 0);
	assert_int_equal(store_apikey_verify(fx->st, "ak_1", SECRET), ZTP_EAUTH);
	assert_int_equal(store_apikey_verify_scope(fx->st, "ak_1", SECRET, owner), ZTP_EAUTH);
	assert_int_equal(store_apikey_scope(fx->st, "ak_1", owner), ZTP_EAUTH);
	assert_true(store_apikey_exists(fx->st, "ak_1"));
	assert_int_equal(store_apikey_get(fx->st, "ak_1", &k), 0);
	assert_int_equal(k.revoked_at, 12345);
	/* revoked once: a second time changes nothing */
	assert_int_equal(store_apikey_revoke(fx->st, "ak_1", 99999), ZTP_EEXIST);
	assert_int_equal(store_apikey_get(fx->st, "ak_1", &k), 0);
	assert_int_equal(k.revoked_at, 12345);
	assert_int_equal(store_apikey_revoke(fx->st, "ak_none", 1), ZTP_ENOENT);
	assert_int_equal(store_owner_get(fx->st, "acme", &o), 0);
	assert_int_equal(o.keys, 0);
	/* the other keys are as they were */
	assert_int_equal(store_apikey_verify(fx->st, "ak_root", SECRET), 0);
}

static void
test_last_all_owners_key_stays(void **state)
{
	struct fx *fx = *state;
	char owner[STORE_OWNER_MAX + 1];

	assert_int_equal(store_apikey_create(fx->st, "ak_root", SECRET), 0);
	assert_int_equal(store_owner_create(fx->st, "acme"), 0);
	assert_int_equal(store_apikey_create_scoped(fx->st, "ak_1", SECRET, "ops", "acme"), 0);
	/* an owner's key does not count: nobody could manage keys any more */
	assert_int_equal(store_apikey_revoke(fx->st, "ak_root", 1), ZTP_ECONFLICT);
	assert_int_equal(store_apikey_scope(fx->st, "ak_root", owner), 0);
	assert_int_equal(store_apikey_create_scoped(fx->st, "ak_2", SECRET, "root2", NULL), 0);
	assert_int_equal(store_apikey_revoke(fx->st, "ak_root", 1), 0);
	assert_int_equal(store_apikey_revoke(fx->st, "ak_2", 1), ZTP_ECONFLICT);
	assert_int_equal(store_apikey_verify(fx->st, "ak_2", SECRET), 0);
}

struct keys {
	struct store_apikey k[8];
	int n;
};

static int
collect_key(const struct store_apikey *k, void *arg)
{
	struct keys *l = arg;

	if (l->n < 8)
		l->k[l->n] = *k;
	l->n++;
	return 0;
}

static void
test_key_list_pages_by_id_with_revoked_ones(void **state)
{
	struct fx *fx = *state;
	struct keys l;

	assert_int_equal(store_owner_create(fx->st, "acme"), 0);
	assert_int_equal(store_apikey_create(fx->st, "ak_c", SECRET), 0);
	assert_int_equal(store_apikey_create_scoped(fx->st, "ak_a", SECRET, "one", "acme"), 0);
	assert_int_equal(store_apikey_create_scoped(fx->st, "ak_b", SECRET, "two", NULL), 0);
	assert_int_equal(store_apikey_revoke(fx->st, "ak_a", 5), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_apikey_list(fx->st, "", 2, collect_key, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.k[0].key_id, "ak_a");
	assert_string_equal(l.k[0].owner, "acme");
	assert_int_equal(l.k[0].revoked_at, 5);
	assert_string_equal(l.k[1].key_id, "ak_b");
	assert_string_equal(l.k[1].owner, "");
	assert_int_equal(l.k[1].revoked_at, 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_apikey_list(fx->st, "ak_b", 2, collect_key, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.k[0].key_id, "ak_c");
	assert_string_equal(l.k[0].name, "admin");
}

/* ---- events with an owner and a device ---- */

struct evs {
	struct store_event ev[16];
	int n;
};

static int
collect_ev(const struct store_event *ev, void *arg)
{
	struct evs *l = arg;

	if (l->n < 16)
		l->ev[l->n] = *ev;
	l->n++;
	return 0;
}

#define ROT_A "00112233445566778899aabbccddeeff"
#define ROT_B "ffeeddccbbaa99887766554433221100"

static void
test_events_carry_owner_and_device_and_list_by_owner(void **state)
{
	struct fx *fx = *state;
	struct evs l;

	assert_int_equal(store_event_add(fx->st, "admin_change", "8944502509186389635", NULL,
	    "a SIM's"), 0);
	assert_int_equal(store_event_add_dev(fx->st, "module_clone", "acme", ROT_A, NULL,
	    "127.0.0.1:1", "acme's"), 0);
	assert_int_equal(store_event_add_dev(fx->st, "module_clone", "globex", ROT_B, NULL, NULL,
	    "globex's"), 0);
	assert_int_equal(store_event_add_dev(fx->st, "module_unknown", NULL, ROT_B, NULL, NULL,
	    "nobody's"), 0);

	memset(&l, 0, sizeof(l));
	assert_int_equal(store_event_list_owner(fx->st, NULL, 0, 0, 100, collect_ev, &l), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.ev[0].owner, "");
	assert_string_equal(l.ev[0].device, "");
	assert_string_equal(l.ev[0].iccid, "8944502509186389635");
	assert_string_equal(l.ev[1].owner, "acme");
	assert_string_equal(l.ev[1].device, ROT_A);
	assert_string_equal(l.ev[3].owner, "");
	assert_string_equal(l.ev[3].device, ROT_B);

	memset(&l, 0, sizeof(l));
	assert_int_equal(store_event_list_owner(fx->st, "acme", 0, 0, 100, collect_ev, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.ev[0].detail, "acme's");
	assert_string_equal(l.ev[0].peer, "127.0.0.1:1");

	memset(&l, 0, sizeof(l));
	assert_int_equal(store_event_list_owner(fx->st, "globex", 0, 0, 100, collect_ev, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.ev[0].detail, "globex's");
	/* paging: after its id there is nothing more of globex's */
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_event_list_owner(fx->st, "globex", 0, 3, 100, collect_ev, &l), 0);
	assert_int_equal(l.n, 0);
	/* no owner of that name: nothing, not everything */
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_event_list_owner(fx->st, "nobody", 0, 0, 100, collect_ev, &l), 0);
	assert_int_equal(l.n, 0);
}

/* events_record_dev, the synchronous path, writes the owner and device columns */
static void
test_events_record_dev_writes_the_columns(void **state)
{
	struct fx *fx = *state;
	struct evs l;

	events_record_dev(fx->st, EV_ADMIN_CHANGE, "acme", ROT_A, "[::1]:5", "transferred %d", 1);
	events_record(fx->st, EV_ADMIN_CHANGE, NULL, NULL, "no owner");
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_event_list_owner(fx->st, "acme", 0, 0, 100, collect_ev, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.ev[0].device, ROT_A);
	assert_string_equal(l.ev[0].detail, "transferred 1");
	assert_string_equal(l.ev[0].peer, "[::1]:5");
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events WHERE owner IS NULL AND"
					   " device IS NULL", NULL), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_names_are_checked),
		cmocka_unit_test_setup_teardown(test_owner_create_get_and_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_list_pages_by_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_key_acts_for_all_owners_named_admin, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scoped_key_needs_an_existing_owner_and_a_name,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_is_stored_hashed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked_key_is_refused_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_all_owners_key_stays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_list_pages_by_id_with_revoked_ones, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_events_carry_owner_and_device_and_list_by_owner,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_record_dev_writes_the_columns, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
