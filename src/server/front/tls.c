/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS for ztpd's listeners.
 *
 * Device endpoint: TLS 1.3 only, external PSKs looked up in the worker's
 * store by the identity of spec safe2.md section 5, TLS_AES_128_CCM_SHA256
 * and TLS_AES_128_GCM_SHA256, psk_dhe_ke always and psk_ke when the
 * server or the SIM's group allows it, keys derived for SIMs of derived
 * groups, no certificate, no session tickets. Refused handshakes become
 * events; an identity nobody knows gets unknown_psk_identity. With
 * --device-cert-auth a client that offers no PSK gets the server
 * certificate and must show one of ours (est_api_verify_device_peer); a
 * PSK handshake stays as it was (TLS 1.3 asks no certificate of a PSK
 * client).
 *
 * Admin endpoint: TLS 1.2+ with the server certificate and the CA chain.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "coro.h"
#include "events.h"
#include "fault.h"
#include "hex.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "tlsbev.h"
#include "tlsext.h"
#include "ztp/err.h"

static int conn_idx = -1;

/* Called by SSL_free: the connection ends with its SSL object. */
void conn_free(struct conn *c);

static void
conn_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	if (ptr != NULL)
		conn_free(ptr);
}

int
tls_init(void)
{
	conn_idx = SSL_get_ex_new_index(0, "ztp conn", NULL, NULL, conn_ex_free);
	return conn_idx < 0 ? ZTP_ECRYPTO : 0;
}

struct conn *
tls_conn(SSL *ssl)
{
	return ssl ? SSL_get_ex_data(ssl, conn_idx) : NULL;
}

int
tls_set_conn(SSL *ssl, struct conn *c)
{
	return SSL_set_ex_data(ssl, conn_idx, c) == 1 ? 0 : ZTP_ECRYPTO;
}

struct conn *
conn_of(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;

	struct conn *c;

	if (evcon == NULL || (bev = evhttp_connection_get_bufferevent(evcon)) == NULL)
		return NULL;
	if ((c = tls_conn(tlsbev_ssl(bev))) != NULL && c->peer[0] == '\0')
		conn_peer(bufferevent_getfd(bev), c->peer, sizeof(c->peer));
	return c;
}

