/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module's root of trust (src/device/rot.c): every state transition,
 * the seal-once and minimum-interval rules, the NVM image and its parser's
 * edges, and the power-cut tables of docs/protocol/security-service.md
 * sections 4 and 5, played against a model of the server's rules (the
 * real server is tested by the integration tests): the module's state is
 * saved at each of its "stores", the power is cut after each step in
 * turn, the module reloads what it saved and contacts again; it must end
 * with the server's current key and never be taken for a clone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "modmsg.h"
#include "ztp/err.h"
#include "ztp/rot.h"

#define PROFILE "0123456789abcdef0123456789abcdef"
#define SERIAL "SN-0001"
#define FW "fw-1.0"

static const uint8_t uid[ZTP_ROT_UID_LEN] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
static const uint8_t factory[ZTP_ROT_KEY_LEN] = { 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6,
	0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef };
static const uint8_t zeros[ZTP_ROT_KEY_LEN];

static void
key_of(uint8_t tag, uint8_t out[ZTP_ROT_KEY_LEN])
{
	size_t i;

	for (i = 0; i < ZTP_ROT_KEY_LEN; i++)
		out[i] = (uint8_t)(tag + i * 7 + 1);
}

/* A 200 answer body announcing epoch, with the other items if full. */
static size_t
answer_body(uint32_t epoch, int full, uint8_t status, uint8_t *buf, size_t cap)
{
	struct modmsg m;
	size_t len = 0;

	memset(&m, 0, sizeof(m));
	m.epoch = epoch;
	MODMSG_SET(&m, MODMSG_EPOCH);
	if (full) {
		m.features = MODMSG_F_PSK | MODMSG_F_E2E;
		m.hb_interval = 3600;
		m.hb_min = 60;
		m.status = status;
		MODMSG_SET(&m, MODMSG_FEATURES);
		MODMSG_SET(&m, MODMSG_HB_INTERVAL);
		MODMSG_SET(&m, MODMSG_HB_MIN);
		MODMSG_SET(&m, MODMSG_STATUS);
	}
	assert_int_equal(modmsg_encode(&m, buf, cap, &len), 0);
	return len;
}

static void
assert_status(const struct ztp_rot *r, int reg, int claimed, int boot)
{
	int a, b, c;

	ztp_rot_status(r, &a, &b, &c);
	assert_int_equal(a, reg);
	assert_int_equal(b, claimed);
	assert_int_equal(c, boot);
}

/* Save and load again: the image round-trips to the same state. */
static void
assert_roundtrip(const struct ztp_rot *r)
{
	uint8_t img[ZTP_ROT_STATE_LEN], img2[ZTP_ROT_STATE_LEN];
	struct ztp_rot back;
	char err[160];
	size_t len = 0, len2 = 0;

	assert_int_equal(ztp_rot_save(r, img, sizeof(img), &len), 0);
	assert_int_equal(len, ZTP_ROT_STATE_LEN);
	assert_int_equal(ztp_rot_load(&back, img, len, err, sizeof(err)), 0);
	assert_memory_equal(&back, r, sizeof(back));
	assert_int_equal(ztp_rot_save(&back, img2, sizeof(img2), &len2), 0);
	assert_memory_equal(img, img2, len);
}

/* One bootstrap or heartbeat, answered 200 with the full items, then confirmed. */
static void
ratchet(struct ztp_rot *r, const uint8_t key[ZTP_ROT_KEY_LEN], uint8_t status, int64_t now)
{
	struct ztp_rot_req req;
	struct ztp_rot_answer a;
	uint8_t body[64], conf[16];
	size_t len, clen;

	assert_int_equal(ztp_rot_request(r, FW, &req), 0);
	len = answer_body(r->epoch + 1, 1, status, body, sizeof(body));
	assert_int_equal(ztp_rot_answer(r, &req, body, len, &a), 0);
	assert_int_equal(ztp_rot_pending_set(r, &a, key, now), 0);
	assert_int_equal(ztp_rot_confirm(r, conf, sizeof(conf), &clen), 0);
	assert_int_equal(ztp_rot_commit(r), 0);
	assert_roundtrip(r);
}

/* ---- state transitions ---- */

static void
test_init_is_factory_state(void **state)
{
	struct ztp_rot r;
	struct ztp_rot_psk psk;

	assert_int_equal(ztp_rot_init(&r, uid, factory), 0);
	assert_status(&r, 0, 0, 0);
	assert_int_equal(ztp_rot_bootstrapped(&r), 0);
	ztp_rot_psk(&r, &psk);
	assert_string_equal(psk.identity, "M00112233445566778899aabbccddeeff");
	assert_int_equal(psk.identity_len, 33);
	assert_memory_equal(psk.key, factory, ZTP_ROT_KEY_LEN);
	assert_int_equal(psk.epoch, 0);
	assert_int_equal(psk.pending, 0);
	assert_int_equal(r.hb_interval, ZTP_ROT_HB_INTERVAL_DEFAULT);
	assert_int_equal(r.hb_min, ZTP_ROT_HB_MIN_DEFAULT);
	assert_int_equal(ztp_rot_init(NULL, uid, factory), ZTP_EINVAL);
	assert_roundtrip(&r);
}

static void
test_seal_once(void **state)
{
	struct ztp_rot r, before;

	ztp_rot_init(&r, uid, factory);
	assert_int_equal(ztp_rot_seal(&r, PROFILE, 32, SERIAL, strlen(SERIAL)), 0);
	assert_int_equal(r.sealed, 1);
	assert_int_equal(r.seal_unreported, 1);
	assert_string_equal(r.profile, PROFILE);
	assert_string_equal(r.serial, SERIAL);
	memcpy(&before, &r, sizeof(r));
	/* later calls change nothing, valid or not */
	assert_int_equal(ztp_rot_seal(&r, "ffffffffffffffffffffffffffffffff", 32, "other", 5),
	    ZTP_EEXIST);
	assert_int_equal(ztp_rot_seal(&r, "x", 1, "", 0), ZTP_EEXIST);
	assert_memory_equal(&r, &before, sizeof(r));
	assert_roundtrip(&r);
}

