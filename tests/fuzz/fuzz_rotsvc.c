/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the root of trust's service parsers (ztp/rotsvc.h) on
 * the platform crypto of a Linux host (ztp_crypto_openssl).
 *
 * Every input is, as it is: a PSK identity (ztp_psk_identity_parse), a key
 * identity (ztp_e2e_ki_parse), an E2E message opened with a fixed S(e)
 * (ztp_e2e_open_with), a downstream message for a fixed bootstrapped
 * module with a pending key (ztp_rot_e2e_open), and a local data file of
 * that module and of one before its bootstrap (ztp_rot_local_open, the
 * file "ciphertextfile"). The seed corpus holds real messages made with
 * the seal functions under this fixed state (build this file with
 * -DFUZZ_ROTSVC_SEEDS and no libFuzzer to write them again).
 *
 * Invariants: only the documented results; a refusal leaves the outputs
 * and the module's state as they were (out is wiped when the MAC fails);
 * what parses encodes to the same bytes; what opens seals again to the
 * very same bytes (same key identity, same nonce); the input also sealed
 * as clear text opens to itself, and with one bit flipped does not.
 */
#include <string.h>

#include "fuzz.h"
#include "modmsg.h"
#include "ztp/crypto_ossl.h"
#include "ztp/err.h"
#include "ztp/rotsvc.h"

#define SID 0x0008002Fu
#define EPOCH 7u
#define DOWN_LAST 5u /* downstream counters up to it count as replayed */
#define FILE_NAME "ciphertextfile"
#define OUT_CAP (ZTP_E2E_DATA_MAX + 64)
#define POISON 0xA5

/* the module: bootstrapped at EPOCH with epoch EPOCH + 1 pending, every feature on */
static struct ztp_rot rot;
/* the same module before its bootstrap: local data as a trial */
static struct ztp_rot fresh;
static uint8_t svc[ZTP_SVC_LEN], pending_svc[ZTP_SVC_LEN];
static const struct ztp_crypto *C;
/* the platform with a random source that gives back nonce_src (to seal again) */
static struct ztp_crypto det;
static const uint8_t *nonce_src;

static int
det_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	FUZZ_CHECK(nonce_src != NULL && len == 12);
	memcpy(buf, nonce_src, len);
	return 0;
}

static void
setup(void)
{
	uint8_t uid[ZTP_ROT_UID_LEN], f[ZTP_ROT_KEY_LEN];

	if (C != NULL)
		return;
	C = ztp_crypto_openssl();
	det = *C;
	det.random = det_random;
	memset(uid, 0x11, sizeof(uid));
	memset(f, 0xF0, sizeof(f));
	FUZZ_CHECK(ztp_rot_init(&rot, uid, f) == 0);
	memcpy(&fresh, &rot, sizeof(rot));
	memset(fresh.local, 0x4C, sizeof(fresh.local));
	memset(rot.factory, 0, sizeof(rot.factory));
	rot.epoch = EPOCH;
	memset(rot.key, 0x77, sizeof(rot.key));
	rot.pending = 1;
	rot.pending_epoch = EPOCH + 1;
	memset(rot.pending_key, 0x88, sizeof(rot.pending_key));
	rot.features = MODMSG_F_ALL;
	rot.status = ZTP_ROT_STATUS_CLAIMED;
	rot.sid = SID;
	memset(rot.local, 0x4C, sizeof(rot.local));
	rot.e2e_next = rot.e2e_mark = 100;
	rot.down_last = DOWN_LAST;
	FUZZ_CHECK(ztp_svc_root(C, rot.key, rot.epoch, svc) == 0);
	FUZZ_CHECK(ztp_svc_root(C, rot.pending_key, rot.pending_epoch, pending_svc) == 0);
}

static int
all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static void
fuzz_psk_identity(const uint8_t *data, size_t size)
{
	uint32_t sid = 0xA5A5A5A5, epoch = 0xA5A5A5A5;
	size_t psk_len = 7;
	uint8_t psk[32];
	int rc, want;

	rc = ztp_psk_identity_parse(data, size, &sid, &epoch, &psk_len);
	want = size == ZTP_PSK_ID_LEN && data[0] == 0x11 && (data[1] == 1 || data[1] == 2) &&
	    (data[2] | data[3] | data[4] | data[5]) != 0 && (data[6] | data[7] | data[8] | data[9]) != 0;
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED && !want);
		FUZZ_CHECK(sid == 0xA5A5A5A5 && epoch == 0xA5A5A5A5 && psk_len == 7);
		return;
	}
	FUZZ_CHECK(want);
	FUZZ_CHECK(psk_len == (data[1] == 1 ? 16u : 32u));
	FUZZ_CHECK(sid != 0 && epoch != 0);
	FUZZ_CHECK(ztp_psk_derive(C, svc, data, psk, psk_len) == 0);
}

