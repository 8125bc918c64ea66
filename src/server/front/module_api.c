/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module security service on the device listener
 * (docs/protocol/security-service.md): a connection whose PSK identity
 * named a RoT's key. At the end of its handshake a pending key is
 * committed (its first use) and a retired key is a clone. Its requests:
 *   POST /m/b  bootstrap, on the factory secret: the next key is pending
 *   POST /m/h  heartbeat, on the current key: the next key is pending
 *   POST /m/c  confirmation: the pending key this connection announced
 *              is committed
 *   GET  /m/z  the ZTP certificate bundle, POST /m/z its confirmation
 *              (module_ztpcert.c)
 * Bodies are items (src/common/modmsg.c). The next key is the TLS
 * exporter of this connection: it never travels.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "events.h"
#include "fault.h"
#include "hex.h"
#include "http_util.h"
#include "log.h"
#include "modmsg.h"
#include "module_ztpcert.h"
#include "server.h"
#include "store.h"
#include "ztp/err.h"
#include "ztp/ztpcert.h"

/* Send status with the items of m (NULL: none) as the body. */
static void
reply_items(struct evhttp_request *req, int status, const struct modmsg *m)
{
	uint8_t body[MODMSG_BODY_MAX];
	struct evbuffer *buf = NULL;
	size_t len = 0;

	if (m != NULL && (modmsg_encode(m, body, sizeof(body), &len) != 0 ||
			     (buf = evbuffer_new()) == NULL)) {
		http_reply_error(req, 500, "internal", "cannot encode the answer");
		return;
	}
	/* no Content-Type: the answers of these routes are items, always (bytes count) */
	if (buf != NULL)
		evbuffer_add(buf, body, len);
	evhttp_send_reply(req, status, http_reason(status), buf);
	if (buf != NULL)
		evbuffer_free(buf);
}

/* A refusal with its reason item (and retry-after, if not 0). */
static void
refuse(struct evhttp_request *req, int status, enum modmsg_reason reason, uint32_t retry_after)
{
	struct modmsg m;

	memset(&m, 0, sizeof(m));
	m.reason = (uint8_t)reason;
	MODMSG_SET(&m, MODMSG_REASON);
	if (retry_after > 0) {
		char v[16];
		m.retry_after = retry_after;
		MODMSG_SET(&m, MODMSG_RETRY_AFTER);
		snprintf(v, sizeof(v), "%u", retry_after);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", v);
	}
	reply_items(req, status, &m);
}

void
module_api_handshake_done(struct conn *c)
{
	struct store_module_commit_out out;
	int64_t now = clock_now_ms();
	struct store_mod m;
	char why[128];
	int rc;

	if (c->mod_kind == STORE_MODKEY_RETIRED) {
		/* the handshake proved the peer holds a key this RoT no longer uses */
		if (c->mod_epoch == 0)
			snprintf(why, sizeof(why), "clone: the factory secret was used after the "
						   "bootstrap");
		else
			snprintf(why, sizeof(why),
			    "clone: the key of epoch %u was used after it was retired", c->mod_epoch);
		rc = store_module_quarantine(c->w->store, c->mod_uid, 1, why, now);
		/* the owner sees it: the handshake proved this is about its device */
		if (store_module_get(c->w->store, c->mod_uid, &m) != 0)
			m.owner[0] = '\0';
		events_note_dev(c->w, EV_MODULE_CLONE, m.owner, c->mod_uid, c->peer,
		    "%s; the RoT is in quarantine%s", why, rc != 0 ? " (store failure)" : "");
		return;
	}
	if (c->mod_kind != STORE_MODKEY_PENDING)
		return;
	/* first use of a pending key: the module stored it, it becomes current */
	fault_point("module_before_commit");
	/* a heartbeat's key (epoch 2 on) whose confirmation was lost: that heartbeat counts */
	rc = store_module_commit(c->w->store, c->mod_uid, c->mod_epoch, c->psk, c->mod_epoch >= 2,
	    now, &out);
	fault_point("module_after_commit");
	if (rc == 0) {
		c->mod_kind = STORE_MODKEY_CURRENT;
		if (out.bootstrapped)
			events_note_dev(c->w, EV_MODULE_BOOTSTRAPPED, out.owner, c->mod_uid, c->peer,
			    "bootstrapped (key of epoch %u committed at its first use)",
			    c->mod_epoch);
		if (out.claimed)
			events_note_dev(c->w, EV_MODULE_CLAIMED, out.owner, c->mod_uid, c->peer,
			    "assigned to owner %s", out.owner);
	} else if (rc != ZTP_ECONFLICT) {
		log_warnx("module %s: cannot commit its pending key: %s", c->mod_uid,
		    ztp_strerror(rc));
	}
}

