/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpd export-node and ztpd join (node.h, docs/node-bundle.md): the files
 * of a node bundle, its passphrase, the new data directory. The format is
 * nodebundle.c's; this file does the I/O around it. Run by the parent
 * before it starts anything (like --import-ca), then ztpd exits.
 *
 * What a second node needs from the first: secret.key (it seals the PSKs
 * in the shared store; admin tokens are signed with a key derived from
 * it, so they hold on every node), ca.pem, and ca.key with ca.pass,
 * because every node runs a signer, which issues that node's own server
 * certificate at its first start. server.key and server.pem are never
 * copied. The CA key is copied as the bytes of ca.key and ca.pass: it is
 * never decrypted here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "atomicfile.h"
#include "config.h"
#include "log.h"
#include "node.h"
#include "nodebundle.h"
#include "store.h"
#include "ztp/err.h"

#define PASS_MIN 8 /* characters of a new bundle's passphrase */
#define NODE_FILES_MAX 5

/* A file read whole: OPENSSL_malloc'd, one byte more than len, NUL-ended. */
struct blob {
	uint8_t *data;
	size_t len;
};

static void
blob_free(struct blob *b)
{
	if (b->data != NULL)
		OPENSSL_clear_free(b->data, b->len + 1);
	b->data = NULL;
	b->len = 0;
}

/*
 * Read the regular file path, at most max bytes, into *b (the caller
 * frees it with blob_free, which wipes it). nofollow: refuse a symbolic
 * link (the data directory's files). ZTP_ENOENT if it does not exist
 * (not logged), ZTP_ETOOBIG, ZTP_EIO, ZTP_ENOMEM (logged).
 */
