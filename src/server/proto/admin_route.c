/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API's route matcher (admin_route.h): pure, no I/O, no
 * allocation. The path is untrusted; the patterns are the table's.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "admin_route.h"
#include "hex.h"
#include "store.h"
#include "ztp/err.h"
#include "ztp/iccid.h"

_Static_assert(STORE_UDID_MAX <= ADMINROUTE_VALUE_MAX, "a UDID fits a parameter");
_Static_assert(STORE_SERIAL_HEX <= ADMINROUTE_VALUE_MAX + 1, "a serial fits a parameter");

/* a pattern segment's kind, also its weight in a pattern's rank */
enum seg_kind { SEG_TAIL = 0, SEG_PARAM = 1, SEG_LITERAL = 2, SEG_BAD = 3 };

enum param_kind { PARAM_NONE, PARAM_RAW, PARAM_ICCID, PARAM_UDID, PARAM_SERIAL, PARAM_CA };

static const struct {
	const char *name;
	enum param_kind kind;
} param_kinds[] = {
	{ "iccid", PARAM_ICCID },
	{ "udid", PARAM_UDID },
	{ "serial", PARAM_SERIAL },
	{ "ca", PARAM_CA },
	/* left to the handler: a group's name is checked after the method (405 before 400) */
	{ "group", PARAM_RAW },
	{ "owner", PARAM_RAW },
	{ "apikey", PARAM_RAW },
	{ "profile", PARAM_RAW },
	{ "rot", PARAM_RAW },
	{ "campaign", PARAM_RAW },
	{ "identity", PARAM_RAW },
	{ "ztpca", PARAM_RAW }, /* a ZTP CA of an owner (admin_ztpca.c) */
	{ "pki", PARAM_RAW },   /* a foreign PKI (admin_pki.c) */
};

int
adminroute_split(const char *path, struct adminroute_path *p)
{
	char *s, *save = NULL;

	p->nseg = 0;
	if (strlen(path) >= sizeof(p->buf))
		return ZTP_ETOOBIG;
	memcpy(p->buf, path, strlen(path) + 1);
	for (s = strtok_r(p->buf, "/", &save); s != NULL; s = strtok_r(NULL, "/", &save)) {
		if (p->nseg == ADMINROUTE_SEG_MAX)
			return ZTP_ETOOBIG;
		p->seg[p->nseg++] = s;
	}
	return 0;
}

/*
 * The next segment of a pattern: [*s, *s + *len) and *pat past it. 0 at
 * the end of the pattern.
 */
static int
pattern_next(const char **pat, const char **s, size_t *len)
{
	const char *p = *pat;

	if (*p != '/')
		return 0;
	*s = ++p;
	while (*p != '\0' && *p != '/')
		p++;
	*len = (size_t)(p - *s);
	*pat = p;
	return 1;
}

/*
 * The kind of a pattern segment, and its parameter's kind if it is one
 * (PARAM_NONE for "*", a segment that is not kept).
 */
static enum seg_kind
seg_kind(const char *s, size_t len, enum param_kind *pk)
{
	size_t i;

	*pk = PARAM_NONE;
	if (len == 0)
		return SEG_BAD;
	if (len == 2 && !memcmp(s, "**", 2))
		return SEG_TAIL;
	if (len == 1 && s[0] == '*')
		return SEG_PARAM;
	if (s[0] != '{')
		return memchr(s, '{', len) || memchr(s, '}', len) || memchr(s, '*', len) ?
		    SEG_BAD : SEG_LITERAL;
	for (i = 0; i < sizeof(param_kinds) / sizeof(param_kinds[0]); i++)
		if (len == strlen(param_kinds[i].name) + 2 && s[len - 1] == '}' &&
		    !memcmp(s + 1, param_kinds[i].name, len - 2)) {
			*pk = param_kinds[i].kind;
			return SEG_PARAM;
		}
	return SEG_BAD;
}

/*
 * The rank of pattern if it fits p, else -1: its segments' kinds as the
 * digits of a base-3 number, so that a larger rank is a more specific
 * pattern. *pidx and *pk name its parameter (PARAM_NONE if none). A
 * malformed pattern fits nothing.
 */
static int
pattern_fit(const char *pattern, const struct adminroute_path *p, size_t *pidx,
    enum param_kind *pk)
{
	enum param_kind kind = PARAM_NONE;
	enum seg_kind sk;
	const char *s;
	size_t len, i = 0;
	int rank = 0, tail = 0;

	*pk = PARAM_NONE;
	while (!tail && pattern_next(&pattern, &s, &len)) {
		if (i == ADMINROUTE_SEG_MAX || i == p->nseg)
			return -1;
		sk = seg_kind(s, len, &kind);
		if (sk == SEG_BAD || (kind != PARAM_NONE && *pk != PARAM_NONE))
			return -1;
		if (sk == SEG_LITERAL && (strlen(p->seg[i]) != len || memcmp(p->seg[i], s, len)))
			return -1;
		if (kind != PARAM_NONE) {
			*pidx = i;
			*pk = kind;
		}
		tail = sk == SEG_TAIL;
		rank = rank * 3 + (int)sk;
		i++;
	}
	if (*pattern != '\0' || (!tail && i != p->nseg))
		return -1;
	for (; i < ADMINROUTE_SEG_MAX; i++)
		rank *= 3;
	return rank;
}

/*
 * seg with %XX decoded into out (cap bytes): -1 if it does not fit or
 * decodes to a NUL. A '%' without two hex digits stays, as libevent's
 * evhttp_uridecode leaves it; no UDID has one.
 */
