/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The root of trust of a module (ztp/rot.h): its key ratchet and its NVM
 * image. The states, as the protocol's sections 4 and 5 have them:
 *
 *   FACTORY      epoch 0, no pending      offers the factory secret, /m/b
 *   FACTORY+P1   epoch 0, pending 1       offers K1 first: success commits
 *                                         (-> OPERATIONAL), a refusal drops
 *                                         K1 (-> FACTORY)
 *   OPERATIONAL  epoch n >= 1             offers K_n, /m/h
 *   OPER+P       epoch n, pending n+1     offers K_n+1 first, as above
 *
 * FACTORY --200 to /m/b, pending_set--> FACTORY+P1 --204, commit--> OPERATIONAL
 * OPERATIONAL --200 to /m/h, pending_set--> OPER+P --204, commit--> OPERATIONAL
 * any +P --409 to /m/c, drop_pending--> the state without P
 *
 * A key is never used before it is stored (the caller stores after each
 * change) and none is dropped while it may be the only one the server
 * accepts: the current key goes only at a commit, when the pending key has
 * been accepted (204, or a handshake with it).
 *
 * The NVM image (version 1, big-endian, ZTP_ROT_STATE_LEN bytes):
 *
 *   0   "ZROT"            4   version u16 (1)     6   length u16 (283)
 *   8   flags u32         12  uid[16]             28  factory[32]
 *   60  profile[32]       92  serial_len u8       93  serial[64]
 *   157 epoch u32         161 key[32]
 *   193 pending_epoch u32 197 pending_key[32]
 *   229 pending features u32, interval u32, min u32, status u8
 *   242 features u32, interval u32, min u32, status u8
 *   255 boots u32         259 heartbeats u32
 *   263 last_hb i64       271 last_contact i64
 *   279 sid u32           283 local[32]           315 e2e_mark u64
 *   323 down_last u64     331 local_trial u32
 *   335 CRC-32 (IEEE 802.3) of bytes 0..334
 *
 * Version 1 (283 bytes) ended with its CRC at 279; it is still read, the
 * fields of version 2 then zero, and written back as version 2.
 *
 * Unused fields are zeros, and the parser insists on it, so that one state
 * has one image.
 */
#include <string.h>

#include "modmsg.h"
#include "ztp/err.h"
#include "ztp/rot.h"

_Static_assert(ZTP_ROT_UID_LEN == MODMSG_UID_LEN, "uid");
_Static_assert(ZTP_ROT_KEY_LEN == MODMSG_KEY_LEN, "key");
_Static_assert(ZTP_ROT_PROFILE_LEN == MODMSG_PROFILE_LEN, "profile");
_Static_assert(ZTP_ROT_SERIAL_MAX == MODMSG_SERIAL_MAX, "serial");
_Static_assert(ZTP_ROT_FIRMWARE_MAX == MODMSG_FIRMWARE_MAX, "firmware");
_Static_assert(ZTP_ROT_IDENTITY_MAX == MODMSG_IDENTITY_MAX, "identity");
_Static_assert(ZTP_ROT_BODY_MAX == MODMSG_BODY_MAX, "body");
_Static_assert(ZTP_ROT_STATUS_CLAIMED == MODMSG_STATUS_CLAIMED, "status");

#define ROT_MAGIC "ZROT"
#define ROT_VERSION 2
#define ROT_V1_LEN 283

/* flags of the image */
#define F_SEALED 0x01u
#define F_SEAL_UNREPORTED 0x02u
#define F_PENDING 0x04u
#define F_PENDING_SEAL 0x08u
#define F_LAST_HB 0x10u
#define F_LAST_CONTACT 0x20u
#define F_ALL 0x3Fu

