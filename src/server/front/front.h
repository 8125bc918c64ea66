/* SPDX-License-Identifier: Apache-2.0 */
/* The front process (front.c). */
#ifndef ZTP_FRONT_H
#define ZTP_FRONT_H

struct config;
struct privsep_user;

#define FRONT_CTL_FD 3    /* the control socket to the parent */
#define FRONT_SIGNER_FD 4 /* the first socket to the signer */

/* ztpd --child front: serve until told to stop. Returns the exit status. */
int front_main(struct config *cfg, const struct privsep_user *u);

#endif
