/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bounded audit trail (events.h's queue, retention.h's pruning) on a
 * real SQLite store in a fresh temporary directory per test, or with
 * ZTP_TEST_PG on a fresh PostgreSQL database per test (store_fixture.h;
 * what a test does behind the store's back then has a PostgreSQL form of
 * its own, said where it differs): repeats are
 * coalesced into one row with a count, each peer address gets --event-rate
 * new rows per window and one events_suppressed row for the rest, a flush
 * is one transaction, and old events and telemetry are pruned in batches.
 * Times are given to the queue, so that no test waits for a window.
 */
#define _GNU_SOURCE /* memmem, in the fixture */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "clock.h"
#include "events.h"
#include "log.h"
#include "retention.h"
#include "store.h"
#include "store_int.h" /* the SQLite connection, for a commit hook */
#include "ztp/err.h"

#include "store_fixture.h"

static const uint8_t data_key[CRYPTO_KEY_LEN] = { 11 };

#define T0 1700000000000LL /* ms */
#define WINDOW 60
#define RATE 20
#define ICCID_A "8944502509186389635"

static int
setup(void **state)
{
	log_init("test_events_queue", LOG_FORMAT_TEXT, LOG_LEVEL_WARN);
	return fixture_setup(state, data_key);
}

/* An event row as the store lists it. */
struct rows {
	struct store_event ev[64];
	int n;
};

static int
collect(const struct store_event *ev, void *arg)
{
	struct rows *r = arg;

	if (r->n < (int)(sizeof(r->ev) / sizeof(r->ev[0])))
		r->ev[r->n] = *ev;
	r->n++;
	return 0;
}

static void
list_all(struct fx *fx, struct rows *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(store_event_list(fx->st, 0, 0, 1000, collect, r), 0);
}

