/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EST request parsing and response encoding (est_req.h).
 *
 * Everything here reads bytes a client sent before it is authenticated, so
 * each length is checked against its EST_..._MAX before anything is decoded,
 * and the decoding itself is left to OpenSSL: base64 (b64.c: EVP_DecodeBlock,
 * after the checks RFC 8951 asks for that OpenSSL does not make), the CSR
 * (d2i_X509_REQ, X509_REQ_verify), the key (EVP_PKEY_get_*), the responses
 * (PKCS7, ASN1_TYPE). The reasons written to `why` are fixed texts and
 * numbers: never a byte of the body or of a header, so never a password.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "b64.h"
#include "crypto.h"
#include "est_req.h"
#include "signer_msg.h"
#include "udid.h"
#include "ztp/err.h"

#define EST_PREFIX "/.well-known/est/"
#define EST_MEDIA_PKCS10 "application/pkcs10"

/* Authorization: Basic: the longest "user:pass" and its base64 */
#define BASIC_RAW_MAX (EST_USER_MAX + 1 + EST_PASS_MAX)
#define BASIC_B64_MAX ((BASIC_RAW_MAX + 2) / 3 * 4)

static const struct {
	const char *name; /* the path after EST_PREFIX, or the whole path */
	enum est_op op;
	const char *method;
	int prefixed; /* under EST_PREFIX */
} routes[] = {
	{ "cacerts", EST_CACERTS, "GET", 1 },
	{ "simpleenroll", EST_SIMPLEENROLL, "POST", 1 },
	{ "simplereenroll", EST_SIMPLEREENROLL, "POST", 1 },
	{ "csrattrs", EST_CSRATTRS, "GET", 1 },
	{ "serverkeygen", EST_SERVERKEYGEN, "POST", 1 },
	{ "/crl", EST_CRL, "GET", 0 },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

_Static_assert(EST_UDID_MAX == UDID_MAX, "est_udid_valid() is udid_valid()");
_Static_assert(EST_SPKI_MAX == SIGNER_SPKI_MAX, "the CSR's key is what the signer takes");
_Static_assert(EST_KEY_EC_P256 == SIGNER_KEY_EC_P256 && EST_KEY_EC_P384 == SIGNER_KEY_EC_P384 &&
	EST_KEY_RSA == SIGNER_KEY_RSA && EST_KEY_ED25519 == SIGNER_KEY_ED25519,
    "est_key_type is the signer's KEY_TYPE");

/* ---- base64 (b64.c), under the names est_api.c and the tests use ---- */

int
est_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	return b64_decode(in, len, out, cap, outlen);
}

int
est_base64_encode(const uint8_t *in, size_t len, char **out, size_t *outlen)
{
	return b64_encode_lines(in, len, out, outlen);
}

/* ---- the CSR ---- */

/* 1 if s[0..len) is a UDID (udid.h) */
int
est_udid_valid(const char *s, size_t len)
{
	return udid_valid(s, len);
}

/*
 * The subject attribute nid of name into buf (EST_UDID_MAX + 1 bytes), ""
 * if there is none. 400 if it is there twice or is not a UDID in a string
 * type whose bytes are its characters (a UDID is ASCII).
 */
static int
subject_udid(const X509_NAME *name, int nid, const char *what, char *buf, char *why,
    size_t whycap)
{
	const ASN1_STRING *s;
	int idx, type, len;

	buf[0] = '\0';
	if ((idx = X509_NAME_get_index_by_NID(name, nid, -1)) < 0)
		return 0;
	if (X509_NAME_get_index_by_NID(name, nid, idx) >= 0)
		return ztp_errf(why, whycap, 400, "the CSR's subject has two %ss", what);
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	type = s != NULL ? ASN1_STRING_type(s) : -1;
	len = s != NULL ? ASN1_STRING_length(s) : -1;
	if ((type != V_ASN1_PRINTABLESTRING && type != V_ASN1_UTF8STRING &&
	    type != V_ASN1_IA5STRING) || len < 0 ||
	    !est_udid_valid((const char *)ASN1_STRING_get0_data(s), (size_t)len))
		return ztp_errf(why, whycap, 400,
		    "the CSR's subject %s is not a UDID (1 to %d of A-Z a-z 0-9 - . : _)", what,
		    EST_UDID_MAX);
	memcpy(buf, ASN1_STRING_get0_data(s), (size_t)len);
	buf[len] = '\0';
	return 0;
}

