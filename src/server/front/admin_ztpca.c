/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API of ZTP certificates (docs/admin-api.md "ZTP CAs",
 * docs/security-service.md "ZTP certificates"): owners' CAs, made by the
 * signer or imported through it, a proof-of-possession certificate for a
 * cloud's registration code, the CA of a profile or of one module, and a
 * module's bundle as the server issued it.
 *
 * Owner scope: a CA is an owner's. A key of one owner creates, sees and
 * uses only that owner's CAs; another owner's answer 404, as if they did
 * not exist. An all-owners key names the owner: "owner" in a creation's
 * body, ?owner= on a CA's path (required there: names are per owner).
 *
 * The CA's private key is never here in clear but for an import, whose
 * body carries it on its way to the signer: the body and the DER made of
 * it are wiped once the signer has answered. What the store keeps is the
 * key as the signer wrapped it, which only the signer opens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "admin_int.h"
#include "clock.h"
#include "http_util.h"
#include "jsonreq.h"
#include "modmsg.h"
#include "num.h"
#include "server.h"
#include "signer_client.h"
#include "signer_msg.h"
#include "store.h"
#include "ztp/err.h"

#define ZTPCA_BODY_MAX 32768
#define CA_DAYS_DEFAULT 3650
#define DEVICE_DAYS_DEFAULT 365
#define POP_DAYS_DEFAULT 30
#define CODE_MAX 64

_Static_assert(STORE_ZTPCA_KEY_MAX == SIGNER_ZTPCA_KEY_MAX, "the store keeps a wrapped key");
_Static_assert(STORE_ZTPCA_CERT_MAX == SIGNER_ZTPCA_CERT_MAX, "the store keeps a CA certificate");

/* ---- JSON ---- */

/* DER as PEM of kind ("CERTIFICATE"): a new JSON string, or null. */
static json_t *
pem_json(const char *kind, const uint8_t *der, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	json_t *out = NULL;
	char *p;
	long n;

	if (b != NULL && PEM_write_bio(b, kind, "", der, (long)len) > 0 &&
	    (n = BIO_get_mem_data(b, &p)) > 0)
		out = json_stringn(p, (size_t)n);
	BIO_free(b);
	return out != NULL ? out : json_null();
}

/* The subject of a DER certificate, one line, or "". */
static void
cert_subject(const uint8_t *der, size_t len, char *out, size_t cap)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	out[0] = '\0';
	if (x != NULL)
		X509_NAME_oneline(X509_get_subject_name(x), out, (int)cap);
	X509_free(x);
}

static json_t *
ca_json(const struct store_ztpca *ca, int with_pem)
{
	uint8_t sha[32];
	char subject[256];
	json_t *o;

	cert_subject(ca->cert, ca->cert_len, subject, sizeof(subject));
	SHA256(ca->cert, ca->cert_len, sha);
	o = json_pack("{s:s, s:s, s:s, s:o, s:I, s:b, s:o, s:o, s:o}", "name", ca->name, "owner",
	    ca->owner, "subject", subject, "sha256", admin_sha256_json(sha), "device_days",
	    (json_int_t)ca->device_days, "imported", ca->imported, "not_before",
	    admin_secs_json(ca->not_before), "not_after", admin_secs_json(ca->not_after),
	    "created_at", admin_time_json(ca->created_at));
	if (o != NULL && with_pem)
		json_object_set_new(o, "certificate", pem_json("CERTIFICATE", ca->cert, ca->cert_len));
	return o;
}

/* ---- owners and paths ---- */

/*
 * The owner a request about an existing CA acts on, into owner: the key's,
 * or ?owner= (required) for an all-owners key. An owner key that asks for
 * another owner's gets 404. 0, or -1 with the answer sent.
 */
static int
ca_owner(struct areq *a, char owner[STORE_OWNER_MAX + 1])
{
	const char *q = evhttp_find_header(&a->query, "owner");

	if (q != NULL && !store_profile_owner_valid(q)) {
		http_reply_error(a->req, 400, "bad_request", "owner must be an owner's name");
		return -1;
	}
	if (a->all_owners) {
		if (q == NULL) {
			http_reply_error(a->req, 400, "bad_request",
			    "?owner= is required with a key that acts for all owners: CA names are "
			    "per owner");
			return -1;
		}
		snprintf(owner, STORE_OWNER_MAX + 1, "%s", q);
		return 0;
	}
	if (q != NULL && strcmp(q, a->owner) != 0) {
		http_reply_error(a->req, 404, "not_found", "no such ZTP CA");
		return -1;
	}
	snprintf(owner, STORE_OWNER_MAX + 1, "%s", a->owner);
	return 0;
}