/* offsets of the image */
enum {
	O_MAGIC = 0,
	O_VERSION = 4,
	O_LENGTH = 6,
	O_FLAGS = 8,
	O_UID = 12,
	O_FACTORY = 28,
	O_PROFILE = 60,
	O_SERIAL_LEN = 92,
	O_SERIAL = 93,
	O_EPOCH = 157,
	O_KEY = 161,
	O_P_EPOCH = 193,
	O_P_KEY = 197,
	O_P_FEATURES = 229,
	O_P_INTERVAL = 233,
	O_P_MIN = 237,
	O_P_STATUS = 241,
	O_FEATURES = 242,
	O_INTERVAL = 246,
	O_MIN = 250,
	O_STATUS = 254,
	O_BOOTS = 255,
	O_HEARTBEATS = 259,
	O_LAST_HB = 263,
	O_LAST_CONTACT = 271,
	O_SID = 279,
	O_LOCAL = 283,
	O_E2E_MARK = 315,
	O_DOWN_LAST = 323,
	O_LOCAL_TRIAL = 331,
	O_CRC = 335,
	O_END = 339
};
_Static_assert(O_END == ZTP_ROT_STATE_LEN, "image length");

/* Zero n bytes at p; the volatile stores are not optimised away. */
static void
wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n-- > 0)
		*v++ = 0;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n-- > 0)
		acc |= *p++;
	return acc == 0;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* CRC-32, IEEE 802.3 (reflected 0xEDB88320), bit by bit: 283 bytes, no table needed. */
static uint32_t
crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	int k;

	while (n-- > 0) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return c ^ 0xFFFFFFFFu;
}

int
ztp_rot_init(struct ztp_rot *r, const uint8_t uid[ZTP_ROT_UID_LEN],
    const uint8_t factory[ZTP_ROT_KEY_LEN])
{
	if (r == NULL || uid == NULL || factory == NULL)
		return ZTP_EINVAL;
	ztp_rot_wipe(r);
	memcpy(r->uid, uid, ZTP_ROT_UID_LEN);
	memcpy(r->factory, factory, ZTP_ROT_KEY_LEN);
	r->hb_interval = ZTP_ROT_HB_INTERVAL_DEFAULT;
	r->hb_min = ZTP_ROT_HB_MIN_DEFAULT;
	return 0;
}

void
ztp_rot_wipe(struct ztp_rot *r)
{
	if (r != NULL)
		wipe(r, sizeof(*r));
}

int
ztp_rot_seal(struct ztp_rot *r, const char *profile, size_t profile_len, const char *serial,
    size_t serial_len)
{
	if (r->sealed)
		return ZTP_EEXIST;
	if (profile == NULL || serial == NULL || !modmsg_profile_valid(profile, profile_len) ||
	    !modmsg_serial_valid(serial, serial_len))
		return ZTP_EINVAL;
	memcpy(r->profile, profile, profile_len);
	r->profile[profile_len] = '\0';
	memcpy(r->serial, serial, serial_len);
	r->serial[serial_len] = '\0';
	r->sealed = 1;
	r->seal_unreported = 1;
	return 0;
}

int
ztp_rot_bootstrapped(const struct ztp_rot *r)
{
	return r->epoch >= 1;
}

void
ztp_rot_status(const struct ztp_rot *r, int *registered, int *claimed, int *bootstrapped)
{
	int b = ztp_rot_bootstrapped(r);

	*registered = b;
	*bootstrapped = b;
	*claimed = b && (r->status & ZTP_ROT_STATUS_CLAIMED) != 0;
}

void
ztp_rot_boot(struct ztp_rot *r)
{
	if (r->boots != UINT32_MAX)
		r->boots++;
}

void
ztp_rot_psk(const struct ztp_rot *r, struct ztp_rot_psk *out)
{
	memset(out, 0, sizeof(*out));
	if (r->pending) {
		out->epoch = r->pending_epoch;
		out->pending = 1;
		memcpy(out->key, r->pending_key, ZTP_ROT_KEY_LEN);
	} else {
		out->epoch = r->epoch;
		memcpy(out->key, r->epoch == 0 ? r->factory : r->key, ZTP_ROT_KEY_LEN);
	}
	out->identity_len = modmsg_identity(r->uid, out->epoch, out->identity,
	    sizeof(out->identity));
}

