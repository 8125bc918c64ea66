/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parent: what `ztpd` is until it has children. Single-threaded, it
 * never reads from the network and never holds a key. It
 *
 *   1. creates the data directory if needed and takes an exclusive lock
 *      on DIR/ztpd.lock (a second ztpd on the same directory exits,
 *      naming the pid that holds it);
 *   2. started as root, gives the directory to the children's user: the
 *      directory root:USER mode 1770 (the front may add files, and replace
 *      only its own: the sticky bit keeps it from renaming or deleting
 *      root's ca.key, ca.pass, ca.pem, secret.key), and the files the
 *      front writes (the store, server.key/.pem, admin.json) to USER;
 *   3. starts the signer, then the front, each by fork + exec of this
 *      binary with --child (so neither inherits this process's memory or
 *      state: no thread exists here, and the child begins afresh), each
 *      with a control socket (fd 3); the front also gets its socket to
 *      the signer (fd 4), whose other end goes to the signer (PASS_FD);
 *   4. writes run.json once the front is READY (pid, children, addresses);
 *   5. supervises: a child that dies is logged and started again after a
 *      delay that doubles while it keeps dying within a minute of its
 *      start (0.2 s up to 30 s); a new signer gets a new socket to the
 *      running front, which the front receives as PASS_FD. SIGTERM and
 *      SIGINT: the front drains and exits, then the signer is told (its
 *      control socket closes), run.json is removed. SIGHUP: the
 *      configuration is read again; if it is valid, a new front starts
 *      with it (and the certificates of the data directory), on the same
 *      addresses, and the old one drains once the new one is READY.
 *
 * The one-off commands run after step 1 and exit, with no child:
 * --import-ca (cakey.c) and migrate (migrate.c, which connects to the
 * stores it copies, PostgreSQL's over the network, still with no key).
 * export-node and join (node.c) run before it: the one reads a data
 * directory that may be in use, the other makes a new one.
 */
#define _GNU_SOURCE /* signalfd, close_range */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "atomicfile.h"
#include "cakey.h"
#include "clock.h"
#include "config.h"
#include "fault.h"
#include "front.h"
#include "ipc.h"
#include "log.h"
#include "migrate.h"
#include "node.h"
#include "parent.h"
#include "privsep.h"
#include "signer.h"
#include "ztp/err.h"

#define READY_TIMEOUT_MS 30000
#define DRAIN_EXTRA_MS 5000 /* after the front's own drain time */
#define RESTART_MIN_MS 200
#define RESTART_MAX_MS 30000
#define STABLE_MS 60000 /* a child that lived this long starts again at once */
#define ARGS_MAX 256

enum child_kind { CHILD_SIGNER, CHILD_FRONT };

struct child {
	const char *name;
	pid_t pid;           /* 0: not running */
	int ctl;             /* control socket, -1 if none */
	int64_t started;     /* monotonic ms */
	int64_t restart_at;  /* monotonic ms; 0: no restart pending */
	int delay;           /* ms before the next restart */
	struct signer_ready addrs;
};

struct parent {
	struct config cfg;
	struct privsep_user user;
	char dir[PATH_MAX];
	char exe[PATH_MAX];
	int argc;
	char **argv;
	int lockfd;
	int sigfd;
	int stopping;
	struct child signer, front;
	pid_t old_front; /* a front draining after SIGHUP */
};

/* ---- the data directory */

/*
 * Lock DIR/ztpd.lock for this process (a POSIX record lock: released when
 * the process ends, however it ends) and write our pid in it. Returns 0,
 * or ZTP_EBUSY after telling who holds it.
 */
static int
take_lock(struct parent *p)
{
	struct flock fl;
	char path[PATH_MAX + 16], pid[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/ztpd.lock", p->dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
		log_warn("%s", path);
		return ZTP_EIO;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
			fprintf(stderr,
			    "ztpd: the data directory %s is in use by another ztpd (pid %d);"
			    " stop it first, or give another --data\n",
			    p->dir, (int)fl.l_pid);
		else
			fprintf(stderr, "ztpd: cannot lock %s: %s\n", path, strerror(errno));
		log_warnx("the data directory %s is in use by ztpd pid %d", p->dir,
		    (int)fl.l_pid);
		close(fd);
		return ZTP_EBUSY;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_warn("%s", path);
	p->lockfd = fd;
	return 0;
}

/* chown dir/name to uid:gid if it exists. */
static void
give(const struct parent *p, const char *name, uid_t uid, gid_t gid)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", p->dir, name);
	if (lchown(path, uid, gid) != 0 && errno != ENOENT)
		log_warn("chown %s", path);
}

/* Started as root with another user for the children: see the top of the file. */
static int
set_ownership(const struct parent *p)
{
	static const char *const front_files[] = { "ztp.db", "ztp.db-wal", "ztp.db-shm",
		"ztp.db-journal", "server.key", "server.pem", "admin.json", NULL };
	static const char *const root_files[] = { "secret.key", "ca.pass", "ca.key", "ca.pem",
		NULL };
	const char *const *n;

	if (!p->user.drop)
		return 0;
	if (chown(p->dir, 0, p->user.gid) != 0 || chmod(p->dir, 01770) != 0) {
		log_warn("%s", p->dir);
		return ZTP_EIO;
	}
	for (n = front_files; *n != NULL; n++)
		give(p, *n, p->user.uid, p->user.gid);
	for (n = root_files; *n != NULL; n++)
		give(p, *n, 0, 0);
	return 0;
}

static int
open_datadir(struct parent *p)
{
	if (mkdir(p->cfg.data, 0700) != 0 && errno != EEXIST) {
		log_warn("mkdir %s", p->cfg.data);
		return ZTP_EIO;
	}
	if (realpath(p->cfg.data, p->dir) == NULL) {
		log_warn("%s", p->cfg.data);
		return ZTP_EIO;
	}
	return 0;
}

/* ---- run.json */

static void
write_run(const struct parent *p)
{
	char path[PATH_MAX + 16], err[PATH_MAX + 64], *text;
	json_t *obj;

	obj = json_pack("{s:i, s:i, s:i, s:s, s:s, s:s, s:s}", "pid", (int)getpid(), "front_pid",
	    (int)p->front.pid, "signer_pid", (int)p->signer.pid, "user", p->user.name, "device",
	    p->front.addrs.device, "admin", p->front.addrs.admin, "est", p->front.addrs.est);
	if (obj == NULL || (text = json_dumps(obj, JSON_INDENT(2))) == NULL) {
		json_decref(obj);
		return;
	}
	snprintf(path, sizeof(path), "%s/run.json", p->dir);
	if (atomicfile_write(path, text, strlen(text), 0644, err, sizeof(err)) != 0)
		log_warnx("%s", err);
	free(text);
	json_decref(obj);
}

/* ---- children */

/*
 * fork + exec this binary as --child kind, with ctl as fd 3 and extra (if
 * >= 0) as fd 4; every other descriptor but 0-2 is closed in the child.
 * overrides: extra arguments after the parent's own (later options win).
 */
static pid_t
spawn(struct parent *p, const char *kind, int ctl, int extra, char *const *overrides)
{
	char *args[ARGS_MAX], title[32];
	int i, n = 0;
	pid_t pid;

	for (i = 0; overrides != NULL && overrides[i] != NULL; i++)
		;
	if (p->argc + i + 3 > ARGS_MAX) {
		log_warnx("more than %d arguments: cannot start the %s", ARGS_MAX - 3 - i, kind);
		return -1;
	}
	snprintf(title, sizeof(title), "ztpd: %s", kind);
	args[n++] = title;
	for (i = 1; i < p->argc; i++)
		args[n++] = p->argv[i];
	for (i = 0; overrides != NULL && overrides[i] != NULL; i++)
		args[n++] = overrides[i];
	args[n++] = "--child";
	args[n++] = (char *)kind;
	args[n] = NULL;
	if ((pid = fork()) < 0) {
		log_warn("fork");
		return -1;
	}
	if (pid > 0)
		return pid;
	/* the child: descriptors 3 (and 4), then a clean exec */
	if (dup2(ctl, 3) != 3 || (extra >= 0 && dup2(extra, 4) != 4))
		_exit(127);
	fcntl(3, F_SETFD, 0);
	if (extra >= 0)
		fcntl(4, F_SETFD, 0);
	close_range(extra >= 0 ? 5 : 4, ~0U, 0);
	execv(p->exe, args);
	_exit(127);
}

/*
 * Wait for the child's READY on its control socket (the front's carries
 * its addresses). Returns 0, or ZTP_EIO if it ended or did not answer.
 */
static int
wait_ready(struct child *c)
{
	uint8_t buf[IPC_CTL_MAX];
	int64_t deadline = clock_mono_ms() + READY_TIMEOUT_MS, left;
	struct signer_msg m;
	struct pollfd pf;
	int fd, rc;

	for (;;) {
		if ((left = deadline - clock_mono_ms()) <= 0) {
			log_warnx("%s %d: not ready within %d s", c->name, (int)c->pid,
			    READY_TIMEOUT_MS / 1000);
			return ZTP_EIO;
		}
		pf = (struct pollfd){ c->ctl, POLLIN, 0 };
		if (poll(&pf, 1, (int)left) <= 0)
			continue;
		rc = ipc_recv(c->ctl, buf, sizeof(buf), &m, &fd);
		if (rc == 0 && m.type == SIGNER_MSG_READY) {
			c->addrs = m.u.ready;
			return 0;
		}
		if (fd >= 0)
			close(fd);
		if (rc == ZTP_ENOENT || rc == ZTP_EIO) {
			log_warnx("%s %d: ended before it was ready (see above)", c->name,
			    (int)c->pid);
			return ZTP_EIO;
		}
		log_warnx("%s %d: unexpected message (%s)", c->name, (int)c->pid,
		    rc != 0 ? ztp_strerror(rc) : "type");
	}
}

/* A new socket pair between the front and the signer: one end passed to the signer. */
static int
signer_pair(struct parent *p, int *front_end)
{
	struct signer_msg m = { .type = SIGNER_MSG_PASS_FD };
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		log_warn("socketpair");
		return ZTP_EIO;
	}
	if (ipc_send(p->signer.ctl, &m, sv[1]) != 0) {
		log_warnx("cannot pass a socket to the signer");
		close(sv[0]);
		close(sv[1]);
		return ZTP_EIO;
	}
	close(sv[1]);
	*front_end = sv[0];
	return 0;
}

static void
child_gone(struct child *c)
{
	if (c->ctl >= 0)
		close(c->ctl);
	c->ctl = -1;
	c->pid = 0;
}

/* Start c's process and wait until it is ready. 0 or ZTP_EIO. */
static int
start_child(struct parent *p, struct child *c, int extra, char *const *overrides)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		log_warn("socketpair");
		return ZTP_EIO;
	}
	c->started = clock_mono_ms();
	c->restart_at = 0;
	c->pid = spawn(p, c->name, sv[1], extra, overrides);
	close(sv[1]);
	if (c->pid < 0) {
		c->pid = 0;
		close(sv[0]);
		return ZTP_EIO;
	}
	c->ctl = sv[0];
	if (wait_ready(c) != 0) {
		kill(c->pid, SIGKILL); /* reaped with the others by SIGCHLD */
		child_gone(c);
		return ZTP_EIO;
	}
	return 0;
}

