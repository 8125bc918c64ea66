/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The line parser of SIM makers' batch files (src/cli/simcsv.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "simcsv.h"
#include "ztp/err.h"

#define ICCID "8944502509186389635"
#define PSK16 "000102030405060708090A0B0C0D0E0F"
#define PSK32 "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"

/* A poisoned row and reason, to see what a parse leaves alone. */
static struct simcsv_row row;
static enum simcsv_reason why;

static void
poison(void)
{
	memset(&row, 0xA5, sizeof(row));
	why = (enum simcsv_reason)0x5A5A;
}

static int
row_poisoned(void)
{
	struct simcsv_row p;

	memset(&p, 0xA5, sizeof(p));
	return memcmp(&p, &row, sizeof(p)) == 0;
}

/* Parse the C string s as line 2 (not a header) and expect a row. */
static void
expect_row(const char *s)
{
	poison();
	assert_int_equal(simcsv_parse(s, strlen(s), 0, &row, &why), 0);
	assert_int_equal(why, 0x5A5A);
}

/* Parse s (len bytes) as the given line and expect a refusal for reason r. */
static void
expect_refused_n(const char *s, size_t len, int first, enum simcsv_reason r)
{
	poison();
	assert_int_equal(simcsv_parse(s, len, first, &row, &why), ZTP_EMALFORMED);
	assert_int_equal(why, r);
	assert_true(row_poisoned());
}

static void
expect_refused(const char *s, enum simcsv_reason r)
{
	expect_refused_n(s, strlen(s), 0, r);
}

static void
expect_skip(const char *s, int first)
{
	poison();
	assert_int_equal(simcsv_parse(s, strlen(s), first, &row, &why), SIMCSV_SKIP);
	assert_true(row_poisoned());
	assert_int_equal(why, 0x5A5A);
}

/* ---- rows ---- */

static void
test_two_fields_give_a_row_without_group(void **state)
{
	expect_row(ICCID "," PSK32);
	assert_string_equal(row.iccid, ICCID);
	assert_string_equal(row.psk_hex, PSK32);
	assert_int_equal(row.psk_len, 32);
	assert_string_equal(row.group, "");
}

static void
test_three_fields_give_a_row_with_group(void **state)
{
	expect_row(ICCID "," PSK16 ",fleet-a.v2_X");
	assert_string_equal(row.iccid, ICCID);
	assert_string_equal(row.psk_hex, PSK16);
	assert_int_equal(row.psk_len, 16);
	assert_string_equal(row.group, "fleet-a.v2_X");
}

static void
test_psk_hex_in_either_case_is_kept_as_written(void **state)
{
	expect_row(ICCID ",000102030405060708090a0b0c0d0e0F");
	assert_string_equal(row.psk_hex, "000102030405060708090a0b0c0d0e0F");
}

static void
test_iccid_of_18_and_20_digits(void **state)
{
	expect_row("894450250918638963," PSK16);
	assert_string_equal(row.iccid, "894450250918638963");
	expect_row("89445025091863896351," PSK16);
	assert_string_equal(row.iccid, "89445025091863896351");
}

static void
test_psk_of_64_bytes(void **state)
{
	expect_row(ICCID "," PSK32 PSK32);
	assert_int_equal(row.psk_len, 64);
	assert_int_equal(strlen(row.psk_hex), 128);
}

static void
test_group_of_63_characters(void **state)
{
	char line[256];
	char g[64];

	memset(g, 'g', 63);
	g[63] = '\0';
	snprintf(line, sizeof(line), ICCID "," PSK16 ",%s", g);
	expect_row(line);
	assert_string_equal(row.group, g);
}

static void
test_crlf_and_lf_line_ends_are_stripped(void **state)
{
	expect_row(ICCID "," PSK16 "\r\n");
	assert_string_equal(row.psk_hex, PSK16);
	expect_row(ICCID "," PSK16 ",g\r");
	assert_string_equal(row.group, "g");
	expect_row(ICCID "," PSK16 ",g\n");
	assert_string_equal(row.group, "g");
}

static void
test_only_the_given_length_is_read(void **state)
{
	/* the bytes after len are not part of the line */
	const char s[] = ICCID "," PSK16 ",toolong";

	poison();
	assert_int_equal(simcsv_parse(s, strlen(ICCID "," PSK16), 0, &row, &why), 0);
	assert_string_equal(row.group, "");
}

/* ---- skipped lines ---- */

static void
test_blank_lines_are_skipped(void **state)
{
	expect_skip("", 0);
	expect_skip("\r\n", 0);
	expect_skip("\n", 0);
	expect_skip(" \t ", 0);
	expect_skip("", 1);
	poison();
	assert_int_equal(simcsv_parse(NULL, 0, 0, &row, &why), SIMCSV_SKIP);
}

