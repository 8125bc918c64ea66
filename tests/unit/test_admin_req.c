/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API's JSON request bodies (src/server/proto/admin_req.h). The keys and
 * certificates of the certificate tests are made at run time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "admin_req.h"
#include "ztp/err.h"

#define ICCID "8944502509186389635"
#define PSK32 "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"

/* ---- the four parsers, called on a C string, outputs poisoned first ---- */

struct token_out {
	char key_id[TOKEN_KEYID_MAX + 1];
	char secret[ADMINREQ_SECRET_MAX + 1];
};

struct sim_out {
	char iccid[ICCID_STR_SIZE];
	uint8_t psk[STORE_PSK_MAX];
	size_t psklen;
	int derived;
	char device_id[STORE_DEVID_HEX];
};

struct cfg_out {
	uint8_t body[STORE_CONFIG_MAX];
	size_t len;
};

static char why[256];

static int
token_req(const char *json, struct token_out *o)
{
	memset(o, 0xA5, sizeof(*o));
	why[0] = '\0';
	return adminreq_token((const uint8_t *)json, strlen(json), o->key_id, o->secret, why,
	    sizeof(why));
}

static int
sim_req_n(const char *json, size_t len, struct sim_out *o)
{
	struct adminreq_sim sim;
	int rc;

	memset(o, 0xA5, sizeof(*o));
	why[0] = '\0';
	rc = adminreq_sim_create((const uint8_t *)json, len, &sim, why, sizeof(why));
	if (rc == 0) {
		memcpy(o->iccid, sim.row.iccid, sizeof(o->iccid));
		memcpy(o->psk, sim.row.psk, sim.row.psk_len);
		o->psklen = sim.row.psk_len;
		o->derived = sim.derived;
		memcpy(o->device_id, sim.device_id, sizeof(o->device_id));
	}
	return rc;
}

static int
sim_req(const char *json, struct sim_out *o)
{
	return sim_req_n(json, strlen(json), o);
}

static int
cfg_req(const char *json, struct cfg_out *o)
{
	memset(o, 0xA5, sizeof(*o));
	why[0] = '\0';
	return adminreq_config_set((const uint8_t *)json, strlen(json), o->body, &o->len, why,
	    sizeof(why));
}

static int
rb_req(const char *json, uint32_t *v)
{
	*v = 0xA5A5A5A5;
	why[0] = '\0';
	return adminreq_rollback((const uint8_t *)json, strlen(json), v, why, sizeof(why));
}

/* 1 if every byte of p is 0xA5: the parser did not write it */
static int
untouched(const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != 0xA5)
			return 0;
	return 1;
}

/* Expect a failure rc with a reason and the outputs left alone, for each parser. */
static void
token_fails(const char *json, int rc)
{
	struct token_out o;

	assert_int_equal(token_req(json, &o), rc);
	assert_true(why[0] != '\0');
	assert_true(untouched(&o, sizeof(o)));
}

static void
sim_fails(const char *json, int rc)
{
	struct sim_out o;

	assert_int_equal(sim_req(json, &o), rc);
	assert_true(why[0] != '\0');
	assert_true(untouched(&o, sizeof(o)));
}

static void
cfg_fails(const char *json, int rc)
{
	struct cfg_out o;

	assert_int_equal(cfg_req(json, &o), rc);
	assert_true(why[0] != '\0');
	assert_true(untouched(&o, sizeof(o)));
}

static void
rb_fails(const char *json, int rc)
{
	uint32_t v;

	assert_int_equal(rb_req(json, &v), rc);
	assert_true(why[0] != '\0');
	assert_int_equal(v, 0xA5A5A5A5);
}

/* ---- adminreq_token ---- */

static void
test_token_valid_body(void **state)
{
	struct token_out o;

	assert_int_equal(token_req("{\"key_id\":\"admin\",\"secret\":\"s3cret\"}", &o), 0);
	assert_string_equal(o.key_id, "admin");
	assert_string_equal(o.secret, "s3cret");
}

static void
test_token_members_in_any_order_with_whitespace(void **state)
{
	struct token_out o;

	assert_int_equal(token_req(" \n{ \"secret\" : \"x\" ,\t\"key_id\":\"k-1_\" }\n", &o), 0);
	assert_string_equal(o.key_id, "k-1_");
	assert_string_equal(o.secret, "x");
}

static void
test_token_missing_member(void **state)
{
	token_fails("{\"key_id\":\"admin\"}", ZTP_EMALFORMED);
	assert_non_null(strstr(why, "secret"));
	token_fails("{\"secret\":\"s\"}", ZTP_EMALFORMED);
	token_fails("{}", ZTP_EMALFORMED);
}

static void
test_token_unknown_member(void **state)
{
	token_fails("{\"key_id\":\"admin\",\"secret\":\"s\",\"ttl\":5}", ZTP_EMALFORMED);
	assert_non_null(strstr(why, "ttl"));
	token_fails("{\"key_id\":\"admin\",\"Secret\":\"s\"}", ZTP_EMALFORMED);
}

static void
test_token_duplicate_member(void **state)
{
	token_fails("{\"key_id\":\"admin\",\"secret\":\"s\",\"secret\":\"t\"}", ZTP_EMALFORMED);
	token_fails("{\"key_id\":\"admin\",\"key_id\":\"admin\",\"secret\":\"s\"}", ZTP_EMALFORMED);
}

static void
test_token_wrong_types(void **state)
{
	token_fails("{\"key_id\":5,\"secret\":\"s\"}", ZTP_EMALFORMED);
	token_fails("{\"key_id\":\"admin\",\"secret\":null}", ZTP_EMALFORMED);
	token_fails("{\"key_id\":[\"admin\"],\"secret\":\"s\"}", ZTP_EMALFORMED);
	token_fails("{\"key_id\":\"admin\",\"secret\":{\"v\":\"s\"}}", ZTP_EMALFORMED);
	token_fails("{\"key_id\":\"admin\",\"secret\":true}", ZTP_EMALFORMED);
}

static void
test_token_invalid_key_id(void **state)
{
	token_fails("{\"key_id\":\"\",\"secret\":\"s\"}", ZTP_EMALFORMED);
	token_fails("{\"key_id\":\"ad min\",\"secret\":\"s\"}", ZTP_EMALFORMED);
	token_fails("{\"key_id\":\"a.b\",\"secret\":\"s\"}", ZTP_EMALFORMED);
	token_fails("{\"key_id\":\"abcdefghijklmnopqrstuvwxyz012345\",\"secret\":\"s\"}",
	    ZTP_EMALFORMED);
}

static void
test_token_secret_of_128_chars_is_accepted(void **state)
{
	char json[512], secret[ADMINREQ_SECRET_MAX + 1];
	struct token_out o;

	memset(secret, 's', ADMINREQ_SECRET_MAX);
	secret[ADMINREQ_SECRET_MAX] = '\0';
	snprintf(json, sizeof(json), "{\"key_id\":\"admin\",\"secret\":\"%s\"}", secret);
	assert_int_equal(token_req(json, &o), 0);
	assert_string_equal(o.secret, secret);
}

static void
test_token_secret_too_long(void **state)
{
	char json[512], secret[ADMINREQ_SECRET_MAX + 2];

	memset(secret, 's', ADMINREQ_SECRET_MAX + 1);
	secret[ADMINREQ_SECRET_MAX + 1] = '\0';
	snprintf(json, sizeof(json), "{\"key_id\":\"admin\",\"secret\":\"%s\"}", secret);
	token_fails(json, ZTP_EMALFORMED);
}

static void
test_token_empty_secret(void **state)
{
	token_fails("{\"key_id\":\"admin\",\"secret\":\"\"}", ZTP_EMALFORMED);
}

static void
test_token_secret_with_nul(void **state)
{
	/* jansson refuses \u0000 unless asked to allow it */
	token_fails("{\"key_id\":\"admin\",\"secret\":\"a\\u0000b\"}", ZTP_EMALFORMED);
}

/* ---- bodies every parser refuses the same way ---- */

static void
test_not_an_object(void **state)
{
	static const char *const bodies[] = { "[]", "\"admin\"", "5", "null", "true",
		"[{\"key_id\":\"admin\",\"secret\":\"s\"}]" };
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		token_fails(bodies[i], ZTP_EMALFORMED);
		sim_fails(bodies[i], ZTP_EMALFORMED);
		cfg_fails(bodies[i], ZTP_EMALFORMED);
		rb_fails(bodies[i], ZTP_EMALFORMED);
	}
}

static void
test_invalid_json(void **state)
{
	static const char *const bodies[] = { "{", "{\"version\":1", "{'version':1}",
		"{\"version\":1,}", "{version:1}", "{\"version\":1} {}", "{\"version\":1}x",
		"{\"body\":\"\xff\"}", "\xef\xbb\xbf{\"version\":1}" };
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		token_fails(bodies[i], ZTP_EMALFORMED);
		sim_fails(bodies[i], ZTP_EMALFORMED);
		cfg_fails(bodies[i], ZTP_EMALFORMED);
		rb_fails(bodies[i], ZTP_EMALFORMED);
	}
}

