/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signer's message codec (src/server/proto/signer_msg.h): round trips, one
 * encoding per message, and every malformed form refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "signer_msg.h"
#include "ztp/err.h"

/* ---- a raw message builder, to write what the encoder would not ---- */

struct mb {
	uint8_t b[SIGNER_MSG_MAX + 256];
	size_t n;
};

static void
mb_put(struct mb *m, const void *v, size_t len)
{
	assert_true(m->n + len <= sizeof(m->b));
	memcpy(m->b + m->n, v, len);
	m->n += len;
}

static void
mb_u16(struct mb *m, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	mb_put(m, b, 2);
}

static void
mb_u32(struct mb *m, uint32_t v)
{
	mb_u16(m, (uint16_t)(v >> 16));
	mb_u16(m, (uint16_t)v);
}

static void
mb_u64(struct mb *m, uint64_t v)
{
	mb_u32(m, (uint32_t)(v >> 32));
	mb_u32(m, (uint32_t)v);
}

static void
mb_start(struct mb *m, uint16_t type)
{
	m->n = 0;
	mb_u16(m, type);
	mb_u32(m, 0);
}

static void
mb_field(struct mb *m, uint16_t tag, const void *v, size_t len)
{
	mb_u16(m, tag);
	mb_u16(m, (uint16_t)len);
	mb_put(m, v, len);
}

static void
mb_str(struct mb *m, uint16_t tag, const char *s)
{
	mb_field(m, tag, s, strlen(s));
}

static void
mb_f16(struct mb *m, uint16_t tag, uint16_t v)
{
	mb_u16(m, tag);
	mb_u16(m, 2);
	mb_u16(m, v);
}

static void
mb_f32(struct mb *m, uint16_t tag, uint32_t v)
{
	mb_u16(m, tag);
	mb_u16(m, 4);
	mb_u32(m, v);
}

static void
mb_f64(struct mb *m, uint16_t tag, uint64_t v)
{
	mb_u16(m, tag);
	mb_u16(m, 8);
	mb_u64(m, v);
}

static void
mb_revoked(struct mb *m, const uint8_t *serial, size_t slen, uint8_t reason, uint64_t t)
{
	mb_u16(m, SIGNER_TAG_REVOKED);
	mb_u16(m, (uint16_t)(10 + slen));
	mb_put(m, &(uint8_t){ (uint8_t)slen }, 1);
	mb_put(m, serial, slen);
	mb_put(m, &reason, 1);
	mb_u64(m, t);
}

/* Set the header's length to the bytes after it. */
static size_t
mb_end(struct mb *m)
{
	uint32_t len = (uint32_t)(m->n - SIGNER_MSG_HDR_LEN);

	m->b[2] = (uint8_t)(len >> 24);
	m->b[3] = (uint8_t)(len >> 16);
	m->b[4] = (uint8_t)(len >> 8);
	m->b[5] = (uint8_t)len;
	return m->n;
}

static int
decode(struct mb *m)
{
	struct signer_msg out;

	return signer_msg_decode(m->b, m->n, &out);
}

static const uint8_t fake_csr[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };

/* The fields of a valid SIGN_CSR request up to (not including) tag stop, but skipping skip. */
static void
csr_fields(struct mb *m, uint16_t skip, uint16_t stop)
{
	if (skip != SIGNER_TAG_CSR && stop > SIGNER_TAG_CSR)
		mb_field(m, SIGNER_TAG_CSR, fake_csr, sizeof(fake_csr));
	if (skip != SIGNER_TAG_CN && stop > SIGNER_TAG_CN)
		mb_str(m, SIGNER_TAG_CN, "dev-0001");
	if (skip != SIGNER_TAG_DAYS && stop > SIGNER_TAG_DAYS)
		mb_f32(m, SIGNER_TAG_DAYS, 365);
	if (skip != SIGNER_TAG_KEY_USAGE && stop > SIGNER_TAG_KEY_USAGE)
		mb_f16(m, SIGNER_TAG_KEY_USAGE, SIGNER_KU_DIGITAL_SIGNATURE);
	if (skip != SIGNER_TAG_EXT_KEY_USAGE && stop > SIGNER_TAG_EXT_KEY_USAGE)
		mb_f16(m, SIGNER_TAG_EXT_KEY_USAGE, SIGNER_EKU_CLIENT_AUTH);
}

/* A valid SIGN_CSR with the field tag replaced by v[0..len) (tag one of CSR..EXT_KEY_USAGE, CN). */
static int
csr_replace(uint16_t tag, const void *v, size_t len)
{
	struct mb m;
	uint16_t t;

	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	for (t = SIGNER_TAG_CSR; t <= SIGNER_TAG_SAN_IP; t++) {
		if (t == tag) {
			mb_field(&m, t, v, len);
			continue;
		}
		switch (t) {
		case SIGNER_TAG_CSR:
			mb_field(&m, t, fake_csr, sizeof(fake_csr));
			break;
		case SIGNER_TAG_CN:
			mb_str(&m, t, "dev-0001");
			break;
		case SIGNER_TAG_DAYS:
			mb_f32(&m, t, 365);
			break;
		case SIGNER_TAG_KEY_USAGE:
			mb_f16(&m, t, SIGNER_KU_DIGITAL_SIGNATURE);
			break;
		case SIGNER_TAG_EXT_KEY_USAGE:
			mb_f16(&m, t, SIGNER_EKU_CLIENT_AUTH);
			break;
		}
	}
	mb_end(&m);
	return decode(&m);
}

static void
full_csr_req(struct signer_csr_req *r)
{
	memset(r, 0, sizeof(*r));
	r->csr = fake_csr;
	r->csr_len = sizeof(fake_csr);
	strcpy(r->subject.cn, "dev-0001");
	strcpy(r->subject.serial_number, "UDID-0001");
	strcpy(r->subject.org, "M\xc3\xbcller GmbH");
	strcpy(r->subject.org_unit, "fleet \xf0\x9f\x98\x80");
	r->profile.days = 397;
	r->profile.key_usage = SIGNER_KU_DIGITAL_SIGNATURE | SIGNER_KU_KEY_AGREEMENT;
	r->profile.ext_key_usage = SIGNER_EKU_CLIENT_AUTH | SIGNER_EKU_SERVER_AUTH;
	r->has_key_sha256 = 1;
	memset(r->key_sha256, 0xab, sizeof(r->key_sha256));
	r->n_dns = 2;
	strcpy(r->dns[0], "gw1.example.com");
	strcpy(r->dns[1], "localhost");
	r->n_ip = 2;
	memcpy(r->ip[0], "\x7f\x00\x00\x01", 4);
	r->ip_len[0] = 4;
	memset(r->ip[1], 0, 16);
	r->ip[1][15] = 1;
	r->ip_len[1] = 16;
}

/* Encode m, decode it, re-encode the result: the same bytes. Returns the length. */
static size_t
round_trip(const struct signer_msg *m, uint8_t *buf, struct signer_msg *back)
{
	static uint8_t again[SIGNER_MSG_MAX];
	size_t len, len2;

	assert_int_equal(signer_msg_encode(m, buf, SIGNER_MSG_MAX, &len), 0);
	assert_int_equal(signer_msg_decode(buf, len, back), 0);
	assert_int_equal(back->type, m->type);
	if (back->type != SIGNER_MSG_SIGN_CRL) {
		assert_int_equal(signer_msg_encode(back, again, sizeof(again), &len2), 0);
		assert_int_equal(len2, len);
		assert_memory_equal(again, buf, len);
	}
	return len;
}

/* ---- round trips ---- */

static void
test_ping_is_six_bytes(void **state)
{
	struct signer_msg m = { .type = SIGNER_MSG_PING }, back;
	uint8_t buf[SIGNER_MSG_MAX];

	assert_int_equal(round_trip(&m, buf, &back), 6);
	assert_memory_equal(buf, "\x00\x01\x00\x00\x00\x00", 6);
	m.type = SIGNER_MSG_PONG;
	assert_int_equal(round_trip(&m, buf, &back), 6);
	assert_memory_equal(buf, "\x80\x01\x00\x00\x00\x00", 6);
}

static void
test_sign_csr_round_trip_keeps_every_field(void **state)
{
	static struct signer_msg m, back;
	static uint8_t buf[SIGNER_MSG_MAX];
	const struct signer_csr_req *r = &back.u.csr;

	m.type = SIGNER_MSG_SIGN_CSR;
	full_csr_req(&m.u.csr);
	round_trip(&m, buf, &back);
	assert_int_equal(r->csr_len, sizeof(fake_csr));
	assert_memory_equal(r->csr, fake_csr, sizeof(fake_csr));
	assert_ptr_equal(r->csr >= buf && r->csr < buf + SIGNER_MSG_MAX, 1);
	assert_string_equal(r->subject.cn, "dev-0001");
	assert_string_equal(r->subject.serial_number, "UDID-0001");
	assert_string_equal(r->subject.org, "M\xc3\xbcller GmbH");
	assert_string_equal(r->subject.org_unit, "fleet \xf0\x9f\x98\x80");
	assert_int_equal(r->profile.days, 397);
	assert_int_equal(r->profile.key_usage,
	    SIGNER_KU_DIGITAL_SIGNATURE | SIGNER_KU_KEY_AGREEMENT);
	assert_int_equal(r->profile.ext_key_usage, SIGNER_EKU_ALL);
	assert_true(r->has_key_sha256);
	assert_memory_equal(r->key_sha256, m.u.csr.key_sha256, 32);
	assert_int_equal(r->n_dns, 2);
	assert_string_equal(r->dns[1], "localhost");
	assert_int_equal(r->n_ip, 2);
	assert_int_equal(r->ip_len[0], 4);
	assert_int_equal(r->ip_len[1], 16);
	assert_memory_equal(r->ip[1], m.u.csr.ip[1], 16);
}

