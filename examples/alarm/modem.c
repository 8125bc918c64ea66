/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hex.h"
#include "modem.h"
#include "msg.h"
#include "num.h"
#include "wait.h"
#include "ztp/err.h"

#define DRAIN_READS_MAX 64 /* a modem that never stops talking is an error */
#define PROBE_QUIET_MS 200 /* silence that ends the late answers to AT */
#define GET_RESPONSE_MAX 8 /* 61xx rounds for one command */

int
modem_open(struct modem *m, const char *path)
{
	memset(m, 0, sizeof(*m));
	m->ser.fd = -1;
	return serial_open(&m->ser, path);
}

void
modem_close(struct modem *m)
{
	if (m == NULL)
		return;
	serial_close(&m->ser);
}

/* 1 if line[0..len) is exactly word, else 0. */
static int
line_is(const char *line, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(line, word, len) == 0;
}

/* 1 if line[0..len) starts with prefix, else 0. */
static int
line_starts(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(line, prefix, n) == 0;
}

static void
modem_consume(struct modem *m, size_t n)
{
	memmove(m->in, m->in + n, m->in_len - n);
	m->in_len -= n;
}

/*
 * Read and drop what the modem sends until it has been quiet for quiet_ms
 * (0: only what is pending now): stale answers must not be taken for the
 * answer to the next command. Returns 0, ZTP_EBUSY, ZTP_EIO or
 * ZTP_ETOOBIG if the modem does not stop talking.
 */
static int
modem_drain(struct modem *m, int quiet_ms)
{
	char text[256];
	size_t got;
	int rc, i;

	for (i = 0; i < DRAIN_READS_MAX; i++) {
		/* the LF of the last line's CR LF is not stale */
		if (m->skip_lf && m->in_len > 0) {
			if (m->in[0] == '\n')
				modem_consume(m, 1);
			m->skip_lf = 0;
		}
		if (m->in_len > 0) {
			msg_sanitize(m->in, m->in_len, text, sizeof(text));
			msg_debug("  (dropped stale input: %s)", text);
			m->skip_lf = m->in[m->in_len - 1] == '\r';
			m->in_len = 0;
		}
		rc = serial_read(&m->ser, m->in, sizeof(m->in), &got, wait_now_ms() + quiet_ms);
		if (rc == ZTP_EEXPIRED)
			return 0;
		if (rc != 0)
			return rc;
		m->in_len = got;
	}
	m->in_len = 0;
	return ZTP_ETOOBIG;
}

/*
 * Take the next line (without its end) into line (MODEM_LINE_MAX bytes,
 * NUL-terminated; it may hold other NULs, *len is its length), reading
 * until deadline_ms. CR, LF and CR LF each end a line. Returns 0, a
 * serial_read error, or ZTP_ETOOBIG for a line that does not fit (the
 * bytes read so far are dropped).
 */
static int
modem_line(struct modem *m, char *line, size_t *len, int64_t deadline_ms)
{
	size_t i, got;
	int rc;

	for (;;) {
		if (m->skip_lf && m->in_len > 0) {
			if (m->in[0] == '\n')
				modem_consume(m, 1);
			m->skip_lf = 0;
		}
		for (i = 0; i < m->in_len; i++)
			if (m->in[i] == '\r' || m->in[i] == '\n')
				break;
		if (i < m->in_len) {
			memcpy(line, m->in, i);
			line[i] = '\0';
			*len = i;
			m->skip_lf = m->in[i] == '\r';
			modem_consume(m, i + 1);
			return 0;
		}
		if (m->in_len >= sizeof(m->in)) {
			m->in_len = 0;
			m->skip_lf = 0;
			return ZTP_ETOOBIG;
		}
		rc = serial_read(&m->ser, m->in + m->in_len, sizeof(m->in) - m->in_len, &got,
		    deadline_ms);
		if (rc != 0)
			return rc;
		m->in_len += got;
	}
}

