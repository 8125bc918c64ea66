/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module's NVM image (src/device/rot.c, ztp_rot_load). Invariants:
 * what loads saves to the very same bytes (one state, one image; a
 * version 1 image, still read, saves as version 2 of the same state), a
 * refusal leaves the struct wiped with a reason, and the root of trust's
 * functions keep their rules on any state that loads (the pending key is
 * the next epoch, a commit moves the epoch by one, a refused pending key
 * goes back to the state before it, every result saves and loads again).
 * Each input is tried as it is and, when it has an image's length, with
 * its CRC made right, so that the checks behind the CRC are reached.
 */
#include <string.h>

#include "fuzz.h"
#include "ztp/err.h"
#include "ztp/rot.h"

#define ROT_V1_LEN 283 /* a version 1 image (still read) */

static uint32_t
crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	int k;

	while (n-- > 0) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
	}
	return ~c;
}

/* r saves, and what it saved loads back to r. */
static void
check_roundtrip(const struct ztp_rot *r)
{
	uint8_t img[ZTP_ROT_STATE_LEN];
	struct ztp_rot back;
	char err[200];
	size_t len = 0;

	FUZZ_CHECK(ztp_rot_save(r, img, sizeof(img), &len) == 0 && len == ZTP_ROT_STATE_LEN);
	FUZZ_CHECK(ztp_rot_load(&back, img, len, err, sizeof(err)) == 0);
	FUZZ_CHECK(memcmp(&back, r, sizeof(back)) == 0);
	ztp_rot_wipe(&back);
}

static void
check(const uint8_t *data, size_t size)
{
	static const struct ztp_rot zero;
	uint8_t img[ZTP_ROT_STATE_LEN], body[16];
	struct ztp_rot r, back;
	struct ztp_rot_psk psk;
	struct ztp_rot_req req;
	char err[200];
	size_t len = 0;
	uint32_t wait, epoch;
	int a, b, c;

	err[0] = '\0';
	if (ztp_rot_load(&r, data, size, err, sizeof(err)) != 0) {
		FUZZ_CHECK(memcmp(&r, &zero, sizeof(r)) == 0);
		FUZZ_CHECK(strlen(err) > 0);
		return;
	}
	FUZZ_CHECK(size == ZTP_ROT_STATE_LEN || size == ROT_V1_LEN);
	FUZZ_CHECK(ztp_rot_save(&r, img, sizeof(img), &len) == 0 && len == ZTP_ROT_STATE_LEN);
	if (size == ZTP_ROT_STATE_LEN)
		FUZZ_CHECK(memcmp(img, data, size) == 0);
	else
		check_roundtrip(&r); /* version 1 saves as version 2: the same state */

	ztp_rot_status(&r, &a, &b, &c);
	FUZZ_CHECK(a == c && (b == 0 || a == 1));
	ztp_rot_psk(&r, &psk);
	FUZZ_CHECK(psk.identity_len >= 33 && psk.identity[0] == 'M');
	FUZZ_CHECK(psk.pending == r.pending);
	FUZZ_CHECK(!r.pending || psk.epoch == r.epoch + 1);
	(void)ztp_rot_heartbeat_allowed(&r, (int64_t)((uint64_t)r.last_hb + r.hb_min / 2), &wait);
	(void)ztp_rot_next_contact(&r, r.last_contact);
	if (ztp_rot_request(&r, "fw", &req) == 0)
		FUZZ_CHECK(!r.pending && req.len > 0 && req.len <= sizeof(req.body));

	memcpy(&back, &r, sizeof(r));
	epoch = r.epoch;
	if (ztp_rot_confirm(&r, body, sizeof(body), &len) == 0) {
		/* confirmed: committed */
		FUZZ_CHECK(ztp_rot_commit(&r) == 0);
		FUZZ_CHECK(r.epoch == epoch + 1 && !r.pending);
		check_roundtrip(&r);
		/* or refused: the state without the pending key */
		FUZZ_CHECK(ztp_rot_key_refused(&back, back.pending_epoch) == 1);
		FUZZ_CHECK(back.epoch == epoch && !back.pending);
		check_roundtrip(&back);
	} else {
		FUZZ_CHECK(!r.pending && ztp_rot_commit(&r) == ZTP_ECONFLICT);
	}
	ztp_rot_wipe(&r);
	ztp_rot_wipe(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t fixed[ZTP_ROT_STATE_LEN];
	uint32_t crc;

	check(data, size);
	if (size == ZTP_ROT_STATE_LEN || size == ROT_V1_LEN) {
		memcpy(fixed, data, size);
		crc = crc32_ieee(fixed, size - 4);
		fixed[size - 4] = (uint8_t)(crc >> 24);
		fixed[size - 3] = (uint8_t)(crc >> 16);
		fixed[size - 2] = (uint8_t)(crc >> 8);
		fixed[size - 1] = (uint8_t)crc;
		check(fixed, size);
	}
	return 0;
}
