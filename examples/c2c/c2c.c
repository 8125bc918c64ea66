/* SPDX-License-Identifier: Apache-2.0 */
/*
 * c2c: a host MCU's application for the chip-to-chip secure channel
 * between it and its cellular module (docs/security-service.md,
 * "Chip-to-chip secure channel").
 *
 *   c2c --device TTY --keys FILE pair --te-secret HEX
 *     pairs: AT+USECC2C=0 gives the keys and a confirmation tag, the tag
 *     goes back encrypted with AT+USECC2C=4; the TE secret and the keys
 *     are written to FILE (mode 0600), which the host must keep safe
 *   c2c --device TTY --keys FILE run COMMAND...
 *     opens a session (AT+USECC2C=1, answered in plain text), sends each
 *     COMMAND in frames and prints the answer it decrypts, then closes the
 *     session (AT+USECC2C=2, whose OK comes encrypted)
 *
 * The AT layer before the session (serial line, lines, final results,
 * deadlines) is the alarm example's; the frames, the commands and the
 * parsing of the answers are libztp's (include/ztp/c2c.h); the crypto is
 * the platform's (here OpenSSL's, ztp/crypto_ossl.h).
 *
 * Exit status: 0 success, 1 failure, 2 usage error, 4 the module refused
 * (NOT_ALLOWED: not allowed now, or not paired).
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hex.h"
#include "modem.h"
#include "msg.h"
#include "wait.h"
#include "ztp/c2c.h"
#include "ztp/crypto_ossl.h"
#include "ztp/err.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_REFUSED 4
#define PROBE_TRIES 10
#define CMD_TIMEOUT_MS 10000
#define LINE_MAX_ 512

struct opts {
	const char *device, *keys, *te_hex;
	int pair;
	char **cmds;
	int ncmds;
};

/* The answer of AT+USECC2C=0. */
struct pairing {
	struct ztp_c2c_answer a;
	int seen, bad;
};

static int
on_pair_line(void *arg, const char *line, size_t len)
{
	struct pairing *p = arg;
	int rc = ztp_c2c_answer_parse(line, len, &p->a);

	if (rc == ZTP_ENOENT)
		return 0;
	p->bad |= rc != 0 || p->seen;
	p->seen = 1;
	return 0;
}

static int
save_keys(const char *path, const struct ztp_c2c_keys *k)
{
	char key[33], hmac[33], te[33];
	FILE *f;
	int fd;

	hex_encode(k->key, 16, key, sizeof(key));
	hex_encode(k->hmac_key, 16, hmac, sizeof(hmac));
	hex_encode(k->te_secret, 16, te, sizeof(te));
	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 ||
	    (f = fdopen(fd, "w")) == NULL) {
		msg_errno("%s", path);
		return -1;
	}
	fprintf(f, "version %d\nte-secret %s\nkey %s\nhmac-key %s\n", k->version, te, key, hmac);
	if (fclose(f) != 0) {
		msg_errno("%s", path);
		return -1;
	}
	return 0;
}

/* One "NAME HEX" line of the keys file into out (16 bytes). */
static int
read_hex_line(FILE *f, const char *name, uint8_t out[16])
{
	char n[16], h[40];
	size_t got = 0;

	if (fscanf(f, "%15s %39s", n, h) != 2 || strcmp(n, name) != 0 || strlen(h) != 32 ||
	    hex_decode(h, 32, out, 16, &got) != 0)
		return -1;
	return 0;
}

static int
load_keys(const char *path, struct ztp_c2c_keys *k)
{
	FILE *f = fopen(path, "r");
	int rc = -1;

	if (f == NULL) {
		msg_errno("%s", path);
		return -1;
	}
	memset(k, 0, sizeof(*k));
	if (fscanf(f, "version %d", &k->version) == 1 && (k->version == 1 || k->version == 2) &&
	    read_hex_line(f, "te-secret", k->te_secret) == 0 && read_hex_line(f, "key", k->key) == 0 &&
	    (k->version == 1 || read_hex_line(f, "hmac-key", k->hmac_key) == 0))
		rc = 0;
	fclose(f);
	if (rc != 0)
		msg_err("%s: not a keys file of this program", path);
	return rc;
}