static void
test_empty_body(void **state)
{
	struct token_out t;
	struct sim_out s;
	uint8_t body[STORE_CONFIG_MAX];
	size_t len;
	uint32_t v;

	token_fails("", ZTP_EMALFORMED);
	sim_fails("", ZTP_EMALFORMED);
	cfg_fails("", ZTP_EMALFORMED);
	rb_fails("", ZTP_EMALFORMED);
	token_fails("   ", ZTP_EMALFORMED);
	/* and no buffer at all */
	assert_int_equal(adminreq_token(NULL, 0, t.key_id, t.secret, why, sizeof(why)),
	    ZTP_EMALFORMED);
	(void)s;
	assert_int_equal(sim_req_n(NULL, 0, &s), ZTP_EMALFORMED);
	assert_int_equal(adminreq_config_set(NULL, 0, body, &len, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(adminreq_rollback(NULL, 0, &v, why, sizeof(why)), ZTP_EMALFORMED);
}

static void
test_body_over_the_limit_is_toobig(void **state)
{
	size_t n = ADMINREQ_BODY_MAX + 1;
	char *big = malloc(n + 1);
	uint32_t v = 7;

	assert_non_null(big);
	/* valid JSON, padded with whitespace */
	memset(big, ' ', n);
	memcpy(big, "{\"version\":1}", 13);
	big[n] = '\0';
	assert_int_equal(adminreq_rollback((const uint8_t *)big, n, &v, why, sizeof(why)),
	    ZTP_ETOOBIG);
	assert_int_equal(v, 7);
	assert_int_equal(adminreq_rollback((const uint8_t *)big, n - 1, &v, why, sizeof(why)), 0);
	assert_int_equal(v, 1);
	free(big);
}

static void
test_nul_byte_in_the_raw_body_is_invalid(void **state)
{
	static const char body[] = "{\"version\":1}\0";
	uint32_t v = 7;

	assert_int_equal(adminreq_rollback((const uint8_t *)body, sizeof(body) - 1, &v, why,
			     sizeof(why)),
	    ZTP_EMALFORMED);
	assert_int_equal(v, 7);
}

static void
test_why_is_truncated_to_its_capacity(void **state)
{
	char small[8];
	uint32_t v;

	memset(small, 'z', sizeof(small));
	assert_int_equal(adminreq_rollback((const uint8_t *)"{\"nope\":1}", 10, &v, small,
			     sizeof(small)),
	    ZTP_EMALFORMED);
	assert_non_null(memchr(small, '\0', sizeof(small)));
}

/* ---- adminreq_sim_create ---- */

static void
test_sim_valid_body(void **state)
{
	static const uint8_t want[32] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
		0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
		0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF };
	struct sim_out o;

	assert_int_equal(sim_req("{\"iccid\":\"" ICCID "\",\"psk\":\"" PSK32 "\"}", &o), 0);
	assert_string_equal(o.iccid, ICCID);
	assert_int_equal(o.psklen, 32);
	assert_memory_equal(o.psk, want, 32);
}

static void
test_sim_psk_in_lower_case_hex(void **state)
{
	struct sim_out o;

	assert_int_equal(sim_req("{\"iccid\":\"" ICCID "\",\"psk\":\"aabbccddeeff00112233445566778899\"}",
			     &o),
	    0);
	assert_int_equal(o.psklen, 16);
	assert_int_equal(o.psk[0], 0xAA);
	assert_int_equal(o.psk[15], 0x99);
}

static void
test_sim_psk_of_16_and_64_bytes(void **state)
{
	char json[256], hex[2 * STORE_PSK_MAX + 1];
	struct sim_out o;

	memset(hex, 'A', sizeof(hex) - 1);
	hex[2 * STORE_PSK_MIN] = '\0';
	snprintf(json, sizeof(json), "{\"iccid\":\"%s\",\"psk\":\"%s\"}", ICCID, hex);
	assert_int_equal(sim_req(json, &o), 0);
	assert_int_equal(o.psklen, STORE_PSK_MIN);
	memset(hex, 'A', sizeof(hex) - 1);
	hex[2 * STORE_PSK_MAX] = '\0';
	snprintf(json, sizeof(json), "{\"iccid\":\"%s\",\"psk\":\"%s\"}", ICCID, hex);
	assert_int_equal(sim_req(json, &o), 0);
	assert_int_equal(o.psklen, STORE_PSK_MAX);
}

static void
test_sim_18_and_20_digit_iccids(void **state)
{
	struct sim_out o;

	assert_int_equal(sim_req("{\"iccid\":\"894450250918638963\",\"psk\":\"" PSK32 "\"}", &o), 0);
	assert_string_equal(o.iccid, "894450250918638963");
	assert_int_equal(sim_req("{\"iccid\":\"89445025091863896351\",\"psk\":\"" PSK32 "\"}", &o),
	    0);
	assert_string_equal(o.iccid, "89445025091863896351");
}

static void
test_sim_missing_member(void **state)
{
	sim_fails("{\"iccid\":\"" ICCID "\"}", ZTP_EMALFORMED);
	sim_fails("{\"psk\":\"" PSK32 "\"}", ZTP_EMALFORMED);
	assert_non_null(strstr(why, "iccid"));
}

static void
test_sim_unknown_member(void **state)
{
	sim_fails("{\"iccid\":\"" ICCID "\",\"psk\":\"" PSK32 "\",\"blocked\":false}",
	    ZTP_EMALFORMED);
}

static void
test_sim_duplicate_member(void **state)
{
	sim_fails("{\"iccid\":\"" ICCID "\",\"psk\":\"" PSK32 "\",\"iccid\":\"" ICCID "\"}",
	    ZTP_EMALFORMED);
}

static void
test_sim_wrong_types(void **state)
{
	sim_fails("{\"iccid\":8944502509186389635,\"psk\":\"" PSK32 "\"}", ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"" ICCID "\",\"psk\":[0,1,2]}", ZTP_EMALFORMED);
	sim_fails("{\"iccid\":null,\"psk\":\"" PSK32 "\"}", ZTP_EMALFORMED);
}

static void
test_sim_psk_of_odd_length(void **state)
{
	sim_fails("{\"iccid\":\"" ICCID "\",\"psk\":\"00112233445566778899AABBCCDDEEFF0\"}",
	    ZTP_EMALFORMED);
}

static void
test_sim_psk_too_short(void **state)
{
	/* 15 bytes */
	sim_fails("{\"iccid\":\"" ICCID "\",\"psk\":\"00112233445566778899AABBCCDDEE\"}",
	    ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"" ICCID "\",\"psk\":\"\"}", ZTP_EMALFORMED);
}

static void
test_sim_psk_too_long(void **state)
{
	/* 65 bytes */
	sim_fails("{\"iccid\":\"" ICCID "\",\"psk\":\"" PSK32 PSK32 "00\"}", ZTP_EMALFORMED);
}

static void
test_sim_psk_not_hex(void **state)
{
	sim_fails("{\"iccid\":\"" ICCID "\",\"psk\":\"00112233445566778899AABBCCDDEEFG\"}",
	    ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"" ICCID "\",\"psk\":\"0x112233445566778899AABBCCDDEEFF\"}",
	    ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"" ICCID "\",\"psk\":\"00112233445566778899AABBCCDDEE F\"}",
	    ZTP_EMALFORMED);
}

static void
test_sim_bad_iccid(void **state)
{
	sim_fails("{\"iccid\":\"\",\"psk\":\"" PSK32 "\"}", ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"89445025091863896\",\"psk\":\"" PSK32 "\"}", ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"894450250918638963512\",\"psk\":\"" PSK32 "\"}", ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"894450250918638963A\",\"psk\":\"" PSK32 "\"}", ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\" 8944502509186389635\",\"psk\":\"" PSK32 "\"}", ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"984405529081369836F5\",\"psk\":\"" PSK32 "\"}", ZTP_EMALFORMED);
}

static void
test_sim_iccid_with_nul_is_rejected(void **state)
{
	sim_fails("{\"iccid\":\"894450250918638963\\u00005\",\"psk\":\"" PSK32 "\"}",
	    ZTP_EMALFORMED);
}

/* ---- adminreq_sim_create: a SIM of a derived group, pre-registered ---- */

static void
test_sim_with_psk_is_not_derived(void **state)
{
	struct sim_out o;

	assert_int_equal(sim_req("{\"iccid\":\"" ICCID "\",\"psk\":\"" PSK32 "\",\"derived\":false}",
			     &o),
	    0);
	assert_false(o.derived);
	assert_int_equal(o.psklen, 32);
	assert_string_equal(o.device_id, "");
}

static void
test_sim_derived_without_psk(void **state)
{
	struct sim_out o;

	assert_int_equal(sim_req("{\"iccid\":\"" ICCID "\",\"derived\":true}", &o), 0);
	assert_true(o.derived);
	assert_string_equal(o.iccid, ICCID);
	assert_int_equal(o.psklen, 0);
	assert_string_equal(o.device_id, "");
	/* "group": null is no group */
	assert_int_equal(sim_req("{\"iccid\":\"" ICCID "\",\"derived\":true,\"group\":null}", &o),
	    0);
	assert_true(o.derived);
}

static void
test_sim_derived_device_id_in_upper_case(void **state)
{
	struct sim_out o;

	assert_int_equal(sim_req("{\"iccid\":\"" ICCID "\",\"derived\":true,"
				 "\"device_id\":\"b58d51c5504d5257352e3120ff0d1338\"}",
			     &o),
	    0);
	assert_true(o.derived);
	assert_string_equal(o.device_id, "B58D51C5504D5257352E3120FF0D1338");
	assert_int_equal(sim_req("{\"iccid\":\"" ICCID "\",\"derived\":true,\"device_id\":\"0a\"}",
			     &o),
	    0);
	assert_string_equal(o.device_id, "0A");
}

static void
test_sim_derived_refuses_psk_and_group(void **state)
{
	sim_fails("{\"iccid\":\"" ICCID "\",\"derived\":true,\"psk\":\"" PSK32 "\"}",
	    ZTP_EMALFORMED);
	assert_non_null(strstr(why, "\"psk\" is not given with \"derived\""));
	sim_fails("{\"iccid\":\"" ICCID "\",\"derived\":true,\"group\":\"fleet-a\"}",
	    ZTP_EMALFORMED);
	assert_non_null(strstr(why, "\"group\" is not given with \"derived\""));
}

static void
test_sim_derived_bad_values(void **state)
{
	sim_fails("{\"iccid\":\"" ICCID "\",\"derived\":\"yes\"}", ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"" ICCID "\",\"derived\":1}", ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"89445025091863896\",\"derived\":true}", ZTP_EMALFORMED);
	sim_fails("{\"derived\":true}", ZTP_EMALFORMED);
	/* Device ID: 1 to 16 bytes in hex */
	sim_fails("{\"iccid\":\"" ICCID "\",\"derived\":true,\"device_id\":\"\"}", ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"" ICCID "\",\"derived\":true,\"device_id\":\"ABC\"}",
	    ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"" ICCID "\",\"derived\":true,\"device_id\":\"XY\"}", ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"" ICCID "\",\"derived\":true,"
		  "\"device_id\":\"B58D51C5504D5257352E3120FF0D133800\"}",
	    ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"" ICCID "\",\"derived\":true,\"device_id\":1234}", ZTP_EMALFORMED);
	sim_fails("{\"iccid\":\"" ICCID "\",\"derived\":true,\"device_id\":\"0A\\u0000\"}",
	    ZTP_EMALFORMED);
}

static void
test_sim_device_id_goes_with_derived(void **state)
{
	sim_fails("{\"iccid\":\"" ICCID "\",\"psk\":\"" PSK32 "\",\"device_id\":\"0A\"}",
	    ZTP_EMALFORMED);
	assert_non_null(strstr(why, "\"device_id\" goes with \"derived\""));
	/* not derived: the PSK is required */
	sim_fails("{\"iccid\":\"" ICCID "\",\"derived\":false}", ZTP_EMALFORMED);
	assert_non_null(strstr(why, "psk"));
}

/* ---- adminreq_config_set ---- */

static void
test_config_valid_body(void **state)
{
	static const char cfg[] =
	    "{\"configuration\":{\"version\":\"2021-05-05\",\"config\":[{\"action\":\"iot:Alarm\","
	    "\"effect\":\"On\"}]}}";
	struct cfg_out o;

	assert_int_equal(cfg_req("{\"body\":\"{\\\"configuration\\\":{\\\"version\\\":\\\"2021-05-05"
				 "\\\",\\\"config\\\":[{\\\"action\\\":\\\"iot:Alarm\\\",\\\"effect"
				 "\\\":\\\"On\\\"}]}}\"}",
			     &o),
	    0);
	assert_int_equal(o.len, strlen(cfg));
	assert_memory_equal(o.body, cfg, o.len);
}

static void
test_config_empty_body_string(void **state)
{
	struct cfg_out o;

	assert_int_equal(cfg_req("{\"body\":\"\"}", &o), 0);
	assert_int_equal(o.len, 0);
}

static void
test_config_escapes_are_decoded(void **state)
{
	struct cfg_out o;

	assert_int_equal(cfg_req("{\"body\":\"a\\nb\\u00e9\\\"\"}", &o), 0);
	assert_int_equal(o.len, 6);
	assert_memory_equal(o.body, "a\nb\xc3\xa9\"", 6);
}

/* {"body":"<n bytes of x>"} */
static char *
config_json(size_t n, const char *unit)
{
	size_t ul = strlen(unit), count = n / ul, i, o = 0;
	char *json = malloc(n + 16);

	assert_non_null(json);
	assert_int_equal(n % ul, 0);
	o += (size_t)sprintf(json, "{\"body\":\"");
	for (i = 0; i < count; i++, o += ul)
		memcpy(json + o, unit, ul);
	memcpy(json + o, "\"}", 3);
	return json;
}

static void
test_config_of_exactly_255_bytes(void **state)
{
	char *json = config_json(STORE_CONFIG_MAX, "x");
	struct cfg_out o;

	assert_int_equal(cfg_req(json, &o), 0);
	assert_int_equal(o.len, STORE_CONFIG_MAX);
	assert_int_equal(o.body[0], 'x');
	assert_int_equal(o.body[STORE_CONFIG_MAX - 1], 'x');
	free(json);
}

static void
test_config_of_256_bytes_is_toobig(void **state)
{
	char *json = config_json(STORE_CONFIG_MAX + 1, "x");

	cfg_fails(json, ZTP_ETOOBIG);
	free(json);
}

static void
test_config_limit_counts_utf8_bytes_not_characters(void **state)
{
	/* 128 two-byte characters: 256 bytes */
	char *json = config_json(2 * 128, "\xc3\xa9");

	cfg_fails(json, ZTP_ETOOBIG);
	free(json);
}

static void
test_config_with_escaped_nul_is_rejected(void **state)
{
	cfg_fails("{\"body\":\"ab\\u0000cd\"}", ZTP_EMALFORMED);
	cfg_fails("{\"body\":\"\\u0000\"}", ZTP_EMALFORMED);
}

static void
test_config_missing_member(void **state)
{
	cfg_fails("{}", ZTP_EMALFORMED);
	assert_non_null(strstr(why, "body"));
}

static void
test_config_unknown_member(void **state)
{
	cfg_fails("{\"body\":\"x\",\"etag\":\"1\"}", ZTP_EMALFORMED);
}

static void
test_config_duplicate_member(void **state)
{
	cfg_fails("{\"body\":\"x\",\"body\":\"y\"}", ZTP_EMALFORMED);
}

static void
test_config_wrong_types(void **state)
{
	/* the configuration is text in a string, not a JSON value */
	cfg_fails("{\"body\":{\"configuration\":{}}}", ZTP_EMALFORMED);
	cfg_fails("{\"body\":5}", ZTP_EMALFORMED);
	cfg_fails("{\"body\":null}", ZTP_EMALFORMED);
	cfg_fails("{\"body\":[\"x\"]}", ZTP_EMALFORMED);
}

/* ---- adminreq_rollback ---- */

static void
test_rollback_valid_body(void **state)
{
	uint32_t v;

	assert_int_equal(rb_req("{\"version\":3}", &v), 0);
	assert_int_equal(v, 3);
}

static void
test_rollback_version_1_and_uint32_max(void **state)
{
	uint32_t v;

	assert_int_equal(rb_req("{\"version\":1}", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(rb_req("{\"version\":4294967295}", &v), 0);
	assert_int_equal(v, UINT32_MAX);
}

static void
test_rollback_version_0(void **state)
{
	rb_fails("{\"version\":0}", ZTP_EMALFORMED);
	rb_fails("{\"version\":-0}", ZTP_EMALFORMED);
}

static void
test_rollback_negative_version(void **state)
{
	rb_fails("{\"version\":-1}", ZTP_EMALFORMED);
	rb_fails("{\"version\":-4294967295}", ZTP_EMALFORMED);
}

static void
test_rollback_float_version(void **state)
{
	rb_fails("{\"version\":1.0}", ZTP_EMALFORMED);
	rb_fails("{\"version\":1.5}", ZTP_EMALFORMED);
	rb_fails("{\"version\":1e0}", ZTP_EMALFORMED);
}

static void
test_rollback_string_version(void **state)
{
	rb_fails("{\"version\":\"1\"}", ZTP_EMALFORMED);
}

static void
test_rollback_other_types(void **state)
{
	rb_fails("{\"version\":true}", ZTP_EMALFORMED);
	rb_fails("{\"version\":null}", ZTP_EMALFORMED);
	rb_fails("{\"version\":[1]}", ZTP_EMALFORMED);
}

static void
test_rollback_version_over_uint32_max(void **state)
{
	rb_fails("{\"version\":4294967296}", ZTP_EMALFORMED);
	rb_fails("{\"version\":9223372036854775807}", ZTP_EMALFORMED);
	rb_fails("{\"version\":99999999999999999999999}", ZTP_EMALFORMED);
}

static void
test_rollback_missing_member(void **state)
{
	rb_fails("{}", ZTP_EMALFORMED);
}

static void
test_rollback_unknown_member(void **state)
{
	rb_fails("{\"version\":1,\"iccid\":\"" ICCID "\"}", ZTP_EMALFORMED);
}

static void
test_rollback_duplicate_member(void **state)
{
	rb_fails("{\"version\":1,\"version\":2}", ZTP_EMALFORMED);
}

/* ---- certificates (EST): test keys and certificates, made at run time ---- */

static EVP_PKEY *test_key;     /* P-256 */
static uint8_t test_spki[32];  /* SHA-256 of its DER SubjectPublicKeyInfo */

#define KEY_SHA "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

static char *
bio_string(BIO *b)
{
	char *data, *s;
	long n = BIO_get_mem_data(b, &data);

	assert_true(n > 0);
	s = strndup(data, (size_t)n);
	assert_non_null(s);
	BIO_free(b);
	return s;
}

static char *
pubkey_pem(void)
{
	BIO *b = BIO_new(BIO_s_mem());

	assert_true(PEM_write_bio_PUBKEY(b, test_key));
	return bio_string(b);
}

static char *
privkey_pem(void)
{
	BIO *b = BIO_new(BIO_s_mem());

	assert_true(PEM_write_bio_PrivateKey(b, test_key, NULL, NULL, 0, NULL, NULL));
	return bio_string(b);
}

static char *
csr_pem(void)
{
	X509_REQ *r = X509_REQ_new();
	BIO *b = BIO_new(BIO_s_mem());

	assert_true(X509_REQ_set_pubkey(r, test_key));
	assert_true(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(r), "CN", MBSTRING_ASC,
	    (const unsigned char *)"dev-1", -1, -1, 0));
	assert_true(X509_REQ_sign(r, test_key, EVP_sha256()) > 0);
	assert_true(PEM_write_bio_X509_REQ(b, r));
	X509_REQ_free(r);
	return bio_string(b);
}

static void
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

/* A self-signed certificate of test_key; bc and ku: extension values or NULL. */
static X509 *
make_cert(const char *bc, const char *ku)
{
	X509 *x = X509_new();
	X509_NAME *n;

	assert_true(X509_set_version(x, 2));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 7));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_true(X509_set_pubkey(x, test_key));
	n = X509_get_subject_name(x);
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"Maker Root CA", -1, -1, 0));
	assert_true(X509_set_issuer_name(x, n));
	if (bc != NULL)
		add_ext(x, NID_basic_constraints, bc);
	if (ku != NULL)
		add_ext(x, NID_key_usage, ku);
	assert_true(X509_sign(x, test_key, EVP_sha256()) > 0);
	return x;
}

