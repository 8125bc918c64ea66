/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alarm: the device application of the SAFE2 demo (spec safe2.md).
 *
 * It drives a modem over a serial device (a real one, or the pseudo-
 * terminal of ztp-sim) with AT commands, and the SAFE2 applet of its SIM
 * with AT+CSIM: it sets the Device ID, has the applet fetch the
 * configuration over TLS 1.3 PSK, reads it, and switches its "alarm"
 * output as the configuration says. The exchange follows the original
 * device's (section 1): the Device ID in a session of its own, then per
 * round a session that starts the request, polls it, reads the body.
 *
 * Exit status: 0 success, 1 failure, 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "applet.h"
#include "hex.h"
#include "modem.h"
#include "msg.h"
#include "wait.h"
#include "ztp/err.h"

#define EXIT_USAGE 2

#define PROBE_TRIES 10       /* AT, one a second */
#define REGISTER_MAX_S 300   /* AT+CREG?, one a second */
#define POLL_DEFAULT_S 15.0  /* as the original demo */
#define INTERVAL_DEFAULT_S 300.0
#define SECONDS_MAX 2678400.0 /* 31 days, for --poll and --interval */
#define BODY_MAX 4096         /* the spec's bodies are at most 255 bytes */
#define MACHINE_ID_PATH "/etc/machine-id"
#define MACHINE_ID_HEX 32

struct opts {
	const char *device;
	uint8_t device_id[APPLET_DEVICE_ID_MAX];
	size_t device_id_len; /* 0: from /etc/machine-id */
	double poll_s;
	double interval_s;
	int once;
	const char *led;
	const char *telemetry;
	size_t telemetry_len;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: alarm --device PATH [--device-id HEX] [--poll SECONDS]\n"
	    "             [--interval SECONDS] [--once] [--led FILE]\n"
	    "             [--telemetry TEXT] [--verbose]\n"
	    "\n"
	    "The device application of the SAFE2 demo: asks the SIM's SAFE2 applet,\n"
	    "through the modem on PATH, for the device's configuration and sets the\n"
	    "alarm output from its iot:Alarm entry.\n"
	    "\n"
	    "  --device PATH       serial device of the modem (a tty, or the pty of\n"
	    "                      ztp-sim); raw mode, 115200 8N1\n"
	    "  --device-id HEX     Device ID, 1 to 16 bytes in hex (default: the 16\n"
	    "                      bytes of " MACHINE_ID_PATH ")\n"
	    "  --poll SECONDS      time between status polls (default 15; fractions\n"
	    "                      such as 0.1 allowed)\n"
	    "  --interval SECONDS  time between two rounds (default 300)\n"
	    "  --once              one round, then exit\n"
	    "  --led FILE          write 1 (ON) or 0 (OFF) to FILE\n"
	    "  --telemetry TEXT    also send TEXT (1 to 255 bytes) as telemetry each\n"
	    "                      round and wait until it is delivered\n"
	    "  --verbose           show the AT traffic\n"
	    "  --help              this text\n"
	    "\n"
	    "The modem gets %d tries of AT, one a second, and %d s to register to a\n"
	    "network. Every AT command must be answered within %d s.\n"
	    "\n"
	    "Exit status: 0 success (with --once: the configuration was applied, or\n"
	    "there is none), 1 failure (the modem, the card, the request or the\n"
	    "configuration), 2 usage error. Without --once it runs until SIGINT or\n"
	    "SIGTERM (exit 0), or until the serial device fails (exit 1).\n",
	    PROBE_TRIES, REGISTER_MAX_S, MODEM_CMD_TIMEOUT_MS / 1000);
}

static int
usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a usage error; returns ZTP_EINVAL, which main turns into exit 2. */
static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("alarm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(alarm --help for the options)\n", stderr);
	return ZTP_EINVAL;
}

/*
 * Parse a duration in seconds: digits with at most one '.', at least one
 * digit, no sign, no exponent, no space, at most SECONDS_MAX. Returns 0 or
 * ZTP_EINVAL (reported with the option's name).
 */
