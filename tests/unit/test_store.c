/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store (src/server/store/store.h), on a real SQLite file in a fresh
 * temporary directory per test, or with ZTP_TEST_PG on a fresh PostgreSQL
 * database per test (store_fixture.h). The few tests that are about SQLite
 * itself are skipped on PostgreSQL, each saying why.
 */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
#include <fcntl.h>
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
#include <sqlite3.h>

#include "clock.h"
#include "log.h"
#include "store.h"
#include "ztp/err.h"

#define ICCID_A "8944502509186389635"
#define ICCID_B "8944502509186389643"
#define DEV_1 "B58D51C5504D5257352E3120FF0D1338"
#define DEV_2 "0011223344556677"

/* 32 recognisable bytes, to look for in the database file */
static const char psk_a_text[] = "ztp-unit-psk-do-not-store-clear!";
#define psk_a ((const uint8_t *)psk_a_text)
#define PSK_A_LEN (sizeof(psk_a_text) - 1)

static const uint8_t data_key[CRYPTO_KEY_LEN] = { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11 };
static const uint8_t other_key[CRYPTO_KEY_LEN] = { 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22 };

#include "store_fixture.h"

static int
setup(void **state)
{
	return fixture_setup(state, data_key);
}


static void
reopen(struct fx *fx, const uint8_t key[CRYPTO_KEY_LEN])
{
	close_store(fx);
	assert_int_equal(store_open(&fx->st, fx->path, key), 0);
}

static void
add_sim(struct fx *fx, const char *iccid)
{
	assert_int_equal(store_sim_create(fx->st, iccid, psk_a, PSK_A_LEN, NULL), 0);
}




/* stderr to a file, to read what the store logged */
struct capture {
	char path[160];
	int saved;
};

static void
capture_begin(struct fx *fx, struct capture *c)
{
	int fd;

	snprintf(c->path, sizeof(c->path), "%s/stderr.txt", fx->dir);
	fflush(stderr);
	c->saved = dup(2);
	assert_true(c->saved >= 0);
	fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_true(dup2(fd, 2) == 2);
	close(fd);
}

static void
capture_end(struct capture *c)
{
	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
}


/* ---- opening and the schema ---- */

static void
test_open_creates_the_current_schema(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_schema_version(fx->st), fixture_schema_target(fx->st));
	if (fixture_pg()) {
		assert_int_equal(sql_int(fx->path, "SELECT max(version) FROM ztp_schema", NULL),
		    fixture_schema_target(fx->st));
		assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM information_schema.tables"
						   " WHERE table_schema NOT IN ('pg_catalog',"
						   " 'information_schema') AND table_name IN ('sims',"
						   " 'configs', 'telemetry', 'devices', 'events',"
						   " 'api_keys')",
				     NULL),
		    6);
		return;
	}
	assert_int_equal(sql_int(fx->path, "PRAGMA user_version", NULL), STORE_SCHEMA_VERSION);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
					   " AND name IN ('sims', 'configs', 'telemetry', 'devices',"
					   " 'events', 'api_keys')",
			     NULL),
	    6);
}

static void
test_open_uses_wal_mode(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	if (fixture_pg())
		skip(); /* SQLite's journal mode: PostgreSQL has its own WAL */
	assert_int_equal(sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void
test_reopen_keeps_the_data(void **state)
{
	struct fx *fx = *state;
	struct store_config cfg;
	struct store_sim sim;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"{}", 2, NULL), 0);
	reopen(fx, data_key);
	assert_int_equal(store_schema_version(fx->st), fixture_schema_target(fx->st));
	assert_int_equal(store_sim_get(fx->st, ICCID_A, &sim), 0);
	assert_int_equal(sim.config_version, 1);
	assert_int_equal(store_config_get(fx->st, ICCID_A, 0, &cfg), 0);
	assert_memory_equal(cfg.body, "{}", 2);
}

static void
test_reopen_does_not_rerun_migrations(void **state)
{
	struct fx *fx = *state;
	struct capture c;
	char path[sizeof(fx->path)];

	/* a new database logs its migration once ... */
	close_store(fx);
	assert_int_equal(test_store_target(path, sizeof(path), fx->dir, "fresh.db"), 0);
	log_init("test_store", LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
	capture_begin(fx, &c);
	assert_int_equal(store_open(&fx->st, path, data_key), 0);
	capture_end(&c);
	assert_true(file_contains(c.path, "schema migrated to version ", 27));
	/* ... and not when it is opened again */
	close_store(fx);
	capture_begin(fx, &c);
	assert_int_equal(store_open(&fx->st, path, data_key), 0);
	capture_end(&c);
	log_init("test_store", LOG_FORMAT_TEXT, LOG_LEVEL_WARN);
	assert_false(file_contains(c.path, "migrated", 8));
	assert_int_equal(store_schema_version(fx->st), fixture_schema_target(fx->st));
}

static void
test_open_refuses_a_newer_schema(void **state)
{
	struct fx *fx = *state;
	struct store *st = NULL;
	int newer = fixture_schema_target(fx->st) + 1;
	/* the version: SQLite's user_version, the PostgreSQL driver's table ztp_schema */
	const char *version =
	    fixture_pg() ? "SELECT max(version) FROM ztp_schema" : "PRAGMA user_version";
	char sql[64];

	add_sim(fx, ICCID_A);
	close_store(fx);
	if (fixture_pg())
		snprintf(sql, sizeof(sql), "INSERT INTO ztp_schema VALUES(%d)", newer);
	else
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", newer);
	sql_run(fx->path, sql);

	assert_int_equal(store_open(&st, fx->path, data_key), ZTP_ESTORE);
	assert_null(st);
	/* and leaves it as it was */
	assert_int_equal(sql_int(fx->path, version, NULL), newer);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sims", NULL), 1);
}

/* ---- SIMs ---- */

static void
test_sim_create_then_get(void **state)
{
	struct fx *fx = *state;
	struct store_sim sim;
	int64_t before = clock_now_ms(), after;

	add_sim(fx, ICCID_A);
	after = clock_now_ms();
	assert_int_equal(store_sim_get(fx->st, ICCID_A, &sim), 0);
	assert_string_equal(sim.iccid, ICCID_A);
	assert_int_equal(sim.blocked, 0);
	assert_string_equal(sim.device_id, "");
	assert_int_equal(sim.psk_generation, 0);
	assert_int_equal(sim.config_version, 0);
	assert_in_range(sim.created_at, before, after);
	assert_int_equal(sim.updated_at, sim.created_at);
}

static void
test_sim_get_of_unknown_sim_is_noent(void **state)
{
	struct fx *fx = *state;
	struct store_sim sim;

	assert_int_equal(store_sim_get(fx->st, ICCID_A, &sim), ZTP_ENOENT);
}

static void
test_sim_create_twice_is_exist(void **state)
{
	struct fx *fx = *state;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_sim_create(fx->st, ICCID_A, psk_a, PSK_A_LEN, NULL), ZTP_EEXIST);
}

