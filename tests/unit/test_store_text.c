/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_text_clean: text from a peer made valid UTF-8 before a database
 * (PostgreSQL refuses invalid UTF-8) takes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store_int.h"

static void
clean_is(const char *in, size_t cap, const char *want)
{
	char out[64];

	assert_true(cap <= sizeof(out));
	memset(out, 'X', sizeof(out));
	store_text_clean(in, out, cap);
	assert_string_equal(out, want);
}

static void
test_valid_kept(void **state)
{
	(void)state;
	clean_is("plain ascii: 1 < 2", 64, "plain ascii: 1 < 2");
	clean_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", 64, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");
	clean_is(NULL, 64, "");
	clean_is("", 64, "");
}

static void
test_invalid_replaced(void **state)
{
	(void)state;
	clean_is("a\xff" "b", 64, "a?b");                 /* never valid */
	clean_is("a\xc3" "b", 64, "a?b");                 /* lead byte without its continuation */
	clean_is("\x80\x80", 64, "??");                   /* continuation bytes alone */
	clean_is("\xc0\xaf", 64, "??");                   /* overlong '/' */
	clean_is("\xe0\x80\xaf", 64, "???");              /* overlong, 3 bytes */
	clean_is("\xed\xa0\x80", 64, "???");              /* a UTF-16 surrogate */
	clean_is("\xf4\x90\x80\x80", 64, "????");         /* beyond U+10FFFF */
	clean_is("end \xe2\x82", 64, "end ??");           /* cut by the end of the string */
}

static void
test_cut_to_cap(void **state)
{
	(void)state;
	clean_is("abcdef", 4, "abc");
	/* a sequence that does not fit whole is not cut in the middle */
	clean_is("ab\xe2\x82\xac", 4, "ab?");
	clean_is("ab\xe2\x82\xac", 6, "ab\xe2\x82\xac");
	clean_is("x", 1, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_kept),
		cmocka_unit_test(test_invalid_replaced),
		cmocka_unit_test(test_cut_to_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
