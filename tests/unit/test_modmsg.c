/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module security service's items and identities (src/common/modmsg.h,
 * docs/protocol/security-service.md sections 2, 3 and 7).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "modmsg.h"
#include "ztp/err.h"

#define PROFILE "0123456789abcdef0123456789abcdef"
#define UID_HEX "00112233445566778899aabbccddeeff"

static const uint8_t uid[MODMSG_UID_LEN] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

/* Append one item (tag, n, value) to buf at *len. */
static void
item(uint8_t *buf, size_t *len, uint8_t tag, const void *v, size_t n)
{
	buf[(*len)++] = tag;
	buf[(*len)++] = (uint8_t)n;
	memcpy(buf + *len, v, n);
	*len += n;
}

/* Decode a body of one item and return decode's result. */
static int
decode_one(uint8_t tag, const void *v, size_t n, struct modmsg *m)
{
	uint8_t buf[300];
	size_t len = 0;

	item(buf, &len, tag, v, n);
	return modmsg_decode(buf, len, m);
}

/* A refused body leaves m all zero. */
static void
assert_zeroed(const struct modmsg *m)
{
	struct modmsg z;

	memset(&z, 0, sizeof(z));
	assert_memory_equal(m, &z, sizeof(z));
}

static void
expect_malformed_one(uint8_t tag, const void *v, size_t n)
{
	struct modmsg m;

	memset(&m, 0xA5, sizeof(m));
	assert_int_equal(decode_one(tag, v, n, &m), ZTP_EMALFORMED);
	assert_zeroed(&m);
}

/* A struct modmsg with every item set to a valid value. */
static void
full(struct modmsg *m)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->profile, PROFILE);
	strcpy(m->serial, "SN-0001/A b");
	strcpy(m->firmware, "fw \"1.2.3\"");
	m->epoch = 0x01020304;
	m->features = MODMSG_F_PSK | MODMSG_F_C2C;
	m->hb_interval = 604800;
	m->hb_min = 300;
	m->status = MODMSG_STATUS_CLAIMED;
	m->boots = 0xFFFFFFFF;
	m->heartbeats = 7;
	m->reason = MODMSG_R_TOO_SOON;
	m->retry_after = 299;
	m->have = 0;
	for (unsigned t = 1; t <= MODMSG_TAG_LAST; t++)
		MODMSG_SET(m, t);
}

/* ---- decode: the empty body, and each tag's length and form ---- */

static void
test_decode_empty_body_has_nothing(void **state)
{
	struct modmsg m;

	memset(&m, 0xA5, sizeof(m));
	assert_int_equal(modmsg_decode((const uint8_t *)"", 0, &m), 0);
	assert_zeroed(&m);
}

static void
test_decode_profile(void **state)
{
	struct modmsg m;

	assert_int_equal(decode_one(MODMSG_PROFILE, PROFILE, 32, &m), 0);
	assert_true(MODMSG_HAS(&m, MODMSG_PROFILE));
	assert_string_equal(m.profile, PROFILE);
	assert_int_equal(m.have, 1u << MODMSG_PROFILE);
}

static void
test_decode_profile_refuses_wrong_length_and_form(void **state)
{
	expect_malformed_one(MODMSG_PROFILE, PROFILE, 31);
	expect_malformed_one(MODMSG_PROFILE, PROFILE "0", 33);
	expect_malformed_one(MODMSG_PROFILE, "", 0);
	expect_malformed_one(MODMSG_PROFILE, "0123456789ABCDEF0123456789abcdef", 32);
	expect_malformed_one(MODMSG_PROFILE, "0123456789abcdeg0123456789abcdef", 32);
	expect_malformed_one(MODMSG_PROFILE, "0123456789abcdef\0" "123456789abcdef", 32);
}

static void
test_decode_serial_1_and_64(void **state)
{
	char s64[65];
	struct modmsg m;

	assert_int_equal(decode_one(MODMSG_SERIAL, "x", 1, &m), 0);
	assert_string_equal(m.serial, "x");
	memset(s64, '~', 64);
	s64[0] = ' ';
	s64[64] = '\0';
	assert_int_equal(decode_one(MODMSG_SERIAL, s64, 64, &m), 0);
	assert_string_equal(m.serial, s64);
}

