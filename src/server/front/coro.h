/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Work that waits on the database without stopping the worker (coro.c).
 */
#ifndef ZTP_CORO_H
#define ZTP_CORO_H
#include <stdint.h>

#include "crypto.h"

struct bufferevent;
struct evhttp_request;
struct worker;

/*
 * Give worker w n coroutines, each with a stack and a connection of its
 * own to the store at target, when that store answers over a socket
 * (PostgreSQL); with SQLite, nothing (work runs in place). 0 or a ZTP_E
 * code.
 */
int coro_start(struct worker *w, int n, const char *target, const uint8_t key[CRYPTO_KEY_LEN]);
/* After the worker's loop ended: close the connections, free the stacks. */
void coro_end(struct worker *w);

/*
 * Run fn(arg) in a coroutine: w->store is the coroutine's connection
 * while it runs, and a store call that waits for the database lets the
 * worker's loop go on meanwhile. At once when a coroutine is free (before
 * coro_run returns, unless called from a coroutine), else once one is;
 * in place when w has no coroutines. pin (may be NULL) is kept from being
 * freed until fn returns (bufferevent_incref).
 */
void coro_run(struct worker *w, void (*fn)(void *arg), void *arg, struct bufferevent *pin);

/* 1 if w runs work in coroutines (coro_run does not run it in place). */
int coro_enabled(struct worker *w);

/*
 * An evhttp request callback run by coro_run, with the request's
 * connection pinned: evhttp may free the connection meanwhile (its client
 * went), the request stays until it is answered.
 */
void coro_request(struct worker *w, void (*handler)(struct evhttp_request *, void *),
    struct evhttp_request *req);

#endif
