/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module security service's admin request bodies (admin_modreq.h):
 * what each accepts, what it refuses with a reason, and that a refusal
 * writes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin_modreq.h"
#include "modmsg.h"
#include "ztp/err.h"

#define B(s) (const uint8_t *)(s), strlen(s)

static char why[160];

static void
test_profile_create_accepts_and_defaults(void **state)
{
	struct store_profile p;

	(void)state;
	assert_int_equal(admin_modreq_profile_create(B("{\"name\":\"meters\"}"), &p, why,
			     sizeof(why)),
	    0);
	assert_string_equal(p.name, "meters");
	assert_string_equal(p.owner, "");
	assert_int_equal(p.features, 0);
	assert_int_equal(p.hb_interval_s, 0);
	assert_int_equal(admin_modreq_profile_create(B("{\"name\":\"m\",\"owner\":\"acme\","
						       "\"features\":[\"psk\",\"ztp-cert\"],"
						       "\"heartbeat_interval_s\":3600,"
						       "\"heartbeat_min_interval_s\":60}"),
			     &p, why, sizeof(why)),
	    0);
	assert_string_equal(p.owner, "acme");
	assert_int_equal(p.features, MODMSG_F_PSK | MODMSG_F_ZTP_CERT);
	assert_int_equal(p.hb_interval_s, 3600);
	assert_int_equal(p.hb_min_interval_s, 60);
}

static void
test_profile_create_refuses(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"{\"name\":\"a b\"}",
		"{\"name\":\"m\",\"extra\":1}",
		"{\"name\":\"m\",\"features\":[\"psk\",\"psk\"]}",
		"{\"name\":\"m\",\"features\":[\"teleport\"]}",
		"{\"name\":\"m\",\"features\":\"psk\"}",
		"{\"name\":\"m\",\"heartbeat_interval_s\":0}",
		"{\"name\":\"m\",\"heartbeat_interval_s\":60,\"heartbeat_min_interval_s\":61}",
		"{\"name\":\"m\",\"owner\":\"\"}",
		"{\"name\":\"m\",\"name\":\"n\"}",
	};
	struct store_profile p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&p, 0x5a, sizeof(p));
		why[0] = '\0';
		assert_int_equal(admin_modreq_profile_create(B(bad[i]), &p, why, sizeof(why)),
		    ZTP_EMALFORMED);
		assert_true(why[0] != '\0');
		assert_int_equal(((unsigned char *)&p)[0], 0x5a);
	}
	admin_modreq_profile_create(B("{\"name\":\"m\",\"features\":[\"teleport\"]}"), &p, why,
	    sizeof(why));
	assert_non_null(strstr(why, "unknown feature \"teleport\""));
}

