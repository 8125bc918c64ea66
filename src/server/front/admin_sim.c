/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API's SIMs: list, create (with a PSK, or pre-registered in a
 * derived group), import, show, delete, and the actions block, unblock,
 * rebind and rotate. A PSK of a request is wiped once used.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin_int.h"
#include "admin_req.h"
#include "http_util.h"
#include "server.h"
#include "store.h"
#include "ztp/err.h"
#include "ztp/iccid.h"

static json_t *
sim_json(const struct store_sim *s)
{
	return json_pack("{s:s, s:b, s:o, s:I, s:I, s:o, s:o, s:o, s:b, s:b, s:b}", "iccid",
	    s->iccid, "blocked", s->blocked, "device_id",
	    s->device_id[0] ? json_string(s->device_id) : json_null(), "psk_generation",
	    (json_int_t)s->psk_generation, "config_version", (json_int_t)s->config_version,
	    "created_at", admin_time_json(s->created_at), "updated_at",
	    admin_time_json(s->updated_at), "group", s->group[0] ? json_string(s->group) :
	    json_null(), "derived", s->derived, "rotation_pending", s->rotate || s->pending,
	    "pending_key", s->pending);
}

static int
sim_list_cb(const struct store_sim *s, void *arg)
{
	admin_page_add(arg, sim_json(s), s->iccid);
	return 0;
}

/* GET /v1/sims?limit=N&after=ICCID */
void
admin_sim_list(struct areq *a)
{
	struct admin_page p = { 0 };
	const char *after = evhttp_find_header(&a->query, "after");
	uint64_t limit;
	int rc;

	if (after != NULL && !iccid_valid(after, strlen(after))) {
		http_reply_error(a->req, 400, "bad_request", "after must be an ICCID");
		return;
	}
	if (admin_query_limit(a, &limit) != 0)
		return;
	p.arr = json_array();
	rc = store_sim_list(a->w->store, after ? after : "", (int)limit, sim_list_cb, &p);
	admin_reply_page(a, "sims", &p, rc, limit);
}

/* POST /v1/sims: 201 with the SIM; the PSK is not in the answer. */
void
admin_sim_create(struct areq *a)
{
	struct adminreq_sim req;
	struct store_sim sim;
	char why[160], group[STORE_GROUP_SIZE], detail[160];
	int rc;

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
		admin_reply_rc(a, rc, why);
		return;
	}
	if (req.derived) {
		snprintf(detail, sizeof(detail), "%s in derived group %s", req.row.iccid, group);
		admin_changed(a, req.row.iccid, "derived SIM pre-registered:", detail);
	} else {
		admin_changed(a, req.row.iccid, "SIM created:", req.row.iccid);
	}
	http_reply_json(a->req, 201, sim_json(&sim));
}

/* POST /v1/sims/import */
void
admin_sim_import(struct areq *a)
{
	admin_batch_import(a, 1);
}

/* GET /v1/sims/{iccid} */
void
admin_sim_get(struct areq *a)
{
	struct store_sim sim;
	int rc;

	if ((rc = store_sim_get(a->w->store, a->param, &sim)) != 0)
		admin_reply_rc(a, rc, "no such SIM");
	else
		http_reply_json(a->req, 200, sim_json(&sim));
}

/* DELETE /v1/sims/{iccid}: 204; its configurations, telemetry and device record go too. */
void
admin_sim_delete(struct areq *a)
{
	int rc;

	if ((rc = store_sim_delete(a->w->store, a->param)) != 0) {
		admin_reply_rc(a, rc, "no such SIM");
		return;
	}
	admin_changed(a, a->param, "SIM deleted:", a->param);
	evhttp_send_reply(a->req, 204, "No Content", NULL);
}

enum sim_action { SIM_BLOCK, SIM_UNBLOCK, SIM_REBIND, SIM_ROTATE };

/*
 * POST /v1/sims/{iccid}/<action>: the action's store change, then 200 with
 * the SIM as it is now and an admin_change event (also when nothing
 * changed, as blocking a blocked SIM).
 */
static void
sim_action(struct areq *a, enum sim_action act)
{
	static const char *const what[] = {
		[SIM_BLOCK] = "SIM blocked:",
		[SIM_UNBLOCK] = "SIM unblocked:",
		[SIM_REBIND] = "SIM binding reset:",
		[SIM_ROTATE] = "SIM key rotation asked:",
	};
	struct store_sim sim;
	int rc;

	switch (act) {
	case SIM_BLOCK:
	case SIM_UNBLOCK:
		rc = store_sim_set_blocked(a->w->store, a->param, act == SIM_BLOCK);
		break;
	case SIM_REBIND:
		rc = store_sim_rebind(a->w->store, a->param);
		break;
	case SIM_ROTATE:
	default:
		rc = store_sim_set_rotate(a->w->store, a->param, 1);
		break;
	}
	if (rc == 0)
		rc = store_sim_get(a->w->store, a->param, &sim);
	if (rc != 0) {
		admin_reply_rc(a, rc, "no such SIM");
		return;
	}
	admin_changed(a, a->param, what[act], a->param);
	http_reply_json(a->req, 200, sim_json(&sim));
}

void
admin_sim_block(struct areq *a)
{
	sim_action(a, SIM_BLOCK);
}

void
admin_sim_unblock(struct areq *a)
{
	sim_action(a, SIM_UNBLOCK);
}

void
admin_sim_rebind(struct areq *a)
{
	sim_action(a, SIM_REBIND);
}

void
admin_sim_rotate(struct areq *a)
{
	sim_action(a, SIM_ROTATE);
}