/* The CA of the path (its owner by ca_owner) into *ca (heap). 0, or -1 with the answer sent. */
static int
path_ca(struct areq *a, struct store_ztpca **ca)
{
	char owner[STORE_OWNER_MAX + 1];
	int rc;

	*ca = NULL;
	if (!store_profile_name_valid(a->param)) {
		http_reply_error(a->req, 400, "bad_request",
		    "not a CA name: 1 to 64 of A-Z a-z 0-9 - . _");
		return -1;
	}
	if (ca_owner(a, owner) != 0)
		return -1;
	if ((*ca = calloc(1, sizeof(**ca))) == NULL) {
		http_reply_error(a->req, 503, "unavailable", "out of memory");
		return -1;
	}
	if ((rc = store_ztpca_get(a->w->store, owner, a->param, *ca)) != 0) {
		admin_reply_rc(a, rc, "no such ZTP CA");
		free(*ca);
		*ca = NULL;
		return -1;
	}
	return 0;
}

/* The answer to a signer's refusal or absence. */
static void
reply_signer(struct areq *a, int rc, const char *what)
{
	char why[160];

	if (rc == ZTP_EIO) {
		evhttp_add_header(evhttp_request_get_output_headers(a->req), "Retry-After", "5");
		http_reply_error(a->req, 503, "unavailable", "the CA process is not available");
		return;
	}
	snprintf(why, sizeof(why), "%s: %s", what, ztp_strerror(rc));
	if (rc == ZTP_EINVAL || rc == ZTP_EMALFORMED || rc == ZTP_EEXPIRED || rc == ZTP_ERANGE ||
	    rc == ZTP_ETOOBIG || rc == ZTP_EAUTH)
		http_reply_error(a->req, 400, "bad_request", why);
	else
		http_reply_error(a->req, 500, "internal", why);
}

