/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store on SQLite: one database file in WAL mode, one connection per
 * struct store, prepared statements cached per connection, schema brought
 * up to date by numbered migrations recorded in PRAGMA user_version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "clock.h"
#include "crypto.h"
#include "hex.h"
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
};

enum stmt_id {
	S_SIM_GET,
	S_SIM_PSK,
	S_SIM_LIST,
	S_SIM_BLOCK,
	S_SIM_REBIND,
	S_SIM_BIND,
	S_SIM_DELETE,
	S_SIM_SET_VERSION,
	S_CFG_DELETE,
	S_TEL_DELETE,
	S_DEV_DELETE,
	S_CFG_NEXT,
	S_CFG_INSERT,
	S_CFG_GET,
	S_CFG_HISTORY,
	S_TEL_INSERT,
	S_TEL_LIST,
	S_DEV_GET,
	S_DEV_INSERT,
	S_EV_INSERT,
	S_EV_LIST,
	S_KEY_INSERT,
	S_KEY_GET,
	S_KEY_COUNT,
	S_GROUP_INSERT,
	S_GROUP_GET,
	S_GROUP_LIST,
	S_GROUP_UPSTREAM,
	S_GROUP_DERIVED,
	S_SIM_INSERT_GROUP,
	S_SIM_IMPORT_GET,
	S_SIM_PENDING_GET,
	S_SIM_PENDING_SET,
	S_SIM_COMMIT,
	S_SIM_ROTATE,
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S__COUNT
};

static const char *const stmt_sql[S__COUNT] = {
	[S_SIM_GET] = "SELECT iccid, blocked, device_id, psk_generation, config_version, created_at,"
		      " updated_at, group_name, length(psk) = 0, rotate, pending_psk IS NOT NULL,"
		      " rotated_at FROM sims WHERE iccid = ?1",
	[S_SIM_PSK] = "SELECT psk FROM sims WHERE iccid = ?1 AND psk_generation = ?2",
	[S_SIM_LIST] = "SELECT iccid, blocked, device_id, psk_generation, config_version, created_at,"
		       " updated_at, group_name, length(psk) = 0, rotate, pending_psk IS NOT NULL,"
		       " rotated_at FROM sims WHERE iccid > ?1 ORDER BY iccid LIMIT ?2",
	[S_SIM_BLOCK] = "UPDATE sims SET blocked = ?2, blocked_by = NULL, updated_at = ?3"
			" WHERE iccid = ?1",
	[S_SIM_REBIND] = "UPDATE sims SET device_id = NULL, updated_at = ?2 WHERE iccid = ?1",
	[S_SIM_BIND] = "UPDATE sims SET device_id = ?2, updated_at = ?3 WHERE iccid = ?1 AND device_id IS NULL",
	[S_SIM_DELETE] = "DELETE FROM sims WHERE iccid = ?1",
	[S_SIM_SET_VERSION] = "UPDATE sims SET config_version = ?2, updated_at = ?3 WHERE iccid = ?1",
	[S_CFG_DELETE] = "DELETE FROM configs WHERE iccid = ?1",
	[S_TEL_DELETE] = "DELETE FROM telemetry WHERE iccid = ?1",
	[S_DEV_DELETE] = "DELETE FROM devices WHERE iccid = ?1",
	[S_CFG_NEXT] = "SELECT COALESCE(MAX(version), 0) + 1 FROM configs WHERE iccid = ?1",
	[S_CFG_INSERT] = "INSERT INTO configs(iccid, version, body, source, created_at) VALUES(?1, ?2, ?3, ?4, ?5)",
	[S_CFG_GET] = "SELECT iccid, version, body, source, created_at FROM configs"
		      " WHERE iccid = ?1 AND version = ?2",
	[S_CFG_HISTORY] = "SELECT iccid, version, body, source, created_at FROM configs"
			  " WHERE iccid = ?1 ORDER BY version DESC",
	[S_TEL_INSERT] = "INSERT INTO telemetry(iccid, device_id, body, received_at) VALUES(?1, ?2, ?3, ?4)",
	[S_TEL_LIST] = "SELECT id, iccid, device_id, body, received_at FROM telemetry"
		       " WHERE iccid = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
	[S_DEV_GET] = "SELECT cli, usr, pwd, created_at FROM devices WHERE iccid = ?1 AND device_id = ?2",
	[S_DEV_INSERT] = "INSERT INTO devices(iccid, device_id, cli, usr, pwd, created_at)"
			 " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[S_EV_INSERT] = "INSERT INTO events(time, kind, iccid, peer, detail) VALUES(?1, ?2, ?3, ?4, ?5)",
	[S_EV_LIST] = "SELECT id, time, kind, iccid, peer, detail FROM events"
		      " WHERE time >= ?1 AND id > ?2 ORDER BY id LIMIT ?3",
	[S_KEY_INSERT] = "INSERT INTO api_keys(key_id, salt, hash, created_at) VALUES(?1, ?2, ?3, ?4)",
	[S_KEY_GET] = "SELECT salt, hash FROM api_keys WHERE key_id = ?1",
	[S_KEY_COUNT] = "SELECT count(*) FROM api_keys",
	[S_GROUP_INSERT] = "INSERT INTO groups(name, iccid_prefix, derive, master_key, allow_psk_ke,"
			   " rotation_period_s, created_at, est_auth, cert_days, reenroll_grace_s,"
			   " upstream, upstream_ca, upstream_cert, upstream_key)"
			   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[S_GROUP_GET] = "SELECT name, iccid_prefix, derive, allow_psk_ke, rotation_period_s, created_at,"
			" (SELECT count(*) FROM sims WHERE group_name = ?1), est_auth, cert_days,"
			" reenroll_grace_s, upstream, upstream_ca, upstream_cert, upstream_key"
			" FROM groups WHERE name = ?1",
	[S_GROUP_LIST] = "SELECT name, iccid_prefix, derive, allow_psk_ke, rotation_period_s, created_at,"
			 " (SELECT count(*) FROM sims WHERE group_name = groups.name), est_auth,"
			 " cert_days, reenroll_grace_s, upstream, upstream_ca, upstream_cert,"
			 " upstream_key FROM groups ORDER BY name",
	[S_GROUP_UPSTREAM] = "UPDATE groups SET upstream = ?2, upstream_ca = ?3, upstream_cert = ?4,"
			     " upstream_key = ?5 WHERE name = ?1",
	/* the derived group whose prefix is the longest one the ICCID starts with */
	[S_GROUP_DERIVED] = "SELECT name, master_key FROM groups WHERE derive = 1"
			    " AND substr(?1, 1, length(iccid_prefix)) = iccid_prefix"
			    " ORDER BY length(iccid_prefix) DESC LIMIT 1",
	[S_SIM_INSERT_GROUP] = "INSERT INTO sims(iccid, psk, group_name, created_at, updated_at)"
			       " VALUES(?1, ?2, ?3, ?4, ?4)",
	[S_SIM_IMPORT_GET] = "SELECT psk, group_name FROM sims WHERE iccid = ?1",
	[S_SIM_PENDING_GET] = "SELECT pending_psk FROM sims WHERE iccid = ?1 AND psk_generation + 1 = ?2"
			      " AND pending_psk IS NOT NULL",
	[S_SIM_PENDING_SET] = "UPDATE sims SET pending_psk = ?3, updated_at = ?4"
			      " WHERE iccid = ?1 AND psk_generation = ?2",
	[S_SIM_COMMIT] = "UPDATE sims SET psk = pending_psk, psk_generation = ?2, pending_psk = NULL,"
			 " rotate = 0, rotated_at = ?3, updated_at = ?3"
			 " WHERE iccid = ?1 AND psk_generation + 1 = ?2 AND pending_psk IS NOT NULL",
	[S_SIM_ROTATE] = "UPDATE sims SET rotate = ?2, updated_at = ?3 WHERE iccid = ?1",
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
};

