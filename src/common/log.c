/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* JSON string escaping of an already sanitized (printable) message. */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
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

static void
emit(const char *level, const char *msg)
{
	char ts[64];

	stamp(ts, sizeof(ts));
	pthread_mutex_lock(&log_mu);
	if (log_fmt == LOG_FORMAT_JSON) {
		fprintf(stderr, "{\"time\":\"%s\",\"level\":\"%s\",\"prog\":", ts, level);
		json_str(stderr, log_prog);
		fputs(",\"msg\":", stderr);
		json_str(stderr, msg);
		fputs("}\n", stderr);
	} else {
		fprintf(stderr, "%s %s %s: %s\n", ts, log_prog, level, msg);
	}
	fflush(stderr);
	pthread_mutex_unlock(&log_mu);
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
	char ts[64], val[256];
	const char *k, *v;
	va_list ap;

	stamp(ts, sizeof(ts));
	pthread_mutex_lock(&log_mu);
	va_start(ap, kind);
	if (log_fmt == LOG_FORMAT_JSON) {
		fprintf(stderr, "{\"time\":\"%s\",\"level\":\"event\",\"prog\":", ts);
		json_str(stderr, log_prog);
		fputs(",\"event\":", stderr);
		json_str(stderr, kind);
		while ((k = va_arg(ap, const char *)) != NULL) {
			v = va_arg(ap, const char *);
			log_sanitize(v ? v : "", v ? strlen(v) : 0, val, 200);
			fputc(',', stderr);
			json_str(stderr, k);
			fputc(':', stderr);
			json_str(stderr, val);
		}
		fputs("}\n", stderr);
	} else {
		fprintf(stderr, "%s %s event: %s", ts, log_prog, kind);
		while ((k = va_arg(ap, const char *)) != NULL) {
			v = va_arg(ap, const char *);
			log_sanitize(v ? v : "", v ? strlen(v) : 0, val, 200);
			fprintf(stderr, " %s=\"%s\"", k, val);
		}
		fputc('\n', stderr);
	}
	va_end(ap);
	fflush(stderr);
	pthread_mutex_unlock(&log_mu);
}
