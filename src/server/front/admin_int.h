/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the admin API: the request that admin_api.c's dispatch hands to a
 * handler, the helpers it shares with them, and the handlers of the route
 * table, one file a resource (admin_sim.c, admin_group.c, admin_config.c,
 * admin_event.c, admin_est.c, admin_cert.c, admin_device.c). Handler files
 * include this header only, never each other.
 *
 * A handler runs after the path, the method, the token and the path's
 * checked parameter (a->param) passed; it sends exactly one reply (now,
 * or later when it sets a->later).
 */
#ifndef ZTP_ADMIN_INT_H
#define ZTP_ADMIN_INT_H
#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "admin_route.h"
#include "store.h"
#include "token.h"

#define ADMIN_PAGE_DEFAULT 100
#define ADMIN_PAGE_MAX 1000

struct areq {
	struct evhttp_request *req;
	struct worker *w;
	struct conn *c;
	unsigned method; /* ADMINROUTE_GET... */
	struct adminroute_path path;
	struct adminroute_match m;
	const char *param; /* the path's parameter (m.param), NULL if none */
	struct evkeyvalq query;
	char key_id[TOKEN_KEYID_MAX + 1];
	/*
	 * Whom the key acts for (set by admin_api.c from the key): all owners
	 * (the operator), or only owner. See admin_scope_all / admin_scope_sees.
	 */
	int all_owners;
	char owner[STORE_OWNER_MAX + 1];
	uint8_t *body; /* the request body, up to ADMINREQ_IMPORT_MAX bytes */
	size_t bodylen;
	/*
	 * Set by a handler that answers later, on its worker's thread (a PKI's
	 * sync): the request is then its own, and it calls conn_request_done()
	 * once it answered. a itself is freed when the handler returns.
	 */
	int later;
};

/* ---- admin_api.c: replies, events, queries, pages ---- */

/* A time in ms as RFC 3339 UTC; secs: Unix seconds, null for 0. */
json_t *admin_time_json(int64_t ms);
json_t *admin_secs_json(int64_t s);
/* s as a JSON string, null if it is empty. */
json_t *admin_opt_string(const char *s);
/* A SHA-256 in lower-case hex, as sha256sum and openssl dgst print it. */
json_t *admin_sha256_json(const uint8_t h[32]);

/* Send the error of rc (a ZTP_E code) with the detail what. */
void admin_reply_rc(struct areq *a, int rc, const char *what);
/* 404 "no such path": what a path that looks like a route but is none gets. */
void admin_no_path(struct areq *a);
/* Record an admin_change event "<what> <arg> by <key id>". */
void admin_changed(struct areq *a, const char *iccid, const char *what, const char *arg);
/*
 * admin_changed of an owner's thing: the event carries owner ("" or NULL:
 * none) and device (a RoT UID, or NULL), so that the owner's keys see it.
 */
void admin_changed_dev(struct areq *a, const char *owner, const char *device, const char *what,
    const char *arg);

/*
 * A query parameter as a number in [min, max], def if absent; else a 400
 * is sent and -1 returned.
 */
int admin_query_num(struct areq *a, const char *name, uint64_t min, uint64_t max,
    uint64_t def, uint64_t *out);
/* limit= of a list (1..ADMIN_PAGE_MAX, ADMIN_PAGE_DEFAULT); else 400 sent, -1. */
int admin_query_limit(struct areq *a, uint64_t *limit);
/* The after= of a list keyed by UDID ("" if absent); else 400 sent, -1. */
int admin_query_after_udid(struct areq *a, const char **after);

/* A page of a list keyed by a string (ICCID, UDID, serial). */
struct admin_page {
	json_t *arr;
	char last[STORE_UDID_MAX + 1];
	int n;
};

void admin_page_add(struct admin_page *p, json_t *item, const char *key);
/*
 * Send {key: arr, "next": next} (both stolen), or the error of rc (both
 * freed). next says where the following page starts, null on the last.
 */
void admin_reply_list(struct areq *a, const char *key, json_t *arr, int rc, json_t *next);
/* admin_reply_list of a page: "next" is its last key if it is full (there may be more). */
void admin_reply_page(struct areq *a, const char *key, struct admin_page *p, int rc,
    uint64_t limit);

/*
 * POST /v1/sims/import (sims non-zero) and POST /v1/allowlist/import: one
 * batch, one transaction.
 */
void admin_batch_import(struct areq *a, int sims);

void admin_token(struct areq *a);

/*
 * Owner scope (docs/admin-api.md "Owners and API keys"). admin_scope_all:
 * 1 if the key acts for all owners, else a 403 is sent and 0 returned (for
 * the routes of resources no owner has: SIMs, groups, EST, certificates,
 * keys, owners, module import, transfer). admin_scope_sees: 1 if the key
 * may see or change a resource of owner ("" or NULL: one without an owner,
 * which only all-owners keys see).
 */
