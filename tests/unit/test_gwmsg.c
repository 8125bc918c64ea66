/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway message codec (src/server/proto/gwmsg.h,
 * docs/protocol/gateways.md): topics, the provisioning request, the
 * status, the command result, the admin API bodies, and the command
 * payload and envelope ztpd writes.
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

#include "b64.h"
#include "gwmsg.h"
#include "ztp/err.h"

#define NONCE "00112233445566778899aabbccddeeff"
#define PEM "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
#define PASSWORD "factory-s3cret!"
#define SIG_B64 "MEUCIQDd" /* 6 bytes */

static char why[128];

/* A string of n copies of c; static, overwritten by the next call with the same slot. */
static const char *
repeat(int slot, char c, size_t n)
{
	static char buf[4][GWMSG_MAX + 2];

	assert_true(n < sizeof(buf[0]));
	memset(buf[slot], c, n);
	buf[slot][n] = '\0';
	return buf[slot];
}

/* A PEM-looking string of exactly n bytes. */
static const char *
pem_of(int slot, size_t n)
{
	static const char head[] = "-----BEGIN CERTIFICATE-----\n";
	static char buf[2][GWMSG_PEM_MAX + 8];

	assert_true(n >= sizeof(head) - 1 && n < sizeof(buf[0]));
	memcpy(buf[slot], head, sizeof(head) - 1);
	memset(buf[slot] + sizeof(head) - 1, 'A', n - (sizeof(head) - 1));
	buf[slot][n] = '\0';
	return buf[slot];
}

/* ---- topics ---- */

static void
test_udid_valid(void **state)
{
	(void)state;
	assert_true(gwmsg_udid_valid("gw-0001"));
	assert_true(gwmsg_udid_valid("A.b_c:d-9"));
	assert_true(gwmsg_udid_valid(repeat(0, 'u', 64)));
	assert_false(gwmsg_udid_valid(repeat(0, 'u', 65)));
	assert_false(gwmsg_udid_valid(""));
	assert_false(gwmsg_udid_valid("gw 1"));
	assert_false(gwmsg_udid_valid("gw/1"));
	assert_false(gwmsg_udid_valid("gw+"));
	assert_false(gwmsg_udid_valid("#"));
	assert_false(gwmsg_udid_valid("gw\xc3\xa9"));
}

static void
test_topic_parse_each_kind(void **state)
{
	char udid[GWMSG_UDID_MAX + 1];

	(void)state;
	assert_int_equal(gwmsg_topic_parse("ztp", "ztp/prov/gw-1/req", udid), GWMSG_T_REQ);
	assert_string_equal(udid, "gw-1");
	assert_int_equal(gwmsg_topic_parse("ztp", "ztp/prov/gw-1/bundle", udid), GWMSG_T_BUNDLE);
	assert_int_equal(gwmsg_topic_parse("ztp", "ztp/dev/gw-2/status", udid), GWMSG_T_STATUS);
	assert_string_equal(udid, "gw-2");
	assert_int_equal(gwmsg_topic_parse("ztp", "ztp/dev/gw-2/cmd", udid), GWMSG_T_CMD);
	assert_int_equal(gwmsg_topic_parse("ztp", "ztp/dev/a.b_c:d/result", udid), GWMSG_T_RESULT);
	assert_string_equal(udid, "a.b_c:d");
	/* a prefix of several levels */
	assert_int_equal(gwmsg_topic_parse("site/a", "site/a/prov/gw/req", udid), GWMSG_T_REQ);
	assert_string_equal(udid, "gw");
}

/* t under prefix "ztp" is no gateway topic, and udid is left "" */
static void
assert_no_topic(const char *t)
{
	char udid[GWMSG_UDID_MAX + 1];

	memset(udid, 'x', sizeof(udid));
	assert_int_equal(gwmsg_topic_parse("ztp", t, udid), GWMSG_T_NONE);
	assert_string_equal(udid, "");
}

static void
test_topic_parse_other_prefix(void **state)
{
	(void)state;
	assert_no_topic("zta/prov/gw-1/req");
	assert_no_topic("ztpx/prov/gw-1/req"); /* the prefix is a whole level */
	assert_no_topic("zt/prov/gw-1/req");
	assert_no_topic("/ztp/prov/gw-1/req");
	assert_no_topic("x/ztp/prov/gw-1/req");
	assert_no_topic("ztp");
	assert_no_topic("ztp/");
	assert_no_topic("");
}

static void
test_topic_parse_missing_or_extra_levels(void **state)
{
	(void)state;
	assert_no_topic("ztp/prov/req");
	assert_no_topic("ztp/prov/gw-1");
	assert_no_topic("ztp/prov/gw-1/");
	assert_no_topic("ztp/prov//req");
	assert_no_topic("ztp/prov/gw-1/req/");
	assert_no_topic("ztp/prov/gw-1/req/x");
	assert_no_topic("ztp/prov/a/b/req");
	assert_no_topic("ztp/gw-1/req");
	assert_no_topic("ztp//prov/gw-1/req");
	/* a leaf of the other area */
	assert_no_topic("ztp/dev/gw-1/req");
	assert_no_topic("ztp/prov/gw-1/status");
	assert_no_topic("ztp/prov/gw-1/cmd");
	assert_no_topic("ztp/dev/gw-1/bundle");
	assert_no_topic("ztp/prov/gw-1/REQ");
}

static void
test_topic_parse_bad_udid(void **state)
{
	char t[256], udid[GWMSG_UDID_MAX + 1];

	(void)state;
	assert_no_topic("ztp/prov/gw 1/req");
	assert_no_topic("ztp/prov/+/req");
	assert_no_topic("ztp/prov/#/req");
	assert_no_topic("ztp/prov/gw+/req");
	assert_no_topic("ztp/dev/+/status");
	assert_no_topic("ztp/dev/#");
	assert_no_topic("ztp/+/gw-1/req");
	assert_no_topic("ztp/prov/gw\xc3\xa9/req");
	snprintf(t, sizeof(t), "ztp/prov/%s/req", repeat(0, 'u', 64));
	assert_int_equal(gwmsg_topic_parse("ztp", t, udid), GWMSG_T_REQ);
	assert_string_equal(udid, repeat(0, 'u', 64));
	snprintf(t, sizeof(t), "ztp/prov/%s/req", repeat(0, 'u', 65));
	assert_no_topic(t);
	snprintf(t, sizeof(t), "ztp/dev/%s/result", repeat(0, 'u', 65));
	assert_no_topic(t);
}

