/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <limits.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "admin_req.h"
#include "jsonreq.h"
#include "proxy_req.h"
#include "hex.h"
#include "signer_msg.h"
#include "ztp/err.h"

static int
load_object(const uint8_t *buf, size_t len, const char *const *names, json_t **out, char *why,
    size_t cap)
{
	return jsonreq_load(buf, len, ADMINREQ_BODY_MAX, names, NULL, out, why, cap);
}

int
adminreq_token(const uint8_t *buf, size_t len, char key_id[TOKEN_KEYID_MAX + 1],
    char secret[ADMINREQ_SECRET_MAX + 1], char *why, size_t cap)
{
	static const char *const names[] = { "key_id", "secret", NULL };
	const char *id, *sec;
	size_t idlen, seclen;
	json_t *obj;
	int rc;

	if ((rc = load_object(buf, len, names, &obj, why, cap)) != 0)
		return rc;
	if ((rc = jsonreq_string(obj, "key_id", &id, &idlen, why, cap)) != 0 ||
	    (rc = jsonreq_string(obj, "secret", &sec, &seclen, why, cap)) != 0)
		goto out;
	if (!token_keyid_valid(id, idlen)) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"key_id\" is not a key id");
		goto out;
	}
	if (seclen == 0 || seclen > ADMINREQ_SECRET_MAX) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"secret\" must be 1 to %d characters",
		    ADMINREQ_SECRET_MAX);
		goto out;
	}
	memcpy(key_id, id, idlen + 1);
	memcpy(secret, sec, seclen + 1);
out:
	json_decref(obj);
	return rc;
}

/* An optional boolean member; def if absent. */
static int
get_bool(json_t *obj, const char *name, int def, int *out, char *why, size_t cap)
{
	json_t *v = json_object_get(obj, name);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" must be true or false", name);
	*out = json_is_true(v);
	return 0;
}

/* An optional group name member into group ("" if absent). */
static int
get_group(json_t *obj, const char *name, char group[STORE_GROUP_SIZE], char *why, size_t cap)
{
	const char *g;
	size_t glen;
	int rc;

	group[0] = '\0';
	if (json_object_get(obj, name) == NULL || json_is_null(json_object_get(obj, name)))
		return 0;
	if ((rc = jsonreq_string(obj, name, &g, &glen, why, cap)) != 0)
		return rc;
	if (!store_group_name_valid(g))
		return ztp_errf(why, cap, ZTP_EMALFORMED,
		    "\"%s\" must be 1 to %d characters of A-Z a-z 0-9 _ . -", name,
		    STORE_GROUP_SIZE - 1);
	memcpy(group, g, glen + 1);
	return 0;
}

/* The members iccid, psk and group of obj into row. */
static int
sim_row(json_t *obj, struct store_import_row *row, char *why, size_t cap)
{
	const char *id = NULL, *hex = NULL;
	size_t idlen = 0, hexlen = 0;
	int rc;

	if ((rc = jsonreq_string(obj, "iccid", &id, &idlen, why, cap)) != 0 ||
	    (rc = jsonreq_string(obj, "psk", &hex, &hexlen, why, cap)) != 0 ||
	    (rc = get_group(obj, "group", row->group, why, cap)) != 0)
		return rc;
	if (!iccid_valid(id, idlen))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"iccid\" must be %d to %d digits",
		    ICCID_MIN_DIGITS, ICCID_MAX_DIGITS);
	if (hexlen < 2 * STORE_PSK_MIN || hexlen > 2 * STORE_PSK_MAX ||
	    hex_decode(hex, hexlen, row->psk, sizeof(row->psk), &row->psk_len) != 0)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"psk\" must be %d to %d bytes in hex",
		    STORE_PSK_MIN, STORE_PSK_MAX);
	memcpy(row->iccid, id, idlen + 1);
	return 0;
}

/*
 * The members of a SIM of a derived group, pre-registered: iccid and
 * device_id (optional, kept in upper case); psk and group are refused.
 */
