/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fixture of the store's unit tests (store_fixture.c): a store in a
 * fresh temporary directory per test, and helpers that look at the
 * database behind the store's back.
 *
 * Without ZTP_TEST_PG the store is a SQLite file in that directory. With
 * ZTP_TEST_PG (a PostgreSQL base URL, or the directory of a server that
 * tests/pg/pg.sh started: its url file) each test gets a fresh database,
 * ztp_u_<pid>_<n>, created over libpq and dropped at teardown; the
 * target is its URL (docs/testing.md). The helpers take either target.
 * Included by the test files after their system headers and cmocka.
 */
#ifndef ZTP_TEST_STORE_FIXTURE_H
#define ZTP_TEST_STORE_FIXTURE_H
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

struct store;

struct fx {
	char dir[64];   /* a fresh temporary directory (both drivers) */
	char path[512]; /* the store's target: DIR/ztp.db, or a PostgreSQL URL */
	struct store *st;
};

/*
 * The newest schema version of the store's driver. store_schema_target()
 * comes with the PostgreSQL driver (tests/CMakeLists.txt defines
 * ZTP_HAVE_SCHEMA_TARGET when store.h declares it); before, SQLite's
 * STORE_SCHEMA_VERSION.
 */
#ifdef ZTP_HAVE_SCHEMA_TARGET
#define fixture_schema_target(st) store_schema_target(st)
#else
#define fixture_schema_target(st) STORE_SCHEMA_VERSION
#endif

/* 1 if the tests run against PostgreSQL (ZTP_TEST_PG is set), else 0. */
int fixture_pg(void);

/*
 * A new target for a store: tmpdir/name (SQLite), or the URL of a fresh
 * database (PostgreSQL; dropped by test_store_drop_all()). 0 or -1.
 */
int test_store_target(char *target, size_t cap, const char *tmpdir, const char *name);
/* test_store_target(.., "ztp.db"), then store_open() on it. 0 or store_open's error. */
int test_store_open(struct store **st, char *target, size_t cap, const char *tmpdir,
    const uint8_t key[CRYPTO_KEY_LEN]);
/* Close *st (if not NULL) and open the same target again. */
int test_store_reopen(struct store **st, const char *target, const uint8_t key[CRYPTO_KEY_LEN]);
/* Drop every database test_store_target() made (PostgreSQL; nothing for SQLite). */
void test_store_drop_all(void);

/* setup() of a test file: a store opened with key in a new directory. */
int fixture_setup(void **state, const uint8_t key[CRYPTO_KEY_LEN]);
/* Closes the store, drops its databases, removes the directory. */
int teardown(void **state);
/* Close the fixture's store (SQLite: checkpointing the WAL into the file). */
void close_store(struct fx *fx);

/*
 * Run one statement on target with an optional text parameter (?1, $1 on
 * PostgreSQL: ?N is rewritten); the first column of its first row as an
 * integer (NULL and false: 0, true: 1), -1 if there is no row.
 */
int64_t sql_int(const char *target, const char *sql, const char *param);
/* Change the database behind the store's back (one or more statements). */
void sql_run(const char *target, const char *sql);
/* 1 if a column of a row of sql's result (PostgreSQL: its last statement's) holds needle. */
int sql_rows_contain(const char *target, const char *sql, const char *needle);

/* 1 if needle occurs in the file at path (0 if the file does not exist). */
int file_contains(const char *path, const void *needle, size_t len);
/*
 * 1 if needle occurs in the database's files: SQLite's file and WAL; on
 * PostgreSQL, after a CHECKPOINT, the database's relation files and the
 * cluster's WAL (the test is skipped if the server's data directory cannot
 * be read: a server that pg.sh did not start on this machine).
 */
int db_contains(const struct fx *fx, const void *needle, size_t len);

void sleep_ms(long ms);

#endif
