/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API's records of what happened: the events (an owner's key
 * sees its owner's), and the telemetry of a SIM. Both are paged by id.
 */
#include <stdint.h>
#include <stdio.h>

#include "admin_int.h"
#include "clock.h"
#include "hex.h"
#include "http_util.h"
#include "server.h"
#include "store.h"

/* a page of a list keyed by a number */
struct id_page {
	json_t *arr;
	int64_t last_id;
	int n;
};

/* A JSON string of the bytes if they are UTF-8 text without control characters. */
static json_t *
text_or_null(const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] < 0x20 && b[i] != '\t' && b[i] != '\n' && b[i] != '\r')
			return json_null();
	json_t *s = json_stringn((const char *)b, len);
	return s ? s : json_null();
}

/* A page of a list keyed by id, as admin_reply_list sends it. */
static void
reply_id_page(struct areq *a, const char *key, struct id_page *l, int rc, uint64_t limit)
{
	admin_reply_list(a, key, l->arr, rc,
	    l->n == (int)limit ? json_integer(l->last_id) : json_null());
}

static int
telemetry_cb(const struct store_telemetry *t, void *arg)
{
	struct id_page *l = arg;
	char hex[2 * STORE_TELEMETRY_MAX + 1];

	hex_encode(t->body, t->len, hex, sizeof(hex));
	json_array_append_new(l->arr, json_pack("{s:I, s:s, s:s, s:I, s:o, s:s, s:o}", "id",
	    (json_int_t)t->id, "iccid", t->iccid, "device_id", t->device_id, "size",
	    (json_int_t)t->len, "body", text_or_null(t->body, t->len), "body_hex", hex,
	    "received_at", admin_time_json(t->received_at)));
	l->last_id = t->id;
	l->n++;
	return 0;
}

/* GET /v1/sims/{iccid}/telemetry?limit=N&before=ID: newest first. */
void
admin_event_telemetry(struct areq *a)
{
	struct id_page l = { 0 };
	struct store_sim sim;
	uint64_t limit, before;
	int rc;

	if (admin_query_limit(a, &limit) != 0 ||
	    admin_query_num(a, "before", 1, INT64_MAX, 0, &before) != 0)
		return;
	if ((rc = store_sim_get(a->w->store, a->param, &sim)) != 0) {
		admin_reply_rc(a, rc, "no such SIM");
		return;
	}
	l.arr = json_array();
	rc = store_telemetry_list(a->w->store, a->param, (int64_t)before, (int)limit,
	    telemetry_cb, &l);
	reply_id_page(a, "telemetry", &l, rc, limit);
}

static int
event_cb(const struct store_event *ev, void *arg)
{
	struct id_page *l = arg;

	json_array_append_new(l->arr, json_pack("{s:I, s:o, s:s, s:o, s:o, s:s, s:I, s:o, s:o, s:o}",
	    "id", (json_int_t)ev->id, "time", admin_time_json(ev->time), "kind", ev->kind, "iccid",
	    admin_opt_string(ev->iccid), "peer", admin_opt_string(ev->peer), "detail", ev->detail,
	    "count", (json_int_t)ev->count, "last_time", admin_time_json(ev->last_time), "owner",
	    admin_opt_string(ev->owner), "device", admin_opt_string(ev->device)));
	l->last_id = ev->id;
	l->n++;
	return 0;
}

/*
 * GET /v1/events?since=T&after=ID&limit=N: oldest first. A key of one
 * owner sees the events of that owner only (those with its name in their
 * owner column); an all-owners key sees them all.
 */
void
admin_event_list(struct areq *a)
{
	struct id_page l = { 0 };
	const char *since = evhttp_find_header(&a->query, "since");
	uint64_t limit, after;
	int64_t since_ms = 0;
	int rc;

	if (since != NULL && clock_parse(since, &since_ms) != 0) {
		http_reply_error(a->req, 400, "bad_request",
		    "since must be RFC 3339 (2026-11-21T23:00:00Z) or Unix seconds");
		return;
	}
	if (admin_query_limit(a, &limit) != 0 ||
	    admin_query_num(a, "after", 0, INT64_MAX, 0, &after) != 0)
		return;
	l.arr = json_array();
	rc = store_event_list_owner(a->w->store, a->all_owners ? NULL : a->owner, since_ms,
	    (int64_t)after, (int)limit, event_cb, &l);
	reply_id_page(a, "events", &l, rc, limit);
}
