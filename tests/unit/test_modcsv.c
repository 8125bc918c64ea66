/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The line parser of module makers' batch files (src/cli/modcsv.h): what a
 * line gives, what is skipped, each refusal with its reason, and that a
 * refusal leaves the row alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "modcsv.h"
#include "ztp/err.h"

#define ROT "00112233445566778899aabbccddeeff"
#define SECRET "000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f"

static struct modcsv_row row;
static enum modcsv_reason why;

static void
poison(void)
{
	memset(&row, 0xA5, sizeof(row));
	why = (enum modcsv_reason)0x5A5A;
}

static int
row_poisoned(void)
{
	struct modcsv_row p;

	memset(&p, 0xA5, sizeof(p));
	return memcmp(&p, &row, sizeof(p)) == 0;
}

static void
expect_row(const char *s, int first)
{
	poison();
	assert_int_equal(modcsv_parse(s, strlen(s), first, &row, &why), 0);
	assert_int_equal(why, 0x5A5A);
}

static void
expect_skip(const char *s, int first)
{
	poison();
	assert_int_equal(modcsv_parse(s, strlen(s), first, &row, &why), MODCSV_SKIP);
	assert_true(row_poisoned());
}

static void
expect_refused_n(const char *s, size_t len, enum modcsv_reason r)
{
	poison();
	assert_int_equal(modcsv_parse(s, len, 0, &row, &why), ZTP_EMALFORMED);
	assert_int_equal(why, r);
	assert_true(row_poisoned());
	assert_string_not_equal(modcsv_reason(r), "unknown reason");
}

static void
expect_refused(const char *s, enum modcsv_reason r)
{
	expect_refused_n(s, strlen(s), r);
}

static void
test_row_with_and_without_batch(void **state)
{
	(void)state;
	expect_row(ROT "," SECRET, 0);
	assert_string_equal(row.rot_uid, ROT);
	assert_string_equal(row.secret_hex, SECRET);
	assert_string_equal(row.batch, "");
	expect_row(ROT "," SECRET ",lot 7/2024\r\n", 1);
	assert_string_equal(row.batch, "lot 7/2024");
}

static void
test_rot_uid_kept_in_lower_case(void **state)
{
	(void)state;
	expect_row("00112233445566778899AABBCCDDEEFF," SECRET "\n", 0);
	assert_string_equal(row.rot_uid, ROT);
}

static void
test_skips_blank_comment_header(void **state)
{
	(void)state;
	expect_skip("", 0);
	expect_skip("   \t", 0);
	expect_skip("\r\n", 0);
	expect_skip("# a comment, with commas", 0);
	expect_skip("  #indented comment", 0);
	expect_skip("rot_uid,factory_secret,batch", 1);
	expect_skip("\xEF\xBB\xBFROT_UID,FACTORY_SECRET\r\n", 1);
	/* a header anywhere else is a bad line */
	expect_refused("rot_uid,factory_secret", MODCSV_BAD_ROT);
}

static void
test_refusals(void **state)
{
	char longline[MODCSV_LINE_MAX + 2];

	(void)state;
	expect_refused(ROT, MODCSV_ONE_FIELD);
	expect_refused(ROT "," SECRET ",a,b", MODCSV_TOO_MANY_FIELDS);
	expect_refused("\"" ROT "\"," SECRET, MODCSV_QUOTES);
	expect_refused(ROT " ," SECRET, MODCSV_SPACE);
	expect_refused(ROT "," SECRET ", lot", MODCSV_SPACE);
	expect_refused("00112233445566778899aabbccddeef," SECRET, MODCSV_BAD_ROT);
	expect_refused("00112233445566778899aabbccddeefg," SECRET, MODCSV_BAD_ROT);
	expect_refused("00112233445566778899aabbccddeeff00," SECRET, MODCSV_BAD_ROT);
	expect_refused(ROT ",000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1x",
	    MODCSV_SECRET_NOT_HEX);
	expect_refused(ROT ",000102030405060708090A0B0C0D0E0F", MODCSV_SECRET_LENGTH);
	expect_refused(ROT "," SECRET "00", MODCSV_SECRET_LENGTH);
	expect_refused(ROT "," SECRET ",", MODCSV_BAD_BATCH);
	expect_refused(ROT "," SECRET ",\x01", MODCSV_BAD_BATCH);
	expect_refused(ROT "," SECRET ",a\\b", MODCSV_BAD_BATCH);
	expect_refused(ROT "," SECRET ",0123456789012345678901234567890123456789012345678901234567890123X",
	    MODCSV_BAD_BATCH);
	expect_refused_n(ROT "," SECRET "\0x", strlen(ROT "," SECRET) + 2, MODCSV_SECRET_NOT_HEX);
	memset(longline, 'a', sizeof(longline));
	expect_refused_n(longline, sizeof(longline), MODCSV_TOO_LONG);
	assert_string_equal(modcsv_reason(MODCSV_NREASONS), "unknown reason");
}

static void
test_batch_of_64_is_accepted(void **state)
{
	(void)state;
	expect_row(ROT "," SECRET ",0123456789012345678901234567890123456789012345678901234567890123",
	    0);
	assert_int_equal(strlen(row.batch), 64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_with_and_without_batch),
		cmocka_unit_test(test_rot_uid_kept_in_lower_case),
		cmocka_unit_test(test_skips_blank_comment_header),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_batch_of_64_is_accepted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
