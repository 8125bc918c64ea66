/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's SIMs: their rows, their PSKs sealed at rest (generation by
 * generation, the row and generation as associated data), the SIMs of
 * derived groups (no stored PSK), batch imports and PSK rotation over the
 * air. The rules come first in each function; the SQL is in sim_sql[].
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "clock.h"
#include "crypto.h"
#include "hex.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

enum sim_stmt {
	S_SIM_GET,
	S_SIM_PSK,
	S_SIM_LIST,
	S_SIM_BLOCK,
	S_SIM_REBIND,
	S_SIM_BIND,
	S_SIM_DELETE,
	S_SIM_SET_VERSION,
	S_SIM_INSERT_GROUP,
	S_SIM_PENDING_GET,
	S_SIM_PENDING_SET,
	S_SIM_COMMIT,
	S_SIM_ROTATE,
	S_SIM_GET_CONFIG,
	S__COUNT
};

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

static const char *const sim_sql[S__COUNT] = {
	[S_SIM_GET] = "SELECT iccid, blocked, device_id, psk_generation, config_version, created_at,"
		      " updated_at, group_name, length(psk) = 0, rotate, pending_psk IS NOT NULL,"
		      " rotated_at FROM sims WHERE iccid = ?1",
	[S_SIM_PSK] = "SELECT psk FROM sims WHERE iccid = ?1 AND psk_generation = ?2",
	/* S_SIM_GET's columns (SIM_GET_NCOLS), then the current configuration's, NULL if none */
	[S_SIM_GET_CONFIG] = "SELECT s.iccid, s.blocked, s.device_id, s.psk_generation, s.config_version,"
			     " s.created_at, s.updated_at, s.group_name, length(s.psk) = 0, s.rotate,"
			     " s.pending_psk IS NOT NULL, s.rotated_at,"
			     " c.iccid, c.version, c.body, c.source, c.created_at"
			     " FROM sims s LEFT JOIN configs c"
			     " ON c.iccid = s.iccid AND c.version = s.config_version WHERE s.iccid = ?1",
	[S_SIM_LIST] = "SELECT iccid, blocked, device_id, psk_generation, config_version, created_at,"
		       " updated_at, group_name, length(psk) = 0, rotate, pending_psk IS NOT NULL,"
		       " rotated_at FROM sims WHERE iccid > ?1 ORDER BY iccid LIMIT ?2",
	[S_SIM_BLOCK] = "UPDATE sims SET blocked = ?2, blocked_by = NULL, updated_at = ?3"
			" WHERE iccid = ?1",
	[S_SIM_REBIND] = "UPDATE sims SET device_id = NULL, updated_at = ?2 WHERE iccid = ?1",
	[S_SIM_BIND] = "UPDATE sims SET device_id = ?2, updated_at = ?3 WHERE iccid = ?1 AND device_id IS NULL",
	[S_SIM_DELETE] = "DELETE FROM sims WHERE iccid = ?1",
	[S_SIM_SET_VERSION] = "UPDATE sims SET config_version = ?2, updated_at = ?3 WHERE iccid = ?1",
	[S_SIM_INSERT_GROUP] = "INSERT INTO sims(iccid, psk, group_name, created_at, updated_at)"
			       " VALUES(?1, ?2, ?3, ?4, ?4)",
	[S_SIM_PENDING_GET] = "SELECT pending_psk FROM sims WHERE iccid = ?1 AND psk_generation + 1 = ?2"
			      " AND pending_psk IS NOT NULL",
	[S_SIM_PENDING_SET] = "UPDATE sims SET pending_psk = ?3, updated_at = ?4"
			      " WHERE iccid = ?1 AND psk_generation = ?2",
	/* the rotation's commit: the pending key becomes the current one, the old one is gone */
	[S_SIM_COMMIT] = "UPDATE sims SET psk = pending_psk, psk_generation = ?2, pending_psk = NULL,"
			 " rotate = 0, rotated_at = ?3, updated_at = ?3"
			 " WHERE iccid = ?1 AND psk_generation + 1 = ?2 AND pending_psk IS NOT NULL",
	[S_SIM_ROTATE] = "UPDATE sims SET rotate = ?2, updated_at = ?3 WHERE iccid = ?1",
};