static int64_t
sql_count(struct fx *fx, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (fixture_pg())
		return sql_int(fx->path, sql, NULL);
	assert_int_equal(sqlite3_prepare_v2(fx->st->db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int
count_commit(void *arg)
{
	(*(int *)arg)++;
	return 0; /* let it commit */
}

static void
test_repeats_of_one_key_are_one_row(void **state)
{
	struct fx *fx = *state;
	struct evq *q = evq_new(WINDOW, RATE, EVQ_KEYS_MAX);
	struct evq_stats s;
	struct rows r;
	int i;

	assert_non_null(q);
	for (i = 0; i < 1000; i++)
		evq_note(q, T0 + i, EV_UNKNOWN_IDENTITY, ICCID_A, "127.0.0.1:5555",
		    "no SIM with this ICCID");
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM events"), 0); /* nothing before a flush */
	assert_int_equal(evq_flush(q, fx->st, T0 + 1000, 0), 0);
	list_all(fx, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.ev[0].kind, EV_UNKNOWN_IDENTITY);
	assert_string_equal(r.ev[0].iccid, ICCID_A);
	assert_string_equal(r.ev[0].peer, "127.0.0.1:5555");
	assert_string_equal(r.ev[0].detail, "no SIM with this ICCID");
	assert_int_equal(r.ev[0].count, 1000);
	assert_int_equal(r.ev[0].time, T0);
	assert_int_equal(r.ev[0].last_time, T0 + 999);
	evq_get_stats(q, &s);
	printf("1000 notes of one key: %d row, count %lld, %llu transaction(s)\n", r.n,
	    (long long)r.ev[0].count, (unsigned long long)s.flushes);
	evq_free(q);
}

static void
test_later_repeats_update_the_same_row(void **state)
{
	struct fx *fx = *state;
	struct evq *q = evq_new(WINDOW, RATE, EVQ_KEYS_MAX);
	struct evq_stats s;
	struct rows r;
	int64_t id;
	int i;

	for (i = 0; i < 10; i++)
		evq_note(q, T0 + i, EV_HANDSHAKE_REFUSED, ICCID_A, "10.0.0.1:1000", "TLS alert");
	assert_int_equal(evq_flush(q, fx->st, T0 + 10, 0), 0);
	list_all(fx, &r);
	assert_int_equal(r.n, 1);
	id = r.ev[0].id;
	for (i = 0; i < 5; i++)
		evq_note(q, T0 + 1000 + i, EV_HANDSHAKE_REFUSED, ICCID_A, "10.0.0.1:1001",
		    "TLS alert");
	assert_int_equal(evq_flush(q, fx->st, T0 + 2000, 0), 0);
	list_all(fx, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].id, id);
	assert_int_equal(r.ev[0].count, 15);
	assert_int_equal(r.ev[0].last_time, T0 + 1004);
	/* a flush with nothing new writes nothing */
	evq_get_stats(q, &s);
	assert_int_equal(s.flushes, 2);
	assert_int_equal(evq_flush(q, fx->st, T0 + 3000, 0), 0);
	evq_get_stats(q, &s);
	assert_int_equal(s.flushes, 2);
	evq_free(q);
}

static void
test_a_new_window_starts_a_new_row(void **state)
{
	struct fx *fx = *state;
	struct evq *q = evq_new(WINDOW, RATE, EVQ_KEYS_MAX);
	struct evq_stats s;
	struct rows r;

	evq_note(q, T0, EV_STALE_KEY, ICCID_A, "10.0.0.1:1", "stale");
	evq_note(q, T0 + 1, EV_STALE_KEY, ICCID_A, "10.0.0.1:2", "stale");
	assert_int_equal(evq_flush(q, fx->st, T0 + 2, 0), 0);
	/* the window is over: the key is forgotten at the next flush, a repeat is a new row */
	assert_int_equal(evq_flush(q, fx->st, T0 + WINDOW * 1000, 0), 0);
	evq_get_stats(q, &s);
	assert_int_equal(s.keys, 0);
	assert_int_equal(s.peers, 0);
	evq_note(q, T0 + WINDOW * 1000 + 5, EV_STALE_KEY, ICCID_A, "10.0.0.1:3", "stale");
	/* a repeat after the window but before any flush also starts a new row */
	evq_note(q, T0 + 3 * WINDOW * 1000, EV_STALE_KEY, ICCID_A, "10.0.0.1:3", "stale");
	assert_int_equal(evq_flush(q, fx->st, T0 + 3 * WINDOW * 1000, 1), 0);
	list_all(fx, &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.ev[0].count, 2);
	assert_int_equal(r.ev[1].count, 1);
	assert_int_equal(r.ev[1].last_time, r.ev[1].time);
	assert_int_equal(r.ev[2].count, 1);
	evq_get_stats(q, &s);
	assert_int_equal(s.keys, 0); /* final: everything written and forgotten */
	evq_free(q);
}

static void
test_distinct_iccids_over_the_rate_are_counted_in_one_suppressed_row(void **state)
{
	struct fx *fx = *state;
	struct evq *q = evq_new(WINDOW, RATE, EVQ_KEYS_MAX);
	char iccid[24];
	struct evq_stats s;
	int i;

	for (i = 0; i < 1000; i++) {
		snprintf(iccid, sizeof(iccid), "89445025091800%05d", i);
		evq_note(q, T0 + i, EV_UNKNOWN_IDENTITY, iccid, "192.0.2.7:4000", "no SIM");
	}
	assert_int_equal(evq_flush(q, fx->st, T0 + 1000, 0), 0);
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM events WHERE kind = 'unknown_identity'"),
	    RATE);
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM events WHERE kind = 'events_suppressed'"),
	    1);
	assert_int_equal(sql_count(fx, "SELECT count FROM events WHERE kind = 'events_suppressed'"
				       " AND peer = '192.0.2.7'"),
	    1000 - RATE);
	assert_int_equal(sql_count(fx, "SELECT sum(count) FROM events"), 1000);
	/* more of them: the same summary row counts on */
	for (i = 0; i < 100; i++) {
		snprintf(iccid, sizeof(iccid), "89445025091801%05d", i);
		evq_note(q, T0 + 2000 + i, EV_UNKNOWN_IDENTITY, iccid, "192.0.2.7:4001", "no SIM");
	}
	assert_int_equal(evq_flush(q, fx->st, T0 + 3000, 0), 0);
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM events"), RATE + 1);
	assert_int_equal(sql_count(fx, "SELECT count FROM events WHERE kind = 'events_suppressed'"),
	    1100 - RATE);
	evq_get_stats(q, &s);
	printf("1100 notes, distinct ICCIDs, one peer: %lld rows, %llu suppressed, %llu dropped\n",
	    (long long)sql_count(fx, "SELECT count(*) FROM events"),
	    (unsigned long long)s.suppressed, (unsigned long long)s.dropped);
	evq_free(q);
}

