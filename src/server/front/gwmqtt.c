/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpd's MQTT client for gateways (gwmqtt.h, docs/gateways.md,
 * docs/protocol/gateways.md).
 *
 * One thread runs libmosquitto's loop itself (mosquitto_loop), so that the
 * callbacks run here, one at a time. The callbacks only read: a request is
 * verified and recorded, a status or a result recorded. The work that needs
 * the broker's answer (a dynamic-security command before a bundle) runs
 * between turns of the loop, in work(), from what the store says is to be
 * done: approved gateways, answers not yet published, accounts to cut,
 * commands to send. So a crash at any point leaves the store saying what
 * is left, and the next turn (of this node or another) finishes it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <mosquitto.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "crypto.h"
#include "datadir.h"
#include "events.h"
#include "fault.h"
#include "gwmqtt.h"
#include "gwmsg.h"
#include "log.h"
#include "pki.h"
#include "server.h"
#include "signer_client.h"
#include "signer_msg.h"
#include "store.h"
#include "ztp/err.h"

#define KEEPALIVE_S 30
#define TURN_MS 100            /* one turn of the loop when idle */
#define SCAN_MS 1000           /* the store is looked at this often without a kick */
#define DYNSEC_WAIT_MS 5000    /* for the broker's answer to a dynamic-security command */
#define WORK_BATCH 32
#define BACKOFF_MAX_S 30
#define EST_PASSWORD_DAYS 7
#define CMD_KEY_NAME "commands"
#define CMD_KEY_ID "ztpd/gateway-commands"
#define CMD_KEY_DAYS 3650
#define MFR_REFRESH_MS 10000
#define DYNSEC_TOPIC "$CONTROL/dynamic-security/v1"
#define DYNSEC_RESPONSE DYNSEC_TOPIC "/response"

#define EV_GW_REQUEST "gateway_request"   /* a verified request: pending or approved */
#define EV_GW_REFUSED "gateway_refused"   /* a request that did not verify */
#define EV_GW_BUNDLED "gateway_bundled"   /* its bundle and broker account were made */
#define EV_GW_ONLINE "gateway_online"     /* it reported from the operational listener */
#define EV_GW_CUT "gateway_cut"           /* its broker account was disabled */
#define EV_GW_COMMAND "gateway_command"   /* a command sent, or its result */

struct gwmqtt {
	struct server *srv;
	struct store *st;
	struct mosquitto *mosq;
	pthread_t thread;
	atomic_int stop;
	atomic_int kicked;
	int connected;
	int was_up; /* connected since the socket opened: its loss is told by on_disconnect */
	char prefix[GWMSG_PREFIX_MAX + 1];
	char est_url[300];
	char *est_ca;   /* PEM: ca.pem */
	char *mqtt_ca;  /* PEM bundles carry */
	char mqtt_url[256];
	char password[256]; /* ztpd's at the broker; wiped at the end */
	/* the dynamic-security command waited for */
	char dyn_corr[32];
	int dyn_done;
	char dyn_error[200];
	uint64_t dyn_seq;
	/* the command key */
	uint8_t cmd_cert[SIGNER_ZTPCA_CERT_MAX];
	size_t cmd_cert_len;
	uint8_t cmd_key[SIGNER_ZTPCA_KEY_MAX];
	size_t cmd_key_len;
	char *cmd_pem;
	/* the manufacturer CAs requests are checked against */
	X509_STORE *mfr;
	int64_t mfr_gen, mfr_at;
	int64_t last_scan;
	int lib, running; /* mosquitto_lib_init done; the thread started */
};

static _Atomic(struct gwmqtt *) the_gw;

void
gwmqtt_kick(void)
{
	struct gwmqtt *g = atomic_load(&the_gw);

	if (g != NULL)
		atomic_store(&g->kicked, 1);
}

/* ---- small helpers ---- */

