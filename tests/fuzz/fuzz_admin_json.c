/*
 * libFuzzer target: the admin API's JSON request body parsers (admin_req.h).
 *
 * The first byte picks the parser (token, SIM create, config set,
 * rollback); the rest is the request body, passed as it is. On success the
 * outputs are checked against their limits, written back as the canonical
 * JSON body and parsed again, which must give the same values. On failure
 * the outputs must be untouched and the reason a NUL-terminated string
 * within its cap.
 */
#include <string.h>

#include <jansson.h>

#include "admin_req.h"
#include "fuzz.h"
#include "ztp/err.h"

#define WHY_CAP 128
#define CANARY 0x5a

struct why {
	char buf[WHY_CAP + 16]; /* the bytes past WHY_CAP must stay CANARY */
};

static void
why_init(struct why *w)
{
	memset(w->buf, CANARY, sizeof(w->buf));
}

static void
why_check(const struct why *w, int rc)
{
	size_t i;

	for (i = WHY_CAP; i < sizeof(w->buf); i++)
		FUZZ_CHECK((unsigned char)w->buf[i] == CANARY);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ETOOBIG);
		FUZZ_CHECK(strnlen(w->buf, WHY_CAP) < WHY_CAP);
		FUZZ_CHECK(w->buf[0] != '\0');
	}
}

/* Serialise obj (stolen) as a compact body; the caller frees it. */
static char *
dump(json_t *obj)
{
	char *s;

	FUZZ_CHECK(obj != NULL);
	s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	FUZZ_CHECK(s != NULL);
	return s;
}

static void
fuzz_token(const uint8_t *buf, size_t len)
{
	char key_id[TOKEN_KEYID_MAX + 1], secret[ADMINREQ_SECRET_MAX + 1];
	char key_id2[TOKEN_KEYID_MAX + 1], secret2[ADMINREQ_SECRET_MAX + 1];
	struct why w;
	size_t idlen, seclen;
	char *again;
	int rc;

	memset(key_id, CANARY, sizeof(key_id));
	memset(secret, CANARY, sizeof(secret));
	why_init(&w);
	rc = adminreq_token(buf, len, key_id, secret, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK((unsigned char)key_id[0] == CANARY);
		FUZZ_CHECK((unsigned char)secret[0] == CANARY);
		return;
	}
	idlen = strnlen(key_id, sizeof(key_id));
	seclen = strnlen(secret, sizeof(secret));
	FUZZ_CHECK(idlen >= 1 && idlen <= TOKEN_KEYID_MAX);
	FUZZ_CHECK(token_keyid_valid(key_id, idlen));
	FUZZ_CHECK(seclen >= 1 && seclen <= ADMINREQ_SECRET_MAX);

	again = dump(json_pack("{s:s, s:s}", "key_id", key_id, "secret", secret));
	FUZZ_CHECK(adminreq_token((const uint8_t *)again, strlen(again), key_id2, secret2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(strcmp(key_id, key_id2) == 0 && strcmp(secret, secret2) == 0);
	free(again);
}

static void
fuzz_sim_create(const uint8_t *buf, size_t len)
{
	struct store_import_row row, row2;
	char hex[2 * STORE_PSK_MAX + 1];
	size_t n, i;
	struct why w;
	char *again;
	int rc;

	memset(&row, CANARY, sizeof(row));
	why_init(&w);
	rc = adminreq_sim_create(buf, len, &row, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		const uint8_t *p = (const uint8_t *)&row;
		for (i = 0; i < sizeof(row); i++)
			FUZZ_CHECK(p[i] == CANARY);
		return;
	}
	n = strnlen(row.iccid, sizeof(row.iccid));
	FUZZ_CHECK(n >= ICCID_MIN_DIGITS && n <= ICCID_MAX_DIGITS);
	FUZZ_CHECK(fuzz_all_digits(row.iccid, n));
	FUZZ_CHECK(row.psk_len >= STORE_PSK_MIN && row.psk_len <= STORE_PSK_MAX);
	FUZZ_CHECK(row.group[0] == '\0' || store_group_name_valid(row.group));

	for (i = 0; i < row.psk_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", row.psk[i]);
	again = dump(row.group[0] ? json_pack("{s:s, s:s, s:s}", "iccid", row.iccid, "psk", hex,
					"group", row.group) :
				    json_pack("{s:s, s:s}", "iccid", row.iccid, "psk", hex));
	FUZZ_CHECK(adminreq_sim_create((const uint8_t *)again, strlen(again), &row2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(strcmp(row.iccid, row2.iccid) == 0 && strcmp(row.group, row2.group) == 0);
	FUZZ_CHECK(row2.psk_len == row.psk_len && memcmp(row.psk, row2.psk, row.psk_len) == 0);
	free(again);
}

static void
fuzz_config_set(const uint8_t *buf, size_t len)
{
	uint8_t body[STORE_CONFIG_MAX], body2[STORE_CONFIG_MAX];
	size_t bodylen = (size_t)-1, bodylen2 = 0;
	struct why w;
	char *again;
	int rc;

	why_init(&w);
	rc = adminreq_config_set(buf, len, body, &bodylen, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(bodylen == (size_t)-1);
		return;
	}
	FUZZ_CHECK(bodylen <= STORE_CONFIG_MAX);
	FUZZ_CHECK(memchr(body, '\0', bodylen) == NULL);

	/* the body is a JSON string, so valid UTF-8: it must serialise again */
	again = dump(json_pack("{s:s%}", "body", (const char *)body, bodylen));
	FUZZ_CHECK(adminreq_config_set((const uint8_t *)again, strlen(again), body2, &bodylen2,
		       w.buf, WHY_CAP) == 0);
	FUZZ_CHECK(bodylen2 == bodylen && memcmp(body, body2, bodylen) == 0);
	free(again);
}

static void
fuzz_rollback(const uint8_t *buf, size_t len)
{
	uint32_t version = 0, version2 = 0;
	struct why w;
	char *again;
	int rc;

	why_init(&w);
	rc = adminreq_rollback(buf, len, &version, w.buf, WHY_CAP);
	why_check(&w, rc);
	if (rc != 0) {
		FUZZ_CHECK(version == 0);
		return;
	}
	FUZZ_CHECK(version >= 1);

	again = dump(json_pack("{s:I}", "version", (json_int_t)version));
	FUZZ_CHECK(adminreq_rollback((const uint8_t *)again, strlen(again), &version2, w.buf,
		       WHY_CAP) == 0);
	FUZZ_CHECK(version2 == version);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		fuzz_token(data + 1, size - 1);
		break;
	case 1:
		fuzz_sim_create(data + 1, size - 1);
		break;
	case 2:
		fuzz_config_set(data + 1, size - 1);
		break;
	case 3:
		fuzz_rollback(data + 1, size - 1);
		break;
	}
	return 0;
}