static int
sim_derived(json_t *obj, struct adminreq_sim *sim, char *why, size_t cap)
{
	const char *id = NULL, *dev = NULL;
	size_t idlen = 0, devlen = 0, i;
	json_t *g = json_object_get(obj, "group");
	int rc;

	if (json_object_get(obj, "psk") != NULL)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"psk\" is not given with \"derived\": "
		    "the key of a derived SIM comes from its group's master key");
	if (g != NULL && !json_is_null(g))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"group\" is not given with "
		    "\"derived\": a derived SIM is in the derived group its ICCID falls under");
	if ((rc = jsonreq_string(obj, "iccid", &id, &idlen, why, cap)) != 0)
		return rc;
	if (!iccid_valid(id, idlen))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"iccid\" must be %d to %d digits",
		    ICCID_MIN_DIGITS, ICCID_MAX_DIGITS);
	if (json_object_get(obj, "device_id") != NULL) {
		if ((rc = jsonreq_string(obj, "device_id", &dev, &devlen, why, cap)) != 0)
			return rc;
		if (devlen > 2 * STORE_DEVID_MAX || !hex_valid(dev, devlen))
			return ztp_errf(why, cap, ZTP_EMALFORMED,
			    "\"device_id\" must be 1 to %d bytes in hex", STORE_DEVID_MAX);
	}
	memcpy(sim->row.iccid, id, idlen + 1);
	for (i = 0; i < devlen; i++)
		sim->device_id[i] = (dev[i] >= 'a' && dev[i] <= 'f') ? (char)(dev[i] - 'a' + 'A') :
									 dev[i];
	sim->device_id[devlen] = '\0';
	sim->derived = 1;
	return 0;
}

int
adminreq_sim_create(const uint8_t *buf, size_t len, struct adminreq_sim *out, char *why,
    size_t cap)
{
	static const char *const req[] = { "iccid", NULL };
	static const char *const opt[] = { "psk", "group", "derived", "device_id", NULL };
	struct adminreq_sim sim;
	json_t *obj;
	int rc, derived;

	if ((rc = jsonreq_load(buf, len, ADMINREQ_BODY_MAX, req, opt, &obj, why, cap)) != 0)
		return rc;
	memset(&sim, 0, sizeof(sim));
	if ((rc = get_bool(obj, "derived", 0, &derived, why, cap)) != 0)
		goto out;
	if (derived)
		rc = sim_derived(obj, &sim, why, cap);
	else if (json_object_get(obj, "psk") == NULL)
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "missing member \"psk\" in the body");
	else if (json_object_get(obj, "device_id") != NULL)
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"device_id\" goes with \"derived\": true");
	else
		rc = sim_row(obj, &sim.row, why, cap);
	if (rc == 0)
		*out = sim;
out:
	OPENSSL_cleanse(&sim, sizeof(sim));
	json_decref(obj);
	return rc;
}

int
adminreq_import(const uint8_t *buf, size_t len, struct store_import_row *rows, size_t *n,
    char *why, size_t cap)
{
	static const char *const rowreq[] = { "iccid", "psk", NULL };
	static const char *const rowopt[] = { "group", NULL };
	json_t *obj, *arr, *item;
	size_t i;
	int rc;

	if ((rc = jsonreq_load_batch(buf, len, ADMINREQ_IMPORT_MAX, "rows", "row", rowreq, rowopt,
		 NULL, &obj, &arr, why, cap)) != 0)
		return rc;
	json_array_foreach(arr, i, item) {
		memset(&rows[i], 0, sizeof(rows[i]));
		if (sim_row(item, &rows[i], rows[i].invalid, sizeof(rows[i].invalid)) != 0 &&
		    rows[i].invalid[0] == '\0')
			snprintf(rows[i].invalid, sizeof(rows[i].invalid), "malformed row");
	}
	*n = json_array_size(arr);
	json_decref(obj);
	return 0;
}

/* An optional integer member in [min, max]; def if absent. */
static int
get_int(json_t *obj, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out,
    char *why, size_t cap)
{
	json_t *v = json_object_get(obj, name);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" must be an integer from %lld to %lld",
		    name, (long long)min, (long long)max);
	*out = json_integer_value(v);
	return 0;
}

static const struct {
	const char *name;
	int bit;
} est_methods[] = {
	{ "allowlist", STORE_EST_ALLOWLIST },
	{ "password", STORE_EST_PASSWORD },
	{ "manufacturer", STORE_EST_MANUFACTURER },
};

#define NEST_METHODS (sizeof(est_methods) / sizeof(est_methods[0]))

/* "est_auth": 1 to 3 distinct method names into a set of STORE_EST_*; 0 (the server's
 * --est-auth) if absent or null. */
static int
get_est_auth(json_t *obj, int *out, char *why, size_t cap)
{
	json_t *arr = json_object_get(obj, "est_auth"), *v;
	size_t i, k;
	int set = 0;

	if (arr == NULL || json_is_null(arr)) {
		*out = 0;
		return 0;
	}
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > NEST_METHODS)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"est_auth\" must be an array of 1 to 3 of "
		    "\"allowlist\", \"password\", \"manufacturer\"");
	json_array_foreach(arr, i, v) {
		for (k = 0; k < NEST_METHODS; k++)
			if (json_is_string(v) && strcmp(json_string_value(v), est_methods[k].name) == 0)
				break;
		if (k == NEST_METHODS)
			return ztp_errf(why, cap, ZTP_EMALFORMED, "\"est_auth\" item %zu is not one of "
			    "\"allowlist\", \"password\", \"manufacturer\"", i);
		if (set & est_methods[k].bit)
			return ztp_errf(why, cap, ZTP_EMALFORMED, "\"est_auth\" names \"%s\" twice",
			    est_methods[k].name);
		set |= est_methods[k].bit;
	}
	*out = set;
	return 0;
}

