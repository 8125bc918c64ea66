/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CRL synchronisation of foreign PKIs (pki.h, docs/pki-crl.md): fetch a
 * PKI's CRL, check it, accept it, block the devices it lists; the front's
 * thread that does it on schedule and on demand.
 *
 * The thread. One per front, with a store connection of its own (a
 * PostgreSQL store's calls wait on their socket here, in no worker). It
 * sleeps until the first PKI is due, PKI_SCAN_MS at most (another ztpd on
 * the database may add one), or until woken (pki_wake, an on-demand sync,
 * pki_stop). A due PKI is taken in the store by a conditional UPDATE of
 * its last_fetch_at, so that of several ztpd on one database one fetches
 * it. On-demand syncs (the admin API) wait in a queue of at most
 * PKI_JOBS_MAX and run before the next due PKI; each is a job of its
 * worker: the result goes back through a pipe whose read end is an event
 * of the worker's loop (the keygen jobs of est_api.c do the same), so the
 * request is answered on its worker's thread.
 *
 * A job's life, under the lock: QUEUED (in the queue) -> RUNNING (the
 * thread syncs) -> DONE (the pipe written) -> freed by its worker's event.
 * A worker that exits first (pki_worker_exit) frees its QUEUED and DONE
 * jobs, and leaves a RUNNING one to the thread, which frees it when done.
 * pki_stop cuts a fetch under way (curl's progress callback sees the flag)
 * and answers what is queued with "stopping".
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "ca.h"
#include "clock.h"
#include "events.h"
#include "log.h"
#include "pki.h"
#include "server.h"
#include "signer_msg.h"
#include "store.h"
#include "ztp/err.h"

#define FETCH_CHUNK (64 * 1024) /* the first buffer; it doubles up to PKI_CRL_MAX */
#define DUE_MAX 256             /* PKIs taken from one look at the schedule */

/* ---- fetching ---- */

struct fetch_buf {
	uint8_t *p;
	size_t n, cap;
	int over;
	const atomic_int *stop;
};

static size_t
fetch_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct fetch_buf *b = arg;
	size_t len = size * nmemb, cap;
	uint8_t *p;

	if (nmemb != 0 && len / nmemb != size)
		return 0;
	if (len > PKI_CRL_MAX - b->n) {
		b->over = 1;
		return 0;
	}
	if (b->n + len > b->cap) {
		cap = b->cap == 0 ? FETCH_CHUNK : b->cap;
		while (cap < b->n + len)
			cap *= 2;
		if (cap > PKI_CRL_MAX)
			cap = PKI_CRL_MAX;
		if ((p = realloc(b->p, cap)) == NULL)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, ptr, len);
	b->n += len;
	return len;
}

static int
fetch_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct fetch_buf *b = arg;

	/* a Content-Length over the bound ends it before the body comes */
	if (dltotal > (curl_off_t)PKI_CRL_MAX) {
		b->over = 1;
		return 1;
	}
	return b->stop != NULL && atomic_load(b->stop) ? 1 : 0;
}

/*
 * GET url (http or https, PKI_FETCH_REDIRECTS redirections to http or https
 * at most, PKI_FETCH_CONNECT_S to connect, PKI_FETCH_TIMEOUT_S in all, at
 * most PKI_CRL_MAX bytes): 200 and its body into *out (malloc'd) and *len,
 * or ZTP_EIO, ZTP_ETOOBIG with the reason in why.
 */
static int
fetch(const char *url, const atomic_int *stop, uint8_t **out, size_t *len, char *why,
    size_t cap)
{
	struct fetch_buf b = { .stop = stop };
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode cc;
	CURL *h;
	int rc = ZTP_EIO;

	*out = NULL;
	*len = 0;
	if ((h = curl_easy_init()) == NULL)
		return ztp_errf(why, cap, ZTP_ENOMEM, "cannot start a transfer");
	curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)PKI_FETCH_REDIRECTS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)PKI_FETCH_CONNECT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)PKI_FETCH_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)PKI_CRL_MAX);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, fetch_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "ztpd");
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (b.over || cc == CURLE_FILESIZE_EXCEEDED) {
		rc = ztp_errf(why, cap, ZTP_ETOOBIG, "the CRL is over %d bytes", PKI_CRL_MAX);
	} else if (stop != NULL && atomic_load(stop)) {
		ztp_errf(why, cap, rc, "the server is stopping");
	} else if (cc != CURLE_OK) {
		ztp_errf(why, cap, rc, "fetching the CRL failed: %s",
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
	} else if (status != 200) {
		ztp_errf(why, cap, rc, "fetching the CRL: the server answered HTTP %ld", status);
	} else {
		*out = b.p;
		*len = b.n;
		b.p = NULL;
		rc = 0;
	}
	free(b.p);
	curl_easy_cleanup(h);
	return rc;
}

