/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

static const char *log_prog = "ztp";
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static enum log_level log_min = LOG_LEVEL_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void
log_init(const char *prog, enum log_format fmt, enum log_level min)
{
	log_prog = prog;
	log_fmt = fmt;
	log_min = min;
}

void
log_set_level(enum log_level min)
{
	log_min = min;
}

void
log_sanitize(const void *s, size_t len, char *out, size_t cap)
{
	const unsigned char *p = s;
	size_t o = 0, i;

	if (cap == 0)
		return;
	for (i = 0; i < len; i++) {
		char tmp[5];
		size_t n;
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			tmp[0] = (char)p[i];
			n = 1;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]);
			n = 4;
		}
		if (o + n + 4 > cap) {
			if (o + 4 <= cap) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
}

/* A log line being built: one write(2) puts it out whole (see emit()). */
struct line {
	char buf[8192];
	size_t len;
};

static void
put(struct line *l, const char *s, size_t n)
{
	if (n > sizeof(l->buf) - 1 - l->len)
		n = sizeof(l->buf) - 1 - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void
puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* The line and its newline, in one write(2) (a short one is continued). */
static void
write_line(struct line *l)
{
	size_t off = 0;
	ssize_t n;

	l->buf[l->len++] = '\n'; /* put() keeps one byte for it */
	pthread_mutex_lock(&log_mu);
	while (off < l->len) {
		if ((n = write(2, l->buf + off, l->len - off)) > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EINTR)
			break;
	}
	pthread_mutex_unlock(&log_mu);
}

/* JSON string escaping of an already sanitized (printable) message. */
static void
json_str(struct line *l, const char *s)
{
	char esc[8];

	put(l, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			put(l, "\\", 1);
		if ((unsigned char)*s < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned char)*s);
			puts_(l, esc);
		} else {
			put(l, s, 1);
		}
	}
	put(l, "\"", 1);
}

static void
stamp(char *buf, size_t cap)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (int)(tv.tv_usec / 1000) % 1000);
}

/*
 * One line, one write(2): ztpd's three processes share stderr (O_APPEND
 * when it is a log file), and a line written in pieces would interleave
 * with another process's.
 */
static void
emit(const char *level, const char *msg)
{
	struct line l;
	char ts[64];

	l.len = 0;
	stamp(ts, sizeof(ts));
	if (log_fmt == LOG_FORMAT_JSON) {
		puts_(&l, "{\"time\":\"");
		puts_(&l, ts);
		puts_(&l, "\",\"level\":\"");
		puts_(&l, level);
		puts_(&l, "\",\"prog\":");
		json_str(&l, log_prog);
		puts_(&l, ",\"msg\":");
		json_str(&l, msg);
		puts_(&l, "}");
	} else {
		puts_(&l, ts);
		puts_(&l, " ");
		puts_(&l, log_prog);
		puts_(&l, " ");
		puts_(&l, level);
		puts_(&l, ": ");
		puts_(&l, msg);
	}
	write_line(&l);
}

static void vlog(enum log_level lvl, const char *level, int with_errno, const char *fmt,
    va_list ap) __attribute__((format(printf, 4, 0)));

static void
vlog(enum log_level lvl, const char *level, int with_errno, const char *fmt, va_list ap)
{
	char msg[1024];
	int saved = errno;
	size_t n;

	if (lvl < log_min)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	emit(level, msg);
	errno = saved;
}

#define LOG_FN(name, lvl, label, err)              \
	void name(const char *fmt, ...)            \
	{                                          \
		va_list ap;                        \
		va_start(ap, fmt);                 \
		vlog(lvl, label, err, fmt, ap);    \
		va_end(ap);                        \
	}
LOG_FN(log_debug, LOG_LEVEL_DEBUG, "debug", 0)
LOG_FN(log_info, LOG_LEVEL_INFO, "info", 0)
LOG_FN(log_warn, LOG_LEVEL_WARN, "warn", 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, "warn", 0)

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, "fatal", 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_event(const char *kind, ...)
{
	struct line l;
	char ts[64], val[256];
	const char *k, *v;
	va_list ap;

	l.len = 0;
	stamp(ts, sizeof(ts));
	va_start(ap, kind);
	if (log_fmt == LOG_FORMAT_JSON) {
		puts_(&l, "{\"time\":\"");
		puts_(&l, ts);
		puts_(&l, "\",\"level\":\"event\",\"prog\":");
		json_str(&l, log_prog);
		puts_(&l, ",\"event\":");
		json_str(&l, kind);
		while ((k = va_arg(ap, const char *)) != NULL) {
			v = va_arg(ap, const char *);
			log_sanitize(v ? v : "", v ? strlen(v) : 0, val, 200);
			puts_(&l, ",");
			json_str(&l, k);
			puts_(&l, ":");
			json_str(&l, val);
		}
		puts_(&l, "}");
	} else {
		puts_(&l, ts);
		puts_(&l, " ");
		puts_(&l, log_prog);
		puts_(&l, " event: ");
		puts_(&l, kind);
		while ((k = va_arg(ap, const char *)) != NULL) {
			v = va_arg(ap, const char *);
			log_sanitize(v ? v : "", v ? strlen(v) : 0, val, 200);
			puts_(&l, " ");
			puts_(&l, k);
			puts_(&l, "=\"");
			puts_(&l, val);
			puts_(&l, "\"");
		}
	}
	va_end(ap);
	write_line(&l);
}
