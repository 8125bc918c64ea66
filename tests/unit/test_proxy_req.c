/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proxy mode's pure part (src/server/proto/proxy_req.h): upstream URLs and
 * settings, the joined request URI, the answer mapping, header values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy_req.h"
#include "ztp/err.h"

static struct proxy_url
parse_ok(const char *url)
{
	struct proxy_url u;
	char why[160] = "";

	assert_int_equal(proxy_url_parse(url, &u, why, sizeof(why)), 0);
	return u;
}

static void
parse_bad(const char *url, const char *reason_part)
{
	struct proxy_url u, before;
	char why[160] = "";

	memset(&u, 0x5a, sizeof(u));
	memcpy(&before, &u, sizeof(u));
	assert_int_equal(proxy_url_parse(url, &u, why, sizeof(why)), ZTP_EINVAL);
	if (strstr(why, reason_part) == NULL)
		print_error("%s: reason \"%s\", expected \"%s\"\n", url, why, reason_part);
	assert_non_null(strstr(why, reason_part));
	assert_memory_equal(&u, &before, sizeof(u)); /* nothing written */
}

static void
test_url_forms(void **state)
{
	struct proxy_url u;

	u = parse_ok("http://backend.example/base");
	assert_false(u.https);
	assert_string_equal(u.host, "backend.example");
	assert_int_equal(u.host_is_ip, 0);
	assert_int_equal(u.port, 80);
	assert_string_equal(u.base, "/base");
	assert_string_equal(u.host_header, "backend.example");

	u = parse_ok("HTTPS://127.0.0.1:8443/a/b///");
	assert_true(u.https);
	assert_int_equal(u.host_is_ip, 4);
	assert_int_equal(u.port, 8443);
	assert_string_equal(u.base, "/a/b");
	assert_string_equal(u.host_header, "127.0.0.1:8443");

	u = parse_ok("https://[::1]:9000");
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.host_is_ip, 6);
	assert_string_equal(u.base, "");
	assert_string_equal(u.host_header, "[::1]:9000");

	u = parse_ok("https://[::1]/");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.host_header, "[::1]");
	assert_string_equal(u.base, "");
}

static void
test_url_refused(void **state)
{
	char longurl[STORE_UPSTREAM_URL_MAX + 8];

	parse_bad("", "empty");
	parse_bad("backend.example/base", "http:// or https://");
	parse_bad("ftp://backend.example/", "http:// or https://");
	parse_bad("http:///base", "no host");
	parse_bad("http://u:p@backend.example/", "no user");
	parse_bad("http://backend.example/b?x=1", "no user, query or fragment");
	parse_bad("http://backend.example/b#f", "no user, query or fragment");
	parse_bad("http://backend.example:/b", "empty port");
	parse_bad("http://backend.example:0/b", "port");
	parse_bad("http://backend.example:65536/b", "not a URL"); /* libevent refuses it */
	parse_bad("http://backend.example/a b", "not a URL");
	memset(longurl, 'a', sizeof(longurl) - 1);
	memcpy(longurl, "http://", 7);
	longurl[sizeof(longurl) - 1] = '\0';
	parse_bad(longurl, "too long");
}

static int
check(const char *url, const char *ca, const char *cert, const char *key)
{
	struct store_upstream u;
	char why[160] = "";
	int rc;

	memset(&u, 0, sizeof(u));
	snprintf(u.url, sizeof(u.url), "%s", url);
	snprintf(u.ca, sizeof(u.ca), "%s", ca);
	snprintf(u.cert, sizeof(u.cert), "%s", cert);
	snprintf(u.key, sizeof(u.key), "%s", key);
	rc = proxy_upstream_check(&u, why, sizeof(why));
	if (rc != 0)
		assert_true(why[0] != '\0');
	return rc;
}

static void
test_upstream_settings(void **state)
{
	assert_int_equal(check("", "", "", ""), 0);    /* the server's default */
	assert_int_equal(check("off", "", "", ""), 0); /* this store */
	assert_int_equal(check("http://b/", "", "", ""), 0);
	assert_int_equal(check("https://b/", "/ca.pem", "", ""), 0);
	assert_int_equal(check("https://b/", "", "/c.pem", "/c.key"), 0);
	/* files only with https, both halves of a client certificate, absolute paths */
	assert_int_equal(check("http://b/", "/ca.pem", "", ""), ZTP_EINVAL);
	assert_int_equal(check("off", "/ca.pem", "", ""), ZTP_EINVAL);
	assert_int_equal(check("", "", "/c.pem", "/c.key"), ZTP_EINVAL);
	assert_int_equal(check("https://b/", "", "/c.pem", ""), ZTP_EINVAL);
	assert_int_equal(check("https://b/", "", "", "/c.key"), ZTP_EINVAL);
	assert_int_equal(check("https://b/", "ca.pem", "", ""), ZTP_EINVAL);
	assert_int_equal(check("https://b/", "", "c.pem", "/c.key"), ZTP_EINVAL);
	assert_int_equal(check("gopher://b/", "", "", ""), ZTP_EINVAL);
}