static char *
read_file(const char *path, size_t max)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	if ((buf = malloc(max + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void
random_hex(char *out, size_t bytes)
{
	static const char d[] = "0123456789abcdef";
	uint8_t r[32];
	size_t i;

	if (bytes > sizeof(r) || crypto_random(r, bytes) != 0)
		memset(r, 0, sizeof(r));
	for (i = 0; i < bytes; i++) {
		out[2 * i] = d[r[i] >> 4];
		out[2 * i + 1] = d[r[i] & 15];
	}
	out[2 * bytes] = '\0';
}

/* "mqtts://host:port" into host and port. */
static int
parse_url(const char *url, char *host, size_t cap, int *port)
{
	const char *p, *colon;
	char *end;
	long v;
	size_t n;

	if (strncmp(url, "mqtts://", 8) != 0)
		return ZTP_EINVAL;
	p = url + 8;
	if (*p == '[') {
		const char *rb = strchr(p, ']');
		if (rb == NULL || rb[1] != ':')
			return ZTP_EINVAL;
		n = (size_t)(rb - p - 1);
		if (n == 0 || n >= cap)
			return ZTP_EINVAL;
		memcpy(host, p + 1, n);
		host[n] = '\0';
		colon = rb + 1;
	} else {
		if ((colon = strrchr(p, ':')) == NULL)
			return ZTP_EINVAL;
		n = (size_t)(colon - p);
		if (n == 0 || n >= cap)
			return ZTP_EINVAL;
		memcpy(host, p, n);
		host[n] = '\0';
	}
	v = strtol(colon + 1, &end, 10);
	if (*end != '\0' && strcmp(end, "/") != 0)
		return ZTP_EINVAL;
	if (v < 1 || v > 65535)
		return ZTP_EINVAL;
	*port = (int)v;
	return 0;
}

static void
topic_of(struct gwmqtt *g, enum gwmsg_topic kind, const char *udid, char *out, size_t cap)
{
	if (gwmsg_topic_make(g->prefix, kind, udid, out, cap) != 0)
		out[0] = '\0';
}

static int
publish(struct gwmqtt *g, const char *topic, const void *payload, size_t len)
{
	int rc;

	if (topic[0] == '\0' || len > GWMSG_MAX)
		return ZTP_EINVAL;
	rc = mosquitto_publish(g->mosq, NULL, topic, (int)len, payload, 1, false);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_warnx("mqtt: cannot publish on %s: %s", topic, mosquitto_strerror(rc));
		return ZTP_EIO;
	}
	return 0;
}

/* ---- certificates ---- */

/* The UDID a certificate names: its subject CN, else serialNumber. */
static void
cert_udid(X509 *x, char *out, size_t cap)
{
	X509_NAME *n = X509_get_subject_name(x);

	out[0] = '\0';
	if (X509_NAME_get_text_by_NID(n, NID_commonName, out, (int)cap) <= 0 &&
	    X509_NAME_get_text_by_NID(n, NID_serialNumber, out, (int)cap) <= 0)
		out[0] = '\0';
}

static int
mfr_add(const struct store_mfr_ca *ca, void *arg)
{
	X509_STORE *s = arg;
	BIO *b = BIO_new_mem_buf(ca->pem, -1);
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	if (x == NULL || X509_STORE_add_cert(s, x) != 1)
		log_warnx("mqtt: manufacturer CA %s cannot be loaded", ca->name);
	X509_free(x);
	BIO_free(b);
	ERR_clear_error();
	return 0;
}

/* The manufacturer CAs, rebuilt when the store's changed (looked at every 10 s). */
static X509_STORE *
mfr_store(struct gwmqtt *g)
{
	int64_t gen, now = clock_mono_ms();
	X509_STORE *s;

	if (g->mfr != NULL && now - g->mfr_at < MFR_REFRESH_MS)
		return g->mfr;
	g->mfr_at = now;
	if (store_mfr_ca_generation(g->st, &gen) != 0 || (g->mfr != NULL && gen == g->mfr_gen))
		return g->mfr;
	if ((s = X509_STORE_new()) == NULL)
		return g->mfr;
	if (store_mfr_ca_list(g->st, mfr_add, s) < 0) {
		X509_STORE_free(s);
		return g->mfr;
	}
	X509_STORE_free(g->mfr);
	g->mfr = s;
	g->mfr_gen = gen;
	return s;
}

/*
 * Verify a PEM chain (the leaf first) against the manufacturer CAs now;
 * the leaf must name udid. *leaf gets it (the caller frees) on success.
 */
static int
verify_chain(struct gwmqtt *g, const char *pem, const char *udid, const char *what, X509 **leaf,
    char *why, size_t cap)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509_STORE *trust = mfr_store(g);
	X509_STORE_CTX *ctx = NULL;
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x, *first = NULL;
	char name[GWMSG_UDID_MAX + 2];
	int rc = ZTP_EAUTH, n = 0;

	*leaf = NULL;
	if (chain == NULL || b == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	while (n < 8 && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (first == NULL)
			first = x;
		else if (!sk_X509_push(chain, x))
			X509_free(x);
		n++;
	}
	ERR_clear_error();
	if (first == NULL) {
		snprintf(why, cap, "the %s is not a PEM certificate", what);
		goto out;
	}
	cert_udid(first, name, sizeof(name));
	if (strcmp(name, udid) != 0) {
		snprintf(why, cap, "the %s names another device than %s", what, udid);
		goto out;
	}
	if (trust == NULL) {
		snprintf(why, cap, "no manufacturer CA is known");
		goto out;
	}
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, trust, first, chain) != 1) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		snprintf(why, cap, "the %s does not verify: %s", what,
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	*leaf = first;
	first = NULL;
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_free(first);
	sk_X509_pop_free(chain, X509_free);
	BIO_free(b);
	ERR_clear_error();
	return rc;
}

static int
verify_sig(X509 *idevid, const struct gwmsg_request *r, char *why, size_t cap)
{
	uint8_t tbs[16 + GWMSG_UDID_MAX + GWMSG_NONCE_HEX];
	size_t n = gwmsg_request_tbs(r->udid, r->nonce, tbs, sizeof(tbs));
	EVP_PKEY *pub = X509_get0_pubkey(idevid);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	ok = n > 0 && pub != NULL && md != NULL &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
	    EVP_DigestVerify(md, r->sig, r->sig_len, tbs, n) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	if (!ok) {
		snprintf(why, cap, "idevid_sig does not verify with the IDevID's key");
		return ZTP_EAUTH;
	}
	return 0;
}

/* ---- what the broker sends ---- */

static void
refuse(struct gwmqtt *g, const char *udid, const char *batch, const char *why)
{
	int recorded = 0;

	if (store_gw_refuse(g->st, udid, batch, why, clock_now_ms(), &recorded) != 0)
		log_warnx("mqtt: cannot record the refusal of %s", udid);
	events_record(g->st, EV_GW_REFUSED, NULL, NULL, "gateway %s: %s", udid, why);
	atomic_store(&g->kicked, 1);
}

static void
on_request(struct gwmqtt *g, const char *udid, const uint8_t *msg, size_t len)
{
	struct gwmsg_request *r = malloc(sizeof(*r));
	struct store_gw_request sr;
	struct store_gateway gw;
	char why[256], owner[STORE_OWNER_MAX + 1];
	X509 *ldev = NULL, *idev = NULL;
	int rc;

	if (r == NULL)
		return;
	if (gwmsg_request_parse(msg, len, r, why, sizeof(why)) != 0) {
		refuse(g, udid, "", why);
		goto out;
	}
	if (strcmp(r->udid, udid) != 0) {
		refuse(g, udid, r->batch, "the request names another UDID than its topic");
		goto out;
	}
	rc = store_gw_name_valid(r->batch) ? store_gw_batch_check(g->st, r->batch, r->password,
						 owner) : ZTP_ENOENT;
	if (rc == ZTP_ENOENT || rc == ZTP_EAUTH) {
		refuse(g, udid, r->batch, rc == ZTP_ENOENT ? "no such batch" :
							     "wrong batch password");
		goto out;
	}
	if (rc != 0)
		goto out; /* the store: the gateway asks again */
	if (verify_chain(g, r->ldevid, udid, "LDevID", &ldev, why, sizeof(why)) != 0 ||
	    verify_chain(g, r->idevid, udid, "IDevID", &idev, why, sizeof(why)) != 0 ||
	    verify_sig(idev, r, why, sizeof(why)) != 0) {
		refuse(g, udid, r->batch, why);
		goto out;
	}
	memset(&sr, 0, sizeof(sr));
	sr.udid = udid;
	sr.batch = r->batch;
	sr.owner = owner;
	sr.firmware = r->firmware;
	sr.nonce = r->nonce;
	sr.ldevid = r->ldevid;
	sr.idevid = r->idevid;
	if (store_gw_request(g->st, &sr, clock_now_ms(), &gw) != 0) {
		log_warnx("mqtt: cannot record the request of %s", udid);
		goto out;
	}
	/* a foreign PKI's CRL (docs/pki-crl.md) can block this gateway by either identity */
	if (pki_cert_seen(g->st, idev, udid, "idevid") != 0 ||
	    pki_cert_seen(g->st, ldev, udid, "ldevid") != 0)
		log_warnx("mqtt: cannot record the certificates of %s", udid);
	events_record(g->st, EV_GW_REQUEST, NULL, NULL, "gateway %s (batch %s, firmware %s): %s",
	    udid, r->batch, r->firmware[0] ? r->firmware : "-", store_gw_state_name(gw.state));
	atomic_store(&g->kicked, 1);
out:
	X509_free(ldev);
	X509_free(idev);
	gwmsg_request_wipe(r);
	free(r);
}

static void
on_status(struct gwmqtt *g, const char *udid, const uint8_t *msg, size_t len)
{
	struct gwmsg_status s;
	char why[200] = "";
	int rc;

	if (gwmsg_status_parse(msg, len, &s, why, sizeof(why)) != 0 || strcmp(s.udid, udid) != 0) {
		log_warnx("mqtt: a bad status from %s (%s)", udid, why);
		return;
	}
	rc = store_gw_online(g->st, udid, s.serial, s.firmware, clock_now_ms());
	if (rc == 0)
		events_record(g->st, EV_GW_ONLINE, NULL, NULL, "gateway %s online, certificate %s",
		    udid, s.serial);
	else if (rc != ZTP_ENOENT)
		log_warnx("mqtt: cannot record the status of %s", udid);
}

static void
on_result(struct gwmqtt *g, const char *udid, const uint8_t *msg, size_t len)
{
	struct gwmsg_result *r = malloc(sizeof(*r));
	struct store_gw_cmd *c = malloc(sizeof(*c));
	char why[200] = "";
	int rc;

	if (r == NULL || c == NULL)
		goto out;
	if (gwmsg_result_parse(msg, len, r, why, sizeof(why)) != 0 || strcmp(r->udid, udid) != 0) {
		log_warnx("mqtt: a bad command result from %s (%s)", udid, why);
		goto out;
	}
	if (store_gw_cmd_get(g->st, udid, r->id, c) != 0)
		goto out;
	rc = store_gw_cmd_result(g->st, udid, r->id, r->ok, r->text, clock_now_ms());
	if (rc != 0)
		goto out; /* a repeat, or one never sent */
	events_record(g->st, EV_GW_COMMAND, NULL, NULL, "gateway %s command %lld %s: %s", udid,
	    (long long)r->id, c->name, r->ok ? "ok" : "failed");
	if (r->ok && strcmp(c->name, "rotate-mqtt") == 0)
		atomic_store(&g->kicked, 1); /* the broker takes the new password (work_rotations) */
out:
	free(r);
	free(c);
}

static void
on_dynsec(struct gwmqtt *g, const uint8_t *msg, size_t len)
{
	json_t *o = json_loadb((const char *)msg, len, 0, NULL), *arr, *it;
	size_t i;

	arr = json_object_get(o, "responses");
	json_array_foreach(arr, i, it) {
		const char *corr = json_string_value(json_object_get(it, "correlationData"));
		const char *err = json_string_value(json_object_get(it, "error"));
		const char *cmd = json_string_value(json_object_get(it, "command"));
		int ignorable = cmd != NULL && (strcmp(cmd, "deleteClient") == 0 ||
						   strcmp(cmd, "deleteRole") == 0);
		if (err != NULL && !ignorable && g->dyn_error[0] == '\0')
			snprintf(g->dyn_error, sizeof(g->dyn_error), "%s: %s", cmd ? cmd : "?", err);
		if (corr != NULL && strcmp(corr, g->dyn_corr) == 0)
			g->dyn_done = 1;
	}
	json_decref(o);
}

static void
on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct gwmqtt *g = arg;
	char udid[GWMSG_UDID_MAX + 1];

	(void)m;
	if (msg->topic == NULL || msg->payloadlen < 0)
		return;
	if (strcmp(msg->topic, DYNSEC_RESPONSE) == 0) {
		on_dynsec(g, msg->payload, (size_t)msg->payloadlen);
		return;
	}
	switch (gwmsg_topic_parse(g->prefix, msg->topic, udid)) {
	case GWMSG_T_REQ:
		on_request(g, udid, msg->payload, (size_t)msg->payloadlen);
		break;
	case GWMSG_T_STATUS:
		on_status(g, udid, msg->payload, (size_t)msg->payloadlen);
		break;
	case GWMSG_T_RESULT:
		on_result(g, udid, msg->payload, (size_t)msg->payloadlen);
		break;
	default:
		break;
	}
}

