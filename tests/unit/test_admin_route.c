/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API's route matcher (src/server/proto/admin_route.h), on the API's
 * own table and on small tables of its own: the statuses that the API has
 * always given (404 unknown path, 405 known path and wrong method, 400 bad
 * parameter, in that order of the API's paths) and the edges of a path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admin_int.h"
#include "admin_route.h"
#include "ztp/err.h"

#define ICCID "8944502509186389635"

static struct adminroute_path path;
static struct adminroute_match m;

/* Match method and p against the API's table. */
static int
api(unsigned method, const char *p)
{
	assert_int_equal(adminroute_split(p, &path), 0);
	return adminroute_match(admin_api_routes, admin_api_nroutes, method, &path, &m);
}

static void
test_api_table_is_well_formed(void **state)
{
	size_t bad = 0;

	(void)state;
	assert_int_equal(adminroute_check(admin_api_routes, admin_api_nroutes, &bad), 0);
}

static void
test_route_found_with_its_handler(void **state)
{
	(void)state;
	assert_int_equal(api(ADMINROUTE_GET, "/v1/sims"), 0);
	assert_ptr_equal(m.route->handler, admin_sim_list);
	assert_null(m.param);
	assert_int_equal(api(ADMINROUTE_POST, "/v1/sims/" ICCID "/block"), 0);
	assert_ptr_equal(m.route->handler, admin_sim_block);
	assert_string_equal(m.param, ICCID);
}

static void
test_trailing_slash_and_empty_segments_are_dropped(void **state)
{
	(void)state;
	assert_int_equal(api(ADMINROUTE_GET, "/v1/sims/"), 0);
	assert_ptr_equal(m.route->handler, admin_sim_list);
	assert_int_equal(api(ADMINROUTE_GET, "//v1///sims//"), 0);
	assert_ptr_equal(m.route->handler, admin_sim_list);
}

static void
test_path_too_long_or_too_deep_is_refused(void **state)
{
	char p[ADMINROUTE_PATH_MAX + 1];

	(void)state;
	memset(p, 'a', sizeof(p) - 1);
	p[0] = '/';
	p[ADMINROUTE_PATH_MAX - 1] = '\0'; /* 255 bytes: fits */
	assert_int_equal(adminroute_split(p, &path), 0);
	p[ADMINROUTE_PATH_MAX - 1] = 'a';
	p[ADMINROUTE_PATH_MAX] = '\0';
	assert_int_equal(adminroute_split(p, &path), ZTP_ETOOBIG);
	assert_int_equal(adminroute_split("/1/2/3/4/5/6", &path), 0);
	assert_int_equal(path.nseg, 6);
	assert_int_equal(adminroute_split("/1/2/3/4/5/6/7", &path), ZTP_ETOOBIG);
}

static void
test_unknown_path_is_enoent(void **state)
{
	(void)state;
	assert_int_equal(api(ADMINROUTE_GET, "/v1/nosuch"), ZTP_ENOENT);
	assert_null(m.route);
	assert_int_equal(api(ADMINROUTE_GET, "/"), ZTP_ENOENT);
	assert_int_equal(api(ADMINROUTE_GET, "/v2/sims"), ZTP_ENOENT);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/certs/AB/nosuch"), ZTP_ENOENT);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/groups/g/upstream/x"), ZTP_ENOENT);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/manufacturer-cas/a/b"), ZTP_ENOENT);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/events/1"), ZTP_ENOENT);
	/* segments are not decoded: %73 is not "s" */
	assert_int_equal(api(ADMINROUTE_GET, "/v1/%73ims"), ZTP_ENOENT);
}

