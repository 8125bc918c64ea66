/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "num.h"
#include "ztp/err.h"

int64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
clock_format(int64_t ms, char *out, size_t cap)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (int)(ms % 1000));
}

const char *
clock_iso8601(int64_t secs, char buf[static 21])
{
	time_t t;
	struct tm tm;

	if (secs < CLOCK_ISO8601_MIN)
		secs = CLOCK_ISO8601_MIN;
	if (secs > CLOCK_ISO8601_MAX)
		secs = CLOCK_ISO8601_MAX;
	t = (time_t)secs;
	gmtime_r(&t, &tm);
	snprintf(buf, 21, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return buf;
}

static int
field(const char *s, size_t len, int min, int max, int *out)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return ZTP_EMALFORMED;
	v = 0;
	for (i = 0; i < len; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if ((int)v < min || (int)v > max)
		return ZTP_EMALFORMED;
	*out = (int)v;
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

int
clock_parse(const char *s, int64_t *ms)
{
	struct tm tm;
	uint64_t secs;
	int y, mo, d, h, mi, se, frac = 0;
	size_t len;
	time_t t;

	if (s == NULL)
		return ZTP_EMALFORMED;
	len = strlen(s);
	if (num_parse_u64(s, len, 0, 253402300799ULL, &secs) == 0) {
		*ms = (int64_t)secs * 1000;
		return 0;
	}
	if ((len != 20 && len != 24) || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[len - 1] != 'Z')
		return ZTP_EMALFORMED;
	if (field(s, 4, 1970, 9999, &y) || field(s + 5, 2, 1, 12, &mo) ||
	    field(s + 8, 2, 1, 31, &d) || field(s + 11, 2, 0, 23, &h) ||
	    field(s + 14, 2, 0, 59, &mi) || field(s + 17, 2, 0, 60, &se))
		return ZTP_EMALFORMED;
	if (d > days_in_month(y, mo))
		return ZTP_EMALFORMED;
	if (len == 24 && (s[19] != '.' || field(s + 20, 3, 0, 999, &frac)))
		return ZTP_EMALFORMED;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	*ms = (int64_t)t * 1000 + frac;
	return 0;
}
