/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The line parser of factories' allowlist files (src/cli/allowcsv.h).
 *
 * The base64 keys are made here: a P-256 and an Ed25519 key generated with
 * OpenSSL, their DER SubjectPublicKeyInfo in base64, and its SHA-256
 * computed independently of the parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "allowcsv.h"
#include "ztp/err.h"

#define UDID "dev-0001"
#define HEX0 "0000000000000000000000000000000000000000000000000000000000000000"
#define HEXM "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff"
#define HEXM_LOWER "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define ICCID "8944502509186389635"

#define SPKI_MAX 512
#define B64_MAX (SPKI_MAX / 3 * 4 + 8)

/* a key made for the tests: its SPKI in DER and base64, and its SHA-256 in hex */
struct test_key {
	unsigned char der[SPKI_MAX];
	size_t len;
	char b64[B64_MAX];
	char sha[ALLOWCSV_KEY_HEX_SIZE];
};

static struct test_key p256, ed25519;

/* A poisoned row and reason, to see what a parse leaves alone. */
static struct allowcsv_row row;
static enum allowcsv_reason why;

static void
poison(void)
{
	memset(&row, 0xA5, sizeof(row));
	why = (enum allowcsv_reason)0x5A5A;
}

static int
row_poisoned(void)
{
	struct allowcsv_row p;

	memset(&p, 0xA5, sizeof(p));
	return memcmp(&p, &row, sizeof(p)) == 0;
}

/* base64 of der[0..len) into out, NUL-terminated (out: B64_MAX bytes) */
static void
b64(const unsigned char *der, size_t len, char *out)
{
	assert_true(len <= SPKI_MAX);
	assert_int_equal(EVP_EncodeBlock((unsigned char *)out, der, (int)len), (len + 2) / 3 * 4);
}

/* the SHA-256 of der[0..len) in lower-case hex, not through the parser's code */
static void
sha256_hex(const unsigned char *der, size_t len, char hex[ALLOWCSV_KEY_HEX_SIZE])
{
	unsigned char h[32];
	unsigned int hl = 0;
	size_t i;

	assert_int_equal(EVP_Digest(der, len, h, &hl, EVP_sha256(), NULL), 1);
	assert_int_equal(hl, 32);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
}

static void
make_key(EVP_PKEY *pk, struct test_key *k)
{
	unsigned char *p = k->der;
	int n;

	assert_non_null(pk);
	n = i2d_PUBKEY(pk, NULL);
	assert_true(n > 0 && (size_t)n <= sizeof(k->der));
	assert_int_equal(i2d_PUBKEY(pk, &p), n);
	k->len = (size_t)n;
	b64(k->der, k->len, k->b64);
	sha256_hex(k->der, k->len, k->sha);
	EVP_PKEY_free(pk);
}

static int
setup_keys(void **state)
{
	make_key(EVP_EC_gen("P-256"), &p256);
	make_key(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), &ed25519);
	return 0;
}

/* Parse s (len bytes) and expect a row. */
static void
expect_row_n(const char *s, size_t len, int may_be_header)
{
	poison();
	assert_int_equal(allowcsv_parse(s, len, may_be_header, &row, &why), 0);
	assert_int_equal(why, 0x5A5A);
}

/* Parse the C string s (not a header) and expect a row. */
static void
expect_row(const char *s)
{
	expect_row_n(s, strlen(s), 0);
}

/* Parse s (len bytes) and expect a refusal for reason r, the row untouched. */
static void
expect_refused_n(const char *s, size_t len, int may_be_header, enum allowcsv_reason r)
{
	poison();
	assert_int_equal(allowcsv_parse(s, len, may_be_header, &row, &why), ZTP_EMALFORMED);
	assert_int_equal(why, r);
	assert_true(row_poisoned());
}

static void
expect_refused(const char *s, enum allowcsv_reason r)
{
	expect_refused_n(s, strlen(s), 0, r);
	/* the same, where a header may be: nothing here looks like one */
	expect_refused_n(s, strlen(s), 1, r);
}

