/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store: SIMs, configurations, telemetry, device records, events,
 * admin API keys, SIM groups and certificates. One interface, in sections
 * by domain (one file each: store_sim.c, ..., store_est.c for the
 * certificates), over two drivers: SQLite, the embedded default
 * (store_sqlite.c), and PostgreSQL for several ztpd on one database
 * (store_pg.c); store_int.h says how they fit.
 *
 * A struct store is one connection: use it from one thread. Every change is
 * one transaction; a refused change leaves the store as it was; a rule that
 * reads before it writes runs in a writing transaction, one at a time across
 * every connection (and every ztpd) on the database. Secrets (PSKs,
 * device passwords, group master keys) are sealed with the data directory's
 * key, their row as associated data, before they reach the database; API
 * secrets and enrolment passwords are stored as salted HMACs.
 */
#ifndef ZTP_STORE_H
#define ZTP_STORE_H
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "ztp/iccid.h"

#define STORE_SCHEMA_VERSION 11 /* of the SQLite driver; store_schema_target() for any */
#define STORE_CONFIG_MAX 255
#define STORE_TELEMETRY_MAX 255
#define STORE_PSK_MIN 16
#define STORE_PSK_MAX 64
#define STORE_DEVID_MAX 16 /* bytes */
#define STORE_DEVID_HEX (2 * STORE_DEVID_MAX + 1)
#define STORE_ETAG_SIZE 32
#define STORE_KEYID_SIZE 32
#define STORE_DETAIL_MAX 256
#define STORE_GROUP_SIZE 64
#define STORE_MASTER_LEN 32
#define STORE_IMPORT_BATCH_MAX 5000
#define STORE_IMPORT_REFUSED_MAX STORE_IMPORT_BATCH_MAX
#define STORE_OWNER_MAX 64 /* an owner's name: 1..64 of A-Z a-z 0-9 - . _ */
#define STORE_EVENT_DEVICE_MAX 64 /* an event's device: a RoT UID (32 hex digits) */

struct store;

struct store_sim {
	char iccid[ICCID_STR_SIZE];
	int blocked;
	char device_id[STORE_DEVID_HEX]; /* "" when not bound */
	uint32_t psk_generation;
	uint32_t config_version; /* 0: none */
	int64_t created_at, updated_at; /* ms */
	char group[STORE_GROUP_SIZE]; /* "" if none */
	int derived; /* no stored PSK: derived from its group's master key */
	int rotate;  /* a rotation was asked for and is not committed yet */
	int pending; /* a pending key of generation psk_generation + 1 exists */
	int64_t rotated_at; /* ms of the last commit, 0 if never */
};

/*
 * Proxy mode: where a group's device requests go. url "" is the server's
 * default (--upstream), "off" answers from this store even when a default
 * is set; otherwise an http:// or https:// base URL. ca, cert and key are
 * absolute paths on the ztpd host ("" for none: the system's CAs, no client
 * certificate).
 */
#define STORE_UPSTREAM_URL_MAX 512
#define STORE_UPSTREAM_PATH_MAX 256
struct store_upstream {
	char url[STORE_UPSTREAM_URL_MAX];
	char ca[STORE_UPSTREAM_PATH_MAX];
	char cert[STORE_UPSTREAM_PATH_MAX];
	char key[STORE_UPSTREAM_PATH_MAX];
};

struct store_group {
	char name[STORE_GROUP_SIZE];
	char iccid_prefix[ICCID_STR_SIZE]; /* "" matches every ICCID */
	int derive;
	int allow_psk_ke;
	int64_t rotation_period_s; /* 0: no periodic rotation */
	int64_t created_at;
	int64_t sims; /* SIMs in the group (read only) */
	/* certificates (EST) for the devices of the group */
	int est_auth;              /* set of STORE_EST_*; 0: the server's --est-auth */
	int cert_days;             /* validity of issued certificates; 0: the server's default */
	int64_t reenroll_grace_s;  /* re-enrolment after expiry; -1: the server's default */
	struct store_upstream upstream; /* proxy mode (docs/proxy.md) */
};

struct store_import_row {
	char iccid[ICCID_STR_SIZE];
	uint8_t psk[STORE_PSK_MAX];
	size_t psk_len;
	char group[STORE_GROUP_SIZE]; /* "" for none */
	char invalid[96]; /* not "": the row was malformed, refused with this reason */
};

struct store_import_result {
	size_t added, unchanged, nrefused;
	struct {
		size_t index; /* into the batch */
		char why[96];
	} refused[STORE_IMPORT_REFUSED_MAX];
};

struct store_config {
	char iccid[ICCID_STR_SIZE];
	uint32_t version;
	uint8_t body[STORE_CONFIG_MAX];
	size_t len;
	char etag[STORE_ETAG_SIZE]; /* with the quotes, as sent in ETag */
	char source[32];
	int64_t created_at;
};

struct store_telemetry {
	int64_t id;
	char iccid[ICCID_STR_SIZE];
	char device_id[STORE_DEVID_HEX];
	uint8_t body[STORE_TELEMETRY_MAX];
	size_t len;
	int64_t received_at;
};

struct store_device {
	char iccid[ICCID_STR_SIZE];
	char device_id[STORE_DEVID_HEX];
	char cli[64], usr[64], pwd[64];
	int64_t created_at;
};

struct store_event {
	int64_t id;
	int64_t time;
	char kind[32];
	char iccid[ICCID_STR_SIZE]; /* "" if none */
	char peer[64];              /* "" if none */
	char detail[STORE_DETAIL_MAX];
	int64_t count;     /* occurrences this row stands for (coalesced repeats), >= 1 */
	int64_t last_time; /* ms of the last of them; time when count is 1 */
	char owner[STORE_OWNER_MAX + 1];          /* "" if none */
	char device[STORE_EVENT_DEVICE_MAX + 1]; /* "" if none */
};

/*
 * One row of store_event_batch: id 0 inserts a new row (time, kind, iccid,
 * peer, detail, count, last_time, owner, device) and gets its id back; a
 * non-zero id sets that row's count and last_time only. The strings are
 * the caller's.
 */
struct store_event_row {
	int64_t id;
	int64_t time, last_time; /* ms */
	int64_t count;
	const char *kind, *iccid, *peer, *detail; /* iccid, peer: NULL or "" for none */
	const char *owner, *device;               /* NULL or "" for none */
};

/* ---- the connection (store.c) ---- */

/*
 * Open the store target names and bring its schema up to date:
 * "sqlite:PATH" or a bare PATH, the SQLite database file (created if
 * needed, WAL mode); or a postgresql:// (postgres://) URL, a PostgreSQL
 * database as libpq reads the URL (the password from PGPASSFILE or
 * ~/.pgpass, never in the URL of a command line). key seals secrets; it is
 * copied. *out is owned by the caller: store_close() it. ZTP_EINVAL if
 * target is neither.
 */
int store_open(struct store **out, const char *target, const uint8_t key[CRYPTO_KEY_LEN]);
void store_close(struct store *st);
/* The schema version the database is at, and the newest its driver knows. */
int store_schema_version(struct store *st);
int store_schema_target(struct store *st);
/* "sqlite" or "postgresql". */
const char *store_driver_name(struct store *st);
/*
 * How a driver whose database answers over a socket waits for it: waiter
 * is called with the socket and POLLIN/POLLOUT and returns once the socket
 * is ready (or failed: then the driver reads the error), 0; or -1 when it
 * cannot wait there (the driver then polls itself). fd -1: the socket is
 * about to be closed (a reconnection), forget it. The front's
 * coroutines (coro.c) wait in the worker's event loop. SQLite never waits.
 */
typedef int (*store_waiter)(void *arg, int fd, short events);
/*
 * 1 if a store target (as store_open takes it) holds a password: a
 * PostgreSQL URL with one. store_open refuses those; so does ztpd join
 * before it writes the URL into ztpd.conf.
 */
int store_target_has_password(const char *target);
void store_set_waiter(struct store *st, store_waiter waiter, void *arg);
/* 1 if the store's calls can wait on a socket (PostgreSQL), 0 if they run in place (SQLite). */
int store_waits(struct store *st);

/* ---- SIMs and their PSKs (store_sim.c) ---- */

/* SIMs. ZTP_EEXIST, ZTP_ENOENT as the names say. group: NULL or "" for none. */
int store_sim_create(struct store *st, const char *iccid, const uint8_t *psk, size_t psklen,
    const char *group);