/* An optional string member (null or absent: "") into out (cap bytes, NUL included). */
static int
get_opt_text(json_t *obj, const char *name, char *out, size_t outcap, char *why, size_t cap)
{
	const char *str;
	size_t slen;
	int rc;

	out[0] = '\0';
	if (json_object_get(obj, name) == NULL || json_is_null(json_object_get(obj, name)))
		return 0;
	if ((rc = jsonreq_string(obj, name, &str, &slen, why, cap)) != 0)
		return rc;
	if (slen >= outcap)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" is longer than %zu bytes", name,
		    outcap - 1);
	memcpy(out, str, slen + 1);
	return 0;
}

/*
 * The proxy members of a group, "upstream" (a URL, "off", or null for the
 * server's default), "upstream_ca", "upstream_cert", "upstream_key" (absolute
 * paths on the server), checked as proxy_upstream_check does.
 */
static int
get_upstream(json_t *obj, struct store_upstream *u, char *why, size_t cap)
{
	int rc;

	memset(u, 0, sizeof(*u));
	if ((rc = get_opt_text(obj, "upstream", u->url, sizeof(u->url), why, cap)) != 0 ||
	    (rc = get_opt_text(obj, "upstream_ca", u->ca, sizeof(u->ca), why, cap)) != 0 ||
	    (rc = get_opt_text(obj, "upstream_cert", u->cert, sizeof(u->cert), why, cap)) != 0 ||
	    (rc = get_opt_text(obj, "upstream_key", u->key, sizeof(u->key), why, cap)) != 0)
		return rc;
	if (proxy_upstream_check(u, why, cap) != 0)
		return ZTP_EMALFORMED;
	return 0;
}

int
adminreq_group_upstream(const uint8_t *buf, size_t len, struct store_upstream *u, char *why,
    size_t cap)
{
	static const char *const req[] = { "upstream", NULL };
	static const char *const opt[] = { "upstream_ca", "upstream_cert", "upstream_key", NULL };
	struct store_upstream r;
	json_t *obj;
	int rc;

	if ((rc = jsonreq_load(buf, len, ADMINREQ_BODY_MAX, req, opt, &obj, why, cap)) != 0)
		return rc;
	if ((rc = get_upstream(obj, &r, why, cap)) == 0)
		*u = r; /* a refusal leaves *u as it was */
	json_decref(obj);
	return rc;
}

int
adminreq_group_create(const uint8_t *buf, size_t len, struct store_group *g,
    uint8_t master[STORE_MASTER_LEN], int *have_master, char *why, size_t cap)
{
	static const char *const req[] = { "name", NULL };
	static const char *const opt[] = { "iccid_prefix", "derive", "master_key", "allow_psk_ke",
		"rotation_period_s", "est_auth", "cert_days", "reenroll_grace_s", "upstream",
		"upstream_ca", "upstream_cert", "upstream_key", NULL };
	int64_t num;
	struct store_group r;
	const char *str;
	size_t slen, klen;
	json_t *obj, *v;
	int rc;

	if ((rc = jsonreq_load(buf, len, ADMINREQ_BODY_MAX, req, opt, &obj, why, cap)) != 0)
		return rc;
	memset(&r, 0, sizeof(r));
	*have_master = 0;
	if ((rc = get_group(obj, "name", r.name, why, cap)) != 0)
		goto out;
	if (r.name[0] == '\0') {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"name\" is required");
		goto out;
	}
	if ((rc = get_bool(obj, "derive", 0, &r.derive, why, cap)) != 0 ||
	    (rc = get_bool(obj, "allow_psk_ke", 0, &r.allow_psk_ke, why, cap)) != 0)
		goto out;
	if (json_object_get(obj, "iccid_prefix") != NULL) {
		if ((rc = jsonreq_string(obj, "iccid_prefix", &str, &slen, why, cap)) != 0)
			goto out;
		if (slen > ICCID_MAX_DIGITS || strspn(str, "0123456789") != slen) {
			rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"iccid_prefix\" must be up to %d digits",
			    ICCID_MAX_DIGITS);
			goto out;
		}
		memcpy(r.iccid_prefix, str, slen + 1);
	}
	if ((v = json_object_get(obj, "rotation_period_s")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 10LL * 365 * 86400) {
			rc = ztp_errf(why, cap, ZTP_EMALFORMED,
			    "\"rotation_period_s\" must be an integer from 0 to 10 years");
			goto out;
		}
		r.rotation_period_s = json_integer_value(v);
	}
	if ((rc = get_est_auth(obj, &r.est_auth, why, cap)) != 0 ||
	    (rc = get_int(obj, "cert_days", 0, ADMINREQ_CERT_DAYS_MAX, 0, &num, why, cap)) != 0)
		goto out;
	r.cert_days = (int)num;
	if ((rc = get_int(obj, "reenroll_grace_s", -1, ADMINREQ_GRACE_MAX, -1, &r.reenroll_grace_s,
		 why, cap)) != 0 ||
	    (rc = get_upstream(obj, &r.upstream, why, cap)) != 0)
		goto out;
	if (json_object_get(obj, "master_key") != NULL) {
		if (!r.derive) {
			rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"master_key\" needs \"derive\": true");
			goto out;
		}
		if ((rc = jsonreq_string(obj, "master_key", &str, &slen, why, cap)) != 0)
			goto out;
		if (slen != 2 * STORE_MASTER_LEN || hex_decode(str, slen, master, STORE_MASTER_LEN,
							&klen) != 0) {
			rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"master_key\" must be %d bytes in hex",
			    STORE_MASTER_LEN);
			goto out;
		}
		*have_master = 1;
	}
	*g = r;
