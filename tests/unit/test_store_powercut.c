/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's records survive a power cut. A kill -9 cannot show this (the
 * WAL is in the kernel's page cache and survives a killed process); what a
 * power cut loses is every write the disk was not told to keep. So a SQLite
 * VFS shim, registered as the default before the store opens, wraps the
 * real "unix" VFS and keeps, per file, a durable copy: the file as of its
 * last xSync. A cut point turns those copies into the disk image a power
 * cut would leave, the store is closed, the image put in place of its
 * files, and the store reopened from it and checked: every certificate
 * handed out is on record, every revocation still lists its certificate as
 * revoked (the CRL is built from that list), and no consumed one-time
 * password verifies again.
 *
 * The shim's model of the disk:
 *  - xWrite and xTruncate change the file, not its durable copy; xSync
 *    copies the whole file into it.
 *  - A directory entry a file gets when it is created is durable only once
 *    its directory is synced. The unix VFS syncs the directory in the first
 *    xSync of a WAL or journal it created (UNIXFILE_DIRSYNC), so that xSync
 *    makes the entry durable too. It never syncs the directory of a main
 *    database it creates: a created database exists on the image only
 *    after shim_restart() below, which is where the test's setup ends.
 *  - xDelete with dirSync makes the file's absence durable; without it the
 *    file may come back after a cut, with its durable copy (SQLite deletes
 *    a checkpointed WAL that way, which is harmless to replay).
 *  - The -shm is not a file of the image: SQLite rebuilds it from the WAL
 *    (on tmpfs it would be gone anyway), so a cut deletes it.
 *  - shim_restart(): the files as they are now are the disk (what a
 *    restart after a clean close, or after the image was put in place,
 *    finds); a file first opened after it starts with its content durable.
 *
 * The scenario (20 certificates, the first 10 enrolled with one-time
 * passwords, 5 revocations of certificates issued before) runs twice: once
 * with the store's connection forced to synchronous=NORMAL, where the shim
 * must lose records (else it is broken and proves nothing), then with the
 * store as it configures itself, where it must lose none.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "clock.h"
#include "log.h"
#include "signer_msg.h"
#include "store.h"
#include "store_int.h"
#include "ztp/err.h"

static const uint8_t data_key[CRYPTO_KEY_LEN] = { 0x5C, 0x01, 0x02, 0x03 };

#include "store_fixture.h"

#define N_CERTS 20
#define N_PASSWORDS 10 /* certificates 0..9 are enrolled with one */
#define N_REVOKES 5    /* of older certificates, one after every 4th issue */
#define N_RECORDS (N_CERTS + N_PASSWORDS + N_REVOKES)
#define N_CUTS (N_CERTS + N_REVOKES)

/* ---- the shim ---- */

#define SHIM_FILES 16

struct shim_track {
	char path[512];
	int durable;       /* the directory entry is durable */
	uint8_t *copy;     /* the content as of the last xSync (durable, if the entry is) */
	size_t len;
	long unsynced;     /* xWrite/xTruncate calls since the last xSync */
};

struct shim_file {
	sqlite3_file base;
	struct shim_track *t; /* NULL: not a file of the image (temporary, ...) */
	int dirsync;          /* created WAL or journal: its first xSync syncs the directory */
	sqlite3_file *real;   /* the unix VFS's file, right after this struct */
};

static struct {
	sqlite3_vfs vfs;
	sqlite3_vfs *real;
	struct shim_track t[SHIM_FILES];
	int ntrack;
	int open;           /* files open through the shim */
	long discarded;     /* unsynced writes a cut threw away */
	long db_syncs;      /* xSync of a main database (checkpoints) since the restart */
} shim;

/* The whole file at path (malloc'd into *buf), or -1 if it does not exist. */
static int
read_path(const char *path, uint8_t **buf, size_t *len)
{
	struct stat sb;
	FILE *f;

	*buf = NULL;
	*len = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	assert_int_equal(fstat(fileno(f), &sb), 0);
	*len = (size_t)sb.st_size;
	*buf = malloc(*len ? *len : 1);
	assert_non_null(*buf);
	assert_int_equal(fread(*buf, 1, *len, f), *len);
	fclose(f);
	return 0;
}

