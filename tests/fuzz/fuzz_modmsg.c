/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the module security service's codec (src/common/modmsg.h).
 *
 * The bytes are a request or answer body (modmsg_decode), a PSK identity
 * (modmsg_identity_parse) and, up to the first NUL, a feature list
 * (modmsg_features_parse). What decodes must encode, decode again to the
 * same items, and encode to the same bytes; an identity that parses must
 * be the canonical form modmsg_identity() writes; a refused input leaves
 * the outputs as they were (identity) or zeroed (body). A broken invariant
 * aborts.
 */
#include <string.h>

#include "fuzz.h"
#include "modmsg.h"
#include "ztp/err.h"

static void
fuzz_body(const uint8_t *data, size_t size)
{
	static const struct modmsg zero;
	uint8_t enc[MODMSG_BODY_MAX], enc2[MODMSG_BODY_MAX];
	struct modmsg m, m2;
	size_t len = 0, len2 = 0;
	int rc;

	memset(&m, 0xA5, sizeof(m));
	rc = modmsg_decode(data, size, &m);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ETOOBIG);
		FUZZ_CHECK(rc != ZTP_ETOOBIG || size > MODMSG_BODY_MAX);
		FUZZ_CHECK(memcmp(&m, &zero, sizeof(m)) == 0);
		return;
	}
	FUZZ_CHECK(size <= MODMSG_BODY_MAX);
	FUZZ_CHECK((m.have & ~(((1u << MODMSG_TAG_LAST) - 1) << 1)) == 0);
	/* texts are NUL-terminated and valid */
	FUZZ_CHECK(!MODMSG_HAS(&m, MODMSG_PROFILE) || modmsg_profile_valid(m.profile,
	    strnlen(m.profile, sizeof(m.profile))));
	FUZZ_CHECK(!MODMSG_HAS(&m, MODMSG_SERIAL) || modmsg_serial_valid(m.serial,
	    strnlen(m.serial, sizeof(m.serial))));
	FUZZ_CHECK(!MODMSG_HAS(&m, MODMSG_FIRMWARE) || modmsg_firmware_valid(m.firmware,
	    strnlen(m.firmware, sizeof(m.firmware))));

	/* re-encoding: the known items only, so never longer than the input */
	rc = modmsg_encode(&m, enc, sizeof(enc), &len);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(len <= size);
	FUZZ_CHECK(modmsg_decode(enc, len, &m2) == 0);
	FUZZ_CHECK(memcmp(&m, &m2, sizeof(m)) == 0);
	FUZZ_CHECK(modmsg_encode(&m2, enc2, sizeof(enc2), &len2) == 0);
	FUZZ_CHECK(len2 == len && memcmp(enc, enc2, len) == 0);
	/* a buffer one byte short is refused, whole */
	if (len > 0)
		FUZZ_CHECK(modmsg_encode(&m, enc2, len - 1, &len2) == ZTP_ETOOBIG);
}

static void
fuzz_identity(const uint8_t *data, size_t size)
{
	uint8_t uid[MODMSG_UID_LEN], poison[MODMSG_UID_LEN];
	char back[MODMSG_IDENTITY_MAX + 1];
	uint32_t epoch = 0xA5A5A5A5;
	size_t n;
	int rc;

	memset(uid, 0xA5, sizeof(uid));
	memset(poison, 0xA5, sizeof(poison));
	rc = modmsg_identity_parse(data, size, uid, &epoch);
	if (rc != 0) {
		FUZZ_CHECK(memcmp(uid, poison, sizeof(uid)) == 0 && epoch == 0xA5A5A5A5);
		if (size == 0 || data[0] != 'M')
			FUZZ_CHECK(rc == ZTP_ENOENT);
		else
			FUZZ_CHECK(rc == ZTP_EMALFORMED);
		return;
	}
	FUZZ_CHECK(size >= 1 + MODMSG_UID_HEX && size <= MODMSG_IDENTITY_MAX);
	n = modmsg_identity(uid, epoch, back, sizeof(back));
	FUZZ_CHECK(n == size && memcmp(back, data, size) == 0);
	FUZZ_CHECK(back[n] == '\0');
	FUZZ_CHECK(modmsg_uid_hex_valid(back + 1, MODMSG_UID_HEX));
}

static void
fuzz_features(const uint8_t *data, size_t size)
{
	char list[128], back[64];
	uint32_t bits = 0xA5A5A5A5, again;
	size_t n = strnlen((const char *)data, size);
	int rc;

	if (n >= sizeof(list))
		return;
	memcpy(list, data, n);
	list[n] = '\0';
	rc = modmsg_features_parse(list, &bits);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EINVAL && bits == 0xA5A5A5A5);
		return;
	}
	FUZZ_CHECK((bits & ~MODMSG_F_ALL) == 0);
	FUZZ_CHECK(modmsg_features_format(bits, back, sizeof(back)) == 0);
	FUZZ_CHECK(modmsg_features_parse(back, &again) == 0 && again == bits);
	if (bits != 0 && (bits & (bits - 1)) == 0)
		FUZZ_CHECK(modmsg_feature_name(bits) != NULL &&
		    strcmp(modmsg_feature_name(bits), back) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_body(data, size);
	fuzz_identity(data, size);
	fuzz_features(data, size);
	return 0;
}
