/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite driver, the embedded default: one database file in WAL mode
 * with synchronous = FULL (a committed change survives a power cut), one
 * connection per struct store, the schema brought up to date by numbered
 * migrations recorded in PRAGMA user_version. Writing transactions are
 * BEGIN IMMEDIATE: SQLite's one writer at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

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
	/* 7: the module security service (docs/protocol/security-service.md): owners and
	 * owner-scoped API keys, device profiles, modules with their keys (current, pending,
	 * retired history), campaigns; events name their owner and device */
	"CREATE TABLE owners("
	" name TEXT PRIMARY KEY,"
	" created_at INTEGER NOT NULL) WITHOUT ROWID;"
	"ALTER TABLE api_keys ADD COLUMN name TEXT;"
	"ALTER TABLE api_keys ADD COLUMN owner TEXT;"
	"ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE profiles("
	" uid TEXT PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" owner TEXT NOT NULL REFERENCES owners(name),"
	" features INTEGER NOT NULL DEFAULT 0,"
	" hb_interval_s INTEGER NOT NULL,"
	" hb_min_interval_s INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" UNIQUE(owner, name)) WITHOUT ROWID;"
	"CREATE TABLE modules("
	" rot_uid TEXT PRIMARY KEY,"
	" factory_key BLOB NOT NULL,"
	" factory_retired INTEGER NOT NULL DEFAULT 0,"
	" epoch INTEGER NOT NULL DEFAULT 0,"
	" op_key BLOB,"
	" pending_epoch INTEGER NOT NULL DEFAULT 0,"
	" pending_key BLOB,"
	" pending_features INTEGER NOT NULL DEFAULT 0,"
	" pending_at INTEGER NOT NULL DEFAULT 0,"
	" profile_uid TEXT,"
	" serial TEXT,"
	" owner TEXT,"
	" firmware TEXT,"
	" features INTEGER NOT NULL DEFAULT 0,"
	" features_applied INTEGER NOT NULL DEFAULT 0,"
	" quarantined INTEGER NOT NULL DEFAULT 0,"
	" quarantined_at INTEGER NOT NULL DEFAULT 0,"
	" quarantine_reason TEXT,"
	" clones INTEGER NOT NULL DEFAULT 0,"
	" bootstrapped_at INTEGER NOT NULL DEFAULT 0,"
	" claimed_at INTEGER NOT NULL DEFAULT 0,"
	" last_heartbeat_at INTEGER NOT NULL DEFAULT 0,"
	" heartbeats INTEGER NOT NULL DEFAULT 0,"
	" boots INTEGER NOT NULL DEFAULT 0,"
	" batch TEXT,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX modules_owner ON modules(owner, rot_uid);"
	"CREATE INDEX modules_profile ON modules(profile_uid, rot_uid);"
	"CREATE TABLE module_keys("
	" rot_uid TEXT NOT NULL,"
	" epoch INTEGER NOT NULL,"
	" key BLOB NOT NULL,"
	" retired_at INTEGER NOT NULL,"
	" PRIMARY KEY(rot_uid, epoch)) WITHOUT ROWID;"
	"CREATE TABLE campaigns("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" owner TEXT,"
	" profile_uid TEXT,"
	" enable INTEGER NOT NULL DEFAULT 0,"
	" disable INTEGER NOT NULL DEFAULT 0,"
	" created_by TEXT,"
	" created_at INTEGER NOT NULL);"
	"CREATE TABLE campaign_devices("
	" campaign_id INTEGER NOT NULL,"
	" rot_uid TEXT NOT NULL,"
	" state INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" PRIMARY KEY(campaign_id, rot_uid)) WITHOUT ROWID;"
	"CREATE INDEX campaign_devices_rot ON campaign_devices(rot_uid, state);"
	"ALTER TABLE events ADD COLUMN owner TEXT;"
	"ALTER TABLE events ADD COLUMN device TEXT;"
	"CREATE INDEX events_owner ON events(owner, time, id);",
	/*
	 * 8: the root of trust's services (issue 14): each module's service id
	 * (named in PSK and E2E key identities: given at insert by the trigger,
	 * to the modules already there in rot_uid order), the downstream E2E
	 * counter, and the service key S(e) of every epoch (sealed), kept so
	 * that old data stays decryptable
	 */
	"ALTER TABLE modules ADD COLUMN sid INTEGER;"
	"ALTER TABLE modules ADD COLUMN e2e_down INTEGER NOT NULL DEFAULT 0;"
	"UPDATE modules SET sid = (SELECT COUNT(*) FROM modules m2 WHERE m2.rot_uid <= modules.rot_uid);"
	"CREATE UNIQUE INDEX modules_sid ON modules(sid);"
	"CREATE TRIGGER modules_sid AFTER INSERT ON modules WHEN NEW.sid IS NULL BEGIN"
	" UPDATE modules SET sid = (SELECT COALESCE(MAX(sid), 0) + 1 FROM modules)"
	" WHERE rot_uid = NEW.rot_uid; END;"
	"CREATE TABLE module_svc_keys("
	" rot_uid TEXT NOT NULL,"
	" epoch INTEGER NOT NULL,"
	" key BLOB NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" PRIMARY KEY(rot_uid, epoch)) WITHOUT ROWID;",
	/* 9: ZTP certificates (docs/security-service.md "ZTP certificates"):
	 * owners' CAs (the key wrapped by the signer: the front cannot open it), the CA a
	 * profile's modules or one module get, and each module's bundle (its key, certificate
	 * and the CA's), sealed, with when the module confirmed it */
	"CREATE TABLE ztp_cas("
	" owner TEXT NOT NULL REFERENCES owners(name),"
	" name TEXT NOT NULL,"
	" cert BLOB NOT NULL,"
	" wrapped_key BLOB NOT NULL,"
	" device_days INTEGER NOT NULL,"
	" imported INTEGER NOT NULL DEFAULT 0,"
	" not_before INTEGER NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" PRIMARY KEY(owner, name)) WITHOUT ROWID;"
	"CREATE TABLE ztp_profile_cas("
	" profile_uid TEXT PRIMARY KEY,"
	" ca TEXT NOT NULL,"
	" updated_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE ztp_module_cas("
	" rot_uid TEXT PRIMARY KEY,"
	" ca TEXT NOT NULL,"
	" updated_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE ztp_bundles("
	" rot_uid TEXT PRIMARY KEY,"
	" owner TEXT NOT NULL,"
	" ca TEXT NOT NULL,"
	" bundle BLOB NOT NULL,"
	" cert_sha256 BLOB NOT NULL,"
	" serial TEXT NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" issued_at INTEGER NOT NULL,"
	" delivered_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;",
	/* 10: gateways onboarding over MQTT (docs/gateways.md): the batches' factory
	 * credentials (hashed), the gateways the operator expects, each gateway's request and
	 * its decision, its bundle (sealed) and broker account, the signed commands sent to it;
	 * and the foreign PKIs whose CRLs ztpd follows, with the certificates it saw from them */
	"CREATE TABLE gw_batches("
	" name TEXT PRIMARY KEY,"
	" owner TEXT NOT NULL DEFAULT '',"
	" pass_hash TEXT NOT NULL,"
	" created_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE gw_expected("
	" udid TEXT PRIMARY KEY,"
	" grp TEXT NOT NULL DEFAULT '',"
	" created_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE gateways("
	" udid TEXT PRIMARY KEY,"
	" owner TEXT NOT NULL DEFAULT '',"
	" batch TEXT NOT NULL,"
	" state INTEGER NOT NULL,"
	" grp TEXT NOT NULL DEFAULT '',"
	" firmware TEXT NOT NULL DEFAULT '',"
	" ldevid BLOB NOT NULL,"
	" idevid BLOB NOT NULL,"
	" request_id TEXT NOT NULL,"
	" requests INTEGER NOT NULL DEFAULT 1,"
	" requested_at INTEGER NOT NULL,"
	" decided_at INTEGER NOT NULL DEFAULT 0,"
	" reason TEXT NOT NULL DEFAULT '',"
	" bundle BLOB NOT NULL DEFAULT x'',"
	" bundle_id TEXT NOT NULL DEFAULT '',"
	" bundle_sent_at INTEGER NOT NULL DEFAULT 0,"
	" mqtt_state INTEGER NOT NULL DEFAULT 0,"
	" serial TEXT NOT NULL DEFAULT '',"
	" cmd_counter INTEGER NOT NULL DEFAULT 0,"
	" updated_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE gw_commands("
	" udid TEXT NOT NULL,"
	" id INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" args TEXT NOT NULL,"
	" state INTEGER NOT NULL,"
	" signed BLOB NOT NULL DEFAULT x'',"
	" result TEXT NOT NULL DEFAULT '',"
	" created_at INTEGER NOT NULL,"
	" sent_at INTEGER NOT NULL DEFAULT 0,"
	" done_at INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(udid, id)) WITHOUT ROWID;"
	"CREATE TABLE gw_groups("
	" name TEXT PRIMARY KEY,"
	" config TEXT NOT NULL,"
	" auto_reonboard INTEGER NOT NULL DEFAULT 0,"
	" updated_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE gw_keys("
	" name TEXT PRIMARY KEY,"
	" cert BLOB NOT NULL,"
	" wrapped_key BLOB NOT NULL,"
	" created_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE pkis("
	" name TEXT PRIMARY KEY,"
	" ca BLOB NOT NULL,"
	" crl_url TEXT NOT NULL,"
	" interval_s INTEGER NOT NULL,"
	" last_fetch_at INTEGER NOT NULL DEFAULT 0,"
	" last_ok_at INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '',"
	" crl_number TEXT NOT NULL DEFAULT '',"
	" revoked INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE foreign_certs("
	" issuer TEXT NOT NULL,"
	" serial TEXT NOT NULL,"
	" udid TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" seen_at INTEGER NOT NULL,"
	" PRIMARY KEY(issuer, serial)) WITHOUT ROWID;",
	/* 11: CRL synchronisation (docs/pki-crl.md): the thisUpdate of the last CRL a PKI's
	 * sync accepted (a newer one must not go back in time), and when a sync acted on a
	 * seen certificate it found listed (it acts once: an operator's unblock stands) */
	"ALTER TABLE pkis ADD COLUMN crl_this_update INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE foreign_certs ADD COLUMN blocked_at INTEGER NOT NULL DEFAULT 0;",
};