static void
test_sim_create_rejects_a_bad_iccid(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_sim_create(fx->st, "", psk_a, PSK_A_LEN, NULL), ZTP_EINVAL);
	assert_int_equal(store_sim_create(fx->st, "89445025091863896", psk_a, PSK_A_LEN, NULL),
	    ZTP_EINVAL);
	assert_int_equal(store_sim_create(fx->st, "894450250918638963512", psk_a, PSK_A_LEN, NULL),
	    ZTP_EINVAL);
	assert_int_equal(store_sim_create(fx->st, "89445025091863896X5", psk_a, PSK_A_LEN, NULL),
	    ZTP_EINVAL);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sims", NULL), 0);
}

static void
test_sim_create_rejects_a_psk_of_15_bytes(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_sim_create(fx->st, ICCID_A, psk_a, STORE_PSK_MIN - 1, NULL), ZTP_EINVAL);
	assert_int_equal(store_sim_get(fx->st, ICCID_A, &(struct store_sim){ 0 }), ZTP_ENOENT);
}

static void
test_sim_create_rejects_a_psk_of_65_bytes(void **state)
{
	struct fx *fx = *state;
	uint8_t psk[STORE_PSK_MAX + 1];

	memset(psk, 0x5a, sizeof(psk));
	assert_int_equal(store_sim_create(fx->st, ICCID_A, psk, sizeof(psk), NULL), ZTP_EINVAL);
	assert_int_equal(store_sim_get(fx->st, ICCID_A, &(struct store_sim){ 0 }), ZTP_ENOENT);
}

static void
test_sim_create_accepts_psks_of_16_and_64_bytes(void **state)
{
	struct fx *fx = *state;
	uint8_t psk[STORE_PSK_MAX], out[STORE_PSK_MAX];
	size_t len = 0;

	memset(psk, 0x5a, sizeof(psk));
	assert_int_equal(store_sim_create(fx->st, ICCID_A, psk, STORE_PSK_MIN, NULL), 0);
	assert_int_equal(store_sim_create(fx->st, ICCID_B, psk, STORE_PSK_MAX, NULL), 0);
	assert_int_equal(store_sim_psk(fx->st, ICCID_A, 0, out, &len), 0);
	assert_int_equal(len, STORE_PSK_MIN);
	assert_int_equal(store_sim_psk(fx->st, ICCID_B, 0, out, &len), 0);
	assert_int_equal(len, STORE_PSK_MAX);
	assert_memory_equal(out, psk, STORE_PSK_MAX);
}

static void
test_sim_psk_returns_the_psk(void **state)
{
	struct fx *fx = *state;
	uint8_t out[STORE_PSK_MAX];
	size_t len = 0;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_sim_psk(fx->st, ICCID_A, 0, out, &len), 0);
	assert_int_equal(len, PSK_A_LEN);
	assert_memory_equal(out, psk_a, PSK_A_LEN);
}

static void
test_sim_psk_of_unknown_sim_is_noent(void **state)
{
	struct fx *fx = *state;
	uint8_t out[STORE_PSK_MAX];
	size_t len;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_sim_psk(fx->st, ICCID_B, 0, out, &len), ZTP_ENOENT);
}

static void
test_sim_psk_of_another_generation_is_noent(void **state)
{
	struct fx *fx = *state;
	uint8_t out[STORE_PSK_MAX];
	size_t len;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_sim_psk(fx->st, ICCID_A, 1, out, &len), ZTP_ENOENT);
	assert_int_equal(store_sim_psk(fx->st, ICCID_A, UINT32_MAX, out, &len), ZTP_ENOENT);
}

static void
test_sim_psk_does_not_open_with_another_data_key(void **state)
{
	struct fx *fx = *state;
	uint8_t out[STORE_PSK_MAX];
	size_t len = 0;

	add_sim(fx, ICCID_A);
	reopen(fx, other_key);
	memset(out, 0, sizeof(out));
	assert_int_equal(store_sim_psk(fx->st, ICCID_A, 0, out, &len), ZTP_EAUTH);
	assert_null(memmem(out, sizeof(out), psk_a, 8));
	/* the right key still opens it */
	reopen(fx, data_key);
	assert_int_equal(store_sim_psk(fx->st, ICCID_A, 0, out, &len), 0);
	assert_memory_equal(out, psk_a, PSK_A_LEN);
}

static void
test_sealed_psk_is_bound_to_its_sim(void **state)
{
	struct fx *fx = *state;
	uint8_t other[STORE_PSK_MAX], out[STORE_PSK_MAX];
	size_t len;

	/* B's sealed PSK copied into A's row does not open as A's */
	memset(other, 0x42, sizeof(other));
	add_sim(fx, ICCID_A);
	assert_int_equal(store_sim_create(fx->st, ICCID_B, other, 32, NULL), 0);
	close_store(fx);
	sql_run(fx->path, "UPDATE sims SET psk = (SELECT psk FROM sims WHERE iccid = '" ICCID_B
			  "') WHERE iccid = '" ICCID_A "'");
	assert_int_equal(store_open(&fx->st, fx->path, data_key), 0);
	assert_int_equal(store_sim_psk(fx->st, ICCID_A, 0, out, &len), ZTP_EAUTH);
	assert_int_equal(store_sim_psk(fx->st, ICCID_B, 0, out, &len), 0);
}

static void
test_psk_is_sealed_in_the_database_file(void **state)
{
	struct fx *fx = *state;

	add_sim(fx, ICCID_A);
	close_store(fx);
	/* the ICCID next to it is there in clear: the file was read */
	assert_true(db_contains(fx, ICCID_A, strlen(ICCID_A)));
	assert_false(db_contains(fx, psk_a, PSK_A_LEN));
	assert_false(db_contains(fx, psk_a, 8));
	assert_false(db_contains(fx, psk_a + 24, 8));
}

/* ---- listing ---- */

struct seen {
	int n;
	char iccid[16][ICCID_STR_SIZE];
	int stop_at; /* return ZTP_EIO on this call, 0: never */
};

static int
seen_sim(const struct store_sim *sim, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16)
		snprintf(s->iccid[s->n], ICCID_STR_SIZE, "%s", sim->iccid);
	s->n++;
	return s->stop_at != 0 && s->n == s->stop_at ? ZTP_EIO : 0;
}

static const char *const five[] = { "894450000000000001", "894450000000000002",
	"894450000000000003", "894450000000000004", "894450000000000005" };

