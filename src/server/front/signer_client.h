/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The front's client of the signer (signer_client.c), the CA behind a
 * process boundary. In ztpd the signer is the parent's child (parent.c,
 * signer.c) and the front reaches it through signer_open_fd(): the parent
 * starts a new signer when one dies and passes the front a new socket
 * (signer_set_fd()); this client never starts a process then. In unit
 * tests, signer_start() forks the signer itself, from a single-threaded
 * process:
 *
 * signer_start() forks the signer: a child process that loads the CA key
 * (DIR/ca.key, PEM decrypted with DIR/ca.pass, cakey.h) and DIR/ca.pem,
 * closes every other file descriptor, makes itself non-dumpable (no core file, no ptrace or
 * /proc/PID/mem by the same user) and then answers typed requests
 * (signer_msg.h) on a SOCK_SEQPACKET socketpair: sign this CSR under this
 * profile, sign this CRL. The calling process never opens ca.key and holds
 * no CA key object: a worker that is taken over can ask for certificates,
 * which the signer checks again, but cannot take the key. The signer
 * re-validates every request (framing, field bounds, the key's encoding,
 * type and size, that it is not the CA's, key usage against key type) and
 * answers anything it refuses with an ERROR message and a log line; it
 * exits only when its socket is closed.
 *
 * Proof of possession stays in the front. EST enrolments decode and verify
 * the device's CSR once, in the front, and send the signer the key
 * (SIGN_SPKI), not the CSR: a compromised front could make a key pair of
 * its own and sign any CSR it likes for it, so the signer verifying a CSR
 * signature again would not protect against the front, and decoding a key
 * with OpenSSL 3 costs more than the signature. What only the signer can
 * enforce (which keys get certificates, under which profile) it enforces
 * on the key itself. SIGN_CSR, which verifies the CSR here, stays for
 * callers that hold a CSR they never decoded (the server certificate).
 *
 * Threads: one struct signer serves the whole process. Calls are
 * synchronous and serialised by a mutex: the signer is one single-threaded
 * process, so a connection per worker would only queue there instead. A
 * call waits at most opts.timeout_ms for its own answer, plus the time of
 * the calls ahead of it; signer_sign_crl() is a sequence of messages, each
 * with its own time-out, that holds the mutex from first to last.
 *
 * Failure: if the signer dies, does not answer within the time-out or
 * answers something malformed, the call returns ZTP_EIO and the socket is
 * closed. In ztpd (signer_open_fd()) calls then fail with ZTP_EIO at once
 * until the parent passes a new socket. With signer_start(), the child is
 * also killed and reaped, and the next call starts a new signer first (at
 * most once per opts.restart_interval_ms); signer_restart() does it now.
 * A refusal by a working signer is not a failure: the call returns the
 * signer's code.
 *
 * Restarts by this client (signer_start() only, for tests) fork from the
 * calling process; ztpd's front never does: its signer comes from the
 * parent's fork + exec.
 *
 * The process must neither ignore SIGCHLD nor reap children it did not
 * start (waitpid(-1)): the signer is waited for here, and killed by pid.
 */
#ifndef ZTP_SIGNER_CLIENT_H
#define ZTP_SIGNER_CLIENT_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "signer_msg.h"

struct signer;

struct signer_opts {
	int timeout_ms;          /* per request; default 5000 */
	int start_timeout_ms;    /* for a new signer to load the key and answer PING; 10000 */
	int restart_interval_ms; /* least time between automatic restarts; 1000 */
};

/* An issued certificate. der is malloc'd: signer_issued_free(). */
struct signer_issued {
	uint8_t *der;
	size_t der_len;
	uint8_t serial[SIGNER_SERIAL_MAX]; /* unsigned big-endian */
	size_t serial_len;
	int64_t not_before; /* Unix seconds */
	int64_t not_after;
};

/*
 * Start the signer for the data directory datadir (which holds ca.key and
 * ca.pem) with the data key datakey (secret.key's 32 bytes; the struct
 * keeps a copy for restarts and wipes it in signer_free()). opts may be
 * NULL for the defaults. Returns 0 and *out once the signer has loaded the
 * CA and answered a PING; ZTP_EIO if it could not (the reason is in the
 * log), ZTP_EINVAL, ZTP_ERANGE (path too long) or ZTP_ENOMEM.
 */
int signer_start(struct signer **out, const char *datadir, const uint8_t datakey[32],
    const struct signer_opts *opts);

/*
 * The front's client of a signer it did not start: requests go on fd (a
 * SOCK_SEQPACKET socket to the signer process, which the parent started
 * and supervises). When a call fails the socket is closed, and calls fail
 * with ZTP_EIO at once until signer_set_fd() gives a new one: this client
 * never starts a process. opts may be NULL. Returns 0, ZTP_EINVAL or
 * ZTP_ENOMEM.
 */
int signer_open_fd(struct signer **out, int fd, const struct signer_opts *opts);
/* Replace the socket (closing the old one, if any) with fd; thread-safe. */
void signer_set_fd(struct signer *s, int fd);

/*
 * Close the socket, which ends the signer, and reap it (SIGKILL if it has
 * not exited after a second). No call may be running. s may be NULL.
 */
void signer_free(struct signer *s);

/* Kill the signer if it runs and start a new one. Returns 0 or ZTP_EIO. */
int signer_restart(struct signer *s);

/* Check that the signer answers. Returns 0 or ZTP_EIO. */
int signer_ping(struct signer *s);

/*
 * Have the signer issue a certificate for req->csr (DER) with
 * req->subject, req->profile and the SANs of req. The request is checked
 * here before it is sent (ZTP_EMALFORMED, ZTP_ERANGE, ZTP_ETOOBIG as
 * signer_msg_encode()) and again by the signer, which refuses with:
 * ZTP_EMALFORMED (not a single DER CSR), ZTP_EAUTH (the CSR's signature
 * does not verify, or its key is not req->key_sha256), ZTP_EINVAL (a key
 * other than EC P-256/P-384, RSA 2048-4096 or Ed25519, the CA's own key,
 * or a key usage the key type cannot have), ZTP_EEXPIRED (the CA
 * certificate has expired). The certificate's notAfter is the earlier of
 * now + days and the CA's notAfter. ZTP_EIO: no working signer. On
 * success *out is filled (the caller frees it with signer_issued_free());
 * on failure *out is zeroed.
 */
int signer_sign_csr(struct signer *s, const struct signer_csr_req *req,
    struct signer_issued *out);

/*
 * As signer_sign_csr(), for the key req->spki (a DER SubjectPublicKeyInfo
 * whose CSR the caller has verified) of req->key_type and req->key_bits
 * (SIGNER_KEY_*, as the caller found them); req->csr and key_sha256 must
 * be unset. The certificate carries exactly those SPKI bytes. The signer
 * refuses with: ZTP_EMALFORMED (not one DER SPKI as signer_spki_parse()
 * says, an EC point not on its curve), ZTP_EINVAL (a key other than EC
 * P-256/P-384, RSA 2048-4096 or Ed25519, not of req's type and size, the
 * CA's own key, or a key usage the key type cannot have), ZTP_EEXPIRED;
 * ZTP_EIO: no working signer.
 */
int signer_sign_spki(struct signer *s, const struct signer_csr_req *req,
    struct signer_issued *out);
void signer_issued_free(struct signer_issued *c);

/*
 * Have the signer sign a CRL numbered crl_number, valid next_update
 * seconds (60 s .. 366 days), listing the n entries of revoked in any
 * order (sorted here, in place; a serial twice is ZTP_EMALFORMED; at most
 * SIGNER_CRL_TOTAL_MAX, else ZTP_ERANGE). Every entry is checked before
 * anything is sent; the entries then go in messages of up to
 * SIGNER_REVOKED_MAX and the signed CRL comes back in parts (the CRL
 * sequence of signer_msg.h), all under the mutex: other calls wait. Each
 * message waits opts.timeout_ms, the signing one longer by 50 us an
 * entry. On success *der (malloc'd, the caller frees it) and *der_len;
 * ZTP_EIO: no working signer; other codes as signer_sign_csr().
 */
int signer_sign_crl(struct signer *s, uint64_t crl_number, uint32_t next_update,
    struct signer_revoked *revoked, size_t n, uint8_t **der, size_t *der_len);

/*
 * ZTP certificate authorities (signer_msg.h ZTPCA_*, the signer's
 * ztpca.h): an owner's CA whose key this process only ever holds wrapped.
 * id is the CA's identity, "<owner>/<name>", which the wrapped key is
 * bound to.
 */
struct signer_ztpca_ca {
	uint8_t *cert; /* DER, malloc'd */
	size_t cert_len;
	uint8_t *key; /* wrapped, malloc'd */
	size_t key_len;
	int64_t not_before, not_after; /* Unix seconds */
};
void signer_ztpca_ca_free(struct signer_ztpca_ca *ca);

/*
 * A new CA (EC P-256, self-signed, days of validity) with subject cn (and
 * org unless NULL or ""): its certificate and wrapped key into *out (the
 * caller frees it). ZTP_EIO: no working signer; other codes as the
 * signer's refusal.
 */
int signer_ztpca_create(struct signer *s, const char *id, const char *cn, const char *org,
    uint32_t days, struct signer_ztpca_ca *out);
/*
 * An existing CA: its certificate (DER) and its private key (PKCS#8 DER,
 * wiped here from the request buffer after the call). The signer checks
 * both (signer_msg.h); why its refusal (why, cap bytes; "" if none).
 * *out as signer_ztpca_create.
 */
int signer_ztpca_import(struct signer *s, const char *id, const uint8_t *cert, size_t cert_len,
    const uint8_t *pkcs8, size_t pkcs8_len, struct signer_ztpca_ca *out, char *why, size_t cap);
/*
 * Issue a certificate with the CA (cert, wrapped key, id) for req's key
 * (req as signer_sign_spki, without SANs). *out as signer_sign_spki.
 */
int signer_ztpca_sign(struct signer *s, const char *id, const uint8_t *cert, size_t cert_len,
    const uint8_t *key, size_t key_len, const struct signer_csr_req *req,
    struct signer_issued *out);
/* A proof-of-possession certificate with CN code (1..64 UTF-8), valid days. */
int signer_ztpca_pop(struct signer *s, const char *id, const uint8_t *cert, size_t cert_len,
    const uint8_t *key, size_t key_len, const char *code, uint32_t days,
    struct signer_issued *out);

/*
 * A signature (DER, into sig: cap bytes, SIGNER_SIGNATURE_MAX is enough) of
 * a SHA-256 digest by the CA's key: the gateways' command key
 * (docs/gateways.md). Codes as signer_ztpca_sign.
 */
int signer_ztpca_sign_data(struct signer *s, const char *id, const uint8_t *cert, size_t cert_len,
    const uint8_t *key, size_t key_len, const uint8_t digest[32], uint8_t *sig, size_t cap,
    size_t *sig_len);

/* The signer's pid, 0 while there is none (for logs and tests). */
pid_t signer_pid(struct signer *s);

/*
 * For tests: send req[0..len) as one datagram, unchecked, and return the
 * signer's raw answer in resp (cap bytes) and *resp_len; returns 0 or
 * ZTP_EIO (signer gone: killed as by any failed call).
 */

int signer_exchange_raw(struct signer *s, const uint8_t *req, size_t len, uint8_t *resp,
    size_t cap, size_t *resp_len);

#endif
