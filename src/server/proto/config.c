/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpd's options as one table, config_opts[]: each entry names the long
 * option (and config-file key), how its value is read, the field of
 * struct config it goes to, its bounds, default and help. The getopt
 * table, the config-file parser, config_defaults(), the bound checks with
 * their messages and --help are all derived from it, so a new option is
 * one line of the table.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "num.h"
#include "store.h"
#include "ztp/err.h"

#define ZTPD_VERSION "0.1.0"

/* int-valued types store through an int; the enum fields must be one */
_Static_assert(sizeof(enum log_format) == sizeof(int), "log_format is stored as an int");
_Static_assert(sizeof(enum log_level) == sizeof(int), "log_level is stored as an int");

/* offset and size of a field of struct config */
#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define NO_FIELD 0, 0

static const struct config_name log_formats[] = {
	{ "text", LOG_FORMAT_TEXT },
	{ "json", LOG_FORMAT_JSON },
	{ NULL, 0 },
};

static const struct config_name log_levels[] = {
	{ "debug", LOG_LEVEL_DEBUG },
	{ "info", LOG_LEVEL_INFO },
	{ "warn", LOG_LEVEL_WARN },
	{ NULL, 0 },
};

static const struct config_name est_auths[] = {
	{ "allowlist", STORE_EST_ALLOWLIST },
	{ "password", STORE_EST_PASSWORD },
	{ "manufacturer", STORE_EST_MANUFACTURER },
	{ NULL, 0 },
};

static const struct config_name children[] = {
	{ "front", 0 },
	{ "signer", 0 },
	{ NULL, 0 },
};

#define S_GATEWAYS "Gateways over MQTT (see docs/gateways.md):"
#define S_CERTS "Certificates (EST, RFC 7030; see docs/certificates.md):"
#define S_MIGRATE "Migration (ztpd migrate: copy a store into another, ztpd stopped, and exit; " \
	"docs/migrate.md):"
#define S_PROXY "Proxy mode (device requests forwarded to the customer's server; docs/proxy.md):"
#define S_NODES "A node for a shared store (ztpd export-node, ztpd join; docs/node-bundle.md):"

