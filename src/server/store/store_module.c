/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's side of the module protocol (docs/protocol/security-service.md):
 * a RoT's keys, sealed at rest each with its RoT and epoch as associated
 * data (the factory secret with "factory"), the pending key of a bootstrap
 * or heartbeat, its commit (the ratchet), what a module reports, and
 * quarantine. Every rule that reads then writes runs in one writing
 * transaction (store_tx_begin), so two connections of one RoT, on any
 * worker or ztpd, see each other's commits.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "log.h"
#include "modmsg.h"
#include "store.h"
#include "store_int.h"
#include "ztp/crypto_ossl.h"
#include "ztp/err.h"
#include "ztp/rotsvc.h"

enum module_stmt {
	S_MOD_GET,
	S_MOD_KEYS,
	S_MOD_HIST,
	S_MOD_PENDING_SET,
	S_MOD_COMMIT_READ,
	S_MOD_HIST_ADD,
	S_MOD_HIST_TRIM,
	S_MOD_COMMIT,
	S_MOD_CAMPAIGN_APPLIED,
	S_MOD_PROFILE,
	S_MOD_REPORT,
	S_MOD_CLAIM,
	S_MOD_QUARANTINE,
	S_MOD_CAMPAIGN_FAILED,
	S_MOD_ADD,
	S_MOD_SVC_ADD,
	S_MOD_SVC_GET,
	S_MOD_BY_SID,
	S_MOD_DOWN_NEXT,
	S__COUNT
};

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

/*
 * PostgreSQL types an untyped parameter from where it is first used: a
 * parameter first compared with a literal ("?5 > 0") would be a 32-bit
 * integer, too small for a time in milliseconds or a u32 counter. Such a
 * parameter is CAST to BIGINT (a no-op for SQLite).
 */
static const char *const module_sql[S__COUNT] = {
	[S_MOD_GET] = "SELECT " STORE_MOD_COLS " FROM modules WHERE rot_uid = ?1",
	[S_MOD_KEYS] = "SELECT factory_key, factory_retired, epoch, op_key, pending_epoch,"
		       " pending_key FROM modules WHERE rot_uid = ?1",
	[S_MOD_HIST] = "SELECT key FROM module_keys WHERE rot_uid = ?1 AND epoch = ?2",
	[S_MOD_PENDING_SET] = "UPDATE modules SET pending_epoch = ?3, pending_key = ?4,"
			      " pending_features = ?5, pending_at = ?6, updated_at = ?6"
			      " WHERE rot_uid = ?1 AND epoch = ?2 AND quarantined = 0"
			      " AND (?2 > 0 OR factory_retired = 0)",
	[S_MOD_COMMIT_READ] = "SELECT pending_epoch, pending_key, epoch, op_key, factory_retired,"
			      " owner, profile_uid, quarantined, pending_at FROM modules"
			      " WHERE rot_uid = ?1",
	[S_MOD_HIST_ADD] = "INSERT INTO module_keys(rot_uid, epoch, key, retired_at)"
			   " VALUES(?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
	[S_MOD_HIST_TRIM] = "DELETE FROM module_keys WHERE rot_uid = ?1 AND epoch <= ?2",
	[S_MOD_COMMIT] = "UPDATE modules SET epoch = pending_epoch, op_key = pending_key,"
			 " pending_epoch = 0, pending_key = NULL, factory_retired = 1,"
			 " bootstrapped_at = CASE WHEN bootstrapped_at = 0 THEN ?2 ELSE"
			 " bootstrapped_at END,"
			 " features = CASE WHEN factory_retired = 0 THEN pending_features ELSE"
			 " features END,"
			 " features_applied = pending_features,"
			 " last_heartbeat_at = CASE WHEN ?3 = 1 THEN pending_at ELSE"
			 " last_heartbeat_at END,"
			 " heartbeats = heartbeats + ?3,"
			 " owner = ?4, claimed_at = CASE WHEN CAST(?5 AS BIGINT) > 0 THEN"
			 " CAST(?5 AS BIGINT) ELSE claimed_at END,"
			 " updated_at = ?2 WHERE rot_uid = ?1",
	[S_MOD_CAMPAIGN_APPLIED] = "UPDATE campaign_devices SET state = 1, updated_at = ?2"
				   " WHERE rot_uid = ?1 AND state = 0 AND created_at <= ?3",
	[S_MOD_PROFILE] = "SELECT owner, features, hb_interval_s, hb_min_interval_s"
			  " FROM profiles WHERE uid = ?1",
	[S_MOD_REPORT] = "UPDATE modules SET profile_uid = COALESCE(profile_uid, ?2),"
			 " serial = COALESCE(serial, ?3), firmware = COALESCE(?4, firmware),"
			 " boots = CASE WHEN CAST(?5 AS BIGINT) >= 0 THEN CAST(?5 AS BIGINT) ELSE boots"
			 " END, updated_at = ?6"
			 " WHERE rot_uid = ?1",
	[S_MOD_CLAIM] = "UPDATE modules SET owner = ?2, claimed_at = ?3, updated_at = ?3,"
			" features = ?4 WHERE rot_uid = ?1 AND owner IS NULL",
	[S_MOD_QUARANTINE] = "UPDATE modules SET quarantined = 1, quarantined_at = CASE WHEN"
			     " quarantined = 0 THEN ?2 ELSE quarantined_at END,"
			     " quarantine_reason = CASE WHEN quarantined = 0 THEN ?3 ELSE"
			     " quarantine_reason END, clones = clones + ?4, pending_epoch = 0,"
			     " pending_key = NULL, updated_at = ?2 WHERE rot_uid = ?1",
	[S_MOD_ADD] = "INSERT INTO modules(rot_uid, factory_key, batch, created_at, updated_at)"
		      " VALUES(?1, ?2, ?3, ?4, ?4)",
	[S_MOD_CAMPAIGN_FAILED] = "UPDATE campaign_devices SET state = 2, updated_at = ?2"
				  " WHERE rot_uid = ?1 AND state = 0",
	[S_MOD_SVC_ADD] = "INSERT INTO module_svc_keys(rot_uid, epoch, key, created_at)"
			  " VALUES(?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
	[S_MOD_SVC_GET] = "SELECT key FROM module_svc_keys WHERE rot_uid = ?1 AND epoch = ?2",
	[S_MOD_BY_SID] = "SELECT " STORE_MOD_COLS " FROM modules WHERE sid = ?1",
	[S_MOD_DOWN_NEXT] = "UPDATE modules SET e2e_down = e2e_down + 1, updated_at = ?2"
			    " WHERE rot_uid = ?1",
};