/* The policy that applies to m: its profile's, else the defaults. */
static void
policy_of(struct store *st, const struct store_mod *m, uint32_t *features, uint32_t *hb,
    uint32_t *hbmin, int *known)
{
	char owner[STORE_OWNER_MAX + 1];

	*features = 0;
	*hb = MODMSG_HB_INTERVAL_DEFAULT;
	*hbmin = MODMSG_HB_MIN_DEFAULT;
	*known = store_module_profile(st, m->profile_uid, owner, features, hb, hbmin) == 0;
}

/*
 * /m/b and /m/h: record the report, derive the next key, keep it pending,
 * answer with it and the policy.
 */
static void
serve_exchange(struct evhttp_request *req, struct worker *w, struct conn *c,
    const struct modmsg *in, int bootstrap)
{
	struct store_module_commit_out rep;
	struct store_mod m;
	struct modmsg out;
	uint32_t features, hb, hbmin, next;
	char ident[MODMSG_IDENTITY_MAX + 1];
	uint8_t uid[MODMSG_UID_LEN];
	int64_t now = clock_now_ms();
	size_t idlen;
	int rc, known;

	if ((rc = store_module_get(w->store, c->mod_uid, &m)) != 0) {
		http_reply_error(req, 500, "internal", "store failure");
		return;
	}
	if (!bootstrap) {
		policy_of(w->store, &m, &features, &hb, &hbmin, &known);
		/*
		 * The server's own limit: a modified module cannot flood it. The
		 * heartbeat that first reports a seal is let through, as the
		 * module lets it go (once: the seal is then kept here).
		 */
		if (m.last_heartbeat_at > 0 && now - m.last_heartbeat_at < (int64_t)hbmin * 1000 &&
		    !(MODMSG_HAS(in, MODMSG_PROFILE) && m.profile_uid[0] == '\0')) {
			uint32_t left = (uint32_t)(((int64_t)hbmin * 1000 - (now - m.last_heartbeat_at) +
			    999) / 1000);
			refuse(req, 429, MODMSG_R_TOO_SOON, left);
			return;
		}
		if (m.epoch != c->mod_epoch) {
			refuse(req, 409, MODMSG_R_RACE, 0);
			return;
		}
	}
	if ((rc = store_module_report(w->store, c->mod_uid, in, now, &rep)) != 0 ||
	    (rc = store_module_get(w->store, c->mod_uid, &m)) != 0) {
		http_reply_error(req, 500, "internal", "store failure");
		return;
	}
	if (rep.claimed)
		events_note_dev(w, EV_MODULE_CLAIMED, rep.owner, c->mod_uid, c->peer,
		    "assigned to owner %s (sealed after its bootstrap)", rep.owner);
	policy_of(w->store, &m, &features, &hb, &hbmin, &known);
	if (m.profile_uid[0] != '\0' && !known)
		events_note_dev(w, EV_MODULE_UNKNOWN_PROFILE, m.owner, c->mod_uid, c->peer,
		    "sealed with DeviceProfileUID %s, which no profile has", m.profile_uid);
	/* a bootstrap gets its profile's features, a heartbeat the device's */
	if (!bootstrap)
		features = m.features;
	next = bootstrap ? 1 : c->mod_epoch + 1;
	if (next == 0) {
		refuse(req, 403, MODMSG_R_STATE, 0);
		return;
	}
	if (hex_decode(c->mod_uid, MODMSG_UID_HEX, uid, sizeof(uid), &idlen) != 0 ||
	    (idlen = modmsg_identity(uid, next, ident, sizeof(ident))) == 0 ||
	    SSL_export_keying_material(c->ssl, c->mod_next_key, sizeof(c->mod_next_key),
		MODMSG_KEY_LABEL, strlen(MODMSG_KEY_LABEL), (const unsigned char *)ident, idlen,
		1) != 1) {
		http_reply_error(req, 500, "internal", "cannot derive the next key");
		return;
	}
	rc = store_module_pending_set(w->store, c->mod_uid, bootstrap ? 0 : c->mod_epoch, next,
	    c->mod_next_key, features, now);
	if (rc == ZTP_EAUTH) {
		refuse(req, 403, MODMSG_R_QUARANTINED, 0);
		return;
	}
	if (rc == ZTP_ECONFLICT) {
		/* bootstrapped meanwhile (a clone won), or the key moved on */
		refuse(req, 409, MODMSG_R_RACE, 0);
		return;
	}
	if (rc != 0) {
		http_reply_error(req, 500, "internal", "store failure");
		return;
	}
	fault_point("module_after_pending");
	c->mod_next_epoch = next;
	c->mod_bootstrap = bootstrap;
	memset(&out, 0, sizeof(out));
	out.epoch = next;
	out.features = features;
	out.hb_interval = hb;
	out.hb_min = hbmin;
	out.status = (m.owner[0] != '\0' || (bootstrap && known)) ? MODMSG_STATUS_CLAIMED : 0;
	/* a ZTP certificate waits at /m/z once this exchange is confirmed (module_ztpcert.c) */
	if (module_ztpcert_waiting(w->store, &m, features))
		out.status |= ZTP_CERT_STATUS_WAITING;
	MODMSG_SET(&out, MODMSG_EPOCH);
	MODMSG_SET(&out, MODMSG_FEATURES);
	MODMSG_SET(&out, MODMSG_HB_INTERVAL);
	MODMSG_SET(&out, MODMSG_HB_MIN);
	MODMSG_SET(&out, MODMSG_STATUS);
	if (m.sid != 0) {
		out.sid = m.sid; /* the services name the module by it (issue 14) */
		MODMSG_SET(&out, MODMSG_SID);
	}
	reply_items(req, 200, &out);
}

