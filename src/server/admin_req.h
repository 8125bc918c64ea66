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
#define ADMINREQ_SECRET_MAX 128

/* {"key_id": "...", "secret": "..."} */
int adminreq_token(const uint8_t *buf, size_t len, char key_id[TOKEN_KEYID_MAX + 1],
    char secret[ADMINREQ_SECRET_MAX + 1], char *why, size_t cap);

/* {"iccid": "digits", "psk": "hex, 16..64 bytes"} */
int adminreq_sim_create(const uint8_t *buf, size_t len, char iccid[ICCID_STR_SIZE],
    uint8_t psk[STORE_PSK_MAX], size_t *psklen, char *why, size_t cap);

/* {"body": "text"}: ZTP_ETOOBIG if over STORE_CONFIG_MAX bytes. */
int adminreq_config_set(const uint8_t *buf, size_t len, uint8_t body[STORE_CONFIG_MAX],
    size_t *bodylen, char *why, size_t cap);

/* {"version": N}, N >= 1 */
int adminreq_rollback(const uint8_t *buf, size_t len, uint32_t *version, char *why, size_t cap);

#endif