_Static_assert(S__COUNT <= STORE_STMT_MAX, "raise STORE_STMT_MAX");

static int
db_err(struct store *st, const char *what)
{
	log_warnx("store: %s: %s", what, sqlite3_errmsg(st->db));
	return ZTP_ESTORE;
}

/* The cached statement id, reset and with its bindings cleared. */
static sqlite3_stmt *
prep(struct store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];

	if (s == NULL) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s,
			NULL) != SQLITE_OK) {
			db_err(st, "prepare");
			return NULL;
		}
		st->stmt[id] = s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Run a statement that returns no rows. */
static int
exec_stmt(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_CONSTRAINT)
			return ZTP_EEXIST;
		return db_err(st, "step");
	}
	return 0;
}

static int
tx_begin(struct store *st)
{
	sqlite3_stmt *s = prep(st, S_BEGIN);
	return s ? exec_stmt(st, s) : ZTP_ESTORE;
}

static int
tx_end(struct store *st, int rc)
{
	sqlite3_stmt *s = prep(st, rc == 0 ? S_COMMIT : S_ROLLBACK);

	if (s == NULL)
		return ZTP_ESTORE;
	if (exec_stmt(st, s) != 0 && rc == 0)
		rc = ZTP_ESTORE;
	return rc;
}

static void
col_text(sqlite3_stmt *s, int col, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(out, cap, "%s", t ? (const char *)t : "");
}

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
			return db_err(st, "begin migration");
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
		if (sqlite3_exec(st->db, migrations[version], NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			db_err(st, "migration");
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return ZTP_ESTORE;
		}
		if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			return db_err(st, "commit migration");
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
	if (sqlite3_exec(st->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
				 " PRAGMA foreign_keys = ON;", NULL, NULL, NULL) != SQLITE_OK) {
		db_err(st, "pragma");
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
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	for (i = 0; i < STORE_XSTMT_MAX; i++)
		sqlite3_finalize(st->xstmt[i]);
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

/* The AAD that binds a sealed secret to its row and purpose. */
static size_t
secret_aad(char *buf, size_t cap, const char *what, const char *iccid, const char *extra)
{
	int n = snprintf(buf, cap, "ztp:%s:%s:%s", what, iccid, extra ? extra : "");
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* ---- SIMs ---- */

int
store_sim_create(struct store *st, const char *iccid, const uint8_t *psk, size_t psklen,
    const char *group)
{
	struct store_group g;
	uint8_t sealed[STORE_PSK_MAX + CRYPTO_SEAL_OVERHEAD];
	char aad[96];
	size_t sealedlen, aadlen;
	sqlite3_stmt *s;
	int rc;

	if (!iccid_valid(iccid, strlen(iccid)) || psklen < STORE_PSK_MIN || psklen > STORE_PSK_MAX)
		return ZTP_EINVAL;
	if (group != NULL && group[0] != '\0' && (rc = store_group_get(st, group, &g)) != 0)
		return rc;
	aadlen = secret_aad(aad, sizeof(aad), "psk", iccid, "0");
	if ((rc = crypto_seal(st->key, aad, aadlen, psk, psklen, sealed, sizeof(sealed),
		 &sealedlen)) != 0)
		return rc;
	if ((s = prep(st, S_SIM_INSERT_GROUP)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, sealed, (int)sealedlen, SQLITE_STATIC);
	if (group != NULL && group[0] != '\0')
		sqlite3_bind_text(s, 3, group, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, clock_now_ms());
	return exec_stmt(st, s);
}

static void
row_sim(sqlite3_stmt *s, struct store_sim *out)
{
	memset(out, 0, sizeof(*out));
	col_text(s, 0, out->iccid, sizeof(out->iccid));
	out->blocked = sqlite3_column_int(s, 1);
	col_text(s, 2, out->device_id, sizeof(out->device_id));
	out->psk_generation = (uint32_t)sqlite3_column_int64(s, 3);
	out->config_version = (uint32_t)sqlite3_column_int64(s, 4);
	out->created_at = sqlite3_column_int64(s, 5);
	out->updated_at = sqlite3_column_int64(s, 6);
	col_text(s, 7, out->group, sizeof(out->group));
	out->derived = sqlite3_column_int(s, 8);
	out->rotate = sqlite3_column_int(s, 9);
	out->pending = sqlite3_column_int(s, 10);
	out->rotated_at = sqlite3_column_int64(s, 11);
}

int
store_sim_get(struct store *st, const char *iccid, struct store_sim *out)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_SIM_GET)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		row_sim(s, out);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? ZTP_ENOENT : db_err(st, "sim get");
	}
	sqlite3_reset(s);
	return rc;
}

int
store_sim_psk(struct store *st, const char *iccid, uint32_t gen, uint8_t *psk, size_t *psklen)
{
	char aad[96], genstr[16];
	size_t aadlen;
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_SIM_PSK)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, gen);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 0) {
		rc = ZTP_ENOENT; /* a derived SIM: its key comes from its group */
	} else if (rc == SQLITE_ROW) {
		snprintf(genstr, sizeof(genstr), "%u", gen);
		aadlen = secret_aad(aad, sizeof(aad), "psk", iccid, genstr);
		rc = crypto_open(st->key, aad, aadlen, sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0), psk, STORE_PSK_MAX, psklen);
		if (rc != 0)
			log_warnx("store: the sealed PSK of %s does not open (wrong data key?)", iccid);
	} else {
		rc = rc == SQLITE_DONE ? ZTP_ENOENT : db_err(st, "sim psk");
	}
	sqlite3_reset(s);
	return rc;
}

