/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ICCIDs and PSK identities (include/ztp/iccid.h, spec safe2.md section 5).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ztp/err.h"
#include "ztp/iccid.h"

/* the spec's example: 8944502509186389635 is 98 44 05 52 90 81 36 98 36 F5 */
#define SPEC_ICCID "8944502509186389635"
static const uint8_t spec_ef[ICCID_EF_LEN] = { 0x98, 0x44, 0x05, 0x52, 0x90, 0x81, 0x36, 0x98,
	0x36, 0xF5 };

#define ICCID18 "894450250918638963"
static const uint8_t ef18[ICCID_EF_LEN] = { 0x98, 0x44, 0x05, 0x52, 0x90, 0x81, 0x36, 0x98,
	0x36, 0xFF };

#define ICCID20 "89445025091863896351"
static const uint8_t ef20[ICCID_EF_LEN] = { 0x98, 0x44, 0x05, 0x52, 0x90, 0x81, 0x36, 0x98,
	0x36, 0x15 };

/* A poisoned identity, to see that a failed parse leaves *out alone. */
static void
poison(struct iccid_identity *id)
{
	memset(id, 0xA5, sizeof(*id));
}

static int
is_poisoned(const struct iccid_identity *id)
{
	struct iccid_identity p;

	poison(&p);
	return memcmp(&p, id, sizeof(p)) == 0;
}

/* Parse s (strlen bytes) and expect ZTP_EMALFORMED with *out untouched. */
static void
expect_malformed(const void *s, size_t len)
{
	struct iccid_identity id;

	poison(&id);
	assert_int_equal(iccid_parse_identity(s, len, &id), ZTP_EMALFORMED);
	assert_true(is_poisoned(&id));
}

/* ---- iccid_valid ---- */

static void
test_valid_accepts_18_19_and_20_digits(void **state)
{
	assert_int_equal(iccid_valid(ICCID18, 18), 1);
	assert_int_equal(iccid_valid(SPEC_ICCID, 19), 1);
	assert_int_equal(iccid_valid(ICCID20, 20), 1);
}

static void
test_valid_rejects_17_and_21_digits(void **state)
{
	assert_int_equal(iccid_valid("89445025091863896", 17), 0);
	assert_int_equal(iccid_valid("894450250918638963512", 21), 0);
}

static void
test_valid_rejects_empty_and_null(void **state)
{
	assert_int_equal(iccid_valid("", 0), 0);
	assert_int_equal(iccid_valid(NULL, 19), 0);
}

static void
test_valid_rejects_a_non_digit(void **state)
{
	assert_int_equal(iccid_valid("894450250918638963A", 19), 0);
	assert_int_equal(iccid_valid("8944502509 86389635", 19), 0);
	assert_int_equal(iccid_valid("-944502509186389635", 19), 0);
	assert_int_equal(iccid_valid("89445025091863\0" "8963", 19), 0);
}

static void
test_valid_reads_only_len_bytes(void **state)
{
	/* what follows the span does not matter */
	assert_int_equal(iccid_valid(SPEC_ICCID "xyz", 19), 1);
}

/* ---- iccid_from_ef / iccid_to_ef ---- */

static void
test_from_ef_decodes_the_spec_example(void **state)
{
	char out[ICCID_STR_SIZE];

	assert_int_equal(iccid_from_ef(spec_ef, out), 0);
	assert_string_equal(out, SPEC_ICCID);
}

static void
test_to_ef_encodes_the_spec_example(void **state)
{
	uint8_t ef[ICCID_EF_LEN];

	assert_int_equal(iccid_to_ef(SPEC_ICCID, ef), 0);
	assert_memory_equal(ef, spec_ef, ICCID_EF_LEN);
}

static void
test_ef_round_trip_18_digits(void **state)
{
	uint8_t ef[ICCID_EF_LEN];
	char out[ICCID_STR_SIZE];

	assert_int_equal(iccid_to_ef(ICCID18, ef), 0);
	assert_memory_equal(ef, ef18, ICCID_EF_LEN);
	assert_int_equal(iccid_from_ef(ef, out), 0);
	assert_string_equal(out, ICCID18);
}

