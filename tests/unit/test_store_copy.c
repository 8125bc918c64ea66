/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_copy (ztpd migrate): a populated SQLite store copied into the
 * fixture's store (store_fixture.h: with ZTP_TEST_PG a fresh PostgreSQL
 * database, else a second SQLite file) and from there into a third, a
 * SQLite file again (the way back), answers every public read as the
 * source does; generated ids continue after the copied ones; an
 * interrupted copy resumes; a target with data is refused; counts that
 * differ fail; the copy's table of columns is the schema's.
 */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "log.h"
#include "modmsg.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

#include "store_fixture.h"

#define ICCID_A "8944502509186389635"
#define ICCID_B "8944502509186389643"
#define ICCID_D "8988000000000000017" /* of the derived group */
#define ICCID_P "8988000000000000025" /* pre-registered in the derived group */
#define DEVID "0A0B0C0D"
#define NSIMS 45      /* 49 SIMs: two INSERTs of 19 rows (13 columns) and rows one by one */
#define NTELEMETRY 70 /* two INSERTs of 32 rows and rows one by one */
#define BATCH 4       /* rows per page: every table of more than 4 rows has several */
#define BATCH_GROUPS 40 /* pages that hold groups of rows and single rows */

static const uint8_t data_key[CRYPTO_KEY_LEN] = { 0x5c, 0x01, 0x02 };
static const uint8_t psk16[16] = { 0xA5, 0x5A, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
static const uint8_t psk32[32] = { 0x11, 0x22, 0x33 };
static const uint8_t master[STORE_MASTER_LEN] = { 0x4d, 0x41 };

/* The source, a SQLite file in the fixture's directory, next to it. */
struct cx {
	struct fx *fx; /* its store is the target */
	char src[600];
	struct store *from;
};

static int
setup(void **state)
{
	struct cx *cx = calloc(1, sizeof(*cx));

	log_init("test", LOG_FORMAT_TEXT, LOG_LEVEL_WARN + 1);
	if (cx == NULL || fixture_setup((void **)&cx->fx, data_key) != 0) {
		free(cx);
		return -1;
	}
	snprintf(cx->src, sizeof(cx->src), "sqlite:%s/src.db", cx->fx->dir);
	if (store_open(&cx->from, cx->src, data_key) != 0) {
		teardown((void **)&cx->fx);
		free(cx);
		return -1;
	}
	*state = cx;
	return 0;
}

static int
cx_teardown(void **state)
{
	struct cx *cx = *state;

	store_close(cx->from);
	teardown((void **)&cx->fx);
	free(cx);
	return 0;
}

/* ---- a store with a row in every table ---- */

static void
sim_iccid(int i, char out[ICCID_STR_SIZE])
{
	snprintf(out, ICCID_STR_SIZE, "89490000000000%05d", i);
}

static const char rot_a[] = "00112233445566778899aabbccddeeff";
static const char rot_b[] = "ffeeddccbbaa99887766554433221100";

/* ZTP certificates: a CA, the CA of a profile and of a module, a bundle */
static void
populate_ztpca(struct store *st, const char *profile)
{
	struct store_ztpca *ca = calloc(1, sizeof(*ca));
	struct store_ztpbundle b;
	uint8_t bundle[300];

	assert_non_null(ca);
	snprintf(ca->owner, sizeof(ca->owner), "acme");
	snprintf(ca->name, sizeof(ca->name), "fleet");
	memset(ca->cert, 0x30, 400);
	ca->cert_len = 400;
	memset(ca->key, 0x01, 120);
	ca->key_len = 120;
	ca->device_days = 365;
	ca->not_before = 10;
	ca->not_after = 20;
	ca->created_at = 4100;
	assert_int_equal(store_ztpca_add(st, ca), 0);
	free(ca);
	assert_int_equal(store_ztpca_set_profile(st, profile, "fleet", 4200), 0);
	assert_int_equal(store_ztpca_set_module(st, rot_a, "fleet", 4300), 0);
	memset(&b, 0, sizeof(b));
	snprintf(b.rot_uid, sizeof(b.rot_uid), "%s", rot_a);
	snprintf(b.owner, sizeof(b.owner), "acme");
	snprintf(b.ca, sizeof(b.ca), "fleet");
	memset(b.cert_sha256, 0x77, sizeof(b.cert_sha256));
	snprintf(b.serial, sizeof(b.serial), "4A");
	b.not_after = 30;
	b.issued_at = 4400;
	memset(bundle, 0x5c, sizeof(bundle));
	assert_int_equal(store_ztpbundle_put(st, &b, bundle, sizeof(bundle)), 0);
	assert_int_equal(store_ztpbundle_delivered(st, rot_a, b.cert_sha256, 4500), 0);
}

static void
populate_modules(struct store *st)
{
	struct store_module_commit_out out;
	struct store_campaign c;
	struct store_profile p;
	struct modmsg msg;
	uint8_t k[STORE_MODKEY_LEN];
	uint32_t e;

	assert_int_equal(store_owner_create(st, "acme"), 0);
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "meter");
	snprintf(p.owner, sizeof(p.owner), "acme");
	p.features = 3;
	p.hb_interval_s = 600;
	p.hb_min_interval_s = 60;
	assert_int_equal(store_profile_create(st, &p), 0);
	memset(k, 0x5A, sizeof(k));
	assert_int_equal(store_module_add(st, rot_a, k, "b1", 1000), 0);
	assert_int_equal(store_module_add(st, rot_b, k, NULL, 1000), 0);
	memset(&msg, 0, sizeof(msg));
	snprintf(msg.profile, sizeof(msg.profile), "%s", p.uid);
	snprintf(msg.serial, sizeof(msg.serial), "SN-1");
	MODMSG_SET(&msg, MODMSG_PROFILE);
	MODMSG_SET(&msg, MODMSG_SERIAL);
	assert_int_equal(store_module_report(st, rot_a, &msg, 1500, &out), 0);
	for (e = 1; e <= 3; e++) {
		memset(k, (int)e, sizeof(k));
		assert_int_equal(store_module_pending_set(st, rot_a, e - 1, e, k, 3, 2000 + e), 0);
		assert_int_equal(store_module_commit(st, rot_a, e, k, e > 1, 2000 + e, &out), 0);
	}
	memset(k, 9, sizeof(k));
	assert_int_equal(store_module_pending_set(st, rot_a, 3, 4, k, 3, 3000), 0);
	memset(&c, 0, sizeof(c));
	snprintf(c.owner, sizeof(c.owner), "acme");
	snprintf(c.profile_uid, sizeof(c.profile_uid), "%s", p.uid);
	c.enable = 8;
	assert_int_equal(store_campaign_create(st, &c, NULL, 0, 4000), 0);
	assert_int_equal(c.devices, 1);
	populate_ztpca(st, p.uid);
}

