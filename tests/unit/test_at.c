/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AT interpreter of ztp-sim (src/sim/at.c, spec safe2.md section 2):
 * bytes in, bytes out, the SIM behind a counting hook.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "at.h"
#include "ztp/err.h"
#include "ztp/apdu.h"

/* what the modem wrote, what the SIM was given, what it answers */
struct fake {
	char out[8192];
	size_t out_len;
	int csim_calls;
	uint8_t apdu[APDU_MAX_CMD + 8];
	size_t apdu_len;
	uint8_t resp[APDU_MAX_RESP];
	size_t resp_len; /* 0: the SIM does not answer */
	int creg;
	char trace[4096];
	size_t trace_len;
};

static struct fake fk;
static struct at at;

static void
fake_out(void *arg, const uint8_t *buf, size_t len)
{
	assert_true(fk.out_len + len < sizeof(fk.out));
	memcpy(fk.out + fk.out_len, buf, len);
	fk.out_len += len;
	fk.out[fk.out_len] = '\0';
}

static size_t
fake_csim(void *arg, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap)
{
	fk.csim_calls++;
	assert_true(len >= 1 && len <= APDU_MAX_CMD);
	assert_true(cap >= APDU_MAX_RESP);
	memcpy(fk.apdu, cmd, len);
	fk.apdu_len = len;
	memcpy(resp, fk.resp, fk.resp_len);
	return fk.resp_len;
}

static int
fake_creg(void *arg)
{
	return fk.creg;
}

static void
fake_trace(void *arg, enum at_dir dir, const char *line, size_t len)
{
	int n = snprintf(fk.trace + fk.trace_len, sizeof(fk.trace) - fk.trace_len, "%c%.*s|",
	    dir == AT_IN ? '>' : '<', (int)len, line);
	assert_true(n > 0 && (size_t)n < sizeof(fk.trace) - fk.trace_len);
	fk.trace_len += (size_t)n;
}

static const struct at_ops ops = { fake_out, fake_csim, fake_creg, fake_trace, NULL };

static int
setup(void **state)
{
	memset(&fk, 0, sizeof(fk));
	fk.creg = AT_CREG_HOME;
	fk.resp[0] = 0x90;
	fk.resp[1] = 0x00;
	fk.resp_len = 2;
	at_init(&at, &ops, "8944502509186389635", "356938035643809");
	return 0;
}

static void
clear_out(void)
{
	fk.out_len = 0;
	fk.out[0] = '\0';
}

/* Send s and return what the modem answered (echo included). */
static const char *
send(const char *s)
{
	clear_out();
	at_input(&at, (const uint8_t *)s, strlen(s));
	return fk.out;
}

static void
echo_off(void)
{
	send("ATE0\r");
	clear_out();
}

static void
test_echo_is_on_after_power_up(void **state)
{
	assert_string_equal(send("AT\r"), "AT\r\r\nOK\r\n");
}

static void
test_ate0_turns_echo_off_and_is_itself_echoed(void **state)
{
	assert_string_equal(send("ATE0\r"), "ATE0\r\r\nOK\r\n");
	assert_string_equal(send("AT\r"), "\r\nOK\r\n");
}

static void
test_ate1_turns_echo_back_on(void **state)
{
	echo_off();
	assert_string_equal(send("ATE1\r"), "\r\nOK\r\n");
	assert_string_equal(send("AT\r"), "AT\r\r\nOK\r\n");
}

static void
test_ate_without_digit_is_ate0(void **state)
{
	send("ATE\r");
	assert_string_equal(send("AT\r"), "\r\nOK\r\n");
}

static void
test_unknown_commands_answer_error(void **state)
{
	echo_off();
	assert_string_equal(send("AT+FOO\r"), "\r\nERROR\r\n");
	assert_string_equal(send("ATE2\r"), "\r\nERROR\r\n");
	assert_string_equal(send("HELLO\r"), "\r\nERROR\r\n");
	assert_string_equal(send("A\r"), "\r\nERROR\r\n");
	assert_string_equal(send("AT \r"), "\r\nERROR\r\n");
	assert_int_equal(fk.csim_calls, 0);
}

static void
test_nul_byte_in_a_line_is_an_error(void **state)
{
	static const uint8_t line[] = { 'A', 'T', 0, 'I', '\r' };

	echo_off();
	at_input(&at, line, sizeof(line));
	assert_string_equal(fk.out, "\r\nERROR\r\n");
}