static char *
cert_pem(const char *bc, const char *ku)
{
	X509 *x = make_cert(bc, ku);
	BIO *b = BIO_new(BIO_s_mem());

	assert_true(PEM_write_bio_X509(b, x));
	X509_free(x);
	return bio_string(b);
}

static char *
concat(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 1;
	char *s = malloc(n);

	assert_non_null(s);
	snprintf(s, n, "%s%s", a, b);
	return s;
}

static int
certs_setup(void **state)
{
	unsigned char *der = NULL;
	int n;

	test_key = EVP_EC_gen("P-256");
	if (test_key == NULL)
		return -1;
	n = i2d_PUBKEY(test_key, &der);
	if (n <= 0)
		return -1;
	SHA256(der, (size_t)n, test_spki);
	OPENSSL_free(der);
	return 0;
}

static int
certs_teardown(void **state)
{
	EVP_PKEY_free(test_key);
	return 0;
}

/* A JSON body of obj (stolen); the caller frees it. */
static char *
body_of(json_t *obj)
{
	char *s;

	assert_non_null(obj);
	s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	assert_non_null(s);
	return s;
}

static int
allow_req(const char *json, struct store_allow *o)
{
	memset(o, 0xA5, sizeof(*o));
	why[0] = '\0';
	return adminreq_allow((const uint8_t *)json, strlen(json), o, why, sizeof(why));
}

