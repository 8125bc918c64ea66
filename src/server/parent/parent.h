/* SPDX-License-Identifier: Apache-2.0 */
/* The parent process (parent.c). */
#ifndef ZTP_PARENT_H
#define ZTP_PARENT_H

struct config;

/* ztpd without --child: lock, start and supervise the children. Returns the exit status. */
int parent_main(struct config *cfg, int argc, char **argv);

#endif