static void
populate(struct store *st)
{
	struct store_group g;
	struct store_upstream up;
	struct store_config cfg;
	struct store_device dev;
	struct store_allow a;
	struct store_mfr_ca *ca;
	struct store_cert c;
	struct store_crl crl;
	struct store_event_row ev[2];
	char iccid[ICCID_STR_SIZE], bound[STORE_DEVID_HEX], group[STORE_GROUP_SIZE], detail[32];
	uint8_t body[40], der[300];
	uint64_t number;
	int64_t id;
	int i;

	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "plain");
	g.allow_psk_ke = 1;
	g.rotation_period_s = 86400;
	g.est_auth = STORE_EST_ALLOWLIST | STORE_EST_PASSWORD;
	g.cert_days = 30;
	g.reenroll_grace_s = 600;
	assert_int_equal(store_group_create(st, &g, NULL), 0);
	memset(&up, 0, sizeof(up));
	snprintf(up.url, sizeof(up.url), "https://upstream.example/ztp");
	snprintf(up.ca, sizeof(up.ca), "/etc/ztp/upstream-ca.pem");
	assert_int_equal(store_group_set_upstream(st, "plain", &up), 0);
	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "derived");
	snprintf(g.iccid_prefix, sizeof(g.iccid_prefix), "8988");
	g.derive = 1;
	assert_int_equal(store_group_create(st, &g, master), 0);

	/* SIMs: stored PSKs, a pending one, blocked, bound, derived, pre-registered */
	assert_int_equal(store_sim_create(st, ICCID_A, psk16, sizeof(psk16), "plain"), 0);
	assert_int_equal(store_sim_create(st, ICCID_B, psk32, sizeof(psk32), NULL), 0);
	assert_int_equal(store_sim_pending_set(st, ICCID_A, 0, psk32, 16), 0);
	assert_int_equal(store_sim_set_rotate(st, ICCID_A, 1), 0);
	assert_int_equal(store_sim_set_blocked(st, ICCID_B, 1), 0);
	assert_int_equal(store_sim_bind(st, ICCID_A, DEVID, bound), 0);
	assert_int_equal(store_sim_register_derived(st, ICCID_D, "derived"), 0);
	assert_int_equal(store_sim_create_derived(st, ICCID_P, "0102", group), 0);
	for (i = 0; i < NSIMS; i++) {
		sim_iccid(i, iccid);
		assert_int_equal(store_sim_create(st, iccid, psk16, sizeof(psk16), NULL), 0);
	}

	/* configurations: versions, a rollback, an empty body */
	for (i = 1; i <= 5; i++) {
		memset(body, 'a' + i, sizeof(body));
		assert_int_equal(store_config_set(st, ICCID_A, body, (size_t)i * 7, &cfg), 0);
	}
	assert_int_equal(store_config_rollback(st, ICCID_A, 2, &cfg), 0);
	assert_int_equal(store_config_set(st, ICCID_B, (const uint8_t *)"", 0, &cfg), 0);

	for (i = 0; i < NTELEMETRY; i++) {
		memset(body, i, sizeof(body));
		assert_int_equal(store_telemetry_add(st, i % 2 ? ICCID_A : ICCID_D, DEVID, body,
				     (size_t)(i % 40) + 1, &id), 0);
	}
	assert_int_equal(store_device_get_or_create(st, ICCID_A, DEVID, &dev), 0);

	/* events: with and without ICCID and peer, one a coalesced repeat */
	for (i = 0; i < 9; i++) {
		snprintf(detail, sizeof(detail), "event %d", i);
		assert_int_equal(store_event_add(st, i % 3 ? "config_fetch" : "admin_login",
				     i % 2 ? ICCID_A : NULL, i % 4 ? "192.0.2.7" : NULL, detail), 0);
	}
	memset(ev, 0, sizeof(ev));
	ev[0] = (struct store_event_row){ .time = 1700000000000, .last_time = 1700000009000,
		.count = 5, .kind = "handshake_failed", .peer = "198.51.100.1",
		.detail = "unknown identity" };
	assert_int_equal(store_event_batch(st, ev, 1), 0);

	assert_int_equal(store_apikey_create(st, "k1", "secret-one"), 0);
	assert_int_equal(store_apikey_create(st, "k2", "secret-two"), 0);

	/* the module security service: an owner, a profile, modules with keys and history, a campaign */
	populate_modules(st);

	/* certificates: allowlist, passwords, a manufacturer CA, devices, certs, a CRL */
	memset(&a, 0, sizeof(a));
	snprintf(a.udid, sizeof(a.udid), "dev-1");
	memset(a.key_sha256, 0x11, sizeof(a.key_sha256));
	snprintf(a.group, sizeof(a.group), "plain");
	snprintf(a.iccid, sizeof(a.iccid), ICCID_A);
	assert_int_equal(store_allow_add(st, &a), 0);
	memset(&a, 0, sizeof(a));
	snprintf(a.udid, sizeof(a.udid), "dev-2");
	memset(a.key_sha256, 0x22, sizeof(a.key_sha256));
	assert_int_equal(store_allow_add(st, &a), 0);
	assert_int_equal(store_password_create(st, "dev-3", "plain", "open sesame",
			     clock_now_ms() + 3600000, NULL), 0);
	assert_int_equal(store_password_create(st, "dev-4", NULL, "open says me",
			     clock_now_ms() + 3600000, NULL), 0);
	assert_non_null(ca = calloc(1, sizeof(*ca)));
	snprintf(ca->name, sizeof(ca->name), "vendor");
	snprintf(ca->pem, sizeof(ca->pem), "-----BEGIN CERTIFICATE-----\nMIIB\n"
					   "-----END CERTIFICATE-----\n");
	memset(ca->sha256, 0xCA, sizeof(ca->sha256));
	snprintf(ca->group, sizeof(ca->group), "plain");
	assert_int_equal(store_mfr_ca_add(st, ca), 0);
	free(ca);
	for (i = 0; i < 6; i++) {
		memset(&c, 0, sizeof(c));
		snprintf(c.serial, sizeof(c.serial), "%040X", i + 1);
		snprintf(c.udid, sizeof(c.udid), "dev-%d", i % 2 + 1);
		snprintf(c.subject, sizeof(c.subject), "/serialNumber=%s/CN=device", c.udid);
		memset(c.key_sha256, 0x40 + i, sizeof(c.key_sha256));
		c.not_before = 1700000000;
		c.not_after = 4000000000;
		snprintf(c.method, sizeof(c.method), "allowlist");
		assert_int_equal(store_cert_record(st, &c, "plain", 0), 0);
	}
	assert_int_equal(store_cert_revoke(st, "0000000000000000000000000000000000000002", 1), 0);
	assert_int_equal(store_thing_block(st, "dev-2", 4, NULL), 0);
	assert_int_equal(store_crl_next_number(st, &number), 0);
	for (i = 0; i < (int)sizeof(der); i++)
		der[i] = (uint8_t)(i * 7);
	crl = (struct store_crl){ .number = number, .this_update = 1700000000,
		.next_update = 1700604800, .revocations = 1, .der = der,
		.der_len = sizeof(der) };
	assert_int_equal(store_crl_put(st, &crl), 0);
}

