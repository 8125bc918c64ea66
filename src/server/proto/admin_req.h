/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsers of the admin API's JSON request bodies. Each takes the raw bytes
 * (at most ADMINREQ_BODY_MAX), requires a JSON object with exactly the
 * documented members (no duplicates, no others) and validates them. On
 * failure it returns a negative ZTP_E code and a reason in why (cap bytes);
 * outputs are only written on success.
 */
#ifndef ZTP_ADMIN_REQ_H
#define ZTP_ADMIN_REQ_H
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "store.h"
#include "token.h"

#define ADMINREQ_BODY_MAX 65536
#define ADMINREQ_IMPORT_MAX (2 * 1024 * 1024)
#define ADMINREQ_SECRET_MAX 128

/* {"key_id": "...", "secret": "..."} */
int adminreq_token(const uint8_t *buf, size_t len, char key_id[TOKEN_KEYID_MAX + 1],
    char secret[ADMINREQ_SECRET_MAX + 1], char *why, size_t cap);

/* A SIM to create: with its PSK, or a SIM of a derived group pre-registered. */
struct adminreq_sim {
	struct store_import_row row; /* row.psk_len is 0 and row.group "" when derived */
	int derived;
	char device_id[STORE_DEVID_HEX]; /* derived only: upper case, "" if absent */
};

/*
 * {"iccid": "digits", "psk": "hex, 16..64 bytes", "group": "name" (optional)},
 * or {"iccid": "digits", "derived": true, "device_id": "hex, 1..16 bytes"
 * (optional)}: with "derived" true neither "psk" nor "group" (the group is
 * the derived one the ICCID falls under); "device_id" only with it.
 */
int adminreq_sim_create(const uint8_t *buf, size_t len, struct adminreq_sim *out, char *why,
    size_t cap);

/*
 * {"rows": [{"iccid", "psk", "group"?}, ...]}, 1..STORE_IMPORT_BATCH_MAX rows,
 * at most ADMINREQ_IMPORT_MAX bytes, into rows (room for the maximum). A
 * row with the wrong members refuses the batch; a row with bad values gets
 * its reason in invalid, and the store refuses that row alone.
 */
int adminreq_import(const uint8_t *buf, size_t len, struct store_import_row *rows, size_t *n,
    char *why, size_t cap);

/*
 * {"name", "iccid_prefix"?, "derive"?, "master_key"? (hex, 32 bytes),
 *  "allow_psk_ke"?, "rotation_period_s"?, "est_auth"? (1 to 3 distinct of
 *  "allowlist", "password", "manufacturer"; default all), "cert_days"?
 *  (0..ADMINREQ_CERT_DAYS_MAX, 0 = the server's default), "reenroll_grace_s"?
 *  (-1..ADMINREQ_GRACE_MAX, -1 = the server's default)}; *have_master says
 *  if a key came.
 */
int adminreq_group_create(const uint8_t *buf, size_t len, struct store_group *g,
    uint8_t master[STORE_MASTER_LEN], int *have_master, char *why, size_t cap);

/*
 * PUT /v1/groups/NAME/upstream: {"upstream": URL | "off" | null,
 * "upstream_ca", "upstream_cert", "upstream_key": absolute paths or null}
 * (docs/proxy.md). Also members of a group's creation.
 */
int adminreq_group_upstream(const uint8_t *buf, size_t len, struct store_upstream *u,
    char *why, size_t cap);

/* {"body": "text"}: ZTP_ETOOBIG if over STORE_CONFIG_MAX bytes. */
int adminreq_config_set(const uint8_t *buf, size_t len, uint8_t body[STORE_CONFIG_MAX],
    size_t *bodylen, char *why, size_t cap);

/* {"version": N}, N >= 1 */
int adminreq_rollback(const uint8_t *buf, size_t len, uint32_t *version, char *why, size_t cap);

/* ---- certificates (EST) ---- */

#define ADMINREQ_PASSWORD_TTL_DEFAULT 86400       /* s */
#define ADMINREQ_PASSWORD_TTL_MIN 60
#define ADMINREQ_PASSWORD_TTL_MAX (30 * 86400)
#define ADMINREQ_CERT_DAYS_MAX 7300
#define ADMINREQ_GRACE_MAX (5LL * 365 * 86400)    /* reenroll_grace_s, s */
#define ADMINREQ_PEM_MAX 16384                    /* a "pubkey" member */