int store_sim_get(struct store *st, const char *iccid, struct store_sim *out);
/* The PSK of generation gen into psk (STORE_PSK_MAX bytes). ZTP_ENOENT if none. */
int store_sim_psk(struct store *st, const char *iccid, uint32_t gen, uint8_t *psk, size_t *psklen);
/*
 * store_sim_get and the SIM's current configuration (version
 * config_version) in one statement, as a fetch needs them: *has_cfg 1 with
 * cfg, or 0 when the SIM has none.
 */
int store_sim_get_config(struct store *st, const char *iccid, struct store_sim *sim,
    struct store_config *cfg, int *has_cfg);
/* Up to limit SIMs ordered by ICCID, after the given one ("" from the start). */
typedef int (*store_sim_cb)(const struct store_sim *sim, void *arg);
int store_sim_list(struct store *st, const char *after, int limit, store_sim_cb cb, void *arg);
int store_sim_set_blocked(struct store *st, const char *iccid, int blocked);
/* Forget the Device ID binding. */
int store_sim_rebind(struct store *st, const char *iccid);
/*
 * Bind the SIM to device_id if it is not bound. 0 if bound to it (now or
 * before), ZTP_ECONFLICT if bound to another one (*bound gets it).
 */
int store_sim_bind(struct store *st, const char *iccid, const char *device_id,
    char bound[STORE_DEVID_HEX]);
/* Delete the SIM with its configurations, telemetry and device record. */
int store_sim_delete(struct store *st, const char *iccid);

/* Register a SIM of a derived group after its first successful handshake. */
int store_sim_register_derived(struct store *st, const char *iccid, const char *group);
/*
 * Pre-register a SIM of a derived group before its first handshake, so that
 * it can be blocked, bound or configured: in one transaction its row goes
 * into the derived group whose prefix is the longest one of iccid (the one
 * the handshake derives its key from), with no stored PSK (its key stays
 * derived, generation 0, until its first rotation), bound to device_id if
 * that is neither NULL nor "" (upper-case hex, 1..STORE_DEVID_MAX bytes).
 * group (may be NULL) gets the group's name. ZTP_ENOENT if no derived
 * group's prefix matches, ZTP_EEXIST if the SIM exists, ZTP_EINVAL.
 */
int store_sim_create_derived(struct store *st, const char *iccid, const char *device_id,
    char group[STORE_GROUP_SIZE]);

/*
 * Import up to STORE_IMPORT_BATCH_MAX SIMs in one transaction. A row whose
 * SIM exists with the same PSK and group is unchanged; with another, it is
 * refused; a malformed row is refused; the others are added. Idempotent.
 * res is large: allocate it.
 */
int store_sim_import(struct store *st, const struct store_import_row *rows, size_t n,
    struct store_import_result *res);

/*
 * PSK rotation over the air. The pending key has generation current + 1
 * and is sealed as such; the commit makes it the current key (the old
 * one is gone) and ends the rotation. All ZTP_ENOENT when the SIM or the
 * expected generation is not there.
 */
int store_sim_pending_psk(struct store *st, const char *iccid, uint32_t gen, uint8_t *psk,
    size_t *psklen);
int store_sim_pending_set(struct store *st, const char *iccid, uint32_t current, const uint8_t *psk,
    size_t psklen);
int store_sim_commit(struct store *st, const char *iccid, uint32_t gen);
int store_sim_set_rotate(struct store *st, const char *iccid, int rotate);

/* ---- configurations (store_config.c) ---- */

/* Configurations: each set or rollback is a new version. */
int store_config_set(struct store *st, const char *iccid, const uint8_t *body, size_t len,
    struct store_config *out);
/* version 0: the current one. ZTP_ENOENT if there is none. */
int store_config_get(struct store *st, const char *iccid, uint32_t version,
    struct store_config *out);
typedef int (*store_config_cb)(const struct store_config *cfg, void *arg);
/* Newest first. */
int store_config_history(struct store *st, const char *iccid, store_config_cb cb, void *arg);
int store_config_rollback(struct store *st, const char *iccid, uint32_t version,
    struct store_config *out);
/* The ETag of a body and version: "\"<version>-<8 hex of SHA-256>\"". */
void store_config_etag(uint32_t version, const uint8_t *body, size_t len,
    char out[STORE_ETAG_SIZE]);

/* ---- telemetry (store_telemetry.c) ---- */

int store_telemetry_add(struct store *st, const char *iccid, const char *device_id,
    const uint8_t *body, size_t len, int64_t *id);
typedef int (*store_telemetry_cb)(const struct store_telemetry *t, void *arg);
/* Newest first, ids below before (0: from the newest). */
int store_telemetry_list(struct store *st, const char *iccid, int64_t before, int limit,
    store_telemetry_cb cb, void *arg);
/* Retention: as store_event_prune, for records whose received_at is older than before. */
int store_telemetry_prune(struct store *st, int64_t before, int limit, int *deleted);

/* ---- device records (store_device.c) ---- */

/* Device records: created once with fresh credentials, then returned as they are. */
int store_device_get_or_create(struct store *st, const char *iccid, const char *device_id,
    struct store_device *out);

/* ---- events (store_event.c) ---- */

/* Events: iccid and peer may be NULL. */
int store_event_add(struct store *st, const char *kind, const char *iccid, const char *peer,
    const char *detail);
/* An event of a device with its owner: owner, device, iccid, peer may be NULL. */
int store_event_add_dev(struct store *st, const char *kind, const char *owner,
    const char *device, const char *iccid, const char *peer, const char *detail);
typedef int (*store_event_cb)(const struct store_event *ev, void *arg);
/* Oldest first: time >= since (ms) and id > after. */
int store_event_list(struct store *st, int64_t since, int64_t after, int limit,
    store_event_cb cb, void *arg);
/* store_event_list of the events whose owner is owner (NULL: all events). */
int store_event_list_owner(struct store *st, const char *owner, int64_t since, int64_t after,
    int limit, store_event_cb cb, void *arg);
/*
 * Write n rows (inserts and updates, struct store_event_row) in one
 * transaction: all or none. On success the inserted rows' ids are set; on
 * failure nothing changed and the ids that were set mean nothing.
 */
int store_event_batch(struct store *st, struct store_event_row *rows, size_t n);
/*
 * Retention: delete at most limit events whose time is older than before
 * (ms), oldest first, in one statement; *deleted says how many went (fewer
 * than limit: none older is left).
 */
int store_event_prune(struct store *st, int64_t before, int limit, int *deleted);

/* ---- admin API keys (store_apikey.c) ---- */

/* The first key of a data directory: an all-owners key named "admin". */
int store_apikey_create(struct store *st, const char *key_id, const char *secret);
/* 0 if key_id exists, is not revoked and secret is its secret, else ZTP_EAUTH. */
int store_apikey_verify(struct store *st, const char *key_id, const char *secret);
/* 1 if key_id exists (revoked or not). */
int store_apikey_exists(struct store *st, const char *key_id);
/* Keys, revoked ones included. */
int store_apikey_count(struct store *st, int *count);

/* ---- owners and owner-scoped API keys (store_owner.c, store_apikey.c) ---- */

/*
 * An owner (a tenant) is a name (STORE_OWNER_MAX, above); profiles,
 * modules, campaigns and events carry it. An API key acts for all owners
 * (owner "": the operator) or for one; a revoked key is refused at once.
 * Key names follow the rules of owner names.
 */
#define STORE_APIKEY_NAME_MAX 64

struct store_owner {
	char name[STORE_OWNER_MAX + 1];
	int64_t created_at;        /* ms */
	int64_t keys;              /* its API keys in force (not revoked) */
	int64_t profiles, modules; /* its device profiles and modules */
};

struct store_apikey {
	char key_id[STORE_KEYID_SIZE];
	char name[STORE_APIKEY_NAME_MAX + 1]; /* "" for a key made before names */
	char owner[STORE_OWNER_MAX + 1];      /* "" acts for all owners */
	int64_t created_at;                   /* ms */
	int64_t revoked_at;                   /* ms, 0: in force */
};

/* 1 if name is 1..STORE_OWNER_MAX of A-Z a-z 0-9 - . _ (owners and key names). */
int store_owner_valid(const char *name);
/* ZTP_EINVAL (not a name), ZTP_EEXIST. */
int store_owner_create(struct store *st, const char *name);
/* ZTP_ENOENT if there is none. */
int store_owner_get(struct store *st, const char *name, struct store_owner *out);
typedef int (*store_owner_cb)(const struct store_owner *o, void *arg);
/* At most limit owners whose names sort after after ("": from the first), in order. */
int store_owner_list(struct store *st, const char *after, int limit, store_owner_cb cb,
    void *arg);

