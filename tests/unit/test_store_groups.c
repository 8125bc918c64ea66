/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's SIM groups and batch import (schema 2), on a real SQLite
 * file, or with ZTP_TEST_PG on a fresh PostgreSQL database per test
 * (store_fixture.h): derived groups keep their master key sealed, the longest prefix
 * wins, derived SIMs register once, imports are idempotent per row.
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

static const uint8_t key[CRYPTO_KEY_LEN] = { 7 };

static int
setup(void **state)
{
	log_init("test", LOG_FORMAT_TEXT, LOG_LEVEL_WARN + 1);
	return fixture_setup(state, key);
}

static struct store_group
group(const char *name, const char *prefix, int derive)
{
	struct store_group g;

	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "%s", name);
	snprintf(g.iccid_prefix, sizeof(g.iccid_prefix), "%s", prefix);
	g.derive = derive;
	return g;
}

static void
test_group_create_get_list(void **state)
{
	struct fx *fx = *state;
	struct store_group g = group("plain", "", 0), out;

	g.allow_psk_ke = 1;
	g.rotation_period_s = 86400;
	assert_int_equal(store_group_create(fx->st, &g, NULL), 0);
	assert_int_equal(store_group_create(fx->st, &g, NULL), ZTP_EEXIST);
	assert_int_equal(store_group_get(fx->st, "plain", &out), 0);
	assert_true(out.allow_psk_ke);
	assert_int_equal(out.rotation_period_s, 86400);
	assert_int_equal(store_group_get(fx->st, "none", &out), ZTP_ENOENT);
}

static void
test_group_refuses_bad_values(void **state)
{
	struct fx *fx = *state;
	struct store_group g = group("bad name", "", 0);

	assert_int_equal(store_group_create(fx->st, &g, NULL), ZTP_EINVAL);
	g = group("ok", "89x", 0);
	assert_int_equal(store_group_create(fx->st, &g, NULL), ZTP_EINVAL);
	g = group("derived", "89", 1);
	assert_int_equal(store_group_create(fx->st, &g, NULL), ZTP_EINVAL); /* no master */
}

static void
test_longest_prefix_wins_and_master_is_sealed(void **state)
{
	struct fx *fx = *state;
	uint8_t m1[STORE_MASTER_LEN], m2[STORE_MASTER_LEN], got[STORE_MASTER_LEN];
	struct store_group a = group("short", "89", 1), b = group("long", "894450", 1);
	char name[STORE_GROUP_SIZE];

	memset(m1, 0x31, sizeof(m1));
	memset(m2, 0x32, sizeof(m2));
	assert_int_equal(store_group_create(fx->st, &a, m1), 0);
	assert_int_equal(store_group_create(fx->st, &b, m2), 0);
	assert_int_equal(store_group_derived_for(fx->st, "8944502509186389635", name, got), 0);
	assert_string_equal(name, "long");
	assert_memory_equal(got, m2, sizeof(m2));
	assert_int_equal(store_group_derived_for(fx->st, "8912345678901234567", name, got), 0);
	assert_string_equal(name, "short");
	assert_int_equal(store_group_derived_for(fx->st, "7012345678901234567", name, got),
	    ZTP_ENOENT);
	/* the master key is not in the file in clear */
	assert_false(db_contains(fx, m2, 16));
}

static void
test_derived_sim_registers_once_without_psk(void **state)
{
	struct fx *fx = *state;
	uint8_t m[STORE_MASTER_LEN] = { 1 }, psk[STORE_PSK_MAX];
	struct store_group g = group("d", "", 1);
	struct store_sim sim;
	size_t len;

	assert_int_equal(store_group_create(fx->st, &g, m), 0);
	assert_int_equal(store_sim_register_derived(fx->st, "8944502509186389635", "d"), 0);
	assert_int_equal(store_sim_register_derived(fx->st, "8944502509186389635", "d"),
	    ZTP_EEXIST);
	assert_int_equal(store_sim_get(fx->st, "8944502509186389635", &sim), 0);
	assert_true(sim.derived);
	assert_string_equal(sim.group, "d");
	/* no stored key: the caller derives it */
	assert_int_equal(store_sim_psk(fx->st, "8944502509186389635", 0, psk, &len), ZTP_ENOENT);
	assert_int_equal(store_group_get(fx->st, "d", &g), 0);
	assert_int_equal(g.sims, 1);
}

