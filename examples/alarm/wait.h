/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Time and stopping for the alarm example: a monotonic clock, sleeps that
 * a SIGINT or SIGTERM cuts short, and the flag those signals set.
 */
#ifndef ALARM_WAIT_H
#define ALARM_WAIT_H
#include <stdint.h>

/* Milliseconds of a monotonic clock (CLOCK_MONOTONIC). */
int64_t wait_now_ms(void);

/*
 * Install handlers for SIGINT and SIGTERM that set the stop flag (without
 * SA_RESTART, so that a blocked poll() returns EINTR). Returns 0 or
 * ZTP_EINVAL.
 */
int wait_init(void);

/* 1 once SIGINT or SIGTERM was received, else 0. */
int wait_stopped(void);

/*
 * Sleep for secs seconds (fractions allowed, >= 0). Returns 0, or ZTP_EBUSY
 * if a stop was requested before or during the sleep.
 */
int wait_seconds(double secs);

#endif