int
ztp_rot_handshake_ok(struct ztp_rot *r, uint32_t epoch)
{
	if (!r->pending || r->pending_epoch != epoch)
		return 0;
	return ztp_rot_commit(r) == 0;
}

int
ztp_rot_key_refused(struct ztp_rot *r, uint32_t epoch)
{
	if (!r->pending || r->pending_epoch != epoch)
		return 0;
	ztp_rot_drop_pending(r);
	return 1;
}

int
ztp_rot_request(const struct ztp_rot *r, const char *firmware, struct ztp_rot_req *req)
{
	struct modmsg m;
	int rc;

	memset(req, 0, sizeof(*req));
	if (r->pending)
		return ZTP_ECONFLICT;
	if (r->epoch == UINT32_MAX)
		return ZTP_ERANGE;
	if (firmware == NULL || !modmsg_firmware_valid(firmware, strlen(firmware)))
		return ZTP_EINVAL;
	memset(&m, 0, sizeof(m));
	if (r->sealed) {
		memcpy(m.profile, r->profile, sizeof(m.profile));
		memcpy(m.serial, r->serial, sizeof(m.serial));
		MODMSG_SET(&m, MODMSG_PROFILE);
		MODMSG_SET(&m, MODMSG_SERIAL);
		req->carried_seal = 1;
	}
	memcpy(m.firmware, firmware, strlen(firmware) + 1);
	MODMSG_SET(&m, MODMSG_FIRMWARE);
	m.boots = r->boots;
	m.heartbeats = r->heartbeats;
	MODMSG_SET(&m, MODMSG_COUNTERS);
	if ((rc = modmsg_encode(&m, req->body, sizeof(req->body), &req->len)) != 0) {
		memset(req, 0, sizeof(*req));
		return rc;
	}
	req->kind = r->epoch == 0 ? ZTP_ROT_BOOTSTRAP : ZTP_ROT_HEARTBEAT;
	req->path = r->epoch == 0 ? "/m/b" : "/m/h";
	req->epoch = r->epoch;
	return 0;
}

int
ztp_rot_answer(const struct ztp_rot *r, const struct ztp_rot_req *req, const uint8_t *body,
    size_t len, struct ztp_rot_answer *a)
{
	struct modmsg m;
	int rc;

	memset(a, 0, sizeof(*a));
	if (r->pending || r->epoch != req->epoch || req->epoch == UINT32_MAX)
		return ZTP_ECONFLICT;
	if ((rc = modmsg_decode(body, len, &m)) != 0)
		return rc;
	if (!MODMSG_HAS(&m, MODMSG_EPOCH) || m.epoch != req->epoch + 1)
		return ZTP_EMALFORMED;
	a->kind = req->kind;
	a->epoch = m.epoch;
	a->carried_seal = req->carried_seal;
	a->features = MODMSG_HAS(&m, MODMSG_FEATURES) ? m.features : r->features;
	a->hb_interval = MODMSG_HAS(&m, MODMSG_HB_INTERVAL) ? m.hb_interval : r->hb_interval;
	a->hb_min = MODMSG_HAS(&m, MODMSG_HB_MIN) ? m.hb_min : r->hb_min;
	a->status = MODMSG_HAS(&m, MODMSG_STATUS) ? m.status : r->status;
	a->sid = MODMSG_HAS(&m, MODMSG_SID) ? m.sid : 0;
	a->context_len = modmsg_identity(r->uid, a->epoch, a->context, sizeof(a->context));
	return 0;
}