static void
test_seal_refuses_malformed_arguments(void **state)
{
	static const char s64[] = "0123456789012345678901234567890123456789012345678901234567890123";
	static const char s65[] = "01234567890123456789012345678901234567890123456789012345678901234";
	struct ztp_rot r, before;

	ztp_rot_init(&r, uid, factory);
	memcpy(&before, &r, sizeof(r));
	assert_int_equal(ztp_rot_seal(&r, "0123456789ABCDEF0123456789abcdef", 32, SERIAL, 7),
	    ZTP_EINVAL);
	assert_int_equal(ztp_rot_seal(&r, PROFILE, 31, SERIAL, 7), ZTP_EINVAL);
	assert_int_equal(ztp_rot_seal(&r, PROFILE "0", 33, SERIAL, 7), ZTP_EINVAL);
	assert_int_equal(ztp_rot_seal(&r, "0123456789abcdeg0123456789abcdef", 32, SERIAL, 7),
	    ZTP_EINVAL);
	assert_int_equal(ztp_rot_seal(&r, PROFILE, 32, "", 0), ZTP_EINVAL);
	assert_int_equal(ztp_rot_seal(&r, PROFILE, 32, "a\"b", 3), ZTP_EINVAL);
	assert_int_equal(ztp_rot_seal(&r, PROFILE, 32, "a\nb", 3), ZTP_EINVAL);
	assert_int_equal(ztp_rot_seal(&r, PROFILE, 32, "a\0b", 3), ZTP_EINVAL);
	assert_int_equal(ztp_rot_seal(&r, PROFILE, 32, s65, 65), ZTP_EINVAL);
	assert_int_equal(ztp_rot_seal(&r, NULL, 0, SERIAL, 7), ZTP_EINVAL);
	assert_memory_equal(&r, &before, sizeof(r));
	/* the longest serial and the printable edges are fine */
	assert_int_equal(ztp_rot_seal(&r, PROFILE, 32, s64, 64), 0);
	assert_string_equal(r.serial, s64);
	assert_roundtrip(&r);
}

static void
test_request_bodies(void **state)
{
	struct ztp_rot r;
	struct ztp_rot_req req;
	struct modmsg m;

	ztp_rot_init(&r, uid, factory);
	ztp_rot_boot(&r);
	ztp_rot_boot(&r);
	assert_int_equal(ztp_rot_request(&r, FW, &req), 0);
	assert_int_equal(req.kind, ZTP_ROT_BOOTSTRAP);
	assert_string_equal(req.path, "/m/b");
	assert_int_equal(req.epoch, 0);
	assert_int_equal(req.carried_seal, 0);
	assert_int_equal(modmsg_decode(req.body, req.len, &m), 0);
	assert_int_equal(m.have, (1u << MODMSG_FIRMWARE) | (1u << MODMSG_COUNTERS));
	assert_string_equal(m.firmware, FW);
	assert_int_equal(m.boots, 2);
	assert_int_equal(m.heartbeats, 0);
	/* firmware 2+6, counters 2+8 */
	assert_int_equal(req.len, 18);

	assert_int_equal(ztp_rot_seal(&r, PROFILE, 32, SERIAL, 7), 0);
	assert_int_equal(ztp_rot_request(&r, FW, &req), 0);
	assert_int_equal(req.carried_seal, 1);
	assert_int_equal(modmsg_decode(req.body, req.len, &m), 0);
	assert_true(MODMSG_HAS(&m, MODMSG_PROFILE) && MODMSG_HAS(&m, MODMSG_SERIAL));
	assert_string_equal(m.profile, PROFILE);
	assert_string_equal(m.serial, SERIAL);

	assert_int_equal(ztp_rot_request(&r, "", &req), ZTP_EINVAL);
	assert_int_equal(ztp_rot_request(&r, NULL, &req), ZTP_EINVAL);
	assert_int_equal(ztp_rot_request(&r, "123456789012345678901234567890123", &req),
	    ZTP_EINVAL);
	assert_int_equal(ztp_rot_request(&r, "fw\x01", &req), ZTP_EINVAL);
}

static void
test_bootstrap_transitions(void **state)
{
	struct ztp_rot r;
	struct ztp_rot_req req;
	struct ztp_rot_answer a;
	struct ztp_rot_psk psk;
	struct modmsg m;
	uint8_t body[64], conf[16], k1[ZTP_ROT_KEY_LEN];
	size_t len, clen;

	key_of(1, k1);
	ztp_rot_init(&r, uid, factory);
	assert_int_equal(ztp_rot_request(&r, FW, &req), 0);
	len = answer_body(1, 1, 0, body, sizeof(body));
	assert_int_equal(ztp_rot_answer(&r, &req, body, len, &a), 0);
	assert_int_equal(a.epoch, 1);
	assert_string_equal(a.context, "M00112233445566778899aabbccddeeff.1");
	assert_int_equal(a.context_len, 35);
	assert_int_equal(a.hb_interval, 3600);

	/* phase 3: pending, still not bootstrapped; the pending key is offered first */
	assert_int_equal(ztp_rot_pending_set(&r, &a, k1, 1000), 0);
	assert_status(&r, 0, 0, 0);
	assert_int_equal(r.heartbeats, 0);
	assert_int_equal(r.have_last_hb, 0);
	assert_int_equal(r.last_contact, 1000);
	ztp_rot_psk(&r, &psk);
	assert_string_equal(psk.identity, "M00112233445566778899aabbccddeeff.1");
	assert_memory_equal(psk.key, k1, ZTP_ROT_KEY_LEN);
	assert_int_equal(psk.pending, 1);
	assert_int_equal(ztp_rot_request(&r, FW, &req), ZTP_ECONFLICT);
	assert_int_equal(ztp_rot_pending_set(&r, &a, k1, 1000), ZTP_ECONFLICT);
	assert_roundtrip(&r);

	assert_int_equal(ztp_rot_confirm(&r, conf, sizeof(conf), &clen), 0);
	assert_int_equal(modmsg_decode(conf, clen, &m), 0);
	assert_int_equal(m.have, 1u << MODMSG_EPOCH);
	assert_int_equal(m.epoch, 1);
	assert_int_equal(ztp_rot_confirm(&r, conf, 3, &clen), ZTP_ETOOBIG);

	/* phase 4 */
	assert_int_equal(ztp_rot_commit(&r), 0);
	assert_status(&r, 1, 0, 1);
	assert_int_equal(r.epoch, 1);
	assert_memory_equal(r.key, k1, ZTP_ROT_KEY_LEN);
	assert_memory_equal(r.factory, zeros, ZTP_ROT_KEY_LEN);
	assert_memory_equal(r.pending_key, zeros, ZTP_ROT_KEY_LEN);
	assert_int_equal(r.pending, 0);
	assert_int_equal(r.features, MODMSG_F_PSK | MODMSG_F_E2E);
	assert_int_equal(r.hb_interval, 3600);
	assert_int_equal(r.hb_min, 60);
	ztp_rot_psk(&r, &psk);
	assert_string_equal(psk.identity, "M00112233445566778899aabbccddeeff.1");
	assert_int_equal(psk.pending, 0);
	assert_int_equal(ztp_rot_commit(&r), ZTP_ECONFLICT);
	assert_int_equal(ztp_rot_confirm(&r, conf, sizeof(conf), &clen), ZTP_ECONFLICT);
	assert_roundtrip(&r);
}

