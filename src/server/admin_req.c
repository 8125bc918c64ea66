#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "admin_req.h"
#include "hex.h"
#include "ztp/err.h"

static int
fail(char *why, size_t cap, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail(char *why, size_t cap, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * Load buf as a JSON object whose member names are exactly those in names
 * (NULL-terminated). The caller decrefs *out.
 */
static int
load_object(const uint8_t *buf, size_t len, const char *const *names, json_t **out, char *why,
    size_t cap)
{
	json_error_t err;
	json_t *obj;
	const char *key;
	json_t *val;
	size_t i, n = 0;

	if (buf == NULL || len == 0)
		return fail(why, cap, ZTP_EMALFORMED, "a JSON object is required");
	if (len > ADMINREQ_BODY_MAX)
		return fail(why, cap, ZTP_ETOOBIG, "request body over %d bytes", ADMINREQ_BODY_MAX);
	obj = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES,
	    &err);
	if (obj == NULL)
		return fail(why, cap, ZTP_EMALFORMED, "invalid JSON at line %d column %d: %s",
		    err.line, err.column, err.text);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return fail(why, cap, ZTP_EMALFORMED, "a JSON object is required");
	}
	json_object_foreach(obj, key, val) {
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(key, names[i]) == 0)
				break;
		if (names[i] == NULL) {
			char name[40];
			snprintf(name, sizeof(name), "%.32s", key);
			json_decref(obj);
			return fail(why, cap, ZTP_EMALFORMED, "unknown member \"%s\"", name);
		}
		n++;
	}
	for (i = 0; names[i] != NULL; i++) {
		if (json_object_get(obj, names[i]) == NULL) {
			fail(why, cap, ZTP_EMALFORMED, "missing member \"%s\"", names[i]);
			json_decref(obj);
			return ZTP_EMALFORMED;
		}
	}
	(void)n;
	*out = obj;
	return 0;
}

/* A string member with no NUL inside; *s points into obj. */
static int
get_string(json_t *obj, const char *name, const char **s, size_t *len, char *why, size_t cap)
{
	json_t *v = json_object_get(obj, name);

	if (!json_is_string(v))
		return fail(why, cap, ZTP_EMALFORMED, "\"%s\" must be a string", name);
	*s = json_string_value(v);
	*len = json_string_length(v);
	if (memchr(*s, '\0', *len) != NULL)
		return fail(why, cap, ZTP_EMALFORMED, "\"%s\" must not contain NUL", name);
	return 0;
}

int
adminreq_token(const uint8_t *buf, size_t len, char key_id[TOKEN_KEYID_MAX + 1],
    char secret[ADMINREQ_SECRET_MAX + 1], char *why, size_t cap)
{
	static const char *const names[] = { "key_id", "secret", NULL };
	const char *id, *sec;
	size_t idlen, seclen;
	json_t *obj;
	int rc;

	if ((rc = load_object(buf, len, names, &obj, why, cap)) != 0)
		return rc;
	if ((rc = get_string(obj, "key_id", &id, &idlen, why, cap)) != 0 ||
	    (rc = get_string(obj, "secret", &sec, &seclen, why, cap)) != 0)
		goto out;
	if (!token_keyid_valid(id, idlen)) {
		rc = fail(why, cap, ZTP_EMALFORMED, "\"key_id\" is not a key id");
		goto out;
	}
	if (seclen == 0 || seclen > ADMINREQ_SECRET_MAX) {
		rc = fail(why, cap, ZTP_EMALFORMED, "\"secret\" must be 1 to %d characters",
		    ADMINREQ_SECRET_MAX);
		goto out;
	}
	memcpy(key_id, id, idlen + 1);
	memcpy(secret, sec, seclen + 1);
out:
	json_decref(obj);
	return rc;
}

int
adminreq_sim_create(const uint8_t *buf, size_t len, char iccid[ICCID_STR_SIZE],
    uint8_t psk[STORE_PSK_MAX], size_t *psklen, char *why, size_t cap)
{
	static const char *const names[] = { "iccid", "psk", NULL };
	uint8_t key[STORE_PSK_MAX];
	const char *id, *hex;
	size_t idlen, hexlen, keylen;
	json_t *obj;
	int rc;

	if ((rc = load_object(buf, len, names, &obj, why, cap)) != 0)
		return rc;
	if ((rc = get_string(obj, "iccid", &id, &idlen, why, cap)) != 0 ||
	    (rc = get_string(obj, "psk", &hex, &hexlen, why, cap)) != 0)
		goto out;
	if (!iccid_valid(id, idlen)) {
		rc = fail(why, cap, ZTP_EMALFORMED, "\"iccid\" must be %d to %d digits",
		    ICCID_MIN_DIGITS, ICCID_MAX_DIGITS);
		goto out;
	}
	if (hexlen < 2 * STORE_PSK_MIN || hexlen > 2 * STORE_PSK_MAX ||
	    hex_decode(hex, hexlen, key, sizeof(key), &keylen) != 0) {
		rc = fail(why, cap, ZTP_EMALFORMED, "\"psk\" must be %d to %d bytes in hex",
		    STORE_PSK_MIN, STORE_PSK_MAX);
		goto out;
	}
	memcpy(iccid, id, idlen + 1);
	memcpy(psk, key, keylen);
	*psklen = keylen;
out:
	OPENSSL_cleanse(key, sizeof(key));
	json_decref(obj);
	return rc;
}

int
adminreq_config_set(const uint8_t *buf, size_t len, uint8_t body[STORE_CONFIG_MAX],
    size_t *bodylen, char *why, size_t cap)
{
	static const char *const names[] = { "body", NULL };
	const char *s;
	size_t slen;
	json_t *obj;
	int rc;

	if ((rc = load_object(buf, len, names, &obj, why, cap)) != 0)
		return rc;
	if ((rc = get_string(obj, "body", &s, &slen, why, cap)) != 0)
		goto out;
	if (slen > STORE_CONFIG_MAX) {
		rc = fail(why, cap, ZTP_ETOOBIG, "the configuration is %zu bytes; at most %d fit",
		    slen, STORE_CONFIG_MAX);
		goto out;
	}
	memcpy(body, s, slen);
	*bodylen = slen;
out:
	json_decref(obj);
	return rc;
}

int
adminreq_rollback(const uint8_t *buf, size_t len, uint32_t *version, char *why, size_t cap)
{
	static const char *const names[] = { "version", NULL };
	json_int_t v;
	json_t *obj, *jv;
	int rc;

	if ((rc = load_object(buf, len, names, &obj, why, cap)) != 0)
		return rc;
	jv = json_object_get(obj, "version");
	if (!json_is_integer(jv) || (v = json_integer_value(jv)) < 1 || v > UINT32_MAX) {
		rc = fail(why, cap, ZTP_EMALFORMED, "\"version\" must be a positive integer");
		goto out;
	}
	*version = (uint32_t)v;
out:
	json_decref(obj);
	return rc;
}
