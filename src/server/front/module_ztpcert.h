/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ZTP certificates on the device listener (module_ztpcert.c,
 * docs/protocol/security-service.md section 12): whether a module's
 * answer says that a bundle waits, and GET /m/z (the bundle) and POST /m/z
 * (the module's confirmation) on a connection of its current key.
 */
#ifndef ZTP_MODULE_ZTPCERT_H
#define ZTP_MODULE_ZTPCERT_H
#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>

struct conn;
struct store;
struct store_mod;
struct worker;

/*
 * 1 if the answer to m's bootstrap or heartbeat, which delivers features,
 * is to say that a bundle waits (ZTP_CERT_STATUS_WAITING): ztp-cert is in
 * features, the module's owner (for a bootstrap: its profile's) has a CA
 * for it, and the module has not confirmed a bundle of that CA. 0 else,
 * and on a store error (logged): the next heartbeat says it again.
 */
int module_ztpcert_waiting(struct store *st, const struct store_mod *m, uint32_t features);

/*
 * /m/z on c (the current key, not in quarantine: module_api.c checked),
 * module m: GET answers the bundle, issued now if the module has none of
 * its CA (or only an expired one); POST with the SHA-256 of its device
 * certificate (body[0..len)) records the delivery. Sends one answer.
 */
void module_ztpcert_serve(struct evhttp_request *req, struct worker *w, struct conn *c,
    const struct store_mod *m, const uint8_t *body, size_t len);

#endif
