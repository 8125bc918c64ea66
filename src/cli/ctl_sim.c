/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl sim: the SIMs and their PSKs (/v1/sims), one at a time or a SIM
 * maker's batch file (sim import, parsed by simcsv.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "hex.h"
#include "simcsv.h"
#include "ztp/err.h"
#include "ztp/iccid.h"

#define PSK_MIN_BYTES 16
#define PSK_MAX_BYTES 64
#define DEVID_MAX_BYTES 16 /* a Device ID, in hex on the command line */

/* one row as JSON at most: {"iccid":"<20>","psk":"<128>","group":"<63>"}, */
#define SIM_ROW_JSON_MAX                                                                  \
	(sizeof("{\"iccid\":\"\",\"psk\":\"\",\"group\":\"\"},") - 1 + ICCID_MAX_DIGITS + \
	    2 * SIMCSV_PSK_MAX + SIMCSV_GROUP_MAX)
_Static_assert(sizeof("{\"rows\":[]}") + CTL_IMPORT_BATCH * SIM_ROW_JSON_MAX <=
	CTL_IMPORT_BODY_MAX, "a full batch fits the server's limit");
_Static_assert(CTL_IMPORT_LINE_MAX >= SIMCSV_LINE_MAX, "a SIM file's longest line fits");

/* Print "SIM <iccid> <what>", or with --json the SIM that came back. */
static int
finish_sim_change(struct ctl *c, const json_t *sim, const char *iccid, const char *what)
{
	if (c->json)
		return sim != NULL ? ctl_out_json(sim) : 0;
	printf("SIM %s %s\n", iccid, what);
	return 0;
}

/*
 * sim add ICCID --derived [--device-id HEX]: a SIM of a derived group,
 * pre-registered with no PSK; the server finds its group (the derived one
 * whose prefix the ICCID has) or refuses it.
 */
static int
sim_add_derived(struct ctl *c, const struct ctl_args *a)
{
	const char *iccid = a->pos[0], *group;
	json_t *req = NULL, *sim = NULL;
	size_t dlen;
	char buf[80];
	int rc;

	if (a->psk != NULL || a->group != NULL)
		return ctl_usage_error("sim add: --derived takes neither --psk nor --group (the key and "
				   "the group are those of the derived group its ICCID falls under)");
	if (a->device_id != NULL) {
		dlen = strlen(a->device_id);
		if (!hex_valid(a->device_id, dlen) || dlen > 2 * DEVID_MAX_BYTES)
			return ctl_usage_error("invalid --device-id '%s': expected 1 to %d bytes in hex",
			    ctl_san(a->device_id, buf, sizeof(buf)), DEVID_MAX_BYTES);
	}
	req = json_pack("{s:s, s:b}", "iccid", iccid, "derived", 1);
	if (req == NULL || (a->device_id != NULL &&
	    json_object_set_new(req, "device_id", json_string(a->device_id)) != 0)) {
		rc = ctl_nomem();
		goto out;
	}
	rc = ctl_http_call(c, "POST", "/v1/sims", req, &sim);
	if (rc != 0)
		goto out;
	if (c->json) {
		rc = sim != NULL ? ctl_out_json(sim) : 0;
		goto out;
	}
	group = json_string_value(json_object_get(sim, "group"));
	printf("SIM %s pre-registered in derived group %s (no PSK stored: its key is derived)\n",
	    iccid, ctl_san(group ? group : "?", buf, sizeof(buf)));
out:
	json_decref(req);
	json_decref(sim);
	return rc;
}

/*
 * sim add ICCID --psk HEX [--group G], or --derived (sim_add_derived):
 * the PSK is checked here, 16 to 64 bytes in hex, and never printed.
 */