/*
 * The identity: the subject's CN, else its serialNumber; both, if there,
 * must be equal.
 */
static int
csr_identity(const X509_REQ *req, struct est_csr *out, char *why, size_t whycap)
{
	const X509_NAME *name = X509_REQ_get_subject_name(req);
	int rc;

	if (name == NULL)
		return ztp_errf(why, whycap, 400, "the CSR has no subject");
	if ((rc = subject_udid(name, NID_commonName, "commonName", out->cn, why, whycap)) != 0 ||
	    (rc = subject_udid(name, NID_serialNumber, "serialNumber", out->serial_number, why,
		 whycap)) != 0)
		return rc;
	if (out->cn[0] == '\0' && out->serial_number[0] == '\0')
		return ztp_errf(why, whycap, 400,
		    "the CSR's subject has neither a commonName nor a serialNumber");
	if (out->cn[0] != '\0' && out->serial_number[0] != '\0' &&
	    strcmp(out->cn, out->serial_number) != 0)
		return ztp_errf(why, whycap, 400,
		    "the CSR's subject commonName and serialNumber differ");
	memcpy(out->udid, out->cn[0] != '\0' ? out->cn : out->serial_number, sizeof(out->udid));
	return 0;
}

/* The key's type and size: EC P-256 or P-384, RSA 2048..4096, Ed25519. */
static int
csr_key_type(const EVP_PKEY *pk, struct est_csr *out, char *why, size_t whycap)
{
	char group[32];
	size_t glen = 0;

	out->key_bits = EVP_PKEY_get_bits(pk);
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) != 1)
			break;
		if (strcmp(group, SN_X9_62_prime256v1) == 0 && out->key_bits == 256) {
			out->key_type = EST_KEY_EC_P256;
			return 0;
		}
		if (strcmp(group, SN_secp384r1) == 0 && out->key_bits == 384) {
			out->key_type = EST_KEY_EC_P384;
			return 0;
		}
		break;
	case EVP_PKEY_RSA:
		if (out->key_bits >= 2048 && out->key_bits <= 4096) {
			out->key_type = EST_KEY_RSA;
			return 0;
		}
		break;
	case EVP_PKEY_ED25519:
		out->key_type = EST_KEY_ED25519;
		return 0;
	default:
		break;
	}
	return ztp_errf(why, whycap, 400,
	    "the CSR's key is not EC P-256 or P-384, RSA 2048 to 4096 bits or Ed25519");
}

int
est_keygen_choose(const struct est_csr *csr, struct est_keygen *out, char *why, size_t whycap)
{
	if (why != NULL && whycap > 0)
		why[0] = '\0';
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (csr == NULL || out == NULL)
		return ZTP_EINVAL;
	switch (csr->key_type) {
	case EST_KEY_EC_P256:
	case EST_KEY_EC_P384:
		if (csr->key_bits != (csr->key_type == EST_KEY_EC_P256 ? 256 : 384))
			break;
		out->type = csr->key_type;
		out->bits = csr->key_bits;
		return 0;
	case EST_KEY_RSA:
		/* an odd size: OpenSSL makes a modulus of one bit less */
		if (csr->key_bits < EST_KEYGEN_RSA_MIN || csr->key_bits > EST_KEYGEN_RSA_MAX ||
		    csr->key_bits % 2 != 0)
			return ztp_errf(why, whycap, 400,
			    "serverkeygen makes RSA keys of an even number of bits from %d to %d,"
			    " as the CSR's: not of %d", EST_KEYGEN_RSA_MIN, EST_KEYGEN_RSA_MAX,
			    csr->key_bits);
		out->type = EST_KEY_RSA;
		out->bits = csr->key_bits;
		return 0;
	case EST_KEY_ED25519:
		return ztp_errf(why, whycap, 400,
		    "serverkeygen makes the CSR's kind of key, EC P-256 or P-384 or RSA %d to %d"
		    " bits: not Ed25519", EST_KEYGEN_RSA_MIN, EST_KEYGEN_RSA_MAX);
	}
	return ztp_errf(why, whycap, 400,
	    "serverkeygen makes the CSR's kind of key, EC P-256 or P-384 or RSA %d to %d bits:"
	    " the CSR's key is neither", EST_KEYGEN_RSA_MIN, EST_KEYGEN_RSA_MAX);
}