const struct config_opt config_opts[] = {
	/* name, type, field, min, max, default, names, flags, arg, help, section */
	{ "data", CONFIG_STRING, FIELD(data), 0, 0, "ztp-data", NULL, CONFIG_EARLY, "DIR",
	    "data directory (default ztp-data); created with the database, CA, server "
	    "certificate, data key and DIR/admin.json at first start", NULL },
	{ "store", CONFIG_STRING, FIELD(store), 0, 0, NULL, NULL, 0, "URL",
	    "the store: sqlite:FILE (default sqlite:DIR/ztp.db) or postgresql://USER@HOST/DB "
	    "for several ztpd on one database (password from PGPASSFILE or passfile=, never "
	    "in the URL; docs/scale-out.md)", NULL },
	{ "store-connections", CONFIG_INT, FIELD(store_connections), 1, 256, "8", NULL, 0, "N",
	    "PostgreSQL: connections per worker for work that waits on the database, each "
	    "with its coroutine, besides the worker's own (default 8; SQLite: unused)", NULL },
	{ "config", CONFIG_FILE, NO_FIELD, 0, 0, NULL, NULL, CONFIG_CLI_ONLY, "FILE",
	    "read options from FILE (key = value, the long option names without --); "
	    "DIR/ztpd.conf is read if it exists; the command line wins", NULL },
	{ "device-listen", CONFIG_LISTEN, FIELD(device_listen), 0, 0, "0.0.0.0:11111", NULL, 0,
	    "ADDR:PORT", "device endpoint, TLS 1.3 PSK (default 0.0.0.0:11111; 'off' disables; "
	    "port 0: any)", NULL },
	{ "admin-listen", CONFIG_LISTEN, FIELD(admin_listen), 0, 0, "127.0.0.1:11443", NULL, 0,
	    "ADDR:PORT", "admin API, HTTPS (default 127.0.0.1:11443)", NULL },
	{ "workers", CONFIG_INT, FIELD(workers), 1, 64, NULL, NULL, CONFIG_DEF_CORES, "N",
	    "worker threads (default: number of cores)", NULL },
	{ "log-format", CONFIG_ENUM, FIELD(log_format), 0, 0, "text", log_formats, 0, NULL,
	    "log line format (default text)", NULL },
	{ "log-level", CONFIG_ENUM, FIELD(log_level), 0, 0, "info", log_levels, 0, NULL,
	    "lowest level logged (default info)", NULL },
	{ "allow-psk-ke", CONFIG_BOOL, FIELD(allow_psk_ke), 0, 1, NULL, NULL, 0, NULL,
	    "also accept psk_ke (PSK without (EC)DHE), as SIMs need; psk_dhe_ke is always "
	    "accepted", NULL },
	{ "device-cert-auth", CONFIG_BOOL, FIELD(device_cert_auth), 0, 1, NULL, NULL, 0, NULL,
	    "on the device listener, also accept devices with a certificate ztp issued (mutual "
	    "TLS, the certificate's device acting for its SIM) besides PSKs (default off; "
	    "docs/device-endpoint.md)", NULL },
	{ "token-ttl", CONFIG_INT, FIELD(token_ttl), 1, 86400 * 30, "3600", NULL, 0, "SECONDS",
	    "admin token lifetime (default 3600)", NULL },
	{ "request-timeout", CONFIG_INT, FIELD(request_timeout), 1, 3600, "10", NULL, 0, "SECONDS",
	    "time for the handshake and each complete request (default 10)", NULL },
	{ "idle-timeout", CONFIG_INT, FIELD(idle_timeout), 1, 3600, "30", NULL, 0, "SECONDS",
	    "read/write inactivity limit (default 30)", NULL },
	{ "max-connections", CONFIG_INT, FIELD(max_connections), 1, 1000000, "1024", NULL, 0, "N",
	    "open connections per listener and worker (default 1024); when a listener is full "
	    "its oldest unauthenticated connection is closed, or it pauses", NULL },
	{ "handshake-timeout", CONFIG_INT, FIELD(handshake_timeout), 1, 600, "5", NULL, 0,
	    "SECONDS", "time from accept to a finished TLS handshake (default 5)", NULL },
	{ "max-handshakes-per-peer", CONFIG_INT, FIELD(max_handshakes_per_peer), 1, 1000000, "64",
	    NULL, 0, "N", "unfinished TLS handshakes one address (IPv6: one /64) may hold per "
	    "listener and worker; more are closed at once (default 64)", NULL },
	{ "max-failed-handshakes", CONFIG_INT, FIELD(max_failed_handshakes), 0, 1000000, "100",
	    NULL, 0, "N", "refused TLS handshakes one address may cause per minute, listener and "
	    "worker; then its connections are closed at once until the minute is over "
	    "(default 100; 0: no limit)", NULL },
	{ "max-header-size", CONFIG_INT, FIELD(max_header_size), 1024, 65536, "8192", NULL, 0,
	    "BYTES", "request line and headers (default 8192)", NULL },
	{ "event-window", CONFIG_INT, FIELD(event_window), 1, 86400, "60", NULL, 0, "SECONDS",
	    "repeats of one event (kind, peer address, ICCID) within this window are one row "
	    "with a count (default 60)", NULL },
	{ "event-rate", CONFIG_INT, FIELD(event_rate), 1, 1000000, "20", NULL, 0, "N",
	    "new event rows per peer address and window, per worker; beyond it the events are "
	    "counted in one events_suppressed row (default 20)", NULL },
	{ "retain-events", CONFIG_INT, FIELD(retain_events), 0, 36500, "90", NULL, 0, "DAYS",
	    "delete events older than this, in the background (default 90; 0 keeps them)", NULL },
	{ "retain-telemetry", CONFIG_INT, FIELD(retain_telemetry), 0, 36500, "30", NULL, 0, "DAYS",
	    "delete telemetry older than this, in the background (default 30; 0 keeps it)", NULL },
	{ "user", CONFIG_STRING, FIELD(user), 0, 0, "ztp", NULL, 0, "NAME",
	    "started as root, run the front and the signer as this user (default ztp); "
	    "'root' keeps root, explicitly", NULL },
	{ "child", CONFIG_WORD, FIELD(child), 0, 0, NULL, children, CONFIG_CLI_ONLY | CONFIG_HIDDEN,
	    NULL, "internal: the parent execs its children with it", NULL },
	{ "est-listen", CONFIG_LISTEN, FIELD(est_listen), 0, 0, "off", NULL, 0, "ADDR:PORT",
	    "EST endpoint, TLS 1.2/1.3 with the server certificate, optional client "
	    "certificates (default off)", S_CERTS },
	{ "est-auth", CONFIG_SET, FIELD(est_auth), 0, 0, "allowlist,password,manufacturer",
	    est_auths, 0, "LIST", "how devices of no group with its own policy may enrol, any of "
	    "allowlist,password,manufacturer (default allowlist,password,manufacturer)", NULL },
	{ "cert-days", CONFIG_INT, FIELD(cert_days), 1, 7300, "365", NULL, 0, "N",
	    "validity of device certificates (default 365)", NULL },
	{ "reenroll-grace", CONFIG_INT, FIELD(reenroll_grace), 0, 5 * 366 * 86400, "2592000", NULL,
	    0, "SECONDS", "re-enrolment allowed this long after expiry (default 2592000, 30 days)",
	    NULL },
	{ "crl-validity", CONFIG_INT, FIELD(crl_validity), 3600, 366 * 86400, "604800", NULL, 0,
	    "SECONDS", "from one CRL to its nextUpdate (default 604800); re-signed at half of it "
	    "and on every revocation", NULL },
	{ "est-certs-per-hour", CONFIG_INT, FIELD(est_certs_per_hour), 0, 1000000, "10", NULL, 0,
	    "N", "certificates per device (UDID) in any hour, all methods together; beyond it "
	    "429 with Retry-After (default 10; 0: no limit)", NULL },
	{ "upstream", CONFIG_STRING, FIELD(upstream.url), 0, 0, NULL, NULL, 0, "URL",
	    "default upstream (http:// or https://) of SIMs whose group sets none (default: none, "
	    "answer from the store)", S_PROXY },
	{ "upstream-ca", CONFIG_STRING, FIELD(upstream.ca), 0, 0, NULL, NULL, 0, "FILE",
	    "CA certificates of an https upstream (default: the system's)", NULL },
	{ "upstream-cert", CONFIG_STRING, FIELD(upstream.cert), 0, 0, NULL, NULL, 0, "FILE",
	    "client certificate for the upstream, with --upstream-key", NULL },
	{ "upstream-key", CONFIG_STRING, FIELD(upstream.key), 0, 0, NULL, NULL, 0, "FILE",
	    "the key of --upstream-cert", NULL },
	{ "upstream-timeout", CONFIG_INT, FIELD(upstream_timeout), 1, 300, "5", NULL, 0, "SECONDS",
	    "connect to complete answer (default 5)", NULL },
	{ "upstream-connections", CONFIG_INT, FIELD(upstream_connections), 1, 1024, "8", NULL, 0,
	    "N", "connections per upstream and worker (default 8)", NULL },
	{ "mqtt", CONFIG_STRING, FIELD(mqtt), 0, 0, NULL, NULL, 0, "URL",
	    "the MQTT broker's operational listener, mqtts://HOST:PORT: ztpd onboards gateways "
	    "through it (default: none)", S_GATEWAYS },
	{ "mqtt-ca", CONFIG_STRING, FIELD(mqtt_ca), 0, 0, NULL, NULL, 0, "FILE",
	    "CA certificates that authenticate the broker (required with --mqtt)", NULL },
	{ "mqtt-cert", CONFIG_STRING, FIELD(mqtt_cert), 0, 0, NULL, NULL, 0, "FILE",
	    "ztpd's client certificate for the broker, with --mqtt-key (default: ztpd's server "
	    "certificate, issued by its CA)", NULL },
	{ "mqtt-key", CONFIG_STRING, FIELD(mqtt_key), 0, 0, NULL, NULL, 0, "FILE",
	    "the key of --mqtt-cert", NULL },
	{ "mqtt-user", CONFIG_STRING, FIELD(mqtt_user), 0, 0, "ztpd", NULL, 0, "NAME",
	    "ztpd's user name at the broker, a dynamic-security client (default ztpd)", NULL },
	{ "mqtt-password-file", CONFIG_STRING, FIELD(mqtt_password_file), 0, 0, NULL, NULL, 0,
	    "FILE", "the first line of FILE is that user's password", NULL },
	{ "mqtt-prefix", CONFIG_STRING, FIELD(mqtt_prefix), 0, 0, "ztp", NULL, 0, "PREFIX",
	    "the prefix of every topic (default ztp)", NULL },
	{ "gateway-est-url", CONFIG_STRING, FIELD(gw_est_url), 0, 0, NULL, NULL, 0, "URL",
	    "the EST server bundles send gateways to (default: https:// and the bound "
	    "--est-listen address)", NULL },
	{ "gateway-mqtt-url", CONFIG_STRING, FIELD(gw_mqtt_url), 0, 0, NULL, NULL, 0, "URL",
	    "the operational listener bundles send gateways to (default: --mqtt)", NULL },
	{ "gateway-mqtt-ca", CONFIG_STRING, FIELD(gw_mqtt_ca), 0, 0, NULL, NULL, 0, "FILE",
	    "the broker CA certificates bundles carry (default: --mqtt-ca)", NULL },
	{ "gateway-provisioning-url", CONFIG_STRING, FIELD(gw_prov_url), 0, 0, NULL, NULL, 0,
	    "URL", "the provisioning listener, as gateway-batch create prints it for the "
	    "factory (default: none)", NULL },
	{ "from", CONFIG_STRING, FIELD(migrate_from), 0, 0, NULL, NULL, CONFIG_CLI_ONLY, "URL",
	    "the store to copy, as --store (sqlite:DIR/ztp.db)", S_MIGRATE },
	{ "to", CONFIG_STRING, FIELD(migrate_to), 0, 0, NULL, NULL, CONFIG_CLI_ONLY, "URL",
	    "the store to copy into, as --store (postgresql://USER@HOST/DB); it must hold no "
	    "data yet", NULL },
	{ "resume", CONFIG_BOOL, FIELD(migrate_resume), 0, 1, NULL, NULL, CONFIG_CLI_ONLY, NULL,
	    "continue a copy that stopped, into the store it began to fill", NULL },
	{ "out", CONFIG_STRING, FIELD(node_out), 0, 0, NULL, NULL, CONFIG_CLI_ONLY, "FILE",
	    "export-node: write the node bundle to FILE (mode 0600): secret.key, ca.pem, ca.key "
	    "and ca.pass, encrypted with a passphrase; join --store URL writes the store into "
	    "DIR/ztpd.conf", S_NODES },
	{ "passphrase-file", CONFIG_STRING, FIELD(passphrase_file), 0, 0, NULL, NULL,
	    CONFIG_CLI_ONLY, "FILE", "export-node, join: the bundle's passphrase is the line of "
	    "FILE (default: asked on the terminal, twice for export-node)", NULL },
	{ "with-ca-key", CONFIG_BOOL, FIELD(with_ca_key), 0, 1, NULL, NULL, CONFIG_CLI_ONLY, NULL,
	    "export-node: include the CA key (the default: every node runs a signer, which "
	    "issues the node's server certificate)", NULL },
	{ "import-ca", CONFIG_STRING, FIELD(import_ca_cert), 0, 0, NULL, NULL, CONFIG_CLI_ONLY,
	    "CERT KEY", "import a CA (root or intermediate; CERT may hold its chain, KEY an "
	    "unencrypted PEM key) into the data directory, which must not have one yet, and exit",
	    "" },
	{ "help", CONFIG_HELP, NO_FIELD, 0, 0, NULL, NULL, CONFIG_CLI_ONLY, NULL,
	    "print this help (also -h) and exit", NULL },
	{ "version", CONFIG_VERSION, NO_FIELD, 0, 0, NULL, NULL, CONFIG_CLI_ONLY, NULL,
	    "print the version and exit", NULL },
};

