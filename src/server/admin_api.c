/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API (docs/admin-api.md): bearer tokens from API keys, SIMs,
 * configurations, telemetry, events, and the certificates side (allowlist,
 * enrolment passwords, manufacturer CAs, devices, issued certificates and
 * their revocation). JSON in and out; every error is
 * {"error", "detail"}; a refused request changes nothing; every change is
 * an admin_change event naming the key that made it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <sys/queue.h>

#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "admin_req.h"
#include "ca.h"
#include "clock.h"
#include "events.h"
#include "hex.h"
#include "http_util.h"
#include "log.h"
#include "proxy.h"
#include "num.h"
#include "server.h"
#include "signer_msg.h"
#include "store.h"
#include "token.h"
#include "ztp/err.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000
#define MAX_SEGMENTS 6

struct areq {
	struct evhttp_request *req;
	struct worker *w;
	struct conn *c;
	enum evhttp_cmd_type method;
	const char *seg[MAX_SEGMENTS];
	size_t nseg;
	char path[256];
	struct evkeyvalq query;
	char key_id[TOKEN_KEYID_MAX + 1];
	uint8_t *body; /* the request body, up to ADMINREQ_IMPORT_MAX bytes */
	size_t bodylen;
};

static json_t *
time_json(int64_t ms)
{
	char buf[40];

	clock_format(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
sim_json(const struct store_sim *s)
{
	return json_pack("{s:s, s:b, s:o, s:I, s:I, s:o, s:o, s:o, s:b, s:b, s:b}", "iccid",
	    s->iccid, "blocked", s->blocked, "device_id",
	    s->device_id[0] ? json_string(s->device_id) : json_null(), "psk_generation",
	    (json_int_t)s->psk_generation, "config_version", (json_int_t)s->config_version,
	    "created_at", time_json(s->created_at), "updated_at", time_json(s->updated_at),
	    "group", s->group[0] ? json_string(s->group) : json_null(), "derived", s->derived,
	    "rotation_pending", s->rotate || s->pending, "pending_key", s->pending);
}

/* A group's est_auth set as the names of its methods; null: the server's --est-auth. */
static json_t *
est_auth_json(int set)
{
	json_t *arr;

	if (set == 0)
		return json_null();
	arr = json_array();

	if (set & STORE_EST_ALLOWLIST)
		json_array_append_new(arr, json_string("allowlist"));
	if (set & STORE_EST_PASSWORD)
		json_array_append_new(arr, json_string("password"));
	if (set & STORE_EST_MANUFACTURER)
		json_array_append_new(arr, json_string("manufacturer"));
	return arr;
}

static json_t *
text_or_null_str(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *
group_json(const struct store_group *g)
{
	json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:o, s:o, s:i, s:I}", "name", g->name,
	    "iccid_prefix", g->iccid_prefix, "derive", g->derive, "allow_psk_ke", g->allow_psk_ke,
	    "rotation_period_s", (json_int_t)g->rotation_period_s, "sims", (json_int_t)g->sims,
	    "created_at", time_json(g->created_at), "est_auth", est_auth_json(g->est_auth),
	    "cert_days", g->cert_days, "reenroll_grace_s", (json_int_t)g->reenroll_grace_s);

	json_object_set_new(o, "upstream", text_or_null_str(g->upstream.url));
	json_object_set_new(o, "upstream_ca", text_or_null_str(g->upstream.ca));
	json_object_set_new(o, "upstream_cert", text_or_null_str(g->upstream.cert));
	json_object_set_new(o, "upstream_key", text_or_null_str(g->upstream.key));
	return o;
}

static json_t *
config_json(const struct store_config *c)
{
	json_t *body = json_stringn((const char *)c->body, c->len);

	return json_pack("{s:s, s:I, s:s, s:I, s:o, s:s, s:o}", "iccid", c->iccid, "version",
	    (json_int_t)c->version, "etag", c->etag, "size", (json_int_t)c->len, "body",
	    body ? body : json_null(), "source", c->source, "created_at",
	    time_json(c->created_at));
}

/* A JSON string of the bytes if they are UTF-8 text without control characters. */
static json_t *
text_or_null(const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] < 0x20 && b[i] != '\t' && b[i] != '\n' && b[i] != '\r')
			return json_null();
	json_t *s = json_stringn((const char *)b, len);
	return s ? s : json_null();
}

static void
reply_rc(struct areq *a, int rc, const char *what)
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

static void
changed(struct areq *a, const char *iccid, const char *what, const char *arg)
{
	char detail[160];

	snprintf(detail, sizeof(detail), "%s %s", what, arg);
	events_record(a->w->store, EV_ADMIN_CHANGE, iccid, a->c ? a->c->peer : NULL, "%s by %s",
	    detail, a->key_id);
}

