/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module's security AT commands, host side (include/ztp/usec.h). The
 * answer is read by a two-state machine: reading (USEC_MORE) until a final
 * result code, then done; lines after it are a caller's mistake.
 */
#include <string.h>

#include "modmsg.h"
#include "num.h"
#include "ztp/err.h"
#include "ztp/usec.h"

#define STATUS_PREFIX "+USECDEVINFO:"

_Static_assert(USEC_PROFILE_LEN == MODMSG_PROFILE_LEN, "the protocol's DeviceProfileUID");
_Static_assert(USEC_SERIAL_MAX == MODMSG_SERIAL_MAX, "the protocol's serial");
/* AT+USECDEVINFO= (15), two quoted arguments and a comma, the NUL */
_Static_assert(15 + 2 + USEC_PROFILE_LEN + 1 + 2 + USEC_SERIAL_MAX + 1 <= USEC_CMD_MAX,
    "the longest command fits");

/* Copy the NUL-terminated s into out if it fits; ZTP_ETOOBIG otherwise. */
static int
put_cmd(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s);

	if (cap > 0)
		out[0] = '\0';
	if (n >= cap)
		return ZTP_ETOOBIG;
	memcpy(out, s, n + 1);
	return 0;
}

int
usec_seal_cmd(const char *profile, const char *serial, char *out, size_t cap)
{
	static const char head[] = "AT+USECDEVINFO=\"";
	size_t plen, slen, n, off = 0;

	if (profile == NULL || serial == NULL)
		return ZTP_EINVAL;
	plen = strnlen(profile, USEC_PROFILE_LEN + 1);
	slen = strnlen(serial, USEC_SERIAL_MAX + 1);
	if (!modmsg_profile_valid(profile, plen) || !modmsg_serial_valid(serial, slen))
		return ZTP_EINVAL;
	n = (sizeof(head) - 1) + plen + 3 + slen + 1;
	if (cap > 0)
		out[0] = '\0';
	if (n >= cap)
		return ZTP_ETOOBIG;
	memcpy(out + off, head, sizeof(head) - 1);
	off += sizeof(head) - 1;
	memcpy(out + off, profile, plen);
	off += plen;
	memcpy(out + off, "\",\"", 3);
	off += 3;
	memcpy(out + off, serial, slen);
	off += slen;
	out[off++] = '"';
	out[off] = '\0';
	return 0;
}

int
usec_status_cmd(char *out, size_t cap)
{
	return put_cmd("AT+USECDEVINFO?", out, cap);
}

int
usec_heartbeat_cmd(char *out, size_t cap)
{
	return put_cmd("AT+USECCONN", out, cap);
}

void
usec_answer_init(struct usec_answer *a, enum usec_cmd cmd)
{
	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
}

/* 1 if line[0..len) starts with prefix, else 0. */
static int
starts(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(line, prefix, n) == 0;
}

static int
is_exactly(const char *line, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(line, word, len) == 0;
}

/* One number 0 or 1 at s[*off], within len: the bounded number helper's. */
static int
flag_at(const char *s, size_t len, size_t *off, uint8_t *v)
{
	size_t start = *off;
	uint64_t n;

	while (*off < len && s[*off] >= '0' && s[*off] <= '9')
		(*off)++;
	if (num_parse_u64(s + start, *off - start, 0, 1, &n) != 0)
		return ZTP_EMALFORMED;
	*v = (uint8_t)n;
	return 0;
}

int
usec_status_parse(const char *line, size_t len, struct usec_status *st)
{
	struct usec_status s;
	size_t off = sizeof(STATUS_PREFIX) - 1;

	if (!starts(line, len, STATUS_PREFIX))
		return ZTP_ENOENT;
	while (off < len && line[off] == ' ')
		off++;
	if (flag_at(line, len, &off, &s.registered) != 0)
		return ZTP_EMALFORMED;
	if (off >= len || line[off++] != ',' || flag_at(line, len, &off, &s.claimed) != 0)
		return ZTP_EMALFORMED;
	if (off >= len || line[off++] != ',' || flag_at(line, len, &off, &s.bootstrapped) != 0)
		return ZTP_EMALFORMED;
	if (off != len)
		return ZTP_EMALFORMED;
	*st = s;
	return 0;
}

/*
 * "+CME ERROR: <text>" or "+CMS ERROR: <text>" (off: after the colon):
 * the text, 1..USEC_ERROR_MAX printable ASCII after optional spaces, into
 * a->error. Returns ZTP_ECONFLICT, or ZTP_EMALFORMED for a bad text.
 */
static int
take_error(struct usec_answer *a, const char *line, size_t len, size_t off)
{
	size_t i;

	while (off < len && line[off] == ' ')
		off++;
	if (off == len || len - off > USEC_ERROR_MAX)
		return ZTP_EMALFORMED;
	for (i = off; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
			return ZTP_EMALFORMED;
	memcpy(a->error, line + off, len - off);
	a->error[len - off] = '\0';
	return ZTP_ECONFLICT;
}

int
usec_answer_line(struct usec_answer *a, const char *line, size_t len)
{
	struct usec_status st;
	int rc;

	if (a->done)
		return ZTP_EINVAL;
	if (len == 0)
		return USEC_MORE;
	/* the echo of the command, while echo is on */
	if (len >= 2 && (line[0] == 'A' || line[0] == 'a') && (line[1] == 'T' || line[1] == 't'))
		return USEC_MORE;
	if (is_exactly(line, len, "OK")) {
		a->done = 1;
		if (a->cmd == USEC_STATUS && (!a->seen || a->bad))
			return ZTP_EMALFORMED;
		return 0;
	}
	if (is_exactly(line, len, "ERROR")) {
		a->done = 1;
		a->error[0] = '\0';
		return ZTP_ECONFLICT;
	}
	if (starts(line, len, "+CME ERROR:") || starts(line, len, "+CMS ERROR:")) {
		a->done = 1;
		a->error[0] = '\0';
		return take_error(a, line, len, sizeof("+CME ERROR:") - 1);
	}
	if (a->cmd != USEC_STATUS)
		return USEC_MORE; /* unsolicited: not this answer's */
	rc = usec_status_parse(line, len, &st);
	if (rc == ZTP_ENOENT)
		return USEC_MORE;
	if (a->seen || rc != 0)
		a->bad = 1;
	else
		a->status = st;
	a->seen = 1;
	return USEC_MORE;
}

int
usec_bootstrapped(const struct usec_status *st)
{
	return st->registered == 1 && st->bootstrapped == 1;
}

const char *
usec_status_describe(const struct usec_status *st)
{
	if (st->registered == 0 && st->claimed == 0 && st->bootstrapped == 0)
		return "bootstrap not done";
	if (st->registered == 1 && st->claimed == 0 && st->bootstrapped == 1)
		return "bootstrapped, no owner";
	if (st->registered == 1 && st->claimed == 1 && st->bootstrapped == 1)
		return "bootstrapped and assigned to an owner";
	return "not a documented status";
}
