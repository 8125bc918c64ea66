/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ZTP certificate bundles (ztp/ztpcert.h): every length is checked before
 * it is used; nothing is allocated.
 */
#include <string.h>

#include "ztp/err.h"
#include "ztp/ztpcert.h"

#define PART_HDR 3 /* tag:u8 len:u16 */

static size_t
part_max(unsigned tag)
{
	return tag == ZTP_CERT_KEY ? ZTP_CERT_KEY_MAX : ZTP_CERT_CERT_MAX;
}

/*
 * 1 if v[0..n) is exactly one DER SEQUENCE: tag 0x30, a definite length
 * in its shortest form (at most two length bytes: no part needs more)
 * that ends where v ends.
 */
static int
one_sequence(const uint8_t *v, size_t n)
{
	size_t len, hdr;

	if (n < 2 || v[0] != 0x30)
		return 0;
	if (v[1] < 0x80) {
		len = v[1];
		hdr = 2;
	} else if (v[1] == 0x81) {
		if (n < 3 || v[2] < 0x80)
			return 0;
		len = v[2];
		hdr = 3;
	} else if (v[1] == 0x82) {
		if (n < 4 || v[2] == 0)
			return 0;
		len = ((size_t)v[2] << 8) | v[3];
		hdr = 4;
	} else {
		return 0;
	}
	return len == n - hdr;
}

int
ztp_cert_parse(const uint8_t *buf, size_t len, struct ztp_cert_bundle *out)
{
	struct ztp_cert_bundle b;
	size_t off = 1, n;
	unsigned tag;

	if (len > ZTP_CERT_BUNDLE_MAX)
		return ZTP_ETOOBIG;
	if (buf == NULL || len < 1 || buf[0] != ZTP_CERT_VERSION)
		return ZTP_EMALFORMED;
	memset(&b, 0, sizeof(b));
	for (tag = ZTP_CERT_KEY; tag <= ZTP_CERT_CA; tag++) {
		if (len - off < PART_HDR || buf[off] != tag)
			return ZTP_EMALFORMED;
		n = ((size_t)buf[off + 1] << 8) | buf[off + 2];
		off += PART_HDR;
		if (n == 0 || n > part_max(tag) || n > len - off || !one_sequence(buf + off, n))
			return ZTP_EMALFORMED;
		b.part[tag] = buf + off;
		b.len[tag] = n;
		off += n;
	}
	if (off != len)
		return ZTP_EMALFORMED;
	*out = b;
	return 0;
}

int
ztp_cert_encode(const uint8_t *key, size_t key_len, const uint8_t *cert, size_t cert_len,
    const uint8_t *ca, size_t ca_len, uint8_t *buf, size_t cap, size_t *outlen)
{
	const uint8_t *v[4] = { NULL, key, cert, ca };
	size_t n[4] = { 0, key_len, cert_len, ca_len }, off = 1;
	struct ztp_cert_bundle check;
	unsigned tag;

	if (buf == NULL || outlen == NULL)
		return ZTP_EINVAL;
	for (tag = ZTP_CERT_KEY; tag <= ZTP_CERT_CA; tag++) {
		if (n[tag] > part_max(tag))
			return ZTP_ERANGE;
		if (v[tag] == NULL || !one_sequence(v[tag], n[tag]))
			return ZTP_EMALFORMED;
	}
	if (cap < 1 + 3 * PART_HDR + n[1] + n[2] + n[3])
		return ZTP_ETOOBIG;
	buf[0] = ZTP_CERT_VERSION;
	for (tag = ZTP_CERT_KEY; tag <= ZTP_CERT_CA; tag++) {
		buf[off] = (uint8_t)tag;
		buf[off + 1] = (uint8_t)(n[tag] >> 8);
		buf[off + 2] = (uint8_t)n[tag];
		memcpy(buf + off + PART_HDR, v[tag], n[tag]);
		off += PART_HDR + n[tag];
	}
	/* send only what the other side accepts */
	if (ztp_cert_parse(buf, off, &check) != 0)
		return ZTP_EMALFORMED;
	*outlen = off;
	return 0;
}
