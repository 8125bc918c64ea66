/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ZTP certificate bundle codec (include/ztp/ztpcert.h): round trips,
 * every bound, every truncation, the DER lengths it accepts and refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ztp/err.h"
#include "ztp/ztpcert.h"

/* One DER SEQUENCE of n content bytes (shortest length form) into out; its size. */
static size_t
seq(size_t n, uint8_t fill, uint8_t *out)
{
	size_t h;

	out[0] = 0x30;
	if (n < 0x80) {
		out[1] = (uint8_t)n;
		h = 2;
	} else if (n < 256) {
		out[1] = 0x81;
		out[2] = (uint8_t)n;
		h = 3;
	} else {
		out[1] = 0x82;
		out[2] = (uint8_t)(n >> 8);
		out[3] = (uint8_t)n;
		h = 4;
	}
	memset(out + h, fill, n);
	return h + n;
}

static uint8_t k[ZTP_CERT_KEY_MAX + 8], c[ZTP_CERT_CERT_MAX + 8], a[ZTP_CERT_CERT_MAX + 8];
static uint8_t buf[ZTP_CERT_BUNDLE_MAX + 64];

static void
test_round_trip_gives_the_parts_back(void **state)
{
	size_t kl = seq(135, 1, k), cl = seq(500, 2, c), al = seq(420, 3, a), len;
	struct ztp_cert_bundle b;

	(void)state;
	assert_int_equal(ztp_cert_encode(k, kl, c, cl, a, al, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 1 + 9 + kl + cl + al);
	assert_int_equal(ztp_cert_parse(buf, len, &b), 0);
	assert_int_equal(b.len[ZTP_CERT_KEY], kl);
	assert_memory_equal(b.part[ZTP_CERT_KEY], k, kl);
	assert_int_equal(b.len[ZTP_CERT_DEVICE], cl);
	assert_memory_equal(b.part[ZTP_CERT_DEVICE], c, cl);
	assert_int_equal(b.len[ZTP_CERT_CA], al);
	assert_memory_equal(b.part[ZTP_CERT_CA], a, al);
}

static void
test_largest_parts_fit_and_one_more_byte_does_not(void **state)
{
	size_t kl = seq(ZTP_CERT_KEY_MAX - 3, 1, k), cl = seq(ZTP_CERT_CERT_MAX - 4, 2, c),
	       al = seq(ZTP_CERT_CERT_MAX - 4, 3, a), len;
	struct ztp_cert_bundle b;

	(void)state;
	assert_int_equal(kl, ZTP_CERT_KEY_MAX);
	assert_int_equal(cl, ZTP_CERT_CERT_MAX);
	assert_int_equal(ztp_cert_encode(k, kl, c, cl, a, al, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, ZTP_CERT_BUNDLE_MAX);
	assert_int_equal(ztp_cert_parse(buf, len, &b), 0);
	assert_int_equal(ztp_cert_encode(k, kl, c, cl, a, al, buf, len - 1, &len), ZTP_ETOOBIG);
	kl = seq(ZTP_CERT_KEY_MAX - 2, 1, k);
	assert_int_equal(ztp_cert_encode(k, kl, c, cl, a, al, buf, sizeof(buf), &len), ZTP_ERANGE);
	kl = seq(10, 1, k);
	cl = seq(ZTP_CERT_CERT_MAX - 3, 2, c);
	assert_int_equal(ztp_cert_encode(k, kl, c, cl, a, al, buf, sizeof(buf), &len), ZTP_ERANGE);
	assert_int_equal(ztp_cert_parse(buf, ZTP_CERT_BUNDLE_MAX + 1, &b), ZTP_ETOOBIG);
}

static void
test_every_truncation_and_extension_is_refused(void **state)
{
	size_t kl = seq(40, 1, k), cl = seq(200, 2, c), al = seq(130, 3, a), len, i;
	struct ztp_cert_bundle b, before;

	(void)state;
	assert_int_equal(ztp_cert_encode(k, kl, c, cl, a, al, buf, sizeof(buf), &len), 0);
	memset(&b, 0x5a, sizeof(b));
	before = b;
	for (i = 0; i < len; i++) {
		assert_int_equal(ztp_cert_parse(buf, i, &b), ZTP_EMALFORMED);
		assert_memory_equal(&b, &before, sizeof(b));
	}
	buf[len] = 0;
	assert_int_equal(ztp_cert_parse(buf, len + 1, &b), ZTP_EMALFORMED);
	assert_int_equal(ztp_cert_parse(NULL, 0, &b), ZTP_EMALFORMED);
}

static void
test_version_order_and_lengths_are_checked(void **state)
{
	size_t kl = seq(20, 1, k), cl = seq(20, 2, c), al = seq(20, 3, a), len;
	struct ztp_cert_bundle b;

	(void)state;
	assert_int_equal(ztp_cert_encode(k, kl, c, cl, a, al, buf, sizeof(buf), &len), 0);
	buf[0] = 2;
	assert_int_equal(ztp_cert_parse(buf, len, &b), ZTP_EMALFORMED);
	buf[0] = 1;
	/* the key's tag said to be the device's: out of order */
	buf[1] = ZTP_CERT_DEVICE;
	assert_int_equal(ztp_cert_parse(buf, len, &b), ZTP_EMALFORMED);
	buf[1] = ZTP_CERT_KEY;
	/* a part's length one longer, one shorter than its SEQUENCE */
	buf[3]++;
	assert_int_equal(ztp_cert_parse(buf, len, &b), ZTP_EMALFORMED);
	buf[3] -= 2;
	assert_int_equal(ztp_cert_parse(buf, len, &b), ZTP_EMALFORMED);
	buf[3]++;
	/* an empty part */
	assert_int_equal(ztp_cert_parse(buf, len, &b), 0);
	buf[2] = 0;
	buf[3] = 0;
	assert_int_equal(ztp_cert_parse(buf, len, &b), ZTP_EMALFORMED);
}

static void
test_only_one_der_sequence_in_shortest_form_is_a_part(void **state)
{
	static const uint8_t not_seq[] = { 0x31, 0x01, 0x00 };
	static const uint8_t indefinite[] = { 0x30, 0x80, 0x00, 0x00 };
	static const uint8_t long_short[] = { 0x30, 0x81, 0x01, 0x00 };
	static const uint8_t long2_short[] = { 0x30, 0x82, 0x00, 0x01, 0x00 };
	static const uint8_t three[] = { 0x30, 0x83, 0x00, 0x00, 0x01, 0x00 };
	static const uint8_t two_seqs[] = { 0x30, 0x00, 0x30, 0x00 };
	static const uint8_t *bad[] = { not_seq, indefinite, long_short, long2_short, three,
		two_seqs };
	static const size_t badlen[] = { sizeof(not_seq), sizeof(indefinite), sizeof(long_short),
		sizeof(long2_short), sizeof(three), sizeof(two_seqs) };
	size_t cl = seq(20, 2, c), al = seq(20, 3, a), len, i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ztp_cert_encode(bad[i], badlen[i], c, cl, a, al, buf, sizeof(buf),
				     &len),
		    ZTP_EMALFORMED);
	assert_int_equal(ztp_cert_encode(NULL, 0, c, cl, a, al, buf, sizeof(buf), &len),
	    ZTP_EMALFORMED);
	assert_int_equal(ztp_cert_encode(c, cl, c, cl, a, al, NULL, 0, &len), ZTP_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_gives_the_parts_back),
		cmocka_unit_test(test_largest_parts_fit_and_one_more_byte_does_not),
		cmocka_unit_test(test_every_truncation_and_extension_is_refused),
		cmocka_unit_test(test_version_order_and_lengths_are_checked),
		cmocka_unit_test(test_only_one_der_sequence_in_shortest_form_is_a_part),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
