/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module security service's admin request bodies (admin_modreq.h):
 * pure, no I/O; the bytes are an API client's.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "admin_modreq.h"
#include "b64.h"
#include "hex.h"
#include "jsonreq.h"
#include "modmsg.h"
#include "ztp/err.h"

#define FEATURES_HELP "psk, e2e, local-data, c2c, ztp-cert, c2c-pairing"

/* An optional owner's name into owner ("" if absent or null). */
static int
get_owner(json_t *obj, char owner[STORE_OWNER_MAX + 1], int required, char *why, size_t cap)
{
	json_t *v = json_object_get(obj, "owner");
	const char *s;
	size_t n;
	int rc;

	owner[0] = '\0';
	if (!required && (v == NULL || json_is_null(v)))
		return 0;
	if ((rc = jsonreq_string(obj, "owner", &s, &n, why, cap)) != 0)
		return rc;
	if (!store_profile_owner_valid(s))
		return ztp_errf(why, cap, ZTP_EMALFORMED,
		    "\"owner\" must be 1 to %d characters of A-Z a-z 0-9 _ . -", STORE_OWNER_MAX);
	memcpy(owner, s, n + 1);
	return 0;
}

/* The "profile" member, a DeviceProfileUID, into profile. */
static int
get_profile(json_t *obj, char profile[STORE_PROFILE_UID + 1], char *why, size_t cap)
{
	const char *s;
	size_t n;
	int rc;

	if ((rc = jsonreq_string(obj, "profile", &s, &n, why, cap)) != 0)
		return rc;
	if (!modmsg_profile_valid(s, n))
		return ztp_errf(why, cap, ZTP_EMALFORMED,
		    "\"profile\" must be a DeviceProfileUID: 32 lower-case hex digits");
	memcpy(profile, s, n + 1);
	return 0;
}

/* An optional array of feature names into *bits (0 if absent). */
static int
get_features(json_t *obj, const char *name, uint32_t *bits, char *why, size_t cap)
{
	json_t *arr = json_object_get(obj, name), *v;
	uint32_t out = 0, b;
	size_t i;

	*bits = 0;
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return ztp_errf(why, cap, ZTP_EMALFORMED,
		    "\"%s\" must be an array of feature names (" FEATURES_HELP ")", name);
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || memchr(json_string_value(v), '\0',
					      json_string_length(v)) != NULL)
			return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" item %zu is not a string",
			    name, i);
		for (b = 1; b <= MODMSG_F_ALL; b <<= 1)
			if (strcmp(json_string_value(v), modmsg_feature_name(b)) == 0)
				break;
		if (b > MODMSG_F_ALL)
			return ztp_errf(why, cap, ZTP_EMALFORMED,
			    "unknown feature \"%.32s\" in \"%s\": expected " FEATURES_HELP,
			    json_string_value(v), name);
		if (out & b)
			return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" names \"%s\" twice", name,
			    modmsg_feature_name(b));
		out |= b;
	}
	*bits = out;
	return 0;
}

/* An optional interval in seconds (1..STORE_HB_INTERVAL_MAX) into *out; 0 if absent. */
static int
get_interval(json_t *obj, const char *name, int64_t *out, int *present, char *why, size_t cap)
{
	json_t *v = json_object_get(obj, name);

	*out = 0;
	*present = v != NULL;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > STORE_HB_INTERVAL_MAX)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" must be seconds from 1 to %d", name,
		    STORE_HB_INTERVAL_MAX);
	*out = json_integer_value(v);
	return 0;
}

/* The features and intervals of a profile's body into p; *set which came. */
static int
profile_values(json_t *obj, struct store_profile *p, unsigned *set, char *why, size_t cap)
{
	int rc, hb, hbmin;

	*set = json_object_get(obj, "features") != NULL ? STORE_PROFILE_SET_FEATURES : 0;
	if ((rc = get_features(obj, "features", &p->features, why, cap)) != 0 ||
	    (rc = get_interval(obj, "heartbeat_interval_s", &p->hb_interval_s, &hb, why, cap)) != 0 ||
	    (rc = get_interval(obj, "heartbeat_min_interval_s", &p->hb_min_interval_s, &hbmin, why,
		 cap)) != 0)
		return rc;
	if (hb && hbmin && p->hb_min_interval_s > p->hb_interval_s)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"heartbeat_min_interval_s\" must not be "
		    "over \"heartbeat_interval_s\"");
	*set |= (hb ? STORE_PROFILE_SET_HB : 0) | (hbmin ? STORE_PROFILE_SET_HB_MIN : 0);
	return 0;
}