static void
test_sim_list_orders_by_iccid(void **state)
{
	struct fx *fx = *state;
	struct seen s = { 0 };
	int i;

	/* created out of order */
	for (i = 4; i >= 0; i--)
		add_sim(fx, five[(i * 3) % 5]);
	assert_int_equal(store_sim_list(fx->st, "", 100, seen_sim, &s), 0);
	assert_int_equal(s.n, 5);
	for (i = 0; i < 5; i++)
		assert_string_equal(s.iccid[i], five[i]);
}

static void
test_sim_list_pages_with_after_and_limit(void **state)
{
	struct fx *fx = *state;
	struct seen p1 = { 0 }, p2 = { 0 }, p3 = { 0 }, p4 = { 0 };
	int i;

	for (i = 0; i < 5; i++)
		add_sim(fx, five[i]);
	assert_int_equal(store_sim_list(fx->st, "", 2, seen_sim, &p1), 0);
	assert_int_equal(p1.n, 2);
	assert_string_equal(p1.iccid[0], five[0]);
	assert_string_equal(p1.iccid[1], five[1]);
	assert_int_equal(store_sim_list(fx->st, p1.iccid[1], 2, seen_sim, &p2), 0);
	assert_int_equal(p2.n, 2);
	assert_string_equal(p2.iccid[0], five[2]);
	assert_string_equal(p2.iccid[1], five[3]);
	assert_int_equal(store_sim_list(fx->st, p2.iccid[1], 2, seen_sim, &p3), 0);
	assert_int_equal(p3.n, 1);
	assert_string_equal(p3.iccid[0], five[4]);
	assert_int_equal(store_sim_list(fx->st, p3.iccid[0], 2, seen_sim, &p4), 0);
	assert_int_equal(p4.n, 0);
}

static void
test_sim_list_with_null_after_starts_at_the_beginning(void **state)
{
	struct fx *fx = *state;
	struct seen s = { 0 };
	int i;

	for (i = 0; i < 5; i++)
		add_sim(fx, five[i]);
	assert_int_equal(store_sim_list(fx->st, NULL, 1, seen_sim, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.iccid[0], five[0]);
}

static void
test_sim_list_stops_at_a_callback_error(void **state)
{
	struct fx *fx = *state;
	struct seen s = { .stop_at = 2 };
	int i;

	for (i = 0; i < 5; i++)
		add_sim(fx, five[i]);
	assert_int_equal(store_sim_list(fx->st, "", 100, seen_sim, &s), ZTP_EIO);
	assert_int_equal(s.n, 2);
}

/* ---- blocking ---- */

static void
test_sim_block_then_unblock(void **state)
{
	struct fx *fx = *state;
	struct store_sim sim;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_sim_set_blocked(fx->st, ICCID_A, 1), 0);
	assert_int_equal(store_sim_get(fx->st, ICCID_A, &sim), 0);
	assert_int_equal(sim.blocked, 1);
	assert_int_equal(store_sim_set_blocked(fx->st, ICCID_A, 0), 0);
	assert_int_equal(store_sim_get(fx->st, ICCID_A, &sim), 0);
	assert_int_equal(sim.blocked, 0);
}

static void
test_sim_block_of_unknown_sim_is_noent(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_sim_set_blocked(fx->st, ICCID_A, 1), ZTP_ENOENT);
}

/* ---- binding ---- */

static void
test_bind_takes_the_first_device_id(void **state)
{
	struct fx *fx = *state;
	char bound[STORE_DEVID_HEX] = "";
	struct store_sim sim;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_sim_bind(fx->st, ICCID_A, DEV_1, bound), 0);
	assert_string_equal(bound, DEV_1);
	assert_int_equal(store_sim_get(fx->st, ICCID_A, &sim), 0);
	assert_string_equal(sim.device_id, DEV_1);
}

static void
test_bind_of_the_same_device_id_again_is_ok(void **state)
{
	struct fx *fx = *state;
	char bound[STORE_DEVID_HEX] = "";

	add_sim(fx, ICCID_A);
	assert_int_equal(store_sim_bind(fx->st, ICCID_A, DEV_1, bound), 0);
	memset(bound, 0, sizeof(bound));
	assert_int_equal(store_sim_bind(fx->st, ICCID_A, DEV_1, bound), 0);
	assert_string_equal(bound, DEV_1);
}

static void
test_bind_of_another_device_id_conflicts_with_the_bound_id(void **state)
{
	struct fx *fx = *state;
	char bound[STORE_DEVID_HEX] = "";
	struct store_sim sim;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_sim_bind(fx->st, ICCID_A, DEV_1, bound), 0);
	memset(bound, 0, sizeof(bound));
	assert_int_equal(store_sim_bind(fx->st, ICCID_A, DEV_2, bound), ZTP_ECONFLICT);
	assert_string_equal(bound, DEV_1);
	assert_int_equal(store_sim_get(fx->st, ICCID_A, &sim), 0);
	assert_string_equal(sim.device_id, DEV_1);
}

static void
test_rebind_then_a_new_device_id_binds(void **state)
{
	struct fx *fx = *state;
	char bound[STORE_DEVID_HEX] = "";
	struct store_sim sim;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_sim_bind(fx->st, ICCID_A, DEV_1, bound), 0);
	assert_int_equal(store_sim_rebind(fx->st, ICCID_A), 0);
	assert_int_equal(store_sim_get(fx->st, ICCID_A, &sim), 0);
	assert_string_equal(sim.device_id, "");
	assert_int_equal(store_sim_bind(fx->st, ICCID_A, DEV_2, bound), 0);
	assert_string_equal(bound, DEV_2);
	assert_int_equal(store_sim_bind(fx->st, ICCID_A, DEV_1, bound), ZTP_ECONFLICT);
	assert_string_equal(bound, DEV_2);
}

static void
test_bind_and_rebind_of_unknown_sim_are_noent(void **state)
{
	struct fx *fx = *state;
	char bound[STORE_DEVID_HEX];

	assert_int_equal(store_sim_bind(fx->st, ICCID_A, DEV_1, bound), ZTP_ENOENT);
	assert_int_equal(store_sim_rebind(fx->st, ICCID_A), ZTP_ENOENT);
}

/* ---- deleting ---- */

static int64_t
rows_of(struct fx *fx, const char *table, const char *iccid)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE iccid = ?1", table);
	return sql_int(fx->path, sql, iccid);
}

/* A SIM with a configuration, telemetry and a device record. */
static void
populate(struct fx *fx, const char *iccid)
{
	struct store_device dev;

	add_sim(fx, iccid);
	assert_int_equal(store_config_set(fx->st, iccid, (const uint8_t *)"cfg", 3, NULL), 0);
	assert_int_equal(store_telemetry_add(fx->st, iccid, DEV_1, (const uint8_t *)"t", 1, NULL),
	    0);
	assert_int_equal(store_device_get_or_create(fx->st, iccid, DEV_1, &dev), 0);
}

