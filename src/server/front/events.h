/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Security events: rows in the store's events table and log lines. kind
 * is one of the documented kinds (docs/admin-api.md); iccid and peer may
 * be NULL. The detail must never hold a secret; what the peer sent is
 * sanitized by the caller (log_sanitize).
 *
 * Two ways in:
 *   events_record  one row written now, one log line: for what an
 *                  authenticated caller or the server itself does.
 *   events_note    what an unauthenticated peer can trigger (a refused
 *                  handshake, an unknown identity): never a store write on
 *                  the spot. It goes to the worker's bounded queue
 *                  (struct evq), which coalesces repeats of one (kind, peer
 *                  address without the port, ICCID, owner, device, detail)
 *                  within --event-window
 *                  seconds into one row with a count, allows each peer
 *                  address --event-rate new rows per window (beyond that
 *                  the events are counted in one events_suppressed row of
 *                  that address and window), tracks at most EVQ_KEYS_MAX
 *                  keys (beyond that events are dropped, counted, logged
 *                  once per window), and is written by a timer about once
 *                  a second, everything pending in one transaction.
 */
#ifndef ZTP_EVENTS_H
#define ZTP_EVENTS_H
#include <stddef.h>
#include <stdint.h>

struct store;
struct worker;

#define EV_HANDSHAKE_REFUSED "handshake_refused"
#define EV_UNKNOWN_IDENTITY "unknown_identity"
#define EV_ICCID_MISMATCH "iccid_mismatch"
#define EV_REBIND_REFUSED "rebind_refused"
#define EV_BLOCKED_SIM "blocked_sim"
#define EV_REQUEST_REFUSED "request_refused"
#define EV_ADMIN_CHANGE "admin_change"
#define EV_TOKEN_REFUSED "token_refused"
#define EV_SIM_REGISTERED "sim_registered"
#define EV_PSK_ROTATED "psk_rotated"
#define EV_STALE_KEY "stale_key"
#define EV_CERT_ISSUED "cert_issued"       /* EST: a certificate was issued and recorded */
#define EV_ENROL_REFUSED "enrol_refused"   /* EST: an enrolment or re-enrolment was refused */
#define EV_CERT_REVOKED "cert_revoked"     /* a certificate was revoked (admin or device block) */
#define EV_UPSTREAM_ERROR "upstream_error" /* proxy mode: the customer's server failed */
#define EV_CLIENT_CERT_REFUSED "client_cert_refused" /* EST, device listener: a TLS client
							   certificate was refused */
#define EV_UNBOUND_DEVICE "unbound_device" /* device listener: a certificate device has no SIM */

/* the module security service (module_api.c) */
#define EV_MODULE_UNKNOWN_KEY "module_unknown_key"   /* an identity whose key is not kept */
#define EV_MODULE_BOOTSTRAPPED "module_bootstrapped" /* factory secret replaced */
#define EV_MODULE_CLAIMED "module_claimed"           /* assigned to its profile's owner */
#define EV_MODULE_CLONE "module_clone"               /* a retired key was used: quarantine */
#define EV_MODULE_REFUSED "module_refused"           /* a request refused (quarantine, state) */
#define EV_MODULE_UNKNOWN_PROFILE "module_unknown_profile" /* sealed with no known profile */
/* the services (issue 14): every call, given or refused */
#define EV_PSK_LOOKUP "psk_lookup"   /* GET /v1/psk/{identity} */
#define EV_E2E_PARAMS "e2e_params"   /* POST /v1/e2e/decryption-parameters */
#define EV_E2E_ENCRYPT "e2e_encrypt" /* POST /v1/devices/{rot}/e2e/encrypt */

/* foreign PKIs' CRLs (pki_sync.c, docs/pki-crl.md) */
#define EV_PKI_REVOKED "pki_revoked"         /* a device blocked: its certificate is on a CRL */
#define EV_PKI_SYNC "pki_sync"               /* a PKI's CRL fetched, checked, applied: counts */
#define EV_PKI_SYNC_FAILED "pki_sync_failed" /* ... not fetched, or refused: why */