void
conn_peer(int fd, char *out, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[INET6_ADDRSTRLEN];

	out[0] = '\0';
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(out, cap, "%s:%u", addr, ntohs(sin->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(out, cap, "[%s]:%u", addr, ntohs(sin6->sin6_port));
	}
}

/* The peer of c, looked up once the socket is known. */
static const char *
peer_of(struct conn *c, SSL *ssl)
{
	if (c->peer[0] == '\0')
		conn_peer(SSL_get_fd(ssl), c->peer, sizeof(c->peer));
	return c->peer;
}

/* 1 if iccid may use a key derived from its group's master key. */
static int
derivable(struct store *st, const char *iccid)
{
	struct store_sim sim;
	int rc = store_sim_get(st, iccid, &sim);

	return rc == ZTP_ENOENT || (rc == 0 && sim.derived && sim.psk_generation == 0);
}

/*
 * Resolve one offered identity to its key: a stored PSK of that generation,
 * or, for generation 0, one derived from the master key of the derived
 * group whose prefix the ICCID has: HMAC-SHA256(master, identity as sent).
 * On success the key and what it belongs to are kept in c.
 */
static int
resolve_identity(struct conn *c, const uint8_t *identity, size_t len,
    const struct iccid_identity *id)
{
	struct store *st = c->w->store;
	uint8_t master[STORE_MASTER_LEN];
	int rc;

	c->derived = 0;
	c->pending = 0;
	c->group[0] = '\0';
	rc = store_sim_psk(st, id->iccid, id->generation, c->psk, &c->psk_len);
	if (rc == ZTP_ENOENT && id->generation > 0) {
		rc = store_sim_pending_psk(st, id->iccid, id->generation, c->psk, &c->psk_len);
		if (rc == 0)
			c->pending = 1;
		/*
		 * Two reads, two snapshots: a connection with the same new key
		 * (another worker's, another ztpd's on the same database) may
		 * have committed it between them, from pending to current. A
		 * key only moves that way, so a third read finds it current.
		 */
		else if (rc == ZTP_ENOENT)
			rc = store_sim_psk(st, id->iccid, id->generation, c->psk, &c->psk_len);
	}
	/*
	 * Derivation only for a SIM that has no key of its own: not registered
	 * yet, or registered as derived and never rotated. After a rotation the
	 * derived key is an old key like any other.
	 */
	if (rc == ZTP_ENOENT && id->generation == 0 && derivable(st, id->iccid) &&
	    store_group_derived_for(st, id->iccid, c->group, master) == 0) {
		rc = crypto_hmac_sha256(master, sizeof(master), identity, len, c->psk);
		OPENSSL_cleanse(master, sizeof(master));
		if (rc != 0)
			return rc;
		c->psk_len = 32;
		c->derived = 1;
	}
	if (rc != 0)
		return rc;
	memcpy(c->ident, identity, len);
	c->ident_len = len;
	c->id = *id;
	c->have_id = 1;
	return 0;
}

/*
 * Resolve a module's identity (docs/protocol/security-service.md section
 * 2) to the key the store keeps for that RoT and epoch, whatever it is to
 * the server (factory, current, pending or retired: module_api.c decides
 * once the handshake proved the peer holds it).
 */
static int
resolve_module(struct conn *c, const uint8_t *identity, size_t len, uint32_t epoch)
{
	enum store_modkey_kind kind;
	char uid[MODMSG_UID_HEX + 1];
	int rc;

	memcpy(uid, identity + 1, MODMSG_UID_HEX);
	uid[MODMSG_UID_HEX] = '\0';
	if ((rc = store_module_key(c->w->store, uid, epoch, c->psk, &kind)) != 0)
		return rc;
	c->psk_len = MODMSG_KEY_LEN;
	c->mod = 1;
	c->pending = 0;
	c->derived = 0;
	memcpy(c->mod_uid, uid, sizeof(uid));
	c->mod_epoch = epoch;
	c->mod_kind = (int)kind;
	memcpy(c->ident, identity, len);
	c->ident_len = len;
	return 0;
}

/* psk_ke for this SIM: the server's option, or its group's policy. */
static int
allow_psk_ke(struct conn *c)
{
	struct store_group g;
	struct store_sim sim;

	if (c->w->srv->cfg->allow_psk_ke)
		return 1;
	if (c->group[0] == '\0' && store_sim_get(c->w->store, c->id.iccid, &sim) == 0)
		snprintf(c->group, sizeof(c->group), "%s", sim.group);
	return c->group[0] != '\0' && store_group_get(c->w->store, c->group, &g) == 0 &&
	    g.allow_psk_ke;
}

/*
 * What the ClientHello offers, looked up: the key of the first offered
 * identity we know goes into c, with the key exchange policy of that
 * SIM's group (psk_ke or not); none known is unknown_psk_identity, and an
 * unknown or malformed identity is an event. The answer stays in c for
 * hello_cb (c->hello_rc, c->hello_al).
 */
static void
hello_resolve(struct conn *c, SSL *ssl, const unsigned char *ext, size_t extlen)
{
	struct tlsext_psk_identity ids[TLSEXT_PSK_IDENTITIES_MAX];
	struct iccid_identity id;
	uint8_t uid[MODMSG_UID_LEN];
	uint32_t epoch = 0, mod_epoch = 0;
	char shown[80];
	int n, i, first_bad = -1, mod_unknown = -1, rc;

	c->hello_rc = SSL_CLIENT_HELLO_ERROR;
	n = tlsext_psk_identities(ext, extlen, ids, TLSEXT_PSK_IDENTITIES_MAX);
	if (n < 0) {
		c->hello_al = SSL_AD_DECODE_ERROR;
		return;
	}
	for (i = 0; i < n; i++) {
		rc = modmsg_identity_parse(ids[i].id, ids[i].len, uid, &epoch);
		if (rc == 0) {
			if ((rc = resolve_module(c, ids[i].id, ids[i].len, epoch)) == 0)
				break;
			if (rc != ZTP_ENOENT) {
				c->hello_al = SSL_AD_INTERNAL_ERROR;
				return;
			}
			if (mod_unknown < 0) {
				mod_unknown = i;
				mod_epoch = epoch;
			}
			continue;
		}
		if (iccid_parse_identity(ids[i].id, ids[i].len, &id) != 0) {
			if (first_bad < 0)
				first_bad = i;
			continue;
		}
		rc = resolve_identity(c, ids[i].id, ids[i].len, &id);
		if (rc == 0)
			break;
		if (rc != ZTP_ENOENT) {
			c->hello_al = SSL_AD_INTERNAL_ERROR;
			return;
		}
		if (first_bad < 0)
			first_bad = i;
	}
	if (i == n && mod_unknown >= 0) {
		/* anyone can send any identity: an event, nothing more (no quarantine) */
		char hexuid[MODMSG_UID_HEX + 1];

		memcpy(hexuid, ids[mod_unknown].id + 1, MODMSG_UID_HEX);
		hexuid[MODMSG_UID_HEX] = '\0';
		c->event_recorded = 1;
		events_note_dev(c->w, EV_MODULE_UNKNOWN_KEY, NULL, hexuid, peer_of(c, ssl),
		    "no key of epoch %u kept for this RoT (or no such RoT)", mod_epoch);
		c->hello_al = SSL_AD_UNKNOWN_PSK_IDENTITY;
		return;
	}
	if (i == n) {
		c->event_recorded = 1;
		if (first_bad >= 0 && iccid_parse_identity(ids[first_bad].id, ids[first_bad].len,
					  &id) == 0) {
			struct store_sim sim;
			if (store_sim_get(c->w->store, id.iccid, &sim) == 0 &&
			    sim.psk_generation > id.generation)
				events_note(c->w, EV_STALE_KEY, id.iccid, peer_of(c, ssl),
				    "key generation %u was replaced by %u: a clone or a replay",
				    id.generation, sim.psk_generation);
			else if (id.has_generation)
				events_note(c->w, EV_UNKNOWN_IDENTITY, id.iccid,
				    peer_of(c, ssl), "no SIM with this ICCID and key generation %u",
				    id.generation);
			else
				events_note(c->w, EV_UNKNOWN_IDENTITY, id.iccid,
				    peer_of(c, ssl), "no SIM with this ICCID");
		} else {
			size_t len = ids[0].len;
			hex_encode(ids[0].id, len > 32 ? 32 : len, shown, sizeof(shown));
			events_note(c->w, EV_UNKNOWN_IDENTITY, NULL, peer_of(c, ssl),
			    "malformed PSK identity (%zu bytes: %s%s)", len, shown,
			    len > 32 ? "..." : "");
		}
		c->hello_al = SSL_AD_UNKNOWN_PSK_IDENTITY;
		return;
	}
	/* a module: (EC)DHE always, its next key comes from this session */
	c->hello_psk_ke = c->mod ? 0 : allow_psk_ke(c);
	c->hello_rc = SSL_CLIENT_HELLO_SUCCESS;
}

/* The lookup of a parked handshake, in a coroutine (coro.c). */
struct hello_job {
	struct conn *c;
	size_t extlen;
	unsigned char ext[];
};

static void
hello_job(void *arg)
{
	struct hello_job *j = arg;
	struct conn *c = j->c;

	hello_resolve(c, c->ssl, j->ext, j->extlen);
	c->hello = HELLO_ANSWERED;
	free(j);
	tlsbev_resume(c->ssl); /* if it was parked: it was not when the answer came at once */
}

/*
 * The ClientHello callback runs before OpenSSL parses the extensions. The
 * lookup waits on the database when the store is PostgreSQL: the
 * handshake is parked (SSL_CLIENT_HELLO_RETRY), the lookup runs in a
 * coroutine, and this callback is called again once it answered.
 */
static int
hello_cb(SSL *ssl, int *al, void *arg)
{
	struct conn *c = tls_conn(ssl);
	const unsigned char *ext;
	struct hello_job *j;
	size_t extlen;

	if (c == NULL || c->kind != LISTENER_DEVICE)
		return SSL_CLIENT_HELLO_SUCCESS;
	if (c->hello == HELLO_WAITING)
		return SSL_CLIENT_HELLO_RETRY;
	if (c->hello == HELLO_NONE) {
		/*
		 * no PSK offered: the handshake fails by itself, or, with
		 * --device-cert-auth, needs a client certificate of ours
		 */
		if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_psk, &ext, &extlen))
			return SSL_CLIENT_HELLO_SUCCESS;
		if (!coro_enabled(c->w)) {
			hello_resolve(c, ssl, ext, extlen);
			c->hello = HELLO_ANSWERED;
		} else {
			if ((j = malloc(sizeof(*j) + extlen)) == NULL) {
				*al = SSL_AD_INTERNAL_ERROR;
				return SSL_CLIENT_HELLO_ERROR;
			}
			j->c = c;
			j->extlen = extlen;
			memcpy(j->ext, ext, extlen);
			c->hello = HELLO_WAITING;
			coro_run(c->w, hello_job, j, c->bev);
			if (c->hello == HELLO_WAITING)
				return SSL_CLIENT_HELLO_RETRY;
		}
	}
	if (c->hello_rc != SSL_CLIENT_HELLO_SUCCESS) {
		*al = c->hello_al;
		return SSL_CLIENT_HELLO_ERROR;
	}
	if (c->hello_psk_ke)
		SSL_set_options(ssl, SSL_OP_ALLOW_NO_DHE_KEX);
	return SSL_CLIENT_HELLO_SUCCESS;
}

