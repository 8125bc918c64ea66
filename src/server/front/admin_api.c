/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API (docs/admin-api.md), its core: the route table, bearer
 * tokens from API keys, the dispatch of a request to its handler, and the
 * reply helpers the handlers share (admin_int.h). The handlers are in one
 * file a resource. JSON in and out; every error is {"error", "detail"}; a
 * refused request changes nothing; every change is an admin_change event
 * naming the key that made it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <sys/queue.h>

#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>

#include "admin_int.h"
#include "admin_req.h"
#include "clock.h"
#include "events.h"
#include "http_util.h"
#include "num.h"
#include "server.h"
#include "store.h"
#include "token.h"
#include "ztp/err.h"

/*
 * Every route, one line each. Statuses of the paths that are not routes
 * are kept as the API has always answered them: a POST of an unknown SIM
 * action is 404 and another method on it 405; a bad ICCID is 400 whatever
 * follows it. GET and DELETE on /v1/allowlist/import are the entry of the
 * UDID "import".
 *
 * The last column says who may call the route (admin_route.h).
 * ADMINROUTE_OWNER_OK lets a key of one owner through (docs/admin-api.md
 * "Owners and API keys"): only where the handler shows and changes that
 * owner's things alone. A row with 0 is for all-owners keys only: the
 * dispatch answers 403 to any other, so that a new route is closed to
 * owners until its handler filters by owner and its row says so.
 */