static void
on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct gwmqtt *g = arg;
	char t[GWMSG_PREFIX_MAX + 32];

	if (rc != 0) {
		log_warnx("mqtt: the broker refused ztpd: %s", mosquitto_connack_string(rc));
		return;
	}
	g->connected = 1;
	g->was_up = 1;
	log_info("mqtt: connected to the broker");
	snprintf(t, sizeof(t), "%s/prov/+/req", g->prefix);
	mosquitto_subscribe(m, NULL, t, 1);
	snprintf(t, sizeof(t), "%s/dev/+/status", g->prefix);
	mosquitto_subscribe(m, NULL, t, 1);
	snprintf(t, sizeof(t), "%s/dev/+/result", g->prefix);
	mosquitto_subscribe(m, NULL, t, 1);
	mosquitto_subscribe(m, NULL, DYNSEC_RESPONSE, 1);
	atomic_store(&g->kicked, 1);
}

static void
on_disconnect(struct mosquitto *m, void *arg, int rc)
{
	struct gwmqtt *g = arg;

	(void)m;
	if (g->connected)
		log_warnx("mqtt: disconnected from the broker (%s)", mosquitto_strerror(rc));
	g->connected = 0;
}

/* ---- dynamic security ---- */

/*
 * Send commands (a JSON array, stolen) and wait for the broker's answer
 * to the last one. 0, or ZTP_EIO (no answer, or an error other than a
 * delete of what is not there: logged).
 */