static void
allow_fails(const char *json, int rc)
{
	struct store_allow o;

	assert_int_equal(allow_req(json, &o), rc);
	assert_true(why[0] != '\0');
	assert_true(untouched(&o, sizeof(o)));
}

/* allow_fails for {"udid": "dev-1", "pubkey": pem} */
static void
pubkey_fails(const char *pem)
{
	char *body = body_of(json_pack("{s:s, s:s}", "udid", "dev-1", "pubkey", pem));

	allow_fails(body, ZTP_EMALFORMED);
	free(body);
}

/* ---- adminreq_reason_parse, adminreq_reason_name ---- */

static void
test_reason_names_round_trip(void **state)
{
	static const char *const names[] = { "unspecified", "keyCompromise", "caCompromise",
		"affiliationChanged", "superseded", "cessationOfOperation", "certificateHold",
		"privilegeWithdrawn", "aACompromise" };
	static const int values[] = { 0, 1, 2, 3, 4, 5, 6, 9, 10 };
	size_t i;
	int r;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(adminreq_reason_parse(names[i], strlen(names[i]), &r), 0);
		assert_int_equal(r, values[i]);
		assert_string_equal(adminreq_reason_name(values[i]), names[i]);
	}
	assert_null(adminreq_reason_name(7));
	assert_null(adminreq_reason_name(8));
	assert_null(adminreq_reason_name(-1));
}

static void
test_reason_unknown_names(void **state)
{
	int r = 42;

	assert_int_equal(adminreq_reason_parse("keycompromise", 13, &r), ZTP_EMALFORMED);
	assert_int_equal(adminreq_reason_parse("removeFromCRL", 13, &r), ZTP_EMALFORMED);
	assert_int_equal(adminreq_reason_parse("", 0, &r), ZTP_EMALFORMED);
	assert_int_equal(adminreq_reason_parse("superseded", 9, &r), ZTP_EMALFORMED);
	assert_int_equal(r, 42);
}

/* ---- adminreq_reason ---- */

static int
reason_req(const char *json, int def, int *r)
{
	*r = 0x5A5A;
	why[0] = '\0';
	return adminreq_reason((const uint8_t *)json, strlen(json), def, r, why, sizeof(why));
}

static void
test_reason_body_absent_or_empty_object_is_the_default(void **state)
{
	int r = 0;

	assert_int_equal(adminreq_reason(NULL, 0, 9, &r, why, sizeof(why)), 0);
	assert_int_equal(r, 9);
	assert_int_equal(reason_req("{}", 9, &r), 0);
	assert_int_equal(r, 9);
	assert_int_equal(reason_req("{\"reason\":\"keyCompromise\"}", 9, &r), 0);
	assert_int_equal(r, 1);
	assert_int_equal(reason_req(" {\"reason\" : \"aACompromise\"} ", 0, &r), 0);
	assert_int_equal(r, 10);
}

static void
test_reason_bad_bodies(void **state)
{
	static const char *const bodies[] = { "{\"reason\":\"nope\"}", "{\"reason\":1}",
		"{\"reason\":null}", "{\"reason\":\"keyCompromise\",\"why\":\"x\"}",
		"{\"reason\":\"superseded\",\"reason\":\"superseded\"}", "[]", " ", "{",
		"{\"reason\":\"KeyCompromise\"}" };
	size_t i;
	int r;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		assert_int_equal(reason_req(bodies[i], 0, &r), ZTP_EMALFORMED);
		assert_int_equal(r, 0x5A5A);
		assert_true(why[0] != '\0');
	}
}

/* ---- adminreq_allow ---- */

static void
test_allow_with_key_sha256(void **state)
{
	struct store_allow o;

	assert_int_equal(allow_req("{\"udid\":\"dev-1\",\"key_sha256\":\"" KEY_SHA "\"}", &o), 0);
	assert_string_equal(o.udid, "dev-1");
	assert_int_equal(o.key_sha256[0], 0x00);
	assert_int_equal(o.key_sha256[10], 0xAA);
	assert_int_equal(o.key_sha256[31], 0xFF);
	assert_string_equal(o.group, "");
	assert_string_equal(o.iccid, "");
	assert_int_equal(o.created_at, 0);
}

static void
test_allow_with_group_and_iccid(void **state)
{
	struct store_allow o;

	assert_int_equal(allow_req("{\"iccid\":\"" ICCID "\",\"group\":\"fleet-a\",\"udid\":"
				   "\"A1:b2.c3_d4-e5\",\"key_sha256\":\"" KEY_SHA "\"}", &o), 0);
	assert_string_equal(o.udid, "A1:b2.c3_d4-e5");
	assert_string_equal(o.group, "fleet-a");
	assert_string_equal(o.iccid, ICCID);
	/* null is absent */
	assert_int_equal(allow_req("{\"udid\":\"d\",\"key_sha256\":\"" KEY_SHA "\",\"group\":null,"
				   "\"iccid\":null}", &o), 0);
	assert_string_equal(o.group, "");
	assert_string_equal(o.iccid, "");
}

static void
test_allow_pubkey_cert_and_csr_give_the_same_hash(void **state)
{
	char *pems[3], *body;
	struct store_allow o;
	uint8_t h[32];
	size_t i;

	pems[0] = pubkey_pem();
	pems[1] = cert_pem("critical,CA:FALSE", NULL);
	pems[2] = csr_pem();
	for (i = 0; i < 3; i++) {
		body = body_of(json_pack("{s:s, s:s}", "udid", "dev-1", "pubkey", pems[i]));
		assert_int_equal(allow_req(body, &o), 0);
		assert_memory_equal(o.key_sha256, test_spki, 32);
		free(body);
		/* and text around the block is ignored */
		body = concat("subject=CN = dev-1\n", pems[i]);
		assert_int_equal(adminreq_pubkey_sha256(body, strlen(body), h, why, sizeof(why)), 0);
		assert_memory_equal(h, test_spki, 32);
		free(body);
		free(pems[i]);
	}
}