static void
test_delete_removes_configs_telemetry_and_devices(void **state)
{
	struct fx *fx = *state;
	struct store_config cfg;
	struct store_sim sim;

	populate(fx, ICCID_A);
	assert_int_equal(rows_of(fx, "configs", ICCID_A), 1);
	assert_int_equal(rows_of(fx, "telemetry", ICCID_A), 1);
	assert_int_equal(rows_of(fx, "devices", ICCID_A), 1);
	assert_int_equal(store_sim_delete(fx->st, ICCID_A), 0);
	assert_int_equal(store_sim_get(fx->st, ICCID_A, &sim), ZTP_ENOENT);
	assert_int_equal(store_config_get(fx->st, ICCID_A, 1, &cfg), ZTP_ENOENT);
	assert_int_equal(rows_of(fx, "sims", ICCID_A), 0);
	assert_int_equal(rows_of(fx, "configs", ICCID_A), 0);
	assert_int_equal(rows_of(fx, "telemetry", ICCID_A), 0);
	assert_int_equal(rows_of(fx, "devices", ICCID_A), 0);
}

static void
test_delete_keeps_other_sims_data(void **state)
{
	struct fx *fx = *state;

	populate(fx, ICCID_A);
	populate(fx, ICCID_B);
	assert_int_equal(store_sim_delete(fx->st, ICCID_A), 0);
	assert_int_equal(rows_of(fx, "sims", ICCID_B), 1);
	assert_int_equal(rows_of(fx, "configs", ICCID_B), 1);
	assert_int_equal(rows_of(fx, "telemetry", ICCID_B), 1);
	assert_int_equal(rows_of(fx, "devices", ICCID_B), 1);
}

static void
test_delete_twice_is_noent(void **state)
{
	struct fx *fx = *state;

	populate(fx, ICCID_A);
	assert_int_equal(store_sim_delete(fx->st, ICCID_A), 0);
	assert_int_equal(store_sim_delete(fx->st, ICCID_A), ZTP_ENOENT);
}

static void
test_delete_of_unknown_sim_removes_nothing(void **state)
{
	struct fx *fx = *state;

	/* the refused delete is rolled back as a whole: the telemetry stays */
	assert_int_equal(store_telemetry_add(fx->st, ICCID_B, DEV_1, (const uint8_t *)"t", 1, NULL),
	    0);
	assert_int_equal(store_sim_delete(fx->st, ICCID_B), ZTP_ENOENT);
	assert_int_equal(rows_of(fx, "telemetry", ICCID_B), 1);
}

/* ---- configurations ---- */

static void
test_config_set_then_get_current(void **state)
{
	struct fx *fx = *state;
	struct store_config set, got;
	struct store_sim sim;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"abc", 3, &set), 0);
	assert_int_equal(set.version, 1);
	assert_string_equal(set.source, "set");
	assert_int_equal(store_config_get(fx->st, ICCID_A, 0, &got), 0);
	assert_string_equal(got.iccid, ICCID_A);
	assert_int_equal(got.version, 1);
	assert_int_equal(got.len, 3);
	assert_memory_equal(got.body, "abc", 3);
	assert_string_equal(got.etag, set.etag);
	assert_string_equal(got.source, "set");
	assert_int_equal(got.created_at, set.created_at);
	assert_int_equal(store_sim_get(fx->st, ICCID_A, &sim), 0);
	assert_int_equal(sim.config_version, 1);
}

/* A fetch's one statement: the SIM and its current configuration, or none. */
static void
test_sim_get_config_reads_the_sim_and_its_current_configuration(void **state)
{
	struct fx *fx = *state;
	struct store_config set, got;
	struct store_sim sim, plain;
	int has = -1;

	add_sim(fx, ICCID_A);
	add_sim(fx, ICCID_B);
	assert_int_equal(store_sim_get_config(fx->st, ICCID_A, &sim, &got, &has), 0);
	assert_int_equal(has, 0); /* no configuration yet */
	assert_string_equal(sim.iccid, ICCID_A);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"one", 3, &set), 0);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"two!", 4, &set), 0);
	assert_int_equal(store_config_set(fx->st, ICCID_B, (const uint8_t *)"other", 5, NULL), 0);
	assert_int_equal(store_sim_get_config(fx->st, ICCID_A, &sim, &got, &has), 0);
	assert_int_equal(has, 1);
	assert_int_equal(got.version, 2);
	assert_int_equal(got.len, 4);
	assert_memory_equal(got.body, "two!", 4);
	assert_string_equal(got.iccid, ICCID_A);
	assert_string_equal(got.etag, set.etag);
	assert_string_equal(got.source, "set");
	/* the SIM's columns are those of store_sim_get */
	assert_int_equal(store_sim_get(fx->st, ICCID_A, &plain), 0);
	assert_memory_equal(&sim, &plain, sizeof(sim));
	/* after a rollback: the version the SIM points at, not the newest row */
	assert_int_equal(store_config_rollback(fx->st, ICCID_A, 1, &set), 0);
	assert_int_equal(store_sim_get_config(fx->st, ICCID_A, &sim, &got, &has), 0);
	assert_int_equal(has, 1);
	assert_int_equal(got.version, sim.config_version);
	assert_memory_equal(got.body, "one", 3);
	assert_int_equal(store_sim_get_config(fx->st, "8944502509186389999", &sim, &got, &has),
	    ZTP_ENOENT);
}

static void
test_config_version_increments(void **state)
{
	struct fx *fx = *state;
	struct store_config cfg, got;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"one", 3, &cfg), 0);
	assert_int_equal(cfg.version, 1);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"two", 3, &cfg), 0);
	assert_int_equal(cfg.version, 2);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"two", 3, &cfg), 0);
	assert_int_equal(cfg.version, 3);
	assert_int_equal(store_config_get(fx->st, ICCID_A, 0, &got), 0);
	assert_int_equal(got.version, 3);
	assert_int_equal(store_config_get(fx->st, ICCID_A, 1, &got), 0);
	assert_memory_equal(got.body, "one", 3);
}

static void
test_config_versions_are_per_sim(void **state)
{
	struct fx *fx = *state;
	struct store_config cfg;

	add_sim(fx, ICCID_A);
	add_sim(fx, ICCID_B);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"a", 1, &cfg), 0);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"a", 1, &cfg), 0);
	assert_int_equal(store_config_set(fx->st, ICCID_B, (const uint8_t *)"b", 1, &cfg), 0);
	assert_int_equal(cfg.version, 1);
}

static void
test_config_etag_format(void **state)
{
	char etag[STORE_ETAG_SIZE];

	/* SHA-256("abc") = ba7816bf..., SHA-256("") = e3b0c442... */
	store_config_etag(1, (const uint8_t *)"abc", 3, etag);
	assert_string_equal(etag, "\"1-ba7816bf\"");
	store_config_etag(UINT32_MAX, (const uint8_t *)"", 0, etag);
	assert_string_equal(etag, "\"4294967295-e3b0c442\"");
}

