/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the SQLite store: the connection and the helpers that
 * store_sqlite.c and store_est.c (the certificate tables) share. Not for
 * any other module.
 */
#ifndef ZTP_STORE_INT_H
#define ZTP_STORE_INT_H
#include <sqlite3.h>

#include "crypto.h"

#define STORE_STMT_MAX 64  /* store_sqlite.c's statements */
#define STORE_XSTMT_MAX 64 /* store_est.c's statements */

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[STORE_STMT_MAX];
	sqlite3_stmt *xstmt[STORE_XSTMT_MAX];
	uint8_t key[CRYPTO_KEY_LEN];
};

/* Log the connection's error with what; returns ZTP_ESTORE. */
int store_db_err(struct store *st, const char *what);
/* The cached statement idx of the extension table, prepared from sql on first use. */
sqlite3_stmt *store_xprep(struct store *st, int idx, const char *sql);
/* Step a statement that returns no rows: 0, ZTP_EEXIST (constraint) or ZTP_ESTORE. */
int store_exec(struct store *st, sqlite3_stmt *s);
/* BEGIN IMMEDIATE; COMMIT if rc == 0 else ROLLBACK (returns rc, or ZTP_ESTORE). */
int store_tx_begin(struct store *st);
int store_tx_end(struct store *st, int rc);
/* Column col as a NUL-terminated string ("" for NULL), cut to cap. */
void store_col_text(sqlite3_stmt *s, int col, char *out, size_t cap);

#endif