static struct shim_track *
shim_track(const char *path)
{
	struct shim_track *t;
	int i;

	for (i = 0; i < shim.ntrack; i++)
		if (strcmp(shim.t[i].path, path) == 0)
			return &shim.t[i];
	assert_true(shim.ntrack < SHIM_FILES);
	t = &shim.t[shim.ntrack++];
	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s", path);
	/* seen for the first time since the restart: as it is, it is on the disk */
	t->durable = read_path(path, &t->copy, &t->len) == 0;
	return t;
}

/* Forget every file: the files as they are now are the disk. */
static void
shim_restart(void)
{
	int i;

	assert_int_equal(shim.open, 0);
	for (i = 0; i < shim.ntrack; i++)
		free(shim.t[i].copy);
	shim.ntrack = 0;
	shim.db_syncs = 0;
}

static int
shim_close(sqlite3_file *f)
{
	struct shim_file *sf = (struct shim_file *)f;
	int rc = sf->real->pMethods->xClose(sf->real);

	shim.open--;
	return rc;
}

static int
shim_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	struct shim_file *sf = (struct shim_file *)f;

	return sf->real->pMethods->xRead(sf->real, buf, n, off);
}

static int
shim_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	struct shim_file *sf = (struct shim_file *)f;

	if (sf->t != NULL)
		sf->t->unsynced++;
	return sf->real->pMethods->xWrite(sf->real, buf, n, off);
}

static int
shim_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct shim_file *sf = (struct shim_file *)f;

	if (sf->t != NULL)
		sf->t->unsynced++;
	return sf->real->pMethods->xTruncate(sf->real, size);
}

/* After the real xSync: the file as it is now is its durable copy. */
static int
shim_sync(sqlite3_file *f, int flags)
{
	struct shim_file *sf = (struct shim_file *)f;
	struct shim_track *t = sf->t;
	sqlite3_int64 size;
	int rc;

	if ((rc = sf->real->pMethods->xSync(sf->real, flags)) != SQLITE_OK || t == NULL)
		return rc;
	if ((rc = sf->real->pMethods->xFileSize(sf->real, &size)) != SQLITE_OK)
		return rc;
	free(t->copy);
	t->len = (size_t)size;
	t->copy = malloc(t->len ? t->len : 1);
	assert_non_null(t->copy);
	if (size > 0 && (rc = sf->real->pMethods->xRead(sf->real, t->copy, (int)size, 0)) !=
			    SQLITE_OK)
		return rc;
	if (sf->dirsync) {
		t->durable = 1;
		sf->dirsync = 0;
	}
	t->unsynced = 0;
	if (strstr(t->path, "-wal") == NULL && strstr(t->path, "-journal") == NULL)
		shim.db_syncs++;
	return SQLITE_OK;
}

static int
shim_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct shim_file *sf = (struct shim_file *)f;

	return sf->real->pMethods->xFileSize(sf->real, size);
}

static int
shim_lock(sqlite3_file *f, int level)
{
	struct shim_file *sf = (struct shim_file *)f;

	return sf->real->pMethods->xLock(sf->real, level);
}

static int
shim_unlock(sqlite3_file *f, int level)
{
	struct shim_file *sf = (struct shim_file *)f;

	return sf->real->pMethods->xUnlock(sf->real, level);
}

static int
shim_check_reserved(sqlite3_file *f, int *out)
{
	struct shim_file *sf = (struct shim_file *)f;

	return sf->real->pMethods->xCheckReservedLock(sf->real, out);
}

static int
shim_file_control(sqlite3_file *f, int op, void *arg)
{
	struct shim_file *sf = (struct shim_file *)f;

	return sf->real->pMethods->xFileControl(sf->real, op, arg);
}

static int
shim_sector_size(sqlite3_file *f)
{
	struct shim_file *sf = (struct shim_file *)f;

	return sf->real->pMethods->xSectorSize(sf->real);
}

static int
shim_device_characteristics(sqlite3_file *f)
{
	struct shim_file *sf = (struct shim_file *)f;

	return sf->real->pMethods->xDeviceCharacteristics(sf->real);
}

