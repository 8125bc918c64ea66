/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API of the module security service, the operator's side
 * (docs/admin-api.md "Device profiles, modules and campaigns"): device
 * profiles, the import of a module maker's batch, the modules (the devices
 * they are), their transfer, release from quarantine and features, and
 * campaigns.
 *
 * Owner scope: a key that acts for one owner sees and changes only that
 * owner's profiles, modules and campaigns; another owner's answer 404, as
 * if they did not exist, and a module without an owner is seen by
 * all-owners keys only (admin_scope_sees). Import, transfer and release are
 * the operator's (admin_scope_all). Keys are never in an answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin_int.h"
#include "admin_modreq.h"
#include "clock.h"
#include "http_util.h"
#include "modmsg.h"
#include "num.h"
#include "server.h"
#include "store.h"
#include "ztp/err.h"

/* ---- JSON ---- */

/* A time in ms, null for 0 (never). */
static json_t *
ms_json(int64_t ms)
{
	return ms != 0 ? admin_time_json(ms) : json_null();
}

/* Feature bits as an array of their names. */
static json_t *
features_json(uint32_t bits)
{
	json_t *arr = json_array();
	uint32_t b;

	for (b = 1; b <= MODMSG_F_ALL; b <<= 1)
		if ((bits & b) && modmsg_feature_name(b) != NULL)
			json_array_append_new(arr, json_string(modmsg_feature_name(b)));
	return arr;
}

static json_t *
profile_json(const struct store_profile *p)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:o}", "uid", p->uid, "name", p->name,
	    "owner", p->owner, "features", features_json(p->features), "heartbeat_interval_s",
	    (json_int_t)p->hb_interval_s, "heartbeat_min_interval_s",
	    (json_int_t)p->hb_min_interval_s, "modules", (json_int_t)p->modules, "created_at",
	    admin_time_json(p->created_at));
}

static json_t *
module_json(const struct store_mod *m)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "rot_uid", m->rot_uid,
	    "state", m->factory_retired ? "bootstrapped" : "factory", "epoch", (json_int_t)m->epoch,
	    "owner", admin_opt_string(m->owner), "profile", admin_opt_string(m->profile_uid),
	    "serial", admin_opt_string(m->serial), "firmware", admin_opt_string(m->firmware),
	    "features", features_json(m->features), "features_applied",
	    features_json(m->features_applied));

	json_object_set_new(o, "quarantined", json_boolean(m->quarantined));
	json_object_set_new(o, "quarantined_at", ms_json(m->quarantined_at));
	json_object_set_new(o, "quarantine_reason", admin_opt_string(m->quarantine_reason));
	json_object_set_new(o, "clones", json_integer((json_int_t)m->clones));
	json_object_set_new(o, "bootstrapped_at", ms_json(m->bootstrapped_at));
	json_object_set_new(o, "claimed_at", ms_json(m->claimed_at));
	json_object_set_new(o, "last_heartbeat_at", ms_json(m->last_heartbeat_at));
	json_object_set_new(o, "heartbeats", json_integer((json_int_t)m->heartbeats));
	json_object_set_new(o, "boots", json_integer((json_int_t)m->boots));
	json_object_set_new(o, "batch", admin_opt_string(m->batch));
	json_object_set_new(o, "created_at", ms_json(m->created_at));
	return o;
}

static json_t *
campaign_json(const struct store_campaign *c)
{
	json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)c->id,
	    "owner", admin_opt_string(c->owner), "profile", admin_opt_string(c->profile_uid),
	    "enable", features_json(c->enable), "disable", features_json(c->disable),
	    "created_by", admin_opt_string(c->created_by), "created_at",
	    admin_time_json(c->created_at));

	json_object_set_new(o, "devices", json_integer((json_int_t)c->devices));
	json_object_set_new(o, "pending", json_integer((json_int_t)c->pending));
	json_object_set_new(o, "applied", json_integer((json_int_t)c->applied));
	json_object_set_new(o, "failed", json_integer((json_int_t)c->failed));
	return o;
}

