/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl: the command-line client of ztpd's admin API (docs/admin-api.md).
 *
 * It reads one API key from the admin file ({"url", "key_id", "secret",
 * "ca"}), verifies the server against that file's CA only, exchanges the
 * key for a bearer token and sends one request per command (several for
 * the paged lists and sim import, all on one connection). Tables by
 * default, the server's JSON with --json.
 *
 * Exit status: 0 success, 1 an error from the server, the connection or a
 * local file, or a line that sim import or allowlist import refused, 2 a
 * usage error (ZTP_EINVAL inside this file means exactly that). The secret,
 * the token, PSKs and master keys are never printed, but for a generated
 * master key or enrolment password that has nowhere else to go.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "allowcsv.h"
#include "clock.h"
#include "hex.h"
#include "log.h"
#include "num.h"
#include "simcsv.h"
#include "ztp/err.h"
#include "ztp/iccid.h"

#define ZTPCTL_VERSION "0.1.0"

#define EXIT_USAGE 2

#define DEFAULT_ADMIN_FILE "./ztp-data/admin.json"
#define ADMIN_FILE_MAX (64u * 1024)      /* the admin file is a few hundred bytes */
#define CONFIG_FILE_MAX (64u * 1024)     /* the server's request body limit */
#define RESPONSE_MAX (16u * 1024 * 1024) /* any answer of the admin API */
#define TOKEN_MAX 4096
#define URL_MAX 2048
#define PAGE_MAX 1000 /* the server's largest limit= */
#define TELEMETRY_DEFAULT 100
#define LIST_MAX 1000000000ULL
#define PSK_MIN_BYTES 16
#define PSK_MAX_BYTES 64
#define DEVID_MAX_BYTES 16 /* a Device ID, in hex on the command line */
#define CONNECT_TIMEOUT_S 10L
#define REQUEST_TIMEOUT_S 60L
#define CELL_MAX 256
#define DETAIL_MAX 512
#define BODY_CELL_MAX 52
#define MASTER_KEY_LEN 32 /* bytes */
#define MASTER_KEY_HEX (2 * MASTER_KEY_LEN)
#define KEY_FILE_MAX 256
#define ROTATION_MAX (10ULL * 365 * 86400) /* the server's limit: 10 years */
#define UDID_MAX ALLOWCSV_UDID_MAX         /* characters */
#define SERIAL_ARG_MAX 64                  /* hex digits, leading zeros included */
#define PEM_FILE_MAX (64u * 1024)          /* --pubkey FILE, mfr-ca add's FILE */
#define TTL_MIN 60                         /* the server's limits for password create */
#define TTL_MAX (30ULL * 86400)
#define CERT_DAYS_MAX 7300ULL
#define GRACE_MAX (5ULL * 365 * 86400)

/* the admin file's contents; every string is owned and freed by admin_free */
struct admin {
	char *url; /* without a trailing '/' */
	char *key_id;
	char *secret;
	char *ca;
};

/* one run of the tool */
struct ctl {
	const char *admin_path; /* --admin, NULL if not given */
	int json;               /* --json */
	struct admin admin;
	CURL *curl;  /* NULL until the first request */
	char *token; /* NULL until authenticated */
	char errbuf[CURL_ERROR_SIZE];
};

/* a response body, grown up to max bytes; data is NUL-terminated */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	int toobig;
};

/* the options commands take; a bit each */
enum {
	OPT_PSK = 1 << 0,
	OPT_LIMIT = 1 << 1,
	OPT_ALL = 1 << 2,
	OPT_BODY = 1 << 3,
	OPT_FILE = 1 << 4,
	OPT_SINCE = 1 << 5,
	OPT_GROUP = 1 << 6,
	OPT_PREFIX = 1 << 7,
	OPT_DERIVE = 1 << 8,
	OPT_KEY_FILE = 1 << 9,
	OPT_PSK_KE = 1 << 10,
	OPT_ROTATION = 1 << 11,
	OPT_PUBKEY = 1 << 12,
	OPT_KEY_SHA = 1 << 13,
	OPT_ICCID = 1 << 14,
	OPT_TTL = 1 << 15,
	OPT_UDID = 1 << 16,
	OPT_REASON = 1 << 17,
	OPT_EST_AUTH = 1 << 18,
	OPT_CERT_DAYS = 1 << 19,
	OPT_GRACE = 1 << 20,
	OPT_DERIVED = 1 << 21,
	OPT_DEVICE_ID = 1 << 22,
	OPT_UPSTREAM = 1 << 23,
	OPT_UPSTREAM_CA = 1 << 24,
	OPT_UPSTREAM_CERT = 1 << 25,
	OPT_UPSTREAM_KEY = 1 << 26,
};

static const struct {
	const char *name;
	unsigned bit;
	int has_arg;
} cmd_opts[] = {
	{ "--psk", OPT_PSK, 1 },
	{ "--limit", OPT_LIMIT, 1 },
	{ "--all", OPT_ALL, 0 },
	{ "--body", OPT_BODY, 1 },
	{ "--file", OPT_FILE, 1 },
	{ "--since", OPT_SINCE, 1 },
	{ "--group", OPT_GROUP, 1 },
	{ "--iccid-prefix", OPT_PREFIX, 1 },
	{ "--derive", OPT_DERIVE, 0 },
	{ "--master-key-file", OPT_KEY_FILE, 1 },
	{ "--allow-psk-ke", OPT_PSK_KE, 0 },
	{ "--rotation-period", OPT_ROTATION, 1 },
	{ "--pubkey", OPT_PUBKEY, 1 },
	{ "--key-sha256", OPT_KEY_SHA, 1 },
	{ "--iccid", OPT_ICCID, 1 },
	{ "--ttl", OPT_TTL, 1 },
	{ "--udid", OPT_UDID, 1 },
	{ "--reason", OPT_REASON, 1 },
	{ "--est-auth", OPT_EST_AUTH, 1 },
	{ "--cert-days", OPT_CERT_DAYS, 1 },
	{ "--reenroll-grace", OPT_GRACE, 1 },
	{ "--derived", OPT_DERIVED, 0 },
	{ "--device-id", OPT_DEVICE_ID, 1 },
	{ "--upstream", OPT_UPSTREAM, 1 },
	{ "--upstream-ca", OPT_UPSTREAM_CA, 1 },
	{ "--upstream-cert", OPT_UPSTREAM_CERT, 1 },
	{ "--upstream-key", OPT_UPSTREAM_KEY, 1 },
};

#define ARGS_MAX_POS 2

/* a command's parsed arguments; the strings point into argv */
struct args {
	const char *pos[ARGS_MAX_POS];
	size_t npos;
	const char *psk;
	const char *limit;
	const char *body;
	const char *file;
	const char *since;
	const char *group;
	const char *prefix;
	const char *key_file;
	const char *rotation;
	const char *pubkey;
	const char *key_sha;
	const char *iccid;
	const char *ttl;
	const char *udid;
	const char *reason;
	const char *est_auth;
	const char *cert_days;
	const char *grace;
	const char *device_id;
	const char *upstream, *upstream_ca, *upstream_cert, *upstream_key;
	int all;
	int derive;
	int psk_ke;
	int derived;
};

struct command {
	const char *group;
	const char *name; /* NULL: the group is the command */
	unsigned opts;
	size_t npos;
	const char *synopsis; /* for usage errors */
	int (*run)(struct ctl *, const struct args *);
};

/* 1 while sim import's progress line is on the terminal without its newline */
static int progress_open;

/* End the progress line, so that a message starts on a line of its own. */
static void
progress_end(void)
{
	if (progress_open) {
		fputc('\n', stderr);
		progress_open = 0;
	}
}