/* The -shm: passed through, never part of the image. */
static int
shim_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	struct shim_file *sf = (struct shim_file *)f;

	return sf->real->pMethods->xShmMap(sf->real, pg, pgsz, extend, pp);
}

static int
shim_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	struct shim_file *sf = (struct shim_file *)f;

	return sf->real->pMethods->xShmLock(sf->real, offset, n, flags);
}

static void
shim_shm_barrier(sqlite3_file *f)
{
	struct shim_file *sf = (struct shim_file *)f;

	sf->real->pMethods->xShmBarrier(sf->real);
}

static int
shim_shm_unmap(sqlite3_file *f, int delete_flag)
{
	struct shim_file *sf = (struct shim_file *)f;

	return sf->real->pMethods->xShmUnmap(sf->real, delete_flag);
}

static int
shim_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	struct shim_file *sf = (struct shim_file *)f;

	return sf->real->pMethods->xFetch(sf->real, off, n, pp);
}

static int
shim_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	struct shim_file *sf = (struct shim_file *)f;

	return sf->real->pMethods->xUnfetch(sf->real, off, p);
}

static const sqlite3_io_methods shim_io = {
	3,
	shim_close,
	shim_read,
	shim_write,
	shim_truncate,
	shim_sync,
	shim_file_size,
	shim_lock,
	shim_unlock,
	shim_check_reserved,
	shim_file_control,
	shim_sector_size,
	shim_device_characteristics,
	shim_shm_map,
	shim_shm_lock,
	shim_shm_barrier,
	shim_shm_unmap,
	shim_fetch,
	shim_unfetch,
};

#define SHIM_IMAGE_FILES \
	(SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL | \
	    SQLITE_OPEN_SUPER_JOURNAL)
#define SHIM_DIRSYNC_FILES (SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_SUPER_JOURNAL)

static int
shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
	struct shim_file *sf = (struct shim_file *)f;
	int rc;

	(void)vfs;
	memset(sf, 0, sizeof(*sf));
	sf->real = (sqlite3_file *)(sf + 1);
	if (name != NULL && (flags & SHIM_IMAGE_FILES) != 0) {
		sf->t = shim_track(name);
		sf->dirsync = (flags & SQLITE_OPEN_CREATE) && (flags & SHIM_DIRSYNC_FILES);
	}
	rc = shim.real->xOpen(shim.real, name, sf->real, flags, out_flags);
	if (sf->real->pMethods != NULL) {
		sf->base.pMethods = &shim_io;
		shim.open++;
	}
	return rc;
}

static int
shim_delete(sqlite3_vfs *vfs, const char *name, int dirsync)
{
	struct shim_track *t;
	int rc, i;

	(void)vfs;
	if ((rc = shim.real->xDelete(shim.real, name, dirsync)) != SQLITE_OK || !dirsync)
		return rc;
	for (i = 0; i < shim.ntrack; i++) {
		t = &shim.t[i];
		if (strcmp(t->path, name) == 0) {
			t->durable = 0;
			t->unsynced = 0;
		}
	}
	return SQLITE_OK;
}

static int
shim_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return shim.real->xAccess(shim.real, name, flags, out);
}

static int
shim_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return shim.real->xFullPathname(shim.real, name, n, out);
}

static void *
shim_dl_open(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return shim.real->xDlOpen(shim.real, name);
}

static void
shim_dl_error(sqlite3_vfs *vfs, int n, char *msg)
{
	(void)vfs;
	shim.real->xDlError(shim.real, n, msg);
}

static void (*shim_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return shim.real->xDlSym(shim.real, h, sym);
}

static void
shim_dl_close(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	shim.real->xDlClose(shim.real, h);
}

static int
shim_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return shim.real->xRandomness(shim.real, n, out);
}

static int
shim_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return shim.real->xSleep(shim.real, us);
}

static int
shim_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return shim.real->xCurrentTime(shim.real, out);
}

static int
shim_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return shim.real->xGetLastError(shim.real, n, out);
}

static int
shim_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return shim.real->xCurrentTimeInt64(shim.real, out);
}

