/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output of the alarm example. Progress lines in the style of the original
 * SAFE2 demo go to stdout ("Set Device ID: OK", "receiving state: 1"),
 * errors to stderr prefixed with "alarm: " (msg_prog), and with --verbose the AT
 * traffic to stdout ("> AT+CSIM=..." / "< +CSIM: ..."). stdout is line
 * buffered so that the two streams interleave in order.
 */
#ifndef ALARM_MSG_H
#define ALARM_MSG_H
#include <stddef.h>

#define MSG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Set once by main: 1 prints the AT traffic and debug lines. */
extern int msg_verbose;
/* The program's name before each error line ("alarm" unless main sets it). */
extern const char *msg_prog;

/* A progress line on stdout. */
void msg_info(const char *fmt, ...) MSG_PRINTF(1, 2);
/* A debug line on stdout, only with --verbose. */
void msg_debug(const char *fmt, ...) MSG_PRINTF(1, 2);
/* An error line on stderr; msg_errno appends strerror(errno). */
void msg_err(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_errno(const char *fmt, ...) MSG_PRINTF(1, 2);

/*
 * With --verbose, print one line of AT traffic: dir is '>' (sent) or '<'
 * (received); line[0..len) is escaped (it comes from the modem).
 */
void msg_traffic(char dir, const char *line, size_t len);

/*
 * Copy s[0..len) into out (cap bytes, NUL-terminated) with every byte
 * outside printable ASCII, and '\', written as \xNN; truncated with "..."
 * when it does not fit. For anything the modem, the card or the server
 * controls.
 */
void msg_sanitize(const void *s, size_t len, char *out, size_t cap);

#endif
