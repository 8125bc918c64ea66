/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's device records: the credentials (client id, user, password)
 * a device gets for its SIM and Device ID, made once with a fresh random
 * password and then returned as they are. The password is sealed at rest
 * with the SIM and Device ID as associated data.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "clock.h"
#include "crypto.h"
#include "hex.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

enum device_stmt {
	S_DEV_DELETE,
	S_DEV_GET,
	S_DEV_INSERT,
	S__COUNT
};

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

static const char *const device_sql[S__COUNT] = {
	[S_DEV_DELETE] = "DELETE FROM devices WHERE iccid = ?1",
	[S_DEV_GET] = "SELECT cli, usr, pwd, created_at FROM devices WHERE iccid = ?1 AND device_id = ?2",
	[S_DEV_INSERT] = ("INSERT INTO devices(iccid, device_id, cli, usr, pwd, created_at)"
			  " VALUES(?1, ?2, ?3, ?4, ?5, ?6)"),
};

static struct store_stmt *
prep(struct store *st, enum device_stmt id)
{
	return store_prep(st, STORE_M_DEVICE, (int)id, device_sql[id]);
}

/* The record of (iccid, device_id) with its password opened; ZTP_ENOENT if none. */
static int
device_get(struct store *st, const char *iccid, const char *device_id, struct store_device *out)
{
	size_t pwdlen;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_DEV_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, iccid);
	store_bind_text(s, 2, device_id);
	if ((rc = store_step_row(st, s, "device get")) != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	snprintf(out->iccid, sizeof(out->iccid), "%s", iccid);
	snprintf(out->device_id, sizeof(out->device_id), "%s", device_id);
	store_col_text(s, 0, out->cli, sizeof(out->cli));
	store_col_text(s, 1, out->usr, sizeof(out->usr));
	rc = store_unseal(st, "pwd", iccid, device_id, store_col_blob(s, 2),
	    store_col_bytes(s, 2), (uint8_t *)out->pwd, sizeof(out->pwd) - 1, &pwdlen);
	if (rc == 0)
		out->pwd[pwdlen] = '\0';
	out->created_at = store_col_int64(s, 3);
	store_reset(s);
	return rc;
}

/* Fresh credentials for (iccid, device_id): a random password of 18 bytes in hex. */
static int
device_new(struct store_device *d, const char *iccid, const char *device_id)
{
	uint8_t raw[18];
	int rc;

	memset(d, 0, sizeof(*d));
	snprintf(d->iccid, sizeof(d->iccid), "%s", iccid);
	snprintf(d->device_id, sizeof(d->device_id), "%s", device_id);
	snprintf(d->cli, sizeof(d->cli), "ztp-%s", device_id);
	snprintf(d->usr, sizeof(d->usr), "%s", iccid);
	if ((rc = crypto_random(raw, sizeof(raw))) == 0)
		rc = hex_encode(raw, sizeof(raw), d->pwd, sizeof(d->pwd));
	OPENSSL_cleanse(raw, sizeof(raw));
	d->created_at = clock_now_ms();
	return rc;
}

int
store_device_get_or_create(struct store *st, const char *iccid, const char *device_id,
    struct store_device *out)
{
	uint8_t sealed[64 + CRYPTO_SEAL_OVERHEAD];
	struct store_device d;
	size_t sealedlen;
	struct store_stmt *s;
	int rc;

	memset(&d, 0, sizeof(d));
	/* the common case, a record made before, takes no lock */
	if ((rc = device_get(st, iccid, device_id, out)) != ZTP_ENOENT)
		return rc;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = device_get(st, iccid, device_id, out);
	if (rc != ZTP_ENOENT)
		goto out;
	if ((rc = device_new(&d, iccid, device_id)) != 0 ||
	    (rc = store_seal(st, "pwd", iccid, device_id, (const uint8_t *)d.pwd, strlen(d.pwd),
		 sealed, sizeof(sealed), &sealedlen)) != 0)
		goto out;
	if ((s = prep(st, S_DEV_INSERT)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, iccid);
	store_bind_text(s, 2, device_id);
	store_bind_text(s, 3, d.cli);
	store_bind_text(s, 4, d.usr);
	store_bind_blob(s, 5, sealed, sealedlen);
	store_bind_int64(s, 6, d.created_at);
	if ((rc = store_exec(st, s)) != 0)
		goto out;
	*out = d;
out:
	OPENSSL_cleanse(&d, sizeof(d));
	return store_tx_end(st, rc);
}

int
store_device_purge(struct store *st, const char *iccid)
{
	return store_exec_text(st, STORE_M_DEVICE, S_DEV_DELETE, device_sql[S_DEV_DELETE],
	    iccid);
}
