/* SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"

#ifdef ZTP_FAULT_POINTS
void
fault_point(const char *name)
{
	const char *want = getenv("ZTP_FAULT");

	if (want != NULL && strcmp(want, name) == 0) {
		log_warnx("fault point %s: killing myself", name);
		raise(SIGKILL);
	}
}

int
fault_active(const char *name)
{
	const char *want = getenv("ZTP_FAULT");

	return want != NULL && strcmp(want, name) == 0;
}

void
fault_disarm(void)
{
	unsetenv("ZTP_FAULT");
}
#endif