static void
expect_skip(const char *s, int may_be_header)
{
	poison();
	assert_int_equal(allowcsv_parse(s, strlen(s), may_be_header, &row, &why), ALLOWCSV_SKIP);
	assert_true(row_poisoned());
	assert_int_equal(why, 0x5A5A);
}

/* "UDID,<key>": the key field of a line whose other fields are good */
static void
expect_bad_key(const char *key)
{
	char line[ALLOWCSV_LINE_MAX + 1];

	snprintf(line, sizeof(line), UDID ",%s", key);
	expect_refused(line, ALLOWCSV_BAD_KEY);
}

/* ---- rows ---- */

static void
test_two_fields_give_a_row_without_group_or_iccid(void **state)
{
	expect_row(UDID "," HEXM_LOWER);
	assert_string_equal(row.udid, UDID);
	assert_string_equal(row.key, HEXM_LOWER);
	assert_string_equal(row.group, "");
	assert_string_equal(row.iccid, "");
}

static void
test_four_fields_give_a_row_with_group_and_iccid(void **state)
{
	expect_row(UDID "," HEX0 ",fleet-a," ICCID);
	assert_string_equal(row.udid, UDID);
	assert_string_equal(row.key, HEX0);
	assert_string_equal(row.group, "fleet-a");
	assert_string_equal(row.iccid, ICCID);
}

static void
test_three_fields_give_a_row_with_group(void **state)
{
	expect_row(UDID "," HEX0 ",g");
	assert_string_equal(row.group, "g");
	assert_string_equal(row.iccid, "");
}

static void
test_an_empty_group_is_none(void **state)
{
	expect_row(UDID "," HEX0 ",");
	assert_string_equal(row.group, "");
	expect_row(UDID "," HEX0 ",," ICCID);
	assert_string_equal(row.group, "");
	assert_string_equal(row.iccid, ICCID);
}

static void
test_hex_key_is_stored_in_lower_case(void **state)
{
	expect_row(UDID "," HEXM);
	assert_string_equal(row.key, HEXM_LOWER);
}

static void
test_base64_spki_of_a_p256_key_gives_its_sha256(void **state)
{
	char line[ALLOWCSV_LINE_MAX + 1];

	/* 91 bytes of DER: 124 characters of base64, one '=' */
	assert_int_equal(p256.len, 91);
	assert_int_equal(strlen(p256.b64), 124);
	snprintf(line, sizeof(line), UDID ",%s,fleet-a," ICCID, p256.b64);
	expect_row(line);
	assert_string_equal(row.key, p256.sha);
	assert_string_equal(row.group, "fleet-a");
	assert_string_equal(row.iccid, ICCID);
	/* and the same as its hash in hex */
	snprintf(line, sizeof(line), UDID ",%s", p256.sha);
	expect_row(line);
	assert_string_equal(row.key, p256.sha);
}

static void
test_base64_spki_of_an_ed25519_key_gives_its_sha256(void **state)
{
	char line[ALLOWCSV_LINE_MAX + 1];

	/* 44 bytes of DER: 60 characters, no '=' */
	assert_int_equal(ed25519.len, 44);
	snprintf(line, sizeof(line), UDID ",%s", ed25519.b64);
	expect_row(line);
	assert_string_equal(row.key, ed25519.sha);
}

static void
test_udid_of_64_characters_and_every_allowed_character(void **state)
{
	char line[256], u[ALLOWCSV_UDID_SIZE];

	memset(u, 'u', ALLOWCSV_UDID_MAX);
	u[ALLOWCSV_UDID_MAX] = '\0';
	snprintf(line, sizeof(line), "%s," HEX0, u);
	expect_row(line);
	assert_string_equal(row.udid, u);
	expect_row("AZaz09-.:_," HEX0);
	assert_string_equal(row.udid, "AZaz09-.:_");
	expect_row("x," HEX0);
	assert_string_equal(row.udid, "x");
}

static void
test_group_of_63_characters(void **state)
{
	char line[256], g[ALLOWCSV_GROUP_SIZE];

	memset(g, 'g', ALLOWCSV_GROUP_MAX);
	g[ALLOWCSV_GROUP_MAX] = '\0';
	snprintf(line, sizeof(line), UDID "," HEX0 ",%s", g);
	expect_row(line);
	assert_string_equal(row.group, g);
}

