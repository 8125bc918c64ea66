/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host side of the module's security AT commands (include/ztp/usec.h,
 * docs/protocol/security-service.md section 9): the commands written, and
 * the modem's answers, line by line, as the untrusted bytes they are.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ztp/err.h"
#include "ztp/usec.h"

#define PROFILE "0123456789abcdef0123456789abcdef"

/* Feed the lines (NULL-terminated list) and return the last result. */
static int
feed(struct usec_answer *a, const char *const *lines)
{
	int rc = USEC_MORE;

	for (; *lines != NULL; lines++)
		rc = usec_answer_line(a, *lines, strlen(*lines));
	return rc;
}

/* The answer to cmd made of the given lines. */
#define ANSWER(a, cmd, ...)                                                     \
	(usec_answer_init((a), (cmd)), feed((a), (const char *const[]){ __VA_ARGS__, NULL }))

/* ---- commands ---- */

static void
test_seal_cmd(void **state)
{
	char out[USEC_CMD_MAX];

	assert_int_equal(usec_seal_cmd(PROFILE, "SN-0001", out, sizeof(out)), 0);
	assert_string_equal(out, "AT+USECDEVINFO=\"" PROFILE "\",\"SN-0001\"");
}

static void
test_seal_cmd_longest_serial_fits_cmd_max(void **state)
{
	char serial[USEC_SERIAL_MAX + 1], out[USEC_CMD_MAX];

	memset(serial, '~', USEC_SERIAL_MAX);
	serial[0] = ' ';
	serial[USEC_SERIAL_MAX] = '\0';
	assert_int_equal(usec_seal_cmd(PROFILE, serial, out, sizeof(out)), 0);
	assert_int_equal(strlen(out), 16 + 32 + 3 + 64 + 1);
	assert_memory_equal(out + 16 + 32 + 3, serial, USEC_SERIAL_MAX);
}

static void
test_seal_cmd_buffer_sizes(void **state)
{
	char out[USEC_CMD_MAX];
	size_t need, cap;

	assert_int_equal(usec_seal_cmd(PROFILE, "x", out, sizeof(out)), 0);
	need = strlen(out) + 1;
	assert_int_equal(usec_seal_cmd(PROFILE, "x", out, need), 0);
	for (cap = 1; cap < need; cap++) {
		memset(out, 'z', sizeof(out));
		assert_int_equal(usec_seal_cmd(PROFILE, "x", out, cap), ZTP_ETOOBIG);
		assert_int_equal(out[0], '\0');
		assert_int_equal(out[cap], 'z'); /* nothing written past cap */
	}
	assert_int_equal(usec_seal_cmd(PROFILE, "x", out, 0), ZTP_ETOOBIG);
}

static void
expect_seal_einval(const char *profile, const char *serial)
{
	char out[USEC_CMD_MAX];

	memset(out, 'z', sizeof(out));
	assert_int_equal(usec_seal_cmd(profile, serial, out, sizeof(out)), ZTP_EINVAL);
	assert_int_equal(out[0], 'z');
}

static void
test_seal_cmd_refuses_bad_profiles(void **state)
{
	expect_seal_einval("0123456789ABCDEF0123456789abcdef", "x");
	expect_seal_einval("0123456789abcdef0123456789abcde", "x");
	expect_seal_einval(PROFILE "0", "x");
	expect_seal_einval("0123456789abcdeg0123456789abcdef", "x");
	expect_seal_einval("", "x");
	expect_seal_einval(NULL, "x");
	expect_seal_einval("\"123456789abcdef0123456789abcdef", "x");
}

static void
test_seal_cmd_refuses_bad_serials(void **state)
{
	char s65[USEC_SERIAL_MAX + 2];

	memset(s65, 'a', USEC_SERIAL_MAX + 1);
	s65[USEC_SERIAL_MAX + 1] = '\0';
	expect_seal_einval(PROFILE, "");
	expect_seal_einval(PROFILE, s65);
	expect_seal_einval(PROFILE, "a\"b");
	expect_seal_einval(PROFILE, "a\",\"b");
	expect_seal_einval(PROFILE, "a\r\nAT+USECCONN");
	expect_seal_einval(PROFILE, "tab\t");
	expect_seal_einval(PROFILE, "\x7f");
	expect_seal_einval(PROFILE, "caf\xc3\xa9");
	expect_seal_einval(PROFILE, NULL);
}

