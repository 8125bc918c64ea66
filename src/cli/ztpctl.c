/*
 * ztpctl: the command-line client of ztpd's admin API (docs/admin-api.md).
 *
 * It reads one API key from the admin file ({"url", "key_id", "secret",
 * "ca"}), verifies the server against that file's CA only, exchanges the
 * key for a bearer token and sends one request per command (several for
 * the paged lists). Tables by default, the server's JSON with --json.
 *
 * Exit status: 0 success, 1 an error from the server, the connection or a
 * local file, 2 a usage error (ZTP_EINVAL inside this file means exactly
 * that). The secret and the token are never printed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "clock.h"
#include "hex.h"
#include "log.h"
#include "num.h"
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
#define CONNECT_TIMEOUT_S 10L
#define REQUEST_TIMEOUT_S 60L
#define CELL_MAX 256
#define DETAIL_MAX 512
#define BODY_CELL_MAX 52

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
	int all;
};

struct command {
	const char *group;
	const char *name; /* NULL: the group is the command */
	unsigned opts;
	size_t npos;
	const char *synopsis; /* for usage errors */
	int (*run)(struct ctl *, const struct args *);
};

static void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "ztpctl: <message>" on stderr */
static void
errorf(const char *fmt, ...)
{
	va_list ap;

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
	    "  sim add ICCID --psk HEX        register a SIM and its PSK (16..64 bytes in hex)\n"
	    "  sim list [--limit N] [--all]   list the SIMs (all of them, or the first N)\n"
	    "  sim show ICCID                 show one SIM\n"
	    "  sim block ICCID                refuse the SIM's requests\n"
	    "  sim unblock ICCID              accept the SIM's requests again\n"
	    "  sim rebind ICCID               forget the bound Device ID: the next one seen\n"
	    "                                 is bound\n"
	    "  sim delete ICCID               delete the SIM with its configurations,\n"
	    "                                 telemetry and device record\n"
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
	    "Exit status: 0 success, 1 an error from the server or the connection,\n"
	    "2 a usage error.\n",
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
 * body; the caller json_decrefs it). Any other answer is printed and
 * returns ZTP_EIO.
 */
static int
api_send(struct ctl *c, const char *method, const char *path, const json_t *body,
    json_t **out)
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
	rc = 0;
out:
	json_decref(root);
	free_secret(text); /* the token request's body holds the secret */
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
	rc = api_send(c, "POST", "/v1/auth/token", req, &resp);
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
api_call(struct ctl *c, const char *method, const char *path, const json_t *body,
    json_t **out)
{
	int rc;

	*out = NULL;
	rc = ctl_open(c);
	if (rc != 0)
		return rc;
	return api_send(c, method, path, body, out);
}

/* ---- output ---- */

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
	} else {
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		log_sanitize(s != NULL ? s : "?", s != NULL ? strlen(s) : 1, out, cap);
		free(s);
	}
}

