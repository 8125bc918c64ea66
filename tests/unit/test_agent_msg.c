/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-agent's messages (src/agent/agent_msg.h; docs/protocol/gateways.md)
 * and its configuration file (agent_conf.h): an answer and a bundle are
 * read only whole and within their bounds (every required member missing,
 * each of the wrong type, v other than 1, oversize, strings at and past
 * their bounds); a command runs only with a signature by the bundle's
 * command key over its payload, for this UDID, with an id above the last
 * (forged, altered, replayed, another UDID's are refused); what the agent
 * sends is what the contract says (the request's IDevID signature verifies
 * over the contract's bytes, EC and RSA; status; results).
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
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "agent_conf.h"
#include "agent_msg.h"
#include "b64.h"
#include "ztp/err.h"

#define UDID "gw-0001"
#define BUNDLE_ID "5d1e0123456789abcdef0123456789ab"

static char why[256];
static EVP_PKEY *cmd_key, *other_key;
static char *cmd_cert_pem, *rsa_cert_pem;

/* ---- keys and certificates ---- */

static EVP_PKEY *
ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

/* A self-signed certificate of key, as PEM (malloc'd). */
static char *
self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long len;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"cmd", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	len = BIO_get_mem_data(b, &data);
	out = malloc((size_t)len + 1);
	assert_non_null(out);
	memcpy(out, data, (size_t)len);
	out[len] = '\0';
	BIO_free(b);
	X509_NAME_free(n);
	X509_free(x);
	return out;
}

static int
setup(void **state)
{
	EVP_PKEY *rsa;

	cmd_key = ec_key();
	other_key = ec_key();
	cmd_cert_pem = self_signed(cmd_key);
	rsa = EVP_RSA_gen(2048);
	assert_non_null(rsa);
	rsa_cert_pem = self_signed(rsa);
	EVP_PKEY_free(rsa);
	return 0;
}

static int
teardown(void **state)
{
	EVP_PKEY_free(cmd_key);
	EVP_PKEY_free(other_key);
	free(cmd_cert_pem);
	free(rsa_cert_pem);
	return 0;
}

/* ---- answers ---- */

/* A valid approval (the caller decrefs it). */
static json_t *
approval(void)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:{s:i}}",
	    "v", 1, "udid", UDID, "state", "approved", "bundle_id", BUNDLE_ID,
	    "est_url", "https://est.example:8443", "est_ca", cmd_cert_pem, "est_password", "pw-1",
	    "mqtt_url", "mqtts://mqtt.example:8884", "mqtt_ca", cmd_cert_pem,
	    "mqtt_username", UDID, "mqtt_password", "mq-pw", "command_cert", cmd_cert_pem,
	    "group", "plant-a", "config", "poll_s", 30);

	assert_non_null(o);
	return o;
}

/* Parse o (dumped compact) as an answer; returns the code, *b filled on 0. */
static int
parse_obj(json_t *o, struct agent_bundle *b)
{
	char *text = json_dumps(o, JSON_COMPACT);
	int rc;

	assert_non_null(text);
	rc = agent_msg_parse_answer((const uint8_t *)text, strlen(text), b, why, sizeof(why));
	free(text);
	return rc;
}

static int
parse_text(const char *text, struct agent_bundle *b)
{
	return agent_msg_parse_answer((const uint8_t *)text, strlen(text), b, why, sizeof(why));
}

static void
test_approval_parses_with_every_member(void **state)
{
	json_t *o = approval();
	struct agent_bundle b;

	assert_int_equal(parse_obj(o, &b), 0);
	assert_int_equal(b.state, AGENT_ANSWER_APPROVED);
	assert_string_equal(b.udid, UDID);
	assert_string_equal(b.bundle_id, BUNDLE_ID);
	assert_string_equal(b.est_password, "pw-1");
	assert_string_equal(b.mqtt.host, "mqtt.example");
	assert_int_equal(b.mqtt.port, 8884);
	assert_int_equal(sk_X509_num(b.est_ca), 1);
	assert_non_null(b.command_key);
	assert_null(b.mqtt_password_prev);
	assert_int_equal(json_integer_value(json_object_get(b.config, "poll_s")), 30);
	agent_bundle_free(&b);
	json_decref(o);
}

static void
test_approval_missing_any_required_member_is_refused(void **state)
{
	static const char *const req[] = { "v", "udid", "state", "bundle_id", "est_url", "est_ca",
		"est_password", "mqtt_url", "mqtt_ca", "mqtt_username", "mqtt_password",
		"command_cert", "group", "config" };
	struct agent_bundle b;
	size_t i;

	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		json_t *o = approval();
		assert_int_equal(json_object_del(o, req[i]), 0);
		assert_int_equal(parse_obj(o, &b), ZTP_EMALFORMED);
		assert_null(b.root);
		json_decref(o);
	}
}

static void
test_approval_member_of_the_wrong_type_is_refused(void **state)
{
	static const char *const req[] = { "v", "udid", "state", "bundle_id", "est_url", "est_ca",
		"est_password", "mqtt_url", "mqtt_ca", "mqtt_username", "mqtt_password",
		"command_cert", "group", "config" };
	struct agent_bundle b;
	size_t i;

	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		json_t *o = approval();
		/* an array is no member's type; a string is not v's nor config's */
		assert_int_equal(json_object_set_new(o, req[i], json_array()), 0);
		assert_int_not_equal(parse_obj(o, &b), 0);
		json_decref(o);
	}
	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		json_t *o = approval();
		assert_int_equal(json_object_set_new(o, req[i], json_integer(1)), 0);
		if (strcmp(req[i], "v") == 0) {
			assert_int_equal(parse_obj(o, &b), 0);
			agent_bundle_free(&b);
		} else {
			assert_int_equal(parse_obj(o, &b), ZTP_EMALFORMED);
		}
		json_decref(o);
	}
}