/* An optional number member name of o in [min, max] (def if absent) into *out; else 400. */
static int
num_member(struct areq *a, json_t *o, const char *name, uint64_t min, uint64_t max,
    uint64_t def, uint64_t *out)
{
	json_t *v = json_object_get(o, name);
	char why[96];

	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
	    json_integer_value(v) > (json_int_t)max) {
		snprintf(why, sizeof(why), "\"%s\" must be a number from %llu to %llu", name,
		    (unsigned long long)min, (unsigned long long)max);
		http_reply_error(a->req, 400, "bad_request", why);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/*
 * One PEM block of kind in the string member name of o, as DER into a new
 * buffer *der (OPENSSL_free, wiped by the caller when it is a key). Else 400.
 */
static int
pem_member(struct areq *a, json_t *o, const char *name, const char *kind, uint8_t **der,
    long *len)
{
	const char *s;
	char *pname = NULL, *header = NULL, why[160];
	size_t slen;
	BIO *b = NULL;
	int rc = -1;

	*der = NULL;
	*len = 0;
	if (jsonreq_string(o, name, &s, &slen, why, sizeof(why)) != 0)
		goto bad;
	if ((b = BIO_new_mem_buf(s, (int)slen)) == NULL ||
	    PEM_read_bio(b, &pname, &header, der, len) != 1 || strcmp(pname, kind) != 0 ||
	    header[0] != '\0' || *len <= 0) {
		snprintf(why, sizeof(why), "\"%s\" must be one PEM %s (unencrypted)", name, kind);
		goto bad;
	}
	rc = 0;
	goto out;
bad:
	if (*der != NULL)
		OPENSSL_clear_free(*der, (size_t)*len);
	*der = NULL;
	http_reply_error(a->req, 400, "bad_request", why);
out:
	OPENSSL_free(pname);
	OPENSSL_free(header);
	BIO_free(b);
	ERR_clear_error();
	return rc;
}

/* ---- routes ---- */

static int
list_cb(const struct store_ztpca *ca, void *arg)
{
	json_array_append_new(arg, ca_json(ca, 0));
	return 0;
}

/* GET /v1/ztp-cas[?owner=O]: the key's owner's CAs (an all-owners key: every owner's, or O's). */
void
admin_ztpca_list(struct areq *a)
{
	const char *q = evhttp_find_header(&a->query, "owner");
	json_t *arr;
	int rc = 0;

	if (q != NULL && !store_profile_owner_valid(q)) {
		http_reply_error(a->req, 400, "bad_request", "owner must be an owner's name");
		return;
	}
	arr = json_array();
	if (a->all_owners)
		rc = store_ztpca_list(a->w->store, q, list_cb, arr);
	else if (q == NULL || strcmp(q, a->owner) == 0)
		rc = store_ztpca_list(a->w->store, a->owner, list_cb, arr);
	if (rc != 0) {
		json_decref(arr);
		admin_reply_rc(a, rc, "store failure");
		return;
	}
	http_reply_json(a->req, 200, json_pack("{s:o}", "ztp_cas", arr));
}

/*
 * POST /v1/ztp-cas {"name", "owner"?, "ca_days"?, "device_days"?} makes a
 * CA in the signer; with "certificate" and "private_key" (PEM, the key as
 * PKCS#8 "PRIVATE KEY") it imports one. 201 with the CA and its PEM.
 */
void
admin_ztpca_create(struct areq *a)
{
	static const char *const req[] = { "name", NULL };
	static const char *const opt[] = { "owner", "ca_days", "device_days", "certificate",
		"private_key", NULL };
	struct signer_ztpca_ca made = { 0 };
	struct store_ztpca *ca = NULL;
	char why[200], id[SIGNER_ZTPCA_ID_MAX + 1];
	char name[STORE_PROFILE_NAME_MAX + 1], owner[STORE_OWNER_MAX + 1];
	const char *s;
	uint8_t *cert = NULL, *key = NULL;
	long cert_len = 0, key_len = 0;
	uint64_t ca_days, dev_days;
	json_t *o = NULL;
	size_t n;
	int rc, import;

	rc = jsonreq_load(a->body, a->bodylen, ZTPCA_BODY_MAX, req, opt, &o, why, sizeof(why));
	if (rc != 0) {
		admin_reply_rc(a, rc, why);
		goto out;
	}
	/* copied: the body's JSON goes before the store is written */
	if (jsonreq_string(o, "name", &s, &n, why, sizeof(why)) != 0 ||
	    !store_profile_name_valid(s)) {
		http_reply_error(a->req, 400, "bad_request",
		    "\"name\" must be 1 to 64 of A-Z a-z 0-9 - . _");
		goto out;
	}
	snprintf(name, sizeof(name), "%s", s);
	owner[0] = '\0';
	if (json_object_get(o, "owner") != NULL) {
		if (jsonreq_string(o, "owner", &s, &n, why, sizeof(why)) != 0 ||
		    !store_profile_owner_valid(s)) {
			http_reply_error(a->req, 400, "bad_request",
			    "\"owner\" must be an owner's name");
			goto out;
		}
		snprintf(owner, sizeof(owner), "%s", s);
	}
	if (!a->all_owners) {
		if (owner[0] != '\0' && strcmp(owner, a->owner) != 0) {
			http_reply_error(a->req, 403, "forbidden",
			    "this key acts for one owner only: it creates that owner's CAs");
			goto out;
		}
		snprintf(owner, sizeof(owner), "%s", a->owner);
	} else if (owner[0] == '\0') {
		http_reply_error(a->req, 400, "bad_request",
		    "\"owner\" is required with a key that acts for all owners");
		goto out;
	}
	import = json_object_get(o, "certificate") != NULL || json_object_get(o, "private_key") != NULL;
	if (num_member(a, o, "ca_days", 1, STORE_ZTPCA_DAYS_MAX, CA_DAYS_DEFAULT, &ca_days) != 0 ||
	    num_member(a, o, "device_days", 1, STORE_ZTPCA_DAYS_MAX, DEVICE_DAYS_DEFAULT,
		&dev_days) != 0)
		goto out;
	if (import && json_object_get(o, "ca_days") != NULL) {
		http_reply_error(a->req, 400, "bad_request",
		    "\"ca_days\" is for a CA made here; an imported one keeps its certificate's");
		goto out;
	}
	if (import && (pem_member(a, o, "certificate", "CERTIFICATE", &cert, &cert_len) != 0 ||
			  pem_member(a, o, "private_key", "PRIVATE KEY", &key, &key_len) != 0))
		goto out;
	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		http_reply_error(a->req, 503, "unavailable", "out of memory");
		goto out;
	}
	if ((rc = store_ztpca_get(a->w->store, owner, name, ca)) != ZTP_ENOENT) {
		snprintf(why, sizeof(why), "owner %s has a ZTP CA %s", owner, name);
		admin_reply_rc(a, rc == 0 ? ZTP_EEXIST : rc, rc == 0 ? why : "store failure");
		goto out;
	}
	snprintf(id, sizeof(id), "%s/%s", owner, name);
	why[0] = '\0';
	if (import)
		rc = signer_ztpca_import(a->w->srv->signer, id, cert, (size_t)cert_len, key,
		    (size_t)key_len, &made, why, sizeof(why));
	else
		rc = signer_ztpca_create(a->w->srv->signer, id, name, owner, (uint32_t)ca_days, &made);
	/* the key in clear is no longer needed, here, in the request or in its JSON */
	if (key != NULL)
		OPENSSL_clear_free(key, (size_t)key_len);
	key = NULL;
	if (json_is_string(json_object_get(o, "private_key")))
		OPENSSL_cleanse((char *)json_string_value(json_object_get(o, "private_key")),
		    json_string_length(json_object_get(o, "private_key")));
	json_decref(o);
	o = NULL;
	OPENSSL_cleanse(a->body, a->bodylen);
	if (rc != 0) {
		reply_signer(a, rc, why[0] != '\0' ? why :
		    import ? "the CA was refused" : "the CA could not be made");
		goto out;
	}
	memset(ca, 0, sizeof(*ca));
	snprintf(ca->owner, sizeof(ca->owner), "%s", owner);
	snprintf(ca->name, sizeof(ca->name), "%s", name);
	if (made.cert_len > sizeof(ca->cert) || made.key_len > sizeof(ca->key)) {
		http_reply_error(a->req, 500, "internal", "the signer's answer is too large");
		goto out;
	}
	memcpy(ca->cert, made.cert, made.cert_len);
	ca->cert_len = made.cert_len;
	memcpy(ca->key, made.key, made.key_len);
	ca->key_len = made.key_len;
	ca->device_days = (uint32_t)dev_days;
	ca->imported = import;
	ca->not_before = made.not_before;
	ca->not_after = made.not_after;
	ca->created_at = clock_now_ms();
	rc = store_ztpca_add(a->w->store, ca);
	if (rc != 0) {
		snprintf(why, sizeof(why), rc == ZTP_EEXIST ? "owner %s has a ZTP CA %s" :
		    rc == ZTP_ENOENT ? "no owner %s" : "ZTP CA %s/%s cannot be kept", owner, name);
		admin_reply_rc(a, rc == ZTP_ENOENT ? ZTP_EINVAL : rc, why);
		goto out;
	}
	snprintf(why, sizeof(why), "%s of %s (%s)", name, owner, import ? "imported" : "made");
	admin_changed_dev(a, owner, NULL, "ztp-ca created:", why);
	http_reply_json(a->req, 201, ca_json(ca, 1));
out:
	if (key != NULL)
		OPENSSL_clear_free(key, (size_t)key_len);
	OPENSSL_free(cert);
	json_decref(o);
	signer_ztpca_ca_free(&made);
	free(ca);
}

