/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-sim: a virtual modem on a pseudo-terminal, holding a virtual SIM
 * that runs the SAFE2 applet (spec safe2.md sections 2 to 4).
 *
 * One thread, one event_base: the pty's master side (AT commands in,
 * answers out), the applet's retry timer, the network transport, and the
 * signals that end it. The SIM's persistent state lives in the SIM file
 * and is rewritten, atomically and durably, whenever the applet changes
 * it; it is locked (FILE.lock) for the process's life, so a second ztp-sim
 * on the same file exits at start. A restart is a card reset: requests are
 * gone, the Device ID and the keys stay.
 *
 * The slave side of the pty stays open in this process as well, so a
 * device application may close and reopen it at will: the master never
 * sees a hang-up and the modem keeps its state (echo, open channels).
 */
/* posix_openpt(), grantpt(), unlockpt() and ptsname() are XSI */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "clock.h"
#include "at.h"
#include "at_c2c.h"
#include "at_devcert.h"
#include "at_usec.h"
#include "fault.h"
#include "log.h"
#include "module.h"
#include "num.h"
#include "simfile.h"
#include "ztp/card.h"
#include "ztp/crypto_ossl.h"
#include "ztp/err.h"
#include "ztp/safe2.h"
#include "ztp/transport.h"

/* output the DTE does not read is dropped beyond this */
#define SIM_OUTQ_MAX (256 * 1024)

struct sim {
	struct event_base *base;
	struct event *ev_read, *ev_write, *ev_timer, *ev_resume, *ev_term, *ev_int;
	int master, slave;
	char pty[PATH_MAX];
	const char *link;
	int linked;
	struct evbuffer *outq;
	int dropping;

	struct at at;
	struct at_ops at_ops;
	struct card card;
	struct safe2 applet;
	struct safe2_platform plat;
	struct simfile sf;
	int lock_fd; /* simfile_lock(): held while we run */
	struct transport *tr;
	/* the rotation state last saved, to name the step a save is (fault points) */
	uint32_t saved_generation;
	size_t saved_pending_len;

	FILE *trace;
	uint64_t start_ms;
	uint64_t creg_delay_ms;
	int roaming;

	/* ztp-sim --module: a module's root of trust (module.h); NULL: none */
	struct module *module;
	struct at_module_ops mod_ops;
	struct at_ext devcert_ext; /* AT+USECDEVCERT (at_devcert.c) */
	int have_sim; /* --sim given: without it AT+CSIM answers ERROR */
	/* the module's chip-to-chip channel (at_c2c.h): between the pty and the interpreter */
	struct at_c2c c2c;
	int have_c2c;
	/* the RoT's services' commands (at_usec.h) */
	struct at_usec usec;
};

/* ---- the applet's platform ---- */

static int
plat_persist(void *arg, const struct safe2_persist *p)
{
	struct sim *sim = arg;
	char err[512], before[40], after[40];
	const char *step = NULL;

	/* which step of a key rotation this save is, for the crash tests */
	if (p->psk_generation != sim->saved_generation)
		step = "commit";
	else if (p->pending_len > 0 && sim->saved_pending_len == 0)
		step = "pending";
	else if (p->pending_len == 0 && sim->saved_pending_len > 0)
		step = "drop";
	if (step != NULL) {
		snprintf(before, sizeof(before), "sim_before_%s", step);
		snprintf(after, sizeof(after), "sim_after_%s", step);
		fault_point(before);
	}
	if (simfile_save(&sim->sf, p, err, sizeof(err)) != 0) {
		log_warnx("cannot save the SIM state: %s", err);
		return -1;
	}
	if (step != NULL) {
		log_info("key rotation: %s saved (generation %u%s)", step, p->psk_generation,
		    p->pending_len ? ", a pending key" : "");
		fault_point(after);
	}
	sim->saved_generation = p->psk_generation;
	sim->saved_pending_len = p->pending_len;
	log_debug("SIM state saved to %s", sim->sf.path);
	return 0;
}