static void
test_sign_csr_minimal_has_only_required_fields(void **state)
{
	static struct signer_msg m, back;
	uint8_t buf[SIGNER_MSG_MAX];
	struct mb raw;

	m.type = SIGNER_MSG_SIGN_CSR;
	m.u.csr.csr = fake_csr;
	m.u.csr.csr_len = sizeof(fake_csr);
	strcpy(m.u.csr.subject.serial_number, "X");
	m.u.csr.profile.days = 1;
	m.u.csr.profile.key_usage = SIGNER_KU_DIGITAL_SIGNATURE;
	m.u.csr.profile.ext_key_usage = SIGNER_EKU_CLIENT_AUTH;
	round_trip(&m, buf, &back);
	assert_string_equal(back.u.csr.subject.cn, "");
	assert_false(back.u.csr.has_key_sha256);

	/* byte for byte what the format says */
	mb_start(&raw, SIGNER_MSG_SIGN_CSR);
	mb_field(&raw, SIGNER_TAG_CSR, fake_csr, sizeof(fake_csr));
	mb_str(&raw, SIGNER_TAG_SERIAL_NUMBER, "X");
	mb_f32(&raw, SIGNER_TAG_DAYS, 1);
	mb_f16(&raw, SIGNER_TAG_KEY_USAGE, 1);
	mb_f16(&raw, SIGNER_TAG_EXT_KEY_USAGE, 1);
	mb_end(&raw);
	assert_memory_equal(buf, raw.b, raw.n);
}

static void
test_cert_response_round_trip(void **state)
{
	static struct signer_msg m, back;
	uint8_t buf[SIGNER_MSG_MAX], der[300];

	memset(der, 0x30, sizeof(der));
	m.type = SIGNER_MSG_CERT;
	m.u.cert.cert = der;
	m.u.cert.cert_len = sizeof(der);
	memcpy(m.u.cert.serial, "\x41\x02\x03", 3);
	m.u.cert.serial_len = 3;
	m.u.cert.not_before = 1700000000;
	m.u.cert.not_after = SIGNER_TIME_MAX;
	round_trip(&m, buf, &back);
	assert_int_equal(back.u.cert.cert_len, sizeof(der));
	assert_int_equal(back.u.cert.serial_len, 3);
	assert_memory_equal(back.u.cert.serial, "\x41\x02\x03", 3);
	assert_int_equal(back.u.cert.not_before, 1700000000);
	assert_int_equal(back.u.cert.not_after, SIGNER_TIME_MAX);
}

static void
test_crl_request_round_trip_and_iteration(void **state)
{
	static struct signer_msg m, back;
	static uint8_t buf[SIGNER_MSG_MAX];
	struct signer_revoked list[3], e;
	size_t pos = 0, i = 0;

	memset(list, 0, sizeof(list));
	list[0].serial[0] = 0x05;
	list[0].serial_len = 1;
	list[0].reason = SIGNER_REASON_UNSPECIFIED;
	list[0].revoked_at = 1;
	memcpy(list[1].serial, "\x01\x00", 2); /* 256 > 5: longer is larger */
	list[1].serial_len = 2;
	list[1].reason = SIGNER_REASON_KEY_COMPROMISE;
	list[1].revoked_at = 1700000000;
	memset(list[2].serial, 0xff, 20);
	list[2].serial_len = 20;
	list[2].reason = SIGNER_REASON_AA_COMPROMISE;
	list[2].revoked_at = SIGNER_TIME_MAX;
	m.type = SIGNER_MSG_SIGN_CRL;
	m.u.crl.crl_number = UINT64_MAX;
	m.u.crl.next_update = 7 * 86400;
	m.u.crl.n_revoked = 3;
	m.u.crl.revoked = list;
	round_trip(&m, buf, &back);
	assert_int_equal(back.u.crl.crl_number, UINT64_MAX);
	assert_int_equal(back.u.crl.next_update, 7 * 86400);
	assert_int_equal(back.u.crl.n_revoked, 3);
	assert_null(back.u.crl.revoked);
	while (signer_msg_revoked_next(&back.u.crl, &pos, &e)) {
		assert_true(i < 3);
		assert_int_equal(e.serial_len, list[i].serial_len);
		assert_memory_equal(e.serial, list[i].serial, e.serial_len);
		assert_int_equal(e.reason, list[i].reason);
		assert_int_equal(e.revoked_at, list[i].revoked_at);
		i++;
	}
	assert_int_equal(i, 3);

	/* and an empty CRL */
	m.u.crl.n_revoked = 0;
	m.u.crl.revoked = NULL;
	round_trip(&m, buf, &back);
	pos = 0;
	assert_int_equal(signer_msg_revoked_next(&back.u.crl, &pos, &e), 0);
}

static void
test_crl_and_error_responses_round_trip(void **state)
{
	static struct signer_msg m, back;
	static uint8_t buf[SIGNER_MSG_MAX], der[SIGNER_CRL_MAX];
	size_t len;

	memset(der, 0x30, sizeof(der));
	m.type = SIGNER_MSG_CRL;
	m.u.crl_der.crl = der;
	m.u.crl_der.crl_len = sizeof(der); /* the largest: the message is SIGNER_MSG_MAX */
	len = round_trip(&m, buf, &back);
	assert_int_equal(len, SIGNER_MSG_MAX);
	assert_int_equal(back.u.crl_der.crl_len, SIGNER_CRL_MAX);

	memset(&m, 0, sizeof(m));
	m.type = SIGNER_MSG_ERROR;
	m.u.error.code = ZTP_EAUTH;
	strcpy(m.u.error.text, "the CSR's signature does not verify");
	round_trip(&m, buf, &back);
	assert_int_equal(back.u.error.code, ZTP_EAUTH);
	assert_string_equal(back.u.error.text, "the CSR's signature does not verify");
}

/* ---- framing ---- */

static void
test_every_truncation_is_refused(void **state)
{
	static struct signer_msg m, back;
	static uint8_t buf[SIGNER_MSG_MAX];
	struct signer_revoked e = { { 0x42 }, 1, 1, 1700000000 };
	size_t len, cut;

	m.type = SIGNER_MSG_SIGN_CSR;
	full_csr_req(&m.u.csr);
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), 0);
	for (cut = 0; cut < len; cut++)
		assert_int_equal(signer_msg_decode(buf, cut, &back), ZTP_EMALFORMED);

	memset(&m, 0, sizeof(m));
	m.type = SIGNER_MSG_SIGN_CRL;
	m.u.crl.crl_number = 1;
	m.u.crl.next_update = 3600;
	m.u.crl.n_revoked = 1;
	m.u.crl.revoked = &e;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), 0);
	for (cut = 0; cut < len; cut++)
		assert_int_equal(signer_msg_decode(buf, cut, &back), ZTP_EMALFORMED);
}

static void
test_truncation_inside_a_field_with_a_matching_header_is_refused(void **state)
{
	static struct signer_msg m, back;
	static uint8_t buf[SIGNER_MSG_MAX];
	size_t len, cut, pos, flen, required_end = 0;
	int boundary;

	m.type = SIGNER_MSG_SIGN_CSR;
	full_csr_req(&m.u.csr);
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), 0);
	/* where the last required field (EXT_KEY_USAGE) ends */
	for (pos = SIGNER_MSG_HDR_LEN; pos < len; pos += 4 + flen) {
		flen = (size_t)((buf[pos + 2] << 8) | buf[pos + 3]);
		if (buf[pos + 1] == SIGNER_TAG_EXT_KEY_USAGE)
			required_end = pos + 4 + flen;
	}
	assert_true(required_end > 0 && required_end < len);
	for (cut = SIGNER_MSG_HDR_LEN; cut < len; cut++) {
		uint32_t body = (uint32_t)(cut - SIGNER_MSG_HDR_LEN);
		buf[2] = (uint8_t)(body >> 24);
		buf[3] = (uint8_t)(body >> 16);
		buf[4] = (uint8_t)(body >> 8);
		buf[5] = (uint8_t)body;
		boundary = 0;
		for (pos = SIGNER_MSG_HDR_LEN; pos <= cut && pos < len; pos += 4 + flen) {
			if (pos == cut)
				boundary = 1;
			flen = (size_t)((buf[pos + 2] << 8) | buf[pos + 3]);
		}
		/* only whole optional fields may go */
		assert_int_equal(signer_msg_decode(buf, cut, &back),
		    boundary && cut >= required_end ? 0 : ZTP_EMALFORMED);
	}
}