/* GET /v1/ztp-cas/{ztpca}[?owner=O]: the CA and its certificate (PEM). */
void
admin_ztpca_get(struct areq *a)
{
	struct store_ztpca *ca;

	if (path_ca(a, &ca) != 0)
		return;
	http_reply_json(a->req, 200, ca_json(ca, 1));
	free(ca);
}

/*
 * POST /v1/ztp-cas/{ztpca}/pop[?owner=O] {"registration_code", "days"?}: a
 * proof-of-possession certificate, CN = the code, signed by the CA's key
 * (AWS IoT register-ca-certificate's verification certificate).
 */
void
admin_ztpca_pop(struct areq *a)
{
	static const char *const req[] = { "registration_code", NULL };
	static const char *const opt[] = { "days", NULL };
	struct signer_issued out = { 0 };
	struct store_ztpca *ca = NULL;
	char why[160], id[SIGNER_ZTPCA_ID_MAX + 1];
	const char *code;
	uint64_t days;
	json_t *o = NULL;
	size_t n, i;
	int rc;

	if (path_ca(a, &ca) != 0)
		return;
	if ((rc = jsonreq_load(a->body, a->bodylen, 4096, req, opt, &o, why, sizeof(why))) != 0) {
		admin_reply_rc(a, rc, why);
		goto out;
	}
	if (jsonreq_string(o, "registration_code", &code, &n, why, sizeof(why)) != 0 || n == 0 ||
	    n > CODE_MAX)
		goto bad_code;
	for (i = 0; i < n; i++)
		if (code[i] < 0x21 || code[i] > 0x7e)
			goto bad_code;
	if (num_member(a, o, "days", 1, STORE_ZTPCA_DAYS_MAX, POP_DAYS_DEFAULT, &days) != 0)
		goto out;
	snprintf(id, sizeof(id), "%s/%s", ca->owner, ca->name);
	rc = signer_ztpca_pop(a->w->srv->signer, id, ca->cert, ca->cert_len, ca->key, ca->key_len,
	    code, (uint32_t)days, &out);
	if (rc != 0) {
		reply_signer(a, rc, "no proof-of-possession certificate");
		goto out;
	}
	snprintf(why, sizeof(why), "%s of %s", ca->name, ca->owner);
	admin_changed_dev(a, ca->owner, NULL, "ztp-ca pop certificate:", why);
	http_reply_json(a->req, 200, json_pack("{s:s, s:s, s:o}", "name", ca->name, "owner",
	    ca->owner, "certificate", pem_json("CERTIFICATE", out.der, out.der_len)));
	goto out;
bad_code:
	http_reply_error(a->req, 400, "bad_request",
	    "\"registration_code\" must be 1 to 64 printable characters without spaces");
out:
	json_decref(o);
	signer_issued_free(&out);
	free(ca);
}

