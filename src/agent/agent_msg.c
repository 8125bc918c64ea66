/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-agent's MQTT messages (agent_msg.h, docs/protocol/gateways.md).
 * Every message is read by jansson within AGENT_MSG_MAX bytes, then its
 * members are taken one by one by the helpers below, each of which checks
 * the type and the bounds of the contract before anything is kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "agent_msg.h"
#include "b64.h"
#include "udid.h"
#include "ztp/err.h"
#include "ztp/est.h"

/* ---- text ---- */

/*
 * The count of characters of the UTF-8 text s[0..len) if all are
 * printable (no control character, C0 or C1), else -1. jansson hands out
 * valid UTF-8 only; anything else is refused here too.
 */
static long
printable_chars(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	long n = 0;
	uint32_t cp;
	int extra;

	while (i < len) {
		if (p[i] < 0x80) {
			cp = p[i];
			extra = 0;
		} else if ((p[i] & 0xe0) == 0xc0) {
			cp = p[i] & 0x1f;
			extra = 1;
		} else if ((p[i] & 0xf0) == 0xe0) {
			cp = p[i] & 0x0f;
			extra = 2;
		} else if ((p[i] & 0xf8) == 0xf0) {
			cp = p[i] & 0x07;
			extra = 3;
		} else {
			return -1;
		}
		if ((size_t)extra >= len - i)
			return -1;
		for (i++; extra > 0; extra--, i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return -1;
		n++;
	}
	return n;
}

/* 1 if s[0..len) is min..max printable ASCII characters. */
static int
ascii_ok(const char *s, size_t len, size_t min, size_t max)
{
	size_t i;

	if (len < min || len > max)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* 1 if s is exactly n lower-case hex digits. */
static int
lower_hex(const char *s, size_t len, size_t n)
{
	size_t i;

	if (len != n)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
agent_udid_valid(const char *s)
{
	return s != NULL && udid_valid(s, strnlen(s, AGENT_UDID_MAX + 1));
}

int
agent_parse_mqtt_url(const char *url, struct agent_url *out)
{
	static const char scheme[] = "mqtts://";
	char https[EST_URL_MAX + 1];
	struct est_url u;
	const char *rest, *colon;
	size_t n;

	if (url == NULL || out == NULL)
		return ZTP_EINVAL;
	n = strnlen(url, EST_URL_MAX + 1);
	if (n > EST_URL_MAX - 1 || n < sizeof(scheme) ||
	    strncasecmp(url, scheme, sizeof(scheme) - 1) != 0)
		return ZTP_EINVAL;
	rest = url + sizeof(scheme) - 1;
	/* the port is required: after the ']' of an IPv6 address, or the only ':' */
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');
		if (close == NULL || close[1] != ':')
			return ZTP_EINVAL;
	} else if ((colon = strchr(rest, ':')) == NULL || colon == rest) {
		return ZTP_EINVAL;
	}
	snprintf(https, sizeof(https), "https://%s", rest);
	if (est_parse_url(https, &u) != 0 || u.port == 0)
		return ZTP_EINVAL;
	memset(out, 0, sizeof(*out));
	snprintf(out->host, sizeof(out->host), "%s", u.host);
	out->port = u.port;
	out->is_ip = u.is_ip;
	return 0;
}

/* ---- members ---- */

/* obj's member key: a string of min..max printable characters (ascii: ASCII only). */
static int
get_text(json_t *obj, const char *key, int required, size_t min, size_t max, int ascii,
    const char **out, char *why, size_t cap)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t len;
	long n;

	*out = NULL;
	if (v == NULL) {
		if (required)
			return ztp_errf(why, cap, ZTP_EMALFORMED, "missing member \"%s\"", key);
		*out = "";
		return 0;
	}
	if (!json_is_string(v))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" must be a string", key);
	s = json_string_value(v);
	len = json_string_length(v);
	if (ascii) {
		if (!ascii_ok(s, len, min, max))
			return ztp_errf(why, cap, len > max ? ZTP_ETOOBIG : ZTP_EMALFORMED,
			    "\"%s\" must be %zu to %zu printable ASCII characters", key, min, max);
	} else {
		n = printable_chars(s, len);
		if (n < 0 || (size_t)n < min || (size_t)n > max)
			return ztp_errf(why, cap, n > 0 && (size_t)n > max ? ZTP_ETOOBIG :
			    ZTP_EMALFORMED, "\"%s\" must be %zu to %zu printable characters", key, min,
			    max);
	}
	*out = s;
	return 0;
}