const struct adminroute admin_api_routes[] = {
	{ ADMINROUTE_POST, "/v1/auth/token", admin_token, ADMINROUTE_PUBLIC },
	{ ADMINROUTE_GET, "/v1/events", admin_event_list, ADMINROUTE_OWNER_OK },

	{ ADMINROUTE_GET, "/v1/sims", admin_sim_list, 0 },
	{ ADMINROUTE_POST, "/v1/sims", admin_sim_create, 0 },
	{ ADMINROUTE_POST, "/v1/sims/import", admin_sim_import, 0 },
	{ ADMINROUTE_GET, "/v1/sims/{iccid}", admin_sim_get, 0 },
	{ ADMINROUTE_DELETE, "/v1/sims/{iccid}", admin_sim_delete, 0 },
	{ ADMINROUTE_POST, "/v1/sims/{iccid}/block", admin_sim_block, 0 },
	{ ADMINROUTE_POST, "/v1/sims/{iccid}/unblock", admin_sim_unblock, 0 },
	{ ADMINROUTE_POST, "/v1/sims/{iccid}/rebind", admin_sim_rebind, 0 },
	{ ADMINROUTE_POST, "/v1/sims/{iccid}/rotate", admin_sim_rotate, 0 },
	{ ADMINROUTE_POST, "/v1/sims/{iccid}/*", admin_no_path, 0 },
	{ ADMINROUTE_ANY, "/v1/sims/{iccid}/**", admin_no_path, 0 },
	{ ADMINROUTE_GET, "/v1/sims/{iccid}/config", admin_config_get, 0 },
	{ ADMINROUTE_PUT, "/v1/sims/{iccid}/config", admin_config_set, 0 },
	{ ADMINROUTE_GET, "/v1/sims/{iccid}/config/history", admin_config_history, 0 },
	{ ADMINROUTE_POST, "/v1/sims/{iccid}/config/rollback", admin_config_rollback, 0 },
	{ ADMINROUTE_GET, "/v1/sims/{iccid}/telemetry", admin_event_telemetry, 0 },

	{ ADMINROUTE_GET, "/v1/groups", admin_group_list, 0 },
	{ ADMINROUTE_POST, "/v1/groups", admin_group_create, 0 },
	{ ADMINROUTE_GET, "/v1/groups/{group}", admin_group_get, 0 },
	{ ADMINROUTE_PUT, "/v1/groups/{group}/upstream", admin_group_upstream, 0 },

	{ ADMINROUTE_GET, "/v1/allowlist", admin_est_allow_list, 0 },
	{ ADMINROUTE_POST, "/v1/allowlist", admin_est_allow_add, 0 },
	{ ADMINROUTE_POST, "/v1/allowlist/import", admin_est_allow_import, 0 },
	{ ADMINROUTE_GET, "/v1/allowlist/import", admin_est_allow_get_import, 0 },
	{ ADMINROUTE_DELETE, "/v1/allowlist/import", admin_est_allow_delete_import, 0 },
	{ ADMINROUTE_GET, "/v1/allowlist/{udid}", admin_est_allow_get, 0 },
	{ ADMINROUTE_DELETE, "/v1/allowlist/{udid}", admin_est_allow_delete, 0 },
	{ ADMINROUTE_POST, "/v1/enrolment-passwords", admin_est_password, 0 },
	{ ADMINROUTE_GET, "/v1/manufacturer-cas", admin_est_mfr_list, 0 },
	{ ADMINROUTE_POST, "/v1/manufacturer-cas", admin_est_mfr_add, 0 },
	{ ADMINROUTE_GET, "/v1/manufacturer-cas/{ca}", admin_est_mfr_get, 0 },
	{ ADMINROUTE_DELETE, "/v1/manufacturer-cas/{ca}", admin_est_mfr_delete, 0 },

	{ ADMINROUTE_GET, "/v1/certs", admin_cert_list, 0 },
	{ ADMINROUTE_GET, "/v1/certs/{serial}", admin_cert_get, 0 },
	{ ADMINROUTE_POST, "/v1/certs/{serial}/revoke", admin_cert_revoke, 0 },

	{ ADMINROUTE_GET, "/v1/devices", admin_device_list, 0 },
	{ ADMINROUTE_GET, "/v1/devices/{udid}", admin_device_get, 0 },
	{ ADMINROUTE_POST, "/v1/devices/{udid}/block", admin_device_block, 0 },
	{ ADMINROUTE_POST, "/v1/devices/{udid}/unblock", admin_device_unblock, 0 },

	{ ADMINROUTE_GET, "/v1/owners", admin_owner_list, 0 },
	{ ADMINROUTE_POST, "/v1/owners", admin_owner_create, 0 },
	{ ADMINROUTE_GET, "/v1/owners/{owner}", admin_owner_get, 0 },
	{ ADMINROUTE_GET, "/v1/apikeys", admin_apikey_list, 0 },
	{ ADMINROUTE_POST, "/v1/apikeys", admin_apikey_create, 0 },
	{ ADMINROUTE_DELETE, "/v1/apikeys/{apikey}", admin_apikey_revoke, 0 },

	/* an owner's things: the handlers filter by owner (admin_scope_sees) */
	{ ADMINROUTE_GET, "/v1/profiles", admin_profile_list, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_POST, "/v1/profiles", admin_profile_create, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_GET, "/v1/profiles/{profile}", admin_profile_get, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_PUT, "/v1/profiles/{profile}", admin_profile_update, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_GET, "/v1/modules", admin_module_list, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_POST, "/v1/modules/import", admin_module_import, 0 }, /* the operator's */
	{ ADMINROUTE_GET, "/v1/modules/{rot}", admin_module_get, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_POST, "/v1/modules/{rot}/transfer", admin_module_transfer, 0 }, /* the operator's */
	{ ADMINROUTE_POST, "/v1/modules/{rot}/release", admin_module_release, 0 }, /* the operator's */
	{ ADMINROUTE_PUT, "/v1/modules/{rot}/features", admin_module_features, ADMINROUTE_OWNER_OK },
	/* the services a customer's server calls (issue 14) */
	{ ADMINROUTE_GET, "/v1/psk/{identity}", admin_psk_get, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_POST, "/v1/e2e/decryption-parameters", admin_e2e_params, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_POST, "/v1/devices/{udid}/e2e/encrypt", admin_e2e_encrypt, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_GET, "/v1/campaigns", admin_campaign_list, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_POST, "/v1/campaigns", admin_campaign_create, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_GET, "/v1/campaigns/{campaign}", admin_campaign_get, ADMINROUTE_OWNER_OK },

	/* ZTP certificates (admin_ztpca.c): an owner's CAs, the CA of a profile or a module */
	{ ADMINROUTE_GET, "/v1/ztp-cas", admin_ztpca_list, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_POST, "/v1/ztp-cas", admin_ztpca_create, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_GET, "/v1/ztp-cas/{ztpca}", admin_ztpca_get, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_POST, "/v1/ztp-cas/{ztpca}/pop", admin_ztpca_pop, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_GET, "/v1/profiles/{profile}/ztp-ca", admin_ztpca_profile, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_PUT, "/v1/profiles/{profile}/ztp-ca", admin_ztpca_profile, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_GET, "/v1/modules/{rot}/ztp-ca", admin_ztpca_module, ADMINROUTE_OWNER_OK },
	{ ADMINROUTE_PUT, "/v1/modules/{rot}/ztp-ca", admin_ztpca_module, ADMINROUTE_OWNER_OK },

	/* gateways onboarding over MQTT (admin_gateway.c, issue 15): the operator's */
	{ ADMINROUTE_GET, "/v1/gateway-batches", admin_gw_batch_list, 0 },
	{ ADMINROUTE_POST, "/v1/gateway-batches", admin_gw_batch_create, 0 },
	{ ADMINROUTE_POST, "/v1/gateway-expectations", admin_gw_expect, 0 },
	{ ADMINROUTE_GET, "/v1/gateway-groups/{group}", admin_gw_group_get, 0 },
	{ ADMINROUTE_PUT, "/v1/gateway-groups/{group}", admin_gw_group_set, 0 },
	{ ADMINROUTE_GET, "/v1/gateways", admin_gw_list, 0 },
	{ ADMINROUTE_GET, "/v1/gateways/{udid}", admin_gw_get, 0 },
	{ ADMINROUTE_POST, "/v1/gateways/{udid}/approve", admin_gw_approve, 0 },
	{ ADMINROUTE_POST, "/v1/gateways/{udid}/reject", admin_gw_reject, 0 },
	{ ADMINROUTE_POST, "/v1/gateways/{udid}/commands", admin_gw_command, 0 },
	{ ADMINROUTE_GET, "/v1/gateways/{udid}/commands/*", admin_gw_command_get, 0 },
	/* foreign PKIs whose CRLs are followed (admin_pki.c): the operator's */
	{ ADMINROUTE_GET, "/v1/pkis", admin_pki_list, 0 },
	{ ADMINROUTE_POST, "/v1/pkis", admin_pki_create, 0 },
	{ ADMINROUTE_GET, "/v1/pkis/{pki}", admin_pki_get, 0 },
	{ ADMINROUTE_DELETE, "/v1/pkis/{pki}", admin_pki_delete, 0 },
	{ ADMINROUTE_POST, "/v1/pkis/{pki}/sync", admin_pki_sync, 0 },
};
const size_t admin_api_nroutes = sizeof(admin_api_routes) / sizeof(admin_api_routes[0]);

