/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Foreign PKIs and their CRLs (docs/pki-crl.md), in the front.
 *
 * pki.c, what any part of the front calls and the pure checks:
 *   pki_cert_seen()   a device presented a certificate of another PKI (an
 *                     IDevID at EST enrolment, a gateway's IDevID or
 *                     LDevID): remember its issuer and serial with the
 *                     device's UDID, so that a CRL listing it finds it.
 *   pki_crl_check()   the bytes of a fetched CRL: DER or PEM, bounded,
 *                     signed by the PKI's CA under its name, not from the
 *                     future, no delta or indirect CRL, no critical
 *                     extension it does not know.
 *
 * pki_sync.c, the synchronisation: fetch a PKI's CRL (libcurl: http and
 * https, bounded size and time), check it, accept it in the store (never
 * older than the last one), block each device whose seen certificate it
 * lists (once per certificate), events. One thread of the front does it
 * for every PKI whose interval has passed, and for the admin API's
 * on-demand syncs, so that no worker waits on a remote server.
 */
#ifndef ZTP_PKI_H
#define ZTP_PKI_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "store.h"

struct server;
struct worker;

#define PKI_CRL_MAX (16 * 1024 * 1024) /* bytes of a CRL, DER or PEM */
#define PKI_FUTURE_SKEW_S 600          /* a CRL's thisUpdate may be this far ahead of our clock */

/* ---- certificates seen (pki.c) ---- */

/* The lower-case hex SHA-256 of the DER of name (the form of foreign_certs.issuer). */
int pki_issuer_hex(const X509_NAME *name, char out[STORE_ISSUER_HEX]);
/*
 * A serial number as the store keeps serials: the upper-case hex of its
 * magnitude's bytes ("00" for zero). ZTP_ERANGE over 20 bytes, ZTP_EMALFORMED
 * if negative.
 */
int pki_serial_hex(const ASN1_INTEGER *serial, char out[STORE_SERIAL_HEX]);
/*
 * The device udid presented cert (of another PKI) as a kind ("idevid",
 * "ldevid"; store_cert_kind_valid): recorded now by its issuer and serial
 * (store_foreign_cert_seen). 0, or a ZTP_E code (the caller logs it; a
 * device is not refused for it).
 */
int pki_cert_seen(struct store *st, X509 *cert, const char *udid, const char *kind);

/* ---- a CRL's bytes (pki.c) ---- */

/* A CRL that pki_crl_check accepted: free it with pki_crl_free. */
struct pki_crl {
	X509_CRL *crl;
	char number[STORE_PKI_CRLNUM_HEX]; /* its crlNumber in upper-case hex, "" if it has none */
	int64_t this_update;               /* Unix seconds */
	int64_t next_update;               /* Unix seconds, 0 if it has none */
	size_t entries;                    /* revoked certificates it lists */
};

/*
 * Check buf[0..len) (at most PKI_CRL_MAX bytes) as the CRL of the CA ca at
 * now (Unix s): a DER CRL (nothing after it) or the first "X509 CRL" PEM
 * block of the text; issued under ca's subject name; its signature
 * verified with ca's public key (a CA whose keyUsage lacks cRLSign signs
 * no CRL); its thisUpdate at most PKI_FUTURE_SKEW_S after now; not a delta
 * CRL, not an indirect one; no critical extension, of the CRL or of an
 * entry, that is not known here; a crlNumber, if any, of at most 20
 * octets and not negative. 0 and *out, or ZTP_EMALFORMED, ZTP_ETOOBIG,
 * ZTP_EAUTH (the name or the signature is not the CA's) or ZTP_EINVAL
 * (a kind of CRL not handled) with the reason in why. ca is not changed.
 */
int pki_crl_check(const uint8_t *buf, size_t len, X509 *ca, int64_t now, struct pki_crl *out,
    char *why, size_t cap);
/* The serial of entry i (< c->entries) as the store keeps them (pki_serial_hex). */
int pki_crl_serial(const struct pki_crl *c, size_t i, char out[STORE_SERIAL_HEX]);
void pki_crl_free(struct pki_crl *c);

/* ---- the synchronisation (pki_sync.c) ---- */