static void
test_two_peers_are_separate(void **state)
{
	struct fx *fx = *state;
	struct evq *q = evq_new(WINDOW, RATE, EVQ_KEYS_MAX);
	char iccid[24];
	int i;

	evq_note(q, T0, EV_HANDSHAKE_REFUSED, ICCID_A, "192.0.2.1:1", "alert");
	evq_note(q, T0, EV_HANDSHAKE_REFUSED, ICCID_A, "192.0.2.2:1", "alert");
	/* the first peer over its rate does not touch the second's */
	for (i = 0; i < 100; i++) {
		snprintf(iccid, sizeof(iccid), "89445025091800%05d", i);
		evq_note(q, T0 + 1, EV_UNKNOWN_IDENTITY, iccid, "192.0.2.1:2", "no SIM");
	}
	evq_note(q, T0 + 2, EV_UNKNOWN_IDENTITY, ICCID_A, "192.0.2.2:2", "no SIM");
	assert_int_equal(evq_flush(q, fx->st, T0 + 3, 0), 0);
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM events WHERE peer LIKE '192.0.2.1%'"
				       " AND kind != 'events_suppressed'"),
	    RATE);
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM events WHERE peer LIKE '192.0.2.2%'"),
	    2);
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM events WHERE peer = '192.0.2.2'"
				       " AND kind = 'events_suppressed'"),
	    0);
	evq_free(q);
}

#define ROT_A "00112233445566778899aabbccddeeff"
#define ROT_B "ffeeddccbbaa99887766554433221100"

/*
 * A device's events (evq_note_dev): the owner and the device are part of
 * the key and of the row; one owner's repeats never fold into another's
 * row, nor into an event without an owner.
 */
static void
test_owner_and_device_split_keys_and_reach_the_row(void **state)
{
	struct fx *fx = *state;
	struct evq *q = evq_new(WINDOW, RATE, EVQ_KEYS_MAX);
	struct rows r;
	int i;

	for (i = 0; i < 5; i++) {
		evq_note_dev(q, T0 + i, "module_clone", "acme", ROT_A, NULL, "192.0.2.9:1", "clone");
		evq_note_dev(q, T0 + i, "module_clone", "globex", ROT_A, NULL, "192.0.2.9:2", "clone");
		evq_note_dev(q, T0 + i, "module_clone", "acme", ROT_B, NULL, "192.0.2.9:3", "clone");
		evq_note(q, T0 + i, "module_clone", NULL, "192.0.2.9:4", "clone");
	}
	assert_int_equal(evq_flush(q, fx->st, T0 + 10, 0), 0);
	list_all(fx, &r);
	assert_int_equal(r.n, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(r.ev[i].count, 5);
	assert_string_equal(r.ev[0].owner, "acme");
	assert_string_equal(r.ev[0].device, ROT_A);
	assert_string_equal(r.ev[1].owner, "globex");
	assert_string_equal(r.ev[1].device, ROT_A);
	assert_string_equal(r.ev[2].owner, "acme");
	assert_string_equal(r.ev[2].device, ROT_B);
	assert_string_equal(r.ev[3].owner, "");
	assert_string_equal(r.ev[3].device, "");
	/* the owner's list: its own rows only */
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_event_list_owner(fx->st, "acme", 0, 0, 1000, collect, &r), 0);
	assert_int_equal(r.n, 2);
	/* later repeats update the owner's row, not a new one */
	evq_note_dev(q, T0 + 20, "module_clone", "acme", ROT_A, NULL, "192.0.2.9:1", "clone");
	assert_int_equal(evq_flush(q, fx->st, T0 + 21, 0), 0);
	list_all(fx, &r);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.ev[0].count, 6);
	evq_free(q);
}

static void
test_the_port_does_not_split_a_key(void **state)
{
	struct fx *fx = *state;
	struct evq *q = evq_new(WINDOW, RATE, EVQ_KEYS_MAX);
	char peer[64], addr[48];
	int i;

	evq_peer_addr("127.0.0.1:5555", addr, sizeof(addr));
	assert_string_equal(addr, "127.0.0.1");
	evq_peer_addr("[::1]:5555", addr, sizeof(addr));
	assert_string_equal(addr, "::1");
	evq_peer_addr("::1", addr, sizeof(addr)); /* no port to take away */
	assert_string_equal(addr, "::1");
	evq_peer_addr(NULL, addr, sizeof(addr));
	assert_string_equal(addr, "");
	for (i = 0; i < 300; i++) {
		snprintf(peer, sizeof(peer), "127.0.0.1:%d", 1024 + i);
		evq_note(q, T0 + i, EV_UNKNOWN_IDENTITY, NULL, peer, "malformed");
		snprintf(peer, sizeof(peer), "[::1]:%d", 1024 + i);
		evq_note(q, T0 + i, EV_UNKNOWN_IDENTITY, NULL, peer, "malformed");
	}
	assert_int_equal(evq_flush(q, fx->st, T0 + 300, 0), 0);
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM events"), 2);
	assert_int_equal(sql_count(fx, "SELECT count FROM events WHERE peer = '127.0.0.1:1024'"),
	    300);
	assert_int_equal(sql_count(fx, "SELECT count FROM events WHERE peer = '[::1]:1024'"), 300);
	evq_free(q);
}