static void
test_decode_serial_refuses_wrong_length_and_form(void **state)
{
	char s65[65];

	memset(s65, 'a', sizeof(s65));
	expect_malformed_one(MODMSG_SERIAL, "", 0);
	expect_malformed_one(MODMSG_SERIAL, s65, 65);
	expect_malformed_one(MODMSG_SERIAL, "a\"b", 3);
	expect_malformed_one(MODMSG_SERIAL, "a\x1f" "b", 3);
	expect_malformed_one(MODMSG_SERIAL, "a\x7f" "b", 3);
	expect_malformed_one(MODMSG_SERIAL, "a\x80" "b", 3);
	expect_malformed_one(MODMSG_SERIAL, "a\0b", 3);
	expect_malformed_one(MODMSG_SERIAL, "ab\n", 3);
}

static void
test_decode_firmware_1_and_32_quotes_allowed(void **state)
{
	char f32[33];
	struct modmsg m;

	assert_int_equal(decode_one(MODMSG_FIRMWARE, "\"", 1, &m), 0);
	assert_string_equal(m.firmware, "\"");
	memset(f32, 'v', 32);
	f32[32] = '\0';
	assert_int_equal(decode_one(MODMSG_FIRMWARE, f32, 32, &m), 0);
	assert_string_equal(m.firmware, f32);
}

static void
test_decode_firmware_refuses_wrong_length_and_form(void **state)
{
	char f33[33];

	memset(f33, 'v', sizeof(f33));
	expect_malformed_one(MODMSG_FIRMWARE, "", 0);
	expect_malformed_one(MODMSG_FIRMWARE, f33, 33);
	expect_malformed_one(MODMSG_FIRMWARE, "1.0\0", 4);
	expect_malformed_one(MODMSG_FIRMWARE, "1.0\r", 4);
	expect_malformed_one(MODMSG_FIRMWARE, "\xff", 1);
}

static void
test_decode_u32_items_are_big_endian(void **state)
{
	static const uint8_t be[4] = { 0x12, 0x34, 0x56, 0x78 };
	struct modmsg m;

	assert_int_equal(decode_one(MODMSG_EPOCH, be, 4, &m), 0);
	assert_int_equal(m.epoch, 0x12345678);
	assert_int_equal(decode_one(MODMSG_FEATURES, be, 4, &m), 0);
	assert_int_equal(m.features, 0x12345678);
	assert_int_equal(decode_one(MODMSG_HB_INTERVAL, be, 4, &m), 0);
	assert_int_equal(m.hb_interval, 0x12345678);
	assert_int_equal(decode_one(MODMSG_HB_MIN, be, 4, &m), 0);
	assert_int_equal(m.hb_min, 0x12345678);
	assert_int_equal(decode_one(MODMSG_RETRY_AFTER, be, 4, &m), 0);
	assert_int_equal(m.retry_after, 0x12345678);
	assert_int_equal(m.have, 1u << MODMSG_RETRY_AFTER);
}

static void
test_decode_u32_items_refuse_other_lengths(void **state)
{
	static const uint8_t v[5] = { 0, 0, 0, 1, 2 };
	static const uint8_t tags[] = { MODMSG_EPOCH, MODMSG_FEATURES, MODMSG_HB_INTERVAL,
		MODMSG_HB_MIN, MODMSG_RETRY_AFTER };
	size_t i;

	for (i = 0; i < sizeof(tags); i++) {
		expect_malformed_one(tags[i], v, 0);
		expect_malformed_one(tags[i], v, 3);
		expect_malformed_one(tags[i], v, 5);
	}
}

