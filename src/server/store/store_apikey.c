/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's admin API keys: a key id and a secret, kept as a random salt
 * and the HMAC-SHA256 of the secret under it, compared in constant time;
 * a name, the owner the key acts for (NULL: all owners), and when it was
 * revoked (0: in force). A revoked key stays, so that its id is never
 * given again and the events that name it keep their meaning.
 */
#include <string.h>

#include "clock.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

enum apikey_stmt {
	S_KEY_INSERT,
	S_KEY_GET,
	S_KEY_COUNT,
	S_KEY_AUTH,
	S_KEY_ROW,
	S_KEY_LIST,
	S_KEY_REVOKE,
	S_KEY_ALL_OWNERS,
	S__COUNT
};

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

#define KEY_COLS "key_id, name, owner, created_at, revoked_at"

static const char *const apikey_sql[S__COUNT] = {
	[S_KEY_INSERT] = "INSERT INTO api_keys(key_id, salt, hash, created_at, name, owner)"
			 " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[S_KEY_GET] = "SELECT salt, hash FROM api_keys WHERE key_id = ?1",
	[S_KEY_COUNT] = "SELECT count(*) FROM api_keys",
	[S_KEY_AUTH] = "SELECT salt, hash, owner, revoked_at FROM api_keys WHERE key_id = ?1",
	[S_KEY_ROW] = "SELECT " KEY_COLS " FROM api_keys WHERE key_id = ?1",
	[S_KEY_LIST] = "SELECT " KEY_COLS " FROM api_keys WHERE key_id > ?1 ORDER BY key_id LIMIT ?2",
	[S_KEY_REVOKE] = "UPDATE api_keys SET revoked_at = ?2 WHERE key_id = ?1 AND revoked_at = 0",
	[S_KEY_ALL_OWNERS] = "SELECT count(*) FROM api_keys WHERE owner IS NULL AND revoked_at = 0"
			     " AND key_id <> ?1",
};

static struct store_stmt *
prep(struct store *st, enum apikey_stmt id)
{
	return store_prep(st, STORE_M_APIKEY, (int)id, apikey_sql[id]);
}

/* The INSERT of a key, in the caller's transaction if any. */
static int
insert_key(struct store *st, const char *key_id, const char *secret, const char *name,
    const char *owner)
{
	uint8_t salt[STORE_SALT_LEN], hash[STORE_HASH_LEN];
	struct store_stmt *s;
	int rc;

	if ((rc = store_secret_hash(secret, salt, hash)) != 0)
		return rc;
	if ((s = prep(st, S_KEY_INSERT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, key_id);
	store_bind_blob(s, 2, salt, sizeof(salt));
	store_bind_blob(s, 3, hash, sizeof(hash));
	store_bind_int64(s, 4, clock_now_ms());
	store_bind_text(s, 5, name);
	store_bind_opt_text(s, 6, owner);
	return store_exec(st, s);
}

int
store_apikey_create(struct store *st, const char *key_id, const char *secret)
{
	return insert_key(st, key_id, secret, "admin", NULL);
}

int
store_apikey_create_scoped(struct store *st, const char *key_id, const char *secret,
    const char *name, const char *owner)
{
	struct store_owner o;
	size_t idlen = key_id != NULL ? strlen(key_id) : 0;
	int rc;

	if (idlen == 0 || idlen >= STORE_KEYID_SIZE || !store_owner_valid(name) || secret == NULL ||
	    secret[0] == '\0')
		return ZTP_EINVAL;
	if (owner != NULL && owner[0] == '\0')
		owner = NULL;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	/* the owner is read in the writing transaction: it cannot go in between */
	if (owner != NULL)
		rc = store_owner_get(st, owner, &o);
	if (rc == 0)
		rc = insert_key(st, key_id, secret, name, owner);
	return store_tx_end(st, rc);
}

/*
 * The key's scope and state: 0 with owner ("" all owners) and *revoked,
 * and, with secret, whether it is the key's (*match); ZTP_ENOENT.
 */
static int
key_auth(struct store *st, const char *key_id, const char *secret, int *match,
    char owner[STORE_OWNER_MAX + 1], int *revoked)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_KEY_AUTH)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, key_id);
	if ((rc = store_step_row(st, s, "apikey get")) != 0)
		return rc;
	if (secret != NULL)
		*match = store_secret_matches(store_col_blob(s, 0), store_col_bytes(s, 0),
		    store_col_blob(s, 1), store_col_bytes(s, 1), secret);
	store_col_text(s, 2, owner, STORE_OWNER_MAX + 1);
	*revoked = store_col_int64(s, 3) != 0;
	store_reset(s);
	return 0;
}

