/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ZTP certificates in the store (store.h "store_ztpca.c"): owners' CAs,
 * whose private keys only the signer can open (they come here wrapped),
 * the CA a profile's modules or one module get, and each module's bundle
 * (its private key, device certificate and the CA's certificate), sealed
 * at rest with its RoT and CA as associated data. A rule that reads then
 * writes runs in one writing transaction.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "log.h"
#include "modmsg.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

enum ztpca_stmt {
	S_CA_INSERT,
	S_CA_GET,
	S_CA_LIST,
	S_CA_LIST_OWNER,
	S_OWNER,
	S_PROFILE_OWNER,
	S_MODULE_OWNER,
	S_PROF_SET,
	S_PROF_CLEAR,
	S_PROF_GET,
	S_MOD_SET,
	S_MOD_CLEAR,
	S_MOD_GET,
	S_BUNDLE_PUT,
	S_BUNDLE_GET,
	S_BUNDLE_DELIVERED,
	S__COUNT
};

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

#define CA_COLS                                                                            \
	"owner, name, cert, wrapped_key, device_days, imported, not_before, not_after,"     \
	" created_at"

static const char *const ztpca_sql[S__COUNT] = {
	[S_CA_INSERT] = "INSERT INTO ztp_cas(" CA_COLS ")"
			" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[S_CA_GET] = "SELECT " CA_COLS " FROM ztp_cas WHERE owner = ?1 AND name = ?2",
	[S_CA_LIST] = "SELECT " CA_COLS " FROM ztp_cas ORDER BY owner, name",
	[S_CA_LIST_OWNER] = "SELECT " CA_COLS " FROM ztp_cas WHERE owner = ?1 ORDER BY name",
	[S_OWNER] = "SELECT name FROM owners WHERE name = ?1",
	[S_PROFILE_OWNER] = "SELECT owner FROM profiles WHERE uid = ?1",
	[S_MODULE_OWNER] = "SELECT owner FROM modules WHERE rot_uid = ?1",
	[S_PROF_SET] = "INSERT INTO ztp_profile_cas(profile_uid, ca, updated_at) VALUES(?1, ?2, ?3)"
		       " ON CONFLICT(profile_uid) DO UPDATE SET ca = ?2, updated_at = ?3",
	[S_PROF_CLEAR] = "DELETE FROM ztp_profile_cas WHERE profile_uid = ?1",
	[S_PROF_GET] = "SELECT ca FROM ztp_profile_cas WHERE profile_uid = ?1",
	[S_MOD_SET] = "INSERT INTO ztp_module_cas(rot_uid, ca, updated_at) VALUES(?1, ?2, ?3)"
		      " ON CONFLICT(rot_uid) DO UPDATE SET ca = ?2, updated_at = ?3",
	[S_MOD_CLEAR] = "DELETE FROM ztp_module_cas WHERE rot_uid = ?1",
	[S_MOD_GET] = "SELECT ca FROM ztp_module_cas WHERE rot_uid = ?1",
	[S_BUNDLE_PUT] = "INSERT INTO ztp_bundles(rot_uid, owner, ca, bundle, cert_sha256, serial,"
			 " not_after, issued_at, delivered_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7,"
			 " ?8, 0) ON CONFLICT(rot_uid) DO UPDATE SET owner = ?2, ca = ?3,"
			 " bundle = ?4, cert_sha256 = ?5, serial = ?6, not_after = ?7,"
			 " issued_at = ?8, delivered_at = 0",
	[S_BUNDLE_GET] = "SELECT rot_uid, owner, ca, cert_sha256, serial, not_after, issued_at,"
			 " delivered_at, bundle FROM ztp_bundles WHERE rot_uid = ?1",
	[S_BUNDLE_DELIVERED] = "UPDATE ztp_bundles SET delivered_at = ?2 WHERE rot_uid = ?1",
};

static struct store_stmt *
prep(struct store *st, enum ztpca_stmt id)
{
	return store_prep(st, STORE_M_ZTPCA, (int)id, ztpca_sql[id]);
}

/* ---- CAs ---- */

static void
row_ca(struct store_stmt *s, struct store_ztpca *ca)
{
	size_t n;

	memset(ca, 0, sizeof(*ca));
	store_col_text(s, 0, ca->owner, sizeof(ca->owner));
	store_col_text(s, 1, ca->name, sizeof(ca->name));
	if ((n = store_col_bytes(s, 2)) <= sizeof(ca->cert)) {
		memcpy(ca->cert, store_col_blob(s, 2), n);
		ca->cert_len = n;
	}
	if ((n = store_col_bytes(s, 3)) <= sizeof(ca->key)) {
		memcpy(ca->key, store_col_blob(s, 3), n);
		ca->key_len = n;
	}
	ca->device_days = (uint32_t)store_col_int64(s, 4);
	ca->imported = store_col_int64(s, 5) != 0;
	ca->not_before = store_col_int64(s, 6);
	ca->not_after = store_col_int64(s, 7);
	ca->created_at = store_col_int64(s, 8);
}

/* 1 if text col 0 of the one row of statement id with ?1 = key exists; its text into out. */
static int
lookup_text(struct store *st, enum ztpca_stmt id, const char *key, char *out, size_t cap)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, id)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, key);
	if ((rc = store_step_row(st, s, "ztp-ca lookup")) != 0)
		return rc;
	if (out != NULL)
		store_col_text(s, 0, out, cap);
	store_reset(s);
	return 0;
}

