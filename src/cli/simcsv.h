/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simcsv: one line of a SIM maker's batch file, as ztpctl sim import reads
 * it (docs/psk-sources.md).
 *
 *   iccid,psk_hex[,group]
 *
 * ICCID: 18 to 20 digits. PSK: 32 to 128 hex digits (16 to 64 bytes),
 * either case. Group: 1 to 63 of [A-Za-z0-9_.-]. No quotes, no spaces
 * around the fields. A trailing CR (CRLF files) is stripped; blank lines
 * are skipped, and so is a header "iccid,psk..." (any case) on the first
 * line, after an optional UTF-8 byte order mark. A line is at most
 * SIMCSV_LINE_MAX bytes without its line end.
 *
 * The bytes come from outside (a SIM maker's file): the parser reads only
 * line[0..len), allocates nothing and keeps no state.
 */
#ifndef ZTP_SIMCSV_H
#define ZTP_SIMCSV_H
#include <stddef.h>

#include "ztp/iccid.h"

#define SIMCSV_LINE_MAX 512
#define SIMCSV_PSK_MIN 16 /* bytes */
#define SIMCSV_PSK_MAX 64
#define SIMCSV_PSK_HEX_SIZE (2 * SIMCSV_PSK_MAX + 1)
#define SIMCSV_GROUP_MAX 63
#define SIMCSV_GROUP_SIZE (SIMCSV_GROUP_MAX + 1)

/* simcsv_parse's answer for a line with nothing to import */
#define SIMCSV_SKIP 1

/* why a line is refused; simcsv_reason() says it in words */
enum simcsv_reason {
	SIMCSV_OK = 0,
	SIMCSV_TOO_LONG,
	SIMCSV_QUOTES,
	SIMCSV_ONE_FIELD,
	SIMCSV_TOO_MANY_FIELDS,
	SIMCSV_SPACE,
	SIMCSV_BAD_ICCID,
	SIMCSV_PSK_NOT_HEX,
	SIMCSV_PSK_ODD,
	SIMCSV_PSK_SHORT,
	SIMCSV_PSK_LONG,
	SIMCSV_BAD_GROUP,
	SIMCSV_NREASONS
};

/* one row of the file; the strings are NUL-terminated */
struct simcsv_row {
	char iccid[ICCID_STR_SIZE];
	char psk_hex[SIMCSV_PSK_HEX_SIZE]; /* as in the file: a secret, wipe it after use */
	size_t psk_len;                    /* bytes: psk_hex holds 2 * psk_len digits */
	char group[SIMCSV_GROUP_SIZE];     /* "" when the line names none */
};

/*
 * Parse one line: line[0..len), with or without its line end ("\n" or
 * "\r\n"). first_line is non-zero for the file's first line (the only one
 * that may be a header).
 *
 * Returns 0 with the row in *row, SIMCSV_SKIP for a blank line or the
 * header, or ZTP_EMALFORMED with the reason in *why. *row is written only
 * when 0 is returned, *why only when ZTP_EMALFORMED is.
 */
int simcsv_parse(const char *line, size_t len, int first_line, struct simcsv_row *row,
    enum simcsv_reason *why);

/* A static English sentence for a reason (never the line's contents). */
const char *simcsv_reason(enum simcsv_reason why);

/* 1 if s[0..len) is a group name: 1 to 63 of [A-Za-z0-9_.-], else 0. */
int simcsv_group_valid(const char *s, size_t len);

/*
 * The length of line[0..len) without its line end: one trailing "\n", then
 * one trailing "\r", if there. 0 when line is NULL.
 */
size_t simcsv_chomp(const char *line, size_t len);

/*
 * The start of a line the import parsers share (simcsv_parse,
 * modcsv_parse), before the split: *linep[0..*lenp) without its line end
 * (simcsv_chomp), refused over max bytes (SIMCSV_TOO_LONG); on the first
 * line a UTF-8 byte order mark dropped and a header skipped that starts
 * with header (lower case, matched in any case); a line of only spaces and
 * tabs skipped, and with comments one whose first other byte is '#'; a
 * quote anywhere refused (SIMCSV_QUOTES).
 *
 * Returns 0 with *linep, *lenp what is left to split, SIMCSV_SKIP, or
 * ZTP_EMALFORMED with the reason in *why (written only then).
 */
int simcsv_line(const char **linep, size_t *lenp, size_t max, int first_line, const char *header,
    int comments, enum simcsv_reason *why);

/*
 * Split line[0..len) at its commas (no quoting): field[i], flen[i] get the
 * i-th field, pointing into line, and *nfields their number. Checked in
 * this order, before any field is used: at most max fields, at least 2,
 * and no space or tab at either end of a field. The shared splitter of
 * simcsv_parse and allowcsv_parse; field and flen hold max entries.
 *
 * Returns SIMCSV_OK, SIMCSV_TOO_MANY_FIELDS, SIMCSV_ONE_FIELD or
 * SIMCSV_SPACE; *nfields and the fields are meaningful only for SIMCSV_OK.
 */
enum simcsv_reason simcsv_split(const char *line, size_t len, const char **field, size_t *flen,
    size_t max, size_t *nfields);

#endif
