/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's SIM groups: policy for their SIMs (PSK key exchange,
 * rotation period, certificates), proxy mode's upstream, and for a derived
 * group the master key its SIMs' PSKs come from, sealed at rest with the
 * group's name as associated data and opened only to derive.
 */
#include <string.h>


#include "clock.h"
#include "crypto.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

enum group_stmt {
	S_GROUP_INSERT,
	S_GROUP_GET,
	S_GROUP_LIST,
	S_GROUP_UPSTREAM,
	S_GROUP_DERIVED,
	S__COUNT
};

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

static const char *const group_sql[S__COUNT] = {
	[S_GROUP_INSERT] = "INSERT INTO groups(name, iccid_prefix, derive, master_key, allow_psk_ke,"
			   " rotation_period_s, created_at, est_auth, cert_days, reenroll_grace_s,"
			   " upstream, upstream_ca, upstream_cert, upstream_key)"
			   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[S_GROUP_GET] = "SELECT name, iccid_prefix, derive, allow_psk_ke, rotation_period_s, created_at,"
			" (SELECT count(*) FROM sims WHERE group_name = ?1), est_auth, cert_days,"
			" reenroll_grace_s, upstream, upstream_ca, upstream_cert, upstream_key"
			" FROM groups WHERE name = ?1",
	[S_GROUP_LIST] = "SELECT name, iccid_prefix, derive, allow_psk_ke, rotation_period_s, created_at,"
			 " (SELECT count(*) FROM sims WHERE group_name = groups.name), est_auth,"
			 " cert_days, reenroll_grace_s, upstream, upstream_ca, upstream_cert,"
			 " upstream_key FROM groups ORDER BY name",
	[S_GROUP_UPSTREAM] = "UPDATE groups SET upstream = ?2, upstream_ca = ?3, upstream_cert = ?4,"
			     " upstream_key = ?5 WHERE name = ?1",
	/* the derived group whose prefix is the longest one the ICCID starts with */
	[S_GROUP_DERIVED] = "SELECT name, master_key FROM groups WHERE derive = 1"
			    " AND substr(?1, 1, length(iccid_prefix)) = iccid_prefix"
			    " ORDER BY length(iccid_prefix) DESC LIMIT 1",
};

static struct store_stmt *
prep(struct store *st, enum group_stmt id)
{
	return store_prep(st, STORE_M_GROUP, (int)id, group_sql[id]);
}