static void
test_heartbeat_transitions(void **state)
{
	struct ztp_rot r;
	struct ztp_rot_req req;
	struct ztp_rot_answer a;
	struct ztp_rot_psk psk;
	uint8_t body[64], k1[ZTP_ROT_KEY_LEN], k2[ZTP_ROT_KEY_LEN];
	size_t len;

	key_of(1, k1);
	key_of(2, k2);
	ztp_rot_init(&r, uid, factory);
	ratchet(&r, k1, 0, 100);
	assert_int_equal(ztp_rot_request(&r, FW, &req), 0);
	assert_int_equal(req.kind, ZTP_ROT_HEARTBEAT);
	assert_string_equal(req.path, "/m/h");
	assert_int_equal(req.epoch, 1);
	/* the answer must announce epoch 2 */
	len = answer_body(1, 1, 1, body, sizeof(body));
	assert_int_equal(ztp_rot_answer(&r, &req, body, len, &a), ZTP_EMALFORMED);
	len = answer_body(3, 1, 1, body, sizeof(body));
	assert_int_equal(ztp_rot_answer(&r, &req, body, len, &a), ZTP_EMALFORMED);
	len = answer_body(2, 1, 1, body, sizeof(body));
	assert_int_equal(ztp_rot_answer(&r, &req, body, len, &a), 0);
	assert_string_equal(a.context, "M00112233445566778899aabbccddeeff.2");
	assert_int_equal(ztp_rot_pending_set(&r, &a, k2, 5000), 0);
	assert_int_equal(r.heartbeats, 1);
	assert_int_equal(r.have_last_hb, 1);
	assert_int_equal(r.last_hb, 5000);
	/* still the old status until the commit */
	assert_status(&r, 1, 0, 1);
	ztp_rot_psk(&r, &psk);
	assert_string_equal(psk.identity, "M00112233445566778899aabbccddeeff.2");
	assert_int_equal(ztp_rot_commit(&r), 0);
	assert_status(&r, 1, 1, 1);
	assert_int_equal(r.epoch, 2);
	assert_memory_equal(r.key, k2, ZTP_ROT_KEY_LEN);
	assert_roundtrip(&r);
}

static void
test_answer_items(void **state)
{
	static const uint8_t dup[] = { 4, 4, 0, 0, 0, 1, 4, 4, 0, 0, 0, 1 };
	static const uint8_t short_epoch[] = { 4, 3, 0, 0, 1 };
	static const uint8_t past_end[] = { 4, 4, 0, 0, 0 };
	static const uint8_t unknown_tag[] = { 0x7f, 2, 9, 9, 4, 4, 0, 0, 0, 1 };
	uint8_t big[MODMSG_BODY_MAX + 1];
	struct ztp_rot r, other;
	struct ztp_rot_req req;
	struct ztp_rot_answer a;
	uint8_t body[64];
	size_t len;

	ztp_rot_init(&r, uid, factory);
	r.features = 0;
	assert_int_equal(ztp_rot_request(&r, FW, &req), 0);
	assert_int_equal(ztp_rot_answer(&r, &req, dup, sizeof(dup), &a), ZTP_EMALFORMED);
	assert_int_equal(ztp_rot_answer(&r, &req, short_epoch, sizeof(short_epoch), &a),
	    ZTP_EMALFORMED);
	assert_int_equal(ztp_rot_answer(&r, &req, past_end, sizeof(past_end), &a), ZTP_EMALFORMED);
	assert_int_equal(ztp_rot_answer(&r, &req, body, 0, &a), ZTP_EMALFORMED); /* no epoch */
	memset(big, 0, sizeof(big));
	assert_int_equal(ztp_rot_answer(&r, &req, big, sizeof(big), &a), ZTP_ETOOBIG);
	/* unknown tags are skipped; absent items keep what the module has */
	assert_int_equal(ztp_rot_answer(&r, &req, unknown_tag, sizeof(unknown_tag), &a), 0);
	assert_int_equal(a.hb_interval, ZTP_ROT_HB_INTERVAL_DEFAULT);
	assert_int_equal(a.hb_min, ZTP_ROT_HB_MIN_DEFAULT);
	assert_int_equal(a.features, 0);
	assert_int_equal(a.status, 0);
	/* an answer to a request built on another state */
	memcpy(&other, &r, sizeof(r));
	len = answer_body(1, 0, 0, body, sizeof(body));
	req.epoch = 5;
	assert_int_equal(ztp_rot_answer(&other, &req, body, len, &a), ZTP_ECONFLICT);
}

static void
test_handshake_with_pending_commits(void **state)
{
	struct ztp_rot r;
	struct ztp_rot_req req;
	struct ztp_rot_answer a;
	uint8_t body[64], k1[ZTP_ROT_KEY_LEN];
	size_t len;

	key_of(1, k1);
	ztp_rot_init(&r, uid, factory);
	/* a handshake with the current key changes nothing */
	assert_int_equal(ztp_rot_handshake_ok(&r, 0), 0);
	assert_int_equal(ztp_rot_request(&r, FW, &req), 0);
	len = answer_body(1, 1, 0, body, sizeof(body));
	assert_int_equal(ztp_rot_answer(&r, &req, body, len, &a), 0);
	assert_int_equal(ztp_rot_pending_set(&r, &a, k1, 10), 0);
	assert_int_equal(ztp_rot_handshake_ok(&r, 0), 0);
	assert_int_equal(r.pending, 1);
	assert_int_equal(ztp_rot_handshake_ok(&r, 1), 1);
	assert_status(&r, 1, 0, 1);
	assert_memory_equal(r.key, k1, ZTP_ROT_KEY_LEN);
	assert_memory_equal(r.factory, zeros, ZTP_ROT_KEY_LEN);
	assert_int_equal(ztp_rot_handshake_ok(&r, 1), 0);
}