int
store_sim_list(struct store *st, const char *after, int limit, store_sim_cb cb, void *arg)
{
	struct store_sim sim;
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_SIM_LIST)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, after ? after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_sim(s, &sim);
		if ((rc = cb(&sim, arg)) != 0)
			break;
	}
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc > 0)
		rc = db_err(st, "sim list");
	sqlite3_reset(s);
	return rc;
}

/* Run a one-row UPDATE on a SIM; ZTP_ENOENT if no row changed. */
static int
sim_update(struct store *st, sqlite3_stmt *s)
{
	int rc;

	if ((rc = exec_stmt(st, s)) != 0)
		return rc;
	return sqlite3_changes(st->db) == 1 ? 0 : ZTP_ENOENT;
}

int
store_sim_set_blocked(struct store *st, const char *iccid, int blocked)
{
	sqlite3_stmt *s;

	if ((s = prep(st, S_SIM_BLOCK)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, blocked ? 1 : 0);
	sqlite3_bind_int64(s, 3, clock_now_ms());
	return sim_update(st, s);
}

int
store_sim_rebind(struct store *st, const char *iccid)
{
	sqlite3_stmt *s;

	if ((s = prep(st, S_SIM_REBIND)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, clock_now_ms());
	return sim_update(st, s);
}

int
store_sim_bind(struct store *st, const char *iccid, const char *device_id,
    char bound[STORE_DEVID_HEX])
{
	struct store_sim sim;
	sqlite3_stmt *s;
	int rc;

	if ((rc = store_sim_get(st, iccid, &sim)) != 0)
		return rc;
	if (sim.device_id[0] == '\0') {
		/* only binds if still unbound: a concurrent bind wins once */
		if ((s = prep(st, S_SIM_BIND)) == NULL)
			return ZTP_ESTORE;
		sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, device_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, clock_now_ms());
		if ((rc = exec_stmt(st, s)) != 0)
			return rc;
		if (sqlite3_changes(st->db) == 1) {
			snprintf(bound, STORE_DEVID_HEX, "%s", device_id);
			return 0;
		}
		if ((rc = store_sim_get(st, iccid, &sim)) != 0)
			return rc;
	}
	snprintf(bound, STORE_DEVID_HEX, "%s", sim.device_id);
	return strcmp(sim.device_id, device_id) == 0 ? 0 : ZTP_ECONFLICT;
}

int
store_sim_delete(struct store *st, const char *iccid)
{
	static const enum stmt_id dels[] = { S_CFG_DELETE, S_TEL_DELETE, S_DEV_DELETE, S_SIM_DELETE };
	sqlite3_stmt *s;
	size_t i;
	int rc;

	if ((rc = tx_begin(st)) != 0)
		return rc;
	for (i = 0; i < sizeof(dels) / sizeof(dels[0]); i++) {
		if ((s = prep(st, dels[i])) == NULL) {
			rc = ZTP_ESTORE;
			break;
		}
		sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
		if ((rc = exec_stmt(st, s)) != 0)
			break;
	}
	if (rc == 0 && sqlite3_changes(st->db) != 1)
		rc = ZTP_ENOENT;
	return tx_end(st, rc);
}

/* ---- configurations ---- */

void
store_config_etag(uint32_t version, const uint8_t *body, size_t len, char out[STORE_ETAG_SIZE])
{
	uint8_t h[32];

	crypto_sha256(body, len, h);
	snprintf(out, STORE_ETAG_SIZE, "\"%u-%02x%02x%02x%02x\"", version, h[0], h[1], h[2], h[3]);
}

static void
row_config(sqlite3_stmt *s, struct store_config *out)
{
	int n = sqlite3_column_bytes(s, 2);

	memset(out, 0, sizeof(*out));
	col_text(s, 0, out->iccid, sizeof(out->iccid));
	out->version = (uint32_t)sqlite3_column_int64(s, 1);
	out->len = n > STORE_CONFIG_MAX ? STORE_CONFIG_MAX : (size_t)n;
	if (out->len > 0)
		memcpy(out->body, sqlite3_column_blob(s, 2), out->len);
	col_text(s, 3, out->source, sizeof(out->source));
	out->created_at = sqlite3_column_int64(s, 4);
	store_config_etag(out->version, out->body, out->len, out->etag);
}

/* Insert a new version of iccid's configuration; inside a transaction. */
static int
config_insert(struct store *st, const char *iccid, const uint8_t *body, size_t len,
    const char *source, struct store_config *out)
{
	int64_t now = clock_now_ms(), version;
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_CFG_NEXT)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		return db_err(st, "config next");
	version = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (version > UINT32_MAX)
		return ZTP_ERANGE;

	if ((s = prep(st, S_CFG_INSERT)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, version);
	sqlite3_bind_blob(s, 3, len ? (const void *)body : "", (int)len, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	if ((rc = exec_stmt(st, s)) != 0)
		return rc;

	if ((s = prep(st, S_SIM_SET_VERSION)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, version);
	sqlite3_bind_int64(s, 3, now);
	if ((rc = sim_update(st, s)) != 0)
		return rc;

	if (out != NULL) {
		memset(out, 0, sizeof(*out));
		snprintf(out->iccid, sizeof(out->iccid), "%s", iccid);
		out->version = (uint32_t)version;
		memcpy(out->body, body, len);
		out->len = len;
		snprintf(out->source, sizeof(out->source), "%s", source);
		out->created_at = now;
		store_config_etag(out->version, body, len, out->etag);
	}
	return 0;
}

int
store_config_set(struct store *st, const char *iccid, const uint8_t *body, size_t len,
    struct store_config *out)
{
	struct store_sim sim;
	int rc;

	if (len > STORE_CONFIG_MAX)
		return ZTP_ETOOBIG;
	if ((rc = tx_begin(st)) != 0)
		return rc;
	rc = store_sim_get(st, iccid, &sim);
	if (rc == 0)
		rc = config_insert(st, iccid, body, len, "set", out);
	return tx_end(st, rc);
}

int
store_config_get(struct store *st, const char *iccid, uint32_t version, struct store_config *out)
{
	struct store_sim sim;
	sqlite3_stmt *s;
	int rc;

	if (version == 0) {
		if ((rc = store_sim_get(st, iccid, &sim)) != 0)
			return rc;
		if (sim.config_version == 0)
			return ZTP_ENOENT;
		version = sim.config_version;
	}
	if ((s = prep(st, S_CFG_GET)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, version);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		row_config(s, out);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? ZTP_ENOENT : db_err(st, "config get");
	}
	sqlite3_reset(s);
	return rc;
}

int
store_config_history(struct store *st, const char *iccid, store_config_cb cb, void *arg)
{
	struct store_config cfg;
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_CFG_HISTORY)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_config(s, &cfg);
		if ((rc = cb(&cfg, arg)) != 0)
			break;
	}
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc > 0)
		rc = db_err(st, "config history");
	sqlite3_reset(s);
	return rc;
}