static void
test_header_on_the_first_line_is_skipped(void **state)
{
	expect_skip("iccid,psk_hex,group", 1);
	expect_skip("ICCID,PSK\r\n", 1);
	expect_skip("Iccid,Psk_Hex", 1);
	expect_skip("\xEF\xBB\xBFiccid,psk_hex", 1);
}

static void
test_header_after_the_first_line_is_refused(void **state)
{
	expect_refused("iccid,psk_hex,group", SIMCSV_BAD_ICCID);
}

static void
test_byte_order_mark_before_a_row_on_the_first_line(void **state)
{
	const char s[] = "\xEF\xBB\xBF" ICCID "," PSK16;

	poison();
	assert_int_equal(simcsv_parse(s, strlen(s), 1, &row, &why), 0);
	assert_string_equal(row.iccid, ICCID);
	/* only on the first line */
	expect_refused(s, SIMCSV_BAD_ICCID);
}

static void
test_a_header_needs_both_words(void **state)
{
	expect_refused_n("iccid,ps", 8, 1, SIMCSV_BAD_ICCID);
	expect_refused_n("iccid", 5, 1, SIMCSV_ONE_FIELD);
}

/* ---- refusals ---- */

static void
test_line_of_512_bytes_is_read_and_513_refused(void **state)
{
	char line[600];
	size_t n;

	/* a 512-byte line whose group field is what makes it wrong */
	memset(line, 'x', sizeof(line));
	n = (size_t)snprintf(line, sizeof(line), ICCID "," PSK16 ",");
	memset(line + n, 'g', 512 - n);
	expect_refused_n(line, 512, 0, SIMCSV_BAD_GROUP);
	expect_refused_n(line, 513, 0, SIMCSV_TOO_LONG);
	/* 512 bytes and CRLF is still 512 */
	line[512] = '\r';
	line[513] = '\n';
	expect_refused_n(line, 514, 0, SIMCSV_BAD_GROUP);
	/* the length counts before the header check */
	line[512] = 'x';
	memcpy(line, "iccid,psk", 9);
	expect_refused_n(line, 513, 1, SIMCSV_TOO_LONG);
}

static void
test_quotes_are_refused(void **state)
{
	expect_refused("\"" ICCID "\"," PSK16, SIMCSV_QUOTES);
	expect_refused(ICCID "," PSK16 ",\"g\"", SIMCSV_QUOTES);
}

static void
test_one_field_is_refused(void **state)
{
	expect_refused(ICCID, SIMCSV_ONE_FIELD);
	expect_refused(PSK32, SIMCSV_ONE_FIELD);
}

static void
test_four_fields_are_refused(void **state)
{
	expect_refused(ICCID "," PSK16 ",g,extra", SIMCSV_TOO_MANY_FIELDS);
	expect_refused(ICCID "," PSK16 ",g,", SIMCSV_TOO_MANY_FIELDS);
	expect_refused(",,,,,,", SIMCSV_TOO_MANY_FIELDS);
}

static void
test_spaces_around_fields_are_refused(void **state)
{
	expect_refused(ICCID ", " PSK16, SIMCSV_SPACE);
	expect_refused(" " ICCID "," PSK16, SIMCSV_SPACE);
	expect_refused(ICCID "," PSK16 "\t", SIMCSV_SPACE);
	expect_refused(ICCID "," PSK16 ",g ", SIMCSV_SPACE);
}

static void
test_bad_iccids_are_refused(void **state)
{
	expect_refused("89445025091863896," PSK16, SIMCSV_BAD_ICCID);     /* 17 digits */
	expect_refused("894450250918638963512," PSK16, SIMCSV_BAD_ICCID); /* 21 */
	expect_refused("8944502509186389A35," PSK16, SIMCSV_BAD_ICCID);
	expect_refused("," PSK16, SIMCSV_BAD_ICCID);
	expect_refused_n(ICCID "\0," PSK16, strlen(ICCID) + 1 + 1 + 32, 0, SIMCSV_BAD_ICCID);
}

static void
test_psk_that_is_not_hex_is_refused(void **state)
{
	expect_refused(ICCID ",000102030405060708090A0B0C0D0E0G", SIMCSV_PSK_NOT_HEX);
	expect_refused(ICCID ",0x0102030405060708090A0B0C0D0E0F", SIMCSV_PSK_NOT_HEX);
	expect_refused_n(ICCID ",00010203040506\0" "0708090A0B0C0D0E0F", strlen(ICCID) + 1 + 33, 0,
	    SIMCSV_PSK_NOT_HEX);
}