/* A query parameter as a number in [min, max]; def if absent. */
static int
query_num(struct areq *a, const char *name, uint64_t min, uint64_t max, uint64_t def,
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

/* ---- auth ---- */

static void
token_refused(struct areq *a, const char *why)
{
	events_record(a->w->store, EV_TOKEN_REFUSED, NULL, a->c ? a->c->peer : NULL, "%s", why);
	evhttp_add_header(evhttp_request_get_output_headers(a->req), "WWW-Authenticate",
	    "Bearer realm=\"ztp\"");
	http_reply_error(a->req, 401, "unauthorized", why);
}

static void
route_token(struct areq *a)
{
	const struct server *srv = a->w->srv;
	char key_id[TOKEN_KEYID_MAX + 1], secret[ADMINREQ_SECRET_MAX + 1], why[160];
	char token[TOKEN_MAX];
	int64_t expires;
	int rc;

	if (a->method != EVHTTP_REQ_POST) {
		http_reply_error(a->req, 405, "method_not_allowed", "use POST");
		return;
	}
	rc = adminreq_token(a->body, a->bodylen, key_id, secret, why, sizeof(why));
	if (rc != 0) {
		reply_rc(a, rc, why);
		return;
	}
	rc = store_apikey_verify(a->w->store, key_id, secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (rc == ZTP_EAUTH) {
		snprintf(why, sizeof(why), "wrong key id or secret (key id %s)", key_id);
		token_refused(a, why);
		return;
	}
	if (rc != 0) {
		reply_rc(a, rc, "store failure");
		return;
	}
	expires = clock_now_ms() / 1000 + srv->cfg->token_ttl;
	if (token_issue(srv->dd->token_key, key_id, expires, token, sizeof(token)) != 0) {
		http_reply_error(a->req, 500, "internal", "cannot issue a token");
		return;
	}
	http_reply_json(a->req, 200, json_pack("{s:s, s:s, s:i, s:o}", "token", token,
	    "token_type", "Bearer", "expires_in", srv->cfg->token_ttl, "expires_at",
	    time_json(expires * 1000)));
	OPENSSL_cleanse(token, sizeof(token));
}

/* 0 if the request carries a valid token of an existing key. */
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
	if (!store_apikey_exists(a->w->store, a->key_id)) {
		token_refused(a, "the token's API key no longer exists");
		return -1;
	}
	return 0;
}

/* ---- SIMs ---- */

/* a page of a list keyed by a string (ICCID, UDID, serial) */
struct key_page {
	json_t *arr;
	char last[STORE_UDID_MAX + 1];
	int n;
};

static void
key_page_add(struct key_page *p, json_t *item, const char *key)
{
	json_array_append_new(p->arr, item);
	snprintf(p->last, sizeof(p->last), "%s", key);
	p->n++;
}

/* Send a page as {key: [...], "next": last key if the page is full, else null}. */
static void
reply_page(struct areq *a, const char *key, struct key_page *p, int rc, uint64_t limit)
{
	if (rc != 0) {
		json_decref(p->arr);
		reply_rc(a, rc, "store failure");
		return;
	}
	http_reply_json(a->req, 200, json_pack("{s:o, s:o}", key, p->arr, "next",
	    p->n == (int)limit ? json_string(p->last) : json_null()));
}

/* a page of a list keyed by a number (telemetry, events) */
struct list_ctx {
	json_t *arr;
	int64_t last_id;
	int n;
};

static int
sim_list_cb(const struct store_sim *s, void *arg)
{
	key_page_add(arg, sim_json(s), s->iccid);
	return 0;
}

static void
route_sims(struct areq *a)
{
	struct key_page p = { 0 };
	struct adminreq_sim req;
	struct store_sim sim;
	char why[160], group[STORE_GROUP_SIZE], detail[160];
	const char *after;
	uint64_t limit;
	int rc;

	if (a->method == EVHTTP_REQ_GET) {
		after = evhttp_find_header(&a->query, "after");
		if (after != NULL && !iccid_valid(after, strlen(after))) {
			http_reply_error(a->req, 400, "bad_request", "after must be an ICCID");
			return;
		}
		if (query_num(a, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) != 0)
			return;
		p.arr = json_array();
		rc = store_sim_list(a->w->store, after ? after : "", (int)limit, sim_list_cb, &p);
		reply_page(a, "sims", &p, rc, limit);
		return;
	}
	if (a->method != EVHTTP_REQ_POST) {
		http_reply_error(a->req, 405, "method_not_allowed", "use GET or POST");
		return;
	}
	rc = adminreq_sim_create(a->body, a->bodylen, &req, why, sizeof(why));
	if (rc == 0 && req.derived) {
		/* pre-registered: no PSK stored, the key stays derived from the group's */
		rc = store_sim_create_derived(a->w->store, req.row.iccid, req.device_id, group);
		if (rc == ZTP_ENOENT) {
			rc = ZTP_EINVAL; /* a bad value in the request, not a missing resource */
			snprintf(why, sizeof(why), "no derived group's ICCID prefix matches %s",
			    req.row.iccid);
		} else {
			snprintf(why, sizeof(why), "SIM %s exists", req.row.iccid);
		}
	} else if (rc == 0) {
		rc = store_sim_create(a->w->store, req.row.iccid, req.row.psk, req.row.psk_len,
		    req.row.group);
		if (rc == ZTP_ENOENT)
			snprintf(why, sizeof(why), "no group %s", req.row.group);
		else
			snprintf(why, sizeof(why), "SIM %s exists", req.row.iccid);
	}
	OPENSSL_cleanse(req.row.psk, sizeof(req.row.psk));
	if (rc == 0)
		rc = store_sim_get(a->w->store, req.row.iccid, &sim);
	if (rc != 0) {
		reply_rc(a, rc, why);
		return;
	}
	if (req.derived) {
		snprintf(detail, sizeof(detail), "%s in derived group %s", req.row.iccid, group);
		changed(a, req.row.iccid, "derived SIM pre-registered:", detail);
	} else {
		changed(a, req.row.iccid, "SIM created:", req.row.iccid);
	}
	http_reply_json(a->req, 201, sim_json(&sim));
}

static void
route_sim(struct areq *a, const char *iccid)
{
	struct store_sim sim;
	const char *action = a->nseg == 4 ? a->seg[3] : NULL;
	int rc;

	if (action == NULL) {
		if (a->method == EVHTTP_REQ_GET) {
			if ((rc = store_sim_get(a->w->store, iccid, &sim)) != 0)
				reply_rc(a, rc, "no such SIM");
			else
				http_reply_json(a->req, 200, sim_json(&sim));
			return;
		}
		if (a->method == EVHTTP_REQ_DELETE) {
			if ((rc = store_sim_delete(a->w->store, iccid)) != 0) {
				reply_rc(a, rc, "no such SIM");
				return;
			}
			changed(a, iccid, "SIM deleted:", iccid);
			evhttp_send_reply(a->req, 204, "No Content", NULL);
			return;
		}
		http_reply_error(a->req, 405, "method_not_allowed", "use GET or DELETE");
		return;
	}
	if (a->method != EVHTTP_REQ_POST) {
		http_reply_error(a->req, 405, "method_not_allowed", "use POST");
		return;
	}
	if (!strcmp(action, "block"))
		rc = store_sim_set_blocked(a->w->store, iccid, 1);
	else if (!strcmp(action, "unblock"))
		rc = store_sim_set_blocked(a->w->store, iccid, 0);
	else if (!strcmp(action, "rebind"))
		rc = store_sim_rebind(a->w->store, iccid);
	else if (!strcmp(action, "rotate"))
		rc = store_sim_set_rotate(a->w->store, iccid, 1);
	else {
		http_reply_error(a->req, 404, "not_found", "no such path");
		return;
	}
	if (rc == 0)
		rc = store_sim_get(a->w->store, iccid, &sim);
	if (rc != 0) {
		reply_rc(a, rc, "no such SIM");
		return;
	}
	changed(a, iccid, !strcmp(action, "block") ? "SIM blocked:" :
			  !strcmp(action, "unblock") ? "SIM unblocked:" :
			  !strcmp(action, "rotate")  ? "SIM key rotation asked:" :
						       "SIM binding reset:", iccid);
	http_reply_json(a->req, 200, sim_json(&sim));
}

/*
 * POST /v1/sims/import (sims non-zero) and POST /v1/allowlist/import: one
 * batch, one transaction. A SIM batch holds PSKs: its rows are wiped before
 * they are freed.
 */
static void
route_batch_import(struct areq *a, int sims)
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
		reply_rc(a, rc, why);
		goto out;
	}
	rc = sims ? store_sim_import(a->w->store, rows, n, res) :
		    store_allow_import(a->w->store, rows, n, res);
	if (rc != 0) {
		reply_rc(a, rc, "store failure");
		goto out;
	}
	refused = json_array();
	for (i = 0; i < res->nrefused && i < STORE_IMPORT_REFUSED_MAX; i++)
		json_array_append_new(refused, json_pack("{s:I, s:s}", "index",
		    (json_int_t)res->refused[i].index, "error", res->refused[i].why));
	if (res->added > 0) {
		snprintf(detail, sizeof(detail), "%zu added, %zu unchanged, %zu refused", res->added,
		    res->unchanged, res->nrefused);
		changed(a, NULL, sims ? "SIM import:" : "allowlist import:", detail);
	}
	http_reply_json(a->req, 200, json_pack("{s:I, s:I, s:o}", "added", (json_int_t)res->added,
	    "unchanged", (json_int_t)res->unchanged, "refused", refused));
