/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging: one line per message on stderr, as text or as one JSON object.
 * Thread-safe. Never pass a key, a PSK, a secret or a token.
 */
#ifndef ZTP_LOG_H
#define ZTP_LOG_H
#include <stdarg.h>

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };
enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN };

void log_init(const char *prog, enum log_format fmt, enum log_level min);
/* Change the least level logged (a configuration reload). */
void log_set_level(enum log_level min);

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
/* log_warn appends strerror(errno); log_warnx does not. */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Log and exit(1): only for a broken invariant or a failed start. */
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

/*
 * A structured event line: kind plus key/value string pairs, NULL-ended.
 * Values are escaped and truncated to 200 bytes.
 */
void log_event(const char *kind, ...);

/*
 * Copy the peer-controlled s[0..len) into out (cap bytes) with every byte
 * outside printable ASCII written as \xNN, truncated with "..." to fit.
 */
void log_sanitize(const void *s, size_t len, char *out, size_t cap);

#endif
