/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>

#include "events.h"
#include "log.h"
#include "server.h"
#include "store.h"

void
events_record(struct store *st, const char *kind, const char *iccid, const char *peer,
    const char *fmt, ...)
{
	char detail[STORE_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	log_event(kind, "iccid", iccid ? iccid : "", "peer", peer ? peer : "", "detail", detail,
	    (const char *)NULL);
	if (st != NULL && store_event_add(st, kind, iccid, peer, detail) != 0)
		log_warnx("could not store the %s event", kind);
}

/* placeholder until the queue lands: written at once */
void
events_note(struct worker *w, const char *kind, const char *iccid, const char *peer,
    const char *fmt, ...)
{
	char detail[STORE_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	events_record(w->store, kind, iccid, peer, "%s", detail);
}