static void
test_topic_make_round_trip(void **state)
{
	static const enum gwmsg_topic kinds[] = { GWMSG_T_REQ, GWMSG_T_BUNDLE, GWMSG_T_STATUS,
		GWMSG_T_CMD, GWMSG_T_RESULT };
	char t[256], udid[GWMSG_UDID_MAX + 1];
	size_t i;

	(void)state;
	assert_int_equal(gwmsg_topic_make("ztp", GWMSG_T_BUNDLE, "gw-1", t, sizeof(t)), 0);
	assert_string_equal(t, "ztp/prov/gw-1/bundle");
	assert_int_equal(gwmsg_topic_make("a/b", GWMSG_T_CMD, "gw-1", t, sizeof(t)), 0);
	assert_string_equal(t, "a/b/dev/gw-1/cmd");
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		assert_int_equal(gwmsg_topic_make("ztp", kinds[i], repeat(0, 'z', 64), t, sizeof(t)),
		    0);
		assert_int_equal(gwmsg_topic_parse("ztp", t, udid), kinds[i]);
		assert_string_equal(udid, repeat(0, 'z', 64));
	}
}

static void
test_topic_make_refuses(void **state)
{
	char t[64];

	(void)state;
	assert_int_equal(gwmsg_topic_make("ztp", GWMSG_T_REQ, "+", t, sizeof(t)), ZTP_EINVAL);
	assert_int_equal(gwmsg_topic_make("ztp", GWMSG_T_REQ, "#", t, sizeof(t)), ZTP_EINVAL);
	assert_int_equal(gwmsg_topic_make("ztp", GWMSG_T_REQ, "a/b", t, sizeof(t)), ZTP_EINVAL);
	assert_int_equal(gwmsg_topic_make("ztp", GWMSG_T_REQ, "", t, sizeof(t)), ZTP_EINVAL);
	assert_int_equal(gwmsg_topic_make("ztp", GWMSG_T_REQ, repeat(0, 'u', 65), t, sizeof(t)),
	    ZTP_EINVAL);
	assert_int_equal(gwmsg_topic_make("ztp", GWMSG_T_NONE, "gw", t, sizeof(t)), ZTP_EINVAL);
	/* "ztp/prov/gw/req" is 15 bytes: 16 with its NUL */
	assert_int_equal(gwmsg_topic_make("ztp", GWMSG_T_REQ, "gw", t, 16), 0);
	assert_string_equal(t, "ztp/prov/gw/req");
	assert_int_equal(gwmsg_topic_make("ztp", GWMSG_T_REQ, "gw", t, 15), ZTP_ETOOBIG);
}

/* ---- the provisioning request ---- */

/* A valid request as an object (the caller decrefs it). */
static json_t *
request_obj(void)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "v", 1, "udid",
	    "gw-0001", "batch", "line-7", "password", PASSWORD, "firmware", "1.4.2", "ldevid", PEM,
	    "idevid", PEM, "nonce", NONCE, "idevid_sig", SIG_B64);

	assert_non_null(o);
	return o;
}

/* Parse o (stolen) as a request into r. */
static int
request_parse_obj(json_t *o, struct gwmsg_request *r)
{
	char *s = json_dumps(o, JSON_COMPACT);
	int rc;

	assert_non_null(s);
	json_decref(o);
	why[0] = '\0';
	rc = gwmsg_request_parse((const uint8_t *)s, strlen(s), r, why, sizeof(why));
	if (rc != 0) {
		assert_true(why[0] != '\0');
		assert_null(strstr(why, PASSWORD));
	}
	free(s);
	return rc;
}

/* The request with member set to v (stolen; NULL deletes it). */
static int
request_with(const char *member, json_t *v, struct gwmsg_request *r)
{
	json_t *o = request_obj();

	if (v == NULL)
		json_object_del(o, member);
	else
		json_object_set_new(o, member, v);
	return request_parse_obj(o, r);
}

static int
request_text(const char *text, struct gwmsg_request *r)
{
	why[0] = '\0';
	return gwmsg_request_parse((const uint8_t *)text, strlen(text), r, why, sizeof(why));
}

static struct gwmsg_request req; /* 48 KiB: not on the stack */

static void
test_request_valid(void **state)
{
	static const uint8_t sig[] = { 0x30, 0x45, 0x02, 0x21, 0x00, 0xdd };

	(void)state;
	assert_int_equal(request_parse_obj(request_obj(), &req), 0);
	assert_string_equal(req.udid, "gw-0001");
	assert_string_equal(req.batch, "line-7");
	assert_string_equal(req.password, PASSWORD);
	assert_string_equal(req.firmware, "1.4.2");
	assert_string_equal(req.nonce, NONCE);
	assert_string_equal(req.ldevid, PEM);
	assert_string_equal(req.idevid, PEM);
	assert_int_equal(req.sig_len, sizeof(sig));
	assert_memory_equal(req.sig, sig, sizeof(sig));
	gwmsg_request_wipe(&req);
	assert_string_equal(req.password, "");
}

static void
test_request_firmware_optional_unknown_ignored(void **state)
{
	json_t *o = request_obj();

	(void)state;
	json_object_del(o, "firmware");
	json_object_set_new(o, "later", json_pack("{s:[i]}", "x", 1));
	assert_int_equal(request_parse_obj(o, &req), 0);
	assert_string_equal(req.firmware, "");
	assert_int_equal(request_with("firmware", json_string(""), &req), 0);
}

