/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signer's request/response codec (format in signer_msg.h).
 */
#include <string.h>

#include <openssl/asn1.h>

#include "signer_msg.h"
#include "ztp/err.h"

#define BIT(tag) (UINT64_C(1) << (tag))
#define REPEATABLE (BIT(SIGNER_TAG_SAN_DNS) | BIT(SIGNER_TAG_SAN_IP) | BIT(SIGNER_TAG_REVOKED))
#define REVOKED_FIXED 10 /* serial_len:u8 reason:u8 revoked_at:u64 */

/* The fields each type allows and requires; every tag is below 64. */
#define ZTPCA_USE_FIELDS \
	(BIT(SIGNER_TAG_ZTPCA_CERT) | BIT(SIGNER_TAG_ZTPCA_KEY) | BIT(SIGNER_TAG_ZTPCA_ID))
#define ZTPCA_IMPORT_FIELDS \
	(BIT(SIGNER_TAG_ZTPCA_CERT) | BIT(SIGNER_TAG_ZTPCA_ID) | BIT(SIGNER_TAG_PRIVKEY))
struct type_rule {
	uint16_t type;
	uint64_t allowed;
	uint64_t required;
};

static const struct type_rule rules[] = {
	{ SIGNER_MSG_PING, 0, 0 },
	{ SIGNER_MSG_PONG, 0, 0 },
	{ SIGNER_MSG_SIGN_CSR,
	    BIT(SIGNER_TAG_CSR) | BIT(SIGNER_TAG_CN) | BIT(SIGNER_TAG_SERIAL_NUMBER) |
		BIT(SIGNER_TAG_ORG) | BIT(SIGNER_TAG_ORG_UNIT) | BIT(SIGNER_TAG_DAYS) |
		BIT(SIGNER_TAG_KEY_USAGE) | BIT(SIGNER_TAG_EXT_KEY_USAGE) |
		BIT(SIGNER_TAG_KEY_SHA256) | BIT(SIGNER_TAG_SAN_DNS) | BIT(SIGNER_TAG_SAN_IP),
	    BIT(SIGNER_TAG_CSR) | BIT(SIGNER_TAG_DAYS) | BIT(SIGNER_TAG_KEY_USAGE) |
		BIT(SIGNER_TAG_EXT_KEY_USAGE) },
	{ SIGNER_MSG_SIGN_SPKI,
	    BIT(SIGNER_TAG_CN) | BIT(SIGNER_TAG_SERIAL_NUMBER) | BIT(SIGNER_TAG_ORG) |
		BIT(SIGNER_TAG_ORG_UNIT) | BIT(SIGNER_TAG_DAYS) | BIT(SIGNER_TAG_KEY_USAGE) |
		BIT(SIGNER_TAG_EXT_KEY_USAGE) | BIT(SIGNER_TAG_SAN_DNS) | BIT(SIGNER_TAG_SAN_IP) |
		BIT(SIGNER_TAG_SPKI) | BIT(SIGNER_TAG_KEY_TYPE) | BIT(SIGNER_TAG_KEY_BITS),
	    BIT(SIGNER_TAG_DAYS) | BIT(SIGNER_TAG_KEY_USAGE) | BIT(SIGNER_TAG_EXT_KEY_USAGE) |
		BIT(SIGNER_TAG_SPKI) | BIT(SIGNER_TAG_KEY_TYPE) | BIT(SIGNER_TAG_KEY_BITS) },
	{ SIGNER_MSG_CERT,
	    BIT(SIGNER_TAG_CERT) | BIT(SIGNER_TAG_SERIAL) | BIT(SIGNER_TAG_NOT_BEFORE) |
		BIT(SIGNER_TAG_NOT_AFTER),
	    BIT(SIGNER_TAG_CERT) | BIT(SIGNER_TAG_SERIAL) | BIT(SIGNER_TAG_NOT_BEFORE) |
		BIT(SIGNER_TAG_NOT_AFTER) },
	{ SIGNER_MSG_SIGN_CRL,
	    BIT(SIGNER_TAG_CRL_NUMBER) | BIT(SIGNER_TAG_NEXT_UPDATE) | BIT(SIGNER_TAG_REVOKED),
	    BIT(SIGNER_TAG_CRL_NUMBER) | BIT(SIGNER_TAG_NEXT_UPDATE) },
	{ SIGNER_MSG_CRL, BIT(SIGNER_TAG_CRL), BIT(SIGNER_TAG_CRL) },
	{ SIGNER_MSG_CRL_BEGIN,
	    BIT(SIGNER_TAG_CRL_NUMBER) | BIT(SIGNER_TAG_NEXT_UPDATE) | BIT(SIGNER_TAG_CRL_TOTAL),
	    BIT(SIGNER_TAG_CRL_NUMBER) | BIT(SIGNER_TAG_NEXT_UPDATE) | BIT(SIGNER_TAG_CRL_TOTAL) },
	{ SIGNER_MSG_CRL_ENTRIES, BIT(SIGNER_TAG_REVOKED), BIT(SIGNER_TAG_REVOKED) },
	{ SIGNER_MSG_CRL_END, BIT(SIGNER_TAG_CRL_TOTAL), BIT(SIGNER_TAG_CRL_TOTAL) },
	{ SIGNER_MSG_CRL_READ, BIT(SIGNER_TAG_READ_OFFSET), BIT(SIGNER_TAG_READ_OFFSET) },
	{ SIGNER_MSG_CRL_ACK, BIT(SIGNER_TAG_RECEIVED), BIT(SIGNER_TAG_RECEIVED) },
	{ SIGNER_MSG_CRL_PART,
	    BIT(SIGNER_TAG_CRL) | BIT(SIGNER_TAG_CRL_SIZE) | BIT(SIGNER_TAG_PART_OFFSET),
	    BIT(SIGNER_TAG_CRL) | BIT(SIGNER_TAG_CRL_SIZE) | BIT(SIGNER_TAG_PART_OFFSET) },
	{ SIGNER_MSG_ERROR, BIT(SIGNER_TAG_CODE) | BIT(SIGNER_TAG_TEXT), BIT(SIGNER_TAG_CODE) },
	{ SIGNER_MSG_READY,
	    BIT(SIGNER_TAG_DEVICE_ADDR) | BIT(SIGNER_TAG_ADMIN_ADDR) | BIT(SIGNER_TAG_EST_ADDR), 0 },
	{ SIGNER_MSG_PASS_FD, 0, 0 },
	{ SIGNER_MSG_ZTPCA_CREATE,
	    BIT(SIGNER_TAG_CN) | BIT(SIGNER_TAG_ORG) | BIT(SIGNER_TAG_DAYS) | BIT(SIGNER_TAG_ZTPCA_ID),
	    BIT(SIGNER_TAG_CN) | BIT(SIGNER_TAG_DAYS) | BIT(SIGNER_TAG_ZTPCA_ID) },
	{ SIGNER_MSG_ZTPCA_IMPORT, ZTPCA_IMPORT_FIELDS, ZTPCA_IMPORT_FIELDS },
	{ SIGNER_MSG_ZTPCA,
	    BIT(SIGNER_TAG_ZTPCA_KEY) | BIT(SIGNER_TAG_CERT) | BIT(SIGNER_TAG_NOT_BEFORE) |
		BIT(SIGNER_TAG_NOT_AFTER),
	    BIT(SIGNER_TAG_ZTPCA_KEY) | BIT(SIGNER_TAG_CERT) | BIT(SIGNER_TAG_NOT_BEFORE) |
		BIT(SIGNER_TAG_NOT_AFTER) },
	{ SIGNER_MSG_ZTPCA_SIGN,
	    BIT(SIGNER_TAG_CN) | BIT(SIGNER_TAG_SERIAL_NUMBER) | BIT(SIGNER_TAG_ORG) |
		BIT(SIGNER_TAG_ORG_UNIT) | BIT(SIGNER_TAG_DAYS) | BIT(SIGNER_TAG_KEY_USAGE) |
		BIT(SIGNER_TAG_EXT_KEY_USAGE) | BIT(SIGNER_TAG_SPKI) | BIT(SIGNER_TAG_KEY_TYPE) |
		BIT(SIGNER_TAG_KEY_BITS) | ZTPCA_USE_FIELDS,
	    BIT(SIGNER_TAG_DAYS) | BIT(SIGNER_TAG_KEY_USAGE) | BIT(SIGNER_TAG_EXT_KEY_USAGE) |
		BIT(SIGNER_TAG_SPKI) | BIT(SIGNER_TAG_KEY_TYPE) | BIT(SIGNER_TAG_KEY_BITS) |
		ZTPCA_USE_FIELDS },
	{ SIGNER_MSG_ZTPCA_POP, BIT(SIGNER_TAG_CN) | BIT(SIGNER_TAG_DAYS) | ZTPCA_USE_FIELDS,
	    BIT(SIGNER_TAG_CN) | BIT(SIGNER_TAG_DAYS) | ZTPCA_USE_FIELDS },
	{ SIGNER_MSG_ZTPCA_SIGN_DATA, BIT(SIGNER_TAG_DIGEST) | ZTPCA_USE_FIELDS,
	    BIT(SIGNER_TAG_DIGEST) | ZTPCA_USE_FIELDS },
	{ SIGNER_MSG_SIGNATURE, BIT(SIGNER_TAG_SIGNATURE), BIT(SIGNER_TAG_SIGNATURE) },
};

