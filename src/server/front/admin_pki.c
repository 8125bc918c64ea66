/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API of foreign PKIs (docs/admin-api.md "Foreign PKIs",
 * docs/pki-crl.md): add one (its CA, its CRL's URL, how often), list,
 * show, delete, and sync one now. The operator's (all-owners keys): a
 * PKI blocks devices whoever owns them.
 *
 * A sync fetches from another server: it runs on the front's PKI thread
 * (pki_sync.c), and the request is answered when it is done, on its
 * worker's thread (a->later); the worker serves its other connections
 * meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "admin_int.h"
#include "admin_pkireq.h"
#include "clock.h"
#include "http_util.h"
#include "log.h"
#include "pki.h"
#include "server.h"
#include "store.h"
#include "ztp/err.h"

/* ---- JSON ---- */

/* A time in ms, null for 0 (never). */
static json_t *
opt_time(int64_t ms)
{
	return ms != 0 ? admin_time_json(ms) : json_null();
}

/* The CA certificate's subject (one line) and, with pem, the PEM into *pem (new or null). */
static void
ca_info(const struct store_pki *p, char *subject, size_t cap, json_t **pem)
{
	const unsigned char *d = p->ca;
	X509 *x = d2i_X509(NULL, &d, (long)p->ca_len);
	BIO *b = NULL;
	char *s;
	long n;

	subject[0] = '\0';
	if (pem != NULL)
		*pem = NULL;
	if (x != NULL) {
		X509_NAME_oneline(X509_get_subject_name(x), subject, (int)cap);
		if (pem != NULL && (b = BIO_new(BIO_s_mem())) != NULL && PEM_write_bio_X509(b, x) &&
		    (n = BIO_get_mem_data(b, &s)) > 0)
			*pem = json_stringn(s, (size_t)n);
	}
	if (pem != NULL && *pem == NULL)
		*pem = json_null();
	BIO_free(b);
	X509_free(x);
}

static json_t *
pki_json(const struct store_pki *p, int with_pem)
{
	char subject[256];
	uint8_t sha[32];
	json_t *o, *pem = NULL;
	int64_t next = store_pki_due_at(p);

	ca_info(p, subject, sizeof(subject), with_pem ? &pem : NULL);
	SHA256(p->ca, p->ca_len, sha);
	o = json_pack("{s:s, s:s, s:o, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o}",
	    "name", p->name, "subject", subject, "ca_sha256", admin_sha256_json(sha), "crl_url",
	    p->crl_url, "interval_s", (json_int_t)p->interval_s, "created_at",
	    admin_time_json(p->created_at), "last_fetch_at", opt_time(p->last_fetch_at),
	    "last_ok_at", opt_time(p->last_ok_at), "last_error", admin_opt_string(p->last_error),
	    "crl_number", admin_opt_string(p->crl_number), "crl_this_update",
	    admin_secs_json(p->crl_this_update), "next_fetch_at", opt_time(next), "revoked",
	    (json_int_t)p->revoked, "ok", json_boolean(p->last_ok_at != 0 &&
		p->last_error[0] == '\0'));
	if (o != NULL && pem != NULL)
		json_object_set_new(o, "ca", pem);
	else
		json_decref(pem);
	return o;
}

/* A sync's result as the API shows it (also in a refused sync's error answer). */
static json_t *
result_json(const char *name, const struct pki_sync_result *r)
{
	return json_pack("{s:s, s:b, s:o, s:o, s:o, s:o, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
			 "s:I, s:I}",
	    "name", name, "ok", r->rc == 0, "error", admin_opt_string(r->error), "crl_number",
	    admin_opt_string(r->crl_number), "this_update", admin_secs_json(r->this_update),
	    "next_update", admin_secs_json(r->next_update), "stale", r->stale, "bytes",
	    (json_int_t)r->bytes, "entries", (json_int_t)r->entries, "listed",
	    (json_int_t)r->listed, "blocked", (json_int_t)r->blocked, "already_blocked",
	    (json_int_t)r->already, "earlier", (json_int_t)r->earlier, "unknown",
	    (json_int_t)r->unknown, "revoked_certs", (json_int_t)r->revoked, "ms",
	    (json_int_t)r->ms);
}

/* ---- the handlers ---- */

static int
pki_list_cb(const struct store_pki *p, void *arg)
{
	json_array_append_new(arg, pki_json(p, 0));
	return 0;
}

/* GET /v1/pkis */
void
admin_pki_list(struct areq *a)
{
	json_t *arr = json_array();
	int rc;

	if ((rc = store_pki_list(a->w->store, pki_list_cb, arr)) != 0) {
		json_decref(arr);
		admin_reply_rc(a, rc, "store failure");
		return;
	}
	http_reply_json(a->req, 200, json_pack("{s:o}", "pkis", arr));
}

/* The PKI of the path into *p (heap). 0, or -1 with the answer sent. */
static int
path_pki(struct areq *a, struct store_pki **p)
{
	int rc;

	*p = NULL;
	if (!store_pki_name_valid(a->param)) {
		http_reply_error(a->req, 400, "bad_request",
		    "not a PKI name: 1 to 64 of A-Z a-z 0-9 - . _");
		return -1;
	}
	if ((*p = malloc(sizeof(**p))) == NULL) {
		http_reply_error(a->req, 503, "unavailable", "out of memory");
		return -1;
	}
	if ((rc = store_pki_get(a->w->store, a->param, *p)) != 0) {
		admin_reply_rc(a, rc, "no such PKI");
		free(*p);
		*p = NULL;
		return -1;
	}
	return 0;
}

/* POST /v1/pkis: 201 with the PKI; its first sync follows at once, on the PKI thread. */
void
admin_pki_create(struct areq *a)
{
	struct store_pki *p;
	char why[192];
	int rc;

	if ((p = malloc(sizeof(*p))) == NULL) {
		http_reply_error(a->req, 503, "unavailable", "out of memory");
		return;
	}
	if ((rc = admin_pkireq_create(a->body, a->bodylen, p, why, sizeof(why))) == 0) {
		p->created_at = clock_now_ms();
		if ((rc = store_pki_add(a->w->store, p)) == ZTP_EEXIST)
			snprintf(why, sizeof(why), "a PKI named %s exists", p->name);
		else
			snprintf(why, sizeof(why), "cannot add PKI %s", p->name);
	}
	if (rc != 0) {
		admin_reply_rc(a, rc, why);
		goto out;
	}
	admin_changed(a, NULL, "PKI added:", p->name);
	pki_wake();
	if (store_pki_get(a->w->store, p->name, p) != 0)
		log_warnx("PKI %s: added, but cannot be read back", p->name);
	http_reply_json(a->req, 201, pki_json(p, 1));
out:
	free(p);
}

/* GET /v1/pkis/{name}: with its CA as PEM. */
void
admin_pki_get(struct areq *a)
{
	struct store_pki *p;

	if (path_pki(a, &p) != 0)
		return;
	http_reply_json(a->req, 200, pki_json(p, 1));
	free(p);
}

/* DELETE /v1/pkis/{name}: its syncs stop; the devices they blocked stay blocked. */
void
admin_pki_delete(struct areq *a)
{
	int rc;

	if (!store_pki_name_valid(a->param)) {
		http_reply_error(a->req, 400, "bad_request",
		    "not a PKI name: 1 to 64 of A-Z a-z 0-9 - . _");
		return;
	}
	if ((rc = store_pki_delete(a->w->store, a->param)) != 0) {
		admin_reply_rc(a, rc, "no such PKI");
		return;
	}
	admin_changed(a, NULL, "PKI deleted:", a->param);
	evhttp_send_reply(a->req, 204, "No Content", NULL);
}

/* An on-demand sync's request while the PKI thread has it. */
struct sync_wait {
	struct worker *w;
	struct evhttp_request *req;
	char name[STORE_PKI_NAME_MAX + 1];
};

/* The sync is done (pki_sync_done): answer, if there is still someone to answer. */
static void
sync_done(const struct pki_sync_result *r, void *arg, int exiting)
{
	struct sync_wait *sw = arg;
	struct evhttp_request *req = sw->req;
	struct conn *c;
	json_t *o;

	if (exiting || sw->w->http[LISTENER_ADMIN] == NULL) {
		/* the worker is exiting: evhttp_free() took the request with its connection */
		free(sw);
		return;
	}
	if ((c = conn_of(req)) == NULL) {
		/* the connection failed and evhttp left the request to us */
		evhttp_request_free(req);
		free(sw);
		return;
	}
	if (c->timed_out) {
		http_reply_error(req, 503, "unavailable", "timed out");
	} else if (r->rc == 0) {
		http_reply_json(req, 200, result_json(sw->name, r));
	} else if (r->rc == ZTP_ENOENT) {
		http_reply_error(req, 404, "not_found", "no such PKI");
	} else if (r->rc == ZTP_EIO && strcmp(r->error, "the server is stopping") == 0) {
		http_reply_error(req, 503, "unavailable", r->error);
	} else {
		/* the PKI's server, or its CRL, failed: the counts so far with the reason */
		o = result_json(sw->name, r);
		json_object_set_new(o, "detail", json_string(r->error));
		json_object_set_new(o, "error", json_string("sync_failed"));
		http_reply_json(req, 502, o);
	}
	conn_request_done(c, req);
	free(sw);
}

/*
 * POST /v1/pkis/{name}/sync: fetch and apply its CRL now; 200 with what
 * the sync did, 502 with why it failed (its server, or a CRL refused).
 */
void
admin_pki_sync(struct areq *a)
{
	struct store_pki *p;
	struct sync_wait *sw;
	int rc;

	if (path_pki(a, &p) != 0)
		return;
	free(p);
	if ((sw = calloc(1, sizeof(*sw))) == NULL) {
		http_reply_error(a->req, 503, "unavailable", "out of memory");
		return;
	}
	sw->w = a->w;
	sw->req = a->req;
	snprintf(sw->name, sizeof(sw->name), "%s", a->param);
	if ((rc = pki_sync_submit(a->w, a->param, a->key_id, sync_done, sw)) != 0) {
		free(sw);
		if (rc == ZTP_EBUSY)
			evhttp_add_header(evhttp_request_get_output_headers(a->req), "Retry-After",
			    "10");
		http_reply_error(a->req, 503, "unavailable", rc == ZTP_EBUSY ?
		    "other syncs are waiting: retry later" : "the CRL synchronisation is not running");
		return;
	}
	a->later = 1;
	/* behind the sync under way, if any, then its own fetch */
	if (a->c != NULL)
		conn_extend_deadline(a->c, 2 * PKI_FETCH_TIMEOUT_S + 10);
}