/* The key identity at data; its length, or 0 if it is none. */
static size_t
fuzz_ki(const uint8_t *data, size_t size)
{
	struct ztp_e2e_ki k, poison;
	uint8_t enc[ZTP_E2E_KI_LEN];
	size_t n = 0;
	int rc;

	memset(&k, POISON, sizeof(k));
	memcpy(&poison, &k, sizeof(k));
	rc = ztp_e2e_ki_parse(data, size, &k);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED);
		FUZZ_CHECK(memcmp(&k, &poison, sizeof(k)) == 0);
		return 0;
	}
	FUZZ_CHECK(k.len == ZTP_E2E_KI_LEN || k.len == ZTP_E2E_KI_SHORT_LEN);
	FUZZ_CHECK(k.len <= size);
	FUZZ_CHECK((data[0] >> 4) == (k.len == ZTP_E2E_KI_LEN ? 1 : 2));
	FUZZ_CHECK(k.mac_len == ((data[0] & 0x0F) == 1 ? 16u : 8u));
	FUZZ_CHECK(k.dir == ZTP_E2E_UP || (k.dir == ZTP_E2E_DOWN && k.len == ZTP_E2E_KI_LEN));
	FUZZ_CHECK(k.sid != 0 && k.epoch != 0 && k.counter <= ZTP_ROT_E2E_CTR_MAX);
	/* one key identity, one encoding */
	FUZZ_CHECK(ztp_e2e_ki_encode(&k, enc, &n) == 0);
	FUZZ_CHECK(n == k.len && memcmp(enc, data, n) == 0);
	return k.len;
}

/*
 * out after a refusal: untouched (the poison), but for the clear text's
 * wiped[0..n) bytes where the MAC failed (zeros); total bytes looked at.
 */
static void
check_refused_out(int rc, const uint8_t *out, size_t wiped, size_t total)
{
	if (total > OUT_CAP)
		total = OUT_CAP;
	if (wiped > total)
		wiped = total;
	if (rc == ZTP_EAUTH && all_bytes(out, wiped, 0))
		FUZZ_CHECK(all_bytes(out + wiped, total - wiped, POISON));
	else
		FUZZ_CHECK(all_bytes(out, total, POISON));
}

/* The clear text's length of an E2E message data[0..size); 0 if none. */
static size_t
e2e_plain_len(const uint8_t *data, size_t size)
{
	struct ztp_e2e_ki k;

	if (ztp_e2e_ki_parse(data, size, &k) != 0 || size - k.len < k.mac_len)
		return 0;
	return size - k.len - k.mac_len;
}

static void
fuzz_open_with(const uint8_t *data, size_t size, size_t kilen)
{
	static uint8_t out[OUT_CAP], again[OUT_CAP + ZTP_E2E_KI_LEN + 16];
	struct ztp_e2e_ki k;
	size_t n = 7, m = 0;
	int rc;

	memset(out, POISON, sizeof(out));
	rc = ztp_e2e_open_with(C, svc, data, size, out, sizeof(out), &n);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_EAUTH || rc == ZTP_ETOOBIG);
		FUZZ_CHECK(kilen != 0 || rc == ZTP_EMALFORMED);
		FUZZ_CHECK(n == 7);
		check_refused_out(rc, out, e2e_plain_len(data, size), size);
		return;
	}
	FUZZ_CHECK(kilen != 0 && ztp_e2e_ki_parse(data, size, &k) == 0);
	FUZZ_CHECK(n == size - k.len - k.mac_len);
	if (n > ZTP_E2E_DATA_MAX)
		return; /* opens, but seal_with makes no message that long */
	/* the same key identity seals the clear text to the same bytes */
	FUZZ_CHECK(ztp_e2e_seal_with(C, svc, &k, out, n, again, sizeof(again), &m) == 0);
	FUZZ_CHECK(m == size && memcmp(again, data, size) == 0);
}

