/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The chip-to-chip (C2C) secure channel between a host MCU and its
 * cellular module (docs/protocol/security-service.md, "Chip-to-chip secure channel"): the
 * frame codec both sides use, the module's pairing table and key
 * derivation, and the host's side of AT+USECC2C.
 *
 * A frame, as u-blox's host library (ubxlib) made them:
 *
 *   F9 | LEN (2, LE) | BODY (LEN bytes) | FCS (2, LE) | F9
 *
 * FCS is RFC 1662's FCS-16 over LEN and BODY. No byte stuffing: the
 * receiver goes by LEN. The clear text (0..255 bytes) is padded PKCS#7 to
 * a multiple of 16 (1..16 bytes added) and encrypted with AES-128-CBC
 * under a fresh IV:
 *   version 2: BODY = IV | C | HMAC-SHA256(hmac_key, IV | C | te_secret)[0..16)
 *   version 1: BODY = AES-CBC(key, IV, pad(P) | SHA-256(pad(P))) | IV
 *
 * Portable C: no allocation, no I/O; the crypto is the platform's (struct
 * ztp_crypto, symcrypto.h). Every buffer is the caller's, with its maximum
 * size a constant below.
 */
#ifndef ZTP_C2C_H
#define ZTP_C2C_H
#include <stddef.h>
#include <stdint.h>

#include "ztp/symcrypto.h"

#define ZTP_C2C_FLAG 0xF9
#define ZTP_C2C_KEY_LEN 16       /* AES-128 key */
#define ZTP_C2C_HMAC_KEY_LEN 16  /* version 2's HMAC key */
#define ZTP_C2C_TE_SECRET_LEN 16 /* the host's secret that names a pairing */
#define ZTP_C2C_TAG_LEN 16       /* truncated HMAC; also the confirmation tag */
#define ZTP_C2C_CHUNK_MAX 255    /* clear-text bytes in one frame */
#define ZTP_C2C_OVERHEAD 6       /* two flags, LEN, FCS */
/* the longest body: version 1, 256 bytes of padded clear text, hash, IV */
#define ZTP_C2C_BODY_MAX (256 + ZTP_SHA256_LEN + ZTP_AES_BLOCK)
#define ZTP_C2C_FRAME_MAX (ZTP_C2C_BODY_MAX + ZTP_C2C_OVERHEAD)
/* AT+USECC2C=4's encrypted confirmation tag: IV, two blocks, MAC */
#define ZTP_C2C_ENC_TAG_LEN (ZTP_AES_BLOCK + 2 * ZTP_AES_BLOCK + ZTP_C2C_TAG_LEN)

/* The keys of one pairing. hmac_key and te_secret are version 2's. */
struct ztp_c2c_keys {
	int version; /* 1 or 2 */
	uint8_t key[ZTP_C2C_KEY_LEN];
	uint8_t hmac_key[ZTP_C2C_HMAC_KEY_LEN];
	uint8_t te_secret[ZTP_C2C_TE_SECRET_LEN];
};

/* RFC 1662 FCS-16 (CRC-16/X-25) of p[0..n): 0x906E for "123456789". */
uint16_t ztp_c2c_fcs16(const uint8_t *p, size_t n);

/* Bytes of the frame that carries len (0..255) clear-text bytes; 0 if len is out of range or version is not 1 or 2. */
size_t ztp_c2c_frame_len(int version, size_t len);

/* Bytes of all the frames of a message of len bytes (0 for 0: no frame). */
size_t ztp_c2c_msg_len(int version, size_t len);

/*
 * One frame of in[0..len) (len <= ZTP_C2C_CHUNK_MAX) under k with the IV
 * iv (16 bytes; NULL: c->random's) into out (cap bytes, at least
 * ztp_c2c_frame_len()); *outlen gets its length. Returns 0, ZTP_EINVAL,
 * ZTP_ETOOBIG (cap), ZTP_ECRYPTO.
 */
int ztp_c2c_frame_encode(const struct ztp_crypto *c, const struct ztp_c2c_keys *k,
    const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen);

/*
 * A whole message: frames of 255 clear-text bytes and a last shorter one,
 * one after the other in out (cap >= ztp_c2c_msg_len()); an empty message
 * is no frame. ivs: niv IVs of 16 bytes, one per frame in order (niv must
 * be at least the number of frames), or NULL for c->random's.
 */
int ztp_c2c_encode(const struct ztp_crypto *c, const struct ztp_c2c_keys *k, const uint8_t *ivs,
    size_t niv, const uint8_t *msg, size_t len, uint8_t *out, size_t cap, size_t *outlen);

