/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device key store (ztp/keystore.h): the interface's checks, and the
 * file backend, a directory with one file per slot.
 *
 * The interface does not expose OpenSSL (apart from the optional key handle)
 * so that a backend over PKCS#11, a TPM or a secure element's command set
 * maps onto it directly: keys are generated, used and erased in the store,
 * public keys and signatures cross it as raw bytes.
 *
 * File backend, on disk: DIR (0700) holds "slot-NN" files (0600). A write
 * goes to ".slot-NN.tmp.<random>" in DIR, is fsync'd, renamed over
 * "slot-NN", and DIR is fsync'd; every access is relative to a descriptor
 * of DIR, opened once, so a rename of DIR's path or a symbolic link planted
 * under it afterwards does not redirect the store.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto.h"
#include "fault.h"
#include "hex.h"
#include "ztp/err.h"
#include "ztp/keystore.h"

#define SLOT_NAME_MAX sizeof("slot-NN")
#define TMP_PREFIX ".slot-"
#define TMP_MARK ".tmp."
#define TMP_NAME_MAX sizeof(".slot-NN.tmp.0123456789abcdef")

/* ---- the interface ---- */

int
keystore_slot_is_key(int slot)
{
	return slot >= 0 && slot <= KEYSTORE_SLOT_KEY_LAST;
}

int
keystore_slot_is_data(int slot)
{
	return slot > KEYSTORE_SLOT_KEY_LAST && slot <= KEYSTORE_SLOT_MAX;
}

static int
slot_is_cert(int slot)
{
	return slot == KEYSTORE_SLOT_DEVICE_CERT || slot == KEYSTORE_SLOT_CA_CERT ||
	    slot == KEYSTORE_SLOT_CA_CHAIN;
}

int
keystore_fail(struct keystore *ks, int rc, const char *fmt, ...)
{
	va_list ap;

	if (ks != NULL) {
		va_start(ap, fmt);
		vsnprintf(ks->err, sizeof(ks->err), fmt, ap);
		va_end(ap);
	}
	return rc;
}

const char *
keystore_error(const struct keystore *ks)
{
	return ks != NULL ? ks->err : "no key store";
}

/* Start of every call: ks usable, no stale message. */
static int
begin(struct keystore *ks)
{
	if (ks == NULL || ks->ops == NULL)
		return ZTP_EINVAL;
	ks->err[0] = '\0';
	return 0;
}

/*
 * 0 if der[len] is one or more DER certificates back to back, with
 * nothing after the last.
 */
static int
certs_der_valid(struct keystore *ks, int slot, const uint8_t *der, size_t len)
{
	const unsigned char *p = der, *end = der + len;
	X509 *x;
	int n = 0;

	while (p < end) {
		if ((size_t)(end - p) > (size_t)KEYSTORE_DATA_MAX ||
		    (x = d2i_X509(NULL, &p, (long)(end - p))) == NULL)
			return keystore_fail(ks, ZTP_EMALFORMED,
			    "slot %d: byte %zu: not a DER certificate", slot, (size_t)(p - der));
		X509_free(x);
		n++;
	}
	return n > 0 ? 0 : keystore_fail(ks, ZTP_EMALFORMED, "slot %d: no certificate", slot);
}

/*
 * 0 if pem[len] is one or more PEM blocks, every one a CERTIFICATE whose
 * content is exactly one DER certificate. Text between blocks is allowed
 * (RFC 7468 explanatory text); a block of another type is not (a private
 * key pasted into a certificate slot must not go unnoticed).
 */
