/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module security service's messages (docs/protocol/security-service.md
 * sections 2 and 3), shared by the module (libztp) and ztpd: the items of a
 * request or answer body and the PSK identity of a RoT's key. Pure, no
 * allocation, bounded; the bytes are untrusted on both sides.
 */
#ifndef ZTP_MODMSG_H
#define ZTP_MODMSG_H
#include <stddef.h>
#include <stdint.h>

#define MODMSG_BODY_MAX 512
#define MODMSG_UID_LEN 16        /* RoT UID, bytes */
#define MODMSG_UID_HEX 32        /* its hex form, characters */
#define MODMSG_KEY_LEN 32        /* factory secret and operational keys */
#define MODMSG_PROFILE_LEN 32    /* a DeviceProfileUID: 32 lower-case hex digits */
#define MODMSG_SERIAL_MAX 64     /* 1..64 printable ASCII, no '"' */
#define MODMSG_FIRMWARE_MAX 32   /* 1..32 printable ASCII */
#define MODMSG_IDENTITY_MAX 44   /* "M" + 32 hex + "." + 10 digits */
#define MODMSG_KEY_LABEL "EXPORTER-ztp-module-key"
#define MODMSG_HB_INTERVAL_DEFAULT 604800 /* a week, seconds */
#define MODMSG_HB_MIN_DEFAULT 300         /* five minutes */

enum modmsg_tag {
	MODMSG_PROFILE = 1,
	MODMSG_SERIAL = 2,
	MODMSG_FIRMWARE = 3,
	MODMSG_EPOCH = 4,
	MODMSG_FEATURES = 5,
	MODMSG_HB_INTERVAL = 6,
	MODMSG_HB_MIN = 7,
	MODMSG_STATUS = 8,
	MODMSG_COUNTERS = 9,
	MODMSG_REASON = 10,
	MODMSG_RETRY_AFTER = 11,
	MODMSG_SID = 12, /* the server's service id of the module (issue 14) */
	MODMSG_TAG_LAST = 12
};

/* status bits (MODMSG_STATUS) */
#define MODMSG_STATUS_CLAIMED 0x01u

/* refusal reasons (MODMSG_REASON) */
enum modmsg_reason {
	MODMSG_R_CLONED = 1,
	MODMSG_R_QUARANTINED = 2,
	MODMSG_R_STATE = 3,
	MODMSG_R_RACE = 4,
	MODMSG_R_TOO_SOON = 5,
};

/* features (MODMSG_FEATURES), section 7 */
#define MODMSG_F_PSK 0x01u
#define MODMSG_F_E2E 0x02u
#define MODMSG_F_LOCAL_DATA 0x04u
#define MODMSG_F_C2C 0x08u
#define MODMSG_F_ZTP_CERT 0x10u
#define MODMSG_F_C2C_PAIRING 0x20u /* c2c pairing allowed after the bootstrap (issue 14) */
#define MODMSG_F_ALL 0x3Fu

struct modmsg {
	uint32_t have; /* bit t set: item t present (MODMSG_HAS) */
	char profile[MODMSG_PROFILE_LEN + 1];
	char serial[MODMSG_SERIAL_MAX + 1];
	char firmware[MODMSG_FIRMWARE_MAX + 1];
	uint32_t epoch;
	uint32_t features;
	uint32_t hb_interval;
	uint32_t hb_min;
	uint8_t status;
	uint32_t boots;
	uint32_t heartbeats;
	uint8_t reason;
	uint32_t retry_after;
	uint32_t sid;
};

#define MODMSG_HAS(m, t) ((((m)->have) >> (t)) & 1u)
#define MODMSG_SET(m, t) ((m)->have |= (1u << (t)))

/*
 * Decode a body into m (zeroed first, and left zeroed when the body is
 * refused). Unknown tags are skipped. Returns 0, or ZTP_EMALFORMED: an item
 * past the end, a known tag twice, or a value of the wrong length or form
 * (section 3). len over MODMSG_BODY_MAX: ZTP_ETOOBIG.
 */
int modmsg_decode(const uint8_t *buf, size_t len, struct modmsg *m);

/*
 * Encode the items m has, in tag order, into buf. Returns 0, ZTP_EINVAL if
 * a value is not valid for its tag, ZTP_ETOOBIG if cap is too small.
 */
int modmsg_encode(const struct modmsg *m, uint8_t *buf, size_t cap, size_t *outlen);

/* 1 if s is a DeviceProfileUID: exactly 32 lower-case hex digits. */
int modmsg_profile_valid(const char *s, size_t len);
/* 1 if s is a serial: 1..MODMSG_SERIAL_MAX printable ASCII, no '"'. */
int modmsg_serial_valid(const char *s, size_t len);
/* 1 if s is a firmware version: 1..MODMSG_FIRMWARE_MAX printable ASCII. */
int modmsg_firmware_valid(const char *s, size_t len);
/* 1 if s is a RoT UID in hex: exactly 32 lower-case hex digits. */
int modmsg_uid_hex_valid(const char *s, size_t len);

/*
 * The PSK identity of uid's key of epoch ("M" + hex, ".epoch" if not 0),
 * NUL-terminated, into out (cap >= MODMSG_IDENTITY_MAX + 1). Returns its
 * length, or 0 if cap is too small.
 */
size_t modmsg_identity(const uint8_t uid[MODMSG_UID_LEN], uint32_t epoch, char *out, size_t cap);

/*
 * Parse an identity as sent: 0 with uid and epoch, ZTP_ENOENT if it is not
 * a module identity (does not start with 'M'), ZTP_EMALFORMED if it starts
 * with 'M' but is not one (upper-case hex, a leading zero, ".0", overflow).
 * uid and *epoch are written only on success.
 */
int modmsg_identity_parse(const uint8_t *id, size_t len, uint8_t uid[MODMSG_UID_LEN],
    uint32_t *epoch);

/* Feature names (section 7): "psk,e2e" <-> bits. parse: 0 or ZTP_EINVAL. */
int modmsg_features_parse(const char *list, uint32_t *bits);
/* Names of bits, comma-separated, into out; "" for none. Returns 0 or ZTP_ETOOBIG. */
int modmsg_features_format(uint32_t bits, char *out, size_t cap);
/* The name of one feature bit, NULL if none. */
const char *modmsg_feature_name(uint32_t bit);

#endif