#define PKI_FETCH_CONNECT_S 10 /* to connect */
#define PKI_FETCH_TIMEOUT_S 30 /* the whole fetch, redirections included */
#define PKI_FETCH_REDIRECTS 3
#define PKI_JOBS_MAX 16        /* on-demand syncs waiting, in the whole front */
#define PKI_SCAN_MS 10000      /* how often the thread looks for due PKIs at most */

/* What one sync of a PKI did (for its event, the admin API's answer and tests). */
struct pki_sync_result {
	int rc;                     /* 0: the CRL was accepted and applied; else error says why */
	int skipped;                /* not due (another ztpd on the store took it): nothing done */
	char error[STORE_DETAIL_MAX];
	char crl_number[STORE_PKI_CRLNUM_HEX];
	int64_t this_update, next_update; /* of the CRL (Unix s) */
	int stale;                  /* its nextUpdate has passed (applied all the same) */
	int64_t bytes;              /* fetched */
	int64_t ms;                 /* the whole sync took */
	int64_t entries;            /* revoked certificates the CRL lists */
	int64_t listed;             /* of those, certificates seen from devices */
	int64_t blocked;            /* devices blocked by this sync */
	int64_t already;            /* listed devices blocked already (not blocked twice) */
	int64_t earlier;            /* listed certificates an earlier sync acted on */
	int64_t unknown;            /* listed certificates of UDIDs with no device record */
	int64_t revoked;            /* our certificates the blocks revoked */
};

/*
 * Check, accept and apply the CRL crl[0..len) fetched for the PKI p at
 * now (ms): pki_crl_check against p's CA, store_pki_accept (an older CRL
 * is refused), then every device whose certificate from p's CA was seen
 * and is listed, and that this PKI's syncs have not acted on, is blocked
 * (store_thing_block, privilegeWithdrawn; its certificates revoked and
 * its SIMs blocked) with a pki_revoked event, unless it is blocked
 * already; a certificate of a UDID with no device record is left for a
 * later sync. A refused CRL is recorded in the PKI's last_error. srv (may
 * be NULL) is for re-signing our CRL when a block revoked certificates;
 * by names who asked (an API key id, NULL: the schedule), for the event.
 * r is filled; returns r->rc. The pki_sync event is the caller's.
 */
int pki_sync_apply(struct server *srv, struct store *st, const struct store_pki *p,
    const uint8_t *crl, size_t len, int64_t now, const char *by, struct pki_sync_result *r);
/*
 * One sync of the PKI name: taken in the store (store_pki_fetch_begin:
 * force, or only if due), its CRL fetched from its URL and applied
 * (pki_sync_apply); a failure is recorded in last_error; a pki_sync event
 * (or pki_sync_failed) with the counts. by as for pki_sync_apply. stop
 * (may be NULL) aborts a fetch when it becomes non-zero. Returns r->rc
 * (ZTP_ENOENT: no such PKI; 0 with r->skipped: not due).
 */
int pki_sync(struct server *srv, struct store *st, const char *name, int force,
    const char *by, const atomic_int *stop, struct pki_sync_result *r);

/*
 * The front's PKI thread: a store connection of its own, the due PKIs
 * synced in turn, the on-demand syncs in between. pki_start before the
 * workers, pki_stop before they are stopped (a fetch under way is cut;
 * the syncs waiting are answered 503 by their workers).
 */
int pki_start(struct server *srv);
void pki_stop(void);
/* A PKI was added or changed in this process: look at the schedule now. */
void pki_wake(void);

/*
 * An on-demand sync of name for worker w, by the API key by: done is
 * called later on w's thread with the result (exiting 0), or, when w
 * exits first, with exiting 1 and r NULL (then only arg is to be freed:
 * the request went with its connection). 0 once queued; ZTP_EBUSY
 * (PKI_JOBS_MAX waiting), ZTP_EIO (no PKI thread, no pipe), ZTP_ENOMEM.
 */
typedef void (*pki_sync_done)(const struct pki_sync_result *r, void *arg, int exiting);
int pki_sync_submit(struct worker *w, const char *name, const char *by, pki_sync_done done,
    void *arg);
/* worker.c, as w exits (after evhttp_free, before its event base goes): its syncs let go. */
void pki_worker_exit(struct worker *w);

#endif