int
store_config_rollback(struct store *st, const char *iccid, uint32_t version,
    struct store_config *out)
{
	struct store_config old;
	char source[32];
	int rc;

	if (version == 0)
		return ZTP_ENOENT;
	if ((rc = tx_begin(st)) != 0)
		return rc;
	rc = store_config_get(st, iccid, version, &old);
	if (rc == 0) {
		snprintf(source, sizeof(source), "rollback:%u", version);
		rc = config_insert(st, iccid, old.body, old.len, source, out);
	}
	return tx_end(st, rc);
}

/* ---- telemetry ---- */

int
store_telemetry_add(struct store *st, const char *iccid, const char *device_id,
    const uint8_t *body, size_t len, int64_t *id)
{
	sqlite3_stmt *s;
	int rc;

	if (len > STORE_TELEMETRY_MAX)
		return ZTP_ETOOBIG;
	if ((s = prep(st, S_TEL_INSERT)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, device_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, len ? (const void *)body : "", (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, clock_now_ms());
	if ((rc = exec_stmt(st, s)) != 0)
		return rc;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_telemetry_list(struct store *st, const char *iccid, int64_t before, int limit,
    store_telemetry_cb cb, void *arg)
{
	struct store_telemetry t;
	sqlite3_stmt *s;
	int rc, n;

	if ((s = prep(st, S_TEL_LIST)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int(s, 3, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&t, 0, sizeof(t));
		t.id = sqlite3_column_int64(s, 0);
		col_text(s, 1, t.iccid, sizeof(t.iccid));
		col_text(s, 2, t.device_id, sizeof(t.device_id));
		n = sqlite3_column_bytes(s, 3);
		t.len = n > STORE_TELEMETRY_MAX ? STORE_TELEMETRY_MAX : (size_t)n;
		if (t.len > 0)
			memcpy(t.body, sqlite3_column_blob(s, 3), t.len);
		t.received_at = sqlite3_column_int64(s, 4);
		if ((rc = cb(&t, arg)) != 0)
			break;
	}
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc > 0)
		rc = db_err(st, "telemetry list");
	sqlite3_reset(s);
	return rc;
}

/* ---- device records ---- */

static int
device_get(struct store *st, const char *iccid, const char *device_id, struct store_device *out)
{
	char aad[96];
	size_t aadlen, pwdlen;
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_DEV_GET)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, device_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		snprintf(out->iccid, sizeof(out->iccid), "%s", iccid);
		snprintf(out->device_id, sizeof(out->device_id), "%s", device_id);
		col_text(s, 0, out->cli, sizeof(out->cli));
		col_text(s, 1, out->usr, sizeof(out->usr));
		aadlen = secret_aad(aad, sizeof(aad), "pwd", iccid, device_id);
		rc = crypto_open(st->key, aad, aadlen, sqlite3_column_blob(s, 2),
		    (size_t)sqlite3_column_bytes(s, 2), (uint8_t *)out->pwd, sizeof(out->pwd) - 1,
		    &pwdlen);
		if (rc == 0)
			out->pwd[pwdlen] = '\0';
		out->created_at = sqlite3_column_int64(s, 3);
	} else {
		rc = rc == SQLITE_DONE ? ZTP_ENOENT : db_err(st, "device get");
	}
	sqlite3_reset(s);
	return rc;
}

int
store_device_get_or_create(struct store *st, const char *iccid, const char *device_id,
    struct store_device *out)
{
	uint8_t raw[18], sealed[64 + CRYPTO_SEAL_OVERHEAD];
	struct store_device d;
	char aad[96];
	size_t aadlen, sealedlen;
	sqlite3_stmt *s;
	int rc;

	if ((rc = tx_begin(st)) != 0)
		return rc;
	rc = device_get(st, iccid, device_id, out);
	if (rc != ZTP_ENOENT)
		goto out;

	memset(&d, 0, sizeof(d));
	snprintf(d.iccid, sizeof(d.iccid), "%s", iccid);
	snprintf(d.device_id, sizeof(d.device_id), "%s", device_id);
	snprintf(d.cli, sizeof(d.cli), "ztp-%s", device_id);
	snprintf(d.usr, sizeof(d.usr), "%s", iccid);
	if ((rc = crypto_random(raw, sizeof(raw))) != 0 ||
	    (rc = hex_encode(raw, sizeof(raw), d.pwd, sizeof(d.pwd))) != 0)
		goto out;
	OPENSSL_cleanse(raw, sizeof(raw));
	aadlen = secret_aad(aad, sizeof(aad), "pwd", iccid, device_id);
	if ((rc = crypto_seal(st->key, aad, aadlen, (const uint8_t *)d.pwd, strlen(d.pwd), sealed,
		 sizeof(sealed), &sealedlen)) != 0)
		goto out;
	d.created_at = clock_now_ms();
	if ((s = prep(st, S_DEV_INSERT)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, device_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, d.cli, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, d.usr, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, sealed, (int)sealedlen, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, d.created_at);
	if ((rc = exec_stmt(st, s)) != 0)
		goto out;
	*out = d;
out:
	OPENSSL_cleanse(&d, sizeof(d));
	return tx_end(st, rc);
}

/* ---- events ---- */

int
store_event_add(struct store *st, const char *kind, const char *iccid, const char *peer,
    const char *detail)
{
	sqlite3_stmt *s;

	if ((s = prep(st, S_EV_INSERT)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_int64(s, 1, clock_now_ms());
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	if (iccid && *iccid)
		sqlite3_bind_text(s, 3, iccid, -1, SQLITE_STATIC);
	if (peer && *peer)
		sqlite3_bind_text(s, 4, peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, detail ? detail : "", -1, SQLITE_STATIC);
	return exec_stmt(st, s);
}

int
store_event_list(struct store *st, int64_t since, int64_t after, int limit, store_event_cb cb,
    void *arg)
{
	struct store_event ev;
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_EV_LIST)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int64(s, 2, after);
	sqlite3_bind_int(s, 3, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&ev, 0, sizeof(ev));
		ev.id = sqlite3_column_int64(s, 0);
		ev.time = sqlite3_column_int64(s, 1);
		col_text(s, 2, ev.kind, sizeof(ev.kind));
		col_text(s, 3, ev.iccid, sizeof(ev.iccid));
		col_text(s, 4, ev.peer, sizeof(ev.peer));
		col_text(s, 5, ev.detail, sizeof(ev.detail));
		if ((rc = cb(&ev, arg)) != 0)
			break;
	}
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc > 0)
		rc = db_err(st, "event list");
	sqlite3_reset(s);
	return rc;
}

/* ---- admin API keys ---- */

int
store_apikey_create(struct store *st, const char *key_id, const char *secret)
{
	uint8_t salt[16], hash[32];
	sqlite3_stmt *s;
	int rc;

	if ((rc = crypto_random(salt, sizeof(salt))) != 0 ||
	    (rc = crypto_hmac_sha256(salt, sizeof(salt), secret, strlen(secret), hash)) != 0)
		return rc;
	if ((s = prep(st, S_KEY_INSERT)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, salt, sizeof(salt), SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, clock_now_ms());
	return exec_stmt(st, s);
}

int
store_apikey_verify(struct store *st, const char *key_id, const char *secret)
{
	uint8_t hash[32];
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_KEY_GET)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, key_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 1) == (int)sizeof(hash) &&
	    crypto_hmac_sha256(sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0),
		secret, strlen(secret), hash) == 0 &&
	    crypto_equal(hash, sqlite3_column_blob(s, 1), sizeof(hash)))
		rc = 0;
	else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = ZTP_EAUTH;
	else
		rc = db_err(st, "apikey get");
	sqlite3_reset(s);
	return rc;
}