static void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "ztpctl: <message>" on stderr */
static void
errorf(const char *fmt, ...)
{
	va_list ap;

	progress_end();
	fputs("ztpctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a usage error with a hint; returns ZTP_EINVAL (exit status 2). */
static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	progress_end();
	fputs("ztpctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'ztpctl --help' for more information.\n", stderr);
	return ZTP_EINVAL;
}

static void
usage(FILE *f)
{
	fputs(
	    "Usage: ztpctl [--admin FILE] [--json] COMMAND [ARGS...]\n"
	    "\n"
	    "Manage a ztpd server through its admin API.\n"
	    "\n"
	    "Options (before or after the command):\n"
	    "  --admin FILE   the admin key file (default: $ZTP_ADMIN, else\n"
	    "                 ./ztp-data/admin.json)\n"
	    "  --json         print the server's JSON instead of tables\n"
	    "  -h, --help     print this help and exit\n"
	    "  -V, --version  print the version and exit\n"
	    "\n"
	    "SIMs:\n"
	    "  sim add ICCID --psk HEX [--group NAME]\n"
	    "                                 register a SIM and its PSK (16..64 bytes in hex)\n"
	    "  sim add ICCID --derived [--device-id HEX]\n"
	    "                                 pre-register a SIM of the derived group whose\n"
	    "                                 prefix its ICCID has: no PSK is stored (its key\n"
	    "                                 stays derived), and it can be blocked, bound\n"
	    "                                 (--device-id: 1..16 bytes in hex) or configured\n"
	    "                                 before its first handshake\n"
	    "  sim import FILE                import a SIM maker's batch file ('-' is stdin):\n"
	    "                                 lines iccid,psk_hex[,group], header optional;\n"
	    "                                 idempotent; prints added, unchanged and every\n"
	    "                                 refused line with its number and reason\n"
	    "  sim list [--limit N] [--all]   list the SIMs (all of them, or the first N)\n"
	    "  sim show ICCID                 show one SIM\n"
	    "  sim block ICCID                refuse the SIM's requests\n"
	    "  sim unblock ICCID              accept the SIM's requests again\n"
	    "  sim rebind ICCID               forget the bound Device ID: the next one seen\n"
	    "                                 is bound\n"
	    "  sim delete ICCID               delete the SIM with its configurations,\n"
	    "                                 telemetry and device record\n"
	    "  sim rotate ICCID               offer the SIM its next key on its next request\n"
	    "                                 (docs/psk-rotation.md)\n"
	    "\n"
	    "Groups (docs/psk-sources.md):\n"
	    "  group create NAME [--iccid-prefix DIGITS] [--allow-psk-ke]\n"
	    "               [--derive [--master-key-file FILE]] [--rotation-period SECONDS]\n"
	    "               [--est-auth LIST] [--cert-days N] [--reenroll-grace SECONDS]\n"
	    "               [--upstream URL [--upstream-ca FILE] [--upstream-cert FILE\n"
	    "               --upstream-key FILE]]\n"
	    "                                 create a SIM group; --derive: its SIMs' keys are\n"
	    "                                 HMAC-SHA256(master key, PSK identity), for the\n"
	    "                                 ICCIDs with the prefix. The master key is read\n"
	    "                                 from FILE if it exists (64 hex digits or 32\n"
	    "                                 bytes), else generated and written to FILE\n"
	    "                                 (mode 0600), or printed once without FILE.\n"
	    "                                 Its devices' certificates (EST): --est-auth:\n"
	    "                                 how one may get its first, comma-separated of\n"
	    "                                 allowlist, password, manufacturer (default:\n"
	    "                                 all); --cert-days: their validity (1..7300, 0:\n"
	    "                                 the server's); --reenroll-grace: how long\n"
	    "                                 after expiry a device may still re-enrol\n"
	    "                                 (-1: the server's). --upstream URL: proxy mode\n"
	    "                                 (docs/proxy.md), as group upstream\n"
	    "  group upstream NAME (URL | off | default) [--upstream-ca FILE]\n"
	    "               [--upstream-cert FILE --upstream-key FILE]\n"
	    "                                 forward the group's device requests to the\n"
	    "                                 customer's server at URL (http:// or https://;\n"
	    "                                 --upstream-ca: its CAs, default the system's;\n"
	    "                                 --upstream-cert/-key: ztpd's client\n"
	    "                                 certificate; files on the ztpd host), answer\n"
	    "                                 them from ztpd's store (off), or follow the\n"
	    "                                 server's --upstream (default)\n"
	    "  group list                     list the groups\n"
	    "  group show NAME                show one group\n"
	    "\n"
	    "Certificates (EST enrolment):\n"
	    "  allowlist add UDID (--pubkey FILE | --key-sha256 HEX) [--group NAME]\n"
	    "                [--iccid ICCID]  allow a device to enrol with that key: FILE is\n"
	    "                                 a PEM public key, certificate or CSR; HEX the\n"
	    "                                 SHA-256 of the DER SubjectPublicKeyInfo; ICCID\n"
	    "                                 its SIM (blocked with the device)\n"
	    "  allowlist import FILE          import lines udid,key[,group[,iccid]] ('-' is\n"
	    "                                 stdin): key is 64 hex digits (SHA-256 of the\n"
	    "                                 DER SubjectPublicKeyInfo) or that DER in\n"
	    "                                 base64; '#' comments and a header 'udid,...'\n"
	    "                                 are skipped; idempotent; prints added,\n"
	    "                                 unchanged and every refused line\n"
	    "  allowlist list [--limit N] [--all]\n"
	    "                                 list the allowlist\n"
	    "  allowlist show UDID            show one entry\n"
	    "  allowlist delete UDID          delete one entry\n"
	    "  password create UDID [--ttl SECONDS] [--group NAME]\n"
	    "                                 make a one-time enrolment password (valid 60 s\n"
	    "                                 to 30 days, default 1 day): printed once, only\n"
	    "                                 its hash is kept\n"
	    "  mfr-ca add NAME FILE [--group NAME]\n"
	    "                                 trust a manufacturer CA (a PEM CA certificate)\n"
	    "                                 for enrolment with the devices' IDevIDs\n"
	    "  mfr-ca list                    list the manufacturer CAs\n"
	    "  mfr-ca show NAME               show one, with its certificate\n"
	    "  mfr-ca delete NAME             stop trusting it\n"
	    "  cert list [--udid UDID] [--limit N] [--all]\n"
	    "                                 list the issued certificates\n"
	    "  cert show SERIAL               show one (SERIAL in hex)\n"
	    "  cert revoke SERIAL [--reason REASON]\n"
	    "                                 revoke it and re-sign the CRL; REASON:\n"
	    "                                 unspecified (default), keyCompromise,\n"
	    "                                 caCompromise, affiliationChanged, superseded,\n"
	    "                                 cessationOfOperation, certificateHold,\n"
	    "                                 privilegeWithdrawn, aACompromise\n"
	    "  device list [--limit N] [--all]\n"
	    "                                 list the devices that hold or held certificates\n"
	    "  device show UDID               show one, with its certificates\n"
	    "  device block UDID [--reason REASON]\n"
	    "                                 refuse its enrolments, revoke its certificates\n"
	    "                                 (privilegeWithdrawn by default), block its SIM\n"
	    "  device unblock UDID            lift the block (revoked certificates stay so)\n"
	    "\n"
	    "Configurations:\n"
	    "  config set ICCID --body TEXT   store a new configuration version (the server\n"
	    "  config set ICCID --file FILE   takes at most 255 bytes); FILE '-' is stdin\n"
	    "  config get ICCID               print the current configuration's body\n"
	    "  config history ICCID           list the configuration versions, newest first\n"
	    "  config rollback ICCID VERSION  store a new version with VERSION's body\n"
	    "\n"
	    "Device data:\n"
	    "  telemetry ICCID [--limit N]    the newest N telemetry records (default 100)\n"
	    "  events [--since T] [--limit N] the events, oldest first, from time T on\n"
	    "                                 (RFC 3339 such as 2026-11-21T23:00:00Z, or\n"
	    "                                 Unix seconds); the first N only with --limit\n"
	    "\n"
	    "  help                           print this help\n"
	    "\n"
	    "Exit status: 0 success, 1 an error from the server or the connection, or\n"
	    "(sim import, allowlist import) a refused line, 2 a usage error.\n",
	    f);
}

/* Overwrite and free a NUL-terminated secret; NULL is fine. */
static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* A sanitized copy of what the user or the server controls, for messages. */
static const char *
san(const char *s, char *out, size_t cap)
{
	log_sanitize(s, strlen(s), out, cap);
	return out;
}

/*
 * Read at most max bytes of f into a new NUL-terminated buffer (the caller
 * frees *out). Returns 0, ZTP_ETOOBIG if f holds more, ZTP_EIO or
 * ZTP_ENOMEM.
 */
static int
read_bounded(FILE *f, size_t max, char **out, size_t *outlen)
{
	char *data = NULL;
	size_t len = 0, n;
	int rc;

	/* one byte more than allowed tells "too big" from "exactly max" */
	data = malloc(max + 2);
	if (data == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	while ((n = fread(data + len, 1, max + 1 - len, f)) > 0) {
		len += n;
		if (len > max) {
			rc = ZTP_ETOOBIG;
			goto out;
		}
	}
	if (ferror(f)) {
		rc = ZTP_EIO;
		goto out;
	}
	data[len] = '\0';
	*out = data;
	*outlen = len;
	data = NULL;
	rc = 0;
out:
	if (data != NULL) {
		explicit_bzero(data, len);
		free(data);
	}
	return rc;
}

/* ---- the admin file ---- */

static void
admin_free(struct admin *a)
{
	free(a->url);
	free(a->key_id);
	free_secret(a->secret);
	free(a->ca);
	memset(a, 0, sizeof(*a));
}

/* A copy of the non-empty string member key of o, or NULL. */
static char *
admin_field(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL || *s == '\0')
		return NULL;
	return strdup(s);
}

/*
 * Load the admin file: --admin, else $ZTP_ADMIN, else ./ztp-data/admin.json.
 * A relative "ca" is taken relative to the admin file's directory. Errors
 * are printed; the file's contents never are (it holds the secret).
 */
static int
admin_load(struct ctl *c)
{
	const char *path = c->admin_path;
	char *raw = NULL, *ca = NULL;
	size_t rawlen = 0, n;
	json_t *root = NULL;
	json_error_t jerr;
	FILE *f = NULL;
	char spath[512];
	const char *missing = NULL;
	int rc;

	if (path == NULL) {
		path = getenv("ZTP_ADMIN");
		if (path == NULL || *path == '\0')
			path = DEFAULT_ADMIN_FILE;
	}
	san(path, spath, sizeof(spath));
	f = fopen(path, "rb");
	if (f == NULL) {
		errorf("cannot open the admin file %s: %s (use --admin FILE or set ZTP_ADMIN)",
		    spath, strerror(errno));
		rc = ZTP_EIO;
		goto out;
	}
	rc = read_bounded(f, ADMIN_FILE_MAX, &raw, &rawlen);
	if (rc != 0) {
		errorf("cannot read the admin file %s: %s", spath, ztp_strerror(rc));
		goto out;
	}
	/* jansson's message may quote the text, and the text holds the secret */
	root = json_loadb(raw, rawlen, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		errorf("the admin file %s is not a JSON object (line %d, column %d)", spath,
		    root == NULL ? jerr.line : 1, root == NULL ? jerr.column : 1);
		rc = ZTP_EMALFORMED;
		goto out;
	}
	c->admin.url = admin_field(root, "url");
	c->admin.key_id = admin_field(root, "key_id");
	c->admin.secret = admin_field(root, "secret");
	ca = admin_field(root, "ca");
	if (c->admin.url == NULL)
		missing = "url";
	else if (c->admin.key_id == NULL)
		missing = "key_id";
	else if (c->admin.secret == NULL)
		missing = "secret";
	else if (ca == NULL)
		missing = "ca";
	if (missing != NULL) {
		errorf("the admin file %s has no string \"%s\"", spath, missing);
		rc = ZTP_EMALFORMED;
		goto out;
	}
	if (strncasecmp(c->admin.url, "https://", 8) != 0) {
		char surl[256];
		errorf("the admin file's url %s is not https://", san(c->admin.url, surl,
		    sizeof(surl)));
		rc = ZTP_EMALFORMED;
		goto out;
	}
	n = strlen(c->admin.url);
	while (n > 8 && c->admin.url[n - 1] == '/')
		c->admin.url[--n] = '\0';
	if (ca[0] != '/' && strchr(path, '/') != NULL) {
		size_t dirlen = (size_t)(strrchr(path, '/') - path);
		size_t need = dirlen + 1 + strlen(ca) + 1;
		c->admin.ca = malloc(need);
		if (c->admin.ca == NULL) {
			rc = ZTP_ENOMEM;
			errorf("%s", ztp_strerror(rc));
			goto out;
		}
		snprintf(c->admin.ca, need, "%.*s/%s", (int)dirlen, path, ca);
	} else {
		c->admin.ca = ca;
		ca = NULL;
	}
	rc = 0;
out:
	if (rc != 0)
		admin_free(&c->admin);
	free(ca);
	json_decref(root);
	if (raw != NULL) {
		explicit_bzero(raw, rawlen);
		free(raw);
	}
	if (f != NULL)
		fclose(f);
	return rc;
}

/* ---- HTTP ---- */

/* curl write callback: appends to a struct buf, refuses more than max */
static size_t
buf_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;
	size_t n = size * nmemb;
	size_t ncap;
	char *p;

	if (n > b->max - b->len) {
		b->toobig = 1;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap != 0 ? b->cap : 4096;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if (ncap > b->max + 1)
			ncap = b->max + 1;
		p = realloc(b->data, ncap);
		if (p == NULL)
			return 0;
		b->data = p;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* Free a header list after overwriting its lines (one holds the token). */
static void
headers_free(struct curl_slist *h)
{
	struct curl_slist *p;

	for (p = h; p != NULL; p = p->next)
		if (p->data != NULL)
			explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

/* Create the curl handle with the TLS settings every request uses. */
static int
http_open(struct ctl *c)
{
	CURL *h;

	h = curl_easy_init();
	if (h == NULL) {
		errorf("cannot initialize libcurl");
		return ZTP_ENOMEM;
	}
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	/* trust the data directory's CA, and nothing else */
	curl_easy_setopt(h, CURLOPT_CAINFO, c->admin.ca);
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "ztpctl/" ZTPCTL_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, buf_write);
	c->curl = h;
	return 0;
}

static const char *const fixed_headers[] = {
	"Accept: application/json",
	"Expect:", /* no 100-continue round trip for large bodies */
	"Content-Type: application/json",
};

/*
 * Send one request: method, path (query already escaped), an optional
 * JSON body of bodylen bytes, the bearer token if there is one. The answer
 * goes to resp (the caller frees resp->data), its code to *status.
 * Transport failures are printed and return a negative ZTP_E code.
 */
static int
http_do(struct ctl *c, const char *method, const char *path, const char *body,
    size_t bodylen, long *status, struct buf *resp)
{
	struct curl_slist *hdrs = NULL, *h;
	char url[URL_MAX], surl[256];
	char *auth = NULL;
	size_t authlen = 0, i;
	CURLcode cc;
	int rc, n;

	n = snprintf(url, sizeof(url), "%s%s", c->admin.url, path);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		errorf("request URL too long");
		rc = ZTP_ERANGE;
		goto out;
	}
	/* the Content-Type line only when there is a body */
	for (i = 0; i < (body != NULL ? 3 : 2); i++) {
		h = curl_slist_append(hdrs, fixed_headers[i]);
		if (h == NULL)
			goto nomem;
		hdrs = h;
	}
	if (c->token != NULL) {
		authlen = strlen("Authorization: Bearer ") + strlen(c->token) + 1;
		auth = malloc(authlen);
		if (auth == NULL)
			goto nomem;
		snprintf(auth, authlen, "Authorization: Bearer %s", c->token);
		h = curl_slist_append(hdrs, auth);
		if (h == NULL)
			goto nomem;
		hdrs = h;
	}

	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, NULL);
	} else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body != NULL ? body : "");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(body != NULL ? bodylen : 0));
		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST,
		    strcmp(method, "PUT") == 0 ? "PUT" : NULL);
	} else {
		curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, resp);
	c->errbuf[0] = '\0';
	cc = curl_easy_perform(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
	if (resp->toobig) {
		errorf("the server's answer is larger than %u MiB", RESPONSE_MAX >> 20);
		rc = ZTP_ETOOBIG;
		goto out;
	}
	if (cc != CURLE_OK) {
		errorf("%s: %s", san(c->admin.url, surl, sizeof(surl)),
		    c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(cc));
		rc = ZTP_EIO;
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	rc = 0;
	goto out;
nomem:
	rc = ZTP_ENOMEM;
	errorf("%s", ztp_strerror(rc));
out:
	headers_free(hdrs);
	if (auth != NULL) {
		explicit_bzero(auth, authlen);
		free(auth);
	}
	return rc;
}

/*
 * Print a refused request as "ztpctl: <error>: <detail> (HTTP <status>)"
 * from the server's error object, or a sanitized start of whatever else
 * the server sent.
 */
static void
report_http_error(long status, const struct buf *resp)
{
	char serr[CELL_MAX], sdetail[DETAIL_MAX];
	const char *e = NULL, *d = NULL;
	json_t *root;

	root = resp->len > 0 ? json_loadb(resp->data, resp->len, 0, NULL) : NULL;
	if (json_is_object(root)) {
		e = json_string_value(json_object_get(root, "error"));
		d = json_string_value(json_object_get(root, "detail"));
	}
	if (e != NULL && d != NULL && *d != '\0')
		errorf("%s: %s (HTTP %ld)", san(e, serr, sizeof(serr)),
		    san(d, sdetail, sizeof(sdetail)), status);
	else if (e != NULL)
		errorf("%s (HTTP %ld)", san(e, serr, sizeof(serr)), status);
	else if (resp->len > 0) {
		log_sanitize(resp->data, resp->len, sdetail, 160);
		errorf("unexpected answer: %s (HTTP %ld)", sdetail, status);
	} else
		errorf("unexpected answer with no body (HTTP %ld)", status);
	json_decref(root);
}

/*
 * One admin API request without (re)authenticating: body (may be NULL) is
 * sent as JSON. A 2xx answer stores its object in *out (NULL for an empty
 * body; the caller json_decrefs it) and its status in *status (if not
 * NULL). Any other answer is printed and returns ZTP_EIO.
 */
static int
api_send(struct ctl *c, const char *method, const char *path, const json_t *body,
    json_t **out, long *status)
{
	struct buf resp = { NULL, 0, 0, RESPONSE_MAX, 0 };
	char *text = NULL;
	size_t textlen = 0;
	json_t *root = NULL;
	long code = 0;
	int rc;

	*out = NULL;
	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		if (text == NULL) {
			rc = ZTP_ENOMEM;
			errorf("%s", ztp_strerror(rc));
			goto out;
		}
		textlen = strlen(text);
	}
	rc = http_do(c, method, path, text, textlen, &code, &resp);
	if (rc != 0)
		goto out;
	if (code < 200 || code > 299) {
		report_http_error(code, &resp);
		rc = ZTP_EIO;
		goto out;
	}
	if (resp.len > 0) {
		root = json_loadb(resp.data, resp.len, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(root)) {
			errorf("the server's answer is not a JSON object (HTTP %ld)", code);
			rc = ZTP_EMALFORMED;
			goto out;
		}
	}
	*out = root;
	root = NULL;
	if (status != NULL)
		*status = code;
	rc = 0;
out:
	json_decref(root);
	free_secret(text); /* the token request's body holds the secret */
	if (resp.data != NULL) /* and a group's answer may hold a generated master key */
		explicit_bzero(resp.data, resp.len);
	free(resp.data);
	return rc;
}

/* 1 if a token can go into a header line as it is */
static int
token_valid(const char *t)
{
	size_t n = 0;

	for (; *t != '\0'; t++, n++)
		if (*t <= 0x20 || *t >= 0x7f || n >= TOKEN_MAX)
			return 0;
	return n > 0;
}

/*
 * Load the admin file, open the connection and get a bearer token with
 * POST /v1/auth/token, once per run.
 */
static int
ctl_open(struct ctl *c)
{
	json_t *req = NULL, *resp = NULL;
	const char *tok;
	int rc;

	if (c->token != NULL)
		return 0;
	if (c->curl == NULL) {
		rc = admin_load(c);
		if (rc != 0)
			goto out;
		rc = http_open(c);
		if (rc != 0)
			goto out;
	}
	req = json_pack("{s:s, s:s}", "key_id", c->admin.key_id, "secret", c->admin.secret);
	if (req == NULL) {
		rc = ZTP_ENOMEM;
		errorf("%s", ztp_strerror(rc));
		goto out;
	}
	rc = api_send(c, "POST", "/v1/auth/token", req, &resp, NULL);
	if (rc != 0)
		goto out;
	tok = json_string_value(json_object_get(resp, "token"));
	if (tok == NULL || !token_valid(tok)) {
		errorf("the server's token answer has no usable \"token\"");
		rc = ZTP_EMALFORMED;
		goto out;
	}
	c->token = strdup(tok);
	if (c->token == NULL) {
		rc = ZTP_ENOMEM;
		errorf("%s", ztp_strerror(rc));
		goto out;
	}
	rc = 0;
out:
	json_decref(req);
	json_decref(resp);
	return rc;
}

/* An authenticated admin API request; see api_send. */
static int
api_call_status(struct ctl *c, const char *method, const char *path, const json_t *body,
    json_t **out, long *status)
{
	int rc;

	*out = NULL;
	rc = ctl_open(c);
	if (rc != 0)
		return rc;
	return api_send(c, method, path, body, out, status);
}

static int
api_call(struct ctl *c, const char *method, const char *path, const json_t *body,
    json_t **out)
{
	return api_call_status(c, method, path, body, out, NULL);
}

/* ---- output ---- */

/*
 * An array of strings as "a,b,c" (sanitized) into out; -1 if an item is
 * not a string.
 */
static int
strings_join(const json_t *arr, char *out, size_t cap)
{
	char item[CELL_MAX];
	const json_t *v;
	size_t i, n = 0;
	int w;

	json_array_foreach(arr, i, v)
		if (!json_is_string(v))
			return -1;
	snprintf(out, cap, "-");
	json_array_foreach(arr, i, v) {
		log_sanitize(json_string_value(v), json_string_length(v), item, sizeof(item));
		w = snprintf(out + n, cap - n, "%s%s", i > 0 ? "," : "", item);
		if (w < 0 || (size_t)w >= cap - n)
			break; /* truncated */
		n += (size_t)w;
	}
	return 0;
}

/*
 * Format a JSON scalar for a table cell or a "key: value" line into out
 * (cap bytes): strings sanitized and truncated, null or missing as "-",
 * booleans as yes/no.
 */
static void
fmt_value(const json_t *v, char *out, size_t cap)
{
	char *s;

	if (v == NULL || json_is_null(v)) {
		snprintf(out, cap, "-");
	} else if (json_is_string(v)) {
		log_sanitize(json_string_value(v), json_string_length(v), out, cap);
	} else if (json_is_integer(v)) {
		snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(out, cap, "%s", json_is_true(v) ? "yes" : "no");
	} else if (json_is_real(v)) {
		snprintf(out, cap, "%g", json_real_value(v));
	} else if (json_is_array(v) && strings_join(v, out, cap) == 0) {
		/* joined with commas */
	} else {
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		log_sanitize(s != NULL ? s : "?", s != NULL ? strlen(s) : 1, out, cap);
		free(s);
	}
}

