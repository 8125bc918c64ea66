/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The chunked batch import SIMs (store_sim.c) and modules
 * (store_profile.c) share: the slots of a chunk, the lookup of its keys,
 * the decision of each row and the multi-row INSERTs of the new ones, over
 * a kind that names the table and columns and holds the rules (store_int.h).
 * The statements are the same SQL on every driver; their text is built
 * here from the kind and prepared once per connection, in the kind's own
 * statement cache.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "clock.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

#define THIRD_MAX 128 /* the largest third_size */

static const int insert_sizes[] = { STORE_IMPORT_CHUNK, 16, 4, 1 };

_Static_assert(1 + sizeof(insert_sizes) / sizeof(insert_sizes[0]) == STORE_IMPORT_STMTS,
    "STORE_IMPORT_STMTS: the lookup and one INSERT per size");
_Static_assert(ICCID_STR_SIZE <= STORE_IMPORT_KEY_MAX && STORE_ROT_HEX + 1 <= STORE_IMPORT_KEY_MAX,
    "raise STORE_IMPORT_KEY_MAX");

static int sql_add(char *sql, size_t cap, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Append to a statement's text at *o; -1 if it does not fit. */
static int
sql_add(char *sql, size_t cap, size_t *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*o >= cap)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(sql + *o, cap - *o, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *o)
		return -1;
	*o += (size_t)n;
	return 0;
}

/* The lookup of STORE_IMPORT_CHUNK keys: key, sealed, third. */
static struct store_stmt *
prep_lookup(struct store *st, const struct store_import_kind *kind)
{
	char sql[256 + STORE_IMPORT_CHUNK * 6];
	size_t o = 0;
	int i;

	if (sql_add(sql, sizeof(sql), &o, "SELECT %s, %s, %s FROM %s WHERE %s IN (", kind->key_col,
		kind->sealed_col, kind->third_col, kind->table, kind->key_col) != 0)
		return NULL;
	for (i = 1; i <= STORE_IMPORT_CHUNK; i++)
		if (sql_add(sql, sizeof(sql), &o, "%s?%d", i > 1 ? ", " : "", i) != 0)
			return NULL;
	if (sql_add(sql, sizeof(sql), &o, ")") != 0)
		return NULL;
	return store_prep(st, kind->m, kind->stmt0, sql);
}

/* An INSERT of insert_sizes[k] rows: ?1 the time, then key, sealed, third per row. */
static struct store_stmt *
prep_insert(struct store *st, const struct store_import_kind *kind, int k)
{
	char sql[256 + STORE_IMPORT_CHUNK * 32];
	size_t o = 0;
	int i;

	if (sql_add(sql, sizeof(sql), &o, "INSERT INTO %s(%s, %s, %s, created_at, updated_at) VALUES",
		kind->table, kind->key_col, kind->sealed_col, kind->third_col) != 0)
		return NULL;
	for (i = 0; i < insert_sizes[k]; i++)
		if (sql_add(sql, sizeof(sql), &o, "%s(?%d, ?%d, ?%d, ?1, ?1)", i > 0 ? ", " : " ",
			3 * i + 2, 3 * i + 3, 3 * i + 4) != 0)
			return NULL;
	return store_prep(st, kind->m, kind->stmt0 + 1 + k, sql);
}

void
store_import_refuse(struct store_import_slot *sl, const char *why)
{
	sl->state = STORE_IMPORT_REFUSED;
	snprintf(sl->why, sizeof(sl->why), "%s", why);
}

/* Look the chunk's undecided keys up in one statement. */
static int
chunk_lookup(struct store *st, const struct store_import_kind *kind,
    struct store_import_slot *sl, size_t k)
{
	char key[STORE_IMPORT_KEY_MAX], third[THIRD_MAX];
	size_t i, thirdcap = kind->third_size < sizeof(third) ? kind->third_size : sizeof(third);
	struct store_stmt *s;
	int rc, any = 0;

	if ((s = prep_lookup(st, kind)) == NULL)
		return ZTP_ESTORE;
	for (i = 0; i < k; i++)
		if (sl[i].state == STORE_IMPORT_UNDECIDED) {
			store_bind_text(s, (int)i + 1, kind->key(sl[i].row));
			any = 1;
		}
	if (!any)
		return 0;
	for (i = 0; i < STORE_IMPORT_CHUNK; i++)
		if (i >= k || sl[i].state != STORE_IMPORT_UNDECIDED)
			store_bind_null(s, (int)i + 1);
	while ((rc = store_step(s)) == STORE_ROW) {
		store_col_text(s, 0, key, sizeof(key));
		store_col_text(s, 2, third, thirdcap);
		for (i = 0; i < k; i++)
			if (sl[i].state == STORE_IMPORT_UNDECIDED &&
			    strcmp(kind->key(sl[i].row), key) == 0)
				kind->existing(st, &sl[i], store_col_blob(s, 1), store_col_bytes(s, 1),
				    third);
	}
	store_reset(s);
	return store_rows_end(st, rc, kind->lookup_what);
}