static struct store_stmt *
prep(struct store *st, enum sim_stmt id)
{
	return store_prep(st, STORE_M_SIM, (int)id, sim_sql[id]);
}

/* ---- PSKs at rest ---- */

/*
 * A PSK is sealed as the key of its SIM and generation: one copied to
 * another SIM, or kept from before a rotation, does not open.
 */
static int
psk_seal(struct store *st, const char *iccid, uint32_t gen, const uint8_t *psk, size_t psklen,
    uint8_t *out, size_t cap, size_t *outlen)
{
	char genstr[16];

	snprintf(genstr, sizeof(genstr), "%u", gen);
	return store_seal(st, "psk", iccid, genstr, psk, psklen, out, cap, outlen);
}

/* Open a PSK psk_seal sealed into psk (STORE_PSK_MAX bytes). */
static int
psk_open(struct store *st, const char *iccid, uint32_t gen, const void *sealed, size_t len,
    uint8_t *psk, size_t *psklen)
{
	char genstr[16];

	snprintf(genstr, sizeof(genstr), "%u", gen);
	return store_unseal(st, "psk", iccid, genstr, sealed, len, psk, STORE_PSK_MAX, psklen);
}

/* ---- SIMs ---- */

/* Insert a SIM of generation 0; psk is its sealed PSK, "" (len 0) for a derived SIM. */
static int
sim_insert(struct store *st, const char *iccid, const void *psk, size_t len, const char *group)
{
	struct store_stmt *s;

	if ((s = prep(st, S_SIM_INSERT_GROUP)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_blob(s, 2, psk, len);
	store_bind_opt_text(s, 3, group);
	store_bind_int64(s, 4, clock_now_ms());
	return store_exec(st, s);
}

int
store_sim_create(struct store *st, const char *iccid, const uint8_t *psk, size_t psklen,
    const char *group)
{
	struct store_group g;
	uint8_t sealed[STORE_PSK_MAX + CRYPTO_SEAL_OVERHEAD];
	size_t sealedlen;
	int rc;

	if (!iccid_valid(iccid, strlen(iccid)) || psklen < STORE_PSK_MIN || psklen > STORE_PSK_MAX)
		return ZTP_EINVAL;
	if (group != NULL && group[0] != '\0' && (rc = store_group_get(st, group, &g)) != 0)
		return rc;
	if ((rc = psk_seal(st, iccid, 0, psk, psklen, sealed, sizeof(sealed), &sealedlen)) != 0)
		return rc;
	return sim_insert(st, iccid, sealed, sealedlen, group);
}

static void
row_sim(struct store_stmt *s, struct store_sim *out)
{
	memset(out, 0, sizeof(*out));
	store_col_text(s, 0, out->iccid, sizeof(out->iccid));
	out->blocked = store_col_int(s, 1);
	store_col_text(s, 2, out->device_id, sizeof(out->device_id));
	out->psk_generation = (uint32_t)store_col_int64(s, 3);
	out->config_version = (uint32_t)store_col_int64(s, 4);
	out->created_at = store_col_int64(s, 5);
	out->updated_at = store_col_int64(s, 6);
	store_col_text(s, 7, out->group, sizeof(out->group));
	out->derived = store_col_int(s, 8);
	out->rotate = store_col_int(s, 9);
	out->pending = store_col_int(s, 10);
	out->rotated_at = store_col_int64(s, 11);
}

int
store_sim_get(struct store *st, const char *iccid, struct store_sim *out)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_SIM_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	if ((rc = store_step_row(st, s, "sim get")) == 0) {
		row_sim(s, out);
		store_reset(s);
	}
	return rc;
}

#define SIM_GET_NCOLS 12 /* the columns row_sim reads */

int
store_sim_get_config(struct store *st, const char *iccid, struct store_sim *sim,
    struct store_config *cfg, int *has_cfg)
{
	struct store_stmt *s;
	int rc;

	*has_cfg = 0;
	if ((s = prep(st, S_SIM_GET_CONFIG)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	if ((rc = store_step_row(st, s, "sim get with config")) == 0) {
		row_sim(s, sim);
		if (!store_col_null(s, SIM_GET_NCOLS)) {
			store_row_config(s, SIM_GET_NCOLS, cfg);
			*has_cfg = 1;
		}
		store_reset(s);
	}
	return rc;
}

int
store_sim_psk(struct store *st, const char *iccid, uint32_t gen, uint8_t *psk, size_t *psklen)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_SIM_PSK)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_int64(s, 2, gen);
	if ((rc = store_step_row(st, s, "sim psk")) != 0)
		return rc;
	if (store_col_bytes(s, 0) == 0) {
		rc = ZTP_ENOENT; /* a derived SIM: its key comes from its group */
	} else {
		rc = psk_open(st, iccid, gen, store_col_blob(s, 0),
		    store_col_bytes(s, 0), psk, psklen);
		if (rc != 0)
			log_warnx("store: the sealed PSK of %s does not open (wrong data key?)", iccid);
	}
	store_reset(s);
	return rc;
}

int
store_sim_list(struct store *st, const char *after, int limit, store_sim_cb cb, void *arg)
{
	struct store_sim sim;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_SIM_LIST)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, after ? after : "");
	store_bind_int64(s, 2, limit);
	while ((rc = store_step(s)) == STORE_ROW) {
		row_sim(s, &sim);
		if ((rc = cb(&sim, arg)) != 0)
			break;
	}
	rc = store_rows_end(st, rc, "sim list");
	store_reset(s);
	return rc;
}

