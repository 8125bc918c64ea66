/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl cert: the certificates the CA issued (/v1/certs), and their
 * revocation (the CRL is re-signed at once).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "ztp/err.h"

#define SERIAL_ARG_MAX 64 /* hex digits, leading zeros included */

static const char *const cert_head[] = { "SERIAL", "UDID", "METHOD", "ISSUED", "NOT AFTER",
	"REVOKED" };

/* a certificate's cells: REVOKED is its reason, or "no" */
static void
cert_cell(const json_t *item, size_t col, char *out, size_t cap)
{
	static const char *const cols[] = { "serial", "udid", "method", "issued_at", "not_after" };

	if (col < 5)
		ctl_out_value(json_object_get(item, cols[col]), out, cap);
	else if (json_is_true(json_object_get(item, "revoked")))
		ctl_out_value(json_object_get(item, "reason"), out, cap);
	else
		snprintf(out, cap, "no");
}

/* device show prints a device's certificates with it too */
const struct ctl_table_spec ctl_cert_table = { cert_head, NULL, 6, cert_cell };

/* a certificate serial number: hex, as openssl x509 -serial prints it */
static int
check_serial(const char *s)
{
	char buf[96];
	size_t n = strlen(s);

	if (n == 0 || n > SERIAL_ARG_MAX || strspn(s, "0123456789abcdefABCDEF") != n)
		return ctl_usage_error("invalid serial number '%s': expected hex digits",
		    ctl_san(s, buf, sizeof(buf)));
	return 0;
}

/* cert list [--udid U] [--limit N] [--all] */
static int
cert_list(struct ctl *c, const struct ctl_args *a)
{
	char query[128] = "";
	uint64_t max = 0;
	int rc;

	if ((rc = ctl_check_list_max(a, &max)) != 0)
		return rc;
	if (a->udid != NULL) {
		if ((rc = ctl_check_udid(a->udid)) != 0)
			return rc;
		snprintf(query, sizeof(query), "udid=%s", a->udid); /* no character to escape */
	}
	return ctl_req_pages(c, "/v1/certs", query, "certs", "after", max, &ctl_cert_table);
}

static int
cert_show(struct ctl *c, const struct ctl_args *a)
{
	return ctl_req_thing(c, a, check_serial, "GET", "/v1/certs", "", NULL, NULL);
}

/* cert revoke SERIAL [--reason R]: R defaults to unspecified */
static int
cert_revoke(struct ctl *c, const struct ctl_args *a)
{
	const char *reason = a->reason != NULL ? a->reason : "unspecified";
	json_t *req = NULL, *res = NULL;
	char path[128], serial[CELL_MAX], udid[CELL_MAX];
	int rc;

	if ((rc = check_serial(a->pos[0])) != 0 || (rc = ctl_check_reason(reason)) != 0)
		return rc;
	if ((req = json_pack("{s:s}", "reason", reason)) == NULL)
		return ctl_nomem();
	snprintf(path, sizeof(path), "/v1/certs/%s/revoke", a->pos[0]);
	rc = ctl_http_call(c, "POST", path, req, &res);
	if (rc == 0 && c->json) {
		rc = ctl_out_show(c, res);
	} else if (rc == 0) {
		ctl_out_value(json_object_get(res, "serial"), serial, sizeof(serial));
		ctl_out_value(json_object_get(res, "udid"), udid, sizeof(udid));
		printf("certificate %s of %s revoked (%s)\n", serial, udid, reason);
	}
	json_decref(req);
	json_decref(res);
	return rc;
}

static const struct ctl_cmd cert_cmds[] = {
	{ "list", OPT_UDID | OPT_LIMIT | OPT_ALL, 0,
	    "cert list [--udid UDID] [--limit N] [--all]", cert_list },
	{ "show", 0, 1, "cert show SERIAL", cert_show },
	{ "revoke", OPT_REASON, 1, "cert revoke SERIAL [--reason REASON]",
	    cert_revoke },
};

/* the noun cert: its commands, its lines of ztpctl --help */
const struct ctl_noun ctl_cert = {
	cert_cmds,
	CTL_NELEM(cert_cmds),
	"  cert list [--udid UDID] [--limit N] [--all]\n"
	"                                 list the issued certificates\n"
	"  cert show SERIAL               show one (SERIAL in hex)\n"
	"  cert revoke SERIAL [--reason REASON]\n"
	"                                 revoke it and re-sign the CRL; REASON:\n"
	"                                 unspecified (default), keyCompromise,\n"
	"                                 caCompromise, affiliationChanged, superseded,\n"
	"                                 cessationOfOperation, certificateHold,\n"
	"                                 privilegeWithdrawn, aACompromise\n"
};
