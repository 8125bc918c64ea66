/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CA process (see signer.h): it loads the CA and serves requests until
 * its socket closes. Its client, in the front, is signer_client.c.
 */
#define _GNU_SOURCE /* close_range */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "crypto.h"
#include "hex.h"
#include "log.h"
#include "cakey.h"
#include "fault.h"
#include "ipc.h"
#include "privsep.h"
#include "sandbox.h"
#include "signer.h"
#include "ztpca.h"
#include "ztp/err.h"

#define SIGNER_FD 3            /* the child's end of the socket (signer_start()) */
#define BACKDATE_SECS 3600     /* notBefore this far back, for clocks behind ours */
#define REVOKED_SKEW_SECS 300  /* a revocation date may be this far ahead */

/* How the PEM keys of the data directory are encrypted (datadir.c). */

static int key_loads; /* test hook: CA keys loaded by this process */

int
signer_key_loads(void)
{
	return key_loads;
}

/* ================================================================ */
/* The child: the only process that holds the CA key.               */
/* ================================================================ */

struct ca {
	EVP_PKEY *key;
	X509 *cert;
	const EVP_MD *md; /* NULL for Ed25519/Ed448 CA keys */
	int64_t not_before, not_after;
};

/* Log the OpenSSL error queue's last entry with what, and clear the queue. */
static void
ssl_warn(const char *what)
{
	char buf[256];
	unsigned long e = ERR_peek_last_error();

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_warnx("signer: %s: %s", what, buf);
	} else {
		log_warnx("signer: %s", what);
	}
	ERR_clear_error();
}

static int
asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}


/* ca's validity from its certificate and the digest its key signs with: 0, or -1. */
static int
ca_times_md(struct ca *ca)
{
	int bits;

	if (asn1_time_unix(X509_get0_notBefore(ca->cert), &ca->not_before) != 0 ||
	    asn1_time_unix(X509_get0_notAfter(ca->cert), &ca->not_after) != 0)
		return -1;
	switch (EVP_PKEY_get_base_id(ca->key)) {
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		ca->md = NULL;
		break;
	case EVP_PKEY_EC:
		bits = EVP_PKEY_get_bits(ca->key);
		ca->md = bits > 384 ? EVP_sha512() : bits > 256 ? EVP_sha384() : EVP_sha256();
		break;
	default:
		ca->md = EVP_sha256();
	}
	return 0;
}

/* Load DIR/ca.key and DIR/ca.pem into *ca. Returns 0 or -1 (logged). */
static int
load_ca(const char *dir, const uint8_t *datakey, struct ca *ca)
{
	char path[PATH_MAX];
	BIO *bio = NULL;
	int rc = -1;

	if (cakey_load(dir, datakey, &ca->key) != 0)
		goto out;
	key_loads++;
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	if ((bio = BIO_new_file(path, "r")) == NULL) {
		ssl_warn(path);
		goto out;
	}
	ca->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (ca->cert == NULL) {
		ssl_warn("cannot read ca.pem");
		goto out;
	}
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		ssl_warn("ca.pem does not match ca.key");
		goto out;
	}
	if (ca_times_md(ca) != 0) {
		log_warnx("signer: ca.pem: unreadable validity");
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/*
 * Descriptors of the child: the socket becomes SIGNER_FD, 0 and 1 are
 * /dev/null, 2 stays the log (or /dev/null if closed), all others close.
 */
static int
child_fds(int sock)
{
	struct rlimit rl;
	int fd, max;

	if (sock != SIGNER_FD && dup2(sock, SIGNER_FD) != SIGNER_FD)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) < 0)
		return -1;
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || (fcntl(2, F_GETFD) < 0 && dup2(fd, 2) < 0))
		return -1;
	if (close_range(SIGNER_FD + 1, ~0U, 0) != 0) {
		/* kernels before 5.9 */
		max = (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
			  rl.rlim_max < INT_MAX) ?
		    (int)rl.rlim_max :
		    65536;
		for (fd = SIGNER_FD + 1; fd < max; fd++)
			close(fd);
	}
	return 0;
}

/*
 * Signals of the child: defaults, none blocked; SIGINT, SIGTERM and SIGHUP
 * ignored, so that the signer outlives a terminal's ^C or a service
 * manager's SIGTERM while ztpd drains: it ends when its socket closes.
 */
static void
child_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL); /* fails harmlessly for reserved ones */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* A key the signer certifies: type and size, and key usage to match. */
static int
check_key(const struct ca *ca, EVP_PKEY *pub, uint16_t ku, const char **why)
{
	char group[64];
	int bits;

	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(pub, group, sizeof(group), NULL) != 1 ||
		    (strcmp(group, "prime256v1") != 0 && strcmp(group, "secp384r1") != 0)) {
			*why = "EC key on a curve other than P-256 or P-384";
			return ZTP_EINVAL;
		}
		if (ku & SIGNER_KU_KEY_ENCIPHERMENT) {
			*why = "keyEncipherment for an EC key";
			return ZTP_EINVAL;
		}
		break;
	case EVP_PKEY_RSA:
		bits = EVP_PKEY_get_bits(pub);
		if (bits < 2048 || bits > 4096) {
			*why = "RSA key not of 2048 to 4096 bits";
			return ZTP_EINVAL;
		}
		if (ku & SIGNER_KU_KEY_AGREEMENT) {
			*why = "keyAgreement for an RSA key";
			return ZTP_EINVAL;
		}
		break;
	case EVP_PKEY_ED25519:
		if (ku != SIGNER_KU_DIGITAL_SIGNATURE) {
			*why = "key usage other than digitalSignature for an Ed25519 key";
			return ZTP_EINVAL;
		}
		break;
	default:
		*why = "key type not allowed";
		return ZTP_EINVAL;
	}
	if (EVP_PKEY_eq(pub, ca->key) == 1) {
		*why = "the CSR carries the CA's own key";
		return ZTP_EINVAL;
	}
	return 0;
}

/* SHA-1 key identifier of cert's public key (RFC 5280 4.2.1.2 method 1). */
static ASN1_OCTET_STRING *
key_id(X509 *cert)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len;
	ASN1_OCTET_STRING *id;

	if (X509_pubkey_digest(cert, EVP_sha1(), md, &len) != 1 ||
	    (id = ASN1_OCTET_STRING_new()) == NULL)
		return NULL;
	if (ASN1_OCTET_STRING_set(id, md, (int)len) != 1) {
		ASN1_OCTET_STRING_free(id);
		return NULL;
	}
	return id;
}

