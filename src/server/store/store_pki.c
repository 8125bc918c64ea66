/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Foreign PKIs in the store (store.h "store_pki.c"): the CAs whose CRLs
 * ztpd follows, with the state of the last fetch, and the certificates of
 * other PKIs that devices presented (by issuer and serial), so that a CRL
 * can be turned into the devices it concerns. The rule that a CRL never
 * goes back in time (its number, its thisUpdate) is checked here, in the
 * transaction that accepts it; taking a due fetch and acting on a listed
 * certificate are single conditional UPDATEs, so that several connections
 * (or several ztpd on one database) take each at most once.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

enum pki_stmt {
	S_INSERT,
	S_GET,
	S_LIST,
	S_DELETE,
	S_EXISTS,
	S_BEGIN_FORCE,
	S_BEGIN_DUE,
	S_FAILED,
	S_LAST_CRL,
	S_ACCEPT,
	S_SEEN,
	S_FC_GET,
	S_LISTED,
	S_MARK,
	S_UNMARK,
	S__COUNT
};

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");
_Static_assert(2 + STORE_FOREIGN_CHUNK <= STORE_PARAM_MAX, "raise STORE_PARAM_MAX");

#define PKI_COLS                                                                           \
	"name, ca, crl_url, interval_s, created_at, last_fetch_at, last_ok_at, last_error,"  \
	" crl_number, crl_this_update, revoked"
#define FC_COLS "issuer, serial, udid, kind, seen_at, blocked_at"

static const char *const pki_sql[S__COUNT] = {
	[S_INSERT] = "INSERT INTO pkis(name, ca, crl_url, interval_s, created_at)"
		     " VALUES(?1, ?2, ?3, ?4, ?5)",
	[S_GET] = "SELECT " PKI_COLS " FROM pkis WHERE name = ?1",
	[S_LIST] = "SELECT " PKI_COLS " FROM pkis ORDER BY name",
	[S_DELETE] = "DELETE FROM pkis WHERE name = ?1",
	[S_EXISTS] = "SELECT name FROM pkis WHERE name = ?1",
	[S_BEGIN_FORCE] = "UPDATE pkis SET last_fetch_at = ?2 WHERE name = ?1",
	[S_BEGIN_DUE] = "UPDATE pkis SET last_fetch_at = ?2 WHERE name = ?1"
			" AND (last_fetch_at = 0 OR last_fetch_at <= ?2 - 1000 * (CASE WHEN"
			" last_error <> '' AND interval_s > ?3 THEN ?3 ELSE interval_s END))",
	[S_FAILED] = "UPDATE pkis SET last_error = ?2 WHERE name = ?1",
	[S_LAST_CRL] = "SELECT crl_number, crl_this_update, last_ok_at FROM pkis WHERE name = ?1",
	[S_ACCEPT] = "UPDATE pkis SET last_ok_at = ?2, last_error = '', crl_number = ?3,"
		     " crl_this_update = ?4, revoked = ?5 WHERE name = ?1",
	[S_SEEN] = "INSERT INTO foreign_certs(issuer, serial, udid, kind, seen_at)"
		   " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(issuer, serial)"
		   " DO UPDATE SET udid = ?3, kind = ?4, seen_at = ?5",
	[S_FC_GET] = "SELECT " FC_COLS " FROM foreign_certs WHERE issuer = ?1 AND serial = ?2",
	[S_LISTED] = NULL, /* built by prep_listed */
	[S_MARK] = "UPDATE foreign_certs SET blocked_at = ?3"
		   " WHERE issuer = ?1 AND serial = ?2 AND blocked_at = 0",
	[S_UNMARK] = "UPDATE foreign_certs SET blocked_at = 0 WHERE issuer = ?1 AND serial = ?2",
};

static struct store_stmt *
prep(struct store *st, enum pki_stmt id)
{
	return store_prep(st, STORE_M_PKI, (int)id, pki_sql[id]);
}

/* ---- the forms of the values ---- */

int
store_pki_name_valid(const char *name)
{
	return store_owner_valid(name);
}