/*
 * A key acting for owner ("" or NULL: all owners), with its secret hashed
 * (salted HMAC, as store_apikey_create). ZTP_EINVAL if key_id is not 1 to
 * STORE_KEYID_SIZE - 1 characters or name not a name; ZTP_ENOENT if owner
 * does not exist; ZTP_EEXIST if key_id does.
 */
int store_apikey_create_scoped(struct store *st, const char *key_id, const char *secret,
    const char *name, const char *owner);
/*
 * store_apikey_verify, and the key's owner into owner ("" for all owners).
 * ZTP_EAUTH for an unknown or revoked key or a wrong secret.
 */
int store_apikey_verify_scope(struct store *st, const char *key_id, const char *secret,
    char owner[STORE_OWNER_MAX + 1]);
/*
 * Whom a key in force acts for (a token's key, at every request): 0 and
 * its owner ("" for all owners); ZTP_ENOENT if there is no such key,
 * ZTP_EAUTH if it is revoked.
 */
int store_apikey_scope(struct store *st, const char *key_id, char owner[STORE_OWNER_MAX + 1]);
/* ZTP_ENOENT if there is none. Never the secret's hash. */
int store_apikey_get(struct store *st, const char *key_id, struct store_apikey *out);
typedef int (*store_apikey_cb)(const struct store_apikey *k, void *arg);
/* At most limit keys (revoked ones too) whose ids sort after after ("": from the first). */
int store_apikey_list(struct store *st, const char *after, int limit, store_apikey_cb cb,
    void *arg);
/*
 * Revoke key_id at now (ms): from then on it gets no token and its tokens
 * are refused. ZTP_ENOENT: no such key; ZTP_EEXIST: revoked already;
 * ZTP_ECONFLICT: it is the last all-owners key in force (nobody could
 * manage owners and keys any more). Nothing changes on an error.
 */
int store_apikey_revoke(struct store *st, const char *key_id, int64_t now);

/* ---- the module security service (docs/protocol/security-service.md) ---- */

#define STORE_ROT_HEX 32      /* a RoT UID: 32 lower-case hex digits */
#define STORE_PROFILE_UID 32  /* a DeviceProfileUID: 32 lower-case hex digits */
#define STORE_MODKEY_LEN 32   /* factory secret, operational keys */
#define STORE_MODKEY_HISTORY 8 /* retired operational keys kept per RoT, to recognise clones */
#define STORE_SERIAL_TEXT_MAX 64
#define STORE_FIRMWARE_MAX 32
#define STORE_BATCH_MAX 64

/* A module as the store has it (never its keys). */
struct store_mod {
	char rot_uid[STORE_ROT_HEX + 1];
	int factory_retired;        /* bootstrapped: the factory secret is never accepted again */
	uint32_t epoch;             /* the current key's epoch; 0: the factory secret */
	uint32_t pending_epoch;     /* 0: no pending key */
	uint32_t pending_features;  /* what the pending key's exchange delivered */
	int64_t pending_at;         /* ms */
	char profile_uid[STORE_PROFILE_UID + 1]; /* as the module reported it; "" none */
	char serial[STORE_SERIAL_TEXT_MAX + 1];
	char owner[STORE_OWNER_MAX + 1];         /* "" none */
	char firmware[STORE_FIRMWARE_MAX + 1];
	uint32_t features;          /* what the device should have */
	uint32_t features_applied;  /* what the device confirmed */
	int quarantined;
	int64_t quarantined_at;     /* ms */
	char quarantine_reason[128];
	int64_t clones;             /* clone contacts seen */
	int64_t bootstrapped_at, claimed_at, last_heartbeat_at; /* ms, 0: never */
	int64_t heartbeats, boots;
	char batch[STORE_BATCH_MAX + 1];
	int64_t created_at, updated_at;
	uint32_t sid;      /* the service id in PSK and E2E key identities (issue 14) */
	uint64_t e2e_down; /* the last downstream E2E counter used */
};

/* What a key of a RoT is to the server (store_module_key). */
enum store_modkey_kind {
	STORE_MODKEY_FACTORY = 1, /* the factory secret, not retired */
	STORE_MODKEY_CURRENT,     /* the current operational key */
	STORE_MODKEY_PENDING,     /* the pending key */
	STORE_MODKEY_RETIRED,     /* the retired factory secret or an earlier epoch: a clone */
};

int store_module_get(struct store *st, const char *rot, struct store_mod *out);
/* ---- the services (issue 14; ztp/rotsvc.h) ---- */
/* S(e) of rot's epoch (32 bytes, wipe it). ZTP_ENOENT if the epoch was never committed. */
int store_module_svc(struct store *st, const char *rot, uint32_t epoch, uint8_t svc[32]);
/* The module whose service id is sid. ZTP_ENOENT if none. */
int store_module_by_sid(struct store *st, uint32_t sid, struct store_mod *out);
/* Take the next downstream E2E counter of rot (*counter), with its current epoch. */
int store_module_down_next(struct store *st, const char *rot, int64_t now, uint64_t *counter,
    uint32_t *epoch);
/* One module with its factory secret (sealed), as a maker's batch has it. ZTP_EEXIST if known. */
int store_module_add(struct store *st, const char *rot, const uint8_t *factory, const char *batch,
    int64_t now);

/* ---- store_module.c: the device side of the protocol ---- */

/*
 * The key of rot's epoch into key (STORE_MODKEY_LEN bytes) and what it is
 * (*kind). ZTP_ENOENT if the store does not keep that key.
 */
int store_module_key(struct store *st, const char *rot, uint32_t epoch, uint8_t *key,
    enum store_modkey_kind *kind);

/*
 * Keep key as rot's pending key of epoch pending_epoch (replacing any
 * other pending key), with the features its answer delivers. Only if
 * rot's current epoch is still cur_epoch and, for a bootstrap (cur_epoch
 * 0), the factory secret is not retired: else ZTP_ECONFLICT. ZTP_EAUTH
 * if rot is quarantined.
 */
int store_module_pending_set(struct store *st, const char *rot, uint32_t cur_epoch,
    uint32_t pending_epoch, const uint8_t *key, uint32_t features, int64_t now);

/* What a commit did (store_module_commit). */
struct store_module_commit_out {
	int bootstrapped; /* the factory secret was retired by this commit */
	int claimed;      /* the module was assigned to an owner by this commit */
	char owner[STORE_OWNER_MAX + 1];
};

/*
 * Commit rot's pending key of epoch if it is key (constant-time compare):
 * it becomes current, the old current key joins the history (the oldest
 * beyond STORE_MODKEY_HISTORY go), the factory secret is retired, the
 * pending features are applied (and the campaign rows they satisfy), and
 * heartbeat (1 for a heartbeat's key) counts it, with the time it was
 * answered (pending_at) as last_heartbeat_at. A module without an owner whose reported profile is known is
 * assigned to the profile's owner. ZTP_ECONFLICT if the pending key is
 * not that one (nothing changes).
 */
int store_module_commit(struct store *st, const char *rot, uint32_t epoch, const uint8_t *key,
    int heartbeat, int64_t now, struct store_module_commit_out *out);

/*
 * What a module reported (m: profile, serial, firmware, counters; each if
 * present): the profile and serial are kept the first time they come
 * (they are sealed in the module); a module without an owner whose
 * profile is known is assigned to the profile's owner (*claimed 1, owner
 * in out). Its features: a bootstrap takes the profile's.
 */
struct modmsg;
int store_module_report(struct store *st, const char *rot, const struct modmsg *m, int64_t now,
    struct store_module_commit_out *out);

/*
 * The policy of profile uid: its owner, the features it gives at bootstrap
 * and its heartbeat intervals (seconds). ZTP_ENOENT if there is none.
 */
int store_module_profile(struct store *st, const char *uid, char owner[STORE_OWNER_MAX + 1],
    uint32_t *features, uint32_t *hb_interval, uint32_t *hb_min);

/*
 * Quarantine rot (reason: text), count a clone contact when clone is 1;
 * pending campaign rows of rot become failed.
 */
int store_module_quarantine(struct store *st, const char *rot, int clone, const char *reason,
    int64_t now);

/* ---- store_profile.c: profiles, module import, the operator's side of modules, campaigns ---- */

