/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway messages ztpd reads and writes (gwmsg.h,
 * docs/protocol/gateways.md). Unknown members are ignored, as the document
 * says; a known member of the wrong type, out of its bounds or missing is
 * a refusal with a reason that never quotes a secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "b64.h"
#include "gwmsg.h"
#include "jsonreq.h"
#include "ztp/err.h"

int
gwmsg_udid_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > GWMSG_UDID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '.' || c == '_' || c == ':' || c == '-'))
			return 0;
	}
	return 1;
}

static const struct {
	enum gwmsg_topic kind;
	const char *area, *leaf;
} topics[] = {
	{ GWMSG_T_REQ, "prov", "req" },
	{ GWMSG_T_BUNDLE, "prov", "bundle" },
	{ GWMSG_T_STATUS, "dev", "status" },
	{ GWMSG_T_CMD, "dev", "cmd" },
	{ GWMSG_T_RESULT, "dev", "result" },
};

enum gwmsg_topic
gwmsg_topic_parse(const char *prefix, const char *topic, char *udid)
{
	size_t pl = strlen(prefix), i, al, ul;
	const char *p, *slash;

	udid[0] = '\0';
	if (strncmp(topic, prefix, pl) != 0 || topic[pl] != '/')
		return GWMSG_T_NONE;
	p = topic + pl + 1;
	for (i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
		al = strlen(topics[i].area);
		if (strncmp(p, topics[i].area, al) != 0 || p[al] != '/')
			continue;
		if ((slash = strchr(p + al + 1, '/')) == NULL)
			return GWMSG_T_NONE;
		ul = (size_t)(slash - (p + al + 1));
		if (ul == 0 || ul > GWMSG_UDID_MAX || strcmp(slash + 1, topics[i].leaf) != 0)
			continue;
		memcpy(udid, p + al + 1, ul);
		udid[ul] = '\0';
		if (!gwmsg_udid_valid(udid)) {
			udid[0] = '\0';
			return GWMSG_T_NONE;
		}
		return topics[i].kind;
	}
	return GWMSG_T_NONE;
}

int
gwmsg_topic_make(const char *prefix, enum gwmsg_topic kind, const char *udid, char *out,
    size_t cap)
{
	size_t i;
	int n;

	if (!gwmsg_udid_valid(udid))
		return ZTP_EINVAL;
	for (i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
		if (topics[i].kind != kind)
			continue;
		n = snprintf(out, cap, "%s/%s/%s/%s", prefix, topics[i].area, udid, topics[i].leaf);
		return n < 0 || (size_t)n >= cap ? ZTP_ETOOBIG : 0;
	}
	return ZTP_EINVAL;
}

/* ---- reading ---- */

/* buf as one JSON object with v = 1; *out is the caller's to decref. */
static int
load(const uint8_t *msg, size_t len, json_t **out, char *why, size_t cap)
{
	json_error_t err;
	json_t *o, *v;

	*out = NULL;
	if (len > GWMSG_MAX) {
		snprintf(why, cap, "message of %zu bytes, over %d", len, GWMSG_MAX);
		return ZTP_ETOOBIG;
	}
	if ((o = json_loadb((const char *)msg, len, JSON_REJECT_DUPLICATES, &err)) == NULL) {
		snprintf(why, cap, "not JSON: %s", err.text);
		return ZTP_EMALFORMED;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		snprintf(why, cap, "not a JSON object");
		return ZTP_EMALFORMED;
	}
	v = json_object_get(o, "v");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		json_decref(o);
		snprintf(why, cap, "v is not 1");
		return ZTP_EMALFORMED;
	}
	*out = o;
	return 0;
}

/*
 * String member name into out (cap: max + 1): min..max bytes, no NUL, and
 * printable ASCII if ascii. Missing and optional: "" and 0.
 */
