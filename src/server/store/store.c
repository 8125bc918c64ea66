/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's core, above its drivers: opening by URL, the statement cache,
 * statements run to their end, writing transactions, and the sealing of
 * secrets at rest. The drivers (store_sqlite.c, store_pg.c) only talk to
 * their database; the queries live in one file per domain (store_int.h
 * lists them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

int
store_db_err(struct store *st, const char *what)
{
	log_warnx("store: %s: %s", what, st->drv->errmsg(st));
	return ZTP_ESTORE;
}

struct store_stmt *
store_prep(struct store *st, enum store_module m, int idx, const char *sql)
{
	struct store_stmt *s;

	if ((unsigned)m >= STORE_M__COUNT || idx < 0 || idx >= STORE_MODULE_STMT_MAX)
		return NULL;
	if ((s = st->stmt[m][idx]) == NULL) {
		if ((s = st->drv->prepare(st, sql)) == NULL) {
			store_db_err(st, "prepare");
			return NULL;
		}
		st->stmt[m][idx] = s;
	}
	st->drv->reset(s);
	st->drv->clear(s);
	return s;
}

int
store_exec(struct store *st, struct store_stmt *s)
{
	int rc = store_step(s);

	store_reset(s);
	if (rc != STORE_DONE) {
		if (rc == STORE_CONSTRAINT)
			return ZTP_EEXIST;
		return store_db_err(st, "step");
	}
	return 0;
}

int
store_exec_row(struct store *st, struct store_stmt *s)
{
	int rc;

	if ((rc = store_exec(st, s)) != 0)
		return rc;
	return store_changes(st) == 1 ? 0 : ZTP_ENOENT;
}

int
store_exec_text(struct store *st, enum store_module m, int idx, const char *sql,
    const char *text)
{
	struct store_stmt *s = store_prep(st, m, idx, sql);

	if (s == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, text);
	return store_exec(st, s);
}

int
store_exec_id(struct store *st, struct store_stmt *s, int64_t *id)
{
	int rc = store_step(s);

	if (rc == STORE_ROW) {
		*id = store_col_int64(s, 0);
		rc = store_step(s);
	}
	store_reset(s);
	if (rc == STORE_DONE)
		return 0;
	return rc == STORE_CONSTRAINT ? ZTP_EEXIST : store_db_err(st, "insert");
}

int
store_step_row(struct store *st, struct store_stmt *s, const char *what)
{
	int rc = store_step(s);

	if (rc == STORE_ROW)
		return 0;
	store_reset(s);
	return rc == STORE_DONE ? ZTP_ENOENT : store_db_err(st, what);
}

int
store_rows_end(struct store *st, int rc, const char *what)
{
	if (rc == STORE_DONE)
		return 0;
	return rc > 0 ? store_db_err(st, what) : rc;
}

int
store_tx_begin(struct store *st)
{
	return st->drv->begin(st) == 0 ? 0 : store_db_err(st, "begin");
}

int
store_tx_end(struct store *st, int rc)
{
	if (rc == 0) {
		if (st->drv->commit(st) != 0) {
			store_db_err(st, "commit");
			st->drv->rollback(st);
			rc = ZTP_ESTORE;
		}
	} else if (st->drv->rollback(st) != 0) {
		store_db_err(st, "rollback");
	}
	return rc;
}

void
store_col_text(struct store_stmt *s, int col, char *out, size_t cap)
{
	const char *t = s->drv->col_text(s, col);

	snprintf(out, cap, "%s", t ? t : "");
}

/* The length of the valid UTF-8 sequence at p (at most n bytes), 0 if none. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void
store_text_clean(const char *in, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	size_t n = strlen((const char *)p), o = 0, k;

	if (cap == 0)
		return;
	while (n > 0 && o + 1 < cap) {
		if ((k = utf8_seq(p, n)) == 0 || o + k >= cap) {
			/* invalid, or valid but not fitting whole: one '?' for its first byte */
			out[o++] = '?';
			k = k == 0 ? 1 : n;
		} else {
			memcpy(out + o, p, k);
			o += k;
		}
		p += k;
		n -= k;
	}
	out[o] = '\0';
}

void
store_bind_opt_text(struct store_stmt *s, int i, const char *v)
{
	if (v != NULL && v[0] != '\0')
		store_bind_text(s, i, v);
	else
		store_bind_null(s, i);
}

/* ---- secrets at rest ---- */