/* {"ztp_ca": NAME | null} of a PUT: the name into name ("" for null). 0, or -1 with 400 sent. */
static int
link_body(struct areq *a, char name[STORE_PROFILE_NAME_MAX + 1])
{
	static const char *const req[] = { "ztp_ca", NULL };
	const char *s;
	char why[160];
	json_t *o = NULL, *v;
	size_t n;
	int rc;

	if ((rc = jsonreq_load(a->body, a->bodylen, 1024, req, NULL, &o, why, sizeof(why))) != 0) {
		admin_reply_rc(a, rc, why);
		return -1;
	}
	v = json_object_get(o, "ztp_ca");
	name[0] = '\0';
	if (!json_is_null(v) &&
	    (jsonreq_string(o, "ztp_ca", &s, &n, why, sizeof(why)) != 0 ||
		!store_profile_name_valid(s))) {
		json_decref(o);
		http_reply_error(a->req, 400, "bad_request",
		    "\"ztp_ca\" must be a CA's name, or null for none");
		return -1;
	}
	if (!json_is_null(v))
		snprintf(name, STORE_PROFILE_NAME_MAX + 1, "%s", s);
	json_decref(o);
	return 0;
}

/* The profile of the path, if the key sees it (its owner into owner); else the answer, -1. */
static int
path_profile_owner(struct areq *a, char owner[STORE_OWNER_MAX + 1])
{
	struct store_profile p;
	int rc;

	if (!modmsg_profile_valid(a->param, strlen(a->param))) {
		http_reply_error(a->req, 400, "bad_request",
		    "not a DeviceProfileUID: expected 32 lower-case hex digits");
		return -1;
	}
	rc = store_profile_get(a->w->store, a->param, &p);
	if (rc == 0 && !admin_scope_sees(a, p.owner))
		rc = ZTP_ENOENT;
	if (rc != 0) {
		admin_reply_rc(a, rc, "no such profile");
		return -1;
	}
	snprintf(owner, STORE_OWNER_MAX + 1, "%s", p.owner);
	return 0;
}

