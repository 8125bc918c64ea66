/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the JSON request bodies of the module security
 * service's admin routes (admin_modreq.h).
 *
 * The first byte picks the parser ('0'..'7', another byte: its value
 * modulo 8): '0' profile create, '1' profile update, '2' module import,
 * '3' transfer, '4' features, '5' campaign, '6' E2E decryption parameters,
 * '7' E2E encrypt; the rest is the request body, passed as it is. On
 * success the outputs are checked against their limits, written back as
 * the canonical JSON body and parsed again, which must give the same
 * values. On failure the outputs must be untouched and the reason a
 * non-empty NUL-terminated string within its cap.
 */
#include <string.h>

#include <jansson.h>

#include "admin_modreq.h"
#include "b64.h"
#include "fuzz.h"
#include "hex.h"
#include "modmsg.h"
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
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ETOOBIG || rc == ZTP_EINVAL);
		FUZZ_CHECK(strnlen(w->buf, WHY_CAP) < WHY_CAP);
		FUZZ_CHECK(w->buf[0] != '\0');
	}
}

static int
all_canary(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != CANARY)
			return 0;
	return 1;
}

/* NUL-terminated within its array */
#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

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

/* bits as the API takes them: an array of feature names */
static json_t *
features_json(uint32_t bits)
{
	json_t *a = json_array();
	uint32_t b;

	FUZZ_CHECK((bits & ~MODMSG_F_ALL) == 0);
	for (b = 1; b <= MODMSG_F_ALL; b <<= 1)
		if (bits & b) {
			FUZZ_CHECK(modmsg_feature_name(b) != NULL);
			json_array_append_new(a, json_string(modmsg_feature_name(b)));
		}
	return a;
}

/* a profile's values: limits, and its members into obj as set says */
static void
profile_values(json_t *obj, const struct store_profile *p, unsigned set)
{
	FUZZ_CHECK((p->features & ~MODMSG_F_ALL) == 0);
	FUZZ_CHECK(p->hb_interval_s == 0 ||
	    (p->hb_interval_s >= 1 && p->hb_interval_s <= STORE_HB_INTERVAL_MAX));
	FUZZ_CHECK(p->hb_min_interval_s == 0 ||
	    (p->hb_min_interval_s >= 1 && p->hb_min_interval_s <= STORE_HB_INTERVAL_MAX));
	FUZZ_CHECK(p->hb_interval_s == 0 || p->hb_min_interval_s <= p->hb_interval_s);
	FUZZ_CHECK((set & STORE_PROFILE_SET_FEATURES) || p->features == 0);
	FUZZ_CHECK(((set & STORE_PROFILE_SET_HB) != 0) == (p->hb_interval_s != 0));
	FUZZ_CHECK(((set & STORE_PROFILE_SET_HB_MIN) != 0) == (p->hb_min_interval_s != 0));
	if (set & STORE_PROFILE_SET_FEATURES)
		json_object_set_new(obj, "features", features_json(p->features));
	if (set & STORE_PROFILE_SET_HB)
		json_object_set_new(obj, "heartbeat_interval_s", json_integer(p->hb_interval_s));
	if (set & STORE_PROFILE_SET_HB_MIN)
		json_object_set_new(obj, "heartbeat_min_interval_s",
		    json_integer(p->hb_min_interval_s));
}

static int
profile_equal(const struct store_profile *a, const struct store_profile *b)
{
	return !strcmp(a->name, b->name) && !strcmp(a->owner, b->owner) &&
	    a->features == b->features && a->hb_interval_s == b->hb_interval_s &&
	    a->hb_min_interval_s == b->hb_min_interval_s;
}

