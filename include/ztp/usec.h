/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host MCU's side of a cellular module's security AT commands
 * (docs/protocol/security-service.md section 9): seal a DeviceProfileUID
 * and a serial into the module's root of trust, read its bootstrap and
 * ownership status, trigger a security heartbeat.
 *
 *   AT+USECDEVINFO="<profile>","<serial>"   OK
 *   AT+USECDEVINFO?                         +USECDEVINFO: <reg>,<claimed>,<boot>  OK
 *   AT+USECCONN                             OK
 *   any of them, refused                    ERROR | +CME ERROR: <text>
 *
 * Portable C: no allocation, no I/O. The caller owns the serial line and
 * its AT layer: it sends the command usec_*_cmd() wrote into its buffer
 * (a line end is the AT layer's to add) and hands every line the modem
 * answers, without its line end, to usec_answer_line() until that returns
 * something other than USEC_MORE. An AT layer that consumes the final
 * result itself (OK, ERROR, +CME ERROR) hands that line over too.
 *
 * The modem's bytes are untrusted: every line is parsed within its length,
 * nothing is copied but a bounded, checked error text.
 */
#ifndef ZTP_USEC_H
#define ZTP_USEC_H
#include <stddef.h>
#include <stdint.h>

#define USEC_PROFILE_LEN 32 /* a DeviceProfileUID: 32 lower-case hex digits */
#define USEC_SERIAL_MAX 64  /* a serial: 1..64 printable ASCII, no '"' */
#define USEC_CMD_MAX 128    /* any command usec_*_cmd() writes, NUL included, fits */
#define USEC_ERROR_MAX 80   /* the longest +CME ERROR text kept */

/* usec_answer_line(): the answer goes on, give the next line */
#define USEC_MORE 1

enum usec_cmd {
	USEC_SEAL = 1,      /* AT+USECDEVINFO="...","..." */
	USEC_STATUS = 2,    /* AT+USECDEVINFO? */
	USEC_HEARTBEAT = 3, /* AT+USECCONN */
};

/* The three numbers of +USECDEVINFO: each 0 or 1. */
struct usec_status {
	uint8_t registered;   /* the module is known to the server */
	uint8_t claimed;      /* assigned to the owner of its sealed profile */
	uint8_t bootstrapped; /* the bootstrap completed */
};

/* The answer to one command, filled line by line. */
struct usec_answer {
	enum usec_cmd cmd;
	int done;                         /* the final result was seen */
	int seen;                         /* USEC_STATUS: the +USECDEVINFO line came */
	int bad;                          /* a malformed or repeated +USECDEVINFO line */
	struct usec_status status;        /* USEC_STATUS, when seen and not bad */
	char error[USEC_ERROR_MAX + 1];   /* the +CME ERROR text; "" for ERROR */
};

/*
 * Write AT+USECDEVINFO="<profile>","<serial>" (NUL-terminated, no line
 * end) into out. profile must be 32 lower-case hex digits, serial 1 to
 * USEC_SERIAL_MAX printable ASCII characters without '"' (both
 * NUL-terminated). Returns 0, ZTP_EINVAL for an argument the module would
 * refuse (nothing written), or ZTP_ETOOBIG if cap is too small (out holds
 * "" if cap > 0). USEC_CMD_MAX is always enough.
 */
int usec_seal_cmd(const char *profile, const char *serial, char *out, size_t cap);

/* Write AT+USECDEVINFO? into out. Returns 0 or ZTP_ETOOBIG. */
int usec_status_cmd(char *out, size_t cap);

/* Write AT+USECCONN into out. Returns 0 or ZTP_ETOOBIG. */
int usec_heartbeat_cmd(char *out, size_t cap);

/* Start reading the answer to cmd. */
void usec_answer_init(struct usec_answer *a, enum usec_cmd cmd);

/*
 * Take one line of the modem's answer (line[0..len), without its line end;
 * it need not be NUL-terminated). Empty lines, the echo of the command (a
 * line that starts with "AT", any case) and lines that are not part of
 * this command's answer (unsolicited result codes) are skipped.
 *
 * Returns USEC_MORE until the final result; then:
 *   0               OK (USEC_STATUS: and a->status holds the numbers)
 *   ZTP_ECONFLICT   ERROR (a->error is "") or +CME ERROR: <text> / +CMS
 *                   ERROR: <text> (a->error holds the text)
 *   ZTP_EMALFORMED  USEC_STATUS: OK without a +USECDEVINFO line, with a
 *                   malformed one or with two; or an error text that is
 *                   empty, longer than USEC_ERROR_MAX or not printable
 *   ZTP_EINVAL      the final result was already taken
 * A malformed +USECDEVINFO line is remembered and reported at the final
 * result, so that the caller reads the whole answer and stays in step.
 */
int usec_answer_line(struct usec_answer *a, const char *line, size_t len);

/*
 * Parse one +USECDEVINFO line: "+USECDEVINFO:", optional spaces, then
 * exactly three numbers 0 or 1 separated by commas, nothing after. Returns
 * 0 with *st set, ZTP_ENOENT if the line does not start with
 * "+USECDEVINFO:" (st untouched), ZTP_EMALFORMED otherwise (st untouched).
 */
int usec_status_parse(const char *line, size_t len, struct usec_status *st);

/* 1 when st says the bootstrap is done (registered and bootstrapped), else 0. */
int usec_bootstrapped(const struct usec_status *st);

/*
 * What st means (section 9): "bootstrap not done", "bootstrapped, no
 * owner", "bootstrapped and assigned to an owner", or "not a documented
 * status" for any other combination. A static string.
 */
const char *usec_status_describe(const struct usec_status *st);

#endif