static void
transport_log(void *arg, enum transport_log_level level, const char *msg)
{
	switch (level) {
	case TRANSPORT_LOG_DEBUG:
		log_debug("transport: %s", msg);
		break;
	case TRANSPORT_LOG_INFO:
		log_info("transport: %s", msg);
		break;
	default:
		log_warnx("transport: %s", msg);
		break;
	}
}

static void
on_done(void *arg, enum safe2_job job, const struct safe2_http_resp *r)
{
	struct sim *sim = arg;
	const struct timeval now = { 0, 0 };
	struct transport_info ti;

	if (transport_last_info(sim->tr, job, &ti) == 0)
		log_debug("%s attempt: %s, %s, %s, %lu ms, outcome %d, status %d, "
			  "%llu bytes in, %llu bytes out",
		    job == SAFE2_JOB_CONFIG ? "configuration" : "telemetry",
		    ti.addr[0] ? ti.addr : "no address",
		    ti.handshake_done ? (ti.psk_ke ? "psk_ke" : "psk_dhe_ke") : "no handshake",
		    ti.cipher != NULL ? ti.cipher : "no cipher", (unsigned long)ti.elapsed_ms,
		    (int)r->outcome, r->status, (unsigned long long)ti.bytes_in,
		    (unsigned long long)ti.bytes_out);
	safe2_complete(&sim->applet, job, r);
	/*
	 * Tick from the timer, not from inside the transport's callback: a
	 * tick may start the next attempt of the same job.
	 */
	evtimer_add(sim->ev_timer, &now);
}

static int
plat_start(void *arg, const struct safe2_http_req *req)
{
	struct sim *sim = arg;

	log_debug("%s %s:%u%s", req->method, req->host, req->port, req->target);
	return transport_start(sim->tr, req, on_done, sim) == 0 ? 0 : -1;
}

static void
plat_cancel(void *arg, enum safe2_job job)
{
	struct sim *sim = arg;

	transport_cancel(sim->tr, job);
}

static uint64_t
plat_now_ms(void *arg)
{
	return (uint64_t)clock_mono_ms();
}

static uint32_t
plat_random(void *arg)
{
	uint32_t r = 0;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return 0; /* no jitter rather than no retry */
	return r;
}

/* Tick the applet and arm the timer for its next due attempt. */
static void
rearm(struct sim *sim)
{
	int64_t ms = safe2_tick(&sim->applet);
	struct timeval tv;

	if (ms < 0) {
		evtimer_del(sim->ev_timer);
		return;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(sim->ev_timer, &tv);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	rearm(arg);
}

/* ---- the modem ---- */

static void
flush_out(struct sim *sim)
{
	int n;

	while (evbuffer_get_length(sim->outq) > 0) {
		n = evbuffer_write(sim->outq, sim->master);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			event_add(sim->ev_write, NULL);
			return;
		}
		/* EIO: no reader at all; keep it for when one comes */
		event_add(sim->ev_write, NULL);
		return;
	}
	event_del(sim->ev_write);
}

static void
pty_out(void *arg, const uint8_t *buf, size_t len)
{
	struct sim *sim = arg;

	if (evbuffer_get_length(sim->outq) + len > SIM_OUTQ_MAX) {
		if (!sim->dropping)
			log_warnx("the device application does not read: dropping output");
		sim->dropping = 1;
		return;
	}
	sim->dropping = 0;
	evbuffer_add(sim->outq, buf, len);
}

/* The interpreter's output: through the chip-to-chip channel with a module. */
static void
at_out(void *arg, const uint8_t *buf, size_t len)
{
	struct sim *sim = arg;

	if (sim->have_c2c)
		at_c2c_out(&sim->c2c, buf, len);
	else
		pty_out(sim, buf, len);
}

