/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The root of trust's services (issue 14; docs/protocol/security-service.md
 * section 11): PSKs a customer's server can look up, end-to-end data
 * protection both ways, local data protection. Both sides derive the same
 * keys from the operational key of an epoch, so the derivations are here
 * and ztpd uses them too.
 *
 * Key hierarchy, every step HKDF-Expand with SHA-256 (RFC 5869):
 *   S(e)    = Expand(K(e), "ztp svc" || e, 32)   K(e): epoch e's key
 *   PSK     = Expand(S(e), "ztp psk" || identity, 16 or 32)
 *   key, nonce of one E2E message
 *           = Expand(S(e), "ztp e2e" || key identity, 16 + 12)
 *   local   = Expand(L, "ztp local" || uid, 16)  L: the module's own random secret
 * The server keeps S(e) of every epoch (old data stays decryptable), never
 * K(e) beyond the last few. A key identity is never used twice (its
 * counter is reserved in NVM before use), so neither is a (key, nonce).
 *
 * Portable C: no allocation, no I/O; crypto through struct ztp_crypto.
 */
#ifndef ZTP_ROTSVC_H
#define ZTP_ROTSVC_H
#include <stddef.h>
#include <stdint.h>

#include "ztp/rot.h"
#include "ztp/symcrypto.h"

#define ZTP_SVC_LEN 32         /* S(e) */
#define ZTP_PSK_ID_LEN 14      /* a PSK identity, bytes (28 hex digits) */
#define ZTP_E2E_KI_LEN 16      /* a key identity, first nibble 0x1 */
#define ZTP_E2E_KI_SHORT_LEN 11 /* the compact one, first nibble 0x2 */
#define ZTP_E2E_KEY_LEN 16
#define ZTP_E2E_NONCE_LEN 12
#define ZTP_E2E_DATA_MAX 4096  /* the most clear text one message carries */
#define ZTP_E2E_RESERVE 64     /* counters reserved per NVM write */
#define ZTP_LOCAL_OVERHEAD (3 + 12 + 16) /* "ZL" version, nonce, tag */
#define ZTP_LOCAL_TRIAL_MAX 100 /* local data operations before the bootstrap */

/* E2E flags (ztp_rot_e2e_seal) */
#define ZTP_E2E_MAC8 0x01u  /* CCM_8: an 8-byte MAC (default 16) */
#define ZTP_E2E_SHORT 0x02u /* the 11-byte key identity (epoch < 65536, counter < 2^32) */

enum ztp_e2e_dir { ZTP_E2E_UP = 1, ZTP_E2E_DOWN = 2 };

/* A key identity, decoded. */
struct ztp_e2e_ki {
	size_t len;       /* 16 or 11 */
	size_t mac_len;   /* 16 or 8 */
	enum ztp_e2e_dir dir;
	uint32_t sid;
	uint32_t epoch;
	uint64_t counter; /* 48 bits (32 in the compact form) */
};

/* S(e) from epoch's key. */
int ztp_svc_root(const struct ztp_crypto *c, const uint8_t key[ZTP_ROT_KEY_LEN], uint32_t epoch,
    uint8_t out[ZTP_SVC_LEN]);

/*
 * A PSK identity: 0x11, the PSK's length (0x01: 16 bytes, 0x02: 32), sid,
 * epoch (u32 big-endian each), 4 random bytes. parse: ZTP_EMALFORMED for
 * anything else.
 */
int ztp_psk_identity_parse(const uint8_t *id, size_t len, uint32_t *sid, uint32_t *epoch,
    size_t *psk_len);
int ztp_psk_derive(const struct ztp_crypto *c, const uint8_t svc[ZTP_SVC_LEN],
    const uint8_t id[ZTP_PSK_ID_LEN], uint8_t *psk, size_t psk_len);

/*
 * Key identities. The long form: 0x1m (m = 1: 16-byte MAC, 2: 8), the
 * direction, sid, epoch, 48-bit counter (big-endian). The short form
 * (upstream only): 0x2m, sid, epoch (u16), counter (u32). encode: out
 * has room for ZTP_E2E_KI_LEN; ZTP_ERANGE when the values do not fit.
 * parse reads the first nibble for the length (ZTP_EMALFORMED when len is
 * short or the bytes are not a key identity; extra bytes after it are the
 * caller's).
 */
int ztp_e2e_ki_encode(const struct ztp_e2e_ki *k, uint8_t *out, size_t *len);
int ztp_e2e_ki_parse(const uint8_t *b, size_t len, struct ztp_e2e_ki *k);