static const struct type_rule *
find_rule(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].type == type)
			return &rules[i];
	return NULL;
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t
rd64(const uint8_t *p)
{
	return ((uint64_t)rd32(p) << 32) | rd32(p + 4);
}

int
signer_msg_serial_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

/* ---- value checks: 0, ZTP_EMALFORMED or ZTP_ERANGE ---- */

/* UTF-8 without control characters (C0, DEL, C1), surrogates or overlong forms. */
static int
check_utf8(const uint8_t *s, size_t len, size_t max)
{
	unsigned long c;
	size_t i = 0;
	int n;

	if (len > max)
		return ZTP_ERANGE;
	while (i < len) {
		n = UTF8_getc(s + i, (int)(len - i), &c);
		if (n <= 0)
			return ZTP_EMALFORMED;
		if (c < 0x20 || (c >= 0x7f && c < 0xa0) || (c >= 0xd800 && c <= 0xdfff) ||
		    c > 0x10ffff)
			return ZTP_EMALFORMED;
		i += (size_t)n;
	}
	return 0;
}

/* X.520 PrintableString characters. */
static int
check_printable(const uint8_t *s, size_t len, size_t max)
{
	size_t i;

	if (len > max)
		return ZTP_ERANGE;
	for (i = 0; i < len; i++) {
		uint8_t c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			strchr(" '()+,-./:=?", c) != NULL) ||
		    c == '\0')
			return ZTP_EMALFORMED;
	}
	return 0;
}

/* Printable ASCII, for the error text. */
static int
check_ascii(const uint8_t *s, size_t len, size_t max)
{
	size_t i;

	if (len > max)
		return ZTP_ERANGE;
	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return ZTP_EMALFORMED;
	return 0;
}

/* A host name: labels of 1..63 letters, digits and inner hyphens, separated by dots. */
static int
check_dns(const uint8_t *s, size_t len)
{
	size_t i, label = 0;

	if (len > SIGNER_DNS_MAX)
		return ZTP_ERANGE;
	for (i = 0; i < len; i++) {
		uint8_t c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return ZTP_EMALFORMED;
			label = 0;
			continue;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '-'))
			return ZTP_EMALFORMED;
		if ((c == '-' && label == 0) || ++label > 63)
			return ZTP_EMALFORMED;
	}
	if (label == 0 || s[len - 1] == '-')
		return ZTP_EMALFORMED;
	return 0;
}

static int
check_serial(const uint8_t *s, size_t len)
{
	if (len == 0 || s[0] == 0)
		return ZTP_EMALFORMED;
	if (len > SIGNER_SERIAL_MAX)
		return ZTP_ERANGE;
	return 0;
}

static int
check_reason(uint8_t r)
{
	return (r <= 6 || r == 9 || r == 10) ? 0 : ZTP_ERANGE;
}

/* A u32 value of lo..hi into *out. */
static int
check_u32(const uint8_t *v, size_t len, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint32_t u;

	if (len != 4)
		return ZTP_EMALFORMED;
	u = rd32(v);
	if (u < lo || u > hi)
		return ZTP_ERANGE;
	*out = u;
	return 0;
}

