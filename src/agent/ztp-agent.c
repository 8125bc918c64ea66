/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-agent: a Linux gateway onboards itself over MQTT and EST and stays
 * operational (docs/gateways-agent.md; the messages:
 * docs/protocol/gateways.md). A foreground daemon: one line per event on
 * stderr, SIGTERM or SIGINT stops it cleanly.
 *
 * Its state lives in the state directory and nowhere else, so that a kill
 * at any point resumes where it was; the phase is derived from the files
 * each time, never kept apart from them:
 *
 *   PROVISION  no bundle.json. Connect to the provisioning listener with
 *              the LDevID (client id ztp-<udid>, clean session off),
 *              subscribe P/prov/<udid>/bundle, publish a request signed by
 *              the IDevID key, again after retry_s, doubling to 300 s.
 *              rejected/refused -> exit 4. An approval (not the bundle that
 *              was given up last) -> the key store's certificate, CA and
 *              key slots emptied (a new onboarding, a new key), then
 *              bundle.json written (0600) -> ENROL.
 *   ENROL      bundle.json, no usable certificate in keys/ (slot 10 for the
 *              key of slot 0, the UDID, under slot 11's CAs). EST with the
 *              bundle: mutual TLS with the LDevID and HTTP Basic with the
 *              UDID and est_password (enroll_run(): a key made by a run
 *              that was cut short is reused). Done -> OPERATE; refused ->
 *              the bundle given up -> PROVISION; else again after a back-off.
 *   OPERATE    bundle.json and a usable certificate. The renewal check (at
 *              start, then hourly), then the operational listener: the
 *              certificate and key of the key store, the bundle's user name
 *              and password; subscribe P/dev/<udid>/cmd, publish the status.
 *              Reconnects with a back-off (1 s doubling to 60 s). The broker
 *              refusing the credentials (CONNACK 4 or 5) or EST refusing the
 *              certificate as revoked -> the bundle given up -> PROVISION.
 *              A new certificate or MQTT password -> OPERATE again (a new
 *              connection with them).
 *
 * Giving a bundle up: its id goes to given-up-bundle (an answer with that
 * id is ignored from then on), bundle.json is removed, the key store's
 * slots are emptied (and again when the next bundle is accepted, in case
 * of a crash in between).
 *
 * Commands (OPERATE) are verified (agent_msg_parse_cmd(): the signature by
 * the bundle's command_cert, this UDID, an id above the one in cmd-id),
 * the id is kept in cmd-id before the command runs, and only then is it
 * run and answered. Anything else is logged and not answered.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <mosquitto.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "agent_conf.h"
#include "agent_msg.h"
#include "agent_state.h"
#include "agent_tls.h"
#include "atomicfile.h"
#include "enroll.h"
#include "hex.h"
#include "log.h"
#include "num.h"
#include "ztp/err.h"
#include "ztp/est.h"
#include "ztp/keystore.h"

#define EXIT_OK 0
#define EXIT_USAGE 2    /* the command line or the configuration */
#define EXIT_REJECTED 4 /* the operator rejected the request, or ztpd refused it */
#define EXIT_GAVE_UP 5  /* --once --max-wait: not operational in time */
#define EXIT_STATE 6    /* the state directory cannot be used */

#define KEEPALIVE_S 60
#define BACKOFF_MIN_S 1  /* reconnection: from this, doubling */
#define BACKOFF_MAX_S 60 /* to this */
#define RENEW_CHECK_S 3600
#define FLUSH_S 10       /* a result's PUBACK awaited at most this before a reconnect */
#define EST_MAX_WAIT_S 300
#define EST_TIMEOUT_S 30
#define TOPIC_MAX 192

enum phase { PH_PROVISION, PH_ENROL, PH_OPERATE, PH_EXIT };

struct agent {
	/* the command line */
	const char *dir;
	char conf_path[PATH_MAX];
	int once, verbose;
	uint64_t max_wait; /* s; 0: none */
	time_t started;
	struct agent_conf conf;

	/* names */
	char client_id[80];
	char t_req[TOPIC_MAX], t_bundle[TOPIC_MAX], t_status[TOPIC_MAX], t_cmd[TOPIC_MAX],
	    t_result[TOPIC_MAX];
	char p_bundle[PATH_MAX], p_cmdid[PATH_MAX], p_given_up[PATH_MAX], p_config[PATH_MAX],
	    p_keys[PATH_MAX];

	/* the factory's: LDevID (TLS client on provisioning and EST), IDevID (signs requests) */
	X509 *ldev;
	STACK_OF(X509) *ldev_chain;
	EVP_PKEY *ldev_key;
	EVP_PKEY *idev_key;
	uint8_t *ldev_pem, *idev_pem;
	char *batch_password;
	SSL_CTX *prov_ctx;

	/* the state directory's */
	struct agent_bundle bundle;
	int have_bundle;
	uint64_t last_cmd;
	char given_up[AGENT_BUNDLE_ID_LEN + 1];

	/* the connection of the phase */
	struct mosquitto *mosq;
	enum phase phase;
	int connecting, connected, subscribed;
	int sub_mid, status_mid, flush_mid;
	int refused;        /* the last CONNACK's code, 0 if none refused */
	time_t next_connect;
	uint32_t backoff;

	/* what the callbacks ask of the phase's loop */
	int exit_code;      /* >= 0: stop with it */
	int got_bundle;     /* PROVISION: a bundle was stored */
	int status_acked;   /* OPERATE: the broker has the status */
	int reconnect;      /* OPERATE: a new certificate or password: connect again */
	time_t reconnect_by;
	int give_up;        /* OPERATE: the certificate is revoked */
	int try_prev;       /* OPERATE: connect with the password before the last rotation */
	time_t next_renew;

	/* OPERATE: the certificate connected with */
	char serial[128];
	int64_t not_after;
};

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	stopping = 1;
}

static void
help_line(void *arg, const char *text)
{
	fprintf(arg, "%s\n", text);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ztp-agent --state DIR [--config FILE] [--once [--max-wait SECONDS]] [-v]\n"
	    "\n"
	    "The gateway's daemon: onboards over MQTT (a request signed with the IDevID,\n"
	    "from the LDevID's connection; the operator's bundle), enrols over EST, stays\n"
	    "connected to the operational broker, runs signed commands, renews its\n"
	    "certificate. In the foreground, logging to stderr; SIGTERM stops it.\n"
	    "\n"
	    "  --state DIR       the state directory: bundle.json, keys/ (the key store),\n"
	    "                    cmd-id, given-up-bundle, config.json\n"
	    "  --config FILE     the configuration (default DIR/agent.conf), key = value\n"
	    "  --once            exit 0 as soon as it is operational (the status published)\n"
	    "  --max-wait SECS   with --once: give up after SECS (exit 5)\n"
	    "  -v, --verbose     debug lines (libmosquitto's and the EST client's too)\n"
	    "\n"
	    "Configuration keys (paths relative to DIR):\n");
	agent_conf_help(help_line, f);
	fprintf(f, "%s",
	    "\n"
	    "Exit status:\n"
	    "  0  stopped by SIGTERM or SIGINT; --once: operational\n"
	    "  2  usage error, or the configuration or a file it names cannot be used\n"
	    "  4  the operator rejected the request, or ztpd refused it (not asked again)\n"
	    "  5  --once --max-wait: not operational in time\n"
	    "  6  the state directory cannot be used\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_warnx("%s (ztp-agent --help for the options)", line);
	return EXIT_USAGE;
}

/* ---- small helpers ---- */

static time_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* 1 if --once --max-wait is over */
static int
deadline_passed(const struct agent *a)
{
	return a->once && a->max_wait != 0 && (uint64_t)(now_s() - a->started) >= a->max_wait;
}

/* Sleep s seconds, less if stopping or past the deadline. */
static void
nap(const struct agent *a, uint32_t s)
{
	struct timespec ts;
	uint32_t i;

	for (i = 0; i < s * 5 && !stopping && !deadline_passed(a); i++) {
		ts.tv_sec = 0;
		ts.tv_nsec = 200 * 1000 * 1000;
		nanosleep(&ts, NULL);
	}
}

/* what a peer sent, fit for a log line */
static void
shown(const char *s, char *out, size_t cap)
{
	log_sanitize(s, strlen(s), out, cap);
}

static void
enroll_line(void *arg, const char *line)
{
	log_info("EST: %s", line);
}

static void
event_line(int severity, const char *line)
{
	log_debug("libevent: %s", line);
}

static void
mqtt_line(struct mosquitto *m, void *arg, int level, const char *line)
{
	log_debug("mqtt: %s", line);
}

/* ---- the state directory ---- */

/* Empty the key store's certificate, CA and key slots: a new onboarding. */
static int
keys_clear(struct agent *a)
{
	struct keystore *ks = NULL;
	char err[KEYSTORE_ERR_MAX];
	int rc;

	rc = keystore_file_open(a->p_keys, KEYSTORE_FILE_CREATE, &ks, err, sizeof(err));
	if (rc != 0) {
		log_warnx("key store %s: %s", a->p_keys, err);
		return rc;
	}
	if ((rc = keystore_erase(ks, KEYSTORE_SLOT_DEVICE_CERT)) != 0 ||
	    (rc = keystore_erase(ks, KEYSTORE_SLOT_CA_CERT)) != 0 ||
	    (rc = keystore_erase(ks, KEYSTORE_SLOT_DEVICE_KEY)) != 0)
		log_warnx("key store %s: %s", a->p_keys, keystore_error(ks));
	keystore_close(ks);
	return rc;
}

/* Store b as the bundle (bundle.json, 0600, whole or not at all). */
static int
bundle_write(struct agent *a, const struct agent_bundle *b)
{
	char *text = NULL, why[256];
	size_t len = 0;
	int rc;

	if ((rc = agent_bundle_dump(b, &text, &len)) != 0) {
		log_warnx("bundle: %s", ztp_strerror(rc));
		return rc;
	}
	rc = atomicfile_write(a->p_bundle, text, len, 0600, why, sizeof(why));
	OPENSSL_clear_free(text, len + 1);
	if (rc != 0)
		log_warnx("%s", why);
	return rc;
}

/* Give the bundle up (see the top of the file). Returns 0 or EXIT_STATE. */
static int
bundle_give_up(struct agent *a, const char *why_text)
{
	char why[256];

	log_info("giving up bundle %s (%s): asking for a new one", a->bundle.bundle_id, why_text);
	snprintf(a->given_up, sizeof(a->given_up), "%s", a->bundle.bundle_id);
	if (atomicfile_write(a->p_given_up, a->given_up, strlen(a->given_up), 0600, why,
	    sizeof(why)) != 0 || agent_file_remove(a->p_bundle, why, sizeof(why)) != 0) {
		log_warnx("%s", why);
		return EXIT_STATE;
	}
	agent_bundle_free(&a->bundle);
	a->have_bundle = 0;
	keys_clear(a); /* done again when the next bundle comes */
	return 0;
}

/*
 * The state directory as it is: the bundle (if any), the last command id,
 * the bundle given up. Returns 0 or EXIT_STATE.
 */
static int
state_load(struct agent *a)
{
	struct stat st;
	char *text = NULL, why[256];
	size_t len = 0;
	int rc;

	if (stat(a->dir, &st) != 0) {
		log_warn("state directory %s", a->dir);
		return EXIT_STATE;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("state directory %s: not a directory", a->dir);
		return EXIT_STATE;
	}
	if (access(a->dir, W_OK | X_OK) != 0) {
		log_warn("state directory %s", a->dir);
		return EXIT_STATE;
	}
	atomicfile_clean(a->p_bundle);
	atomicfile_clean(a->p_cmdid);
	atomicfile_clean(a->p_given_up);
	atomicfile_clean(a->p_config);
	if (agent_file_get_u64(a->p_cmdid, &a->last_cmd, why, sizeof(why)) != 0) {
		log_warnx("%s", why);
		return EXIT_STATE;
	}
	rc = agent_file_read(a->p_given_up, AGENT_BUNDLE_ID_LEN, &text, &len, why, sizeof(why));
	if (rc == 0) {
		snprintf(a->given_up, sizeof(a->given_up), "%s", text);
		free(text);
		text = NULL;
	} else if (rc != ZTP_ENOENT) {
		log_warnx("%s", why);
		return EXIT_STATE;
	}
	rc = agent_file_read(a->p_bundle, AGENT_MSG_MAX, &text, &len, why, sizeof(why));
	if (rc == ZTP_ENOENT)
		return 0;
	if (rc != 0) {
		log_warnx("%s", why);
		return EXIT_STATE;
	}
	rc = agent_msg_parse_answer((const uint8_t *)text, len, &a->bundle, why, sizeof(why));
	OPENSSL_clear_free(text, len + 1);
	if (rc != 0 || a->bundle.state != AGENT_ANSWER_APPROVED ||
	    strcmp(a->bundle.udid, a->conf.udid) != 0) {
		log_warnx("%s: %s (remove it to onboard again)", a->p_bundle, rc != 0 ? why :
		    "not an approval for this UDID");
		agent_bundle_free(&a->bundle);
		return EXIT_STATE;
	}
	a->have_bundle = 1;
	return 0;
}

/* ---- the connection of a phase ---- */

static void on_connect(struct mosquitto *m, void *arg, int rc);
static void on_disconnect(struct mosquitto *m, void *arg, int rc);
static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *qos);
static void on_publish(struct mosquitto *m, void *arg, int mid);
static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg);

