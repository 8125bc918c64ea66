/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl config: a SIM's configurations (/v1/sims/ICCID/config), a new
 * version per change, the older ones kept for history and rollback.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "num.h"
#include "ztp/err.h"

#define CONFIG_FILE_MAX (64u * 1024) /* the server's request body limit */

/* Print a stored configuration version's summary line, or its JSON. */
static int
finish_config_change(struct ctl *c, const json_t *ver, const char *iccid, const char *what)
{
	char v[CELL_MAX], size[CELL_MAX];

	if (c->json)
		return ctl_out_json(ver);
	ctl_out_value(json_object_get(ver, "version"), v, sizeof(v));
	ctl_out_value(json_object_get(ver, "size"), size, sizeof(size));
	printf("SIM %s configuration version %s %s (%s bytes)\n", iccid, v, what, size);
	return 0;
}

/*
 * config set ICCID (--body TEXT | --file F): the size limit is the
 * server's to enforce (its 413 is shown); the file read stops at 64 KiB.
 */
static int
config_set(struct ctl *c, const struct ctl_args *a)
{
	const char *iccid = a->pos[0];
	char *text = NULL;
	size_t len = 0;
	json_t *req = NULL, *ver = NULL, *s;
	char path[128], sfile[256];
	FILE *f = NULL;
	int rc;

	rc = ctl_check_iccid(iccid);
	if (rc != 0)
		return rc;
	if ((a->body == NULL) == (a->file == NULL))
		return ctl_usage_error("config set: give exactly one of --body TEXT and --file FILE");
	if (a->file != NULL) {
		ctl_san(a->file, sfile, sizeof(sfile));
		f = strcmp(a->file, "-") == 0 ? stdin : fopen(a->file, "rb");
		if (f == NULL) {
			ctl_errorf("%s: %s", sfile, strerror(errno));
			rc = ZTP_EIO;
			goto out;
		}
		rc = ctl_read_bounded(f, CONFIG_FILE_MAX, &text, &len);
		if (rc == ZTP_ETOOBIG) {
			rc = ctl_usage_error("%s: larger than %u KiB", sfile, CONFIG_FILE_MAX >> 10);
			goto out;
		} else if (rc != 0) {
			ctl_errorf("%s: %s", sfile, ztp_strerror(rc));
			goto out;
		}
	} else {
		len = strlen(a->body);
	}
	if (memchr(a->body != NULL ? a->body : text, '\0', len) != NULL) {
		rc = ctl_usage_error("the configuration contains a NUL byte");
		goto out;
	}
	s = json_stringn(a->body != NULL ? a->body : text, len);
	if (s == NULL) {
		rc = ctl_usage_error("the configuration is not valid UTF-8");
		goto out;
	}
	req = json_pack("{s:o}", "body", s);
	if (req == NULL) {
		rc = ctl_nomem();
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/sims/%s/config", iccid);
	rc = ctl_http_call(c, "PUT", path, req, &ver);
	if (rc != 0)
		goto out;
	rc = finish_config_change(c, ver, iccid, "stored");
out:
	if (f != NULL && f != stdin)
		fclose(f);
	free(text);
	json_decref(req);
	json_decref(ver);
	return rc;
}

/* config get: the body exactly as stored; a newline is added on a tty only */
static int
config_get(struct ctl *c, const struct ctl_args *a)
{
	const char *iccid = a->pos[0];
	json_t *ver = NULL, *body;
	char path[128];
	size_t len;
	int rc;

	rc = ctl_check_iccid(iccid);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/sims/%s/config", iccid);
	rc = ctl_http_call(c, "GET", path, NULL, &ver);
	if (rc != 0)
		goto out;
	if (c->json) {
		rc = ctl_out_json(ver);
		goto out;
	}
	body = json_object_get(ver, "body");
	if (!json_is_string(body)) {
		ctl_errorf("the server's answer has no \"body\" string");
		rc = ZTP_EMALFORMED;
		goto out;
	}
	len = json_string_length(body);
	fwrite(json_string_value(body), 1, len, stdout);
	if (isatty(STDOUT_FILENO) && (len == 0 || json_string_value(body)[len - 1] != '\n'))
		putchar('\n');
	rc = 0;
out:
	json_decref(ver);
	return rc;
}

static const char *const history_head[] = { "VERSION", "CREATED", "SIZE", "SOURCE", "ETAG",
	"BODY" };

/* a version's cells: its body cut shorter than the other cells */
static void
history_cell(const json_t *item, size_t col, char *out, size_t cap)
{
	static const char *const cols[] = { "version", "created_at", "size", "source", "etag",
		"body" };

	ctl_out_value(json_object_get(item, cols[col]), out, col == 5 ? BODY_CELL_MAX : cap);
}

static int
config_history(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { history_head, NULL, 6, history_cell };
	const char *iccid = a->pos[0];
	char path[128];
	int rc;

	rc = ctl_check_iccid(iccid);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/sims/%s/config/history", iccid);
	return ctl_req_get_list(c, path, "versions", &t);
}

/* config rollback ICCID VERSION: a new version with VERSION's body */
static int
config_rollback(struct ctl *c, const struct ctl_args *a)
{
	const char *iccid = a->pos[0];
	json_t *req = NULL, *ver = NULL;
	char path[128], what[64], sv[64];
	uint64_t v;
	int rc;

	rc = ctl_check_iccid(iccid);
	if (rc != 0)
		return rc;
	if (num_parse_u64z(a->pos[1], 1, INT64_MAX, &v) != 0)
		return ctl_usage_error("invalid VERSION '%s': expected a number from 1",
		    ctl_san(a->pos[1], sv, sizeof(sv)));
	req = json_pack("{s:I}", "version", (json_int_t)v);
	if (req == NULL) {
		rc = ctl_nomem();
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/sims/%s/config/rollback", iccid);
	rc = ctl_http_call(c, "POST", path, req, &ver);
	if (rc != 0)
		goto out;
	snprintf(what, sizeof(what), "stored with version %llu's body", (unsigned long long)v);
	rc = finish_config_change(c, ver, iccid, what);
out:
	json_decref(req);
	json_decref(ver);
	return rc;
}

static const struct ctl_cmd config_cmds[] = {
	{ "set", OPT_BODY | OPT_FILE, 1,
	    "config set ICCID (--body TEXT | --file FILE)", config_set },
	{ "get", 0, 1, "config get ICCID", config_get },
	{ "history", 0, 1, "config history ICCID", config_history },
	{ "rollback", 0, 2, "config rollback ICCID VERSION", config_rollback },
};

/* the noun config: its commands, its lines of ztpctl --help */
const struct ctl_noun ctl_config = {
	config_cmds,
	CTL_NELEM(config_cmds),
	"  config set ICCID --body TEXT   store a new configuration version (the server\n"
	"  config set ICCID --file FILE   takes at most 255 bytes); FILE '-' is stdin\n"
	"  config get ICCID               print the current configuration's body\n"
	"  config history ICCID           list the configuration versions, newest first\n"
	"  config rollback ICCID VERSION  store a new version with VERSION's body\n"
};
