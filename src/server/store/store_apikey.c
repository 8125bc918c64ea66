/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's admin API keys: a key id and a secret, kept as a random salt
 * and the HMAC-SHA256 of the secret under it, compared in constant time.
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
	S__COUNT
};

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

static const char *const apikey_sql[S__COUNT] = {
	[S_KEY_INSERT] = "INSERT INTO api_keys(key_id, salt, hash, created_at) VALUES(?1, ?2, ?3, ?4)",
	[S_KEY_GET] = "SELECT salt, hash FROM api_keys WHERE key_id = ?1",
	[S_KEY_COUNT] = "SELECT count(*) FROM api_keys",
};

static struct store_stmt *
prep(struct store *st, enum apikey_stmt id)
{
	return store_prep(st, STORE_M_APIKEY, (int)id, apikey_sql[id]);
}

int
store_apikey_create(struct store *st, const char *key_id, const char *secret)
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
	return store_exec(st, s);
}

int
store_apikey_verify(struct store *st, const char *key_id, const char *secret)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_KEY_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, key_id);
	rc = store_step(s);
	if (rc == STORE_ROW &&
	    store_secret_matches(store_col_blob(s, 0), store_col_bytes(s, 0),
		store_col_blob(s, 1), store_col_bytes(s, 1), secret))
		rc = 0;
	else if (rc == STORE_ROW || rc == STORE_DONE)
		rc = ZTP_EAUTH;
	else
		rc = store_db_err(st, "apikey get");
	store_reset(s);
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