/* The CA's key identifier for authorityKeyIdentifier: its SKI, or computed. */
static AUTHORITY_KEYID *
ca_akid(const struct ca *ca)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca->cert);
	AUTHORITY_KEYID *akid;

	if ((akid = AUTHORITY_KEYID_new()) == NULL)
		return NULL;
	akid->keyid = ski != NULL ? ASN1_OCTET_STRING_dup(ski) : key_id(ca->cert);
	if (akid->keyid == NULL) {
		AUTHORITY_KEYID_free(akid);
		return NULL;
	}
	return akid;
}

static int
add_name(X509_NAME *name, int nid, int type, const char *value)
{
	if (value[0] == '\0')
		return 1;
	return X509_NAME_add_entry_by_NID(name, nid, type, (const unsigned char *)value, -1, -1,
	    0);
}

/* The subject of the request: O, OU, CN, serialNumber, those present. */
static X509_NAME *
make_subject(const struct signer_subject *s)
{
	X509_NAME *name;

	if ((name = X509_NAME_new()) == NULL)
		return NULL;
	if (!add_name(name, NID_organizationName, MBSTRING_UTF8, s->org) ||
	    !add_name(name, NID_organizationalUnitName, MBSTRING_UTF8, s->org_unit) ||
	    !add_name(name, NID_commonName, MBSTRING_UTF8, s->cn) ||
	    !add_name(name, NID_serialNumber, MBSTRING_ASC, s->serial_number)) {
		X509_NAME_free(name);
		return NULL;
	}
	return name;
}

static GENERAL_NAMES *
make_san(const struct signer_csr_req *r)
{
	GENERAL_NAMES *gens;
	GENERAL_NAME *gen = NULL;
	ASN1_IA5STRING *dns;
	ASN1_OCTET_STRING *ip;
	size_t i;

	if ((gens = GENERAL_NAMES_new()) == NULL)
		return NULL;
	for (i = 0; i < r->n_dns + r->n_ip; i++) {
		if ((gen = GENERAL_NAME_new()) == NULL)
			goto fail;
		if (i < r->n_dns) {
			if ((dns = ASN1_IA5STRING_new()) == NULL)
				goto fail;
			GENERAL_NAME_set0_value(gen, GEN_DNS, dns);
			if (ASN1_STRING_set(dns, r->dns[i], -1) != 1)
				goto fail;
		} else {
			if ((ip = ASN1_OCTET_STRING_new()) == NULL)
				goto fail;
			GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
			if (ASN1_OCTET_STRING_set(ip, r->ip[i - r->n_dns],
				r->ip_len[i - r->n_dns]) != 1)
				goto fail;
		}
		if (sk_GENERAL_NAME_push(gens, gen) <= 0)
			goto fail;
		gen = NULL;
	}
	return gens;
fail:
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return NULL;
}

/* The extensions of an issued certificate. Returns 1 or 0. */
static int
add_cert_exts(const struct ca *ca, X509 *cert, const struct signer_csr_req *r)
{
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
	ASN1_OCTET_STRING *ski = key_id(cert);
	AUTHORITY_KEYID *akid = ca_akid(ca);
	GENERAL_NAMES *san = NULL;
	uint16_t k = r->profile.key_usage, x = r->profile.ext_key_usage;
	int ok = 0;

	if (bc == NULL || ku == NULL || eku == NULL || ski == NULL || akid == NULL)
		goto out;
	bc->ca = 0;
	/* KeyUsage bits: digitalSignature (0), keyEncipherment (2), keyAgreement (4) */
	if (((k & SIGNER_KU_DIGITAL_SIGNATURE) && !ASN1_BIT_STRING_set_bit(ku, 0, 1)) ||
	    ((k & SIGNER_KU_KEY_ENCIPHERMENT) && !ASN1_BIT_STRING_set_bit(ku, 2, 1)) ||
	    ((k & SIGNER_KU_KEY_AGREEMENT) && !ASN1_BIT_STRING_set_bit(ku, 4, 1)))
		goto out;
	if (((x & SIGNER_EKU_CLIENT_AUTH) &&
		sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_client_auth)) <= 0) ||
	    ((x & SIGNER_EKU_SERVER_AUTH) &&
		sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)) <= 0))
		goto out;
	if (X509_add1_ext_i2d(cert, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) != 1 ||
	    X509_add1_ext_i2d(cert, NID_key_usage, ku, 1, X509V3_ADD_DEFAULT) != 1 ||
	    X509_add1_ext_i2d(cert, NID_ext_key_usage, eku, 0, X509V3_ADD_DEFAULT) != 1 ||
	    X509_add1_ext_i2d(cert, NID_subject_key_identifier, ski, 0, X509V3_ADD_DEFAULT) != 1 ||
	    X509_add1_ext_i2d(cert, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT) != 1)
		goto out;
	if (r->n_dns + r->n_ip > 0) {
		if ((san = make_san(r)) == NULL ||
		    X509_add1_ext_i2d(cert, NID_subject_alt_name, san, 0, X509V3_ADD_DEFAULT) != 1)
			goto out;
	}
	ok = 1;
out:
	BASIC_CONSTRAINTS_free(bc);
	ASN1_BIT_STRING_free(ku);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	ASN1_OCTET_STRING_free(ski);
	AUTHORITY_KEYID_free(akid);
	GENERAL_NAMES_free(san);
	return ok;
}

/* A random serial: 16 bytes, positive, the first byte never zero. */
static int
set_serial(X509 *cert, uint8_t serial[16])
{
	BIGNUM *bn;
	int ok;

	if (crypto_random(serial, 16) != 0)
		return 0;
	serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
	if ((bn = BN_bin2bn(serial, 16, NULL)) == NULL)
		return 0;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
	BN_free(bn);
	return ok;
}

static void
log_issued(const struct signer_csr_req *r, const uint8_t *serial, size_t serial_len,
    int64_t not_after)
{
	char hex[2 * SIGNER_SERIAL_MAX + 1], cn[128], sn[128], until[32];

	hex_encode(serial, serial_len, hex, sizeof(hex));
	log_sanitize(r->subject.cn, strlen(r->subject.cn), cn, sizeof(cn));
	log_sanitize(r->subject.serial_number, strlen(r->subject.serial_number), sn, sizeof(sn));
	clock_format(not_after * 1000, until, sizeof(until));
	log_info("signer: issued serial %s, CN \"%s\", serialNumber \"%s\", until %s", hex, cn, sn,
	    until);
}

