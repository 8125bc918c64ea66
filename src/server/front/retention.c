/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retention (retention.h): a pass is a short sequence of DELETEs of at
 * most RETENTION_BATCH rows each, the events first, then the telemetry; a
 * timer on worker 0's event_base runs one batch per callback, with a zero
 * time-out between batches and RETENTION_PERIOD_S between passes.
 */
#include <stdlib.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "retention.h"
#include "server.h"
#include "store.h"
#include "ztp/err.h"

struct retention {
	struct worker *w;
	struct event *ev;
	struct retention_pass pass;
	int running; /* a pass is under way */
};

void
retention_pass_begin(struct retention_pass *p, int64_t now, int events_days, int telemetry_days)
{
	p->events_before = events_days > 0 ? now - events_days * RETENTION_DAY_MS : 0;
	p->telemetry_before = telemetry_days > 0 ? now - telemetry_days * RETENTION_DAY_MS : 0;
	p->phase = 0;
	p->events = p->telemetry = 0;
	p->batches = 0;
}

int
retention_pass_step(struct retention_pass *p, struct store *st, int limit)
{
	int n = 0, rc;

	if (p->phase == 0 && p->events_before == 0)
		p->phase = 1;
	if (p->phase == 1 && p->telemetry_before == 0)
		p->phase = 2;
	if (p->phase >= 2)
		return 0;
	if (p->phase == 0) {
		rc = store_event_prune(st, p->events_before, limit, &n);
		p->events += n;
	} else {
		rc = store_telemetry_prune(st, p->telemetry_before, limit, &n);
		p->telemetry += n;
	}
	p->batches++;
	if (rc != 0) {
		p->phase = 2;
		return rc;
	}
	if (n < limit)
		p->phase++;
	return p->phase < 2 ? 1 : 0;
}

static void
retention_cb(evutil_socket_t fd, short what, void *arg)
{
	struct retention *r = arg;
	const struct config *cfg = r->w->srv->cfg;
	struct timeval now = { 0, 0 }, later = { RETENTION_PERIOD_S, 0 };
	int rc;

	(void)fd;
	(void)what;
	if (!r->running) {
		retention_pass_begin(&r->pass, clock_now_ms(), cfg->retain_events,
		    cfg->retain_telemetry);
		r->running = 1;
	}
	if ((rc = retention_pass_step(&r->pass, r->w->store, RETENTION_BATCH)) == 1) {
		event_add(r->ev, &now); /* the next batch once the loop has run */
		return;
	}
	r->running = 0;
	if (rc < 0)
		log_warnx("retention: pruning stopped (%s); again in %d s", ztp_strerror(rc),
		    RETENTION_PERIOD_S);
	if (r->pass.events > 0 || r->pass.telemetry > 0)
		log_info("retention: pruned %lld events older than %d days, %lld telemetry records "
		    "older than %d days (%d batches; 0 days: kept)", r->pass.events,
		    cfg->retain_events, r->pass.telemetry, cfg->retain_telemetry, r->pass.batches);
	event_add(r->ev, &later);
}

int
retention_start(struct worker *w)
{
	const struct config *cfg = w->srv->cfg;
	struct timeval first = { RETENTION_FIRST_S, 0 };
	struct retention *r;

	if (w->id != 0 || (cfg->retain_events == 0 && cfg->retain_telemetry == 0))
		return 0;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ZTP_ENOMEM;
	r->w = w;
	w->retention = r;
	if ((r->ev = evtimer_new(w->base, retention_cb, r)) == NULL || evtimer_add(r->ev, &first) != 0)
		return ZTP_ENOMEM;
	return 0;
}

void
retention_end(struct worker *w)
{
	struct retention *r = w->retention;

	if (r == NULL)
		return;
	if (r->ev != NULL)
		event_free(r->ev);
	free(r);
	w->retention = NULL;
}
