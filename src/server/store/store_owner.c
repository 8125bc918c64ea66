/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's owners (tenants): a name and when it was made. Profiles,
 * modules, campaigns, API keys and events name their owner; an owner is
 * never deleted, so that those names always mean the same tenant.
 */
#include <string.h>

#include "clock.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

enum owner_stmt {
	S_OWNER_INSERT,
	S_OWNER_GET,
	S_OWNER_LIST,
	S__COUNT
};

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

/* an owner's row with what it has: keys in force, profiles, modules */
#define OWNER_COLS                                                                        \
	"o.name, o.created_at,"                                                           \
	" (SELECT count(*) FROM api_keys k WHERE k.owner = o.name AND k.revoked_at = 0)," \
	" (SELECT count(*) FROM profiles p WHERE p.owner = o.name),"                      \
	" (SELECT count(*) FROM modules m WHERE m.owner = o.name)"

static const char *const owner_sql[S__COUNT] = {
	[S_OWNER_INSERT] = "INSERT INTO owners(name, created_at) VALUES(?1, ?2)",
	[S_OWNER_GET] = "SELECT " OWNER_COLS " FROM owners o WHERE o.name = ?1",
	[S_OWNER_LIST] = "SELECT " OWNER_COLS " FROM owners o WHERE o.name > ?1"
			 " ORDER BY o.name LIMIT ?2",
};

static struct store_stmt *
prep(struct store *st, enum owner_stmt id)
{
	return store_prep(st, STORE_M_OWNER, (int)id, owner_sql[id]);
}

int
store_owner_valid(const char *name)
{
	size_t i, len;

	if (name == NULL || (len = strlen(name)) == 0 || len > STORE_OWNER_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '.' || c == '_'))
			return 0;
	}
	return 1;
}

int
store_owner_create(struct store *st, const char *name)
{
	struct store_stmt *s;

	if (!store_owner_valid(name))
		return ZTP_EINVAL;
	if ((s = prep(st, S_OWNER_INSERT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	store_bind_int64(s, 2, clock_now_ms());
	return store_exec(st, s);
}

static void
row_owner(struct store_stmt *s, struct store_owner *o)
{
	memset(o, 0, sizeof(*o));
	store_col_text(s, 0, o->name, sizeof(o->name));
	o->created_at = store_col_int64(s, 1);
	o->keys = store_col_int64(s, 2);
	o->profiles = store_col_int64(s, 3);
	o->modules = store_col_int64(s, 4);
}

int
store_owner_get(struct store *st, const char *name, struct store_owner *out)
{
	struct store_stmt *s;
	int rc;

	if (!store_owner_valid(name))
		return ZTP_ENOENT;
	if ((s = prep(st, S_OWNER_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	if ((rc = store_step_row(st, s, "owner get")) == 0) {
		row_owner(s, out);
		store_reset(s);
	}
	return rc;
}

int
store_owner_list(struct store *st, const char *after, int limit, store_owner_cb cb, void *arg)
{
	struct store_owner o;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_OWNER_LIST)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, after != NULL ? after : "");
	store_bind_int64(s, 2, limit);
	while ((rc = store_step(s)) == STORE_ROW) {
		row_owner(s, &o);
		if ((rc = cb(&o, arg)) != 0)
			break;
	}
	rc = store_rows_end(st, rc, "owner list");
	store_reset(s);
	return rc;
}
