/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operator's side of the module security service in the store
 * (store_profile.c), on a real SQLite file or with ZTP_TEST_PG on a fresh
 * PostgreSQL database per test (store_fixture.h): profiles, the import of
 * modules (idempotent, secrets sealed), the list, transfer, release and
 * features of modules, campaigns. The device side (bootstrap, heartbeat)
 * is not here: the states a module reaches through it are written into
 * the database behind the store's back (sql_run).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "modmsg.h"
#include "store.h"
#include "ztp/err.h"

#include "store_fixture.h"

static const uint8_t key[CRYPTO_KEY_LEN] = { 9 };

static int
setup(void **state)
{
	struct fx *fx;

	log_init("test", LOG_FORMAT_TEXT, LOG_LEVEL_WARN + 1);
	if (fixture_setup(state, key) != 0)
		return -1;
	fx = *state;
	sql_run(fx->path, "INSERT INTO owners(name, created_at) VALUES('acme', 1);"
			  "INSERT INTO owners(name, created_at) VALUES('globex', 1)");
	return 0;
}

static struct store_profile
profile(const char *name, const char *owner)
{
	struct store_profile p;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", name);
	snprintf(p.owner, sizeof(p.owner), "%s", owner);
	return p;
}

/* the RoT UID of module i: 32 hex digits */
static void
rot_of(int i, char rot[STORE_ROT_HEX + 1])
{
	snprintf(rot, STORE_ROT_HEX + 1, "00112233445566778899aabbcc%06x", i);
}

/* Import modules 0..n-1 (secret: byte i + 1), all added. */
static void
import_n(struct fx *fx, int n)
{
	struct store_mod_import_row *rows = calloc((size_t)n, sizeof(*rows));
	struct store_import_result *res = calloc(1, sizeof(*res));
	int i;

	for (i = 0; i < n; i++) {
		rot_of(i, rows[i].rot_uid);
		memset(rows[i].secret, i + 1, STORE_MODKEY_LEN);
		snprintf(rows[i].batch, sizeof(rows[i].batch), "lot-1");
	}
	assert_int_equal(store_module_import(fx->st, rows, (size_t)n, res), 0);
	assert_int_equal(res->added, (size_t)n);
	free(rows);
	free(res);
}

/* What bootstrap and claim would have done to module i (behind the store's back). */
static void
bootstrap(struct fx *fx, int i, const char *owner, const char *profile_uid)
{
	char rot[STORE_ROT_HEX + 1], sql[512];

	rot_of(i, rot);
	snprintf(sql, sizeof(sql), "UPDATE modules SET factory_retired = 1, epoch = 1,"
				   " bootstrapped_at = 5, owner = %s%s%s, profile_uid = %s%s%s"
				   " WHERE rot_uid = '%s'",
	    owner ? "'" : "", owner ? owner : "NULL", owner ? "'" : "", profile_uid ? "'" : "",
	    profile_uid ? profile_uid : "NULL", profile_uid ? "'" : "", rot);
	sql_run(fx->path, sql);
}

static void
quarantine(struct fx *fx, int i)
{
	char rot[STORE_ROT_HEX + 1], sql[256];

	rot_of(i, rot);
	snprintf(sql, sizeof(sql), "UPDATE modules SET quarantined = 1, quarantined_at = 7,"
				   " quarantine_reason = 'cloned' WHERE rot_uid = '%s'",
	    rot);
	sql_run(fx->path, sql);
}

static void
test_profile_create_defaults_and_uid(void **state)
{
	struct fx *fx = *state;
	struct store_profile p = profile("meters", "acme"), out;

	p.features = MODMSG_F_PSK | MODMSG_F_E2E;
	assert_int_equal(store_profile_create(fx->st, &p), 0);
	assert_int_equal(strlen(p.uid), STORE_PROFILE_UID);
	assert_true(modmsg_profile_valid(p.uid, strlen(p.uid)));
	assert_int_equal(store_profile_get(fx->st, p.uid, &out), 0);
	assert_string_equal(out.name, "meters");
	assert_string_equal(out.owner, "acme");
	assert_int_equal(out.features, MODMSG_F_PSK | MODMSG_F_E2E);
	assert_int_equal(out.hb_interval_s, STORE_HB_INTERVAL_DEFAULT);
	assert_int_equal(out.hb_min_interval_s, STORE_HB_MIN_DEFAULT);
	assert_int_equal(out.modules, 0);
	assert_int_equal(store_profile_get(fx->st, "00000000000000000000000000000000", &out),
	    ZTP_ENOENT);
	assert_int_equal(store_profile_get(fx->st, "not-a-uid", &out), ZTP_ENOENT);
}