static int
read_file(const char *path, size_t max, int nofollow, struct blob *b)
{
	struct stat st;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, rc = ZTP_EIO;

	b->data = NULL;
	b->len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0))) < 0) {
		if (errno == ENOENT)
			return ZTP_ENOENT;
		log_warn("%s", path);
		return ZTP_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		log_warnx("%s: %lld bytes, more than the %zu it may have", path,
		    (long long)st.st_size, max);
		rc = ZTP_ETOOBIG;
		goto out;
	}
	cap = (size_t)st.st_size + 1; /* and the NUL; a file that grew is noticed */
	if ((b->data = OPENSSL_zalloc(cap + 1)) == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	while (len < cap) {
		n = read(fd, b->data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_warn("%s", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > (size_t)st.st_size) {
		log_warnx("%s: changed while it was read", path);
		goto out;
	}
	b->len = len;
	rc = 0;
out:
	close(fd);
	if (rc != 0 && b->data != NULL) {
		OPENSSL_clear_free(b->data, cap + 1);
		b->data = NULL;
	}
	return rc;
}

/*
 * The passphrase into pass (NODEBUNDLE_PASS_MAX + 1 bytes, NUL-ended) and
 * *len: the one line of cfg->passphrase_file (a final newline is not part
 * of it), or, without that option, typed on the terminal without echo
 * (twice if confirm) when stdin is a terminal. 0 or ZTP_EINVAL (logged).
 */
static int
get_passphrase(const struct config *cfg, int confirm, char *pass, size_t *len)
{
	struct blob b = { NULL, 0 };
	size_t n;
	int rc = ZTP_EINVAL;

	*len = 0;
	if (cfg->passphrase_file[0] != '\0') {
		if ((rc = read_file(cfg->passphrase_file, NODEBUNDLE_PASS_MAX + 2, 0, &b)) != 0) {
			if (rc == ZTP_ENOENT)
				log_warnx("%s: no such file", cfg->passphrase_file);
			return ZTP_EINVAL;
		}
		rc = ZTP_EINVAL;
		n = b.len;
		if (n > 0 && b.data[n - 1] == '\n')
			n--;
		if (n > 0 && b.data[n - 1] == '\r')
			n--;
		if (memchr(b.data, '\n', n) != NULL || memchr(b.data, '\0', n) != NULL) {
			log_warnx("%s: the passphrase is one line of text", cfg->passphrase_file);
			goto out;
		}
		if (n == 0 || n > NODEBUNDLE_PASS_MAX) {
			log_warnx("%s: a passphrase has 1 to %d bytes", cfg->passphrase_file,
			    NODEBUNDLE_PASS_MAX);
			goto out;
		}
		memcpy(pass, b.data, n);
		pass[n] = '\0';
		*len = n;
		rc = 0;
		goto out;
	}
	if (!isatty(STDIN_FILENO)) {
		log_warnx("no passphrase: give --passphrase-file FILE (stdin is not a terminal to "
			  "ask on)");
		return ZTP_EINVAL;
	}
	/* OpenSSL's UI: the terminal, echo off and restored even on a signal */
	if (EVP_read_pw_string_min(pass, 0, NODEBUNDLE_PASS_MAX,
		confirm ? "Passphrase for the node bundle: " : "Passphrase of the node bundle: ",
		confirm) != 0) {
		OPENSSL_cleanse(pass, NODEBUNDLE_PASS_MAX + 1);
		ERR_clear_error();
		log_warnx("no passphrase read%s", confirm ? " (or the two differ)" : "");
		return ZTP_EINVAL;
	}
	pass[NODEBUNDLE_PASS_MAX] = '\0';
	if ((n = strlen(pass)) == 0) {
		log_warnx("an empty passphrase");
		return ZTP_EINVAL;
	}
	*len = n;
	rc = 0;
out:
	blob_free(&b);
	return rc;
}

/* 1 if text[0..len) holds at least one PEM certificate and nothing unreadable before it. */
static int
pem_certs_ok(const uint8_t *text, size_t len)
{
	BIO *bio;
	X509 *cert;
	int n = 0;

	if (len > INT_MAX || (bio = BIO_new_mem_buf(text, (int)len)) == NULL)
		return 0;
	while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		X509_free(cert);
		n++;
	}
	BIO_free(bio);
	ERR_clear_error();
	return n > 0;
}

/* ---- export-node */

/*
 * Read dir/name into b, at most max bytes; exact: that many exactly.
 * optional: a missing file is 0 with b empty. Reasons logged.
 */
static int
read_node_file(const char *dir, const char *name, size_t max, int exact, int optional,
    struct blob *b)
{
	char path[PATH_MAX + 16];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = read_file(path, max, 1, b);
	if (rc == ZTP_ENOENT && optional)
		return 0;
	if (rc == ZTP_ENOENT)
		log_warnx("%s: no such file (has ztpd run on %s once?)", path, dir);
	if (rc == 0 && (b->len == 0 || (exact && b->len != max))) {
		if (exact)
			log_warnx("%s: must hold exactly %zu bytes", path, max);
		else
			log_warnx("%s: empty", path);
		blob_free(b);
		rc = ZTP_EINVAL;
	}
	return rc;
}

int
node_export(const struct config *cfg)
{
	struct blob secret = { 0 }, capem = { 0 }, cakey = { 0 }, capass = { 0 };
	struct nodebundle nb;
	char pass[NODEBUNDLE_PASS_MAX + 1], err[PATH_MAX + 64];
	const char *dir = cfg->data;
	uint8_t *file = NULL;
	size_t passlen = 0, filelen = 0;
	struct stat st;
	int rc = 1;

	/* never created here: a mistyped --data is an error, not a new CA */
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_warnx("%s: no such data directory", dir);
		return 1;
	}
	if (read_node_file(dir, "secret.key", NODEBUNDLE_SECRET_KEY_LEN, 1, 0, &secret) != 0 ||
	    read_node_file(dir, "ca.pem", NODEBUNDLE_CA_PEM_MAX, 0, 0, &capem) != 0 ||
	    read_node_file(dir, "ca.key", NODEBUNDLE_CA_KEY_MAX, 0, 0, &cakey) != 0 ||
	    read_node_file(dir, "ca.pass", NODEBUNDLE_CA_PASS_LEN, 1, 1, &capass) != 0)
		goto out;
	if (!pem_certs_ok(capem.data, capem.len)) {
		log_warnx("%s/ca.pem: no PEM certificate", dir);
		goto out;
	}
	memset(&nb, 0, sizeof(nb));
	nb.secret_key = secret.data;
	nb.ca_pem = capem.data;
	nb.ca_pem_len = capem.len;
	nb.ca_key = cakey.data;
	nb.ca_key_len = cakey.len;
	nb.ca_pass = capass.data; /* NULL: a data directory from before ca.pass */
	nb.ca_pass_len = capass.len;
	if (nodebundle_encoded_len(&nb) == 0) {
		log_warnx("%s: ca.key or ca.pass is not what ztpd writes (text; 64 hexadecimal "
			  "characters)", dir);
		goto out;
	}
	if (get_passphrase(cfg, 1, pass, &passlen) != 0)
		goto out;
	if (passlen < PASS_MIN) {
		log_warnx("the passphrase of a node bundle has at least %d characters", PASS_MIN);
		goto out;
	}
	if (nodebundle_seal(&nb, pass, passlen, 0, &file, &filelen) != 0) {
		log_warnx("cannot seal the node bundle");
		goto out;
	}
	if (atomicfile_write(cfg->node_out, file, filelen, 0600, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		goto out;
	}
	log_info("wrote the node bundle %s (mode 0600): secret.key, ca.pem, ca.key%s of %s; "
		 "join a node with it (ztpd --data DIR join %s), then delete it",
	    cfg->node_out, capass.data != NULL ? ", ca.pass" : "", dir, cfg->node_out);
	rc = 0;
out:
	OPENSSL_cleanse(pass, sizeof(pass));
	blob_free(&secret);
	blob_free(&capem);
	blob_free(&cakey);
	blob_free(&capass);
	free(file);
	return rc;
}

/* ---- join */

/* What was written, to take back on failure. */
struct written {
	char dir[PATH_MAX];
	char files[NODE_FILES_MAX][PATH_MAX + 16];
	int n;
	int made_dir; /* dir is ours (the staging directory): remove it too */
};

static void
take_back(struct written *w)
{
	int i;

	for (i = 0; i < w->n; i++)
		unlink(w->files[i]);
	if (w->made_dir)
		rmdir(w->dir);
	w->n = 0;
	w->made_dir = 0;
}

/* Write data to w->dir/name with mode, noted in w. 0 or ZTP_EIO (logged). */
static int
put(struct written *w, const char *name, const void *data, size_t len, mode_t mode)
{
	char path[sizeof(w->files[0])], err[PATH_MAX + 64];

	if (w->n < 0 || w->n >= NODE_FILES_MAX)
		return ZTP_EIO;
	snprintf(path, sizeof(path), "%s/%s", w->dir, name);
	if (atomicfile_write(path, data, len, mode, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		return ZTP_EIO;
	}
	memcpy(w->files[w->n++], path, sizeof(path));
	return 0;
}

/*
 * Is dir absent (*absent = 1) or an empty directory (*absent = 0)? 0, or
 * ZTP_EEXIST / ZTP_EIO (logged) if it is anything else.
 */
static int
target_state(const char *dir, int *absent)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int empty = 1;

	if (lstat(dir, &st) != 0) {
		if (errno != ENOENT) {
			log_warn("%s", dir);
			return ZTP_EIO;
		}
		*absent = 1;
		return 0;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_warnx("%s exists and is not a directory: join makes a new data directory",
		    dir);
		return ZTP_EEXIST;
	}
	if ((d = opendir(dir)) == NULL) {
		log_warn("%s", dir);
		return ZTP_EIO;
	}
	while (empty && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	if (!empty) {
		log_warnx("%s is not empty: join makes a new node in an empty or absent directory;"
			  " nothing was changed", dir);
		return ZTP_EEXIST;
	}
	*absent = 0;
	return 0;
}

/*
 * DIR/ztpd.conf with the store, read back through the configuration's own
 * parser: a URL that would not come back the same (a newline, spaces at
 * its ends, too long for a line) is refused before the node exists.
 */
static int
put_conf(struct written *w, const char *store)
{
	struct config back;
	char text[sizeof(back.store) + 128], err[PATH_MAX + 64];
	int n, rc = ZTP_EINVAL;

	n = snprintf(text, sizeof(text),
	    "# ztpd join: this node's store (docs/node-bundle.md)\nstore = %s\n", store);
	if (n < 0 || (size_t)n >= sizeof(text))
		return ZTP_EINVAL;
	if ((rc = put(w, "ztpd.conf", text, (size_t)n, 0600)) != 0)
		goto out;
	config_defaults(&back);
	if (config_load_file(&back, w->files[w->n - 1], err, sizeof(err)) != 0 ||
	    strcmp(back.store, store) != 0) {
		log_warnx("--store: the URL does not read back from ztpd.conf as given (one line, "
			  "no spaces at its ends, under 1000 characters)");
		rc = ZTP_EINVAL;
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(text, sizeof(text)); /* a URL may hold a password */
	OPENSSL_cleanse(&back, sizeof(back));
	return rc;
}

/* fsync the directory that holds path. */
static void
sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(fd) != 0)
			log_warn("fsync %s", dir);
		close(fd);
	}
}