/* ---- replies and helpers shared by the handlers ---- */

json_t *
admin_time_json(int64_t ms)
{
	char buf[40];

	clock_format(ms, buf, sizeof(buf));
	return json_string(buf);
}

json_t *
admin_secs_json(int64_t s)
{
	return s != 0 ? admin_time_json(s * 1000) : json_null();
}

json_t *
admin_opt_string(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

json_t *
admin_sha256_json(const uint8_t h[32])
{
	char hex[65];
	size_t i;

	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	return json_string(hex);
}

void
admin_reply_rc(struct areq *a, int rc, const char *what)
{
	switch (rc) {
	case ZTP_ENOENT:
		http_reply_error(a->req, 404, "not_found", what);
		break;
	case ZTP_EEXIST:
	case ZTP_ECONFLICT:
		http_reply_error(a->req, 409, "conflict", what);
		break;
	case ZTP_ETOOBIG:
		http_reply_error(a->req, 413, "too_large", what);
		break;
	case ZTP_EINVAL:
	case ZTP_EMALFORMED:
		http_reply_error(a->req, 400, "bad_request", what);
		break;
	default:
		http_reply_error(a->req, 500, "internal", "store failure");
		break;
	}
}

void
admin_no_path(struct areq *a)
{
	http_reply_error(a->req, 404, "not_found", "no such path");
}

void
admin_changed(struct areq *a, const char *iccid, const char *what, const char *arg)
{
	char detail[160];

	snprintf(detail, sizeof(detail), "%s %s", what, arg);
	events_record(a->w->store, EV_ADMIN_CHANGE, iccid, a->c ? a->c->peer : NULL, "%s by %s",
	    detail, a->key_id);
}

void
admin_changed_dev(struct areq *a, const char *owner, const char *device, const char *what,
    const char *arg)
{
	char detail[160];

	snprintf(detail, sizeof(detail), "%s %s", what, arg);
	events_record_dev(a->w->store, EV_ADMIN_CHANGE, owner, device, a->c ? a->c->peer : NULL,
	    "%s by %s", detail, a->key_id);
}

int
admin_query_num(struct areq *a, const char *name, uint64_t min, uint64_t max, uint64_t def,
    uint64_t *out)
{
	const char *v = evhttp_find_header(&a->query, name);
	char why[96];

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (num_parse_u64z(v, min, max, out) != 0) {
		snprintf(why, sizeof(why), "%s must be a number from %llu to %llu", name,
		    (unsigned long long)min, (unsigned long long)max);
		http_reply_error(a->req, 400, "bad_request", why);
		return -1;
	}
	return 0;
}

int
admin_query_limit(struct areq *a, uint64_t *limit)
{
	return admin_query_num(a, "limit", 1, ADMIN_PAGE_MAX, ADMIN_PAGE_DEFAULT, limit);
}

int
admin_query_after_udid(struct areq *a, const char **after)
{
	*after = evhttp_find_header(&a->query, "after");
	if (*after != NULL && !store_udid_valid(*after)) {
		http_reply_error(a->req, 400, "bad_request", "after must be a UDID");
		return -1;
	}
	if (*after == NULL)
		*after = "";
	return 0;
}

void
admin_page_add(struct admin_page *p, json_t *item, const char *key)
{
	json_array_append_new(p->arr, item);
	snprintf(p->last, sizeof(p->last), "%s", key);
	p->n++;
}

void
admin_reply_list(struct areq *a, const char *key, json_t *arr, int rc, json_t *next)
{
	if (rc != 0) {
		json_decref(arr);
		json_decref(next);
		admin_reply_rc(a, rc, "store failure");
		return;
	}
	http_reply_json(a->req, 200, json_pack("{s:o, s:o}", key, arr, "next", next));
}

void
admin_reply_page(struct areq *a, const char *key, struct admin_page *p, int rc, uint64_t limit)
{
	admin_reply_list(a, key, p->arr, rc,
	    p->n == (int)limit ? json_string(p->last) : json_null());
}

/* A SIM batch holds PSKs: its rows are wiped before they are freed. */
void
admin_batch_import(struct areq *a, int sims)
{
	size_t size = sims ? sizeof(struct store_import_row) : sizeof(struct store_allow_row);
	struct store_import_result *res = NULL;
	char why[160], detail[96];
	void *rows = NULL;
	json_t *refused;
	size_t n = 0, i;
	int rc;

	rows = calloc(STORE_IMPORT_BATCH_MAX, size);
	res = calloc(1, sizeof(*res));
	if (rows == NULL || res == NULL) {
		http_reply_error(a->req, 503, "unavailable", "out of memory");
		goto out;
	}
	rc = sims ? adminreq_import(a->body, a->bodylen, rows, &n, why, sizeof(why)) :
		    adminreq_allow_import(a->body, a->bodylen, rows, &n, why, sizeof(why));
	if (rc != 0) {
		admin_reply_rc(a, rc, why);
		goto out;
	}
	rc = sims ? store_sim_import(a->w->store, rows, n, res) :
		    store_allow_import(a->w->store, rows, n, res);
	if (rc != 0) {
		admin_reply_rc(a, rc, "store failure");
		goto out;
	}
	refused = json_array();
	for (i = 0; i < res->nrefused && i < STORE_IMPORT_REFUSED_MAX; i++)
		json_array_append_new(refused, json_pack("{s:I, s:s}", "index",
		    (json_int_t)res->refused[i].index, "error", res->refused[i].why));
	if (res->added > 0) {
		snprintf(detail, sizeof(detail), "%zu added, %zu unchanged, %zu refused", res->added,
		    res->unchanged, res->nrefused);
		admin_changed(a, NULL, sims ? "SIM import:" : "allowlist import:", detail);
	}
	http_reply_json(a->req, 200, json_pack("{s:I, s:I, s:o}", "added", (json_int_t)res->added,
	    "unchanged", (json_int_t)res->unchanged, "refused", refused));
out:
	if (rows != NULL && sims)
		OPENSSL_cleanse(rows, STORE_IMPORT_BATCH_MAX * size);
	free(rows);
	free(res);
}

/* ---- auth ---- */

static void
token_refused(struct areq *a, const char *why)
{
	/* anyone can cause this: queued, coalesced, rate limited (events.h) */
	events_note(a->w, EV_TOKEN_REFUSED, NULL, a->c ? a->c->peer : NULL, "%s", why);
	evhttp_add_header(evhttp_request_get_output_headers(a->req), "WWW-Authenticate",
	    "Bearer realm=\"ztp\"");
	http_reply_error(a->req, 401, "unauthorized", why);
}

/* POST /v1/auth/token: an API key's id and secret for a bearer token. */
void
admin_token(struct areq *a)
{
	const struct server *srv = a->w->srv;
	char key_id[TOKEN_KEYID_MAX + 1], secret[ADMINREQ_SECRET_MAX + 1], why[160];
	char token[TOKEN_MAX];
	int64_t expires;
	int rc;

	rc = adminreq_token(a->body, a->bodylen, key_id, secret, why, sizeof(why));
	if (rc != 0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	/* a revoked key gets no token, whatever its secret */
	rc = store_apikey_verify(a->w->store, key_id, secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (rc == ZTP_EAUTH) {
		snprintf(why, sizeof(why), "wrong key id or secret, or the key is revoked (key id %s)",
		    key_id);
		token_refused(a, why);
		return;
	}
	if (rc != 0) {
		admin_reply_rc(a, rc, "store failure");
		return;
	}
	expires = clock_now_ms() / 1000 + srv->cfg->token_ttl;
	if (token_issue(srv->dd->token_key, key_id, expires, token, sizeof(token)) != 0) {
		http_reply_error(a->req, 500, "internal", "cannot issue a token");
		return;
	}
	http_reply_json(a->req, 200, json_pack("{s:s, s:s, s:i, s:o}", "token", token,
	    "token_type", "Bearer", "expires_in", srv->cfg->token_ttl, "expires_at",
	    admin_time_json(expires * 1000)));
	OPENSSL_cleanse(token, sizeof(token));
}

/*
 * 0 if the request carries a valid token of a key in force, with whom the
 * key acts for in a->all_owners and a->owner (read at every request, so
 * that a revocation holds at once); else 401 (or 500) sent.
 */
static int
authorize(struct areq *a)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(a->req),
	    "Authorization");
	int64_t expires;
	int rc;

	if (h == NULL) {
		token_refused(a, "no bearer token");
		return -1;
	}
	if (strncmp(h, "Bearer ", 7) != 0) {
		token_refused(a, "the Authorization header is not a bearer token");
		return -1;
	}
	rc = token_verify(a->w->srv->dd->token_key, h + 7, strlen(h + 7), clock_now_ms() / 1000,
	    a->key_id, &expires);
	if (rc != 0) {
		token_refused(a, rc == ZTP_EEXPIRED ? "token expired" :
				 rc == ZTP_EAUTH     ? "token signature invalid (forged?)" :
						       "malformed token");
		return -1;
	}
	rc = store_apikey_scope(a->w->store, a->key_id, a->owner);
	if (rc == ZTP_ENOENT || rc == ZTP_EAUTH) {
		token_refused(a, rc == ZTP_ENOENT ? "the token's API key no longer exists" :
						    "the token's API key is revoked");
		return -1;
	}
	if (rc != 0) {
		admin_reply_rc(a, rc, "store failure");
		return -1;
	}
	a->all_owners = a->owner[0] == '\0';
	return 0;
}

int
admin_scope_all(struct areq *a)
{
	if (a->all_owners)
		return 1;
	http_reply_error(a->req, 403, "forbidden", "this key acts for one owner only");
	return 0;
}

int
admin_scope_sees(const struct areq *a, const char *owner)
{
	if (a->all_owners)
		return 1;
	return owner != NULL && owner[0] != '\0' && strcmp(owner, a->owner) == 0;
}

/* ---- dispatch ---- */

static unsigned
method_bit(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET:
		return ADMINROUTE_GET;
	case EVHTTP_REQ_POST:
		return ADMINROUTE_POST;
	case EVHTTP_REQ_PUT:
		return ADMINROUTE_PUT;
	case EVHTTP_REQ_DELETE:
		return ADMINROUTE_DELETE;
	default:
		return ADMINROUTE_OTHER;
	}
}