static void
test_ef_round_trip_20_digits(void **state)
{
	uint8_t ef[ICCID_EF_LEN];
	char out[ICCID_STR_SIZE];

	assert_int_equal(iccid_to_ef(ICCID20, ef), 0);
	assert_memory_equal(ef, ef20, ICCID_EF_LEN);
	assert_int_equal(iccid_from_ef(ef, out), 0);
	assert_string_equal(out, ICCID20);
}

static void
test_to_ef_rejects_invalid_iccids(void **state)
{
	uint8_t ef[ICCID_EF_LEN];

	assert_int_equal(iccid_to_ef(NULL, ef), ZTP_EMALFORMED);
	assert_int_equal(iccid_to_ef("", ef), ZTP_EMALFORMED);
	assert_int_equal(iccid_to_ef("89445025091863896", ef), ZTP_EMALFORMED);
	assert_int_equal(iccid_to_ef("894450250918638963512", ef), ZTP_EMALFORMED);
	assert_int_equal(iccid_to_ef("89445025091863896F", ef), ZTP_EMALFORMED);
}

static void
test_from_ef_rejects_a_filler_before_a_digit(void **state)
{
	uint8_t ef[ICCID_EF_LEN];
	char out[ICCID_STR_SIZE] = "untouched";

	memcpy(ef, spec_ef, sizeof(ef));
	ef[4] = 0xF0; /* F filler in the middle */
	assert_int_equal(iccid_from_ef(ef, out), ZTP_EMALFORMED);
	/* filler in the low nibble of the last byte with a digit after it */
	memcpy(ef, ef20, sizeof(ef));
	ef[9] = 0x5F;
	assert_int_equal(iccid_from_ef(ef, out), ZTP_EMALFORMED);
	assert_string_equal(out, "untouched");
}

static void
test_from_ef_rejects_nibbles_a_to_e(void **state)
{
	uint8_t ef[ICCID_EF_LEN];
	char out[ICCID_STR_SIZE];
	uint8_t nib;

	for (nib = 0xA; nib <= 0xE; nib++) {
		memcpy(ef, spec_ef, sizeof(ef));
		ef[3] = (uint8_t)(nib << 4 | 0x2);
		assert_int_equal(iccid_from_ef(ef, out), ZTP_EMALFORMED);
		memcpy(ef, spec_ef, sizeof(ef));
		ef[0] = (uint8_t)(0x90 | nib);
		assert_int_equal(iccid_from_ef(ef, out), ZTP_EMALFORMED);
	}
}

static void
test_from_ef_rejects_fewer_than_18_digits(void **state)
{
	/* 17 digits: 8944502509186389 6, then filler */
	static const uint8_t ef17[ICCID_EF_LEN] = { 0x98, 0x44, 0x05, 0x52, 0x90, 0x81, 0x36,
		0x98, 0xF6, 0xFF };
	static const uint8_t all_f[ICCID_EF_LEN] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF };
	char out[ICCID_STR_SIZE];

	assert_int_equal(iccid_from_ef(ef17, out), ZTP_EMALFORMED);
	assert_int_equal(iccid_from_ef(all_f, out), ZTP_EMALFORMED);
}

/* ---- iccid_from_ef_hex ---- */

static void
test_from_ef_hex_accepts_upper_case(void **state)
{
	char out[ICCID_STR_SIZE];

	assert_int_equal(iccid_from_ef_hex("984405529081369836F5", 20, out), 0);
	assert_string_equal(out, SPEC_ICCID);
}

static void
test_from_ef_hex_accepts_lower_case(void **state)
{
	char out[ICCID_STR_SIZE];

	assert_int_equal(iccid_from_ef_hex("984405529081369836f5", 20, out), 0);
	assert_string_equal(out, SPEC_ICCID);
}

static void
test_from_ef_hex_rejects_a_wrong_length(void **state)
{
	char out[ICCID_STR_SIZE];

	assert_int_equal(iccid_from_ef_hex("984405529081369836F", 19, out), ZTP_EMALFORMED);
	assert_int_equal(iccid_from_ef_hex("984405529081369836F5F", 21, out), ZTP_EMALFORMED);
	assert_int_equal(iccid_from_ef_hex("984405529081369836F5FF", 22, out), ZTP_EMALFORMED);
	assert_int_equal(iccid_from_ef_hex("", 0, out), ZTP_EMALFORMED);
	assert_int_equal(iccid_from_ef_hex(NULL, 20, out), ZTP_EMALFORMED);
}