static void
test_profile_update_needs_something(void **state)
{
	struct store_profile p;
	unsigned set = 0;

	(void)state;
	assert_int_equal(admin_modreq_profile_update(B("{}"), &p, &set, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(admin_modreq_profile_update(B("{\"name\":\"x\"}"), &p, &set, why,
			     sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(admin_modreq_profile_update(B("{\"features\":[]}"), &p, &set, why,
			     sizeof(why)),
	    0);
	assert_int_equal(set, STORE_PROFILE_SET_FEATURES);
	assert_int_equal(p.features, 0);
	assert_int_equal(admin_modreq_profile_update(B("{\"heartbeat_min_interval_s\":5}"), &p,
			     &set, why, sizeof(why)),
	    0);
	assert_int_equal(set, STORE_PROFILE_SET_HB_MIN);
	assert_int_equal(p.hb_min_interval_s, 5);
}

static void
test_import_rows_refused_alone(void **state)
{
	const char *body =
	    "{\"rows\":["
	    "{\"rot_uid\":\"00112233445566778899aabbccddeeff\",\"factory_secret\":"
	    "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\"batch\":\"L1\"},"
	    "{\"rot_uid\":\"00112233445566778899AABBCCDDEEFF\",\"factory_secret\":"
	    "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"},"
	    "{\"rot_uid\":\"00112233445566778899aabbccddee00\",\"factory_secret\":\"0011\"}]}";
	struct store_mod_import_row *rows = calloc(STORE_IMPORT_BATCH_MAX, sizeof(*rows));
	size_t n = 0;

	(void)state;
	assert_int_equal(admin_modreq_import(B(body), rows, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].rot_uid, "00112233445566778899aabbccddeeff");
	assert_string_equal(rows[0].batch, "L1");
	assert_int_equal(rows[0].secret[31], 0x1f);
	assert_string_equal(rows[0].invalid, "");
	assert_non_null(strstr(rows[1].invalid, "lower-case"));
	assert_non_null(strstr(rows[2].invalid, "factory_secret"));
	/* a row with another member refuses the batch */
	assert_int_equal(admin_modreq_import(B("{\"rows\":[{\"rot_uid\":\"x\",\"factory_secret\":"
					       "\"y\",\"psk\":1}]}"),
			     rows, &n, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(admin_modreq_import(B("{\"rows\":[]}"), rows, &n, why, sizeof(why)),
	    ZTP_EMALFORMED);
	free(rows);
}

static void
test_transfer_and_features(void **state)
{
	char owner[STORE_OWNER_MAX + 1] = "keep", prof[STORE_PROFILE_UID + 1];
	uint32_t e = 99, d = 99;

	(void)state;
	assert_int_equal(admin_modreq_transfer(B("{\"owner\":\"globex\"}"), owner, prof, why,
			     sizeof(why)),
	    0);
	assert_string_equal(owner, "globex");
	assert_string_equal(prof, "");
	assert_int_equal(admin_modreq_transfer(B("{\"owner\":\"initech\",\"profile\":"
						 "\"0123456789abcdef0123456789abcdef\"}"),
			     owner, prof, why, sizeof(why)),
	    0);
	assert_string_equal(owner, "initech");
	assert_string_equal(prof, "0123456789abcdef0123456789abcdef");
	assert_int_equal(admin_modreq_transfer(B("{\"owner\":\"x\",\"profile\":"
						 "\"0123456789ABCDEF0123456789abcdef\"}"),
			     owner, prof, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(admin_modreq_transfer(B("{\"owner\":\"x\",\"profile\":7}"), owner,
			     prof, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(admin_modreq_transfer(B("{\"owner\":null}"), owner, prof, why,
			     sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(admin_modreq_transfer(B("{}"), owner, prof, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_string_equal(owner, "initech");

	assert_int_equal(admin_modreq_features(B("{\"enable\":[\"c2c\"],\"disable\":[\"psk\"]}"),
			     &e, &d, why, sizeof(why)),
	    0);
	assert_int_equal(e, MODMSG_F_C2C);
	assert_int_equal(d, MODMSG_F_PSK);
	assert_int_equal(admin_modreq_features(B("{}"), &e, &d, why, sizeof(why)), ZTP_EMALFORMED);
	assert_int_equal(admin_modreq_features(B("{\"enable\":[\"e2e\"],\"disable\":[\"e2e\"]}"),
			     &e, &d, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_non_null(strstr(why, "\"e2e\" is both"));
	assert_int_equal(e, MODMSG_F_C2C);
}

static void
test_campaign_profile_or_devices(void **state)
{
	char(*rots)[STORE_ROT_HEX + 1] = calloc(STORE_CAMPAIGN_DEVICES_MAX, sizeof(*rots));
	struct store_campaign c;
	size_t n = 9;

	(void)state;
	assert_int_equal(admin_modreq_campaign(B("{\"profile\":\"000102030405060708090a0b0c0d0e0f\","
						 "\"enable\":[\"e2e\"]}"),
			     &c, rots, &n, why, sizeof(why)),
	    0);
	assert_string_equal(c.profile_uid, "000102030405060708090a0b0c0d0e0f");
	assert_int_equal(n, 0);
	assert_int_equal(c.enable, MODMSG_F_E2E);
	assert_int_equal(admin_modreq_campaign(B("{\"devices\":[\"00112233445566778899aabbccddeeff\"],"
						 "\"owner\":\"acme\",\"disable\":[\"psk\"]}"),
			     &c, rots, &n, why, sizeof(why)),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(rots[0], "00112233445566778899aabbccddeeff");
	assert_string_equal(c.owner, "acme");
	assert_string_equal(c.profile_uid, "");
	/* both, neither, nothing to change, a bad device */
	assert_int_equal(admin_modreq_campaign(B("{\"devices\":[\"00112233445566778899aabbccddeeff\"],"
						 "\"profile\":\"000102030405060708090a0b0c0d0e0f\","
						 "\"enable\":[\"e2e\"]}"),
			     &c, rots, &n, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(admin_modreq_campaign(B("{\"enable\":[\"e2e\"]}"), &c, rots, &n, why,
			     sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(admin_modreq_campaign(B("{\"profile\":\"000102030405060708090a0b0c0d0e0f\"}"),
			     &c, rots, &n, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(admin_modreq_campaign(B("{\"devices\":[\"nope\"],\"enable\":[\"e2e\"]}"),
			     &c, rots, &n, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(admin_modreq_campaign(B("{\"devices\":[],\"enable\":[\"e2e\"]}"), &c, rots,
			     &n, why, sizeof(why)),
	    ZTP_EMALFORMED);
	free(rots);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_create_accepts_and_defaults),
		cmocka_unit_test(test_profile_create_refuses),
		cmocka_unit_test(test_profile_update_needs_something),
		cmocka_unit_test(test_import_rows_refused_alone),
		cmocka_unit_test(test_transfer_and_features),
		cmocka_unit_test(test_campaign_profile_or_devices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