static int
dynsec(struct gwmqtt *g, json_t *cmds)
{
	json_t *last = json_array_get(cmds, json_array_size(cmds) - 1);
	int64_t deadline;
	char *text;
	int rc;

	snprintf(g->dyn_corr, sizeof(g->dyn_corr), "ztpd-%llu", (unsigned long long)++g->dyn_seq);
	json_object_set_new(last, "correlationData", json_string(g->dyn_corr));
	text = json_dumps(json_pack("{s:o}", "commands", cmds), JSON_COMPACT);
	if (text == NULL)
		return ZTP_ENOMEM;
	g->dyn_done = 0;
	g->dyn_error[0] = '\0';
	rc = publish(g, DYNSEC_TOPIC, text, strlen(text));
	OPENSSL_clear_free(text, strlen(text));
	if (rc != 0)
		return rc;
	deadline = clock_mono_ms() + DYNSEC_WAIT_MS;
	while (!g->dyn_done && g->connected && clock_mono_ms() < deadline && !atomic_load(&g->stop))
		if (mosquitto_loop(g->mosq, TURN_MS, 1) != MOSQ_ERR_SUCCESS)
			break;
	if (!g->dyn_done) {
		log_warnx("mqtt: no answer from the broker's dynamic security");
		return ZTP_EIO;
	}
	if (g->dyn_error[0] != '\0') {
		log_warnx("mqtt: the broker's dynamic security refused: %s", g->dyn_error);
		return ZTP_EIO;
	}
	return 0;
}

static json_t *
acl(const char *type, const char *topic)
{
	return json_pack("{s:s, s:s, s:b}", "acltype", type, "topic", topic, "allow", 1);
}

/* The broker account of a gateway: a client udid and a role with its three topics. */
static int
account_create(struct gwmqtt *g, const char *udid, const char *password)
{
	char role[GWMSG_UDID_MAX + 16], st[GWMSG_PREFIX_MAX + 96], re[sizeof(st)], cmd[sizeof(st)];
	json_t *cmds;

	snprintf(role, sizeof(role), "ztp-gw-%s", udid);
	topic_of(g, GWMSG_T_STATUS, udid, st, sizeof(st));
	topic_of(g, GWMSG_T_RESULT, udid, re, sizeof(re));
	topic_of(g, GWMSG_T_CMD, udid, cmd, sizeof(cmd));
	cmds = json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s, s:[o, o, o, o, o]},"
			 " {s:s, s:s, s:s, s:[{s:s}]}]",
	    "command", "deleteClient", "username", udid,
	    "command", "deleteRole", "rolename", role,
	    "command", "createRole", "rolename", role, "acls",
	    acl("publishClientSend", st), acl("publishClientSend", re),
	    acl("publishClientReceive", cmd), acl("subscribeLiteral", cmd),
	    acl("unsubscribeLiteral", cmd),
	    "command", "createClient", "username", udid, "password", password, "roles",
	    "rolename", role);
	if (cmds == NULL)
		return ZTP_ENOMEM;
	return dynsec(g, cmds);
}

static int
account_simple(struct gwmqtt *g, const char *command, const char *udid, const char *password)
{
	json_t *c = json_pack("{s:s, s:s}", "command", command, "username", udid);

	if (c != NULL && password != NULL)
		json_object_set_new(c, "password", json_string(password));
	return c != NULL ? dynsec(g, json_pack("[o]", c)) : ZTP_ENOMEM;
}

/* ---- work ---- */

