/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The running server: shared read-only state, worker threads, connections.
 *
 * Each worker owns an event_base, its store connection, its evhttp servers
 * and its SO_REUSEPORT listening sockets; nothing on the request path is
 * shared between workers but the SSL_CTXs (read-only after start).
 */
#ifndef ZTP_SERVER_H
#define ZTP_SERVER_H
#include <pthread.h>
#include <stdint.h>
#include <sys/queue.h>

#include <openssl/ssl.h>

#include "config.h"
#include "datadir.h"
#include "modmsg.h"
#include "ztp/iccid.h"

struct event_base;
struct evhttp;
struct evhttp_request;
struct event;
struct bufferevent;
struct store;
struct store_cert;
struct signer;

enum listener_kind { LISTENER_DEVICE, LISTENER_ADMIN, LISTENER_EST, LISTENER__COUNT };

struct server {
	const struct config *cfg;
	struct datadir *dd;
	SSL_CTX *ctx[LISTENER__COUNT];
	int nworkers;
	struct worker *workers;
	int *fds[LISTENER__COUNT]; /* nworkers listening sockets each, or NULL */
	struct signer *signer;     /* the CA process (signer.h); shared, serialised */
};

struct worker {
	int id;
	struct server *srv;
	pthread_t thread;
	struct event_base *base;
	struct store *store;
	struct evhttp *http[LISTENER__COUNT];
	struct evconnlistener *lev[LISTENER__COUNT];
	int nconns;
	/*
	 * Per listener (worker.c): its open connections, its accept pause,
	 * the connections not authenticated yet (oldest first: the first to
	 * close when it is full), and the unfinished handshakes per peer.
	 */
	int nconns_kind[LISTENER__COUNT];
	int paused[LISTENER__COUNT];
	TAILQ_HEAD(, conn) unauth[LISTENER__COUNT];
	TAILQ_HEAD(, conn) admitq; /* accepted, to be admitted once evhttp gave them their socket */
	struct event *admit_ev, *stats_ev;
	struct peer_table *peers;
	int ndropping[LISTENER__COUNT];
	/* counted, logged once a minute (worker.c) */
	long n_evicted[LISTENER__COUNT], n_peer_refused[LISTENER__COUNT];
	long n_hs_timeout[LISTENER__COUNT], n_paused[LISTENER__COUNT];
	long n_peer_blocked[LISTENER__COUNT];
	int draining;
	int64_t drain_deadline;
	int ctl[2]; /* main writes a byte to ctl[1] to stop the worker */
	struct event *ctl_ev, *drain_ev;
	struct est_worker *est; /* est_api.c: this worker's trust stores and answers */
	int nlinger;            /* refused sockets kept a moment to be read (worker.c) */
	struct proxy_worker *proxy; /* proxy.c: this worker's upstream pools, made on first use */
	TAILQ_HEAD(, lingering) lingering;
	struct evq *evq;             /* events.c: events noted, written about once a second */
	struct retention *retention; /* retention.c: worker 0 prunes old events and telemetry */
	struct coro_sched *coro;     /* coro.c: PostgreSQL, work that waits; NULL: SQLite */
};

/* One accepted connection; lives as long as its SSL object. */
/* the longest PSK identity kept: a SIM's (ICCID_IDENTITY_MAX) or a module's */
#define CONN_IDENTITY_MAX (MODMSG_IDENTITY_MAX > ICCID_IDENTITY_MAX ? MODMSG_IDENTITY_MAX : \
    ICCID_IDENTITY_MAX)