static int
check_bits(uint64_t v, uint64_t all)
{
	return (v != 0 && (v & ~all) == 0) ? 0 : ZTP_ERANGE;
}

/* Copy a checked text value into a NUL-terminated field of its struct. */
static void
copy_text(char *dst, const uint8_t *v, size_t len)
{
	memcpy(dst, v, len);
	dst[len] = '\0';
}

/* ---- decoding ---- */

struct decode_state {
	const uint8_t *prev_serial; /* the last REVOKED serial, for the order */
	size_t prev_serial_len;
};

/* One REVOKED value: its checks, and the order against the previous one. */
static int
decode_revoked(struct decode_state *ds, const uint8_t *v, size_t len, struct signer_revoked *out)
{
	size_t slen = v[0];
	uint64_t t;
	int rc;

	if (len != REVOKED_FIXED + slen)
		return ZTP_EMALFORMED;
	if ((rc = check_serial(v + 1, slen)) != 0)
		return rc;
	if ((rc = check_reason(v[1 + slen])) != 0)
		return rc;
	t = rd64(v + 2 + slen);
	if (t == 0 || t > (uint64_t)SIGNER_TIME_MAX)
		return ZTP_ERANGE;
	if (ds != NULL) {
		if (ds->prev_serial != NULL &&
		    signer_msg_serial_cmp(ds->prev_serial, ds->prev_serial_len, v + 1, slen) >= 0)
			return ZTP_EMALFORMED;
		ds->prev_serial = v + 1;
		ds->prev_serial_len = slen;
	}
	if (out != NULL) {
		memcpy(out->serial, v + 1, slen);
		out->serial_len = slen;
		out->reason = v[1 + slen];
		out->revoked_at = (int64_t)t;
	}
	return 0;
}

/*
 * One field of m (whose type allows tag); v[0..len) with len >= 1. field
 * points at the field's header, for the REVOKED span.
 */