static int
certs_pem_valid(struct keystore *ks, int slot, const uint8_t *pem, size_t len)
{
	BIO *bio = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	const unsigned char *p;
	long dlen;
	unsigned long e;
	X509 *x;
	int n = 0, rc;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return keystore_fail(ks, ZTP_ENOMEM, "out of memory");
	for (;;) {
		if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
			e = ERR_peek_last_error();
			if (n > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
				break; /* the end */
			rc = keystore_fail(ks, ZTP_EMALFORMED, "slot %d: %s", slot,
			    n == 0 ? "neither DER nor PEM certificates" : "malformed PEM after "
			    "the last certificate");
			goto out;
		}
		n++;
		if (strcmp(name, PEM_STRING_X509) != 0) {
			rc = keystore_fail(ks, ZTP_EMALFORMED,
			    "slot %d: PEM block %d is not a CERTIFICATE", slot, n);
			goto out;
		}
		p = data;
		if ((x = d2i_X509(NULL, &p, dlen)) == NULL || p != data + dlen) {
			X509_free(x);
			rc = keystore_fail(ks, ZTP_EMALFORMED,
			    "slot %d: PEM block %d is not a valid certificate", slot, n);
			goto out;
		}
		X509_free(x);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	rc = 0;
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	return rc;
}

/* 0 if data[len] is what a certificate slot holds: DER or PEM certificates. */
static int
certs_valid(struct keystore *ks, int slot, const uint8_t *data, size_t len)
{
	size_t i = 0;
	int rc;

	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' ||
	    data[i] == '\n'))
		i++;
	ERR_set_mark();
	/* DER starts with a SEQUENCE; anything else is taken for PEM text */
	if (len > 0 && data[0] == 0x30)
		rc = certs_der_valid(ks, slot, data, len);
	else if (i < len)
		rc = certs_pem_valid(ks, slot, data, len);
	else
		rc = keystore_fail(ks, ZTP_EMALFORMED, "slot %d: no certificate", slot);
	ERR_pop_to_mark(); /* leave OpenSSL's error queue as it was */
	return rc;
}

int
keystore_get(struct keystore *ks, int slot, uint8_t *buf, size_t cap, size_t *len)
{
	int rc;

	if ((rc = begin(ks)) != 0)
		return rc;
	if (len == NULL || (buf == NULL && cap > 0))
		return keystore_fail(ks, ZTP_EINVAL, "get: bad argument");
	if (keystore_slot_is_key(slot))
		return keystore_fail(ks, ZTP_EINVAL,
		    "slot %d holds a private key, which is never read out", slot);
	if (!keystore_slot_is_data(slot))
		return keystore_fail(ks, ZTP_EINVAL, "no slot %d", slot);
	if ((rc = ks->ops->get(ks, slot, buf, cap, len)) != 0)
		return rc;
	if (*len == 0 || *len > KEYSTORE_DATA_MAX)
		return keystore_fail(ks, *len == 0 ? ZTP_EMALFORMED : ZTP_ETOOBIG,
		    "slot %d: %zu bytes", slot, *len);
	if (slot_is_cert(slot) && (rc = certs_valid(ks, slot, buf, *len)) != 0)
		return rc;
	return 0;
}

int
keystore_put(struct keystore *ks, int slot, const uint8_t *data, size_t len)
{
	int rc;

	if ((rc = begin(ks)) != 0)
		return rc;
	if (data == NULL || len == 0)
		return keystore_fail(ks, ZTP_EINVAL, "slot %d: nothing to store", slot);
	if (keystore_slot_is_key(slot))
		return keystore_fail(ks, ZTP_EINVAL,
		    "slot %d is a key slot: keys are generated in the store", slot);
	if (!keystore_slot_is_data(slot))
		return keystore_fail(ks, ZTP_EINVAL, "no slot %d", slot);
	if (len > KEYSTORE_DATA_MAX)
		return keystore_fail(ks, ZTP_ETOOBIG, "slot %d: %zu bytes, at most %d", slot, len,
		    KEYSTORE_DATA_MAX);
	if (slot_is_cert(slot) && (rc = certs_valid(ks, slot, data, len)) != 0)
		return rc;
	return ks->ops->put(ks, slot, data, len);
}

int
keystore_erase(struct keystore *ks, int slot)
{
	int rc;

	if ((rc = begin(ks)) != 0)
		return rc;
	if (!keystore_slot_is_key(slot) && !keystore_slot_is_data(slot))
		return keystore_fail(ks, ZTP_EINVAL, "no slot %d", slot);
	return ks->ops->erase(ks, slot);
}

