/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateways onboarding over MQTT in the store (store.h "store_gateway.c",
 * docs/gateways.md): the batches' factory credentials (salted HMACs), the
 * UDIDs the operator expects, the gateway groups' settings, each gateway's
 * last request and the decision on it, its bundle (sealed at rest: it holds
 * a one-time enrolment password and broker credentials), its commands, and
 * the wrapped key that signs them. Every rule that reads then writes runs
 * in one writing transaction, so that two nodes agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

enum gw_stmt {
	S_BATCH_INSERT,
	S_BATCH_GET,
	S_BATCH_LIST,
	S_EXPECT,
	S_EXPECTED,
	S_GROUP_SET,
	S_GROUP_GET,
	S_GW_GET,
	S_GW_INSERT,
	S_GW_UPDATE_REQ,
	S_GW_REFUSE_NEW,
	S_GW_REFUSE,
	S_GW_PEM,
	S_GW_LIST,
	S_GW_LIST_STATE,
	S_GW_DECIDE,
	S_GW_WORK,
	S_GW_BUNDLE_PUT,
	S_GW_BUNDLE_GET,
	S_GW_SENT,
	S_GW_ONLINE,
	S_GW_TO_CUT,
	S_GW_MQTT,
	S_CMD_NEXT,
	S_CMD_INSERT,
	S_CMD_GET,
	S_CMD_QUEUED,
	S_CMD_SENT,
	S_CMD_RESULT,
	S_KEY_GET,
	S_KEY_PUT,
	S_CMD_SECRET_PUT,
	S_CMD_SECRET_GET,
	S_CMD_ROTATIONS,
	S__COUNT
};

_Static_assert(S__COUNT <= STORE_MODULE_STMT_MAX, "raise STORE_MODULE_STMT_MAX");

#define GW_COLS                                                                              \
	"udid, owner, batch, state, grp, firmware, request_id, requests, requested_at,"       \
	" decided_at, reason, bundle_id, bundle_sent_at, mqtt_state, serial, cmd_counter,"   \
	" updated_at"
#define CMD_COLS "udid, id, name, args, state, result, created_at, sent_at, done_at"