#define TABLE_MAX_COLS 6

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
	char url[URL_MAX], curbuf[128] = "", prev[128] = "";
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
		/* the cursor is an ICCID (SIMs) or a record id (the others) */
		if (json_is_integer(next)) {
			snprintf(curbuf, sizeof(curbuf), "%" JSON_INTEGER_FORMAT,
			    json_integer_value(next));
		} else if (json_is_string(next) && json_string_length(next) <= 40) {
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

/* ---- commands ---- */

static int
finish_sim_change(struct ctl *c, const json_t *sim, const char *iccid, const char *what)
{
	if (c->json)
		return sim != NULL ? print_json(sim) : 0;
	printf("SIM %s %s\n", iccid, what);
	return 0;
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
	if (a->psk == NULL)
		return usage_error("sim add: --psk HEX is required");
	plen = strlen(a->psk);
	if (!hex_valid(a->psk, plen) || plen / 2 < PSK_MIN_BYTES || plen / 2 > PSK_MAX_BYTES)
		return usage_error("invalid --psk: expected %d to %d bytes in hex "
		    "(%d to %d hex digits)", PSK_MIN_BYTES, PSK_MAX_BYTES,
		    2 * PSK_MIN_BYTES, 2 * PSK_MAX_BYTES);
	req = json_pack("{s:s, s:s}", "iccid", iccid, "psk", a->psk);
	if (req == NULL) {
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

static int
cmd_sim_list(struct ctl *c, const struct args *a)
{
	json_t *res = NULL;
	uint64_t max = 0;
	int rc;

	rc = check_limit(a->limit, &max);
	if (rc != 0)
		return rc;
	if (a->all)
		max = 0;
	rc = api_list(c, "/v1/sims", "", "sims", "after", max, &res);
	if (rc != 0)
		goto out;
	if (c->json)
		rc = print_json(res);
	else
		rc = print_table(json_object_get(res, "sims"), sim_head, sim_cols, 6, NULL);
out:
	json_decref(res);
	return rc;
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
	if (sim_actions[action].done != NULL) {
		rc = finish_sim_change(c, sim, iccid, sim_actions[action].done);
	} else if (sim == NULL) {
		errorf("the server's answer is empty");
		rc = ZTP_EMALFORMED;
	} else if (c->json) {
		rc = print_json(sim);
	} else {
		print_object(sim);
		rc = 0;
	}
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
	const char *iccid = a->pos[0];
	json_t *res = NULL, *versions;
	char path[128];
	int rc;

	rc = check_iccid(iccid);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/sims/%s/config/history", iccid);
	rc = api_call(c, "GET", path, NULL, &res);
	if (rc != 0)
		goto out;
	if (c->json) {
		rc = print_json(res);
		goto out;
	}
	versions = json_object_get(res, "versions");
	if (!json_is_array(versions)) {
		errorf("the server's answer has no \"versions\" array");
		rc = ZTP_EMALFORMED;
		goto out;
	}
	rc = print_table(versions, history_head, NULL, 6, history_cell);
out:
	json_decref(res);
	return rc;
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
	const char *iccid = a->pos[0];
	uint64_t max = TELEMETRY_DEFAULT;
	json_t *res = NULL;
	char path[128];
	int rc;

	rc = check_iccid(iccid);
	if (rc == 0)
		rc = check_limit(a->limit, &max);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/sims/%s/telemetry", iccid);
	rc = api_list(c, path, "", "telemetry", "before", max, &res);
	if (rc != 0)
		goto out;
	if (c->json)
		rc = print_json(res);
	else
		rc = print_table(json_object_get(res, "telemetry"), telemetry_head, NULL, 5,
		    telemetry_cell);
out:
	json_decref(res);
	return rc;
}

static const char *const event_head[] = { "TIME", "KIND", "ICCID", "PEER", "DETAIL" };
static const char *const event_cols[] = { "time", "kind", "iccid", "peer", "detail" };

/* events [--since T] [--limit N]: T is checked here and sent as written */
static int
cmd_events(struct ctl *c, const struct args *a)
{
	char query[256], ssince[64];
	json_t *res = NULL;
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
	rc = api_list(c, "/v1/events", query, "events", "after", max, &res);
	if (rc != 0)
		goto out;
	if (c->json)
		rc = print_json(res);
	else
		rc = print_table(json_object_get(res, "events"), event_head, event_cols, 5, NULL);
out:
	json_decref(res);
	return rc;
}

static int
cmd_help(struct ctl *c, const struct args *a)
{
	usage(stdout);
	return 0;
}

static const struct command commands[] = {
	{ "sim", "add", OPT_PSK, 1, "sim add ICCID --psk HEX", cmd_sim_add },
	{ "sim", "list", OPT_LIMIT | OPT_ALL, 0, "sim list [--limit N] [--all]", cmd_sim_list },
	{ "sim", "show", 0, 1, "sim show ICCID", cmd_sim_show },
	{ "sim", "block", 0, 1, "sim block ICCID", cmd_sim_block },
	{ "sim", "unblock", 0, 1, "sim unblock ICCID", cmd_sim_unblock },
	{ "sim", "rebind", 0, 1, "sim rebind ICCID", cmd_sim_rebind },
	{ "sim", "delete", 0, 1, "sim delete ICCID", cmd_sim_delete },
	{ "config", "set", OPT_BODY | OPT_FILE, 1,
	    "config set ICCID (--body TEXT | --file FILE)", cmd_config_set },
	{ "config", "get", 0, 1, "config get ICCID", cmd_config_get },
	{ "config", "history", 0, 1, "config history ICCID", cmd_config_history },
	{ "config", "rollback", 0, 2, "config rollback ICCID VERSION", cmd_config_rollback },
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