/* A client for the phase with ctx (and user, password); connected by mqtt_step(). */
static int
mqtt_open(struct agent *a, SSL_CTX *ctx, const char *user, const char *password)
{
	a->connecting = a->connected = a->subscribed = 0;
	a->sub_mid = a->status_mid = a->flush_mid = -1;
	a->refused = 0;
	a->next_connect = 0;
	a->backoff = BACKOFF_MIN_S;
	if ((a->mosq = mosquitto_new(a->client_id, false, a)) == NULL) {
		log_warn("mosquitto_new");
		return EXIT_STATE;
	}
	if (mosquitto_int_option(a->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311) != 0 ||
	    mosquitto_int_option(a->mosq, MOSQ_OPT_TCP_NODELAY, 1) != 0 ||
	    mosquitto_void_option(a->mosq, MOSQ_OPT_SSL_CTX, ctx) != 0 ||
	    mosquitto_int_option(a->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0) != 0 ||
	    (user != NULL && mosquitto_username_pw_set(a->mosq, user, password) != 0)) {
		log_warnx("libmosquitto: cannot set the connection's options");
		return EXIT_STATE;
	}
	mosquitto_connect_callback_set(a->mosq, on_connect);
	mosquitto_disconnect_callback_set(a->mosq, on_disconnect);
	mosquitto_subscribe_callback_set(a->mosq, on_subscribe);
	mosquitto_publish_callback_set(a->mosq, on_publish);
	mosquitto_message_callback_set(a->mosq, on_message);
	if (a->verbose)
		mosquitto_log_callback_set(a->mosq, mqtt_line);
	return 0;
}