out:
	if (rows != NULL && sims)
		OPENSSL_cleanse(rows, STORE_IMPORT_BATCH_MAX * size);
	free(rows);
	free(res);
}

/* POST /v1/sims/import */
static void
route_import(struct areq *a)
{
	if (a->method != EVHTTP_REQ_POST) {
		http_reply_error(a->req, 405, "method_not_allowed", "use POST");
		return;
	}
	route_batch_import(a, 1);
}

/* ---- groups ---- */

static int
group_list_cb(const struct store_group *g, void *arg)
{
	json_array_append_new(arg, group_json(g));
	return 0;
}

/* PUT /v1/groups/NAME/upstream: where the group's device requests go (docs/proxy.md). */
static void
route_group_upstream(struct areq *a)
{
	struct store_upstream u;
	struct store_group g;
	char why[256];
	int rc;

	if (strcmp(a->seg[3], "upstream") != 0) {
		http_reply_error(a->req, 404, "not_found", "no such path");
		return;
	}
	if (a->method != EVHTTP_REQ_PUT) {
		http_reply_error(a->req, 405, "method_not_allowed", "use PUT");
		return;
	}
	if (!store_group_name_valid(a->seg[2])) {
		http_reply_error(a->req, 400, "bad_request", "not a group name");
		return;
	}
	if ((rc = adminreq_group_upstream(a->body, a->bodylen, &u, why, sizeof(why))) != 0 ||
	    (rc = proxy_upstream_try(&u, why, sizeof(why))) != 0) {
		http_reply_error(a->req, 400, "bad_request", why);
		return;
	}
	if ((rc = store_group_set_upstream(a->w->store, a->seg[2], &u)) != 0 ||
	    (rc = store_group_get(a->w->store, a->seg[2], &g)) != 0) {
		reply_rc(a, rc, rc == ZTP_ENOENT ? "no such group" : "store failure");
		return;
	}
	changed(a, NULL, "group upstream set:", g.name);
	http_reply_json(a->req, 200, group_json(&g));
}

static void
route_groups(struct areq *a)
{
	uint8_t master[STORE_MASTER_LEN];
	char why[160], hex[2 * STORE_MASTER_LEN + 1];
	struct store_group g;
	json_t *arr, *obj;
	int have_master, rc;

	if (a->nseg == 4) {
		route_group_upstream(a);
		return;
	}
	if (a->nseg == 3) {
		if (a->method != EVHTTP_REQ_GET) {
			http_reply_error(a->req, 405, "method_not_allowed", "use GET");
			return;
		}
		if (!store_group_name_valid(a->seg[2])) {
			http_reply_error(a->req, 400, "bad_request", "not a group name");
			return;
		}
		if ((rc = store_group_get(a->w->store, a->seg[2], &g)) != 0)
			reply_rc(a, rc, "no such group");
		else
			http_reply_json(a->req, 200, group_json(&g));
		return;
	}
	if (a->method == EVHTTP_REQ_GET) {
		arr = json_array();
		if ((rc = store_group_list(a->w->store, group_list_cb, arr)) != 0) {
			json_decref(arr);
			reply_rc(a, rc, "store failure");
			return;
		}
		http_reply_json(a->req, 200, json_pack("{s:o}", "groups", arr));
		return;
	}
	if (a->method != EVHTTP_REQ_POST) {
		http_reply_error(a->req, 405, "method_not_allowed", "use GET or POST");
		return;
	}
	rc = adminreq_group_create(a->body, a->bodylen, &g, master, &have_master, why, sizeof(why));
	if (rc == 0 && proxy_upstream_try(&g.upstream, why, sizeof(why)) != 0)
		rc = ZTP_EMALFORMED;
	if (rc == 0 && g.derive && !have_master)
		rc = crypto_random(master, sizeof(master));
	if (rc == 0) {
		rc = store_group_create(a->w->store, &g, g.derive ? master : NULL);
		snprintf(why, sizeof(why), rc == ZTP_EEXIST ? "group %s exists" :
		    "group %s cannot be created", g.name);
	}
	if (rc == 0)
		rc = store_group_get(a->w->store, g.name, &g);
	if (rc != 0) {
		OPENSSL_cleanse(master, sizeof(master));
		reply_rc(a, rc, why);
		return;
	}
	changed(a, NULL, "group created:", g.name);
	obj = group_json(&g);
	if (g.derive && !have_master) {
		/* generated here: shown in this answer only */
		hex_encode(master, sizeof(master), hex, sizeof(hex));
		json_object_set_new(obj, "master_key", json_string(hex));
		OPENSSL_cleanse(hex, sizeof(hex));
	}
	OPENSSL_cleanse(master, sizeof(master));
	http_reply_json(a->req, 201, obj);
}

/* ---- configurations ---- */

static int
history_cb(const struct store_config *c, void *arg)
{
	json_array_append_new(arg, config_json(c));
	return 0;
}