static void
fuzz_rot_e2e_open(const uint8_t *data, size_t size, size_t kilen)
{
	static struct ztp_rot r;
	static uint8_t out[OUT_CAP], again[OUT_CAP + ZTP_E2E_KI_LEN + 16];
	struct ztp_e2e_ki k;
	size_t n = 7, m = 0;
	int rc;

	memcpy(&r, &rot, sizeof(r));
	memset(out, POISON, sizeof(out));
	rc = ztp_rot_e2e_open(&r, C, data, size, out, sizeof(out), &n);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ENOENT || rc == ZTP_EEXIST ||
		    rc == ZTP_EAUTH || rc == ZTP_ETOOBIG);
		FUZZ_CHECK(kilen != 0 || rc == ZTP_EMALFORMED);
		FUZZ_CHECK(n == 7);
		FUZZ_CHECK(memcmp(&r, &rot, sizeof(r)) == 0);
		check_refused_out(rc, out, e2e_plain_len(data, size), size);
		return;
	}
	FUZZ_CHECK(kilen == ZTP_E2E_KI_LEN && ztp_e2e_ki_parse(data, size, &k) == 0);
	FUZZ_CHECK(k.dir == ZTP_E2E_DOWN && k.sid == SID);
	FUZZ_CHECK(k.epoch == EPOCH || k.epoch == EPOCH + 1);
	FUZZ_CHECK(k.counter > DOWN_LAST && r.down_last == k.counter);
	FUZZ_CHECK(n == size - k.len - k.mac_len);
	/* nothing else moved */
	r.down_last = rot.down_last;
	FUZZ_CHECK(memcmp(&r, &rot, sizeof(r)) == 0);
	/* the server's side sealed it, under S(e) of that epoch */
	if (n <= ZTP_E2E_DATA_MAX) {
		FUZZ_CHECK(ztp_e2e_seal_with(C, k.epoch == EPOCH ? svc : pending_svc, &k, out, n,
			       again, sizeof(again), &m) == 0);
		FUZZ_CHECK(m == size && memcmp(again, data, size) == 0);
	}
}

static void
fuzz_local_open(const struct ztp_rot *mod, const uint8_t *data, size_t size)
{
	static struct ztp_rot r;
	static uint8_t out[OUT_CAP], again[OUT_CAP + ZTP_LOCAL_OVERHEAD];
	size_t n = 7, m = 0;
	int rc;

	memcpy(&r, mod, sizeof(r));
	memset(out, POISON, sizeof(out));
	rc = ztp_rot_local_open(&r, C, FILE_NAME, strlen(FILE_NAME), data, size, out, sizeof(out),
	    &n);
	/* before the bootstrap an operation counts as a trial, whatever its outcome */
	if (!ztp_rot_bootstrapped(mod) && r.local_trial == mod->local_trial + 1)
		r.local_trial--;
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_EAUTH || rc == ZTP_ETOOBIG);
		FUZZ_CHECK(n == 7);
		FUZZ_CHECK(memcmp(&r, mod, sizeof(r)) == 0);
		check_refused_out(rc, out, size >= ZTP_LOCAL_OVERHEAD ? size - ZTP_LOCAL_OVERHEAD : 0,
		    size);
		return;
	}
	FUZZ_CHECK(size >= ZTP_LOCAL_OVERHEAD && n == size - ZTP_LOCAL_OVERHEAD);
	FUZZ_CHECK(data[0] == 'Z' && data[1] == 'L' && data[2] == 1);
	FUZZ_CHECK(memcmp(&r, mod, sizeof(r)) == 0);
	/* sealed again with the file's nonce: the very same file */
	memcpy(&r, mod, sizeof(r));
	nonce_src = data + 3;
	FUZZ_CHECK(ztp_rot_local_seal(&r, &det, FILE_NAME, strlen(FILE_NAME), out, n, again,
		       sizeof(again), &m) == 0);
	nonce_src = NULL;
	FUZZ_CHECK(m == size && memcmp(again, data, size) == 0);
}