static void
test_commands_are_case_insensitive(void **state)
{
	echo_off();
	assert_string_equal(send("at\r"), "\r\nOK\r\n");
	assert_string_equal(send("aT+cReG?\r"), "\r\n+CREG: 0,1\r\n\r\nOK\r\n");
	assert_string_equal(send("at+csim=4,\"9000\"\r"), "\r\n+CSIM: 4,\"9000\"\r\n\r\nOK\r\n");
	assert_int_equal(fk.csim_calls, 1);
}

static void
test_creg_reports_searching_home_roaming(void **state)
{
	echo_off();
	fk.creg = AT_CREG_SEARCHING;
	assert_string_equal(send("AT+CREG?\r"), "\r\n+CREG: 0,2\r\n\r\nOK\r\n");
	fk.creg = AT_CREG_HOME;
	assert_string_equal(send("AT+CREG?\r"), "\r\n+CREG: 0,1\r\n\r\nOK\r\n");
	fk.creg = AT_CREG_ROAMING;
	assert_string_equal(send("AT+CREG?\r"), "\r\n+CREG: 0,5\r\n\r\nOK\r\n");
}

static void
test_ccid_and_iccid_answer_the_sim_iccid(void **state)
{
	echo_off();
	assert_string_equal(send("AT+CCID\r"), "\r\n+CCID: 8944502509186389635\r\n\r\nOK\r\n");
	assert_string_equal(send("AT+ICCID\r"), "\r\n+ICCID: 8944502509186389635\r\n\r\nOK\r\n");
}

static void
test_cgsn_answers_the_imei(void **state)
{
	echo_off();
	assert_string_equal(send("AT+CGSN\r"), "\r\n356938035643809\r\n\r\nOK\r\n");
}

static void
test_ati_answers_a_product_line(void **state)
{
	const char *r;

	echo_off();
	r = send("ATI\r");
	assert_true(strncmp(r, "\r\n", 2) == 0);
	assert_non_null(strstr(r, "ztp-sim"));
	assert_true(strlen(r) > 8 && strcmp(r + strlen(r) - 8, "\r\n\r\nOK\r\n") == 0);
}

