/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API of gateways onboarding over MQTT (docs/admin-api.md
 * "Gateways", docs/gateways.md): batches (the factory's credentials),
 * expected UDIDs, gateway groups (configuration, automatic re-onboarding),
 * the requests and the operator's decisions, and signed commands. These
 * are the operator's routes (all-owners keys). The handlers write the
 * store and wake the MQTT client (gwmqtt_kick): it publishes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin_int.h"
#include "clock.h"
#include "crypto.h"
#include "gwmqtt.h"
#include "gwmsg.h"
#include "http_util.h"
#include "server.h"
#include "store.h"
#include "ztp/err.h"


static int
parse(struct areq *a, enum gwmsg_admin_kind kind, struct gwmsg_admin *out)
{
	char why[200];
	int rc;

	if ((rc = gwmsg_admin_parse(kind, a->body, a->bodylen, out, why, sizeof(why))) != 0) {
		admin_reply_rc(a, rc, why);
		return -1;
	}
	return 0;
}

static json_t *
gw_json(const struct store_gateway *g)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:s, s:o,"
			 " s:I, s:o}",
	    "udid", g->udid, "state", store_gw_state_name(g->state), "batch", g->batch, "owner",
	    g->owner, "group", g->group, "firmware", g->firmware, "requests",
	    (json_int_t)g->requests, "requested_at", admin_time_json(g->requested_at),
	    "decided_at", g->decided_at ? admin_time_json(g->decided_at) : json_null(),
	    "reason", admin_opt_string(g->reason), "bundle_sent_at",
	    g->bundle_sent_at ? admin_time_json(g->bundle_sent_at) : json_null(),
	    "certificate_serial", admin_opt_string(g->serial), "broker_account",
	    g->mqtt_state == STORE_GW_MQTT_ACTIVE ? "active" :
	    g->mqtt_state == STORE_GW_MQTT_CUT ? "disabled" : "none",
	    "updated_at", admin_time_json(g->updated_at), "commands", (json_int_t)g->cmd_counter,
	    "bundle_id", admin_opt_string(g->bundle_id));
}

/* ---- batches ---- */

static int
batch_item(const struct store_gw_batch *b, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:o, s:o, s:I}", "name", b->name, "owner",
	    admin_opt_string(b->owner), "created_at", admin_time_json(b->created_at), "gateways",
	    (json_int_t)b->gateways));
	return 0;
}

void
admin_gw_batch_list(struct areq *a)
{
	json_t *arr = json_array();
	int rc = store_gw_batch_list(a->w->store, batch_item, arr);

	admin_reply_list(a, "batches", arr, rc, json_null());
}

void
admin_gw_batch_create(struct areq *a)
{
	struct gwmsg_admin b;
	char pw[CRYPTO_PASSWORD_LEN + 1], why[160];
	int rc;

	if (parse(a, GWMSG_A_BATCH, &b) != 0)
		return;
	if (crypto_random_password(pw) != 0) {
		admin_reply_rc(a, ZTP_ECRYPTO, "no randomness");
		return;
	}
	rc = store_gw_batch_create(a->w->store, b.name, b.owner, pw, clock_now_ms());
	if (rc != 0) {
		snprintf(why, sizeof(why), rc == ZTP_EEXIST ? "batch %s exists" :
		    rc == ZTP_EINVAL ? "bad batch %s (owner unknown?)" : "batch %s not created",
		    b.name);
		admin_reply_rc(a, rc, why);
		OPENSSL_cleanse(pw, sizeof(pw));
		return;
	}
	admin_changed(a, NULL, "gateway batch created:", b.name);
	/* the password is shown once, here; the store keeps its salted HMAC */
	http_reply_json(a->req, 201, json_pack("{s:s, s:o, s:s, s:s, s:o}", "name", b.name,
	    "owner", admin_opt_string(b.owner), "username", b.name, "password", pw,
	    "provisioning_url", admin_opt_string(a->w->srv->cfg->gw_prov_url)));
	OPENSSL_cleanse(pw, sizeof(pw));
}

/* ---- expectations, groups ---- */

void
admin_gw_expect(struct areq *a)
{
	struct gwmsg_admin e;
	int rc;

	if (parse(a, GWMSG_A_EXPECT, &e) != 0)
		return;
	if ((rc = store_gw_expect(a->w->store, e.udid, e.group, clock_now_ms())) != 0) {
		admin_reply_rc(a, rc, "the expectation cannot be recorded");
		return;
	}
	admin_changed(a, NULL, "gateway expected:", e.udid);
	http_reply_json(a->req, 201, json_pack("{s:s, s:s}", "udid", e.udid, "group", e.group));
}

