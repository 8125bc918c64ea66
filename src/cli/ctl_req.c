/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl's requests that print what comes back, the shapes most commands
 * have: a list in one answer or in pages, one thing named on the command
 * line, an object shown with one of its members apart.
 */
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ctl.h"
#include "ztp/err.h"

/* GET a list that comes in one answer (path) and print it (ctl_out_list). */
int
ctl_req_get_list(struct ctl *c, const char *path, const char *key, const struct ctl_table_spec *t)
{
	json_t *res = NULL;
	int rc;

	rc = ctl_http_call(c, "GET", path, NULL, &res);
	if (rc == 0)
		rc = ctl_out_list(c, res, key, t);
	json_decref(res);
	return rc;
}

/*
 * GET the pages of a list (ctl_http_list: at most max items, 0 for all) and
 * print it (ctl_out_list).
 */
int
ctl_req_pages(struct ctl *c, const char *path, const char *query, const char *key,
    const char *cursor, uint64_t max, const struct ctl_table_spec *t)
{
	json_t *res = NULL;
	int rc;

	rc = ctl_http_list(c, path, query, key, cursor, max, &res);
	if (rc == 0)
		rc = ctl_out_list(c, res, key, t);
	json_decref(res);
	return rc;
}

/*
 * One request about one thing named by a checked path segment: what is
 * printed on success is done (NULL: the object the server sent back).
 */
static int
one_request(struct ctl *c, const char *method, const char *path, const json_t *body,
    const char *done)
{
	json_t *res = NULL;
	int rc;

	rc = ctl_http_call(c, method, path, body, &res);
	if (rc == 0 && done == NULL)
		rc = ctl_out_show(c, res);
	else if (rc == 0 && c->json && res != NULL)
		rc = ctl_out_json(res);
	else if (rc == 0 && !c->json)
		printf("%s\n", done);
	json_decref(res);
	return rc;
}

/*
 * One request about the thing that a->pos[0] names, checked by check:
 * method on base/<name><suffix>. On success "<what> <name> <done>" is
 * printed, or with done NULL the object that came back (one_request).
 */
int
ctl_req_thing(struct ctl *c, const struct ctl_args *a, int (*check)(const char *),
    const char *method, const char *base, const char *suffix, const char *what,
    const char *done)
{
	char path[128], line[128];
	int rc;

	if ((rc = check(a->pos[0])) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/%s%s", base, a->pos[0], suffix);
	if (done != NULL)
		snprintf(line, sizeof(line), "%s %s %s", what, a->pos[0], done);
	return one_request(c, method, path, NULL, done != NULL ? line : NULL);
}

/*
 * GET one object and show it (ctl_out_show); without --json, its member
 * tail is taken out of the "key: value" lines first and left in *tail for
 * the caller to print after them (NULL otherwise; the caller json_decrefs it).
 */
int
ctl_req_show_tail(struct ctl *c, const char *path, const char *tail, json_t **out)
{
	json_t *res = NULL;
	int rc;

	*out = NULL;
	rc = ctl_http_call(c, "GET", path, NULL, &res);
	if (rc != 0 || c->json || res == NULL) {
		if (rc == 0)
			rc = ctl_out_show(c, res);
		goto out;
	}
	*out = json_incref(json_object_get(res, tail));
	json_object_del(res, tail);
	ctl_out_object(res);
out:
	json_decref(res);
	return rc;
}