#define NOPTS (sizeof(config_opts) / sizeof(config_opts[0]))
const size_t config_nopts = NOPTS;

const struct config_opt *
config_opt_find(const char *name)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (strcmp(config_opts[i].name, name) == 0)
			return &config_opts[i];
	return NULL;
}

/*
 * The names of list joined into buf (cap bytes, truncated if it must be):
 * sep between them, sep_last before the last, as "a, b or c".
 */
static void
names_join(const struct config_name *list, const char *sep, const char *sep_last, char *buf,
    size_t cap)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; list[i].name != NULL; i++) {
		const char *s = i == 0 ? "" : list[i + 1].name == NULL ? sep_last : sep;
		if (n < cap)
			n += (size_t)snprintf(buf + n, cap - n, "%s%s", s, list[i].name);
	}
}

/* The value of the entry of list named name: 0, or ZTP_EINVAL if there is none. */
static int
names_find(const struct config_name *list, const char *name, int *value)
{
	size_t i;

	if (name == NULL)
		return ZTP_EINVAL;
	for (i = 0; list[i].name != NULL; i++) {
		if (strcmp(list[i].name, name) == 0) {
			*value = list[i].value;
			return 0;
		}
	}
	return ZTP_EINVAL;
}

/*
 * A comma-separated subset of list (empty items skipped, at least one
 * given, text under 128 bytes) into the OR of its values. *out is written
 * only on success.
 */
