/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the ZTP certificate bundle parser (include/ztp/ztpcert.h),
 * which a module runs on what the server sends it.
 *
 * A refusal must be a documented code and leave the output untouched. An
 * accepted bundle's parts must lie inside the input, in order, back to back,
 * within their bounds, each one DER SEQUENCE; encoding them again gives
 * the input byte for byte.
 */
#include <string.h>

#include "fuzz.h"
#include "ztp/err.h"
#include "ztp/ztpcert.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[ZTP_CERT_BUNDLE_MAX];
	struct ztp_cert_bundle b, before;
	size_t len = 0, i;
	const uint8_t *end = data;
	int rc;

	memset(&b, 0xa5, sizeof(b));
	before = b;
	rc = ztp_cert_parse(data, size, &b);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ETOOBIG);
		FUZZ_CHECK(rc != ZTP_ETOOBIG || size > ZTP_CERT_BUNDLE_MAX);
		FUZZ_CHECK(memcmp(&b, &before, sizeof(b)) == 0);
		return 0;
	}
	FUZZ_CHECK(size <= ZTP_CERT_BUNDLE_MAX && data[0] == ZTP_CERT_VERSION);
	end = data + 1;
	for (i = ZTP_CERT_KEY; i <= ZTP_CERT_CA; i++) {
		FUZZ_CHECK(b.part[i] == end + 3 && b.len[i] >= 2);
		FUZZ_CHECK(b.len[i] <= (i == ZTP_CERT_KEY ? ZTP_CERT_KEY_MAX : ZTP_CERT_CERT_MAX));
		FUZZ_CHECK(b.part[i][0] == 0x30);
		end = b.part[i] + b.len[i];
	}
	FUZZ_CHECK(end == data + size);
	rc = ztp_cert_encode(b.part[1], b.len[1], b.part[2], b.len[2], b.part[3], b.len[3], again,
	    sizeof(again), &len);
	FUZZ_CHECK(rc == 0 && len == size && memcmp(again, data, size) == 0);
	return 0;
}