int
store_apikey_exists(struct store *st, const char *key_id)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_KEY_GET)) == NULL)
		return 0;
	sqlite3_bind_text(s, 1, key_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return rc;
}

int
store_apikey_count(struct store *st, int *count)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_KEY_COUNT)) == NULL)
		return ZTP_ESTORE;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*count = sqlite3_column_int(s, 0);
		rc = 0;
	} else {
		rc = db_err(st, "apikey count");
	}
	sqlite3_reset(s);
	return rc;
}

/* ---- groups ---- */

/* The four upstream columns from parameter i on; "" is NULL. */
static void
bind_upstream(sqlite3_stmt *s, int i, const struct store_upstream *u)
{
	const char *v[4] = { u->url, u->ca, u->cert, u->key };
	int k;

	for (k = 0; k < 4; k++)
		if (v[k][0] != '\0')
			sqlite3_bind_text(s, i + k, v[k], -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, i + k);
}

static int
upstream_valid(const struct store_upstream *u)
{
	return memchr(u->url, '\0', sizeof(u->url)) != NULL &&
	    memchr(u->ca, '\0', sizeof(u->ca)) != NULL &&
	    memchr(u->cert, '\0', sizeof(u->cert)) != NULL &&
	    memchr(u->key, '\0', sizeof(u->key)) != NULL;
}