struct conn {
	struct worker *w;
	enum listener_kind kind;
	struct bufferevent *bev; /* tlsbev.c's, evhttp's connection */
	SSL *ssl;                /* its TLS: freed with bev, and c with it */
	struct event *deadline;
	char peer[64];
	int nrequests;
	int in_request;
	int timed_out;
	int handshake_done;
	int event_recorded; /* a refusal event was recorded for this connection */
	int have_id;
	struct iccid_identity id;
	/* the key resolved from the ClientHello: wiped when the handshake is done */
	uint8_t psk[64];
	size_t psk_len;
	uint8_t ident[CONN_IDENTITY_MAX];
	size_t ident_len;
	int derived;     /* key derived from the group's master key */
	int pending;     /* the pending key of a rotation: commit once the handshake is done */
	char group[64];  /* the SIM's group, when known */
	int hello;        /* HELLO_*: the lookup of the ClientHello's identities (tls.c) */
	int hello_rc;     /* its answer: SSL_CLIENT_HELLO_SUCCESS or _ERROR with the alert */
	int hello_al;
	int hello_psk_ke; /* the SIM's group allows psk_ke */
	int64_t accepted_at;
	/* the module security service (module_api.c): the identity named a RoT's key */
	int mod;                              /* have_id is 0 then: no SIM */
	char mod_uid[MODMSG_UID_HEX + 1];
	uint32_t mod_epoch;
	int mod_kind;                         /* enum store_modkey_kind */
	uint32_t mod_next_epoch;              /* the pending key this connection announced, 0: none */
	int mod_bootstrap;                    /* ... in a bootstrap (else a heartbeat) */
	uint8_t mod_next_key[MODMSG_KEY_LEN]; /* wiped once confirmed or with the connection */
	/* EST, device listener: the client certificate verified in the handshake, if any */
	int est_peer;         /* EST_PEER_* */
	int est_peer_expired; /* ours, past notAfter but within the re-enrolment grace */
	char est_udid[65];    /* the certificate's subject (CN, else serialNumber) */
	char est_serial[41];  /* ours: upper-case hex, as in the store */
	char est_group[64];   /* manufacturer: the group of its CA */
	struct proxy_job *proxy; /* proxy.c: the request being forwarded upstream, if any */
	int linger_fd;        /* a dup (+ 1) of the socket of a connection refused in the
				 handshake, kept a moment after it is closed (worker.c); 0: none */
	/* admission (worker.c) */
	struct evhttp_connection *evcon; /* known once admitted; NULL once evhttp freed it */
	int evcon_gone;                  /* evhttp freed it (close_cb): c goes with its SSL */
	int admitting;                   /* in w->admitq */
	int unauth;                      /* in w->unauth[kind] */
	int hs_counted;                  /* counted in its peer's unfinished handshakes */
	int hs_failed;                   /* counted in its peer's refused handshakes */
	uint8_t peer_key[16];            /* the peer's address (IPv6 /64), for the peer table */
	int dropping;                    /* closed to make room, not freed yet */
	TAILQ_ENTRY(conn) link;          /* in w->unauth[kind] */
	TAILQ_ENTRY(conn) alink;         /* in w->admitq */
	/* the request head guard (guard.c) */
	int g_state;                     /* GUARD_* */
	uint64_t g_added, g_deleted;     /* bytes ever added to / drained from the input */
	uint64_t g_pos;                  /* the guard has looked at the input up to here */
	uint64_t g_body_left;            /* body bytes of the request the guard let through */
	char *g_head;                    /* the head so far, when it came in pieces */
	size_t g_head_len;
	int g_busy;
	int g_heads;                     /* request heads let through */
	int peer_eof;                    /* the client said close_notify: answer, then close */
	void (*held_eventcb)(struct bufferevent *, short, void *);
	void *held_arg;
	short held_what;
	struct event *eof_ev;
};

#define HELLO_NONE 0
#define HELLO_WAITING 1  /* in a coroutine: the handshake is parked */
#define HELLO_ANSWERED 2

#define GUARD_HEAD 0
#define GUARD_BODY 1
#define GUARD_REFUSED 2

#define EST_PEER_NONE 0
#define EST_PEER_OURS 1         /* issued by our CA (EST: recorded, not revoked; device
				   listener: chain and time only, the store is read per request) */
