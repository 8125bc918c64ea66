/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* setresuid, setresgid */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"

#include "sanitizer.h"
#include "privsep.h"
#include "ztp/err.h"

int
privsep_lookup(const char *name, struct privsep_user *out)
{
	struct passwd *pw;

	memset(out, 0, sizeof(*out));
	if (geteuid() != 0) {
		out->uid = geteuid();
		out->gid = getegid();
		snprintf(out->name, sizeof(out->name), "%u", (unsigned)out->uid);
		return 0;
	}
	if (strlen(name) >= sizeof(out->name)) {
		log_warnx("--user %.64s...: name too long", name);
		return ZTP_EINVAL;
	}
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		log_warnx("user %s does not exist: create it (scripts/install-deps.sh does) or choose"
			  " another with --user (--user root keeps root, not recommended)", name);
		return ZTP_ENOENT;
	}
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	out->drop = pw->pw_uid != 0;
	return 0;
}

int
privsep_drop(const struct privsep_user *u)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (u->drop) {
		if (setgroups(1, &u->gid) != 0 || setresgid(u->gid, u->gid, u->gid) != 0 ||
		    setresuid(u->uid, u->uid, u->uid) != 0) {
			log_warn("cannot become user %s", u->name);
			return ZTP_EIO;
		}
		if (getresuid(&r, &e, &s) != 0 || getresgid(&rg, &eg, &sg) != 0 || r != u->uid ||
		    e != u->uid || s != u->uid || rg != u->gid || eg != u->gid || sg != u->gid ||
		    setuid(0) == 0) {
			log_warnx("the identity of user %s did not hold", u->name);
			return ZTP_EIO;
		}
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		log_warn("PR_SET_DUMPABLE");
		return ZTP_EIO;
	}
	return 0;
}

void
privsep_before_exit(void)
{
#ifdef ZTP_ASAN
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
}