static void
test_decode_u8_items(void **state)
{
	struct modmsg m;

	assert_int_equal(decode_one(MODMSG_STATUS, "\x01", 1, &m), 0);
	assert_int_equal(m.status, 1);
	assert_int_equal(decode_one(MODMSG_REASON, "\xff", 1, &m), 0);
	assert_int_equal(m.reason, 255);
	expect_malformed_one(MODMSG_STATUS, "", 0);
	expect_malformed_one(MODMSG_STATUS, "\x01\x00", 2);
	expect_malformed_one(MODMSG_REASON, "", 0);
	expect_malformed_one(MODMSG_REASON, "\x01\x00\x00\x00", 4);
}

static void
test_decode_counters(void **state)
{
	static const uint8_t v[9] = { 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xfe, 0 };
	struct modmsg m;

	assert_int_equal(decode_one(MODMSG_COUNTERS, v, 8, &m), 0);
	assert_int_equal(m.boots, 3);
	assert_int_equal(m.heartbeats, 0xfffffffe);
	expect_malformed_one(MODMSG_COUNTERS, v, 4);
	expect_malformed_one(MODMSG_COUNTERS, v, 7);
	expect_malformed_one(MODMSG_COUNTERS, v, 9);
	expect_malformed_one(MODMSG_COUNTERS, v, 0);
}

/* ---- decode: the body's structure ---- */

static void
test_decode_refuses_every_known_tag_twice(void **state)
{
	uint8_t one[64], two[128];
	struct modmsg m, mfull;
	size_t len, i;
	unsigned tag;

	full(&mfull);
	for (tag = 1; tag <= MODMSG_TAG_LAST; tag++) {
		struct modmsg single = mfull;

		single.have = 1u << tag;
		assert_int_equal(modmsg_encode(&single, one, sizeof(one), &len), 0);
		assert_int_equal(modmsg_decode(one, len, &m), 0);
		memcpy(two, one, len);
		memcpy(two + len, one, len);
		memset(&m, 0xA5, sizeof(m));
		assert_int_equal(modmsg_decode(two, 2 * len, &m), ZTP_EMALFORMED);
		assert_zeroed(&m);
		/* and with another item between the two */
		i = len;
		item(two, &i, 0x7f, "zz", 2);
		memcpy(two + i, one, len);
		assert_int_equal(modmsg_decode(two, i + len, &m), ZTP_EMALFORMED);
	}
}

static void
test_decode_skips_unknown_tags(void **state)
{
	uint8_t buf[600], big[255];
	size_t len = 0;
	struct modmsg m;

	memset(big, 0xEE, sizeof(big));
	item(buf, &len, 0x00, "", 0);
	item(buf, &len, MODMSG_TAG_LAST + 1, big, 5);
	item(buf, &len, MODMSG_EPOCH, "\x00\x00\x00\x09", 4);
	item(buf, &len, 0xff, big, 255);
	item(buf, &len, 0xff, big, 3); /* an unknown tag may come twice */
	item(buf, &len, 0x20, big, 0);
	assert_int_equal(modmsg_decode(buf, len, &m), 0);
	assert_int_equal(m.have, 1u << MODMSG_EPOCH);
	assert_int_equal(m.epoch, 9);
}

static void
test_decode_unknown_tag_only(void **state)
{
	struct modmsg m;

	assert_int_equal(decode_one(0x42, "anything \"\0\xff", 12, &m), 0);
	assert_int_equal(m.have, 0);
}

static void
test_decode_refuses_truncated_items(void **state)
{
	uint8_t buf[64];
	size_t len = 0, cut;
	struct modmsg m;

	item(buf, &len, MODMSG_EPOCH, "\x00\x00\x00\x01", 4);
	item(buf, &len, MODMSG_STATUS, "\x01", 1);
	item(buf, &len, 0x50, "abc", 3);
	assert_int_equal(modmsg_decode(buf, len, &m), 0);
	/* every proper prefix that does not end at an item's end */
	for (cut = 1; cut < len; cut++) {
		int rc;

		memset(&m, 0xA5, sizeof(m));
		rc = modmsg_decode(buf, cut, &m);
		if (cut == 6 || cut == 9)
			assert_int_equal(rc, 0);
		else {
			assert_int_equal(rc, ZTP_EMALFORMED);
			assert_zeroed(&m);
		}
	}
}

