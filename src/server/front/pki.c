/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Foreign PKIs (pki.h): the certificates of other PKIs that devices
 * present, recorded by issuer and serial, and the check of a CRL's bytes.
 * OpenSSL parses (d2i_X509_CRL, PEM) and verifies; what is decided here is
 * which CRLs are taken: the PKI's own, direct, complete (no delta), not
 * from the future, and nothing critical that is not understood.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "hex.h"
#include "pki.h"
#include "store.h"
#include "ztp/err.h"

#define SERIAL_BYTES_MAX ((STORE_SERIAL_HEX - 1) / 2)

/* ---- certificates seen ---- */

int
pki_issuer_hex(const X509_NAME *name, char out[STORE_ISSUER_HEX])
{
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	int n, i;

	if (name == NULL || (n = i2d_X509_NAME(name, &der)) <= 0)
		return ZTP_EMALFORMED;
	SHA256(der, (size_t)n, md);
	OPENSSL_free(der);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int
pki_serial_hex(const ASN1_INTEGER *serial, char out[STORE_SERIAL_HEX])
{
	uint8_t buf[SERIAL_BYTES_MAX];
	BIGNUM *bn;
	int n, rc;

	if (serial == NULL || (bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL) {
		ERR_clear_error();
		return ZTP_EMALFORMED;
	}
	n = BN_num_bytes(bn);
	if (BN_is_negative(bn) || n > (int)sizeof(buf)) {
		rc = BN_is_negative(bn) ? ZTP_EMALFORMED : ZTP_ERANGE;
		BN_free(bn);
		return rc;
	}
	if (n == 0) {
		buf[0] = 0;
		n = 1;
	} else {
		BN_bn2bin(bn, buf);
	}
	BN_free(bn);
	return hex_encode(buf, (size_t)n, out, STORE_SERIAL_HEX);
}

int
pki_cert_seen(struct store *st, X509 *cert, const char *udid, const char *kind)
{
	char issuer[STORE_ISSUER_HEX], serial[STORE_SERIAL_HEX];
	int rc;

	if (cert == NULL)
		return ZTP_EINVAL;
	if ((rc = pki_issuer_hex(X509_get_issuer_name(cert), issuer)) != 0 ||
	    (rc = pki_serial_hex(X509_get0_serialNumber(cert), serial)) != 0)
		return rc;
	return store_foreign_cert_seen(st, issuer, serial, udid, kind, clock_now_ms());
}

/* ---- a CRL's bytes ---- */

void
pki_crl_free(struct pki_crl *c)
{
	if (c == NULL)
		return;
	X509_CRL_free(c->crl);
	memset(c, 0, sizeof(*c));
}

int
pki_crl_serial(const struct pki_crl *c, size_t i, char out[STORE_SERIAL_HEX])
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(c->crl);

	if (i >= c->entries || revs == NULL || i > INT_MAX)
		return ZTP_EINVAL;
	return pki_serial_hex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, (int)i)),
	    out);
}

static int
time_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return ZTP_EMALFORMED;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* The CRL in buf: DER (all of it) or the first X509 CRL block of PEM text. */
static X509_CRL *
crl_decode(const uint8_t *buf, size_t len, char *why, size_t cap)
{
	const unsigned char *p = buf;
	X509_CRL *crl = NULL;
	BIO *bio;

	if (len > 0 && buf[0] == 0x30) {
		crl = d2i_X509_CRL(NULL, &p, (long)len);
		if (crl != NULL && p != buf + len) {
			X509_CRL_free(crl);
			ztp_errf(why, cap, ZTP_EMALFORMED, "%zu bytes after the DER CRL",
			    (size_t)(buf + len - p));
			return NULL;
		}
		if (crl == NULL)
			ztp_errf(why, cap, ZTP_EMALFORMED, "not a DER CRL");
		return crl;
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		ztp_errf(why, cap, ZTP_ENOMEM, "out of memory");
		return NULL;
	}
	if ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) == NULL)
		ztp_errf(why, cap, ZTP_EMALFORMED, "neither a DER CRL nor PEM text with an "
		    "X509 CRL block");
	BIO_free(bio);
	return crl;
}

/* The extensions of the CRL: a delta or indirect CRL, a critical one not known. */
static int
check_extensions(X509_CRL *crl, char *why, size_t cap)
{
	ISSUING_DIST_POINT *idp;
	X509_EXTENSION *ext;
	int i, n, nid, crit = -1, indirect;

	n = X509_CRL_get_ext_count(crl);
	for (i = 0; i < n; i++) {
		ext = X509_CRL_get_ext(crl, i);
		nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
		if (nid == NID_delta_crl)
			return ztp_errf(why, cap, ZTP_EINVAL, "a delta CRL: give the URL of the "
			    "complete CRL");
		if (X509_EXTENSION_get_critical(ext) && nid != NID_issuing_distribution_point)
			return ztp_errf(why, cap, ZTP_EINVAL, "the CRL has a critical extension ztpd "
			    "does not know (%s)", nid != NID_undef ? OBJ_nid2sn(nid) : "unknown");
	}
	idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, NULL);
	if (idp == NULL && crit != -1)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "the CRL's issuingDistributionPoint is "
		    "malformed or repeated");
	indirect = idp != NULL && idp->indirectCRL;
	ISSUING_DIST_POINT_free(idp);
	if (indirect)
		return ztp_errf(why, cap, ZTP_EINVAL, "an indirect CRL: only a CA's own CRL is taken");
	return 0;
}