static void
test_header_length_must_match_the_datagram(void **state)
{
	struct mb m;

	mb_start(&m, SIGNER_MSG_PING);
	mb_end(&m);
	m.b[5] = 1;
	assert_int_equal(decode(&m), ZTP_EMALFORMED);

	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, 0, 0xffff);
	mb_end(&m);
	assert_int_equal(decode(&m), 0);
	m.b[5]++;
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	m.b[5] -= 2;
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	m.b[5]++;
	m.b[2] = 0x80; /* a huge length */
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
}

static void
test_datagram_over_the_maximum_is_too_big(void **state)
{
	static struct mb m;
	static uint8_t big[SIGNER_MSG_MAX];

	mb_start(&m, SIGNER_MSG_CRL);
	mb_field(&m, SIGNER_TAG_CRL, big, SIGNER_CRL_MAX);
	mb_end(&m);
	assert_int_equal(m.n, SIGNER_MSG_MAX);
	assert_int_equal(decode(&m), 0);
	m.b[m.n++] = 0; /* one byte more, header consistent */
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ETOOBIG);
}

static void
test_unknown_types_are_refused(void **state)
{
	static const uint16_t types[] = { 0x0000, 0x0004, 0x00ff, 0x8000, 0x8004, 0x80fe, 0xffff,
		0x0103, 0x0100 };
	struct mb m;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		mb_start(&m, types[i]);
		mb_end(&m);
		assert_int_equal(decode(&m), ZTP_EMALFORMED);
	}
}

static void
test_tags_the_type_does_not_define_are_refused(void **state)
{
	struct mb m;

	/* a tag of no type, a response's tag in a request, a tag >= 64 */
	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, 0, 0xffff);
	mb_str(&m, 0x0c, "x");
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, 0, 0xffff);
	mb_f64(&m, SIGNER_TAG_NOT_AFTER, 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, 0, 0xffff);
	mb_str(&m, 0x40, "x");
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, 0, 0xffff);
	mb_str(&m, 0xffff, "x");
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	/* PING has no fields */
	mb_start(&m, SIGNER_MSG_PING);
	mb_f32(&m, SIGNER_TAG_DAYS, 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
}

static void
test_duplicate_fields_are_refused(void **state)
{
	struct mb m;

	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	mb_field(&m, SIGNER_TAG_CSR, fake_csr, sizeof(fake_csr));
	mb_str(&m, SIGNER_TAG_CN, "a");
	mb_str(&m, SIGNER_TAG_CN, "b");
	mb_f32(&m, SIGNER_TAG_DAYS, 1);
	mb_f16(&m, SIGNER_TAG_KEY_USAGE, 1);
	mb_f16(&m, SIGNER_TAG_EXT_KEY_USAGE, 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);

	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, 0, SIGNER_TAG_EXT_KEY_USAGE);
	mb_f16(&m, SIGNER_TAG_EXT_KEY_USAGE, 1);
	mb_f16(&m, SIGNER_TAG_EXT_KEY_USAGE, 2);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);

	mb_start(&m, SIGNER_MSG_ERROR);
	mb_f32(&m, SIGNER_TAG_CODE, (uint32_t)ZTP_EAUTH);
	mb_f32(&m, SIGNER_TAG_CODE, (uint32_t)ZTP_EAUTH);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);

	/* a repeatable field with the same value twice */
	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, 0, 0xffff);
	mb_str(&m, SIGNER_TAG_SAN_DNS, "a.example");
	mb_str(&m, SIGNER_TAG_SAN_DNS, "a.example");
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, 0, 0xffff);
	mb_field(&m, SIGNER_TAG_SAN_IP, "\x0a\x00\x00\x01", 4);
	mb_field(&m, SIGNER_TAG_SAN_IP, "\x0a\x00\x00\x01", 4);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
}

static void
test_fields_out_of_order_are_refused(void **state)
{
	struct mb m;

	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	mb_str(&m, SIGNER_TAG_CN, "a");
	mb_field(&m, SIGNER_TAG_CSR, fake_csr, sizeof(fake_csr));
	mb_f32(&m, SIGNER_TAG_DAYS, 1);
	mb_f16(&m, SIGNER_TAG_KEY_USAGE, 1);
	mb_f16(&m, SIGNER_TAG_EXT_KEY_USAGE, 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);

	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, 0, 0xffff);
	mb_str(&m, SIGNER_TAG_SAN_DNS, "a.example");
	mb_field(&m, SIGNER_TAG_SAN_IP, "\x0a\x00\x00\x01", 4);
	mb_str(&m, SIGNER_TAG_SAN_DNS, "b.example"); /* repeats must be consecutive */
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
}

static void
test_missing_required_fields_are_refused(void **state)
{
	static const uint16_t required[] = { SIGNER_TAG_CSR, SIGNER_TAG_DAYS, SIGNER_TAG_KEY_USAGE,
		SIGNER_TAG_EXT_KEY_USAGE };
	struct mb m;
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		mb_start(&m, SIGNER_MSG_SIGN_CSR);
		csr_fields(&m, required[i], 0xffff);
		mb_end(&m);
		assert_int_equal(decode(&m), ZTP_EMALFORMED);
	}
	/* neither CN nor serialNumber */
	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, SIGNER_TAG_CN, 0xffff);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	mb_field(&m, SIGNER_TAG_CSR, fake_csr, sizeof(fake_csr));
	mb_str(&m, SIGNER_TAG_ORG, "only an org");
	mb_f32(&m, SIGNER_TAG_DAYS, 1);
	mb_f16(&m, SIGNER_TAG_KEY_USAGE, 1);
	mb_f16(&m, SIGNER_TAG_EXT_KEY_USAGE, 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);

	/* each response without each of its fields */
	mb_start(&m, SIGNER_MSG_CERT);
	mb_field(&m, SIGNER_TAG_CERT, "\x30", 1);
	mb_field(&m, SIGNER_TAG_SERIAL, "\x01", 1);
	mb_f64(&m, SIGNER_TAG_NOT_BEFORE, 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_CERT);
	mb_field(&m, SIGNER_TAG_CERT, "\x30", 1);
	mb_f64(&m, SIGNER_TAG_NOT_BEFORE, 1);
	mb_f64(&m, SIGNER_TAG_NOT_AFTER, 2);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_SIGN_CRL);
	mb_f64(&m, SIGNER_TAG_CRL_NUMBER, 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_SIGN_CRL);
	mb_f32(&m, SIGNER_TAG_NEXT_UPDATE, 3600);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_CRL);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_ERROR);
	mb_str(&m, SIGNER_TAG_TEXT, "no code");
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
}

static void
test_empty_and_overrunning_fields_are_refused(void **state)
{
	struct mb m;

	assert_int_equal(csr_replace(SIGNER_TAG_CN, "", 0), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, 0, 0xffff);
	mb_field(&m, SIGNER_TAG_SAN_DNS, "", 0);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);

	/* a field length past the end */
	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, 0, 0xffff);
	mb_u16(&m, SIGNER_TAG_SAN_DNS);
	mb_u16(&m, 10);
	mb_put(&m, "abc", 3);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);

	/* 1, 2 or 3 bytes of a field header at the end */
	for (size_t extra = 1; extra <= 3; extra++) {
		mb_start(&m, SIGNER_MSG_SIGN_CSR);
		csr_fields(&m, 0, 0xffff);
		mb_put(&m, "\x00\x0a\x00", extra);
		mb_end(&m);
		assert_int_equal(decode(&m), ZTP_EMALFORMED);
	}
}

static void
test_fixed_size_fields_of_another_size_are_refused(void **state)
{
	static const char digits[] = "0123456789012345678901234567890123";
	struct mb m;

	assert_int_equal(csr_replace(SIGNER_TAG_DAYS, "\x00\x01\x00", 3), ZTP_EMALFORMED);
	assert_int_equal(csr_replace(SIGNER_TAG_DAYS, "\x00\x00\x00\x01\x00", 5), ZTP_EMALFORMED);
	assert_int_equal(csr_replace(SIGNER_TAG_KEY_USAGE, "\x01", 1), ZTP_EMALFORMED);
	assert_int_equal(csr_replace(SIGNER_TAG_EXT_KEY_USAGE, "\x00\x00\x01", 3), ZTP_EMALFORMED);
	assert_int_equal(csr_replace(SIGNER_TAG_KEY_SHA256, digits, 31), ZTP_EMALFORMED);
	assert_int_equal(csr_replace(SIGNER_TAG_KEY_SHA256, digits, 33), ZTP_EMALFORMED);
	assert_int_equal(csr_replace(SIGNER_TAG_KEY_SHA256, digits, 32), 0);
	assert_int_equal(csr_replace(SIGNER_TAG_SAN_IP, "\x0a\x00\x00\x01\x00", 5), ZTP_EMALFORMED);
	assert_int_equal(csr_replace(SIGNER_TAG_SAN_IP, "\x0a\x00\x00", 3), ZTP_EMALFORMED);

	mb_start(&m, SIGNER_MSG_SIGN_CRL);
	mb_field(&m, SIGNER_TAG_CRL_NUMBER, "\x00\x00\x00\x01", 4);
	mb_f32(&m, SIGNER_TAG_NEXT_UPDATE, 3600);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_ERROR);
	mb_field(&m, SIGNER_TAG_CODE, "\xff\xff", 2);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
}

/* ---- bounds and character sets ---- */