static void
test_version_other_than_integer_one_is_refused(void **state)
{
	json_t *vals[] = { json_integer(2), json_integer(0), json_string("1"), json_real(1.0),
		json_true(), json_null() };
	struct agent_bundle b;
	size_t i;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		json_t *o = approval();
		assert_int_equal(json_object_set_new(o, "v", vals[i]), 0);
		assert_int_equal(parse_obj(o, &b), ZTP_EMALFORMED);
		json_decref(o);
	}
}

static void
test_unknown_members_are_ignored(void **state)
{
	json_t *o = approval();
	struct agent_bundle b;

	json_object_set_new(o, "later", json_pack("{s:[i,i]}", "x", 1, 2));
	assert_int_equal(parse_obj(o, &b), 0);
	agent_bundle_free(&b);
	json_decref(o);
}

static void
test_message_over_64_kib_is_refused_before_parsing(void **state)
{
	struct agent_bundle b;
	char *big = malloc(AGENT_MSG_MAX + 2);

	assert_non_null(big);
	memset(big, ' ', AGENT_MSG_MAX + 1);
	big[0] = '{';
	big[AGENT_MSG_MAX] = '}';
	big[AGENT_MSG_MAX + 1] = '\0';
	assert_int_equal(agent_msg_parse_answer((const uint8_t *)big, AGENT_MSG_MAX + 1, &b, why,
	    sizeof(why)), ZTP_ETOOBIG);
	free(big);
}

static void
test_not_one_json_object_is_refused(void **state)
{
	static const char *const bad[] = { "", "[]", "\"x\"", "1", "{", "{}x", "{} {}",
		"{\"v\":1,\"v\":1}", "{\"v\":1,\"udid\":\"a\\u0000b\"}", "\xff" };
	struct agent_bundle b;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(agent_msg_parse_answer((const uint8_t *)bad[i], strlen(bad[i]), &b,
		    why, sizeof(why)), ZTP_EMALFORMED);
}

/* member = value (json text) in an approval: the parse's code */
static int
with_member(const char *member, json_t *value)
{
	json_t *o = approval();
	struct agent_bundle b;
	int rc;

	json_object_set_new(o, member, value);
	rc = parse_obj(o, &b);
	if (rc == 0)
		agent_bundle_free(&b);
	json_decref(o);
	return rc;
}

/* a string of n copies of c */
static json_t *
str_n(char c, size_t n)
{
	char *s = malloc(n + 1);
	json_t *v;

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	v = json_string(s);
	free(s);
	return v;
}

static void
test_strings_at_their_bounds_pass_and_past_them_fail(void **state)
{
	assert_int_equal(with_member("est_password", str_n('p', 128)), 0);
	assert_int_not_equal(with_member("est_password", str_n('p', 129)), 0);
	assert_int_not_equal(with_member("est_password", str_n('p', 0)), 0);
	assert_int_equal(with_member("mqtt_username", str_n('u', 128)), 0);
	assert_int_not_equal(with_member("mqtt_username", str_n('u', 129)), 0);
	assert_int_equal(with_member("mqtt_password", str_n('m', 128)), 0);
	assert_int_not_equal(with_member("mqtt_password", str_n('m', 129)), 0);
	assert_int_not_equal(with_member("mqtt_password", json_string("a\tb")), 0);
	assert_int_equal(with_member("group", str_n('g', 63)), 0);
	assert_int_equal(with_member("group", str_n('g', 0)), 0);
	assert_int_not_equal(with_member("group", str_n('g', 64)), 0);
	/* characters, not bytes: 63 of a two-byte character */
	{
		char s[63 * 2 + 1];
		size_t i;
		for (i = 0; i < 63; i++)
			memcpy(s + 2 * i, "\xc3\xa9", 2);
		s[126] = '\0';
		assert_int_equal(with_member("group", json_string(s)), 0);
	}
	assert_int_not_equal(with_member("group", json_string("a\nb")), 0);
	assert_int_equal(with_member("udid", str_n('a', 64)), 0);
	assert_int_not_equal(with_member("udid", str_n('a', 65)), 0);
	assert_int_not_equal(with_member("udid", json_string("gw 1")), 0);
}