/*
 * A revocation reason by its RFC 5280 name ("keyCompromise") into *reason
 * (a SIGNER_REASON_*); ZTP_EMALFORMED if it is not one. The name of a
 * reason, or NULL for a value that has none.
 */
int adminreq_reason_parse(const char *name, size_t len, int *reason);
const char *adminreq_reason_name(int reason);

/*
 * The SHA-256 of the DER SubjectPublicKeyInfo of pem[0..len): exactly one
 * PEM block, a PUBLIC KEY, a CERTIFICATE or a CERTIFICATE REQUEST (a
 * private key is refused, and never quoted). At most ADMINREQ_PEM_MAX bytes.
 */
int adminreq_pubkey_sha256(const char *pem, size_t len, uint8_t out[32], char *why, size_t cap);

/*
 * {"udid", "pubkey" (PEM) | "key_sha256" (64 hex), "group"?, "iccid"?}:
 * exactly one of pubkey and key_sha256. out->created_at is 0.
 */
int adminreq_allow(const uint8_t *buf, size_t len, struct store_allow *out, char *why,
    size_t cap);

/*
 * {"entries": [{"udid", "key_sha256" | "pubkey", "group"?, "iccid"?}, ...]},
 * 1..STORE_IMPORT_BATCH_MAX entries, at most ADMINREQ_IMPORT_MAX bytes,
 * into rows (room for the maximum). An entry that is not an object, has an
 * unknown or a missing member, or both or neither key members refuses the
 * batch; an entry with a bad value gets its reason in invalid, and the
 * store refuses that entry alone.
 */
int adminreq_allow_import(const uint8_t *buf, size_t len, struct store_allow_row *rows,
    size_t *n, char *why, size_t cap);

/*
 * {"udid", "ttl_s"? (ADMINREQ_PASSWORD_TTL_MIN..MAX, default
 * ADMINREQ_PASSWORD_TTL_DEFAULT), "group"?}; group "" if absent.
 */
int adminreq_password(const uint8_t *buf, size_t len, char udid[STORE_UDID_MAX + 1],
    int64_t *ttl_s, char group[STORE_GROUP_SIZE], char *why, size_t cap);

/*
 * {"name", "pem", "group"?}: pem holds exactly one certificate (no other
 * PEM block) whose basicConstraints say CA:TRUE and whose keyUsage, if
 * any, allows keyCertSign. out gets the certificate re-encoded as PEM and
 * the SHA-256 of its DER; out->created_at is 0.
 */
int adminreq_mfr_ca(const uint8_t *buf, size_t len, struct store_mfr_ca *out, char *why,
    size_t cap);

/*
 * The CA certificate in pem[0..len) (the text of a member, named what in
 * reasons): exactly one PEM block, a CERTIFICATE (a private key is refused
 * and never quoted), valid DER with nothing after it, basicConstraints
 * CA:TRUE, keyCertSign if it has a keyUsage, a public key OpenSSL can use.
 * *out is the caller's to X509_free().
 */
int adminreq_ca_cert(const char *pem, size_t len, const char *what, X509 **out, char *why,
    size_t cap);

/*
 * {"reason"?: a revocation reason name}, or no body at all: *reason is
 * def when the member or the body is absent.
 */
int adminreq_reason(const uint8_t *buf, size_t len, int def, int *reason, char *why,
    size_t cap);

/* ---- owners and API keys ---- */

/* {"name"}: an owner's name (store_owner_valid). */
int adminreq_owner(const uint8_t *buf, size_t len, char name[STORE_OWNER_MAX + 1], char *why,
    size_t cap);

/*
 * {"name", "owner"} or {"name", "all_owners": true}: exactly one of the
 * two (and all_owners only true), name and owner as store_owner_valid
 * says; owner "" for all owners.
 */
int adminreq_apikey(const uint8_t *buf, size_t len, char name[STORE_APIKEY_NAME_MAX + 1],
    char owner[STORE_OWNER_MAX + 1], char *why, size_t cap);

#endif
