/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signer's system-call filter (libseccomp). Once installed, the
 * signer can only receive and answer messages on the sockets it already
 * has, manage its memory, read the clock and random bytes, write its log
 * and exit: any other call (open a file, create a socket, exec, ptrace,
 * ...) kills the process with SIGSYS, and the parent starts a new signer.
 * Everything that may open a file (the CA key, OpenSSL's lazy
 * initialisation, the time zone of the log) happens before.
 */
#ifndef ZTP_SANDBOX_H
#define ZTP_SANDBOX_H

/* Install the filter (and no_new_privs). Returns 0 or ZTP_EIO (logged). */
int sandbox_signer(void);

/* 1 if this build can filter system calls (libseccomp on Linux). */
int sandbox_available(void);

#endif
