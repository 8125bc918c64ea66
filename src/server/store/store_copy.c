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
 * The rows go in groups, one INSERT of several rows each (as many as
 * STORE_PARAM_MAX parameters hold, COPY_ROWS_MAX at most; a page's last
 * rows one by one): a group's values are copied out of the source's
 * result first, as a column is valid only until the source's next row.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

#define COPY_COLS_MAX 29      /* modules */
#define COPY_KEY_MAX 2        /* columns of a primary key */
#define COPY_KEY_TEXT_MAX 256 /* bytes of a text key: the longest is a UDID (64) */
#define COPY_ROWS_MAX 32      /* rows of one INSERT */
#define COPY_SQL_MAX 4096     /* the longest INSERT, 32 rows of 8 columns or 18 of 14: 1.5 KB */
#define COPY_BYTES_MAX (64 * 1024 * 1024) /* text and blobs of one group: a CRL is the largest */

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
 * The schema of store_sqlite.c's version 9 and store_pg.c's version 4, in
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
	    T("iccid"), T("peer"), T("detail"), I("count"), I("last_time"), T("owner"),
	    T("device") } },
	{ .name = "api_keys", .nkey = 1, .cols = { T("key_id"), B("salt"), B("hash"),
	    I("created_at"), T("name"), T("owner"), I("revoked_at") } },
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
	{ .name = "owners", .nkey = 1, .cols = { T("name"), I("created_at") } },
	{ .name = "profiles", .nkey = 1, .cols = { T("uid"), T("name"), T("owner"), I("features"),
	    I("hb_interval_s"), I("hb_min_interval_s"), I("created_at") } },
	{ .name = "modules", .nkey = 1, .identity = "sid", .cols = { T("rot_uid"), B("factory_key"),
	    I("factory_retired"), I("epoch"), B("op_key"), I("pending_epoch"), B("pending_key"),
	    I("pending_features"), I("pending_at"), T("profile_uid"), T("serial"), T("owner"),
	    T("firmware"), I("features"), I("features_applied"), I("quarantined"),
	    I("quarantined_at"), T("quarantine_reason"), I("clones"), I("bootstrapped_at"),
	    I("claimed_at"), I("last_heartbeat_at"), I("heartbeats"), I("boots"), T("batch"),
	    I("created_at"), I("updated_at"), I("sid"), I("e2e_down") } },
	{ .name = "module_keys", .nkey = 2, .cols = { T("rot_uid"), I("epoch"), B("key"),
	    I("retired_at") } },
	{ .name = "module_svc_keys", .nkey = 2, .cols = { T("rot_uid"), I("epoch"), B("key"),
	    I("created_at") } },
	{ .name = "campaigns", .nkey = 1, .identity = "id", .cols = { I("id"), T("owner"),
	    T("profile_uid"), I("enable"), I("disable"), T("created_by"), I("created_at") } },
	{ .name = "campaign_devices", .nkey = 2, .cols = { I("campaign_id"), T("rot_uid"),
	    I("state"), I("created_at"), I("updated_at") } },
	/* ZTP certificates (issue 14) */
	{ .name = "ztp_cas", .nkey = 2, .cols = { T("owner"), T("name"), B("cert"),
	    B("wrapped_key"), I("device_days"), I("imported"), I("not_before"), I("not_after"),
	    I("created_at") } },
	{ .name = "ztp_profile_cas", .nkey = 1, .cols = { T("profile_uid"), T("ca"),
	    I("updated_at") } },
	{ .name = "ztp_module_cas", .nkey = 1, .cols = { T("rot_uid"), T("ca"), I("updated_at") } },
	{ .name = "ztp_bundles", .nkey = 1, .cols = { T("rot_uid"), T("owner"), T("ca"),
	    B("bundle"), B("cert_sha256"), T("serial"), I("not_after"), I("issued_at"),
	    I("delivered_at") } },
	/* gateways onboarding over MQTT, foreign PKIs (issue 15) */
	{ .name = "gw_batches", .nkey = 1, .cols = { T("name"), T("owner"), T("pass_hash"),
	    I("created_at") } },
	{ .name = "gw_expected", .nkey = 1, .cols = { T("udid"), T("grp"), I("created_at") } },
	{ .name = "gateways", .nkey = 1, .cols = { T("udid"), T("owner"), T("batch"), I("state"),
	    T("grp"), T("firmware"), B("ldevid"), B("idevid"), T("request_id"), I("requests"),
	    I("requested_at"), I("decided_at"), T("reason"), B("bundle"), T("bundle_id"),
	    I("bundle_sent_at"), I("mqtt_state"), T("serial"), I("cmd_counter"),
	    I("updated_at") } },
	{ .name = "gw_commands", .nkey = 2, .cols = { T("udid"), I("id"), T("name"), T("args"),
	    I("state"), B("signed"), T("result"), I("created_at"), I("sent_at"), I("done_at") } },
	{ .name = "gw_groups", .nkey = 1, .cols = { T("name"), T("config"), I("auto_reonboard"),
	    I("updated_at") } },
	{ .name = "gw_keys", .nkey = 1, .cols = { T("name"), B("cert"), B("wrapped_key"),
	    I("created_at") } },
	{ .name = "pkis", .nkey = 1, .cols = { T("name"), B("ca"), T("crl_url"), I("interval_s"),
	    I("last_fetch_at"), I("last_ok_at"), T("last_error"), T("crl_number"), I("revoked"),
	    I("created_at"), I("crl_this_update") } },
	{ .name = "foreign_certs", .nkey = 2, .cols = { T("issuer"), T("serial"), T("udid"),
	    T("kind"), I("seen_at"), I("blocked_at") } },
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
	{ "sqlite", 11 },
	{ "postgresql", 6 },
};

