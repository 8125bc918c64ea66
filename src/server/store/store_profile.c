/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operator's side of the module security service
 * (docs/protocol/security-service.md): device profiles (what an owner
 * seals into its modules), the import of a module maker's batch (factory
 * secrets sealed at rest as "module", <rot_uid>, "factory", the way
 * store_module.c opens them), the list of modules, their transfer,
 * release from quarantine and features, and campaigns (one change of
 * features over many devices, a row per device whose state the device
 * side moves on: pending, applied at the heartbeat that delivers it,
 * failed at quarantine).
 *
 * The rules come first in each function; the SQL is in prof_sql[]. A rule
 * that reads before it writes runs in one writing transaction.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "clock.h"
#include "crypto.h"
#include "hex.h"
#include "log.h"
#include "modmsg.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

enum prof_stmt {
	S_OWNER_EXISTS,
	S_PROF_INSERT,
	S_PROF_GET,
	S_PROF_LIST,
	S_PROF_UPDATE,
	S_MOD_LIST,
	S_MOD_TRANSFER,
	S_MOD_RELEASE,
	S_MOD_FEATURES,
	S_CAMP_INSERT,
	S_CAMP_ADD_PROFILE,
	S_CAMP_ADD_ONE,
	S_CAMP_APPLY,
	S_CAMP_COUNT,
	S_CAMP_GET,
	S_CAMP_LIST,
	S_CAMP_DEVICES,
	S__COUNT
};

/* the chunk statements of an import (store_import.c) come after the fixed ones */
_Static_assert(S__COUNT + STORE_IMPORT_STMTS <= STORE_MODULE_STMT_MAX,
    "raise STORE_MODULE_STMT_MAX");

#define PROF_COLS                                                                          \
	"uid, name, owner, features, hb_interval_s, hb_min_interval_s, created_at,"        \
	" (SELECT count(*) FROM modules WHERE profile_uid = profiles.uid)"

#define CAMP_COLS                                                                          \
	"id, owner, profile_uid, enable, disable, created_by, created_at,"                 \
	" (SELECT count(*) FROM campaign_devices d WHERE d.campaign_id = campaigns.id),"   \
	" (SELECT count(*) FROM campaign_devices d WHERE d.campaign_id = campaigns.id"     \
	" AND d.state = 0),"                                                               \
	" (SELECT count(*) FROM campaign_devices d WHERE d.campaign_id = campaigns.id"     \
	" AND d.state = 1),"                                                               \
	" (SELECT count(*) FROM campaign_devices d WHERE d.campaign_id = campaigns.id"     \
	" AND d.state = 2)"

/* what a campaign may change: bootstrapped, not in quarantine */
#define CAMP_MATCH "factory_retired = 1 AND quarantined = 0 AND (?2 = '' OR owner = ?2)"

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

