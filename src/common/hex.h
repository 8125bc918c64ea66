/* SPDX-License-Identifier: Apache-2.0 */
#ifndef ZTP_HEX_H
#define ZTP_HEX_H
#include <stddef.h>
#include <stdint.h>

/*
 * Encode len bytes as upper-case hex into out (cap bytes, NUL-terminated).
 * Returns 0, or ZTP_ERANGE if out is too small (2*len+1 needed).
 */
int hex_encode(const uint8_t *buf, size_t len, char *out, size_t cap);

/*
 * Decode exactly slen hex characters (either case) into out (cap bytes).
 * Odd length, a non-hex character or a too small out: negative ZTP_E code,
 * out untouched beyond what was written. *outlen gets the byte count.
 */
int hex_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *outlen);

/* 1 if s[0..slen) is non-empty, even-length hex, else 0. */
int hex_valid(const char *s, size_t slen);

#endif
