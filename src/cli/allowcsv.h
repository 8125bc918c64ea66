/* SPDX-License-Identifier: Apache-2.0 */
/*
 * allowcsv: one line of a factory's allowlist file, as ztpctl allowlist
 * import reads it (docs/certificates.md).
 *
 *   udid,key[,group[,iccid]]
 *
 * UDID: 1 to 64 of [A-Za-z0-9-.:_] (the server's rule). Key: either 64 hex
 * digits, either case, the SHA-256 of the device key's DER
 * SubjectPublicKeyInfo; or that SubjectPublicKeyInfo itself in base64
 * (standard alphabet, padded, in one piece), which must be exactly one
 * public key that OpenSSL can load, and is hashed here. Either way the row
 * holds the SHA-256 in lower-case hex. Group: 1 to 63 of [A-Za-z0-9_.-],
 * or empty for none. ICCID: 18 to 20 digits (an empty fourth field is
 * refused). No quotes, no NUL, no spaces or tabs around a field.
 *
 * A line is at most ALLOWCSV_LINE_MAX bytes without its line end ("\n" or
 * "\r\n"; a trailing CR is stripped), a byte order mark included. Blank
 * lines (spaces and tabs only) and comments (a '#' after optional blanks)
 * are skipped. Until the first line that is not skipped (the caller keeps
 * track: may_be_header), a UTF-8 byte order mark is stripped and a header
 * is skipped: a line whose first field is "udid" in any case and whose
 * second is no key (e.g. "udid,key,group,iccid").
 *
 * The bytes come from outside (a factory's file): the parser reads only
 * line[0..len), keeps no state and allocates only inside OpenSSL, for the
 * base64 key's decoding, freed before it returns.
 */
#ifndef ZTP_ALLOWCSV_H
#define ZTP_ALLOWCSV_H
#include <stddef.h>

#include "simcsv.h"
#include "ztp/iccid.h"

#define ALLOWCSV_LINE_MAX 2048
#define ALLOWCSV_UDID_MAX 64 /* characters */
#define ALLOWCSV_UDID_SIZE (ALLOWCSV_UDID_MAX + 1)
#define ALLOWCSV_KEY_HEX_SIZE 65 /* a SHA-256 in hex, NUL-terminated */
#define ALLOWCSV_GROUP_MAX SIMCSV_GROUP_MAX
#define ALLOWCSV_GROUP_SIZE SIMCSV_GROUP_SIZE

/* allowcsv_parse's answer for a line with nothing to import */
#define ALLOWCSV_SKIP 1

/* why a line is refused; allowcsv_reason() says it in words */
enum allowcsv_reason {
	ALLOWCSV_OK = 0,
	ALLOWCSV_TOO_LONG,
	ALLOWCSV_NUL,
	ALLOWCSV_QUOTES,
	ALLOWCSV_TOO_MANY_FIELDS,
	ALLOWCSV_ONE_FIELD,
	ALLOWCSV_SPACE,
	ALLOWCSV_BAD_UDID,
	ALLOWCSV_BAD_KEY,
	ALLOWCSV_BAD_GROUP,
	ALLOWCSV_BAD_ICCID,
	ALLOWCSV_NREASONS
};

/* one row of the file; the strings are NUL-terminated */
struct allowcsv_row {
	char udid[ALLOWCSV_UDID_SIZE];
	char key[ALLOWCSV_KEY_HEX_SIZE]; /* the SHA-256 in lower-case hex */
	char group[ALLOWCSV_GROUP_SIZE]; /* "" when the line names none */
	char iccid[ICCID_STR_SIZE];      /* "" when the line names none */
};

/*
 * Parse one line: line[0..len), with or without its line end.
 * may_be_header is non-zero while every line before was skipped (only
 * then may the line carry a byte order mark or be the header).
 *
 * Returns 0 with the row in *row, ALLOWCSV_SKIP for a blank line, a
 * comment or the header, or ZTP_EMALFORMED with the reason in *why. *row
 * is written only when 0 is returned, *why only when ZTP_EMALFORMED is.
 * OpenSSL's error queue is left as it was.
 */
int allowcsv_parse(const char *line, size_t len, int may_be_header, struct allowcsv_row *row,
    enum allowcsv_reason *why);

/* A static English sentence for a reason (never the line's contents). */
const char *allowcsv_reason(enum allowcsv_reason why);

/* 1 if s[0..len) is a UDID: 1 to 64 of [A-Za-z0-9-.:_], else 0. */
int allowcsv_udid_valid(const char *s, size_t len);

#endif
