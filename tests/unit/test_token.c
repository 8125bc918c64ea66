/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admin bearer tokens (src/server/proto/token.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "token.h"
#include "ztp/err.h"

#define EXPIRES 2000000000LL

static const uint8_t key_a[32] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
	0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20 };
static const uint8_t key_b[32] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
	0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x21 };

static void
issue(const char *key_id, int64_t expires, char tok[TOKEN_MAX])
{
	assert_int_equal(token_issue(key_a, key_id, expires, tok, TOKEN_MAX), 0);
}

/* Verify tok at now under key_a; on failure check the outputs are untouched. */
static int
verify_at(const char *tok, size_t len, int64_t now)
{
	char key_id[TOKEN_KEYID_MAX + 1] = "untouched";
	int64_t expires = -7;
	int rc = token_verify(key_a, tok, len, now, key_id, &expires);

	if (rc != 0) {
		assert_string_equal(key_id, "untouched");
		assert_int_equal(expires, -7);
	}
	return rc;
}

static int
verifyz(const char *tok)
{
	return verify_at(tok, strlen(tok), EXPIRES - 1);
}

/* The position of the MAC (after the last dot) in tok. */
static size_t
mac_offset(const char *tok)
{
	const char *dot = strrchr(tok, '.');

	assert_non_null(dot);
	return (size_t)(dot + 1 - tok);
}

/* ---- round trip ---- */

static void
test_issued_token_has_the_documented_shape(void **state)
{
	char tok[TOKEN_MAX];
	size_t i, m;

	issue("admin", EXPIRES, tok);
	assert_memory_equal(tok, "ztp1.admin.2000000000.", 22);
	m = mac_offset(tok);
	assert_int_equal(strlen(tok + m), 64);
	for (i = m; tok[i] != '\0'; i++)
		assert_non_null(strchr("0123456789ABCDEF", tok[i]));
}

static void
test_issue_then_verify_round_trip(void **state)
{
	char tok[TOKEN_MAX], key_id[TOKEN_KEYID_MAX + 1];
	int64_t expires = 0;

	issue("ops_key-1", EXPIRES, tok);
	assert_int_equal(token_verify(key_a, tok, strlen(tok), EXPIRES - 1, key_id, &expires), 0);
	assert_string_equal(key_id, "ops_key-1");
	assert_int_equal(expires, EXPIRES);
}

static void
test_longest_key_id_and_expiry_fit_token_max(void **state)
{
	static const char id31[] = "abcdefghijklmnopqrstuvwxyz01234";
	char tok[TOKEN_MAX], key_id[TOKEN_KEYID_MAX + 1];
	int64_t expires = 0;

	assert_int_equal(strlen(id31), TOKEN_KEYID_MAX);
	assert_int_equal(token_issue(key_a, id31, INT64_MAX, tok, sizeof(tok)), 0);
	assert_true(strlen(tok) < TOKEN_MAX);
	assert_int_equal(token_verify(key_a, tok, strlen(tok), 0, key_id, &expires), 0);
	assert_string_equal(key_id, id31);
	assert_int_equal(expires, INT64_MAX);
}

static void
test_issue_rejects_an_invalid_key_id(void **state)
{
	char tok[TOKEN_MAX];

	assert_int_equal(token_issue(key_a, "", EXPIRES, tok, sizeof(tok)), ZTP_EINVAL);
	assert_int_equal(token_issue(key_a, "a.b", EXPIRES, tok, sizeof(tok)), ZTP_EINVAL);
	assert_int_equal(token_issue(key_a, "abcdefghijklmnopqrstuvwxyz012345", EXPIRES, tok,
			     sizeof(tok)),
	    ZTP_EINVAL);
}

static void
test_issue_rejects_a_negative_expiry(void **state)
{
	char tok[TOKEN_MAX];

	assert_int_equal(token_issue(key_a, "admin", -1, tok, sizeof(tok)), ZTP_EINVAL);
}

static void
test_issue_rejects_a_small_buffer(void **state)
{
	char tok[TOKEN_MAX];
	size_t need;

	issue("admin", EXPIRES, tok);
	need = strlen(tok) + 1;
	assert_int_equal(token_issue(key_a, "admin", EXPIRES, tok, need - 1), ZTP_ERANGE);
	assert_int_equal(token_issue(key_a, "admin", EXPIRES, tok, need), 0);
	assert_int_equal(strlen(tok), need - 1);
}

/* ---- expiry ---- */

static void
test_token_is_expired_at_its_expiry(void **state)
{
	char tok[TOKEN_MAX];

	issue("admin", EXPIRES, tok);
	assert_int_equal(verify_at(tok, strlen(tok), EXPIRES), ZTP_EEXPIRED);
}