static int
parse_seconds(const char *opt, const char *s, double *out)
{
	const char *p;
	char *end;
	int dots = 0, digits = 0;
	double v;

	for (p = s; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p == '.' && dots == 0)
			dots++;
		else
			break;
	}
	if (*p != '\0' || digits == 0)
		return usage_error("%s: '%s' is not a number of seconds (such as 15 or 0.1)",
		    opt, s);
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || errno != 0 || !(v >= 0) || v > SECONDS_MAX)
		return usage_error("%s: '%s' is out of range (0 to %.0f seconds)", opt, s,
		    SECONDS_MAX);
	*out = v;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "device-id", required_argument, NULL, 'i' },
		{ "poll", required_argument, NULL, 'p' },
		{ "interval", required_argument, NULL, 't' },
		{ "once", no_argument, NULL, '1' },
		{ "led", required_argument, NULL, 'l' },
		{ "telemetry", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t n;
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->poll_s = POLL_DEFAULT_S;
	o->interval_s = INTERVAL_DEFAULT_S;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (optarg[0] == '\0')
				return usage_error("--device: empty path");
			o->device = optarg;
			break;
		case 'i':
			n = strlen(optarg);
			if (n == 0 || n > 2 * APPLET_DEVICE_ID_MAX ||
			    hex_decode(optarg, n, o->device_id, sizeof(o->device_id),
				&o->device_id_len) != 0)
				return usage_error("--device-id: expected 1 to %d bytes in hex "
						   "(2 to %d hex digits)",
				    APPLET_DEVICE_ID_MAX, 2 * APPLET_DEVICE_ID_MAX);
			break;
		case 'p':
			if ((rc = parse_seconds("--poll", optarg, &o->poll_s)) != 0)
				return rc;
			break;
		case 't':
			if ((rc = parse_seconds("--interval", optarg, &o->interval_s)) != 0)
				return rc;
			break;
		case '1':
			o->once = 1;
			break;
		case 'l':
			if (optarg[0] == '\0')
				return usage_error("--led: empty path");
			o->led = optarg;
			break;
		case 'T':
			n = strlen(optarg);
			if (n == 0 || n > APPLET_TELEMETRY_MAX)
				return usage_error("--telemetry: 1 to %d bytes, not %zu",
				    APPLET_TELEMETRY_MAX, n);
			o->telemetry = optarg;
			o->telemetry_len = n;
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
	return 0;
}

/*
 * The default Device ID: the 16 bytes that /etc/machine-id holds as 32
 * hex digits (and a newline). Returns 0 or ZTP_EIO (reported).
 */
