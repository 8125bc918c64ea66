/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "atomicfile.h"
#include "datadir.h"
#include "hex.h"
#include "log.h"
#include "signer_client.h"
#include "store.h"
#include "ztp/err.h"

#define SERVER_DAYS 397
#define SERVER_RENEW_DAYS 30

void
datadir_path(const struct datadir *dd, const char *name, char *out)
{
	snprintf(out, PATH_MAX, "%s/%s", dd->dir, name);
}

int
datadir_write_file(const struct datadir *dd, const char *name, const void *data, size_t len,
    int mode)
{
	char path[PATH_MAX], err[PATH_MAX + 64];

	datadir_path(dd, name, path);
	if (atomicfile_write(path, data, len, (mode_t)mode, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		return ZTP_EIO;
	}
	return 0;
}

/* Read secret.key, creating it on first start. */
static int
load_key(struct datadir *dd)
{
	uint8_t key[CRYPTO_KEY_LEN + 1];
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	datadir_path(dd, "secret.key", path);
	if (access(path, F_OK) != 0) {
		if (crypto_random(key, CRYPTO_KEY_LEN) != 0 ||
		    datadir_write_file(dd, "secret.key", key, CRYPTO_KEY_LEN, 0600) != 0)
			return ZTP_EIO;
		log_info("created the data key %s", path);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_warn("%s", path);
		return ZTP_EIO;
	}
	n = read(fd, key, sizeof(key));
	close(fd);
	if (n != CRYPTO_KEY_LEN) {
		log_warnx("%s: must hold exactly %d bytes", path, CRYPTO_KEY_LEN);
		return ZTP_EIO;
	}
	memcpy(dd->key, key, CRYPTO_KEY_LEN);
	OPENSSL_cleanse(key, sizeof(key));
	if (crypto_derive(dd->key, "ztp admin token v1", dd->token_key, CRYPTO_KEY_LEN) != 0)
		return ZTP_ECRYPTO;
	return 0;
}

int
datadir_pem_pass(const uint8_t key[CRYPTO_KEY_LEN], char out[65])
{
	uint8_t k[32];
	int rc;

	if ((rc = crypto_derive(key, "ztp pem passphrase v1", k, sizeof(k))) == 0)
		rc = hex_encode(k, sizeof(k), out, 65);
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

static int
write_key(const struct datadir *dd, const char *name, EVP_PKEY *key)
{
	char pass[65], *data;
	BIO *bio;
	long len;
	int rc = ZTP_ECRYPTO;

	datadir_pem_pass(dd->key, pass);
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return ZTP_ENOMEM;
	if (PEM_write_bio_PrivateKey(bio, key, EVP_aes_256_cbc(), (unsigned char *)pass,
		(int)strlen(pass), NULL, NULL) == 1) {
		len = BIO_get_mem_data(bio, &data);
		rc = datadir_write_file(dd, name, data, (size_t)len, 0600);
	}
	OPENSSL_cleanse(pass, sizeof(pass));
	BIO_free(bio);
	return rc;
}

static EVP_PKEY *
read_key(const struct datadir *dd, const char *name)
{
	char path[PATH_MAX], pass[65];
	EVP_PKEY *key = NULL;
	FILE *f;

	datadir_path(dd, name, path);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	datadir_pem_pass(dd->key, pass);
	key = PEM_read_PrivateKey(f, NULL, NULL, pass);
	OPENSSL_cleanse(pass, sizeof(pass));
	fclose(f);
	if (key == NULL)
		log_warnx("%s: cannot read the key (does secret.key belong to it?)", path);
	return key;
}

static int
write_cert(const struct datadir *dd, const char *name, X509 *cert)
{
	char *data;
	BIO *bio;
	long len;
	int rc = ZTP_ECRYPTO;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return ZTP_ENOMEM;
	if (PEM_write_bio_X509(bio, cert) == 1) {
		len = BIO_get_mem_data(bio, &data);
		rc = datadir_write_file(dd, name, data, (size_t)len, 0644);
	}
	BIO_free(bio);
	return rc;
}

static X509 *
read_cert(const struct datadir *dd, const char *name)
{
	char path[PATH_MAX];
	X509 *cert;
	FILE *f;

	datadir_path(dd, name, path);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return cert;
}


/* The CA certificate and its chain from ca.pem (the signer creates the CA). */
static int
load_ca(struct datadir *dd)
{
	char path[PATH_MAX];

	datadir_path(dd, "ca.pem", path);
	if ((dd->ca_chain = crypto_read_certs(path)) == NULL) {
		log_warnx("%s: no certificate", path);
		return ZTP_EIO;
	}
	dd->ca_cert = sk_X509_value(dd->ca_chain, 0);
	X509_up_ref(dd->ca_cert);
	return 0;
}

/* 1 if name is a DNS name worth putting in the SAN. */
static int
dns_name_ok(const char *name)
{
	const char *p;

	if (*name == '\0' || strlen(name) > 63 || !strcmp(name, "localhost"))
		return 0;
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return 0;
	return 1;
}

static int
server_cert_ok(struct datadir *dd)
{
	EVP_PKEY *capub;
	int ok;

	if (dd->server_cert == NULL || dd->server_key == NULL)
		return 0;
	if (X509_check_private_key(dd->server_cert, dd->server_key) != 1)
		return 0;
	if ((capub = X509_get0_pubkey(dd->ca_cert)) == NULL ||
	    X509_verify(dd->server_cert, capub) != 1)
		return 0;
	ok = X509_cmp_time(X509_get0_notAfter(dd->server_cert), NULL) > 0;
	/* one that ends with the CA cannot be renewed to last longer: keep it */
	if (ok && ASN1_TIME_compare(X509_get0_notAfter(dd->server_cert),
		      X509_get0_notAfter(dd->ca_cert)) >= 0) {
		log_warnx("the CA certificate %s/ca.pem expires soon, and the server certificate"
			  " with it: import a new CA", dd->dir);
		return 1;
	}
	if (ok) {
		time_t soon = time(NULL) + (time_t)SERVER_RENEW_DAYS * 86400;
		ok = X509_cmp_time(X509_get0_notAfter(dd->server_cert), &soon) > 0;
	}
	return ok;
}

/* A CSR for key (no subject: the signer takes the subject from the request). */
static int
make_csr(EVP_PKEY *key, uint8_t **der, int *len)
{
	X509_REQ *req;
	int ok;

	*der = NULL;
	ok = (req = X509_REQ_new()) != NULL && X509_REQ_set_version(req, 0) &&
	    X509_REQ_set_pubkey(req, key) && X509_REQ_sign(req, key, EVP_sha256()) > 0 &&
	    (*len = i2d_X509_REQ(req, der)) > 0;
	X509_REQ_free(req);
	return ok ? 0 : ZTP_ECRYPTO;
}

int
datadir_server_cert(struct datadir *dd, struct signer *sg)
{
	static const uint8_t loop4[4] = { 127, 0, 0, 1 };
	static const uint8_t loop6[16] = { [15] = 1 };
	struct signer_csr_req r;
	struct signer_issued issued;
	const uint8_t *p;
	uint8_t *csr = NULL;
	char host[64];
	int len, rc;

	dd->server_key = read_key(dd, "server.key");
	dd->server_cert = read_cert(dd, "server.pem");
	if (server_cert_ok(dd))
		return 0;
	EVP_PKEY_free(dd->server_key);
	X509_free(dd->server_cert);
	dd->server_cert = NULL;
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if ((dd->server_key = EVP_EC_gen("P-256")) == NULL)
		return ZTP_ECRYPTO;
	if ((rc = make_csr(dd->server_key, &csr, &len)) != 0)
		return rc;
	memset(&r, 0, sizeof(r));
	r.csr = csr;
	r.csr_len = (size_t)len;
	snprintf(r.subject.cn, sizeof(r.subject.cn), "%s", dns_name_ok(host) ? host : "localhost");
	snprintf(r.subject.org, sizeof(r.subject.org), "ztp");
	r.profile.days = SERVER_DAYS;
	r.profile.key_usage = SIGNER_KU_DIGITAL_SIGNATURE;
	/* clientAuth too: ztpd is a TLS client of the MQTT broker (gwmqtt.c) */
	r.profile.ext_key_usage = SIGNER_EKU_SERVER_AUTH | SIGNER_EKU_CLIENT_AUTH;
	snprintf(r.dns[r.n_dns++], sizeof(r.dns[0]), "localhost");
	if (dns_name_ok(host))
		snprintf(r.dns[r.n_dns++], sizeof(r.dns[0]), "%s", host);
	memcpy(r.ip[0], loop4, 4);
	r.ip_len[0] = 4;
	memcpy(r.ip[1], loop6, 16);
	r.ip_len[1] = 16;
	r.n_ip = 2;
	rc = signer_sign_csr(sg, &r, &issued);
	OPENSSL_free(csr);
	if (rc != 0) {
		log_warnx("the signer did not issue the server certificate: %s", ztp_strerror(rc));
		return rc;
	}
	p = issued.der;
	dd->server_cert = d2i_X509(NULL, &p, (long)issued.der_len);
	signer_issued_free(&issued);
	if (dd->server_cert == NULL || !server_cert_ok(dd))
		return ZTP_ECRYPTO;
	if (write_key(dd, "server.key", dd->server_key) != 0 ||
	    write_cert(dd, "server.pem", dd->server_cert) != 0)
		return ZTP_EIO;
	log_info("issued the server certificate %s/server.pem", dd->dir);
	return 0;
}

/* The directory, its data key, no leftovers of cut-short writes. */
static int
prepare(struct datadir *dd, const char *dir)
{
	memset(dd, 0, sizeof(*dd));
	if (strlen(dir) >= sizeof(dd->dir) - 32)
		return ZTP_ERANGE;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_warn("mkdir %s", dir);
		return ZTP_EIO;
	}
	/* absolute, so that admin.json's "ca" works from any directory */
	if (realpath(dir, dd->dir) == NULL) {
		log_warn("%s", dir);
		return ZTP_EIO;
	}
	/* temporary files of writes a crash cut short: some would hold keys */
	for (const char *const *n = (const char *const[]){ "secret.key",
		 "server.key", "server.pem", "admin.json", "run.json", NULL };
	     *n != NULL; n++) {
		char path[PATH_MAX];
		datadir_path(dd, *n, path);
		atomicfile_clean(path);
	}
	return load_key(dd);
}

int
datadir_open(struct datadir *dd, const char *dir)
{
	int rc;

	if ((rc = prepare(dd, dir)) != 0)
		return rc;
	return load_ca(dd);
}

void
datadir_close(struct datadir *dd)
{
	EVP_PKEY_free(dd->server_key);
	X509_free(dd->server_cert);
	X509_free(dd->ca_cert);
	sk_X509_pop_free(dd->ca_chain, X509_free);
	OPENSSL_cleanse(dd->key, sizeof(dd->key));
	OPENSSL_cleanse(dd->token_key, sizeof(dd->token_key));
	memset(dd, 0, sizeof(*dd));
}

static int
write_json(const struct datadir *dd, const char *name, json_t *obj, int mode)
{
	char *text;
	int rc;

	if ((text = json_dumps(obj, JSON_INDENT(2))) == NULL)
		return ZTP_ENOMEM;
	rc = datadir_write_file(dd, name, text, strlen(text), mode);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return rc;
}

int
datadir_admin_key(struct datadir *dd, struct store *st, const char *url)
{
	char path[PATH_MAX], capath[PATH_MAX], key_id[16], secret[65];
	uint8_t raw[32];
	json_t *obj = NULL;
	json_error_t jerr;
	int count, rc;

	datadir_path(dd, "admin.json", path);
	datadir_path(dd, "ca.pem", capath);
	if ((rc = store_apikey_count(st, &count)) != 0)
		return rc;
	if (count > 0) {
		/* keep the key; only the url may change */
		if ((obj = json_load_file(path, 0, &jerr)) == NULL)
			return 0; /* the operator moved it away: fine */
		json_object_set_new(obj, "url", json_string(url));
		rc = write_json(dd, "admin.json", obj, 0600);
		json_decref(obj);
		return rc;
	}
	if ((rc = crypto_random(raw, 4)) != 0)
		return rc;
	snprintf(key_id, sizeof(key_id), "ak_%02x%02x%02x%02x", raw[0], raw[1], raw[2], raw[3]);
	if ((rc = crypto_random(raw, sizeof(raw))) != 0)
		return rc;
	hex_encode(raw, sizeof(raw), secret, sizeof(secret));
	OPENSSL_cleanse(raw, sizeof(raw));
	for (char *p = secret; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	if ((rc = store_apikey_create(st, key_id, secret)) != 0)
		goto out;
	obj = json_pack("{s:s, s:s, s:s, s:s}", "url", url, "key_id", key_id, "secret", secret,
	    "ca", capath);
	if (obj == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	if ((rc = write_json(dd, "admin.json", obj, 0600)) == 0)
		log_info("created the admin API key %s in %s (mode 0600)", key_id, path);
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	json_decref(obj);
	return rc;
}

int
datadir_write_run(struct datadir *dd, const char *device, const char *admin, const char *est)
{
	json_t *obj;
	int rc;

	obj = json_pack("{s:i, s:s, s:s, s:s}", "pid", (int)getpid(), "device", device, "admin",
	    admin, "est", est);
	if (obj == NULL)
		return ZTP_ENOMEM;
	rc = write_json(dd, "run.json", obj, 0644);
	json_decref(obj);
	return rc;
}