static struct store_stmt *
prep(struct store *st, enum module_stmt id)
{
	return store_prep(st, STORE_M_MODULE, (int)id, module_sql[id]);
}

void
store_row_module(struct store_stmt *s, struct store_mod *m)
{
	memset(m, 0, sizeof(*m));
	store_col_text(s, 0, m->rot_uid, sizeof(m->rot_uid));
	m->factory_retired = store_col_int64(s, 1) != 0;
	m->epoch = (uint32_t)store_col_int64(s, 2);
	m->pending_epoch = (uint32_t)store_col_int64(s, 3);
	m->pending_features = (uint32_t)store_col_int64(s, 4);
	m->pending_at = store_col_int64(s, 5);
	store_col_text(s, 6, m->profile_uid, sizeof(m->profile_uid));
	store_col_text(s, 7, m->serial, sizeof(m->serial));
	store_col_text(s, 8, m->owner, sizeof(m->owner));
	store_col_text(s, 9, m->firmware, sizeof(m->firmware));
	m->features = (uint32_t)store_col_int64(s, 10);
	m->features_applied = (uint32_t)store_col_int64(s, 11);
	m->quarantined = store_col_int64(s, 12) != 0;
	m->quarantined_at = store_col_int64(s, 13);
	store_col_text(s, 14, m->quarantine_reason, sizeof(m->quarantine_reason));
	m->clones = store_col_int64(s, 15);
	m->bootstrapped_at = store_col_int64(s, 16);
	m->claimed_at = store_col_int64(s, 17);
	m->last_heartbeat_at = store_col_int64(s, 18);
	m->heartbeats = store_col_int64(s, 19);
	m->boots = store_col_int64(s, 20);
	store_col_text(s, 21, m->batch, sizeof(m->batch));
	m->created_at = store_col_int64(s, 22);
	m->updated_at = store_col_int64(s, 23);
	m->sid = (uint32_t)store_col_int64(s, 24);
	m->e2e_down = (uint64_t)store_col_int64(s, 25);
}