int
modem_cmd(struct modem *m, const char *cmd, int timeout_ms,
    int (*line_cb)(void *arg, const char *line, size_t len), void *arg)
{
	char out[MODEM_LINE_MAX], line[MODEM_LINE_MAX];
	size_t clen = strlen(cmd), len;
	int64_t deadline = wait_now_ms() + timeout_ms;
	int rc, cbrc = 0;

	m->final[0] = '\0';
	if (clen + 2 >= sizeof(out))
		return ZTP_EINVAL;
	if ((rc = modem_drain(m, 0)) != 0)
		return rc;
	memcpy(out, cmd, clen);
	memcpy(out + clen, "\r\n", 2);
	msg_traffic('>', cmd, clen);
	if ((rc = serial_write(&m->ser, out, clen + 2, deadline)) != 0)
		return rc;
	for (;;) {
		if ((rc = modem_line(m, line, &len, deadline)) != 0)
			return rc;
		msg_traffic('<', line, len);
		if (len == 0)
			continue;
		/* the echo, as long as ATE0 has not been sent or was ignored */
		if (len == clen && strncasecmp(line, cmd, clen) == 0)
			continue;
		if (line_is(line, len, "OK"))
			return cbrc;
		if (line_is(line, len, "ERROR") || line_starts(line, len, "+CME ERROR:") ||
		    line_starts(line, len, "+CMS ERROR:")) {
			memcpy(m->final, line, len + 1);
			return ZTP_ECONFLICT;
		}
		/* an information line, or an unsolicited one that line_cb ignores */
		if (line_cb != NULL && cbrc == 0) {
			cbrc = line_cb(arg, line, len);
			if (cbrc != 0)
				memcpy(m->final, line, len + 1); /* for modem_describe */
		}
	}
}

int
modem_probe(struct modem *m, int tries)
{
	char why[MODEM_LINE_MAX + 64];
	int64_t t0, left;
	int i, rc = ZTP_EEXPIRED;

	for (i = 1; i <= tries; i++) {
		t0 = wait_now_ms();
		rc = modem_cmd(m, "AT", MODEM_PROBE_TIMEOUT_MS, NULL, NULL);
		if (rc == 0)
			break;
		if (rc == ZTP_EIO || rc == ZTP_EBUSY)
			return rc;
		modem_describe(m, rc, why, sizeof(why));
		msg_debug("AT: %s (try %d of %d)", why, i, tries);
		left = 1000 - (wait_now_ms() - t0);
		if (left > 0 && i < tries && wait_seconds((double)left / 1000.0) != 0)
			return ZTP_EBUSY;
	}
	if (rc != 0) {
		msg_err("%s: no OK to AT after %d tries, one a second (is a modem there, "
			"at 115200 baud?)", m->ser.path, tries);
		return rc;
	}
	/* an OK to an earlier try may still be on its way */
	if ((rc = modem_drain(m, PROBE_QUIET_MS)) != 0) {
		if (rc == ZTP_ETOOBIG)
			msg_err("%s: the modem does not stop sending", m->ser.path);
		return rc;
	}
	rc = modem_cmd(m, "ATE0", MODEM_CMD_TIMEOUT_MS, NULL, NULL);
	if (rc == ZTP_ECONFLICT) {
		modem_describe(m, rc, why, sizeof(why));
		msg_debug("ATE0: %s; the echo is skipped", why);
		rc = 0;
	} else if (rc != 0) {
		if (rc != ZTP_EIO && rc != ZTP_EBUSY) {
			modem_describe(m, rc, why, sizeof(why));
			msg_err("ATE0: %s", why);
		}
		return rc;
	}
	msg_info("Modem: OK");
	return 0;
}

struct creg {
	int seen;
	uint64_t stat;
};

/*
 * "+CREG: <n>,<stat>[,<lac>,<ci>[,<AcT>]]" answers AT+CREG?; the
 * unsolicited "+CREG: <stat>[,...]" has no comma after a single number in
 * the n=1 form and is ignored. Anything else is ignored too.
 */
static int
creg_line(void *arg, const char *line, size_t len)
{
	struct creg *c = arg;
	const char *p = line + 6, *end = line + len, *q;
	uint64_t n, stat;

	if (!line_starts(line, len, "+CREG:"))
		return 0;
	while (p < end && *p == ' ')
		p++;
	for (q = p; q < end && *q >= '0' && *q <= '9'; q++)
		;
	if (num_parse_u64(p, (size_t)(q - p), 0, 2, &n) != 0)
		return 0;
	if (q == end || *q != ',')
		return 0; /* "+CREG: <stat>": unsolicited */
	p = ++q;
	for (; q < end && *q >= '0' && *q <= '9'; q++)
		;
	if (num_parse_u64(p, (size_t)(q - p), 0, 10, &stat) != 0)
		return 0; /* "+CREG: <stat>,<lac>,...": unsolicited (n=2) */
	if (q != end && *q != ',')
		return ZTP_EMALFORMED;
	c->seen = 1;
	c->stat = stat;
	return 0;
}

