/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's side of the module protocol (store_module.c), on a real
 * SQLite file, or with ZTP_TEST_PG on a fresh PostgreSQL database per test
 * (store_fixture.h): which key an epoch is, the pending key and its commit
 * (the ratchet), the history that recognises a clone, the claim by a
 * profile's owner, quarantine.
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
#include "modmsg.h"
#include "store.h"
#include "ztp/err.h"

#include "store_fixture.h"

static const uint8_t dkey[CRYPTO_KEY_LEN] = { 9 };
static const char rot[] = "00112233445566778899aabbccddeeff";

static int
setup(void **state)
{
	struct fx *fx;
	uint8_t factory[STORE_MODKEY_LEN];

	log_init("test", LOG_FORMAT_TEXT, LOG_LEVEL_WARN + 1);
	if (fixture_setup(state, dkey) != 0)
		return -1;
	fx = *state;
	memset(factory, 0xF0, sizeof(factory));
	return store_module_add(fx->st, rot, factory, "batch-1", 1000);
}

static void
key_of(uint8_t k[STORE_MODKEY_LEN], int n)
{
	memset(k, n, STORE_MODKEY_LEN);
}

static void
test_add_and_factory_key(void **state)
{
	struct fx *fx = *state;
	uint8_t k[STORE_MODKEY_LEN], want[STORE_MODKEY_LEN];
	enum store_modkey_kind kind;
	struct store_mod m;

	memset(k, 0, sizeof(k));
	assert_int_equal(store_module_add(fx->st, rot, k, NULL, 1), ZTP_EEXIST);
	assert_int_equal(store_module_add(fx->st, "0011", k, NULL, 1), ZTP_EINVAL);
	assert_int_equal(store_module_key(fx->st, rot, 0, k, &kind), 0);
	memset(want, 0xF0, sizeof(want));
	assert_memory_equal(k, want, sizeof(k));
	assert_int_equal(kind, STORE_MODKEY_FACTORY);
	assert_int_equal(store_module_key(fx->st, rot, 1, k, &kind), ZTP_ENOENT);
	assert_int_equal(store_module_key(fx->st, "ffffffffffffffffffffffffffffffff", 0, k, &kind),
	    ZTP_ENOENT);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_string_equal(m.batch, "batch-1");
	assert_false(m.factory_retired);
	assert_int_equal(m.epoch, 0);
	/* sealed at rest: the factory secret is not in the database's files */
	assert_false(db_contains(fx, want, sizeof(want)));
}

static void
test_bootstrap_commit_and_ratchet(void **state)
{
	struct fx *fx = *state;
	struct store_module_commit_out out;
	uint8_t k1[STORE_MODKEY_LEN], k2[STORE_MODKEY_LEN], k[STORE_MODKEY_LEN];
	enum store_modkey_kind kind;
	struct store_mod m;

	key_of(k1, 1);
	key_of(k2, 2);
	assert_int_equal(store_module_pending_set(fx->st, rot, 0, 1, k1, MODMSG_F_PSK, 2000), 0);
	assert_int_equal(store_module_key(fx->st, rot, 1, k, &kind), 0);
	assert_int_equal(kind, STORE_MODKEY_PENDING);
	assert_memory_equal(k, k1, sizeof(k));
	/* a commit of another key of that epoch changes nothing */
	assert_int_equal(store_module_commit(fx->st, rot, 1, k2, 0, 2100, &out), ZTP_ECONFLICT);
	assert_int_equal(store_module_commit(fx->st, rot, 2, k1, 0, 2100, &out), ZTP_ECONFLICT);
	assert_int_equal(store_module_commit(fx->st, rot, 1, k1, 0, 2100, &out), 0);
	assert_true(out.bootstrapped);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_true(m.factory_retired);
	assert_int_equal(m.epoch, 1);
	assert_int_equal(m.pending_epoch, 0);
	assert_int_equal(m.features, MODMSG_F_PSK);
	assert_int_equal(m.features_applied, MODMSG_F_PSK);
	assert_int_equal(m.bootstrapped_at, 2100);
	assert_int_equal(m.heartbeats, 0);
	/* the factory secret is now a clone's key */
	assert_int_equal(store_module_key(fx->st, rot, 0, k, &kind), 0);
	assert_int_equal(kind, STORE_MODKEY_RETIRED);
	assert_int_equal(store_module_key(fx->st, rot, 1, k, &kind), 0);
	assert_int_equal(kind, STORE_MODKEY_CURRENT);
	/* a second bootstrap is refused */
	assert_int_equal(store_module_pending_set(fx->st, rot, 0, 1, k2, 0, 2200), ZTP_ECONFLICT);
	/* a heartbeat: epoch 2 pending, then committed; epoch 1 joins the history */
	assert_int_equal(store_module_pending_set(fx->st, rot, 1, 2, k2, 0, 3000), 0);
	assert_int_equal(store_module_key(fx->st, rot, 1, k, &kind), 0);
	assert_int_equal(kind, STORE_MODKEY_CURRENT);
	assert_int_equal(store_module_commit(fx->st, rot, 2, k2, 1, 3100, &out), 0);
	assert_false(out.bootstrapped);
	assert_int_equal(store_module_key(fx->st, rot, 1, k, &kind), 0);
	assert_int_equal(kind, STORE_MODKEY_RETIRED);
	assert_memory_equal(k, k1, sizeof(k));
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_int_equal(m.epoch, 2);
	assert_int_equal(m.heartbeats, 1);
	assert_int_equal(m.last_heartbeat_at, 3000); /* when the heartbeat was answered */
	/* a pending key for an epoch that is not current + anything is refused */
	assert_int_equal(store_module_pending_set(fx->st, rot, 1, 3, k1, 0, 3200), ZTP_ECONFLICT);
}

