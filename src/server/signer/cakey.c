/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CA's files (see cakey.h). Runs in the signer process, and in the
 * parent for ztpd --import-ca; the front never links a call to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "atomicfile.h"
#include "cakey.h"
#include "crypto.h"
#include "hex.h"
#include "log.h"
#include "ztp/err.h"

#define CA_DAYS 3650
#define PASS_LEN 64 /* hex characters of 32 random bytes */

static void
path_of(const char *dir, const char *name, char out[PATH_MAX])
{
	snprintf(out, PATH_MAX, "%s/%s", dir, name);
}

static int
write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
	char path[PATH_MAX], err[PATH_MAX + 64];

	path_of(dir, name, path);
	if (atomicfile_write(path, data, len, mode, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		return ZTP_EIO;
	}
	return 0;
}

/* A new passphrase into pass (PASS_LEN hex characters and a NUL), written to ca.pass. */
static int
new_pass(const char *dir, char pass[PASS_LEN + 1])
{
	uint8_t k[PASS_LEN / 2];
	int rc;

	if ((rc = crypto_random(k, sizeof(k))) == 0 &&
	    (rc = hex_encode(k, sizeof(k), pass, PASS_LEN + 1)) == 0)
		rc = write_file(dir, "ca.pass", pass, PASS_LEN, 0600);
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

/* ca.pass into pass. ZTP_ENOENT if there is none, ZTP_EIO if unreadable or malformed. */
static int
read_pass(const char *dir, char pass[PASS_LEN + 1])
{
	char path[PATH_MAX], buf[PASS_LEN + 2];
	ssize_t n;
	int fd;

	path_of(dir, "ca.pass", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return ZTP_ENOENT;
		log_warn("%s", path);
		return ZTP_EIO;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (n != PASS_LEN || strspn(buf, "0123456789abcdefABCDEF") != PASS_LEN) {
		OPENSSL_cleanse(buf, sizeof(buf));
		log_warnx("%s: must hold %d hexadecimal characters", path, PASS_LEN);
		return ZTP_EIO;
	}
	memcpy(pass, buf, PASS_LEN);
	pass[PASS_LEN] = '\0';
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

/* Write key as dir/ca.key, PEM encrypted with pass. */
static int
write_key(const char *dir, EVP_PKEY *key, const char *pass)
{
	char *data;
	BIO *bio;
	long len;
	int rc = ZTP_ECRYPTO;

	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		return ZTP_ENOMEM;
	if (PEM_write_bio_PrivateKey(bio, key, EVP_aes_256_cbc(), (const unsigned char *)pass,
		(int)strlen(pass), NULL, NULL) == 1) {
		len = BIO_get_mem_data(bio, &data);
		rc = write_file(dir, "ca.key", data, (size_t)len, 0600);
	}
	BIO_free(bio);
	return rc;
}

static EVP_PKEY *
read_key(const char *dir, const char *pass)
{
	char path[PATH_MAX];
	EVP_PKEY *key;
	FILE *f;

	path_of(dir, "ca.key", path);
	if ((f = fopen(path, "re")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	key = PEM_read_PrivateKey(f, NULL, NULL, (void *)pass);
	fclose(f);
	ERR_clear_error();
	return key;
}

static int
add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A self-signed CA certificate for key, named cn. Caller frees it. */
static X509 *
self_signed(EVP_PKEY *key, const char *cn)
{
	X509 *cert = NULL;
	X509_NAME *name;
	BIGNUM *bn = NULL;
	uint8_t serial[16];
	int ok = 0;

	if ((cert = X509_new()) == NULL || crypto_random(serial, sizeof(serial)) != 0)
		goto out;
	serial[0] &= 0x7f;
	serial[0] |= 0x01;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL)
		goto out;
	if (!X509_set_version(cert, 2) || !X509_gmtime_adj(X509_getm_notBefore(cert), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert), (long)CA_DAYS * 86400) ||
	    !X509_set_pubkey(cert, key))
		goto out;
	name = X509_get_subject_name(cert);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"ztp", -1,
		-1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
		-1, 0) ||
	    !X509_set_issuer_name(cert, name))
		goto out;
	if (!add_ext(cert, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(cert, NID_subject_key_identifier, "hash"))
		goto out;
	if (X509_sign(cert, key, EVP_sha256()) <= 0)
		goto out;
	ok = 1;
out:
	BN_free(bn);
	if (!ok) {
		X509_free(cert);
		cert = NULL;
		log_warnx("cannot create the CA certificate %s", cn);
	}
	return cert;
}

static int
write_certs(const char *dir, STACK_OF(X509) *chain)
{
	char *data;
	BIO *bio;
	long len;
	int i, rc = ZTP_ECRYPTO;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return ZTP_ENOMEM;
	for (i = 0; i < sk_X509_num(chain); i++)
		if (PEM_write_bio_X509(bio, sk_X509_value(chain, i)) != 1)
			goto out;
	len = BIO_get_mem_data(bio, &data);
	rc = write_file(dir, "ca.pem", data, (size_t)len, 0644);
out:
	BIO_free(bio);
	return rc;
}

int
cakey_create(const char *dir)
{
	STACK_OF(X509) *chain = NULL;
	char path[PATH_MAX], pass[PASS_LEN + 1], cn[128], host[64];
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc = ZTP_ECRYPTO;

	/* temporary files of writes a crash cut short: ca.pass and ca.key's are secret */
	for (const char *const *n = (const char *const[]){ "ca.pass", "ca.key", "ca.pem", NULL };
	     *n != NULL; n++) {
		path_of(dir, *n, path);
		atomicfile_clean(path);
	}
	path_of(dir, "ca.pem", path);
	if (access(path, F_OK) == 0)
		return 0;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(cn, sizeof(cn), "ztp CA %s", host);
	/* ca.pem last: a crash before it leaves no CA, and the next start begins again */
	if ((rc = new_pass(dir, pass)) != 0)
		goto out;
	rc = ZTP_ECRYPTO;
	if ((key = EVP_EC_gen("P-256")) == NULL || (cert = self_signed(key, cn)) == NULL ||
	    (chain = sk_X509_new_null()) == NULL || !sk_X509_push(chain, cert))
		goto out;
	cert = NULL; /* the chain's */
	if ((rc = write_key(dir, key, pass)) != 0 || (rc = write_certs(dir, chain)) != 0)
		goto out;
	log_info("created the CA %s/ca.pem", dir);
	rc = 0;
out:
	OPENSSL_cleanse(pass, sizeof(pass));
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	if (rc != 0)
		log_warnx("cannot create the CA in %s", dir);
	return rc;
}

int
cakey_present(const char *dir)
{
	char path[PATH_MAX];

	path_of(dir, "ca.key", path);
	if (access(path, F_OK) == 0 || errno != ENOENT)
		return 0;
	log_warnx("%s/ca.pem has no ca.key beside it: this data directory holds the CA "
		  "certificate but not its key, so its signer cannot start (it issues this node's "
		  "server certificate). Join the node from a bundle with the CA key (ztpd "
		  "export-node; docs/node-bundle.md), or import the CA (--import-ca)", dir);
	return ZTP_ENOENT;
}

int
cakey_load(const char *dir, const uint8_t *legacy_key, EVP_PKEY **out)
{
	char pass[PASS_LEN + 1], old[65];
	EVP_PKEY *key = NULL;
	int rc;

	*out = NULL;
	if ((rc = read_pass(dir, pass)) == 0 && (key = read_key(dir, pass)) != NULL)
		goto out;
	if ((rc != 0 && rc != ZTP_ENOENT) || legacy_key == NULL) {
		if (rc == ZTP_ENOENT)
			log_warnx("%s/ca.pass is missing: the CA key cannot be read", dir);
		else if (rc == 0)
			log_warnx("%s/ca.key: cannot read the key (does ca.pass belong to it?)", dir);
		rc = ZTP_EIO;
		goto out;
	}
	/*
	 * A data directory of an earlier version: ca.key is encrypted with a
	 * passphrase derived from secret.key, which the front holds. Read it
	 * that way once, then encrypt it with a passphrase of its own. The key
	 * file is replaced atomically after ca.pass is written: a crash in
	 * between leaves the old ca.key and a ca.pass that does not open it,
	 * so a failed read with ca.pass falls back to the derived one below.
	 */
	if ((rc = crypto_derive(legacy_key, "ztp pem passphrase v1", (uint8_t *)pass, 32)) != 0 ||
	    (rc = hex_encode((uint8_t *)pass, 32, old, sizeof(old))) != 0)
		goto out;
	if ((key = read_key(dir, old)) == NULL) {
		log_warnx("%s/ca.key: cannot read the key (does secret.key belong to it?)", dir);
		rc = ZTP_EIO;
		goto out;
	}
	if ((rc = new_pass(dir, pass)) != 0 || (rc = write_key(dir, key, pass)) != 0) {
		log_warnx("%s: cannot re-encrypt ca.key with ca.pass", dir);
		goto out;
	}
	log_info("%s/ca.key: encrypted again with a passphrase of its own (ca.pass)", dir);
	rc = 0;
out:
	OPENSSL_cleanse(pass, sizeof(pass));
	OPENSSL_cleanse(old, sizeof(old));
	if (rc != 0) {
		EVP_PKEY_free(key);
		return rc;
	}
	*out = key;
	return 0;
}

/* 1 if cert can be a CA that signs certificates and CRLs. */
static int
is_ca(X509 *cert)
{
	uint32_t ku = X509_get_key_usage(cert);

	return X509_check_ca(cert) == 1 && (ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) ==
	    (KU_KEY_CERT_SIGN | KU_CRL_SIGN);
}

int
cakey_import(const char *dir, const char *certfile, const char *keyfile)
{
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	char path[PATH_MAX], pass[PASS_LEN + 1];
	X509 *ca;
	FILE *f;
	int rc = ZTP_EINVAL;

	path_of(dir, "ca.key", path);
	if (access(path, F_OK) == 0) {
		log_warnx("%s has a CA already: import into a new data directory", dir);
		goto out;
	}
	if ((chain = crypto_read_certs(certfile)) == NULL) {
		log_warnx("%s: no PEM certificate", certfile);
		goto out;
	}
	ca = sk_X509_value(chain, 0);
	if ((f = fopen(keyfile, "re")) == NULL) {
		log_warn("%s", keyfile);
		goto out;
	}
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (key == NULL) {
		log_warnx("%s: not a PEM private key (or a wrong passphrase)", keyfile);
		goto out;
	}
	if (X509_check_private_key(ca, key) != 1) {
		log_warnx("%s does not match the first certificate of %s", keyfile, certfile);
		goto out;
	}
	if (!is_ca(ca)) {
		log_warnx("%s: not a CA certificate (basicConstraints CA:TRUE and key usage"
			  " keyCertSign, cRLSign are needed)", certfile);
		goto out;
	}
	if (X509_cmp_time(X509_get0_notAfter(ca), NULL) <= 0) {
		log_warnx("%s: the CA certificate has expired", certfile);
		goto out;
	}
	/* the chain as given, the CA first: what EST /cacerts answers */
	if ((rc = new_pass(dir, pass)) != 0 || (rc = write_key(dir, key, pass)) != 0 ||
	    (rc = write_certs(dir, chain)) != 0)
		goto out;
	/* the server certificate is issued again, by this CA, at the next start */
	path_of(dir, "server.pem", path);
	unlink(path);
	log_info("imported the CA %s into %s", certfile, dir);
	rc = 0;
out:
	OPENSSL_cleanse(pass, sizeof(pass));
	ERR_clear_error();
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}
