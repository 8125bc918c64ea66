/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's certificate tables (schema 4): allowlist, one-time enrolment
 * passwords, manufacturer CAs, devices ("things"), issued certificates
 * with their revocations, and the published CRL. Same connection and
 * helpers as the other domains (store_int.h); every change is one
 * transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "clock.h"
#include "store.h"
#include "store_int.h"
#include "udid.h"
#include "ztp/err.h"

#define PASSWORD_CANDIDATES 16 /* newest passwords of a UDID tried */

enum xstmt_id {
	X_ALLOW_INSERT,
	X_ALLOW_GET,
	X_ALLOW_DELETE,
	X_ALLOW_LIST,
	X_PW_INSERT,
	X_PW_CANDIDATES,
	X_PW_USE,
	X_MFR_INSERT,
	X_MFR_DELETE,
	X_MFR_LIST,
	X_COUNTER_GET,
	X_COUNTER_BUMP,
	X_THING_GET,
	X_THING_LIST,
	X_THING_UPSERT,
	X_THING_BLOCKED,
	X_THING_FROM_ALLOW,
	X_THING_SET_BLOCKED,
	X_THING_REVOKE_CERTS,
	X_THING_SIMS_BLOCK,
	X_THING_SIMS_UNBLOCK,
	X_CERT_RENEWABLE,
	X_CERT_INSERT,
	X_CERT_COUNT_SINCE,
	X_CERT_NTH_SINCE,
	X_CERT_GET,
	X_CERT_LIST,
	X_CERT_REVOKE,
	X_CERT_REVOKED_LIST,
	X_CRL_GET,
	X_CRL_PUT,
	X_GROUP_EXISTS,
	X__COUNT
};