static void
route_config(struct areq *a, const char *iccid)
{
	const char *sub = a->nseg == 5 ? a->seg[4] : NULL;
	struct store_config cfg;
	struct store_sim sim;
	uint8_t body[STORE_CONFIG_MAX];
	char why[160], vstr[16];
	uint32_t version;
	size_t len;
	json_t *arr;
	int rc;

	if (sub == NULL && a->method == EVHTTP_REQ_GET) {
		if ((rc = store_config_get(a->w->store, iccid, 0, &cfg)) != 0)
			reply_rc(a, rc, store_sim_get(a->w->store, iccid, &sim) == 0 ?
			    "no configuration set" : "no such SIM");
		else
			http_reply_json(a->req, 200, config_json(&cfg));
		return;
	}
	if (sub == NULL && a->method == EVHTTP_REQ_PUT) {
		rc = adminreq_config_set(a->body, a->bodylen, body, &len, why, sizeof(why));
		if (rc == 0) {
			rc = store_config_set(a->w->store, iccid, body, len, &cfg);
			snprintf(why, sizeof(why), "no such SIM");
		}
		if (rc != 0) {
			reply_rc(a, rc, why);
			return;
		}
		snprintf(vstr, sizeof(vstr), "%u", cfg.version);
		changed(a, iccid, "configuration set, version", vstr);
		http_reply_json(a->req, 201, config_json(&cfg));
		return;
	}
	if (sub != NULL && !strcmp(sub, "history") && a->method == EVHTTP_REQ_GET) {
		if ((rc = store_sim_get(a->w->store, iccid, &sim)) != 0) {
			reply_rc(a, rc, "no such SIM");
			return;
		}
		arr = json_array();
		if ((rc = store_config_history(a->w->store, iccid, history_cb, arr)) != 0) {
			json_decref(arr);
			reply_rc(a, rc, "store failure");
			return;
		}
		http_reply_json(a->req, 200, json_pack("{s:o}", "versions", arr));
		return;
	}
	if (sub != NULL && !strcmp(sub, "rollback") && a->method == EVHTTP_REQ_POST) {
		if ((rc = adminreq_rollback(a->body, a->bodylen, &version, why, sizeof(why))) != 0) {
			reply_rc(a, rc, why);
			return;
		}
		if ((rc = store_config_rollback(a->w->store, iccid, version, &cfg)) != 0) {
			snprintf(why, sizeof(why), "no configuration version %u of SIM %s", version,
			    iccid);
			reply_rc(a, rc, why);
			return;
		}
		snprintf(vstr, sizeof(vstr), "%u", version);
		changed(a, iccid, "configuration rolled back to version", vstr);
		http_reply_json(a->req, 201, config_json(&cfg));
		return;
	}
	if (sub != NULL && strcmp(sub, "history") && strcmp(sub, "rollback"))
		http_reply_error(a->req, 404, "not_found", "no such path");
	else
		http_reply_error(a->req, 405, "method_not_allowed", "method not allowed here");
}

/* ---- telemetry and events ---- */

static int
telemetry_cb(const struct store_telemetry *t, void *arg)
{
	struct list_ctx *l = arg;
	char hex[2 * STORE_TELEMETRY_MAX + 1];

	hex_encode(t->body, t->len, hex, sizeof(hex));
	json_array_append_new(l->arr, json_pack("{s:I, s:s, s:s, s:I, s:o, s:s, s:o}", "id",
	    (json_int_t)t->id, "iccid", t->iccid, "device_id", t->device_id, "size",
	    (json_int_t)t->len, "body", text_or_null(t->body, t->len), "body_hex", hex,
	    "received_at", time_json(t->received_at)));
	l->last_id = t->id;
	l->n++;
	return 0;
}

static void
route_telemetry(struct areq *a, const char *iccid)
{
	struct list_ctx l = { 0 };
	struct store_sim sim;
	uint64_t limit, before;
	int rc;

	if (a->method != EVHTTP_REQ_GET) {
		http_reply_error(a->req, 405, "method_not_allowed", "use GET");
		return;
	}
	if (query_num(a, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) != 0 ||
	    query_num(a, "before", 1, INT64_MAX, 0, &before) != 0)
		return;
	if ((rc = store_sim_get(a->w->store, iccid, &sim)) != 0) {
		reply_rc(a, rc, "no such SIM");
		return;
	}
	l.arr = json_array();
	rc = store_telemetry_list(a->w->store, iccid, (int64_t)before, (int)limit, telemetry_cb,
	    &l);
	if (rc != 0) {
		json_decref(l.arr);
		reply_rc(a, rc, "store failure");
		return;
	}
	http_reply_json(a->req, 200, json_pack("{s:o, s:o}", "telemetry", l.arr, "next",
	    l.n == (int)limit ? json_integer(l.last_id) : json_null()));
}

static int
event_cb(const struct store_event *ev, void *arg)
{
	struct list_ctx *l = arg;

	json_array_append_new(l->arr, json_pack("{s:I, s:o, s:s, s:o, s:o, s:s}", "id",
	    (json_int_t)ev->id, "time", time_json(ev->time), "kind", ev->kind, "iccid",
	    ev->iccid[0] ? json_string(ev->iccid) : json_null(), "peer",
	    ev->peer[0] ? json_string(ev->peer) : json_null(), "detail", ev->detail));
	l->last_id = ev->id;
	l->n++;
	return 0;
}

static void
route_events(struct areq *a)
{
	struct list_ctx l = { 0 };
	const char *since = evhttp_find_header(&a->query, "since");
	uint64_t limit, after;
	int64_t since_ms = 0;
	int rc;

	if (a->method != EVHTTP_REQ_GET) {
		http_reply_error(a->req, 405, "method_not_allowed", "use GET");
		return;
	}
	if (since != NULL && clock_parse(since, &since_ms) != 0) {
		http_reply_error(a->req, 400, "bad_request",
		    "since must be RFC 3339 (2026-11-21T23:00:00Z) or Unix seconds");
		return;
	}
	if (query_num(a, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) != 0 ||
	    query_num(a, "after", 0, INT64_MAX, 0, &after) != 0)
		return;
	l.arr = json_array();
	rc = store_event_list(a->w->store, since_ms, (int64_t)after, (int)limit, event_cb, &l);
	if (rc != 0) {
		json_decref(l.arr);
		reply_rc(a, rc, "store failure");
		return;
	}
	http_reply_json(a->req, 200, json_pack("{s:o, s:o}", "events", l.arr, "next",
	    l.n == (int)limit ? json_integer(l.last_id) : json_null()));
}

/* ---- certificates: allowlist, enrolment passwords, manufacturer CAs, certs, devices ---- */

static json_t *
opt_string(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

/* A SHA-256 in lower-case hex, as sha256sum and openssl dgst print it. */
static json_t *
sha256_json(const uint8_t h[32])
{
	char hex[65];
	size_t i;

	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	return json_string(hex);
}

/* Unix seconds as RFC 3339, or null for 0. */
static json_t *
secs_json(int64_t s)
{
	return s != 0 ? time_json(s * 1000) : json_null();
}

static json_t *
allow_json(const struct store_allow *e)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:o}", "udid", e->udid, "key_sha256",
	    sha256_json(e->key_sha256), "group", opt_string(e->group), "iccid",
	    opt_string(e->iccid), "created_at", time_json(e->created_at));
}

