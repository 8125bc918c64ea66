/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl profile, module and campaign: the operator's side of the module
 * security service (docs/security-service.md, /v1/profiles, /v1/modules,
 * /v1/campaigns), and the device commands of a module (device show,
 * release, transfer, features: ctl_device.c's table names them).
 *
 * Feature lists are comma-separated names (psk, e2e, local-data, c2c,
 * ztp-cert), checked here before anything is sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "modcsv.h"
#include "modmsg.h"
#include "num.h"
#include "ztp/err.h"

#define HB_MAX 315360000ULL /* the server's limit: ten years */
#define OWNER_MAX 64
#define CAMPAIGN_DEVICES_MAX 5000 /* the server's limit */
#define DEVICES_FILE_MAX (1024u * 1024)

/* one row as JSON at most: {"rot_uid":"<32>","factory_secret":"<64>","batch":"<64>"}, */
#define MOD_ROW_JSON_MAX                                                                   \
	(sizeof("{\"rot_uid\":\"\",\"factory_secret\":\"\",\"batch\":\"\"},") - 1 +       \
	    MODCSV_ROT_HEX + MODCSV_SECRET_HEX + MODCSV_BATCH_MAX)
_Static_assert(sizeof("{\"rows\":[]}") + CTL_IMPORT_BATCH * MOD_ROW_JSON_MAX <=
	CTL_IMPORT_BODY_MAX, "a full batch fits the server's limit");
_Static_assert(CTL_IMPORT_LINE_MAX >= MODCSV_LINE_MAX, "a module file's longest line fits");

/* ---- arguments ---- */

int
ctl_module_is_rot(const char *uid)
{
	return uid != NULL && modmsg_uid_hex_valid(uid, strlen(uid));
}

static int
check_rot(const char *s)
{
	char sarg[64];

	if (ctl_module_is_rot(s))
		return 0;
	return ctl_usage_error("invalid RoT UID '%s': expected 32 lower-case hex digits",
	    ctl_san(s, sarg, sizeof(sarg)));
}

static int
check_profile(const char *s)
{
	char sarg[64];

	if (s != NULL && modmsg_profile_valid(s, strlen(s)))
		return 0;
	return ctl_usage_error("invalid profile '%s': expected a DeviceProfileUID, 32 lower-case "
			       "hex digits (ztpctl profile list shows them)",
	    ctl_san(s, sarg, sizeof(sarg)));
}

static int
check_owner(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;
	char sarg[96];

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' || s[i] == '_'))
			break;
	if (n > 0 && n <= OWNER_MAX && i == n)
		return 0;
	return ctl_usage_error("invalid owner '%s': expected 1 to %d of A-Z a-z 0-9 - . _",
	    ctl_san(s, sarg, sizeof(sarg)), OWNER_MAX);
}

/*
 * A feature list (opt names the option) as a new JSON array in *out:
 * comma-separated names, each once; "" or "none" is the empty list.
 */
static int
parse_features(const char *opt, const char *list, json_t **out)
{
	char sarg[96];
	uint32_t bits = 0, b;
	json_t *arr;

	*out = NULL;
	if (list[0] != '\0' && strcmp(list, "none") != 0) {
		const char *p = list;
		uint32_t seen = 0;
		for (;;) {
			size_t n = strcspn(p, ",");
			char one[32];
			uint32_t bit;
			if (n == 0 || n >= sizeof(one))
				goto bad;
			memcpy(one, p, n);
			one[n] = '\0';
			if (modmsg_features_parse(one, &bit) != 0)
				goto bad;
			if (seen & bit)
				return ctl_usage_error("%s names '%s' twice", opt, one);
			seen |= bit;
			if (p[n] == '\0')
				break;
			p += n + 1;
		}
		bits = seen;
	}
	if ((arr = json_array()) == NULL)
		return ctl_nomem();
	for (b = 1; b <= MODMSG_F_ALL; b <<= 1)
		if ((bits & b) && json_array_append_new(arr, json_string(modmsg_feature_name(b))) != 0) {
			json_decref(arr);
			return ctl_nomem();
		}
	*out = arr;
	return 0;
bad:
	return ctl_usage_error("invalid %s '%s': expected a comma-separated list of psk, e2e, "
			       "local-data, c2c, ztp-cert, c2c-pairing (or none)",
	    opt, ctl_san(list, sarg, sizeof(sarg)));
}

/* --heartbeat-interval and --heartbeat-min-interval into req */
static int
hb_members(json_t *req, const struct ctl_args *a)
{
	const char *vals[2] = { a->hb, a->hb_min };
	const char *opts[2] = { "--heartbeat-interval", "--heartbeat-min-interval" };
	const char *names[2] = { "heartbeat_interval_s", "heartbeat_min_interval_s" };
	char sarg[64];
	uint64_t v;
	size_t i;

	for (i = 0; i < 2; i++) {
		if (vals[i] == NULL)
			continue;
		if (num_parse_u64z(vals[i], 1, HB_MAX, &v) != 0)
			return ctl_usage_error("invalid %s '%s': expected seconds from 1 to %llu", opts[i],
			    ctl_san(vals[i], sarg, sizeof(sarg)), HB_MAX);
		if (json_object_set_new(req, names[i], json_integer((json_int_t)v)) != 0)
			return ctl_nomem();
	}
	return 0;
}

/* "features": the list of opt (NULL: not set) into req under name */
static int
features_member(json_t *req, const char *name, const char *opt, const char *list)
{
	json_t *arr;
	int rc;

	if (list == NULL)
		return 0;
	if ((rc = parse_features(opt, list, &arr)) != 0)
		return rc;
	if (json_object_set_new(req, name, arr) != 0)
		return ctl_nomem();
	return 0;
}

/* "?owner=O" (O checked) or "" into q */
static int
owner_query(const struct ctl_args *a, char *q, size_t cap)
{
	int rc;

	q[0] = '\0';
	if (a->owner == NULL)
		return 0;
	if ((rc = check_owner(a->owner)) != 0)
		return rc;
	snprintf(q, cap, "owner=%s", a->owner);
	return 0;
}

/* ---- profile ---- */

static const char *const profile_head[] = { "UID", "NAME", "OWNER", "FEATURES", "HEARTBEAT",
	"MIN", "MODULES" };
static const char *const profile_cols[] = { "uid", "name", "owner", "features",
	"heartbeat_interval_s", "heartbeat_min_interval_s", "modules" };

/* profile create NAME [--owner O] [--features LIST] [--heartbeat-interval S] [...]: its UID */
static int
profile_create(struct ctl *c, const struct ctl_args *a)
{
	json_t *req = NULL, *res = NULL, *uid;
	char sarg[96];
	int rc;

	if (a->owner != NULL && (rc = check_owner(a->owner)) != 0)
		return rc;
	if (a->ztp_ca != NULL && (rc = ctl_ztpca_check_name(a->ztp_ca)) != 0)
		return rc;
	if ((req = json_pack("{s:s}", "name", a->pos[0])) == NULL)
		return ctl_nomem();
	if ((a->owner != NULL && json_object_set_new(req, "owner", json_string(a->owner)) != 0)) {
		rc = ctl_nomem();
		goto out;
	}
	if ((rc = features_member(req, "features", "--features", a->features)) != 0 ||
	    (rc = hb_members(req, a)) != 0)
		goto out;
	if ((rc = ctl_http_call(c, "POST", "/v1/profiles", req, &res)) != 0)
		goto out;
	uid = json_object_get(res, "uid");
	if (!json_is_string(uid) || !modmsg_profile_valid(json_string_value(uid),
					json_string_length(uid))) {
		ctl_errorf("profile %s was created, but the answer has no DeviceProfileUID",
		    ctl_san(a->pos[0], sarg, sizeof(sarg)));
		rc = ZTP_EMALFORMED;
		goto out;
	}
	/* --ztp-ca: the CA its modules' certificates come from (ctl_ztpca.c) */
	if (a->ztp_ca != NULL &&
	    (rc = ctl_ztpca_profile_link(c, json_string_value(uid), a->ztp_ca, 1)) != 0) {
		ctl_errorf("profile %s was created (%s), but its ZTP CA was not set: "
			   "ztpctl profile ztp-ca %s NAME",
		    ctl_san(a->pos[0], sarg, sizeof(sarg)), json_string_value(uid),
		    json_string_value(uid));
		goto out;
	}
	if (c->json) {
		rc = ctl_out_json(res);
		goto out;
	}
	printf("%s\n", json_string_value(uid));
out:
	json_decref(req);
	json_decref(res);
	return rc;
}

static int
profile_list(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { profile_head, profile_cols, 7, NULL };
	char q[96], path[128];
	int rc;

	if ((rc = owner_query(a, q, sizeof(q))) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/profiles%s%s", q[0] ? "?" : "", q);
	return ctl_req_get_list(c, path, "profiles", &t);
}

static int
profile_show(struct ctl *c, const struct ctl_args *a)
{
	return ctl_req_thing(c, a, check_profile, "GET", "/v1/profiles", "", "profile", NULL);
}

/* profile update UID [--features LIST] [--heartbeat-interval S] [--heartbeat-min-interval S] */
static int
profile_update(struct ctl *c, const struct ctl_args *a)
{
	json_t *req = NULL, *res = NULL;
	char path[128];
	int rc;

	if ((rc = check_profile(a->pos[0])) != 0)
		return rc;
	if (a->features == NULL && a->hb == NULL && a->hb_min == NULL)
		return ctl_usage_error("profile update: give --features, --heartbeat-interval or "
				       "--heartbeat-min-interval");
	if ((req = json_object()) == NULL)
		return ctl_nomem();
	if ((rc = features_member(req, "features", "--features", a->features)) != 0 ||
	    (rc = hb_members(req, a)) != 0)
		goto out;
	snprintf(path, sizeof(path), "/v1/profiles/%s", a->pos[0]);
	if ((rc = ctl_http_call(c, "PUT", path, req, &res)) == 0)
		rc = ctl_out_show(c, res);
out:
	json_decref(req);
	json_decref(res);
	return rc;
}

static const struct ctl_cmd profile_cmds[] = {
	{ "create", OPT_OWNER | OPT_FEATURES | OPT_HB | OPT_HB_MIN | OPT_ZTP_CA, 1,
	    "profile create NAME [--owner O] [--features LIST] [--heartbeat-interval S] "
	    "[--heartbeat-min-interval S] [--ztp-ca NAME]",
	    profile_create },
	{ "ztp-ca", 0, 2, "profile ztp-ca UID NAME|none", ctl_ztpca_profile_cmd },
	{ "list", OPT_OWNER, 0, "profile list [--owner O]", profile_list },
	{ "show", 0, 1, "profile show UID", profile_show },
	{ "update", OPT_FEATURES | OPT_HB | OPT_HB_MIN, 1,
	    "profile update UID [--features LIST] [--heartbeat-interval S] "
	    "[--heartbeat-min-interval S]",
	    profile_update },
};

const struct ctl_noun ctl_profile = {
	profile_cmds,
	CTL_NELEM(profile_cmds),
	"  profile create NAME [--owner O] [--features LIST] [--heartbeat-interval S]\n"
	"                 [--heartbeat-min-interval S] [--ztp-ca NAME]\n"
	"                                 create a device profile and print its\n"
	"                                 DeviceProfileUID (what modules are sealed with);\n"
	"                                 --owner with a key for all owners; features:\n"
	"                                 psk,e2e,local-data,c2c,ztp-cert; heartbeat\n"
	"                                 every S seconds (a week), at most every S (300)\n"
	"  profile list [--owner O]       list the profiles\n"
	"  profile show UID               show one\n"
	"  profile update UID [--features LIST] [--heartbeat-interval S]\n"
	"                 [--heartbeat-min-interval S]\n"
	"                                 change it, for modules that bootstrap afterwards\n"
	"                                 (the others: a campaign)\n"
};

/* ---- module ---- */

/* A line of a module maker's batch file (modcsv.h). */
static int
module_import_line(struct ctl_import *im, const char *line, size_t len, uint64_t lineno,
    const char **why)
{
	struct modcsv_row row;
	enum modcsv_reason r;
	int rc;

	rc = modcsv_parse(line, len, lineno == 1, &row, &r);
	if (rc == MODCSV_SKIP)
		return CTL_IMPORT_SKIP;
	if (rc != 0) {
		*why = modcsv_reason(r);
		return rc;
	}
	ctl_import_row_start(im);
	ctl_import_field(im, "rot_uid", row.rot_uid, strlen(row.rot_uid));
	ctl_import_field(im, "factory_secret", row.secret_hex, MODCSV_SECRET_HEX);
	if (row.batch[0] != '\0')
		ctl_import_field(im, "batch", row.batch, strlen(row.batch));
	ctl_import_row_end(im, lineno);
	explicit_bzero(&row, sizeof(row));
	return 0;
}

static const struct ctl_import_kind module_import_kind = {
	"/v1/modules/import", "{\"rows\":[", MOD_ROW_JSON_MAX, module_import_line,
};

static int
module_import(struct ctl *c, const struct ctl_args *a)
{
	return ctl_import_run(c, a->pos[0], &module_import_kind);
}

static const char *const module_head[] = { "ROT UID", "STATE", "OWNER", "FEATURES",
	"QUARANTINED", "HEARTBEATS", "LAST HEARTBEAT" };
static const char *const module_cols[] = { "rot_uid", "state", "owner", "features",
	"quarantined", "heartbeats", "last_heartbeat_at" };

/* module list [--owner O] [--profile P] [--quarantined] [--limit N] [--all] */
static int
module_list(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { module_head, module_cols, 7, NULL };
	char q[256], o[96];
	uint64_t max = 0;
	int rc;

	if ((rc = ctl_check_list_max(a, &max)) != 0 || (rc = owner_query(a, o, sizeof(o))) != 0 ||
	    (a->profile != NULL && (rc = check_profile(a->profile)) != 0))
		return rc;
	snprintf(q, sizeof(q), "%s%s%s%s%s", o, a->profile && o[0] ? "&" : "",
	    a->profile ? "profile=" : "", a->profile ? a->profile : "",
	    a->quarantined ? (o[0] || a->profile ? "&quarantined=1" : "quarantined=1") : "");
	return ctl_req_pages(c, "/v1/modules", q, "modules", "after", max, &t);
}

static const struct ctl_cmd module_cmds[] = {
	{ "import", 0, 1, "module import FILE", module_import },
	{ "list", OPT_OWNER | OPT_PROFILE | OPT_QUARANTINED | OPT_LIMIT | OPT_ALL, 0,
	    "module list [--owner O] [--profile UID] [--quarantined] [--limit N] [--all]",
	    module_list },
};

const struct ctl_noun ctl_module = {
	module_cmds,
	CTL_NELEM(module_cmds),
	"  module import FILE             import a module maker's batch file ('-' is stdin):\n"
	"                                 lines rot_uid,factory_secret_hex[,batch], header\n"
	"                                 and # comments optional; idempotent; prints\n"
	"                                 added, unchanged and every refused line with\n"
	"                                 its number and reason\n"
	"  module list [--owner O] [--profile UID] [--quarantined] [--limit N] [--all]\n"
	"                                 list the modules (device show RoT-UID for one)\n"
};

/* ---- the device commands of a module ---- */

int
ctl_module_device_show(struct ctl *c, const char *rot)
{
	json_t *res = NULL;
	char path[128];
	int rc;

	snprintf(path, sizeof(path), "/v1/modules/%s", rot);
	c->quiet_404 = 1;
	rc = ctl_http_call(c, "GET", path, NULL, &res);
	c->quiet_404 = 0;
	if (rc == 0)
		rc = ctl_out_show(c, res);
	json_decref(res);
	return rc;
}

/* POST or PUT req to /v1/modules/ROT/what; print done, or the module with --json */
static int
module_change(struct ctl *c, const char *method, const char *rot, const char *what,
    const json_t *req, const char *done)
{
	json_t *res = NULL;
	char path[128];
	int rc;

	snprintf(path, sizeof(path), "/v1/modules/%s/%s", rot, what);
	rc = ctl_http_call(c, method, path, req, &res);
	if (rc == 0 && c->json)
		rc = ctl_out_json(res);
	else if (rc == 0)
		printf("%s\n", done);
	json_decref(res);
	return rc;
}

int
ctl_module_device_release(struct ctl *c, const struct ctl_args *a)
{
	char done[96];
	int rc;

	if ((rc = check_rot(a->pos[0])) != 0)
		return rc;
	snprintf(done, sizeof(done), "device %s released from quarantine", a->pos[0]);
	return module_change(c, "POST", a->pos[0], "release", NULL, done);
}

int
ctl_module_device_transfer(struct ctl *c, const struct ctl_args *a)
{
	char done[160];
	json_t *req;
	int rc;

	if ((rc = check_rot(a->pos[0])) != 0)
		return rc;
	if (a->to == NULL)
		return ctl_usage_error("usage: ztpctl device transfer UID --to OWNER [--profile UID]");
	if ((rc = check_owner(a->to)) != 0)
		return rc;
	if ((req = json_pack("{s:s}", "owner", a->to)) == NULL)
		return ctl_nomem();
	if (a->profile != NULL && json_object_set_new(req, "profile", json_string(a->profile)) != 0) {
		json_decref(req);
		return ctl_nomem();
	}
	snprintf(done, sizeof(done), "device %s transferred to %s", a->pos[0], a->to);
	rc = module_change(c, "POST", a->pos[0], "transfer", req, done);
	json_decref(req);
	return rc;
}

int
ctl_module_device_features(struct ctl *c, const struct ctl_args *a)
{
	json_t *req = NULL, *res = NULL;
	char path[128], f[CELL_MAX];
	int rc;

	if ((rc = check_rot(a->pos[0])) != 0)
		return rc;
	if (a->enable == NULL && a->disable == NULL)
		return ctl_usage_error("device features: give --enable LIST or --disable LIST");
	if ((req = json_object()) == NULL)
		return ctl_nomem();
	if ((rc = features_member(req, "enable", "--enable", a->enable)) != 0 ||
	    (rc = features_member(req, "disable", "--disable", a->disable)) != 0)
		goto out;
	snprintf(path, sizeof(path), "/v1/modules/%s/features", a->pos[0]);
	if ((rc = ctl_http_call(c, "PUT", path, req, &res)) != 0)
		goto out;
	if (c->json) {
		rc = ctl_out_json(res);
		goto out;
	}
	ctl_out_value(json_object_get(res, "features"), f, sizeof(f));
	printf("device %s: features %s, delivered at its next heartbeat\n", a->pos[0],
	    f[0] && strcmp(f, "-") != 0 ? f : "none");
out:
	json_decref(req);
	json_decref(res);
	return rc;
}

/* ---- campaign ---- */

/*
 * The RoT UIDs of FILE (one a line; blank lines and # comments skipped)
 * into a new JSON array. A bad line is an error with its number.
 */
static int
read_devices(const char *path, json_t **out)
{
	char spath[256], *data = NULL, *p, *end, *nl;
	json_t *arr = NULL;
	size_t len = 0, n;
	uint64_t lineno = 0;
	FILE *f;
	int rc;

	*out = NULL;
	ctl_san(path, spath, sizeof(spath));
	if ((f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb")) == NULL) {
		ctl_errorf("%s: %s", spath, strerror(errno));
		return ZTP_EIO;
	}
	rc = ctl_read_bounded(f, DEVICES_FILE_MAX, &data, &len);
	if (f != stdin)
		fclose(f);
	if (rc != 0) {
		ctl_errorf("%s: %s", spath, rc == ZTP_ETOOBIG ? "over 1 MiB" : ztp_strerror(rc));
		return rc;
	}
	if ((arr = json_array()) == NULL) {
		rc = ctl_nomem();
		goto out;
	}
	for (p = data, end = data + len; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		lineno++;
		n = (size_t)(nl - p);
		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		if (n == 0 || *p == '#')
			continue;
		if (!modmsg_uid_hex_valid(p, n)) {
			ctl_errorf("%s line %llu: not a RoT UID (32 lower-case hex digits)", spath,
			    (unsigned long long)lineno);
			rc = ZTP_EMALFORMED;
			goto out;
		}
		if (json_array_size(arr) == CAMPAIGN_DEVICES_MAX) {
			ctl_errorf("%s: over %d devices in one campaign", spath, CAMPAIGN_DEVICES_MAX);
			rc = ZTP_ETOOBIG;
			goto out;
		}
		if (json_array_append_new(arr, json_stringn(p, n)) != 0) {
			rc = ctl_nomem();
			goto out;
		}
	}
	if (json_array_size(arr) == 0) {
		ctl_errorf("%s: no RoT UID in it", spath);
		rc = ZTP_EMALFORMED;
		goto out;
	}
	*out = arr;
	arr = NULL;
	rc = 0;
out:
	json_decref(arr);
	free(data);
	return rc;
}

/* campaign create (--profile UID | --devices FILE) [--owner O] [--enable L] [--disable L] */
static int
campaign_create(struct ctl *c, const struct ctl_args *a)
{
	json_t *req = NULL, *res = NULL, *devs = NULL;
	char n[CELL_MAX], id[CELL_MAX];
	int rc;

	if ((a->profile != NULL) == (a->devices != NULL))
		return ctl_usage_error("campaign create: give --profile UID or --devices FILE");
	if (a->enable == NULL && a->disable == NULL)
		return ctl_usage_error("campaign create: give --enable LIST or --disable LIST");
	if ((a->profile != NULL && (rc = check_profile(a->profile)) != 0) ||
	    (a->owner != NULL && (rc = check_owner(a->owner)) != 0))
		return rc;
	if ((req = json_object()) == NULL)
		return ctl_nomem();
	if ((rc = features_member(req, "enable", "--enable", a->enable)) != 0 ||
	    (rc = features_member(req, "disable", "--disable", a->disable)) != 0)
		goto out;
	if (a->devices != NULL && (rc = read_devices(a->devices, &devs)) != 0)
		goto out;
	if ((a->profile != NULL && json_object_set_new(req, "profile", json_string(a->profile))) ||
	    (devs != NULL && json_object_set(req, "devices", devs) != 0) ||
	    (a->owner != NULL && json_object_set_new(req, "owner", json_string(a->owner)) != 0)) {
		rc = ctl_nomem();
		goto out;
	}
	if ((rc = ctl_http_call(c, "POST", "/v1/campaigns", req, &res)) != 0)
		goto out;
	if (c->json) {
		rc = ctl_out_json(res);
		goto out;
	}
	ctl_out_value(json_object_get(res, "id"), id, sizeof(id));
	ctl_out_value(json_object_get(res, "devices"), n, sizeof(n));
	printf("campaign %s created: %s devices pending (their next heartbeat delivers it)\n", id,
	    n);
out:
	json_decref(devs);
	json_decref(req);
	json_decref(res);
	return rc;
}

static int
check_campaign(const char *s)
{
	char sarg[64];
	uint64_t v;

	if (s != NULL && num_parse_u64z(s, 1, INT64_MAX, &v) == 0)
		return 0;
	return ctl_usage_error("invalid campaign '%s': expected its number",
	    ctl_san(s, sarg, sizeof(sarg)));
}

static const char *const camp_dev_head[] = { "ROT UID", "STATE", "UPDATED" };
static const char *const camp_dev_cols[] = { "rot_uid", "state", "updated_at" };

/* campaign show ID [--limit N] [--all]: its counts, then its devices (all by default) */
static int
campaign_show(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { camp_dev_head, camp_dev_cols, 3, NULL };
	json_t *head = NULL, *rows = NULL;
	char path[96], first[128];
	uint64_t max = 0;
	int rc;

	if ((rc = check_campaign(a->pos[0])) != 0 || (rc = ctl_check_list_max(a, &max)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/campaigns/%s", a->pos[0]);
	snprintf(first, sizeof(first), "%s?limit=1", path);
	if ((rc = ctl_http_call(c, "GET", first, NULL, &head)) != 0 || head == NULL)
		goto out;
	if ((rc = ctl_http_list(c, path, "", "device_list", "after", max, &rows)) != 0)
		goto out;
	if (json_object_set(head, "device_list", json_object_get(rows, "device_list")) != 0 ||
	    json_object_set(head, "next", json_object_get(rows, "next")) != 0) {
		rc = ctl_nomem();
		goto out;
	}
	if (c->json) {
		rc = ctl_out_json(head);
		goto out;
	}
	json_object_del(head, "next");
	json_object_del(head, "device_list");
	ctl_out_object(head);
	if (json_array_size(json_object_get(rows, "device_list")) > 0) {
		putchar('\n');
		rc = ctl_out_table(json_object_get(rows, "device_list"), &t);
	}
out:
	json_decref(head);
	json_decref(rows);
	return rc;
}

static const char *const camp_head[] = { "ID", "OWNER", "PROFILE", "ENABLE", "DISABLE",
	"PENDING", "APPLIED" };
static const char *const camp_cols[] = { "id", "owner", "profile", "enable", "disable",
	"pending", "applied" };

static int
campaign_list(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { camp_head, camp_cols, 7, NULL };
	uint64_t max = 0;
	char q[96];
	int rc;

	if ((rc = ctl_check_list_max(a, &max)) != 0 || (rc = owner_query(a, q, sizeof(q))) != 0)
		return rc;
	return ctl_req_pages(c, "/v1/campaigns", q, "campaigns", "after", max, &t);
}

static const struct ctl_cmd campaign_cmds[] = {
	{ "create", OPT_PROFILE | OPT_DEVICES | OPT_OWNER | OPT_ENABLE | OPT_DISABLE, 0,
	    "campaign create (--profile UID | --devices FILE) [--owner O] [--enable LIST] "
	    "[--disable LIST]",
	    campaign_create },
	{ "show", OPT_LIMIT | OPT_ALL, 1, "campaign show ID [--limit N] [--all]", campaign_show },
	{ "list", OPT_OWNER | OPT_LIMIT | OPT_ALL, 0, "campaign list [--owner O] [--limit N] [--all]",
	    campaign_list },
};

const struct ctl_noun ctl_campaign = {
	campaign_cmds,
	CTL_NELEM(campaign_cmds),
	"  campaign create (--profile UID | --devices FILE) [--owner O] [--enable LIST]\n"
	"                 [--disable LIST]\n"
	"                                 change the features of many devices at once: the\n"
	"                                 bootstrapped, not quarantined modules of a profile\n"
	"                                 or of FILE (a RoT UID a line, # comments); each\n"
	"                                 is pending until its next heartbeat applies it\n"
	"  campaign show ID [--limit N] [--all]\n"
	"                                 its counts, and each device: pending, applied or\n"
	"                                 failed (quarantined first)\n"
	"  campaign list [--owner O] [--limit N] [--all]\n"
	"                                 list the campaigns\n"
};