static const char *const prof_sql[S__COUNT] = {
	[S_OWNER_EXISTS] = "SELECT 1 FROM owners WHERE name = ?1",
	[S_PROF_INSERT] = "INSERT INTO profiles(uid, name, owner, features, hb_interval_s,"
			  " hb_min_interval_s, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_PROF_GET] = "SELECT " PROF_COLS " FROM profiles WHERE uid = ?1",
	[S_PROF_LIST] = "SELECT " PROF_COLS " FROM profiles WHERE ?1 = '' OR owner = ?1"
			" ORDER BY owner, name",
	[S_PROF_UPDATE] = "UPDATE profiles SET features = ?2, hb_interval_s = ?3,"
			  " hb_min_interval_s = ?4 WHERE uid = ?1",
	[S_MOD_LIST] = "SELECT " STORE_MOD_COLS " FROM modules WHERE rot_uid > ?1"
		       " AND (?2 = '' OR owner = ?2) AND (?3 = '' OR profile_uid = ?3)"
		       " AND (?4 = 0 OR quarantined = 1) ORDER BY rot_uid LIMIT ?5",
	[S_MOD_TRANSFER] = "UPDATE modules SET owner = ?2, claimed_at = ?3, updated_at = ?3,"
			   " profile_uid = COALESCE(?4, profile_uid),"
			   " features = CASE WHEN CAST(?5 AS BIGINT) >= 0 THEN CAST(?5 AS BIGINT) ELSE"
			   " features END WHERE rot_uid = ?1",
	[S_MOD_RELEASE] = "UPDATE modules SET quarantined = 0, quarantine_reason = NULL,"
			  " updated_at = ?2 WHERE rot_uid = ?1 AND quarantined = 1",
	[S_MOD_FEATURES] = "UPDATE modules SET features = ?2, updated_at = ?3 WHERE rot_uid = ?1",
	[S_CAMP_INSERT] = "INSERT INTO campaigns(owner, profile_uid, enable, disable, created_by,"
			  " created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
	[S_CAMP_ADD_PROFILE] = "INSERT INTO campaign_devices(campaign_id, rot_uid, state, created_at,"
			       " updated_at) SELECT ?1, rot_uid, 0, ?4, ?4 FROM modules"
			       " WHERE profile_uid = ?3 AND " CAMP_MATCH,
	[S_CAMP_ADD_ONE] = "INSERT INTO campaign_devices(campaign_id, rot_uid, state, created_at,"
			   " updated_at) SELECT ?1, rot_uid, 0, ?4, ?4 FROM modules"
			   " WHERE rot_uid = ?3 AND " CAMP_MATCH
			   " AND NOT EXISTS (SELECT 1 FROM campaign_devices"
			   " WHERE campaign_id = ?1 AND rot_uid = ?3)",
	/* ?3: the bits that stay (~disable), so that no driver has to negate a parameter */
	[S_CAMP_APPLY] = "UPDATE modules SET features = (features | ?2) & ?3, updated_at = ?4"
			 " WHERE rot_uid IN (SELECT rot_uid FROM campaign_devices"
			 " WHERE campaign_id = ?1)",
	[S_CAMP_COUNT] = "SELECT count(*) FROM campaign_devices WHERE campaign_id = ?1",
	[S_CAMP_GET] = "SELECT " CAMP_COLS " FROM campaigns WHERE id = ?1",
	[S_CAMP_LIST] = "SELECT " CAMP_COLS " FROM campaigns WHERE id > ?2"
			" AND (?1 = '' OR owner = ?1) ORDER BY id LIMIT ?3",
	[S_CAMP_DEVICES] = "SELECT rot_uid, state, created_at, updated_at FROM campaign_devices"
			   " WHERE campaign_id = ?1 AND rot_uid > ?2 ORDER BY rot_uid LIMIT ?3",
};

static struct store_stmt *
prep(struct store *st, enum prof_stmt id)
{
	return store_prep(st, STORE_M_PROFILE, (int)id, prof_sql[id]);
}

static const char *
opt(const char *s)
{
	return s != NULL ? s : "";
}

/* 1 if s is 1..max of A-Z a-z 0-9 - . _ */
static int
name_valid(const char *s, size_t max)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

int
store_profile_name_valid(const char *name)
{
	return name_valid(name, STORE_PROFILE_NAME_MAX);
}

int
store_profile_owner_valid(const char *owner)
{
	return name_valid(owner, STORE_OWNER_MAX);
}

static int
rot_valid(const char *rot)
{
	return rot != NULL && modmsg_uid_hex_valid(rot, strlen(rot));
}

/* 0 if owner exists, ZTP_ENOENT if not. */
static int
owner_exists(struct store *st, const char *owner)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_OWNER_EXISTS)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, owner);
	if ((rc = store_step_row(st, s, "owner exists")) == 0)
		store_reset(s);
	return rc;
}

/* ---- profiles ---- */

static int
profile_values_valid(const struct store_profile *p)
{
	return (p->features & ~MODMSG_F_ALL) == 0 && p->hb_interval_s >= 1 &&
	    p->hb_interval_s <= STORE_HB_INTERVAL_MAX && p->hb_min_interval_s >= 1 &&
	    p->hb_min_interval_s <= p->hb_interval_s;
}

static void
profile_row(struct store_stmt *s, struct store_profile *p)
{
	memset(p, 0, sizeof(*p));
	store_col_text(s, 0, p->uid, sizeof(p->uid));
	store_col_text(s, 1, p->name, sizeof(p->name));
	store_col_text(s, 2, p->owner, sizeof(p->owner));
	p->features = (uint32_t)store_col_int64(s, 3);
	p->hb_interval_s = store_col_int64(s, 4);
	p->hb_min_interval_s = store_col_int64(s, 5);
	p->created_at = store_col_int64(s, 6);
	p->modules = store_col_int64(s, 7);
}