static void
test_refused_pending_is_dropped(void **state)
{
	struct ztp_rot r, before;
	struct ztp_rot_req req;
	struct ztp_rot_answer a;
	struct ztp_rot_psk psk;
	uint8_t body[64], k1[ZTP_ROT_KEY_LEN], k2[ZTP_ROT_KEY_LEN];
	size_t len;

	key_of(1, k1);
	key_of(2, k2);
	ztp_rot_init(&r, uid, factory);
	/* a refused current key changes nothing */
	memcpy(&before, &r, sizeof(r));
	assert_int_equal(ztp_rot_key_refused(&r, 0), 0);
	assert_memory_equal(&r, &before, sizeof(r));

	assert_int_equal(ztp_rot_request(&r, FW, &req), 0);
	len = answer_body(1, 1, 0, body, sizeof(body));
	assert_int_equal(ztp_rot_answer(&r, &req, body, len, &a), 0);
	assert_int_equal(ztp_rot_pending_set(&r, &a, k1, 10), 0);
	assert_int_equal(ztp_rot_key_refused(&r, 0), 0);
	assert_int_equal(ztp_rot_key_refused(&r, 1), 1);
	assert_int_equal(r.pending, 0);
	assert_memory_equal(r.pending_key, zeros, ZTP_ROT_KEY_LEN);
	ztp_rot_psk(&r, &psk);
	assert_int_equal(psk.epoch, 0);
	assert_memory_equal(psk.key, factory, ZTP_ROT_KEY_LEN);
	assert_status(&r, 0, 0, 0);
	assert_roundtrip(&r);

	/* the same after the bootstrap: back to the current key */
	ratchet(&r, k1, 0, 20);
	assert_int_equal(ztp_rot_request(&r, FW, &req), 0);
	len = answer_body(2, 1, 0, body, sizeof(body));
	assert_int_equal(ztp_rot_answer(&r, &req, body, len, &a), 0);
	assert_int_equal(ztp_rot_pending_set(&r, &a, k2, 30), 0);
	assert_int_equal(ztp_rot_key_refused(&r, 2), 1);
	ztp_rot_psk(&r, &psk);
	assert_int_equal(psk.epoch, 1);
	assert_memory_equal(psk.key, k1, ZTP_ROT_KEY_LEN);
	assert_roundtrip(&r);
}

static void
test_race_drops_pending(void **state)
{
	struct ztp_rot r;
	struct ztp_rot_req req;
	struct ztp_rot_answer a;
	uint8_t body[64], k1[ZTP_ROT_KEY_LEN];
	size_t len;

	key_of(1, k1);
	ztp_rot_init(&r, uid, factory);
	ztp_rot_drop_pending(&r); /* none: nothing */
	assert_int_equal(r.pending, 0);
	assert_int_equal(ztp_rot_request(&r, FW, &req), 0);
	len = answer_body(1, 1, 0, body, sizeof(body));
	assert_int_equal(ztp_rot_answer(&r, &req, body, len, &a), 0);
	assert_int_equal(ztp_rot_pending_set(&r, &a, k1, 10), 0);
	ztp_rot_drop_pending(&r);
	assert_int_equal(r.pending, 0);
	assert_memory_equal(r.pending_key, zeros, ZTP_ROT_KEY_LEN);
	assert_memory_equal(r.factory, factory, ZTP_ROT_KEY_LEN);
	/* and a new bootstrap can start */
	assert_int_equal(ztp_rot_request(&r, FW, &req), 0);
	assert_roundtrip(&r);
}

static void
test_seal_after_bootstrap_is_reported_once(void **state)
{
	struct ztp_rot r;
	struct ztp_rot_req req;
	struct ztp_rot_answer a;
	uint8_t body[64], k[ZTP_ROT_KEY_LEN];
	size_t len;
	uint32_t wait;

	key_of(1, k);
	ztp_rot_init(&r, uid, factory);
	ratchet(&r, k, 0, 100);
	key_of(2, k);
	ratchet(&r, k, 0, 200); /* a heartbeat at 200, min interval 60 */
	assert_int_equal(ztp_rot_heartbeat_allowed(&r, 210, &wait), ZTP_EBUSY);
	assert_int_equal(wait, 50);
	assert_int_equal(ztp_rot_next_contact(&r, 210), 3600 - 10);

	assert_int_equal(ztp_rot_seal(&r, PROFILE, 32, SERIAL, 7), 0);
	/* the seal is reported at once, whatever the minimum interval */
	assert_int_equal(ztp_rot_heartbeat_allowed(&r, 210, &wait), 0);
	assert_int_equal(ztp_rot_next_contact(&r, 210), 0);

	/* a heartbeat built before the seal does not report it */
	r.sealed = 0;
	r.seal_unreported = 0;
	assert_int_equal(ztp_rot_request(&r, FW, &req), 0);
	r.sealed = 1;
	r.seal_unreported = 1;
	len = answer_body(3, 1, 0, body, sizeof(body));
	assert_int_equal(ztp_rot_answer(&r, &req, body, len, &a), 0);
	key_of(3, k);
	assert_int_equal(ztp_rot_pending_set(&r, &a, k, 211), 0);
	assert_int_equal(ztp_rot_commit(&r), 0);
	assert_int_equal(r.seal_unreported, 1);
	assert_status(&r, 1, 0, 1);

	/* one that carries it does, and the server's claim shows */
	key_of(4, k);
	ratchet(&r, k, 1, 212);
	assert_int_equal(r.seal_unreported, 0);
	assert_status(&r, 1, 1, 1);
	assert_int_equal(ztp_rot_heartbeat_allowed(&r, 213, &wait), ZTP_EBUSY);
}

static void
test_min_interval(void **state)
{
	struct ztp_rot r;
	uint8_t k[ZTP_ROT_KEY_LEN];
	uint32_t wait = 99;

	ztp_rot_init(&r, uid, factory);
	assert_int_equal(ztp_rot_heartbeat_allowed(&r, 0, &wait), ZTP_ECONFLICT);
	assert_int_equal(wait, 0);
	key_of(1, k);
	ratchet(&r, k, 0, 1000);
	/* no heartbeat yet: the bootstrap is not one */
	assert_int_equal(ztp_rot_heartbeat_allowed(&r, 1000, NULL), 0);
	key_of(2, k);
	ratchet(&r, k, 0, 1000);
	assert_int_equal(ztp_rot_heartbeat_allowed(&r, 1000, &wait), ZTP_EBUSY);
	assert_int_equal(wait, 60);
	assert_int_equal(ztp_rot_heartbeat_allowed(&r, 1059, &wait), ZTP_EBUSY);
	assert_int_equal(wait, 1);
	assert_int_equal(ztp_rot_heartbeat_allowed(&r, 1060, &wait), 0);
	assert_int_equal(ztp_rot_heartbeat_allowed(&r, INT64_MAX, &wait), 0);
	/* a clock set back lets it through (the server has its own limit) */
	assert_int_equal(ztp_rot_heartbeat_allowed(&r, 999, &wait), 0);
	assert_int_equal(ztp_rot_heartbeat_allowed(&r, INT64_MIN, &wait), 0);
	/* it survives a power cycle */
	assert_roundtrip(&r);
	{
		uint8_t img[ZTP_ROT_STATE_LEN];
		struct ztp_rot back;
		size_t len;

		assert_int_equal(ztp_rot_save(&r, img, sizeof(img), &len), 0);
		assert_int_equal(ztp_rot_load(&back, img, len, NULL, 0), 0);
		assert_int_equal(ztp_rot_heartbeat_allowed(&back, 1030, &wait), ZTP_EBUSY);
		assert_int_equal(wait, 30);
	}
	/* minimum 0: always */
	r.hb_min = 0;
	assert_int_equal(ztp_rot_heartbeat_allowed(&r, 1000, NULL), 0);
	/* with the stored time far in the past */
	r.hb_min = UINT32_MAX;
	r.last_hb = INT64_MIN;
	assert_int_equal(ztp_rot_heartbeat_allowed(&r, INT64_MAX, NULL), 0);
}