static void
test_ids_urls_and_certificates_are_checked(void **state)
{
	assert_int_not_equal(with_member("bundle_id", json_string("5D1E0123456789ABCDEF0123456789AB")), 0);
	assert_int_not_equal(with_member("bundle_id", json_string("5d1e")), 0);
	assert_int_not_equal(with_member("bundle_id", str_n('a', 33)), 0);
	assert_int_not_equal(with_member("est_url", json_string("http://est.example:80")), 0);
	assert_int_not_equal(with_member("est_url", json_string("https://est.example/x")), 0);
	assert_int_equal(with_member("est_url", json_string("https://[::1]:8443")), 0);
	assert_int_not_equal(with_member("mqtt_url", json_string("mqtt://m.example:1883")), 0);
	assert_int_not_equal(with_member("mqtt_url", json_string("mqtts://m.example")), 0);
	assert_int_not_equal(with_member("mqtt_url", json_string("mqtts://m.example:0")), 0);
	assert_int_not_equal(with_member("mqtt_url", json_string("mqtts://m.example:65536")), 0);
	assert_int_equal(with_member("mqtt_url", json_string("MQTTS://127.0.0.1:8883/")), 0);
	assert_int_not_equal(with_member("est_ca", json_string("not PEM")), 0);
	assert_int_not_equal(with_member("est_ca", json_string("-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n")), 0);
	/* the command key must be P-256 */
	assert_int_not_equal(with_member("command_cert", json_string(rsa_cert_pem)), 0);
	{
		char *two = malloc(strlen(cmd_cert_pem) * 2 + 1);
		strcpy(two, cmd_cert_pem);
		strcat(two, cmd_cert_pem);
		assert_int_not_equal(with_member("command_cert", json_string(two)), 0);
		free(two);
	}
}

static void
test_config_must_be_an_object_of_at_most_32_kib(void **state)
{
	json_t *big = json_object();

	assert_int_not_equal(with_member("config", json_string("{}")), 0);
	assert_int_not_equal(with_member("config", json_array()), 0);
	assert_int_equal(with_member("config", json_object()), 0);
	/* {"k":"xxx..."}: 8 bytes of frame */
	json_object_set_new(big, "k", str_n('x', AGENT_CONFIG_MAX - 8));
	assert_int_equal(with_member("config", json_deep_copy(big)), 0);
	json_object_set_new(big, "k", str_n('x', AGENT_CONFIG_MAX - 7));
	assert_int_equal(with_member("config", json_deep_copy(big)), ZTP_ETOOBIG);
	json_decref(big);
}

static void
test_rejection_and_refusal_carry_a_bounded_reason(void **state)
{
	struct agent_bundle b;
	json_t *o;

	assert_int_equal(parse_text("{\"v\":1,\"udid\":\"gw-0001\",\"state\":\"rejected\","
	    "\"reason\":\"unknown device\"}", &b), 0);
	assert_int_equal(b.state, AGENT_ANSWER_REJECTED);
	assert_string_equal(b.reason, "unknown device");
	agent_bundle_free(&b);
	assert_int_equal(parse_text("{\"v\":1,\"udid\":\"gw-0001\",\"state\":\"refused\"}", &b), 0);
	assert_int_equal(b.state, AGENT_ANSWER_REFUSED);
	assert_string_equal(b.reason, "");
	agent_bundle_free(&b);
	o = json_pack("{s:i, s:s, s:s}", "v", 1, "udid", UDID, "state", "rejected");
	json_object_set_new(o, "reason", str_n('r', 200));
	assert_int_equal(parse_obj(o, &b), 0);
	agent_bundle_free(&b);
	json_object_set_new(o, "reason", str_n('r', 201));
	assert_int_equal(parse_obj(o, &b), ZTP_ETOOBIG);
	json_object_set_new(o, "reason", json_string("bad\x01"));
	assert_int_equal(parse_obj(o, &b), ZTP_EMALFORMED);
	json_object_set_new(o, "state", json_string("queued"));
	json_object_set_new(o, "reason", json_string(""));
	assert_int_equal(parse_obj(o, &b), ZTP_EMALFORMED);
	json_decref(o);
}

static void
test_password_rotation_keeps_the_previous_one_until_settled(void **state)
{
	json_t *o = approval();
	struct agent_bundle b, back;
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(parse_obj(o, &b), 0);
	assert_int_equal(agent_bundle_set_mqtt_password(&b, "new-pw", 1), 0);
	assert_string_equal(b.mqtt_password, "new-pw");
	assert_string_equal(b.mqtt_password_prev, "mq-pw");
	/* what is stored reads back the same */
	assert_int_equal(agent_bundle_dump(&b, &text, &len), 0);
	assert_int_equal(agent_msg_parse_answer((const uint8_t *)text, len, &back, why,
	    sizeof(why)), 0);
	assert_string_equal(back.mqtt_password, "new-pw");
	assert_string_equal(back.mqtt_password_prev, "mq-pw");
	/* the new one refused, the previous accepted: back to it */
	assert_int_equal(agent_bundle_settle_password(&back, 0), 0);
	assert_string_equal(back.mqtt_password, "mq-pw");
	assert_null(back.mqtt_password_prev);
	assert_int_equal(agent_bundle_settle_password(&back, 1), ZTP_EINVAL);
	/* the new one accepted */
	assert_int_equal(agent_bundle_settle_password(&b, 1), 0);
	assert_string_equal(b.mqtt_password, "new-pw");
	assert_null(b.mqtt_password_prev);
	assert_int_equal(agent_bundle_set_mqtt_password(&b, "", 1), ZTP_EINVAL);
	assert_int_equal(agent_bundle_set_mqtt_password(&b, "tab\there", 1), ZTP_EINVAL);
	free(text);
	agent_bundle_free(&back);
	agent_bundle_free(&b);
	json_decref(o);
}

/* ---- commands ---- */

