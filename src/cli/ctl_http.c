/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl's client of ztpd's admin API (docs/admin-api.md), over libcurl:
 * HTTPS verified against the admin file's CA only, a bearer token got once
 * per run for the admin file's key, JSON both ways, every request of a run
 * on one connection. The token, the secret and the bodies that hold
 * secrets are wiped when freed.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ctl.h"
#include "log.h"
#include "ztp/err.h"

#define RESPONSE_MAX (16u * 1024 * 1024) /* any answer of the admin API */
#define TOKEN_MAX 4096
#define URL_MAX 2048
#define PAGE_MAX 1000 /* the server's largest limit= */
#define CONNECT_TIMEOUT_S 10L
#define REQUEST_TIMEOUT_S 60L

/* a response body, grown up to max bytes; data is NUL-terminated */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	int toobig;
};

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
		ctl_errorf("cannot initialize libcurl");
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
		ctl_errorf("request URL too long");
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
		ctl_errorf("the server's answer is larger than %u MiB", RESPONSE_MAX >> 20);
		rc = ZTP_ETOOBIG;
		goto out;
	}
	if (cc != CURLE_OK) {
		ctl_errorf("%s: %s", ctl_san(c->admin.url, surl, sizeof(surl)),
		    c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(cc));
		rc = ZTP_EIO;
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	rc = 0;
	goto out;
nomem:
	rc = ctl_nomem();
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
		ctl_errorf("%s: %s (HTTP %ld)", ctl_san(e, serr, sizeof(serr)),
		    ctl_san(d, sdetail, sizeof(sdetail)), status);
	else if (e != NULL)
		ctl_errorf("%s (HTTP %ld)", ctl_san(e, serr, sizeof(serr)), status);
	else if (resp->len > 0) {
		log_sanitize(resp->data, resp->len, sdetail, 160);
		ctl_errorf("unexpected answer: %s (HTTP %ld)", sdetail, status);
	} else
		ctl_errorf("unexpected answer with no body (HTTP %ld)", status);
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
			rc = ctl_nomem();
			goto out;
		}
		textlen = strlen(text);
	}
	rc = http_do(c, method, path, text, textlen, &code, &resp);
	if (rc != 0)
		goto out;
	if (code == 404 && c->quiet_404) {
		rc = ZTP_ENOENT; /* the caller tries elsewhere (device show) */
		goto out;
	}
	if (code < 200 || code > 299) {
		report_http_error(code, &resp);
		rc = ZTP_EIO;
		goto out;
	}
	if (resp.len > 0) {
		root = json_loadb(resp.data, resp.len, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(root)) {
			ctl_errorf("the server's answer is not a JSON object (HTTP %ld)", code);
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
	ctl_free_secret(text); /* the token request's body holds the secret */
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
int
ctl_http_auth(struct ctl *c)
{
	json_t *req = NULL, *resp = NULL;
	const char *tok;
	int rc;

	if (c->token != NULL)
		return 0;
	if (c->curl == NULL) {
		rc = ctl_admin_load(c);
		if (rc != 0)
			goto out;
		rc = http_open(c);
		if (rc != 0)
			goto out;
	}
	req = json_pack("{s:s, s:s}", "key_id", c->admin.key_id, "secret", c->admin.secret);
	if (req == NULL) {
		rc = ctl_nomem();
		goto out;
	}
	rc = api_send(c, "POST", "/v1/auth/token", req, &resp, NULL);
	if (rc != 0)
		goto out;
	tok = json_string_value(json_object_get(resp, "token"));
	if (tok == NULL || !token_valid(tok)) {
		ctl_errorf("the server's token answer has no usable \"token\"");
		rc = ZTP_EMALFORMED;
		goto out;
	}
	c->token = strdup(tok);
	if (c->token == NULL) {
		rc = ctl_nomem();
		goto out;
	}
	rc = 0;
out:
	json_decref(req);
	json_decref(resp);
	return rc;
}

/* An authenticated admin API request; see api_send. */
int
ctl_http_call_status(struct ctl *c, const char *method, const char *path, const json_t *body,
    json_t **out, long *status)
{
	int rc;

	*out = NULL;
	rc = ctl_http_auth(c);
	if (rc != 0)
		return rc;
	return api_send(c, method, path, body, out, status);
}

/* An authenticated admin API request whose status is not needed; see api_send. */
int
ctl_http_call(struct ctl *c, const char *method, const char *path, const json_t *body,
    json_t **out)
{
	return ctl_http_call_status(c, method, path, body, out, NULL);
}

/*
 * GET every page of a list until it ends or max items (0: all) are in:
 * path is the endpoint, query its other parameters (escaped, may be ""),
 * key the array member, cursor the parameter that takes "next". Stores
 * {key: [...], "next": ...} in *out (the caller json_decrefs it); "next"
 * is non-null only when max stopped the listing early.
 */
int
ctl_http_list(struct ctl *c, const char *path, const char *query, const char *key,
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
		rc = ctl_nomem();
		goto out;
	}
	for (;;) {
		want = max != 0 && max - got < PAGE_MAX ? max - got : PAGE_MAX;
		n = snprintf(url, sizeof(url), "%s?%s%slimit=%llu%s%s%s%s", path, query,
		    *query != '\0' ? "&" : "", (unsigned long long)want,
		    *curbuf != '\0' ? "&" : "", *curbuf != '\0' ? cursor : "",
		    *curbuf != '\0' ? "=" : "", curbuf);
		if (n < 0 || (size_t)n >= sizeof(url)) {
			ctl_errorf("request URL too long");
			rc = ZTP_ERANGE;
			goto out;
		}
		json_decref(page);
		rc = ctl_http_call(c, "GET", url, NULL, &page);
		if (rc != 0)
			goto out;
		items = json_object_get(page, key);
		next = json_object_get(page, "next");
		if (!json_is_array(items)) {
			ctl_errorf("the server's answer has no \"%s\" array", key);
			rc = ZTP_EMALFORMED;
			goto out;
		}
		for (i = 0; i < json_array_size(items) && (max == 0 || got < max); i++, got++)
			if (json_array_append(all, json_array_get(items, i)) != 0) {
				rc = ctl_nomem();
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
				rc = ctl_nomem();
				goto out;
			}
			snprintf(curbuf, sizeof(curbuf), "%s", e);
			curl_free(e);
		} else {
			ctl_errorf("the server's answer has an invalid \"next\"");
			rc = ZTP_EMALFORMED;
			goto out;
		}
		/* a page that brings nothing new would loop forever */
		if (json_array_size(items) == 0 || strcmp(curbuf, prev) == 0) {
			ctl_errorf("the server's pages do not advance (next %s)", curbuf);
			rc = ZTP_EMALFORMED;
			goto out;
		}
		memcpy(prev, curbuf, sizeof(prev));
	}
	merged = json_pack("{s:O, s:O}", key, all, "next",
	    next != NULL && max != 0 && got >= max ? next : json_null());
	if (merged == NULL) {
		rc = ctl_nomem();
		goto out;
	}
	*out = merged;
	rc = 0;
out:
	json_decref(page);
	json_decref(all);
	return rc;
}

