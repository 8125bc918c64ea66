/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's unit-test fixture (store_fixture.h): SQLite files in a
 * temporary directory, or fresh PostgreSQL databases over libpq when
 * ZTP_TEST_PG is set (docs/testing.md).
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
#include <libpq-fe.h>
#include <sqlite3.h>

#include "store.h"
#include "store_fixture.h"

#define URL_MAX 512
#define DBS_MAX 16

/* the databases test_store_target() made since the last drop */
static char made[DBS_MAX][64];
static int nmade;
static unsigned counter;

/* The base URL of ZTP_TEST_PG into out; 0 if it is not set, -1 if it cannot be read. */
static int
pg_base(char *out, size_t cap)
{
	const char *v = getenv("ZTP_TEST_PG");
	char path[512];
	FILE *f;
	size_t n;

	if (v == NULL || v[0] == '\0')
		return 0;
	if (strncmp(v, "postgresql://", 13) == 0 || strncmp(v, "postgres://", 11) == 0) {
		snprintf(out, cap, "%s", v);
		return 1;
	}
	/* the directory of `pg.sh start DIR`: DIR/url */
	snprintf(path, sizeof(path), "%s/url", v);
	if ((f = fopen(path, "r")) == NULL || fgets(out, (int)cap, f) == NULL) {
		fprintf(stderr, "ZTP_TEST_PG: cannot read %s (was `tests/pg/pg.sh start %s` run?)\n",
		    path, v);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	return 1;
}

int
fixture_pg(void)
{
	const char *v = getenv("ZTP_TEST_PG");

	return v != NULL && v[0] != '\0';
}

static int
is_pg_target(const char *target)
{
	return strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0;
}

/* base with name as its database: before the query, else at the end (as pg.sh's pg_url) */
static void
pg_url(char *out, size_t cap, const char *base, const char *name)
{
	const char *q = strchr(base, '?');

	if (q != NULL)
		snprintf(out, cap, "%.*s%s%s", (int)(q - base), base, name, q);
	else
		snprintf(out, cap, "%s%s", base, name);
}

/* NOTICE: database ... does not exist, skipping */
static void
no_notice(void *arg, const char *message)
{
}

static PGconn *
pg_connect(const char *url)
{
	PGconn *c = PQconnectdb(url);

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "%s: %s", url, PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, no_notice, NULL);
	return c;
}

/* Run sql (no result wanted) on the maintenance database postgres; 0 or -1. */
static int
pg_admin(const char *sql)
{
	char base[URL_MAX], url[URL_MAX];
	PGresult *r;
	PGconn *c;
	int rc;

	if (pg_base(base, sizeof(base)) != 1)
		return -1;
	pg_url(url, sizeof(url), base, "postgres");
	if ((c = pg_connect(url)) == NULL)
		return -1;
	r = PQexec(c, sql);
	rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
	if (rc != 0)
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return rc;
}

int
test_store_target(char *target, size_t cap, const char *tmpdir, const char *name)
{
	char base[URL_MAX], db[64], sql[160];
	int b;

	if ((b = pg_base(base, sizeof(base))) == 0) {
		snprintf(target, cap, "%s/%s", tmpdir, name);
		return 0;
	}
	if (b < 0 || nmade == DBS_MAX)
		return -1;
	snprintf(db, sizeof(db), "ztp_u_%ld_%u", (long)getpid(), ++counter);
	/* FILE_COPY: a quarter of the time of WAL_LOG for a small template */
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
	if (pg_admin(sql) != 0)
		return -1;
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s STRATEGY FILE_COPY", db);
	if (pg_admin(sql) != 0)
		return -1;
	snprintf(made[nmade++], sizeof(made[0]), "%s", db);
	pg_url(target, cap, base, db);
	return 0;
}

int
test_store_open(struct store **st, char *target, size_t cap, const char *tmpdir,
    const uint8_t key[CRYPTO_KEY_LEN])
{
	*st = NULL;
	if (test_store_target(target, cap, tmpdir, "ztp.db") != 0)
		return -1;
	return store_open(st, target, key);
}

int
test_store_reopen(struct store **st, const char *target, const uint8_t key[CRYPTO_KEY_LEN])
{
	store_close(*st);
	*st = NULL;
	return store_open(st, target, key);
}

void
test_store_drop_all(void)
{
	char sql[160];
	int i;

	for (i = 0; i < nmade; i++) {
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", made[i]);
		(void)pg_admin(sql);
	}
	nmade = 0;
}