/* The envelope of payload signed by key (sig_over: the bytes signed, NULL: payload) */
static char *
envelope(const char *payload, EVP_PKEY *key, const char *sig_over)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[128], *p64, *s64;
	size_t siglen = sizeof(sig);
	const char *tbs = sig_over != NULL ? sig_over : payload;
	json_t *o;
	char *out;

	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &siglen, (const unsigned char *)tbs, strlen(tbs)), 1);
	EVP_MD_CTX_free(md);
	p64 = malloc(strlen(payload) * 2 + 8);
	s64 = malloc(siglen * 2 + 8);
	EVP_EncodeBlock(p64, (const unsigned char *)payload, (int)strlen(payload));
	EVP_EncodeBlock(s64, sig, (int)siglen);
	o = json_pack("{s:s, s:s}", "payload", (char *)p64, "sig", (char *)s64);
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(p64);
	free(s64);
	return out;
}

static int
parse_cmd(const char *env, uint64_t last, struct agent_cmd *c)
{
	return agent_msg_parse_cmd((const uint8_t *)env, strlen(env), cmd_key, UDID, last, c, why,
	    sizeof(why));
}

/* sign payload with the command key and parse it; the code */
static int
cmd_code(const char *payload, uint64_t last)
{
	struct agent_cmd c;
	char *env = envelope(payload, cmd_key, NULL);
	int rc = parse_cmd(env, last, &c);

	if (rc == 0)
		agent_cmd_free(&c);
	free(env);
	return rc;
}

#define CMD(extra) "{\"v\":1,\"udid\":\"" UDID "\",\"id\":7,\"name\":\"status\",\"args\":{}," \
	"\"issued_at\":1796692385123" extra "}"

static void
test_signed_command_is_accepted(void **state)
{
	struct agent_cmd c;
	char *env = envelope(CMD(""), cmd_key, NULL);

	assert_int_equal(parse_cmd(env, 6, &c), 0);
	assert_int_equal(c.id, 7);
	assert_string_equal(c.name, "status");
	assert_true(json_is_object(c.args));
	assert_int_equal(c.issued_at, 1796692385123LL);
	agent_cmd_free(&c);
	free(env);
}

static void
test_forged_or_altered_command_is_refused_as_unsigned(void **state)
{
	struct agent_cmd c;
	char *env;

	env = envelope(CMD(""), other_key, NULL);
	assert_int_equal(parse_cmd(env, 0, &c), ZTP_ECRYPTO);
	free(env);
	/* signed over other bytes than the payload */
	env = envelope(CMD(""), cmd_key, CMD(",\"x\":1"));
	assert_int_equal(parse_cmd(env, 0, &c), ZTP_ECRYPTO);
	free(env);
	/* a signature that is not DER */
	assert_int_equal(parse_cmd("{\"payload\":\"e30=\",\"sig\":\"AAAA\"}", 0, &c), ZTP_ECRYPTO);
}

static void
test_replayed_command_is_refused(void **state)
{
	assert_int_equal(cmd_code(CMD(""), 7), ZTP_EEXIST);
	assert_int_equal(cmd_code(CMD(""), 8), ZTP_EEXIST);
	assert_int_equal(cmd_code(CMD(""), 6), 0);
}

static void
test_command_for_another_udid_is_refused(void **state)
{
	assert_int_equal(cmd_code("{\"v\":1,\"udid\":\"gw-0002\",\"id\":7,\"name\":\"status\","
	    "\"args\":{},\"issued_at\":0}", 0), ZTP_ECONFLICT);
}

static void
test_command_payload_members_are_required_and_typed(void **state)
{
	static const char *const payloads[] = {
		"{\"udid\":\"" UDID "\",\"id\":7,\"name\":\"status\",\"args\":{},\"issued_at\":0}",
		"{\"v\":1,\"id\":7,\"name\":\"status\",\"args\":{},\"issued_at\":0}",
		"{\"v\":1,\"udid\":\"" UDID "\",\"name\":\"status\",\"args\":{},\"issued_at\":0}",
		"{\"v\":1,\"udid\":\"" UDID "\",\"id\":7,\"args\":{},\"issued_at\":0}",
		"{\"v\":1,\"udid\":\"" UDID "\",\"id\":7,\"name\":\"status\",\"issued_at\":0}",
		"{\"v\":1,\"udid\":\"" UDID "\",\"id\":7,\"name\":\"status\",\"args\":{}}",
		"{\"v\":2,\"udid\":\"" UDID "\",\"id\":7,\"name\":\"status\",\"args\":{},\"issued_at\":0}",
		"{\"v\":1,\"udid\":7,\"id\":7,\"name\":\"status\",\"args\":{},\"issued_at\":0}",
		"{\"v\":1,\"udid\":\"" UDID "\",\"id\":\"7\",\"name\":\"status\",\"args\":{},\"issued_at\":0}",
		"{\"v\":1,\"udid\":\"" UDID "\",\"id\":7.0,\"name\":\"status\",\"args\":{},\"issued_at\":0}",
		"{\"v\":1,\"udid\":\"" UDID "\",\"id\":0,\"name\":\"status\",\"args\":{},\"issued_at\":0}",
		"{\"v\":1,\"udid\":\"" UDID "\",\"id\":9007199254740992,\"name\":\"status\",\"args\":{},"
		"\"issued_at\":0}",
		"{\"v\":1,\"udid\":\"" UDID "\",\"id\":7,\"name\":\"\",\"args\":{},\"issued_at\":0}",
		"{\"v\":1,\"udid\":\"" UDID "\",\"id\":7,\"name\":[],\"args\":{},\"issued_at\":0}",
		"{\"v\":1,\"udid\":\"" UDID "\",\"id\":7,\"name\":\"status\",\"args\":[],\"issued_at\":0}",
		"{\"v\":1,\"udid\":\"" UDID "\",\"id\":7,\"name\":\"status\",\"args\":{},\"issued_at\":-1}",
		"[1]",
		"not json",
	};
	size_t i;

	for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++)
		assert_int_equal(cmd_code(payloads[i], 0), ZTP_EMALFORMED);
	/* the largest id passes */
	assert_int_equal(cmd_code("{\"v\":1,\"udid\":\"" UDID "\",\"id\":9007199254740991,"
	    "\"name\":\"status\",\"args\":{},\"issued_at\":0}", 9007199254740990ULL), 0);
}