/*
 * The group of an EC key type (SIGNER_KEY_EC_P256/P384), made on first use
 * and kept for the life of the process: making one costs more than the
 * rest of a point check. The signer is single-threaded. NULL if it cannot
 * be made.
 */
static const EC_GROUP *
curve_group(uint8_t key_type)
{
	static EC_GROUP *groups[2];
	int i = key_type == SIGNER_KEY_EC_P384;

	if (groups[i] == NULL)
		groups[i] = EC_GROUP_new_by_curve_name(i ? NID_secp384r1 : NID_X9_62_prime256v1);
	return groups[i];
}

/*
 * 1 if the key k is the CA's own key, 0 if not, -1 if that cannot be
 * told. pt: k's point, for an EC key. Compared as keys, not as bytes: a
 * compressed point is the same key as its uncompressed form. The CA's key
 * is read through its provider's parameters, which decode nothing.
 */
static int
is_ca_key(const struct ca *ca, const struct signer_spki *k, const EC_POINT *pt)
{
	uint8_t buf[1 + 2 * 66];
	char group[64];
	size_t len = 0;
	EC_POINT *capt = NULL;
	BIGNUM *n = NULL, *kn = NULL;
	int same = -1;

	switch (k->key_type) {
	case SIGNER_KEY_EC_P256:
	case SIGNER_KEY_EC_P384:
		if (EVP_PKEY_get_base_id(ca->key) != EVP_PKEY_EC ||
		    EVP_PKEY_get_group_name(ca->key, group, sizeof(group), NULL) != 1 ||
		    strcmp(group, k->key_type == SIGNER_KEY_EC_P256 ? SN_X9_62_prime256v1 :
								    SN_secp384r1) != 0)
			return 0;
		if (EVP_PKEY_get_octet_string_param(ca->key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf,
			sizeof(buf), &len) != 1 ||
		    (capt = EC_POINT_new(curve_group(k->key_type))) == NULL ||
		    EC_POINT_oct2point(curve_group(k->key_type), capt, buf, len, NULL) != 1)
			break;
		same = EC_POINT_cmp(curve_group(k->key_type), pt, capt, NULL) == 0;
		break;
	case SIGNER_KEY_RSA:
		if (EVP_PKEY_get_base_id(ca->key) != EVP_PKEY_RSA)
			return 0;
		if (EVP_PKEY_get_bn_param(ca->key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
		    (kn = BN_bin2bn(k->modulus, (int)k->modulus_len, NULL)) == NULL)
			break;
		same = BN_cmp(n, kn) == 0;
		break;
	case SIGNER_KEY_ED25519:
		if (EVP_PKEY_get_base_id(ca->key) != EVP_PKEY_ED25519)
			return 0;
		len = sizeof(buf);
		if (EVP_PKEY_get_raw_public_key(ca->key, buf, &len) != 1)
			break;
		same = len == k->key_len && memcmp(buf, k->key, len) == 0;
		break;
	}
	EC_POINT_free(capt);
	BN_free(n);
	BN_free(kn);
	return same;
}

/*
 * The key the signer certifies, from its SubjectPublicKeyInfo spki[0..len)
 * into *k: one DER SPKI (ZTP_EMALFORMED otherwise, an EC point off its
 * curve too), of the type and size the request says (key_type, key_bits;
 * 0 for a SIGN_CSR, whose key OpenSSL has decoded), EC P-256/P-384, RSA
 * 2048-4096 or Ed25519, key usage ku that the type can have, and not the
 * CA's own key (ZTP_EINVAL). Nothing here decodes the key into an
 * EVP_PKEY: OpenSSL 3's decoder set-up costs more than signing.
 */
static int
check_spki(const struct ca *ca, const uint8_t *spki, size_t len, uint8_t key_type,
    uint16_t key_bits, uint16_t ku, struct signer_spki *k, const char **why)
{
	EC_POINT *pt = NULL;
	int rc, same;

	if ((rc = signer_spki_parse(spki, len, k)) != 0) {
		*why = rc == ZTP_EINVAL ? "key type not allowed" :
					  "the key is not one DER SubjectPublicKeyInfo";
		return rc;
	}
	if (key_type != 0 && (k->key_type != key_type || k->key_bits != key_bits)) {
		*why = "the key is not of the type and size the request says";
		return ZTP_EINVAL;
	}
	switch (k->key_type) {
	case SIGNER_KEY_EC_P256:
	case SIGNER_KEY_EC_P384:
		if (ku & SIGNER_KU_KEY_ENCIPHERMENT) {
			*why = "keyEncipherment for an EC key";
			return ZTP_EINVAL;
		}
		if (curve_group(k->key_type) == NULL ||
		    (pt = EC_POINT_new(curve_group(k->key_type))) == NULL) {
			*why = "cannot check the EC point";
			rc = ZTP_ECRYPTO;
			goto out;
		}
		/* EC_POINT_oct2point checks that the point is on the curve */
		if (EC_POINT_oct2point(curve_group(k->key_type), pt, k->key, k->key_len, NULL) != 1) {
			*why = "the EC point is not on its curve";
			rc = ZTP_EMALFORMED;
			goto out;
		}
		break;
	case SIGNER_KEY_RSA:
		if (k->key_bits < 2048 || k->key_bits > 4096) {
			*why = "RSA key not of 2048 to 4096 bits";
			return ZTP_EINVAL;
		}
		if (ku & SIGNER_KU_KEY_AGREEMENT) {
			*why = "keyAgreement for an RSA key";
			return ZTP_EINVAL;
		}
		break;
	case SIGNER_KEY_ED25519:
		if (ku != SIGNER_KU_DIGITAL_SIGNATURE) {
			*why = "key usage other than digitalSignature for an Ed25519 key";
			return ZTP_EINVAL;
		}
		break;
	}
	if ((same = is_ca_key(ca, k, pt)) != 0) {
		*why = same > 0 ? "the request carries the CA's own key" :
				  "cannot compare the key with the CA's";
		rc = same > 0 ? ZTP_EINVAL : ZTP_ECRYPTO;
		goto out;
	}
	rc = 0;
out:
	EC_POINT_free(pt);
	ERR_clear_error();
	return rc;
}

/*
 * Put the checked key k in cert as its SubjectPublicKeyInfo, from its
 * parts: the same DER as the request's, without an EVP_PKEY (which
 * X509_set_pubkey would encode again). Returns 1 or 0.
 */
static int
set_spki(X509 *cert, const struct signer_spki *k)
{
	X509_PUBKEY *xpk = X509_get_X509_PUBKEY(cert);
	ASN1_OBJECT *alg;
	void *param = NULL;
	unsigned char *bits;
	int ptype;

	switch (k->key_type) {
	case SIGNER_KEY_EC_P256:
	case SIGNER_KEY_EC_P384:
		alg = OBJ_nid2obj(NID_X9_62_id_ecPublicKey);
		ptype = V_ASN1_OBJECT;
		param = OBJ_nid2obj(k->key_type == SIGNER_KEY_EC_P256 ? NID_X9_62_prime256v1 :
									 NID_secp384r1);
		break;
	case SIGNER_KEY_RSA:
		alg = OBJ_nid2obj(NID_rsaEncryption);
		ptype = V_ASN1_NULL;
		break;
	case SIGNER_KEY_ED25519:
		alg = OBJ_nid2obj(NID_ED25519);
		ptype = V_ASN1_UNDEF; /* RFC 8410: parameters absent */
		break;
	default:
		return 0;
	}
	if (xpk == NULL || alg == NULL || (ptype == V_ASN1_OBJECT && param == NULL) ||
	    (bits = OPENSSL_memdup(k->key, k->key_len)) == NULL)
		return 0;
	/* alg and param are OpenSSL's static objects; bits becomes the BIT STRING's */
	if (!X509_PUBKEY_set0_param(xpk, alg, ptype, param, bits, (int)k->key_len)) {
		OPENSSL_free(bits);
		return 0;
	}
	return 1;
}

/*
 * Issue the certificate of request r for the key spki[0..spki_len) (a DER
 * SubjectPublicKeyInfo, checked here with check_spki()) into *out
 * (pointing to *der, which the caller frees with OPENSSL_free). Returns 0
 * or a code, with *why set.
 */
static int
issue_spki(const struct ca *ca, const struct signer_csr_req *r, const uint8_t *spki,
    size_t spki_len, struct signer_msg *out, uint8_t **der, const char **why)
{
	struct signer_spki k;
	uint8_t serial[16];
	X509_NAME *subject = NULL;
	X509 *cert = NULL;
	ASN1_TIME *t = NULL;
	int64_t now = (int64_t)time(NULL), nb, na;
	int n, rc;

	if ((rc = check_spki(ca, spki, spki_len, r->key_type, r->key_bits, r->profile.key_usage,
		 &k, why)) != 0)
		return rc;
	if (now < ca->not_before || now >= ca->not_after) {
		*why = "the CA certificate is not valid now";
		return ZTP_EEXPIRED;
	}
	nb = now - BACKDATE_SECS < ca->not_before ? ca->not_before : now - BACKDATE_SECS;
	na = now + (int64_t)r->profile.days * 86400;
	if (na > ca->not_after)
		na = ca->not_after;

	*why = "cannot build the certificate";
	rc = ZTP_ECRYPTO;
	if ((cert = X509_new()) == NULL || (subject = make_subject(&r->subject)) == NULL ||
	    (t = ASN1_TIME_new()) == NULL)
		goto out;
	if (!X509_set_version(cert, X509_VERSION_3) || !set_serial(cert, serial) ||
	    !X509_set_issuer_name(cert, X509_get_subject_name(ca->cert)) ||
	    !X509_set_subject_name(cert, subject) || !set_spki(cert, &k) ||
	    ASN1_TIME_set(t, (time_t)nb) == NULL || !X509_set1_notBefore(cert, t) ||
	    ASN1_TIME_set(t, (time_t)na) == NULL || !X509_set1_notAfter(cert, t) ||
	    !add_cert_exts(ca, cert, r))
		goto out;
	if (X509_sign(cert, ca->key, ca->md) <= 0) {
		ssl_warn("X509_sign");
		goto out;
	}
	if ((n = i2d_X509(cert, der)) <= 0)
		goto out;
	if (n > SIGNER_CERT_MAX) {
		*why = "the certificate is too large";
		rc = ZTP_ETOOBIG;
		goto out;
	}
	out->type = SIGNER_MSG_CERT;
	out->u.cert.cert = *der;
	out->u.cert.cert_len = (size_t)n;
	memcpy(out->u.cert.serial, serial, sizeof(serial));
	out->u.cert.serial_len = sizeof(serial);
	out->u.cert.not_before = nb;
	out->u.cert.not_after = na;
	log_issued(r, serial, sizeof(serial), na);
	rc = 0;
out:
	ASN1_TIME_free(t);
	X509_NAME_free(subject);
	X509_free(cert);
	ERR_clear_error();
	return rc;
}

/*
 * SIGN_SPKI: the front has decoded the device's CSR and verified its
 * signature (proof of possession) once, and sends the key it found.
 * The signer does not verify a CSR again: proof of possession protects
 * against a device asking for a certificate on someone else's key, which
 * the front checks; against a compromised front it adds nothing, since
 * such a front could make a key pair and sign any CSR it likes for it. What
 * the signer keeps to itself is what only it can enforce: the key is of
 * an allowed type and size, well formed, not the CA's own, and its key
 * usage fits, as check_spki() checks.
 */
static int
issue(const struct ca *ca, const struct signer_csr_req *r, struct signer_msg *out,
    uint8_t **der, const char **why)
{
	return issue_spki(ca, r, r->spki, r->spki_len, out, der, why);
}

/*
 * SIGN_CSR, for callers that have a CSR and no reason to decode it
 * themselves (the server certificate at start-up): the CSR is decoded,
 * its key checked, its signature verified and its key compared with
 * r->key_sha256 here, then issued as SIGN_SPKI issues. Slower: OpenSSL 3
 * decodes the key.
 */
static int
issue_csr(const struct ca *ca, const struct signer_csr_req *r, struct signer_msg *out,
    uint8_t **der, const char **why)
{
	const unsigned char *p = r->csr;
	unsigned char *spki = NULL;
	uint8_t hash[32];
	X509_REQ *req = NULL;
	EVP_PKEY *pub;
	int n, rc;

	req = d2i_X509_REQ(NULL, &p, (long)r->csr_len);
	if (req == NULL || p != r->csr + r->csr_len) {
		*why = "the CSR is not one DER PKCS#10 request";
		rc = ZTP_EMALFORMED;
		goto out;
	}
	if (X509_REQ_get_version(req) != X509_REQ_VERSION_1 ||
	    (pub = X509_REQ_get0_pubkey(req)) == NULL) {
		*why = "the CSR has a bad version or an unusable key";
		rc = ZTP_EMALFORMED;
		goto out;
	}
	if ((rc = check_key(ca, pub, r->profile.key_usage, why)) != 0)
		goto out;
	if (X509_REQ_verify(req, pub) != 1) {
		*why = "the CSR's signature does not verify";
		rc = ZTP_EAUTH;
		goto out;
	}
	if (r->has_key_sha256) {
		if (crypto_pkey_sha256(pub, hash) != 0) {
			*why = "cannot hash the CSR's key";
			rc = ZTP_ECRYPTO;
			goto out;
		}
		if (!crypto_equal(hash, r->key_sha256, sizeof(hash))) {
			*why = "the CSR's key is not the expected key";
			rc = ZTP_EAUTH;
			goto out;
		}
	}
	if ((n = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(req), &spki)) <= 0) {
		*why = "cannot encode the CSR's key";
		rc = ZTP_ECRYPTO;
		goto out;
	}
	rc = issue_spki(ca, r, spki, (size_t)n, out, der, why);
out:
	OPENSSL_free(spki);
	X509_REQ_free(req);
	ERR_clear_error();
	return rc;
}