static int
str(json_t *o, const char *name, int required, size_t min, size_t max, int ascii, char *out,
    char *why, size_t cap)
{
	json_t *v = json_object_get(o, name);
	const char *s;
	size_t n, i;

	out[0] = '\0';
	if (v == NULL) {
		if (!required)
			return 0;
		snprintf(why, cap, "%s is missing", name);
		return ZTP_EMALFORMED;
	}
	if (!json_is_string(v)) {
		snprintf(why, cap, "%s is not a string", name);
		return ZTP_EMALFORMED;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n < min || n > max || memchr(s, '\0', n) != NULL) {
		snprintf(why, cap, "%s has %zu bytes, not %zu..%zu", name, n, min, max);
		return ZTP_EMALFORMED;
	}
	for (i = 0; ascii && i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e) {
			snprintf(why, cap, "%s is not printable ASCII", name);
			return ZTP_EMALFORMED;
		}
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int
lower_hex(const char *s, size_t n)
{
	size_t i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
pem_cert(const char *s)
{
	return strstr(s, "-----BEGIN CERTIFICATE-----") != NULL;
}

int
gwmsg_request_parse(const uint8_t *msg, size_t len, struct gwmsg_request *out, char *why,
    size_t cap)
{
	char sig[2 * GWMSG_SIG_MAX];
	json_t *o;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = load(msg, len, &o, why, cap)) != 0)
		return rc;
	if ((rc = str(o, "udid", 1, 1, GWMSG_UDID_MAX, 1, out->udid, why, cap)) != 0 ||
	    (rc = str(o, "batch", 1, 1, GWMSG_NAME_MAX, 1, out->batch, why, cap)) != 0 ||
	    (rc = str(o, "password", 1, 1, GWMSG_SECRET_MAX, 0, out->password, why, cap)) != 0 ||
	    (rc = str(o, "firmware", 0, 0, GWMSG_FIRMWARE_MAX, 1, out->firmware, why, cap)) != 0 ||
	    (rc = str(o, "nonce", 1, GWMSG_NONCE_HEX, GWMSG_NONCE_HEX, 1, out->nonce, why, cap)) !=
		0 ||
	    (rc = str(o, "ldevid", 1, 1, GWMSG_PEM_MAX, 0, out->ldevid, why, cap)) != 0 ||
	    (rc = str(o, "idevid", 1, 1, GWMSG_PEM_MAX, 0, out->idevid, why, cap)) != 0 ||
	    (rc = str(o, "idevid_sig", 1, 1, sizeof(sig) - 1, 1, sig, why, cap)) != 0)
		goto out;
	rc = ZTP_EMALFORMED;
	if (!gwmsg_udid_valid(out->udid)) {
		snprintf(why, cap, "udid is not a UDID");
		goto out;
	}
	if (!lower_hex(out->nonce, GWMSG_NONCE_HEX)) {
		snprintf(why, cap, "nonce is not %d lower-case hex digits", GWMSG_NONCE_HEX);
		goto out;
	}
	if (!pem_cert(out->ldevid) || !pem_cert(out->idevid)) {
		snprintf(why, cap, "ldevid and idevid must be PEM certificates");
		goto out;
	}
	if (b64_decode(sig, strlen(sig), out->sig, sizeof(out->sig), &out->sig_len) != 0 ||
	    out->sig_len == 0) {
		snprintf(why, cap, "idevid_sig is not base64 of 1..%d bytes", GWMSG_SIG_MAX);
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	if (rc != 0)
		gwmsg_request_wipe(out);
	return rc;
}

void
gwmsg_request_wipe(struct gwmsg_request *r)
{
	OPENSSL_cleanse(r->password, sizeof(r->password));
}

size_t
gwmsg_request_tbs(const char *udid, const char *nonce, uint8_t *out, size_t cap)
{
	static const char tag[] = "ztp-gw-req";
	size_t ul = strlen(udid), nl = strlen(nonce), n = sizeof(tag) + ul + 1 + nl;

	if (n > cap)
		return 0;
	memcpy(out, tag, sizeof(tag)); /* with its NUL */
	memcpy(out + sizeof(tag), udid, ul);
	out[sizeof(tag) + ul] = '\0';
	memcpy(out + sizeof(tag) + ul + 1, nonce, nl);
	return n;
}

int
gwmsg_status_parse(const uint8_t *msg, size_t len, struct gwmsg_status *out, char *why,
    size_t cap)
{
	json_t *o;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = load(msg, len, &o, why, cap)) != 0)
		return rc;
	if ((rc = str(o, "udid", 1, 1, GWMSG_UDID_MAX, 1, out->udid, why, cap)) != 0 ||
	    (rc = str(o, "state", 1, 1, sizeof(out->state) - 1, 1, out->state, why, cap)) != 0 ||
	    (rc = str(o, "serial", 1, 1, GWMSG_SERIAL_MAX, 1, out->serial, why, cap)) != 0 ||
	    (rc = str(o, "firmware", 0, 0, GWMSG_FIRMWARE_MAX, 1, out->firmware, why, cap)) != 0)
		goto out;
	rc = ZTP_EMALFORMED;
	if (strcmp(out->state, "online") != 0) {
		snprintf(why, cap, "state is not online");
		goto out;
	}
	for (i = 0; out->serial[i] != '\0'; i++)
		if (!((out->serial[i] >= '0' && out->serial[i] <= '9') ||
			(out->serial[i] >= 'A' && out->serial[i] <= 'F'))) {
			snprintf(why, cap, "serial is not upper-case hex");
			goto out;
		}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