static void
test_import_adds_keeps_and_refuses(void **state)
{
	struct fx *fx = *state;
	struct store_import_row rows[4];
	struct store_import_result *res = calloc(1, sizeof(*res));
	struct store_group g = group("g1", "", 0);
	uint8_t psk[STORE_PSK_MAX];
	size_t len;

	assert_int_equal(store_group_create(fx->st, &g, NULL), 0);
	memset(rows, 0, sizeof(rows));
	snprintf(rows[0].iccid, sizeof(rows[0].iccid), "8944502509186389635");
	memset(rows[0].psk, 0xA1, 16);
	rows[0].psk_len = 16;
	rows[1] = rows[0];
	snprintf(rows[1].iccid, sizeof(rows[1].iccid), "8944502509186389643");
	snprintf(rows[1].group, sizeof(rows[1].group), "g1");
	rows[2] = rows[0];
	snprintf(rows[2].invalid, sizeof(rows[2].invalid), "bad PSK");
	rows[3] = rows[0];
	snprintf(rows[3].iccid, sizeof(rows[3].iccid), "8944502509186389650");
	snprintf(rows[3].group, sizeof(rows[3].group), "nope");

	assert_int_equal(store_sim_import(fx->st, rows, 4, res), 0);
	assert_int_equal(res->added, 2);
	assert_int_equal(res->nrefused, 2);
	assert_int_equal(res->refused[0].index, 2);
	assert_string_equal(res->refused[0].why, "bad PSK");
	assert_int_equal(res->refused[1].index, 3);

	/* the same batch again changes nothing */
	assert_int_equal(store_sim_import(fx->st, rows, 4, res), 0);
	assert_int_equal(res->added, 0);
	assert_int_equal(res->unchanged, 2);
	assert_int_equal(res->nrefused, 2);

	/* another PSK for an existing SIM is refused, the stored one kept */
	rows[0].psk[0] ^= 1;
	assert_int_equal(store_sim_import(fx->st, rows, 1, res), 0);
	assert_int_equal(res->nrefused, 1);
	assert_int_equal(store_sim_psk(fx->st, "8944502509186389635", 0, psk, &len), 0);
	assert_int_equal(psk[0], 0xA1);
	free(res);
}

static void
test_create_with_unknown_group_is_enoent(void **state)
{
	struct fx *fx = *state;
	uint8_t psk[16] = { 0 };

	assert_int_equal(store_sim_create(fx->st, "8944502509186389635", psk, 16, "none"),
	    ZTP_ENOENT);
	assert_int_equal(store_sim_create(fx->st, "8944502509186389635", psk, 16, ""), 0);
}

static void
test_derived_sim_preregisters_in_its_derived_group(void **state)
{
	struct fx *fx = *state;
	uint8_t m1[STORE_MASTER_LEN] = { 1 }, m2[STORE_MASTER_LEN] = { 2 }, psk[STORE_PSK_MAX];
	struct store_group a = group("short", "8944", 1), b = group("long", "894450", 1);
	struct store_group plain = group("plain", "89445025", 0);
	char name[STORE_GROUP_SIZE] = "";
	struct store_config cfg;
	struct store_sim sim;
	size_t len;

	assert_int_equal(store_group_create(fx->st, &a, m1), 0);
	assert_int_equal(store_group_create(fx->st, &b, m2), 0);
	assert_int_equal(store_group_create(fx->st, &plain, NULL), 0); /* longer, but not derived */
	assert_int_equal(store_sim_create_derived(fx->st, "8944502509186389635",
			     "B58D51C5504D5257352E3120FF0D1338", name),
	    0);
	assert_string_equal(name, "long");
	assert_int_equal(store_sim_get(fx->st, "8944502509186389635", &sim), 0);
	assert_true(sim.derived);
	assert_string_equal(sim.group, "long");
	assert_int_equal(sim.psk_generation, 0);
	assert_string_equal(sim.device_id, "B58D51C5504D5257352E3120FF0D1338");
	assert_false(sim.blocked);
	/* no stored key: the empty PSK is not a key of any generation */
	assert_int_equal(store_sim_psk(fx->st, "8944502509186389635", 0, psk, &len), ZTP_ENOENT);
	assert_int_equal(store_sim_pending_psk(fx->st, "8944502509186389635", 1, psk, &len),
	    ZTP_ENOENT);
	/* once only, and not over a SIM that has a stored PSK */
	assert_int_equal(store_sim_create_derived(fx->st, "8944502509186389635", NULL, NULL),
	    ZTP_EEXIST);
	memset(psk, 0x11, 16);
	assert_int_equal(store_sim_create(fx->st, "8944502509186389643", psk, 16, NULL), 0);
	assert_int_equal(store_sim_create_derived(fx->st, "8944502509186389643", NULL, NULL),
	    ZTP_EEXIST);
	assert_int_equal(store_sim_get(fx->st, "8944502509186389643", &sim), 0);
	assert_false(sim.derived);
	/* unbound, in the shorter prefix's group */
	assert_int_equal(store_sim_create_derived(fx->st, "8944992509186389635", "", name), 0);
	assert_string_equal(name, "short");
	assert_int_equal(store_sim_get(fx->st, "8944992509186389635", &sim), 0);
	assert_string_equal(sim.device_id, "");
	assert_true(sim.derived);
	/* blocked, configured before its first handshake */
	assert_int_equal(store_sim_set_blocked(fx->st, "8944992509186389635", 1), 0);
	assert_int_equal(store_config_set(fx->st, "8944992509186389635", (const uint8_t *)"{}", 2,
			     &cfg),
	    0);
	assert_int_equal(store_sim_get(fx->st, "8944992509186389635", &sim), 0);
	assert_true(sim.blocked);
	assert_int_equal(sim.config_version, 1);
	assert_true(sim.derived);
	assert_int_equal(store_group_get(fx->st, "long", &b), 0);
	assert_int_equal(b.sims, 1);
	assert_int_equal(store_group_get(fx->st, "short", &a), 0);
	assert_int_equal(a.sims, 1);
}