/* "v": 1, the integer */
static int
check_version(json_t *obj, char *why, size_t cap)
{
	json_t *v = json_object_get(obj, "v");

	if (v == NULL)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "missing member \"v\"");
	if (!json_is_integer(v))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"v\" must be an integer");
	if (json_integer_value(v) != 1)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "version \"v\" %lld is not 1",
		    (long long)json_integer_value(v));
	return 0;
}

/* obj's member key: an integer min..max */
static int
get_int(json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out, char *why,
    size_t cap)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "missing member \"%s\"", key);
	if (!json_is_integer(v))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" must be an integer", key);
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" must be from %lld to %lld", key,
		    (long long)min, (long long)max);
	*out = json_integer_value(v);
	return 0;
}

/* obj's member key: an object of at most max bytes as compact JSON (max 0: any) */
static int
get_object(json_t *obj, const char *key, size_t max, json_t **out, char *why, size_t cap)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "missing member \"%s\"", key);
	if (!json_is_object(v))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" must be a JSON object", key);
	if (max != 0 && json_dumpb(v, NULL, 0, JSON_COMPACT) > max)
		return ztp_errf(why, cap, ZTP_ETOOBIG, "\"%s\" is over %zu bytes", key, max);
	*out = v;
	return 0;
}

/* obj's member key: PEM certificates, 1..max of them, into *sk (a new stack) */
static int
get_certs(json_t *obj, const char *key, size_t max, STACK_OF(X509) **sk, char *why,
    size_t cap)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t len, i;
	int rc;

	*sk = NULL;
	if (v == NULL)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "missing member \"%s\"", key);
	if (!json_is_string(v))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" must be a string", key);
	s = json_string_value(v);
	len = json_string_length(v);
	/* PEM: ASCII text in lines */
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) && s[i] != '\n' &&
		    s[i] != '\r' && s[i] != '\t')
			return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" must be PEM text", key);
	if (strstr(s, "-----BEGIN CERTIFICATE-----") == NULL)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" holds no PEM certificate", key);
	rc = est_certs_parse((const uint8_t *)s, len, max, sk);
	if (rc == ZTP_ENOMEM)
		return ztp_errf(why, cap, rc, "out of memory");
	if (rc != 0)
		return ztp_errf(why, cap, rc == ZTP_ETOOBIG ? ZTP_ETOOBIG : ZTP_EMALFORMED,
		    "\"%s\" must be 1 to %zu PEM certificates", key, max);
	return 0;
}

/* Load buf[len] as one JSON object of at most AGENT_MSG_MAX bytes. */
static int
load_object(const uint8_t *buf, size_t len, json_t **out, char *why, size_t cap)
{
	json_error_t err;
	json_t *root;

	*out = NULL;
	if (buf == NULL || len == 0)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "an empty message");
	if (len > AGENT_MSG_MAX)
		return ztp_errf(why, cap, ZTP_ETOOBIG, "a message of %zu bytes (at most %d)", len,
		    AGENT_MSG_MAX);
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "not JSON: line %d column %d", err.line,
		    err.column);
	if (!json_is_object(root)) {
		json_decref(root);
		return ztp_errf(why, cap, ZTP_EMALFORMED, "not a JSON object");
	}
	*out = root;
	return 0;
}

/* ---- the answer ---- */

/* Wipe the string member key of obj in place (a secret about to be freed). */
static void
wipe_member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
}

void
agent_bundle_free(struct agent_bundle *b)
{
	if (b == NULL)
		return;
	if (b->root != NULL) {
		wipe_member(b->root, "est_password");
		wipe_member(b->root, "mqtt_password");
		wipe_member(b->root, "mqtt_password_prev");
		json_decref(b->root);
	}
	sk_X509_pop_free(b->est_ca, X509_free);
	sk_X509_pop_free(b->mqtt_ca, X509_free);
	X509_free(b->command_cert);
	EVP_PKEY_free(b->command_key);
	memset(b, 0, sizeof(*b));
}

