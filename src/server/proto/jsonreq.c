/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON body rules the admin request parsers share (jsonreq.h). */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "jsonreq.h"
#include "store.h"
#include "ztp/err.h"

/*
 * obj must be an object whose members are all in req (each present) or in
 * opt (NULL-terminated lists; opt may be NULL). where names it in errors.
 */
int
jsonreq_members(json_t *obj, const char *const *req, const char *const *opt,
    const char *where, char *why, size_t cap)
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
int
jsonreq_load(const uint8_t *buf, size_t len, size_t max, const char *const *req,
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
	if ((rc = jsonreq_members(obj, req, opt, "the body", why, cap)) != 0) {
		json_decref(obj);
		return rc;
	}
	*out = obj;
	return 0;
}

/*
 * Load buf (at most max bytes) as {"<member>": [...]}, a
 * batch: 1 to STORE_IMPORT_BATCH_MAX items, each an object with the members
 * itemreq and itemopt ("<item> N" in errors) that check (may be NULL) also
 * accepts. The batch is refused whole if an item is not even an item; bad
 * values are the caller's to judge per item. *obj gets the object (the
 * caller decrefs it) and *arr the array inside it.
 */
int
jsonreq_load_batch(const uint8_t *buf, size_t len, size_t max, const char *member,
    const char *item,
    const char *const *itemreq, const char *const *itemopt,
    int (*check)(json_t *it, size_t i, char *why, size_t cap), json_t **obj, json_t **arr,
    char *why, size_t cap)
{
	const char *const req[] = { member, NULL };
	char where[32];
	json_t *o, *a, *it;
	size_t i;
	int rc;

	if ((rc = jsonreq_load(buf, len, max, req, NULL, &o, why, cap)) != 0)
		return rc;
	a = json_object_get(o, member);
	if (!json_is_array(a) || json_array_size(a) == 0) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" must be a non-empty array", member);
		goto fail;
	}
	if (json_array_size(a) > STORE_IMPORT_BATCH_MAX) {
		rc = ztp_errf(why, cap, ZTP_ETOOBIG, "at most %d %s in one batch",
		    STORE_IMPORT_BATCH_MAX, member);
		goto fail;
	}
	json_array_foreach(a, i, it) {
		snprintf(where, sizeof(where), "%s %zu", item, i);
		if ((rc = jsonreq_members(it, itemreq, itemopt, where, why, cap)) != 0 ||
		    (check != NULL && (rc = check(it, i, why, cap)) != 0))
			goto fail;
	}
	*obj = o;
	*arr = a;
	return 0;
fail:
	json_decref(o);
	return rc;
}

/* A string member with no NUL inside; *s points into obj. */
int
jsonreq_string(json_t *obj, const char *name, const char **s, size_t *len, char *why,
    size_t cap)
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