static int
names_set(const struct config_name *list, const char *value, int *out)
{
	char buf[128], *tok, *save = NULL;
	int set = 0, v, rc = ZTP_EINVAL;

	if (value == NULL || value[0] == '\0' || strlen(value) >= sizeof(buf))
		goto out;
	memcpy(buf, value, strlen(value) + 1);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (names_find(list, tok, &v) != 0)
			goto out;
		set |= v;
	}
	if (set == 0)
		goto out;
	*out = set;
	rc = 0;
out:
	return rc;
}

/* "allowlist,password,manufacturer" (any non-empty subset) into STORE_EST_* bits */
int
config_parse_est_auth(const char *value, int *out)
{
	return names_set(est_auths, value, out);
}

/* Copy value into the char[cap] field dst; refused if NULL or too long. */
static int
set_str(char *dst, size_t cap, const char *value, const char *key, char *errbuf, size_t errcap)
{
	if (value == NULL || strlen(value) >= cap) {
		snprintf(errbuf, errcap, "%s: value missing or too long", key);
		return ZTP_EINVAL;
	}
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

/*
 * Read value as option o wants it and store it in cfg; o->name is in every
 * error written to errbuf. Nothing is stored on failure (ZTP_EINVAL). A
 * NULL value is a flag given without one: only CONFIG_BOOL takes it.
 */
static int
opt_set(struct config *cfg, const struct config_opt *o, const char *value, char *errbuf,
    size_t errcap)
{
	char *field = (char *)cfg + o->offset, list[128];
	struct sockaddr_storage ss;
	socklen_t sslen;
	uint64_t u;
	int v = 0, rc = ZTP_EINVAL;

	switch (o->type) {
	case CONFIG_STRING:
		rc = set_str(field, o->size, value, o->name, errbuf, errcap);
		break;
	case CONFIG_LISTEN:
		if (value != NULL && value[0] != '\0' && strcmp(value, "off") != 0 &&
		    config_parse_addr(value, &ss, &sslen) != 0) {
			snprintf(errbuf, errcap, "%s: expected ADDR:PORT or [ADDR]:PORT or off",
			    o->name);
			break;
		}
		rc = set_str(field, o->size, value, o->name, errbuf, errcap);
		break;
	case CONFIG_INT:
		if (num_parse_u64z(value, (uint64_t)o->min, (uint64_t)o->max, &u) != 0) {
			snprintf(errbuf, errcap, "%s must be a number from %lld to %lld", o->name,
			    o->min, o->max);
			break;
		}
		v = (int)u;
		memcpy(field, &v, sizeof(v));
		rc = 0;
		break;
	case CONFIG_BOOL:
		if (value == NULL || !strcmp(value, "true") || !strcmp(value, "yes") ||
		    !strcmp(value, "1"))
			v = 1;
		else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0"))
			v = 0;
		else {
			snprintf(errbuf, errcap, "%s must be true or false", o->name);
			break;
		}
		memcpy(field, &v, sizeof(v));
		rc = 0;
		break;
	case CONFIG_ENUM:
	case CONFIG_WORD:
		if (names_find(o->names, value, &v) != 0) {
			names_join(o->names, ", ", " or ", list, sizeof(list));
			snprintf(errbuf, errcap, "%s must be %s", o->name, list);
			break;
		}
		if (o->type == CONFIG_ENUM) {
			memcpy(field, &v, sizeof(v));
			rc = 0;
		} else
			rc = set_str(field, o->size, value, o->name, errbuf, errcap);
		break;
	case CONFIG_SET:
		if (names_set(o->names, value, &v) != 0) {
			names_join(o->names, ", ", ", ", list, sizeof(list));
			snprintf(errbuf, errcap, "%s: a comma-separated list of %s", o->name, list);
			break;
		}
		memcpy(field, &v, sizeof(v));
		rc = 0;
		break;
	case CONFIG_FILE:
	case CONFIG_HELP:
	case CONFIG_VERSION:
		snprintf(errbuf, errcap, "%s takes no value to store", o->name);
		break;
	}
	return rc;
}

/*
 * Memset cfg, then read every entry's default as a value. A default that
 * its own entry refuses is a broken table: fatal.
 */
void
config_defaults(struct config *cfg)
{
	const struct config_opt *o;
	char err[256], cores[24];
	long n;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < NOPTS; i++) {
		const char *def;

		o = &config_opts[i];
		def = o->def;
		if (o->flags & CONFIG_DEF_CORES) {
			n = sysconf(_SC_NPROCESSORS_ONLN);
			snprintf(cores, sizeof(cores), "%lld",
			    n >= o->min && n <= o->max ? (long long)n : o->min);
			def = cores;
		}
		if (def != NULL && opt_set(cfg, o, def, err, sizeof(err)) != 0)
			fatalx("config: the default of %s is refused: %s", o->name, err);
	}
}