static const char *const profile_opt[] = { "features", "heartbeat_interval_s",
	"heartbeat_min_interval_s", NULL };

int
admin_modreq_profile_create(const uint8_t *buf, size_t len, struct store_profile *out,
    char *why, size_t cap)
{
	static const char *const req[] = { "name", NULL };
	static const char *const opt[] = { "owner", "features", "heartbeat_interval_s",
		"heartbeat_min_interval_s", NULL };
	struct store_profile p;
	const char *name;
	size_t n;
	unsigned set;
	json_t *obj;
	int rc;

	if ((rc = jsonreq_load(buf, len, ADMIN_MODREQ_BODY_MAX, req, opt, &obj, why, cap)) != 0)
		return rc;
	memset(&p, 0, sizeof(p));
	if ((rc = jsonreq_string(obj, "name", &name, &n, why, cap)) != 0 ||
	    (rc = get_owner(obj, p.owner, 0, why, cap)) != 0 ||
	    (rc = profile_values(obj, &p, &set, why, cap)) != 0)
		goto out;
	if (!store_profile_name_valid(name)) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED,
		    "\"name\" must be 1 to %d characters of A-Z a-z 0-9 _ . -",
		    STORE_PROFILE_NAME_MAX);
		goto out;
	}
	memcpy(p.name, name, n + 1);
	*out = p;
out:
	json_decref(obj);
	return rc;
}

int
admin_modreq_profile_update(const uint8_t *buf, size_t len, struct store_profile *out,
    unsigned *set, char *why, size_t cap)
{
	static const char *const req[] = { NULL };
	struct store_profile p;
	unsigned s = 0;
	json_t *obj;
	int rc;

	if ((rc = jsonreq_load(buf, len, ADMIN_MODREQ_BODY_MAX, req, profile_opt, &obj, why, cap)) != 0)
		return rc;
	memset(&p, 0, sizeof(p));
	if ((rc = profile_values(obj, &p, &s, why, cap)) != 0)
		goto out;
	if (s == 0) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "nothing to change: give \"features\", "
		    "\"heartbeat_interval_s\" or \"heartbeat_min_interval_s\"");
		goto out;
	}
	*out = p;
	*set = s;
out:
	json_decref(obj);
	return rc;
}

/* The members of an import row into row; a bad value's reason in why. */
static int
import_row(json_t *item, struct store_mod_import_row *row, char *why, size_t cap)
{
	const char *rot, *hex, *batch;
	size_t rlen, hlen, blen, klen, i;
	int rc;

	if ((rc = jsonreq_string(item, "rot_uid", &rot, &rlen, why, cap)) != 0 ||
	    (rc = jsonreq_string(item, "factory_secret", &hex, &hlen, why, cap)) != 0)
		return rc;
	if (!modmsg_uid_hex_valid(rot, rlen))
		return ztp_errf(why, cap, ZTP_EMALFORMED,
		    "\"rot_uid\" must be 32 lower-case hex digits");
	if (hlen != 2 * STORE_MODKEY_LEN ||
	    hex_decode(hex, hlen, row->secret, sizeof(row->secret), &klen) != 0 ||
	    klen != STORE_MODKEY_LEN)
		return ztp_errf(why, cap, ZTP_EMALFORMED,
		    "\"factory_secret\" must be %d bytes in hex", STORE_MODKEY_LEN);
	if (json_object_get(item, "batch") != NULL && !json_is_null(json_object_get(item, "batch"))) {
		if ((rc = jsonreq_string(item, "batch", &batch, &blen, why, cap)) != 0)
			return rc;
		for (i = 0; i < blen; i++)
			if (batch[i] < 0x20 || batch[i] > 0x7e)
				break;
		if (blen > STORE_BATCH_MAX || i < blen)
			return ztp_errf(why, cap, ZTP_EMALFORMED,
			    "\"batch\" must be 0 to %d printable ASCII characters", STORE_BATCH_MAX);
		memcpy(row->batch, batch, blen + 1);
	}
	memcpy(row->rot_uid, rot, rlen + 1);
	return 0;
}

