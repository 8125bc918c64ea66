/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the gateway message codec (src/server/proto/gwmsg.h).
 *
 * The first byte picks the parser ('0'..'9', another byte: its value
 * modulo 10): '0' provisioning request, '1' status, '2' command result,
 * '3' topic (the rest is "prefix\ntopic", or a topic under "ztp"), '4'..'9'
 * the admin bodies batch, expect, group, approve, reject, command. The
 * rest is the message, passed as it is. What a parser accepts is checked
 * against the bounds of docs/protocol/gateways.md, written back as a
 * message and parsed again, which must give the same values; what ztpd
 * would build from it (topics, command payloads and envelopes, refusals)
 * must build and decode back. A refusal leaves a short reason within its
 * cap and, for a request, no byte of the password.
 */
#include <string.h>

#include <jansson.h>

#include "b64.h"
#include "fuzz.h"
#include "gwmsg.h"
#include "ztp/err.h"

#define WHY_CAP 128
#define CANARY 0x5a

struct why {
	char buf[WHY_CAP + 16]; /* the bytes past WHY_CAP must stay CANARY */
};

static void
why_init(struct why *w)
{
	memset(w->buf, CANARY, sizeof(w->buf));
}

static void
why_check(const struct why *w, int rc)
{
	size_t i;

	for (i = WHY_CAP; i < sizeof(w->buf); i++)
		FUZZ_CHECK((unsigned char)w->buf[i] == CANARY);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ETOOBIG);
		FUZZ_CHECK(strnlen(w->buf, WHY_CAP) < WHY_CAP);
		FUZZ_CHECK(w->buf[0] != '\0');
	}
}

/* s (a NUL-terminated field of cap bytes) is min..max bytes of printable ASCII */
static int
printable(const char *s, size_t cap, size_t min, size_t max)
{
	size_t n = strnlen(s, cap), i;

	if (n == cap || n < min || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* Serialise obj (stolen) compactly; the caller frees it. */
static char *
dump(json_t *obj)
{
	char *s;

	FUZZ_CHECK(obj != NULL);
	s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	FUZZ_CHECK(s != NULL);
	return s;
}

/* base64 of in[0..len) on one line; the caller frees it */
static char *
b64_one_line(const uint8_t *in, size_t len)
{
	char *s;
	size_t n, i, j;

	FUZZ_CHECK(b64_encode_lines(in, len, &s, &n) == 0);
	for (i = 0, j = 0; i <= n; i++)
		if (s[i] != '\n')
			s[j++] = s[i];
	return s;
}

/* What ztpd writes to a gateway it knows as udid: a command and a refusal, decoded back. */
static void
check_writers(const char *udid, const char *name, const char *args, const char *reason)
{
	static uint8_t back[GWMSG_MAX];
	const uint8_t sig[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01 };
	char *payload, *env, *ans;
	size_t plen, elen, alen, n;
	json_t *o, *p;
	const char *s;

	FUZZ_CHECK(gwmsg_command_payload(udid, INT64_C(9007199254740991), name, args,
		       INT64_C(1796692385123), &payload, &plen) == 0);
	FUZZ_CHECK(plen == strlen(payload));
	FUZZ_CHECK(gwmsg_command_envelope((const uint8_t *)payload, plen, sig, sizeof(sig), &env,
		       &elen) == 0);
	o = json_loadb(env, elen, JSON_REJECT_DUPLICATES, NULL);
	FUZZ_CHECK(json_is_object(o) && json_object_size(o) == 2);
	s = json_string_value(json_object_get(o, "payload"));
	FUZZ_CHECK(s != NULL && b64_decode(s, strlen(s), back, sizeof(back), &n) == 0);
	FUZZ_CHECK(n == plen && memcmp(back, payload, n) == 0);
	s = json_string_value(json_object_get(o, "sig"));
	FUZZ_CHECK(s != NULL && b64_decode(s, strlen(s), back, sizeof(back), &n) == 0);
	FUZZ_CHECK(n == sizeof(sig) && memcmp(back, sig, n) == 0);
	json_decref(o);
	p = json_loadb(payload, plen, JSON_REJECT_DUPLICATES, NULL);
	FUZZ_CHECK(json_is_object(p) && json_is_object(json_object_get(p, "args")));
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(p, "udid")), udid) == 0);
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(p, "name")), name) == 0);
	json_decref(p);
	free(env);
	free(payload);

	FUZZ_CHECK(gwmsg_answer_refusal(udid, reason[0] & 1, reason, &ans, &alen) == 0);
	o = json_loadb(ans, alen, JSON_REJECT_DUPLICATES, NULL);
	FUZZ_CHECK(json_is_object(o));
	s = json_string_value(json_object_get(o, "reason"));
	FUZZ_CHECK(s != NULL && printable(s, GWMSG_ERROR_MAX + 1, 0, GWMSG_ERROR_MAX));
	json_decref(o);
	free(ans);
}