static void
test_token_is_expired_after_its_expiry(void **state)
{
	char tok[TOKEN_MAX];

	issue("admin", EXPIRES, tok);
	assert_int_equal(verify_at(tok, strlen(tok), EXPIRES + 1), ZTP_EEXPIRED);
	assert_int_equal(verify_at(tok, strlen(tok), INT64_MAX), ZTP_EEXPIRED);
}

static void
test_token_expiring_at_zero_is_expired(void **state)
{
	char tok[TOKEN_MAX];

	issue("admin", 0, tok);
	assert_int_equal(verify_at(tok, strlen(tok), 0), ZTP_EEXPIRED);
}

/* ---- forgery ---- */

static void
test_flipped_mac_char_fails_auth(void **state)
{
	char tok[TOKEN_MAX];
	size_t m, i;

	issue("admin", EXPIRES, tok);
	m = mac_offset(tok);
	/* every position of the MAC matters */
	for (i = m; tok[i] != '\0'; i++) {
		char c = tok[i];
		tok[i] = c == '0' ? '1' : '0';
		assert_int_equal(verifyz(tok), ZTP_EAUTH);
		tok[i] = c;
	}
	assert_int_equal(verifyz(tok), 0);
}

static void
test_token_of_another_key_fails_auth(void **state)
{
	char tok[TOKEN_MAX], key_id[TOKEN_KEYID_MAX + 1];
	int64_t expires;

	assert_int_equal(token_issue(key_b, "admin", EXPIRES, tok, sizeof(tok)), 0);
	assert_int_equal(verifyz(tok), ZTP_EAUTH);
	assert_int_equal(token_verify(key_b, tok, strlen(tok), EXPIRES - 1, key_id, &expires), 0);
}

static void
test_tampered_key_id_fails_auth(void **state)
{
	char tok[TOKEN_MAX];

	issue("admin", EXPIRES, tok);
	tok[5] = 'b'; /* "ztp1.bdmin." */
	assert_int_equal(verifyz(tok), ZTP_EAUTH);
}

static void
test_swapped_key_id_fails_auth(void **state)
{
	char tok[TOKEN_MAX], forged[2 * TOKEN_MAX];

	/* the MAC of key "admin" with the prefix of key "root" */
	issue("admin", EXPIRES, tok);
	snprintf(forged, sizeof(forged), "ztp1.root.2000000000.%s", tok + mac_offset(tok));
	assert_int_equal(verifyz(forged), ZTP_EAUTH);
}

static void
test_tampered_expiry_fails_auth(void **state)
{
	char tok[TOKEN_MAX];

	issue("admin", EXPIRES, tok);
	tok[11] = '3'; /* 2000000000 -> 3000000000 */
	assert_int_equal(verifyz(tok), ZTP_EAUTH);
}

static void
test_forged_expired_token_fails_auth_not_expiry(void **state)
{
	char tok[TOKEN_MAX];

	/* the MAC is checked first: a forger learns nothing from the expiry */
	issue("admin", 1000, tok);
	tok[mac_offset(tok)] = tok[mac_offset(tok)] == '0' ? '1' : '0';
	assert_int_equal(verify_at(tok, strlen(tok), 5000), ZTP_EAUTH);
}

/* ---- malformed ---- */

static void
test_wrong_prefix_is_malformed(void **state)
{
	char tok[TOKEN_MAX];

	issue("admin", EXPIRES, tok);
	tok[3] = '2'; /* ztp2. */
	assert_int_equal(verifyz(tok), ZTP_EMALFORMED);
	tok[3] = '1';
	tok[0] = 'Z'; /* Ztp1. */
	assert_int_equal(verifyz(tok), ZTP_EMALFORMED);
	assert_int_equal(verifyz("ztp1"), ZTP_EMALFORMED);
	assert_int_equal(verifyz("Bearer ztp1.admin.1.00"), ZTP_EMALFORMED);
}

static void
test_missing_parts_are_malformed(void **state)
{
	char tok[TOKEN_MAX], cut[TOKEN_MAX];
	size_t m;

	assert_int_equal(verifyz(""), ZTP_EMALFORMED);
	assert_int_equal(verifyz("ztp1."), ZTP_EMALFORMED);
	assert_int_equal(verifyz("ztp1.admin"), ZTP_EMALFORMED);
	assert_int_equal(verifyz("ztp1.admin."), ZTP_EMALFORMED);
	assert_int_equal(verifyz("ztp1.admin.2000000000"), ZTP_EMALFORMED);
	assert_int_equal(verifyz("ztp1.admin.2000000000."), ZTP_EMALFORMED);
	issue("admin", EXPIRES, tok);
	m = mac_offset(tok);
	/* no key id, no expiry */
	snprintf(cut, sizeof(cut), "ztp1..2000000000.%s", tok + m);
	assert_int_equal(verifyz(cut), ZTP_EMALFORMED);
	snprintf(cut, sizeof(cut), "ztp1.admin..%s", tok + m);
	assert_int_equal(verifyz(cut), ZTP_EMALFORMED);
	snprintf(cut, sizeof(cut), "ztp1.admin.%s", tok + m);
	assert_int_equal(verifyz(cut), ZTP_EMALFORMED);
}

