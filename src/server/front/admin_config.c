/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API's configurations of a SIM: the current version, a new
 * version, the history and a rollback (a new version with an old body).
 */
#include <stdio.h>

#include "admin_int.h"
#include "admin_req.h"
#include "http_util.h"
#include "server.h"
#include "store.h"
#include "ztp/err.h"

static json_t *
config_json(const struct store_config *c)
{
	json_t *body = json_stringn((const char *)c->body, c->len);

	return json_pack("{s:s, s:I, s:s, s:I, s:o, s:s, s:o}", "iccid", c->iccid, "version",
	    (json_int_t)c->version, "etag", c->etag, "size", (json_int_t)c->len, "body",
	    body ? body : json_null(), "source", c->source, "created_at",
	    admin_time_json(c->created_at));
}

static int
history_cb(const struct store_config *c, void *arg)
{
	json_array_append_new(arg, config_json(c));
	return 0;
}

/* GET /v1/sims/{iccid}/config: 404 says whether the SIM or its configuration is missing. */
void
admin_config_get(struct areq *a)
{
	struct store_config cfg;
	struct store_sim sim;
	int rc;

	if ((rc = store_config_get(a->w->store, a->param, 0, &cfg)) != 0)
		admin_reply_rc(a, rc, store_sim_get(a->w->store, a->param, &sim) == 0 ?
		    "no configuration set" : "no such SIM");
	else
		http_reply_json(a->req, 200, config_json(&cfg));
}

/* PUT /v1/sims/{iccid}/config: 201 with the new version. */
void
admin_config_set(struct areq *a)
{
	uint8_t body[STORE_CONFIG_MAX];
	struct store_config cfg;
	char why[160], vstr[16];
	size_t len;
	int rc;

	rc = adminreq_config_set(a->body, a->bodylen, body, &len, why, sizeof(why));
	if (rc == 0) {
		rc = store_config_set(a->w->store, a->param, body, len, &cfg);
		snprintf(why, sizeof(why), "no such SIM");
	}
	if (rc != 0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	snprintf(vstr, sizeof(vstr), "%u", cfg.version);
	admin_changed(a, a->param, "configuration set, version", vstr);
	http_reply_json(a->req, 201, config_json(&cfg));
}

/* GET /v1/sims/{iccid}/config/history: newest first, not paged. */
void
admin_config_history(struct areq *a)
{
	struct store_sim sim;
	json_t *arr;
	int rc;

	if ((rc = store_sim_get(a->w->store, a->param, &sim)) != 0) {
		admin_reply_rc(a, rc, "no such SIM");
		return;
	}
	arr = json_array();
	if ((rc = store_config_history(a->w->store, a->param, history_cb, arr)) != 0) {
		json_decref(arr);
		admin_reply_rc(a, rc, "store failure");
		return;
	}
	http_reply_json(a->req, 200, json_pack("{s:o}", "versions", arr));
}

/* POST /v1/sims/{iccid}/config/rollback: 201 with the new version. */
void
admin_config_rollback(struct areq *a)
{
	struct store_config cfg;
	char why[160], vstr[16];
	uint32_t version;
	int rc;

	if ((rc = adminreq_rollback(a->body, a->bodylen, &version, why, sizeof(why))) != 0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	if ((rc = store_config_rollback(a->w->store, a->param, version, &cfg)) != 0) {
		snprintf(why, sizeof(why), "no configuration version %u of SIM %s", version,
		    a->param);
		admin_reply_rc(a, rc, why);
		return;
	}
	snprintf(vstr, sizeof(vstr), "%u", version);
	admin_changed(a, a->param, "configuration rolled back to version", vstr);
	http_reply_json(a->req, 201, config_json(&cfg));
}
