/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API's side of the EST endpoint's enrolment methods: the
 * allowlist (a UDID and its key), enrolment passwords, and manufacturer
 * CAs. UDIDs come decoded from the route ({udid}), CA names checked ({ca}).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "admin_int.h"
#include "admin_req.h"
#include "clock.h"
#include "crypto.h"
#include "http_util.h"
#include "server.h"
#include "store.h"
#include "ztp/err.h"

/* ---- allowlist ---- */

static json_t *
allow_json(const struct store_allow *e)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:o}", "udid", e->udid, "key_sha256",
	    admin_sha256_json(e->key_sha256), "group", admin_opt_string(e->group), "iccid",
	    admin_opt_string(e->iccid), "created_at", admin_time_json(e->created_at));
}

static int
allow_list_cb(const struct store_allow *e, void *arg)
{
	admin_page_add(arg, allow_json(e), e->udid);
	return 0;
}

/* GET /v1/allowlist?limit=N&after=UDID */
void
admin_est_allow_list(struct areq *a)
{
	struct admin_page p = { 0 };
	const char *after;
	uint64_t limit;
	int rc;

	if (admin_query_after_udid(a, &after) != 0 || admin_query_limit(a, &limit) != 0)
		return;
	p.arr = json_array();
	rc = store_allow_list(a->w->store, after, (int)limit, allow_list_cb, &p);
	admin_reply_page(a, "allowlist", &p, rc, limit);
}