int
store_apikey_verify_scope(struct store *st, const char *key_id, const char *secret,
    char owner[STORE_OWNER_MAX + 1])
{
	int match = 0, revoked = 1, rc;

	rc = key_auth(st, key_id, secret, &match, owner, &revoked);
	if (rc == ZTP_ENOENT || (rc == 0 && (!match || revoked)))
		rc = ZTP_EAUTH;
	if (rc != 0)
		owner[0] = '\0';
	return rc;
}

int
store_apikey_verify(struct store *st, const char *key_id, const char *secret)
{
	char owner[STORE_OWNER_MAX + 1];

	return store_apikey_verify_scope(st, key_id, secret, owner);
}

int
store_apikey_scope(struct store *st, const char *key_id, char owner[STORE_OWNER_MAX + 1])
{
	int revoked = 1, rc;

	rc = key_auth(st, key_id, NULL, NULL, owner, &revoked);
	if (rc == 0 && revoked)
		rc = ZTP_EAUTH;
	if (rc != 0)
		owner[0] = '\0';
	return rc;
}

int
store_apikey_exists(struct store *st, const char *key_id)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_KEY_GET)) == NULL)
		return 0;
	store_bind_text(s, 1, key_id);
	rc = store_step(s) == STORE_ROW;
	store_reset(s);
	return rc;
}

int
store_apikey_count(struct store *st, int *count)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_KEY_COUNT)) == NULL)
		return ZTP_ESTORE;
	rc = store_step(s);
	if (rc == STORE_ROW) {
		*count = store_col_int(s, 0);
		rc = 0;
	} else {
		rc = store_db_err(st, "apikey count");
	}
	store_reset(s);
	return rc;
}

static void
row_key(struct store_stmt *s, struct store_apikey *k)
{
	memset(k, 0, sizeof(*k));
	store_col_text(s, 0, k->key_id, sizeof(k->key_id));
	store_col_text(s, 1, k->name, sizeof(k->name));
	store_col_text(s, 2, k->owner, sizeof(k->owner));
	k->created_at = store_col_int64(s, 3);
	k->revoked_at = store_col_int64(s, 4);
}

int
store_apikey_get(struct store *st, const char *key_id, struct store_apikey *out)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_KEY_ROW)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, key_id);
	if ((rc = store_step_row(st, s, "apikey get")) == 0) {
		row_key(s, out);
		store_reset(s);
	}
	return rc;
}

int
store_apikey_list(struct store *st, const char *after, int limit, store_apikey_cb cb, void *arg)
{
	struct store_apikey k;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_KEY_LIST)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, after != NULL ? after : "");
	store_bind_int64(s, 2, limit);
	while ((rc = store_step(s)) == STORE_ROW) {
		row_key(s, &k);
		if ((rc = cb(&k, arg)) != 0)
			break;
	}
	rc = store_rows_end(st, rc, "apikey list");
	store_reset(s);
	return rc;
}

/* In the revocation's transaction: key_id may go (ZTP_ENOENT, ZTP_EEXIST, ZTP_ECONFLICT). */
static int
revoke_check(struct store *st, const char *key_id)
{
	struct store_apikey k;
	struct store_stmt *s;
	int64_t others;
	int rc;

	if ((rc = store_apikey_get(st, key_id, &k)) != 0)
		return rc;
	if (k.revoked_at != 0)
		return ZTP_EEXIST;
	if (k.owner[0] != '\0')
		return 0;
	if ((s = prep(st, S_KEY_ALL_OWNERS)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, key_id);
	if ((rc = store_step_row(st, s, "apikey count")) != 0)
		return rc;
	others = store_col_int64(s, 0);
	store_reset(s);
	return others > 0 ? 0 : ZTP_ECONFLICT;
}

int
store_apikey_revoke(struct store *st, const char *key_id, int64_t now)
{
	struct store_stmt *s;
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((rc = revoke_check(st, key_id)) == 0) {
		if ((s = prep(st, S_KEY_REVOKE)) == NULL)
			rc = ZTP_ESTORE;
		else {
			store_bind_text(s, 1, key_id);
			store_bind_int64(s, 2, now > 0 ? now : 1);
			rc = store_exec_row(st, s);
		}
	}
	return store_tx_end(st, rc);
}