static int
device_id_from_machine_id(uint8_t id[APPLET_DEVICE_ID_MAX], size_t *len)
{
	char buf[MACHINE_ID_HEX + 2];
	size_t n = 0;
	ssize_t r;
	int fd;

	fd = open(MACHINE_ID_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		msg_errno("%s (give the Device ID with --device-id)", MACHINE_ID_PATH);
		return ZTP_EIO;
	}
	while (n < sizeof(buf)) {
		r = read(fd, buf + n, sizeof(buf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			msg_errno("read %s", MACHINE_ID_PATH);
			close(fd);
			return ZTP_EIO;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n == MACHINE_ID_HEX + 1 && buf[MACHINE_ID_HEX] == '\n')
		n--;
	if (n != MACHINE_ID_HEX ||
	    hex_decode(buf, MACHINE_ID_HEX, id, APPLET_DEVICE_ID_MAX, len) != 0) {
		msg_err("%s does not hold 32 hex digits (give the Device ID with "
			"--device-id)", MACHINE_ID_PATH);
		return ZTP_EIO;
	}
	return 0;
}

/*
 * Session 1 of the original exchange: open, select, PUT DATA 02 C0, close.
 */
static int
set_device_id(struct applet *a, const struct opts *o)
{
	char hex[2 * APPLET_DEVICE_ID_MAX + 1];
	int rc, crc;

	if ((rc = applet_open(a)) != 0)
		return rc;
	rc = applet_set_device_id(a, o->device_id, o->device_id_len);
	crc = rc == ZTP_EIO ? 0 : applet_close(a);
	if (rc == 0 && crc != 0)
		rc = crc;
	if (rc != 0) {
		msg_info("Set Device ID: failed");
		return rc;
	}
	hex_encode(o->device_id, o->device_id_len, hex, sizeof(hex));
	msg_debug("Device ID %s", hex);
	msg_info("Set Device ID: OK");
	return 0;
}

/*
 * Poll GET STATUS (P1 which) every poll_s seconds while the state is 0001.
 * label is the progress line's ("receiving state: N"). *state and *result
 * get the final state, which is one of 0003, 0007 and 000F; any other is
 * reported and is ZTP_ECONFLICT.
 */
static int
poll_status(struct applet *a, uint8_t which, const char *label, double poll_s,
    uint16_t *state, uint16_t *result)
{
	int rc;

	for (;;) {
		if ((rc = applet_status(a, which, state, result)) != 0)
			return rc;
		msg_info("%s state: %u", label, (unsigned)*state);
		switch (*state) {
		case APPLET_STATE_BUSY:
			if (wait_seconds(poll_s) != 0)
				return ZTP_EBUSY;
			continue;
		case APPLET_STATE_DONE:
		case APPLET_STATE_DATA:
		case APPLET_STATE_FAILED:
			return 0;
		case APPLET_STATE_IDLE:
			msg_err("GET STATUS: the applet is idle: the request is gone (was the "
				"card reset?)");
			return ZTP_ECONFLICT;
		default:
			msg_err("GET STATUS: unknown state %04X (result %04X)", *state, *result);
			return ZTP_ECONFLICT;
		}
	}
}

/*
 * Find the iot:Alarm entry of the configuration body[0..len):
 * {"configuration":{"version":"...","config":[{"action":"iot:Alarm",
 * "effect":"On"|"Off"}, ...]}}. Prints the version and the alarm's
 * setting; *on gets 1 or 0. Returns 0 or ZTP_EMALFORMED (reported).
 */
static int
config_parse(const uint8_t *body, size_t len, int *on)
{
	char text[256];
	json_error_t jerr;
	json_t *root = NULL, *conf, *version, *list, *item, *action, *effect;
	const char *eff;
	size_t i;
	int found = -1, rc = ZTP_EMALFORMED;

	root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		msg_sanitize(jerr.text, strlen(jerr.text), text, sizeof(text));
		msg_err("the configuration is not JSON: %s (line %d, column %d)", text,
		    jerr.line, jerr.column);
		goto out;
	}
	conf = json_object_get(root, "configuration");
	version = json_object_get(conf, "version");
	list = json_object_get(conf, "config");
	if (!json_is_object(conf) || !json_is_string(version) || !json_is_array(list)) {
		msg_err("the configuration lacks \"configuration\" with a \"version\" string "
			"and a \"config\" array");
		goto out;
	}
	msg_sanitize(json_string_value(version), json_string_length(version), text,
	    sizeof(text));
	msg_info("configuration version: %s", text);
	json_array_foreach(list, i, item) {
		action = json_object_get(item, "action");
		if (!json_is_string(action) || strcmp(json_string_value(action), "iot:Alarm") != 0)
			continue;
		effect = json_object_get(item, "effect");
		eff = json_string_value(effect); /* NULL if not a string */
		if (eff == NULL || (strcmp(eff, "On") != 0 && strcmp(eff, "Off") != 0)) {
			if (eff != NULL)
				msg_sanitize(eff, json_string_length(effect), text, sizeof(text));
			msg_err("iot:Alarm: effect %s%s%s: expected \"On\" or \"Off\"",
			    eff != NULL ? "\"" : "", eff != NULL ? text : "missing",
			    eff != NULL ? "\"" : "");
			goto out;
		}
		if (found >= 0 && found != (strcmp(eff, "On") == 0)) {
			msg_err("iot:Alarm: the configuration says both On and Off");
			goto out;
		}
		found = strcmp(eff, "On") == 0;
	}
	if (found < 0) {
		msg_err("the configuration has no iot:Alarm entry");
		goto out;
	}
	msg_info("iot:Alarm configured as %s", found ? "ON" : "OFF");
	*on = found;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/*
 * Write "1\n" or "0\n" to path. A regular file (or a new one) is replaced
 * atomically: a temporary file in the same directory, renamed over it.
 * Anything else (a device, a FIFO, a symbolic link to an LED's sysfs
 * brightness), or a directory where no file can be created, is written in
 * place with truncation. Returns 0 or ZTP_EIO (reported).
 */
static int
led_write(const char *path, int on)
{
	const char *val = on ? "1\n" : "0\n";
	char *tmp = NULL;
	struct stat st;
	mode_t mode = 0644, mask;
	int fd = -1, exists, rc = ZTP_EIO;
	size_t plen = strlen(path);

	exists = lstat(path, &st) == 0;
	if (!exists && errno != ENOENT) {
		msg_errno("--led %s", path);
		return ZTP_EIO;
	}
	if (exists && !S_ISREG(st.st_mode))
		goto in_place;
	if (exists) {
		mode = st.st_mode & 07777;
	} else {
		mask = umask(0);
		umask(mask);
		mode = 0666 & ~mask;
	}
	if ((tmp = malloc(plen + sizeof(".XXXXXX"))) == NULL) {
		msg_err("out of memory");
		return ZTP_ENOMEM;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".XXXXXX", sizeof(".XXXXXX"));
	fd = mkstemp(tmp);
	if (fd < 0) {
		if (exists) {
			free(tmp);
			tmp = NULL;
			goto in_place; /* sysfs, or a directory we may not write */
		}
		msg_errno("--led: create a file next to %s", path);
		goto out;
	}
	if (fchmod(fd, mode) != 0 || write(fd, val, 2) != 2 || fsync(fd) != 0) {
		msg_errno("--led: write %s", tmp);
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		msg_errno("--led: close %s", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		msg_errno("--led: rename %s to %s", tmp, path);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	rc = 0;
	goto out;
in_place:
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || write(fd, val, 2) != 2) {
		msg_errno("--led: write %s", path);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		(void)unlink(tmp);
		free(tmp);
	}
	return rc;
}

/*
 * One configuration request in a session of its own: open, select,
 * GET DATA 00 00, GET STATUS until done, GET DATA 01 00, close; then
 * parse the body and set the output.
 */
static int
fetch_config(struct applet *a, const struct opts *o)
{
	uint8_t desc[APPLET_DESCRIPTOR_LEN], body[BODY_MAX];
	char text[2 * APPLET_DESCRIPTOR_LEN], err[128];
	size_t len = 0, dlen;
	uint16_t state = APPLET_STATE_IDLE, result = 0;
	int rc, crc, on;

	if ((rc = applet_open(a)) != 0)
		return rc;
	if ((rc = applet_start_request(a, desc)) != 0)
		goto close;
	for (dlen = 0; dlen < sizeof(desc) && desc[dlen] != 0; dlen++)
		;
	msg_sanitize(desc, dlen, text, sizeof(text));
	msg_debug("request: %s", text);
	rc = poll_status(a, APPLET_STATUS_CONFIG, "receiving", o->poll_s, &state, &result);
	if (rc != 0)
		goto close;
	switch (state) {
	case APPLET_STATE_DATA:
		if ((rc = applet_read_body(a, body, sizeof(body), &len)) != 0)
			goto close;
		msg_info("received:%zu", len);
		if (result != 0 && len != result) /* ztp's applet, as the seed, says 0 */
			msg_debug("the status announced %u bytes", (unsigned)result);
		break;
	case APPLET_STATE_DONE:
		msg_info("nothing to read: no configuration for this device");
		break;
	case APPLET_STATE_FAILED:
		applet_describe_error(result, err, sizeof(err));
		msg_err("configuration request failed: error %04X (%s)", result, err);
		rc = ZTP_ECONFLICT;
		break;
	}
close:
	crc = rc == ZTP_EIO ? 0 : applet_close(a);
	if (rc == 0 && crc != 0)
		rc = crc;
	if (rc != 0 || state != APPLET_STATE_DATA)
		return rc;
	if ((rc = config_parse(body, len, &on)) != 0)
		return rc;
	if (o->led != NULL && (rc = led_write(o->led, on)) != 0)
		return rc;
	return 0;
}

/*
 * Telemetry in a session of its own: open, select, PUT DATA 02 C1, GET
 * STATUS 01 until delivered or failed, close.
 */
static int
send_telemetry(struct applet *a, const struct opts *o)
{
	char err[128];
	uint16_t state = APPLET_STATE_IDLE, result = 0;
	int rc, crc;

	if ((rc = applet_open(a)) != 0)
		return rc;
	if ((rc = applet_send_telemetry(a, (const uint8_t *)o->telemetry,
		 o->telemetry_len)) != 0)
		goto close;
	msg_info("Send telemetry: OK");
	rc = poll_status(a, APPLET_STATUS_TELEMETRY, "sending", o->poll_s, &state, &result);
	if (rc != 0)
		goto close;
	switch (state) {
	case APPLET_STATE_DONE:
		msg_info("telemetry delivered");
		break;
	case APPLET_STATE_FAILED:
		applet_describe_error(result, err, sizeof(err));
		msg_err("telemetry failed: error %04X (%s)", result, err);
		rc = ZTP_ECONFLICT;
		break;
	default:
		msg_err("GET STATUS telemetry: unexpected state %04X", state);
		rc = ZTP_ECONFLICT;
		break;
	}
close:
	crc = rc == ZTP_EIO ? 0 : applet_close(a);
	if (rc == 0 && crc != 0)
		rc = crc;
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct modem m;
	struct applet a;
	int rc, exit_code = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_opts(argc, argv, &o) != 0)
		return EXIT_USAGE;
	if (o.device_id_len == 0 && device_id_from_machine_id(o.device_id, &o.device_id_len) != 0)
		return 1;
	if (wait_init() != 0) {
		msg_errno("sigaction");
		return 1;
	}
	if (modem_open(&m, o.device) != 0)
		return 1;
	applet_init(&a, &m);
	if ((rc = modem_probe(&m, PROBE_TRIES)) != 0)
		goto out;
	if ((rc = modem_wait_registered(&m, REGISTER_MAX_S)) != 0)
		goto out;
	if ((rc = set_device_id(&a, &o)) != 0)
		goto out;
	for (;;) {
		rc = fetch_config(&a, &o);
		if (rc == 0 && o.telemetry != NULL)
			rc = send_telemetry(&a, &o);
		if (o.once || rc == ZTP_EIO || wait_stopped())
			break;
		if (wait_seconds(o.interval_s) != 0)
			break;
	}
	if (rc == 0)
		exit_code = 0;
out:
	if (wait_stopped()) {
		msg_info("stopped");
		if (!o.once)
			exit_code = 0; /* asked to stop: the normal end of a service */
	}
	modem_close(&m);
	return exit_code;
}
