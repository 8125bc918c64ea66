/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl owner and ztpctl apikey: the owners (tenants, /v1/owners) and the
 * API keys (/v1/apikeys) that act for all owners or for one
 * (docs/admin-api.md "Owners and API keys"). Both take an all-owners key.
 *
 * apikey create shows the new key's secret once, as the server does: on
 * stdout, or with --save FILE only in FILE, a new admin file (0600, made
 * before the request so that no other file can take its place) with the
 * url and CA of the admin file in use, for ztpctl --admin FILE.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "ztp/err.h"

#define NAME_MAX_LEN 64  /* an owner's or a key's name, as the server's */
#define KEY_ID_MAX_LEN 31 /* as the server's token key ids */

/* 1 if s is 1..max of A-Z a-z 0-9 and the characters of extra */
static int
word_valid(const char *s, size_t max, const char *extra)
{
	size_t len = strlen(s), i;

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || strchr(extra, s[i]) != NULL))
			return 0;
	return 1;
}

static int
check_owner(const char *s)
{
	char buf[96];

	if (!word_valid(s, NAME_MAX_LEN, "-._"))
		return ctl_usage_error("invalid owner name '%s': expected 1 to %d of A-Z a-z 0-9 - . _",
		    ctl_san(s, buf, sizeof(buf)), NAME_MAX_LEN);
	return 0;
}

static int
check_key_name(const char *s)
{
	char buf[96];

	if (!word_valid(s, NAME_MAX_LEN, "-._"))
		return ctl_usage_error("invalid key name '%s': expected 1 to %d of A-Z a-z 0-9 - . _",
		    ctl_san(s, buf, sizeof(buf)), NAME_MAX_LEN);
	return 0;
}

static int
check_key_id(const char *s)
{
	char buf[96];

	if (!word_valid(s, KEY_ID_MAX_LEN, "-_"))
		return ctl_usage_error("invalid key id '%s': expected 1 to %d of A-Z a-z 0-9 - _ "
				       "(as apikey list shows it)",
		    ctl_san(s, buf, sizeof(buf)), KEY_ID_MAX_LEN);
	return 0;
}

/* ---- owner ---- */

static int
owner_create(struct ctl *c, const struct ctl_args *a)
{
	json_t *req = NULL, *res = NULL;
	int rc;

	if ((rc = check_owner(a->pos[0])) != 0)
		return rc;
	if ((req = json_pack("{s:s}", "name", a->pos[0])) == NULL)
		return ctl_nomem();
	rc = ctl_http_call(c, "POST", "/v1/owners", req, &res);
	if (rc == 0 && c->json)
		rc = ctl_out_json(res);
	else if (rc == 0)
		printf("owner %s created\n", a->pos[0]);
	json_decref(req);
	json_decref(res);
	return rc;
}

static const char *const owner_head[] = { "NAME", "API KEYS", "PROFILES", "MODULES", "CREATED" };
static const char *const owner_cols[] = { "name", "api_keys", "profiles", "modules",
	"created_at" };

static int
owner_list(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { owner_head, owner_cols, 5, NULL };
	uint64_t max = 0;
	int rc;

	if ((rc = ctl_check_list_max(a, &max)) != 0)
		return rc;
	return ctl_req_pages(c, "/v1/owners", "", "owners", "after", max, &t);
}

static int
owner_show(struct ctl *c, const struct ctl_args *a)
{
	return ctl_req_thing(c, a, check_owner, "GET", "/v1/owners", "", NULL, NULL);
}

static const struct ctl_cmd owner_cmds[] = {
	{ "create", 0, 1, "owner create NAME", owner_create },
	{ "list", OPT_LIMIT | OPT_ALL, 0, "owner list [--limit N] [--all]", owner_list },
	{ "show", 0, 1, "owner show NAME", owner_show },
};