/* command_cert: one certificate whose key is P-256 */
static int
get_command_cert(struct agent_bundle *b, char *why, size_t cap)
{
	STACK_OF(X509) *sk = NULL;
	char group[32];
	size_t glen = 0;
	int rc;

	if ((rc = get_certs(b->root, "command_cert", 1, &sk, why, cap)) != 0)
		return rc;
	b->command_cert = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	b->command_key = X509_get_pubkey(b->command_cert);
	if (b->command_key == NULL || !EVP_PKEY_is_a(b->command_key, "EC") ||
	    EVP_PKEY_get_group_name(b->command_key, group, sizeof(group), &glen) != 1 ||
	    strcmp(group, "prime256v1") != 0)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"command_cert\" must hold a P-256 key");
	return 0;
}

static int
parse_approval(struct agent_bundle *b, char *why, size_t cap)
{
	json_t *r = b->root;
	struct est_url eu;
	const char *id;
	int rc;

	if ((rc = get_text(r, "bundle_id", 1, 1, AGENT_BUNDLE_ID_LEN, 1, &id, why, cap)) != 0)
		return rc;
	if (!lower_hex(id, strlen(id), AGENT_BUNDLE_ID_LEN))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"bundle_id\" must be %d lower-case hex "
		    "digits", AGENT_BUNDLE_ID_LEN);
	b->bundle_id = id;
	if ((rc = get_text(r, "est_url", 1, 1, EST_URL_MAX, 1, &b->est_url, why, cap)) != 0)
		return rc;
	if (est_parse_url(b->est_url, &eu) != 0)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"est_url\" must be https://host:port");
	if ((rc = get_certs(r, "est_ca", AGENT_PEM_CERTS_MAX, &b->est_ca, why, cap)) != 0)
		return rc;
	if ((rc = get_text(r, "est_password", 1, 1, AGENT_SECRET_MAX, 1, &b->est_password, why,
	    cap)) != 0)
		return rc;
	if ((rc = get_text(r, "mqtt_url", 1, 1, EST_URL_MAX, 1, &b->mqtt_url, why, cap)) != 0)
		return rc;
	if (agent_parse_mqtt_url(b->mqtt_url, &b->mqtt) != 0)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"mqtt_url\" must be mqtts://host:port");
	if ((rc = get_certs(r, "mqtt_ca", AGENT_PEM_CERTS_MAX, &b->mqtt_ca, why, cap)) != 0)
		return rc;
	if ((rc = get_text(r, "mqtt_username", 1, 1, AGENT_SECRET_MAX, 1, &b->mqtt_username, why,
	    cap)) != 0)
		return rc;
	if ((rc = get_text(r, "mqtt_password", 1, 1, AGENT_SECRET_MAX, 1, &b->mqtt_password, why,
	    cap)) != 0)
		return rc;
	if (json_object_get(r, "mqtt_password_prev") != NULL &&
	    (rc = get_text(r, "mqtt_password_prev", 1, 1, AGENT_SECRET_MAX, 1,
	    &b->mqtt_password_prev, why, cap)) != 0)
		return rc;
	if ((rc = get_command_cert(b, why, cap)) != 0)
		return rc;
	if ((rc = get_text(r, "group", 1, 0, AGENT_GROUP_MAX, 0, &b->group, why, cap)) != 0)
		return rc;
	return get_object(r, "config", AGENT_CONFIG_MAX, &b->config, why, cap);
}

int
agent_msg_parse_answer(const uint8_t *buf, size_t len, struct agent_bundle *out, char *why,
    size_t whycap)
{
	const char *state;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = load_object(buf, len, &out->root, why, whycap)) != 0)
		return rc;
	if ((rc = check_version(out->root, why, whycap)) != 0)
		goto out;
	if ((rc = get_text(out->root, "udid", 1, 1, AGENT_UDID_MAX, 1, &out->udid, why,
	    whycap)) != 0)
		goto out;
	if (!agent_udid_valid(out->udid)) {
		rc = ztp_errf(why, whycap, ZTP_EMALFORMED, "\"udid\" is not a UDID");
		goto out;
	}
	if ((rc = get_text(out->root, "state", 1, 1, 16, 1, &state, why, whycap)) != 0)
		goto out;
	if (strcmp(state, "rejected") == 0 || strcmp(state, "refused") == 0) {
		out->state = state[2] == 'j' ? AGENT_ANSWER_REJECTED : AGENT_ANSWER_REFUSED;
		rc = get_text(out->root, "reason", 0, 0, AGENT_REASON_MAX, 0, &out->reason, why,
		    whycap);
	} else if (strcmp(state, "approved") == 0) {
		out->state = AGENT_ANSWER_APPROVED;
		out->reason = "";
		rc = parse_approval(out, why, whycap);
	} else {
		rc = ztp_errf(why, whycap, ZTP_EMALFORMED, "\"state\" must be approved, rejected "
		    "or refused");
	}
