/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl ztp-ca: an owner's ZTP certificate authorities (/v1/ztp-cas,
 * docs/security-service.md "ZTP certificates"), and the commands that name
 * the CA of a profile or a module (profile ztp-ca, device ztp-ca; profile
 * create --ztp-ca).
 *
 * ztp-ca create and pop print the certificate as PEM on stdout (what a
 * cloud's CA registration takes: redirect it to a file); --json prints the
 * answer. An imported CA's key is read here (any PEM form OpenSSL reads,
 * asking for its passphrase if it has one) and sent as unencrypted PKCS#8
 * over the admin API's TLS, for the signer to wrap; every copy of it here
 * is wiped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "ctl.h"
#include "modmsg.h"
#include "num.h"
#include "ztp/err.h"

#define NAME_MAX_LEN 64
#define DAYS_MAX 7300ULL
#define CODE_MAX 64
#define KEY_FILE_MAX 65536

int
ctl_ztpca_check_name(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;
	char sarg[96];

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' || s[i] == '_'))
			break;
	if (n > 0 && n <= NAME_MAX_LEN && i == n)
		return 0;
	return ctl_usage_error("invalid CA name '%s': expected 1 to %d of A-Z a-z 0-9 - . _",
	    ctl_san(s != NULL ? s : "", sarg, sizeof(sarg)), NAME_MAX_LEN);
}

static int
check_owner(const char *s)
{
	char sarg[96];

	/* an owner's name has the rules of a CA's */
	if (ctl_ztpca_check_name(s) == 0)
		return 0;
	return ctl_usage_error("invalid owner '%s'", ctl_san(s, sarg, sizeof(sarg)));
}

/* A number of days of opt (1..DAYS_MAX) into req under name, if given. */
static int
days_member(json_t *req, const char *name, const char *opt, const char *val)
{
	char sarg[64];
	uint64_t v;

	if (val == NULL)
		return 0;
	if (num_parse_u64z(val, 1, DAYS_MAX, &v) != 0)
		return ctl_usage_error("invalid %s '%s': expected days from 1 to %llu", opt,
		    ctl_san(val, sarg, sizeof(sarg)), DAYS_MAX);
	return json_object_set_new(req, name, json_integer((json_int_t)v)) != 0 ? ctl_nomem() : 0;
}

/* "/v1/ztp-cas/NAME[/tail][?owner=O]" into path */
static int
ca_path(const struct ctl_args *a, const char *name, const char *tail, char *path, size_t cap)
{
	int rc;

	if ((rc = ctl_ztpca_check_name(name)) != 0 ||
	    (a->owner != NULL && (rc = check_owner(a->owner)) != 0))
		return rc;
	snprintf(path, cap, "/v1/ztp-cas/%s%s%s%s", name, tail, a->owner ? "?owner=" : "",
	    a->owner ? a->owner : "");
	return 0;
}

/* Print the member "certificate" of res (PEM), or res with --json. */
static int
print_pem(struct ctl *c, const json_t *res)
{
	const json_t *pem = json_object_get(res, "certificate");

	if (c->json)
		return ctl_out_json(res);
	if (!json_is_string(pem)) {
		ctl_errorf("the answer has no certificate");
		return ZTP_EMALFORMED;
	}
	fputs(json_string_value(pem), stdout);
	return 0;
}

/*
 * The private key in path as unencrypted PKCS#8 PEM, a new JSON string
 * (*out); its copies here are wiped.
 */