/* Why the decoder rejected a frame (ztp_c2c_dec.fault). */
enum ztp_c2c_fault {
	ZTP_C2C_F_NONE = 0,
	ZTP_C2C_F_SHORT,     /* LEN too short for the version */
	ZTP_C2C_F_LONG,      /* LEN over the longest body (rejected at once) */
	ZTP_C2C_F_ALIGN,     /* the encrypted part is not a multiple of 16 */
	ZTP_C2C_F_FCS,       /* bad FCS */
	ZTP_C2C_F_END,       /* no end flag after the FCS */
	ZTP_C2C_F_CUT,       /* cut short: a whole frame started inside it */
	ZTP_C2C_F_MAC,       /* bad MAC (version 1: bad hash) */
	ZTP_C2C_F_PAD,       /* bad padding */
	ZTP_C2C_F_CRYPTO,    /* the platform's crypto failed */
};

/* A static description of f. */
const char *ztp_c2c_fault_str(enum ztp_c2c_fault f);

/*
 * The streaming decoder: bytes in as they come, frames out. Bytes before
 * a start flag are skipped; a frame is judged as soon as its LEN is in
 * (too short, too long, misaligned: rejected at once) and again when it is
 * whole. A rejected frame gives up only its start flag, and scanning goes
 * on from the next byte, so a frame right after a bad one is found. A
 * frame that never completes is abandoned as soon as a whole valid frame
 * is found after its start, so it never blocks the stream; the caller may
 * also drop what is buffered with ztp_c2c_dec_reset().
 */
struct ztp_c2c_dec {
	const struct ztp_crypto *c;
	const struct ztp_c2c_keys *k; /* the caller's, outlives the decoder */
	uint8_t *buf;                 /* the caller's, cap bytes */
	size_t cap, len;
	enum ztp_c2c_fault fault; /* of the last rejected frame */
};

/* buf: cap >= ZTP_C2C_FRAME_MAX bytes. Returns 0 or ZTP_EINVAL. */
int ztp_c2c_dec_init(struct ztp_c2c_dec *d, const struct ztp_crypto *c,
    const struct ztp_c2c_keys *k, uint8_t *buf, size_t cap);

/* Drop (and wipe) what is buffered. */
void ztp_c2c_dec_reset(struct ztp_c2c_dec *d);

/*
 * Feed in[0..len); *used gets the bytes taken. Returns 1 with one frame's
 * clear text in out (cap >= ZTP_C2C_CHUNK_MAX), *outlen bytes; 0 when it
 * needs more bytes (then all of in was taken); a negative ZTP_E code for a
 * rejected frame (d->fault says why: ZTP_EMALFORMED, ZTP_ETOOBIG for
 * ZTP_C2C_F_LONG, ZTP_EAUTH for ZTP_C2C_F_MAC, ZTP_ECRYPTO). Call again
 * with the rest (possibly none) until it returns 0.
 */
int ztp_c2c_dec_push(struct ztp_c2c_dec *d, const uint8_t *in, size_t len, size_t *used,
    uint8_t *out, size_t cap, size_t *outlen);

/*
 * The confirmation step of a version 2 pairing: tag (16 bytes) encrypted
 * as a version 2 body without the framing, IV | C | MAC, 64 bytes, IV from
 * iv or c->random. check: 0 if enc[0..len) is tag so encrypted under k,
 * ZTP_EAUTH if not, ZTP_EMALFORMED for a wrong length.
 */
int ztp_c2c_confirm_encrypt(const struct ztp_crypto *c, const struct ztp_c2c_keys *k,
    const uint8_t *iv, const uint8_t tag[ZTP_C2C_TAG_LEN], uint8_t out[ZTP_C2C_ENC_TAG_LEN]);
int ztp_c2c_confirm_check(const struct ztp_crypto *c, const struct ztp_c2c_keys *k,
    const uint8_t *enc, size_t len, const uint8_t tag[ZTP_C2C_TAG_LEN]);

/* ---- the module's side: pairings and their keys ---- */

#define ZTP_C2C_PAIRINGS 8
#define ZTP_C2C_TERM_MAX 64  /* a terminal's name, bytes */
#define ZTP_C2C_SLAVE_LEN 32 /* the module's random secret of a pairing */

enum ztp_c2c_state {
	ZTP_C2C_FREE = 0,
	ZTP_C2C_PENDING = 1, /* AT+USECC2C=0 answered, =4 not yet */
	ZTP_C2C_PAIRED = 2,
};

