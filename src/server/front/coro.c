/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Work that waits on the database without stopping the worker.
 *
 * With PostgreSQL, every store call is a round trip on a socket. A worker
 * serves many connections from one event loop, so a call that waited in
 * poll() would stop them all for as long as the database takes. The
 * store's rules are plain sequential C (transactions, several statements
 * per rule) and stay so: each worker has a few coroutines, each with its
 * own stack and its own connection to the database, and work that uses the
 * store (a request, a handshake's key lookup) runs in one of them. When
 * the PostgreSQL driver waits for its socket, the coroutine gives the
 * thread back to the loop, which resumes it when the socket is ready
 * (store_set_waiter). While a coroutine runs, w->store is its connection,
 * so the code above the store does not know. Work that finds every
 * coroutine busy waits in a queue, in order; a coroutine that finishes
 * takes the next.
 *
 * Code that runs outside a coroutine (the loop's own callbacks) still uses
 * the worker's first connection and waits in place. It must not wait for
 * a lock that a suspended coroutine holds (the store's write lock, a
 * row): so while it waits it also resumes every coroutine whose socket is
 * ready, and the holder goes on to its commit.
 *
 * SQLite answers in place: no coroutines, work runs at once.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <ucontext.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "coro.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "ztp/err.h"

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif
#ifdef CORO_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#define STACK_SIZE (512 * 1024)

struct job {
	void (*fn)(void *);
	void *arg;
	struct bufferevent *pin;
	TAILQ_ENTRY(job) link;
};

struct coro {
	struct coro_sched *s;
	ucontext_t ctx;
	void *map; /* a guard page, then the stack */
	void *stack;
	struct store *store;
	struct job job; /* the work it runs */
	/*
	 * Its socket in the loop: ev_read stays added between waits (no
	 * epoll_ctl per statement) unless it fires when nobody waits; ev_write
	 * is added when the driver has more to send than the socket took.
	 */
	struct event *ev_read, *ev_write;
	int ev_fd;      /* the socket ev_read and ev_write are for, -1: none yet */
	int read_added; /* ev_read is added */
	int waiting; /* for its socket (ev_fd): wait_events */
	short wait_events;
	void *fake_stack; /* AddressSanitizer's, while switched out */
	TAILQ_ENTRY(coro) link; /* in s->idle */
};

struct coro_sched {
	struct worker *w;
	ucontext_t main;
	struct coro *cur; /* running, NULL: the loop */
	struct store *main_store;
	struct coro *co;
	int n;   /* made */
	int cap; /* allocated */
	TAILQ_HEAD(, coro) idle;
	TAILQ_HEAD(, job) queue;
	struct event *kick; /* starts queued work from the loop */
	int nwaiting;
	struct pollfd *pfd; /* main_wait's, cap + 1 */
	struct coro **pwho;
	void *main_fake;
	const void *main_bottom;
	size_t main_size;
};

static __thread struct coro *starting;

/* ---- switching ---- */

static void
switch_to(struct coro_sched *s, struct coro *c)
{
	s->cur = c;
	s->w->store = c->store;
#ifdef CORO_ASAN
	__sanitizer_start_switch_fiber(&s->main_fake, c->stack, STACK_SIZE);
#endif
	swapcontext(&s->main, &c->ctx);
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(s->main_fake, NULL, NULL);
#endif
	s->cur = NULL;
	s->w->store = s->main_store;
}

static void
yield(struct coro *c)
{
	struct coro_sched *s = c->s;

#ifdef CORO_ASAN
	__sanitizer_start_switch_fiber(&c->fake_stack, s->main_bottom, s->main_size);
#endif
	swapcontext(&c->ctx, &s->main);
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(c->fake_stack, &s->main_bottom, &s->main_size);
#endif
}

static void
run_job(struct coro *c)
{
	struct job j = c->job;

	j.fn(j.arg);
	if (j.pin != NULL)
		bufferevent_decref(j.pin);
}

static void
entry(void)
{
	struct coro *c = starting;
	struct coro_sched *s = c->s;
	struct job *next;

#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(NULL, &s->main_bottom, &s->main_size);
#endif
	yield(c); /* made: wait for the first work */
	for (;;) {
		run_job(c);
		if ((next = TAILQ_FIRST(&s->queue)) != NULL) {
			TAILQ_REMOVE(&s->queue, next, link);
			c->job = *next;
			free(next);
			continue;
		}
		TAILQ_INSERT_HEAD(&s->idle, c, link);
		yield(c);
	}
}

/* ---- waiting for the database ---- */

static void
wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct coro *c = arg;

	if (!c->waiting) {
		/* readable with nobody waiting (the server said something, or went): off until a wait */
		event_del(c->ev_read);
		c->read_added = 0;
		return;
	}
	if (c->wait_events & POLLOUT)
		event_del(c->ev_write);
	c->waiting = 0;
	c->s->nwaiting--;
	switch_to(c->s, c);
}

/* The events of c's socket are for fd (a reconnection brings a new one). */
static int
watch_fd(struct coro *c, int fd)
{
	struct event_base *base = c->s->w->base;

	if (c->ev_fd == fd)
		return 0;
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	c->ev_read = c->ev_write = NULL;
	c->read_added = 0;
	c->ev_fd = -1;
	if (fd < 0)
		return 0;
	if ((c->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, wake_cb, c)) == NULL ||
	    (c->ev_write = event_new(base, fd, EV_WRITE, wake_cb, c)) == NULL)
		return -1;
	c->ev_fd = fd;
	return 0;
}

