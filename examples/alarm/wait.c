/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "wait.h"
#include "ztp/err.h"

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int64_t
wait_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
wait_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: poll() and nanosleep() return EINTR */
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
		return ZTP_EINVAL;
	return 0;
}

int
wait_stopped(void)
{
	return stop_flag != 0;
}

int
wait_seconds(double secs)
{
	struct timespec req, rem;

	/* the option parser bounds secs; this only guards against NaN and < 0 */
	if (!(secs >= 0))
		secs = 0;
	req.tv_sec = (time_t)secs;
	req.tv_nsec = (long)((secs - (double)req.tv_sec) * 1e9);
	if (req.tv_nsec < 0)
		req.tv_nsec = 0;
	if (req.tv_nsec >= 1000000000L)
		req.tv_nsec = 999999999L;
	for (;;) {
		if (stop_flag)
			return ZTP_EBUSY;
		if (nanosleep(&req, &rem) == 0)
			return stop_flag ? ZTP_EBUSY : 0;
		if (errno != EINTR)
			return 0; /* cannot happen with a valid timespec */
		req = rem;
	}
}