static const char *
campaign_state_name(int state)
{
	switch (state) {
	case STORE_CAMPAIGN_PENDING:
		return "pending";
	case STORE_CAMPAIGN_APPLIED:
		return "applied";
	case STORE_CAMPAIGN_FAILED:
		return "failed";
	default:
		return "unknown";
	}
}

/* ---- path and query parameters ---- */

/* The owner a list shows: the key's own, or ?owner= for an all-owners key (NULL: all). */
static int
list_owner(struct areq *a, const char **owner)
{
	const char *q = evhttp_find_header(&a->query, "owner");

	if (q != NULL && !store_profile_owner_valid(q)) {
		http_reply_error(a->req, 400, "bad_request", "owner must be an owner's name");
		return -1;
	}
	if (a->all_owners) {
		*owner = q;
		return 0;
	}
	/* an owner key asking for another owner's: nothing, as if there were none */
	*owner = q != NULL && strcmp(q, a->owner) != 0 ? NULL : a->owner;
	return q != NULL && *owner == NULL ? 1 : 0;
}

/* The profile of the path, if the key sees it; else 400 or 404 sent, -1. */
static int
path_profile(struct areq *a, struct store_profile *p)
{
	int rc;

	if (!modmsg_profile_valid(a->param, strlen(a->param))) {
		http_reply_error(a->req, 400, "bad_request",
		    "not a DeviceProfileUID: expected 32 lower-case hex digits");
		return -1;
	}
	rc = store_profile_get(a->w->store, a->param, p);
	if (rc == 0 && !admin_scope_sees(a, p->owner))
		rc = ZTP_ENOENT;
	if (rc != 0) {
		admin_reply_rc(a, rc, "no such profile");
		return -1;
	}
	return 0;
}

/* 1 if the path's RoT UID is one; else 400 sent, 0. */
static int
path_rot_valid(struct areq *a)
{
	if (modmsg_uid_hex_valid(a->param, strlen(a->param)))
		return 1;
	http_reply_error(a->req, 400, "bad_request",
	    "not a RoT UID: expected 32 lower-case hex digits");
	return 0;
}

/* The module of the path, if the key sees it; else 400 or 404 sent, -1. */
static int
path_module(struct areq *a, struct store_mod *m)
{
	int rc;

	if (!path_rot_valid(a))
		return -1;
	rc = store_module_get(a->w->store, a->param, m);
	if (rc == 0 && !admin_scope_sees(a, m->owner))
		rc = ZTP_ENOENT;
	if (rc != 0) {
		admin_reply_rc(a, rc, "no such module");
		return -1;
	}
	return 0;
}

/* Reply 200 with the path's module as it is now. */
static void
reply_module(struct areq *a)
{
	struct store_mod m;
	int rc;

	if ((rc = store_module_get(a->w->store, a->param, &m)) != 0)
		admin_reply_rc(a, rc, "no such module");
	else
		http_reply_json(a->req, 200, module_json(&m));
}

/* ---- profiles ---- */

static int
profile_list_cb(const struct store_profile *p, void *arg)
{
	json_array_append_new(arg, profile_json(p));
	return 0;
}

/* GET /v1/profiles[?owner=O]: not paged (an owner has few). */
void
admin_profile_list(struct areq *a)
{
	const char *owner;
	json_t *arr;
	int rc;

	if ((rc = list_owner(a, &owner)) < 0)
		return;
	arr = json_array();
	if (rc == 0 && (rc = store_profile_list(a->w->store, owner, profile_list_cb, arr)) != 0) {
		json_decref(arr);
		admin_reply_rc(a, rc, "store failure");
		return;
	}
	http_reply_json(a->req, 200, json_pack("{s:o}", "profiles", arr));
}

