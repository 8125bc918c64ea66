/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-sim's SIM state file (src/sim/simfile.c): strict load, atomic and
 * durable save, mode 0600, unknown fields kept, the PSK never in a message.
 */
#include <dirent.h>
#include <fcntl.h>
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

#include "simfile.h"
#include "ztp/err.h"

#define ICCID "8944502509186389635"
#define PSK "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
#define DEVID "B58D51C5504D5257352E3120FF0D1338"

static const uint8_t ef[ICCID_EF_LEN] = { 0x98, 0x44, 0x05, 0x52, 0x90, 0x81, 0x36, 0x98, 0x36,
	0xF5 };

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/ztp-simfile.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sim.json", dir);
	return 0;
}

static int
teardown(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (rmdir(p) != 0)
			unlink(p);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
	return 0;
}

static void
write_text(const char *p, const char *text, mode_t mode)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, mode), 0);
}

/* Number of entries in dir other than . and .. */
static int
entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int
parse(const char *text, struct safe2_persist *p, char *err, size_t errcap)
{
	json_t *extra = NULL;
	int rc;

	err[0] = '\0';
	rc = simfile_parse(text, strlen(text), p, &extra, err, errcap);
	if (rc == 0)
		assert_non_null(extra);
	else
		assert_null(extra);
	json_decref(extra);
	return rc;
}

static void
assert_persist_equal(const struct safe2_persist *a, const struct safe2_persist *b)
{
	assert_string_equal(a->iccid, b->iccid);
	assert_string_equal(a->host, b->host);
	assert_int_equal(a->port, b->port);
	assert_string_equal(a->path, b->path);
	assert_int_equal(a->identity_len, b->identity_len);
	assert_memory_equal(a->identity, b->identity, a->identity_len);
	assert_int_equal(a->psk_len, b->psk_len);
	assert_memory_equal(a->psk, b->psk, a->psk_len);
	assert_int_equal(a->psk_generation, b->psk_generation);
	assert_int_equal(a->device_id_len, b->device_id_len);
	assert_memory_equal(a->device_id, b->device_id, a->device_id_len);
	assert_int_equal(a->locked, b->locked);
	assert_int_equal(a->max_attempts, b->max_attempts);
	assert_int_equal(a->retry_base_ms, b->retry_base_ms);
	assert_int_equal(a->retry_max_ms, b->retry_max_ms);
}

static void
test_load_the_issue_example(void **state)
{
	struct simfile sf;
	struct safe2_persist p;
	char err[256];

	write_text(path,
	    "{\"iccid\": \"" ICCID "\", \"host\": \"127.0.0.1\", \"port\": 11111, \"psk\": \"" PSK
	    "\", \"device_id\": \"" DEVID "\", \"psk_generation\": 0, \"locked\": true}",
	    0600);
	assert_int_equal(simfile_load(&sf, path, &p, err, sizeof(err)), 0);
	assert_string_equal(p.iccid, ICCID);
	assert_string_equal(p.host, "127.0.0.1");
	assert_int_equal(p.port, 11111);
	assert_string_equal(p.path, "/v1/config");
	assert_int_equal(p.psk_len, 32);
	assert_int_equal(p.psk[0], 0x00);
	assert_int_equal(p.psk[31], 0x1F);
	assert_int_equal(p.device_id_len, 16);
	assert_int_equal(p.device_id[0], 0xB5);
	assert_int_equal(p.locked, 1);
	/* default identity: the 10 EF_ICCID bytes */
	assert_int_equal(p.identity_len, ICCID_EF_LEN);
	assert_memory_equal(p.identity, ef, ICCID_EF_LEN);
	assert_string_equal(sf.path, path);
	simfile_free(&sf);
}

static void
test_defaults_for_absent_fields(void **state)
{
	struct safe2_persist p, d;
	char err[256];

	assert_int_equal(parse("{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\"}", &p, err,
	    sizeof(err)), 0);
	safe2_persist_defaults(&d);
	assert_string_equal(p.host, d.host);
	assert_int_equal(p.port, d.port);
	assert_string_equal(p.path, d.path);
	assert_int_equal(p.max_attempts, d.max_attempts);
	assert_int_equal(p.retry_base_ms, d.retry_base_ms);
	assert_int_equal(p.retry_max_ms, d.retry_max_ms);
	assert_int_equal(p.psk_generation, 0);
	assert_int_equal(p.device_id_len, 0);
	assert_int_equal(p.locked, 1); /* a SIM file describes a SIM as it left the factory */
}

