/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module's AT commands in ztp-sim's interpreter (src/sim/at.c,
 * docs/protocol/security-service.md section 9): the exact syntax, what
 * reaches the module, the answers. The module is a recording hook here;
 * ztp-sim's real one runs in tests/integration/test_module_sim.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "at.h"

struct fake {
	char out[4096];
	size_t out_len;
	int seals;
	char profile[128], serial[128];
	int seal_rc;
	int status[3];
	int conns;
	int conn_rc;
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
	return 0;
}

static int
fake_creg(void *arg)
{
	return AT_CREG_HOME;
}

static int
fake_seal(void *arg, const char *p, size_t plen, const char *s, size_t slen)
{
	fk.seals++;
	snprintf(fk.profile, sizeof(fk.profile), "%.*s", (int)plen, p);
	snprintf(fk.serial, sizeof(fk.serial), "%.*s", (int)slen, s);
	return fk.seal_rc;
}

static void
fake_status(void *arg, int *reg, int *claimed, int *boot)
{
	*reg = fk.status[0];
	*claimed = fk.status[1];
	*boot = fk.status[2];
}

static int
fake_conn(void *arg)
{
	fk.conns++;
	return fk.conn_rc;
}

static const struct at_ops ops = { fake_out, fake_csim, fake_creg, NULL, NULL };
static const struct at_module_ops mops = { fake_seal, fake_status, fake_conn, NULL };

static int
setup(void **state)
{
	memset(&fk, 0, sizeof(fk));
	at_init(&at, &ops, "8944502509186389635", "351234567890123");
	at_set_module(&at, &mops);
	at.echo = 0;
	return 0;
}

/* Send line (CR added) and return what the modem answered. */
static const char *
cmd(const char *line)
{
	fk.out_len = 0;
	fk.out[0] = '\0';
	at_input(&at, (const uint8_t *)line, strlen(line));
	at_input(&at, (const uint8_t *)"\r", 1);
	return fk.out;
}

#define CME "\r\n+CME ERROR: operation not allowed\r\n"

static void
test_status_answers(void **state)
{
	assert_string_equal(cmd("AT+USECDEVINFO?"), "\r\n+USECDEVINFO: 0,0,0\r\n\r\nOK\r\n");
	fk.status[0] = fk.status[2] = 1;
	assert_string_equal(cmd("at+usecdevinfo?"), "\r\n+USECDEVINFO: 1,0,1\r\n\r\nOK\r\n");
	fk.status[1] = 7; /* anything but 0 is 1 */
	assert_string_equal(cmd("AT+USECDEVINFO?"), "\r\n+USECDEVINFO: 1,1,1\r\n\r\nOK\r\n");
}

static void
test_seal_passes_the_arguments(void **state)
{
	assert_string_equal(cmd("AT+USECDEVINFO=\"0123456789abcdef0123456789abcdef\",\"SN 1,2\""),
	    "\r\nOK\r\n");
	assert_int_equal(fk.seals, 1);
	assert_string_equal(fk.profile, "0123456789abcdef0123456789abcdef");
	assert_string_equal(fk.serial, "SN 1,2");
	/* empty ones reach the module, which judges them */
	fk.seal_rc = -1;
	assert_string_equal(cmd("AT+USECDEVINFO=\"\",\"\""), CME);
	assert_int_equal(fk.seals, 2);
	assert_string_equal(fk.profile, "");
	assert_string_equal(fk.serial, "");
}

static void
test_seal_syntax_errors_never_reach_the_module(void **state)
{
	static const char *const bad[] = {
		"AT+USECDEVINFO=",
		"AT+USECDEVINFO=\"a\"",
		"AT+USECDEVINFO=\"a\",",
		"AT+USECDEVINFO=\"a\",\"",
		"AT+USECDEVINFO=\"a\",\"b",
		"AT+USECDEVINFO=\"a\" ,\"b\"",
		"AT+USECDEVINFO=\"a\",\"b\" ",
		"AT+USECDEVINFO= \"a\",\"b\"",
		"AT+USECDEVINFO=\"a\",\"b\",\"c\"",
		"AT+USECDEVINFO=\"a\",\"b\"c\"",
		"AT+USECDEVINFO=a,b",
		"AT+USECDEVINFO=\"a\"\"b\"",
		"AT+USECDEVINFO=\"a\";\"b\"",
		"AT+USECDEVINFO",
		"AT+USECDEVINFO=?",
		"AT+USECCONN?",
		"AT+USECCONN=1",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strcmp(cmd(bad[i]), "\r\nERROR\r\n") != 0)
			fail_msg("%s: %s", bad[i], fk.out);
	assert_int_equal(fk.seals, 0);
	assert_int_equal(fk.conns, 0);
}

static void
test_conn_answers(void **state)
{
	assert_string_equal(cmd("AT+USECCONN"), "\r\nOK\r\n");
	fk.conn_rc = -1;
	assert_string_equal(cmd("at+usecconn"), CME);
	assert_int_equal(fk.conns, 2);
}

static void
test_without_a_module_the_commands_are_unknown(void **state)
{
	at_set_module(&at, NULL);
	assert_string_equal(cmd("AT+USECDEVINFO?"), "\r\nERROR\r\n");
	assert_string_equal(cmd("AT+USECCONN"), "\r\nERROR\r\n");
	assert_string_equal(cmd("AT+USECDEVINFO=\"a\",\"b\""), "\r\nERROR\r\n");
	assert_int_equal(fk.seals + fk.conns, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_status_answers, setup),
		cmocka_unit_test_setup(test_seal_passes_the_arguments, setup),
		cmocka_unit_test_setup(test_seal_syntax_errors_never_reach_the_module, setup),
		cmocka_unit_test_setup(test_conn_answers, setup),
		cmocka_unit_test_setup(test_without_a_module_the_commands_are_unknown, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
