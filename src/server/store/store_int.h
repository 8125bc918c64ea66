/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the store: the rules above the drivers, the driver interface, and
 * the few calls one domain makes into another's tables. Not for any other
 * module.
 *
 * The rules (validation, sealing secrets with their row as associated data,
 * one-time passwords, block cascades, rotation commit, the Device-ID bind,
 * import idempotence) live once, in one file per domain; each domain's SQL
 * is written in the subset SQLite and PostgreSQL share, with ?N parameters
 * (the PostgreSQL driver numbers them $N), and a driver may carry its own
 * text for a statement where the two differ. Each driver has its own schema
 * and migrations.
 *
 *   store.c            open by URL, statement cache, transactions, sealing
 *   store_sqlite.c     the SQLite driver (embedded default)
 *   store_pg.c         the PostgreSQL driver (libpq)
 *   store_sim.c        SIMs and their PSKs, derived SIMs, imports, PSK rotation
 *   store_config.c     configurations and their history
 *   store_telemetry.c  telemetry
 *   store_device.c     device records (credentials)
 *   store_event.c      events
 *   store_apikey.c     admin API keys
 *   store_group.c      SIM groups (derived master keys, policy, upstreams)
 *   store_est.c        certificates (EST): allowlist, passwords, CAs, things, certs, CRL
 *   store_copy.c       a store copied into another, any driver to any (ztpd migrate)
 *   store_import.c     the chunked batch import both SIMs and modules use
 *   store_ztpca.c      ZTP certificates: owners' CAs, the CA of a profile or module, bundles
 *   store_pki.c        foreign PKIs whose CRLs are followed, the certificates seen from them
 */
#ifndef ZTP_STORE_INT_H
#define ZTP_STORE_INT_H
#include <stddef.h>
#include <stdint.h>

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
	STORE_M_OWNER,
	STORE_M_MODULE,
	STORE_M_PROFILE,
	STORE_M_ZTPCA, /* store_ztpca.c (issue 14) */
	STORE_M_GATEWAY, /* store_gateway.c (issue 15) */
	STORE_M_PKI,   /* store_pki.c (issue 15) */
	STORE_M__COUNT
};
#define STORE_MODULE_STMT_MAX 48 /* statements of one domain file */
#define STORE_PARAM_MAX 256      /* highest ?N of a statement */

/* What store_step answers (the values are SQLite's, so that its driver passes them on). */
#define STORE_ROW 100
#define STORE_DONE 101
#define STORE_CONSTRAINT 19 /* a UNIQUE, CHECK or foreign key constraint refused the change */
#define STORE_ERROR 1

/* A prepared statement; each driver's own begins with this. */
struct store_stmt {
	const struct store_driver *drv;
};

/*
 * A database driver. The statement calls mirror SQLite's: bind (1-based,
 * the values must outlive the step), step (STORE_ROW per row, then
 * STORE_DONE), read columns (0-based) of the current row, reset (the
 * bindings stay until clear). Column text and blobs are valid until the
 * next step or reset.
 */
struct store_driver {
	const char *name;
	int schema_target; /* the newest schema version of this driver's migrations */
	/* connect and migrate; target is the driver's part of the URL */
	int (*open)(struct store *st, const char *target);
	void (*close)(struct store *st);
	int (*schema_version)(struct store *st);
	const char *(*errmsg)(struct store *st);
	/* BEGIN with the store's write lock (one writing transaction at a time), COMMIT, ROLLBACK */
	int (*begin)(struct store *st);
	int (*commit)(struct store *st);
	int (*rollback)(struct store *st);
	struct store_stmt *(*prepare)(struct store *st, const char *sql);
	void (*finalize)(struct store_stmt *s);
	void (*reset)(struct store_stmt *s);
	void (*clear)(struct store_stmt *s);
	void (*bind_text)(struct store_stmt *s, int i, const char *v);
	void (*bind_int64)(struct store_stmt *s, int i, int64_t v);
	void (*bind_blob)(struct store_stmt *s, int i, const void *p, size_t n);
	void (*bind_null)(struct store_stmt *s, int i);
	int (*step)(struct store_stmt *s);
	int64_t (*col_int64)(struct store_stmt *s, int col);
	const char *(*col_text)(struct store_stmt *s, int col); /* NULL for NULL */
	const void *(*col_blob)(struct store_stmt *s, int col);
	size_t (*col_bytes)(struct store_stmt *s, int col);
	/* 1 if the column is NULL (col_blob answers NULL for an empty blob too) */
	int (*col_null)(struct store_stmt *s, int col);
	/* rows the last INSERT, UPDATE or DELETE changed */
	int64_t (*changes)(struct store *st);
	/*
	 * Optional (NULL: nothing to do), for store_copy: rows were copied into
	 * table with their values of its generated column id; make the ids the
	 * database generates from now on continue after the highest one.
	 */
	int (*after_copy)(struct store *st, const char *table, const char *id);
};

extern const struct store_driver store_sqlite_driver;
extern const struct store_driver store_pg_driver;
/* store_pg.c: 1 if a PostgreSQL URL holds a password (refused everywhere) */
int store_pg_url_has_password(const char *url);

