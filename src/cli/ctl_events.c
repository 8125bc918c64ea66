/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl events: the server's event log (/v1/events), oldest first.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "clock.h"
#include "ctl.h"
#include "ztp/err.h"

static const char *const event_head[] = { "TIME", "KIND", "ICCID", "DEVICE", "OWNER", "PEER",
	"DETAIL" };
static const char *const event_cols[] = { "time", "kind", "iccid", "device", "owner", "peer",
	"detail" };
#define EVENT_DETAIL_COL 6

/* A row that stands for repeats says how many, and when the last one was. */
static void
event_cell(const json_t *item, size_t col, char *out, size_t cap)
{
	const json_t *count = json_object_get(item, "count");
	char last[64];
	size_t len;

	ctl_out_value(json_object_get(item, event_cols[col]), out, cap);
	if (col != EVENT_DETAIL_COL || !json_is_integer(count) || json_integer_value(count) <= 1)
		return;
	ctl_out_value(json_object_get(item, "last_time"), last, sizeof(last));
	len = strlen(out);
	snprintf(out + len, cap - len, " (%lld times, last %s)",
	    (long long)json_integer_value(count), last);
}

/* events [--since T] [--limit N]: T is checked here and sent as written */
static int
events_list(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { event_head, event_cols, 7, event_cell };
	char query[256], ssince[64];
	uint64_t max = 0;
	int64_t ms;
	char *e;
	int rc;

	rc = ctl_check_limit(a->limit, &max);
	if (rc != 0)
		return rc;
	query[0] = '\0';
	if (a->since != NULL) {
		if (clock_parse(a->since, &ms) != 0)
			return ctl_usage_error("invalid --since '%s': expected RFC 3339 "
			    "(2026-11-21T23:00:00Z) or Unix seconds",
			    ctl_san(a->since, ssince, sizeof(ssince)));
		/* curl_easy_escape needs no handle */
		e = curl_easy_escape(NULL, a->since, 0);
		if (e == NULL) {
			return ctl_nomem();
		}
		snprintf(query, sizeof(query), "since=%s", e);
		curl_free(e);
	}
	return ctl_req_pages(c, "/v1/events", query, "events", "after", max, &t);
}

static const struct ctl_cmd events_cmds[] = {
	{ NULL, OPT_SINCE | OPT_LIMIT, 0, "events [--since T] [--limit N]",
	    events_list },
};

/* the noun events: its commands, its lines of ztpctl --help */
const struct ctl_noun ctl_events = {
	events_cmds,
	CTL_NELEM(events_cmds),
	"  events [--since T] [--limit N] the events, oldest first, from time T on\n"
	"                                 (RFC 3339 such as 2026-11-21T23:00:00Z, or\n"
	"                                 Unix seconds); the first N only with --limit\n"
};
