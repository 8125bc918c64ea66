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
#include <stdio.h>
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

/* POST /v1/e2e/decryption-parameters: the key identity, 22 or 32 hex digits by its first nibble */
static void
test_e2e_params(void **state)
{
	static const uint8_t long_ki[16] = { 0x11, 0x01, 0x00, 0x08, 0x00, 0x2f, 0x00, 0x00, 0x00,
		0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64 };
	static const uint8_t short_ki[11] = { 0x22, 0x00, 0x08, 0x00, 0x2f, 0x00, 0x07, 0xab, 0xcd,
		0xef, 0x64 };
	static const char *const bad[] = {
		/* the first nibble says another length, or no key identity */
		"{\"key_identity\":\"21010008002f00000007000000000064\"}",
		"{\"key_identity\":\"120008002f0007abcdef64\"}",
		"{\"key_identity\":\"31010008002f00000007000000000064\"}",
		"{\"key_identity\":\"01010008002f00000007000000000064\"}",
		/* one digit short or long, odd, empty */
		"{\"key_identity\":\"11010008002f0000000700000000006\"}",
		"{\"key_identity\":\"11010008002f000000070000000000640\"}",
		"{\"key_identity\":\"11010008002f0000000700000000006400\"}",
		"{\"key_identity\":\"220008002f0007abcdef6\"}",
		"{\"key_identity\":\"220008002f0007abcdef6400\"}",
		"{\"key_identity\":\"\"}",
		/* not hex: a letter, a space, a sign, a NUL */
		"{\"key_identity\":\"11010008002f0000000700000000006g\"}",
		"{\"key_identity\":\"11010008002f000000070000000000 4\"}",
		"{\"key_identity\":\"220008002f0007abcdef-4\"}",
		"{\"key_identity\":\"220008002f0007abcdef\\u00004\"}",
		/* not a string, other members, duplicates, not an object */
		"{\"key_identity\":11010008}",
		"{\"key_identity\":null}",
		"{\"key_identity\":[\"220008002f0007abcdef64\"]}",
		"{\"key_identity\":\"220008002f0007abcdef64\",\"sid\":1}",
		"{\"ki\":\"220008002f0007abcdef64\"}",
		"{\"key_identity\":\"220008002f0007abcdef64\",\"key_identity\":\"220008002f0007abcdef64\"}",
		"{}",
		"[\"220008002f0007abcdef64\"]",
		"\"220008002f0007abcdef64\"",
		"",
	};
	uint8_t ki[16];
	size_t n, i;
	int rc;

	(void)state;
	assert_int_equal(admin_modreq_e2e_params(B("{\"key_identity\":"
						   "\"11010008002f00000007000000000064\"}"),
			     ki, &n, why, sizeof(why)),
	    0);
	assert_int_equal(n, 16);
	assert_memory_equal(ki, long_ki, 16);
	/* upper case and mixed case are the same bytes */
	memset(ki, 0, sizeof(ki));
	assert_int_equal(admin_modreq_e2e_params(B("{\"key_identity\":"
						   "\"11010008002F00000007000000000064\"}"),
			     ki, &n, why, sizeof(why)),
	    0);
	assert_memory_equal(ki, long_ki, 16);
	/* the short form: 11 bytes, nothing written past them */
	memset(ki, 0x5a, sizeof(ki));
	assert_int_equal(admin_modreq_e2e_params(B("{\"key_identity\":\"220008002f0007ABcdEF64\"}"),
			     ki, &n, why, sizeof(why)),
	    0);
	assert_int_equal(n, 11);
	assert_memory_equal(ki, short_ki, 11);
	for (i = 11; i < sizeof(ki); i++)
		assert_int_equal(ki[i], 0x5a);
	/* whitespace around the body is JSON's */
	assert_int_equal(admin_modreq_e2e_params(B(" {\"key_identity\" : \"220008002f0007abcdef64\"}\n"),
			     ki, &n, why, sizeof(why)),
	    0);
	/* refusals: a reason, and neither output touched */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(ki, 0x5a, sizeof(ki));
		n = 99;
		why[0] = '\0';
		rc = admin_modreq_e2e_params(B(bad[i]), ki, &n, why, sizeof(why));
		if (rc != ZTP_EINVAL && rc != ZTP_EMALFORMED)
			fail_msg("%s: %d", bad[i], rc);
		assert_true(why[0] != '\0');
		assert_int_equal(n, 99);
		for (size_t j = 0; j < sizeof(ki); j++)
			assert_int_equal(ki[j], 0x5a);
	}
	/* the reason names what is wanted */
	admin_modreq_e2e_params(B("{\"key_identity\":\"31\"}"), ki, &n, why, sizeof(why));
	assert_non_null(strstr(why, "key_identity"));
	/* the reason is cut to its cap, NUL-terminated */
	memset(why, 'x', sizeof(why));
	admin_modreq_e2e_params(B("{\"key_identity\":\"31\"}"), ki, &n, why, 8);
	assert_int_equal(strlen(why), 7);
}

