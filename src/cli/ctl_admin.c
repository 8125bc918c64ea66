/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl's admin file: {"url", "key_id", "secret", "ca"}, one API key of
 * ztpd's admin API and the CA that its server certificate is checked
 * against. The file holds the secret: its contents are never printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "ztp/err.h"

#define DEFAULT_ADMIN_FILE "./ztp-data/admin.json"
#define ADMIN_FILE_MAX (64u * 1024) /* the admin file is a few hundred bytes */

/* Free the admin file's strings (the secret wiped first) and zero *a. */
void
ctl_admin_free(struct ctl_admin *a)
{
	free(a->url);
	free(a->key_id);
	ctl_free_secret(a->secret);
	free(a->ca);
	memset(a, 0, sizeof(*a));
}

/* A copy of the non-empty string member key of o, or NULL. */
static char *
admin_field(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL || *s == '\0')
		return NULL;
	return strdup(s);
}

/*
 * Load the admin file: --admin, else $ZTP_ADMIN, else ./ztp-data/admin.json.
 * A relative "ca" is taken relative to the admin file's directory. Errors
 * are printed; the file's contents never are (it holds the secret).
 */
int
ctl_admin_load(struct ctl *c)
{
	const char *path = c->admin_path;
	char *raw = NULL, *ca = NULL;
	size_t rawlen = 0, n;
	json_t *root = NULL;
	json_error_t jerr;
	FILE *f = NULL;
	char spath[512];
	const char *missing = NULL;
	int rc;

	if (path == NULL) {
		path = getenv("ZTP_ADMIN");
		if (path == NULL || *path == '\0')
			path = DEFAULT_ADMIN_FILE;
	}
	ctl_san(path, spath, sizeof(spath));
	f = fopen(path, "rb");
	if (f == NULL) {
		ctl_errorf("cannot open the admin file %s: %s (use --admin FILE or set ZTP_ADMIN)",
		    spath, strerror(errno));
		rc = ZTP_EIO;
		goto out;
	}
	rc = ctl_read_bounded(f, ADMIN_FILE_MAX, &raw, &rawlen);
	if (rc != 0) {
		ctl_errorf("cannot read the admin file %s: %s", spath, ztp_strerror(rc));
		goto out;
	}
	/* jansson's message may quote the text, and the text holds the secret */
	root = json_loadb(raw, rawlen, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		ctl_errorf("the admin file %s is not a JSON object (line %d, column %d)", spath,
		    root == NULL ? jerr.line : 1, root == NULL ? jerr.column : 1);
		rc = ZTP_EMALFORMED;
		goto out;
	}
	c->admin.url = admin_field(root, "url");
	c->admin.key_id = admin_field(root, "key_id");
	c->admin.secret = admin_field(root, "secret");
	ca = admin_field(root, "ca");
	if (c->admin.url == NULL)
		missing = "url";
	else if (c->admin.key_id == NULL)
		missing = "key_id";
	else if (c->admin.secret == NULL)
		missing = "secret";
	else if (ca == NULL)
		missing = "ca";
	if (missing != NULL) {
		ctl_errorf("the admin file %s has no string \"%s\"", spath, missing);
		rc = ZTP_EMALFORMED;
		goto out;
	}
	if (strncasecmp(c->admin.url, "https://", 8) != 0) {
		char surl[256];
		ctl_errorf("the admin file's url %s is not https://", ctl_san(c->admin.url, surl,
		    sizeof(surl)));
		rc = ZTP_EMALFORMED;
		goto out;
	}
	n = strlen(c->admin.url);
	while (n > 8 && c->admin.url[n - 1] == '/')
		c->admin.url[--n] = '\0';
	if (ca[0] != '/' && strchr(path, '/') != NULL) {
		size_t dirlen = (size_t)(strrchr(path, '/') - path);
		size_t need = dirlen + 1 + strlen(ca) + 1;
		c->admin.ca = malloc(need);
		if (c->admin.ca == NULL) {
			rc = ctl_nomem();
			goto out;
		}
		snprintf(c->admin.ca, need, "%.*s/%s", (int)dirlen, path, ca);
	} else {
		c->admin.ca = ca;
		ca = NULL;
	}
	rc = 0;
out:
	if (rc != 0)
		ctl_admin_free(&c->admin);
	free(ca);
	json_decref(root);
	if (raw != NULL) {
		explicit_bzero(raw, rawlen);
		free(raw);
	}
	if (f != NULL)
		fclose(f);
	return rc;
}