static int
percent_decode(const char *seg, char *out, size_t cap)
{
	size_t i, j = 0;
	uint8_t b;
	size_t n;

	for (i = 0; seg[i] != '\0'; i++) {
		if (j + 1 >= cap)
			return -1;
		if (seg[i] == '%' && seg[i + 1] != '\0' && seg[i + 2] != '\0' &&
		    hex_decode(seg + i + 1, 2, &b, 1, &n) == 0) {
			if (b == 0)
				return -1;
			out[j++] = (char)b;
			i += 2;
		} else {
			out[j++] = seg[i];
		}
	}
	out[j] = '\0';
	return 0;
}

/*
 * A certificate serial number in hex (either case, any leading zeros) into
 * the form the EST endpoint records: its bytes without leading zero bytes,
 * in upper-case hex, as openssl x509 -serial prints it. -1 if it is not one.
 */
int
adminroute_serial_norm(const char *in, char *out)
{
	size_t i, n, odd;

	while (in[0] == '0' && in[1] != '\0')
		in++;
	n = strlen(in);
	odd = n & 1;
	if (n == 0 || n + odd >= STORE_SERIAL_HEX)
		return -1;
	if (odd)
		out[0] = '0';
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)in[i]))
			return -1;
		out[odd + i] = (char)toupper((unsigned char)in[i]);
	}
	out[odd + n] = '\0';
	return 0;
}

/* Check and convert the path's parameter into out->param; else out->why, ZTP_EMALFORMED. */
static int
param_take(enum param_kind kind, const char *seg, struct adminroute_match *out)
{
	switch (kind) {
	case PARAM_NONE:
		return 0;
	case PARAM_RAW:
		out->param = seg;
		return 0;
	case PARAM_ICCID:
		out->param = seg;
		if (iccid_valid(seg, strlen(seg)))
			return 0;
		out->why = "not an ICCID (18 to 20 digits)";
		break;
	case PARAM_CA:
		out->param = seg;
		if (store_group_name_valid(seg))
			return 0;
		out->why = "not a manufacturer CA name";
		break;
	case PARAM_UDID:
		/* %XX, as a client may send ':' */
		out->param = out->value;
		if (percent_decode(seg, out->value, sizeof(out->value)) == 0 &&
		    store_udid_valid(out->value))
			return 0;
		out->why = "not a UDID (1 to 64 characters of A-Z a-z 0-9 - . : _)";
		break;
	case PARAM_SERIAL:
		out->param = out->value;
		if (adminroute_serial_norm(seg, out->value) == 0)
			return 0;
		out->why = "not a certificate serial number (1 to 40 hex digits)";
		break;
	}
	out->param = NULL;
	return ZTP_EMALFORMED;
}

int
adminroute_match(const struct adminroute *table, size_t n, unsigned method,
    const struct adminroute_path *p, struct adminroute_match *out)
{
	const struct adminroute *first = NULL, *found = NULL;
	enum param_kind kind = PARAM_NONE, k;
	size_t i, pidx = 0, idx = 0;
	int best = -1, rank;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		if ((rank = pattern_fit(table[i].pattern, p, &idx, &k)) < 0 || rank < best)
			continue;
		if (rank > best) {
			best = rank;
			first = &table[i];
			found = NULL;
			out->allow = 0;
			kind = k;
			pidx = idx;
		}
		out->allow |= table[i].methods;
		if (found == NULL && (table[i].methods & method))
			found = &table[i];
	}
	out->route = first;
	if (first == NULL)
		return ZTP_ENOENT;
	if (param_take(kind, kind != PARAM_NONE ? p->seg[pidx] : NULL, out) != 0)
		return ZTP_EMALFORMED;
	if (found == NULL)
		return ZTP_EINVAL;
	out->route = found;
	return 0;
}

/* 1 if pat is a pattern as admin_route.h describes them. */
static int
pattern_valid(const char *pat)
{
	enum seg_kind sk = SEG_LITERAL;
	enum param_kind pk;
	size_t len, nseg = 0, nparam = 0;
	const char *s;

	if (pat == NULL || pat[0] != '/')
		return 0;
	while (pattern_next(&pat, &s, &len)) {
		if (sk == SEG_TAIL || nseg++ == ADMINROUTE_SEG_MAX)
			return 0;
		sk = seg_kind(s, len, &pk);
		if (sk == SEG_BAD || (pk != PARAM_NONE && nparam++ > 0))
			return 0;
	}
	return 1;
}

int
adminroute_check(const struct adminroute *table, size_t n, size_t *bad)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!pattern_valid(table[i].pattern) || table[i].handler == NULL ||
		    table[i].methods == 0 || (table[i].methods & ~ADMINROUTE_ANY) != 0) {
			*bad = i;
			return ZTP_EINVAL;
		}
	return 0;
}

const char *
adminroute_allow(unsigned methods, int prose, char *buf, size_t cap)
{
	static const char *const names[] = { "GET", "POST", "PUT", "DELETE" };
	size_t i, left = 0, off = 0;
	int w;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		left += (methods >> i) & 1u;
	if (cap > 0)
		buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && off < cap; i++) {
		if (!((methods >> i) & 1u))
			continue;
		left--;
		/* "A, B or C" in prose, "A, B, C" in a header */
		w = snprintf(buf + off, cap - off, "%s%s", names[i],
		    left == 0 ? "" : prose && left == 1 ? " or " : ", ");
		if (w < 0)
			break;
		off += (size_t)w;
	}
	return buf;
}