/* The command key, made by the signer on first use and kept (wrapped) in the store. */
static int
command_key(struct gwmqtt *g)
{
	struct signer_ztpca_ca ca;
	const unsigned char *p;
	X509 *x = NULL;
	BIO *b = NULL;
	int rc;

	if (g->cmd_pem != NULL)
		return 0;
	g->cmd_cert_len = sizeof(g->cmd_cert);
	g->cmd_key_len = sizeof(g->cmd_key);
	rc = store_gw_key_get(g->st, CMD_KEY_NAME, g->cmd_cert, &g->cmd_cert_len, g->cmd_key,
	    &g->cmd_key_len);
	if (rc == ZTP_ENOENT) {
		memset(&ca, 0, sizeof(ca));
		if ((rc = signer_ztpca_create(g->srv->signer, CMD_KEY_ID, "ztp gateway commands",
			 "ztp", CMD_KEY_DAYS, &ca)) != 0) {
			log_warnx("mqtt: the signer cannot make the command key (%s)",
			    ztp_strerror(rc));
			return rc;
		}
		rc = store_gw_key_put(g->st, CMD_KEY_NAME, ca.cert, ca.cert_len, ca.key, ca.key_len,
		    clock_now_ms());
		signer_ztpca_ca_free(&ca);
		if (rc != 0)
			return rc;
		g->cmd_cert_len = sizeof(g->cmd_cert);
		g->cmd_key_len = sizeof(g->cmd_key);
		rc = store_gw_key_get(g->st, CMD_KEY_NAME, g->cmd_cert, &g->cmd_cert_len, g->cmd_key,
		    &g->cmd_key_len);
	}
	if (rc != 0)
		return rc;
	p = g->cmd_cert;
	rc = ZTP_ECRYPTO;
	if ((x = d2i_X509(NULL, &p, (long)g->cmd_cert_len)) != NULL &&
	    (b = BIO_new(BIO_s_mem())) != NULL && PEM_write_bio_X509(b, x) == 1) {
		char *d;
		long n = BIO_get_mem_data(b, &d);
		if (n > 0 && (g->cmd_pem = malloc((size_t)n + 1)) != NULL) {
			memcpy(g->cmd_pem, d, (size_t)n);
			g->cmd_pem[n] = '\0';
			rc = 0;
		}
	}
	X509_free(x);
	BIO_free(b);
	return rc;
}

/* The bundle of an approved gateway: made, its account created, kept, published. */
static int
make_bundle(struct gwmqtt *g, const struct store_gateway *gw)
{
	struct store_gw_group grp;
	char est_pw[CRYPTO_PASSWORD_LEN + 1], mqtt_pw[CRYPTO_PASSWORD_LEN + 1], bundle_id[STORE_GW_ID_HEX + 1], topic[200];
	json_t *o, *config;
	char *text = NULL;
	int rc;

	if ((rc = command_key(g)) != 0)
		return rc;
	fault_point("gw_before_bundle"); /* approved, nothing made yet */
	rc = store_gw_group_get(g->st, gw->group, &grp);
	if (rc != 0 && rc != ZTP_ENOENT)
		return rc;
	if ((config = json_loads(grp.config, 0, NULL)) == NULL || !json_is_object(config)) {
		json_decref(config);
		config = json_object();
	}
	if (crypto_random_password(est_pw) != 0 || crypto_random_password(mqtt_pw) != 0) {
		json_decref(config);
		return ZTP_ECRYPTO;
	}
	random_hex(bundle_id, STORE_GW_ID_HEX / 2);
	/* the one-time password; a group EST does not know is left out */
	rc = store_password_create(g->st, gw->udid, gw->group,
	    est_pw, clock_now_ms() + (int64_t)EST_PASSWORD_DAYS * 86400000, NULL);
	if (rc == ZTP_ENOENT)
		rc = store_password_create(g->st, gw->udid, "", est_pw,
		    clock_now_ms() + (int64_t)EST_PASSWORD_DAYS * 86400000, NULL);
	if (rc != 0) {
		json_decref(config);
		goto out;
	}
	if ((rc = account_create(g, gw->udid, mqtt_pw)) != 0) {
		json_decref(config);
		goto out;
	}
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
	    "v", 1, "udid", gw->udid, "state", "approved", "bundle_id", bundle_id, "est_url",
	    g->est_url, "est_ca", g->est_ca, "est_password", est_pw, "mqtt_url", g->mqtt_url,
	    "mqtt_ca", g->mqtt_ca, "mqtt_username", gw->udid, "mqtt_password", mqtt_pw,
	    "command_cert", g->cmd_pem, "group", gw->group, "config", config);
	if (o == NULL || (text = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		rc = ZTP_ENOMEM;
		goto out;
	}
	json_decref(o);
	rc = store_gw_bundle_put(g->st, gw->udid, bundle_id, (const uint8_t *)text, strlen(text),
	    clock_now_ms());
	if (rc != 0)
		goto out; /* rejected meanwhile: the account goes with the cut */
	events_record(g->st, EV_GW_BUNDLED, NULL, NULL,
	    "gateway %s: bundle %s, broker account created", gw->udid, bundle_id);
	fault_point("gw_bundle_kept"); /* kept, not published */
	topic_of(g, GWMSG_T_BUNDLE, gw->udid, topic, sizeof(topic));
	if ((rc = publish(g, topic, text, strlen(text))) == 0) {
		mosquitto_loop(g->mosq, 0, 1); /* out to the socket before the fault point */
		fault_point("gw_bundle_published"); /* published, not recorded as sent */
		rc = store_gw_answer_sent(g->st, gw->udid, clock_now_ms());
	}
out:
	if (text != NULL)
		OPENSSL_clear_free(text, strlen(text));
	OPENSSL_cleanse(est_pw, sizeof(est_pw));
	OPENSSL_cleanse(mqtt_pw, sizeof(mqtt_pw));
	return rc;
}

/* The answer kept for gw, published again (bundled), or its refusal. */
static int
send_answer(struct gwmqtt *g, const struct store_gateway *gw)
{
	char topic[200];
	uint8_t *buf = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc;

	topic_of(g, GWMSG_T_BUNDLE, gw->udid, topic, sizeof(topic));
	if (gw->state == STORE_GW_BUNDLED) {
		if ((buf = malloc(STORE_GW_BUNDLE_MAX)) == NULL)
			return ZTP_ENOMEM;
		rc = store_gw_bundle_get(g->st, gw->udid, buf, STORE_GW_BUNDLE_MAX, &len);
		if (rc == 0)
			rc = publish(g, topic, buf, len);
		OPENSSL_clear_free(buf, STORE_GW_BUNDLE_MAX);
	} else {
		rc = gwmsg_answer_refusal(gw->udid, gw->state == STORE_GW_REJECTED, gw->reason, &text,
		    &len);
		if (rc == 0)
			rc = publish(g, topic, text, len);
		free(text);
	}
	if (rc == 0)
		rc = store_gw_answer_sent(g->st, gw->udid, clock_now_ms());
	return rc;
}