int
admin_modreq_import(const uint8_t *buf, size_t len, struct store_mod_import_row *rows,
    size_t *n, char *why, size_t cap)
{
	static const char *const rowreq[] = { "rot_uid", "factory_secret", NULL };
	static const char *const rowopt[] = { "batch", NULL };
	json_t *obj, *arr, *item;
	size_t i;
	int rc;

	if ((rc = jsonreq_load_batch(buf, len, ADMIN_MODREQ_IMPORT_MAX, "rows", "row", rowreq,
		 rowopt, NULL, &obj, &arr, why, cap)) != 0)
		return rc;
	json_array_foreach(arr, i, item) {
		memset(&rows[i], 0, sizeof(rows[i]));
		if (import_row(item, &rows[i], rows[i].invalid, sizeof(rows[i].invalid)) != 0) {
			/* refused alone: nothing of it but the reason is kept */
			OPENSSL_cleanse(rows[i].secret, sizeof(rows[i].secret));
			rows[i].rot_uid[0] = rows[i].batch[0] = '\0';
		}
	}
	*n = json_array_size(arr);
	json_decref(obj);
	return 0;
}

int
admin_modreq_transfer(const uint8_t *buf, size_t len, char owner[STORE_OWNER_MAX + 1],
    char profile[STORE_PROFILE_UID + 1], char *why, size_t cap)
{
	static const char *const req[] = { "owner", NULL }, *const opt[] = { "profile", NULL };
	char o[STORE_OWNER_MAX + 1], p[STORE_PROFILE_UID + 1] = "";
	json_t *obj;
	int rc;

	if ((rc = jsonreq_load(buf, len, ADMIN_MODREQ_BODY_MAX, req, opt, &obj, why, cap)) != 0)
		return rc;
	if ((rc = get_owner(obj, o, 1, why, cap)) != 0)
		goto out;
	if (json_object_get(obj, "profile") != NULL) {
		if ((rc = get_profile(obj, p, why, cap)) != 0)
			goto out;
	}
	memcpy(owner, o, sizeof(o));
	memcpy(profile, p, sizeof(p));
out:
	json_decref(obj);
	return rc;
}

/* "enable" and "disable" of obj: at least one feature, none in both. */
static int
get_change(json_t *obj, uint32_t *enable, uint32_t *disable, char *why, size_t cap)
{
	uint32_t both;
	int rc;

	if ((rc = get_features(obj, "enable", enable, why, cap)) != 0 ||
	    (rc = get_features(obj, "disable", disable, why, cap)) != 0)
		return rc;
	if ((*enable | *disable) == 0)
		return ztp_errf(why, cap, ZTP_EMALFORMED,
		    "nothing to change: name a feature in \"enable\" or \"disable\"");
	if ((both = *enable & *disable) != 0)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "\"%s\" is both enabled and disabled",
		    modmsg_feature_name(both & (~both + 1))); /* the lowest of them */
	return 0;
}

int
admin_modreq_features(const uint8_t *buf, size_t len, uint32_t *enable, uint32_t *disable,
    char *why, size_t cap)
{
	static const char *const none[] = { NULL }, *const opt[] = { "enable", "disable", NULL };
	uint32_t e, d;
	json_t *obj;
	int rc;

	if ((rc = jsonreq_load(buf, len, ADMIN_MODREQ_BODY_MAX, none, opt, &obj, why, cap)) != 0)
		return rc;
	if ((rc = get_change(obj, &e, &d, why, cap)) == 0) {
		*enable = e;
		*disable = d;
	}
	json_decref(obj);
	return rc;
}

