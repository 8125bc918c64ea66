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

#include "store.h"
#include "token.h"

#define ADMINREQ_BODY_MAX 65536
#define ADMINREQ_IMPORT_MAX (2 * 1024 * 1024)
#define ADMINREQ_SECRET_MAX 128

/* {"key_id": "...", "secret": "..."} */
int adminreq_token(const uint8_t *buf, size_t len, char key_id[TOKEN_KEYID_MAX + 1],
    char secret[ADMINREQ_SECRET_MAX + 1], char *why, size_t cap);

/* {"iccid": "digits", "psk": "hex, 16..64 bytes", "group": "name" (optional)} */
int adminreq_sim_create(const uint8_t *buf, size_t len, struct store_import_row *out, char *why,
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
 *  "allow_psk_ke"?, "rotation_period_s"?}; *have_master says if a key came.
 */
int adminreq_group_create(const uint8_t *buf, size_t len, struct store_group *g,
    uint8_t master[STORE_MASTER_LEN], int *have_master, char *why, size_t cap);

/* {"body": "text"}: ZTP_ETOOBIG if over STORE_CONFIG_MAX bytes. */
int adminreq_config_set(const uint8_t *buf, size_t len, uint8_t body[STORE_CONFIG_MAX],
    size_t *bodylen, char *why, size_t cap);

/* {"version": N}, N >= 1 */
int adminreq_rollback(const uint8_t *buf, size_t len, uint32_t *version, char *why, size_t cap);

#endif