static json_t *
reason_json(int reason)
{
	const char *name = adminreq_reason_name(reason);

	return name != NULL ? json_string(name) : json_integer(reason);
}

static json_t *
cert_json(const struct store_cert *c)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:b, s:o, s:o}", "serial",
	    c->serial, "udid", c->udid, "subject", c->subject, "key_sha256",
	    sha256_json(c->key_sha256), "not_before", secs_json(c->not_before), "not_after",
	    secs_json(c->not_after), "issued_at", time_json(c->issued_at), "method", c->method,
	    "revoked", c->revoked_at != 0, "revoked_at", secs_json(c->revoked_at), "reason",
	    c->revoked_at != 0 ? reason_json(c->reason) : json_null());
}

static json_t *
thing_json(const struct store_thing *t)
{
	return json_pack("{s:s, s:o, s:o, s:b, s:I, s:o, s:o, s:o}", "udid", t->udid, "group",
	    opt_string(t->group), "iccid", opt_string(t->iccid), "blocked", t->blocked, "certs",
	    (json_int_t)t->certs, "newest_serial", opt_string(t->serial), "created_at",
	    time_json(t->created_at), "updated_at", time_json(t->updated_at));
}

/*
 * A manufacturer CA; its subject (RFC 2253, ASCII: OpenSSL escapes the
 * rest) and notAfter are read from its PEM. with_pem adds the PEM.
 */
static json_t *
mfr_ca_json(const struct store_mfr_ca *ca, int with_pem)
{
	json_t *subject = json_null(), *not_after = json_null(), *o;
	BIO *in, *mem = NULL;
	X509 *x = NULL;
	struct tm tm;
	char *text;
	long n;

	if ((in = BIO_new_mem_buf(ca->pem, -1)) != NULL &&
	    (x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
		if ((mem = BIO_new(BIO_s_mem())) != NULL &&
		    X509_NAME_print_ex(mem, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0 &&
		    (n = BIO_get_mem_data(mem, &text)) >= 0) {
			json_decref(subject);
			subject = json_stringn(text, (size_t)(n < STORE_SUBJECT_MAX ? n :
								   STORE_SUBJECT_MAX - 1));
			if (subject == NULL)
				subject = json_null();
		}
		if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) {
			json_decref(not_after);
			not_after = secs_json((int64_t)timegm(&tm));
		}
	}
	ERR_clear_error();
	BIO_free(mem);
	BIO_free(in);
	X509_free(x);
	o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "name", ca->name, "sha256",
	    sha256_json(ca->sha256), "subject", subject, "not_after", not_after, "group",
	    opt_string(ca->group), "created_at", time_json(ca->created_at));
	if (o != NULL && with_pem)
		json_object_set_new(o, "pem", json_string(ca->pem));
	return o;
}

/*
 * A path segment percent-decoded into out (cap bytes); -1 if it does not
 * fit, has a bad escape or decodes to NUL.
 */
/* The UDID of a path segment; else a 400 is sent and -1 returned. */
static int
seg_udid(struct areq *a, const char *seg, char udid[STORE_UDID_MAX + 1])
{
	size_t len = 0;
	char *dec = evhttp_uridecode(seg, 0, &len); /* %XX, as a client may send ':' */
	int ok = dec != NULL && len == strlen(dec) && len <= STORE_UDID_MAX && store_udid_valid(dec);

	if (ok)
		memcpy(udid, dec, len + 1);
	free(dec);
	if (!ok) {
		http_reply_error(a->req, 400, "bad_request",
		    "not a UDID (1 to 64 characters of A-Z a-z 0-9 - . : _)");
		return -1;
	}
	return 0;
}

/*
 * A certificate serial number in hex (either case, any leading zeros) into
 * the form the EST endpoint records: its bytes without leading zero bytes,
 * in upper-case hex, as openssl x509 -serial prints it. -1 if it is not one.
 */
static int
serial_norm(const char *in, char out[STORE_SERIAL_HEX])
{
	size_t i, n, odd;

	while (in[0] == '0' && in[1] != '\0')
		in++;
	n = strlen(in);
	odd = n & 1;
	if (n == 0 || n + odd >= STORE_SERIAL_HEX)
		return -1;
	if (odd)
		out[0] = '0';
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)in[i]))
			return -1;
		out[odd + i] = (char)toupper((unsigned char)in[i]);
	}
	out[odd + n] = '\0';
	return 0;
}

static int
seg_serial(struct areq *a, const char *seg, char serial[STORE_SERIAL_HEX])
{
	if (serial_norm(seg, serial) != 0) {
		http_reply_error(a->req, 400, "bad_request",
		    "not a certificate serial number (1 to 40 hex digits)");
		return -1;
	}
	return 0;
}

/*
 * Re-sign the CRL now that a revocation made it stale. If that fails the
 * revocation stands (it is in the store) and main re-signs within a minute.
 */
static void
crl_update(struct areq *a)
{
	int rc = ca_crl_update(a->w->srv, a->w->store, 1);

	if (rc != 0)
		log_warnx("the CRL was not re-signed after a revocation (%s); it is retried "
			  "every minute",
		    ztp_strerror(rc));
}

static int
allow_list_cb(const struct store_allow *e, void *arg)
{
	key_page_add(arg, allow_json(e), e->udid);
	return 0;
}

static int
cert_list_cb(const struct store_cert *c, void *arg)
{
	key_page_add(arg, cert_json(c), c->serial);
	return 0;
}

static int
thing_list_cb(const struct store_thing *t, void *arg)
{
	key_page_add(arg, thing_json(t), t->udid);
	return 0;
}

/* The after= of a list keyed by UDID ("" if absent); else a 400 is sent and -1 returned. */
static int
query_after_udid(struct areq *a, const char **after)
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

/* POST /v1/allowlist: 201 added, 200 if the same entry is there, 409 if another one is */
static void
allow_add(struct areq *a)
{
	struct store_allow e, old;
	char why[160];
	int rc, existed;

	if ((rc = adminreq_allow(a->body, a->bodylen, &e, why, sizeof(why))) != 0) {
		reply_rc(a, rc, why);
		return;
	}
	existed = store_allow_get(a->w->store, e.udid, &old) == 0;
	rc = store_allow_add(a->w->store, &e);
	if (rc == ZTP_ENOENT)
		snprintf(why, sizeof(why), "no group %s", e.group);
	else if (rc == ZTP_EEXIST)
		snprintf(why, sizeof(why), "UDID %s has another allowlist entry (delete it first)",
		    e.udid);
	else
		snprintf(why, sizeof(why), "cannot add UDID %s", e.udid);
	if (rc == 0)
		rc = store_allow_get(a->w->store, e.udid, &e);
	if (rc != 0) {
		reply_rc(a, rc, why);
		return;
	}
	if (!existed)
		changed(a, e.iccid[0] ? e.iccid : NULL, "allowlist entry added:", e.udid);
	http_reply_json(a->req, existed ? 200 : 201, allow_json(&e));
}

