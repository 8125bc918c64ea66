/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl password: one-time enrolment passwords (/v1/enrolment-passwords),
 * shown once and kept by the server only as a hash.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "num.h"
#include "ztp/err.h"

#define TTL_MIN 60 /* the server's limits for password create */
#define TTL_MAX (30ULL * 86400)

/* 1 if s is what a password from the server may be: 1 to 128 of [A-Za-z0-9_-] */
static int
password_text(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 128 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/*
 * password create UDID [--ttl SECONDS] [--group G]: the server makes a
 * one-time enrolment password and shows it in this answer only: it is
 * printed once on stdout (the object with --json), and wiped here.
 */
static int
password_create(struct ctl *c, const struct ctl_args *a)
{
	const char *udid = a->pos[0], *pw;
	json_t *req = NULL, *res = NULL, *v;
	char sarg[64], exp[CELL_MAX];
	uint64_t ttl = 0;
	int rc;

	if ((rc = ctl_check_udid(udid)) != 0)
		return rc;
	if (a->ttl != NULL && num_parse_u64z(a->ttl, TTL_MIN, TTL_MAX, &ttl) != 0)
		return ctl_usage_error("invalid --ttl '%s': expected seconds from %d to %llu (30 days)",
		    ctl_san(a->ttl, sarg, sizeof(sarg)), TTL_MIN, TTL_MAX);
	if (a->group != NULL && (rc = ctl_check_group(a->group)) != 0)
		return rc;
	req = json_pack("{s:s}", "udid", udid);
	if (req == NULL ||
	    (a->ttl != NULL && json_object_set_new(req, "ttl_s", json_integer((json_int_t)ttl)) != 0) ||
	    (a->group != NULL && json_object_set_new(req, "group", json_string(a->group)) != 0)) {
		rc = ctl_nomem();
		goto out;
	}
	rc = ctl_http_call(c, "POST", "/v1/enrolment-passwords", req, &res);
	if (rc != 0)
		goto out;
	v = json_object_get(res, "password");
	if (!json_is_string(v) || !password_text(json_string_value(v))) {
		ctl_errorf("the server's answer has no usable \"password\"");
		rc = ZTP_EMALFORMED;
		goto out;
	}
	pw = json_string_value(v);
	if (c->json) {
		rc = ctl_out_json(res);
		goto out;
	}
	ctl_out_value(json_object_get(res, "expires_at"), exp, sizeof(exp));
	printf("%s\n", pw);
	fflush(stdout);
	fprintf(stderr, "ztpctl: the enrolment password of %s, usable once until %s; it is never "
			"shown again\n",
	    udid, exp);
	rc = 0;
out:
	v = json_object_get(res, "password");
	if (json_is_string(v))
		explicit_bzero((char *)json_string_value(v), json_string_length(v));
	json_decref(req);
	json_decref(res);
	return rc;
}

static const struct ctl_cmd password_cmds[] = {
	{ "create", OPT_TTL | OPT_GROUP, 1,
	    "password create UDID [--ttl SECONDS] [--group NAME]", password_create },
};

/* the noun password: its commands, its lines of ztpctl --help */
const struct ctl_noun ctl_password = {
	password_cmds,
	CTL_NELEM(password_cmds),
	"  password create UDID [--ttl SECONDS] [--group NAME]\n"
	"                                 make a one-time enrolment password (valid 60 s\n"
	"                                 to 30 days, default 1 day): printed once, only\n"
	"                                 its hash is kept\n"
};