static void
test_null_token_is_malformed(void **state)
{
	assert_int_equal(verify_at(NULL, 10, 0), ZTP_EMALFORMED);
}

static void
test_non_hex_mac_is_malformed(void **state)
{
	char tok[TOKEN_MAX];

	issue("admin", EXPIRES, tok);
	tok[mac_offset(tok) + 10] = 'g';
	assert_int_equal(verifyz(tok), ZTP_EMALFORMED);
	tok[mac_offset(tok) + 10] = '.';
	assert_int_equal(verifyz(tok), ZTP_EMALFORMED);
}

static void
test_short_mac_is_malformed(void **state)
{
	char tok[TOKEN_MAX];

	issue("admin", EXPIRES, tok);
	tok[strlen(tok) - 1] = '\0'; /* 63 hex */
	assert_int_equal(verifyz(tok), ZTP_EMALFORMED);
	tok[strlen(tok) - 1] = '\0'; /* 62 hex: whole bytes, still short */
	assert_int_equal(verifyz(tok), ZTP_EMALFORMED);
}

static void
test_long_mac_is_malformed(void **state)
{
	char tok[TOKEN_MAX + 2];

	issue("admin", EXPIRES, tok);
	strcat(tok, "00");
	assert_int_equal(verifyz(tok), ZTP_EMALFORMED);
}

static void
test_key_id_with_invalid_chars_is_malformed(void **state)
{
	static const char *const bad[] = { "ad min", "ad/min", "ad+min", "ad%min", "admin\xc3\xa9" };
	char tok[2 * TOKEN_MAX];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(tok, sizeof(tok), "ztp1.%s.2000000000.%064d", bad[i], 0);
		assert_int_equal(verifyz(tok), ZTP_EMALFORMED);
	}
}

static void
test_key_id_over_31_chars_is_malformed(void **state)
{
	char tok[2 * TOKEN_MAX];

	snprintf(tok, sizeof(tok), "ztp1.%s.1.%064d", "abcdefghijklmnopqrstuvwxyz012345", 0);
	assert_true(strlen(tok) <= TOKEN_MAX);
	assert_int_equal(verifyz(tok), ZTP_EMALFORMED);
}

static void
test_token_over_token_max_is_malformed(void **state)
{
	char tok[TOKEN_MAX + 8];

	/* a well-formed shape, one byte too long */
	snprintf(tok, sizeof(tok), "ztp1.abcdefghijklmnopqrstuvwxyz01234.%027d.%064d", 1, 0);
	assert_int_equal(strlen(tok), TOKEN_MAX + 1);
	assert_int_equal(verify_at(tok, strlen(tok), 0), ZTP_EMALFORMED);
}

static void
test_expiry_with_a_leading_zero_is_malformed(void **state)
{
	char tok[TOKEN_MAX], forged[2 * TOKEN_MAX];

	issue("admin", EXPIRES, tok);
	snprintf(forged, sizeof(forged), "ztp1.admin.02000000000.%s", tok + mac_offset(tok));
	assert_int_equal(verifyz(forged), ZTP_EMALFORMED);
}

static void
test_expiry_with_a_sign_is_malformed(void **state)
{
	char tok[TOKEN_MAX], forged[2 * TOKEN_MAX];

	issue("admin", EXPIRES, tok);
	snprintf(forged, sizeof(forged), "ztp1.admin.+2000000000.%s", tok + mac_offset(tok));
	assert_int_equal(verifyz(forged), ZTP_EMALFORMED);
	snprintf(forged, sizeof(forged), "ztp1.admin.-1.%s", tok + mac_offset(tok));
	assert_int_equal(verifyz(forged), ZTP_EMALFORMED);
	snprintf(forged, sizeof(forged), "ztp1.admin. 2000000000.%s", tok + mac_offset(tok));
	assert_int_equal(verifyz(forged), ZTP_EMALFORMED);
}