int
gwmsg_result_parse(const uint8_t *msg, size_t len, struct gwmsg_result *out, char *why,
    size_t cap)
{
	json_t *o, *v, *r;
	char *text = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = load(msg, len, &o, why, cap)) != 0)
		return rc;
	if ((rc = str(o, "udid", 1, 1, GWMSG_UDID_MAX, 1, out->udid, why, cap)) != 0)
		goto out;
	rc = ZTP_EMALFORMED;
	v = json_object_get(o, "id");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > INT64_C(9007199254740991)) {
		snprintf(why, cap, "id is not an integer in 1..2^53-1");
		goto out;
	}
	out->id = (int64_t)json_integer_value(v);
	v = json_object_get(o, "ok");
	if (!json_is_boolean(v)) {
		snprintf(why, cap, "ok is not a boolean");
		goto out;
	}
	out->ok = json_is_true(v);
	if (out->ok) {
		r = json_object_get(o, "result");
		if (r == NULL) {
			snprintf(out->text, sizeof(out->text), "{}");
		} else if (!json_is_object(r) ||
		    (text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
		    strlen(text) > GWMSG_RESULT_MAX) {
			snprintf(why, cap, "result is not a JSON object of at most %d bytes",
			    GWMSG_RESULT_MAX);
			goto out;
		} else {
			snprintf(out->text, sizeof(out->text), "%s", text);
		}
	} else if ((rc = str(o, "error", 1, 1, GWMSG_ERROR_MAX, 1, out->text, why, cap)) != 0) {
		goto out;
	}
	rc = 0;
out:
	free(text);
	json_decref(o);
	return rc;
}

/* ---- writing ---- */

static int
dump(json_t *o, char **out, size_t *len)
{
	*out = NULL;
	if (o == NULL)
		return ZTP_ENOMEM;
	*out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (*out == NULL)
		return ZTP_ENOMEM;
	*len = strlen(*out);
	return *len <= GWMSG_MAX ? 0 : (free(*out), *out = NULL, ZTP_ETOOBIG);
}