/* Each entry: a serial, no critical extension (certificateIssuer: an indirect CRL). */
static int
check_entries(X509_CRL *crl, size_t *entries, char *why, size_t cap)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
	const STACK_OF(X509_EXTENSION) *exts;
	X509_REVOKED *r;
	int i, j, n = revs != NULL ? sk_X509_REVOKED_num(revs) : 0;

	for (i = 0; i < n; i++) {
		r = sk_X509_REVOKED_value(revs, i);
		if (X509_REVOKED_get0_serialNumber(r) == NULL)
			return ztp_errf(why, cap, ZTP_EMALFORMED, "entry %d has no serial", i);
		exts = X509_REVOKED_get0_extensions(r);
		for (j = 0; j < sk_X509_EXTENSION_num(exts); j++)
			if (X509_EXTENSION_get_critical(sk_X509_EXTENSION_value(exts, j)))
				return ztp_errf(why, cap, ZTP_EINVAL, "entry %d has a critical extension"
				    " ztpd does not know", i);
	}
	*entries = (size_t)n;
	return 0;
}

/* The crlNumber as upper-case hex into out ("" if none). */
static int
crl_number(X509_CRL *crl, char out[STORE_PKI_CRLNUM_HEX], char *why, size_t cap)
{
	ASN1_INTEGER *num;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int crit = -1, rc = 0;

	out[0] = '\0';
	if ((num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL)) == NULL)
		return crit == -1 ? 0 :
				    ztp_errf(why, cap, ZTP_EMALFORMED, "the crlNumber is malformed or "
					"repeated");
	if ((bn = ASN1_INTEGER_to_BN(num, NULL)) == NULL || (hex = BN_bn2hex(bn)) == NULL) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "the crlNumber cannot be read");
		goto out;
	}
	if (BN_is_negative(bn) || strlen(hex) > STORE_PKI_CRLNUM_HEX - 1) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "the crlNumber is negative or over 20 "
		    "octets");
		goto out;
	}
	memcpy(out, hex, strlen(hex) + 1);
out:
	OPENSSL_free(hex);
	BN_free(bn);
	ASN1_INTEGER_free(num);
	return rc;
}

int
pki_crl_check(const uint8_t *buf, size_t len, X509 *ca, int64_t now, struct pki_crl *out,
    char *why, size_t cap)
{
	struct pki_crl c;
	EVP_PKEY *key;
	char t[21];
	int rc;

	memset(&c, 0, sizeof(c));
	if (len == 0)
		return ztp_errf(why, cap, ZTP_EMALFORMED, "the CRL is empty");
	if (len > PKI_CRL_MAX)
		return ztp_errf(why, cap, ZTP_ETOOBIG, "the CRL is over %d bytes", PKI_CRL_MAX);
	if ((c.crl = crl_decode(buf, len, why, cap)) == NULL) {
		rc = ZTP_EMALFORMED;
		goto out;
	}
	if (X509_NAME_cmp(X509_CRL_get_issuer(c.crl), X509_get_subject_name(ca)) != 0) {
		rc = ztp_errf(why, cap, ZTP_EAUTH, "the CRL's issuer is not the PKI's CA");
		goto out;
	}
	if ((X509_get_extension_flags(ca) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(ca) & KU_CRL_SIGN)) {
		rc = ztp_errf(why, cap, ZTP_EAUTH, "the PKI's CA is not allowed to sign CRLs");
		goto out;
	}
	if ((key = X509_get0_pubkey(ca)) == NULL || X509_CRL_verify(c.crl, key) != 1) {
		rc = ztp_errf(why, cap, ZTP_EAUTH, "the CRL's signature is not the PKI's CA's");
		goto out;
	}
	if ((rc = check_extensions(c.crl, why, cap)) != 0 ||
	    (rc = check_entries(c.crl, &c.entries, why, cap)) != 0 ||
	    (rc = crl_number(c.crl, c.number, why, cap)) != 0)
		goto out;
	if (time_unix(X509_CRL_get0_lastUpdate(c.crl), &c.this_update) != 0) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "the CRL's thisUpdate cannot be read");
		goto out;
	}
	if (X509_CRL_get0_nextUpdate(c.crl) != NULL &&
	    time_unix(X509_CRL_get0_nextUpdate(c.crl), &c.next_update) != 0) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "the CRL's nextUpdate cannot be read");
		goto out;
	}
	if (c.this_update < 0 || c.this_update > now + PKI_FUTURE_SKEW_S) {
		rc = ztp_errf(why, cap, ZTP_EINVAL, "the CRL's thisUpdate %s is in the future (or "
		    "before 1970)", clock_iso8601(c.this_update, t));
		goto out;
	}
	if (c.next_update != 0 && c.next_update < c.this_update) {
		rc = ztp_errf(why, cap, ZTP_EMALFORMED, "the CRL's nextUpdate is before its "
		    "thisUpdate");
		goto out;
	}
	*out = c;
	memset(&c, 0, sizeof(c));
	rc = 0;
out:
	ERR_clear_error();
	pki_crl_free(&c);
	return rc;
}