/*
 * The external PSK callback: hand OpenSSL a session holding the key the
 * ClientHello callback resolved, for that identity only.
 */
static int
psk_find(SSL *ssl, const unsigned char *identity, size_t len, SSL_SESSION **sess)
{
	static const unsigned char gcm_sha256[] = { 0x13, 0x01 };
	struct conn *c = tls_conn(ssl);
	SSL_SESSION *s = NULL;
	const SSL_CIPHER *cipher;

	*sess = NULL;
	if (c == NULL || !(c->have_id || c->mod) || len != c->ident_len ||
	    memcmp(identity, c->ident, len) != 0)
		return 1;
	cipher = SSL_CIPHER_find(ssl, gcm_sha256);
	if ((s = crypto_psk_session(cipher, c->psk, c->psk_len)) == NULL)
		return 0;
	*sess = s;
	return 1;
}

/*
 * The handshake with the pending key of a rotation succeeded: it becomes
 * the SIM's key, the old one is refused from now on.
 */
static void
commit_pending(struct conn *c, SSL *ssl)
{
	fault_point("server_before_commit");
	if (store_sim_commit(c->w->store, c->id.iccid, c->id.generation) == 0)
		events_record(c->w->store, EV_PSK_ROTATED, c->id.iccid, peer_of(c, ssl),
		    "key generation %u committed: the SIM used it", c->id.generation);
	fault_point("server_after_commit");
}