static int
decode_field(struct signer_msg *m, struct decode_state *ds, uint16_t tag, const uint8_t *field,
    const uint8_t *v, size_t len)
{
	struct signer_csr_req *csr = &m->u.csr;
	uint64_t u;
	int rc = 0;

	switch (tag) {
	case SIGNER_TAG_CSR:
		if (len > SIGNER_CSR_MAX)
			return ZTP_ERANGE;
		csr->csr = v;
		csr->csr_len = len;
		return 0;
	case SIGNER_TAG_CN:
	case SIGNER_TAG_ORG:
	case SIGNER_TAG_ORG_UNIT:
		if ((rc = check_utf8(v, len, SIGNER_NAME_MAX)) != 0)
			return rc;
		copy_text(tag == SIGNER_TAG_CN	     ? csr->subject.cn :
			tag == SIGNER_TAG_ORG ? csr->subject.org :
						      csr->subject.org_unit,
		    v, len);
		return 0;
	case SIGNER_TAG_SERIAL_NUMBER:
		if ((rc = check_printable(v, len, SIGNER_NAME_MAX)) != 0)
			return rc;
		copy_text(csr->subject.serial_number, v, len);
		return 0;
	case SIGNER_TAG_DAYS:
		if (len != 4)
			return ZTP_EMALFORMED;
		u = rd32(v);
		if (u == 0 || u > SIGNER_DAYS_MAX)
			return ZTP_ERANGE;
		csr->profile.days = (uint32_t)u;
		return 0;
	case SIGNER_TAG_KEY_USAGE:
	case SIGNER_TAG_EXT_KEY_USAGE:
		if (len != 2)
			return ZTP_EMALFORMED;
		u = rd16(v);
		if (tag == SIGNER_TAG_KEY_USAGE) {
			rc = check_bits(u, SIGNER_KU_ALL);
			csr->profile.key_usage = (uint16_t)u;
		} else {
			rc = check_bits(u, SIGNER_EKU_ALL);
			csr->profile.ext_key_usage = (uint16_t)u;
		}
		return rc;
	case SIGNER_TAG_KEY_SHA256:
		if (len != 32)
			return ZTP_EMALFORMED;
		memcpy(csr->key_sha256, v, 32);
		csr->has_key_sha256 = 1;
		return 0;
	case SIGNER_TAG_SAN_DNS:
		if (csr->n_dns == SIGNER_SAN_MAX)
			return ZTP_ERANGE;
		if ((rc = check_dns(v, len)) != 0)
			return rc;
		for (size_t i = 0; i < csr->n_dns; i++)
			if (strlen(csr->dns[i]) == len && memcmp(csr->dns[i], v, len) == 0)
				return ZTP_EMALFORMED;
		copy_text(csr->dns[csr->n_dns++], v, len);
		return 0;
	case SIGNER_TAG_SAN_IP:
		if (csr->n_ip == SIGNER_SAN_MAX)
			return ZTP_ERANGE;
		if (len != 4 && len != 16)
			return ZTP_EMALFORMED;
		for (size_t i = 0; i < csr->n_ip; i++)
			if (csr->ip_len[i] == len && memcmp(csr->ip[i], v, len) == 0)
				return ZTP_EMALFORMED;
		memcpy(csr->ip[csr->n_ip], v, len);
		csr->ip_len[csr->n_ip++] = (uint8_t)len;
		return 0;
	case SIGNER_TAG_SPKI:
		if (len > SIGNER_SPKI_MAX)
			return ZTP_ERANGE;
		csr->spki = v;
		csr->spki_len = len;
		return 0;
	case SIGNER_TAG_KEY_TYPE:
		if (len != 1)
			return ZTP_EMALFORMED;
		if (v[0] < SIGNER_KEY_EC_P256 || v[0] > SIGNER_KEY_ED25519)
			return ZTP_ERANGE;
		csr->key_type = v[0];
		return 0;
	case SIGNER_TAG_KEY_BITS:
		if (len != 2)
			return ZTP_EMALFORMED;
		u = rd16(v);
		if (u == 0 || u > SIGNER_KEY_BITS_MAX)
			return ZTP_ERANGE;
		csr->key_bits = (uint16_t)u;
		return 0;
	case SIGNER_TAG_CRL_NUMBER:
		if (len != 8)
			return ZTP_EMALFORMED;
		m->u.crl.crl_number = rd64(v);
		return 0;
	case SIGNER_TAG_NEXT_UPDATE:
		if (len != 4)
			return ZTP_EMALFORMED;
		u = rd32(v);
		if (u < SIGNER_NEXT_UPDATE_MIN || u > SIGNER_NEXT_UPDATE_MAX)
			return ZTP_ERANGE;
		m->u.crl.next_update = (uint32_t)u;
		return 0;
	case SIGNER_TAG_CRL_TOTAL:
		return check_u32(v, len, 0, SIGNER_CRL_TOTAL_MAX, &m->u.crl.total);
	case SIGNER_TAG_READ_OFFSET:
		/* offset 0 comes with CRL_END's answer */
		return check_u32(v, len, 1, SIGNER_CRL_DER_MAX - 1, &m->u.crl_read.offset);
	case SIGNER_TAG_RECEIVED:
		return check_u32(v, len, 0, SIGNER_CRL_TOTAL_MAX, &m->u.crl_ack.received);
	case SIGNER_TAG_CRL_SIZE:
		return check_u32(v, len, 1, SIGNER_CRL_DER_MAX, &m->u.crl_der.size);
	case SIGNER_TAG_PART_OFFSET:
		return check_u32(v, len, 0, SIGNER_CRL_DER_MAX - 1, &m->u.crl_der.offset);
	case SIGNER_TAG_REVOKED:
		if (m->u.crl.n_revoked == SIGNER_REVOKED_MAX)
			return ZTP_ERANGE;
		if ((rc = decode_revoked(ds, v, len, NULL)) != 0)
			return rc;
		if (m->u.crl.n_revoked++ == 0)
			m->u.crl.revoked_fields = field;
		m->u.crl.revoked_fields_len = (size_t)(v + len - m->u.crl.revoked_fields);
		return 0;
	case SIGNER_TAG_ZTPCA_CERT:
		if (len > SIGNER_ZTPCA_CERT_MAX)
			return ZTP_ERANGE;
		m->ztpca.cert = v;
		m->ztpca.cert_len = len;
		return 0;
	case SIGNER_TAG_ZTPCA_KEY:
		if (len > SIGNER_ZTPCA_KEY_MAX)
			return ZTP_ERANGE;
		m->ztpca.key = v;
		m->ztpca.key_len = len;
		return 0;
	case SIGNER_TAG_ZTPCA_ID:
		if ((rc = check_ascii(v, len, SIGNER_ZTPCA_ID_MAX)) != 0)
			return rc;
		if (len < 3 || memchr(v, '/', len) == NULL)
			return ZTP_EMALFORMED;
		copy_text(m->ztpca.id, v, len);
		return 0;
	case SIGNER_TAG_DIGEST:
		if (len != sizeof(m->ztpca.digest))
			return ZTP_EMALFORMED;
		memcpy(m->ztpca.digest, v, len);
		m->ztpca.has_digest = 1;
		return 0;
	case SIGNER_TAG_SIGNATURE:
		if (len > SIGNER_SIGNATURE_MAX)
			return ZTP_ERANGE;
		m->u.sig.sig = v;
		m->u.sig.sig_len = len;
		return 0;
	case SIGNER_TAG_PRIVKEY:
		if (len > SIGNER_ZTPCA_PKCS8_MAX)
			return ZTP_ERANGE;
		m->ztpca.privkey = v;
		m->ztpca.privkey_len = len;
		return 0;
	case SIGNER_TAG_CERT:
		if (len > SIGNER_CERT_MAX)
			return ZTP_ERANGE;
		m->u.cert.cert = v;
		m->u.cert.cert_len = len;
		return 0;
	case SIGNER_TAG_SERIAL:
		if ((rc = check_serial(v, len)) != 0)
			return rc;
		memcpy(m->u.cert.serial, v, len);
		m->u.cert.serial_len = len;
		return 0;
	case SIGNER_TAG_NOT_BEFORE:
	case SIGNER_TAG_NOT_AFTER:
		if (len != 8)
			return ZTP_EMALFORMED;
		if ((u = rd64(v)) > (uint64_t)SIGNER_TIME_MAX)
			return ZTP_ERANGE;
		if (tag == SIGNER_TAG_NOT_BEFORE)
			m->u.cert.not_before = (int64_t)u;
		else
			m->u.cert.not_after = (int64_t)u;
		return 0;
	case SIGNER_TAG_CRL:
		/* a field cannot be longer than SIGNER_CRL_MAX, nor, next to CRL_PART's
		 * two other fields, than SIGNER_CRL_PART_MAX */
		m->u.crl_der.crl = v;
		m->u.crl_der.crl_len = len;
		return 0;
	case SIGNER_TAG_CODE: {
		int32_t code;
		if (len != 4)
			return ZTP_EMALFORMED;
		u = rd32(v);
		memcpy(&code, &(uint32_t){ (uint32_t)u }, sizeof(code));
		if (code <= ZTP_E__FIRST || code >= ZTP_E__LAST)
			return ZTP_ERANGE;
		m->u.error.code = code;
		return 0;
	}
	case SIGNER_TAG_TEXT:
		if ((rc = check_ascii(v, len, SIGNER_TEXT_MAX)) != 0)
			return rc;
		copy_text(m->u.error.text, v, len);
		return 0;
	case SIGNER_TAG_DEVICE_ADDR:
	case SIGNER_TAG_ADMIN_ADDR:
	case SIGNER_TAG_EST_ADDR:
		if ((rc = check_ascii(v, len, SIGNER_ADDR_MAX)) != 0)
			return rc;
		copy_text(tag == SIGNER_TAG_DEVICE_ADDR	   ? m->u.ready.device :
			tag == SIGNER_TAG_ADMIN_ADDR ? m->u.ready.admin :
							     m->u.ready.est,
		    v, len);
		return 0;
	}
	return ZTP_EMALFORMED; /* not reached: the type rule allows known tags only */
}

