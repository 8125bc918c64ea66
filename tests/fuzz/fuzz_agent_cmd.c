/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a command as ztp-agent reads it off its command topic
 * (agent_msg_parse_cmd(): the envelope, the ECDSA signature by the
 * bundle's command key over the payload, the payload). The first byte
 * picks what the rest is:
 *
 *   0  the envelope, as it comes (the seeds are signed with the fixed key
 *      below, so that their payloads are read)
 *   1  a payload: signed here with the fixed key and wrapped into an
 *      envelope, so that the payload's parser is reached by every input
 *
 * An accepted command must be what the contract says: for this UDID, an id
 * above the last, 1..2^53-1, a name of 1..64 characters, args an object;
 * its arguments' readers are run on it. Anything refused leaves nothing.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "agent_msg.h"
#include "fuzz.h"
#include "ztp/err.h"

#define UDID "gw-0001"
#define LAST_ID 5

/* the fuzz target's command key (a test key, P-256, nothing else uses it) */
static const char fuzz_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7ksZAo69VgVOjx7h\n"
    "PPBFGPcvGap/0uFGeHU0DyFzQMGhRANCAAQOSL6s9pRGnEjPAFoll4Sq3LlKPp7y\n"
    "iOQNgc3KD4PEbiYknHzNNcmpCK+81rlQj+QYc8ucGfzgN9LmXyvlo9CG\n"
    "-----END PRIVATE KEY-----\n";

static EVP_PKEY *
fuzz_key(void)
{
	static EVP_PKEY *key;
	BIO *b;

	if (key == NULL) {
		b = BIO_new_mem_buf(fuzz_key_pem, -1);
		key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
		FUZZ_CHECK(key != NULL);
	}
	return key;
}

/* payload[len] signed with the fixed key, in an envelope (malloc'd) */
static char *
wrap(const uint8_t *payload, size_t len, size_t *outlen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[128], *p64, *s64;
	size_t siglen = sizeof(sig);
	char *out;

	FUZZ_CHECK(md != NULL);
	FUZZ_CHECK(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, fuzz_key()) == 1);
	FUZZ_CHECK(EVP_DigestSign(md, sig, &siglen, payload, len) == 1);
	EVP_MD_CTX_free(md);
	p64 = malloc(len / 3 * 4 + 8);
	s64 = malloc(siglen / 3 * 4 + 8);
	FUZZ_CHECK(p64 != NULL && s64 != NULL);
	EVP_EncodeBlock(p64, payload, (int)len);
	EVP_EncodeBlock(s64, sig, (int)siglen);
	*outlen = strlen((char *)p64) + strlen((char *)s64) + 32;
	out = malloc(*outlen);
	FUZZ_CHECK(out != NULL);
	*outlen = (size_t)snprintf(out, *outlen, "{\"payload\":\"%s\",\"sig\":\"%s\"}", p64, s64);
	free(p64);
	free(s64);
	return out;
}

static void
check(const uint8_t *env, size_t len)
{
	struct agent_cmd c;
	char why[256];
	json_t *cfg;
	const char *pw;
	int rc;

	why[0] = '\0';
	rc = agent_msg_parse_cmd(env, len, fuzz_key(), UDID, LAST_ID, &c, why, sizeof(why));
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ETOOBIG || rc == ZTP_ECRYPTO ||
		    rc == ZTP_ECONFLICT || rc == ZTP_EEXIST || rc == ZTP_ENOMEM);
		FUZZ_CHECK(c.root == NULL && c.name == NULL && c.args == NULL);
		FUZZ_CHECK(why[0] != '\0');
		return;
	}
	FUZZ_CHECK(len <= AGENT_MSG_MAX);
	FUZZ_CHECK(c.id > LAST_ID && c.id <= AGENT_CMD_ID_MAX);
	FUZZ_CHECK(c.name != NULL && c.name[0] != '\0');
	FUZZ_CHECK(json_is_object(c.args) && c.issued_at >= 0);
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(c.root, "udid")), UDID) == 0);
	if (agent_cmd_config(&c, &cfg, why, sizeof(why)) == 0)
		FUZZ_CHECK(json_is_object(cfg) &&
		    json_dumpb(cfg, NULL, 0, JSON_COMPACT) <= AGENT_CONFIG_MAX);
	if (agent_cmd_password(&c, &pw, why, sizeof(why)) == 0)
		FUZZ_CHECK(strlen(pw) >= 1 && strlen(pw) <= AGENT_SECRET_MAX);
	agent_cmd_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *env;
	size_t len = 0;

	if (size < 1)
		return 0;
	if (data[0] == 1) {
		if (size - 1 > AGENT_MSG_MAX / 2)
			return 0;
		env = wrap(data + 1, size - 1, &len);
		check((const uint8_t *)env, len);
		free(env);
	} else {
		check(data + 1, size - 1);
	}
	return 0;
}