out:
	if (rc != 0)
		agent_bundle_free(out);
	return rc;
}

/* Set member key of b's root to the string pw (the old one wiped), or remove it (pw NULL). */
static int
set_secret(struct agent_bundle *b, const char *key, const char *pw, const char **field)
{
	json_t *v = NULL;

	if (pw != NULL && (v = json_string(pw)) == NULL)
		return ZTP_ENOMEM;
	wipe_member(b->root, key);
	if (v == NULL) {
		json_object_del(b->root, key);
		*field = NULL;
		return 0;
	}
	if (json_object_set_new(b->root, key, v) != 0)
		return ZTP_ENOMEM;
	*field = json_string_value(v);
	return 0;
}

int
agent_bundle_set_mqtt_password(struct agent_bundle *b, const char *pw, int keep_prev)
{
	char *old = NULL;
	int rc;

	if (b == NULL || b->root == NULL || b->state != AGENT_ANSWER_APPROVED || pw == NULL ||
	    !ascii_ok(pw, strnlen(pw, AGENT_SECRET_MAX + 1), 1, AGENT_SECRET_MAX))
		return ZTP_EINVAL;
	if (keep_prev && (old = strdup(b->mqtt_password)) == NULL)
		return ZTP_ENOMEM;
	rc = set_secret(b, "mqtt_password_prev", old, &b->mqtt_password_prev);
	if (rc == 0)
		rc = set_secret(b, "mqtt_password", pw, &b->mqtt_password);
	if (old != NULL)
		OPENSSL_clear_free(old, strlen(old));
	return rc;
}

int
agent_bundle_settle_password(struct agent_bundle *b, int new_one_works)
{
	int rc;

	if (b == NULL || b->root == NULL || b->mqtt_password_prev == NULL)
		return ZTP_EINVAL;
	if (!new_one_works &&
	    (rc = set_secret(b, "mqtt_password", b->mqtt_password_prev, &b->mqtt_password)) != 0)
		return rc;
	return set_secret(b, "mqtt_password_prev", NULL, &b->mqtt_password_prev);
}

/* obj as compact JSON into *out (malloc'd, NUL-terminated, written in one pass) */
static int
dump_exact(json_t *obj, size_t flags, char **out, size_t *len)
{
	size_t n = json_dumpb(obj, NULL, 0, flags);
	char *buf;

	*out = NULL;
	*len = 0;
	if (n == 0 || (buf = malloc(n + 1)) == NULL)
		return ZTP_ENOMEM;
	if (json_dumpb(obj, buf, n, flags) != n) {
		OPENSSL_clear_free(buf, n + 1);
		return ZTP_ENOMEM;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int
agent_bundle_dump(const struct agent_bundle *b, char **out, size_t *len)
{
	if (b == NULL || b->root == NULL)
		return ZTP_EINVAL;
	return dump_exact(b->root, JSON_COMPACT, out, len);
}

/* ---- commands ---- */

void
agent_cmd_free(struct agent_cmd *c)
{
	if (c == NULL)
		return;
	json_decref(c->root);
	memset(c, 0, sizeof(*c));
}

/* obj's member key: base64 text decoded into a new buffer *out[*outlen] of 1..max bytes */
static int
get_b64(json_t *obj, const char *key, size_t max, uint8_t **out, size_t *outlen, char *why,
    size_t cap)
{
	json_t *v = json_object_get(obj, key);
	size_t len, room;
	uint8_t *buf;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (v == NULL)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "missing member \"%s\"", key);
	if (!json_is_string(v))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" must be a string", key);
	len = json_string_length(v);
	room = len / 4 * 3 + 3;
	if (room > max)
		room = max;
	if ((buf = malloc(room > 0 ? room : 1)) == NULL)
		return ztp_errf(why, cap, ZTP_ENOMEM, "out of memory");
	rc = b64_decode(json_string_value(v), len, buf, room, outlen);
	if (rc == 0 && *outlen == 0)
		rc = ZTP_EMALFORMED;
	if (rc != 0) {
		free(buf);
		*outlen = 0;
		return ztp_errf(why, cap, rc == ZTP_ETOOBIG ? ZTP_ETOOBIG : ZTP_EMALFORMED,
		    "\"%s\" must be base64 of 1 to %zu bytes", key, max);
	}
	*out = buf;
	return 0;
}

