/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API's devices (the EST side's record of a UDID): list, show
 * with its certificates, block (revoking its certificates and blocking its
 * SIMs) and unblock. UDIDs come decoded from the route ({udid}).
 */
#include <stdio.h>
#include <string.h>

#include "admin_int.h"
#include "gwmqtt.h"
#include "admin_req.h"
#include "events.h"
#include "http_util.h"
#include "server.h"
#include "signer_msg.h"
#include "store.h"

static json_t *
thing_json(const struct store_thing *t)
{
	return json_pack("{s:s, s:o, s:o, s:b, s:I, s:o, s:o, s:o}", "udid", t->udid, "group",
	    admin_opt_string(t->group), "iccid", admin_opt_string(t->iccid), "blocked",
	    t->blocked, "certs", (json_int_t)t->certs, "newest_serial",
	    admin_opt_string(t->serial), "created_at", admin_time_json(t->created_at),
	    "updated_at", admin_time_json(t->updated_at));
}

static int
thing_list_cb(const struct store_thing *t, void *arg)
{
	admin_page_add(arg, thing_json(t), t->udid);
	return 0;
}

static int
thing_cert_cb(const struct store_cert *c, void *arg)
{
	json_array_append_new(arg, admin_cert_json(c));
	return 0;
}

/* GET /v1/devices?limit=N&after=UDID */
void
admin_device_list(struct areq *a)
{
	struct admin_page p = { 0 };
	const char *after;
	uint64_t limit;
	int rc;

	if (admin_query_after_udid(a, &after) != 0 || admin_query_limit(a, &limit) != 0)
		return;
	p.arr = json_array();
	rc = store_thing_list(a->w->store, after, (int)limit, thing_list_cb, &p);
	admin_reply_page(a, "devices", &p, rc, limit);
}

/* GET /v1/devices/{udid}: with its certificates, up to a page (GET /v1/certs?udid= has all). */
void
admin_device_get(struct areq *a)
{
	struct store_thing t;
	json_t *obj, *certs;
	int rc;

	if ((rc = store_thing_get(a->w->store, a->param, &t)) != 0) {
		admin_reply_rc(a, rc, "no such device");
		return;
	}
	certs = json_array();
	if ((rc = store_cert_list(a->w->store, a->param, "", ADMIN_PAGE_MAX, thing_cert_cb,
		 certs)) != 0) {
		json_decref(certs);
		admin_reply_rc(a, rc, "store failure");
		return;
	}
	obj = thing_json(&t);
	json_object_set_new(obj, "certificates", certs);
	http_reply_json(a->req, 200, obj);
}

/*
 * POST /v1/devices/{udid}/block {"reason"?}: 200 with the device and how
 * many certificates were revoked; the CRL is re-signed if any were.
 */
void
admin_device_block(struct areq *a)
{
	const char *udid = a->param;
	char why[160], detail[128];
	struct store_thing t;
	int rc, reason, revoked = 0;
	json_t *obj;

	rc = adminreq_reason(a->body, a->bodylen, SIGNER_REASON_PRIVILEGE_WITHDRAWN, &reason, why,
	    sizeof(why));
	if (rc == 0) {
		rc = store_thing_block(a->w->store, udid, reason, &revoked);
		if (rc == 0)
			gwmqtt_kick(); /* a blocked gateway leaves the broker now */
		snprintf(why, sizeof(why), "no device or allowlist entry %s", udid);
	}
	if (rc == 0)
		rc = store_thing_get(a->w->store, udid, &t);
	if (rc != 0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	snprintf(detail, sizeof(detail), "%s (%d certificates revoked)", udid, revoked);
	admin_changed(a, t.iccid[0] ? t.iccid : NULL, "device blocked:", detail);
	if (revoked > 0) {
		events_record(a->w->store, EV_CERT_REVOKED, t.iccid[0] ? t.iccid : NULL,
		    a->c ? a->c->peer : NULL, "%d certificates of %s revoked (%s) by %s: device "
		    "blocked", revoked, udid, adminreq_reason_name(reason), a->key_id);
		/* a block that revoked nothing leaves the CRL as it is */
		admin_cert_crl_update(a);
	}
	obj = thing_json(&t);
	json_object_set_new(obj, "revoked", json_integer(revoked));
	http_reply_json(a->req, 200, obj);
}

/* POST /v1/devices/{udid}/unblock: revoked certificates stay revoked. */
void
admin_device_unblock(struct areq *a)
{
	struct store_thing t;
	int rc;

	if ((rc = store_thing_unblock(a->w->store, a->param)) == 0)
		rc = store_thing_get(a->w->store, a->param, &t);
	if (rc != 0) {
		admin_reply_rc(a, rc, "no such device");
		return;
	}
	admin_changed(a, t.iccid[0] ? t.iccid : NULL, "device unblocked:", a->param);
	http_reply_json(a->req, 200, thing_json(&t));
}