static void
test_allow_pubkey_private_key_is_refused_and_not_quoted(void **state)
{
	char *priv = privkey_pem(), *pub = pubkey_pem(), *both = concat(pub, priv);
	char *body;
	const char *line;

	pubkey_fails(priv);
	assert_non_null(strstr(why, "private key"));
	/* no line of the key's base64 is in the reason */
	line = strchr(priv, '\n') + 1;
	assert_null(strstr(why, "MIG"));
	assert_null(strstr(why, line));
	pubkey_fails(both);
	assert_non_null(strstr(why, "private key"));
	body = concat(priv, pub);
	pubkey_fails(body);
	free(body);
	free(both);
	free(pub);
	free(priv);
}

static void
test_allow_pubkey_bad_pem(void **state)
{
	char *pub = pubkey_pem(), *two = concat(pub, pub), *cut, *bad;

	pubkey_fails("");
	pubkey_fails("not a key");
	pubkey_fails(two);
	assert_non_null(strstr(why, "one PEM block"));
	/* cut short: no END line */
	cut = strndup(pub, strlen(pub) - 30);
	pubkey_fails(cut);
	/* a broken base64 body */
	bad = strdup(pub);
	bad[strlen("-----BEGIN PUBLIC KEY-----\n") + 5] = '*';
	pubkey_fails(bad);
	/* another kind of block */
	pubkey_fails("-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n");
	/* valid base64 but not a key */
	pubkey_fails("-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n");
	pubkey_fails("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	pubkey_fails("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n");
	free(bad);
	free(cut);
	free(two);
	free(pub);
}

static void
test_allow_pubkey_over_the_limit(void **state)
{
	char *pub = pubkey_pem(), *big, *body;
	size_t n = ADMINREQ_PEM_MAX + 1;
	uint8_t h[32];

	/* the key, then text up to the limit */
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, '#', n);
	memcpy(big, pub, strlen(pub));
	big[n] = '\0';
	body = body_of(json_pack("{s:s, s:s}", "udid", "d", "pubkey", big));
	allow_fails(body, ZTP_EMALFORMED);
	assert_non_null(strstr(why, "over"));
	free(body);
	assert_int_equal(adminreq_pubkey_sha256(big, n - 1, h, why, sizeof(why)), 0);
	assert_memory_equal(h, test_spki, 32);
	free(big);
	free(pub);
}

static void
test_allow_exactly_one_key_member(void **state)
{
	allow_fails("{\"udid\":\"d\"}", ZTP_EMALFORMED);
	assert_non_null(strstr(why, "exactly one"));
	allow_fails("{\"udid\":\"d\",\"key_sha256\":\"" KEY_SHA "\",\"pubkey\":\"x\"}",
	    ZTP_EMALFORMED);
	assert_non_null(strstr(why, "exactly one"));
}

static void
test_allow_missing_unknown_and_duplicate_members(void **state)
{
	allow_fails("{\"key_sha256\":\"" KEY_SHA "\"}", ZTP_EMALFORMED);
	assert_non_null(strstr(why, "udid"));
	allow_fails("{\"udid\":\"d\",\"key_sha256\":\"" KEY_SHA "\",\"blocked\":true}",
	    ZTP_EMALFORMED);
	assert_non_null(strstr(why, "blocked"));
	allow_fails("{\"udid\":\"d\",\"udid\":\"e\",\"key_sha256\":\"" KEY_SHA "\"}",
	    ZTP_EMALFORMED);
}

static void
test_allow_bad_udids(void **state)
{
	static const char *const udids[] = { "", "a b", "a/b", "a%2Fb", "d\\u00e9v", "a+b",
		"0123456789012345678901234567890123456789012345678901234567890123X" };
	char json[256];
	size_t i;

	for (i = 0; i < sizeof(udids) / sizeof(udids[0]); i++) {
		snprintf(json, sizeof(json), "{\"udid\":\"%s\",\"key_sha256\":\"" KEY_SHA "\"}",
		    udids[i]);
		allow_fails(json, ZTP_EMALFORMED);
		assert_non_null(strstr(why, "udid"));
	}
}

static void
test_allow_udid_of_64_characters(void **state)
{
	static const char u64[] = "0123456789012345678901234567890123456789012345678901234567890123";
	struct store_allow o;

	assert_int_equal(allow_req("{\"udid\":\"" "0123456789012345678901234567890123456789012345678901234567890123"
				   "\",\"key_sha256\":\"" KEY_SHA "\"}", &o), 0);
	assert_string_equal(o.udid, u64);
}

static void
test_allow_bad_key_sha256(void **state)
{
	static const char *const keys[] = { "", "00", KEY_SHA "0",
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
		"g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		" 0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" };
	char json[256];
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(json, sizeof(json), "{\"udid\":\"d\",\"key_sha256\":\"%s\"}", keys[i]);
		allow_fails(json, ZTP_EMALFORMED);
		assert_non_null(strstr(why, "key_sha256"));
	}
}

static void
test_allow_bad_group_iccid_and_types(void **state)
{
	allow_fails("{\"udid\":\"d\",\"key_sha256\":\"" KEY_SHA "\",\"group\":\"a b\"}",
	    ZTP_EMALFORMED);
	allow_fails("{\"udid\":\"d\",\"key_sha256\":\"" KEY_SHA "\",\"group\":\"\"}",
	    ZTP_EMALFORMED);
	allow_fails("{\"udid\":\"d\",\"key_sha256\":\"" KEY_SHA "\",\"iccid\":\"1234\"}",
	    ZTP_EMALFORMED);
	assert_non_null(strstr(why, "iccid"));
	allow_fails("{\"udid\":\"d\",\"key_sha256\":\"" KEY_SHA "\",\"iccid\":8944502509186389635}",
	    ZTP_EMALFORMED);
	allow_fails("{\"udid\":5,\"key_sha256\":\"" KEY_SHA "\"}", ZTP_EMALFORMED);
	allow_fails("{\"udid\":\"d\",\"key_sha256\":[]}", ZTP_EMALFORMED);
	allow_fails("{\"udid\":\"d\",\"pubkey\":null}", ZTP_EMALFORMED);
	allow_fails("[]", ZTP_EMALFORMED);
	allow_fails("", ZTP_EMALFORMED);
}

/* ---- adminreq_allow_import ---- */

static struct store_allow_row *import_rows;

static int
allow_import_req(const char *json, size_t *n)
{
	if (import_rows == NULL)
		import_rows = calloc(STORE_IMPORT_BATCH_MAX, sizeof(*import_rows));
	assert_non_null(import_rows);
	*n = 12345;
	why[0] = '\0';
	return adminreq_allow_import((const uint8_t *)json, strlen(json), import_rows, n, why,
	    sizeof(why));
}

static void
allow_import_fails(const char *json, int rc)
{
	size_t n;

	assert_int_equal(allow_import_req(json, &n), rc);
	assert_int_equal(n, 12345);
	assert_true(why[0] != '\0');
}

