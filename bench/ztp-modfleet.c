/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-modfleet: many simulated cellular modules in one process, for the
 * module security service (docs/protocol/security-service.md) at scale.
 * Each module is a root of trust (ztp/rot.h) in memory, driven by the real
 * module client (ztp/modclient.h: TLS 1.3 external PSK over loopback or
 * any network, the same bytes as ztp-sim --module) against ztpd's device
 * listener; T threads share the modules.
 *
 *   ztp-modfleet --make-batch N --out FILE
 *   ztp-modfleet --server HOST:PORT --batch FILE [options] [COMMAND...]
 *
 * --make-batch writes N new modules (random RoT UIDs and factory secrets)
 * as a module maker's batch file, the one ztpctl module import reads. The
 * other form reads the modules from such a file (the same parser as
 * ztpctl: src/cli/modcsv.c), seals them if asked (--seal), then runs the
 * COMMANDs in order, each over every module:
 *
 *   bootstrap  every module not bootstrapped yet bootstraps; a transient
 *              failure (network, time-out) and a 409 (another bootstrap
 *              raced it) are tried again after a back-off with jitter
 *   heartbeat  every module heartbeats once (it waits out its own minimum
 *              interval first, as a real module refuses AT+USECCONN
 *              within it); a 429 waits the server's retry-after, a
 *              transient failure or a 409 a back-off, then again
 *
 * A module's tries are bounded (--max-tries), and every command by a
 * deadline (--max-seconds): a module then ends failed, never waited for
 * without end. After each command a summary, "name: value unit" per line
 * (and with --json, as one JSON object): modules done, refused by reason,
 * failed by cause, contacts, bytes per completed contact (TCP payload in,
 * out and both, handshakes included: the client counts them at the socket
 * BIO), elapsed time, contacts per second.
 *
 * The modules' state (their NVM): in memory for the whole invocation, so
 * "bootstrap heartbeat" runs both on the same modules; with --state-dir
 * DIR each module's image is also kept in DIR/<rot_uid> (mode 0600: it
 * holds keys), replaced by a rename at every change, read back by the
 * next invocation, so that something can happen between two commands
 * (ztpctl campaign create, say). The files are synced only with --sync
 * (each change then costs an fsync of the file and of DIR): without it
 * they survive this process's death, not the machine's. DIR is locked: one
 * ztp-modfleet at a time.
 *
 * Exit status: 0 when every module of every command ended done, 1 if one
 * did not, 2 on a usage error or one that stops the run before the
 * network (a bad batch line, an unreadable state file).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "clock.h"
#include "hex.h"
#include "modcsv.h"
#include "modmsg.h"
#include "num.h"
#include "ztp/err.h"
#include "ztp/modclient.h"
#include "ztp/rot.h"

#define FLEET_MAX 1000000       /* modules in one batch */
#define THREADS_MAX 256
#define STATE_FILE_MAX 4096     /* a state file is ZTP_ROT_STATE_LEN bytes */
#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 10000
#define RACE_MIN_MS 100         /* after a 409: a random pause in [MIN, MAX) */
#define RACE_MAX_MS 2000
#define ERRORS_SHOWN 10         /* failed modules named on stderr, per command */

enum cmd { CMD_BOOTSTRAP, CMD_HEARTBEAT };

static const char *const cmd_names[] = { "bootstrap", "heartbeat" };

/* how a module ended a command */
enum fate { FATE_NONE, FATE_DONE, FATE_ALREADY, FATE_REFUSED, FATE_FAILED };

/* why it was refused: the protocol's reasons (section 6), and a current key the server does not know */
enum refusal {
	REF_CLONED,
	REF_QUARANTINED,
	REF_STATE,
	REF_RACE,
	REF_TOO_SOON,
	REF_KEY_UNKNOWN,
	REF_OTHER,
	REF__COUNT
};

static const char *const refusal_names[REF__COUNT] = { "cloned", "quarantined", "wrong_state",
	"race_409", "too_soon_429", "key_unknown", "other" };

/* the features' bits (section 7), as figure names */
static const char *const feature_names[] = { "psk", "e2e", "local_data", "c2c", "ztp_cert" };

/* why it failed */
enum failure {
	FAIL_TRANSIENT, /* network, time-out, an unusable answer: --max-tries of them */
	FAIL_DEADLINE,  /* --max-seconds passed before it was done */
	FAIL_LOCAL,     /* its state could not be stored */
	FAIL_NOT_BOOTSTRAPPED, /* heartbeat: the module is not bootstrapped */
	FAIL__COUNT
};

static const char *const failure_names[FAIL__COUNT] = { "transient", "deadline", "local",
	"not_bootstrapped" };

/* One module: its root of trust and how it fares in the command running. */
struct fmod {
	struct ztp_rot rot;
	enum fate fate;
	uint8_t why;        /* enum refusal or enum failure, by fate */
	unsigned tries;     /* contacts in this command */
	uint32_t backoff_ms;
	char error[96];     /* the last contact's error, "" if none */
};

/* A module waiting for its next try (a min-heap on at_ms). */
struct due {
	int64_t at_ms;
	size_t i;
};

/*
 * Who contacts which module next: the modules not tried yet in order,
 * then those waiting, each when its time comes. A module is in at most
 * one place (fresh, waiting, or taken by one thread), so a root of trust
 * is never in two contacts at once.
 */
struct sched {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next, n;     /* fresh: next..n-1 */
	struct due *heap;   /* n places */
	size_t nheap;
	size_t busy;        /* taken and not given back */
};

/* What the contacts of one thread add up to. */
struct tstats {
	uint64_t contacts, connections, retries;
	uint64_t bytes_in_all, bytes_out_all; /* of every contact */
	/* of the contacts that ended done: one bootstrap or heartbeat each */
	uint64_t ok, ok_in, ok_out, ok_sum;
	uint64_t min_in, min_out, min_sum, max_in, max_out, max_sum;
};