int
config_set(struct config *cfg, const char *key, const char *value, char *errbuf, size_t errcap)
{
	const struct config_opt *o;

	if ((o = config_opt_find(key)) == NULL) {
		snprintf(errbuf, errcap, "unknown key %s", key);
		return ZTP_EINVAL;
	}
	if (o->flags & CONFIG_CLI_ONLY) {
		snprintf(errbuf, errcap, "%s cannot be set in a file", key);
		return ZTP_EINVAL;
	}
	return opt_set(cfg, o, value, errbuf, errcap);
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/*
 * Read path's "key = value" lines (blank lines and '#' comments skipped,
 * lines under 1024 bytes) through config_set. Stops at the first error:
 * ZTP_EIO if the file cannot be opened, ZTP_EINVAL with "path:line: why".
 */
int
config_load_file(struct config *cfg, const char *path, char *errbuf, size_t errcap)
{
	char line[1024], err[256];
	FILE *f;
	int lineno = 0, rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(errbuf, errcap, "%s: cannot open", path);
		return ZTP_EIO;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p, *eq, *key, *value;
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(errbuf, errcap, "%s:%d: line too long", path, lineno);
			rc = ZTP_EINVAL;
			break;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(errbuf, errcap, "%s:%d: expected key = value", path, lineno);
			rc = ZTP_EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(p);
		value = trim(eq + 1);
		if ((rc = config_set(cfg, key, value, err, sizeof(err))) != 0) {
			snprintf(errbuf, errcap, "%s:%d: %s", path, lineno, err);
			rc = ZTP_EINVAL;
			break;
		}
	}
	fclose(f);
	return rc;
}