static struct gwmsg_request req, req2; /* 48 KiB each: not on the stack */

static void
fuzz_request(const uint8_t *buf, size_t len)
{
	uint8_t tbs[3 * GWMSG_UDID_MAX];
	char *sig, *again;
	struct why w;
	size_t i;
	json_t *o;
	int rc;

	memset(&req, CANARY, sizeof(req));
	why_init(&w);
	rc = gwmsg_request_parse(buf, len, &req, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		for (i = 0; i < sizeof(req.password); i++)
			FUZZ_CHECK(req.password[i] == '\0');
		check_writers("gw", "status", NULL, w.buf);
		return;
	}
	FUZZ_CHECK(gwmsg_udid_valid(req.udid));
	FUZZ_CHECK(printable(req.batch, sizeof(req.batch), 1, GWMSG_NAME_MAX));
	FUZZ_CHECK(strnlen(req.password, sizeof(req.password)) >= 1 &&
	    strnlen(req.password, sizeof(req.password)) <= GWMSG_SECRET_MAX);
	FUZZ_CHECK(printable(req.firmware, sizeof(req.firmware), 0, GWMSG_FIRMWARE_MAX));
	FUZZ_CHECK(strnlen(req.nonce, sizeof(req.nonce)) == GWMSG_NONCE_HEX);
	for (i = 0; i < GWMSG_NONCE_HEX; i++)
		FUZZ_CHECK((req.nonce[i] >= '0' && req.nonce[i] <= '9') ||
		    (req.nonce[i] >= 'a' && req.nonce[i] <= 'f'));
	FUZZ_CHECK(strnlen(req.ldevid, sizeof(req.ldevid)) <= GWMSG_PEM_MAX);
	FUZZ_CHECK(strnlen(req.idevid, sizeof(req.idevid)) <= GWMSG_PEM_MAX);
	FUZZ_CHECK(strstr(req.ldevid, "-----BEGIN CERTIFICATE-----") != NULL);
	FUZZ_CHECK(strstr(req.idevid, "-----BEGIN CERTIFICATE-----") != NULL);
	FUZZ_CHECK(req.sig_len >= 1 && req.sig_len <= GWMSG_SIG_MAX);
	FUZZ_CHECK(gwmsg_request_tbs(req.udid, req.nonce, tbs, sizeof(tbs)) ==
	    11 + strlen(req.udid) + 1 + GWMSG_NONCE_HEX);

	/* the same request, written canonically, parses to the same values */
	sig = b64_one_line(req.sig, req.sig_len);
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "v", 1, "udid", req.udid, "batch",
	    req.batch, "password", req.password, "ldevid", req.ldevid, "idevid", req.idevid, "nonce",
	    req.nonce, "idevid_sig", sig);
	FUZZ_CHECK(o != NULL);
	if (req.firmware[0] != '\0')
		json_object_set_new(o, "firmware", json_string(req.firmware));
	again = dump(o);
	free(sig);
	FUZZ_CHECK(gwmsg_request_parse((const uint8_t *)again, strlen(again), &req2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(strcmp(req.udid, req2.udid) == 0 && strcmp(req.batch, req2.batch) == 0 &&
	    strcmp(req.password, req2.password) == 0 && strcmp(req.firmware, req2.firmware) == 0 &&
	    strcmp(req.nonce, req2.nonce) == 0 && strcmp(req.ldevid, req2.ldevid) == 0 &&
	    strcmp(req.idevid, req2.idevid) == 0 && req.sig_len == req2.sig_len &&
	    memcmp(req.sig, req2.sig, req.sig_len) == 0);
	free(again);
	gwmsg_request_wipe(&req2);
	gwmsg_request_wipe(&req);
	FUZZ_CHECK(req.password[0] == '\0');
	check_writers(req.udid, "status", NULL, req.firmware);
}

static void
fuzz_status(const uint8_t *buf, size_t len)
{
	struct gwmsg_status s, s2;
	struct why w;
	char *again;
	size_t i, n;
	int rc;

	why_init(&w);
	rc = gwmsg_status_parse(buf, len, &s, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0)
		return;
	FUZZ_CHECK(printable(s.udid, sizeof(s.udid), 1, GWMSG_UDID_MAX));
	FUZZ_CHECK(strcmp(s.state, "online") == 0);
	n = strnlen(s.serial, sizeof(s.serial));
	FUZZ_CHECK(n >= 1 && n <= GWMSG_SERIAL_MAX);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((s.serial[i] >= '0' && s.serial[i] <= '9') ||
		    (s.serial[i] >= 'A' && s.serial[i] <= 'F'));
	FUZZ_CHECK(printable(s.firmware, sizeof(s.firmware), 0, GWMSG_FIRMWARE_MAX));
	again = dump(json_pack("{s:i, s:s, s:s, s:s, s:s}", "v", 1, "udid", s.udid, "state",
	    s.state, "serial", s.serial, "firmware", s.firmware));
	FUZZ_CHECK(gwmsg_status_parse((const uint8_t *)again, strlen(again), &s2, w.buf, WHY_CAP) ==
	    0);
	FUZZ_CHECK(memcmp(&s, &s2, sizeof(s)) == 0); /* both zeroed first, then filled */
	free(again);
}

static struct gwmsg_result res, res2;

static void
fuzz_result(const uint8_t *buf, size_t len)
{
	struct why w;
	char *again;
	json_t *o, *r;
	int rc;

	why_init(&w);
	rc = gwmsg_result_parse(buf, len, &res, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0)
		return;
	FUZZ_CHECK(printable(res.udid, sizeof(res.udid), 1, GWMSG_UDID_MAX));
	FUZZ_CHECK(res.id >= 1 && res.id <= INT64_C(9007199254740991));
	FUZZ_CHECK(res.ok == 0 || res.ok == 1);
	FUZZ_CHECK(strnlen(res.text, sizeof(res.text)) < sizeof(res.text));
	o = json_pack("{s:i, s:s, s:I, s:b}", "v", 1, "udid", res.udid, "id", (json_int_t)res.id,
	    "ok", res.ok);
	FUZZ_CHECK(o != NULL);
	if (res.ok) {
		/* the result as ztpd stores it: one JSON object, compact */
		r = json_loads(res.text, JSON_REJECT_DUPLICATES, NULL);
		FUZZ_CHECK(json_is_object(r));
		FUZZ_CHECK(strlen(res.text) <= GWMSG_RESULT_MAX);
		json_object_set_new(o, "result", r);
	} else {
		FUZZ_CHECK(printable(res.text, sizeof(res.text), 1, GWMSG_ERROR_MAX));
		json_object_set_new(o, "error", json_string(res.text));
	}
	again = dump(o);
	FUZZ_CHECK(gwmsg_result_parse((const uint8_t *)again, strlen(again), &res2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(strcmp(res.udid, res2.udid) == 0 && res.id == res2.id && res.ok == res2.ok &&
	    strcmp(res.text, res2.text) == 0);
	free(again);
}

static void
fuzz_topic(const uint8_t *buf, size_t len)
{
	char in[512], prefix[GWMSG_PREFIX_MAX + 1] = "ztp", udid[GWMSG_UDID_MAX + 1], out[512];
	const char *topic = in, *nl;
	enum gwmsg_topic kind;

	if (len >= sizeof(in) || memchr(buf, '\0', len) != NULL)
		return; /* MQTT topics are UTF-8 without NUL */
	memcpy(in, buf, len);
	in[len] = '\0';
	if ((nl = strchr(in, '\n')) != NULL) {
		if ((size_t)(nl - in) > GWMSG_PREFIX_MAX)
			return;
		memcpy(prefix, in, (size_t)(nl - in));
		prefix[nl - in] = '\0';
		topic = nl + 1;
	}
	memset(udid, CANARY, sizeof(udid));
	kind = gwmsg_topic_parse(prefix, topic, udid);
	FUZZ_CHECK(memchr(udid, '\0', sizeof(udid)) != NULL);
	if (kind == GWMSG_T_NONE) {
		FUZZ_CHECK(udid[0] == '\0');
		return;
	}
	FUZZ_CHECK(kind >= GWMSG_T_REQ && kind <= GWMSG_T_RESULT);
	FUZZ_CHECK(gwmsg_udid_valid(udid));
	/* the topic is exactly the one ztpd would make */
	FUZZ_CHECK(gwmsg_topic_make(prefix, kind, udid, out, sizeof(out)) == 0);
	FUZZ_CHECK(strcmp(out, topic) == 0);
	check_writers(udid, "reenroll", "{}", udid);
}

static const enum gwmsg_admin_kind admin_kinds[] = { GWMSG_A_BATCH, GWMSG_A_EXPECT, GWMSG_A_GROUP,
	GWMSG_A_APPROVE, GWMSG_A_REJECT, GWMSG_A_COMMAND };

/* a name of a batch, owner or group: A-Z a-z 0-9 - . _ */
static int
name_chars(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			(*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_'))
			return 0;
	return 1;
}

/* The canonical body of what a parsed (kind, a) says. */
static char *
admin_body(enum gwmsg_admin_kind kind, const struct gwmsg_admin *a)
{
	json_t *o = json_object();

	FUZZ_CHECK(o != NULL);
	switch (kind) {
	case GWMSG_A_BATCH:
		json_object_set_new(o, "name", json_string(a->name));
		if (a->owner[0] != '\0')
			json_object_set_new(o, "owner", json_string(a->owner));
		break;
	case GWMSG_A_EXPECT:
	case GWMSG_A_APPROVE:
		if (kind == GWMSG_A_EXPECT)
			json_object_set_new(o, "udid", json_string(a->udid));
		if (a->has_group)
			json_object_set_new(o, "group", json_string(a->group));
		break;
	case GWMSG_A_GROUP:
		json_object_set_new(o, "config", json_loads(a->json, 0, NULL));
		json_object_set_new(o, "auto_reonboard", json_boolean(a->auto_reonboard));
		break;
	case GWMSG_A_REJECT:
		json_object_set_new(o, "reason", json_string(a->reason));
		break;
	case GWMSG_A_COMMAND:
		json_object_set_new(o, "name", json_string(a->name));
		if (a->json != NULL)
			json_object_set_new(o, "args", json_loads(a->json, 0, NULL));
		break;
	}
	return dump(o);
}

static void
fuzz_admin(enum gwmsg_admin_kind kind, const uint8_t *buf, size_t len)
{
	struct gwmsg_admin a, a2;
	struct why w;
	char *again;
	json_t *j;
	int rc;

	why_init(&w);
	rc = gwmsg_admin_parse(kind, buf, len, &a, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(a.json == NULL);
		return;
	}
	FUZZ_CHECK(memchr(a.name, '\0', sizeof(a.name)) && memchr(a.owner, '\0', sizeof(a.owner)) &&
	    memchr(a.udid, '\0', sizeof(a.udid)) && memchr(a.group, '\0', sizeof(a.group)) &&
	    memchr(a.reason, '\0', sizeof(a.reason)));
	FUZZ_CHECK(name_chars(a.owner) && name_chars(a.group));
	FUZZ_CHECK(printable(a.reason, sizeof(a.reason), 0, GWMSG_ERROR_MAX));
	switch (kind) {
	case GWMSG_A_BATCH:
		FUZZ_CHECK(a.name[0] != '\0' && name_chars(a.name));
		break;
	case GWMSG_A_EXPECT:
		FUZZ_CHECK(gwmsg_udid_valid(a.udid));
		break;
	case GWMSG_A_GROUP:
		FUZZ_CHECK(a.json != NULL && strlen(a.json) <= GWMSG_CONFIG_MAX);
		j = json_loads(a.json, JSON_REJECT_DUPLICATES, NULL);
		FUZZ_CHECK(json_is_object(j));
		json_decref(j);
		break;
	case GWMSG_A_COMMAND:
		FUZZ_CHECK(gwmsg_command_known(a.name));
		FUZZ_CHECK(a.json == NULL || strlen(a.json) <= GWMSG_ARGS_MAX);
		if (a.json != NULL) {
			j = json_loads(a.json, JSON_REJECT_DUPLICATES, NULL);
			FUZZ_CHECK(json_is_object(j) && json_object_get(j, "password") == NULL &&
			    json_object_get(j, "config") == NULL);
			json_decref(j);
		}
		/* what the operator asked for makes a command */
		check_writers("gw-0001", a.name, a.json, a.name);
		break;
	default:
		break;
	}
	again = admin_body(kind, &a);
	FUZZ_CHECK(gwmsg_admin_parse(kind, (const uint8_t *)again, strlen(again), &a2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(strcmp(a.name, a2.name) == 0 && strcmp(a.owner, a2.owner) == 0 &&
	    strcmp(a.udid, a2.udid) == 0 && strcmp(a.group, a2.group) == 0 &&
	    a.has_group == a2.has_group && strcmp(a.reason, a2.reason) == 0 &&
	    a.auto_reonboard == a2.auto_reonboard);
	FUZZ_CHECK((a.json == NULL) == (a2.json == NULL));
	FUZZ_CHECK(a.json == NULL || strcmp(a.json, a2.json) == 0);
	free(again);
	gwmsg_admin_free(&a2);
	gwmsg_admin_free(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int pick;

	if (size == 0)
		return 0;
	pick = data[0] >= '0' && data[0] <= '9' ? data[0] - '0' : data[0] % 10;
	switch (pick) {
	case 0:
		fuzz_request(data + 1, size - 1);
		break;
	case 1:
		fuzz_status(data + 1, size - 1);
		break;
	case 2:
		fuzz_result(data + 1, size - 1);
		break;
	case 3:
		fuzz_topic(data + 1, size - 1);
		break;
	default:
		fuzz_admin(admin_kinds[pick - 4], data + 1, size - 1);
		break;
	}
	return 0;
}
