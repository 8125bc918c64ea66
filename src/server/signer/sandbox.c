/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>

#include <seccomp.h>

#include "log.h"
#include "sandbox.h"
#include "ztp/err.h"

#include "sanitizer.h"

/*
 * What serving needs: the sockets it holds (a PASS_FD brings a new one by
 * recvmsg), poll, memory, time, randomness for serials and signatures, the
 * log on stderr, signals' return path, and exit. fstat: stdio's first
 * write to stderr. sysinfo: glibc's qsort asks how much memory there is
 * before sorting a large array (a CRL's entries).
 */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(close),
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(mprotect), SCMP_SYS(futex), SCMP_SYS(getrandom), SCMP_SYS(sysinfo),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getpid),
	SCMP_SYS(gettid), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(exit),
	SCMP_SYS(exit_group),
#ifdef ZTP_ASAN
	/* the sanitizers' run-time: its allocator, reports and stack checks */
	SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigaction), SCMP_SYS(sched_yield),
	SCMP_SYS(prctl), SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(tgkill), SCMP_SYS(getppid),
	SCMP_SYS(sched_getaffinity),
#endif
};

int
sandbox_available(void)
{
	return 1;
}

int
sandbox_signer(void)
{
	scmp_filter_ctx ctx;
	size_t i;
	int rc;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		log_warnx("seccomp_init failed");
		return ZTP_EIO;
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0)) != 0 &&
		    rc != -EDOM) /* a call this architecture does not have */
			goto fail;
	if ((rc = seccomp_load(ctx)) != 0)
		goto fail;
	seccomp_release(ctx);
	return 0;
fail:
	log_warnx("cannot install the system-call filter: %s", strerror(-rc));
	seccomp_release(ctx);
	return ZTP_EIO;
}