static void
test_status_and_heartbeat_cmds(void **state)
{
	char out[USEC_CMD_MAX];

	assert_int_equal(usec_status_cmd(out, sizeof(out)), 0);
	assert_string_equal(out, "AT+USECDEVINFO?");
	assert_int_equal(usec_heartbeat_cmd(out, sizeof(out)), 0);
	assert_string_equal(out, "AT+USECCONN");
	assert_int_equal(usec_status_cmd(out, 16), 0);
	assert_int_equal(usec_status_cmd(out, 15), ZTP_ETOOBIG);
	assert_string_equal(out, "");
	assert_int_equal(usec_heartbeat_cmd(out, 12), 0);
	assert_int_equal(usec_heartbeat_cmd(out, 11), ZTP_ETOOBIG);
	assert_int_equal(usec_heartbeat_cmd(out, 0), ZTP_ETOOBIG);
}

/* ---- answers: final results ---- */

static void
test_seal_answer_ok(void **state)
{
	struct usec_answer a;

	assert_int_equal(ANSWER(&a, USEC_SEAL, "OK"), 0);
	assert_true(a.done);
}

static void
test_answer_skips_echo_empty_and_unsolicited_lines(void **state)
{
	struct usec_answer a;

	static const char echo[] = "AT+USECDEVINFO=\"" PROFILE "\",\"x\"";

	usec_answer_init(&a, USEC_SEAL);
	assert_int_equal(usec_answer_line(&a, echo, sizeof(echo) - 1), USEC_MORE);
	assert_int_equal(usec_answer_line(&a, "", 0), USEC_MORE);
	assert_int_equal(usec_answer_line(&a, "at+usecconn", 11), USEC_MORE);
	assert_int_equal(usec_answer_line(&a, "+CREG: 1", 8), USEC_MORE);
	assert_int_equal(usec_answer_line(&a, "RING", 4), USEC_MORE);
	assert_int_equal(usec_answer_line(&a, "+USECDEVINFO: 9,9", 17), USEC_MORE);
	assert_int_equal(usec_answer_line(&a, "OK ", 3), USEC_MORE);
	assert_false(a.done);
	assert_int_equal(usec_answer_line(&a, "OK", 2), 0);
}

static void
test_heartbeat_answer_ok_and_ignores_a_status_line(void **state)
{
	struct usec_answer a;

	assert_int_equal(ANSWER(&a, USEC_HEARTBEAT, "+USECDEVINFO: 1,1,1", "OK"), 0);
	assert_false(a.seen);
}

static void
test_answer_error(void **state)
{
	struct usec_answer a;

	assert_int_equal(ANSWER(&a, USEC_HEARTBEAT, "ERROR"), ZTP_ECONFLICT);
	assert_string_equal(a.error, "");
	assert_true(a.done);
}

static void
test_answer_cme_error_text(void **state)
{
	struct usec_answer a;

	assert_int_equal(ANSWER(&a, USEC_HEARTBEAT, "+CME ERROR: operation not allowed"),
	    ZTP_ECONFLICT);
	assert_string_equal(a.error, "operation not allowed");
	assert_int_equal(ANSWER(&a, USEC_SEAL, "+CME ERROR:3"), ZTP_ECONFLICT);
	assert_string_equal(a.error, "3");
	assert_int_equal(ANSWER(&a, USEC_SEAL, "+CME ERROR:   SIM busy"), ZTP_ECONFLICT);
	assert_string_equal(a.error, "SIM busy");
	assert_int_equal(ANSWER(&a, USEC_STATUS, "+CMS ERROR: 500"), ZTP_ECONFLICT);
	assert_string_equal(a.error, "500");
}

static void
test_answer_cme_error_text_of_max_length(void **state)
{
	char line[16 + USEC_ERROR_MAX + 2];
	struct usec_answer a;
	size_t n;

	n = (size_t)snprintf(line, sizeof(line), "+CME ERROR: ");
	memset(line + n, 'e', USEC_ERROR_MAX);
	usec_answer_init(&a, USEC_HEARTBEAT);
	assert_int_equal(usec_answer_line(&a, line, n + USEC_ERROR_MAX), ZTP_ECONFLICT);
	assert_int_equal(strlen(a.error), USEC_ERROR_MAX);
	line[n + USEC_ERROR_MAX] = 'e';
	usec_answer_init(&a, USEC_HEARTBEAT);
	assert_int_equal(usec_answer_line(&a, line, n + USEC_ERROR_MAX + 1), ZTP_EMALFORMED);
	assert_true(a.done);
	assert_string_equal(a.error, "");
}

static void
test_answer_refuses_bad_error_texts(void **state)
{
	struct usec_answer a;

	assert_int_equal(ANSWER(&a, USEC_HEARTBEAT, "+CME ERROR:"), ZTP_EMALFORMED);
	assert_true(a.done);
	assert_int_equal(ANSWER(&a, USEC_HEARTBEAT, "+CME ERROR:    "), ZTP_EMALFORMED);
	assert_int_equal(ANSWER(&a, USEC_HEARTBEAT, "+CME ERROR: bad\x1b[2J"), ZTP_EMALFORMED);
	assert_int_equal(ANSWER(&a, USEC_HEARTBEAT, "+CME ERROR: caf\xc3\xa9"), ZTP_EMALFORMED);
	assert_string_equal(a.error, "");
	usec_answer_init(&a, USEC_HEARTBEAT);
	assert_int_equal(usec_answer_line(&a, "+CME ERROR: a\0b", 15), ZTP_EMALFORMED);
}