static int
read_key(const char *path, json_t **out)
{
	FILE *f = NULL;
	EVP_PKEY *k = NULL;
	BIO *b = NULL;
	char *p, sarg[96];
	long n;
	int rc = ZTP_EMALFORMED;

	*out = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		ctl_errorf("cannot open %s", ctl_san(path, sarg, sizeof(sarg)));
		return ZTP_EIO;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL) {
		ctl_errorf("%s: not a PEM private key (or a wrong passphrase)",
		    ctl_san(path, sarg, sizeof(sarg)));
		goto out;
	}
	if ((b = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PKCS8PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (n = BIO_get_mem_data(b, &p)) <= 0 || n > KEY_FILE_MAX) {
		ctl_errorf("%s: cannot encode the key", ctl_san(path, sarg, sizeof(sarg)));
		goto out;
	}
	if ((*out = json_stringn(p, (size_t)n)) == NULL) {
		rc = ctl_nomem();
		goto out;
	}
	OPENSSL_cleanse(p, (size_t)n);
	rc = 0;
out:
	BIO_free(b);
	EVP_PKEY_free(k);
	ERR_clear_error();
	return rc;
}

/* Wipe a JSON string's bytes (a key) before it is freed. */
static void
wipe_string(json_t *s)
{
	if (json_is_string(s))
		OPENSSL_cleanse((char *)json_string_value(s), json_string_length(s));
}

/* ztp-ca create NAME [--ca-days N] [--device-days N] [--owner O]: its certificate, PEM */
static int
ztpca_create(struct ctl *c, const struct ctl_args *a)
{
	json_t *req = NULL, *res = NULL;
	int rc;

	if ((rc = ctl_ztpca_check_name(a->pos[0])) != 0 ||
	    (a->owner != NULL && (rc = check_owner(a->owner)) != 0))
		return rc;
	if ((req = json_pack("{s:s}", "name", a->pos[0])) == NULL)
		return ctl_nomem();
	if ((a->owner != NULL && json_object_set_new(req, "owner", json_string(a->owner)) != 0)) {
		rc = ctl_nomem();
		goto out;
	}
	if ((rc = days_member(req, "ca_days", "--ca-days", a->ca_days)) != 0 ||
	    (rc = days_member(req, "device_days", "--device-days", a->device_days)) != 0)
		goto out;
	if ((rc = ctl_http_call(c, "POST", "/v1/ztp-cas", req, &res)) == 0)
		rc = print_pem(c, res);
out:
	json_decref(req);
	json_decref(res);
	return rc;
}

/* ztp-ca import NAME --cert F --key F [--device-days N] [--owner O] */
static int
ztpca_import(struct ctl *c, const struct ctl_args *a)
{
	json_t *req = NULL, *res = NULL, *key = NULL, *cert;
	char *pem = NULL;
	size_t pemlen = 0;
	int rc;

	if (a->cert == NULL || a->key == NULL)
		return ctl_usage_error("usage: ztpctl ztp-ca import NAME --cert FILE --key FILE "
				       "[--device-days N] [--owner O]");
	if ((rc = ctl_ztpca_check_name(a->pos[0])) != 0 ||
	    (a->owner != NULL && (rc = check_owner(a->owner)) != 0))
		return rc;
	if ((rc = ctl_read_pem(a->cert, &pem, &pemlen)) != 0)
		return rc;
	if ((cert = json_stringn(pem, pemlen)) == NULL) {
		ctl_errorf("the certificate file is not text (UTF-8)");
		rc = ZTP_EMALFORMED;
		goto out;
	}
	if ((req = json_pack("{s:s, s:o}", "name", a->pos[0], "certificate", cert)) == NULL) {
		rc = ctl_nomem();
		goto out;
	}
	if ((rc = read_key(a->key, &key)) != 0)
		goto out;
	if (json_object_set(req, "private_key", key) != 0 ||
	    (a->owner != NULL && json_object_set_new(req, "owner", json_string(a->owner)) != 0)) {
		rc = ctl_nomem();
		goto out;
	}
	if ((rc = days_member(req, "device_days", "--device-days", a->device_days)) != 0)
		goto out;
	if ((rc = ctl_http_call(c, "POST", "/v1/ztp-cas", req, &res)) != 0)
		goto out;
	if (c->json)
		rc = ctl_out_json(res);
	else
		printf("ZTP CA %s imported\n", a->pos[0]);
out:
	wipe_string(key);
	json_decref(key);
	json_decref(req);
	json_decref(res);
	free(pem);
	return rc;
}

