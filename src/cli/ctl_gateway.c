/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl gateway-batch and ztpctl gateway: gateways onboarding over MQTT
 * (docs/gateways.md, docs/admin-api.md "Gateways"). The operator's key.
 *
 * gateway-batch create prints the batch's password once, with the
 * provisioning URL, for the factory's initial configuration. gateway
 * command queues a signed command and waits (--timeout, default 30 s) for
 * the gateway's result, which it prints; exit status 1 if the gateway
 * answered an error or nothing came in time (the command stays queued).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "ztp/err.h"

#define BATCH_NAME_MAX 64
#define CONFIG_MAX 32768
#define ARGS_MAX 8192
#define WAIT_DEFAULT_S 30
#define WAIT_MAX_S 3600

static int
check_batch(const char *s)
{
	char buf[96];
	size_t n = strlen(s), i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || strchr("-._", s[i]) != NULL))
			break;
	if (n == 0 || n > BATCH_NAME_MAX || i < n)
		return ctl_usage_error("invalid batch name '%s': expected 1 to %d of A-Z a-z 0-9 - . _",
		    ctl_san(s, buf, sizeof(buf)), BATCH_NAME_MAX);
	return 0;
}

static int
print_or_json(struct ctl *c, json_t *res, const char *line)
{
	if (c->json)
		return ctl_out_json(res);
	if (line != NULL)
		printf("%s\n", line);
	else
		return ctl_out_show(c, res);
	return 0;
}

/* ---- gateway-batch ---- */

static int
batch_create(struct ctl *c, const struct ctl_args *a)
{
	json_t *req, *res = NULL;
	const char *url;
	int rc;

	if ((rc = check_batch(a->pos[0])) != 0)
		return rc;
	if ((req = json_pack("{s:s}", "name", a->pos[0])) == NULL)
		return ctl_nomem();
	if (a->owner != NULL)
		json_object_set_new(req, "owner", json_string(a->owner));
	rc = ctl_http_call(c, "POST", "/v1/gateway-batches", req, &res);
	json_decref(req);
	if (rc == 0 && c->json) {
		rc = ctl_out_json(res);
	} else if (rc == 0) {
		url = json_string_value(json_object_get(res, "provisioning_url"));
		/* the factory's initial configuration: shown once */
		printf("batch %s created; the factory's initial configuration:\n", a->pos[0]);
		if (url != NULL)
			printf("prov_url = %s\n", url);
		printf("batch = %s\n", a->pos[0]);
		printf("batch_password = %s\n",
		    json_string_value(json_object_get(res, "password")));
	}
	json_decref(res);
	return rc;
}

static const char *const batch_head[] = { "NAME", "OWNER", "GATEWAYS", "CREATED" };
static const char *const batch_cols[] = { "name", "owner", "gateways", "created_at" };

static int
batch_list(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { batch_head, batch_cols, 4, NULL };

	(void)a;
	return ctl_req_get_list(c, "/v1/gateway-batches", "batches", &t);
}

static const struct ctl_cmd batch_cmds[] = {
	{ "create", OPT_OWNER, 1, "gateway-batch create NAME [--owner O]", batch_create },
	{ "list", 0, 0, "gateway-batch list", batch_list },
};

const struct ctl_noun ctl_gateway_batch = {
	batch_cmds,
	CTL_NELEM(batch_cmds),
	"  gateway-batch create NAME [--owner O]\n"
	"                                 a batch of gateways: prints its user name and\n"
	"                                 password (once) for the factory's configuration\n"
	"  gateway-batch list             the batches, with how many gateways came\n",
};

/* ---- gateway ---- */

