/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AT interpreter of ztp-sim's virtual modem (spec safe2.md section 2).
 *
 * Pure: bytes from the DTE go in through at_input(), everything the modem
 * answers goes out through ops->out, and the SIM is reached only through
 * ops->csim. No I/O, no allocation, no clock: unit tests and fuzz targets
 * drive it without a pty.
 *
 * Line handling, as a V.250 modem: a command line ends with CR; LF is
 * never part of a command and is dropped, so "AT\r", "AT\r\n" and a lone
 * "\n" (ignored) all work. With echo on (the power-up default) every byte
 * but LF is echoed as it arrives. Responses are in verbose form:
 * "\r\n<text>\r\n" per line, so an information response followed by the
 * final result reads `\r\n+CSIM: 6,"019000"\r\n\r\nOK\r\n` (the "empty
 * line" of the reference exchange). An empty line gets no answer. A line
 * longer than AT_LINE_MAX is discarded up to its CR and answered with one
 * ERROR.
 */
#ifndef ZTP_SIM_AT_H
#define ZTP_SIM_AT_H
#include <stddef.h>
#include <stdint.h>

#include "ztp/iccid.h"

/* AT+CSIM=522,"<522 hex>" is 535 characters; the rest is slack */
#define AT_LINE_MAX 600
#define AT_IMEI_DIGITS 15

/* +CREG <stat> values (3GPP TS 27.007) */
#define AT_CREG_HOME 1
#define AT_CREG_SEARCHING 2
#define AT_CREG_ROAMING 5

/* direction of a traced line */
enum at_dir { AT_IN, AT_OUT };

struct at_ops {
	/* Bytes for the DTE. Required. */
	void (*out)(void *arg, const uint8_t *buf, size_t len);
	/*
	 * Pass one command APDU cmd[0..len) (1 to 261 bytes) to the SIM.
	 * Writes response data and status word into resp (cap bytes, at
	 * least APDU_MAX_RESP) and returns their length (>= 2), or 0 if the
	 * SIM did not answer (the modem then answers ERROR). Required.
	 */
	size_t (*csim)(void *arg, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap);
	/* The registration state for AT+CREG? (AT_CREG_...). Required. */
	int (*creg)(void *arg);
	/*
	 * Optional: each command line received (without its CR) and each
	 * response line sent (without CR LF). line is not NUL-terminated and
	 * may hold any byte the DTE sent.
	 */
	void (*trace)(void *arg, enum at_dir dir, const char *line, size_t len);
	void *arg;
};

/*
 * The module's root of trust (ztp-sim --module; docs/protocol/
 * security-service.md section 9), optional: without it the AT+USEC...
 * commands answer ERROR like any unknown command.
 */
struct at_module_ops {
	/*
	 * AT+USECDEVINFO="<profile>","<serial>": the two arguments without
	 * their quotes (any bytes but '"'; not NUL-terminated). 0 answers OK,
	 * -1 +CME ERROR: operation not allowed.
	 */
	int (*seal)(void *arg, const char *profile, size_t plen, const char *serial, size_t slen);
	/* AT+USECDEVINFO?: the three numbers, each 0 or 1. */
	void (*status)(void *arg, int *registered, int *claimed, int *bootstrapped);
	/* AT+USECCONN, blocking: 0 answers OK, -1 +CME ERROR: operation not allowed. */
	int (*conn)(void *arg);
	void *arg;
};

struct at;

/*
 * An extension: more commands (the services of issue 14 each add theirs
 * in a file of their own). command gets the line after "AT" (not
 * NUL-terminated) and returns 1 if it is its command (it has answered
 * through at_answer / at_read_data), 0 if not (the next extension is
 * asked, and ERROR answers a command nobody knows).
 */
struct at_ext {
	int (*command)(void *arg, struct at *at, const char *cmd, size_t n);
	void *arg;
};

#define AT_EXT_MAX 8
#define AT_DATA_MAX 8192 /* the most bytes one "> " prompt takes */

/* What an extension gets once the bytes it asked for with at_read_data have come. */
typedef void (*at_data_fn)(void *arg, struct at *at, const uint8_t *data, size_t n);

struct at {
	const struct at_ops *ops;
	const struct at_module_ops *mod; /* NULL: no module */
	const struct at_ext *ext[AT_EXT_MAX];
	size_t next;
	/* a "> " prompt in progress: want bytes, then done(done_arg, ...) */
	size_t want, got;
	at_data_fn done;
	void *done_arg;
	uint8_t data[AT_DATA_MAX];
	char iccid[ICCID_STR_SIZE];
	char imei[AT_IMEI_DIGITS + 1];
	int echo;
	char line[AT_LINE_MAX];
	size_t len;
	int overflow; /* the current line went past AT_LINE_MAX */
};

/*
 * Power-up state: echo on, empty line buffer. iccid (digits, as printed
 * by AT+CCID) and imei (AT+CGSN) are copied, truncated to fit. ops must
 * outlive at.
 */
void at_init(struct at *at, const struct at_ops *ops, const char *iccid, const char *imei);

/* Answer the module's commands through mod (which must outlive at); NULL: none. */
void at_set_module(struct at *at, const struct at_module_ops *mod);

/* Add an extension (it must outlive at). ZTP_EBUSY when AT_EXT_MAX are there. */
int at_add_ext(struct at *at, const struct at_ext *e);

/* One information or result line ("OK", "+X: 1", ...), framed as every answer. */
void at_answer(struct at *at, const char *text);
void at_answer_n(struct at *at, const char *text, size_t n);

/*
 * Send the "> " prompt and take the next n raw bytes (1..AT_DATA_MAX; no
 * echo, CR and LF are data) as data: done gets them, and answers. Every
 * byte after them is a command line again. ZTP_ERANGE for a bad n
 * (nothing sent: answer ERROR).
 */
int at_read_data(struct at *at, size_t n, at_data_fn done, void *arg);

/* Feed len bytes from the DTE; answers go out through ops->out. */
void at_input(struct at *at, const uint8_t *buf, size_t len);

/*
 * A stable IMEI-like number for a modem holding this ICCID: TAC prefix
 * "35", 12 digits of a hash of the ICCID, and a Luhn check digit.
 * out: AT_IMEI_DIGITS + 1 bytes, NUL-terminated.
 */
void at_imei_for(const char *iccid, char *out);

#endif
