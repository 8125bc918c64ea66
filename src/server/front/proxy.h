/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proxy mode (docs/proxy.md): the device requests of a SIM whose group (or
 * the server) names an upstream go to the customer's own server once ztpd
 * has authenticated the SIM and checked its Device-ID binding and blocks.
 * The upstream learns who the device is from ZTP-ICCID, ZTP-Device-ID and
 * ZTP-PSK-Generation, which only ztpd sets; the answer returns to the SIM
 * within its size limit.
 *
 * Non-blocking, on the worker's event_base: per worker and upstream a
 * bounded pool of connections, a bounded queue, one deadline per request
 * from its start to its complete answer.
 */
#ifndef ZTP_PROXY_H
#define ZTP_PROXY_H
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct worker;
struct conn;
struct evhttp_request;
struct devroute;

/*
 * Check an upstream and open what it names (CA, client certificate and key)
 * as the forwarding will. 0, or ZTP_EINVAL with the reason in why.
 */
int proxy_upstream_try(const struct store_upstream *u, char *why, size_t cap);

/*
 * Forward the device request req (already authenticated and checked) to
 * upstream u. r: the request's route (its Device ID bound to the SIM; the
 * upstream gets the path rebuilt from it); body: the request body (POST),
 * copied. Returns 0 when the
 * answer will come later (proxy.c replies and calls device_api_finish), or
 * a negative code when req was answered at once (an error).
 */
int proxy_forward(struct worker *w, struct conn *c, struct evhttp_request *req,
    const struct store_upstream *u, const struct store_sim *sim, const struct devroute *r,
    const uint8_t *body, size_t bodylen);

/* The device connection c is closing: its pending request, if any, is gone with it. */
void proxy_conn_closing(struct conn *c);

/* 1 if requests of the worker are being forwarded (its drain waits for them). */
int proxy_pending(struct worker *w);

/* The device connection c is freed. */
void proxy_conn_gone(struct conn *c);

/* Free the worker's pools and requests in flight (at the worker's exit). */
void proxy_worker_free(struct worker *w);

/* device_api.c: after a reply was sent on req, as for a request answered at once. */
void device_api_finish(struct conn *c, struct evhttp_request *req);

#endif