/* GET and PUT /v1/profiles/{profile}/ztp-ca: the CA its modules get. */
void
admin_ztpca_profile(struct areq *a)
{
	char owner[STORE_OWNER_MAX + 1], name[STORE_PROFILE_NAME_MAX + 1], why[200];
	int rc;

	if (path_profile_owner(a, owner) != 0)
		return;
	if (a->method == ADMINROUTE_PUT) {
		if (link_body(a, name) != 0)
			return;
		rc = store_ztpca_set_profile(a->w->store, a->param, name, clock_now_ms());
		if (rc != 0) {
			snprintf(why, sizeof(why), rc == ZTP_EINVAL ? "owner %s has no ZTP CA %s" :
			    "no such profile", owner, name);
			admin_reply_rc(a, rc, why);
			return;
		}
		snprintf(why, sizeof(why), "%s: %s", a->param, name[0] ? name : "none");
		admin_changed_dev(a, owner, NULL, "profile ztp-ca:", why);
	}
	if ((rc = store_ztpca_of_profile(a->w->store, a->param, name)) != 0) {
		admin_reply_rc(a, rc, "store failure");
		return;
	}
	http_reply_json(a->req, 200, json_pack("{s:s, s:s, s:o}", "profile", a->param, "owner",
	    owner, "ztp_ca", admin_opt_string(name)));
}

/* The module of the path, if the key sees it; else the answer, -1. */
static int
path_module(struct areq *a, struct store_mod *m)
{
	int rc;

	if (!modmsg_uid_hex_valid(a->param, strlen(a->param))) {
		http_reply_error(a->req, 400, "bad_request",
		    "not a RoT UID: expected 32 lower-case hex digits");
		return -1;
	}
	rc = store_module_get(a->w->store, a->param, m);
	if (rc == 0 && !admin_scope_sees(a, m->owner))
		rc = ZTP_ENOENT;
	if (rc != 0) {
		admin_reply_rc(a, rc, "no such module");
		return -1;
	}
	return 0;
}

/*
 * GET and PUT /v1/modules/{rot}/ztp-ca: the module's own CA (null: its
 * profile's), the one it gets, and its bundle as the server issued it.
 */
void
admin_ztpca_module(struct areq *a)
{
	char own[STORE_PROFILE_NAME_MAX + 1], why[200];
	struct store_ztpca *ca = NULL;
	struct store_ztpbundle b;
	struct store_mod m;
	json_t *o, *bundle = json_null();
	int rc;

	if (path_module(a, &m) != 0)
		return;
	if (a->method == ADMINROUTE_PUT) {
		if (link_body(a, own) != 0)
			return;
		rc = store_ztpca_set_module(a->w->store, a->param, own, clock_now_ms());
		if (rc != 0) {
			snprintf(why, sizeof(why), rc == ZTP_EINVAL ? "owner %s has no ZTP CA %s" :
			    rc == ZTP_ECONFLICT ? "module %s has no owner yet" : "no module %s",
			    rc == ZTP_EINVAL ? m.owner : a->param, own);
			admin_reply_rc(a, rc, why);
			return;
		}
		snprintf(why, sizeof(why), "%s: %s", a->param, own[0] ? own : "none (its profile's)");
		admin_changed_dev(a, m.owner, a->param, "module ztp-ca:", why);
	}
	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		http_reply_error(a->req, 503, "unavailable", "out of memory");
		return;
	}
	if ((rc = store_ztpca_of_module(a->w->store, a->param, own)) != 0 ||
	    ((rc = store_ztpca_for_module(a->w->store, a->param, m.owner, m.profile_uid, ca)) != 0 &&
		rc != ZTP_ENOENT)) {
		admin_reply_rc(a, ZTP_ESTORE, "store failure");
		free(ca);
		return;
	}
	if (rc == ZTP_ENOENT)
		ca->name[0] = '\0';
	if (store_ztpbundle_get(a->w->store, a->param, &b, NULL, 0, NULL) == 0) {
		json_decref(bundle);
		bundle = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "ca", b.ca, "serial", b.serial,
		    "not_after", admin_secs_json(b.not_after), "issued_at",
		    admin_time_json(b.issued_at), "delivered_at",
		    b.delivered_at ? admin_time_json(b.delivered_at) : json_null(), "sha256",
		    admin_sha256_json(b.cert_sha256));
	}
	o = json_pack("{s:s, s:o, s:o, s:b, s:o}", "rot_uid", a->param, "ztp_ca",
	    admin_opt_string(own), "effective_ztp_ca", admin_opt_string(ca->name), "enabled",
	    (m.features & MODMSG_F_ZTP_CERT) != 0, "bundle", bundle);
	http_reply_json(a->req, 200, o);
	free(ca);
}