int
store_profile_create(struct store *st, struct store_profile *p)
{
	uint8_t raw[STORE_PROFILE_UID / 2];
	struct store_stmt *s;
	size_t i;
	int rc;

	if (p->hb_interval_s == 0)
		p->hb_interval_s = STORE_HB_INTERVAL_DEFAULT;
	if (p->hb_min_interval_s == 0)
		p->hb_min_interval_s = p->hb_interval_s < STORE_HB_MIN_DEFAULT ? p->hb_interval_s :
										 STORE_HB_MIN_DEFAULT;
	if (!store_profile_name_valid(p->name) || !store_profile_owner_valid(p->owner) ||
	    !profile_values_valid(p))
		return ZTP_EINVAL;
	if ((rc = crypto_random(raw, sizeof(raw))) != 0)
		return rc;
	hex_encode(raw, sizeof(raw), p->uid, sizeof(p->uid));
	for (i = 0; p->uid[i] != '\0'; i++) /* a DeviceProfileUID is lower case */
		if (p->uid[i] >= 'A' && p->uid[i] <= 'F')
			p->uid[i] = (char)(p->uid[i] - 'A' + 'a');
	p->created_at = clock_now_ms();
	p->modules = 0;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((rc = owner_exists(st, p->owner)) != 0)
		goto out;
	if ((s = prep(st, S_PROF_INSERT)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, p->uid);
	store_bind_text(s, 2, p->name);
	store_bind_text(s, 3, p->owner);
	store_bind_int64(s, 4, p->features);
	store_bind_int64(s, 5, p->hb_interval_s);
	store_bind_int64(s, 6, p->hb_min_interval_s);
	store_bind_int64(s, 7, p->created_at);
	rc = store_exec(st, s);
out:
	return store_tx_end(st, rc);
}

int
store_profile_get(struct store *st, const char *uid, struct store_profile *out)
{
	struct store_stmt *s;
	int rc;

	if (uid == NULL || !modmsg_profile_valid(uid, strlen(uid)))
		return ZTP_ENOENT;
	if ((s = prep(st, S_PROF_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, uid);
	if ((rc = store_step_row(st, s, "profile get")) == 0) {
		profile_row(s, out);
		store_reset(s);
	}
	return rc;
}

int
store_profile_list(struct store *st, const char *owner, store_profile_cb cb, void *arg)
{
	struct store_profile p;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_PROF_LIST)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, opt(owner));
	while ((rc = store_step(s)) == STORE_ROW) {
		profile_row(s, &p);
		if ((rc = cb(&p, arg)) != 0)
			break;
	}
	store_reset(s);
	return store_rows_end(st, rc, "profile list");
}

int
store_profile_update(struct store *st, const char *uid, const struct store_profile *p,
    unsigned set, struct store_profile *out)
{
	struct store_profile cur;
	struct store_stmt *s;
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((rc = store_profile_get(st, uid, &cur)) != 0)
		goto out;
	if (set & STORE_PROFILE_SET_FEATURES)
		cur.features = p->features;
	if (set & STORE_PROFILE_SET_HB)
		cur.hb_interval_s = p->hb_interval_s;
	if (set & STORE_PROFILE_SET_HB_MIN)
		cur.hb_min_interval_s = p->hb_min_interval_s;
	if (!profile_values_valid(&cur)) {
		rc = ZTP_EINVAL;
		goto out;
	}
	if ((s = prep(st, S_PROF_UPDATE)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, cur.uid);
	store_bind_int64(s, 2, cur.features);
	store_bind_int64(s, 3, cur.hb_interval_s);
	store_bind_int64(s, 4, cur.hb_min_interval_s);
	if ((rc = store_exec_row(st, s)) == 0 && out != NULL)
		*out = cur;
out:
	return store_tx_end(st, rc);
}

/* ---- modules ---- */

/* What an operator's change of a module needs it to be. */
enum mod_need { NEED_BOOTSTRAPPED, NEED_QUARANTINED };

/*
 * rot's row (never its keys) if it is as need says: 0, ZTP_ECONFLICT if it
 * is not, ZTP_ENOENT, ZTP_ESTORE.
 */
static int
mod_get(struct store *st, const char *rot, enum mod_need need, struct store_mod *out)
{
	int rc;

	if (!rot_valid(rot))
		return ZTP_ENOENT;
	if ((rc = store_module_get(st, rot, out)) != 0)
		return rc;
	if (need == NEED_BOOTSTRAPPED ? !out->factory_retired : !out->quarantined)
		return ZTP_ECONFLICT;
	return 0;
}

int
store_module_list(struct store *st, const struct store_mod_filter *f, const char *after,
    int limit, store_mod_cb cb, void *arg)
{
	struct store_mod m;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_MOD_LIST)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, opt(after));
	store_bind_text(s, 2, opt(f->owner));
	store_bind_text(s, 3, opt(f->profile));
	store_bind_int64(s, 4, f->quarantined ? 1 : 0);
	store_bind_int64(s, 5, limit);
	while ((rc = store_step(s)) == STORE_ROW) {
		store_row_module(s, &m);
		if ((rc = cb(&m, arg)) != 0)
			break;
	}
	store_reset(s);
	return store_rows_end(st, rc, "module list");
}