static void
test_wrong_method_is_einval_with_allow(void **state)
{
	(void)state;
	assert_int_equal(api(ADMINROUTE_PUT, "/v1/sims"), ZTP_EINVAL);
	assert_int_equal(m.allow, ADMINROUTE_GET | ADMINROUTE_POST);
	assert_int_equal(api(ADMINROUTE_OTHER, "/v1/sims"), ZTP_EINVAL);
	assert_int_equal(api(ADMINROUTE_PUT, "/v1/sims/" ICCID), ZTP_EINVAL);
	assert_int_equal(m.allow, ADMINROUTE_GET | ADMINROUTE_DELETE);
	assert_int_equal(api(ADMINROUTE_POST, "/v1/sims/" ICCID "/config"), ZTP_EINVAL);
	assert_int_equal(m.allow, ADMINROUTE_GET | ADMINROUTE_PUT);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/sims/import"), ZTP_EINVAL);
	assert_int_equal(m.allow, ADMINROUTE_POST);
}

static void
test_token_route_is_public_whatever_the_method(void **state)
{
	(void)state;
	assert_int_equal(api(ADMINROUTE_POST, "/v1/auth/token"), 0);
	assert_true(m.route->access & ADMINROUTE_PUBLIC);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/auth/token"), ZTP_EINVAL);
	assert_true(m.route->access & ADMINROUTE_PUBLIC);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/sims"), 0);
	assert_false(m.route->access & ADMINROUTE_PUBLIC);
}

/*
 * The routes a key of one owner may call are exactly these (their handlers
 * show and change that owner's things only): any other row, a new one
 * included, answers it 403. Adding a row here is a decision to review.
 */
static void
test_owner_keys_pass_only_where_handlers_filter_by_owner(void **state)
{
	static const struct {
		unsigned method;
		const char *pattern;
	} open[] = {
		{ ADMINROUTE_GET, "/v1/events" },
		{ ADMINROUTE_GET, "/v1/profiles" },
		{ ADMINROUTE_POST, "/v1/profiles" },
		{ ADMINROUTE_GET, "/v1/profiles/{profile}" },
		{ ADMINROUTE_PUT, "/v1/profiles/{profile}" },
		{ ADMINROUTE_GET, "/v1/modules" },
		{ ADMINROUTE_GET, "/v1/modules/{rot}" },
		{ ADMINROUTE_PUT, "/v1/modules/{rot}/features" },
		{ ADMINROUTE_GET, "/v1/campaigns" },
		{ ADMINROUTE_POST, "/v1/campaigns" },
		{ ADMINROUTE_GET, "/v1/campaigns/{campaign}" },
		/* the services: each checks the device's owner (admin_svc.c, admin_ztpca.c) */
		{ ADMINROUTE_GET, "/v1/psk/{identity}" },
		{ ADMINROUTE_POST, "/v1/e2e/decryption-parameters" },
		{ ADMINROUTE_POST, "/v1/devices/{udid}/e2e/encrypt" },
		{ ADMINROUTE_GET, "/v1/ztp-cas" },
		{ ADMINROUTE_POST, "/v1/ztp-cas" },
		{ ADMINROUTE_GET, "/v1/ztp-cas/{ztpca}" },
		{ ADMINROUTE_POST, "/v1/ztp-cas/{ztpca}/pop" },
		{ ADMINROUTE_GET, "/v1/profiles/{profile}/ztp-ca" },
		{ ADMINROUTE_PUT, "/v1/profiles/{profile}/ztp-ca" },
		{ ADMINROUTE_GET, "/v1/modules/{rot}/ztp-ca" },
		{ ADMINROUTE_PUT, "/v1/modules/{rot}/ztp-ca" },
	};
	size_t i, k, n = 0;

	(void)state;
	for (i = 0; i < admin_api_nroutes; i++) {
		const struct adminroute *r = &admin_api_routes[i];
		if (!(r->access & ADMINROUTE_OWNER_OK))
			continue;
		for (k = 0; k < sizeof(open) / sizeof(open[0]); k++)
			if (open[k].method == r->methods && strcmp(open[k].pattern, r->pattern) == 0)
				break;
		if (k == sizeof(open) / sizeof(open[0]))
			fail_msg("%s lets owner keys through", r->pattern);
		n++;
	}
	assert_int_equal(n, sizeof(open) / sizeof(open[0]));
	/* what owners never do: the operator's routes */
	assert_int_equal(api(ADMINROUTE_POST, "/v1/modules/import"), 0);
	assert_false(m.route->access & ADMINROUTE_OWNER_OK);
	assert_int_equal(api(ADMINROUTE_POST, "/v1/apikeys"), 0);
	assert_false(m.route->access & ADMINROUTE_OWNER_OK);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/sims"), 0);
	assert_false(m.route->access & ADMINROUTE_OWNER_OK);
}