static void
test_request_each_required_member_missing(void **state)
{
	static const char *const required[] = { "v", "udid", "batch", "password", "ldevid", "idevid",
		"nonce", "idevid_sig" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		assert_int_equal(request_with(required[i], NULL, &req), ZTP_EMALFORMED);
}

static void
test_request_wrong_types(void **state)
{
	static const char *const members[] = { "udid", "batch", "password", "firmware", "ldevid",
		"idevid", "nonce", "idevid_sig" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		assert_int_equal(request_with(members[i], json_integer(1), &req), ZTP_EMALFORMED);
		assert_int_equal(request_with(members[i], json_null(), &req), ZTP_EMALFORMED);
		assert_int_equal(request_with(members[i], json_true(), &req), ZTP_EMALFORMED);
		assert_int_equal(request_with(members[i], json_pack("[s]", "x"), &req),
		    ZTP_EMALFORMED);
		assert_int_equal(request_with(members[i], json_object(), &req), ZTP_EMALFORMED);
	}
}

static void
test_request_v_must_be_1(void **state)
{
	(void)state;
	assert_int_equal(request_with("v", json_integer(2), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("v", json_integer(0), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("v", json_string("1"), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("v", json_real(1.0), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("v", json_true(), &req), ZTP_EMALFORMED);
}

static void
test_request_bounds(void **state)
{
	(void)state;
	assert_int_equal(request_with("udid", json_string(repeat(0, 'u', 64)), &req), 0);
	assert_int_equal(request_with("udid", json_string(repeat(0, 'u', 65)), &req),
	    ZTP_EMALFORMED);
	assert_int_equal(request_with("udid", json_string(""), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("batch", json_string(repeat(0, 'b', 64)), &req), 0);
	assert_int_equal(request_with("batch", json_string(repeat(0, 'b', 65)), &req),
	    ZTP_EMALFORMED);
	assert_int_equal(request_with("batch", json_string(""), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("password", json_string(repeat(0, 'p', 128)), &req), 0);
	assert_int_equal(strlen(req.password), 128);
	assert_int_equal(request_with("password", json_string(repeat(0, 'p', 129)), &req),
	    ZTP_EMALFORMED);
	assert_int_equal(request_with("password", json_string(""), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("firmware", json_string(repeat(0, 'f', 64)), &req), 0);
	assert_int_equal(request_with("firmware", json_string(repeat(0, 'f', 65)), &req),
	    ZTP_EMALFORMED);
	assert_int_equal(request_with("ldevid", json_string(pem_of(0, GWMSG_PEM_MAX)), &req), 0);
	assert_int_equal(strlen(req.ldevid), GWMSG_PEM_MAX);
	assert_int_equal(request_with("ldevid", json_string(pem_of(0, GWMSG_PEM_MAX + 1)), &req),
	    ZTP_EMALFORMED);
	assert_int_equal(request_with("idevid", json_string(pem_of(0, GWMSG_PEM_MAX)), &req), 0);
	assert_int_equal(request_with("idevid", json_string(pem_of(0, GWMSG_PEM_MAX + 1)), &req),
	    ZTP_EMALFORMED);
}

static void
test_request_bad_text(void **state)
{
	(void)state;
	assert_int_equal(request_with("udid", json_string("gw 1"), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("udid", json_string("gw/1"), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("udid", json_stringn("gw\0x", 4), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("batch", json_string("line\t7"), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("batch", json_string("l\xc3\xa9"), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("firmware", json_string("1.0\n"), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("password", json_stringn("ab\0cd", 5), &req),
	    ZTP_EMALFORMED);
	/* the password need not be ASCII */
	assert_int_equal(request_with("password", json_string("p\xc3\xa9ss"), &req), 0);
}

static void
test_request_bad_nonce(void **state)
{
	(void)state;
	assert_int_equal(request_with("nonce", json_string(repeat(0, 'a', 31)), &req),
	    ZTP_EMALFORMED);
	assert_int_equal(request_with("nonce", json_string(repeat(0, 'a', 33)), &req),
	    ZTP_EMALFORMED);
	assert_int_equal(request_with("nonce", json_string(repeat(0, 'A', 32)), &req),
	    ZTP_EMALFORMED);
	assert_int_equal(request_with("nonce", json_string(repeat(0, 'g', 32)), &req),
	    ZTP_EMALFORMED);
	assert_int_equal(request_with("nonce", json_string(""), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("nonce", json_string(repeat(0, 'f', 32)), &req), 0);
}

static void
test_request_not_pem(void **state)
{
	(void)state;
	assert_int_equal(request_with("ldevid", json_string("MIIBxyz"), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("idevid", json_string("-----BEGIN PRIVATE KEY-----\n"), &req),
	    ZTP_EMALFORMED);
	assert_int_equal(request_with("ldevid", json_string(""), &req), ZTP_EMALFORMED);
}

static void
test_request_bad_signature(void **state)
{
	uint8_t raw[GWMSG_SIG_MAX + 1];
	char *b64;
	size_t n;

	(void)state;
	assert_int_equal(request_with("idevid_sig", json_string("!!!!"), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("idevid_sig", json_string("MEU"), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("idevid_sig", json_string("ME=U"), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("idevid_sig", json_string("M==="), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("idevid_sig", json_string(""), &req), ZTP_EMALFORMED);
	assert_int_equal(request_with("idevid_sig", json_string("    "), &req), ZTP_EMALFORMED);
	/* GWMSG_SIG_MAX bytes decoded, then one more */
	memset(raw, 0x5a, sizeof(raw));
	assert_int_equal(b64_encode_lines(raw, GWMSG_SIG_MAX, &b64, &n), 0);
	for (size_t i = 0, j = 0; i <= n; i++) /* on one line */
		if (b64[i] != '\n')
			b64[j++] = b64[i];
	assert_int_equal(request_with("idevid_sig", json_string(b64), &req), 0);
	assert_int_equal(req.sig_len, GWMSG_SIG_MAX);
	free(b64);
	assert_int_equal(b64_encode_lines(raw, GWMSG_SIG_MAX + 1, &b64, &n), 0);
	for (size_t i = 0, j = 0; i <= n; i++)
		if (b64[i] != '\n')
			b64[j++] = b64[i];
	assert_int_equal(request_with("idevid_sig", json_string(b64), &req), ZTP_EMALFORMED);
	free(b64);
	/* longer than any signature's base64 */
	assert_int_equal(request_with("idevid_sig", json_string(repeat(1, 'A', 2048)), &req),
	    ZTP_EMALFORMED);
}

static void
test_request_duplicate_keys(void **state)
{
	(void)state;
	assert_int_equal(request_text("{\"v\":1,\"v\":1,\"udid\":\"gw\"}", &req), ZTP_EMALFORMED);
	assert_int_equal(request_text("{\"v\":1,\"udid\":\"gw-0001\",\"batch\":\"line-7\","
				      "\"password\":\"a\",\"password\":\"b\","
				      "\"ldevid\":\"-----BEGIN CERTIFICATE-----\","
				      "\"idevid\":\"-----BEGIN CERTIFICATE-----\","
				      "\"nonce\":\"" NONCE "\",\"idevid_sig\":\"" SIG_B64 "\"}",
			     &req),
	    ZTP_EMALFORMED);
	/* the same without the second password is valid */
	assert_int_equal(request_text("{\"v\":1,\"udid\":\"gw-0001\",\"batch\":\"line-7\","
				      "\"password\":\"a\","
				      "\"ldevid\":\"-----BEGIN CERTIFICATE-----\","
				      "\"idevid\":\"-----BEGIN CERTIFICATE-----\","
				      "\"nonce\":\"" NONCE "\",\"idevid_sig\":\"" SIG_B64 "\"}",
			     &req),
	    0);
}

static void
test_request_not_an_object(void **state)
{
	(void)state;
	assert_int_equal(request_text("", &req), ZTP_EMALFORMED);
	assert_int_equal(request_text("[]", &req), ZTP_EMALFORMED);
	assert_int_equal(request_text("[{\"v\":1}]", &req), ZTP_EMALFORMED);
	assert_int_equal(request_text("\"v\"", &req), ZTP_EMALFORMED);
	assert_int_equal(request_text("null", &req), ZTP_EMALFORMED);
	assert_int_equal(request_text("1", &req), ZTP_EMALFORMED);
	assert_int_equal(request_text("{\"v\":1", &req), ZTP_EMALFORMED);
	assert_int_equal(request_text("{\"v\":1} {}", &req), ZTP_EMALFORMED);
	assert_int_equal(gwmsg_request_parse((const uint8_t *)"{\"v\":1}\0", 8, &req, why,
			     sizeof(why)),
	    ZTP_EMALFORMED);
}

/* The valid request padded with an unknown member to exactly total bytes. */
static char *
request_of_size(size_t total)
{
	json_t *o = request_obj();
	char *s;
	size_t base;

	json_object_set_new(o, "pad", json_string(""));
	s = json_dumps(o, JSON_COMPACT);
	base = strlen(s);
	free(s);
	assert_true(total >= base);
	json_object_set_new(o, "pad", json_string(repeat(2, 'p', total - base)));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_int_equal(strlen(s), total);
	return s;
}

static void
test_request_oversize(void **state)
{
	char *s;

	(void)state;
	s = request_of_size(GWMSG_MAX);
	assert_int_equal(gwmsg_request_parse((const uint8_t *)s, GWMSG_MAX, &req, why, sizeof(why)),
	    0);
	free(s);
	s = request_of_size(GWMSG_MAX + 1);
	assert_int_equal(gwmsg_request_parse((const uint8_t *)s, GWMSG_MAX + 1, &req, why,
			     sizeof(why)),
	    ZTP_ETOOBIG);
	assert_string_equal(req.password, "");
	free(s);
}

/* A refused request leaves no byte of the password it had read. */
static void
test_request_password_wiped_on_failure(void **state)
{
	char zero[sizeof(req.password)];
	json_t *o;

	(void)state;
	memset(zero, 0, sizeof(zero));
	/* the password is read before the nonce, the PEMs and the signature are judged */
	memset(&req, 0xa5, sizeof(req));
	assert_int_equal(request_with("nonce", json_string(repeat(0, 'G', 32)), &req),
	    ZTP_EMALFORMED);
	assert_memory_equal(req.password, zero, sizeof(zero));
	memset(&req, 0xa5, sizeof(req));
	assert_int_equal(request_with("idevid_sig", json_string("%%%%"), &req), ZTP_EMALFORMED);
	assert_memory_equal(req.password, zero, sizeof(zero));
	memset(&req, 0xa5, sizeof(req));
	assert_int_equal(request_with("idevid", json_string("nope"), &req), ZTP_EMALFORMED);
	assert_memory_equal(req.password, zero, sizeof(zero));
	memset(&req, 0xa5, sizeof(req));
	o = request_obj();
	json_object_set_new(o, "udid", json_string("bad udid"));
	assert_int_equal(request_parse_obj(o, &req), ZTP_EMALFORMED);
	assert_memory_equal(req.password, zero, sizeof(zero));
	memset(&req, 0xa5, sizeof(req));
	assert_int_equal(request_text("{\"v\":2,\"password\":\"" PASSWORD "\"}", &req),
	    ZTP_EMALFORMED);
	assert_memory_equal(req.password, zero, sizeof(zero));
	assert_null(strstr(why, PASSWORD));
}

static void
test_request_tbs_layout(void **state)
{
	static const char want[] = "ztp-gw-req\0gw-0001\0" NONCE;
	uint8_t out[256];
	size_t n = sizeof(want) - 1; /* 11 + 7 + 1 + 32 */

	(void)state;
	assert_int_equal(n, 51);
	assert_int_equal(gwmsg_request_tbs("gw-0001", NONCE, out, sizeof(out)), n);
	assert_memory_equal(out, want, n);
	assert_int_equal(gwmsg_request_tbs("gw-0001", NONCE, out, n), n);
	assert_int_equal(gwmsg_request_tbs("gw-0001", NONCE, out, n - 1), 0);
	assert_int_equal(gwmsg_request_tbs("", "", out, sizeof(out)), 12);
	assert_memory_equal(out, "ztp-gw-req\0\0", 12);
}

/* ---- status ---- */

static int
status_text(const char *text, struct gwmsg_status *s)
{
	why[0] = '\0';
	return gwmsg_status_parse((const uint8_t *)text, strlen(text), s, why, sizeof(why));
}

static int
status_with(const char *member, json_t *v, struct gwmsg_status *st)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s}", "v", 1, "udid", "gw-0001", "state",
	    "online", "serial", "4F1A", "firmware", "1.4.2");
	char *s;
	int rc;

	assert_non_null(o);
	if (member != NULL && v == NULL)
		json_object_del(o, member);
	else if (member != NULL)
		json_object_set_new(o, member, v);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	rc = status_text(s, st);
	free(s);
	return rc;
}

static void
test_status_valid(void **state)
{
	struct gwmsg_status s;

	(void)state;
	assert_int_equal(status_with(NULL, NULL, &s), 0);
	assert_string_equal(s.udid, "gw-0001");
	assert_string_equal(s.state, "online");
	assert_string_equal(s.serial, "4F1A");
	assert_string_equal(s.firmware, "1.4.2");
	assert_int_equal(status_with("firmware", NULL, &s), 0);
	assert_string_equal(s.firmware, "");
	assert_int_equal(status_with("extra", json_integer(5), &s), 0);
	assert_int_equal(status_with("serial", json_string(repeat(0, 'F', 40)), &s), 0);
	assert_string_equal(s.serial, repeat(0, 'F', 40));
}

static void
test_status_refused(void **state)
{
	struct gwmsg_status s;

	(void)state;
	assert_int_equal(status_with("v", json_integer(2), &s), ZTP_EMALFORMED);
	assert_int_equal(status_with("v", NULL, &s), ZTP_EMALFORMED);
	assert_int_equal(status_with("udid", NULL, &s), ZTP_EMALFORMED);
	assert_int_equal(status_with("state", NULL, &s), ZTP_EMALFORMED);
	assert_int_equal(status_with("serial", NULL, &s), ZTP_EMALFORMED);
	assert_int_equal(status_with("udid", json_integer(1), &s), ZTP_EMALFORMED);
	assert_int_equal(status_with("udid", json_string(repeat(0, 'u', 65)), &s), ZTP_EMALFORMED);
	assert_int_equal(status_with("state", json_string("offline"), &s), ZTP_EMALFORMED);
	assert_int_equal(status_with("state", json_string("ONLINE"), &s), ZTP_EMALFORMED);
	assert_int_equal(status_with("state", json_string(repeat(0, 's', 16)), &s), ZTP_EMALFORMED);
	assert_int_equal(status_with("serial", json_string("4f1a"), &s), ZTP_EMALFORMED);
	assert_int_equal(status_with("serial", json_string("4F:1A"), &s), ZTP_EMALFORMED);
	assert_int_equal(status_with("serial", json_string(""), &s), ZTP_EMALFORMED);
	assert_int_equal(status_with("serial", json_string(repeat(0, 'F', 41)), &s),
	    ZTP_EMALFORMED);
	assert_int_equal(status_with("serial", json_integer(0x4f1a), &s), ZTP_EMALFORMED);
	assert_int_equal(status_with("firmware", json_string(repeat(0, 'f', 65)), &s),
	    ZTP_EMALFORMED);
	assert_int_equal(status_with("firmware", json_false(), &s), ZTP_EMALFORMED);
	assert_int_equal(status_text("[]", &s), ZTP_EMALFORMED);
	assert_int_equal(status_text("{\"v\":1,\"v\":1}", &s), ZTP_EMALFORMED);
	assert_int_equal(gwmsg_status_parse((const uint8_t *)"{}", GWMSG_MAX + 1, &s, why,
			     sizeof(why)),
	    ZTP_ETOOBIG);
}

/* ---- result ---- */

static struct gwmsg_result res;

static int
result_text(const char *text)
{
	why[0] = '\0';
	return gwmsg_result_parse((const uint8_t *)text, strlen(text), &res, why, sizeof(why));
}

static void
test_result_ok_and_error_forms(void **state)
{
	(void)state;
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw-0001\",\"id\":7,\"ok\":true,"
				     "\"result\":{\"serial\":\"4F1A\",\"a\":[1, 2]}}"),
	    0);
	assert_string_equal(res.udid, "gw-0001");
	assert_int_equal(res.id, 7);
	assert_true(res.ok);
	assert_string_equal(res.text, "{\"a\":[1,2],\"serial\":\"4F1A\"}"); /* compact, sorted */
	/* no result: an empty object */
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":1,\"ok\":true}"), 0);
	assert_string_equal(res.text, "{}");
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":8,\"ok\":false,"
				     "\"error\":\"unknown command frobnicate\"}"),
	    0);
	assert_false(res.ok);
	assert_int_equal(res.id, 8);
	assert_string_equal(res.text, "unknown command frobnicate");
}

static void
test_result_id_bounds(void **state)
{
	(void)state;
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":0,\"ok\":true}"),
	    ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":-1,\"ok\":true}"),
	    ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":9007199254740991,\"ok\":true}"),
	    0);
	assert_int_equal(res.id, INT64_C(9007199254740991));
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":9007199254740992,\"ok\":true}"),
	    ZTP_EMALFORMED);
	assert_int_equal(
	    result_text("{\"v\":1,\"udid\":\"gw\",\"id\":99999999999999999999999,\"ok\":true}"),
	    ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":7.0,\"ok\":true}"),
	    ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":\"7\",\"ok\":true}"),
	    ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"ok\":true}"), ZTP_EMALFORMED);
}

static void
test_result_refused(void **state)
{
	char body[256];

	(void)state;
	assert_int_equal(result_text("{\"v\":2,\"udid\":\"gw\",\"id\":1,\"ok\":true}"),
	    ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"id\":1,\"ok\":true}"), ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"\",\"id\":1,\"ok\":true}"),
	    ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":7,\"id\":1,\"ok\":true}"),
	    ZTP_EMALFORMED);
	snprintf(body, sizeof(body), "{\"v\":1,\"udid\":\"%s\",\"id\":1,\"ok\":true}",
	    repeat(0, 'u', GWMSG_UDID_MAX));
	assert_int_equal(result_text(body), 0);
	snprintf(body, sizeof(body), "{\"v\":1,\"udid\":\"%s\",\"id\":1,\"ok\":true}",
	    repeat(0, 'u', GWMSG_UDID_MAX + 1));
	assert_int_equal(result_text(body), ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":1}"), ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":1,\"ok\":1}"), ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":1,\"ok\":\"true\"}"),
	    ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":1,\"ok\":true,\"result\":[]}"),
	    ZTP_EMALFORMED);
	assert_int_equal(
	    result_text("{\"v\":1,\"udid\":\"gw\",\"id\":1,\"ok\":true,\"result\":\"done\"}"),
	    ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":1,\"ok\":false}"),
	    ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":1,\"ok\":false,\"error\":\"\"}"),
	    ZTP_EMALFORMED);
	assert_int_equal(
	    result_text("{\"v\":1,\"udid\":\"gw\",\"id\":1,\"ok\":false,\"error\":\"a\\nb\"}"),
	    ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":1,\"ok\":false,\"error\":7}"),
	    ZTP_EMALFORMED);
	assert_int_equal(result_text("{\"v\":1,\"udid\":\"gw\",\"id\":1,\"id\":2,\"ok\":true}"),
	    ZTP_EMALFORMED);
}