static const char *
creg_name(uint64_t stat)
{
	switch (stat) {
	case 0:
		return "not searching";
	case 1:
		return "home";
	case 2:
		return "searching";
	case 3:
		return "denied";
	case 4:
		return "unknown";
	case 5:
		return "roaming";
	default:
		return "other";
	}
}

int
modem_wait_registered(struct modem *m, int max_secs)
{
	char why[MODEM_LINE_MAX + 64];
	struct creg c;
	int64_t start = wait_now_ms(), t0, left;
	int64_t last = -1;
	int rc;

	for (;;) {
		t0 = wait_now_ms();
		memset(&c, 0, sizeof(c));
		rc = modem_cmd(m, "AT+CREG?", MODEM_CMD_TIMEOUT_MS, creg_line, &c);
		if (rc == ZTP_EIO || rc == ZTP_EBUSY)
			return rc;
		if (rc == 0 && c.seen) {
			if (c.stat == 1 || c.stat == 5) {
				msg_info("Network: registered (%s)", creg_name(c.stat));
				return 0;
			}
			if ((int64_t)c.stat != last)
				msg_info("waiting for network registration (+CREG stat %u: %s)",
				    (unsigned)c.stat, creg_name(c.stat));
			last = (int64_t)c.stat;
		} else {
			if (rc == 0)
				snprintf(why, sizeof(why), "no +CREG line in the answer");
			else
				modem_describe(m, rc, why, sizeof(why));
			msg_debug("AT+CREG?: %s", why);
		}
		if (wait_now_ms() - start >= (int64_t)max_secs * 1000) {
			msg_err("not registered to a network after %d s (last +CREG stat: %s)",
			    max_secs, last < 0 ? "none" : creg_name((uint64_t)last));
			return ZTP_EEXPIRED;
		}
		left = 1000 - (wait_now_ms() - t0);
		if (left > 0 && wait_seconds((double)left / 1000.0) != 0)
			return ZTP_EBUSY;
	}
}

struct csim {
	uint8_t *data; /* the caller's buffer */
	size_t cap;
	size_t len;
	uint16_t sw;
	int seen;
};

/* Parse +CSIM: <n>,"<HEX>" strictly into the struct csim at arg. */
static int
csim_line(void *arg, const char *line, size_t len)
{
	struct csim *a = arg;
	uint8_t raw[MODEM_RESP_MAX + 2];
	const char *p = line + 6, *end = line + len, *q, *hex;
	size_t hexlen, rawlen;
	uint64_t n;

	if (!line_starts(line, len, "+CSIM:"))
		return 0; /* unsolicited: not ours */
	if (a->seen)
		return ZTP_EMALFORMED;
	a->seen = 1;
	while (p < end && *p == ' ')
		p++;
	for (q = p; q < end && *q >= '0' && *q <= '9'; q++)
		;
	if (num_parse_u64(p, (size_t)(q - p), 0, UINT64_MAX, &n) != 0 || n < 4)
		return ZTP_EMALFORMED;
	if (n > 2 * sizeof(raw))
		return ZTP_ETOOBIG;
	if (q == end || *q++ != ',')
		return ZTP_EMALFORMED;
	if (q == end || *q++ != '"')
		return ZTP_EMALFORMED;
	hex = q;
	while (q < end && *q != '"')
		q++;
	if (q == end)
		return ZTP_EMALFORMED;
	hexlen = (size_t)(q - hex);
	if (q + 1 != end || hexlen != n)
		return ZTP_EMALFORMED;
	if (hex_decode(hex, hexlen, raw, sizeof(raw), &rawlen) != 0 || rawlen < 2)
		return ZTP_EMALFORMED;
	if (rawlen - 2 > a->cap)
		return ZTP_ETOOBIG;
	memcpy(a->data, raw, rawlen - 2);
	a->len = rawlen - 2;
	a->sw = (uint16_t)(raw[rawlen - 2] << 8 | raw[rawlen - 1]);
	return 0;
}

