/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON request body of a foreign PKI's creation (POST /v1/pkis,
 * docs/pki-crl.md) and the check of a CRL's URL. As admin_req.h's: the raw
 * bytes, a JSON object with exactly the documented members (no duplicates,
 * no others), values checked; on failure a negative ZTP_E code and a
 * reason in why (cap bytes), and the output is only written on success.
 * Pure, no I/O.
 */
#ifndef ZTP_ADMIN_PKIREQ_H
#define ZTP_ADMIN_PKIREQ_H
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define ADMIN_PKIREQ_BODY_MAX 65536

/*
 * A CRL's URL: http:// or https://, a host, an optional port (1..65535),
 * an optional path and query; printable ASCII without spaces, at most
 * STORE_PKI_URL_MAX bytes, no user information (no credentials in a URL
 * that is stored and shown), no fragment. 0, or ZTP_EMALFORMED.
 */
int admin_pkireq_url_check(const char *url, char *why, size_t cap);

/*
 * {"name", "ca" (PEM: exactly one CA certificate, allowed to sign CRLs),
 * "crl_url", "interval_s"? (STORE_PKI_INTERVAL_MIN..STORE_PKI_INTERVAL_MAX
 * seconds, default STORE_PKI_INTERVAL_DEFAULT)}. out gets name, the CA's
 * DER (ca, ca_len: at most STORE_PKI_CA_MAX), crl_url and interval_s; its
 * other members are zeroed. out is large: allocate it.
 */
int admin_pkireq_create(const uint8_t *buf, size_t len, struct store_pki *out, char *why,
    size_t cap);

#endif