static void
test_command_name_of_64_characters_passes_65_fails(void **state)
{
	char p[512];

	snprintf(p, sizeof(p), "{\"v\":1,\"udid\":\"" UDID "\",\"id\":7,\"name\":\"%064d\","
	    "\"args\":{},\"issued_at\":0}", 0);
	assert_int_equal(cmd_code(p, 0), 0);
	snprintf(p, sizeof(p), "{\"v\":1,\"udid\":\"" UDID "\",\"id\":7,\"name\":\"%065d\","
	    "\"args\":{},\"issued_at\":0}", 0);
	assert_int_equal(cmd_code(p, 0), ZTP_ETOOBIG);
}

static void
test_bad_envelopes_are_refused(void **state)
{
	static const char *const bad[] = { "{}", "{\"payload\":\"e30=\"}", "{\"sig\":\"AAAA\"}",
		"{\"payload\":1,\"sig\":\"AAAA\"}", "{\"payload\":\"e30=\",\"sig\":[]}",
		"{\"payload\":\"not base64!\",\"sig\":\"AAAA\"}", "{\"payload\":\"\",\"sig\":\"AAAA\"}",
		"{\"payload\":\"e30=\",\"sig\":\"\"}", "[]", "" };
	struct agent_cmd c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_cmd(bad[i], 0, &c), ZTP_EMALFORMED);
	assert_int_equal(agent_msg_parse_cmd((const uint8_t *)"{}", 2, NULL, UDID, 0, &c, why,
	    sizeof(why)), ZTP_EINVAL);
}

static void
test_command_envelope_over_64_kib_is_refused(void **state)
{
	struct agent_cmd c;
	char *big = malloc(AGENT_MSG_MAX + 2);

	memset(big, ' ', AGENT_MSG_MAX + 1);
	big[0] = '{';
	big[AGENT_MSG_MAX] = '}';
	big[AGENT_MSG_MAX + 1] = '\0';
	assert_int_equal(parse_cmd(big, 0, &c), ZTP_ETOOBIG);
	free(big);
}

static void
test_command_arguments_are_checked(void **state)
{
	struct agent_cmd c;
	json_t *cfg;
	const char *pw;
	char *env;

	env = envelope("{\"v\":1,\"udid\":\"" UDID "\",\"id\":7,\"name\":\"fetch-config\","
	    "\"args\":{\"config\":{\"a\":1}},\"issued_at\":0}", cmd_key, NULL);
	assert_int_equal(parse_cmd(env, 0, &c), 0);
	assert_int_equal(agent_cmd_config(&c, &cfg, why, sizeof(why)), 0);
	assert_int_equal(json_integer_value(json_object_get(cfg, "a")), 1);
	assert_int_equal(agent_cmd_password(&c, &pw, why, sizeof(why)), ZTP_EMALFORMED);
	agent_cmd_free(&c);
	free(env);
	env = envelope("{\"v\":1,\"udid\":\"" UDID "\",\"id\":7,\"name\":\"rotate-mqtt\","
	    "\"args\":{\"password\":\"s3cret\",\"config\":[]},\"issued_at\":0}", cmd_key, NULL);
	assert_int_equal(parse_cmd(env, 0, &c), 0);
	assert_int_equal(agent_cmd_password(&c, &pw, why, sizeof(why)), 0);
	assert_string_equal(pw, "s3cret");
	assert_int_equal(agent_cmd_config(&c, &cfg, why, sizeof(why)), ZTP_EMALFORMED);
	agent_cmd_free(&c);
	free(env);
}

/* ---- what the agent sends ---- */