static void
test_decode_refuses_a_lone_tag_and_a_length_past_the_end(void **state)
{
	struct modmsg m;

	assert_int_equal(modmsg_decode((const uint8_t *)"\x04", 1, &m), ZTP_EMALFORMED);
	assert_int_equal(modmsg_decode((const uint8_t *)"\x42", 1, &m), ZTP_EMALFORMED);
	assert_int_equal(modmsg_decode((const uint8_t *)"\x42\x01", 2, &m), ZTP_EMALFORMED);
	assert_int_equal(modmsg_decode((const uint8_t *)"\x42\xff" "abc", 5, &m),
	    ZTP_EMALFORMED);
	assert_int_equal(modmsg_decode((const uint8_t *)"\x04\x04\x00\x00\x00", 5, &m),
	    ZTP_EMALFORMED);
}

static void
test_decode_512_bytes_and_not_513(void **state)
{
	uint8_t buf[MODMSG_BODY_MAX + 1], big[255];
	size_t len = 0;
	struct modmsg m;

	memset(big, 'x', sizeof(big));
	item(buf, &len, 0x80, big, 255);
	item(buf, &len, 0x81, big, 253);
	assert_int_equal(len, MODMSG_BODY_MAX);
	assert_int_equal(modmsg_decode(buf, len, &m), 0);
	buf[len++] = 0;
	memset(&m, 0xA5, sizeof(m));
	assert_int_equal(modmsg_decode(buf, len, &m), ZTP_ETOOBIG);
	assert_zeroed(&m);
}

static void
test_decode_a_refused_body_leaves_nothing(void **state)
{
	uint8_t buf[64];
	size_t len = 0;
	struct modmsg m;

	item(buf, &len, MODMSG_PROFILE, PROFILE, 32);
	item(buf, &len, MODMSG_EPOCH, "\x00\x00\x00\x05", 4);
	item(buf, &len, MODMSG_STATUS, "\x01\x01", 2);
	assert_int_equal(modmsg_decode(buf, len, &m), ZTP_EMALFORMED);
	assert_zeroed(&m);
}

/* ---- encode ---- */