static void
test_expiry_over_int64_is_malformed(void **state)
{
	char tok[TOKEN_MAX], forged[2 * TOKEN_MAX];

	issue("admin", EXPIRES, tok);
	snprintf(forged, sizeof(forged), "ztp1.admin.9223372036854775808.%s", tok + mac_offset(tok));
	assert_int_equal(verifyz(forged), ZTP_EMALFORMED);
}

static void
test_only_len_bytes_are_verified(void **state)
{
	char tok[TOKEN_MAX + 8];
	size_t n;

	issue("admin", EXPIRES, tok);
	n = strlen(tok);
	strcat(tok, "junk");
	assert_int_equal(verify_at(tok, n, EXPIRES - 1), 0);
	assert_int_equal(verify_at(tok, n + 4, EXPIRES - 1), ZTP_EMALFORMED);
}

/* ---- token_keyid_valid ---- */

static void
test_keyid_of_1_and_31_chars_is_valid(void **state)
{
	assert_int_equal(token_keyid_valid("a", 1), 1);
	assert_int_equal(token_keyid_valid("abcdefghijklmnopqrstuvwxyz01234", 31), 1);
}

static void
test_keyid_empty_or_32_chars_is_invalid(void **state)
{
	assert_int_equal(token_keyid_valid("", 0), 0);
	assert_int_equal(token_keyid_valid("abcdefghijklmnopqrstuvwxyz012345", 32), 0);
	assert_int_equal(token_keyid_valid(NULL, 3), 0);
}

static void
test_keyid_accepts_every_allowed_class(void **state)
{
	assert_int_equal(token_keyid_valid("AZaz09_-", 8), 1);
	assert_int_equal(token_keyid_valid("-", 1), 1);
	assert_int_equal(token_keyid_valid("_", 1), 1);
}

static void
test_keyid_rejects_other_chars(void **state)
{
	static const char bad[] = ". /:+=@!~\"'\\\t\x7f\x80\xff`[]{}";
	size_t i;

	for (i = 0; i < sizeof(bad) - 1; i++) {
		char id[3] = { 'a', bad[i], '\0' };
		assert_int_equal(token_keyid_valid(id, 2), 0);
	}
	assert_int_equal(token_keyid_valid("a\0b", 3), 0);
}

static void
test_keyid_reads_only_len_bytes(void **state)
{
	assert_int_equal(token_keyid_valid("admin.x", 5), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issued_token_has_the_documented_shape),
		cmocka_unit_test(test_issue_then_verify_round_trip),
		cmocka_unit_test(test_longest_key_id_and_expiry_fit_token_max),
		cmocka_unit_test(test_issue_rejects_an_invalid_key_id),
		cmocka_unit_test(test_issue_rejects_a_negative_expiry),
		cmocka_unit_test(test_issue_rejects_a_small_buffer),
		cmocka_unit_test(test_token_is_expired_at_its_expiry),
		cmocka_unit_test(test_token_is_expired_after_its_expiry),
		cmocka_unit_test(test_token_expiring_at_zero_is_expired),
		cmocka_unit_test(test_flipped_mac_char_fails_auth),
		cmocka_unit_test(test_token_of_another_key_fails_auth),
		cmocka_unit_test(test_tampered_key_id_fails_auth),
		cmocka_unit_test(test_swapped_key_id_fails_auth),
		cmocka_unit_test(test_tampered_expiry_fails_auth),
		cmocka_unit_test(test_forged_expired_token_fails_auth_not_expiry),
		cmocka_unit_test(test_wrong_prefix_is_malformed),
		cmocka_unit_test(test_missing_parts_are_malformed),
		cmocka_unit_test(test_null_token_is_malformed),
		cmocka_unit_test(test_non_hex_mac_is_malformed),
		cmocka_unit_test(test_short_mac_is_malformed),
		cmocka_unit_test(test_long_mac_is_malformed),
		cmocka_unit_test(test_key_id_with_invalid_chars_is_malformed),
		cmocka_unit_test(test_key_id_over_31_chars_is_malformed),
		cmocka_unit_test(test_token_over_token_max_is_malformed),
		cmocka_unit_test(test_expiry_with_a_leading_zero_is_malformed),
		cmocka_unit_test(test_expiry_with_a_sign_is_malformed),
		cmocka_unit_test(test_expiry_over_int64_is_malformed),
		cmocka_unit_test(test_only_len_bytes_are_verified),
		cmocka_unit_test(test_keyid_of_1_and_31_chars_is_valid),
		cmocka_unit_test(test_keyid_empty_or_32_chars_is_invalid),
		cmocka_unit_test(test_keyid_accepts_every_allowed_class),
		cmocka_unit_test(test_keyid_rejects_other_chars),
		cmocka_unit_test(test_keyid_reads_only_len_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
