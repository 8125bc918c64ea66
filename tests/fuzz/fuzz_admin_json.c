/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the admin API's JSON request body parsers (admin_req.h).
 *
 * The first byte picks the parser: '0' token, '1' SIM create, '2' config
 * set, '3' rollback, '4' allowlist entry, '5' allowlist import, '6'
 * enrolment password, '7' manufacturer CA, '8' revocation reason, '9'
 * group create and the group's upstream (PUT /v1/groups/NAME/upstream) on
 * the same bytes, 'o' owner create, 'k' API key create (another byte:
 * its value modulo 10); the rest is the
 * request body, passed as it is. On success the
 * outputs are checked against their limits, written back as the canonical
 * JSON body and parsed again, which must give the same values. On failure
 * the outputs must be untouched and the reason a NUL-terminated string
 * within its cap.
 */
#include <string.h>

#include <jansson.h>

#include "admin_req.h"
#include "fuzz.h"
#include "proxy_req.h"
#include "ztp/err.h"

#define WHY_CAP 128
#define CANARY 0x5a

struct why {
	char buf[WHY_CAP + 16]; /* the bytes past WHY_CAP must stay CANARY */
};

static void
why_init(struct why *w)
{
	memset(w->buf, CANARY, sizeof(w->buf));
}

static void
why_check(const struct why *w, int rc)
{
	size_t i;

	for (i = WHY_CAP; i < sizeof(w->buf); i++)
		FUZZ_CHECK((unsigned char)w->buf[i] == CANARY);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ETOOBIG);
		FUZZ_CHECK(strnlen(w->buf, WHY_CAP) < WHY_CAP);
		FUZZ_CHECK(w->buf[0] != '\0');
	}
}

/* Serialise obj (stolen) as a compact body; the caller frees it. */
static char *
dump(json_t *obj)
{
	char *s;

	FUZZ_CHECK(obj != NULL);
	s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	FUZZ_CHECK(s != NULL);
	return s;
}

