/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl mfr-ca: the manufacturer CAs (/v1/manufacturer-cas) whose
 * devices may enrol with their IDevIDs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "ztp/err.h"

/* mfr-ca add NAME FILE [--group G] */
static int
mfr_ca_add(struct ctl *c, const struct ctl_args *a)
{
	const char *name = a->pos[0];
	json_t *req = NULL, *res = NULL, *v;
	char *pem = NULL, subject[DETAIL_MAX], sha[CELL_MAX], until[CELL_MAX];
	size_t pemlen = 0;
	int rc;

	if ((rc = ctl_check_group(name)) != 0)
		return rc;
	if (a->group != NULL && (rc = ctl_check_group(a->group)) != 0)
		return rc;
	if ((rc = ctl_read_pem(a->pos[1], &pem, &pemlen)) != 0)
		return rc;
	v = json_stringn(pem, pemlen);
	if (v == NULL) {
		ctl_errorf("the certificate file is not text (UTF-8)");
		rc = ZTP_EMALFORMED;
		goto out;
	}
	req = json_pack("{s:s, s:o}", "name", name, "pem", v);
	if (req == NULL ||
	    (a->group != NULL && json_object_set_new(req, "group", json_string(a->group)) != 0)) {
		rc = ctl_nomem();
		goto out;
	}
	rc = ctl_http_call(c, "POST", "/v1/manufacturer-cas", req, &res);
	if (rc != 0)
		goto out;
	if (c->json) {
		rc = ctl_out_show(c, res);
		goto out;
	}
	ctl_out_value(json_object_get(res, "subject"), subject, sizeof(subject));
	ctl_out_value(json_object_get(res, "sha256"), sha, sizeof(sha));
	ctl_out_value(json_object_get(res, "not_after"), until, sizeof(until));
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
mfr_ca_list(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { mfr_head, mfr_cols, 5, NULL };

	return ctl_req_get_list(c, "/v1/manufacturer-cas", "manufacturer_cas", &t);
}

/* mfr-ca show NAME: its members, then its certificate as PEM */
static int
mfr_ca_show(struct ctl *c, const struct ctl_args *a)
{
	json_t *pem;
	char path[128];
	const char *p;
	int rc;

	if ((rc = ctl_check_group(a->pos[0])) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/manufacturer-cas/%s", a->pos[0]);
	rc = ctl_req_show_tail(c, path, "pem", &pem);
	/* PEM is base64 and its armour: print it as it is, if it is only that */
	p = json_string_value(pem);
	if (p != NULL && strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789+/=- \n") == strlen(p))
		fputs(p, stdout);
	json_decref(pem);
	return rc;
}

static int
mfr_ca_delete(struct ctl *c, const struct ctl_args *a)
{
	return ctl_req_thing(c, a, ctl_check_group, "DELETE", "/v1/manufacturer-cas", "",
	    "manufacturer CA", "deleted");
}

static const struct ctl_cmd mfr_ca_cmds[] = {
	{ "add", OPT_GROUP, 2, "mfr-ca add NAME FILE [--group NAME]", mfr_ca_add },
	{ "list", 0, 0, "mfr-ca list", mfr_ca_list },
	{ "show", 0, 1, "mfr-ca show NAME", mfr_ca_show },
	{ "delete", 0, 1, "mfr-ca delete NAME", mfr_ca_delete },
};

/* the noun mfr-ca: its commands, its lines of ztpctl --help */
const struct ctl_noun ctl_mfr_ca = {
	mfr_ca_cmds,
	CTL_NELEM(mfr_ca_cmds),
	"  mfr-ca add NAME FILE [--group NAME]\n"
	"                                 trust a manufacturer CA (a PEM CA certificate)\n"
	"                                 for enrolment with the devices' IDevIDs\n"
	"  mfr-ca list                    list the manufacturer CAs\n"
	"  mfr-ca show NAME               show one, with its certificate\n"
	"  mfr-ca delete NAME             stop trusting it\n"
};