static void
test_profile_name_unique_per_owner(void **state)
{
	struct fx *fx = *state;
	struct store_profile a = profile("meters", "acme"), b = profile("meters", "acme");
	struct store_profile c = profile("meters", "globex");

	assert_int_equal(store_profile_create(fx->st, &a), 0);
	assert_int_equal(store_profile_create(fx->st, &b), ZTP_EEXIST);
	assert_int_equal(store_profile_create(fx->st, &c), 0);
	assert_string_not_equal(a.uid, c.uid);
}

static void
test_profile_refuses_bad_values_and_unknown_owner(void **state)
{
	struct fx *fx = *state;
	struct store_profile p = profile("meters", "nobody");

	assert_int_equal(store_profile_create(fx->st, &p), ZTP_ENOENT);
	p = profile("bad name", "acme");
	assert_int_equal(store_profile_create(fx->st, &p), ZTP_EINVAL);
	p = profile("m", "acme");
	p.features = 0x40; /* no such feature */
	assert_int_equal(store_profile_create(fx->st, &p), ZTP_EINVAL);
	p = profile("m", "acme");
	p.hb_interval_s = 600;
	p.hb_min_interval_s = 601;
	assert_int_equal(store_profile_create(fx->st, &p), ZTP_EINVAL);
	p = profile("m", "acme");
	p.hb_interval_s = STORE_HB_INTERVAL_MAX + 1;
	assert_int_equal(store_profile_create(fx->st, &p), ZTP_EINVAL);
	p = profile("m", "acme");
	p.hb_min_interval_s = -1;
	assert_int_equal(store_profile_create(fx->st, &p), ZTP_EINVAL);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM profiles", NULL), 0);
	/* a short interval takes a minimum interval within it */
	p = profile("fast", "acme");
	p.hb_interval_s = 60;
	assert_int_equal(store_profile_create(fx->st, &p), 0);
	assert_int_equal(p.hb_min_interval_s, 60);
}

static int
count_cb(const struct store_profile *p, void *arg)
{
	(void)p;
	(*(int *)arg)++;
	return 0;
}

static void
test_profile_list_by_owner(void **state)
{
	struct fx *fx = *state;
	struct store_profile a = profile("a", "acme"), b = profile("b", "acme");
	struct store_profile c = profile("c", "globex");
	int n = 0;

	assert_int_equal(store_profile_create(fx->st, &a), 0);
	assert_int_equal(store_profile_create(fx->st, &b), 0);
	assert_int_equal(store_profile_create(fx->st, &c), 0);
	assert_int_equal(store_profile_list(fx->st, "acme", count_cb, &n), 0);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(store_profile_list(fx->st, NULL, count_cb, &n), 0);
	assert_int_equal(n, 3);
	n = 0;
	assert_int_equal(store_profile_list(fx->st, "nobody", count_cb, &n), 0);
	assert_int_equal(n, 0);
}

static void
test_profile_update_checks_the_result(void **state)
{
	struct fx *fx = *state;
	struct store_profile p = profile("m", "acme"), ch, out;

	assert_int_equal(store_profile_create(fx->st, &p), 0);
	memset(&ch, 0, sizeof(ch));
	ch.features = MODMSG_F_C2C;
	assert_int_equal(store_profile_update(fx->st, p.uid, &ch, STORE_PROFILE_SET_FEATURES, &out),
	    0);
	assert_int_equal(out.features, MODMSG_F_C2C);
	assert_int_equal(out.hb_interval_s, STORE_HB_INTERVAL_DEFAULT);
	/* a minimum over the interval is refused, nothing changes */
	ch.hb_min_interval_s = STORE_HB_INTERVAL_DEFAULT + 1;
	assert_int_equal(store_profile_update(fx->st, p.uid, &ch, STORE_PROFILE_SET_HB_MIN, NULL),
	    ZTP_EINVAL);
	ch.hb_interval_s = 3600;
	ch.hb_min_interval_s = 60;
	assert_int_equal(store_profile_update(fx->st, p.uid, &ch,
			     STORE_PROFILE_SET_HB | STORE_PROFILE_SET_HB_MIN, NULL),
	    0);
	assert_int_equal(store_profile_get(fx->st, p.uid, &out), 0);
	assert_int_equal(out.hb_interval_s, 3600);
	assert_int_equal(out.hb_min_interval_s, 60);
	assert_int_equal(out.features, MODMSG_F_C2C);
	/* the interval below the minimum is refused */
	ch.hb_interval_s = 30;
	assert_int_equal(store_profile_update(fx->st, p.uid, &ch, STORE_PROFILE_SET_HB, NULL),
	    ZTP_EINVAL);
	assert_int_equal(store_profile_update(fx->st, "00000000000000000000000000000000", &ch,
			     STORE_PROFILE_SET_FEATURES, NULL),
	    ZTP_ENOENT);
}

