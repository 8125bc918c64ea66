/* SPDX-License-Identifier: Apache-2.0 */
#ifndef ZTP_CLOCK_H
#define ZTP_CLOCK_H
#include <stddef.h>
#include <stdint.h>

/* Wall-clock time in milliseconds since the Unix epoch. */
int64_t clock_now_ms(void);

/* A monotonic clock in milliseconds, for time-outs and rates. */
int64_t clock_mono_ms(void);
/* The same clock in microseconds, for latencies (the benchmarks). */
uint64_t clock_mono_us(void);

/* Format ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" (cap >= 25). */
void clock_format(int64_t ms, char *out, size_t cap);

#define CLOCK_ISO8601_MIN 0LL            /* 1970-01-01T00:00:00Z */
#define CLOCK_ISO8601_MAX 253402300799LL /* 9999-12-31T23:59:59Z */

/*
 * Unix seconds as ISO 8601 UTC, "YYYY-MM-DDTHH:MM:SSZ" (20 characters and
 * a NUL), the form of times in event details and logs: never a raw epoch.
 * secs outside [CLOCK_ISO8601_MIN, CLOCK_ISO8601_MAX], the range
 * clock_parse() reads, is written as the nearest end of it. Returns buf,
 * so that it can be a printf argument.
 */
const char *clock_iso8601(int64_t secs, char buf[static 21]);

/*
 * Parse "YYYY-MM-DDTHH:MM:SS[.mmm]Z" or a number of Unix seconds.
 * Returns 0 or ZTP_EMALFORMED.
 */
int clock_parse(const char *s, int64_t *ms);

#endif