/* ---- every public read, as text ---- */

struct dump {
	char *s;
	size_t n, cap;
	struct store *st;
};

static void dump_add(struct dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
dump_add(struct dump *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(d->s + d->n, d->cap - d->n, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < d->cap - d->n)
			break;
		d->cap = 2 * d->cap + (size_t)n;
		assert_non_null(d->s = realloc(d->s, d->cap));
	}
	d->n += (size_t)n;
}

static void
dump_hex(struct dump *d, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dump_add(d, "%02x", p[i]);
	dump_add(d, " ");
}

static int
on_config(const struct store_config *c, void *arg)
{
	struct dump *d = arg;

	dump_add(d, "  config %u %s %s %lld ", c->version, c->etag, c->source,
	    (long long)c->created_at);
	dump_hex(d, c->body, c->len);
	dump_add(d, "\n");
	return 0;
}

static int
on_telemetry(const struct store_telemetry *t, void *arg)
{
	struct dump *d = arg;

	dump_add(d, "  telemetry %lld %s %lld ", (long long)t->id, t->device_id,
	    (long long)t->received_at);
	dump_hex(d, t->body, t->len);
	dump_add(d, "\n");
	return 0;
}

static int
on_sim(const struct store_sim *s, void *arg)
{
	struct dump *d = arg;
	struct store_config cfg;
	uint8_t psk[STORE_PSK_MAX];
	size_t len = 0;
	int rc;

	dump_add(d, "sim %s blocked %d dev %s gen %u cfg %u %lld %lld group %s derived %d"
		    " rotate %d pending %d rotated %lld\n",
	    s->iccid, s->blocked, s->device_id, s->psk_generation, s->config_version,
	    (long long)s->created_at, (long long)s->updated_at, s->group, s->derived, s->rotate,
	    s->pending, (long long)s->rotated_at);
	rc = store_sim_psk(d->st, s->iccid, s->psk_generation, psk, &len);
	dump_add(d, "  psk %d ", rc);
	dump_hex(d, psk, rc == 0 ? len : 0);
	rc = store_sim_pending_psk(d->st, s->iccid, s->psk_generation + 1, psk, &len);
	dump_add(d, "pending %d ", rc);
	dump_hex(d, psk, rc == 0 ? len : 0);
	rc = store_config_get(d->st, s->iccid, 0, &cfg);
	dump_add(d, "current config %d %u\n", rc, rc == 0 ? cfg.version : 0);
	assert_int_equal(store_config_history(d->st, s->iccid, on_config, d), 0);
	assert_int_equal(store_telemetry_list(d->st, s->iccid, 0, 1000, on_telemetry, d), 0);
	return 0;
}