/*
 * For a new front: the addresses the running one bound, where the
 * configuration asks for port 0 and has not changed, so that a reload
 * keeps the ports clients know. out gets "--device-listen ADDR"... pairs.
 */
static void
keep_ports(const struct parent *p, const struct config *old, char **out, size_t cap,
    char bufs[3][SIGNER_ADDR_MAX + 1])
{
	const char *conf[3] = { p->cfg.device_listen, p->cfg.admin_listen, p->cfg.est_listen };
	const char *was[3] = { old->device_listen, old->admin_listen, old->est_listen };
	const char *bound[3] = { p->front.addrs.device, p->front.addrs.admin,
		p->front.addrs.est };
	static const char *const opt[3] = { "--device-listen", "--admin-listen", "--est-listen" };
	size_t n = 0, len;
	int i;

	for (i = 0; i < 3 && n + 2 < cap; i++) {
		len = strlen(conf[i]);
		if (bound[i][0] == '\0' || strcmp(conf[i], was[i]) != 0 || len < 2 ||
		    strcmp(conf[i] + len - 2, ":0") != 0)
			continue;
		snprintf(bufs[i], SIGNER_ADDR_MAX + 1, "%s", bound[i]);
		out[n++] = (char *)opt[i];
		out[n++] = bufs[i];
	}
	out[n] = NULL;
}

