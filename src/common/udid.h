/* SPDX-License-Identifier: Apache-2.0 */
#ifndef ZTP_UDID_H
#define ZTP_UDID_H
#include <stddef.h>

/* the longest UDID, in characters (a UDID is ASCII) */
#define UDID_MAX 64

/*
 * 1 if s[0..len) is a UDID as the server stores it: 1 to UDID_MAX of
 * A-Z a-z 0-9 - . : _ (no NUL, no space), else 0. s may be NULL (0).
 * The one rule for the server, ztpctl and the fuzz oracles; the device's
 * csr_udid_valid() is narrower on purpose (no '_': see src/device/csr.c).
 */
int udid_valid(const char *s, size_t len);

#endif