static void
test_config_etag_changes_with_content(void **state)
{
	char a[STORE_ETAG_SIZE], b[STORE_ETAG_SIZE];

	store_config_etag(1, (const uint8_t *)"abc", 3, a);
	store_config_etag(1, (const uint8_t *)"abd", 3, b);
	assert_string_not_equal(a, b);
	store_config_etag(1, (const uint8_t *)"abc", 2, b);
	assert_string_not_equal(a, b);
}

static void
test_config_etag_changes_with_version(void **state)
{
	char a[STORE_ETAG_SIZE], b[STORE_ETAG_SIZE];

	store_config_etag(1, (const uint8_t *)"abc", 3, a);
	store_config_etag(2, (const uint8_t *)"abc", 3, b);
	assert_string_not_equal(a, b);
}

static void
test_stored_config_carries_its_etag(void **state)
{
	struct fx *fx = *state;
	struct store_config cfg;
	char want[STORE_ETAG_SIZE];

	add_sim(fx, ICCID_A);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"abc", 3, NULL), 0);
	assert_int_equal(store_config_get(fx->st, ICCID_A, 0, &cfg), 0);
	store_config_etag(1, (const uint8_t *)"abc", 3, want);
	assert_string_equal(cfg.etag, want);
}

static void
test_config_of_255_bytes_is_stored(void **state)
{
	struct fx *fx = *state;
	uint8_t body[STORE_CONFIG_MAX];
	struct store_config cfg;

	memset(body, 'x', sizeof(body));
	body[0] = '\0'; /* binary-safe */
	add_sim(fx, ICCID_A);
	assert_int_equal(store_config_set(fx->st, ICCID_A, body, sizeof(body), NULL), 0);
	assert_int_equal(store_config_get(fx->st, ICCID_A, 0, &cfg), 0);
	assert_int_equal(cfg.len, STORE_CONFIG_MAX);
	assert_memory_equal(cfg.body, body, sizeof(body));
}

static void
test_config_of_256_bytes_is_toobig_and_stores_nothing(void **state)
{
	struct fx *fx = *state;
	uint8_t body[STORE_CONFIG_MAX + 1];
	struct store_config cfg;
	struct store_sim sim;

	memset(body, 'x', sizeof(body));
	add_sim(fx, ICCID_A);
	assert_int_equal(store_config_set(fx->st, ICCID_A, body, sizeof(body), &cfg), ZTP_ETOOBIG);
	assert_int_equal(store_config_get(fx->st, ICCID_A, 0, &cfg), ZTP_ENOENT);
	assert_int_equal(store_sim_get(fx->st, ICCID_A, &sim), 0);
	assert_int_equal(sim.config_version, 0);
	assert_int_equal(rows_of(fx, "configs", ICCID_A), 0);
}

static void
test_empty_config_is_stored(void **state)
{
	struct fx *fx = *state;
	struct store_config cfg;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"", 0, NULL), 0);
	assert_int_equal(store_config_get(fx->st, ICCID_A, 0, &cfg), 0);
	assert_int_equal(cfg.version, 1);
	assert_int_equal(cfg.len, 0);
}

static void
test_config_set_for_unknown_sim_is_noent(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"x", 1, NULL),
	    ZTP_ENOENT);
	assert_int_equal(rows_of(fx, "configs", ICCID_A), 0);
}

static void
test_config_get_without_config_is_noent(void **state)
{
	struct fx *fx = *state;
	struct store_config cfg;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_config_get(fx->st, ICCID_A, 0, &cfg), ZTP_ENOENT);
	assert_int_equal(store_config_get(fx->st, ICCID_A, 1, &cfg), ZTP_ENOENT);
	assert_int_equal(store_config_get(fx->st, ICCID_B, 0, &cfg), ZTP_ENOENT);
}

struct versions {
	int n;
	uint32_t v[16];
	char source[16][32];
	char body[16][8];
};

static int
seen_config(const struct store_config *cfg, void *arg)
{
	struct versions *vs = arg;

	if (vs->n < 16) {
		vs->v[vs->n] = cfg->version;
		snprintf(vs->source[vs->n], sizeof(vs->source[0]), "%s", cfg->source);
		snprintf(vs->body[vs->n], sizeof(vs->body[0]), "%.*s", (int)cfg->len,
		    (const char *)cfg->body);
	}
	vs->n++;
	return 0;
}

static void
test_config_history_is_newest_first(void **state)
{
	struct fx *fx = *state;
	struct versions vs = { 0 };

	add_sim(fx, ICCID_A);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"one", 3, NULL), 0);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"two", 3, NULL), 0);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"three", 5, NULL), 0);
	assert_int_equal(store_config_history(fx->st, ICCID_A, seen_config, &vs), 0);
	assert_int_equal(vs.n, 3);
	assert_int_equal(vs.v[0], 3);
	assert_string_equal(vs.body[0], "three");
	assert_int_equal(vs.v[1], 2);
	assert_string_equal(vs.body[1], "two");
	assert_int_equal(vs.v[2], 1);
	assert_string_equal(vs.body[2], "one");
}

static void
test_config_rollback_adds_the_next_version_with_the_old_body(void **state)
{
	struct fx *fx = *state;
	struct store_config out, cur;
	struct versions vs = { 0 };

	add_sim(fx, ICCID_A);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"one", 3, NULL), 0);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"two", 3, NULL), 0);
	assert_int_equal(store_config_rollback(fx->st, ICCID_A, 1, &out), 0);
	assert_int_equal(out.version, 3);
	assert_int_equal(out.len, 3);
	assert_memory_equal(out.body, "one", 3);
	assert_string_equal(out.source, "rollback:1");
	assert_int_equal(store_config_get(fx->st, ICCID_A, 0, &cur), 0);
	assert_int_equal(cur.version, 3);
	assert_memory_equal(cur.body, "one", 3);
	assert_string_equal(cur.source, "rollback:1");
	assert_string_equal(cur.etag, out.etag);
	assert_int_equal(store_config_history(fx->st, ICCID_A, seen_config, &vs), 0);
	assert_int_equal(vs.n, 3);
	assert_string_equal(vs.source[0], "rollback:1");
	assert_string_equal(vs.source[1], "set");
}