int
store_group_set_upstream(struct store *st, const char *name, const struct store_upstream *u)
{
	sqlite3_stmt *s;
	int rc;

	if (!store_group_name_valid(name) || !upstream_valid(u))
		return ZTP_EINVAL;
	if ((s = prep(st, S_GROUP_UPSTREAM)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	bind_upstream(s, 2, u);
	if ((rc = exec_stmt(st, s)) == 0 && sqlite3_changes(st->db) == 0)
		rc = ZTP_ENOENT;
	return rc;
}

int
store_group_create(struct store *st, const struct store_group *g, const uint8_t *master)
{
	uint8_t sealed[STORE_MASTER_LEN + CRYPTO_SEAL_OVERHEAD];
	char aad[96];
	size_t sealedlen = 0, aadlen;
	sqlite3_stmt *s;
	int rc;

	if (!store_group_name_valid(g->name) || strlen(g->iccid_prefix) > ICCID_MAX_DIGITS ||
	    (g->derive && master == NULL) || (g->est_auth & ~STORE_EST_ALL) != 0 ||
	    g->cert_days < 0 || g->cert_days > 7300 || g->reenroll_grace_s < -1 ||
	    !upstream_valid(&g->upstream))
		return ZTP_EINVAL;
	for (const char *p = g->iccid_prefix; *p; p++)
		if (*p < '0' || *p > '9')
			return ZTP_EINVAL;
	if (g->derive) {
		aadlen = secret_aad(aad, sizeof(aad), "master", g->name, NULL);
		if ((rc = crypto_seal(st->key, aad, aadlen, master, STORE_MASTER_LEN, sealed,
			 sizeof(sealed), &sealedlen)) != 0)
			return rc;
	}
	if ((s = prep(st, S_GROUP_INSERT)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, g->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, g->iccid_prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, g->derive ? 1 : 0);
	if (g->derive)
		sqlite3_bind_blob(s, 4, sealed, (int)sealedlen, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, g->allow_psk_ke ? 1 : 0);
	sqlite3_bind_int64(s, 6, g->rotation_period_s);
	sqlite3_bind_int64(s, 7, clock_now_ms());
	sqlite3_bind_int(s, 8, g->est_auth);
	sqlite3_bind_int(s, 9, g->cert_days);
	sqlite3_bind_int64(s, 10, g->reenroll_grace_s);
	bind_upstream(s, 11, &g->upstream);
	return exec_stmt(st, s);
}

static void
row_group(sqlite3_stmt *s, struct store_group *g)
{
	memset(g, 0, sizeof(*g));
	col_text(s, 0, g->name, sizeof(g->name));
	col_text(s, 1, g->iccid_prefix, sizeof(g->iccid_prefix));
	g->derive = sqlite3_column_int(s, 2);
	g->allow_psk_ke = sqlite3_column_int(s, 3);
	g->rotation_period_s = sqlite3_column_int64(s, 4);
	g->created_at = sqlite3_column_int64(s, 5);
	g->sims = sqlite3_column_int64(s, 6);
	g->est_auth = sqlite3_column_int(s, 7);
	g->cert_days = sqlite3_column_int(s, 8);
	g->reenroll_grace_s = sqlite3_column_int64(s, 9);
	col_text(s, 10, g->upstream.url, sizeof(g->upstream.url));
	col_text(s, 11, g->upstream.ca, sizeof(g->upstream.ca));
	col_text(s, 12, g->upstream.cert, sizeof(g->upstream.cert));
	col_text(s, 13, g->upstream.key, sizeof(g->upstream.key));
}

int
store_group_get(struct store *st, const char *name, struct store_group *out)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_GROUP_GET)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		row_group(s, out);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? ZTP_ENOENT : db_err(st, "group get");
	}
	sqlite3_reset(s);
	return rc;
}