static void
test_a_flush_is_one_transaction(void **state)
{
	struct fx *fx = *state;
	struct evq *q = evq_new(WINDOW, RATE, EVQ_KEYS_MAX);
	char peer[64];
	int commits = 0, changes, i;

	for (i = 0; i < 500; i++) {
		snprintf(peer, sizeof(peer), "198.51.100.%d:%d", i % 250, 2000 + i);
		evq_note(q, T0 + i, i < 250 ? EV_UNKNOWN_IDENTITY : EV_HANDSHAKE_REFUSED, NULL, peer,
		    "x");
	}
	if (fixture_pg()) {
		/* no commit hook: the rows of one transaction have its id as their xmin */
		assert_int_equal(sql_count(fx, "SELECT count(*) FROM events"), 0);
		assert_int_equal(evq_flush(q, fx->st, T0 + 500, 0), 0);
		assert_int_equal(sql_count(fx, "SELECT count(*) FROM events"), 500);
		assert_int_equal(sql_count(fx, "SELECT count(DISTINCT xmin::text) FROM events"), 1);
		evq_free(q);
		return;
	}
	changes = sqlite3_total_changes(fx->st->db);
	sqlite3_commit_hook(fx->st->db, count_commit, &commits);
	assert_int_equal(evq_flush(q, fx->st, T0 + 500, 0), 0);
	sqlite3_commit_hook(fx->st->db, NULL, NULL);
	changes = sqlite3_total_changes(fx->st->db) - changes;
	printf("500 new rows in one flush: %d commit(s), %d changes\n", commits, changes);
	assert_int_equal(commits, 1);
	assert_int_equal(changes, 500);
	evq_free(q);
}

static void
test_a_full_table_drops_and_counts(void **state)
{
	struct fx *fx = *state;
	struct evq *q = evq_new(WINDOW, RATE, 8);
	struct evq_stats s;
	char peer[64];
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(peer, sizeof(peer), "203.0.113.%d:1", i);
		evq_note(q, T0, EV_HANDSHAKE_REFUSED, NULL, peer, "alert");
	}
	evq_get_stats(q, &s);
	assert_int_equal(s.keys, 8);
	assert_int_equal(s.dropped, 12);
	/* a key already tracked still counts its repeats */
	evq_note(q, T0 + 1, EV_HANDSHAKE_REFUSED, NULL, "203.0.113.0:2", "alert");
	assert_int_equal(evq_flush(q, fx->st, T0 + 2, 0), 0);
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM events"), 8);
	assert_int_equal(sql_count(fx, "SELECT sum(count) FROM events"), 9);
	/* after the window there is room again */
	assert_int_equal(evq_flush(q, fx->st, T0 + WINDOW * 1000, 0), 0);
	evq_note(q, T0 + WINDOW * 1000, EV_HANDSHAKE_REFUSED, NULL, "203.0.113.19:1", "alert");
	evq_get_stats(q, &s);
	assert_int_equal(s.keys, 1);
	assert_int_equal(s.dropped, 12);
	evq_free(q);
}