#define HELP_INDENT 27 /* column of the help text */
#define HELP_WIDTH 79

/*
 * One option of --help: "  --name ARG" then its help, word-wrapped at
 * HELP_WIDTH with continuation lines at HELP_INDENT.
 */
static void
usage_opt(FILE *f, const struct config_opt *o)
{
	char names[128];
	const char *arg = o->arg, *w, *end;
	int col, first = 1;
	size_t len;

	if (arg == NULL && (o->type == CONFIG_ENUM || o->type == CONFIG_WORD)) {
		names_join(o->names, "|", "|", names, sizeof(names));
		arg = names;
	}
	col = fprintf(f, "  --%s%s%s", o->name, arg ? " " : "", arg ? arg : "");
	if (col <= HELP_INDENT - 2)
		col += fprintf(f, "%*s", HELP_INDENT - col, "");
	else
		col += fprintf(f, "  ");
	for (w = o->help; *w != '\0'; w = *end ? end + 1 : end) {
		end = strchr(w, ' ');
		if (end == NULL)
			end = w + strlen(w);
		len = (size_t)(end - w);
		if (!first && (size_t)col + 1 + len > HELP_WIDTH)
			col = fprintf(f, "\n%*s", HELP_INDENT, "") - 1;
		else if (!first)
			col += fprintf(f, " ");
		col += fprintf(f, "%.*s", (int)len, w);
		first = 0;
	}
	fprintf(f, "\n");
}

