/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Security events: one row in the store's events table and one log line.
 * kind is one of the documented kinds (docs/admin-api.md); iccid and peer
 * may be NULL. The detail must never hold a secret; what the peer sent is
 * sanitized by the caller (log_sanitize).
 */
#ifndef ZTP_EVENTS_H
#define ZTP_EVENTS_H

struct store;

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
#define EV_CLIENT_CERT_REFUSED "client_cert_refused" /* EST: a TLS client certificate was refused */

void events_record(struct store *st, const char *kind, const char *iccid, const char *peer,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * An event an unauthenticated peer can cause: queued in the worker, rate
 * limited per peer and coalesced, written in the background.
 */
struct worker;
void events_note(struct worker *w, const char *kind, const char *iccid, const char *peer,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
