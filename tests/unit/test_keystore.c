/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device key store (include/ztp/keystore.h) with its file backend, on
 * real files in a mkdtemp directory: slots, modes, atomic writes (a process
 * killed in the middle of one), bounded and checked reads, keys that never
 * leave the store.
 */
#define _GNU_SOURCE /* nftw's FTW_PHYS and FTW_DEPTH */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ztp/err.h"
#include "ztp/keystore.h"

struct fx {
	char base[64];  /* the mkdtemp directory */
	char dir[128];  /* the store: base/store */
	struct keystore *ks;
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	chmod(path, 0700);
	remove(path);
	return 0;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	snprintf(f->base, sizeof(f->base), "/tmp/ztp-keystore.XXXXXX");
	assert_non_null(mkdtemp(f->base));
	snprintf(f->dir, sizeof(f->dir), "%s/store", f->base);
	assert_int_equal(keystore_file_open(f->dir, KEYSTORE_FILE_CREATE, &f->ks, err,
	    sizeof(err)), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	keystore_close(f->ks);
	nftw(f->base, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- helpers ---- */

/* A self-signed P-256 certificate for cn: DER in *der (OPENSSL_free it). */
static int
make_cert_der(const char *cn, unsigned char **der)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	int len;

	assert_non_null(pk);
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	n = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	assert_int_equal(X509_set_pubkey(x, pk), 1);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	*der = NULL;
	len = i2d_X509(x, der);
	assert_true(len > 0);
	X509_free(x);
	EVP_PKEY_free(pk);
	return len;
}

/* The same certificate as PEM, malloc'd and NUL-terminated, its length in *len. */
static char *
der_to_pem(const unsigned char *der, int derlen, size_t *len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, derlen);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_non_null(x);
	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_X509(bio, x), 1);
	n = BIO_get_mem_data(bio, &data);
	out = malloc((size_t)n + 1);
	assert_non_null(out);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	BIO_free(bio);
	X509_free(x);
	return out;
}