static void
test_bad_iccid_is_emalformed_before_method_and_whatever_follows(void **state)
{
	(void)state;
	assert_int_equal(api(ADMINROUTE_GET, "/v1/sims/123"), ZTP_EMALFORMED);
	assert_string_equal(m.why, "not an ICCID (18 to 20 digits)");
	assert_int_equal(api(ADMINROUTE_PUT, "/v1/sims/123"), ZTP_EMALFORMED);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/sims/123/block"), ZTP_EMALFORMED);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/sims/123/nosuch"), ZTP_EMALFORMED);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/sims/123/config/nosuch"), ZTP_EMALFORMED);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/sims/import/x"), ZTP_EMALFORMED);
}

static void
test_unknown_sim_action_is_404_on_post_and_405_else(void **state)
{
	(void)state;
	assert_int_equal(api(ADMINROUTE_POST, "/v1/sims/" ICCID "/explode"), 0);
	assert_ptr_equal(m.route->handler, admin_no_path);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/sims/" ICCID "/explode"), ZTP_EINVAL);
	assert_int_equal(m.allow, ADMINROUTE_POST);
	/* deeper: 404 whatever the method */
	assert_int_equal(api(ADMINROUTE_PUT, "/v1/sims/" ICCID "/config/nosuch"), 0);
	assert_ptr_equal(m.route->handler, admin_no_path);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/sims/" ICCID "/a/b/c"), 0);
	assert_ptr_equal(m.route->handler, admin_no_path);
}

static void
test_group_name_is_checked_after_the_method(void **state)
{
	(void)state;
	assert_int_equal(api(ADMINROUTE_PUT, "/v1/groups/bad!name"), ZTP_EINVAL);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/groups/bad!name"), 0);
	assert_string_equal(m.param, "bad!name");
	assert_int_equal(api(ADMINROUTE_GET, "/v1/groups/bad!name/upstream"), ZTP_EINVAL);
	assert_int_equal(m.allow, ADMINROUTE_PUT);
}

static void
test_allowlist_import_is_also_the_udid_import(void **state)
{
	(void)state;
	assert_int_equal(api(ADMINROUTE_POST, "/v1/allowlist/import"), 0);
	assert_ptr_equal(m.route->handler, admin_est_allow_import);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/allowlist/import"), 0);
	assert_ptr_equal(m.route->handler, admin_est_allow_get_import);
	assert_int_equal(api(ADMINROUTE_DELETE, "/v1/allowlist/import"), 0);
	assert_ptr_equal(m.route->handler, admin_est_allow_delete_import);
	assert_int_equal(api(ADMINROUTE_PUT, "/v1/allowlist/import"), ZTP_EINVAL);
	assert_int_equal(m.allow, ADMINROUTE_GET | ADMINROUTE_POST | ADMINROUTE_DELETE);
}

static void
test_udid_is_percent_decoded(void **state)
{
	(void)state;
	assert_int_equal(api(ADMINROUTE_GET, "/v1/devices/dev%3a1%3A2"), 0);
	assert_string_equal(m.param, "dev:1:2");
	/* a '%' without two hex digits stays, and no UDID has one */
	assert_int_equal(api(ADMINROUTE_GET, "/v1/devices/dev%zz"), ZTP_EMALFORMED);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/devices/dev%4"), ZTP_EMALFORMED);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/devices/dev%00x"), ZTP_EMALFORMED);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/devices/a+b"), ZTP_EMALFORMED);
}