int
keystore_generate_key(struct keystore *ks, int slot, enum keystore_key_type type, int overwrite)
{
	int rc;

	if ((rc = begin(ks)) != 0)
		return rc;
	if (!keystore_slot_is_key(slot))
		return keystore_fail(ks, ZTP_EINVAL, "slot %d is not a key slot", slot);
	if (type != KEYSTORE_KEY_P256)
		return keystore_fail(ks, ZTP_EINVAL, "unknown key type %d", (int)type);
	return ks->ops->generate_key(ks, slot, type, overwrite);
}

int
keystore_public_key(struct keystore *ks, int slot, uint8_t *out, size_t cap, size_t *len)
{
	int rc;

	if ((rc = begin(ks)) != 0)
		return rc;
	if (len == NULL || (out == NULL && cap > 0))
		return keystore_fail(ks, ZTP_EINVAL, "public key: bad argument");
	if (!keystore_slot_is_key(slot))
		return keystore_fail(ks, ZTP_EINVAL, "slot %d is not a key slot", slot);
	return ks->ops->public_key(ks, slot, out, cap, len);
}

int
keystore_sign_digest(struct keystore *ks, int slot, const uint8_t *digest, size_t dlen,
    uint8_t *sig, size_t cap, size_t *siglen)
{
	int rc;

	if ((rc = begin(ks)) != 0)
		return rc;
	if (digest == NULL || dlen != KEYSTORE_P256_DIGEST_LEN || siglen == NULL ||
	    (sig == NULL && cap > 0))
		return keystore_fail(ks, ZTP_EINVAL, "sign: bad argument");
	if (!keystore_slot_is_key(slot))
		return keystore_fail(ks, ZTP_EINVAL, "slot %d is not a key slot", slot);
	return ks->ops->sign_digest(ks, slot, digest, dlen, sig, cap, siglen);
}

int
keystore_pkey(struct keystore *ks, int slot, EVP_PKEY **out)
{
	int rc;

	if ((rc = begin(ks)) != 0)
		return rc;
	if (out == NULL)
		return keystore_fail(ks, ZTP_EINVAL, "key handle: bad argument");
	*out = NULL;
	if (!keystore_slot_is_key(slot))
		return keystore_fail(ks, ZTP_EINVAL, "slot %d is not a key slot", slot);
	if (ks->ops->pkey == NULL)
		return keystore_fail(ks, ZTP_EINVAL,
		    "the %s key store gives no OpenSSL key handle", ks->ops->name);
	return ks->ops->pkey(ks, slot, out);
}

void
keystore_close(struct keystore *ks)
{
	if (ks != NULL && ks->ops != NULL && ks->ops->close != NULL)
		ks->ops->close(ks);
}

/* ---- the file backend ---- */

struct keystore_file {
	struct keystore base; /* first: a struct keystore * is a struct keystore_file * */
	int dfd;              /* the directory, O_DIRECTORY */
	char *dir;            /* its path, for messages */
};

static void
slot_name(int slot, char name[SLOT_NAME_MAX])
{
	snprintf(name, SLOT_NAME_MAX, "slot-%02d", slot);
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read slot `slot`'s file: *buf (malloc'd, the caller frees it, with
 * OPENSSL_clear_free for a key) and *len. A regular file of at most
 * KEYSTORE_DATA_MAX bytes only; *mode is its permission bits.
 */