int
ztp_rot_pending_set(struct ztp_rot *r, const struct ztp_rot_answer *a,
    const uint8_t key[ZTP_ROT_KEY_LEN], int64_t now)
{
	if (r->pending || r->epoch == UINT32_MAX || a->epoch != r->epoch + 1 ||
	    a->kind != (r->epoch == 0 ? ZTP_ROT_BOOTSTRAP : ZTP_ROT_HEARTBEAT))
		return ZTP_ECONFLICT;
	r->pending = 1;
	r->pending_epoch = a->epoch;
	memcpy(r->pending_key, key, ZTP_ROT_KEY_LEN);
	r->pending_carried_seal = a->carried_seal && r->sealed;
	r->pending_features = a->features;
	r->pending_hb_interval = a->hb_interval;
	r->pending_hb_min = a->hb_min;
	r->pending_status = a->status;
	if (a->sid != 0)
		r->sid = a->sid; /* the server's name for this module: it never changes */
	if (a->kind == ZTP_ROT_HEARTBEAT) {
		r->have_last_hb = 1;
		r->last_hb = now;
		if (r->heartbeats != UINT32_MAX)
			r->heartbeats++;
	}
	r->have_last_contact = 1;
	r->last_contact = now;
	return 0;
}

int
ztp_rot_confirm(const struct ztp_rot *r, uint8_t *buf, size_t cap, size_t *len)
{
	struct modmsg m;

	if (!r->pending)
		return ZTP_ECONFLICT;
	memset(&m, 0, sizeof(m));
	m.epoch = r->pending_epoch;
	MODMSG_SET(&m, MODMSG_EPOCH);
	return modmsg_encode(&m, buf, cap, len);
}

int
ztp_rot_commit(struct ztp_rot *r)
{
	if (!r->pending)
		return ZTP_ECONFLICT;
	if (r->epoch == 0)
		wipe(r->factory, sizeof(r->factory));
	r->epoch = r->pending_epoch;
	memcpy(r->key, r->pending_key, ZTP_ROT_KEY_LEN);
	r->features = r->pending_features;
	r->hb_interval = r->pending_hb_interval;
	r->hb_min = r->pending_hb_min;
	r->status = r->pending_status;
	if (r->pending_carried_seal)
		r->seal_unreported = 0;
	ztp_rot_drop_pending(r);
	return 0;
}

void
ztp_rot_drop_pending(struct ztp_rot *r)
{
	wipe(r->pending_key, sizeof(r->pending_key));
	r->pending = 0;
	r->pending_epoch = 0;
	r->pending_carried_seal = 0;
	r->pending_features = r->pending_hb_interval = r->pending_hb_min = 0;
	r->pending_status = 0;
}

int
ztp_rot_heartbeat_allowed(const struct ztp_rot *r, int64_t now, uint32_t *wait)
{
	int64_t since;

	if (wait != NULL)
		*wait = 0;
	if (!ztp_rot_bootstrapped(r))
		return ZTP_ECONFLICT;
	if (r->seal_unreported || !r->have_last_hb || now < r->last_hb)
		return 0;
	/* now >= last_hb: no overflow, whatever the two values */
	since = (int64_t)((uint64_t)now - (uint64_t)r->last_hb);
	if (since < 0 || since >= (int64_t)r->hb_min)
		return 0;
	if (wait != NULL)
		*wait = (uint32_t)((int64_t)r->hb_min - since);
	return ZTP_EBUSY;
}

int64_t
ztp_rot_next_contact(const struct ztp_rot *r, int64_t now)
{
	int64_t since;

	if (!ztp_rot_bootstrapped(r) || r->pending || r->seal_unreported)
		return 0;
	if (r->hb_interval == 0)
		return -1;
	if (!r->have_last_contact)
		return 0;
	if (now < r->last_contact) /* the clock went back: a whole interval from now */
		return (int64_t)r->hb_interval;
	since = (int64_t)((uint64_t)now - (uint64_t)r->last_contact);
	if (since < 0 || since >= (int64_t)r->hb_interval)
		return 0;
	return (int64_t)r->hb_interval - since;
}

