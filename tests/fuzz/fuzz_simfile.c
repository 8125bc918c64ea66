/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SIM state file of ztp-sim (JSON). Invariant: what parses, dumps to a
 * text that parses again to the same persistent state.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "simfile.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	struct safe2_persist p, q;
	json_t *extra = NULL, *extra2 = NULL;
	char err[256], *text;

	if (!quiet) {
		log_init("fuzz", LOG_FORMAT_TEXT, LOG_LEVEL_WARN + 1);
		quiet = 1;
	}
	if (simfile_parse((const char *)data, size, &p, &extra, err, sizeof(err)) == 0) {
		text = simfile_dump(&p, extra);
		FUZZ_CHECK(text != NULL);
		FUZZ_CHECK(simfile_parse(text, strlen(text), &q, &extra2, err, sizeof(err)) == 0);
		FUZZ_CHECK(strcmp(p.iccid, q.iccid) == 0 && p.port == q.port);
		FUZZ_CHECK(p.psk_len == q.psk_len && memcmp(p.psk, q.psk, p.psk_len) == 0);
		FUZZ_CHECK(p.device_id_len == q.device_id_len &&
		    memcmp(p.device_id, q.device_id, p.device_id_len) == 0);
		FUZZ_CHECK(strcmp(p.host, q.host) == 0 && p.locked == q.locked);
		free(text);
		json_decref(extra2);
	}
	json_decref(extra);
	return 0;
}