static size_t
at_csim(void *arg, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap)
{
	struct sim *sim = arg;
	size_t n;

	if (!sim->have_sim)
		return 0;
	n = card_process(&sim->card, cmd, len, resp, cap);
	rearm(sim);
	return n;
}

static int
at_creg(void *arg)
{
	struct sim *sim = arg;

	if ((uint64_t)clock_mono_ms() - sim->start_ms < sim->creg_delay_ms)
		return AT_CREG_SEARCHING;
	return sim->roaming ? AT_CREG_ROAMING : AT_CREG_HOME;
}

/*
 * The personalisation command that writes the PSK (DA 02 D5) must not end
 * up in the trace: its data is replaced by "..".
 */
static size_t
redact(const char *line, size_t len)
{
	static const char prefix[] = "AT+CSIM=";
	const char *q;
	size_t i;

	if (len < sizeof(prefix) - 1)
		return len;
	for (i = 0; i < sizeof(prefix) - 1; i++)
		if ((line[i] | 0x20) != (prefix[i] | 0x20))
			return len;
	if ((q = memchr(line, '"', len)) == NULL || (size_t)(q - line) + 11 > len)
		return len;
	/* q[1..2] CLA, q[3..4] INS, q[5..6] P1, q[7..8] P2, q[9..10] Lc */
	if (strncasecmp(q + 3, "DA02D5", 6) != 0)
		return len;
	return (size_t)(q - line) + 11;
}