static void
route_allowlist(struct areq *a)
{
	char udid[STORE_UDID_MAX + 1];
	struct key_page p = { 0 };
	struct store_allow e;
	const char *after;
	uint64_t limit;
	int rc;

	if (a->nseg == 2 && a->method == EVHTTP_REQ_GET) {
		if (query_after_udid(a, &after) != 0 ||
		    query_num(a, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) != 0)
			return;
		p.arr = json_array();
		rc = store_allow_list(a->w->store, after, (int)limit, allow_list_cb, &p);
		reply_page(a, "allowlist", &p, rc, limit);
		return;
	}
	if (a->nseg == 2 && a->method == EVHTTP_REQ_POST) {
		allow_add(a);
		return;
	}
	if (a->nseg == 2) {
		http_reply_error(a->req, 405, "method_not_allowed", "use GET or POST");
		return;
	}
	/* "import" is a UDID too: POST is the import, GET and DELETE the entry */
	if (a->nseg == 3 && !strcmp(a->seg[2], "import") && a->method == EVHTTP_REQ_POST) {
		route_batch_import(a, 0);
		return;
	}
	if (a->nseg != 3) {
		http_reply_error(a->req, 404, "not_found", "no such path");
		return;
	}
	if (seg_udid(a, a->seg[2], udid) != 0)
		return;
	if (a->method == EVHTTP_REQ_GET) {
		if ((rc = store_allow_get(a->w->store, udid, &e)) != 0)
			reply_rc(a, rc, "no allowlist entry for this UDID");
		else
			http_reply_json(a->req, 200, allow_json(&e));
		return;
	}
	if (a->method == EVHTTP_REQ_DELETE) {
		if ((rc = store_allow_delete(a->w->store, udid)) != 0) {
			reply_rc(a, rc, "no allowlist entry for this UDID");
			return;
		}
		changed(a, NULL, "allowlist entry deleted:", udid);
		evhttp_send_reply(a->req, 204, "No Content", NULL);
		return;
	}
	http_reply_error(a->req, 405, "method_not_allowed", "use GET or DELETE");
}

/*
 * POST /v1/enrolment-passwords: the server makes the password (128 bits,
 * 32 lower-case hex digits); the store keeps a salted HMAC of it; it is in
 * this answer and nowhere else (not in the event, not in the log).
 */
static void
route_passwords(struct areq *a)
{
	char udid[STORE_UDID_MAX + 1], group[STORE_GROUP_SIZE], why[160], pw[33];
	struct store_password p;
	uint8_t rnd[16];
	json_t *obj;
	int64_t ttl;
	size_t i;
	int rc;

	if (a->nseg != 2) {
		http_reply_error(a->req, 404, "not_found", "no such path");
		return;
	}
	if (a->method != EVHTTP_REQ_POST) {
		http_reply_error(a->req, 405, "method_not_allowed", "use POST");
		return;
	}
	if ((rc = adminreq_password(a->body, a->bodylen, udid, &ttl, group, why, sizeof(why))) != 0) {
		reply_rc(a, rc, why);
		return;
	}
	if (crypto_random(rnd, sizeof(rnd)) != 0) {
		http_reply_error(a->req, 500, "internal", "no randomness");
		return;
	}
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(pw + 2 * i, 3, "%02x", rnd[i]);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	rc = store_password_create(a->w->store, udid, group, pw, clock_now_ms() + ttl * 1000, &p);
	if (rc != 0) {
		OPENSSL_cleanse(pw, sizeof(pw));
		if (rc == ZTP_ENOENT)
			snprintf(why, sizeof(why), "no group %s", group);
		else
			snprintf(why, sizeof(why), "cannot create a password for %s", udid);
		reply_rc(a, rc, why);
		return;
	}
	changed(a, NULL, "enrolment password created for", udid);
	obj = json_pack("{s:s, s:s, s:o, s:o}", "udid", p.udid, "password", pw, "expires_at",
	    time_json(p.expires_at), "group", opt_string(p.group));
	OPENSSL_cleanse(pw, sizeof(pw));
	evhttp_add_header(evhttp_request_get_output_headers(a->req), "Cache-Control", "no-store");
	http_reply_json(a->req, 201, obj);
}

/* manufacturer CA list: all, or the one named find (found says if it was) */
struct mfr_ctx {
	json_t *arr;
	int with_pem;
	const char *find;
	json_t *found;
};

static int
mfr_ca_cb(const struct store_mfr_ca *ca, void *arg)
{
	struct mfr_ctx *m = arg;

	if (m->find == NULL)
		json_array_append_new(m->arr, mfr_ca_json(ca, m->with_pem));
	else if (strcmp(ca->name, m->find) == 0 && m->found == NULL)
		m->found = mfr_ca_json(ca, 1);
	return 0;
}