/* 1 if sig[siglen] is key's ECDSA/SHA-256 signature of msg[len] */
static int
sig_verifies(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = 0;

	if (md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1)
		ok = EVP_DigestVerify(md, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

int
agent_msg_parse_cmd(const uint8_t *buf, size_t len, EVP_PKEY *key, const char *udid,
    uint64_t last_id, struct agent_cmd *out, char *why, size_t whycap)
{
	json_t *env = NULL;
	uint8_t *payload = NULL, *sig = NULL;
	size_t plen = 0, siglen = 0;
	const char *u;
	int64_t v;
	int rc;

	memset(out, 0, sizeof(*out));
	if (key == NULL || udid == NULL)
		return ztp_errf(why, whycap, ZTP_EINVAL, "no key or UDID");
	if ((rc = load_object(buf, len, &env, why, whycap)) != 0)
		return rc;
	if ((rc = get_b64(env, "payload", AGENT_MSG_MAX, &payload, &plen, why, whycap)) != 0 ||
	    (rc = get_b64(env, "sig", AGENT_SIG_MAX, &sig, &siglen, why, whycap)) != 0)
		goto out;
	/* nothing of the payload is read before its signature verifies */
	if (!sig_verifies(key, payload, plen, sig, siglen)) {
		rc = ztp_errf(why, whycap, ZTP_ECRYPTO, "the signature does not verify with the "
		    "command certificate's key");
		goto out;
	}
	if ((rc = load_object(payload, plen, &out->root, why, whycap)) != 0 ||
	    (rc = check_version(out->root, why, whycap)) != 0)
		goto out;
	if ((rc = get_text(out->root, "udid", 1, 1, AGENT_UDID_MAX, 1, &u, why, whycap)) != 0)
		goto out;
	if ((rc = get_int(out->root, "id", 1, (int64_t)AGENT_CMD_ID_MAX, &v, why, whycap)) != 0)
		goto out;
	out->id = (uint64_t)v;
	if ((rc = get_text(out->root, "name", 1, 1, AGENT_NAME_MAX, 0, &out->name, why,
	    whycap)) != 0)
		goto out;
	if ((rc = get_object(out->root, "args", 0, &out->args, why, whycap)) != 0)
		goto out;
	if ((rc = get_int(out->root, "issued_at", 0, (int64_t)AGENT_CMD_ID_MAX, &out->issued_at,
	    why, whycap)) != 0)
		goto out;
	if (strcmp(u, udid) != 0) {
		rc = ztp_errf(why, whycap, ZTP_ECONFLICT, "a command for another UDID");
		goto out;
	}
	if (out->id <= last_id) {
		rc = ztp_errf(why, whycap, ZTP_EEXIST, "a replay: id %llu is not above %llu, the "
		    "last accepted", (unsigned long long)out->id, (unsigned long long)last_id);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		agent_cmd_free(out);
	free(payload);
	free(sig);
	json_decref(env);
	return rc;
}

int
agent_cmd_config(const struct agent_cmd *c, json_t **config, char *why, size_t whycap)
{
	return get_object(c->args, "config", AGENT_CONFIG_MAX, config, why, whycap);
}

int
agent_cmd_password(const struct agent_cmd *c, const char **pw, char *why, size_t whycap)
{
	return get_text(c->args, "password", 1, 1, AGENT_SECRET_MAX, 1, pw, why, whycap);
}

/* ---- what the agent sends ---- */

int
agent_msg_sig_input(const char *udid, const char *nonce, uint8_t *out, size_t cap,
    size_t *len)
{
	static const char tag[] = "ztp-gw-req";
	size_t ul, nl, n;

	if (udid == NULL || nonce == NULL || out == NULL || len == NULL)
		return ZTP_EINVAL;
	ul = strnlen(udid, AGENT_UDID_MAX + 1);
	nl = strnlen(nonce, AGENT_NONCE_LEN + 1);
	n = sizeof(tag) + ul + 1 + nl; /* sizeof counts the tag's NUL */
	if (n > cap)
		return ZTP_ERANGE;
	memcpy(out, tag, sizeof(tag));
	memcpy(out + sizeof(tag), udid, ul);
	out[sizeof(tag) + ul] = '\0';
	memcpy(out + sizeof(tag) + ul + 1, nonce, nl);
	*len = n;
	return 0;
}

/* The SHA-256 signature of msg[len] by key (EC: DER ECDSA; RSA: PKCS#1 v1.5) in base64. */
static int
sign_b64(EVP_PKEY *key, const uint8_t *msg, size_t len, char **out)
{
	EVP_MD_CTX *md = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int rc = ZTP_ECRYPTO;

	*out = NULL;
	if (!EVP_PKEY_is_a(key, "EC") && !EVP_PKEY_is_a(key, "RSA"))
		return ZTP_EINVAL;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, msg, len) != 1)
		goto out;
	if ((sig = malloc(siglen)) == NULL || (*out = malloc(siglen / 3 * 4 + 5)) == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	if (EVP_DigestSign(md, sig, &siglen, msg, len) != 1) {
		free(*out);
		*out = NULL;
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)*out, sig, (int)siglen);
	rc = 0;
out:
	free(sig);
	EVP_MD_CTX_free(md);
	return rc;
}

/* 1 if s is min..max printable characters */
static int
text_ok(const char *s, size_t min, size_t max)
{
	long n;

	if (s == NULL)
		return 0;
	n = printable_chars(s, strnlen(s, AGENT_MSG_MAX + 1));
	return n >= 0 && (size_t)n >= min && (size_t)n <= max;
}

int
agent_msg_request(const struct agent_req *r, char **out, size_t *len, char *why,
    size_t whycap)
{
	uint8_t tbs[sizeof("ztp-gw-req") + AGENT_UDID_MAX + 1 + AGENT_NONCE_LEN];
	size_t tbslen = 0;
	char *sig = NULL;
	json_t *obj = NULL;
	int rc;

	*out = NULL;
	*len = 0;
	if (!agent_udid_valid(r->udid))
		return ztp_errf(why, whycap, ZTP_EINVAL, "the UDID is not 1 to 64 of A-Z a-z 0-9 "
		    ". _ : -");
	if (!text_ok(r->batch, 1, AGENT_BATCH_MAX))
		return ztp_errf(why, whycap, ZTP_EINVAL, "the batch must be 1 to %d printable "
		    "characters", AGENT_BATCH_MAX);
	if (!text_ok(r->password, 1, AGENT_SECRET_MAX))
		return ztp_errf(why, whycap, ZTP_EINVAL, "the batch password must be 1 to %d "
		    "printable characters", AGENT_SECRET_MAX);
	if (r->firmware != NULL && !ascii_ok(r->firmware, strnlen(r->firmware,
	    AGENT_FIRMWARE_MAX + 1), 0, AGENT_FIRMWARE_MAX))
		return ztp_errf(why, whycap, ZTP_EINVAL, "the firmware version must be 0 to %d "
		    "printable ASCII characters", AGENT_FIRMWARE_MAX);
	if (r->ldevid == NULL || r->idevid == NULL ||
	    strnlen(r->ldevid, AGENT_PEM_MAX + 1) > AGENT_PEM_MAX ||
	    strnlen(r->idevid, AGENT_PEM_MAX + 1) > AGENT_PEM_MAX)
		return ztp_errf(why, whycap, ZTP_EINVAL, "the LDevID and the IDevID must be PEM of "
		    "at most %d bytes each", AGENT_PEM_MAX);
	if (r->nonce == NULL || !lower_hex(r->nonce, strnlen(r->nonce, AGENT_NONCE_LEN + 1),
	    AGENT_NONCE_LEN))
		return ztp_errf(why, whycap, ZTP_EINVAL, "the nonce must be %d lower-case hex "
		    "digits", AGENT_NONCE_LEN);
	if (r->idevid_key == NULL)
		return ztp_errf(why, whycap, ZTP_EINVAL, "no IDevID key");
	if ((rc = agent_msg_sig_input(r->udid, r->nonce, tbs, sizeof(tbs), &tbslen)) != 0)
		return ztp_errf(why, whycap, rc, "the signed bytes do not fit");
	if ((rc = sign_b64(r->idevid_key, tbs, tbslen, &sig)) != 0)
		return ztp_errf(why, whycap, rc, rc == ZTP_EINVAL ? "the IDevID key is neither EC "
		    "nor RSA" : "the IDevID key cannot sign");
	obj = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "v", 1, "udid", r->udid,
	    "batch", r->batch, "password", r->password, "ldevid", r->ldevid, "idevid", r->idevid,
	    "nonce", r->nonce, "idevid_sig", sig);
	if (obj == NULL || (r->firmware != NULL &&
	    json_object_set_new(obj, "firmware", json_string(r->firmware)) != 0)) {
		rc = ztp_errf(why, whycap, ZTP_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = dump_exact(obj, JSON_COMPACT, out, len)) != 0) {
		ztp_errf(why, whycap, rc, "out of memory");
		goto out;
	}
	if (*len > AGENT_MSG_MAX) {
		OPENSSL_clear_free(*out, *len + 1);
		*out = NULL;
		*len = 0;
		rc = ztp_errf(why, whycap, ZTP_ETOOBIG, "the request is over %d bytes",
		    AGENT_MSG_MAX);
	}
out:
	if (obj != NULL)
		wipe_member(obj, "password");
	json_decref(obj);
	free(sig);
	return rc;
}