/*
 * Find the request's route and call it. A path outside /v1/ is 404 before
 * the token is asked for; inside it, a route that is not public wants the
 * token first, so that a client without one learns nothing of the paths.
 */
static void
dispatch(struct areq *a)
{
	const struct adminroute_path *p = &a->path;
	char allow[48], prose[48], why[64];
	int rc, public;

	rc = adminroute_match(admin_api_routes, admin_api_nroutes, a->method, p, &a->m);
	public = a->m.route != NULL && (a->m.route->access & ADMINROUTE_PUBLIC);
	if (!public && (p->nseg < 2 || strcmp(p->seg[0], "v1") != 0)) {
		admin_no_path(a);
		return;
	}
	if (!public && authorize(a) != 0)
		return;
	switch (rc) {
	case 0:
		/* a key of one owner only where the row lets it in (admin_route.h) */
		if (!public && !(a->m.route->access & ADMINROUTE_OWNER_OK) && !admin_scope_all(a))
			break;
		a->param = a->m.param;
		a->m.route->handler(a);
		break;
	case ZTP_EINVAL:
		evhttp_add_header(evhttp_request_get_output_headers(a->req), "Allow",
		    adminroute_allow(a->m.allow, 0, allow, sizeof(allow)));
		snprintf(why, sizeof(why), "use %s",
		    adminroute_allow(a->m.allow, 1, prose, sizeof(prose)));
		http_reply_error(a->req, 405, "method_not_allowed", why);
		break;
	case ZTP_EMALFORMED:
		http_reply_error(a->req, 400, "bad_request", a->m.why);
		break;
	default:
		admin_no_path(a);
		break;
	}
}