static void
test_iccid_of_18_and_20_digits(void **state)
{
	expect_row(UDID "," HEX0 ",,894450250918638963");
	assert_string_equal(row.iccid, "894450250918638963");
	expect_row(UDID "," HEX0 ",,89445025091863896350");
	assert_string_equal(row.iccid, "89445025091863896350");
}

static void
test_cr_and_line_ends_are_stripped(void **state)
{
	expect_row(UDID "," HEX0 "\r");
	assert_string_equal(row.key, HEX0);
	expect_row(UDID "," HEX0 ",g," ICCID "\r\n");
	assert_string_equal(row.iccid, ICCID);
	expect_row(UDID "," HEX0 ",g\n");
	assert_string_equal(row.group, "g");
}

static void
test_only_the_given_length_is_read(void **state)
{
	const char s[] = UDID "," HEX0 ",not a group";

	expect_row_n(s, strlen(UDID "," HEX0), 0);
	assert_string_equal(row.group, "");
}

/* ---- skipped lines ---- */

static void
test_blank_lines_and_comments_are_skipped(void **state)
{
	int h;

	for (h = 0; h < 2; h++) {
		expect_skip("", h);
		expect_skip("\n", h);
		expect_skip("\r\n", h);
		expect_skip("\r", h);
		expect_skip(" \t ", h);
		expect_skip("# a factory batch", h);
		expect_skip("  \t# indented, with \"quotes\", commas and \x01 bytes", h);
		expect_skip("#", h);
	}
	poison();
	assert_int_equal(allowcsv_parse(NULL, 0, 0, &row, &why), ALLOWCSV_SKIP);
	assert_true(row_poisoned());
	/* a NUL in a comment is the comment's business */
	poison();
	assert_int_equal(allowcsv_parse("# a\0b", 5, 0, &row, &why), ALLOWCSV_SKIP);
}

static void
test_header_is_skipped_while_it_may_be_one(void **state)
{
	char line[256];

	expect_skip("udid,key,group,iccid", 1);
	expect_skip("UDID,KEY\r\n", 1);
	expect_skip("Udid,key_sha256,group", 1);
	expect_skip("udid,", 1);
	expect_skip("udid,QUJD", 1);
	expect_skip("\xEF\xBB\xBFudid,key", 1);
	/* a header with a bad group or ICCID column title is still a header */
	expect_skip("udid,key,the group,x", 1);
	/* the device called "udid" is a row, even where a header may be */
	snprintf(line, sizeof(line), "udid,%s", p256.b64);
	expect_row_n(line, strlen(line), 1);
	assert_string_equal(row.udid, "udid");
	assert_string_equal(row.key, p256.sha);
	expect_row_n("UDID," HEX0, strlen("UDID," HEX0), 1);
	assert_string_equal(row.udid, "UDID");
}

static void
test_header_after_a_row_is_refused(void **state)
{
	expect_refused_n("udid,key,group,iccid", 20, 0, ALLOWCSV_BAD_KEY);
	expect_refused_n("udid,QUJD", 9, 0, ALLOWCSV_BAD_KEY);
}

static void
test_a_header_is_checked_like_a_line_first(void **state)
{
	/* the field count, quotes and spaces are checked before the header */
	expect_refused_n("udid", 4, 1, ALLOWCSV_ONE_FIELD);
	expect_refused_n("udid,key,group,iccid,x", 22, 1, ALLOWCSV_TOO_MANY_FIELDS);
	expect_refused_n("\"udid\",\"key\"", 12, 1, ALLOWCSV_QUOTES);
	expect_refused_n("udid, key", 9, 1, ALLOWCSV_SPACE);
	expect_refused_n("udids,key", 9, 1, ALLOWCSV_BAD_KEY);
}

static void
test_byte_order_mark_only_while_a_header_may_be(void **state)
{
	const char s[] = "\xEF\xBB\xBF" UDID "," HEX0;

	expect_row_n(s, strlen(s), 1);
	assert_string_equal(row.udid, UDID);
	expect_skip("\xEF\xBB\xBF# a comment", 1);
	expect_refused_n(s, strlen(s), 0, ALLOWCSV_BAD_UDID);
	/* half a BOM is no BOM */
	expect_refused_n(s + 1, strlen(s + 1), 1, ALLOWCSV_BAD_UDID);
}