/* A refusal's message; EXIT_REFUSED for +CME ERROR, EXIT_FAILED otherwise. */
static int
refused(struct modem *m, const char *what, int rc)
{
	char why[128];

	if (rc != ZTP_ECONFLICT) {
		msg_err("%s: %s", what, ztp_strerror(rc));
		return EXIT_FAILED;
	}
	msg_sanitize(m->final, strlen(m->final), why, sizeof(why));
	msg_info("%s: refused (%s)", what, why);
	return EXIT_REFUSED;
}

static int
do_pair(struct modem *m, const struct opts *o)
{
	const struct ztp_crypto *c = ztp_crypto_openssl();
	struct pairing p;
	struct ztp_c2c_keys k;
	uint8_t enc[ZTP_C2C_ENC_TAG_LEN];
	char cmd[ZTP_C2C_CMD_MAX];
	size_t n = 0;
	int rc;

	memset(&p, 0, sizeof(p));
	memset(&k, 0, sizeof(k));
	if (hex_decode(o->te_hex, strlen(o->te_hex), k.te_secret, 16, &n) != 0 || n != 16) {
		msg_err("--te-secret: 32 hex digits");
		return EXIT_USAGE;
	}
	ztp_c2c_cmd(ZTP_C2C_PAIR, k.te_secret, NULL, cmd, sizeof(cmd));
	if ((rc = modem_cmd(m, cmd, CMD_TIMEOUT_MS, on_pair_line, &p)) != 0)
		return refused(m, "Pairing", rc);
	if (!p.seen || p.bad) {
		msg_err("pairing: no valid +USECC2C answer");
		return EXIT_FAILED;
	}
	k.version = p.a.version;
	memcpy(k.key, p.a.key, 16);
	memcpy(k.hmac_key, p.a.hmac_key, 16);
	if (k.version == 2) {
		/* the confirmation: the tag, encrypted as a version 2 body */
		if (ztp_c2c_confirm_encrypt(c, &k, NULL, p.a.tag, enc) != 0 ||
		    ztp_c2c_cmd(ZTP_C2C_CONFIRM, k.te_secret, enc, cmd, sizeof(cmd)) != 0) {
			msg_err("pairing: cannot encrypt the confirmation tag");
			return EXIT_FAILED;
		}
		if ((rc = modem_cmd(m, cmd, CMD_TIMEOUT_MS, NULL, NULL)) != 0)
			return refused(m, "Confirmation", rc);
	}
	if (save_keys(o->keys, &k) != 0)
		return EXIT_FAILED;
	msg_info("Paired: version %d, keys in %s", k.version, o->keys);
	return 0;
}

/* Frames of text[0..len) to the module. */
static int
send_frames(struct modem *m, const struct ztp_c2c_keys *k, const char *text, size_t len)
{
	uint8_t out[4 * ZTP_C2C_FRAME_MAX];
	size_t olen = 0;

	if (ztp_c2c_encode(ztp_crypto_openssl(), k, NULL, 0, (const uint8_t *)text, len, out,
		sizeof(out), &olen) != 0)
		return ZTP_EINVAL;
	return serial_write(&m->ser, out, olen, wait_now_ms() + CMD_TIMEOUT_MS);
}

static int
is_final(const char *l)
{
	return !strcmp(l, "OK") || !strcmp(l, "ERROR") || !strncmp(l, "+CME ERROR:", 11) ||
	    !strncmp(l, "+CMS ERROR:", 11);
}

/*
 * Decrypt the answer: frames in, lines out (printed "< line") until a
 * final result, which goes to final (cap bytes). 0 or a ZTP_E code.
 */
static int
read_answer(struct modem *m, struct ztp_c2c_dec *d, char *final, size_t cap)
{
	uint8_t raw[256], clear[ZTP_C2C_CHUNK_MAX];
	char line[LINE_MAX_], safe[2 * LINE_MAX_];
	size_t got, off, used, clen, llen = 0, i;
	int64_t deadline = wait_now_ms() + CMD_TIMEOUT_MS;
	int rc;

	for (;;) {
		if ((rc = serial_read(&m->ser, raw, sizeof(raw), &got, deadline)) != 0)
			return rc;
		for (off = 0;;) {
			rc = ztp_c2c_dec_push(d, raw + off, got - off, &used, clear, sizeof(clear), &clen);
			off += used;
			if (rc < 0)
				msg_err("frame rejected: %s", ztp_c2c_fault_str(d->fault));
			if (rc == 0)
				break;
			for (i = 0; rc == 1 && i < clen; i++) {
				if (clear[i] == '\r' || clear[i] == '\n') {
					line[llen] = '\0';
					if (llen > 0) {
						msg_sanitize(line, llen, safe, sizeof(safe));
						msg_info("< %s", safe);
					}
					if (llen > 0 && is_final(line)) {
						snprintf(final, cap, "%s", line);
						return 0;
					}
					llen = 0;
				} else if (llen < sizeof(line) - 1) {
					line[llen++] = (char)clear[i];
				}
			}
		}
	}
}