/*
 * The CSR's SubjectPublicKeyInfo into out->spki, as the CSR carries it (it
 * is DER: csr_decode() checked), and its SHA-256. It is what the signer
 * gets and certifies, so it must pass the signer's own parser, and be the
 * key OpenSSL found (out->key_type and key_bits, by csr_key_type()).
 * Hashing these bytes rather than encoding the EVP_PKEY again gives the
 * same hash, without OpenSSL 3's encoder set-up.
 */
static int
csr_key_spki(X509_REQ *req, struct est_csr *out, char *why, size_t whycap)
{
	X509_PUBKEY *xpk = X509_REQ_get_X509_PUBKEY(req);
	struct signer_spki k;
	unsigned char *p = out->spki;
	int n;

	if (xpk == NULL || (n = i2d_X509_PUBKEY(xpk, NULL)) <= 0)
		return ztp_errf(why, whycap, 400, "the CSR's public key cannot be encoded");
	if (n > EST_SPKI_MAX)
		return ztp_errf(why, whycap, 400, "the CSR's public key is over %d bytes",
		    EST_SPKI_MAX);
	if (i2d_X509_PUBKEY(xpk, &p) != n)
		return ztp_errf(why, whycap, 400, "the CSR's public key cannot be encoded");
	out->spki_len = (size_t)n;
	if (signer_spki_parse(out->spki, out->spki_len, &k) != 0 ||
	    k.key_type != (uint8_t)out->key_type || k.key_bits != out->key_bits)
		return ztp_errf(why, whycap, 400,
		    "the CSR's public key is not in the form the CA takes (DER, a named curve,"
		    " no hybrid EC point)");
	if (crypto_sha256(out->spki, out->spki_len, out->key_sha256) != 0)
		return ztp_errf(why, whycap, 400, "the CSR's public key cannot be hashed");
	return 0;
}

/*
 * The challengePassword attribute (PKCS#9), if there: one, single-valued,
 * a PrintableString, UTF8String or IA5String of 1..EST_PASS_MAX bytes and
 * no control character.
 */
static int
csr_challenge(const X509_REQ *req, struct est_csr *out, char *why, size_t whycap)
{
	X509_ATTRIBUTE *attr;
	const ASN1_TYPE *t;
	const unsigned char *p;
	int idx, len, i;

	if ((idx = X509_REQ_get_attr_by_NID(req, NID_pkcs9_challengePassword, -1)) < 0)
		return 0;
	if (X509_REQ_get_attr_by_NID(req, NID_pkcs9_challengePassword, idx) >= 0)
		return ztp_errf(why, whycap, 400, "the CSR has two challengePassword attributes");
	if ((attr = X509_REQ_get_attr(req, idx)) == NULL || X509_ATTRIBUTE_count(attr) != 1 ||
	    (t = X509_ATTRIBUTE_get0_type(attr, 0)) == NULL)
		return ztp_errf(why, whycap, 400,
		    "the CSR's challengePassword must have exactly one value");
	if (t->type != V_ASN1_PRINTABLESTRING && t->type != V_ASN1_UTF8STRING &&
	    t->type != V_ASN1_IA5STRING)
		return ztp_errf(why, whycap, 400,
		    "the CSR's challengePassword is not a PrintableString, UTF8String or "
		    "IA5String");
	len = ASN1_STRING_length(t->value.asn1_string);
	p = ASN1_STRING_get0_data(t->value.asn1_string);
	if (len < 1 || len > EST_PASS_MAX)
		return ztp_errf(why, whycap, 400,
		    "the CSR's challengePassword must be 1 to %d bytes", EST_PASS_MAX);
	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return ztp_errf(why, whycap, 400,
			    "the CSR's challengePassword has a control character");
	memcpy(out->challenge, p, (size_t)len);
	out->challenge[len] = '\0';
	out->has_challenge = 1;
	return 0;
}