static void
test_next_contact(void **state)
{
	struct ztp_rot r;
	struct ztp_rot_req req;
	struct ztp_rot_answer a;
	uint8_t body[64], k[ZTP_ROT_KEY_LEN];
	size_t len;

	ztp_rot_init(&r, uid, factory);
	assert_int_equal(ztp_rot_next_contact(&r, 5), 0); /* the bootstrap */
	key_of(1, k);
	ratchet(&r, k, 0, 100);
	assert_int_equal(ztp_rot_next_contact(&r, 100), 3600);
	assert_int_equal(ztp_rot_next_contact(&r, 3699), 1);
	assert_int_equal(ztp_rot_next_contact(&r, 3700), 0);
	assert_int_equal(ztp_rot_next_contact(&r, 99999), 0);
	assert_int_equal(ztp_rot_next_contact(&r, 50), 3600); /* clock back */
	/* a pending key: at once */
	assert_int_equal(ztp_rot_request(&r, FW, &req), 0);
	len = answer_body(2, 1, 0, body, sizeof(body));
	assert_int_equal(ztp_rot_answer(&r, &req, body, len, &a), 0);
	key_of(2, k);
	assert_int_equal(ztp_rot_pending_set(&r, &a, k, 200), 0);
	assert_int_equal(ztp_rot_next_contact(&r, 200), 0);
	assert_int_equal(ztp_rot_commit(&r), 0);
	assert_int_equal(ztp_rot_next_contact(&r, 200), 3600);
	r.hb_interval = 0;
	assert_int_equal(ztp_rot_next_contact(&r, 200), -1);
}

static void
test_counters_saturate(void **state)
{
	struct ztp_rot r;

	ztp_rot_init(&r, uid, factory);
	r.boots = UINT32_MAX - 1;
	ztp_rot_boot(&r);
	assert_int_equal(r.boots, UINT32_MAX);
	ztp_rot_boot(&r);
	assert_int_equal(r.boots, UINT32_MAX);
}

static void
test_last_epoch_refuses_request(void **state)
{
	struct ztp_rot r;
	struct ztp_rot_req req;

	ztp_rot_init(&r, uid, factory);
	memset(r.factory, 0, sizeof(r.factory));
	r.epoch = UINT32_MAX;
	memset(r.key, 1, sizeof(r.key));
	assert_int_equal(ztp_rot_request(&r, FW, &req), ZTP_ERANGE);
	assert_roundtrip(&r);
}

/* ---- the NVM image ---- */

static void
image_of(const struct ztp_rot *r, uint8_t img[ZTP_ROT_STATE_LEN])
{
	size_t len;

	assert_int_equal(ztp_rot_save(r, img, ZTP_ROT_STATE_LEN, &len), 0);
}

static uint32_t
crc32_ref(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	int k;

	while (n-- > 0) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
	}
	return ~c;
}

/* Fix the CRC after an edit, so that the check behind it is reached. */
static void
recrc(uint8_t img[ZTP_ROT_STATE_LEN])
{
	uint32_t c = crc32_ref(img, ZTP_ROT_STATE_LEN - 4);

	img[ZTP_ROT_STATE_LEN - 4] = (uint8_t)(c >> 24);
	img[ZTP_ROT_STATE_LEN - 3] = (uint8_t)(c >> 16);
	img[ZTP_ROT_STATE_LEN - 2] = (uint8_t)(c >> 8);
	img[ZTP_ROT_STATE_LEN - 1] = (uint8_t)c;
}

static void
assert_refused(const uint8_t *img, size_t len, const char *why)
{
	struct ztp_rot r;
	char err[200];

	memset(&r, 0x5a, sizeof(r));
	err[0] = '\0';
	assert_int_equal(ztp_rot_load(&r, img, len, err, sizeof(err)), ZTP_EMALFORMED);
	if (strstr(err, why) == NULL)
		fail_msg("expected '%s' in '%s'", why, err);
	/* wiped on failure */
	{
		static const struct ztp_rot zero;
		assert_memory_equal(&r, &zero, sizeof(r));
	}
}

static void
test_image_layout(void **state)
{
	struct ztp_rot r;
	uint8_t img[ZTP_ROT_STATE_LEN], small[ZTP_ROT_STATE_LEN - 1];
	size_t len;

	ztp_rot_init(&r, uid, factory);
	image_of(&r, img);
	assert_memory_equal(img, "ZROT\x00\x02\x01\x53", 8);
	assert_memory_equal(img + 12, uid, 16);
	assert_memory_equal(img + 28, factory, 32);
	assert_int_equal(ztp_rot_save(&r, small, sizeof(small), &len), ZTP_ETOOBIG);
	/* the CRC is the standard one: "123456789" -> cbf43926 */
	assert_int_equal(crc32_ref((const uint8_t *)"123456789", 9), 0xcbf43926u);
}

/* a version 1 image (issue 13's 283 bytes) is read; the services' fields start at zero */
static void
test_image_version1_read(void **state)
{
	struct ztp_rot r, back;
	uint8_t img[ZTP_ROT_STATE_LEN], v1[283];
	uint32_t c;
	char err[200];

	ztp_rot_init(&r, uid, factory);
	r.boots = 7;
	image_of(&r, img);
	memcpy(v1, img, 279);
	v1[5] = 1;
	v1[6] = 0x01;
	v1[7] = 0x1b;
	c = crc32_ref(v1, 279);
	v1[279] = (uint8_t)(c >> 24);
	v1[280] = (uint8_t)(c >> 16);
	v1[281] = (uint8_t)(c >> 8);
	v1[282] = (uint8_t)c;
	assert_int_equal(ztp_rot_load(&back, v1, sizeof(v1), err, sizeof(err)), 0);
	assert_int_equal(back.boots, 7);
	assert_int_equal(back.sid, 0);
	assert_int_equal(back.e2e_mark, 0);
	/* a version 1 header with the version 2 length is refused */
	assert_refused(v1, 282, "shorter");
	v1[5] = 3;
	assert_refused(v1, sizeof(v1), "format version 3");
	/* the services' fields survive a round trip */
	r.sid = 42;
	r.e2e_mark = r.e2e_next = 640;
	r.down_last = 9;
	r.local_trial = 3;
	memset(r.local, 0xA5, sizeof(r.local));
	image_of(&r, img);
	assert_int_equal(ztp_rot_load(&back, img, sizeof(img), err, sizeof(err)), 0);
	assert_int_equal(back.sid, 42);
	assert_int_equal(back.e2e_next, 640);
	assert_int_equal(back.down_last, 9);
	assert_int_equal(back.local_trial, 3);
	assert_memory_equal(back.local, r.local, sizeof(r.local));
	/* a counter past 48 bits is refused */
	img[315] = 0x01;
	recrc(img);
	assert_refused(img, sizeof(img), "48 bits");
}

