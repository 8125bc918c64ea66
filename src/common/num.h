/* SPDX-License-Identifier: Apache-2.0 */
#ifndef ZTP_NUM_H
#define ZTP_NUM_H
#include <stddef.h>
#include <stdint.h>

/*
 * Parse the decimal number in s[0..len) into *out. The whole span must be
 * digits (no sign, no space, no leading zeros unless the number is "0") and
 * the value must lie in [min, max]. Returns 0, ZTP_EMALFORMED or ZTP_ERANGE.
 */
int num_parse_u64(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out);

/* The same for a NUL-terminated string. */
int num_parse_u64z(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