/* One CRL entry into crl. Returns 1 or 0. */
static int
add_revoked(X509_CRL *crl, const struct signer_revoked *e)
{
	X509_REVOKED *rv = X509_REVOKED_new();
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *t = NULL;
	ASN1_ENUMERATED *reason = NULL;
	BIGNUM *bn = NULL;
	int ok = 0;

	if (rv == NULL || (bn = BN_bin2bn(e->serial, (int)e->serial_len, NULL)) == NULL ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    (t = ASN1_TIME_set(NULL, (time_t)e->revoked_at)) == NULL ||
	    !X509_REVOKED_set_serialNumber(rv, serial) || !X509_REVOKED_set_revocationDate(rv, t))
		goto out;
	/* RFC 5280 5.3.1: unspecified (0) is left out */
	if (e->reason != SIGNER_REASON_UNSPECIFIED &&
	    ((reason = ASN1_ENUMERATED_new()) == NULL || !ASN1_ENUMERATED_set(reason, e->reason) ||
		X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, reason, 0, 0) != 1))
		goto out;
	/* a push: entries come in ascending order, X509_CRL_sort() runs once */
	if (X509_CRL_add0_revoked(crl, rv) != 1)
		goto out;
	rv = NULL;
	ok = 1;
out:
	X509_REVOKED_free(rv);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(reason);
	BN_free(bn);
	return ok;
}

