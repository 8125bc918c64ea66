/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Copying one store into another (ztpd migrate, docs/migrate.md): every
 * table of the schema, through the driver calls of store_int.h only, so
 * that any driver copies into any other (SQLite to PostgreSQL, and back).
 *
 * The tables, their columns and the kind each is read and bound as are
 * one table below, copy_tables[], taken from the schema; it is written for
 * one schema version of each driver (copy_schema[]) and refuses any other,
 * so that a migration that adds a column cannot be copied without it.
 *
 * A table is read in pages of batch rows ordered by its primary key, each
 * page after the last key of the one before (no OFFSET, no result of a
 * whole table in memory), and each page is written in one transaction on
 * the target with INSERT ... ON CONFLICT DO NOTHING: an interrupted copy
 * run again (resume) skips what it wrote. The counters and the CRL, rows
 * every store has or updates in place, are set from the source instead.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

#define COPY_COLS_MAX 14      /* groups */
#define COPY_KEY_MAX 2        /* columns of a primary key */
#define COPY_KEY_TEXT_MAX 256 /* bytes of a text key: the longest is a UDID (64) */
#define COPY_SQL_MAX 1024

enum copy_kind { COPY_INT, COPY_TEXT, COPY_BLOB };

struct copy_col {
	const char *name;
	enum copy_kind kind;
};

struct copy_table {
	const char *name;
	int nkey;             /* the first nkey columns: the primary key, the order of the pages */
	int set;              /* rows the target has too: set from the source's (upsert) */
	const char *identity; /* the column whose values the database generates, or NULL */
	const char *data;     /* which rows make a target non-empty (a WHERE condition); NULL: any */
	struct copy_col cols[COPY_COLS_MAX + 1]; /* ends with a NULL name */
};

#define I(n) { n, COPY_INT }
#define T(n) { n, COPY_TEXT }
#define B(n) { n, COPY_BLOB }

/*
 * The schema of store_sqlite.c's version 6 and store_pg.c's version 1, in
 * an order that respects the foreign keys: groups before allowlist,
 * enrol_passwords and mfr_cas. ztp_schema (PostgreSQL's version) is not
 * copied.
 */
static const struct copy_table copy_tables[] = {
	{ .name = "groups", .nkey = 1, .cols = { T("name"), T("iccid_prefix"), I("derive"),
	    B("master_key"), I("allow_psk_ke"), I("rotation_period_s"), I("created_at"),
	    I("est_auth"), I("cert_days"), I("reenroll_grace_s"), T("upstream"),
	    T("upstream_ca"), T("upstream_cert"), T("upstream_key") } },
	{ .name = "sims", .nkey = 1, .cols = { T("iccid"), B("psk"), I("psk_generation"),
	    I("blocked"), T("device_id"), I("config_version"), I("created_at"), I("updated_at"),
	    T("group_name"), B("pending_psk"), I("rotate"), I("rotated_at"), T("blocked_by") } },
	{ .name = "configs", .nkey = 2, .cols = { T("iccid"), I("version"), B("body"),
	    T("source"), I("created_at") } },
	{ .name = "telemetry", .nkey = 1, .identity = "id", .cols = { I("id"), T("iccid"),
	    T("device_id"), B("body"), I("received_at") } },
	{ .name = "devices", .nkey = 2, .cols = { T("iccid"), T("device_id"), T("cli"), T("usr"),
	    B("pwd"), I("created_at") } },
	{ .name = "events", .nkey = 1, .identity = "id", .cols = { I("id"), I("time"), T("kind"),
	    T("iccid"), T("peer"), T("detail"), I("count"), I("last_time") } },
	{ .name = "api_keys", .nkey = 1, .cols = { T("key_id"), B("salt"), B("hash"),
	    I("created_at") } },
	{ .name = "allowlist", .nkey = 1, .cols = { T("udid"), B("key_sha256"), T("group_name"),
	    T("iccid"), I("created_at") } },
	{ .name = "enrol_passwords", .nkey = 1, .identity = "id", .cols = { I("id"), T("udid"),
	    B("salt"), B("hash"), T("group_name"), I("created_at"), I("expires_at"),
	    I("used_at") } },
	{ .name = "mfr_cas", .nkey = 1, .cols = { T("name"), T("pem"), B("sha256"),
	    T("group_name"), I("created_at") } },
	{ .name = "things", .nkey = 1, .cols = { T("udid"), T("group_name"), T("iccid"),
	    I("blocked"), I("created_at"), I("updated_at") } },
	{ .name = "certs", .nkey = 1, .cols = { T("serial"), T("udid"), T("subject"),
	    B("key_sha256"), I("not_before"), I("not_after"), I("issued_at"), T("method"),
	    I("revoked_at"), I("reason") } },
	/* every store starts with the three counters at 0 */
	{ .name = "counters", .nkey = 1, .set = 1, .data = "value <> 0",
	    .cols = { T("name"), I("value") } },
	{ .name = "crl", .nkey = 1, .set = 1, .cols = { I("id"), I("number"), I("this_update"),
	    I("next_update"), I("revocations"), B("der") } },
};