int
store_sim_set_blocked(struct store *st, const char *iccid, int blocked)
{
	struct store_stmt *s;

	if ((s = prep(st, S_SIM_BLOCK)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_int64(s, 2, blocked ? 1 : 0);
	store_bind_int64(s, 3, clock_now_ms());
	return store_exec_row(st, s);
}

int
store_sim_rebind(struct store *st, const char *iccid)
{
	struct store_stmt *s;

	if ((s = prep(st, S_SIM_REBIND)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_int64(s, 2, clock_now_ms());
	return store_exec_row(st, s);
}

/* Bind the SIM to device_id if it is still unbound; ZTP_ENOENT if it is not (or no SIM). */
static int
sim_bind_unbound(struct store *st, const char *iccid, const char *device_id)
{
	struct store_stmt *s;

	if ((s = prep(st, S_SIM_BIND)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_text(s, 2, device_id);
	store_bind_int64(s, 3, clock_now_ms());
	return store_exec_row(st, s);
}

int
store_sim_bind(struct store *st, const char *iccid, const char *device_id,
    char bound[STORE_DEVID_HEX])
{
	struct store_sim sim;
	int rc;

	if ((rc = store_sim_get(st, iccid, &sim)) != 0)
		return rc;
	if (sim.device_id[0] == '\0') {
		/* only binds if still unbound: a concurrent bind wins once */
		rc = sim_bind_unbound(st, iccid, device_id);
		if (rc == 0) {
			snprintf(bound, STORE_DEVID_HEX, "%s", device_id);
			return 0;
		}
		if (rc != ZTP_ENOENT || (rc = store_sim_get(st, iccid, &sim)) != 0)
			return rc;
	}
	snprintf(bound, STORE_DEVID_HEX, "%s", sim.device_id);
	return strcmp(sim.device_id, device_id) == 0 ? 0 : ZTP_ECONFLICT;
}

int
store_sim_delete(struct store *st, const char *iccid)
{
	struct store_stmt *s;
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	/* the SIM goes with its configurations, telemetry and device record */
	if ((rc = store_config_purge(st, iccid)) != 0 ||
	    (rc = store_telemetry_purge(st, iccid)) != 0 ||
	    (rc = store_device_purge(st, iccid)) != 0)
		goto out;
	if ((s = prep(st, S_SIM_DELETE)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, iccid);
	rc = store_exec_row(st, s);
out:
	return store_tx_end(st, rc);
}

int
store_sim_set_config_version(struct store *st, const char *iccid, int64_t version, int64_t now)
{
	struct store_stmt *s;

	if ((s = prep(st, S_SIM_SET_VERSION)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_int64(s, 2, version);
	store_bind_int64(s, 3, now);
	return store_exec_row(st, s);
}

/* ---- SIMs of derived groups ---- */

int
store_sim_register_derived(struct store *st, const char *iccid, const char *group)
{
	return sim_insert(st, iccid, "", 0, group);
}

/* 1 if s is a Device ID as stored: 1..STORE_DEVID_MAX bytes in upper-case hex. */
static int
devid_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n > 2 * STORE_DEVID_MAX || !hex_valid(s, n))
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] >= 'a' && s[i] <= 'f')
			return 0;
	return 1;
}

int
store_sim_create_derived(struct store *st, const char *iccid, const char *device_id,
    char group[STORE_GROUP_SIZE])
{
	char name[STORE_GROUP_SIZE];
	int rc;

	if (!iccid_valid(iccid, strlen(iccid)) ||
	    (device_id != NULL && device_id[0] != '\0' && !devid_valid(device_id)))
		return ZTP_EINVAL;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	/* the group the handshake derives from, so both pick the same one */
	if ((rc = store_group_derived_name(st, iccid, name)) != 0 ||
	    (rc = store_sim_register_derived(st, iccid, name)) != 0)
		goto out;
	if (device_id != NULL && device_id[0] != '\0' &&
	    (rc = sim_bind_unbound(st, iccid, device_id)) != 0)
		goto out;
	if (group != NULL)
		snprintf(group, STORE_GROUP_SIZE, "%s", name);
	rc = 0;
out:
	return store_tx_end(st, rc);
}

/* ---- batch imports ---- */

/* 1 if row may be imported whatever the store holds; 0 with the reason in why if not. */
static int
import_row_valid(const struct store_import_row *row, char *why, size_t cap)
{
	if (!iccid_valid(row->iccid, strlen(row->iccid))) {
		snprintf(why, cap, "not an ICCID");
		return 0;
	}
	if (row->psk_len < STORE_PSK_MIN || row->psk_len > STORE_PSK_MAX) {
		snprintf(why, cap, "the PSK must be %d to %d bytes", STORE_PSK_MIN, STORE_PSK_MAX);
		return 0;
	}
	return 1;
}

/*
 * Imports are idempotent: a row whose SIM exists with the same PSK (old,
 * NULL if its stored one does not open) and group changes nothing.
 */
static int
import_row_same(const struct store_import_row *row, const uint8_t *old, size_t oldlen,
    const char *group)
{
	return old != NULL && oldlen == row->psk_len && crypto_equal(old, row->psk, oldlen) &&
	    strcmp(group, row->group) == 0;
}

/* Groups a batch names, checked once each (a batch names few). */
struct group_seen {
	char name[8][STORE_GROUP_SIZE];
	int exists[8];
	int n;
};

static int
group_exists(struct store *st, struct group_seen *gs, const char *name, int *exists)
{
	struct store_group g;
	int i, rc;

	for (i = 0; i < gs->n; i++)
		if (strcmp(gs->name[i], name) == 0) {
			*exists = gs->exists[i];
			return 0;
		}
	rc = store_group_get(st, name, &g);
	if (rc != 0 && rc != ZTP_ENOENT)
		return rc;
	*exists = rc == 0;
	if (gs->n < 8) {
		snprintf(gs->name[gs->n], STORE_GROUP_SIZE, "%s", name);
		gs->exists[gs->n++] = *exists;
	}
	return 0;
}

/* The batch import is store_import.c's, over the SIM rules below. */

static const char *
import_key(const void *row)
{
	return ((const struct store_import_row *)row)->iccid;
}

static const char *
import_group(const void *row)
{
	return ((const struct store_import_row *)row)->group;
}

/* A row refused whatever the store holds, or one that names no group (arg: group_seen). */
static int
import_check(struct store *st, struct store_import_slot *sl, void *arg)
{
	const struct store_import_row *row = sl->row;
	int rc, exists;

	if (row->invalid[0] != '\0') {
		store_import_refuse(sl, row->invalid);
	} else if (!import_row_valid(row, sl->why, sizeof(sl->why))) {
		sl->state = STORE_IMPORT_REFUSED;
	} else if (row->group[0] != '\0') {
		if ((rc = group_exists(st, arg, row->group, &exists)) != 0)
			return rc;
		if (!exists) {
			char why[96];
			snprintf(why, sizeof(why), "no group %.40s", row->group);
			store_import_refuse(sl, why);
		}
	}
	return 0;
}

/* A SIM on record whose ICCID a slot names: the same one (unchanged) or another (refused). */
static void
import_existing(struct store *st, struct store_import_slot *sl, const void *sealed, size_t len,
    const char *group)
{
	const struct store_import_row *row = sl->row;
	uint8_t old[STORE_PSK_MAX];
	size_t oldlen = 0;
	int opened;

	opened = psk_open(st, row->iccid, 0, sealed, len, old, &oldlen) == 0;
	if (import_row_same(row, opened ? old : NULL, oldlen, group))
		sl->state = STORE_IMPORT_SAME;
	else
		store_import_refuse(sl, "SIM exists with another PSK or group");
	OPENSSL_cleanse(old, sizeof(old));
}

static void
import_repeat(struct store_import_slot *sl, const struct store_import_slot *earlier)
{
	const struct store_import_row *e = earlier->row;

	if (import_row_same(sl->row, e->psk, e->psk_len, e->group))
		sl->state = STORE_IMPORT_SAME;
	else
		store_import_refuse(sl, "SIM exists with another PSK or group");
}

static int
import_seal(struct store *st, struct store_import_slot *sl)
{
	const struct store_import_row *row = sl->row;

	return psk_seal(st, row->iccid, 0, row->psk, row->psk_len, sl->sealed, sizeof(sl->sealed),
	    &sl->sealedlen);
}

_Static_assert(S__COUNT + STORE_IMPORT_STMTS <= STORE_MODULE_STMT_MAX,
    "raise STORE_MODULE_STMT_MAX");

static const struct store_import_kind sim_import = {
	.m = STORE_M_SIM,
	.stmt0 = S__COUNT,
	.table = "sims",
	.key_col = "iccid",
	.sealed_col = "psk",
	.third_col = "group_name",
	.lookup_what = "import lookup",
	.row_size = sizeof(struct store_import_row),
	.key = import_key,
	.third = import_group,
	.third_size = STORE_GROUP_SIZE,
	.check = import_check,
	.existing = import_existing,
	.repeat = import_repeat,
	.seal = import_seal,
};

int
store_sim_import(struct store *st, const struct store_import_row *rows, size_t n,
    struct store_import_result *res)
{
	struct group_seen gs;

	gs.n = 0;
	return store_import_run(st, &sim_import, rows, n, &gs, res);
}

/* ---- PSK rotation ---- */

int
store_sim_pending_psk(struct store *st, const char *iccid, uint32_t gen, uint8_t *psk,
    size_t *psklen)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_SIM_PENDING_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_int64(s, 2, gen);
	if ((rc = store_step_row(st, s, "pending psk")) != 0)
		return rc;
	rc = psk_open(st, iccid, gen, store_col_blob(s, 0), store_col_bytes(s, 0),
	    psk, psklen);
	store_reset(s);
	return rc;
}

int
store_sim_pending_set(struct store *st, const char *iccid, uint32_t current, const uint8_t *psk,
    size_t psklen)
{
	uint8_t sealed[STORE_PSK_MAX + CRYPTO_SEAL_OVERHEAD];
	size_t sealedlen;
	struct store_stmt *s;
	int rc;

	if (psklen < STORE_PSK_MIN || psklen > STORE_PSK_MAX || current == UINT32_MAX)
		return ZTP_EINVAL;
	/* sealed as the key of generation current + 1, as it will be after the commit */
	if ((rc = psk_seal(st, iccid, current + 1, psk, psklen, sealed, sizeof(sealed),
		 &sealedlen)) != 0)
		return rc;
	if ((s = prep(st, S_SIM_PENDING_SET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_int64(s, 2, current);
	store_bind_blob(s, 3, sealed, sealedlen);
	store_bind_int64(s, 4, clock_now_ms());
	return store_exec_row(st, s);
}

int
store_sim_commit(struct store *st, const char *iccid, uint32_t gen)
{
	struct store_stmt *s;

	if ((s = prep(st, S_SIM_COMMIT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_int64(s, 2, gen);
	store_bind_int64(s, 3, clock_now_ms());
	return store_exec_row(st, s);
}

int
store_sim_set_rotate(struct store *st, const char *iccid, int rotate)
{
	struct store_stmt *s;

	if ((s = prep(st, S_SIM_ROTATE)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_int64(s, 2, rotate ? 1 : 0);
	store_bind_int64(s, 3, clock_now_ms());
	return store_exec_row(st, s);
}
