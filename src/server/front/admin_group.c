/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API's groups: list, create (a derived group's master key made
 * here is shown in that answer only), show, and the upstream of a group's
 * device requests (docs/proxy.md). The name of a path is checked after the
 * method, as the API has always done (a PUT on /v1/groups/<bad> is 405).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin_int.h"
#include "admin_req.h"
#include "crypto.h"
#include "hex.h"
#include "http_util.h"
#include "proxy.h"
#include "server.h"
#include "store.h"
#include "ztp/err.h"

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
group_json(const struct store_group *g)
{
	json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:o, s:o, s:i, s:I}", "name", g->name,
	    "iccid_prefix", g->iccid_prefix, "derive", g->derive, "allow_psk_ke", g->allow_psk_ke,
	    "rotation_period_s", (json_int_t)g->rotation_period_s, "sims", (json_int_t)g->sims,
	    "created_at", admin_time_json(g->created_at), "est_auth", est_auth_json(g->est_auth),
	    "cert_days", g->cert_days, "reenroll_grace_s", (json_int_t)g->reenroll_grace_s);

	json_object_set_new(o, "upstream", admin_opt_string(g->upstream.url));
	json_object_set_new(o, "upstream_ca", admin_opt_string(g->upstream.ca));
	json_object_set_new(o, "upstream_cert", admin_opt_string(g->upstream.cert));
	json_object_set_new(o, "upstream_key", admin_opt_string(g->upstream.key));
	return o;
}

/* The group name of the path; else a 400 is sent and -1 returned. */
static int
group_name(struct areq *a)
{
	if (!store_group_name_valid(a->param)) {
		http_reply_error(a->req, 400, "bad_request", "not a group name");
		return -1;
	}
	return 0;
}

static int
group_list_cb(const struct store_group *g, void *arg)
{
	json_array_append_new(arg, group_json(g));
	return 0;
}

/* GET /v1/groups: all of them, not paged. */
void
admin_group_list(struct areq *a)
{
	json_t *arr = json_array();
	int rc;

	if ((rc = store_group_list(a->w->store, group_list_cb, arr)) != 0) {
		json_decref(arr);
		admin_reply_rc(a, rc, "store failure");
		return;
	}
	http_reply_json(a->req, 200, json_pack("{s:o}", "groups", arr));
}

/* POST /v1/groups: 201 with the group; the master key is wiped here. */
void
admin_group_create(struct areq *a)
{
	uint8_t master[STORE_MASTER_LEN];
	char why[160], hex[2 * STORE_MASTER_LEN + 1];
	struct store_group g;
	json_t *obj;
	int have_master, rc;

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
		admin_reply_rc(a, rc, why);
		return;
	}
	admin_changed(a, NULL, "group created:", g.name);
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

/* GET /v1/groups/{name} */
void
admin_group_get(struct areq *a)
{
	struct store_group g;
	int rc;

	if (group_name(a) != 0)
		return;
	if ((rc = store_group_get(a->w->store, a->param, &g)) != 0)
		admin_reply_rc(a, rc, "no such group");
	else
		http_reply_json(a->req, 200, group_json(&g));
}

/* PUT /v1/groups/{name}/upstream: where the group's device requests go (docs/proxy.md). */
void
admin_group_upstream(struct areq *a)
{
	struct store_upstream u;
	struct store_group g;
	char why[256];
	int rc;

	if (group_name(a) != 0)
		return;
	if ((rc = adminreq_group_upstream(a->body, a->bodylen, &u, why, sizeof(why))) != 0 ||
	    (rc = proxy_upstream_try(&u, why, sizeof(why))) != 0) {
		http_reply_error(a->req, 400, "bad_request", why);
		return;
	}
	if ((rc = store_group_set_upstream(a->w->store, a->param, &u)) != 0 ||
	    (rc = store_group_get(a->w->store, a->param, &g)) != 0) {
		admin_reply_rc(a, rc, rc == ZTP_ENOENT ? "no such group" : "store failure");
		return;
	}
	admin_changed(a, NULL, "group upstream set:", g.name);
	http_reply_json(a->req, 200, group_json(&g));
}
