/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: one line of a module maker's batch file (src/cli/modcsv.h).
 *
 * The bytes are passed to modcsv_parse() as they are, once as the file's
 * first line and once as any other. An accepted row must be valid field by
 * field and write back to the bytes it came from (the RoT UID in lower
 * case); a refused or skipped line must leave the row alone. A broken
 * invariant aborts.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "modcsv.h"
#include "ztp/err.h"

static int
all_hex(const char *s, size_t len, int lower_only)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			(!lower_only && s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void
check_row(const struct modcsv_row *row, const uint8_t *data, size_t size, int first)
{
	char back[MODCSV_LINE_MAX + 1];
	size_t n, i, blen;

	FUZZ_CHECK(strnlen(row->rot_uid, sizeof(row->rot_uid)) == MODCSV_ROT_HEX);
	FUZZ_CHECK(strnlen(row->secret_hex, sizeof(row->secret_hex)) == MODCSV_SECRET_HEX);
	blen = strnlen(row->batch, sizeof(row->batch));
	FUZZ_CHECK(blen <= MODCSV_BATCH_MAX);
	FUZZ_CHECK(all_hex(row->rot_uid, MODCSV_ROT_HEX, 1));
	FUZZ_CHECK(all_hex(row->secret_hex, MODCSV_SECRET_HEX, 0));
	for (i = 0; i < blen; i++)
		FUZZ_CHECK(row->batch[i] >= 0x20 && row->batch[i] <= 0x7e && row->batch[i] != ',' &&
		    row->batch[i] != '"' && row->batch[i] != '\\');

	/* the line as the parser saw it: no line end, no BOM on line 1 */
	if (size > 0 && data[size - 1] == '\n')
		size--;
	if (size > 0 && data[size - 1] == '\r')
		size--;
	if (first && size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		size -= 3;
	}
	FUZZ_CHECK(size <= MODCSV_LINE_MAX);
	n = (size_t)snprintf(back, sizeof(back), "%s,%s%s%s", row->rot_uid, row->secret_hex,
	    blen > 0 ? "," : "", row->batch);
	FUZZ_CHECK(n == size);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(back[i] == (i < MODCSV_ROT_HEX ? lower((char)data[i]) : (char)data[i]));
}

static void
fuzz_line(const uint8_t *data, size_t size, int first)
{
	struct modcsv_row row, untouched;
	enum modcsv_reason why = MODCSV_NREASONS;
	int rc;

	memset(&row, 0xa5, sizeof(row));
	memcpy(&untouched, &row, sizeof(row));
	rc = modcsv_parse((const char *)data, size, first, &row, &why);
	if (rc == 0) {
		FUZZ_CHECK(why == MODCSV_NREASONS);
		check_row(&row, data, size, first);
		return;
	}
	FUZZ_CHECK(memcmp(&row, &untouched, sizeof(row)) == 0);
	if (rc == MODCSV_SKIP) {
		FUZZ_CHECK(why == MODCSV_NREASONS);
		return;
	}
	FUZZ_CHECK(rc == ZTP_EMALFORMED);
	FUZZ_CHECK(why > MODCSV_OK && why < MODCSV_NREASONS);
	FUZZ_CHECK(strcmp(modcsv_reason(why), "unknown reason") != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_line(data, size, 0);
	fuzz_line(data, size, 1);
	return 0;
}
