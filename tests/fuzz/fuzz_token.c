/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: admin bearer tokens (token.h).
 *
 * The bytes are the token of an Authorization header, checked by
 * token_verify() under a fixed key at a fixed time. A forged MAC is out of
 * reach of a fuzzer, so the target then signs the input itself (its part
 * before ".<64 hex>", or all of it) and verifies that too: the outcome
 * must then be exactly what an independent reading of the token format
 * says, and never ZTP_EAUTH.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "fuzz.h"
#include "token.h"
#include "ztp/err.h"

#define FUZZ_NOW INT64_C(1800000000) /* 2027-01-15T08:00:00Z */
#define MAC_HEX 64

/* 0x00, 0x01, ... 0x1f: the seed tokens were issued under this key */
static const uint8_t fuzz_key[32] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 };

/*
 * Verify token[0..len) and check the result: on success a valid key id, an
 * expiry after FUZZ_NOW, and the token is the one token_issue() gives for
 * them (up to the case of the MAC's hex). Returns token_verify()'s code.
 */
static int
verify(const char *token, size_t len)
{
	char key_id[TOKEN_KEYID_MAX + 1], again[TOKEN_MAX];
	int64_t expires = -1;
	size_t n;
	int rc;

	memset(key_id, 0x5a, sizeof(key_id));
	rc = token_verify(fuzz_key, token, len, FUZZ_NOW, key_id, &expires);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_EAUTH || rc == ZTP_EEXPIRED);
		FUZZ_CHECK(expires == -1 && key_id[0] == 0x5a);
		return rc;
	}
	n = strnlen(key_id, sizeof(key_id));
	FUZZ_CHECK(n < sizeof(key_id));
	FUZZ_CHECK(token_keyid_valid(key_id, n));
	FUZZ_CHECK(expires > FUZZ_NOW);
	FUZZ_CHECK(token_issue(fuzz_key, key_id, expires, again, sizeof(again)) == 0);
	FUZZ_CHECK(strlen(again) == len);
	FUZZ_CHECK(memcmp(again, token, len - MAC_HEX) == 0);
	FUZZ_CHECK(strncasecmp(again + len - MAC_HEX, token + len - MAC_HEX, MAC_HEX) == 0);
	return 0;
}

/*
 * What token_verify() must say of head + "." + a right MAC, read here
 * without the code under test: "ztp1.<key id>.<expiry>", the expiry in
 * decimal without leading zeros and at most INT64_MAX.
 */
static int
expected(const char *head, size_t len)
{
	const char *id, *dot, *exp, *end = head + len;
	uint64_t e = 0;
	size_t explen, i;

	if (len + 1 + MAC_HEX > TOKEN_MAX || len < 5 || memcmp(head, "ztp1.", 5) != 0)
		return ZTP_EMALFORMED;
	id = head + 5;
	if ((dot = memchr(id, '.', (size_t)(end - id))) == NULL)
		return ZTP_EMALFORMED;
	if (!token_keyid_valid(id, (size_t)(dot - id)))
		return ZTP_EMALFORMED;
	exp = dot + 1;
	explen = (size_t)(end - exp);
	if (explen == 0 || explen > 19 || (explen > 1 && exp[0] == '0'))
		return ZTP_EMALFORMED;
	for (i = 0; i < explen; i++) {
		if (exp[i] < '0' || exp[i] > '9')
			return ZTP_EMALFORMED;
		e = e * 10 + (uint64_t)(exp[i] - '0'); /* 19 digits fit */
	}
	if (e > INT64_MAX)
		return ZTP_EMALFORMED;
	return (int64_t)e <= FUZZ_NOW ? ZTP_EEXPIRED : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char upper[] = "0123456789ABCDEF", lower[] = "0123456789abcdef";
	const char *tok = (const char *)data, *digits;
	char *signed_tok;
	uint8_t mac[32];
	size_t head, i;

	verify(tok, size);

	/* sign the head of the input and verify that */
	head = size;
	if (size > MAC_HEX && tok[size - MAC_HEX - 1] == '.')
		head = size - MAC_HEX - 1;
	if (head > TOKEN_MAX)
		return 0;
	FUZZ_CHECK(crypto_hmac_sha256(fuzz_key, sizeof(fuzz_key), tok, head, mac) == 0);
	digits = (size & 1) ? lower : upper;
	/* exactly as long as the token, so that ASan sees a read past its end */
	if ((signed_tok = malloc(head + 1 + MAC_HEX)) == NULL)
		return 0;
	memcpy(signed_tok, tok, head);
	signed_tok[head] = '.';
	for (i = 0; i < sizeof(mac); i++) {
		signed_tok[head + 1 + 2 * i] = digits[mac[i] >> 4];
		signed_tok[head + 2 + 2 * i] = digits[mac[i] & 0x0f];
	}
	FUZZ_CHECK(verify(signed_tok, head + 1 + MAC_HEX) == expected(tok, head));
	free(signed_tok);
	return 0;
}
