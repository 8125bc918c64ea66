/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl device: the devices that hold or held certificates (/v1/devices),
 * and their blocking.
 */
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ctl.h"
#include "ztp/err.h"

static const char *const device_head[] = { "UDID", "BLOCKED", "GROUP", "ICCID", "CERTS",
	"UPDATED" };
static const char *const device_cols[] = { "udid", "blocked", "group", "iccid", "certs",
	"updated_at" };

static int
device_list(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { device_head, device_cols, 6, NULL };
	uint64_t max = 0;
	int rc;

	if ((rc = ctl_check_list_max(a, &max)) != 0)
		return rc;
	return ctl_req_pages(c, "/v1/devices", "", "devices", "after", max, &t);
}

/*
 * device show UID: a module's (a RoT UID: /v1/modules, ctl_module.c), or
 * else a device's members, then its certificates as a table
 */
static int
device_show(struct ctl *c, const struct ctl_args *a)
{
	json_t *certs;
	char path[128];
	int rc;

	if (ctl_module_is_rot(a->pos[0]) &&
	    (rc = ctl_module_device_show(c, a->pos[0])) != ZTP_ENOENT)
		return rc;
	if ((rc = ctl_check_udid(a->pos[0])) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/devices/%s", a->pos[0]);
	rc = ctl_req_show_tail(c, path, "certificates", &certs);
	if (json_array_size(certs) > 0) {
		putchar('\n');
		rc = ctl_out_table(certs, &ctl_cert_table);
	}
	json_decref(certs);
	return rc;
}

/* device block UDID [--reason R]: R defaults to the server's (privilegeWithdrawn) */
static int
device_block(struct ctl *c, const struct ctl_args *a)
{
	json_t *req = NULL, *res = NULL;
	char path[128], n[CELL_MAX];
	int rc;

	if ((rc = ctl_check_udid(a->pos[0])) != 0)
		return rc;
	if (a->reason != NULL) {
		if ((rc = ctl_check_reason(a->reason)) != 0)
			return rc;
		if ((req = json_pack("{s:s}", "reason", a->reason)) == NULL)
			return ctl_nomem();
	}
	snprintf(path, sizeof(path), "/v1/devices/%s/block", a->pos[0]);
	rc = ctl_http_call(c, "POST", path, req, &res);
	if (rc == 0 && c->json) {
		rc = ctl_out_show(c, res);
	} else if (rc == 0) {
		ctl_out_value(json_object_get(res, "revoked"), n, sizeof(n));
		printf("device %s blocked: %s certificates revoked\n", a->pos[0], n);
	}
	json_decref(req);
	json_decref(res);
	return rc;
}

static int
device_unblock(struct ctl *c, const struct ctl_args *a)
{
	return ctl_req_thing(c, a, ctl_check_udid, "POST", "/v1/devices", "/unblock", "device",
	    "unblocked");
}

static const struct ctl_cmd device_cmds[] = {
	{ "list", OPT_LIMIT | OPT_ALL, 0, "device list [--limit N] [--all]",
	    device_list },
	{ "show", 0, 1, "device show UDID", device_show },
	{ "block", OPT_REASON, 1, "device block UDID [--reason REASON]",
	    device_block },
	{ "unblock", 0, 1, "device unblock UDID", device_unblock },
	/* a module's (ctl_module.c) */
	{ "release", 0, 1, "device release UID", ctl_module_device_release },
	{ "transfer", OPT_TO | OPT_PROFILE, 1, "device transfer UID --to OWNER [--profile UID]",
	    ctl_module_device_transfer },
	{ "features", OPT_ENABLE | OPT_DISABLE, 1,
	    "device features UID [--enable LIST] [--disable LIST]", ctl_module_device_features },
	{ "ztp-ca", 0, 2, "device ztp-ca UID NAME|none", ctl_ztpca_device_cmd },
};

/* the noun device: its commands, its lines of ztpctl --help */
const struct ctl_noun ctl_device = {
	device_cmds,
	CTL_NELEM(device_cmds),
	"  device list [--limit N] [--all]\n"
	"                                 list the devices that hold or held certificates\n"
	"  device show UID                show one: a module (RoT UID) or a device with\n"
	"                                 its certificates"
	"  device block UDID [--reason REASON]\n"
	"                                 refuse its enrolments, revoke its certificates\n"
	"                                 (privilegeWithdrawn by default), block its SIM\n"
	"  device unblock UDID            lift the block (revoked certificates stay so)\n"
	"  device release UID             let a quarantined module (a suspected clone)\n"
	"                                 contact the server again, after you have looked\n"
	"  device transfer UID --to OWNER [--profile UID]\n"
	"                                 give a bootstrapped module to another owner\n"
	"                                 (with one of its profiles: the profile's features\n"
	"                                 reach the device at its next heartbeat)\n"
	"  device features UID [--enable LIST] [--disable LIST]\n"
	"                                 change a module's features (psk,e2e,local-data,\n"
	"                                 c2c,ztp-cert), delivered at its next heartbeat\n"
};