/* POST /v1/profiles: 201 with the profile and its DeviceProfileUID. */
void
admin_profile_create(struct areq *a)
{
	struct store_profile p;
	char why[160];
	int rc;

	if ((rc = admin_modreq_profile_create(a->body, a->bodylen, &p, why, sizeof(why))) != 0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	if (!a->all_owners) {
		if (p.owner[0] != '\0' && strcmp(p.owner, a->owner) != 0) {
			http_reply_error(a->req, 403, "forbidden",
			    "this key acts for one owner only: it creates that owner's profiles");
			return;
		}
		snprintf(p.owner, sizeof(p.owner), "%s", a->owner);
	} else if (p.owner[0] == '\0') {
		http_reply_error(a->req, 400, "bad_request",
		    "\"owner\" is required with a key that acts for all owners");
		return;
	}
	rc = store_profile_create(a->w->store, &p);
	if (rc == ZTP_ENOENT) {
		snprintf(why, sizeof(why), "no owner %s", p.owner);
		http_reply_error(a->req, 400, "bad_request", why);
		return;
	}
	if (rc != 0) {
		snprintf(why, sizeof(why), rc == ZTP_EEXIST ? "owner %s has a profile %s" :
		    "profile %s cannot be created", p.owner, p.name);
		admin_reply_rc(a, rc, why);
		return;
	}
	snprintf(why, sizeof(why), "%s (%s of %s)", p.uid, p.name, p.owner);
	admin_changed_dev(a, p.owner, NULL, "profile created:", why);
	http_reply_json(a->req, 201, profile_json(&p));
}

/* GET /v1/profiles/{uid} */
void
admin_profile_get(struct areq *a)
{
	struct store_profile p;

	if (path_profile(a, &p) == 0)
		http_reply_json(a->req, 200, profile_json(&p));
}

/*
 * PUT /v1/profiles/{uid}: features and intervals; modules that bootstrap
 * afterwards take them (the others: a campaign).
 */
void
admin_profile_update(struct areq *a)
{
	struct store_profile p, ch;
	char why[160], list[64];
	unsigned set;
	int rc;

	if (path_profile(a, &p) != 0)
		return;
	if ((rc = admin_modreq_profile_update(a->body, a->bodylen, &ch, &set, why,
		 sizeof(why))) != 0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	rc = store_profile_update(a->w->store, p.uid, &ch, set, &p);
	if (rc != 0) {
		admin_reply_rc(a, rc, rc == ZTP_EINVAL ? "the minimum interval must be from 1 "
		    "to the interval" : "no such profile");
		return;
	}
	modmsg_features_format(p.features, list, sizeof(list));
	snprintf(why, sizeof(why), "%s: features %s, heartbeat %llds, minimum %llds", p.uid,
	    list[0] ? list : "none", (long long)p.hb_interval_s, (long long)p.hb_min_interval_s);
	admin_changed_dev(a, p.owner, NULL, "profile updated:", why);
	http_reply_json(a->req, 200, profile_json(&p));
}

/* ---- modules ---- */

/*
 * POST /v1/modules/import: one batch of a module maker's file, one
 * transaction; the rows hold factory secrets and are wiped.
 */
void
admin_module_import(struct areq *a)
{
	struct store_mod_import_row *rows = NULL;
	struct store_import_result *res = NULL;
	char why[160], detail[96];
	json_t *refused;
	size_t n = 0, i;
	int rc;

	if (!admin_scope_all(a))
		return;
	rows = calloc(STORE_IMPORT_BATCH_MAX, sizeof(*rows));
	res = calloc(1, sizeof(*res));
	if (rows == NULL || res == NULL) {
		http_reply_error(a->req, 503, "unavailable", "out of memory");
		goto out;
	}
	if ((rc = admin_modreq_import(a->body, a->bodylen, rows, &n, why, sizeof(why))) != 0) {
		admin_reply_rc(a, rc, why);
		goto out;
	}
	if ((rc = store_module_import(a->w->store, rows, n, res)) != 0) {
		admin_reply_rc(a, rc, "store failure");
		goto out;
	}
	refused = json_array();
	for (i = 0; i < res->nrefused && i < STORE_IMPORT_REFUSED_MAX; i++)
		json_array_append_new(refused, json_pack("{s:I, s:s}", "index",
		    (json_int_t)res->refused[i].index, "error", res->refused[i].why));
	if (res->added > 0) {
		snprintf(detail, sizeof(detail), "%zu added, %zu unchanged, %zu refused", res->added,
		    res->unchanged, res->nrefused);
		admin_changed(a, NULL, "module import:", detail);
	}
	http_reply_json(a->req, 200, json_pack("{s:I, s:I, s:o}", "added", (json_int_t)res->added,
	    "unchanged", (json_int_t)res->unchanged, "refused", refused));
out:
	if (rows != NULL)
		OPENSSL_cleanse(rows, STORE_IMPORT_BATCH_MAX * sizeof(*rows));
	free(rows);
	free(res);
}

static int
module_list_cb(const struct store_mod *m, void *arg)
{
	admin_page_add(arg, module_json(m), m->rot_uid);
	return 0;
}

/* GET /v1/modules?owner=O&profile=UID&quarantined=1&limit=N&after=ROT */
void
admin_module_list(struct areq *a)
{
	const char *after = evhttp_find_header(&a->query, "after");
	const char *profile = evhttp_find_header(&a->query, "profile");
	struct store_mod_filter f = { NULL, NULL, 0 };
	struct admin_page p = { 0 };
	uint64_t limit, q;
	int rc;

	if (after != NULL && !modmsg_uid_hex_valid(after, strlen(after))) {
		http_reply_error(a->req, 400, "bad_request", "after must be a RoT UID");
		return;
	}
	if (profile != NULL && !modmsg_profile_valid(profile, strlen(profile))) {
		http_reply_error(a->req, 400, "bad_request", "profile must be a DeviceProfileUID");
		return;
	}
	if (admin_query_limit(a, &limit) != 0 ||
	    admin_query_num(a, "quarantined", 0, 1, 0, &q) != 0 || (rc = list_owner(a, &f.owner)) < 0)
		return;
	f.profile = profile;
	f.quarantined = (int)q;
	p.arr = json_array();
	rc = rc != 0 ? 0 : store_module_list(a->w->store, &f, after, (int)limit, module_list_cb, &p);
	admin_reply_page(a, "modules", &p, rc, limit);
}

/* GET /v1/modules/{rot} */
void
admin_module_get(struct areq *a)
{
	struct store_mod m;

	if (path_module(a, &m) == 0)
		http_reply_json(a->req, 200, module_json(&m));
}

/* POST /v1/modules/{rot}/transfer {"owner": O}: the operator's change of owner. */
void
admin_module_transfer(struct areq *a)
{
	char owner[STORE_OWNER_MAX + 1], profile[STORE_PROFILE_UID + 1], why[200];
	struct store_mod before;
	int rc;

	if (!admin_scope_all(a) || !path_rot_valid(a))
		return;
	if ((rc = admin_modreq_transfer(a->body, a->bodylen, owner, profile, why, sizeof(why))) !=
	    0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	if (store_module_get(a->w->store, a->param, &before) != 0)
		before.owner[0] = '\0';
	rc = store_module_transfer(a->w->store, a->param, owner, profile, clock_now_ms());
	if (rc != 0) {
		if (rc == ZTP_EINVAL && profile[0] != '\0')
			snprintf(why, sizeof(why), "no owner %s, or no profile %s of that owner",
			    owner, profile);
		else
			snprintf(why, sizeof(why), rc == ZTP_ENOENT ? "no module %s" :
			    rc == ZTP_ECONFLICT ? "module %s is not bootstrapped: it gets its owner "
			    "from its profile at bootstrap" : "no owner %s",
			    rc == ZTP_EINVAL ? owner : a->param);
		admin_reply_rc(a, rc, why);
		return;
	}
	/* one event for each owner: the old one sees it leave, the new one arrive */
	snprintf(why, sizeof(why), "%s from %s to %s%s%s", a->param,
	    before.owner[0] ? before.owner : "no owner", owner, profile[0] ? ", profile " : "",
	    profile);
	if (before.owner[0] != '\0' && strcmp(before.owner, owner) != 0)
		admin_changed_dev(a, before.owner, a->param, "module transferred:", why);
	admin_changed_dev(a, owner, a->param, "module transferred:", why);
	reply_module(a);
}

/* POST /v1/modules/{rot}/release: out of quarantine, after the operator has looked. */
void
admin_module_release(struct areq *a)
{
	struct store_mod m;
	char why[96];
	int rc;

	if (!admin_scope_all(a) || !path_rot_valid(a))
		return;
	rc = store_module_release(a->w->store, a->param, clock_now_ms());
	if (rc != 0) {
		snprintf(why, sizeof(why), rc == ZTP_ECONFLICT ? "module %s is not in quarantine" :
		    "no module %s", a->param);
		admin_reply_rc(a, rc, why);
		return;
	}
	if (store_module_get(a->w->store, a->param, &m) != 0)
		m.owner[0] = '\0';
	admin_changed_dev(a, m.owner, a->param, "module released:", a->param);
	reply_module(a);
}

/* PUT /v1/modules/{rot}/features {"enable": [...], "disable": [...]}: at its next heartbeat. */
void
admin_module_features(struct areq *a)
{
	char why[160], list[64];
	uint32_t enable, disable, now;
	struct store_mod m;
	int rc;

	if (path_module(a, &m) != 0)
		return;
	if ((rc = admin_modreq_features(a->body, a->bodylen, &enable, &disable, why,
		 sizeof(why))) != 0) {
		admin_reply_rc(a, rc, why);
		return;
	}
	rc = store_module_set_features(a->w->store, a->param, enable, disable, clock_now_ms(),
	    &now);
	if (rc != 0) {
		snprintf(why, sizeof(why), rc == ZTP_ECONFLICT ? "module %s is not bootstrapped: "
		    "it gets its profile's features at bootstrap" : "no module %s", a->param);
		admin_reply_rc(a, rc, why);
		return;
	}
	modmsg_features_format(now, list, sizeof(list));
	snprintf(why, sizeof(why), "%s: %s", a->param, list[0] ? list : "none");
	admin_changed_dev(a, m.owner, a->param, "module features:", why);
	reply_module(a);
}

/* ---- campaigns ---- */

static int
campaign_list_cb(const struct store_campaign *c, void *arg)
{
	char id[24];

	snprintf(id, sizeof(id), "%lld", (long long)c->id);
	admin_page_add(arg, campaign_json(c), id);
	return 0;
}

/* GET /v1/campaigns?owner=O&limit=N&after=ID */
void
admin_campaign_list(struct areq *a)
{
	struct admin_page p = { 0 };
	const char *owner;
	uint64_t limit, after;
	int rc;

	if (admin_query_limit(a, &limit) != 0 ||
	    admin_query_num(a, "after", 0, INT64_MAX, 0, &after) != 0 ||
	    (rc = list_owner(a, &owner)) < 0)
		return;
	p.arr = json_array();
	rc = rc != 0 ? 0 : store_campaign_list(a->w->store, owner, (int64_t)after, (int)limit,
	    campaign_list_cb, &p);
	admin_reply_page(a, "campaigns", &p, rc, limit);
}

/*
 * POST /v1/campaigns {"profile" | "devices", "owner"?, "enable", "disable"}:
 * 201 with the campaign; its devices' features are changed now and
 * delivered at their next heartbeats.
 */
void
admin_campaign_create(struct areq *a)
{
	char (*rots)[STORE_ROT_HEX + 1] = NULL;
	const char **ptrs = NULL;
	struct store_campaign c;
	char why[160];
	size_t n = 0, i;
	int rc;

	rots = calloc(STORE_CAMPAIGN_DEVICES_MAX, sizeof(*rots));
	ptrs = calloc(STORE_CAMPAIGN_DEVICES_MAX, sizeof(*ptrs));
	if (rots == NULL || ptrs == NULL) {
		http_reply_error(a->req, 503, "unavailable", "out of memory");
		goto out;
	}
	if ((rc = admin_modreq_campaign(a->body, a->bodylen, &c, rots, &n, why,
		 sizeof(why))) != 0) {
		admin_reply_rc(a, rc, why);
		goto out;
	}
	if (!a->all_owners) {
		if (c.owner[0] != '\0' && strcmp(c.owner, a->owner) != 0) {
			http_reply_error(a->req, 403, "forbidden",
			    "this key acts for one owner only: its campaigns are that owner's");
			goto out;
		}
		snprintf(c.owner, sizeof(c.owner), "%s", a->owner);
	}
	snprintf(c.created_by, sizeof(c.created_by), "%s", a->key_id);
	for (i = 0; i < n; i++)
		ptrs[i] = rots[i];
	rc = store_campaign_create(a->w->store, &c, ptrs, n, clock_now_ms());
	if (rc != 0) {
		admin_reply_rc(a, rc, rc == ZTP_ENOENT ? "no such profile" : "bad campaign");
		goto out;
	}
	snprintf(why, sizeof(why), "%lld over %lld devices", (long long)c.id,
	    (long long)c.devices);
	admin_changed_dev(a, c.owner, NULL, "campaign created:", why);
	http_reply_json(a->req, 201, campaign_json(&c));
out:
	free(rots);
	free(ptrs);
}

static int
campaign_dev_cb(const struct store_campaign_dev *d, void *arg)
{
	admin_page_add(arg, json_pack("{s:s, s:s, s:o}", "rot_uid", d->rot_uid, "state",
	    campaign_state_name(d->state), "updated_at", admin_time_json(d->updated_at)), d->rot_uid);
	return 0;
}

/*
 * GET /v1/campaigns/{id}?limit=N&after=ROT: the campaign, its counts, and
 * a page of its devices with their states ("device_list", "next").
 */
void
admin_campaign_get(struct areq *a)
{
	const char *after = evhttp_find_header(&a->query, "after");
	struct admin_page p = { 0 };
	struct store_campaign c;
	uint64_t id, limit;
	json_t *o;
	int rc;

	if (num_parse_u64z(a->param, 1, INT64_MAX, &id) != 0) {
		http_reply_error(a->req, 400, "bad_request", "not a campaign id");
		return;
	}
	if (after != NULL && !modmsg_uid_hex_valid(after, strlen(after))) {
		http_reply_error(a->req, 400, "bad_request", "after must be a RoT UID");
		return;
	}
	if (admin_query_limit(a, &limit) != 0)
		return;
	rc = store_campaign_get(a->w->store, (int64_t)id, &c);
	if (rc == 0 && !admin_scope_sees(a, c.owner))
		rc = ZTP_ENOENT;
	if (rc != 0) {
		admin_reply_rc(a, rc, "no such campaign");
		return;
	}
	p.arr = json_array();
	rc = store_campaign_devices(a->w->store, c.id, after, (int)limit, campaign_dev_cb, &p);
	if (rc != 0) {
		json_decref(p.arr);
		admin_reply_rc(a, rc, "store failure");
		return;
	}
	o = campaign_json(&c);
	json_object_set_new(o, "device_list", p.arr);
	json_object_set_new(o, "next", p.n == (int)limit ? json_string(p.last) : json_null());
	http_reply_json(a->req, 200, o);
}
