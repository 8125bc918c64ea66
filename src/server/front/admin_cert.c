/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API's issued certificates: list, show, revoke; a revocation
 * re-signs the CRL at once. Serial numbers come normalised from the route
 * ({serial}).
 */
#include <stdio.h>

#include "admin_int.h"
#include "gwmqtt.h"
#include "admin_req.h"
#include "ca.h"
#include "events.h"
#include "http_util.h"
#include "log.h"
#include "server.h"
#include "signer_msg.h"
#include "store.h"
#include "ztp/err.h"

static json_t *
reason_json(int reason)
{
	const char *name = adminreq_reason_name(reason);

	return name != NULL ? json_string(name) : json_integer(reason);
}

json_t *
admin_cert_json(const struct store_cert *c)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:b, s:o, s:o}", "serial",
	    c->serial, "udid", c->udid, "subject", c->subject, "key_sha256",
	    admin_sha256_json(c->key_sha256), "not_before", admin_secs_json(c->not_before),
	    "not_after", admin_secs_json(c->not_after), "issued_at",
	    admin_time_json(c->issued_at), "method", c->method, "revoked", c->revoked_at != 0,
	    "revoked_at", admin_secs_json(c->revoked_at), "reason",
	    c->revoked_at != 0 ? reason_json(c->reason) : json_null());
}

void
admin_cert_crl_update(struct areq *a)
{
	int rc = ca_crl_update(a->w->srv, a->w->store, 1);

	if (rc != 0)
		log_warnx("the CRL was not re-signed after a revocation (%s); it is retried "
			  "every minute",
		    ztp_strerror(rc));
}

static int
cert_list_cb(const struct store_cert *c, void *arg)
{
	admin_page_add(arg, admin_cert_json(c), c->serial);
	return 0;
}

/* GET /v1/certs?udid=UDID&limit=N&after=SERIAL: by serial, all devices' without udid. */
void
admin_cert_list(struct areq *a)
{
	char after[STORE_SERIAL_HEX] = "";
	struct admin_page p = { 0 };
	const char *udid, *q;
	uint64_t limit;
	int rc;

	udid = evhttp_find_header(&a->query, "udid");
	if (udid != NULL && !store_udid_valid(udid)) {
		http_reply_error(a->req, 400, "bad_request", "udid must be a UDID");
		return;
	}
	if ((q = evhttp_find_header(&a->query, "after")) != NULL &&
	    adminroute_serial_norm(q, after) != 0) {
		http_reply_error(a->req, 400, "bad_request", "after must be a serial number");
		return;
	}
	if (admin_query_limit(a, &limit) != 0)
		return;
	p.arr = json_array();
	rc = store_cert_list(a->w->store, udid, after, (int)limit, cert_list_cb, &p);
	admin_reply_page(a, "certs", &p, rc, limit);
}

/* GET /v1/certs/{serial} */
void
admin_cert_get(struct areq *a)
{
	struct store_cert c;
	int rc;

	if ((rc = store_cert_get(a->w->store, a->param, &c)) != 0)
		admin_reply_rc(a, rc, "no such certificate");
	else
		http_reply_json(a->req, 200, admin_cert_json(&c));
}

/*
 * POST /v1/certs/{serial}/revoke {"reason"?}: stored first, then the
 * cert_revoked event, then the CRL; 409 if it was revoked already.
 */
void
admin_cert_revoke(struct areq *a)
{
	struct store_cert c;
	char why[160];
	int rc, reason;

	rc = adminreq_reason(a->body, a->bodylen, SIGNER_REASON_UNSPECIFIED, &reason, why,
	    sizeof(why));
	if (rc == 0) {
		rc = store_cert_revoke(a->w->store, a->param, reason);
		if (rc == 0)
			gwmqtt_kick(); /* a gateway with this certificate leaves the broker now */
		snprintf(why, sizeof(why), rc == ZTP_EEXIST ? "certificate %s is revoked already" :
		    "no certificate %s", a->param);
	}
	if (rc == 0)
		rc = store_cert_get(a->w->store, a->param, &c);
	if (rc != 0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	events_record(a->w->store, EV_CERT_REVOKED, NULL, a->c ? a->c->peer : NULL,
	    "certificate %s of %s revoked (%s) by %s", c.serial, c.udid,
	    adminreq_reason_name(reason), a->key_id);
	admin_changed(a, NULL, "certificate revoked:", a->param);
	admin_cert_crl_update(a);
	http_reply_json(a->req, 200, admin_cert_json(&c));
}