static int
start_front(struct parent *p, const struct config *old)
{
	char *over[8], bufs[3][SIGNER_ADDR_MAX + 1];
	int fd, rc;

	/* a new front (after a crash or a reload) listens where the last one did */
	keep_ports(p, old != NULL ? old : &p->cfg, over, sizeof(over) / sizeof(over[0]), bufs);
	if (p->signer.pid == 0 || signer_pair(p, &fd) != 0)
		return ZTP_EIO;
	rc = start_child(p, &p->front, fd, over);
	close(fd);
	if (rc == 0) {
		log_info("front %d: ready, as user %s", (int)p->front.pid, p->user.name);
		write_run(p);
	}
	return rc;
}

static int
start_signer(struct parent *p)
{
	struct signer_msg m = { .type = SIGNER_MSG_PASS_FD };
	int fd;

	if (start_child(p, &p->signer, -1, NULL) != 0)
		return ZTP_EIO;
	log_info("signer %d: ready", (int)p->signer.pid);
	/* a running front gets a socket to the new signer */
	if (p->front.pid > 0) {
		if (signer_pair(p, &fd) != 0)
			return ZTP_EIO;
		if (ipc_send(p->front.ctl, &m, fd) != 0)
			log_warnx("cannot pass the new signer's socket to the front");
		close(fd);
		write_run(p); /* only once a front is ready: then the addresses are known */
	}
	return 0;
}

