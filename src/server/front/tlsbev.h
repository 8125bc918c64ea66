/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server side of TLS on a bufferevent, with a handshake that can wait
 * (tlsbev.c).
 */
#ifndef ZTP_TLSBEV_H
#define ZTP_TLSBEV_H
#include <openssl/ssl.h>

struct bufferevent;
struct event_base;

/* Once per process, after RLIMIT_NOFILE is final. 0 or ZTP_ENOMEM. */
int tlsbev_init(void);

/*
 * A bufferevent for an accepted connection whose socket is given later
 * (bufferevent_setfd, as evhttp does), that accepts the TLS handshake of
 * ssl and then carries the plaintext. Freeing it frees ssl and closes the
 * socket once what was written is sent (at most a few seconds later).
 * NULL when out of memory (ssl is then the caller's to free).
 */
struct bufferevent *tlsbev_new(struct event_base *base, SSL *ssl);

/* The SSL of a bufferevent made by tlsbev_new, else NULL. */
SSL *tlsbev_ssl(struct bufferevent *bev);

/*
 * A callback of ssl's handshake asked it to wait (a ClientHello callback
 * answered SSL_CLIENT_HELLO_RETRY, a certificate check SSL_set_retry_verify):
 * go on with the handshake, at the next turn of the loop. The callback is
 * called again and must then answer.
 */
void tlsbev_resume(SSL *ssl);

#endif
