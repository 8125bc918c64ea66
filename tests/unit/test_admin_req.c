/*
 * The admin API's JSON request bodies (src/server/admin_req.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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
	struct store_import_row row;
	int rc;

	memset(o, 0xA5, sizeof(*o));
	why[0] = '\0';
	rc = adminreq_sim_create((const uint8_t *)json, len, &row, why, sizeof(why));
	if (rc == 0) {
		memcpy(o->iccid, row.iccid, sizeof(o->iccid));
		memcpy(o->psk, row.psk, row.psk_len);
		o->psklen = row.psk_len;
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

	return cmocka_run_group_tests(tests, NULL, NULL);
}