int
store_ztpca_add(struct store *st, const struct store_ztpca *ca)
{
	struct store_stmt *s;
	int rc;

	if (!store_profile_owner_valid(ca->owner) || !store_profile_name_valid(ca->name) ||
	    ca->cert_len == 0 || ca->cert_len > sizeof(ca->cert) || ca->key_len == 0 ||
	    ca->key_len > sizeof(ca->key) || ca->device_days == 0 ||
	    ca->device_days > STORE_ZTPCA_DAYS_MAX)
		return ZTP_EINVAL;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((rc = lookup_text(st, S_OWNER, ca->owner, NULL, 0)) != 0)
		goto out;
	if ((s = prep(st, S_CA_INSERT)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, ca->owner);
	store_bind_text(s, 2, ca->name);
	store_bind_blob(s, 3, ca->cert, ca->cert_len);
	store_bind_blob(s, 4, ca->key, ca->key_len);
	store_bind_int64(s, 5, ca->device_days);
	store_bind_int64(s, 6, ca->imported ? 1 : 0);
	store_bind_int64(s, 7, ca->not_before);
	store_bind_int64(s, 8, ca->not_after);
	store_bind_int64(s, 9, ca->created_at);
	rc = store_exec(st, s);
out:
	return store_tx_end(st, rc);
}

int
store_ztpca_get(struct store *st, const char *owner, const char *name, struct store_ztpca *out)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_CA_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, owner);
	store_bind_text(s, 2, name);
	if ((rc = store_step_row(st, s, "ztp-ca get")) != 0)
		return rc;
	row_ca(s, out);
	store_reset(s);
	return 0;
}

int
store_ztpca_list(struct store *st, const char *owner, store_ztpca_cb cb, void *arg)
{
	struct store_ztpca *ca;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, owner != NULL && owner[0] != '\0' ? S_CA_LIST_OWNER : S_CA_LIST)) == NULL)
		return ZTP_ESTORE;
	if (owner != NULL && owner[0] != '\0')
		store_bind_text(s, 1, owner);
	if ((ca = OPENSSL_malloc(sizeof(*ca))) == NULL) {
		store_reset(s);
		return ZTP_ENOMEM;
	}
	while ((rc = store_step(s)) == STORE_ROW) {
		row_ca(s, ca);
		if ((rc = cb(ca, arg)) != 0)
			break;
	}
	store_reset(s);
	OPENSSL_clear_free(ca, sizeof(*ca));
	return store_rows_end(st, rc, "ztp-ca list");
}

