/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admin bearer tokens: "ztp1.<key id>.<expiry, Unix seconds>.<HMAC hex>",
 * the HMAC-SHA256 under a key derived from the data directory's key of
 * everything before the last dot. Stateless; the key id is checked against
 * the store on use, so deleting a key ends its tokens.
 */
#ifndef ZTP_TOKEN_H
#define ZTP_TOKEN_H
#include <stddef.h>
#include <stdint.h>

#define TOKEN_MAX 128
#define TOKEN_KEYID_MAX 31

/* 1 if key_id is 1..31 characters of [A-Za-z0-9_-]. */
int token_keyid_valid(const char *key_id, size_t len);

/* Write a token for key_id expiring at expires (Unix s) into out (TOKEN_MAX). */
int token_issue(const uint8_t key[32], const char *key_id, int64_t expires, char *out,
    size_t cap);

/*
 * Check a token at time now (Unix s). On success key_id (TOKEN_KEYID_MAX+1
 * bytes) and *expires are set. ZTP_EMALFORMED, ZTP_EAUTH (bad MAC) or
 * ZTP_EEXPIRED.
 */
int token_verify(const uint8_t key[32], const char *token, size_t len, int64_t now,
    char *key_id, int64_t *expires);

#endif