static void
test_history_is_bounded(void **state)
{
	struct fx *fx = *state;
	struct store_module_commit_out out;
	uint8_t k[STORE_MODKEY_LEN];
	enum store_modkey_kind kind;
	uint32_t e;

	for (e = 1; e <= STORE_MODKEY_HISTORY + 4; e++) {
		key_of(k, (int)e);
		assert_int_equal(store_module_pending_set(fx->st, rot, e - 1, e, k, 0, 1000 + e), 0);
		assert_int_equal(store_module_commit(fx->st, rot, e, k, 1, 1000 + e, &out), 0);
	}
	e = STORE_MODKEY_HISTORY + 4;
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM module_keys WHERE rot_uid = ?1",
			     rot), STORE_MODKEY_HISTORY);
	assert_int_equal(store_module_key(fx->st, rot, e - STORE_MODKEY_HISTORY, k, &kind), 0);
	assert_int_equal(kind, STORE_MODKEY_RETIRED);
	assert_int_equal(store_module_key(fx->st, rot, e - STORE_MODKEY_HISTORY - 1, k, &kind),
	    ZTP_ENOENT);
	/* an epoch ahead of the current one is nobody's */
	assert_int_equal(store_module_key(fx->st, rot, e + 1, k, &kind), ZTP_ENOENT);
}

static void
test_claim_at_bootstrap_and_later(void **state)
{
	struct fx *fx = *state;
	struct store_module_commit_out out;
	const char *prof = "0123456789abcdef0123456789abcdef";
	uint8_t k[STORE_MODKEY_LEN];
	struct store_mod m;
	struct modmsg msg;

	sql_run(fx->path, "INSERT INTO owners(name, created_at) VALUES('acme', 1)");
	sql_run(fx->path, "INSERT INTO profiles(uid, name, owner, features, hb_interval_s,"
			  " hb_min_interval_s, created_at) VALUES('0123456789abcdef0123456789abcdef',"
			  " 'meter', 'acme', 3, 600, 60, 1)");
	/* bootstrapped unsealed: no owner */
	memset(&msg, 0, sizeof(msg));
	snprintf(msg.firmware, sizeof(msg.firmware), "1.0");
	MODMSG_SET(&msg, MODMSG_FIRMWARE);
	assert_int_equal(store_module_report(fx->st, rot, &msg, 1500, &out), 0);
	assert_false(out.claimed);
	key_of(k, 1);
	assert_int_equal(store_module_pending_set(fx->st, rot, 0, 1, k, 0, 2000), 0);
	assert_int_equal(store_module_commit(fx->st, rot, 1, k, 0, 2100, &out), 0);
	assert_false(out.claimed);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_string_equal(m.owner, "");
	assert_string_equal(m.firmware, "1.0");
	/* sealed since: its next report assigns it */
	snprintf(msg.profile, sizeof(msg.profile), "%s", prof);
	snprintf(msg.serial, sizeof(msg.serial), "SN-1");
	MODMSG_SET(&msg, MODMSG_PROFILE);
	MODMSG_SET(&msg, MODMSG_SERIAL);
	assert_int_equal(store_module_report(fx->st, rot, &msg, 3000, &out), 0);
	assert_true(out.claimed);
	assert_string_equal(out.owner, "acme");
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_string_equal(m.owner, "acme");
	assert_int_equal(m.features, 3); /* the profile's, as at a bootstrap */
	assert_string_equal(m.profile_uid, prof);
	assert_string_equal(m.serial, "SN-1");
	assert_int_equal(m.claimed_at, 3000);
	/* the seal is kept from its first report: a later one does not change it */
	snprintf(msg.serial, sizeof(msg.serial), "SN-2");
	assert_int_equal(store_module_report(fx->st, rot, &msg, 3100, &out), 0);
	assert_false(out.claimed);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_string_equal(m.serial, "SN-1");
}

