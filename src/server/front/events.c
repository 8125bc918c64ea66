/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Security events (events.h): written at once (events_record), or noted on
 * the worker's bounded queue and written in batches (events_note).
 *
 * The queue: two small hash tables, one thread (its worker's).
 *   keys   (kind, peer address, ICCID, owner, device, detail) -> the
 *          occurrences of its window:
 *          first and last time, count, how many the row holds (written),
 *          the row's id once inserted. A key whose window is over is
 *          retired (out of the hash, so that the next occurrence starts a
 *          new row) and freed once its row holds its whole count.
 *   peers  peer address -> new rows created in its window (--event-rate).
 * Both hold at most max_keys entries; beyond that events are dropped and
 * counted. Nothing here allocates per event, only per new key.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "clock.h"
#include "events.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "ztp/err.h"

#define EVQ_BUCKETS 1024 /* a power of two */
#define EVQ_ADDR_MAX 48

struct evq_key {
	LIST_ENTRY(evq_key) hash; /* in its bucket while current */
	TAILQ_ENTRY(evq_key) all;
	int current;                  /* 0: retired, to be written then freed */
	int64_t first, last;          /* ms: the window starts at first */
	int64_t count, written;       /* occurrences; how many the row holds */
	int64_t row_id;               /* 0: not inserted yet */
	char kind[32];
	char addr[EVQ_ADDR_MAX];
	char iccid[ICCID_STR_SIZE];   /* "" for none */
	char owner[STORE_OWNER_MAX + 1];          /* "" for none */
	char device[STORE_EVENT_DEVICE_MAX + 1]; /* "" for none */
	char peer[64];                /* the first occurrence's, as stored */
	char detail[STORE_DETAIL_MAX];
};

struct evq_peer {
	LIST_ENTRY(evq_peer) hash;
	TAILQ_ENTRY(evq_peer) all;
	int64_t start; /* ms: its window */
	int nrows;     /* new rows in it */
	char addr[EVQ_ADDR_MAX];
};

LIST_HEAD(evq_key_list, evq_key);
LIST_HEAD(evq_peer_list, evq_peer);

struct evq {
	int64_t window_ms;
	int rate;
	size_t max_keys;
	struct evq_key_list kbucket[EVQ_BUCKETS];
	struct evq_peer_list pbucket[EVQ_BUCKETS];
	TAILQ_HEAD(, evq_key) keys;
	TAILQ_HEAD(, evq_peer) peers;
	struct evq_stats st;
	uint64_t dropped_logged; /* st.dropped when last logged */
	int64_t dropped_log_at;  /* ms; 0: never */
	struct store_event_row *rows; /* max_keys rows for a flush */
	struct evq_key **rowkeys;
	struct event *timer; /* events_worker_start's flush timer */
};

/* FNV-1a over the NUL-separated strings, NULL-ended. */
static size_t
hash_strs(const char *s, ...)
{
	uint32_t h = 2166136261u;
	va_list ap;

	va_start(ap, s);
	for (; s != NULL; s = va_arg(ap, const char *)) {
		for (; *s != '\0'; s++)
			h = (h ^ (uint8_t)*s) * 16777619u;
		h = (h ^ 0xff) * 16777619u;
	}
	va_end(ap);
	return h & (EVQ_BUCKETS - 1);
}

void
evq_peer_addr(const char *peer, char *out, size_t cap)
{
	const char *end, *colon;
	size_t len;

	if (cap == 0)
		return;
	if (peer == NULL)
		peer = "";
	len = strlen(peer);
	if (peer[0] == '[' && (end = strchr(peer, ']')) != NULL) {
		peer++;
		len = (size_t)(end - peer);
	} else if ((colon = strrchr(peer, ':')) != NULL && strchr(peer, ':') == colon) {
		len = (size_t)(colon - peer);
	}
	if (len >= cap)
		len = cap - 1;
	memcpy(out, peer, len);
	out[len] = '\0';
}

struct evq *
evq_new(int window_s, int rate, size_t max_keys)
{
	struct evq *q;
	size_t i;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->window_ms = (int64_t)(window_s > 0 ? window_s : 1) * 1000;
	q->rate = rate > 0 ? rate : 1;
	q->max_keys = max_keys > 0 ? max_keys : 1;
	for (i = 0; i < EVQ_BUCKETS; i++) {
		LIST_INIT(&q->kbucket[i]);
		LIST_INIT(&q->pbucket[i]);
	}
	TAILQ_INIT(&q->keys);
	TAILQ_INIT(&q->peers);
	q->rows = calloc(q->max_keys, sizeof(*q->rows));
	q->rowkeys = calloc(q->max_keys, sizeof(*q->rowkeys));
	if (q->rows == NULL || q->rowkeys == NULL) {
		evq_free(q);
		return NULL;
	}
	return q;
}

static void
key_free(struct evq *q, struct evq_key *k)
{
	if (k->current)
		LIST_REMOVE(k, hash);
	TAILQ_REMOVE(&q->keys, k, all);
	q->st.keys--;
	free(k);
}

static void
peer_free(struct evq *q, struct evq_peer *p)
{
	LIST_REMOVE(p, hash);
	TAILQ_REMOVE(&q->peers, p, all);
	q->st.peers--;
	free(p);
}

void
evq_free(struct evq *q)
{
	if (q == NULL)
		return;
	if (q->timer != NULL)
		event_free(q->timer);
	while (!TAILQ_EMPTY(&q->keys))
		key_free(q, TAILQ_FIRST(&q->keys));
	while (!TAILQ_EMPTY(&q->peers))
		peer_free(q, TAILQ_FIRST(&q->peers));
	free(q->rows);
	free(q->rowkeys);
	free(q);
}

/* The window that started at start is over at now (a clock set back ends it too). */
static int
window_over(const struct evq *q, int64_t start, int64_t now)
{
	return now < start || now - start >= q->window_ms;
}

/* The peer entry of addr with its window current at now; NULL if the table is full. */
static struct evq_peer *
peer_get(struct evq *q, const char *addr, int64_t now)
{
	struct evq_peer_list *b = &q->pbucket[hash_strs(addr, (const char *)NULL)];
	struct evq_peer *p;

	LIST_FOREACH(p, b, hash)
		if (strcmp(p->addr, addr) == 0)
			break;
	if (p == NULL) {
		if (q->st.peers >= q->max_keys || (p = calloc(1, sizeof(*p))) == NULL)
			return NULL;
		snprintf(p->addr, sizeof(p->addr), "%s", addr);
		p->start = now;
		LIST_INSERT_HEAD(b, p, hash);
		TAILQ_INSERT_TAIL(&q->peers, p, all);
		q->st.peers++;
	} else if (window_over(q, p->start, now)) {
		p->start = now;
		p->nrows = 0;
	}
	return p;
}

/* What tells one key from another: each "" for none (detail: NULL for any). */
struct evq_ident {
	const char *kind, *addr, *iccid, *owner, *device, *detail;
};

static size_t
ident_hash(const struct evq_ident *id)
{
	return hash_strs(id->kind, id->addr, id->iccid, id->owner, id->device,
	    id->detail != NULL ? id->detail : "", (const char *)NULL);
}

/*
 * The current key of id, or NULL; one whose window is over is retired.
 * The detail is part of the key so that different reasons (a token
 * expired, then one forged) stay apart; the owner and device so that
 * each owner's events stay its own.
 */
static struct evq_key *
key_find(struct evq *q, size_t h, const struct evq_ident *id, int64_t now)
{
	struct evq_key *k;

	LIST_FOREACH(k, &q->kbucket[h], hash)
		if (strcmp(k->kind, id->kind) == 0 && strcmp(k->addr, id->addr) == 0 &&
		    strcmp(k->iccid, id->iccid) == 0 &&
		    strncmp(k->owner, id->owner, sizeof(k->owner) - 1) == 0 &&
		    strncmp(k->device, id->device, sizeof(k->device) - 1) == 0 &&
		    (id->detail == NULL ||
			strncmp(k->detail, id->detail, sizeof(k->detail) - 1) == 0))
			break;
	if (k != NULL && window_over(q, k->first, now)) {
		LIST_REMOVE(k, hash);
		k->current = 0;
		return NULL;
	}
	return k;
}

/* A new current key of id, its first occurrence at now; NULL if the table is full. */
static struct evq_key *
key_new(struct evq *q, size_t h, const struct evq_ident *id, const char *peer, int64_t now)
{
	struct evq_key *k;

	if (q->st.keys >= q->max_keys || (k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	snprintf(k->kind, sizeof(k->kind), "%s", id->kind);
	snprintf(k->addr, sizeof(k->addr), "%s", id->addr);
	snprintf(k->iccid, sizeof(k->iccid), "%s", id->iccid);
	snprintf(k->owner, sizeof(k->owner), "%s", id->owner);
	snprintf(k->device, sizeof(k->device), "%s", id->device);
	snprintf(k->peer, sizeof(k->peer), "%s", peer);
	snprintf(k->detail, sizeof(k->detail), "%s", id->detail != NULL ? id->detail : "");
	k->first = k->last = now;
	k->current = 1;
	LIST_INSERT_HEAD(&q->kbucket[h], k, hash);
	TAILQ_INSERT_TAIL(&q->keys, k, all);
	q->st.keys++;
	return k;
}

/* An event over its peer's rate: counted in the address's events_suppressed key. */
static void
note_suppressed(struct evq *q, const char *addr, int64_t now)
{
	struct evq_ident id = { EV_EVENTS_SUPPRESSED, addr, "", "", "", NULL };
	size_t h = ident_hash(&id);
	struct evq_key *k;
	char detail[STORE_DETAIL_MAX];

	if ((k = key_find(q, h, &id, now)) == NULL) {
		snprintf(detail, sizeof(detail),
		    "more than %d new events in %lld s from this address: the rest are counted "
		    "here, not stored", q->rate, (long long)(q->window_ms / 1000));
		id.detail = detail;
		if ((k = key_new(q, h, &id, addr, now)) == NULL) {
			q->st.dropped++;
			return;
		}
		log_event(EV_EVENTS_SUPPRESSED, "peer", addr, "detail", detail, (const char *)NULL);
	}
	k->count++;
	k->last = now;
	q->st.suppressed++;
}

/* The first occurrence of a key goes to the log; owner and device only when there are. */
static void
log_first(const struct evq_key *k)
{
	if (k->owner[0] == '\0' && k->device[0] == '\0')
		log_event(k->kind, "iccid", k->iccid, "peer", k->peer, "detail", k->detail,
		    (const char *)NULL);
	else
		log_event(k->kind, "iccid", k->iccid, "peer", k->peer, "owner", k->owner, "device",
		    k->device, "detail", k->detail, (const char *)NULL);
}

void
evq_note_dev(struct evq *q, int64_t now, const char *kind, const char *owner,
    const char *device, const char *iccid, const char *peer, const char *detail)
{
	char addr[EVQ_ADDR_MAX];
	struct evq_ident id;
	struct evq_peer *p;
	struct evq_key *k;
	size_t h;

	if (peer == NULL)
		peer = "";
	evq_peer_addr(peer, addr, sizeof(addr));
	id = (struct evq_ident){ kind, addr, iccid != NULL ? iccid : "", owner != NULL ? owner : "",
		device != NULL ? device : "", detail != NULL ? detail : "" };
	h = ident_hash(&id);
	if ((k = key_find(q, h, &id, now)) != NULL) {
		k->count++;
		k->last = now;
		return;
	}
	if ((p = peer_get(q, addr, now)) == NULL) {
		q->st.dropped++;
		return;
	}
	if (p->nrows >= q->rate) {
		note_suppressed(q, addr, now);
		return;
	}
	if ((k = key_new(q, h, &id, peer, now)) == NULL) {
		q->st.dropped++;
		return;
	}
	k->count = 1;
	p->nrows++;
	log_first(k);
}

void
evq_note(struct evq *q, int64_t now, const char *kind, const char *iccid, const char *peer,
    const char *detail)
{
	evq_note_dev(q, now, kind, NULL, NULL, iccid, peer, detail);
}

/* A key is forgotten: say how often it repeated, once, as its window ends. */
static void
key_done(struct evq *q, struct evq_key *k)
{
	char n[24], secs[24];

	if (k->count > 1) {
		snprintf(n, sizeof(n), "%lld", (long long)k->count);
		snprintf(secs, sizeof(secs), "%lld", (long long)((k->last - k->first) / 1000));
		log_event(k->kind, "iccid", k->iccid, "peer", k->addr, "count", n, "seconds", secs,
		    "detail", strcmp(k->kind, EV_EVENTS_SUPPRESSED) == 0 ?
		    "events dropped over the rate of this address" : "repeats of this event",
		    (const char *)NULL);
	}
	key_free(q, k);
}

int
evq_flush(struct evq *q, struct store *st, int64_t now, int final)
{
	struct evq_key *k, *next;
	struct evq_peer *p, *pnext;
	size_t i, n = 0;
	int rc = 0;

	TAILQ_FOREACH(k, &q->keys, all) {
		if (k->count == k->written || n >= q->max_keys)
			continue;
		q->rows[n] = (struct store_event_row){ .id = k->row_id, .time = k->first,
			.last_time = k->last, .count = k->count, .kind = k->kind, .iccid = k->iccid,
			.peer = k->peer, .detail = k->detail, .owner = k->owner, .device = k->device };
		q->rowkeys[n++] = k;
	}
	if (n > 0 && (rc = store_event_batch(st, q->rows, n)) == 0) {
		for (i = 0; i < n; i++) {
			if (q->rowkeys[i]->row_id == 0)
				q->st.rows++;
			q->rowkeys[i]->row_id = q->rows[i].id;
			q->rowkeys[i]->written = q->rows[i].count;
		}
		q->st.flushes++;
	} else if (rc != 0) {
		log_warnx("could not store %zu pending events; trying again", n);
	}
	for (k = TAILQ_FIRST(&q->keys); k != NULL; k = next) {
		next = TAILQ_NEXT(k, all);
		if (k->count == k->written &&
		    (final || !k->current || window_over(q, k->first, now)))
			key_done(q, k);
	}
	for (p = TAILQ_FIRST(&q->peers); p != NULL; p = pnext) {
		pnext = TAILQ_NEXT(p, all);
		if (final || window_over(q, p->start, now))
			peer_free(q, p);
	}
	if (q->st.dropped > q->dropped_logged &&
	    (final || q->dropped_log_at == 0 || window_over(q, q->dropped_log_at, now))) {
		log_warnx("events: %llu dropped (more than %zu keys tracked by this worker)",
		    (unsigned long long)(q->st.dropped - q->dropped_logged), q->max_keys);
		q->dropped_logged = q->st.dropped;
		q->dropped_log_at = now;
	}
	return rc;
}

void
evq_get_stats(const struct evq *q, struct evq_stats *out)
{
	*out = q->st;
}

/* ---- in a worker ---- */

/* written at once: one row, one log line (owner and device in it when there are) */
static void
record(struct store *st, const char *kind, const char *owner, const char *device,
    const char *iccid, const char *peer, const char *detail)
{
	if ((owner == NULL || owner[0] == '\0') && (device == NULL || device[0] == '\0'))
		log_event(kind, "iccid", iccid ? iccid : "", "peer", peer ? peer : "", "detail",
		    detail, (const char *)NULL);
	else
		log_event(kind, "iccid", iccid ? iccid : "", "peer", peer ? peer : "", "owner",
		    owner ? owner : "", "device", device ? device : "", "detail", detail,
		    (const char *)NULL);
	if (st != NULL && store_event_add_dev(st, kind, owner, device, iccid, peer, detail) != 0)
		log_warnx("could not store the %s event", kind);
}

void
events_record(struct store *st, const char *kind, const char *iccid, const char *peer,
    const char *fmt, ...)
{
	char detail[STORE_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	record(st, kind, NULL, NULL, iccid, peer, detail);
}

void
events_record_dev(struct store *st, const char *kind, const char *owner, const char *device,
    const char *peer, const char *fmt, ...)
{
	char detail[STORE_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	record(st, kind, owner, device, NULL, peer, detail);
}

void
events_note(struct worker *w, const char *kind, const char *iccid, const char *peer,
    const char *fmt, ...)
{
	char detail[STORE_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (w->evq == NULL) {
		record(w->store, kind, NULL, NULL, iccid, peer, detail);
		return;
	}
	evq_note(w->evq, clock_now_ms(), kind, iccid, peer, detail);
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	evq_flush(w->evq, w->store, clock_now_ms(), 0);
}

int
events_worker_start(struct worker *w)
{
	const struct config *cfg = w->srv->cfg;
	struct timeval tv = { EVQ_FLUSH_MS / 1000, (EVQ_FLUSH_MS % 1000) * 1000 };

	if ((w->evq = evq_new(cfg->event_window, cfg->event_rate, EVQ_KEYS_MAX)) == NULL)
		return ZTP_ENOMEM;
	if ((w->evq->timer = event_new(w->base, -1, EV_PERSIST, flush_cb, w)) == NULL ||
	    event_add(w->evq->timer, &tv) != 0)
		return ZTP_ENOMEM;
	return 0;
}

void
events_worker_end(struct worker *w)
{
	if (w->evq == NULL)
		return;
	if (w->store != NULL)
		evq_flush(w->evq, w->store, clock_now_ms(), 1);
	evq_free(w->evq);
	w->evq = NULL;
}

void
events_note_dev(struct worker *w, const char *kind, const char *owner, const char *device,
    const char *peer, const char *fmt, ...)
{
	char detail[STORE_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (w->evq == NULL) {
		record(w->store, kind, owner, device, NULL, peer, detail);
		return;
	}
	evq_note_dev(w->evq, clock_now_ms(), kind, owner, device, NULL, peer, detail);
}