static void
test_profile_bounds(void **state)
{
	assert_int_equal(csr_replace(SIGNER_TAG_DAYS, "\x00\x00\x00\x00", 4), ZTP_ERANGE);
	assert_int_equal(csr_replace(SIGNER_TAG_DAYS, "\x00\x00\x00\x01", 4), 0);
	assert_int_equal(csr_replace(SIGNER_TAG_DAYS, "\x00\x00\x1c\x84", 4), 0); /* 7300 */
	assert_int_equal(csr_replace(SIGNER_TAG_DAYS, "\x00\x00\x1c\x85", 4), ZTP_ERANGE);
	assert_int_equal(csr_replace(SIGNER_TAG_DAYS, "\xff\xff\xff\xff", 4), ZTP_ERANGE);
	assert_int_equal(csr_replace(SIGNER_TAG_KEY_USAGE, "\x00\x00", 2), ZTP_ERANGE);
	assert_int_equal(csr_replace(SIGNER_TAG_KEY_USAGE, "\x00\x07", 2), 0);
	assert_int_equal(csr_replace(SIGNER_TAG_KEY_USAGE, "\x00\x08", 2), ZTP_ERANGE);
	assert_int_equal(csr_replace(SIGNER_TAG_KEY_USAGE, "\x80\x01", 2), ZTP_ERANGE);
	assert_int_equal(csr_replace(SIGNER_TAG_EXT_KEY_USAGE, "\x00\x00", 2), ZTP_ERANGE);
	assert_int_equal(csr_replace(SIGNER_TAG_EXT_KEY_USAGE, "\x00\x03", 2), 0);
	assert_int_equal(csr_replace(SIGNER_TAG_EXT_KEY_USAGE, "\x00\x04", 2), ZTP_ERANGE);
}

static void
test_csr_length_bounds(void **state)
{
	static uint8_t csr[SIGNER_CSR_MAX + 1];

	assert_int_equal(csr_replace(SIGNER_TAG_CSR, csr, SIGNER_CSR_MAX), 0);
	assert_int_equal(csr_replace(SIGNER_TAG_CSR, csr, SIGNER_CSR_MAX + 1), ZTP_ERANGE);
}

static void
test_name_lengths_and_utf8(void **state)
{
	static const char *const bad[] = {
		"a\001b", /* C0 control */
		"a\x7f", /* DEL */
		"a\nb", /* newline */
		"\xc2\x80", /* C1 control U+0080 */
		"\xff", /* not UTF-8 */
		"\xc3", /* truncated sequence */
		"\xc3\x28", /* bad continuation */
		"\x80", /* lone continuation */
		"\xc0\xaf", /* overlong '/' */
		"\xe0\x80\xaf", /* overlong */
		"\xed\xa0\x80", /* surrogate U+D800 */
		"\xf4\x90\x80\x80", /* U+110000 */
		"\xf8\x88\x80\x80\x80", /* 5-byte form */
	};
	static const char good[] = "Gr\xc3\xbc\xc3\x9f \xe2\x9c\x93 \xf0\x9f\x98\x80";
	char name[SIGNER_NAME_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]);
		assert_int_equal(csr_replace(SIGNER_TAG_CN, bad[i], n), ZTP_EMALFORMED);
		assert_int_equal(csr_replace(SIGNER_TAG_ORG, bad[i], n), ZTP_EMALFORMED);
		assert_int_equal(csr_replace(SIGNER_TAG_ORG_UNIT, bad[i], n), ZTP_EMALFORMED);
	}
	assert_int_equal(csr_replace(SIGNER_TAG_CN, "a\0b", 3), ZTP_EMALFORMED);
	assert_int_equal(csr_replace(SIGNER_TAG_CN, good, strlen(good)), 0);
	memset(name, 'n', sizeof(name));
	assert_int_equal(csr_replace(SIGNER_TAG_CN, name, SIGNER_NAME_MAX), 0);
	assert_int_equal(csr_replace(SIGNER_TAG_CN, name, SIGNER_NAME_MAX + 1), ZTP_ERANGE);
	assert_int_equal(csr_replace(SIGNER_TAG_ORG, name, SIGNER_NAME_MAX + 1), ZTP_ERANGE);
}

static void
test_serial_number_is_printable_string(void **state)
{
	char name[SIGNER_NAME_MAX + 1];

	assert_int_equal(csr_replace(SIGNER_TAG_SERIAL_NUMBER, "AZaz09 '()+,-./:=?", 18), 0);
	assert_int_equal(csr_replace(SIGNER_TAG_SERIAL_NUMBER, "a@b", 3), ZTP_EMALFORMED);
	assert_int_equal(csr_replace(SIGNER_TAG_SERIAL_NUMBER, "a_b", 3), ZTP_EMALFORMED);
	assert_int_equal(csr_replace(SIGNER_TAG_SERIAL_NUMBER, "a\0b", 3), ZTP_EMALFORMED);
	assert_int_equal(csr_replace(SIGNER_TAG_SERIAL_NUMBER, "\xc3\xbc", 2), ZTP_EMALFORMED);
	memset(name, '1', sizeof(name));
	assert_int_equal(csr_replace(SIGNER_TAG_SERIAL_NUMBER, name, SIGNER_NAME_MAX + 1),
	    ZTP_ERANGE);
}

static void
test_san_dns_names(void **state)
{
	static const char *const good[] = { "a", "localhost", "gw-1.example.com",
		"xn--bcher-kva.example", "0.1.2.3", "A-b.C" };
	static const char *const bad[] = { "-a.com", "a-.com", "a..b", ".a", "a.", "a_b.com",
		"a b", "*.example.com", "a.-b", "\xc3\xbc.de", "a\0b" };
	char name[SIGNER_DNS_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(csr_replace(SIGNER_TAG_SAN_DNS, good[i], strlen(good[i])), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(csr_replace(SIGNER_TAG_SAN_DNS, bad[i],
				     i == 10 ? 3 : strlen(bad[i])),
		    ZTP_EMALFORMED);
	/* labels of 63 and 64 */
	memset(name, 'a', sizeof(name));
	assert_int_equal(csr_replace(SIGNER_TAG_SAN_DNS, name, 63), 0);
	assert_int_equal(csr_replace(SIGNER_TAG_SAN_DNS, name, 64), ZTP_EMALFORMED);
	/* 253 in all is the longest */
	for (i = 63; i < sizeof(name); i += 64)
		name[i] = '.';
	assert_int_equal(csr_replace(SIGNER_TAG_SAN_DNS, name, 253), 0);
	assert_int_equal(csr_replace(SIGNER_TAG_SAN_DNS, name, 254), ZTP_ERANGE);
}

static void
test_at_most_sixteen_of_each_san(void **state)
{
	struct mb m;
	char dns[16];
	uint8_t ip[4] = { 10, 0, 0, 0 };
	int i;

	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, 0, 0xffff);
	for (i = 0; i < SIGNER_SAN_MAX; i++) {
		snprintf(dns, sizeof(dns), "h%d", i);
		mb_str(&m, SIGNER_TAG_SAN_DNS, dns);
	}
	for (i = 0; i < SIGNER_SAN_MAX; i++) {
		ip[3] = (uint8_t)i;
		mb_field(&m, SIGNER_TAG_SAN_IP, ip, 4);
	}
	mb_end(&m);
	assert_int_equal(decode(&m), 0);
	ip[3] = 99;
	mb_field(&m, SIGNER_TAG_SAN_IP, ip, 4);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);

	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, 0, 0xffff);
	for (i = 0; i <= SIGNER_SAN_MAX; i++) {
		snprintf(dns, sizeof(dns), "h%d", i);
		mb_str(&m, SIGNER_TAG_SAN_DNS, dns);
	}
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
}

static void
crl_start(struct mb *m)
{
	mb_start(m, SIGNER_MSG_SIGN_CRL);
	mb_f64(m, SIGNER_TAG_CRL_NUMBER, 7);
	mb_f32(m, SIGNER_TAG_NEXT_UPDATE, 86400);
}