void
config_usage(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: ztpd [options]\n"
	    "       ztpd [--data DIR] migrate --from URL --to URL [--resume]\n"
	    "       ztpd [--data DIR] export-node --out FILE [--passphrase-file FILE]\n"
	    "       ztpd --data DIR [--store URL] join FILE [--passphrase-file FILE]\n"
	    "\n"
	    "The ztp provisioning server: a TLS 1.3 PSK endpoint that SIMs fetch their\n"
	    "configuration from and post telemetry to, and an HTTPS admin API.\n"
	    "\n");
	for (i = 0; i < NOPTS; i++) {
		if (config_opts[i].flags & CONFIG_HIDDEN)
			continue;
		if (config_opts[i].section != NULL)
			fprintf(f, "\n%s%s", config_opts[i].section,
			    config_opts[i].section[0] ? "\n" : "");
		usage_opt(f, &config_opts[i]);
	}
	fprintf(f, "\nSIGTERM or SIGINT: stop accepting, finish requests in flight, exit.\n");
}

/*
 * The arguments left after the options (getopt moved them to the end):
 * KEY of --import-ca CERT KEY, or a command, "migrate", "export-node" or
 * "join FILE", or none. The options of the commands are refused without
 * them; migrate needs --from and --to, export-node --out. Errors go to
 * stderr; ZTP_EINVAL.
 */
static int
positional(struct config *cfg, int n, char **args)
{
	const char *only = NULL;

	if (cfg->import_ca_cert[0] != '\0') {
		if (n != 1 || strlen(args[0]) >= sizeof(cfg->import_ca_key)) {
			fprintf(stderr, "ztpd: --import-ca CERT KEY\n");
			return ZTP_EINVAL;
		}
		memcpy(cfg->import_ca_key, args[0], strlen(args[0]) + 1);
		args++;
		n--;
	} else if (n >= 1 && strcmp(args[0], "migrate") == 0) {
		/* ztpd migrate: both stores named */
		if (cfg->migrate_from[0] == '\0' || cfg->migrate_to[0] == '\0') {
			fprintf(stderr, "ztpd: migrate --from URL --to URL [--resume]\n");
			return ZTP_EINVAL;
		}
		cfg->migrate = 1;
		args++;
		n--;
	} else if (n >= 1 && strcmp(args[0], "export-node") == 0) {
		cfg->command = CONFIG_CMD_EXPORT_NODE;
		args++;
		n--;
	} else if (n >= 1 && strcmp(args[0], "join") == 0) {
		if (n < 2 || args[1][0] == '\0' || strlen(args[1]) >= sizeof(cfg->node_file)) {
			fprintf(stderr, "ztpd: join FILE: the node bundle to join from\n");
			return ZTP_EINVAL;
		}
		memcpy(cfg->node_file, args[1], strlen(args[1]) + 1);
		cfg->command = CONFIG_CMD_JOIN;
		args += 2;
		n -= 2;
	}
	if (n > 0) {
		fprintf(stderr, "ztpd: unexpected argument %s\n", args[0]);
		return ZTP_EINVAL;
	}
	if (!cfg->migrate &&
	    (cfg->migrate_from[0] != '\0' || cfg->migrate_to[0] != '\0' || cfg->migrate_resume))
		only = "--from, --to and --resume go with migrate";
	else if (cfg->command != CONFIG_CMD_EXPORT_NODE && cfg->node_out[0] != '\0')
		only = "--out is an option of export-node";
	else if (cfg->command != CONFIG_CMD_EXPORT_NODE && cfg->with_ca_key)
		only = "--with-ca-key is an option of export-node";
	else if (cfg->command == CONFIG_CMD_NONE && cfg->passphrase_file[0] != '\0')
		only = "--passphrase-file is an option of export-node and join";
	else if (cfg->command == CONFIG_CMD_EXPORT_NODE && cfg->node_out[0] == '\0')
		only = "export-node --out FILE: where to write the node bundle";
	if (only != NULL) {
		fprintf(stderr, "ztpd: %s\n", only);
		return ZTP_EINVAL;
	}
	return 0;
}

