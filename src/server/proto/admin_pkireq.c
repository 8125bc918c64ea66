/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A foreign PKI's creation body and a CRL's URL (admin_pkireq.h): pure, no
 * I/O; the bytes are an API client's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "admin_pkireq.h"
#include "admin_req.h"
#include "jsonreq.h"
#include "ztp/err.h"

int
admin_pkireq_url_check(const char *url, char *why, size_t cap)
{
	struct evhttp_uri *uri = NULL;
	const char *scheme, *host, *auth;
	size_t i, n = url != NULL ? strlen(url) : 0, alen;
	int rc = ZTP_EMALFORMED, port;

	if (n == 0 || n > STORE_PKI_URL_MAX)
		return ztp_errf(why, cap, rc, "\"crl_url\" must be 1 to %d characters",
		    STORE_PKI_URL_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return ztp_errf(why, cap, rc, "\"crl_url\" must be printable ASCII without "
			    "spaces (percent-encode the rest)");
	/* libevent's strict parser: the characters RFC 3986 allows where they are */
	if ((uri = evhttp_uri_parse_with_flags(url, 0)) == NULL) {
		ztp_errf(why, cap, rc, "\"crl_url\" is not a URL");
		goto out;
	}
	scheme = evhttp_uri_get_scheme(uri);
	if (scheme == NULL || (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
		ztp_errf(why, cap, rc, "\"crl_url\" must start with http:// or https://");
		goto out;
	}
	if (evhttp_uri_get_userinfo(uri) != NULL) {
		ztp_errf(why, cap, rc, "\"crl_url\" takes no user information: no credentials in a "
		    "URL that is stored and shown");
		goto out;
	}
	if (evhttp_uri_get_fragment(uri) != NULL) {
		ztp_errf(why, cap, rc, "\"crl_url\" takes no fragment (#...)");
		goto out;
	}
	host = evhttp_uri_get_host(uri);
	if (host == NULL || host[0] == '\0' || strcmp(host, "[]") == 0) {
		ztp_errf(why, cap, rc, "\"crl_url\" has no host");
		goto out;
	}
	/* "host:" with no port: libevent takes it as no port at all */
	auth = strstr(url, "://") + 3;
	alen = strcspn(auth, "/?");
	if (alen > 0 && auth[alen - 1] == ':') {
		ztp_errf(why, cap, rc, "\"crl_url\" has an empty port");
		goto out;
	}
	port = evhttp_uri_get_port(uri);
	if (port == 0 || port > 65535) {
		ztp_errf(why, cap, rc, "the port of \"crl_url\" must be from 1 to 65535");
		goto out;
	}
	rc = 0;
out:
	if (uri != NULL)
		evhttp_uri_free(uri);
	return rc;
}

/* The CA of "ca" as DER into der (STORE_PKI_CA_MAX bytes), *len. */
static int
get_ca(json_t *obj, uint8_t *der, size_t *len, char *why, size_t cap)
{
	unsigned char *p = NULL;
	const char *pem;
	size_t plen;
	X509 *x = NULL;
	int rc, n;

	if ((rc = jsonreq_string(obj, "ca", &pem, &plen, why, cap)) != 0)
		return rc;
	if ((rc = adminreq_ca_cert(pem, plen, "\"ca\"", &x, why, cap)) != 0)
		return rc;
	/* a PKI's CA signs its CRL itself (no indirect CRLs): it must be allowed to */
	if ((X509_get_extension_flags(x) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(x) & KU_CRL_SIGN)) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"ca\": the CA's keyUsage does not allow "
		    "cRLSign: it cannot sign the CRL");
		goto out;
	}
	if ((n = i2d_X509(x, &p)) <= 0) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"ca\": the certificate cannot be encoded");
		goto out;
	}
	if ((size_t)n > STORE_PKI_CA_MAX) {
		rc = ztp_errf(why, cap, ZTP_ETOOBIG, "\"ca\": the certificate is over %d bytes of DER",
		    STORE_PKI_CA_MAX);
		goto out;
	}
	memcpy(der, p, (size_t)n);
	*len = (size_t)n;
out:
	OPENSSL_free(p);
	X509_free(x);
	ERR_clear_error();
	return rc;
}

int
admin_pkireq_create(const uint8_t *buf, size_t len, struct store_pki *out, char *why,
    size_t cap)
{
	static const char *const req[] = { "name", "ca", "crl_url", NULL };
	static const char *const opt[] = { "interval_s", NULL };
	struct store_pki *p = NULL;
	const char *s;
	size_t n;
	json_t *obj, *v;
	int rc;

	if ((rc = jsonreq_load(buf, len, ADMIN_PKIREQ_BODY_MAX, req, opt, &obj, why, cap)) != 0)
		return rc;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		rc = ztp_errf(why, cap, ZTP_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = jsonreq_string(obj, "name", &s, &n, why, cap)) != 0)
		goto out;
	if (!store_pki_name_valid(s)) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED,
		    "\"name\" must be 1 to %d characters of A-Z a-z 0-9 _ . -", STORE_PKI_NAME_MAX);
		goto out;
	}
	memcpy(p->name, s, n + 1);
	if ((rc = jsonreq_string(obj, "crl_url", &s, &n, why, cap)) != 0 ||
	    (rc = admin_pkireq_url_check(s, why, cap)) != 0)
		goto out;
	memcpy(p->crl_url, s, n + 1);
	p->interval_s = STORE_PKI_INTERVAL_DEFAULT;
	if ((v = json_object_get(obj, "interval_s")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < STORE_PKI_INTERVAL_MIN ||
		    json_integer_value(v) > STORE_PKI_INTERVAL_MAX) {
			rc = ztp_errf(why, cap, ZTP_EMALFORMED, "\"interval_s\" must be seconds from "
			    "%d to %d", STORE_PKI_INTERVAL_MIN, STORE_PKI_INTERVAL_MAX);
			goto out;
		}
		p->interval_s = json_integer_value(v);
	}
	if ((rc = get_ca(obj, p->ca, &p->ca_len, why, cap)) != 0)
		goto out;
	memcpy(out, p, sizeof(*p));
out:
	free(p);
	json_decref(obj);
	return rc;
}