/* ---- applying a CRL ---- */

/* The certificates of one chunk of serials that the store found seen. */
struct listed {
	struct store_foreign_cert fc[STORE_FOREIGN_CHUNK];
	size_t n;
};

static int
listed_cb(const struct store_foreign_cert *fc, void *arg)
{
	struct listed *l = arg;

	if (l->n == STORE_FOREIGN_CHUNK)
		return ZTP_EINTERNAL; /* more rows than serials asked for: cannot be */
	l->fc[l->n++] = *fc;
	return 0;
}

/* " (asked by API key X)" or "". */
static void
by_note(const char *by, char *out, size_t cap)
{
	if (by != NULL && by[0] != '\0')
		snprintf(out, cap, " (sync by key %s)", by);
	else
		out[0] = '\0';
}

/*
 * Act on one listed certificate that no sync acted on: taken (marked) in
 * the store first, so that one sync acts on it, then its device blocked
 * unless it is blocked already. A device the store has no record of is
 * left (unmarked) for a later sync. 0, or the store's error (unmarked).
 */
static int
act(struct store *st, const struct store_pki *p, const char *number,
    const struct store_foreign_cert *fc, int64_t now, const char *by,
    struct pki_sync_result *r)
{
	struct store_thing t;
	char note[64];
	int rc, n = 0;

	if ((rc = store_foreign_cert_mark(st, fc->issuer, fc->serial, now)) == ZTP_EEXIST) {
		r->earlier++;
		return 0;
	}
	if (rc != 0)
		return rc;
	rc = store_thing_get(st, fc->udid, &t);
	if (rc == 0 && t.blocked) {
		r->already++;
		return 0;
	}
	if (rc == 0)
		rc = store_thing_block(st, fc->udid, SIGNER_REASON_PRIVILEGE_WITHDRAWN, &n);
	if (rc != 0) {
		store_foreign_cert_mark(st, fc->issuer, fc->serial, 0);
		if (rc != ZTP_ENOENT)
			return rc;
		r->unknown++;
		return 0;
	}
	r->blocked++;
	r->revoked += n;
	by_note(by, note, sizeof(note));
	if (n > 0)
		events_record(st, EV_CERT_REVOKED, t.iccid[0] ? t.iccid : NULL, NULL,
		    "%d certificates of %s revoked (privilegeWithdrawn) by the CRL of PKI %s: device "
		    "blocked", n, fc->udid, p->name);
	events_record(st, EV_PKI_REVOKED, t.iccid[0] ? t.iccid : NULL, NULL,
	    "device %s blocked: its %s certificate %s is on the CRL%s%s of PKI %s; %d of our "
	    "certificates revoked%s", fc->udid, fc->kind, fc->serial, number[0] ? " " : "", number,
	    p->name, n, note);
	log_info("PKI %s: device %s blocked, its %s certificate %s is on the CRL", p->name,
	    fc->udid, fc->kind, fc->serial);
	return 0;
}

