/* SPDX-License-Identifier: Apache-2.0 */
/*
 * module: a host MCU's application for a cellular module with the security
 * service (docs/protocol/security-service.md section 9).
 *
 * It drives the module over a serial device (a real one, or the pseudo-
 * terminal of ztp-sim --module) with AT commands: it seals a
 * DeviceProfileUID and a serial into the module's root of trust
 * (AT+USECDEVINFO="<profile>","<serial>"), polls AT+USECDEVINFO? until the
 * module says it is bootstrapped (1,x,1), then triggers one security
 * heartbeat (AT+USECCONN) and reads the status once more.
 *
 * The AT layer (serial line, lines, final results, deadlines) is the alarm
 * example's; the commands and the parsing of their answers are libztp's
 * (include/ztp/usec.h).
 *
 * Exit status: 0 success, 1 failure, 2 usage error, 3 not bootstrapped
 * within --timeout, 4 the module refused the heartbeat.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modem.h"
#include "msg.h"
#include "num.h"
#include "wait.h"
#include "ztp/err.h"
#include "ztp/usec.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_NOT_BOOTSTRAPPED 3
#define EXIT_HEARTBEAT_REFUSED 4

#define PROBE_TRIES 10         /* AT, one a second */
#define TIMEOUT_DEFAULT_S 300  /* for the bootstrap */
#define TIMEOUT_MAX_S 86400
#define POLL_DEFAULT_S 1
#define POLL_MAX_S 3600
/* AT+USECCONN answers once the heartbeat is over: a TLS handshake and two
 * requests over the module's network */
#define HEARTBEAT_TIMEOUT_MS 120000

struct opts {
	const char *device;
	const char *profile; /* NULL: no seal */
	const char *serial;
	uint64_t timeout_s;
	uint64_t poll_s;
};

/* One command's answer, and the +USECDEVINFO line for messages. */
struct exchange {
	struct usec_answer a;
	char info[128]; /* the last +USECDEVINFO line, escaped */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: module --device PATH [--profile UID --serial SERIAL]\n"
	    "              [--timeout SECONDS] [--poll SECONDS] [--verbose]\n"
	    "\n"
	    "A host MCU's application for a cellular module with the security service:\n"
	    "seals a DeviceProfileUID and a serial into the module, waits until it is\n"
	    "bootstrapped, triggers one security heartbeat and prints the status.\n"
	    "\n"
	    "  --device PATH      serial device of the module (a tty, or the pty of\n"
	    "                     ztp-sim --module); raw mode, 115200 8N1\n"
	    "  --profile UID      the DeviceProfileUID to seal: 32 lower-case hex digits\n"
	    "                     (ztpctl profile create prints it)\n"
	    "  --serial SERIAL    the device's serial to seal: 1 to %d printable ASCII\n"
	    "                     characters, no '\"'\n"
	    "                     (without --profile and --serial nothing is sealed)\n"
	    "  --timeout SECONDS  how long to wait for the bootstrap (default %d)\n"
	    "  --poll SECONDS     time between two AT+USECDEVINFO? (default %d)\n"
	    "  --verbose          show the AT traffic\n"
	    "  --help             this text\n"
	    "\n"
	    "A module seals once: a later seal answers OK and changes nothing.\n"
	    "\n"
	    "Exit status: 0 success (sealed if asked, bootstrapped, heartbeat OK),\n"
	    "1 failure (the serial device, the modem, a refused seal, a malformed\n"
	    "answer), 2 usage error, 3 not bootstrapped within --timeout, 4 the module\n"
	    "refused the heartbeat (within its minimum interval, or the heartbeat failed).\n",
	    USEC_SERIAL_MAX, TIMEOUT_DEFAULT_S, POLL_DEFAULT_S);
}