static void
test_signed_bytes_are_tag_udid_nonce_with_nuls(void **state)
{
	uint8_t buf[128];
	size_t len = 0;
	static const uint8_t want[] = "ztp-gw-req\0gw-0001\0" "0123456789abcdef0123456789abcdef";

	assert_int_equal(agent_msg_sig_input(UDID, "0123456789abcdef0123456789abcdef", buf,
	    sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(buf, want, len);
	assert_int_equal(agent_msg_sig_input(UDID, "0123456789abcdef0123456789abcdef", buf, 20,
	    &len), ZTP_ERANGE);
}

/* the request for key; its JSON text (caller frees) or NULL with the code in *rc */
static char *
request(EVP_PKEY *key, const char *batch, const char *nonce, const char *pem, int *rc)
{
	struct agent_req r = { .udid = UDID, .batch = batch, .password = "batch-pw",
		.firmware = "1.4.2", .ldevid = pem, .idevid = pem, .nonce = nonce, .idevid_key = key };
	char *out = NULL;
	size_t len = 0;

	*rc = agent_msg_request(&r, &out, &len, why, sizeof(why));
	return out;
}

/* 1 if the request's idevid_sig verifies with key */
static int
request_verifies(const char *text, EVP_PKEY *key)
{
	json_t *o = json_loads(text, 0, NULL);
	uint8_t tbs[256], sig[1024];
	size_t tbslen = 0, siglen = 0;
	const char *s64;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	assert_non_null(o);
	assert_int_equal(agent_msg_sig_input(json_string_value(json_object_get(o, "udid")),
	    json_string_value(json_object_get(o, "nonce")), tbs, sizeof(tbs), &tbslen), 0);
	s64 = json_string_value(json_object_get(o, "idevid_sig"));
	assert_int_equal(b64_decode(s64, strlen(s64), sig, sizeof(sig), &siglen), 0);
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, tbs, tbslen) == 1;
	EVP_MD_CTX_free(md);
	json_decref(o);
	return ok;
}

static void
test_request_is_signed_by_the_idevid_key_ec_and_rsa(void **state)
{
	EVP_PKEY *rsa = EVP_RSA_gen(2048);
	char *text;
	json_t *o;
	int rc;

	text = request(cmd_key, "line-7", "0123456789abcdef0123456789abcdef", cmd_cert_pem, &rc);
	assert_int_equal(rc, 0);
	assert_true(request_verifies(text, cmd_key));
	assert_false(request_verifies(text, other_key));
	o = json_loads(text, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(o, "v")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "batch")), "line-7");
	assert_string_equal(json_string_value(json_object_get(o, "password")), "batch-pw");
	assert_string_equal(json_string_value(json_object_get(o, "firmware")), "1.4.2");
	assert_string_equal(json_string_value(json_object_get(o, "ldevid")), cmd_cert_pem);
	json_decref(o);
	free(text);
	text = request(rsa, "line-7", "0123456789abcdef0123456789abcdef", cmd_cert_pem, &rc);
	assert_int_equal(rc, 0);
	assert_true(request_verifies(text, rsa));
	free(text);
	EVP_PKEY_free(rsa);
}

static void
test_request_members_out_of_bounds_are_refused(void **state)
{
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char batch[70], *pem;
	int rc;

	assert_null(request(cmd_key, "line-7", "0123456789ABCDEF0123456789ABCDEF", cmd_cert_pem,
	    &rc));
	assert_int_equal(rc, ZTP_EINVAL);
	assert_null(request(cmd_key, "line-7", "0123", cmd_cert_pem, &rc));
	assert_int_equal(rc, ZTP_EINVAL);
	memset(batch, 'b', 65);
	batch[65] = '\0';
	assert_null(request(cmd_key, batch, "0123456789abcdef0123456789abcdef", cmd_cert_pem, &rc));
	assert_int_equal(rc, ZTP_EINVAL);
	assert_null(request(cmd_key, "", "0123456789abcdef0123456789abcdef", cmd_cert_pem, &rc));
	pem = malloc(AGENT_PEM_MAX + 2);
	memset(pem, 'A', AGENT_PEM_MAX + 1);
	pem[AGENT_PEM_MAX + 1] = '\0';
	assert_null(request(cmd_key, "line-7", "0123456789abcdef0123456789abcdef", pem, &rc));
	assert_int_equal(rc, ZTP_EINVAL);
	free(pem);
	assert_non_null(ed);
	assert_null(request(ed, "line-7", "0123456789abcdef0123456789abcdef", cmd_cert_pem, &rc));
	assert_int_equal(rc, ZTP_EINVAL);
	EVP_PKEY_free(ed);
}

static void
test_status_has_the_serial_in_upper_case(void **state)
{
	char *out = NULL, serial[48];
	size_t len = 0;

	assert_int_equal(agent_msg_status(UDID, "4f1a", "1.4.2", &out, &len), 0);
	assert_string_equal(out, "{\"v\":1,\"udid\":\"gw-0001\",\"state\":\"online\","
	    "\"serial\":\"4F1A\",\"firmware\":\"1.4.2\"}");
	free(out);
	assert_int_equal(agent_msg_status(UDID, "4F1A", NULL, &out, &len), 0);
	assert_null(strstr(out, "firmware"));
	free(out);
	memset(serial, 'A', 41);
	serial[41] = '\0';
	assert_int_equal(agent_msg_status(UDID, serial, NULL, &out, &len), ZTP_EINVAL);
	serial[40] = '\0';
	assert_int_equal(agent_msg_status(UDID, serial, NULL, &out, &len), 0);
	free(out);
	assert_int_equal(agent_msg_status(UDID, "", NULL, &out, &len), ZTP_EINVAL);
	assert_int_equal(agent_msg_status(UDID, "4G", NULL, &out, &len), ZTP_EINVAL);
	assert_int_equal(agent_msg_status("bad udid", "4F", NULL, &out, &len), ZTP_EINVAL);
}