static void
test_optional_fields_are_mapped(void **state)
{
	struct safe2_persist p;
	char err[256];

	assert_int_equal(parse("{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", "
			       "\"identity\": \"38393434\", \"path\": \"/v2/cfg\", "
			       "\"max_attempts\": 0, \"retry_base_ms\": 5, \"retry_max_ms\": 7, "
			       "\"psk_generation\": 4294967295, \"locked\": false, "
			       "\"device_id\": \"aa\"}",
			     &p, err, sizeof(err)),
	    0);
	assert_int_equal(p.identity_len, 4);
	assert_memory_equal(p.identity, "8944", 4);
	assert_string_equal(p.path, "/v2/cfg");
	assert_int_equal(p.max_attempts, 0);
	assert_int_equal(p.retry_base_ms, 5);
	assert_int_equal(p.retry_max_ms, 7);
	assert_int_equal(p.psk_generation, 4294967295u);
	assert_int_equal(p.locked, 0);
	assert_int_equal(p.device_id_len, 1);
	assert_int_equal(p.device_id[0], 0xAA);
}

static void
test_unlocked_blank_sim_needs_no_psk(void **state)
{
	struct safe2_persist p;
	char err[256];

	assert_int_equal(parse("{\"iccid\": \"" ICCID "\", \"locked\": false}", &p, err,
	    sizeof(err)), 0);
	assert_int_equal(p.psk_len, 0);
	assert_int_equal(p.locked, 0);
}

static void
test_save_load_round_trip(void **state)
{
	struct simfile sf;
	struct safe2_persist p, q;
	char err[256];

	write_text(path, "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\"}", 0600);
	assert_int_equal(simfile_load(&sf, path, &p, err, sizeof(err)), 0);
	/* what the applet changes: Device ID, keys, personalisation */
	memcpy(p.device_id, "\xB5\x8D\x51\xC5", 4);
	p.device_id_len = 4;
	p.psk_generation = 3;
	p.psk[5] = 0xEE;
	snprintf(p.host, sizeof(p.host), "ztp.example.net");
	p.port = 443;
	memcpy(p.identity, "abc", 3);
	p.identity_len = 3;
	p.locked = 0;
	assert_int_equal(simfile_save(&sf, &p, err, sizeof(err)), 0);
	simfile_free(&sf);
	assert_int_equal(simfile_load(&sf, path, &q, err, sizeof(err)), 0);
	assert_persist_equal(&p, &q);
	simfile_free(&sf);
}

static void
test_round_trip_of_parse_and_dump(void **state)
{
	struct safe2_persist p, q;
	json_t *extra = NULL;
	char err[256], *text;

	assert_int_equal(parse("{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"device_id\": \""
			       DEVID "\"}", &p, err, sizeof(err)), 0);
	text = simfile_dump(&p, NULL);
	assert_non_null(text);
	/* the default identity is not written: it follows the ICCID */
	assert_null(strstr(text, "identity"));
	assert_int_equal(simfile_parse(text, strlen(text), &q, &extra, err, sizeof(err)), 0);
	assert_persist_equal(&p, &q);
	json_decref(extra);
	free(text);
}

static void
test_unknown_fields_are_kept(void **state)
{
	struct simfile sf;
	struct safe2_persist p;
	char err[256];
	json_error_t je;
	json_t *root;

	write_text(path,
	    "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"x_future\": {\"a\": [1, 2]}}", 0600);
	assert_int_equal(simfile_load(&sf, path, &p, err, sizeof(err)), 0);
	p.device_id[0] = 0x01;
	p.device_id_len = 1;
	assert_int_equal(simfile_save(&sf, &p, err, sizeof(err)), 0);
	simfile_free(&sf);
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(root);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(json_object_get(root,
	    "x_future"), "a"), 1)), 2);
	assert_string_equal(json_string_value(json_object_get(root, "device_id")), "01");
	json_decref(root);
}