int
store_cert_kind_valid(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > STORE_CERT_KIND_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* 1 if s is n..max characters of upper-case (upper) or lower-case hex, of even length. */
static int
hex_form(const char *s, size_t min, size_t max, int upper)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n < min || n > max || n % 2 != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(upper ? s[i] >= 'A' && s[i] <= 'F' : s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
issuer_valid(const char *s)
{
	return hex_form(s, STORE_ISSUER_HEX - 1, STORE_ISSUER_HEX - 1, 0);
}

static int
serial_valid(const char *s)
{
	return hex_form(s, 2, STORE_SERIAL_HEX - 1, 1);
}

/* "" or upper-case hex of at most 20 octets (an odd length too: a number, not bytes). */
static int
crlnum_valid(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (s == NULL || n > STORE_PKI_CRLNUM_HEX - 1)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

/* Compare two CRL numbers in hex (crlnum_valid, not ""): <0, 0, >0 as a < b, a == b, a > b. */
static int
crlnum_cmp(const char *a, const char *b)
{
	size_t na, nb;

	while (*a == '0' && a[1] != '\0')
		a++;
	while (*b == '0' && b[1] != '\0')
		b++;
	na = strlen(a);
	nb = strlen(b);
	if (na != nb)
		return na < nb ? -1 : 1;
	return strcmp(a, b);
}

/* ---- PKIs ---- */

static void
row_pki(struct store_stmt *s, struct store_pki *p)
{
	size_t n;

	memset(p, 0, sizeof(*p));
	store_col_text(s, 0, p->name, sizeof(p->name));
	if ((n = store_col_bytes(s, 1)) <= sizeof(p->ca)) {
		if (n > 0)
			memcpy(p->ca, store_col_blob(s, 1), n);
		p->ca_len = n;
	}
	store_col_text(s, 2, p->crl_url, sizeof(p->crl_url));
	p->interval_s = store_col_int64(s, 3);
	p->created_at = store_col_int64(s, 4);
	p->last_fetch_at = store_col_int64(s, 5);
	p->last_ok_at = store_col_int64(s, 6);
	store_col_text(s, 7, p->last_error, sizeof(p->last_error));
	store_col_text(s, 8, p->crl_number, sizeof(p->crl_number));
	p->crl_this_update = store_col_int64(s, 9);
	p->revoked = store_col_int64(s, 10);
}

int
store_pki_add(struct store *st, const struct store_pki *p)
{
	struct store_stmt *s;
	size_t n = strnlen(p->crl_url, sizeof(p->crl_url));

	if (!store_pki_name_valid(p->name) || p->ca_len == 0 || p->ca_len > sizeof(p->ca) ||
	    n == 0 || n == sizeof(p->crl_url) || p->interval_s < STORE_PKI_INTERVAL_MIN ||
	    p->interval_s > STORE_PKI_INTERVAL_MAX)
		return ZTP_EINVAL;
	if ((s = prep(st, S_INSERT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, p->name);
	store_bind_blob(s, 2, p->ca, p->ca_len);
	store_bind_text(s, 3, p->crl_url);
	store_bind_int64(s, 4, p->interval_s);
	store_bind_int64(s, 5, p->created_at);
	return store_exec(st, s);
}

int
store_pki_get(struct store *st, const char *name, struct store_pki *out)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	if ((rc = store_step_row(st, s, "pki get")) != 0)
		return rc;
	row_pki(s, out);
	store_reset(s);
	return 0;
}

int
store_pki_list(struct store *st, store_pki_cb cb, void *arg)
{
	struct store_pki *p;
	struct store_stmt *s;
	int rc, stop = 0;

	if ((s = prep(st, S_LIST)) == NULL)
		return ZTP_ESTORE;
	if ((p = OPENSSL_malloc(sizeof(*p))) == NULL) {
		store_reset(s);
		return ZTP_ENOMEM;
	}
	while ((rc = store_step(s)) == STORE_ROW) {
		row_pki(s, p);
		if ((stop = cb(p, arg)) != 0)
			break;
	}
	store_reset(s);
	OPENSSL_free(p);
	if (stop != 0)
		return stop < 0 ? stop : 0;
	return store_rows_end(st, rc, "pki list");
}

int
store_pki_delete(struct store *st, const char *name)
{
	struct store_stmt *s;

	if ((s = prep(st, S_DELETE)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	return store_exec_row(st, s);
}

/* 0 if name is a PKI, ZTP_ENOENT if not. */
static int
pki_exists(struct store *st, const char *name)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_EXISTS)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	if ((rc = store_step_row(st, s, "pki lookup")) == 0)
		store_reset(s);
	return rc;
}

int64_t
store_pki_due_at(const struct store_pki *p)
{
	int64_t wait = p->interval_s;

	if (p->last_fetch_at == 0)
		return 0;
	if (p->last_error[0] != '\0' && wait > STORE_PKI_RETRY_S)
		wait = STORE_PKI_RETRY_S;
	return p->last_fetch_at + wait * 1000;
}

int
store_pki_fetch_begin(struct store *st, const char *name, int64_t now, int force, int *claimed)
{
	struct store_stmt *s;
	int rc;

	*claimed = 0;
	if ((s = prep(st, force ? S_BEGIN_FORCE : S_BEGIN_DUE)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	store_bind_int64(s, 2, now);
	if (!force)
		store_bind_int64(s, 3, STORE_PKI_RETRY_S);
	if ((rc = store_exec(st, s)) != 0)
		return rc;
	if (store_changes(st) == 1) {
		*claimed = 1;
		return 0;
	}
	return pki_exists(st, name);
}

int
store_pki_fetch_failed(struct store *st, const char *name, const char *error)
{
	char clean[STORE_DETAIL_MAX];
	struct store_stmt *s;

	/* never "": "" is what an accepted fetch leaves */
	store_text_clean(error != NULL && error[0] != '\0' ? error : "failed", clean,
	    sizeof(clean));
	if ((s = prep(st, S_FAILED)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, clean);
	return store_exec_row(st, s);
}

/* The check of store_pki_accept against the last CRL accepted (0 if there was none). */
static int
not_older(const char *last_num, int64_t last_update, int64_t last_ok, const char *num,
    int64_t this_update, char *why, size_t cap)
{
	if (last_ok == 0)
		return 0;
	if (last_num[0] != '\0' && num[0] == '\0')
		return ztp_errf(why, cap, ZTP_ECONFLICT, "the CRL has no crlNumber, the last one "
		    "accepted had %s", last_num);
	if (last_num[0] != '\0' && crlnum_cmp(num, last_num) < 0)
		return ztp_errf(why, cap, ZTP_ECONFLICT, "the CRL's number %s is below %s, the "
		    "last one accepted: an older CRL", num, last_num);
	if (this_update < last_update)
		return ztp_errf(why, cap, ZTP_ECONFLICT, "the CRL's thisUpdate is before the last "
		    "accepted one's: an older CRL");
	return 0;
}

int
store_pki_accept(struct store *st, const char *name, int64_t now, const char *crl_number,
    int64_t this_update, int64_t revoked, char *why, size_t cap)
{
	char last_num[STORE_PKI_CRLNUM_HEX];
	int64_t last_update, last_ok;
	struct store_stmt *s;
	int rc;

	if (!crlnum_valid(crl_number) || this_update < 0 || revoked < 0)
		return ztp_errf(why, cap, ZTP_EINVAL, "a CRL number, time or count out of bounds");
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((s = prep(st, S_LAST_CRL)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, name);
	if ((rc = store_step_row(st, s, "pki last crl")) != 0) {
		if (rc == ZTP_ENOENT)
			ztp_errf(why, cap, rc, "no such PKI");
		goto out;
	}
	store_col_text(s, 0, last_num, sizeof(last_num));
	last_update = store_col_int64(s, 1);
	last_ok = store_col_int64(s, 2);
	store_reset(s);
	if (!crlnum_valid(last_num))
		last_num[0] = '\0';
	if ((rc = not_older(last_num, last_update, last_ok, crl_number, this_update, why,
		 cap)) != 0)
		goto out;
	if ((s = prep(st, S_ACCEPT)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, name);
	store_bind_int64(s, 2, now);
	store_bind_text(s, 3, crl_number);
	store_bind_int64(s, 4, this_update);
	store_bind_int64(s, 5, revoked);
	rc = store_exec_row(st, s);
out:
	return store_tx_end(st, rc);
}

/* ---- certificates seen ---- */

static void
row_fc(struct store_stmt *s, struct store_foreign_cert *fc)
{
	memset(fc, 0, sizeof(*fc));
	store_col_text(s, 0, fc->issuer, sizeof(fc->issuer));
	store_col_text(s, 1, fc->serial, sizeof(fc->serial));
	store_col_text(s, 2, fc->udid, sizeof(fc->udid));
	store_col_text(s, 3, fc->kind, sizeof(fc->kind));
	fc->seen_at = store_col_int64(s, 4);
	fc->blocked_at = store_col_int64(s, 5);
}

int
store_foreign_cert_seen(struct store *st, const char *issuer, const char *serial,
    const char *udid, const char *kind, int64_t now)
{
	struct store_stmt *s;

	if (!issuer_valid(issuer) || !serial_valid(serial) || !store_udid_valid(udid) ||
	    !store_cert_kind_valid(kind))
		return ZTP_EINVAL;
	if ((s = prep(st, S_SEEN)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, issuer);
	store_bind_text(s, 2, serial);
	store_bind_text(s, 3, udid);
	store_bind_text(s, 4, kind);
	store_bind_int64(s, 5, now);
	return store_exec(st, s);
}

int
store_foreign_cert_get(struct store *st, const char *issuer, const char *serial,
    struct store_foreign_cert *out)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_FC_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, issuer);
	store_bind_text(s, 2, serial);
	if ((rc = store_step_row(st, s, "foreign cert get")) != 0)
		return rc;
	row_fc(s, out);
	store_reset(s);
	return 0;
}

/* The lookup of STORE_FOREIGN_CHUNK serials of one issuer: ?1 the issuer, ?2.. the serials. */
static struct store_stmt *
prep_listed(struct store *st)
{
	char sql[160 + STORE_FOREIGN_CHUNK * 6];
	size_t o;
	int i, n;

	n = snprintf(sql, sizeof(sql), "SELECT " FC_COLS " FROM foreign_certs WHERE issuer = ?1"
	    " AND serial IN (");
	if (n < 0 || (size_t)n >= sizeof(sql))
		return NULL;
	o = (size_t)n;
	for (i = 0; i < STORE_FOREIGN_CHUNK; i++) {
		n = snprintf(sql + o, sizeof(sql) - o, "%s?%d", i > 0 ? ", " : "", i + 2);
		if (n < 0 || (size_t)n >= sizeof(sql) - o)
			return NULL;
		o += (size_t)n;
	}
	if (o + 2 > sizeof(sql))
		return NULL;
	memcpy(sql + o, ")", 2);
	return store_prep(st, STORE_M_PKI, S_LISTED, sql);
}

int
store_foreign_cert_listed(struct store *st, const char *issuer, const char *const *serials,
    size_t n, store_foreign_cert_cb cb, void *arg)
{
	struct store_foreign_cert fc;
	struct store_stmt *s;
	size_t at, i, k;
	int rc, stop = 0, any;

	if (!issuer_valid(issuer))
		return ZTP_EINVAL;
	for (at = 0; at < n; at += STORE_FOREIGN_CHUNK) {
		k = n - at < STORE_FOREIGN_CHUNK ? n - at : STORE_FOREIGN_CHUNK;
		if ((s = prep_listed(st)) == NULL)
			return ZTP_ESTORE;
		store_bind_text(s, 1, issuer);
		any = 0;
		for (i = 0; i < STORE_FOREIGN_CHUNK; i++) {
			if (i < k && serial_valid(serials[at + i])) {
				store_bind_text(s, (int)i + 2, serials[at + i]);
				any = 1;
			} else {
				store_bind_null(s, (int)i + 2);
			}
		}
		if (!any) {
			store_reset(s);
			continue;
		}
		while ((rc = store_step(s)) == STORE_ROW) {
			row_fc(s, &fc);
			if ((stop = cb(&fc, arg)) != 0)
				break;
		}
		store_reset(s);
		if (stop != 0)
			return stop < 0 ? stop : 0;
		if ((rc = store_rows_end(st, rc, "foreign certs listed")) != 0)
			return rc;
	}
	return 0;
}

int
store_foreign_cert_mark(struct store *st, const char *issuer, const char *serial, int64_t at)
{
	struct store_foreign_cert fc;
	struct store_stmt *s;
	int rc;

	if (at < 0)
		return ZTP_EINVAL;
	if ((s = prep(st, at > 0 ? S_MARK : S_UNMARK)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, issuer);
	store_bind_text(s, 2, serial);
	if (at > 0)
		store_bind_int64(s, 3, at);
	if ((rc = store_exec(st, s)) != 0)
		return rc;
	if (store_changes(st) == 1)
		return 0;
	/* nothing changed: never seen, or (to mark) marked already */
	if ((rc = store_foreign_cert_get(st, issuer, serial, &fc)) != 0)
		return rc;
	return at > 0 ? ZTP_EEXIST : 0;
}