#define TABLE_MAX_COLS 7

/* rows of sanitized cells, printed with aligned columns */
struct table {
	size_t ncols;
	const char *const *head;
	char **cells; /* nrows * ncols, owned */
	size_t nrows;
	size_t cap;
	size_t width[TABLE_MAX_COLS];
};

static void
table_init(struct table *t, const char *const *head, size_t ncols)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->head = head;
	t->ncols = ncols;
	for (i = 0; i < ncols; i++)
		t->width[i] = strlen(head[i]);
}

/* Append a row of ncols strings (copied). Returns 0 or ZTP_ENOMEM. */
static int
table_add(struct table *t, char cells[][DETAIL_MAX])
{
	size_t i, n;
	char **p;

	if (t->nrows == t->cap) {
		n = t->cap != 0 ? t->cap * 2 : 64;
		p = realloc(t->cells, n * t->ncols * sizeof(*p));
		if (p == NULL)
			return ZTP_ENOMEM;
		t->cells = p;
		t->cap = n;
	}
	for (i = 0; i < t->ncols; i++) {
		p = &t->cells[t->nrows * t->ncols + i];
		*p = strdup(cells[i]);
		if (*p == NULL) {
			while (i-- > 0)
				free(t->cells[t->nrows * t->ncols + i]);
			return ZTP_ENOMEM;
		}
		if (strlen(*p) > t->width[i])
			t->width[i] = strlen(*p);
	}
	t->nrows++;
	return 0;
}

static void
table_print_row(const struct table *t, const char *const *row)
{
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		if (i + 1 < t->ncols)
			printf("%-*s  ", (int)t->width[i], row[i]);
		else
			printf("%s\n", row[i]);
	}
}

static void
table_print(const struct table *t)
{
	size_t r;

	table_print_row(t, t->head);
	for (r = 0; r < t->nrows; r++)
		table_print_row(t, (const char *const *)&t->cells[r * t->ncols]);
}

static void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/*
 * Print the array under key of the object root as a table: one row per
 * element, the cells from cols (member names), or from cell_fn when given.
 */
static int
print_table(const json_t *arr, const char *const *head, const char *const *cols,
    size_t ncols, void (*cell_fn)(const json_t *, size_t, char *, size_t))
{
	char cells[TABLE_MAX_COLS][DETAIL_MAX];
	struct table t;
	const json_t *item;
	size_t i, k;
	int rc;

	table_init(&t, head, ncols);
	json_array_foreach(arr, i, item) {
		for (k = 0; k < ncols; k++) {
			size_t cap = k + 1 < ncols ? CELL_MAX : DETAIL_MAX;
			if (cell_fn != NULL)
				cell_fn(item, k, cells[k], cap);
			else
				fmt_value(json_object_get(item, cols[k]), cells[k], cap);
		}
		rc = table_add(&t, cells);
		if (rc != 0) {
			errorf("%s", ztp_strerror(rc));
			goto out;
		}
	}
	table_print(&t);
	rc = 0;
out:
	table_free(&t);
	return rc;
}

/* The server's JSON for scripts: one pretty-printed document. */
static int
print_json(const json_t *v)
{
	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY) != 0)
		return ZTP_EIO;
	putchar('\n');
	return 0;
}

/* "key: value" lines of every member of a SIM (or any flat object). */
static void
print_object(const json_t *o)
{
	char val[DETAIL_MAX];
	const char *key;
	const json_t *v;
	size_t w = 0;

	json_object_foreach((json_t *)o, key, v)
		if (strlen(key) > w)
			w = strlen(key);
	json_object_foreach((json_t *)o, key, v) {
		char skey[CELL_MAX];
		fmt_value(v, val, sizeof(val));
		printf("%s:%*s %s\n", san(key, skey, sizeof(skey)), (int)(w - strlen(key)), "",
		    val);
	}
}

/* how a list prints as a table: head, and cells from the members cols or from cell */
struct table_spec {
	const char *const *head;
	const char *const *cols;
	size_t ncols;
	void (*cell)(const json_t *item, size_t col, char *out, size_t cap);
};

/*
 * Print a list the server sent back: with --json the whole answer res,
 * else the array under key as a table. An answer without it is an error.
 */
static int
print_list(struct ctl *c, const json_t *res, const char *key, const struct table_spec *t)
{
	const json_t *arr;

	if (c->json)
		return print_json(res);
	arr = json_object_get(res, key);
	if (!json_is_array(arr)) {
		errorf("the server's answer has no \"%s\" array", key);
		return ZTP_EMALFORMED;
	}
	return print_table(arr, t->head, t->cols, t->ncols, t->cell);
}

/* GET a list that comes in one answer (path) and print it (print_list). */
static int
get_list(struct ctl *c, const char *path, const char *key, const struct table_spec *t)
{
	json_t *res = NULL;
	int rc;

	rc = api_call(c, "GET", path, NULL, &res);
	if (rc == 0)
		rc = print_list(c, res, key, t);
	json_decref(res);
	return rc;
}

/* Print an object the server sent back: its JSON, or "key: value" lines. */
static int
show_object(struct ctl *c, const json_t *o)
{
	if (o == NULL) {
		errorf("the server's answer is empty");
		return ZTP_EMALFORMED;
	}
	if (c->json)
		return print_json(o);
	print_object(o);
	return 0;
}

/*
 * One request about one thing named by a checked path segment: what is
 * printed on success is done (NULL: the object the server sent back).
 */
static int
one_request(struct ctl *c, const char *method, const char *path, const json_t *body,
    const char *done)
{
	json_t *res = NULL;
	int rc;

	rc = api_call(c, method, path, body, &res);
	if (rc == 0 && done == NULL)
		rc = show_object(c, res);
	else if (rc == 0 && c->json && res != NULL)
		rc = print_json(res);
	else if (rc == 0 && !c->json)
		printf("%s\n", done);
	json_decref(res);
	return rc;
}

/*
 * One request about the thing that a->pos[0] names, checked by check:
 * method on base/<name><suffix>. On success "<what> <name> <done>" is
 * printed, or with done NULL the object that came back (one_request).
 */