static void
test_save_is_atomic_mode_0600_no_leftovers(void **state)
{
	struct simfile sf;
	struct safe2_persist p, q;
	struct stat before, after;
	char err[256];

	/* an older file, readable by all: replaced by a new inode, mode 0600 */
	write_text(path, "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\"}", 0644);
	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(simfile_load(&sf, path, &p, err, sizeof(err)), 0);
	p.device_id[0] = 0x42;
	p.device_id_len = 1;
	assert_int_equal(simfile_save(&sf, &p, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(after.st_mode & 07777, 0600);
	assert_int_not_equal(before.st_ino, after.st_ino); /* renamed over, not rewritten */
	assert_int_equal(entries(), 1);                     /* no temporary file left */
	simfile_free(&sf);
	assert_int_equal(simfile_load(&sf, path, &q, err, sizeof(err)), 0);
	assert_persist_equal(&p, &q);
	simfile_free(&sf);
}

static void
test_failed_save_leaves_no_temporary_file(void **state)
{
	struct simfile sf;
	struct safe2_persist p;
	char err[256], sub[160];

	write_text(path, "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\"}", 0600);
	assert_int_equal(simfile_load(&sf, path, &p, err, sizeof(err)), 0);
	/* the target is a directory: rename() fails after the data was written */
	snprintf(sub, sizeof(sub), "%s/adir", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	free(sf.path);
	sf.path = strdup(sub);
	err[0] = '\0';
	assert_int_equal(simfile_save(&sf, &p, err, sizeof(err)), ZTP_EIO);
	assert_non_null(strstr(err, "adir"));
	assert_int_equal(entries(), 2); /* sim.json and adir, nothing else */
	/* a directory that does not exist */
	free(sf.path);
	sf.path = strdup("/nonexistent-ztp-dir/sim.json");
	assert_int_equal(simfile_save(&sf, &p, err, sizeof(err)), ZTP_EIO);
	assert_non_null(strstr(err, "/nonexistent-ztp-dir"));
	simfile_free(&sf);
}

static void
test_save_in_the_current_directory(void **state)
{
	struct simfile sf;
	struct safe2_persist p;
	char err[256], cwd[512];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	write_text("sim.json", "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\"}", 0600);
	assert_int_equal(simfile_load(&sf, "sim.json", &p, err, sizeof(err)), 0);
	assert_int_equal(simfile_save(&sf, &p, err, sizeof(err)), 0);
	simfile_free(&sf);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(entries(), 1);
}

/* A malformed file: refused, with a message that names the field. */
struct bad_case {
	const char *json;
	const char *msg; /* expected in the message */
};

static void
test_malformed_files_are_refused_naming_the_field(void **state)
{
	static const struct bad_case cases[] = {
		{ "", "not valid JSON" },
		{ "{\"iccid\": ", "not valid JSON" },
		{ "[1, 2]", "not a JSON object" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\"} x", "not valid JSON" },
		{ "{\"iccid\": \"" ICCID "\", \"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\"}",
		    "duplicate" },
		{ "{\"iccid\": \"89445025091863896\\u00005\", \"psk\": \"" PSK "\"}", "not valid JSON" },
		{ "{\"psk\": \"" PSK "\"}", "iccid: missing" },
		{ "{\"iccid\": 8944502509186389635, \"psk\": \"" PSK "\"}", "iccid: must be a string" },
		{ "{\"iccid\": \"89445025091863896\", \"psk\": \"" PSK "\"}", "iccid" },
		{ "{\"iccid\": \"894450250918638963512\", \"psk\": \"" PSK "\"}", "iccid" },
		{ "{\"iccid\": \"89445025091863896X5\", \"psk\": \"" PSK "\"}", "iccid" },
		{ "{\"iccid\": \"" ICCID "\"}", "psk: missing" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": 5}", "psk: must be a string" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"00010203040506070809\"}", "psk: must be 16 to 64" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"000102030405060708090A0B0C0D0E\"}", "psk: must be 16" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK PSK "00\"}", "psk: must be 16 to 64" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "0\"}", "psk: must be hex" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"Z00102030405060708090A0B0C0D0E0F\"}", "psk: must be hex" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"\"}", "psk: must be 16" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"host\": \"\"}", "host" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"host\": \"a b\"}", "host" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"host\": 1}", "host: must be a string" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"host\": "
		  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "host" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"port\": \"11111\"}", "port: must be an integer" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"port\": 0}", "port: must be from 1 to 65535" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"port\": 65536}", "port" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"port\": 1.5}", "port: must be an integer" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"path\": \"v1/config\"}", "path" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"path\": \"/a b\"}", "path" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"identity\": \"\"}", "identity" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"identity\": \"0g\"}", "identity: must be hex" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"device_id\": \"" DEVID "00\"}",
		    "device_id: must be 0 to 16 bytes" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"device_id\": \"B58\"}", "device_id: must be hex" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"device_id\": null}", "device_id: must be a string" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"locked\": \"yes\"}", "locked" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"locked\": 1}", "locked" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"psk_generation\": -1}", "psk_generation" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"psk_generation\": 4294967296}", "psk_generation" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"max_attempts\": true}", "max_attempts" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"retry_base_ms\": 0}", "retry_base_ms" },
		{ "{\"iccid\": \"" ICCID "\", \"psk\": \"" PSK "\", \"retry_base_ms\": 100, \"retry_max_ms\": 99}",
		    "retry_max_ms" },
		{ NULL, NULL },
	};
	struct safe2_persist p;
	char err[256];
	int i, rc;

	for (i = 0; cases[i].json != NULL; i++) {
		rc = parse(cases[i].json, &p, err, sizeof(err));
		if (rc != ZTP_EMALFORMED && rc != ZTP_ERANGE)
			fail_msg("case %d (%s): rc %d", i, cases[i].json, rc);
		if (strstr(err, cases[i].msg) == NULL)
			fail_msg("case %d (%s): message '%s' lacks '%s'", i, cases[i].json, err,
			    cases[i].msg);
		if (strstr(err, "000102030405060708090A0B") != NULL)
			fail_msg("case %d: the message quotes the PSK: %s", i, err);
	}
}

static void
test_json_syntax_error_does_not_quote_the_psk(void **state)
{
	struct safe2_persist p;
	char err[256];

	/* jansson's own message is "invalid token near 'DEADBEEF'" */
	assert_int_equal(parse("{\"iccid\": \"" ICCID "\", \"psk\": DEADBEEF00112233445566778899AABB}",
			     &p, err, sizeof(err)),
	    ZTP_EMALFORMED);
	assert_non_null(strstr(err, "not valid JSON"));
	assert_non_null(strstr(err, "invalid token"));
	assert_null(strstr(err, "DEADBEEF"));
	assert_null(strstr(err, "near"));
}

static void
test_load_errors_name_the_file(void **state)
{
	struct simfile sf;
	struct safe2_persist p;
	char err[256], big[70000];

	assert_int_equal(simfile_load(&sf, path, &p, err, sizeof(err)), ZTP_EIO);
	assert_non_null(strstr(err, path));
	assert_null(sf.path);

	write_text(path, "{\"iccid\": \"" ICCID "\", \"psk\": \"abc\"}", 0600);
	assert_int_equal(simfile_load(&sf, path, &p, err, sizeof(err)), ZTP_EMALFORMED);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "psk"));
	assert_null(sf.path);
	assert_null(sf.extra);

	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{}", 2);
	write_text(path, big, 0600);
	assert_int_equal(simfile_load(&sf, path, &p, err, sizeof(err)), ZTP_EIO);
	assert_non_null(strstr(err, "at most"));

	assert_int_equal(simfile_load(&sf, dir, &p, err, sizeof(err)), ZTP_EIO);
}

/*
 * One ztp-sim per SIM file: the lock is exclusive (flock locks of two
 * opens conflict even within one process), the refusal names the file and
 * the holder's pid, closing releases it, and the lock file stays.
 */
static void
test_lock_is_exclusive_and_names_the_holder(void **state)
{
	char err[512], lockpath[160], pid[32], buf[32];
	struct stat st;
	int a, b, fd;
	ssize_t n;

	snprintf(lockpath, sizeof(lockpath), "%s.lock", path);
	snprintf(pid, sizeof(pid), "pid %ld ", (long)getpid());
	a = simfile_lock(path, err, sizeof(err));
	assert_true(a >= 0);
	assert_int_equal(stat(lockpath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	fd = open(lockpath, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_int_equal(atol(buf), (long)getpid());

	err[0] = '\0';
	assert_int_equal(simfile_lock(path, err, sizeof(err)), ZTP_EBUSY);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, pid));

	/* another SIM file in the same folder has its own lock */
	{
		char other[160];
		snprintf(other, sizeof(other), "%s/other.json", dir);
		b = simfile_lock(other, err, sizeof(err));
		assert_true(b >= 0);
		close(b);
	}

	close(a);
	b = simfile_lock(path, err, sizeof(err));
	assert_true(b >= 0);
	close(b);
	assert_int_equal(stat(lockpath, &st), 0); /* never removed */
}

static void
test_lock_refuses_a_symlink_and_reports_errors(void **state)
{
	char err[512], lockpath[160], target[160];

	snprintf(lockpath, sizeof(lockpath), "%s.lock", path);
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	assert_int_equal(symlink(target, lockpath), 0);
	assert_int_equal(simfile_lock(path, err, sizeof(err)), ZTP_EIO);
	assert_non_null(strstr(err, lockpath));
	assert_int_equal(access(target, F_OK), -1); /* not created through the link */
	assert_int_equal(simfile_lock("/nonexistent-dir/sim.json", err, sizeof(err)), ZTP_EIO);
	assert_non_null(strstr(err, "/nonexistent-dir/sim.json.lock"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_the_issue_example, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults_for_absent_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optional_fields_are_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlocked_blank_sim_needs_no_psk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_load_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_of_parse_and_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_fields_are_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_is_atomic_mode_0600_no_leftovers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failed_save_leaves_no_temporary_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_save_in_the_current_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_files_are_refused_naming_the_field,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_syntax_error_does_not_quote_the_psk, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_errors_name_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_is_exclusive_and_names_the_holder, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lock_refuses_a_symlink_and_reports_errors, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