static void
test_crl_entries_are_checked(void **state)
{
	struct mb m;

	/* serials: a leading zero byte, 21 bytes, 20 bytes */
	crl_start(&m);
	mb_revoked(&m, (const uint8_t *)"\x00\x01", 2, 1, 1700000000);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	crl_start(&m);
	mb_revoked(&m, (const uint8_t *)"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e"
				  "\x0f\x10\x11\x12\x13\x14\x15",
	    21, 1, 1700000000);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
	crl_start(&m);
	mb_revoked(&m, (const uint8_t *)"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e"
				  "\x0f\x10\x11\x12\x13\x14",
	    20, 1, 1700000000);
	mb_end(&m);
	assert_int_equal(decode(&m), 0);

	/* reasons: 7 unused, 8 delta only, 11 unknown */
	for (int r = 0; r < 256; r++) {
		crl_start(&m);
		mb_revoked(&m, (const uint8_t *)"\x01", 1, (uint8_t)r, 1700000000);
		mb_end(&m);
		assert_int_equal(decode(&m), (r <= 6 || r == 9 || r == 10) ? 0 : ZTP_ERANGE);
	}

	/* times */
	crl_start(&m);
	mb_revoked(&m, (const uint8_t *)"\x01", 1, 0, 0);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
	crl_start(&m);
	mb_revoked(&m, (const uint8_t *)"\x01", 1, 0, (uint64_t)SIGNER_TIME_MAX + 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
	crl_start(&m);
	mb_revoked(&m, (const uint8_t *)"\x01", 1, 0, UINT64_MAX);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);

	/* an entry whose serial length disagrees with the field's */
	crl_start(&m);
	mb_u16(&m, SIGNER_TAG_REVOKED);
	mb_u16(&m, 12);
	mb_put(&m, "\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00", 12);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	crl_start(&m);
	mb_u16(&m, SIGNER_TAG_REVOKED);
	mb_u16(&m, 1);
	mb_put(&m, "\x00", 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
}

static void
test_crl_serials_must_ascend_without_duplicates(void **state)
{
	struct mb m;

	crl_start(&m);
	mb_revoked(&m, (const uint8_t *)"\x05", 1, 1, 1700000000);
	mb_revoked(&m, (const uint8_t *)"\x01\x00", 2, 1, 1700000000);
	mb_end(&m);
	assert_int_equal(decode(&m), 0);

	crl_start(&m);
	mb_revoked(&m, (const uint8_t *)"\x01\x00", 2, 1, 1700000000);
	mb_revoked(&m, (const uint8_t *)"\x05", 1, 1, 1700000000);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);

	crl_start(&m);
	mb_revoked(&m, (const uint8_t *)"\x05", 1, 1, 1700000000);
	mb_revoked(&m, (const uint8_t *)"\x05", 1, 4, 1700000001);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
}

static void
test_crl_holds_at_most_the_maximum_entries(void **state)
{
	static struct mb m;
	uint8_t serial[2];
	int i;

	crl_start(&m);
	for (i = 1; i <= SIGNER_REVOKED_MAX; i++) {
		serial[0] = (uint8_t)(i >> 8 | 0x10);
		serial[1] = (uint8_t)i;
		mb_revoked(&m, serial, 2, 1, 1700000000);
	}
	mb_end(&m);
	assert_int_equal(decode(&m), 0);
	serial[0] = 0x7f;
	mb_revoked(&m, serial, 2, 1, 1700000000);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
}

/* ---- the CRL sequence's messages ---- */

static void
test_crl_sequence_messages_round_trip(void **state)
{
	static const struct signer_msg zero;
	static uint8_t buf[SIGNER_MSG_MAX], der[SIGNER_CRL_PART_MAX + 1]; /* + 1: the too-long case below */
	struct signer_revoked list[2];
	struct signer_msg m = zero, back;
	struct signer_revoked e;
	size_t len, pos = 0;

	m.type = SIGNER_MSG_CRL_BEGIN;
	m.u.crl.crl_number = UINT64_MAX;
	m.u.crl.next_update = 3600;
	m.u.crl.total = SIGNER_CRL_TOTAL_MAX;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, SIGNER_MSG_HDR_LEN + 12 + 8 + 4 + 4);
	assert_int_equal(signer_msg_decode(buf, len, &back), 0);
	assert_int_equal(back.type, SIGNER_MSG_CRL_BEGIN);
	assert_true(back.u.crl.crl_number == UINT64_MAX);
	assert_int_equal(back.u.crl.next_update, 3600);
	assert_int_equal(back.u.crl.total, SIGNER_CRL_TOTAL_MAX);

	memset(list, 0, sizeof(list));
	list[0].serial[0] = 0x05;
	list[0].serial_len = 1;
	list[0].reason = 1;
	list[0].revoked_at = 1700000000;
	list[1] = list[0];
	list[1].serial[0] = 0x06;
	m = zero;
	m.type = SIGNER_MSG_CRL_ENTRIES;
	m.u.crl.revoked = list;
	m.u.crl.n_revoked = 2;
	m.u.crl.crl_number = 9; /* not a field of CRL_ENTRIES: not encoded */
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, SIGNER_MSG_HDR_LEN + 2 * (SIGNER_FIELD_HDR_LEN + 11));
	assert_int_equal(signer_msg_decode(buf, len, &back), 0);
	assert_int_equal(back.type, SIGNER_MSG_CRL_ENTRIES);
	assert_int_equal(back.u.crl.n_revoked, 2);
	assert_int_equal(signer_msg_revoked_next(&back.u.crl, &pos, &e), 1);
	assert_int_equal(e.serial[0], 0x05);
	assert_int_equal(signer_msg_revoked_next(&back.u.crl, &pos, &e), 1);
	assert_int_equal(e.serial[0], 0x06);
	assert_int_equal(signer_msg_revoked_next(&back.u.crl, &pos, &e), 0);

	m = zero;
	m.type = SIGNER_MSG_CRL_END;
	m.u.crl.total = 0;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(signer_msg_decode(buf, len, &back), 0);
	assert_int_equal(back.type, SIGNER_MSG_CRL_END);
	assert_int_equal(back.u.crl.total, 0);

	m = zero;
	m.type = SIGNER_MSG_CRL_READ;
	m.u.crl_read.offset = SIGNER_CRL_DER_MAX - 1;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(signer_msg_decode(buf, len, &back), 0);
	assert_int_equal(back.u.crl_read.offset, SIGNER_CRL_DER_MAX - 1);

	m = zero;
	m.type = SIGNER_MSG_CRL_ACK;
	m.u.crl_ack.received = 1234;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(signer_msg_decode(buf, len, &back), 0);
	assert_int_equal(back.u.crl_ack.received, 1234);

	/* the largest part fills a message exactly */
	memset(der, 0x30, sizeof(der));
	m = zero;
	m.type = SIGNER_MSG_CRL_PART;
	m.u.crl_der.crl = der;
	m.u.crl_der.crl_len = SIGNER_CRL_PART_MAX;
	m.u.crl_der.size = SIGNER_CRL_DER_MAX;
	m.u.crl_der.offset = SIGNER_CRL_DER_MAX - SIGNER_CRL_PART_MAX;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, SIGNER_MSG_MAX);
	assert_int_equal(signer_msg_decode(buf, len, &back), 0);
	assert_int_equal(back.type, SIGNER_MSG_CRL_PART);
	assert_int_equal(back.u.crl_der.crl_len, SIGNER_CRL_PART_MAX);
	assert_ptr_equal(back.u.crl_der.crl, buf + SIGNER_MSG_HDR_LEN + SIGNER_FIELD_HDR_LEN);
	assert_int_equal(back.u.crl_der.size, SIGNER_CRL_DER_MAX);
	assert_int_equal(back.u.crl_der.offset, SIGNER_CRL_DER_MAX - SIGNER_CRL_PART_MAX);
	/* one byte more does not fit */
	m.u.crl_der.crl_len = SIGNER_CRL_PART_MAX + 1;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_ETOOBIG);
}

static void
test_crl_begin_and_end_bounds(void **state)
{
	struct mb m;

	/* CRL_TOTAL: 0 and the cap pass, one more is out of range, 3 bytes malformed */
	mb_start(&m, SIGNER_MSG_CRL_BEGIN);
	mb_f64(&m, SIGNER_TAG_CRL_NUMBER, 1);
	mb_f32(&m, SIGNER_TAG_NEXT_UPDATE, 3600);
	mb_f32(&m, SIGNER_TAG_CRL_TOTAL, SIGNER_CRL_TOTAL_MAX + 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
	mb_start(&m, SIGNER_MSG_CRL_BEGIN);
	mb_f64(&m, SIGNER_TAG_CRL_NUMBER, 1);
	mb_f32(&m, SIGNER_TAG_NEXT_UPDATE, 3600);
	mb_f32(&m, SIGNER_TAG_CRL_TOTAL, UINT32_MAX);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
	mb_start(&m, SIGNER_MSG_CRL_BEGIN);
	mb_f64(&m, SIGNER_TAG_CRL_NUMBER, 1);
	mb_f32(&m, SIGNER_TAG_NEXT_UPDATE, 3600);
	mb_f32(&m, SIGNER_TAG_CRL_TOTAL, SIGNER_CRL_TOTAL_MAX);
	mb_end(&m);
	assert_int_equal(decode(&m), 0);
	mb_start(&m, SIGNER_MSG_CRL_BEGIN);
	mb_f64(&m, SIGNER_TAG_CRL_NUMBER, 1);
	mb_f32(&m, SIGNER_TAG_NEXT_UPDATE, 3600);
	mb_field(&m, SIGNER_TAG_CRL_TOTAL, "\x00\x00\x01", 3);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	/* each field required; its next update bounded as SIGN_CRL's */
	mb_start(&m, SIGNER_MSG_CRL_BEGIN);
	mb_f64(&m, SIGNER_TAG_CRL_NUMBER, 1);
	mb_f32(&m, SIGNER_TAG_NEXT_UPDATE, 3600);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_CRL_BEGIN);
	mb_f32(&m, SIGNER_TAG_NEXT_UPDATE, 3600);
	mb_f32(&m, SIGNER_TAG_CRL_TOTAL, 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_CRL_BEGIN);
	mb_f64(&m, SIGNER_TAG_CRL_NUMBER, 1);
	mb_f32(&m, SIGNER_TAG_NEXT_UPDATE, 59);
	mb_f32(&m, SIGNER_TAG_CRL_TOTAL, 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
	/* no entries in CRL_BEGIN */
	mb_start(&m, SIGNER_MSG_CRL_BEGIN);
	mb_f64(&m, SIGNER_TAG_CRL_NUMBER, 1);
	mb_f32(&m, SIGNER_TAG_NEXT_UPDATE, 3600);
	mb_revoked(&m, (const uint8_t *)"\x01", 1, 0, 1700000000);
	mb_f32(&m, SIGNER_TAG_CRL_TOTAL, 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);

	/* CRL_END: the total alone */
	mb_start(&m, SIGNER_MSG_CRL_END);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_CRL_END);
	mb_f64(&m, SIGNER_TAG_CRL_NUMBER, 1);
	mb_f32(&m, SIGNER_TAG_CRL_TOTAL, 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_CRL_END);
	mb_f32(&m, SIGNER_TAG_CRL_TOTAL, SIGNER_CRL_TOTAL_MAX + 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
}

static void
test_crl_entries_hold_one_to_the_maximum(void **state)
{
	static struct mb m;
	uint8_t serial[2];
	int i;

	/* none: the REVOKED field is required */
	mb_start(&m, SIGNER_MSG_CRL_ENTRIES);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	/* nothing but entries */
	mb_start(&m, SIGNER_MSG_CRL_ENTRIES);
	mb_f64(&m, SIGNER_TAG_CRL_NUMBER, 1);
	mb_revoked(&m, (const uint8_t *)"\x01", 1, 0, 1700000000);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	/* the same checks as SIGN_CRL's entries: order, reason */
	mb_start(&m, SIGNER_MSG_CRL_ENTRIES);
	mb_revoked(&m, (const uint8_t *)"\x02", 1, 0, 1700000000);
	mb_revoked(&m, (const uint8_t *)"\x02", 1, 0, 1700000000);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_CRL_ENTRIES);
	mb_revoked(&m, (const uint8_t *)"\x02", 1, 7, 1700000000);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
	/* at most SIGNER_REVOKED_MAX */
	mb_start(&m, SIGNER_MSG_CRL_ENTRIES);
	for (i = 1; i <= SIGNER_REVOKED_MAX; i++) {
		serial[0] = (uint8_t)(i >> 8 | 0x10);
		serial[1] = (uint8_t)i;
		mb_revoked(&m, serial, 2, 1, 1700000000);
	}
	mb_end(&m);
	assert_int_equal(decode(&m), 0);
	serial[0] = 0x7f;
	mb_revoked(&m, serial, 2, 1, 1700000000);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
}