static void
test_import_adds_keeps_refuses_and_seals(void **state)
{
	struct fx *fx = *state;
	struct store_mod_import_row rows[5];
	struct store_import_result *res = calloc(1, sizeof(*res));
	struct store_mod m;

	memset(rows, 0, sizeof(rows));
	rot_of(1, rows[0].rot_uid);
	memset(rows[0].secret, 0xA5, STORE_MODKEY_LEN);
	snprintf(rows[0].batch, sizeof(rows[0].batch), "lot-7");
	rows[1] = rows[0];
	rot_of(2, rows[1].rot_uid);
	rows[1].batch[0] = '\0';
	rows[2] = rows[0];
	snprintf(rows[2].invalid, sizeof(rows[2].invalid), "bad secret");
	rows[3] = rows[0];
	snprintf(rows[3].rot_uid, sizeof(rows[3].rot_uid), "00112233445566778899AABBCC000003");
	rows[4] = rows[0]; /* the same module twice in a batch: unchanged the second time */

	assert_int_equal(store_module_import(fx->st, rows, 5, res), 0);
	assert_int_equal(res->added, 2);
	assert_int_equal(res->unchanged, 1);
	assert_int_equal(res->nrefused, 2);
	assert_int_equal(res->refused[0].index, 2);
	assert_string_equal(res->refused[0].why, "bad secret");
	assert_int_equal(res->refused[1].index, 3); /* upper case */

	/* the same batch again changes nothing */
	assert_int_equal(store_module_import(fx->st, rows, 5, res), 0);
	assert_int_equal(res->added, 0);
	assert_int_equal(res->unchanged, 3);
	assert_int_equal(res->nrefused, 2);

	/* another secret for a module on record is refused with its index */
	rows[1].secret[0] ^= 1;
	assert_int_equal(store_module_import(fx->st, rows, 2, res), 0);
	assert_int_equal(res->unchanged, 1);
	assert_int_equal(res->nrefused, 1);
	assert_int_equal(res->refused[0].index, 1);
	assert_string_equal(res->refused[0].why, "module exists with another factory secret");

	assert_int_equal(store_module_get(fx->st, rows[0].rot_uid, &m), 0);
	assert_string_equal(m.batch, "lot-7");
	assert_int_equal(m.factory_retired, 0);
	assert_string_equal(m.owner, "");
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM modules", NULL), 2);
	/* the factory secret is sealed at rest */
	close_store(fx);
	assert_false(db_contains(fx, rows[0].secret, STORE_MODKEY_LEN));
	free(res);
}

static void
test_import_over_the_batch_maximum_is_refused(void **state)
{
	struct fx *fx = *state;
	struct store_import_result *res = calloc(1, sizeof(*res));
	struct store_mod_import_row row;

	memset(&row, 0, sizeof(row));
	assert_int_equal(store_module_import(fx->st, &row, STORE_IMPORT_BATCH_MAX + 1, res),
	    ZTP_ETOOBIG);
	free(res);
}

static void
test_import_of_many_in_chunks(void **state)
{
	struct fx *fx = *state;

	import_n(fx, 200); /* over several chunks and insert sizes */
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM modules", NULL), 200);
}

struct collect {
	char rot[16][STORE_ROT_HEX + 1];
	int n;
};

static int
collect_cb(const struct store_mod *m, void *arg)
{
	struct collect *c = arg;

	if (c->n < 16)
		snprintf(c->rot[c->n], sizeof(c->rot[0]), "%s", m->rot_uid);
	c->n++;
	return 0;
}