static void
describe(int status, char *out, size_t cap)
{
	if (WIFEXITED(status))
		snprintf(out, cap, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, cap, "was killed by signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		snprintf(out, cap, "ended");
}

/* Schedule c's restart: soon if it ran a while, later and later if it keeps dying. */
static void
schedule_restart(struct child *c)
{
	int64_t now = clock_mono_ms();

	if (now - c->started >= STABLE_MS || c->delay == 0)
		c->delay = RESTART_MIN_MS;
	else if ((c->delay *= 2) > RESTART_MAX_MS)
		c->delay = RESTART_MAX_MS;
	c->restart_at = now + c->delay;
	log_warnx("%s: starting a new one in %d ms", c->name, c->delay);
}

/* Reap every ended child. */
static void
reap(struct parent *p)
{
	char how[96];
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		describe(status, how, sizeof(how));
		/* a fault point fires once: what starts next runs without it */
		fault_disarm();
		if (pid == p->old_front) {
			log_info("the previous front %d %s", (int)pid, how);
			p->old_front = 0;
			continue;
		}
		if (pid == p->signer.pid) {
			if (p->stopping)
				log_info("signer %d %s", (int)pid, how);
			else
				log_warnx("signer %d %s", (int)pid, how);
			child_gone(&p->signer);
			if (!p->stopping)
				schedule_restart(&p->signer);
		} else if (pid == p->front.pid) {
			if (p->stopping)
				log_info("front %d %s", (int)pid, how);
			else
				log_warnx("front %d %s", (int)pid, how);
			child_gone(&p->front);
			if (!p->stopping)
				schedule_restart(&p->front);
		}
	}
}