/* A coroutine's store waits: give the thread back to the loop until the socket is ready. */
static int
coro_wait(void *arg, int fd, short events)
{
	struct coro *c = arg;
	struct coro_sched *s = c->s;

	if (fd < 0) {
		watch_fd(c, -1);
		return 0;
	}
	if (s->cur != c || watch_fd(c, fd) != 0)
		return -1; /* not in its coroutine: the driver polls */
	if (!c->read_added) {
		if (event_add(c->ev_read, NULL) != 0)
			return -1;
		c->read_added = 1;
	}
	if ((events & POLLOUT) && event_add(c->ev_write, NULL) != 0)
		return -1;
	c->waiting = 1;
	c->wait_events = events;
	s->nwaiting++;
	yield(c);
	return 0;
}

/*
 * The loop's own store waits (outside any coroutine): poll its socket and
 * those of the coroutines that wait, resuming each that is ready, until
 * its own is.
 */
static int
main_wait(void *arg, int fd, short events)
{
	struct coro_sched *s = arg;
	struct pollfd *p = s->pfd;
	struct coro **who = s->pwho;
	int i, n, r;

	if (fd < 0)
		return 0;
	if (s->cur != NULL || s->nwaiting == 0)
		return -1;
	for (;;) {
		p[0] = (struct pollfd){ .fd = fd, .events = events };
		for (n = 1, i = 0; i < s->n; i++)
			if (s->co[i].waiting) {
				who[n] = &s->co[i];
				p[n++] = (struct pollfd){ .fd = s->co[i].ev_fd,
					.events = s->co[i].wait_events };
			}
		if ((r = poll(p, (nfds_t)n, -1)) < 0 && errno != EINTR)
			break;
		for (i = 1; r > 0 && i < n; i++)
			if (p[i].revents != 0 && who[i]->waiting) {
				if (who[i]->wait_events & POLLOUT)
					event_del(who[i]->ev_write);
				who[i]->waiting = 0;
				s->nwaiting--;
				switch_to(s, who[i]);
			}
		if (r > 0 && p[0].revents != 0)
			break;
	}
	return 0;
}

/* ---- work ---- */

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct coro_sched *s = arg;
	struct coro *c;
	struct job *j;

	while ((c = TAILQ_FIRST(&s->idle)) != NULL && (j = TAILQ_FIRST(&s->queue)) != NULL) {
		TAILQ_REMOVE(&s->idle, c, link);
		TAILQ_REMOVE(&s->queue, j, link);
		c->job = *j;
		free(j);
		switch_to(s, c);
	}
}

