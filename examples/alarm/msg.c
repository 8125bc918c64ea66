/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"

int msg_verbose;
const char *msg_prog = "alarm";

void
msg_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void
msg_debug(const char *fmt, ...)
{
	va_list ap;

	if (!msg_verbose)
		return;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void verr(int with_errno, const char *fmt, va_list ap) MSG_PRINTF(2, 0);

static void
verr(int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;

	fflush(stdout);
	fprintf(stderr, "%s: ", msg_prog);
	vfprintf(stderr, fmt, ap);
	if (with_errno)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
	fflush(stderr);
	errno = saved;
}

void
msg_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(0, fmt, ap);
	va_end(ap);
}

void
msg_errno(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(1, fmt, ap);
	va_end(ap);
}

void
msg_sanitize(const void *s, size_t len, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = s;
	size_t o = 0, i;

	if (cap == 0)
		return;
	for (i = 0; i < len; i++) {
		char tmp[4];
		size_t n;

		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			tmp[0] = (char)p[i];
			n = 1;
		} else {
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = digits[p[i] >> 4];
			tmp[3] = digits[p[i] & 0x0f];
			n = 4;
		}
		/* keep room for "..." and the NUL */
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

void
msg_traffic(char dir, const char *line, size_t len)
{
	char buf[2048];

	if (!msg_verbose)
		return;
	msg_sanitize(line, len, buf, sizeof(buf));
	fprintf(stdout, "%c %s\n", dir, buf);
	fflush(stdout);
}
