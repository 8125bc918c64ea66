/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl pki: the foreign PKIs whose CRLs ztpd follows (/v1/pkis,
 * docs/pki-crl.md): add one with its CA certificate and its CRL's URL,
 * list, show, sync now, delete. A sync that fails (the PKI's server, or a
 * CRL refused) is an error: exit 1 with the server's reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "num.h"
#include "ztp/err.h"

#define NAME_MAX_LEN 64
#define URL_MAX_LEN 512
#define INTERVAL_MIN 60ULL
#define INTERVAL_MAX (30ULL * 86400)

/* A PKI's name: 1..64 of A-Z a-z 0-9 - . _ */
static int
check_name(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;
	char sarg[96];

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' || s[i] == '_'))
			break;
	if (n > 0 && n <= NAME_MAX_LEN && i == n)
		return 0;
	return ctl_usage_error("invalid PKI name '%s': expected 1 to %d of A-Z a-z 0-9 - . _",
	    ctl_san(s != NULL ? s : "", sarg, sizeof(sarg)), NAME_MAX_LEN);
}

/* pki add NAME --crl-url URL --ca FILE [--interval SECONDS] */
static int
pki_add(struct ctl *c, const struct ctl_args *a)
{
	json_t *req = NULL, *res = NULL, *v;
	char *pem = NULL, sarg[96], subject[DETAIL_MAX], url[CELL_MAX];
	size_t pemlen = 0;
	uint64_t interval = 0;
	int rc;

	if ((rc = check_name(a->pos[0])) != 0)
		return rc;
	if (a->crl_url == NULL || a->ca == NULL)
		return ctl_usage_error("pki add needs --crl-url URL and --ca FILE");
	if (a->crl_url[0] == '\0' || strlen(a->crl_url) > URL_MAX_LEN)
		return ctl_usage_error("invalid --crl-url: expected an http:// or https:// URL of at "
				       "most %d characters", URL_MAX_LEN);
	if (a->interval != NULL &&
	    num_parse_u64z(a->interval, INTERVAL_MIN, INTERVAL_MAX, &interval) != 0)
		return ctl_usage_error("invalid --interval '%s': expected seconds from %llu to %llu",
		    ctl_san(a->interval, sarg, sizeof(sarg)), INTERVAL_MIN, INTERVAL_MAX);
	if ((rc = ctl_read_pem(a->ca, &pem, &pemlen)) != 0)
		return rc;
	if ((v = json_stringn(pem, pemlen)) == NULL) {
		ctl_errorf("the CA file is not text (UTF-8)");
		rc = ZTP_EMALFORMED;
		goto out;
	}
	req = json_pack("{s:s, s:o, s:s}", "name", a->pos[0], "ca", v, "crl_url", a->crl_url);
	if (req == NULL || (a->interval != NULL &&
			       json_object_set_new(req, "interval_s",
				   json_integer((json_int_t)interval)) != 0)) {
		rc = ctl_nomem();
		goto out;
	}
	if ((rc = ctl_http_call(c, "POST", "/v1/pkis", req, &res)) != 0)
		goto out;
	if (c->json) {
		rc = ctl_out_show(c, res);
		goto out;
	}
	ctl_out_value(json_object_get(res, "subject"), subject, sizeof(subject));
	ctl_out_value(json_object_get(res, "crl_url"), url, sizeof(url));
	printf("PKI %s added: CA %s, CRL %s every %lld s; its first sync follows now\n",
	    a->pos[0], subject, url,
	    (long long)json_integer_value(json_object_get(res, "interval_s")));
out:
	free(pem);
	json_decref(req);
	json_decref(res);
	return rc;
}

static const char *const pki_head[] = { "NAME", "INTERVAL", "LAST OK", "CRL NUMBER", "REVOKED",
	"LAST ERROR", "CRL URL" };
static const char *const pki_cols[] = { "name", "interval_s", "last_ok_at", "crl_number",
	"revoked", "last_error", "crl_url" };

static int
pki_list(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { pki_head, pki_cols, 7, NULL };

	return ctl_req_get_list(c, "/v1/pkis", "pkis", &t);
}

/* pki show NAME: its members, then its CA certificate as PEM */
static int
pki_show(struct ctl *c, const struct ctl_args *a)
{
	json_t *pem;
	char path[128];
	const char *p;
	int rc;

	if ((rc = check_name(a->pos[0])) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/pkis/%s", a->pos[0]);
	rc = ctl_req_show_tail(c, path, "ca", &pem);
	/* PEM is base64 and its armour: print it as it is, if it is only that */
	p = json_string_value(pem);
	if (p != NULL && strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789+/=- \n") == strlen(p))
		fputs(p, stdout);
	json_decref(pem);
	return rc;
}

/* pki sync NAME: what the sync did, in one line (or the answer with --json) */
static int
pki_sync(struct ctl *c, const struct ctl_args *a)
{
	json_t *res = NULL;
	char path[128], number[CELL_MAX], when[CELL_MAX];
	int rc;

	if ((rc = check_name(a->pos[0])) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/pkis/%s/sync", a->pos[0]);
	if ((rc = ctl_http_call(c, "POST", path, NULL, &res)) != 0)
		goto out;
	if (c->json) {
		rc = ctl_out_json(res);
		goto out;
	}
	ctl_out_value(json_object_get(res, "crl_number"), number, sizeof(number));
	ctl_out_value(json_object_get(res, "this_update"), when, sizeof(when));
#define N(k) ((long long)json_integer_value(json_object_get(res, k)))
	printf("PKI %s synced: CRL %s of %s%s, %lld entries, %lld seen: %lld blocked now, "
	       "%lld blocked already, %lld by an earlier sync, %lld without a device record\n",
	    a->pos[0], number, when, json_is_true(json_object_get(res, "stale")) ? " (stale)" : "",
	    N("entries"), N("listed"), N("blocked"), N("already_blocked"), N("earlier"),
	    N("unknown"));
#undef N
out:
	json_decref(res);
	return rc;
}

static int
pki_delete(struct ctl *c, const struct ctl_args *a)
{
	return ctl_req_thing(c, a, check_name, "DELETE", "/v1/pkis", "", "PKI", "deleted");
}

static const struct ctl_cmd pki_cmds[] = {
	{ "add", OPT_CRL_URL | OPT_CA | OPT_INTERVAL, 1,
	    "pki add NAME --crl-url URL --ca FILE [--interval SECONDS]", pki_add },
	{ "list", 0, 0, "pki list", pki_list },
	{ "show", 0, 1, "pki show NAME", pki_show },
	{ "sync", 0, 1, "pki sync NAME", pki_sync },
	{ "delete", 0, 1, "pki delete NAME", pki_delete },
};

/* the noun pki: its commands, its lines of ztpctl --help */
const struct ctl_noun ctl_pki = {
	pki_cmds,
	CTL_NELEM(pki_cmds),
	"  pki add NAME --crl-url URL --ca FILE [--interval SECONDS]\n"
	"                                 follow a foreign PKI's CRL (its CA certificate\n"
	"                                 in PEM; every 3600 s by default, 60 at least):\n"
	"                                 the devices whose certificates it lists are blocked\n"
	"  pki list                       list the PKIs and their last sync\n"
	"  pki show NAME                  show one, with its CA certificate\n"
	"  pki sync NAME                  fetch and apply its CRL now\n"
	"  pki delete NAME                stop following it (its blocks stay)\n"
};
