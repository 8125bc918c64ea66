/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpd migrate --from URL --to URL [--resume]: the parent copies one store
 * into another (store_copy: every table, in batches, counts verified) and
 * exits; no child starts, nothing listens. Run with ztpd stopped: the
 * parent holds the data directory's lock meanwhile (a ztpd on it does not
 * start, and this does not run while one serves it), and the copy holds
 * the source's writing lock (a writer elsewhere waits).
 *
 * No key: opening a store only connects and brings its schema up to date,
 * and the copy moves sealed values as they are (they are bound to their
 * row and to the data directory's key, not to the database), so both
 * stores are opened with a zero key and the parent still never holds one.
 * The same --data then serves the target.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "crypto.h"
#include "log.h"
#include "migrate.h"
#include "store.h"
#include "ztp/err.h"

#define MIGRATE_PROGRESS_MS 5000 /* between the lines of a long table */

struct migrate_progress {
	int64_t last; /* monotonic ms of the last line */
};

/* A line per table, and one every MIGRATE_PROGRESS_MS within a long one; never a value. */
static int
migrate_progress(const struct store_copy_progress *p, void *arg)
{
	struct migrate_progress *m = arg;
	int64_t now = clock_mono_ms(), rate;

	if (!p->done && now - m->last < MIGRATE_PROGRESS_MS)
		return 0;
	m->last = now;
	rate = p->ms > 0 ? p->rows * 1000 / p->ms : p->rows;
	if (p->done)
		log_info("migrate: %s: %" PRId64 " rows copied (%" PRId64 " new) in %" PRId64
			 ".%01" PRId64 " s, %" PRId64 " rows/s",
		    p->table, p->rows, p->added, p->ms / 1000, p->ms % 1000 / 100, rate);
	else
		log_info("migrate: %s: %" PRId64 " of %" PRId64 " rows, %" PRId64 " rows/s",
		    p->table, p->rows, p->total, rate);
	return 0;
}

/*
 * 0 if the store url names may be the source: a SQLite file must exist
 * (store_open would create an empty one, and the copy would copy nothing).
 */
static int
migrate_source_exists(const char *url)
{
	const char *path = url;

	if (strncmp(url, "sqlite:", 7) == 0)
		path = url + 7;
	else if (strstr(url, "://") != NULL)
		return 0;
	if (access(path, F_OK) != 0) {
		log_warnx("migrate: the source %s does not exist", path);
		return ZTP_ENOENT;
	}
	return 0;
}

int
migrate_run(const struct config *cfg)
{
	static const uint8_t nokey[CRYPTO_KEY_LEN]; /* not used: see the top of the file */
	struct migrate_progress m = { .last = 0 };
	struct store *from = NULL, *to = NULL;
	int rc = ZTP_EINVAL;

	if (strcmp(cfg->migrate_from, cfg->migrate_to) == 0) {
		log_warnx("migrate: --from and --to name the same store");
		goto out;
	}
	if ((rc = migrate_source_exists(cfg->migrate_from)) != 0)
		goto out;
	if ((rc = store_open(&from, cfg->migrate_from, nokey)) != 0) {
		log_warnx("migrate: cannot open the source");
		goto out;
	}
	if ((rc = store_open(&to, cfg->migrate_to, nokey)) != 0) {
		log_warnx("migrate: cannot open the target");
		goto out;
	}
	log_info("migrate: copying the %s store into the %s store%s", store_driver_name(from),
	    store_driver_name(to), cfg->migrate_resume ? " (resume)" : "");
	if ((rc = store_copy(from, to, cfg->migrate_resume, 0, migrate_progress, &m)) != 0) {
		if (rc != ZTP_EEXIST)
			log_warnx("migrate: a copy that stopped midway continues with --resume");
		goto out;
	}
	log_info("migrate: done: every table has as many rows in the target as in the source");
out:
	store_close(to);
	store_close(from);
	if (rc != 0)
		log_warnx("migrate: failed (%s)", ztp_strerror(rc));
	return rc == 0 ? 0 : 1;
}