static const char *const gw_sql[S__COUNT] = {
	[S_BATCH_INSERT] = "INSERT INTO gw_batches(name, owner, pass_hash, created_at)"
			   " VALUES(?1, ?2, ?3, ?4)",
	[S_BATCH_GET] = "SELECT owner, pass_hash FROM gw_batches WHERE name = ?1",
	[S_BATCH_LIST] = "SELECT b.name, b.owner, b.created_at,"
			 " (SELECT count(*) FROM gateways g WHERE g.batch = b.name)"
			 " FROM gw_batches b ORDER BY b.name",
	[S_EXPECT] = "INSERT INTO gw_expected(udid, grp, created_at) VALUES(?1, ?2, ?3)"
		     " ON CONFLICT(udid) DO UPDATE SET grp = ?2, created_at = ?3",
	[S_EXPECTED] = "SELECT grp FROM gw_expected WHERE udid = ?1",
	[S_GROUP_SET] = "INSERT INTO gw_groups(name, config, auto_reonboard, updated_at)"
			" VALUES(?1, ?2, ?3, ?4) ON CONFLICT(name) DO UPDATE SET config = ?2,"
			" auto_reonboard = ?3, updated_at = ?4",
	[S_GROUP_GET] = "SELECT config, auto_reonboard, updated_at FROM gw_groups WHERE name = ?1",
	[S_GW_GET] = "SELECT " GW_COLS " FROM gateways WHERE udid = ?1",
	[S_GW_INSERT] = "INSERT INTO gateways(udid, owner, batch, state, grp, firmware, ldevid,"
			" idevid, request_id, requests, requested_at, decided_at, updated_at)"
			" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?11, ?10)",
	/* a new request of a known gateway: its state and what it sent */
	[S_GW_UPDATE_REQ] = "UPDATE gateways SET owner = ?2, batch = ?3, state = ?4, grp = ?5,"
			    " firmware = ?6, ldevid = ?7, idevid = ?8, request_id = ?9,"
			    " requests = requests + 1, requested_at = ?10, decided_at = ?11,"
			    " reason = ?12, bundle_sent_at = ?13, updated_at = ?10,"
			    " bundle_id = CASE WHEN ?14 <> 0 THEN bundle_id ELSE '' END"
			    " WHERE udid = ?1",
	[S_GW_REFUSE_NEW] = "INSERT INTO gateways(udid, batch, state, ldevid, idevid, request_id,"
			    " requested_at, reason, updated_at) VALUES(?1, ?2, 5, ?5, ?5, '', ?3,"
			    " ?4, ?3)",
	/* no gap in the parameters: PostgreSQL cannot type one that no clause uses */
	[S_GW_REFUSE] = "UPDATE gateways SET state = 5, reason = ?3, requested_at = ?2,"
			" requests = requests + 1, bundle_sent_at = 0, updated_at = ?2"
			" WHERE udid = ?1 AND state IN (0, 4, 5)",
	[S_GW_PEM] = "SELECT ldevid, idevid FROM gateways WHERE udid = ?1",
	[S_GW_LIST] = "SELECT " GW_COLS " FROM gateways WHERE udid > ?1 ORDER BY udid LIMIT ?2",
	[S_GW_LIST_STATE] = "SELECT " GW_COLS " FROM gateways WHERE udid > ?1 AND state = ?3"
			    " ORDER BY udid LIMIT ?2",
	[S_GW_DECIDE] = "UPDATE gateways SET state = ?2, grp = ?3, reason = ?4, decided_at = ?5,"
			" bundle_sent_at = 0, bundle_id = '', updated_at = ?5"
			" WHERE udid = ?1",
	[S_GW_WORK] = "SELECT " GW_COLS " FROM gateways WHERE state = 1 OR"
		      " (state IN (2, 4, 5) AND bundle_sent_at = 0)"
		      " ORDER BY updated_at LIMIT ?1",
	[S_GW_BUNDLE_PUT] = "UPDATE gateways SET state = 2, bundle = ?2, bundle_id = ?3,"
			    " bundle_sent_at = 0, mqtt_state = 1, serial = '', updated_at = ?4"
			    " WHERE udid = ?1 AND state = 1",
	[S_GW_BUNDLE_GET] = "SELECT bundle, bundle_id FROM gateways WHERE udid = ?1",
	[S_GW_SENT] = "UPDATE gateways SET bundle_sent_at = ?2 WHERE udid = ?1",
	[S_GW_ONLINE] = "UPDATE gateways SET state = 3, serial = ?2, firmware = ?3, updated_at = ?4"
			" WHERE udid = ?1 AND state IN (2, 3) AND mqtt_state = 1",
	[S_GW_TO_CUT] = "SELECT " GW_COLS " FROM gateways g WHERE g.mqtt_state = 1 AND"
			" (EXISTS(SELECT 1 FROM things t WHERE t.udid = g.udid AND t.blocked <> 0)"
			" OR EXISTS(SELECT 1 FROM certs c WHERE c.serial = g.serial AND"
			" c.revoked_at > 0) OR g.state IN (4, 5)) LIMIT ?1",
	[S_GW_MQTT] = "UPDATE gateways SET mqtt_state = ?2, updated_at = ?3 WHERE udid = ?1",
	[S_CMD_NEXT] = "UPDATE gateways SET cmd_counter = cmd_counter + 1 WHERE udid = ?1"
		       " RETURNING cmd_counter",
	[S_CMD_INSERT] = "INSERT INTO gw_commands(udid, id, name, args, state, created_at)"
			 " VALUES(?1, ?2, ?3, ?4, 0, ?5)",
	[S_CMD_GET] = "SELECT " CMD_COLS " FROM gw_commands WHERE udid = ?1 AND id = ?2",
	[S_CMD_QUEUED] = "SELECT " CMD_COLS " FROM gw_commands c WHERE c.state = 0 AND"
			 " EXISTS(SELECT 1 FROM gateways g WHERE g.udid = c.udid AND"
			 " g.mqtt_state = 1) ORDER BY c.created_at, c.id LIMIT ?1",
	[S_CMD_SENT] = "UPDATE gw_commands SET state = 1, sent_at = ?3 WHERE udid = ?1 AND id = ?2"
		       " AND state = 0",
	[S_CMD_RESULT] = "UPDATE gw_commands SET state = ?3, result = ?4, done_at = ?5"
			 " WHERE udid = ?1 AND id = ?2 AND state = 1",
	[S_CMD_SECRET_PUT] = "UPDATE gw_commands SET signed = ?3 WHERE udid = ?1 AND id = ?2",
	[S_CMD_SECRET_GET] = "SELECT signed FROM gw_commands WHERE udid = ?1 AND id = ?2",
	[S_CMD_ROTATIONS] = "SELECT " CMD_COLS " FROM gw_commands WHERE name = 'rotate-mqtt' AND"
			    " state = 2 AND length(signed) > 0 ORDER BY done_at LIMIT ?1",
	[S_KEY_GET] = "SELECT cert, wrapped_key FROM gw_keys WHERE name = ?1",
	[S_KEY_PUT] = "INSERT INTO gw_keys(name, cert, wrapped_key, created_at)"
		      " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(name) DO NOTHING",
};