/* Disconnect (cleanly if connected) and free the client. */
static void
mqtt_close(struct agent *a)
{
	int i;

	if (a->mosq == NULL)
		return;
	if (a->connected) {
		mosquitto_disconnect(a->mosq);
		for (i = 0; i < 5 && mosquitto_want_write(a->mosq); i++)
			mosquitto_loop(a->mosq, 100, 1);
	}
	mosquitto_destroy(a->mosq);
	a->mosq = NULL;
	a->connecting = a->connected = a->subscribed = 0;
}

/* The connection is gone: the next attempt after the back-off. */
static void
mqtt_lost(struct agent *a)
{
	if (!a->connecting && !a->connected)
		return;
	a->connecting = a->connected = a->subscribed = 0;
	a->next_connect = now_s() + a->backoff;
	log_info("next connection attempt in %u s", (unsigned)a->backoff);
	a->backoff = a->backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : a->backoff * 2;
}

/* One turn: connect when it is time, else run libmosquitto for up to a second. */
static void
mqtt_step(struct agent *a, const struct agent_url *u, const char *url)
{
	int rc;

	if (!a->connecting && !a->connected) {
		if (now_s() < a->next_connect) {
			nap(a, 1);
			return;
		}
		log_info("connecting to %s", url);
		rc = a->next_connect == 0 ? mosquitto_connect_async(a->mosq, u->host, u->port,
		    KEEPALIVE_S) : mosquitto_reconnect_async(a->mosq);
		a->connecting = 1;
		if (rc != MOSQ_ERR_SUCCESS) {
			log_warnx("%s: %s", url, rc == MOSQ_ERR_ERRNO ? strerror(errno) :
			    mosquitto_strerror(rc));
			mqtt_lost(a);
			return;
		}
	}
	rc = mosquitto_loop(a->mosq, 1000, 1);
	if (rc != MOSQ_ERR_SUCCESS && (a->connecting || a->connected)) {
		if (a->refused == 0)
			log_warnx("%s: connection lost: %s", url, rc == MOSQ_ERR_ERRNO ?
			    strerror(errno) : mosquitto_strerror(rc));
		mqtt_lost(a);
	}
}