static int
on_event(const struct store_event *e, void *arg)
{
	struct dump *d = arg;

	dump_add(d, "event %lld %lld %s %s %s %s %lld %lld\n", (long long)e->id,
	    (long long)e->time, e->kind, e->iccid, e->peer, e->detail, (long long)e->count,
	    (long long)e->last_time);
	return 0;
}

static int
on_group(const struct store_group *g, void *arg)
{
	struct dump *d = arg;

	dump_add(d, "group %s %s %d %d %lld %lld sims %lld est %d %d %lld up %s %s %s %s\n",
	    g->name, g->iccid_prefix, g->derive, g->allow_psk_ke, (long long)g->rotation_period_s,
	    (long long)g->created_at, (long long)g->sims, g->est_auth, g->cert_days,
	    (long long)g->reenroll_grace_s, g->upstream.url, g->upstream.ca, g->upstream.cert,
	    g->upstream.key);
	return 0;
}

static int
on_allow(const struct store_allow *a, void *arg)
{
	struct dump *d = arg;

	dump_add(d, "allow %s %s %s %lld ", a->udid, a->group, a->iccid, (long long)a->created_at);
	dump_hex(d, a->key_sha256, sizeof(a->key_sha256));
	dump_add(d, "\n");
	return 0;
}

static int
on_mfr(const struct store_mfr_ca *ca, void *arg)
{
	struct dump *d = arg;

	dump_add(d, "mfr %s %s %lld %s", ca->name, ca->group, (long long)ca->created_at, ca->pem);
	dump_hex(d, ca->sha256, sizeof(ca->sha256));
	dump_add(d, "\n");
	return 0;
}

