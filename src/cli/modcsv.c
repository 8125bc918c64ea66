/* SPDX-License-Identifier: Apache-2.0 */
/*
 * modcsv: the line parser of ztpctl module import (see modcsv.h). The line
 * is a module maker's: every read is inside line[0..len), and nothing is
 * written to *row until the whole line has been accepted. The splitting
 * at commas is simcsv's.
 */
#include <string.h>

#include "modcsv.h"
#include "simcsv.h"
#include "ztp/err.h"

#define MODCSV_FIELDS_MAX 3

static const char *const reasons[MODCSV_NREASONS] = {
	[MODCSV_OK] = "no error",
	[MODCSV_TOO_LONG] = "line longer than 512 bytes",
	[MODCSV_QUOTES] = ("quotes are not supported: expected rot_uid,factory_secret_hex[,batch] "
			   "without quotes"),
	[MODCSV_ONE_FIELD] = "one field only: expected rot_uid,factory_secret_hex[,batch]",
	[MODCSV_TOO_MANY_FIELDS] = "more than 3 fields: expected rot_uid,factory_secret_hex[,batch]",
	[MODCSV_SPACE] = "a space or tab around a field",
	[MODCSV_BAD_ROT] = "invalid RoT UID: expected 32 hex digits",
	[MODCSV_SECRET_NOT_HEX] = "invalid factory secret: not hex",
	[MODCSV_SECRET_LENGTH] = "invalid factory secret: expected 32 bytes (64 hex digits)",
	[MODCSV_BAD_BATCH] = "invalid batch label: expected 1 to 64 printable ASCII characters, no '\\'",
};

const char *
modcsv_reason(enum modcsv_reason why)
{
	if ((unsigned)why >= MODCSV_NREASONS)
		return "unknown reason";
	return reasons[why];
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
all_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_hex(s[i]))
			return 0;
	return 1;
}

/* A reason of simcsv_line or simcsv_split as modcsv's. */
static enum modcsv_reason
from_simcsv(enum simcsv_reason sr)
{
	switch (sr) {
	case SIMCSV_TOO_LONG:
		return MODCSV_TOO_LONG;
	case SIMCSV_QUOTES:
		return MODCSV_QUOTES;
	case SIMCSV_TOO_MANY_FIELDS:
		return MODCSV_TOO_MANY_FIELDS;
	case SIMCSV_ONE_FIELD:
		return MODCSV_ONE_FIELD;
	default:
		return MODCSV_SPACE;
	}
}

/* printable ASCII but the separator, the quote (which never reach here) and '\\' (JSON escapes it) */
static int
batch_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > MODCSV_BATCH_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '\\')
			return 0;
	return 1;
}

int
modcsv_parse(const char *line, size_t len, int first_line, struct modcsv_row *row,
    enum modcsv_reason *why)
{
	const char *field[MODCSV_FIELDS_MAX];
	size_t flen[MODCSV_FIELDS_MAX];
	size_t nfields = 0, i;
	enum simcsv_reason sr;
	enum modcsv_reason r;
	int rc;

	rc = simcsv_line(&line, &len, MODCSV_LINE_MAX, first_line, "rot_uid,", 1, &sr);
	if (rc == ZTP_EMALFORMED) {
		r = from_simcsv(sr);
		goto refuse;
	}
	if (rc != 0)
		return MODCSV_SKIP;
	if ((sr = simcsv_split(line, len, field, flen, MODCSV_FIELDS_MAX, &nfields)) != SIMCSV_OK) {
		r = from_simcsv(sr);
		goto refuse;
	}
	if (flen[0] != MODCSV_ROT_HEX || !all_hex(field[0], flen[0])) {
		r = MODCSV_BAD_ROT;
		goto refuse;
	}
	if (!all_hex(field[1], flen[1])) {
		r = MODCSV_SECRET_NOT_HEX;
		goto refuse;
	}
	if (flen[1] != MODCSV_SECRET_HEX) {
		r = MODCSV_SECRET_LENGTH;
		goto refuse;
	}
	if (nfields == 3 && !batch_valid(field[2], flen[2])) {
		r = MODCSV_BAD_BATCH;
		goto refuse;
	}

	memset(row, 0, sizeof(*row));
	for (i = 0; i < MODCSV_ROT_HEX; i++) {
		char c = field[0][i];
		row->rot_uid[i] = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
	}
	memcpy(row->secret_hex, field[1], MODCSV_SECRET_HEX);
	if (nfields == 3)
		memcpy(row->batch, field[2], flen[2]);
	return 0;
refuse:
	*why = r;
	return ZTP_EMALFORMED;
}