/* Every entry of c, STORE_FOREIGN_CHUNK at a time: the seen ones acted on. */
static int
apply_entries(struct store *st, const struct store_pki *p, const struct pki_crl *c,
    const char *issuer, int64_t now, const char *by, struct pki_sync_result *r)
{
	static const size_t chunk = STORE_FOREIGN_CHUNK;
	char serials[STORE_FOREIGN_CHUNK][STORE_SERIAL_HEX];
	const char *ptrs[STORE_FOREIGN_CHUNK];
	struct listed *l;
	size_t at, i, k;
	int rc = 0;

	if ((l = malloc(sizeof(*l))) == NULL)
		return ZTP_ENOMEM;
	for (at = 0; at < c->entries && rc == 0; at += chunk) {
		k = c->entries - at < chunk ? c->entries - at : chunk;
		for (i = 0; i < k; i++) {
			/* a serial the store cannot hold (over 20 bytes) matches nothing seen */
			if (pki_crl_serial(c, at + i, serials[i]) != 0)
				serials[i][0] = '\0';
			ptrs[i] = serials[i];
		}
		l->n = 0;
		if ((rc = store_foreign_cert_listed(st, issuer, ptrs, k, listed_cb, l)) != 0)
			break;
		for (i = 0; i < l->n && rc == 0; i++) {
			r->listed++;
			if (l->fc[i].blocked_at != 0)
				r->earlier++;
			else
				rc = act(st, p, c->number, &l->fc[i], now, by, r);
		}
	}
	free(l);
	return rc;
}

int
pki_sync_apply(struct server *srv, struct store *st, const struct store_pki *p,
    const uint8_t *crl, size_t len, int64_t now, const char *by, struct pki_sync_result *r)
{
	char why[STORE_DETAIL_MAX - 32], issuer[STORE_ISSUER_HEX];
	const unsigned char *der = p->ca;
	struct pki_crl c = { 0 };
	X509 *ca = NULL;
	int rc;

	r->bytes = (int64_t)len;
	why[0] = '\0';
	if ((ca = d2i_X509(NULL, &der, (long)p->ca_len)) == NULL ||
	    pki_issuer_hex(X509_get_subject_name(ca), issuer) != 0) {
		rc = ztp_errf(why, sizeof(why), ZTP_EMALFORMED, "the PKI's CA certificate cannot be "
		    "read");
		goto out;
	}
	if ((rc = pki_crl_check(crl, len, ca, now / 1000, &c, why, sizeof(why))) != 0)
		goto out;
	snprintf(r->crl_number, sizeof(r->crl_number), "%s", c.number);
	r->this_update = c.this_update;
	r->next_update = c.next_update;
	r->entries = (int64_t)c.entries;
	r->stale = c.next_update != 0 && c.next_update < now / 1000;
	if ((rc = store_pki_accept(st, p->name, now, c.number, c.this_update, (int64_t)c.entries,
		 why, sizeof(why))) != 0) {
		if (rc == ZTP_ESTORE)
			snprintf(why, sizeof(why), "store failure");
		goto out;
	}
	if ((rc = apply_entries(st, p, &c, issuer, now, by, r)) != 0) {
		snprintf(why, sizeof(why), "the CRL was accepted, but blocking its devices failed "
		    "(%s); the next sync goes on", ztp_strerror(rc));
		goto out;
	}
out:
	/* our certificates revoked by the blocks: our own CRL is re-signed now (else in a minute) */
	if (r->revoked > 0 && srv != NULL && ca_crl_update(srv, st, 0) != 0)
		log_warnx("PKI %s: cannot re-sign our CRL now; trying again in a minute", p->name);
	if (rc != 0) {
		snprintf(r->error, sizeof(r->error), "CRL refused: %s", why);
		if (rc == ZTP_ENOENT)
			snprintf(r->error, sizeof(r->error), "no such PKI");
		else if (store_pki_fetch_failed(st, p->name, r->error) != 0)
			log_warnx("PKI %s: its error cannot be recorded", p->name);
	}
	pki_crl_free(&c);
	X509_free(ca);
	r->rc = rc;
	return rc;
}

/* The pki_sync or pki_sync_failed event of a sync, and its log line. */
static void
sync_event(struct store *st, const char *name, const char *by, const struct pki_sync_result *r)
{
	char note[64], t[21];

	by_note(by, note, sizeof(note));
	if (r->rc != 0) {
		events_record(st, EV_PKI_SYNC_FAILED, NULL, NULL, "PKI %s: %s%s", name, r->error,
		    note);
		log_warnx("PKI %s: %s", name, r->error);
		return;
	}
	events_record(st, EV_PKI_SYNC, NULL, NULL, "PKI %s: CRL %s of %s%s, %lld entries, "
	    "%lld seen: %lld blocked, %lld blocked already, %lld earlier, %lld without a "
	    "device record%s", name, r->crl_number[0] ? r->crl_number : "(no number)",
	    clock_iso8601(r->this_update, t), r->stale ? " (stale)" : "", (long long)r->entries,
	    (long long)r->listed, (long long)r->blocked, (long long)r->already,
	    (long long)r->earlier, (long long)r->unknown, note);
	log_info("PKI %s: CRL %s applied in %lld ms: %lld entries, %lld devices blocked%s", name,
	    r->crl_number[0] ? r->crl_number : "(no number)", (long long)r->ms,
	    (long long)r->entries, (long long)r->blocked,
	    r->stale ? "; its nextUpdate has passed: the PKI publishes no newer one" : "");
}

