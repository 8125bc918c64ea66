/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "num.h"
#include "store.h"
#include "ztp/err.h"

#define ZTPD_VERSION "0.1.0"

void
config_defaults(struct config *cfg)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->data, sizeof(cfg->data), "ztp-data");
	snprintf(cfg->user, sizeof(cfg->user), "ztp");
	snprintf(cfg->device_listen, sizeof(cfg->device_listen), "0.0.0.0:11111");
	snprintf(cfg->admin_listen, sizeof(cfg->admin_listen), "127.0.0.1:11443");
	cfg->workers = n > 0 && n <= 64 ? (int)n : 1;
	cfg->log_format = LOG_FORMAT_TEXT;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->token_ttl = 3600;
	cfg->request_timeout = 10;
	cfg->idle_timeout = 30;
	cfg->max_connections = 1024;
	cfg->max_header_size = 8192;
	snprintf(cfg->est_listen, sizeof(cfg->est_listen), "off");
	cfg->est_auth = STORE_EST_ALL;
	cfg->cert_days = 365;
	cfg->reenroll_grace = 30 * 86400;
	cfg->crl_validity = 7 * 86400;
	cfg->upstream_timeout = 5;
	cfg->upstream_connections = 8;
}

/* "allowlist,password,manufacturer" (any non-empty subset) into STORE_EST_* bits */
int
config_parse_est_auth(const char *value, int *out)
{
	char buf[128], *tok, *save = NULL;
	int set = 0;

	if (value == NULL || value[0] == '\0' || strlen(value) >= sizeof(buf))
		return ZTP_EINVAL;
	memcpy(buf, value, strlen(value) + 1);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "allowlist"))
			set |= STORE_EST_ALLOWLIST;
		else if (!strcmp(tok, "password"))
			set |= STORE_EST_PASSWORD;
		else if (!strcmp(tok, "manufacturer"))
			set |= STORE_EST_MANUFACTURER;
		else
			return ZTP_EINVAL;
	}
	if (set == 0)
		return ZTP_EINVAL;
	*out = set;
	return 0;
}

static int
set_int(int *dst, const char *value, int min, int max, const char *key, char *errbuf,
    size_t errcap)
{
	uint64_t v;

	if (num_parse_u64z(value, (uint64_t)min, (uint64_t)max, &v) != 0) {
		snprintf(errbuf, errcap, "%s must be a number from %d to %d", key, min, max);
		return ZTP_EINVAL;
	}
	*dst = (int)v;
	return 0;
}

static int
set_bool(int *dst, const char *value, const char *key, char *errbuf, size_t errcap)
{
	if (value == NULL || !strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1"))
		*dst = 1;
	else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0"))
		*dst = 0;
	else {
		snprintf(errbuf, errcap, "%s must be true or false", key);
		return ZTP_EINVAL;
	}
	return 0;
}

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

static int
check_listen(const char *value, const char *key, char *errbuf, size_t errcap)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (value[0] == '\0' || strcmp(value, "off") == 0)
		return 0;
	if (config_parse_addr(value, &ss, &len) != 0) {
		snprintf(errbuf, errcap, "%s: expected ADDR:PORT or [ADDR]:PORT or off", key);
		return ZTP_EINVAL;
	}
	return 0;
}

static int
set_listen(char *dst, size_t cap, const char *value, const char *key, char *errbuf,
    size_t errcap)
{
	int rc;

	if (value != NULL && (rc = check_listen(value, key, errbuf, errcap)) != 0)
		return rc;
	return set_str(dst, cap, value, key, errbuf, errcap);
}