out:
	json_decref(obj);
	return rc;
}

int
adminreq_config_set(const uint8_t *buf, size_t len, uint8_t body[STORE_CONFIG_MAX],
    size_t *bodylen, char *why, size_t cap)
{
	static const char *const names[] = { "body", NULL };
	const char *s;
	size_t slen;
	json_t *obj;
	int rc;

	if ((rc = load_object(buf, len, names, &obj, why, cap)) != 0)
		return rc;
	if ((rc = jsonreq_string(obj, "body", &s, &slen, why, cap)) != 0)
		goto out;
	if (slen > STORE_CONFIG_MAX) {
		rc = ztp_errf(why, cap, ZTP_ETOOBIG, "the configuration is %zu bytes; at most %d fit",
		    slen, STORE_CONFIG_MAX);
		goto out;
	}
	memcpy(body, s, slen);
	*bodylen = slen;
out:
	json_decref(obj);
	return rc;
}

int
adminreq_rollback(const uint8_t *buf, size_t len, uint32_t *version, char *why, size_t cap)
{
	static const char *const names[] = { "version", NULL };
	json_int_t v;
	json_t *obj, *jv;
	int rc;

	if ((rc = load_object(buf, len, names, &obj, why, cap)) != 0)
		return rc;
	jv = json_object_get(obj, "version");
	if (!json_is_integer(jv) || (v = json_integer_value(jv)) < 1 || v > UINT32_MAX) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"version\" must be a positive integer");
		goto out;
	}
	*version = (uint32_t)v;
out:
	json_decref(obj);
	return rc;
}

/* ---- certificates (EST) ---- */

static const struct {
	const char *name;
	int value;
} reasons[] = {
	{ "unspecified", SIGNER_REASON_UNSPECIFIED },
	{ "keyCompromise", SIGNER_REASON_KEY_COMPROMISE },
	{ "caCompromise", SIGNER_REASON_CA_COMPROMISE },
	{ "affiliationChanged", SIGNER_REASON_AFFILIATION_CHANGED },
	{ "superseded", SIGNER_REASON_SUPERSEDED },
	{ "cessationOfOperation", SIGNER_REASON_CESSATION_OF_OPERATION },
	{ "certificateHold", SIGNER_REASON_CERTIFICATE_HOLD },
	{ "privilegeWithdrawn", SIGNER_REASON_PRIVILEGE_WITHDRAWN },
	{ "aACompromise", SIGNER_REASON_AA_COMPROMISE },
};

#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))

int
adminreq_reason_parse(const char *name, size_t len, int *reason)
{
	size_t i;

	for (i = 0; i < NREASONS; i++)
		if (strlen(reasons[i].name) == len && memcmp(reasons[i].name, name, len) == 0) {
			*reason = reasons[i].value;
			return 0;
		}
	return ZTP_EMALFORMED;
}

const char *
adminreq_reason_name(int reason)
{
	size_t i;

	for (i = 0; i < NREASONS; i++)
		if (reasons[i].value == reason)
			return reasons[i].name;
	return NULL;
}

/* one PEM block as OpenSSL reads it; pem_block_free() frees it */
struct pem_block {
	char *name;
	unsigned char *der;
	long len;
};

