/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-sim --module: the module's side of the chip-to-chip channel,
 * AT+USECC2C=0..4 (docs/protocol/security-service.md, "Chip-to-chip
 * secure channel").
 *
 * Pairings (up to 8, keyed by the host's TE secret and the terminal's
 * name, here the pty's) live in the module file's MODULE_SEC_C2C section,
 * written before any answer that depends on them. A pairing is pending
 * after =0 and complete once =4 brings the confirmation tag back
 * encrypted under its keys.
 *
 * Who may:
 *   =0 pair     before the bootstrap: once per pairing (a pending one may
 *               be asked again); after: when claimed and the feature
 *               c2c-pairing is on, replacing an existing pairing
 *   =1 open     a complete pairing; before the bootstrap as a trial
 *               (AT_C2C_TRIALS sessions, counted in the file); after:
 *               when claimed and the feature c2c is on
 *   =2 close, =3 rekey: within a session only
 * and everything else is +CME ERROR: operation not allowed.
 *
 * Frame mode: after the plain OK to =1, every byte from the host is taken
 * as frames (ztp/c2c.h) and their clear text goes to the AT interpreter,
 * whose answers go out in frames; the OK to =2 (and =3's answer) is the
 * last thing sent encrypted. Bytes that are not valid frames are dropped
 * (and logged), never executed.
 */
#ifndef ZTP_SIM_AT_C2C_H
#define ZTP_SIM_AT_C2C_H
#include <stddef.h>
#include <stdint.h>

#include "at.h"
#include "module.h"
#include "ztp/c2c.h"

#define AT_C2C_TRIALS 100   /* sessions before the bootstrap */
#define AT_C2C_INFO_MAX 160 /* +USECC2C: 0,0,"<key>","<hmac key>","<tag>" */

enum at_c2c_next { AT_C2C_STAY, AT_C2C_OPEN_NEXT, AT_C2C_CLOSE_NEXT };

struct at_c2c {
	struct module *m;
	const struct ztp_crypto *c;
	struct at *at;
	struct at_ext ext; /* AT+USECC2C= (at_add_ext) */
	/* bytes for the host, as they go on the wire */
	void (*out)(void *arg, const uint8_t *buf, size_t len);
	void *arg;
	char term[ZTP_C2C_TERM_MAX];
	size_t term_len;
	uint8_t uid[16]; /* the chip's identity: the derivation's input */
	struct ztp_c2c_table table;
	int session; /* the pairing of the open session, or -1 */
	enum at_c2c_next next; /* after the current command line */
	int next_slot;
	struct ztp_c2c_keys keys; /* the session's (or the next one's) */
	struct ztp_c2c_dec dec;
	uint8_t decbuf[ZTP_C2C_FRAME_MAX];
	uint8_t clear[ZTP_C2C_CHUNK_MAX]; /* answers not yet framed */
	size_t clear_len;
};

/*
 * Load the pairings of m and add AT+USECC2C to at (x must outlive it);
 * term (the terminal's name, 1..ZTP_C2C_TERM_MAX
 * printable bytes) is copied. 0, or -1 with why in err (a corrupt
 * section: the module refuses to start rather than lose pairings).
 */
int at_c2c_init(struct at_c2c *x, struct module *m, const struct ztp_crypto *c, struct at *at,
    const char *term, void (*out)(void *, const uint8_t *, size_t), void *arg, char *err,
    size_t errcap);

/* Wipe the keys. */
void at_c2c_free(struct at_c2c *x);

/* Bytes from the host: to the AT interpreter, through the frames in a session. */
void at_c2c_input(struct at_c2c *x, const uint8_t *buf, size_t len);

/* The AT interpreter's output: as is, or into frames in a session. */
void at_c2c_out(struct at_c2c *x, const uint8_t *buf, size_t len);

/* How much of a traced line to show: +USECC2C lines carry keys and secrets. */
size_t at_c2c_redact(const char *line, size_t len);

#endif