int
ztp_rot_save(const struct ztp_rot *r, uint8_t *buf, size_t cap, size_t *len)
{
	uint32_t flags = 0;
	size_t slen;

	if (cap < ZTP_ROT_STATE_LEN)
		return ZTP_ETOOBIG;
	memset(buf, 0, ZTP_ROT_STATE_LEN);
	if (r->sealed)
		flags |= F_SEALED;
	if (r->seal_unreported)
		flags |= F_SEAL_UNREPORTED;
	if (r->pending)
		flags |= F_PENDING;
	if (r->pending_carried_seal)
		flags |= F_PENDING_SEAL;
	if (r->have_last_hb)
		flags |= F_LAST_HB;
	if (r->have_last_contact)
		flags |= F_LAST_CONTACT;
	memcpy(buf + O_MAGIC, ROT_MAGIC, 4);
	put16(buf + O_VERSION, ROT_VERSION);
	put16(buf + O_LENGTH, ZTP_ROT_STATE_LEN);
	put32(buf + O_FLAGS, flags);
	memcpy(buf + O_UID, r->uid, ZTP_ROT_UID_LEN);
	if (r->epoch == 0)
		memcpy(buf + O_FACTORY, r->factory, ZTP_ROT_KEY_LEN);
	if (r->sealed) {
		slen = strnlen(r->serial, ZTP_ROT_SERIAL_MAX);
		memcpy(buf + O_PROFILE, r->profile, ZTP_ROT_PROFILE_LEN);
		buf[O_SERIAL_LEN] = (uint8_t)slen;
		memcpy(buf + O_SERIAL, r->serial, slen);
	}
	put32(buf + O_EPOCH, r->epoch);
	if (r->epoch != 0)
		memcpy(buf + O_KEY, r->key, ZTP_ROT_KEY_LEN);
	if (r->pending) {
		put32(buf + O_P_EPOCH, r->pending_epoch);
		memcpy(buf + O_P_KEY, r->pending_key, ZTP_ROT_KEY_LEN);
		put32(buf + O_P_FEATURES, r->pending_features);
		put32(buf + O_P_INTERVAL, r->pending_hb_interval);
		put32(buf + O_P_MIN, r->pending_hb_min);
		buf[O_P_STATUS] = r->pending_status;
	}
	put32(buf + O_FEATURES, r->features);
	put32(buf + O_INTERVAL, r->hb_interval);
	put32(buf + O_MIN, r->hb_min);
	buf[O_STATUS] = r->status;
	put32(buf + O_BOOTS, r->boots);
	put32(buf + O_HEARTBEATS, r->heartbeats);
	if (r->have_last_hb)
		put64(buf + O_LAST_HB, (uint64_t)r->last_hb);
	if (r->have_last_contact)
		put64(buf + O_LAST_CONTACT, (uint64_t)r->last_contact);
	put32(buf + O_SID, r->sid);
	memcpy(buf + O_LOCAL, r->local, ZTP_ROT_KEY_LEN);
	put64(buf + O_E2E_MARK, r->e2e_mark);
	put64(buf + O_DOWN_LAST, r->down_last);
	put32(buf + O_LOCAL_TRIAL, r->local_trial);
	put32(buf + O_CRC, crc32_ieee(buf, O_CRC));
	*len = ZTP_ROT_STATE_LEN;
	return 0;
}