static int
on_thing(const struct store_thing *t, void *arg)
{
	struct dump *d = arg;

	dump_add(d, "thing %s %s %s %d %lld %lld %lld %s\n", t->udid, t->group, t->iccid,
	    t->blocked, (long long)t->created_at, (long long)t->updated_at, (long long)t->certs,
	    t->serial);
	return 0;
}

static int
on_cert(const struct store_cert *c, void *arg)
{
	struct dump *d = arg;

	dump_add(d, "cert %s %s %s %lld %lld %lld %s %lld %d ", c->serial, c->udid, c->subject,
	    (long long)c->not_before, (long long)c->not_after, (long long)c->issued_at, c->method,
	    (long long)c->revoked_at, c->reason);
	dump_hex(d, c->key_sha256, sizeof(c->key_sha256));
	dump_add(d, "\n");
	return 0;
}

/* Every public read of st as text (malloc'd: free it); the same stores answer the same text. */
static void
dump_modules(struct dump *d, struct store *st)
{
	const char *rots[] = { rot_a, rot_b };
	enum store_modkey_kind kind;
	struct store_campaign c;
	struct store_mod m;
	uint8_t k[STORE_MODKEY_LEN];
	size_t i;
	uint32_t e;

	for (i = 0; i < 2; i++) {
		assert_int_equal(store_module_get(st, rots[i], &m), 0);
		dump_add(d, "module %s %d %u %u %u %s %s %s %u %u %lld %lld\n", m.rot_uid,
		    m.factory_retired, m.epoch, m.pending_epoch, m.pending_features, m.profile_uid,
		    m.owner, m.batch, m.features, m.features_applied, (long long)m.heartbeats,
		    (long long)m.pending_at);
		for (e = 0; e <= 5; e++) {
			int rc = store_module_key(st, rots[i], e, k, &kind);
			dump_add(d, "  key %u %d %d ", e, rc, rc == 0 ? (int)kind : 0);
			if (rc == 0)
				dump_hex(d, k, sizeof(k));
			dump_add(d, "\n");
		}
	}
	if (store_campaign_get(st, 1, &c) == 0)
		dump_add(d, "campaign %lld %s %u %lld\n", (long long)c.id, c.owner, c.enable,
		    (long long)c.devices);
}

