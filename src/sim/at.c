/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AT interpreter: command lines in, V.250 verbose responses out.
 * Every line has exactly one outcome: an answer ending in OK or ERROR, or
 * nothing for an empty line. The SIM is only reached by a well-formed
 * AT+CSIM.
 */
#include <stdio.h>
#include <string.h>

#include "at.h"
#include "hex.h"
#include "num.h"
#include "ztp/apdu.h"
#include "ztp/err.h"

#define AT_PRODUCT "ztp-sim virtual modem (SAFE2 SIM)"

/* the longest line we answer: +CSIM: 516,"<516 hex>" */
#define AT_OUT_MAX (16 + 2 * APDU_MAX_RESP)

static void
out_raw(struct at *at, const char *s, size_t n)
{
	at->ops->out(at->ops->arg, (const uint8_t *)s, n);
}

/* One response line: CR LF, the text, CR LF. */
static void
out_line(struct at *at, const char *text, size_t n)
{
	out_raw(at, "\r\n", 2);
	out_raw(at, text, n);
	out_raw(at, "\r\n", 2);
	if (at->ops->trace != NULL)
		at->ops->trace(at->ops->arg, AT_OUT, text, n);
}

static void
out_str(struct at *at, const char *text)
{
	out_line(at, text, strlen(text));
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* 1 if s[0..n) equals word, ignoring ASCII case. */
static int
is(const char *s, size_t n, const char *word)
{
	size_t i;

	if (n != strlen(word))
		return 0;
	for (i = 0; i < n; i++)
		if (lower((unsigned char)s[i]) != lower((unsigned char)word[i]))
			return 0;
	return 1;
}

/* 1 if s[0..n) starts with prefix, ignoring ASCII case. */
static int
starts(const char *s, size_t n, const char *prefix)
{
	size_t m = strlen(prefix);

	return n >= m && is(s, m, prefix);
}

/*
 * AT+CSIM=<n>,"<hex>": n is the number of hex characters, the hex (either
 * case, even length, 1 to APDU_MAX_CMD bytes) is the command APDU; nothing
 * may follow the closing quote. Any deviation is ERROR and the SIM is not
 * called.
 */
static void
cmd_csim(struct at *at, const char *s, size_t n)
{
	uint8_t apdu[APDU_MAX_CMD], resp[APDU_MAX_RESP];
	char text[AT_OUT_MAX], hex[2 * APDU_MAX_RESP + 1];
	const char *comma, *hx;
	size_t hexlen, alen, rlen;
	uint64_t count;
	int k;

	comma = memchr(s, ',', n);
	if (comma == NULL)
		goto error;
	if (num_parse_u64(s, (size_t)(comma - s), 1, 2 * APDU_MAX_CMD, &count) != 0)
		goto error;
	hx = comma + 1;
	hexlen = n - (size_t)(hx - s);
	/* the quotes, and nothing after the closing one */
	if (hexlen < 2 || hx[0] != '"' || hx[hexlen - 1] != '"')
		goto error;
	hx++;
	hexlen -= 2;
	if (memchr(hx, '"', hexlen) != NULL || hexlen != count)
		goto error;
	if (!hex_valid(hx, hexlen) || hex_decode(hx, hexlen, apdu, sizeof(apdu), &alen) != 0)
		goto error;

	rlen = at->ops->csim(at->ops->arg, apdu, alen, resp, sizeof(resp));
	if (rlen < 2 || rlen > sizeof(resp))
		goto error;
	if (hex_encode(resp, rlen, hex, sizeof(hex)) != 0)
		goto error;
	k = snprintf(text, sizeof(text), "+CSIM: %zu,\"%s\"", 2 * rlen, hex);
	if (k < 0 || (size_t)k >= sizeof(text))
		goto error;
	out_line(at, text, (size_t)k);
	out_str(at, "OK");
	return;
error:
	out_str(at, "ERROR");
}

#define AT_CME_NOT_ALLOWED "+CME ERROR: operation not allowed"

/*
 * AT+USECDEVINFO=... (s after the '='): exactly "<profile>","<serial>",
 * two quoted strings without a quote inside and nothing around them, else
 * ERROR; what is inside them is the module's to judge (+CME ERROR).
 */
static void
cmd_usecdevinfo_set(struct at *at, const char *s, size_t n)
{
	const char *p, *q, *comma;
	size_t plen, slen;

	if (n < 5 || s[0] != '"' || s[n - 1] != '"')
		goto error;
	p = s + 1;
	if ((comma = memchr(p, '"', n - 1)) == NULL)
		goto error;
	plen = (size_t)(comma - p);
	comma++;
	if ((size_t)(comma - s) + 3 > n || comma[0] != ',' || comma[1] != '"')
		goto error;
	q = comma + 2;
	slen = n - (size_t)(q - s) - 1;
	if (memchr(q, '"', slen) != NULL)
		goto error;
	if (at->mod->seal(at->mod->arg, p, plen, q, slen) == 0)
		out_str(at, "OK");
	else
		out_str(at, AT_CME_NOT_ALLOWED);
	return;
error:
	out_str(at, "ERROR");
}

static void
cmd_usecdevinfo_read(struct at *at)
{
	char text[40];
	int reg = 0, claimed = 0, boot = 0;

	at->mod->status(at->mod->arg, &reg, &claimed, &boot);
	snprintf(text, sizeof(text), "+USECDEVINFO: %d,%d,%d", reg != 0, claimed != 0, boot != 0);
	out_str(at, text);
	out_str(at, "OK");
}

static int ext_command(struct at *at, const char *c, size_t n);

/* One command line, without its CR, with at most AT_LINE_MAX bytes. */
static void
execute(struct at *at, const char *line, size_t len)
{
	char text[64];
	const char *c;
	size_t n;

	if (len < 2 || !is(line, 2, "AT")) {
		out_str(at, "ERROR");
		return;
	}
	c = line + 2;
	n = len - 2;
	if (n == 0) {
		out_str(at, "OK");
	} else if (is(c, n, "E") || is(c, n, "E0")) {
		at->echo = 0;
		out_str(at, "OK");
	} else if (is(c, n, "E1")) {
		at->echo = 1;
		out_str(at, "OK");
	} else if (is(c, n, "I") || is(c, n, "I0")) {
		out_str(at, AT_PRODUCT);
		out_str(at, "OK");
	} else if (is(c, n, "+CGSN")) {
		out_str(at, at->imei);
		out_str(at, "OK");
	} else if (is(c, n, "+CCID")) {
		snprintf(text, sizeof(text), "+CCID: %s", at->iccid);
		out_str(at, text);
		out_str(at, "OK");
	} else if (is(c, n, "+ICCID")) {
		snprintf(text, sizeof(text), "+ICCID: %s", at->iccid);
		out_str(at, text);
		out_str(at, "OK");
	} else if (is(c, n, "+CREG?")) {
		snprintf(text, sizeof(text), "+CREG: 0,%d", at->ops->creg(at->ops->arg));
		out_str(at, text);
		out_str(at, "OK");
	} else if (starts(c, n, "+CSIM=")) {
		cmd_csim(at, c + 6, n - 6);
	} else if (at->mod != NULL && is(c, n, "+USECDEVINFO?")) {
		cmd_usecdevinfo_read(at);
	} else if (at->mod != NULL && starts(c, n, "+USECDEVINFO=")) {
		cmd_usecdevinfo_set(at, c + 13, n - 13);
	} else if (at->mod != NULL && is(c, n, "+USECCONN")) {
		out_str(at, at->mod->conn(at->mod->arg) == 0 ? "OK" : AT_CME_NOT_ALLOWED);
	} else if (!ext_command(at, c, n)) {
		out_str(at, "ERROR");
	}
}

/* 1 if an extension took the command c[0..n). */
static int
ext_command(struct at *at, const char *c, size_t n)
{
	size_t i;

	for (i = 0; i < at->next; i++)
		if (at->ext[i]->command(at->ext[i]->arg, at, c, n))
			return 1;
	return 0;
}

int
at_add_ext(struct at *at, const struct at_ext *e)
{
	if (at->next >= AT_EXT_MAX)
		return ZTP_EBUSY;
	at->ext[at->next++] = e;
	return 0;
}

void
at_answer(struct at *at, const char *text)
{
	out_str(at, text);
}

void
at_answer_n(struct at *at, const char *text, size_t n)
{
	out_line(at, text, n);
}

int
at_read_data(struct at *at, size_t n, at_data_fn done, void *arg)
{
	if (n == 0 || n > AT_DATA_MAX || done == NULL)
		return ZTP_ERANGE;
	at->want = n;
	at->got = 0;
	at->done = done;
	at->done_arg = arg;
	out_raw(at, "\r\n> ", 4);
	return 0;
}

/* Take bytes of a prompt's data from buf[0..len): how many were taken. */
static size_t
data_input(struct at *at, const uint8_t *buf, size_t len)
{
	size_t take = at->want - at->got;
	at_data_fn done;

	if (take > len)
		take = len;
	memcpy(at->data + at->got, buf, take);
	at->got += take;
	if (at->got == at->want) {
		done = at->done;
		at->want = 0;
		at->done = NULL;
		done(at->done_arg, at, at->data, at->got);
		memset(at->data, 0, at->got); /* it may be a secret */
		at->got = 0;
	}
	return take;
}

void
at_init(struct at *at, const struct at_ops *ops, const char *iccid, const char *imei)
{
	memset(at, 0, sizeof(*at));
	at->ops = ops;
	at->echo = 1;
	snprintf(at->iccid, sizeof(at->iccid), "%s", iccid != NULL ? iccid : "");
	snprintf(at->imei, sizeof(at->imei), "%s", imei != NULL ? imei : "");
}

void
at_set_module(struct at *at, const struct at_module_ops *mod)
{
	at->mod = mod;
}

void
at_input(struct at *at, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t b = buf[i];

		if (at->want > 0) {
			i += data_input(at, buf + i, len - i) - 1;
			continue;
		}
		if (b == '\n')
			continue;
		if (at->echo)
			out_raw(at, (const char *)&b, 1);
		if (b != '\r') {
			if (at->len < sizeof(at->line))
				at->line[at->len++] = (char)b;
			else
				at->overflow = 1;
			continue;
		}
		if (at->ops->trace != NULL && (at->len > 0 || at->overflow))
			at->ops->trace(at->ops->arg, AT_IN, at->line, at->len);
		if (at->overflow)
			out_str(at, "ERROR");
		else if (at->len > 0)
			execute(at, at->line, at->len);
		at->len = 0;
		at->overflow = 0;
	}
}

void
at_imei_for(const char *iccid, char *out)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	unsigned sum = 0;
	int i;

	for (; iccid != NULL && *iccid; iccid++) {
		h ^= (unsigned char)*iccid;
		h *= 0x100000001b3ULL;
	}
	snprintf(out, AT_IMEI_DIGITS + 1, "35%012llu", (unsigned long long)(h % 1000000000000ULL));
	/* Luhn: double every second digit counting from the check digit */
	for (i = AT_IMEI_DIGITS - 2; i >= 0; i--) {
		unsigned d = (unsigned)(out[i] - '0');
		if ((AT_IMEI_DIGITS - 2 - i) % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	out[AT_IMEI_DIGITS - 1] = (char)('0' + (10 - sum % 10) % 10);
	out[AT_IMEI_DIGITS] = '\0';
}
