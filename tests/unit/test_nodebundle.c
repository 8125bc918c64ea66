/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node bundle's format (src/server/proto/nodebundle.h): a sealed
 * bundle opens with its passphrase and no other; every cut, every flipped
 * byte, another version, costs or lengths out of bounds are refused with
 * the reason; the sections are canonical and bounded.
 *
 * scrypt runs at log2 N 14 here (16 MiB, the least a reader accepts) so
 * that the tests stay fast; the byte-by-byte checks use the derived key.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nodebundle.h"
#include "ztp/err.h"

#define LOG2N NODEBUNDLE_LOG2N_MIN
#define PASS "correct horse battery"

static const uint8_t secret[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
	18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
static const char ca_pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
static const char ca_key[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE\n"
			     "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char ca_pass[] = "00112233445566778899aabbccddeeff"
			      "00112233445566778899AABBCCDDEEFF";

static char why[256];

static struct nodebundle
full(void)
{
	struct nodebundle nb = {
		.secret_key = secret,
		.ca_pem = (const uint8_t *)ca_pem,
		.ca_pem_len = sizeof(ca_pem) - 1,
		.ca_key = (const uint8_t *)ca_key,
		.ca_key_len = sizeof(ca_key) - 1,
		.ca_pass = (const uint8_t *)ca_pass,
		.ca_pass_len = sizeof(ca_pass) - 1,
	};
	return nb;
}

/* A sealed bundle of full() under PASS; the caller frees it. */
static uint8_t *
sealed(size_t *len)
{
	struct nodebundle nb = full();
	uint8_t *file = NULL;

	assert_int_equal(nodebundle_seal(&nb, PASS, strlen(PASS), LOG2N, &file, len), 0);
	assert_non_null(file);
	return file;
}

/* The key of file (its header's salt and costs) under PASS. */
static void
key_of(const uint8_t *file, size_t len, uint8_t key[NODEBUNDLE_KEY_LEN])
{
	struct nodebundle_header h;

	assert_int_equal(nodebundle_header_read(file, len, &h, why, sizeof(why)), 0);
	assert_int_equal(nodebundle_derive(&h, PASS, strlen(PASS), key), 0);
}

static void
assert_same(const struct nodebundle *a, const struct nodebundle *b)
{
	assert_memory_equal(a->secret_key, b->secret_key, NODEBUNDLE_SECRET_KEY_LEN);
	assert_int_equal(a->ca_pem_len, b->ca_pem_len);
	assert_memory_equal(a->ca_pem, b->ca_pem, a->ca_pem_len);
	assert_int_equal(a->ca_key == NULL, b->ca_key == NULL);
	assert_int_equal(a->ca_key_len, b->ca_key_len);
	if (a->ca_key != NULL)
		assert_memory_equal(a->ca_key, b->ca_key, a->ca_key_len);
	assert_int_equal(a->ca_pass == NULL, b->ca_pass == NULL);
	assert_int_equal(a->ca_pass_len, b->ca_pass_len);
	if (a->ca_pass != NULL)
		assert_memory_equal(a->ca_pass, b->ca_pass, a->ca_pass_len);
}

/* Open file under pass: the code, and on failure no plaintext handed out. */
static int
open_with(const uint8_t *file, size_t len, const char *pass, struct nodebundle *nb)
{
	uint8_t *plain = (uint8_t *)"untouched";
	size_t plainlen = 7;
	int rc;

	why[0] = '\0';
	rc = nodebundle_open(file, len, pass, strlen(pass), &plain, &plainlen, nb, why,
	    sizeof(why));
	if (rc != 0) {
		assert_null(plain);
		assert_int_equal(plainlen, 0);
		assert_null(nb->secret_key);
		assert_true(why[0] != '\0');
	} else
		nodebundle_plain_free(plain, plainlen);
	return rc;
}

static void
test_sealed_bundle_opens_with_its_passphrase(void **state)
{
	struct nodebundle in = full(), out;
	uint8_t *file, *plain = NULL;
	size_t len, plainlen = 0;

	file = sealed(&len);
	assert_int_equal(len, NODEBUNDLE_HEADER_LEN + nodebundle_encoded_len(&in) +
	    NODEBUNDLE_TAG_LEN);
	assert_memory_equal(file, "ZTP-NODE\x00\x01", 10);
	assert_int_equal(nodebundle_open(file, len, PASS, strlen(PASS), &plain, &plainlen, &out,
	    why, sizeof(why)), 0);
	assert_same(&in, &out);
	/* nothing in clear in the file */
	assert_null(memmem(file, len, ca_pem, 10));
	assert_null(memmem(file, len, secret, 8));
	nodebundle_plain_free(plain, plainlen);
	free(file);
}

/* Two seals of the same bundle: new salt and nonce each time. */
static void
test_each_seal_has_its_own_salt_and_nonce(void **state)
{
	size_t a_len, b_len;
	uint8_t *a = sealed(&a_len), *b = sealed(&b_len);

	assert_int_equal(a_len, b_len);
	assert_memory_not_equal(a + 16, b + 16, NODEBUNDLE_SALT_LEN);
	assert_memory_not_equal(a + 32, b + 32, NODEBUNDLE_NONCE_LEN);
	free(a);
	free(b);
}

/* A data directory from before ca.pass; and a bundle without the CA key. */
static void
test_ca_pass_and_ca_key_are_optional(void **state)
{
	struct nodebundle in = full(), out;
	uint8_t *file = NULL;
	size_t len;

	in.ca_pass = NULL;
	in.ca_pass_len = 0;
	assert_int_equal(nodebundle_seal(&in, PASS, strlen(PASS), LOG2N, &file, &len), 0);
	assert_int_equal(open_with(file, len, PASS, &out), 0);
	free(file);

	in.ca_key = NULL;
	in.ca_key_len = 0;
	assert_int_equal(nodebundle_seal(&in, PASS, strlen(PASS), LOG2N, &file, &len), 0);
	assert_int_equal(open_with(file, len, PASS, &out), 0);
	free(file);

	/* ca.pass without ca.key is no bundle */
	in = full();
	in.ca_key = NULL;
	in.ca_key_len = 0;
	assert_int_equal(nodebundle_seal(&in, PASS, strlen(PASS), LOG2N, &file, &len),
	    ZTP_EINVAL);
	assert_null(file);
}

static void
test_wrong_passphrase_is_refused(void **state)
{
	struct nodebundle out;
	size_t len;
	uint8_t *file = sealed(&len);

	assert_int_equal(open_with(file, len, "correct horse battery!", &out), ZTP_EAUTH);
	assert_non_null(strstr(why, "wrong passphrase"));
	assert_int_equal(open_with(file, len, "Correct horse battery", &out), ZTP_EAUTH);
	assert_int_equal(open_with(file, len, "", &out), ZTP_EINVAL);
	free(file);
}

/* Every prefix of a bundle is refused by the header, before any key is derived. */
static void
test_truncated_bundle_is_refused_at_every_length(void **state)
{
	struct nodebundle_header h;
	struct nodebundle out;
	size_t len, cut;
	uint8_t *file = sealed(&len);

	for (cut = 0; cut < len; cut++) {
		int rc = nodebundle_header_read(file, cut, &h, why, sizeof(why));
		assert_int_equal(rc, ZTP_EMALFORMED);
		assert_int_equal(h.version, 0);
		if (cut >= 10)
			assert_non_null(strstr(why, "truncated"));
	}
	/* through the whole of open too (no scrypt: refused first) */
	assert_int_equal(open_with(file, len - 1, PASS, &out), ZTP_EMALFORMED);
	assert_int_equal(open_with(file, NODEBUNDLE_HEADER_LEN, PASS, &out), ZTP_EMALFORMED);
	free(file);
}

static void
test_trailing_bytes_are_refused(void **state)
{
	struct nodebundle_header h;
	size_t len;
	uint8_t *file = sealed(&len), *longer = malloc(len + 1);

	assert_non_null(longer);
	memcpy(longer, file, len);
	longer[len] = 0;
	assert_int_equal(nodebundle_header_read(longer, len + 1, &h, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_non_null(strstr(why, "after the end"));
	free(longer);
	free(file);
}

static void
test_other_version_or_magic_is_refused(void **state)
{
	struct nodebundle_header h;
	size_t len;
	uint8_t *file = sealed(&len);

	file[9] = 2;
	assert_int_equal(nodebundle_header_read(file, len, &h, why, sizeof(why)), ZTP_ERANGE);
	assert_non_null(strstr(why, "version 2"));
	file[9] = 0;
	assert_int_equal(nodebundle_header_read(file, len, &h, why, sizeof(why)), ZTP_ERANGE);
	file[9] = 1;
	file[0] = 'z';
	assert_int_equal(nodebundle_header_read(file, len, &h, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_non_null(strstr(why, "not a ztp node bundle"));
	assert_int_equal(nodebundle_header_read((const uint8_t *)"-----BEGIN", 10, &h, why,
	    sizeof(why)), ZTP_EMALFORMED);
	free(file);
}

/*
 * Every byte of the file flipped, one at a time: the header refuses it, or
 * the tag does (the header is the associated data). With the derived key,
 * so that no byte costs a run of scrypt.
 */
static void
test_every_flipped_byte_is_refused(void **state)
{
	struct nodebundle_header h;
	uint8_t key[NODEBUNDLE_KEY_LEN], *plain;
	size_t len, i, n;
	uint8_t *file = sealed(&len);
	int rc, auth = 0;

	key_of(file, len, key);
	assert_non_null(plain = malloc(len));
	for (i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			file[i] ^= (uint8_t)(1 << bit);
			rc = nodebundle_header_read(file, len, &h, why, sizeof(why));
			if (rc == 0) {
				memset(plain, 0x5a, len);
				rc = nodebundle_open_key(file, len, &h, key, plain, len, &n);
				assert_int_equal(rc, ZTP_EAUTH);
				/* nothing of the plaintext left behind */
				assert_null(memmem(plain, len, ca_key, 10));
				auth++;
			}
			assert_int_not_equal(rc, 0);
			file[i] ^= (uint8_t)(1 << bit);
		}
	}
	/* the salt, nonce, costs' bits and the body: the tag's to refuse */
	assert_true(auth > (int)(len - NODEBUNDLE_HEADER_LEN));
	/* and unchanged it opens */
	assert_int_equal(nodebundle_header_read(file, len, &h, why, sizeof(why)), 0);
	assert_int_equal(nodebundle_open_key(file, len, &h, key, plain, len, &n), 0);
	free(plain);
	free(file);
}

/* A key derived with other costs or another salt does not open it. */
static void
test_salt_and_costs_change_the_key(void **state)
{
	struct nodebundle_header h, other;
	uint8_t a[NODEBUNDLE_KEY_LEN], b[NODEBUNDLE_KEY_LEN];
	size_t len;
	uint8_t *file = sealed(&len);

	assert_int_equal(nodebundle_header_read(file, len, &h, why, sizeof(why)), 0);
	assert_int_equal(nodebundle_derive(&h, PASS, strlen(PASS), a), 0);
	other = h;
	other.salt[0] ^= 1;
	assert_int_equal(nodebundle_derive(&other, PASS, strlen(PASS), b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	other = h;
	other.r = 4;
	assert_int_equal(nodebundle_derive(&other, PASS, strlen(PASS), b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	free(file);
}

/* Costs out of bounds: refused by the header, never run. */
static void
test_costs_out_of_bounds_are_refused(void **state)
{
	static const struct {
		uint8_t kdf, log2n, r, p;
	} bad[] = {
		{ 2, 17, 8, 1 },  /* another KDF */
		{ 0, 17, 8, 1 },
		{ 1, 13, 8, 1 },  /* too cheap */
		{ 1, 21, 8, 1 },  /* N too large */
		{ 1, 255, 8, 1 }, /* a shift past 64 bits */
		{ 1, 17, 0, 1 },
		{ 1, 17, 33, 1 },
		{ 1, 17, 8, 0 },
		{ 1, 17, 8, 5 },
		{ 1, 20, 3, 1 },  /* 384 MiB */
	};
	struct nodebundle_header h;
	uint8_t key[NODEBUNDLE_KEY_LEN];
	size_t len, i;
	uint8_t *file = sealed(&len);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t save[4];
		memcpy(save, file + 10, 4);
		file[10] = bad[i].kdf;
		file[11] = bad[i].log2n;
		file[12] = bad[i].r;
		file[13] = bad[i].p;
		assert_int_equal(nodebundle_header_read(file, len, &h, why, sizeof(why)),
		    ZTP_EMALFORMED);
		memcpy(file + 10, save, 4);
		/* derive checks the same bounds for a header made by hand */
		memset(&h, 0, sizeof(h));
		h.kdf = bad[i].kdf;
		h.log2n = bad[i].log2n;
		h.r = bad[i].r;
		h.p = bad[i].p;
		assert_int_equal(nodebundle_derive(&h, PASS, strlen(PASS), key), ZTP_EINVAL);
	}
	/* the reserved bytes */
	file[15] = 1;
	assert_int_equal(nodebundle_header_read(file, len, &h, why, sizeof(why)),
	    ZTP_EMALFORMED);
	free(file);
}

/* A length over the bound, in the header or in the file itself. */
static void
test_oversize_lengths_are_refused(void **state)
{
	struct nodebundle_header h;
	size_t len;
	uint8_t *file = sealed(&len), *big;

	/* the plaintext length: past the bound, and past the file */
	file[44] = 0xff;
	file[45] = file[46] = file[47] = 0xff;
	assert_int_equal(nodebundle_header_read(file, len, &h, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_non_null(strstr(why, "at most"));
	file[44] = 0;
	file[45] = 0x10;
	file[46] = 0;
	file[47] = 1; /* NODEBUNDLE_PLAIN_MAX + 1 */
	assert_int_equal(nodebundle_header_read(file, len, &h, why, sizeof(why)),
	    ZTP_EMALFORMED);
	file[45] = 0x01; /* within the bound, past the end of the file */
	assert_int_equal(nodebundle_header_read(file, len, &h, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_non_null(strstr(why, "truncated"));

	/* a file over NODEBUNDLE_FILE_MAX: refused by its size alone */
	assert_non_null(big = calloc(1, NODEBUNDLE_FILE_MAX + 1));
	memcpy(big, file, NODEBUNDLE_HEADER_LEN);
	assert_int_equal(nodebundle_header_read(big, NODEBUNDLE_FILE_MAX + 1, &h, why,
	    sizeof(why)), ZTP_ETOOBIG);
	free(big);
	free(file);
}

/* decode: section by section, each rule with its reason. */
static void
test_sections_are_bounded_and_canonical(void **state)
{
	struct nodebundle in = full(), out;
	uint8_t buf[1024];
	size_t len, i;

	assert_int_equal(nodebundle_encode(&in, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, nodebundle_encoded_len(&in));
	assert_int_equal(nodebundle_decode(buf, len, &out, why, sizeof(why)), 0);
	assert_same(&in, &out);
	assert_int_equal(buf[0], NODEBUNDLE_SECRET_KEY);

	/*
	 * every cut: refused, never read past (exactly i bytes: ASan sees a
	 * read past them), but where it ends after ca.pem or ca.key: those are
	 * bundles without the optional sections
	 */
	for (i = 0; i < len; i++) {
		size_t after_pem = 5 + 32 + 5 + in.ca_pem_len, after_key = after_pem + 5 +
		    in.ca_key_len;
		uint8_t *cut = malloc(i > 0 ? i : 1);
		int rc;

		assert_non_null(cut);
		memcpy(cut, buf, i);
		rc = nodebundle_decode(cut, i, &out, why, sizeof(why));
		if (i == after_pem || i == after_key) {
			assert_int_equal(rc, 0);
			assert_int_equal(out.ca_pass == NULL, 1);
			assert_int_equal(out.ca_key == NULL, i == after_pem);
		} else {
			assert_int_equal(rc, ZTP_EMALFORMED);
			assert_null(out.secret_key);
		}
		free(cut);
	}
	/* a section length past the end, the largest one included */
	buf[1] = buf[2] = buf[3] = buf[4] = 0xff;
	assert_int_equal(nodebundle_decode(buf, len, &out, why, sizeof(why)), ZTP_EMALFORMED);
	buf[1] = buf[2] = buf[3] = 0;
	buf[4] = 33; /* secret.key of 33 bytes */
	assert_int_equal(nodebundle_decode(buf, len, &out, why, sizeof(why)), ZTP_EMALFORMED);
	buf[4] = 32;
	/* trailing: a partial section header */
	buf[len] = 5;
	assert_int_equal(nodebundle_decode(buf, len + 1, &out, why, sizeof(why)),
	    ZTP_EMALFORMED);
	/* an unknown section type, even at the end and empty */
	buf[len] = 5;
	memset(buf + len + 1, 0, 4);
	assert_int_equal(nodebundle_decode(buf, len + 5, &out, why, sizeof(why)),
	    ZTP_EMALFORMED);
	assert_non_null(strstr(why, "unknown section type 5"));
	/* nothing at all */
	assert_int_equal(nodebundle_decode(buf, 0, &out, why, sizeof(why)), ZTP_EMALFORMED);
	assert_non_null(strstr(why, "no secret.key"));
}

/* Hand-made plaintexts: order, repeats, required sections, values. */
static void
test_section_rules(void **state)
{
	struct nodebundle out;
	uint8_t buf[256];
	size_t n;

#define SEC(t, v, l)                                     \
	do {                                             \
		buf[n] = (t);                            \
		buf[n + 1] = buf[n + 2] = buf[n + 3] = 0; \
		buf[n + 4] = (uint8_t)(l);               \
		memcpy(buf + n + 5, (v), (l));           \
		n += 5 + (l);                            \
	} while (0)

	/* the least bundle: secret.key and ca.pem */
	n = 0;
	SEC(1, secret, 32);
	SEC(2, "x", 1);
	assert_int_equal(nodebundle_decode(buf, n, &out, why, sizeof(why)), 0);
	assert_null(out.ca_key);
	assert_null(out.ca_pass);
	/* out of order */
	n = 0;
	SEC(2, "x", 1);
	SEC(1, secret, 32);
	assert_int_equal(nodebundle_decode(buf, n, &out, why, sizeof(why)), ZTP_EMALFORMED);
	assert_non_null(strstr(why, "out of order"));
	/* repeated */
	n = 0;
	SEC(1, secret, 32);
	SEC(1, secret, 32);
	SEC(2, "x", 1);
	assert_int_equal(nodebundle_decode(buf, n, &out, why, sizeof(why)), ZTP_EMALFORMED);
	/* no ca.pem */
	n = 0;
	SEC(1, secret, 32);
	assert_int_equal(nodebundle_decode(buf, n, &out, why, sizeof(why)), ZTP_EMALFORMED);
	assert_non_null(strstr(why, "no ca.pem"));
	/* ca.pass without ca.key */
	n = 0;
	SEC(1, secret, 32);
	SEC(2, "x", 1);
	SEC(4, ca_pass, 64);
	assert_int_equal(nodebundle_decode(buf, n, &out, why, sizeof(why)), ZTP_EMALFORMED);
	assert_non_null(strstr(why, "ca.pass without ca.key"));
	/* ca.pass not hexadecimal */
	n = 0;
	SEC(1, secret, 32);
	SEC(2, "x", 1);
	SEC(3, "k", 1);
	SEC(4, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg", 64);
	assert_int_equal(nodebundle_decode(buf, n, &out, why, sizeof(why)), ZTP_EMALFORMED);
	/* a NUL in text, an empty ca.pem */
	n = 0;
	SEC(1, secret, 32);
	SEC(2, "a\0b", 3);
	assert_int_equal(nodebundle_decode(buf, n, &out, why, sizeof(why)), ZTP_EMALFORMED);
	assert_non_null(strstr(why, "NUL"));
	n = 0;
	SEC(1, secret, 32);
	SEC(2, "", 0);
	assert_int_equal(nodebundle_decode(buf, n, &out, why, sizeof(why)), ZTP_EMALFORMED);
#undef SEC
}

/* encode: what decode would refuse is not written; the buffer's size is checked. */
static void
test_encode_refuses_what_decode_would(void **state)
{
	struct nodebundle nb = full();
	uint8_t buf[1024], *file = NULL;
	size_t len;

	assert_int_equal(nodebundle_encode(&nb, buf, nodebundle_encoded_len(&nb) - 1, &len),
	    ZTP_ERANGE);
	nb.ca_pass_len = 63;
	assert_int_equal(nodebundle_encoded_len(&nb), 0);
	assert_int_equal(nodebundle_encode(&nb, buf, sizeof(buf), &len), ZTP_EINVAL);
	nb = full();
	nb.secret_key = NULL;
	assert_int_equal(nodebundle_encode(&nb, buf, sizeof(buf), &len), ZTP_EINVAL);
	nb = full();
	nb.ca_pem_len = NODEBUNDLE_CA_PEM_MAX + 1;
	assert_int_equal(nodebundle_encoded_len(&nb), 0);
	/* passphrases: none, too long */
	nb = full();
	assert_int_equal(nodebundle_seal(&nb, "", 0, LOG2N, &file, &len), ZTP_EINVAL);
	assert_int_equal(nodebundle_seal(&nb, PASS, NODEBUNDLE_PASS_MAX + 1, LOG2N, &file, &len),
	    ZTP_EINVAL);
	assert_int_equal(nodebundle_seal(&nb, PASS, strlen(PASS), 13, &file, &len), ZTP_EINVAL);
	assert_null(file);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sealed_bundle_opens_with_its_passphrase),
		cmocka_unit_test(test_each_seal_has_its_own_salt_and_nonce),
		cmocka_unit_test(test_ca_pass_and_ca_key_are_optional),
		cmocka_unit_test(test_wrong_passphrase_is_refused),
		cmocka_unit_test(test_truncated_bundle_is_refused_at_every_length),
		cmocka_unit_test(test_trailing_bytes_are_refused),
		cmocka_unit_test(test_other_version_or_magic_is_refused),
		cmocka_unit_test(test_every_flipped_byte_is_refused),
		cmocka_unit_test(test_salt_and_costs_change_the_key),
		cmocka_unit_test(test_costs_out_of_bounds_are_refused),
		cmocka_unit_test(test_oversize_lengths_are_refused),
		cmocka_unit_test(test_sections_are_bounded_and_canonical),
		cmocka_unit_test(test_section_rules),
		cmocka_unit_test(test_encode_refuses_what_decode_would),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