static void
fuzz_token(const uint8_t *buf, size_t len)
{
	char key_id[TOKEN_KEYID_MAX + 1], secret[ADMINREQ_SECRET_MAX + 1];
	char key_id2[TOKEN_KEYID_MAX + 1], secret2[ADMINREQ_SECRET_MAX + 1];
	struct why w;
	size_t idlen, seclen;
	char *again;
	int rc;

	memset(key_id, CANARY, sizeof(key_id));
	memset(secret, CANARY, sizeof(secret));
	why_init(&w);
	rc = adminreq_token(buf, len, key_id, secret, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK((unsigned char)key_id[0] == CANARY);
		FUZZ_CHECK((unsigned char)secret[0] == CANARY);
		return;
	}
	idlen = strnlen(key_id, sizeof(key_id));
	seclen = strnlen(secret, sizeof(secret));
	FUZZ_CHECK(idlen >= 1 && idlen <= TOKEN_KEYID_MAX);
	FUZZ_CHECK(token_keyid_valid(key_id, idlen));
	FUZZ_CHECK(seclen >= 1 && seclen <= ADMINREQ_SECRET_MAX);

	again = dump(json_pack("{s:s, s:s}", "key_id", key_id, "secret", secret));
	FUZZ_CHECK(adminreq_token((const uint8_t *)again, strlen(again), key_id2, secret2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(strcmp(key_id, key_id2) == 0 && strcmp(secret, secret2) == 0);
	free(again);
}

static void
fuzz_sim_create(const uint8_t *buf, size_t len)
{
	struct adminreq_sim sim, sim2;
	const struct store_import_row *row = &sim.row, *row2 = &sim2.row;
	char hex[2 * STORE_PSK_MAX + 1];
	size_t n, i;
	struct why w;
	char *again;
	int rc;

	memset(&sim, CANARY, sizeof(sim));
	why_init(&w);
	rc = adminreq_sim_create(buf, len, &sim, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		const uint8_t *p = (const uint8_t *)&sim;
		for (i = 0; i < sizeof(sim); i++)
			FUZZ_CHECK(p[i] == CANARY);
		return;
	}
	n = strnlen(row->iccid, sizeof(row->iccid));
	FUZZ_CHECK(n >= ICCID_MIN_DIGITS && n <= ICCID_MAX_DIGITS);
	FUZZ_CHECK(fuzz_all_digits(row->iccid, n));
	if (sim.derived) {
		/* pre-registered: no PSK, no group; a Device ID in upper-case hex, or none */
		n = strnlen(sim.device_id, sizeof(sim.device_id));
		FUZZ_CHECK(sim.derived == 1 && row->psk_len == 0 && row->group[0] == '\0');
		FUZZ_CHECK(n < sizeof(sim.device_id) && n % 2 == 0);
		for (i = 0; i < n; i++)
			FUZZ_CHECK((sim.device_id[i] >= '0' && sim.device_id[i] <= '9') ||
			    (sim.device_id[i] >= 'A' && sim.device_id[i] <= 'F'));
		again = dump(n > 0 ? json_pack("{s:s, s:b, s:s}", "iccid", row->iccid, "derived", 1,
					 "device_id", sim.device_id) :
				     json_pack("{s:s, s:b}", "iccid", row->iccid, "derived", 1));
		FUZZ_CHECK(adminreq_sim_create((const uint8_t *)again, strlen(again), &sim2, w.buf,
			       WHY_CAP) == 0);
		FUZZ_CHECK(sim2.derived && strcmp(row->iccid, row2->iccid) == 0 &&
		    strcmp(sim.device_id, sim2.device_id) == 0 && row2->psk_len == 0);
		free(again);
		return;
	}
	FUZZ_CHECK(sim.device_id[0] == '\0');
	FUZZ_CHECK(row->psk_len >= STORE_PSK_MIN && row->psk_len <= STORE_PSK_MAX);
	FUZZ_CHECK(row->group[0] == '\0' || store_group_name_valid(row->group));

	for (i = 0; i < row->psk_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", row->psk[i]);
	again = dump(row->group[0] ? json_pack("{s:s, s:s, s:s}", "iccid", row->iccid, "psk", hex,
					 "group", row->group) :
				     json_pack("{s:s, s:s}", "iccid", row->iccid, "psk", hex));
	FUZZ_CHECK(adminreq_sim_create((const uint8_t *)again, strlen(again), &sim2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(!sim2.derived);
	FUZZ_CHECK(strcmp(row->iccid, row2->iccid) == 0 && strcmp(row->group, row2->group) == 0);
	FUZZ_CHECK(row2->psk_len == row->psk_len && memcmp(row->psk, row2->psk, row->psk_len) == 0);
	free(again);
}

static void
fuzz_config_set(const uint8_t *buf, size_t len)
{
	uint8_t body[STORE_CONFIG_MAX], body2[STORE_CONFIG_MAX];
	size_t bodylen = (size_t)-1, bodylen2 = 0;
	struct why w;
	char *again;
	int rc;

	why_init(&w);
	rc = adminreq_config_set(buf, len, body, &bodylen, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(bodylen == (size_t)-1);
		return;
	}
	FUZZ_CHECK(bodylen <= STORE_CONFIG_MAX);
	FUZZ_CHECK(memchr(body, '\0', bodylen) == NULL);

	/* the body is a JSON string, so valid UTF-8: it must serialise again */
	again = dump(json_pack("{s:s%}", "body", (const char *)body, bodylen));
	FUZZ_CHECK(adminreq_config_set((const uint8_t *)again, strlen(again), body2, &bodylen2,
		       w.buf, WHY_CAP) == 0);
	FUZZ_CHECK(bodylen2 == bodylen && memcmp(body, body2, bodylen) == 0);
	free(again);
}

static void
fuzz_rollback(const uint8_t *buf, size_t len)
{
	uint32_t version = 0, version2 = 0;
	struct why w;
	char *again;
	int rc;

	why_init(&w);
	rc = adminreq_rollback(buf, len, &version, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(version == 0);
		return;
	}
	FUZZ_CHECK(version >= 1);

	again = dump(json_pack("{s:I}", "version", (json_int_t)version));
	FUZZ_CHECK(adminreq_rollback((const uint8_t *)again, strlen(again), &version2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(version2 == version);
	free(again);
}

/* what a parsed allowlist entry must satisfy */
static void
check_allow(const struct store_allow *a)
{
	FUZZ_CHECK(memchr(a->udid, '\0', sizeof(a->udid)) != NULL && store_udid_valid(a->udid));
	FUZZ_CHECK(memchr(a->group, '\0', sizeof(a->group)) != NULL);
	FUZZ_CHECK(a->group[0] == '\0' || store_group_name_valid(a->group));
	FUZZ_CHECK(memchr(a->iccid, '\0', sizeof(a->iccid)) != NULL);
	FUZZ_CHECK(a->iccid[0] == '\0' || iccid_valid(a->iccid, strlen(a->iccid)));
	FUZZ_CHECK(a->created_at == 0);
}

/* {"udid", "key_sha256", "group"?, "iccid"?} of a parsed entry */
static json_t *
allow_body(const struct store_allow *a)
{
	char hex[65];
	size_t i;
	json_t *o;

	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", a->key_sha256[i]);
	o = json_pack("{s:s, s:s}", "udid", a->udid, "key_sha256", hex);
	FUZZ_CHECK(o != NULL);
	if (a->group[0])
		json_object_set_new(o, "group", json_string(a->group));
	if (a->iccid[0])
		json_object_set_new(o, "iccid", json_string(a->iccid));
	return o;
}

static void
fuzz_allow(const uint8_t *buf, size_t len)
{
	struct store_allow a, a2;
	struct why w;
	char *again;
	size_t i;
	int rc;

	memset(&a, CANARY, sizeof(a));
	why_init(&w);
	rc = adminreq_allow(buf, len, &a, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		for (i = 0; i < sizeof(a); i++)
			FUZZ_CHECK(((const uint8_t *)&a)[i] == CANARY);
		return;
	}
	check_allow(&a);
	again = dump(allow_body(&a));
	FUZZ_CHECK(adminreq_allow((const uint8_t *)again, strlen(again), &a2, w.buf, WHY_CAP) == 0);
	FUZZ_CHECK(strcmp(a.udid, a2.udid) == 0 && strcmp(a.group, a2.group) == 0 &&
	    strcmp(a.iccid, a2.iccid) == 0 && memcmp(a.key_sha256, a2.key_sha256, 32) == 0);
	free(again);
}

static struct store_allow_row import_rows[STORE_IMPORT_BATCH_MAX];

static void
fuzz_allow_import(const uint8_t *buf, size_t len)
{
	size_t n = (size_t)-1, i;
	struct why w;
	int rc;

	why_init(&w);
	rc = adminreq_allow_import(buf, len, import_rows, &n, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(n == (size_t)-1);
		return;
	}
	FUZZ_CHECK(n >= 1 && n <= STORE_IMPORT_BATCH_MAX);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(memchr(import_rows[i].invalid, '\0', sizeof(import_rows[i].invalid)));
		if (import_rows[i].invalid[0] == '\0')
			check_allow(&import_rows[i].a);
	}
}

static void
fuzz_password(const uint8_t *buf, size_t len)
{
	char udid[STORE_UDID_MAX + 1], group[STORE_GROUP_SIZE];
	char udid2[STORE_UDID_MAX + 1], group2[STORE_GROUP_SIZE];
	int64_t ttl = -7, ttl2 = 0;
	struct why w;
	char *again;
	int rc;

	why_init(&w);
	rc = adminreq_password(buf, len, udid, &ttl, group, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(ttl == -7);
		return;
	}
	FUZZ_CHECK(store_udid_valid(udid));
	FUZZ_CHECK(group[0] == '\0' || store_group_name_valid(group));
	FUZZ_CHECK(ttl >= ADMINREQ_PASSWORD_TTL_MIN && ttl <= ADMINREQ_PASSWORD_TTL_MAX);
	again = dump(group[0] ? json_pack("{s:s, s:I, s:s}", "udid", udid, "ttl_s", (json_int_t)ttl,
				    "group", group) :
				json_pack("{s:s, s:I}", "udid", udid, "ttl_s", (json_int_t)ttl));
	FUZZ_CHECK(adminreq_password((const uint8_t *)again, strlen(again), udid2, &ttl2, group2,
		       w.buf, WHY_CAP) == 0);
	FUZZ_CHECK(strcmp(udid, udid2) == 0 && strcmp(group, group2) == 0 && ttl == ttl2);
	free(again);
}

static struct store_mfr_ca mfr, mfr2;

static void
fuzz_mfr_ca(const uint8_t *buf, size_t len)
{
	struct why w;
	char *again;
	size_t i;
	int rc;

	memset(&mfr, CANARY, sizeof(mfr));
	why_init(&w);
	rc = adminreq_mfr_ca(buf, len, &mfr, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		for (i = 0; i < sizeof(mfr); i++)
			FUZZ_CHECK(((const uint8_t *)&mfr)[i] == CANARY);
		return;
	}
	FUZZ_CHECK(store_group_name_valid(mfr.name));
	FUZZ_CHECK(mfr.group[0] == '\0' || store_group_name_valid(mfr.group));
	FUZZ_CHECK(memchr(mfr.pem, '\0', sizeof(mfr.pem)) != NULL && mfr.pem[0] != '\0');
	/* the stored PEM is canonical: parsed again, it is the same */
	again = dump(json_pack("{s:s, s:s}", "name", mfr.name, "pem", mfr.pem));
	FUZZ_CHECK(adminreq_mfr_ca((const uint8_t *)again, strlen(again), &mfr2, w.buf, WHY_CAP) ==
	    0);
	FUZZ_CHECK(strcmp(mfr.pem, mfr2.pem) == 0 && memcmp(mfr.sha256, mfr2.sha256, 32) == 0);
	free(again);
}

static void
fuzz_reason(const uint8_t *buf, size_t len)
{
	int reason = -7, reason2 = -8;
	const char *name;
	struct why w;
	char *again;
	int rc;

	why_init(&w);
	rc = adminreq_reason(buf, len, 0, &reason, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(reason == -7);
		return;
	}
	name = adminreq_reason_name(reason);
	FUZZ_CHECK(name != NULL);
	again = dump(json_pack("{s:s}", "reason", name));
	FUZZ_CHECK(adminreq_reason((const uint8_t *)again, strlen(again), 1, &reason2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(reason == reason2);
	free(again);
}

/* the proxy members of u into obj: only those set, as the API takes them */
static void
upstream_members(json_t *obj, const struct store_upstream *u)
{
	if (u->url[0])
		json_object_set_new(obj, "upstream", json_string(u->url));
	if (u->ca[0])
		json_object_set_new(obj, "upstream_ca", json_string(u->ca));
	if (u->cert[0])
		json_object_set_new(obj, "upstream_cert", json_string(u->cert));
	if (u->key[0])
		json_object_set_new(obj, "upstream_key", json_string(u->key));
}

static int
upstream_equal(const struct store_upstream *a, const struct store_upstream *b)
{
	return !strcmp(a->url, b->url) && !strcmp(a->ca, b->ca) && !strcmp(a->cert, b->cert) &&
	    !strcmp(a->key, b->key);
}

/* PUT /v1/groups/NAME/upstream: the same bytes as the group creation */
static void
fuzz_group_upstream(const uint8_t *buf, size_t len)
{
	struct store_upstream u, u2, poisoned;
	struct why w;
	json_t *obj;
	char *again;
	int rc;

	memset(&u, CANARY, sizeof(u));
	memcpy(&poisoned, &u, sizeof(u));
	why_init(&w);
	rc = adminreq_group_upstream(buf, len, &u, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(memcmp(&u, &poisoned, sizeof(u)) == 0);
		return;
	}
	FUZZ_CHECK(memchr(u.url, '\0', sizeof(u.url)) && memchr(u.ca, '\0', sizeof(u.ca)) &&
	    memchr(u.cert, '\0', sizeof(u.cert)) && memchr(u.key, '\0', sizeof(u.key)));
	FUZZ_CHECK(proxy_upstream_check(&u, w.buf, WHY_CAP) == 0);
	obj = json_object();
	upstream_members(obj, &u);
	if (u.url[0] == '\0')
		json_object_set_new(obj, "upstream", json_null());
	again = dump(obj);
	FUZZ_CHECK(adminreq_group_upstream((const uint8_t *)again, strlen(again), &u2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(upstream_equal(&u, &u2));
	free(again);
}

static void
fuzz_group_create(const uint8_t *buf, size_t len)
{
	uint8_t master[STORE_MASTER_LEN];
	struct store_group g, g2;
	int have = -1;
	struct why w;
	json_t *est, *obj;
	char *again;
	int rc;

	memset(&g, CANARY, sizeof(g));
	fuzz_group_upstream(buf, len);
	why_init(&w);
	rc = adminreq_group_create(buf, len, &g, master, &have, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0)
		return;
	FUZZ_CHECK(store_group_name_valid(g.name));
	FUZZ_CHECK(have == 0 || (have == 1 && g.derive));
	FUZZ_CHECK(g.est_auth >= 0 && g.est_auth <= STORE_EST_ALL); /* 0: the server's */
	FUZZ_CHECK(g.cert_days >= 0 && g.cert_days <= ADMINREQ_CERT_DAYS_MAX);
	FUZZ_CHECK(g.reenroll_grace_s >= -1 && g.reenroll_grace_s <= ADMINREQ_GRACE_MAX);
	est = g.est_auth == 0 ? json_null() : json_array();
	if (g.est_auth & STORE_EST_ALLOWLIST)
		json_array_append_new(est, json_string("allowlist"));
	if (g.est_auth & STORE_EST_PASSWORD)
		json_array_append_new(est, json_string("password"));
	if (g.est_auth & STORE_EST_MANUFACTURER)
		json_array_append_new(est, json_string("manufacturer"));
	obj = json_pack("{s:s, s:s, s:b, s:b, s:I, s:o, s:i, s:I}", "name", g.name,
	    "iccid_prefix", g.iccid_prefix, "derive", g.derive, "allow_psk_ke", g.allow_psk_ke,
	    "rotation_period_s", (json_int_t)g.rotation_period_s, "est_auth", est, "cert_days",
	    g.cert_days, "reenroll_grace_s", (json_int_t)g.reenroll_grace_s);
	FUZZ_CHECK(obj != NULL);
	upstream_members(obj, &g.upstream);
	again = dump(obj);
	FUZZ_CHECK(adminreq_group_create((const uint8_t *)again, strlen(again), &g2, master, &have,
		       w.buf, WHY_CAP) == 0);
	FUZZ_CHECK(strcmp(g.name, g2.name) == 0 && strcmp(g.iccid_prefix, g2.iccid_prefix) == 0 &&
	    g.derive == g2.derive && g.allow_psk_ke == g2.allow_psk_ke &&
	    g.rotation_period_s == g2.rotation_period_s && g.est_auth == g2.est_auth &&
	    g.cert_days == g2.cert_days && g.reenroll_grace_s == g2.reenroll_grace_s &&
	    upstream_equal(&g.upstream, &g2.upstream));
	free(again);
}

/* {"name"} of an owner: a valid name, and the same again from its canonical body */
static void
fuzz_owner(const uint8_t *buf, size_t len)
{
	char name[STORE_OWNER_MAX + 1], name2[STORE_OWNER_MAX + 1];
	struct why w;
	char *again;
	int rc;

	memset(name, CANARY, sizeof(name));
	why_init(&w);
	rc = adminreq_owner(buf, len, name, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		for (size_t i = 0; i < sizeof(name); i++)
			FUZZ_CHECK((unsigned char)name[i] == CANARY);
		return;
	}
	FUZZ_CHECK(store_owner_valid(name));
	again = dump(json_pack("{s:s}", "name", name));
	FUZZ_CHECK(adminreq_owner((const uint8_t *)again, strlen(again), name2, w.buf, WHY_CAP) == 0);
	FUZZ_CHECK(strcmp(name, name2) == 0);
	free(again);
}

/* {"name", "owner" | "all_owners": true} of an API key */
static void
fuzz_apikey(const uint8_t *buf, size_t len)
{
	char name[STORE_APIKEY_NAME_MAX + 1], owner[STORE_OWNER_MAX + 1];
	char name2[STORE_APIKEY_NAME_MAX + 1], owner2[STORE_OWNER_MAX + 1];
	struct why w;
	char *again;
	int rc;

	memset(name, CANARY, sizeof(name));
	memset(owner, CANARY, sizeof(owner));
	why_init(&w);
	rc = adminreq_apikey(buf, len, name, owner, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		for (size_t i = 0; i < sizeof(name); i++)
			FUZZ_CHECK((unsigned char)name[i] == CANARY);
		for (size_t i = 0; i < sizeof(owner); i++)
			FUZZ_CHECK((unsigned char)owner[i] == CANARY);
		return;
	}
	FUZZ_CHECK(store_owner_valid(name));
	FUZZ_CHECK(owner[0] == '\0' || store_owner_valid(owner));
	again = dump(owner[0] != '\0' ? json_pack("{s:s, s:s}", "name", name, "owner", owner) :
					json_pack("{s:s, s:b}", "name", name, "all_owners", 1));
	FUZZ_CHECK(adminreq_apikey((const uint8_t *)again, strlen(again), name2, owner2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(strcmp(name, name2) == 0 && strcmp(owner, owner2) == 0);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] == 'o') {
		fuzz_owner(data + 1, size - 1);
		return 0;
	}
	if (data[0] == 'k') {
		fuzz_apikey(data + 1, size - 1);
		return 0;
	}
	switch (data[0] >= '0' && data[0] <= '9' ? data[0] - '0' : data[0] % 10) {
	case 0:
		fuzz_token(data + 1, size - 1);
		break;
	case 1:
		fuzz_sim_create(data + 1, size - 1);
		break;
	case 2:
		fuzz_config_set(data + 1, size - 1);
		break;
	case 3:
		fuzz_rollback(data + 1, size - 1);
		break;
	case 4:
		fuzz_allow(data + 1, size - 1);
		break;
	case 5:
		fuzz_allow_import(data + 1, size - 1);
		break;
	case 6:
		fuzz_password(data + 1, size - 1);
		break;
	case 7:
		fuzz_mfr_ca(data + 1, size - 1);
		break;
	case 8:
		fuzz_reason(data + 1, size - 1);
		break;
	case 9:
		fuzz_group_create(data + 1, size - 1);
		break;
	}
	return 0;
}