static void
test_results_are_bounded(void **state)
{
	json_t *res = json_pack("{s:s}", "serial", "4F1A"), *big;
	char *out = NULL, err[300];
	size_t len = 0;

	assert_int_equal(agent_msg_result(UDID, 7, res, NULL, &out, &len), 0);
	assert_string_equal(out, "{\"v\":1,\"udid\":\"gw-0001\",\"id\":7,\"ok\":true,"
	    "\"result\":{\"serial\":\"4F1A\"}}");
	free(out);
	assert_int_equal(agent_msg_result(UDID, 8, NULL, "unknown command frob\n", &out, &len), 0);
	assert_string_equal(out, "{\"v\":1,\"udid\":\"gw-0001\",\"id\":8,\"ok\":false,"
	    "\"error\":\"unknown command frob?\"}");
	free(out);
	memset(err, 'e', 250);
	err[250] = '\0';
	assert_int_equal(agent_msg_result(UDID, 8, NULL, err, &out, &len), 0);
	{
		json_t *o = json_loads(out, 0, NULL);
		assert_int_equal(strlen(json_string_value(json_object_get(o, "error"))),
		    AGENT_ERROR_MAX);
		json_decref(o);
	}
	free(out);
	big = json_object();
	json_object_set_new(big, "k", str_n('x', AGENT_RESULT_MAX));
	assert_int_equal(agent_msg_result(UDID, 9, big, NULL, &out, &len), ZTP_ETOOBIG);
	assert_int_equal(agent_msg_result(UDID, 0, res, NULL, &out, &len), ZTP_EINVAL);
	assert_int_equal(agent_msg_result(UDID, 9, NULL, NULL, &out, &len), ZTP_EINVAL);
	json_decref(big);
	json_decref(res);
}