static void
pem_block_free(struct pem_block *b)
{
	if (b->der != NULL)
		OPENSSL_cleanse(b->der, (size_t)b->len);
	OPENSSL_free(b->name);
	OPENSSL_free(b->der);
	memset(b, 0, sizeof(*b));
}

/*
 * Read every PEM block of pem[0..len) (text around them is ignored): the
 * first goes to *first (the caller frees it), their number to *count.
 * A block of a private key is refused and its bytes wiped; what refers to
 * the member in messages, which never quote the text.
 */
static int
pem_scan(const char *pem, size_t len, const char *what, struct pem_block *first, int *count,
    char *why, size_t cap)
{
	struct pem_block b = { 0 };
	char *hdr = NULL;
	BIO *bio;
	int n = 0, rc = 0, priv = 0;

	memset(first, 0, sizeof(*first));
	if (len > INT_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "%s cannot be read", what);
	for (;;) {
		if (!PEM_read_bio(bio, &b.name, &hdr, &b.der, &b.len)) {
			unsigned long e = ERR_peek_last_error();
			if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
				rc = ztp_errf(why, cap, ZTP_EMALFORMED, "%s holds a malformed PEM block",
				    what);
			break;
		}
		OPENSSL_free(hdr);
		hdr = NULL;
		if (strstr(b.name, "PRIVATE KEY") != NULL)
			priv = 1;
		if (n++ == 0 && !priv) {
			*first = b;
			memset(&b, 0, sizeof(b));
		} else {
			pem_block_free(&b);
		}
	}
	ERR_clear_error();
	BIO_free(bio);
	if (rc == 0 && priv)
		rc = ztp_errf(why, cap, ZTP_EMALFORMED,
		    "%s holds a private key: give the public key, the certificate or the CSR", what);
	else if (rc == 0 && n == 0)
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "%s holds no PEM block", what);
	if (rc != 0)
		pem_block_free(first);
	*count = n;
	return rc;
}

/* The SHA-256 of the DER of k, a public key that OpenSSL can use. */
static int
spki_hash(X509_PUBKEY *k, uint8_t out[32], char *why, size_t cap)
{
	unsigned char *der = NULL;
	int n, rc;

	if (k == NULL || X509_PUBKEY_get0(k) == NULL) {
		ERR_clear_error();
		return ztp_errf(why, cap, ZTP_EMALFORMED, "the public key is malformed or of an "
		    "unsupported type");
	}
	if ((n = i2d_X509_PUBKEY(k, &der)) <= 0)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "the public key cannot be encoded");
	rc = crypto_sha256(der, (size_t)n, out);
	OPENSSL_free(der);
	return rc;
}

int
adminreq_pubkey_sha256(const char *pem, size_t len, uint8_t out[32], char *why, size_t cap)
{
	struct pem_block b;
	X509_PUBKEY *k = NULL, *key = NULL;
	X509_REQ *req = NULL;
	X509 *x = NULL;
	const unsigned char *p;
	uint8_t hash[32];
	int n, rc;

	if (len > ADMINREQ_PEM_MAX)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"pubkey\" is over %d bytes",
		    ADMINREQ_PEM_MAX);
	if ((rc = pem_scan(pem, len, "\"pubkey\"", &b, &n, why, cap)) != 0)
		return rc;
	if (n != 1) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"pubkey\" must hold one PEM block, not %d",
		    n);
		goto out;
	}
	p = b.der;
	if (strcmp(b.name, "PUBLIC KEY") == 0) {
		k = d2i_X509_PUBKEY(NULL, &p, b.len);
		key = k;
	} else if (strcmp(b.name, "CERTIFICATE") == 0) {
		if ((x = d2i_X509(NULL, &p, b.len)) != NULL)
			key = X509_get_X509_PUBKEY(x);
	} else if (strcmp(b.name, "CERTIFICATE REQUEST") == 0 ||
	    strcmp(b.name, "NEW CERTIFICATE REQUEST") == 0) {
		if ((req = d2i_X509_REQ(NULL, &p, b.len)) != NULL)
			key = X509_REQ_get_X509_PUBKEY(req);
	} else {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"pubkey\" must be a PEM PUBLIC KEY, "
		    "CERTIFICATE or CERTIFICATE REQUEST");
		goto out;
	}
	if (key == NULL || p != b.der + b.len) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"pubkey\": the %s is not valid DER",
		    b.name);
		goto out;
	}
	if ((rc = spki_hash(key, hash, why, cap)) != 0)
		goto out;
	memcpy(out, hash, sizeof(hash));
out:
	ERR_clear_error();
	X509_PUBKEY_free(k);
	X509_free(x);
	X509_REQ_free(req);
	pem_block_free(&b);
	return rc;
}

