/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsers of the JSON request bodies of the module security service's
 * admin routes (profiles, module import, transfer, features, campaigns;
 * docs/admin-api.md "Device profiles, modules and campaigns"). As
 * admin_req.h's: the raw bytes, a JSON object with exactly the documented
 * members (no duplicates, no others), values checked; on failure a
 * negative ZTP_E code and a reason in why (cap bytes), and the outputs are
 * only written on success.
 *
 * Features are arrays of their names (modmsg_feature_name): "psk", "e2e",
 * "local-data", "c2c", "ztp-cert", "c2c-pairing", each at most once.
 */
#ifndef ZTP_ADMIN_MODREQ_H
#define ZTP_ADMIN_MODREQ_H
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define ADMIN_MODREQ_BODY_MAX 65536
#define ADMIN_MODREQ_E2E_DATA_MAX 4096 /* clear text of one downstream message (ZTP_E2E_DATA_MAX) */
#define ADMIN_MODREQ_IMPORT_MAX (2 * 1024 * 1024)

/*
 * POST /v1/profiles: {"name", "owner"?, "features"?, "heartbeat_interval_s"?,
 * "heartbeat_min_interval_s"?}. out gets name, owner ("" if absent),
 * features and the intervals (0 if absent: the defaults).
 */
int admin_modreq_profile_create(const uint8_t *buf, size_t len, struct store_profile *out,
    char *why, size_t cap);

/*
 * PUT /v1/profiles/UID: {"features"?, "heartbeat_interval_s"?,
 * "heartbeat_min_interval_s"?}, at least one; *set says which
 * (STORE_PROFILE_SET_*).
 */
int admin_modreq_profile_update(const uint8_t *buf, size_t len, struct store_profile *out,
    unsigned *set, char *why, size_t cap);

/*
 * POST /v1/modules/import: {"rows": [{"rot_uid", "factory_secret" (64 hex
 * digits), "batch"?}, ...]}, 1..STORE_IMPORT_BATCH_MAX rows, at most
 * ADMIN_MODREQ_IMPORT_MAX bytes, into rows (room for the maximum). A row
 * with other members refuses the batch; a row with a bad value gets its
 * reason in invalid, and the store refuses that row alone. The caller
 * wipes rows (they hold factory secrets).
 */
int admin_modreq_import(const uint8_t *buf, size_t len, struct store_mod_import_row *rows,
    size_t *n, char *why, size_t cap);

/*
 * POST /v1/modules/ROT/transfer: {"owner": name, "profile": uid (optional)};
 * profile is "" without one.
 */
int admin_modreq_transfer(const uint8_t *buf, size_t len, char owner[STORE_OWNER_MAX + 1],
    char profile[STORE_PROFILE_UID + 1],
    char *why, size_t cap);

/*
 * PUT /v1/modules/ROT/features: {"enable"?: [...], "disable"?: [...]}, at
 * least one feature in all, none in both.
 */
int admin_modreq_features(const uint8_t *buf, size_t len, uint32_t *enable, uint32_t *disable,
    char *why, size_t cap);

/*
 * POST /v1/campaigns: {"profile": UID | "devices": [RoT UID, ...],
 * "owner"?, "enable"?, "disable"?}: exactly one of profile and devices
 * (1..STORE_CAMPAIGN_DEVICES_MAX RoT UIDs, one named twice is in it once; at most
 * ADMIN_MODREQ_IMPORT_MAX bytes), at least one feature in all, none in
 * both. out gets owner ("" if absent), profile_uid ("" for devices),
 * enable and disable; rots (room for STORE_CAMPAIGN_DEVICES_MAX) and
 * *nrots the devices.
 */
int admin_modreq_campaign(const uint8_t *buf, size_t len, struct store_campaign *out,
    char (*rots)[STORE_ROT_HEX + 1], size_t *nrots, char *why, size_t cap);

/*
 * POST /v1/e2e/decryption-parameters: {"key_identity": hex}, the key
 * identity exactly (22 or 32 hex digits, either case; the first nibble
 * gives its length, ztp/rotsvc.h), into ki (room for 16) and *kilen.
 */
int admin_modreq_e2e_params(const uint8_t *buf, size_t len, uint8_t ki[16], size_t *kilen,
    char *why, size_t cap);

/*
 * POST /v1/devices/ROT/e2e/encrypt: {"data": base64}, 0..
 * ADMIN_MODREQ_E2E_DATA_MAX bytes once decoded, into data (room for the
 * maximum). The caller wipes data.
 */
int admin_modreq_e2e_encrypt(const uint8_t *buf, size_t len, uint8_t *data, size_t *datalen,
    char *why, size_t cap);

#endif