/* The primary key of the last row read. */
struct copy_key {
	int64_t num[COPY_KEY_MAX];
	char text[COPY_KEY_MAX][COPY_KEY_TEXT_MAX];
};

/* A value read from the source. */
struct copy_val {
	int null;
	int64_t num;     /* COPY_INT */
	size_t off, len; /* COPY_TEXT (with its NUL) and COPY_BLOB: in the group's bytes */
};

/* A group of rows read from the source, for one INSERT. */
struct copy_rows {
	struct copy_val val[STORE_PARAM_MAX]; /* row r's column c at r * columns + c */
	uint8_t *bytes;
	size_t len, cap;
	int n; /* rows */
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

/* Columns first .. last - 1 of t (up to its last), separated by commas; parameters from ?base. */
static void
copy_sql_cols_at(struct copy_sql *q, const struct copy_table *t, int first, int last,
    enum copy_item item, int base)
{
	int c;

	for (c = first; c < last && t->cols[c].name != NULL; c++) {
		copy_sql_add(q, "%s", c > first ? ", " : "");
		switch (item) {
		case COPY_NAME:
			copy_sql_add(q, "%s", t->cols[c].name);
			break;
		case COPY_PARAM:
			copy_sql_add(q, "?%d", base + c);
			break;
		case COPY_SET:
			copy_sql_add(q, "%s = excluded.%s", t->cols[c].name, t->cols[c].name);
			break;
		}
	}
}

static void
copy_sql_cols(struct copy_sql *q, const struct copy_table *t, int first, int last,
    enum copy_item item)
{
	copy_sql_cols_at(q, t, first, last, item, 1);
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

/* The insert of rows rows of t: row r's column c is ?(r * columns + c + 1). */
static int
copy_sql_insert(struct copy_sql *q, const struct copy_table *t, int rows)
{
	int r, cols = ncols(t);

	memset(q, 0, sizeof(*q));
	copy_sql_add(q, "INSERT INTO %s(", t->name);
	copy_sql_cols(q, t, 0, COPY_COLS_MAX, COPY_NAME);
	copy_sql_add(q, ") VALUES");
	for (r = 0; r < rows; r++) {
		copy_sql_add(q, "%s(", r > 0 ? ", " : "");
		copy_sql_cols_at(q, t, 0, COPY_COLS_MAX, COPY_PARAM, r * cols + 1);
		copy_sql_add(q, ")");
	}
	copy_sql_add(q, " ON CONFLICT");
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

/* n bytes at p (NULL if n is 0) onto the group's bytes; *off where they went. */
static int
copy_rows_append(struct copy_rows *r, const void *p, size_t n, size_t *off)
{
	uint8_t *grown;
	size_t cap;

	if (n > 0 && p == NULL)
		return ZTP_ENOMEM; /* the driver could not convert the value */
	if (n > COPY_BYTES_MAX - r->len) {
		log_warnx("store copy: more than %d bytes in a group of rows", COPY_BYTES_MAX);
		return ZTP_ETOOBIG;
	}
	if (r->bytes == NULL || r->len + n > r->cap) {
		for (cap = r->cap ? r->cap : 65536; cap < r->len + n; cap *= 2)
			;
		if ((grown = realloc(r->bytes, cap)) == NULL)
			return ZTP_ENOMEM;
		r->bytes = grown;
		r->cap = cap;
	}
	if (n > 0)
		memcpy(r->bytes + r->len, p, n);
	*off = r->len;
	r->len += n;
	return 0;
}

/* The source's current row, copied out of it, as the group's next row. */
static int
copy_rows_add(struct copy_rows *r, struct store_stmt *src, const struct copy_table *t)
{
	int c, cols = ncols(t), rc = 0;
	const char *v;

	for (c = 0; c < cols && rc == 0; c++) {
		struct copy_val *x = &r->val[r->n * cols + c];

		memset(x, 0, sizeof(*x));
		if ((x->null = store_col_null(src, c)))
			continue;
		switch (t->cols[c].kind) {
		case COPY_INT:
			x->num = store_col_int64(src, c);
			break;
		case COPY_TEXT:
			v = src->drv->col_text(src, c);
			x->len = strlen(v != NULL ? v : "") + 1;
			rc = copy_rows_append(r, v != NULL ? v : "", x->len, &x->off);
			break;
		case COPY_BLOB:
			/* an empty blob reads as NULL: it is kept as 0 bytes, not NULL */
			x->len = store_col_bytes(src, c);
			rc = copy_rows_append(r, store_col_blob(src, c), x->len, &x->off);
			break;
		}
	}
	if (rc == 0)
		r->n++;
	return rc;
}

/*
 * Insert n rows of the group from its row first with ins (an insert of n
 * rows), in the caller's transaction; *added: how many were new.
 */
static int
copy_rows_put(struct store *to, const struct copy_table *t, struct store_stmt *ins,
    const struct copy_rows *r, int first, int n, int64_t *added)
{
	int i, c, cols = ncols(t), rc;

	store_reset(ins);
	ins->drv->clear(ins);
	for (i = 0; i < n; i++) {
		for (c = 0; c < cols; c++) {
			const struct copy_val *x = &r->val[(first + i) * cols + c];
			int param = i * cols + c + 1;

			if (x->null)
				store_bind_null(ins, param);
			else if (t->cols[c].kind == COPY_INT)
				store_bind_int64(ins, param, x->num);
			else if (t->cols[c].kind == COPY_TEXT)
				store_bind_text(ins, param, (const char *)r->bytes + x->off);
			else /* a pointer that is not NULL: an empty blob is not NULL */
				store_bind_blob(ins, param, r->bytes + x->off, x->len);
		}
	}
	rc = store_step(ins);
	store_reset(ins);
	if (rc != STORE_DONE) {
		log_warnx("store copy: %s: the target refused a row: %s", t->name,
		    to->drv->errmsg(to));
		return ZTP_ESTORE;
	}
	*added += store_changes(to);
	return 0;
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

/* The insert statements of a table: one of a group's rows, and one of a row. */
struct copy_ins {
	struct store_stmt *group, *one;
	int rows; /* of a group */
};

/*
 * Insert the rows of the page src answers into to (in the caller's
 * transaction), a group at a time, the last rows one by one: *n rows read,
 * *added of them new to the target, *last the key of the last one.
 */
static int
copy_page(struct store *from, struct store *to, const struct copy_table *t,
    struct store_stmt *src, const struct copy_ins *ins, struct copy_rows *r,
    struct copy_key *last, int *n, int64_t *added)
{
	int rc, i;

	*n = 0;
	*added = 0;
	r->n = 0;
	r->len = 0;
	while ((rc = store_step(src)) == STORE_ROW) {
		if ((rc = copy_rows_add(r, src, t)) != 0 || (rc = copy_key_keep(src, t, last)) != 0)
			return rc;
		(*n)++;
		if (r->n == ins->rows) {
			if ((rc = copy_rows_put(to, t, ins->group, r, 0, r->n, added)) != 0)
				return rc;
			r->n = 0;
			r->len = 0;
		}
	}
	if ((rc = store_rows_end(from, rc, t->name)) != 0)
		return rc;
	for (i = 0; i < r->n; i++)
		if ((rc = copy_rows_put(to, t, ins->one, r, i, 1, added)) != 0)
			return rc;
	return 0;
}

/* Copy table t, page by page; cb is told after each full page and at the end. */
static int
copy_table(struct store *from, struct store *to, const struct copy_table *t, int batch,
    store_copy_progress_cb cb, void *arg)
{
	struct store_stmt *first = NULL, *next = NULL, *src;
	struct store_copy_progress p = { .table = t->name };
	struct copy_ins ins = { NULL, NULL, 0 };
	struct copy_rows *r = NULL;
	struct copy_key bound, last;
	struct copy_sql q;
	int64_t start = clock_mono_ms(), added;
	int rc, n, page;

	memset(&bound, 0, sizeof(bound));
	memset(&last, 0, sizeof(last));
	ins.rows = STORE_PARAM_MAX / ncols(t);
	if (ins.rows > COPY_ROWS_MAX)
		ins.rows = COPY_ROWS_MAX;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ZTP_ENOMEM;
	if ((rc = copy_count(from, t->name, NULL, &p.total)) != 0)
		goto out;
	rc = ZTP_ESTORE;
	if (copy_sql_select(&q, t, 0) != 0 || (first = copy_prepare(from, &q)) == NULL ||
	    copy_sql_select(&q, t, 1) != 0 || (next = copy_prepare(from, &q)) == NULL ||
	    copy_sql_insert(&q, t, ins.rows) != 0 || (ins.group = copy_prepare(to, &q)) == NULL ||
	    copy_sql_insert(&q, t, 1) != 0 || (ins.one = copy_prepare(to, &q)) == NULL)
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
		rc = copy_page(from, to, t, src, &ins, r, &last, &n, &added);
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
	copy_finalize(ins.group);
	copy_finalize(ins.one);
	if (r != NULL)
		free(r->bytes);
	free(r);
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