/* A required UDID member into udid. */
static int
get_udid(json_t *obj, char udid[STORE_UDID_MAX + 1], char *why, size_t cap)
{
	const char *s;
	size_t n;
	int rc;

	if ((rc = jsonreq_string(obj, "udid", &s, &n, why, cap)) != 0)
		return rc;
	if (!store_udid_valid(s))
		return ztp_errf(why, cap, ZTP_EMALFORMED,
		    "\"udid\" must be 1 to %d characters of A-Z a-z 0-9 - . : _", STORE_UDID_MAX);
	memcpy(udid, s, n + 1);
	return 0;
}

/* The members of an allowlist entry into a; the key members were checked by the caller. */
static int
allow_entry(json_t *obj, struct store_allow *a, char *why, size_t cap)
{
	const char *s;
	size_t n, klen;
	int rc;

	if ((rc = get_udid(obj, a->udid, why, cap)) != 0 ||
	    (rc = get_group(obj, "group", a->group, why, cap)) != 0)
		return rc;
	if (json_object_get(obj, "key_sha256") != NULL) {
		if ((rc = jsonreq_string(obj, "key_sha256", &s, &n, why, cap)) != 0)
			return rc;
		if (n != 64 || hex_decode(s, n, a->key_sha256, sizeof(a->key_sha256), &klen) != 0)
			return ztp_errf(why, cap, ZTP_EMALFORMED,
			    "\"key_sha256\" must be 64 hex digits (SHA-256 of the DER "
			    "SubjectPublicKeyInfo)");
	} else {
		if ((rc = jsonreq_string(obj, "pubkey", &s, &n, why, cap)) != 0 ||
		    (rc = adminreq_pubkey_sha256(s, n, a->key_sha256, why, cap)) != 0)
			return rc;
	}
	a->iccid[0] = '\0';
	if (json_object_get(obj, "iccid") != NULL && !json_is_null(json_object_get(obj, "iccid"))) {
		if ((rc = jsonreq_string(obj, "iccid", &s, &n, why, cap)) != 0)
			return rc;
		if (!iccid_valid(s, n))
			return ztp_errf(why, cap, ZTP_EMALFORMED, "\"iccid\" must be %d to %d digits",
			    ICCID_MIN_DIGITS, ICCID_MAX_DIGITS);
		memcpy(a->iccid, s, n + 1);
	}
	return 0;
}

/* 1 if obj has exactly one of the key members */
static int
one_key(json_t *obj)
{
	return (json_object_get(obj, "key_sha256") != NULL) +
	    (json_object_get(obj, "pubkey") != NULL) == 1;
}

int
adminreq_allow(const uint8_t *buf, size_t len, struct store_allow *out, char *why, size_t cap)
{
	static const char *const req[] = { "udid", NULL };
	static const char *const opt[] = { "pubkey", "key_sha256", "group", "iccid", NULL };
	struct store_allow a;
	json_t *obj;
	int rc;

	if ((rc = jsonreq_load(buf, len, ADMINREQ_BODY_MAX, req, opt, &obj, why, cap)) != 0)
		return rc;
	memset(&a, 0, sizeof(a));
	if (!one_key(obj))
		rc = ztp_errf(why, cap, ZTP_EMALFORMED,
		    "exactly one of \"pubkey\" and \"key_sha256\" is required");
	else if ((rc = allow_entry(obj, &a, why, cap)) == 0)
		*out = a;
	json_decref(obj);
	return rc;
}

/* load_batch's check of an allowlist entry: exactly one of the key members */
static int
entry_one_key(json_t *item, size_t i, char *why, size_t cap)
{
	if (!one_key(item))
		return ztp_errf(why, cap, ZTP_EMALFORMED,
		    "entry %zu must have exactly one of \"pubkey\" and \"key_sha256\"", i);
	return 0;
}

int
adminreq_allow_import(const uint8_t *buf, size_t len, struct store_allow_row *rows, size_t *n,
    char *why, size_t cap)
{
	static const char *const rowreq[] = { "udid", NULL };
	static const char *const rowopt[] = { "pubkey", "key_sha256", "group", "iccid", NULL };
	json_t *obj, *arr, *item;
	size_t i;
	int rc;

	if ((rc = jsonreq_load_batch(buf, len, ADMINREQ_IMPORT_MAX, "entries", "entry", rowreq,
		 rowopt, entry_one_key, &obj, &arr, why, cap)) != 0)
		return rc;
	json_array_foreach(arr, i, item) {
		memset(&rows[i], 0, sizeof(rows[i]));
		if (allow_entry(item, &rows[i].a, rows[i].invalid, sizeof(rows[i].invalid)) != 0 &&
		    rows[i].invalid[0] == '\0')
			snprintf(rows[i].invalid, sizeof(rows[i].invalid), "malformed entry");
	}
	*n = json_array_size(arr);
	json_decref(obj);
	return 0;
}

