/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl telemetry: the telemetry records a SIM's device sent
 * (/v1/sims/ICCID/telemetry), newest first.
 */
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ctl.h"
#include "ztp/err.h"

#define TELEMETRY_DEFAULT 100

static const char *const telemetry_head[] = { "ID", "RECEIVED", "DEVICE ID", "SIZE",
	"BODY" };

/* the body if it is text, else "hex:" and its hex */
static void
telemetry_cell(const json_t *item, size_t col, char *out, size_t cap)
{
	static const char *const cols[] = { "id", "received_at", "device_id", "size" };
	const json_t *body = json_object_get(item, "body");
	char hex[BODY_CELL_MAX];

	if (col < 4) {
		ctl_out_value(json_object_get(item, cols[col]), out, cap);
	} else if (json_is_string(body)) {
		ctl_out_value(body, out, BODY_CELL_MAX);
	} else {
		ctl_out_value(json_object_get(item, "body_hex"), hex, sizeof(hex) - 4);
		snprintf(out, cap, "hex:%s", hex);
	}
}

/* telemetry ICCID [--limit N]: the newest N records, TELEMETRY_DEFAULT without --limit */
static int
telemetry_show(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { telemetry_head, NULL, 5, telemetry_cell };
	const char *iccid = a->pos[0];
	uint64_t max = TELEMETRY_DEFAULT;
	char path[128];
	int rc;

	rc = ctl_check_iccid(iccid);
	if (rc == 0)
		rc = ctl_check_limit(a->limit, &max);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/sims/%s/telemetry", iccid);
	return ctl_req_pages(c, path, "", "telemetry", "before", max, &t);
}

static const struct ctl_cmd telemetry_cmds[] = {
	{ NULL, OPT_LIMIT, 1, "telemetry ICCID [--limit N]", telemetry_show },
};

/* the noun telemetry: its commands, its lines of ztpctl --help */
const struct ctl_noun ctl_telemetry = {
	telemetry_cmds,
	CTL_NELEM(telemetry_cmds),
	"  telemetry ICCID [--limit N]    the newest N telemetry records (default 100)\n"
};