/* A result message of the error e (n bytes) or the result {"k": n bytes}. */
static int
result_sized(int ok, size_t n)
{
	json_t *o = json_pack("{s:i, s:s, s:i, s:b}", "v", 1, "udid", "gw", "id", 3, "ok", ok);
	char *s;
	int rc;

	if (ok)
		json_object_set_new(o, "result", json_pack("{s:s}", "k", repeat(0, 'r', n)));
	else
		json_object_set_new(o, "error", json_string(repeat(0, 'e', n)));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	rc = result_text(s);
	free(s);
	return rc;
}

static void
test_result_too_large(void **state)
{
	(void)state;
	/* {"k":"..."} is n + 8 bytes */
	assert_int_equal(result_sized(1, GWMSG_RESULT_MAX - 8), 0);
	assert_int_equal(strlen(res.text), GWMSG_RESULT_MAX);
	assert_int_equal(result_sized(1, GWMSG_RESULT_MAX - 7), ZTP_EMALFORMED);
	assert_int_equal(result_sized(0, GWMSG_ERROR_MAX), 0);
	assert_int_equal(strlen(res.text), GWMSG_ERROR_MAX);
	assert_int_equal(result_sized(0, GWMSG_ERROR_MAX + 1), ZTP_EMALFORMED);
}