static void
test_image_truncated_or_long(void **state)
{
	struct ztp_rot r;
	uint8_t img[ZTP_ROT_STATE_LEN + 1];
	char err[200];
	size_t n;

	ztp_rot_init(&r, uid, factory);
	image_of(&r, img);
	img[ZTP_ROT_STATE_LEN] = 0;
	for (n = 0; n < 8; n++)
		assert_refused(img, n, "truncated");
	for (n = 8; n < ZTP_ROT_STATE_LEN; n++)
		assert_refused(img, n, "shorter (truncated)");
	assert_refused(img, ZTP_ROT_STATE_LEN + 1, "longer");
	assert_int_equal(ztp_rot_load(&r, NULL, 0, err, sizeof(err)), ZTP_EMALFORMED);
	assert_int_equal(ztp_rot_load(&r, img, ZTP_ROT_STATE_LEN, NULL, 0), 0);
}

static void
test_image_header_and_crc(void **state)
{
	struct ztp_rot r;
	uint8_t img[ZTP_ROT_STATE_LEN], bad[ZTP_ROT_STATE_LEN];
	size_t i;
	int bit;

	ztp_rot_init(&r, uid, factory);
	ztp_rot_seal(&r, PROFILE, 32, SERIAL, 7);
	image_of(&r, img);
	memcpy(bad, img, sizeof(bad));
	bad[0] = 'z';
	assert_refused(bad, sizeof(bad), "not a module state file");
	memcpy(bad, img, sizeof(bad));
	bad[5] = 3;
	assert_refused(bad, sizeof(bad), "format version 3");
	memcpy(bad, img, sizeof(bad));
	bad[7] = 0x54;
	assert_refused(bad, sizeof(bad), "length field 340");
	/* every single-bit flip past the header is caught by the CRC */
	for (i = 8; i < ZTP_ROT_STATE_LEN; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(bad, img, sizeof(bad));
			bad[i] ^= (uint8_t)(1u << bit);
			assert_refused(bad, sizeof(bad), "CRC mismatch");
		}
}

static void
test_image_contradictions(void **state)
{
	struct ztp_rot r, boot;
	struct ztp_rot_req req;
	struct ztp_rot_answer a;
	uint8_t img[ZTP_ROT_STATE_LEN], bad[ZTP_ROT_STATE_LEN], body[64], k[ZTP_ROT_KEY_LEN];
	size_t len;

	ztp_rot_init(&r, uid, factory);
	image_of(&r, img);
#define EDIT(stmt, why)                                 \
	do {                                            \
		memcpy(bad, img, sizeof(bad));          \
		stmt;                                   \
		recrc(bad);                             \
		assert_refused(bad, sizeof(bad), why);  \
	} while (0)
	EDIT(bad[11] = 0x40, "unknown flags 0x40");
	EDIT(bad[8] = 0x80, "unknown flags 0x80000000");
	EDIT(bad[161] = 1, "an operational key at epoch 0");
	EDIT(memset(bad + 28, 0, 32), "no factory secret at epoch 0");
	EDIT(bad[60] = 'a', "a profile or serial without the sealed flag");
	EDIT(bad[92] = 1, "a profile or serial without the sealed flag");
	EDIT(bad[156] = 'x', "a profile or serial without the sealed flag");
	EDIT(bad[11] = 0x02, "an unreported seal that is not sealed");
	EDIT(bad[196] = 1, "pending fields without the pending flag");
	EDIT(bad[241] = 1, "pending fields without the pending flag");
	EDIT(bad[11] = 0x08, "pending fields without the pending flag");
	EDIT(bad[245] = 1, "features or status before the bootstrap");
	EDIT(bad[254] = 1, "features or status before the bootstrap");
	EDIT(bad[270] = 1, "a time without its flag");
	EDIT(bad[278] = 1, "a time without its flag");
	/* pending: the next epoch only */
	EDIT((bad[11] = 0x04, bad[196] = 2), "pending epoch 2 after epoch 0");
	EDIT(bad[11] = 0x04, "pending epoch 0 after epoch 0");
	EDIT((bad[11] = 0x0c, bad[196] = 1), "a pending key that reported a seal, not sealed");

	/* sealed: the profile and the serial checked */
	ztp_rot_seal(&r, PROFILE, 32, SERIAL, 7);
	image_of(&r, img);
	assert_int_equal(ztp_rot_load(&boot, img, sizeof(img), NULL, 0), 0);
	EDIT(bad[60] = 'A', "sealed profile is not 32 lower-case hex digits");
	EDIT(bad[91] = 0, "sealed profile is not 32 lower-case hex digits");
	EDIT(bad[92] = 0, "sealed serial malformed");
	EDIT(bad[92] = 65, "sealed serial malformed");
	EDIT(bad[92] = 8, "sealed serial malformed"); /* a NUL inside */
	EDIT(bad[93] = '"', "sealed serial malformed");
	EDIT(bad[93] = 0x7f, "sealed serial malformed");
	EDIT(bad[100] = 'x', "sealed serial malformed"); /* after its length */

	/* bootstrapped: no factory secret any more */
	key_of(1, k);
	ratchet(&r, k, 1, 10);
	image_of(&r, img);
	EDIT(bad[28] = 1, "a factory secret after the bootstrap");
	EDIT((bad[157] = 0xff, bad[158] = 0xff, bad[159] = 0xff, bad[160] = 0xff, bad[11] |= 0x04,
		 bad[196] = 0),
	    "pending epoch 0 after epoch 4294967295");

	/* with a pending key */
	assert_int_equal(ztp_rot_request(&r, FW, &req), 0);
	len = answer_body(2, 1, 0, body, sizeof(body));
	assert_int_equal(ztp_rot_answer(&r, &req, body, len, &a), 0);
	assert_int_equal(ztp_rot_pending_set(&r, &a, k, 20), 0);
	image_of(&r, img);
	assert_roundtrip(&r);
	EDIT(bad[196] = 3, "pending epoch 3 after epoch 1");
#undef EDIT
}