/* Checks that involve more than one field, once all are read. */
static int
decode_finish(const struct signer_msg *m)
{
	switch (m->type) {
	case SIGNER_MSG_SIGN_CSR:
	case SIGNER_MSG_SIGN_SPKI:
	case SIGNER_MSG_ZTPCA_SIGN:
		if (m->u.csr.subject.cn[0] == '\0' && m->u.csr.subject.serial_number[0] == '\0')
			return ZTP_EMALFORMED;
		return 0;
	case SIGNER_MSG_CERT:
	case SIGNER_MSG_ZTPCA:
		return m->u.cert.not_after > m->u.cert.not_before ? 0 : ZTP_ERANGE;
	case SIGNER_MSG_CRL_PART:
		/* the part lies within the whole */
		if (m->u.crl_der.offset >= m->u.crl_der.size ||
		    m->u.crl_der.crl_len > m->u.crl_der.size - m->u.crl_der.offset)
			return ZTP_ERANGE;
		return 0;
	}
	return 0;
}

int
signer_msg_decode(const uint8_t *buf, size_t len, struct signer_msg *out)
{
	static struct signer_msg zero;
	const struct type_rule *rule;
	struct decode_state ds = { NULL, 0 };
	struct signer_msg m = zero;
	uint64_t seen = 0;
	uint16_t tag, prev = 0;
	size_t pos, flen;
	int rc;

	if (len > SIGNER_MSG_MAX)
		return ZTP_ETOOBIG;
	if (len < SIGNER_MSG_HDR_LEN || rd32(buf + 2) != len - SIGNER_MSG_HDR_LEN)
		return ZTP_EMALFORMED;
	m.type = rd16(buf);
	if ((rule = find_rule(m.type)) == NULL)
		return ZTP_EMALFORMED;
	for (pos = SIGNER_MSG_HDR_LEN; pos < len; pos += flen) {
		const uint8_t *field = buf + pos;
		if (len - pos < SIGNER_FIELD_HDR_LEN)
			return ZTP_EMALFORMED;
		tag = rd16(field);
		flen = rd16(field + 2);
		pos += SIGNER_FIELD_HDR_LEN;
		if (flen == 0 || flen > len - pos)
			return ZTP_EMALFORMED;
		if (tag >= 64 || (rule->allowed & BIT(tag)) == 0)
			return ZTP_EMALFORMED;
		if (tag < prev || (tag == prev && (REPEATABLE & BIT(tag)) == 0))
			return ZTP_EMALFORMED;
		if ((rc = decode_field(&m, &ds, tag, field, buf + pos, flen)) != 0)
			return rc;
		seen |= BIT(tag);
		prev = tag;
	}
	if ((seen & rule->required) != rule->required)
		return ZTP_EMALFORMED;
	if ((rc = decode_finish(&m)) != 0)
		return rc;
	*out = m;
	return 0;
}

int
signer_msg_revoked_check(const struct signer_revoked *e)
{
	int rc;

	if (e->serial_len > SIGNER_SERIAL_MAX)
		return ZTP_ERANGE;
	if ((rc = check_serial(e->serial, e->serial_len)) != 0 ||
	    (rc = check_reason(e->reason)) != 0)
		return rc;
	if (e->revoked_at < 1 || e->revoked_at > SIGNER_TIME_MAX)
		return ZTP_ERANGE;
	return 0;
}

int
signer_msg_revoked_next(const struct signer_crl_req *req, size_t *pos, struct signer_revoked *out)
{
	const uint8_t *f;
	size_t flen;

	if (req->revoked_fields == NULL || *pos + SIGNER_FIELD_HDR_LEN > req->revoked_fields_len)
		return 0;
	f = req->revoked_fields + *pos;
	flen = rd16(f + 2);
	if (flen > req->revoked_fields_len - *pos - SIGNER_FIELD_HDR_LEN ||
	    decode_revoked(NULL, f + SIGNER_FIELD_HDR_LEN, flen, out) != 0)
		return 0; /* not reached for a decoded request */
	*pos += SIGNER_FIELD_HDR_LEN + flen;
	return 1;
}

/* ---- SubjectPublicKeyInfo ---- */

