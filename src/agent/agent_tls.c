/* SPDX-License-Identifier: Apache-2.0 */
/* TLS client contexts for the MQTT connections of ztp-agent (agent_tls.h). */
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "agent_tls.h"

/* why = what, and OpenSSL's first error if any; returns NULL */
static SSL_CTX *
failed(SSL_CTX *ctx, const char *what, char *why, size_t cap)
{
	unsigned long e = ERR_peek_error();
	char ebuf[160] = "";

	if (e != 0)
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
	snprintf(why, cap, "%s%s%s", what, ebuf[0] != '\0' ? ": " : "", ebuf);
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
agent_tls_ctx(const char *host, int is_ip, const char *ca_file, STACK_OF(X509) *ca,
    X509 *cert, STACK_OF(X509) *chain, EVP_PKEY *key, char *why, size_t whycap)
{
	SSL_CTX *ctx;
	X509_STORE *st;
	X509_VERIFY_PARAM *vp;
	int i;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return failed(NULL, "TLS context", why, whycap);
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		return failed(ctx, "TLS version", why, whycap);
	st = SSL_CTX_get_cert_store(ctx);
	if (ca_file != NULL && SSL_CTX_load_verify_file(ctx, ca_file) != 1)
		return failed(ctx, "the CA file cannot be read as PEM certificates", why, whycap);
	for (i = 0; ca != NULL && i < sk_X509_num(ca); i++)
		if (X509_STORE_add_cert(st, sk_X509_value(ca, i)) != 1)
			return failed(ctx, "the CA certificates", why, whycap);
	if (ca_file == NULL && (ca == NULL || sk_X509_num(ca) == 0))
		return failed(ctx, "no CA certificate to verify the broker with", why, whycap);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	vp = SSL_CTX_get0_param(ctx);
	if ((is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, host) :
	    X509_VERIFY_PARAM_set1_host(vp, host, 0)) != 1)
		return failed(ctx, "the broker's host name", why, whycap);
	if (cert != NULL) {
		if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1)
			return failed(ctx, "the client certificate and its key", why, whycap);
		for (i = 0; chain != NULL && i < sk_X509_num(chain); i++)
			if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(chain, i)) != 1)
				return failed(ctx, "the client certificate's chain", why, whycap);
	}
	return ctx;
}