#define EST_PEER_MANUFACTURER 2 /* an IDevID from an imported manufacturer CA */

/* tls.c: contexts for the device (PSK; with --device-cert-auth certificates too), admin
 * and EST listeners */
int tls_init(void);
SSL_CTX *tls_device_ctx(struct server *srv);
SSL_CTX *tls_admin_ctx(struct server *srv);
SSL_CTX *tls_est_ctx(struct server *srv);
/* The connection an SSL object belongs to (NULL if none). */
struct conn *tls_conn(SSL *ssl);
int tls_set_conn(SSL *ssl, struct conn *c);
/* The connection a request arrived on. */
struct conn *conn_of(struct evhttp_request *req);
/* Peer address of the socket as "addr:port". */
void conn_peer(int fd, char *out, size_t cap);

/* worker.c */
/* The store every connection of this ztpd opens: --store, or sqlite:DATA/ztp.db (1024 bytes). */
void server_store_target(const struct server *srv, char *out, size_t cap);
int worker_start(struct server *srv, struct worker *w);
void worker_stop(struct worker *w);
void worker_join(struct worker *w);
/* Restart a connection's deadline after a request was answered. */
void conn_request_done(struct conn *c, struct evhttp_request *req);
/* Be told when req's connection closes (proxy.c: a request answered later). */
void conn_watch_close(struct conn *c, struct evhttp_request *req);
/* Give the connection at least seconds more before its deadline. */
void conn_extend_deadline(struct conn *c, int seconds);

/* guard.c: the request head guard on a connection's input (see guard.c) */
void guard_attach(struct conn *c);
void guard_detach(struct conn *c);
/* The client half-closed (close_notify): hold its EOF until the answer is out. */
void guard_peer_closed(struct conn *c);
/* A request of c was answered: a half-closed client's connection closes after it. */
void guard_request_done(struct conn *c, struct evhttp_request *req);

/* worker.c: c is authenticated (PSK handshake, or a request with a valid token) */
void conn_authenticated(struct conn *c);
/* c's handshake was refused on what the client sent: counted against its address */
void conn_handshake_failed(struct conn *c);
/* c finished its TLS handshake */
void conn_handshake_done(struct conn *c);
/* Close c within seconds (0: at the next turn of the loop). */
void conn_close_soon(struct conn *c, int seconds);

/* device_api.c, admin_api.c: the evhttp handlers, arg is the worker */
void device_api_handle(struct evhttp_request *req, void *arg);
/*
 * module_api.c: the module protocol on the device listener. The handshake
 * of a module's key is done (c->psk still holds the key): commit a pending
 * key at its first use, catch a clone. A request on a module's connection:
 * 0 once answered.
 */
void module_api_handshake_done(struct conn *c);
int module_api_handle(struct evhttp_request *req, struct worker *w, struct conn *c);
void admin_api_handle(struct evhttp_request *req, void *arg);
void est_api_handle(struct evhttp_request *req, void *arg);
/* est_api.c: the EST listener's client certificate check (SSL_CTX_set_cert_verify_callback) */
int est_api_verify_peer(X509_STORE_CTX *xctx, void *arg);
/*
 * The device listener's (--device-cert-auth): certificates of ours only,
 * what needs no store (chain, validity, a UDID); on success c->est_peer is
 * EST_PEER_OURS with c->est_udid and c->est_serial.
 */
int est_api_verify_device_peer(X509_STORE_CTX *xctx, void *arg);
/*
 * c's certificate of ours, checked in the store with a request: on record
 * for c->est_udid, not revoked, not expired now. 0 and *rec; 403 with the
 * reason in why; 503 when the store cannot be read.
 */
int est_api_peer_check(struct worker *w, struct conn *c, struct store_cert *rec, char *why,
    size_t cap);
void est_api_worker_free(struct worker *w);

#endif
