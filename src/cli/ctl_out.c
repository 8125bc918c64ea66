/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl's output on stdout: tables with aligned columns and "key: value"
 * lines by default, the server's JSON with --json. Whatever the server or
 * the user controls is sanitized and truncated before it is printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "log.h"
#include "ztp/err.h"

/*
 * An array of strings as "a,b,c" (sanitized) into out; -1 if an item is
 * not a string.
 */
static int
strings_join(const json_t *arr, char *out, size_t cap)
{
	char item[CELL_MAX];
	const json_t *v;
	size_t i, n = 0;
	int w;

	json_array_foreach(arr, i, v)
		if (!json_is_string(v))
			return -1;
	snprintf(out, cap, "-");
	json_array_foreach(arr, i, v) {
		log_sanitize(json_string_value(v), json_string_length(v), item, sizeof(item));
		w = snprintf(out + n, cap - n, "%s%s", i > 0 ? "," : "", item);
		if (w < 0 || (size_t)w >= cap - n)
			break; /* truncated */
		n += (size_t)w;
	}
	return 0;
}

/*
 * Format a JSON scalar for a table cell or a "key: value" line into out
 * (cap bytes): strings sanitized and truncated, null or missing as "-",
 * booleans as yes/no.
 */
void
ctl_out_value(const json_t *v, char *out, size_t cap)
{
	char *s;

	if (v == NULL || json_is_null(v)) {
		snprintf(out, cap, "-");
	} else if (json_is_string(v)) {
		log_sanitize(json_string_value(v), json_string_length(v), out, cap);
	} else if (json_is_integer(v)) {
		snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(out, cap, "%s", json_is_true(v) ? "yes" : "no");
	} else if (json_is_real(v)) {
		snprintf(out, cap, "%g", json_real_value(v));
	} else if (json_is_array(v) && strings_join(v, out, cap) == 0) {
		/* joined with commas */
	} else {
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		log_sanitize(s != NULL ? s : "?", s != NULL ? strlen(s) : 1, out, cap);
		free(s);
	}
}

#define TABLE_MAX_COLS 7

/* rows of sanitized cells, printed with aligned columns */
struct table {
	size_t ncols;
	const char *const *head;
	char **cells; /* nrows * ncols, owned */
	size_t nrows;
	size_t cap;
	size_t width[TABLE_MAX_COLS];
};

/* An empty table whose ncols columns are as wide as their heads so far. */
static void
table_init(struct table *t, const char *const *head, size_t ncols)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->head = head;
	t->ncols = ncols;
	for (i = 0; i < ncols; i++)
		t->width[i] = strlen(head[i]);
}

/* Append a row of ncols strings (copied). Returns 0 or ZTP_ENOMEM. */
static int
table_add(struct table *t, char cells[][DETAIL_MAX])
{
	size_t i, n;
	char **p;

	if (t->nrows == t->cap) {
		n = t->cap != 0 ? t->cap * 2 : 64;
		p = realloc(t->cells, n * t->ncols * sizeof(*p));
		if (p == NULL)
			return ZTP_ENOMEM;
		t->cells = p;
		t->cap = n;
	}
	for (i = 0; i < t->ncols; i++) {
		p = &t->cells[t->nrows * t->ncols + i];
		*p = strdup(cells[i]);
		if (*p == NULL) {
			while (i-- > 0)
				free(t->cells[t->nrows * t->ncols + i]);
			return ZTP_ENOMEM;
		}
		if (strlen(*p) > t->width[i])
			t->width[i] = strlen(*p);
	}
	t->nrows++;
	return 0;
}

static void
table_print_row(const struct table *t, const char *const *row)
{
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		if (i + 1 < t->ncols)
			printf("%-*s  ", (int)t->width[i], row[i]);
		else
			printf("%s\n", row[i]);
	}
}

static void
table_print(const struct table *t)
{
	size_t r;

	table_print_row(t, t->head);
	for (r = 0; r < t->nrows; r++)
		table_print_row(t, (const char *const *)&t->cells[r * t->ncols]);
}

static void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/*
 * Print the array arr as the table t: one row per element, the cells from
 * t's cols (member names), or from its cell function when it has one.
 */
int
ctl_out_table(const json_t *arr, const struct ctl_table_spec *t)
{
	char cells[TABLE_MAX_COLS][DETAIL_MAX];
	struct table tab;
	const json_t *item;
	size_t i, k;
	int rc;

	table_init(&tab, t->head, t->ncols);
	json_array_foreach(arr, i, item) {
		for (k = 0; k < t->ncols; k++) {
			size_t cap = k + 1 < t->ncols ? CELL_MAX : DETAIL_MAX;
			if (t->cell != NULL)
				t->cell(item, k, cells[k], cap);
			else
				ctl_out_value(json_object_get(item, t->cols[k]), cells[k], cap);
		}
		rc = table_add(&tab, cells);
		if (rc != 0) {
			ctl_errorf("%s", ztp_strerror(rc));
			goto out;
		}
	}
	table_print(&tab);
	rc = 0;
out:
	table_free(&tab);
	return rc;
}

/* The server's JSON for scripts: one pretty-printed document. */
int
ctl_out_json(const json_t *v)
{
	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY) != 0)
		return ZTP_EIO;
	putchar('\n');
	return 0;
}

/* "key: value" lines of every member of a SIM (or any flat object). */
void
ctl_out_object(const json_t *o)
{
	char val[DETAIL_MAX];
	const char *key;
	const json_t *v;
	size_t w = 0;

	json_object_foreach((json_t *)o, key, v)
		if (strlen(key) > w)
			w = strlen(key);
	json_object_foreach((json_t *)o, key, v) {
		char skey[CELL_MAX];
		ctl_out_value(v, val, sizeof(val));
		printf("%s:%*s %s\n", ctl_san(key, skey, sizeof(skey)), (int)(w - strlen(key)), "",
		    val);
	}
}

/*
 * Print a list the server sent back: with --json the whole answer res,
 * else the array under key as a table. An answer without it is an error.
 */
int
ctl_out_list(struct ctl *c, const json_t *res, const char *key, const struct ctl_table_spec *t)
{
	const json_t *arr;

	if (c->json)
		return ctl_out_json(res);
	arr = json_object_get(res, key);
	if (!json_is_array(arr)) {
		ctl_errorf("the server's answer has no \"%s\" array", key);
		return ZTP_EMALFORMED;
	}
	return ctl_out_table(arr, t);
}

/* Print an object the server sent back: its JSON, or "key: value" lines. */
int
ctl_out_show(struct ctl *c, const json_t *o)
{
	if (o == NULL) {
		ctl_errorf("the server's answer is empty");
		return ZTP_EMALFORMED;
	}
	if (c->json)
		return ctl_out_json(o);
	ctl_out_object(o);
	return 0;
}