static void
test_crl_read_ack_and_part_bounds(void **state)
{
	static const struct {
		uint32_t size, offset;
		size_t len;
		int rc;
	} parts[] = {
		{ 10, 0, 10, 0 },
		{ 10, 9, 1, 0 },
		{ 10, 9, 2, ZTP_ERANGE },  /* past the end */
		{ 10, 10, 1, ZTP_ERANGE }, /* starts at the end */
		{ 10, 11, 1, ZTP_ERANGE },
		{ 0, 0, 1, ZTP_ERANGE }, /* no size */
		{ SIGNER_CRL_DER_MAX, SIGNER_CRL_DER_MAX - 1, 1, 0 },
		{ SIGNER_CRL_DER_MAX + 1, 0, 1, ZTP_ERANGE },
		{ UINT32_MAX, UINT32_MAX - 1, 1, ZTP_ERANGE },
	};
	static const uint8_t bytes[16];
	struct mb m;
	size_t i;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		mb_start(&m, SIGNER_MSG_CRL_PART);
		mb_field(&m, SIGNER_TAG_CRL, bytes, parts[i].len);
		mb_f32(&m, SIGNER_TAG_CRL_SIZE, parts[i].size);
		mb_f32(&m, SIGNER_TAG_PART_OFFSET, parts[i].offset);
		mb_end(&m);
		assert_int_equal(decode(&m), parts[i].rc);
	}
	/* each of its fields required */
	mb_start(&m, SIGNER_MSG_CRL_PART);
	mb_f32(&m, SIGNER_TAG_CRL_SIZE, 10);
	mb_f32(&m, SIGNER_TAG_PART_OFFSET, 0);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_CRL_PART);
	mb_field(&m, SIGNER_TAG_CRL, bytes, 1);
	mb_f32(&m, SIGNER_TAG_PART_OFFSET, 0);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_CRL_PART);
	mb_field(&m, SIGNER_TAG_CRL, bytes, 1);
	mb_f32(&m, SIGNER_TAG_CRL_SIZE, 10);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	/* a CRL (one message) has no size or offset */
	mb_start(&m, SIGNER_MSG_CRL);
	mb_field(&m, SIGNER_TAG_CRL, bytes, 1);
	mb_f32(&m, SIGNER_TAG_CRL_SIZE, 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);

	/* CRL_READ: offset 0 comes with CRL_END's answer; the last byte at most */
	mb_start(&m, SIGNER_MSG_CRL_READ);
	mb_f32(&m, SIGNER_TAG_READ_OFFSET, 0);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
	mb_start(&m, SIGNER_MSG_CRL_READ);
	mb_f32(&m, SIGNER_TAG_READ_OFFSET, SIGNER_CRL_DER_MAX);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
	mb_start(&m, SIGNER_MSG_CRL_READ);
	mb_f32(&m, SIGNER_TAG_READ_OFFSET, 1);
	mb_end(&m);
	assert_int_equal(decode(&m), 0);
	mb_start(&m, SIGNER_MSG_CRL_READ);
	mb_f16(&m, SIGNER_TAG_READ_OFFSET, 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	mb_start(&m, SIGNER_MSG_CRL_READ);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);

	/* CRL_ACK: up to the cap */
	mb_start(&m, SIGNER_MSG_CRL_ACK);
	mb_f32(&m, SIGNER_TAG_RECEIVED, SIGNER_CRL_TOTAL_MAX);
	mb_end(&m);
	assert_int_equal(decode(&m), 0);
	mb_start(&m, SIGNER_MSG_CRL_ACK);
	mb_f32(&m, SIGNER_TAG_RECEIVED, SIGNER_CRL_TOTAL_MAX + 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
	mb_start(&m, SIGNER_MSG_CRL_ACK);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
}

static void
test_revoked_check_matches_the_encoder(void **state)
{
	static const struct signer_msg zero;
	static uint8_t buf[SIGNER_MSG_MAX];
	struct signer_revoked e;
	struct signer_msg m = zero;
	size_t len;
	int i;

	m.type = SIGNER_MSG_CRL_ENTRIES;
	m.u.crl.revoked = &e;
	m.u.crl.n_revoked = 1;
	for (i = 0; i < 8; i++) {
		memset(&e, 0, sizeof(e));
		e.serial[0] = 0x42;
		e.serial_len = 1;
		e.revoked_at = 1700000000;
		switch (i) {
		case 1: e.serial[0] = 0; break;                 /* leading zero */
		case 2: e.serial_len = 0; break;                /* empty */
		case 3: e.serial_len = SIGNER_SERIAL_MAX + 1; break;
		case 4: e.reason = 7; break;
		case 5: e.revoked_at = 0; break;
		case 6: e.revoked_at = SIGNER_TIME_MAX + 1; break;
		case 7: e.serial_len = SIGNER_SERIAL_MAX; e.serial[19] = 1; break;
		}
		assert_int_equal(signer_msg_revoked_check(&e),
		    signer_msg_encode(&m, buf, sizeof(buf), &len));
		assert_int_equal(signer_msg_revoked_check(&e), (i == 0 || i == 7) ? 0 :
			(i == 1 || i == 2) ? ZTP_EMALFORMED : ZTP_ERANGE);
	}
}

static void
test_next_update_bounds(void **state)
{
	static const struct {
		uint32_t v;
		int rc;
	} cases[] = { { 0, ZTP_ERANGE }, { 59, ZTP_ERANGE }, { 60, 0 }, { 31622400, 0 },
		{ 31622401, ZTP_ERANGE }, { UINT32_MAX, ZTP_ERANGE } };
	struct mb m;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mb_start(&m, SIGNER_MSG_SIGN_CRL);
		mb_f64(&m, SIGNER_TAG_CRL_NUMBER, 0);
		mb_f32(&m, SIGNER_TAG_NEXT_UPDATE, cases[i].v);
		mb_end(&m);
		assert_int_equal(decode(&m), cases[i].rc);
	}
}