static const char *const ca_head[] = { "NAME", "OWNER", "DEVICE DAYS", "NOT AFTER", "IMPORTED",
	"SUBJECT" };
static const char *const ca_cols[] = { "name", "owner", "device_days", "not_after", "imported",
	"subject" };

/* ztp-ca list [--owner O] */
static int
ztpca_list(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { ca_head, ca_cols, 6, NULL };
	char path[128];
	int rc;

	if (a->owner != NULL && (rc = check_owner(a->owner)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/ztp-cas%s%s", a->owner ? "?owner=" : "",
	    a->owner ? a->owner : "");
	return ctl_req_get_list(c, path, "ztp_cas", &t);
}

/* ztp-ca show NAME [--owner O]: its members (the certificate as PEM last) */
static int
ztpca_show(struct ctl *c, const struct ctl_args *a)
{
	json_t *res = NULL, *pem;
	char path[256];
	int rc;

	if ((rc = ca_path(a, a->pos[0], "", path, sizeof(path))) != 0)
		return rc;
	if ((rc = ctl_http_call(c, "GET", path, NULL, &res)) != 0)
		goto out;
	if (c->json) {
		rc = ctl_out_json(res);
		goto out;
	}
	pem = json_incref(json_object_get(res, "certificate"));
	json_object_del(res, "certificate");
	ctl_out_object(res);
	if (json_is_string(pem))
		fputs(json_string_value(pem), stdout);
	json_decref(pem);
out:
	json_decref(res);
	return rc;
}

/* ztp-ca pop NAME --registration-code CODE [--days N] [--owner O]: the PEM */
static int
ztpca_pop(struct ctl *c, const struct ctl_args *a)
{
	json_t *req = NULL, *res = NULL;
	char path[256], sarg[96];
	size_t i, n;
	int rc;

	if (a->reg_code == NULL)
		return ctl_usage_error("usage: ztpctl ztp-ca pop NAME --registration-code CODE "
				       "[--days N] [--owner O]");
	n = strlen(a->reg_code);
	for (i = 0; i < n; i++)
		if (a->reg_code[i] < 0x21 || a->reg_code[i] > 0x7e)
			break;
	if (n == 0 || n > CODE_MAX || i != n)
		return ctl_usage_error("invalid registration code '%s': 1 to %d printable "
				       "characters without spaces",
		    ctl_san(a->reg_code, sarg, sizeof(sarg)), CODE_MAX);
	if ((rc = ca_path(a, a->pos[0], "/pop", path, sizeof(path))) != 0)
		return rc;
	if ((req = json_pack("{s:s}", "registration_code", a->reg_code)) == NULL)
		return ctl_nomem();
	if ((rc = days_member(req, "days", "--days", a->days)) == 0 &&
	    (rc = ctl_http_call(c, "POST", path, req, &res)) == 0)
		rc = print_pem(c, res);
	json_decref(req);
	json_decref(res);
	return rc;
}

static const struct ctl_cmd ztpca_cmds[] = {
	{ "create", OPT_CA_DAYS | OPT_DEVICE_DAYS | OPT_OWNER, 1,
	    "ztp-ca create NAME [--ca-days N] [--device-days N] [--owner O]", ztpca_create },
	{ "import", OPT_CERT | OPT_KEY | OPT_DEVICE_DAYS | OPT_OWNER, 1,
	    "ztp-ca import NAME --cert FILE --key FILE [--device-days N] [--owner O]",
	    ztpca_import },
	{ "list", OPT_OWNER, 0, "ztp-ca list [--owner O]", ztpca_list },
	{ "show", OPT_OWNER, 1, "ztp-ca show NAME [--owner O]", ztpca_show },
	{ "pop", OPT_REG_CODE | OPT_DAYS | OPT_OWNER, 1,
	    "ztp-ca pop NAME --registration-code CODE [--days N] [--owner O]", ztpca_pop },
};

const struct ctl_noun ctl_ztpca = {
	ztpca_cmds,
	CTL_NELEM(ztpca_cmds),
	"  ztp-ca create NAME [--ca-days N] [--device-days N] [--owner O]\n"
	"                                 make a ZTP CA (its key stays in the CA process)\n"
	"                                 and print its certificate; CA valid N days (3650),\n"
	"                                 device certificates N days (365)\n"
	"  ztp-ca import NAME --cert FILE --key FILE [--device-days N] [--owner O]\n"
	"                                 hand an existing CA to ztpd (the key is wrapped\n"
	"                                 by the CA process; the files stay yours)\n"
	"  ztp-ca list [--owner O]        list the ZTP CAs\n"
	"  ztp-ca show NAME [--owner O]   show one, its certificate as PEM\n"
	"  ztp-ca pop NAME --registration-code CODE [--days N] [--owner O]\n"
	"                                 print a proof-of-possession certificate: CN = CODE,\n"
	"                                 signed by the CA (AWS IoT register-ca-certificate)\n"
	"  profile ztp-ca UID NAME|none   the CA whose certificates the profile's modules get\n"
	"  device ztp-ca UID NAME|none    a module's own CA (none: its profile's); shows the\n"
	"                                 CA it gets and its certificate bundle\n",
};

/* PUT {"ztp_ca": NAME or null} to path; the answer into *res. */
static int
put_link(struct ctl *c, const char *path, const char *name, json_t **res)
{
	json_t *req;
	int rc;

	req = name == NULL || strcmp(name, "none") == 0 ? json_pack("{s:n}", "ztp_ca") :
							    json_pack("{s:s}", "ztp_ca", name);
	if (req == NULL)
		return ctl_nomem();
	rc = ctl_http_call(c, "PUT", path, req, res);
	json_decref(req);
	return rc;
}

int
ctl_ztpca_profile_link(struct ctl *c, const char *uid, const char *name, int quiet)
{
	json_t *res = NULL;
	char path[128];
	int rc;

	if (name != NULL && strcmp(name, "none") != 0 && (rc = ctl_ztpca_check_name(name)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/profiles/%s/ztp-ca", uid);
	if ((rc = put_link(c, path, name, &res)) == 0 && !quiet)
		rc = ctl_out_show(c, res);
	json_decref(res);
	return rc;
}

/* profile ztp-ca UID NAME|none */
int
ctl_ztpca_profile_cmd(struct ctl *c, const struct ctl_args *a)
{
	char sarg[64];

	if (!modmsg_profile_valid(a->pos[0], strlen(a->pos[0])))
		return ctl_usage_error("invalid profile '%s': expected a DeviceProfileUID",
		    ctl_san(a->pos[0], sarg, sizeof(sarg)));
	return ctl_ztpca_profile_link(c, a->pos[0], a->pos[1], 0);
}

/* device ztp-ca UID NAME|none */
int
ctl_ztpca_device_cmd(struct ctl *c, const struct ctl_args *a)
{
	json_t *res = NULL;
	char path[128], sarg[64];
	int rc;

	if (!modmsg_uid_hex_valid(a->pos[0], strlen(a->pos[0])))
		return ctl_usage_error("invalid RoT UID '%s': expected 32 lower-case hex digits",
		    ctl_san(a->pos[0], sarg, sizeof(sarg)));
	if (strcmp(a->pos[1], "none") != 0 && (rc = ctl_ztpca_check_name(a->pos[1])) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/modules/%s/ztp-ca", a->pos[0]);
	if ((rc = put_link(c, path, a->pos[1], &res)) == 0)
		rc = ctl_out_show(c, res);
	json_decref(res);
	return rc;
}