/* Register the shim as the default VFS, over "unix". */
static void
shim_register(void)
{
	sqlite3_vfs *v = &shim.vfs;

	shim_restart();
	shim.real = sqlite3_vfs_find("unix");
	assert_non_null(shim.real);
	memset(v, 0, sizeof(*v));
	v->iVersion = 2;
	v->szOsFile = (int)sizeof(struct shim_file) + shim.real->szOsFile;
	v->mxPathname = shim.real->mxPathname;
	v->zName = "ztp-powercut";
	v->xOpen = shim_open;
	v->xDelete = shim_delete;
	v->xAccess = shim_access;
	v->xFullPathname = shim_full_pathname;
	v->xDlOpen = shim_dl_open;
	v->xDlError = shim_dl_error;
	v->xDlSym = shim_dl_sym;
	v->xDlClose = shim_dl_close;
	v->xRandomness = shim_randomness;
	v->xSleep = shim_sleep;
	v->xCurrentTime = shim_current_time;
	v->xGetLastError = shim_last_error;
	v->xCurrentTimeInt64 = shim_current_time64;
	assert_int_equal(sqlite3_vfs_register(v, 1), SQLITE_OK);
}

/* Back to the real VFS as the default. */
static void
shim_unregister(void)
{
	assert_int_equal(sqlite3_vfs_unregister(&shim.vfs), SQLITE_OK);
	assert_int_equal(sqlite3_vfs_register(sqlite3_vfs_find("unix"), 1), SQLITE_OK);
	shim_restart();
}

/* ---- the image a power cut leaves ---- */

static const char *const image_suffixes[] = { "", "-wal", "-journal" };
#define IMAGE_FILES (sizeof(image_suffixes) / sizeof(image_suffixes[0]))

struct image {
	int present[IMAGE_FILES];
	uint8_t *buf[IMAGE_FILES];
	size_t len[IMAGE_FILES];
};

/* The disk now, had the power gone: each file as of its last xSync. */
static void
image_take(const char *db, struct image *im)
{
	struct shim_track *t;
	char path[512];
	size_t k;
	int i;

	memset(im, 0, sizeof(*im));
	for (k = 0; k < IMAGE_FILES; k++) {
		snprintf(path, sizeof(path), "%s%s", db, image_suffixes[k]);
		for (i = 0, t = NULL; i < shim.ntrack && t == NULL; i++)
			if (strcmp(shim.t[i].path, path) == 0)
				t = &shim.t[i];
		if (t == NULL) { /* untouched since the restart */
			im->present[k] = read_path(path, &im->buf[k], &im->len[k]) == 0;
			continue;
		}
		shim.discarded += t->unsynced;
		if ((im->present[k] = t->durable) != 0) {
			im->len[k] = t->len;
			im->buf[k] = malloc(t->len ? t->len : 1);
			assert_non_null(im->buf[k]);
			memcpy(im->buf[k], t->copy, t->len);
		}
	}
}

/* Put the image in place of the (closed) store's files; the -shm goes. */
static void
image_put(const char *db, struct image *im)
{
	char path[512];
	size_t k;
	FILE *f;

	for (k = 0; k < IMAGE_FILES; k++) {
		snprintf(path, sizeof(path), "%s%s", db, image_suffixes[k]);
		unlink(path);
		if (im->present[k]) {
			assert_non_null(f = fopen(path, "wb"));
			assert_int_equal(fwrite(im->buf[k], 1, im->len[k], f), im->len[k]);
			assert_int_equal(fclose(f), 0);
		}
		free(im->buf[k]);
	}
	snprintf(path, sizeof(path), "%s-shm", db);
	unlink(path);
}

/* ---- the scenario ---- */

struct run {
	const char *sync; /* forced on the store's connection; NULL: as the store configures it */
	struct fx *fx;
	int issued, consumed, revoked; /* handed out so far */
	int lost[N_RECORDS];           /* certificates, then passwords, then revocations */
	int cuts_losing;
	long checkpoints; /* syncs of the database file between a restart and its cut */
};

static void
serial_of(char out[STORE_SERIAL_HEX], int kind, int i)
{
	snprintf(out, STORE_SERIAL_HEX, "%c%03X", kind, i);
}

static void
udid_of(char *out, size_t cap, int i)
{
	snprintf(out, cap, "dev-%02d", i);
}