struct gw_batch {
	struct store_gateway rows[WORK_BATCH];
	int n;
};

static int
collect(const struct store_gateway *gw, void *arg)
{
	struct gw_batch *b = arg;

	if (b->n < WORK_BATCH)
		b->rows[b->n++] = *gw;
	return 0;
}

static void
work_answers(struct gwmqtt *g)
{
	struct gw_batch *b = calloc(1, sizeof(*b));
	int i, rc;

	if (b == NULL || store_gw_work(g->st, WORK_BATCH, collect, b) != 0)
		goto out;
	for (i = 0; i < b->n && g->connected; i++) {
		if (b->rows[i].state == STORE_GW_APPROVED)
			rc = make_bundle(g, &b->rows[i]);
		else
			rc = send_answer(g, &b->rows[i]);
		if (rc != 0)
			log_warnx("mqtt: gateway %s: cannot answer (%s); trying again",
			    b->rows[i].udid, ztp_strerror(rc));
	}
out:
	free(b);
}

static void
work_cuts(struct gwmqtt *g)
{
	struct gw_batch *b = calloc(1, sizeof(*b));
	int i;

	if (b == NULL || store_gw_to_cut(g->st, WORK_BATCH, collect, b) != 0)
		goto out;
	for (i = 0; i < b->n && g->connected; i++) {
		if (account_simple(g, "disableClient", b->rows[i].udid, NULL) != 0)
			continue;
		if (store_gw_set_mqtt(g->st, b->rows[i].udid, STORE_GW_MQTT_CUT, clock_now_ms()) ==
		    0)
			events_record(g->st, EV_GW_CUT, NULL, NULL,
			    "gateway %s: broker account disabled, connection closed (%s)",
			    b->rows[i].udid, b->rows[i].state == STORE_GW_REJECTED ? "rejected" :
			    b->rows[i].state == STORE_GW_REFUSED ? "refused" :
			    "blocked or certificate revoked");
	}
out:
	free(b);
}

struct cmd_batch {
	struct store_gw_cmd *rows;
	int n;
};

static int
collect_cmd(const struct store_gw_cmd *c, void *arg)
{
	struct cmd_batch *b = arg;

	if (b->n < WORK_BATCH)
		b->rows[b->n++] = *c;
	return 0;
}

/* The arguments a command goes with: the operator's, and what ztpd adds. */
static char *
command_args(struct gwmqtt *g, const struct store_gw_cmd *c)
{
	struct store_gateway gw;
	struct store_gw_group grp;
	json_t *a = json_loads(c->args[0] ? c->args : "{}", 0, NULL), *cfg;
	char *out, pw[CRYPTO_PASSWORD_LEN + 1];

	if (!json_is_object(a)) {
		json_decref(a);
		a = json_object();
	}
	if (strcmp(c->name, "fetch-config") == 0 && store_gw_get(g->st, c->udid, &gw) == 0 &&
	    store_gw_group_get(g->st, gw.group, &grp) != ZTP_ESTORE &&
	    (cfg = json_loads(grp.config, 0, NULL)) != NULL)
		json_object_set_new(a, "config", cfg);
	if (strcmp(c->name, "rotate-mqtt") == 0) {
		/* the new password, kept sealed until the broker has it (work_rotations) */
		if (crypto_random_password(pw) != 0 ||
		    store_gw_cmd_secret_put(g->st, c->udid, c->id, pw) != 0) {
			json_decref(a);
			return NULL;
		}
		json_object_set_new(a, "password", json_string(pw));
		OPENSSL_cleanse(pw, sizeof(pw));
	}
	out = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return out;
}

static int
send_command(struct gwmqtt *g, const struct store_gw_cmd *c)
{
	uint8_t digest[32], sig[SIGNER_SIGNATURE_MAX];
	char topic[200], *args = NULL, *payload = NULL, *env = NULL;
	size_t plen = 0, slen = 0, elen = 0;
	int rc;

	if ((rc = command_key(g)) != 0)
		return rc;
	if ((args = command_args(g, c)) == NULL)
		return ZTP_ENOMEM;
	if ((rc = gwmsg_command_payload(c->udid, c->id, c->name, args, clock_now_ms(), &payload,
		 &plen)) != 0)
		goto out;
	SHA256((const uint8_t *)payload, plen, digest);
	if ((rc = signer_ztpca_sign_data(g->srv->signer, CMD_KEY_ID, g->cmd_cert, g->cmd_cert_len,
		 g->cmd_key, g->cmd_key_len, digest, sig, sizeof(sig), &slen)) != 0)
		goto out;
	if ((rc = gwmsg_command_envelope((const uint8_t *)payload, plen, sig, slen, &env,
		 &elen)) != 0)
		goto out;
	topic_of(g, GWMSG_T_CMD, c->udid, topic, sizeof(topic));
	if ((rc = publish(g, topic, env, elen)) != 0)
		goto out;
	if ((rc = store_gw_cmd_sent(g->st, c->udid, c->id, clock_now_ms())) == 0)
		events_record(g->st, EV_GW_COMMAND, NULL, NULL, "gateway %s command %lld %s sent",
		    c->udid, (long long)c->id, c->name);
out:
	if (args != NULL)
		OPENSSL_clear_free(args, strlen(args));
	if (payload != NULL)
		OPENSSL_clear_free(payload, plen);
	if (env != NULL)
		OPENSSL_clear_free(env, elen);
	return rc;
}

