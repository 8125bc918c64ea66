/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the SQLite store: the connection, the helpers of the core
 * (store_sqlite.c) that every domain file uses, and the few calls one
 * domain makes into another's tables. Not for any other module.
 *
 * The files, one domain each, all on the same connection:
 *   store_sqlite.c     open/close, migrations, statements, transactions, sealing
 *   store_sim.c        SIMs and their PSKs, derived SIMs, imports, PSK rotation
 *   store_config.c     configurations and their history
 *   store_telemetry.c  telemetry
 *   store_device.c     device records (credentials)
 *   store_event.c      events
 *   store_apikey.c     admin API keys
 *   store_group.c      SIM groups (derived master keys, policy, upstreams)
 *   store_est.c        certificates (EST): allowlist, passwords, CAs, things, certs, CRL
 */
#ifndef ZTP_STORE_INT_H
#define ZTP_STORE_INT_H
#include <sqlite3.h>

#include "crypto.h"
#include "store.h"

/* Each domain file caches its prepared statements in its own row of struct store's table. */
enum store_module {
	STORE_M_CORE,
	STORE_M_SIM,
	STORE_M_CONFIG,
	STORE_M_TELEMETRY,
	STORE_M_DEVICE,
	STORE_M_EVENT,
	STORE_M_APIKEY,
	STORE_M_GROUP,
	STORE_M_EST,
	STORE_M__COUNT
};
#define STORE_MODULE_STMT_MAX 32 /* statements of one domain file */

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[STORE_M__COUNT][STORE_MODULE_STMT_MAX];
	uint8_t key[CRYPTO_KEY_LEN];
};

/* ---- statements and transactions (store_sqlite.c) ---- */

/* Log the connection's error with what; returns ZTP_ESTORE. */
int store_db_err(struct store *st, const char *what);
/*
 * Statement idx of module m, prepared from sql on first use and cached in
 * st (finalized by store_close), reset and with its bindings cleared.
 * NULL (logged) if it does not prepare or idx is out of range.
 */
sqlite3_stmt *store_prep(struct store *st, enum store_module m, int idx, const char *sql);
/* Step a statement that returns no rows: 0, ZTP_EEXIST (constraint) or ZTP_ESTORE. */
int store_exec(struct store *st, sqlite3_stmt *s);
/* store_exec for an UPDATE or DELETE of one row: ZTP_ENOENT if it changed none. */
int store_exec_row(struct store *st, sqlite3_stmt *s);
/* Run module m's statement idx (sql) with ?1 bound to text, as store_exec. */
int store_exec_text(struct store *st, enum store_module m, int idx, const char *sql,
    const char *text);
/* A single-row lookup: 0 on a row (reset s after reading it), ZTP_ENOENT, ZTP_ESTORE. */
int store_step_row(struct store *st, sqlite3_stmt *s, const char *what);
/*
 * The end of a loop over rows whose callback's non-zero answer ended it:
 * rc is that answer or sqlite3_step()'s last one. 0 when the rows ran out,
 * a callback's negative code as it is, ZTP_ESTORE (logged with what) else.
 */
int store_rows_end(struct store *st, int rc, const char *what);
/* BEGIN IMMEDIATE; COMMIT if rc == 0 else ROLLBACK (returns rc, or ZTP_ESTORE). */
int store_tx_begin(struct store *st);
int store_tx_end(struct store *st, int rc);
/* Column col as a NUL-terminated string ("" for NULL), cut to cap. */
void store_col_text(sqlite3_stmt *s, int col, char *out, size_t cap);
/* Bind v to parameter i, or NULL if v is NULL or "". v must outlive the step. */
void store_bind_opt_text(sqlite3_stmt *s, int i, const char *v);

/* ---- secrets at rest (store_sqlite.c) ---- */

/*
 * Seal len bytes of plain with the data key into out (len +
 * CRYPTO_SEAL_OVERHEAD bytes; cap its size), bound to its row and purpose:
 * the associated data is "ztp:<what>:<row>:<extra>" (extra NULL: ""), so a
 * sealed value copied to another row or column does not open.
 */
int store_seal(struct store *st, const char *what, const char *row, const char *extra,
    const uint8_t *plain, size_t len, uint8_t *out, size_t cap, size_t *outlen);
/* Open what store_seal sealed with the same what, row and extra; ZTP_EAUTH if it does not. */
int store_unseal(struct store *st, const char *what, const char *row, const char *extra,
    const void *sealed, size_t len, uint8_t *out, size_t cap, size_t *outlen);

/* ---- secrets kept as salted HMACs: API keys, enrolment passwords (store_sqlite.c) ---- */

#define STORE_SALT_LEN 16
#define STORE_HASH_LEN 32
/* A fresh random salt and the HMAC-SHA256 of secret under it. */
int store_secret_hash(const char *secret, uint8_t salt[STORE_SALT_LEN],
    uint8_t hash[STORE_HASH_LEN]);
/* 1 if secret's HMAC under salt is hash (of hashlen bytes), compared in constant time. */
int store_secret_matches(const void *salt, size_t saltlen, const void *hash, size_t hashlen,
    const char *secret);

/* ---- one domain's tables as another needs them ---- */

/* store_sim.c: record that iccid's current configuration is version (ZTP_ENOENT: no SIM). */
int store_sim_set_config_version(struct store *st, const char *iccid, int64_t version,
    int64_t now);
/* store_config.c, store_telemetry.c, store_device.c: delete what iccid has there. */
int store_config_purge(struct store *st, const char *iccid);
int store_telemetry_purge(struct store *st, const char *iccid);
int store_device_purge(struct store *st, const char *iccid);
/*
 * store_group.c: the name of the derived group whose prefix is the longest
 * one iccid starts with, the one the handshake derives from; its master
 * key is not opened. ZTP_ENOENT if none.
 */
int store_group_derived_name(struct store *st, const char *iccid, char group[STORE_GROUP_SIZE]);

#endif