struct store {
	const struct store_driver *drv;
	void *db; /* the driver's connection */
	struct store_stmt *stmt[STORE_M__COUNT][STORE_MODULE_STMT_MAX];
	uint8_t key[CRYPTO_KEY_LEN];
	store_waiter waiter; /* store_set_waiter; NULL: the driver polls */
	void *waiter_arg;
};

/* ---- statements (the driver's calls, by their short names) ---- */

static inline void store_bind_text(struct store_stmt *s, int i, const char *v)
{ s->drv->bind_text(s, i, v); }
static inline void store_bind_int64(struct store_stmt *s, int i, int64_t v)
{ s->drv->bind_int64(s, i, v); }
static inline void store_bind_blob(struct store_stmt *s, int i, const void *p, size_t n)
{ s->drv->bind_blob(s, i, p, n); }
static inline void store_bind_null(struct store_stmt *s, int i)
{ s->drv->bind_null(s, i); }
static inline int store_step(struct store_stmt *s)
{ return s->drv->step(s); }
static inline void store_reset(struct store_stmt *s)
{ s->drv->reset(s); }
static inline int64_t store_col_int64(struct store_stmt *s, int col)
{ return s->drv->col_int64(s, col); }
static inline int store_col_int(struct store_stmt *s, int col)
{ return (int)s->drv->col_int64(s, col); }
static inline const void *store_col_blob(struct store_stmt *s, int col)
{ return s->drv->col_blob(s, col); }
static inline size_t store_col_bytes(struct store_stmt *s, int col)
{ return s->drv->col_bytes(s, col); }
static inline int store_col_null(struct store_stmt *s, int col)
{ return s->drv->col_null(s, col); }
static inline int64_t store_changes(struct store *st)
{ return st->drv->changes(st); }

/* ---- statements and transactions (store.c) ---- */

/* Log the connection's error with what; returns ZTP_ESTORE. */
int store_db_err(struct store *st, const char *what);
/*
 * Statement idx of module m, prepared from sql on first use and cached in
 * st (finalized by store_close), reset and with its bindings cleared.
 * NULL (logged) if it does not prepare or idx is out of range.
 */
struct store_stmt *store_prep(struct store *st, enum store_module m, int idx, const char *sql);
/* Step a statement that returns no rows: 0, ZTP_EEXIST (constraint) or ZTP_ESTORE. */
int store_exec(struct store *st, struct store_stmt *s);
/* store_exec for an UPDATE or DELETE of one row: ZTP_ENOENT if it changed none. */
int store_exec_row(struct store *st, struct store_stmt *s);
/* Run module m's statement idx (sql) with ?1 bound to text, as store_exec. */
int store_exec_text(struct store *st, enum store_module m, int idx, const char *sql,
    const char *text);
/*
 * Step an INSERT ... RETURNING id: 0 and *id, ZTP_EEXIST (constraint) or
 * ZTP_ESTORE.
 */
int store_exec_id(struct store *st, struct store_stmt *s, int64_t *id);
/* A single-row lookup: 0 on a row (reset s after reading it), ZTP_ENOENT, ZTP_ESTORE. */
int store_step_row(struct store *st, struct store_stmt *s, const char *what);
/*
 * The end of a loop over rows whose callback's non-zero answer ended it:
 * rc is that answer or store_step()'s last one. 0 when the rows ran out,
 * a callback's negative code as it is, ZTP_ESTORE (logged with what) else.
 */
int store_rows_end(struct store *st, int rc, const char *what);
/*
 * Begin a writing transaction: one at a time across every connection to
 * the database (SQLite: BEGIN IMMEDIATE; PostgreSQL: the store's advisory
 * lock), so that a rule's reads and its writes see no other writer between
 * them. store_tx_end: COMMIT if rc == 0 else ROLLBACK (returns rc, or
 * ZTP_ESTORE).
 */
int store_tx_begin(struct store *st);
int store_tx_end(struct store *st, int rc);
/*
 * Text from a peer as a database takes it: in (NULL: "") cut to cap, each
 * byte that is not part of valid UTF-8 (or a sequence cut by the end)
 * replaced with '?'. PostgreSQL refuses invalid UTF-8 in text, and a
 * refused event would take its whole batch with it.
 */
void store_text_clean(const char *in, char *out, size_t cap);
/* Column col as a NUL-terminated string ("" for NULL), cut to cap. */
void store_col_text(struct store_stmt *s, int col, char *out, size_t cap);
/* Bind v to parameter i, or NULL if v is NULL or "". v must outlive the step. */
void store_bind_opt_text(struct store_stmt *s, int i, const char *v);

/* ---- secrets at rest (store.c) ---- */

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

/* ---- secrets kept as salted HMACs: API keys, enrolment passwords (store.c) ---- */

#define STORE_SALT_LEN 16
#define STORE_HASH_LEN 32
/* A fresh random salt and the HMAC-SHA256 of secret under it. */
int store_secret_hash(const char *secret, uint8_t salt[STORE_SALT_LEN],
    uint8_t hash[STORE_HASH_LEN]);