int
config_set(struct config *cfg, const char *key, const char *value, char *errbuf, size_t errcap)
{
	if (!strcmp(key, "user"))
		return set_str(cfg->user, sizeof(cfg->user), value, key, errbuf, errcap);
	if (!strcmp(key, "data"))
		return set_str(cfg->data, sizeof(cfg->data), value, key, errbuf, errcap);
	if (!strcmp(key, "device-listen"))
		return set_listen(cfg->device_listen, sizeof(cfg->device_listen), value, key,
		    errbuf, errcap);
	if (!strcmp(key, "admin-listen"))
		return set_listen(cfg->admin_listen, sizeof(cfg->admin_listen), value, key, errbuf,
		    errcap);
	if (!strcmp(key, "workers"))
		return set_int(&cfg->workers, value, 1, 64, key, errbuf, errcap);
	if (!strcmp(key, "log-format")) {
		if (value && !strcmp(value, "text"))
			cfg->log_format = LOG_FORMAT_TEXT;
		else if (value && !strcmp(value, "json"))
			cfg->log_format = LOG_FORMAT_JSON;
		else {
			snprintf(errbuf, errcap, "log-format must be text or json");
			return ZTP_EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "log-level")) {
		if (value && !strcmp(value, "debug"))
			cfg->log_level = LOG_LEVEL_DEBUG;
		else if (value && !strcmp(value, "info"))
			cfg->log_level = LOG_LEVEL_INFO;
		else if (value && !strcmp(value, "warn"))
			cfg->log_level = LOG_LEVEL_WARN;
		else {
			snprintf(errbuf, errcap, "log-level must be debug, info or warn");
			return ZTP_EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "allow-psk-ke"))
		return set_bool(&cfg->allow_psk_ke, value, key, errbuf, errcap);
	if (!strcmp(key, "token-ttl"))
		return set_int(&cfg->token_ttl, value, 1, 86400 * 30, key, errbuf, errcap);
	if (!strcmp(key, "request-timeout"))
		return set_int(&cfg->request_timeout, value, 1, 3600, key, errbuf, errcap);
	if (!strcmp(key, "idle-timeout"))
		return set_int(&cfg->idle_timeout, value, 1, 3600, key, errbuf, errcap);
	if (!strcmp(key, "max-connections"))
		return set_int(&cfg->max_connections, value, 1, 1000000, key, errbuf, errcap);
	if (!strcmp(key, "max-header-size"))
		return set_int(&cfg->max_header_size, value, 1024, 65536, key, errbuf, errcap);
	if (!strcmp(key, "est-listen"))
		return set_listen(cfg->est_listen, sizeof(cfg->est_listen), value, key, errbuf,
		    errcap);
	if (!strcmp(key, "est-auth")) {
		if (config_parse_est_auth(value, &cfg->est_auth) != 0) {
			snprintf(errbuf, errcap,
			    "est-auth: a comma-separated list of allowlist, password, manufacturer");
			return ZTP_EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "cert-days"))
		return set_int(&cfg->cert_days, value, 1, 7300, key, errbuf, errcap);
	if (!strcmp(key, "reenroll-grace"))
		return set_int(&cfg->reenroll_grace, value, 0, 5 * 366 * 86400, key, errbuf, errcap);
	if (!strcmp(key, "crl-validity"))
		return set_int(&cfg->crl_validity, value, 3600, 366 * 86400, key, errbuf, errcap);
	if (!strcmp(key, "upstream"))
		return set_str(cfg->upstream.url, sizeof(cfg->upstream.url), value, key, errbuf, errcap);
	if (!strcmp(key, "upstream-ca"))
		return set_str(cfg->upstream.ca, sizeof(cfg->upstream.ca), value, key, errbuf, errcap);
	if (!strcmp(key, "upstream-cert"))
		return set_str(cfg->upstream.cert, sizeof(cfg->upstream.cert), value, key, errbuf,
		    errcap);
	if (!strcmp(key, "upstream-key"))
		return set_str(cfg->upstream.key, sizeof(cfg->upstream.key), value, key, errbuf,
		    errcap);
	if (!strcmp(key, "upstream-timeout"))
		return set_int(&cfg->upstream_timeout, value, 1, 300, key, errbuf, errcap);
	if (!strcmp(key, "upstream-connections"))
		return set_int(&cfg->upstream_connections, value, 1, 1024, key, errbuf, errcap);
	snprintf(errbuf, errcap, "unknown key %s", key);
	return ZTP_EINVAL;
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
		if (!strcmp(key, "config") ||
		    (rc = config_set(cfg, key, value, err, sizeof(err))) != 0) {
			snprintf(errbuf, errcap, "%s:%d: %s", path, lineno,
			    !strcmp(key, "config") ? "config cannot be set in a file" : err);
			rc = ZTP_EINVAL;
			break;
		}
	}
	fclose(f);
	return rc;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ztpd [options]\n"
	    "\n"
	    "The ztp provisioning server: a TLS 1.3 PSK endpoint that SIMs fetch their\n"
	    "configuration from and post telemetry to, and an HTTPS admin API.\n"
	    "\n"
	    "  --data DIR               data directory (default ./ztp-data); created with\n"
	    "                           the database, CA, server certificate, data key\n"
	    "                           and DIR/admin.json at first start\n"
	    "  --config FILE            read options from FILE (key = value, the long\n"
	    "                           option names without --); DIR/ztpd.conf is read\n"
	    "                           if it exists; the command line wins\n"
	    "  --device-listen ADDR:PORT  device endpoint, TLS 1.3 PSK (default\n"
	    "                           0.0.0.0:11111; 'off' disables; port 0: any)\n"
	    "  --admin-listen ADDR:PORT   admin API, HTTPS (default 127.0.0.1:11443)\n"
	    "  --workers N              worker threads (default: number of cores)\n"
	    "  --log-format text|json   log line format (default text)\n"
	    "  --log-level debug|info|warn  (default info)\n"
	    "  --allow-psk-ke           also accept psk_ke (PSK without (EC)DHE), as SIMs\n"
	    "                           need; psk_dhe_ke is always accepted\n"
	    "  --token-ttl SECONDS      admin token lifetime (default 3600)\n"
	    "  --request-timeout SECONDS  time for the handshake and each complete\n"
	    "                           request (default 10)\n"
	    "  --idle-timeout SECONDS   read/write inactivity limit (default 30)\n"
	    "  --max-connections N      open connections per worker (default 1024)\n"
	    "  --max-header-size BYTES  request line and headers (default 8192)\n"
	    "\n"
	    "Certificates (EST, RFC 7030; see docs/certificates.md):\n"
	    "  --est-listen ADDR:PORT   EST endpoint, TLS 1.2/1.3 with the server\n"
	    "                           certificate, optional client certificates\n"
	    "                           (default off)\n"
	    "  --est-auth LIST          how devices of no group with its own policy may\n"
	    "                           enrol: allowlist,password,manufacturer (default all)\n"
	    "  --cert-days N            validity of device certificates (default 365)\n"
	    "  --reenroll-grace SECONDS  re-enrolment allowed this long after expiry\n"
	    "                           (default 2592000, 30 days)\n"
	    "  --crl-validity SECONDS   from one CRL to its nextUpdate (default 604800);\n"
	    "                           re-signed at half of it and on every revocation\n"
	    "\n"
	    "Proxy mode (device requests forwarded to the customer's server; docs/proxy.md):\n"
	    "  --upstream URL           default upstream (http:// or https://) of SIMs whose\n"
	    "                           group sets none (default: none, answer from the store)\n"
	    "  --upstream-ca FILE       CA certificates of an https upstream (default: the\n"
	    "                           system's)\n"
	    "  --upstream-cert FILE, --upstream-key FILE  client certificate for the upstream\n"
	    "  --upstream-timeout SECONDS  connect to complete answer (default 5)\n"
	    "  --upstream-connections N  connections per upstream and worker (default 8)\n"
	    "\n"
	    "  --import-ca CERT KEY     import a CA (root or intermediate; CERT may hold\n"
	    "                           its chain, KEY an unencrypted PEM key) into the\n"
	    "                           data directory, which must not have one yet, and\n"
	    "                           exit\n"
	    "  --help, --version\n"
	    "\n"
	    "SIGTERM or SIGINT: stop accepting, finish requests in flight, exit.\n");
}