static void
test_from_ef_hex_rejects_bad_hex(void **state)
{
	char out[ICCID_STR_SIZE];

	assert_int_equal(iccid_from_ef_hex("984405529081369836G5", 20, out), ZTP_EMALFORMED);
	assert_int_equal(iccid_from_ef_hex("98440552908136983 F5", 20, out), ZTP_EMALFORMED);
	assert_int_equal(iccid_from_ef_hex("0x4405529081369836F5", 20, out), ZTP_EMALFORMED);
}

static void
test_from_ef_hex_rejects_good_hex_of_bad_bcd(void **state)
{
	char out[ICCID_STR_SIZE];

	assert_int_equal(iccid_from_ef_hex("9844055290813698A6F5", 20, out), ZTP_EMALFORMED);
	assert_int_equal(iccid_from_ef_hex("98440552F081369836F5", 20, out), ZTP_EMALFORMED);
}

/* ---- iccid_parse_identity: the accepted forms ---- */

static void
test_identity_bcd_10_bytes(void **state)
{
	struct iccid_identity id;

	assert_int_equal(iccid_parse_identity(spec_ef, sizeof(spec_ef), &id), 0);
	assert_string_equal(id.iccid, SPEC_ICCID);
	assert_int_equal(id.bcd, 1);
	assert_int_equal(id.has_generation, 0);
	assert_int_equal(id.generation, 0);
}

/* ef followed by the ASCII text gen */
static size_t
bcd_with(const char *gen, uint8_t *buf)
{
	memcpy(buf, spec_ef, ICCID_EF_LEN);
	memcpy(buf + ICCID_EF_LEN, gen, strlen(gen));
	return ICCID_EF_LEN + strlen(gen);
}

static void
test_identity_bcd_with_generation_0(void **state)
{
	struct iccid_identity id;
	uint8_t buf[64];
	size_t n = bcd_with(".0", buf);

	assert_int_equal(iccid_parse_identity(buf, n, &id), 0);
	assert_string_equal(id.iccid, SPEC_ICCID);
	assert_int_equal(id.bcd, 1);
	assert_int_equal(id.has_generation, 1);
	assert_int_equal(id.generation, 0);
}

static void
test_identity_bcd_with_generation_7(void **state)
{
	struct iccid_identity id;
	uint8_t buf[64];
	size_t n = bcd_with(".7", buf);

	assert_int_equal(iccid_parse_identity(buf, n, &id), 0);
	assert_string_equal(id.iccid, SPEC_ICCID);
	assert_int_equal(id.bcd, 1);
	assert_int_equal(id.has_generation, 1);
	assert_int_equal(id.generation, 7);
}

static void
test_identity_bcd_with_generation_uint32_max(void **state)
{
	struct iccid_identity id;
	uint8_t buf[64];
	size_t n = bcd_with(".4294967295", buf);

	assert_int_equal(iccid_parse_identity(buf, n, &id), 0);
	assert_string_equal(id.iccid, SPEC_ICCID);
	assert_int_equal(id.bcd, 1);
	assert_int_equal(id.has_generation, 1);
	assert_int_equal(id.generation, UINT32_MAX);
}

static void
test_identity_ascii_19_digits(void **state)
{
	struct iccid_identity id;

	assert_int_equal(iccid_parse_identity((const uint8_t *)SPEC_ICCID, 19, &id), 0);
	assert_string_equal(id.iccid, SPEC_ICCID);
	assert_int_equal(id.bcd, 0);
	assert_int_equal(id.has_generation, 0);
	assert_int_equal(id.generation, 0);
}

static void
test_identity_ascii_with_generation_0(void **state)
{
	static const char s[] = SPEC_ICCID ".0";
	struct iccid_identity id;

	assert_int_equal(iccid_parse_identity((const uint8_t *)s, strlen(s), &id), 0);
	assert_string_equal(id.iccid, SPEC_ICCID);
	assert_int_equal(id.bcd, 0);
	assert_int_equal(id.has_generation, 1);
	assert_int_equal(id.generation, 0);
}