static int
sim_add(struct ctl *c, const struct ctl_args *a)
{
	const char *iccid = a->pos[0];
	json_t *req = NULL, *sim = NULL;
	char path[64];
	size_t plen;
	int rc;

	rc = ctl_check_iccid(iccid);
	if (rc != 0)
		return rc;
	if (a->derived)
		return sim_add_derived(c, a);
	if (a->device_id != NULL)
		return ctl_usage_error("sim add: --device-id goes with --derived");
	if (a->psk == NULL)
		return ctl_usage_error("sim add: --psk HEX (or --derived) is required");
	plen = strlen(a->psk);
	if (!hex_valid(a->psk, plen) || plen / 2 < PSK_MIN_BYTES || plen / 2 > PSK_MAX_BYTES)
		return ctl_usage_error("invalid --psk: expected %d to %d bytes in hex "
		    "(%d to %d hex digits)", PSK_MIN_BYTES, PSK_MAX_BYTES,
		    2 * PSK_MIN_BYTES, 2 * PSK_MAX_BYTES);
	if (a->group != NULL) {
		rc = ctl_check_group(a->group);
		if (rc != 0)
			return rc;
	}
	req = json_pack("{s:s, s:s}", "iccid", iccid, "psk", a->psk);
	if (req == NULL || (a->group != NULL &&
	    json_object_set_new(req, "group", json_string(a->group)) != 0)) {
		rc = ctl_nomem();
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/sims");
	rc = ctl_http_call(c, "POST", path, req, &sim);
	if (rc != 0)
		goto out;
	rc = finish_sim_change(c, sim, iccid, "added");
out:
	json_decref(req);
	json_decref(sim);
	return rc;
}

static const char *const sim_head[] = { "ICCID", "BLOCKED", "DEVICE ID", "GEN", "CONFIG",
	"UPDATED" };
static const char *const sim_cols[] = { "iccid", "blocked", "device_id", "psk_generation",
	"config_version", "updated_at" };

/* the cells of a SIM: a key derived from its group's master key shows in GEN */
static void
sim_cell(const json_t *item, size_t col, char *out, size_t cap)
{
	ctl_out_value(json_object_get(item, sim_cols[col]), out, cap);
	if (col == 3 && json_is_true(json_object_get(item, "derived")))
		snprintf(out + strlen(out), cap - strlen(out), " (derived)");
}

static const struct ctl_table_spec sim_table = { sim_head, sim_cols, 6, sim_cell };

static int
sim_list(struct ctl *c, const struct ctl_args *a)
{
	uint64_t max = 0;
	int rc;

	if ((rc = ctl_check_list_max(a, &max)) != 0)
		return rc;
	return ctl_req_pages(c, "/v1/sims", "", "sims", "after", max, &sim_table);
}

/*
 * The commands that send one request about one SIM and get a SIM back
 * (or nothing, for delete): what differs is in this table.
 */
static const struct {
	const char *name;
	const char *method;
	const char *suffix;
	const char *done; /* NULL: show the SIM */
} sim_actions[] = {
	{ "show", "GET", "", NULL },
	{ "block", "POST", "/block", "blocked" },
	{ "unblock", "POST", "/unblock", "unblocked" },
	{ "rebind", "POST", "/rebind", "rebound: the next Device ID seen will be bound" },
	{ "delete", "DELETE", "", "deleted" },
	{ "rotate", "POST", "/rotate", "rotation asked: the next key is offered on its next request" },
};

/* One of sim_actions about the SIM a->pos[0]: action is its row. */
static int
sim_action(struct ctl *c, const struct ctl_args *a, size_t action)
{
	const char *iccid = a->pos[0];
	json_t *sim = NULL;
	char path[128];
	int rc;

	rc = ctl_check_iccid(iccid);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/sims/%s%s", iccid, sim_actions[action].suffix);
	rc = ctl_http_call(c, sim_actions[action].method, path, NULL, &sim);
	if (rc != 0)
		goto out;
	if (sim_actions[action].done != NULL)
		rc = finish_sim_change(c, sim, iccid, sim_actions[action].done);
	else
		rc = ctl_out_show(c, sim);
out:
	json_decref(sim);
	return rc;
}

static int
sim_show(struct ctl *c, const struct ctl_args *a)
{
	return sim_action(c, a, 0);
}

static int
sim_block(struct ctl *c, const struct ctl_args *a)
{
	return sim_action(c, a, 1);
}

static int
sim_unblock(struct ctl *c, const struct ctl_args *a)
{
	return sim_action(c, a, 2);
}

static int
sim_rebind(struct ctl *c, const struct ctl_args *a)
{
	return sim_action(c, a, 3);
}

static int
sim_delete(struct ctl *c, const struct ctl_args *a)
{
	return sim_action(c, a, 4);
}

static int
sim_rotate(struct ctl *c, const struct ctl_args *a)
{
	return sim_action(c, a, 5);
}

/*
 * Append a parsed row to the batch. Its strings are digits, hex and
 * [A-Za-z0-9_.-] (the parser saw to it): nothing to escape, and
 * SIM_ROW_JSON_MAX has room for the longest.
 */
static void
sim_import_row(struct ctl_import *im, const struct simcsv_row *row, uint64_t line)
{
	ctl_import_row_start(im);
	ctl_import_field(im, "iccid", row->iccid, strlen(row->iccid));
	ctl_import_field(im, "psk", row->psk_hex, 2 * row->psk_len);
	if (row->group[0] != '\0')
		ctl_import_field(im, "group", row->group, strlen(row->group));
	ctl_import_row_end(im, line);
}

/* A line of a SIM maker's batch file (simcsv.h). */
static int
sim_import_line(struct ctl_import *im, const char *line, size_t len, uint64_t lineno,
    const char **why)
{
	struct simcsv_row row;
	enum simcsv_reason r;
	int rc;

	rc = simcsv_parse(line, len, lineno == 1, &row, &r);
	if (rc == SIMCSV_SKIP)
		return CTL_IMPORT_SKIP;
	if (rc != 0) {
		*why = simcsv_reason(r);
		return rc;
	}
	sim_import_row(im, &row, lineno);
	explicit_bzero(&row, sizeof(row));
	return 0;
}

static const struct ctl_import_kind sim_import_kind = {
	"/v1/sims/import", "{\"rows\":[", SIM_ROW_JSON_MAX, sim_import_line,
};

/* sim import FILE: ctl_import_run with the kind of a SIM maker's file */
static int
sim_import(struct ctl *c, const struct ctl_args *a)
{
	return ctl_import_run(c, a->pos[0], &sim_import_kind);
}

static const struct ctl_cmd sim_cmds[] = {
	{ "add", OPT_PSK | OPT_GROUP | OPT_DERIVED | OPT_DEVICE_ID, 1,
	    "sim add ICCID (--psk HEX [--group NAME] | --derived [--device-id HEX])", sim_add },
	{ "import", 0, 1, "sim import FILE", sim_import },
	{ "list", OPT_LIMIT | OPT_ALL, 0, "sim list [--limit N] [--all]", sim_list },
	{ "show", 0, 1, "sim show ICCID", sim_show },
	{ "block", 0, 1, "sim block ICCID", sim_block },
	{ "unblock", 0, 1, "sim unblock ICCID", sim_unblock },
	{ "rebind", 0, 1, "sim rebind ICCID", sim_rebind },
	{ "delete", 0, 1, "sim delete ICCID", sim_delete },
	{ "rotate", 0, 1, "sim rotate ICCID", sim_rotate },
};

/* the noun sim: its commands, its lines of ztpctl --help */
const struct ctl_noun ctl_sim = {
	sim_cmds,
	CTL_NELEM(sim_cmds),
	"  sim add ICCID --psk HEX [--group NAME]\n"
	"                                 register a SIM and its PSK (16..64 bytes in hex)\n"
	"  sim add ICCID --derived [--device-id HEX]\n"
	"                                 pre-register a SIM of the derived group whose\n"
	"                                 prefix its ICCID has: no PSK is stored (its key\n"
	"                                 stays derived), and it can be blocked, bound\n"
	"                                 (--device-id: 1..16 bytes in hex) or configured\n"
	"                                 before its first handshake\n"
	"  sim import FILE                import a SIM maker's batch file ('-' is stdin):\n"
	"                                 lines iccid,psk_hex[,group], header optional;\n"
	"                                 idempotent; prints added, unchanged and every\n"
	"                                 refused line with its number and reason\n"
	"  sim list [--limit N] [--all]   list the SIMs (all of them, or the first N)\n"
	"  sim show ICCID                 show one SIM\n"
	"  sim block ICCID                refuse the SIM's requests\n"
	"  sim unblock ICCID              accept the SIM's requests again\n"
	"  sim rebind ICCID               forget the bound Device ID: the next one seen\n"
	"                                 is bound\n"
	"  sim delete ICCID               delete the SIM with its configurations,\n"
	"                                 telemetry and device record\n"
	"  sim rotate ICCID               offer the SIM its next key on its next request\n"
	"                                 (docs/psk-rotation.md)\n"
};