int
config_parse_args(struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 0 },
		{ "config", required_argument, NULL, 0 },
		{ "device-listen", required_argument, NULL, 0 },
		{ "admin-listen", required_argument, NULL, 0 },
		{ "workers", required_argument, NULL, 0 },
		{ "log-format", required_argument, NULL, 0 },
		{ "log-level", required_argument, NULL, 0 },
		{ "allow-psk-ke", no_argument, NULL, 0 },
		{ "token-ttl", required_argument, NULL, 0 },
		{ "request-timeout", required_argument, NULL, 0 },
		{ "idle-timeout", required_argument, NULL, 0 },
		{ "max-connections", required_argument, NULL, 0 },
		{ "max-header-size", required_argument, NULL, 0 },
		{ "est-listen", required_argument, NULL, 0 },
		{ "est-auth", required_argument, NULL, 0 },
		{ "cert-days", required_argument, NULL, 0 },
		{ "reenroll-grace", required_argument, NULL, 0 },
		{ "crl-validity", required_argument, NULL, 0 },
		{ "upstream", required_argument, NULL, 0 },
		{ "upstream-ca", required_argument, NULL, 0 },
		{ "upstream-cert", required_argument, NULL, 0 },
		{ "upstream-key", required_argument, NULL, 0 },
		{ "upstream-timeout", required_argument, NULL, 0 },
		{ "upstream-connections", required_argument, NULL, 0 },
		{ "import-ca", required_argument, NULL, 0 },
		{ "user", required_argument, NULL, 0 },
		{ "child", required_argument, NULL, 0 },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *data = NULL;
	char err[256], path[PATH_MAX + 16];
	int pass, c, idx, rc;

	/* pass 0 finds --config, --data and --help; pass 1 applies the rest */
	for (pass = 0; pass < 2; pass++) {
		optind = 0;
		opterr = pass == 0;
		while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
			if (c == 'h') {
				usage(stdout);
				return 1;
			}
			if (c == 'V') {
				printf("ztpd %s\n", ZTPD_VERSION);
				return 1;
			}
			if (c != 0) {
				if (pass == 0) {
					usage(stderr);
					return ZTP_EINVAL;
				}
				continue;
			}
			if (pass == 0) {
				if (!strcmp(opts[idx].name, "config"))
					file = optarg;
				else if (!strcmp(opts[idx].name, "data"))
					data = optarg;
				continue;
			}
			if (!strcmp(opts[idx].name, "config"))
				continue;
			if (!strcmp(opts[idx].name, "child")) {
				if (strcmp(optarg, "front") != 0 && strcmp(optarg, "signer") != 0) {
					fprintf(stderr, "ztpd: --child front|signer\n");
					return ZTP_EINVAL;
				}
				snprintf(cfg->child, sizeof(cfg->child), "%s", optarg);
				continue;
			}
			if (!strcmp(opts[idx].name, "import-ca")) {
				if (strlen(optarg) >= sizeof(cfg->import_ca_cert)) {
					fprintf(stderr, "ztpd: --import-ca: path too long\n");
					return ZTP_EINVAL;
				}
				memcpy(cfg->import_ca_cert, optarg, strlen(optarg) + 1);
				continue;
			}
			if ((rc = config_set(cfg, opts[idx].name, optarg, err, sizeof(err))) != 0) {
				fprintf(stderr, "ztpd: --%s\n", err);
				return rc;
			}
		}
		if (pass == 1 && cfg->import_ca_cert[0] != '\0') {
			/* --import-ca CERT KEY: the key is the one argument left */
			if (optind != argc - 1 || strlen(argv[optind]) >= sizeof(cfg->import_ca_key)) {
				fprintf(stderr, "ztpd: --import-ca CERT KEY\n");
				return ZTP_EINVAL;
			}
			memcpy(cfg->import_ca_key, argv[optind], strlen(argv[optind]) + 1);
		} else if (pass == 1 && optind < argc) {
			fprintf(stderr, "ztpd: unexpected argument %s\n", argv[optind]);
			return ZTP_EINVAL;
		}
		if (pass == 0) {
			if (data != NULL && config_set(cfg, "data", data, err, sizeof(err)) != 0) {
				fprintf(stderr, "ztpd: --%s\n", err);
				return ZTP_EINVAL;
			}
			if (file == NULL) {
				snprintf(path, sizeof(path), "%s/ztpd.conf", cfg->data);
				if (access(path, F_OK) == 0)
					file = path;
			}
			if (file != NULL &&
			    (rc = config_load_file(cfg, file, err, sizeof(err))) != 0) {
				fprintf(stderr, "ztpd: %s\n", err);
				return rc;
			}
		}
	}
	return 0;
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