int
pki_sync(struct server *srv, struct store *st, const char *name, int force, const char *by,
    const atomic_int *stop, struct pki_sync_result *r)
{
	struct store_pki *p = NULL;
	int64_t t0 = clock_mono_ms(), now = clock_now_ms();
	uint8_t *buf = NULL;
	size_t len = 0;
	char why[STORE_DETAIL_MAX - 32];
	int rc, claimed = 0;

	memset(r, 0, sizeof(*r));
	if ((p = malloc(sizeof(*p))) == NULL) {
		rc = ZTP_ENOMEM;
		snprintf(r->error, sizeof(r->error), "out of memory");
		goto out;
	}
	if ((rc = store_pki_get(st, name, p)) != 0 ||
	    (rc = store_pki_fetch_begin(st, name, now, force, &claimed)) != 0) {
		snprintf(r->error, sizeof(r->error), "%s",
		    rc == ZTP_ENOENT ? "no such PKI" : "store failure");
		goto out;
	}
	if (!claimed) {
		r->skipped = 1;
		goto out;
	}
	if ((rc = fetch(p->crl_url, stop, &buf, &len, why, sizeof(why))) != 0) {
		snprintf(r->error, sizeof(r->error), "%s", why);
		if (store_pki_fetch_failed(st, name, r->error) != 0)
			log_warnx("PKI %s: its error cannot be recorded", name);
	} else {
		rc = pki_sync_apply(srv, st, p, buf, len, now, by, r);
	}
	r->rc = rc;
	r->ms = clock_mono_ms() - t0;
	sync_event(st, name, by, r);
out:
	r->rc = rc;
	free(buf);
	free(p);
	return rc;
}

/* ---- the thread ---- */

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct pki_job {
	TAILQ_ENTRY(pki_job) q;   /* in the queue while QUEUED */
	LIST_ENTRY(pki_job) all;  /* every job not freed */
	enum job_state state;
	int orphan;               /* its worker is gone: the thread frees it once done */
	struct worker *w;
	char name[STORE_PKI_NAME_MAX + 1];
	char by[64];
	struct pki_sync_result r;
	pki_sync_done done;
	void *arg;
	int fds[2];
	struct event *ev;         /* on w's loop: fds[0] readable */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int running;
	int wake;
	atomic_int stop;
	TAILQ_HEAD(, pki_job) queue;
	LIST_HEAD(, pki_job) jobs;
	int nqueued;
	struct server *srv;
	struct store *st;
} P = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.queue = TAILQ_HEAD_INITIALIZER(P.queue),
	.jobs = LIST_HEAD_INITIALIZER(P.jobs),
};

/* Free a job that no thread holds any more (its event on a live loop, or already freed). */
static void
job_free(struct pki_job *j)
{
	if (j->ev != NULL)
		event_free(j->ev);
	if (j->fds[0] >= 0)
		close(j->fds[0]);
	if (j->fds[1] >= 0)
		close(j->fds[1]);
	free(j);
}