/* the noun owner: its commands, its lines of ztpctl --help */
const struct ctl_noun ctl_owner = {
	owner_cmds,
	CTL_NELEM(owner_cmds),
	"  owner create NAME              create an owner (a tenant: its API keys see and\n"
	"                                 change its profiles, modules and events only);\n"
	"                                 NAME: 1 to 64 of A-Z a-z 0-9 - . _\n"
	"  owner list [--limit N] [--all] list the owners, with their keys in force,\n"
	"                                 profiles and modules\n"
	"  owner show NAME                show one owner\n"
};

/* ---- apikey ---- */

/*
 * Write the admin file of a new key to fd (made by apikey_create, 0600):
 * the url and CA of the admin file in use (the CA as an absolute path),
 * the new key's id and secret. Closes fd.
 */
static int
write_key_file(struct ctl *c, int fd, const char *key_id, const char *secret)
{
	char ca[PATH_MAX], *text = NULL;
	json_t *obj = NULL;
	size_t len, off = 0;
	ssize_t n;
	int rc = 0;

	if (realpath(c->admin.ca, ca) == NULL)
		snprintf(ca, sizeof(ca), "%s", c->admin.ca);
	obj = json_pack("{s:s, s:s, s:s, s:s}", "url", c->admin.url, "key_id", key_id, "secret",
	    secret, "ca", ca);
	if (obj == NULL || (text = json_dumps(obj, JSON_INDENT(2))) == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	len = strlen(text);
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = ZTP_EIO;
			goto out;
		}
		off += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) != 0)
		rc = ZTP_EIO;
out:
	if (close(fd) != 0 && rc == 0)
		rc = ZTP_EIO;
	if (text != NULL) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	json_decref(obj);
	return rc;
}

/* Wipe the "secret" member of o (best effort: the library's copy). */
static void
wipe_secret(json_t *o)
{
	json_t *s = json_object_get(o, "secret");

	if (json_is_string(s))
		explicit_bzero((char *)json_string_value(s), json_string_length(s));
}

/*
 * apikey create NAME (--owner O | --all-owners) [--save FILE]: the secret
 * is on stdout, or only in FILE with --save.
 */
static int
apikey_create(struct ctl *c, const struct ctl_args *a)
{
	const char *name = a->pos[0], *key_id, *secret;
	json_t *req = NULL, *res = NULL;
	char spath[256], sid[64];
	int rc, fd = -1;

	if ((rc = check_key_name(name)) != 0)
		return rc;
	if ((a->owner != NULL) == (a->all_owners != 0))
		return ctl_usage_error("apikey create takes --owner OWNER or --all-owners");
	if (a->owner != NULL && (rc = check_owner(a->owner)) != 0)
		return rc;
	req = a->owner != NULL ? json_pack("{s:s, s:s}", "name", name, "owner", a->owner) :
				 json_pack("{s:s, s:b}", "name", name, "all_owners", 1);
	if (req == NULL)
		return ctl_nomem();
	if (a->save != NULL) {
		ctl_san(a->save, spath, sizeof(spath));
		fd = open(a->save, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 || fchmod(fd, 0600) != 0) {
			ctl_errorf("cannot create %s: %s", spath, strerror(errno));
			rc = ZTP_EIO;
			goto out;
		}
	}
	if ((rc = ctl_http_call(c, "POST", "/v1/apikeys", req, &res)) != 0)
		goto out;
	key_id = json_string_value(json_object_get(res, "key_id"));
	secret = json_string_value(json_object_get(res, "secret"));
	if (key_id == NULL || secret == NULL) {
		ctl_errorf("the key was created, but the server's answer has no key id or secret");
		rc = ZTP_EMALFORMED;
		goto out;
	}
	ctl_san(key_id, sid, sizeof(sid));
	if (fd >= 0) {
		rc = write_key_file(c, fd, key_id, secret);
		fd = -1;
		if (rc != 0) {
			/* the server will never show it again: this is its last chance */
			ctl_errorf("API key %s was created, but %s could not be written (%s): its "
				   "secret is on stdout, once",
			    sid, spath, ztp_strerror(rc));
			unlink(a->save);
			printf("key_id  %s\nsecret  %s\n", key_id, secret);
			goto out;
		}
	}
	if (c->json) {
		if (a->save != NULL) {
			wipe_secret(res);
			json_object_del(res, "secret");
			json_object_set_new(res, "admin_file", json_string(a->save));
		}
		rc = ctl_out_json(res);
	} else if (a->save != NULL) {
		printf("API key %s created; its admin file is %s (mode 0600): use it with\n"
		       "  ztpctl --admin %s COMMAND...\n",
		    sid, spath, spath);
	} else {
		printf("key_id  %s\nsecret  %s\n", key_id, secret);
		fflush(stdout);
		fprintf(stderr,
		    "ztpctl: API key %s created; its secret (on stdout) is never shown again.\n"
		    "ztpctl: to use it, write {\"url\", \"key_id\", \"secret\", \"ca\"} as in your "
		    "admin file\nztpctl: into a new file (mode 0600) and run ztpctl --admin FILE "
		    "(or set ZTP_ADMIN=FILE);\nztpctl: apikey create --save FILE does that for you\n",
		    sid);
	}
out:
	if (fd >= 0) {
		/* the request failed: the reserved file is empty, remove it */
		close(fd);
		unlink(a->save);
	}
	wipe_secret(res);
	json_decref(req);
	json_decref(res);
	return rc;
}