static json_t *
group_json(const struct store_gw_group *g)
{
	json_t *cfg = json_loads(g->config, 0, NULL);

	return json_pack("{s:s, s:o, s:b, s:o}", "name", g->name, "config",
	    cfg != NULL ? cfg : json_object(), "auto_reonboard", g->auto_reonboard, "updated_at",
	    g->updated_at ? admin_time_json(g->updated_at) : json_null());
}

void
admin_gw_group_get(struct areq *a)
{
	struct store_gw_group *g = malloc(sizeof(*g));
	int rc;

	if (g == NULL) {
		admin_reply_rc(a, ZTP_ENOMEM, "out of memory");
		return;
	}
	rc = store_gw_group_get(a->w->store, a->param, g);
	if (rc == 0 || rc == ZTP_ENOENT)
		http_reply_json(a->req, 200, group_json(g));
	else
		admin_reply_rc(a, rc, "the store cannot be read");
	free(g);
}

void
admin_gw_group_set(struct areq *a)
{
	struct store_gw_group *g;
	struct gwmsg_admin b;
	int rc;

	if (strlen(a->param) >= STORE_GROUP_SIZE) {
		http_reply_error(a->req, 400, "bad_request", "group names are up to 63 characters");
		return;
	}
	if (parse(a, GWMSG_A_GROUP, &b) != 0)
		return;
	rc = store_gw_group_set(a->w->store, a->param, b.json, b.auto_reonboard, clock_now_ms());
	gwmsg_admin_free(&b);
	if (rc != 0 || (g = malloc(sizeof(*g))) == NULL) {
		admin_reply_rc(a, rc != 0 ? rc : ZTP_ENOMEM, "the group cannot be set");
		return;
	}
	admin_changed(a, NULL, "gateway group set:", a->param);
	if (store_gw_group_get(a->w->store, a->param, g) == 0)
		http_reply_json(a->req, 200, group_json(g));
	else
		admin_reply_rc(a, ZTP_ESTORE, "the store cannot be read");
	free(g);
}

/* ---- gateways ---- */

struct gw_page {
	struct admin_page page;
};

static int
gw_item(const struct store_gateway *g, void *arg)
{
	admin_page_add(arg, gw_json(g), g->udid);
	return 0;
}

void
admin_gw_list(struct areq *a)
{
	struct admin_page p = { json_array(), "", 0 };
	const char *after, *state = evhttp_find_header(&a->query, "state");
	uint64_t limit;
	int s = -1, i, rc;

	if (admin_query_limit(a, &limit) != 0 || admin_query_after_udid(a, &after) != 0) {
		json_decref(p.arr);
		return;
	}
	if (state != NULL) {
		for (i = 0; i <= STORE_GW_REFUSED; i++)
			if (strcmp(state, store_gw_state_name(i)) == 0)
				s = i;
		if (s < 0) {
			json_decref(p.arr);
			http_reply_error(a->req, 400, "bad_request", "state is one of pending,"
			    " approved, bundled, online, rejected, refused");
			return;
		}
	}
	rc = store_gw_list(a->w->store, s, after, (int)limit, gw_item, &p);
	admin_reply_page(a, "gateways", &p, rc, limit);
}

void
admin_gw_get(struct areq *a)
{
	struct store_gateway g;
	int rc = store_gw_get(a->w->store, a->param, &g);

	if (rc != 0) {
		admin_reply_rc(a, rc, rc == ZTP_ENOENT ? "no such gateway" : "the store cannot be read");
		return;
	}
	http_reply_json(a->req, 200, gw_json(&g));
}

void
admin_gw_approve(struct areq *a)
{
	struct store_gateway g;
	struct gwmsg_admin b;
	int rc;

	if (parse(a, GWMSG_A_APPROVE, &b) != 0)
		return;
	rc = store_gw_approve(a->w->store, a->param, b.has_group ? b.group : NULL, clock_now_ms());
	if (rc == 0)
		rc = store_gw_get(a->w->store, a->param, &g);
	if (rc != 0) {
		admin_reply_rc(a, rc, rc == ZTP_ENOENT ? "no such gateway" :
		    rc == ZTP_ECONFLICT ? "the gateway is not waiting for a decision" :
					  "the decision cannot be recorded");
		return;
	}
	admin_changed(a, NULL, "gateway approved:", a->param);
	gwmqtt_kick();
	http_reply_json(a->req, 200, gw_json(&g));
}