/* Under the lock: the job's result is in j->r; its worker is told (or it is freed). */
static void
job_finish(struct pki_job *j)
{
	ssize_t n;

	j->state = JOB_DONE;
	if (j->orphan) {
		LIST_REMOVE(j, all);
		job_free(j);
		return;
	}
	while ((n = write(j->fds[1], "d", 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		log_warn("PKI: cannot tell worker %d that the sync of %s is done", j->w->id, j->name);
}

/* On the job's worker: its result came. */
static void
job_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pki_job *j = arg;
	pki_sync_done done;
	void *darg;

	pthread_mutex_lock(&P.lock);
	LIST_REMOVE(j, all);
	pthread_mutex_unlock(&P.lock);
	done = j->done;
	darg = j->arg;
	done(&j->r, darg, 0);
	job_free(j);
}

int
pki_sync_submit(struct worker *w, const char *name, const char *by, pki_sync_done done,
    void *arg)
{
	struct pki_job *j;
	int rc = 0;

	if (!store_pki_name_valid(name))
		return ZTP_EINVAL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return ZTP_ENOMEM;
	j->fds[0] = j->fds[1] = -1;
	j->w = w;
	j->done = done;
	j->arg = arg;
	snprintf(j->name, sizeof(j->name), "%s", name);
	snprintf(j->by, sizeof(j->by), "%s", by != NULL ? by : "");
	if (pipe2(j->fds, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    (j->ev = event_new(w->base, j->fds[0], EV_READ, job_done_cb, j)) == NULL ||
	    event_add(j->ev, NULL) != 0) {
		job_free(j);
		return ZTP_EIO;
	}
	pthread_mutex_lock(&P.lock);
	if (!P.running || atomic_load(&P.stop))
		rc = ZTP_EIO;
	else if (P.nqueued >= PKI_JOBS_MAX)
		rc = ZTP_EBUSY;
	if (rc == 0) {
		j->state = JOB_QUEUED;
		TAILQ_INSERT_TAIL(&P.queue, j, q);
		LIST_INSERT_HEAD(&P.jobs, j, all);
		P.nqueued++;
		pthread_cond_signal(&P.cond);
	}
	pthread_mutex_unlock(&P.lock);
	if (rc != 0)
		job_free(j);
	return rc;
}

void
pki_worker_exit(struct worker *w)
{
	struct pki_job *j, *next;

	pthread_mutex_lock(&P.lock);
	for (j = LIST_FIRST(&P.jobs); j != NULL; j = next) {
		next = LIST_NEXT(j, all);
		if (j->w != w || j->orphan)
			continue;
		/* the request went with its connection (evhttp_free): only the caller's arg is left */
		j->done(NULL, j->arg, 1);
		event_free(j->ev);
		j->ev = NULL;
		if (j->state == JOB_RUNNING) {
			j->orphan = 1;
			continue;
		}
		if (j->state == JOB_QUEUED) {
			TAILQ_REMOVE(&P.queue, j, q);
			P.nqueued--;
		}
		LIST_REMOVE(j, all);
		job_free(j);
	}
	pthread_mutex_unlock(&P.lock);
}

void
pki_wake(void)
{
	pthread_mutex_lock(&P.lock);
	if (P.running) {
		P.wake = 1;
		pthread_cond_signal(&P.cond);
	}
	pthread_mutex_unlock(&P.lock);
}

/* The PKIs due at now, and when the next one is (ms; INT64_MAX if none). */
struct due {
	char names[DUE_MAX][STORE_PKI_NAME_MAX + 1];
	size_t n;
	int64_t now, next;
};

static int
due_cb(const struct store_pki *p, void *arg)
{
	struct due *d = arg;
	int64_t at = store_pki_due_at(p);

	if (at <= d->now && d->n < DUE_MAX)
		snprintf(d->names[d->n++], sizeof(d->names[0]), "%s", p->name);
	else if (at < d->next)
		d->next = at > d->now ? at : d->now;
	return 0;
}

/* Run the on-demand syncs that are queued; called without the lock. */
static void
run_queue(void)
{
	struct pki_sync_result r;
	struct pki_job *j;
	char name[STORE_PKI_NAME_MAX + 1], by[64];

	for (;;) {
		pthread_mutex_lock(&P.lock);
		if ((j = TAILQ_FIRST(&P.queue)) == NULL || atomic_load(&P.stop)) {
			pthread_mutex_unlock(&P.lock);
			return;
		}
		TAILQ_REMOVE(&P.queue, j, q);
		P.nqueued--;
		j->state = JOB_RUNNING;
		memcpy(name, j->name, sizeof(name));
		memcpy(by, j->by, sizeof(by));
		pthread_mutex_unlock(&P.lock);
		pki_sync(P.srv, P.st, name, 1, by, &P.stop, &r);
		pthread_mutex_lock(&P.lock);
		j->r = r;
		job_finish(j);
		pthread_mutex_unlock(&P.lock);
	}
}

/* Wait until deadline (CLOCK_MONOTONIC ms), a wake-up, a job or the stop; with the lock. */
static void
wait_until(int64_t deadline)
{
	struct timespec ts = { deadline / 1000, (long)(deadline % 1000) * 1000000L };

	while (!atomic_load(&P.stop) && !P.wake && TAILQ_EMPTY(&P.queue) &&
	    clock_mono_ms() < deadline)
		if (pthread_cond_timedwait(&P.cond, &P.lock, &ts) == ETIMEDOUT)
			break;
	P.wake = 0;
}

static void *
pki_main(void *arg)
{
	struct pki_sync_result r;
	struct pki_job *j;
	struct due *d;
	int64_t sleep_ms;
	size_t i;

	if ((d = malloc(sizeof(*d))) == NULL) {
		log_warnx("PKI: out of memory: no CRL synchronisation");
		return NULL;
	}
	while (!atomic_load(&P.stop)) {
		run_queue();
		d->n = 0;
		d->now = clock_now_ms();
		d->next = INT64_MAX;
		if (store_pki_list(P.st, due_cb, d) != 0)
			log_warnx("PKI: the store cannot be read; looking again in %d s",
			    PKI_SCAN_MS / 1000);
		for (i = 0; i < d->n && !atomic_load(&P.stop); i++) {
			pki_sync(P.srv, P.st, d->names[i], 0, NULL, &P.stop, &r);
			run_queue();
		}
		/* more due than one look takes: look again at once */
		sleep_ms = d->n == DUE_MAX ? 0 : PKI_SCAN_MS;
		if (d->next != INT64_MAX && d->next - clock_now_ms() < sleep_ms)
			sleep_ms = d->next - clock_now_ms();
		if (sleep_ms < 0)
			sleep_ms = 0;
		pthread_mutex_lock(&P.lock);
		wait_until(clock_mono_ms() + sleep_ms);
		pthread_mutex_unlock(&P.lock);
	}
	/* what waits is answered: the server is stopping */
	pthread_mutex_lock(&P.lock);
	while ((j = TAILQ_FIRST(&P.queue)) != NULL) {
		TAILQ_REMOVE(&P.queue, j, q);
		P.nqueued--;
		memset(&j->r, 0, sizeof(j->r));
		j->r.rc = ZTP_EIO;
		snprintf(j->r.error, sizeof(j->r.error), "the server is stopping");
		job_finish(j);
	}
	pthread_mutex_unlock(&P.lock);
	free(d);
	return NULL;
}

int
pki_start(struct server *srv)
{
	pthread_condattr_t attr;
	char target[1100];
	int rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_warnx("PKI: cannot initialise libcurl");
		return ZTP_EIO;
	}
	server_store_target(srv, target, sizeof(target));
	if ((rc = store_open(&P.st, target, srv->dd->key)) != 0)
		return rc;
	if (pthread_condattr_init(&attr) != 0 ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&P.cond, &attr) != 0) {
		store_close(P.st);
		P.st = NULL;
		return ZTP_EIO;
	}
	pthread_condattr_destroy(&attr);
	P.srv = srv;
	atomic_store(&P.stop, 0);
	P.wake = 0;
	if (pthread_create(&P.thread, NULL, pki_main, NULL) != 0) {
		pthread_cond_destroy(&P.cond);
		store_close(P.st);
		P.st = NULL;
		return ZTP_EIO;
	}
	pthread_mutex_lock(&P.lock);
	P.running = 1;
	pthread_mutex_unlock(&P.lock);
	return 0;
}

void
pki_stop(void)
{
	pthread_mutex_lock(&P.lock);
	if (!P.running) {
		pthread_mutex_unlock(&P.lock);
		return;
	}
	atomic_store(&P.stop, 1);
	pthread_cond_signal(&P.cond);
	pthread_mutex_unlock(&P.lock);
	pthread_join(P.thread, NULL);
	pthread_mutex_lock(&P.lock);
	P.running = 0;
	pthread_mutex_unlock(&P.lock);
	pthread_cond_destroy(&P.cond);
	store_close(P.st);
	P.st = NULL;
	curl_global_cleanup();
}