/* the summary row of a peer address over --event-rate: its count is the events dropped */
#define EV_EVENTS_SUPPRESSED "events_suppressed"

#define EVQ_KEYS_MAX 4096    /* distinct keys (and peer addresses) tracked per worker */
#define EVQ_FLUSH_MS 1000    /* how often a worker writes its queue */

void events_record(struct store *st, const char *kind, const char *iccid, const char *peer,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/*
 * events_record of a device's event: the owner ("" or NULL: none) and the
 * device (a RoT UID; NULL: none) go in the event's own columns, so that
 * the owner's API keys see it (GET /v1/events).
 */
void events_record_dev(struct store *st, const char *kind, const char *owner,
    const char *device, const char *peer, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/*
 * Note an event an unauthenticated peer can trigger, on w's queue (see
 * above); the first occurrence of a key is logged, its repeats are not.
 * Without a queue (w->evq NULL) it is recorded as events_record does.
 */
void events_note(struct worker *w, const char *kind, const char *iccid, const char *peer,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * An event of a module (the device of a RoT): as events_note, with the
 * owner ("" or NULL: none) and the device (the RoT UID) recorded in the
 * event's own columns, so that the owner's API keys see it.
 */
void events_note_dev(struct worker *w, const char *kind, const char *owner, const char *device,
    const char *peer, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* worker.c: w->evq with its flush timer on w->base (ZTP_ENOMEM); write what is left and free it. */
int events_worker_start(struct worker *w);
void events_worker_end(struct worker *w);

/* ---- the queue itself, apart from a worker (events_note uses it; tests drive it) ---- */

struct evq;

struct evq_stats {
	size_t keys;         /* keys tracked now */
	size_t peers;        /* peer addresses tracked now */
	uint64_t rows;       /* rows created (inserted) so far */
	uint64_t suppressed; /* events over a peer's rate, counted in events_suppressed rows */
	uint64_t dropped;    /* events lost because the tables were full */
	uint64_t flushes;    /* transactions written */
};

/*
 * A queue with a window of window_s seconds, rate new rows per peer address
 * and window, at most max_keys keys and as many peer addresses. NULL if
 * out of memory. Free with evq_free (NULL is fine), which writes nothing:
 * flush first.
 */
struct evq *evq_new(int window_s, int rate, size_t max_keys);
void evq_free(struct evq *q);
/*
 * One occurrence at now (ms, wall clock) of kind for iccid (NULL: none)
 * from peer ("ADDR:PORT", "[ADDR6]:PORT" or NULL). detail is copied (cut
 * to STORE_DETAIL_MAX); it is stored only with a key's first occurrence.
 */
void evq_note(struct evq *q, int64_t now, const char *kind, const char *iccid, const char *peer,
    const char *detail);
/*
 * evq_note of a device's event: owner and device (NULL or "": none) are
 * part of the key and go in the row's own columns.
 */
void evq_note_dev(struct evq *q, int64_t now, const char *kind, const char *owner,
    const char *device, const char *iccid, const char *peer, const char *detail);
/*
 * Write every pending row to st in one transaction (store_event_batch):
 * new keys are inserted, keys seen again since their last write get their
 * count and last_time updated. Then forget the keys whose window is over
 * (logging the count of those that repeated) and, when final, all of
 * them. 0, or the store's error (nothing is lost: the next flush tries
 * again).
 */
int evq_flush(struct evq *q, struct store *st, int64_t now, int final);
void evq_get_stats(const struct evq *q, struct evq_stats *out);
/* The address of peer without its port: "127.0.0.1:5555" -> "127.0.0.1", "[::1]:5" -> "::1". */
void evq_peer_addr(const char *peer, char *out, size_t cap);

#endif