static void
test_mqtt_urls(void **state)
{
	struct agent_url u;

	assert_int_equal(agent_parse_mqtt_url("mqtts://127.0.0.1:8883", &u), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 8883);
	assert_true(u.is_ip);
	assert_int_equal(agent_parse_mqtt_url("mqtts://[::1]:1", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(agent_parse_mqtt_url("mqtts://broker.example:65535/", &u), 0);
	assert_false(u.is_ip);
	assert_int_not_equal(agent_parse_mqtt_url("mqtts://[::1]", &u), 0);
	assert_int_not_equal(agent_parse_mqtt_url("mqtts://:8883", &u), 0);
	assert_int_not_equal(agent_parse_mqtt_url("mqtts://u@h:8883", &u), 0);
	assert_int_not_equal(agent_parse_mqtt_url("mqtts://h:8883/p", &u), 0);
	assert_int_not_equal(agent_parse_mqtt_url("mqtt://h:8883", &u), 0);
	assert_int_not_equal(agent_parse_mqtt_url("mqtts://h:", &u), 0);
	assert_int_not_equal(agent_parse_mqtt_url("", &u), 0);
	assert_int_not_equal(agent_parse_mqtt_url(NULL, &u), 0);
}

/* ---- the configuration file ---- */

#define CONF_MIN \
	"udid = gw-0001\n" \
	"prov_url = mqtts://127.0.0.1:8883\n" \
	"prov_ca = ca.pem\n" \
	"batch = line-7\n" \
	"batch_password_file = /etc/ztp/batch.pass\n" \
	"ldevid_cert = ldevid.pem\n" \
	"ldevid_key = ldevid.key\n" \
	"idevid_cert = idevid.pem\n" \
	"idevid_key = idevid.key\n"

static int
conf(const char *text, struct agent_conf *c)
{
	return agent_conf_parse(text, strlen(text), "/var/lib/ztp-agent", c, why, sizeof(why));
}

static void
test_conf_minimal_gets_its_defaults_and_paths(void **state)
{
	struct agent_conf c;

	assert_int_equal(conf("# a gateway\n\n" CONF_MIN, &c), 0);
	assert_string_equal(c.udid, "gw-0001");
	assert_string_equal(c.prov_ca, "/var/lib/ztp-agent/ca.pem");
	assert_string_equal(c.batch_password_file, "/etc/ztp/batch.pass");
	assert_string_equal(c.prefix, "ztp");
	assert_null(c.firmware);
	assert_int_equal(c.retry_s, 30);
	assert_int_equal(c.renew_before_s, -1);
	assert_int_equal(c.prov.port, 8883);
	agent_conf_free(&c);
	assert_int_equal(conf(CONF_MIN "retry_s = 300\nrenew_before_s=0\n  firmware =  1.4 b \r\n"
	    "prefix = plant/a\n", &c), 0);
	assert_int_equal(c.retry_s, 300);
	assert_int_equal(c.renew_before_s, 0);
	assert_string_equal(c.firmware, "1.4 b");
	assert_string_equal(c.prefix, "plant/a");
	agent_conf_free(&c);
}

static void
test_conf_errors_name_the_line(void **state)
{
	struct agent_conf c;

	assert_int_equal(conf(CONF_MIN "colour = blue\n", &c), ZTP_EINVAL);
	assert_non_null(strstr(why, "line 10: unknown key 'colour'"));
	assert_int_equal(conf(CONF_MIN "udid = gw-0002\n", &c), ZTP_EINVAL);
	assert_non_null(strstr(why, "given twice"));
	assert_int_equal(conf(CONF_MIN "retry_s = 0\n", &c), ZTP_EINVAL);
	assert_int_equal(conf(CONF_MIN "retry_s = 301\n", &c), ZTP_EINVAL);
	assert_int_equal(conf(CONF_MIN "retry_s = 3x\n", &c), ZTP_EINVAL);
	assert_int_equal(conf(CONF_MIN "no equals sign\n", &c), ZTP_EMALFORMED);
	assert_int_equal(conf(CONF_MIN "prefix = a/+/b\n", &c), ZTP_EINVAL);
	assert_int_equal(conf(CONF_MIN "prefix = /a\n", &c), ZTP_EINVAL);
	assert_int_equal(conf(CONF_MIN "prov_ca =\n", &c), ZTP_EINVAL);
	assert_int_equal(conf("udid = gw-0001\n", &c), ZTP_EINVAL);
	assert_non_null(strstr(why, "prov_url is required"));
	/* the batch password: from a file or in the file, one of the two */
	assert_int_equal(conf(CONF_MIN "batch_password = s3cret\n", &c), ZTP_EINVAL);
	assert_non_null(strstr(why, "one of batch_password_file and batch_password"));
}

static void
test_conf_batch_password_inline(void **state)
{
	struct agent_conf c;
	char text[1024], *line;

	snprintf(text, sizeof(text), "%s", CONF_MIN);
	line = strstr(text, "batch_password_file");
	memmove(line, strchr(line, '\n') + 1, strlen(strchr(line, '\n') + 1) + 1);
	assert_int_equal(conf(text, &c), ZTP_EINVAL);
	strcat(text, "batch_password = 9f2c-aa\n");
	assert_int_equal(conf(text, &c), 0);
	assert_string_equal(c.batch_password, "9f2c-aa");
	assert_null(c.batch_password_file);
	agent_conf_free(&c);
	strcat(text, "x");
	assert_int_equal(conf(text, &c), ZTP_EMALFORMED);
}

static void
test_conf_udid_must_suit_est(void **state)
{
	struct agent_conf c;
	char text[1024];

	snprintf(text, sizeof(text), "%s", CONF_MIN);
	memcpy(strstr(text, "gw-0001"), "gw_0001", 7);
	assert_int_equal(conf(text, &c), ZTP_EINVAL);
	memcpy(strstr(text, "gw_0001"), "gw:0001", 7);
	assert_int_equal(conf(text, &c), ZTP_EINVAL);
	memcpy(strstr(text, "gw:0001"), "gw.0001", 7);
	assert_int_equal(conf(text, &c), 0);
	agent_conf_free(&c);
}

static void
test_conf_bounds(void **state)
{
	struct agent_conf c;
	char *big = malloc(AGENT_CONF_MAX + 2), line[AGENT_CONF_LINE_MAX + 64];

	memset(big, '#', AGENT_CONF_MAX + 1);
	big[AGENT_CONF_MAX + 1] = '\0';
	assert_int_equal(conf(big, &c), ZTP_ETOOBIG);
	free(big);
	memset(line, 'x', AGENT_CONF_LINE_MAX + 1);
	line[AGENT_CONF_LINE_MAX + 1] = '\0';
	assert_int_equal(conf(line, &c), ZTP_ETOOBIG);
	assert_int_equal(agent_conf_parse("udid = a\0b\n", 11, NULL, &c, why, sizeof(why)),
	    ZTP_EMALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_approval_parses_with_every_member),
		cmocka_unit_test(test_approval_missing_any_required_member_is_refused),
		cmocka_unit_test(test_approval_member_of_the_wrong_type_is_refused),
		cmocka_unit_test(test_version_other_than_integer_one_is_refused),
		cmocka_unit_test(test_unknown_members_are_ignored),
		cmocka_unit_test(test_message_over_64_kib_is_refused_before_parsing),
		cmocka_unit_test(test_not_one_json_object_is_refused),
		cmocka_unit_test(test_strings_at_their_bounds_pass_and_past_them_fail),
		cmocka_unit_test(test_ids_urls_and_certificates_are_checked),
		cmocka_unit_test(test_config_must_be_an_object_of_at_most_32_kib),
		cmocka_unit_test(test_rejection_and_refusal_carry_a_bounded_reason),
		cmocka_unit_test(test_password_rotation_keeps_the_previous_one_until_settled),
		cmocka_unit_test(test_signed_command_is_accepted),
		cmocka_unit_test(test_forged_or_altered_command_is_refused_as_unsigned),
		cmocka_unit_test(test_replayed_command_is_refused),
		cmocka_unit_test(test_command_for_another_udid_is_refused),
		cmocka_unit_test(test_command_payload_members_are_required_and_typed),
		cmocka_unit_test(test_command_name_of_64_characters_passes_65_fails),
		cmocka_unit_test(test_bad_envelopes_are_refused),
		cmocka_unit_test(test_command_envelope_over_64_kib_is_refused),
		cmocka_unit_test(test_command_arguments_are_checked),
		cmocka_unit_test(test_signed_bytes_are_tag_udid_nonce_with_nuls),
		cmocka_unit_test(test_request_is_signed_by_the_idevid_key_ec_and_rsa),
		cmocka_unit_test(test_request_members_out_of_bounds_are_refused),
		cmocka_unit_test(test_status_has_the_serial_in_upper_case),
		cmocka_unit_test(test_results_are_bounded),
		cmocka_unit_test(test_mqtt_urls),
		cmocka_unit_test(test_conf_minimal_gets_its_defaults_and_paths),
		cmocka_unit_test(test_conf_errors_name_the_line),
		cmocka_unit_test(test_conf_udid_must_suit_est),
		cmocka_unit_test(test_conf_batch_password_inline),
		cmocka_unit_test(test_conf_bounds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