#define STORE_PROFILE_NAME_MAX 64          /* 1..64 of A-Z a-z 0-9 - . _ */
#define STORE_HB_INTERVAL_DEFAULT 604800   /* s: a week */
#define STORE_HB_MIN_DEFAULT 300           /* s: five minutes */
#define STORE_HB_INTERVAL_MAX 315360000    /* s: ten years, within the u32 of the wire */

/* A device profile: what an owner seals into its modules (a DeviceProfileUID). */
struct store_profile {
	char uid[STORE_PROFILE_UID + 1];
	char name[STORE_PROFILE_NAME_MAX + 1];
	char owner[STORE_OWNER_MAX + 1];
	uint32_t features;        /* given to each module that bootstraps with it */
	int64_t hb_interval_s;    /* 1..STORE_HB_INTERVAL_MAX */
	int64_t hb_min_interval_s; /* 1..hb_interval_s */
	int64_t created_at;       /* ms */
	int64_t modules;          /* modules that reported it (read only) */
};

/* what store_profile_update changes */
#define STORE_PROFILE_SET_FEATURES 0x1u
#define STORE_PROFILE_SET_HB 0x2u
#define STORE_PROFILE_SET_HB_MIN 0x4u

/* 1 if name is a profile's name, an owner's: 1..64 of A-Z a-z 0-9 - . _ */
int store_profile_name_valid(const char *name);
int store_profile_owner_valid(const char *owner);
/*
 * Create p (its name, owner, features, intervals; an interval of 0 takes
 * its default): p->uid gets a fresh DeviceProfileUID (16 random bytes in
 * lower-case hex) and p->created_at the time. ZTP_EINVAL for a bad value
 * (minimum interval 1..interval), ZTP_ENOENT if the owner does not exist,
 * ZTP_EEXIST if the owner has a profile of that name.
 */
int store_profile_create(struct store *st, struct store_profile *p);
int store_profile_get(struct store *st, const char *uid, struct store_profile *out);
/* Every profile of owner (NULL or "": of every owner), by owner and name. */
typedef int (*store_profile_cb)(const struct store_profile *p, void *arg);
int store_profile_list(struct store *st, const char *owner, store_profile_cb cb, void *arg);
/*
 * Change what set says of uid's profile (STORE_PROFILE_SET_*) to p's
 * values, in one transaction that checks the result as create does; out
 * (may be NULL) gets the profile as it is now. Only modules that
 * bootstrap afterwards take the new features (the doc's section 7).
 * ZTP_ENOENT, ZTP_EINVAL.
 */
int store_profile_update(struct store *st, const char *uid, const struct store_profile *p,
    unsigned set, struct store_profile *out);

/* One row of a module maker's batch file (ztpctl module import). */
struct store_mod_import_row {
	char rot_uid[STORE_ROT_HEX + 1];
	uint8_t secret[STORE_MODKEY_LEN]; /* the factory secret: wipe it */
	char batch[STORE_BATCH_MAX + 1];  /* "" for none */
	char invalid[96]; /* not "": the row was malformed, refused with this reason */
};

/*
 * Import n modules in one transaction (all or none on a store error): a
 * new RoT UID is added with its factory secret sealed at rest ("module",
 * rot_uid, "factory"); one on record with the same factory secret is
 * unchanged (its batch label stays the first one); one with another
 * secret, or malformed, is refused with its index. ZTP_ETOOBIG over
 * STORE_IMPORT_BATCH_MAX rows.
 */
int store_module_import(struct store *st, const struct store_mod_import_row *rows, size_t n,
    struct store_import_result *res);

/* Which modules store_module_list shows; "" or NULL: any. */
struct store_mod_filter {
	const char *owner;
	const char *profile;
	int quarantined; /* 1: only those in quarantine */
};
/* Up to limit modules of f, by RoT UID after the given one ("" from the start). */
typedef int (*store_mod_cb)(const struct store_mod *m, void *arg);
int store_module_list(struct store *st, const struct store_mod_filter *f, const char *after,
    int limit, store_mod_cb cb, void *arg);
/*
 * The operator's change of owner: rot gets owner (and claimed_at now).
 * With profile (one of owner's; NULL or "": none) the device joins that
 * profile: its policy, and its features, which reach the device at its
 * next heartbeat; without, its features stay. ZTP_ENOENT: no such module;
 * ZTP_ECONFLICT: not bootstrapped; ZTP_EINVAL: no such owner, or a
 * profile that is not the owner's.
 */
int store_module_transfer(struct store *st, const char *rot, const char *owner,
    const char *profile, int64_t now);
/* Lift rot's quarantine. ZTP_ENOENT; ZTP_ECONFLICT if it is not in quarantine. */
int store_module_release(struct store *st, const char *rot, int64_t now);
/*
 * rot's features become (features | enable) & ~disable, delivered at its
 * next heartbeat; *features (may be NULL) gets them. ZTP_EINVAL if enable
 * and disable share a bit or name an unknown one, ZTP_ENOENT, ZTP_ECONFLICT
 * if it is not bootstrapped (a bootstrap gives it its profile's).
 */
int store_module_set_features(struct store *st, const char *rot, uint32_t enable,
    uint32_t disable, int64_t now, uint32_t *features);

/* Campaigns: one change of features over many devices. */
enum store_campaign_state {
	STORE_CAMPAIGN_PENDING = 0,
	STORE_CAMPAIGN_APPLIED = 1, /* a heartbeat's confirmation committed it */
	STORE_CAMPAIGN_FAILED = 2,  /* the device went into quarantine first */
};

struct store_campaign {
	int64_t id;
	char owner[STORE_OWNER_MAX + 1];             /* "" none (every owner's devices) */
	char profile_uid[STORE_PROFILE_UID + 1];     /* "" for a list of devices */
	uint32_t enable, disable;
	char created_by[64];                         /* the API key's id */
	int64_t created_at;                          /* ms */
	int64_t devices, pending, applied, failed;   /* read only */
};

struct store_campaign_dev {
	char rot_uid[STORE_ROT_HEX + 1];
	int state; /* enum store_campaign_state */
	int64_t created_at, updated_at;
};

#define STORE_CAMPAIGN_DEVICES_MAX STORE_IMPORT_BATCH_MAX /* RoT UIDs of one list */

/*
 * Create campaign c (owner, profile_uid or rots[0..nrots), enable,
 * disable, created_by) in one transaction: every device that matches
 * (the profile's or one of rots; of c->owner unless it is ""; bootstrapped,
 * not in quarantine) gets features (features | enable) & ~disable and a
 * pending row. c->id, c->created_at and c->devices are set. ZTP_EINVAL for
 * bad values (both or neither of a profile and rots, enable and disable
 * sharing a bit), ZTP_ENOENT if the profile does not exist or is another
 * owner's.
 */
int store_campaign_create(struct store *st, struct store_campaign *c, const char *const *rots,
    size_t nrots, int64_t now);
int store_campaign_get(struct store *st, int64_t id, struct store_campaign *out);
/* Campaigns of owner (NULL or "": all) by id, up to limit after the id given (0: first). */
typedef int (*store_campaign_cb)(const struct store_campaign *c, void *arg);
int store_campaign_list(struct store *st, const char *owner, int64_t after, int limit,
    store_campaign_cb cb, void *arg);
/* Up to limit devices of campaign id by RoT UID, after the one given ("" from the start). */
typedef int (*store_campaign_dev_cb)(const struct store_campaign_dev *d, void *arg);
int store_campaign_devices(struct store *st, int64_t id, const char *after, int limit,
    store_campaign_dev_cb cb, void *arg);


/* ---- store_profile.c ends ---- */

/* ---- store_ztpca.c: ZTP certificates (issue 14, docs/security-service.md) ---- */

#define STORE_ZTPCA_CERT_MAX 2048  /* a CA certificate a module can hold (DER) */
#define STORE_ZTPCA_KEY_MAX 3101   /* the signer's wrapped key (SIGNER_ZTPCA_KEY_MAX) */
#define STORE_ZTPCA_DAYS_MAX 7300
#define STORE_ZTPBUNDLE_MAX 4608   /* a module's bundle (ZTP_CERT_BUNDLE_MAX) */

/*
 * An owner's ZTP CA: its certificate and its private key as the signer
 * wrapped it (the front cannot open it, signer_msg.h ZTPCA_*). Names are
 * an owner's: 1..64 of A-Z a-z 0-9 - . _ (store_profile_name_valid).
 */