int
adminreq_password(const uint8_t *buf, size_t len, char udid[STORE_UDID_MAX + 1],
    int64_t *ttl_s, char group[STORE_GROUP_SIZE], char *why, size_t cap)
{
	static const char *const req[] = { "udid", NULL };
	static const char *const opt[] = { "ttl_s", "group", NULL };
	char u[STORE_UDID_MAX + 1], g[STORE_GROUP_SIZE];
	int64_t ttl;
	json_t *obj;
	int rc;

	if ((rc = jsonreq_load(buf, len, ADMINREQ_BODY_MAX, req, opt, &obj, why, cap)) != 0)
		return rc;
	if ((rc = get_udid(obj, u, why, cap)) == 0 &&
	    (rc = get_int(obj, "ttl_s", ADMINREQ_PASSWORD_TTL_MIN, ADMINREQ_PASSWORD_TTL_MAX,
		 ADMINREQ_PASSWORD_TTL_DEFAULT, &ttl, why, cap)) == 0 &&
	    (rc = get_group(obj, "group", g, why, cap)) == 0) {
		memcpy(udid, u, sizeof(u));
		memcpy(group, g, sizeof(g));
		*ttl_s = ttl;
	}
	json_decref(obj);
	return rc;
}

/* Check that x may issue certificates: CA:TRUE, keyCertSign if it has a keyUsage. */
static int
check_ca(X509 *x, const char *what, char *why, size_t cap)
{
	BASIC_CONSTRAINTS *bc;
	uint32_t flags;
	int crit = 0, ca;

	flags = X509_get_extension_flags(x);
	if (flags & EXFLAG_INVALID)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "%s: the certificate has invalid "
		    "extensions", what);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	ca = bc != NULL && bc->ca;
	BASIC_CONSTRAINTS_free(bc);
	if (!ca)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "%s is not a CA certificate "
		    "(no basicConstraints CA:TRUE)", what);
	if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(x) & KU_KEY_CERT_SIGN))
		return ztp_errf(why, cap, ZTP_EMALFORMED, "%s: the CA's keyUsage does not "
		    "allow keyCertSign", what);
	if (X509_get0_pubkey(x) == NULL)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "%s: the CA's public key is "
		    "malformed or of an unsupported type", what);
	return 0;
}

int
adminreq_ca_cert(const char *pem, size_t len, const char *what, X509 **out, char *why,
    size_t cap)
{
	struct pem_block b = { 0 };
	const unsigned char *p;
	X509 *x = NULL;
	int rc, n;

	if ((rc = pem_scan(pem, len, what, &b, &n, why, cap)) != 0)
		goto out;
	if (n != 1 || strcmp(b.name, "CERTIFICATE") != 0) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "%s must hold exactly one PEM "
		    "CERTIFICATE and nothing else", what);
		goto out;
	}
	p = b.der;
	if ((x = d2i_X509(NULL, &p, b.len)) == NULL || p != b.der + b.len) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "%s: the certificate is not valid DER", what);
		goto out;
	}
	if ((rc = check_ca(x, what, why, cap)) != 0)
		goto out;
	*out = x;
	x = NULL;
out:
	ERR_clear_error();
	X509_free(x);
	pem_block_free(&b);
	return rc;
}

int
adminreq_mfr_ca(const uint8_t *buf, size_t len, struct store_mfr_ca *out, char *why,
    size_t cap)
{
	static const char *const req[] = { "name", "pem", NULL };
	static const char *const opt[] = { "group", NULL };
	char name[STORE_GROUP_SIZE], group[STORE_GROUP_SIZE];
	unsigned int mdlen = 0;
	uint8_t md[EVP_MAX_MD_SIZE];
	const char *pem;
	BIO *mem = NULL;
	BUF_MEM *bm;
	X509 *x = NULL;
	json_t *obj;
	size_t plen;
	int rc;

	if ((rc = jsonreq_load(buf, len, ADMINREQ_BODY_MAX, req, opt, &obj, why, cap)) != 0)
		return rc;
	if ((rc = get_group(obj, "name", name, why, cap)) != 0 ||
	    (rc = get_group(obj, "group", group, why, cap)) != 0 ||
	    (rc = jsonreq_string(obj, "pem", &pem, &plen, why, cap)) != 0)
		goto out;
	if (name[0] == '\0') {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"name\" is required");
		goto out;
	}
	if ((rc = adminreq_ca_cert(pem, plen, "\"pem\"", &x, why, cap)) != 0)
		goto out;
	/* keep it as OpenSSL writes it: no text around it, canonical line breaks */
	if ((mem = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509(mem, x) ||
	    !X509_digest(x, EVP_sha256(), md, &mdlen) || mdlen != 32) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"pem\": the certificate cannot be encoded");
		goto out;
	}
	BIO_get_mem_ptr(mem, &bm);
	if (bm->length >= sizeof(out->pem)) {
		rc = ztp_errf(why, cap, ZTP_ETOOBIG, "\"pem\": the certificate is over %zu bytes",
		    sizeof(out->pem) - 1);
		goto out;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->name, name, sizeof(name));
	memcpy(out->group, group, sizeof(group));
	memcpy(out->pem, bm->data, bm->length);
	out->pem[bm->length] = '\0';
	memcpy(out->sha256, md, 32);
	rc = 0;
