/* SPDX-License-Identifier: Apache-2.0 */
/* ztpd migrate (migrate.c): a store copied into another by the parent, which then exits. */
#ifndef ZTP_MIGRATE_H
#define ZTP_MIGRATE_H

struct config;

/*
 * Copy cfg->migrate_from into cfg->migrate_to (cfg->migrate_resume: into
 * the target an interrupted copy began to fill), verify the row counts,
 * and return the exit status: 0 if every table was copied and counts as
 * many rows on both sides, else 1 (logged). The caller holds the data
 * directory's lock.
 */
int migrate_run(const struct config *cfg);

#endif
