/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: one line of a SIM maker's batch file (src/cli/simcsv.h).
 *
 * The bytes are passed to simcsv_parse() as they are, once as the file's
 * first line and once as any other (libFuzzer's buffer is exactly size
 * bytes, so ASan sees any read past the end). An accepted row must be
 * valid field by field and must write back to the very bytes it came from;
 * a refused or skipped line must leave the row alone. A broken invariant
 * aborts.
 */
#include <string.h>

#include "fuzz.h"
#include "simcsv.h"
#include "ztp/err.h"
#include "ztp/iccid.h"

static int
all_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			(s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

/* the line as the parser sees it: without its line end, and the BOM of line 1 */
static void
strip(const uint8_t **data, size_t *size, int first)
{
	if (*size > 0 && (*data)[*size - 1] == '\n')
		(*size)--;
	if (*size > 0 && (*data)[*size - 1] == '\r')
		(*size)--;
	if (first && *size >= 3 && memcmp(*data, "\xEF\xBB\xBF", 3) == 0) {
		*data += 3;
		*size -= 3;
	}
}

static void
check_row(const struct simcsv_row *row, const uint8_t *data, size_t size, int first)
{
	char back[SIMCSV_LINE_MAX + 1];
	size_t n, ilen, plen, glen;

	ilen = strnlen(row->iccid, sizeof(row->iccid));
	plen = strnlen(row->psk_hex, sizeof(row->psk_hex));
	glen = strnlen(row->group, sizeof(row->group));
	FUZZ_CHECK(ilen < sizeof(row->iccid) && plen < sizeof(row->psk_hex) &&
	    glen < sizeof(row->group));
	FUZZ_CHECK(iccid_valid(row->iccid, ilen));
	FUZZ_CHECK(fuzz_all_digits(row->iccid, ilen));
	FUZZ_CHECK(all_hex(row->psk_hex, plen));
	FUZZ_CHECK(plen == 2 * row->psk_len);
	FUZZ_CHECK(row->psk_len >= SIMCSV_PSK_MIN && row->psk_len <= SIMCSV_PSK_MAX);
	FUZZ_CHECK(glen == 0 || simcsv_group_valid(row->group, glen));

	/* iccid,psk[,group] is exactly the line */
	strip(&data, &size, first);
	FUZZ_CHECK(size <= SIMCSV_LINE_MAX);
	n = (size_t)snprintf(back, sizeof(back), "%s,%s%s%s", row->iccid, row->psk_hex,
	    glen > 0 ? "," : "", row->group);
	FUZZ_CHECK(n == size);
	FUZZ_CHECK(memcmp(back, data, size) == 0);
}

static void
fuzz_line(const uint8_t *data, size_t size, int first)
{
	struct simcsv_row row, untouched;
	enum simcsv_reason why = SIMCSV_NREASONS;
	int rc;

	memset(&row, 0xa5, sizeof(row));
	memcpy(&untouched, &row, sizeof(row));
	rc = simcsv_parse((const char *)data, size, first, &row, &why);
	if (rc == 0) {
		FUZZ_CHECK(why == SIMCSV_NREASONS);
		check_row(&row, data, size, first);
		return;
	}
	FUZZ_CHECK(memcmp(&row, &untouched, sizeof(row)) == 0);
	if (rc == SIMCSV_SKIP) {
		FUZZ_CHECK(why == SIMCSV_NREASONS);
		return;
	}
	FUZZ_CHECK(rc == ZTP_EMALFORMED);
	FUZZ_CHECK(why > SIMCSV_OK && why < SIMCSV_NREASONS);
	FUZZ_CHECK(strcmp(simcsv_reason(why), "unknown reason") != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_line(data, size, 0);
	fuzz_line(data, size, 1);
	/* a line with nothing in it is skipped, never refused */
	if (size == 0) {
		struct simcsv_row row;
		enum simcsv_reason why;
		FUZZ_CHECK(simcsv_parse((const char *)data, 0, 0, &row, &why) == SIMCSV_SKIP);
	}
	return 0;
}
