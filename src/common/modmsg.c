/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module security service's items and identities (modmsg.h). Every
 * length is checked before it is used; nothing is allocated.
 */
#include <string.h>

#include "modmsg.h"
#include "ztp/err.h"

static int
is_lhex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int
lhex_run(const char *s, size_t len, size_t want)
{
	size_t i;

	if (len != want)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_lhex((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
printable_run(const char *s, size_t len, size_t max, int no_quote)
{
	size_t i;

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || (no_quote && c == '"'))
			return 0;
	}
	return 1;
}

int
modmsg_profile_valid(const char *s, size_t len)
{
	return lhex_run(s, len, MODMSG_PROFILE_LEN);
}

int
modmsg_serial_valid(const char *s, size_t len)
{
	return printable_run(s, len, MODMSG_SERIAL_MAX, 1);
}

int
modmsg_firmware_valid(const char *s, size_t len)
{
	return printable_run(s, len, MODMSG_FIRMWARE_MAX, 0);
}

int
modmsg_uid_hex_valid(const char *s, size_t len)
{
	return lhex_run(s, len, MODMSG_UID_HEX);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A text item's value into dst (cap > len), after its check. */
static int
take_text(char *dst, const uint8_t *v, size_t n, int (*valid)(const char *, size_t))
{
	if (!valid((const char *)v, n))
		return ZTP_EMALFORMED;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

static int
take_item(struct modmsg *m, unsigned tag, const uint8_t *v, size_t n)
{
	switch (tag) {
	case MODMSG_PROFILE:
		return take_text(m->profile, v, n, modmsg_profile_valid);
	case MODMSG_SERIAL:
		return take_text(m->serial, v, n, modmsg_serial_valid);
	case MODMSG_FIRMWARE:
		return take_text(m->firmware, v, n, modmsg_firmware_valid);
	case MODMSG_STATUS:
	case MODMSG_REASON:
		if (n != 1)
			return ZTP_EMALFORMED;
		if (tag == MODMSG_STATUS)
			m->status = v[0];
		else
			m->reason = v[0];
		return 0;
	case MODMSG_COUNTERS:
		if (n != 8)
			return ZTP_EMALFORMED;
		m->boots = get32(v);
		m->heartbeats = get32(v + 4);
		return 0;
	default:
		break;
	}
	if (n != 4)
		return ZTP_EMALFORMED;
	switch (tag) {
	case MODMSG_EPOCH:
		m->epoch = get32(v);
		break;
	case MODMSG_FEATURES:
		m->features = get32(v);
		break;
	case MODMSG_HB_INTERVAL:
		m->hb_interval = get32(v);
		break;
	case MODMSG_HB_MIN:
		m->hb_min = get32(v);
		break;
	case MODMSG_SID:
		m->sid = get32(v);
		break;
	default: /* MODMSG_RETRY_AFTER */
		m->retry_after = get32(v);
		break;
	}
	return 0;
}

int
modmsg_decode(const uint8_t *buf, size_t len, struct modmsg *m)
{
	size_t off = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	if (len > MODMSG_BODY_MAX)
		return ZTP_ETOOBIG;
	rc = 0;
	while (off < len && rc == 0) {
		unsigned tag, n;

		rc = ZTP_EMALFORMED;
		if (len - off < 2)
			break;
		tag = buf[off];
		n = buf[off + 1];
		off += 2;
		if (n > len - off)
			break;
		if (tag >= 1 && tag <= MODMSG_TAG_LAST) {
			if (MODMSG_HAS(m, tag))
				break;
			if ((rc = take_item(m, tag, buf + off, n)) != 0)
				break;
			MODMSG_SET(m, tag);
		}
		off += n;
		rc = 0;
	}
	/* a refused body leaves nothing of its items behind */
	if (rc != 0)
		memset(m, 0, sizeof(*m));
	return rc;
}

/* Append one item; ZTP_ETOOBIG if it does not fit. */
static int
put_item(uint8_t *buf, size_t cap, size_t *off, unsigned tag, const void *v, size_t n)
{
	if (n > 255 || cap - *off < 2 + n)
		return ZTP_ETOOBIG;
	buf[(*off)++] = (uint8_t)tag;
	buf[(*off)++] = (uint8_t)n;
	memcpy(buf + *off, v, n);
	*off += n;
	return 0;
}

int
modmsg_encode(const struct modmsg *m, uint8_t *buf, size_t cap, size_t *outlen)
{
	size_t off = 0;
	unsigned tag;
	int rc = 0;

	for (tag = 1; tag <= MODMSG_TAG_LAST && rc == 0; tag++) {
		uint8_t v[8];
		const char *s = NULL;
		size_t n = 4;

		if (!MODMSG_HAS(m, tag))
			continue;
		switch (tag) {
		/* strnlen: a text that fills its array without a NUL is invalid */
		case MODMSG_PROFILE:
			s = m->profile;
			if (!modmsg_profile_valid(s, strnlen(s, sizeof(m->profile))))
				return ZTP_EINVAL;
			break;
		case MODMSG_SERIAL:
			s = m->serial;
			if (!modmsg_serial_valid(s, strnlen(s, sizeof(m->serial))))
				return ZTP_EINVAL;
			break;
		case MODMSG_FIRMWARE:
			s = m->firmware;
			if (!modmsg_firmware_valid(s, strnlen(s, sizeof(m->firmware))))
				return ZTP_EINVAL;
			break;
		case MODMSG_EPOCH:
			put32(v, m->epoch);
			break;
		case MODMSG_FEATURES:
			put32(v, m->features);
			break;
		case MODMSG_HB_INTERVAL:
			put32(v, m->hb_interval);
			break;
		case MODMSG_HB_MIN:
			put32(v, m->hb_min);
			break;
		case MODMSG_STATUS:
			v[0] = m->status;
			n = 1;
			break;
		case MODMSG_COUNTERS:
			put32(v, m->boots);
			put32(v + 4, m->heartbeats);
			n = 8;
			break;
		case MODMSG_REASON:
			v[0] = m->reason;
			n = 1;
			break;
		case MODMSG_SID:
			put32(v, m->sid);
			break;
		default:
			put32(v, m->retry_after);
			break;
		}
		if (s != NULL)
			rc = put_item(buf, cap, &off, tag, s, strlen(s));
		else
			rc = put_item(buf, cap, &off, tag, v, n);
	}
	if (rc == 0)
		*outlen = off;
	return rc;
}

size_t
modmsg_identity(const uint8_t uid[MODMSG_UID_LEN], uint32_t epoch, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[11];
	size_t n = 0, i, t = 0;

	if (cap < MODMSG_IDENTITY_MAX + 1)
		return 0;
	out[n++] = 'M';
	for (i = 0; i < MODMSG_UID_LEN; i++) {
		out[n++] = digits[uid[i] >> 4];
		out[n++] = digits[uid[i] & 15];
	}
	if (epoch != 0) {
		out[n++] = '.';
		while (epoch != 0) {
			tmp[t++] = (char)('0' + epoch % 10);
			epoch /= 10;
		}
		while (t > 0)
			out[n++] = tmp[--t];
	}
	out[n] = '\0';
	return n;
}

static int
hexval(int c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

int
modmsg_identity_parse(const uint8_t *id, size_t len, uint8_t uid[MODMSG_UID_LEN],
    uint32_t *epoch)
{
	uint8_t u[MODMSG_UID_LEN];
	uint64_t e = 0;
	size_t i;

	if (len == 0 || id[0] != 'M')
		return ZTP_ENOENT;
	if (len < 1 + MODMSG_UID_HEX || !lhex_run((const char *)id + 1, MODMSG_UID_HEX,
					       MODMSG_UID_HEX))
		return ZTP_EMALFORMED;
	/* uid and *epoch are written only once the whole identity is good */
	for (i = 0; i < MODMSG_UID_LEN; i++)
		u[i] = (uint8_t)(hexval(id[1 + 2 * i]) << 4 | hexval(id[2 + 2 * i]));
	i = 1 + MODMSG_UID_HEX;
	if (i < len) {
		if (id[i] != '.' || len - i < 2 || len - i > 11 || id[i + 1] == '0')
			return ZTP_EMALFORMED;
		for (i++; i < len; i++) {
			if (id[i] < '0' || id[i] > '9')
				return ZTP_EMALFORMED;
			e = e * 10 + (uint64_t)(id[i] - '0');
		}
		if (e > UINT32_MAX)
			return ZTP_EMALFORMED;
	}
	memcpy(uid, u, MODMSG_UID_LEN);
	*epoch = (uint32_t)e;
	return 0;
}

static const char *const feature_names[] = { "psk", "e2e", "local-data", "c2c", "ztp-cert", "c2c-pairing" };
#define NFEATURES (sizeof(feature_names) / sizeof(feature_names[0]))

const char *
modmsg_feature_name(uint32_t bit)
{
	size_t i;

	for (i = 0; i < NFEATURES; i++)
		if (bit == (1u << i))
			return feature_names[i];
	return NULL;
}

int
modmsg_features_parse(const char *list, uint32_t *bits)
{
	const char *p = list;
	uint32_t out = 0;

	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p), i;

		for (i = 0; i < NFEATURES; i++)
			if (strlen(feature_names[i]) == n && memcmp(feature_names[i], p, n) == 0)
				break;
		if (i == NFEATURES)
			return ZTP_EINVAL;
		out |= 1u << i;
		if (e == NULL)
			break;
		p = e + 1;
		if (*p == '\0')
			return ZTP_EINVAL;
	}
	*bits = out;
	return 0;
}

int
modmsg_features_format(uint32_t bits, char *out, size_t cap)
{
	size_t n = 0, i;

	if (cap == 0)
		return ZTP_ETOOBIG;
	out[0] = '\0';
	for (i = 0; i < NFEATURES; i++) {
		size_t l = strlen(feature_names[i]);

		if (!(bits & (1u << i)))
			continue;
		if (n + (n ? 1 : 0) + l + 1 > cap)
			return ZTP_ETOOBIG;
		if (n)
			out[n++] = ',';
		memcpy(out + n, feature_names[i], l + 1);
		n += l;
	}
	return 0;
}