/* Insert the slots to add, the largest statements first. */
static int
chunk_insert(struct store *st, const struct store_import_kind *kind,
    struct store_import_slot *sl, size_t k)
{
	struct store_import_slot *add[STORE_IMPORT_CHUNK];
	struct store_stmt *s;
	size_t n = 0, done = 0, i;
	int64_t now = clock_now_ms();
	int rc, j, size;
	unsigned sz;

	for (i = 0; i < k; i++)
		if (sl[i].state == STORE_IMPORT_ADD)
			add[n++] = &sl[i];
	for (sz = 0; sz < sizeof(insert_sizes) / sizeof(insert_sizes[0]); sz++) {
		size = insert_sizes[sz];
		while (n - done >= (size_t)size) {
			if ((s = prep_insert(st, kind, (int)sz)) == NULL)
				return ZTP_ESTORE;
			store_bind_int64(s, 1, now);
			for (j = 0; j < size; j++) {
				struct store_import_slot *a = add[done + (size_t)j];
				store_bind_text(s, 3 * j + 2, kind->key(a->row));
				store_bind_blob(s, 3 * j + 3, a->sealed, a->sealedlen);
				store_bind_opt_text(s, 3 * j + 4, kind->third(a->row));
			}
			if ((rc = store_exec(st, s)) != 0)
				return rc == ZTP_EEXIST ? ZTP_ESTORE : rc; /* looked up under the lock */
			done += (size_t)size;
		}
	}
	return 0;
}

/* One chunk of a batch inside its transaction: every slot decided, the new rows inserted. */
static int
import_chunk(struct store *st, const struct store_import_kind *kind,
    struct store_import_slot *sl, size_t k, void *arg)
{
	size_t i, j;
	int rc;

	for (i = 0; i < k; i++)
		if ((rc = kind->check(st, &sl[i], arg)) != 0)
			return rc;
	if ((rc = chunk_lookup(st, kind, sl, k)) != 0)
		return rc;
	for (i = 0; i < k; i++) {
		if (sl[i].state != STORE_IMPORT_UNDECIDED)
			continue;
		/* the same key earlier in this chunk: as if it were on record already */
		for (j = 0; j < i; j++)
			if (sl[j].state == STORE_IMPORT_ADD &&
			    strcmp(kind->key(sl[j].row), kind->key(sl[i].row)) == 0)
				break;
		if (j < i) {
			kind->repeat(&sl[i], &sl[j]);
			continue;
		}
		if ((rc = kind->seal(st, &sl[i])) != 0)
			return rc;
		sl[i].state = STORE_IMPORT_ADD;
	}
	return chunk_insert(st, kind, sl, k);
}

int
store_import_run(struct store *st, const struct store_import_kind *kind, const void *rows,
    size_t n, void *arg, struct store_import_result *res)
{
	struct store_import_slot sl[STORE_IMPORT_CHUNK];
	size_t i, k, c;
	int rc;

	memset(res, 0, sizeof(*res));
	if (n > STORE_IMPORT_BATCH_MAX)
		return ZTP_ETOOBIG;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	for (c = 0; c < n && rc == 0; c += k) {
		k = n - c < STORE_IMPORT_CHUNK ? n - c : STORE_IMPORT_CHUNK;
		for (i = 0; i < k; i++) {
			sl[i].row = (const char *)rows + (c + i) * kind->row_size;
			sl[i].index = c + i;
			sl[i].state = STORE_IMPORT_UNDECIDED;
			sl[i].why[0] = '\0';
		}
		if ((rc = import_chunk(st, kind, sl, k, arg)) != 0)
			break;
		for (i = 0; i < k; i++) {
			if (sl[i].state == STORE_IMPORT_ADD) {
				res->added++;
			} else if (sl[i].state == STORE_IMPORT_SAME) {
				res->unchanged++;
			} else {
				if (res->nrefused < STORE_IMPORT_REFUSED_MAX) {
					res->refused[res->nrefused].index = sl[i].index;
					snprintf(res->refused[res->nrefused].why,
					    sizeof(res->refused[0].why), "%s", sl[i].why);
				}
				res->nrefused++;
			}
		}
	}
	OPENSSL_cleanse(sl, sizeof(sl));
	rc = store_tx_end(st, rc);
	if (rc != 0)
		memset(res, 0, sizeof(*res));
	return rc;
}