int
store_group_list(struct store *st, store_group_cb cb, void *arg)
{
	struct store_group g;
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_GROUP_LIST)) == NULL)
		return ZTP_ESTORE;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_group(s, &g);
		if ((rc = cb(&g, arg)) != 0)
			break;
	}
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc > 0)
		rc = db_err(st, "group list");
	sqlite3_reset(s);
	return rc;
}

int
store_group_derived_for(struct store *st, const char *iccid, char group[STORE_GROUP_SIZE],
    uint8_t master[STORE_MASTER_LEN])
{
	char aad[96];
	size_t aadlen, len;
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_GROUP_DERIVED)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		col_text(s, 0, group, STORE_GROUP_SIZE);
		aadlen = secret_aad(aad, sizeof(aad), "master", group, NULL);
		rc = crypto_open(st->key, aad, aadlen, sqlite3_column_blob(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1), master, STORE_MASTER_LEN, &len);
		if (rc == 0 && len != STORE_MASTER_LEN)
			rc = ZTP_ECRYPTO;
		if (rc != 0)
			log_warnx("store: the master key of group %s does not open", group);
	} else {
		rc = rc == SQLITE_DONE ? ZTP_ENOENT : db_err(st, "group derived");
	}
	sqlite3_reset(s);
	return rc;
}

int
store_group_name_valid(const char *name)
{
	size_t i, n = name ? strlen(name) : 0;

	if (n == 0 || n >= STORE_GROUP_SIZE)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

int
store_sim_register_derived(struct store *st, const char *iccid, const char *group)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_SIM_INSERT_GROUP)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, "", 0, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, group, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, clock_now_ms());
	rc = exec_stmt(st, s);
	return rc;
}

/* 1 if s is a Device ID as stored: 1..STORE_DEVID_MAX bytes in upper-case hex. */
static int
devid_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n > 2 * STORE_DEVID_MAX || !hex_valid(s, n))
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] >= 'a' && s[i] <= 'f')
			return 0;
	return 1;
}

int
store_sim_create_derived(struct store *st, const char *iccid, const char *device_id,
    char group[STORE_GROUP_SIZE])
{
	char name[STORE_GROUP_SIZE];
	sqlite3_stmt *s;
	int rc;

	if (!iccid_valid(iccid, strlen(iccid)) ||
	    (device_id != NULL && device_id[0] != '\0' && !devid_valid(device_id)))
		return ZTP_EINVAL;
	if ((rc = tx_begin(st)) != 0)
		return rc;
	/* the very query the handshake derives with, so both pick the same group; the
	 * sealed master key is not opened */
	if ((s = prep(st, S_GROUP_DERIVED)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		col_text(s, 0, name, sizeof(name));
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? ZTP_ENOENT : db_err(st, "group derived");
		goto out;
	}
	if ((rc = store_sim_register_derived(st, iccid, name)) != 0)
		goto out;
	if (device_id != NULL && device_id[0] != '\0') {
		if ((s = prep(st, S_SIM_BIND)) == NULL) {
			rc = ZTP_ESTORE;
			goto out;
		}
		sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, device_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, clock_now_ms());
		if ((rc = sim_update(st, s)) != 0)
			goto out;
	}
	if (group != NULL)
		snprintf(group, STORE_GROUP_SIZE, "%s", name);
	rc = 0;
out:
	return tx_end(st, rc);
}