static int
gw_expect(struct ctl *c, const struct ctl_args *a)
{
	json_t *req, *res = NULL;
	char line[160];
	int rc;

	if ((rc = ctl_check_udid(a->pos[0])) != 0 ||
	    (a->group != NULL && (rc = ctl_check_group(a->group)) != 0))
		return rc;
	if ((req = json_pack("{s:s}", "udid", a->pos[0])) == NULL)
		return ctl_nomem();
	if (a->group != NULL)
		json_object_set_new(req, "group", json_string(a->group));
	rc = ctl_http_call(c, "POST", "/v1/gateway-expectations", req, &res);
	json_decref(req);
	snprintf(line, sizeof(line), "gateway %s expected%s%s: approved when it asks", a->pos[0],
	    a->group ? " in group " : "", a->group ? a->group : "");
	if (rc == 0)
		rc = print_or_json(c, res, line);
	json_decref(res);
	return rc;
}

static const char *const gw_head[] = { "UDID", "STATE", "GROUP", "BATCH", "FIRMWARE",
	"REQUESTED", "BROKER" };
static const char *const gw_cols[] = { "udid", "state", "group", "batch", "firmware",
	"requested_at", "broker_account" };

static int
gw_list_state(struct ctl *c, const struct ctl_args *a, const char *state)
{
	static const struct ctl_table_spec t = { gw_head, gw_cols, 7, NULL };
	char query[64] = "";
	uint64_t max = 0;
	int rc;

	if ((rc = ctl_check_list_max(a, &max)) != 0)
		return rc;
	if (state != NULL)
		snprintf(query, sizeof(query), "state=%s", state);
	return ctl_req_pages(c, "/v1/gateways", query, "gateways", "after", max, &t);
}

static int
gw_requests(struct ctl *c, const struct ctl_args *a)
{
	return gw_list_state(c, a, "pending");
}

static int
gw_list(struct ctl *c, const struct ctl_args *a)
{
	static const char *const states[] = { "pending", "approved", "bundled", "online",
		"rejected", "refused" };
	char buf[64];
	size_t i;

	if (a->state == NULL)
		return gw_list_state(c, a, NULL);
	for (i = 0; i < CTL_NELEM(states); i++)
		if (strcmp(a->state, states[i]) == 0)
			return gw_list_state(c, a, states[i]);
	return ctl_usage_error("invalid state '%s': pending, approved, bundled, online, rejected"
			       " or refused", ctl_san(a->state, buf, sizeof(buf)));
}

static int
gw_show(struct ctl *c, const struct ctl_args *a)
{
	return ctl_req_thing(c, a, ctl_check_udid, "GET", "/v1/gateways", "", NULL, NULL);
}

static int
gw_decide(struct ctl *c, const struct ctl_args *a, int approve)
{
	json_t *req, *res = NULL;
	char path[160], line[200];
	int rc;

	if ((rc = ctl_check_udid(a->pos[0])) != 0 ||
	    (a->group != NULL && (rc = ctl_check_group(a->group)) != 0) ||
	    (a->reason != NULL && strlen(a->reason) > 200 &&
		(rc = ctl_usage_error("--reason: 200 characters at most")) != 0))
		return rc;
	if ((req = json_object()) == NULL)
		return ctl_nomem();
	if (approve && a->group != NULL)
		json_object_set_new(req, "group", json_string(a->group));
	if (!approve && a->reason != NULL)
		json_object_set_new(req, "reason", json_string(a->reason));
	snprintf(path, sizeof(path), "/v1/gateways/%s/%s", a->pos[0], approve ? "approve" : "reject");
	rc = ctl_http_call(c, "POST", path, req, &res);
	json_decref(req);
	snprintf(line, sizeof(line), "gateway %s %s", a->pos[0], approve ? "approved" : "rejected");
	if (rc == 0)
		rc = print_or_json(c, res, line);
	json_decref(res);
	return rc;
}

static int
gw_approve(struct ctl *c, const struct ctl_args *a)
{
	return gw_decide(c, a, 1);
}

static int
gw_reject(struct ctl *c, const struct ctl_args *a)
{
	return gw_decide(c, a, 0);
}