#undef I
#undef T
#undef B

#define NTABLES (sizeof(copy_tables) / sizeof(copy_tables[0]))

/* The schema version of each driver that copy_tables[] is. */
static const struct {
	const char *driver;
	int version;
} copy_schema[] = {
	{ "sqlite", 6 },
	{ "postgresql", 1 },
};

/* The primary key of the last row read. */
struct copy_key {
	int64_t num[COPY_KEY_MAX];
	char text[COPY_KEY_MAX][COPY_KEY_TEXT_MAX];
};

/* SQL text built in a fixed buffer; over is set if it did not fit. */
struct copy_sql {
	char s[COPY_SQL_MAX];
	size_t n;
	int over;
};

static void copy_sql_add(struct copy_sql *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
copy_sql_add(struct copy_sql *q, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (q->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(q->s + q->n, sizeof(q->s) - q->n, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(q->s) - q->n)
		q->over = 1;
	else
		q->n += (size_t)n;
}

/* How copy_sql_cols writes a column. */
enum copy_item {
	COPY_NAME,  /* its name */
	COPY_PARAM, /* ?N, N its number from 1 */
	COPY_SET,   /* name = excluded.name */
};

/* Columns first .. last - 1 of t (up to its last), separated by commas. */
static void
copy_sql_cols(struct copy_sql *q, const struct copy_table *t, int first, int last,
    enum copy_item item)
{
	int c;

	for (c = first; c < last && t->cols[c].name != NULL; c++) {
		copy_sql_add(q, "%s", c > first ? ", " : "");
		switch (item) {
		case COPY_NAME:
			copy_sql_add(q, "%s", t->cols[c].name);
			break;
		case COPY_PARAM:
			copy_sql_add(q, "?%d", c + 1);
			break;
		case COPY_SET:
			copy_sql_add(q, "%s = excluded.%s", t->cols[c].name, t->cols[c].name);
			break;
		}
	}
}

static int
ncols(const struct copy_table *t)
{
	int n = 0;

	while (n < COPY_COLS_MAX && t->cols[n].name != NULL)
		n++;
	return n;
}

/*
 * The statements of table t: a page from the start (after 0) or after a
 * key (after 1; the key is ?1.., the page size the parameter after it),
 * and the insert of one row.
 */
static int
copy_sql_select(struct copy_sql *q, const struct copy_table *t, int after)
{
	memset(q, 0, sizeof(*q));
	copy_sql_add(q, "SELECT ");
	copy_sql_cols(q, t, 0, COPY_COLS_MAX, COPY_NAME);
	copy_sql_add(q, " FROM %s", t->name);
	if (after) {
		copy_sql_add(q, " WHERE (");
		copy_sql_cols(q, t, 0, t->nkey, COPY_NAME);
		copy_sql_add(q, ") > (");
		copy_sql_cols(q, t, 0, t->nkey, COPY_PARAM);
		copy_sql_add(q, ")");
	}
	copy_sql_add(q, " ORDER BY ");
	copy_sql_cols(q, t, 0, t->nkey, COPY_NAME);
	copy_sql_add(q, " LIMIT ?%d", after ? t->nkey + 1 : 1);
	return q->over ? ZTP_EINTERNAL : 0;
}

static int
copy_sql_insert(struct copy_sql *q, const struct copy_table *t)
{
	memset(q, 0, sizeof(*q));
	copy_sql_add(q, "INSERT INTO %s(", t->name);
	copy_sql_cols(q, t, 0, COPY_COLS_MAX, COPY_NAME);
	copy_sql_add(q, ") VALUES(");
	copy_sql_cols(q, t, 0, COPY_COLS_MAX, COPY_PARAM);
	copy_sql_add(q, ") ON CONFLICT");
	if (t->set) {
		copy_sql_add(q, "(");
		copy_sql_cols(q, t, 0, t->nkey, COPY_NAME);
		copy_sql_add(q, ") DO UPDATE SET ");
		copy_sql_cols(q, t, t->nkey, COPY_COLS_MAX, COPY_SET);
	} else {
		copy_sql_add(q, " DO NOTHING");
	}
	return q->over ? ZTP_EINTERNAL : 0;
}

/* A statement of ours, not of the store's cache: finalize it. NULL (logged) on failure. */
static struct store_stmt *
copy_prepare(struct store *st, const struct copy_sql *q)
{
	struct store_stmt *s = st->drv->prepare(st, q->s);

	if (s == NULL)
		store_db_err(st, "prepare");
	return s;
}

static void
copy_finalize(struct store_stmt *s)
{
	if (s != NULL)
		s->drv->finalize(s);
}

/* The rows of table (those that meet where, if not NULL) into *n. */
static int
copy_count(struct store *st, const char *table, const char *where, int64_t *n)
{
	struct store_stmt *s;
	struct copy_sql q = { .n = 0 };
	int rc;

	copy_sql_add(&q, "SELECT count(*) FROM %s%s%s", table, where ? " WHERE " : "",
	    where ? where : "");
	if (q.over)
		return ZTP_EINTERNAL;
	if ((s = copy_prepare(st, &q)) == NULL)
		return ZTP_ESTORE;
	if (store_step(s) == STORE_ROW) {
		*n = store_col_int64(s, 0);
		rc = 0;
	} else {
		rc = store_db_err(st, "count");
	}
	copy_finalize(s);
	return rc;
}

/* The store is at its driver's newest schema, the one copy_tables[] is. */
static int
copy_schema_check(struct store *st, const char *side)
{
	const char *drv = store_driver_name(st);
	int version = store_schema_version(st);
	size_t i;

	if (version != store_schema_target(st)) {
		log_warnx("store copy: the %s's schema is at version %d, not %d (%s)", side, version,
		    store_schema_target(st), drv);
		return ZTP_ECONFLICT;
	}
	for (i = 0; i < sizeof(copy_schema) / sizeof(copy_schema[0]); i++)
		if (strcmp(copy_schema[i].driver, drv) == 0 && copy_schema[i].version == version)
			return 0;
	log_warnx("store copy: the %s's schema (%s version %d) is not the one this copy knows",
	    side, drv, version);
	return ZTP_ECONFLICT;
}

/* Without resume: no table of the target has a row that counts (copy_table's data). */
static int
copy_target_empty(struct store *to)
{
	int64_t n;
	size_t i;
	int rc;

	for (i = 0; i < NTABLES; i++) {
		if ((rc = copy_count(to, copy_tables[i].name, copy_tables[i].data, &n)) != 0)
			return rc;
		if (n > 0) {
			log_warnx("store copy: the target is not empty: %s has %" PRId64 " rows"
				  " (resume continues an interrupted copy into it)",
			    copy_tables[i].name, n);
			return ZTP_EEXIST;
		}
	}
	return 0;
}

/* Column c of the source's row as parameter c + 1 of the insert, NULL as NULL. */
static void
copy_bind(struct store_stmt *src, struct store_stmt *ins, int c, enum copy_kind kind)
{
	const void *p;
	const char *v;

	if (store_col_null(src, c)) {
		store_bind_null(ins, c + 1);
		return;
	}
	switch (kind) {
	case COPY_INT:
		store_bind_int64(ins, c + 1, store_col_int64(src, c));
		break;
	case COPY_TEXT:
		v = src->drv->col_text(src, c);
		store_bind_text(ins, c + 1, v != NULL ? v : "");
		break;
	case COPY_BLOB:
		/* an empty blob reads as NULL; a NULL pointer would bind a NULL */
		p = store_col_blob(src, c);
		store_bind_blob(ins, c + 1, p != NULL ? p : "", store_col_bytes(src, c));
		break;
	}
}

/* The key of the source's current row into k. */
static int
copy_key_keep(struct store_stmt *src, const struct copy_table *t, struct copy_key *k)
{
	const char *v;
	int c;

	for (c = 0; c < t->nkey; c++) {
		if (t->cols[c].kind == COPY_INT) {
			k->num[c] = store_col_int64(src, c);
			continue;
		}
		v = src->drv->col_text(src, c);
		if (v == NULL || strlen(v) >= sizeof(k->text[c])) {
			log_warnx("store copy: %s: a row's %s is NULL or longer than %d bytes",
			    t->name, t->cols[c].name, COPY_KEY_TEXT_MAX - 1);
			return ZTP_ERANGE;
		}
		memcpy(k->text[c], v, strlen(v) + 1);
	}
	return 0;
}

static void
copy_key_bind(struct store_stmt *s, const struct copy_table *t, const struct copy_key *k)
{
	int c;

	for (c = 0; c < t->nkey; c++) {
		if (t->cols[c].kind == COPY_INT)
			store_bind_int64(s, c + 1, k->num[c]);
		else
			store_bind_text(s, c + 1, k->text[c]);
	}
}

/*
 * Insert the rows of the page src answers into to (in the caller's
 * transaction): *n rows read, *added of them new to the target, *last the
 * key of the last one.
 */
static int
copy_page(struct store *from, struct store *to, const struct copy_table *t,
    struct store_stmt *src, struct store_stmt *ins, struct copy_key *last, int *n,
    int64_t *added)
{
	int rc, c, cols = ncols(t);

	*n = 0;
	*added = 0;
	while ((rc = store_step(src)) == STORE_ROW) {
		store_reset(ins);
		ins->drv->clear(ins);
		for (c = 0; c < cols; c++)
			copy_bind(src, ins, c, t->cols[c].kind);
		rc = store_step(ins);
		store_reset(ins);
		if (rc != STORE_DONE) {
			log_warnx("store copy: %s: the target refused a row: %s", t->name,
			    to->drv->errmsg(to));
			return ZTP_ESTORE;
		}
		*added += store_changes(to);
		if ((rc = copy_key_keep(src, t, last)) != 0)
			return rc;
		(*n)++;
	}
	return store_rows_end(from, rc, t->name);
}

/* Copy table t, page by page; cb is told after each full page and at the end. */
static int
copy_table(struct store *from, struct store *to, const struct copy_table *t, int batch,
    store_copy_progress_cb cb, void *arg)
{
	struct store_stmt *first = NULL, *next = NULL, *ins = NULL, *src;
	struct store_copy_progress p = { .table = t->name };
	struct copy_key bound, last;
	struct copy_sql q;
	int64_t start = clock_mono_ms(), added;
	int rc, n, page;

	memset(&bound, 0, sizeof(bound));
	memset(&last, 0, sizeof(last));
	if ((rc = copy_count(from, t->name, NULL, &p.total)) != 0)
		goto out;
	rc = ZTP_ESTORE;
	if (copy_sql_select(&q, t, 0) != 0 || (first = copy_prepare(from, &q)) == NULL ||
	    copy_sql_select(&q, t, 1) != 0 || (next = copy_prepare(from, &q)) == NULL ||
	    copy_sql_insert(&q, t) != 0 || (ins = copy_prepare(to, &q)) == NULL)
		goto out;
	for (page = 0;; page++) {
		src = page == 0 ? first : next;
		store_reset(src);
		src->drv->clear(src);
		/* the key of the page before, apart from the one this page fills in */
		bound = last;
		if (page > 0)
			copy_key_bind(src, t, &bound);
		store_bind_int64(src, page == 0 ? 1 : t->nkey + 1, batch);
		if ((rc = store_tx_begin(to)) != 0)
			goto out;
		rc = copy_page(from, to, t, src, ins, &last, &n, &added);
		store_reset(src);
		if ((rc = store_tx_end(to, rc)) != 0)
			goto out;
		p.rows += n;
		p.added += added;
		p.ms = clock_mono_ms() - start;
		if (n < batch)
			break;
		if (cb != NULL && (rc = cb(&p, arg)) != 0)
			goto out;
	}
	if (t->identity != NULL && to->drv->after_copy != NULL &&
	    (rc = to->drv->after_copy(to, t->name, t->identity)) != 0)
		goto out;
	p.done = 1;
	p.ms = clock_mono_ms() - start;
	rc = cb != NULL ? cb(&p, arg) : 0;
out:
	copy_finalize(first);
	copy_finalize(next);
	copy_finalize(ins);
	return rc;
}

/* Each table has as many rows on both sides; each that has not is logged. */
static int
copy_verify(struct store *from, struct store *to)
{
	int64_t a, b;
	size_t i;
	int rc, bad = 0;

	for (i = 0; i < NTABLES; i++) {
		if ((rc = copy_count(from, copy_tables[i].name, NULL, &a)) != 0 ||
		    (rc = copy_count(to, copy_tables[i].name, NULL, &b)) != 0)
			return rc;
		if (a != b) {
			log_warnx("store copy: %s has %" PRId64 " rows in the source but %" PRId64
				  " in the target", copy_tables[i].name, a, b);
			bad++;
		}
	}
	return bad ? ZTP_ECONFLICT : 0;
}

int
store_copy(struct store *from, struct store *to, int resume, int batch,
    store_copy_progress_cb cb, void *arg)
{
	size_t i;
	int rc;

	if (batch <= 0)
		batch = STORE_COPY_BATCH;
	if ((rc = copy_schema_check(from, "source")) != 0 ||
	    (rc = copy_schema_check(to, "target")) != 0)
		return rc;
	/* the source's writers wait until the copy is over; it only reads */
	if ((rc = store_tx_begin(from)) != 0)
		return rc;
	if (!resume && (rc = copy_target_empty(to)) != 0)
		goto out;
	for (i = 0; i < NTABLES; i++)
		if ((rc = copy_table(from, to, &copy_tables[i], batch, cb, arg)) != 0)
			goto out;
	rc = copy_verify(from, to);
out:
	if (from->drv->rollback(from) != 0)
		store_db_err(from, "rollback");
	return rc;
}

const char *
store_copy_table(size_t i, char *cols, size_t cap)
{
	struct copy_sql q = { .n = 0 };

	if (i >= NTABLES)
		return NULL;
	copy_sql_cols(&q, &copy_tables[i], 0, COPY_COLS_MAX, COPY_NAME);
	snprintf(cols, cap, "%s", q.s);
	return copy_tables[i].name;
}
