/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EST (RFC 7030, RFC 8951) request parsing and response encoding: the
 * untrusted-bytes half of the EST endpoint, with no I/O and no store, so
 * that it is unit tested and fuzzed (tests/fuzz/fuzz_est_req.c). est_api.c
 * does the authorisation, signing and recording.
 *
 * Routes (under /.well-known/est/, no CA label: a label is 404):
 *   GET  cacerts          -> EST_CACERTS
 *   POST simpleenroll     -> EST_SIMPLEENROLL     body: base64 PKCS#10
 *   POST simplereenroll   -> EST_SIMPLEREENROLL   body: base64 PKCS#10
 *   GET  csrattrs         -> EST_CSRATTRS
 *   POST serverkeygen     -> EST_SERVERKEYGEN     body: base64 PKCS#10
 * and GET /crl -> EST_CRL. A query string is ignored. HEAD is not
 * accepted (405 like any other method a route does not take).
 */
#ifndef ZTP_EST_REQ_H
#define ZTP_EST_REQ_H
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#define EST_BODY_MAX 16384 /* base64 request body, bytes */
#define EST_CSR_MAX 8192   /* DER CSR, bytes (= SIGNER_CSR_MAX) */
#define EST_SPKI_MAX 2048  /* the CSR's DER SubjectPublicKeyInfo (= SIGNER_SPKI_MAX) */
#define EST_UDID_MAX 64
#define EST_USER_MAX 64
#define EST_PASS_MAX 128

enum est_op {
	EST_CACERTS,
	EST_SIMPLEENROLL,
	EST_SIMPLEREENROLL,
	EST_CSRATTRS,
	EST_SERVERKEYGEN,
	EST_CRL,
};

enum est_key_type { EST_KEY_EC_P256 = 1, EST_KEY_EC_P384, EST_KEY_RSA, EST_KEY_ED25519 };

/*
 * A subject CN or serialNumber is read if it is a PrintableString,
 * UTF8String or IA5String; a UDID is ASCII, so its bytes are its
 * characters. Note: a serialNumber with '_' cannot be a PrintableString
 * (X.520), and ztp's own device CSR (ztp/csr.h) never has '_'; one that
 * arrives as a UTF8String is accepted, as store_udid_valid() accepts '_'.
 */
struct est_csr {
	char cn[EST_UDID_MAX + 1];            /* subject commonName, "" if none */
	char serial_number[EST_UDID_MAX + 1]; /* subject serialNumber, "" if none */
	char udid[EST_UDID_MAX + 1];          /* the identity: CN, else serialNumber */
	uint8_t key_sha256[32];               /* SHA-256 of spki */
	/*
	 * The key's DER SubjectPublicKeyInfo, as the CSR carries it: what the
	 * signer certifies (SIGN_SPKI), checked by signer_spki_parse() here.
	 */
	uint8_t spki[EST_SPKI_MAX];
	size_t spki_len;
	enum est_key_type key_type;
	int key_bits; /* EVP_PKEY_get_bits: 256, 384, the RSA modulus; Ed25519: 256 */
	int has_challenge;
	/*
	 * challengePassword attribute, if any: a secret (the one-time
	 * enrolment password). One attribute with one value, a PrintableString,
	 * UTF8String or IA5String of 1..EST_PASS_MAX bytes without control
	 * characters (UTF-8 beyond ASCII is kept as it is). Note: the device
	 * side allows CSR_PASSWORD_MAX (255, ztp/csr.h); a password longer
	 * than EST_PASS_MAX is refused here.
	 */
	char challenge[EST_PASS_MAX + 1];
	const uint8_t *der;               /* the CSR's DER, in the caller's buffer */
	size_t der_len;
};

struct est_request {
	enum est_op op;
	int has_basic; /* an Authorization: Basic header was sent */
	char user[EST_USER_MAX + 1]; /* before the first ':'; may be "" */
	char pass[EST_PASS_MAX + 1]; /* a secret; may be "" */
	int has_csr; /* enrol operations: the body's CSR, parsed and verified */
	struct est_csr csr;
	uint8_t der[EST_CSR_MAX]; /* csr.der points here */
};

/*
 * Check and parse a request. method is "GET", "POST", ... (case matters,
 * RFC 7231); path the request target (a query is ignored); ctype the
 * Content-Type value (NULL if absent), authz the Authorization value
 * (NULL if absent), body[0..len) the body. Header names are matched by the
 * caller case-insensitively (libest capitalises them its own way); values
 * here are compared case-insensitively where RFC 7231 says so (media
 * types, "Basic").
 *
 * Returns 0 and fills *out, or an HTTP status with a one-line reason in
 * why (whycap bytes, printable ASCII, no secret in it):
 *   404 unknown path or a CA label; 405 wrong method;
 *   415 an enrol POST whose Content-Type is not application/pkcs10
 *       (parameters allowed);
 *   413 body over EST_BODY_MAX, or a decoded CSR over EST_CSR_MAX;
 *   400 empty body, not base64 (whitespace CR LF SP TAB between the
 *       characters is allowed, RFC 8951), not exactly one DER PKCS#10,
 *       CSR signature invalid, no identity (neither CN nor serialNumber),
 *       CN and serialNumber both present and different, an identity that
 *       is not a UDID (est_udid_valid), a key that is not EC P-256/P-384,
 *       RSA 2048..4096 or Ed25519, or whose SubjectPublicKeyInfo is not as
 *       signer_spki_parse() requires (strict DER, a named curve, no hybrid
 *       EC point); a malformed Authorization: Basic
 *       (bad base64, no ':', user or password too long or with control
 *       characters). Any other Authorization scheme is ignored
 *       (has_basic stays 0).
 * A GET with a body is accepted; the body is ignored.
 *
 * The checks run in this order, and the first failure is returned: path
 * (404), method (405), Authorization (400), then for an enrolment POST
 * Content-Type (415), body size (413), base64 (400), decoded size (413),
 * the CSR (400). "Basic" is followed by one or more SP, then base64 without
 * whitespace in it (at most that of EST_USER_MAX + 1 + EST_PASS_MAX bytes).
 * The Authorization header is read for every route (est_api.c decides
 * which needs it).
 *
 * On success why is "" (if whycap > 0). On failure *out is zeroed with
 * OPENSSL_cleanse (the password and challengePassword are secrets).
 * ZTP_EINVAL (negative, not an HTTP status) for a caller's bug: out,
 * method or path NULL, or body NULL with len > 0. Nothing is allocated
 * that outlives the call.
 */