static const char *const key_head[] = { "KEY ID", "NAME", "OWNER", "CREATED", "REVOKED" };

/* an all-owners key shows "(all owners)", a key in force "-" as revoked */
static void
key_cell(const json_t *item, size_t col, char *out, size_t cap)
{
	static const char *const cols[] = { "key_id", "name", "owner", "created_at",
		"revoked_at" };
	const json_t *v = json_object_get(item, cols[col]);

	if (col == 2 && json_is_true(json_object_get(item, "all_owners")))
		snprintf(out, cap, "(all owners)");
	else
		ctl_out_value(v, out, cap);
}

static int
apikey_list(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { key_head, NULL, 5, key_cell };
	uint64_t max = 0;
	int rc;

	if ((rc = ctl_check_list_max(a, &max)) != 0)
		return rc;
	return ctl_req_pages(c, "/v1/apikeys", "", "apikeys", "after", max, &t);
}

static int
apikey_revoke(struct ctl *c, const struct ctl_args *a)
{
	return ctl_req_thing(c, a, check_key_id, "DELETE", "/v1/apikeys", "", "API key",
	    "revoked");
}

static const struct ctl_cmd apikey_cmds[] = {
	{ "create", OPT_OWNER | OPT_ALL_OWNERS | OPT_SAVE, 1,
	    "apikey create NAME (--owner OWNER | --all-owners) [--save FILE]", apikey_create },
	{ "list", OPT_LIMIT | OPT_ALL, 0, "apikey list [--limit N] [--all]", apikey_list },
	{ "revoke", 0, 1, "apikey revoke KEYID", apikey_revoke },
};

/* the noun apikey: its commands, its lines of ztpctl --help */
const struct ctl_noun ctl_apikey = {
	apikey_cmds,
	CTL_NELEM(apikey_cmds),
	"  apikey create NAME (--owner OWNER | --all-owners) [--save FILE]\n"
	"                                 create an API key that acts for one owner, or\n"
	"                                 for all (the operator's: owners, keys, SIMs,\n"
	"                                 groups, certificates...). Its secret is shown\n"
	"                                 once: printed, or with --save written with the\n"
	"                                 key id, url and CA into FILE (a new admin file,\n"
	"                                 mode 0600) for ztpctl --admin FILE\n"
	"  apikey list [--limit N] [--all]\n"
	"                                 list the API keys, revoked ones too (never a\n"
	"                                 secret)\n"
	"  apikey revoke KEYID            revoke a key: it and its tokens are refused from\n"
	"                                 the next request on (the last all-owners key\n"
	"                                 cannot be revoked)\n"
};
