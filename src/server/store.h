/*
 * The store: SIMs, configurations, telemetry, device records, events and
 * admin API keys. One interface; store_sqlite.c is the embedded default.
 *
 * A struct store is one connection: use it from one thread. Every change is
 * one transaction; a refused change leaves the store as it was. Secrets (PSKs,
 * device passwords) are sealed with the data directory's key before they
 * reach the database; API secrets are stored as salted HMACs.
 */
#ifndef ZTP_STORE_H
#define ZTP_STORE_H
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "ztp/iccid.h"

#define STORE_SCHEMA_VERSION 3
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

struct store_group {
	char name[STORE_GROUP_SIZE];
	char iccid_prefix[ICCID_STR_SIZE]; /* "" matches every ICCID */
	int derive;
	int allow_psk_ke;
	int64_t rotation_period_s; /* 0: no periodic rotation */
	int64_t created_at;
	int64_t sims; /* SIMs in the group (read only) */
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
};

/*
 * Open (creating if needed) the database at path, in WAL mode, and bring
 * its schema to STORE_SCHEMA_VERSION. key seals secrets; it is copied.
 * *out is owned by the caller: store_close() it.
 */
int store_open(struct store **out, const char *path, const uint8_t key[CRYPTO_KEY_LEN]);
void store_close(struct store *st);
/* The schema version the database is at. */
int store_schema_version(struct store *st);

/* SIMs. ZTP_EEXIST, ZTP_ENOENT as the names say. group: NULL or "" for none. */
int store_sim_create(struct store *st, const char *iccid, const uint8_t *psk, size_t psklen,
    const char *group);
int store_sim_get(struct store *st, const char *iccid, struct store_sim *out);
/* The PSK of generation gen into psk (STORE_PSK_MAX bytes). ZTP_ENOENT if none. */
int store_sim_psk(struct store *st, const char *iccid, uint32_t gen, uint8_t *psk, size_t *psklen);
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

/* Telemetry. */
int store_telemetry_add(struct store *st, const char *iccid, const char *device_id,
    const uint8_t *body, size_t len, int64_t *id);
typedef int (*store_telemetry_cb)(const struct store_telemetry *t, void *arg);
/* Newest first, ids below before (0: from the newest). */
int store_telemetry_list(struct store *st, const char *iccid, int64_t before, int limit,
    store_telemetry_cb cb, void *arg);

/* Device records: created once with fresh credentials, then returned as they are. */
int store_device_get_or_create(struct store *st, const char *iccid, const char *device_id,
    struct store_device *out);

/* Events: iccid and peer may be NULL. */
int store_event_add(struct store *st, const char *kind, const char *iccid, const char *peer,
    const char *detail);
typedef int (*store_event_cb)(const struct store_event *ev, void *arg);
/* Oldest first: time >= since (ms) and id > after. */
int store_event_list(struct store *st, int64_t since, int64_t after, int limit,
    store_event_cb cb, void *arg);

/* Admin API keys. */
int store_apikey_create(struct store *st, const char *key_id, const char *secret);
/* 0 if key_id exists and secret is its secret, else ZTP_EAUTH. */
int store_apikey_verify(struct store *st, const char *key_id, const char *secret);
int store_apikey_exists(struct store *st, const char *key_id);
int store_apikey_count(struct store *st, int *count);

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
/* The derived group with the longest prefix of iccid, and its master key. ZTP_ENOENT if none. */
int store_group_derived_for(struct store *st, const char *iccid, char group[STORE_GROUP_SIZE],
    uint8_t master[STORE_MASTER_LEN]);
/* Register a SIM of a derived group after its first successful handshake. */
int store_sim_register_derived(struct store *st, const char *iccid, const char *group);

/*
 * Import up to STORE_IMPORT_BATCH_MAX SIMs in one transaction. A row whose
 * SIM exists with the same PSK and group is unchanged; with another, it is
 * refused; a malformed row is refused; the others are added. Idempotent.
 * res is large: allocate it.
 */
int store_sim_import(struct store *st, const struct store_import_row *rows, size_t n,
    struct store_import_result *res);

#endif
