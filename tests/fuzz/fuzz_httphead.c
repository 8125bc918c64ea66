/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the request head guard's parser (httphead.h).
 *
 * The first byte picks the size limit (64..8192), the rest is the stream
 * as a client sends it. A whole head lies inside the input and within the
 * limit, its target inside the head; a refusal has a status the guard
 * answers; a head is only "more" while it fits the limit.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "httphead.h"
#include "ztp/err.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httphead h;
	size_t max;
	char *buf;
	int rc;

	if (size < 1)
		return 0;
	max = 64 + (size_t)data[0] * 32;
	data++;
	size--;
	if ((buf = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	rc = httphead_parse(buf, size, max, &h);
	if (rc == 0) {
		FUZZ_CHECK(h.len > 0 && h.len <= size && h.len <= max);
		FUZZ_CHECK(h.method >= HTTPHEAD_GET && h.method <= HTTPHEAD_HEAD);
		FUZZ_CHECK(h.target >= buf && h.target + h.target_len <= buf + h.len);
		FUZZ_CHECK(h.target_len > 0);
		FUZZ_CHECK(h.content_length >= -1 && h.content_length <= HTTPHEAD_CL_MAX);
		FUZZ_CHECK(h.auth == NULL || (h.auth >= buf && h.auth + h.auth_len <= buf + h.len));
		FUZZ_CHECK(buf[h.len - 1] == '\n');
	} else if (rc == HTTPHEAD_MORE) {
		FUZZ_CHECK(size <= max);
	} else {
		FUZZ_CHECK(rc == ZTP_EMALFORMED);
		FUZZ_CHECK(h.why != NULL);
		FUZZ_CHECK(h.status == 400 || h.status == 411 || h.status == 431 ||
		    h.status == 501 || h.status == 505);
		FUZZ_CHECK(h.status != 431 || size > max);
	}
	free(buf);
	return 0;
}