void
admin_api_handle(struct evhttp_request *req, void *arg)
{
	struct worker *w = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct areq *a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		http_reply_error(req, 503, "unavailable", "out of memory");
		return;
	}
	TAILQ_INIT(&a->query);
	a->req = req;
	a->w = w;
	a->c = conn_of(req);
	a->method = method_bit(evhttp_request_get_command(req));
	/* a head over --max-header-size never gets here: guard.c answers it (431) */
	if (path == NULL || adminroute_split(path, &a->path) != 0) {
		http_reply_error(req, 404, "not_found", "no such path");
	} else if (query != NULL && evhttp_parse_query_str(query, &a->query) != 0) {
		http_reply_error(req, 400, "bad_request", "malformed query");
	} else if ((a->bodylen = http_body_len(req)) > ADMINREQ_IMPORT_MAX ||
	    (a->bodylen > 0 && (a->body = malloc(a->bodylen)) == NULL)) {
		http_reply_error(req, 413, "too_large", "request body too large");
	} else if (a->bodylen > 0 && http_body(req, a->body, a->bodylen) != (long)a->bodylen) {
		http_reply_error(req, 500, "internal", "cannot read the body");
	} else {
		dispatch(a);
	}
	if (a->body != NULL) {
		OPENSSL_cleanse(a->body, a->bodylen);
		free(a->body);
	}
	evhttp_clear_headers(&a->query);
	/* an answer that comes later is followed by conn_request_done() then */
	if (a->c != NULL && !a->later)
		conn_request_done(a->c, req);
	free(a);
}