int
store_group_name_valid(const char *name)
{
	size_t i, n = name ? strlen(name) : 0;

	if (n == 0 || n >= STORE_GROUP_SIZE)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* 1 if every field of u is NUL-terminated within its size. */
static int
upstream_valid(const struct store_upstream *u)
{
	return memchr(u->url, '\0', sizeof(u->url)) != NULL &&
	    memchr(u->ca, '\0', sizeof(u->ca)) != NULL &&
	    memchr(u->cert, '\0', sizeof(u->cert)) != NULL &&
	    memchr(u->key, '\0', sizeof(u->key)) != NULL;
}

/*
 * 1 if g may be created: a valid name, a prefix of at most ICCID_MAX_DIGITS
 * digits, a master key if it derives, known certificate methods and
 * bounds (validity up to 20 years), a valid upstream.
 */
static int
group_valid(const struct store_group *g, const uint8_t *master)
{
	const char *p;

	if (!store_group_name_valid(g->name) || strlen(g->iccid_prefix) > ICCID_MAX_DIGITS ||
	    (g->derive && master == NULL) || (g->est_auth & ~STORE_EST_ALL) != 0 ||
	    g->cert_days < 0 || g->cert_days > 7300 || g->reenroll_grace_s < -1 ||
	    !upstream_valid(&g->upstream))
		return 0;
	for (p = g->iccid_prefix; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* The four upstream columns from parameter i on; "" is NULL. */
static void
bind_upstream(struct store_stmt *s, int i, const struct store_upstream *u)
{
	store_bind_opt_text(s, i, u->url);
	store_bind_opt_text(s, i + 1, u->ca);
	store_bind_opt_text(s, i + 2, u->cert);
	store_bind_opt_text(s, i + 3, u->key);
}

int
store_group_set_upstream(struct store *st, const char *name, const struct store_upstream *u)
{
	struct store_stmt *s;

	if (!store_group_name_valid(name) || !upstream_valid(u))
		return ZTP_EINVAL;
	if ((s = prep(st, S_GROUP_UPSTREAM)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	bind_upstream(s, 2, u);
	return store_exec_row(st, s);
}

int
store_group_create(struct store *st, const struct store_group *g, const uint8_t *master)
{
	uint8_t sealed[STORE_MASTER_LEN + CRYPTO_SEAL_OVERHEAD];
	size_t sealedlen = 0;
	struct store_stmt *s;
	int rc;

	if (!group_valid(g, master))
		return ZTP_EINVAL;
	if (g->derive && (rc = store_seal(st, "master", g->name, NULL, master, STORE_MASTER_LEN,
			      sealed, sizeof(sealed), &sealedlen)) != 0)
		return rc;
	if ((s = prep(st, S_GROUP_INSERT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, g->name);
	store_bind_text(s, 2, g->iccid_prefix);
	store_bind_int64(s, 3, g->derive ? 1 : 0);
	if (g->derive)
		store_bind_blob(s, 4, sealed, sealedlen);
	store_bind_int64(s, 5, g->allow_psk_ke ? 1 : 0);
	store_bind_int64(s, 6, g->rotation_period_s);
	store_bind_int64(s, 7, clock_now_ms());
	store_bind_int64(s, 8, g->est_auth);
	store_bind_int64(s, 9, g->cert_days);
	store_bind_int64(s, 10, g->reenroll_grace_s);
	bind_upstream(s, 11, &g->upstream);
	return store_exec(st, s);
}

static void
row_group(struct store_stmt *s, struct store_group *g)
{
	memset(g, 0, sizeof(*g));
	store_col_text(s, 0, g->name, sizeof(g->name));
	store_col_text(s, 1, g->iccid_prefix, sizeof(g->iccid_prefix));
	g->derive = store_col_int(s, 2);
	g->allow_psk_ke = store_col_int(s, 3);
	g->rotation_period_s = store_col_int64(s, 4);
	g->created_at = store_col_int64(s, 5);
	g->sims = store_col_int64(s, 6);
	g->est_auth = store_col_int(s, 7);
	g->cert_days = store_col_int(s, 8);
	g->reenroll_grace_s = store_col_int64(s, 9);
	store_col_text(s, 10, g->upstream.url, sizeof(g->upstream.url));
	store_col_text(s, 11, g->upstream.ca, sizeof(g->upstream.ca));
	store_col_text(s, 12, g->upstream.cert, sizeof(g->upstream.cert));
	store_col_text(s, 13, g->upstream.key, sizeof(g->upstream.key));
}

int
store_group_get(struct store *st, const char *name, struct store_group *out)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_GROUP_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	if ((rc = store_step_row(st, s, "group get")) == 0) {
		row_group(s, out);
		store_reset(s);
	}
	return rc;
}

int
store_group_list(struct store *st, store_group_cb cb, void *arg)
{
	struct store_group g;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_GROUP_LIST)) == NULL)
		return ZTP_ESTORE;
	while ((rc = store_step(s)) == STORE_ROW) {
		row_group(s, &g);
		if ((rc = cb(&g, arg)) != 0)
			break;
	}
	rc = store_rows_end(st, rc, "group list");
	store_reset(s);
	return rc;
}

/*
 * Step S_GROUP_DERIVED for iccid; on 0 *s is on the row (name, sealed
 * master key): reset it after reading.
 */
static int
derived_row(struct store *st, const char *iccid, struct store_stmt **s)
{
	if ((*s = prep(st, S_GROUP_DERIVED)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(*s, 1, iccid);
	return store_step_row(st, *s, "group derived");
}

int
store_group_derived_name(struct store *st, const char *iccid, char group[STORE_GROUP_SIZE])
{
	struct store_stmt *s;
	int rc;

	if ((rc = derived_row(st, iccid, &s)) == 0) {
		store_col_text(s, 0, group, STORE_GROUP_SIZE);
		store_reset(s);
	}
	return rc;
}

int
store_group_derived_for(struct store *st, const char *iccid, char group[STORE_GROUP_SIZE],
    uint8_t master[STORE_MASTER_LEN])
{
	struct store_stmt *s;
	size_t len;
	int rc;

	if ((rc = derived_row(st, iccid, &s)) != 0)
		return rc;
	store_col_text(s, 0, group, STORE_GROUP_SIZE);
	rc = store_unseal(st, "master", group, NULL, store_col_blob(s, 1),
	    store_col_bytes(s, 1), master, STORE_MASTER_LEN, &len);
	if (rc == 0 && len != STORE_MASTER_LEN)
		rc = ZTP_ECRYPTO;
	if (rc != 0)
		log_warnx("store: the master key of group %s does not open", group);
	store_reset(s);
	return rc;
}
