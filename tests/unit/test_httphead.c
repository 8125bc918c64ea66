/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request head guard's parser (src/server/proto/httphead.h): whole
 * heads, heads still coming, and every refusal with its status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "httphead.h"
#include "ztp/err.h"

#define MAX 8192

static int
parse(const char *head, struct httphead *h)
{
	return httphead_parse(head, strlen(head), MAX, h);
}

static void
expect_status(const char *head, int status)
{
	struct httphead h;

	assert_int_equal(parse(head, &h), ZTP_EMALFORMED);
	assert_int_equal(h.status, status);
	assert_non_null(h.why);
}

static void
test_get(void **state)
{
	const char *req = "GET /v1/config/AB?iccid=1 HTTP/1.1\r\nHost: x\r\n\r\nrest";
	struct httphead h;

	assert_int_equal(parse(req, &h), 0);
	assert_int_equal(h.len, strlen(req) - 4);
	assert_int_equal(h.method, HTTPHEAD_GET);
	assert_int_equal(h.target_len, strlen("/v1/config/AB?iccid=1"));
	assert_memory_equal(h.target, "/v1/config/AB?iccid=1", h.target_len);
	assert_int_equal(h.content_length, -1);
	assert_null(h.auth);
}

static void
test_post_with_length_and_auth(void **state)
{
	const char *req = "POST /v1/sims HTTP/1.0\nContent-Length:  12 \nAuthorization: Bearer "
			  "ztp1.x\ncontent-length: 12\n\n";
	struct httphead h;

	assert_int_equal(parse(req, &h), 0);
	assert_int_equal(h.method, HTTPHEAD_POST);
	assert_int_equal(h.content_length, 12);
	assert_int_equal(h.auth_len, strlen("Bearer ztp1.x"));
	assert_memory_equal(h.auth, "Bearer ztp1.x", h.auth_len);
	assert_int_equal(h.len, strlen(req));
}

static void
test_more(void **state)
{
	struct httphead h;
	char big[MAX];

	assert_int_equal(parse("", &h), HTTPHEAD_MORE);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n", &h), HTTPHEAD_MORE);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n\r", &h), HTTPHEAD_MORE);
	/* exactly max bytes without an end: still possible */
	memset(big, 'a', sizeof(big));
	assert_int_equal(httphead_parse(big, sizeof(big), MAX, &h), HTTPHEAD_MORE);
}

static void
test_size_limit(void **state)
{
	struct httphead h;
	size_t n = MAX + 1;
	char *big = malloc(n + 4);

	assert_non_null(big);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memset(big + 19, 'a', n - 19);
	assert_int_equal(httphead_parse(big, n, MAX, &h), ZTP_EMALFORMED);
	assert_int_equal(h.status, 431);
	/* a head that ends right at the limit is whole; one byte more is refused */
	memcpy(big + MAX - 4, "\r\n\r\n", 4);
	assert_int_equal(httphead_parse(big, MAX, MAX, &h), 0);
	assert_int_equal(h.len, MAX);
	memcpy(big + MAX - 3, "\r\n\r\n", 4);
	assert_int_equal(httphead_parse(big, MAX + 1, MAX, &h), ZTP_EMALFORMED);
	assert_int_equal(h.status, 431);
	free(big);
}

static void
test_framing_refused(void **state)
{
	expect_status("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
	expect_status("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", 400);
	expect_status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
	expect_status("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400);
	expect_status("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400);
	expect_status("POST / HTTP/1.1\r\nContent-Length: 9999999999999\r\n\r\n", 400);
	expect_status("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	    400);
	expect_status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
	expect_status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
	expect_status("GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\nBad Name: a\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\n: a\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\rX: y\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n", 400);
}

static void
test_request_line_refused(void **state)
{
	struct httphead h;
	const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";

	expect_status("\r\nGET / HTTP/1.1\r\n\r\n", 400);
	expect_status("GET /\r\n\r\n", 400);
	expect_status("GET  / HTTP/1.1\r\n\r\n", 400);
	expect_status("GET / HTTP/2.0\r\n\r\n", 505);
	expect_status("GET / HTTP/1.2\r\n\r\n", 505);
	expect_status("GET / FTP/1.1\r\n\r\n", 400);
	expect_status("OPTIONS / HTTP/1.1\r\n\r\n", 501);
	expect_status("get / HTTP/1.1\r\n\r\n", 501);
	expect_status("GET /a\x7f HTTP/1.1\r\n\r\n", 400);
	assert_int_equal(httphead_parse(nul, sizeof(nul) - 1, MAX, &h), ZTP_EMALFORMED);
	assert_int_equal(h.status, 400);
}

static void
test_methods(void **state)
{
	struct httphead h;

	assert_int_equal(parse("HEAD / HTTP/1.1\r\n\r\n", &h), 0);
	assert_int_equal(h.method, HTTPHEAD_HEAD);
	assert_int_equal(parse("PUT / HTTP/1.1\r\n\r\n", &h), 0);
	assert_int_equal(h.method, HTTPHEAD_PUT);
	assert_int_equal(parse("DELETE / HTTP/1.1\r\n\r\n", &h), 0);
	assert_int_equal(h.method, HTTPHEAD_DELETE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_post_with_length_and_auth),
		cmocka_unit_test(test_more),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_framing_refused),
		cmocka_unit_test(test_request_line_refused),
		cmocka_unit_test(test_methods),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