int
admin_modreq_campaign(const uint8_t *buf, size_t len, struct store_campaign *out,
    char (*rots)[STORE_ROT_HEX + 1], size_t *nrots, char *why, size_t cap)
{
	static const char *const none[] = { NULL };
	static const char *const opt[] = { "profile", "devices", "owner", "enable", "disable",
		NULL };
	struct store_campaign c;
	json_t *obj, *arr, *v;
	size_t i;
	int rc;

	if ((rc = jsonreq_load(buf, len, ADMIN_MODREQ_IMPORT_MAX, none, opt, &obj, why, cap)) != 0)
		return rc;
	memset(&c, 0, sizeof(c));
	if ((rc = get_owner(obj, c.owner, 0, why, cap)) != 0 ||
	    (rc = get_change(obj, &c.enable, &c.disable, why, cap)) != 0)
		goto out;
	arr = json_object_get(obj, "devices");
	if ((json_object_get(obj, "profile") != NULL) == (arr != NULL)) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "give \"profile\" or \"devices\", not both");
		goto out;
	}
	if (arr == NULL) {
		if ((rc = get_profile(obj, c.profile_uid, why, cap)) != 0)
			goto out;
		*nrots = 0;
		*out = c;
		goto out;
	}
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > STORE_CAMPAIGN_DEVICES_MAX) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED,
		    "\"devices\" must be an array of 1 to %d RoT UIDs", STORE_CAMPAIGN_DEVICES_MAX);
		goto out;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) ||
		    !modmsg_uid_hex_valid(json_string_value(v), json_string_length(v))) {
			rc = ztp_errf(why, cap, ZTP_EMALFORMED,
			    "\"devices\" item %zu is not a RoT UID (32 lower-case hex digits)", i);
			goto out;
		}
	}
	json_array_foreach(arr, i, v)
		memcpy(rots[i], json_string_value(v), STORE_ROT_HEX + 1);
	*nrots = json_array_size(arr);
	*out = c;
out:
	json_decref(obj);
	return rc;
}

int
admin_modreq_e2e_params(const uint8_t *buf, size_t len, uint8_t ki[16], size_t *kilen,
    char *why, size_t cap)
{
	static const char *const req[] = { "key_identity", NULL };
	uint8_t b[16];
	const char *s;
	size_t n = 0, want;
	json_t *obj;
	int rc;

	if ((rc = jsonreq_load(buf, len, ADMIN_MODREQ_BODY_MAX, req, NULL, &obj, why, cap)) != 0)
		return rc;
	if ((rc = jsonreq_string(obj, "key_identity", &s, &n, why, cap)) != 0)
		goto out;
	rc = ZTP_EINVAL;
	want = n >= 1 && s[0] == '1' ? 32 : n >= 1 && s[0] == '2' ? 22 : 0;
	if (want == 0 || n != want || !hex_valid(s, n) || hex_decode(s, n, b, sizeof(b), &n) != 0) {
		snprintf(why, cap, "key_identity: the first 16 bytes (32 hex digits, starting with 1)"
				   " or 11 bytes (22, starting with 2) of the encrypted data");
		goto out;
	}
	memcpy(ki, b, n);
	*kilen = n;
	rc = 0;
out:
	json_decref(obj);
	return rc;
}

int
admin_modreq_e2e_encrypt(const uint8_t *buf, size_t len, uint8_t *data, size_t *datalen,
    char *why, size_t cap)
{
	static const char *const req[] = { "data", NULL };
	uint8_t tmp[ADMIN_MODREQ_E2E_DATA_MAX]; /* data is written on success only */
	const char *s;
	size_t n = 0, got = 0;
	json_t *obj;
	int rc;

	if ((rc = jsonreq_load(buf, len, ADMIN_MODREQ_BODY_MAX, req, NULL, &obj, why, cap)) != 0)
		return rc;
	if ((rc = jsonreq_string(obj, "data", &s, &n, why, cap)) != 0)
		goto out;
	rc = b64_decode(s, n, tmp, sizeof(tmp), &got);
	if (rc == ZTP_ETOOBIG)
		snprintf(why, cap, "data: at most %d bytes once decoded", ADMIN_MODREQ_E2E_DATA_MAX);
	else if (rc != 0)
		snprintf(why, cap, "data: not base64");
	if (rc != 0) {
		rc = ZTP_EINVAL;
		goto out;
	}
	memcpy(data, tmp, got);
	*datalen = got;
out:
	OPENSSL_cleanse(tmp, sizeof(tmp));
	json_decref(obj);
	return rc;
}