static void
work_commands(struct gwmqtt *g)
{
	struct cmd_batch b = { NULL, 0 };
	int i, rc;

	if ((b.rows = calloc(WORK_BATCH, sizeof(*b.rows))) == NULL)
		return;
	if (store_gw_cmd_queued(g->st, WORK_BATCH, collect_cmd, &b) == 0)
		for (i = 0; i < b.n && g->connected; i++)
			if ((rc = send_command(g, &b.rows[i])) != 0)
				log_warnx("mqtt: gateway %s: cannot send command %lld (%s)",
				    b.rows[i].udid, (long long)b.rows[i].id, ztp_strerror(rc));
	free(b.rows);
}

/* rotate-mqtt acknowledged: the broker takes the new password (and closes the old session). */
static void
work_rotations(struct gwmqtt *g)
{
	struct cmd_batch b = { NULL, 0 };
	char pw[STORE_PASSWORD_MAX + 1];
	int i;

	if ((b.rows = calloc(WORK_BATCH, sizeof(*b.rows))) == NULL)
		return;
	if (store_gw_rotations(g->st, WORK_BATCH, collect_cmd, &b) == 0)
		for (i = 0; i < b.n && g->connected; i++) {
			if (store_gw_cmd_secret_get(g->st, b.rows[i].udid, b.rows[i].id, pw,
				sizeof(pw)) != 0 ||
			    account_simple(g, "setClientPassword", b.rows[i].udid, pw) != 0)
				continue;
			if (store_gw_cmd_secret_put(g->st, b.rows[i].udid, b.rows[i].id, "") == 0)
				events_record(g->st, EV_GW_COMMAND, NULL, NULL,
				    "gateway %s: new broker password in force", b.rows[i].udid);
		}
	OPENSSL_cleanse(pw, sizeof(pw));
	free(b.rows);
}

static void
work(struct gwmqtt *g)
{
	work_answers(g);
	work_cuts(g);
	work_commands(g);
	work_rotations(g);
}

/* ---- the thread ---- */

/* The passphrase of DATA/server.key (made from the data key, datadir.h), for OpenSSL. */
static int
key_pass(char *buf, int size, int rwflag, void *userdata)
{
	/* libmosquitto passes itself, not its user data */
	struct gwmqtt *g = userdata != NULL ? mosquitto_userdata(userdata) : NULL;
	char pass[65];
	int n;

	(void)rwflag;
	if (g == NULL || datadir_pem_pass(g->srv->dd->key, pass) != 0)
		return 0;
	n = (int)strlen(pass);
	if (n >= size)
		n = 0;
	else
		memcpy(buf, pass, (size_t)n + 1);
	OPENSSL_cleanse(pass, sizeof(pass));
	return n;
}