static void
test_uri_join(void **state)
{
	struct proxy_url u = parse_ok("http://b/base/");
	char out[64];

	assert_int_equal(proxy_uri_join(&u, "/v1/config/AA?iccid=98", out, sizeof(out)), 0);
	assert_string_equal(out, "/base/v1/config/AA?iccid=98");
	assert_int_equal(proxy_uri_join(&u, "v1/config", out, sizeof(out)), ZTP_EINVAL);
	assert_int_equal(proxy_uri_join(&u, NULL, out, sizeof(out)), ZTP_EINVAL);
	/* exactly fits, and one byte over */
	assert_int_equal(proxy_uri_join(&u, "/123456789", out, 16), 0);
	assert_int_equal(proxy_uri_join(&u, "/1234567890", out, 16), ZTP_EINVAL);
	u = parse_ok("http://b");
	assert_int_equal(proxy_uri_join(&u, "/v1/dev/AA?iccid=98", out, sizeof(out)), 0);
	assert_string_equal(out, "/v1/dev/AA?iccid=98");
	/* no space, control byte or non-ASCII byte reaches a request line */
	assert_int_equal(proxy_uri_join(&u, "/a b", out, sizeof(out)), ZTP_EINVAL);
	assert_int_equal(proxy_uri_join(&u, "/a\rZTP-ICCID: 1", out, sizeof(out)), ZTP_EINVAL);
	assert_int_equal(proxy_uri_join(&u, "/a\tb", out, sizeof(out)), ZTP_EINVAL);
	assert_int_equal(proxy_uri_join(&u, "/a\x7f", out, sizeof(out)), ZTP_EINVAL);
	assert_int_equal(proxy_uri_join(&u, "/caf\xc3\xa9", out, sizeof(out)), ZTP_EINVAL);
}

static void
test_device_path(void **state)
{
	struct devroute r;
	char out[PROXY_URI_MAX];

	memset(&r, 0, sizeof(r));
	r.kind = DEVROUTE_CONFIG;
	snprintf(r.device_id, sizeof(r.device_id), "B58D51C5504D5257352E3120FF0D1338");
	snprintf(r.iccid, sizeof(r.iccid), "8944502509186389635");
	assert_int_equal(proxy_device_path(&r, out, sizeof(out)), 0);
	assert_string_equal(out,
	    "/v1/config/B58D51C5504D5257352E3120FF0D1338?iccid=984405529081369836F5");
	r.kind = DEVROUTE_DATA;
	assert_int_equal(proxy_device_path(&r, out, sizeof(out)), 0);
	assert_string_equal(out, "/v1/data/B58D51C5504D5257352E3120FF0D1338?iccid=984405529081369836F5");
	r.kind = DEVROUTE_DEV;
	snprintf(r.device_id, sizeof(r.device_id), "AA");
	snprintf(r.iccid, sizeof(r.iccid), "89445025091863896431");
	assert_int_equal(proxy_device_path(&r, out, sizeof(out)), 0);
	assert_string_equal(out, "/v1/dev/AA?iccid=98440552908136984613");
	/* too small a buffer, and routes that cannot come from the parser */
	assert_int_equal(proxy_device_path(&r, out, 20), ZTP_EINVAL);
	snprintf(r.device_id, sizeof(r.device_id), "aa");
	assert_int_equal(proxy_device_path(&r, out, sizeof(out)), ZTP_EINVAL);
	snprintf(r.device_id, sizeof(r.device_id), "%s", "");
	assert_int_equal(proxy_device_path(&r, out, sizeof(out)), ZTP_EINVAL);
	snprintf(r.device_id, sizeof(r.device_id), "AA");
	snprintf(r.iccid, sizeof(r.iccid), "12AB");
	assert_int_equal(proxy_device_path(&r, out, sizeof(out)), ZTP_EINVAL);
}

static void
test_map_status(void **state)
{
	static const int pass[] = { 200, 204, 304, 400, 403, 404, 409, 429, 499 };
	static const int bad[] = { 0, 100, 101, 201, 202, 206, 299, 301, 302, 303, 307, 308, 399,
		500, 502, 503, 504, 599, 600, 999, -1 };
	size_t i;

	for (i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
		assert_int_equal(proxy_map_status(pass[i]), PROXY_PASS);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(proxy_map_status(bad[i]), PROXY_BAD_ANSWER);
}

static void
test_header_values(void **state)
{
	assert_true(proxy_header_ok("\"1-abc\"", 16));
	assert_true(proxy_header_ok("", 16));
	assert_true(proxy_header_ok("0123456789abcdef", 16));
	assert_false(proxy_header_ok("0123456789abcdefg", 16));
	assert_false(proxy_header_ok("a\r\nZTP-ICCID: 1", 64));
	assert_false(proxy_header_ok("tab\there", 64));
	assert_false(proxy_header_ok("\x7f", 64));
	assert_false(proxy_header_ok("caf\xc3\xa9", 64));
	assert_false(proxy_header_ok(NULL, 64));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_forms),
		cmocka_unit_test(test_url_refused),
		cmocka_unit_test(test_upstream_settings),
		cmocka_unit_test(test_uri_join),
		cmocka_unit_test(test_device_path),
		cmocka_unit_test(test_map_status),
		cmocka_unit_test(test_header_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