/* ---- admin bodies ---- */

static struct gwmsg_admin adm;

static int
admin(enum gwmsg_admin_kind kind, const char *body)
{
	int rc;

	gwmsg_admin_free(&adm);
	why[0] = '\0';
	rc = gwmsg_admin_parse(kind, (const uint8_t *)body, body != NULL ? strlen(body) : 0, &adm,
	    why, sizeof(why));
	if (rc != 0) {
		assert_true(why[0] != '\0');
		assert_null(adm.json);
	}
	return rc;
}

static void
test_admin_batch(void **state)
{
	char body[256];

	(void)state;
	assert_int_equal(admin(GWMSG_A_BATCH, "{\"name\":\"line-7\"}"), 0);
	assert_string_equal(adm.name, "line-7");
	assert_string_equal(adm.owner, "");
	assert_int_equal(admin(GWMSG_A_BATCH, "{\"name\":\"line_7.b\",\"owner\":\"acme\"}"), 0);
	assert_string_equal(adm.owner, "acme");
	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", repeat(0, 'n', 64));
	assert_int_equal(admin(GWMSG_A_BATCH, body), 0);
	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", repeat(0, 'n', 65));
	assert_int_equal(admin(GWMSG_A_BATCH, body), ZTP_EMALFORMED);
	snprintf(body, sizeof(body), "{\"name\":\"b\",\"owner\":\"%s\"}", repeat(0, 'o', 65));
	assert_int_equal(admin(GWMSG_A_BATCH, body), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_BATCH, "{\"name\":\"\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_BATCH, "{\"name\":\"line 7\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_BATCH, "{\"name\":\"a/b\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_BATCH, "{\"name\":\"a:b\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_BATCH, "{\"name\":\"b\",\"owner\":\"a c\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_BATCH, "{\"name\":7}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_BATCH, "{\"owner\":\"acme\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_BATCH, "{\"name\":\"b\",\"password\":\"x\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_BATCH, "{\"name\":\"b\",\"name\":\"c\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_BATCH, ""), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_BATCH, NULL), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_BATCH, "[]"), ZTP_EMALFORMED);
}

static void
test_admin_expect(void **state)
{
	char body[256];

	(void)state;
	assert_int_equal(admin(GWMSG_A_EXPECT, "{\"udid\":\"gw-0001\"}"), 0);
	assert_string_equal(adm.udid, "gw-0001");
	assert_false(adm.has_group);
	assert_int_equal(admin(GWMSG_A_EXPECT, "{\"udid\":\"gw:1\",\"group\":\"plant-a\"}"), 0);
	assert_true(adm.has_group);
	assert_string_equal(adm.group, "plant-a");
	snprintf(body, sizeof(body), "{\"udid\":\"%s\",\"group\":\"%s\"}", repeat(0, 'u', 64),
	    repeat(1, 'g', 63));
	assert_int_equal(admin(GWMSG_A_EXPECT, body), 0);
	snprintf(body, sizeof(body), "{\"udid\":\"%s\"}", repeat(0, 'u', 65));
	assert_int_equal(admin(GWMSG_A_EXPECT, body), ZTP_EMALFORMED);
	snprintf(body, sizeof(body), "{\"udid\":\"gw\",\"group\":\"%s\"}", repeat(1, 'g', 64));
	assert_int_equal(admin(GWMSG_A_EXPECT, body), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_EXPECT, "{\"udid\":\"gw 1\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_EXPECT, "{\"udid\":\"gw\",\"group\":\"a b\"}"),
	    ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_EXPECT, "{\"udid\":\"gw\",\"group\":1}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_EXPECT, "{\"group\":\"g\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_EXPECT, "{\"udid\":\"gw\",\"batch\":\"b\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_EXPECT, ""), ZTP_EMALFORMED);
}

static void
test_admin_group(void **state)
{
	char *body;
	json_t *o;

	(void)state;
	assert_int_equal(admin(GWMSG_A_GROUP, "{\"config\":{\"b\":1, \"a\":{\"x\":[true]}}}"), 0);
	assert_string_equal(adm.json, "{\"a\":{\"x\":[true]},\"b\":1}");
	assert_false(adm.auto_reonboard);
	assert_int_equal(admin(GWMSG_A_GROUP, "{\"config\":{},\"auto_reonboard\":true}"), 0);
	assert_string_equal(adm.json, "{}");
	assert_true(adm.auto_reonboard);
	assert_int_equal(admin(GWMSG_A_GROUP, "{\"config\":{},\"auto_reonboard\":false}"), 0);
	assert_false(adm.auto_reonboard);
	assert_int_equal(admin(GWMSG_A_GROUP, "{\"config\":{},\"auto_reonboard\":1}"),
	    ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_GROUP, "{\"config\":[]}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_GROUP, "{\"config\":\"{}\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_GROUP, "{\"auto_reonboard\":true}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_GROUP, "{\"config\":{},\"name\":\"g\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_GROUP, ""), ZTP_EMALFORMED);
	/* {"k":"..."} is n + 8 bytes: the configuration at its limit, then one byte over */
	o = json_pack("{s:{s:s}}", "config", "k", repeat(0, 'c', GWMSG_CONFIG_MAX - 8));
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_int_equal(admin(GWMSG_A_GROUP, body), 0);
	assert_int_equal(strlen(adm.json), GWMSG_CONFIG_MAX);
	free(body);
	o = json_pack("{s:{s:s}}", "config", "k", repeat(0, 'c', GWMSG_CONFIG_MAX - 7));
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_int_equal(admin(GWMSG_A_GROUP, body), ZTP_ETOOBIG);
	free(body);
	/* a body over GWMSG_ADMIN_MAX, refused before it is read */
	o = json_pack("{s:{s:s}}", "config", "k", repeat(0, 'c', GWMSG_ADMIN_MAX));
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_int_equal(admin(GWMSG_A_GROUP, body), ZTP_ETOOBIG);
	free(body);
}

static void
test_admin_approve_reject_empty_bodies(void **state)
{
	char body[512];

	(void)state;
	assert_int_equal(admin(GWMSG_A_APPROVE, NULL), 0);
	assert_false(adm.has_group);
	assert_int_equal(admin(GWMSG_A_APPROVE, ""), 0);
	assert_int_equal(admin(GWMSG_A_APPROVE, "{}"), 0);
	assert_false(adm.has_group);
	assert_int_equal(admin(GWMSG_A_APPROVE, "{\"group\":\"plant-a\"}"), 0);
	assert_true(adm.has_group);
	assert_string_equal(adm.group, "plant-a");
	/* "" says: no group */
	assert_int_equal(admin(GWMSG_A_APPROVE, "{\"group\":\"\"}"), 0);
	assert_true(adm.has_group);
	assert_string_equal(adm.group, "");
	assert_int_equal(admin(GWMSG_A_APPROVE, "{\"group\":\"a b\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_APPROVE, "{\"group\":null}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_APPROVE, "{\"reason\":\"x\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_APPROVE, "[]"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_APPROVE, " "), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_REJECT, NULL), 0);
	assert_string_equal(adm.reason, "");
	assert_int_equal(admin(GWMSG_A_REJECT, "{}"), 0);
	assert_int_equal(admin(GWMSG_A_REJECT, "{\"reason\":\"unknown device\"}"), 0);
	assert_string_equal(adm.reason, "unknown device");
	snprintf(body, sizeof(body), "{\"reason\":\"%s\"}", repeat(0, 'r', GWMSG_ERROR_MAX));
	assert_int_equal(admin(GWMSG_A_REJECT, body), 0);
	snprintf(body, sizeof(body), "{\"reason\":\"%s\"}", repeat(0, 'r', GWMSG_ERROR_MAX + 1));
	assert_int_equal(admin(GWMSG_A_REJECT, body), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_REJECT, "{\"reason\":\"a\\u0001\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_REJECT, "{\"group\":\"g\"}"), ZTP_EMALFORMED);
}

static void
test_admin_command(void **state)
{
	char *body;
	json_t *o;

	(void)state;
	assert_int_equal(admin(GWMSG_A_COMMAND, "{\"name\":\"status\"}"), 0);
	assert_string_equal(adm.name, "status");
	assert_null(adm.json);
	assert_int_equal(admin(GWMSG_A_COMMAND, "{\"name\":\"reenroll\",\"args\":{\"z\":1,\"a\":2}}"),
	    0);
	assert_string_equal(adm.json, "{\"a\":2,\"z\":1}");
	assert_int_equal(admin(GWMSG_A_COMMAND, "{\"name\":\"fetch-config\",\"args\":{}}"), 0);
	assert_int_equal(admin(GWMSG_A_COMMAND, "{\"name\":\"rotate-mqtt\"}"), 0);
	assert_int_equal(admin(GWMSG_A_COMMAND, "{\"name\":\"frobnicate\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_COMMAND, "{\"name\":\"\"}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_COMMAND, "{\"args\":{}}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_COMMAND, "{\"name\":\"status\",\"id\":3}"), ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_COMMAND, "{\"name\":\"status\",\"args\":[]}"),
	    ZTP_EMALFORMED);
	/* ztpd sets these itself */
	assert_int_equal(
	    admin(GWMSG_A_COMMAND, "{\"name\":\"rotate-mqtt\",\"args\":{\"password\":\"x\"}}"),
	    ZTP_EMALFORMED);
	assert_int_equal(admin(GWMSG_A_COMMAND, "{\"name\":\"fetch-config\",\"args\":{\"config\":{}}}"),
	    ZTP_EMALFORMED);
	/* the arguments at their limit, then one byte over */
	o = json_pack("{s:s, s:{s:s}}", "name", "status", "args", "k",
	    repeat(0, 'a', GWMSG_ARGS_MAX - 8));
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_int_equal(admin(GWMSG_A_COMMAND, body), 0);
	assert_int_equal(strlen(adm.json), GWMSG_ARGS_MAX);
	free(body);
	o = json_pack("{s:s, s:{s:s}}", "name", "status", "args", "k",
	    repeat(0, 'a', GWMSG_ARGS_MAX - 7));
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_int_equal(admin(GWMSG_A_COMMAND, body), ZTP_ETOOBIG);
	free(body);
	gwmsg_admin_free(&adm);
	gwmsg_admin_free(&adm); /* twice is harmless */
}

static void
test_admin_unknown_kind(void **state)
{
	(void)state;
	assert_int_equal(gwmsg_admin_parse((enum gwmsg_admin_kind)99, (const uint8_t *)"{}", 2, &adm,
			     why, sizeof(why)),
	    ZTP_EINVAL);
}

static void
test_command_known(void **state)
{
	(void)state;
	assert_true(gwmsg_command_known("status"));
	assert_true(gwmsg_command_known("fetch-config"));
	assert_true(gwmsg_command_known("reenroll"));
	assert_true(gwmsg_command_known("rotate-mqtt"));
	assert_false(gwmsg_command_known("Status"));
	assert_false(gwmsg_command_known("status "));
	assert_false(gwmsg_command_known(""));
}

/* ---- what ztpd writes ---- */

static void
test_command_payload(void **state)
{
	json_error_t err;
	json_t *o;
	char *p;
	size_t n;

	(void)state;
	assert_int_equal(gwmsg_command_payload("gw-0001", 7, "fetch-config", "{\"config\":{\"a\":1}}",
			     INT64_C(1796692385123), &p, &n),
	    0);
	assert_int_equal(strlen(p), n);
	o = json_loadb(p, n, JSON_REJECT_DUPLICATES, &err);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 6);
	assert_int_equal(json_integer_value(json_object_get(o, "v")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "udid")), "gw-0001");
	assert_int_equal(json_integer_value(json_object_get(o, "id")), 7);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "fetch-config");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(o,
							       "args"),
						   "config"),
			     "a")),
	    1);
	assert_int_equal(json_integer_value(json_object_get(o, "issued_at")),
	    INT64_C(1796692385123));
	json_decref(o);
	free(p);
	/* no arguments: {} */
	assert_int_equal(gwmsg_command_payload("gw", INT64_C(9007199254740991), "status", NULL, 1, &p,
			     &n),
	    0);
	o = json_loadb(p, n, 0, &err);
	assert_true(json_is_object(json_object_get(o, "args")));
	assert_int_equal(json_object_size(json_object_get(o, "args")), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "id")), INT64_C(9007199254740991));
	json_decref(o);
	free(p);
	assert_int_equal(gwmsg_command_payload("gw", 1, "status", "", 1, &p, &n), 0);
	free(p);
}

static void
test_command_payload_refuses(void **state)
{
	char *p = (char *)"untouched";
	size_t n;

	(void)state;
	assert_int_equal(gwmsg_command_payload("gw 1", 1, "status", "{}", 1, &p, &n), ZTP_EINVAL);
	assert_null(p);
	assert_int_equal(gwmsg_command_payload("gw", 0, "status", "{}", 1, &p, &n), ZTP_EINVAL);
	assert_int_equal(gwmsg_command_payload("gw", -5, "status", "{}", 1, &p, &n), ZTP_EINVAL);
	assert_int_equal(gwmsg_command_payload("gw", 1, "", "{}", 1, &p, &n), ZTP_EINVAL);
	assert_int_equal(gwmsg_command_payload("gw", 1, NULL, "{}", 1, &p, &n), ZTP_EINVAL);
	assert_int_equal(gwmsg_command_payload("gw", 1, "status", "[1]", 1, &p, &n), ZTP_EINVAL);
	assert_int_equal(gwmsg_command_payload("gw", 1, "status", "{bad", 1, &p, &n), ZTP_EINVAL);
	assert_int_equal(gwmsg_command_payload("gw", 1, "status", "{\"a\":1,\"a\":2}", 1, &p, &n),
	    ZTP_EINVAL);
	assert_null(p);
}

/* base64 member name of o, decoded into out (cap); its length */
static size_t
b64_member(json_t *o, const char *name, uint8_t *out, size_t cap)
{
	const char *s = json_string_value(json_object_get(o, name));
	size_t n;

	assert_non_null(s);
	assert_null(strchr(s, '\n')); /* one line */
	assert_int_equal(b64_decode(s, strlen(s), out, cap, &n), 0);
	return n;
}

static void
test_command_envelope_round_trip(void **state)
{
	static uint8_t back[GWMSG_MAX];
	uint8_t sig[72], sigback[128];
	json_error_t err;
	json_t *o, *p;
	char *payload, *env;
	size_t plen, elen, n, i;

	(void)state;
	for (i = 0; i < sizeof(sig); i++)
		sig[i] = (uint8_t)(i * 37 + 1);
	assert_int_equal(gwmsg_command_payload("gw-0001", 42, "rotate-mqtt",
			     "{\"password\":\"n3w\"}", 5, &payload, &plen),
	    0);
	assert_int_equal(gwmsg_command_envelope((const uint8_t *)payload, plen, sig, sizeof(sig), &env,
			     &elen),
	    0);
	assert_int_equal(strlen(env), elen);
	o = json_loadb(env, elen, JSON_REJECT_DUPLICATES, &err);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 2);
	n = b64_member(o, "payload", back, sizeof(back));
	assert_int_equal(n, plen);
	assert_memory_equal(back, payload, plen);
	n = b64_member(o, "sig", sigback, sizeof(sigback));
	assert_int_equal(n, sizeof(sig));
	assert_memory_equal(sigback, sig, sizeof(sig));
	/* the payload decoded is the command */
	p = json_loadb((const char *)back, plen, 0, &err);
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p, "id")), 42);
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "args"),
				"password")),
	    "n3w");
	json_decref(p);
	json_decref(o);
	free(env);
	free(payload);
	/* lengths that need one and two pad characters */
	for (i = 1; i <= 3; i++) {
		assert_int_equal(gwmsg_command_envelope((const uint8_t *)"abc", i, sig, i, &env, &elen),
		    0);
		o = json_loadb(env, elen, 0, &err);
		assert_int_equal(b64_member(o, "payload", back, sizeof(back)), i);
		assert_memory_equal(back, "abc", i);
		assert_int_equal(b64_member(o, "sig", sigback, sizeof(sigback)), i);
		json_decref(o);
		free(env);
	}
}

static void
test_command_envelope_too_big(void **state)
{
	static uint8_t big[GWMSG_MAX + 1];
	uint8_t sig[8] = { 0 };
	char *env = (char *)"untouched";
	size_t elen;

	(void)state;
	/* the payload's base64 alone would be over a message */
	assert_int_not_equal(gwmsg_command_envelope(big, sizeof(big), sig, sizeof(sig), &env, &elen),
	    0);
	assert_null(env);
	assert_int_equal(gwmsg_command_envelope(big, GWMSG_MAX * 3 / 4, sig, sizeof(sig), &env,
			     &elen),
	    ZTP_ETOOBIG);
	assert_null(env);
}

static void
test_answer_refusal(void **state)
{
	json_error_t err;
	json_t *o;
	char *s, reason[300];
	size_t n;

	(void)state;
	assert_int_equal(gwmsg_answer_refusal("gw-1", 1, "unknown device", &s, &n), 0);
	o = json_loadb(s, n, 0, &err);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "v")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "udid")), "gw-1");
	assert_string_equal(json_string_value(json_object_get(o, "state")), "rejected");
	assert_string_equal(json_string_value(json_object_get(o, "reason")), "unknown device");
	json_decref(o);
	free(s);
	/* control and non-ASCII bytes become '?', the reason stops at 200 */
	memset(reason, 'r', sizeof(reason));
	memcpy(reason, "a\nb\xc3\xa9", 5);
	reason[sizeof(reason) - 1] = '\0';
	assert_int_equal(gwmsg_answer_refusal("gw-1", 0, reason, &s, &n), 0);
	o = json_loadb(s, n, 0, &err);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "refused");
	assert_int_equal(strlen(json_string_value(json_object_get(o, "reason"))), GWMSG_ERROR_MAX);
	assert_memory_equal(json_string_value(json_object_get(o, "reason")), "a?b??r", 6);
	json_decref(o);
	free(s);
	assert_int_equal(gwmsg_answer_refusal("gw-1", 0, NULL, &s, &n), 0);
	o = json_loadb(s, n, 0, &err);
	assert_string_equal(json_string_value(json_object_get(o, "reason")), "");
	json_decref(o);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udid_valid),
		cmocka_unit_test(test_topic_parse_each_kind),
		cmocka_unit_test(test_topic_parse_other_prefix),
		cmocka_unit_test(test_topic_parse_missing_or_extra_levels),
		cmocka_unit_test(test_topic_parse_bad_udid),
		cmocka_unit_test(test_topic_make_round_trip),
		cmocka_unit_test(test_topic_make_refuses),
		cmocka_unit_test(test_request_valid),
		cmocka_unit_test(test_request_firmware_optional_unknown_ignored),
		cmocka_unit_test(test_request_each_required_member_missing),
		cmocka_unit_test(test_request_wrong_types),
		cmocka_unit_test(test_request_v_must_be_1),
		cmocka_unit_test(test_request_bounds),
		cmocka_unit_test(test_request_bad_text),
		cmocka_unit_test(test_request_bad_nonce),
		cmocka_unit_test(test_request_not_pem),
		cmocka_unit_test(test_request_bad_signature),
		cmocka_unit_test(test_request_duplicate_keys),
		cmocka_unit_test(test_request_not_an_object),
		cmocka_unit_test(test_request_oversize),
		cmocka_unit_test(test_request_password_wiped_on_failure),
		cmocka_unit_test(test_request_tbs_layout),
		cmocka_unit_test(test_status_valid),
		cmocka_unit_test(test_status_refused),
		cmocka_unit_test(test_result_ok_and_error_forms),
		cmocka_unit_test(test_result_id_bounds),
		cmocka_unit_test(test_result_refused),
		cmocka_unit_test(test_result_too_large),
		cmocka_unit_test(test_admin_batch),
		cmocka_unit_test(test_admin_expect),
		cmocka_unit_test(test_admin_group),
		cmocka_unit_test(test_admin_approve_reject_empty_bodies),
		cmocka_unit_test(test_admin_command),
		cmocka_unit_test(test_admin_unknown_kind),
		cmocka_unit_test(test_command_known),
		cmocka_unit_test(test_command_payload),
		cmocka_unit_test(test_command_payload_refuses),
		cmocka_unit_test(test_command_envelope_round_trip),
		cmocka_unit_test(test_command_envelope_too_big),
		cmocka_unit_test(test_answer_refusal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
