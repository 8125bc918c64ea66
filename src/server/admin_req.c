#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "admin_req.h"
#include "hex.h"
#include "ztp/err.h"

/*
 * obj must be an object whose members are all in req (each present) or in
 * opt (NULL-terminated lists; opt may be NULL). where names it in errors.
 */
static int
check_members(json_t *obj, const char *const *req, const char *const *opt, const char *where,
    char *why, size_t cap)
{
	const char *key;
	json_t *val;
	size_t i;

	if (!json_is_object(obj))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "%s must be a JSON object", where);
	json_object_foreach(obj, key, val) {
		int known = 0;
		for (i = 0; req[i] != NULL && !known; i++)
			known = strcmp(key, req[i]) == 0;
		for (i = 0; opt != NULL && opt[i] != NULL && !known; i++)
			known = strcmp(key, opt[i]) == 0;
		if (!known)
			return ztp_errf(why, cap, ZTP_EMALFORMED, "unknown member \"%.32s\" in %s", key,
			    where);
	}
	for (i = 0; req[i] != NULL; i++)
		if (json_object_get(obj, req[i]) == NULL)
			return ztp_errf(why, cap, ZTP_EMALFORMED, "missing member \"%s\" in %s", req[i],
			    where);
	return 0;
}

/*
 * Load buf (at most max bytes) as a JSON object with the members req
 * (required) and opt (optional). The caller decrefs *out.
 */
static int
load_object_max(const uint8_t *buf, size_t len, size_t max, const char *const *req,
    const char *const *opt, json_t **out, char *why, size_t cap)
{
	json_error_t err;
	json_t *obj;
	int rc;

	if (buf == NULL || len == 0)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "a JSON object is required");
	if (len > max)
		return ztp_errf(why, cap, ZTP_ETOOBIG, "request body over %zu bytes", max);
	obj = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);
	if (obj == NULL)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "invalid JSON at line %d column %d: %s",
		    err.line, err.column, err.text);
	if ((rc = check_members(obj, req, opt, "the body", why, cap)) != 0) {
		json_decref(obj);
		return rc;
	}
	*out = obj;
	return 0;
}

static int
load_object(const uint8_t *buf, size_t len, const char *const *names, json_t **out, char *why,
    size_t cap)
{
	return load_object_max(buf, len, ADMINREQ_BODY_MAX, names, NULL, out, why, cap);
}

/* A string member with no NUL inside; *s points into obj. */
static int
get_string(json_t *obj, const char *name, const char **s, size_t *len, char *why, size_t cap)
{
	json_t *v = json_object_get(obj, name);

	if (!json_is_string(v))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" must be a string", name);
	*s = json_string_value(v);
	*len = json_string_length(v);
	if (memchr(*s, '\0', *len) != NULL)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" must not contain NUL", name);
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
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"key_id\" is not a key id");
		goto out;
	}
	if (seclen == 0 || seclen > ADMINREQ_SECRET_MAX) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"secret\" must be 1 to %d characters",
		    ADMINREQ_SECRET_MAX);
		goto out;
	}
	memcpy(key_id, id, idlen + 1);
	memcpy(secret, sec, seclen + 1);
out:
	json_decref(obj);
	return rc;
}

/* An optional boolean member; def if absent. */
static int
get_bool(json_t *obj, const char *name, int def, int *out, char *why, size_t cap)
{
	json_t *v = json_object_get(obj, name);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" must be true or false", name);
	*out = json_is_true(v);
	return 0;
}

/* An optional group name member into group ("" if absent). */
static int
get_group(json_t *obj, const char *name, char group[STORE_GROUP_SIZE], char *why, size_t cap)
{
	const char *g;
	size_t glen;
	int rc;

	group[0] = '\0';
	if (json_object_get(obj, name) == NULL || json_is_null(json_object_get(obj, name)))
		return 0;
	if ((rc = get_string(obj, name, &g, &glen, why, cap)) != 0)
		return rc;
	if (!store_group_name_valid(g))
		return ztp_errf(why, cap, ZTP_EMALFORMED,
		    "\"%s\" must be 1 to %d characters of A-Z a-z 0-9 _ . -", name,
		    STORE_GROUP_SIZE - 1);
	memcpy(group, g, glen + 1);
	return 0;
}

/* The members iccid, psk and group of obj into row. */
static int
sim_row(json_t *obj, struct store_import_row *row, char *why, size_t cap)
{
	const char *id = NULL, *hex = NULL;
	size_t idlen = 0, hexlen = 0;
	int rc;

	if ((rc = get_string(obj, "iccid", &id, &idlen, why, cap)) != 0 ||
	    (rc = get_string(obj, "psk", &hex, &hexlen, why, cap)) != 0 ||
	    (rc = get_group(obj, "group", row->group, why, cap)) != 0)
		return rc;
	if (!iccid_valid(id, idlen))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"iccid\" must be %d to %d digits",
		    ICCID_MIN_DIGITS, ICCID_MAX_DIGITS);
	if (hexlen < 2 * STORE_PSK_MIN || hexlen > 2 * STORE_PSK_MAX ||
	    hex_decode(hex, hexlen, row->psk, sizeof(row->psk), &row->psk_len) != 0)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"psk\" must be %d to %d bytes in hex",
		    STORE_PSK_MIN, STORE_PSK_MAX);
	memcpy(row->iccid, id, idlen + 1);
	return 0;
}