struct fleet {
	struct fmod *mods;
	size_t n;
	struct modclient *client;
	/* --state-dir */
	int dfd, lock_fd, sync;
	/* the command running */
	enum cmd cmd;
	struct sched sched;
	int64_t deadline_ms; /* monotonic */
	unsigned max_tries;
};

static struct {
	const char *server, *batch, *seal, *state_dir, *out, *json, *firmware;
	char host[MODCLIENT_HOST_MAX + 1];
	uint16_t port;
	unsigned threads, max_tries, timeout_ms, max_seconds;
	size_t make_batch;
	int sync, progress, quiet, flood;
} O = { .threads = 8, .max_tries = 10, .max_seconds = 3600, .firmware = "modfleet-1" };

/* ---- options: one table drives getopt and --help */

enum opt_id {
	OPT_SERVER = 256,
	OPT_BATCH,
	OPT_MAKE_BATCH,
	OPT_OUT,
	OPT_SEAL,
	OPT_THREADS,
	OPT_STATE_DIR,
	OPT_SYNC,
	OPT_FLOOD,
	OPT_MAX_TRIES,
	OPT_MAX_SECONDS,
	OPT_TIMEOUT,
	OPT_FIRMWARE,
	OPT_JSON,
	OPT_PROGRESS,
	OPT_QUIET,
	OPT_HELP
};

static const struct {
	const char *name, *arg, *help;
	int id;
} opts[] = {
	{ "server", "HOST:PORT", "ztpd's device listener ([v6]:PORT for an IPv6 address)",
	    OPT_SERVER },
	{ "batch", "FILE", "the modules: a batch file, lines rot_uid,factory_secret_hex[,batch]",
	    OPT_BATCH },
	{ "make-batch", "N", "write N new random modules as a batch file (--out) and exit",
	    OPT_MAKE_BATCH },
	{ "out", "FILE", "--make-batch's file (mode 0600; never replaced)", OPT_OUT },
	{ "seal", "PROFILE_UID", "seal every module with this DeviceProfileUID and the serial "
	    "SN-<index> (0-based, the batch's order; a sealed module keeps its seal)", OPT_SEAL },
	{ "threads", "T", "threads making contacts, each one at a time (default 8)",
	    OPT_THREADS },
	{ "state-dir", "DIR", "also keep each module's state in DIR/<rot_uid>, read back by the "
	    "next run (default: in memory, for this run's commands only)", OPT_STATE_DIR },
	{ "sync", NULL, "with --state-dir: fsync every change (a module's NVM write)", OPT_SYNC },
	{ "flood", NULL, "heartbeat as a modified module would: without waiting out the "
	    "module's own minimum interval (ztpd must refuse: 429, too soon)", OPT_FLOOD },
	{ "max-tries", "N", "contacts per module and command before it ends failed "
	    "(default 10)", OPT_MAX_TRIES },
	{ "max-seconds", "S", "each command's deadline (default 3600)", OPT_MAX_SECONDS },
	{ "timeout-ms", "MS", "each wait of a contact: connect, handshake, an answer "
	    "(default 10000)", OPT_TIMEOUT },
	{ "firmware", "VERSION", "the firmware version the modules report (default "
	    "modfleet-1)", OPT_FIRMWARE },
	{ "json", "FILE", "also write the summaries to FILE, {\"command\": {\"figure\": value}}",
	    OPT_JSON },
	{ "progress", NULL, "a line on stderr every 5 s while a command runs", OPT_PROGRESS },
	{ "quiet", NULL, "print no summary (the exit status and --json tell)", OPT_QUIET },
	{ "help", NULL, "print this help and exit", OPT_HELP },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* "  --opt ARG   help", the help wrapped at 79 columns under itself */
static void
help_line(FILE *f, const char *left, const char *help)
{
	const char *p = help, *brk;
	size_t width = 79 - 27;

	fprintf(f, "  %-24s ", left);
	while (strlen(p) > width) {
		for (brk = p + width; brk > p && *brk != ' '; brk--)
			;
		if (brk == p)
			break;
		fprintf(f, "%.*s\n%27s", (int)(brk - p), p, "");
		p = brk + 1;
	}
	fprintf(f, "%s\n", p);
}

static void
usage(FILE *f, int status)
{
	size_t i;
	char left[40];

	fprintf(f,
	    "usage: ztp-modfleet --make-batch N --out FILE\n"
	    "       ztp-modfleet --server HOST:PORT --batch FILE [options] [COMMAND...]\n"
	    "\n"
	    "N simulated modules with a root of trust in one process, driven by the real\n"
	    "module client over TLS 1.3 to ztpd's device listener, T threads sharing them.\n"
	    "COMMANDs run in order over every module:\n"
	    "  bootstrap   each module not yet bootstrapped bootstraps (transient failures\n"
	    "              and 409 tried again after a back-off)\n"
	    "  heartbeat   each module heartbeats once (its own minimum interval waited\n"
	    "              out; a 429 waits the server's retry-after)\n"
	    "After each, a summary (name: value unit): modules done, refused by reason,\n"
	    "failed by cause, contacts, bytes per completed contact (TCP payload in, out,\n"
	    "both; handshakes included), elapsed time, contacts per second.\n"
	    "\n"
	    "State: the modules live in memory for the whole run, so 'bootstrap heartbeat'\n"
	    "works on the same modules. With --state-dir DIR each module's state is also\n"
	    "written to DIR/<rot_uid> at every change (rename; fsync with --sync) and\n"
	    "read back by the next run: 'ztp-modfleet ... --state-dir D bootstrap', then\n"
	    "'ztpctl campaign create ...', then 'ztp-modfleet ... --state-dir D heartbeat'.\n"
	    "\n");
	for (i = 0; i < NOPTS; i++) {
		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
		    opts[i].arg ? opts[i].arg : "");
		help_line(f, left, opts[i].help);
	}
	fprintf(f, "\nExit status: 0 every module done, 1 one was not, 2 usage or setup error.\n");
	exit(status);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("ztp-modfleet: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static unsigned
parse_uint(const char *what, const char *v, uint64_t min, uint64_t max)
{
	uint64_t n;

	if (v == NULL || num_parse_u64z(v, min, max, &n) != 0)
		die("--%s: expected a number from %llu to %llu, not '%s'", what,
		    (unsigned long long)min, (unsigned long long)max, v ? v : "");
	return (unsigned)n;
}

/* "HOST:PORT" or "[V6]:PORT" into O.host, O.port */
static void
parse_server(const char *v)
{
	const char *colon = strrchr(v, ':'), *h = v;
	size_t hl;

	if (colon == NULL || colon == v)
		die("--server: expected HOST:PORT, not '%s'", v);
	hl = (size_t)(colon - v);
	if (v[0] == '[') {
		if (hl < 3 || v[hl - 1] != ']')
			die("--server: expected [ADDRESS]:PORT, not '%s'", v);
		h = v + 1;
		hl -= 2;
	}
	if (hl > MODCLIENT_HOST_MAX)
		die("--server: host name too long");
	memcpy(O.host, h, hl);
	O.host[hl] = '\0';
	O.port = (uint16_t)parse_uint("server (port)", colon + 1, 1, 65535);
}

static void
parse_options(int argc, char **argv)
{
	struct option lo[NOPTS + 1];
	size_t i;
	int c;

	for (i = 0; i < NOPTS; i++) {
		lo[i].name = opts[i].name;
		lo[i].has_arg = opts[i].arg ? required_argument : no_argument;
		lo[i].flag = NULL;
		lo[i].val = opts[i].id;
	}
	memset(&lo[NOPTS], 0, sizeof(lo[NOPTS]));
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case OPT_SERVER:
			O.server = optarg;
			parse_server(optarg);
			break;
		case OPT_BATCH:
			O.batch = optarg;
			break;
		case OPT_MAKE_BATCH:
			O.make_batch = parse_uint("make-batch", optarg, 1, FLEET_MAX);
			break;
		case OPT_OUT:
			O.out = optarg;
			break;
		case OPT_SEAL:
			O.seal = optarg;
			break;
		case OPT_THREADS:
			O.threads = parse_uint("threads", optarg, 1, THREADS_MAX);
			break;
		case OPT_STATE_DIR:
			O.state_dir = optarg;
			break;
		case OPT_FLOOD:
			O.flood = 1;
			break;
		case OPT_SYNC:
			O.sync = 1;
			break;
		case OPT_MAX_TRIES:
			O.max_tries = parse_uint("max-tries", optarg, 1, 1000);
			break;
		case OPT_MAX_SECONDS:
			O.max_seconds = parse_uint("max-seconds", optarg, 1, 86400 * 7);
			break;
		case OPT_TIMEOUT:
			O.timeout_ms = parse_uint("timeout-ms", optarg, 1, 600000);
			break;
		case OPT_FIRMWARE:
			O.firmware = optarg;
			break;
		case OPT_JSON:
			O.json = optarg;
			break;
		case OPT_PROGRESS:
			O.progress = 1;
			break;
		case OPT_QUIET:
			O.quiet = 1;
			break;
		case OPT_HELP:
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, 2);
		}
	}
}