struct store_ztpca {
	char owner[STORE_OWNER_MAX + 1];
	char name[STORE_PROFILE_NAME_MAX + 1];
	uint8_t cert[STORE_ZTPCA_CERT_MAX];
	size_t cert_len;
	uint8_t key[STORE_ZTPCA_KEY_MAX];
	size_t key_len;
	uint32_t device_days;          /* validity of the device certificates it issues */
	int imported;                  /* 0: made by the signer */
	int64_t not_before, not_after; /* Unix seconds, the certificate's */
	int64_t created_at;            /* ms */
};

/*
 * Add ca. ZTP_EINVAL for a bad name, size or days, ZTP_ENOENT if the
 * owner does not exist, ZTP_EEXIST if it has a CA of that name.
 */
int store_ztpca_add(struct store *st, const struct store_ztpca *ca);
/* owner's CA name into *out. ZTP_ENOENT if there is none. */
int store_ztpca_get(struct store *st, const char *owner, const char *name,
    struct store_ztpca *out);
/* The CAs of owner (NULL or "": of every owner), by owner and name. */
typedef int (*store_ztpca_cb)(const struct store_ztpca *ca, void *arg);
int store_ztpca_list(struct store *st, const char *owner, store_ztpca_cb cb, void *arg);
/*
 * The CA that the modules of profile uid get (name NULL or "": none),
 * one of the profile's owner. ZTP_ENOENT: no such profile; ZTP_EINVAL:
 * its owner has no CA name.
 */
int store_ztpca_set_profile(struct store *st, const char *uid, const char *name, int64_t now);
/*
 * The CA of one module (name NULL or "": none: its profile's, if any),
 * one of the module's owner. ZTP_ENOENT: no such module; ZTP_ECONFLICT:
 * the module has no owner; ZTP_EINVAL: its owner has no CA name.
 */
int store_ztpca_set_module(struct store *st, const char *rot, const char *name, int64_t now);
/* The CA named for profile uid, or for module rot, into name ("" if none). */
int store_ztpca_of_profile(struct store *st, const char *uid, char name[STORE_PROFILE_NAME_MAX + 1]);
int store_ztpca_of_module(struct store *st, const char *rot, char name[STORE_PROFILE_NAME_MAX + 1]);
/*
 * The CA of a module of owner that reported profile (may be ""): its own,
 * else its profile's if that profile is owner's. ZTP_ENOENT if there is
 * none, or the CA named is not (or no longer) owner's.
 */
int store_ztpca_for_module(struct store *st, const char *rot, const char *owner,
    const char *profile, struct store_ztpca *out);

/* A module's bundle as the store has it (store_ztpbundle_get). */
struct store_ztpbundle {
	char rot_uid[STORE_ROT_HEX + 1];
	char owner[STORE_OWNER_MAX + 1];
	char ca[STORE_PROFILE_NAME_MAX + 1]; /* the CA that issued it */
	uint8_t cert_sha256[32];             /* of the device certificate's DER */
	char serial[2 * 20 + 1];             /* upper-case hex, as STORE_SERIAL_HEX */
	int64_t not_after;                   /* Unix seconds */
	int64_t issued_at, delivered_at;     /* ms; delivered_at 0: not confirmed yet */
};

/*
 * Keep bundle[0..len) as rot's (replacing any), sealed with ("ztpbundle",
 * rot, "<owner>/<ca>") as associated data, not delivered yet.
 */
int store_ztpbundle_put(struct store *st, const struct store_ztpbundle *b, const uint8_t *bundle,
    size_t len);
/*
 * rot's bundle: its record into *out and, if bundle is not NULL, the
 * bundle opened into bundle (cap bytes, *len). ZTP_ENOENT if none;
 * ZTP_EAUTH if it does not open.
 */
int store_ztpbundle_get(struct store *st, const char *rot, struct store_ztpbundle *out,
    uint8_t *bundle, size_t cap, size_t *len);
/*
 * The module confirmed that it holds the bundle whose device certificate
 * has the SHA-256 sha: delivered now. ZTP_ENOENT: no bundle; ZTP_ECONFLICT:
 * not that certificate (compared in constant time).
 */
int store_ztpbundle_delivered(struct store *st, const char *rot, const uint8_t sha[32],
    int64_t now);

/* ---- SIM groups (store_group.c) ---- */

/*
 * SIM groups. A derived group holds a master key (STORE_MASTER_LEN bytes,
 * sealed; never returned but to derive): a SIM whose ICCID starts with the
 * group's prefix needs no stored PSK.
 */
int store_group_name_valid(const char *name);
int store_group_create(struct store *st, const struct store_group *g, const uint8_t *master);
int store_group_get(struct store *st, const char *name, struct store_group *out);
typedef int (*store_group_cb)(const struct store_group *g, void *arg);
int store_group_list(struct store *st, store_group_cb cb, void *arg);
/* Set a group's upstream (proxy mode); ZTP_ENOENT if there is no such group. */
int store_group_set_upstream(struct store *st, const char *name, const struct store_upstream *u);
/* The derived group with the longest prefix of iccid, and its master key. ZTP_ENOENT if none. */
int store_group_derived_for(struct store *st, const char *iccid, char group[STORE_GROUP_SIZE],
    uint8_t master[STORE_MASTER_LEN]);

/* ---- certificates: allowlist, enrolment passwords, manufacturer CAs, devices, certificates
 * (store_est.c) ---- */

#define STORE_UDID_MAX 64                      /* characters */
#define STORE_SERIAL_HEX (2 * 20 + 1)          /* upper-case hex of the bytes, as openssl prints */
#define STORE_PASSWORD_MAX 128
#define STORE_MFR_PEM_MAX 16384
#define STORE_SUBJECT_MAX 256

/* How a device may prove who it is to get its first certificate (per group). */
#define STORE_EST_ALLOWLIST 0x1    /* UDID and public key imported in advance */
#define STORE_EST_PASSWORD 0x2     /* one-time enrolment password, HTTP Basic */
#define STORE_EST_MANUFACTURER 0x4 /* TLS client certificate from a manufacturer CA */
#define STORE_EST_ALL 0x7

/*
 * A UDID: 1..STORE_UDID_MAX characters of A-Z a-z 0-9 and - . : _ (so it
 * fits a PrintableString serialNumber and a URL segment as it is).
 */
int store_udid_valid(const char *udid);

struct store_allow {
	char udid[STORE_UDID_MAX + 1];
	uint8_t key_sha256[32]; /* SHA-256 of the DER SubjectPublicKeyInfo */
	char group[STORE_GROUP_SIZE]; /* "" for none */
	char iccid[ICCID_STR_SIZE];   /* "" for none: the device's SIM, blocked with it */
	int64_t created_at;           /* ms */
};

/* Add an entry: 0 if added or the same exists; ZTP_EEXIST if the UDID has
 * another entry; ZTP_ENOENT if the group does not exist; ZTP_EINVAL. */
int store_allow_add(struct store *st, const struct store_allow *a);
int store_allow_get(struct store *st, const char *udid, struct store_allow *out);
int store_allow_delete(struct store *st, const char *udid);
typedef int (*store_allow_cb)(const struct store_allow *a, void *arg);
int store_allow_list(struct store *st, const char *after, int limit, store_allow_cb cb, void *arg);
/* Up to STORE_IMPORT_BATCH_MAX entries in one transaction; rows with invalid[0] != 0 are
 * refused with that reason. res->refused[].index is into rows. Idempotent. */
struct store_allow_row {
	struct store_allow a;
	char invalid[96];
};
int store_allow_import(struct store *st, const struct store_allow_row *rows, size_t n,
    struct store_import_result *res);

/*
 * One-time enrolment passwords: the password is stored as a salted HMAC,
 * usable once, until expires_at (ms). store_password_check() finds the
 * newest unused, unexpired password of udid that matches (constant time;
 * among the udid's 16 newest passwords: older ones no longer open):
 * 0 and *id, ZTP_EAUTH (none matches), ZTP_EEXPIRED (it matches but has
 * expired), ZTP_ECONFLICT (it matches but was used).
 */
struct store_password {
	int64_t id;
	char udid[STORE_UDID_MAX + 1];
	char group[STORE_GROUP_SIZE];
	int64_t created_at, expires_at, used_at; /* ms; used_at 0 if unused */
};
int store_password_create(struct store *st, const char *udid, const char *group,
    const char *password, int64_t expires_at, struct store_password *out);
int store_password_check(struct store *st, const char *udid, const char *password,
    struct store_password *out);