static int
file_read(struct keystore_file *kf, int slot, uint8_t **buf, size_t *len, mode_t *mode)
{
	struct keystore *ks = &kf->base;
	char name[SLOT_NAME_MAX];
	struct stat st;
	uint8_t *b = NULL;
	size_t size, got = 0;
	ssize_t n;
	int fd, rc;

	*buf = NULL;
	*len = 0;
	slot_name(slot, name);
	if ((fd = openat(kf->dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return keystore_fail(ks, ZTP_ENOENT, "slot %d is empty", slot);
		if (errno == ELOOP)
			return keystore_fail(ks, ZTP_EMALFORMED,
			    "%s/%s is a symbolic link, refused", kf->dir, name);
		return keystore_fail(ks, ZTP_EIO, "%s/%s: %s", kf->dir, name, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = keystore_fail(ks, ZTP_EIO, "%s/%s: %s", kf->dir, name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = keystore_fail(ks, ZTP_EMALFORMED, "%s/%s is not a regular file", kf->dir,
		    name);
		goto out;
	}
	if (st.st_size > KEYSTORE_DATA_MAX) {
		rc = keystore_fail(ks, ZTP_ETOOBIG, "%s/%s: %lld bytes, at most %d", kf->dir,
		    name, (long long)st.st_size, KEYSTORE_DATA_MAX);
		goto out;
	}
	size = (size_t)st.st_size;
	/* one byte more than the size: a file that grew is noticed, not cut */
	if ((b = malloc(size + 1)) == NULL) {
		rc = keystore_fail(ks, ZTP_ENOMEM, "out of memory");
		goto out;
	}
	while (got < size + 1) {
		n = read(fd, b + got, size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = keystore_fail(ks, ZTP_EIO, "%s/%s: %s", kf->dir, name,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != size) {
		rc = keystore_fail(ks, ZTP_EIO, "%s/%s changed while it was read", kf->dir, name);
		goto out;
	}
	*buf = b;
	*len = size;
	*mode = st.st_mode & 07777;
	b = NULL;
	rc = 0;
out:
	if (b != NULL)
		OPENSSL_clear_free(b, size + 1);
	close(fd);
	return rc;
}

/*
 * Replace slot `slot`'s file with data[len], atomically and durably (see
 * the top of this file). On failure the old file is untouched and the
 * temporary file removed.
 */
static int
file_write(struct keystore_file *kf, int slot, const uint8_t *data, size_t len)
{
	struct keystore *ks = &kf->base;
	char name[SLOT_NAME_MAX], tmp[TMP_NAME_MAX], rnd_hex[17];
	uint8_t rnd[8];
	int fd = -1, have_tmp = 0, rc;

	slot_name(slot, name);
	if (crypto_random(rnd, sizeof(rnd)) != 0)
		return keystore_fail(ks, ZTP_ECRYPTO, "no random bytes for a file name");
	hex_encode(rnd, sizeof(rnd), rnd_hex, sizeof(rnd_hex));
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%02d" TMP_MARK "%s", slot, rnd_hex);
	fd = openat(kf->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = keystore_fail(ks, ZTP_EIO, "%s/%s: %s", kf->dir, tmp, strerror(errno));
		goto out;
	}
	have_tmp = 1;
	/* 0600 whatever the umask, before a byte is written */
	if (fchmod(fd, 0600) != 0 || write_all(fd, data, len / 2) != 0) {
		rc = keystore_fail(ks, ZTP_EIO, "%s/%s: %s", kf->dir, tmp, strerror(errno));
		goto out;
	}
	fault_point("keystore_mid_write");
	if (write_all(fd, data + len / 2, len - len / 2) != 0 || fsync(fd) != 0) {
		rc = keystore_fail(ks, ZTP_EIO, "%s/%s: %s", kf->dir, tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = keystore_fail(ks, ZTP_EIO, "%s/%s: %s", kf->dir, tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	fault_point("keystore_before_rename");
	if (renameat(kf->dfd, tmp, kf->dfd, name) != 0) {
		rc = keystore_fail(ks, ZTP_EIO, "%s/%s: %s", kf->dir, name, strerror(errno));
		goto out;
	}
	have_tmp = 0;
	if (fsync(kf->dfd) != 0) {
		rc = keystore_fail(ks, ZTP_EIO, "%s: %s", kf->dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (have_tmp)
		unlinkat(kf->dfd, tmp, 0);
	return rc;
}

static int
file_get(struct keystore *ks, int slot, uint8_t *buf, size_t cap, size_t *len)
{
	struct keystore_file *kf = (struct keystore_file *)ks;
	uint8_t *b = NULL;
	size_t blen;
	mode_t mode;
	int rc;

	if ((rc = file_read(kf, slot, &b, &blen, &mode)) != 0)
		return rc;
	*len = blen;
	if (blen > cap)
		rc = keystore_fail(ks, ZTP_ERANGE, "slot %d: %zu bytes, the buffer holds %zu",
		    slot, blen, cap);
	else
		memcpy(buf, b, blen);
	free(b);
	return rc;
}

static int
file_put(struct keystore *ks, int slot, const uint8_t *data, size_t len)
{
	return file_write((struct keystore_file *)ks, slot, data, len);
}

static int
file_erase(struct keystore *ks, int slot)
{
	struct keystore_file *kf = (struct keystore_file *)ks;
	char name[SLOT_NAME_MAX];

	slot_name(slot, name);
	if (unlinkat(kf->dfd, name, 0) != 0) {
		if (errno == ENOENT)
			return 0;
		return keystore_fail(ks, ZTP_EIO, "%s/%s: %s", kf->dir, name, strerror(errno));
	}
	if (fsync(kf->dfd) != 0)
		return keystore_fail(ks, ZTP_EIO, "%s: %s", kf->dir, strerror(errno));
	return 0;
}

/* Never prompt for a passphrase: the store's keys have none. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return 0;
}

/*
 * The key of slot `slot`, loaded from its file: *out a new EVP_PKEY
 * holding a P-256 private key. The file must not be readable by group or
 * others.
 */
static int
file_load_key(struct keystore_file *kf, int slot, EVP_PKEY **out)
{
	struct keystore *ks = &kf->base;
	uint8_t *b = NULL;
	size_t blen = 0;
	mode_t mode;
	BIO *bio = NULL;
	EVP_PKEY *pk = NULL;
	char group[32];
	int rc;

	*out = NULL;
	if ((rc = file_read(kf, slot, &b, &blen, &mode)) != 0)
		return rc;
	if ((mode & 077) != 0) {
		rc = keystore_fail(ks, ZTP_ECONFLICT,
		    "%s/slot-%02d: mode %04o, a private key must not be accessible by group or "
		    "others (chmod 600)", kf->dir, slot, (unsigned)mode);
		goto out;
	}
	ERR_set_mark();
	if ((bio = BIO_new_mem_buf(b, (int)blen)) != NULL)
		pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	ERR_pop_to_mark();
	if (bio == NULL) {
		rc = keystore_fail(ks, ZTP_ENOMEM, "out of memory");
		goto out;
	}
	if (pk == NULL) {
		rc = keystore_fail(ks, ZTP_EMALFORMED,
		    "%s/slot-%02d: not an unencrypted PEM private key", kf->dir, slot);
		goto out;
	}
	if (!EVP_PKEY_is_a(pk, "EC") ||
	    EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
		NULL) != 1 ||
	    strcmp(group, SN_X9_62_prime256v1) != 0) {
		rc = keystore_fail(ks, ZTP_EMALFORMED, "%s/slot-%02d: not a P-256 key", kf->dir,
		    slot);
		goto out;
	}
	*out = pk;
	pk = NULL;
	rc = 0;
out:
	EVP_PKEY_free(pk);
	BIO_free(bio);
	OPENSSL_clear_free(b, blen);
	return rc;
}

static int
file_generate_key(struct keystore *ks, int slot, enum keystore_key_type type, int overwrite)
{
	struct keystore_file *kf = (struct keystore_file *)ks;
	char name[SLOT_NAME_MAX];
	EVP_PKEY *pk = NULL;
	BIO *bio = NULL;
	char *pem = NULL;
	long pemlen = 0;
	int rc;

	slot_name(slot, name);
	if (!overwrite) {
		if (faccessat(kf->dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			return keystore_fail(ks, ZTP_EEXIST,
			    "slot %d already holds a key (erase it or ask to overwrite)", slot);
		if (errno != ENOENT)
			return keystore_fail(ks, ZTP_EIO, "%s/%s: %s", kf->dir, name,
			    strerror(errno));
	}
	ERR_set_mark();
	pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", SN_X9_62_prime256v1);
	/* the PEM text goes through secure-heap memory where there is one */
	if (pk != NULL && (bio = BIO_new(BIO_s_secmem())) != NULL &&
	    PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (pemlen = BIO_get_mem_data(bio, &pem)) > 0) {
		ERR_pop_to_mark();
		rc = file_write(kf, slot, (const uint8_t *)pem, (size_t)pemlen);
	} else {
		ERR_pop_to_mark();
		rc = keystore_fail(ks, ZTP_ECRYPTO, "slot %d: key generation failed", slot);
	}
	BIO_free(bio); /* a secmem BIO clears its memory */
	EVP_PKEY_free(pk);
	return rc;
}

static int
file_public_key(struct keystore *ks, int slot, uint8_t *out, size_t cap, size_t *len)
{
	struct keystore_file *kf = (struct keystore_file *)ks;
	uint8_t pub[KEYSTORE_P256_PUBKEY_LEN];
	EVP_PKEY *pk = NULL;
	size_t n = 0;
	int rc;

	if ((rc = file_load_key(kf, slot, &pk)) != 0)
		return rc;
	ERR_set_mark();
	/* EC keys encode their public key uncompressed unless told otherwise */
	if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n) !=
		1 ||
	    n != KEYSTORE_P256_PUBKEY_LEN || pub[0] != 0x04) {
		ERR_pop_to_mark();
		rc = keystore_fail(ks, ZTP_ECRYPTO, "slot %d: cannot encode the public key", slot);
		goto out;
	}
	ERR_pop_to_mark();
	*len = n;
	if (cap < n) {
		rc = keystore_fail(ks, ZTP_ERANGE, "slot %d: the public key is %zu bytes", slot,
		    n);
		goto out;
	}
	memcpy(out, pub, n);
	rc = 0;
out:
	EVP_PKEY_free(pk);
	return rc;
}

static int
file_sign_digest(struct keystore *ks, int slot, const uint8_t *digest, size_t dlen,
    uint8_t *sig, size_t cap, size_t *siglen)
{
	struct keystore_file *kf = (struct keystore_file *)ks;
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char der[80]; /* a P-256 ECDSA-Sig-Value is at most 72 bytes */
	const unsigned char *p;
	const BIGNUM *r, *s;
	size_t derlen = sizeof(der);
	int rc;

	*siglen = KEYSTORE_P256_SIG_LEN;
	if (cap < KEYSTORE_P256_SIG_LEN)
		return keystore_fail(ks, ZTP_ERANGE, "a signature is %d bytes",
		    KEYSTORE_P256_SIG_LEN);
	if ((rc = file_load_key(kf, slot, &pk)) != 0)
		return rc;
	ERR_set_mark();
	p = der;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL ||
	    EVP_PKEY_sign_init(ctx) != 1 || EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_sign(ctx, der, &derlen, digest, dlen) != 1 ||
	    (es = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL) {
		ERR_pop_to_mark();
		rc = keystore_fail(ks, ZTP_ECRYPTO, "slot %d: signing failed", slot);
		goto out;
	}
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32) {
		ERR_pop_to_mark();
		rc = keystore_fail(ks, ZTP_ECRYPTO, "slot %d: signing failed", slot);
		goto out;
	}
	ERR_pop_to_mark();
	rc = 0;
out:
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}

static int
file_pkey(struct keystore *ks, int slot, EVP_PKEY **out)
{
	return file_load_key((struct keystore_file *)ks, slot, out);
}

static void
file_close(struct keystore *ks)
{
	struct keystore_file *kf = (struct keystore_file *)ks;

	if (kf->dfd >= 0)
		close(kf->dfd);
	free(kf->dir);
	free(kf);
}

static const struct keystore_ops file_ops = {
	.name = "file",
	.get = file_get,
	.put = file_put,
	.erase = file_erase,
	.generate_key = file_generate_key,
	.public_key = file_public_key,
	.sign_digest = file_sign_digest,
	.pkey = file_pkey,
	.close = file_close,
};

/* 1 if name is a temporary file of file_write(). */
static int
is_tmp_name(const char *name)
{
	return strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 &&
	    strstr(name, TMP_MARK) != NULL;
}

/* Remove the temporary files of interrupted writes from the directory. */
static int
remove_tmp_files(struct keystore_file *kf, char *err, size_t errcap)
{
	DIR *d;
	struct dirent *de;
	int fd, removed = 0, rc = 0;

	if ((fd = dup(kf->dfd)) < 0)
		return ztp_errf(err, errcap, ZTP_EIO, "%s: %s", kf->dir, strerror(errno));
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return ztp_errf(err, errcap, ZTP_EIO, "%s: %s", kf->dir, strerror(errno));
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!is_tmp_name(de->d_name))
			continue;
		if (unlinkat(kf->dfd, de->d_name, 0) != 0 && errno != ENOENT) {
			rc = ztp_errf(err, errcap, ZTP_EIO, "%s/%s: %s", kf->dir, de->d_name,
			    strerror(errno));
			break;
		}
		removed = 1;
	}
	closedir(d);
	if (rc == 0 && removed && fsync(kf->dfd) != 0)
		rc = ztp_errf(err, errcap, ZTP_EIO, "%s: %s", kf->dir, strerror(errno));
	return rc;
}

/* fsync the directory that contains path, so that a new entry in it is durable. */
static int
fsync_parent(const char *path, char *err, size_t errcap)
{
	char *copy, *slash;
	int fd, rc = 0;

	if ((copy = strdup(path)) == NULL)
		return ztp_errf(err, errcap, ZTP_ENOMEM, "out of memory");
	/* drop trailing slashes, then the last component */
	for (slash = copy + strlen(copy); slash > copy + 1 && slash[-1] == '/'; slash--)
		slash[-1] = '\0';
	if ((slash = strrchr(copy, '/')) == NULL)
		strcpy(copy, ".");
	else if (slash == copy)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) != 0)
		rc = ztp_errf(err, errcap, ZTP_EIO, "%s: %s", copy, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

int
keystore_file_open(const char *dir, unsigned flags, struct keystore **out, char *err,
    size_t errcap)
{
	struct keystore_file *kf = NULL;
	struct stat st;
	int created = 0, rc;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || dir == NULL || dir[0] == '\0' || (flags & ~KEYSTORE_FILE_CREATE) != 0)
		return ztp_errf(err, errcap, ZTP_EINVAL, "key store: bad argument");
	if ((kf = calloc(1, sizeof(*kf))) == NULL || (kf->dir = strdup(dir)) == NULL) {
		rc = ztp_errf(err, errcap, ZTP_ENOMEM, "out of memory");
		goto out;
	}
	kf->base.ops = &file_ops;
	kf->dfd = -1;
	if ((flags & KEYSTORE_FILE_CREATE) != 0) {
		if (mkdir(dir, 0700) == 0)
			created = 1;
		else if (errno != EEXIST) {
			rc = ztp_errf(err, errcap, errno == ENOENT ? ZTP_ENOENT : ZTP_EIO,
			    "%s: cannot create: %s", dir, strerror(errno));
			goto out;
		}
	}
	if ((kf->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		/* Linux says ENOTDIR for a symbolic link with O_DIRECTORY | O_NOFOLLOW */
		if ((errno == ENOTDIR || errno == ELOOP) && lstat(dir, &st) == 0 &&
		    S_ISLNK(st.st_mode))
			errno = ELOOP;
		if (errno == ENOENT)
			rc = ztp_errf(err, errcap, ZTP_ENOENT, "%s: no such key store", dir);
		else if (errno == ELOOP)
			rc = ztp_errf(err, errcap, ZTP_ECONFLICT,
			    "%s is a symbolic link, refused as a key store", dir);
		else if (errno == ENOTDIR)
			rc = ztp_errf(err, errcap, ZTP_EINVAL, "%s is not a directory", dir);
		else
			rc = ztp_errf(err, errcap, ZTP_EIO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	/* mkdir's mode went through the umask: make it exactly 0700 */
	if (created) {
		if (fchmod(kf->dfd, 0700) != 0) {
			rc = ztp_errf(err, errcap, ZTP_EIO, "%s: %s", dir, strerror(errno));
			goto out;
		}
		if ((rc = fsync_parent(dir, err, errcap)) != 0)
			goto out;
	}
	if (fstat(kf->dfd, &st) != 0) {
		rc = ztp_errf(err, errcap, ZTP_EIO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		rc = ztp_errf(err, errcap, ZTP_ECONFLICT,
		    "%s: mode %04o, a key store must not be accessible by group or others "
		    "(chmod 700)", dir, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((rc = remove_tmp_files(kf, err, errcap)) != 0)
		goto out;
	*out = &kf->base;
	kf = NULL;
	rc = 0;
out:
	if (kf != NULL)
		file_close(&kf->base);
	return rc;
}