static void
test_module_list_filters_and_pages(void **state)
{
	struct fx *fx = *state;
	struct store_profile p = profile("m", "acme");
	struct store_mod_filter f = { NULL, NULL, 0 };
	struct collect c;
	char rot[STORE_ROT_HEX + 1];

	assert_int_equal(store_profile_create(fx->st, &p), 0);
	import_n(fx, 6);
	bootstrap(fx, 0, "acme", p.uid);
	bootstrap(fx, 1, "acme", NULL);
	bootstrap(fx, 2, "globex", NULL);
	quarantine(fx, 1);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_module_list(fx->st, &f, "", 100, collect_cb, &c), 0);
	assert_int_equal(c.n, 6);
	memset(&c, 0, sizeof(c));
	f.owner = "acme";
	assert_int_equal(store_module_list(fx->st, &f, "", 100, collect_cb, &c), 0);
	assert_int_equal(c.n, 2);
	memset(&c, 0, sizeof(c));
	f.quarantined = 1;
	assert_int_equal(store_module_list(fx->st, &f, "", 100, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	rot_of(1, rot);
	assert_string_equal(c.rot[0], rot);
	memset(&c, 0, sizeof(c));
	f.owner = NULL;
	f.quarantined = 0;
	f.profile = p.uid;
	assert_int_equal(store_module_list(fx->st, &f, "", 100, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	/* pages */
	f.profile = NULL;
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_module_list(fx->st, &f, "", 4, collect_cb, &c), 0);
	assert_int_equal(c.n, 4);
	rot_of(3, rot);
	assert_string_equal(c.rot[3], rot);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_module_list(fx->st, &f, rot, 4, collect_cb, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(store_profile_get(fx->st, p.uid, &p), 0);
	assert_int_equal(p.modules, 1);
}

static void
test_transfer_needs_bootstrap_and_an_owner(void **state)
{
	struct fx *fx = *state;
	char rot[STORE_ROT_HEX + 1];
	struct store_profile gp, ap;
	struct store_mod m;

	import_n(fx, 2);
	rot_of(0, rot);
	assert_int_equal(store_module_transfer(fx->st, rot, "globex", NULL, 1000), ZTP_ECONFLICT);
	bootstrap(fx, 0, "acme", NULL);
	sql_run(fx->path, "UPDATE modules SET features = 3");
	assert_int_equal(store_module_transfer(fx->st, rot, "nobody", NULL, 1000), ZTP_EINVAL);
	assert_int_equal(store_module_transfer(fx->st, rot, "bad name", NULL, 1000), ZTP_EINVAL);
	assert_int_equal(store_module_transfer(fx->st, "00112233445566778899aabbccffffff",
			     "globex", NULL, 1000),
	    ZTP_ENOENT);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_string_equal(m.owner, "acme");
	assert_int_equal(store_module_transfer(fx->st, rot, "globex", NULL, 1000), 0);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_string_equal(m.owner, "globex");
	assert_int_equal(m.claimed_at, 1000);
	assert_int_equal(m.features, 3); /* kept */
	/* with a profile of the new owner: its features and the profile itself */
	gp = profile("gmeter", "globex");
	gp.features = MODMSG_F_C2C;
	assert_int_equal(store_profile_create(fx->st, &gp), 0);
	ap = profile("ameter", "acme");
	assert_int_equal(store_profile_create(fx->st, &ap), 0);
	assert_int_equal(store_module_transfer(fx->st, rot, "globex", ap.uid, 2000), ZTP_EINVAL);
	assert_int_equal(store_module_transfer(fx->st, rot, "globex",
			     "ffffffffffffffffffffffffffffffff", 2000), ZTP_EINVAL);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_int_equal(m.features, 3);
	assert_int_equal(store_module_transfer(fx->st, rot, "globex", gp.uid, 2000), 0);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_int_equal(m.features, MODMSG_F_C2C);
	assert_string_equal(m.profile_uid, gp.uid);
}

static void
test_release_lifts_quarantine_only(void **state)
{
	struct fx *fx = *state;
	char rot[STORE_ROT_HEX + 1];
	struct store_mod m;

	import_n(fx, 1);
	rot_of(0, rot);
	bootstrap(fx, 0, "acme", NULL);
	assert_int_equal(store_module_release(fx->st, rot, 10), ZTP_ECONFLICT);
	quarantine(fx, 0);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_true(m.quarantined);
	assert_string_equal(m.quarantine_reason, "cloned");
	assert_int_equal(store_module_release(fx->st, rot, 10), 0);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_false(m.quarantined);
	assert_string_equal(m.quarantine_reason, "");
	assert_int_equal(store_module_release(fx->st, rot, 10), ZTP_ECONFLICT);
	assert_int_equal(store_module_release(fx->st, "nope", 10), ZTP_ENOENT);
}

static void
test_features_change_only_features(void **state)
{
	struct fx *fx = *state;
	char rot[STORE_ROT_HEX + 1];
	struct store_mod m;
	uint32_t f = 0;

	import_n(fx, 1);
	rot_of(0, rot);
	assert_int_equal(store_module_set_features(fx->st, rot, MODMSG_F_PSK, 0, 10, &f),
	    ZTP_ECONFLICT);
	bootstrap(fx, 0, "acme", NULL);
	sql_run(fx->path, "UPDATE modules SET features = 5, features_applied = 5");
	assert_int_equal(store_module_set_features(fx->st, rot, MODMSG_F_PSK, MODMSG_F_PSK, 10, &f),
	    ZTP_EINVAL);
	assert_int_equal(store_module_set_features(fx->st, rot, 0x40, 0, 10, &f), ZTP_EINVAL);
	assert_int_equal(store_module_set_features(fx->st, rot, MODMSG_F_E2E, MODMSG_F_LOCAL_DATA,
			     10, &f),
	    0);
	assert_int_equal(f, MODMSG_F_PSK | MODMSG_F_E2E);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_int_equal(m.features, MODMSG_F_PSK | MODMSG_F_E2E);
	assert_int_equal(m.features_applied, 5); /* until the next heartbeat */
	assert_int_equal(m.epoch, 1);
}

struct devs {
	int n, pending;
};

static int
dev_cb(const struct store_campaign_dev *d, void *arg)
{
	struct devs *v = arg;

	v->n++;
	v->pending += d->state == STORE_CAMPAIGN_PENDING;
	return 0;
}

static void
test_campaign_over_a_profile(void **state)
{
	struct fx *fx = *state;
	struct store_profile p = profile("m", "acme"), q = profile("m", "globex");
	struct store_campaign c, got;
	struct devs v = { 0, 0 };
	char rot[STORE_ROT_HEX + 1];
	struct store_mod m;

	assert_int_equal(store_profile_create(fx->st, &p), 0);
	assert_int_equal(store_profile_create(fx->st, &q), 0);
	import_n(fx, 8);
	bootstrap(fx, 0, "acme", p.uid);
	bootstrap(fx, 1, "acme", p.uid);
	bootstrap(fx, 2, "acme", p.uid);
	bootstrap(fx, 3, "acme", p.uid);
	quarantine(fx, 3);                /* not in it */
	bootstrap(fx, 4, "globex", p.uid); /* transferred away: not in it */
	bootstrap(fx, 5, "acme", q.uid);   /* another profile */
	/* 6, 7: not bootstrapped */
	sql_run(fx->path, "UPDATE modules SET features = 1");

	memset(&c, 0, sizeof(c));
	snprintf(c.profile_uid, sizeof(c.profile_uid), "%s", p.uid);
	snprintf(c.created_by, sizeof(c.created_by), "k1");
	c.enable = MODMSG_F_C2C;
	c.disable = MODMSG_F_PSK;
	assert_int_equal(store_campaign_create(fx->st, &c, NULL, 0, 100), 0);
	assert_true(c.id > 0);
	assert_int_equal(c.devices, 3);
	assert_string_equal(c.owner, "acme");
	assert_int_equal(store_campaign_get(fx->st, c.id, &got), 0);
	assert_int_equal(got.devices, 3);
	assert_int_equal(got.pending, 3);
	assert_int_equal(got.applied, 0);
	assert_int_equal(got.enable, MODMSG_F_C2C);
	assert_int_equal(got.disable, MODMSG_F_PSK);
	assert_string_equal(got.created_by, "k1");
	assert_int_equal(store_campaign_devices(fx->st, c.id, "", 100, dev_cb, &v), 0);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.pending, 3);

	rot_of(0, rot);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_int_equal(m.features, MODMSG_F_C2C);
	rot_of(3, rot);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_int_equal(m.features, 1);
	rot_of(4, rot);
	assert_int_equal(store_module_get(fx->st, rot, &m), 0);
	assert_int_equal(m.features, 1);

	/* states as the device side moves them */
	rot_of(0, rot);
	sql_run(fx->path, "UPDATE campaign_devices SET state = 1");
	assert_int_equal(store_campaign_get(fx->st, c.id, &got), 0);
	assert_int_equal(got.applied, 3);
	assert_int_equal(got.pending, 0);

	/* an owner's campaign over another owner's profile: as if it did not exist */
	memset(&c, 0, sizeof(c));
	snprintf(c.owner, sizeof(c.owner), "globex");
	snprintf(c.profile_uid, sizeof(c.profile_uid), "%s", p.uid);
	c.enable = MODMSG_F_E2E;
	assert_int_equal(store_campaign_create(fx->st, &c, NULL, 0, 100), ZTP_ENOENT);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM campaigns", NULL), 1);
}

static void
test_campaign_over_a_list_of_devices(void **state)
{
	struct fx *fx = *state;
	char r[5][STORE_ROT_HEX + 1];
	const char *rots[6];
	struct store_campaign c, got;
	struct store_mod m;
	int i;

	import_n(fx, 5);
	bootstrap(fx, 0, "acme", NULL);
	bootstrap(fx, 1, "acme", NULL);
	bootstrap(fx, 2, "globex", NULL);
	bootstrap(fx, 3, NULL, NULL);
	for (i = 0; i < 5; i++) {
		rot_of(i, r[i]);
		rots[i] = r[i];
	}
	rots[5] = r[0]; /* twice: once in the campaign */

	memset(&c, 0, sizeof(c));
	snprintf(c.owner, sizeof(c.owner), "acme");
	c.enable = MODMSG_F_ZTP_CERT;
	assert_int_equal(store_campaign_create(fx->st, &c, rots, 6, 100), 0);
	assert_int_equal(c.devices, 2); /* acme's bootstrapped ones */
	assert_int_equal(store_module_get(fx->st, r[2], &m), 0);
	assert_int_equal(m.features, 0);

	/* all owners (""): every bootstrapped one */
	memset(&c, 0, sizeof(c));
	c.enable = MODMSG_F_PSK;
	assert_int_equal(store_campaign_create(fx->st, &c, rots, 5, 100), 0);
	assert_int_equal(c.devices, 4);
	assert_int_equal(store_campaign_get(fx->st, c.id, &got), 0);
	assert_string_equal(got.owner, "");
	assert_string_equal(got.profile_uid, "");
	assert_int_equal(store_module_get(fx->st, r[0], &m), 0);
	assert_int_equal(m.features, MODMSG_F_ZTP_CERT | MODMSG_F_PSK);

	/* bad campaigns change nothing */
	memset(&c, 0, sizeof(c));
	c.enable = c.disable = MODMSG_F_PSK;
	assert_int_equal(store_campaign_create(fx->st, &c, rots, 5, 100), ZTP_EINVAL);
	c.disable = 0;
	assert_int_equal(store_campaign_create(fx->st, &c, NULL, 0, 100), ZTP_EINVAL);
	rots[1] = "not-a-rot";
	assert_int_equal(store_campaign_create(fx->st, &c, rots, 5, 100), ZTP_EINVAL);
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM campaigns", NULL), 2);
}

static int
camp_count_cb(const struct store_campaign *c, void *arg)
{
	(void)c;
	(*(int *)arg)++;
	return 0;
}

static void
test_campaign_list_by_owner_and_page(void **state)
{
	struct fx *fx = *state;
	struct store_profile p = profile("m", "acme"), q = profile("m", "globex");
	struct store_campaign c;
	int64_t first;
	int n, i;

	assert_int_equal(store_profile_create(fx->st, &p), 0);
	assert_int_equal(store_profile_create(fx->st, &q), 0);
	for (i = 0; i < 3; i++) {
		memset(&c, 0, sizeof(c));
		snprintf(c.profile_uid, sizeof(c.profile_uid), "%s", i < 2 ? p.uid : q.uid);
		c.enable = MODMSG_F_PSK;
		assert_int_equal(store_campaign_create(fx->st, &c, NULL, 0, 100 + i), 0);
		assert_int_equal(c.devices, 0);
		if (i == 0)
			first = c.id;
	}
	n = 0;
	assert_int_equal(store_campaign_list(fx->st, "acme", 0, 100, camp_count_cb, &n), 0);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(store_campaign_list(fx->st, "", 0, 100, camp_count_cb, &n), 0);
	assert_int_equal(n, 3);
	n = 0;
	assert_int_equal(store_campaign_list(fx->st, NULL, first, 1, camp_count_cb, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_campaign_get(fx->st, 999999, &c), ZTP_ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_profile_create_defaults_and_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_name_unique_per_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_refuses_bad_values_and_unknown_owner,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_list_by_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_update_checks_the_result, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_import_adds_keeps_refuses_and_seals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_import_over_the_batch_maximum_is_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_import_of_many_in_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_list_filters_and_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_needs_bootstrap_and_an_owner, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_release_lifts_quarantine_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_change_only_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_campaign_over_a_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_campaign_over_a_list_of_devices, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_campaign_list_by_owner_and_page, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