static void *
run(void *arg)
{
	struct gwmqtt *g = arg;
	const struct config *cfg = g->srv->cfg;
	char host[256], cert[PATH_MAX], key[PATH_MAX];
	int port = 0, rc, backoff = 1, sock = 0;
	int64_t retry_at = 0;

	parse_url(cfg->mqtt, host, sizeof(host), &port);
	if (cfg->mqtt_cert[0] != '\0') {
		snprintf(cert, sizeof(cert), "%s", cfg->mqtt_cert);
		snprintf(key, sizeof(key), "%s", cfg->mqtt_key);
	} else {
		datadir_path(g->srv->dd, "server.pem", cert);
		datadir_path(g->srv->dd, "server.key", key);
	}
	mosquitto_user_data_set(g->mosq, g);
	mosquitto_connect_callback_set(g->mosq, on_connect);
	mosquitto_disconnect_callback_set(g->mosq, on_disconnect);
	mosquitto_message_callback_set(g->mosq, on_message);
	mosquitto_username_pw_set(g->mosq, cfg->mqtt_user, g->password);
	if ((rc = mosquitto_tls_set(g->mosq, cfg->mqtt_ca, NULL, cert, key,
		 cfg->mqtt_cert[0] != '\0' ? NULL : key_pass)) !=
	    MOSQ_ERR_SUCCESS)
		log_warnx("mqtt: TLS: %s", mosquitto_strerror(rc));
	mosquitto_int_option(g->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	/* small messages, one answer waited for at a time: no Nagle delay */
	mosquitto_int_option(g->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	while (!atomic_load(&g->stop)) {
		if (!sock) {
			if (clock_mono_ms() < retry_at) {
				usleep(TURN_MS * 1000);
				continue;
			}
			rc = mosquitto_connect(g->mosq, host, port, KEEPALIVE_S);
			if (rc != MOSQ_ERR_SUCCESS) {
				log_warnx("mqtt: cannot connect to %s:%d (%s%s%s); again in %d s", host,
				    port, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc),
				    rc == MOSQ_ERR_TLS ? ": " : "", rc == MOSQ_ERR_TLS ?
				    ERR_reason_error_string(ERR_peek_last_error()) : "", backoff);
				ERR_clear_error();
				retry_at = clock_mono_ms() + backoff * 1000;
				backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
				continue;
			}
			sock = 1; /* the CONNACK comes through the loop (on_connect) */
		}
		rc = mosquitto_loop(g->mosq, TURN_MS, 1);
		if (rc != MOSQ_ERR_SUCCESS) {
			if (!g->was_up) /* a loss on_disconnect did not tell */
				log_warnx("mqtt: cannot connect to the broker (%s%s%s); again in %d s",
			    mosquitto_strerror(rc),
			    rc == MOSQ_ERR_TLS ? ": " : "", rc == MOSQ_ERR_TLS ?
			    ERR_reason_error_string(ERR_peek_last_error()) : "", backoff);
			ERR_clear_error();
			g->connected = 0;
			g->was_up = 0;
			sock = 0;
			mosquitto_disconnect(g->mosq);
			retry_at = clock_mono_ms() + backoff * 1000;
			backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
			continue;
		}
		if (!g->connected)
			continue;
		backoff = 1;
		if (atomic_exchange(&g->kicked, 0) || clock_mono_ms() - g->last_scan >= SCAN_MS) {
			g->last_scan = clock_mono_ms();
			work(g);
		}
	}
	if (g->connected)
		mosquitto_disconnect(g->mosq);
	mosquitto_loop(g->mosq, TURN_MS, 1);
	return NULL;
}

int
gwmqtt_prepare(const struct config *cfg, struct gwmqtt **out)
{
	struct gwmqtt *g;
	char host[256], *pw, *nl;
	int port;

	*out = NULL;
	if (cfg->mqtt[0] == '\0')
		return 0;
	if (parse_url(cfg->mqtt, host, sizeof(host), &port) != 0) {
		log_warnx("--mqtt: expected mqtts://HOST:PORT");
		return ZTP_EINVAL;
	}
	if (cfg->mqtt_ca[0] == '\0' || cfg->mqtt_password_file[0] == '\0') {
		log_warnx("--mqtt needs --mqtt-ca and --mqtt-password-file");
		return ZTP_EINVAL;
	}
	if ((cfg->mqtt_cert[0] == '\0') != (cfg->mqtt_key[0] == '\0')) {
		log_warnx("--mqtt-cert and --mqtt-key go together");
		return ZTP_EINVAL;
	}
	if (strlen(cfg->mqtt_prefix) == 0 || strlen(cfg->mqtt_prefix) > GWMSG_PREFIX_MAX ||
	    strpbrk(cfg->mqtt_prefix, "+#/") != NULL) {
		log_warnx("--mqtt-prefix: 1..%d characters, no + # /", GWMSG_PREFIX_MAX);
		return ZTP_EINVAL;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return ZTP_ENOMEM;
	/* the password file may be root's: read before the front drops privileges */
	pw = read_file(cfg->mqtt_password_file, sizeof(g->password) - 1);
	if (pw == NULL) {
		log_warn("--mqtt-password-file %s", cfg->mqtt_password_file);
		free(g);
		return ZTP_EINVAL;
	}
	if ((nl = strpbrk(pw, "\r\n")) != NULL)
		*nl = '\0';
	snprintf(g->password, sizeof(g->password), "%s", pw);
	OPENSSL_clear_free(pw, strlen(pw));
	g->mqtt_ca = read_file(cfg->gw_mqtt_ca[0] ? cfg->gw_mqtt_ca : cfg->mqtt_ca, 65536);
	if (g->mqtt_ca == NULL) {
		log_warn("--mqtt: cannot read %s", cfg->gw_mqtt_ca[0] ? cfg->gw_mqtt_ca :
									 cfg->mqtt_ca);
		OPENSSL_cleanse(g->password, sizeof(g->password));
		free(g);
		return ZTP_EINVAL;
	}
	*out = g;
	return 0;
}

int
gwmqtt_start(struct gwmqtt *g, struct server *srv, const char *est_bound)
{
	const struct config *cfg = srv->cfg;
	char path[PATH_MAX];
	const char *colon;

	if (g == NULL)
		return 0;
	g->srv = srv;
	snprintf(g->prefix, sizeof(g->prefix), "%s", cfg->mqtt_prefix);
	snprintf(g->mqtt_url, sizeof(g->mqtt_url), "%s", cfg->gw_mqtt_url[0] ? cfg->gw_mqtt_url :
											 cfg->mqtt);
	if (cfg->gw_est_url[0] != '\0') {
		snprintf(g->est_url, sizeof(g->est_url), "%s", cfg->gw_est_url);
	} else if (est_bound != NULL && est_bound[0] != '\0') {
		colon = strrchr(est_bound, ':');
		if (!strncmp(est_bound, "0.0.0.0:", 8))
			snprintf(g->est_url, sizeof(g->est_url), "https://127.0.0.1%s", colon);
		else if (!strncmp(est_bound, "[::]:", 5))
			snprintf(g->est_url, sizeof(g->est_url), "https://[::1]%s", colon);
		else
			snprintf(g->est_url, sizeof(g->est_url), "https://%s", est_bound);
	} else {
		log_warnx("--mqtt: bundles need an EST server: --est-listen or --gateway-est-url");
		return ZTP_EINVAL;
	}
	datadir_path(srv->dd, "ca.pem", path);
	if ((g->est_ca = read_file(path, 65536)) == NULL) {
		log_warn("mqtt: %s", path);
		return ZTP_EINVAL;
	}
	server_store_target(srv, path, sizeof(path));
	if (store_open(&g->st, path, srv->dd->key) != 0) {
		log_warnx("mqtt: cannot open the store");
		return ZTP_EINVAL;
	}
	mosquitto_lib_init();
	g->lib = 1;
	if ((g->mosq = mosquitto_new(NULL, true, g)) == NULL) {
		log_warnx("mqtt: out of memory");
		return ZTP_ENOMEM;
	}
	atomic_store(&the_gw, g);
	if (pthread_create(&g->thread, NULL, run, g) != 0) {
		atomic_store(&the_gw, NULL);
		return ZTP_ENOMEM;
	}
	g->running = 1;
	log_info("mqtt: gateways through %s (topics %s/...), EST at %s", cfg->mqtt, g->prefix,
	    g->est_url);
	return 0;
}

void
gwmqtt_stop(struct gwmqtt *g)
{
	if (g == NULL)
		return;
	if (g->running) {
		atomic_store(&g->stop, 1);
		pthread_join(g->thread, NULL);
	}
	atomic_store(&the_gw, NULL);
	if (g->mosq != NULL)
		mosquitto_destroy(g->mosq);
	if (g->lib)
		mosquitto_lib_cleanup();
	store_close(g->st);
	X509_STORE_free(g->mfr);
	free(g->est_ca);
	free(g->mqtt_ca);
	free(g->cmd_pem);
	OPENSSL_cleanse(g->password, sizeof(g->password));
	OPENSSL_cleanse(g->cmd_key, sizeof(g->cmd_key));
	free(g);
}