/* OBJECT IDENTIFIER contents (RFC 5480, RFC 8017, RFC 8410) */
static const uint8_t oid_ec_public_key[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const uint8_t oid_prime256v1[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_secp384r1[] = { 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_rsa_encryption[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
	0x01 };
static const uint8_t oid_ed25519[] = { 0x2b, 0x65, 0x70 };

#define DER_INTEGER 0x02
#define DER_BIT_STRING 0x03
#define DER_NULL 0x05
#define DER_OID 0x06
#define DER_SEQUENCE 0x30

/*
 * One DER element at *p (before end) of tag want: a definite length in
 * its shortest form (at most two length bytes: no SPKI needs more). Sets
 * its contents v[0..*vlen) and moves *p past it. 0 or ZTP_EMALFORMED.
 */
static int
der_get(const uint8_t **p, const uint8_t *end, uint8_t want, const uint8_t **v, size_t *vlen)
{
	const uint8_t *q = *p;
	size_t n, k, i;

	if (end - q < 2 || q[0] != want)
		return ZTP_EMALFORMED;
	n = q[1];
	q += 2;
	if (n & 0x80) {
		k = n & 0x7f;
		/* no indefinite length, no leading zero byte, no long form below 128 */
		if (k == 0 || k > 2 || (size_t)(end - q) < k || q[0] == 0)
			return ZTP_EMALFORMED;
		for (n = 0, i = 0; i < k; i++)
			n = (n << 8) | q[i];
		q += k;
		if (n < 0x80)
			return ZTP_EMALFORMED;
	}
	if (n > (size_t)(end - q))
		return ZTP_EMALFORMED;
	*v = q;
	*vlen = n;
	*p = q + n;
	return 0;
}

/* A positive INTEGER's contents in DER: its magnitude without the sign byte. */
static int
der_positive(const uint8_t *v, size_t len, const uint8_t **mag, size_t *mlen)
{
	if (len == 0 || (v[0] & 0x80) != 0)
		return ZTP_EMALFORMED;
	if (v[0] == 0) {
		/* zero, or a leading zero byte that is not needed */
		if (len == 1 || (v[1] & 0x80) == 0)
			return ZTP_EMALFORMED;
		v++;
		len--;
	}
	*mag = v;
	*mlen = len;
	return 0;
}

static int
oid_is(const uint8_t *v, size_t len, const uint8_t *oid, size_t oid_len)
{
	return len == oid_len && memcmp(v, oid, len) == 0;
}

/* The EC part of signer_spki_parse(): params after the algorithm, the point. */
static int
spki_ec(const uint8_t *a, const uint8_t *ae, struct signer_spki *out)
{
	const uint8_t *curve;
	size_t clen, size;

	if (a < ae && a[0] == DER_SEQUENCE)
		return ZTP_EINVAL; /* explicit parameters: RFC 5480 forbids them */
	if (der_get(&a, ae, DER_OID, &curve, &clen) != 0 || a != ae)
		return ZTP_EMALFORMED;
	if (oid_is(curve, clen, oid_prime256v1, sizeof(oid_prime256v1))) {
		out->key_type = SIGNER_KEY_EC_P256;
		size = 32;
	} else if (oid_is(curve, clen, oid_secp384r1, sizeof(oid_secp384r1))) {
		out->key_type = SIGNER_KEY_EC_P384;
		size = 48;
	} else {
		return ZTP_EINVAL;
	}
	out->key_bits = (uint16_t)(size * 8);
	if (out->key[0] == 0x04 && out->key_len == 1 + 2 * size)
		return 0;
	if ((out->key[0] == 0x02 || out->key[0] == 0x03) && out->key_len == 1 + size)
		return 0;
	return ZTP_EMALFORMED;
}

/* The RSA part: NULL parameters, then RSAPublicKey in the BIT STRING. */
static int
spki_rsa(const uint8_t *a, const uint8_t *ae, struct signer_spki *out)
{
	const uint8_t *r = out->key, *re = out->key + out->key_len, *seq, *s, *se, *n, *e;
	size_t seqlen, nlen, elen;
	unsigned top;

	if (ae - a != 2 || a[0] != DER_NULL || a[1] != 0)
		return ZTP_EMALFORMED;
	if (der_get(&r, re, DER_SEQUENCE, &seq, &seqlen) != 0 || r != re)
		return ZTP_EMALFORMED;
	s = seq;
	se = seq + seqlen;
	if (der_get(&s, se, DER_INTEGER, &n, &nlen) != 0 ||
	    der_get(&s, se, DER_INTEGER, &e, &elen) != 0 || s != se ||
	    der_positive(n, nlen, &n, &nlen) != 0 || der_positive(e, elen, &e, &elen) != 0)
		return ZTP_EMALFORMED;
	/* e odd and above 1 */
	if ((e[elen - 1] & 1) == 0 || (elen == 1 && e[0] == 1))
		return ZTP_EMALFORMED;
	for (top = n[0], out->key_bits = (uint16_t)((nlen - 1) * 8); top != 0; top >>= 1)
		out->key_bits++;
	out->key_type = SIGNER_KEY_RSA;
	out->modulus = n;
	out->modulus_len = nlen;
	return 0;
}

int
signer_spki_parse(const uint8_t *der, size_t len, struct signer_spki *out)
{
	static const struct signer_spki zero;
	struct signer_spki k = zero;
	const uint8_t *p = der, *end = der + len, *spki, *alg, *bits, *oid, *q, *qe, *a, *ae;
	size_t spki_len, alg_len, bits_len, oid_len;
	int rc;

	if (len > SIGNER_SPKI_MAX)
		return ZTP_ERANGE;
	if (der == NULL || der_get(&p, end, DER_SEQUENCE, &spki, &spki_len) != 0 || p != end)
		return ZTP_EMALFORMED;
	q = spki;
	qe = spki + spki_len;
	if (der_get(&q, qe, DER_SEQUENCE, &alg, &alg_len) != 0 ||
	    der_get(&q, qe, DER_BIT_STRING, &bits, &bits_len) != 0 || q != qe)
		return ZTP_EMALFORMED;
	/* a key is whole bytes: no unused bits, and at least one byte */
	if (bits_len < 2 || bits[0] != 0)
		return ZTP_EMALFORMED;
	k.key = bits + 1;
	k.key_len = bits_len - 1;
	a = alg;
	ae = alg + alg_len;
	if (der_get(&a, ae, DER_OID, &oid, &oid_len) != 0)
		return ZTP_EMALFORMED;
	if (oid_is(oid, oid_len, oid_ec_public_key, sizeof(oid_ec_public_key))) {
		rc = spki_ec(a, ae, &k);
	} else if (oid_is(oid, oid_len, oid_rsa_encryption, sizeof(oid_rsa_encryption))) {
		rc = spki_rsa(a, ae, &k);
	} else if (oid_is(oid, oid_len, oid_ed25519, sizeof(oid_ed25519))) {
		rc = (a == ae && k.key_len == 32) ? 0 : ZTP_EMALFORMED;
		k.key_type = SIGNER_KEY_ED25519;
		k.key_bits = 256;
	} else {
		rc = ZTP_EINVAL;
	}
	if (rc != 0)
		return rc;
	*out = k;
	return 0;
}

/* ---- encoding ---- */

struct wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	int err;
};

static void
put(struct wbuf *w, const void *data, size_t len)
{
	if (w->err != 0)
		return;
	if (len > w->cap - w->len) {
		w->err = ZTP_ETOOBIG;
		return;
	}
	if (len > 0)
		memcpy(w->p + w->len, data, len);
	w->len += len;
}

static void
put16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(w, b, 2);
}

static void
put32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	put(w, b, 4);
}

static void
put64(struct wbuf *w, uint64_t v)
{
	put32(w, (uint32_t)(v >> 32));
	put32(w, (uint32_t)v);
}

static void
field_hdr(struct wbuf *w, uint16_t tag, size_t len)
{
	if (len > 0xffff && w->err == 0)
		w->err = ZTP_ETOOBIG;
	put16(w, tag);
	put16(w, (uint16_t)len);
}

static void
put_field(struct wbuf *w, uint16_t tag, const void *v, size_t len)
{
	field_hdr(w, tag, len);
	put(w, v, len);
}

static void
put_u16_field(struct wbuf *w, uint16_t tag, uint16_t v)
{
	field_hdr(w, tag, 2);
	put16(w, v);
}

static void
put_u32_field(struct wbuf *w, uint16_t tag, uint32_t v)
{
	field_hdr(w, tag, 4);
	put32(w, v);
}

static void
put_u64_field(struct wbuf *w, uint16_t tag, uint64_t v)
{
	field_hdr(w, tag, 8);
	put64(w, v);
}

/* A text field if not empty; an unterminated array is out of range. */
static int
put_text(struct wbuf *w, uint16_t tag, const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n == size)
		return ZTP_ERANGE;
	if (n > 0)
		put_field(w, tag, s, n);
	return 0;
}

