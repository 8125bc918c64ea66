/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simcsv: the line parser of ztpctl sim import (see simcsv.h). The line is
 * a SIM maker's: every read is inside line[0..len), and nothing is written
 * to *row until the whole line has been accepted.
 */
#include <string.h>

#include "simcsv.h"
#include "ztp/err.h"
#include "ztp/iccid.h"

#define SIMCSV_FIELDS_MAX 3

static const char *const reasons[SIMCSV_NREASONS] = {
	[SIMCSV_OK] = "no error",
	[SIMCSV_TOO_LONG] = "line longer than 512 bytes",
	[SIMCSV_QUOTES] = "quotes are not supported: expected iccid,psk_hex[,group] without quotes",
	[SIMCSV_ONE_FIELD] = "one field only: expected iccid,psk_hex[,group]",
	[SIMCSV_TOO_MANY_FIELDS] = "more than 3 fields: expected iccid,psk_hex[,group]",
	[SIMCSV_SPACE] = "a space or tab around a field",
	[SIMCSV_BAD_ICCID] = "invalid ICCID: expected 18 to 20 digits",
	[SIMCSV_PSK_NOT_HEX] = "invalid PSK: not hex",
	[SIMCSV_PSK_ODD] = "invalid PSK: an odd number of hex digits",
	[SIMCSV_PSK_SHORT] = "invalid PSK: shorter than 16 bytes (32 hex digits)",
	[SIMCSV_PSK_LONG] = "invalid PSK: longer than 64 bytes (128 hex digits)",
	[SIMCSV_BAD_GROUP] = "invalid group name: expected 1 to 63 of A-Z a-z 0-9 _ . -",
};

const char *
simcsv_reason(enum simcsv_reason why)
{
	if ((unsigned)why >= SIMCSV_NREASONS)
		return "unknown reason";
	return reasons[why];
}

int
simcsv_group_valid(const char *s, size_t len)
{
	size_t i;

	if (s == NULL || len == 0 || len > SIMCSV_GROUP_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* 1 if s[0..len) starts with the lower-case ASCII word w, in any case */
static int
starts_with_nocase(const char *s, size_t len, const char *w)
{
	size_t i, n = strlen(w);

	if (len < n)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != w[i])
			return 0;
	}
	return 1;
}

size_t
simcsv_chomp(const char *line, size_t len)
{
	if (line == NULL)
		return 0;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	return len;
}

enum simcsv_reason
simcsv_split(const char *line, size_t len, const char **field, size_t *flen, size_t max,
    size_t *nfields)
{
	size_t n = 0, i, start = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != ',')
			continue;
		if (n == max)
			return SIMCSV_TOO_MANY_FIELDS;
		field[n] = line + start;
		flen[n] = i - start;
		n++;
		start = i + 1;
	}
	if (n < 2)
		return SIMCSV_ONE_FIELD;
	for (i = 0; i < n; i++)
		if (flen[i] > 0 && (is_blank(field[i][0]) || is_blank(field[i][flen[i] - 1])))
			return SIMCSV_SPACE;
	*nfields = n;
	return SIMCSV_OK;
}

/* The PSK field's verdict: SIMCSV_OK or why it is not 16..64 bytes of hex. */
static enum simcsv_reason
check_psk(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_hex(s[i]))
			return SIMCSV_PSK_NOT_HEX;
	if (len % 2 != 0)
		return SIMCSV_PSK_ODD;
	if (len < 2 * SIMCSV_PSK_MIN)
		return SIMCSV_PSK_SHORT;
	if (len > 2 * SIMCSV_PSK_MAX)
		return SIMCSV_PSK_LONG;
	return SIMCSV_OK;
}

int
simcsv_line(const char **linep, size_t *lenp, size_t max, int first_line, const char *header,
    int comments, enum simcsv_reason *why)
{
	const char *line = *linep;
	size_t len, i;

	/* the line end, if the caller left it in */
	len = simcsv_chomp(line, *lenp);
	if (len > max) {
		*why = SIMCSV_TOO_LONG;
		return ZTP_EMALFORMED;
	}
	if (first_line) {
		if (len >= 3 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB &&
		    (unsigned char)line[2] == 0xBF) {
			line += 3;
			len -= 3;
		}
		if (starts_with_nocase(line, len, header))
			return SIMCSV_SKIP;
	}
	for (i = 0; i < len && is_blank(line[i]); i++)
		;
	if (i == len || (comments && line[i] == '#'))
		return SIMCSV_SKIP;
	if (memchr(line, '"', len) != NULL) {
		*why = SIMCSV_QUOTES;
		return ZTP_EMALFORMED;
	}
	*linep = line;
	*lenp = len;
	return 0;
}

int
simcsv_parse(const char *line, size_t len, int first_line, struct simcsv_row *row,
    enum simcsv_reason *why)
{
	const char *field[SIMCSV_FIELDS_MAX];
	size_t flen[SIMCSV_FIELDS_MAX];
	size_t nfields = 0;
	enum simcsv_reason r;
	int rc;

	if ((rc = simcsv_line(&line, &len, SIMCSV_LINE_MAX, first_line, "iccid,psk", 0, why)) != 0)
		return rc;

	/* at most 3 fields, checked before any is used */
	r = simcsv_split(line, len, field, flen, SIMCSV_FIELDS_MAX, &nfields);
	if (r != SIMCSV_OK)
		goto refuse;
	if (!iccid_valid(field[0], flen[0])) {
		r = SIMCSV_BAD_ICCID;
		goto refuse;
	}
	r = check_psk(field[1], flen[1]);
	if (r != SIMCSV_OK)
		goto refuse;
	if (nfields == 3 && !simcsv_group_valid(field[2], flen[2])) {
		r = SIMCSV_BAD_GROUP;
		goto refuse;
	}

	memset(row, 0, sizeof(*row));
	memcpy(row->iccid, field[0], flen[0]);
	memcpy(row->psk_hex, field[1], flen[1]);
	row->psk_len = flen[1] / 2;
	if (nfields == 3)
		memcpy(row->group, field[2], flen[2]);
	return 0;
refuse:
	*why = r;
	return ZTP_EMALFORMED;
}