static char *
dump(struct store *st)
{
	struct dump d = { .st = st };
	struct store_device dev;
	struct store_password pw;
	struct store_crl crl;
	uint8_t m[STORE_MASTER_LEN];
	char group[STORE_GROUP_SIZE];
	int64_t v;
	int n, rc;

	d.cap = 65536;
	assert_non_null(d.s = malloc(d.cap));
	d.s[0] = '\0';
	assert_int_equal(store_sim_list(st, "", 1000, on_sim, &d), 0);
	assert_int_equal(store_group_list(st, on_group, &d), 0);
	rc = store_group_derived_for(st, ICCID_D, group, m);
	dump_add(&d, "derived %d %s ", rc, group);
	dump_hex(&d, m, rc == 0 ? sizeof(m) : 0);
	assert_int_equal(store_device_get_or_create(st, ICCID_A, DEVID, &dev), 0);
	dump_add(&d, "\ndevice %s %s %s %s %s %lld\n", dev.iccid, dev.device_id, dev.cli, dev.usr,
	    dev.pwd, (long long)dev.created_at);
	assert_int_equal(store_event_list(st, 0, 0, 1000, on_event, &d), 0);
	assert_int_equal(store_apikey_count(st, &n), 0);
	dump_add(&d, "api keys %d verify %d %d %d\n", n, store_apikey_verify(st, "k1", "secret-one"),
	    store_apikey_verify(st, "k2", "secret-two"), store_apikey_verify(st, "k1", "wrong"));
	assert_int_equal(store_allow_list(st, "", 1000, on_allow, &d), 0);
	memset(&pw, 0, sizeof(pw));
	rc = store_password_check(st, "dev-3", "open sesame", &pw);
	dump_add(&d, "password %d %lld %s %s %lld %lld %lld\n", rc, (long long)pw.id, pw.udid,
	    pw.group, (long long)pw.created_at, (long long)pw.expires_at, (long long)pw.used_at);
	memset(&pw, 0, sizeof(pw));
	rc = store_password_check(st, "dev-4", "open says me", &pw);
	dump_add(&d, "password %d %lld %s\n", rc, (long long)pw.id, pw.group);
	assert_int_equal(store_mfr_ca_list(st, on_mfr, &d), 0);
	assert_int_equal(store_mfr_ca_generation(st, &v), 0);
	dump_add(&d, "mfr generation %lld\n", (long long)v);
	assert_int_equal(store_thing_list(st, "", 1000, on_thing, &d), 0);
	assert_int_equal(store_cert_list(st, NULL, "", 1000, on_cert, &d), 0);
	dump_add(&d, "revoked:\n");
	assert_int_equal(store_cert_revoked_list(st, 1800000000, on_cert, &d), 0);
	dump_modules(&d, st);
	memset(&crl, 0, sizeof(crl));
	rc = store_crl_get(st, &crl);
	dump_add(&d, "crl %d %llu %lld %lld %lld ", rc, (unsigned long long)crl.number,
	    (long long)crl.this_update, (long long)crl.next_update, (long long)crl.revocations);
	dump_hex(&d, crl.der, crl.der_len);
	free(crl.der);
	assert_int_equal(store_crl_revocations(st, &v), 0);
	dump_add(&d, "\nrevocations %lld\n", (long long)v);
	return d.s;
}

static void
assert_same(struct store *a, struct store *b)
{
	char *da = dump(a), *db = dump(b);

	assert_non_null(strstr(da, "sim " ICCID_D)); /* the dump reads what populate wrote */
	assert_non_null(strstr(da, "crl 0 1 "));
	assert_string_equal(da, db);
	free(da);
	free(db);
}

/* ---- the progress callback ---- */

struct seen {
	int calls, tables;
	int stop_after; /* answer ZTP_EBUSY at this call (0: never) */
	int64_t rows, added;
};

static int
on_progress(const struct store_copy_progress *p, void *arg)
{
	struct seen *s = arg;

	assert_true(p->rows <= p->total || !p->done);
	s->calls++;
	if (p->done) {
		s->tables++;
		s->rows += p->rows;
		s->added += p->added;
		assert_int_equal(p->rows, p->total);
	}
	return s->stop_after != 0 && s->calls == s->stop_after ? ZTP_EBUSY : 0;
}