/* One import row inside the batch's transaction. */
static int
import_row(struct store *st, const struct store_import_row *row, char *why, size_t cap)
{
	uint8_t sealed[STORE_PSK_MAX + CRYPTO_SEAL_OVERHEAD], old[STORE_PSK_MAX];
	const unsigned char *g;
	char aad[96];
	size_t aadlen, sealedlen, oldlen;
	sqlite3_stmt *s;
	int rc, same;

	if (!iccid_valid(row->iccid, strlen(row->iccid))) {
		snprintf(why, cap, "not an ICCID");
		return ZTP_EINVAL;
	}
	if (row->psk_len < STORE_PSK_MIN || row->psk_len > STORE_PSK_MAX) {
		snprintf(why, cap, "the PSK must be %d to %d bytes", STORE_PSK_MIN, STORE_PSK_MAX);
		return ZTP_EINVAL;
	}
	aadlen = secret_aad(aad, sizeof(aad), "psk", row->iccid, "0");
	if ((s = prep(st, S_SIM_IMPORT_GET)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, row->iccid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		g = sqlite3_column_text(s, 1);
		same = crypto_open(st->key, aad, aadlen, sqlite3_column_blob(s, 0),
			   (size_t)sqlite3_column_bytes(s, 0), old, sizeof(old), &oldlen) == 0 &&
		    oldlen == row->psk_len && crypto_equal(old, row->psk, oldlen) &&
		    strcmp(g ? (const char *)g : "", row->group) == 0;
		sqlite3_reset(s);
		OPENSSL_cleanse(old, sizeof(old));
		if (same)
			return 1; /* unchanged */
		snprintf(why, cap, "SIM exists with another PSK or group");
		return ZTP_EEXIST;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_err(st, "import get");
	if ((rc = crypto_seal(st->key, aad, aadlen, row->psk, row->psk_len, sealed, sizeof(sealed),
		 &sealedlen)) != 0)
		return rc;
	if ((s = prep(st, S_SIM_INSERT_GROUP)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, row->iccid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, sealed, (int)sealedlen, SQLITE_STATIC);
	if (row->group[0])
		sqlite3_bind_text(s, 3, row->group, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, clock_now_ms());
	return exec_stmt(st, s);
}

int
store_sim_import(struct store *st, const struct store_import_row *rows, size_t n,
    struct store_import_result *res)
{
	struct store_group g;
	size_t i;
	int rc, r;

	memset(res, 0, sizeof(*res));
	if ((rc = tx_begin(st)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		char why[96];
		why[0] = '\0';
		if (rows[i].invalid[0]) {
			snprintf(why, sizeof(why), "%s", rows[i].invalid);
			r = ZTP_EINVAL;
		} else if (rows[i].group[0] && store_group_get(st, rows[i].group, &g) != 0) {
			snprintf(why, sizeof(why), "no group %.40s", rows[i].group);
			r = ZTP_ENOENT;
		} else {
			r = import_row(st, &rows[i], why, sizeof(why));
		}
		if (r == 0) {
			res->added++;
		} else if (r == 1) {
			res->unchanged++;
		} else if (r == ZTP_ESTORE || r == ZTP_ECRYPTO || r == ZTP_ENOMEM) {
			rc = r;
			break;
		} else {
			if (res->nrefused < STORE_IMPORT_REFUSED_MAX) {
				res->refused[res->nrefused].index = i;
				snprintf(res->refused[res->nrefused].why,
				    sizeof(res->refused[0].why), "%s", why);
			}
			res->nrefused++;
		}
	}
	rc = tx_end(st, rc);
	if (rc != 0)
		memset(res, 0, sizeof(*res));
	return rc;
}

/* ---- PSK rotation ---- */

int
store_sim_pending_psk(struct store *st, const char *iccid, uint32_t gen, uint8_t *psk,
    size_t *psklen)
{
	char aad[96], genstr[16];
	size_t aadlen;
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_SIM_PENDING_GET)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, gen);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(genstr, sizeof(genstr), "%u", gen);
		aadlen = secret_aad(aad, sizeof(aad), "psk", iccid, genstr);
		rc = crypto_open(st->key, aad, aadlen, sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0), psk, STORE_PSK_MAX, psklen);
	} else {
		rc = rc == SQLITE_DONE ? ZTP_ENOENT : db_err(st, "pending psk");
	}
	sqlite3_reset(s);
	return rc;
}

int
store_sim_pending_set(struct store *st, const char *iccid, uint32_t current, const uint8_t *psk,
    size_t psklen)
{
	uint8_t sealed[STORE_PSK_MAX + CRYPTO_SEAL_OVERHEAD];
	char aad[96], genstr[16];
	size_t aadlen, sealedlen;
	sqlite3_stmt *s;
	int rc;

	if (psklen < STORE_PSK_MIN || psklen > STORE_PSK_MAX || current == UINT32_MAX)
		return ZTP_EINVAL;
	/* sealed as the key of generation current + 1, as it will be after the commit */
	snprintf(genstr, sizeof(genstr), "%u", current + 1);
	aadlen = secret_aad(aad, sizeof(aad), "psk", iccid, genstr);
	if ((rc = crypto_seal(st->key, aad, aadlen, psk, psklen, sealed, sizeof(sealed),
		 &sealedlen)) != 0)
		return rc;
	if ((s = prep(st, S_SIM_PENDING_SET)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, current);
	sqlite3_bind_blob(s, 3, sealed, (int)sealedlen, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, clock_now_ms());
	return sim_update(st, s);
}

int
store_sim_commit(struct store *st, const char *iccid, uint32_t gen)
{
	sqlite3_stmt *s;

	if ((s = prep(st, S_SIM_COMMIT)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, gen);
	sqlite3_bind_int64(s, 3, clock_now_ms());
	return sim_update(st, s);
}

int
store_sim_set_rotate(struct store *st, const char *iccid, int rotate)
{
	sqlite3_stmt *s;

	if ((s = prep(st, S_SIM_ROTATE)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_text(s, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, rotate ? 1 : 0);
	sqlite3_bind_int64(s, 3, clock_now_ms());
	return sim_update(st, s);
}

/* ---- shared with store_est.c (store_int.h) ---- */

int
store_db_err(struct store *st, const char *what)
{
	return db_err(st, what);
}

sqlite3_stmt *
store_xprep(struct store *st, int idx, const char *sql)
{
	sqlite3_stmt *s;

	if (idx < 0 || idx >= STORE_XSTMT_MAX)
		return NULL;
	if ((s = st->xstmt[idx]) == NULL) {
		if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
		    SQLITE_OK) {
			db_err(st, "prepare");
			return NULL;
		}
		st->xstmt[idx] = s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int
store_exec(struct store *st, sqlite3_stmt *s)
{
	return exec_stmt(st, s);
}

int
store_tx_begin(struct store *st)
{
	return tx_begin(st);
}

int
store_tx_end(struct store *st, int rc)
{
	return tx_end(st, rc);
}

void
store_col_text(sqlite3_stmt *s, int col, char *out, size_t cap)
{
	col_text(s, col, out, cap);
}