static void
test_udid_of_64_fits_and_65_is_emalformed(void **state)
{
	char p[128];

	(void)state;
	snprintf(p, sizeof(p), "/v1/allowlist/%064d", 0);
	assert_int_equal(api(ADMINROUTE_GET, p), 0);
	assert_int_equal(strlen(m.param), 64);
	snprintf(p, sizeof(p), "/v1/allowlist/%065d", 0);
	assert_int_equal(api(ADMINROUTE_GET, p), ZTP_EMALFORMED);
	/* 64 once decoded */
	snprintf(p, sizeof(p), "/v1/allowlist/%%41%063d", 0);
	assert_int_equal(api(ADMINROUTE_GET, p), 0);
	assert_int_equal(m.param[0], 'A');
}

static void
test_bad_udid_serial_ca_are_emalformed_before_method(void **state)
{
	(void)state;
	assert_int_equal(api(ADMINROUTE_PUT, "/v1/allowlist/a!b"), ZTP_EMALFORMED);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/devices/a!b/block"), ZTP_EMALFORMED);
	assert_int_equal(api(ADMINROUTE_PUT, "/v1/certs/XYZ"), ZTP_EMALFORMED);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/certs/XYZ/revoke"), ZTP_EMALFORMED);
	assert_int_equal(api(ADMINROUTE_PUT, "/v1/manufacturer-cas/a!b"), ZTP_EMALFORMED);
	assert_string_equal(m.why, "not a manufacturer CA name");
	/* good ones: now the method */
	assert_int_equal(api(ADMINROUTE_PUT, "/v1/certs/AB"), ZTP_EINVAL);
	assert_int_equal(api(ADMINROUTE_GET, "/v1/devices/dev1/block"), ZTP_EINVAL);
}

static void
test_serial_is_normalised(void **state)
{
	char p[96];

	(void)state;
	assert_int_equal(api(ADMINROUTE_GET, "/v1/certs/000abc"), 0);
	assert_string_equal(m.param, "0ABC");
	assert_int_equal(api(ADMINROUTE_GET, "/v1/certs/0"), 0);
	assert_string_equal(m.param, "00");
	snprintf(p, sizeof(p), "/v1/certs/%040d", 1); /* 40 digits, one byte */
	assert_int_equal(api(ADMINROUTE_GET, p), 0);
	assert_string_equal(m.param, "01");
	assert_int_equal(api(ADMINROUTE_GET,
	    "/v1/certs/1234567890123456789012345678901234567890"), 0);
	assert_int_equal(api(ADMINROUTE_GET,
	    "/v1/certs/12345678901234567890123456789012345678901"), ZTP_EMALFORMED);
}

static void
dummy(struct areq *a)
{
	(void)a;
}

static void
dummy2(struct areq *a)
{
	(void)a;
}

static void
test_literal_beats_parameter_beats_tail_in_any_order(void **state)
{
	static const struct adminroute t[] = {
		{ ADMINROUTE_ANY, "/x/**", dummy, 0 },
		{ ADMINROUTE_GET, "/x/*", dummy2, 0 },
		{ ADMINROUTE_POST, "/x/lit", dummy, 0 },
	};
	size_t bad = 0;

	(void)state;
	assert_int_equal(adminroute_check(t, 3, &bad), 0);
	assert_int_equal(adminroute_split("/x/lit", &path), 0);
	assert_int_equal(adminroute_match(t, 3, ADMINROUTE_GET, &path, &m), ZTP_EINVAL);
	assert_int_equal(m.allow, ADMINROUTE_POST);
	assert_int_equal(adminroute_split("/x/other", &path), 0);
	assert_int_equal(adminroute_match(t, 3, ADMINROUTE_GET, &path, &m), 0);
	assert_ptr_equal(m.route, &t[1]);
	assert_null(m.param);
	assert_int_equal(adminroute_split("/x/a/b", &path), 0);
	assert_int_equal(adminroute_match(t, 3, ADMINROUTE_DELETE, &path, &m), 0);
	assert_ptr_equal(m.route, &t[0]);
	/* "**" takes one segment or more, not none */
	assert_int_equal(adminroute_split("/x", &path), 0);
	assert_int_equal(adminroute_match(t, 3, ADMINROUTE_GET, &path, &m), ZTP_ENOENT);
}