/* JSON object text (an argument or a file's content), at most max bytes. */
static int
json_object_arg(const char *what, const char *text, size_t max, json_t **out)
{
	json_error_t err;

	*out = NULL;
	if (strlen(text) > max)
		return ctl_usage_error("%s: over %zu bytes", what, max);
	if ((*out = json_loads(text, JSON_REJECT_DUPLICATES, &err)) == NULL)
		return ctl_usage_error("%s: not JSON (%s)", what, err.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return ctl_usage_error("%s: not a JSON object", what);
	}
	return 0;
}

static int
gw_group_set(struct ctl *c, const struct ctl_args *a)
{
	json_t *cfg = NULL, *req, *res = NULL;
	char path[128], *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if ((rc = ctl_check_group(a->pos[0])) != 0)
		return rc;
	if (a->file != NULL) {
		if ((f = fopen(a->file, "re")) == NULL)
			return ctl_usage_error("--file %s: cannot be read", a->file);
		rc = ctl_read_bounded(f, CONFIG_MAX, &text, &len);
		fclose(f);
		if (rc != 0)
			return ctl_usage_error("--file %s: over %d bytes or unreadable", a->file,
			    CONFIG_MAX);
		rc = json_object_arg("--file", text, CONFIG_MAX, &cfg);
		free(text);
		if (rc != 0)
			return rc;
	} else if ((cfg = json_object()) == NULL) {
		return ctl_nomem();
	}
	if ((req = json_pack("{s:o, s:b}", "config", cfg, "auto_reonboard", a->auto_reonboard)) ==
	    NULL)
		return ctl_nomem();
	snprintf(path, sizeof(path), "/v1/gateway-groups/%s", a->pos[0]);
	rc = ctl_http_call(c, "PUT", path, req, &res);
	json_decref(req);
	if (rc == 0)
		rc = print_or_json(c, res, NULL);
	json_decref(res);
	return rc;
}

static int
gw_group_show(struct ctl *c, const struct ctl_args *a)
{
	return ctl_req_thing(c, a, ctl_check_group, "GET", "/v1/gateway-groups", "", NULL, NULL);
}

static void
print_result(const json_t *cmd)
{
	const char *state = json_string_value(json_object_get(cmd, "state"));
	char *r;

	if (state != NULL && strcmp(state, "failed") == 0) {
		printf("failed: %s\n", json_string_value(json_object_get(cmd, "error")));
		return;
	}
	r = json_dumps(json_object_get(cmd, "result"), JSON_INDENT(2) | JSON_SORT_KEYS);
	printf("%s\n", r != NULL ? r : "{}");
	free(r);
}

