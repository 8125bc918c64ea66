/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the device endpoint's request target (devroute.h).
 *
 * The bytes are the request target as a client sends it. They are copied
 * into a heap buffer of size + 1 with a NUL at the end, as the HTTP layer
 * hands them over, and devroute_parse() gets the length. On success the
 * route is checked against the target it came from.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devroute.h"
#include "fuzz.h"
#include "ztp/err.h"

static const char *
prefix_of(enum devroute_kind kind)
{
	switch (kind) {
	case DEVROUTE_CONFIG:
		return "/v1/config/";
	case DEVROUTE_DATA:
		return "/v1/data/";
	case DEVROUTE_DEV:
		return "/v1/dev/";
	}
	FUZZ_CHECK(!"unknown devroute kind");
	return NULL;
}

/* The Device ID is 1..16 bytes as upper-case hex, taken from the path. */
static void
check_device_id(const struct devroute *r, const char *uri, size_t len, const char *path_end)
{
	const char *prefix = prefix_of(r->kind);
	size_t plen = strlen(prefix);
	size_t n = strnlen(r->device_id, sizeof(r->device_id));
	size_t i;

	FUZZ_CHECK(n < sizeof(r->device_id));
	FUZZ_CHECK(n >= 2 && n <= 2 * STORE_DEVID_MAX && n % 2 == 0);
	for (i = 0; i < n; i++) {
		char c = r->device_id[i];
		FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
	}
	FUZZ_CHECK(len >= plen && memcmp(uri, prefix, plen) == 0);
	FUZZ_CHECK(uri + plen + n == path_end);
	FUZZ_CHECK(strncasecmp(uri + plen, r->device_id, n) == 0);
}

/* Exactly one iccid= parameter, whose EF_ICCID hex decodes to r->iccid. */
static void
check_iccid(const struct devroute *r, const char *path_end, const char *end)
{
	static const char digits[] = "0123456789ABCDEF";
	uint8_t ef[ICCID_EF_LEN];
	char hex[2 * ICCID_EF_LEN];
	const char *q, *amp, *pend;
	size_t n = strnlen(r->iccid, sizeof(r->iccid)), i;
	int count = 0;

	FUZZ_CHECK(n >= ICCID_MIN_DIGITS && n <= ICCID_MAX_DIGITS);
	FUZZ_CHECK(fuzz_all_digits(r->iccid, n));
	FUZZ_CHECK(iccid_to_ef(r->iccid, ef) == 0);
	for (i = 0; i < ICCID_EF_LEN; i++) {
		hex[2 * i] = digits[ef[i] >> 4];
		hex[2 * i + 1] = digits[ef[i] & 0x0f];
	}
	FUZZ_CHECK(path_end < end && *path_end == '?');
	for (q = path_end + 1; q < end; q = amp ? amp + 1 : end) {
		amp = memchr(q, '&', (size_t)(end - q));
		pend = amp ? amp : end;
		if (pend - q >= 6 && memcmp(q, "iccid=", 6) == 0) {
			count++;
			FUZZ_CHECK(pend - q == 6 + (long)sizeof(hex));
			FUZZ_CHECK(strncasecmp(q + 6, hex, sizeof(hex)) == 0);
		}
	}
	FUZZ_CHECK(count == 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct devroute r, untouched;
	const char *why = NULL, *path_end;
	char *uri;
	int rc;

	if ((uri = malloc(size + 1)) == NULL)
		return 0;
	memcpy(uri, data, size);
	uri[size] = '\0';
	memset(&r, 0xa5, sizeof(r));
	memcpy(&untouched, &r, sizeof(r));

	rc = devroute_parse(uri, size, &r, &why);
	FUZZ_CHECK(why != NULL);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_ENOENT || rc == ZTP_EMALFORMED);
		FUZZ_CHECK(memcmp(&r, &untouched, sizeof(r)) == 0);
		goto out;
	}
	FUZZ_CHECK(size > 0 && size <= DEVROUTE_URI_MAX);
	FUZZ_CHECK(memchr(uri, '\0', size) == NULL);
	path_end = memchr(uri, '?', size);
	FUZZ_CHECK(path_end != NULL);
	check_device_id(&r, uri, size, path_end);
	check_iccid(&r, path_end, uri + size);
out:
	free(uri);
	return 0;
}
