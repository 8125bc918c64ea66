/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AT command layer: one command at a time, the modem's answer read as
 * lines until a final result, APDUs to the SIM through AT+CSIM
 * (3GPP TS 27.007 8.17), and the T=0 response chaining (61xx, 6Cxx) that
 * some modems leave to the application.
 *
 * Lines end with CR, LF or CR LF; a line is at most MODEM_LINE_MAX - 1
 * bytes, a longer one is an error. The echo of the command (echo is on
 * until ATE0) and unsolicited lines are skipped. Every command has a
 * deadline.
 */
#ifndef ALARM_MODEM_H
#define ALARM_MODEM_H
#include <stddef.h>
#include <stdint.h>

#include "serial.h"

#define MODEM_LINE_MAX 1024
#define MODEM_CMD_TIMEOUT_MS 10000 /* any command but the first AT */
#define MODEM_PROBE_TIMEOUT_MS 1000
/* the longest APDU (case 4, Lc = 255, Le) and the longest response */
#define MODEM_APDU_MAX 261
#define MODEM_RESP_MAX 256

struct modem {
	struct serial ser;
	char in[MODEM_LINE_MAX];     /* received, not yet consumed */
	size_t in_len;
	int skip_lf;                 /* the last line ended with CR: drop one LF */
	char final[MODEM_LINE_MAX];  /* the last final result other than OK */
};

/* Open the serial device (serial_open). Returns 0 or ZTP_EIO. */
int modem_open(struct modem *m, const char *path);
void modem_close(struct modem *m);

/*
 * Send cmd (without line end; CR LF is added) and read the answer until
 * OK, ERROR, +CME ERROR or +CMS ERROR, within timeout_ms. Every other line
 * that is not the echo and not empty goes to line_cb (which may be NULL);
 * a negative return of line_cb is kept and returned after the final
 * result, so that the stream stays in step.
 *
 * Returns 0 on OK; ZTP_ECONFLICT when the modem answered an error (the
 * line is in m->final); ZTP_EEXPIRED on time-out; ZTP_ETOOBIG for a line
 * over the limit; ZTP_EBUSY when a stop was requested; ZTP_EIO when the
 * device failed or closed (reported); or line_cb's error.
 */
int modem_cmd(struct modem *m, const char *cmd, int timeout_ms,
    int (*line_cb)(void *arg, const char *line, size_t len), void *arg);

/*
 * Wait for the modem to answer AT with OK: up to tries attempts, one a
 * second. Then turn the echo off with ATE0 (a refusal is only reported:
 * the echo is skipped anyway). Returns 0 or a negative ZTP_E code
 * (reported).
 */
int modem_probe(struct modem *m, int tries);

/*
 * Poll AT+CREG? once a second until the modem is registered (stat 1 home
 * or 5 roaming), at most max_secs seconds. Returns 0 or a negative ZTP_E
 * code (reported).
 */
int modem_wait_registered(struct modem *m, int max_secs);

/*
 * Exchange one APDU with AT+CSIM=<2*len>,"<HEX>" and parse the answer
 * +CSIM: <n>,"<HEX>" strictly: n equals the hex length, which is even and
 * at least 4; the last two bytes are the status word. The data (at most
 * cap bytes) goes to resp, its length to *resp_len, the status word to
 * *sw. Returns 0 or a negative ZTP_E code as modem_cmd, ZTP_EMALFORMED for
 * a missing, repeated or malformed +CSIM line, ZTP_ETOOBIG if the data
 * does not fit in cap. Errors are not reported: the caller names the
 * command.
 */
int modem_csim(struct modem *m, const uint8_t *apdu, size_t len, uint8_t *resp, size_t cap,
    size_t *resp_len, uint16_t *sw);

/*
 * modem_csim plus the T=0 rules: on 61xx the data is fetched with GET
 * RESPONSE (same CLA, C0 00 00 xx), repeatedly while the card answers
 * 61xx; on 6Cxx a case 2 command is sent again once with Le = xx. The
 * final data and status word are returned as by modem_csim.
 */
int modem_apdu(struct modem *m, const uint8_t *apdu, size_t len, uint8_t *resp, size_t cap,
    size_t *resp_len, uint16_t *sw);

/*
 * Describe a modem_* error code for a message, into out (cap bytes):
 * "the modem answered ERROR", "no answer within 10 s", ... The modem's
 * error line is escaped.
 */
void modem_describe(const struct modem *m, int rc, char *out, size_t cap);

#endif