static int
gw_command(struct ctl *c, const struct ctl_args *a)
{
	json_t *args = NULL, *req, *res = NULL, *cur = NULL;
	char path[200], buf[64];
	const char *state;
	long long id, wait_s = WAIT_DEFAULT_S;
	time_t deadline;
	char *end;
	int rc;

	if ((rc = ctl_check_udid(a->pos[0])) != 0)
		return rc;
	if (strlen(a->pos[1]) == 0 || strlen(a->pos[1]) > 31)
		return ctl_usage_error("invalid command '%s'", ctl_san(a->pos[1], buf, sizeof(buf)));
	if (a->timeout != NULL) {
		wait_s = strtoll(a->timeout, &end, 10);
		if (*end != '\0' || wait_s < 0 || wait_s > WAIT_MAX_S)
			return ctl_usage_error("--timeout: 0 to %d seconds", WAIT_MAX_S);
	}
	if (a->args != NULL && (rc = json_object_arg("--args", a->args, ARGS_MAX, &args)) != 0)
		return rc;
	if ((req = json_pack("{s:s}", "name", a->pos[1])) == NULL)
		return ctl_nomem();
	if (args != NULL)
		json_object_set_new(req, "args", args);
	snprintf(path, sizeof(path), "/v1/gateways/%s/commands", a->pos[0]);
	rc = ctl_http_call(c, "POST", path, req, &res);
	json_decref(req);
	if (rc != 0)
		goto out;
	id = (long long)json_integer_value(json_object_get(res, "id"));
	if (wait_s == 0) {
		rc = c->json ? ctl_out_json(res) : (printf("command %lld queued\n", id), 0);
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/gateways/%s/commands/%lld", a->pos[0], id);
	deadline = time(NULL) + (time_t)wait_s;
	for (;;) {
		json_decref(cur);
		cur = NULL;
		if ((rc = ctl_http_call(c, "GET", path, NULL, &cur)) != 0)
			goto out;
		state = json_string_value(json_object_get(cur, "state"));
		if (state != NULL && (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0))
			break;
		if (time(NULL) >= deadline) {
			fprintf(stderr, "ztpctl: no result from %s within %llds (command %lld is %s)\n",
			    a->pos[0], wait_s, id, state != NULL ? state : "unknown");
			rc = ZTP_EBUSY;
			goto out;
		}
		usleep(200 * 1000);
	}
	if (c->json)
		rc = ctl_out_json(cur);
	else
		print_result(cur);
	if (rc == 0 && strcmp(state, "failed") == 0)
		rc = ZTP_EIO;
out:
	json_decref(cur);
	json_decref(res);
	return rc;
}

static const struct ctl_cmd gw_cmds[] = {
	{ "expect", OPT_GROUP, 1, "gateway expect UDID [--group G]", gw_expect },
	{ "requests", OPT_LIMIT | OPT_ALL, 0, "gateway requests [--limit N] [--all]", gw_requests },
	{ "list", OPT_LIMIT | OPT_ALL | OPT_STATE, 0,
	    "gateway list [--state S] [--limit N] [--all]", gw_list },
	{ "show", 0, 1, "gateway show UDID", gw_show },
	{ "approve", OPT_GROUP, 1, "gateway approve UDID [--group G]", gw_approve },
	{ "reject", OPT_REASON, 1, "gateway reject UDID [--reason TEXT]", gw_reject },
	{ "command", OPT_ARGS | OPT_TIMEOUT, 2,
	    "gateway command UDID NAME [--args JSON] [--timeout S]", gw_command },
	{ "group-set", OPT_FILE | OPT_AUTO_REONBOARD, 1,
	    "gateway group-set GROUP [--file CONFIG.json] [--auto-reonboard]", gw_group_set },
	{ "group-show", 0, 1, "gateway group-show GROUP", gw_group_show },
};

const struct ctl_noun ctl_gateway = {
	gw_cmds,
	CTL_NELEM(gw_cmds),
	"  gateway expect UDID [--group G]\n"
	"                                 pre-register a gateway: approved when it asks\n"
	"  gateway requests [--limit N] [--all]\n"
	"                                 the requests waiting for a decision\n"
	"  gateway list [--state S] [--limit N] [--all]\n"
	"                                 the gateways (S: pending, approved, bundled,\n"
	"                                 online, rejected, refused)\n"
	"  gateway show UDID              one gateway\n"
	"  gateway approve UDID [--group G]\n"
	"  gateway reject UDID [--reason TEXT]\n"
	"                                 decide on a waiting request\n"
	"  gateway command UDID NAME [--args JSON] [--timeout S]\n"
	"                                 send a signed command (status, fetch-config,\n"
	"                                 reenroll, rotate-mqtt) and print its result\n"
	"                                 (waits --timeout, default 30 s; 0: do not wait)\n"
	"  gateway group-set GROUP [--file CONFIG.json] [--auto-reonboard]\n"
	"                                 a gateway group's configuration (in bundles) and\n"
	"                                 whether a revoked gateway re-onboards unasked\n"
	"  gateway group-show GROUP       show it\n",
};