static void
on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct agent *a = arg;
	const char *topic = a->phase == PH_PROVISION ? a->t_bundle : a->t_cmd;

	a->connecting = 0;
	if (rc != 0) {
		a->refused = rc;
		log_warnx("the broker refused the connection: %s (CONNACK %d)",
		    mosquitto_connack_string(rc), rc);
		a->connected = 1; /* mqtt_lost() schedules the next attempt */
		mqtt_lost(a);
		return;
	}
	a->refused = 0;
	a->connected = 1;
	a->backoff = BACKOFF_MIN_S;
	log_info("connected as %s", a->client_id);
	if (a->phase == PH_OPERATE && a->bundle.mqtt_password_prev != NULL) {
		/* a rotated password: the one that worked stays */
		if (agent_bundle_settle_password(&a->bundle, !a->try_prev) != 0 ||
		    bundle_write(a, &a->bundle) != 0)
			a->exit_code = EXIT_STATE;
		else
			log_info("the %s MQTT password was accepted: it is kept", a->try_prev ?
			    "previous" : "new");
		a->try_prev = 0;
	}
	if ((rc = mosquitto_subscribe(m, &a->sub_mid, topic, 1)) != MOSQ_ERR_SUCCESS)
		log_warnx("subscribe %s: %s", topic, mosquitto_strerror(rc));
	if (a->phase == PH_OPERATE) {
		char *text = NULL;
		size_t len = 0;

		if (agent_msg_status(a->conf.udid, a->serial, a->conf.firmware, &text, &len) != 0 ||
		    (rc = mosquitto_publish(m, &a->status_mid, a->t_status, (int)len, text, 1,
		    false)) != MOSQ_ERR_SUCCESS)
			log_warnx("the status could not be published");
		free(text);
	}
}

static void
on_disconnect(struct mosquitto *m, void *arg, int rc)
{
	struct agent *a = arg;

	if (rc != 0 && a->connected && a->refused == 0)
		log_warnx("disconnected by the broker or the network");
	mqtt_lost(a);
}

static void
on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *qos)
{
	struct agent *a = arg;

	if (mid != a->sub_mid)
		return;
	if (n < 1 || qos[0] > 2) {
		log_warnx("the broker refused the subscription to %s",
		    a->phase == PH_PROVISION ? a->t_bundle : a->t_cmd);
		return;
	}
	a->subscribed = 1;
	log_debug("subscribed to %s", a->phase == PH_PROVISION ? a->t_bundle : a->t_cmd);
}

static void
on_publish(struct mosquitto *m, void *arg, int mid)
{
	struct agent *a = arg;

	if (mid == a->status_mid && !a->status_acked) {
		a->status_acked = 1;
		log_info("operational: status published on %s (serial %s)", a->t_status, a->serial);
	}
	if (mid == a->flush_mid)
		a->flush_mid = -1;
}

/* ---- PROVISION ---- */

/* Publish a request with a fresh nonce. */
static void
request_publish(struct agent *a)
{
	struct agent_req r;
	uint8_t raw[AGENT_NONCE_LEN / 2];
	char nonce[AGENT_NONCE_LEN + 1], *text = NULL, why[256];
	size_t len = 0;
	int rc, mid;

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		log_warnx("no random bytes for the nonce");
		return;
	}
	hex_encode(raw, sizeof(raw), nonce, sizeof(nonce));
	for (len = 0; nonce[len] != '\0'; len++)
		if (nonce[len] >= 'A' && nonce[len] <= 'F')
			nonce[len] = (char)(nonce[len] - 'A' + 'a');
	len = 0;
	memset(&r, 0, sizeof(r));
	r.udid = a->conf.udid;
	r.batch = a->conf.batch;
	r.password = a->batch_password;
	r.firmware = a->conf.firmware;
	r.ldevid = (const char *)a->ldev_pem;
	r.idevid = (const char *)a->idev_pem;
	r.nonce = nonce;
	r.idevid_key = a->idev_key;
	if (agent_msg_request(&r, &text, &len, why, sizeof(why)) != 0) {
		log_warnx("the request cannot be made: %s", why);
		a->exit_code = EXIT_USAGE;
		return;
	}
	rc = mosquitto_publish(a->mosq, &mid, a->t_req, (int)len, text, 1, false);
	OPENSSL_clear_free(text, len + 1);
	if (rc != MOSQ_ERR_SUCCESS)
		log_warnx("publish %s: %s", a->t_req, mosquitto_strerror(rc));
	else
		log_info("request published on %s (nonce %s)", a->t_req, nonce);
}

/* An answer on the bundle topic. */
static void
answer_handle(struct agent *a, const struct mosquitto_message *msg)
{
	struct agent_bundle b;
	char why[256] = "a negative length", text[AGENT_REASON_MAX * 4 + 8];

	if (msg->payloadlen < 0 || agent_msg_parse_answer(msg->payload, (size_t)msg->payloadlen,
	    &b, why, sizeof(why)) != 0) {
		log_warnx("ignored an answer on %s: %s", a->t_bundle, why);
		return;
	}
	if (strcmp(b.udid, a->conf.udid) != 0) {
		log_warnx("ignored an answer on %s: it is for another UDID", a->t_bundle);
		goto out;
	}
	if (b.state != AGENT_ANSWER_APPROVED) {
		shown(b.reason, text, sizeof(text));
		log_warnx("the request was %s: %s", b.state == AGENT_ANSWER_REJECTED ?
		    "rejected by the operator" : "refused by ztpd", text[0] != '\0' ? text :
		    "(no reason given)");
		a->exit_code = EXIT_REJECTED;
		goto out;
	}
	if (a->got_bundle || strcmp(b.bundle_id, a->given_up) == 0) {
		log_info("ignored bundle %s: %s", b.bundle_id, a->got_bundle ? "one is stored" :
		    "it was given up");
		goto out;
	}
	/* a new onboarding: nothing of an earlier one stays in the key store */
	if (keys_clear(a) != 0 || bundle_write(a, &b) != 0) {
		a->exit_code = EXIT_STATE;
		goto out;
	}
	shown(b.group, text, sizeof(text));
	log_info("approved: bundle %s stored (group \"%s\", EST %s, broker %s)", b.bundle_id, text,
	    b.est_url, b.mqtt_url);
	a->bundle = b;
	a->have_bundle = 1;
	a->got_bundle = 1;
	return;
out:
	agent_bundle_free(&b);
}

