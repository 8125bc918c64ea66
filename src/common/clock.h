/* SPDX-License-Identifier: Apache-2.0 */
#ifndef ZTP_CLOCK_H
#define ZTP_CLOCK_H
#include <stddef.h>
#include <stdint.h>

/* Wall-clock time in milliseconds since the Unix epoch. */
int64_t clock_now_ms(void);

/* A monotonic clock in milliseconds, for time-outs and rates. */
int64_t clock_mono_ms(void);

/* Format ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" (cap >= 25). */
void clock_format(int64_t ms, char *out, size_t cap);

/*
 * Parse "YYYY-MM-DDTHH:MM:SS[.mmm]Z" or a number of Unix seconds.
 * Returns 0 or ZTP_EMALFORMED.
 */
int clock_parse(const char *s, int64_t *ms);

#endif