/* ---- tests ---- */

static void
test_copy_answers_every_read_the_same(void **state)
{
	struct cx *cx = *state;
	struct seen s = { 0 };
	struct store *back = NULL;
	char path[600];
	int64_t id_from = 0, id_to = 0;
	struct store_password pf, pt;
	struct store_event_row ef = { .kind = "k", .detail = "d", .count = 1, .time = 1 };
	struct store_event_row et = ef;

	assert_string_equal(store_driver_name(cx->fx->st), fixture_pg() ? "postgresql" : "sqlite");
	populate(cx->from);
	assert_int_equal(store_copy(cx->from, cx->fx->st, 0, BATCH_GROUPS, on_progress, &s), 0);
	assert_int_equal(s.tables, 33);
	assert_int_equal(s.rows, s.added);
	assert_same(cx->from, cx->fx->st);

	/* and back into a SQLite file (the way back from PostgreSQL), in pages of 4 rows */
	snprintf(path, sizeof(path), "sqlite:%s/back.db", cx->fx->dir);
	assert_int_equal(store_open(&back, path, data_key), 0);
	assert_int_equal(store_copy(cx->fx->st, back, 0, BATCH, NULL, NULL), 0);
	assert_same(cx->from, back);
	store_close(back);

	/* the ids the target generates continue after the copied ones, as the source's */
	assert_int_equal(store_telemetry_add(cx->from, ICCID_A, DEVID, psk16, 3, &id_from), 0);
	assert_int_equal(store_telemetry_add(cx->fx->st, ICCID_A, DEVID, psk16, 3, &id_to), 0);
	assert_int_equal(id_from, NTELEMETRY + 1);
	assert_int_equal(id_to, id_from);
	assert_int_equal(store_event_batch(cx->from, &ef, 1), 0);
	assert_int_equal(store_event_batch(cx->fx->st, &et, 1), 0);
	assert_true(ef.id > 10);
	assert_int_equal(et.id, ef.id);
	assert_int_equal(store_password_create(cx->from, "dev-5", NULL, "pw", clock_now_ms() + 1000,
			     &pf), 0);
	assert_int_equal(store_password_create(cx->fx->st, "dev-5", NULL, "pw",
			     clock_now_ms() + 1000, &pt), 0);
	assert_int_equal(pf.id, 3);
	assert_int_equal(pt.id, pf.id);
}

static void
test_copy_of_an_empty_store_is_empty(void **state)
{
	struct cx *cx = *state;
	struct seen s = { 0 };

	assert_int_equal(store_copy(cx->from, cx->fx->st, 0, 0, on_progress, &s), 0);
	assert_int_equal(s.tables, 33);
	assert_int_equal(s.rows, 3); /* the counters */
	assert_int_equal(store_sim_get(cx->fx->st, ICCID_A, &(struct store_sim){ 0 }), ZTP_ENOENT);
}

static void
test_copy_refuses_a_target_with_data(void **state)
{
	struct cx *cx = *state;
	int n = -1;

	populate(cx->from);
	assert_int_equal(store_apikey_create(cx->fx->st, "other", "secret"), 0);
	assert_int_equal(store_copy(cx->from, cx->fx->st, 0, BATCH, NULL, NULL), ZTP_EEXIST);
	/* nothing was copied */
	assert_int_equal(store_sim_get(cx->fx->st, ICCID_A, &(struct store_sim){ 0 }), ZTP_ENOENT);
	assert_int_equal(store_apikey_count(cx->fx->st, &n), 0);
	assert_int_equal(n, 1);
}

static void
test_copy_refuses_a_target_with_moved_counters(void **state)
{
	struct cx *cx = *state;
	uint64_t number;

	assert_int_equal(store_crl_next_number(cx->fx->st, &number), 0);
	assert_int_equal(store_copy(cx->from, cx->fx->st, 0, 0, NULL, NULL), ZTP_EEXIST);
}

