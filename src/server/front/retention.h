/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retention: events older than --retain-events days and telemetry older
 * than --retain-telemetry days (0: kept forever) are deleted in the
 * background by worker 0: a pass RETENTION_FIRST_S after the start, then
 * every RETENTION_PERIOD_S; each pass deletes RETENTION_BATCH rows per
 * statement (one transaction each) and yields to the event loop between
 * batches, so that a large backlog never blocks requests for long.
 */
#ifndef ZTP_RETENTION_H
#define ZTP_RETENTION_H
#include <stdint.h>

struct store;
struct worker;

#define RETENTION_FIRST_S 3
#define RETENTION_PERIOD_S 60
#define RETENTION_BATCH 1000
#define RETENTION_DAY_MS (86400LL * 1000)

/* One pass over both tables, a batch at a time; no allocation, no timer. */
struct retention_pass {
	int64_t events_before, telemetry_before; /* ms; 0: keep that table */
	int phase;                               /* 0 events, 1 telemetry, 2 done */
	long long events, telemetry;             /* rows deleted so far */
	int batches;                             /* statements run */
};

/* Start a pass at now (ms) with retentions in days (0: keep). */
void retention_pass_begin(struct retention_pass *p, int64_t now, int events_days,
    int telemetry_days);
/*
 * Run one batch of at most limit rows: 1 if the pass goes on (call again),
 * 0 when it is done, or the store's error (the pass ends).
 */
int retention_pass_step(struct retention_pass *p, struct store *st, int limit);

/* worker.c: w->retention, on worker 0 when a retention is set (else nothing); and its end. */
int retention_start(struct worker *w);
void retention_end(struct worker *w);

#endif