/*
 * SIGN_CSR and SIGN_SPKI: the fields set in r, in tag order; a field the
 * type does not define is written all the same, for the decoder to refuse.
 */
static int
encode_csr(struct wbuf *w, const struct signer_csr_req *r)
{
	size_t i;
	int rc;

	if ((r->csr == NULL && r->csr_len > 0) || (r->spki == NULL && r->spki_len > 0))
		return ZTP_EINVAL;
	if (r->n_dns > SIGNER_SAN_MAX || r->n_ip > SIGNER_SAN_MAX)
		return ZTP_ERANGE;
	if (r->csr_len > 0)
		put_field(w, SIGNER_TAG_CSR, r->csr, r->csr_len);
	if ((rc = put_text(w, SIGNER_TAG_CN, r->subject.cn, sizeof(r->subject.cn))) != 0 ||
	    (rc = put_text(w, SIGNER_TAG_SERIAL_NUMBER, r->subject.serial_number,
		 sizeof(r->subject.serial_number))) != 0 ||
	    (rc = put_text(w, SIGNER_TAG_ORG, r->subject.org, sizeof(r->subject.org))) != 0 ||
	    (rc = put_text(w, SIGNER_TAG_ORG_UNIT, r->subject.org_unit,
		 sizeof(r->subject.org_unit))) != 0)
		return rc;
	put_u32_field(w, SIGNER_TAG_DAYS, r->profile.days);
	put_u16_field(w, SIGNER_TAG_KEY_USAGE, r->profile.key_usage);
	put_u16_field(w, SIGNER_TAG_EXT_KEY_USAGE, r->profile.ext_key_usage);
	if (r->has_key_sha256)
		put_field(w, SIGNER_TAG_KEY_SHA256, r->key_sha256, 32);
	for (i = 0; i < r->n_dns; i++) {
		size_t n = strnlen(r->dns[i], sizeof(r->dns[i]));
		if (n == sizeof(r->dns[i]))
			return ZTP_ERANGE;
		put_field(w, SIGNER_TAG_SAN_DNS, r->dns[i], n); /* empty: the decoder refuses */
	}
	for (i = 0; i < r->n_ip; i++) {
		if (r->ip_len[i] > sizeof(r->ip[i]))
			return ZTP_EMALFORMED;
		put_field(w, SIGNER_TAG_SAN_IP, r->ip[i], r->ip_len[i]);
	}
	if (r->spki_len > 0)
		put_field(w, SIGNER_TAG_SPKI, r->spki, r->spki_len);
	if (r->key_type != 0) {
		field_hdr(w, SIGNER_TAG_KEY_TYPE, 1);
		put(w, &r->key_type, 1);
	}
	if (r->key_bits != 0)
		put_u16_field(w, SIGNER_TAG_KEY_BITS, r->key_bits);
	return 0;
}

/*
 * The ZTP CA types: ZTPCA_SIGN as SIGN_SPKI, ZTPCA_CREATE and ZTPCA_POP
 * their CN (ORG) and DAYS, then the ZTP CA fields set in m (tags 0x15..0x18,
 * after all of those). A field the type does not define is written all
 * the same, for the decoder to refuse.
 */
static int
encode_ztpca(struct wbuf *w, const struct signer_msg *m)
{
	const struct signer_ztpca *z = &m->ztpca;
	const struct signer_csr_req *r = &m->u.csr;
	int rc;

	if ((z->cert == NULL && z->cert_len > 0) || (z->key == NULL && z->key_len > 0) ||
	    (z->privkey == NULL && z->privkey_len > 0))
		return ZTP_EINVAL;
	if (m->type == SIGNER_MSG_ZTPCA_SIGN) {
		if ((rc = encode_csr(w, r)) != 0)
			return rc;
	} else if (m->type != SIGNER_MSG_ZTPCA_IMPORT && m->type != SIGNER_MSG_ZTPCA_SIGN_DATA) {
		if ((rc = put_text(w, SIGNER_TAG_CN, r->subject.cn, sizeof(r->subject.cn))) != 0 ||
		    (rc = put_text(w, SIGNER_TAG_ORG, r->subject.org, sizeof(r->subject.org))) != 0)
			return rc;
		put_u32_field(w, SIGNER_TAG_DAYS, r->profile.days);
	}
	if (z->cert_len > 0)
		put_field(w, SIGNER_TAG_ZTPCA_CERT, z->cert, z->cert_len);
	if (z->key_len > 0)
		put_field(w, SIGNER_TAG_ZTPCA_KEY, z->key, z->key_len);
	if ((rc = put_text(w, SIGNER_TAG_ZTPCA_ID, z->id, sizeof(z->id))) != 0)
		return rc;
	if (z->privkey_len > 0)
		put_field(w, SIGNER_TAG_PRIVKEY, z->privkey, z->privkey_len);
	if (z->has_digest) /* tags ascend: DIGEST is the last */
		put_field(w, SIGNER_TAG_DIGEST, z->digest, sizeof(z->digest));
	return 0;
}

/* SIGN_CRL, CRL_BEGIN, CRL_ENTRIES, CRL_END: the fields of their type. */
static int
encode_crl(struct wbuf *w, uint16_t type, const struct signer_crl_req *r)
{
	const struct signer_revoked *e;
	size_t i, n = 0;

	if (type == SIGNER_MSG_SIGN_CRL || type == SIGNER_MSG_CRL_ENTRIES)
		n = r->n_revoked;
	if (n > 0 && r->revoked == NULL)
		return ZTP_EINVAL;
	if (n > SIGNER_REVOKED_MAX)
		return ZTP_ERANGE;
	if (type == SIGNER_MSG_SIGN_CRL || type == SIGNER_MSG_CRL_BEGIN) {
		put_u64_field(w, SIGNER_TAG_CRL_NUMBER, r->crl_number);
		put_u32_field(w, SIGNER_TAG_NEXT_UPDATE, r->next_update);
	}
	for (i = 0; i < n; i++) {
		e = &r->revoked[i];
		if (e->serial_len > SIGNER_SERIAL_MAX)
			return ZTP_ERANGE;
		field_hdr(w, SIGNER_TAG_REVOKED, REVOKED_FIXED + e->serial_len);
		put(w, &(uint8_t){ (uint8_t)e->serial_len }, 1);
		put(w, e->serial, e->serial_len);
		put(w, &e->reason, 1);
		put64(w, (uint64_t)e->revoked_at);
	}
	if (type == SIGNER_MSG_CRL_BEGIN || type == SIGNER_MSG_CRL_END)
		put_u32_field(w, SIGNER_TAG_CRL_TOTAL, r->total);
	return 0;
}