static enum phase
phase_provision(struct agent *a)
{
	time_t next_request = 0;
	int64_t retry = a->conf.retry_s;
	int rc;

	log_info("provisioning: asking for a bundle at %s", a->conf.prov_url);
	a->got_bundle = 0;
	if ((rc = mqtt_open(a, a->prov_ctx, NULL, NULL)) != 0) {
		a->exit_code = rc;
		goto out;
	}
	while (a->exit_code < 0 && !a->got_bundle) {
		if (stopping) {
			a->exit_code = EXIT_OK;
			break;
		}
		if (deadline_passed(a)) {
			log_warnx("--max-wait: no bundle in %llu s", (unsigned long long)a->max_wait);
			a->exit_code = EXIT_GAVE_UP;
			break;
		}
		mqtt_step(a, &a->conf.prov, a->conf.prov_url);
		if (a->subscribed && now_s() >= next_request && a->exit_code < 0 && !a->got_bundle) {
			request_publish(a);
			next_request = now_s() + retry;
			log_info("the request is repeated in %lld s if no answer comes",
			    (long long)retry);
			retry = retry * 2 > AGENT_RETRY_MAX ? AGENT_RETRY_MAX : retry * 2;
		}
	}
out:
	mqtt_close(a);
	return a->exit_code >= 0 ? PH_EXIT : PH_ENROL;
}

/* ---- ENROL and renewals ---- */

static void
enroll_opts_init(struct agent *a, struct enroll_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->server = a->bundle.est_url;
	o->ca = a->bundle.est_ca;
	o->store = a->p_keys;
	o->id = a->conf.udid;
	o->client_cert = a->ldev;
	o->client_key = a->ldev_key;
	o->client_chain = a->ldev_chain;
	o->password = a->bundle.est_password;
	o->renew_before = a->conf.renew_before_s;
	o->max_wait = EST_MAX_WAIT_S;
	o->timeout_s = EST_TIMEOUT_S;
	o->verbose = a->verbose;
	o->msg = enroll_line;
	o->cancel = &stopping;
}

static enum phase
phase_enrol(struct agent *a)
{
	struct enroll_opts o;
	struct enroll_outcome res;
	char t[32];
	int64_t backoff = a->conf.retry_s;
	int rc;

	log_info("enrolling at %s with bundle %s", a->bundle.est_url, a->bundle.bundle_id);
	for (;;) {
		if (stopping) {
			a->exit_code = EXIT_OK;
			return PH_EXIT;
		}
		if (deadline_passed(a)) {
			log_warnx("--max-wait: not enrolled in %llu s", (unsigned long long)a->max_wait);
			a->exit_code = EXIT_GAVE_UP;
			return PH_EXIT;
		}
		enroll_opts_init(a, &o);
		rc = enroll_run(&o, &res);
		switch (rc) {
		case ENROLL_DONE:
		case ENROLL_NOTHING:
			enroll_fmt_time(res.not_after, t, sizeof(t));
			log_info("%s: serial %s, valid until %s", rc == ENROLL_DONE ? "enrolled" :
			    "the certificate is valid", res.serial, t);
			a->next_renew = now_s() + RENEW_CHECK_S;
			return PH_OPERATE;
		case ENROLL_REFUSED:
		case ENROLL_USAGE:
			if ((a->exit_code = bundle_give_up(a, "EST refused the enrolment")) != 0)
				return PH_EXIT;
			a->exit_code = -1;
			return PH_PROVISION;
		case ENROLL_TEMP:
			log_info("enrolment failed for now: again in %lld s", (long long)backoff);
			nap(a, (uint32_t)backoff);
			backoff = backoff * 2 > AGENT_RETRY_MAX ? AGENT_RETRY_MAX : backoff * 2;
			break;
		default:
			a->exit_code = EXIT_STATE;
			return PH_EXIT;
		}
	}
}

enum renewal { RENEW_NONE, RENEW_NEW_CERT, RENEW_REVOKED, RENEW_FAILED };

/* The renewal check (force: a re-enrolment now); *res says more. */
static enum renewal
renewal(struct agent *a, int force, struct enroll_outcome *res)
{
	struct enroll_opts o;
	char t1[32], t2[32];
	int rc;

	enroll_opts_init(a, &o);
	o.force = force;
	if (force)
		o.max_wait = 0; /* a command is answered now, not after 202s */
	rc = enroll_run(&o, res);
	switch (rc) {
	case ENROLL_DONE:
		enroll_fmt_time(res->not_after, t1, sizeof(t1));
		log_info("%s: serial %s, valid until %s", res->renewed ? "renewed" : "enrolled",
		    res->serial, t1);
		return RENEW_NEW_CERT;
	case ENROLL_NOTHING:
		enroll_fmt_time(res->not_after, t1, sizeof(t1));
		enroll_fmt_time(res->due_at, t2, sizeof(t2));
		log_info("the certificate is valid until %s, renewal due %s", t1, t2);
		return RENEW_NONE;
	case ENROLL_REFUSED:
		if (res->revoked) {
			log_warnx("EST refused the certificate as revoked");
			return RENEW_REVOKED;
		}
		log_warnx("the renewal was refused");
		return RENEW_FAILED;
	case ENROLL_LOCAL:
		a->exit_code = EXIT_STATE;
		return RENEW_FAILED;
	default:
		log_warnx("the renewal failed for now");
		return RENEW_FAILED;
	}
}

/* ---- OPERATE: commands ---- */

