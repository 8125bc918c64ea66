/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fixture of the store's unit tests: a real SQLite file in a fresh
 * temporary directory per test, and helpers that look at the file behind
 * the store's back. Included by test_store*.c after their system headers
 * (_GNU_SOURCE for memmem, cmocka, sqlite3). Functions are static inline:
 * a test file need not use them all.
 */
#ifndef ZTP_TEST_STORE_FIXTURE_H
#define ZTP_TEST_STORE_FIXTURE_H

struct fx {
	char dir[64];
	char path[128];
	struct store *st;
};

/* setup() of a test file: a store opened with key in a new directory. */
static inline int
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
	snprintf(fx->path, sizeof(fx->path), "%s/ztp.db", fx->dir);
	if (store_open(&fx->st, fx->path, key) != 0) {
		rmdir(fx->dir);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static inline int
teardown(void **state)
{
	struct fx *fx = *state;
	struct dirent *de;
	char path[512];
	DIR *d;

	store_close(fx->st);
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

/* Close the fixture's store (checkpointing the WAL into the file). */
static inline void
close_store(struct fx *fx)
{
	store_close(fx->st);
	fx->st = NULL;
}

/* Run one statement with an optional text parameter; the first column of its first row. */
static inline int64_t
sql_int(const char *path, const char *sql, const char *param)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (param != NULL)
		sqlite3_bind_text(s, 1, param, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* Change the database behind the store's back (it holds no transaction between calls). */
static inline void
sql_run(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* 1 if needle occurs in the file at path (0 if the file does not exist). */
static inline int
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

/* 1 if needle occurs in the database or its WAL. */
static inline int
db_contains(const struct fx *fx, const void *needle, size_t len)
{
	char wal[160];

	snprintf(wal, sizeof(wal), "%s-wal", fx->path);
	return file_contains(fx->path, needle, len) || file_contains(wal, needle, len);
}

static inline void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

#endif