/* SIGHUP: read the configuration again; if valid, a new front takes over. */
static void
reload(struct parent *p)
{
	struct config fresh, old = p->cfg;
	struct child previous = p->front;

	config_defaults(&fresh);
	optind = 1;
	if (config_parse_args(&fresh, p->argc, p->argv) != 0) {
		log_warnx("SIGHUP: the configuration is not valid; keeping the running one");
		return;
	}
	if (strcmp(fresh.data, old.data) != 0 || strcmp(fresh.user, old.user) != 0)
		log_warnx("SIGHUP: --data and --user change only at a restart of ztpd");
	snprintf(fresh.data, sizeof(fresh.data), "%s", old.data);
	snprintf(fresh.user, sizeof(fresh.user), "%s", old.user);
	p->cfg = fresh;
	log_set_level(p->cfg.log_level);
	if (previous.pid == 0) {
		log_info("SIGHUP: configuration read again; no front running");
		return;
	}
	p->front.ctl = -1;
	p->front.pid = 0;
	if (start_front(p, &old) != 0) {
		log_warnx("SIGHUP: the new front did not start; keeping the running one");
		p->front = previous;
		return;
	}
	/* the old front drains; its control socket closes with it */
	p->old_front = previous.pid;
	kill(previous.pid, SIGTERM);
	close(previous.ctl);
	log_info("SIGHUP: front %d took over from %d", (int)p->front.pid, (int)previous.pid);
}

/* Messages a running child sends (none expected): read them, notice an end. */
static void
drain_ctl(struct child *c)
{
	uint8_t buf[IPC_CTL_MAX];
	struct signer_msg m;
	int fd, rc;

	rc = ipc_recv(c->ctl, buf, sizeof(buf), &m, &fd);
	if (fd >= 0)
		close(fd);
	if (rc == ZTP_ENOENT || rc == ZTP_EIO) {
		close(c->ctl); /* the process is ending: SIGCHLD follows */
		c->ctl = -1;
	} else if (rc != ZTP_EBUSY) {
		log_warnx("%s %d: unexpected message (%s)", c->name, (int)c->pid,
		    rc != 0 ? ztp_strerror(rc) : "type");
	}
}

static int
next_timeout(const struct parent *p)
{
	int64_t now = clock_mono_ms(), t = -1;
	const struct child *cs[2] = { &p->signer, &p->front };
	int i;

	for (i = 0; i < 2; i++)
		if (cs[i]->pid == 0 && cs[i]->restart_at != 0 &&
		    (t < 0 || cs[i]->restart_at - now < t))
			t = cs[i]->restart_at - now < 0 ? 0 : cs[i]->restart_at - now;
	if (p->stopping)
		t = 200; /* look at the children's state while they end */
	return t > INT_MAX ? INT_MAX : (int)t;
}

/* Restarts that are due. The front needs a signer; the signer comes first. */
static void
restart_due(struct parent *p)
{
	int64_t now = clock_mono_ms();

	if (p->signer.pid == 0 && p->signer.restart_at != 0 && now >= p->signer.restart_at &&
	    start_signer(p) != 0)
		schedule_restart(&p->signer);
	if (p->front.pid == 0 && p->front.restart_at != 0 && now >= p->front.restart_at) {
		if (p->signer.pid == 0)
			p->front.restart_at = now + RESTART_MIN_MS; /* after the signer */
		else if (start_front(p, NULL) != 0)
			schedule_restart(&p->front);
	}
}