static void
test_psk_with_an_odd_number_of_digits_is_refused(void **state)
{
	expect_refused(ICCID "," PSK16 "0", SIMCSV_PSK_ODD);
}

static void
test_psk_under_16_bytes_is_refused(void **state)
{
	expect_refused(ICCID ",000102030405060708090A0B0C0D0E", SIMCSV_PSK_SHORT);
	expect_refused(ICCID ",", SIMCSV_PSK_SHORT);
	expect_refused(ICCID ",,g", SIMCSV_PSK_SHORT);
}

static void
test_psk_over_64_bytes_is_refused(void **state)
{
	expect_refused(ICCID "," PSK32 PSK32 "00", SIMCSV_PSK_LONG);
}

static void
test_bad_group_names_are_refused(void **state)
{
	char line[256];
	char g[65];

	expect_refused(ICCID "," PSK16 ",", SIMCSV_BAD_GROUP);
	expect_refused(ICCID "," PSK16 ",a/b", SIMCSV_BAD_GROUP);
	expect_refused(ICCID "," PSK16 ",caf\xC3\xA9", SIMCSV_BAD_GROUP);
	expect_refused(ICCID "," PSK16 ",a b", SIMCSV_BAD_GROUP);
	memset(g, 'g', 64);
	g[64] = '\0';
	snprintf(line, sizeof(line), ICCID "," PSK16 ",%s", g);
	expect_refused(line, SIMCSV_BAD_GROUP);
}

static void
test_a_lone_cr_inside_is_refused(void **state)
{
	expect_refused(ICCID "\r," PSK16, SIMCSV_BAD_ICCID);
	expect_refused(ICCID "," PSK16 "\r\r\n", SIMCSV_PSK_NOT_HEX);
}

/* ---- reasons and group names ---- */

static void
test_every_reason_has_a_sentence(void **state)
{
	int r;

	for (r = 1; r < SIMCSV_NREASONS; r++) {
		assert_non_null(simcsv_reason(r));
		assert_true(strlen(simcsv_reason(r)) > 10);
	}
	assert_string_equal(simcsv_reason(SIMCSV_NREASONS), "unknown reason");
	assert_string_equal(simcsv_reason((enum simcsv_reason)-1), "unknown reason");
}

static void
test_group_valid(void **state)
{
	assert_int_equal(simcsv_group_valid("a", 1), 1);
	assert_int_equal(simcsv_group_valid("A-z_0.9", 7), 1);
	assert_int_equal(simcsv_group_valid("", 0), 0);
	assert_int_equal(simcsv_group_valid(NULL, 0), 0);
	assert_int_equal(simcsv_group_valid("a,b", 3), 0);
	assert_int_equal(simcsv_group_valid("a\0b", 3), 0);
	assert_int_equal(simcsv_group_valid("gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg",
			     64),
	    0);
	assert_int_equal(simcsv_group_valid("ggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg",
			     63),
	    1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_fields_give_a_row_without_group),
		cmocka_unit_test(test_three_fields_give_a_row_with_group),
		cmocka_unit_test(test_psk_hex_in_either_case_is_kept_as_written),
		cmocka_unit_test(test_iccid_of_18_and_20_digits),
		cmocka_unit_test(test_psk_of_64_bytes),
		cmocka_unit_test(test_group_of_63_characters),
		cmocka_unit_test(test_crlf_and_lf_line_ends_are_stripped),
		cmocka_unit_test(test_only_the_given_length_is_read),
		cmocka_unit_test(test_blank_lines_are_skipped),
		cmocka_unit_test(test_header_on_the_first_line_is_skipped),
		cmocka_unit_test(test_header_after_the_first_line_is_refused),
		cmocka_unit_test(test_byte_order_mark_before_a_row_on_the_first_line),
		cmocka_unit_test(test_a_header_needs_both_words),
		cmocka_unit_test(test_line_of_512_bytes_is_read_and_513_refused),
		cmocka_unit_test(test_quotes_are_refused),
		cmocka_unit_test(test_one_field_is_refused),
		cmocka_unit_test(test_four_fields_are_refused),
		cmocka_unit_test(test_spaces_around_fields_are_refused),
		cmocka_unit_test(test_bad_iccids_are_refused),
		cmocka_unit_test(test_psk_that_is_not_hex_is_refused),
		cmocka_unit_test(test_psk_with_an_odd_number_of_digits_is_refused),
		cmocka_unit_test(test_psk_under_16_bytes_is_refused),
		cmocka_unit_test(test_psk_over_64_bytes_is_refused),
		cmocka_unit_test(test_bad_group_names_are_refused),
		cmocka_unit_test(test_a_lone_cr_inside_is_refused),
		cmocka_unit_test(test_every_reason_has_a_sentence),
		cmocka_unit_test(test_group_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