/* Name the CA (of owner; NULL or "": none) for key with the statements set/clear. */
static int
set_link(struct store *st, const char *owner, enum ztpca_stmt set, enum ztpca_stmt clear,
    const char *key, const char *name, int64_t now)
{
	struct store_ztpca *ca;
	struct store_stmt *s;
	int rc;

	if (name == NULL || name[0] == '\0') {
		if ((s = prep(st, clear)) == NULL)
			return ZTP_ESTORE;
		store_bind_text(s, 1, key);
		return store_exec(st, s);
	}
	if ((ca = OPENSSL_malloc(sizeof(*ca))) == NULL)
		return ZTP_ENOMEM;
	rc = store_ztpca_get(st, owner, name, ca);
	OPENSSL_clear_free(ca, sizeof(*ca));
	if (rc != 0)
		return rc == ZTP_ENOENT ? ZTP_EINVAL : rc;
	if ((s = prep(st, set)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, key);
	store_bind_text(s, 2, name);
	store_bind_int64(s, 3, now);
	return store_exec(st, s);
}

int
store_ztpca_set_profile(struct store *st, const char *uid, const char *name, int64_t now)
{
	char owner[STORE_OWNER_MAX + 1];
	int rc;

	if (name != NULL && name[0] != '\0' && !store_profile_name_valid(name))
		return ZTP_EINVAL;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((rc = lookup_text(st, S_PROFILE_OWNER, uid, owner, sizeof(owner))) == 0)
		rc = set_link(st, owner, S_PROF_SET, S_PROF_CLEAR, uid, name, now);
	return store_tx_end(st, rc);
}

int
store_ztpca_set_module(struct store *st, const char *rot, const char *name, int64_t now)
{
	char owner[STORE_OWNER_MAX + 1];
	int rc;

	if (name != NULL && name[0] != '\0' && !store_profile_name_valid(name))
		return ZTP_EINVAL;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((rc = lookup_text(st, S_MODULE_OWNER, rot, owner, sizeof(owner))) == 0) {
		if (owner[0] == '\0' && name != NULL && name[0] != '\0')
			rc = ZTP_ECONFLICT;
		else
			rc = set_link(st, owner, S_MOD_SET, S_MOD_CLEAR, rot, name, now);
	}
	return store_tx_end(st, rc);
}

/* The CA named for key by statement id ("" if none). */
static int
link_of(struct store *st, enum ztpca_stmt id, const char *key, char name[STORE_PROFILE_NAME_MAX + 1])
{
	int rc = lookup_text(st, id, key, name, STORE_PROFILE_NAME_MAX + 1);

	if (rc == ZTP_ENOENT) {
		name[0] = '\0';
		rc = 0;
	}
	return rc;
}

int
store_ztpca_of_profile(struct store *st, const char *uid, char name[STORE_PROFILE_NAME_MAX + 1])
{
	return link_of(st, S_PROF_GET, uid, name);
}

int
store_ztpca_of_module(struct store *st, const char *rot, char name[STORE_PROFILE_NAME_MAX + 1])
{
	return link_of(st, S_MOD_GET, rot, name);
}

int
store_ztpca_for_module(struct store *st, const char *rot, const char *owner,
    const char *profile, struct store_ztpca *out)
{
	char name[STORE_PROFILE_NAME_MAX + 1], powner[STORE_OWNER_MAX + 1];
	int rc;

	if (owner == NULL || owner[0] == '\0')
		return ZTP_ENOENT;
	if ((rc = store_ztpca_of_module(st, rot, name)) != 0)
		return rc;
	if (name[0] == '\0' && profile != NULL && profile[0] != '\0') {
		/* the profile's CA, if the profile is this owner's */
		rc = lookup_text(st, S_PROFILE_OWNER, profile, powner, sizeof(powner));
		if (rc == ZTP_ENOENT || (rc == 0 && strcmp(powner, owner) != 0))
			return ZTP_ENOENT;
		if (rc != 0 || (rc = store_ztpca_of_profile(st, profile, name)) != 0)
			return rc;
	}
	if (name[0] == '\0')
		return ZTP_ENOENT;
	return store_ztpca_get(st, owner, name, out);
}

/* ---- bundles ---- */

/* The associated data of rot's bundle: "<owner>/<ca>". */
static void
bundle_extra(const char *owner, const char *ca, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", owner, ca);
}

int
store_ztpbundle_put(struct store *st, const struct store_ztpbundle *b, const uint8_t *bundle,
    size_t len)
{
	uint8_t *sealed;
	char extra[STORE_OWNER_MAX + STORE_PROFILE_NAME_MAX + 2];
	size_t cap = STORE_ZTPBUNDLE_MAX + CRYPTO_SEAL_OVERHEAD, sealedlen = 0;
	struct store_stmt *s;
	int rc;

	if (!modmsg_uid_hex_valid(b->rot_uid, strlen(b->rot_uid)) || len == 0 ||
	    len > STORE_ZTPBUNDLE_MAX || !store_profile_owner_valid(b->owner) ||
	    !store_profile_name_valid(b->ca))
		return ZTP_EINVAL;
	if ((sealed = OPENSSL_malloc(cap)) == NULL)
		return ZTP_ENOMEM;
	bundle_extra(b->owner, b->ca, extra, sizeof(extra));
	if ((rc = store_seal(st, "ztpbundle", b->rot_uid, extra, bundle, len, sealed, cap,
		 &sealedlen)) != 0)
		goto out;
	if ((s = prep(st, S_BUNDLE_PUT)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, b->rot_uid);
	store_bind_text(s, 2, b->owner);
	store_bind_text(s, 3, b->ca);
	store_bind_blob(s, 4, sealed, sealedlen);
	store_bind_blob(s, 5, b->cert_sha256, sizeof(b->cert_sha256));
	store_bind_text(s, 6, b->serial);
	store_bind_int64(s, 7, b->not_after);
	store_bind_int64(s, 8, b->issued_at);
	rc = store_exec(st, s);
out:
	OPENSSL_free(sealed);
	return rc;
}

int
store_ztpbundle_get(struct store *st, const char *rot, struct store_ztpbundle *out,
    uint8_t *bundle, size_t cap, size_t *len)
{
	char extra[STORE_OWNER_MAX + STORE_PROFILE_NAME_MAX + 2];
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_BUNDLE_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	if ((rc = store_step_row(st, s, "ztp bundle get")) != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	store_col_text(s, 0, out->rot_uid, sizeof(out->rot_uid));
	store_col_text(s, 1, out->owner, sizeof(out->owner));
	store_col_text(s, 2, out->ca, sizeof(out->ca));
	if (store_col_bytes(s, 3) == sizeof(out->cert_sha256))
		memcpy(out->cert_sha256, store_col_blob(s, 3), sizeof(out->cert_sha256));
	store_col_text(s, 4, out->serial, sizeof(out->serial));
	out->not_after = store_col_int64(s, 5);
	out->issued_at = store_col_int64(s, 6);
	out->delivered_at = store_col_int64(s, 7);
	if (bundle != NULL) {
		bundle_extra(out->owner, out->ca, extra, sizeof(extra));
		rc = store_unseal(st, "ztpbundle", rot, extra, store_col_blob(s, 8),
		    store_col_bytes(s, 8), bundle, cap, len);
		if (rc != 0)
			log_warnx("store: the ZTP bundle of module %s does not open (wrong data key?)",
			    rot);
	}
	store_reset(s);
	return rc;
}

int
store_ztpbundle_delivered(struct store *st, const char *rot, const uint8_t sha[32], int64_t now)
{
	struct store_ztpbundle b;
	struct store_stmt *s;
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((rc = store_ztpbundle_get(st, rot, &b, NULL, 0, NULL)) != 0)
		goto out;
	if (CRYPTO_memcmp(b.cert_sha256, sha, sizeof(b.cert_sha256)) != 0) {
		rc = ZTP_ECONFLICT;
		goto out;
	}
	if ((s = prep(st, S_BUNDLE_DELIVERED)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, rot);
	store_bind_int64(s, 2, now);
	rc = store_exec(st, s);
out:
	return store_tx_end(st, rc);
}