/* The key and nonce of one message, from S(e) and its key identity's bytes. */
int ztp_e2e_params(const struct ztp_crypto *c, const uint8_t svc[ZTP_SVC_LEN], const uint8_t *ki,
    size_t kilen, uint8_t key[ZTP_E2E_KEY_LEN], uint8_t nonce[ZTP_E2E_NONCE_LEN]);

/*
 * One E2E message with S(e): seal (the server's downstream side, and the
 * module's through ztp_rot_e2e_seal) writes ki || ciphertext || MAC into
 * out (cap >= kilen + len + mac_len); open checks and decrypts data (a
 * whole message) into out. open: ZTP_EMALFORMED (not a message),
 * ZTP_EAUTH (the MAC does not verify: out is wiped).
 */
int ztp_e2e_seal_with(const struct ztp_crypto *c, const uint8_t svc[ZTP_SVC_LEN],
    const struct ztp_e2e_ki *k, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
    size_t *outlen);
int ztp_e2e_open_with(const struct ztp_crypto *c, const uint8_t svc[ZTP_SVC_LEN],
    const uint8_t *data, size_t len, uint8_t *out, size_t cap, size_t *outlen);

/* ---- the module's side: each checks what the service needs first ---- */

/*
 * AT+USECPSK=16|32: a fresh identity and its PSK from the current key.
 * ZTP_ECONFLICT before the bootstrap or without a service id,
 * ZTP_EAUTH when the feature psk is off, ZTP_EINVAL for another length.
 * Nothing to store.
 */
int ztp_rot_psk_new(const struct ztp_rot *r, const struct ztp_crypto *c, size_t psk_len,
    uint8_t id[ZTP_PSK_ID_LEN], uint8_t *psk);

/*
 * AT+USECE2EDATAENC: in[0..len) (len <= ZTP_E2E_DATA_MAX) sealed upstream
 * under the current key, flags ZTP_E2E_*. When *store_first is 1 on return
 * the counter's reservation moved: store the state durably before out is
 * given to anyone (if the store fails, drop out). ZTP_ECONFLICT (not
 * bootstrapped, no service id), ZTP_EAUTH (feature e2e off), ZTP_ERANGE
 * (counters used up, or the short form no longer fits), ZTP_ETOOBIG.
 */
int ztp_rot_e2e_seal(struct ztp_rot *r, const struct ztp_crypto *c, unsigned flags,
    const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen, int *store_first);

/*
 * AT+USECE2EDATADEC: a downstream message from the server for this module,
 * sealed under the current (or pending) key. Its counter must be above
 * every one accepted before: the state changes, store it before out is
 * used. ZTP_EMALFORMED (not a downstream message for this module),
 * ZTP_ENOENT (an epoch the module no longer holds), ZTP_EEXIST (replayed:
 * counter not above the last one), ZTP_EAUTH (the MAC), ZTP_ECONFLICT,
 * ZTP_EAUTH for feature e2e off too (the reason is in the code's caller).
 */
int ztp_rot_e2e_open(struct ztp_rot *r, const struct ztp_crypto *c, const uint8_t *data,
    size_t len, uint8_t *out, size_t cap, size_t *outlen);

/*
 * Local data protection: make the module's local secret once (store the
 * state when this returns 1; 0 when it existed).
 */
int ztp_rot_local_setup(struct ztp_rot *r, const struct ztp_crypto *c);

/*
 * AT+USECDATAENC: in[0..len) sealed for the file name[0..namelen) of this
 * module: "ZL" 0x01, a random nonce, ciphertext, 16-byte MAC; the name
 * and the RoT UID are bound (a file renamed or copied to another module
 * does not open). Before the bootstrap it counts a trial operation
 * (ZTP_LOCAL_TRIAL_MAX; store the state); after it, the feature
 * local-data must be on (ZTP_EAUTH). ZTP_ECONFLICT without the secret.
 */
int ztp_rot_local_seal(struct ztp_rot *r, const struct ztp_crypto *c, const char *name,
    size_t namelen, const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen);
/* AT+USECFILEDEC: ZTP_EMALFORMED (not a sealed file, truncated), ZTP_EAUTH (tampered, renamed, another module's). */
int ztp_rot_local_open(struct ztp_rot *r, const struct ztp_crypto *c, const char *name,
    size_t namelen, const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen);

#endif