int
modem_csim(struct modem *m, const uint8_t *apdu, size_t len, uint8_t *resp, size_t cap,
    size_t *resp_len, uint16_t *sw)
{
	char hex[2 * MODEM_APDU_MAX + 1], cmd[2 * MODEM_APDU_MAX + 32];
	struct csim a;
	int rc;

	if (len < 4 || len > MODEM_APDU_MAX)
		return ZTP_EINVAL;
	if ((rc = hex_encode(apdu, len, hex, sizeof(hex))) != 0)
		return rc;
	snprintf(cmd, sizeof(cmd), "AT+CSIM=%zu,\"%s\"", 2 * len, hex);
	memset(&a, 0, sizeof(a));
	a.data = resp;
	a.cap = cap;
	rc = modem_cmd(m, cmd, MODEM_CMD_TIMEOUT_MS, csim_line, &a);
	if (rc != 0)
		return rc;
	if (!a.seen) {
		m->final[0] = '\0';
		return ZTP_EMALFORMED;
	}
	*resp_len = a.len;
	*sw = a.sw;
	return 0;
}

int
modem_apdu(struct modem *m, const uint8_t *apdu, size_t len, uint8_t *resp, size_t cap,
    size_t *resp_len, uint16_t *sw)
{
	uint8_t again[5], getresp[5];
	size_t total, n;
	int rc, i;

	rc = modem_csim(m, apdu, len, resp, cap, resp_len, sw);
	if (rc != 0)
		return rc;
	/* T=0, case 2 with the wrong Le: send it again with the Le the card wants */
	if ((*sw >> 8) == 0x6C && len == 5) {
		memcpy(again, apdu, 5);
		again[4] = (uint8_t)(*sw & 0xff);
		rc = modem_csim(m, again, 5, resp, cap, resp_len, sw);
		if (rc != 0)
			return rc;
	}
	/* T=0: the data waits for GET RESPONSE, on the command's channel */
	total = *resp_len;
	for (i = 0; (*sw >> 8) == 0x61; i++) {
		if (i == GET_RESPONSE_MAX)
			return ZTP_ETOOBIG;
		getresp[0] = apdu[0];
		getresp[1] = 0xC0;
		getresp[2] = 0x00;
		getresp[3] = 0x00;
		getresp[4] = (uint8_t)(*sw & 0xff);
		rc = modem_csim(m, getresp, 5, resp + total, cap - total, &n, sw);
		if (rc != 0)
			return rc;
		total += n;
	}
	*resp_len = total;
	return 0;
}

void
modem_describe(const struct modem *m, int rc, char *out, size_t cap)
{
	char text[MODEM_LINE_MAX];

	switch (rc) {
	case ZTP_ECONFLICT:
		msg_sanitize(m->final, strlen(m->final), text, sizeof(text));
		snprintf(out, cap, "the modem answered %s", text);
		break;
	case ZTP_EEXPIRED:
		snprintf(out, cap, "no complete answer from the modem in time");
		break;
	case ZTP_EMALFORMED:
		if (m->final[0] == '\0') {
			snprintf(out, cap, "no +CSIM line in the answer");
			break;
		}
		msg_sanitize(m->final, strlen(m->final), text, sizeof(text));
		snprintf(out, cap, "malformed answer line: %s", text);
		break;
	case ZTP_ETOOBIG:
		if (m->final[0] != '\0') {
			msg_sanitize(m->final, strlen(m->final), text, sizeof(text));
			snprintf(out, cap, "more than %d bytes of response data: %s",
			    MODEM_RESP_MAX, text);
		} else {
			snprintf(out, cap, "a line over %d bytes, or too much data", MODEM_LINE_MAX - 1);
		}
		break;
	case ZTP_EBUSY:
		snprintf(out, cap, "interrupted");
		break;
	case ZTP_EIO:
		snprintf(out, cap, "serial device error");
		break;
	default:
		snprintf(out, cap, "%s", ztp_strerror(rc));
		break;
	}
}
