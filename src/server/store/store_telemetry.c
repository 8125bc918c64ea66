/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's telemetry: what devices report, kept per SIM, newest first
 * when listed.
 */
#include <stdint.h>
#include <string.h>


#include "clock.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

enum telemetry_stmt {
	S_TEL_DELETE,
	S_TEL_INSERT,
	S_TEL_LIST,
	S_TEL_PRUNE,
	S__COUNT
};

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

static const char *const telemetry_sql[S__COUNT] = {
	[S_TEL_DELETE] = "DELETE FROM telemetry WHERE iccid = ?1",
	[S_TEL_INSERT] = "INSERT INTO telemetry(iccid, device_id, body, received_at)"
			 " VALUES(?1, ?2, ?3, ?4) RETURNING id",
	[S_TEL_LIST] = ("SELECT id, iccid, device_id, body, received_at FROM telemetry"
			" WHERE iccid = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3"),
	/* the index telemetry_received finds the oldest rows without a scan */
	[S_TEL_PRUNE] = ("DELETE FROM telemetry WHERE id IN (SELECT id FROM telemetry"
			 " WHERE received_at < ?1 ORDER BY received_at LIMIT ?2)"),
};

static struct store_stmt *
prep(struct store *st, enum telemetry_stmt id)
{
	return store_prep(st, STORE_M_TELEMETRY, (int)id, telemetry_sql[id]);
}

int
store_telemetry_add(struct store *st, const char *iccid, const char *device_id,
    const uint8_t *body, size_t len, int64_t *id)
{
	struct store_stmt *s;
	int64_t rowid;
	int rc;

	if (len > STORE_TELEMETRY_MAX)
		return ZTP_ETOOBIG;
	if ((s = prep(st, S_TEL_INSERT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_text(s, 2, device_id);
	store_bind_blob(s, 3, len ? (const void *)body : "", len);
	store_bind_int64(s, 4, clock_now_ms());
	if ((rc = store_exec_id(st, s, &rowid)) != 0)
		return rc;
	if (id != NULL)
		*id = rowid;
	return 0;
}

static void
row_telemetry(struct store_stmt *s, struct store_telemetry *t)
{
	int n = store_col_bytes(s, 3);

	memset(t, 0, sizeof(*t));
	t->id = store_col_int64(s, 0);
	store_col_text(s, 1, t->iccid, sizeof(t->iccid));
	store_col_text(s, 2, t->device_id, sizeof(t->device_id));
	t->len = n > STORE_TELEMETRY_MAX ? STORE_TELEMETRY_MAX : (size_t)n;
	if (t->len > 0)
		memcpy(t->body, store_col_blob(s, 3), t->len);
	t->received_at = store_col_int64(s, 4);
}

int
store_telemetry_list(struct store *st, const char *iccid, int64_t before, int limit,
    store_telemetry_cb cb, void *arg)
{
	struct store_telemetry t;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_TEL_LIST)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_int64(s, 2, before > 0 ? before : INT64_MAX);
	store_bind_int64(s, 3, limit);
	while ((rc = store_step(s)) == STORE_ROW) {
		row_telemetry(s, &t);
		if ((rc = cb(&t, arg)) != 0)
			break;
	}
	rc = store_rows_end(st, rc, "telemetry list");
	store_reset(s);
	return rc;
}

int
store_telemetry_purge(struct store *st, const char *iccid)
{
	return store_exec_text(st, STORE_M_TELEMETRY, S_TEL_DELETE, telemetry_sql[S_TEL_DELETE],
	    iccid);
}

int
store_telemetry_prune(struct store *st, int64_t before, int limit, int *deleted)
{
	struct store_stmt *s;
	int rc;

	*deleted = 0;
	if ((s = prep(st, S_TEL_PRUNE)) == NULL)
		return ZTP_ESTORE;
	store_bind_int64(s, 1, before);
	store_bind_int64(s, 2, limit);
	if ((rc = store_exec(st, s)) == 0)
		*deleted = store_changes(st);
	return rc;
}