static void
test_config_rollback_to_unknown_version_adds_nothing(void **state)
{
	struct fx *fx = *state;
	struct store_config out, cur;
	struct store_sim sim;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"one", 3, NULL), 0);
	assert_int_equal(store_config_set(fx->st, ICCID_A, (const uint8_t *)"two", 3, NULL), 0);
	assert_int_equal(store_config_rollback(fx->st, ICCID_A, 9, &out), ZTP_ENOENT);
	assert_int_equal(store_config_rollback(fx->st, ICCID_A, 0, &out), ZTP_ENOENT);
	assert_int_equal(rows_of(fx, "configs", ICCID_A), 2);
	assert_int_equal(store_config_get(fx->st, ICCID_A, 0, &cur), 0);
	assert_int_equal(cur.version, 2);
	assert_int_equal(store_sim_get(fx->st, ICCID_A, &sim), 0);
	assert_int_equal(sim.config_version, 2);
}

static void
test_config_rollback_of_unknown_sim_is_noent(void **state)
{
	struct fx *fx = *state;
	struct store_config out;

	assert_int_equal(store_config_rollback(fx->st, ICCID_A, 1, &out), ZTP_ENOENT);
}

/* ---- telemetry ---- */

struct tels {
	int n;
	int64_t id[16];
	char body[16][8];
	char device_id[16][STORE_DEVID_HEX];
};

static int
seen_tel(const struct store_telemetry *t, void *arg)
{
	struct tels *ts = arg;

	if (ts->n < 16) {
		ts->id[ts->n] = t->id;
		snprintf(ts->body[ts->n], sizeof(ts->body[0]), "%.*s", (int)t->len,
		    (const char *)t->body);
		snprintf(ts->device_id[ts->n], sizeof(ts->device_id[0]), "%s", t->device_id);
	}
	ts->n++;
	return 0;
}

static void
add_three(struct fx *fx, int64_t id[3])
{
	add_sim(fx, ICCID_A);
	assert_int_equal(store_telemetry_add(fx->st, ICCID_A, DEV_1, (const uint8_t *)"t1", 2, &id[0]),
	    0);
	assert_int_equal(store_telemetry_add(fx->st, ICCID_A, DEV_1, (const uint8_t *)"t2", 2, &id[1]),
	    0);
	assert_int_equal(store_telemetry_add(fx->st, ICCID_A, DEV_2, (const uint8_t *)"t3", 2, &id[2]),
	    0);
	assert_true(id[0] < id[1] && id[1] < id[2]);
}

static void
test_telemetry_lists_newest_first(void **state)
{
	struct fx *fx = *state;
	struct tels ts = { 0 };
	int64_t id[3];

	add_three(fx, id);
	assert_int_equal(store_telemetry_list(fx->st, ICCID_A, 0, 100, seen_tel, &ts), 0);
	assert_int_equal(ts.n, 3);
	assert_int_equal(ts.id[0], id[2]);
	assert_string_equal(ts.body[0], "t3");
	assert_string_equal(ts.device_id[0], DEV_2);
	assert_int_equal(ts.id[1], id[1]);
	assert_string_equal(ts.body[1], "t2");
	assert_int_equal(ts.id[2], id[0]);
	assert_string_equal(ts.body[2], "t1");
	assert_string_equal(ts.device_id[2], DEV_1);
}

static void
test_telemetry_pages_with_before(void **state)
{
	struct fx *fx = *state;
	struct tels p1 = { 0 }, p2 = { 0 }, p3 = { 0 };
	int64_t id[3];

	add_three(fx, id);
	assert_int_equal(store_telemetry_list(fx->st, ICCID_A, 0, 2, seen_tel, &p1), 0);
	assert_int_equal(p1.n, 2);
	assert_int_equal(p1.id[0], id[2]);
	assert_int_equal(p1.id[1], id[1]);
	assert_int_equal(store_telemetry_list(fx->st, ICCID_A, p1.id[1], 2, seen_tel, &p2), 0);
	assert_int_equal(p2.n, 1);
	assert_int_equal(p2.id[0], id[0]);
	assert_int_equal(store_telemetry_list(fx->st, ICCID_A, p2.id[0], 2, seen_tel, &p3), 0);
	assert_int_equal(p3.n, 0);
}

static void
test_telemetry_list_is_per_sim(void **state)
{
	struct fx *fx = *state;
	struct tels ts = { 0 };
	int64_t id[3];

	add_three(fx, id);
	assert_int_equal(store_telemetry_add(fx->st, ICCID_B, DEV_1, (const uint8_t *)"b", 1, NULL),
	    0);
	assert_int_equal(store_telemetry_list(fx->st, ICCID_B, 0, 100, seen_tel, &ts), 0);
	assert_int_equal(ts.n, 1);
	assert_string_equal(ts.body[0], "b");
}

static void
test_telemetry_of_255_bytes_is_stored(void **state)
{
	struct fx *fx = *state;
	uint8_t body[STORE_TELEMETRY_MAX];
	struct tels ts = { 0 };

	memset(body, 0xee, sizeof(body));
	add_sim(fx, ICCID_A);
	assert_int_equal(store_telemetry_add(fx->st, ICCID_A, DEV_1, body, sizeof(body), NULL), 0);
	assert_int_equal(store_telemetry_list(fx->st, ICCID_A, 0, 10, seen_tel, &ts), 0);
	assert_int_equal(ts.n, 1);
}

static void
test_telemetry_of_256_bytes_is_toobig(void **state)
{
	struct fx *fx = *state;
	uint8_t body[STORE_TELEMETRY_MAX + 1];
	int64_t id = -5;

	memset(body, 0xee, sizeof(body));
	add_sim(fx, ICCID_A);
	assert_int_equal(store_telemetry_add(fx->st, ICCID_A, DEV_1, body, sizeof(body), &id),
	    ZTP_ETOOBIG);
	assert_int_equal(id, -5);
	assert_int_equal(rows_of(fx, "telemetry", ICCID_A), 0);
}

static void
test_telemetry_records_its_time_of_arrival(void **state)
{
	struct fx *fx = *state;
	int64_t before = clock_now_ms(), after;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_telemetry_add(fx->st, ICCID_A, DEV_1, (const uint8_t *)"t", 1, NULL),
	    0);
	after = clock_now_ms();
	assert_in_range(sql_int(fx->path, "SELECT received_at FROM telemetry WHERE iccid = ?1",
			    ICCID_A),
	    before, after);
}

/* ---- device records ---- */

static void
test_device_get_or_create_returns_the_same_credentials_again(void **state)
{
	struct fx *fx = *state;
	struct store_device a, b;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_device_get_or_create(fx->st, ICCID_A, DEV_1, &a), 0);
	assert_string_equal(a.iccid, ICCID_A);
	assert_string_equal(a.device_id, DEV_1);
	assert_true(strlen(a.cli) > 0 && strlen(a.usr) > 0 && strlen(a.pwd) >= 16);
	assert_int_equal(store_device_get_or_create(fx->st, ICCID_A, DEV_1, &b), 0);
	assert_string_equal(a.cli, b.cli);
	assert_string_equal(a.usr, b.usr);
	assert_string_equal(a.pwd, b.pwd);
	assert_int_equal(a.created_at, b.created_at);
	assert_int_equal(rows_of(fx, "devices", ICCID_A), 1);
}

