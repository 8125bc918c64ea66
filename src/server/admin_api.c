/*
 * The admin API (docs/admin-api.md): bearer tokens from API keys, SIMs,
 * configurations, telemetry, events. JSON in and out; every error is
 * {"error", "detail"}; a refused request changes nothing; every change is
 * an admin_change event naming the key that made it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <sys/queue.h>

#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>

#include "admin_req.h"
#include "clock.h"
#include "events.h"
#include "hex.h"
#include "http_util.h"
#include "log.h"
#include "num.h"
#include "server.h"
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

static json_t *
group_json(const struct store_group *g)
{
	return json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:o}", "name", g->name, "iccid_prefix",
	    g->iccid_prefix, "derive", g->derive, "allow_psk_ke", g->allow_psk_ke,
	    "rotation_period_s", (json_int_t)g->rotation_period_s, "sims", (json_int_t)g->sims,
	    "created_at", time_json(g->created_at));
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

struct list_ctx {
	json_t *arr;
	char last[ICCID_STR_SIZE];
	int64_t last_id;
	int n;
};

static int
sim_list_cb(const struct store_sim *s, void *arg)
{
	struct list_ctx *l = arg;

	json_array_append_new(l->arr, sim_json(s));
	snprintf(l->last, sizeof(l->last), "%s", s->iccid);
	l->n++;
	return 0;
}

static void
route_sims(struct areq *a)
{
	struct list_ctx l = { 0 };
	struct store_import_row row;
	struct store_sim sim;
	char why[160];
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
		l.arr = json_array();
		rc = store_sim_list(a->w->store, after ? after : "", (int)limit, sim_list_cb, &l);
		if (rc != 0) {
			json_decref(l.arr);
			reply_rc(a, rc, "store failure");
			return;
		}
		http_reply_json(a->req, 200, json_pack("{s:o, s:o}", "sims", l.arr, "next",
		    l.n == (int)limit ? json_string(l.last) : json_null()));
		return;
	}
	if (a->method != EVHTTP_REQ_POST) {
		http_reply_error(a->req, 405, "method_not_allowed", "use GET or POST");
		return;
	}
	rc = adminreq_sim_create(a->body, a->bodylen, &row, why, sizeof(why));
	if (rc == 0) {
		rc = store_sim_create(a->w->store, row.iccid, row.psk, row.psk_len, row.group);
		if (rc == ZTP_ENOENT)
			snprintf(why, sizeof(why), "no group %s", row.group);
		else
			snprintf(why, sizeof(why), "SIM %s exists", row.iccid);
	}
	OPENSSL_cleanse(row.psk, sizeof(row.psk));
	if (rc == 0)
		rc = store_sim_get(a->w->store, row.iccid, &sim);
	if (rc != 0) {
		reply_rc(a, rc, why);
		return;
	}
	changed(a, row.iccid, "SIM created:", row.iccid);
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

/* POST /v1/sims/import: one batch, one transaction */
static void
route_import(struct areq *a)
{
	struct store_import_row *rows = NULL;
	struct store_import_result *res = NULL;
	char why[160], detail[96];
	json_t *refused;
	size_t n = 0, i;
	int rc;

	if (a->method != EVHTTP_REQ_POST) {
		http_reply_error(a->req, 405, "method_not_allowed", "use POST");
		return;
	}
	rows = calloc(STORE_IMPORT_BATCH_MAX, sizeof(*rows));
	res = calloc(1, sizeof(*res));
	if (rows == NULL || res == NULL) {
		http_reply_error(a->req, 503, "unavailable", "out of memory");
		goto out;
	}
	if ((rc = adminreq_import(a->body, a->bodylen, rows, &n, why, sizeof(why))) != 0) {
		reply_rc(a, rc, why);
		goto out;
	}
	if ((rc = store_sim_import(a->w->store, rows, n, res)) != 0) {
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
		changed(a, NULL, "SIM import:", detail);
	}
	http_reply_json(a->req, 200, json_pack("{s:I, s:I, s:o}", "added", (json_int_t)res->added,
	    "unchanged", (json_int_t)res->unchanged, "refused", refused));
out:
	if (rows != NULL)
		OPENSSL_cleanse(rows, STORE_IMPORT_BATCH_MAX * sizeof(*rows));
	free(rows);
	free(res);
}

/* ---- groups ---- */

static int
group_list_cb(const struct store_group *g, void *arg)
{
	json_array_append_new(arg, group_json(g));
	return 0;
}

static void
route_groups(struct areq *a)
{
	uint8_t master[STORE_MASTER_LEN];
	char why[160], hex[2 * STORE_MASTER_LEN + 1];
	struct store_group g;
	json_t *arr, *obj;
	int have_master, rc;

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
	if (!strcmp(a->seg[1], "groups") && a->nseg <= 3) {
		route_groups(a);
		return;
	}
	if (a->nseg == 3 && !strcmp(a->seg[1], "sims") && !strcmp(a->seg[2], "import")) {
		route_import(a);
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