static void
test_response_values_are_checked(void **state)
{
	struct mb m;
	char text[SIGNER_TEXT_MAX + 1];

	/* notAfter must follow notBefore */
	mb_start(&m, SIGNER_MSG_CERT);
	mb_field(&m, SIGNER_TAG_CERT, "\x30", 1);
	mb_field(&m, SIGNER_TAG_SERIAL, "\x01", 1);
	mb_f64(&m, SIGNER_TAG_NOT_BEFORE, 100);
	mb_f64(&m, SIGNER_TAG_NOT_AFTER, 100);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
	/* a serial with a leading zero */
	mb_start(&m, SIGNER_MSG_CERT);
	mb_field(&m, SIGNER_TAG_CERT, "\x30", 1);
	mb_field(&m, SIGNER_TAG_SERIAL, "\x00\x80", 2);
	mb_f64(&m, SIGNER_TAG_NOT_BEFORE, 100);
	mb_f64(&m, SIGNER_TAG_NOT_AFTER, 200);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);

	/* error codes: only ZTP_E... codes */
	static const struct {
		uint32_t code;
		int rc;
	} codes[] = { { 0, ZTP_ERANGE }, { 1, ZTP_ERANGE }, { (uint32_t)ZTP_E__FIRST, ZTP_ERANGE },
		{ (uint32_t)ZTP_E__LAST, ZTP_ERANGE }, { (uint32_t)ZTP_EINVAL, 0 },
		{ (uint32_t)ZTP_EINTERNAL, 0 }, { 0x80000000u, ZTP_ERANGE } };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		mb_start(&m, SIGNER_MSG_ERROR);
		mb_f32(&m, SIGNER_TAG_CODE, codes[i].code);
		mb_end(&m);
		assert_int_equal(decode(&m), codes[i].rc);
	}
	mb_start(&m, SIGNER_MSG_ERROR);
	mb_f32(&m, SIGNER_TAG_CODE, (uint32_t)ZTP_EAUTH);
	mb_str(&m, SIGNER_TAG_TEXT, "line\nbreak");
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_EMALFORMED);
	memset(text, 'x', sizeof(text));
	mb_start(&m, SIGNER_MSG_ERROR);
	mb_f32(&m, SIGNER_TAG_CODE, (uint32_t)ZTP_EAUTH);
	mb_field(&m, SIGNER_TAG_TEXT, text, SIGNER_TEXT_MAX + 1);
	mb_end(&m);
	assert_int_equal(decode(&m), ZTP_ERANGE);
}

/* ---- the encoder ---- */

static void
test_encoder_refuses_what_the_decoder_refuses(void **state)
{
	static struct signer_msg m;
	static uint8_t buf[SIGNER_MSG_MAX];
	size_t len = 12345;
	struct signer_revoked two[2];

	m.type = SIGNER_MSG_SIGN_CSR;
	full_csr_req(&m.u.csr);
	m.u.csr.profile.days = 0;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_ERANGE);
	full_csr_req(&m.u.csr);
	m.u.csr.profile.key_usage = 0x10;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_ERANGE);
	full_csr_req(&m.u.csr);
	strcpy(m.u.csr.subject.cn, "a\x01");
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	full_csr_req(&m.u.csr);
	m.u.csr.subject.cn[0] = '\0';
	m.u.csr.subject.serial_number[0] = '\0';
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	full_csr_req(&m.u.csr);
	memset(m.u.csr.subject.org, 'o', sizeof(m.u.csr.subject.org)); /* unterminated */
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_ERANGE);
	full_csr_req(&m.u.csr);
	m.u.csr.n_dns = SIGNER_SAN_MAX + 1;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_ERANGE);
	full_csr_req(&m.u.csr);
	m.u.csr.dns[1][0] = '\0';
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	full_csr_req(&m.u.csr);
	m.u.csr.ip_len[0] = 200;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	full_csr_req(&m.u.csr);
	m.u.csr.csr = NULL;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EINVAL);
	full_csr_req(&m.u.csr);
	m.u.csr.csr_len = 0;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	full_csr_req(&m.u.csr);
	m.u.csr.csr = buf; /* any bytes: 70000 do not fit a field */
	m.u.csr.csr_len = 70000;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_ETOOBIG);
	full_csr_req(&m.u.csr);
	assert_int_equal(signer_msg_encode(&m, buf, 40, &len), ZTP_ETOOBIG);
	assert_int_equal(len, 12345);

	memset(&m, 0, sizeof(m));
	m.type = SIGNER_MSG_SIGN_CRL;
	m.u.crl.next_update = 3600;
	memset(two, 0, sizeof(two));
	two[0].serial[0] = 9;
	two[0].serial_len = 1;
	two[0].revoked_at = 1;
	two[1] = two[0];
	two[1].serial[0] = 8;
	m.u.crl.revoked = two;
	m.u.crl.n_revoked = 2;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	two[1].serial[0] = 9;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	two[1].serial[0] = 10;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), 0);
	two[1].serial_len = 21;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_ERANGE);
	m.u.crl.revoked = NULL;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EINVAL);

	memset(&m, 0, sizeof(m));
	m.type = 0x1234;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EINVAL);
	m.type = SIGNER_MSG_ERROR;
	m.u.error.code = 0;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_ERANGE);
}

static void
test_decoder_leaves_output_alone_on_error(void **state)
{
	static struct signer_msg out, before;
	struct mb m;

	memset(&out, 0x5a, sizeof(out));
	before = out;
	assert_int_equal(csr_replace(SIGNER_TAG_DAYS, "\x00\x00\x00\x00", 4), ZTP_ERANGE);
	mb_start(&m, SIGNER_MSG_SIGN_CSR);
	csr_fields(&m, 0, 0xffff);
	mb_put(&m, "\x00", 1);
	mb_end(&m);
	assert_int_equal(signer_msg_decode(m.b, m.n, &out), ZTP_EMALFORMED);
	assert_memory_equal(&out, &before, sizeof(out));
}

static void
test_serial_compare_is_numeric(void **state)
{
	assert_true(signer_msg_serial_cmp((const uint8_t *)"\xff", 1, (const uint8_t *)"\x01\x00",
			2) < 0);
	assert_true(signer_msg_serial_cmp((const uint8_t *)"\x01\x01", 2,
			(const uint8_t *)"\x01\x00", 2) > 0);
	assert_int_equal(signer_msg_serial_cmp((const uint8_t *)"\x42", 1, (const uint8_t *)"\x42",
			     1),
	    0);
}


/* ---- SIGN_SPKI and signer_spki_parse() ---- */

/* An SPKI of P-256 (the point need not be on the curve for the parser). */
static size_t
p256_spki(uint8_t *b, uint8_t form)
{
	static const uint8_t head[] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
		0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03,
		0x42, 0x00, 0x04 };
	size_t i;

	memcpy(b, head, sizeof(head));
	for (i = 0; i < 64; i++)
		b[sizeof(head) + i] = (uint8_t)(i + 1);
	b[sizeof(head) - 1] = form;
	return sizeof(head) + 64;
}

/* A SIGN_SPKI request for spki[0..len), P-256 as its type. */
static void
spki_req(struct signer_msg *m, const uint8_t *spki, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->type = SIGNER_MSG_SIGN_SPKI;
	strcpy(m->u.csr.subject.cn, "dev-0001");
	m->u.csr.profile.days = 30;
	m->u.csr.profile.key_usage = SIGNER_KU_DIGITAL_SIGNATURE;
	m->u.csr.profile.ext_key_usage = SIGNER_EKU_CLIENT_AUTH;
	m->u.csr.spki = spki;
	m->u.csr.spki_len = len;
	m->u.csr.key_type = SIGNER_KEY_EC_P256;
	m->u.csr.key_bits = 256;
}

static void
test_sign_spki_round_trip_keeps_every_field(void **state)
{
	uint8_t spki[128], buf[SIGNER_MSG_MAX];
	struct signer_msg m, back;
	size_t len, n = p256_spki(spki, 0x04);

	spki_req(&m, spki, n);
	strcpy(m.u.csr.dns[0], "a.example");
	m.u.csr.n_dns = 1;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(signer_msg_decode(buf, len, &back), 0);
	assert_int_equal(back.type, SIGNER_MSG_SIGN_SPKI);
	assert_int_equal(back.u.csr.spki_len, n);
	assert_memory_equal(back.u.csr.spki, spki, n);
	assert_int_equal(back.u.csr.key_type, SIGNER_KEY_EC_P256);
	assert_int_equal(back.u.csr.key_bits, 256);
	assert_string_equal(back.u.csr.subject.cn, "dev-0001");
	assert_string_equal(back.u.csr.dns[0], "a.example");
	assert_null(back.u.csr.csr);
	assert_int_equal(back.u.csr.has_key_sha256, 0);
}

static void
test_sign_spki_fields_are_checked(void **state)
{
	uint8_t spki[SIGNER_SPKI_MAX + 1] = { 0 }, buf[SIGNER_MSG_MAX];
	struct signer_msg m;
	size_t len, n = p256_spki(spki, 0x04);

	/* the CSR's fields are not SIGN_SPKI's */
	spki_req(&m, spki, n);
	m.u.csr.csr = fake_csr;
	m.u.csr.csr_len = sizeof(fake_csr);
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	spki_req(&m, spki, n);
	m.u.csr.has_key_sha256 = 1;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	/* SPKI, KEY_TYPE and KEY_BITS are required */
	spki_req(&m, NULL, 0);
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	spki_req(&m, spki, n);
	m.u.csr.key_type = 0;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	spki_req(&m, spki, n);
	m.u.csr.key_bits = 0;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	/* bounds */
	spki_req(&m, spki, n);
	m.u.csr.key_type = SIGNER_KEY_ED25519 + 1;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_ERANGE);
	spki_req(&m, spki, n);
	m.u.csr.key_bits = SIGNER_KEY_BITS_MAX + 1;
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_ERANGE);
	spki_req(&m, spki, SIGNER_SPKI_MAX + 1);
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_ERANGE);
	spki_req(&m, spki, SIGNER_SPKI_MAX);
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), 0);
	/* a subject is required, as for SIGN_CSR */
	spki_req(&m, spki, n);
	m.u.csr.subject.cn[0] = '\0';
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	/* KEY_TYPE is one byte, KEY_BITS two */
	struct mb raw;
	mb_start(&raw, SIGNER_MSG_SIGN_SPKI);
	mb_str(&raw, SIGNER_TAG_CN, "d");
	mb_f32(&raw, SIGNER_TAG_DAYS, 30);
	mb_f16(&raw, SIGNER_TAG_KEY_USAGE, SIGNER_KU_DIGITAL_SIGNATURE);
	mb_f16(&raw, SIGNER_TAG_EXT_KEY_USAGE, SIGNER_EKU_CLIENT_AUTH);
	mb_field(&raw, SIGNER_TAG_SPKI, spki, n);
	mb_f16(&raw, SIGNER_TAG_KEY_TYPE, SIGNER_KEY_EC_P256);
	mb_f16(&raw, SIGNER_TAG_KEY_BITS, 256);
	mb_end(&raw);
	assert_int_equal(decode(&raw), ZTP_EMALFORMED);
}

