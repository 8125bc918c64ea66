/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: ztp-sim's AT interpreter (src/sim/at.h) with its
 * extension mechanism and the "> " data prompt (at_add_ext,
 * at_read_data), as the services' commands use them (at_usec.c, which
 * needs a running module, is not linked: small fake extensions stand in).
 *
 * The extensions: one that takes no command (the next is asked), then
 * AT+USECE2EDATAENC=<n>[,...] and AT+USECDATAENC=<n>,"<file>" (the data
 * after "> ", answered with its length and its first bytes in hex), and
 * AT+XCHAIN=<n> (a second prompt of n bytes asked from within the first's
 * callback). <n> may be 0 or past AT_DATA_MAX: at_read_data must refuse it.
 * A root of trust's commands (at_set_module) answer as the module would.
 *
 * The input is what the DTE types. It is fed twice, to two modems: whole,
 * and byte by byte. Invariants: both give the very same output and the
 * very same data to the callbacks; byte by byte, the data a callback gets
 * is exactly the n bytes after the CR that ended its command line, and
 * nothing at all is sent while the data comes (no echo, no answer); the
 * interpreter's buffers stay within their bounds.
 */
#include <string.h>

#include "at.h"
#include "fuzz.h"
#include "num.h"
#include "ztp/err.h"

#define OUT_MAX (1u << 18)
#define LOG_MAX (1u << 16)

/* one modem and what it did */
struct run {
	struct at at;
	uint8_t out[OUT_MAX];
	size_t outlen;
	int out_over;        /* more than OUT_MAX: not compared */
	uint8_t log[LOG_MAX]; /* each callback's n (2 bytes) and its data */
	size_t loglen;
	int log_over;
	int reading;          /* a prompt is out and its data has not all come */
	int bytewise;         /* fed one byte at a time: pos is the byte's index */
	size_t pos;
	size_t start;         /* where the prompt's data begins in the input */
	size_t want;
	int chain;            /* XCHAIN: the second prompt is still to ask */
};

static struct run whole, single;
static const uint8_t *input;
static size_t input_len;

static void
out(void *arg, const uint8_t *buf, size_t len)
{
	struct run *r = arg;

	FUZZ_CHECK(!r->reading); /* neither echo nor answers while the data comes */
	if (r->out_over || len > OUT_MAX - r->outlen) {
		r->out_over = 1;
		return;
	}
	memcpy(r->out + r->outlen, buf, len);
	r->outlen += len;
}

static size_t
csim(void *arg, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap)
{
	(void)arg;
	FUZZ_CHECK(len >= 1 && len <= 261 && cap >= 2);
	(void)cmd;
	resp[0] = 0x6D; /* INS not supported: this fake has no card */
	resp[1] = 0x00;
	return 2;
}

static int
creg(void *arg)
{
	(void)arg;
	return AT_CREG_HOME;
}

static void
trace(void *arg, enum at_dir dir, const char *line, size_t len)
{
	(void)arg;
	(void)line;
	FUZZ_CHECK(dir == AT_OUT || len <= AT_LINE_MAX);
}

static const struct at_ops ops_whole = { out, csim, creg, trace, &whole };
static const struct at_ops ops_single = { out, csim, creg, trace, &single };

/* ---- the module's commands of at.c itself */

static int
seal(void *arg, const char *profile, size_t plen, const char *serial, size_t slen)
{
	(void)arg;
	FUZZ_CHECK(memchr(profile, '"', plen) == NULL && memchr(serial, '"', slen) == NULL);
	FUZZ_CHECK(plen + slen <= AT_LINE_MAX);
	return plen == 32 && slen >= 1 ? 0 : -1;
}

static void
status(void *arg, int *registered, int *claimed, int *bootstrapped)
{
	(void)arg;
	*registered = 1;
	*claimed = 0;
	*bootstrapped = 1;
}

static int
conn(void *arg)
{
	(void)arg;
	return 0;
}

static const struct at_module_ops mod = { seal, status, conn, NULL };

/* ---- the fake extensions */

static struct run *
run_of(struct at *at)
{
	return at == &whole.at ? &whole : &single;
}

static void
log_data(struct run *r, const uint8_t *data, size_t n)
{
	if (r->log_over || n + 2 > LOG_MAX - r->loglen) {
		r->log_over = 1;
		return;
	}
	r->log[r->loglen++] = (uint8_t)(n >> 8);
	r->log[r->loglen++] = (uint8_t)n;
	memcpy(r->log + r->loglen, data, n);
	r->loglen += n;
}

/* The data came: check it, log it, answer (or ask again for XCHAIN). */
static void
on_data(void *arg, struct at *at, const uint8_t *data, size_t n)
{
	struct run *r = run_of(at);
	char text[64];
	size_t i, k;

	FUZZ_CHECK(r->reading);
	r->reading = 0;
	FUZZ_CHECK(n == r->want && n >= 1 && n <= AT_DATA_MAX);
	FUZZ_CHECK(at->want == 0);
	if (r->bytewise) {
		/* exactly the bytes after the command's CR, the last one now */
		FUZZ_CHECK(r->start + n == r->pos + 1 && r->pos < input_len);
		FUZZ_CHECK(memcmp(data, input + r->start, n) == 0);
	}
	log_data(r, data, n);
	if (r->chain) {
		r->chain = 0;
		r->want = n;
		r->start = r->pos + 1;
		FUZZ_CHECK(at_read_data(at, n, on_data, arg) == 0);
		r->reading = 1; /* after its prompt */
		return;
	}
	k = (size_t)snprintf(text, sizeof(text), "+%s: %zu,\"", (const char *)arg, n);
	for (i = 0; i < n && i < 8; i++)
		k += (size_t)snprintf(text + k, sizeof(text) - k, "%02X", data[i]);
	text[k++] = '"';
	at_answer_n(at, text, k);
	at_answer(at, "OK");
}

