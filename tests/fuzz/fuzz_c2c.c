/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the chip-to-chip streaming decoder (ztp/c2c.h).
 *
 * The first byte picks the version (bit 0) and how the rest is cut into
 * pushes (bits 1..3: 1, 2, 3, ... 8 bytes, 0 all at once); the rest is the
 * byte stream, decoded under fixed keys (those of the seed corpus: key
 * 00..0f, HMAC key 10..1f, TE secret 20..2f). Every push must end (0 only
 * when all was taken), never hold more than its buffer, give at most 255
 * bytes a frame, and say why it rejected a frame. The stream is then
 * encoded as a message and must decode to itself.
 */
#include <string.h>

#include "fuzz.h"
#include "ztp/c2c.h"
#include "ztp/crypto_ossl.h"
#include "ztp/err.h"

static void
keys(struct ztp_c2c_keys *k, int version)
{
	int i;

	k->version = version;
	for (i = 0; i < 16; i++) {
		k->key[i] = (uint8_t)i;
		k->hmac_key[i] = (uint8_t)(0x10 + i);
		k->te_secret[i] = (uint8_t)(0x20 + i);
	}
}

static void
fuzz_decode(const struct ztp_c2c_keys *k, const uint8_t *data, size_t size, size_t step)
{
	uint8_t buf[ZTP_C2C_FRAME_MAX], out[ZTP_C2C_CHUNK_MAX];
	struct ztp_c2c_dec d;
	size_t off = 0, n, used, olen, verdicts = 0;
	int rc;

	FUZZ_CHECK(ztp_c2c_dec_init(&d, ztp_crypto_openssl(), k, buf, sizeof(buf)) == 0);
	while (off < size) {
		n = step == 0 || size - off < step ? size - off : step;
		do {
			rc = ztp_c2c_dec_push(&d, data + off, n, &used, out, sizeof(out), &olen);
			FUZZ_CHECK(used <= n);
			off += used;
			n -= used;
			FUZZ_CHECK(d.len <= sizeof(buf));
			FUZZ_CHECK(rc == 0 || rc == 1 || rc == ZTP_EMALFORMED || rc == ZTP_ETOOBIG ||
			    rc == ZTP_EAUTH);
			FUZZ_CHECK(rc != 1 || olen <= ZTP_C2C_CHUNK_MAX);
			FUZZ_CHECK(rc >= 0 || d.fault != ZTP_C2C_F_NONE);
			FUZZ_CHECK(rc != ZTP_ETOOBIG || d.fault == ZTP_C2C_F_LONG);
			FUZZ_CHECK(rc != ZTP_EAUTH || d.fault == ZTP_C2C_F_MAC);
			/* every verdict frees a byte: no more verdicts than bytes */
			verdicts += rc != 0;
			FUZZ_CHECK(verdicts <= size);
		} while (rc != 0);
		FUZZ_CHECK(n == 0);
	}
}

static void
fuzz_roundtrip(const struct ztp_c2c_keys *k, const uint8_t *data, size_t size)
{
	static uint8_t enc[4 * 4096], dec[4096];
	uint8_t buf[ZTP_C2C_FRAME_MAX], out[ZTP_C2C_CHUNK_MAX];
	struct ztp_c2c_dec d;
	size_t elen = 0, off = 0, total = 0, used, olen;
	int rc;

	if (size > sizeof(dec))
		size = sizeof(dec);
	FUZZ_CHECK(ztp_c2c_encode(ztp_crypto_openssl(), k, NULL, 0, data, size, enc, sizeof(enc),
		       &elen) == 0);
	FUZZ_CHECK(elen == ztp_c2c_msg_len(k->version, size));
	FUZZ_CHECK(ztp_c2c_dec_init(&d, ztp_crypto_openssl(), k, buf, sizeof(buf)) == 0);
	do {
		rc = ztp_c2c_dec_push(&d, enc + off, elen - off, &used, out, sizeof(out), &olen);
		off += used;
		FUZZ_CHECK(rc == 0 || rc == 1);
		if (rc == 1) {
			FUZZ_CHECK(total + olen <= size);
			memcpy(dec + total, out, olen);
			total += olen;
		}
	} while (rc != 0);
	FUZZ_CHECK(total == size && memcmp(dec, data, size) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ztp_c2c_keys k;

	if (size < 1)
		return 0;
	keys(&k, (data[0] & 1) ? 1 : 2);
	fuzz_decode(&k, data + 1, size - 1, (size_t)(data[0] >> 1 & 7));
	fuzz_roundtrip(&k, data + 1, size - 1);
	return 0;
}