int
signer_msg_encode(const struct signer_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	struct signer_msg check;
	struct wbuf w = { buf, cap < SIGNER_MSG_MAX ? cap : SIGNER_MSG_MAX, 0, 0 };
	int rc = 0;

	if (find_rule(m->type) == NULL)
		return ZTP_EINVAL;
	put16(&w, m->type);
	put32(&w, 0); /* the length, once known */
	switch (m->type) {
	case SIGNER_MSG_SIGN_CSR:
	case SIGNER_MSG_SIGN_SPKI:
		rc = encode_csr(&w, &m->u.csr);
		break;
	case SIGNER_MSG_SIGN_CRL:
	case SIGNER_MSG_CRL_BEGIN:
	case SIGNER_MSG_CRL_ENTRIES:
	case SIGNER_MSG_CRL_END:
		rc = encode_crl(&w, m->type, &m->u.crl);
		break;
	case SIGNER_MSG_CRL_READ:
		put_u32_field(&w, SIGNER_TAG_READ_OFFSET, m->u.crl_read.offset);
		break;
	case SIGNER_MSG_CRL_ACK:
		put_u32_field(&w, SIGNER_TAG_RECEIVED, m->u.crl_ack.received);
		break;
	case SIGNER_MSG_CERT:
		if (m->u.cert.cert == NULL && m->u.cert.cert_len > 0)
			return ZTP_EINVAL;
		if (m->u.cert.serial_len > SIGNER_SERIAL_MAX)
			return ZTP_ERANGE;
		if (m->u.cert.cert_len > 0)
			put_field(&w, SIGNER_TAG_CERT, m->u.cert.cert, m->u.cert.cert_len);
		if (m->u.cert.serial_len > 0)
			put_field(&w, SIGNER_TAG_SERIAL, m->u.cert.serial, m->u.cert.serial_len);
		put_u64_field(&w, SIGNER_TAG_NOT_BEFORE, (uint64_t)m->u.cert.not_before);
		put_u64_field(&w, SIGNER_TAG_NOT_AFTER, (uint64_t)m->u.cert.not_after);
		break;
	case SIGNER_MSG_ZTPCA_CREATE:
	case SIGNER_MSG_ZTPCA_IMPORT:
	case SIGNER_MSG_ZTPCA_SIGN:
	case SIGNER_MSG_ZTPCA_POP:
	case SIGNER_MSG_ZTPCA_SIGN_DATA:
		rc = encode_ztpca(&w, m);
		break;
	case SIGNER_MSG_SIGNATURE:
		if (m->u.sig.sig == NULL && m->u.sig.sig_len > 0)
			return ZTP_EINVAL;
		if (m->u.sig.sig_len > 0)
			put_field(&w, SIGNER_TAG_SIGNATURE, m->u.sig.sig, m->u.sig.sig_len);
		break;
	case SIGNER_MSG_ZTPCA:
		if ((m->u.cert.cert == NULL && m->u.cert.cert_len > 0) ||
		    (m->ztpca.key == NULL && m->ztpca.key_len > 0))
			return ZTP_EINVAL;
		if (m->ztpca.key_len > 0)
			put_field(&w, SIGNER_TAG_ZTPCA_KEY, m->ztpca.key, m->ztpca.key_len);
		if (m->u.cert.cert_len > 0)
			put_field(&w, SIGNER_TAG_CERT, m->u.cert.cert, m->u.cert.cert_len);
		put_u64_field(&w, SIGNER_TAG_NOT_BEFORE, (uint64_t)m->u.cert.not_before);
		put_u64_field(&w, SIGNER_TAG_NOT_AFTER, (uint64_t)m->u.cert.not_after);
		break;
	case SIGNER_MSG_CRL:
	case SIGNER_MSG_CRL_PART:
		if (m->u.crl_der.crl == NULL && m->u.crl_der.crl_len > 0)
			return ZTP_EINVAL;
		if (m->u.crl_der.crl_len > 0)
			put_field(&w, SIGNER_TAG_CRL, m->u.crl_der.crl, m->u.crl_der.crl_len);
		if (m->type == SIGNER_MSG_CRL_PART) {
			put_u32_field(&w, SIGNER_TAG_CRL_SIZE, m->u.crl_der.size);
			put_u32_field(&w, SIGNER_TAG_PART_OFFSET, m->u.crl_der.offset);
		}
		break;
	case SIGNER_MSG_ERROR:
		put_u32_field(&w, SIGNER_TAG_CODE, (uint32_t)m->u.error.code);
		rc = put_text(&w, SIGNER_TAG_TEXT, m->u.error.text, sizeof(m->u.error.text));
		break;
	case SIGNER_MSG_READY:
		if ((rc = put_text(&w, SIGNER_TAG_DEVICE_ADDR, m->u.ready.device,
			 sizeof(m->u.ready.device))) == 0 &&
		    (rc = put_text(&w, SIGNER_TAG_ADMIN_ADDR, m->u.ready.admin,
			 sizeof(m->u.ready.admin))) == 0)
			rc = put_text(&w, SIGNER_TAG_EST_ADDR, m->u.ready.est, sizeof(m->u.ready.est));
		break;
	}
	if (rc != 0)
		return rc;
	if (w.err != 0)
		return w.err;
	buf[2] = (uint8_t)((w.len - SIGNER_MSG_HDR_LEN) >> 24);
	buf[3] = (uint8_t)((w.len - SIGNER_MSG_HDR_LEN) >> 16);
	buf[4] = (uint8_t)((w.len - SIGNER_MSG_HDR_LEN) >> 8);
	buf[5] = (uint8_t)(w.len - SIGNER_MSG_HDR_LEN);
	/* send only what the other side accepts */
	if ((rc = signer_msg_decode(buf, w.len, &check)) != 0)
		return rc;
	*len = w.len;
	return 0;
}