static void
test_spki_parser_takes_the_allowed_keys(void **state)
{
	static const uint8_t p384_head[] = { 0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48,
		0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
		0x04 };
	static const uint8_t ed_head[] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
		0x03, 0x21, 0x00 };
	/* RSA: n of 2048 bits (0x80 then zeros, with its sign byte), e = 65537 */
	static const uint8_t rsa_head[] = { 0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a,
		0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x03, 0x82, 0x01, 0x0f,
		0x00, 0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00 };
	static const uint8_t rsa_tail[] = { 0x02, 0x03, 0x01, 0x00, 0x01 };
	uint8_t b[400] = { 0 };
	struct signer_spki k;
	size_t n;

	n = p256_spki(b, 0x04);
	assert_int_equal(signer_spki_parse(b, n, &k), 0);
	assert_int_equal(k.key_type, SIGNER_KEY_EC_P256);
	assert_int_equal(k.key_bits, 256);
	assert_int_equal(k.key_len, 65);
	assert_ptr_equal(k.key, b + 26);

	/* compressed: 33 bytes */
	n = p256_spki(b, 0x02);
	b[1] = 0x39;
	b[24] = 0x22;
	assert_int_equal(signer_spki_parse(b, 26 + 33, &k), 0);
	assert_int_equal(k.key_len, 33);

	memset(b, 0, sizeof(b));
	memcpy(b, p384_head, sizeof(p384_head));
	assert_int_equal(signer_spki_parse(b, sizeof(p384_head) + 96, &k), 0);
	assert_int_equal(k.key_type, SIGNER_KEY_EC_P384);
	assert_int_equal(k.key_bits, 384);

	memcpy(b, ed_head, sizeof(ed_head));
	assert_int_equal(signer_spki_parse(b, sizeof(ed_head) + 32, &k), 0);
	assert_int_equal(k.key_type, SIGNER_KEY_ED25519);
	assert_int_equal(k.key_len, 32);

	memset(b, 0, sizeof(b));
	memcpy(b, rsa_head, sizeof(rsa_head));
	b[sizeof(rsa_head)] = 0x80;
	memcpy(b + sizeof(rsa_head) + 256, rsa_tail, sizeof(rsa_tail));
	n = sizeof(rsa_head) + 256 + sizeof(rsa_tail);
	assert_int_equal(n, 4 + 0x122);
	assert_int_equal(signer_spki_parse(b, n, &k), 0);
	assert_int_equal(k.key_type, SIGNER_KEY_RSA);
	assert_int_equal(k.key_bits, 2048);
	assert_int_equal(k.modulus_len, 256);
	/* e even, or e = 1: not an RSA key */
	b[n - 1] = 0x02;
	assert_int_equal(signer_spki_parse(b, n, &k), ZTP_EMALFORMED);
	b[n - 1] = 0x01;
	/* a sign byte that is not needed: not DER */
	b[sizeof(rsa_head)] = 0x01;
	assert_int_equal(signer_spki_parse(b, n, &k), ZTP_EMALFORMED);
}

static void
test_spki_parser_refuses_what_is_not_one_der_spki(void **state)
{
	static const uint8_t p521_oid_head[] = { 0x30, 0x18, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
		0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23, 0x03, 0x04,
		0x00, 0x04, 0x01, 0x02 };
	static const uint8_t unknown_alg[] = { 0x30, 0x0b, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65,
		0x71, 0x03, 0x02, 0x00, 0x01 };
	static const uint8_t explicit_params[] = { 0x30, 0x11, 0x30, 0x0b, 0x06, 0x07, 0x2a,
		0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x30, 0x00, 0x03, 0x02, 0x00, 0x04 };
	uint8_t b[200], c[200];
	struct signer_spki k = { 0 };
	size_t n = p256_spki(b, 0x04), i;

	/* trailing bytes */
	b[n] = 0;
	assert_int_equal(signer_spki_parse(b, n + 1, &k), ZTP_EMALFORMED);
	/* every truncation */
	for (i = 0; i < n; i++)
		assert_int_equal(signer_spki_parse(b, i, &k), ZTP_EMALFORMED);
	/* a long-form length where the short form fits */
	c[0] = 0x30;
	c[1] = 0x81;
	memcpy(c + 2, b + 1, n - 1);
	assert_int_equal(signer_spki_parse(c, n + 1, &k), ZTP_EMALFORMED);
	/* unused bits in the BIT STRING */
	b[25] = 0x01;
	assert_int_equal(signer_spki_parse(b, n, &k), ZTP_EMALFORMED);
	b[25] = 0x00;
	/* a point of the wrong length, or in hybrid form */
	p256_spki(b, 0x06);
	assert_int_equal(signer_spki_parse(b, n, &k), ZTP_EMALFORMED);
	p256_spki(b, 0x02);
	assert_int_equal(signer_spki_parse(b, n, &k), ZTP_EMALFORMED);
	/* another curve, another algorithm, explicit parameters: not a key the CA takes */
	assert_int_equal(signer_spki_parse(p521_oid_head, sizeof(p521_oid_head), &k), ZTP_EINVAL);
	assert_int_equal(signer_spki_parse(unknown_alg, sizeof(unknown_alg), &k), ZTP_EINVAL);
	assert_int_equal(signer_spki_parse(explicit_params, sizeof(explicit_params), &k),
	    ZTP_EINVAL);
	/* over the maximum */
	assert_int_equal(signer_spki_parse(b, SIGNER_SPKI_MAX + 1, &k), ZTP_ERANGE);
	/* nothing written on failure */
	assert_null(k.key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping_is_six_bytes),
		cmocka_unit_test(test_sign_csr_round_trip_keeps_every_field),
		cmocka_unit_test(test_sign_csr_minimal_has_only_required_fields),
		cmocka_unit_test(test_cert_response_round_trip),
		cmocka_unit_test(test_crl_request_round_trip_and_iteration),
		cmocka_unit_test(test_crl_and_error_responses_round_trip),
		cmocka_unit_test(test_every_truncation_is_refused),
		cmocka_unit_test(test_truncation_inside_a_field_with_a_matching_header_is_refused),
		cmocka_unit_test(test_header_length_must_match_the_datagram),
		cmocka_unit_test(test_datagram_over_the_maximum_is_too_big),
		cmocka_unit_test(test_unknown_types_are_refused),
		cmocka_unit_test(test_tags_the_type_does_not_define_are_refused),
		cmocka_unit_test(test_duplicate_fields_are_refused),
		cmocka_unit_test(test_fields_out_of_order_are_refused),
		cmocka_unit_test(test_missing_required_fields_are_refused),
		cmocka_unit_test(test_empty_and_overrunning_fields_are_refused),
		cmocka_unit_test(test_fixed_size_fields_of_another_size_are_refused),
		cmocka_unit_test(test_profile_bounds),
		cmocka_unit_test(test_csr_length_bounds),
		cmocka_unit_test(test_name_lengths_and_utf8),
		cmocka_unit_test(test_serial_number_is_printable_string),
		cmocka_unit_test(test_san_dns_names),
		cmocka_unit_test(test_at_most_sixteen_of_each_san),
		cmocka_unit_test(test_crl_entries_are_checked),
		cmocka_unit_test(test_crl_serials_must_ascend_without_duplicates),
		cmocka_unit_test(test_crl_holds_at_most_the_maximum_entries),
		cmocka_unit_test(test_crl_sequence_messages_round_trip),
		cmocka_unit_test(test_crl_begin_and_end_bounds),
		cmocka_unit_test(test_crl_entries_hold_one_to_the_maximum),
		cmocka_unit_test(test_crl_read_ack_and_part_bounds),
		cmocka_unit_test(test_revoked_check_matches_the_encoder),
		cmocka_unit_test(test_next_update_bounds),
		cmocka_unit_test(test_response_values_are_checked),
		cmocka_unit_test(test_encoder_refuses_what_the_decoder_refuses),
		cmocka_unit_test(test_decoder_leaves_output_alone_on_error),
		cmocka_unit_test(test_serial_compare_is_numeric),
		cmocka_unit_test(test_sign_spki_round_trip_keeps_every_field),
		cmocka_unit_test(test_sign_spki_fields_are_checked),
		cmocka_unit_test(test_spki_parser_takes_the_allowed_keys),
		cmocka_unit_test(test_spki_parser_refuses_what_is_not_one_der_spki),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
