/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A cellular module's root of trust, the module side of the security
 * service (docs/protocol/security-service.md): what it keeps in NVM
 * (section 9), which key it offers, what it sends, and how its keys move
 * forward (sections 4 and 5).
 *
 * Portable C: no allocation, no I/O, no clock, no crypto. The caller
 * brings the network (TLS 1.3 with the PSK ztp_rot_psk() names), the TLS
 * exporter's output (the next key), the time (seconds of its own clock,
 * which must survive power cycles: the minimum interval does), and the
 * NVM: after every function that changes the state, the caller stores
 * ztp_rot_save()'s bytes durably before it goes on (the protocol's "stores"
 * steps), and at power-up it loads them with ztp_rot_load().
 *
 * One contact (src/device/modclient.c runs it over OpenSSL):
 *
 *   psk = ztp_rot_psk()                  pending key first, else current
 *   TLS handshake with psk
 *     alert unknown_psk_identity / decrypt_error / illegal_parameter:
 *       ztp_rot_key_refused(psk.epoch)   a pending key is dropped: store,
 *                                        start again with the next psk
 *     success with the pending key: the request below is built on a
 *     copy with ztp_rot_handshake_ok() applied; at the server's answer
 *     (any), ztp_rot_handshake_ok()      the pending key is committed: store
 *   ztp_rot_request()                    /m/b (epoch 0) or /m/h
 *   200: ztp_rot_answer()                the epoch announced, the exporter's
 *                                        context (its identity)
 *        ztp_rot_pending_set(exporter)   store
 *        ztp_rot_confirm()               POST /m/c
 *        204: ztp_rot_commit()           store
 *        409: ztp_rot_drop_pending()     store, start again after a back-off
 *
 * Thread safety: none; the caller serialises every use of one struct.
 */
#ifndef ZTP_ROT_H
#define ZTP_ROT_H
#include <stddef.h>
#include <stdint.h>

#define ZTP_ROT_UID_LEN 16
#define ZTP_ROT_KEY_LEN 32
#define ZTP_ROT_PROFILE_LEN 32   /* a DeviceProfileUID: 32 lower-case hex digits */
#define ZTP_ROT_SERIAL_MAX 64    /* 1..64 printable ASCII, no '"' */
#define ZTP_ROT_FIRMWARE_MAX 32  /* 1..32 printable ASCII */
#define ZTP_ROT_IDENTITY_MAX 44  /* "M" + 32 hex + "." + 10 digits */
#define ZTP_ROT_BODY_MAX 512     /* a request or answer body */
#define ZTP_ROT_STATE_LEN 339    /* ztp_rot_save()'s bytes, format version 2 (version 1: 283, still read) */
#define ZTP_ROT_KEY_LABEL "EXPORTER-ztp-module-key"
#define ZTP_ROT_E2E_CTR_MAX 0xFFFFFFFFFFFFull /* E2E counters are 48 bits */

/* until the server says otherwise (its answer to the bootstrap) */
#define ZTP_ROT_HB_INTERVAL_DEFAULT 604800u /* a week */
#define ZTP_ROT_HB_MIN_DEFAULT 300u         /* five minutes */

/* status bits the server sends (MODMSG_STATUS) */
#define ZTP_ROT_STATUS_CLAIMED 0x01u

/* The module's NVM, section 9. Read the fields; change them only through the functions. */
struct ztp_rot {
	uint8_t uid[ZTP_ROT_UID_LEN];
	uint8_t factory[ZTP_ROT_KEY_LEN]; /* the key of epoch 0; zeros once bootstrapped */
	int sealed;
	char profile[ZTP_ROT_PROFILE_LEN + 1]; /* "" until sealed */
	char serial[ZTP_ROT_SERIAL_MAX + 1];   /* "" until sealed */
	int seal_unreported; /* sealed, and no committed contact has carried it yet */
	uint32_t epoch;      /* of the current key: 0 is the factory secret (not bootstrapped) */
	uint8_t key[ZTP_ROT_KEY_LEN]; /* the current key when epoch >= 1; zeros at epoch 0 */
	/* the next key, stored before its confirmation, with what came with it */
	int pending;
	uint32_t pending_epoch; /* epoch + 1 */
	uint8_t pending_key[ZTP_ROT_KEY_LEN];
	int pending_carried_seal; /* the request that announced it carried the seal */
	uint32_t pending_features, pending_hb_interval, pending_hb_min;
	uint8_t pending_status;
	/* what the server last delivered (applied at a commit) */
	uint32_t features, hb_interval, hb_min;
	uint8_t status;
	uint32_t boots, heartbeats; /* counters (MODMSG_COUNTERS) */
	int have_last_hb;
	int64_t last_hb;      /* when the last heartbeat's key was stored: the minimum interval */
	int have_last_contact;
	int64_t last_contact; /* the same for a bootstrap or a heartbeat: the automatic schedule */
	/* the services (ztp/rotsvc.h, issue 14) */
	uint32_t sid;             /* the server's service id of this module; 0 until it sends one */
	uint8_t local[ZTP_ROT_KEY_LEN]; /* local data protection's secret; zeros until made */
	uint64_t e2e_mark;        /* E2E counters below it may have been used (stored) */
	uint64_t e2e_next;        /* the next E2E counter (not stored: starts at the mark) */
	uint64_t down_last;       /* the highest downstream E2E counter accepted */
	uint32_t local_trial;     /* local data operations before the bootstrap */
};