/* /m/c: the module stored the key this connection announced; commit it. */
static void
serve_confirm(struct evhttp_request *req, struct worker *w, struct conn *c,
    const struct modmsg *in)
{
	struct store_module_commit_out out;
	int rc;

	if (c->mod_next_epoch == 0 || !MODMSG_HAS(in, MODMSG_EPOCH) ||
	    in->epoch != c->mod_next_epoch) {
		http_reply_error(req, 400, "bad_request",
		    "no key of that epoch was announced on this connection");
		return;
	}
	fault_point("module_before_confirm");
	rc = store_module_commit(w->store, c->mod_uid, c->mod_next_epoch, c->mod_next_key,
	    !c->mod_bootstrap, clock_now_ms(), &out);
	fault_point("module_after_confirm");
	if (rc == ZTP_ECONFLICT) {
		/* another connection replaced the pending key: start again */
		refuse(req, 409, MODMSG_R_RACE, 0);
		return;
	}
	if (rc != 0) {
		http_reply_error(req, 500, "internal", "store failure");
		return;
	}
	OPENSSL_cleanse(c->mod_next_key, sizeof(c->mod_next_key));
	c->mod_epoch = c->mod_next_epoch;
	c->mod_kind = STORE_MODKEY_CURRENT;
	c->mod_next_epoch = 0;
	if (out.bootstrapped)
		events_note_dev(w, EV_MODULE_BOOTSTRAPPED, out.owner, c->mod_uid, c->peer,
		    "bootstrapped: factory secret retired%s%s", out.owner[0] ? ", owner " : "",
		    out.owner);
	if (out.claimed && !out.bootstrapped)
		events_note_dev(w, EV_MODULE_CLAIMED, out.owner, c->mod_uid, c->peer,
		    "assigned to owner %s", out.owner);
	evhttp_send_reply(req, 204, "No Content", NULL);
}