/* ---- random numbers */

static uint32_t
random_u32(void)
{
	uint32_t r = 0;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return 0;
	return r;
}

static void
hex_lower(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- --make-batch */

static int
make_batch(size_t n, const char *path)
{
	uint8_t uid[ZTP_ROT_UID_LEN], key[ZTP_ROT_KEY_LEN];
	char uhex[2 * ZTP_ROT_UID_LEN + 1], khex[2 * ZTP_ROT_KEY_LEN + 1];
	size_t i;
	FILE *f;
	int fd;

	/* a batch holds factory secrets: never another file's, never readable by others */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		die("%s: %s%s", path, strerror(errno),
		    errno == EEXIST ? " (a batch file is never replaced)" : "");
	if ((f = fdopen(fd, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "rot_uid,factory_secret,batch\n");
	for (i = 0; i < n; i++) {
		if (RAND_bytes(uid, sizeof(uid)) != 1 || RAND_bytes(key, sizeof(key)) != 1)
			die("no random numbers");
		hex_lower(uid, sizeof(uid), uhex);
		hex_lower(key, sizeof(key), khex);
		fprintf(f, "%s,%s,modfleet\n", uhex, khex);
	}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(khex, sizeof(khex));
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
	printf("%zu modules written to %s\n", n, path);
	return 0;
}

/* ---- the modules' state files (--state-dir) */

/* Write m's state to DIR/<uid> whole (a temporary file renamed over it). 0 or -1. */
static int
state_save(struct fleet *f, const struct ztp_rot *r)
{
	uint8_t img[ZTP_ROT_STATE_LEN];
	char name[2 * ZTP_ROT_UID_LEN + 1], tmp[2 * ZTP_ROT_UID_LEN + 8];
	size_t len, off = 0;
	ssize_t w;
	int fd = -1, rc = -1;

	if (ztp_rot_save(r, img, sizeof(img), &len) != 0)
		return -1;
	hex_lower(r->uid, ZTP_ROT_UID_LEN, name);
	/* one module is written by one thread at a time, and the directory is locked: a fixed name */
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(f->dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	while (off < len) {
		w = write(fd, img + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto out;
		off += (size_t)w;
	}
	if (f->sync && fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (renameat(f->dfd, tmp, f->dfd, name) != 0)
		goto out;
	if (f->sync && fsync(f->dfd) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "ztp-modfleet: %s/%s: cannot write the state: %s\n", O.state_dir,
		    name, strerror(errno));
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(img, sizeof(img));
	return rc;
}

/* Read DIR/<uid> into r: 0, 1 if there is none, or die. */
static int
state_load(struct fleet *f, const char *uid_hex, struct ztp_rot *r)
{
	uint8_t buf[STATE_FILE_MAX + 1];
	char tmp[2 * ZTP_ROT_UID_LEN + 8], err[160], have[2 * ZTP_ROT_UID_LEN + 1];
	size_t len = 0;
	ssize_t n;
	int fd, rc;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", uid_hex);
	(void)unlinkat(f->dfd, tmp, 0); /* what a write cut short left */
	if ((fd = openat(f->dfd, uid_hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 1;
		die("%s/%s: %s", O.state_dir, uid_hex, strerror(errno));
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("%s/%s: %s", O.state_dir, uid_hex, strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rc = len > STATE_FILE_MAX ? ZTP_EMALFORMED : ztp_rot_load(r, buf, len, err, sizeof(err));
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc != 0)
		die("%s/%s: not a module's state: %s", O.state_dir, uid_hex,
		    len > STATE_FILE_MAX ? "too long" : err);
	hex_lower(r->uid, ZTP_ROT_UID_LEN, have);
	if (strcmp(have, uid_hex) != 0)
		die("%s/%s: the state of another module (%s)", O.state_dir, uid_hex, have);
	return 0;
}

static void
state_open(struct fleet *f, const char *dir)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		die("%s: %s", dir, strerror(errno));
	if ((f->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("%s: %s", dir, strerror(errno));
	f->lock_fd = openat(f->dfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f->lock_fd < 0)
		die("%s/.lock: %s", dir, strerror(errno));
	if (flock(f->lock_fd, LOCK_EX | LOCK_NB) != 0)
		die("%s: %s", dir,
		    errno == EWOULDBLOCK ? "another ztp-modfleet uses it" : strerror(errno));
}

/* ---- the batch */

static int
uid_cmp(const void *a, const void *b)
{
	const struct fmod *const *x = a, *const *y = b;

	return memcmp((*x)->rot.uid, (*y)->rot.uid, ZTP_ROT_UID_LEN);
}

/*
 * The modules of the batch file, from their state files if --state-dir
 * has them, else as they leave their maker (a new power-up each: the boot
 * counter). Dies on a refused line (by its number) or a RoT UID twice.
 */
static void
load_batch(struct fleet *f, const char *path)
{
	struct modcsv_row row;
	enum modcsv_reason why;
	uint8_t uid[ZTP_ROT_UID_LEN], key[ZTP_ROT_KEY_LEN];
	struct fmod **sorted;
	size_t cap = 0, mcap = 0, lineno = 0, len, i;
	char *line = NULL;
	ssize_t got;
	FILE *in;
	int rc;

	if ((in = strcmp(path, "-") == 0 ? stdin : fopen(path, "re")) == NULL)
		die("%s: %s", path, strerror(errno));
	while ((got = getline(&line, &cap, in)) > 0) {
		lineno++;
		rc = modcsv_parse(line, (size_t)got, lineno == 1, &row, &why);
		OPENSSL_cleanse(line, (size_t)got);
		if (rc == MODCSV_SKIP)
			continue;
		if (rc != 0)
			die("%s: line %zu: %s", path, lineno, modcsv_reason(why));
		if (f->n == FLEET_MAX)
			die("%s: more than %d modules", path, FLEET_MAX);
		if (f->n == mcap) {
			struct fmod *nm;
			mcap = mcap == 0 ? 1024 : mcap * 2;
			if ((nm = realloc(f->mods, mcap * sizeof(*nm))) == NULL)
				die("out of memory");
			f->mods = nm;
		}
		memset(&f->mods[f->n], 0, sizeof(f->mods[f->n]));
		if (hex_decode(row.rot_uid, MODCSV_ROT_HEX, uid, sizeof(uid), &len) != 0 ||
		    hex_decode(row.secret_hex, MODCSV_SECRET_HEX, key, sizeof(key), &len) != 0)
			die("%s: line %zu: not hex", path, lineno); /* modcsv checked it */
		OPENSSL_cleanse(row.secret_hex, sizeof(row.secret_hex));
		if (f->dfd < 0 || state_load(f, row.rot_uid, &f->mods[f->n].rot) == 1)
			ztp_rot_init(&f->mods[f->n].rot, uid, key);
		OPENSSL_cleanse(key, sizeof(key));
		f->n++;
	}
	if (ferror(in))
		die("%s: %s", path, strerror(errno));
	free(line);
	if (in != stdin)
		fclose(in);
	if (f->n == 0)
		die("%s: no modules", path);
	if ((sorted = malloc(f->n * sizeof(*sorted))) == NULL)
		die("out of memory");
	for (i = 0; i < f->n; i++)
		sorted[i] = &f->mods[i];
	qsort(sorted, f->n, sizeof(*sorted), uid_cmp);
	for (i = 1; i < f->n; i++)
		if (uid_cmp(&sorted[i - 1], &sorted[i]) == 0) {
			char h[2 * ZTP_ROT_UID_LEN + 1];
			hex_lower(sorted[i]->rot.uid, ZTP_ROT_UID_LEN, h);
			die("%s: RoT UID %s twice", path, h);
		}
	free(sorted);
}

/* Power up every module (its boot counter) and seal it if asked; each change stored. */
static void
power_up(struct fleet *f)
{
	char profile[ZTP_ROT_PROFILE_LEN + 1], serial[32];
	size_t i, sealed = 0, plen = 0;
	int rc;

	if (O.seal != NULL) {
		plen = strlen(O.seal);
		for (i = 0; i < plen && i < ZTP_ROT_PROFILE_LEN; i++)
			profile[i] = O.seal[i] >= 'A' && O.seal[i] <= 'F' ? (char)(O.seal[i] + 32) :
									     O.seal[i];
		profile[i] = '\0';
		if (plen != ZTP_ROT_PROFILE_LEN || !modmsg_profile_valid(profile, plen))
			die("--seal: expected a DeviceProfileUID (32 hex digits), not '%s'", O.seal);
	}
	for (i = 0; i < f->n; i++) {
		ztp_rot_boot(&f->mods[i].rot);
		if (O.seal != NULL) {
			snprintf(serial, sizeof(serial), "SN-%zu", i);
			rc = ztp_rot_seal(&f->mods[i].rot, profile, plen, serial, strlen(serial));
			if (rc == 0)
				sealed++;
			else if (rc != ZTP_EEXIST)
				die("cannot seal module %zu: %s", i, ztp_strerror(rc));
		}
		if (f->dfd >= 0 && state_save(f, &f->mods[i].rot) != 0)
			exit(2);
	}
	if (O.seal != NULL && !O.quiet)
		printf("sealed: %zu (already sealed: %zu)\n", sealed, f->n - sealed);
}

/* ---- the scheduler */

static void
heap_push(struct sched *s, int64_t at, size_t i)
{
	size_t k = s->nheap++, p;

	while (k > 0 && s->heap[p = (k - 1) / 2].at_ms > at) {
		s->heap[k] = s->heap[p];
		k = p;
	}
	s->heap[k].at_ms = at;
	s->heap[k].i = i;
}

static size_t
heap_pop(struct sched *s)
{
	size_t top = s->heap[0].i, k = 0, c;
	struct due last = s->heap[--s->nheap];

	for (;;) {
		c = 2 * k + 1;
		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && s->heap[c + 1].at_ms < s->heap[c].at_ms)
			c++;
		if (s->heap[c].at_ms >= last.at_ms)
			break;
		s->heap[k] = s->heap[c];
		k = c;
	}
	if (s->nheap > 0)
		s->heap[k] = last;
	return top;
}

static void
sched_init(struct sched *s, size_t n)
{
	pthread_condattr_t ca;

	memset(s, 0, sizeof(*s));
	s->n = n;
	if ((s->heap = calloc(n, sizeof(*s->heap))) == NULL)
		die("out of memory");
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
}

static void
sched_free(struct sched *s)
{
	free(s->heap);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

/* The next module to contact, waiting for one's time if need be; 0, or -1 when all are over. */
static int
sched_take(struct sched *s, size_t *i)
{
	struct timespec ts;
	int64_t left;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		if (s->next < s->n) {
			*i = s->next++;
			break;
		}
		if (s->nheap > 0) {
			left = s->heap[0].at_ms - clock_mono_ms();
			if (left <= 0) {
				*i = heap_pop(s);
				break;
			}
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (time_t)(left / 1000);
			ts.tv_nsec += (long)(left % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
			continue;
		}
		if (s->busy == 0) {
			pthread_mutex_unlock(&s->mu);
			return -1;
		}
		pthread_cond_wait(&s->cv, &s->mu); /* a busy module may come back to wait */
	}
	s->busy++;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* Give module i back: to be tried again at at_ms (monotonic), or over (at_ms < 0). */
static void
sched_back(struct sched *s, size_t i, int64_t at_ms)
{
	pthread_mutex_lock(&s->mu);
	s->busy--;
	if (at_ms >= 0)
		heap_push(s, at_ms, i);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* ---- one contact */

static int
client_store(void *arg, const struct ztp_rot *r)
{
	struct fleet *f = arg;

	/* r is a module's own struct: in memory it is stored already */
	return f->dfd >= 0 ? state_save(f, r) : 0;
}

static void
account(struct tstats *t, const struct modclient_result *res)
{
	uint64_t in = res->bytes_in, out = res->bytes_out, sum = in + out;

	t->contacts++;
	t->connections += res->connections;
	t->bytes_in_all += in;
	t->bytes_out_all += out;
	if (res->outcome != ZTP_MOD_DONE)
		return;
	if (t->ok == 0 || in < t->min_in)
		t->min_in = in;
	if (t->ok == 0 || out < t->min_out)
		t->min_out = out;
	if (t->ok == 0 || sum < t->min_sum)
		t->min_sum = sum;
	if (in > t->max_in)
		t->max_in = in;
	if (out > t->max_out)
		t->max_out = out;
	if (sum > t->max_sum)
		t->max_sum = sum;
	t->ok++;
	t->ok_in += in;
	t->ok_out += out;
	t->ok_sum += sum;
}

static void
end(struct fmod *m, enum fate fate, int why)
{
	m->fate = fate;
	m->why = (uint8_t)why;
}

static enum refusal
refusal_of(const struct modclient_result *res)
{
	switch (res->reason) {
	case MODMSG_R_CLONED:
		return REF_CLONED;
	case MODMSG_R_QUARANTINED:
		return REF_QUARANTINED;
	case MODMSG_R_STATE:
		return REF_STATE;
	case MODMSG_R_RACE:
		return REF_RACE;
	case MODMSG_R_TOO_SOON:
		return REF_TOO_SOON;
	default:
		return res->status == 409 ? REF_RACE : res->status == 429 ? REF_TOO_SOON : REF_OTHER;
	}
}

/* The next back-off of m: doubled from BACKOFF_MIN_MS up to BACKOFF_MAX_MS, half to all of it. */
static int64_t
backoff(struct fmod *m)
{
	m->backoff_ms = m->backoff_ms == 0 ? BACKOFF_MIN_MS :
	    m->backoff_ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : m->backoff_ms * 2;
	return m->backoff_ms / 2 + random_u32() % (m->backoff_ms / 2 + 1);
}

/*
 * One turn of module i in the command: a contact if one is due, and what
 * comes of it. Returns when to try again (monotonic ms), or -1 when the
 * module is over (its fate set).
 */
static int64_t
turn(struct fleet *f, struct tstats *t, size_t i)
{
	struct fmod *m = &f->mods[i];
	struct modclient_result res;
	int64_t now = clock_mono_ms(), wait_ms;
	uint32_t wait_s;
	int rc;

	if (now >= f->deadline_ms) {
		end(m, FATE_FAILED, FAIL_DEADLINE);
		return -1;
	}
	if (f->cmd == CMD_BOOTSTRAP && ztp_rot_bootstrapped(&m->rot)) {
		/* before this command, or by a contact of it that failed after the commit */
		end(m, m->tries == 0 ? FATE_ALREADY : FATE_DONE, 0);
		return -1;
	}
	if (f->cmd == CMD_HEARTBEAT) {
		rc = ztp_rot_heartbeat_allowed(&m->rot, (int64_t)time(NULL), &wait_s);
		if (rc == ZTP_ECONFLICT) {
			end(m, FATE_FAILED, FAIL_NOT_BOOTSTRAPPED);
			return -1;
		}
		if (rc == ZTP_EBUSY && !O.flood) /* as AT+USECCONN would refuse it: wait, then ask */
			return now + (int64_t)wait_s * 1000 + random_u32() % 500;
	}
	modclient_contact(f->client, &m->rot, &res);
	account(t, &res);
	m->tries++;
	snprintf(m->error, sizeof(m->error), "%s", res.error);
	switch (res.outcome) {
	case ZTP_MOD_DONE:
		end(m, FATE_DONE, 0);
		return -1;
	case ZTP_MOD_KEY_UNKNOWN:
		end(m, FATE_REFUSED, REF_KEY_UNKNOWN);
		return -1;
	case ZTP_MOD_LOCAL:
		end(m, FATE_FAILED, FAIL_LOCAL);
		return -1;
	case ZTP_MOD_REFUSED:
		if (res.status == 409) {
			/* another bootstrap raced this one: a random pause, then again */
			wait_ms = RACE_MIN_MS + random_u32() % (RACE_MAX_MS - RACE_MIN_MS);
		} else if (res.status == 429) {
			wait_ms = (int64_t)(res.retry_after > 0 ? res.retry_after : 1) * 1000 +
			    random_u32() % 500;
		} else {
			end(m, FATE_REFUSED, refusal_of(&res));
			return -1;
		}
		if (m->tries >= f->max_tries) {
			end(m, FATE_REFUSED, refusal_of(&res));
			return -1;
		}
		break;
	default: /* ZTP_MOD_TRANSIENT */
		if (m->tries >= f->max_tries) {
			end(m, FATE_FAILED, FAIL_TRANSIENT);
			return -1;
		}
		wait_ms = backoff(m);
		break;
	}
	t->retries++;
	now = clock_mono_ms();
	if (now + wait_ms >= f->deadline_ms) {
		end(m, FATE_FAILED, FAIL_DEADLINE);
		return -1;
	}
	return now + wait_ms;
}

struct worker {
	struct fleet *f;
	pthread_t tid;
	struct tstats t;
	pthread_mutex_t mu; /* t, read by the progress line */
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct tstats t;
	size_t i;
	int64_t at;

	while (sched_take(&w->f->sched, &i) == 0) {
		pthread_mutex_lock(&w->mu);
		t = w->t;
		pthread_mutex_unlock(&w->mu);
		at = turn(w->f, &t, i);
		pthread_mutex_lock(&w->mu);
		w->t = t;
		pthread_mutex_unlock(&w->mu);
		sched_back(&w->f->sched, i, at);
	}
	return NULL;
}

/* ---- the summary */

struct fig {
	char name[48];
	const char *unit;
	int prec;
	double v;
};

struct figs {
	struct fig f[64];
	size_t n;
};

static void
fig(struct figs *fs, const char *name, double v, int prec, const char *unit)
{
	if (fs->n == sizeof(fs->f) / sizeof(fs->f[0]))
		return;
	snprintf(fs->f[fs->n].name, sizeof(fs->f[fs->n].name), "%s", name);
	fs->f[fs->n].v = v;
	fs->f[fs->n].prec = prec;
	fs->f[fs->n].unit = unit;
	fs->n++;
}

static void
sum_stats(struct worker *w, unsigned nw, struct tstats *s)
{
	unsigned k;

	memset(s, 0, sizeof(*s));
	for (k = 0; k < nw; k++) {
		struct tstats t;
		pthread_mutex_lock(&w[k].mu);
		t = w[k].t;
		pthread_mutex_unlock(&w[k].mu);
		s->contacts += t.contacts;
		s->connections += t.connections;
		s->retries += t.retries;
		s->bytes_in_all += t.bytes_in_all;
		s->bytes_out_all += t.bytes_out_all;
		if (t.ok == 0)
			continue;
		if (s->ok == 0 || t.min_in < s->min_in)
			s->min_in = t.min_in;
		if (s->ok == 0 || t.min_out < s->min_out)
			s->min_out = t.min_out;
		if (s->ok == 0 || t.min_sum < s->min_sum)
			s->min_sum = t.min_sum;
		if (t.max_in > s->max_in)
			s->max_in = t.max_in;
		if (t.max_out > s->max_out)
			s->max_out = t.max_out;
		if (t.max_sum > s->max_sum)
			s->max_sum = t.max_sum;
		s->ok += t.ok;
		s->ok_in += t.ok_in;
		s->ok_out += t.ok_out;
		s->ok_sum += t.ok_sum;
	}
}

static double
mean(uint64_t total, uint64_t n)
{
	return n == 0 ? 0 : (double)total / (double)n;
}

/* The CPU time this process has used, user and system, in seconds. */
static double
cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * The figures of a command that ran secs seconds and took cpu seconds of
 * this process; returns the modules not done.
 */
static size_t
summarise(struct fleet *f, const struct tstats *s, double secs, double cpu, struct figs *fs)
{
	size_t done = 0, already = 0, refused = 0, failed = 0, i, shown = 0;
	size_t ref[REF__COUNT] = { 0 }, fail[FAIL__COUNT] = { 0 }, claimed = 0;
	size_t feat[sizeof(feature_names) / sizeof(feature_names[0])] = { 0 };
	char name[48], uid[2 * ZTP_ROT_UID_LEN + 1];

	for (i = 0; i < f->n; i++) {
		struct fmod *m = &f->mods[i];
		int reg, cl, boot;
		size_t b;
		ztp_rot_status(&m->rot, &reg, &cl, &boot);
		claimed += reg && cl && boot;
		for (b = 0; b < sizeof(feature_names) / sizeof(feature_names[0]); b++)
			feat[b] += boot && (m->rot.features & (1u << b)) != 0;
		switch (m->fate) {
		case FATE_DONE:
			done++;
			continue;
		case FATE_ALREADY:
			already++;
			continue;
		case FATE_REFUSED:
			refused++;
			ref[m->why]++;
			break;
		default:
			failed++;
			fail[m->fate == FATE_FAILED ? m->why : FAIL_DEADLINE]++;
			break;
		}
		if (shown++ < ERRORS_SHOWN) {
			hex_lower(m->rot.uid, ZTP_ROT_UID_LEN, uid);
			fprintf(stderr, "ztp-modfleet: %s: module %zu (%s) %s (%s)%s%s\n",
			    cmd_names[f->cmd], i, uid, m->fate == FATE_REFUSED ? "refused" : "failed",
			    m->fate == FATE_REFUSED ? refusal_names[m->why] :
						      failure_names[m->fate == FATE_FAILED ? m->why :
										FAIL_DEADLINE],
			    m->error[0] ? ": " : "", m->error);
		}
	}
	if (shown > ERRORS_SHOWN)
		fprintf(stderr, "ztp-modfleet: %s: %zu more modules not done\n", cmd_names[f->cmd],
		    shown - ERRORS_SHOWN);
	fig(fs, "modules", (double)f->n, 0, "");
	fig(fs, "done", (double)done, 0, "");
	fig(fs, "already_done", (double)already, 0, "");
	fig(fs, "refused", (double)refused, 0, "");
	for (i = 0; i < REF__COUNT; i++)
		if (ref[i] > 0) {
			snprintf(name, sizeof(name), "refused_%s", refusal_names[i]);
			fig(fs, name, (double)ref[i], 0, "");
		}
	fig(fs, "failed", (double)failed, 0, "");
	for (i = 0; i < FAIL__COUNT; i++)
		if (fail[i] > 0) {
			snprintf(name, sizeof(name), "failed_%s", failure_names[i]);
			fig(fs, name, (double)fail[i], 0, "");
		}
	/* what the modules hold now: AT+USECDEVINFO?'s 1,1,1 and the features delivered */
	fig(fs, "claimed", (double)claimed, 0, "");
	for (i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++) {
		snprintf(name, sizeof(name), "feature_%s", feature_names[i]);
		fig(fs, name, (double)feat[i], 0, "");
	}
	fig(fs, "contacts", (double)s->contacts, 0, "");
	fig(fs, "retries", (double)s->retries, 0, "");
	fig(fs, "connections", (double)s->connections, 0, "");
	fig(fs, "bytes_min", (double)s->min_sum, 0, "bytes");
	fig(fs, "bytes_mean", mean(s->ok_sum, s->ok), 1, "bytes");
	fig(fs, "bytes_max", (double)s->max_sum, 0, "bytes");
	fig(fs, "bytes_in_min", (double)s->min_in, 0, "bytes");
	fig(fs, "bytes_in_mean", mean(s->ok_in, s->ok), 1, "bytes");
	fig(fs, "bytes_in_max", (double)s->max_in, 0, "bytes");
	fig(fs, "bytes_out_min", (double)s->min_out, 0, "bytes");
	fig(fs, "bytes_out_mean", mean(s->ok_out, s->ok), 1, "bytes");
	fig(fs, "bytes_out_max", (double)s->max_out, 0, "bytes");
	fig(fs, "bytes_all_contacts", (double)(s->bytes_in_all + s->bytes_out_all), 0, "bytes");
	fig(fs, "elapsed", secs, 3, "s");
	fig(fs, "contacts_per_s", secs > 0 ? (double)s->contacts / secs : 0, 1, "/s");
	fig(fs, "done_per_s", secs > 0 ? (double)done / secs : 0, 1, "/s");
	fig(fs, "threads", (double)O.threads, 0, "");
	/* the fleet's own cost: what the machine's other processes (ztpd) had left */
	fig(fs, "client_cpu", cpu, 3, "s");
	fig(fs, "client_cpu_per_contact", s->contacts ? cpu * 1000.0 / (double)s->contacts : 0, 3,
	    "ms");
	return refused + failed;
}

static void
print_figs(enum cmd cmd, const struct figs *fs)
{
	size_t i;

	if (O.quiet)
		return;
	printf("== %s\n", cmd_names[cmd]);
	for (i = 0; i < fs->n; i++)
		printf("%s_%s: %.*f%s%s\n", cmd_names[cmd], fs->f[i].name, fs->f[i].prec, fs->f[i].v,
		    fs->f[i].unit[0] ? " " : "", fs->f[i].unit);
	fflush(stdout);
}

static void
write_json(const char *path, const struct figs *all, const enum cmd *cmds, size_t ncmds)
{
	size_t c, i;
	FILE *out;

	if ((out = fopen(path, "we")) == NULL) {
		fprintf(stderr, "ztp-modfleet: %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(out, "{");
	for (c = 0; c < ncmds; c++) {
		fprintf(out, "%s\n  \"%s\": {", c ? "," : "", cmd_names[cmds[c]]);
		for (i = 0; i < all[c].n; i++)
			fprintf(out, "%s\"%s\": %.*f", i ? ", " : "", all[c].f[i].name,
			    all[c].f[i].prec, all[c].f[i].v);
		fprintf(out, "}");
	}
	fprintf(out, "\n}\n");
	if (fclose(out) != 0)
		fprintf(stderr, "ztp-modfleet: %s: %s\n", path, strerror(errno));
}

/* ---- a command over every module */

static size_t
run(struct fleet *f, enum cmd cmd, struct figs *fs)
{
	struct worker *w;
	struct tstats s;
	int64_t start = clock_mono_ms(), last = start;
	double cpu0 = cpu_s();
	size_t i, left;
	unsigned k, nw = O.threads;

	for (i = 0; i < f->n; i++) {
		f->mods[i].fate = FATE_NONE;
		f->mods[i].tries = 0;
		f->mods[i].backoff_ms = 0;
		f->mods[i].error[0] = '\0';
	}
	f->cmd = cmd;
	f->deadline_ms = start + (int64_t)O.max_seconds * 1000;
	sched_init(&f->sched, f->n);
	if ((w = calloc(nw, sizeof(*w))) == NULL)
		die("out of memory");
	for (k = 0; k < nw; k++) {
		w[k].f = f;
		pthread_mutex_init(&w[k].mu, NULL);
		if (pthread_create(&w[k].tid, NULL, worker_main, &w[k]) != 0)
			die("cannot start a thread");
	}
	if (O.progress) {
		for (;;) {
			struct timespec ts = { 0, 200 * 1000000L };
			int over;
			nanosleep(&ts, NULL);
			pthread_mutex_lock(&f->sched.mu);
			over = f->sched.next == f->sched.n && f->sched.nheap == 0 &&
			    f->sched.busy == 0;
			pthread_mutex_unlock(&f->sched.mu);
			if (over)
				break;
			if (clock_mono_ms() - last >= 5000) {
				last = clock_mono_ms();
				sum_stats(w, nw, &s);
				pthread_mutex_lock(&f->sched.mu);
				fprintf(stderr, "ztp-modfleet: %s: %.0f s, %zu of %zu started, "
						"%zu waiting, %llu contacts (%llu done)\n",
				    cmd_names[cmd], (double)(last - start) / 1000.0, f->sched.next,
				    f->sched.n, f->sched.nheap, (unsigned long long)s.contacts,
				    (unsigned long long)s.ok);
				pthread_mutex_unlock(&f->sched.mu);
			}
		}
	}
	for (k = 0; k < nw; k++)
		pthread_join(w[k].tid, NULL);
	sum_stats(w, nw, &s);
	left = summarise(f, &s, (double)(clock_mono_ms() - start) / 1000.0, cpu_s() - cpu0, fs);
	for (k = 0; k < nw; k++)
		pthread_mutex_destroy(&w[k].mu);
	free(w);
	sched_free(&f->sched);
	return left;
}

int
main(int argc, char **argv)
{
	struct modclient_opts co;
	struct fleet f;
	struct figs *all = NULL;
	enum cmd cmds[16];
	size_t ncmds = 0, i, notdone = 0;
	char err[256];
	int a;

	parse_options(argc, argv);
	if (O.make_batch > 0) {
		if (O.out == NULL)
			die("--make-batch N needs --out FILE");
		if (optind < argc || O.batch != NULL || O.server != NULL)
			die("--make-batch takes no --batch, --server or command");
		return make_batch(O.make_batch, O.out);
	}
	if (O.batch == NULL)
		die("give --batch FILE (or --make-batch N --out FILE); --help says more");
	for (a = optind; a < argc; a++) {
		if (ncmds == sizeof(cmds) / sizeof(cmds[0]))
			die("at most %zu commands", sizeof(cmds) / sizeof(cmds[0]));
		if (strcmp(argv[a], "bootstrap") == 0)
			cmds[ncmds++] = CMD_BOOTSTRAP;
		else if (strcmp(argv[a], "heartbeat") == 0)
			cmds[ncmds++] = CMD_HEARTBEAT;
		else
			die("unknown command '%s' (bootstrap, heartbeat)", argv[a]);
	}
	if (ncmds > 0 && O.server == NULL)
		die("give --server HOST:PORT");
	if (O.sync && O.state_dir == NULL)
		die("--sync goes with --state-dir");
	signal(SIGPIPE, SIG_IGN);

	memset(&f, 0, sizeof(f));
	f.dfd = f.lock_fd = -1;
	f.sync = O.sync;
	f.max_tries = O.max_tries;
	if (O.state_dir != NULL)
		state_open(&f, O.state_dir);
	load_batch(&f, O.batch);
	power_up(&f);
	if (ncmds == 0)
		goto out;

	memset(&co, 0, sizeof(co));
	co.host = O.host;
	co.port = O.port;
	co.firmware = O.firmware;
	co.timeout_ms = O.timeout_ms;
	co.store = client_store;
	co.arg = &f;
	if ((f.client = modclient_new(&co, err, sizeof(err))) == NULL)
		die("%s", err);
	if ((all = calloc(ncmds, sizeof(*all))) == NULL)
		die("out of memory");
	for (i = 0; i < ncmds; i++) {
		notdone += run(&f, cmds[i], &all[i]);
		print_figs(cmds[i], &all[i]);
	}
	if (O.json != NULL)
		write_json(O.json, all, cmds, ncmds);
	modclient_free(f.client);
	free(all);
out:
	for (i = 0; i < f.n; i++)
		ztp_rot_wipe(&f.mods[i].rot);
	free(f.mods);
	if (f.lock_fd >= 0)
		close(f.lock_fd);
	if (f.dfd >= 0)
		close(f.dfd);
	return notdone > 0 ? 1 : 0;
}