/*
 * A CRL being built, from CRL_BEGIN (or SIGN_CRL) to its signing, and then
 * its DER until the last part has been read:
 *
 *   CRL_IDLE     nothing held
 *   CRL_ENTRIES  crl holds the entries so far (received of total); last is
 *                the highest serial, the next must be above it
 *   CRL_SIGNED   der (OpenSSL's) holds the signed CRL, sent bytes of it
 *                have gone out; the X509_CRL is freed
 *
 * The signer holds one (crl_cur): a second CRL_BEGIN before the end is
 * refused. Any refusal of a CRL_* request drops it (crl_reset()), so the
 * next CRL_BEGIN starts clean and no memory stays held.
 */
enum crl_state { CRL_IDLE, CRL_ENTRIES, CRL_SIGNED };

struct crl_build {
	enum crl_state state;
	X509_CRL *crl;
	uint64_t number;
	uint32_t next_update;
	uint32_t total, received;
	uint8_t last[SIGNER_SERIAL_MAX];
	size_t last_len;
	uint8_t *der;
	size_t der_len, sent;
};

static struct crl_build crl_cur;

static void
crl_reset(struct crl_build *b)
{
	static const struct crl_build idle;

	X509_CRL_free(b->crl);
	OPENSSL_free(b->der);
	*b = idle;
}

/*
 * Start b (idle) for a CRL numbered number of total entries, valid
 * next_update seconds from its signing: the fields known now, the times
 * at signing. Returns 0 or ZTP_ECRYPTO (b reset).
 */