static void
test_interrupted_copy_resumes(void **state)
{
	struct cx *cx = *state;
	struct seen s = { .stop_after = 9 }; /* 8 pages into the SIMs */
	struct seen r = { 0 };
	struct store_sim sim;

	populate(cx->from);
	assert_int_equal(store_copy(cx->from, cx->fx->st, 0, BATCH, on_progress, &s), ZTP_EBUSY);
	assert_int_equal(store_sim_get(cx->fx->st, ICCID_A, &sim), 0);
	/* the target holds part of the copy: refused without resume */
	assert_int_equal(store_copy(cx->from, cx->fx->st, 0, BATCH, NULL, NULL), ZTP_EEXIST);
	assert_int_equal(store_copy(cx->from, cx->fx->st, 1, BATCH, on_progress, &r), 0);
	assert_int_equal(r.tables, 33);
	assert_true(r.added < r.rows); /* what the first run wrote was skipped */
	assert_same(cx->from, cx->fx->st);
	/* and again: nothing left to add but the counters and the CRL, set again */
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_copy(cx->from, cx->fx->st, 1, 0, on_progress, &r), 0);
	assert_int_equal(r.added, 3 + 1);
	assert_same(cx->from, cx->fx->st);
}

static void
test_counts_that_differ_fail(void **state)
{
	struct cx *cx = *state;

	populate(cx->from);
	assert_int_equal(store_apikey_create(cx->fx->st, "extra", "secret"), 0);
	assert_int_equal(store_copy(cx->from, cx->fx->st, 1, 0, NULL, NULL), ZTP_ECONFLICT);
}

/* The first column of the first row of sql on st, with ?1 = param, as text. */
static void
query_text(struct store *st, const char *sql, const char *param, char *out, size_t cap)
{
	struct store_stmt *s = st->drv->prepare(st, sql);

	assert_non_null(s);
	if (param != NULL)
		store_bind_text(s, 1, param);
	assert_int_equal(store_step(s), STORE_ROW);
	store_col_text(s, 0, out, cap);
	s->drv->finalize(s);
}

/* The tables and columns of st (SQLite or PostgreSQL) are those store_copy copies. */
static void
assert_tables_are_the_schema(struct store *st)
{
	int pg = strcmp(store_driver_name(st), "postgresql") == 0;
	const char *tables_sql = pg ?
	    "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
	    " AND table_name <> 'ztp_schema'" :
	    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
	const char *cols_sql = pg ?
	    "SELECT string_agg(column_name::text, ', ' ORDER BY ordinal_position)"
	    " FROM information_schema.columns WHERE table_schema = current_schema()"
	    " AND table_name = ?1" :
	    "SELECT group_concat(name, ', ') FROM (SELECT name FROM pragma_table_info(?1)"
	    " ORDER BY cid)";
	char cols[512], got[512], n[16];
	const char *name;
	size_t i;

	for (i = 0; (name = store_copy_table(i, cols, sizeof(cols))) != NULL; i++) {
		query_text(st, cols_sql, name, got, sizeof(got));
		assert_string_equal(got, cols);
	}
	query_text(st, tables_sql, NULL, n, sizeof(n));
	assert_int_equal(atoi(n), (int)i);
}

static void
test_copy_knows_every_table_and_column(void **state)
{
	struct cx *cx = *state;

	assert_tables_are_the_schema(cx->from);
	assert_tables_are_the_schema(cx->fx->st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copy_answers_every_read_the_same, setup,
		    cx_teardown),
		cmocka_unit_test_setup_teardown(test_copy_of_an_empty_store_is_empty, setup,
		    cx_teardown),
		cmocka_unit_test_setup_teardown(test_copy_refuses_a_target_with_data, setup,
		    cx_teardown),
		cmocka_unit_test_setup_teardown(test_copy_refuses_a_target_with_moved_counters, setup,
		    cx_teardown),
		cmocka_unit_test_setup_teardown(test_interrupted_copy_resumes, setup, cx_teardown),
		cmocka_unit_test_setup_teardown(test_counts_that_differ_fail, setup, cx_teardown),
		cmocka_unit_test_setup_teardown(test_copy_knows_every_table_and_column, setup,
		    cx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