static void
password_of(char *out, size_t cap, int i)
{
	snprintf(out, cap, "one-time-%02d", i);
}

static struct store_cert
cert_of(char kind, int i)
{
	struct store_cert c;

	memset(&c, 0, sizeof(c));
	serial_of(c.serial, kind, i);
	udid_of(c.udid, sizeof(c.udid), i);
	snprintf(c.subject, sizeof(c.subject), "/CN=%s", c.udid);
	memset(c.key_sha256, 0x40 + i, sizeof(c.key_sha256));
	c.not_before = 1700000000;
	c.not_after = 4000000000;
	snprintf(c.method, sizeof(c.method), "%s", i < N_PASSWORDS ? "password" : "allowlist");
	return c;
}

static void
run_open(struct run *r)
{
	char sql[64];

	assert_int_equal(store_open(&r->fx->st, r->fx->path, data_key), 0);
	if (r->sync != NULL) {
		snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s", r->sync);
		assert_int_equal(sqlite3_exec(r->fx->st->db, sql, NULL, NULL, NULL), SQLITE_OK);
	}
}

struct find {
	const char *serial;
	int found;
};

static int
find_serial(const struct store_cert *c, void *arg)
{
	struct find *f = arg;

	f->found |= strcmp(c->serial, f->serial) == 0;
	return 0;
}

/* Everything handed out so far is in the (reopened) store; what is not is lost. */
static int
run_check(struct run *r)
{
	struct store *st = r->fx->st;
	char serial[STORE_SERIAL_HEX], udid[STORE_UDID_MAX + 1], pw[32];
	struct store_cert c;
	struct find f;
	int i, rc, n = 0;

	for (i = 0; i < r->issued; i++) {
		serial_of(serial, 'C', i);
		rc = store_cert_get(st, serial, &c);
		assert_true(rc == 0 || rc == ZTP_ENOENT);
		n += rc != 0;
		r->lost[i] |= rc != 0;
	}
	for (i = 0; i < r->consumed; i++) {
		udid_of(udid, sizeof(udid), i);
		password_of(pw, sizeof(pw), i);
		rc = store_password_check(st, udid, pw, NULL);
		assert_true(rc == 0 || rc == ZTP_ECONFLICT);
		n += rc == 0;
		r->lost[N_CERTS + i] |= rc == 0;
	}
	for (i = 0; i < r->revoked; i++) {
		serial_of(serial, 'R', i);
		rc = store_cert_is_revoked(st, serial, NULL);
		assert_true(rc == 0 || rc == 1);
		/* and on the list the CRL is signed from */
		if (rc == 1) {
			f.serial = serial;
			f.found = 0;
			assert_int_equal(store_cert_revoked_list(st, clock_now_ms() / 1000,
					     find_serial, &f),
			    0);
			rc = f.found;
		}
		n += rc != 1;
		r->lost[N_CERTS + N_PASSWORDS + i] |= rc != 1;
	}
	return n;
}

/* Power cut now: close, put the image in place, restart the store, check. */
static void
run_cut(struct run *r)
{
	struct image im;

	image_take(r->fx->path, &im);
	r->checkpoints += shim.db_syncs;
	close_store(r->fx);
	image_put(r->fx->path, &im);
	shim_restart();
	run_open(r);
	if (run_check(r) > 0)
		r->cuts_losing++;
}

/*
 * The store on a fresh directory through the shim: the passwords and the
 * certificates to revoke are created and the store closed, as a server
 * that ran before; then 20 issues (10 with a password) and 5 revocations,
 * a power cut right after each. Returns how many records were lost.
 */