static void
route_mfr_cas(struct areq *a)
{
	struct mfr_ctx m = { 0 };
	struct store_mfr_ca *ca = NULL;
	char why[160];
	uint64_t pem;
	int rc;

	if (a->nseg == 3) {
		if (!store_group_name_valid(a->seg[2])) {
			http_reply_error(a->req, 400, "bad_request", "not a manufacturer CA name");
			return;
		}
		if (a->method == EVHTTP_REQ_GET) {
			m.find = a->seg[2];
			if ((rc = store_mfr_ca_list(a->w->store, mfr_ca_cb, &m)) != 0)
				reply_rc(a, rc, "store failure");
			else if (m.found == NULL)
				http_reply_error(a->req, 404, "not_found", "no such manufacturer CA");
			else
				http_reply_json(a->req, 200, m.found);
			return;
		}
		if (a->method == EVHTTP_REQ_DELETE) {
			if ((rc = store_mfr_ca_delete(a->w->store, a->seg[2])) != 0) {
				reply_rc(a, rc, "no such manufacturer CA");
				return;
			}
			changed(a, NULL, "manufacturer CA deleted:", a->seg[2]);
			evhttp_send_reply(a->req, 204, "No Content", NULL);
			return;
		}
		http_reply_error(a->req, 405, "method_not_allowed", "use GET or DELETE");
		return;
	}
	if (a->method == EVHTTP_REQ_GET) {
		if (query_num(a, "pem", 0, 1, 0, &pem) != 0)
			return;
		m.arr = json_array();
		m.with_pem = (int)pem;
		if ((rc = store_mfr_ca_list(a->w->store, mfr_ca_cb, &m)) != 0) {
			json_decref(m.arr);
			reply_rc(a, rc, "store failure");
			return;
		}
		http_reply_json(a->req, 200, json_pack("{s:o}", "manufacturer_cas", m.arr));
		return;
	}
	if (a->method != EVHTTP_REQ_POST) {
		http_reply_error(a->req, 405, "method_not_allowed", "use GET or POST");
		return;
	}
	if ((ca = malloc(sizeof(*ca))) == NULL) {
		http_reply_error(a->req, 503, "unavailable", "out of memory");
		return;
	}
	if ((rc = adminreq_mfr_ca(a->body, a->bodylen, ca, why, sizeof(why))) == 0) {
		rc = store_mfr_ca_add(a->w->store, ca);
		if (rc == ZTP_ENOENT)
			snprintf(why, sizeof(why), "no group %s", ca->group);
		else if (rc == ZTP_EEXIST)
			snprintf(why, sizeof(why), "a manufacturer CA named %s, or with this "
			    "certificate, exists", ca->name);
		else
			snprintf(why, sizeof(why), "cannot add manufacturer CA %s", ca->name);
	}
	if (rc != 0) {
		reply_rc(a, rc, why);
		free(ca);
		return;
	}
	changed(a, NULL, "manufacturer CA added:", ca->name);
	m.find = ca->name;
	if ((rc = store_mfr_ca_list(a->w->store, mfr_ca_cb, &m)) != 0 || m.found == NULL) {
		json_decref(m.found);
		ca->created_at = clock_now_ms();
		m.found = mfr_ca_json(ca, 1); /* as it was added */
	}
	http_reply_json(a->req, 201, m.found);
	free(ca);
}

static void
route_certs(struct areq *a)
{
	char serial[STORE_SERIAL_HEX], after[STORE_SERIAL_HEX] = "", why[160];
	const char *udid, *q;
	struct key_page p = { 0 };
	struct store_cert c;
	uint64_t limit;
	int rc, reason;

	if (a->nseg == 2) {
		if (a->method != EVHTTP_REQ_GET) {
			http_reply_error(a->req, 405, "method_not_allowed", "use GET");
			return;
		}
		udid = evhttp_find_header(&a->query, "udid");
		if (udid != NULL && !store_udid_valid(udid)) {
			http_reply_error(a->req, 400, "bad_request", "udid must be a UDID");
			return;
		}
		if ((q = evhttp_find_header(&a->query, "after")) != NULL && serial_norm(q, after) != 0) {
			http_reply_error(a->req, 400, "bad_request", "after must be a serial number");
			return;
		}
		if (query_num(a, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) != 0)
			return;
		p.arr = json_array();
		rc = store_cert_list(a->w->store, udid, after, (int)limit, cert_list_cb, &p);
		reply_page(a, "certs", &p, rc, limit);
		return;
	}
	if (a->nseg > 4 || (a->nseg == 4 && strcmp(a->seg[3], "revoke") != 0)) {
		http_reply_error(a->req, 404, "not_found", "no such path");
		return;
	}
	if (seg_serial(a, a->seg[2], serial) != 0)
		return;
	if (a->nseg == 3) {
		if (a->method != EVHTTP_REQ_GET) {
			http_reply_error(a->req, 405, "method_not_allowed", "use GET");
			return;
		}
		if ((rc = store_cert_get(a->w->store, serial, &c)) != 0)
			reply_rc(a, rc, "no such certificate");
		else
			http_reply_json(a->req, 200, cert_json(&c));
		return;
	}
	if (a->method != EVHTTP_REQ_POST) {
		http_reply_error(a->req, 405, "method_not_allowed", "use POST");
		return;
	}
	rc = adminreq_reason(a->body, a->bodylen, SIGNER_REASON_UNSPECIFIED, &reason, why,
	    sizeof(why));
	if (rc == 0) {
		rc = store_cert_revoke(a->w->store, serial, reason);
		snprintf(why, sizeof(why), rc == ZTP_EEXIST ? "certificate %s is revoked already" :
		    "no certificate %s", serial);
	}
	if (rc == 0)
		rc = store_cert_get(a->w->store, serial, &c);
	if (rc != 0) {
		reply_rc(a, rc, why);
		return;
	}
	events_record(a->w->store, EV_CERT_REVOKED, NULL, a->c ? a->c->peer : NULL,
	    "certificate %s of %s revoked (%s) by %s", c.serial, c.udid,
	    adminreq_reason_name(reason), a->key_id);
	changed(a, NULL, "certificate revoked:", serial);
	crl_update(a);
	http_reply_json(a->req, 200, cert_json(&c));
}

static int
thing_cert_cb(const struct store_cert *c, void *arg)
{
	json_array_append_new(arg, cert_json(c));
	return 0;
}