static void
test_device_credentials_survive_a_reopen(void **state)
{
	struct fx *fx = *state;
	struct store_device a, b;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_device_get_or_create(fx->st, ICCID_A, DEV_1, &a), 0);
	reopen(fx, data_key);
	assert_int_equal(store_device_get_or_create(fx->st, ICCID_A, DEV_1, &b), 0);
	assert_string_equal(a.pwd, b.pwd);
}

static void
test_device_of_another_device_id_gets_other_credentials(void **state)
{
	struct fx *fx = *state;
	struct store_device a, b;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_device_get_or_create(fx->st, ICCID_A, DEV_1, &a), 0);
	assert_int_equal(store_device_get_or_create(fx->st, ICCID_A, DEV_2, &b), 0);
	assert_string_equal(b.device_id, DEV_2);
	assert_string_not_equal(a.cli, b.cli);
	assert_string_not_equal(a.pwd, b.pwd);
	assert_int_equal(rows_of(fx, "devices", ICCID_A), 2);
}

static void
test_device_record_does_not_open_with_another_data_key(void **state)
{
	struct fx *fx = *state;
	struct store_device d;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_device_get_or_create(fx->st, ICCID_A, DEV_1, &d), 0);
	reopen(fx, other_key);
	assert_int_equal(store_device_get_or_create(fx->st, ICCID_A, DEV_1, &d), ZTP_EAUTH);
	/* and no second record was made in its place */
	assert_int_equal(rows_of(fx, "devices", ICCID_A), 1);
}

static void
test_device_password_is_sealed_in_the_database_file(void **state)
{
	struct fx *fx = *state;
	struct store_device d;

	add_sim(fx, ICCID_A);
	assert_int_equal(store_device_get_or_create(fx->st, ICCID_A, DEV_1, &d), 0);
	close_store(fx);
	assert_true(db_contains(fx, d.cli, strlen(d.cli)));
	assert_false(db_contains(fx, d.pwd, strlen(d.pwd)));
}

/* ---- events ---- */

struct evs {
	int n;
	int64_t id[16], time[16];
	char kind[16][32], iccid[16][ICCID_STR_SIZE], peer[16][64], detail[16][64];
};

static int
seen_ev(const struct store_event *ev, void *arg)
{
	struct evs *es = arg;

	if (es->n < 16) {
		es->id[es->n] = ev->id;
		es->time[es->n] = ev->time;
		snprintf(es->kind[es->n], sizeof(es->kind[0]), "%s", ev->kind);
		snprintf(es->iccid[es->n], sizeof(es->iccid[0]), "%s", ev->iccid);
		snprintf(es->peer[es->n], sizeof(es->peer[0]), "%s", ev->peer);
		snprintf(es->detail[es->n], sizeof(es->detail[0]), "%s", ev->detail);
	}
	es->n++;
	return 0;
}

static void
test_events_add_then_list_oldest_first(void **state)
{
	struct fx *fx = *state;
	struct evs es = { 0 };
	int64_t before = clock_now_ms(), after;

	assert_int_equal(store_event_add(fx->st, "first", ICCID_A, "127.0.0.1:5", "one"), 0);
	assert_int_equal(store_event_add(fx->st, "second", ICCID_B, "[::1]:6", "two"), 0);
	after = clock_now_ms();
	assert_int_equal(store_event_list(fx->st, 0, 0, 100, seen_ev, &es), 0);
	assert_int_equal(es.n, 2);
	assert_true(es.id[0] < es.id[1]);
	assert_string_equal(es.kind[0], "first");
	assert_string_equal(es.iccid[0], ICCID_A);
	assert_string_equal(es.peer[0], "127.0.0.1:5");
	assert_string_equal(es.detail[0], "one");
	assert_in_range(es.time[0], before, after);
	assert_string_equal(es.kind[1], "second");
	assert_string_equal(es.detail[1], "two");
}

static void
test_events_without_iccid_and_peer(void **state)
{
	struct fx *fx = *state;
	struct evs es = { 0 };

	assert_int_equal(store_event_add(fx->st, "startup", NULL, NULL, NULL), 0);
	assert_int_equal(store_event_add(fx->st, "startup", "", "", "x"), 0);
	assert_int_equal(store_event_list(fx->st, 0, 0, 100, seen_ev, &es), 0);
	assert_int_equal(es.n, 2);
	assert_string_equal(es.iccid[0], "");
	assert_string_equal(es.peer[0], "");
	assert_string_equal(es.detail[0], "");
	assert_string_equal(es.iccid[1], "");
	assert_string_equal(es.peer[1], "");
}

static void
test_events_list_after_an_id(void **state)
{
	struct fx *fx = *state;
	struct evs all = { 0 }, es = { 0 };

	assert_int_equal(store_event_add(fx->st, "a", NULL, NULL, "1"), 0);
	assert_int_equal(store_event_add(fx->st, "b", NULL, NULL, "2"), 0);
	assert_int_equal(store_event_add(fx->st, "c", NULL, NULL, "3"), 0);
	assert_int_equal(store_event_list(fx->st, 0, 0, 100, seen_ev, &all), 0);
	assert_int_equal(all.n, 3);
	assert_int_equal(store_event_list(fx->st, 0, all.id[0], 100, seen_ev, &es), 0);
	assert_int_equal(es.n, 2);
	assert_string_equal(es.kind[0], "b");
	assert_string_equal(es.kind[1], "c");
}

static void
test_events_list_since_a_time(void **state)
{
	struct fx *fx = *state;
	struct evs es = { 0 }, none = { 0 };
	int64_t mark;

	assert_int_equal(store_event_add(fx->st, "old", NULL, NULL, NULL), 0);
	sleep_ms(20);
	mark = clock_now_ms();
	assert_int_equal(store_event_add(fx->st, "new", NULL, NULL, NULL), 0);
	assert_int_equal(store_event_list(fx->st, mark, 0, 100, seen_ev, &es), 0);
	assert_int_equal(es.n, 1);
	assert_string_equal(es.kind[0], "new");
	assert_int_equal(store_event_list(fx->st, mark + 3600000, 0, 100, seen_ev, &none), 0);
	assert_int_equal(none.n, 0);
}

static void
test_events_list_honours_the_limit(void **state)
{
	struct fx *fx = *state;
	struct evs es = { 0 };
	int i;

	for (i = 0; i < 5; i++)
		assert_int_equal(store_event_add(fx->st, "k", NULL, NULL, NULL), 0);
	assert_int_equal(store_event_list(fx->st, 0, 0, 2, seen_ev, &es), 0);
	assert_int_equal(es.n, 2);
}

/* ---- API keys ---- */

