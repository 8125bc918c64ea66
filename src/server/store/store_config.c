/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's configurations: every set or rollback of a SIM's
 * configuration is a new version, kept as history; the SIM's row names its
 * current version. ETags are computed from the version and body, never
 * stored.
 */
#include <stdio.h>
#include <string.h>


#include "clock.h"
#include "crypto.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

enum config_stmt {
	S_CFG_DELETE,
	S_CFG_NEXT,
	S_CFG_INSERT,
	S_CFG_GET,
	S_CFG_HISTORY,
	S__COUNT
};

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

static const char *const config_sql[S__COUNT] = {
	[S_CFG_DELETE] = "DELETE FROM configs WHERE iccid = ?1",
	[S_CFG_NEXT] = "SELECT COALESCE(MAX(version), 0) + 1 FROM configs WHERE iccid = ?1",
	[S_CFG_INSERT] = "INSERT INTO configs(iccid, version, body, source, created_at) VALUES(?1, ?2, ?3, ?4, ?5)",
	[S_CFG_GET] = "SELECT iccid, version, body, source, created_at FROM configs"
		      " WHERE iccid = ?1 AND version = ?2",
	[S_CFG_HISTORY] = "SELECT iccid, version, body, source, created_at FROM configs"
			  " WHERE iccid = ?1 ORDER BY version DESC",
};

static struct store_stmt *
prep(struct store *st, enum config_stmt id)
{
	return store_prep(st, STORE_M_CONFIG, (int)id, config_sql[id]);
}

void
store_config_etag(uint32_t version, const uint8_t *body, size_t len, char out[STORE_ETAG_SIZE])
{
	uint8_t h[32];

	crypto_sha256(body, len, h);
	snprintf(out, STORE_ETAG_SIZE, "\"%u-%02x%02x%02x%02x\"", version, h[0], h[1], h[2], h[3]);
}

void
store_row_config(struct store_stmt *s, int col, struct store_config *out)
{
	int n = (int)store_col_bytes(s, col + 2);

	memset(out, 0, sizeof(*out));
	store_col_text(s, col, out->iccid, sizeof(out->iccid));
	out->version = (uint32_t)store_col_int64(s, col + 1);
	out->len = n > STORE_CONFIG_MAX ? STORE_CONFIG_MAX : (size_t)n;
	if (out->len > 0)
		memcpy(out->body, store_col_blob(s, col + 2), out->len);
	store_col_text(s, col + 3, out->source, sizeof(out->source));
	out->created_at = store_col_int64(s, col + 4);
	store_config_etag(out->version, out->body, out->len, out->etag);
}

static void
row_config(struct store_stmt *s, struct store_config *out)
{
	store_row_config(s, 0, out);
}

/*
 * Insert the next version of iccid's configuration and make it the SIM's
 * current one; inside a transaction. out (may be NULL) gets it.
 */
static int
config_insert(struct store *st, const char *iccid, const uint8_t *body, size_t len,
    const char *source, struct store_config *out)
{
	int64_t now = clock_now_ms(), version;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_CFG_NEXT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	if (store_step(s) != STORE_ROW)
		return store_db_err(st, "config next");
	version = store_col_int64(s, 0);
	store_reset(s);
	if (version > UINT32_MAX)
		return ZTP_ERANGE;

	if ((s = prep(st, S_CFG_INSERT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_int64(s, 2, version);
	store_bind_blob(s, 3, len ? (const void *)body : "", len);
	store_bind_text(s, 4, source);
	store_bind_int64(s, 5, now);
	if ((rc = store_exec(st, s)) != 0)
		return rc;
	if ((rc = store_sim_set_config_version(st, iccid, version, now)) != 0)
		return rc;

	if (out != NULL) {
		memset(out, 0, sizeof(*out));
		snprintf(out->iccid, sizeof(out->iccid), "%s", iccid);
		out->version = (uint32_t)version;
		memcpy(out->body, body, len);
		out->len = len;
		snprintf(out->source, sizeof(out->source), "%s", source);
		out->created_at = now;
		store_config_etag(out->version, body, len, out->etag);
	}
	return 0;
}

int
store_config_set(struct store *st, const char *iccid, const uint8_t *body, size_t len,
    struct store_config *out)
{
	struct store_sim sim;
	int rc;

	if (len > STORE_CONFIG_MAX)
		return ZTP_ETOOBIG;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = store_sim_get(st, iccid, &sim);
	if (rc == 0)
		rc = config_insert(st, iccid, body, len, "set", out);
	return store_tx_end(st, rc);
}

int
store_config_get(struct store *st, const char *iccid, uint32_t version, struct store_config *out)
{
	struct store_sim sim;
	struct store_stmt *s;
	int rc;

	if (version == 0) {
		if ((rc = store_sim_get(st, iccid, &sim)) != 0)
			return rc;
		if (sim.config_version == 0)
			return ZTP_ENOENT;
		version = sim.config_version;
	}
	if ((s = prep(st, S_CFG_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_int64(s, 2, version);
	if ((rc = store_step_row(st, s, "config get")) == 0) {
		row_config(s, out);
		store_reset(s);
	}
	return rc;
}

int
store_config_history(struct store *st, const char *iccid, store_config_cb cb, void *arg)
{
	struct store_config cfg;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_CFG_HISTORY)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	while ((rc = store_step(s)) == STORE_ROW) {
		row_config(s, &cfg);
		if ((rc = cb(&cfg, arg)) != 0)
			break;
	}
	rc = store_rows_end(st, rc, "config history");
	store_reset(s);
	return rc;
}

/* A rollback is a new version with the old one's body, its source saying which. */
int
store_config_rollback(struct store *st, const char *iccid, uint32_t version,
    struct store_config *out)
{
	struct store_config old;
	char source[32];
	int rc;

	if (version == 0)
		return ZTP_ENOENT;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = store_config_get(st, iccid, version, &old);
	if (rc == 0) {
		snprintf(source, sizeof(source), "rollback:%u", version);
		rc = config_insert(st, iccid, old.body, old.len, source, out);
	}
	return store_tx_end(st, rc);
}

int
store_config_purge(struct store *st, const char *iccid)
{
	return store_exec_text(st, STORE_M_CONFIG, S_CFG_DELETE, config_sql[S_CFG_DELETE],
	    iccid);
}