static void
test_answer_after_the_final_result_is_a_misuse(void **state)
{
	struct usec_answer a;

	assert_int_equal(ANSWER(&a, USEC_SEAL, "OK"), 0);
	assert_int_equal(usec_answer_line(&a, "OK", 2), ZTP_EINVAL);
	assert_int_equal(usec_answer_line(&a, "", 0), ZTP_EINVAL);
	assert_int_equal(ANSWER(&a, USEC_SEAL, "ERROR"), ZTP_ECONFLICT);
	assert_int_equal(usec_answer_line(&a, "OK", 2), ZTP_EINVAL);
}

static void
test_answer_reads_only_len_bytes(void **state)
{
	struct usec_answer a;

	usec_answer_init(&a, USEC_SEAL);
	assert_int_equal(usec_answer_line(&a, "OKAY", 2), 0);
	usec_answer_init(&a, USEC_STATUS);
	assert_int_equal(usec_answer_line(&a, "+USECDEVINFO: 1,0,1,1", 19), USEC_MORE);
	assert_int_equal(usec_answer_line(&a, "OK", 2), 0);
	assert_int_equal(a.status.bootstrapped, 1);
}

/* ---- answers: AT+USECDEVINFO? ---- */

static void
test_status_answers_of_section_9(void **state)
{
	struct usec_answer a;

	assert_int_equal(ANSWER(&a, USEC_STATUS, "+USECDEVINFO: 0,0,0", "OK"), 0);
	assert_int_equal(a.status.registered, 0);
	assert_int_equal(a.status.claimed, 0);
	assert_int_equal(a.status.bootstrapped, 0);
	assert_false(usec_bootstrapped(&a.status));
	assert_string_equal(usec_status_describe(&a.status), "bootstrap not done");

	assert_int_equal(ANSWER(&a, USEC_STATUS, "+USECDEVINFO: 1,0,1", "OK"), 0);
	assert_int_equal(a.status.registered, 1);
	assert_int_equal(a.status.claimed, 0);
	assert_int_equal(a.status.bootstrapped, 1);
	assert_true(usec_bootstrapped(&a.status));
	assert_string_equal(usec_status_describe(&a.status), "bootstrapped, no owner");

	assert_int_equal(ANSWER(&a, USEC_STATUS, "AT+USECDEVINFO?", "", "+USECDEVINFO: 1,1,1",
			     "", "OK"),
	    0);
	assert_int_equal(a.status.claimed, 1);
	assert_true(usec_bootstrapped(&a.status));
	assert_string_equal(usec_status_describe(&a.status),
	    "bootstrapped and assigned to an owner");
}

static void
test_status_undocumented_combinations_parse(void **state)
{
	struct usec_answer a;

	assert_int_equal(ANSWER(&a, USEC_STATUS, "+USECDEVINFO: 0,1,0", "OK"), 0);
	assert_false(usec_bootstrapped(&a.status));
	assert_string_equal(usec_status_describe(&a.status), "not a documented status");
	assert_int_equal(ANSWER(&a, USEC_STATUS, "+USECDEVINFO: 1,0,0", "OK"), 0);
	assert_false(usec_bootstrapped(&a.status));
	assert_string_equal(usec_status_describe(&a.status), "not a documented status");
}

static void
test_status_spaces_after_the_colon(void **state)
{
	struct usec_answer a;

	assert_int_equal(ANSWER(&a, USEC_STATUS, "+USECDEVINFO:1,0,1", "OK"), 0);
	assert_int_equal(a.status.bootstrapped, 1);
	assert_int_equal(ANSWER(&a, USEC_STATUS, "+USECDEVINFO:   1,1,1", "OK"), 0);
	assert_int_equal(a.status.claimed, 1);
}

static void
test_status_ok_without_the_line_is_malformed(void **state)
{
	struct usec_answer a;

	assert_int_equal(ANSWER(&a, USEC_STATUS, "OK"), ZTP_EMALFORMED);
	assert_true(a.done);
	assert_false(a.seen);
}

static void
test_status_two_lines_are_malformed(void **state)
{
	struct usec_answer a;

	assert_int_equal(ANSWER(&a, USEC_STATUS, "+USECDEVINFO: 1,0,1", "+USECDEVINFO: 1,0,1",
			     "OK"),
	    ZTP_EMALFORMED);
}