static void
test_allow_import_rows_with_bad_values_are_marked(void **state)
{
	char *pub = pubkey_pem(), *body;
	json_t *entries;
	size_t n;

	entries = json_pack("[{s:s, s:s}, {s:s, s:s, s:s, s:s}, {s:s, s:s}, {s:s, s:s},"
			    " {s:s, s:s}, {s:s, s:s, s:s}]",
	    "udid", "a", "key_sha256", KEY_SHA,
	    "udid", "b", "pubkey", pub, "group", "g1", "iccid", ICCID,
	    "udid", "c d", "key_sha256", KEY_SHA,
	    "udid", "e", "key_sha256", "00",
	    "udid", "f", "pubkey", "junk",
	    "udid", "g", "key_sha256", KEY_SHA, "iccid", "12");
	body = body_of(json_pack("{s:o}", "entries", entries));
	assert_int_equal(allow_import_req(body, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(import_rows[0].a.udid, "a");
	assert_string_equal(import_rows[0].invalid, "");
	assert_string_equal(import_rows[1].a.udid, "b");
	assert_string_equal(import_rows[1].a.group, "g1");
	assert_string_equal(import_rows[1].a.iccid, ICCID);
	assert_memory_equal(import_rows[1].a.key_sha256, test_spki, 32);
	assert_string_equal(import_rows[1].invalid, "");
	assert_non_null(strstr(import_rows[2].invalid, "udid"));
	assert_non_null(strstr(import_rows[3].invalid, "key_sha256"));
	assert_non_null(strstr(import_rows[4].invalid, "pubkey"));
	assert_non_null(strstr(import_rows[5].invalid, "iccid"));
	free(body);
	free(pub);
}

static void
test_allow_import_wrong_members_refuse_the_batch(void **state)
{
	allow_import_fails("{\"entries\":[{\"udid\":\"a\",\"key_sha256\":\"" KEY_SHA "\"},"
			   "{\"udid\":\"b\",\"key_sha256\":\"" KEY_SHA "\",\"x\":1}]}",
	    ZTP_EMALFORMED);
	assert_non_null(strstr(why, "entry 1"));
	allow_import_fails("{\"entries\":[{\"key_sha256\":\"" KEY_SHA "\"}]}", ZTP_EMALFORMED);
	allow_import_fails("{\"entries\":[{\"udid\":\"a\"}]}", ZTP_EMALFORMED);
	allow_import_fails("{\"entries\":[{\"udid\":\"a\",\"key_sha256\":\"" KEY_SHA "\","
			   "\"pubkey\":\"x\"}]}", ZTP_EMALFORMED);
	allow_import_fails("{\"entries\":[\"a\"]}", ZTP_EMALFORMED);
	allow_import_fails("{\"entries\":[]}", ZTP_EMALFORMED);
	allow_import_fails("{\"entries\":{}}", ZTP_EMALFORMED);
	allow_import_fails("{\"rows\":[{\"udid\":\"a\",\"key_sha256\":\"" KEY_SHA "\"}]}",
	    ZTP_EMALFORMED);
	allow_import_fails("{}", ZTP_EMALFORMED);
}

static void
test_allow_import_batch_limits(void **state)
{
	json_t *entries = json_array();
	char *body, udid[16];
	size_t i, n;

	for (i = 0; i < STORE_IMPORT_BATCH_MAX; i++) {
		snprintf(udid, sizeof(udid), "d%zu", i);
		json_array_append_new(entries, json_pack("{s:s, s:s}", "udid", udid, "key_sha256",
		    KEY_SHA));
	}
	body = body_of(json_pack("{s:O}", "entries", entries));
	assert_int_equal(allow_import_req(body, &n), 0);
	assert_int_equal(n, STORE_IMPORT_BATCH_MAX);
	assert_string_equal(import_rows[STORE_IMPORT_BATCH_MAX - 1].a.udid, "d4999");
	free(body);
	json_array_append_new(entries, json_pack("{s:s, s:s}", "udid", "x", "key_sha256", KEY_SHA));
	body = body_of(json_pack("{s:o}", "entries", entries));
	allow_import_fails(body, ZTP_ETOOBIG);
	free(body);
	free(import_rows);
	import_rows = NULL;
}

/* ---- adminreq_password ---- */

struct pw_out {
	char udid[STORE_UDID_MAX + 1];
	int64_t ttl;
	char group[STORE_GROUP_SIZE];
};

static int
pw_req(const char *json, struct pw_out *o)
{
	memset(o, 0xA5, sizeof(*o));
	why[0] = '\0';
	return adminreq_password((const uint8_t *)json, strlen(json), o->udid, &o->ttl, o->group,
	    why, sizeof(why));
}

static void
pw_fails(const char *json)
{
	struct pw_out o;

	assert_int_equal(pw_req(json, &o), ZTP_EMALFORMED);
	assert_true(why[0] != '\0');
	assert_true(untouched(&o, sizeof(o)));
}

static void
test_password_defaults(void **state)
{
	struct pw_out o;

	assert_int_equal(pw_req("{\"udid\":\"dev-1\"}", &o), 0);
	assert_string_equal(o.udid, "dev-1");
	assert_int_equal(o.ttl, 86400);
	assert_string_equal(o.group, "");
}

static void
test_password_ttl_bounds_and_group(void **state)
{
	struct pw_out o;

	assert_int_equal(pw_req("{\"udid\":\"d\",\"ttl_s\":60,\"group\":\"g\"}", &o), 0);
	assert_int_equal(o.ttl, 60);
	assert_string_equal(o.group, "g");
	assert_int_equal(pw_req("{\"udid\":\"d\",\"ttl_s\":2592000}", &o), 0);
	assert_int_equal(o.ttl, 30 * 86400);
	pw_fails("{\"udid\":\"d\",\"ttl_s\":59}");
	assert_non_null(strstr(why, "ttl_s"));
	pw_fails("{\"udid\":\"d\",\"ttl_s\":2592001}");
	pw_fails("{\"udid\":\"d\",\"ttl_s\":0}");
	pw_fails("{\"udid\":\"d\",\"ttl_s\":-60}");
	pw_fails("{\"udid\":\"d\",\"ttl_s\":600.0}");
	pw_fails("{\"udid\":\"d\",\"ttl_s\":\"600\"}");
	pw_fails("{\"udid\":\"d\",\"ttl_s\":null}");
}

static void
test_password_bad_members(void **state)
{
	pw_fails("{}");
	pw_fails("{\"ttl_s\":600}");
	pw_fails("{\"udid\":\"a b\"}");
	pw_fails("{\"udid\":\"\"}");
	pw_fails("{\"udid\":7}");
	pw_fails("{\"udid\":\"d\",\"group\":\"a/b\"}");
	pw_fails("{\"udid\":\"d\",\"password\":\"mine\"}");
	assert_non_null(strstr(why, "password"));
	pw_fails("{\"udid\":\"d\",\"udid\":\"d\"}");
	pw_fails("[\"d\"]");
}

/* ---- adminreq_mfr_ca ---- */

static struct store_mfr_ca mfr_out;

static int
mfr_req(const char *json)
{
	memset(&mfr_out, 0xA5, sizeof(mfr_out));
	why[0] = '\0';
	return adminreq_mfr_ca((const uint8_t *)json, strlen(json), &mfr_out, why, sizeof(why));
}

static void
mfr_fails(const char *json, int rc)
{
	assert_int_equal(mfr_req(json), rc);
	assert_true(why[0] != '\0');
	assert_true(untouched(&mfr_out, sizeof(mfr_out)));
}

/* mfr_fails for {"name": "maker", "pem": pem} */
static void
mfr_pem_fails(const char *pem)
{
	char *body = body_of(json_pack("{s:s, s:s}", "name", "maker", "pem", pem));

	mfr_fails(body, ZTP_EMALFORMED);
	free(body);
}

static void
test_mfr_ca_valid(void **state)
{
	X509 *x = make_cert("critical,CA:TRUE", "critical,keyCertSign,cRLSign");
	unsigned char md[32];
	unsigned int mdlen;
	BIO *b = BIO_new(BIO_s_mem());
	char *pem, *body, *text;

	assert_true(PEM_write_bio_X509(b, x));
	pem = bio_string(b);
	assert_true(X509_digest(x, EVP_sha256(), md, &mdlen));
	/* text around the block (openssl x509 -text) is not kept */
	text = concat("Certificate:\n    Data: ...\n", pem);
	body = body_of(json_pack("{s:s, s:s, s:s}", "name", "maker.a", "group", "fleet-a", "pem",
	    text));
	free(text);
	assert_int_equal(mfr_req(body), 0);
	assert_string_equal(mfr_out.name, "maker.a");
	assert_string_equal(mfr_out.group, "fleet-a");
	assert_string_equal(mfr_out.pem, pem);
	assert_memory_equal(mfr_out.sha256, md, 32);
	assert_int_equal(mfr_out.created_at, 0);
	free(body);
	/* no keyUsage at all is fine too; the group is optional */
	free(pem);
	pem = cert_pem("CA:TRUE", NULL);
	body = body_of(json_pack("{s:s, s:s}", "name", "m", "pem", pem));
	assert_int_equal(mfr_req(body), 0);
	assert_string_equal(mfr_out.group, "");
	free(body);
	free(pem);
	X509_free(x);
}

static void
test_mfr_ca_not_a_ca_is_refused(void **state)
{
	char *pem;

	pem = cert_pem("critical,CA:FALSE", NULL);
	mfr_pem_fails(pem);
	assert_non_null(strstr(why, "CA"));
	free(pem);
	pem = cert_pem(NULL, NULL);
	mfr_pem_fails(pem);
	assert_non_null(strstr(why, "basicConstraints"));
	free(pem);
	pem = cert_pem("critical,CA:TRUE", "critical,digitalSignature");
	mfr_pem_fails(pem);
	assert_non_null(strstr(why, "keyCertSign"));
	free(pem);
}

static void
test_mfr_ca_exactly_one_certificate(void **state)
{
	char *ca = cert_pem("critical,CA:TRUE", NULL), *two = concat(ca, ca);
	char *priv = privkey_pem(), *with_key = concat(ca, priv), *pub = pubkey_pem();

	mfr_pem_fails(two);
	mfr_pem_fails(with_key);
	assert_non_null(strstr(why, "private key"));
	mfr_pem_fails(pub);
	mfr_pem_fails("");
	mfr_pem_fails("MIIB...");
	mfr_pem_fails("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	free(pub);
	free(with_key);
	free(priv);
	free(two);
	free(ca);
}

static void
test_mfr_ca_bad_members(void **state)
{
	char *ca = cert_pem("critical,CA:TRUE", NULL), *body;

	body = body_of(json_pack("{s:s}", "pem", ca));
	mfr_fails(body, ZTP_EMALFORMED);
	free(body);
	body = body_of(json_pack("{s:s, s:s}", "name", "a b", "pem", ca));
	mfr_fails(body, ZTP_EMALFORMED);
	assert_non_null(strstr(why, "name"));
	free(body);
	body = body_of(json_pack("{s:s, s:s}", "name", "", "pem", ca));
	mfr_fails(body, ZTP_EMALFORMED);
	free(body);
	body = body_of(json_pack("{s:s, s:s, s:s}", "name", "m", "pem", ca, "group", "x/y"));
	mfr_fails(body, ZTP_EMALFORMED);
	free(body);
	body = body_of(json_pack("{s:s, s:s, s:b}", "name", "m", "pem", ca, "trusted", 1));
	mfr_fails(body, ZTP_EMALFORMED);
	assert_non_null(strstr(why, "trusted"));
	free(body);
	mfr_fails("{\"name\":\"m\"}", ZTP_EMALFORMED);
	mfr_fails("{\"name\":\"m\",\"pem\":5}", ZTP_EMALFORMED);
	free(ca);
}

/* ---- adminreq_group_create: the EST members ---- */

static int
group_req(const char *json, struct store_group *g)
{
	uint8_t master[STORE_MASTER_LEN];
	int have;

	memset(g, 0xA5, sizeof(*g));
	why[0] = '\0';
	return adminreq_group_create((const uint8_t *)json, strlen(json), g, master, &have, why,
	    sizeof(why));
}

static void
group_fails(const char *json)
{
	struct store_group g;

	assert_int_equal(group_req(json, &g), ZTP_EMALFORMED);
	assert_true(why[0] != '\0');
	assert_true(untouched(&g, sizeof(g)));
}

static void
test_group_est_defaults(void **state)
{
	struct store_group g;

	assert_int_equal(group_req("{\"name\":\"g\",\"rotation_period_s\":86400}", &g), 0);
	assert_string_equal(g.name, "g");
	assert_int_equal(g.rotation_period_s, 86400);
	assert_int_equal(g.est_auth, 0); /* the server's --est-auth */
	assert_int_equal(group_req("{\"name\":\"g\",\"est_auth\":null}", &g), 0);
	assert_int_equal(g.est_auth, 0);
	assert_int_equal(g.cert_days, 0);
	assert_int_equal(g.reenroll_grace_s, -1);
}

static void
test_group_est_members(void **state)
{
	struct store_group g;

	assert_int_equal(group_req("{\"name\":\"g\",\"est_auth\":[\"password\",\"allowlist\"],"
				   "\"cert_days\":7300,\"reenroll_grace_s\":0}", &g), 0);
	assert_int_equal(g.est_auth, STORE_EST_ALLOWLIST | STORE_EST_PASSWORD);
	assert_int_equal(g.cert_days, 7300);
	assert_int_equal(g.reenroll_grace_s, 0);
	assert_int_equal(group_req("{\"name\":\"g\",\"est_auth\":[\"manufacturer\"],"
				   "\"cert_days\":1,\"reenroll_grace_s\":157680000}", &g), 0);
	assert_int_equal(g.est_auth, STORE_EST_MANUFACTURER);
	assert_int_equal(g.cert_days, 1);
	assert_int_equal(g.reenroll_grace_s, 5LL * 365 * 86400);
	assert_int_equal(group_req("{\"name\":\"g\",\"est_auth\":[\"allowlist\",\"password\","
				   "\"manufacturer\"],\"cert_days\":0,\"reenroll_grace_s\":-1}", &g), 0);
	assert_int_equal(g.est_auth, STORE_EST_ALL);
	assert_int_equal(g.cert_days, 0);
	assert_int_equal(g.reenroll_grace_s, -1);
}

static void
test_group_est_bad_members(void **state)
{
	group_fails("{\"name\":\"g\",\"est_auth\":[]}");
	assert_non_null(strstr(why, "est_auth"));
	group_fails("{\"name\":\"g\",\"est_auth\":[\"allowlist\",\"allowlist\"]}");
	assert_non_null(strstr(why, "twice"));
	group_fails("{\"name\":\"g\",\"est_auth\":[\"psk\"]}");
	group_fails("{\"name\":\"g\",\"est_auth\":[\"Allowlist\"]}");
	group_fails("{\"name\":\"g\",\"est_auth\":\"allowlist\"}");
	group_fails("{\"name\":\"g\",\"est_auth\":[1]}");
	group_fails("{\"name\":\"g\",\"est_auth\":[\"allowlist\",\"password\",\"manufacturer\","
		    "\"allowlist\"]}");
	group_fails("{\"name\":\"g\",\"cert_days\":-1}");
	assert_non_null(strstr(why, "cert_days"));
	group_fails("{\"name\":\"g\",\"cert_days\":7301}");
	group_fails("{\"name\":\"g\",\"cert_days\":30.5}");
	group_fails("{\"name\":\"g\",\"cert_days\":\"30\"}");
	group_fails("{\"name\":\"g\",\"reenroll_grace_s\":-2}");
	assert_non_null(strstr(why, "reenroll_grace_s"));
	group_fails("{\"name\":\"g\",\"reenroll_grace_s\":157680001}");
	group_fails("{\"name\":\"g\",\"reenroll_grace_s\":true}");
	group_fails("{\"name\":\"g\",\"est\":[\"allowlist\"]}");
}

/* ---- the proxy members: group create and PUT /v1/groups/NAME/upstream ---- */

static int
upstream_req(const char *json, struct store_upstream *u)
{
	memset(u, 0xA5, sizeof(*u));
	why[0] = '\0';
	return adminreq_group_upstream((const uint8_t *)json, strlen(json), u, why, sizeof(why));
}

static void
upstream_fails(const char *json, const char *reason_part)
{
	struct store_upstream u;

	assert_int_equal(upstream_req(json, &u), ZTP_EMALFORMED);
	assert_non_null(strstr(why, reason_part));
	assert_true(untouched(&u, sizeof(u)));
}

static void
test_group_upstream_members(void **state)
{
	struct store_upstream u;
	struct store_group g;

	assert_int_equal(upstream_req("{\"upstream\":\"https://b.example/z\","
				      "\"upstream_ca\":\"/etc/ca.pem\",\"upstream_cert\":\"/c.pem\","
				      "\"upstream_key\":\"/c.key\"}", &u), 0);
	assert_string_equal(u.url, "https://b.example/z");
	assert_string_equal(u.ca, "/etc/ca.pem");
	assert_string_equal(u.cert, "/c.pem");
	assert_string_equal(u.key, "/c.key");
	assert_int_equal(upstream_req("{\"upstream\":\"off\"}", &u), 0);
	assert_string_equal(u.url, "off");
	assert_string_equal(u.ca, "");
	/* null: the server's default; null files too */
	assert_int_equal(upstream_req("{\"upstream\":null,\"upstream_ca\":null}", &u), 0);
	assert_string_equal(u.url, "");
	assert_string_equal(u.ca, "");
	/* a group: no upstream members is the server's default */
	assert_int_equal(group_req("{\"name\":\"g\"}", &g), 0);
	assert_string_equal(g.upstream.url, "");
	assert_int_equal(group_req("{\"name\":\"g\",\"upstream\":\"http://10.0.0.1:8080\"}", &g), 0);
	assert_string_equal(g.upstream.url, "http://10.0.0.1:8080");
	group_fails("{\"name\":\"g\",\"upstream\":\"ftp://x/\"}");
	group_fails("{\"name\":\"g\",\"upstream\":\"http://x/\",\"upstream_ca\":\"/ca.pem\"}");
}

static void
test_group_upstream_bad_members(void **state)
{
	char json[STORE_UPSTREAM_URL_MAX + 64];
	char url[STORE_UPSTREAM_URL_MAX + 1];

	upstream_fails("{}", "upstream");
	upstream_fails("{\"upstream\":1}", "must be a string");
	upstream_fails("{\"upstream\":\"http://x/\",\"other\":1}", "unknown member");
	upstream_fails("{\"upstream\":\"gopher://x/\"}", "http:// or https://");
	upstream_fails("{\"upstream\":\"http://x:/\"}", "empty port");
	upstream_fails("{\"upstream\":\"https://x/\",\"upstream_ca\":\"ca.pem\"}", "absolute");
	upstream_fails("{\"upstream\":\"https://x/\",\"upstream_cert\":\"/c.pem\"}", "its key");
	upstream_fails("{\"upstream\":\"off\",\"upstream_ca\":\"/ca.pem\"}", "https");
	upstream_fails("{\"upstream\":\"https://x/\",\"upstream_ca\":\"/a\\u0000b\"}", "NUL");
	/* the URL's limit: 511 bytes */
	memset(url, 'a', sizeof(url) - 1);
	memcpy(url, "http://x/", 9);
	url[STORE_UPSTREAM_URL_MAX] = '\0';
	snprintf(json, sizeof(json), "{\"upstream\":\"%s\"}", url);
	upstream_fails(json, "longer than 511");
	url[STORE_UPSTREAM_URL_MAX - 1] = '\0';
	snprintf(json, sizeof(json), "{\"upstream\":\"%s\"}", url);
	{
		struct store_upstream u;
		assert_int_equal(upstream_req(json, &u), 0);
		assert_int_equal(strlen(u.url), STORE_UPSTREAM_URL_MAX - 1);
	}
}

/* ---- adminreq_owner, adminreq_apikey ---- */

struct key_out {
	char name[STORE_APIKEY_NAME_MAX + 1];
	char owner[STORE_OWNER_MAX + 1];
};

static int
key_req(const char *json, struct key_out *o)
{
	memset(o, 0xA5, sizeof(*o));
	why[0] = '\0';
	return adminreq_apikey((const uint8_t *)json, strlen(json), o->name, o->owner, why,
	    sizeof(why));
}

static void
key_fails(const char *json)
{
	struct key_out o;

	assert_int_equal(key_req(json, &o), ZTP_EMALFORMED);
	assert_true(why[0] != '\0');
	assert_true(untouched(&o, sizeof(o)));
}

static void
test_owner_body(void **state)
{
	char name[STORE_OWNER_MAX + 1], body[200];
	static const char *const bad[] = { "{}", "{\"name\":\"\"}", "{\"name\":\"a b\"}",
		"{\"name\":1}", "{\"name\":\"a\\u0000b\"}", "{\"name\":\"a\",\"x\":1}",
		"{\"name\":\"a\",\"name\":\"b\"}", "[\"a\"]", "not json" };
	size_t i;

	(void)state;
	snprintf(body, sizeof(body), "{\"name\":\"acme-1.x_y\"}");
	assert_int_equal(adminreq_owner((const uint8_t *)body, strlen(body), name, why,
	    sizeof(why)), 0);
	assert_string_equal(name, "acme-1.x_y");
	/* 64 characters, not 65 */
	snprintf(body, sizeof(body), "{\"name\":\"%064d\"}", 0);
	assert_int_equal(adminreq_owner((const uint8_t *)body, strlen(body), name, why,
	    sizeof(why)), 0);
	assert_int_equal(strlen(name), 64);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(name, 0xA5, sizeof(name));
		why[0] = '\0';
		assert_int_equal(adminreq_owner((const uint8_t *)bad[i], strlen(bad[i]), name, why,
		    sizeof(why)), ZTP_EMALFORMED);
		assert_true(why[0] != '\0');
		assert_true(untouched(name, sizeof(name)));
	}
	snprintf(body, sizeof(body), "{\"name\":\"%065d\"}", 0);
	memset(name, 0xA5, sizeof(name));
	assert_int_equal(adminreq_owner((const uint8_t *)body, strlen(body), name, why,
	    sizeof(why)), ZTP_EMALFORMED);
	assert_true(untouched(name, sizeof(name)));
}

static void
test_apikey_body(void **state)
{
	struct key_out o;

	(void)state;
	assert_int_equal(key_req("{\"name\":\"ops\",\"owner\":\"acme\"}", &o), 0);
	assert_string_equal(o.name, "ops");
	assert_string_equal(o.owner, "acme");
	assert_int_equal(key_req("{\"all_owners\":true,\"name\":\"root\"}", &o), 0);
	assert_string_equal(o.name, "root");
	assert_string_equal(o.owner, "");
	key_fails("{\"name\":\"ops\"}");                                     /* neither */
	key_fails("{\"name\":\"ops\",\"owner\":\"a\",\"all_owners\":true}"); /* both */
	key_fails("{\"name\":\"ops\",\"all_owners\":false}");
	key_fails("{\"name\":\"ops\",\"all_owners\":1}");
	key_fails("{\"name\":\"ops\",\"owner\":\"\"}");
	key_fails("{\"name\":\"ops\",\"owner\":null}");
	key_fails("{\"name\":\"ops\",\"owner\":\"a/b\"}");
	key_fails("{\"name\":\"o p\",\"owner\":\"acme\"}");
	key_fails("{\"owner\":\"acme\"}");
	key_fails("{\"name\":\"ops\",\"owner\":\"acme\",\"secret\":\"x\"}");
	key_fails("{\"name\":\"ops\",\"owner\":\"acme\",\"owner\":\"b\"}");
	key_fails("");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_valid_body),
		cmocka_unit_test(test_token_members_in_any_order_with_whitespace),
		cmocka_unit_test(test_token_missing_member),
		cmocka_unit_test(test_token_unknown_member),
		cmocka_unit_test(test_token_duplicate_member),
		cmocka_unit_test(test_token_wrong_types),
		cmocka_unit_test(test_token_invalid_key_id),
		cmocka_unit_test(test_token_secret_of_128_chars_is_accepted),
		cmocka_unit_test(test_token_secret_too_long),
		cmocka_unit_test(test_token_empty_secret),
		cmocka_unit_test(test_token_secret_with_nul),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_empty_body),
		cmocka_unit_test(test_body_over_the_limit_is_toobig),
		cmocka_unit_test(test_nul_byte_in_the_raw_body_is_invalid),
		cmocka_unit_test(test_why_is_truncated_to_its_capacity),
		cmocka_unit_test(test_sim_valid_body),
		cmocka_unit_test(test_sim_psk_in_lower_case_hex),
		cmocka_unit_test(test_sim_psk_of_16_and_64_bytes),
		cmocka_unit_test(test_sim_18_and_20_digit_iccids),
		cmocka_unit_test(test_sim_missing_member),
		cmocka_unit_test(test_sim_unknown_member),
		cmocka_unit_test(test_sim_duplicate_member),
		cmocka_unit_test(test_sim_wrong_types),
		cmocka_unit_test(test_sim_psk_of_odd_length),
		cmocka_unit_test(test_sim_psk_too_short),
		cmocka_unit_test(test_sim_psk_too_long),
		cmocka_unit_test(test_sim_psk_not_hex),
		cmocka_unit_test(test_sim_bad_iccid),
		cmocka_unit_test(test_sim_iccid_with_nul_is_rejected),
		cmocka_unit_test(test_sim_with_psk_is_not_derived),
		cmocka_unit_test(test_sim_derived_without_psk),
		cmocka_unit_test(test_sim_derived_device_id_in_upper_case),
		cmocka_unit_test(test_sim_derived_refuses_psk_and_group),
		cmocka_unit_test(test_sim_derived_bad_values),
		cmocka_unit_test(test_sim_device_id_goes_with_derived),
		cmocka_unit_test(test_config_valid_body),
		cmocka_unit_test(test_config_empty_body_string),
		cmocka_unit_test(test_config_escapes_are_decoded),
		cmocka_unit_test(test_config_of_exactly_255_bytes),
		cmocka_unit_test(test_config_of_256_bytes_is_toobig),
		cmocka_unit_test(test_config_limit_counts_utf8_bytes_not_characters),
		cmocka_unit_test(test_config_with_escaped_nul_is_rejected),
		cmocka_unit_test(test_config_missing_member),
		cmocka_unit_test(test_config_unknown_member),
		cmocka_unit_test(test_config_duplicate_member),
		cmocka_unit_test(test_config_wrong_types),
		cmocka_unit_test(test_rollback_valid_body),
		cmocka_unit_test(test_rollback_version_1_and_uint32_max),
		cmocka_unit_test(test_rollback_version_0),
		cmocka_unit_test(test_rollback_negative_version),
		cmocka_unit_test(test_rollback_float_version),
		cmocka_unit_test(test_rollback_string_version),
		cmocka_unit_test(test_rollback_other_types),
		cmocka_unit_test(test_rollback_version_over_uint32_max),
		cmocka_unit_test(test_rollback_missing_member),
		cmocka_unit_test(test_rollback_unknown_member),
		cmocka_unit_test(test_rollback_duplicate_member),
	};
	const struct CMUnitTest cert_tests[] = {
		cmocka_unit_test(test_reason_names_round_trip),
		cmocka_unit_test(test_reason_unknown_names),
		cmocka_unit_test(test_reason_body_absent_or_empty_object_is_the_default),
		cmocka_unit_test(test_reason_bad_bodies),
		cmocka_unit_test(test_allow_with_key_sha256),
		cmocka_unit_test(test_allow_with_group_and_iccid),
		cmocka_unit_test(test_allow_pubkey_cert_and_csr_give_the_same_hash),
		cmocka_unit_test(test_allow_pubkey_private_key_is_refused_and_not_quoted),
		cmocka_unit_test(test_allow_pubkey_bad_pem),
		cmocka_unit_test(test_allow_pubkey_over_the_limit),
		cmocka_unit_test(test_allow_exactly_one_key_member),
		cmocka_unit_test(test_allow_missing_unknown_and_duplicate_members),
		cmocka_unit_test(test_allow_bad_udids),
		cmocka_unit_test(test_allow_udid_of_64_characters),
		cmocka_unit_test(test_allow_bad_key_sha256),
		cmocka_unit_test(test_allow_bad_group_iccid_and_types),
		cmocka_unit_test(test_allow_import_rows_with_bad_values_are_marked),
		cmocka_unit_test(test_allow_import_wrong_members_refuse_the_batch),
		cmocka_unit_test(test_allow_import_batch_limits),
		cmocka_unit_test(test_password_defaults),
		cmocka_unit_test(test_password_ttl_bounds_and_group),
		cmocka_unit_test(test_password_bad_members),
		cmocka_unit_test(test_mfr_ca_valid),
		cmocka_unit_test(test_mfr_ca_not_a_ca_is_refused),
		cmocka_unit_test(test_mfr_ca_exactly_one_certificate),
		cmocka_unit_test(test_mfr_ca_bad_members),
		cmocka_unit_test(test_group_est_defaults),
		cmocka_unit_test(test_group_est_members),
		cmocka_unit_test(test_group_est_bad_members),
		cmocka_unit_test(test_group_upstream_members),
		cmocka_unit_test(test_group_upstream_bad_members),
		cmocka_unit_test(test_owner_body),
		cmocka_unit_test(test_apikey_body),
	};
	int failed;

	failed = cmocka_run_group_tests(tests, NULL, NULL);
	failed += cmocka_run_group_tests(cert_tests, certs_setup, certs_teardown);
	return failed;
}