static void
test_preregister_outside_derived_groups_changes_nothing(void **state)
{
	struct fx *fx = *state;
	uint8_t m[STORE_MASTER_LEN] = { 1 };
	struct store_group d = group("d", "894450", 1), plain = group("plain", "89", 0);
	char name[STORE_GROUP_SIZE] = "untouched";
	struct store_sim sim;

	/* no derived group at all */
	assert_int_equal(store_sim_create_derived(fx->st, "8944502509186389635", NULL, name),
	    ZTP_ENOENT);
	assert_int_equal(store_group_create(fx->st, &d, m), 0);
	assert_int_equal(store_group_create(fx->st, &plain, NULL), 0);
	/* a plain group's prefix matches, no derived one does */
	assert_int_equal(store_sim_create_derived(fx->st, "8912345678901234567", NULL, name),
	    ZTP_ENOENT);
	assert_string_equal(name, "untouched");
	assert_int_equal(store_sim_get(fx->st, "8912345678901234567", &sim), ZTP_ENOENT);
	/* bad values */
	assert_int_equal(store_sim_create_derived(fx->st, "89445025091863896", NULL, name),
	    ZTP_EINVAL);
	assert_int_equal(store_sim_create_derived(fx->st, "8944502509186389635", "b58d", name),
	    ZTP_EINVAL);
	assert_int_equal(store_sim_create_derived(fx->st, "8944502509186389635", "ABC", name),
	    ZTP_EINVAL);
	assert_int_equal(store_sim_create_derived(fx->st, "8944502509186389635",
			     "B58D51C5504D5257352E3120FF0D133800", name),
	    ZTP_EINVAL);
	assert_int_equal(store_sim_get(fx->st, "8944502509186389635", &sim), ZTP_ENOENT);
	assert_int_equal(store_group_get(fx->st, "d", &d), 0);
	assert_int_equal(d.sims, 0);
}

static void
test_preregistered_sim_is_not_imported_over_and_rotates(void **state)
{
	struct fx *fx = *state;
	uint8_t m[STORE_MASTER_LEN] = { 1 }, psk[STORE_PSK_MAX], next[32];
	struct store_import_result *res = calloc(1, sizeof(*res));
	struct store_group d = group("d", "894450", 1);
	struct store_import_row row;
	struct store_sim sim;
	size_t len;

	assert_non_null(res);
	assert_int_equal(store_group_create(fx->st, &d, m), 0);
	assert_int_equal(store_sim_create_derived(fx->st, "8944502509186389635", NULL, NULL), 0);
	/* an import never gives a pre-registered SIM a stored PSK */
	memset(&row, 0, sizeof(row));
	snprintf(row.iccid, sizeof(row.iccid), "8944502509186389635");
	memset(row.psk, 0xA1, 16);
	row.psk_len = 16;
	snprintf(row.group, sizeof(row.group), "d");
	assert_int_equal(store_sim_import(fx->st, &row, 1, res), 0);
	assert_int_equal(res->added, 0);
	assert_int_equal(res->unchanged, 0);
	assert_int_equal(res->nrefused, 1);
	assert_int_equal(store_sim_get(fx->st, "8944502509186389635", &sim), 0);
	assert_true(sim.derived);
	assert_int_equal(store_sim_psk(fx->st, "8944502509186389635", 0, psk, &len), ZTP_ENOENT);
	/* its first rotation stores a key of generation 1: no longer derived */
	memset(next, 0x5C, sizeof(next));
	assert_int_equal(store_sim_pending_set(fx->st, "8944502509186389635", 0, next,
			     sizeof(next)),
	    0);
	assert_int_equal(store_sim_commit(fx->st, "8944502509186389635", 1), 0);
	assert_int_equal(store_sim_get(fx->st, "8944502509186389635", &sim), 0);
	assert_false(sim.derived);
	assert_int_equal(sim.psk_generation, 1);
	assert_int_equal(store_sim_psk(fx->st, "8944502509186389635", 1, psk, &len), 0);
	assert_int_equal(len, sizeof(next));
	assert_memory_equal(psk, next, sizeof(next));
	free(res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_create_get_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_refuses_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longest_prefix_wins_and_master_is_sealed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_derived_sim_registers_once_without_psk, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_import_adds_keeps_and_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_with_unknown_group_is_enoent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_derived_sim_preregisters_in_its_derived_group,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_preregister_outside_derived_groups_changes_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_preregistered_sim_is_not_imported_over_and_rotates,
		    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