/* POST /v1/allowlist: 201 added, 200 if the same entry is there, 409 if another one is */
void
admin_est_allow_add(struct areq *a)
{
	struct store_allow e, old;
	char why[160];
	int rc, existed;

	if ((rc = adminreq_allow(a->body, a->bodylen, &e, why, sizeof(why))) != 0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	existed = store_allow_get(a->w->store, e.udid, &old) == 0;
	rc = store_allow_add(a->w->store, &e);
	if (rc == ZTP_ENOENT)
		snprintf(why, sizeof(why), "no group %s", e.group);
	else if (rc == ZTP_EEXIST)
		snprintf(why, sizeof(why), "UDID %s has another allowlist entry (delete it first)",
		    e.udid);
	else
		snprintf(why, sizeof(why), "cannot add UDID %s", e.udid);
	if (rc == 0)
		rc = store_allow_get(a->w->store, e.udid, &e);
	if (rc != 0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	if (!existed)
		admin_changed(a, e.iccid[0] ? e.iccid : NULL, "allowlist entry added:", e.udid);
	http_reply_json(a->req, existed ? 200 : 201, allow_json(&e));
}

/* POST /v1/allowlist/import */
void
admin_est_allow_import(struct areq *a)
{
	admin_batch_import(a, 0);
}

static void
allow_get(struct areq *a, const char *udid)
{
	struct store_allow e;
	int rc;

	if ((rc = store_allow_get(a->w->store, udid, &e)) != 0)
		admin_reply_rc(a, rc, "no allowlist entry for this UDID");
	else
		http_reply_json(a->req, 200, allow_json(&e));
}

/* Deleting an entry does not revoke what was issued on it. */
static void
allow_delete(struct areq *a, const char *udid)
{
	int rc;

	if ((rc = store_allow_delete(a->w->store, udid)) != 0) {
		admin_reply_rc(a, rc, "no allowlist entry for this UDID");
		return;
	}
	admin_changed(a, NULL, "allowlist entry deleted:", udid);
	evhttp_send_reply(a->req, 204, "No Content", NULL);
}

/* GET /v1/allowlist/{udid} */
void
admin_est_allow_get(struct areq *a)
{
	allow_get(a, a->param);
}

/* DELETE /v1/allowlist/{udid} */
void
admin_est_allow_delete(struct areq *a)
{
	allow_delete(a, a->param);
}

/* GET /v1/allowlist/import: "import" is a UDID too; POST on that path is the import */
void
admin_est_allow_get_import(struct areq *a)
{
	allow_get(a, "import");
}

/* DELETE /v1/allowlist/import */
void
admin_est_allow_delete_import(struct areq *a)
{
	allow_delete(a, "import");
}

/* ---- enrolment passwords ---- */

/*
 * POST /v1/enrolment-passwords: the server makes the password (128 bits,
 * 32 lower-case hex digits); the store keeps a salted HMAC of it; it is in
 * this answer and nowhere else (not in the event, not in the log).
 */
void
admin_est_password(struct areq *a)
{
	char udid[STORE_UDID_MAX + 1], group[STORE_GROUP_SIZE], why[160], pw[33];
	struct store_password p;
	uint8_t rnd[16];
	json_t *obj;
	int64_t ttl;
	size_t i;
	int rc;

	if ((rc = adminreq_password(a->body, a->bodylen, udid, &ttl, group, why, sizeof(why))) != 0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	if (crypto_random(rnd, sizeof(rnd)) != 0) {
		http_reply_error(a->req, 500, "internal", "no randomness");
		return;
	}
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(pw + 2 * i, 3, "%02x", rnd[i]);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	rc = store_password_create(a->w->store, udid, group, pw, clock_now_ms() + ttl * 1000, &p);
	if (rc != 0) {
		OPENSSL_cleanse(pw, sizeof(pw));
		if (rc == ZTP_ENOENT)
			snprintf(why, sizeof(why), "no group %s", group);
		else
			snprintf(why, sizeof(why), "cannot create a password for %s", udid);
		admin_reply_rc(a, rc, why);
		return;
	}
	admin_changed(a, NULL, "enrolment password created for", udid);
	obj = json_pack("{s:s, s:s, s:o, s:o}", "udid", p.udid, "password", pw, "expires_at",
	    admin_time_json(p.expires_at), "group", admin_opt_string(p.group));
	OPENSSL_cleanse(pw, sizeof(pw));
	evhttp_add_header(evhttp_request_get_output_headers(a->req), "Cache-Control", "no-store");
	http_reply_json(a->req, 201, obj);
}

/* ---- manufacturer CAs ---- */

/*
 * A manufacturer CA; its subject (RFC 2253, ASCII: OpenSSL escapes the
 * rest) and notAfter are read from its PEM. with_pem adds the PEM.
 */
static json_t *
mfr_ca_json(const struct store_mfr_ca *ca, int with_pem)
{
	json_t *subject = json_null(), *not_after = json_null(), *o;
	BIO *in, *mem = NULL;
	X509 *x = NULL;
	struct tm tm;
	char *text;
	long n;

	if ((in = BIO_new_mem_buf(ca->pem, -1)) != NULL &&
	    (x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
		if ((mem = BIO_new(BIO_s_mem())) != NULL &&
		    X509_NAME_print_ex(mem, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0 &&
		    (n = BIO_get_mem_data(mem, &text)) >= 0) {
			json_decref(subject);
			subject = json_stringn(text, (size_t)(n < STORE_SUBJECT_MAX ? n :
								   STORE_SUBJECT_MAX - 1));
			if (subject == NULL)
				subject = json_null();
		}
		if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) {
			json_decref(not_after);
			not_after = admin_secs_json((int64_t)timegm(&tm));
		}
	}
	ERR_clear_error();
	BIO_free(mem);
	BIO_free(in);
	X509_free(x);
	o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "name", ca->name, "sha256",
	    admin_sha256_json(ca->sha256), "subject", subject, "not_after", not_after, "group",
	    admin_opt_string(ca->group), "created_at", admin_time_json(ca->created_at));
	if (o != NULL && with_pem)
		json_object_set_new(o, "pem", json_string(ca->pem));
	return o;
}

/* manufacturer CA list: all, or the one named find (found says if it was) */
struct mfr_ctx {
	json_t *arr;
	int with_pem;
	const char *find;
	json_t *found;
};

static int
mfr_ca_cb(const struct store_mfr_ca *ca, void *arg)
{
	struct mfr_ctx *m = arg;

	if (m->find == NULL)
		json_array_append_new(m->arr, mfr_ca_json(ca, m->with_pem));
	else if (strcmp(ca->name, m->find) == 0 && m->found == NULL)
		m->found = mfr_ca_json(ca, 1);
	return 0;
}

/* GET /v1/manufacturer-cas?pem=1: by name, not paged. */
void
admin_est_mfr_list(struct areq *a)
{
	struct mfr_ctx m = { 0 };
	uint64_t pem;
	int rc;

	if (admin_query_num(a, "pem", 0, 1, 0, &pem) != 0)
		return;
	m.arr = json_array();
	m.with_pem = (int)pem;
	if ((rc = store_mfr_ca_list(a->w->store, mfr_ca_cb, &m)) != 0) {
		json_decref(m.arr);
		admin_reply_rc(a, rc, "store failure");
		return;
	}
	http_reply_json(a->req, 200, json_pack("{s:o}", "manufacturer_cas", m.arr));
}

/* POST /v1/manufacturer-cas: 201 with the CA and its PEM. */
void
admin_est_mfr_add(struct areq *a)
{
	struct mfr_ctx m = { 0 };
	struct store_mfr_ca *ca = NULL;
	char why[160];
	int rc;

	if ((ca = malloc(sizeof(*ca))) == NULL) {
		http_reply_error(a->req, 503, "unavailable", "out of memory");
		return;
	}
	if ((rc = adminreq_mfr_ca(a->body, a->bodylen, ca, why, sizeof(why))) == 0) {
		rc = store_mfr_ca_add(a->w->store, ca);
		if (rc == ZTP_ENOENT)
			snprintf(why, sizeof(why), "no group %s", ca->group);
		else if (rc == ZTP_EEXIST)
			snprintf(why, sizeof(why), "a manufacturer CA named %s, or with this "
			    "certificate, exists", ca->name);
		else
			snprintf(why, sizeof(why), "cannot add manufacturer CA %s", ca->name);
	}
	if (rc != 0) {
		admin_reply_rc(a, rc, why);
		goto out;
	}
	admin_changed(a, NULL, "manufacturer CA added:", ca->name);
	m.find = ca->name;
	if ((rc = store_mfr_ca_list(a->w->store, mfr_ca_cb, &m)) != 0 || m.found == NULL) {
		json_decref(m.found);
		ca->created_at = clock_now_ms();
		m.found = mfr_ca_json(ca, 1); /* as it was added */
	}
	http_reply_json(a->req, 201, m.found);
out:
	free(ca);
}

/* GET /v1/manufacturer-cas/{name}: with its PEM. */
void
admin_est_mfr_get(struct areq *a)
{
	struct mfr_ctx m = { .find = a->param };
	int rc;

	if ((rc = store_mfr_ca_list(a->w->store, mfr_ca_cb, &m)) != 0)
		admin_reply_rc(a, rc, "store failure");
	else if (m.found == NULL)
		http_reply_error(a->req, 404, "not_found", "no such manufacturer CA");
	else
		http_reply_json(a->req, 200, m.found);
}

/* DELETE /v1/manufacturer-cas/{name} */
void
admin_est_mfr_delete(struct areq *a)
{
	int rc;

	if ((rc = store_mfr_ca_delete(a->w->store, a->param)) != 0) {
		admin_reply_rc(a, rc, "no such manufacturer CA");
		return;
	}
	admin_changed(a, NULL, "manufacturer CA deleted:", a->param);
	evhttp_send_reply(a->req, 204, "No Content", NULL);
}