/* 1 if secret's HMAC under salt is hash (of hashlen bytes), compared in constant time. */
int store_secret_matches(const void *salt, size_t saltlen, const void *hash, size_t hashlen,
    const char *secret);

/* ---- batch imports (store_import.c), for store_sim.c and store_profile.c ---- */

/*
 * A batch is imported in one writing transaction, in chunks of
 * STORE_IMPORT_CHUNK rows, two round trips a chunk whatever the driver: one
 * lookup of the chunk's keys (IN with one parameter each, NULL for the
 * unused ones) and multi-row INSERTs of the new rows (STORE_IMPORT_CHUNK,
 * 16, 4 or 1 rows a statement) of three columns each: the key, the sealed
 * secret and a third text column (NULL for ""), the time in created_at and
 * updated_at. A row is decided in its slot: refused by the kind's check,
 * found on record (the kind says whether it is the same), the same key
 * earlier in the chunk (likewise), or sealed and added.
 */
#define STORE_IMPORT_CHUNK 64
#define STORE_IMPORT_STMTS 5 /* statement ids a kind uses from its stmt0 on */
#define STORE_IMPORT_KEY_MAX 64 /* a key as read back from the lookup, NUL included */
#define STORE_IMPORT_SEALED_MAX                                                            \
	((STORE_PSK_MAX > STORE_MODKEY_LEN ? STORE_PSK_MAX : STORE_MODKEY_LEN) +          \
	    CRYPTO_SEAL_OVERHEAD)

enum { STORE_IMPORT_UNDECIDED, STORE_IMPORT_ADD, STORE_IMPORT_SAME, STORE_IMPORT_REFUSED };

/* One row of a chunk as it is decided (wiped when the import ends). */
struct store_import_slot {
	const void *row; /* the kind's row type */
	size_t index;    /* into the batch */
	int state;       /* STORE_IMPORT_* */
	char why[96];
	uint8_t sealed[STORE_IMPORT_SEALED_MAX];
	size_t sealedlen;
};

/* What one kind of import is: its table, columns and rules. */
struct store_import_kind {
	enum store_module m; /* whose statement cache */
	int stmt0;           /* its first free statement id; it uses STORE_IMPORT_STMTS */
	const char *table, *key_col, *sealed_col, *third_col;
	const char *lookup_what; /* the lookup's name in a store error's log line */
	size_t row_size;         /* the size of one row of the batch */
	const char *(*key)(const void *row);
	const char *(*third)(const void *row); /* "" for NULL */
	size_t third_size; /* the third column is read back cut to this (at most 128) */
	/*
	 * Before the lookup: refuse the slot (store_import_refuse) or leave it
	 * undecided. arg is store_import_run's. A negative code ends the import.
	 */
	int (*check)(struct store *st, struct store_import_slot *sl, void *arg);
	/* On record with this sealed secret and third column: SAME or refused. */
	void (*existing)(struct store *st, struct store_import_slot *sl, const void *sealed,
	    size_t len, const char *third);
	/* The same key added earlier in the chunk (earlier): SAME or refused. */
	void (*repeat)(struct store_import_slot *sl, const struct store_import_slot *earlier);
	/* Seal the row's secret into sl->sealed, sl->sealedlen. */
	int (*seal)(struct store *st, struct store_import_slot *sl);
};

/* Refuse a slot with why (cut to its size). */
void store_import_refuse(struct store_import_slot *sl, const char *why);
/*
 * Import n rows of kind in one transaction (all or none on a store error),
 * counted into res (zeroed on an error). ZTP_ETOOBIG over
 * STORE_IMPORT_BATCH_MAX rows.
 */
int store_import_run(struct store *st, const struct store_import_kind *kind, const void *rows,
    size_t n, void *arg, struct store_import_result *res);

/* ---- one domain's tables as another needs them ---- */

/* store_sim.c: record that iccid's current configuration is version (ZTP_ENOENT: no SIM). */
int store_sim_set_config_version(struct store *st, const char *iccid, int64_t version,
    int64_t now);
/*
 * store_config.c: a configuration row read from columns col.. of s, in the
 * order iccid, version, body, source, created_at (a join's right side).
 */
void store_row_config(struct store_stmt *s, int col, struct store_config *out);
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
/*
 * store_module.c: a module's columns, in struct store_mod's order, and its
 * row read from them (never its keys), for store_profile.c's list.
 */
#define STORE_MOD_COLS                                                                     \
	"rot_uid, factory_retired, epoch, pending_epoch, pending_features, pending_at,"     \
	" profile_uid, serial, owner, firmware, features, features_applied, quarantined,"   \
	" quarantined_at, quarantine_reason, clones, bootstrapped_at, claimed_at,"          \
	" last_heartbeat_at, heartbeats, boots, batch, created_at, updated_at, sid, e2e_down"
void store_row_module(struct store_stmt *s, struct store_mod *m);
/*
 * store_copy.c, for the tests: the name of the i-th table store_copy copies
 * and its columns into cols ("a, b, c"); NULL past the last table.
 */
const char *store_copy_table(size_t i, char *cols, size_t cap);

#endif