/* The key to offer and its PSK identity (NUL-terminated). Wipe key after use. */
struct ztp_rot_psk {
	char identity[ZTP_ROT_IDENTITY_MAX + 1];
	size_t identity_len;
	uint8_t key[ZTP_ROT_KEY_LEN];
	uint32_t epoch;
	int pending; /* the pending key: a refusal drops it */
};

enum ztp_rot_kind { ZTP_ROT_BOOTSTRAP = 1, ZTP_ROT_HEARTBEAT = 2 };

/* A request to send (ztp_rot_request). */
struct ztp_rot_req {
	enum ztp_rot_kind kind;
	const char *path; /* "/m/b" or "/m/h" */
	uint32_t epoch;   /* the current epoch it was built at */
	int carried_seal; /* the body has the profile and the serial */
	uint8_t body[ZTP_ROT_BODY_MAX];
	size_t len;
};

/* A 200 answer to a request, checked (ztp_rot_answer). */
struct ztp_rot_answer {
	enum ztp_rot_kind kind;
	uint32_t epoch; /* the next epoch, announced */
	int carried_seal;
	uint32_t features, hb_interval, hb_min;
	uint8_t status;
	uint32_t sid; /* 0: not in the answer */
	/* the TLS exporter's context for the next key: the identity of epoch */
	char context[ZTP_ROT_IDENTITY_MAX + 1];
	size_t context_len;
};

/*
 * A module as it leaves its maker: uid, the factory secret (epoch 0), not
 * sealed, counters 0, default intervals. Returns 0 or ZTP_EINVAL (NULL).
 */
int ztp_rot_init(struct ztp_rot *r, const uint8_t uid[ZTP_ROT_UID_LEN],
    const uint8_t factory[ZTP_ROT_KEY_LEN]);

/* Zero everything, keys included, in a way the compiler keeps. */
void ztp_rot_wipe(struct ztp_rot *r);

/*
 * AT+USECDEVINFO: seal the DeviceProfileUID (exactly 32 lower-case hex
 * digits) and the serial (1..64 printable ASCII, no '"'), once. Returns
 * 0 when sealed now (the seal is then unreported: store the state),
 * ZTP_EEXIST when already sealed (nothing changed, whatever the
 * arguments), ZTP_EINVAL when an argument is malformed (nothing changed).
 */
int ztp_rot_seal(struct ztp_rot *r, const char *profile, size_t profile_len, const char *serial,
    size_t serial_len);

/*
 * AT+USECDEVINFO?: <registered>,<claimed>,<bootstrapped>, each 0 or 1:
 * 0,0,0 before the bootstrap is committed (in progress included), 1,0,1
 * bootstrapped without an owner, 1,1,1 bootstrapped and assigned.
 */
void ztp_rot_status(const struct ztp_rot *r, int *registered, int *claimed, int *bootstrapped);

/* 1 once the bootstrap is committed (the factory secret is gone). */
int ztp_rot_bootstrapped(const struct ztp_rot *r);

/* A power-up: the boot counter goes up by one (saturating). Store the state. */
void ztp_rot_boot(struct ztp_rot *r);

/* The key to offer next: the pending one, else the current one (the factory secret at epoch 0). */
void ztp_rot_psk(const struct ztp_rot *r, struct ztp_rot_psk *out);

/*
 * The server accepted the key of epoch: its handshake succeeded and the
 * server answered on that connection (a TLS 1.3 client finishes its
 * handshake before the server does, and the server commits a pending key
 * at the end of its own: call this at its first answer, not earlier). If
 * that was the pending key, it is committed: returns 1, store the state.
 * Else 0, nothing changed.
 */
