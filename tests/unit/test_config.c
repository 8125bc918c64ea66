/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpd's option table (src/server/proto/config.c, config_opts[]): every type read
 * from the command line and from a config file, bounds refused with the
 * option's name, unknown options and keys refused, the command line over
 * the file, --help made of the visible entries, the command-line-only
 * entries (--child, --config, --import-ca) refused in a file, the commands
 * after the options (export-node, join FILE) and their options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "store.h"
#include "ztp/err.h"

static char tmpdir[64];
static char conf[128]; /* tmpdir/test.conf */
static char nodata[128]; /* tmpdir/none: a data directory without ztpd.conf */
static char err[256];
static char out[16384]; /* what config_parse_args printed */

static int
setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ztp-test-config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(conf, sizeof(conf), "%s/test.conf", tmpdir);
	snprintf(nodata, sizeof(nodata), "%s/none", tmpdir);
	return 0;
}

static int
teardown(void **state)
{
	char path[160];

	unlink(conf);
	snprintf(path, sizeof(path), "%s/d/ztpd.conf", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/d", tmpdir);
	rmdir(path);
	rmdir(tmpdir);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Write text to conf and load it over the defaults. */
static int
load(struct config *cfg, const char *text)
{
	write_file(conf, text);
	config_defaults(cfg);
	err[0] = '\0';
	return config_load_file(cfg, conf, err, sizeof(err));
}

static int
set(struct config *cfg, const char *key, const char *value)
{
	err[0] = '\0';
	return config_set(cfg, key, value, err, sizeof(err));
}

/*
 * config_parse_args over the defaults, argv NULL-terminated, with what it
 * writes to stdout and stderr captured into out.
 */
static int
parse(struct config *cfg, char **argv)
{
	FILE *tmp = tmpfile();
	int argc = 0, saved_out, saved_err, rc;
	size_t n;

	assert_non_null(tmp);
	while (argv[argc] != NULL)
		argc++;
	config_defaults(cfg);
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	assert_true(saved_out >= 0 && saved_err >= 0);
	dup2(fileno(tmp), 1);
	dup2(fileno(tmp), 2);
	rc = config_parse_args(cfg, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return rc;
}

/* --help's text, owned by the caller (free). */
static char *
usage_text(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	config_usage(f);
	fclose(f);
	assert_non_null(text);
	return text;
}

/* "  --name" followed by a space or the end of the line: the entry's line of --help */
static int
help_has(const char *text, const char *name)
{
	char pat[64];
	const char *p;
	size_t n;

	n = (size_t)snprintf(pat, sizeof(pat), "  --%s", name);
	for (p = strstr(text, pat); p != NULL; p = strstr(p + 1, pat))
		if (p[n] == ' ' || p[n] == '\n')
			return 1;
	return 0;
}

static int
int_field(const struct config *cfg, const struct config_opt *o)
{
	int v;

	memcpy(&v, (const char *)cfg + o->offset, sizeof(v));
	return v;
}

static void
test_table_is_consistent(void **state)
{
	size_t i, j;

	assert_true(config_nopts > 0);
	for (i = 0; i < config_nopts; i++) {
		const struct config_opt *o = &config_opts[i];

		assert_non_null(o->name);
		assert_non_null(o->help);
		assert_true(o->help[0] != '\0');
		assert_ptr_equal(config_opt_find(o->name), o);
		for (j = i + 1; j < config_nopts; j++)
			assert_string_not_equal(o->name, config_opts[j].name);
		switch (o->type) {
		case CONFIG_INT:
			assert_true(o->min <= o->max && o->min >= 0 && o->max <= INT_MAX);
			/* fall through */
		case CONFIG_BOOL:
		case CONFIG_ENUM:
		case CONFIG_SET:
			assert_int_equal(o->size, sizeof(int));
			break;
		case CONFIG_STRING:
		case CONFIG_LISTEN:
		case CONFIG_WORD:
			assert_true(o->size > 1);
			break;
		case CONFIG_FILE:
		case CONFIG_HELP:
		case CONFIG_VERSION:
			assert_true(o->flags & CONFIG_CLI_ONLY);
			break;
		}
		if (o->type == CONFIG_ENUM || o->type == CONFIG_WORD || o->type == CONFIG_SET)
			assert_non_null(o->names);
		assert_true(o->offset + o->size <= sizeof(struct config));
	}
	assert_null(config_opt_find("no-such-option"));
}

/* Every default is accepted by its own entry (config_defaults would exit) and told in --help. */
static void
test_defaults_from_the_table_are_in_the_help(void **state)
{
	struct config cfg;
	char want[128];
	size_t i;

	config_defaults(&cfg);
	assert_string_equal(cfg.user, "ztp");
	assert_string_equal(cfg.child, "");
	assert_string_equal(cfg.upstream.url, "");
	assert_int_equal(cfg.log_format, LOG_FORMAT_TEXT);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	assert_int_equal(cfg.est_auth, STORE_EST_ALL);
	for (i = 0; i < config_nopts; i++) {
		const struct config_opt *o = &config_opts[i];

		if (o->def == NULL || o->def[0] == '\0' || (o->flags & CONFIG_HIDDEN))
			continue;
		snprintf(want, sizeof(want), "default %s", o->def);
		if (strstr(o->help, want) == NULL)
			fail_msg("--%s: its help does not say \"%s\"", o->name, want);
	}
}

static void
test_each_type_from_the_command_line(void **state)
{
	char *argv[] = { "ztpd", "--data", nodata, "--device-listen", "[::1]:5684",
		"--workers", "3", "--log-level", "debug", "--allow-psk-ke", "--est-auth",
		"password,allowlist", "--user", "svc", "--child", "signer", "--upstream",
		"http://127.0.0.1:1/x", NULL };
	struct config cfg;

	assert_int_equal(parse(&cfg, argv), 0);
	assert_string_equal(cfg.data, nodata);                /* string */
	assert_string_equal(cfg.device_listen, "[::1]:5684"); /* address */
	assert_int_equal(cfg.workers, 3);                     /* int */
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);     /* enum */
	assert_int_equal(cfg.allow_psk_ke, 1);                /* bool */
	assert_int_equal(cfg.device_cert_auth, 0);            /* off unless asked */
	assert_int_equal(cfg.est_auth, STORE_EST_PASSWORD | STORE_EST_ALLOWLIST); /* set */
	assert_string_equal(cfg.user, "svc");
	assert_string_equal(cfg.child, "signer");             /* word */
	assert_string_equal(cfg.upstream.url, "http://127.0.0.1:1/x");
	assert_string_equal(out, "");
}

static void
test_each_type_from_a_file(void **state)
{
	struct config cfg;

	assert_int_equal(load(&cfg, "data = /srv/ztp\n"
				    "admin-listen = off\n"
				    "token-ttl = 60\n"
				    "log-format = json\n"
				    "allow-psk-ke = no\n"
				    "device-cert-auth = yes\n"
				    "est-auth = manufacturer\n"
				    "user = root\n"
				    "upstream-ca = /etc/ca.pem\n"),
	    0);
	assert_string_equal(cfg.data, "/srv/ztp");
	assert_string_equal(cfg.admin_listen, "off");
	assert_int_equal(cfg.token_ttl, 60);
	assert_int_equal(cfg.log_format, LOG_FORMAT_JSON);
	assert_int_equal(cfg.allow_psk_ke, 0);
	assert_int_equal(cfg.device_cert_auth, 1);
	assert_int_equal(cfg.est_auth, STORE_EST_MANUFACTURER);
	assert_string_equal(cfg.user, "root");
	assert_string_equal(cfg.upstream.ca, "/etc/ca.pem");
}

/* Every integer entry: its bounds accepted, one past each refused naming it, in a file and in argv. */
static void
test_int_bounds_are_refused_with_the_name(void **state)
{
	struct config cfg;
	char v[32], opt[64];
	char *argv[] = { "ztpd", "--data", nodata, opt, v, NULL };
	size_t i;

	for (i = 0; i < config_nopts; i++) {
		const struct config_opt *o = &config_opts[i];

		if (o->type != CONFIG_INT)
			continue;
		config_defaults(&cfg);
		snprintf(v, sizeof(v), "%lld", o->min);
		assert_int_equal(set(&cfg, o->name, v), 0);
		assert_int_equal(int_field(&cfg, o), o->min);
		snprintf(v, sizeof(v), "%lld", o->max);
		assert_int_equal(set(&cfg, o->name, v), 0);
		assert_int_equal(int_field(&cfg, o), o->max);
		snprintf(v, sizeof(v), "%lld", o->max + 1);
		assert_int_equal(set(&cfg, o->name, v), ZTP_EINVAL);
		assert_non_null(strstr(err, o->name));
		assert_int_equal(int_field(&cfg, o), o->max);

		snprintf(opt, sizeof(opt), "--%s", o->name);
		snprintf(v, sizeof(v), "%lld", o->max + 1);
		assert_int_equal(parse(&cfg, argv), ZTP_EINVAL);
		assert_non_null(strstr(out, opt));
		if (o->min > 0) {
			snprintf(v, sizeof(v), "%lld", o->min - 1);
			assert_int_equal(parse(&cfg, argv), ZTP_EINVAL);
			assert_non_null(strstr(out, opt));
		}
		snprintf(v, sizeof(v), "%lld", o->min);
		assert_int_equal(parse(&cfg, argv), 0);
		assert_int_equal(int_field(&cfg, o), o->min);
	}
}

/* A bad value of every other type is refused, naming the option, and changes nothing. */
static void
test_bad_values_are_refused_with_the_name(void **state)
{
	static const struct {
		const char *key, *value;
	} bad[] = {
		{ "data", NULL },
		{ "user", "a-name-longer-than-the-sixty-four-bytes-of-its-field-aaaaaaaaaaaaaaaa" },
		{ "est-listen", "localhost:8443" },
		{ "allow-psk-ke", "on" },
		{ "log-format", "xml" },
		{ "est-auth", "allowlist,psk" },
	};
	struct config cfg, before;
	size_t i;

	config_defaults(&cfg);
	memcpy(&before, &cfg, sizeof(cfg));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(set(&cfg, bad[i].key, bad[i].value), ZTP_EINVAL);
		if (strstr(err, bad[i].key) == NULL)
			fail_msg("%s: the error \"%s\" does not name it", bad[i].key, err);
	}
	assert_memory_equal(&cfg, &before, sizeof(cfg));
	assert_int_equal(set(&cfg, "log-level", "error"), ZTP_EINVAL);
	assert_string_equal(err, "log-level must be debug, info or warn");
	assert_int_equal(set(&cfg, "est-auth", ""), ZTP_EINVAL);
	assert_string_equal(err,
	    "est-auth: a comma-separated list of allowlist, password, manufacturer");
}

static void
test_unknown_option_and_key_are_refused(void **state)
{
	char *argv[] = { "ztpd", "--data", nodata, "--listen", "127.0.0.1:1", NULL };
	struct config cfg;

	assert_int_equal(parse(&cfg, argv), ZTP_EINVAL);
	assert_non_null(strstr(out, "listen"));
	assert_non_null(strstr(out, "usage: ztpd"));
	assert_int_equal(load(&cfg, "workers = 2\nlisten = 127.0.0.1:1\n"), ZTP_EINVAL);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "unknown key listen"));
}