int
fixture_setup(void **state, const uint8_t key[CRYPTO_KEY_LEN])
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/ztp-test-store.XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	if (test_store_open(&fx->st, fx->path, sizeof(fx->path), fx->dir, key) != 0) {
		test_store_drop_all();
		rmdir(fx->dir);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

int
teardown(void **state)
{
	struct fx *fx = *state;
	struct dirent *de;
	char path[512];
	DIR *d;

	store_close(fx->st);
	test_store_drop_all();
	if ((d = opendir(fx->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", fx->dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

void
close_store(struct fx *fx)
{
	store_close(fx->st);
	fx->st = NULL;
}

/* sql with SQLite's ?N parameters as PostgreSQL's $N (outside quotes) */
static void
pg_params(char *out, size_t cap, const char *sql)
{
	size_t n = 0;
	int quoted = 0;

	for (; *sql != '\0' && n + 1 < cap; sql++) {
		if (*sql == '\'')
			quoted = !quoted;
		out[n++] = !quoted && sql[0] == '?' && sql[1] >= '1' && sql[1] <= '9' ? '$' : *sql;
	}
	out[n] = '\0';
}

/* A value of PostgreSQL's text output as sql_int reads it. */
static int64_t
pg_value(const PGresult *r)
{
	const char *v;

	if (PQntuples(r) < 1)
		return -1;
	if (PQgetisnull(r, 0, 0))
		return 0;
	v = PQgetvalue(r, 0, 0);
	if (strcmp(v, "t") == 0)
		return 1;
	if (strcmp(v, "f") == 0)
		return 0;
	return strtoll(v, NULL, 10);
}

int64_t
sql_int(const char *target, const char *sql, const char *param)
{
	if (is_pg_target(target)) {
		char q[2048];
		PGconn *c = pg_connect(target);
		PGresult *r;
		int64_t v;

		assert_non_null(c);
		pg_params(q, sizeof(q), sql);
		r = PQexecParams(c, q, param != NULL ? 1 : 0, NULL, param != NULL ? &param : NULL,
		    NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			print_error("%s: %s", q, PQerrorMessage(c));
			PQclear(r);
			PQfinish(c);
			fail();
		}
		v = pg_value(r);
		PQclear(r);
		PQfinish(c);
		return v;
	}

	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(target, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (param != NULL)
		sqlite3_bind_text(s, 1, param, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

void
sql_run(const char *target, const char *sql)
{
	if (is_pg_target(target)) {
		PGconn *c = pg_connect(target);
		PGresult *r;
		ExecStatusType st;

		assert_non_null(c);
		r = PQexec(c, sql);
		st = PQresultStatus(r);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			print_error("%s: %s", sql, PQerrorMessage(c));
			PQclear(r);
			PQfinish(c);
			fail();
		}
		PQclear(r);
		PQfinish(c);
		return;
	}

	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(target, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

int
sql_rows_contain(const char *target, const char *sql, const char *needle)
{
	int found = 0, i, j;

	if (is_pg_target(target)) {
		PGconn *c = pg_connect(target);
		PGresult *r;

		assert_non_null(c);
		r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			print_error("%s: %s", sql, PQerrorMessage(c));
			PQclear(r);
			PQfinish(c);
			fail();
		}
		for (i = 0; i < PQntuples(r); i++) {
			for (j = 0; j < PQnfields(r); j++)
				if (strstr(PQgetvalue(r, i, j), needle) != NULL)
					found = 1;
			print_message("%s\n", PQgetvalue(r, i, 0));
		}
		PQclear(r);
		PQfinish(c);
		return found;
	}

	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	const char *t;

	assert_int_equal(sqlite3_open_v2(target, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW)
		for (j = 0; j < sqlite3_column_count(s); j++)
			if ((t = (const char *)sqlite3_column_text(s, j)) != NULL && strstr(t, needle) != NULL)
				found = 1;
	sqlite3_finalize(s);
	sqlite3_close(db);
	return found;
}

int
file_contains(const char *path, const void *needle, size_t len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, r;
	int found;

	if (f == NULL)
		return 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		if ((r = fread(buf + n, 1, cap - n, f)) == 0)
			break;
		n += r;
	}
	fclose(f);
	found = memmem(buf, n, needle, len) != NULL;
	free(buf);
	return found;
}

/* 1 if needle is in a regular file of dir (not below it); -1 if dir cannot be read */
static int
dir_contains(const char *dir, const void *needle, size_t len)
{
	struct dirent *de;
	char path[1024];
	DIR *d;
	int found = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		found = file_contains(path, needle, len);
	}
	closedir(d);
	return found;
}

int
db_contains(const struct fx *fx, const void *needle, size_t len)
{
	char wal[sizeof(fx->path) + 8];

	if (is_pg_target(fx->path)) {
		char data[512], dir[600];
		PGconn *c = pg_connect(fx->path);
		PGresult *r;
		int a, b;

		assert_non_null(c);
		/* what the store committed, in the relation files too (pg.sh grants CHECKPOINT) */
		r = PQexec(c, "CHECKPOINT");
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			print_message("db_contains: CHECKPOINT: %s", PQerrorMessage(c));
			PQclear(r);
			PQfinish(c);
			skip();
		}
		PQclear(r);
		r = PQexec(c, "SELECT current_setting('data_directory'), oid FROM pg_database"
			      " WHERE datname = current_database()");
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
			print_message("db_contains: the data directory: %s", PQerrorMessage(c));
			PQclear(r);
			PQfinish(c);
			skip();
		}
		snprintf(data, sizeof(data), "%s", PQgetvalue(r, 0, 0));
		snprintf(dir, sizeof(dir), "%s/base/%s", data, PQgetvalue(r, 0, 1));
		PQclear(r);
		PQfinish(c);
		a = dir_contains(dir, needle, len);
		snprintf(dir, sizeof(dir), "%s/pg_wal", data);
		b = dir_contains(dir, needle, len);
		if (a < 0 || b < 0) {
			print_message("db_contains: cannot read %s (a server of another machine?)\n",
			    data);
			skip();
		}
		return a || b;
	}
	snprintf(wal, sizeof(wal), "%s-wal", fx->path);
	return file_contains(fx->path, needle, len) || file_contains(wal, needle, len);
}

void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}