/* The AAD that binds a sealed secret to its row and purpose. */
static size_t
secret_aad(char *buf, size_t cap, const char *what, const char *row, const char *extra)
{
	int n = snprintf(buf, cap, "ztp:%s:%s:%s", what, row, extra ? extra : "");
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Seal (open 0) or open (open 1) in with the AAD of its row and purpose. */
static int
seal_or_open(struct store *st, int open, const char *what, const char *row, const char *extra,
    const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	char aad[96];
	size_t aadlen = secret_aad(aad, sizeof(aad), what, row, extra);

	if (open)
		return crypto_open(st->key, aad, aadlen, in, len, out, cap, outlen);
	return crypto_seal(st->key, aad, aadlen, in, len, out, cap, outlen);
}

int
store_seal(struct store *st, const char *what, const char *row, const char *extra,
    const uint8_t *plain, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	return seal_or_open(st, 0, what, row, extra, plain, len, out, cap, outlen);
}

int
store_unseal(struct store *st, const char *what, const char *row, const char *extra,
    const void *sealed, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	return seal_or_open(st, 1, what, row, extra, sealed, len, out, cap, outlen);
}

int
store_secret_hash(const char *secret, uint8_t salt[STORE_SALT_LEN], uint8_t hash[STORE_HASH_LEN])
{
	int rc;

	if ((rc = crypto_random(salt, STORE_SALT_LEN)) != 0)
		return rc;
	return crypto_hmac_sha256(salt, STORE_SALT_LEN, secret, strlen(secret), hash);
}

int
store_secret_matches(const void *salt, size_t saltlen, const void *hash, size_t hashlen,
    const char *secret)
{
	uint8_t h[STORE_HASH_LEN];
	int ok;

	ok = hashlen == sizeof(h) &&
	    crypto_hmac_sha256(salt, saltlen, secret, strlen(secret), h) == 0 &&
	    crypto_equal(h, hash, sizeof(h));
	OPENSSL_cleanse(h, sizeof(h));
	return ok;
}

/* ---- the connection ---- */

/*
 * The driver a target names, and the driver's part of it: "sqlite:PATH" or
 * a bare path for SQLite, a postgresql:// or postgres:// URL for PostgreSQL
 * (passed to libpq as it is).
 */
static const struct store_driver *
driver_for(const char *target, const char **rest)
{
	if (strncmp(target, "sqlite:", 7) == 0) {
		*rest = target + 7;
		return &store_sqlite_driver;
	}
	if (strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0) {
		*rest = target;
		return &store_pg_driver;
	}
	if (strstr(target, "://") != NULL)
		return NULL;
	*rest = target;
	return &store_sqlite_driver;
}

int
store_target_has_password(const char *target)
{
	const char *rest;

	return driver_for(target, &rest) == &store_pg_driver && store_pg_url_has_password(rest);
}

int
store_open(struct store **out, const char *target, const uint8_t key[CRYPTO_KEY_LEN])
{
	const struct store_driver *drv;
	const char *rest;
	struct store *st;
	int rc;

	if ((drv = driver_for(target, &rest)) == NULL || rest[0] == '\0') {
		log_warnx("store: %s is not a store URL (sqlite:PATH or postgresql://...)",
		    strncmp(target, "postgres", 8) == 0 ? "the URL" : target);
		return ZTP_EINVAL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return ZTP_ENOMEM;
	st->drv = drv;
	memcpy(st->key, key, CRYPTO_KEY_LEN);
	if ((rc = drv->open(st, rest)) != 0) {
		store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

void
store_close(struct store *st)
{
	int m, i;

	if (st == NULL)
		return;
	for (m = 0; m < STORE_M__COUNT; m++)
		for (i = 0; i < STORE_MODULE_STMT_MAX; i++)
			if (st->stmt[m][i] != NULL)
				st->drv->finalize(st->stmt[m][i]);
	st->drv->close(st);
	OPENSSL_cleanse(st->key, sizeof(st->key));
	free(st);
}

int
store_schema_version(struct store *st)
{
	return st->drv->schema_version(st);
}

int
store_schema_target(struct store *st)
{
	return st->drv->schema_target;
}

const char *
store_driver_name(struct store *st)
{
	return st->drv->name;
}

void
store_set_waiter(struct store *st, store_waiter waiter, void *arg)
{
	st->waiter = waiter;
	st->waiter_arg = arg;
}

int
store_waits(struct store *st)
{
	return st->drv == &store_pg_driver;
}