static void
fuzz_profile_create(const uint8_t *buf, size_t len)
{
	struct store_profile p, p2;
	struct why w;
	json_t *obj;
	char *again;
	int rc;

	memset(&p, CANARY, sizeof(p));
	why_init(&w);
	rc = admin_modreq_profile_create(buf, len, &p, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(all_canary(&p, sizeof(p)));
		return;
	}
	FUZZ_CHECK(TERMINATED(p.name) && store_profile_name_valid(p.name));
	FUZZ_CHECK(TERMINATED(p.owner) && (p.owner[0] == '\0' || store_profile_owner_valid(p.owner)));
	/* what is absent is 0: features [] and absent are the same profile */
	obj = json_pack("{s:s}", "name", p.name);
	FUZZ_CHECK(obj != NULL);
	if (p.owner[0] != '\0')
		json_object_set_new(obj, "owner", json_string(p.owner));
	profile_values(obj, &p,
	    STORE_PROFILE_SET_FEATURES | (p.hb_interval_s ? STORE_PROFILE_SET_HB : 0) |
		(p.hb_min_interval_s ? STORE_PROFILE_SET_HB_MIN : 0));
	again = dump(obj);
	FUZZ_CHECK(admin_modreq_profile_create((const uint8_t *)again, strlen(again), &p2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(profile_equal(&p, &p2));
	free(again);
}

static void
fuzz_profile_update(const uint8_t *buf, size_t len)
{
	struct store_profile p, p2;
	unsigned set = 0xA5A5, set2 = 0;
	struct why w;
	json_t *obj;
	char *again;
	int rc;

	memset(&p, CANARY, sizeof(p));
	why_init(&w);
	rc = admin_modreq_profile_update(buf, len, &p, &set, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(all_canary(&p, sizeof(p)) && set == 0xA5A5);
		return;
	}
	FUZZ_CHECK(set != 0 && (set & ~(STORE_PROFILE_SET_FEATURES | STORE_PROFILE_SET_HB |
				       STORE_PROFILE_SET_HB_MIN)) == 0);
	obj = json_object();
	profile_values(obj, &p, set);
	again = dump(obj);
	FUZZ_CHECK(admin_modreq_profile_update((const uint8_t *)again, strlen(again), &p2, &set2,
		       w.buf, WHY_CAP) == 0);
	FUZZ_CHECK(set2 == set && profile_equal(&p, &p2));
	free(again);
}

/* the rows or RoT UIDs poisoned and checked: the first few (all of them is slow) */
#define POISONED 64

static struct store_mod_import_row rows[STORE_IMPORT_BATCH_MAX], rows2[STORE_IMPORT_BATCH_MAX];

static void
fuzz_import(const uint8_t *buf, size_t len)
{
	static const uint8_t zero[STORE_MODKEY_LEN];
	char hex[2 * STORE_MODKEY_LEN + 1];
	size_t n = (size_t)-1, n2 = 0, i, j;
	json_t *arr, *row;
	struct why w;
	char *again;
	int rc;

	memset(rows, CANARY, POISONED * sizeof(rows[0]));
	why_init(&w);
	rc = admin_modreq_import(buf, len, rows, &n, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(n == (size_t)-1);
		FUZZ_CHECK(all_canary(rows, POISONED * sizeof(rows[0])));
		return;
	}
	FUZZ_CHECK(n >= 1 && n <= STORE_IMPORT_BATCH_MAX);
	if (n < POISONED)
		FUZZ_CHECK(all_canary(rows + n, (POISONED - n) * sizeof(rows[0])));
	arr = json_array();
	for (i = 0; i < n; i++) {
		const struct store_mod_import_row *r = &rows[i];

		FUZZ_CHECK(TERMINATED(r->invalid) && TERMINATED(r->rot_uid) && TERMINATED(r->batch));
		if (r->invalid[0] != '\0') {
			/* refused alone: only the reason is kept */
			FUZZ_CHECK(r->rot_uid[0] == '\0' && r->batch[0] == '\0');
			FUZZ_CHECK(memcmp(r->secret, zero, sizeof(zero)) == 0);
			continue;
		}
		FUZZ_CHECK(modmsg_uid_hex_valid(r->rot_uid, strlen(r->rot_uid)));
		for (j = 0; r->batch[j] != '\0'; j++)
			FUZZ_CHECK(r->batch[j] >= 0x20 && r->batch[j] <= 0x7e);
		for (j = 0; j < STORE_MODKEY_LEN; j++)
			snprintf(hex + 2 * j, 3, "%02x", r->secret[j]);
		row = json_pack("{s:s, s:s}", "rot_uid", r->rot_uid, "factory_secret", hex);
		FUZZ_CHECK(row != NULL);
		if (r->batch[0] != '\0')
			json_object_set_new(row, "batch", json_string(r->batch));
		json_array_append_new(arr, row);
	}
	if (json_array_size(arr) == 0) {
		json_decref(arr);
		return;
	}
	again = dump(json_pack("{s:o}", "rows", arr));
	FUZZ_CHECK(admin_modreq_import((const uint8_t *)again, strlen(again), rows2, &n2, w.buf,
		       WHY_CAP) == 0);
	for (i = 0, j = 0; i < n; i++) {
		if (rows[i].invalid[0] != '\0')
			continue;
		FUZZ_CHECK(j < n2);
		FUZZ_CHECK(rows2[j].invalid[0] == '\0');
		FUZZ_CHECK(strcmp(rows[i].rot_uid, rows2[j].rot_uid) == 0);
		FUZZ_CHECK(strcmp(rows[i].batch, rows2[j].batch) == 0);
		FUZZ_CHECK(memcmp(rows[i].secret, rows2[j].secret, STORE_MODKEY_LEN) == 0);
		j++;
	}
	FUZZ_CHECK(j == n2);
	free(again);
}

static void
fuzz_transfer(const uint8_t *buf, size_t len)
{
	char owner[STORE_OWNER_MAX + 1], profile[STORE_PROFILE_UID + 1];
	char owner2[STORE_OWNER_MAX + 1], profile2[STORE_PROFILE_UID + 1];
	struct why w;
	char *again;
	int rc;

	memset(owner, CANARY, sizeof(owner));
	memset(profile, CANARY, sizeof(profile));
	why_init(&w);
	rc = admin_modreq_transfer(buf, len, owner, profile, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(all_canary(owner, sizeof(owner)));
		FUZZ_CHECK(all_canary(profile, sizeof(profile)));
		return;
	}
	FUZZ_CHECK(TERMINATED(owner) && store_profile_owner_valid(owner));
	FUZZ_CHECK(TERMINATED(profile) &&
	    (profile[0] == '\0' || modmsg_profile_valid(profile, strlen(profile))));
	again = dump(profile[0] ? json_pack("{s:s, s:s}", "owner", owner, "profile", profile) :
				  json_pack("{s:s}", "owner", owner));
	FUZZ_CHECK(admin_modreq_transfer((const uint8_t *)again, strlen(again), owner2, profile2,
		       w.buf, WHY_CAP) == 0);
	FUZZ_CHECK(strcmp(owner, owner2) == 0 && strcmp(profile, profile2) == 0);
	free(again);
}

/* enable and disable as a body's members into obj; their rules */
static void
change_members(json_t *obj, uint32_t enable, uint32_t disable)
{
	FUZZ_CHECK((enable | disable) != 0 && (enable & disable) == 0);
	if (enable)
		json_object_set_new(obj, "enable", features_json(enable));
	if (disable)
		json_object_set_new(obj, "disable", features_json(disable));
}

static void
fuzz_features(const uint8_t *buf, size_t len)
{
	uint32_t e = 0xA5A5A5A5, d = 0xA5A5A5A5, e2 = 0, d2 = 0;
	struct why w;
	json_t *obj;
	char *again;
	int rc;

	why_init(&w);
	rc = admin_modreq_features(buf, len, &e, &d, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(e == 0xA5A5A5A5 && d == 0xA5A5A5A5);
		return;
	}
	obj = json_object();
	change_members(obj, e, d);
	again = dump(obj);
	FUZZ_CHECK(admin_modreq_features((const uint8_t *)again, strlen(again), &e2, &d2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(e == e2 && d == d2);
	free(again);
}

static char rots[STORE_CAMPAIGN_DEVICES_MAX][STORE_ROT_HEX + 1];
static char rots2[STORE_CAMPAIGN_DEVICES_MAX][STORE_ROT_HEX + 1];

static void
fuzz_campaign(const uint8_t *buf, size_t len)
{
	struct store_campaign c, c2;
	size_t n = (size_t)-1, n2 = 0, i;
	struct why w;
	json_t *obj, *arr;
	char *again;
	int rc;

	memset(&c, CANARY, sizeof(c));
	memset(rots, CANARY, POISONED * sizeof(rots[0]));
	why_init(&w);
	rc = admin_modreq_campaign(buf, len, &c, rots, &n, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(n == (size_t)-1);
		FUZZ_CHECK(all_canary(&c, sizeof(c)));
		FUZZ_CHECK(all_canary(rots, POISONED * sizeof(rots[0])));
		return;
	}
	FUZZ_CHECK(TERMINATED(c.owner) && (c.owner[0] == '\0' || store_profile_owner_valid(c.owner)));
	FUZZ_CHECK(TERMINATED(c.profile_uid));
	FUZZ_CHECK(n <= STORE_CAMPAIGN_DEVICES_MAX);
	FUZZ_CHECK((c.profile_uid[0] != '\0') == (n == 0));
	obj = json_object();
	change_members(obj, c.enable, c.disable);
	if (c.owner[0] != '\0')
		json_object_set_new(obj, "owner", json_string(c.owner));
	if (n == 0) {
		FUZZ_CHECK(modmsg_profile_valid(c.profile_uid, strlen(c.profile_uid)));
		json_object_set_new(obj, "profile", json_string(c.profile_uid));
	} else {
		arr = json_array();
		for (i = 0; i < n; i++) {
			FUZZ_CHECK(TERMINATED(rots[i]) && modmsg_uid_hex_valid(rots[i],
								strlen(rots[i])));
			json_array_append_new(arr, json_string(rots[i]));
		}
		json_object_set_new(obj, "devices", arr);
	}
	if (n < POISONED)
		FUZZ_CHECK(all_canary(rots + n, (POISONED - n) * sizeof(rots[0])));
	again = dump(obj);
	FUZZ_CHECK(admin_modreq_campaign((const uint8_t *)again, strlen(again), &c2, rots2, &n2,
		       w.buf, WHY_CAP) == 0);
	FUZZ_CHECK(n2 == n && strcmp(c.owner, c2.owner) == 0 &&
	    strcmp(c.profile_uid, c2.profile_uid) == 0 && c.enable == c2.enable &&
	    c.disable == c2.disable);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(strcmp(rots[i], rots2[i]) == 0);
	free(again);
}

static void
fuzz_e2e_params(const uint8_t *buf, size_t len)
{
	uint8_t ki[16], ki2[16];
	char hex[33];
	size_t n = 7, n2 = 0, i;
	struct why w;
	char *again;
	int rc;

	memset(ki, CANARY, sizeof(ki));
	why_init(&w);
	rc = admin_modreq_e2e_params(buf, len, ki, &n, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(n == 7 && all_canary(ki, sizeof(ki)));
		return;
	}
	/* the first nibble gives the length */
	FUZZ_CHECK((n == 16 && ki[0] >> 4 == 1) || (n == 11 && ki[0] >> 4 == 2));
	FUZZ_CHECK(n == 16 || all_canary(ki + n, sizeof(ki) - n));
	/* either case: the same bytes */
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, i % 2 ? "%02X" : "%02x", ki[i]);
	again = dump(json_pack("{s:s}", "key_identity", hex));
	FUZZ_CHECK(admin_modreq_e2e_params((const uint8_t *)again, strlen(again), ki2, &n2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(n2 == n && memcmp(ki, ki2, n) == 0);
	free(again);
}

static uint8_t data_out[ADMIN_MODREQ_E2E_DATA_MAX + 16], data_out2[ADMIN_MODREQ_E2E_DATA_MAX];

static void
fuzz_e2e_encrypt(const uint8_t *buf, size_t len)
{
	size_t n = 7, n2 = 0, blen = 0;
	struct why w;
	char *b64 = NULL, *again;
	int rc;

	memset(data_out, CANARY, sizeof(data_out));
	why_init(&w);
	rc = admin_modreq_e2e_encrypt(buf, len, data_out, &n, w.buf, WHY_CAP);
	why_check(&w, rc);
	/* never past the room the header asks for */
	FUZZ_CHECK(all_canary(data_out + ADMIN_MODREQ_E2E_DATA_MAX, 16));
	if (rc != 0) {
		FUZZ_CHECK(n == 7 && all_canary(data_out, sizeof(data_out)));
		return;
	}
	FUZZ_CHECK(n <= ADMIN_MODREQ_E2E_DATA_MAX);
	FUZZ_CHECK(b64_encode_lines(data_out, n, &b64, &blen) == 0);
	again = dump(json_pack("{s:s}", "data", b64));
	free(b64);
	FUZZ_CHECK(admin_modreq_e2e_encrypt((const uint8_t *)again, strlen(again), data_out2, &n2,
		       w.buf, WHY_CAP) == 0);
	FUZZ_CHECK(n2 == n && memcmp(data_out, data_out2, n) == 0);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] >= '0' && data[0] <= '7' ? data[0] - '0' : data[0] % 8) {
	case 0:
		fuzz_profile_create(data + 1, size - 1);
		break;
	case 1:
		fuzz_profile_update(data + 1, size - 1);
		break;
	case 2:
		fuzz_import(data + 1, size - 1);
		break;
	case 3:
		fuzz_transfer(data + 1, size - 1);
		break;
	case 4:
		fuzz_features(data + 1, size - 1);
		break;
	case 5:
		fuzz_campaign(data + 1, size - 1);
		break;
	case 6:
		fuzz_e2e_params(data + 1, size - 1);
		break;
	case 7:
		fuzz_e2e_encrypt(data + 1, size - 1);
		break;
	}
	return 0;
}
