/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store on SQLite, its core: one database file in WAL mode, one
 * connection per struct store, prepared statements cached per connection,
 * schema brought up to date by numbered migrations recorded in PRAGMA
 * user_version, transactions, and the sealing of secrets at rest. The
 * queries live in one file per domain (store_int.h lists them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "crypto.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

/* Migration N brings the schema from version N-1 to N. Never edit one that shipped. */
static const char *const migrations[] = {
	NULL,
	/* 1: the first schema */
	"CREATE TABLE sims("
	" iccid TEXT PRIMARY KEY,"
	" psk BLOB NOT NULL,"
	" psk_generation INTEGER NOT NULL DEFAULT 0,"
	" blocked INTEGER NOT NULL DEFAULT 0,"
	" device_id TEXT,"
	" config_version INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE configs("
	" iccid TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" body BLOB NOT NULL,"
	" source TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" PRIMARY KEY(iccid, version)) WITHOUT ROWID;"
	"CREATE TABLE telemetry("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" iccid TEXT NOT NULL,"
	" device_id TEXT NOT NULL,"
	" body BLOB NOT NULL,"
	" received_at INTEGER NOT NULL);"
	"CREATE INDEX telemetry_iccid ON telemetry(iccid, id);"
	"CREATE TABLE devices("
	" iccid TEXT NOT NULL,"
	" device_id TEXT NOT NULL,"
	" cli TEXT NOT NULL,"
	" usr TEXT NOT NULL,"
	" pwd BLOB NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" PRIMARY KEY(iccid, device_id)) WITHOUT ROWID;"
	"CREATE TABLE events("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"
	" iccid TEXT,"
	" peer TEXT,"
	" detail TEXT NOT NULL);"
	"CREATE INDEX events_time ON events(time, id);"
	"CREATE TABLE api_keys("
	" key_id TEXT PRIMARY KEY,"
	" salt BLOB NOT NULL,"
	" hash BLOB NOT NULL,"
	" created_at INTEGER NOT NULL) WITHOUT ROWID;",
	/* 2: SIM groups (derived PSKs, policy); SIMs belong to a group */
	"CREATE TABLE groups("
	" name TEXT PRIMARY KEY,"
	" iccid_prefix TEXT NOT NULL DEFAULT '',"
	" derive INTEGER NOT NULL DEFAULT 0,"
	" master_key BLOB,"
	" allow_psk_ke INTEGER NOT NULL DEFAULT 0,"
	" rotation_period_s INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX groups_prefix ON groups(derive, iccid_prefix);"
	"ALTER TABLE sims ADD COLUMN group_name TEXT;",
	/* 3: PSK rotation over the air: a pending key of generation + 1 */
	"ALTER TABLE sims ADD COLUMN pending_psk BLOB;"
	"ALTER TABLE sims ADD COLUMN rotate INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sims ADD COLUMN rotated_at INTEGER NOT NULL DEFAULT 0;",
	/* 4: certificates (EST): allowlist, enrolment passwords, manufacturer CAs, devices,
	 * issued certificates and revocations, the published CRL; group policy for them */
	"ALTER TABLE groups ADD COLUMN est_auth INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sims ADD COLUMN blocked_by TEXT;"
	"ALTER TABLE groups ADD COLUMN cert_days INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE groups ADD COLUMN reenroll_grace_s INTEGER NOT NULL DEFAULT -1;"
	"CREATE TABLE allowlist("
	" udid TEXT PRIMARY KEY,"
	" key_sha256 BLOB NOT NULL,"
	" group_name TEXT REFERENCES groups(name),"
	" iccid TEXT,"
	" created_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE enrol_passwords("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" udid TEXT NOT NULL,"
	" salt BLOB NOT NULL,"
	" hash BLOB NOT NULL,"
	" group_name TEXT REFERENCES groups(name),"
	" created_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" used_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX enrol_passwords_udid ON enrol_passwords(udid, id);"
	"CREATE TABLE mfr_cas("
	" name TEXT PRIMARY KEY,"
	" pem TEXT NOT NULL,"
	" sha256 BLOB NOT NULL UNIQUE,"
	" group_name TEXT REFERENCES groups(name),"
	" created_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE things("
	" udid TEXT PRIMARY KEY,"
	" group_name TEXT,"
	" iccid TEXT,"
	" blocked INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE certs("
	" serial TEXT PRIMARY KEY,"
	" udid TEXT NOT NULL,"
	" subject TEXT NOT NULL,"
	" key_sha256 BLOB NOT NULL,"
	" not_before INTEGER NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" issued_at INTEGER NOT NULL,"
	" method TEXT NOT NULL,"
	" revoked_at INTEGER NOT NULL DEFAULT 0,"
	" reason INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE INDEX certs_udid ON certs(udid, issued_at);"
	"CREATE INDEX certs_revoked ON certs(revoked_at) WHERE revoked_at > 0;"
	"CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO counters VALUES('revocations', 0), ('crl_number', 0), ('mfr_cas', 0);"
	"CREATE TABLE crl("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" number INTEGER NOT NULL,"
	" this_update INTEGER NOT NULL,"
	" next_update INTEGER NOT NULL,"
	" revocations INTEGER NOT NULL,"
	" der BLOB NOT NULL);",
	/* 5: proxy mode: a group's device requests forwarded to the customer's own server
	 * (NULL: the server's default; 'off': answered from this store) */
	"ALTER TABLE groups ADD COLUMN upstream TEXT;"
	"ALTER TABLE groups ADD COLUMN upstream_ca TEXT;"
	"ALTER TABLE groups ADD COLUMN upstream_cert TEXT;"
	"ALTER TABLE groups ADD COLUMN upstream_key TEXT;",
	/* 6: a bounded audit trail: repeats of one event coalesced into one row with a count
	 * (last_time: the last repeat, ms; NULL for rows written one by one), and telemetry
	 * pruned by age */
	"ALTER TABLE events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE events ADD COLUMN last_time INTEGER;"
	"CREATE INDEX telemetry_received ON telemetry(received_at);",
};