/* A SIM of a derived group is registered on its first successful handshake. */
static void
register_derived(struct conn *c, SSL *ssl)
{
	struct store_sim sim;

	if (!c->derived || store_sim_get(c->w->store, c->id.iccid, &sim) != ZTP_ENOENT)
		return;
	if (store_sim_register_derived(c->w->store, c->id.iccid, c->group) == 0)
		events_record(c->w->store, EV_SIM_REGISTERED, c->id.iccid, peer_of(c, ssl),
		    "registered in derived group %s on its first handshake", c->group);
}

/* Fatal alerts we send are refused handshakes: one event each. */
static void
info_cb(const SSL *cssl, int where, int ret)
{
	SSL *ssl = (SSL *)cssl;
	struct conn *c;

	if ((where & SSL_CB_HANDSHAKE_DONE) && (c = tls_conn(ssl)) != NULL) {
		if (c->handshake_done)
			return;
		c->handshake_done = 1;
		peer_of(c, ssl);
		conn_handshake_done(c);
		if (c->kind == LISTENER_DEVICE && c->mod)
			module_api_handshake_done(c);
		OPENSSL_cleanse(c->psk, sizeof(c->psk));
		if (c->kind == LISTENER_DEVICE && c->pending)
			commit_pending(c, ssl);
		if (c->kind == LISTENER_DEVICE)
			register_derived(c, ssl);
		return;
	}
	/* the client's close_notify: its request, if one came with it, is answered first */
	if ((where & SSL_CB_READ_ALERT) && (ret & 0xff) == SSL_AD_CLOSE_NOTIFY &&
	    (c = tls_conn(ssl)) != NULL) {
		guard_peer_closed(c);
		return;
	}
	if (!(where & SSL_CB_WRITE_ALERT) || (ret >> 8) != SSL3_AL_FATAL)
		return;
	if ((c = tls_conn(ssl)) == NULL)
		return;
	if (!c->handshake_done && SSL_get_rbio(ssl) != NULL &&
	    BIO_number_read(SSL_get_rbio(ssl)) > 0)
		conn_handshake_failed(c);
	if (c->event_recorded)
		return;
	c->event_recorded = 1;
	/*
	 * A refused handshake is one that failed on bytes the client sent:
	 * not a connection that closed before sending any, nor one that ends
	 * after its answer.
	 */
	if (c->handshake_done || SSL_get_rbio(ssl) == NULL ||
	    BIO_number_read(SSL_get_rbio(ssl)) == 0)
		return;
	if (c->kind == LISTENER_DEVICE)
		events_note(c->w, EV_HANDSHAKE_REFUSED, c->have_id ? c->id.iccid : NULL,
		    peer_of(c, ssl), "TLS alert %s sent%s", SSL_alert_desc_string_long(ret),
		    (ret & 0xff) == SSL_AD_DECRYPT_ERROR ? " (wrong PSK?)" : "");
	else
		log_info("%s handshake refused from %s: %s",
		    c->kind == LISTENER_EST ? "EST" : "admin", peer_of(c, ssl),
		    SSL_alert_desc_string_long(ret));
}