/* Manufacturer CAs: IDevID issuers whose client certificates may enrol. */
struct store_mfr_ca {
	char name[STORE_GROUP_SIZE]; /* as a group name */
	char pem[STORE_MFR_PEM_MAX]; /* one certificate */
	uint8_t sha256[32];          /* of its DER */
	char group[STORE_GROUP_SIZE];
	int64_t created_at;
};
int store_mfr_ca_add(struct store *st, const struct store_mfr_ca *ca);
int store_mfr_ca_delete(struct store *st, const char *name);
typedef int (*store_mfr_ca_cb)(const struct store_mfr_ca *ca, void *arg);
int store_mfr_ca_list(struct store *st, store_mfr_ca_cb cb, void *arg);
/* Bumped by every add and delete: workers rebuild their trust store when it moves. */
int store_mfr_ca_generation(struct store *st, int64_t *gen);

/* Devices that hold (or held) certificates: the "things". */
struct store_thing {
	char udid[STORE_UDID_MAX + 1];
	char group[STORE_GROUP_SIZE];
	char iccid[ICCID_STR_SIZE];
	int blocked;
	int64_t created_at, updated_at;
	int64_t certs;                 /* read only: certificates issued */
	char serial[STORE_SERIAL_HEX]; /* read only: the newest certificate, "" if none */
};
int store_thing_get(struct store *st, const char *udid, struct store_thing *out);
typedef int (*store_thing_cb)(const struct store_thing *t, void *arg);
int store_thing_list(struct store *st, const char *after, int limit, store_thing_cb cb, void *arg);
/*
 * Block a device: in one transaction the device is marked blocked (created
 * from its allowlist entry if it has no record yet), every certificate of it
 * not yet revoked is revoked with reason (a SIGNER_REASON_*), and its SIM
 * (the allowlist's or the record's ICCID, and every SIM bound to Device ID
 * udid) is blocked, if it was not blocked already. Unblock lifts the
 * device's block and that of the SIMs its block blocked (not one the
 * operator blocked apart, nor one unblocked and blocked again since);
 * revoked certificates stay revoked. ZTP_ENOENT if the UDID is unknown.
 * *revoked: how many certificates were revoked (may be NULL).
 */
int store_thing_block(struct store *st, const char *udid, int reason, int *revoked);
int store_thing_unblock(struct store *st, const char *udid);

/* Issued certificates. */
struct store_cert {
	char serial[STORE_SERIAL_HEX];
	char udid[STORE_UDID_MAX + 1];
	char subject[STORE_SUBJECT_MAX]; /* one line, as X509_NAME_oneline: /CN=../serialNumber=.. */
	uint8_t key_sha256[32];
	int64_t not_before, not_after; /* Unix seconds */
	int64_t issued_at;             /* ms */
	char method[16];               /* allowlist, password, manufacturer, mfr+password, reenroll, serverkeygen */
	int64_t revoked_at;            /* Unix seconds, 0 if not revoked */
	int reason;                    /* SIGNER_REASON_* when revoked */
	/* store_cert_record: a re-enrolment's current certificate, which must
	 * still be on record and not revoked when this one is recorded ("": none) */
	char renews[STORE_SERIAL_HEX];
	/* store_cert_record: at most this many certificates of udid issued within
	 * STORE_CERT_WINDOW_MS, this one included (0: no limit) */
	int per_window_max;
};
/*
 * Record an issued certificate, in one transaction with what it consumes:
 * the password password_id (0: none) is marked used (ZTP_ECONFLICT if it was
 * used meanwhile, and nothing is recorded), the device record of c->udid is
 * created or updated (group; iccid from the allowlist entry, if any), and c
 * is inserted. The certificate may be handed out only after this returned 0.
 * ZTP_EAUTH if the device is blocked or c->renews is revoked (or unknown);
 * ZTP_EBUSY if c->per_window_max certificates of c->udid were issued within
 * the window already (others recorded meanwhile: the transaction is
 * IMMEDIATE, so concurrent recorders, in any process, are counted in turn).
 */
int store_cert_record(struct store *st, const struct store_cert *c, const char *group,
    int64_t password_id);
int store_cert_get(struct store *st, const char *serial, struct store_cert *out);
typedef int (*store_cert_cb)(const struct store_cert *c, void *arg);
/* udid NULL or "": all; ordered by serial, after the given one. */
int store_cert_list(struct store *st, const char *udid, const char *after, int limit,
    store_cert_cb cb, void *arg);
/*
 * The per-device issuance limit's window (--est-certs-per-hour): a
 * certificate counts while its issued_at is less than this old.
 */
#define STORE_CERT_WINDOW_MS (3600 * 1000LL)
/*
 * How many certificates of udid were issued after since (ms, issued_at >
 * since): *count. With max > 0 and *count >= max, *frees_at is the
 * issued_at of the certificate whose leaving the window brings the count
 * under max (the oldest one when *count == max), else 0: once since
 * reaches it, one more may be issued. Read from the index certs_udid
 * (udid, issued_at) only. 0, ZTP_EINVAL or ZTP_ESTORE.
 */
int store_cert_count_since(struct store *st, const char *udid, int64_t since, int max,
    int64_t *count, int64_t *frees_at);
/* Revoke: ZTP_ENOENT, or ZTP_EEXIST if it was revoked already. */
int store_cert_revoke(struct store *st, const char *serial, int reason);
/* 1 if serial is revoked (*reason set), 0 if not or unknown, <0 on error. */
int store_cert_is_revoked(struct store *st, const char *serial, int *reason);
/* Revoked certificates that have not expired at now (Unix s), by serial. */
int store_cert_revoked_list(struct store *st, int64_t now, store_cert_cb cb, void *arg);

/*
 * The published CRL. revocations: a counter bumped by every revocation;
 * a CRL signed when it had value R is stale once it moves past R.
 */
struct store_crl {
	uint64_t number;
	int64_t this_update, next_update; /* Unix seconds */
	int64_t revocations;              /* the counter when it was signed */
	uint8_t *der;                     /* malloc'd: free() */
	size_t der_len;
};
int store_crl_get(struct store *st, struct store_crl *out); /* ZTP_ENOENT if none yet */
int store_crl_revocations(struct store *st, int64_t *revocations);
/* Take the next CRL number (starts at 1). */
int store_crl_next_number(struct store *st, uint64_t *number);
/* Publish crl if its number is above the stored one's (else 0, unchanged). */
int store_crl_put(struct store *st, const struct store_crl *crl);

/* ---- foreign PKIs and the certificates seen from them (store_pki.c) ---- */

/*
 * A foreign PKI (docs/pki-crl.md): a CA whose certificates devices present
 * (manufacturers' IDevIDs, a customer's LDevIDs), whose CRL ztpd fetches
 * from crl_url every interval_s seconds; the devices whose certificates it
 * lists are blocked. Names follow the rules of owner names.
 */
#define STORE_PKI_NAME_MAX 64
#define STORE_PKI_CA_MAX 16384 /* the DER of its CA certificate */
#define STORE_PKI_URL_MAX 512 /* as a proxy upstream (proxy_url_parse) */
#define STORE_PKI_INTERVAL_MIN 60
#define STORE_PKI_INTERVAL_MAX (30 * 86400)
#define STORE_PKI_INTERVAL_DEFAULT 3600
#define STORE_PKI_RETRY_S 300 /* after a failed attempt: tried again this soon (or its interval) */
#define STORE_PKI_CRLNUM_HEX (2 * 20 + 1) /* a crlNumber: up to 20 octets, upper-case hex */
#define STORE_ISSUER_HEX (64 + 1)         /* lower-case hex SHA-256 of an issuer's DER Name */
#define STORE_CERT_KIND_MAX 16            /* "idevid", "ldevid": 1..16 of a-z 0-9 - */

struct store_pki {
	char name[STORE_PKI_NAME_MAX + 1];
	uint8_t ca[STORE_PKI_CA_MAX]; /* DER */
	size_t ca_len;
	char crl_url[STORE_PKI_URL_MAX + 1];
	int64_t interval_s;
	int64_t created_at;             /* ms */
	/* the last fetch (read only: store_pki_fetch_*, store_pki_accept) */
	int64_t last_fetch_at;          /* ms of the last attempt, 0: never */
	int64_t last_ok_at;             /* ms of the last CRL accepted, 0: never */
	char last_error[STORE_DETAIL_MAX]; /* "" if the last attempt was accepted (or none) */
	char crl_number[STORE_PKI_CRLNUM_HEX]; /* of the last CRL accepted, "" if none or it had none */
	int64_t crl_this_update;        /* Unix seconds, of the last CRL accepted; 0: none */
	int64_t revoked;                /* entries of the last CRL accepted */
};

