/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "hex.h"
#include "num.h"
#include "token.h"
#include "ztp/err.h"

int
token_keyid_valid(const char *key_id, size_t len)
{
	size_t i;

	if (key_id == NULL || len == 0 || len > TOKEN_KEYID_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = key_id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int
token_issue(const uint8_t key[32], const char *key_id, int64_t expires, char *out, size_t cap)
{
	uint8_t mac[32];
	char hexmac[65];
	int n;

	if (!token_keyid_valid(key_id, strlen(key_id)) || expires < 0)
		return ZTP_EINVAL;
	n = snprintf(out, cap, "ztp1.%s.%lld", key_id, (long long)expires);
	if (n < 0 || (size_t)n + 66 > cap)
		return ZTP_ERANGE;
	if (crypto_hmac_sha256(key, 32, out, (size_t)n, mac) != 0)
		return ZTP_ECRYPTO;
	hex_encode(mac, sizeof(mac), hexmac, sizeof(hexmac));
	snprintf(out + n, cap - (size_t)n, ".%s", hexmac);
	return 0;
}

int
token_verify(const uint8_t key[32], const char *token, size_t len, int64_t now, char *key_id,
    int64_t *expires)
{
	const char *id, *exp, *mac, *p;
	uint8_t want[32], got[32];
	size_t idlen, explen, maclen, gotlen;
	uint64_t e;

	if (token == NULL || len < 5 || len > TOKEN_MAX || memcmp(token, "ztp1.", 5) != 0)
		return ZTP_EMALFORMED;
	id = token + 5;
	if ((p = memchr(id, '.', len - 5)) == NULL)
		return ZTP_EMALFORMED;
	idlen = (size_t)(p - id);
	exp = p + 1;
	if ((p = memchr(exp, '.', len - (size_t)(exp - token))) == NULL)
		return ZTP_EMALFORMED;
	explen = (size_t)(p - exp);
	mac = p + 1;
	maclen = len - (size_t)(mac - token);
	if (!token_keyid_valid(id, idlen) || maclen != 64 ||
	    num_parse_u64(exp, explen, 0, INT64_MAX, &e) != 0 ||
	    hex_decode(mac, maclen, got, sizeof(got), &gotlen) != 0)
		return ZTP_EMALFORMED;
	if (crypto_hmac_sha256(key, 32, token, (size_t)(mac - 1 - token), want) != 0)
		return ZTP_ECRYPTO;
	if (!crypto_equal(want, got, sizeof(want)))
		return ZTP_EAUTH;
	if ((int64_t)e <= now)
		return ZTP_EEXPIRED;
	memcpy(key_id, id, idlen);
	key_id[idlen] = '\0';
	*expires = (int64_t)e;
	return 0;
}
