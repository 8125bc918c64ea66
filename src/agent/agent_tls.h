/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TLS client contexts ztp-agent hands to libmosquitto
 * (MOSQ_OPT_SSL_CTX, without its defaults): TLS 1.2 at least, the broker
 * verified against explicit trust anchors only (never the system's store)
 * and its certificate checked for the URL's host name or address, a
 * client certificate and key given as OpenSSL objects (so that the key
 * store's key handle serves as well as a key file).
 */
#ifndef ZTP_AGENT_TLS_H
#define ZTP_AGENT_TLS_H
#include <stddef.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

/*
 * A new context (the caller frees it with SSL_CTX_free()): trust from
 * ca_file (a PEM file) and/or ca (certificates, copied into the store),
 * host checked as an IP address (is_ip) or a DNS name, the client identity
 * cert + key (+ chain, may be NULL). NULL on failure, with why.
 */
SSL_CTX *agent_tls_ctx(const char *host, int is_ip, const char *ca_file, STACK_OF(X509) *ca,
    X509 *cert, STACK_OF(X509) *chain, EVP_PKEY *key, char *why, size_t whycap);

#endif
