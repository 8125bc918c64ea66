/* SPDX-License-Identifier: Apache-2.0 */
/* The pre_shared_key extension's identities, as the ClientHello callback reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tlsext.h"
#include "ztp/err.h"

/* Build an extension: identities (with ages), then one 33-byte binder list. */
static size_t
build(uint8_t *out, const char *const *ids, int n)
{
	size_t off = 2, start, i, len;

	for (i = 0; i < (size_t)n; i++) {
		len = strlen(ids[i]);
		out[off] = (uint8_t)(len >> 8);
		out[off + 1] = (uint8_t)len;
		memcpy(out + off + 2, ids[i], len);
		memset(out + off + 2 + len, 0, 4);
		off += 2 + len + 4;
	}
	out[0] = (uint8_t)((off - 2) >> 8);
	out[1] = (uint8_t)(off - 2);
	start = off;
	out[off++] = 0;
	out[off++] = 33;
	out[off++] = 32;
	memset(out + off, 0xAB, 32);
	off += 32;
	(void)start;
	return off;
}

static void
test_one_identity(void **state)
{
	const char *ids[] = { "8944502509186389635" };
	struct tlsext_psk_identity out[4];
	uint8_t ext[256];
	size_t len = build(ext, ids, 1);

	assert_int_equal(tlsext_psk_identities(ext, len, out, 4), 1);
	assert_int_equal(out[0].len, 19);
	assert_memory_equal(out[0].id, ids[0], 19);
}

static void
test_several_identities_and_the_cap(void **state)
{
	const char *ids[] = { "a", "bb", "ccc" };
	struct tlsext_psk_identity out[2];
	uint8_t ext[256];
	size_t len = build(ext, ids, 3);

	assert_int_equal(tlsext_psk_identities(ext, len, out, 2), 2);
	assert_int_equal(out[1].len, 2);
	assert_memory_equal(out[1].id, "bb", 2);
}

static void
test_truncated_anywhere_is_malformed(void **state)
{
	const char *ids[] = { "8944502509186389635", "x" };
	struct tlsext_psk_identity out[4];
	uint8_t ext[256];
	size_t len = build(ext, ids, 2), cut;

	for (cut = 0; cut < len; cut++)
		assert_int_equal(tlsext_psk_identities(ext, cut, out, 4), ZTP_EMALFORMED);
}

static void
test_trailing_bytes_are_malformed(void **state)
{
	const char *ids[] = { "abc" };
	struct tlsext_psk_identity out[4];
	uint8_t ext[256];
	size_t len = build(ext, ids, 1);

	ext[len] = 0;
	assert_int_equal(tlsext_psk_identities(ext, len + 1, out, 4), ZTP_EMALFORMED);
}

static void
test_bad_lengths_are_malformed(void **state)
{
	const char *ids[] = { "abc" };
	struct tlsext_psk_identity out[4];
	uint8_t ext[256];
	size_t len = build(ext, ids, 1);

	ext[3] = 0; /* identity length 0 */
	assert_int_equal(tlsext_psk_identities(ext, len, out, 4), ZTP_EMALFORMED);
	len = build(ext, ids, 1);
	ext[3] = 200; /* identity longer than the list */
	assert_int_equal(tlsext_psk_identities(ext, len, out, 4), ZTP_EMALFORMED);
	len = build(ext, ids, 1);
	ext[1] = 6; /* identities list under 7 bytes */
	assert_int_equal(tlsext_psk_identities(ext, len, out, 4), ZTP_EMALFORMED);
	assert_int_equal(tlsext_psk_identities(NULL, 10, out, 4), ZTP_EMALFORMED);
	assert_int_equal(tlsext_psk_identities(ext, len, out, 0), ZTP_EMALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_identity),
		cmocka_unit_test(test_several_identities_and_the_cap),
		cmocka_unit_test(test_truncated_anywhere_is_malformed),
		cmocka_unit_test(test_trailing_bytes_are_malformed),
		cmocka_unit_test(test_bad_lengths_are_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