static int
run_scenario(struct run *r)
{
	char udid[STORE_UDID_MAX + 1], pw[32], serial[STORE_SERIAL_HEX];
	struct store_password p[N_PASSWORDS];
	struct store_cert c;
	int i, n = 0;

	shim_register();
	assert_int_equal(fixture_setup((void **)&r->fx, data_key), 0);
	for (i = 0; i < N_PASSWORDS; i++) {
		udid_of(udid, sizeof(udid), i);
		password_of(pw, sizeof(pw), i);
		assert_int_equal(store_password_create(r->fx->st, udid, NULL, pw,
				     clock_now_ms() + 3600 * 1000, &p[i]),
		    0);
	}
	for (i = 0; i < N_REVOKES; i++) {
		c = cert_of('R', i);
		assert_int_equal(store_cert_record(r->fx->st, &c, NULL, 0), 0);
	}
	close_store(r->fx);
	shim_restart();
	run_open(r);
	shim.discarded = 0;
	for (i = 0; i < N_CERTS; i++) {
		c = cert_of('C', i);
		/* what EST calls before it hands the certificate out; it spends the password */
		assert_int_equal(store_cert_record(r->fx->st, &c, NULL, i < N_PASSWORDS ? p[i].id : 0),
		    0);
		r->issued++;
		if (i < N_PASSWORDS)
			r->consumed++;
		run_cut(r);
		if (i % 4 == 3) {
			serial_of(serial, 'R', r->revoked);
			assert_int_equal(store_cert_revoke(r->fx->st, serial,
					     SIGNER_REASON_KEY_COMPROMISE),
			    0);
			r->revoked++;
			run_cut(r);
		}
	}
	assert_int_equal(r->revoked, N_REVOKES);
	for (i = 0; i < N_RECORDS; i++)
		n += r->lost[i];
	print_message("%s: %d of %d records lost (at %d of %d cuts; %ld unsynced writes "
		      "discarded, %ld checkpoints)\n",
	    r->sync ? r->sync : "as configured", n, N_RECORDS, r->cuts_losing, N_CUTS,
	    shim.discarded, r->checkpoints);
	teardown((void **)&r->fx);
	shim_unregister();
	return n;
}

static int
store_synchronous(void)
{
	struct fx *fx = NULL;
	sqlite3_stmt *s = NULL;
	int v = -1;

	assert_int_equal(fixture_setup((void **)&fx, data_key), 0);
	assert_int_equal(sqlite3_prepare_v2(fx->st->db, "PRAGMA synchronous", -1, &s, NULL),
	    SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	teardown((void **)&fx);
	return v;
}

static void
test_store_configures_synchronous_full(void **state)
{
	(void)state;
	assert_int_equal(store_synchronous(), 2);
}

/*
 * The shim proves it can fail (NORMAL loses records), then the store as
 * configured loses none.
 */
static void
test_power_cuts_lose_no_record(void **state)
{
	struct run normal = { .sync = "NORMAL" }, full = { .sync = NULL };
	int lost_normal, lost_full;

	(void)state;
	lost_normal = run_scenario(&normal);
	lost_full = run_scenario(&full);
	print_message("NORMAL: %d of %d lost; FULL: %d of %d lost\n", lost_normal, N_RECORDS,
	    lost_full, N_RECORDS);
	assert_true(lost_normal > 0); /* else the shim discards nothing and proves nothing */
	assert_int_equal(lost_full, 0);
}

/* The cost of FULL: certificate records on this machine's disk (a figure, not a test). */
static double
time_records(const char *sync, int n)
{
	struct fx *fx = NULL;
	struct timespec a, b;
	struct store_cert c;
	char sql[64];
	int i;

	assert_int_equal(fixture_setup((void **)&fx, data_key), 0);
	snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s", sync);
	assert_int_equal(sqlite3_exec(fx->st->db, sql, NULL, NULL, NULL), SQLITE_OK);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		c = cert_of('T', i % 64);
		snprintf(c.serial, sizeof(c.serial), "T%04X", i);
		assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	teardown((void **)&fx);
	return (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
}

static void
test_cost_of_full(void **state)
{
	double normal, full;

	(void)state;
	normal = time_records("NORMAL", 200);
	full = time_records("FULL", 200);
	print_message("200 certificate records: NORMAL %.1f ms (%.2f ms each), FULL %.1f ms "
		      "(%.2f ms each), in /tmp\n",
	    normal, normal / 200, full, full / 200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_configures_synchronous_full),
		cmocka_unit_test(test_power_cuts_lose_no_record),
		cmocka_unit_test(test_cost_of_full),
	};

	/* a SQLite VFS shim: SQLite files whatever ZTP_TEST_PG says (not a pg test) */
	unsetenv("ZTP_TEST_PG");
	log_init("test_store_powercut", LOG_FORMAT_TEXT, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