/* The checks of ztp_rot_load, in order; the first that fails names the reason. */
static int
load_checked(struct ztp_rot *r, const uint8_t *b, size_t len, char *err, size_t errcap)
{
	uint32_t flags;
	size_t slen, want;
	unsigned version;

	if (len < 8)
		return ztp_errf(err, errcap, ZTP_EMALFORMED, "module state: truncated (%zu bytes)",
		    len);
	if (memcmp(b + O_MAGIC, ROT_MAGIC, 4) != 0)
		return ztp_errf(err, errcap, ZTP_EMALFORMED, "module state: not a module state file");
	version = get16(b + O_VERSION);
	if (version != 1 && version != ROT_VERSION)
		return ztp_errf(err, errcap, ZTP_EMALFORMED,
		    "module state: format version %u, this program reads 1 and %u",
		    (unsigned)version, ROT_VERSION);
	want = version == 1 ? ROT_V1_LEN : ZTP_ROT_STATE_LEN;
	if (get16(b + O_LENGTH) != want)
		return ztp_errf(err, errcap, ZTP_EMALFORMED,
		    "module state: length field %u, version %u is %zu bytes",
		    (unsigned)get16(b + O_LENGTH), (unsigned)version, want);
	if (len != want)
		return ztp_errf(err, errcap, ZTP_EMALFORMED,
		    "module state: %zu bytes, %s than the %zu it says", len,
		    len < want ? "shorter (truncated)" : "longer", want);
	if (get32(b + want - 4) != crc32_ieee(b, want - 4))
		return ztp_errf(err, errcap, ZTP_EMALFORMED, "module state: CRC mismatch (corrupt)");

	flags = get32(b + O_FLAGS);
	if (flags & ~F_ALL)
		return ztp_errf(err, errcap, ZTP_EMALFORMED, "module state: unknown flags 0x%x",
		    (unsigned)(flags & ~F_ALL));
	memcpy(r->uid, b + O_UID, ZTP_ROT_UID_LEN);
	r->epoch = get32(b + O_EPOCH);
	r->sealed = (flags & F_SEALED) != 0;
	r->seal_unreported = (flags & F_SEAL_UNREPORTED) != 0;
	r->pending = (flags & F_PENDING) != 0;
	r->pending_carried_seal = (flags & F_PENDING_SEAL) != 0;
	r->have_last_hb = (flags & F_LAST_HB) != 0;
	r->have_last_contact = (flags & F_LAST_CONTACT) != 0;

	/* the factory secret until the bootstrap, the current key after it */
	if (r->epoch == 0) {
		if (!all_zero(b + O_KEY, ZTP_ROT_KEY_LEN))
			return ztp_errf(err, errcap, ZTP_EMALFORMED,
			    "module state: an operational key at epoch 0");
		if (all_zero(b + O_FACTORY, ZTP_ROT_KEY_LEN))
			return ztp_errf(err, errcap, ZTP_EMALFORMED,
			    "module state: no factory secret at epoch 0");
		memcpy(r->factory, b + O_FACTORY, ZTP_ROT_KEY_LEN);
	} else {
		if (!all_zero(b + O_FACTORY, ZTP_ROT_KEY_LEN))
			return ztp_errf(err, errcap, ZTP_EMALFORMED,
			    "module state: a factory secret after the bootstrap");
		memcpy(r->key, b + O_KEY, ZTP_ROT_KEY_LEN);
	}

	/* the seal: a valid profile and serial, or nothing at all */
	slen = b[O_SERIAL_LEN];
	if (r->sealed) {
		if (!modmsg_profile_valid((const char *)b + O_PROFILE, ZTP_ROT_PROFILE_LEN))
			return ztp_errf(err, errcap, ZTP_EMALFORMED,
			    "module state: sealed profile is not 32 lower-case hex digits");
		if (slen > ZTP_ROT_SERIAL_MAX ||
		    !modmsg_serial_valid((const char *)b + O_SERIAL, slen) ||
		    !all_zero(b + O_SERIAL + slen, ZTP_ROT_SERIAL_MAX - slen))
			return ztp_errf(err, errcap, ZTP_EMALFORMED,
			    "module state: sealed serial malformed");
		memcpy(r->profile, b + O_PROFILE, ZTP_ROT_PROFILE_LEN);
		memcpy(r->serial, b + O_SERIAL, slen);
	} else if (slen != 0 || !all_zero(b + O_PROFILE, ZTP_ROT_PROFILE_LEN) ||
	    !all_zero(b + O_SERIAL, ZTP_ROT_SERIAL_MAX)) {
		return ztp_errf(err, errcap, ZTP_EMALFORMED,
		    "module state: a profile or serial without the sealed flag");
	}
	if (r->seal_unreported && !r->sealed)
		return ztp_errf(err, errcap, ZTP_EMALFORMED,
		    "module state: an unreported seal that is not sealed");

	/* the pending key: the next epoch, or nothing at all */
	if (r->pending) {
		r->pending_epoch = get32(b + O_P_EPOCH);
		if (r->epoch == UINT32_MAX || r->pending_epoch != r->epoch + 1)
			return ztp_errf(err, errcap, ZTP_EMALFORMED,
			    "module state: pending epoch %u after epoch %u",
			    (unsigned)r->pending_epoch, (unsigned)r->epoch);
		memcpy(r->pending_key, b + O_P_KEY, ZTP_ROT_KEY_LEN);
		r->pending_features = get32(b + O_P_FEATURES);
		r->pending_hb_interval = get32(b + O_P_INTERVAL);
		r->pending_hb_min = get32(b + O_P_MIN);
		r->pending_status = b[O_P_STATUS];
		if (r->pending_carried_seal && !r->sealed)
			return ztp_errf(err, errcap, ZTP_EMALFORMED,
			    "module state: a pending key that reported a seal, not sealed");
	} else if (r->pending_carried_seal || !all_zero(b + O_P_EPOCH, O_FEATURES - O_P_EPOCH)) {
		return ztp_errf(err, errcap, ZTP_EMALFORMED,
		    "module state: pending fields without the pending flag");
	}

	r->features = get32(b + O_FEATURES);
	r->hb_interval = get32(b + O_INTERVAL);
	r->hb_min = get32(b + O_MIN);
	r->status = b[O_STATUS];
	r->boots = get32(b + O_BOOTS);
	r->heartbeats = get32(b + O_HEARTBEATS);
	if (r->epoch == 0 && (r->features != 0 || r->status != 0))
		return ztp_errf(err, errcap, ZTP_EMALFORMED,
		    "module state: features or status before the bootstrap");
	r->last_hb = (int64_t)get64(b + O_LAST_HB);
	r->last_contact = (int64_t)get64(b + O_LAST_CONTACT);
	if ((!r->have_last_hb && r->last_hb != 0) ||
	    (!r->have_last_contact && r->last_contact != 0))
		return ztp_errf(err, errcap, ZTP_EMALFORMED,
		    "module state: a time without its flag");
	if (version == 1)
		return 0; /* the services' fields start at zero */
	r->sid = get32(b + O_SID);
	memcpy(r->local, b + O_LOCAL, ZTP_ROT_KEY_LEN);
	r->e2e_mark = get64(b + O_E2E_MARK);
	r->e2e_next = r->e2e_mark; /* what was below it may have been used */
	r->down_last = get64(b + O_DOWN_LAST);
	r->local_trial = get32(b + O_LOCAL_TRIAL);
	if (r->e2e_mark > ZTP_ROT_E2E_CTR_MAX || r->down_last > ZTP_ROT_E2E_CTR_MAX)
		return ztp_errf(err, errcap, ZTP_EMALFORMED,
		    "module state: an E2E counter past 48 bits");
	return 0;
}

int
ztp_rot_load(struct ztp_rot *r, const uint8_t *buf, size_t len, char *err, size_t errcap)
{
	int rc;

	ztp_rot_wipe(r);
	if (buf == NULL)
		len = 0;
	if ((rc = load_checked(r, buf, len, err, errcap)) != 0)
		ztp_rot_wipe(r);
	return rc;
}