/* Run cmd; *result (an object) or an error text into err. */
static void
cmd_run(struct agent *a, const struct agent_cmd *cmd, json_t **result, char *err, size_t cap)
{
	struct enroll_outcome res;
	char why[256], *text = NULL, *old = NULL;
	json_t *config;
	const char *pw;

	*result = NULL;
	if (strcmp(cmd->name, "status") == 0) {
		*result = json_pack("{s:s, s:I, s:s, s:s, s:s}", "serial", a->serial, "not_after",
		    (json_int_t)a->not_after, "firmware", a->conf.firmware != NULL ?
		    a->conf.firmware : "", "bundle_id", a->bundle.bundle_id, "group", a->bundle.group);
	} else if (strcmp(cmd->name, "fetch-config") == 0) {
		if (agent_cmd_config(cmd, &config, why, sizeof(why)) != 0) {
			snprintf(err, cap, "bad arguments: %s", why);
			return;
		}
		text = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);
		if (text == NULL || atomicfile_write(a->p_config, text, strlen(text), 0600, why,
		    sizeof(why)) != 0) {
			snprintf(err, cap, "the configuration could not be stored");
			if (text != NULL)
				log_warnx("%s", why);
		} else {
			log_info("configuration stored in %s (%zu bytes)", a->p_config, strlen(text));
			*result = json_pack("{s:I}", "bytes", (json_int_t)strlen(text));
		}
		free(text);
	} else if (strcmp(cmd->name, "reenroll") == 0) {
		switch (renewal(a, 1, &res)) {
		case RENEW_NEW_CERT:
			*result = json_pack("{s:s, s:I}", "serial", res.serial, "not_after",
			    (json_int_t)res.not_after);
			a->reconnect = 1;
			break;
		case RENEW_REVOKED:
			snprintf(err, cap, "the certificate is revoked: onboarding again");
			a->give_up = 1;
			break;
		default:
			snprintf(err, cap, "re-enrolment failed: %s%s%s", res.res.why[0] != '\0' ?
			    res.res.why : "see the gateway's log", res.res.reason[0] != '\0' ? ": " :
			    "", res.res.reason);
		}
	} else if (strcmp(cmd->name, "rotate-mqtt") == 0) {
		if (agent_cmd_password(cmd, &pw, why, sizeof(why)) != 0) {
			snprintf(err, cap, "bad arguments: %s", why);
			return;
		}
		if ((old = strdup(a->bundle.mqtt_password)) == NULL ||
		    agent_bundle_set_mqtt_password(&a->bundle, pw, 1) != 0) {
			snprintf(err, cap, "out of memory");
		} else if (bundle_write(a, &a->bundle) != 0) {
			agent_bundle_set_mqtt_password(&a->bundle, old, 0);
			snprintf(err, cap, "the new password could not be stored");
		} else {
			/*
			 * Used from the next connection on: the broker closes this one
			 * when ztpd sets the password (Mosquitto's dynamic security
			 * does), and if it refuses the new one, the previous one is
			 * tried before the bundle is given up.
			 */
			log_info("MQTT password replaced: the next connection uses it");
			if (mosquitto_username_pw_set(a->mosq, a->bundle.mqtt_username,
			    a->bundle.mqtt_password) != MOSQ_ERR_SUCCESS)
				a->reconnect = 1; /* a new client, with the new password */
			*result = json_object();
		}
		if (old != NULL)
			OPENSSL_clear_free(old, strlen(old));
	} else {
		snprintf(err, cap, "unknown command %s", cmd->name);
		return;
	}
	if (*result == NULL && err[0] == '\0')
		snprintf(err, cap, "out of memory");
}

/* A message on the command topic. */
static void
cmd_handle(struct agent *a, const struct mosquitto_message *msg)
{
	struct agent_cmd cmd;
	json_t *result = NULL;
	char why[256], err[AGENT_ERROR_MAX + 1] = "", name[AGENT_NAME_MAX * 4 + 8], *text = NULL;
	size_t len = 0;
	int rc, mid;

	rc = msg->payloadlen < 0 ? ZTP_EMALFORMED : agent_msg_parse_cmd(msg->payload,
	    (size_t)msg->payloadlen, a->bundle.command_key, a->conf.udid, a->last_cmd, &cmd, why,
	    sizeof(why));
	if (rc != 0) {
		log_warnx("refused a command on %s, not answered: %s", a->t_cmd, why);
		return;
	}
	/* the id is kept before the command runs: a crash cannot make it run twice */
	if (agent_file_put_u64(a->p_cmdid, cmd.id, why, sizeof(why)) != 0) {
		log_warnx("command %llu not run: its id cannot be kept: %s",
		    (unsigned long long)cmd.id, why);
		a->exit_code = EXIT_STATE;
		goto out;
	}
	a->last_cmd = cmd.id;
	shown(cmd.name, name, sizeof(name));
	log_info("command %llu: %s", (unsigned long long)cmd.id, name);
	cmd_run(a, &cmd, &result, err, sizeof(err));
	rc = agent_msg_result(a->conf.udid, cmd.id, err[0] == '\0' ? result : NULL,
	    err[0] == '\0' ? NULL : err, &text, &len);
	if (rc == ZTP_ETOOBIG)
		rc = agent_msg_result(a->conf.udid, cmd.id, NULL, "the result is too large", &text,
		    &len);
	if (rc != 0 || mosquitto_publish(a->mosq, &mid, a->t_result, (int)len, text, 1,
	    false) != MOSQ_ERR_SUCCESS) {
		log_warnx("the result of command %llu could not be published",
		    (unsigned long long)cmd.id);
	} else {
		a->flush_mid = mid;
		log_info("command %llu: %s", (unsigned long long)cmd.id, err[0] == '\0' ? "done" :
		    err);
	}
	if (a->reconnect || a->give_up)
		a->reconnect_by = now_s() + FLUSH_S;
out:
	free(text);
	json_decref(result);
	agent_cmd_free(&cmd);
}

static void
on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct agent *a = arg;

	if (a->phase == PH_PROVISION && strcmp(msg->topic, a->t_bundle) == 0)
		answer_handle(a, msg);
	else if (a->phase == PH_OPERATE && strcmp(msg->topic, a->t_cmd) == 0)
		cmd_handle(a, msg);
	else
		log_debug("ignored a message on another topic");
}

/* ---- OPERATE ---- */