static void
test_error_never_shows_key_bytes(void **state)
{
	struct ztp_rot r;
	uint8_t img[ZTP_ROT_STATE_LEN];
	char err[300], hex[3];
	size_t i;

	ztp_rot_init(&r, uid, factory);
	image_of(&r, img);
	img[282] ^= 1;
	assert_int_equal(ztp_rot_load(&r, img, sizeof(img), err, sizeof(err)), ZTP_EMALFORMED);
	for (i = 0; i < ZTP_ROT_KEY_LEN; i++) {
		snprintf(hex, sizeof(hex), "%02x", factory[i]);
		assert_null(strstr(err, hex));
	}
}

/* ---- power cuts: the tables of sections 4 and 5, against a model of the server ---- */

/* The server's rules for one RoT, as section 6 has them. */
struct srv {
	uint8_t factory[ZTP_ROT_KEY_LEN];
	int factory_retired;
	uint32_t epoch; /* current; 0: the factory secret */
	uint8_t key[ZTP_ROT_KEY_LEN];
	int pending;
	uint32_t pending_epoch;
	uint8_t pending_key[ZTP_ROT_KEY_LEN];
	int pending_conn;
	int clones; /* handshakes with a retired key: must stay 0 */
	int conns;
};

enum hs { HS_OK, HS_UNKNOWN, HS_BADKEY };

/* The TLS exporter of connection conn with context ctx (a stand-in: distinct per both). */
static void
exporter(int conn, const char *ctx, uint8_t out[ZTP_ROT_KEY_LEN])
{
	size_t i, n = strlen(ctx);

	for (i = 0; i < ZTP_ROT_KEY_LEN; i++)
		out[i] = (uint8_t)(conn * 131 + i * 17 + (uint8_t)ctx[i % n] + n);
}

static enum hs
srv_handshake(struct srv *s, uint32_t epoch, const uint8_t *key)
{
	s->conns++;
	if (s->pending && epoch == s->pending_epoch) {
		if (memcmp(key, s->pending_key, ZTP_ROT_KEY_LEN) != 0)
			return HS_BADKEY;
		/* first use commits the pending key */
		s->epoch = s->pending_epoch;
		memcpy(s->key, s->pending_key, ZTP_ROT_KEY_LEN);
		s->factory_retired = 1;
		s->pending = 0;
		return HS_OK;
	}
	if (epoch == 0) {
		if (memcmp(key, s->factory, ZTP_ROT_KEY_LEN) != 0)
			return HS_BADKEY;
		if (s->factory_retired)
			s->clones++;
		return HS_OK;
	}
	if (epoch == s->epoch)
		return memcmp(key, s->key, ZTP_ROT_KEY_LEN) == 0 ? HS_OK : HS_BADKEY;
	if (epoch < s->epoch) {
		s->clones++;
		return HS_OK;
	}
	return HS_UNKNOWN;
}

/* /m/b or /m/h on connection conn (the handshake's epoch): 200 and the pending key. */
static uint32_t
srv_register(struct srv *s, uint32_t hs_epoch)
{
	uint8_t uidcopy[ZTP_ROT_UID_LEN];
	char ctx[ZTP_ROT_IDENTITY_MAX + 1];
	uint32_t next = hs_epoch + 1;

	memcpy(uidcopy, uid, sizeof(uidcopy));
	modmsg_identity(uidcopy, next, ctx, sizeof(ctx));
	s->pending = 1;
	s->pending_epoch = next;
	s->pending_conn = s->conns;
	exporter(s->conns, ctx, s->pending_key);
	return next;
}

/* /m/c: 204 if the pending key is this connection's, else 409. */
static int
srv_confirm(struct srv *s, uint32_t epoch)
{
	if (!s->pending || s->pending_conn != s->conns || s->pending_epoch != epoch)
		return 409;
	s->epoch = s->pending_epoch;
	memcpy(s->key, s->pending_key, ZTP_ROT_KEY_LEN);
	s->factory_retired = 1;
	s->pending = 0;
	return 204;
}

/* The module's NVM: the image saved last. */
static uint8_t nvm[ZTP_ROT_STATE_LEN];

static void
store(const struct ztp_rot *r)
{
	size_t len;

	assert_int_equal(ztp_rot_save(r, nvm, sizeof(nvm), &len), 0);
}

static void
power_up(struct ztp_rot *r)
{
	char err[160];

	assert_int_equal(ztp_rot_load(r, nvm, sizeof(nvm), err, sizeof(err)), 0);
}

/*
 * The steps of a contact at which the power may go: each counts one; the
 * contact stops (1) when the count reaches cut.
 */
enum {
	STEP_HANDSHAKE = 1, /* the handshake is done, nothing sent */
	STEP_REGISTERED,    /* the server stored its pending key; the answer is lost */
	STEP_STORED,        /* the module stored its pending key; /m/c not sent */
	STEP_SRV_COMMIT,    /* the server committed; its 204 is lost */
	STEP_COMMITTED,     /* the module committed and stored */
	STEPS = STEP_COMMITTED
};

struct run {
	int cut;   /* stop after this many steps; 0: never */
	int steps;
};

static int
step(struct run *run)
{
	return run->cut != 0 && ++run->steps == run->cut;
}

/*
 * One contact, as src/device/modclient.c runs it: the key to offer,
 * dropped and tried again if refused; a pending key committed by its
 * handshake; then the request of the state (a heartbeat on a recovery
 * connection). Returns 1 if the power went, else 0; *done set when it
 * completed.
 */