/* Write data[len] to base/name with mode `mode`, as a tampering or crashing party would. */
static void
write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int
file_exists(const char *dir, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

/* How many directory entries whose name starts with prefix. */
static int
count_prefixed(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static void
expect_slot(struct keystore *ks, int slot, const void *want, size_t wantlen)
{
	uint8_t buf[KEYSTORE_DATA_MAX];
	size_t len = 0;

	assert_int_equal(keystore_get(ks, slot, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, wantlen);
	assert_memory_equal(buf, want, wantlen);
}

/* The EVP_PKEY of a raw P-256 point. */
static EVP_PKEY *
point_to_pkey(const uint8_t *pub, size_t len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM params[3];
	EVP_PKEY *pk = NULL;
	char group[] = "prime256v1";

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, len);
	params[2] = OSSL_PARAM_construct_end();
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

/* ---- opening ---- */

static void
test_open_creates_the_directory_0700_whatever_the_umask(void **state)
{
	struct fx *f = *state;
	struct keystore *ks = NULL;
	char dir[160], err[256];
	struct stat st;
	mode_t old = umask(0277); /* mkdir(0700) alone would give 0500 */

	snprintf(dir, sizeof(dir), "%s/other", f->base);
	assert_int_equal(keystore_file_open(dir, KEYSTORE_FILE_CREATE, &ks, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	keystore_close(ks);
}

static void
test_open_without_create_refuses_a_missing_directory(void **state)
{
	struct fx *f = *state;
	struct keystore *ks = (struct keystore *)1;
	char dir[160], err[256] = "";

	snprintf(dir, sizeof(dir), "%s/missing", f->base);
	assert_int_equal(keystore_file_open(dir, 0, &ks, err, sizeof(err)), ZTP_ENOENT);
	assert_null(ks);
	assert_non_null(strstr(err, "missing"));
	assert_false(file_exists(f->base, "missing"));
}

static void
test_open_refuses_a_directory_open_to_others(void **state)
{
	struct fx *f = *state;
	struct keystore *ks = NULL;
	char dir[160], err[256] = "";

	snprintf(dir, sizeof(dir), "%s/loose", f->base);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0750), 0);
	assert_int_equal(keystore_file_open(dir, KEYSTORE_FILE_CREATE, &ks, err, sizeof(err)),
	    ZTP_ECONFLICT);
	assert_null(ks);
	assert_non_null(strstr(err, "0750"));
	assert_non_null(strstr(err, "chmod 700"));
}

static void
test_open_refuses_a_symbolic_link_and_a_file(void **state)
{
	struct fx *f = *state;
	struct keystore *ks = NULL;
	char link[160], file[160], err[256] = "";

	snprintf(link, sizeof(link), "%s/link", f->base);
	assert_int_equal(symlink(f->dir, link), 0);
	assert_int_equal(keystore_file_open(link, 0, &ks, err, sizeof(err)), ZTP_ECONFLICT);
	assert_non_null(strstr(err, "symbolic link"));
	write_file(f->base, "plain", "x", 1, 0600);
	snprintf(file, sizeof(file), "%s/plain", f->base);
	assert_int_equal(keystore_file_open(file, 0, &ks, err, sizeof(err)), ZTP_EINVAL);
	assert_non_null(strstr(err, "not a directory"));
	assert_null(ks);
}

static void
test_open_reopens_an_existing_store(void **state)
{
	struct fx *f = *state;
	struct keystore *ks = NULL;
	uint8_t opaque[] = "opaque";
	char err[256];

	assert_int_equal(keystore_put(f->ks, 13, opaque, sizeof(opaque)), 0);
	assert_int_equal(keystore_file_open(f->dir, 0, &ks, err, sizeof(err)), 0);
	expect_slot(ks, 13, opaque, sizeof(opaque));
	keystore_close(ks);
}

/* ---- data slots ---- */

static void
test_certificate_slots_round_trip_der_and_pem(void **state)
{
	struct fx *f = *state;
	unsigned char *c1 = NULL, *c2 = NULL, *chain;
	int l1 = make_cert_der("device-1", &c1), l2 = make_cert_der("ca", &c2);
	size_t p1len, p2len;
	char *p1 = der_to_pem(c1, l1, &p1len), *p2 = der_to_pem(c2, l2, &p2len);
	char *pems = malloc(p1len + p2len + 32);

	/* slot 10: one DER certificate */
	assert_int_equal(keystore_put(f->ks, KEYSTORE_SLOT_DEVICE_CERT, c1, (size_t)l1), 0);
	expect_slot(f->ks, KEYSTORE_SLOT_DEVICE_CERT, c1, (size_t)l1);
	/* slot 11: two PEM certificates with explanatory text around them */
	snprintf(pems, p1len + p2len + 32, "root CA\n%s\n%sthe end\n", p1, p2);
	assert_int_equal(keystore_put(f->ks, KEYSTORE_SLOT_CA_CERT, (uint8_t *)pems,
	    strlen(pems)), 0);
	expect_slot(f->ks, KEYSTORE_SLOT_CA_CERT, pems, strlen(pems));
	/* slot 12: two DER certificates back to back */
	chain = malloc((size_t)(l1 + l2));
	memcpy(chain, c1, (size_t)l1);
	memcpy(chain + l1, c2, (size_t)l2);
	assert_int_equal(keystore_put(f->ks, KEYSTORE_SLOT_CA_CHAIN, chain, (size_t)(l1 + l2)), 0);
	expect_slot(f->ks, KEYSTORE_SLOT_CA_CHAIN, chain, (size_t)(l1 + l2));
	/* slot 10 again, now PEM: replaced */
	assert_int_equal(keystore_put(f->ks, KEYSTORE_SLOT_DEVICE_CERT, (uint8_t *)p1, p1len), 0);
	expect_slot(f->ks, KEYSTORE_SLOT_DEVICE_CERT, p1, p1len);
	free(chain);
	free(pems);
	free(p1);
	free(p2);
	OPENSSL_free(c1);
	OPENSSL_free(c2);
}

static void
test_opaque_slots_round_trip_up_to_the_limit(void **state)
{
	struct fx *f = *state;
	uint8_t *big = malloc(KEYSTORE_DATA_MAX + 1);
	uint8_t one = 0;
	int i;

	for (i = 0; i <= KEYSTORE_DATA_MAX; i++)
		big[i] = (uint8_t)(i * 7);
	assert_int_equal(keystore_put(f->ks, 13, big, KEYSTORE_DATA_MAX), 0);
	expect_slot(f->ks, 13, big, KEYSTORE_DATA_MAX);
	assert_int_equal(keystore_put(f->ks, KEYSTORE_SLOT_MAX, &one, 1), 0);
	expect_slot(f->ks, KEYSTORE_SLOT_MAX, &one, 1);
	/* one byte over: refused, the old content stays */
	assert_int_equal(keystore_put(f->ks, 13, big, KEYSTORE_DATA_MAX + 1), ZTP_ETOOBIG);
	assert_non_null(strstr(keystore_error(f->ks), "65537"));
	expect_slot(f->ks, 13, big, KEYSTORE_DATA_MAX);
	free(big);
}

static void
test_get_reports_the_size_a_small_buffer_needs(void **state)
{
	struct fx *f = *state;
	uint8_t data[100], small[10];
	size_t len = 0;

	memset(data, 0x5A, sizeof(data));
	assert_int_equal(keystore_put(f->ks, 14, data, sizeof(data)), 0);
	assert_int_equal(keystore_get(f->ks, 14, NULL, 0, &len), ZTP_ERANGE);
	assert_int_equal(len, sizeof(data));
	len = 0;
	assert_int_equal(keystore_get(f->ks, 14, small, sizeof(small), &len), ZTP_ERANGE);
	assert_int_equal(len, sizeof(data));
}

static void
test_an_empty_slot_is_noent(void **state)
{
	struct fx *f = *state;
	uint8_t buf[16];
	size_t len;

	assert_int_equal(keystore_get(f->ks, KEYSTORE_SLOT_DEVICE_CERT, buf, sizeof(buf), &len),
	    ZTP_ENOENT);
	assert_non_null(strstr(keystore_error(f->ks), "empty"));
	assert_int_equal(keystore_public_key(f->ks, 0, buf, sizeof(buf), &len), ZTP_ENOENT);
}

static void
test_bad_slots_and_arguments_are_refused(void **state)
{
	struct fx *f = *state;
	uint8_t buf[KEYSTORE_P256_SIG_LEN], d[32] = { 0 };
	size_t len;

	assert_int_equal(keystore_put(f->ks, -1, d, 1), ZTP_EINVAL);
	assert_int_equal(keystore_put(f->ks, KEYSTORE_SLOT_MAX + 1, d, 1), ZTP_EINVAL);
	assert_int_equal(keystore_put(f->ks, 13, d, 0), ZTP_EINVAL);
	assert_int_equal(keystore_put(f->ks, 13, NULL, 1), ZTP_EINVAL);
	assert_int_equal(keystore_get(f->ks, 16, buf, sizeof(buf), &len), ZTP_EINVAL);
	assert_int_equal(keystore_get(f->ks, 13, buf, sizeof(buf), NULL), ZTP_EINVAL);
	assert_int_equal(keystore_erase(f->ks, 16), ZTP_EINVAL);
	assert_int_equal(keystore_generate_key(f->ks, KEYSTORE_SLOT_DEVICE_CERT, KEYSTORE_KEY_P256,
	    0), ZTP_EINVAL);
	assert_int_equal(keystore_generate_key(f->ks, 0, (enum keystore_key_type)99, 0),
	    ZTP_EINVAL);
	assert_int_equal(keystore_public_key(f->ks, 10, buf, sizeof(buf), &len), ZTP_EINVAL);
	assert_int_equal(keystore_sign_digest(f->ks, 0, d, 31, buf, sizeof(buf), &len),
	    ZTP_EINVAL);
	assert_int_equal(keystore_sign_digest(f->ks, 11, d, 32, buf, sizeof(buf), &len),
	    ZTP_EINVAL);
	assert_int_equal(keystore_get(NULL, 13, buf, sizeof(buf), &len), ZTP_EINVAL);
	keystore_close(NULL);
}

static void
test_erase_empties_data_and_key_slots(void **state)
{
	struct fx *f = *state;
	uint8_t data[] = "abc", buf[KEYSTORE_P256_PUBKEY_LEN];
	size_t len;

	assert_int_equal(keystore_put(f->ks, 13, data, sizeof(data)), 0);
	assert_int_equal(keystore_generate_key(f->ks, 0, KEYSTORE_KEY_P256, 0), 0);
	assert_int_equal(keystore_erase(f->ks, 13), 0);
	assert_int_equal(keystore_get(f->ks, 13, buf, sizeof(buf), &len), ZTP_ENOENT);
	assert_int_equal(keystore_erase(f->ks, 0), 0);
	assert_int_equal(keystore_public_key(f->ks, 0, buf, sizeof(buf), &len), ZTP_ENOENT);
	assert_false(file_exists(f->dir, "slot-13"));
	assert_false(file_exists(f->dir, "slot-00"));
	/* erasing an empty slot is fine */
	assert_int_equal(keystore_erase(f->ks, 13), 0);
	/* and the slot can be used again */
	assert_int_equal(keystore_generate_key(f->ks, 0, KEYSTORE_KEY_P256, 0), 0);
}

/* ---- files on disk ---- */

static void
test_every_file_is_0600_and_the_directory_0700(void **state)
{
	struct fx *f = *state;
	unsigned char *c = NULL;
	int l = make_cert_der("dev", &c);
	uint8_t data[] = "x";
	DIR *d;
	struct dirent *e;
	struct stat st;
	char path[256];
	int n = 0;
	mode_t old = umask(0); /* the modes must not come from the umask */

	assert_int_equal(keystore_generate_key(f->ks, 0, KEYSTORE_KEY_P256, 0), 0);
	assert_int_equal(keystore_put(f->ks, 10, c, (size_t)l), 0);
	assert_int_equal(keystore_put(f->ks, 11, c, (size_t)l), 0);
	assert_int_equal(keystore_put(f->ks, 12, c, (size_t)l), 0);
	assert_int_equal(keystore_put(f->ks, 15, data, sizeof(data)), 0);
	assert_int_equal(keystore_generate_key(f->ks, 0, KEYSTORE_KEY_P256, 1), 0);
	umask(old);
	assert_non_null(d = opendir(f->dir));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->dir, e->d_name);
		assert_int_equal(lstat(path, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0600);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 5); /* slot-00, -10, -11, -12, -15 */
	assert_int_equal(count_prefixed(f->dir, "."), 2); /* "." and "..": no temporary file */
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	OPENSSL_free(c);
}

static void
test_the_key_file_is_a_pem_private_key_named_slot_00(void **state)
{
	struct fx *f = *state;
	char path[256];
	FILE *fp;
	EVP_PKEY *pk;

	assert_int_equal(keystore_generate_key(f->ks, 0, KEYSTORE_KEY_P256, 0), 0);
	snprintf(path, sizeof(path), "%s/slot-00", f->dir);
	assert_non_null(fp = fopen(path, "r"));
	pk = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(pk);
	assert_true(EVP_PKEY_is_a(pk, "EC"));
	EVP_PKEY_free(pk);
}

static void
test_a_leftover_temporary_file_is_ignored_and_removed(void **state)
{
	struct fx *f = *state;
	struct keystore *ks = NULL;
	unsigned char *c = NULL;
	int l = make_cert_der("dev", &c);
	char err[256];

	assert_int_equal(keystore_put(f->ks, 10, c, (size_t)l), 0);
	/* what a write interrupted by a power cut leaves: a half-written temporary file */
	write_file(f->dir, ".slot-10.tmp.0123456789abcdef", c, (size_t)l / 2, 0600);
	write_file(f->dir, ".slot-00.tmp.fedcba9876543210", "-----BEGIN", 10, 0600);
	expect_slot(f->ks, 10, c, (size_t)l);
	assert_int_equal(keystore_file_open(f->dir, 0, &ks, err, sizeof(err)), 0);
	assert_false(file_exists(f->dir, ".slot-10.tmp.0123456789abcdef"));
	assert_false(file_exists(f->dir, ".slot-00.tmp.fedcba9876543210"));
	expect_slot(ks, 10, c, (size_t)l);
	keystore_close(ks);
	OPENSSL_free(c);
}

/*
 * A child process puts `data` in slot 10 and is killed at fault point
 * `point` (this program has the keystore's fault points: tests/CMakeLists.txt);
 * then the slot still holds `old`, and reopening the store removes the
 * temporary file the child left.
 */
static void
killed_during_put(struct fx *f, const char *point)
{
	unsigned char *old = NULL, *new = NULL;
	int oldlen = make_cert_der("old", &old), newlen = make_cert_der("new-certificate", &new);
	struct keystore *ks = NULL;
	char err[256];
	pid_t pid;
	int status;

	assert_int_equal(keystore_put(f->ks, 10, old, (size_t)oldlen), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("ZTP_FAULT", point, 1);
		keystore_put(f->ks, 10, new, (size_t)newlen);
		_exit(0); /* not reached: the fault point kills */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(count_prefixed(f->dir, ".slot-10.tmp."), 1);
	expect_slot(f->ks, 10, old, (size_t)oldlen);
	assert_int_equal(keystore_file_open(f->dir, 0, &ks, err, sizeof(err)), 0);
	assert_int_equal(count_prefixed(f->dir, ".slot-10.tmp."), 0);
	expect_slot(ks, 10, old, (size_t)oldlen);
	/* and the next write goes through */
	assert_int_equal(keystore_put(ks, 10, new, (size_t)newlen), 0);
	expect_slot(ks, 10, new, (size_t)newlen);
	keystore_close(ks);
	OPENSSL_free(old);
	OPENSSL_free(new);
}

static void
test_killed_in_the_middle_of_a_write_keeps_the_old_content(void **state)
{
	killed_during_put(*state, "keystore_mid_write");
}

static void
test_killed_before_the_rename_keeps_the_old_content(void **state)
{
	killed_during_put(*state, "keystore_before_rename");
}

static void
test_an_oversize_slot_file_is_refused(void **state)
{
	struct fx *f = *state;
	uint8_t *big = calloc(1, KEYSTORE_DATA_MAX + 1);
	uint8_t buf[64];
	size_t len = 0;

	write_file(f->dir, "slot-13", big, KEYSTORE_DATA_MAX + 1, 0600);
	assert_int_equal(keystore_get(f->ks, 13, buf, sizeof(buf), &len), ZTP_ETOOBIG);
	assert_non_null(strstr(keystore_error(f->ks), "slot-13"));
	assert_non_null(strstr(keystore_error(f->ks), "65537 bytes"));
	/* a key file too */
	write_file(f->dir, "slot-00", big, KEYSTORE_DATA_MAX + 1, 0600);
	assert_int_equal(keystore_public_key(f->ks, 0, buf, sizeof(buf), &len), ZTP_ETOOBIG);
	free(big);
}

static void
test_garbage_in_a_certificate_slot_is_refused(void **state)
{
	struct fx *f = *state;
	unsigned char *c = NULL;
	int l = make_cert_der("dev", &c);
	uint8_t buf[4096];
	size_t len, pemlen;
	char *pem = der_to_pem(c, l, &pemlen), *withkey;
	const char *key = "-----BEGIN PRIVATE KEY-----\n"
			  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgAAAAAAAAAAAAAAAA\n"
			  "-----END PRIVATE KEY-----\n";

	/* on disk: text, a truncated DER certificate, a DER certificate with a tail, empty */
	write_file(f->dir, "slot-10", "hello", 5, 0600);
	assert_int_equal(keystore_get(f->ks, 10, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	assert_non_null(strstr(keystore_error(f->ks), "slot 10"));
	write_file(f->dir, "slot-10", c, (size_t)l - 1, 0600);
	assert_int_equal(keystore_get(f->ks, 10, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	memcpy(buf, c, (size_t)l);
	buf[l] = 0x00;
	write_file(f->dir, "slot-11", buf, (size_t)l + 1, 0600);
	assert_int_equal(keystore_get(f->ks, 11, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	write_file(f->dir, "slot-12", "", 0, 0600);
	assert_int_equal(keystore_get(f->ks, 12, buf, sizeof(buf), &len), ZTP_EMALFORMED);

	/* on the way in: refused, the slot keeps what it had */
	assert_int_equal(keystore_put(f->ks, 12, c, (size_t)l), 0);
	assert_int_equal(keystore_put(f->ks, 12, (const uint8_t *)"hello", 5), ZTP_EMALFORMED);
	withkey = malloc(pemlen + strlen(key) + 1);
	memcpy(withkey, pem, pemlen);
	memcpy(withkey + pemlen, key, strlen(key) + 1);
	assert_int_equal(keystore_put(f->ks, 12, (uint8_t *)withkey, strlen(withkey)),
	    ZTP_EMALFORMED);
	assert_non_null(strstr(keystore_error(f->ks), "not a CERTIFICATE"));
	assert_int_equal(keystore_put(f->ks, 12, (const uint8_t *)key, strlen(key)),
	    ZTP_EMALFORMED);
	expect_slot(f->ks, 12, c, (size_t)l);
	free(withkey);
	free(pem);
	OPENSSL_free(c);
}

static void
test_a_slot_that_is_not_a_regular_file_is_refused(void **state)
{
	struct fx *f = *state;
	char path[256], target[256];
	uint8_t buf[64];
	size_t len;

	snprintf(target, sizeof(target), "%s/elsewhere", f->base);
	write_file(f->base, "elsewhere", "data", 4, 0600);
	snprintf(path, sizeof(path), "%s/slot-13", f->dir);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(keystore_get(f->ks, 13, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	assert_non_null(strstr(keystore_error(f->ks), "symbolic link"));
	snprintf(path, sizeof(path), "%s/slot-14", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(keystore_get(f->ks, 14, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	assert_non_null(strstr(keystore_error(f->ks), "not a regular file"));
}

static void
test_garbage_or_a_foreign_key_in_the_key_slot_is_refused(void **state)
{
	struct fx *f = *state;
	uint8_t buf[KEYSTORE_P256_SIG_LEN + 8], d[32] = { 1 };
	size_t len;
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long n;

	write_file(f->dir, "slot-00", "not a key", 9, 0600);
	assert_int_equal(keystore_public_key(f->ks, 0, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	assert_non_null(strstr(keystore_error(f->ks), "not an unencrypted PEM private key"));
	assert_int_equal(keystore_sign_digest(f->ks, 0, d, 32, buf, sizeof(buf), &len),
	    ZTP_EMALFORMED);
	assert_non_null(p384);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, p384, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(bio, &pem);
	write_file(f->dir, "slot-00", pem, (size_t)n, 0600);
	assert_int_equal(keystore_public_key(f->ks, 0, buf, sizeof(buf), &len), ZTP_EMALFORMED);
	assert_non_null(strstr(keystore_error(f->ks), "not a P-256 key"));
	BIO_free(bio);
	EVP_PKEY_free(p384);
}

static void
test_a_key_file_readable_by_others_is_refused(void **state)
{
	struct fx *f = *state;
	uint8_t buf[KEYSTORE_P256_PUBKEY_LEN];
	size_t len;
	char path[256];

	assert_int_equal(keystore_generate_key(f->ks, 0, KEYSTORE_KEY_P256, 0), 0);
	snprintf(path, sizeof(path), "%s/slot-00", f->dir);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(keystore_public_key(f->ks, 0, buf, sizeof(buf), &len), ZTP_ECONFLICT);
	assert_non_null(strstr(keystore_error(f->ks), "0644"));
}

/* ---- keys ---- */

static void
test_get_and_put_never_touch_a_key_slot(void **state)
{
	struct fx *f = *state;
	uint8_t buf[4096];
	size_t len;

	assert_int_equal(keystore_generate_key(f->ks, 0, KEYSTORE_KEY_P256, 0), 0);
	assert_int_equal(keystore_get(f->ks, 0, buf, sizeof(buf), &len), ZTP_EINVAL);
	assert_non_null(strstr(keystore_error(f->ks), "never read out"));
	assert_int_equal(keystore_put(f->ks, 0, buf, 10), ZTP_EINVAL);
}

static void
test_generate_refuses_to_overwrite_unless_asked(void **state)
{
	struct fx *f = *state;
	uint8_t a[KEYSTORE_P256_PUBKEY_LEN], b[KEYSTORE_P256_PUBKEY_LEN];
	size_t alen = 0, blen = 0;

	assert_int_equal(keystore_generate_key(f->ks, 0, KEYSTORE_KEY_P256, 0), 0);
	assert_int_equal(keystore_public_key(f->ks, 0, a, sizeof(a), &alen), 0);
	assert_int_equal(alen, KEYSTORE_P256_PUBKEY_LEN);
	assert_int_equal(a[0], 0x04);
	assert_int_equal(keystore_generate_key(f->ks, 0, KEYSTORE_KEY_P256, 0), ZTP_EEXIST);
	assert_non_null(strstr(keystore_error(f->ks), "already holds a key"));
	assert_int_equal(keystore_public_key(f->ks, 0, b, sizeof(b), &blen), 0);
	assert_memory_equal(a, b, sizeof(a)); /* kept */
	assert_int_equal(keystore_generate_key(f->ks, 0, KEYSTORE_KEY_P256, 1), 0);
	assert_int_equal(keystore_public_key(f->ks, 0, b, sizeof(b), &blen), 0);
	assert_memory_not_equal(a, b, sizeof(a)); /* replaced */
	/* another key slot is independent */
	assert_int_equal(keystore_generate_key(f->ks, 1, KEYSTORE_KEY_P256, 0), 0);
	assert_int_equal(keystore_public_key(f->ks, 1, a, sizeof(a), &alen), 0);
	assert_memory_not_equal(a, b, sizeof(a));
}

static void
test_public_key_reports_the_size_a_small_buffer_needs(void **state)
{
	struct fx *f = *state;
	uint8_t small[10];
	size_t len = 0;

	assert_int_equal(keystore_generate_key(f->ks, 0, KEYSTORE_KEY_P256, 0), 0);
	assert_int_equal(keystore_public_key(f->ks, 0, small, sizeof(small), &len), ZTP_ERANGE);
	assert_int_equal(len, KEYSTORE_P256_PUBKEY_LEN);
}

static void
test_sign_digest_verifies_with_the_public_key(void **state)
{
	struct fx *f = *state;
	uint8_t pub[KEYSTORE_P256_PUBKEY_LEN], sig[KEYSTORE_P256_SIG_LEN], md[32];
	size_t publen = 0, siglen = 0;
	const char msg[] = "enrol me";
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *der = NULL;
	int derlen;
	EVP_PKEY *pk;
	EVP_PKEY_CTX *ctx;

	assert_int_equal(keystore_generate_key(f->ks, 0, KEYSTORE_KEY_P256, 0), 0);
	assert_int_equal(keystore_public_key(f->ks, 0, pub, sizeof(pub), &publen), 0);
	assert_int_equal(EVP_Digest(msg, sizeof(msg), md, NULL, EVP_sha256(), NULL), 1);
	assert_int_equal(keystore_sign_digest(f->ks, 0, md, sizeof(md), sig, sizeof(sig), &siglen),
	    0);
	assert_int_equal(siglen, KEYSTORE_P256_SIG_LEN);
	/* r || s as a DER ECDSA-Sig-Value, verified by OpenSSL with the public key */
	assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32,
	    NULL)), 1);
	derlen = i2d_ECDSA_SIG(es, &der);
	assert_true(derlen > 0);
	pk = point_to_pkey(pub, publen);
	assert_non_null(ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL));
	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	assert_int_equal(EVP_PKEY_verify(ctx, der, (size_t)derlen, md, sizeof(md)), 1);
	md[0] ^= 1;
	assert_int_not_equal(EVP_PKEY_verify(ctx, der, (size_t)derlen, md, sizeof(md)), 1);
	/* a small signature buffer */
	assert_int_equal(keystore_sign_digest(f->ks, 0, md, sizeof(md), sig, 63, &siglen),
	    ZTP_ERANGE);
	assert_int_equal(siglen, KEYSTORE_P256_SIG_LEN);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
}

static void
test_the_openssl_handle_is_the_slot_key(void **state)
{
	struct fx *f = *state;
	uint8_t pub[KEYSTORE_P256_PUBKEY_LEN];
	size_t publen = 0;
	EVP_PKEY *handle = NULL, *pk;

	assert_int_equal(keystore_pkey(f->ks, 0, &handle), ZTP_ENOENT);
	assert_null(handle);
	assert_int_equal(keystore_generate_key(f->ks, 0, KEYSTORE_KEY_P256, 0), 0);
	assert_int_equal(keystore_public_key(f->ks, 0, pub, sizeof(pub), &publen), 0);
	assert_int_equal(keystore_pkey(f->ks, 0, &handle), 0);
	pk = point_to_pkey(pub, publen);
	assert_int_equal(EVP_PKEY_eq(handle, pk), 1);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(handle);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_open_creates_the_directory_0700_whatever_the_umask),
		T(test_open_without_create_refuses_a_missing_directory),
		T(test_open_refuses_a_directory_open_to_others),
		T(test_open_refuses_a_symbolic_link_and_a_file),
		T(test_open_reopens_an_existing_store),
		T(test_certificate_slots_round_trip_der_and_pem),
		T(test_opaque_slots_round_trip_up_to_the_limit),
		T(test_get_reports_the_size_a_small_buffer_needs),
		T(test_an_empty_slot_is_noent),
		T(test_bad_slots_and_arguments_are_refused),
		T(test_erase_empties_data_and_key_slots),
		T(test_every_file_is_0600_and_the_directory_0700),
		T(test_the_key_file_is_a_pem_private_key_named_slot_00),
		T(test_a_leftover_temporary_file_is_ignored_and_removed),
		T(test_killed_in_the_middle_of_a_write_keeps_the_old_content),
		T(test_killed_before_the_rename_keeps_the_old_content),
		T(test_an_oversize_slot_file_is_refused),
		T(test_garbage_in_a_certificate_slot_is_refused),
		T(test_a_slot_that_is_not_a_regular_file_is_refused),
		T(test_garbage_or_a_foreign_key_in_the_key_slot_is_refused),
		T(test_a_key_file_readable_by_others_is_refused),
		T(test_get_and_put_never_touch_a_key_slot),
		T(test_generate_refuses_to_overwrite_unless_asked),
		T(test_public_key_reports_the_size_a_small_buffer_needs),
		T(test_sign_digest_verifies_with_the_public_key),
		T(test_the_openssl_handle_is_the_slot_key),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