int
adminreq_sim_create(const uint8_t *buf, size_t len, struct store_import_row *out, char *why,
    size_t cap)
{
	static const char *const req[] = { "iccid", "psk", NULL };
	static const char *const opt[] = { "group", NULL };
	struct store_import_row row;
	json_t *obj;
	int rc;

	if ((rc = load_object_max(buf, len, ADMINREQ_BODY_MAX, req, opt, &obj, why, cap)) != 0)
		return rc;
	memset(&row, 0, sizeof(row));
	if ((rc = sim_row(obj, &row, why, cap)) == 0)
		*out = row;
	OPENSSL_cleanse(&row, sizeof(row));
	json_decref(obj);
	return rc;
}

int
adminreq_import(const uint8_t *buf, size_t len, struct store_import_row *rows, size_t *n,
    char *why, size_t cap)
{
	static const char *const req[] = { "rows", NULL };
	static const char *const rowreq[] = { "iccid", "psk", NULL };
	static const char *const rowopt[] = { "group", NULL };
	char where[32];
	json_t *obj, *arr, *item;
	size_t i;
	int rc;

	if ((rc = load_object_max(buf, len, ADMINREQ_IMPORT_MAX, req, NULL, &obj, why, cap)) != 0)
		return rc;
	arr = json_object_get(obj, "rows");
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"rows\" must be a non-empty array");
		goto out;
	}
	if (json_array_size(arr) > STORE_IMPORT_BATCH_MAX) {
		rc = ztp_errf(why, cap, ZTP_ETOOBIG, "at most %d rows in one batch",
		    STORE_IMPORT_BATCH_MAX);
		goto out;
	}
	/* the batch is refused whole if a row is not even a row; bad values are per row */
	json_array_foreach(arr, i, item) {
		snprintf(where, sizeof(where), "row %zu", i);
		if ((rc = check_members(item, rowreq, rowopt, where, why, cap)) != 0)
			goto out;
		memset(&rows[i], 0, sizeof(rows[i]));
		if (sim_row(item, &rows[i], rows[i].invalid, sizeof(rows[i].invalid)) != 0 &&
		    rows[i].invalid[0] == '\0')
			snprintf(rows[i].invalid, sizeof(rows[i].invalid), "malformed row");
	}
	*n = json_array_size(arr);
out:
	json_decref(obj);
	return rc;
}

int
adminreq_group_create(const uint8_t *buf, size_t len, struct store_group *g,
    uint8_t master[STORE_MASTER_LEN], int *have_master, char *why, size_t cap)
{
	static const char *const req[] = { "name", NULL };
	static const char *const opt[] = { "iccid_prefix", "derive", "master_key", "allow_psk_ke",
		"rotation_period_s", NULL };
	struct store_group r;
	const char *str;
	size_t slen, klen;
	json_t *obj, *v;
	int rc;

	if ((rc = load_object_max(buf, len, ADMINREQ_BODY_MAX, req, opt, &obj, why, cap)) != 0)
		return rc;
	memset(&r, 0, sizeof(r));
	*have_master = 0;
	if ((rc = get_group(obj, "name", r.name, why, cap)) != 0)
		goto out;
	if (r.name[0] == '\0') {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"name\" is required");
		goto out;
	}
	if ((rc = get_bool(obj, "derive", 0, &r.derive, why, cap)) != 0 ||
	    (rc = get_bool(obj, "allow_psk_ke", 0, &r.allow_psk_ke, why, cap)) != 0)
		goto out;
	if (json_object_get(obj, "iccid_prefix") != NULL) {
		if ((rc = get_string(obj, "iccid_prefix", &str, &slen, why, cap)) != 0)
			goto out;
		if (slen > ICCID_MAX_DIGITS || strspn(str, "0123456789") != slen) {
			rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"iccid_prefix\" must be up to %d digits",
			    ICCID_MAX_DIGITS);
			goto out;
		}
		memcpy(r.iccid_prefix, str, slen + 1);
	}
	if ((v = json_object_get(obj, "rotation_period_s")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 10LL * 365 * 86400) {
			rc = ztp_errf(why, cap, ZTP_EMALFORMED,
			    "\"rotation_period_s\" must be an integer from 0 to 10 years");
			goto out;
		}
		r.rotation_period_s = json_integer_value(v);
	}
	if (json_object_get(obj, "master_key") != NULL) {
		if (!r.derive) {
			rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"master_key\" needs \"derive\": true");
			goto out;
		}
		if ((rc = get_string(obj, "master_key", &str, &slen, why, cap)) != 0)
			goto out;
		if (slen != 2 * STORE_MASTER_LEN || hex_decode(str, slen, master, STORE_MASTER_LEN,
							&klen) != 0) {
			rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"master_key\" must be %d bytes in hex",
			    STORE_MASTER_LEN);
			goto out;
		}
		*have_master = 1;
	}
	*g = r;
out:
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
		rc = ztp_errf(why, cap, ZTP_ETOOBIG, "the configuration is %zu bytes; at most %d fit",
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
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"version\" must be a positive integer");
		goto out;
	}
	*version = (uint32_t)v;
out:
	json_decref(obj);
	return rc;
}