/* a body {"data": "<base64 of n bytes>"}, ws (JSON-escaped) every sp characters (0: none) */
static char *
data_body(size_t n, size_t sp, const char *ws)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *b = malloc(32 + (n / 3 + 1) * 4 * (1 + strlen(ws)));
	size_t i, k = 0, chars = 0;

	assert_non_null(b);
	k += (size_t)sprintf(b, "{\"data\":\"");
	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(uint8_t)(i * 7) << 16;
		int j;

		if (i + 1 < n)
			v |= (uint32_t)(uint8_t)((i + 1) * 7) << 8;
		if (i + 2 < n)
			v |= (uint8_t)((i + 2) * 7);
		for (j = 0; j < 4; j++) {
			if (sp != 0 && chars > 0 && chars % sp == 0)
				k += (size_t)sprintf(b + k, "%s", ws);
			b[k++] = (j == 2 && i + 1 >= n) || (j == 3 && i + 2 >= n) ?
			    '=' :
			    alpha[(v >> (18 - 6 * j)) & 63];
			chars++;
		}
	}
	k += (size_t)sprintf(b + k, "\"}");
	return b;
}

/* POST /v1/devices/ROT/e2e/encrypt: base64 of 0..4096 bytes */
static void
test_e2e_encrypt(void **state)
{
	static const char *const bad[] = {
		"{\"data\":\"SEVMTE8\"}",       /* not a multiple of 4 */
		"{\"data\":\"SEVMTE8==\"}",     /* too much padding */
		"{\"data\":\"SE=MTE8=\"}",      /* padding in the middle */
		"{\"data\":\"SEVM===\"}",
		"{\"data\":\"SEVM!E8=\"}",      /* not a base64 character */
		"{\"data\":\"SEVM-_8=\"}",      /* the URL-safe alphabet is not base64 */
		"{\"data\":\"SEVM\\u0000TE8=\"}",
		"{\"data\":\"SEVM\\u00a0TE8=\"}", /* no-break space is not whitespace */
		"{\"data\":5}",
		"{\"data\":null}",
		"{\"data\":[\"SEVMTE8=\"]}",
		"{\"data\":\"SEVMTE8=\",\"sid\":1}",
		"{\"data\":\"SEVMTE8=\",\"data\":\"SEVMTE8=\"}",
		"{}",
		"",
	};
	uint8_t *data = malloc(ADMIN_MODREQ_E2E_DATA_MAX + 16);
	size_t n, i, j;
	char *body;
	int rc;

	(void)state;
	assert_non_null(data);
	assert_int_equal(admin_modreq_e2e_encrypt(B("{\"data\":\"SEVMTE8=\"}"), data, &n, why,
			     sizeof(why)),
	    0);
	assert_int_equal(n, 5);
	assert_memory_equal(data, "HELLO", 5);
	/* empty, and whitespace alone: 0 bytes */
	n = 99;
	assert_int_equal(admin_modreq_e2e_encrypt(B("{\"data\":\"\"}"), data, &n, why, sizeof(why)),
	    0);
	assert_int_equal(n, 0);
	n = 99;
	assert_int_equal(admin_modreq_e2e_encrypt(B("{\"data\":\" \\r\\n\\t\"}"), data, &n, why,
			     sizeof(why)),
	    0);
	assert_int_equal(n, 0);
	/* RFC 8951's whitespace between the characters: CR LF SP TAB */
	assert_int_equal(admin_modreq_e2e_encrypt(B("{\"data\":\" SE\\r\\nVM\\tTE 8=\\n\"}"), data, &n,
			     why, sizeof(why)),
	    0);
	assert_int_equal(n, 5);
	assert_memory_equal(data, "HELLO", 5);
	/* every padding: 1, 2 and 3 bytes */
	for (i = 1; i <= 3; i++) {
		body = data_body(i, 0, "");
		assert_int_equal(admin_modreq_e2e_encrypt(B(body), data, &n, why, sizeof(why)), 0);
		assert_int_equal(n, i);
		free(body);
	}
	/* the maximum, 4096 bytes, in lines of 76 and as one; not a byte past it written */
	for (i = 0; i < 2; i++) {
		body = data_body(ADMIN_MODREQ_E2E_DATA_MAX, i ? 76 : 0, "\\r\\n");
		memset(data, 0x5a, ADMIN_MODREQ_E2E_DATA_MAX + 16);
		assert_int_equal(admin_modreq_e2e_encrypt(B(body), data, &n, why, sizeof(why)), 0);
		assert_int_equal(n, ADMIN_MODREQ_E2E_DATA_MAX);
		for (j = 0; j < n; j++)
			assert_int_equal(data[j], (uint8_t)(j * 7));
		for (j = n; j < n + 16; j++)
			assert_int_equal(data[j], 0x5a);
		free(body);
	}
	/* 4097 bytes: refused whole, and named as too long */
	for (i = 0; i < 2; i++) {
		body = data_body(ADMIN_MODREQ_E2E_DATA_MAX + 1 + 2 * i, 0, "");
		memset(data, 0x5a, ADMIN_MODREQ_E2E_DATA_MAX + 16);
		n = 99;
		assert_int_equal(admin_modreq_e2e_encrypt(B(body), data, &n, why, sizeof(why)),
		    ZTP_EINVAL);
		assert_non_null(strstr(why, "at most 4096 bytes"));
		assert_int_equal(n, 99);
		for (j = 0; j < ADMIN_MODREQ_E2E_DATA_MAX + 16; j++)
			assert_int_equal(data[j], 0x5a);
		free(body);
	}
	/* refusals: a reason, the outputs untouched */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(data, 0x5a, ADMIN_MODREQ_E2E_DATA_MAX + 16);
		n = 99;
		why[0] = '\0';
		rc = admin_modreq_e2e_encrypt(B(bad[i]), data, &n, why, sizeof(why));
		if (rc != ZTP_EINVAL && rc != ZTP_EMALFORMED)
			fail_msg("%s: %d", bad[i], rc);
		assert_true(why[0] != '\0');
		assert_int_equal(n, 99);
		for (j = 0; j < ADMIN_MODREQ_E2E_DATA_MAX + 16; j++)
			if (data[j] != 0x5a)
				fail_msg("%s: data[%zu] written on a refusal", bad[i], j);
	}
	free(data);
}

/* a transfer refused leaves both outputs as they were */
static void
test_transfer_refused_writes_nothing(void **state)
{
	char owner[STORE_OWNER_MAX + 1] = "keep", prof[STORE_PROFILE_UID + 1] = "keep";

	(void)state;
	assert_int_equal(admin_modreq_transfer(B("{\"owner\":\"a b\",\"profile\":"
						 "\"0123456789abcdef0123456789abcdef\"}"),
			     owner, prof, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(admin_modreq_transfer(B("{\"owner\":\"x\",\"profile\":\"nope\"}"), owner,
			     prof, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(admin_modreq_transfer(B("{\"owner\":null}"), owner, prof, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_string_equal(owner, "keep");
	assert_string_equal(prof, "keep");
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
		cmocka_unit_test(test_e2e_params),
		cmocka_unit_test(test_e2e_encrypt),
		cmocka_unit_test(test_transfer_refused_writes_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