/* 1 if name is a PKI's name: 1..STORE_PKI_NAME_MAX of A-Z a-z 0-9 - . _ */
int store_pki_name_valid(const char *name);
/*
 * Add p (name, ca, crl_url, interval_s, created_at; the rest is ignored).
 * ZTP_EINVAL (a value out of its bounds), ZTP_EEXIST (the name is taken).
 */
int store_pki_add(struct store *st, const struct store_pki *p);
/* ZTP_ENOENT if there is none. out is large (the CA): allocate it. */
int store_pki_get(struct store *st, const char *name, struct store_pki *out);
typedef int (*store_pki_cb)(const struct store_pki *p, void *arg);
/* Every PKI, by name. A callback's non-zero answer stops the list (negative: returned). */
int store_pki_list(struct store *st, store_pki_cb cb, void *arg);
/* Delete the PKI (the certificates seen stay: they are by issuer). ZTP_ENOENT. */
int store_pki_delete(struct store *st, const char *name);
/*
 * When p's next fetch is due (ms): its last attempt plus interval_s, or
 * plus STORE_PKI_RETRY_S if that attempt failed (last_error) and the
 * interval is longer; 0 if it was never fetched (due now).
 */
int64_t store_pki_due_at(const struct store_pki *p);
/*
 * A fetch of name's CRL begins at now (ms): last_fetch_at = now. Unless
 * force, only if it is due at now (store_pki_due_at): *claimed 1 if this
 * call took it, 0 if it is not due (another connection, or another ztpd on
 * the database, took it meanwhile). ZTP_ENOENT if there is no such PKI.
 */
int store_pki_fetch_begin(struct store *st, const char *name, int64_t now, int force,
    int *claimed);
/* The fetch begun last failed with error (cut to STORE_DETAIL_MAX): last_error. ZTP_ENOENT. */
int store_pki_fetch_failed(struct store *st, const char *name, const char *error);
/*
 * Accept a verified CRL of name fetched at now: crl_number (upper-case
 * hex, "" if the CRL has none), this_update (Unix s), revoked (its
 * entries). In one transaction with the check that it is not older than
 * the last one accepted: ZTP_ECONFLICT (nothing changed; why says how) if
 * its number is below the last one's, or it has none where the last one
 * had one, or its thisUpdate is before the last one's. The same CRL again
 * is accepted. ZTP_ENOENT, ZTP_EINVAL.
 */
int store_pki_accept(struct store *st, const char *name, int64_t now, const char *crl_number,
    int64_t this_update, int64_t revoked, char *why, size_t cap);

/* A certificate seen from a foreign PKI, by its issuer's name and serial. */
struct store_foreign_cert {
	char issuer[STORE_ISSUER_HEX];
	char serial[STORE_SERIAL_HEX];
	char udid[STORE_UDID_MAX + 1];
	char kind[STORE_CERT_KIND_MAX + 1];
	int64_t seen_at;    /* ms, the last time */
	int64_t blocked_at; /* ms a CRL sync acted on it (store_foreign_cert_mark), 0: never */
};

/* 1 if s is a certificate kind: 1..STORE_CERT_KIND_MAX of a-z 0-9 - */
int store_cert_kind_valid(const char *s);
/*
 * The certificate (issuer: 64 lower-case hex digits; serial: upper-case
 * hex, as the store keeps serials) was seen at now (ms), presented by
 * udid as a kind: inserted, or its udid, kind and seen_at updated (its
 * blocked_at stays). ZTP_EINVAL if a value is not of its form.
 */
int store_foreign_cert_seen(struct store *st, const char *issuer, const char *serial,
    const char *udid, const char *kind, int64_t now);
/* ZTP_ENOENT if it was never seen. */
int store_foreign_cert_get(struct store *st, const char *issuer, const char *serial,
    struct store_foreign_cert *out);
typedef int (*store_foreign_cert_cb)(const struct store_foreign_cert *fc, void *arg);
/*
 * The certificates of issuer seen whose serial is one of serials[0..n)
 * (upper-case hex; any n, looked up STORE_FOREIGN_CHUNK at a time), in no
 * set order. A serial that is not of the store's form matches nothing.
 * A callback's non-zero answer stops the lookup (negative: returned). The
 * callback must not call the store: collect, then act.
 */
#define STORE_FOREIGN_CHUNK 64
int store_foreign_cert_listed(struct store *st, const char *issuer, const char *const *serials,
    size_t n, store_foreign_cert_cb cb, void *arg);
/*
 * at > 0: a CRL sync acts on the certificate at at (ms): its blocked_at is
 * set if it was 0, in one statement (ZTP_EEXIST: it was set: another sync
 * acted on it); at 0: forget that (the sync could not act after all).
 * ZTP_ENOENT if it was never seen.
 */
int store_foreign_cert_mark(struct store *st, const char *issuer, const char *serial, int64_t at);


/* ---- copying a store into another: ztpd migrate (store_copy.c) ---- */

#define STORE_COPY_BATCH 1000 /* rows per transaction on the target */

/* Where store_copy is, told after each batch of a table and at its end. */
struct store_copy_progress {
	const char *table;
	int64_t rows;  /* rows of the table read from the source so far */
	int64_t added; /* of those, rows the target did not have (the others: --resume) */
	int64_t total; /* rows of the table in the source */
	int64_t ms;    /* since the table began */
	int done;      /* the table is copied (and its ids continue after the copied ones) */
};
/* A negative ZTP_E... answer stops the copy; store_copy returns it. */
typedef int (*store_copy_progress_cb)(const struct store_copy_progress *p, void *arg);

/*
 * Copy every row of from into to, table by table (groups before the tables
 * that refer to them), in transactions of batch rows on to (0:
 * STORE_COPY_BATCH), with INSERT ... ON CONFLICT DO NOTHING so that a
 * copy run again after an interruption (resume) adds what is missing; the counters and the CRL are set from the source. The schema
 * version (ztp_schema, user_version) is not copied: each store is at its
 * own driver's newest. Sealed values are copied as they are: they are
 * bound to their row and to the data directory's key, not to the
 * database, so neither store's key is used. Then to's generated ids
 * continue after the copied ones, and each table's row count is compared
 * on both sides.
 *
 * from is held in a writing transaction for the whole copy (no writer
 * changes it meanwhile; nothing is written to it). Refuses: a store not at
 * its driver's newest schema, or one whose schema is not the one this
 * copy was written for (ZTP_ECONFLICT); without resume, a target that
 * holds any row but the counters' initial ones (ZTP_EEXIST). ZTP_ECONFLICT
 * if the counts differ at the end (each differing table is logged). No
 * value is logged, only tables, counts and database errors.
 */
int store_copy(struct store *from, struct store *to, int resume, int batch,
    store_copy_progress_cb cb, void *arg);

/* ---- store_gateway.c: gateways onboarding over MQTT (issue 15, docs/gateways.md) ---- */

#define STORE_GW_NAME_MAX 64       /* a batch's name: 1..64 of A-Z a-z 0-9 - . _ */
#define STORE_GW_PEM_MAX 16384     /* an LDevID or IDevID chain (PEM) */
#define STORE_GW_BUNDLE_MAX 65536  /* a bundle as published (JSON) */
#define STORE_GW_CONFIG_MAX 32768  /* a gateway group's configuration (JSON) */
#define STORE_GW_REASON_MAX 200
#define STORE_GW_FIRMWARE_MAX 64
#define STORE_GW_ID_HEX 32         /* a request's nonce, a bundle's id: lower-case hex */
#define STORE_GW_ARGS_MAX 8192     /* a command's arguments (JSON) */
#define STORE_GW_RESULT_MAX 8192   /* a command's result (JSON) */

/* A gateway's state (the column gateways.state). */
enum store_gw_state {
	STORE_GW_PENDING = 0,  /* its request waits for the operator */
	STORE_GW_APPROVED = 1, /* approved: its bundle is to be made */
	STORE_GW_BUNDLED = 2,  /* its bundle is made (and sent once bundle_sent_at is set) */
	STORE_GW_ONLINE = 3,   /* it reported from the operational listener */
	STORE_GW_REJECTED = 4, /* the operator said no */
	STORE_GW_REFUSED = 5,  /* its request did not verify */
};
/* Its broker account (gateways.mqtt_state). */
enum store_gw_mqtt { STORE_GW_MQTT_NONE = 0, STORE_GW_MQTT_ACTIVE = 1, STORE_GW_MQTT_CUT = 2 };
/* A command's state. */
enum store_gw_cmd_state {
	STORE_GW_CMD_QUEUED = 0,
	STORE_GW_CMD_SENT = 1,
	STORE_GW_CMD_DONE = 2,  /* the gateway answered ok */
	STORE_GW_CMD_FAILED = 3, /* the gateway answered an error */
};

