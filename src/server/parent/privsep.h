/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privileges of ztpd's children. Started as root, the front and the
 * signer do what needs root first (bind, read the CA key) and then become
 * the unprivileged user of --user (default ztp). Started as another user,
 * everything runs as that user and nothing changes identity.
 */
#ifndef ZTP_PRIVSEP_H
#define ZTP_PRIVSEP_H
#include <sys/types.h>

struct privsep_user {
	char name[64];
	uid_t uid;
	gid_t gid;
	int drop; /* 1: started as root, become uid/gid */
};

/*
 * Look up the user children run as. Not root: drop = 0 and the invoking
 * user's ids. Root: name must exist (ZTP_ENOENT, logged, otherwise); the
 * name "root" keeps root (drop = 0), the explicit choice of --user root.
 */
int privsep_lookup(const char *name, struct privsep_user *out);

/*
 * Become u (supplementary groups, group, user; all three ids so that root
 * cannot be regained), checked afterwards, and make the process
 * non-dumpable either way (no core file, no ptrace or /proc/PID/mem by the
 * same user). Returns 0 or ZTP_EIO (logged): the caller must then exit.
 */
int privsep_drop(const struct privsep_user *u);

/*
 * Before a dropped process returns from main(): in sanitizer builds, make
 * it dumpable again so that LeakSanitizer (which inspects the process from
 * a helper task with ptrace) can run. Nothing in other builds.
 */
void privsep_before_exit(void);

#endif