static void
test_identity_ascii_with_generation_7(void **state)
{
	static const char s[] = SPEC_ICCID ".7";
	struct iccid_identity id;

	assert_int_equal(iccid_parse_identity((const uint8_t *)s, strlen(s), &id), 0);
	assert_string_equal(id.iccid, SPEC_ICCID);
	assert_int_equal(id.has_generation, 1);
	assert_int_equal(id.generation, 7);
}

static void
test_identity_ascii_with_generation_uint32_max(void **state)
{
	static const char s[] = SPEC_ICCID ".4294967295";
	struct iccid_identity id;

	assert_int_equal(iccid_parse_identity((const uint8_t *)s, strlen(s), &id), 0);
	assert_string_equal(id.iccid, SPEC_ICCID);
	assert_int_equal(id.has_generation, 1);
	assert_int_equal(id.generation, UINT32_MAX);
}

static void
test_identity_ascii_18_and_20_digits(void **state)
{
	struct iccid_identity id;

	assert_int_equal(iccid_parse_identity((const uint8_t *)ICCID18, 18, &id), 0);
	assert_string_equal(id.iccid, ICCID18);
	assert_int_equal(iccid_parse_identity((const uint8_t *)ICCID20, 20, &id), 0);
	assert_string_equal(id.iccid, ICCID20);
}

static void
test_identity_of_the_longest_form_is_accepted(void **state)
{
	static const char s[] = ICCID20 ".4294967295";
	struct iccid_identity id;

	assert_int_equal(strlen(s), ICCID_IDENTITY_MAX);
	assert_int_equal(iccid_parse_identity((const uint8_t *)s, strlen(s), &id), 0);
	assert_string_equal(id.iccid, ICCID20);
	assert_int_equal(id.generation, UINT32_MAX);
}

/*
 * Ten ASCII digits are ten bytes, each of which is valid BCD (0x30..0x39:
 * low nibble the digit, high nibble 3). The parser takes them as EF_ICCID
 * bytes: "1234567890" is the 20-digit ICCID 13 23 33 43 53 63 73 83 93 03.
 */
static void
test_identity_10_ascii_digits_are_bcd_bytes(void **state)
{
	struct iccid_identity id;

	assert_int_equal(iccid_parse_identity((const uint8_t *)"1234567890", 10, &id), 0);
	assert_int_equal(id.bcd, 1);
	assert_string_equal(id.iccid, "13233343536373839303");
	assert_int_equal(id.has_generation, 0);
}

static void
test_identity_10_ascii_digits_with_generation_are_bcd_bytes(void **state)
{
	struct iccid_identity id;

	assert_int_equal(iccid_parse_identity((const uint8_t *)"1234567890.3", 12, &id), 0);
	assert_int_equal(id.bcd, 1);
	assert_string_equal(id.iccid, "13233343536373839303");
	assert_int_equal(id.has_generation, 1);
	assert_int_equal(id.generation, 3);
}

/* ---- iccid_parse_identity: every malformed form ---- */

static void
test_identity_rejects_empty(void **state)
{
	expect_malformed("", 0);
}

static void
test_identity_rejects_null(void **state)
{
	expect_malformed(NULL, 19);
}

static void
test_identity_rejects_17_ascii_digits(void **state)
{
	expect_malformed("89445025091863896", 17);
}

static void
test_identity_rejects_21_ascii_digits(void **state)
{
	expect_malformed("894450250918638963512", 21);
}

static void
test_identity_rejects_a_lone_dot(void **state)
{
	expect_malformed(".", 1);
}

static void
test_identity_rejects_a_dot_without_generation(void **state)
{
	uint8_t buf[64];

	expect_malformed(SPEC_ICCID ".", 20);
	expect_malformed(buf, bcd_with(".", buf));
}

static void
test_identity_rejects_a_generation_with_a_leading_zero(void **state)
{
	uint8_t buf[64];

	expect_malformed(SPEC_ICCID ".01", 22);
	expect_malformed(SPEC_ICCID ".00", 22);
	expect_malformed(buf, bcd_with(".01", buf));
}