static void
test_claim_at_commit(void **state)
{
	struct fx *fx = *state;
	struct store_module_commit_out out;
	uint8_t k[STORE_MODKEY_LEN];
	char owner[STORE_OWNER_MAX + 1];
	uint32_t f, hb, hbmin;
	struct modmsg msg;

	sql_run(fx->path, "INSERT INTO owners(name, created_at) VALUES('acme', 1)");
	sql_run(fx->path, "INSERT INTO profiles(uid, name, owner, features, hb_interval_s,"
			  " hb_min_interval_s, created_at) VALUES('0123456789abcdef0123456789abcdef',"
			  " 'meter', 'acme', 3, 600, 60, 1)");
	assert_int_equal(store_module_profile(fx->st, "0123456789abcdef0123456789abcdef", owner,
			     &f, &hb, &hbmin), 0);
	assert_string_equal(owner, "acme");
	assert_int_equal(f, 3);
	assert_int_equal(hb, 600);
	assert_int_equal(hbmin, 60);
	assert_int_equal(store_module_profile(fx->st, "ffffffffffffffffffffffffffffffff", owner,
			     &f, &hb, &hbmin), ZTP_ENOENT);
	memset(&msg, 0, sizeof(msg));
	snprintf(msg.profile, sizeof(msg.profile), "0123456789abcdef0123456789abcdef");
	MODMSG_SET(&msg, MODMSG_PROFILE);
	assert_int_equal(store_module_report(fx->st, rot, &msg, 1500, &out), 0);
	assert_false(out.claimed); /* not bootstrapped yet */
	key_of(k, 1);
	assert_int_equal(store_module_pending_set(fx->st, rot, 0, 1, k, 3, 2000), 0);
	assert_int_equal(store_module_commit(fx->st, rot, 1, k, 0, 2100, &out), 0);
	assert_true(out.bootstrapped);
	assert_true(out.claimed);
	assert_string_equal(out.owner, "acme");
}

static void
test_quarantine(void **state)
{
	struct fx *fx = *state;
	struct store_module_commit_out out;
	uint8_t k[STORE_MODKEY_LEN];
	struct store_mod m;

	sql_run(fx->path, "INSERT INTO campaigns(id, owner, enable, created_at) VALUES(7, 'acme', 1,"
			  " 1)");
	sql_run(fx->path, "INSERT INTO campaign_devices(campaign_id, rot_uid, state, created_at,"
			  " updated_at) VALUES(7, '00112233445566778899aabbccddeeff', 0, 1, 1)");
	key_of(k, 1);
	assert_int_equal(store_module_pending_set(fx->st, rot, 0, 1, k, 0, 2000), 0);
	assert_int_equal(store_module_quarantine(fx->st, rot, 1, "clone: test", 2500), 0);
	assert_int_equal(store_module_quarantine(fx->st, rot, 1, "clone: again", 2600), 0);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_true(m.quarantined);
	assert_int_equal(m.quarantined_at, 2500);
	assert_string_equal(m.quarantine_reason, "clone: test");
	assert_int_equal(m.clones, 2);
	assert_int_equal(m.pending_epoch, 0); /* the pending key went with it */
	assert_int_equal(store_module_commit(fx->st, rot, 1, k, 0, 2700, &out), ZTP_ECONFLICT);
	assert_int_equal(store_module_pending_set(fx->st, rot, 0, 1, k, 0, 2800), ZTP_EAUTH);
	assert_int_equal(sql_int(fx->path, "SELECT state FROM campaign_devices WHERE rot_uid = ?1",
			     rot), 2);
	assert_int_equal(store_module_quarantine(fx->st, "ffffffffffffffffffffffffffffffff", 0,
			     "x", 1), ZTP_ENOENT);
}

