/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SAFE2 applet's network access on a Linux host (used by ztp-sim):
 * one attempt of an HTTP/1.1 request of spec safe2.md section 5 over
 * TLS 1.3 with an external PSK, on a libevent event_base, its outcome
 * reported as a struct safe2_http_resp. The applet core decides retries
 * and back-off; a transport runs at most one attempt per job at a time
 * (configuration and telemetry may run concurrently).
 *
 *  - TLS 1.3 only, OpenSSL client, the PSK offered through the PSK
 *    use-session callback with the request's identity (by default the 10
 *    EF_ICCID bytes); TLS_AES_128_CCM_SHA256 then TLS_AES_128_GCM_SHA256
 *    (both SHA-256). A server certificate is never accepted: the server
 *    authenticates with the PSK or the handshake fails.
 *  - psk_dhe_ke by default; with opts.psk_ke the client offers only
 *    ffdhe2048, which ztpd does not use for key exchange, and allows
 *    psk_ke: a server whose policy allows it then completes without
 *    (EC)DHE (OpenSSL 3.0 clients cannot send an empty key share).
 *  - Bounded: response headers TRANSPORT_HEADERS_MAX bytes, body
 *    SAFE2_BODY_MAX bytes, the whole attempt (resolve, connect,
 *    handshake, response) opts.timeout_ms.
 *  - Names are resolved with evdns (never a blocking getaddrinfo): an A
 *    record, from the nameservers and search list of /etc/resolv.conf (or
 *    opts.nameserver), cached for its DNS TTL; /etc/hosts is not read.
 *    "localhost" is 127.0.0.1; IPv4 and IPv6 addresses are used as is. An
 *    attempt that fails before its handshake drops the cached address.
 *
 * Outcomes: an HTTP response is SAFE2_OUT_HTTP (status, body, ETag); a
 * fatal TLS alert received from the server is SAFE2_OUT_ALERT with its
 * number; a body over SAFE2_BODY_MAX is SAFE2_OUT_TOO_LARGE; anything else
 * (resolve, connect, time-out, reset, EOF or garbage before a complete
 * response) is SAFE2_OUT_TRANSIENT.
 *
 * The process must ignore SIGPIPE (a write to a connection the server
 * reset would otherwise kill it). Not thread-safe: one transport per
 * event_base, used from that base's thread. The PSK is never logged.
 */
#ifndef ZTP_TRANSPORT_H
#define ZTP_TRANSPORT_H
#include <stdint.h>

#include "ztp/safe2.h"

struct event_base;
struct transport;

#define TRANSPORT_TIMEOUT_MS_DEFAULT 10000
#define TRANSPORT_DNS_TTL_FALLBACK_S_DEFAULT 60
#define TRANSPORT_DNS_TTL_MAX_S 86400 /* a longer DNS TTL is cut to this */
#define TRANSPORT_HEADERS_MAX 4096    /* status line and response headers */
#define TRANSPORT_NAMESERVER_MAX 63

enum transport_log_level { TRANSPORT_LOG_DEBUG, TRANSPORT_LOG_INFO, TRANSPORT_LOG_WARN };

/* the key a ZTP-PSK-Rotate header asks for, from the TLS exporter */
#define TRANSPORT_ROTATE_KEY_LEN 32

struct transport_opts {
	/* the whole attempt, from transport_start to the response; 0: default */
	uint32_t timeout_ms;
	/* ask for psk_ke (PSK without (EC)DHE), as the SIM does; default 0 */
	int psk_ke;
	/* offer TLS_AES_128_GCM_SHA256 first; default 0: CCM first, as the SIM */
	int prefer_gcm;
	/*
	 * Seconds to cache an address whose DNS answer carries no usable TTL
	 * (a TTL of 0); 0: do not cache those. Longer TTLs are cut to
	 * TRANSPORT_DNS_TTL_MAX_S. "localhost" is 127.0.0.1, never asked.
	 */
	uint32_t dns_ttl_fallback_s;
	/* "IP" or "IP:port" of the DNS server; NULL: /etc/resolv.conf. Copied. */
	const char *nameserver;
	/* Log lines (no secrets in them); NULL: silent. */
	void (*log)(void *arg, enum transport_log_level level, const char *msg);
	void *log_arg;
};

/* Fill o with the defaults above. */
void transport_opts_defaults(struct transport_opts *o);

/*
 * A transport on base with opts (copied; NULL: the defaults). Returns
 * NULL if out of memory, if opts are invalid (a nameserver that is not
 * an address) or if OpenSSL cannot make a TLS 1.3 client context. Free
 * with transport_free(), before the event_base.
 */
struct transport *transport_new(struct event_base *base, const struct transport_opts *opts);

/* Abandon every attempt in flight (no callback for them) and free t. NULL is fine. */
void transport_free(struct transport *t);

/*
 * The outcome of one attempt. r and what it points to (body, etag) are
 * valid during the call only. The attempt is over when this is called:
 * the callback may start the next attempt of the same job, cancel the
 * other job, or free the transport.
 */
typedef void (*transport_done_cb)(void *arg, enum safe2_job job, const struct safe2_http_resp *r);

/*
 * Start one attempt of req (everything needed is copied; req's pointers
 * need to be valid during the call only). cb is called once with the
 * outcome, always later from the event loop, never from inside this call,
 * unless the attempt is cancelled first.
 * Returns 0, ZTP_EBUSY if an attempt of req->job is in flight, ZTP_EINVAL
 * for a request outside the limits of safe2.h (host, port, identity, PSK,
 * method, target, body, If-None-Match) or ZTP_ENOMEM.
 */
int transport_start(struct transport *t, const struct safe2_http_req *req, transport_done_cb cb,
    void *arg);

/* Abandon the attempt of job, if any: no callback for it. */
void transport_cancel(struct transport *t, enum safe2_job job);

enum transport_addr_from {
	TRANSPORT_ADDR_NONE,    /* not resolved */
	TRANSPORT_ADDR_NUMERIC, /* the host was an address */
	TRANSPORT_ADDR_LOCAL,   /* "localhost" */
	TRANSPORT_ADDR_CACHE,   /* from the DNS cache */
	TRANSPORT_ADDR_DNS,     /* from a DNS answer */
};

/* What the last finished attempt of a job did, for logs and tests. */
struct transport_info {
	enum transport_addr_from addr_from;
	char addr[46];          /* the address connected to; "" if none */
	int handshake_done;     /* 1: the TLS handshake completed with the PSK */
	const char *cipher;     /* static string; NULL before a handshake */
	int psk_ke;             /* 1: the server chose psk_ke (no (EC)DHE) */
	uint32_t elapsed_ms;    /* from transport_start to the outcome */
	/*
	 * TLS record bytes read from and written to the socket during the
	 * attempt, handshake and alerts included (not TCP/IP headers); 0 if
	 * no connection was made. Bytes the server sent that were never read
	 * (its close_notify after a complete response) are not counted.
	 */
	uint64_t bytes_in, bytes_out;
};

/*
 * Fill out with what the last finished attempt of job did (valid from its
 * callback on). Returns 0, ZTP_ENOENT if no attempt of job has finished
 * yet, ZTP_EINVAL for a bad argument.
 */
int transport_last_info(const struct transport *t, enum safe2_job job, struct transport_info *out);

#endif