static int
contact(struct ztp_rot *r, struct srv *s, struct run *run, int64_t now, int *done)
{
	struct ztp_rot_psk psk;
	struct ztp_rot_req req;
	struct ztp_rot_answer a;
	uint8_t body[64], key[ZTP_ROT_KEY_LEN], conf[16];
	size_t len, clen;
	uint32_t next;
	int tries = 0;
	enum hs hs;

	*done = 0;
	for (;;) {
		assert_true(++tries <= 2);
		ztp_rot_psk(r, &psk);
		hs = srv_handshake(s, psk.epoch, psk.key);
		if (hs == HS_OK)
			break;
		/* unknown_psk_identity or decrypt_error: a pending key is dropped */
		assert_int_equal(psk.pending, 1);
		assert_int_equal(ztp_rot_key_refused(r, psk.epoch), 1);
		store(r);
	}
	if (ztp_rot_handshake_ok(r, psk.epoch))
		store(r);
	if (step(run))
		return 1;
	assert_int_equal(ztp_rot_request(r, FW, &req), 0);
	next = srv_register(s, r->epoch);
	if (step(run))
		return 1;
	len = answer_body(next, 1, 0, body, sizeof(body));
	assert_int_equal(ztp_rot_answer(r, &req, body, len, &a), 0);
	exporter(s->conns, a.context, key);
	assert_int_equal(ztp_rot_pending_set(r, &a, key, now), 0);
	store(r);
	if (step(run))
		return 1;
	assert_int_equal(ztp_rot_confirm(r, conf, sizeof(conf), &clen), 0);
	assert_int_equal(srv_confirm(s, r->pending_epoch), 204);
	if (step(run))
		return 1;
	assert_int_equal(ztp_rot_commit(r), 0);
	store(r);
	if (step(run))
		return 1;
	*done = 1;
	return 0;
}

/* Both sides agree on one key, and no clone was seen. */
static void
assert_in_step(const struct ztp_rot *r, const struct srv *s)
{
	assert_int_equal(s->clones, 0);
	assert_int_equal(r->pending, 0);
	assert_int_equal(r->epoch, s->epoch);
	assert_true(r->epoch >= 1);
	assert_memory_equal(r->key, s->key, ZTP_ROT_KEY_LEN);
	assert_memory_equal(r->factory, zeros, ZTP_ROT_KEY_LEN);
	assert_int_equal(s->factory_retired, 1);
}

/*
 * From a fresh module (heartbeats: after `before` completed contacts),
 * cut the power at step cut1 of the next contact and, if cut2, at step
 * cut2 of the contact after the power-up; then contact without cuts until
 * one completes.
 */
static void
cut_run(int before, int cut1, int cut2, int other_pending)
{
	struct ztp_rot r;
	struct srv s;
	struct run run;
	int i, done, rounds;

	memset(&s, 0, sizeof(s));
	memcpy(s.factory, factory, sizeof(s.factory));
	ztp_rot_init(&r, uid, factory);
	store(&r);
	for (i = 0; i < before; i++) {
		run.cut = 0;
		run.steps = 0;
		assert_int_equal(contact(&r, &s, &run, 100 + i, &done), 0);
		assert_int_equal(done, 1);
	}
	run.cut = cut1;
	run.steps = 0;
	assert_int_equal(contact(&r, &s, &run, 1000, &done), 1);
	ztp_rot_wipe(&r);
	power_up(&r);
	/* row 4 of the tables: another registration replaced the server's pending key */
	if (other_pending && s.pending) {
		key_of(0x77, s.pending_key);
		s.pending_conn = -1;
	}
	if (cut2 != 0) {
		run.cut = cut2;
		run.steps = 0;
		if (contact(&r, &s, &run, 2000, &done) == 1) {
			ztp_rot_wipe(&r);
			power_up(&r);
		}
	}
	for (rounds = 0; rounds < 3; rounds++) {
		run.cut = 0;
		run.steps = 0;
		assert_int_equal(contact(&r, &s, &run, 3000, &done), 0);
		if (done)
			break;
	}
	assert_int_equal(done, 1);
	assert_in_step(&r, &s);
	/* and the next heartbeat goes through too */
	assert_int_equal(contact(&r, &s, &run, 4000, &done), 0);
	assert_in_step(&r, &s);
}

static void
test_powercut_bootstrap_table(void **state)
{
	int c1, c2;

	for (c1 = 1; c1 <= STEPS; c1++) {
		cut_run(0, c1, 0, 0);
		cut_run(0, c1, 0, 1);
		for (c2 = 1; c2 <= STEPS; c2++) {
			cut_run(0, c1, c2, 0);
			cut_run(0, c1, c2, 1);
		}
	}
}

static void
test_powercut_heartbeat_table(void **state)
{
	int c1, c2;

	for (c1 = 1; c1 <= STEPS; c1++) {
		cut_run(1, c1, 0, 0);
		cut_run(3, c1, 0, 1);
		for (c2 = 1; c2 <= STEPS; c2++) {
			cut_run(1, c1, c2, 0);
			cut_run(2, c1, c2, 1);
		}
	}
}

/* Row 2 of section 4, step by step: the module offers K1, the server commits at first use. */
static void
test_powercut_row2_offers_pending_first(void **state)
{
	struct ztp_rot r;
	struct srv s;
	struct run run = { STEP_STORED, 0 };
	struct ztp_rot_psk psk;
	int done;

	memset(&s, 0, sizeof(s));
	memcpy(s.factory, factory, sizeof(s.factory));
	ztp_rot_init(&r, uid, factory);
	assert_int_equal(contact(&r, &s, &run, 10, &done), 1);
	power_up(&r);
	assert_status(&r, 0, 0, 0);
	ztp_rot_psk(&r, &psk);
	assert_int_equal(psk.pending, 1);
	assert_string_equal(psk.identity, "M00112233445566778899aabbccddeeff.1");
	assert_int_equal(srv_handshake(&s, psk.epoch, psk.key), HS_OK);
	assert_int_equal(s.epoch, 1);
	assert_int_equal(ztp_rot_handshake_ok(&r, psk.epoch), 1);
	assert_status(&r, 1, 0, 1);
	assert_in_step(&r, &s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_factory_state),
		cmocka_unit_test(test_seal_once),
		cmocka_unit_test(test_seal_refuses_malformed_arguments),
		cmocka_unit_test(test_request_bodies),
		cmocka_unit_test(test_bootstrap_transitions),
		cmocka_unit_test(test_heartbeat_transitions),
		cmocka_unit_test(test_answer_items),
		cmocka_unit_test(test_handshake_with_pending_commits),
		cmocka_unit_test(test_refused_pending_is_dropped),
		cmocka_unit_test(test_race_drops_pending),
		cmocka_unit_test(test_seal_after_bootstrap_is_reported_once),
		cmocka_unit_test(test_min_interval),
		cmocka_unit_test(test_next_contact),
		cmocka_unit_test(test_counters_saturate),
		cmocka_unit_test(test_last_epoch_refuses_request),
		cmocka_unit_test(test_image_layout),
		cmocka_unit_test(test_image_truncated_or_long),
		cmocka_unit_test(test_image_version1_read),
		cmocka_unit_test(test_image_header_and_crc),
		cmocka_unit_test(test_image_contradictions),
		cmocka_unit_test(test_error_never_shows_key_bytes),
		cmocka_unit_test(test_powercut_bootstrap_table),
		cmocka_unit_test(test_powercut_heartbeat_table),
		cmocka_unit_test(test_powercut_row2_offers_pending_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