static void
test_identity_rejects_a_generation_over_32_bits(void **state)
{
	uint8_t buf[64];

	expect_malformed(SPEC_ICCID ".4294967296", 30);
	expect_malformed(SPEC_ICCID ".9999999999", 30);
	expect_malformed(buf, bcd_with(".4294967296", buf));
}

static void
test_identity_rejects_a_generation_of_11_digits(void **state)
{
	uint8_t buf[64];

	expect_malformed(ICCID18 ".12345678901", 30);
	expect_malformed(buf, bcd_with(".12345678901", buf));
}

static void
test_identity_rejects_a_non_digit_generation(void **state)
{
	uint8_t buf[64];

	expect_malformed(SPEC_ICCID ".x", 21);
	expect_malformed(SPEC_ICCID ".-1", 22);
	expect_malformed(SPEC_ICCID ".+1", 22);
	expect_malformed(SPEC_ICCID ". 1", 22);
	expect_malformed(SPEC_ICCID ".1.2", 23);
	expect_malformed(buf, bcd_with(".x", buf));
}

static void
test_identity_rejects_trailing_garbage(void **state)
{
	uint8_t buf[64];

	expect_malformed(SPEC_ICCID "x", 20);
	expect_malformed(SPEC_ICCID " ", 20);
	expect_malformed(SPEC_ICCID ".7x", 22);
	expect_malformed(buf, bcd_with("x", buf));
}

static void
test_identity_rejects_a_non_digit_inside(void **state)
{
	expect_malformed("89445025x9186389635", 19);
	expect_malformed("8944502509186389 35", 19);
}

static void
test_identity_rejects_bcd_with_a_filler_before_the_end(void **state)
{
	uint8_t buf[ICCID_EF_LEN];

	memcpy(buf, spec_ef, sizeof(buf));
	buf[4] = 0xF0;
	expect_malformed(buf, sizeof(buf));
	memcpy(buf, spec_ef, sizeof(buf));
	buf[0] = 0x9F;
	expect_malformed(buf, sizeof(buf));
}

static void
test_identity_rejects_bcd_with_nibbles_a_to_e(void **state)
{
	uint8_t buf[ICCID_EF_LEN];
	uint8_t nib;

	for (nib = 0xA; nib <= 0xE; nib++) {
		memcpy(buf, spec_ef, sizeof(buf));
		buf[5] = (uint8_t)(nib << 4 | 0x1);
		expect_malformed(buf, sizeof(buf));
		memcpy(buf, spec_ef, sizeof(buf));
		buf[9] = (uint8_t)(0xF0 | nib);
		expect_malformed(buf, sizeof(buf));
	}
}

static void
test_identity_rejects_bcd_with_fewer_than_18_digits(void **state)
{
	static const uint8_t ef17[ICCID_EF_LEN] = { 0x98, 0x44, 0x05, 0x52, 0x90, 0x81, 0x36,
		0x98, 0xF6, 0xFF };
	static const uint8_t ef16[ICCID_EF_LEN] = { 0x98, 0x44, 0x05, 0x52, 0x90, 0x81, 0x36,
		0x98, 0xFF, 0xFF };

	expect_malformed(ef17, sizeof(ef17));
	expect_malformed(ef16, sizeof(ef16));
}

static void
test_identity_rejects_11_bcd_bytes_without_a_dot(void **state)
{
	uint8_t buf[ICCID_EF_LEN + 1];

	memcpy(buf, spec_ef, ICCID_EF_LEN);
	buf[ICCID_EF_LEN] = 0x12;
	expect_malformed(buf, sizeof(buf));
}

static void
test_identity_rejects_9_bcd_bytes(void **state)
{
	expect_malformed(spec_ef, ICCID_EF_LEN - 1);
}

static void
test_identity_rejects_a_nul_inside(void **state)
{
	static const char nul_in_digits[] = "894450250918\0" "6389635";
	uint8_t buf[64];
	size_t n;

	expect_malformed(nul_in_digits, sizeof(nul_in_digits) - 1);
	expect_malformed(SPEC_ICCID "\0", 20);
	expect_malformed(SPEC_ICCID ".\0" "7", 22);
	n = bcd_with(".7", buf);
	buf[n] = '\0';
	expect_malformed(buf, n + 1);
}

