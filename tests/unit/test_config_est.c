/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpd's certificate options (src/server/proto/config.c): --est-listen,
 * --est-auth, --cert-days, --reenroll-grace, --crl-validity,
 * --est-certs-per-hour, and
 * --import-ca CERT KEY with its one positional argument.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "store.h"
#include "ztp/err.h"

static int
set(struct config *cfg, const char *key, const char *value)
{
	char err[256];

	return config_set(cfg, key, value, err, sizeof(err));
}

static int
parse(struct config *cfg, int argc, char **argv)
{
	config_defaults(cfg);
	return config_parse_args(cfg, argc, argv);
}

static void
test_defaults(void **state)
{
	struct config cfg;

	config_defaults(&cfg);
	assert_string_equal(cfg.est_listen, "off");
	assert_int_equal(cfg.est_auth, STORE_EST_ALL);
	assert_int_equal(cfg.cert_days, 365);
	assert_int_equal(cfg.reenroll_grace, 30 * 86400);
	assert_int_equal(cfg.crl_validity, 7 * 86400);
	assert_int_equal(cfg.est_certs_per_hour, 10);
	assert_string_equal(cfg.import_ca_cert, "");
}

static void
test_est_auth_lists(void **state)
{
	int v = 0;

	assert_int_equal(config_parse_est_auth("allowlist", &v), 0);
	assert_int_equal(v, STORE_EST_ALLOWLIST);
	assert_int_equal(config_parse_est_auth("password,manufacturer", &v), 0);
	assert_int_equal(v, STORE_EST_PASSWORD | STORE_EST_MANUFACTURER);
	assert_int_equal(config_parse_est_auth("allowlist,password,manufacturer", &v), 0);
	assert_int_equal(v, STORE_EST_ALL);
	v = 99;
	assert_int_equal(config_parse_est_auth("", &v), ZTP_EINVAL);
	assert_int_equal(config_parse_est_auth(",", &v), ZTP_EINVAL);
	assert_int_equal(config_parse_est_auth("allowlist,psk", &v), ZTP_EINVAL);
	assert_int_equal(config_parse_est_auth("Allowlist", &v), ZTP_EINVAL);
	assert_int_equal(config_parse_est_auth(NULL, &v), ZTP_EINVAL);
	assert_int_equal(v, 99); /* unchanged on error */
}

static void
test_est_keys_bounds(void **state)
{
	struct config cfg;

	config_defaults(&cfg);
	assert_int_equal(set(&cfg, "est-listen", "127.0.0.1:8443"), 0);
	assert_string_equal(cfg.est_listen, "127.0.0.1:8443");
	assert_int_equal(set(&cfg, "est-listen", "off"), 0);
	assert_int_equal(set(&cfg, "est-listen", "localhost:8443"), ZTP_EINVAL);
	assert_int_equal(set(&cfg, "est-auth", "password"), 0);
	assert_int_equal(cfg.est_auth, STORE_EST_PASSWORD);
	assert_int_equal(set(&cfg, "est-auth", "none"), ZTP_EINVAL);
	assert_int_equal(cfg.est_auth, STORE_EST_PASSWORD);
	assert_int_equal(set(&cfg, "cert-days", "1"), 0);
	assert_int_equal(set(&cfg, "cert-days", "7300"), 0);
	assert_int_equal(set(&cfg, "cert-days", "0"), ZTP_EINVAL);
	assert_int_equal(set(&cfg, "cert-days", "7301"), ZTP_EINVAL);
	assert_int_equal(set(&cfg, "reenroll-grace", "0"), 0);
	assert_int_equal(set(&cfg, "reenroll-grace", "-1"), ZTP_EINVAL);
	assert_int_equal(set(&cfg, "crl-validity", "3599"), ZTP_EINVAL);
	assert_int_equal(set(&cfg, "crl-validity", "3600"), 0);
	assert_int_equal(set(&cfg, "crl-validity", "31622401"), ZTP_EINVAL);
	assert_int_equal(set(&cfg, "est-certs-per-hour", "0"), 0); /* no limit */
	assert_int_equal(cfg.est_certs_per_hour, 0);
	assert_int_equal(set(&cfg, "est-certs-per-hour", "3"), 0);
	assert_int_equal(cfg.est_certs_per_hour, 3);
	assert_int_equal(set(&cfg, "est-certs-per-hour", "-1"), ZTP_EINVAL);
	assert_int_equal(set(&cfg, "est-certs-per-hour", "1000001"), ZTP_EINVAL);
	assert_int_equal(set(&cfg, "est-certs-per-hour", "3x"), ZTP_EINVAL);
	assert_int_equal(cfg.est_certs_per_hour, 3);
}

static void
test_import_ca_takes_cert_and_key(void **state)
{
	char *argv[] = { "ztpd", "--data", "d", "--import-ca", "ca.pem", "ca.key", NULL };
	struct config cfg;

	assert_int_equal(parse(&cfg, 6, argv), 0);
	assert_string_equal(cfg.import_ca_cert, "ca.pem");
	assert_string_equal(cfg.import_ca_key, "ca.key");
}

static void
test_import_ca_needs_exactly_one_key(void **state)
{
	char *none[] = { "ztpd", "--import-ca", "ca.pem", NULL };
	char *two[] = { "ztpd", "--import-ca", "ca.pem", "a.key", "b.key", NULL };
	struct config cfg;

	assert_int_equal(parse(&cfg, 3, none), ZTP_EINVAL);
	assert_int_equal(parse(&cfg, 5, two), ZTP_EINVAL);
}

static void
test_positional_without_import_ca_is_refused(void **state)
{
	char *argv[] = { "ztpd", "--data", "d", "stray", NULL };
	struct config cfg;

	assert_int_equal(parse(&cfg, 4, argv), ZTP_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_est_auth_lists),
		cmocka_unit_test(test_est_keys_bounds),
		cmocka_unit_test(test_import_ca_takes_cert_and_key),
		cmocka_unit_test(test_import_ca_needs_exactly_one_key),
		cmocka_unit_test(test_positional_without_import_ca_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