/* Luhn over all 15 digits: the check digit makes the sum a multiple of 10. */
static int
luhn_ok(const char *d)
{
	int sum = 0, i, n = (int)strlen(d);

	for (i = 0; i < n; i++) {
		int v = d[n - 1 - i] - '0';
		if (i % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

static void
test_imei_is_15_digits_luhn_and_stable(void **state)
{
	char a[AT_IMEI_DIGITS + 1], b[AT_IMEI_DIGITS + 1], c[AT_IMEI_DIGITS + 1];
	size_t i;

	at_imei_for("8944502509186389635", a);
	at_imei_for("8944502509186389635", b);
	at_imei_for("8944502509186389643", c);
	assert_int_equal(strlen(a), 15);
	for (i = 0; i < 15; i++)
		assert_true(a[i] >= '0' && a[i] <= '9');
	assert_true(luhn_ok(a));
	assert_true(luhn_ok(c));
	assert_true(luhn_ok("356938035643809")); /* a known valid IMEI: the check itself works */
	assert_false(luhn_ok("356938035643808"));
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
}

static void
test_csim_answer_has_the_seed_shape(void **state)
{
	static const uint8_t open[] = { 0x00, 0x70, 0x00, 0x00, 0x01 };

	echo_off();
	fk.resp[0] = 0x01;
	fk.resp[1] = 0x90;
	fk.resp[2] = 0x00;
	fk.resp_len = 3;
	assert_string_equal(send("at+csim=10,\"0070000001\"\r"),
	    "\r\n+CSIM: 6,\"019000\"\r\n\r\nOK\r\n");
	assert_int_equal(fk.csim_calls, 1);
	assert_int_equal(fk.apdu_len, sizeof(open));
	assert_memory_equal(fk.apdu, open, sizeof(open));
}

static void
test_csim_hex_in_either_case_answer_in_upper_case(void **state)
{
	static const uint8_t sel[] = { 0x01, 0xA4, 0x04, 0x0C, 0x0C, 0xF0, 0x70, 0x6F, 0x64, 0x67,
		0x73, 0x61, 0x66, 0x65, 0x32, 0x01, 0x01 };

	echo_off();
	fk.resp[0] = 0xab;
	fk.resp[1] = 0xcd;
	fk.resp[2] = 0xef;
	fk.resp[3] = 0x90;
	fk.resp[4] = 0x00;
	fk.resp_len = 5;
	assert_string_equal(send("AT+CSIM=34,\"01a4040c0cf0706f646773616665320101\"\r"),
	    "\r\n+CSIM: 10,\"ABCDEF9000\"\r\n\r\nOK\r\n");
	assert_memory_equal(fk.apdu, sel, sizeof(sel));
	send("AT+CSIM=34,\"01A4040C0cF0706f646773616665320101\"\r");
	assert_memory_equal(fk.apdu, sel, sizeof(sel));
	assert_int_equal(fk.csim_calls, 2);
}

static void
test_csim_full_response_of_258_bytes(void **state)
{
	char expect[600];
	int k;

	echo_off();
	memset(fk.resp, 0x5A, APDU_MAX_RESP_DATA);
	fk.resp[256] = 0x90;
	fk.resp[257] = 0x00;
	fk.resp_len = APDU_MAX_RESP;
	k = snprintf(expect, sizeof(expect), "\r\n+CSIM: 516,\"");
	for (int i = 0; i < 256; i++)
		k += snprintf(expect + k, sizeof(expect) - (size_t)k, "5A");
	snprintf(expect + k, sizeof(expect) - (size_t)k, "9000\"\r\n\r\nOK\r\n");
	assert_string_equal(send("AT+CSIM=10,\"01CA000000\"\r"), expect);
}

static void
test_csim_261_byte_apdu_reaches_the_sim(void **state)
{
	char line[AT_LINE_MAX];
	int k;

	echo_off();
	k = snprintf(line, sizeof(line), "AT+CSIM=522,\"");
	for (int i = 0; i < APDU_MAX_CMD; i++)
		k += snprintf(line + k, sizeof(line) - (size_t)k, "%02X", i & 0xff);
	snprintf(line + k, sizeof(line) - (size_t)k, "\"\r");
	assert_string_equal(send(line), "\r\n+CSIM: 4,\"9000\"\r\n\r\nOK\r\n");
	assert_int_equal(fk.csim_calls, 1);
	assert_int_equal(fk.apdu_len, APDU_MAX_CMD);
	assert_int_equal(fk.apdu[260], 260 & 0xff);
}

static void
test_csim_short_apdu_goes_to_the_sim(void **state)
{
	/* not malformed for the modem: the card answers 6700 */
	echo_off();
	fk.resp[0] = 0x67;
	fk.resp[1] = 0x00;
	assert_string_equal(send("AT+CSIM=2,\"00\"\r"), "\r\n+CSIM: 4,\"6700\"\r\n\r\nOK\r\n");
	assert_int_equal(fk.csim_calls, 1);
}

static void
test_csim_malformed_reaches_no_applet(void **state)
{
	char over[AT_LINE_MAX];
	const char *bad[] = {
		"AT+CSIM=9,\"007000000\"\r",      /* odd length */
		"AT+CSIM=10,\"00700000G1\"\r",    /* bad hex */
		"AT+CSIM=10,\"0070 00001\"\r",    /* space in the hex */
		"AT+CSIM=8,\"0070000001\"\r",     /* n too small */
		"AT+CSIM=12,\"0070000001\"\r",    /* n too large */
		"AT+CSIM=010,\"0070000001\"\r",   /* n with a leading zero */
		"AT+CSIM=-10,\"0070000001\"\r",   /* n negative */
		"AT+CSIM=+10,\"0070000001\"\r",   /* n signed */
		"AT+CSIM=,\"0070000001\"\r",      /* no n */
		"AT+CSIM=99999999999999999999999,\"0070000001\"\r",
		"AT+CSIM=10,0070000001\r",        /* no quotes */
		"AT+CSIM=10,\"0070000001\r",      /* no closing quote */
		"AT+CSIM=10,0070000001\"\r",      /* no opening quote */
		"AT+CSIM=10,\"0070000001x\r",    /* garbage in place of the closing quote */
		"AT+CSIM=10,x0070000001\"\r",    /* garbage in place of the opening quote */
		"AT+CSIM=10,\"0070000001\"x\r",   /* trailing garbage */
		"AT+CSIM=10,\"0070000001\" \r",   /* trailing space */
		"AT+CSIM=10,\"0070000001\",\"\"\r",
		"AT+CSIM=10, \"0070000001\"\r",   /* space after the comma */
		"AT+CSIM=10,\"00700\"00001\"\r",  /* a quote inside */
		"AT+CSIM=0,\"\"\r",               /* empty */
		"AT+CSIM=10\r",
		"AT+CSIM=\r",
		"AT+CSIM\r",
		"AT+CSIM?\r",
		"AT+CSIM=10;\"0070000001\"\r",
		NULL,
	};
	int i, k;

	echo_off();
	for (i = 0; bad[i] != NULL; i++) {
		send(bad[i]);
		if (strcmp(fk.out, "\r\nERROR\r\n") != 0)
			fail_msg("%s answered %s", bad[i], fk.out);
	}
	/* 262 bytes: one over the longest short APDU */
	k = snprintf(over, sizeof(over), "AT+CSIM=524,\"");
	for (i = 0; i < APDU_MAX_CMD + 1; i++)
		k += snprintf(over + k, sizeof(over) - (size_t)k, "00");
	snprintf(over + k, sizeof(over) - (size_t)k, "\"\r");
	assert_string_equal(send(over), "\r\nERROR\r\n");
	assert_int_equal(fk.csim_calls, 0);
}

static void
test_csim_sim_failure_answers_error(void **state)
{
	echo_off();
	fk.resp_len = 0;
	assert_string_equal(send("AT+CSIM=10,\"0070000001\"\r"), "\r\nERROR\r\n");
	assert_int_equal(fk.csim_calls, 1);
}

static void
test_cr_and_crlf_both_end_a_line(void **state)
{
	echo_off();
	assert_string_equal(send("AT\r"), "\r\nOK\r\n");
	assert_string_equal(send("AT\r\n"), "\r\nOK\r\n");
	assert_string_equal(send("AT\r\nAT\r\n"), "\r\nOK\r\n\r\nOK\r\n");
}

static void
test_lone_lf_is_ignored(void **state)
{
	echo_off();
	assert_string_equal(send("AT\n"), "");
	assert_string_equal(send("\n\n"), "");
	assert_string_equal(send("\r"), "\r\nOK\r\n");
	/* with echo on, LF is not echoed either */
	send("ATE1\r");
	assert_string_equal(send("AT\r\n"), "AT\r\r\nOK\r\n");
}

static void
test_empty_line_gets_no_answer(void **state)
{
	assert_string_equal(send("\r"), "\r");
	echo_off();
	assert_string_equal(send("\r\r\n\r"), "");
}

static void
test_line_split_across_reads(void **state)
{
	const char *line = "at+csim=10,\"0070000001\"\r\n";
	size_t i;

	echo_off();
	clear_out();
	for (i = 0; line[i]; i++)
		at_input(&at, (const uint8_t *)line + i, 1);
	assert_string_equal(fk.out, "\r\n+CSIM: 4,\"9000\"\r\n\r\nOK\r\n");
	assert_int_equal(fk.csim_calls, 1);
}

static void
test_longest_line_is_accepted(void **state)
{
	char line[AT_LINE_MAX + 2];

	/* AT_LINE_MAX bytes: interpreted (an unknown command), not an overflow */
	echo_off();
	memset(line, 'X', sizeof(line));
	line[0] = 'A';
	line[1] = 'T';
	line[AT_LINE_MAX] = '\r';
	line[AT_LINE_MAX + 1] = '\0';
	assert_string_equal(send(line), "\r\nERROR\r\n");
	assert_int_equal(fk.csim_calls, 0);
}

static void
test_overlong_line_answers_one_error_and_is_discarded(void **state)
{
	char line[2 * AT_LINE_MAX];
	size_t n;

	echo_off();
	/* a valid AT+CSIM beyond the limit: never executed */
	memset(line, ' ', AT_LINE_MAX);
	n = AT_LINE_MAX;
	n += (size_t)snprintf(line + n, sizeof(line) - n, "AT+CSIM=10,\"0070000001\"\r");
	clear_out();
	at_input(&at, (const uint8_t *)line, n);
	assert_string_equal(fk.out, "\r\nERROR\r\n");
	assert_int_equal(fk.csim_calls, 0);
	/* the modem is usable again at once */
	assert_string_equal(send("AT\r"), "\r\nOK\r\n");
}

static void
test_overlong_line_with_echo_echoes_but_answers_once(void **state)
{
	char line[AT_LINE_MAX + 100];
	const char *r;

	memset(line, 'A', sizeof(line));
	line[sizeof(line) - 2] = '\r';
	line[sizeof(line) - 1] = '\0';
	r = send(line);
	assert_int_equal(strlen(r), sizeof(line) - 1 + strlen("\r\nERROR\r\n"));
	assert_string_equal(r + sizeof(line) - 1, "\r\nERROR\r\n");
}

static void
test_trace_sees_lines_in_and_out(void **state)
{
	echo_off();
	fk.trace_len = 0;
	fk.trace[0] = '\0';
	send("AT+CSIM=4,\"9000\"\r\n");
	send("\r");
	send("AT+X\r");
	assert_string_equal(fk.trace, ">AT+CSIM=4,\"9000\"|<+CSIM: 4,\"9000\"|<OK|>AT+X|<ERROR|");
}

/* ---- extensions and the "> " prompt ---- */

static void
ext_done(void *arg, struct at *a, const uint8_t *data, size_t n)
{
	char text[64];

	(void)arg;
	snprintf(text, sizeof(text), "+XDATA: %zu,\"%.*s\"", n, (int)n, (const char *)data);
	at_answer(a, text);
	at_answer(a, "OK");
}

static int
ext_cmd(void *arg, struct at *a, const char *c, size_t n)
{
	(void)arg;
	if (n == 8 && memcmp(c, "+XDATA=5", 8) == 0) {
		assert_int_equal(at_read_data(a, 5, ext_done, NULL), 0);
		return 1;
	}
	if (n == 8 && memcmp(c, "+XDATA=0", 8) == 0) {
		assert_int_equal(at_read_data(a, 0, ext_done, NULL), ZTP_ERANGE);
		at_answer(a, "ERROR");
		return 1;
	}
	return 0;
}

static void
test_extension_and_data_prompt(void **state)
{
	static const struct at_ext ext = { ext_cmd, NULL };

	(void)state;
	echo_off();
	assert_int_equal(at_add_ext(&at, &ext), 0);
	assert_string_equal(send("AT+XDATA=5\r"), "\r\n> ");
	/* five raw bytes, CR and LF among them, arriving in two pieces; no echo */
	assert_string_equal(send("a\r"), "");
	assert_string_equal(send("\nbcAT\r"), "\r\n+XDATA: 5,\"a\r\nbc\"\r\n\r\nOK\r\n\r\nOK\r\n");
	assert_string_equal(send("AT+XDATA=0\r"), "\r\nERROR\r\n");
	assert_string_equal(send("AT+NOPE\r"), "\r\nERROR\r\n");
	while (at.next < AT_EXT_MAX)
		assert_int_equal(at_add_ext(&at, &ext), 0);
	assert_int_equal(at_add_ext(&at, &ext), ZTP_EBUSY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_echo_is_on_after_power_up, setup),
		cmocka_unit_test_setup(test_ate0_turns_echo_off_and_is_itself_echoed, setup),
		cmocka_unit_test_setup(test_ate1_turns_echo_back_on, setup),
		cmocka_unit_test_setup(test_ate_without_digit_is_ate0, setup),
		cmocka_unit_test_setup(test_unknown_commands_answer_error, setup),
		cmocka_unit_test_setup(test_nul_byte_in_a_line_is_an_error, setup),
		cmocka_unit_test_setup(test_commands_are_case_insensitive, setup),
		cmocka_unit_test_setup(test_creg_reports_searching_home_roaming, setup),
		cmocka_unit_test_setup(test_ccid_and_iccid_answer_the_sim_iccid, setup),
		cmocka_unit_test_setup(test_cgsn_answers_the_imei, setup),
		cmocka_unit_test_setup(test_ati_answers_a_product_line, setup),
		cmocka_unit_test_setup(test_imei_is_15_digits_luhn_and_stable, setup),
		cmocka_unit_test_setup(test_csim_answer_has_the_seed_shape, setup),
		cmocka_unit_test_setup(test_csim_hex_in_either_case_answer_in_upper_case, setup),
		cmocka_unit_test_setup(test_csim_full_response_of_258_bytes, setup),
		cmocka_unit_test_setup(test_csim_261_byte_apdu_reaches_the_sim, setup),
		cmocka_unit_test_setup(test_csim_short_apdu_goes_to_the_sim, setup),
		cmocka_unit_test_setup(test_csim_malformed_reaches_no_applet, setup),
		cmocka_unit_test_setup(test_csim_sim_failure_answers_error, setup),
		cmocka_unit_test_setup(test_cr_and_crlf_both_end_a_line, setup),
		cmocka_unit_test_setup(test_lone_lf_is_ignored, setup),
		cmocka_unit_test_setup(test_empty_line_gets_no_answer, setup),
		cmocka_unit_test_setup(test_line_split_across_reads, setup),
		cmocka_unit_test_setup(test_longest_line_is_accepted, setup),
		cmocka_unit_test_setup(test_overlong_line_answers_one_error_and_is_discarded, setup),
		cmocka_unit_test_setup(test_overlong_line_with_echo_echoes_but_answers_once, setup),
		cmocka_unit_test_setup(test_trace_sees_lines_in_and_out, setup),
		cmocka_unit_test_setup(test_extension_and_data_prompt, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