static void
test_identity_rejects_over_identity_max(void **state)
{
	uint8_t buf[ICCID_IDENTITY_MAX + 1];

	/* 20 digits, '.', 10 digits and one more byte */
	memcpy(buf, ICCID20 ".4294967295", ICCID_IDENTITY_MAX);
	buf[ICCID_IDENTITY_MAX] = '5';
	expect_malformed(buf, sizeof(buf));
	memset(buf, '1', sizeof(buf));
	expect_malformed(buf, sizeof(buf));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_accepts_18_19_and_20_digits),
		cmocka_unit_test(test_valid_rejects_17_and_21_digits),
		cmocka_unit_test(test_valid_rejects_empty_and_null),
		cmocka_unit_test(test_valid_rejects_a_non_digit),
		cmocka_unit_test(test_valid_reads_only_len_bytes),
		cmocka_unit_test(test_from_ef_decodes_the_spec_example),
		cmocka_unit_test(test_to_ef_encodes_the_spec_example),
		cmocka_unit_test(test_ef_round_trip_18_digits),
		cmocka_unit_test(test_ef_round_trip_20_digits),
		cmocka_unit_test(test_to_ef_rejects_invalid_iccids),
		cmocka_unit_test(test_from_ef_rejects_a_filler_before_a_digit),
		cmocka_unit_test(test_from_ef_rejects_nibbles_a_to_e),
		cmocka_unit_test(test_from_ef_rejects_fewer_than_18_digits),
		cmocka_unit_test(test_from_ef_hex_accepts_upper_case),
		cmocka_unit_test(test_from_ef_hex_accepts_lower_case),
		cmocka_unit_test(test_from_ef_hex_rejects_a_wrong_length),
		cmocka_unit_test(test_from_ef_hex_rejects_bad_hex),
		cmocka_unit_test(test_from_ef_hex_rejects_good_hex_of_bad_bcd),
		cmocka_unit_test(test_identity_bcd_10_bytes),
		cmocka_unit_test(test_identity_bcd_with_generation_0),
		cmocka_unit_test(test_identity_bcd_with_generation_7),
		cmocka_unit_test(test_identity_bcd_with_generation_uint32_max),
		cmocka_unit_test(test_identity_ascii_19_digits),
		cmocka_unit_test(test_identity_ascii_with_generation_0),
		cmocka_unit_test(test_identity_ascii_with_generation_7),
		cmocka_unit_test(test_identity_ascii_with_generation_uint32_max),
		cmocka_unit_test(test_identity_ascii_18_and_20_digits),
		cmocka_unit_test(test_identity_of_the_longest_form_is_accepted),
		cmocka_unit_test(test_identity_10_ascii_digits_are_bcd_bytes),
		cmocka_unit_test(test_identity_10_ascii_digits_with_generation_are_bcd_bytes),
		cmocka_unit_test(test_identity_rejects_empty),
		cmocka_unit_test(test_identity_rejects_null),
		cmocka_unit_test(test_identity_rejects_17_ascii_digits),
		cmocka_unit_test(test_identity_rejects_21_ascii_digits),
		cmocka_unit_test(test_identity_rejects_a_lone_dot),
		cmocka_unit_test(test_identity_rejects_a_dot_without_generation),
		cmocka_unit_test(test_identity_rejects_a_generation_with_a_leading_zero),
		cmocka_unit_test(test_identity_rejects_a_generation_over_32_bits),
		cmocka_unit_test(test_identity_rejects_a_generation_of_11_digits),
		cmocka_unit_test(test_identity_rejects_a_non_digit_generation),
		cmocka_unit_test(test_identity_rejects_trailing_garbage),
		cmocka_unit_test(test_identity_rejects_a_non_digit_inside),
		cmocka_unit_test(test_identity_rejects_bcd_with_a_filler_before_the_end),
		cmocka_unit_test(test_identity_rejects_bcd_with_nibbles_a_to_e),
		cmocka_unit_test(test_identity_rejects_bcd_with_fewer_than_18_digits),
		cmocka_unit_test(test_identity_rejects_11_bcd_bytes_without_a_dot),
		cmocka_unit_test(test_identity_rejects_9_bcd_bytes),
		cmocka_unit_test(test_identity_rejects_a_nul_inside),
		cmocka_unit_test(test_identity_rejects_over_identity_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