struct ztp_c2c_pairing {
	uint8_t state; /* enum ztp_c2c_state */
	uint8_t te_secret[ZTP_C2C_TE_SECRET_LEN];
	uint8_t term_len;
	char term[ZTP_C2C_TERM_MAX];
	uint8_t slave[ZTP_C2C_SLAVE_LEN];
};

struct ztp_c2c_table {
	struct ztp_c2c_pairing p[ZTP_C2C_PAIRINGS];
	uint16_t trials; /* sessions opened before the bootstrap */
};

/* The saved form: magic, trials, 8 fixed records, FCS-16. */
#define ZTP_C2C_REC_BYTES (1 + ZTP_C2C_TE_SECRET_LEN + 1 + ZTP_C2C_TERM_MAX + ZTP_C2C_SLAVE_LEN)
#define ZTP_C2C_TABLE_BYTES (4 + 2 + ZTP_C2C_PAIRINGS * ZTP_C2C_REC_BYTES + 2)

/*
 * The index of the pairing (in any state but free) of te and term[0..tlen),
 * or ZTP_ENOENT. slot: that index, or else a free one, or ZTP_ETOOBIG when
 * all 8 are taken.
 */
int ztp_c2c_table_find(const struct ztp_c2c_table *t, const uint8_t te[ZTP_C2C_TE_SECRET_LEN],
    const char *term, size_t tlen);
int ztp_c2c_table_slot(const struct ztp_c2c_table *t, const uint8_t te[ZTP_C2C_TE_SECRET_LEN],
    const char *term, size_t tlen);

/* Exactly ZTP_C2C_TABLE_BYTES into out. load: from exactly that many, or ZTP_EMALFORMED (t zeroed). */
void ztp_c2c_table_save(const struct ztp_c2c_table *t, uint8_t out[ZTP_C2C_TABLE_BYTES]);
int ztp_c2c_table_load(struct ztp_c2c_table *t, const uint8_t *buf, size_t len);

/*
 * The keys of a pairing, as the module makes them: HKDF-SHA256 with the
 * pairing's random slave secret as salt and module_secret[0..mlen) (the
 * chip's identity) as input key material, info "ztp c2c v2"; 48 bytes:
 * key, hmac_key, confirmation tag. k->version = 2; k->te_secret untouched.
 */
int ztp_c2c_derive(const struct ztp_crypto *c, const uint8_t *module_secret, size_t mlen,
    const uint8_t slave[ZTP_C2C_SLAVE_LEN], struct ztp_c2c_keys *k,
    uint8_t tag[ZTP_C2C_TAG_LEN]);

/* ---- the host's side of AT+USECC2C ---- */

enum ztp_c2c_op {
	ZTP_C2C_PAIR = 0,
	ZTP_C2C_OPEN = 1,
	ZTP_C2C_CLOSE = 2,
	ZTP_C2C_REKEY = 3,
	ZTP_C2C_CONFIRM = 4,
};

/* The longest command: =4 with the TE secret and the encrypted tag */
#define ZTP_C2C_CMD_MAX (12 + 2 + 2 * ZTP_C2C_TE_SECRET_LEN + 3 + 2 * ZTP_C2C_ENC_TAG_LEN + 2)

/*
 * The command line (no CR) into out (cap bytes, NUL-terminated):
 * AT+USECC2C=0|1,"<te hex>", AT+USECC2C=2|3, AT+USECC2C=4,"<te hex>","<enc hex>"
 * (enc: ZTP_C2C_ENC_TAG_LEN bytes, only for CONFIRM). 0, ZTP_EINVAL, ZTP_ETOOBIG.
 */
int ztp_c2c_cmd(enum ztp_c2c_op op, const uint8_t te[ZTP_C2C_TE_SECRET_LEN], const uint8_t *enc,
    char *out, size_t cap);

/* A pairing's answer: version 2 has hmac_key and tag, version 1 only key. */
struct ztp_c2c_answer {
	int op;      /* the first number: 0 pairing, 3 rekey */
	int version; /* 1 or 2 */
	uint8_t key[ZTP_C2C_KEY_LEN];
	uint8_t hmac_key[ZTP_C2C_HMAC_KEY_LEN];
	uint8_t tag[ZTP_C2C_TAG_LEN];
};

/*
 * +USECC2C: <op>,0,"<key>"[,"<hmac key>","<tag>"] (32 hex digits each)
 * from line[0..len) (no line end): 0, ZTP_ENOENT (another line),
 * ZTP_EMALFORMED (a is untouched).
 */
int ztp_c2c_answer_parse(const char *line, size_t len, struct ztp_c2c_answer *a);

#endif
