/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The root of trust's services (ztp/rotsvc.h): the PSK a server derives
 * from the identity alone, E2E messages both ways ("HELLO" is 37 bytes),
 * tampering, another device's keys, the ratchet, replay, local data, and
 * no key identity used twice across power cuts at every write of the
 * state (100,000 encryptions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modmsg.h"
#include "ztp/crypto_ossl.h"
#include "ztp/err.h"
#include "ztp/rotsvc.h"

static const struct ztp_crypto *C;

/* a module bootstrapped at epoch, claimed, service id sid, every feature on */
static void
module_at(struct ztp_rot *r, uint8_t tag, uint32_t epoch, uint32_t sid)
{
	uint8_t uid[ZTP_ROT_UID_LEN], f[ZTP_ROT_KEY_LEN];

	memset(uid, tag, sizeof(uid));
	memset(f, 0xF0, sizeof(f));
	assert_int_equal(ztp_rot_init(r, uid, f), 0);
	memset(r->factory, 0, sizeof(r->factory));
	r->epoch = epoch;
	memset(r->key, tag ^ (uint8_t)epoch, sizeof(r->key));
	r->features = MODMSG_F_ALL;
	r->status = ZTP_ROT_STATUS_CLAIMED;
	r->sid = sid;
	assert_int_equal(ztp_rot_local_setup(r, C), 1);
}

/* what the server keeps: S(e) of the module's current epoch */
static void
svc_of(const struct ztp_rot *r, uint8_t svc[ZTP_SVC_LEN])
{
	assert_int_equal(ztp_svc_root(C, r->key, r->epoch, svc), 0);
}

static void
test_psk_server_derives_from_identity(void **state)
{
	struct ztp_rot r;
	uint8_t id[ZTP_PSK_ID_LEN], id2[ZTP_PSK_ID_LEN], psk[32], psk2[32], svc[ZTP_SVC_LEN];
	uint32_t sid, epoch;
	size_t len;

	(void)state;
	module_at(&r, 0x11, 3, 0x0008002F);
	assert_int_equal(ztp_rot_psk_new(&r, C, 16, id, psk), 0);
	assert_int_equal(id[0], 0x11);
	assert_int_equal(id[1], 0x01);
	assert_int_equal(ztp_psk_identity_parse(id, sizeof(id), &sid, &epoch, &len), 0);
	assert_int_equal(sid, 0x0008002F);
	assert_int_equal(epoch, 3);
	assert_int_equal(len, 16);
	svc_of(&r, svc);
	assert_int_equal(ztp_psk_derive(C, svc, id, psk2, len), 0);
	assert_memory_equal(psk, psk2, 16);
	/* fresh: another call, another identity and key */
	assert_int_equal(ztp_rot_psk_new(&r, C, 32, id2, psk2), 0);
	assert_int_equal(id2[1], 0x02);
	assert_memory_not_equal(id, id2, sizeof(id));
	/* refusals */
	assert_int_equal(ztp_rot_psk_new(&r, C, 24, id, psk), ZTP_EINVAL);
	r.features &= ~MODMSG_F_PSK;
	assert_int_equal(ztp_rot_psk_new(&r, C, 16, id, psk), ZTP_EAUTH);
	r.features |= MODMSG_F_PSK;
	r.sid = 0;
	assert_int_equal(ztp_rot_psk_new(&r, C, 16, id, psk), ZTP_ECONFLICT);
	id[0] = 0x12;
	assert_int_equal(ztp_psk_identity_parse(id, sizeof(id), &sid, &epoch, &len), ZTP_EMALFORMED);
	assert_int_equal(ztp_psk_identity_parse(id2, 13, &sid, &epoch, &len), ZTP_EMALFORMED);
}

/* the document's example: "HELLO" sealed is 37 bytes, first nibble 0x1, and back */
static void
test_e2e_hello_is_37_bytes(void **state)
{
	struct ztp_rot r;
	uint8_t out[64], back[8], svc[ZTP_SVC_LEN];
	size_t n = 0, m = 0;
	int store;

	(void)state;
	module_at(&r, 0x22, 1, 5);
	assert_int_equal(ztp_rot_e2e_seal(&r, C, 0, (const uint8_t *)"HELLO", 5, out, sizeof(out), &n,
			     &store),
	    0);
	assert_int_equal(n, 37);
	assert_int_equal(out[0] >> 4, 1);
	assert_int_equal(store, 1); /* the first counter needs a reservation stored */
	svc_of(&r, svc);
	assert_int_equal(ztp_e2e_open_with(C, svc, out, n, back, sizeof(back), &m), 0);
	assert_int_equal(m, 5);
	assert_memory_equal(back, "HELLO", 5);
	/* CCM_8 and the short key identity: 11 + 5 + 8 */
	assert_int_equal(ztp_rot_e2e_seal(&r, C, ZTP_E2E_MAC8 | ZTP_E2E_SHORT,
			     (const uint8_t *)"HELLO", 5, out, sizeof(out), &n, &store),
	    0);
	assert_int_equal(n, 24);
	assert_int_equal(out[0], 0x22);
	assert_int_equal(store, 0);
	assert_int_equal(ztp_e2e_open_with(C, svc, out, n, back, sizeof(back), &m), 0);
	assert_memory_equal(back, "HELLO", 5);
}

static void
test_e2e_every_length_and_every_bit(void **state)
{
	static uint8_t in[1025], out[1025 + 32], back[1025];
	struct ztp_rot r, other;
	uint8_t svc[ZTP_SVC_LEN], osvc[ZTP_SVC_LEN];
	size_t len, n, m, bit;
	int store;

	(void)state;
	module_at(&r, 0x33, 4, 9);
	module_at(&other, 0x34, 4, 10);
	svc_of(&r, svc);
	svc_of(&other, osvc);
	for (len = 0; len <= 1024; len++) {
		for (n = 0; n < len; n++)
			in[n] = (uint8_t)(n * 7 + len);
		assert_int_equal(ztp_rot_e2e_seal(&r, C, len % 3 == 0 ? ZTP_E2E_MAC8 : 0, in, len, out,
				     sizeof(out), &n, &store),
		    0);
		assert_int_equal(ztp_e2e_open_with(C, svc, out, n, back, sizeof(back), &m), 0);
		assert_int_equal(m, len);
		assert_memory_equal(back, in, len);
		/* one device's parameters never open another's data */
		assert_int_equal(ztp_e2e_open_with(C, osvc, out, n, back, sizeof(back), &m), ZTP_EAUTH);
		if (len != 0 && len != 5 && len != 1024)
			continue;
		/* a flipped bit anywhere is refused (key identity, ciphertext, MAC) */
		for (bit = 0; bit < 8 * n; bit++) {
			out[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_int_not_equal(ztp_e2e_open_with(C, svc, out, n, back, sizeof(back), &m),
			    0);
			out[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		/* truncated */
		assert_int_not_equal(ztp_e2e_open_with(C, svc, out, n - 1, back, sizeof(back), &m), 0);
	}
}

/* the heartbeat ratchet moves the keys; the server's S(e) of old epochs still opens old data */
static void
test_e2e_ratchet_old_data_stays_open(void **state)
{
	struct ztp_rot r;
	uint8_t out[64], back[8], svc1[ZTP_SVC_LEN], svc2[ZTP_SVC_LEN], out2[64];
	size_t n, n2, m;
	int store;

	(void)state;
	module_at(&r, 0x44, 1, 12);
	svc_of(&r, svc1);
	assert_int_equal(ztp_rot_e2e_seal(&r, C, 0, (const uint8_t *)"old", 3, out, sizeof(out), &n,
			     &store),
	    0);
	/* a heartbeat committed epoch 2 with a new key */
	r.epoch = 2;
	memset(r.key, 0x99, sizeof(r.key));
	svc_of(&r, svc2);
	assert_int_equal(ztp_rot_e2e_seal(&r, C, 0, (const uint8_t *)"new", 3, out2, sizeof(out2),
			     &n2, &store),
	    0);
	assert_int_equal(ztp_e2e_open_with(C, svc1, out, n, back, sizeof(back), &m), 0);
	assert_memory_equal(back, "old", 3);
	assert_int_equal(ztp_e2e_open_with(C, svc2, out2, n2, back, sizeof(back), &m), 0);
	assert_memory_equal(back, "new", 3);
	assert_int_equal(ztp_e2e_open_with(C, svc2, out, n, back, sizeof(back), &m), ZTP_EAUTH);
}

/* downstream: the server seals, the module opens once; replay and other modules refused */
static void
test_e2e_downstream_and_replay(void **state)
{
	struct ztp_rot r;
	struct ztp_e2e_ki k = { ZTP_E2E_KI_LEN, 16, ZTP_E2E_DOWN, 21, 6, 1 };
	uint8_t svc[ZTP_SVC_LEN], msg[64], msg2[64], back[16];
	size_t n, n2, m;

	(void)state;
	module_at(&r, 0x55, 6, 21);
	svc_of(&r, svc);
	assert_int_equal(ztp_e2e_seal_with(C, svc, &k, (const uint8_t *)"reboot", 6, msg, sizeof(msg),
			     &n),
	    0);
	k.counter = 2;
	assert_int_equal(ztp_e2e_seal_with(C, svc, &k, (const uint8_t *)"update", 6, msg2,
			     sizeof(msg2), &n2),
	    0);
	assert_int_equal(ztp_rot_e2e_open(&r, C, msg, n, back, sizeof(back), &m), 0);
	assert_memory_equal(back, "reboot", 6);
	assert_int_equal(r.down_last, 1);
	assert_int_equal(ztp_rot_e2e_open(&r, C, msg, n, back, sizeof(back), &m), ZTP_EEXIST);
	assert_int_equal(ztp_rot_e2e_open(&r, C, msg2, n2, back, sizeof(back), &m), 0);
	assert_int_equal(ztp_rot_e2e_open(&r, C, msg, n, back, sizeof(back), &m), ZTP_EEXIST);
	/* an upstream message is not a downstream one; another sid is not this module */
	k.dir = ZTP_E2E_UP;
	k.counter = 3;
	assert_int_equal(ztp_e2e_seal_with(C, svc, &k, (const uint8_t *)"x", 1, msg, sizeof(msg), &n),
	    0);
	assert_int_equal(ztp_rot_e2e_open(&r, C, msg, n, back, sizeof(back), &m), ZTP_EMALFORMED);
	k.dir = ZTP_E2E_DOWN;
	k.sid = 22;
	assert_int_equal(ztp_e2e_seal_with(C, svc, &k, (const uint8_t *)"x", 1, msg, sizeof(msg), &n),
	    0);
	assert_int_equal(ztp_rot_e2e_open(&r, C, msg, n, back, sizeof(back), &m), ZTP_EMALFORMED);
	/* an epoch the module no longer holds */
	k.sid = 21;
	k.epoch = 5;
	assert_int_equal(ztp_e2e_seal_with(C, svc, &k, (const uint8_t *)"x", 1, msg, sizeof(msg), &n),
	    0);
	assert_int_equal(ztp_rot_e2e_open(&r, C, msg, n, back, sizeof(back), &m), ZTP_ENOENT);
	r.features &= ~MODMSG_F_E2E;
	assert_int_equal(ztp_rot_e2e_open(&r, C, msg2, n2, back, sizeof(back), &m), ZTP_EAUTH);
}

/* ---- no key identity twice across power cuts ---- */

struct seen {
	uint64_t *ctr;
	size_t n, cap;
};

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * 100,000 encryptions given out. Each write of the state (a reservation)
 * is cut: alternately before the write (the state on "disk" stays the old
 * one) and after it; either way the output of that call is lost (it was
 * not given out before the state was stored) and the module restarts from
 * what is on disk.
 */
static void
test_e2e_no_repeat_across_power_cuts(void **state)
{
	struct ztp_rot r;
	uint8_t disk[ZTP_ROT_STATE_LEN], img[ZTP_ROT_STATE_LEN], out[64];
	struct seen s = { NULL, 0, 100000 };
	struct ztp_e2e_ki k;
	size_t len, n, i, writes = 0, cuts = 0;
	char err[128];
	int store;

	(void)state;
	s.ctr = calloc(s.cap, sizeof(*s.ctr));
	assert_non_null(s.ctr);
	module_at(&r, 0x66, 2, 33);
	assert_int_equal(ztp_rot_save(&r, disk, sizeof(disk), &len), 0);
	while (s.n < s.cap) {
		assert_int_equal(ztp_rot_e2e_seal(&r, C, 0, (const uint8_t *)"m", 1, out, sizeof(out),
				     &n, &store),
		    0);
		if (store) {
			writes++;
			if (writes % 2 == 0) {
				/* the write happened, then the power went */
				assert_int_equal(ztp_rot_save(&r, img, sizeof(img), &len), 0);
				memcpy(disk, img, len);
			}
			cuts++;
			assert_int_equal(ztp_rot_load(&r, disk, sizeof(disk), err, sizeof(err)), 0);
			/* after the restart the same call runs again: its output is the one given out */
			assert_int_equal(ztp_rot_e2e_seal(&r, C, 0, (const uint8_t *)"m", 1, out,
					     sizeof(out), &n, &store),
			    0);
			if (store) {
				assert_int_equal(ztp_rot_save(&r, img, sizeof(img), &len), 0);
				memcpy(disk, img, len);
			}
		}
		assert_int_equal(ztp_e2e_ki_parse(out, n, &k), 0);
		s.ctr[s.n++] = k.counter;
	}
	qsort(s.ctr, s.n, sizeof(*s.ctr), cmp_u64);
	for (i = 1; i < s.n; i++)
		if (s.ctr[i] == s.ctr[i - 1])
			fail_msg("key identity counter %llu given out twice",
			    (unsigned long long)s.ctr[i]);
	print_message("%zu encryptions, %zu writes of the state, %zu cuts, no repeat\n", s.n,
	    writes, cuts);
	assert_true(cuts > 1000);
	free(s.ctr);
}

/* ---- local data ---- */

static void
test_local_data(void **state)
{
	struct ztp_rot r, other, clone;
	uint8_t file[64], back[32], copy[64];
	size_t n, m, bit;

	(void)state;
	module_at(&r, 0x77, 1, 40);
	module_at(&other, 0x78, 1, 41);
	clone = r;
	assert_int_equal(ztp_rot_local_seal(&r, C, "ciphertextfile", 14,
			     (const uint8_t *)"datatoencrypt", 13, file, sizeof(file), &n),
	    0);
	assert_int_equal(n, 13 + ZTP_LOCAL_OVERHEAD);
	assert_int_equal(ztp_rot_local_open(&r, C, "ciphertextfile", 14, file, n, back, sizeof(back),
			     &m),
	    0);
	assert_int_equal(m, 13);
	assert_memory_equal(back, "datatoencrypt", 13);
	/* a byte-for-byte clone of the whole module opens it; another module does not */
	assert_int_equal(ztp_rot_local_open(&clone, C, "ciphertextfile", 14, file, n, back,
			     sizeof(back), &m),
	    0);
	assert_int_equal(ztp_rot_local_open(&other, C, "ciphertextfile", 14, file, n, back,
			     sizeof(back), &m),
	    ZTP_EAUTH);
	/* renamed */
	assert_int_equal(ztp_rot_local_open(&r, C, "othername", 9, file, n, back, sizeof(back), &m),
	    ZTP_EAUTH);
	/* tampered anywhere, truncated anywhere */
	for (bit = 0; bit < 8 * n; bit++) {
		memcpy(copy, file, n);
		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(ztp_rot_local_open(&r, C, "ciphertextfile", 14, copy, n, back,
					 sizeof(back), &m),
		    0);
	}
	for (m = 0; m < n; m++)
		assert_int_not_equal(ztp_rot_local_open(&r, C, "ciphertextfile", 14, file, m, back,
					 sizeof(back), &m),
		    0);
	/* the feature off after the bootstrap */
	r.features &= ~MODMSG_F_LOCAL_DATA;
	assert_int_equal(ztp_rot_local_open(&r, C, "ciphertextfile", 14, file, n, back, sizeof(back),
			     &m),
	    ZTP_EAUTH);
}

/* before the bootstrap: a trial of ZTP_LOCAL_TRIAL_MAX operations */
static void
test_local_trial_before_bootstrap(void **state)
{
	struct ztp_rot r;
	uint8_t uid[ZTP_ROT_UID_LEN] = { 1 }, f[ZTP_ROT_KEY_LEN] = { 2 }, file[64];
	size_t n, i;

	(void)state;
	ztp_rot_init(&r, uid, f);
	assert_int_equal(ztp_rot_local_seal(&r, C, "f", 1, (const uint8_t *)"x", 1, file,
			     sizeof(file), &n),
	    ZTP_ECONFLICT); /* no secret yet */
	assert_int_equal(ztp_rot_local_setup(&r, C), 1);
	assert_int_equal(ztp_rot_local_setup(&r, C), 0);
	for (i = 0; i < ZTP_LOCAL_TRIAL_MAX; i++)
		assert_int_equal(ztp_rot_local_seal(&r, C, "f", 1, (const uint8_t *)"x", 1, file,
				     sizeof(file), &n),
		    0);
	assert_int_equal(ztp_rot_local_seal(&r, C, "f", 1, (const uint8_t *)"x", 1, file,
			     sizeof(file), &n),
	    ZTP_EAUTH);
}

static void
test_ki_codec_edges(void **state)
{
	struct ztp_e2e_ki k = { ZTP_E2E_KI_SHORT_LEN, 16, ZTP_E2E_UP, 1, 0x10000, 1 }, back;
	uint8_t b[16];
	size_t n;

	(void)state;
	assert_int_equal(ztp_e2e_ki_encode(&k, b, &n), ZTP_ERANGE); /* epoch over 16 bits */
	k.epoch = 0xFFFF;
	k.counter = 0x100000000ull;
	assert_int_equal(ztp_e2e_ki_encode(&k, b, &n), ZTP_ERANGE);
	k.counter = 0xFFFFFFFFu;
	assert_int_equal(ztp_e2e_ki_encode(&k, b, &n), 0);
	assert_int_equal(ztp_e2e_ki_parse(b, n, &back), 0);
	assert_int_equal(back.counter, 0xFFFFFFFFu);
	assert_int_equal(back.epoch, 0xFFFF);
	assert_int_equal(ztp_e2e_ki_parse(b, n - 1, &back), ZTP_EMALFORMED);
	b[0] = 0x31;
	assert_int_equal(ztp_e2e_ki_parse(b, n, &back), ZTP_EMALFORMED);
	b[0] = 0x13;
	assert_int_equal(ztp_e2e_ki_parse(b, 16, &back), ZTP_EMALFORMED);
	k.len = ZTP_E2E_KI_LEN;
	k.counter = ZTP_ROT_E2E_CTR_MAX + 1;
	assert_int_equal(ztp_e2e_ki_encode(&k, b, &n), ZTP_ERANGE);
	k.counter = ZTP_ROT_E2E_CTR_MAX;
	k.dir = ZTP_E2E_DOWN;
	assert_int_equal(ztp_e2e_ki_encode(&k, b, &n), 0);
	assert_int_equal(ztp_e2e_ki_parse(b, n, &back), 0);
	assert_int_equal(back.counter, ZTP_ROT_E2E_CTR_MAX);
	assert_int_equal(back.dir, ZTP_E2E_DOWN);
	b[1] = 3;
	assert_int_equal(ztp_e2e_ki_parse(b, n, &back), ZTP_EMALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psk_server_derives_from_identity),
		cmocka_unit_test(test_e2e_hello_is_37_bytes),
		cmocka_unit_test(test_e2e_every_length_and_every_bit),
		cmocka_unit_test(test_e2e_ratchet_old_data_stays_open),
		cmocka_unit_test(test_e2e_downstream_and_replay),
		cmocka_unit_test(test_e2e_no_repeat_across_power_cuts),
		cmocka_unit_test(test_local_data),
		cmocka_unit_test(test_local_trial_before_bootstrap),
		cmocka_unit_test(test_ki_codec_edges),
	};

	C = ztp_crypto_openssl();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