static void
test_apikey_create_then_verify(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_apikey_create(fx->st, "admin", "s3cret"), 0);
	assert_int_equal(store_apikey_verify(fx->st, "admin", "s3cret"), 0);
}

static void
test_apikey_wrong_secret_fails_auth(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_apikey_create(fx->st, "admin", "s3cret"), 0);
	assert_int_equal(store_apikey_verify(fx->st, "admin", "s3creT"), ZTP_EAUTH);
	assert_int_equal(store_apikey_verify(fx->st, "admin", ""), ZTP_EAUTH);
	assert_int_equal(store_apikey_verify(fx->st, "admin", "s3cret "), ZTP_EAUTH);
}

static void
test_apikey_unknown_key_fails_auth(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_apikey_verify(fx->st, "nobody", "s3cret"), ZTP_EAUTH);
	assert_int_equal(store_apikey_create(fx->st, "admin", "s3cret"), 0);
	assert_int_equal(store_apikey_verify(fx->st, "Admin", "s3cret"), ZTP_EAUTH);
}

static void
test_apikey_exists(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store_apikey_exists(fx->st, "admin"), 0);
	assert_int_equal(store_apikey_create(fx->st, "admin", "s3cret"), 0);
	assert_int_equal(store_apikey_exists(fx->st, "admin"), 1);
	assert_int_equal(store_apikey_exists(fx->st, "other"), 0);
}

static void
test_apikey_count(void **state)
{
	struct fx *fx = *state;
	int n = -1;

	assert_int_equal(store_apikey_count(fx->st, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_apikey_create(fx->st, "a", "1"), 0);
	assert_int_equal(store_apikey_create(fx->st, "b", "2"), 0);
	assert_int_equal(store_apikey_count(fx->st, &n), 0);
	assert_int_equal(n, 2);
}

static void
test_apikey_create_twice_is_exist(void **state)
{
	struct fx *fx = *state;
	int n = -1;

	assert_int_equal(store_apikey_create(fx->st, "admin", "one"), 0);
	assert_int_equal(store_apikey_create(fx->st, "admin", "two"), ZTP_EEXIST);
	assert_int_equal(store_apikey_verify(fx->st, "admin", "one"), 0);
	assert_int_equal(store_apikey_verify(fx->st, "admin", "two"), ZTP_EAUTH);
	assert_int_equal(store_apikey_count(fx->st, &n), 0);
	assert_int_equal(n, 1);
}

static void
test_apikey_secret_is_not_in_the_database_file(void **state)
{
	static const char secret[] = "a-rather-long-recognisable-secret";
	struct fx *fx = *state;

	assert_int_equal(store_apikey_create(fx->st, "admin", secret), 0);
	close_store(fx);
	assert_true(db_contains(fx, "admin", 5));
	assert_false(db_contains(fx, secret, strlen(secret)));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_creates_the_current_schema),
		T(test_open_uses_wal_mode),
		T(test_reopen_keeps_the_data),
		T(test_reopen_does_not_rerun_migrations),
		T(test_open_refuses_a_newer_schema),
		T(test_sim_create_then_get),
		T(test_sim_get_of_unknown_sim_is_noent),
		T(test_sim_create_twice_is_exist),
		T(test_sim_create_rejects_a_bad_iccid),
		T(test_sim_create_rejects_a_psk_of_15_bytes),
		T(test_sim_create_rejects_a_psk_of_65_bytes),
		T(test_sim_create_accepts_psks_of_16_and_64_bytes),
		T(test_sim_psk_returns_the_psk),
		T(test_sim_psk_of_unknown_sim_is_noent),
		T(test_sim_psk_of_another_generation_is_noent),
		T(test_sim_psk_does_not_open_with_another_data_key),
		T(test_sealed_psk_is_bound_to_its_sim),
		T(test_psk_is_sealed_in_the_database_file),
		T(test_sim_list_orders_by_iccid),
		T(test_sim_list_pages_with_after_and_limit),
		T(test_sim_list_with_null_after_starts_at_the_beginning),
		T(test_sim_list_stops_at_a_callback_error),
		T(test_sim_block_then_unblock),
		T(test_sim_block_of_unknown_sim_is_noent),
		T(test_bind_takes_the_first_device_id),
		T(test_bind_of_the_same_device_id_again_is_ok),
		T(test_bind_of_another_device_id_conflicts_with_the_bound_id),
		T(test_rebind_then_a_new_device_id_binds),
		T(test_bind_and_rebind_of_unknown_sim_are_noent),
		T(test_delete_removes_configs_telemetry_and_devices),
		T(test_delete_keeps_other_sims_data),
		T(test_delete_twice_is_noent),
		T(test_delete_of_unknown_sim_removes_nothing),
		T(test_config_set_then_get_current),
		T(test_config_version_increments),
		T(test_config_versions_are_per_sim),
		T(test_sim_get_config_reads_the_sim_and_its_current_configuration),
		T(test_config_etag_format),
		T(test_config_etag_changes_with_content),
		T(test_config_etag_changes_with_version),
		T(test_stored_config_carries_its_etag),
		T(test_config_of_255_bytes_is_stored),
		T(test_config_of_256_bytes_is_toobig_and_stores_nothing),
		T(test_empty_config_is_stored),
		T(test_config_set_for_unknown_sim_is_noent),
		T(test_config_get_without_config_is_noent),
		T(test_config_history_is_newest_first),
		T(test_config_rollback_adds_the_next_version_with_the_old_body),
		T(test_config_rollback_to_unknown_version_adds_nothing),
		T(test_config_rollback_of_unknown_sim_is_noent),
		T(test_telemetry_lists_newest_first),
		T(test_telemetry_pages_with_before),
		T(test_telemetry_list_is_per_sim),
		T(test_telemetry_of_255_bytes_is_stored),
		T(test_telemetry_of_256_bytes_is_toobig),
		T(test_telemetry_records_its_time_of_arrival),
		T(test_device_get_or_create_returns_the_same_credentials_again),
		T(test_device_credentials_survive_a_reopen),
		T(test_device_of_another_device_id_gets_other_credentials),
		T(test_device_record_does_not_open_with_another_data_key),
		T(test_device_password_is_sealed_in_the_database_file),
		T(test_events_add_then_list_oldest_first),
		T(test_events_without_iccid_and_peer),
		T(test_events_list_after_an_id),
		T(test_events_list_since_a_time),
		T(test_events_list_honours_the_limit),
		T(test_apikey_create_then_verify),
		T(test_apikey_wrong_secret_fails_auth),
		T(test_apikey_unknown_key_fails_auth),
		T(test_apikey_exists),
		T(test_apikey_count),
		T(test_apikey_create_twice_is_exist),
		T(test_apikey_secret_is_not_in_the_database_file),
	};

	log_init("test_store", LOG_FORMAT_TEXT, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
