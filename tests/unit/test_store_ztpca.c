/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ZTP certificates in the store (store_ztpca.c), on a real SQLite file or
 * with ZTP_TEST_PG on a fresh PostgreSQL database per test
 * (store_fixture.h): owners' CAs, the CA of a profile or of a module and
 * which one a module gets, bundles sealed at rest and their delivery.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "store.h"
#include "ztp/err.h"

#include "store_fixture.h"

static const uint8_t key[CRYPTO_KEY_LEN] = { 7 };
static const char rot_a[] = "00112233445566778899aabbccddeeff";
static const char rot_b[] = "ffeeddccbbaa99887766554433221100";

static struct store_profile prof_acme, prof_globex;

static int
setup(void **state)
{
	struct fx *fx;
	uint8_t k[STORE_MODKEY_LEN] = { 1 };

	log_init("test", LOG_FORMAT_TEXT, LOG_LEVEL_WARN + 1);
	if (fixture_setup(state, key) != 0)
		return -1;
	fx = *state;
	sql_run(fx->path, "INSERT INTO owners(name, created_at) VALUES('acme', 1);"
			  "INSERT INTO owners(name, created_at) VALUES('globex', 1)");
	memset(&prof_acme, 0, sizeof(prof_acme));
	snprintf(prof_acme.name, sizeof(prof_acme.name), "meters");
	snprintf(prof_acme.owner, sizeof(prof_acme.owner), "acme");
	prof_globex = prof_acme;
	snprintf(prof_globex.owner, sizeof(prof_globex.owner), "globex");
	if (store_profile_create(fx->st, &prof_acme) != 0 ||
	    store_profile_create(fx->st, &prof_globex) != 0 ||
	    store_module_add(fx->st, rot_a, k, NULL, 1) != 0 ||
	    store_module_add(fx->st, rot_b, k, NULL, 1) != 0)
		return -1;
	/* rot_a is acme's; rot_b has no owner */
	sql_run(fx->path, "UPDATE modules SET owner = 'acme', factory_retired = 1, epoch = 1"
			  " WHERE rot_uid = '00112233445566778899aabbccddeeff'");
	return 0;
}

static struct store_ztpca *
ca_of(const char *owner, const char *name, uint8_t fill)
{
	static struct store_ztpca ca;

	memset(&ca, 0, sizeof(ca));
	snprintf(ca.owner, sizeof(ca.owner), "%s", owner);
	snprintf(ca.name, sizeof(ca.name), "%s", name);
	memset(ca.cert, fill, 500);
	ca.cert_len = 500;
	memset(ca.key, fill ^ 0xff, 150);
	ca.key_len = 150;
	ca.device_days = 365;
	ca.not_before = 100;
	ca.not_after = 200;
	ca.created_at = 5000;
	return &ca;
}