static void
test_status_malformed_lines(void **state)
{
	static const char *const bad[] = {
		"+USECDEVINFO:",
		"+USECDEVINFO: ",
		"+USECDEVINFO: 2,0,0",
		"+USECDEVINFO: 0,0,2",
		"+USECDEVINFO: 01,0,0",
		"+USECDEVINFO: 1,0",
		"+USECDEVINFO: 1,0,",
		"+USECDEVINFO: 1,0,1,0",
		"+USECDEVINFO: 1,0,1 ",
		"+USECDEVINFO: 1, 0,1",
		"+USECDEVINFO: 1 ,0,1",
		"+USECDEVINFO: 1,,1",
		"+USECDEVINFO: a,b,c",
		"+USECDEVINFO: -1,0,0",
		"+USECDEVINFO: +1,0,0",
		"+USECDEVINFO: 1;0;1",
		"+USECDEVINFO: 99999999999999999999999,0,0",
		"+USECDEVINFO: \"1\",0,1",
		"+USECDEVINFO: 1,0,1\r",
	};
	struct usec_answer a;
	struct usec_status st = { 7, 7, 7 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(usec_status_parse(bad[i], strlen(bad[i]), &st), ZTP_EMALFORMED);
		assert_int_equal(st.registered, 7);
		assert_int_equal(ANSWER(&a, USEC_STATUS, bad[i], "OK"), ZTP_EMALFORMED);
		assert_true(a.seen && a.bad);
	}
	/* a NUL inside */
	assert_int_equal(usec_status_parse("+USECDEVINFO: 1,0\0,1", 20, &st), ZTP_EMALFORMED);
}

static void
test_status_parse_other_lines_are_not_ours(void **state)
{
	struct usec_status st = { 7, 7, 7 };

	assert_int_equal(usec_status_parse("", 0, &st), ZTP_ENOENT);
	assert_int_equal(usec_status_parse("+USECDEVINF: 1,0,1", 18, &st), ZTP_ENOENT);
	assert_int_equal(usec_status_parse("+usecdevinfo: 1,0,1", 19, &st), ZTP_ENOENT);
	assert_int_equal(usec_status_parse(" +USECDEVINFO: 1,0,1", 20, &st), ZTP_ENOENT);
	assert_int_equal(usec_status_parse("+USECDEVINFO", 12, &st), ZTP_ENOENT);
	assert_int_equal(st.registered, 7);
}

static void
test_status_error_wins_over_a_bad_line(void **state)
{
	struct usec_answer a;

	assert_int_equal(ANSWER(&a, USEC_STATUS, "+USECDEVINFO: 5", "+CME ERROR: busy"),
	    ZTP_ECONFLICT);
	assert_string_equal(a.error, "busy");
}

static void
test_status_unsolicited_lines_around_the_answer(void **state)
{
	struct usec_answer a;

	assert_int_equal(ANSWER(&a, USEC_STATUS, "+CREG: 5", "+USECDEVINFO: 1,0,1", "RING",
			     "OK"),
	    0);
	assert_int_equal(a.status.registered, 1);
	assert_false(a.bad);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_cmd),
		cmocka_unit_test(test_seal_cmd_longest_serial_fits_cmd_max),
		cmocka_unit_test(test_seal_cmd_buffer_sizes),
		cmocka_unit_test(test_seal_cmd_refuses_bad_profiles),
		cmocka_unit_test(test_seal_cmd_refuses_bad_serials),
		cmocka_unit_test(test_status_and_heartbeat_cmds),
		cmocka_unit_test(test_seal_answer_ok),
		cmocka_unit_test(test_answer_skips_echo_empty_and_unsolicited_lines),
		cmocka_unit_test(test_heartbeat_answer_ok_and_ignores_a_status_line),
		cmocka_unit_test(test_answer_error),
		cmocka_unit_test(test_answer_cme_error_text),
		cmocka_unit_test(test_answer_cme_error_text_of_max_length),
		cmocka_unit_test(test_answer_refuses_bad_error_texts),
		cmocka_unit_test(test_answer_after_the_final_result_is_a_misuse),
		cmocka_unit_test(test_answer_reads_only_len_bytes),
		cmocka_unit_test(test_status_answers_of_section_9),
		cmocka_unit_test(test_status_undocumented_combinations_parse),
		cmocka_unit_test(test_status_spaces_after_the_colon),
		cmocka_unit_test(test_status_ok_without_the_line_is_malformed),
		cmocka_unit_test(test_status_two_lines_are_malformed),
		cmocka_unit_test(test_status_malformed_lines),
		cmocka_unit_test(test_status_parse_other_lines_are_not_ours),
		cmocka_unit_test(test_status_error_wins_over_a_bad_line),
		cmocka_unit_test(test_status_unsolicited_lines_around_the_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
