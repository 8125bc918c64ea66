/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module's network client on a Linux host (ztp-sim --module, a
 * gateway): one contact of a root of trust (ztp/rot.h) with ztpd's device
 * listener, blocking, on OpenSSL (docs/protocol/security-service.md
 * sections 2, 4 and 5).
 *
 *  - TLS 1.3 with the external PSK ztp_rot_psk() names (a pending key
 *    first), psk_dhe_ke over X25519 only, TLS_AES_128_CCM_SHA256 then
 *    TLS_AES_128_GCM_SHA256, no certificate ever accepted, no session
 *    tickets, no middlebox compatibility, a ClientHello without what it
 *    does not need (no SNI, one group, one signature algorithm, no
 *    encrypt-then-MAC or extended master secret): the fewer bytes the
 *    better.
 *  - HTTP/1.1 on one keep-alive connection: POST /m/b or /m/h, then POST
 *    /m/c; requests carry Host and Content-Length only. Answers are
 *    bounded: the head MODCLIENT_HEAD_MAX bytes, the body ZTP_ROT_BODY_MAX;
 *    every wait (connect, handshake, each answer) opts.timeout_ms. Then,
 *    when the answer said that a ZTP certificate waits and opts.store_cert
 *    is set, GET /m/z (a body of at most ZTP_CERT_BUNDLE_MAX) and POST /m/z
 *    to confirm it once stored.
 *  - The next key comes from SSL_export_keying_material (label
 *    ZTP_ROT_KEY_LABEL, context the next epoch's identity); the state is
 *    stored through opts.store before /m/c is sent, and again after the
 *    commit: a power cut anywhere leaves a key the server accepts.
 *  - A pending key the server refuses (alert unknown_psk_identity; or
 *    decrypt_error, illegal_parameter from OpenSSL 3.0: it holds another
 *    key of that epoch and the binder does not verify) is dropped, the
 *    state stored, and the contact goes on with the next key on a new
 *    connection. A pending key a handshake accepts is committed when the
 *    server answers the heartbeat that follows on the same connection
 *    (section 4's recovery): the server commits it at the end of its own
 *    handshake, which the client may finish first, so a connection lost
 *    before that answer leaves the key pending, to be offered again.
 *
 * Thread-safe: one client may run contacts of different roots of trust
 * from several threads. One root of trust must not be in two contacts at
 * once. The process must ignore SIGPIPE. Keys are never logged.
 */
#ifndef ZTP_MODCLIENT_H
#define ZTP_MODCLIENT_H
#include <stddef.h>
#include <stdint.h>

#include "ztp/rot.h"

#define MODCLIENT_HEAD_MAX 2048 /* status line and headers of an answer */
#define MODCLIENT_TIMEOUT_MS_DEFAULT 10000
#define MODCLIENT_HOST_MAX 253

enum modclient_log_level { MODCLIENT_LOG_DEBUG, MODCLIENT_LOG_INFO, MODCLIENT_LOG_WARN };

struct modclient_opts {
	const char *host; /* a name or an address; copied */
	uint16_t port;
	const char *firmware; /* 1..32 printable ASCII; copied */
	uint32_t timeout_ms;  /* each wait; 0: MODCLIENT_TIMEOUT_MS_DEFAULT */
	/*
	 * Required: store r durably (the module's NVM) before returning 0;
	 * negative if it could not (the contact then stops, ZTP_MOD_LOCAL,
	 * with r as it was before the change that was to be stored when that
	 * change was a new pending key).
	 */
	int (*store)(void *arg, const struct ztp_rot *r);
	/*
	 * Optional: take (1) and release (0) the caller's lock around every
	 * use of r (store() runs with it held), so that another thread may
	 * seal or read r while the contact waits on the network.
	 */
	void (*lock)(void *arg, int take);
	/* Optional: the time in seconds, the clock of ztp_rot (default: time()). */
	int64_t (*now)(void *arg);
	/* Optional: log lines; never a key. */
	void (*log)(void *arg, enum modclient_log_level level, const char *msg);
	/*
	 * Optional (ZTP certificates, docs/protocol/security-service.md
	 * section 12): store the bundle bundle[0..len) durably (checked with
	 * ztp_cert_parse, ztp/ztpcert.h) and return 0, or negative if it could
	 * not. Called without the lock, after the contact's commit, when the
	 * server said that a bundle waits; the client then confirms it. NULL:
	 * bundles are not fetched.
	 */
	int (*store_cert)(void *arg, const uint8_t *bundle, size_t len);
	void *arg;
};

enum modclient_outcome {
	ZTP_MOD_DONE = 0,    /* bootstrap or heartbeat completed, a key committed */
	ZTP_MOD_REFUSED,     /* 403, 409 or 429: status, reason, retry_after */
	ZTP_MOD_KEY_UNKNOWN, /* the server refused the current key (not a pending one) */
	ZTP_MOD_TRANSIENT,   /* network, time-out, an answer we cannot use: try again */
	ZTP_MOD_LOCAL,       /* the state could not be stored or the request built */
};

struct modclient_result {
	enum modclient_outcome outcome;
	enum ztp_rot_kind kind; /* of the last request sent, 0 if none */
	int status;             /* its HTTP status, 0 if none */
	uint8_t reason;         /* of a refusal (section 6), 0 if none */
	uint32_t retry_after;   /* seconds, if the server said; 0 if not */
	int alert;              /* a fatal TLS alert received, -1 if none */
	int committed;          /* keys committed in this contact */
	int bootstrapped;       /* this contact committed the bootstrap */
	int dropped;            /* pending keys dropped in this contact */
	unsigned connections;
	uint64_t bytes_in, bytes_out; /* TCP payload of every connection, handshakes included */
	int cert;                     /* ZTP certificate: 1 stored and confirmed, -1 failed, 0 none */
	char cipher[32];              /* of the last handshake, "" if none */
	char error[160];              /* what went wrong, "" if nothing */
};

struct modclient;

/*
 * A client for opts (copied; the callbacks and arg are kept). NULL with a
 * reason in err if opts are invalid (no host, port 0, a bad firmware
 * string, no store) or OpenSSL fails.
 */
struct modclient *modclient_new(const struct modclient_opts *opts, char *err, size_t errcap);
void modclient_free(struct modclient *c);

/*
 * One contact for r: the bootstrap while it is not done, else a
 * heartbeat (the caller decides whether one is allowed:
 * ztp_rot_heartbeat_allowed). Returns 0 with res filled (the outcome is in
 * res), or ZTP_EINVAL for NULL arguments.
 */
int modclient_contact(struct modclient *c, struct ztp_rot *r, struct modclient_result *res);

/* An answer's head, as modclient_parse_head reads it. */
struct modclient_head {
	int status;             /* 200..599 */
	size_t len;             /* bytes of the head, its empty line included */
	int64_t content_length; /* bytes of the body: 0 for 204 and 304 */
	int close;              /* Connection: close */
};

#define MODCLIENT_HEAD_MORE 1

/*
 * Read the head of an answer in buf[0..len): "HTTP/1.1" or "HTTP/1.0", a
 * status 200..599, header lines ending in CRLF or LF, an empty line. A
 * body must be announced by one Content-Length of at most
 * ZTP_ROT_BODY_MAX (none for 204 and 304: 0). Returns 0 with h filled,
 * MODCLIENT_HEAD_MORE if the head may still come (no empty line in fewer
 * than MODCLIENT_HEAD_MAX bytes), ZTP_ETOOBIG (a head or a body over its
 * limit), or ZTP_EMALFORMED (a bad status line, a NUL or bare CR, a
 * folded line, a header line without a name, Content-Length twice or not
 * a number, Transfer-Encoding, a 1xx or out-of-range status, no
 * Content-Length on an answer that needs one).
 */
int modclient_parse_head(const char *buf, size_t len, struct modclient_head *h);

#endif