out:
	ERR_clear_error();
	BIO_free(mem);
	X509_free(x);
	json_decref(obj);
	return rc;
}

int
adminreq_reason(const uint8_t *buf, size_t len, int def, int *reason, char *why, size_t cap)
{
	static const char *const req[] = { NULL };
	static const char *const opt[] = { "reason", NULL };
	const char *s;
	size_t n;
	json_t *obj;
	int rc, r = def;

	if (buf == NULL || len == 0) {
		*reason = def;
		return 0;
	}
	if ((rc = jsonreq_load(buf, len, ADMINREQ_BODY_MAX, req, opt, &obj, why, cap)) != 0)
		return rc;
	if (json_object_get(obj, "reason") != NULL) {
		if ((rc = jsonreq_string(obj, "reason", &s, &n, why, cap)) != 0)
			goto out;
		if (adminreq_reason_parse(s, n, &r) != 0) {
			rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"reason\" must be one of unspecified, "
			    "keyCompromise, caCompromise, affiliationChanged, superseded, "
			    "cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise");
			goto out;
		}
	}
	*reason = r;
out:
	json_decref(obj);
	return rc;
}

/* ---- owners and API keys ---- */

/* A required name member (an owner's or a key's: store_owner_valid) into out. */
static int
get_name(json_t *obj, const char *member, char out[STORE_OWNER_MAX + 1], char *why, size_t cap)
{
	const char *s;
	size_t slen;
	int rc;

	if ((rc = jsonreq_string(obj, member, &s, &slen, why, cap)) != 0)
		return rc;
	if (slen > STORE_OWNER_MAX || !store_owner_valid(s))
		return ztp_errf(why, cap, ZTP_EMALFORMED,
		    "\"%s\" must be 1 to %d of A-Z a-z 0-9 - . _", member, STORE_OWNER_MAX);
	memcpy(out, s, slen + 1);
	return 0;
}

int
adminreq_owner(const uint8_t *buf, size_t len, char name[STORE_OWNER_MAX + 1], char *why,
    size_t cap)
{
	static const char *const names[] = { "name", NULL };
	char n[STORE_OWNER_MAX + 1];
	json_t *obj;
	int rc;

	if ((rc = load_object(buf, len, names, &obj, why, cap)) != 0)
		return rc;
	if ((rc = get_name(obj, "name", n, why, cap)) == 0)
		memcpy(name, n, sizeof(n));
	json_decref(obj);
	return rc;
}

_Static_assert(STORE_APIKEY_NAME_MAX == STORE_OWNER_MAX, "a key's name is checked as an owner's");

int
adminreq_apikey(const uint8_t *buf, size_t len, char name[STORE_APIKEY_NAME_MAX + 1],
    char owner[STORE_OWNER_MAX + 1], char *why, size_t cap)
{
	static const char *const req[] = { "name", NULL };
	static const char *const opt[] = { "owner", "all_owners", NULL };
	char n[STORE_OWNER_MAX + 1], o[STORE_OWNER_MAX + 1] = "";
	json_t *obj, *all;
	int rc;

	if ((rc = jsonreq_load(buf, len, ADMINREQ_BODY_MAX, req, opt, &obj, why, cap)) != 0)
		return rc;
	all = json_object_get(obj, "all_owners");
	if ((rc = get_name(obj, "name", n, why, cap)) != 0)
		goto out;
	if ((json_object_get(obj, "owner") != NULL) == (all != NULL)) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED,
		    "give exactly one of \"owner\" and \"all_owners\": true");
		goto out;
	}
	if (all != NULL && !json_is_true(all)) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED,
		    "\"all_owners\" must be true (or give \"owner\")");
		goto out;
	}
	if (all == NULL && (rc = get_name(obj, "owner", o, why, cap)) != 0)
		goto out;
	memcpy(name, n, sizeof(n));
	memcpy(owner, o, sizeof(o));
out:
	json_decref(obj);
	return rc;
}