void
coro_run(struct worker *w, void (*fn)(void *arg), void *arg, struct bufferevent *pin)
{
	struct coro_sched *s = w->coro;
	struct coro *c;
	struct job *j;

	if (s == NULL) {
		fn(arg);
		return;
	}
	if (pin != NULL)
		bufferevent_incref(pin);
	if (s->cur == NULL && TAILQ_EMPTY(&s->queue) && (c = TAILQ_FIRST(&s->idle)) != NULL) {
		TAILQ_REMOVE(&s->idle, c, link);
		c->job = (struct job){ .fn = fn, .arg = arg, .pin = pin };
		switch_to(s, c);
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		fatalx("out of memory for a coroutine's work");
	*j = (struct job){ .fn = fn, .arg = arg, .pin = pin };
	TAILQ_INSERT_TAIL(&s->queue, j, link);
	if (!TAILQ_EMPTY(&s->idle))
		event_active(s->kick, EV_TIMEOUT, 1);
}

int
coro_enabled(struct worker *w)
{
	return w->coro != NULL;
}

struct request_job {
	struct worker *w;
	void (*handler)(struct evhttp_request *, void *);
	struct evhttp_request *req;
};

static void
request_job(void *arg)
{
	struct request_job rj = *(struct request_job *)arg;

	free(arg);
	rj.handler(rj.req, rj.w);
}

void
coro_request(struct worker *w, void (*handler)(struct evhttp_request *, void *),
    struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct request_job *rj;

	if (w->coro == NULL) {
		handler(req, w);
		return;
	}
	if ((rj = malloc(sizeof(*rj))) == NULL)
		fatalx("out of memory for a request");
	*rj = (struct request_job){ .w = w, .handler = handler, .req = req };
	coro_run(w, request_job, rj, evcon ? evhttp_connection_get_bufferevent(evcon) : NULL);
}

/* ---- start and end ---- */

static int
coro_make(struct coro_sched *s, struct coro *c, const char *target,
    const uint8_t key[CRYPTO_KEY_LEN])
{
	long page = sysconf(_SC_PAGESIZE);
	int rc;

	c->s = s;
	c->map = mmap(NULL, STACK_SIZE + (size_t)page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (c->map == MAP_FAILED) {
		c->map = NULL;
		return ZTP_ENOMEM;
	}
	mprotect(c->map, (size_t)page, PROT_NONE); /* an overflow faults, not corrupts */
	c->stack = (char *)c->map + page;
	c->ev_fd = -1;
	if ((rc = store_open(&c->store, target, key)) != 0)
		return rc;
	store_set_waiter(c->store, coro_wait, c);
	if (getcontext(&c->ctx) != 0)
		return ZTP_EIO;
	c->ctx.uc_stack.ss_sp = c->stack;
	c->ctx.uc_stack.ss_size = STACK_SIZE;
	c->ctx.uc_link = NULL;
	makecontext(&c->ctx, entry, 0);
	starting = c;
	switch_to(s, c); /* runs to its first yield: then it is idle */
	TAILQ_INSERT_TAIL(&s->idle, c, link);
	return 0;
}

int
coro_start(struct worker *w, int n, const char *target, const uint8_t key[CRYPTO_KEY_LEN])
{
	struct coro_sched *s;
	int i, rc;

	if (!store_waits(w->store) || n <= 0)
		return 0;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ZTP_ENOMEM;
	if ((s->co = calloc((size_t)n, sizeof(*s->co))) == NULL ||
	    (s->pfd = calloc((size_t)n + 1, sizeof(*s->pfd))) == NULL ||
	    (s->pwho = calloc((size_t)n + 1, sizeof(*s->pwho))) == NULL) {
		free(s->co);
		free(s->pfd);
		free(s);
		return ZTP_ENOMEM;
	}
	s->w = w;
	s->cap = n;
	s->main_store = w->store;
	TAILQ_INIT(&s->idle);
	TAILQ_INIT(&s->queue);
	w->coro = s;
	if ((s->kick = event_new(w->base, -1, 0, kick_cb, s)) == NULL)
		return ZTP_ENOMEM;
	for (i = 0; i < n; i++, s->n++)
		if ((rc = coro_make(s, &s->co[i], target, key)) != 0)
			return rc;
	store_set_waiter(s->main_store, main_wait, s);
	return 0;
}

void
coro_end(struct worker *w)
{
	struct coro_sched *s = w->coro;
	long page = sysconf(_SC_PAGESIZE);
	struct job *j;
	int i;

	if (s == NULL)
		return;
	/* work still queued is dropped with its pins: the loop is over, its connections went */
	while ((j = TAILQ_FIRST(&s->queue)) != NULL) {
		TAILQ_REMOVE(&s->queue, j, link);
		free(j);
	}
	for (i = 0; i < s->cap; i++) {
		if (s->co[i].ev_read != NULL) /* before the socket closes */
			event_free(s->co[i].ev_read);
		if (s->co[i].ev_write != NULL)
			event_free(s->co[i].ev_write);
		if (s->co[i].store != NULL)
			store_close(s->co[i].store);
		if (s->co[i].map != NULL)
			munmap(s->co[i].map, STACK_SIZE + (size_t)page);
	}
	if (s->main_store != NULL)
		store_set_waiter(s->main_store, NULL, NULL);
	if (s->kick != NULL)
		event_free(s->kick);
	free(s->co);
	free(s->pfd);
	free(s->pwho);
	free(s);
	w->coro = NULL;
}
