/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl's batch imports (sim import, allowlist import): a file streamed
 * line by line, each line parsed by its kind (the noun's file) and either
 * refused here with its line number or added to a batch of
 * CTL_IMPORT_BATCH rows, sent as one request. The summary counts every
 * line; the batches' buffers, which hold PSKs, are wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "ctl.h"
#include "ztp/err.h"

#define IMPORT_READ_SIZE (64u * 1024)
#define IMPORT_SHOW_MAX 50      /* refused lines listed without --json */
#define IMPORT_INTERN_MAX 256   /* distinct reasons of the server looked up */
#define PROGRESS_INTERVAL_MS 100 /* at most 10 updates a second */

/*
 * A line reader with a bounded buffer: it never holds more than
 * IMPORT_READ_SIZE bytes of the file and one line of CTL_IMPORT_LINE_MAX + 2
 * bytes. A longer line is cut there (the parser refuses it as too long)
 * and the rest of it is skipped. NUL bytes are data like any other. It
 * reads with read(2), which returns what a pipe has: a slow producer's
 * rows are not held back until a whole buffer is full, and no stdio
 * buffer keeps a copy of the PSKs.
 */
struct line_reader {
	int fd;
	size_t pos, end;
	int eof;
	uint64_t lineno; /* of the line last returned, from 1 */
	char line[CTL_IMPORT_LINE_MAX + 2];
	char buf[IMPORT_READ_SIZE];
};

/*
 * The next line, without its '\n', in *line (valid until the next call)
 * and *len. Returns 1, 0 at the end of the file, or ZTP_EIO.
 */
static int
reader_next(struct line_reader *r, const char **line, size_t *len)
{
	size_t n = 0, take, room;
	const char *nl;
	int any = 0;

	for (;;) {
		if (r->pos == r->end) {
			if (r->eof)
				break;
			ssize_t got = read(r->fd, r->buf, sizeof(r->buf));
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return ZTP_EIO;
			r->pos = 0;
			r->end = (size_t)got;
			if (got == 0) {
				r->eof = 1;
				break;
			}
		}
		any = 1;
		nl = memchr(r->buf + r->pos, '\n', r->end - r->pos);
		take = nl != NULL ? (size_t)(nl - (r->buf + r->pos)) : r->end - r->pos;
		room = sizeof(r->line) - n;
		memcpy(r->line + n, r->buf + r->pos, take < room ? take : room);
		n += take < room ? take : room;
		r->pos += take;
		if (nl != NULL) {
			r->pos++;
			break;
		}
	}
	if (!any)
		return 0;
	r->lineno++;
	*line = r->line;
	*len = n;
	return 1;
}

/* a refused line: why is static or one of the import's interned strings */
struct refusal {
	uint64_t line;
	const char *why;
};

/* one run of sim import or allowlist import; large, so it lives on the heap */
struct ctl_import {
	struct ctl *c;
	const struct ctl_import_kind *kind;
	int rows_seen; /* a line was not skipped: no header after it */
	char *body; /* the batch as JSON: it holds PSKs, wiped after each request */
	size_t len;
	size_t cap;   /* a full batch of the kind's longest rows */
	size_t nrows; /* rows in the batch */
	uint64_t line_of[CTL_IMPORT_BATCH];   /* each row's line in the file */
	unsigned char seen[CTL_IMPORT_BATCH]; /* rows the server's answer accounted for */
	uint64_t added, unchanged, done; /* done: rows answered and lines refused here */
	struct refusal *refused;
	size_t nrefused, refcap;
	char **reasons; /* the server's reasons, owned */
	size_t nreasons, reasoncap;
	int tty;
	int64_t t0, tlast; /* ms, monotonic */
};

/* "N rows done, R rows/s" on a terminal's stderr, at most every 100 ms */
static void
import_progress(struct ctl_import *im, int final)
{
	int64_t now, ms;

	if (!im->tty)
		return;
	now = clock_mono_ms();
	if (!final && now - im->tlast < PROGRESS_INTERVAL_MS)
		return;
	im->tlast = now;
	ms = now - im->t0;
	fprintf(stderr, "\rimport: %llu rows done, %llu rows/s    ", (unsigned long long)im->done,
	    (unsigned long long)(ms > 0 ? im->done * 1000 / (uint64_t)ms : 0));
	ctl_progress_mark();
	if (final)
		ctl_progress_end();
}

/*
 * Keep the server's reason s (len bytes) once: the same few reasons come
 * back for many rows. NULL when out of memory.
 */
static const char *
import_intern(struct ctl_import *im, const char *s, size_t len)
{
	size_t i;
	char **p;

	for (i = 0; i < im->nreasons && i < IMPORT_INTERN_MAX; i++)
		if (strlen(im->reasons[i]) == len && memcmp(im->reasons[i], s, len) == 0)
			return im->reasons[i];
	if (im->nreasons == im->reasoncap) {
		size_t n = im->reasoncap != 0 ? im->reasoncap * 2 : 16;
		p = realloc(im->reasons, n * sizeof(*p));
		if (p == NULL)
			return NULL;
		im->reasons = p;
		im->reasoncap = n;
	}
	im->reasons[im->nreasons] = strndup(s, len);
	if (im->reasons[im->nreasons] == NULL)
		return NULL;
	return im->reasons[im->nreasons++];
}

/* Record line as refused for why. Returns 0 or ZTP_ENOMEM (printed). */
static int
import_refuse(struct ctl_import *im, uint64_t line, const char *why)
{
	struct refusal *p;

	if (why == NULL)
		goto nomem;
	if (im->nrefused == im->refcap) {
		size_t n = im->refcap != 0 ? im->refcap * 2 : 64;
		p = realloc(im->refused, n * sizeof(*p));
		if (p == NULL)
			goto nomem;
		im->refused = p;
		im->refcap = n;
	}
	im->refused[im->nrefused].line = line;
	im->refused[im->nrefused].why = why;
	im->nrefused++;
	return 0;
nomem:
	return ctl_nomem();
}

/* 1 once a line of the file was not skipped (a kind's header is its first row only) */
int
ctl_import_rows_seen(const struct ctl_import *im)
{
	return im->rows_seen;
}

/*
 * Append n bytes to the batch. The kind's row_max leaves room for a full
 * batch of its longest rows: running out of room is a broken invariant.
 */
static void
import_put(struct ctl_import *im, const char *s, size_t n)
{
	if (n > im->cap - im->len)
		abort();
	memcpy(im->body + im->len, s, n);
	im->len += n;
}

/* a string literal into the batch */
#define IMPORT_PUT(im, lit) import_put((im), (lit), sizeof(lit) - 1)

/* Start the batch, or the next row of it: a row is a JSON object. */
void
ctl_import_row_start(struct ctl_import *im)
{
	if (im->nrows == 0) {
		im->len = 0;
		import_put(im, im->kind->head, strlen(im->kind->head));
	} else {
		IMPORT_PUT(im, ",");
	}
	IMPORT_PUT(im, "{");
}

/*
 * Append the member "name":"val" (len bytes) to the row. val is put as it
 * is: the kinds' parsers let through no character that JSON escapes.
 */
void
ctl_import_field(struct ctl_import *im, const char *name, const char *val, size_t len)
{
	if (im->body[im->len - 1] != '{')
		IMPORT_PUT(im, ",");
	IMPORT_PUT(im, "\"");
	import_put(im, name, strlen(name));
	IMPORT_PUT(im, "\":\"");
	import_put(im, val, len);
	IMPORT_PUT(im, "\"");
}

/* End the row (ctl_import_row_start, its members) that line of the file gave. */
void
ctl_import_row_end(struct ctl_import *im, uint64_t line)
{
	IMPORT_PUT(im, "}");
	im->line_of[im->nrows] = line;
	im->nrows++;
}

/*
 * Take the server's answer to a batch: {"added", "unchanged", "refused":
 * [{"index", "error"}]}. Every row must be accounted for exactly once;
 * refused indexes become the file's line numbers.
 */
static int
import_answer(struct ctl_import *im, const json_t *root)
{
	const json_t *added, *unchanged, *refused, *item, *idx, *err;
	json_int_t a, u, k;
	size_t i;
	int rc;

	added = json_object_get(root, "added");
	unchanged = json_object_get(root, "unchanged");
	refused = json_object_get(root, "refused");
	if (!json_is_integer(added) || !json_is_integer(unchanged) || !json_is_array(refused))
		goto malformed;
	a = json_integer_value(added);
	u = json_integer_value(unchanged);
	if (a < 0 || u < 0 || (uint64_t)a + (uint64_t)u + json_array_size(refused) != im->nrows)
		goto malformed;
	memset(im->seen, 0, im->nrows);
	json_array_foreach(refused, i, item) {
		idx = json_object_get(item, "index");
		err = json_object_get(item, "error");
		if (!json_is_integer(idx))
			goto malformed;
		k = json_integer_value(idx);
		if (k < 0 || (uint64_t)k >= im->nrows || im->seen[k])
			goto malformed;
		im->seen[k] = 1;
		rc = import_refuse(im, im->line_of[k],
		    json_is_string(err) ? import_intern(im, json_string_value(err),
					      json_string_length(err)) :
					  "refused by the server");
		if (rc != 0)
			return rc;
	}
	im->added += (uint64_t)a;
	im->unchanged += (uint64_t)u;
	im->done += im->nrows;
	return 0;
malformed:
	ctl_errorf("the server's answer to an import batch is not {\"added\", \"unchanged\", "
	       "\"refused\"} for its %zu rows",
	    im->nrows);
	return ZTP_EMALFORMED;
}

/*
 * Send the batch as one POST to the kind's endpoint on the run's
 * connection (ctl_http_post_batch) and take the answer. The batch is
 * wiped and emptied either way.
 */
static int
import_flush(struct ctl_import *im)
{
	json_t *root = NULL;
	int rc;

	IMPORT_PUT(im, "]}");
	rc = ctl_http_post_batch(im->c, im->kind->endpoint, im->body, im->len, &root);
	if (rc == 0)
		rc = import_answer(im, root);
	json_decref(root);
	explicit_bzero(im->body, im->len);
	im->len = 0;
	im->nrows = 0;
	return rc;
}

static int
refusal_cmp(const void *x, const void *y)
{
	const struct refusal *a = x, *b = y;

	return a->line < b->line ? -1 : a->line > b->line;
}

/*
 * The summary: the counts, then the refused lines in file order (all of
 * them with --json, the first IMPORT_SHOW_MAX otherwise). stopped is the
 * first line not imported when the import stopped early, else 0.
 */
static int
import_print(struct ctl *c, struct ctl_import *im, uint64_t lines, uint64_t stopped)
{
	json_t *root = NULL, *arr, *o;
	char why[DETAIL_MAX];
	size_t i;
	int rc;

	if (im->nrefused > 1)
		qsort(im->refused, im->nrefused, sizeof(*im->refused), refusal_cmp);
	if (!c->json) {
		printf("added %llu, unchanged %llu, refused %zu\n", (unsigned long long)im->added,
		    (unsigned long long)im->unchanged, im->nrefused);
		for (i = 0; i < im->nrefused && i < IMPORT_SHOW_MAX; i++)
			printf("line %llu: %s\n", (unsigned long long)im->refused[i].line,
			    ctl_san(im->refused[i].why, why, sizeof(why)));
		if (im->nrefused > IMPORT_SHOW_MAX)
			printf("... and %zu more\n", im->nrefused - IMPORT_SHOW_MAX);
		return 0;
	}
	arr = json_array();
	root = json_pack("{s:I, s:I, s:o, s:I, s:b}", "added", (json_int_t)im->added,
	    "unchanged", (json_int_t)im->unchanged, "refused", arr, "lines", (json_int_t)lines,
	    "complete", stopped == 0);
	if (root == NULL)
		goto nomem;
	if (json_object_set_new(root, "stopped_at_line",
		stopped != 0 ? json_integer((json_int_t)stopped) : json_null()) != 0)
		goto nomem;
	for (i = 0; i < im->nrefused; i++) {
		o = json_pack("{s:I, s:s}", "line", (json_int_t)im->refused[i].line, "error",
		    im->refused[i].why);
		if (o == NULL || json_array_append_new(arr, o) != 0)
			goto nomem;
	}
	rc = ctl_out_json(root);
	json_decref(root);
	return rc;
nomem:
	json_decref(root);
	return ctl_nomem();
}

/* Free a run of an import, its batch wiped first; NULL is fine. */
static void
import_free(struct ctl_import *im)
{
	size_t i;

	if (im == NULL)
		return;
	if (im->body != NULL) {
		explicit_bzero(im->body, im->cap);
		free(im->body);
	}
	for (i = 0; i < im->nreasons; i++)
		free(im->reasons[i]);
	free(im->reasons);
	free(im->refused);
	free(im);
}

/*
 * import FILE: stream the file line by line, parse each line here (a
 * malformed one is refused with its line number and never sent), and send
 * the rows in batches of CTL_IMPORT_BATCH, one transaction each, on one
 * connection. Prints the summary; exit status 1 if any line was refused or
 * the import stopped early (the batches before are in: the same file can
 * be imported again). The PSKs are wiped from every buffer of ours.
 */
int
ctl_import_run(struct ctl *c, const char *path, const struct ctl_import_kind *kind)
{
	struct line_reader *rd = NULL;
	struct ctl_import *im = NULL;
	const char *why;
	uint64_t stopped = 0;
	const char *line;
	char spath[256];
	size_t len;
	int rc, r, fd = -1;

	ctl_san(path, spath, sizeof(spath));
	fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ctl_errorf("%s: %s", spath, strerror(errno));
		rc = ZTP_EIO;
		goto out;
	}
	rd = calloc(1, sizeof(*rd));
	im = calloc(1, sizeof(*im));
	if (im != NULL) /* the head, a full batch of the longest rows, "]}" */
		im->cap = strlen(kind->head) + CTL_IMPORT_BATCH * kind->row_max + 2;
	if (rd == NULL || im == NULL || (im->body = malloc(im->cap)) == NULL) {
		rc = ctl_nomem();
		goto out;
	}
	rd->fd = fd;
	im->c = c;
	im->kind = kind;
	im->tty = isatty(STDERR_FILENO);
	/* authenticate before reading: a wrong admin file fails at once */
	rc = ctl_http_auth(c);
	if (rc != 0)
		goto out;
	im->t0 = im->tlast = clock_mono_ms();

	while ((rc = reader_next(rd, &line, &len)) == 1) {
		r = kind->line(im, line, len, rd->lineno, &why);
		if (r == CTL_IMPORT_SKIP)
			continue;
		im->rows_seen = 1;
		if (r != 0) {
			rc = import_refuse(im, rd->lineno, why);
			if (rc != 0)
				goto out;
			im->done++;
			continue;
		}
		if (im->nrows == CTL_IMPORT_BATCH) {
			stopped = im->line_of[0];
			rc = import_flush(im);
			if (rc != 0)
				break;
			stopped = 0;
		}
		if ((rd->lineno & 1023) == 0)
			import_progress(im, 0);
	}
	if (rc == ZTP_EIO && stopped == 0) {
		ctl_errorf("cannot read %s: %s", spath, strerror(errno));
		stopped = im->nrows > 0 ? im->line_of[0] : rd->lineno + 1;
	} else if (rc == 0 && im->nrows > 0) {
		stopped = im->line_of[0];
		rc = import_flush(im);
		if (rc == 0)
			stopped = 0;
	}
	if (stopped != 0) {
		ctl_errorf("the import stopped: lines %llu and after were not imported (those before "
		       "were; importing the same file again is safe)",
		    (unsigned long long)stopped);
		rc = rc != 0 ? rc : ZTP_EIO;
	}
	import_progress(im, 1);
	r = import_print(c, im, rd->lineno, stopped);
	if (rc == 0)
		rc = r;
	if (rc == 0 && im->nrefused > 0)
		rc = ZTP_EMALFORMED; /* exit status 1 */
out:
	if (rd != NULL) {
		explicit_bzero(rd, sizeof(*rd));
		free(rd);
	}
	import_free(im);
	if (fd > STDIN_FILENO)
		close(fd);
	return rc;
}