/*
 * POST a batch of the imports (body, len bytes, already JSON) to path and
 * store the server's object in *out (the caller json_decrefs it). A 401
 * (the token expired during a long import) gets a new token and the same
 * batch once more: a batch is idempotent. Any answer but 200 is printed
 * and returns ZTP_EIO.
 */
int
ctl_http_post_batch(struct ctl *c, const char *path, const char *body, size_t len,
    json_t **out)
{
	struct buf resp = { NULL, 0, 0, RESPONSE_MAX, 0 };
	json_t *root = NULL;
	long code = 0;
	int rc, retried = 0;

	*out = NULL;
	for (;;) {
		rc = http_do(c, "POST", path, body, len, &code, &resp);
		if (rc != 0)
			goto out;
		if (code != 401 || retried)
			break;
		retried = 1;
		free(resp.data);
		memset(&resp, 0, sizeof(resp));
		resp.max = RESPONSE_MAX;
		ctl_free_secret(c->token);
		c->token = NULL;
		rc = ctl_http_auth(c);
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
		ctl_errorf("the server's answer to an import batch is not a JSON object");
		rc = ZTP_EMALFORMED;
		goto out;
	}
	*out = root;
	root = NULL;
	rc = 0;
out:
	json_decref(root);
	free(resp.data);
	return rc;
}

/* Close the connection and forget the token and the admin file. */
void
ctl_http_close(struct ctl *c)
{
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
	ctl_free_secret(c->token);
	c->token = NULL;
	ctl_admin_free(&c->admin);
}