int
agent_msg_status(const char *udid, const char *serial, const char *firmware, char **out,
    size_t *len)
{
	char up[AGENT_SERIAL_MAX + 1];
	json_t *obj;
	size_t i, n;
	int rc;

	*out = NULL;
	*len = 0;
	if (!agent_udid_valid(udid) || serial == NULL)
		return ZTP_EINVAL;
	n = strnlen(serial, AGENT_SERIAL_MAX + 1);
	if (n == 0 || n > AGENT_SERIAL_MAX)
		return ZTP_EINVAL;
	for (i = 0; i < n; i++) {
		char c = serial[i];
		if (c >= 'a' && c <= 'f')
			c = (char)(c - 'a' + 'A');
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
			return ZTP_EINVAL;
		up[i] = c;
	}
	up[n] = '\0';
	if (firmware != NULL && !ascii_ok(firmware, strnlen(firmware, AGENT_FIRMWARE_MAX + 1), 0,
	    AGENT_FIRMWARE_MAX))
		return ZTP_EINVAL;
	obj = json_pack("{s:i, s:s, s:s, s:s}", "v", 1, "udid", udid, "state", "online",
	    "serial", up);
	if (obj == NULL || (firmware != NULL &&
	    json_object_set_new(obj, "firmware", json_string(firmware)) != 0)) {
		json_decref(obj);
		return ZTP_ENOMEM;
	}
	rc = dump_exact(obj, JSON_COMPACT, out, len);
	json_decref(obj);
	return rc;
}