/* The input as clear text: sealed upstream (flags from its length), it opens to itself. */
static void
fuzz_round_trip(const uint8_t *data, size_t size)
{
	static struct ztp_rot r;
	static uint8_t msg[OUT_CAP], back[OUT_CAP];
	unsigned flags = (unsigned)(size & 3);
	size_t n = 0, m = 0, bit;
	int store = 7;

	if (size > ZTP_E2E_DATA_MAX)
		return;
	memcpy(&r, &rot, sizeof(r));
	FUZZ_CHECK(ztp_rot_e2e_seal(&r, C, flags, data, size, msg, sizeof(msg), &n, &store) == 0);
	FUZZ_CHECK(store == 0 || store == 1);
	FUZZ_CHECK(r.e2e_next == rot.e2e_next + 1 && r.e2e_mark > rot.e2e_next);
	FUZZ_CHECK(n == size + (flags & ZTP_E2E_SHORT ? ZTP_E2E_KI_SHORT_LEN : ZTP_E2E_KI_LEN) +
	    (flags & ZTP_E2E_MAC8 ? 8 : 16));
	FUZZ_CHECK(ztp_e2e_open_with(C, svc, msg, n, back, sizeof(back), &m) == 0);
	FUZZ_CHECK(m == size && memcmp(back, data, size) == 0);
	/* the pending key's S(e) is another key: it does not open */
	FUZZ_CHECK(ztp_e2e_open_with(C, pending_svc, msg, n, back, sizeof(back), &m) != 0);
	/* an upstream message is not for the module */
	FUZZ_CHECK(ztp_rot_e2e_open(&r, C, msg, n, back, sizeof(back), &m) == ZTP_EMALFORMED);
	/* one bit flipped, chosen by the input */
	bit = size > 0 ? ((size_t)data[0] << 8 | data[size - 1]) % (8 * n) : 0;
	msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	FUZZ_CHECK(ztp_e2e_open_with(C, svc, msg, n, back, sizeof(back), &m) != 0);
	/* a message one byte short is no message */
	msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	FUZZ_CHECK(ztp_e2e_open_with(C, svc, msg, n - 1, back, sizeof(back), &m) != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t kilen;

	setup();
	fuzz_psk_identity(data, size);
	kilen = fuzz_ki(data, size);
	fuzz_open_with(data, size, kilen);
	fuzz_rot_e2e_open(data, size, kilen);
	fuzz_local_open(&rot, data, size);
	fuzz_local_open(&fresh, data, size);
	fuzz_round_trip(data, size);
	return 0;
}

#ifdef FUZZ_ROTSVC_SEEDS
/*
 * The seed corpus under the fixed state above:
 *   cc -DFUZZ_ROTSVC_SEEDS -Iinclude -Isrc/common tests/fuzz/fuzz_rotsvc.c build/libztp_device.a \
 *      build/libztp_common.a build/libztp_portable.a -lcrypto -lpthread -o /tmp/seeds
 *   /tmp/seeds tests/fuzz/corpus/fuzz_rotsvc
 */
#include <stdio.h>

static const char *dir;

static void
put(const char *name, const uint8_t *b, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	FUZZ_CHECK(f != NULL && fwrite(b, 1, n, f) == n && fclose(f) == 0);
	LLVMFuzzerTestOneInput(b, n); /* each seed passes the checks */
}

/* a downstream message, and what the module says to it */
static void
down(const char *name, uint32_t epoch, uint64_t counter, size_t mac, const char *text, int want)
{
	struct ztp_e2e_ki k = { ZTP_E2E_KI_LEN, mac, ZTP_E2E_DOWN, SID, epoch, counter };
	uint8_t b[256], back[256];
	struct ztp_rot r;
	size_t n, m;

	FUZZ_CHECK(ztp_e2e_seal_with(C, epoch == EPOCH ? svc : pending_svc, &k,
		       (const uint8_t *)text, strlen(text), b, sizeof(b), &n) == 0);
	memcpy(&r, &rot, sizeof(r));
	FUZZ_CHECK(ztp_rot_e2e_open(&r, C, b, n, back, sizeof(back), &m) == want);
	put(name, b, n);
}

/* an upstream message that S(e) opens */
static void
up(const char *name, const uint8_t *b, size_t n)
{
	static uint8_t back[ZTP_E2E_DATA_MAX];
	size_t m;

	FUZZ_CHECK(ztp_e2e_open_with(C, svc, b, n, back, sizeof(back), &m) == 0);
	put(name, b, n);
}

/* a local data file that the module opens */
static void
local(const char *name, const struct ztp_rot *mod, const uint8_t *b, size_t n)
{
	uint8_t back[64];
	struct ztp_rot r;
	size_t m;

	memcpy(&r, mod, sizeof(r));
	FUZZ_CHECK(ztp_rot_local_open(&r, C, FILE_NAME, strlen(FILE_NAME), b, n, back,
		       sizeof(back), &m) == 0);
	put(name, b, n);
}

int
main(int argc, char **argv)
{
	static uint8_t in[ZTP_E2E_DATA_MAX], b[ZTP_E2E_DATA_MAX + 64];
	struct ztp_rot r;
	uint8_t id[ZTP_PSK_ID_LEN], psk[32], nonce[12];
	size_t n, i;
	int store;

	if (argc != 2)
		return 2;
	dir = argv[1];
	setup();
	memcpy(&r, &rot, sizeof(r));
	/* PSK identities, as AT+USECPSK gives them */
	FUZZ_CHECK(ztp_rot_psk_new(&r, C, 16, id, psk) == 0);
	put("psk_id16", id, sizeof(id));
	FUZZ_CHECK(ztp_rot_psk_new(&r, C, 32, id, psk) == 0);
	put("psk_id32", id, sizeof(id));
	/* upstream: the document's "HELLO", 37 bytes; CCM_8, the short key identity */
	FUZZ_CHECK(ztp_rot_e2e_seal(&r, C, 0, (const uint8_t *)"HELLO", 5, b, sizeof(b), &n,
		       &store) == 0 && n == 37);
	up("up_hello37", b, n);
	FUZZ_CHECK(ztp_rot_e2e_seal(&r, C, ZTP_E2E_MAC8, (const uint8_t *)"HELLO", 5, b, sizeof(b),
		       &n, &store) == 0);
	up("up_hello_mac8", b, n);
	FUZZ_CHECK(ztp_rot_e2e_seal(&r, C, ZTP_E2E_SHORT | ZTP_E2E_MAC8, (const uint8_t *)"HELLO",
		       5, b, sizeof(b), &n, &store) == 0 && n == 24);
	up("up_hello_short_mac8", b, n);
	FUZZ_CHECK(ztp_rot_e2e_seal(&r, C, ZTP_E2E_SHORT, NULL, 0, b, sizeof(b), &n, &store) == 0);
	up("up_empty_short", b, n);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	FUZZ_CHECK(ztp_rot_e2e_seal(&r, C, 0, in, 1000, b, sizeof(b), &n, &store) == 0);
	up("up_1000", b, n);
	/* downstream, for the module: current and pending epoch, replayed, another epoch */
	down("down_reboot", EPOCH, DOWN_LAST + 1, 16, "reboot", 0);
	down("down_pending_mac8", EPOCH + 1, 0x123456789ABull, 8, "update firmware", 0);
	down("down_replayed", EPOCH, DOWN_LAST, 16, "again", ZTP_EEXIST);
	down("down_old_epoch", EPOCH - 1, 99, 16, "gone", ZTP_ENOENT);
	/* local data files; the one before the bootstrap is a trial's */
	for (i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(0xC0 + i);
	memcpy(&r, &rot, sizeof(r));
	nonce_src = nonce; /* each seal: put() clears it */
	FUZZ_CHECK(ztp_rot_local_seal(&r, &det, FILE_NAME, strlen(FILE_NAME),
		       (const uint8_t *)"datatoencrypt", 13, b, sizeof(b), &n) == 0);
	local("local_datatoencrypt", &rot, b, n);
	nonce_src = nonce;
	FUZZ_CHECK(ztp_rot_local_seal(&r, &det, FILE_NAME, strlen(FILE_NAME), NULL, 0, b,
		       sizeof(b), &n) == 0);
	local("local_empty", &rot, b, n);
	memcpy(&r, &fresh, sizeof(r));
	nonce_src = nonce;
	FUZZ_CHECK(ztp_rot_local_seal(&r, &det, FILE_NAME, strlen(FILE_NAME),
		       (const uint8_t *)"trial", 5, b, sizeof(b), &n) == 0);
	local("local_trial", &fresh, b, n);
	return 0;
}
#endif
