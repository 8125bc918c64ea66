/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The codecs in src/common that the server, ztpctl and the device share:
 * base64 (b64.h: RFC 8951's whitespace, padding, the output bound, the
 * 64-character LF lines) and the UDID rule (udid.h), with the callers'
 * wrappers checked to be the same rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "allowcsv.h"
#include "b64.h"
#include "est_req.h"
#include "store.h"
#include "udid.h"
#include "ztp/csr.h"
#include "ztp/err.h"

/* ---- base64: decoding ---- */

static void
test_decode_rfc4648_vectors(void **state)
{
	static const struct {
		const char *plain, *enc;
	} v[] = { /* RFC 4648 section 10 */
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" } };
	uint8_t out[16];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = 99;
		assert_int_equal(b64_decode(v[i].enc, strlen(v[i].enc), out, sizeof(out), &n), 0);
		assert_int_equal(n, strlen(v[i].plain));
		assert_memory_equal(out, v[i].plain, n);
	}
}

static void
test_decode_all_64_characters(void **state)
{
	static const char enc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t out[48], want[48];
	size_t i, n;

	/* 64 characters of 6 bits counting 0..63 */
	for (i = 0; i < sizeof(want); i += 3) {
		unsigned v = (unsigned)(i / 3 * 4);
		want[i] = (uint8_t)(v << 2 | (v + 1) >> 4);
		want[i + 1] = (uint8_t)((v + 1) << 4 | (v + 2) >> 2);
		want[i + 2] = (uint8_t)((v + 2) << 6 | (v + 3));
	}
	assert_int_equal(b64_decode(enc, 64, out, sizeof(out), &n), 0);
	assert_int_equal(n, 48);
	assert_memory_equal(out, want, 48);
}

static void
test_decode_whitespace_between_any_characters(void **state)
{
	static const char *const ok[] = { "Zm9v\r\nYmFy", "Z m 9 v Y m F y", "\tZm9vYmFy\t",
		" \r\n\tZm9vYmFy\r\n", "Zm9vYg=\n=", "Zm9vYg= =\r\n", "Zm9vY\rm\nE=" };
	uint8_t out[16];
	size_t i, n;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(b64_decode(ok[i], strlen(ok[i]), out, sizeof(out), &n), 0);
		assert_true(n == 6 || n == 4 || n == 5);
		assert_memory_equal(out, "foobar", n);
	}
}

static void
test_decode_empty_or_only_whitespace_is_zero_bytes(void **state)
{
	uint8_t out[4];
	size_t n = 99;

	assert_int_equal(b64_decode("", 0, out, sizeof(out), &n), 0);
	assert_int_equal(n, 0);
	n = 99;
	assert_int_equal(b64_decode(" \r\n\t", 4, out, 0, &n), 0);
	assert_int_equal(n, 0);
	n = 99;
	assert_int_equal(b64_decode(NULL, 0, NULL, 0, &n), 0);
	assert_int_equal(n, 0);
}

static void
test_decode_refuses_bad_padding(void **state)
{
	static const char *const bad[] = {
		"Zm9vYg",    /* no padding */
		"Zm9vYg=",   /* one '=' short */
		"Zm9vY===",  /* three */
		"Zm9vYg==AA", /* characters after the padding */
		"Zm9vYg==Zm9v",
		"Zm=vYmFy", /* '=' in the middle: EVP_DecodeBlock would decode it */
		"=Zm9",
		"====",
		"Z",
		"Zm9vYmF",
	};
	uint8_t out[16];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 99;
		assert_int_equal(b64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n),
		    ZTP_EMALFORMED);
		assert_int_equal(n, 0);
	}
}

static void
test_decode_refuses_other_characters(void **state)
{
	/* whitespace other than CR LF SP TAB, URL-safe base64, NUL, PEM armour, 8-bit */
	static const char *const bad[] = { "Zm9v\vYmFy", "Zm9v\fYmFy", "Zm9v-mFy", "Zm9v_mFy",
		"Zm9v!!!!", "-----BEGIN", "Zm9v\xc3\xa9YmFy", "Zm9v.mFy" };
	uint8_t out[16];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(b64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n),
		    ZTP_EMALFORMED);
	assert_int_equal(b64_decode("Zm9v\0YmFy", 9, out, sizeof(out), &n), ZTP_EMALFORMED);
}

