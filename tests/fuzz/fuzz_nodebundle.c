/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the node bundle (nodebundle.h), the file ztpd join
 * reads.
 *
 * The bytes are read twice. As a bundle file: its header, then, if the
 * header holds, the AES-256-GCM open under a fixed key (scrypt is left
 * out: its cost is the point of it; the seeds were sealed under this key,
 * so their bodies decrypt and their sections are decoded). As a
 * plaintext: its sections; a plaintext that decodes must encode to the
 * same bytes (one form only), and sealed under the fixed key it must read
 * back, open and decode to the same bundle.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nodebundle.h"
#include "ztp/err.h"

/* 0x00, 0x01, ... 0x1f: the seed bundles were sealed under this key */
static const uint8_t fuzz_key[NODEBUNDLE_KEY_LEN] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 };

/* What every decoded bundle must be, read here without the code under test. */
static void
check_bundle(const struct nodebundle *nb, const uint8_t *plain, size_t len)
{
	FUZZ_CHECK(nb->secret_key != NULL && nb->ca_pem != NULL);
	FUZZ_CHECK(nb->secret_key >= plain &&
	    nb->secret_key + NODEBUNDLE_SECRET_KEY_LEN <= plain + len);
	FUZZ_CHECK(nb->ca_pem >= plain && nb->ca_pem + nb->ca_pem_len <= plain + len);
	FUZZ_CHECK(nb->ca_pem_len >= 1 && nb->ca_pem_len <= NODEBUNDLE_CA_PEM_MAX);
	FUZZ_CHECK(memchr(nb->ca_pem, '\0', nb->ca_pem_len) == NULL);
	if (nb->ca_key != NULL) {
		FUZZ_CHECK(nb->ca_key >= plain && nb->ca_key + nb->ca_key_len <= plain + len);
		FUZZ_CHECK(nb->ca_key_len >= 1 && nb->ca_key_len <= NODEBUNDLE_CA_KEY_MAX);
	}
	if (nb->ca_pass != NULL) {
		FUZZ_CHECK(nb->ca_key != NULL);
		FUZZ_CHECK(nb->ca_pass_len == NODEBUNDLE_CA_PASS_LEN);
		FUZZ_CHECK(nb->ca_pass >= plain && nb->ca_pass + nb->ca_pass_len <= plain + len);
	}
	FUZZ_CHECK(nodebundle_encoded_len(nb) == len);
}

/* The input as a bundle file. */
static void
as_file(const uint8_t *data, size_t size)
{
	struct nodebundle_header h;
	struct nodebundle nb;
	uint8_t *plain;
	size_t n = 0;
	char why[256];
	int rc;

	why[0] = '\0';
	rc = nodebundle_header_read(data, size, &h, why, sizeof(why));
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ERANGE || rc == ZTP_ETOOBIG);
		FUZZ_CHECK(why[0] != '\0' && h.version == 0);
		return;
	}
	FUZZ_CHECK(size == NODEBUNDLE_HEADER_LEN + (size_t)h.plain_len + NODEBUNDLE_TAG_LEN);
	FUZZ_CHECK(h.version == NODEBUNDLE_VERSION && h.kdf == NODEBUNDLE_KDF_SCRYPT);
	FUZZ_CHECK(h.log2n >= NODEBUNDLE_LOG2N_MIN && h.log2n <= NODEBUNDLE_LOG2N_MAX);
	/* exactly the plaintext's size: ASan sees a write past it */
	if ((plain = malloc(h.plain_len > 0 ? h.plain_len : 1)) == NULL)
		return;
	rc = nodebundle_open_key(data, size, &h, fuzz_key, plain, h.plain_len, &n);
	if (rc == 0) {
		FUZZ_CHECK(n == h.plain_len);
		if (nodebundle_decode(plain, n, &nb, why, sizeof(why)) == 0)
			check_bundle(&nb, plain, n);
	} else
		FUZZ_CHECK(rc == ZTP_EAUTH);
	free(plain);
}

/* The input as a plaintext: decode, encode again, seal, read back. */
static void
as_plaintext(const uint8_t *data, size_t size)
{
	struct nodebundle_header h;
	struct nodebundle nb, again;
	uint8_t *enc = NULL, *file = NULL, *plain = NULL;
	size_t len = 0, flen = 0, n = 0;
	char why[256];
	int rc;

	why[0] = '\0';
	rc = nodebundle_decode(data, size, &nb, why, sizeof(why));
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED && why[0] != '\0' && nb.secret_key == NULL);
		return;
	}
	check_bundle(&nb, data, size);
	if ((enc = malloc(size + 1)) == NULL || (file = malloc(size + 64)) == NULL ||
	    (plain = malloc(size + 1)) == NULL)
		goto out;
	FUZZ_CHECK(nodebundle_encode(&nb, enc, size, &len) == 0);
	FUZZ_CHECK(len == size && memcmp(enc, data, size) == 0);
	FUZZ_CHECK(nodebundle_encode(&nb, enc, size - 1, &len) == ZTP_ERANGE); /* size > 0 */

	memset(&h, 0, sizeof(h));
	h.version = NODEBUNDLE_VERSION;
	h.kdf = NODEBUNDLE_KDF_SCRYPT;
	h.log2n = NODEBUNDLE_LOG2N_MIN;
	h.r = 8;
	h.p = 1;
	memset(h.salt, 0xa5, sizeof(h.salt));
	memset(h.nonce, 0x5a, sizeof(h.nonce));
	if (size > NODEBUNDLE_PLAIN_MAX) {
		FUZZ_CHECK(nodebundle_seal_key(&h, fuzz_key, data, size, file, size + 64, &flen) ==
		    ZTP_ERANGE);
		goto out;
	}
	FUZZ_CHECK(nodebundle_seal_key(&h, fuzz_key, data, size, file, size + 64, &flen) == 0);
	FUZZ_CHECK(flen == NODEBUNDLE_HEADER_LEN + size + NODEBUNDLE_TAG_LEN);
	FUZZ_CHECK(nodebundle_header_read(file, flen, &h, why, sizeof(why)) == 0);
	FUZZ_CHECK(nodebundle_open_key(file, flen, &h, fuzz_key, plain, size + 1, &n) == 0);
	FUZZ_CHECK(n == size && memcmp(plain, data, size) == 0);
	FUZZ_CHECK(nodebundle_decode(plain, n, &again, why, sizeof(why)) == 0);
	FUZZ_CHECK(again.ca_pem_len == nb.ca_pem_len && again.ca_key_len == nb.ca_key_len &&
	    again.ca_pass_len == nb.ca_pass_len);
	/* one bit of the tag: refused */
	file[flen - 1] ^= 1;
	FUZZ_CHECK(nodebundle_open_key(file, flen, &h, fuzz_key, plain, size + 1, &n) ==
	    ZTP_EAUTH);
out:
	free(enc);
	free(file);
	free(plain);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_file(data, size);
	as_plaintext(data, size);
	return 0;
}