int
module_api_handle(struct evhttp_request *req, struct worker *w, struct conn *c)
{
	const char *uri = evhttp_request_get_uri(req);
	uint8_t body[MODMSG_BODY_MAX];
	struct store_mod m;
	struct modmsg in;
	long n;
	int rc;

	if (strcmp(uri, "/m/b") != 0 && strcmp(uri, "/m/h") != 0 && strcmp(uri, "/m/c") != 0 &&
	    strcmp(uri, "/m/z") != 0) {
		http_reply_error(req, 404, "not_found", "no such path");
		return 0;
	}
	/* /m/z: GET the ZTP certificate bundle, POST its confirmation (module_ztpcert.c) */
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST &&
	    !(evhttp_request_get_command(req) == EVHTTP_REQ_GET && strcmp(uri, "/m/z") == 0)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    strcmp(uri, "/m/z") == 0 ? "GET, POST" : "POST");
		http_reply_error(req, 405, "method_not_allowed", "POST only");
		return 0;
	}
	if ((n = http_body(req, body, sizeof(body))) < 0) {
		http_reply_error(req, 413, "too_large", "body over 512 bytes");
		return 0;
	}
	if (modmsg_decode(body, (size_t)n, &in) != 0) {
		http_reply_error(req, 400, "bad_request", "malformed items");
		return 0;
	}
	if ((rc = store_module_get(w->store, c->mod_uid, &m)) != 0) {
		http_reply_error(req, rc == ZTP_ENOENT ? 403 : 500,
		    rc == ZTP_ENOENT ? "forbidden" : "internal",
		    rc == ZTP_ENOENT ? "unknown module" : "store failure");
		return 0;
	}
	if (c->mod_kind == STORE_MODKEY_RETIRED) {
		refuse(req, 403, MODMSG_R_CLONED, 0);
		return 0;
	}
	if (c->mod_kind == STORE_MODKEY_PENDING) {
		/* its commit at the handshake failed (a race, the store): not final, start again */
		refuse(req, 409, MODMSG_R_RACE, 0);
		return 0;
	}
	if (m.quarantined) {
		events_note_dev(w, EV_MODULE_REFUSED, m.owner, c->mod_uid, c->peer,
		    "in quarantine: %s refused", uri);
		refuse(req, 403, MODMSG_R_QUARANTINED, 0);
		return 0;
	}
	if (strcmp(uri, "/m/c") == 0) {
		serve_confirm(req, w, c, &in);
		return 0;
	}
	if (strcmp(uri, "/m/z") == 0) {
		if (c->mod_kind != STORE_MODKEY_CURRENT)
			refuse(req, 403, MODMSG_R_STATE, 0);
		else
			module_ztpcert_serve(req, w, c, &m, body, (size_t)n);
		return 0;
	}
	if (strcmp(uri, "/m/b") == 0 ? c->mod_kind != STORE_MODKEY_FACTORY :
				       c->mod_kind != STORE_MODKEY_CURRENT) {
		refuse(req, 403, MODMSG_R_STATE, 0);
		return 0;
	}
	serve_exchange(req, w, c, &in, strcmp(uri, "/m/b") == 0);
	return 0;
}