static enum phase
phase_operate(struct agent *a)
{
	struct keystore *ks = NULL;
	struct enroll_outcome res;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	SSL_CTX *ctx = NULL;
	char why[256], err[KEYSTORE_ERR_MAX];
	int64_t nb;
	enum phase next = PH_EXIT;
	enum renewal r;
	int rc;

	a->reconnect = a->give_up = a->status_acked = 0;
	if (now_s() >= a->next_renew) {
		r = renewal(a, 0, &res);
		a->next_renew = now_s() + (r == RENEW_FAILED ? a->conf.retry_s * 4 : RENEW_CHECK_S);
		if (a->exit_code >= 0)
			return PH_EXIT;
		if (r == RENEW_REVOKED)
			goto give_up;
	}
	/* the certificate and key of the key store */
	if (keystore_file_open(a->p_keys, 0, &ks, err, sizeof(err)) != 0) {
		log_warnx("key store %s: %s", a->p_keys, err);
		return PH_ENROL;
	}
	if (enroll_cert_usable(ks, a->conf.udid, (int64_t)time(NULL), NULL, why,
	    sizeof(why)) != 0) {
		log_info("the certificate cannot be used (%s): enrolling", why);
		keystore_close(ks);
		return PH_ENROL;
	}
	rc = est_identity_from_keystore(ks, &cert, &key, why, sizeof(why));
	keystore_close(ks);
	if (rc != 0) {
		log_warnx("%s", why);
		a->exit_code = EXIT_STATE;
		return PH_EXIT;
	}
	enroll_fmt_serial(cert, a->serial, sizeof(a->serial));
	if (est_cert_times(cert, &nb, &a->not_after) != 0)
		a->not_after = 0;
	ctx = agent_tls_ctx(a->bundle.mqtt.host, a->bundle.mqtt.is_ip, NULL, a->bundle.mqtt_ca,
	    cert, NULL, key, why, sizeof(why));
	X509_free(cert);
	EVP_PKEY_free(key);
	if (ctx == NULL) {
		log_warnx("the operational broker's TLS: %s", why);
		if ((a->exit_code = bundle_give_up(a, "its broker cannot be used")) != 0)
			return PH_EXIT;
		a->exit_code = -1;
		return PH_PROVISION;
	}
	log_info("operational broker %s, serial %s", a->bundle.mqtt_url, a->serial);
	rc = mqtt_open(a, ctx, a->bundle.mqtt_username, a->try_prev ?
	    a->bundle.mqtt_password_prev : a->bundle.mqtt_password);
	SSL_CTX_free(ctx);
	if (rc != 0) {
		a->exit_code = rc;
		goto out;
	}
	for (;;) {
		if (stopping) {
			a->exit_code = EXIT_OK;
			break;
		}
		if (a->exit_code >= 0)
			break;
		if (a->once && a->status_acked) {
			a->exit_code = EXIT_OK;
			break;
		}
		if (deadline_passed(a)) {
			log_warnx("--max-wait: not operational in %llu s",
			    (unsigned long long)a->max_wait);
			a->exit_code = EXIT_GAVE_UP;
			break;
		}
		if (a->refused == 4 || a->refused == 5) {
			mqtt_close(a);
			if (a->bundle.mqtt_password_prev != NULL && !a->try_prev) {
				log_info("the new MQTT password was refused: trying the previous one");
				a->try_prev = 1;
				next = PH_OPERATE;
				break;
			}
			a->try_prev = 0;
			goto give_up;
		}
		if ((a->reconnect || a->give_up) && (a->flush_mid < 0 || now_s() >= a->reconnect_by)) {
			mqtt_close(a);
			if (a->give_up)
				goto give_up;
			next = PH_OPERATE;
			break;
		}
		if (now_s() >= a->next_renew) {
			r = renewal(a, 0, &res);
			a->next_renew = now_s() + (r == RENEW_FAILED ? a->conf.retry_s * 4 :
			    RENEW_CHECK_S);
			if (r == RENEW_REVOKED) {
				mqtt_close(a);
				goto give_up;
			}
			if (r == RENEW_NEW_CERT) {
				next = PH_OPERATE;
				break;
			}
			continue;
		}
		mqtt_step(a, &a->bundle.mqtt, a->bundle.mqtt_url);
	}
out:
	mqtt_close(a);
	return a->exit_code >= 0 ? PH_EXIT : next;
give_up:
	mqtt_close(a);
	if ((a->exit_code = bundle_give_up(a, a->refused != 0 ? "the operational broker refused "
	    "its credentials" : "the certificate is revoked")) != 0)
		return PH_EXIT;
	a->exit_code = -1;
	return PH_PROVISION;
}

/* ---- start ---- */

/* A PEM text of cert and chain, at most AGENT_PEM_MAX bytes (the request's). */
static int
pem_of(X509 *cert, STACK_OF(X509) *chain, uint8_t **out)
{
	STACK_OF(X509) *all = sk_X509_new_null();
	size_t len = 0;
	int i, rc = ZTP_ENOMEM;

	*out = NULL;
	if (all == NULL || sk_X509_push(all, cert) <= 0)
		goto out;
	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++)
		if (sk_X509_push(all, sk_X509_value(chain, i)) <= 0)
			goto out;
	if ((rc = est_certs_pem(all, out, &len)) == 0 && len > AGENT_PEM_MAX) {
		free(*out);
		*out = NULL;
		rc = ZTP_ETOOBIG;
	}
out:
	sk_X509_free(all); /* the certificates are not its own */
	return rc;
}