int admin_scope_all(struct areq *a);
int admin_scope_sees(const struct areq *a, const char *owner);

/* ---- the handlers of the route table, by resource ---- */

void admin_sim_list(struct areq *a);
void admin_sim_create(struct areq *a);
void admin_sim_import(struct areq *a);
void admin_sim_get(struct areq *a);
void admin_sim_delete(struct areq *a);
void admin_sim_block(struct areq *a);
void admin_sim_unblock(struct areq *a);
void admin_sim_rebind(struct areq *a);
void admin_sim_rotate(struct areq *a);

void admin_group_list(struct areq *a);
void admin_group_create(struct areq *a);
void admin_group_get(struct areq *a);
void admin_group_upstream(struct areq *a);

void admin_config_get(struct areq *a);
void admin_config_set(struct areq *a);
void admin_config_history(struct areq *a);
void admin_config_rollback(struct areq *a);

void admin_event_list(struct areq *a);
void admin_event_telemetry(struct areq *a);

void admin_est_allow_list(struct areq *a);
void admin_est_allow_add(struct areq *a);
void admin_est_allow_import(struct areq *a);
void admin_est_allow_get(struct areq *a);
void admin_est_allow_delete(struct areq *a);
void admin_est_allow_get_import(struct areq *a);
void admin_est_allow_delete_import(struct areq *a);
void admin_est_password(struct areq *a);
void admin_est_mfr_list(struct areq *a);
void admin_est_mfr_add(struct areq *a);
void admin_est_mfr_get(struct areq *a);
void admin_est_mfr_delete(struct areq *a);

void admin_cert_list(struct areq *a);
void admin_cert_get(struct areq *a);
void admin_cert_revoke(struct areq *a);
/* An issued certificate as the API shows it (also in a device). */
json_t *admin_cert_json(const struct store_cert *c);
/*
 * Re-sign the CRL now that a revocation made it stale; a failure is logged
 * (the revocation stands, main re-signs within a minute).
 */
void admin_cert_crl_update(struct areq *a);

/* admin_owner.c: owners and API keys */
void admin_owner_list(struct areq *a);
void admin_owner_create(struct areq *a);
void admin_owner_get(struct areq *a);
void admin_apikey_list(struct areq *a);
void admin_apikey_create(struct areq *a);
void admin_apikey_revoke(struct areq *a);

/* admin_module.c: device profiles, modules (and the devices they are), campaigns */
void admin_profile_list(struct areq *a);
void admin_profile_create(struct areq *a);
void admin_profile_get(struct areq *a);
void admin_profile_update(struct areq *a);
void admin_module_import(struct areq *a);
void admin_module_list(struct areq *a);
void admin_module_get(struct areq *a);
void admin_module_transfer(struct areq *a);
void admin_module_release(struct areq *a);
void admin_module_features(struct areq *a);
/* admin_svc.c: the root of trust's services (issue 14) */
void admin_psk_get(struct areq *a);
void admin_e2e_params(struct areq *a);
void admin_e2e_encrypt(struct areq *a);
void admin_campaign_list(struct areq *a);
void admin_campaign_create(struct areq *a);
void admin_campaign_get(struct areq *a);

void admin_device_list(struct areq *a);
void admin_device_get(struct areq *a);
void admin_device_block(struct areq *a);
void admin_device_unblock(struct areq *a);

/* admin_gateway.c: gateways onboarding over MQTT (issue 15) */
void admin_gw_batch_list(struct areq *a);
void admin_gw_batch_create(struct areq *a);
void admin_gw_expect(struct areq *a);
void admin_gw_group_get(struct areq *a);
void admin_gw_group_set(struct areq *a);
void admin_gw_list(struct areq *a);
void admin_gw_get(struct areq *a);
void admin_gw_approve(struct areq *a);
void admin_gw_reject(struct areq *a);
void admin_gw_command(struct areq *a);
void admin_gw_command_get(struct areq *a);

/* admin_ztpca.c: ZTP certificates (issue 14) */
void admin_ztpca_list(struct areq *a);
void admin_ztpca_create(struct areq *a);
void admin_ztpca_get(struct areq *a);
void admin_ztpca_pop(struct areq *a);
void admin_ztpca_profile(struct areq *a);
void admin_ztpca_module(struct areq *a);

/* admin_pki.c: foreign PKIs whose CRLs are followed (issue 15) */
void admin_pki_list(struct areq *a);
void admin_pki_create(struct areq *a);
void admin_pki_get(struct areq *a);
void admin_pki_delete(struct areq *a);
void admin_pki_sync(struct areq *a);

/* The route table (admin_api.c), for its unit test. */
extern const struct adminroute admin_api_routes[];
extern const size_t admin_api_nroutes;

#endif
