/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API's owners (tenants) and API keys (docs/admin-api.md "Owners
 * and API keys"). Only all-owners keys reach these handlers: their rows in
 * the route table do not let a key of one owner through.
 *
 * A key's secret is made here, answered once in the 201 of its creation
 * and stored only as a salted HMAC (store_apikey.c): no later answer, log
 * line or event holds it. A revoked key is refused from the next request
 * on, the tokens it already has included (admin_api.c reads the key at
 * every request).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin_int.h"
#include "admin_req.h"
#include "clock.h"
#include "crypto.h"
#include "hex.h"
#include "http_util.h"
#include "server.h"
#include "store.h"
#include "token.h"
#include "ztp/err.h"

#define KEY_ID_RANDOM 8      /* bytes of a new key id: "ak_" and 16 hex digits */
#define KEY_SECRET_RANDOM 32 /* bytes of a new secret: 64 hex digits */

_Static_assert(3 + 2 * KEY_ID_RANDOM < STORE_KEYID_SIZE, "a key id fits the store");
_Static_assert(3 + 2 * KEY_ID_RANDOM <= TOKEN_KEYID_MAX, "a key id fits a token");
_Static_assert(2 * KEY_SECRET_RANDOM <= ADMINREQ_SECRET_MAX, "a secret fits a token request");
_Static_assert(STORE_OWNER_MAX <= STORE_UDID_MAX, "an owner's name fits struct admin_page");

static json_t *
owner_json(const struct store_owner *o)
{
	return json_pack("{s:s, s:o, s:I, s:I, s:I}", "name", o->name, "created_at",
	    admin_time_json(o->created_at), "api_keys", (json_int_t)o->keys, "profiles",
	    (json_int_t)o->profiles, "modules", (json_int_t)o->modules);
}

/* A key as every answer shows it: never its secret, which the store does not have. */
static json_t *
apikey_json(const struct store_apikey *k)
{
	return json_pack("{s:s, s:o, s:o, s:b, s:o, s:o}", "key_id", k->key_id, "name",
	    admin_opt_string(k->name), "owner", admin_opt_string(k->owner), "all_owners",
	    k->owner[0] == '\0', "created_at", admin_time_json(k->created_at), "revoked_at",
	    k->revoked_at != 0 ? admin_time_json(k->revoked_at) : json_null());
}

/* The after= of a list keyed by a name ("" if absent); else 400 sent, -1. */
static int
query_after_name(struct areq *a, const char **after)
{
	*after = evhttp_find_header(&a->query, "after");
	if (*after != NULL && !store_owner_valid(*after) &&
	    !token_keyid_valid(*after, strlen(*after))) {
		http_reply_error(a->req, 400, "bad_request", "after must be a name or a key id");
		return -1;
	}
	if (*after == NULL)
		*after = "";
	return 0;
}

static int
owner_list_cb(const struct store_owner *o, void *arg)
{
	admin_page_add(arg, owner_json(o), o->name);
	return 0;
}

/* GET /v1/owners?limit=N&after=NAME: by name. */
void
admin_owner_list(struct areq *a)
{
	struct admin_page p = { 0 };
	const char *after;
	uint64_t limit;
	int rc;

	if (admin_query_limit(a, &limit) != 0 || query_after_name(a, &after) != 0)
		return;
	p.arr = json_array();
	rc = store_owner_list(a->w->store, after, (int)limit, owner_list_cb, &p);
	admin_reply_page(a, "owners", &p, rc, limit);
}