static void
test_decode_reads_only_len_bytes(void **state)
{
	uint8_t out[16];
	size_t n;

	assert_int_equal(b64_decode("Zm9v!!!!", 4, out, sizeof(out), &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "foo", 3);
}

static void
test_decode_bound_is_the_decoded_size(void **state)
{
	uint8_t out[16];
	size_t n = 99;

	memset(out, 0xAA, sizeof(out));
	assert_int_equal(b64_decode("Zm9vYmFy", 8, out, 5, &n), ZTP_ETOOBIG);
	assert_int_equal(n, 0);
	assert_int_equal(out[0], 0xAA); /* found before anything is written */
	assert_int_equal(b64_decode("Zm9vYmFy", 8, out, 6, &n), 0);
	assert_int_equal(n, 6);
	/* the padding's bytes do not count */
	assert_int_equal(b64_decode("Zm9vYg==", 8, out, 4, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(b64_decode("Zm9vYg==", 8, out, 3, &n), ZTP_ETOOBIG);
}

static void
test_decode_null_arguments(void **state)
{
	uint8_t out[4];
	size_t n;

	assert_int_equal(b64_decode("Zm9v", 4, NULL, 16, &n), ZTP_EINVAL);
	assert_int_equal(b64_decode(NULL, 4, out, sizeof(out), &n), ZTP_EINVAL);
	assert_int_equal(b64_decode("Zm9v", 4, out, sizeof(out), NULL), ZTP_EINVAL);
}

/* ---- base64: encoding, and both ways ---- */

static void
test_encode_rfc4648_vectors_in_lf_lines(void **state)
{
	static const struct {
		const char *plain, *enc;
	} v[] = { { "", "" }, { "f", "Zg==\n" }, { "fo", "Zm8=\n" }, { "foo", "Zm9v\n" },
		{ "foob", "Zm9vYg==\n" }, { "fooba", "Zm9vYmE=\n" }, { "foobar", "Zm9vYmFy\n" } };
	size_t i, n;
	char *enc;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		enc = NULL;
		assert_int_equal(b64_encode_lines((const uint8_t *)v[i].plain, strlen(v[i].plain),
		    &enc, &n), 0);
		assert_non_null(enc);
		assert_string_equal(enc, v[i].enc);
		assert_int_equal(n, strlen(v[i].enc));
		free(enc);
	}
}

static void
test_encode_null_arguments(void **state)
{
	char *enc = (char *)1;
	size_t n = 99;

	assert_int_equal(b64_encode_lines(NULL, 1, &enc, &n), ZTP_EINVAL);
	assert_null(enc);
	assert_int_equal(n, 0);
	assert_int_equal(b64_encode_lines((const uint8_t *)"a", 1, NULL, &n), ZTP_EINVAL);
	assert_int_equal(b64_encode_lines((const uint8_t *)"a", 1, &enc, NULL), ZTP_EINVAL);
}

/*
 * Every length up to past several 256-character decoding chunks: encoded
 * in LF lines of 64, decoded as written and again with CRLF line ends and
 * spaces and tabs between the characters (chunks then end at odd places).
 */
static void
test_round_trip_in_lines_with_and_without_whitespace(void **state)
{
	uint8_t in[1000], out[1000];
	size_t len, n, i, o, lines;
	char *enc, *spaced;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (len = 0; len <= sizeof(in); len += len < 400 ? 1 : 97) {
		enc = NULL;
		assert_int_equal(b64_encode_lines(in, len, &enc, &n), 0);
		assert_non_null(enc);
		assert_int_equal(strlen(enc), n);
		lines = (len + 47) / 48;
		assert_int_equal(n, (len + 2) / 3 * 4 + lines);
		for (i = 0; i < lines; i++)
			assert_int_equal(enc[i + 1 < lines ? 65 * i + 64 : n - 1], '\n');
		assert_null(strchr(enc, '\r'));
		assert_non_null(spaced = malloc(3 * n + 1));
		for (i = 0, o = 0; i < n; i++) {
			if (enc[i] == '\n')
				spaced[o++] = '\r';
			spaced[o++] = enc[i];
			if (i % 5 == 2)
				spaced[o++] = i % 2 ? ' ' : '\t';
		}
		memset(out, 0, sizeof(out));
		assert_int_equal(b64_decode(enc, n, out, len, &i), 0);
		assert_int_equal(i, len);
		assert_memory_equal(out, in, len);
		memset(out, 0, sizeof(out));
		assert_int_equal(b64_decode(spaced, o, out, len, &i), 0);
		assert_int_equal(i, len);
		assert_memory_equal(out, in, len);
		free(spaced);
		free(enc);
	}
}

/* ---- UDIDs ---- */

static void
test_udid_accepts_letters_digits_and_four_marks(void **state)
{
	assert_int_equal(udid_valid("a", 1), 1);
	assert_int_equal(udid_valid("AZaz09-.:_", 10), 1);
	assert_int_equal(udid_valid("B58D51C5504D5257352E3120FF0D1338", 32), 1);
	assert_int_equal(udid_valid("urn:dev:mac:00-11-22-33-44-55", 29), 1);
	/* only len bytes are read */
	assert_int_equal(udid_valid("ab c", 2), 1);
}

static void
test_udid_refuses_other_characters(void **state)
{
	static const char *const bad[] = { "a b", "a/b", "a+b", "a@b", "a,b", "a=b", "a%b",
		"a\tb", "a\"b", "a\\b", "caf\xc3\xa9", "a?b", "a#b", "a\nb" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(udid_valid(bad[i], strlen(bad[i])), 0);
	assert_int_equal(udid_valid("a\0b", 3), 0);
}

static void
test_udid_of_64_characters_is_valid_65_is_not(void **state)
{
	char u[UDID_MAX + 1];

	memset(u, 'x', sizeof(u));
	assert_int_equal(udid_valid(u, UDID_MAX), 1);
	assert_int_equal(udid_valid(u, UDID_MAX + 1), 0);
}

static void
test_udid_empty_or_null_is_invalid(void **state)
{
	assert_int_equal(udid_valid("", 0), 0);
	assert_int_equal(udid_valid(NULL, 0), 0);
	assert_int_equal(udid_valid(NULL, 5), 0);
}

/*
 * The server's, ztpctl's and the EST parser's names are this rule; the
 * device's is this rule without '_' (a PrintableString has no '_').
 */
static void
test_udid_callers_agree_on_every_byte(void **state)
{
	char s[4] = "a?b";
	int c, want;

	for (c = 1; c < 256; c++) {
		s[1] = (char)c;
		want = udid_valid(s, 3);
		assert_int_equal(store_udid_valid(s), want);
		assert_int_equal(est_udid_valid(s, 3), want);
		assert_int_equal(allowcsv_udid_valid(s, 3), want);
		assert_int_equal(csr_udid_valid(s), c == '_' ? 0 : want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_rfc4648_vectors),
		cmocka_unit_test(test_decode_all_64_characters),
		cmocka_unit_test(test_decode_whitespace_between_any_characters),
		cmocka_unit_test(test_decode_empty_or_only_whitespace_is_zero_bytes),
		cmocka_unit_test(test_decode_refuses_bad_padding),
		cmocka_unit_test(test_decode_refuses_other_characters),
		cmocka_unit_test(test_decode_reads_only_len_bytes),
		cmocka_unit_test(test_decode_bound_is_the_decoded_size),
		cmocka_unit_test(test_decode_null_arguments),
		cmocka_unit_test(test_encode_rfc4648_vectors_in_lf_lines),
		cmocka_unit_test(test_encode_null_arguments),
		cmocka_unit_test(test_round_trip_in_lines_with_and_without_whitespace),
		cmocka_unit_test(test_udid_accepts_letters_digits_and_four_marks),
		cmocka_unit_test(test_udid_refuses_other_characters),
		cmocka_unit_test(test_udid_of_64_characters_is_valid_65_is_not),
		cmocka_unit_test(test_udid_empty_or_null_is_invalid),
		cmocka_unit_test(test_udid_callers_agree_on_every_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