enum core_stmt {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S__COUNT
};

static const char *const core_sql[S__COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
};

int
store_db_err(struct store *st, const char *what)
{
	log_warnx("store: %s: %s", what, sqlite3_errmsg(st->db));
	return ZTP_ESTORE;
}

sqlite3_stmt *
store_prep(struct store *st, enum store_module m, int idx, const char *sql)
{
	sqlite3_stmt *s;

	if ((unsigned)m >= STORE_M__COUNT || idx < 0 || idx >= STORE_MODULE_STMT_MAX)
		return NULL;
	if ((s = st->stmt[m][idx]) == NULL) {
		if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
		    SQLITE_OK) {
			store_db_err(st, "prepare");
			return NULL;
		}
		st->stmt[m][idx] = s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int
store_exec(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_CONSTRAINT)
			return ZTP_EEXIST;
		return store_db_err(st, "step");
	}
	return 0;
}

int
store_exec_row(struct store *st, sqlite3_stmt *s)
{
	int rc;

	if ((rc = store_exec(st, s)) != 0)
		return rc;
	return sqlite3_changes(st->db) == 1 ? 0 : ZTP_ENOENT;
}

int
store_exec_text(struct store *st, enum store_module m, int idx, const char *sql,
    const char *text)
{
	sqlite3_stmt *s = store_prep(st, m, idx, sql);

	if (s == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	return store_exec(st, s);
}

int
store_step_row(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 0;
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? ZTP_ENOENT : store_db_err(st, what);
}

int
store_rows_end(struct store *st, int rc, const char *what)
{
	if (rc == SQLITE_DONE)
		return 0;
	return rc > 0 ? store_db_err(st, what) : rc;
}

int
store_tx_begin(struct store *st)
{
	sqlite3_stmt *s = store_prep(st, STORE_M_CORE, S_BEGIN, core_sql[S_BEGIN]);

	return s ? store_exec(st, s) : ZTP_ESTORE;
}

int
store_tx_end(struct store *st, int rc)
{
	int id = rc == 0 ? S_COMMIT : S_ROLLBACK;
	sqlite3_stmt *s = store_prep(st, STORE_M_CORE, id, core_sql[id]);

	if (s == NULL)
		return ZTP_ESTORE;
	if (store_exec(st, s) != 0 && rc == 0)
		rc = ZTP_ESTORE;
	return rc;
}

void
store_col_text(sqlite3_stmt *s, int col, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(out, cap, "%s", t ? (const char *)t : "");
}

void
store_bind_opt_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v != NULL && v[0] != '\0')
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
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

/* Apply the migrations the database has not seen, each in its own transaction. */
static int
run_migrations(struct store *st)
{
	int version = store_schema_version(st);
	int target = (int)(sizeof(migrations) / sizeof(migrations[0])) - 1;
	char sql[64];

	if (version < 0)
		return ZTP_ESTORE;
	if (version > target) {
		log_warnx("store: database schema %d is newer than this ztpd (%d)", version, target);
		return ZTP_ESTORE;
	}
	while (version < target) {
		version++;
		if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
			return store_db_err(st, "begin migration");
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
		if (sqlite3_exec(st->db, migrations[version], NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			store_db_err(st, "migration");
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return ZTP_ESTORE;
		}
		if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			return store_db_err(st, "commit migration");
		log_info("store: schema migrated to version %d", version);
	}
	return 0;
}

int
store_open(struct store **out, const char *path, const uint8_t key[CRYPTO_KEY_LEN])
{
	struct store *st;
	int rc = ZTP_ESTORE;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return ZTP_ENOMEM;
	memcpy(st->key, key, CRYPTO_KEY_LEN);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_warnx("store: cannot open %s: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(st->db, 5000);
	if (sqlite3_exec(st->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
				 " PRAGMA foreign_keys = ON;", NULL, NULL, NULL) != SQLITE_OK) {
		store_db_err(st, "pragma");
		goto out;
	}
	if ((rc = run_migrations(st)) != 0)
		goto out;
	*out = st;
	st = NULL;
	rc = 0;
out:
	store_close(st);
	return rc;
}

void
store_close(struct store *st)
{
	int m, i;

	if (st == NULL)
		return;
	for (m = 0; m < STORE_M__COUNT; m++)
		for (i = 0; i < STORE_MODULE_STMT_MAX; i++)
			sqlite3_finalize(st->stmt[m][i]);
	sqlite3_close(st->db);
	OPENSSL_cleanse(st->key, sizeof(st->key));
	free(st);
}

int
store_schema_version(struct store *st)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}