static void
at_trace(void *arg, enum at_dir dir, const char *line, size_t len)
{
	struct sim *sim = arg;
	char safe[4 * AT_LINE_MAX + 8];
	struct timespec ts;
	struct tm tm;
	size_t n = at_c2c_redact(line, dir == AT_IN ? redact(line, len) : len);

	if (sim->trace == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	log_sanitize(line, n, safe, sizeof(safe));
	fprintf(sim->trace, "%02d:%02d:%02d.%03ld %c %s%s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000, dir == AT_IN ? '>' : '<', safe, n < len ? ".." : "");
	fflush(sim->trace);
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct sim *sim = arg;
	const struct timeval pause = { 0, 100000 };
	uint8_t buf[4096];
	ssize_t n;

	n = read(sim->master, buf, sizeof(buf));
	if (n > 0) {
		if (sim->have_c2c)
			at_c2c_input(&sim->c2c, buf, (size_t)n);
		else
			at_input(&sim->at, buf, (size_t)n);
		flush_out(sim);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	/*
	 * EIO or end of file: no process holds the slave open (we do, so
	 * this should not happen). Do not spin: look again a little later.
	 */
	event_del(sim->ev_read);
	evtimer_add(sim->ev_resume, &pause);
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct sim *sim = arg;

	event_add(sim->ev_read, NULL);
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
	flush_out(arg);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct sim *sim = arg;

	log_info("signal %d: exiting", (int)sig);
	event_base_loopbreak(sim->base);
}

/* ---- the module (ztp-sim --module) ---- */

static int
mod_seal(void *arg, const char *profile, size_t plen, const char *serial, size_t slen)
{
	return module_seal(((struct sim *)arg)->module, profile, plen, serial, slen);
}

static void
mod_status(void *arg, int *registered, int *claimed, int *bootstrapped)
{
	module_status(((struct sim *)arg)->module, registered, claimed, bootstrapped);
}

static int
mod_conn(void *arg)
{
	return module_conn(((struct sim *)arg)->module);
}

/* HOST:PORT or [V6]:PORT into host (cap bytes) and port. 0 or -1. */
static int
parse_server(const char *s, char *host, size_t cap, uint16_t *port)
{
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hlen;
	uint64_t p;

	if (colon == NULL || num_parse_u64z(colon + 1, 1, 65535, &p) != 0)
		return -1;
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		h = s + 1;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= cap)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* ---- set-up ---- */

static int
open_pty(struct sim *sim)
{
	struct termios tio;
	const char *name;

	if ((sim->master = posix_openpt(O_RDWR | O_NOCTTY)) < 0) {
		log_warn("posix_openpt");
		return -1;
	}
	if (grantpt(sim->master) != 0 || unlockpt(sim->master) != 0 ||
	    (name = ptsname(sim->master)) == NULL) {
		log_warn("cannot set up the pty");
		return -1;
	}
	snprintf(sim->pty, sizeof(sim->pty), "%s", name);
	if ((sim->slave = open(sim->pty, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		log_warn("%s", sim->pty);
		return -1;
	}
	/* a serial line as the device application expects it: raw, no local echo */
	if (tcgetattr(sim->slave, &tio) == 0) {
		cfmakeraw(&tio);
		cfsetispeed(&tio, B115200);
		cfsetospeed(&tio, B115200);
		tcsetattr(sim->slave, TCSANOW, &tio);
	}
	if (fcntl(sim->master, F_SETFL, fcntl(sim->master, F_GETFL) | O_NONBLOCK) != 0 ||
	    fcntl(sim->master, F_SETFD, FD_CLOEXEC) != 0) {
		log_warn("fcntl");
		return -1;
	}
	return 0;
}

/* A symlink at path to the pty, replacing an older symlink (never another file). */
static int
make_link(struct sim *sim)
{
	char tmp[PATH_MAX];
	struct stat st;

	if (lstat(sim->link, &st) == 0 && !S_ISLNK(st.st_mode)) {
		log_warnx("%s exists and is not a symlink; not replacing it", sim->link);
		return -1;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", sim->link, (long)getpid()) >=
	    sizeof(tmp)) {
		log_warnx("%s: path too long", sim->link);
		return -1;
	}
	unlink(tmp);
	if (symlink(sim->pty, tmp) != 0 || rename(tmp, sim->link) != 0) {
		log_warn("cannot link %s to %s", sim->link, sim->pty);
		unlink(tmp);
		return -1;
	}
	sim->linked = 1;
	return 0;
}

/* Remove the symlink, if it still points to our pty. */
static void
remove_link(struct sim *sim)
{
	char target[PATH_MAX];
	ssize_t n;

	if (!sim->linked)
		return;
	n = readlink(sim->link, target, sizeof(target) - 1);
	if (n >= 0) {
		target[n] = '\0';
		if (!strcmp(target, sim->pty))
			unlink(sim->link);
	}
	sim->linked = 0;
}

#define MODULE_FW_DEFAULT "sim-1"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ztp-sim [--sim FILE] [--module FILE --module-server HOST:PORT]\n"
	    "               [--module-firmware VERSION] [--link PATH] [--t0]\n"
	    "               [--creg-delay SECONDS] [--roaming] [--trace FILE] [--psk-ke]\n"
	    "               [--verbose]\n"
	    "       ztp-sim --module FILE --module-create UID --factory-key-file KEYFILE\n"
	    "\n"
	    "A virtual modem on a pseudo-terminal with a virtual SIM running the SAFE2\n"
	    "applet, a cellular module's root of trust, or both. Prints the pty's path\n"
	    "on stdout and answers AT commands on it (AT, ATE0/ATE1, ATI, AT+CGSN,\n"
	    "AT+CCID, AT+ICCID, AT+CREG?, AT+CSIM with --sim; AT+USECDEVINFO=,\n"
	    "AT+USECDEVINFO?, AT+USECCONN with --module).\n"
	    "\n"
	    "  --sim FILE            the SIM state file (JSON; rewritten when the applet\n"
	    "                        changes its persistent state, mode 0600); locked\n"
	    "                        through FILE.lock: one ztp-sim per SIM file\n"
	    "  --link PATH           also make PATH a symlink to the pty (removed on exit)\n"
	    "  --t0                  T=0 card: response data with 61xx and GET RESPONSE\n"
	    "  --creg-delay SECONDS  report 'searching' this long after start (default 0);\n"
	    "                        the module makes no contact before\n"
	    "  --roaming             registered roaming (5) rather than home (1)\n"
	    "  --trace FILE          append every AT line in (>) and out (<), timestamped\n"
	    "  --psk-ke              TLS 1.3 key exchange psk_ke (no (EC)DHE), as the SIM\n"
	    "  --verbose             debug logging on stderr\n"
	    "\n"
	    "The module (docs/protocol/security-service.md section 9):\n"
	    "  --module FILE         the module's NVM: its root of trust's state (binary,\n"
	    "                        mode 0600, rewritten whole at every change); locked\n"
	    "                        through FILE.lock: one ztp-sim per module file. It\n"
	    "                        bootstraps at start and heartbeats on its own\n"
	    "  --module-server HOST:PORT  ztpd's device listener ([V6]:PORT for IPv6)\n"
	    "  --module-firmware VERSION  reported to the server (default " MODULE_FW_DEFAULT ")\n"
	    "  --module-create UID   create FILE (which must not exist) for the RoT UID\n"
	    "                        (32 hex digits) with the factory secret in KEYFILE\n"
	    "                        (64 hex digits), then exit\n"
	    "  --factory-key-file KEYFILE  see --module-create\n"
	    "AT+USECDEVINFO=\"<profile>\",\"<serial>\" seals once (later calls answer OK and\n"
	    "change nothing; a malformed argument is +CME ERROR: operation not allowed);\n"
	    "AT+USECDEVINFO? answers +USECDEVINFO: <registered>,<claimed>,<bootstrapped>;\n"
	    "AT+USECCONN runs a heartbeat and answers once it is over. The log says\n"
	    "\"bootstrap done: N bytes\" with the TCP payload of the bootstrap.\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sim", required_argument, NULL, 's' },
		{ "link", required_argument, NULL, 'l' },
		{ "t0", no_argument, NULL, '0' },
		{ "creg-delay", required_argument, NULL, 'c' },
		{ "roaming", no_argument, NULL, 'r' },
		{ "trace", required_argument, NULL, 't' },
		{ "psk-ke", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "module", required_argument, NULL, 'm' },
		{ "module-server", required_argument, NULL, 'S' },
		{ "module-firmware", required_argument, NULL, 'F' },
		{ "module-create", required_argument, NULL, 'C' },
		{ "factory-key-file", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim sim;
	struct safe2_persist persist;
	struct transport_opts topts;
	const char *simpath = NULL, *tracepath = NULL;
	const char *modpath = NULL, *modserver = NULL, *modcreate = NULL, *keyfile = NULL;
	const char *firmware = MODULE_FW_DEFAULT;
	struct module_opts mopts;
	char modhost[256], uidhex[33];
	char err[512], imei[AT_IMEI_DIGITS + 1];
	uint64_t delay = 0;
	int t0 = 0, psk_ke = 0, verbose = 0, c, rc = 1;

	memset(&sim, 0, sizeof(sim));
	sim.master = sim.slave = sim.lock_fd = -1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			simpath = optarg;
			break;
		case 'l':
			sim.link = optarg;
			break;
		case '0':
			t0 = 1;
			break;
		case 'c':
			if (num_parse_u64z(optarg, 0, 86400, &delay) != 0) {
				fprintf(stderr, "ztp-sim: --creg-delay: seconds from 0 to 86400\n");
				return 2;
			}
			break;
		case 'r':
			sim.roaming = 1;
			break;
		case 't':
			tracepath = optarg;
			break;
		case 'k':
			psk_ke = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'm':
			modpath = optarg;
			break;
		case 'S':
			modserver = optarg;
			break;
		case 'F':
			firmware = optarg;
			break;
		case 'C':
			modcreate = optarg;
			break;
		case 'K':
			keyfile = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (simpath == NULL && modpath == NULL) ||
	    ((modcreate != NULL || keyfile != NULL) && (modpath == NULL || modcreate == NULL ||
							   keyfile == NULL || simpath != NULL))) {
		usage(stderr);
		return 2;
	}
	log_init("ztp-sim", LOG_FORMAT_TEXT, verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (modcreate != NULL) {
		if (module_create(modpath, modcreate, keyfile, err, sizeof(err)) != 0) {
			log_warnx("%s", err);
			return 1;
		}
		log_info("module %s created for RoT UID %s", modpath, modcreate);
		return 0;
	}
	memset(&mopts, 0, sizeof(mopts));
	if (modpath != NULL) {
		if (modserver == NULL ||
		    parse_server(modserver, modhost, sizeof(modhost), &mopts.port) != 0) {
			fprintf(stderr, "ztp-sim: --module needs --module-server HOST:PORT\n");
			return 2;
		}
		mopts.path = modpath;
		mopts.host = modhost;
		mopts.firmware = firmware;
	}
	sim.have_sim = simpath != NULL;
	signal(SIGPIPE, SIG_IGN);
	sim.creg_delay_ms = delay * 1000;
	sim.start_ms = (uint64_t)clock_mono_ms();
	mopts.network_delay_ms = sim.creg_delay_ms;

	/*
	 * One ztp-sim per SIM file: two would overwrite each other's saves,
	 * and the second's load would remove the first's temporary files.
	 */
	if (sim.have_sim && (sim.lock_fd = simfile_lock(simpath, err, sizeof(err))) < 0) {
		log_warnx("%s", err);
		goto out;
	}
	if (sim.have_sim && simfile_load(&sim.sf, simpath, &persist, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		goto out;
	}
	if (tracepath != NULL && (sim.trace = fopen(tracepath, "ae")) == NULL) {
		log_warn("%s", tracepath);
		goto out;
	}
	if ((sim.base = event_base_new()) == NULL || (sim.outq = evbuffer_new()) == NULL) {
		log_warnx("cannot create the event loop");
		goto out;
	}
	transport_opts_defaults(&topts);
	topts.psk_ke = psk_ke;
	topts.log = transport_log;
	if (sim.have_sim && (sim.tr = transport_new(sim.base, &topts)) == NULL) {
		log_warnx("cannot create the network transport");
		goto out;
	}
	if (modpath != NULL && (sim.module = module_start(&mopts, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		goto out;
	}

	if (!sim.have_sim)
		memset(&persist, 0, sizeof(persist));
	sim.plat.persist = plat_persist;
	sim.plat.start = plat_start;
	sim.plat.cancel = plat_cancel;
	sim.plat.now_ms = plat_now_ms;
	sim.plat.random = plat_random;
	sim.plat.arg = &sim;
	sim.saved_generation = persist.psk_generation;
	sim.saved_pending_len = persist.pending_len;
	safe2_init(&sim.applet, &sim.plat, &persist);
	OPENSSL_cleanse(&persist, sizeof(persist));
	card_init(&sim.card, &sim.applet, t0);

	sim.at_ops.out = at_out;
	sim.at_ops.csim = at_csim;
	sim.at_ops.creg = at_creg;
	sim.at_ops.trace = sim.trace != NULL ? at_trace : NULL;
	sim.at_ops.arg = &sim;
	at_imei_for(sim.applet.p.iccid, imei);
	at_init(&sim.at, &sim.at_ops, sim.applet.p.iccid, imei);
	if (sim.module != NULL) {
		sim.mod_ops.seal = mod_seal;
		sim.mod_ops.status = mod_status;
		sim.mod_ops.conn = mod_conn;
		sim.mod_ops.arg = &sim;
		at_set_module(&sim.at, &sim.mod_ops);
		if (at_usec_init(&sim.usec, sim.module, &sim.at) != 0) {
			log_warnx("no room for the services' AT commands");
			goto out;
		}
		/* AT+USECDEVCERT (at_devcert.c) */
		at_devcert_ext(&sim.devcert_ext, sim.module);
		if (at_add_ext(&sim.at, &sim.devcert_ext) != 0) {
			log_warnx("no room for AT+USECDEVCERT");
			goto out;
		}
	}

	if (open_pty(&sim) != 0)
		goto out;
	/* the terminal that pairs is the pty */
	if (sim.module != NULL) {
		if (at_c2c_init(&sim.c2c, sim.module, ztp_crypto_openssl(), &sim.at, sim.pty, pty_out,
			&sim, err, sizeof(err)) != 0) {
			log_warnx("%s", err);
			goto out;
		}
		sim.have_c2c = 1;
	}
	sim.ev_read = event_new(sim.base, sim.master, EV_READ | EV_PERSIST, on_read, &sim);
	sim.ev_write = event_new(sim.base, sim.master, EV_WRITE | EV_PERSIST, on_write, &sim);
	sim.ev_timer = evtimer_new(sim.base, on_timer, &sim);
	sim.ev_resume = evtimer_new(sim.base, on_resume, &sim);
	sim.ev_term = evsignal_new(sim.base, SIGTERM, on_signal, &sim);
	sim.ev_int = evsignal_new(sim.base, SIGINT, on_signal, &sim);
	if (sim.ev_read == NULL || sim.ev_write == NULL || sim.ev_timer == NULL ||
	    sim.ev_resume == NULL || sim.ev_term == NULL || sim.ev_int == NULL ||
	    event_add(sim.ev_read, NULL) != 0 || event_add(sim.ev_term, NULL) != 0 ||
	    event_add(sim.ev_int, NULL) != 0) {
		log_warnx("cannot set up events");
		goto out;
	}
	if (sim.link != NULL && make_link(&sim) != 0)
		goto out;

	printf("%s\n", sim.pty);
	fflush(stdout);
	if (sim.have_sim)
		log_info("SIM %s, server %s:%u%s, Device ID %s, %s; modem on %s",
		    sim.applet.p.iccid, sim.applet.p.host, sim.applet.p.port, sim.applet.p.path,
		    sim.applet.p.device_id_len ? "set" : "not set",
		    sim.applet.p.locked ? "locked" : "unlocked", sim.pty);
	if (sim.module != NULL) {
		module_uid_hex(sim.module, uidhex);
		log_info("module %s, RoT UID %s, server %s:%u; modem on %s", modpath, uidhex,
		    modhost, mopts.port, sim.pty);
	}

	if (event_base_dispatch(sim.base) < 0) {
		log_warnx("event loop failed");
		goto out;
	}
	rc = 0;
out:
	remove_link(&sim);
	at_c2c_free(&sim.c2c);
	module_stop(sim.module); /* the thread goes before the state it uses */
	/* a card reset: in-flight attempts are cancelled before the transport goes */
	if (sim.tr != NULL)
		safe2_reset(&sim.applet);
	transport_free(sim.tr);
	if (sim.ev_read)
		event_free(sim.ev_read);
	if (sim.ev_write)
		event_free(sim.ev_write);
	if (sim.ev_timer)
		event_free(sim.ev_timer);
	if (sim.ev_resume)
		event_free(sim.ev_resume);
	if (sim.ev_term)
		event_free(sim.ev_term);
	if (sim.ev_int)
		event_free(sim.ev_int);
	if (sim.outq)
		evbuffer_free(sim.outq);
	if (sim.base)
		event_base_free(sim.base);
	if (sim.slave >= 0)
		close(sim.slave);
	if (sim.master >= 0)
		close(sim.master);
	if (sim.trace)
		fclose(sim.trace);
	simfile_free(&sim.sf);
	OPENSSL_cleanse(&sim.applet.p, sizeof(sim.applet.p));
	if (sim.lock_fd >= 0)
		close(sim.lock_fd); /* the lock goes last: nothing of ours writes the file now */
	return rc;
}
