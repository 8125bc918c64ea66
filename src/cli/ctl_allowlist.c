/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl allowlist: the devices allowed to enrol (EST) with a known public
 * key (/v1/allowlist), one at a time or a factory's file (allowlist
 * import, parsed by allowcsv.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "allowcsv.h"
#include "ctl.h"
#include "hex.h"
#include "ztp/err.h"
#include "ztp/iccid.h"

/* {"udid":"<64>","key_sha256":"<64>","group":"<63>","iccid":"<20>"}, */
#define ALLOW_ROW_JSON_MAX                                                                \
	(sizeof("{\"udid\":\"\",\"key_sha256\":\"\",\"group\":\"\",\"iccid\":\"\"},") - 1 + \
	    UDID_MAX + (ALLOWCSV_KEY_HEX_SIZE - 1) + ALLOWCSV_GROUP_MAX + ICCID_MAX_DIGITS)
_Static_assert(sizeof("{\"entries\":[]}") + CTL_IMPORT_BATCH * ALLOW_ROW_JSON_MAX <=
	CTL_IMPORT_BODY_MAX, "a full batch fits the server's limit");
_Static_assert(CTL_IMPORT_LINE_MAX >= ALLOWCSV_LINE_MAX, "an allowlist's longest line fits");

/* allowlist add UDID (--pubkey FILE | --key-sha256 HEX) [--group G] [--iccid I] */
static int
allowlist_add(struct ctl *c, const struct ctl_args *a)
{
	const char *udid = a->pos[0];
	json_t *req = NULL, *res = NULL, *v;
	char *pem = NULL, sha[CELL_MAX];
	size_t pemlen = 0;
	long code = 0;
	int rc;

	if ((rc = ctl_check_udid(udid)) != 0)
		return rc;
	if ((a->pubkey == NULL) == (a->key_sha == NULL))
		return ctl_usage_error("allowlist add: give exactly one of --pubkey FILE and "
				   "--key-sha256 HEX");
	if (a->key_sha != NULL && (strlen(a->key_sha) != 64 || !hex_valid(a->key_sha, 64)))
		return ctl_usage_error("invalid --key-sha256: expected 64 hex digits (the SHA-256 of "
				   "the DER SubjectPublicKeyInfo)");
	if (a->group != NULL && (rc = ctl_check_group(a->group)) != 0)
		return rc;
	if (a->iccid != NULL && (rc = ctl_check_iccid(a->iccid)) != 0)
		return rc;
	if (a->pubkey != NULL && (rc = ctl_read_pem(a->pubkey, &pem, &pemlen)) != 0)
		return rc;
	req = json_pack("{s:s}", "udid", udid);
	if (req == NULL)
		goto nomem;
	if (pem != NULL) {
		v = json_stringn(pem, pemlen);
		if (v == NULL) {
			ctl_errorf("the --pubkey file is not text (UTF-8)");
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
	rc = ctl_http_call_status(c, "POST", "/v1/allowlist", req, &res, &code);
	if (rc != 0)
		goto out;
	if (c->json) {
		rc = ctl_out_show(c, res);
		goto out;
	}
	ctl_out_value(json_object_get(res, "key_sha256"), sha, sizeof(sha));
	if (code == 201)
		printf("allowlist entry %s added (key sha256 %s)\n", udid, sha);
	else
		printf("allowlist entry %s unchanged: the same entry exists (key sha256 %s)\n", udid,
		    sha);
	rc = 0;
	goto out;
nomem:
	rc = ctl_nomem();
out:
	free(pem);
	json_decref(req);
	json_decref(res);
	return rc;
}

static const char *const allow_head[] = { "UDID", "GROUP", "ICCID", "CREATED", "KEY SHA256" };
static const char *const allow_cols[] = { "udid", "group", "iccid", "created_at", "key_sha256" };

static int
allowlist_list(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { allow_head, allow_cols, 5, NULL };
	uint64_t max = 0;
	int rc;

	if ((rc = ctl_check_list_max(a, &max)) != 0)
		return rc;
	return ctl_req_pages(c, "/v1/allowlist", "", "allowlist", "after", max, &t);
}

static int
allowlist_show(struct ctl *c, const struct ctl_args *a)
{
	return ctl_req_thing(c, a, ctl_check_udid, "GET", "/v1/allowlist", "", NULL, NULL);
}

static int
allowlist_delete(struct ctl *c, const struct ctl_args *a)
{
	return ctl_req_thing(c, a, ctl_check_udid, "DELETE", "/v1/allowlist", "", "allowlist entry",
	    "deleted");
}

/* Append an allowlist row: its strings need no escaping (allowcsv_parse saw to it). */
static void
allowlist_import_row(struct ctl_import *im, const struct allowcsv_row *row, uint64_t line)
{
	ctl_import_row_start(im);
	ctl_import_field(im, "udid", row->udid, strlen(row->udid));
	ctl_import_field(im, "key_sha256", row->key, strlen(row->key));
	if (row->group[0] != '\0')
		ctl_import_field(im, "group", row->group, strlen(row->group));
	if (row->iccid[0] != '\0')
		ctl_import_field(im, "iccid", row->iccid, strlen(row->iccid));
	ctl_import_row_end(im, line);
}

/* A line of a factory's allowlist file (allowcsv.h). */
static int
allowlist_import_line(struct ctl_import *im, const char *line, size_t len, uint64_t lineno,
    const char **why)
{
	struct allowcsv_row row;
	enum allowcsv_reason r;
	int rc;

	rc = allowcsv_parse(line, len, !ctl_import_rows_seen(im), &row, &r);
	if (rc == ALLOWCSV_SKIP)
		return CTL_IMPORT_SKIP;
	if (rc != 0) {
		*why = allowcsv_reason(r);
		return rc;
	}
	allowlist_import_row(im, &row, lineno);
	return 0;
}

static const struct ctl_import_kind allow_import_kind = {
	"/v1/allowlist/import", "{\"entries\":[", ALLOW_ROW_JSON_MAX, allowlist_import_line,
};

/* allowlist import FILE: ctl_import_run with the kind of a factory's file */
static int
allowlist_import(struct ctl *c, const struct ctl_args *a)
{
	return ctl_import_run(c, a->pos[0], &allow_import_kind);
}

static const struct ctl_cmd allowlist_cmds[] = {
	{ "add", OPT_PUBKEY | OPT_KEY_SHA | OPT_GROUP | OPT_ICCID, 1,
	    "allowlist add UDID (--pubkey FILE | --key-sha256 HEX) [--group NAME] [--iccid ICCID]",
	    allowlist_add },
	{ "import", 0, 1, "allowlist import FILE", allowlist_import },
	{ "list", OPT_LIMIT | OPT_ALL, 0, "allowlist list [--limit N] [--all]",
	    allowlist_list },
	{ "show", 0, 1, "allowlist show UDID", allowlist_show },
	{ "delete", 0, 1, "allowlist delete UDID", allowlist_delete },
};

/* the noun allowlist: its commands, its lines of ztpctl --help */
const struct ctl_noun ctl_allowlist = {
	allowlist_cmds,
	CTL_NELEM(allowlist_cmds),
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
};
