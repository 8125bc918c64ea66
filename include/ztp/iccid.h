/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ICCIDs and PSK identities (spec safe2.md section 5).
 *
 * An ICCID is 18 to 20 decimal digits. On the SIM it is stored as EF_ICCID:
 * 10 bytes of BCD with swapped nibbles and F filler at the end
 * (8944502509186389635 is 98 44 05 52 90 81 36 98 36 F5).
 *
 * A PSK identity is either those 10 EF_ICCID bytes or the ICCID in ASCII
 * digits, optionally followed by "." and a key generation in decimal.
 * Portable C, no allocation.
 */
#ifndef ZTP_ICCID_H
#define ZTP_ICCID_H
#include <stddef.h>
#include <stdint.h>

#define ICCID_MIN_DIGITS 18
#define ICCID_MAX_DIGITS 20
#define ICCID_EF_LEN 10
#define ICCID_STR_SIZE (ICCID_MAX_DIGITS + 1)
/* longest identity: 20 digits, '.', 10 digits of generation */
#define ICCID_IDENTITY_MAX (ICCID_MAX_DIGITS + 1 + 10)

struct iccid_identity {
	char iccid[ICCID_STR_SIZE]; /* ASCII digits, NUL-terminated */
	uint32_t generation;        /* 0 when has_generation is 0 */
	int has_generation;
	int bcd; /* 1 if the identity was sent as EF_ICCID bytes */
};

/* 1 if s[0..len) is an ICCID in digits (18..20 of them), else 0. */
int iccid_valid(const char *s, size_t len);

/*
 * Decode 10 EF_ICCID bytes into digits (out: ICCID_STR_SIZE bytes).
 * Filler F nibbles are only allowed at the end. Returns 0 or ZTP_EMALFORMED.
 */
int iccid_from_ef(const uint8_t ef[ICCID_EF_LEN], char *out);

/* Encode an ICCID in digits as EF_ICCID. Returns 0 or ZTP_EMALFORMED. */
int iccid_to_ef(const char *iccid, uint8_t ef[ICCID_EF_LEN]);

/*
 * Decode EF_ICCID written as 20 hex characters (either case), as in the
 * iccid= query parameter. Returns 0 or ZTP_EMALFORMED.
 */
int iccid_from_ef_hex(const char *hex, size_t len, char *out);

/*
 * Parse a PSK identity as received in a TLS 1.3 ClientHello: exactly 10
 * EF_ICCID bytes, or 18..20 ASCII digits, either optionally followed by
 * ".<generation>" (decimal, no leading zero, fits 32 bits). Any other
 * form is ZTP_EMALFORMED; *out is only written on success.
 */
int iccid_parse_identity(const uint8_t *id, size_t len, struct iccid_identity *out);

#endif