static void
test_a_failed_flush_loses_nothing(void **state)
{
	struct fx *fx = *state;
	struct evq *q = evq_new(WINDOW, RATE, EVQ_KEYS_MAX);
	sqlite3 *other = NULL;

	evq_note(q, T0, EV_HANDSHAKE_REFUSED, ICCID_A, "192.0.2.9:1", "alert");
	evq_note(q, T0 + 1, EV_HANDSHAKE_REFUSED, ICCID_A, "192.0.2.9:2", "alert");
	if (fixture_pg()) {
		/* a lock would make the flush wait, not fail: a constraint refuses its rows */
		sql_run(fx->path, "ALTER TABLE events ADD CONSTRAINT ztp_test_refuse"
				  " CHECK (kind = '') NOT VALID");
		log_init("test_events_queue", LOG_FORMAT_TEXT, LOG_LEVEL_WARN + 1);
		assert_int_not_equal(evq_flush(q, fx->st, T0 + 2, 0), 0);
		log_init("test_events_queue", LOG_FORMAT_TEXT, LOG_LEVEL_WARN);
		sql_run(fx->path, "ALTER TABLE events DROP CONSTRAINT ztp_test_refuse");
		assert_int_equal(evq_flush(q, fx->st, T0 + 3, 0), 0);
		assert_int_equal(sql_count(fx, "SELECT count FROM events"), 2);
		evq_free(q);
		return;
	}
	/* another connection holds the write lock: the flush fails, keeps its rows */
	assert_int_equal(sqlite3_open(fx->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_busy_timeout(fx->st->db, 10);
	log_init("test_events_queue", LOG_FORMAT_TEXT, LOG_LEVEL_WARN + 1);
	assert_int_not_equal(evq_flush(q, fx->st, T0 + 2, 0), 0);
	log_init("test_events_queue", LOG_FORMAT_TEXT, LOG_LEVEL_WARN);
	assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(evq_flush(q, fx->st, T0 + 3, 0), 0);
	assert_int_equal(sql_count(fx, "SELECT count FROM events"), 2);
	evq_free(q);
}

/* ---- retention ---- */

static void
insert_rows(struct fx *fx, const char *table, int n, int64_t at)
{
	char sql[256];
	int i;

	if (fixture_pg()) {
		if (strcmp(table, "events") == 0)
			snprintf(sql, sizeof(sql), "INSERT INTO events(time, kind, detail)"
			    " SELECT %lld, 'admin_change', 'row ' || i FROM generate_series(0, %d) AS i",
			    (long long)at, n - 1);
		else
			snprintf(sql, sizeof(sql), "INSERT INTO telemetry(iccid, device_id, body,"
			    " received_at) SELECT '%s', 'AA', '\\x00'::bytea, %lld"
			    " FROM generate_series(1, %d)", ICCID_A, (long long)at, n);
		sql_run(fx->path, sql);
		return;
	}
	assert_int_equal(sqlite3_exec(fx->st->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	for (i = 0; i < n; i++) {
		if (strcmp(table, "events") == 0)
			snprintf(sql, sizeof(sql), "INSERT INTO events(time, kind, detail)"
			    " VALUES(%lld, 'admin_change', 'row %d')", (long long)at, i);
		else
			snprintf(sql, sizeof(sql), "INSERT INTO telemetry(iccid, device_id, body,"
			    " received_at) VALUES('%s', 'AA', x'00', %lld)", ICCID_A, (long long)at);
		assert_int_equal(sqlite3_exec(fx->st->db, sql, NULL, NULL, NULL), SQLITE_OK);
	}
	assert_int_equal(sqlite3_exec(fx->st->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
}

static void
test_pruning_deletes_only_old_rows_in_batches(void **state)
{
	struct fx *fx = *state;
	struct retention_pass p;
	int64_t now = clock_now_ms();
	long long before = 0, after;
	int rc, steps = 0, biggest = 0;

	insert_rows(fx, "events", 2500, now - 91 * RETENTION_DAY_MS);
	insert_rows(fx, "events", 7, now - 89 * RETENTION_DAY_MS);
	insert_rows(fx, "telemetry", 1200, now - 31 * RETENTION_DAY_MS);
	insert_rows(fx, "telemetry", 5, now - 29 * RETENTION_DAY_MS);
	retention_pass_begin(&p, now, 90, 30);
	do {
		rc = retention_pass_step(&p, fx->st, RETENTION_BATCH);
		assert_true(rc == 0 || rc == 1);
		after = p.events + p.telemetry;
		if (after - before > biggest)
			biggest = (int)(after - before);
		before = after;
		steps++;
	} while (rc == 1);
	printf("pruned %lld events and %lld telemetry records in %d batches (largest %d rows)\n",
	    p.events, p.telemetry, p.batches, biggest);
	assert_int_equal(p.events, 2500);
	assert_int_equal(p.telemetry, 1200);
	assert_true(biggest <= RETENTION_BATCH);
	assert_int_equal(p.batches, 5); /* 1000, 1000, 500; 1000, 200 */
	assert_int_equal(steps, 5);
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM events"), 7);
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM telemetry"), 5);
	/* a second pass finds nothing */
	retention_pass_begin(&p, now, 90, 30);
	while ((rc = retention_pass_step(&p, fx->st, RETENTION_BATCH)) == 1)
		;
	assert_int_equal(rc, 0);
	assert_int_equal(p.events + p.telemetry, 0);
}

static void
test_retention_zero_keeps_everything(void **state)
{
	struct fx *fx = *state;
	struct retention_pass p;
	int64_t now = clock_now_ms();

	insert_rows(fx, "events", 10, 0);
	insert_rows(fx, "telemetry", 10, 0);
	retention_pass_begin(&p, now, 0, 0);
	assert_int_equal(retention_pass_step(&p, fx->st, RETENTION_BATCH), 0);
	assert_int_equal(p.batches, 0);
	/* events kept, telemetry pruned */
	retention_pass_begin(&p, now, 0, 1);
	while (retention_pass_step(&p, fx->st, RETENTION_BATCH) == 1)
		;
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM events"), 10);
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM telemetry"), 0);
	/* and the other way round */
	insert_rows(fx, "telemetry", 10, 0);
	retention_pass_begin(&p, now, 1, 0);
	while (retention_pass_step(&p, fx->st, RETENTION_BATCH) == 1)
		;
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM events"), 0);
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM telemetry"), 10);
}

/* A database of schema 5 gets count 1 and no last_time for its events. */
static void
test_schema_6_migrates_old_events(void **state)
{
	struct fx *fx = *state;
	struct rows r;

	if (fixture_pg())
		skip(); /* SQLite's schema 5 and its PRAGMA user_version: no PostgreSQL store had it */
	close_store(fx);
	sql_run(fx->path, /* schemas 11 and 10 (store_sqlite.c) */
			  "DROP TABLE gw_batches; DROP TABLE gw_expected; DROP TABLE gateways;"
			  "DROP TABLE gw_commands; DROP TABLE gw_groups; DROP TABLE gw_keys; DROP TABLE pkis; DROP TABLE foreign_certs;"
			  /* schema 9 */
			  "DROP TABLE ztp_cas; DROP TABLE ztp_profile_cas; DROP TABLE ztp_module_cas;"
			  "DROP TABLE ztp_bundles;"
			  /* schema 8 */
			  "DROP TABLE module_svc_keys; DROP TRIGGER modules_sid;"
			  /* schema 7 */
			  "DROP TABLE owners; DROP TABLE profiles; DROP TABLE modules;"
			  "DROP TABLE module_keys; DROP TABLE campaigns; DROP TABLE campaign_devices;"
			  "ALTER TABLE api_keys DROP COLUMN name;"
			  "ALTER TABLE api_keys DROP COLUMN owner;"
			  "ALTER TABLE api_keys DROP COLUMN revoked_at;"
			  "DROP INDEX events_owner;"
			  "ALTER TABLE events DROP COLUMN owner;"
			  "ALTER TABLE events DROP COLUMN device;"
			  /* schema 6 */
			  "DROP INDEX telemetry_received;"
			  "ALTER TABLE events DROP COLUMN count;"
			  "ALTER TABLE events DROP COLUMN last_time;"
			  "INSERT INTO events(time, kind, detail) VALUES(1000, 'admin_change', 'old');"
			  "PRAGMA user_version = 5;");
	log_init("test_events_queue", LOG_FORMAT_TEXT, LOG_LEVEL_WARN + 1);
	assert_int_equal(store_open(&fx->st, fx->path, data_key), 0);
	log_init("test_events_queue", LOG_FORMAT_TEXT, LOG_LEVEL_WARN);
	assert_int_equal(store_schema_version(fx->st), fixture_schema_target(fx->st));
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM events WHERE count = 1 AND"
				       " last_time IS NULL"),
	    1);
	assert_int_equal(sql_count(fx, "SELECT count(*) FROM sqlite_master WHERE name ="
				       " 'telemetry_received'"),
	    1);
	list_all(fx, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].count, 1);
	assert_int_equal(r.ev[0].last_time, 1000); /* listed as its time */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_repeats_of_one_key_are_one_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_later_repeats_update_the_same_row, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_a_new_window_starts_a_new_row, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_distinct_iccids_over_the_rate_are_counted_in_one_suppressed_row, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_two_peers_are_separate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_port_does_not_split_a_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_and_device_split_keys_and_reach_the_row,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_flush_is_one_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_full_table_drops_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_failed_flush_loses_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pruning_deletes_only_old_rows_in_batches, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retention_zero_keeps_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_6_migrates_old_events, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
