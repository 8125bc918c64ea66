/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's events: what happened, when, to which SIM and from which
 * peer, listed oldest first.
 */
#include <string.h>

#include <sqlite3.h>

#include "clock.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

enum event_stmt {
	S_EV_INSERT,
	S_EV_LIST,
	S__COUNT
};

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

static const char *const event_sql[S__COUNT] = {
	[S_EV_INSERT] = "INSERT INTO events(time, kind, iccid, peer, detail) VALUES(?1, ?2, ?3, ?4, ?5)",
	[S_EV_LIST] = "SELECT id, time, kind, iccid, peer, detail FROM events"
		      " WHERE time >= ?1 AND id > ?2 ORDER BY id LIMIT ?3",
};

static sqlite3_stmt *
prep(struct store *st, enum event_stmt id)
{
	return store_prep(st, STORE_M_EVENT, (int)id, event_sql[id]);
}

int
store_event_add(struct store *st, const char *kind, const char *iccid, const char *peer,
    const char *detail)
{
	sqlite3_stmt *s;

	if ((s = prep(st, S_EV_INSERT)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_int64(s, 1, clock_now_ms());
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	store_bind_opt_text(s, 3, iccid);
	store_bind_opt_text(s, 4, peer);
	sqlite3_bind_text(s, 5, detail ? detail : "", -1, SQLITE_STATIC);
	return store_exec(st, s);
}

static void
row_event(sqlite3_stmt *s, struct store_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->id = sqlite3_column_int64(s, 0);
	ev->time = sqlite3_column_int64(s, 1);
	store_col_text(s, 2, ev->kind, sizeof(ev->kind));
	store_col_text(s, 3, ev->iccid, sizeof(ev->iccid));
	store_col_text(s, 4, ev->peer, sizeof(ev->peer));
	store_col_text(s, 5, ev->detail, sizeof(ev->detail));
}

int
store_event_list(struct store *st, int64_t since, int64_t after, int limit, store_event_cb cb,
    void *arg)
{
	struct store_event ev;
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, S_EV_LIST)) == NULL)
		return ZTP_ESTORE;
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int64(s, 2, after);
	sqlite3_bind_int(s, 3, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_event(s, &ev);
		if ((rc = cb(&ev, arg)) != 0)
			break;
	}
	rc = store_rows_end(st, rc, "event list");
	sqlite3_reset(s);
	return rc;
}