void
admin_gw_reject(struct areq *a)
{
	struct store_gateway g;
	struct gwmsg_admin b;
	int rc;

	if (parse(a, GWMSG_A_REJECT, &b) != 0)
		return;
	rc = store_gw_reject(a->w->store, a->param, b.reason[0] ? b.reason : "rejected by the operator",
	    clock_now_ms());
	if (rc == 0)
		rc = store_gw_get(a->w->store, a->param, &g);
	if (rc != 0) {
		admin_reply_rc(a, rc, rc == ZTP_ENOENT ? "no such gateway" :
		    rc == ZTP_ECONFLICT ? "the gateway is neither pending nor approved" :
					  "the decision cannot be recorded");
		return;
	}
	admin_changed(a, NULL, "gateway rejected:", a->param);
	gwmqtt_kick();
	http_reply_json(a->req, 200, gw_json(&g));
}

/* ---- commands ---- */

static json_t *
cmd_json(const struct store_gw_cmd *c)
{
	static const char *const states[] = { "queued", "sent", "done", "failed" };
	json_t *args = json_loads(c->args, 0, NULL), *result = NULL;

	if (c->state == STORE_GW_CMD_DONE)
		result = json_loads(c->result, 0, NULL);
	return json_pack("{s:s, s:I, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o}", "udid", c->udid,
	    "id", (json_int_t)c->id, "name", c->name, "args", args != NULL ? args : json_object(),
	    "state", c->state >= 0 && c->state <= 3 ? states[c->state] : "unknown", "result",
	    result != NULL ? result : json_null(), "error",
	    c->state == STORE_GW_CMD_FAILED ? json_string(c->result) : json_null(), "created_at",
	    admin_time_json(c->created_at), "sent_at",
	    c->sent_at ? admin_time_json(c->sent_at) : json_null(), "done_at",
	    c->done_at ? admin_time_json(c->done_at) : json_null());
}

void
admin_gw_command(struct areq *a)
{
	struct store_gw_cmd *c;
	struct store_gateway g;
	struct gwmsg_admin b;
	int64_t id = 0;
	char what[80];
	int rc;

	if (parse(a, GWMSG_A_COMMAND, &b) != 0)
		return;
	if ((rc = store_gw_get(a->w->store, a->param, &g)) == 0 &&
	    g.mqtt_state != STORE_GW_MQTT_ACTIVE)
		rc = ZTP_ECONFLICT;
	if (rc == 0)
		rc = store_gw_cmd_add(a->w->store, a->param, b.name, b.json != NULL ? b.json : "{}",
		    clock_now_ms(), &id);
	gwmsg_admin_free(&b);
	if (rc != 0) {
		admin_reply_rc(a, rc, rc == ZTP_ENOENT ? "no such gateway" :
		    rc == ZTP_ECONFLICT ? "the gateway has no active broker account" :
					  "the command cannot be queued");
		return;
	}
	snprintf(what, sizeof(what), "%s %" PRId64 ":", b.name, id);
	admin_changed(a, NULL, "gateway command queued", what);
	gwmqtt_kick();
	if ((c = malloc(sizeof(*c))) == NULL || store_gw_cmd_get(a->w->store, a->param, id, c) != 0)
		admin_reply_rc(a, c == NULL ? ZTP_ENOMEM : ZTP_ESTORE, "the store cannot be read");
	else
		http_reply_json(a->req, 202, cmd_json(c));
	free(c);
}

void
admin_gw_command_get(struct areq *a)
{
	const char *udid = a->param, *seg = a->path.nseg > 4 ? a->path.seg[4] : "";
	struct store_gw_cmd *c;
	char *end;
	long long id;
	int rc;

	id = strtoll(seg, &end, 10);
	if (seg[0] < '1' || seg[0] > '9' || *end != '\0' || id < 1) {
		http_reply_error(a->req, 400, "bad_request", "a command is a number from 1");
		return;
	}
	if ((c = malloc(sizeof(*c))) == NULL) {
		admin_reply_rc(a, ZTP_ENOMEM, "out of memory");
		return;
	}
	rc = store_gw_cmd_get(a->w->store, udid, id, c);
	if (rc == 0)
		http_reply_json(a->req, 200, cmd_json(c));
	else
		admin_reply_rc(a, rc, rc == ZTP_ENOENT ? "no such command" : "the store cannot be read");
	free(c);
}