/*
 * Two passes over argv. Pass 0 finds --help and --version (printed at
 * once, return 1), refuses unknown options (usage on stderr), and notes
 * --config and the CONFIG_EARLY options (--data); those are applied, then
 * the config file (--config, or DATA/ztpd.conf if it exists) is read.
 * Pass 1 applies every other option over the file: the command line wins
 * whatever its order. Errors go to stderr as "ztpd: --why".
 */
int
config_parse_args(struct config *cfg, int argc, char **argv)
{
	struct option longopts[NOPTS + 1];
	const char *early[NOPTS] = { NULL };
	const char *file = NULL;
	const struct config_opt *o;
	char err[256], path[PATH_MAX + 16];
	int pass, c, idx, rc = 0;
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		o = &config_opts[i];
		longopts[i].name = o->name;
		longopts[i].has_arg = o->type == CONFIG_BOOL || o->type == CONFIG_HELP ||
			o->type == CONFIG_VERSION ? no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 0;
	}
	memset(&longopts[NOPTS], 0, sizeof(longopts[NOPTS]));

	for (pass = 0; pass < 2; pass++) {
		optind = 0;
		opterr = pass == 0;
		while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
			o = c == 0 ? &config_opts[idx] : NULL;
			if (c == 'h' || (o != NULL && o->type == CONFIG_HELP)) {
				config_usage(stdout);
				rc = 1;
				goto out;
			}
			if (o != NULL && o->type == CONFIG_VERSION) {
				printf("ztpd %s\n", ZTPD_VERSION);
				rc = 1;
				goto out;
			}
			if (o == NULL) {
				if (pass == 0) {
					config_usage(stderr);
					rc = ZTP_EINVAL;
					goto out;
				}
				continue;
			}
			if (pass == 0) {
				if (o->type == CONFIG_FILE)
					file = optarg;
				else if (o->flags & CONFIG_EARLY)
					early[idx] = optarg;
				continue;
			}
			if (o->type == CONFIG_FILE)
				continue;
			if ((rc = opt_set(cfg, o, optarg, err, sizeof(err))) != 0) {
				fprintf(stderr, "ztpd: --%s\n", err);
				goto out;
			}
		}
		if (pass == 1 && (rc = positional(cfg, argc - optind, argv + optind)) != 0)
			goto out;
		if (pass == 0) {
			for (i = 0; i < NOPTS; i++) {
				if (early[i] != NULL &&
				    opt_set(cfg, &config_opts[i], early[i], err, sizeof(err)) != 0) {
					fprintf(stderr, "ztpd: --%s\n", err);
					rc = ZTP_EINVAL;
					goto out;
				}
			}
			if (file == NULL) {
				snprintf(path, sizeof(path), "%s/ztpd.conf", cfg->data);
				if (access(path, F_OK) == 0)
					file = path;
			}
			if (file != NULL &&
			    (rc = config_load_file(cfg, file, err, sizeof(err))) != 0) {
				fprintf(stderr, "ztpd: %s\n", err);
				goto out;
			}
		}
	}
	rc = 0;
out:
	return rc;
}

int
config_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon, *h;
	size_t hlen;
	uint64_t port;

	if (s == NULL)
		return ZTP_EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return ZTP_EINVAL;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return ZTP_EINVAL;
		h = s;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host) || num_parse_u64z(colon + 1, 0, 65535, &port) != 0)
		return ZTP_EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	/* strict numeric forms only: a.b.c.d, or an IPv6 address in brackets */
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return ZTP_EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return ZTP_EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
	}
	return 0;
}