static void
route_devices(struct areq *a)
{
	char udid[STORE_UDID_MAX + 1], why[160], detail[128];
	struct key_page p = { 0 };
	struct store_thing t;
	const char *after, *action = a->nseg == 4 ? a->seg[3] : NULL;
	json_t *obj, *certs;
	uint64_t limit;
	int rc, reason, revoked = 0;

	if (a->nseg == 2) {
		if (a->method != EVHTTP_REQ_GET) {
			http_reply_error(a->req, 405, "method_not_allowed", "use GET");
			return;
		}
		if (query_after_udid(a, &after) != 0 ||
		    query_num(a, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) != 0)
			return;
		p.arr = json_array();
		rc = store_thing_list(a->w->store, after, (int)limit, thing_list_cb, &p);
		reply_page(a, "devices", &p, rc, limit);
		return;
	}
	if (a->nseg > 4 || (action != NULL && strcmp(action, "block") && strcmp(action, "unblock"))) {
		http_reply_error(a->req, 404, "not_found", "no such path");
		return;
	}
	if (seg_udid(a, a->seg[2], udid) != 0)
		return;
	if (action == NULL) {
		if (a->method != EVHTTP_REQ_GET) {
			http_reply_error(a->req, 405, "method_not_allowed", "use GET");
			return;
		}
		if ((rc = store_thing_get(a->w->store, udid, &t)) != 0) {
			reply_rc(a, rc, "no such device");
			return;
		}
		/* its certificates, up to a page: GET /v1/certs?udid= pages through all */
		certs = json_array();
		if ((rc = store_cert_list(a->w->store, udid, "", PAGE_MAX, thing_cert_cb,
			 certs)) != 0) {
			json_decref(certs);
			reply_rc(a, rc, "store failure");
			return;
		}
		obj = thing_json(&t);
		json_object_set_new(obj, "certificates", certs);
		http_reply_json(a->req, 200, obj);
		return;
	}
	if (a->method != EVHTTP_REQ_POST) {
		http_reply_error(a->req, 405, "method_not_allowed", "use POST");
		return;
	}
	if (!strcmp(action, "block")) {
		rc = adminreq_reason(a->body, a->bodylen, SIGNER_REASON_PRIVILEGE_WITHDRAWN, &reason,
		    why, sizeof(why));
		if (rc == 0) {
			rc = store_thing_block(a->w->store, udid, reason, &revoked);
			snprintf(why, sizeof(why), "no device or allowlist entry %s", udid);
		}
	} else {
		rc = store_thing_unblock(a->w->store, udid);
		snprintf(why, sizeof(why), "no such device");
	}
	if (rc == 0)
		rc = store_thing_get(a->w->store, udid, &t);
	if (rc != 0) {
		reply_rc(a, rc, why);
		return;
	}
	if (!strcmp(action, "block")) {
		snprintf(detail, sizeof(detail), "%s (%d certificates revoked)", udid, revoked);
		changed(a, t.iccid[0] ? t.iccid : NULL, "device blocked:", detail);
		if (revoked > 0) {
			events_record(a->w->store, EV_CERT_REVOKED, t.iccid[0] ? t.iccid : NULL,
			    a->c ? a->c->peer : NULL, "%d certificates of %s revoked (%s) by %s: device "
			    "blocked", revoked, udid, adminreq_reason_name(reason), a->key_id);
			/* a block that revoked nothing leaves the CRL as it is */
			crl_update(a);
		}
	} else {
		changed(a, t.iccid[0] ? t.iccid : NULL, "device unblocked:", udid);
	}
	obj = thing_json(&t);
	if (!strcmp(action, "block"))
		json_object_set_new(obj, "revoked", json_integer(revoked));
	http_reply_json(a->req, 200, obj);
}

/* ---- routing ---- */

static int
split_path(struct areq *a, const char *path)
{
	char *p, *save = NULL;

	if (strlen(path) >= sizeof(a->path))
		return -1;
	snprintf(a->path, sizeof(a->path), "%s", path);
	for (p = strtok_r(a->path, "/", &save); p != NULL; p = strtok_r(NULL, "/", &save)) {
		if (a->nseg == MAX_SEGMENTS)
			return -1;
		a->seg[a->nseg++] = p;
	}
	return 0;
}

static void
route(struct areq *a)
{
	const char *iccid;

	if (a->nseg == 3 && !strcmp(a->seg[0], "v1") && !strcmp(a->seg[1], "auth") &&
	    !strcmp(a->seg[2], "token")) {
		route_token(a);
		return;
	}
	if (a->nseg < 2 || strcmp(a->seg[0], "v1") != 0) {
		http_reply_error(a->req, 404, "not_found", "no such path");
		return;
	}
	if (authorize(a) != 0)
		return;
	if (a->nseg == 2 && !strcmp(a->seg[1], "events")) {
		route_events(a);
		return;
	}
	if (!strcmp(a->seg[1], "groups") && a->nseg <= 4) {
		route_groups(a);
		return;
	}
	if (a->nseg == 3 && !strcmp(a->seg[1], "sims") && !strcmp(a->seg[2], "import")) {
		route_import(a);
		return;
	}
	if (!strcmp(a->seg[1], "allowlist")) {
		route_allowlist(a);
		return;
	}
	if (!strcmp(a->seg[1], "enrolment-passwords")) {
		route_passwords(a);
		return;
	}
	if (!strcmp(a->seg[1], "manufacturer-cas") && a->nseg <= 3) {
		route_mfr_cas(a);
		return;
	}
	if (!strcmp(a->seg[1], "certs")) {
		route_certs(a);
		return;
	}
	if (!strcmp(a->seg[1], "devices")) {
		route_devices(a);
		return;
	}
	if (strcmp(a->seg[1], "sims") != 0) {
		http_reply_error(a->req, 404, "not_found", "no such path");
		return;
	}
	if (a->nseg == 2) {
		route_sims(a);
		return;
	}
	iccid = a->seg[2];
	if (!iccid_valid(iccid, strlen(iccid))) {
		http_reply_error(a->req, 400, "bad_request", "not an ICCID (18 to 20 digits)");
		return;
	}
	if (a->nseg == 3 || (a->nseg == 4 && strcmp(a->seg[3], "config") &&
				strcmp(a->seg[3], "telemetry")))
		route_sim(a, iccid);
	else if (!strcmp(a->seg[3], "config") && a->nseg <= 5)
		route_config(a, iccid);
	else if (!strcmp(a->seg[3], "telemetry") && a->nseg == 4)
		route_telemetry(a, iccid);
	else
		http_reply_error(a->req, 404, "not_found", "no such path");
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
	a->method = evhttp_request_get_command(req);
	if (http_header_bytes(req) > (size_t)w->srv->cfg->max_header_size) {
		events_record(w->store, EV_REQUEST_REFUSED, NULL, a->c ? a->c->peer : NULL,
		    "admin request headers over %d bytes", w->srv->cfg->max_header_size);
		http_reply_error(req, 431, "headers_too_large", "request headers too large");
	} else if (path == NULL || split_path(a, path) != 0) {
		http_reply_error(req, 404, "not_found", "no such path");
	} else if (query != NULL && evhttp_parse_query_str(query, &a->query) != 0) {
		http_reply_error(req, 400, "bad_request", "malformed query");
	} else if ((a->bodylen = http_body_len(req)) > ADMINREQ_IMPORT_MAX ||
	    (a->bodylen > 0 && (a->body = malloc(a->bodylen)) == NULL)) {
		http_reply_error(req, 413, "too_large", "request body too large");
	} else if (a->bodylen > 0 && http_body(req, a->body, a->bodylen) != (long)a->bodylen) {
		http_reply_error(req, 500, "internal", "cannot read the body");
	} else {
		route(a);
	}
	if (a->body != NULL) {
		OPENSSL_cleanse(a->body, a->bodylen);
		free(a->body);
	}
	evhttp_clear_headers(&a->query);
	if (a->c != NULL)
		conn_request_done(a->c, req);
	free(a);
}