static int
count_cb(const struct store_ztpca *ca, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_ca_add_get_list_by_owner(void **state)
{
	struct fx *fx = *state;
	struct store_ztpca got;
	int n = 0;

	assert_int_equal(store_ztpca_add(fx->st, ca_of("acme", "fleet", 1)), 0);
	assert_int_equal(store_ztpca_add(fx->st, ca_of("acme", "fleet", 2)), ZTP_EEXIST);
	assert_int_equal(store_ztpca_add(fx->st, ca_of("globex", "fleet", 3)), 0);
	assert_int_equal(store_ztpca_add(fx->st, ca_of("nobody", "fleet", 3)), ZTP_ENOENT);
	assert_int_equal(store_ztpca_add(fx->st, ca_of("acme", "bad name", 3)), ZTP_EINVAL);
	assert_int_equal(store_ztpca_get(fx->st, "acme", "fleet", &got), 0);
	assert_int_equal(got.cert_len, 500);
	assert_int_equal(got.cert[0], 1);
	assert_int_equal(got.key_len, 150);
	assert_int_equal(got.key[0], 0xfe);
	assert_int_equal(got.device_days, 365);
	assert_int_equal(got.not_after, 200);
	assert_int_equal(store_ztpca_get(fx->st, "globex", "other", &got), ZTP_ENOENT);
	assert_int_equal(store_ztpca_list(fx->st, "acme", count_cb, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(store_ztpca_list(fx->st, NULL, count_cb, &n), 0);
	assert_int_equal(n, 2);
}

static void
test_profile_names_a_ca_of_its_own_owner_only(void **state)
{
	struct fx *fx = *state;
	char name[STORE_PROFILE_NAME_MAX + 1];

	assert_int_equal(store_ztpca_add(fx->st, ca_of("globex", "theirs", 1)), 0);
	assert_int_equal(store_ztpca_add(fx->st, ca_of("acme", "fleet", 1)), 0);
	assert_int_equal(store_ztpca_set_profile(fx->st, prof_acme.uid, "theirs", 1), ZTP_EINVAL);
	assert_int_equal(store_ztpca_set_profile(fx->st, "0123456789abcdef0123456789abcdef",
			     "fleet", 1),
	    ZTP_ENOENT);
	assert_int_equal(store_ztpca_of_profile(fx->st, prof_acme.uid, name), 0);
	assert_string_equal(name, "");
	assert_int_equal(store_ztpca_set_profile(fx->st, prof_acme.uid, "fleet", 1), 0);
	assert_int_equal(store_ztpca_set_profile(fx->st, prof_acme.uid, "fleet", 2), 0);
	assert_int_equal(store_ztpca_of_profile(fx->st, prof_acme.uid, name), 0);
	assert_string_equal(name, "fleet");
	assert_int_equal(store_ztpca_set_profile(fx->st, prof_acme.uid, NULL, 3), 0);
	assert_int_equal(store_ztpca_of_profile(fx->st, prof_acme.uid, name), 0);
	assert_string_equal(name, "");
}

static void
test_module_gets_its_own_ca_else_its_profiles(void **state)
{
	struct fx *fx = *state;
	struct store_ztpca got;

	assert_int_equal(store_ztpca_add(fx->st, ca_of("acme", "fleet", 1)), 0);
	assert_int_equal(store_ztpca_add(fx->st, ca_of("acme", "special", 2)), 0);
	assert_int_equal(store_ztpca_add(fx->st, ca_of("globex", "fleet", 3)), 0);
	assert_int_equal(store_ztpca_set_profile(fx->st, prof_acme.uid, "fleet", 1), 0);
	assert_int_equal(store_ztpca_set_profile(fx->st, prof_globex.uid, "fleet", 1), 0);
	/* nothing without an owner */
	assert_int_equal(store_ztpca_for_module(fx->st, rot_b, "", prof_acme.uid, &got), ZTP_ENOENT);
	assert_int_equal(store_ztpca_set_module(fx->st, rot_b, "fleet", 1), ZTP_ECONFLICT);
	assert_int_equal(store_ztpca_set_module(fx->st, rot_b, NULL, 1), 0);
	/* the profile's */
	assert_int_equal(store_ztpca_for_module(fx->st, rot_a, "acme", prof_acme.uid, &got), 0);
	assert_string_equal(got.name, "fleet");
	assert_int_equal(got.cert[0], 1);
	/* another owner's profile gives nothing, though its CA has the same name */
	assert_int_equal(store_ztpca_for_module(fx->st, rot_a, "acme", prof_globex.uid, &got),
	    ZTP_ENOENT);
	/* its own beats its profile's */
	assert_int_equal(store_ztpca_set_module(fx->st, rot_a, "nosuch", 1), ZTP_EINVAL);
	assert_int_equal(store_ztpca_set_module(fx->st, rot_a, "special", 1), 0);
	assert_int_equal(store_ztpca_for_module(fx->st, rot_a, "acme", prof_acme.uid, &got), 0);
	assert_string_equal(got.name, "special");
	assert_int_equal(store_ztpca_set_module(fx->st, "0123456789abcdef0123456789abcdef",
			     "special", 1),
	    ZTP_ENOENT);
	/* transferred to globex: the name is looked up under the new owner, or nothing */
	assert_int_equal(store_ztpca_for_module(fx->st, rot_a, "globex", prof_acme.uid, &got),
	    ZTP_ENOENT);
	assert_int_equal(store_ztpca_set_module(fx->st, rot_a, NULL, 1), 0);
	assert_int_equal(store_ztpca_for_module(fx->st, rot_a, "acme", "", &got), ZTP_ENOENT);
}

static void
test_bundle_sealed_delivered_once_confirmed(void **state)
{
	struct fx *fx = *state;
	struct store_ztpbundle b, got;
	uint8_t bundle[1200], out[STORE_ZTPBUNDLE_MAX], sha[32];
	size_t len = 0;

	memset(&b, 0, sizeof(b));
	snprintf(b.rot_uid, sizeof(b.rot_uid), "%s", rot_a);
	snprintf(b.owner, sizeof(b.owner), "acme");
	snprintf(b.ca, sizeof(b.ca), "fleet");
	memset(b.cert_sha256, 0x42, sizeof(b.cert_sha256));
	snprintf(b.serial, sizeof(b.serial), "0A0B");
	b.not_after = 999;
	b.issued_at = 1234;
	/* bytes no other test writes (an arithmetic sequence can be another's, shifted) */
	for (size_t i = 0; i < sizeof(bundle); i += 32) {
		char seed[32];
		snprintf(seed, sizeof(seed), "ztp bundle %zu", i);
		assert_int_equal(crypto_sha256(seed, strlen(seed), sha), 0);
		memcpy(bundle + i, sha, sizeof(bundle) - i < 32 ? sizeof(bundle) - i : 32);
	}
	assert_int_equal(store_ztpbundle_get(fx->st, rot_a, &got, NULL, 0, NULL), ZTP_ENOENT);
	assert_int_equal(store_ztpbundle_put(fx->st, &b, bundle, sizeof(bundle)), 0);
	assert_int_equal(store_ztpbundle_get(fx->st, rot_a, &got, out, sizeof(out), &len), 0);
	assert_int_equal(len, sizeof(bundle));
	assert_memory_equal(out, bundle, sizeof(bundle));
	assert_string_equal(got.ca, "fleet");
	assert_string_equal(got.serial, "0A0B");
	assert_int_equal(got.delivered_at, 0);
	/* sealed: the bundle's bytes are nowhere in the database */
	close_store(fx);
	assert_false(db_contains(fx, bundle + 100, 64));
	assert_int_equal(test_store_reopen(&fx->st, fx->path, key), 0);
	/* the confirmation names the certificate */
	memset(sha, 0x43, sizeof(sha));
	assert_int_equal(store_ztpbundle_delivered(fx->st, rot_a, sha, 5000), ZTP_ECONFLICT);
	assert_int_equal(store_ztpbundle_delivered(fx->st, rot_b, sha, 5000), ZTP_ENOENT);
	assert_int_equal(store_ztpbundle_delivered(fx->st, rot_a, b.cert_sha256, 5000), 0);
	assert_int_equal(store_ztpbundle_get(fx->st, rot_a, &got, NULL, 0, NULL), 0);
	assert_int_equal(got.delivered_at, 5000);
	/* a new bundle is not delivered */
	assert_int_equal(store_ztpbundle_put(fx->st, &b, bundle, 10), 0);
	assert_int_equal(store_ztpbundle_get(fx->st, rot_a, &got, out, sizeof(out), &len), 0);
	assert_int_equal(got.delivered_at, 0);
	assert_int_equal(len, 10);
	/* moved to another module's row, it does not open */
	sql_run(fx->path, "INSERT INTO ztp_bundles(rot_uid, owner, ca, bundle, cert_sha256, serial,"
			  " not_after, issued_at, delivered_at) SELECT"
			  " 'ffeeddccbbaa99887766554433221100', owner, ca, bundle, cert_sha256, serial,"
			  " not_after, issued_at, 0 FROM ztp_bundles");
	assert_int_equal(store_ztpbundle_get(fx->st, rot_b, &got, out, sizeof(out), &len),
	    ZTP_EAUTH);
	/* too large, or not a RoT */
	assert_int_equal(store_ztpbundle_put(fx->st, &b, out, STORE_ZTPBUNDLE_MAX + 1), ZTP_EINVAL);
	snprintf(b.rot_uid, sizeof(b.rot_uid), "XYZ");
	assert_int_equal(store_ztpbundle_put(fx->st, &b, bundle, 10), ZTP_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ca_add_get_list_by_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_names_a_ca_of_its_own_owner_only, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_module_gets_its_own_ca_else_its_profiles, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bundle_sealed_delivered_once_confirmed, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