/* POST /v1/owners {"name"}: 201 with the owner. */
void
admin_owner_create(struct areq *a)
{
	char name[STORE_OWNER_MAX + 1], why[160];
	struct store_owner o;
	int rc;

	if ((rc = adminreq_owner(a->body, a->bodylen, name, why, sizeof(why))) != 0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	rc = store_owner_create(a->w->store, name);
	if (rc == 0)
		rc = store_owner_get(a->w->store, name, &o);
	if (rc != 0) {
		snprintf(why, sizeof(why), rc == ZTP_EEXIST ? "owner %s exists" :
		    "owner %s cannot be created", name);
		admin_reply_rc(a, rc, why);
		return;
	}
	admin_changed_dev(a, name, NULL, "owner created:", name);
	http_reply_json(a->req, 201, owner_json(&o));
}

/* GET /v1/owners/{owner} */
void
admin_owner_get(struct areq *a)
{
	struct store_owner o;
	int rc;

	if (!store_owner_valid(a->param)) {
		http_reply_error(a->req, 400, "bad_request", "not an owner's name");
		return;
	}
	if ((rc = store_owner_get(a->w->store, a->param, &o)) != 0)
		admin_reply_rc(a, rc, "no such owner");
	else
		http_reply_json(a->req, 200, owner_json(&o));
}

static int
apikey_list_cb(const struct store_apikey *k, void *arg)
{
	admin_page_add(arg, apikey_json(k), k->key_id);
	return 0;
}

/* GET /v1/apikeys?limit=N&after=KEYID: by key id, the revoked ones too; never a secret. */
void
admin_apikey_list(struct areq *a)
{
	struct admin_page p = { 0 };
	const char *after;
	uint64_t limit;
	int rc;

	if (admin_query_limit(a, &limit) != 0 || query_after_name(a, &after) != 0)
		return;
	p.arr = json_array();
	rc = store_apikey_list(a->w->store, after, (int)limit, apikey_list_cb, &p);
	admin_reply_page(a, "apikeys", &p, rc, limit);
}

/* A new key id ("ak_" and hex) and secret (hex), lower case as datadir.c makes the first. */
static int
new_key(char key_id[STORE_KEYID_SIZE], char secret[2 * KEY_SECRET_RANDOM + 1])
{
	uint8_t raw[KEY_SECRET_RANDOM];
	char *p;
	int rc;

	if ((rc = crypto_random(raw, KEY_ID_RANDOM)) != 0)
		return rc;
	memcpy(key_id, "ak_", 3);
	hex_encode(raw, KEY_ID_RANDOM, key_id + 3, STORE_KEYID_SIZE - 3);
	if ((rc = crypto_random(raw, sizeof(raw))) == 0)
		rc = hex_encode(raw, sizeof(raw), secret, 2 * KEY_SECRET_RANDOM + 1);
	OPENSSL_cleanse(raw, sizeof(raw));
	for (p = key_id; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	for (p = secret; rc == 0 && *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	return rc;
}

/*
 * POST /v1/apikeys {"name", "owner"} or {"name", "all_owners": true}: 201
 * with the key and its secret, the only answer that ever holds it. A key
 * id that happens to exist is drawn again (64 bits: never in practice).
 */
void
admin_apikey_create(struct areq *a)
{
	char name[STORE_APIKEY_NAME_MAX + 1], owner[STORE_OWNER_MAX + 1], why[160];
	char key_id[STORE_KEYID_SIZE], secret[2 * KEY_SECRET_RANDOM + 1], arg[200];
	struct store_apikey k;
	json_t *obj, *sec;
	int rc, tries;

	if ((rc = adminreq_apikey(a->body, a->bodylen, name, owner, why, sizeof(why))) != 0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	for (tries = 0; tries < 3; tries++) {
		if ((rc = new_key(key_id, secret)) != 0)
			break;
		rc = store_apikey_create_scoped(a->w->store, key_id, secret, name, owner);
		if (rc != ZTP_EEXIST)
			break;
	}
	if (rc == 0)
		rc = store_apikey_get(a->w->store, key_id, &k);
	if (rc != 0) {
		OPENSSL_cleanse(secret, sizeof(secret));
		if (rc == ZTP_ENOENT)
			snprintf(why, sizeof(why), "no owner %s", owner);
		else
			snprintf(why, sizeof(why), "the key cannot be created");
		admin_reply_rc(a, rc, why);
		return;
	}
	snprintf(arg, sizeof(arg), "%s (name %s, %s%s)", key_id, name,
	    owner[0] != '\0' ? "owner " : "all owners", owner);
	admin_changed_dev(a, owner, NULL, "API key created:", arg);
	obj = apikey_json(&k);
	sec = json_string(secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	json_object_set_new(obj, "secret", sec);
	/* the answer's copy of the secret is wiped once it is sent */
	json_incref(obj);
	http_reply_json(a->req, 201, obj);
	if (json_is_string(sec))
		OPENSSL_cleanse((char *)json_string_value(sec), json_string_length(sec));
	json_decref(obj);
}

/* DELETE /v1/apikeys/{apikey}: revoke it; 200 with the key as it is now. */
void
admin_apikey_revoke(struct areq *a)
{
	struct store_apikey k;
	char why[160];
	int rc;

	if (!token_keyid_valid(a->param, strlen(a->param))) {
		http_reply_error(a->req, 400, "bad_request", "not a key id");
		return;
	}
	rc = store_apikey_revoke(a->w->store, a->param, clock_now_ms());
	if (rc == 0)
		rc = store_apikey_get(a->w->store, a->param, &k);
	if (rc != 0) {
		snprintf(why, sizeof(why), rc == ZTP_ENOENT ? "no API key %s" :
		    rc == ZTP_EEXIST ? "API key %s is revoked already" :
		    rc == ZTP_ECONFLICT ? "API key %s is the last all-owners key in force: "
					  "create another first" : "API key %s cannot be revoked",
		    a->param);
		admin_reply_rc(a, rc, why);
		return;
	}
	admin_changed_dev(a, k.owner, NULL, "API key revoked:", k.key_id);
	http_reply_json(a->req, 200, apikey_json(&k));
}