const char *store_gw_state_name(int state);
int store_gw_name_valid(const char *name);

/*
 * A batch: its name, owner ("" none) and password (kept as a salted
 * HMAC). ZTP_EEXIST if the name is taken, ZTP_EINVAL for a bad name.
 */
int store_gw_batch_create(struct store *st, const char *name, const char *owner,
    const char *password, int64_t now);
/* 0 if password is the batch's (its owner into owner), ZTP_ENOENT, ZTP_EAUTH. */
int store_gw_batch_check(struct store *st, const char *name, const char *password,
    char owner[STORE_OWNER_MAX + 1]);
struct store_gw_batch {
	char name[STORE_GW_NAME_MAX + 1];
	char owner[STORE_OWNER_MAX + 1];
	int64_t created_at;
	int64_t gateways; /* how many gateways came with it */
};
typedef int (*store_gw_batch_cb)(const struct store_gw_batch *b, void *arg);
int store_gw_batch_list(struct store *st, store_gw_batch_cb cb, void *arg);

/* The operator expects udid: approved at once when it asks, into group. */
int store_gw_expect(struct store *st, const char *udid, const char *group, int64_t now);

/* A gateway group: its configuration (JSON object text) and whether re-onboarding is automatic. */
struct store_gw_group {
	char name[STORE_GROUP_SIZE];
	char config[STORE_GW_CONFIG_MAX + 1];
	int auto_reonboard;
	int64_t updated_at;
};
int store_gw_group_set(struct store *st, const char *name, const char *config,
    int auto_reonboard, int64_t now);
/* ZTP_ENOENT if the group has no gateway settings (config "{}", not automatic). */
int store_gw_group_get(struct store *st, const char *name, struct store_gw_group *out);

struct store_gateway {
	char udid[STORE_UDID_MAX + 1];
	char owner[STORE_OWNER_MAX + 1];
	char batch[STORE_GW_NAME_MAX + 1];
	int state; /* enum store_gw_state */
	char group[STORE_GROUP_SIZE];
	char firmware[STORE_GW_FIRMWARE_MAX + 1];
	char request_id[STORE_GW_ID_HEX + 1];
	int64_t requests; /* requests received */
	int64_t requested_at, decided_at, bundle_sent_at, updated_at; /* ms */
	char reason[STORE_GW_REASON_MAX + 1];
	char bundle_id[STORE_GW_ID_HEX + 1];
	int mqtt_state; /* enum store_gw_mqtt */
	char serial[STORE_SERIAL_HEX];
	int64_t cmd_counter;
};

/* A verified provisioning request (gwmqtt.c checked it). */
struct store_gw_request {
	const char *udid, *batch, *owner, *firmware, *nonce;
	const char *ldevid, *idevid; /* PEM */
};
/*
 * Record a verified request, in one transaction: a new gateway is
 * approved at once if it is expected (into the expectation's group), else
 * pending; a pending one stays pending; an approved or bundled one keeps
 * its decision (a bundled one is marked to be sent again: the same
 * bundle); a rejected one stays rejected (its answer is sent again); an
 * online one or one whose broker account was cut asks again: approved at
 * once if its group re-onboards automatically, else pending; a refused one
 * starts again as a new one. *out: the row after.
 */
int store_gw_request(struct store *st, const struct store_gw_request *r, int64_t now,
    struct store_gateway *out);
/*
 * A request that did not verify: recorded (state refused, reason) for a
 * gateway not yet approved; an approved or online one keeps its state.
 * *recorded: 1 if the row now says refused.
 */
int store_gw_refuse(struct store *st, const char *udid, const char *batch, const char *reason,
    int64_t now, int *recorded);
int store_gw_get(struct store *st, const char *udid, struct store_gateway *out);
/* The LDevID (which 1) or IDevID (0) chain of udid's last request into out (cap), NUL-ended. */
int store_gw_get_pem(struct store *st, const char *udid, int ldevid, char *out, size_t cap);
typedef int (*store_gw_cb)(const struct store_gateway *g, void *arg);
/* Gateways in UDID order after after ("" from the start), state -1: any. */
int store_gw_list(struct store *st, int state, const char *after, int limit, store_gw_cb cb,
    void *arg);
/*
 * The operator's decision: approve (group NULL keeps the row's) a pending,
 * rejected or cut one; reject (reason) a pending or approved one.
 * ZTP_ENOENT, ZTP_ECONFLICT (not in a state that allows it).
 */
int store_gw_approve(struct store *st, const char *udid, const char *group, int64_t now);
int store_gw_reject(struct store *st, const char *udid, const char *reason, int64_t now);
/*
 * Work for the MQTT client: gateways approved (a bundle to make) or whose
 * answer is to be sent (bundled, rejected or refused, bundle_sent_at 0).
 */
int store_gw_work(struct store *st, int limit, store_gw_cb cb, void *arg);
/*
 * The bundle of an approved gateway, sealed at rest: state bundled,
 * broker account active, to be sent. ZTP_ECONFLICT if it is no longer approved.
 */
int store_gw_bundle_put(struct store *st, const char *udid, const char *bundle_id,
    const uint8_t *bundle, size_t len, int64_t now);
/* Its bundle, opened, into out (cap bytes). */
int store_gw_bundle_get(struct store *st, const char *udid, uint8_t *out, size_t cap,
    size_t *len);
/* The answer (bundle or refusal) of udid was published. */
int store_gw_answer_sent(struct store *st, const char *udid, int64_t now);
/* It reported online with the certificate serial (upper-case hex) and firmware. */
int store_gw_online(struct store *st, const char *udid, const char *serial,
    const char *firmware, int64_t now);
/*
 * Gateways whose broker account is active but must go: the device is
 * blocked, or the certificate it reported is revoked.
 */
int store_gw_to_cut(struct store *st, int limit, store_gw_cb cb, void *arg);
int store_gw_set_mqtt(struct store *st, const char *udid, int mqtt_state, int64_t now);

/* Commands. */
struct store_gw_cmd {
	char udid[STORE_UDID_MAX + 1];
	int64_t id;
	char name[32];
	char args[STORE_GW_ARGS_MAX + 1];
	int state; /* enum store_gw_cmd_state */
	char result[STORE_GW_RESULT_MAX + 1];
	int64_t created_at, sent_at, done_at;
};
/* Queue a command for udid: its id (the gateway's counter + 1) into *id. ZTP_ENOENT. */
int store_gw_cmd_add(struct store *st, const char *udid, const char *name, const char *args,
    int64_t now, int64_t *id);
int store_gw_cmd_get(struct store *st, const char *udid, int64_t id, struct store_gw_cmd *out);
typedef int (*store_gw_cmd_cb)(const struct store_gw_cmd *c, void *arg);
/* Queued commands of gateways whose broker account is active, oldest first. */
int store_gw_cmd_queued(struct store *st, int limit, store_gw_cmd_cb cb, void *arg);
int store_gw_cmd_sent(struct store *st, const char *udid, int64_t id, int64_t now);
/* The first result of a sent command; ZTP_ECONFLICT if it has one already (or was not sent). */
int store_gw_cmd_result(struct store *st, const char *udid, int64_t id, int ok,
    const char *result, int64_t now);

/*
 * A command's secret (rotate-mqtt: the new broker password), sealed at
 * rest in the command's row until the broker has it; "" clears it.
 */
int store_gw_cmd_secret_put(struct store *st, const char *udid, int64_t id, const char *secret);
int store_gw_cmd_secret_get(struct store *st, const char *udid, int64_t id, char *out, size_t cap);
/* rotate-mqtt commands the gateway acknowledged whose password the broker does not have yet. */
int store_gw_rotations(struct store *st, int limit, store_gw_cmd_cb cb, void *arg);

/* The key that signs commands, as the signer wrapped it (name "commands"). */
int store_gw_key_get(struct store *st, const char *name, uint8_t *cert, size_t *cert_len,
    uint8_t *key, size_t *key_len);
/* Keep it unless one is kept already (another node was first): then that one is read back. */
int store_gw_key_put(struct store *st, const char *name, const uint8_t *cert, size_t cert_len,
    const uint8_t *key, size_t key_len, int64_t now);

#endif