static int
usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a usage error; returns ZTP_EINVAL, which main turns into exit 2. */
static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("module: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(module --help for the options)\n", stderr);
	return ZTP_EINVAL;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "profile", required_argument, NULL, 'p' },
		{ "serial", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "poll", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char cmd[USEC_CMD_MAX];
	int c;

	memset(o, 0, sizeof(*o));
	o->timeout_s = TIMEOUT_DEFAULT_S;
	o->poll_s = POLL_DEFAULT_S;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (optarg[0] == '\0')
				return usage_error("--device: empty path");
			o->device = optarg;
			break;
		case 'p':
			o->profile = optarg;
			break;
		case 's':
			o->serial = optarg;
			break;
		case 't':
			if (num_parse_u64z(optarg, 1, TIMEOUT_MAX_S, &o->timeout_s) != 0)
				return usage_error("--timeout: '%s' is not a whole number of seconds "
						   "from 1 to %d", optarg, TIMEOUT_MAX_S);
			break;
		case 'P':
			if (num_parse_u64z(optarg, 1, POLL_MAX_S, &o->poll_s) != 0)
				return usage_error("--poll: '%s' is not a whole number of seconds "
						   "from 1 to %d", optarg, POLL_MAX_S);
			break;
		case 'v':
			msg_verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("invalid option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (o->device == NULL)
		return usage_error("--device PATH is required");
	if ((o->profile == NULL) != (o->serial == NULL))
		return usage_error("--profile and --serial go together");
	/* the library checks both as the module would: refuse before sending */
	if (o->profile != NULL && usec_seal_cmd(o->profile, "x", cmd, sizeof(cmd)) != 0)
		return usage_error("--profile: expected 32 lower-case hex digits");
	if (o->serial != NULL &&
	    usec_seal_cmd("00000000000000000000000000000000", o->serial, cmd, sizeof(cmd)) != 0)
		return usage_error("--serial: expected 1 to %d printable ASCII characters, "
				   "no '\"'", USEC_SERIAL_MAX);
	return 0;
}

/* modem_cmd's line callback: every information line goes to the answer. */
static int
take_line(void *arg, const char *line, size_t len)
{
	struct exchange *x = arg;

	if (len >= 13 && memcmp(line, "+USECDEVINFO:", 13) == 0)
		msg_sanitize(line, len, x->info, sizeof(x->info));
	/* never final here: modem_cmd keeps OK and the errors for itself */
	(void)usec_answer_line(&x->a, line, len);
	return 0;
}

/*
 * Send cmd and read its answer into x with usec's reader. Returns 0 (OK),
 * ZTP_ECONFLICT (the module's error: x->a.error), ZTP_EMALFORMED, or
 * modem_cmd's errors (time-out, serial line). Errors are reported here,
 * but for ZTP_ECONFLICT, which the caller names.
 */
static int
at_usec(struct modem *m, const char *cmd, enum usec_cmd kind, int timeout_ms,
    struct exchange *x)
{
	char why[MODEM_LINE_MAX + 64];
	int rc, ok;

	usec_answer_init(&x->a, kind);
	x->info[0] = '\0';
	rc = modem_cmd(m, cmd, timeout_ms, take_line, x);
	if (rc != 0 && rc != ZTP_ECONFLICT) {
		if (rc != ZTP_EBUSY && rc != ZTP_EIO) { /* EIO: serial_* reported it */
			modem_describe(m, rc, why, sizeof(why));
			msg_err("%s: %s", cmd, why);
		}
		return rc;
	}
	/* the final result modem_cmd consumed goes to the reader too */
	ok = rc == 0;
	if (ok)
		rc = usec_answer_line(&x->a, "OK", 2);
	else
		rc = usec_answer_line(&x->a, m->final, strlen(m->final));
	if (rc == ZTP_EMALFORMED) {
		if (!ok) {
			msg_sanitize(m->final, strlen(m->final), why, sizeof(why));
			msg_err("%s: malformed error line: %s", cmd, why);
		} else if (x->a.bad) {
			msg_err("%s: malformed or repeated answer line: %s", cmd, x->info);
		} else {
			msg_err("%s: no +USECDEVINFO line in the answer", cmd);
		}
	}
	return rc;
}

/* "the module answered ERROR" or "... +CME ERROR: <text>", into out. */
static void
describe_refusal(const struct modem *m, char *out, size_t cap)
{
	char text[MODEM_LINE_MAX];

	msg_sanitize(m->final, strlen(m->final), text, sizeof(text));
	snprintf(out, cap, "the module answered %s", text);
}

static int
seal(struct modem *m, const struct opts *o)
{
	char cmd[USEC_CMD_MAX], why[MODEM_LINE_MAX + 64];
	struct exchange x;
	int rc;

	if ((rc = usec_seal_cmd(o->profile, o->serial, cmd, sizeof(cmd))) != 0) {
		msg_err("seal: %s", ztp_strerror(rc)); /* parse_opts checked both */
		return rc;
	}
	rc = at_usec(m, cmd, USEC_SEAL, MODEM_CMD_TIMEOUT_MS, &x);
	if (rc == ZTP_ECONFLICT) {
		describe_refusal(m, why, sizeof(why));
		msg_err("seal refused: %s", why);
	}
	if (rc != 0)
		return rc;
	msg_info("Seal: OK (profile %s, serial %s)", o->profile, o->serial);
	return 0;
}

/* One AT+USECDEVINFO?; *st gets the numbers. Errors reported. */
static int
read_status(struct modem *m, struct usec_status *st)
{
	char cmd[USEC_CMD_MAX], why[MODEM_LINE_MAX + 64];
	struct exchange x;
	int rc;

	if ((rc = usec_status_cmd(cmd, sizeof(cmd))) != 0)
		return rc;
	rc = at_usec(m, cmd, USEC_STATUS, MODEM_CMD_TIMEOUT_MS, &x);
	if (rc == ZTP_ECONFLICT) {
		describe_refusal(m, why, sizeof(why));
		msg_err("%s: %s", cmd, why);
	}
	if (rc != 0)
		return rc;
	*st = x.a.status;
	return 0;
}

static void
print_status(const char *label, const struct usec_status *st)
{
	msg_info("%s: %u,%u,%u (%s)", label, st->registered, st->claimed, st->bootstrapped,
	    usec_status_describe(st));
}

/*
 * Poll AT+USECDEVINFO? every poll_s seconds until the module is
 * bootstrapped, printing the status when it changes. Returns 0,
 * ZTP_EEXPIRED with *late set after timeout_s (reported), or read_status's
 * error (a modem that does not answer in time is not *late).
 */
static int
wait_bootstrapped(struct modem *m, const struct opts *o, struct usec_status *st, int *late)
{
	int64_t start = wait_now_ms();
	int have_last = 0;
	struct usec_status last;
	int rc;

	for (;;) {
		if ((rc = read_status(m, st)) != 0)
			return rc;
		if (!have_last || memcmp(st, &last, sizeof(last)) != 0)
			print_status("status", st);
		last = *st;
		have_last = 1;
		if (usec_bootstrapped(st))
			return 0;
		if (wait_now_ms() - start >= (int64_t)o->timeout_s * 1000) {
			msg_err("not bootstrapped after %u s (last status %u,%u,%u: %s)",
			    (unsigned)o->timeout_s, st->registered, st->claimed, st->bootstrapped,
			    usec_status_describe(st));
			*late = 1;
			return ZTP_EEXPIRED;
		}
		if (wait_seconds((double)o->poll_s) != 0)
			return ZTP_EBUSY;
	}
}

/* One AT+USECCONN: 0, ZTP_ECONFLICT if the module refused (reported), or an error. */
static int
heartbeat(struct modem *m)
{
	char cmd[USEC_CMD_MAX], why[MODEM_LINE_MAX + 64];
	struct exchange x;
	int rc;

	if ((rc = usec_heartbeat_cmd(cmd, sizeof(cmd))) != 0)
		return rc;
	rc = at_usec(m, cmd, USEC_HEARTBEAT, HEARTBEAT_TIMEOUT_MS, &x);
	if (rc == ZTP_ECONFLICT) {
		msg_info("Heartbeat: refused (%s)", x.a.error[0] != '\0' ? x.a.error : "ERROR");
		describe_refusal(m, why, sizeof(why));
		msg_err("heartbeat refused: %s", why);
	}
	if (rc != 0)
		return rc;
	msg_info("Heartbeat: OK");
	return 0;
}

int
main(int argc, char **argv)
{
	struct usec_status st;
	struct opts o;
	struct modem m;
	int rc, late = 0, exit_code = EXIT_FAILED;

	msg_prog = "module";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_opts(argc, argv, &o) != 0)
		return EXIT_USAGE;
	if (wait_init() != 0) {
		msg_errno("sigaction");
		return EXIT_FAILED;
	}
	if (modem_open(&m, o.device) != 0)
		return EXIT_FAILED;
	if ((rc = modem_probe(&m, PROBE_TRIES)) != 0)
		goto out;
	if (o.profile != NULL && (rc = seal(&m, &o)) != 0)
		goto out;
	rc = wait_bootstrapped(&m, &o, &st, &late);
	if (late) {
		exit_code = EXIT_NOT_BOOTSTRAPPED;
		goto out;
	}
	if (rc != 0)
		goto out;
	rc = heartbeat(&m);
	if (rc == ZTP_ECONFLICT) {
		exit_code = EXIT_HEARTBEAT_REFUSED;
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((rc = read_status(&m, &st)) != 0)
		goto out;
	print_status("status", &st);
	exit_code = 0;
out:
	if (wait_stopped()) {
		msg_info("stopped");
		exit_code = EXIT_FAILED;
	}
	modem_close(&m);
	return exit_code;
}