_Static_assert(X__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

static const char *const xsql[X__COUNT] = {
	[X_ALLOW_INSERT] = "INSERT INTO allowlist(udid, key_sha256, group_name, iccid, created_at)"
			   " VALUES(?1, ?2, ?3, ?4, ?5)",
	[X_ALLOW_GET] = "SELECT udid, key_sha256, group_name, iccid, created_at FROM allowlist"
			" WHERE udid = ?1",
	[X_ALLOW_DELETE] = "DELETE FROM allowlist WHERE udid = ?1",
	[X_ALLOW_LIST] = "SELECT udid, key_sha256, group_name, iccid, created_at FROM allowlist"
			 " WHERE udid > ?1 ORDER BY udid LIMIT ?2",
	[X_PW_INSERT] = "INSERT INTO enrol_passwords(udid, salt, hash, group_name, created_at,"
			" expires_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
	[X_PW_CANDIDATES] = "SELECT id, salt, hash, group_name, created_at, expires_at, used_at"
			    " FROM enrol_passwords WHERE udid = ?1 ORDER BY id DESC LIMIT ?2",
	[X_PW_USE] = "UPDATE enrol_passwords SET used_at = ?2 WHERE id = ?1 AND used_at = 0",
	[X_MFR_INSERT] = "INSERT INTO mfr_cas(name, pem, sha256, group_name, created_at)"
			 " VALUES(?1, ?2, ?3, ?4, ?5)",
	[X_MFR_DELETE] = "DELETE FROM mfr_cas WHERE name = ?1",
	[X_MFR_LIST] = "SELECT name, pem, sha256, group_name, created_at FROM mfr_cas ORDER BY name",
	[X_COUNTER_GET] = "SELECT value FROM counters WHERE name = ?1",
	[X_COUNTER_BUMP] = "UPDATE counters SET value = value + 1 WHERE name = ?1",
	[X_THING_GET] = "SELECT udid, group_name, iccid, blocked, created_at, updated_at,"
			" (SELECT count(*) FROM certs WHERE certs.udid = things.udid),"
			" (SELECT serial FROM certs WHERE certs.udid = things.udid"
			"  ORDER BY issued_at DESC, serial DESC LIMIT 1)"
			" FROM things WHERE udid = ?1",
	[X_THING_LIST] = "SELECT udid, group_name, iccid, blocked, created_at, updated_at,"
			 " (SELECT count(*) FROM certs WHERE certs.udid = things.udid),"
			 " (SELECT serial FROM certs WHERE certs.udid = things.udid"
			 "  ORDER BY issued_at DESC, serial DESC LIMIT 1)"
			 " FROM things WHERE udid > ?1 ORDER BY udid LIMIT ?2",
	[X_THING_UPSERT] = "INSERT INTO things(udid, group_name, iccid, blocked, created_at, updated_at)"
			   " VALUES(?1, ?2, (SELECT iccid FROM allowlist WHERE udid = ?1), 0, ?3, ?3)"
			   " ON CONFLICT(udid) DO UPDATE SET group_name = excluded.group_name,"
			   " iccid = coalesce(excluded.iccid, things.iccid),"
			   " updated_at = excluded.updated_at",
	[X_THING_BLOCKED] = "SELECT blocked FROM things WHERE udid = ?1",
	[X_THING_FROM_ALLOW] = "INSERT INTO things(udid, group_name, iccid, blocked, created_at,"
			       " updated_at) SELECT udid, group_name, iccid, 0, ?2, ?2 FROM allowlist"
			       " WHERE udid = ?1",
	[X_THING_SET_BLOCKED] = "UPDATE things SET blocked = ?2, updated_at = ?3 WHERE udid = ?1",
	[X_THING_REVOKE_CERTS] = "UPDATE certs SET revoked_at = ?2, reason = ?3"
				 " WHERE udid = ?1 AND revoked_at = 0",
	[X_THING_SIMS_BLOCK] = "UPDATE sims SET blocked = 1, blocked_by = ?1, updated_at = ?2"
			       " WHERE blocked = 0 AND (iccid IN (SELECT iccid FROM things"
			       " WHERE udid = ?1 AND iccid IS NOT NULL UNION SELECT iccid FROM allowlist"
			       " WHERE udid = ?1 AND iccid IS NOT NULL) OR upper(device_id) = upper(?1))",
	[X_THING_SIMS_UNBLOCK] = "UPDATE sims SET blocked = 0, blocked_by = NULL, updated_at = ?2"
				 " WHERE blocked_by = ?1",
	[X_CERT_RENEWABLE] = "SELECT 1 FROM certs WHERE serial = ?1 AND revoked_at = 0",
	[X_CERT_INSERT] = "INSERT INTO certs(serial, udid, subject, key_sha256, not_before, not_after,"
			  " issued_at, method) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	/* both read the index certs_udid(udid, issued_at) alone */
	[X_CERT_COUNT_SINCE] = "SELECT count(*) FROM certs WHERE udid = ?1 AND issued_at > ?2",
	[X_CERT_NTH_SINCE] = "SELECT issued_at FROM certs WHERE udid = ?1 AND issued_at > ?2"
			     " ORDER BY issued_at LIMIT 1 OFFSET ?3",
	[X_CERT_GET] = "SELECT serial, udid, subject, key_sha256, not_before, not_after, issued_at,"
		       " method, revoked_at, reason FROM certs WHERE serial = ?1",
	[X_CERT_LIST] = "SELECT serial, udid, subject, key_sha256, not_before, not_after, issued_at,"
			" method, revoked_at, reason FROM certs WHERE serial > ?1"
			" AND (?2 = '' OR udid = ?2) ORDER BY serial LIMIT ?3",
	[X_CERT_REVOKE] = "UPDATE certs SET revoked_at = ?2, reason = ?3"
			  " WHERE serial = ?1 AND revoked_at = 0",
	[X_CERT_REVOKED_LIST] = "SELECT serial, udid, subject, key_sha256, not_before, not_after,"
				" issued_at, method, revoked_at, reason FROM certs"
				" WHERE revoked_at > 0 AND not_after > ?1 ORDER BY serial",
	[X_CRL_GET] = "SELECT number, this_update, next_update, revocations, der FROM crl WHERE id = 1",
	[X_CRL_PUT] = "INSERT INTO crl(id, number, this_update, next_update, revocations, der)"
		      " VALUES(1, ?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO UPDATE SET"
		      " number = excluded.number, this_update = excluded.this_update,"
		      " next_update = excluded.next_update, revocations = excluded.revocations,"
		      " der = excluded.der WHERE excluded.number > crl.number",
	[X_GROUP_EXISTS] = "SELECT 1 FROM groups WHERE name = ?1",
};

static struct store_stmt *
xprep(struct store *st, enum xstmt_id id)
{
	return store_prep(st, STORE_M_EST, (int)id, xsql[id]);
}

int
store_udid_valid(const char *udid)
{
	_Static_assert(STORE_UDID_MAX == UDID_MAX, "store_udid_valid() is udid_valid()");
	return udid != NULL && udid_valid(udid, strlen(udid));
}

static int
group_check(struct store *st, const char *group)
{
	struct store_stmt *s;

	if (group == NULL || group[0] == '\0')
		return 0;
	if (!store_group_name_valid(group))
		return ZTP_EINVAL;
	if ((s = xprep(st, X_GROUP_EXISTS)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, group);
	if (store_step_row(st, s, "group exists") != 0)
		return ZTP_ENOENT;
	store_reset(s);
	return 0;
}

static int
counter_bump(struct store *st, const char *name)
{
	struct store_stmt *s = xprep(st, X_COUNTER_BUMP);

	if (s == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	return store_exec(st, s);
}

static int
counter_get(struct store *st, const char *name, int64_t *value)
{
	struct store_stmt *s = xprep(st, X_COUNTER_GET);
	int rc;

	if (s == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	if ((rc = store_step_row(st, s, "counter")) != 0)
		return rc == ZTP_ENOENT ? ZTP_ESTORE : rc;
	*value = store_col_int64(s, 0);
	store_reset(s);
	return 0;
}

static void
col_blob32(struct store_stmt *s, int col, uint8_t out[32])
{
	memset(out, 0, 32);
	if (store_col_bytes(s, col) == 32)
		memcpy(out, store_col_blob(s, col), 32);
}

/*
 * The end of a loop over rows: rc is store_step()'s last answer, stop
 * the callback's (0: it did not stop the loop; > 0: it stopped it, which
 * is no error; < 0: its error code).
 */
static int
rows_end(struct store *st, int rc, int stop, const char *what)
{
	if (stop != 0)
		return stop < 0 ? stop : 0;
	return rc == STORE_DONE ? 0 : store_db_err(st, what);
}

/* ---- allowlist ---- */

static void
row_allow(struct store_stmt *s, struct store_allow *a)
{
	memset(a, 0, sizeof(*a));
	store_col_text(s, 0, a->udid, sizeof(a->udid));
	col_blob32(s, 1, a->key_sha256);
	store_col_text(s, 2, a->group, sizeof(a->group));
	store_col_text(s, 3, a->iccid, sizeof(a->iccid));
	a->created_at = store_col_int64(s, 4);
}

static int
allow_valid(const struct store_allow *a)
{
	return store_udid_valid(a->udid) &&
	    (a->iccid[0] == '\0' || iccid_valid(a->iccid, strlen(a->iccid)));
}

/* Inside a transaction or not: add one entry, or find the same one. */
static int
allow_add(struct store *st, const struct store_allow *a, int *added)
{
	struct store_allow old;
	struct store_stmt *s;
	int rc;

	*added = 0;
	if (!allow_valid(a))
		return ZTP_EINVAL;
	if ((rc = group_check(st, a->group)) != 0)
		return rc;
	rc = store_allow_get(st, a->udid, &old);
	if (rc == 0)
		return memcmp(old.key_sha256, a->key_sha256, 32) == 0 &&
			strcmp(old.group, a->group) == 0 && strcmp(old.iccid, a->iccid) == 0 ?
		    0 : ZTP_EEXIST;
	if (rc != ZTP_ENOENT)
		return rc;
	if ((s = xprep(st, X_ALLOW_INSERT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, a->udid);
	store_bind_blob(s, 2, a->key_sha256, 32);
	store_bind_opt_text(s, 3, a->group);
	store_bind_opt_text(s, 4, a->iccid);
	store_bind_int64(s, 5, clock_now_ms());
	if ((rc = store_exec(st, s)) == 0)
		*added = 1;
	return rc;
}

int
store_allow_add(struct store *st, const struct store_allow *a)
{
	int added;

	return allow_add(st, a, &added);
}

int
store_allow_get(struct store *st, const char *udid, struct store_allow *out)
{
	struct store_stmt *s;
	int rc;

	if ((s = xprep(st, X_ALLOW_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	if ((rc = store_step_row(st, s, "allowlist get")) != 0)
		return rc;
	row_allow(s, out);
	store_reset(s);
	return 0;
}

int
store_allow_delete(struct store *st, const char *udid)
{
	struct store_stmt *s;
	int rc;

	if ((s = xprep(st, X_ALLOW_DELETE)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	if ((rc = store_exec(st, s)) != 0)
		return rc;
	return store_changes(st) == 1 ? 0 : ZTP_ENOENT;
}

int
store_allow_list(struct store *st, const char *after, int limit, store_allow_cb cb, void *arg)
{
	struct store_allow a;
	struct store_stmt *s;
	int rc, stop = 0;

	if ((s = xprep(st, X_ALLOW_LIST)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, after ? after : "");
	store_bind_int64(s, 2, limit);
	while ((rc = store_step(s)) == STORE_ROW) {
		row_allow(s, &a);
		if ((stop = cb(&a, arg)) != 0)
			break;
	}
	rc = rows_end(st, rc, stop, "allowlist list");
	store_reset(s);
	return rc;
}

static void
refuse(struct store_import_result *res, size_t index, const char *why)
{
	res->refused[res->nrefused].index = index;
	snprintf(res->refused[res->nrefused].why, sizeof(res->refused[0].why), "%s", why);
	res->nrefused++;
}

int
store_allow_import(struct store *st, const struct store_allow_row *rows, size_t n,
    struct store_import_result *res)
{
	size_t i;
	int rc, added;

	memset(res, 0, sizeof(*res));
	if (n > STORE_IMPORT_BATCH_MAX)
		return ZTP_ETOOBIG;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		if (rows[i].invalid[0] != '\0') {
			refuse(res, i, rows[i].invalid);
			continue;
		}
		switch (allow_add(st, &rows[i].a, &added)) {
		case 0:
			if (added)
				res->added++;
			else
				res->unchanged++;
			break;
		case ZTP_EEXIST:
			refuse(res, i, "the UDID has another allowlist entry");
			break;
		case ZTP_ENOENT:
			refuse(res, i, "no such group");
			break;
		case ZTP_EINVAL:
			refuse(res, i, "invalid UDID, ICCID or group name");
			break;
		default:
			rc = ZTP_ESTORE;
		}
	}
	rc = store_tx_end(st, rc);
	if (rc != 0)
		memset(res, 0, sizeof(*res));
	return rc;
}

/* ---- one-time enrolment passwords ---- */

int
store_password_create(struct store *st, const char *udid, const char *group,
    const char *password, int64_t expires_at, struct store_password *out)
{
	uint8_t salt[STORE_SALT_LEN], hash[STORE_HASH_LEN];
	struct store_stmt *s;
	int64_t now = clock_now_ms(), id;
	int rc;

	if (!store_udid_valid(udid) || password == NULL || password[0] == '\0' ||
	    strlen(password) > STORE_PASSWORD_MAX || expires_at <= now)
		return ZTP_EINVAL;
	if ((rc = group_check(st, group)) != 0)
		return rc;
	if ((rc = store_secret_hash(password, salt, hash)) != 0)
		return rc;
	if ((s = xprep(st, X_PW_INSERT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_blob(s, 2, salt, sizeof(salt));
	store_bind_blob(s, 3, hash, sizeof(hash));
	store_bind_opt_text(s, 4, group);
	store_bind_int64(s, 5, now);
	store_bind_int64(s, 6, expires_at);
	if ((rc = store_exec_id(st, s, &id)) != 0)
		return rc;
	if (out != NULL) {
		memset(out, 0, sizeof(*out));
		out->id = id;
		snprintf(out->udid, sizeof(out->udid), "%s", udid);
		snprintf(out->group, sizeof(out->group), "%s", group ? group : "");
		out->created_at = now;
		out->expires_at = expires_at;
	}
	return 0;
}

/*
 * The one-time password rules for a candidate that matches, newest first:
 * 0 if it may be used now; else what the check answers if no older one
 * may: a used one (ZTP_ECONFLICT) outweighs an expired one (ZTP_EEXPIRED).
 * A used password does not end the search: a newer identical one could
 * still be unused.
 */
static int
password_rule(int found, int64_t used_at, int64_t expires_at, int64_t now)
{
	if (used_at != 0)
		return ZTP_ECONFLICT;
	if (expires_at <= now)
		return found == ZTP_EAUTH ? ZTP_EEXPIRED : found;
	return 0;
}

int
store_password_check(struct store *st, const char *udid, const char *password,
    struct store_password *out)
{
	struct store_stmt *s;
	int64_t now = clock_now_ms();
	int rc, r, found = ZTP_EAUTH;

	if (!store_udid_valid(udid) || password == NULL || strlen(password) > STORE_PASSWORD_MAX)
		return ZTP_EAUTH;
	if ((s = xprep(st, X_PW_CANDIDATES)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, PASSWORD_CANDIDATES);
	while ((rc = store_step(s)) == STORE_ROW) {
		if (!store_secret_matches(store_col_blob(s, 1), store_col_bytes(s, 1),
			store_col_blob(s, 2), store_col_bytes(s, 2), password))
			continue;
		if ((r = password_rule(found, store_col_int64(s, 6), store_col_int64(s, 5),
			 now)) != 0) {
			found = r;
			continue;
		}
		if (out != NULL) {
			memset(out, 0, sizeof(*out));
			out->id = store_col_int64(s, 0);
			snprintf(out->udid, sizeof(out->udid), "%s", udid);
			store_col_text(s, 3, out->group, sizeof(out->group));
			out->created_at = store_col_int64(s, 4);
			out->expires_at = store_col_int64(s, 5);
		}
		found = 0;
		break;
	}
	if (rc != STORE_ROW && rc != STORE_DONE)
		found = store_db_err(st, "password check");
	store_reset(s);
	return found;
}

/* ---- manufacturer CAs ---- */

int
store_mfr_ca_add(struct store *st, const struct store_mfr_ca *ca)
{
	struct store_stmt *s;
	int rc;

	if (!store_group_name_valid(ca->name) || ca->pem[0] == '\0' ||
	    strnlen(ca->pem, sizeof(ca->pem)) >= sizeof(ca->pem))
		return ZTP_EINVAL;
	if ((rc = group_check(st, ca->group)) != 0)
		return rc;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((s = xprep(st, X_MFR_INSERT)) == NULL) {
		rc = ZTP_ESTORE;
	} else {
		store_bind_text(s, 1, ca->name);
		store_bind_text(s, 2, ca->pem);
		store_bind_blob(s, 3, ca->sha256, 32);
		store_bind_opt_text(s, 4, ca->group);
		store_bind_int64(s, 5, clock_now_ms());
		rc = store_exec(st, s);
	}
	if (rc == 0)
		rc = counter_bump(st, "mfr_cas");
	return store_tx_end(st, rc);
}

int
store_mfr_ca_delete(struct store *st, const char *name)
{
	struct store_stmt *s;
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((s = xprep(st, X_MFR_DELETE)) == NULL) {
		rc = ZTP_ESTORE;
	} else {
		store_bind_text(s, 1, name);
		if ((rc = store_exec(st, s)) == 0 && store_changes(st) != 1)
			rc = ZTP_ENOENT;
	}
	if (rc == 0)
		rc = counter_bump(st, "mfr_cas");
	return store_tx_end(st, rc);
}

int
store_mfr_ca_list(struct store *st, store_mfr_ca_cb cb, void *arg)
{
	struct store_mfr_ca *ca;
	struct store_stmt *s;
	int rc, stop = 0;

	if ((ca = malloc(sizeof(*ca))) == NULL)
		return ZTP_ENOMEM;
	if ((s = xprep(st, X_MFR_LIST)) == NULL) {
		free(ca);
		return ZTP_ESTORE;
	}
	while ((rc = store_step(s)) == STORE_ROW) {
		memset(ca, 0, sizeof(*ca));
		store_col_text(s, 0, ca->name, sizeof(ca->name));
		store_col_text(s, 1, ca->pem, sizeof(ca->pem));
		col_blob32(s, 2, ca->sha256);
		store_col_text(s, 3, ca->group, sizeof(ca->group));
		ca->created_at = store_col_int64(s, 4);
		if ((stop = cb(ca, arg)) != 0)
			break;
	}
	rc = rows_end(st, rc, stop, "manufacturer CA list");
	store_reset(s);
	free(ca);
	return rc;
}

int
store_mfr_ca_generation(struct store *st, int64_t *gen)
{
	return counter_get(st, "mfr_cas", gen);
}

/* ---- devices ---- */

static void
row_thing(struct store_stmt *s, struct store_thing *t)
{
	memset(t, 0, sizeof(*t));
	store_col_text(s, 0, t->udid, sizeof(t->udid));
	store_col_text(s, 1, t->group, sizeof(t->group));
	store_col_text(s, 2, t->iccid, sizeof(t->iccid));
	t->blocked = store_col_int(s, 3);
	t->created_at = store_col_int64(s, 4);
	t->updated_at = store_col_int64(s, 5);
	t->certs = store_col_int64(s, 6);
	store_col_text(s, 7, t->serial, sizeof(t->serial));
}

int
store_thing_get(struct store *st, const char *udid, struct store_thing *out)
{
	struct store_stmt *s;
	int rc;

	if ((s = xprep(st, X_THING_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	if ((rc = store_step_row(st, s, "device get")) != 0)
		return rc;
	row_thing(s, out);
	store_reset(s);
	return 0;
}

int
store_thing_list(struct store *st, const char *after, int limit, store_thing_cb cb, void *arg)
{
	struct store_thing t;
	struct store_stmt *s;
	int rc, stop = 0;

	if ((s = xprep(st, X_THING_LIST)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, after ? after : "");
	store_bind_int64(s, 2, limit);
	while ((rc = store_step(s)) == STORE_ROW) {
		row_thing(s, &t);
		if ((stop = cb(&t, arg)) != 0)
			break;
	}
	rc = rows_end(st, rc, stop, "device list");
	store_reset(s);
	return rc;
}

static int
thing_set_blocked(struct store *st, const char *udid, int blocked, int reason, int *revoked)
{
	int64_t now = clock_now_ms();
	struct store_stmt *s;
	int rc, n = 0;

	if ((s = xprep(st, X_THING_SET_BLOCKED)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, blocked);
	store_bind_int64(s, 3, now);
	if ((rc = store_exec(st, s)) != 0)
		return rc;
	if (store_changes(st) == 0) {
		/* no record yet: one from the allowlist entry, if there is one */
		if (!blocked)
			return ZTP_ENOENT;
		if ((s = xprep(st, X_THING_FROM_ALLOW)) == NULL)
			return ZTP_ESTORE;
		store_bind_text(s, 1, udid);
		store_bind_int64(s, 2, now);
		if ((rc = store_exec(st, s)) != 0)
			return rc;
		if (store_changes(st) == 0)
			return ZTP_ENOENT;
		return thing_set_blocked(st, udid, blocked, reason, revoked);
	}
	if (blocked) {
		if ((s = xprep(st, X_THING_REVOKE_CERTS)) == NULL)
			return ZTP_ESTORE;
		store_bind_text(s, 1, udid);
		store_bind_int64(s, 2, now / 1000);
		store_bind_int64(s, 3, reason);
		if ((rc = store_exec(st, s)) != 0)
			return rc;
		if ((n = store_changes(st)) > 0 && (rc = counter_bump(st, "revocations")) != 0)
			return rc;
	}
	if ((s = xprep(st, blocked ? X_THING_SIMS_BLOCK : X_THING_SIMS_UNBLOCK)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, now);
	if ((rc = store_exec(st, s)) != 0)
		return rc;
	if (revoked != NULL)
		*revoked = n;
	return 0;
}

int
store_thing_block(struct store *st, const char *udid, int reason, int *revoked)
{
	int rc;

	if (!store_udid_valid(udid))
		return ZTP_EINVAL;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	return store_tx_end(st, thing_set_blocked(st, udid, 1, reason, revoked));
}

int
store_thing_unblock(struct store *st, const char *udid)
{
	int rc;

	if (!store_udid_valid(udid))
		return ZTP_EINVAL;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	return store_tx_end(st, thing_set_blocked(st, udid, 0, 0, NULL));
}

/* ---- certificates ---- */

static void
row_cert(struct store_stmt *s, struct store_cert *c)
{
	memset(c, 0, sizeof(*c));
	store_col_text(s, 0, c->serial, sizeof(c->serial));
	store_col_text(s, 1, c->udid, sizeof(c->udid));
	store_col_text(s, 2, c->subject, sizeof(c->subject));
	col_blob32(s, 3, c->key_sha256);
	c->not_before = store_col_int64(s, 4);
	c->not_after = store_col_int64(s, 5);
	c->issued_at = store_col_int64(s, 6);
	store_col_text(s, 7, c->method, sizeof(c->method));
	c->revoked_at = store_col_int64(s, 8);
	c->reason = store_col_int(s, 9);
}

int
store_cert_count_since(struct store *st, const char *udid, int64_t since, int max,
    int64_t *count, int64_t *frees_at)
{
	struct store_stmt *s;
	int rc;

	*count = 0;
	*frees_at = 0;
	if (!store_udid_valid(udid) || max < 0)
		return ZTP_EINVAL;
	if ((s = xprep(st, X_CERT_COUNT_SINCE)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, since);
	if ((rc = store_step_row(st, s, "cert count")) != 0)
		return rc == ZTP_ENOENT ? ZTP_ESTORE : rc;
	*count = store_col_int64(s, 0);
	store_reset(s);
	if (max == 0 || *count < max)
		return 0;
	/* the (count - max + 1)-th oldest: while it is in the window, count stays >= max */
	if ((s = xprep(st, X_CERT_NTH_SINCE)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, since);
	store_bind_int64(s, 3, *count - max);
	rc = store_step_row(st, s, "cert window");
	if (rc == 0)
		*frees_at = store_col_int64(s, 0);
	store_reset(s);
	return rc == ZTP_ENOENT ? 0 : rc; /* removed meanwhile (another connection): 0 */
}

static int
cert_record(struct store *st, const struct store_cert *c, const char *group, int64_t password_id)
{
	int64_t now = clock_now_ms(), n, frees_at;
	struct store_stmt *s;
	int rc;

	if (c->per_window_max > 0) {
		/*
		 * The caller counted before it had the certificate signed; counted
		 * again here, where no other recorder can come between the count
		 * and the insert (BEGIN IMMEDIATE).
		 */
		if ((rc = store_cert_count_since(st, c->udid, now - STORE_CERT_WINDOW_MS, 0, &n,
			 &frees_at)) != 0)
			return rc;
		if (n >= c->per_window_max)
			return ZTP_EBUSY;
	}
	if (password_id > 0) {
		if ((s = xprep(st, X_PW_USE)) == NULL)
			return ZTP_ESTORE;
		store_bind_int64(s, 1, password_id);
		store_bind_int64(s, 2, now);
		if ((rc = store_exec(st, s)) != 0)
			return rc;
		if (store_changes(st) != 1)
			return ZTP_ECONFLICT;
	}
	if ((s = xprep(st, X_THING_BLOCKED)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, c->udid);
	rc = store_step_row(st, s, "device blocked");
	if (rc == 0) {
		int blocked = store_col_int(s, 0);
		store_reset(s);
		if (blocked)
			return ZTP_EAUTH;
	} else if (rc != ZTP_ENOENT) {
		return rc;
	}
	if (c->renews[0] != '\0') {
		if ((s = xprep(st, X_CERT_RENEWABLE)) == NULL)
			return ZTP_ESTORE;
		store_bind_text(s, 1, c->renews);
		if ((rc = store_step_row(st, s, "cert renewable")) != 0)
			return rc == ZTP_ENOENT ? ZTP_EAUTH : rc;
		store_reset(s);
	}
	if ((s = xprep(st, X_THING_UPSERT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, c->udid);
	store_bind_opt_text(s, 2, group);
	store_bind_int64(s, 3, now);
	if ((rc = store_exec(st, s)) != 0)
		return rc;
	if ((s = xprep(st, X_CERT_INSERT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, c->serial);
	store_bind_text(s, 2, c->udid);
	store_bind_text(s, 3, c->subject);
	store_bind_blob(s, 4, c->key_sha256, 32);
	store_bind_int64(s, 5, c->not_before);
	store_bind_int64(s, 6, c->not_after);
	store_bind_int64(s, 7, now);
	store_bind_text(s, 8, c->method);
	return store_exec(st, s);
}

int
store_cert_record(struct store *st, const struct store_cert *c, const char *group,
    int64_t password_id)
{
	int rc;

	if (!store_udid_valid(c->udid) || c->serial[0] == '\0' || c->method[0] == '\0')
		return ZTP_EINVAL;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	return store_tx_end(st, cert_record(st, c, group, password_id));
}

int
store_cert_get(struct store *st, const char *serial, struct store_cert *out)
{
	struct store_stmt *s;
	int rc;

	if ((s = xprep(st, X_CERT_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, serial);
	if ((rc = store_step_row(st, s, "cert get")) != 0)
		return rc;
	row_cert(s, out);
	store_reset(s);
	return 0;
}

static int
cert_rows(struct store *st, struct store_stmt *s, store_cert_cb cb, void *arg, const char *what)
{
	struct store_cert c;
	int rc, stop = 0;

	while ((rc = store_step(s)) == STORE_ROW) {
		row_cert(s, &c);
		if ((stop = cb(&c, arg)) != 0)
			break;
	}
	rc = rows_end(st, rc, stop, what);
	store_reset(s);
	return rc;
}

int
store_cert_list(struct store *st, const char *udid, const char *after, int limit,
    store_cert_cb cb, void *arg)
{
	struct store_stmt *s;

	if ((s = xprep(st, X_CERT_LIST)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, after ? after : "");
	store_bind_text(s, 2, udid ? udid : "");
	store_bind_int64(s, 3, limit);
	return cert_rows(st, s, cb, arg, "cert list");
}

int
store_cert_revoke(struct store *st, const char *serial, int reason)
{
	struct store_cert c;
	struct store_stmt *s;
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((rc = store_cert_get(st, serial, &c)) == 0 && c.revoked_at != 0)
		rc = ZTP_EEXIST;
	if (rc == 0 && (s = xprep(st, X_CERT_REVOKE)) == NULL)
		rc = ZTP_ESTORE;
	if (rc == 0) {
		store_bind_text(s, 1, serial);
		store_bind_int64(s, 2, clock_now_ms() / 1000);
		store_bind_int64(s, 3, reason);
		rc = store_exec(st, s);
	}
	if (rc == 0)
		rc = counter_bump(st, "revocations");
	return store_tx_end(st, rc);
}

int
store_cert_is_revoked(struct store *st, const char *serial, int *reason)
{
	struct store_cert c;
	int rc = store_cert_get(st, serial, &c);

	if (rc == ZTP_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (c.revoked_at == 0)
		return 0;
	if (reason != NULL)
		*reason = c.reason;
	return 1;
}

int
store_cert_revoked_list(struct store *st, int64_t now, store_cert_cb cb, void *arg)
{
	struct store_stmt *s;

	if ((s = xprep(st, X_CERT_REVOKED_LIST)) == NULL)
		return ZTP_ESTORE;
	store_bind_int64(s, 1, now);
	return cert_rows(st, s, cb, arg, "revoked list");
}

/* ---- the CRL ---- */

int
store_crl_get(struct store *st, struct store_crl *out)
{
	struct store_stmt *s;
	int rc, n;

	memset(out, 0, sizeof(*out));
	if ((s = xprep(st, X_CRL_GET)) == NULL)
		return ZTP_ESTORE;
	if ((rc = store_step_row(st, s, "crl get")) != 0)
		return rc;
	out->number = (uint64_t)store_col_int64(s, 0);
	out->this_update = store_col_int64(s, 1);
	out->next_update = store_col_int64(s, 2);
	out->revocations = store_col_int64(s, 3);
	n = store_col_bytes(s, 4);
	if (n <= 0 || (out->der = malloc((size_t)n)) == NULL) {
		store_reset(s);
		return n <= 0 ? ZTP_ESTORE : ZTP_ENOMEM;
	}
	memcpy(out->der, store_col_blob(s, 4), (size_t)n);
	out->der_len = (size_t)n;
	store_reset(s);
	return 0;
}

int
store_crl_revocations(struct store *st, int64_t *revocations)
{
	return counter_get(st, "revocations", revocations);
}

int
store_crl_next_number(struct store *st, uint64_t *number)
{
	int64_t v = 0;
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = counter_bump(st, "crl_number");
	if (rc == 0)
		rc = counter_get(st, "crl_number", &v);
	if ((rc = store_tx_end(st, rc)) == 0)
		*number = (uint64_t)v;
	return rc;
}

int
store_crl_put(struct store *st, const struct store_crl *crl)
{
	struct store_stmt *s;

	if (crl->der == NULL || crl->der_len == 0 || crl->der_len > INT32_MAX)
		return ZTP_EINVAL;
	if ((s = xprep(st, X_CRL_PUT)) == NULL)
		return ZTP_ESTORE;
	store_bind_int64(s, 1, (int64_t)crl->number);
	store_bind_int64(s, 2, crl->this_update);
	store_bind_int64(s, 3, crl->next_update);
	store_bind_int64(s, 4, crl->revocations);
	store_bind_blob(s, 5, crl->der, crl->der_len);
	return store_exec(st, s);
}