/* "<n>" up to the first comma, or the end; n may be 0 or too big on purpose */
static int
first_number(const char *s, size_t n, uint64_t *v)
{
	const char *comma = memchr(s, ',', n);

	return num_parse_u64(s, comma != NULL ? (size_t)(comma - s) : n, 0, 2 * AT_DATA_MAX, v);
}

static int
starts(const char *s, size_t n, const char *prefix)
{
	size_t m = strlen(prefix);

	return n >= m && memcmp(s, prefix, m) == 0;
}

/* ask for n bytes after "> ", or answer ERROR as at_usec.c does */
static void
prompt(struct at *at, uint64_t n, const char *name, int chain)
{
	struct run *r = run_of(at);
	int rc;

	r->want = (size_t)n;
	r->start = r->pos + 1;
	r->chain = chain;
	rc = at_read_data(at, (size_t)n, on_data, (void *)name);
	if (rc != 0) {
		r->chain = 0;
		FUZZ_CHECK(rc == ZTP_ERANGE && (n == 0 || n > AT_DATA_MAX));
		FUZZ_CHECK(at->want == 0);
		at_answer(at, "ERROR");
		return;
	}
	FUZZ_CHECK(n >= 1 && n <= AT_DATA_MAX && at->want == n && at->got == 0);
	r->reading = 1; /* the prompt is out: nothing more until the data has come */
}

static int
ext_data(void *arg, struct at *at, const char *cmd, size_t n)
{
	uint64_t len;
	const char *comma;

	(void)arg;
	FUZZ_CHECK(n <= AT_LINE_MAX - 2);
	if (starts(cmd, n, "+USECE2EDATAENC=")) {
		cmd += 16;
		n -= 16;
		if (first_number(cmd, n, &len) != 0)
			at_answer(at, "ERROR");
		else
			prompt(at, len, "USECE2EDATAENC", 0);
		return 1;
	}
	if (starts(cmd, n, "+USECDATAENC=")) {
		cmd += 13;
		n -= 13;
		comma = memchr(cmd, ',', n);
		if (first_number(cmd, n, &len) != 0 || comma == NULL ||
		    (size_t)(cmd + n - comma) < 3 || comma[1] != '"' || cmd[n - 1] != '"')
			at_answer(at, "ERROR");
		else
			prompt(at, len, "USECDATAENC", 0);
		return 1;
	}
	if (starts(cmd, n, "+XCHAIN=")) {
		if (first_number(cmd + 8, n - 8, &len) != 0)
			at_answer(at, "ERROR");
		else
			prompt(at, len, "XCHAIN", 1);
		return 1;
	}
	return 0;
}

/* an extension that takes nothing: the next one must still be asked */
static int
ext_none(void *arg, struct at *at, const char *cmd, size_t n)
{
	(void)arg;
	(void)at;
	(void)cmd;
	FUZZ_CHECK(n >= 1 && n <= AT_LINE_MAX - 2);
	return 0;
}

static const struct at_ext ext1 = { ext_none, NULL };
static const struct at_ext ext2 = { ext_data, NULL };

static void
modem(struct run *r, const struct at_ops *ops, int bytewise)
{
	size_t i;

	/* the buffers need no clearing: only their first outlen / loglen bytes count */
	r->outlen = r->loglen = 0;
	r->out_over = r->log_over = r->reading = r->chain = 0;
	r->pos = r->start = r->want = 0;
	r->bytewise = bytewise;
	at_init(&r->at, ops, "8944502509186389635", "356938035643809");
	at_set_module(&r->at, &mod);
	FUZZ_CHECK(at_add_ext(&r->at, &ext1) == 0);
	FUZZ_CHECK(at_add_ext(&r->at, &ext2) == 0);
	for (i = 2; i < AT_EXT_MAX; i++)
		FUZZ_CHECK(at_add_ext(&r->at, &ext1) == 0);
	FUZZ_CHECK(at_add_ext(&r->at, &ext2) == ZTP_EBUSY);
}

static void
bounds(const struct run *r)
{
	FUZZ_CHECK(r->at.len <= AT_LINE_MAX);
	FUZZ_CHECK(r->at.want <= AT_DATA_MAX && (r->at.want == 0 || r->at.got < r->at.want));
	FUZZ_CHECK((r->at.want > 0) == r->reading);
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	size_t i;

	input = buf;
	input_len = size;
	modem(&whole, &ops_whole, 0);
	modem(&single, &ops_single, 1);
	at_input(&whole.at, buf, size);
	bounds(&whole);
	for (i = 0; i < size; i++) {
		single.pos = i;
		at_input(&single.at, buf + i, 1);
		bounds(&single);
	}
	/* the same modem, however the bytes came */
	FUZZ_CHECK(whole.out_over == single.out_over && whole.log_over == single.log_over);
	if (!whole.out_over)
		FUZZ_CHECK(whole.outlen == single.outlen &&
		    memcmp(whole.out, single.out, whole.outlen) == 0);
	if (!whole.log_over)
		FUZZ_CHECK(whole.loglen == single.loglen &&
		    memcmp(whole.log, single.log, whole.loglen) == 0);
	FUZZ_CHECK(whole.at.want == single.at.want && whole.at.got == single.at.got);
	FUZZ_CHECK(whole.at.len == single.at.len && whole.at.echo == single.at.echo);
	return 0;
}