int ztp_rot_handshake_ok(struct ztp_rot *r, uint32_t epoch);

/*
 * The server refused the key of epoch (alert unknown_psk_identity, or
 * a binder that does not verify: it holds another key of that epoch). If that was the
 * pending key, it is dropped and wiped: returns 1, store the state and
 * try again with the next key. Else 0, nothing changed.
 */
int ztp_rot_key_refused(struct ztp_rot *r, uint32_t epoch);

/*
 * The request of a contact: /m/b at epoch 0, /m/h after; its body has the
 * profile and serial when sealed, the firmware (1..32 printable ASCII),
 * the counters. ZTP_ECONFLICT while a key is pending (the handshake with
 * it decides first), ZTP_ERANGE at the last epoch, ZTP_EINVAL for a bad
 * firmware string.
 */
int ztp_rot_request(const struct ztp_rot *r, const char *firmware, struct ztp_rot_req *req);

/*
 * Check a 200 answer body[0..len) to req: its items (a bounded decode),
 * the next epoch (req's + 1, required), the intervals and the rest
 * (optional: what the module has if absent). a gets the exporter's
 * context. Returns 0, ZTP_EMALFORMED (items, or a wrong epoch), ZTP_ETOOBIG,
 * or ZTP_ECONFLICT if r moved since req was built (nothing changes).
 */
int ztp_rot_answer(const struct ztp_rot *r, const struct ztp_rot_req *req, const uint8_t *body,
    size_t len, struct ztp_rot_answer *a);

/*
 * Phase 3: keep the exporter's key as pending with what came with a, at
 * time now (a heartbeat's time, for the minimum interval; the heartbeat
 * counter goes up). Store the state before the confirmation is sent.
 * ZTP_ECONFLICT if r moved since a was checked.
 */
int ztp_rot_pending_set(struct ztp_rot *r, const struct ztp_rot_answer *a,
    const uint8_t key[ZTP_ROT_KEY_LEN], int64_t now);

/* The body of POST /m/c: the pending epoch. ZTP_ECONFLICT without a pending key. */
int ztp_rot_confirm(const struct ztp_rot *r, uint8_t *buf, size_t cap, size_t *len);

/*
 * Phase 4 (a 204 to /m/c, or ztp_rot_handshake_ok): the pending key
 * becomes current with what came with it; at the bootstrap the factory
 * secret is wiped; a seal its request carried is reported. The old key is
 * wiped. ZTP_ECONFLICT without a pending key.
 */
int ztp_rot_commit(struct ztp_rot *r);

/* Drop and wipe the pending key (a 409 to /m/c). Nothing if there is none. */
void ztp_rot_drop_pending(struct ztp_rot *r);

/*
 * May a heartbeat be sent now (AT+USECCONN)? 0 yes; ZTP_ECONFLICT before
 * the bootstrap is committed; ZTP_EBUSY within the minimum interval of the
 * last heartbeat, with *wait (if not NULL) the seconds left. An unreported
 * seal is let through once (section 8); a clock that went back behind the
 * last heartbeat lets it through too (the server keeps its own limit).
 */
int ztp_rot_heartbeat_allowed(const struct ztp_rot *r, int64_t now, uint32_t *wait);

/*
 * Seconds until the next automatic contact: 0 when one is due now (a
 * bootstrap not done, a pending key, an unreported seal, or the heartbeat
 * interval since the last contact has passed), -1 for never (interval 0).
 */
int64_t ztp_rot_next_contact(const struct ztp_rot *r, int64_t now);

/*
 * The state as ZTP_ROT_STATE_LEN bytes into buf: "ZROT", version, length,
 * the fields big-endian at fixed offsets, CRC-32 of everything before it.
 * Returns 0 or ZTP_ETOOBIG (cap). The bytes hold keys: wipe them after use.
 */
int ztp_rot_save(const struct ztp_rot *r, uint8_t *buf, size_t cap, size_t *len);

/*
 * Parse buf[0..len) (untrusted: every field is checked, nothing is read
 * past len) into r. Returns 0, or ZTP_EMALFORMED with why in err (errcap
 * bytes; never a key): truncated or too long, wrong magic, unknown version,
 * CRC mismatch, unknown flag, a field out of its form, fields that
 * contradict each other. On failure r is wiped.
 */
int ztp_rot_load(struct ztp_rot *r, const uint8_t *buf, size_t len, char *err, size_t errcap);

#endif
