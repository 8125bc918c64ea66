/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The head of an answer to the module client (src/device/modclient.c,
 * modclient_parse_head): bytes from the network. Invariants: a head that
 * is read lies within the input and the limit, ends with its empty line,
 * has a status and a body length within their ranges, and reads the same
 * from its own bytes alone; "more" only below the limit.
 */
#include <string.h>

#include "fuzz.h"
#include "ztp/err.h"
#include "ztp/modclient.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct modclient_head h, again;
	int rc;

	rc = modclient_parse_head((const char *)data, size, &h);
	if (rc == MODCLIENT_HEAD_MORE) {
		FUZZ_CHECK(size < MODCLIENT_HEAD_MAX);
		return 0;
	}
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ETOOBIG);
		return 0;
	}
	FUZZ_CHECK(h.len >= 2 && h.len <= size && h.len <= MODCLIENT_HEAD_MAX);
	FUZZ_CHECK(data[h.len - 1] == '\n');
	FUZZ_CHECK(h.status >= 200 && h.status <= 599);
	FUZZ_CHECK(h.content_length >= 0 && h.content_length <= ZTP_ROT_BODY_MAX);
	FUZZ_CHECK(modclient_parse_head((const char *)data, h.len, &again) == 0);
	FUZZ_CHECK(memcmp(&h, &again, sizeof(h)) == 0);
	return 0;
}