static int
thing_request(struct ctl *c, const struct args *a, int (*check)(const char *),
    const char *method, const char *base, const char *suffix, const char *what,
    const char *done)
{
	char path[128], line[128];
	int rc;

	if ((rc = check(a->pos[0])) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/%s%s", base, a->pos[0], suffix);
	if (done != NULL)
		snprintf(line, sizeof(line), "%s %s %s", what, a->pos[0], done);
	return one_request(c, method, path, NULL, done != NULL ? line : NULL);
}

/*
 * GET one object and show it (show_object); without --json, its member
 * tail is taken out of the "key: value" lines first and left in *tail for
 * the caller to print after them (NULL otherwise; the caller json_decrefs it).
 */
static int
show_object_tail(struct ctl *c, const char *path, const char *tail, json_t **out)
{
	json_t *res = NULL;
	int rc;

	*out = NULL;
	rc = api_call(c, "GET", path, NULL, &res);
	if (rc != 0 || c->json || res == NULL) {
		if (rc == 0)
			rc = show_object(c, res);
		goto out;
	}
	*out = json_incref(json_object_get(res, tail));
	json_object_del(res, tail);
	print_object(res);
out:
	json_decref(res);
	return rc;
}

/* ---- argument checks ---- */

static int
check_iccid(const char *s)
{
	char buf[64];

	if (!iccid_valid(s, strlen(s)))
		return usage_error("invalid ICCID '%s': expected %d to %d digits",
		    san(s, buf, sizeof(buf)), ICCID_MIN_DIGITS, ICCID_MAX_DIGITS);
	return 0;
}

/* a group name: 1 to 63 of [A-Za-z0-9_.-] */
static int
check_group(const char *s)
{
	char buf[96];

	if (!simcsv_group_valid(s, strlen(s)))
		return usage_error("invalid group name '%s': expected 1 to %d of A-Z a-z 0-9 _ . -",
		    san(s, buf, sizeof(buf)), SIMCSV_GROUP_MAX);
	return 0;
}

/* --limit N; *out is untouched without the option */
static int
check_limit(const char *s, uint64_t *out)
{
	char buf[64];

	if (s != NULL && num_parse_u64z(s, 1, LIST_MAX, out) != 0)
		return usage_error("invalid --limit '%s': expected a number from 1 to %llu",
		    san(s, buf, sizeof(buf)), (unsigned long long)LIST_MAX);
	return 0;
}

/* ---- paged lists ---- */

/*
 * GET every page of a list until it ends or max items (0: all) are in:
 * path is the endpoint, query its other parameters (escaped, may be ""),
 * key the array member, cursor the parameter that takes "next". Stores
 * {key: [...], "next": ...} in *out (the caller json_decrefs it); "next"
 * is non-null only when max stopped the listing early.
 */
static int
api_list(struct ctl *c, const char *path, const char *query, const char *key,
    const char *cursor, uint64_t max, json_t **out)
{
	char url[URL_MAX], curbuf[256] = "", prev[256] = "";
	json_t *all = NULL, *items, *page = NULL, *next = NULL, *merged = NULL;
	uint64_t got = 0, want;
	size_t i;
	int rc, n;

	*out = NULL;
	all = json_array();
	if (all == NULL) {
		rc = ZTP_ENOMEM;
		errorf("%s", ztp_strerror(rc));
		goto out;
	}
	for (;;) {
		want = max != 0 && max - got < PAGE_MAX ? max - got : PAGE_MAX;
		n = snprintf(url, sizeof(url), "%s?%s%slimit=%llu%s%s%s%s", path, query,
		    *query != '\0' ? "&" : "", (unsigned long long)want,
		    *curbuf != '\0' ? "&" : "", *curbuf != '\0' ? cursor : "",
		    *curbuf != '\0' ? "=" : "", curbuf);
		if (n < 0 || (size_t)n >= sizeof(url)) {
			errorf("request URL too long");
			rc = ZTP_ERANGE;
			goto out;
		}
		json_decref(page);
		rc = api_call(c, "GET", url, NULL, &page);
		if (rc != 0)
			goto out;
		items = json_object_get(page, key);
		next = json_object_get(page, "next");
		if (!json_is_array(items)) {
			errorf("the server's answer has no \"%s\" array", key);
			rc = ZTP_EMALFORMED;
			goto out;
		}
		for (i = 0; i < json_array_size(items) && (max == 0 || got < max); i++, got++)
			if (json_array_append(all, json_array_get(items, i)) != 0) {
				rc = ZTP_ENOMEM;
				errorf("%s", ztp_strerror(rc));
				goto out;
			}
		if (next == NULL || json_is_null(next) || (max != 0 && got >= max))
			break;
		/* the cursor is an ICCID, a UDID or a serial, or a record id (the others) */
		if (json_is_integer(next)) {
			snprintf(curbuf, sizeof(curbuf), "%" JSON_INTEGER_FORMAT,
			    json_integer_value(next));
		} else if (json_is_string(next) && json_string_length(next) <= UDID_MAX) {
			char *e = curl_easy_escape(c->curl, json_string_value(next),
			    (int)json_string_length(next));
			if (e == NULL) {
				rc = ZTP_ENOMEM;
				errorf("%s", ztp_strerror(rc));
				goto out;
			}
			snprintf(curbuf, sizeof(curbuf), "%s", e);
			curl_free(e);
		} else {
			errorf("the server's answer has an invalid \"next\"");
			rc = ZTP_EMALFORMED;
			goto out;
		}
		/* a page that brings nothing new would loop forever */
		if (json_array_size(items) == 0 || strcmp(curbuf, prev) == 0) {
			errorf("the server's pages do not advance (next %s)", curbuf);
			rc = ZTP_EMALFORMED;
			goto out;
		}
		memcpy(prev, curbuf, sizeof(prev));
	}
	merged = json_pack("{s:O, s:O}", key, all, "next",
	    next != NULL && max != 0 && got >= max ? next : json_null());
	if (merged == NULL) {
		rc = ZTP_ENOMEM;
		errorf("%s", ztp_strerror(rc));
		goto out;
	}
	*out = merged;
	rc = 0;
out:
	json_decref(page);
	json_decref(all);
	return rc;
}

/* --limit N, or --all (0: every item), into *max; untouched without either */
static int
list_max(const struct args *a, uint64_t *max)
{
	int rc;

	if ((rc = check_limit(a->limit, max)) != 0)
		return rc;
	if (a->all)
		*max = 0;
	return 0;
}

/*
 * GET the pages of a list (api_list: at most max items, 0 for all) and
 * print it (print_list).
 */
static int
list_pages(struct ctl *c, const char *path, const char *query, const char *key,
    const char *cursor, uint64_t max, const struct table_spec *t)
{
	json_t *res = NULL;
	int rc;

	rc = api_list(c, path, query, key, cursor, max, &res);
	if (rc == 0)
		rc = print_list(c, res, key, t);
	json_decref(res);
	return rc;
}

/* ---- commands ---- */

static int
finish_sim_change(struct ctl *c, const json_t *sim, const char *iccid, const char *what)
{
	if (c->json)
		return sim != NULL ? print_json(sim) : 0;
	printf("SIM %s %s\n", iccid, what);
	return 0;
}

/*
 * sim add ICCID --derived [--device-id HEX]: a SIM of a derived group,
 * pre-registered with no PSK; the server finds its group (the derived one
 * whose prefix the ICCID has) or refuses it.
 */
static int
sim_add_derived(struct ctl *c, const struct args *a)
{
	const char *iccid = a->pos[0], *group;
	json_t *req = NULL, *sim = NULL;
	size_t dlen;
	char buf[80];
	int rc;

	if (a->psk != NULL || a->group != NULL)
		return usage_error("sim add: --derived takes neither --psk nor --group (the key and "
				   "the group are those of the derived group its ICCID falls under)");
	if (a->device_id != NULL) {
		dlen = strlen(a->device_id);
		if (!hex_valid(a->device_id, dlen) || dlen > 2 * DEVID_MAX_BYTES)
			return usage_error("invalid --device-id '%s': expected 1 to %d bytes in hex",
			    san(a->device_id, buf, sizeof(buf)), DEVID_MAX_BYTES);
	}
	req = json_pack("{s:s, s:b}", "iccid", iccid, "derived", 1);
	if (req == NULL || (a->device_id != NULL &&
	    json_object_set_new(req, "device_id", json_string(a->device_id)) != 0)) {
		rc = ZTP_ENOMEM;
		errorf("%s", ztp_strerror(rc));
		goto out;
	}
	rc = api_call(c, "POST", "/v1/sims", req, &sim);
	if (rc != 0)
		goto out;
	if (c->json) {
		rc = sim != NULL ? print_json(sim) : 0;
		goto out;
	}
	group = json_string_value(json_object_get(sim, "group"));
	printf("SIM %s pre-registered in derived group %s (no PSK stored: its key is derived)\n",
	    iccid, san(group ? group : "?", buf, sizeof(buf)));
out:
	json_decref(req);
	json_decref(sim);
	return rc;
}

static int
cmd_sim_add(struct ctl *c, const struct args *a)
{
	const char *iccid = a->pos[0];
	json_t *req = NULL, *sim = NULL;
	char path[64];
	size_t plen;
	int rc;

	rc = check_iccid(iccid);
	if (rc != 0)
		return rc;
	if (a->derived)
		return sim_add_derived(c, a);
	if (a->device_id != NULL)
		return usage_error("sim add: --device-id goes with --derived");
	if (a->psk == NULL)
		return usage_error("sim add: --psk HEX (or --derived) is required");
	plen = strlen(a->psk);
	if (!hex_valid(a->psk, plen) || plen / 2 < PSK_MIN_BYTES || plen / 2 > PSK_MAX_BYTES)
		return usage_error("invalid --psk: expected %d to %d bytes in hex "
		    "(%d to %d hex digits)", PSK_MIN_BYTES, PSK_MAX_BYTES,
		    2 * PSK_MIN_BYTES, 2 * PSK_MAX_BYTES);
	if (a->group != NULL) {
		rc = check_group(a->group);
		if (rc != 0)
			return rc;
	}
	req = json_pack("{s:s, s:s}", "iccid", iccid, "psk", a->psk);
	if (req == NULL || (a->group != NULL &&
	    json_object_set_new(req, "group", json_string(a->group)) != 0)) {
		rc = ZTP_ENOMEM;
		errorf("%s", ztp_strerror(rc));
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/sims");
	rc = api_call(c, "POST", path, req, &sim);
	if (rc != 0)
		goto out;
	rc = finish_sim_change(c, sim, iccid, "added");
out:
	json_decref(req);
	json_decref(sim);
	return rc;
}

static const char *const sim_head[] = { "ICCID", "BLOCKED", "DEVICE ID", "GEN", "CONFIG",
	"UPDATED" };
static const char *const sim_cols[] = { "iccid", "blocked", "device_id", "psk_generation",
	"config_version", "updated_at" };

/* the cells of a SIM: a key derived from its group's master key shows in GEN */
static void
sim_cell(const json_t *item, size_t col, char *out, size_t cap)
{
	fmt_value(json_object_get(item, sim_cols[col]), out, cap);
	if (col == 3 && json_is_true(json_object_get(item, "derived")))
		snprintf(out + strlen(out), cap - strlen(out), " (derived)");
}

static const struct table_spec sim_table = { sim_head, sim_cols, 6, sim_cell };

static int
cmd_sim_list(struct ctl *c, const struct args *a)
{
	uint64_t max = 0;
	int rc;

	if ((rc = list_max(a, &max)) != 0)
		return rc;
	return list_pages(c, "/v1/sims", "", "sims", "after", max, &sim_table);
}

/*
 * The commands that send one request about one SIM and get a SIM back
 * (or nothing, for delete): what differs is in this table.
 */
static const struct {
	const char *name;
	const char *method;
	const char *suffix;
	const char *done; /* NULL: show the SIM */
} sim_actions[] = {
	{ "show", "GET", "", NULL },
	{ "block", "POST", "/block", "blocked" },
	{ "unblock", "POST", "/unblock", "unblocked" },
	{ "rebind", "POST", "/rebind", "rebound: the next Device ID seen will be bound" },
	{ "delete", "DELETE", "", "deleted" },
	{ "rotate", "POST", "/rotate", "rotation asked: the next key is offered on its next request" },
};

static int
sim_action(struct ctl *c, const struct args *a, size_t action)
{
	const char *iccid = a->pos[0];
	json_t *sim = NULL;
	char path[128];
	int rc;

	rc = check_iccid(iccid);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/sims/%s%s", iccid, sim_actions[action].suffix);
	rc = api_call(c, sim_actions[action].method, path, NULL, &sim);
	if (rc != 0)
		goto out;
	if (sim_actions[action].done != NULL)
		rc = finish_sim_change(c, sim, iccid, sim_actions[action].done);
	else
		rc = show_object(c, sim);
out:
	json_decref(sim);
	return rc;
}

static int
cmd_sim_show(struct ctl *c, const struct args *a)
{
	return sim_action(c, a, 0);
}

static int
cmd_sim_block(struct ctl *c, const struct args *a)
{
	return sim_action(c, a, 1);
}

static int
cmd_sim_unblock(struct ctl *c, const struct args *a)
{
	return sim_action(c, a, 2);
}

static int
cmd_sim_rebind(struct ctl *c, const struct args *a)
{
	return sim_action(c, a, 3);
}

static int
cmd_sim_delete(struct ctl *c, const struct args *a)
{
	return sim_action(c, a, 4);
}

static int
cmd_sim_rotate(struct ctl *c, const struct args *a)
{
	return sim_action(c, a, 5);
}

/* Print a stored configuration version's summary line, or its JSON. */
static int
finish_config_change(struct ctl *c, const json_t *ver, const char *iccid, const char *what)
{
	char v[CELL_MAX], size[CELL_MAX];

	if (c->json)
		return print_json(ver);
	fmt_value(json_object_get(ver, "version"), v, sizeof(v));
	fmt_value(json_object_get(ver, "size"), size, sizeof(size));
	printf("SIM %s configuration version %s %s (%s bytes)\n", iccid, v, what, size);
	return 0;
}

/*
 * config set ICCID (--body TEXT | --file F): the size limit is the
 * server's to enforce (its 413 is shown); the file read stops at 64 KiB.
 */
static int
cmd_config_set(struct ctl *c, const struct args *a)
{
	const char *iccid = a->pos[0];
	char *text = NULL;
	size_t len = 0;
	json_t *req = NULL, *ver = NULL, *s;
	char path[128], sfile[256];
	FILE *f = NULL;
	int rc;

	rc = check_iccid(iccid);
	if (rc != 0)
		return rc;
	if ((a->body == NULL) == (a->file == NULL))
		return usage_error("config set: give exactly one of --body TEXT and --file FILE");
	if (a->file != NULL) {
		san(a->file, sfile, sizeof(sfile));
		f = strcmp(a->file, "-") == 0 ? stdin : fopen(a->file, "rb");
		if (f == NULL) {
			errorf("%s: %s", sfile, strerror(errno));
			rc = ZTP_EIO;
			goto out;
		}
		rc = read_bounded(f, CONFIG_FILE_MAX, &text, &len);
		if (rc == ZTP_ETOOBIG) {
			rc = usage_error("%s: larger than %u KiB", sfile, CONFIG_FILE_MAX >> 10);
			goto out;
		} else if (rc != 0) {
			errorf("%s: %s", sfile, ztp_strerror(rc));
			goto out;
		}
	} else {
		len = strlen(a->body);
	}
	if (memchr(a->body != NULL ? a->body : text, '\0', len) != NULL) {
		rc = usage_error("the configuration contains a NUL byte");
		goto out;
	}
	s = json_stringn(a->body != NULL ? a->body : text, len);
	if (s == NULL) {
		rc = usage_error("the configuration is not valid UTF-8");
		goto out;
	}
	req = json_pack("{s:o}", "body", s);
	if (req == NULL) {
		rc = ZTP_ENOMEM;
		errorf("%s", ztp_strerror(rc));
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/sims/%s/config", iccid);
	rc = api_call(c, "PUT", path, req, &ver);
	if (rc != 0)
		goto out;
	rc = finish_config_change(c, ver, iccid, "stored");
out:
	if (f != NULL && f != stdin)
		fclose(f);
	free(text);
	json_decref(req);
	json_decref(ver);
	return rc;
}

/* config get: the body exactly as stored; a newline is added on a tty only */
static int
cmd_config_get(struct ctl *c, const struct args *a)
{
	const char *iccid = a->pos[0];
	json_t *ver = NULL, *body;
	char path[128];
	size_t len;
	int rc;

	rc = check_iccid(iccid);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/sims/%s/config", iccid);
	rc = api_call(c, "GET", path, NULL, &ver);
	if (rc != 0)
		goto out;
	if (c->json) {
		rc = print_json(ver);
		goto out;
	}
	body = json_object_get(ver, "body");
	if (!json_is_string(body)) {
		errorf("the server's answer has no \"body\" string");
		rc = ZTP_EMALFORMED;
		goto out;
	}
	len = json_string_length(body);
	fwrite(json_string_value(body), 1, len, stdout);
	if (isatty(STDOUT_FILENO) && (len == 0 || json_string_value(body)[len - 1] != '\n'))
		putchar('\n');
	rc = 0;
out:
	json_decref(ver);
	return rc;
}

static const char *const history_head[] = { "VERSION", "CREATED", "SIZE", "SOURCE", "ETAG",
	"BODY" };

static void
history_cell(const json_t *item, size_t col, char *out, size_t cap)
{
	static const char *const cols[] = { "version", "created_at", "size", "source", "etag",
		"body" };

	fmt_value(json_object_get(item, cols[col]), out, col == 5 ? BODY_CELL_MAX : cap);
}

static int
cmd_config_history(struct ctl *c, const struct args *a)
{
	static const struct table_spec t = { history_head, NULL, 6, history_cell };
	const char *iccid = a->pos[0];
	char path[128];
	int rc;

	rc = check_iccid(iccid);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/sims/%s/config/history", iccid);
	return get_list(c, path, "versions", &t);
}

static int
cmd_config_rollback(struct ctl *c, const struct args *a)
{
	const char *iccid = a->pos[0];
	json_t *req = NULL, *ver = NULL;
	char path[128], what[64], sv[64];
	uint64_t v;
	int rc;

	rc = check_iccid(iccid);
	if (rc != 0)
		return rc;
	if (num_parse_u64z(a->pos[1], 1, INT64_MAX, &v) != 0)
		return usage_error("invalid VERSION '%s': expected a number from 1",
		    san(a->pos[1], sv, sizeof(sv)));
	req = json_pack("{s:I}", "version", (json_int_t)v);
	if (req == NULL) {
		rc = ZTP_ENOMEM;
		errorf("%s", ztp_strerror(rc));
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/sims/%s/config/rollback", iccid);
	rc = api_call(c, "POST", path, req, &ver);
	if (rc != 0)
		goto out;
	snprintf(what, sizeof(what), "stored with version %llu's body", (unsigned long long)v);
	rc = finish_config_change(c, ver, iccid, what);
out:
	json_decref(req);
	json_decref(ver);
	return rc;
}

static const char *const telemetry_head[] = { "ID", "RECEIVED", "DEVICE ID", "SIZE",
	"BODY" };

/* the body if it is text, else "hex:" and its hex */
static void
telemetry_cell(const json_t *item, size_t col, char *out, size_t cap)
{
	static const char *const cols[] = { "id", "received_at", "device_id", "size" };
	const json_t *body = json_object_get(item, "body");
	char hex[BODY_CELL_MAX];

	if (col < 4) {
		fmt_value(json_object_get(item, cols[col]), out, cap);
	} else if (json_is_string(body)) {
		fmt_value(body, out, BODY_CELL_MAX);
	} else {
		fmt_value(json_object_get(item, "body_hex"), hex, sizeof(hex) - 4);
		snprintf(out, cap, "hex:%s", hex);
	}
}

static int
cmd_telemetry(struct ctl *c, const struct args *a)
{
	static const struct table_spec t = { telemetry_head, NULL, 5, telemetry_cell };
	const char *iccid = a->pos[0];
	uint64_t max = TELEMETRY_DEFAULT;
	char path[128];
	int rc;

	rc = check_iccid(iccid);
	if (rc == 0)
		rc = check_limit(a->limit, &max);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/sims/%s/telemetry", iccid);
	return list_pages(c, path, "", "telemetry", "before", max, &t);
}

static const char *const event_head[] = { "TIME", "KIND", "ICCID", "PEER", "DETAIL" };
static const char *const event_cols[] = { "time", "kind", "iccid", "peer", "detail" };

/* events [--since T] [--limit N]: T is checked here and sent as written */
static int
cmd_events(struct ctl *c, const struct args *a)
{
	static const struct table_spec t = { event_head, event_cols, 5, NULL };
	char query[256], ssince[64];
	uint64_t max = 0;
	int64_t ms;
	char *e;
	int rc;

	rc = check_limit(a->limit, &max);
	if (rc != 0)
		return rc;
	query[0] = '\0';
	if (a->since != NULL) {
		if (clock_parse(a->since, &ms) != 0)
			return usage_error("invalid --since '%s': expected RFC 3339 "
			    "(2026-11-21T23:00:00Z) or Unix seconds",
			    san(a->since, ssince, sizeof(ssince)));
		/* curl_easy_escape needs no handle */
		e = curl_easy_escape(NULL, a->since, 0);
		if (e == NULL) {
			errorf("%s", ztp_strerror(ZTP_ENOMEM));
			return ZTP_ENOMEM;
		}
		snprintf(query, sizeof(query), "since=%s", e);
		curl_free(e);
	}
	return list_pages(c, "/v1/events", query, "events", "after", max, &t);
}

/* ---- sim import, allowlist import ---- */

#define IMPORT_BATCH 5000                  /* rows per request: the server's maximum */
#define IMPORT_BODY_MAX (2u * 1024 * 1024) /* the server's limit for an import body */
#define IMPORT_READ_SIZE (64u * 1024)
#define IMPORT_SHOW_MAX 50      /* refused lines listed without --json */
#define IMPORT_INTERN_MAX 256   /* distinct reasons of the server looked up */
#define PROGRESS_INTERVAL_MS 100 /* at most 10 updates a second */

#define IMPORT_SKIP 1            /* a line's parser: nothing to import on it */

/* one row as JSON at most: {"iccid":"<20>","psk":"<128>","group":"<63>"}, */
#define IMPORT_ROW_JSON_MAX                                                   \
	(sizeof("{\"iccid\":\"\",\"psk\":\"\",\"group\":\"\"},") - 1 + ICCID_MAX_DIGITS + \
	    2 * SIMCSV_PSK_MAX + SIMCSV_GROUP_MAX)
/* {"udid":"<64>","key_sha256":"<64>","group":"<63>","iccid":"<20>"}, */
#define IMPORT_ALLOW_JSON_MAX                                                             \
	(sizeof("{\"udid\":\"\",\"key_sha256\":\"\",\"group\":\"\",\"iccid\":\"\"},") - 1 + \
	    UDID_MAX + (ALLOWCSV_KEY_HEX_SIZE - 1) + ALLOWCSV_GROUP_MAX + ICCID_MAX_DIGITS)
#define IMPORT_ROW_MAX \
	(IMPORT_ROW_JSON_MAX > IMPORT_ALLOW_JSON_MAX ? IMPORT_ROW_JSON_MAX : IMPORT_ALLOW_JSON_MAX)
#define IMPORT_BODY_CAP (sizeof("{\"entries\":[]}") + IMPORT_BATCH * IMPORT_ROW_MAX)
_Static_assert(IMPORT_BODY_CAP <= IMPORT_BODY_MAX, "a full batch fits the server's limit");
#define IMPORT_LINE_MAX ALLOWCSV_LINE_MAX
_Static_assert(IMPORT_LINE_MAX >= SIMCSV_LINE_MAX, "a SIM file's longest line fits");

/*
 * A line reader with a bounded buffer: it never holds more than
 * IMPORT_READ_SIZE bytes of the file and one line of IMPORT_LINE_MAX + 2
 * bytes. A longer line is cut there (the parser refuses it as too long)
 * and the rest of it is skipped. NUL bytes are data like any other. It
 * reads with read(2), which returns what a pipe has: a slow producer's
 * rows are not held back until a whole buffer is full, and no stdio
 * buffer keeps a copy of the PSKs.
 */
struct line_reader {
	int fd;
	size_t pos, end;
	int eof;
	uint64_t lineno; /* of the line last returned, from 1 */
	char line[IMPORT_LINE_MAX + 2];
	char buf[IMPORT_READ_SIZE];
};

/*
 * The next line, without its '\n', in *line (valid until the next call)
 * and *len. Returns 1, 0 at the end of the file, or ZTP_EIO.
 */
static int
reader_next(struct line_reader *r, const char **line, size_t *len)
{
	size_t n = 0, take, room;
	const char *nl;
	int any = 0;

	for (;;) {
		if (r->pos == r->end) {
			if (r->eof)
				break;
			ssize_t got = read(r->fd, r->buf, sizeof(r->buf));
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return ZTP_EIO;
			r->pos = 0;
			r->end = (size_t)got;
			if (got == 0) {
				r->eof = 1;
				break;
			}
		}
		any = 1;
		nl = memchr(r->buf + r->pos, '\n', r->end - r->pos);
		take = nl != NULL ? (size_t)(nl - (r->buf + r->pos)) : r->end - r->pos;
		room = sizeof(r->line) - n;
		memcpy(r->line + n, r->buf + r->pos, take < room ? take : room);
		n += take < room ? take : room;
		r->pos += take;
		if (nl != NULL) {
			r->pos++;
			break;
		}
	}
	if (!any)
		return 0;
	r->lineno++;
	*line = r->line;
	*len = n;
	return 1;
}

/* a refused line: why is static or one of the import's interned strings */
struct refusal {
	uint64_t line;
	const char *why;
};

struct import;

/* what differs between the imports */
struct import_kind {
	const char *endpoint; /* POST one batch here */
	const char *head;     /* the batch's start: its array member */
	/*
	 * Parse a line of the file and append its row to the batch (0), or
	 * say there is nothing on it (IMPORT_SKIP), or refuse it
	 * (ZTP_EMALFORMED, *why a static sentence).
	 */
	int (*line)(struct import *im, const char *line, size_t len, uint64_t lineno,
	    const char **why);
};

/* one run of sim import or allowlist import; large, so it lives on the heap */
struct import {
	struct ctl *c;
	const struct import_kind *kind;
	int rows_seen; /* a line was not skipped: no header after it */
	char *body; /* the batch as JSON: it holds PSKs, wiped after each request */
	size_t len;
	size_t nrows;                    /* rows in the batch */
	uint64_t line_of[IMPORT_BATCH];  /* each row's line in the file */
	unsigned char seen[IMPORT_BATCH]; /* rows the server's answer accounted for */
	uint64_t added, unchanged, done; /* done: rows answered and lines refused here */
	struct refusal *refused;
	size_t nrefused, refcap;
	char **reasons; /* the server's reasons, owned */
	size_t nreasons, reasoncap;
	int tty;
	int64_t t0, tlast; /* ms, monotonic */
};

/* "N rows done, R rows/s" on a terminal's stderr, at most every 100 ms */
static void
import_progress(struct import *im, int final)
{
	int64_t now, ms;

	if (!im->tty)
		return;
	now = clock_mono_ms();
	if (!final && now - im->tlast < PROGRESS_INTERVAL_MS)
		return;
	im->tlast = now;
	ms = now - im->t0;
	fprintf(stderr, "\rimport: %llu rows done, %llu rows/s    ", (unsigned long long)im->done,
	    (unsigned long long)(ms > 0 ? im->done * 1000 / (uint64_t)ms : 0));
	progress_open = 1;
	if (final)
		progress_end();
}

/*
 * Keep the server's reason s (len bytes) once: the same few reasons come
 * back for many rows. NULL when out of memory.
 */
static const char *
import_intern(struct import *im, const char *s, size_t len)
{
	size_t i;
	char **p;

	for (i = 0; i < im->nreasons && i < IMPORT_INTERN_MAX; i++)
		if (strlen(im->reasons[i]) == len && memcmp(im->reasons[i], s, len) == 0)
			return im->reasons[i];
	if (im->nreasons == im->reasoncap) {
		size_t n = im->reasoncap != 0 ? im->reasoncap * 2 : 16;
		p = realloc(im->reasons, n * sizeof(*p));
		if (p == NULL)
			return NULL;
		im->reasons = p;
		im->reasoncap = n;
	}
	im->reasons[im->nreasons] = strndup(s, len);
	if (im->reasons[im->nreasons] == NULL)
		return NULL;
	return im->reasons[im->nreasons++];
}

/* Record line as refused for why. Returns 0 or ZTP_ENOMEM (printed). */
static int
import_refuse(struct import *im, uint64_t line, const char *why)
{
	struct refusal *p;

	if (why == NULL)
		goto nomem;
	if (im->nrefused == im->refcap) {
		size_t n = im->refcap != 0 ? im->refcap * 2 : 64;
		p = realloc(im->refused, n * sizeof(*p));
		if (p == NULL)
			goto nomem;
		im->refused = p;
		im->refcap = n;
	}
	im->refused[im->nrefused].line = line;
	im->refused[im->nrefused].why = why;
	im->nrefused++;
	return 0;
nomem:
	errorf("%s", ztp_strerror(ZTP_ENOMEM));
	return ZTP_ENOMEM;
}

static void
body_put(struct import *im, const char *s, size_t n)
{
	memcpy(im->body + im->len, s, n);
	im->len += n;
}

#define BODY_PUT(im, lit) body_put((im), (lit), sizeof(lit) - 1)

/* Start the batch, or the next row of it. */
static void
import_row_start(struct import *im)
{
	if (im->nrows == 0) {
		im->len = 0;
		body_put(im, im->kind->head, strlen(im->kind->head));
	} else {
		BODY_PUT(im, ",");
	}
}

/*
 * Append a parsed row to the batch. Its strings are digits, hex and
 * [A-Za-z0-9_.-] (the parser saw to it): nothing to escape, and
 * IMPORT_BODY_CAP has room for IMPORT_BATCH of the longest.
 */
static void
import_add_row(struct import *im, const struct simcsv_row *row, uint64_t line)
{
	import_row_start(im);
	BODY_PUT(im, "{\"iccid\":\"");
	body_put(im, row->iccid, strlen(row->iccid));
	BODY_PUT(im, "\",\"psk\":\"");
	body_put(im, row->psk_hex, 2 * row->psk_len);
	if (row->group[0] != '\0') {
		BODY_PUT(im, "\",\"group\":\"");
		body_put(im, row->group, strlen(row->group));
	}
	BODY_PUT(im, "\"}");
	im->line_of[im->nrows++] = line;
}

/*
 * Take the server's answer to a batch: {"added", "unchanged", "refused":
 * [{"index", "error"}]}. Every row must be accounted for exactly once;
 * refused indexes become the file's line numbers.
 */
static int
import_answer(struct import *im, const json_t *root)
{
	const json_t *added, *unchanged, *refused, *item, *idx, *err;
	json_int_t a, u, k;
	size_t i;
	int rc;

	added = json_object_get(root, "added");
	unchanged = json_object_get(root, "unchanged");
	refused = json_object_get(root, "refused");
	if (!json_is_integer(added) || !json_is_integer(unchanged) || !json_is_array(refused))
		goto malformed;
	a = json_integer_value(added);
	u = json_integer_value(unchanged);
	if (a < 0 || u < 0 || (uint64_t)a + (uint64_t)u + json_array_size(refused) != im->nrows)
		goto malformed;
	memset(im->seen, 0, im->nrows);
	json_array_foreach(refused, i, item) {
		idx = json_object_get(item, "index");
		err = json_object_get(item, "error");
		if (!json_is_integer(idx))
			goto malformed;
		k = json_integer_value(idx);
		if (k < 0 || (uint64_t)k >= im->nrows || im->seen[k])
			goto malformed;
		im->seen[k] = 1;
		rc = import_refuse(im, im->line_of[k],
		    json_is_string(err) ? import_intern(im, json_string_value(err),
					      json_string_length(err)) :
					  "refused by the server");
		if (rc != 0)
			return rc;
	}
	im->added += (uint64_t)a;
	im->unchanged += (uint64_t)u;
	im->done += im->nrows;
	return 0;
malformed:
	errorf("the server's answer to an import batch is not {\"added\", \"unchanged\", "
	       "\"refused\"} for its %zu rows",
	    im->nrows);
	return ZTP_EMALFORMED;
}

/*
 * Send the batch as one POST to the kind's endpoint (/v1/sims/import) on
 * the run's connection and take the answer. A 401 (the token expired
 * during a long import) gets a new token and the same batch once more: a
 * batch is idempotent. The batch is wiped and emptied either way.
 */
static int
import_flush(struct import *im)
{
	struct ctl *c = im->c;
	struct buf resp = { NULL, 0, 0, RESPONSE_MAX, 0 };
	json_t *root = NULL;
	long code = 0;
	int rc, retried = 0;

	BODY_PUT(im, "]}");
	for (;;) {
		rc = http_do(c, "POST", im->kind->endpoint, im->body, im->len, &code, &resp);
		if (rc != 0)
			goto out;
		if (code != 401 || retried)
			break;
		retried = 1;
		free(resp.data);
		memset(&resp, 0, sizeof(resp));
		resp.max = RESPONSE_MAX;
		free_secret(c->token);
		c->token = NULL;
		rc = ctl_open(c);
		if (rc != 0)
			goto out;
	}
	if (code != 200) {
		report_http_error(code, &resp);
		rc = ZTP_EIO;
		goto out;
	}
	root = json_loadb(resp.data, resp.len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		errorf("the server's answer to an import batch is not a JSON object");
		rc = ZTP_EMALFORMED;
		goto out;
	}
	rc = import_answer(im, root);
out:
	json_decref(root);
	free(resp.data);
	explicit_bzero(im->body, im->len);
	im->len = 0;
	im->nrows = 0;
	return rc;
}

static int
refusal_cmp(const void *x, const void *y)
{
	const struct refusal *a = x, *b = y;

	return a->line < b->line ? -1 : a->line > b->line;
}

/*
 * The summary: the counts, then the refused lines in file order (all of
 * them with --json, the first IMPORT_SHOW_MAX otherwise). stopped is the
 * first line not imported when the import stopped early, else 0.
 */
static int
import_print(struct ctl *c, struct import *im, uint64_t lines, uint64_t stopped)
{
	json_t *root = NULL, *arr, *o;
	char why[DETAIL_MAX];
	size_t i;
	int rc;

	if (im->nrefused > 1)
		qsort(im->refused, im->nrefused, sizeof(*im->refused), refusal_cmp);
	if (!c->json) {
		printf("added %llu, unchanged %llu, refused %zu\n", (unsigned long long)im->added,
		    (unsigned long long)im->unchanged, im->nrefused);
		for (i = 0; i < im->nrefused && i < IMPORT_SHOW_MAX; i++)
			printf("line %llu: %s\n", (unsigned long long)im->refused[i].line,
			    san(im->refused[i].why, why, sizeof(why)));
		if (im->nrefused > IMPORT_SHOW_MAX)
			printf("... and %zu more\n", im->nrefused - IMPORT_SHOW_MAX);
		return 0;
	}
	arr = json_array();
	root = json_pack("{s:I, s:I, s:o, s:I, s:b}", "added", (json_int_t)im->added,
	    "unchanged", (json_int_t)im->unchanged, "refused", arr, "lines", (json_int_t)lines,
	    "complete", stopped == 0);
	if (root == NULL)
		goto nomem;
	if (json_object_set_new(root, "stopped_at_line",
		stopped != 0 ? json_integer((json_int_t)stopped) : json_null()) != 0)
		goto nomem;
	for (i = 0; i < im->nrefused; i++) {
		o = json_pack("{s:I, s:s}", "line", (json_int_t)im->refused[i].line, "error",
		    im->refused[i].why);
		if (o == NULL || json_array_append_new(arr, o) != 0)
			goto nomem;
	}
	rc = print_json(root);
	json_decref(root);
	return rc;
nomem:
	json_decref(root);
	errorf("%s", ztp_strerror(ZTP_ENOMEM));
	return ZTP_ENOMEM;
}

static void
import_free(struct import *im)
{
	size_t i;

	if (im == NULL)
		return;
	if (im->body != NULL) {
		explicit_bzero(im->body, IMPORT_BODY_CAP);
		free(im->body);
	}
	for (i = 0; i < im->nreasons; i++)
		free(im->reasons[i]);
	free(im->reasons);
	free(im->refused);
	free(im);
}

/* A line of a SIM maker's batch file (simcsv.h). */
static int
import_sim_line(struct import *im, const char *line, size_t len, uint64_t lineno,
    const char **why)
{
	struct simcsv_row row;
	enum simcsv_reason r;
	int rc;

	rc = simcsv_parse(line, len, lineno == 1, &row, &r);
	if (rc == SIMCSV_SKIP)
		return IMPORT_SKIP;
	if (rc != 0) {
		*why = simcsv_reason(r);
		return rc;
	}
	import_add_row(im, &row, lineno);
	explicit_bzero(&row, sizeof(row));
	return 0;
}

/*
 * import FILE: stream the file line by line, parse each line here (a
 * malformed one is refused with its line number and never sent), and send
 * the rows in batches of IMPORT_BATCH, one transaction each, on one
 * connection. Prints the summary; exit status 1 if any line was refused or
 * the import stopped early (the batches before are in: the same file can
 * be imported again). The PSKs are wiped from every buffer of ours.
 */
static int
run_import(struct ctl *c, const char *path, const struct import_kind *kind)
{
	struct line_reader *rd = NULL;
	struct import *im = NULL;
	const char *why;
	uint64_t stopped = 0;
	const char *line;
	char spath[256];
	size_t len;
	int rc, r, fd = -1;

	san(path, spath, sizeof(spath));
	fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errorf("%s: %s", spath, strerror(errno));
		rc = ZTP_EIO;
		goto out;
	}
	rd = calloc(1, sizeof(*rd));
	im = calloc(1, sizeof(*im));
	if (rd == NULL || im == NULL || (im->body = malloc(IMPORT_BODY_CAP)) == NULL) {
		rc = ZTP_ENOMEM;
		errorf("%s", ztp_strerror(rc));
		goto out;
	}
	rd->fd = fd;
	im->c = c;
	im->kind = kind;
	im->tty = isatty(STDERR_FILENO);
	/* authenticate before reading: a wrong admin file fails at once */
	rc = ctl_open(c);
	if (rc != 0)
		goto out;
	im->t0 = im->tlast = clock_mono_ms();

	while ((rc = reader_next(rd, &line, &len)) == 1) {
		r = kind->line(im, line, len, rd->lineno, &why);
		if (r == IMPORT_SKIP)
			continue;
		im->rows_seen = 1;
		if (r != 0) {
			rc = import_refuse(im, rd->lineno, why);
			if (rc != 0)
				goto out;
			im->done++;
			continue;
		}
		if (im->nrows == IMPORT_BATCH) {
			stopped = im->line_of[0];
			rc = import_flush(im);
			if (rc != 0)
				break;
			stopped = 0;
		}
		if ((rd->lineno & 1023) == 0)
			import_progress(im, 0);
	}
	if (rc == ZTP_EIO && stopped == 0) {
		errorf("cannot read %s: %s", spath, strerror(errno));
		stopped = im->nrows > 0 ? im->line_of[0] : rd->lineno + 1;
	} else if (rc == 0 && im->nrows > 0) {
		stopped = im->line_of[0];
		rc = import_flush(im);
		if (rc == 0)
			stopped = 0;
	}
	if (stopped != 0) {
		errorf("the import stopped: lines %llu and after were not imported (those before "
		       "were; importing the same file again is safe)",
		    (unsigned long long)stopped);
		rc = rc != 0 ? rc : ZTP_EIO;
	}
	import_progress(im, 1);
	r = import_print(c, im, rd->lineno, stopped);
	if (rc == 0)
		rc = r;
	if (rc == 0 && im->nrefused > 0)
		rc = ZTP_EMALFORMED; /* exit status 1 */
out:
	if (rd != NULL) {
		explicit_bzero(rd, sizeof(*rd));
		free(rd);
	}
	import_free(im);
	if (fd > STDIN_FILENO)
		close(fd);
	return rc;
}

static const struct import_kind sim_import_kind = {
	"/v1/sims/import", "{\"rows\":[", import_sim_line,
};

static int
cmd_sim_import(struct ctl *c, const struct args *a)
{
	return run_import(c, a->pos[0], &sim_import_kind);
}

/* ---- allowlist import ---- */

/* Append an allowlist row: its strings need no escaping (allowcsv_parse saw to it). */
static void
import_add_allow(struct import *im, const struct allowcsv_row *row, uint64_t line)
{
	import_row_start(im);
	BODY_PUT(im, "{\"udid\":\"");
	body_put(im, row->udid, strlen(row->udid));
	BODY_PUT(im, "\",\"key_sha256\":\"");
	body_put(im, row->key, strlen(row->key));
	if (row->group[0] != '\0') {
		BODY_PUT(im, "\",\"group\":\"");
		body_put(im, row->group, strlen(row->group));
	}
	if (row->iccid[0] != '\0') {
		BODY_PUT(im, "\",\"iccid\":\"");
		body_put(im, row->iccid, strlen(row->iccid));
	}
	BODY_PUT(im, "\"}");
	im->line_of[im->nrows++] = line;
}

/* A line of a factory's allowlist file (allowcsv.h). */
static int
import_allow_line(struct import *im, const char *line, size_t len, uint64_t lineno,
    const char **why)
{
	struct allowcsv_row row;
	enum allowcsv_reason r;
	int rc;

	rc = allowcsv_parse(line, len, !im->rows_seen, &row, &r);
	if (rc == ALLOWCSV_SKIP)
		return IMPORT_SKIP;
	if (rc != 0) {
		*why = allowcsv_reason(r);
		return rc;
	}
	import_add_allow(im, &row, lineno);
	return 0;
}

static const struct import_kind allow_import_kind = {
	"/v1/allowlist/import", "{\"entries\":[", import_allow_line,
};

static int
cmd_allowlist_import(struct ctl *c, const struct args *a)
{
	return run_import(c, a->pos[0], &allow_import_kind);
}

/* ---- certificates: allowlist, enrolment passwords, manufacturer CAs, certs, devices ---- */

static int
nomem(void)
{
	errorf("%s", ztp_strerror(ZTP_ENOMEM));
	return ZTP_ENOMEM;
}

static int
check_udid(const char *s)
{
	char buf[96];

	if (!allowcsv_udid_valid(s, strlen(s)))
		return usage_error("invalid UDID '%s': expected 1 to %d of A-Z a-z 0-9 - . : _",
		    san(s, buf, sizeof(buf)), UDID_MAX);
	return 0;
}

/* a certificate serial number: hex, as openssl x509 -serial prints it */
static int
check_serial(const char *s)
{
	char buf[96];
	size_t n = strlen(s);

	if (n == 0 || n > SERIAL_ARG_MAX || strspn(s, "0123456789abcdefABCDEF") != n)
		return usage_error("invalid serial number '%s': expected hex digits",
		    san(s, buf, sizeof(buf)));
	return 0;
}

static const char *const reason_names[] = { "unspecified", "keyCompromise", "caCompromise",
	"affiliationChanged", "superseded", "cessationOfOperation", "certificateHold",
	"privilegeWithdrawn", "aACompromise" };

/* --reason R: one of the RFC 5280 names */
static int
check_reason(const char *s)
{
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(reason_names) / sizeof(reason_names[0]); i++)
		if (strcmp(s, reason_names[i]) == 0)
			return 0;
	return usage_error("invalid --reason '%s': expected one of unspecified, keyCompromise, "
			   "caCompromise, affiliationChanged, superseded, cessationOfOperation, "
			   "certificateHold, privilegeWithdrawn, aACompromise",
	    san(s, buf, sizeof(buf)));
}

/*
 * Read a PEM file (at most PEM_FILE_MAX bytes) into *out (the caller frees
 * it). A file that holds a private key is refused, wiped and never sent.
 */
static int
read_pem_file(const char *path, char **out, size_t *outlen)
{
	char spath[256], *data = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	san(path, spath, sizeof(spath));
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		errorf("%s: %s", spath, strerror(errno));
		return ZTP_EIO;
	}
	rc = read_bounded(f, PEM_FILE_MAX, &data, &len);
	if (f != stdin)
		fclose(f);
	if (rc != 0) {
		errorf("%s: %s", spath, rc == ZTP_ETOOBIG ? "larger than 64 KiB" : ztp_strerror(rc));
		return rc;
	}
	if (strstr(data, "PRIVATE KEY-----") != NULL) {
		errorf("%s holds a private key: give the public key (openssl pkey -pubout), the "
		       "certificate or the CSR; nothing was sent",
		    spath);
		rc = ZTP_EMALFORMED;
	} else if (strstr(data, "-----BEGIN ") == NULL || memchr(data, '\0', len) != NULL) {
		errorf("%s is not a PEM file", spath);
		rc = ZTP_EMALFORMED;
	}
	if (rc != 0) {
		explicit_bzero(data, len);
		free(data);
		return rc;
	}
	*out = data;
	*outlen = len;
	return 0;
}

/* allowlist add UDID (--pubkey FILE | --key-sha256 HEX) [--group G] [--iccid I] */
static int
cmd_allowlist_add(struct ctl *c, const struct args *a)
{
	const char *udid = a->pos[0];
	json_t *req = NULL, *res = NULL, *v;
	char *pem = NULL, sha[CELL_MAX];
	size_t pemlen = 0;
	long code = 0;
	int rc;

	if ((rc = check_udid(udid)) != 0)
		return rc;
	if ((a->pubkey == NULL) == (a->key_sha == NULL))
		return usage_error("allowlist add: give exactly one of --pubkey FILE and "
				   "--key-sha256 HEX");
	if (a->key_sha != NULL && (strlen(a->key_sha) != 64 || !hex_valid(a->key_sha, 64)))
		return usage_error("invalid --key-sha256: expected 64 hex digits (the SHA-256 of "
				   "the DER SubjectPublicKeyInfo)");
	if (a->group != NULL && (rc = check_group(a->group)) != 0)
		return rc;
	if (a->iccid != NULL && (rc = check_iccid(a->iccid)) != 0)
		return rc;
	if (a->pubkey != NULL && (rc = read_pem_file(a->pubkey, &pem, &pemlen)) != 0)
		return rc;
	req = json_pack("{s:s}", "udid", udid);
	if (req == NULL)
		goto nomem;
	if (pem != NULL) {
		v = json_stringn(pem, pemlen);
		if (v == NULL) {
			errorf("the --pubkey file is not text (UTF-8)");
			rc = ZTP_EMALFORMED;
			goto out;
		}
		if (json_object_set_new(req, "pubkey", v) != 0)
			goto nomem;
	} else if (json_object_set_new(req, "key_sha256", json_string(a->key_sha)) != 0) {
		goto nomem;
	}
	if ((a->group != NULL && json_object_set_new(req, "group", json_string(a->group)) != 0) ||
	    (a->iccid != NULL && json_object_set_new(req, "iccid", json_string(a->iccid)) != 0))
		goto nomem;
	rc = api_call_status(c, "POST", "/v1/allowlist", req, &res, &code);
	if (rc != 0)
		goto out;
	if (c->json) {
		rc = show_object(c, res);
		goto out;
	}
	fmt_value(json_object_get(res, "key_sha256"), sha, sizeof(sha));
	if (code == 201)
		printf("allowlist entry %s added (key sha256 %s)\n", udid, sha);
	else
		printf("allowlist entry %s unchanged: the same entry exists (key sha256 %s)\n", udid,
		    sha);
	rc = 0;
	goto out;
nomem:
	rc = nomem();
out:
	free(pem);
	json_decref(req);
	json_decref(res);
	return rc;
}

static const char *const allow_head[] = { "UDID", "GROUP", "ICCID", "CREATED", "KEY SHA256" };
static const char *const allow_cols[] = { "udid", "group", "iccid", "created_at", "key_sha256" };

static int
cmd_allowlist_list(struct ctl *c, const struct args *a)
{
	static const struct table_spec t = { allow_head, allow_cols, 5, NULL };
	uint64_t max = 0;
	int rc;

	if ((rc = list_max(a, &max)) != 0)
		return rc;
	return list_pages(c, "/v1/allowlist", "", "allowlist", "after", max, &t);
}

static int
cmd_allowlist_show(struct ctl *c, const struct args *a)
{
	return thing_request(c, a, check_udid, "GET", "/v1/allowlist", "", NULL, NULL);
}

static int
cmd_allowlist_delete(struct ctl *c, const struct args *a)
{
	return thing_request(c, a, check_udid, "DELETE", "/v1/allowlist", "", "allowlist entry",
	    "deleted");
}

/* 1 if s is what a password from the server may be: 1 to 128 of [A-Za-z0-9_-] */
static int
password_text(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 128 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/*
 * password create UDID [--ttl SECONDS] [--group G]: the server makes a
 * one-time enrolment password and shows it in this answer only: it is
 * printed once on stdout (the object with --json), and wiped here.
 */
static int
cmd_password_create(struct ctl *c, const struct args *a)
{
	const char *udid = a->pos[0], *pw;
	json_t *req = NULL, *res = NULL, *v;
	char sarg[64], exp[CELL_MAX];
	uint64_t ttl = 0;
	int rc;

	if ((rc = check_udid(udid)) != 0)
		return rc;
	if (a->ttl != NULL && num_parse_u64z(a->ttl, TTL_MIN, TTL_MAX, &ttl) != 0)
		return usage_error("invalid --ttl '%s': expected seconds from %d to %llu (30 days)",
		    san(a->ttl, sarg, sizeof(sarg)), TTL_MIN, TTL_MAX);
	if (a->group != NULL && (rc = check_group(a->group)) != 0)
		return rc;
	req = json_pack("{s:s}", "udid", udid);
	if (req == NULL ||
	    (a->ttl != NULL && json_object_set_new(req, "ttl_s", json_integer((json_int_t)ttl)) != 0) ||
	    (a->group != NULL && json_object_set_new(req, "group", json_string(a->group)) != 0)) {
		rc = nomem();
		goto out;
	}
	rc = api_call(c, "POST", "/v1/enrolment-passwords", req, &res);
	if (rc != 0)
		goto out;
	v = json_object_get(res, "password");
	if (!json_is_string(v) || !password_text(json_string_value(v))) {
		errorf("the server's answer has no usable \"password\"");
		rc = ZTP_EMALFORMED;
		goto out;
	}
	pw = json_string_value(v);
	if (c->json) {
		rc = print_json(res);
		goto out;
	}
	fmt_value(json_object_get(res, "expires_at"), exp, sizeof(exp));
	printf("%s\n", pw);
	fflush(stdout);
	fprintf(stderr, "ztpctl: the enrolment password of %s, usable once until %s; it is never "
			"shown again\n",
	    udid, exp);
	rc = 0;
out:
	v = json_object_get(res, "password");
	if (json_is_string(v))
		explicit_bzero((char *)json_string_value(v), json_string_length(v));
	json_decref(req);
	json_decref(res);
	return rc;
}

/* mfr-ca add NAME FILE [--group G] */
static int
cmd_mfr_ca_add(struct ctl *c, const struct args *a)
{
	const char *name = a->pos[0];
	json_t *req = NULL, *res = NULL, *v;
	char *pem = NULL, subject[DETAIL_MAX], sha[CELL_MAX], until[CELL_MAX];
	size_t pemlen = 0;
	int rc;

	if ((rc = check_group(name)) != 0)
		return rc;
	if (a->group != NULL && (rc = check_group(a->group)) != 0)
		return rc;
	if ((rc = read_pem_file(a->pos[1], &pem, &pemlen)) != 0)
		return rc;
	v = json_stringn(pem, pemlen);
	if (v == NULL) {
		errorf("the certificate file is not text (UTF-8)");
		rc = ZTP_EMALFORMED;
		goto out;
	}
	req = json_pack("{s:s, s:o}", "name", name, "pem", v);
	if (req == NULL ||
	    (a->group != NULL && json_object_set_new(req, "group", json_string(a->group)) != 0)) {
		rc = nomem();
		goto out;
	}
	rc = api_call(c, "POST", "/v1/manufacturer-cas", req, &res);
	if (rc != 0)
		goto out;
	if (c->json) {
		rc = show_object(c, res);
		goto out;
	}
	fmt_value(json_object_get(res, "subject"), subject, sizeof(subject));
	fmt_value(json_object_get(res, "sha256"), sha, sizeof(sha));
	fmt_value(json_object_get(res, "not_after"), until, sizeof(until));
	printf("manufacturer CA %s added: %s, valid until %s, sha256 %s\n", name, subject, until,
	    sha);
out:
	free(pem);
	json_decref(req);
	json_decref(res);
	return rc;
}

static const char *const mfr_head[] = { "NAME", "GROUP", "NOT AFTER", "SHA256", "SUBJECT" };
static const char *const mfr_cols[] = { "name", "group", "not_after", "sha256", "subject" };

static int
cmd_mfr_ca_list(struct ctl *c, const struct args *a)
{
	static const struct table_spec t = { mfr_head, mfr_cols, 5, NULL };

	return get_list(c, "/v1/manufacturer-cas", "manufacturer_cas", &t);
}

/* mfr-ca show NAME: its members, then its certificate as PEM */
static int
cmd_mfr_ca_show(struct ctl *c, const struct args *a)
{
	json_t *pem;
	char path[128];
	const char *p;
	int rc;

	if ((rc = check_group(a->pos[0])) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/manufacturer-cas/%s", a->pos[0]);
	rc = show_object_tail(c, path, "pem", &pem);
	/* PEM is base64 and its armour: print it as it is, if it is only that */
	p = json_string_value(pem);
	if (p != NULL && strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789+/=- \n") == strlen(p))
		fputs(p, stdout);
	json_decref(pem);
	return rc;
}

static int
cmd_mfr_ca_delete(struct ctl *c, const struct args *a)
{
	return thing_request(c, a, check_group, "DELETE", "/v1/manufacturer-cas", "",
	    "manufacturer CA", "deleted");
}

static const char *const cert_head[] = { "SERIAL", "UDID", "METHOD", "ISSUED", "NOT AFTER",
	"REVOKED" };

/* a certificate's cells: REVOKED is its reason, or "no" */
static void
cert_cell(const json_t *item, size_t col, char *out, size_t cap)
{
	static const char *const cols[] = { "serial", "udid", "method", "issued_at", "not_after" };

	if (col < 5)
		fmt_value(json_object_get(item, cols[col]), out, cap);
	else if (json_is_true(json_object_get(item, "revoked")))
		fmt_value(json_object_get(item, "reason"), out, cap);
	else
		snprintf(out, cap, "no");
}

static const struct table_spec cert_table = { cert_head, NULL, 6, cert_cell };

/* cert list [--udid U] [--limit N] [--all] */
static int
cmd_cert_list(struct ctl *c, const struct args *a)
{
	char query[128] = "";
	uint64_t max = 0;
	int rc;

	if ((rc = list_max(a, &max)) != 0)
		return rc;
	if (a->udid != NULL) {
		if ((rc = check_udid(a->udid)) != 0)
			return rc;
		snprintf(query, sizeof(query), "udid=%s", a->udid); /* no character to escape */
	}
	return list_pages(c, "/v1/certs", query, "certs", "after", max, &cert_table);
}

static int
cmd_cert_show(struct ctl *c, const struct args *a)
{
	return thing_request(c, a, check_serial, "GET", "/v1/certs", "", NULL, NULL);
}

/* cert revoke SERIAL [--reason R]: R defaults to unspecified */
static int
cmd_cert_revoke(struct ctl *c, const struct args *a)
{
	const char *reason = a->reason != NULL ? a->reason : "unspecified";
	json_t *req = NULL, *res = NULL;
	char path[128], serial[CELL_MAX], udid[CELL_MAX];
	int rc;

	if ((rc = check_serial(a->pos[0])) != 0 || (rc = check_reason(reason)) != 0)
		return rc;
	if ((req = json_pack("{s:s}", "reason", reason)) == NULL)
		return nomem();
	snprintf(path, sizeof(path), "/v1/certs/%s/revoke", a->pos[0]);
	rc = api_call(c, "POST", path, req, &res);
	if (rc == 0 && c->json) {
		rc = show_object(c, res);
	} else if (rc == 0) {
		fmt_value(json_object_get(res, "serial"), serial, sizeof(serial));
		fmt_value(json_object_get(res, "udid"), udid, sizeof(udid));
		printf("certificate %s of %s revoked (%s)\n", serial, udid, reason);
	}
	json_decref(req);
	json_decref(res);
	return rc;
}

static const char *const device_head[] = { "UDID", "BLOCKED", "GROUP", "ICCID", "CERTS",
	"UPDATED" };
static const char *const device_cols[] = { "udid", "blocked", "group", "iccid", "certs",
	"updated_at" };

static int
cmd_device_list(struct ctl *c, const struct args *a)
{
	static const struct table_spec t = { device_head, device_cols, 6, NULL };
	uint64_t max = 0;
	int rc;

	if ((rc = list_max(a, &max)) != 0)
		return rc;
	return list_pages(c, "/v1/devices", "", "devices", "after", max, &t);
}

/* device show UDID: its members, then its certificates as a table */
static int
cmd_device_show(struct ctl *c, const struct args *a)
{
	json_t *certs;
	char path[128];
	int rc;

	if ((rc = check_udid(a->pos[0])) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/devices/%s", a->pos[0]);
	rc = show_object_tail(c, path, "certificates", &certs);
	if (json_array_size(certs) > 0) {
		putchar('\n');
		rc = print_table(certs, cert_head, NULL, 6, cert_cell);
	}
	json_decref(certs);
	return rc;
}

/* device block UDID [--reason R]: R defaults to the server's (privilegeWithdrawn) */
static int
cmd_device_block(struct ctl *c, const struct args *a)
{
	json_t *req = NULL, *res = NULL;
	char path[128], n[CELL_MAX];
	int rc;

	if ((rc = check_udid(a->pos[0])) != 0)
		return rc;
	if (a->reason != NULL) {
		if ((rc = check_reason(a->reason)) != 0)
			return rc;
		if ((req = json_pack("{s:s}", "reason", a->reason)) == NULL)
			return nomem();
	}
	snprintf(path, sizeof(path), "/v1/devices/%s/block", a->pos[0]);
	rc = api_call(c, "POST", path, req, &res);
	if (rc == 0 && c->json) {
		rc = show_object(c, res);
	} else if (rc == 0) {
		fmt_value(json_object_get(res, "revoked"), n, sizeof(n));
		printf("device %s blocked: %s certificates revoked\n", a->pos[0], n);
	}
	json_decref(req);
	json_decref(res);
	return rc;
}

static int
cmd_device_unblock(struct ctl *c, const struct args *a)
{
	return thing_request(c, a, check_udid, "POST", "/v1/devices", "/unblock", "device",
	    "unblocked");
}

/* ---- groups ---- */

/*
 * Read the master key of an existing FILE into hex (MASTER_KEY_HEX + 1
 * bytes): exactly 32 bytes are the raw key, else 64 hex digits with an
 * optional line end. Returns 0, ZTP_ENOENT if FILE does not exist, or
 * another code (printed). The file's bytes are wiped.
 */
static int
read_master_key(const char *path, char *hex)
{
	char spath[256], *data = NULL;
	size_t len = 0;
	struct stat sb;
	FILE *f;
	int rc;

	san(path, spath, sizeof(spath));
	f = fopen(path, "rb");
	if (f == NULL) {
		if (errno == ENOENT)
			return ZTP_ENOENT;
		errorf("%s: %s", spath, strerror(errno));
		return ZTP_EIO;
	}
	setvbuf(f, NULL, _IONBF, 0);
	if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 077) != 0)
		fprintf(stderr, "ztpctl: warning: %s holds a master key and others can read it "
				"(mode %03o): chmod 600 it\n",
		    spath, (unsigned)(sb.st_mode & 0777));
	rc = read_bounded(f, KEY_FILE_MAX, &data, &len);
	if (rc != 0 && rc != ZTP_ETOOBIG) {
		errorf("%s: %s", spath, ztp_strerror(rc));
		goto out;
	}
	if (rc == 0 && len == MASTER_KEY_LEN) {
		hex_encode((const uint8_t *)data, len, hex, MASTER_KEY_HEX + 1);
		goto out;
	}
	while (rc == 0 && len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (rc != 0 || len != MASTER_KEY_HEX || !hex_valid(data, len)) {
		errorf("%s is not a master key: expected %d hex digits or %d bytes", spath,
		    MASTER_KEY_HEX, MASTER_KEY_LEN);
		rc = ZTP_EMALFORMED;
		goto out;
	}
	memcpy(hex, data, MASTER_KEY_HEX);
	hex[MASTER_KEY_HEX] = '\0';
	rc = 0;
out:
	if (data != NULL) {
		explicit_bzero(data, len);
		free(data);
	}
	fclose(f);
	return rc;
}

/* Write the generated key (hex and a newline) to the reserved fd, and close it. */
static int
write_master_key(int fd, const char *hex)
{
	char line[MASTER_KEY_HEX + 1];
	size_t off = 0;
	ssize_t n;
	int rc = 0;

	memcpy(line, hex, MASTER_KEY_HEX);
	line[MASTER_KEY_HEX] = '\n';
	while (off < sizeof(line)) {
		n = write(fd, line + off, sizeof(line) - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = ZTP_EIO;
			break;
		}
		off += (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = ZTP_EIO;
	if (close(fd) != 0 && rc == 0)
		rc = ZTP_EIO;
	explicit_bzero(line, sizeof(line));
	return rc;
}

/*
 * group create NAME: a derived group's master key is given (--master-key-file
 * FILE that exists) or generated by the server. A generated key goes to
 * FILE, which is created (O_EXCL, 0600) before the request so that no
 * other file can take its place, and removed if the request fails; without
 * FILE it is printed once on stdout, the only place it will ever be shown.
 */
/*
 * --est-auth LIST: 1 to 3 distinct of allowlist, password, manufacturer,
 * comma-separated, into a new JSON array in *out.
 */
static int
parse_est_auth(const char *list, json_t **out)
{
	static const char *const names[] = { "allowlist", "password", "manufacturer" };
	char sarg[96];
	const char *p = list;
	size_t n, k;
	int seen = 0;
	json_t *arr;

	*out = NULL;
	if ((arr = json_array()) == NULL)
		return nomem();
	for (;;) {
		n = strcspn(p, ",");
		for (k = 0; k < 3; k++)
			if (strlen(names[k]) == n && strncmp(p, names[k], n) == 0)
				break;
		if (k == 3 || (seen & (1 << k))) {
			json_decref(arr);
			return usage_error("invalid --est-auth '%s': expected a comma-separated list "
					   "of allowlist, password, manufacturer, each once",
			    san(list, sarg, sizeof(sarg)));
		}
		seen |= 1 << k;
		if (json_array_append_new(arr, json_string(names[k])) != 0) {
			json_decref(arr);
			return nomem();
		}
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	*out = arr;
	return 0;
}

/*
 * The proxy members of a group request: "upstream" (url; NULL: not set
 * here) and the paths of --upstream-ca/-cert/-key, made absolute when they
 * name a file here (they are read by ztpd, on its host).
 */
static int
upstream_members(json_t *req, const char *url, const struct args *a)
{
	const char *names[3] = { "upstream_ca", "upstream_cert", "upstream_key" };
	const char *vals[3] = { a->upstream_ca, a->upstream_cert, a->upstream_key };
	char abs[PATH_MAX], sarg[64];
	size_t i;

	if (url == NULL && (vals[0] || vals[1] || vals[2]) && a->pos[1] == NULL)
		return usage_error("--upstream-ca, --upstream-cert and --upstream-key go with --upstream");
	if ((vals[1] != NULL) != (vals[2] != NULL))
		return usage_error("--upstream-cert and --upstream-key go together");
	if (url != NULL && json_object_set_new(req, "upstream", json_string(url)) != 0)
		return nomem();
	for (i = 0; i < 3; i++) {
		if (vals[i] == NULL)
			continue;
		if (vals[i][0] != '/' && realpath(vals[i], abs) == NULL)
			return usage_error("%s: %s", san(vals[i], sarg, sizeof(sarg)), strerror(errno));
		if (json_object_set_new(req, names[i], json_string(vals[i][0] == '/' ? vals[i] : abs)) != 0)
			return nomem();
	}
	return 0;
}

static int
group_put_upstream(struct ctl *c, const char *name, const json_t *req, json_t **out)
{
	char path[128];

	snprintf(path, sizeof(path), "/v1/groups/%s/upstream", name);
	return api_call(c, "PUT", path, req, out);
}

static int
cmd_group_create(struct ctl *c, const struct args *a)
{
	const char *name = a->pos[0];
	char key[MASTER_KEY_HEX + 1] = "", spath[256], sarg[64];
	const char *generated = NULL;
	json_t *req = NULL, *grp = NULL, *mk, *est = NULL;
	uint64_t rotation = 0, days = 0, grace = 0;
	int rc, fd = -1, have_key = 0;

	rc = check_group(name);
	if (rc != 0)
		return rc;
	if (a->cert_days != NULL && num_parse_u64z(a->cert_days, 0, CERT_DAYS_MAX, &days) != 0)
		return usage_error("invalid --cert-days '%s': expected days from 0 (the server's "
				   "default) to %llu",
		    san(a->cert_days, sarg, sizeof(sarg)), CERT_DAYS_MAX);
	if (a->grace != NULL && strcmp(a->grace, "-1") != 0 &&
	    num_parse_u64z(a->grace, 0, GRACE_MAX, &grace) != 0)
		return usage_error("invalid --reenroll-grace '%s': expected seconds from 0 to %llu "
				   "(5 years), or -1 for the server's default",
		    san(a->grace, sarg, sizeof(sarg)), GRACE_MAX);
	if (a->prefix != NULL && (strlen(a->prefix) == 0 || strlen(a->prefix) > ICCID_MAX_DIGITS ||
	    strspn(a->prefix, "0123456789") != strlen(a->prefix)))
		return usage_error("invalid --iccid-prefix '%s': expected 1 to %d digits",
		    san(a->prefix, sarg, sizeof(sarg)), ICCID_MAX_DIGITS);
	if (a->rotation != NULL && num_parse_u64z(a->rotation, 0, ROTATION_MAX, &rotation) != 0)
		return usage_error("invalid --rotation-period '%s': expected seconds from 0 to %llu",
		    san(a->rotation, sarg, sizeof(sarg)), ROTATION_MAX);
	if (a->key_file != NULL && !a->derive)
		return usage_error("--master-key-file goes with --derive");
	if (a->est_auth != NULL && (rc = parse_est_auth(a->est_auth, &est)) != 0)
		return rc;
	if (a->key_file != NULL) {
		san(a->key_file, spath, sizeof(spath));
		rc = read_master_key(a->key_file, key);
		if (rc == 0) {
			have_key = 1;
		} else if (rc == ZTP_ENOENT) {
			fd = open(a->key_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd < 0 || fchmod(fd, 0600) != 0) {
				errorf("cannot create %s: %s", spath, strerror(errno));
				rc = ZTP_EIO;
				goto out;
			}
		} else {
			goto out;
		}
	}
	req = json_pack("{s:s, s:b, s:b, s:I}", "name", name, "derive", a->derive,
	    "allow_psk_ke", a->psk_ke, "rotation_period_s", (json_int_t)rotation);
	if (req == NULL ||
	    (a->prefix != NULL && json_object_set_new(req, "iccid_prefix", json_string(a->prefix)) != 0) ||
	    (have_key && json_object_set_new(req, "master_key", json_string(key)) != 0) ||
	    (est != NULL && json_object_set(req, "est_auth", est) != 0) ||
	    (a->cert_days != NULL &&
		json_object_set_new(req, "cert_days", json_integer((json_int_t)days)) != 0) ||
	    (a->grace != NULL && json_object_set_new(req, "reenroll_grace_s",
				     json_integer(strcmp(a->grace, "-1") == 0 ? -1 :
										(json_int_t)grace)) != 0)) {
		rc = ZTP_ENOMEM;
		errorf("%s", ztp_strerror(rc));
		goto out;
	}
	if ((rc = upstream_members(req, a->upstream, a)) != 0)
		goto out;
	rc = api_call(c, "POST", "/v1/groups", req, &grp);
	if (rc != 0)
		goto out;
	mk = json_object_get(grp, "master_key");
	if (a->derive && !have_key) {
		if (!json_is_string(mk) || json_string_length(mk) != MASTER_KEY_HEX ||
		    !hex_valid(json_string_value(mk), MASTER_KEY_HEX)) {
			errorf("group %s was created, but the server's answer has no master key", name);
			rc = ZTP_EMALFORMED;
			goto out;
		}
		generated = json_string_value(mk);
		if (fd >= 0) {
			rc = write_master_key(fd, generated);
			fd = -1;
			if (rc != 0) {
				/* the server will never show it again: this is its last chance */
				errorf("group %s was created, but its master key could not be written "
				       "to %s (%s): here it is, once",
				    name, spath, strerror(errno));
				unlink(a->key_file);
				printf("%s\n", generated);
				goto out;
			}
		}
	}
	if (c->json) {
		if (a->key_file != NULL && json_object_set_new(grp, "master_key_file",
						json_string(a->key_file)) != 0) {
			rc = ZTP_ENOMEM;
			errorf("%s", ztp_strerror(rc));
			goto out;
		}
		if (a->key_file != NULL && mk != NULL) {
			/* it is in the file: best effort to leave no copy in memory */
			if (json_is_string(mk))
				explicit_bzero((char *)json_string_value(mk), json_string_length(mk));
			json_object_del(grp, "master_key");
			generated = NULL;
		}
		rc = print_json(grp);
	} else if (generated != NULL && a->key_file == NULL) {
		printf("%s\n", generated);
		rc = 0;
	} else if (generated != NULL) {
		printf("group %s created; its master key was written to %s (mode 0600)\n", name,
		    spath);
		rc = 0;
	} else if (have_key) {
		printf("group %s created with the master key of %s\n", name, spath);
		rc = 0;
	} else {
		printf("group %s created\n", name);
		rc = 0;
	}
	if (rc == 0 && generated != NULL && a->key_file == NULL) {
		fflush(stdout);
		fprintf(stderr, "ztpctl: group %s created; its master key (on stdout) is never "
				"shown again: keep it offline\n",
		    name);
	}
out:
	if (fd >= 0) {
		/* the request failed: the reserved file is empty, remove it */
		close(fd);
		unlink(a->key_file);
	}
	explicit_bzero(key, sizeof(key));
	json_decref(est);
	json_decref(req);
	if (grp != NULL && json_is_string(json_object_get(grp, "master_key"))) {
		mk = json_object_get(grp, "master_key");
		explicit_bzero((char *)json_string_value(mk), json_string_length(mk));
	}
	json_decref(grp);
	return rc;
}

/*
 * group upstream NAME (URL | off | default) [--upstream-ca F] [--upstream-cert F
 * --upstream-key F]: where the group's device requests go (docs/proxy.md).
 */
static int
cmd_group_upstream(struct ctl *c, const struct args *a)
{
	const char *name = a->pos[0], *url = a->pos[1];
	json_t *req = json_object(), *grp = NULL;
	char sname[80], surl[128];
	int rc;

	if ((rc = check_group(name)) != 0)
		goto out;
	if (a->upstream != NULL) {
		rc = usage_error("group upstream takes the URL as its second argument, not --upstream");
		goto out;
	}
	if (req == NULL) {
		rc = ZTP_ENOMEM;
		errorf("%s", ztp_strerror(rc));
		goto out;
	}
	if ((rc = upstream_members(req, strcmp(url, "default") == 0 ? NULL : url, a)) != 0)
		goto out;
	if (strcmp(url, "default") == 0 && json_object_set_new(req, "upstream", json_null()) != 0) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	snprintf(sname, sizeof(sname), "%s", name);
	if ((rc = group_put_upstream(c, sname, req, &grp)) != 0)
		goto out;
	if (c->json) {
		rc = print_json(grp);
		goto out;
	}
	san(url, surl, sizeof(surl));
	if (strcmp(url, "default") == 0)
		printf("group %s: device requests follow the server's default upstream\n", name);
	else if (strcmp(url, "off") == 0)
		printf("group %s: device requests answered from this server's store\n", name);
	else
		printf("group %s: device requests forwarded to %s\n", name, surl);
out:
	json_decref(req);
	json_decref(grp);
	return rc;
}

static const char *const group_head[] = { "NAME", "ICCID PREFIX", "DERIVE", "PSK_KE",
	"ROTATION", "SIMS", "CREATED" };

/* the group's cells; no prefix (every ICCID) shows as "-" */
static void
group_cell(const json_t *item, size_t col, char *out, size_t cap)
{
	static const char *const cols[] = { "name", "iccid_prefix", "derive", "allow_psk_ke",
		"rotation_period_s", "sims", "created_at" };
	const json_t *v = json_object_get(item, cols[col]);

	if (col == 1 && json_is_string(v) && json_string_length(v) == 0)
		v = NULL;
	fmt_value(v, out, cap);
}

static int
cmd_group_list(struct ctl *c, const struct args *a)
{
	static const struct table_spec t = { group_head, NULL, 7, group_cell };

	return get_list(c, "/v1/groups", "groups", &t);
}

static int
cmd_group_show(struct ctl *c, const struct args *a)
{
	return thing_request(c, a, check_group, "GET", "/v1/groups", "", NULL, NULL);
}

static int
cmd_help(struct ctl *c, const struct args *a)
{
	usage(stdout);
	return 0;
}

static const struct command commands[] = {
	{ "sim", "add", OPT_PSK | OPT_GROUP | OPT_DERIVED | OPT_DEVICE_ID, 1,
	    "sim add ICCID (--psk HEX [--group NAME] | --derived [--device-id HEX])", cmd_sim_add },
	{ "sim", "import", 0, 1, "sim import FILE", cmd_sim_import },
	{ "sim", "list", OPT_LIMIT | OPT_ALL, 0, "sim list [--limit N] [--all]", cmd_sim_list },
	{ "sim", "show", 0, 1, "sim show ICCID", cmd_sim_show },
	{ "sim", "block", 0, 1, "sim block ICCID", cmd_sim_block },
	{ "sim", "unblock", 0, 1, "sim unblock ICCID", cmd_sim_unblock },
	{ "sim", "rebind", 0, 1, "sim rebind ICCID", cmd_sim_rebind },
	{ "sim", "delete", 0, 1, "sim delete ICCID", cmd_sim_delete },
	{ "sim", "rotate", 0, 1, "sim rotate ICCID", cmd_sim_rotate },
	{ "group", "create", OPT_PREFIX | OPT_DERIVE | OPT_KEY_FILE | OPT_PSK_KE | OPT_ROTATION |
		OPT_EST_AUTH | OPT_CERT_DAYS | OPT_GRACE | OPT_UPSTREAM | OPT_UPSTREAM_CA |
		OPT_UPSTREAM_CERT | OPT_UPSTREAM_KEY, 1,
	    "group create NAME [--iccid-prefix DIGITS] [--derive [--master-key-file FILE]] "
	    "[--allow-psk-ke] [--rotation-period SECONDS] [--est-auth LIST] [--cert-days N] "
	    "[--reenroll-grace SECONDS] [--upstream URL [--upstream-ca FILE] "
	    "[--upstream-cert FILE --upstream-key FILE]]",
	    cmd_group_create },
	{ "group", "upstream", OPT_UPSTREAM_CA | OPT_UPSTREAM_CERT | OPT_UPSTREAM_KEY, 2,
	    "group upstream NAME (URL | off | default) [--upstream-ca FILE] "
	    "[--upstream-cert FILE --upstream-key FILE]",
	    cmd_group_upstream },
	{ "group", "list", 0, 0, "group list", cmd_group_list },
	{ "group", "show", 0, 1, "group show NAME", cmd_group_show },
	{ "config", "set", OPT_BODY | OPT_FILE, 1,
	    "config set ICCID (--body TEXT | --file FILE)", cmd_config_set },
	{ "config", "get", 0, 1, "config get ICCID", cmd_config_get },
	{ "config", "history", 0, 1, "config history ICCID", cmd_config_history },
	{ "config", "rollback", 0, 2, "config rollback ICCID VERSION", cmd_config_rollback },
	{ "allowlist", "add", OPT_PUBKEY | OPT_KEY_SHA | OPT_GROUP | OPT_ICCID, 1,
	    "allowlist add UDID (--pubkey FILE | --key-sha256 HEX) [--group NAME] [--iccid ICCID]",
	    cmd_allowlist_add },
	{ "allowlist", "import", 0, 1, "allowlist import FILE", cmd_allowlist_import },
	{ "allowlist", "list", OPT_LIMIT | OPT_ALL, 0, "allowlist list [--limit N] [--all]",
	    cmd_allowlist_list },
	{ "allowlist", "show", 0, 1, "allowlist show UDID", cmd_allowlist_show },
	{ "allowlist", "delete", 0, 1, "allowlist delete UDID", cmd_allowlist_delete },
	{ "password", "create", OPT_TTL | OPT_GROUP, 1,
	    "password create UDID [--ttl SECONDS] [--group NAME]", cmd_password_create },
	{ "mfr-ca", "add", OPT_GROUP, 2, "mfr-ca add NAME FILE [--group NAME]", cmd_mfr_ca_add },
	{ "mfr-ca", "list", 0, 0, "mfr-ca list", cmd_mfr_ca_list },
	{ "mfr-ca", "show", 0, 1, "mfr-ca show NAME", cmd_mfr_ca_show },
	{ "mfr-ca", "delete", 0, 1, "mfr-ca delete NAME", cmd_mfr_ca_delete },
	{ "cert", "list", OPT_UDID | OPT_LIMIT | OPT_ALL, 0,
	    "cert list [--udid UDID] [--limit N] [--all]", cmd_cert_list },
	{ "cert", "show", 0, 1, "cert show SERIAL", cmd_cert_show },
	{ "cert", "revoke", OPT_REASON, 1, "cert revoke SERIAL [--reason REASON]",
	    cmd_cert_revoke },
	{ "device", "list", OPT_LIMIT | OPT_ALL, 0, "device list [--limit N] [--all]",
	    cmd_device_list },
	{ "device", "show", 0, 1, "device show UDID", cmd_device_show },
	{ "device", "block", OPT_REASON, 1, "device block UDID [--reason REASON]",
	    cmd_device_block },
	{ "device", "unblock", 0, 1, "device unblock UDID", cmd_device_unblock },
	{ "telemetry", NULL, OPT_LIMIT, 1, "telemetry ICCID [--limit N]", cmd_telemetry },
	{ "events", NULL, OPT_SINCE | OPT_LIMIT, 0, "events [--since T] [--limit N]",
	    cmd_events },
	{ "help", NULL, 0, 0, "help", cmd_help },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* 1 if arg is a command option that takes a value as the next argument */
static int
takes_value(const char *arg)
{
	size_t i;

	for (i = 0; i < sizeof(cmd_opts) / sizeof(cmd_opts[0]); i++)
		if (cmd_opts[i].has_arg && strcmp(arg, cmd_opts[i].name) == 0)
			return 1;
	return 0;
}

/*
 * Parse a command's arguments (after its name) into *out: the options its
 * opts allow, as "--opt VALUE" or "--opt=VALUE", and exactly npos
 * positional arguments ("--" ends the options).
 */
static int
parse_args(const struct command *cmd, int argc, char **argv, struct args *out)
{
	char sarg[64];
	int i, dashdash = 0;
	size_t k, namelen;
	const char *val;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (!dashdash && strcmp(arg, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (dashdash || arg[0] != '-' || strcmp(arg, "-") == 0) {
			if (out->npos == cmd->npos || out->npos == ARGS_MAX_POS)
				return usage_error("%s: unexpected argument '%s'", cmd->synopsis,
				    san(arg, sarg, sizeof(sarg)));
			out->pos[out->npos++] = arg;
			continue;
		}
		namelen = strcspn(arg, "=");
		for (k = 0; k < sizeof(cmd_opts) / sizeof(cmd_opts[0]); k++)
			if (strlen(cmd_opts[k].name) == namelen &&
			    strncmp(arg, cmd_opts[k].name, namelen) == 0)
				break;
		if (k == sizeof(cmd_opts) / sizeof(cmd_opts[0]) || !(cmd->opts & cmd_opts[k].bit))
			return usage_error("%s: unknown option '%s'", cmd->synopsis,
			    san(arg, sarg, sizeof(sarg)));
		val = NULL;
		if (arg[namelen] == '=') {
			if (!cmd_opts[k].has_arg)
				return usage_error("%s takes no value", cmd_opts[k].name);
			val = arg + namelen + 1;
		} else if (cmd_opts[k].has_arg) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", cmd_opts[k].name);
			val = argv[++i];
		}
		switch (cmd_opts[k].bit) {
		case OPT_PSK:
			out->psk = val;
			break;
		case OPT_LIMIT:
			out->limit = val;
			out->all = 0;
			break;
		case OPT_ALL:
			out->all = 1;
			break;
		case OPT_BODY:
			out->body = val;
			break;
		case OPT_FILE:
			out->file = val;
			break;
		case OPT_SINCE:
			out->since = val;
			break;
		case OPT_GROUP:
			out->group = val;
			break;
		case OPT_PREFIX:
			out->prefix = val;
			break;
		case OPT_DERIVE:
			out->derive = 1;
			break;
		case OPT_KEY_FILE:
			out->key_file = val;
			break;
		case OPT_PSK_KE:
			out->psk_ke = 1;
			break;
		case OPT_ROTATION:
			out->rotation = val;
			break;
		case OPT_PUBKEY:
			out->pubkey = val;
			break;
		case OPT_KEY_SHA:
			out->key_sha = val;
			break;
		case OPT_ICCID:
			out->iccid = val;
			break;
		case OPT_TTL:
			out->ttl = val;
			break;
		case OPT_UDID:
			out->udid = val;
			break;
		case OPT_REASON:
			out->reason = val;
			break;
		case OPT_EST_AUTH:
			out->est_auth = val;
			break;
		case OPT_CERT_DAYS:
			out->cert_days = val;
			break;
		case OPT_GRACE:
			out->grace = val;
			break;
		case OPT_DERIVED:
			out->derived = 1;
			break;
		case OPT_DEVICE_ID:
			out->device_id = val;
			break;
		case OPT_UPSTREAM:
			out->upstream = val;
			break;
		case OPT_UPSTREAM_CA:
			out->upstream_ca = val;
			break;
		case OPT_UPSTREAM_CERT:
			out->upstream_cert = val;
			break;
		case OPT_UPSTREAM_KEY:
			out->upstream_key = val;
			break;
		default:
			return usage_error("internal: unhandled option");
		}
	}
	if (out->npos != cmd->npos)
		return usage_error("usage: ztpctl %s", cmd->synopsis);
	return 0;
}

/* Find the command named by args[0] (and args[1]); *used: words it took. */
static int
find_command(int argc, char **argv, const struct command **out, int *used)
{
	char sarg[64];
	size_t i;
	int group = 0;

	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[0], commands[i].group) != 0)
			continue;
		group = 1;
		if (commands[i].name == NULL) {
			*out = &commands[i];
			*used = 1;
			return 0;
		}
		if (argc > 1 && strcmp(argv[1], commands[i].name) == 0) {
			*out = &commands[i];
			*used = 2;
			return 0;
		}
	}
	if (group && argc > 1)
		return usage_error("unknown command '%s %s'", argv[0],
		    san(argv[1], sarg, sizeof(sarg)));
	if (group)
		return usage_error("'%s' needs a subcommand", argv[0]);
	return usage_error("unknown command '%s'", san(argv[0], sarg, sizeof(sarg)));
}

int
main(int argc, char **argv)
{
	struct ctl c;
	struct args a;
	const struct command *cmd = NULL;
	char **rest = NULL;
	int nrest = 0, used = 0, help = 0, version = 0, dashdash = 0, i, rc;

	memset(&c, 0, sizeof(c));
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		errorf("cannot initialize libcurl");
		return 1;
	}
	rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (rest == NULL) {
		rc = ZTP_ENOMEM;
		errorf("%s", ztp_strerror(rc));
		goto out;
	}
	/* the global options, anywhere before "--"; the rest is the command's */
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (dashdash) {
			rest[nrest++] = argv[i];
		} else if (strcmp(arg, "--") == 0) {
			dashdash = 1;
			rest[nrest++] = argv[i];
		} else if (strcmp(arg, "--json") == 0) {
			c.json = 1;
		} else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			help = 1;
		} else if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
			version = 1;
		} else if (strcmp(arg, "--admin") == 0) {
			if (i + 1 >= argc) {
				rc = usage_error("--admin needs a file");
				goto out;
			}
			c.admin_path = argv[++i];
		} else if (strncmp(arg, "--admin=", 8) == 0) {
			c.admin_path = arg + 8;
		} else if (takes_value(arg) && i + 1 < argc) {
			/* a command option's value is not a global option */
			rest[nrest++] = argv[i];
			rest[nrest++] = argv[++i];
		} else {
			rest[nrest++] = argv[i];
		}
	}
	if (help) {
		usage(stdout);
		rc = 0;
		goto out;
	}
	if (version) {
		printf("ztpctl %s (libcurl %s, jansson %s)\n", ZTPCTL_VERSION, LIBCURL_VERSION,
		    JANSSON_VERSION);
		rc = 0;
		goto out;
	}
	if (nrest == 0 || strcmp(rest[0], "--") == 0) {
		rc = usage_error("no command given");
		goto out;
	}
	rc = find_command(nrest, rest, &cmd, &used);
	if (rc != 0)
		goto out;
	rc = parse_args(cmd, nrest - used, rest + used, &a);
	if (rc != 0)
		goto out;
	rc = cmd->run(&c, &a);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		errorf("standard output: %s", strerror(errno));
		if (rc == 0)
			rc = ZTP_EIO;
	}
out:
	if (c.curl != NULL)
		curl_easy_cleanup(c.curl);
	free_secret(c.token);
	admin_free(&c.admin);
	free(rest);
	curl_global_cleanup();
	if (rc == 0)
		return 0;
	return rc == ZTP_EINVAL ? EXIT_USAGE : 1;
}
