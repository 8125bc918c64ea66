/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data directory: everything ztpd needs is created at first start and
 * reused afterwards.
 *
 *   secret.key   32 random bytes that seal secrets at rest (mode 0600)
 *   ca.pass, ca.key, ca.pem   the CA: see cakey.h; ca.pass and ca.key are
 *                read only by the signer process
 *   server.key   server private key, PEM encrypted (mode 0600)
 *   server.pem   server certificate issued through the signer (SAN localhost,
 *                127.0.0.1, ::1, the host name), re-issued before expiry
 *   ztp.db       the SQLite store
 *   admin.json   the first admin API key (mode 0600)
 *   run.json     pid and bound addresses of the running ztpd
 */
#ifndef ZTP_DATADIR_H
#define ZTP_DATADIR_H
#include <limits.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto.h"

struct store;
struct signer;

struct datadir {
	char dir[PATH_MAX];
	uint8_t key[CRYPTO_KEY_LEN];       /* seals secrets in the store */
	uint8_t token_key[CRYPTO_KEY_LEN]; /* signs admin tokens */
	EVP_PKEY *server_key;
	X509 *server_cert;
	X509 *ca_cert;            /* the first certificate of ca.pem */
	STACK_OF(X509) *ca_chain; /* all of ca.pem, the CA first */
};

/*
 * Create what is missing in dir (the data key) and load the data key and
 * the CA certificates (ca.pem: the signer creates the CA, cakey.h). Never
 * loads the CA key.
 */
int datadir_open(struct datadir *dd, const char *dir);
/* Load server.key and server.pem, or have the signer issue new ones (missing, not
 * issued by the CA, or expiring within 30 days). */
int datadir_server_cert(struct datadir *dd, struct signer *sg);
void datadir_close(struct datadir *dd);
/* dir/name into out (PATH_MAX). */
void datadir_path(const struct datadir *dd, const char *name, char *out);

/*
 * If the store has no API key, create one and write admin.json (0600).
 * Otherwise rewrite the url of an existing admin.json (the port may change).
 */
int datadir_admin_key(struct datadir *dd, struct store *st, const char *url);

/* Write run.json with the pid and listening addresses ("" if none). */
int datadir_write_run(struct datadir *dd, const char *device, const char *admin,
    const char *est);

/*
 * The passphrase (64 hex characters and a NUL) that encrypts the PEM
 * private keys of the data directory, derived from its data key.
 */
int datadir_pem_pass(const uint8_t key[CRYPTO_KEY_LEN], char out[65]);

/* Write data to dir/name atomically (temp file, fsync, rename) with mode. */
int datadir_write_file(const struct datadir *dd, const char *name, const void *data,
    size_t len, int mode);

#endif