static void
test_malformed_patterns_are_refused(void **state)
{
	static const char *const bad_patterns[] = {
		"v1/sims", "/v1//sims", "/v1/sims/", "/v1/{nosuch}", "/v1/{iccid}/{udid}", "/v1/{group}/*/{ca}", "/v1/x*",
		"/v1/**/x", "/1/2/3/4/5/6/7", "/v1/a{b", "/", "",
	};
	struct adminroute r = { ADMINROUTE_GET, NULL, dummy, 0 };
	size_t i, bad = 99;

	(void)state;
	for (i = 0; i < sizeof(bad_patterns) / sizeof(bad_patterns[0]); i++) {
		r.pattern = bad_patterns[i];
		assert_int_equal(adminroute_check(&r, 1, &bad), ZTP_EINVAL);
		assert_int_equal(bad, 0);
		/* and it fits nothing */
		assert_int_equal(adminroute_split("/v1/sims", &path), 0);
		assert_int_equal(adminroute_match(&r, 1, ADMINROUTE_GET, &path, &m), ZTP_ENOENT);
	}
	r.pattern = "/v1/sims";
	r.methods = 0;
	assert_int_equal(adminroute_check(&r, 1, &bad), ZTP_EINVAL);
	r.methods = ADMINROUTE_GET;
	r.handler = NULL;
	assert_int_equal(adminroute_check(&r, 1, &bad), ZTP_EINVAL);
}

static void
test_allow_header_and_prose(void **state)
{
	char buf[48];

	(void)state;
	assert_string_equal(adminroute_allow(ADMINROUTE_POST, 1, buf, sizeof(buf)), "POST");
	assert_string_equal(adminroute_allow(ADMINROUTE_GET | ADMINROUTE_POST, 1, buf,
	    sizeof(buf)), "GET or POST");
	assert_string_equal(adminroute_allow(ADMINROUTE_GET | ADMINROUTE_POST, 0, buf,
	    sizeof(buf)), "GET, POST");
	assert_string_equal(adminroute_allow(ADMINROUTE_GET | ADMINROUTE_POST | ADMINROUTE_DELETE,
	    1, buf, sizeof(buf)), "GET, POST or DELETE");
	assert_string_equal(adminroute_allow(ADMINROUTE_ANY, 0, buf, sizeof(buf)),
	    "GET, POST, PUT, DELETE");
	/* truncated, still a string */
	assert_int_equal(strlen(adminroute_allow(ADMINROUTE_ANY, 0, buf, 6)), 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api_table_is_well_formed),
		cmocka_unit_test(test_route_found_with_its_handler),
		cmocka_unit_test(test_trailing_slash_and_empty_segments_are_dropped),
		cmocka_unit_test(test_path_too_long_or_too_deep_is_refused),
		cmocka_unit_test(test_unknown_path_is_enoent),
		cmocka_unit_test(test_wrong_method_is_einval_with_allow),
		cmocka_unit_test(test_token_route_is_public_whatever_the_method),
		cmocka_unit_test(test_bad_iccid_is_emalformed_before_method_and_whatever_follows),
		cmocka_unit_test(test_unknown_sim_action_is_404_on_post_and_405_else),
		cmocka_unit_test(test_group_name_is_checked_after_the_method),
		cmocka_unit_test(test_allowlist_import_is_also_the_udid_import),
		cmocka_unit_test(test_udid_is_percent_decoded),
		cmocka_unit_test(test_udid_of_64_fits_and_65_is_emalformed),
		cmocka_unit_test(test_bad_udid_serial_ca_are_emalformed_before_method),
		cmocka_unit_test(test_serial_is_normalised),
		cmocka_unit_test(test_literal_beats_parameter_beats_tail_in_any_order),
		cmocka_unit_test(test_malformed_patterns_are_refused),
		cmocka_unit_test(test_allow_header_and_prose),
		cmocka_unit_test(test_owner_keys_pass_only_where_handlers_filter_by_owner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