static int
crl_start(const struct ca *ca, struct crl_build *b, uint64_t number, uint32_t next_update,
    uint32_t total)
{
	ASN1_INTEGER *num = NULL;
	AUTHORITY_KEYID *akid = NULL;
	int rc = ZTP_ECRYPTO;

	if ((b->crl = X509_CRL_new()) == NULL || (num = ASN1_INTEGER_new()) == NULL ||
	    (akid = ca_akid(ca)) == NULL)
		goto out;
	if (!X509_CRL_set_version(b->crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(b->crl, X509_get_subject_name(ca->cert)) ||
	    !ASN1_INTEGER_set_uint64(num, number) ||
	    X509_CRL_add1_ext_i2d(b->crl, NID_crl_number, num, 0, 0) != 1 ||
	    X509_CRL_add1_ext_i2d(b->crl, NID_authority_key_identifier, akid, 0, 0) != 1)
		goto out;
	b->state = CRL_ENTRIES;
	b->number = number;
	b->next_update = next_update;
	b->total = total;
	rc = 0;
out:
	if (rc != 0)
		crl_reset(b);
	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(akid);
	ERR_clear_error();
	return rc;
}

/*
 * The entries of r into b: no more than announced, each above the
 * previous one (within r the codec has checked it, across messages this
 * does), none revoked in the future. Returns 0 or a code with *why; the
 * caller resets b on failure.
 */
static int
crl_add(struct crl_build *b, const struct signer_crl_req *r, const char **why)
{
	struct signer_revoked e;
	int64_t now = (int64_t)time(NULL);
	size_t pos = 0;

	if (r->n_revoked > b->total - b->received) {
		*why = "more entries than CRL_BEGIN announced";
		return ZTP_ERANGE;
	}
	while (signer_msg_revoked_next(r, &pos, &e)) {
		if (b->last_len > 0 &&
		    signer_msg_serial_cmp(b->last, b->last_len, e.serial, e.serial_len) >= 0) {
			*why = "a serial not above the previous message's";
			return ZTP_EMALFORMED;
		}
		if (e.revoked_at > now + REVOKED_SKEW_SECS) {
			*why = "a revocation date is in the future";
			return ZTP_ERANGE;
		}
		if (!add_revoked(b->crl, &e)) {
			*why = "cannot build the CRL";
			ERR_clear_error();
			return ZTP_ECRYPTO;
		}
		memcpy(b->last, e.serial, e.serial_len);
		b->last_len = e.serial_len;
		b->received++;
	}
	return 0;
}

/*
 * Sign b (all entries in): times from now, one sort, the signature, the
 * DER into b->der; the X509_CRL is freed at once, only the DER stays.
 * Returns 0 or a code with *why; the caller resets b on failure.
 */
static int
crl_sign(const struct ca *ca, struct crl_build *b, const char **why)
{
	int64_t now = (int64_t)time(NULL), t0 = clock_mono_ms();
	ASN1_TIME *t = NULL;
	int n, rc = ZTP_ECRYPTO;

	*why = "cannot build the CRL";
	if ((t = ASN1_TIME_new()) == NULL || ASN1_TIME_set(t, (time_t)now) == NULL ||
	    !X509_CRL_set1_lastUpdate(b->crl, t) ||
	    ASN1_TIME_set(t, (time_t)(now + b->next_update)) == NULL ||
	    !X509_CRL_set1_nextUpdate(b->crl, t))
		goto out;
	/* the order is the codec's (length, then bytes): already sorted */
	if (!X509_CRL_sort(b->crl) || X509_CRL_sign(b->crl, ca->key, ca->md) <= 0) {
		ssl_warn("X509_CRL_sign");
		goto out;
	}
	if ((n = i2d_X509_CRL(b->crl, &b->der)) <= 0)
		goto out;
	if ((uint64_t)n > SIGNER_CRL_DER_MAX) {
		*why = "the CRL is too large";
		rc = ZTP_ETOOBIG;
		goto out;
	}
	b->der_len = (size_t)n;
	b->sent = 0;
	b->state = CRL_SIGNED;
	X509_CRL_free(b->crl);
	b->crl = NULL;
	log_info("signer: signed CRL number %llu, %u entries, %d bytes, in %lld ms",
	    (unsigned long long)b->number, b->received, n, (long long)(clock_mono_ms() - t0));
	rc = 0;
out:
	ASN1_TIME_free(t);
	ERR_clear_error();
	return rc;
}

/* SIGN_CRL: a CRL that fits one message, built as a sequence would build it. */
static int
make_crl(const struct ca *ca, const struct signer_crl_req *r, struct signer_msg *out,
    uint8_t **der, const char **why)
{
	struct crl_build b;
	int rc;

	memset(&b, 0, sizeof(b));
	b.state = CRL_IDLE;

	*why = "cannot build the CRL";
	if ((rc = crl_start(ca, &b, r->crl_number, r->next_update, (uint32_t)r->n_revoked)) != 0 ||
	    (rc = crl_add(&b, r, why)) != 0 || (rc = crl_sign(ca, &b, why)) != 0)
		goto out;
	if (b.der_len > SIGNER_CRL_MAX) {
		*why = "the CRL is too large";
		rc = ZTP_ETOOBIG;
		goto out;
	}
	*der = b.der;
	b.der = NULL;
	out->type = SIGNER_MSG_CRL;
	out->u.crl_der.crl = *der;
	out->u.crl_der.crl_len = b.der_len;
out:
	crl_reset(&b);
	return rc;
}

/* The next part of the signed CRL of b, from b->sent, into out. */
static void
crl_part(struct crl_build *b, struct signer_msg *out)
{
	size_t n = b->der_len - b->sent;

	if (n > SIGNER_CRL_PART_MAX)
		n = SIGNER_CRL_PART_MAX;
	out->type = SIGNER_MSG_CRL_PART;
	out->u.crl_der.crl = b->der + b->sent;
	out->u.crl_der.crl_len = n;
	out->u.crl_der.size = (uint32_t)b->der_len;
	out->u.crl_der.offset = (uint32_t)b->sent;
	b->sent += n;
}

/*
 * One request of the CRL sequence (signer_msg.h) against crl_cur: its
 * answer into out (which may point into crl_cur's DER until crl_settle()).
 * Returns 0 or a code with *why; on failure crl_settle() drops the CRL.
 */
static int
crl_step(const struct ca *ca, const struct signer_msg *m, struct signer_msg *out,
    const char **why)
{
	struct crl_build *b = &crl_cur;
	int rc;

	switch (b->state) {
	case CRL_IDLE:
		if (m->type != SIGNER_MSG_CRL_BEGIN)
			break;
		if ((rc = crl_start(ca, b, m->u.crl.crl_number, m->u.crl.next_update,
			 m->u.crl.total)) != 0) {
			*why = "cannot build the CRL";
			return rc;
		}
		out->type = SIGNER_MSG_CRL_ACK;
		out->u.crl_ack.received = 0;
		return 0;
	case CRL_ENTRIES:
		if (m->type == SIGNER_MSG_CRL_ENTRIES) {
			if ((rc = crl_add(b, &m->u.crl, why)) != 0)
				return rc;
			out->type = SIGNER_MSG_CRL_ACK;
			out->u.crl_ack.received = b->received;
			return 0;
		}
		if (m->type != SIGNER_MSG_CRL_END)
			break;
		if (m->u.crl.total != b->total || b->received != b->total) {
			*why = "CRL_END before the announced number of entries";
			return ZTP_EMALFORMED;
		}
		if ((rc = crl_sign(ca, b, why)) != 0)
			return rc;
		crl_part(b, out);
		return 0;
	case CRL_SIGNED:
		if (m->type != SIGNER_MSG_CRL_READ || m->u.crl_read.offset != b->sent)
			break;
		crl_part(b, out);
		return 0;
	}
	*why = "CRL request out of sequence";
	return ZTP_ECONFLICT;
}

/*
 * After the answer to a CRL_* request is encoded: drop the CRL on a
 * refusal, and once its last byte is out.
 */
static void
crl_settle(int rc)
{
	if (rc != 0 || (crl_cur.state == CRL_SIGNED && crl_cur.sent == crl_cur.der_len))
		crl_reset(&crl_cur);
}

/* 1 for the types of the CRL sequence. */
static int
crl_seq_type(unsigned type)
{
	return type == SIGNER_MSG_CRL_BEGIN || type == SIGNER_MSG_CRL_ENTRIES ||
	    type == SIGNER_MSG_CRL_END || type == SIGNER_MSG_CRL_READ;
}

static const char *
type_name(const uint8_t *req, size_t len)
{
	if (len < 2)
		return "no type";
	switch ((req[0] << 8) | req[1]) {
	case SIGNER_MSG_PING:
		return "PING";
	case SIGNER_MSG_SIGN_CSR:
		return "SIGN_CSR";
	case SIGNER_MSG_SIGN_SPKI:
		return "SIGN_SPKI";
	case SIGNER_MSG_SIGN_CRL:
		return "SIGN_CRL";
	case SIGNER_MSG_CRL_BEGIN:
		return "CRL_BEGIN";
	case SIGNER_MSG_CRL_ENTRIES:
		return "CRL_ENTRIES";
	case SIGNER_MSG_CRL_END:
		return "CRL_END";
	case SIGNER_MSG_CRL_READ:
		return "CRL_READ";
	case SIGNER_MSG_ZTPCA_CREATE:
		return "ZTPCA_CREATE";
	case SIGNER_MSG_ZTPCA_IMPORT:
		return "ZTPCA_IMPORT";
	case SIGNER_MSG_ZTPCA_SIGN:
		return "ZTPCA_SIGN";
	case SIGNER_MSG_ZTPCA_POP:
		return "ZTPCA_POP";
	case SIGNER_MSG_ZTPCA_SIGN_DATA:
		return "ZTPCA_SIGN_DATA";
	}
	return "unknown type";
}

int
signer_issue_for(X509 *cert, EVP_PKEY *key, const struct signer_csr_req *r, const uint8_t *spki,
    size_t spki_len, struct signer_msg *out, uint8_t **der, const char **why)
{
	struct ca ca = { key, cert, NULL, 0, 0 };

	if (ca_times_md(&ca) != 0) {
		*why = "the CA certificate's validity is unreadable";
		return ZTP_EMALFORMED;
	}
	return issue_spki(&ca, r, spki, spki_len, out, der, why);
}

/*
 * Answer one request req[0..len) into resp (SIGNER_MSG_MAX bytes):
 * its response, or ERROR (logged) for anything refused.
 */
static size_t
handle(const struct ca *ca, const uint8_t *req, size_t len, int truncated, uint8_t *resp)
{
	static struct signer_msg zero;
	struct signer_msg m, out = zero;
	const char *why = "malformed request";
	uint8_t *der = NULL;
	size_t rlen = 0;
	int rc;

	if (truncated) {
		rc = ZTP_ETOOBIG;
		why = "request over the size limit";
	} else if ((rc = signer_msg_decode(req, len, &m)) == 0) {
		switch (m.type) {
		case SIGNER_MSG_PING:
			out.type = SIGNER_MSG_PONG;
			break;
		case SIGNER_MSG_SIGN_SPKI:
			rc = issue(ca, &m.u.csr, &out, &der, &why);
			break;
		case SIGNER_MSG_SIGN_CSR:
			rc = issue_csr(ca, &m.u.csr, &out, &der, &why);
			break;
		case SIGNER_MSG_SIGN_CRL:
			rc = make_crl(ca, &m.u.crl, &out, &der, &why);
			break;
		case SIGNER_MSG_CRL_BEGIN:
		case SIGNER_MSG_CRL_ENTRIES:
		case SIGNER_MSG_CRL_END:
		case SIGNER_MSG_CRL_READ:
			rc = crl_step(ca, &m, &out, &why);
			break;
		case SIGNER_MSG_ZTPCA_CREATE:
		case SIGNER_MSG_ZTPCA_IMPORT:
		case SIGNER_MSG_ZTPCA_SIGN:
		case SIGNER_MSG_ZTPCA_POP:
		case SIGNER_MSG_ZTPCA_SIGN_DATA:
			rc = ztpca_handle(ca->key, &m, &out, &der, &why);
			break;
		default:
			rc = ZTP_EMALFORMED;
			why = "not a request";
		}
		if (rc == 0 && (rc = signer_msg_encode(&out, resp, SIGNER_MSG_MAX, &rlen)) != 0)
			why = "cannot encode the answer";
	}
	/* a refused CRL_* request, even one that did not decode, ends the CRL */
	if (len >= 2 && crl_seq_type((unsigned)((req[0] << 8) | req[1])))
		crl_settle(rc);
	OPENSSL_free(der);
	if (rc == 0)
		return rlen;
	if (rc == ZTP_EIO)
		rc = ZTP_EINTERNAL; /* ZTP_EIO means "no working signer" to the client */
	log_warnx("signer: refused a request (%s, %zu bytes): %s (%s)", type_name(req, len), len,
	    why, ztp_strerror(rc));
	out = zero;
	out.type = SIGNER_MSG_ERROR;
	out.u.error.code = rc;
	snprintf(out.u.error.text, sizeof(out.u.error.text), "%s", why);
	if (signer_msg_encode(&out, resp, SIGNER_MSG_MAX, &rlen) != 0)
		fatalx("signer: cannot encode an error"); /* a broken invariant */
	return rlen;
}

/* 1 if the peer has closed the socket (after a zero-length read). */
static int
peer_closed(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0;
}

#ifdef ZTP_FAULT_POINTS
/*
 * ZTP_FAULT=signer_syscall (test builds, fault.h): SIGUSR1 makes the
 * signer call socket(), which its system-call filter forbids.
 */
static volatile sig_atomic_t fault_syscall;

static void
on_usr1(int sig)
{
	(void)sig;
	fault_syscall = 1;
}

static void
fault_syscall_arm(void)
{
	struct sigaction sa;

	if (!fault_active("signer_syscall"))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
}

/* After poll() was interrupted: the forbidden call if SIGUSR1 came. */
static void
fault_syscall_fire(void)
{
	if (fault_syscall) {
		log_warnx("fault point signer_syscall: calling socket()");
		socket(AF_INET, SOCK_STREAM, 0);
	}
}
#else
#define fault_syscall_arm() ((void)0)
#define fault_syscall_fire() ((void)0)
#endif

/*
 * One request on fd and its answer. Returns 0, or -1 when fd is closed or
 * broken (the caller drops it).
 */
static int
serve_one(int fd, const struct ca *ca)
{
	static uint8_t req[SIGNER_MSG_MAX], resp[SIGNER_MSG_MAX];
	struct iovec iov;
	struct msghdr mh;
	size_t rlen;
	ssize_t n;

	iov.iov_base = req;
	iov.iov_len = sizeof(req);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	while ((n = recvmsg(fd, &mh, MSG_DONTWAIT)) < 0 && errno == EINTR)
		;
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		log_warn("signer: recv");
		return -1;
	}
	if (n == 0 && peer_closed(fd))
		return -1;
	rlen = handle(ca, req, (size_t)n, (mh.msg_flags & MSG_TRUNC) != 0, resp);
	while ((n = send(fd, resp, rlen, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)rlen) {
		log_warn("signer: send");
		return -1;
	}
	return 0;
}

/*
 * Serve the front's sockets: clients[0..n) to begin with, and each one a
 * PASS_FD brings on ctl (the parent's control socket, -1 for none). With a
 * control socket, return when it closes (the parent is gone); without,
 * when the last client has closed.
 */
static void
serve(int ctl, int *clients, int n, const struct ca *ca)
{
	struct pollfd p[SIGNER_CLIENTS_MAX + 1];
	uint8_t buf[IPC_CTL_MAX];
	struct signer_msg m;
	int i, k, fd, rc;

	for (;;) {
		if (ctl < 0 && n == 0)
			return;
		k = 0;
		if (ctl >= 0)
			p[k++] = (struct pollfd){ ctl, POLLIN, 0 };
		for (i = 0; i < n; i++)
			p[k++] = (struct pollfd){ clients[i], POLLIN, 0 };
		if (poll(p, (nfds_t)k, -1) < 0) {
			if (errno != EINTR)
				log_warn("signer: poll");
			fault_syscall_fire();
			continue;
		}
		k = 0;
		if (ctl >= 0 && p[k++].revents != 0) {
			rc = ipc_recv(ctl, buf, sizeof(buf), &m, &fd);
			if (rc == ZTP_ENOENT || rc == ZTP_EIO)
				return;
			if (rc == 0 && m.type == SIGNER_MSG_PASS_FD) {
				if (n < SIGNER_CLIENTS_MAX)
					clients[n++] = fd;
				else {
					log_warnx("signer: more than %d fronts; refusing one",
					    SIGNER_CLIENTS_MAX);
					close(fd);
				}
			} else if (rc != ZTP_EBUSY) {
				log_warnx("signer: unexpected control message (%s)",
				    rc != 0 ? ztp_strerror(rc) : "type");
				if (fd >= 0)
					close(fd);
			}
		}
		for (i = 0; i < n; k++) {
			if (p[k].revents != 0 && serve_one(clients[i], ca) != 0) {
				close(clients[i]);
				clients[i] = clients[--n];
				/* the moved one is served on the next round */
				continue;
			}
			i++;
		}
	}
}

static void
free_ca(struct ca *ca)
{
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	ca->key = NULL;
	ca->cert = NULL;
}

void
signer_child_main(int sock, const char *dir, uint8_t *datakey)
{
	struct ca ca = { NULL, NULL, NULL, 0, 0 };
	int status = 1, clients[1];

	child_signals();
#ifdef __linux__
	/* no core file with the key; no ptrace or /proc/PID/mem by our own user */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	if (child_fds(sock) != 0) {
		log_warn("signer: descriptors");
		_exit(1);
	}
	if (load_ca(dir, datakey, &ca) == 0) {
		OPENSSL_cleanse(datakey, CRYPTO_KEY_LEN);
		clients[0] = SIGNER_FD;
		serve(-1, clients, 1, &ca);
		status = 0;
	}
	OPENSSL_cleanse(datakey, CRYPTO_KEY_LEN);
	free_ca(&ca);
	_exit(status);
}

/*
 * secret.key of an earlier data directory, only to open its ca.key once
 * (cakey_load() then gives it a ca.pass): read when there is no ca.pass,
 * or (even_with_pass) when ca.pass did not open ca.key because a crash cut
 * that migration short. 1 if read into key, 0 if not.
 */
static int
legacy_key(const char *dir, int even_with_pass, uint8_t key[CRYPTO_KEY_LEN])
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/ca.pass", dir);
	if (!even_with_pass && access(path, F_OK) == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/secret.key", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return 0;
	n = read(fd, key, CRYPTO_KEY_LEN);
	close(fd);
	return n == CRYPTO_KEY_LEN;
}

/*
 * What OpenSSL initialises on first use (providers, the EC group, the
 * random generator) may open files: use it all once before the filter.
 */
static int
warm_up(const struct ca *ca)
{
	static const uint8_t nothing[32];
	uint8_t sig[1024];
	size_t len = sizeof(sig);
	EVP_MD_CTX *md;
	X509_CRL *crl;
	int ok;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestSignInit(md, NULL, ca->md, NULL, ca->key) == 1 &&
	    EVP_DigestSign(md, sig, &len, nothing, sizeof(nothing)) == 1;
	EVP_MD_CTX_free(md);
	if ((crl = X509_CRL_new()) != NULL)
		X509_CRL_free(crl);
	ERR_clear_error();
	tzset();
	return ok ? 0 : -1;
}

void
signer_proc_main(const char *dir, const struct privsep_user *u)
{
	struct ca ca = { NULL, NULL, NULL, 0, 0 };
	struct signer_msg ready = { .type = SIGNER_MSG_READY };
	uint8_t key[CRYPTO_KEY_LEN];
	int have_legacy, rc = 1;

	child_signals();
	prctl(PR_SET_NAME, "ztpd-signer", 0, 0, 0);
	/* the same as after the drop, so that a failure here leaves no core */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	fault_syscall_arm();
	if (cakey_create(dir) != 0 || cakey_present(dir) != 0)
		goto out;
	have_legacy = legacy_key(dir, 0, key);
	rc = load_ca(dir, have_legacy ? key : NULL, &ca);
	if (rc != 0 && !have_legacy && legacy_key(dir, 1, key)) {
		/* a migration cut short: ca.pass written, ca.key not yet encrypted with it */
		free_ca(&ca);
		rc = load_ca(dir, key, &ca);
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (rc != 0 || warm_up(&ca) != 0) {
		rc = 1;
		goto out;
	}
	rc = 1;
	if (privsep_drop(u) != 0)
		goto out;
	if (sandbox_signer() != 0)
		goto out;
	if (ipc_send(SIGNER_CTL_FD, &ready, -1) != 0) {
		log_warnx("signer: the parent is gone");
		goto out;
	}
	log_info("signer %d: holds the CA %s/ca.pem, as user %s, system calls filtered",
	    (int)getpid(), dir, u->name);
	{
		int clients[SIGNER_CLIENTS_MAX];
		serve(SIGNER_CTL_FD, clients, 0, &ca);
	}
	rc = 0;
out:
	free_ca(&ca);
	/* _exit: no atexit handlers, which may need calls the filter forbids */
	_exit(rc);
}