/*
 * --device-cert-auth: the device listener also shows the server
 * certificate (with our CA chain) to a client that offers no PSK, and
 * requires a client certificate of it, checked by
 * est_api_verify_device_peer. A PSK handshake is not changed: in TLS 1.3
 * a server that accepted a PSK sends neither a certificate nor a
 * certificate request (RFC 8446 section 4.3.2), and OpenSSL follows it.
 * No resumption: every connection shows its certificate again.
 */
static int
device_cert_auth(SSL_CTX *ctx, struct server *srv)
{
	static const unsigned char sid_ctx[] = "ztp-device";
	int i;

	if (SSL_CTX_use_certificate(ctx, srv->dd->server_cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, srv->dd->server_key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1 ||
	    !SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) ||
	    SSL_CTX_add_client_CA(ctx, srv->dd->ca_cert) != 1)
		return ZTP_ECRYPTO;
	for (i = 0; i < sk_X509_num(srv->dd->ca_chain); i++)
		if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(srv->dd->ca_chain, i)) != 1)
			return ZTP_ECRYPTO;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, est_api_verify_device_peer, srv);
	return 0;
}

SSL_CTX *
tls_device_ctx(struct server *srv)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256")) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* psk_ke per SIM group (or for all with --allow-psk-ke): see hello_cb */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_client_hello_cb(ctx, hello_cb, NULL);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/*
	 * (EC)DHE only on elliptic curves: a client that wants psk_ke but must
	 * send some key share (OpenSSL 3.0 clients always do) can offer an
	 * ffdhe group and get psk_ke where the policy allows it.
	 */
	if (!SSL_CTX_set1_groups_list(ctx, "x25519:secp256r1:x448:secp384r1:secp521r1")) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_psk_find_session_callback(ctx, psk_find);
	SSL_CTX_set_info_callback(ctx, info_cb);
	if (srv->cfg->device_cert_auth && device_cert_auth(ctx, srv) != 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL_CTX *
tls_admin_ctx(struct server *srv)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate(ctx, srv->dd->server_cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, srv->dd->server_key) != 1 ||
	    SSL_CTX_add1_chain_cert(ctx, srv->dd->ca_cert) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_info_callback(ctx, info_cb);
	return ctx;
}

SSL_CTX *
tls_est_ctx(struct server *srv)
{
	static const unsigned char sid_ctx[] = "ztp-est";
	SSL_CTX *ctx;
	int i;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate(ctx, srv->dd->server_cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, srv->dd->server_key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1 ||
	    !SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	for (i = 0; i < sk_X509_num(srv->dd->ca_chain); i++)
		if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(srv->dd->ca_chain, i)) != 1) {
			SSL_CTX_free(ctx);
			return NULL;
		}
	/*
	 * A client certificate is asked for, not required: est_api_verify_peer
	 * checks it against our CA (with the store's revocations and the
	 * re-enrolment grace) or the manufacturer CAs, and fails the handshake
	 * for one it refuses. No resumption: every connection shows its
	 * certificate again.
	 */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, est_api_verify_peer, srv);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_info_callback(ctx, info_cb);
	return ctx;
}