#define MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])) - 1)

struct lite_stmt {
	struct store_stmt base;
	sqlite3_stmt *s;
};

static sqlite3 *
db_of(struct store *st)
{
	return st->db;
}

static sqlite3_stmt *
raw(struct store_stmt *s)
{
	return ((struct lite_stmt *)s)->s;
}

static const char *
lite_errmsg(struct store *st)
{
	return st->db ? sqlite3_errmsg(db_of(st)) : "not open";
}

static int
lite_exec(struct store *st, const char *sql)
{
	return sqlite3_exec(db_of(st), sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : ZTP_ESTORE;
}

static int
lite_begin(struct store *st)
{
	return lite_exec(st, "BEGIN IMMEDIATE");
}

static int
lite_commit(struct store *st)
{
	return lite_exec(st, "COMMIT");
}

static int
lite_rollback(struct store *st)
{
	return lite_exec(st, "ROLLBACK");
}

static struct store_stmt *
lite_prepare(struct store *st, const char *sql)
{
	struct lite_stmt *ls;

	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return NULL;
	ls->base.drv = &store_sqlite_driver;
	if (sqlite3_prepare_v3(db_of(st), sql, -1, SQLITE_PREPARE_PERSISTENT, &ls->s, NULL) !=
	    SQLITE_OK) {
		free(ls);
		return NULL;
	}
	return &ls->base;
}

static void
lite_finalize(struct store_stmt *s)
{
	sqlite3_finalize(raw(s));
	free(s);
}

static void
lite_reset(struct store_stmt *s)
{
	sqlite3_reset(raw(s));
}

static void
lite_clear(struct store_stmt *s)
{
	sqlite3_clear_bindings(raw(s));
}

static void
lite_bind_text(struct store_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(raw(s), i, v, -1, SQLITE_STATIC);
}

static void
lite_bind_int64(struct store_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(raw(s), i, v);
}

static void
lite_bind_blob(struct store_stmt *s, int i, const void *p, size_t n)
{
	sqlite3_bind_blob(raw(s), i, p, (int)n, SQLITE_STATIC);
}

static void
lite_bind_null(struct store_stmt *s, int i)
{
	sqlite3_bind_null(raw(s), i);
}

static int
lite_step(struct store_stmt *s)
{
	int rc = sqlite3_step(raw(s));

	/* extended codes (SQLITE_CONSTRAINT_UNIQUE...) keep the primary in the low byte */
	switch (rc & 0xff) {
	case SQLITE_ROW:
		return STORE_ROW;
	case SQLITE_DONE:
		return STORE_DONE;
	case SQLITE_CONSTRAINT:
		return STORE_CONSTRAINT;
	default:
		return STORE_ERROR;
	}
}

static int64_t
lite_col_int64(struct store_stmt *s, int col)
{
	return sqlite3_column_int64(raw(s), col);
}

static const char *
lite_col_text(struct store_stmt *s, int col)
{
	return (const char *)sqlite3_column_text(raw(s), col);
}

static const void *
lite_col_blob(struct store_stmt *s, int col)
{
	return sqlite3_column_blob(raw(s), col);
}

static size_t
lite_col_bytes(struct store_stmt *s, int col)
{
	return (size_t)sqlite3_column_bytes(raw(s), col);
}

static int
lite_col_null(struct store_stmt *s, int col)
{
	return sqlite3_column_type(raw(s), col) == SQLITE_NULL;
}

static int64_t
lite_changes(struct store *st)
{
	return sqlite3_changes(db_of(st));
}

static int
lite_schema_version(struct store *st)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(db_of(st), "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Apply the migrations the database has not seen, each in its own transaction. */
static int
run_migrations(struct store *st)
{
	int version = lite_schema_version(st);
	char sql[64];

	if (version < 0)
		return ZTP_ESTORE;
	if (version > MIGRATIONS) {
		log_warnx("store: database schema %d is newer than this ztpd (%d)", version,
		    MIGRATIONS);
		return ZTP_ESTORE;
	}
	while (version < MIGRATIONS) {
		version++;
		if (lite_begin(st) != 0)
			return store_db_err(st, "begin migration");
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
		if (lite_exec(st, migrations[version]) != 0 || lite_exec(st, sql) != 0) {
			store_db_err(st, "migration");
			lite_rollback(st);
			return ZTP_ESTORE;
		}
		if (lite_commit(st) != 0)
			return store_db_err(st, "commit migration");
		log_info("store: schema migrated to version %d", version);
	}
	return 0;
}

static int
lite_open(struct store *st, const char *path)
{
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		SQLITE_OPEN_NOMUTEX, NULL);
	st->db = db;
	if (rc != SQLITE_OK) {
		log_warnx("store: cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		return ZTP_ESTORE;
	}
	sqlite3_busy_timeout(db, 5000);
	if (lite_exec(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
			  " PRAGMA foreign_keys = ON;") != 0)
		return store_db_err(st, "pragma");
	return run_migrations(st);
}

static void
lite_close(struct store *st)
{
	sqlite3_close(db_of(st));
	st->db = NULL;
}

const struct store_driver store_sqlite_driver = {
	.name = "sqlite",
	.schema_target = MIGRATIONS,
	.open = lite_open,
	.close = lite_close,
	.schema_version = lite_schema_version,
	.errmsg = lite_errmsg,
	.begin = lite_begin,
	.commit = lite_commit,
	.rollback = lite_rollback,
	.prepare = lite_prepare,
	.finalize = lite_finalize,
	.reset = lite_reset,
	.clear = lite_clear,
	.bind_text = lite_bind_text,
	.bind_int64 = lite_bind_int64,
	.bind_blob = lite_bind_blob,
	.bind_null = lite_bind_null,
	.step = lite_step,
	.col_int64 = lite_col_int64,
	.col_text = lite_col_text,
	.col_blob = lite_col_blob,
	.col_bytes = lite_col_bytes,
	.col_null = lite_col_null,
	.changes = lite_changes,
	.after_copy = NULL, /* AUTOINCREMENT continues after the highest id inserted */
};