static void
test_campaign_applied_by_commit(void **state)
{
	struct fx *fx = *state;
	struct store_module_commit_out out;
	uint8_t k[STORE_MODKEY_LEN];

	key_of(k, 1);
	assert_int_equal(store_module_pending_set(fx->st, rot, 0, 1, k, 0, 2000), 0);
	assert_int_equal(store_module_commit(fx->st, rot, 1, k, 0, 2100, &out), 0);
	sql_run(fx->path, "INSERT INTO campaigns(id, owner, enable, created_at) VALUES(7, NULL, 1,"
			  " 3000)");
	sql_run(fx->path, "INSERT INTO campaign_devices(campaign_id, rot_uid, state, created_at,"
			  " updated_at) VALUES(7, '00112233445566778899aabbccddeeff', 0, 3000, 3000)");
	/* a heartbeat delivered before the campaign does not apply it */
	key_of(k, 2);
	assert_int_equal(store_module_pending_set(fx->st, rot, 1, 2, k, 0, 2900), 0);
	assert_int_equal(store_module_commit(fx->st, rot, 2, k, 1, 3100, &out), 0);
	assert_int_equal(sql_int(fx->path, "SELECT state FROM campaign_devices WHERE rot_uid = ?1",
			     rot), 0);
	key_of(k, 3);
	assert_int_equal(store_module_pending_set(fx->st, rot, 2, 3, k, 1, 3200), 0);
	assert_int_equal(store_module_commit(fx->st, rot, 3, k, 1, 3300, &out), 0);
	assert_int_equal(sql_int(fx->path, "SELECT state FROM campaign_devices WHERE rot_uid = ?1",
			     rot), 1);
}

/*
 * Times are milliseconds since 1970 and counters u32: neither fits a
 * 32-bit integer. PostgreSQL types an untyped parameter from where it is
 * first used, and "?5 > 0" made the claim time of a commit an integer (a
 * real bootstrap's confirmation failed with 500), "?5 >= 0" a report's
 * boot counter.
 */
static void
test_real_times_and_counters(void **state)
{
	struct fx *fx = *state;
	struct store_module_commit_out out;
	uint8_t k[STORE_MODKEY_LEN];
	struct store_mod m;
	struct modmsg msg;
	const int64_t now = 1796672452695LL;

	sql_run(fx->path, "INSERT INTO owners(name, created_at) VALUES('acme', 1)");
	sql_run(fx->path, "INSERT INTO profiles(uid, name, owner, features, hb_interval_s,"
			  " hb_min_interval_s, created_at) VALUES('0123456789abcdef0123456789abcdef',"
			  " 'meter', 'acme', 3, 600, 60, 1)");
	memset(&msg, 0, sizeof(msg));
	snprintf(msg.profile, sizeof(msg.profile), "0123456789abcdef0123456789abcdef");
	MODMSG_SET(&msg, MODMSG_PROFILE);
	msg.boots = 4000000000u;
	msg.heartbeats = 4000000001u;
	MODMSG_SET(&msg, MODMSG_COUNTERS);
	assert_int_equal(store_module_report(fx->st, rot, &msg, now, &out), 0);
	key_of(k, 1);
	assert_int_equal(store_module_pending_set(fx->st, rot, 0, 1, k, 3, now + 1), 0);
	assert_int_equal(store_module_commit(fx->st, rot, 1, k, 0, now + 2, &out), 0);
	assert_true(out.claimed);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_int_equal(m.claimed_at, now + 2);
	assert_int_equal(m.bootstrapped_at, now + 2);
	assert_int_equal(m.boots, 4000000000LL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_and_factory_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_commit_and_ratchet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_at_bootstrap_and_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_at_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quarantine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_campaign_applied_by_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_times_and_counters, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