/* ---- refusals ---- */

static void
test_line_of_2048_bytes_is_read_and_2049_refused(void **state)
{
	char line[ALLOWCSV_LINE_MAX + 8];

	memset(line, 'x', sizeof(line));
	line[0] = '#';
	poison();
	assert_int_equal(allowcsv_parse(line, ALLOWCSV_LINE_MAX, 0, &row, &why), ALLOWCSV_SKIP);
	expect_refused_n(line, ALLOWCSV_LINE_MAX + 1, 0, ALLOWCSV_TOO_LONG);
	/* the line end is not counted */
	line[ALLOWCSV_LINE_MAX] = '\r';
	line[ALLOWCSV_LINE_MAX + 1] = '\n';
	poison();
	assert_int_equal(allowcsv_parse(line, ALLOWCSV_LINE_MAX + 2, 0, &row, &why),
	    ALLOWCSV_SKIP);
	line[ALLOWCSV_LINE_MAX] = 'x';
	line[ALLOWCSV_LINE_MAX + 1] = 'x';
	/* a row's 2048 bytes, wrong only in the key */
	memcpy(line, UDID ",", strlen(UDID ","));
	expect_refused_n(line, ALLOWCSV_LINE_MAX, 0, ALLOWCSV_BAD_KEY);
	expect_refused_n(line, ALLOWCSV_LINE_MAX + 1, 0, ALLOWCSV_TOO_LONG);
	/* the BOM counts: a cut line that starts with one is still too long */
	memcpy(line, "\xEF\xBB\xBF# x", 6);
	expect_refused_n(line, ALLOWCSV_LINE_MAX + 1, 1, ALLOWCSV_TOO_LONG);
	expect_refused_n(line, ALLOWCSV_LINE_MAX + 2, 1, ALLOWCSV_TOO_LONG);
	/* and the length counts before the header check */
	memcpy(line, "udid,key,", 9);
	expect_refused_n(line, ALLOWCSV_LINE_MAX + 1, 1, ALLOWCSV_TOO_LONG);
}

static void
test_nul_is_refused(void **state)
{
	expect_refused_n(UDID "\0," HEX0, strlen(UDID) + 1 + 1 + 64, 0, ALLOWCSV_NUL);
	expect_refused_n(UDID "," HEX0 "\0", strlen(UDID) + 1 + 64 + 1, 1, ALLOWCSV_NUL);
}

static void
test_quotes_are_refused(void **state)
{
	expect_refused("\"" UDID "\"," HEX0, ALLOWCSV_QUOTES);
	expect_refused(UDID ",\"" HEX0 "\"", ALLOWCSV_QUOTES);
	expect_refused(UDID "," HEX0 ",\"fleet a\"", ALLOWCSV_QUOTES);
}

static void
test_one_field_is_refused(void **state)
{
	expect_refused(UDID, ALLOWCSV_ONE_FIELD);
	expect_refused(HEX0, ALLOWCSV_ONE_FIELD);
	expect_refused(UDID "\r\n", ALLOWCSV_ONE_FIELD);
}

static void
test_five_fields_are_refused(void **state)
{
	expect_refused(UDID "," HEX0 ",g," ICCID ",extra", ALLOWCSV_TOO_MANY_FIELDS);
	expect_refused(UDID "," HEX0 ",g," ICCID ",", ALLOWCSV_TOO_MANY_FIELDS);
	expect_refused(",,,,", ALLOWCSV_TOO_MANY_FIELDS);
	expect_refused(",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,", ALLOWCSV_TOO_MANY_FIELDS);
}