/* Stop: the front drains, then the signer's control socket closes. */
static void
supervise(struct parent *p)
{
	struct signalfd_siginfo si;
	struct pollfd pf[3];
	int64_t deadline = 0;
	int n;

	for (;;) {
		if (p->stopping) {
			if (p->front.pid == 0 && p->old_front == 0 && p->signer.ctl >= 0) {
				close(p->signer.ctl); /* the signer ends at end of file */
				p->signer.ctl = -1;
			}
			if (p->front.pid == 0 && p->old_front == 0 && p->signer.pid == 0)
				return;
			if (clock_mono_ms() > deadline) {
				log_warnx("children still running: killing them");
				if (p->front.pid > 0)
					kill(p->front.pid, SIGKILL);
				if (p->old_front > 0)
					kill(p->old_front, SIGKILL);
				if (p->signer.pid > 0)
					kill(p->signer.pid, SIGKILL);
				deadline = INT64_MAX;
			}
		}
		n = 0;
		pf[n++] = (struct pollfd){ p->sigfd, POLLIN, 0 };
		pf[n++] = (struct pollfd){ p->signer.ctl, POLLIN, 0 };
		pf[n++] = (struct pollfd){ p->front.ctl, POLLIN, 0 };
		if (poll(pf, (nfds_t)n, next_timeout(p)) < 0 && errno != EINTR) {
			log_warn("poll");
			return;
		}
		if (pf[1].revents != 0 && p->signer.ctl >= 0)
			drain_ctl(&p->signer);
		if (pf[2].revents != 0 && p->front.ctl >= 0)
			drain_ctl(&p->front);
		if (pf[0].revents != 0 && read(p->sigfd, &si, sizeof(si)) == sizeof(si)) {
			switch (si.ssi_signo) {
			case SIGCHLD:
				reap(p);
				break;
			case SIGHUP:
				if (!p->stopping)
					reload(p);
				break;
			default:
				if (p->stopping)
					break;
				log_info("signal %u: stopping", si.ssi_signo);
				p->stopping = 1;
				deadline = clock_mono_ms() + (int64_t)p->cfg.request_timeout * 1000 +
				    DRAIN_EXTRA_MS;
				if (p->front.pid > 0)
					kill(p->front.pid, SIGTERM);
				if (p->old_front > 0)
					kill(p->old_front, SIGTERM);
			}
		}
		reap(p); /* a SIGCHLD may have merged with another signal */
		if (!p->stopping)
			restart_due(p);
	}
}

int
parent_main(struct config *cfg, int argc, char **argv)
{
	struct parent p;
	sigset_t set;
	ssize_t n;
	int rc = 1;

	/* the node bundle's commands: nothing is started, no lock is taken */
	if (cfg->command == CONFIG_CMD_EXPORT_NODE)
		return node_export(cfg);
	if (cfg->command == CONFIG_CMD_JOIN)
		return node_join(cfg);

	memset(&p, 0, sizeof(p));
	p.cfg = *cfg;
	p.argc = argc;
	p.argv = argv;
	p.lockfd = p.sigfd = -1;
	p.signer = (struct child){ .name = "signer", .ctl = -1 };
	p.front = (struct child){ .name = "front", .ctl = -1 };
	umask(077);

	if ((n = readlink("/proc/self/exe", p.exe, sizeof(p.exe) - 1)) <= 0) {
		log_warn("/proc/self/exe");
		return 1;
	}
	p.exe[n] = '\0';
	if (privsep_lookup(p.cfg.user, &p.user) != 0)
		return 2;
	if (cfg->migrate && access(cfg->data, F_OK) != 0) {
		fprintf(stderr, "ztpd: migrate: the data directory %s does not exist (--data DIR:"
				" the one of the ztpd that uses these stores)\n", cfg->data);
		return 1;
	}
	if (open_datadir(&p) != 0)
		return 1;
	if (take_lock(&p) != 0)
		return 1;
	if (cfg->migrate) {
		/* the copy, in this process; a SQLite target in DIR goes to the children's user */
		rc = migrate_run(cfg);
		if (rc == 0)
			set_ownership(&p);
		goto out;
	}
	if (cfg->import_ca_cert[0] != '\0') {
		rc = cakey_import(p.dir, cfg->import_ca_cert, cfg->import_ca_key) == 0 ? 0 : 1;
		if (rc == 0)
			set_ownership(&p);
		goto out;
	}
	if (set_ownership(&p) != 0)
		goto out;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((p.sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		log_warn("signalfd");
		goto out;
	}
	if (start_signer(&p) != 0) {
		log_warnx("the signer did not start: cannot run without the CA");
		goto stop;
	}
	if (start_front(&p, NULL) != 0) {
		log_warnx("the front did not start");
		goto stop;
	}
	supervise(&p);
	rc = 0;
	goto done;
stop:
	p.stopping = 1;
	if (p.front.pid > 0)
		kill(p.front.pid, SIGKILL);
	if (p.signer.pid > 0)
		kill(p.signer.pid, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
done:
	{
		char path[PATH_MAX + 16];
		snprintf(path, sizeof(path), "%s/run.json", p.dir);
		unlink(path);
	}
	log_info("stopped");
out:
	if (p.sigfd >= 0)
		close(p.sigfd);
	if (p.lockfd >= 0)
		close(p.lockfd);
	return rc;
}