/* A value on the command line wins over the file's, before or after --config. */
static void
test_command_line_wins_over_the_file(void **state)
{
	char *before[] = { "ztpd", "--data", nodata, "--workers", "5", "--user", "cli",
		"--config", conf, NULL };
	char *after[] = { "ztpd", "--config", conf, "--data", nodata, "--workers", "5", NULL };
	struct config cfg;

	write_file(conf, "workers = 2\nlog-level = warn\nuser = file\n");
	assert_int_equal(parse(&cfg, before), 0);
	assert_int_equal(cfg.workers, 5);
	assert_int_equal(cfg.log_level, LOG_LEVEL_WARN);
	assert_string_equal(cfg.user, "cli");
	assert_int_equal(parse(&cfg, after), 0);
	assert_int_equal(cfg.workers, 5);
	assert_string_equal(cfg.user, "file");
}

/* Without --config, DATA/ztpd.conf is read if it exists; --data on the command line finds it. */
static void
test_data_dir_conf_is_read(void **state)
{
	char dir[128], path[160];
	char *argv[] = { "ztpd", "--max-connections", "9", "--data", dir, NULL };
	struct config cfg;

	snprintf(dir, sizeof(dir), "%s/d", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/ztpd.conf", dir);
	write_file(path, "max-connections = 7\nidle-timeout = 11\n");
	assert_int_equal(parse(&cfg, argv), 0);
	assert_int_equal(cfg.idle_timeout, 11);
	assert_int_equal(cfg.max_connections, 9);
}

static void
test_help_lists_every_visible_option_and_no_hidden_one(void **state)
{
	char *argv[] = { "ztpd", "--help", NULL };
	char *text = usage_text();
	struct config cfg;
	size_t i, hidden = 0;

	for (i = 0; i < config_nopts; i++) {
		const struct config_opt *o = &config_opts[i];

		if (o->flags & CONFIG_HIDDEN) {
			hidden++;
			assert_false(help_has(text, o->name));
			assert_null(strstr(text, o->help));
		} else if (!help_has(text, o->name))
			fail_msg("--%s is not in --help", o->name);
	}
	assert_true(hidden > 0);
	assert_true(help_has(text, "user"));
	assert_false(help_has(text, "child"));

	/* --help prints the same on stdout and returns 1 (main exits 0) */
	assert_int_equal(parse(&cfg, argv), 1);
	assert_string_equal(out, text);
	free(text);
}

static void
test_child_is_command_line_only(void **state)
{
	char *front[] = { "ztpd", "--data", nodata, "--child", "front", NULL };
	char *other[] = { "ztpd", "--data", nodata, "--child", "worker", NULL };
	struct config cfg;

	assert_int_equal(parse(&cfg, front), 0);
	assert_string_equal(cfg.child, "front");
	assert_int_equal(parse(&cfg, other), ZTP_EINVAL);
	assert_non_null(strstr(out, "--child must be front or signer"));
	assert_int_equal(load(&cfg, "child = front\n"), ZTP_EINVAL);
	assert_non_null(strstr(err, ":1:"));
	assert_non_null(strstr(err, "child cannot be set in a file"));
	assert_string_equal(cfg.child, "");
	assert_int_equal(load(&cfg, "import-ca = /tmp/ca.pem\n"), ZTP_EINVAL);
	assert_non_null(strstr(err, "import-ca"));
	assert_int_equal(load(&cfg, "config = /etc/other.conf\n"), ZTP_EINVAL);
	assert_non_null(strstr(err, "config cannot be set in a file"));
}

static void
test_flag_takes_no_value_on_the_command_line(void **state)
{
	char *argv[] = { "ztpd", "--data", nodata, "--allow-psk-ke=yes", NULL };
	struct config cfg;

	assert_int_equal(parse(&cfg, argv), ZTP_EINVAL);
	assert_non_null(strstr(out, "allow-psk-ke"));
}

/* export-node and join FILE after the options, with their options and only with them. */
static void
test_node_commands_and_their_options(void **state)
{
	char *export[] = { "ztpd", "--data", nodata, "export-node", "--out", "/tmp/b.ztpnode",
		"--with-ca-key", NULL };
	char *join[] = { "ztpd", "join", "/tmp/b.ztpnode", "--data", nodata,
		"--passphrase-file", "/tmp/pass", "--store", "sqlite:/tmp/shared.db", NULL };
	char *export_no_out[] = { "ztpd", "--data", nodata, "export-node", NULL };
	char *join_no_file[] = { "ztpd", "--data", nodata, "join", NULL };
	char *join_two[] = { "ztpd", "--data", nodata, "join", "a", "b", NULL };
	char *out_alone[] = { "ztpd", "--data", nodata, "--out", "/tmp/x", NULL };
	char *pass_alone[] = { "ztpd", "--data", nodata, "--passphrase-file", "/tmp/p", NULL };
	char *join_ca_key[] = { "ztpd", "--data", nodata, "join", "f", "--with-ca-key", NULL };
	char *other[] = { "ztpd", "--data", nodata, "export", NULL };
	char *import[] = { "ztpd", "--data", nodata, "--import-ca", "c.pem", "k.pem", NULL };
	char *import_join[] = { "ztpd", "--data", nodata, "--import-ca", "c.pem", "k.pem", "join",
		"f", NULL };
	struct config cfg;

	assert_int_equal(parse(&cfg, export), 0);
	assert_int_equal(cfg.command, CONFIG_CMD_EXPORT_NODE);
	assert_string_equal(cfg.node_out, "/tmp/b.ztpnode");
	assert_int_equal(cfg.with_ca_key, 1);
	assert_int_equal(parse(&cfg, join), 0);
	assert_int_equal(cfg.command, CONFIG_CMD_JOIN);
	assert_string_equal(cfg.node_file, "/tmp/b.ztpnode");
	assert_string_equal(cfg.passphrase_file, "/tmp/pass");
	assert_string_equal(cfg.store, "sqlite:/tmp/shared.db");

	assert_int_equal(parse(&cfg, export_no_out), ZTP_EINVAL);
	assert_non_null(strstr(out, "export-node --out FILE"));
	assert_int_equal(parse(&cfg, join_no_file), ZTP_EINVAL);
	assert_non_null(strstr(out, "join FILE"));
	assert_int_equal(parse(&cfg, join_two), ZTP_EINVAL);
	assert_non_null(strstr(out, "unexpected argument b"));
	assert_int_equal(parse(&cfg, out_alone), ZTP_EINVAL);
	assert_non_null(strstr(out, "--out is an option of export-node"));
	assert_int_equal(parse(&cfg, pass_alone), ZTP_EINVAL);
	assert_non_null(strstr(out, "--passphrase-file"));
	assert_int_equal(parse(&cfg, join_ca_key), ZTP_EINVAL);
	assert_non_null(strstr(out, "--with-ca-key is an option of export-node"));
	assert_int_equal(parse(&cfg, other), ZTP_EINVAL);
	assert_non_null(strstr(out, "unexpected argument export"));
	assert_int_equal(parse(&cfg, import), 0);
	assert_int_equal(cfg.command, CONFIG_CMD_NONE);
	assert_string_equal(cfg.import_ca_key, "k.pem");
	assert_int_equal(parse(&cfg, import_join), ZTP_EINVAL);

	/* the store goes in a file too; the commands' options do not */
	assert_int_equal(load(&cfg, "store = postgresql://ztp@db.example/ztp\n"), 0);
	assert_string_equal(cfg.store, "postgresql://ztp@db.example/ztp");
	assert_int_equal(load(&cfg, "passphrase-file = /tmp/p\n"), ZTP_EINVAL);
	assert_int_equal(load(&cfg, "out = /tmp/b\n"), ZTP_EINVAL);
	assert_int_equal(load(&cfg, "with-ca-key = yes\n"), ZTP_EINVAL);
}

static void
test_migrate_takes_both_stores(void **state)
{
	char *both[] = { "ztpd", "--data", nodata, "migrate", "--from", "sqlite:/d/ztp.db",
		"--to", "postgresql://ztp@db/ztp", "--resume", NULL };
	char *plain[] = { "ztpd", "--data", nodata, NULL };
	char *no_to[] = { "ztpd", "--data", nodata, "migrate", "--from", "a.db", NULL };
	char *no_cmd[] = { "ztpd", "--data", nodata, "--from", "a.db", "--to", "b.db", NULL };
	char *extra[] = { "ztpd", "--data", nodata, "migrate", "--from", "a", "--to", "b", "c",
		NULL };
	struct config cfg;

	assert_int_equal(parse(&cfg, both), 0);
	assert_true(cfg.migrate);
	assert_true(cfg.migrate_resume);
	assert_string_equal(cfg.migrate_from, "sqlite:/d/ztp.db");
	assert_string_equal(cfg.migrate_to, "postgresql://ztp@db/ztp");
	assert_int_equal(parse(&cfg, plain), 0);
	assert_false(cfg.migrate);
	assert_int_equal(parse(&cfg, no_to), ZTP_EINVAL);
	assert_non_null(strstr(out, "migrate --from URL --to URL"));
	assert_int_equal(parse(&cfg, no_cmd), ZTP_EINVAL);
	assert_non_null(strstr(out, "go with migrate"));
	assert_int_equal(parse(&cfg, extra), ZTP_EINVAL);
	assert_int_equal(load(&cfg, "from = a.db\n"), ZTP_EINVAL);
	assert_non_null(strstr(err, "from cannot be set in a file"));
}

static void
test_version(void **state)
{
	char *argv[] = { "ztpd", "--version", NULL };
	struct config cfg;

	assert_int_equal(parse(&cfg, argv), 1);
	assert_string_equal(out, "ztpd 0.1.0\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_is_consistent),
		cmocka_unit_test(test_defaults_from_the_table_are_in_the_help),
		cmocka_unit_test(test_each_type_from_the_command_line),
		cmocka_unit_test(test_each_type_from_a_file),
		cmocka_unit_test(test_int_bounds_are_refused_with_the_name),
		cmocka_unit_test(test_bad_values_are_refused_with_the_name),
		cmocka_unit_test(test_unknown_option_and_key_are_refused),
		cmocka_unit_test(test_command_line_wins_over_the_file),
		cmocka_unit_test(test_data_dir_conf_is_read),
		cmocka_unit_test(test_help_lists_every_visible_option_and_no_hidden_one),
		cmocka_unit_test(test_child_is_command_line_only),
		cmocka_unit_test(test_flag_takes_no_value_on_the_command_line),
		cmocka_unit_test(test_migrate_takes_both_stores),
		cmocka_unit_test(test_node_commands_and_their_options),
		cmocka_unit_test(test_version),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