/*
 * der[0..len) must be one PKCS#10 request in DER and nothing after it:
 * d2i_X509_REQ reads one object and accepts some BER, so it must end at
 * der + len and encode back to the same bytes.
 */
static int
csr_decode(const uint8_t *der, size_t len, X509_REQ **req, char *why, size_t whycap)
{
	const unsigned char *p = der;
	unsigned char *enc = NULL;
	int n, rc;

	if ((*req = d2i_X509_REQ(NULL, &p, (long)len)) == NULL)
		return ztp_errf(why, whycap, 400, "the CSR is not a DER PKCS#10 request");
	if (p != der + len) {
		rc = ztp_errf(why, whycap, 400, "%zu bytes follow the CSR",
		    len - (size_t)(p - der));
		goto out;
	}
	if ((n = i2d_X509_REQ(*req, &enc)) <= 0 || (size_t)n != len || memcmp(enc, der, len) != 0) {
		rc = ztp_errf(why, whycap, 400, "the CSR is not in DER");
		goto out;
	}
	if (X509_REQ_get_version(*req) != X509_REQ_VERSION_1) {
		rc = ztp_errf(why, whycap, 400, "the CSR's version is not 1 (0)");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(enc);
	return rc;
}

int
est_csr_parse(const uint8_t *der, size_t len, struct est_csr *out, char *why, size_t whycap)
{
	X509_REQ *req = NULL;
	EVP_PKEY *pk;
	int rc;

	if (out == NULL || (der == NULL && len > 0))
		return ZTP_EINVAL;
	memset(out, 0, sizeof(*out));
	if (len == 0)
		return ztp_errf(why, whycap, 400, "the CSR is empty");
	if (len > EST_CSR_MAX)
		return ztp_errf(why, whycap, 413, "the CSR is over %d bytes", EST_CSR_MAX);
	ERR_set_mark();
	if ((rc = csr_decode(der, len, &req, why, whycap)) != 0)
		goto out;
	if ((pk = X509_REQ_get0_pubkey(req)) == NULL) {
		rc = ztp_errf(why, whycap, 400, "the CSR's public key cannot be read");
		goto out;
	}
	/* the cheap checks first: verifying is the costly one */
	if ((rc = csr_key_type(pk, out, why, whycap)) != 0 ||
	    (rc = csr_identity(req, out, why, whycap)) != 0 ||
	    (rc = csr_challenge(req, out, why, whycap)) != 0)
		goto out;
	if (X509_REQ_verify(req, pk) != 1) {
		rc = ztp_errf(why, whycap, 400, "the CSR's signature does not verify");
		goto out;
	}
	if ((rc = csr_key_spki(req, out, why, whycap)) != 0)
		goto out;
	out->der = der;
	out->der_len = len;
	rc = 0;
out:
	if (rc != 0)
		OPENSSL_cleanse(out, sizeof(*out)); /* the challenge is a secret */
	ERR_pop_to_mark(); /* OpenSSL's error queue as it was */
	X509_REQ_free(req);
	return rc;
}

/* ---- the HTTP request ---- */

/*
 * The route of path (up to a '?'): 0 and *idx, or 404. A path under
 * EST_PREFIX with one more segment before an operation is a CA label.
 */
static int
route_find(const char *path, size_t *idx, char *why, size_t whycap)
{
	size_t plen = strcspn(path, "?"), pre = strlen(EST_PREFIX), i, n, rlen, slen;
	const char *rest = NULL, *slash, *s;

	/* rest[0..rlen): what follows EST_PREFIX, if the path starts with it */
	if (plen > pre && memcmp(path, EST_PREFIX, pre) == 0)
		rest = path + pre;
	rlen = rest != NULL ? plen - pre : 0;
	for (i = 0; i < NROUTES; i++) {
		s = routes[i].prefixed ? rest : path;
		slen = routes[i].prefixed ? rlen : plen;
		n = strlen(routes[i].name);
		if (s != NULL && slen == n && memcmp(s, routes[i].name, n) == 0) {
			*idx = i;
			return 0;
		}
	}
	/* <label>/<operation> */
	if (rest != NULL && (slash = memchr(rest, '/', rlen)) != NULL && slash > rest) {
		for (i = 0; i < NROUTES; i++) {
			n = strlen(routes[i].name);
			if (routes[i].prefixed && (size_t)(rest + rlen - (slash + 1)) == n &&
			    memcmp(slash + 1, routes[i].name, n) == 0)
				return ztp_errf(why, whycap, 404, "CA labels are not supported");
		}
	}
	return ztp_errf(why, whycap, 404, "unknown path");
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * 1 if ctype is application/pkcs10 (any case), with optional whitespace
 * around it and optional parameters after a ';', which are not read.
 */
static int
ctype_is_pkcs10(const char *ctype)
{
	size_t n = strlen(EST_MEDIA_PKCS10);

	if (ctype == NULL)
		return 0;
	while (is_ows(*ctype))
		ctype++;
	if (strncasecmp(ctype, EST_MEDIA_PKCS10, n) != 0)
		return 0;
	ctype += n;
	while (is_ows(*ctype))
		ctype++;
	return *ctype == '\0' || *ctype == ';';
}

/* 1 if s[0..len) has a control character (C0 or DEL). */
static int
has_ctl(const uint8_t *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/*
 * Authorization: Basic <base64 of user:pass> (RFC 7617) into out->user and
 * out->pass. Another scheme is left alone (has_basic stays 0). The user is
 * what comes before the first ':'. The decoded credentials are cleansed.
 */
static int
basic_parse(const char *authz, struct est_request *out, char *why, size_t whycap)
{
	uint8_t raw[BASIC_RAW_MAX];
	const char *tok, *end;
	const uint8_t *colon;
	size_t n, tlen, rawlen = 0, ulen, plen;
	int rc;

	if (authz == NULL)
		return 0;
	while (is_ows(*authz))
		authz++;
	n = strcspn(authz, " \t");
	if (n != 5 || strncasecmp(authz, "Basic", 5) != 0)
		return 0;
	/* 1*SP token68, and whitespace at the end is the header's */
	for (tok = authz + 5; *tok == ' '; tok++)
		;
	if (tok == authz + 5)
		return ztp_errf(why, whycap, 400, "Authorization: Basic: no space after Basic");
	for (end = tok + strlen(tok); end > tok && is_ows(end[-1]); end--)
		;
	tlen = (size_t)(end - tok);
	if (tlen == 0)
		return ztp_errf(why, whycap, 400, "Authorization: Basic: no credentials");
	if (tlen > BASIC_B64_MAX)
		return ztp_errf(why, whycap, 400,
		    "Authorization: Basic: credentials over %d bytes", BASIC_RAW_MAX);
	if (strcspn(tok, " \t\r\n") < tlen) {
		rc = ztp_errf(why, whycap, 400,
		    "Authorization: Basic: whitespace in the credentials");
		goto out;
	}
	rc = b64_decode(tok, tlen, raw, sizeof(raw), &rawlen);
	if (rc == ZTP_ETOOBIG) {
		rc = ztp_errf(why, whycap, 400,
		    "Authorization: Basic: credentials over %d bytes", BASIC_RAW_MAX);
		goto out;
	}
	if (rc != 0) {
		rc = ztp_errf(why, whycap, 400, "Authorization: Basic: not base64");
		goto out;
	}
	if ((colon = memchr(raw, ':', rawlen)) == NULL) {
		rc = ztp_errf(why, whycap, 400, "Authorization: Basic: no ':' after the user");
		goto out;
	}
	ulen = (size_t)(colon - raw);
	plen = rawlen - ulen - 1;
	if (ulen > EST_USER_MAX || plen > EST_PASS_MAX) {
		rc = ztp_errf(why, whycap, 400,
		    "Authorization: Basic: the user is at most %d bytes, the password %d",
		    EST_USER_MAX, EST_PASS_MAX);
		goto out;
	}
	if (has_ctl(raw, rawlen)) {
		rc = ztp_errf(why, whycap, 400,
		    "Authorization: Basic: a control character in the user or password");
		goto out;
	}
	memcpy(out->user, raw, ulen);
	out->user[ulen] = '\0';
	memcpy(out->pass, colon + 1, plen);
	out->pass[plen] = '\0';
	out->has_basic = 1;
	rc = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

/* The body of an enrolment: base64 of one CSR, into out->der and out->csr. */
static int
body_parse(const uint8_t *body, size_t len, struct est_request *out, char *why, size_t whycap)
{
	size_t derlen = 0;
	int rc;

	if (len > EST_BODY_MAX)
		return ztp_errf(why, whycap, 413, "the body is over %d bytes", EST_BODY_MAX);
	rc = b64_decode((const char *)body, len, out->der, sizeof(out->der), &derlen);
	if (rc == ZTP_ETOOBIG)
		return ztp_errf(why, whycap, 413, "the CSR is over %d bytes", EST_CSR_MAX);
	if (rc != 0)
		return ztp_errf(why, whycap, 400,
		    "the body is not base64 (whitespace CR LF SP TAB allowed, padding required)");
	if (derlen == 0)
		return ztp_errf(why, whycap, 400, "the body is empty");
	if ((rc = est_csr_parse(out->der, derlen, &out->csr, why, whycap)) != 0)
		return rc;
	out->has_csr = 1;
	return 0;
}

int
est_req_parse(const char *method, const char *path, const char *ctype, const char *authz,
    const uint8_t *body, size_t len, struct est_request *out, char *why, size_t whycap)
{
	size_t r = 0;
	int rc;

	if (out == NULL || method == NULL || path == NULL || (body == NULL && len > 0))
		return ZTP_EINVAL;
	memset(out, 0, sizeof(*out));
	if ((rc = route_find(path, &r, why, whycap)) != 0)
		goto out;
	if (strcmp(method, routes[r].method) != 0) {
		rc = ztp_errf(why, whycap, 405, "%s takes %s only", routes[r].name,
		    routes[r].method);
		goto out;
	}
	out->op = routes[r].op;
	if ((rc = basic_parse(authz, out, why, whycap)) != 0)
		goto out;
	if (strcmp(routes[r].method, "POST") == 0) {
		if (!ctype_is_pkcs10(ctype)) {
			rc = ztp_errf(why, whycap, 415, "the Content-Type must be %s",
			    EST_MEDIA_PKCS10);
			goto out;
		}
		if ((rc = body_parse(body, len, out, why, whycap)) != 0)
			goto out;
	}
	if (why != NULL && whycap > 0)
		why[0] = '\0';
	rc = 0;
out:
	if (rc != 0)
		OPENSSL_cleanse(out, sizeof(*out)); /* the password */
	return rc;
}

/* ---- responses ---- */

/* Copy DER that OpenSSL allocated (n from its i2d call) to *der, malloc'd. */
static int
der_take(const unsigned char *enc, int n, uint8_t **der, size_t *len)
{
	if (n <= 0)
		return ZTP_ECRYPTO;
	if ((*der = malloc((size_t)n)) == NULL)
		return ZTP_ENOMEM;
	memcpy(*der, enc, (size_t)n);
	*len = (size_t)n;
	return 0;
}

int
est_pkcs7_certs(X509 *const *certs, size_t n, uint8_t **der, size_t *len)
{
	PKCS7 *p7 = NULL;
	unsigned char *enc = NULL;
	size_t i;
	int enclen, rc;

	if (der != NULL)
		*der = NULL;
	if (len != NULL)
		*len = 0;
	if (certs == NULL || n == 0 || der == NULL || len == NULL)
		return ZTP_EINVAL;
	for (i = 0; i < n; i++)
		if (certs[i] == NULL)
			return ZTP_EINVAL;
	ERR_set_mark();
	if ((p7 = PKCS7_new()) == NULL || PKCS7_set_type(p7, NID_pkcs7_signed) != 1 ||
	    PKCS7_content_new(p7, NID_pkcs7_data) != 1) {
		rc = ZTP_ECRYPTO;
		goto out;
	}
	/*
	 * A Simple PKI Response (RFC 5272 4.1) has eContentType id-data and no
	 * eContent: "detached" drops the empty OCTET STRING of the data.
	 */
	PKCS7_set_detached(p7, 1);
	for (i = 0; i < n; i++) {
		if (PKCS7_add_certificate(p7, certs[i]) != 1) {
			rc = ZTP_ECRYPTO;
			goto out;
		}
	}
	enclen = i2d_PKCS7(p7, &enc);
	if ((rc = der_take(enc, enclen, der, len)) != 0)
		goto out;
	rc = 0;
out:
	ERR_pop_to_mark();
	OPENSSL_free(enc);
	PKCS7_free(p7);
	return rc;
}

/* A DER header (tag, definite length) at out; returns its size (at most 6). */
static size_t
der_header(uint8_t *out, uint8_t tag, size_t len)
{
	size_t n = 0, k;

	out[n++] = tag;
	if (len < 0x80) {
		out[n++] = (uint8_t)len;
		return n;
	}
	for (k = 1; k < sizeof(uint32_t) && (len >> (8 * k)) != 0; k++)
		;
	out[n++] = (uint8_t)(0x80 | k);
	while (k-- > 0)
		out[n++] = (uint8_t)(len >> (8 * k));
	return n;
}

/* Copy src[0..n) to p (room checked by the caller); returns p + n. */
static uint8_t *
put_bytes(uint8_t *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

int
est_pkcs7_cert_der(const uint8_t *cert, size_t cert_len, uint8_t **der, size_t *len)
{
	/* contentType signedData; version 1, digestAlgorithms {}, contentInfo id-data */
	static const uint8_t oid_signed[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
		0x01, 0x07, 0x02 };
	static const uint8_t head[] = { 0x02, 0x01, 0x01, 0x31, 0x00, 0x30, 0x0b, 0x06, 0x09,
		0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01 };
	static const uint8_t signer_infos[] = { 0x31, 0x00 };
	uint8_t h_certs[6], h_sd[6], h_explicit[6], h_ci[6], *p;
	size_t n_certs, n_sd, n_explicit, n_ci, sd_len, explicit_len, ci_len;

	if (der != NULL)
		*der = NULL;
	if (len != NULL)
		*len = 0;
	/* a certificate is a SEQUENCE; the bound keeps every length in 4 bytes */
	if (cert == NULL || cert_len < 2 || cert[0] != 0x30 || cert_len > EST_BODY_MAX * 4 ||
	    der == NULL || len == NULL)
		return ZTP_EINVAL;
	n_certs = der_header(h_certs, 0xa0, cert_len); /* certificates [0] IMPLICIT */
	sd_len = sizeof(head) + n_certs + cert_len + sizeof(signer_infos);
	n_sd = der_header(h_sd, 0x30, sd_len);
	explicit_len = n_sd + sd_len;
	n_explicit = der_header(h_explicit, 0xa0, explicit_len); /* content [0] EXPLICIT */
	ci_len = sizeof(oid_signed) + n_explicit + explicit_len;
	n_ci = der_header(h_ci, 0x30, ci_len);
	if ((p = malloc(n_ci + ci_len)) == NULL)
		return ZTP_ENOMEM;
	*der = p;
	*len = n_ci + ci_len;
	p = put_bytes(p, h_ci, n_ci);
	p = put_bytes(p, oid_signed, sizeof(oid_signed));
	p = put_bytes(p, h_explicit, n_explicit);
	p = put_bytes(p, h_sd, n_sd);
	p = put_bytes(p, head, sizeof(head));
	p = put_bytes(p, h_certs, n_certs);
	p = put_bytes(p, cert, cert_len);
	put_bytes(p, signer_infos, sizeof(signer_infos));
	return 0;
}

/* Append the OBJECT IDENTIFIER nid to sk. */
static int
attrs_push_oid(STACK_OF(ASN1_TYPE) *sk, int nid)
{
	ASN1_TYPE *t = NULL;

	if ((t = ASN1_TYPE_new()) == NULL ||
	    ASN1_TYPE_set1(t, V_ASN1_OBJECT, OBJ_nid2obj(nid)) != 1 ||
	    sk_ASN1_TYPE_push(sk, t) <= 0) {
		ASN1_TYPE_free(t);
		return ZTP_ECRYPTO;
	}
	return 0;
}

/* Append the Attribute { type nid, values SET { OBJECT IDENTIFIER value } } to sk. */
static int
attrs_push_attr(STACK_OF(ASN1_TYPE) *sk, int nid, int value)
{
	X509_ATTRIBUTE *attr = NULL;
	ASN1_STRING *seq = NULL;
	ASN1_TYPE *t = NULL;
	unsigned char *enc = NULL;
	int n, rc;

	if ((attr = X509_ATTRIBUTE_create_by_NID(NULL, nid, V_ASN1_OBJECT, OBJ_nid2obj(value),
		 -1)) == NULL ||
	    (n = i2d_X509_ATTRIBUTE(attr, &enc)) <= 0 ||
	    (seq = ASN1_STRING_type_new(V_ASN1_SEQUENCE)) == NULL ||
	    ASN1_STRING_set(seq, enc, n) != 1 || (t = ASN1_TYPE_new()) == NULL) {
		rc = ZTP_ECRYPTO;
		goto out;
	}
	ASN1_TYPE_set(t, V_ASN1_SEQUENCE, seq); /* a SEQUENCE holds its whole DER */
	seq = NULL;
	if (sk_ASN1_TYPE_push(sk, t) <= 0) {
		rc = ZTP_ECRYPTO;
		goto out;
	}
	t = NULL;
	rc = 0;
out:
	ASN1_TYPE_free(t);
	ASN1_STRING_free(seq);
	OPENSSL_free(enc);
	X509_ATTRIBUTE_free(attr);
	return rc;
}

int
est_csrattrs(uint8_t **der, size_t *len)
{
	STACK_OF(ASN1_TYPE) *sk = NULL;
	unsigned char *enc = NULL;
	int enclen, rc;

	if (der != NULL)
		*der = NULL;
	if (len != NULL)
		*len = 0;
	if (der == NULL || len == NULL)
		return ZTP_EINVAL;
	ERR_set_mark();
	if ((sk = sk_ASN1_TYPE_new_null()) == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	/*
	 * No challengePassword: in RFC 7030 asking for it asks for the
	 * tls-unique linking of §3.5, which ztpd does not check
	 */
	if ((rc = attrs_push_attr(sk, NID_X9_62_id_ecPublicKey, NID_X9_62_prime256v1)) != 0 ||
	    (rc = attrs_push_oid(sk, NID_ecdsa_with_SHA256)) != 0)
		goto out;
	enclen = i2d_ASN1_SEQUENCE_ANY(sk, &enc);
	if ((rc = der_take(enc, enclen, der, len)) != 0)
		goto out;
	rc = 0;
out:
	ERR_pop_to_mark();
	OPENSSL_free(enc);
	sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
	return rc;
}