int
node_join(const struct config *cfg)
{
	struct blob file = { 0 };
	struct nodebundle nb;
	struct written w;
	char pass[NODEBUNDLE_PASS_MAX + 1], target[PATH_MAX], why[256];
	uint8_t *plain = NULL;
	size_t passlen = 0, plainlen = 0, n;
	int absent = 0, rc = 1;

	memset(&w, 0, sizeof(w));
	/* the directory without trailing slashes: renamed to, and named beside */
	n = strlen(cfg->data);
	while (n > 1 && cfg->data[n - 1] == '/')
		n--;
	if (n + sizeof(".join-XXXXXX") > sizeof(target)) {
		log_warnx("--data: too long a path");
		return 1;
	}
	memcpy(target, cfg->data, n);
	target[n] = '\0';
	if (cfg->store[0] != '\0' && store_target_has_password(cfg->store)) {
		log_warnx("--store: the PostgreSQL URL holds a password: put it in a password file "
			  "(PGPASSFILE, or passfile= in the URL) instead; nothing was written");
		return 1;
	}
	if (target_state(target, &absent) != 0)
		return 1;

	/* the whole bundle read, opened and checked before anything is written */
	switch (read_file(cfg->node_file, NODEBUNDLE_FILE_MAX, 0, &file)) {
	case 0:
		break;
	case ZTP_ENOENT:
		log_warnx("%s: no such file", cfg->node_file);
		goto out;
	case ZTP_ETOOBIG:
		log_warnx("%s: not a node bundle (too large)", cfg->node_file);
		goto out;
	default:
		goto out;
	}
	if (get_passphrase(cfg, 0, pass, &passlen) != 0)
		goto out;
	if (nodebundle_open(file.data, file.len, pass, passlen, &plain, &plainlen, &nb, why,
		sizeof(why)) != 0) {
		log_warnx("%s: %s; %s was not %s", cfg->node_file, why, target,
		    absent ? "created" : "changed");
		goto out;
	}
	if (!pem_certs_ok(nb.ca_pem, nb.ca_pem_len)) {
		log_warnx("%s: its ca.pem holds no PEM certificate; %s was not %s",
		    cfg->node_file, target, absent ? "created" : "changed");
		goto out;
	}

	/* absent: built beside it and renamed into place whole */
	if (absent) {
		snprintf(w.dir, sizeof(w.dir), "%s.join-XXXXXX", target);
		if (mkdtemp(w.dir) == NULL) {
			log_warn("cannot create a directory beside %s", target);
			goto out;
		}
		w.made_dir = 1;
	} else
		snprintf(w.dir, sizeof(w.dir), "%s", target);
	/* ca.pem after the key: a data directory with ca.pem and no ca.key is refused */
	if (put(&w, "secret.key", nb.secret_key, NODEBUNDLE_SECRET_KEY_LEN, 0600) != 0 ||
	    (nb.ca_pass != NULL && put(&w, "ca.pass", nb.ca_pass, nb.ca_pass_len, 0600) != 0) ||
	    (nb.ca_key != NULL && put(&w, "ca.key", nb.ca_key, nb.ca_key_len, 0600) != 0) ||
	    put(&w, "ca.pem", nb.ca_pem, nb.ca_pem_len, 0644) != 0 ||
	    (cfg->store[0] != '\0' && put_conf(&w, cfg->store) != 0))
		goto out;
	if (absent) {
		if (rename(w.dir, target) != 0) {
			log_warn("rename %s to %s", w.dir, target);
			goto out;
		}
		sync_parent(target);
	}
	w.n = 0; /* the node's now */
	w.made_dir = 0;
	log_info("joined %s from %s: secret.key, ca.pem%s%s; start ztpd --data %s (it issues "
		 "its own server certificate), then delete %s",
	    target, cfg->node_file, nb.ca_key != NULL ? ", ca.key" : "",
	    nb.ca_pass != NULL ? ", ca.pass" : "", target, cfg->node_file);
	if (nb.ca_key == NULL)
		log_warnx("%s: the bundle has no CA key: this node's signer will not start", target);
	rc = 0;
out:
	take_back(&w);
	OPENSSL_cleanse(pass, sizeof(pass));
	nodebundle_plain_free(plain, plainlen);
	blob_free(&file);
	return rc;
}
