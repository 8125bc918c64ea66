/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signer process (signer.c): the only holder of the CA key. Its
 * client, in the front, is signer_client.h.
 */
#ifndef ZTP_SIGNER_H
#define ZTP_SIGNER_H
#include <stdint.h>

/*
 * The signer process itself (signer.c): load the CA of dir with datakey,
 * serve requests on sock until it closes, and _exit(). Never returns.
 */
void signer_child_main(int sock, const char *dir, uint8_t *datakey) __attribute__((noreturn));

/*
 * ztpd --child signer, exec'd by the parent (parent.c) with its control
 * socket as SIGNER_CTL_FD: create the CA in dir if there is none, load it
 * (ca.pass; an earlier data directory's key is given a ca.pass once),
 * become user u, install the system-call filter (sandbox.h), send READY,
 * then serve every front socket the parent passes (PASS_FD) until the
 * control socket closes. Never returns.
 */
struct privsep_user;
#define SIGNER_CTL_FD 3
#define SIGNER_CLIENTS_MAX 8
void signer_proc_main(const char *dir, const struct privsep_user *u) __attribute__((noreturn));
/*
 * For tests: how many times this process loaded a CA key through this
 * module; in the process that called signer_start() it is always 0, the
 * loading happens only in the child.
 */
int signer_key_loads(void);

#endif