static void
test_encode_round_trip_of_every_item(void **state)
{
	uint8_t buf[MODMSG_BODY_MAX];
	struct modmsg in, out;
	size_t len;

	full(&in);
	assert_int_equal(modmsg_encode(&in, buf, sizeof(buf), &len), 0);
	assert_int_equal(modmsg_decode(buf, len, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void
test_encode_in_tag_order_with_exact_bytes(void **state)
{
	static const uint8_t want[] = { 0x04, 4, 0, 0, 0, 1, 0x08, 1, 1, 0x09, 8, 0, 0, 0, 2, 0,
		0, 0, 3 };
	uint8_t buf[64];
	struct modmsg m;
	size_t len;

	memset(&m, 0, sizeof(m));
	m.epoch = 1;
	m.status = 1;
	m.boots = 2;
	m.heartbeats = 3;
	MODMSG_SET(&m, MODMSG_COUNTERS);
	MODMSG_SET(&m, MODMSG_STATUS);
	MODMSG_SET(&m, MODMSG_EPOCH);
	assert_int_equal(modmsg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void
test_encode_nothing_is_an_empty_body(void **state)
{
	uint8_t buf[1];
	struct modmsg m;
	size_t len = 99;

	memset(&m, 0, sizeof(m));
	assert_int_equal(modmsg_encode(&m, buf, 0, &len), 0);
	assert_int_equal(len, 0);
}

static void
test_encode_ignores_have_bits_of_no_tag(void **state)
{
	uint8_t buf[64];
	struct modmsg m;
	size_t len;

	memset(&m, 0, sizeof(m));
	m.have = 1u | 1u << (MODMSG_TAG_LAST + 1) | 1u << 31;
	assert_int_equal(modmsg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 0);
}

static void
test_encode_of_a_canonical_body_gives_it_back(void **state)
{
	uint8_t buf[MODMSG_BODY_MAX], again[MODMSG_BODY_MAX];
	struct modmsg in, m;
	size_t len, len2;

	full(&in);
	assert_int_equal(modmsg_encode(&in, buf, sizeof(buf), &len), 0);
	assert_int_equal(modmsg_decode(buf, len, &m), 0);
	assert_int_equal(modmsg_encode(&m, again, sizeof(again), &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(again, buf, len);
}

static void
expect_encode_einval(const struct modmsg *m)
{
	uint8_t buf[MODMSG_BODY_MAX];
	size_t len = 12345;

	assert_int_equal(modmsg_encode(m, buf, sizeof(buf), &len), ZTP_EINVAL);
	assert_int_equal(len, 12345);
}

static void
test_encode_refuses_invalid_texts(void **state)
{
	struct modmsg m;

	full(&m);
	strcpy(m.profile, "0123456789ABCDEF0123456789abcdef");
	expect_encode_einval(&m);
	full(&m);
	m.profile[31] = '\0';
	expect_encode_einval(&m);
	full(&m);
	m.profile[0] = '\0';
	expect_encode_einval(&m);
	full(&m);
	strcpy(m.serial, "a\"b");
	expect_encode_einval(&m);
	full(&m);
	m.serial[0] = '\0';
	expect_encode_einval(&m);
	full(&m);
	strcpy(m.serial, "tab\there");
	expect_encode_einval(&m);
	full(&m);
	m.firmware[0] = '\0';
	expect_encode_einval(&m);
	full(&m);
	strcpy(m.firmware, "\x7f");
	expect_encode_einval(&m);
}

static void
test_encode_refuses_texts_without_a_nul(void **state)
{
	struct modmsg m;

	full(&m);
	memset(m.profile, 'a', sizeof(m.profile));
	expect_encode_einval(&m);
	full(&m);
	memset(m.serial, 'a', sizeof(m.serial));
	expect_encode_einval(&m);
	full(&m);
	memset(m.firmware, 'a', sizeof(m.firmware));
	expect_encode_einval(&m);
}

static void
test_encode_the_longest_texts(void **state)
{
	uint8_t buf[MODMSG_BODY_MAX];
	struct modmsg in, out;
	size_t len;

	full(&in);
	memset(in.serial, 'S', MODMSG_SERIAL_MAX);
	in.serial[MODMSG_SERIAL_MAX] = '\0';
	memset(in.firmware, 'F', MODMSG_FIRMWARE_MAX);
	in.firmware[MODMSG_FIRMWARE_MAX] = '\0';
	assert_int_equal(modmsg_encode(&in, buf, sizeof(buf), &len), 0);
	assert_true(len <= MODMSG_BODY_MAX);
	assert_int_equal(modmsg_decode(buf, len, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void
test_encode_refuses_every_buffer_too_small(void **state)
{
	uint8_t buf[MODMSG_BODY_MAX];
	struct modmsg m;
	size_t need, cap, len;

	full(&m);
	assert_int_equal(modmsg_encode(&m, buf, sizeof(buf), &need), 0);
	for (cap = 0; cap < need; cap++) {
		len = 12345;
		assert_int_equal(modmsg_encode(&m, buf, cap, &len), ZTP_ETOOBIG);
		assert_int_equal(len, 12345);
	}
	assert_int_equal(modmsg_encode(&m, buf, need, &len), 0);
	assert_int_equal(len, need);
}

/* ---- validators ---- */

static void
test_validators(void **state)
{
	assert_int_equal(modmsg_profile_valid(PROFILE, 32), 1);
	assert_int_equal(modmsg_profile_valid(PROFILE, 31), 0);
	assert_int_equal(modmsg_profile_valid("0123456789abcdef0123456789abcdeF", 32), 0);
	assert_int_equal(modmsg_uid_hex_valid(UID_HEX, 32), 1);
	assert_int_equal(modmsg_uid_hex_valid(UID_HEX "0", 33), 0);
	assert_int_equal(modmsg_uid_hex_valid("00112233445566778899AABBCCDDEEFF", 32), 0);
	assert_int_equal(modmsg_serial_valid(" ", 1), 1);
	assert_int_equal(modmsg_serial_valid("\"", 1), 0);
	assert_int_equal(modmsg_firmware_valid("\"", 1), 1);
	assert_int_equal(modmsg_firmware_valid("", 0), 0);
}

/* ---- identities ---- */

static void
test_identity_of_epoch_0_has_no_dot(void **state)
{
	char out[MODMSG_IDENTITY_MAX + 1];

	assert_int_equal(modmsg_identity(uid, 0, out, sizeof(out)), 33);
	assert_string_equal(out, "M" UID_HEX);
}

static void
test_identity_of_epoch_7_and_max(void **state)
{
	char out[MODMSG_IDENTITY_MAX + 1];

	assert_int_equal(modmsg_identity(uid, 7, out, sizeof(out)), 35);
	assert_string_equal(out, "M" UID_HEX ".7");
	assert_int_equal(modmsg_identity(uid, UINT32_MAX, out, sizeof(out)), MODMSG_IDENTITY_MAX);
	assert_string_equal(out, "M" UID_HEX ".4294967295");
	assert_int_equal(modmsg_identity(uid, 10, out, sizeof(out)), 36);
	assert_string_equal(out, "M" UID_HEX ".10");
}

static void
test_identity_refuses_a_small_buffer(void **state)
{
	char out[MODMSG_IDENTITY_MAX + 1];

	memset(out, 'z', sizeof(out));
	assert_int_equal(modmsg_identity(uid, 0, out, MODMSG_IDENTITY_MAX), 0);
	assert_int_equal(out[0], 'z');
	assert_int_equal(modmsg_identity(uid, 0, out, 0), 0);
}

static void
test_identity_parse_round_trips(void **state)
{
	static const uint32_t epochs[] = { 0, 1, 7, 9, 10, 99, 100, 65536, 1000000000,
		UINT32_MAX - 1, UINT32_MAX };
	char id[MODMSG_IDENTITY_MAX + 1];
	uint8_t got[MODMSG_UID_LEN];
	uint32_t e;
	size_t i, n;

	for (i = 0; i < sizeof(epochs) / sizeof(epochs[0]); i++) {
		n = modmsg_identity(uid, epochs[i], id, sizeof(id));
		assert_true(n > 0);
		e = 12345;
		assert_int_equal(modmsg_identity_parse((const uint8_t *)id, n, got, &e), 0);
		assert_memory_equal(got, uid, sizeof(uid));
		assert_int_equal(e, epochs[i]);
	}
}

/* Parse s (strlen bytes unless len given) and expect rc with uid, epoch untouched. */
static void
expect_parse(const char *s, size_t len, int rc)
{
	uint8_t got[MODMSG_UID_LEN], poison[MODMSG_UID_LEN];
	uint32_t e = 0xA5A5A5A5;

	memset(got, 0xA5, sizeof(got));
	memset(poison, 0xA5, sizeof(poison));
	assert_int_equal(modmsg_identity_parse((const uint8_t *)s, len, got, &e), rc);
	assert_memory_equal(got, poison, sizeof(got));
	assert_int_equal(e, 0xA5A5A5A5);
}

#define PARSE(s, rc) expect_parse(s, sizeof(s) - 1, rc)

static void
test_identity_parse_not_a_module(void **state)
{
	PARSE("", ZTP_ENOENT);
	PARSE("8944502509186389635", ZTP_ENOENT);
	PARSE("m" UID_HEX, ZTP_ENOENT);
	PARSE("\x98\x44\x05\x52\x90\x81\x36\x98\x36\xF5", ZTP_ENOENT);
}

static void
test_identity_parse_refuses_upper_case_hex(void **state)
{
	PARSE("M00112233445566778899AABBCCDDEEFF", ZTP_EMALFORMED);
	PARSE("M00112233445566778899aabbccddeeFf", ZTP_EMALFORMED);
}

static void
test_identity_parse_refuses_too_short(void **state)
{
	PARSE("M", ZTP_EMALFORMED);
	PARSE("M00112233445566778899aabbccddeef", ZTP_EMALFORMED);
	PARSE("M00112233445566778899aabbccddee.1", ZTP_EMALFORMED);
}

static void
test_identity_parse_refuses_bad_epochs(void **state)
{
	PARSE("M" UID_HEX ".", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ".0", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ".00", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ".07", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ".4294967296", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ".9999999999", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ".10000000000", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ".42949672950", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ".-1", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ".+1", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ". 1", ZTP_EMALFORMED);
	PARSE("M" UID_HEX "..1", ZTP_EMALFORMED);
}

static void
test_identity_parse_refuses_trailing_junk(void **state)
{
	PARSE("M" UID_HEX "0", ZTP_EMALFORMED);
	PARSE("M" UID_HEX " ", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ",1", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ".7x", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ".7 ", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ".7.1", ZTP_EMALFORMED);
	PARSE("M" UID_HEX ".7\0", ZTP_EMALFORMED);
	PARSE("M" UID_HEX "\0", ZTP_EMALFORMED);
}

static void
test_identity_parse_refuses_a_nul_inside(void **state)
{
	PARSE("M00112233445566778899aabbccdd\0eff", ZTP_EMALFORMED);
}

/* ---- features ---- */

static void
test_features_parse(void **state)
{
	uint32_t b = 0xdead;

	assert_int_equal(modmsg_features_parse("psk,e2e", &b), 0);
	assert_int_equal(b, MODMSG_F_PSK | MODMSG_F_E2E);
	assert_int_equal(modmsg_features_parse("ztp-cert", &b), 0);
	assert_int_equal(b, MODMSG_F_ZTP_CERT);
	assert_int_equal(modmsg_features_parse("c2c,local-data,ztp-cert,e2e,psk,c2c-pairing", &b), 0);
	assert_int_equal(b, MODMSG_F_ALL);
	assert_int_equal(modmsg_features_parse("", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(modmsg_features_parse("psk,psk", &b), 0);
	assert_int_equal(b, MODMSG_F_PSK);
}

static void
test_features_parse_refuses_bad_lists(void **state)
{
	static const char *const bad[] = { "nope", "PSK", "psk,", ",psk", "psk,,e2e", ",",
		"psk e2e", " psk", "psk ", "ps", "pskx", "local_data", "e2e;psk" };
	uint32_t b;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = 0xdead;
		assert_int_equal(modmsg_features_parse(bad[i], &b), ZTP_EINVAL);
		assert_int_equal(b, 0xdead);
	}
}

static void
test_features_format(void **state)
{
	char out[64];

	assert_int_equal(modmsg_features_format(0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(modmsg_features_format(MODMSG_F_ALL, out, sizeof(out)), 0);
	assert_string_equal(out, "psk,e2e,local-data,c2c,ztp-cert,c2c-pairing");
	assert_int_equal(modmsg_features_format(MODMSG_F_C2C | MODMSG_F_E2E, out, sizeof(out)), 0);
	assert_string_equal(out, "e2e,c2c");
	/* bits of no feature are left out */
	assert_int_equal(modmsg_features_format(0xFFFFFFC0u | MODMSG_F_PSK, out, sizeof(out)), 0);
	assert_string_equal(out, "psk");
}

static void
test_features_format_buffer_sizes(void **state)
{
	const char *all = "psk,e2e,local-data,c2c,ztp-cert,c2c-pairing";
	size_t need = strlen(all) + 1, cap;
	char out[64];

	assert_int_equal(modmsg_features_format(MODMSG_F_ALL, out, need), 0);
	assert_string_equal(out, all);
	for (cap = 1; cap < need; cap++)
		assert_int_equal(modmsg_features_format(MODMSG_F_ALL, out, cap), ZTP_ETOOBIG);
	assert_int_equal(modmsg_features_format(0, out, 0), ZTP_ETOOBIG);
	assert_int_equal(modmsg_features_format(0, out, 1), 0);
	assert_string_equal(out, "");
}

static void
test_features_round_trip(void **state)
{
	char out[64];
	uint32_t bits, b;

	for (bits = 0; bits <= MODMSG_F_ALL; bits++) {
		assert_int_equal(modmsg_features_format(bits, out, sizeof(out)), 0);
		assert_int_equal(modmsg_features_parse(out, &b), 0);
		assert_int_equal(b, bits);
	}
}

static void
test_feature_name(void **state)
{
	assert_string_equal(modmsg_feature_name(MODMSG_F_PSK), "psk");
	assert_string_equal(modmsg_feature_name(MODMSG_F_E2E), "e2e");
	assert_string_equal(modmsg_feature_name(MODMSG_F_LOCAL_DATA), "local-data");
	assert_string_equal(modmsg_feature_name(MODMSG_F_C2C), "c2c");
	assert_string_equal(modmsg_feature_name(MODMSG_F_ZTP_CERT), "ztp-cert");
	assert_null(modmsg_feature_name(0));
	assert_null(modmsg_feature_name(MODMSG_F_PSK | MODMSG_F_E2E));
	assert_string_equal(modmsg_feature_name(MODMSG_F_C2C_PAIRING), "c2c-pairing");
	assert_null(modmsg_feature_name(0x40));
	assert_null(modmsg_feature_name(0x80000000u));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_empty_body_has_nothing),
		cmocka_unit_test(test_decode_profile),
		cmocka_unit_test(test_decode_profile_refuses_wrong_length_and_form),
		cmocka_unit_test(test_decode_serial_1_and_64),
		cmocka_unit_test(test_decode_serial_refuses_wrong_length_and_form),
		cmocka_unit_test(test_decode_firmware_1_and_32_quotes_allowed),
		cmocka_unit_test(test_decode_firmware_refuses_wrong_length_and_form),
		cmocka_unit_test(test_decode_u32_items_are_big_endian),
		cmocka_unit_test(test_decode_u32_items_refuse_other_lengths),
		cmocka_unit_test(test_decode_u8_items),
		cmocka_unit_test(test_decode_counters),
		cmocka_unit_test(test_decode_refuses_every_known_tag_twice),
		cmocka_unit_test(test_decode_skips_unknown_tags),
		cmocka_unit_test(test_decode_unknown_tag_only),
		cmocka_unit_test(test_decode_refuses_truncated_items),
		cmocka_unit_test(test_decode_refuses_a_lone_tag_and_a_length_past_the_end),
		cmocka_unit_test(test_decode_512_bytes_and_not_513),
		cmocka_unit_test(test_decode_a_refused_body_leaves_nothing),
		cmocka_unit_test(test_encode_round_trip_of_every_item),
		cmocka_unit_test(test_encode_in_tag_order_with_exact_bytes),
		cmocka_unit_test(test_encode_nothing_is_an_empty_body),
		cmocka_unit_test(test_encode_ignores_have_bits_of_no_tag),
		cmocka_unit_test(test_encode_of_a_canonical_body_gives_it_back),
		cmocka_unit_test(test_encode_refuses_invalid_texts),
		cmocka_unit_test(test_encode_refuses_texts_without_a_nul),
		cmocka_unit_test(test_encode_the_longest_texts),
		cmocka_unit_test(test_encode_refuses_every_buffer_too_small),
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_identity_of_epoch_0_has_no_dot),
		cmocka_unit_test(test_identity_of_epoch_7_and_max),
		cmocka_unit_test(test_identity_refuses_a_small_buffer),
		cmocka_unit_test(test_identity_parse_round_trips),
		cmocka_unit_test(test_identity_parse_not_a_module),
		cmocka_unit_test(test_identity_parse_refuses_upper_case_hex),
		cmocka_unit_test(test_identity_parse_refuses_too_short),
		cmocka_unit_test(test_identity_parse_refuses_bad_epochs),
		cmocka_unit_test(test_identity_parse_refuses_trailing_junk),
		cmocka_unit_test(test_identity_parse_refuses_a_nul_inside),
		cmocka_unit_test(test_features_parse),
		cmocka_unit_test(test_features_parse_refuses_bad_lists),
		cmocka_unit_test(test_features_format),
		cmocka_unit_test(test_features_format_buffer_sizes),
		cmocka_unit_test(test_features_round_trip),
		cmocka_unit_test(test_feature_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
