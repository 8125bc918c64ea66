/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's events: what happened, when, to which SIM or device (and
 * the device's owner, whose API keys see the event) and from which peer,
 * listed oldest first. A row may stand for several occurrences of
 * one event (count, last_time): the front coalesces repeats in memory and
 * writes them in batches (events.c).
 */
#include <string.h>


#include "clock.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

enum event_stmt {
	S_EV_INSERT,
	S_EV_LIST,
	S_EV_BATCH_INSERT,
	S_EV_BATCH_UPDATE,
	S_EV_PRUNE,
	S_EV_LIST_OWNER,
	S__COUNT
};

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

#define EV_COLS \
	"id, time, kind, iccid, peer, detail, count, coalesce(last_time, time), owner, device"

static const char *const event_sql[S__COUNT] = {
	[S_EV_INSERT] = "INSERT INTO events(time, kind, iccid, peer, detail, owner, device)"
			" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_EV_LIST] = "SELECT " EV_COLS " FROM events"
		      " WHERE time >= ?1 AND id > ?2 ORDER BY id LIMIT ?3",
	/* events_owner (owner, time, id) */
	[S_EV_LIST_OWNER] = "SELECT " EV_COLS " FROM events"
			    " WHERE owner = ?4 AND time >= ?1 AND id > ?2 ORDER BY id LIMIT ?3",
	[S_EV_BATCH_INSERT] = "INSERT INTO events(time, kind, iccid, peer, detail, count, last_time,"
			      " owner, device) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
	[S_EV_BATCH_UPDATE] = "UPDATE events SET count = ?2, last_time = ?3 WHERE id = ?1",
	/* events_time (time, id) finds the oldest rows without a scan */
	[S_EV_PRUNE] = "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time < ?1"
		       " ORDER BY time LIMIT ?2)",
};

static struct store_stmt *
prep(struct store *st, enum event_stmt id)
{
	return store_prep(st, STORE_M_EVENT, (int)id, event_sql[id]);
}

int
store_event_add_dev(struct store *st, const char *kind, const char *owner, const char *device,
    const char *iccid, const char *peer, const char *detail)
{
	char clean[STORE_DETAIL_MAX], cdev[STORE_EVENT_DEVICE_MAX + 1], cown[STORE_OWNER_MAX + 1];
	struct store_stmt *s;

	if ((s = prep(st, S_EV_INSERT)) == NULL)
		return ZTP_ESTORE;
	store_text_clean(detail, clean, sizeof(clean));
	store_text_clean(device, cdev, sizeof(cdev));
	store_text_clean(owner, cown, sizeof(cown));
	store_bind_int64(s, 1, clock_now_ms());
	store_bind_text(s, 2, kind);
	store_bind_opt_text(s, 3, iccid);
	store_bind_opt_text(s, 4, peer);
	store_bind_text(s, 5, clean);
	store_bind_opt_text(s, 6, cown);
	store_bind_opt_text(s, 7, cdev);
	return store_exec(st, s);
}

int
store_event_add(struct store *st, const char *kind, const char *iccid, const char *peer,
    const char *detail)
{
	return store_event_add_dev(st, kind, NULL, NULL, iccid, peer, detail);
}

/* One row of a batch: its INSERT (setting r->id) or its UPDATE. */
static int
batch_row(struct store *st, struct store_event_row *r)
{
	char clean[STORE_DETAIL_MAX], cdev[STORE_EVENT_DEVICE_MAX + 1], cown[STORE_OWNER_MAX + 1];
	struct store_stmt *s;

	if (r->id != 0) {
		if ((s = prep(st, S_EV_BATCH_UPDATE)) == NULL)
			return ZTP_ESTORE;
		store_bind_int64(s, 1, r->id);
		store_bind_int64(s, 2, r->count);
		store_bind_int64(s, 3, r->last_time);
		/* a row pruned meanwhile is not an error: the repeats go with it */
		return store_exec(st, s);
	}
	if ((s = prep(st, S_EV_BATCH_INSERT)) == NULL)
		return ZTP_ESTORE;
	store_text_clean(r->detail, clean, sizeof(clean));
	store_bind_int64(s, 1, r->time);
	store_bind_text(s, 2, r->kind);
	store_bind_opt_text(s, 3, r->iccid);
	store_bind_opt_text(s, 4, r->peer);
	store_bind_text(s, 5, clean);
	store_bind_int64(s, 6, r->count);
	store_bind_int64(s, 7, r->last_time);
	store_text_clean(r->owner, cown, sizeof(cown));
	store_bind_opt_text(s, 8, cown);
	store_text_clean(r->device, cdev, sizeof(cdev));
	store_bind_opt_text(s, 9, cdev);
	return store_exec_id(st, s, &r->id);
}

int
store_event_batch(struct store *st, struct store_event_row *rows, size_t n)
{
	size_t i;
	int rc;

	if (n == 0)
		return 0;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++)
		rc = batch_row(st, &rows[i]);
	return store_tx_end(st, rc);
}

int
store_event_prune(struct store *st, int64_t before, int limit, int *deleted)
{
	struct store_stmt *s;
	int rc;

	*deleted = 0;
	if ((s = prep(st, S_EV_PRUNE)) == NULL)
		return ZTP_ESTORE;
	store_bind_int64(s, 1, before);
	store_bind_int64(s, 2, limit);
	if ((rc = store_exec(st, s)) == 0)
		*deleted = store_changes(st);
	return rc;
}

static void
row_event(struct store_stmt *s, struct store_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->id = store_col_int64(s, 0);
	ev->time = store_col_int64(s, 1);
	store_col_text(s, 2, ev->kind, sizeof(ev->kind));
	store_col_text(s, 3, ev->iccid, sizeof(ev->iccid));
	store_col_text(s, 4, ev->peer, sizeof(ev->peer));
	store_col_text(s, 5, ev->detail, sizeof(ev->detail));
	ev->count = store_col_int64(s, 6);
	ev->last_time = store_col_int64(s, 7);
	store_col_text(s, 8, ev->owner, sizeof(ev->owner));
	store_col_text(s, 9, ev->device, sizeof(ev->device));
}

int
store_event_list_owner(struct store *st, const char *owner, int64_t since, int64_t after,
    int limit, store_event_cb cb, void *arg)
{
	struct store_event ev;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, owner != NULL ? S_EV_LIST_OWNER : S_EV_LIST)) == NULL)
		return ZTP_ESTORE;
	store_bind_int64(s, 1, since);
	store_bind_int64(s, 2, after);
	store_bind_int64(s, 3, limit);
	if (owner != NULL)
		store_bind_text(s, 4, owner);
	while ((rc = store_step(s)) == STORE_ROW) {
		row_event(s, &ev);
		if ((rc = cb(&ev, arg)) != 0)
			break;
	}
	rc = store_rows_end(st, rc, "event list");
	store_reset(s);
	return rc;
}

int
store_event_list(struct store *st, int64_t since, int64_t after, int limit, store_event_cb cb,
    void *arg)
{
	return store_event_list_owner(st, NULL, since, after, limit, cb, arg);
}
