/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stub platform of make size (scripts/size.sh): what a module maker
 * links the device core with, minus anything real. Its crypto callbacks
 * (struct ztp_crypto, include/ztp/symcrypto.h) compute nothing; they are
 * here so that the image has the shape of a real one (the core calling
 * the platform through a struct of function pointers) and so that their
 * own few bytes are counted apart from the core's.
 *
 * Never run: the image is only measured. main() is the root the linker
 * keeps (with --gc-sections); scripts/size.sh also roots every public
 * entry point of the core with -Wl,-u,SYMBOL, so that a function no caller
 * here names is counted too: the figures are those of a module that uses
 * all of the core.
 */
#include <stddef.h>
#include <stdint.h>

#include "ztp/symcrypto.h"

static int
stub_aes128(void *arg, int enc, const uint8_t key[ZTP_AES128_KEY],
    const uint8_t in[ZTP_AES_BLOCK], uint8_t out[ZTP_AES_BLOCK])
{
	size_t i;

	for (i = 0; i < ZTP_AES_BLOCK; i++)
		out[i] = in[i] ^ key[i];
	return 0;
}

static int
stub_sha256(void *arg, const struct ztp_iov *iov, size_t n,
    uint8_t out[ZTP_SHA256_LEN])
{
	size_t i;

	for (i = 0; i < ZTP_SHA256_LEN; i++)
		out[i] = (uint8_t)(n + i);
	return 0;
}

static int
stub_random(void *arg, uint8_t *buf, size_t len)
{
	while (len-- > 0)
		buf[len] = 0x5a;
	return 0;
}

const struct ztp_crypto ztp_size_crypto = {
	.aes128 = stub_aes128,
	.sha256 = stub_sha256,
	.random = stub_random,
	.arg = NULL,
};

/*
 * One call into the core through the platform, so that the stub's
 * callbacks stay in the image; volatile so that the compiler keeps the
 * call whatever it knows about the stubs.
 */
int
main(void)
{
	static const uint8_t key[ZTP_AES128_KEY];
	static uint8_t mac[ZTP_SHA256_LEN];
	const struct ztp_crypto *volatile c = &ztp_size_crypto;
	struct ztp_iov msg = { key, sizeof(key) };

	return ztp_hmac_sha256(c, key, sizeof(key), &msg, 1, mac);
}