int
store_module_transfer(struct store *st, const char *rot, const char *owner, const char *profile,
    int64_t now)
{
	char powner[STORE_OWNER_MAX + 1];
	uint32_t features = 0, hb, hbmin;
	struct store_mod m;
	struct store_stmt *s;
	int rc, with_profile = profile != NULL && profile[0] != '\0';

	if (!store_profile_owner_valid(owner))
		return ZTP_EINVAL;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((rc = mod_get(st, rot, NEED_BOOTSTRAPPED, &m)) != 0)
		goto out;
	if ((rc = owner_exists(st, owner)) != 0) {
		rc = rc == ZTP_ENOENT ? ZTP_EINVAL : rc;
		goto out;
	}
	/* the new owner's profile: its features reach the device at its next heartbeat */
	if (with_profile) {
		rc = store_module_profile(st, profile, powner, &features, &hb, &hbmin);
		if (rc == ZTP_ENOENT || (rc == 0 && strcmp(powner, owner) != 0))
			rc = ZTP_EINVAL;
		if (rc != 0)
			goto out;
	}
	if ((s = prep(st, S_MOD_TRANSFER)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, rot);
	store_bind_text(s, 2, owner);
	store_bind_int64(s, 3, now);
	store_bind_opt_text(s, 4, with_profile ? profile : NULL);
	store_bind_int64(s, 5, with_profile ? (int64_t)features : -1);
	rc = store_exec_row(st, s);
out:
	return store_tx_end(st, rc);
}

int
store_module_release(struct store *st, const char *rot, int64_t now)
{
	struct store_mod m;
	struct store_stmt *s;
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((rc = mod_get(st, rot, NEED_QUARANTINED, &m)) != 0)
		goto out;
	if ((s = prep(st, S_MOD_RELEASE)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, rot);
	store_bind_int64(s, 2, now);
	rc = store_exec_row(st, s);
out:
	return store_tx_end(st, rc);
}

static int
change_valid(uint32_t enable, uint32_t disable)
{
	return ((enable | disable) & ~MODMSG_F_ALL) == 0 && (enable & disable) == 0;
}

int
store_module_set_features(struct store *st, const char *rot, uint32_t enable, uint32_t disable,
    int64_t now, uint32_t *features)
{
	struct store_mod m;
	struct store_stmt *s;
	uint32_t f;
	int rc;

	if (!change_valid(enable, disable))
		return ZTP_EINVAL;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((rc = mod_get(st, rot, NEED_BOOTSTRAPPED, &m)) != 0)
		goto out;
	f = (m.features | enable) & ~disable;
	if ((s = prep(st, S_MOD_FEATURES)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, rot);
	store_bind_int64(s, 2, f);
	store_bind_int64(s, 3, now);
	if ((rc = store_exec_row(st, s)) == 0 && features != NULL)
		*features = f;
out:
	return store_tx_end(st, rc);
}

/* ---- module import: store_import.c's, over the rules below ---- */

static int
batch_valid(const char *b)
{
	size_t i, n = strlen(b);

	if (n > STORE_BATCH_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (b[i] < 0x20 || b[i] > 0x7e)
			return 0;
	return 1;
}

static const char *
import_key(const void *row)
{
	return ((const struct store_mod_import_row *)row)->rot_uid;
}

static const char *
import_batch(const void *row)
{
	return ((const struct store_mod_import_row *)row)->batch;
}

static int
import_check(struct store *st, struct store_import_slot *sl, void *arg)
{
	const struct store_mod_import_row *row = sl->row;

	(void)st;
	(void)arg;
	if (row->invalid[0] != '\0')
		store_import_refuse(sl, row->invalid);
	else if (!rot_valid(row->rot_uid))
		store_import_refuse(sl, "not a RoT UID: expected 32 lower-case hex digits");
	else if (!batch_valid(row->batch))
		store_import_refuse(sl, "the batch label must be 0 to 64 printable ASCII characters");
	return 0;
}

/* A module on record whose RoT UID a slot names: the same secret (unchanged) or not (refused). */
static void
import_existing(struct store *st, struct store_import_slot *sl, const void *sealed, size_t len,
    const char *batch)
{
	const struct store_mod_import_row *row = sl->row;
	uint8_t old[STORE_MODKEY_LEN];
	size_t oldlen = 0;

	(void)batch; /* the first batch label stays */
	if (store_unseal(st, "module", row->rot_uid, "factory", sealed, len, old, sizeof(old),
		&oldlen) == 0 && oldlen == STORE_MODKEY_LEN &&
	    crypto_equal(old, row->secret, STORE_MODKEY_LEN))
		sl->state = STORE_IMPORT_SAME;
	else
		store_import_refuse(sl, "module exists with another factory secret");
	OPENSSL_cleanse(old, sizeof(old));
}

static void
import_repeat(struct store_import_slot *sl, const struct store_import_slot *earlier)
{
	const struct store_mod_import_row *row = sl->row, *e = earlier->row;

	if (crypto_equal(e->secret, row->secret, STORE_MODKEY_LEN))
		sl->state = STORE_IMPORT_SAME;
	else
		store_import_refuse(sl, "module exists with another factory secret");
}

static int
import_seal(struct store *st, struct store_import_slot *sl)
{
	const struct store_mod_import_row *row = sl->row;

	return store_seal(st, "module", row->rot_uid, "factory", row->secret, STORE_MODKEY_LEN,
	    sl->sealed, sizeof(sl->sealed), &sl->sealedlen);
}

static const struct store_import_kind module_import = {
	.m = STORE_M_PROFILE,
	.stmt0 = S__COUNT,
	.table = "modules",
	.key_col = "rot_uid",
	.sealed_col = "factory_key",
	.third_col = "batch",
	.lookup_what = "module import lookup",
	.row_size = sizeof(struct store_mod_import_row),
	.key = import_key,
	.third = import_batch,
	.third_size = STORE_BATCH_MAX + 1,
	.check = import_check,
	.existing = import_existing,
	.repeat = import_repeat,
	.seal = import_seal,
};

int
store_module_import(struct store *st, const struct store_mod_import_row *rows, size_t n,
    struct store_import_result *res)
{
	return store_import_run(st, &module_import, rows, n, NULL, res);
}

/* ---- campaigns ---- */

static void
campaign_row(struct store_stmt *s, struct store_campaign *c)
{
	memset(c, 0, sizeof(*c));
	c->id = store_col_int64(s, 0);
	store_col_text(s, 1, c->owner, sizeof(c->owner));
	store_col_text(s, 2, c->profile_uid, sizeof(c->profile_uid));
	c->enable = (uint32_t)store_col_int64(s, 3);
	c->disable = (uint32_t)store_col_int64(s, 4);
	store_col_text(s, 5, c->created_by, sizeof(c->created_by));
	c->created_at = store_col_int64(s, 6);
	c->devices = store_col_int64(s, 7);
	c->pending = store_col_int64(s, 8);
	c->applied = store_col_int64(s, 9);
	c->failed = store_col_int64(s, 10);
}

/* Bind a campaign's adding statement: ?1 id, ?2 owner ("" any), ?3 profile or RoT, ?4 now. */
static int
campaign_add(struct store *st, enum prof_stmt id, const struct store_campaign *c,
    const char *what, int64_t now)
{
	struct store_stmt *s;

	if ((s = prep(st, id)) == NULL)
		return ZTP_ESTORE;
	store_bind_int64(s, 1, c->id);
	store_bind_text(s, 2, c->owner);
	store_bind_text(s, 3, what);
	store_bind_int64(s, 4, now);
	return store_exec(st, s);
}

int
store_campaign_create(struct store *st, struct store_campaign *c, const char *const *rots,
    size_t nrots, int64_t now)
{
	struct store_profile p;
	struct store_stmt *s;
	size_t i;
	int rc;

	if (!change_valid(c->enable, c->disable) || (c->profile_uid[0] != '\0') == (nrots > 0) ||
	    nrots > STORE_CAMPAIGN_DEVICES_MAX ||
	    (c->owner[0] != '\0' && !store_profile_owner_valid(c->owner)))
		return ZTP_EINVAL;
	for (i = 0; i < nrots; i++)
		if (!rot_valid(rots[i]))
			return ZTP_EINVAL;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if (c->profile_uid[0] != '\0') {
		if ((rc = store_profile_get(st, c->profile_uid, &p)) != 0)
			goto out;
		if (c->owner[0] != '\0' && strcmp(c->owner, p.owner) != 0) {
			rc = ZTP_ENOENT;
			goto out;
		}
		/* a profile's campaign is its owner's: devices transferred away are not in it */
		snprintf(c->owner, sizeof(c->owner), "%s", p.owner);
	}
	c->created_at = now;
	if ((s = prep(st, S_CAMP_INSERT)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_opt_text(s, 1, c->owner);
	store_bind_opt_text(s, 2, c->profile_uid);
	store_bind_int64(s, 3, c->enable);
	store_bind_int64(s, 4, c->disable);
	store_bind_opt_text(s, 5, c->created_by);
	store_bind_int64(s, 6, now);
	if ((rc = store_exec_id(st, s, &c->id)) != 0)
		goto out;
	if (c->profile_uid[0] != '\0')
		rc = campaign_add(st, S_CAMP_ADD_PROFILE, c, c->profile_uid, now);
	for (i = 0; i < nrots && rc == 0; i++)
		rc = campaign_add(st, S_CAMP_ADD_ONE, c, rots[i], now);
	if (rc != 0)
		goto out;
	if ((s = prep(st, S_CAMP_APPLY)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_int64(s, 1, c->id);
	store_bind_int64(s, 2, c->enable);
	store_bind_int64(s, 3, ~c->disable & 0xFFFFFFFFu);
	store_bind_int64(s, 4, now);
	if ((rc = store_exec(st, s)) != 0)
		goto out;
	if ((s = prep(st, S_CAMP_COUNT)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_int64(s, 1, c->id);
	if ((rc = store_step_row(st, s, "campaign count")) == 0) {
		c->devices = c->pending = store_col_int64(s, 0);
		c->applied = c->failed = 0;
		store_reset(s);
	}
out:
	return store_tx_end(st, rc);
}

int
store_campaign_get(struct store *st, int64_t id, struct store_campaign *out)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_CAMP_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_int64(s, 1, id);
	if ((rc = store_step_row(st, s, "campaign get")) == 0) {
		campaign_row(s, out);
		store_reset(s);
	}
	return rc;
}

int
store_campaign_list(struct store *st, const char *owner, int64_t after, int limit,
    store_campaign_cb cb, void *arg)
{
	struct store_campaign c;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_CAMP_LIST)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, opt(owner));
	store_bind_int64(s, 2, after);
	store_bind_int64(s, 3, limit);
	while ((rc = store_step(s)) == STORE_ROW) {
		campaign_row(s, &c);
		if ((rc = cb(&c, arg)) != 0)
			break;
	}
	store_reset(s);
	return store_rows_end(st, rc, "campaign list");
}

int
store_campaign_devices(struct store *st, int64_t id, const char *after, int limit,
    store_campaign_dev_cb cb, void *arg)
{
	struct store_campaign_dev d;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_CAMP_DEVICES)) == NULL)
		return ZTP_ESTORE;
	store_bind_int64(s, 1, id);
	store_bind_text(s, 2, opt(after));
	store_bind_int64(s, 3, limit);
	while ((rc = store_step(s)) == STORE_ROW) {
		memset(&d, 0, sizeof(d));
		store_col_text(s, 0, d.rot_uid, sizeof(d.rot_uid));
		d.state = store_col_int(s, 1);
		d.created_at = store_col_int64(s, 2);
		d.updated_at = store_col_int64(s, 3);
		if ((rc = cb(&d, arg)) != 0)
			break;
	}
	store_reset(s);
	return store_rows_end(st, rc, "campaign devices");
}
