/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module client's reader of an answer's head (src/device/modclient.c,
 * modclient_parse_head): the bytes come from the network, every edge is
 * here. The contacts themselves run against a real ztpd in
 * tests/integration/test_module_sim.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ztp/err.h"
#include "ztp/modclient.h"

static int
parse(const char *s, struct modclient_head *h)
{
	return modclient_parse_head(s, strlen(s), h);
}

static void
test_a_200_with_its_body(void **state)
{
	static const char a[] = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
				"Content-Length: 30\r\n\r\n";
	struct modclient_head h;

	assert_int_equal(parse(a, &h), 0);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.len, strlen(a));
	assert_int_equal(h.content_length, 30);
	assert_int_equal(h.close, 0);
}

static void
test_a_204_needs_no_length(void **state)
{
	struct modclient_head h;

	assert_int_equal(parse("HTTP/1.1 204 No Content\r\n\r\n", &h), 0);
	assert_int_equal(h.status, 204);
	assert_int_equal(h.content_length, 0);
	/* and one that says 0, or something else, still has no body */
	assert_int_equal(parse("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", &h), 0);
	assert_int_equal(h.content_length, 0);
	assert_int_equal(parse("HTTP/1.1 304 Not Modified\r\n\r\n", &h), 0);
	assert_int_equal(h.content_length, 0);
}

static void
test_line_endings_and_reason(void **state)
{
	struct modclient_head h;

	assert_int_equal(parse("HTTP/1.1 403\nContent-Length: 3\n\n", &h), 0);
	assert_int_equal(h.status, 403);
	assert_int_equal(h.len, strlen("HTTP/1.1 403\nContent-Length: 3\n\n"));
	assert_int_equal(parse("HTTP/1.0 429 Too Many Requests\r\ncontent-length:\t6 \r\n\r\n", &h),
	    0);
	assert_int_equal(h.status, 429);
	assert_int_equal(h.content_length, 6);
	/* the body's bytes after the head are not the head's */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab", &h), 0);
	assert_int_equal(h.len, strlen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"));
}

static void
test_connection_close(void **state)
{
	struct modclient_head h;

	assert_int_equal(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
			     &h),
	    0);
	assert_int_equal(h.close, 1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nconnection: Keep-Alive, CLOSE\r\n"
			       "Content-Length: 0\r\n\r\n",
			     &h),
	    0);
	assert_int_equal(h.close, 1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n"
			       "X-Close: close\r\n\r\n",
			     &h),
	    0);
	assert_int_equal(h.close, 0);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n",
			     &h),
	    0);
	assert_int_equal(h.close, 0);
}

static void
test_incomplete_heads_want_more(void **state)
{
	static const char a[] = "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n";
	struct modclient_head h;
	size_t n;

	for (n = 0; n < strlen(a); n++)
		assert_int_equal(modclient_parse_head(a, n, &h), MODCLIENT_HEAD_MORE);
	assert_int_equal(modclient_parse_head(a, n, &h), 0);
}

static void
test_head_limit(void **state)
{
	char big[MODCLIENT_HEAD_MAX + 64];
	struct modclient_head h;
	size_t n;

	/* a head of exactly the limit is read; one byte more is too large */
	n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX: ");
	memset(big + n, 'a', MODCLIENT_HEAD_MAX - n - 4);
	memcpy(big + MODCLIENT_HEAD_MAX - 4, "\r\n\r\n", 4);
	assert_int_equal(modclient_parse_head(big, MODCLIENT_HEAD_MAX, &h), 0);
	assert_int_equal(h.len, MODCLIENT_HEAD_MAX);
	memset(big + n, 'a', MODCLIENT_HEAD_MAX - n - 3);
	memcpy(big + MODCLIENT_HEAD_MAX - 3, "\r\n\r\n", 4);
	assert_int_equal(modclient_parse_head(big, MODCLIENT_HEAD_MAX + 1, &h), ZTP_ETOOBIG);
	assert_int_equal(modclient_parse_head(big, MODCLIENT_HEAD_MAX - 1, &h),
	    MODCLIENT_HEAD_MORE);
	/* no line end at all */
	memset(big, 'a', sizeof(big));
	assert_int_equal(modclient_parse_head(big, sizeof(big), &h), ZTP_ETOOBIG);
}

static void
test_body_limit(void **state)
{
	char a[128];
	struct modclient_head h;

	snprintf(a, sizeof(a), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", ZTP_ROT_BODY_MAX);
	assert_int_equal(parse(a, &h), 0);
	assert_int_equal(h.content_length, ZTP_ROT_BODY_MAX);
	snprintf(a, sizeof(a), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
	    ZTP_ROT_BODY_MAX + 1);
	assert_int_equal(parse(a, &h), ZTP_ETOOBIG);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
			     &h),
	    ZTP_EMALFORMED);
}

static void
test_malformed_heads(void **state)
{
	static const char *const bad[] = {
		"HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 2000\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 +20 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\n",
		"HTTP/1.1 600 Nope\r\nContent-Length: 0\r\n\r\n",
		"http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		" HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"\r\n",
		"HTTP/1.1 200 OK\r\n\r\n", /* a body with no length */
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 01\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n folded\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n: no name\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nno colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nBad Name: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX: a\rb\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\r\n\r\n",
	};
	struct modclient_head h;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &h) != ZTP_EMALFORMED)
			fail_msg("accepted: %s", bad[i]);
}

static void
test_nul_inside_a_line(void **state)
{
	static const char a[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n";
	struct modclient_head h;

	assert_int_equal(modclient_parse_head(a, sizeof(a) - 1, &h), ZTP_EMALFORMED);
}

static void
test_client_options_are_checked(void **state)
{
	struct modclient_opts o;
	char err[200];

	memset(&o, 0, sizeof(o));
	o.host = "127.0.0.1";
	o.port = 1;
	o.firmware = "fw";
	assert_null(modclient_new(&o, err, sizeof(err))); /* no store */
	assert_non_null(strstr(err, "store"));
	o.firmware = "";
	assert_null(modclient_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "firmware"));
	o.firmware = "fw";
	o.host = "bad host";
	assert_null(modclient_new(&o, err, sizeof(err)));
	o.host = "127.0.0.1";
	o.port = 0;
	assert_null(modclient_new(&o, err, sizeof(err)));
	assert_null(modclient_new(NULL, err, sizeof(err)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_200_with_its_body),
		cmocka_unit_test(test_a_204_needs_no_length),
		cmocka_unit_test(test_line_endings_and_reason),
		cmocka_unit_test(test_connection_close),
		cmocka_unit_test(test_incomplete_heads_want_more),
		cmocka_unit_test(test_head_limit),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_malformed_heads),
		cmocka_unit_test(test_nul_inside_a_line),
		cmocka_unit_test(test_client_options_are_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