int
store_module_add(struct store *st, const char *rot, const uint8_t *factory, const char *batch,
    int64_t now)
{
	uint8_t sealed[STORE_MODKEY_LEN + CRYPTO_SEAL_OVERHEAD];
	struct store_stmt *s;
	size_t sealedlen = 0;
	int rc;

	if (!modmsg_uid_hex_valid(rot, strlen(rot)))
		return ZTP_EINVAL;
	if ((rc = store_seal(st, "module", rot, "factory", factory, STORE_MODKEY_LEN, sealed,
		 sizeof(sealed), &sealedlen)) != 0)
		return rc;
	if ((s = prep(st, S_MOD_ADD)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	store_bind_blob(s, 2, sealed, sealedlen);
	store_bind_opt_text(s, 3, batch);
	store_bind_int64(s, 4, now);
	return store_exec(st, s);
}

int
store_module_get(struct store *st, const char *rot, struct store_mod *out)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_MOD_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	if ((rc = store_step_row(st, s, "module get")) != 0)
		return rc;
	store_row_module(s, out);
	store_reset(s);
	return 0;
}

/* The associated data of a key: "factory", or "epoch:<n>". */
static void
key_extra(uint32_t epoch, char *out, size_t cap)
{
	if (epoch == 0)
		snprintf(out, cap, "factory");
	else
		snprintf(out, cap, "epoch:%" PRIu32, epoch);
}

/* Open a sealed key of rot's epoch into key (STORE_MODKEY_LEN bytes). */
static int
key_open(struct store *st, const char *rot, uint32_t epoch, const void *sealed, size_t len,
    uint8_t *key)
{
	char extra[32];
	size_t n = 0;
	int rc;

	key_extra(epoch, extra, sizeof(extra));
	rc = store_unseal(st, "module", rot, extra, sealed, len, key, STORE_MODKEY_LEN, &n);
	if (rc == 0 && n != STORE_MODKEY_LEN)
		rc = ZTP_EAUTH;
	if (rc != 0) {
		OPENSSL_cleanse(key, STORE_MODKEY_LEN);
		log_warnx("store: a sealed key of module %s does not open (wrong data key?)", rot);
	}
	return rc;
}

int
store_module_key(struct store *st, const char *rot, uint32_t epoch, uint8_t *key,
    enum store_modkey_kind *kind)
{
	struct store_stmt *s;
	uint32_t cur, pend;
	int rc, retired;

	if ((s = prep(st, S_MOD_KEYS)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	if ((rc = store_step_row(st, s, "module keys")) != 0)
		return rc;
	retired = store_col_int64(s, 1) != 0;
	cur = (uint32_t)store_col_int64(s, 2);
	pend = (uint32_t)store_col_int64(s, 4);
	rc = ZTP_ENOENT;
	if (epoch == 0) {
		*kind = retired ? STORE_MODKEY_RETIRED : STORE_MODKEY_FACTORY;
		rc = key_open(st, rot, 0, store_col_blob(s, 0), store_col_bytes(s, 0), key);
	} else if (epoch == cur && store_col_bytes(s, 3) > 0) {
		*kind = STORE_MODKEY_CURRENT;
		rc = key_open(st, rot, epoch, store_col_blob(s, 3), store_col_bytes(s, 3), key);
	} else if (epoch == pend && store_col_bytes(s, 5) > 0) {
		*kind = STORE_MODKEY_PENDING;
		rc = key_open(st, rot, epoch, store_col_blob(s, 5), store_col_bytes(s, 5), key);
	}
	store_reset(s);
	if (rc != ZTP_ENOENT || epoch == 0 || epoch >= cur)
		return rc;
	/* an earlier epoch: kept a while, to recognise a clone that fell behind */
	if ((s = prep(st, S_MOD_HIST)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	store_bind_int64(s, 2, epoch);
	if ((rc = store_step_row(st, s, "module history")) == 0) {
		*kind = STORE_MODKEY_RETIRED;
		rc = key_open(st, rot, epoch, store_col_blob(s, 0), store_col_bytes(s, 0), key);
		store_reset(s);
	}
	return rc;
}

int
store_module_pending_set(struct store *st, const char *rot, uint32_t cur_epoch,
    uint32_t pending_epoch, const uint8_t *key, uint32_t features, int64_t now)
{
	uint8_t sealed[STORE_MODKEY_LEN + CRYPTO_SEAL_OVERHEAD];
	struct store_mod m;
	struct store_stmt *s;
	char extra[32];
	size_t sealedlen = 0;
	int rc;

	if (pending_epoch == 0 || pending_epoch <= cur_epoch)
		return ZTP_EINVAL;
	key_extra(pending_epoch, extra, sizeof(extra));
	if ((rc = store_seal(st, "module", rot, extra, key, STORE_MODKEY_LEN, sealed,
		 sizeof(sealed), &sealedlen)) != 0)
		return rc;
	if ((s = prep(st, S_MOD_PENDING_SET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	store_bind_int64(s, 2, cur_epoch);
	store_bind_int64(s, 3, pending_epoch);
	store_bind_blob(s, 4, sealed, sealedlen);
	store_bind_int64(s, 5, features);
	store_bind_int64(s, 6, now);
	rc = store_exec_row(st, s);
	if (rc != ZTP_ENOENT)
		return rc;
	/* why not: tell quarantine from a key that moved on */
	if ((rc = store_module_get(st, rot, &m)) != 0)
		return rc;
	return m.quarantined ? ZTP_EAUTH : ZTP_ECONFLICT;
}

/* The owner of profile uid ("" if the profile is unknown). */
static int
profile_owner(struct store *st, const char *uid, char owner[STORE_OWNER_MAX + 1])
{
	uint32_t f, hb, hbmin;
	int rc = store_module_profile(st, uid, owner, &f, &hb, &hbmin);

	if (rc == ZTP_ENOENT) {
		owner[0] = '\0';
		rc = 0;
	}
	return rc;
}

int
store_module_profile(struct store *st, const char *uid, char owner[STORE_OWNER_MAX + 1],
    uint32_t *features, uint32_t *hb_interval, uint32_t *hb_min)
{
	struct store_stmt *s;
	int rc;

	if (uid == NULL || uid[0] == '\0')
		return ZTP_ENOENT;
	if ((s = prep(st, S_MOD_PROFILE)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, uid);
	if ((rc = store_step_row(st, s, "module profile")) != 0)
		return rc;
	store_col_text(s, 0, owner, STORE_OWNER_MAX + 1);
	*features = (uint32_t)store_col_int64(s, 1);
	*hb_interval = (uint32_t)store_col_int64(s, 2);
	*hb_min = (uint32_t)store_col_int64(s, 3);
	store_reset(s);
	return 0;
}

/*
 * S(e) of the epoch being committed (ztp/rotsvc.h), sealed with its RoT
 * and "svc:<e>": the services' keys of that epoch, kept after the epoch's
 * own key is gone.
 */
static int
svc_add(struct store *st, const char *rot, uint32_t epoch, const uint8_t *key, int64_t now)
{
	uint8_t svc[ZTP_SVC_LEN], sealed[ZTP_SVC_LEN + CRYPTO_SEAL_OVERHEAD];
	struct store_stmt *s;
	size_t sealedlen = 0;
	char extra[32];
	int rc;

	snprintf(extra, sizeof(extra), "svc:%" PRIu32, epoch);
	rc = ztp_svc_root(ztp_crypto_openssl(), key, epoch, svc) == 0 ? 0 : ZTP_ECRYPTO;
	if (rc == 0)
		rc = store_seal(st, "module", rot, extra, svc, sizeof(svc), sealed, sizeof(sealed),
		    &sealedlen);
	OPENSSL_cleanse(svc, sizeof(svc));
	if (rc != 0)
		return rc;
	if ((s = prep(st, S_MOD_SVC_ADD)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	store_bind_int64(s, 2, epoch);
	store_bind_blob(s, 3, sealed, sealedlen);
	store_bind_int64(s, 4, now);
	return store_exec(st, s);
}

int
store_module_svc(struct store *st, const char *rot, uint32_t epoch, uint8_t svc[ZTP_SVC_LEN])
{
	struct store_stmt *s;
	char extra[32];
	size_t n = 0;
	int rc;

	if ((s = prep(st, S_MOD_SVC_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	store_bind_int64(s, 2, epoch);
	if ((rc = store_step_row(st, s, "module service key")) != 0)
		return rc;
	snprintf(extra, sizeof(extra), "svc:%" PRIu32, epoch);
	rc = store_unseal(st, "module", rot, extra, store_col_blob(s, 0), store_col_bytes(s, 0), svc,
	    ZTP_SVC_LEN, &n);
	store_reset(s);
	if (rc == 0 && n != ZTP_SVC_LEN)
		rc = ZTP_EAUTH;
	if (rc != 0) {
		OPENSSL_cleanse(svc, ZTP_SVC_LEN);
		log_warnx("store: a service key of module %s does not open (wrong data key?)", rot);
	}
	return rc;
}

int
store_module_by_sid(struct store *st, uint32_t sid, struct store_mod *out)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_MOD_BY_SID)) == NULL)
		return ZTP_ESTORE;
	store_bind_int64(s, 1, sid);
	if ((rc = store_step_row(st, s, "module by sid")) != 0)
		return rc;
	store_row_module(s, out);
	store_reset(s);
	return 0;
}

static int
down_next_tx(struct store *st, const char *rot, int64_t now, uint64_t *counter, uint32_t *epoch)
{
	struct store_mod m;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_MOD_DOWN_NEXT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	store_bind_int64(s, 2, now);
	if ((rc = store_exec_row(st, s)) != 0 || (rc = store_module_get(st, rot, &m)) != 0)
		return rc;
	*counter = m.e2e_down;
	*epoch = m.epoch;
	return 0;
}

int
store_module_down_next(struct store *st, const char *rot, int64_t now, uint64_t *counter,
    uint32_t *epoch)
{
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	return store_tx_end(st, down_next_tx(st, rot, now, counter, epoch));
}

/* The commit itself, in the caller's transaction. */
static int
commit_tx(struct store *st, const char *rot, uint32_t epoch, const uint8_t *key, int heartbeat,
    int64_t now, struct store_module_commit_out *out)
{
	uint8_t pend[STORE_MODKEY_LEN], cur_sealed[STORE_MODKEY_LEN + CRYPTO_SEAL_OVERHEAD];
	char owner[STORE_OWNER_MAX + 1], profile[STORE_PROFILE_UID + 1];
	size_t cur_len = 0;
	uint32_t cur, pend_epoch;
	int64_t claimed_at = 0, pending_at;
	int rc, retired, quarantined;
	struct store_stmt *s;

	if ((s = prep(st, S_MOD_COMMIT_READ)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	if ((rc = store_step_row(st, s, "module commit")) != 0)
		return rc;
	pend_epoch = (uint32_t)store_col_int64(s, 0);
	cur = (uint32_t)store_col_int64(s, 2);
	retired = store_col_int64(s, 4) != 0;
	store_col_text(s, 5, owner, sizeof(owner));
	store_col_text(s, 6, profile, sizeof(profile));
	quarantined = store_col_int64(s, 7) != 0;
	pending_at = store_col_int64(s, 8);
	rc = ZTP_ECONFLICT;
	if (!quarantined && pend_epoch == epoch && store_col_bytes(s, 1) > 0 &&
	    (rc = key_open(st, rot, epoch, store_col_blob(s, 1), store_col_bytes(s, 1), pend)) ==
		0 &&
	    CRYPTO_memcmp(pend, key, STORE_MODKEY_LEN) != 0)
		rc = ZTP_ECONFLICT;
	OPENSSL_cleanse(pend, sizeof(pend));
	if (rc == 0 && cur > 0 && store_col_bytes(s, 3) <= sizeof(cur_sealed)) {
		cur_len = store_col_bytes(s, 3);
		memcpy(cur_sealed, store_col_blob(s, 3), cur_len);
	}
	store_reset(s);
	if (rc != 0)
		return rc;
	if ((rc = svc_add(st, rot, epoch, key, now)) != 0)
		return rc;
	/* the old key joins the history, sealed as it was (its epoch is in its associated data) */
	if (cur_len > 0) {
		if ((s = prep(st, S_MOD_HIST_ADD)) == NULL)
			return ZTP_ESTORE;
		store_bind_text(s, 1, rot);
		store_bind_int64(s, 2, cur);
		store_bind_blob(s, 3, cur_sealed, cur_len);
		store_bind_int64(s, 4, now);
		if ((rc = store_exec(st, s)) != 0)
			return rc;
		if (cur > STORE_MODKEY_HISTORY) {
			if ((s = prep(st, S_MOD_HIST_TRIM)) == NULL)
				return ZTP_ESTORE;
			store_bind_text(s, 1, rot);
			store_bind_int64(s, 2, (int64_t)cur - STORE_MODKEY_HISTORY);
			if ((rc = store_exec(st, s)) != 0)
				return rc;
		}
	}
	out->bootstrapped = !retired;
	if (owner[0] == '\0' && profile[0] != '\0') {
		if ((rc = profile_owner(st, profile, owner)) != 0)
			return rc;
		if (owner[0] != '\0') {
			out->claimed = 1;
			claimed_at = now;
		}
	}
	snprintf(out->owner, sizeof(out->owner), "%s", owner);
	if ((s = prep(st, S_MOD_COMMIT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	store_bind_int64(s, 2, now);
	store_bind_int64(s, 3, heartbeat ? 1 : 0);
	store_bind_opt_text(s, 4, owner);
	store_bind_int64(s, 5, claimed_at);
	if ((rc = store_exec_row(st, s)) != 0)
		return rc;
	if ((s = prep(st, S_MOD_CAMPAIGN_APPLIED)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	store_bind_int64(s, 2, now);
	store_bind_int64(s, 3, pending_at);
	return store_exec(st, s);
}

int
store_module_commit(struct store *st, const char *rot, uint32_t epoch, const uint8_t *key,
    int heartbeat, int64_t now, struct store_module_commit_out *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = commit_tx(st, rot, epoch, key, heartbeat, now, out);
	return store_tx_end(st, rc);
}

static int
report_tx(struct store *st, const char *rot, const struct modmsg *m, int64_t now,
    struct store_module_commit_out *out)
{
	struct store_mod cur;
	struct store_stmt *s;
	char owner[STORE_OWNER_MAX + 1];
	uint32_t features, hb, hbmin;
	int rc;

	if ((s = prep(st, S_MOD_REPORT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	store_bind_opt_text(s, 2, MODMSG_HAS(m, MODMSG_PROFILE) ? m->profile : NULL);
	store_bind_opt_text(s, 3, MODMSG_HAS(m, MODMSG_SERIAL) ? m->serial : NULL);
	store_bind_opt_text(s, 4, MODMSG_HAS(m, MODMSG_FIRMWARE) ? m->firmware : NULL);
	store_bind_int64(s, 5, MODMSG_HAS(m, MODMSG_COUNTERS) ? (int64_t)m->boots : -1);
	store_bind_int64(s, 6, now);
	if ((rc = store_exec_row(st, s)) != 0)
		return rc;
	if ((rc = store_module_get(st, rot, &cur)) != 0)
		return rc;
	snprintf(out->owner, sizeof(out->owner), "%s", cur.owner);
	/* the two-stage bootstrap: bootstrapped unsealed, sealed since */
	if (!cur.factory_retired || cur.owner[0] != '\0' || cur.profile_uid[0] == '\0')
		return 0;
	/* it joins its profile now: the profile's owner and features, as at a bootstrap */
	rc = store_module_profile(st, cur.profile_uid, owner, &features, &hb, &hbmin);
	if (rc == ZTP_ENOENT || (rc == 0 && owner[0] == '\0'))
		return 0;
	if (rc != 0)
		return rc;
	if ((s = prep(st, S_MOD_CLAIM)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	store_bind_text(s, 2, owner);
	store_bind_int64(s, 3, now);
	store_bind_int64(s, 4, features);
	if ((rc = store_exec_row(st, s)) != 0)
		return rc;
	out->claimed = 1;
	snprintf(out->owner, sizeof(out->owner), "%s", owner);
	return 0;
}

int
store_module_report(struct store *st, const char *rot, const struct modmsg *m, int64_t now,
    struct store_module_commit_out *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = report_tx(st, rot, m, now, out);
	return store_tx_end(st, rc);
}

static int
quarantine_tx(struct store *st, const char *rot, int clone, const char *reason, int64_t now)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_MOD_QUARANTINE)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	store_bind_int64(s, 2, now);
	store_bind_text(s, 3, reason);
	store_bind_int64(s, 4, clone ? 1 : 0);
	if ((rc = store_exec_row(st, s)) != 0)
		return rc;
	if ((s = prep(st, S_MOD_CAMPAIGN_FAILED)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, rot);
	store_bind_int64(s, 2, now);
	return store_exec(st, s);
}

int
store_module_quarantine(struct store *st, const char *rot, int clone, const char *reason,
    int64_t now)
{
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = quarantine_tx(st, rot, clone, reason, now);
	return store_tx_end(st, rc);
}
