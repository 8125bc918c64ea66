/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device endpoint's HTTP routes (spec safe2.md section 5), served over
 * TLS 1.3 PSK: the connection's PSK identity names the SIM.
 *
 * With --device-cert-auth a device may show a certificate of ours instead
 * (mutual TLS). It acts for the SIM of its device record, the things
 * table's ICCID (else its allowlist entry's): the SIM `ztpctl device block`
 * blocks with it. That SIM's configuration, telemetry, Device-ID binding
 * and block apply as for the SIM's own PSK. Its certificate is checked in
 * the store with every request (on record, not revoked, not expired), its
 * device must not be blocked and must have a SIM: else 403 and an event.
 *
 * Every check that can refuse a request runs before anything is written,
 * so a refused request changes nothing but the events table.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "devroute.h"
#include "fault.h"
#include "events.h"
#include "http_util.h"
#include "log.h"
#include "proxy.h"
#include "server.h"
#include "store.h"
#include "ztp/err.h"

#define ROTATE_KEY_LEN 32
#define DEVICE_RESPONSE_JOIN_MAX 4096

/* The SIM's current configuration, read with the SIM in one statement (NULL: none). */
static void
serve_config(struct evhttp_request *req, const struct store_config *cfg)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *buf;
	const char *inm;

	if (cfg == NULL) {
		evhttp_send_reply(req, 204, "No Content", NULL);
		return;
	}
	evhttp_add_header(out, "ETag", cfg->etag);
	inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
	if (inm != NULL && strcmp(inm, cfg->etag) == 0) {
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	evhttp_add_header(out, "Content-Type", "application/octet-stream");
	if ((buf = evbuffer_new()) == NULL) {
		http_reply_error(req, 500, "internal", "out of memory");
		return;
	}
	evbuffer_add(buf, cfg->body, cfg->len);
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

static void
serve_data(struct evhttp_request *req, struct worker *w, const struct devroute *r,
    const uint8_t *body, size_t len)
{
	if (store_telemetry_add(w->store, r->iccid, r->device_id, body, len, NULL) != 0) {
		http_reply_error(req, 500, "internal", "store failure");
		return;
	}
	evhttp_send_reply(req, 204, "No Content", NULL);
}

static void
serve_dev(struct evhttp_request *req, struct worker *w, const struct devroute *r)
{
	struct store_device d;

	if (store_device_get_or_create(w->store, r->iccid, r->device_id, &d) != 0) {
		http_reply_error(req, 500, "internal", "store failure");
		return;
	}
	http_reply_json(req, 200, json_pack("{s:s, s:s, s:s}", "cli", d.cli, "usr", d.usr, "pwd",
	    d.pwd));
	memset(&d, 0, sizeof(d));
}

/* A rotation is due: asked for, or the group's (g: NULL if none) rotation period has passed. */
static int
rotation_due(const struct store_sim *sim, const struct store_group *g)
{
	int64_t since;

	if (sim->rotate)
		return 1;
	if (g == NULL || g->rotation_period_s <= 0)
		return 0;
	since = sim->rotated_at ? sim->rotated_at : sim->created_at;
	return clock_now_ms() - since >= g->rotation_period_s * 1000;
}

/*
 * Rotation over the air (spec safe2.md section 6): derive the next key
 * from this TLS session with the exporter, keep it as pending (stored
 * before the answer leaves), and tell the SIM the generation in
 * ZTP-PSK-Rotate. Only on a connection that used the current key.
 */
static void
maybe_rotate(struct evhttp_request *req, struct worker *w, struct conn *c,
    const struct store_sim *sim, const struct store_group *g)
{
	static const char label[] = "EXPORTER-ztp-psk-rotate";
	uint8_t key[ROTATE_KEY_LEN];
	char gen[16];
	SSL *ssl = c->ssl;
	int n;

	if (!c->have_id || c->pending || c->id.generation != sim->psk_generation ||
	    !rotation_due(sim, g) ||
	    sim->psk_generation == UINT32_MAX || ssl == NULL)
		return;
	n = snprintf(gen, sizeof(gen), "%u", sim->psk_generation + 1);
	if (SSL_export_keying_material(ssl, key, sizeof(key), label, sizeof(label) - 1,
		(const unsigned char *)gen, (size_t)n, 1) != 1) {
		log_warnx("%s: cannot export the rotation key", sim->iccid);
		return;
	}
	fault_point("server_before_pending");
	if (store_sim_pending_set(w->store, sim->iccid, sim->psk_generation, key, sizeof(key)) ==
	    0) {
		fault_point("server_after_pending");
		evhttp_add_header(evhttp_request_get_output_headers(req), "ZTP-PSK-Rotate", gen);
		log_info("%s: key generation %s offered", sim->iccid, gen);
	}
	OPENSSL_cleanse(key, sizeof(key));
}

/*
 * Proxy mode: the upstream of the SIM's group (g: NULL if none), else the
 * server's default; NULL when the request is answered from the store.
 */
static const struct store_upstream *
upstream_for(struct worker *w, const struct store_group *g)
{
	const struct store_upstream *def = &w->srv->cfg->upstream;

	if (g != NULL && strcmp(g->upstream.url, "off") == 0)
		return NULL;
	if (g != NULL && g->upstream.url[0] != '\0')
		return &g->upstream;
	if (def->url[0] == '\0' || strcmp(def->url, "off") == 0)
		return NULL;
	return def;
}

/*
 * The SIM a certificate device (c->est_peer EST_PEER_OURS) acts for, into
 * iccid: 0, or 1 once a refusal was answered. The certificate is checked
 * in the store first (on record, not revoked, not expired); one refused so
 * ends the connection after its answer.
 */
static int
cert_sim(struct evhttp_request *req, struct worker *w, struct conn *c,
    char iccid[ICCID_STR_SIZE])
{
	char why[STORE_DETAIL_MAX];
	struct store_cert rec;
	struct store_thing t;
	struct store_allow a;
	int status, rc;

	status = est_api_peer_check(w, c, &rec, why, sizeof(why));
	if (status == 503) {
		http_reply_error(req, 500, "internal", "store failure");
		return 1;
	}
	if (status != 0) {
		/* no longer a credential: noted as an unauthenticated peer's */
		events_note(w, EV_CLIENT_CERT_REFUSED, NULL, c->peer, "device listener: %s", why);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		http_reply_error(req, 403, "forbidden", why);
		return 1;
	}
	/* a certificate on record has its device record (store_cert_record makes both at once) */
	if ((rc = store_thing_get(w->store, c->est_udid, &t)) == ZTP_ENOENT) {
		events_record(w->store, EV_UNBOUND_DEVICE, NULL, c->peer,
		    "device %s (client certificate %s) has no device record", c->est_udid,
		    c->est_serial);
		http_reply_error(req, 403, "forbidden", "unknown device");
		return 1;
	}
	if (rc != 0) {
		http_reply_error(req, 500, "internal", "store failure");
		return 1;
	}
	if (t.blocked) {
		events_record(w->store, EV_CLIENT_CERT_REFUSED, t.iccid[0] ? t.iccid : NULL, c->peer,
		    "device listener: device %s is blocked (client certificate %s)", c->est_udid,
		    c->est_serial);
		http_reply_error(req, 403, "forbidden", "device blocked");
		return 1;
	}
	if (t.iccid[0] == '\0') {
		rc = store_allow_get(w->store, c->est_udid, &a);
		if (rc != 0 && rc != ZTP_ENOENT) {
			http_reply_error(req, 500, "internal", "store failure");
			return 1;
		}
		if (rc == 0)
			snprintf(t.iccid, sizeof(t.iccid), "%s", a.iccid);
	}
	if (t.iccid[0] == '\0') {
		events_record(w->store, EV_UNBOUND_DEVICE, NULL, c->peer,
		    "device %s (client certificate %s) has no SIM: its allowlist entry names none",
		    c->est_udid, c->est_serial);
		http_reply_error(req, 403, "forbidden", "no SIM bound to this device");
		return 1;
	}
	snprintf(iccid, ICCID_STR_SIZE, "%s", t.iccid);
	return 0;
}

/* Returns 1 when the answer comes later (forwarded upstream), 0 when it was sent. */
static int
handle(struct evhttp_request *req, struct worker *w, struct conn *c)
{
	const struct store_upstream *up;
	const struct store_group *g = NULL;
	struct store_group group;
	const char *uri = evhttp_request_get_uri(req), *why;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	uint8_t body[STORE_TELEMETRY_MAX];
	char bound[STORE_DEVID_HEX], shown[128];
	struct store_config cfg;
	struct store_sim sim;
	char cert_iccid[ICCID_STR_SIZE];
	const char *iccid;
	struct devroute r;
	size_t bodylen = 0;
	long n;
	int rc, has_cfg = 0, by_cert;

	if (c != NULL && c->mod)
		return module_api_handle(req, w, c);
	by_cert = c != NULL && !c->have_id && c->est_peer == EST_PEER_OURS;
	if (c == NULL || !(c->have_id || by_cert)) {
		http_reply_error(req, 403, "forbidden", "no PSK identity");
		return 0;
	}
	rc = devroute_parse(uri, strlen(uri), &r, &why);
	if (rc == ZTP_ENOENT) {
		http_reply_error(req, 404, "not_found", "no such path");
		return 0;
	}
	if (rc != 0) {
		http_reply_error(req, 400, "bad_request", why);
		return 0;
	}
	if ((r.kind == DEVROUTE_CONFIG && method != EVHTTP_REQ_GET) ||
	    (r.kind != DEVROUTE_CONFIG && method != EVHTTP_REQ_POST)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    r.kind == DEVROUTE_CONFIG ? "GET" : "POST");
		snprintf(shown, sizeof(shown), "%s is not allowed here",
		    http_method_name(req, "other"));
		http_reply_error(req, 405, "method_not_allowed", shown);
		return 0;
	}
	if (by_cert && cert_sim(req, w, c, cert_iccid) != 0)
		return 0;
	iccid = by_cert ? cert_iccid : c->id.iccid;
	if (strcmp(r.iccid, iccid) != 0) {
		if (by_cert)
			events_record(w->store, EV_ICCID_MISMATCH, iccid, c->peer,
			    "query iccid %s is not the SIM of device %s (client certificate %s)",
			    r.iccid, c->est_udid, c->est_serial);
		else
			events_record(w->store, EV_ICCID_MISMATCH, iccid, c->peer,
			    "query iccid %s is not the PSK identity's", r.iccid);
		http_reply_error(req, 403, "forbidden", by_cert ? "iccid is not the device's SIM" :
		    "iccid is not the PSK identity's");
		return 0;
	}
	/* a fetch reads its SIM and the SIM's configuration in one statement */
	if (r.kind == DEVROUTE_CONFIG)
		rc = store_sim_get_config(w->store, r.iccid, &sim, &cfg, &has_cfg);
	else
		rc = store_sim_get(w->store, r.iccid, &sim);
	if (rc == ZTP_ENOENT && by_cert)
		events_record(w->store, EV_UNBOUND_DEVICE, r.iccid, c->peer,
		    "device %s (client certificate %s): its SIM is not registered", c->est_udid,
		    c->est_serial);
	if (rc != 0) {
		http_reply_error(req, rc == ZTP_ENOENT ? 403 : 500,
		    rc == ZTP_ENOENT ? "forbidden" : "internal",
		    rc == ZTP_ENOENT ? "unknown SIM" : "store failure");
		return 0;
	}
	if (sim.blocked) {
		events_record(w->store, EV_BLOCKED_SIM, r.iccid, c->peer, "blocked SIM used (%s %s)",
		    http_method_name(req, "other"), r.kind == DEVROUTE_CONFIG ? "config" :
		    r.kind == DEVROUTE_DATA ? "data" : "dev");
		http_reply_error(req, 403, "forbidden", "SIM blocked");
		return 0;
	}
	if (r.kind == DEVROUTE_DATA) {
		if ((n = http_body(req, body, sizeof(body))) < 0) {
			events_record(w->store, EV_REQUEST_REFUSED, r.iccid, c->peer,
			    "telemetry of %zu bytes, over %d", http_body_len(req), STORE_TELEMETRY_MAX);
			http_reply_error(req, 413, "too_large", "telemetry over 255 bytes");
			return 0;
		}
		bodylen = (size_t)n;
	} else if (http_body_len(req) > 0) {
		http_reply_error(req, 400, "bad_request", "this request takes no body");
		return 0;
	}
	/* the common case, already bound to this Device ID, needs no write */
	if (sim.device_id[0] != '\0' && strcmp(sim.device_id, r.device_id) == 0)
		rc = 0;
	else
		rc = store_sim_bind(w->store, r.iccid, r.device_id, bound);
	if (rc == ZTP_ECONFLICT) {
		events_record(w->store, EV_REBIND_REFUSED, r.iccid, c->peer,
		    "Device ID %s refused: the SIM is bound to %s", r.device_id, bound);
		http_reply_error(req, 409, "conflict", "SIM bound to another Device ID");
		return 0;
	}
	if (rc != 0) {
		http_reply_error(req, 500, "internal", "store failure");
		return 0;
	}
	/* the SIM's group, read once: its rotation period and its upstream */
	if (sim.group[0] != '\0') {
		rc = store_group_get(w->store, sim.group, &group);
		if (rc != 0 && rc != ZTP_ENOENT) {
			http_reply_error(req, 500, "internal", "store failure");
			return 0;
		}
		g = rc == 0 ? &group : NULL;
	}
	maybe_rotate(req, w, c, &sim, g);
	if ((up = upstream_for(w, g)) != NULL)
		return proxy_forward(w, c, req, up, &sim, &r, body, bodylen) == 0;
	switch (r.kind) {
	case DEVROUTE_CONFIG:
		serve_config(req, has_cfg ? &cfg : NULL);
		break;
	case DEVROUTE_DATA:
		serve_data(req, w, &r, body, bodylen);
		break;
	case DEVROUTE_DEV:
		serve_dev(req, w, &r);
		break;
	}
	return 0;
}

void
device_api_handle(struct evhttp_request *req, void *arg)
{
	struct worker *w = arg;
	struct conn *c = conn_of(req);

	if (handle(req, w, c) == 0 && c != NULL)
		device_api_finish(c, req);
}

void
device_api_finish(struct conn *c, struct evhttp_request *req)
{
	/*
	 * evhttp queued the head and the body as two pieces, and the TLS
	 * bufferevent writes one record per piece: join them, so that a SIM
	 * gets (and decrypts) one record per response.
	 */
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (evbuffer_get_length(out) <= DEVICE_RESPONSE_JOIN_MAX)
		evbuffer_pullup(out, -1);
	conn_request_done(c, req);
}
