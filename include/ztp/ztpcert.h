/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ZTP certificate bundles (docs/protocol/security-service.md section 12):
 * what a module receives once ztp-cert is on, its private key, its device
 * certificate and the CA's certificate, in one bounded message both sides
 * link (ztpd encodes it, the module parses it). Portable: no allocation, no
 * I/O, libc only; the bytes are untrusted.
 *
 *   bundle = version:u8 (1) part part part
 *   part   = tag:u8 len:u16 (big-endian) value[len]
 *
 * The three parts come once each, in this order: 1 the private key
 * (PKCS#8 PrivateKeyInfo DER, 1..ZTP_CERT_KEY_MAX bytes), 2 the device
 * certificate (X.509 DER, 1..ZTP_CERT_CERT_MAX), 3 the CA certificate
 * (X.509 DER, 1..ZTP_CERT_CERT_MAX); nothing after them. Each value is one
 * DER SEQUENCE (tag 0x30, a definite length in its shortest form) that
 * spans it exactly: the parser checks that much of the DER, not what is
 * inside (the module's TLS library does, when it uses them).
 */
#ifndef ZTP_ZTPCERT_H
#define ZTP_ZTPCERT_H
#include <stddef.h>
#include <stdint.h>

#define ZTP_CERT_VERSION 1
#define ZTP_CERT_KEY_MAX 256   /* an EC P-256 key in PKCS#8 is 138 bytes */
#define ZTP_CERT_CERT_MAX 2048 /* a certificate a module keeps */
#define ZTP_CERT_BUNDLE_MAX (1 + 3 * 3 + ZTP_CERT_KEY_MAX + 2 * ZTP_CERT_CERT_MAX)
/*
 * The confirmation, POST /m/z: one item (section 3) of tag
 * ZTP_CERT_ITEM_CONFIRM whose value is the SHA-256 of the device
 * certificate; a tag the common items do not use, so that the body is
 * items like every other.
 */
#define ZTP_CERT_ITEM_CONFIRM 0x40
#define ZTP_CERT_CONFIRM_LEN 32
#define ZTP_CERT_CONFIRM_BODY (2 + ZTP_CERT_CONFIRM_LEN)
/* the server's status bit (MODMSG_STATUS): a bundle waits at GET /m/z */
#define ZTP_CERT_STATUS_WAITING 0x02u

enum ztp_cert_part { ZTP_CERT_KEY = 1, ZTP_CERT_DEVICE = 2, ZTP_CERT_CA = 3 };

/* A parsed bundle: part[i], len[i] for i = ZTP_CERT_KEY..ZTP_CERT_CA, into the buffer. */
struct ztp_cert_bundle {
	const uint8_t *part[4];
	size_t len[4];
};

/*
 * Parse buf[0..len) as one bundle into *out (pointers into buf). Returns
 * 0, ZTP_ETOOBIG (over ZTP_CERT_BUNDLE_MAX) or ZTP_EMALFORMED (another
 * version, a part out of order, missing or twice, a length past the end or
 * over its maximum, a value that is not one DER SEQUENCE spanning it,
 * bytes after the last part). *out is written only on success.
 */
int ztp_cert_parse(const uint8_t *buf, size_t len, struct ztp_cert_bundle *out);

/*
 * Encode key, cert and ca (each must be as the parser wants it) into buf
 * (cap bytes): 0 with *outlen, ZTP_EMALFORMED or ZTP_ERANGE for a part
 * that is not, ZTP_ETOOBIG if cap is short. The output is parsed again
 * before it is accepted.
 */
int ztp_cert_encode(const uint8_t *key, size_t key_len, const uint8_t *cert, size_t cert_len,
    const uint8_t *ca, size_t ca_len, uint8_t *buf, size_t cap, size_t *outlen);

#endif
