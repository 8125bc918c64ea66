/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device's EST client (RFC 7030, with RFC 8951's clarifications), for
 * Linux gateways: get the CA certificates, enrol, re-enrol. See
 * docs/enroll.md.
 *
 * Each request function makes one HTTPS request to the server and returns
 * when it is answered or has failed: it runs its own libevent event_base
 * for the duration of the call, bounded by opts.timeout_ms (connect, TLS
 * handshake, request and answer together), the answer's headers by
 * EST_HEADERS_MAX bytes and its body by EST_RESPONSE_MAX bytes.
 *
 *  - The server is authenticated by TLS (1.2 or 1.3) against an explicit
 *    trust anchor (a PEM file, or certificates the caller gives), never the
 *    system's store; the certificate must name the URL's host (DNS name, or
 *    IP address for an address).
 *  - A client certificate and key (an IDevID, or the key store's device
 *    certificate and key) are presented when the server asks for one. If a
 *    TLS 1.3 connection with a client certificate ends after the handshake
 *    without an answer (a refusal of the certificate can be lost there),
 *    it is ZTP_EIO with a reason that says so; the request is not made
 *    again over TLS 1.2 (the certificate would travel in clear).
 *  - HTTP Basic credentials are sent on enrolment requests if given. The
 *    password is never logged nor copied into a result.
 *
 * Every parser of what the server sends is a pure function below
 * (est_parse_*), unit tested and fuzzed (tests/fuzz/fuzz_est_client.c).
 *
 * Outcomes of a request function (the status and a message are in the
 * struct est_result):
 *   0               success
 *   ZTP_EBUSY       202 Accepted: ask again after result->retry_after s
 *   ZTP_EAUTH       refused: 401 or 403 (result->reason: the server's words),
 *                   or, with result->status 0, the server refused the client
 *                   certificate (or its absence) with a TLS alert (revoked,
 *                   expired, unknown CA, required: result->reason names it)
 *   ZTP_EINVAL      with result->status 400..499: refused, any other 4xx;
 *                   with result->status 0: a bad argument, nothing sent
 *   ZTP_EIO         no usable answer: name resolution, connection, TLS
 *                   (the server's certificate did not verify, an alert),
 *                   time-out, 5xx, or a status EST does not use
 *   ZTP_ETOOBIG     the answer is larger than EST_RESPONSE_MAX
 *   ZTP_EMALFORMED  a 200 answer that is not a base64 certs-only PKCS#7
 *   ZTP_ENOMEM
 *
 * The process must ignore SIGPIPE. A struct est_client may be used by one
 * thread at a time. Host code: OpenSSL 3 and libevent 2.1.
 */
#ifndef ZTP_EST_H
#define ZTP_EST_H
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct keystore;
struct est_client;

#define EST_RESPONSE_MAX (64 * 1024) /* body of an answer, bytes */
#define EST_HEADERS_MAX 8192         /* status line and headers of an answer */
#define EST_CERTS_MAX 16             /* certificates in one PKCS#7 answer */
#define EST_TRUST_MAX 512            /* certificates in a trust anchor file */
#define EST_TRUST_FILE_MAX (1024 * 1024)
#define EST_HOST_MAX 253
#define EST_URL_MAX 512
#define EST_REASON_MAX 200 /* the server's reason, characters */
#define EST_WHY_MAX 256
#define EST_TIMEOUT_MS_DEFAULT 30000
#define EST_RETRY_AFTER_DEFAULT 10 /* s, for a 202 without a usable Retry-After */
#define EST_USER_MAX 64
#define EST_PASSWORD_MAX 255

enum est_log_level { EST_LOG_DEBUG, EST_LOG_INFO, EST_LOG_WARN };

struct est_client_opts {
	/* "https://host[:port][/]": host a DNS name, an IPv4 address or [IPv6] */
	const char *url;
	/* trust anchors: a PEM file of certificates, or trust (up-ref'd), or both */
	const char *trust_file;
	STACK_OF(X509) *trust;
	/*
	 * TLS client authentication, optional: the certificate, the key that
	 * goes with it (checked), and further certificates to send with it.
	 * Up-ref'd; the caller keeps its references.
	 */
	X509 *client_cert;
	EVP_PKEY *client_key;
	STACK_OF(X509) *client_chain;
	/* HTTP Basic on simpleenroll/simplereenroll, optional: both or neither; copied */
	const char *user;     /* 1..EST_USER_MAX printable characters, no ':' */
	const char *password; /* 1..EST_PASSWORD_MAX printable characters */
	uint32_t timeout_ms;  /* the whole request; 0: EST_TIMEOUT_MS_DEFAULT */
	/* log lines (never a secret in them); NULL: silent */
	void (*log)(void *arg, enum est_log_level level, const char *msg);
	void *log_arg;
};

/* What a request came to, besides its return code. */
struct est_result {
	int status;            /* HTTP status of the answer; 0 if there was none */
	uint32_t retry_after;  /* seconds, with ZTP_EBUSY */
	/*
	 * With ZTP_EAUTH and status 0: the TLS alert by which the server
	 * refused the client certificate (SSL_AD_CERTIFICATE_REVOKED, ...);
	 * else 0
	 */
	int tls_alert;
	/* the body of a 4xx/5xx answer, printable ASCII, bounded; "" if none */
	char reason[EST_REASON_MAX + 1];
	/* what failed, in words (no secret in it); "" on success */
	char why[EST_WHY_MAX];
};

/*
 * A client for the server of opts (copied; what it points to may go after
 * the call). Returns 0 with *out (free with est_client_free()); ZTP_EINVAL
 * for a bad URL, user, password or an incomplete client identity, a client
 * key that does not match its certificate; ZTP_ENOENT, ZTP_EIO,
 * ZTP_ETOOBIG, ZTP_EMALFORMED for a trust file that cannot be read or holds
 * anything but PEM certificates; ZTP_ENOMEM; ZTP_ECRYPTO. On failure why
 * (whycap bytes) says what was wrong.
 */
int est_client_new(const struct est_client_opts *opts, struct est_client **out, char *why,
    size_t whycap);

/* Free c (and the password it holds, cleansed). NULL is fine. */
void est_client_free(struct est_client *c);

/*
 * GET /.well-known/est/cacerts: *certs, the CA certificates (a new stack
 * the caller frees with sk_X509_pop_free(certs, X509_free)), in the order
 * the server sent them. On failure *certs is NULL.
 */
int est_cacerts(struct est_client *c, STACK_OF(X509) **certs, struct est_result *res);

/*
 * POST /.well-known/est/simpleenroll with csr[len] (a DER PKCS#10 request,
 * sent in base64, Content-Type application/pkcs10) and the client's Basic
 * credentials, if any: *cert, the issued certificate (the caller frees it
 * with X509_free()). An answer of several certificates gives the first
 * that is not a CA. Nothing is checked about the certificate here: see
 * est_cert_check(). On failure *cert is NULL.
 */
int est_simpleenroll(struct est_client *c, const uint8_t *csr, size_t len, X509 **cert,
    struct est_result *res);

/* The same, POST /.well-known/est/simplereenroll (client: the current certificate and key). */
int est_simplereenroll(struct est_client *c, const uint8_t *csr, size_t len, X509 **cert,
    struct est_result *res);

/* ---- TLS client identities ---- */

/*
 * An IDevID from PEM files: *cert (the first certificate of cert_file),
 * *chain (the other certificates of the file, possibly none; a new stack),
 * *key (key_file's private key, unencrypted, which must match *cert). The
 * caller frees them. Files of at most EST_TRUST_FILE_MAX bytes. Returns 0,
 * ZTP_ENOENT, ZTP_EIO, ZTP_ETOOBIG, ZTP_EMALFORMED, ZTP_ECONFLICT (key and
 * certificate do not match), ZTP_ENOMEM; why says what failed.
 */
int est_identity_from_files(const char *cert_file, const char *key_file, X509 **cert,
    STACK_OF(X509) **chain, EVP_PKEY **key, char *why, size_t whycap);

/*
 * The key store's identity: *cert from slot 10, *key the handle of slot 0
 * (keystore_pkey(): the backend must give one). The caller frees them.
 * Returns 0 or the key store's error (ZTP_ENOENT: no certificate or key;
 * ZTP_EINVAL: the backend gives no key handle); why says what failed.
 */
int est_identity_from_keystore(struct keystore *ks, X509 **cert, EVP_PKEY **key, char *why,
    size_t whycap);

/* ---- checking and storing an issued certificate ---- */

/*
 * 0 if cert is a certificate the device may use:
 *  - its public key is pub[publen] (P-256, 04 || X || Y, as
 *    keystore_public_key() gives it), else ZTP_ECONFLICT;
 *  - udid (if not NULL) is its subject's commonName or serialNumber, else
 *    ZTP_ECONFLICT;
 *  - it verifies, at time now_s (Unix seconds), against cas (each one a
 *    trust anchor: what cacerts answered), else ZTP_EEXPIRED (expired or
 *    not yet valid) or ZTP_ECRYPTO.
 * ZTP_EINVAL for a bad argument; why says what failed.
 */
int est_cert_check(X509 *cert, const uint8_t *pub, size_t publen, const char *udid,
    STACK_OF(X509) *cas, int64_t now_s, char *why, size_t whycap);

/*
 * Check cert with est_cert_check() against slot 0's public key, udid and
 * cas at now_s, and only if it passes, store it in slot 10 (PEM). Returns
 * 0, est_cert_check()'s codes (nothing stored), or the key store's errors.
 */
int est_store_cert(struct keystore *ks, X509 *cert, const char *udid, STACK_OF(X509) *cas,
    int64_t now_s, char *why, size_t whycap);

/*
 * Store cas in slot 11 (PEM), unless it holds exactly these already
 * (*changed 0). Returns 0 or the key store's errors.
 */
int est_store_cacerts(struct keystore *ks, STACK_OF(X509) *cas, int *changed, char *why,
    size_t whycap);

/*
 * The validity of cert as Unix seconds. Returns 0, ZTP_EMALFORMED if a
 * time cannot be read.
 */
int est_cert_times(X509 *cert, int64_t *not_before, int64_t *not_after);

/*
 * Is a certificate valid from not_before to not_after due for renewal at
 * now? *due_at: when it is (or was) due: renew_before seconds before
 * not_after, or with renew_before < 0, when a third of its lifetime is
 * left. Returns 1 (due), 0 (not yet).
 */
int est_renew_due(int64_t not_before, int64_t not_after, int64_t now, int64_t renew_before,
    int64_t *due_at);

/* ---- parsers of what the server sends (pure; tested and fuzzed) ---- */

struct est_url {
	char host[EST_HOST_MAX + 1]; /* without brackets for IPv6 */
	uint16_t port;               /* 443 if absent */
	int is_ip;                   /* 1: host is an IPv4 or IPv6 address */
};

/*
 * Parse "https://host[:port][/]" (scheme case-insensitive; no user info,
 * path, query or fragment). Returns 0 or ZTP_EINVAL.
 */
int est_parse_url(const char *url, struct est_url *out);

/*
 * A certs-only answer: body[len] is base64 (whitespace SP, TAB, CR, LF
 * anywhere between the characters; '=' padding only at the end; nothing
 * else) of exactly one DER PKCS#7 SignedData holding 1 to EST_CERTS_MAX
 * certificates. *certs: a new stack (free with sk_X509_pop_free), in the
 * answer's order. Returns 0; ZTP_EMALFORMED (empty, not base64, not a
 * SignedData, bytes after it, no certificate); ZTP_ETOOBIG (len over
 * EST_RESPONSE_MAX, more than EST_CERTS_MAX certificates); ZTP_ENOMEM.
 * why (may be NULL) says what was wrong.
 */
int est_parse_certs(const uint8_t *body, size_t len, STACK_OF(X509) **certs, char *why,
    size_t whycap);

/*
 * A Retry-After value v[len] (RFC 9110 10.2.3; surrounding SP/TAB allowed):
 * delta-seconds (leading zeros allowed), or an IMF-fixdate ("Sun, 06 Nov
 * 1994 08:49:37 GMT"), taken relative to now_s (a date in the past is 0).
 * *secs: the seconds to wait. Returns 0, ZTP_EMALFORMED (anything else,
 * the obsolete date forms included), ZTP_ERANGE (over UINT32_MAX).
 */
int est_parse_retry_after(const char *v, size_t len, int64_t now_s, uint32_t *secs);

/*
 * 1 if the Content-Type value v[len] is application/pkcs7-mime (case
 * insensitive, parameters allowed), 0 if not.
 */
int est_ctype_is_pkcs7(const char *v, size_t len);

/*
 * The server's reason for a refusal, fit to print: body[len] with CR, LF
 * and TAB as spaces, runs of spaces as one, other bytes outside printable
 * ASCII as '?', trimmed, cut to cap - 1 characters (with "..." at the end
 * if cut). out is always NUL-terminated (cap >= 1). Returns its length.
 */
size_t est_reason_text(const uint8_t *body, size_t len, char *out, size_t cap);

/*
 * Certificates held as a key store slot holds them: DER back to back, or
 * PEM CERTIFICATE blocks (text between blocks allowed, any other block
 * refused), at most max of them. *certs: a new stack. Returns 0,
 * ZTP_EMALFORMED, ZTP_ETOOBIG (more than max), ZTP_ENOMEM.
 */
int est_certs_parse(const uint8_t *data, size_t len, size_t max, STACK_OF(X509) **certs);

/* certs as PEM text: *out (malloc'd, NUL-terminated, the caller frees it), *outlen. */
int est_certs_pem(STACK_OF(X509) *certs, uint8_t **out, size_t *outlen);

#endif
