/* SPDX-License-Identifier: Apache-2.0 */
/*
 * modcsv: one line of a module maker's batch file, as ztpctl module import
 * reads it (docs/security-service.md).
 *
 *   rot_uid,factory_secret_hex[,batch]
 *
 * RoT UID: 32 hex digits (16 bytes), either case, kept in lower case.
 * Factory secret: 64 hex digits (32 bytes), either case. Batch: a label of
 * 1 to 64 printable ASCII characters but ',', '"' and '\\'. No quotes, no
 * spaces around the fields. A trailing CR (CRLF files) is stripped; blank
 * lines and lines whose first non-blank character is '#' are skipped, and
 * so is a header "rot_uid,..." (any case) on the first line, after an
 * optional UTF-8 byte order mark. A line is at most MODCSV_LINE_MAX bytes
 * without its line end.
 *
 * The bytes come from outside (a module maker's file): the parser reads
 * only line[0..len), allocates nothing and keeps no state.
 */
#ifndef ZTP_MODCSV_H
#define ZTP_MODCSV_H
#include <stddef.h>

#define MODCSV_LINE_MAX 512
#define MODCSV_ROT_HEX 32
#define MODCSV_SECRET_HEX 64
#define MODCSV_BATCH_MAX 64

/* modcsv_parse's answer for a line with nothing to import */
#define MODCSV_SKIP 1

/* why a line is refused; modcsv_reason() says it in words */
enum modcsv_reason {
	MODCSV_OK = 0,
	MODCSV_TOO_LONG,
	MODCSV_QUOTES,
	MODCSV_ONE_FIELD,
	MODCSV_TOO_MANY_FIELDS,
	MODCSV_SPACE,
	MODCSV_BAD_ROT,
	MODCSV_SECRET_NOT_HEX,
	MODCSV_SECRET_LENGTH,
	MODCSV_BAD_BATCH,
	MODCSV_NREASONS
};

/* one row of the file; the strings are NUL-terminated */
struct modcsv_row {
	char rot_uid[MODCSV_ROT_HEX + 1];       /* lower case */
	char secret_hex[MODCSV_SECRET_HEX + 1]; /* as in the file: a secret, wipe it after use */
	char batch[MODCSV_BATCH_MAX + 1];       /* "" when the line names none */
};

/*
 * Parse one line: line[0..len), with or without its line end ("\n" or
 * "\r\n"). first_line is non-zero for the file's first line (the only one
 * that may be a header).
 *
 * Returns 0 with the row in *row, MODCSV_SKIP for a blank line, a comment
 * or the header, or ZTP_EMALFORMED with the reason in *why. *row is
 * written only when 0 is returned, *why only when ZTP_EMALFORMED is.
 */
int modcsv_parse(const char *line, size_t len, int first_line, struct modcsv_row *row,
    enum modcsv_reason *why);

/* A static English sentence for a reason (never the line's contents). */
const char *modcsv_reason(enum modcsv_reason why);

#endif