/* The factory's identities and secrets, from the files the configuration names. */
static int
identities_load(struct agent *a)
{
	X509 *idev = NULL;
	STACK_OF(X509) *idev_chain = NULL;
	struct stat st;
	char why[EST_WHY_MAX];
	int loose = 0, rc = EXIT_USAGE;

	if (est_identity_from_files(a->conf.ldevid_cert, a->conf.ldevid_key, &a->ldev,
	    &a->ldev_chain, &a->ldev_key, why, sizeof(why)) != 0) {
		log_warnx("LDevID: %s", why);
		goto out;
	}
	if (est_identity_from_files(a->conf.idevid_cert, a->conf.idevid_key, &idev, &idev_chain,
	    &a->idev_key, why, sizeof(why)) != 0) {
		log_warnx("IDevID: %s", why);
		goto out;
	}
	if (!EVP_PKEY_is_a(a->idev_key, "EC") && !EVP_PKEY_is_a(a->idev_key, "RSA")) {
		log_warnx("IDevID: the key must be EC or RSA");
		goto out;
	}
	if (pem_of(a->ldev, a->ldev_chain, &a->ldev_pem) != 0 ||
	    pem_of(idev, idev_chain, &a->idev_pem) != 0) {
		log_warnx("the LDevID and the IDevID must be at most %d bytes of PEM each",
		    AGENT_PEM_MAX);
		goto out;
	}
	if (a->conf.batch_password != NULL) {
		if ((a->batch_password = strdup(a->conf.batch_password)) == NULL) {
			log_warnx("out of memory");
			goto out;
		}
		loose = stat(a->conf_path, &st) == 0 && (st.st_mode & 077) != 0;
	} else if (agent_file_secret(a->conf.batch_password_file, AGENT_SECRET_MAX,
	    &a->batch_password, &loose, why, sizeof(why)) != 0) {
		log_warnx("batch_password_file: %s", why);
		goto out;
	}
	if (loose)
		log_warnx("warning: %s can be read by other users (chmod 600)",
		    a->conf.batch_password != NULL ? a->conf_path : a->conf.batch_password_file);
	a->prov_ctx = agent_tls_ctx(a->conf.prov.host, a->conf.prov.is_ip, a->conf.prov_ca, NULL,
	    a->ldev, a->ldev_chain, a->ldev_key, why, sizeof(why));
	if (a->prov_ctx == NULL) {
		log_warnx("prov_ca %s: %s", a->conf.prov_ca, why);
		goto out;
	}
	rc = 0;
out:
	X509_free(idev);
	sk_X509_pop_free(idev_chain, X509_free);
	return rc;
}

/* dir/name into out (PATH_MAX), or -1 if it does not fit */
static int
path_in(char *out, const char *dir, const char *name)
{
	return snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX ? -1 : 0;
}

static int
names_init(struct agent *a)
{
	const char *p = a->conf.prefix, *u = a->conf.udid;

	snprintf(a->client_id, sizeof(a->client_id), "ztp-%s", u);
	snprintf(a->t_req, TOPIC_MAX, "%s/prov/%s/req", p, u);
	snprintf(a->t_bundle, TOPIC_MAX, "%s/prov/%s/bundle", p, u);
	snprintf(a->t_status, TOPIC_MAX, "%s/dev/%s/status", p, u);
	snprintf(a->t_cmd, TOPIC_MAX, "%s/dev/%s/cmd", p, u);
	snprintf(a->t_result, TOPIC_MAX, "%s/dev/%s/result", p, u);
	if (path_in(a->p_bundle, a->dir, "bundle.json") != 0 ||
	    path_in(a->p_cmdid, a->dir, "cmd-id") != 0 ||
	    path_in(a->p_given_up, a->dir, "given-up-bundle") != 0 ||
	    path_in(a->p_config, a->dir, "config.json") != 0 ||
	    path_in(a->p_keys, a->dir, "keys") != 0)
		return usage_error("--state %s: the path is too long", a->dir);
	return 0;
}

static int
parse_args(int argc, char **argv, struct agent *a)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, '1' },
		{ "max-wait", required_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->dir = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case '1':
			a->once = 1;
			break;
		case 'w':
			if (num_parse_u64z(optarg, 1, 86400 * 365, &a->max_wait) != 0)
				return usage_error("invalid --max-wait '%s': seconds from 1 to %d expected",
				    optarg, 86400 * 365);
			break;
		case 'v':
			a->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (a->dir == NULL || a->dir[0] == '\0')
		return usage_error("--state DIR is required");
	if (a->max_wait != 0 && !a->once)
		return usage_error("--max-wait goes with --once");
	if (config != NULL)
		snprintf(a->conf_path, sizeof(a->conf_path), "%s", config);
	else if (path_in(a->conf_path, a->dir, "agent.conf") != 0)
		return usage_error("--state %s: the path is too long", a->dir);
	return 0;
}

int
main(int argc, char **argv)
{
	struct agent a;
	struct sigaction sa;
	char why[512];
	const char *names[] = { "provision", "enrol", "operate" };
	enum phase ph;
	int rc;

	memset(&a, 0, sizeof(a));
	a.exit_code = -1;
	a.started = now_s();
	log_init("ztp-agent", LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
	if ((rc = parse_args(argc, argv, &a)) != 0)
		return rc;
	if (a.verbose)
		log_set_level(LOG_LEVEL_DEBUG);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: waits end at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	event_set_log_callback(event_line);

	if (agent_conf_load(a.conf_path, a.dir, &a.conf, why, sizeof(why)) != 0) {
		rc = usage_error("configuration %s: %s", a.conf_path, why);
		goto out;
	}
	if ((rc = names_init(&a)) != 0 || (rc = identities_load(&a)) != 0)
		goto out;
	if ((rc = state_load(&a)) != 0)
		goto out;
	mosquitto_lib_init();
	/* OPERATE finds out whether the certificate is usable, and goes to ENROL if not */
	ph = !a.have_bundle ? PH_PROVISION : PH_OPERATE;
	log_info("%s: state %s, starting with %s", a.conf.udid, a.dir,
	    a.have_bundle ? "the stored bundle" : "provisioning");
	while (ph != PH_EXIT) {
		a.phase = ph;
		log_debug("phase %s", names[ph]);
		switch (ph) {
		case PH_PROVISION:
			ph = phase_provision(&a);
			break;
		case PH_ENROL:
			ph = phase_enrol(&a);
			break;
		case PH_OPERATE:
			ph = phase_operate(&a);
			break;
		case PH_EXIT:
			break;
		}
	}
	rc = a.exit_code >= 0 ? a.exit_code : EXIT_STATE;
	if (rc == EXIT_OK && stopping)
		log_info("stopped");
	mosquitto_lib_cleanup();
out:
	agent_bundle_free(&a.bundle);
	agent_conf_free(&a.conf);
	X509_free(a.ldev);
	sk_X509_pop_free(a.ldev_chain, X509_free);
	EVP_PKEY_free(a.ldev_key);
	EVP_PKEY_free(a.idev_key);
	free(a.ldev_pem);
	free(a.idev_pem);
	SSL_CTX_free(a.prov_ctx);
	if (a.batch_password != NULL)
		OPENSSL_clear_free(a.batch_password, strlen(a.batch_password));
	return rc;
}