static void
test_spaces_around_fields_are_refused(void **state)
{
	expect_refused(" " UDID "," HEX0, ALLOWCSV_SPACE);
	expect_refused(UDID " ," HEX0, ALLOWCSV_SPACE);
	expect_refused(UDID ", " HEX0, ALLOWCSV_SPACE);
	expect_refused(UDID "," HEX0 "\t", ALLOWCSV_SPACE);
	expect_refused(UDID "," HEX0 ", g", ALLOWCSV_SPACE);
	expect_refused(UDID "," HEX0 ",g, " ICCID, ALLOWCSV_SPACE);
	expect_refused(UDID "," HEX0 ",g," ICCID " \r\n", ALLOWCSV_SPACE);
	expect_refused("\t," HEX0, ALLOWCSV_SPACE);
}

static void
test_bad_udids_are_refused(void **state)
{
	char line[256], u[ALLOWCSV_UDID_MAX + 2];

	memset(u, 'u', ALLOWCSV_UDID_MAX + 1);
	u[ALLOWCSV_UDID_MAX + 1] = '\0';
	snprintf(line, sizeof(line), "%s," HEX0, u);
	expect_refused(line, ALLOWCSV_BAD_UDID);
	expect_refused("," HEX0, ALLOWCSV_BAD_UDID);
	expect_refused("dev 1," HEX0, ALLOWCSV_BAD_UDID);
	expect_refused("dev/1," HEX0, ALLOWCSV_BAD_UDID);
	expect_refused("dev@1," HEX0, ALLOWCSV_BAD_UDID);
	expect_refused("dev+1," HEX0, ALLOWCSV_BAD_UDID);
	expect_refused("dev\\1," HEX0, ALLOWCSV_BAD_UDID);
	expect_refused("d\xC3\xA9v," HEX0, ALLOWCSV_BAD_UDID);
	expect_refused("dev\r1," HEX0, ALLOWCSV_BAD_UDID);
	expect_refused("dev\x7f," HEX0, ALLOWCSV_BAD_UDID);
	/* the UDID is checked before the key */
	expect_refused("dev 1,nokey", ALLOWCSV_BAD_UDID);
}

static void
test_hex_key_of_63_or_65_digits_is_refused(void **state)
{
	char key[ALLOWCSV_KEY_HEX_SIZE + 1], line[128];

	memcpy(key, HEXM, 64);
	key[63] = '\0';
	expect_bad_key(key); /* 63 */
	key[63] = HEXM[63];
	key[64] = 'f';
	key[65] = '\0';
	expect_bad_key(key); /* 65 */
	expect_bad_key("00" HEX0);
	expect_bad_key("");
	/* 64 characters, one of them not hex */
	memcpy(key, HEXM, 64);
	key[61] = 'g';
	key[64] = '\0';
	expect_bad_key(key);
	/* and 64 is a key */
	key[61] = HEXM[61];
	snprintf(line, sizeof(line), UDID ",%s", key);
	expect_row(line);
	assert_string_equal(row.key, HEXM_LOWER);
}

static void
test_garbage_base64_is_refused(void **state)
{
	char bad[B64_MAX];
	size_t n = strlen(p256.b64);

	expect_bad_key("!!!!");
	expect_bad_key("QUJD!");
	expect_bad_key("QQ");     /* not padded */
	expect_bad_key("QQ==QQ=="); /* padding inside */
	expect_bad_key("Q===");
	expect_bad_key("====");
	expect_bad_key("MFkw-_8A"); /* the URL alphabet */
	/* a good key with a character changed, cut short, or unpadded */
	memcpy(bad, p256.b64, n + 1);
	bad[40] = '*';
	expect_bad_key(bad);
	memcpy(bad, p256.b64, n + 1);
	bad[n - 1] = '\0';
	expect_bad_key(bad);
	memcpy(bad, p256.b64, n + 1);
	bad[n - 4] = '\0';
	expect_bad_key(bad);
	memcpy(bad, p256.b64, n + 1);
	bad[n / 2] = '=';
	expect_bad_key(bad);
}

