/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: PSK identities and EF_ICCID in hex (include/ztp/iccid.h).
 *
 * The bytes are what a device sends as its TLS 1.3 PSK identity, passed to
 * iccid_parse_identity() as they are (libFuzzer's buffer is exactly size
 * bytes, so ASan sees any read past the end); then to iccid_from_ef_hex()
 * as if they were the iccid= query value, and to iccid_valid(). A broken
 * invariant aborts.
 */
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "ztp/iccid.h"

/* What parse/decode must always give: 18..20 digits that round-trip. */
static void
check_iccid(const char *iccid, uint8_t ef[ICCID_EF_LEN])
{
	char back[ICCID_STR_SIZE];
	size_t n = strnlen(iccid, ICCID_STR_SIZE);

	FUZZ_CHECK(n < ICCID_STR_SIZE);
	FUZZ_CHECK(n >= ICCID_MIN_DIGITS && n <= ICCID_MAX_DIGITS);
	FUZZ_CHECK(fuzz_all_digits(iccid, n));
	FUZZ_CHECK(iccid_valid(iccid, n));
	FUZZ_CHECK(iccid_to_ef(iccid, ef) == 0);
	FUZZ_CHECK(iccid_from_ef(ef, back) == 0);
	FUZZ_CHECK(strcmp(back, iccid) == 0);
}

static void
fuzz_parse_identity(const uint8_t *data, size_t size)
{
	struct iccid_identity id, untouched;
	uint8_t ef[ICCID_EF_LEN];
	char gen[16];
	size_t base;
	int rc;

	memset(&id, 0xa5, sizeof(id));
	memcpy(&untouched, &id, sizeof(id));
	rc = iccid_parse_identity(data, size, &id);
	if (rc != 0) {
		FUZZ_CHECK(rc < 0);
		/* *out is only written on success */
		FUZZ_CHECK(memcmp(&id, &untouched, sizeof(id)) == 0);
		return;
	}
	FUZZ_CHECK(size > 0 && size <= ICCID_IDENTITY_MAX);
	check_iccid(id.iccid, ef);
	if (id.bcd) {
		/* 10 EF_ICCID bytes: re-encoding gives the same bytes back */
		FUZZ_CHECK(id.bcd == 1);
		FUZZ_CHECK(memcmp(ef, data, ICCID_EF_LEN) == 0);
		base = ICCID_EF_LEN;
	} else {
		base = strlen(id.iccid);
		FUZZ_CHECK(memcmp(data, id.iccid, base) == 0);
	}
	FUZZ_CHECK(base <= size);
	if (!id.has_generation) {
		/* the whole identity is the ICCID */
		FUZZ_CHECK(id.generation == 0);
		FUZZ_CHECK(base == size);
	} else {
		/* ".<generation>" in canonical decimal, and nothing after it */
		FUZZ_CHECK(id.has_generation == 1);
		snprintf(gen, sizeof(gen), ".%lu", (unsigned long)id.generation);
		FUZZ_CHECK(size - base == strlen(gen));
		FUZZ_CHECK(memcmp(data + base, gen, size - base) == 0);
	}
}

static void
fuzz_from_ef_hex(const uint8_t *data, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	char out[ICCID_STR_SIZE], untouched[ICCID_STR_SIZE];
	uint8_t ef[ICCID_EF_LEN];
	char hex[2 * ICCID_EF_LEN];
	size_t i;
	int rc;

	memset(out, 0x5a, sizeof(out));
	memcpy(untouched, out, sizeof(out));
	rc = iccid_from_ef_hex((const char *)data, size, out);
	if (rc != 0) {
		FUZZ_CHECK(rc < 0);
		FUZZ_CHECK(memcmp(out, untouched, sizeof(out)) == 0);
		return;
	}
	FUZZ_CHECK(size == 2 * ICCID_EF_LEN);
	check_iccid(out, ef);
	/* re-encoding gives the input back, up to the case of the hex */
	for (i = 0; i < ICCID_EF_LEN; i++) {
		hex[2 * i] = digits[ef[i] >> 4];
		hex[2 * i + 1] = digits[ef[i] & 0x0f];
	}
	FUZZ_CHECK(strncasecmp(hex, (const char *)data, sizeof(hex)) == 0);
}

static void
fuzz_valid(const uint8_t *data, size_t size)
{
	char s[ICCID_STR_SIZE];
	uint8_t ef[ICCID_EF_LEN];

	if (!iccid_valid((const char *)data, size))
		return;
	FUZZ_CHECK(size >= ICCID_MIN_DIGITS && size <= ICCID_MAX_DIGITS);
	memcpy(s, data, size);
	s[size] = '\0';
	check_iccid(s, ef);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parse_identity(data, size);
	fuzz_from_ef_hex(data, size);
	fuzz_valid(data, size);
	return 0;
}