int est_req_parse(const char *method, const char *path, const char *ctype, const char *authz,
    const uint8_t *body, size_t len, struct est_request *out, char *why, size_t whycap);

/*
 * Parse and verify a DER CSR (as above, without HTTP): 0, 400 with why, or
 * 413 if len > EST_CSR_MAX (as est_req_parse() answers for a decoded CSR
 * over the limit). der[0..len) must be exactly one PKCS#10 request (version
 * 1) in DER: no trailing bytes, no BER. On success out->der is der (the
 * caller's buffer); on failure *out is zeroed with OPENSSL_cleanse.
 * ZTP_EINVAL if out is NULL or der is NULL with len > 0.
 */
int est_csr_parse(const uint8_t *der, size_t len, struct est_csr *out, char *why,
    size_t whycap);

/*
 * The key serverkeygen makes for a CSR. RFC 7030 §4.4 lets the server
 * choose; ztpd makes the kind the client showed it can use, the CSR's own:
 * an RSA key of the CSR key's modulus size (an even number of bits from
 * 2048 to 4096), or an EC key on its curve (P-256, P-384). libest's
 * client, for one, refuses a key shorter than 256 bytes of DER, which a
 * P-256 key is.
 */
struct est_keygen {
	enum est_key_type type; /* EST_KEY_EC_P256, EST_KEY_EC_P384 or EST_KEY_RSA */
	int bits;               /* RSA: the modulus; EC: 256 or 384 */
};

#define EST_KEYGEN_RSA_MIN 2048
#define EST_KEYGEN_RSA_MAX 4096

/*
 * Choose the key to make for csr (as est_csr_parse() filled it): 0 and
 * *out, or 400 with a one-line reason in why (whycap bytes, no byte of the
 * request in it) for a key serverkeygen does not make: Ed25519, an RSA
 * size out of EST_KEYGEN_RSA_MIN..EST_KEYGEN_RSA_MAX or odd (OpenSSL
 * cannot make it), EC bits that are not the curve's, any other type. On failure *out is zeroed. ZTP_EINVAL if
 * csr or out is NULL. Pure: no I/O, no allocation.
 */
int est_keygen_choose(const struct est_csr *csr, struct est_keygen *out, char *why,
    size_t whycap);

/* 1 if s[0..len) is a UDID: 1..64 of A-Z a-z 0-9 - . : _ */
int est_udid_valid(const char *s, size_t len);

/*
 * Base64 with RFC 8951's tolerance (whitespace ignored, padding required,
 * no other character). Returns 0, ZTP_EMALFORMED or ZTP_ETOOBIG (out cap),
 * ZTP_EINVAL for NULL arguments. Reads only in[0..len) (no NUL needed);
 * nothing but whitespace decodes to 0 bytes. *outlen is 0 on failure.
 */
int est_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *outlen);
/*
 * Base64 in lines of 64 characters, each ending in LF (the last line may
 * be shorter); malloc'd, NUL-terminated, the caller frees it with free().
 * *outlen excludes the NUL; 0 bytes give "". 0, ZTP_EINVAL, ZTP_ENOMEM.
 */
int est_base64_encode(const uint8_t *in, size_t len, char **out, size_t *outlen);

/*
 * A certs-only PKCS#7 SignedData (RFC 7030 §4.1.3) of n certificates, DER,
 * malloc'd (the caller frees it with free()): version 1, no digest
 * algorithm, id-data without eContent, the certificates in the order
 * given, no CRL, no signer (what `openssl crl2pkcs7 -nocrl` writes).
 * 0; ZTP_EINVAL if n is 0 or a certificate NULL; ZTP_ECRYPTO; ZTP_ENOMEM.
 */
int est_pkcs7_certs(X509 *const *certs, size_t n, uint8_t **der, size_t *len);

/*
 * The same PKCS#7 as est_pkcs7_certs() for one certificate given as DER
 * cert[0..cert_len), built around those bytes without decoding them (the
 * signer made them; decoding a certificate costs OpenSSL 3 a key decoder).
 * cert must start as a SEQUENCE; it is not checked further. *der malloc'd,
 * the caller frees it with free(). 0, ZTP_EINVAL, ZTP_ENOMEM.
 */
int est_pkcs7_cert_der(const uint8_t *cert, size_t cert_len, uint8_t **der, size_t *len);

/*
 * The CSR attributes ztpd asks for (RFC 7030 §4.5.2), DER, malloc'd (the
 * caller frees it with free()): SEQUENCE { SEQUENCE { OID ecPublicKey,
 * SET { OID secp256r1 (prime256v1) } }, OID ecdsa-with-SHA256 }. 0,
 * ZTP_EINVAL, ZTP_ECRYPTO, ZTP_ENOMEM.
 */
int est_csrattrs(uint8_t **der, size_t *len);

#endif