static int
do_run(struct modem *m, const struct opts *o)
{
	struct ztp_c2c_keys k;
	struct ztp_c2c_dec d;
	uint8_t buf[ZTP_C2C_FRAME_MAX];
	char cmd[ZTP_C2C_CMD_MAX], text[LINE_MAX_], final[LINE_MAX_];
	int rc, i, failed = 0;

	if (load_keys(o->keys, &k) != 0)
		return EXIT_FAILED;
	ztp_c2c_cmd(ZTP_C2C_OPEN, k.te_secret, NULL, cmd, sizeof(cmd));
	if ((rc = modem_cmd(m, cmd, CMD_TIMEOUT_MS, NULL, NULL)) != 0)
		return refused(m, "Session", rc);
	msg_info("Session: open (version %d)", k.version);
	ztp_c2c_dec_init(&d, ztp_crypto_openssl(), &k, buf, sizeof(buf));
	for (i = 0; i <= o->ncmds; i++) {
		/* the commands, then the close */
		snprintf(text, sizeof(text), "%s\r\n", i < o->ncmds ? o->cmds[i] : "AT+USECC2C=2");
		msg_info("> %.*s", (int)strlen(text) - 2, text);
		if ((rc = send_frames(m, &k, text, strlen(text))) != 0 ||
		    (rc = read_answer(m, &d, final, sizeof(final))) != 0) {
			msg_err("%.*s: %s", (int)strlen(text) - 2, text, ztp_strerror(rc));
			return EXIT_FAILED;
		}
		failed |= strcmp(final, "OK") != 0;
	}
	if (strcmp(final, "OK") != 0) {
		msg_err("the session did not close: %s", final);
		return EXIT_FAILED;
	}
	msg_info("Session: closed");
	return failed ? EXIT_FAILED : 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: c2c --device TTY --keys FILE pair --te-secret HEX\n"
		   "       c2c --device TTY --keys FILE run COMMAND...\n");
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "keys", required_argument, NULL, 'k' },
		{ "te-secret", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->device = optarg;
			break;
		case 'k':
			o->keys = optarg;
			break;
		case 't':
			o->te_hex = optarg;
			break;
		case 'v':
			msg_verbose = 1;
			break;
		default:
			return -1;
		}
	}
	if (o->device == NULL || o->keys == NULL || optind >= argc)
		return -1;
	o->pair = strcmp(argv[optind], "pair") == 0;
	if (!o->pair && strcmp(argv[optind], "run") != 0)
		return -1;
	/* options after the verb (pair --te-secret HEX) */
	if (o->pair && optind + 3 == argc && strcmp(argv[optind + 1], "--te-secret") == 0)
		o->te_hex = argv[optind + 2];
	else if (o->pair && optind + 1 != argc)
		return -1;
	o->cmds = argv + optind + 1;
	o->ncmds = o->pair ? 0 : argc - optind - 1;
	return (o->pair && o->te_hex == NULL) || (!o->pair && o->ncmds == 0) ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct modem m;
	int rc;

	msg_prog = "c2c";
	memset(&o, 0, sizeof(o));
	if (parse_opts(argc, argv, &o) != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (wait_init() != 0) {
		msg_errno("sigaction");
		return EXIT_FAILED;
	}
	if (modem_open(&m, o.device) != 0)
		return EXIT_FAILED;
	if (modem_probe(&m, PROBE_TRIES) != 0) {
		modem_close(&m);
		return EXIT_FAILED;
	}
	rc = o.pair ? do_pair(&m, &o) : do_run(&m, &o);
	modem_close(&m);
	return rc;
}