int
agent_msg_result(const char *udid, uint64_t id, json_t *result, const char *error, char **out,
    size_t *len)
{
	char text[AGENT_ERROR_MAX + 1];
	json_t *obj;
	size_t i;
	int rc;

	*out = NULL;
	*len = 0;
	if (!agent_udid_valid(udid) || id < 1 || id > AGENT_CMD_ID_MAX ||
	    (error == NULL && !json_is_object(result)))
		return ZTP_EINVAL;
	obj = json_pack("{s:i, s:s, s:I}", "v", 1, "udid", udid, "id", (json_int_t)id);
	if (obj == NULL)
		return ZTP_ENOMEM;
	if (error == NULL) {
		if (json_dumpb(result, NULL, 0, JSON_COMPACT) > AGENT_RESULT_MAX) {
			json_decref(obj);
			return ZTP_ETOOBIG;
		}
		rc = json_object_set_new(obj, "ok", json_true()) != 0 ||
		    json_object_set(obj, "result", result) != 0 ? ZTP_ENOMEM : 0;
	} else {
		for (i = 0; i < AGENT_ERROR_MAX && error[i] != '\0'; i++)
			text[i] = (unsigned char)error[i] < 0x20 || (unsigned char)error[i] > 0x7e ?
			    '?' : error[i];
		if (i == 0)
			text[i++] = '?';
		text[i] = '\0';
		rc = json_object_set_new(obj, "ok", json_false()) != 0 ||
		    json_object_set_new(obj, "error", json_string(text)) != 0 ? ZTP_ENOMEM : 0;
	}
	if (rc == 0)
		rc = dump_exact(obj, JSON_COMPACT, out, len);
	json_decref(obj);
	return rc;
}