static struct store_stmt *
prep(struct store *st, enum gw_stmt id)
{
	return store_prep(st, STORE_M_GATEWAY, (int)id, gw_sql[id]);
}

const char *
store_gw_state_name(int state)
{
	static const char *const names[] = { "pending", "approved", "bundled", "online",
		"rejected", "refused" };

	return state >= 0 && state < (int)(sizeof(names) / sizeof(names[0])) ? names[state] :
									      "unknown";
}

int
store_gw_name_valid(const char *name)
{
	size_t i, n = name != NULL ? strlen(name) : 0;

	if (n == 0 || n > STORE_GW_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			(ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_'))
			return 0;
	}
	return 1;
}

/* ---- batches ---- */

static void
hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < 2 * n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			return -1;
		out[i / 2] = (uint8_t)(i % 2 == 0 ? v << 4 : out[i / 2] | v);
	}
	return 0;
}

int
store_gw_batch_create(struct store *st, const char *name, const char *owner,
    const char *password, int64_t now)
{
	uint8_t salt[STORE_SALT_LEN], hash[STORE_HASH_LEN];
	char text[2 * (STORE_SALT_LEN + STORE_HASH_LEN) + 2];
	struct store_stmt *s;
	int rc;

	if (!store_gw_name_valid(name) || password == NULL || password[0] == '\0' ||
	    strlen(password) > STORE_PASSWORD_MAX || (owner != NULL && owner[0] != '\0' &&
	    !store_profile_owner_valid(owner)))
		return ZTP_EINVAL;
	if ((rc = store_secret_hash(password, salt, hash)) != 0)
		return rc;
	hex(salt, sizeof(salt), text);
	text[2 * STORE_SALT_LEN] = ':';
	hex(hash, sizeof(hash), text + 2 * STORE_SALT_LEN + 1);
	if ((s = prep(st, S_BATCH_INSERT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, owner != NULL ? owner : "");
	store_bind_text(s, 3, text);
	store_bind_int64(s, 4, now);
	rc = store_exec(st, s);
	OPENSSL_cleanse(hash, sizeof(hash));
	return rc;
}

int
store_gw_batch_check(struct store *st, const char *name, const char *password,
    char owner[STORE_OWNER_MAX + 1])
{
	uint8_t salt[STORE_SALT_LEN], hash[STORE_HASH_LEN];
	char text[2 * (STORE_SALT_LEN + STORE_HASH_LEN) + 2];
	struct store_stmt *s;
	int rc, ok;

	if (!store_gw_name_valid(name))
		return ZTP_ENOENT;
	if ((s = prep(st, S_BATCH_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	if ((rc = store_step_row(st, s, "gateway batch")) != 0)
		return rc;
	store_col_text(s, 0, owner, STORE_OWNER_MAX + 1);
	store_col_text(s, 1, text, sizeof(text));
	store_reset(s);
	text[2 * STORE_SALT_LEN] = '\0';
	if (unhex(text, salt, sizeof(salt)) != 0 ||
	    unhex(text + 2 * STORE_SALT_LEN + 1, hash, sizeof(hash)) != 0)
		return ZTP_ESTORE;
	ok = store_secret_matches(salt, sizeof(salt), hash, sizeof(hash), password);
	return ok ? 0 : ZTP_EAUTH;
}

int
store_gw_batch_list(struct store *st, store_gw_batch_cb cb, void *arg)
{
	struct store_gw_batch b;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_BATCH_LIST)) == NULL)
		return ZTP_ESTORE;
	while ((rc = store_step(s)) == STORE_ROW) {
		memset(&b, 0, sizeof(b));
		store_col_text(s, 0, b.name, sizeof(b.name));
		store_col_text(s, 1, b.owner, sizeof(b.owner));
		b.created_at = store_col_int64(s, 2);
		b.gateways = store_col_int64(s, 3);
		if ((rc = cb(&b, arg)) != 0)
			break;
	}
	store_reset(s);
	return store_rows_end(st, rc, "gateway batches");
}

/* ---- expectations and groups ---- */

int
store_gw_expect(struct store *st, const char *udid, const char *group, int64_t now)
{
	struct store_stmt *s;

	if (!store_udid_valid(udid) || (group != NULL && strlen(group) >= STORE_GROUP_SIZE))
		return ZTP_EINVAL;
	if ((s = prep(st, S_EXPECT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_text(s, 2, group != NULL ? group : "");
	store_bind_int64(s, 3, now);
	return store_exec(st, s);
}

int
store_gw_group_set(struct store *st, const char *name, const char *config, int auto_reonboard,
    int64_t now)
{
	struct store_stmt *s;

	if (name == NULL || name[0] == '\0' || strlen(name) >= STORE_GROUP_SIZE ||
	    config == NULL || strlen(config) > STORE_GW_CONFIG_MAX)
		return ZTP_EINVAL;
	if ((s = prep(st, S_GROUP_SET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, config);
	store_bind_int64(s, 3, auto_reonboard ? 1 : 0);
	store_bind_int64(s, 4, now);
	return store_exec(st, s);
}

int
store_gw_group_get(struct store *st, const char *name, struct store_gw_group *out)
{
	struct store_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name != NULL ? name : "");
	snprintf(out->config, sizeof(out->config), "{}");
	if ((s = prep(st, S_GROUP_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, out->name);
	if ((rc = store_step_row(st, s, "gateway group")) != 0)
		return rc;
	store_col_text(s, 0, out->config, sizeof(out->config));
	out->auto_reonboard = store_col_int64(s, 1) != 0;
	out->updated_at = store_col_int64(s, 2);
	store_reset(s);
	return 0;
}

/* ---- gateways ---- */

static void
row_gw(struct store_stmt *s, struct store_gateway *g)
{
	memset(g, 0, sizeof(*g));
	store_col_text(s, 0, g->udid, sizeof(g->udid));
	store_col_text(s, 1, g->owner, sizeof(g->owner));
	store_col_text(s, 2, g->batch, sizeof(g->batch));
	g->state = store_col_int(s, 3);
	store_col_text(s, 4, g->group, sizeof(g->group));
	store_col_text(s, 5, g->firmware, sizeof(g->firmware));
	store_col_text(s, 6, g->request_id, sizeof(g->request_id));
	g->requests = store_col_int64(s, 7);
	g->requested_at = store_col_int64(s, 8);
	g->decided_at = store_col_int64(s, 9);
	store_col_text(s, 10, g->reason, sizeof(g->reason));
	store_col_text(s, 11, g->bundle_id, sizeof(g->bundle_id));
	g->bundle_sent_at = store_col_int64(s, 12);
	g->mqtt_state = store_col_int(s, 13);
	store_col_text(s, 14, g->serial, sizeof(g->serial));
	g->cmd_counter = store_col_int64(s, 15);
	g->updated_at = store_col_int64(s, 16);
}

int
store_gw_get(struct store *st, const char *udid, struct store_gateway *out)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_GW_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	if ((rc = store_step_row(st, s, "gateway")) != 0)
		return rc;
	row_gw(s, out);
	store_reset(s);
	return 0;
}

int
store_gw_get_pem(struct store *st, const char *udid, int ldevid, char *out, size_t cap)
{
	struct store_stmt *s;
	size_t n;
	int rc;

	if ((s = prep(st, S_GW_PEM)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	if ((rc = store_step_row(st, s, "gateway certificates")) != 0)
		return rc;
	n = store_col_bytes(s, ldevid ? 0 : 1);
	if (n >= cap) {
		store_reset(s);
		return ZTP_ETOOBIG;
	}
	if (n > 0)
		memcpy(out, store_col_blob(s, ldevid ? 0 : 1), n);
	out[n] = '\0';
	store_reset(s);
	return 0;
}

/* The group an expected UDID goes into; ZTP_ENOENT if it is not expected. */
static int
expected_group(struct store *st, const char *udid, char group[STORE_GROUP_SIZE])
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_EXPECTED)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	if ((rc = store_step_row(st, s, "gateway expectation")) != 0)
		return rc;
	store_col_text(s, 0, group, STORE_GROUP_SIZE);
	store_reset(s);
	return 0;
}

int
store_gw_request(struct store *st, const struct store_gw_request *r, int64_t now,
    struct store_gateway *out)
{
	struct store_gateway cur;
	struct store_gw_group grp;
	struct store_stmt *s;
	char group[STORE_GROUP_SIZE] = "";
	int rc, state, exists, keep_bundle = 0;
	int64_t decided_at = 0, sent_at = 0;

	if (!store_udid_valid(r->udid) || !store_gw_name_valid(r->batch) ||
	    strlen(r->ldevid) > STORE_GW_PEM_MAX || strlen(r->idevid) > STORE_GW_PEM_MAX)
		return ZTP_EINVAL;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = store_gw_get(st, r->udid, &cur);
	if (rc != 0 && rc != ZTP_ENOENT)
		goto out;
	exists = rc == 0;
	if (exists && cur.state != STORE_GW_REFUSED) {
		snprintf(group, sizeof(group), "%s", cur.group);
		decided_at = cur.decided_at;
		switch (cur.state) {
		case STORE_GW_PENDING:
		case STORE_GW_APPROVED:
			state = cur.state;
			break;
		case STORE_GW_BUNDLED:
			if (cur.mqtt_state != STORE_GW_MQTT_CUT) {
				/* the answer was lost: the same bundle again */
				state = cur.state;
				keep_bundle = 1;
				break;
			}
			/* FALLTHROUGH */
		case STORE_GW_ONLINE:
			/* back from the operational side: a new approval unless automatic */
			rc = store_gw_group_get(st, group, &grp);
			if (rc != 0 && rc != ZTP_ENOENT)
				goto out;
			state = rc == 0 && grp.auto_reonboard ? STORE_GW_APPROVED : STORE_GW_PENDING;
			decided_at = state == STORE_GW_APPROVED ? now : 0;
			break;
		case STORE_GW_REJECTED:
		default:
			state = STORE_GW_REJECTED;
			break;
		}
		if (state == STORE_GW_REJECTED || keep_bundle)
			sent_at = 0; /* answer again */
		if ((s = prep(st, S_GW_UPDATE_REQ)) == NULL) {
			rc = ZTP_ESTORE;
			goto out;
		}
		store_bind_text(s, 1, r->udid);
		store_bind_text(s, 2, r->owner != NULL ? r->owner : "");
		store_bind_text(s, 3, r->batch);
		store_bind_int64(s, 4, state);
		store_bind_text(s, 5, group);
		store_bind_text(s, 6, r->firmware != NULL ? r->firmware : "");
		store_bind_blob(s, 7, r->ldevid, strlen(r->ldevid));
		store_bind_blob(s, 8, r->idevid, strlen(r->idevid));
		store_bind_text(s, 9, r->nonce);
		store_bind_int64(s, 10, now);
		store_bind_int64(s, 11, decided_at);
		store_bind_text(s, 12, state == STORE_GW_REJECTED ? cur.reason : "");
		store_bind_int64(s, 13, sent_at);
		store_bind_int64(s, 14, keep_bundle);
		rc = store_exec_row(st, s);
		goto done;
	}
	/* new, or starting again after a refusal */
	rc = expected_group(st, r->udid, group);
	if (rc != 0 && rc != ZTP_ENOENT)
		goto out;
	state = rc == 0 ? STORE_GW_APPROVED : STORE_GW_PENDING;
	decided_at = rc == 0 ? now : 0;
	if (exists) {
		if ((s = prep(st, S_GW_UPDATE_REQ)) == NULL) {
			rc = ZTP_ESTORE;
			goto out;
		}
		store_bind_text(s, 12, "");
		store_bind_int64(s, 13, 0);
		store_bind_int64(s, 14, 0);
	} else if ((s = prep(st, S_GW_INSERT)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, r->udid);
	store_bind_text(s, 2, r->owner != NULL ? r->owner : "");
	store_bind_text(s, 3, r->batch);
	store_bind_int64(s, 4, state);
	store_bind_text(s, 5, group);
	store_bind_text(s, 6, r->firmware != NULL ? r->firmware : "");
	store_bind_blob(s, 7, r->ldevid, strlen(r->ldevid));
	store_bind_blob(s, 8, r->idevid, strlen(r->idevid));
	store_bind_text(s, 9, r->nonce);
	store_bind_int64(s, 10, now);
	store_bind_int64(s, 11, decided_at);
	rc = exists ? store_exec_row(st, s) : store_exec(st, s);
done:
	if (rc == 0)
		rc = store_gw_get(st, r->udid, out);
out:
	return store_tx_end(st, rc);
}

int
store_gw_refuse(struct store *st, const char *udid, const char *batch, const char *reason,
    int64_t now, int *recorded)
{
	char clean[STORE_GW_REASON_MAX + 1], b[STORE_GW_NAME_MAX + 1];
	struct store_stmt *s;
	int rc;

	*recorded = 0;
	if (!store_udid_valid(udid))
		return ZTP_EINVAL;
	store_text_clean(reason, clean, sizeof(clean));
	snprintf(b, sizeof(b), "%s", store_gw_name_valid(batch) ? batch : "");
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((s = prep(st, S_GW_REFUSE)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, now);
	store_bind_text(s, 3, clean);
	if ((rc = store_exec(st, s)) != 0)
		goto out;
	if (store_changes(st) > 0) {
		*recorded = 1;
		goto out;
	}
	if (store_gw_get(st, udid, &(struct store_gateway){ 0 }) == 0)
		goto out; /* approved, bundled or online: it keeps its state */
	if ((s = prep(st, S_GW_REFUSE_NEW)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, udid);
	store_bind_text(s, 2, b);
	store_bind_int64(s, 3, now);
	store_bind_text(s, 4, clean);
	store_bind_blob(s, 5, "", 0);
	if ((rc = store_exec(st, s)) == 0)
		*recorded = 1;
out:
	return store_tx_end(st, rc);
}

static int
gw_rows(struct store *st, struct store_stmt *s, store_gw_cb cb, void *arg, const char *what)
{
	struct store_gateway g;
	int rc;

	while ((rc = store_step(s)) == STORE_ROW) {
		row_gw(s, &g);
		if ((rc = cb(&g, arg)) != 0)
			break;
	}
	store_reset(s);
	return store_rows_end(st, rc, what);
}

int
store_gw_list(struct store *st, int state, const char *after, int limit, store_gw_cb cb,
    void *arg)
{
	struct store_stmt *s;

	if ((s = prep(st, state >= 0 ? S_GW_LIST_STATE : S_GW_LIST)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, after != NULL ? after : "");
	store_bind_int64(s, 2, limit);
	if (state >= 0)
		store_bind_int64(s, 3, state);
	return gw_rows(st, s, cb, arg, "gateway list");
}

static int
decide(struct store *st, const char *udid, int approve, const char *group, const char *reason,
    int64_t now)
{
	struct store_gateway g;
	struct store_stmt *s;
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((rc = store_gw_get(st, udid, &g)) != 0)
		goto out;
	if (approve ? !(g.state == STORE_GW_PENDING || g.state == STORE_GW_REJECTED ||
			  (g.mqtt_state == STORE_GW_MQTT_CUT && g.state != STORE_GW_APPROVED)) :
		      !(g.state == STORE_GW_PENDING || g.state == STORE_GW_APPROVED)) {
		rc = ZTP_ECONFLICT;
		goto out;
	}
	if ((s = prep(st, S_GW_DECIDE)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, approve ? STORE_GW_APPROVED : STORE_GW_REJECTED);
	store_bind_text(s, 3, group != NULL ? group : g.group);
	store_bind_text(s, 4, reason != NULL ? reason : "");
	store_bind_int64(s, 5, now);
	rc = store_exec_row(st, s);
out:
	return store_tx_end(st, rc);
}

int
store_gw_approve(struct store *st, const char *udid, const char *group, int64_t now)
{
	if (group != NULL && strlen(group) >= STORE_GROUP_SIZE)
		return ZTP_EINVAL;
	return decide(st, udid, 1, group, NULL, now);
}

int
store_gw_reject(struct store *st, const char *udid, const char *reason, int64_t now)
{
	char clean[STORE_GW_REASON_MAX + 1];

	store_text_clean(reason, clean, sizeof(clean));
	return decide(st, udid, 0, NULL, clean, now);
}

int
store_gw_work(struct store *st, int limit, store_gw_cb cb, void *arg)
{
	struct store_stmt *s;

	if ((s = prep(st, S_GW_WORK)) == NULL)
		return ZTP_ESTORE;
	store_bind_int64(s, 1, limit);
	return gw_rows(st, s, cb, arg, "gateway work");
}

int
store_gw_bundle_put(struct store *st, const char *udid, const char *bundle_id,
    const uint8_t *bundle, size_t len, int64_t now)
{
	struct store_stmt *s;
	uint8_t *sealed;
	size_t slen;
	int rc;

	if (len > STORE_GW_BUNDLE_MAX)
		return ZTP_ETOOBIG;
	if ((sealed = malloc(len + CRYPTO_SEAL_OVERHEAD)) == NULL)
		return ZTP_ENOMEM;
	if ((rc = store_seal(st, "gateway bundle", udid, bundle_id, bundle, len, sealed,
		 len + CRYPTO_SEAL_OVERHEAD, &slen)) != 0)
		goto out;
	if ((s = prep(st, S_GW_BUNDLE_PUT)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, udid);
	store_bind_blob(s, 2, sealed, slen);
	store_bind_text(s, 3, bundle_id);
	store_bind_int64(s, 4, now);
	rc = store_exec_row(st, s);
	if (rc == ZTP_ENOENT)
		rc = ZTP_ECONFLICT;
out:
	free(sealed);
	return rc;
}

int
store_gw_bundle_get(struct store *st, const char *udid, uint8_t *out, size_t cap, size_t *len)
{
	char id[STORE_GW_ID_HEX + 1];
	struct store_stmt *s;
	uint8_t *sealed = NULL;
	size_t n;
	int rc;

	if ((s = prep(st, S_GW_BUNDLE_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	if ((rc = store_step_row(st, s, "gateway bundle")) != 0)
		return rc;
	n = store_col_bytes(s, 0);
	store_col_text(s, 1, id, sizeof(id));
	if (id[0] == '\0')
		n = 0; /* no bundle now: what is left is an old one's */
	if (n == 0 || (sealed = malloc(n)) == NULL) {
		store_reset(s);
		return n == 0 ? ZTP_ENOENT : ZTP_ENOMEM;
	}
	memcpy(sealed, store_col_blob(s, 0), n);
	store_reset(s);
	rc = store_unseal(st, "gateway bundle", udid, id, sealed, n, out, cap, len);
	free(sealed);
	return rc;
}

int
store_gw_answer_sent(struct store *st, const char *udid, int64_t now)
{
	struct store_stmt *s;

	if ((s = prep(st, S_GW_SENT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, now);
	return store_exec_row(st, s);
}

int
store_gw_online(struct store *st, const char *udid, const char *serial, const char *firmware,
    int64_t now)
{
	struct store_stmt *s;

	if ((s = prep(st, S_GW_ONLINE)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_text(s, 2, serial);
	store_bind_text(s, 3, firmware != NULL ? firmware : "");
	store_bind_int64(s, 4, now);
	return store_exec_row(st, s);
}

int
store_gw_to_cut(struct store *st, int limit, store_gw_cb cb, void *arg)
{
	struct store_stmt *s;

	if ((s = prep(st, S_GW_TO_CUT)) == NULL)
		return ZTP_ESTORE;
	store_bind_int64(s, 1, limit);
	return gw_rows(st, s, cb, arg, "gateways to cut");
}

int
store_gw_set_mqtt(struct store *st, const char *udid, int mqtt_state, int64_t now)
{
	struct store_stmt *s;

	if ((s = prep(st, S_GW_MQTT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, mqtt_state);
	store_bind_int64(s, 3, now);
	return store_exec_row(st, s);
}

/* ---- commands ---- */

static void
row_cmd(struct store_stmt *s, struct store_gw_cmd *c)
{
	memset(c, 0, sizeof(*c));
	store_col_text(s, 0, c->udid, sizeof(c->udid));
	c->id = store_col_int64(s, 1);
	store_col_text(s, 2, c->name, sizeof(c->name));
	store_col_text(s, 3, c->args, sizeof(c->args));
	c->state = store_col_int(s, 4);
	store_col_text(s, 5, c->result, sizeof(c->result));
	c->created_at = store_col_int64(s, 6);
	c->sent_at = store_col_int64(s, 7);
	c->done_at = store_col_int64(s, 8);
}

int
store_gw_cmd_add(struct store *st, const char *udid, const char *name, const char *args,
    int64_t now, int64_t *id)
{
	struct store_stmt *s;
	int rc;

	if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(((struct store_gw_cmd *)0)->name) ||
	    args == NULL || strlen(args) > STORE_GW_ARGS_MAX)
		return ZTP_EINVAL;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((s = prep(st, S_CMD_NEXT)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, udid);
	if ((rc = store_step_row(st, s, "gateway command counter")) != 0)
		goto out;
	*id = store_col_int64(s, 0);
	store_reset(s);
	if ((s = prep(st, S_CMD_INSERT)) == NULL) {
		rc = ZTP_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, *id);
	store_bind_text(s, 3, name);
	store_bind_text(s, 4, args);
	store_bind_int64(s, 5, now);
	rc = store_exec(st, s);
out:
	return store_tx_end(st, rc);
}

int
store_gw_cmd_get(struct store *st, const char *udid, int64_t id, struct store_gw_cmd *out)
{
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_CMD_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, id);
	if ((rc = store_step_row(st, s, "gateway command")) != 0)
		return rc;
	row_cmd(s, out);
	store_reset(s);
	return 0;
}

int
store_gw_cmd_queued(struct store *st, int limit, store_gw_cmd_cb cb, void *arg)
{
	struct store_gw_cmd *c;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_CMD_QUEUED)) == NULL)
		return ZTP_ESTORE;
	if ((c = malloc(sizeof(*c))) == NULL)
		return ZTP_ENOMEM;
	store_bind_int64(s, 1, limit);
	while ((rc = store_step(s)) == STORE_ROW) {
		row_cmd(s, c);
		if ((rc = cb(c, arg)) != 0)
			break;
	}
	store_reset(s);
	free(c);
	return store_rows_end(st, rc, "gateway commands");
}

int
store_gw_cmd_sent(struct store *st, const char *udid, int64_t id, int64_t now)
{
	struct store_stmt *s;

	if ((s = prep(st, S_CMD_SENT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, id);
	store_bind_int64(s, 3, now);
	return store_exec_row(st, s);
}

int
store_gw_cmd_result(struct store *st, const char *udid, int64_t id, int ok, const char *result,
    int64_t now)
{
	struct store_stmt *s;
	int rc;

	if (result == NULL || strlen(result) > STORE_GW_RESULT_MAX)
		return ZTP_EINVAL;
	if ((s = prep(st, S_CMD_RESULT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, id);
	store_bind_int64(s, 3, ok ? STORE_GW_CMD_DONE : STORE_GW_CMD_FAILED);
	store_bind_text(s, 4, result);
	store_bind_int64(s, 5, now);
	rc = store_exec_row(st, s);
	return rc == ZTP_ENOENT ? ZTP_ECONFLICT : rc;
}

int
store_gw_cmd_secret_put(struct store *st, const char *udid, int64_t id, const char *secret)
{
	uint8_t sealed[STORE_PASSWORD_MAX + CRYPTO_SEAL_OVERHEAD];
	char idtext[24];
	struct store_stmt *s;
	size_t n = 0;
	int rc;

	snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
	if (secret[0] != '\0' && (strlen(secret) > STORE_PASSWORD_MAX ||
	    (rc = store_seal(st, "gateway command secret", udid, idtext, (const uint8_t *)secret,
		 strlen(secret), sealed, sizeof(sealed), &n)) != 0))
		return ZTP_EINVAL;
	if ((s = prep(st, S_CMD_SECRET_PUT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, id);
	store_bind_blob(s, 3, sealed, n);
	return store_exec_row(st, s);
}

int
store_gw_cmd_secret_get(struct store *st, const char *udid, int64_t id, char *out, size_t cap)
{
	uint8_t sealed[STORE_PASSWORD_MAX + CRYPTO_SEAL_OVERHEAD];
	char idtext[24];
	struct store_stmt *s;
	size_t n, len = 0;
	int rc;

	snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
	if ((s = prep(st, S_CMD_SECRET_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, udid);
	store_bind_int64(s, 2, id);
	if ((rc = store_step_row(st, s, "gateway command secret")) != 0)
		return rc;
	n = store_col_bytes(s, 0);
	if (n == 0 || n > sizeof(sealed)) {
		store_reset(s);
		return ZTP_ENOENT;
	}
	memcpy(sealed, store_col_blob(s, 0), n);
	store_reset(s);
	if (cap == 0)
		return ZTP_ETOOBIG;
	rc = store_unseal(st, "gateway command secret", udid, idtext, sealed, n, (uint8_t *)out,
	    cap - 1, &len);
	out[rc == 0 ? len : 0] = '\0';
	return rc;
}

int
store_gw_rotations(struct store *st, int limit, store_gw_cmd_cb cb, void *arg)
{
	struct store_gw_cmd *c;
	struct store_stmt *s;
	int rc;

	if ((s = prep(st, S_CMD_ROTATIONS)) == NULL)
		return ZTP_ESTORE;
	if ((c = malloc(sizeof(*c))) == NULL)
		return ZTP_ENOMEM;
	store_bind_int64(s, 1, limit);
	while ((rc = store_step(s)) == STORE_ROW) {
		row_cmd(s, c);
		if ((rc = cb(c, arg)) != 0)
			break;
	}
	store_reset(s);
	free(c);
	return store_rows_end(st, rc, "gateway rotations");
}

/* ---- the command key ---- */

int
store_gw_key_get(struct store *st, const char *name, uint8_t *cert, size_t *cert_len,
    uint8_t *key, size_t *key_len)
{
	struct store_stmt *s;
	size_t n, m;
	int rc;

	if ((s = prep(st, S_KEY_GET)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	if ((rc = store_step_row(st, s, "gateway key")) != 0)
		return rc;
	n = store_col_bytes(s, 0);
	m = store_col_bytes(s, 1);
	if (n > *cert_len || m > *key_len) {
		store_reset(s);
		return ZTP_ETOOBIG;
	}
	memcpy(cert, store_col_blob(s, 0), n);
	memcpy(key, store_col_blob(s, 1), m);
	*cert_len = n;
	*key_len = m;
	store_reset(s);
	return 0;
}

int
store_gw_key_put(struct store *st, const char *name, const uint8_t *cert, size_t cert_len,
    const uint8_t *key, size_t key_len, int64_t now)
{
	struct store_stmt *s;

	if ((s = prep(st, S_KEY_PUT)) == NULL)
		return ZTP_ESTORE;
	store_bind_text(s, 1, name);
	store_bind_blob(s, 2, cert, cert_len);
	store_bind_blob(s, 3, key, key_len);
	store_bind_int64(s, 4, now);
	return store_exec(st, s);
}