static void
test_base64_that_is_not_an_spki_is_refused(void **state)
{
	static const unsigned char integer[] = { 0x02, 0x01, 0x05 };
	static const unsigned char empty_seq[] = { 0x30, 0x00 };
	unsigned char der[SPKI_MAX + 1];
	char b[B64_MAX];

	expect_bad_key("QUJD"); /* "ABC" */
	expect_bad_key("aGVsbG8gd29ybGQh"); /* "hello world!" */
	b64(integer, sizeof(integer), b);
	expect_bad_key(b);
	b64(empty_seq, sizeof(empty_seq), b);
	expect_bad_key(b);
	/* 64 characters of base64 that are not hex: decoded, and no SPKI */
	expect_bad_key("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
	/* the SPKI with a byte after it */
	memcpy(der, p256.der, p256.len);
	der[p256.len] = 0;
	b64(der, p256.len + 1, b);
	expect_bad_key(b);
	/* the SPKI cut short */
	b64(p256.der, p256.len - 1, b);
	expect_bad_key(b);
	/* a P-256 point that is not on the curve: no key OpenSSL can load */
	memcpy(der, p256.der, p256.len);
	der[p256.len - 1] ^= 0x01;
	b64(der, p256.len, b);
	expect_bad_key(b);
	/* an unknown algorithm: the P-256 OID's last byte changed */
	memcpy(der, p256.der, p256.len);
	assert_int_equal(der[12], 0x01); /* 1.2.840.10045.2.1 ends in 0x01 at offset 12 */
	der[12] = 0x7f;
	b64(der, p256.len, b);
	expect_bad_key(b);
}

static void
test_a_refused_key_leaves_the_openssl_error_queue_alone(void **state)
{
	ERR_clear_error();
	expect_bad_key("QUJD");
	assert_int_equal(ERR_peek_error(), 0);
	/* and what was there before stays */
	ERR_raise(ERR_LIB_USER, 42);
	expect_bad_key("aGVsbG8gd29ybGQh");
	assert_int_equal(ERR_GET_REASON(ERR_peek_last_error()), 42);
	ERR_clear_error();
}

static void
test_bad_group_names_are_refused(void **state)
{
	char line[256], g[ALLOWCSV_GROUP_MAX + 2];

	memset(g, 'g', ALLOWCSV_GROUP_MAX + 1);
	g[ALLOWCSV_GROUP_MAX + 1] = '\0';
	snprintf(line, sizeof(line), UDID "," HEX0 ",%s", g);
	expect_refused(line, ALLOWCSV_BAD_GROUP);
	expect_refused(UDID "," HEX0 ",fleet a", ALLOWCSV_BAD_GROUP);
	expect_refused(UDID "," HEX0 ",fleet:a", ALLOWCSV_BAD_GROUP);
	expect_refused(UDID "," HEX0 ",fleet/a," ICCID, ALLOWCSV_BAD_GROUP);
	/* the key is checked before the group */
	expect_refused(UDID ",QUJD,fleet a", ALLOWCSV_BAD_KEY);
}

static void
test_bad_iccids_are_refused(void **state)
{
	expect_refused(UDID "," HEX0 ",g,89445025091863896", ALLOWCSV_BAD_ICCID);    /* 17 */
	expect_refused(UDID "," HEX0 ",g,894450250918638963501", ALLOWCSV_BAD_ICCID); /* 21 */
	expect_refused(UDID "," HEX0 ",g,894450250918638963X", ALLOWCSV_BAD_ICCID);
	expect_refused(UDID "," HEX0 ",,123", ALLOWCSV_BAD_ICCID);
	/* an empty fourth field is refused, unlike an empty third */
	expect_refused(UDID "," HEX0 ",g,", ALLOWCSV_BAD_ICCID);
	expect_refused(UDID "," HEX0 ",,", ALLOWCSV_BAD_ICCID);
	/* the group is checked before the ICCID */
	expect_refused(UDID "," HEX0 ",g g,123", ALLOWCSV_BAD_GROUP);
}

static void
test_a_cr_inside_is_refused(void **state)
{
	/* only the one before the line end goes */
	expect_refused(UDID "," HEX0 "\r\r", ALLOWCSV_BAD_KEY);
	expect_refused(UDID "," HEX0 ",g\r," ICCID, ALLOWCSV_BAD_GROUP);
	expect_refused(UDID "," HEX0 ",g," ICCID "\r\r\n", ALLOWCSV_BAD_ICCID);
}

/* ---- reasons and UDIDs ---- */

static void
test_every_reason_has_a_sentence(void **state)
{
	int r;

	for (r = 1; r < ALLOWCSV_NREASONS; r++) {
		assert_non_null(allowcsv_reason(r));
		assert_true(strlen(allowcsv_reason(r)) > 10);
	}
	assert_string_equal(allowcsv_reason(ALLOWCSV_NREASONS), "unknown reason");
	assert_string_equal(allowcsv_reason((enum allowcsv_reason)-1), "unknown reason");
	/* the sentences that ztpctl prints, as the integration tests expect them */
	assert_string_equal(allowcsv_reason(ALLOWCSV_TOO_MANY_FIELDS),
	    "more than 4 fields (udid,key,group,iccid)");
	assert_true(strncmp(allowcsv_reason(ALLOWCSV_BAD_KEY), "invalid key", 11) == 0);
}

static void
test_udid_valid(void **state)
{
	char u[ALLOWCSV_UDID_MAX + 1];

	memset(u, 'u', sizeof(u));
	assert_int_equal(allowcsv_udid_valid("a", 1), 1);
	assert_int_equal(allowcsv_udid_valid("AZaz09-.:_", 10), 1);
	assert_int_equal(allowcsv_udid_valid("", 0), 0);
	assert_int_equal(allowcsv_udid_valid(NULL, 0), 0);
	assert_int_equal(allowcsv_udid_valid("a,b", 3), 0);
	assert_int_equal(allowcsv_udid_valid("a\0b", 3), 0);
	assert_int_equal(allowcsv_udid_valid("a b", 3), 0);
	assert_int_equal(allowcsv_udid_valid(u, ALLOWCSV_UDID_MAX), 1);
	assert_int_equal(allowcsv_udid_valid(u, ALLOWCSV_UDID_MAX + 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_fields_give_a_row_without_group_or_iccid),
		cmocka_unit_test(test_four_fields_give_a_row_with_group_and_iccid),
		cmocka_unit_test(test_three_fields_give_a_row_with_group),
		cmocka_unit_test(test_an_empty_group_is_none),
		cmocka_unit_test(test_hex_key_is_stored_in_lower_case),
		cmocka_unit_test(test_base64_spki_of_a_p256_key_gives_its_sha256),
		cmocka_unit_test(test_base64_spki_of_an_ed25519_key_gives_its_sha256),
		cmocka_unit_test(test_udid_of_64_characters_and_every_allowed_character),
		cmocka_unit_test(test_group_of_63_characters),
		cmocka_unit_test(test_iccid_of_18_and_20_digits),
		cmocka_unit_test(test_cr_and_line_ends_are_stripped),
		cmocka_unit_test(test_only_the_given_length_is_read),
		cmocka_unit_test(test_blank_lines_and_comments_are_skipped),
		cmocka_unit_test(test_header_is_skipped_while_it_may_be_one),
		cmocka_unit_test(test_header_after_a_row_is_refused),
		cmocka_unit_test(test_a_header_is_checked_like_a_line_first),
		cmocka_unit_test(test_byte_order_mark_only_while_a_header_may_be),
		cmocka_unit_test(test_line_of_2048_bytes_is_read_and_2049_refused),
		cmocka_unit_test(test_nul_is_refused),
		cmocka_unit_test(test_quotes_are_refused),
		cmocka_unit_test(test_one_field_is_refused),
		cmocka_unit_test(test_five_fields_are_refused),
		cmocka_unit_test(test_spaces_around_fields_are_refused),
		cmocka_unit_test(test_bad_udids_are_refused),
		cmocka_unit_test(test_hex_key_of_63_or_65_digits_is_refused),
		cmocka_unit_test(test_garbage_base64_is_refused),
		cmocka_unit_test(test_base64_that_is_not_an_spki_is_refused),
		cmocka_unit_test(test_a_refused_key_leaves_the_openssl_error_queue_alone),
		cmocka_unit_test(test_bad_group_names_are_refused),
		cmocka_unit_test(test_bad_iccids_are_refused),
		cmocka_unit_test(test_a_cr_inside_is_refused),
		cmocka_unit_test(test_every_reason_has_a_sentence),
		cmocka_unit_test(test_udid_valid),
	};

	return cmocka_run_group_tests(tests, setup_keys, NULL);
}