int
gwmsg_command_payload(const char *udid, int64_t id, const char *name, const char *args,
    int64_t issued_at, char **out, size_t *len)
{
	json_t *a, *o;

	*out = NULL;
	if (!gwmsg_udid_valid(udid) || id < 1 || name == NULL || name[0] == '\0')
		return ZTP_EINVAL;
	if ((a = json_loads(args != NULL && args[0] != '\0' ? args : "{}", JSON_REJECT_DUPLICATES,
		 NULL)) == NULL || !json_is_object(a)) {
		json_decref(a);
		return ZTP_EINVAL;
	}
	o = json_pack("{s:i, s:s, s:I, s:s, s:o, s:I}", "v", 1, "udid", udid, "id", (json_int_t)id,
	    "name", name, "args", a, "issued_at", (json_int_t)issued_at);
	return dump(o, out, len);
}

/* base64 of in[0..len) on one line, malloc'd. */
static char *
b64_line(const uint8_t *in, size_t len)
{
	char *s;

	if (len > GWMSG_MAX || (s = malloc(4 * ((len + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s, in, (int)len);
	return s;
}

int
gwmsg_command_envelope(const uint8_t *payload, size_t len, const uint8_t *sig, size_t sig_len,
    char **out, size_t *outlen)
{
	char *p = b64_line(payload, len), *s = b64_line(sig, sig_len);
	json_t *o = NULL;

	if (p != NULL && s != NULL)
		o = json_pack("{s:s, s:s}", "payload", p, "sig", s);
	free(p);
	free(s);
	return dump(o, out, outlen);
}

int
gwmsg_answer_refusal(const char *udid, int rejected, const char *reason, char **out,
    size_t *len)
{
	char clean[GWMSG_ERROR_MAX + 1];
	size_t i;

	snprintf(clean, sizeof(clean), "%s", reason != NULL ? reason : "");
	for (i = 0; clean[i] != '\0'; i++)
		if (clean[i] < 0x20 || clean[i] > 0x7e)
			clean[i] = '?';
	return dump(json_pack("{s:i, s:s, s:s, s:s}", "v", 1, "udid", udid, "state",
			rejected ? "rejected" : "refused", "reason", clean),
	    out, len);
}

/* ---- admin bodies ---- */

int
gwmsg_command_known(const char *name)
{
	static const char *const known[] = { "status", "fetch-config", "reenroll", "rotate-mqtt" };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(name, known[i]) == 0)
			return 1;
	return 0;
}

/* 1..max of A-Z a-z 0-9 - . _ (names of batches, owners, groups). */
static int
name_ok(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' || s[i] == '_'))
			return 0;
	return 1;
}

/* An object member as compact JSON, at most max bytes: malloc'd into *out. */
static int
object_text(json_t *o, const char *name, size_t max, char **out, char *why, size_t cap)
{
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_object(v)) {
		snprintf(why, cap, "%s must be a JSON object", name);
		return ZTP_EMALFORMED;
	}
	if ((*out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return ZTP_ENOMEM;
	if (strlen(*out) > max) {
		free(*out);
		*out = NULL;
		snprintf(why, cap, "%s is over %zu bytes", name, max);
		return ZTP_ETOOBIG;
	}
	return 0;
}

int
gwmsg_admin_parse(enum gwmsg_admin_kind kind, const uint8_t *body, size_t len,
    struct gwmsg_admin *out, char *why, size_t cap)
{
	static const char *const batch_req[] = { "name", NULL }, *const batch_opt[] = { "owner",
		NULL };
	static const char *const expect_req[] = { "udid", NULL }, *const group_opt[] = { "group",
		NULL };
	static const char *const grp_req[] = { "config", NULL }, *const grp_opt[] = {
		"auto_reonboard", NULL };
	static const char *const none[] = { NULL }, *const reject_opt[] = { "reason", NULL };
	static const char *const cmd_req[] = { "name", NULL }, *const cmd_opt[] = { "args", NULL };
	const char *const *req = none, *const *opt = none;
	json_t *o = NULL, *v;
	int rc;

	memset(out, 0, sizeof(*out));
	switch (kind) {
	case GWMSG_A_BATCH:
		req = batch_req, opt = batch_opt;
		break;
	case GWMSG_A_EXPECT:
		req = expect_req, opt = group_opt;
		break;
	case GWMSG_A_GROUP:
		req = grp_req, opt = grp_opt;
		break;
	case GWMSG_A_APPROVE:
		opt = group_opt;
		break;
	case GWMSG_A_REJECT:
		opt = reject_opt;
		break;
	case GWMSG_A_COMMAND:
		req = cmd_req, opt = cmd_opt;
		break;
	default:
		return ZTP_EINVAL;
	}
	if (len == 0 && req == none)
		return 0; /* approve, reject: no body */
	if ((rc = jsonreq_load(body, len, GWMSG_ADMIN_MAX, req, opt, &o, why, cap)) != 0)
		return rc;
	switch (kind) {
	case GWMSG_A_BATCH:
		if ((rc = str(o, "name", 1, 1, GWMSG_NAME_MAX, 1, out->name, why, cap)) != 0 ||
		    (rc = str(o, "owner", 0, 0, GWMSG_NAME_MAX, 1, out->owner, why, cap)) != 0)
			break;
		if (!name_ok(out->name, GWMSG_NAME_MAX) ||
		    (out->owner[0] != '\0' && !name_ok(out->owner, GWMSG_NAME_MAX))) {
			snprintf(why, cap, "names are 1..64 of A-Z a-z 0-9 - . _");
			rc = ZTP_EMALFORMED;
		}
		break;
	case GWMSG_A_EXPECT:
	case GWMSG_A_APPROVE:
		if (kind == GWMSG_A_EXPECT &&
		    (rc = str(o, "udid", 1, 1, GWMSG_UDID_MAX, 1, out->udid, why, cap)) != 0)
			break;
		if (kind == GWMSG_A_EXPECT && !gwmsg_udid_valid(out->udid)) {
			snprintf(why, cap, "udid is not a UDID");
			rc = ZTP_EMALFORMED;
			break;
		}
		out->has_group = json_object_get(o, "group") != NULL;
		if ((rc = str(o, "group", 0, 0, sizeof(out->group) - 1, 1, out->group, why, cap)) ==
			0 && out->group[0] != '\0' && !name_ok(out->group, sizeof(out->group) - 1)) {
			snprintf(why, cap, "group is not a group name");
			rc = ZTP_EMALFORMED;
		}
		break;
	case GWMSG_A_GROUP:
		v = json_object_get(o, "auto_reonboard");
		if (v != NULL && !json_is_boolean(v)) {
			snprintf(why, cap, "auto_reonboard must be true or false");
			rc = ZTP_EMALFORMED;
			break;
		}
		out->auto_reonboard = json_is_true(v);
		rc = object_text(o, "config", GWMSG_CONFIG_MAX, &out->json, why, cap);
		break;
	case GWMSG_A_REJECT:
		rc = str(o, "reason", 0, 0, GWMSG_ERROR_MAX, 1, out->reason, why, cap);
		break;
	case GWMSG_A_COMMAND:
		if ((rc = str(o, "name", 1, 1, GWMSG_CMD_NAME_MAX, 1, out->name, why, cap)) != 0)
			break;
		if (!gwmsg_command_known(out->name)) {
			snprintf(why, cap, "unknown command (status, fetch-config, reenroll,"
					   " rotate-mqtt)");
			rc = ZTP_EMALFORMED;
			break;
		}
		v = json_object_get(o, "args");
		if ((rc = object_text(o, "args", GWMSG_ARGS_MAX, &out->json, why, cap)) == 0 &&
		    (json_object_get(v, "password") != NULL || json_object_get(v, "config") != NULL)) {
			snprintf(why, cap, "args may not set password or config: ztpd does");
			rc = ZTP_EMALFORMED;
		}
		break;
	}
	json_decref(o);
	if (rc != 0)
		gwmsg_admin_free(out);
	return rc;
}

void
gwmsg_admin_free(struct gwmsg_admin *a)
{
	free(a->json);
	a->json = NULL;
}
