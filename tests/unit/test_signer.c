/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CA process (src/server/signer/signer.h), end to end: a data directory made
 * by datadir_open(), a real signer child, CSRs and CRLs checked with
 * OpenSSL against ca.pem.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "cakey.h"
#include "datadir.h"
#include "hex.h"
#include "signer.h"
#include "signer_client.h"
#include "ztp/err.h"

/* One data directory for the whole run, made as ztpd makes it. */
static char dir[PATH_MAX];
static uint8_t datakey[CRYPTO_KEY_LEN];
static X509 *ca_cert;
static EVP_PKEY *dev_key; /* a device key, P-256 */

static const struct signer_opts fast = { 2000, 5000, 0 };

static void
rm_dir(const char *path)
{
	char p[PATH_MAX + 300];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(path);
}

static int
group_setup(void **state)
{
	struct datadir dd;

	snprintf(dir, sizeof(dir), "/tmp/ztp-test-signer.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	if (cakey_create(dir) != 0 || datadir_open(&dd, dir) != 0)
		return -1;
	memcpy(datakey, dd.key, sizeof(datakey));
	ca_cert = X509_dup(dd.ca_cert);
	datadir_close(&dd);
	dev_key = EVP_EC_gen("P-256");
	return ca_cert != NULL && dev_key != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	X509_free(ca_cert);
	EVP_PKEY_free(dev_key);
	rm_dir(dir);
	return 0;
}

static int
setup(void **state)
{
	struct signer *s;

	if (signer_start(&s, dir, datakey, &fast) != 0)
		return -1;
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	signer_free(*state);
	return 0;
}

/* ---- helpers ---- */

/* A DER CSR for key with subject CN=cn; the caller frees *der (OPENSSL_free). */
static size_t
make_csr(EVP_PKEY *key, const char *cn, uint8_t **der)
{
	X509_REQ *req = X509_REQ_new();
	int base = EVP_PKEY_get_base_id(key), n;

	assert_non_null(req);
	assert_int_equal(X509_REQ_set_version(req, X509_REQ_VERSION_1), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
			     MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0),
	    1);
	assert_true(X509_REQ_sign(req, key, base == EVP_PKEY_ED25519 ? NULL : EVP_sha256()) > 0);
	*der = NULL;
	n = i2d_X509_REQ(req, der);
	assert_true(n > 0);
	X509_REQ_free(req);
	return (size_t)n;
}

/* A request for csr: CN=dev-0001, 30 days, digitalSignature, clientAuth. */
static void
base_req(struct signer_csr_req *r, const uint8_t *csr, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->csr = csr;
	r->csr_len = len;
	strcpy(r->subject.cn, "dev-0001");
	r->profile.days = 30;
	r->profile.key_usage = SIGNER_KU_DIGITAL_SIGNATURE;
	r->profile.ext_key_usage = SIGNER_EKU_CLIENT_AUTH;
}

static int64_t
unix_time(const ASN1_TIME *t)
{
	struct tm tm;

	assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
	return (int64_t)timegm(&tm);
}

static void
name_text(X509_NAME *name, int nid, char *out, int cap)
{
	out[0] = '\0';
	X509_NAME_get_text_by_NID(name, nid, out, cap);
}

/* 0 if cert chains to ca.pem for purpose (X509_PURPOSE_*), else the verify error. */
static int
verify_chain(X509 *cert, int purpose, X509_CRL *crl)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc;

	assert_non_null(st);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(st, ca_cert), 1);
	if (crl != NULL) {
		assert_int_equal(X509_STORE_add_crl(st, crl), 1);
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	}
	assert_int_equal(X509_STORE_CTX_init(ctx, st, cert, NULL), 1);
	assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
	rc = X509_verify_cert(ctx) == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return rc;
}

/* Issue a certificate for dev_key under base_req(); returns the X509. */
static X509 *
issue(struct signer *s, struct signer_issued *iss)
{
	struct signer_csr_req req;
	const unsigned char *p;
	uint8_t *csr;
	size_t len = make_csr(dev_key, "dev-0001", &csr);
	X509 *cert;

	base_req(&req, csr, len);
	assert_int_equal(signer_sign_csr(s, &req, iss), 0);
	OPENSSL_free(csr);
	p = iss->der;
	cert = d2i_X509(NULL, &p, (long)iss->der_len);
	assert_non_null(cert);
	return cert;
}

/* The ERROR code of a raw exchange. */
static int
raw_error(struct signer *s, const uint8_t *req, size_t len)
{
	static uint8_t resp[SIGNER_MSG_MAX];
	struct signer_msg m;
	size_t rlen;

	assert_int_equal(signer_exchange_raw(s, req, len, resp, sizeof(resp), &rlen), 0);
	assert_int_equal(signer_msg_decode(resp, rlen, &m), 0);
	assert_int_equal(m.type, SIGNER_MSG_ERROR);
	return m.u.error.code;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 if pid is gone (reaped), 0 if it still exists. */
static int
gone(pid_t pid)
{
	return kill(pid, 0) != 0 && errno == ESRCH;
}

/* ---- starting ---- */

static void
test_start_answers_ping_and_this_process_loads_no_key(void **state)
{
	struct signer *s = *state;

	assert_true(signer_pid(s) > 0);
	assert_int_equal(signer_ping(s), 0);
	assert_int_equal(signer_key_loads(), 0);
}

/* The CA key opens with ca.pass only: a data key is no longer what unlocks it. */
static void
test_wrong_ca_pass_fails_to_start(void **state)
{
	struct signer *s = (struct signer *)0x1;
	char path[PATH_MAX], saved[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/ca.pass", dir);
	snprintf(saved, sizeof(saved), "%s/ca.pass.saved", dir);
	assert_int_equal(rename(path, saved), 0);
	assert_non_null(f = fopen(path, "w"));
	fputs("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", f);
	fclose(f);
	assert_int_equal(signer_start(&s, dir, datakey, &fast), ZTP_EIO);
	assert_null(s);
	/* no ca.pass at all: the data key does not open it either */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(signer_start(&s, dir, datakey, &fast), ZTP_EIO);
	assert_null(s);
	assert_int_equal(rename(saved, path), 0);
	assert_int_equal(signer_start(&s, "/nonexistent/ztp", datakey, &fast), ZTP_EIO);
	assert_null(s);
}

static void
test_free_ends_the_signer(void **state)
{
	struct signer *s;
	pid_t pid;

	assert_int_equal(signer_start(&s, dir, datakey, &fast), 0);
	pid = signer_pid(s);
	signer_free(s);
	assert_true(gone(pid));
}

/* ---- certificates ---- */

static void
test_certificate_verifies_with_the_requested_subject_and_profile(void **state)
{
	struct signer *s = *state;
	struct signer_csr_req req;
	struct signer_issued iss;
	char text[256];
	uint8_t *csr, serial[SIGNER_SERIAL_MAX];
	size_t len = make_csr(dev_key, "evil-from-the-csr", &csr);
	const unsigned char *p;
	const ASN1_OCTET_STRING *aki, *ski;
	int64_t now = (int64_t)time(NULL);
	BIGNUM *bn;
	X509 *cert;

	base_req(&req, csr, len);
	strcpy(req.subject.serial_number, "UDID-0001");
	strcpy(req.subject.org, "M\xc3\xbcller GmbH");
	req.profile.days = 397;
	assert_int_equal(signer_sign_csr(s, &req, &iss), 0);
	p = iss.der;
	assert_non_null(cert = d2i_X509(NULL, &p, (long)iss.der_len));

	/* signed by the CA of ca.pem, usable as a TLS client certificate */
	assert_int_equal(X509_verify(cert, X509_get0_pubkey(ca_cert)), 1);
	assert_int_equal(verify_chain(cert, X509_PURPOSE_SSL_CLIENT, NULL), 0);
	assert_int_not_equal(verify_chain(cert, X509_PURPOSE_SSL_SERVER, NULL), 0);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), dev_key), 1);

	/* the subject is the request's, not the CSR's */
	name_text(X509_get_subject_name(cert), NID_commonName, text, sizeof(text));
	assert_string_equal(text, "dev-0001");
	name_text(X509_get_subject_name(cert), NID_serialNumber, text, sizeof(text));
	assert_string_equal(text, "UDID-0001");
	name_text(X509_get_subject_name(cert), NID_organizationName, text, sizeof(text));
	assert_string_equal(text, "M\xc3\xbcller GmbH");
	X509_NAME_oneline(X509_get_subject_name(cert), text, sizeof(text));
	assert_null(strstr(text, "evil"));
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(ca_cert)),
	    0);

	/* profile: end entity, digitalSignature, clientAuth only */
	assert_int_equal(X509_check_ca(cert), 0);
	assert_int_equal(X509_get_key_usage(cert), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_get_extended_key_usage(cert), XKU_SSL_CLIENT);
	assert_int_equal(X509_get_extension_flags(cert) & EXFLAG_BCONS, EXFLAG_BCONS);
	assert_non_null(ski = X509_get0_subject_key_id(cert));
	assert_non_null(aki = X509_get0_authority_key_id(cert));
	assert_int_equal(ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(ca_cert)), 0);
	assert_int_equal(X509_get_ext_by_NID(cert, NID_subject_alt_name, -1), -1);

	/* validity: 397 days from now, backdated an hour for slow clocks */
	assert_true(unix_time(X509_get0_notAfter(cert)) >= now + 397 * 86400);
	assert_true(unix_time(X509_get0_notAfter(cert)) <= now + 397 * 86400 + 5);
	assert_true(unix_time(X509_get0_notBefore(cert)) <= now - 3600 + 5);
	assert_true(unix_time(X509_get0_notBefore(cert)) >= now - 3600 - 5);
	assert_int_equal(iss.not_after, unix_time(X509_get0_notAfter(cert)));
	assert_int_equal(iss.not_before, unix_time(X509_get0_notBefore(cert)));

	/* serial: 16 random bytes, positive, as reported */
	assert_int_equal(iss.serial_len, 16);
	assert_non_null(bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL));
	assert_false(BN_is_negative(bn));
	assert_int_equal(BN_num_bytes(bn), 16);
	BN_bn2bin(bn, serial);
	assert_memory_equal(serial, iss.serial, 16);
	BN_free(bn);

	X509_free(cert);
	signer_issued_free(&iss);
	OPENSSL_free(csr);
}

static void
test_serials_differ(void **state)
{
	struct signer *s = *state;
	struct signer_issued a, b;
	X509 *ca_, *cb;

	ca_ = issue(s, &a);
	cb = issue(s, &b);
	assert_int_not_equal(memcmp(a.serial, b.serial, 16), 0);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca_),
				 X509_get0_serialNumber(cb)),
	    0);
	X509_free(ca_);
	X509_free(cb);
	signer_issued_free(&a);
	signer_issued_free(&b);
}

static void
test_san_and_server_auth_as_requested(void **state)
{
	struct signer *s = *state;
	struct signer_csr_req req;
	struct signer_issued iss;
	uint8_t *csr;
	size_t len = make_csr(dev_key, "gw", &csr);
	const unsigned char *p;
	X509 *cert;

	base_req(&req, csr, len);
	req.profile.ext_key_usage = SIGNER_EKU_SERVER_AUTH | SIGNER_EKU_CLIENT_AUTH;
	req.profile.key_usage = SIGNER_KU_DIGITAL_SIGNATURE | SIGNER_KU_KEY_AGREEMENT;
	req.n_dns = 1;
	strcpy(req.dns[0], "gw1.example.com");
	req.n_ip = 1;
	memcpy(req.ip[0], "\x7f\x00\x00\x01", 4);
	req.ip_len[0] = 4;
	assert_int_equal(signer_sign_csr(s, &req, &iss), 0);
	p = iss.der;
	assert_non_null(cert = d2i_X509(NULL, &p, (long)iss.der_len));
	assert_int_equal(X509_get_extended_key_usage(cert), XKU_SSL_CLIENT | XKU_SSL_SERVER);
	assert_int_equal(X509_get_key_usage(cert), KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT);
	assert_int_equal(X509_check_host(cert, "gw1.example.com", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(cert, "gw2.example.com", 0, 0, NULL), 0);
	assert_int_equal(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
	assert_int_equal(verify_chain(cert, X509_PURPOSE_SSL_SERVER, NULL), 0);
	X509_free(cert);
	signer_issued_free(&iss);
	OPENSSL_free(csr);
}

static void
test_validity_ends_with_the_ca(void **state)
{
	struct signer *s = *state;
	struct signer_csr_req req;
	struct signer_issued iss;
	uint8_t *csr;
	size_t len = make_csr(dev_key, "d", &csr);

	base_req(&req, csr, len);
	req.profile.days = SIGNER_DAYS_MAX; /* 20 years; the CA has 10 */
	assert_int_equal(signer_sign_csr(s, &req, &iss), 0);
	assert_int_equal(iss.not_after, unix_time(X509_get0_notAfter(ca_cert)));
	signer_issued_free(&iss);
	OPENSSL_free(csr);
}

static void
test_csr_with_a_bad_signature_is_refused(void **state)
{
	struct signer *s = *state;
	struct signer_csr_req req;
	struct signer_issued iss;
	uint8_t *csr;
	size_t len = make_csr(dev_key, "d", &csr);

	csr[len - 1] ^= 0x01; /* the last byte of the ECDSA signature */
	base_req(&req, csr, len);
	memset(&iss, 0x5a, sizeof(iss));
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_EAUTH);
	assert_null(iss.der);
	assert_int_equal(iss.der_len, 0);
	/* a refusal is not a failure of the signer */
	assert_int_equal(signer_ping(s), 0);
	OPENSSL_free(csr);
}

static void
test_csr_for_another_key_than_expected_is_refused(void **state)
{
	struct signer *s = *state;
	struct signer_csr_req req;
	struct signer_issued iss;
	unsigned char *spki = NULL;
	uint8_t *csr;
	size_t len = make_csr(dev_key, "d", &csr);
	int n;

	base_req(&req, csr, len);
	req.has_key_sha256 = 1;
	memset(req.key_sha256, 0x11, 32);
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_EAUTH);

	assert_true((n = i2d_PUBKEY(dev_key, &spki)) > 0);
	assert_int_equal(crypto_sha256(spki, (size_t)n, req.key_sha256), 0);
	assert_int_equal(signer_sign_csr(s, &req, &iss), 0);
	signer_issued_free(&iss);
	OPENSSL_free(spki);
	OPENSSL_free(csr);
}

static void
test_what_is_not_one_csr_is_malformed(void **state)
{
	struct signer *s = *state;
	struct signer_csr_req req;
	struct signer_issued iss;
	uint8_t *csr, *longer;
	size_t len = make_csr(dev_key, "d", &csr);

	base_req(&req, (const uint8_t *)"\x30\x03\x02\x01\x00", 5);
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_EMALFORMED);
	base_req(&req, (const uint8_t *)"not DER at all", 14);
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_EMALFORMED);
	/* a good CSR with a trailing byte */
	assert_non_null(longer = malloc(len + 1));
	memcpy(longer, csr, len);
	longer[len] = 0;
	base_req(&req, longer, len + 1);
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_EMALFORMED);
	base_req(&req, csr, len - 1);
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_EMALFORMED);
	free(longer);
	OPENSSL_free(csr);
}

static void
test_keys_and_usages_outside_the_policy_are_refused(void **state)
{
	struct signer *s = *state;
	struct signer_csr_req req;
	struct signer_issued iss;
	EVP_PKEY *rsa1024 = EVP_RSA_gen(1024), *rsa2048 = EVP_RSA_gen(2048);
	EVP_PKEY *p521 = EVP_EC_gen("P-521"), *p384 = EVP_EC_gen("P-384");
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	uint8_t *csr;
	size_t len;

	assert_non_null(rsa1024);
	assert_non_null(rsa2048);
	assert_non_null(p521);
	assert_non_null(p384);
	assert_non_null(ed);

	len = make_csr(rsa1024, "d", &csr);
	base_req(&req, csr, len);
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_EINVAL);
	OPENSSL_free(csr);

	len = make_csr(p521, "d", &csr);
	base_req(&req, csr, len);
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_EINVAL);
	OPENSSL_free(csr);

	len = make_csr(p384, "d", &csr);
	base_req(&req, csr, len);
	assert_int_equal(signer_sign_csr(s, &req, &iss), 0);
	signer_issued_free(&iss);
	req.profile.key_usage |= SIGNER_KU_KEY_ENCIPHERMENT;
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_EINVAL);
	OPENSSL_free(csr);

	len = make_csr(rsa2048, "d", &csr);
	base_req(&req, csr, len);
	req.profile.key_usage |= SIGNER_KU_KEY_ENCIPHERMENT;
	assert_int_equal(signer_sign_csr(s, &req, &iss), 0);
	signer_issued_free(&iss);
	req.profile.key_usage |= SIGNER_KU_KEY_AGREEMENT;
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_EINVAL);
	OPENSSL_free(csr);

	len = make_csr(ed, "d", &csr);
	base_req(&req, csr, len);
	assert_int_equal(signer_sign_csr(s, &req, &iss), 0);
	signer_issued_free(&iss);
	req.profile.key_usage |= SIGNER_KU_KEY_AGREEMENT;
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_EINVAL);
	OPENSSL_free(csr);

	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(ed);
}

static void
test_bad_profiles_are_refused_on_both_sides(void **state)
{
	struct signer *s = *state;
	static struct signer_msg m;
	static uint8_t buf[SIGNER_MSG_MAX];
	struct signer_csr_req req;
	struct signer_issued iss;
	uint8_t *csr;
	size_t len = make_csr(dev_key, "d", &csr), pos;

	/* the client refuses before sending */
	base_req(&req, csr, len);
	req.profile.days = 0;
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_ERANGE);
	base_req(&req, csr, len);
	req.profile.key_usage = 0x0020; /* keyCertSign is not there to ask for */
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_ERANGE);
	base_req(&req, csr, len);
	req.subject.cn[0] = '\0';
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_EMALFORMED);

	/* and the signer refuses the same sent raw: DAYS patched to 0, then to 7301 */
	m.type = SIGNER_MSG_SIGN_CSR;
	base_req(&m.u.csr, csr, len);
	assert_int_equal(signer_msg_encode(&m, buf, sizeof(buf), &len), 0);
	for (pos = SIGNER_MSG_HDR_LEN; buf[pos + 1] != SIGNER_TAG_DAYS;
	     pos += 4 + (size_t)((buf[pos + 2] << 8) | buf[pos + 3]))
		;
	memcpy(buf + pos + 4, "\x00\x00\x00\x00", 4);
	assert_int_equal(raw_error(s, buf, len), ZTP_ERANGE);
	memcpy(buf + pos + 4, "\x00\x00\x1c\x85", 4);
	assert_int_equal(raw_error(s, buf, len), ZTP_ERANGE);
	OPENSSL_free(csr);
}

/* ---- CRLs ---- */

static X509_CRL *
sign_crl(struct signer *s, uint64_t number, uint32_t next, struct signer_revoked *r, size_t n)
{
	const unsigned char *p;
	uint8_t *der;
	size_t len;
	X509_CRL *crl;

	assert_int_equal(signer_sign_crl(s, number, next, r, n, &der, &len), 0);
	p = der;
	assert_non_null(crl = d2i_X509_CRL(NULL, &p, (long)len));
	assert_ptr_equal(p, der + len);
	free(der);
	return crl;
}

static void
test_crl_verifies_and_lists_the_revoked_serials(void **state)
{
	struct signer *s = *state;
	struct signer_issued a, b;
	struct signer_revoked list[3];
	X509 *ca_, *cb;
	X509_CRL *crl;
	X509_REVOKED *rv;
	ASN1_INTEGER *num;
	ASN1_ENUMERATED *reason;
	int64_t now = (int64_t)time(NULL);
	int crit;

	ca_ = issue(s, &a);
	cb = issue(s, &b);
	memset(list, 0, sizeof(list));
	/* unsorted on purpose */
	memcpy(list[0].serial, b.serial, b.serial_len);
	list[0].serial_len = b.serial_len;
	list[0].reason = SIGNER_REASON_KEY_COMPROMISE;
	list[0].revoked_at = now - 60;
	list[1].serial[0] = 0x07;
	list[1].serial_len = 1;
	list[1].reason = SIGNER_REASON_SUPERSEDED;
	list[1].revoked_at = now - 86400;
	memcpy(list[2].serial, a.serial, a.serial_len);
	list[2].serial_len = a.serial_len;
	list[2].reason = SIGNER_REASON_UNSPECIFIED;
	list[2].revoked_at = now - 10;
	crl = sign_crl(s, 42, 7 * 86400, list, 3);

	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca_cert)), 1);
	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca_cert)),
	    0);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 3);
	assert_int_equal(unix_time(X509_CRL_get0_nextUpdate(crl)) -
		unix_time(X509_CRL_get0_lastUpdate(crl)),
	    7 * 86400);
	assert_non_null(num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL));
	assert_int_equal(ASN1_INTEGER_get(num), 42);
	ASN1_INTEGER_free(num);
	assert_true(X509_CRL_get_ext_by_NID(crl, NID_authority_key_identifier, -1) >= 0);

	/* the issued certificates are on it, with their reason and date */
	assert_int_equal(X509_CRL_get0_by_cert(crl, &rv, cb), 1);
	assert_non_null(reason = X509_REVOKED_get_ext_d2i(rv, NID_crl_reason, &crit, NULL));
	assert_int_equal(ASN1_ENUMERATED_get(reason), 1);
	ASN1_ENUMERATED_free(reason);
	assert_int_equal(unix_time(X509_REVOKED_get0_revocationDate(rv)), now - 60);
	assert_int_equal(X509_CRL_get0_by_cert(crl, &rv, ca_), 1);
	assert_null(X509_REVOKED_get_ext_d2i(rv, NID_crl_reason, &crit, NULL)); /* unspecified */

	/* and a relying party refuses them */
	assert_int_equal(verify_chain(ca_, X509_PURPOSE_SSL_CLIENT, crl), X509_V_ERR_CERT_REVOKED);
	assert_int_equal(verify_chain(cb, X509_PURPOSE_SSL_CLIENT, crl), X509_V_ERR_CERT_REVOKED);

	X509_CRL_free(crl);
	X509_free(ca_);
	X509_free(cb);
	signer_issued_free(&a);
	signer_issued_free(&b);
}

static void
test_empty_crl_leaves_certificates_valid(void **state)
{
	struct signer *s = *state;
	struct signer_issued a;
	X509 *cert = issue(s, &a);
	X509_CRL *crl = sign_crl(s, 1, 3600, NULL, 0);

	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca_cert)), 1);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0, 1); /* -1: none */
	assert_int_equal(verify_chain(cert, X509_PURPOSE_SSL_CLIENT, crl), 0);
	X509_CRL_free(crl);
	X509_free(cert);
	signer_issued_free(&a);
}

static void
test_crl_with_bad_entries_is_refused(void **state)
{
	struct signer *s = *state;
	struct signer_revoked list[2];
	uint8_t *der;
	size_t len;

	memset(list, 0, sizeof(list));
	list[0].serial[0] = 0x42;
	list[0].serial_len = 1;
	list[0].revoked_at = time(NULL) - 5;
	list[1] = list[0];
	/* the same serial twice */
	assert_int_equal(signer_sign_crl(s, 1, 3600, list, 2, &der, &len), ZTP_EMALFORMED);
	assert_null(der);
	/* a revocation in the future: the signer refuses it */
	list[1].serial[0] = 0x43;
	list[1].revoked_at = time(NULL) + 86400;
	assert_int_equal(signer_sign_crl(s, 1, 3600, list, 2, &der, &len), ZTP_ERANGE);
	/* a next update out of bounds */
	assert_int_equal(signer_sign_crl(s, 1, 10, list, 1, &der, &len), ZTP_ERANGE);
	/* more than the cap: refused before the list is read */
	assert_int_equal(signer_sign_crl(s, 1, 3600, list, SIGNER_CRL_TOTAL_MAX + 1, &der, &len),
	    ZTP_ERANGE);
	assert_int_equal(signer_ping(s), 0);
}

static void
test_largest_crl_fits(void **state)
{
	struct signer *s = *state;
	static struct signer_revoked list[SIGNER_REVOKED_MAX];
	int64_t now = (int64_t)time(NULL);
	X509_CRL *crl;
	size_t i;

	for (i = 0; i < SIGNER_REVOKED_MAX; i++) {
		memset(list[i].serial, 0xff, SIGNER_SERIAL_MAX); /* 21 DER bytes each */
		list[i].serial[18] = (uint8_t)(i >> 8);
		list[i].serial[19] = (uint8_t)i;
		list[i].serial_len = SIGNER_SERIAL_MAX;
		list[i].reason = SIGNER_REASON_AA_COMPROMISE;
		list[i].revoked_at = now - 1;
	}
	crl = sign_crl(s, UINT64_MAX, SIGNER_NEXT_UPDATE_MAX, list, SIGNER_REVOKED_MAX);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), SIGNER_REVOKED_MAX);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca_cert)), 1);
	X509_CRL_free(crl);
}

/* ---- CRLs of any size: the sequence of messages ---- */

/* n entries with distinct 16-byte serials, in descending order (the client sorts). */
static struct signer_revoked *
make_revoked(size_t n)
{
	struct signer_revoked *list = calloc(n > 0 ? n : 1, sizeof(*list));
	int64_t now = (int64_t)time(NULL);
	size_t i, k;

	assert_non_null(list);
	for (i = 0; i < n; i++) {
		k = n - 1 - i;
		list[i].serial[0] = 0x40;
		list[i].serial[12] = (uint8_t)(k >> 24);
		list[i].serial[13] = (uint8_t)(k >> 16);
		list[i].serial[14] = (uint8_t)(k >> 8);
		list[i].serial[15] = (uint8_t)k;
		list[i].serial_len = 16;
		list[i].reason = (uint8_t)(k % 7); /* 0..6 */
		list[i].revoked_at = now - 60 - (int64_t)(k % 1000);
	}
	return list;
}

/* Every entry of list is on crl with its date, and nothing else. */
static void
assert_crl_lists(X509_CRL *crl, const struct signer_revoked *list, size_t n)
{
	STACK_OF(X509_REVOKED) *rs = X509_CRL_get_REVOKED(crl);
	X509_REVOKED *rv;
	ASN1_INTEGER *serial;
	BIGNUM *bn;
	size_t i;

	assert_int_equal(rs == NULL ? 0 : sk_X509_REVOKED_num(rs), (int)n);
	for (i = 0; i < n; i++) {
		assert_non_null(bn = BN_bin2bn(list[i].serial, (int)list[i].serial_len, NULL));
		assert_non_null(serial = BN_to_ASN1_INTEGER(bn, NULL));
		assert_int_equal(X509_CRL_get0_by_serial(crl, &rv, serial), 1);
		assert_int_equal(unix_time(X509_REVOKED_get0_revocationDate(rv)),
		    list[i].revoked_at);
		ASN1_INTEGER_free(serial);
		BN_free(bn);
	}
}

static void
test_crl_of_any_size_lists_every_serial(void **state)
{
	/* none, one, exactly one message, one more, many messages (and a DER of 4 parts) */
	static const size_t sizes[] = { 0, 1, SIGNER_REVOKED_MAX, SIGNER_REVOKED_MAX + 1,
		5 * SIGNER_REVOKED_MAX + 7 };
	struct signer *s = *state;
	struct signer_revoked *list;
	ASN1_INTEGER *num;
	X509_CRL *crl;
	pid_t pid = signer_pid(s);
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		list = make_revoked(sizes[i]);
		crl = sign_crl(s, 100 + i, 3600, list, sizes[i]);
		assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca_cert)), 1);
		assert_non_null(num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL));
		assert_int_equal(ASN1_INTEGER_get(num), (long)(100 + i));
		ASN1_INTEGER_free(num);
		assert_int_equal(unix_time(X509_CRL_get0_nextUpdate(crl)) -
			unix_time(X509_CRL_get0_lastUpdate(crl)),
		    3600);
		assert_crl_lists(crl, list, sizes[i]);
		X509_CRL_free(crl);
		free(list);
	}
	assert_int_equal(signer_pid(s), pid);
}

/* Send m unchecked and return the answer's type; an ERROR's code in *code. */
static uint16_t
raw_msg(struct signer *s, const struct signer_msg *m, int *code)
{
	static uint8_t req[SIGNER_MSG_MAX], resp[SIGNER_MSG_MAX];
	struct signer_msg back;
	size_t len, rlen;

	assert_int_equal(signer_msg_encode(m, req, sizeof(req), &len), 0);
	assert_int_equal(signer_exchange_raw(s, req, len, resp, sizeof(resp), &rlen), 0);
	assert_int_equal(signer_msg_decode(resp, rlen, &back), 0);
	*code = back.type == SIGNER_MSG_ERROR ? back.u.error.code : 0;
	return back.type;
}

static int
raw_begin(struct signer *s, uint32_t total)
{
	struct signer_msg m = { .type = SIGNER_MSG_CRL_BEGIN };
	int code;

	m.u.crl.crl_number = 5;
	m.u.crl.next_update = 3600;
	m.u.crl.total = total;
	return raw_msg(s, &m, &code) == SIGNER_MSG_CRL_ACK ? 0 : code;
}

/* CRL_ENTRIES of serials (one byte each, as given) revoked at when. */
static int
raw_entries(struct signer *s, const uint8_t *serials, size_t n, int64_t when)
{
	struct signer_revoked e[8];
	struct signer_msg m = { .type = SIGNER_MSG_CRL_ENTRIES };
	int code;
	size_t i;

	assert_true(n <= 8);
	memset(e, 0, sizeof(e));
	for (i = 0; i < n; i++) {
		e[i].serial[0] = serials[i];
		e[i].serial_len = 1;
		e[i].revoked_at = when;
	}
	m.u.crl.revoked = e;
	m.u.crl.n_revoked = n;
	return raw_msg(s, &m, &code) == SIGNER_MSG_CRL_ACK ? 0 : code;
}

static int
raw_end(struct signer *s, uint32_t total)
{
	struct signer_msg m = { .type = SIGNER_MSG_CRL_END };
	int code;

	m.u.crl.total = total;
	return raw_msg(s, &m, &code) == SIGNER_MSG_CRL_PART ? 0 : code;
}

static int
raw_read(struct signer *s, uint32_t offset)
{
	struct signer_msg m = { .type = SIGNER_MSG_CRL_READ };
	int code;

	m.u.crl_read.offset = offset;
	return raw_msg(s, &m, &code) == SIGNER_MSG_CRL_PART ? 0 : code;
}

/* The signer holds no CRL: every step but CRL_BEGIN is out of sequence. */
static void
assert_no_crl_held(struct signer *s)
{
	assert_int_equal(raw_entries(s, (const uint8_t *)"\x01", 1, time(NULL) - 5),
	    ZTP_ECONFLICT);
	assert_int_equal(raw_end(s, 0), ZTP_ECONFLICT);
	assert_int_equal(raw_read(s, 1), ZTP_ECONFLICT);
}

static void
test_crl_sequence_out_of_order_is_refused_and_dropped(void **state)
{
	struct signer *s = *state;
	int64_t t = (int64_t)time(NULL) - 5;
	pid_t pid = signer_pid(s);

	/* a step before CRL_BEGIN */
	assert_no_crl_held(s);
	/* CRL_BEGIN twice: refused, and the first is dropped too */
	assert_int_equal(raw_begin(s, 3), 0);
	assert_int_equal(raw_begin(s, 3), ZTP_ECONFLICT);
	assert_no_crl_held(s);
	/* CRL_READ before CRL_END */
	assert_int_equal(raw_begin(s, 1), 0);
	assert_int_equal(raw_entries(s, (const uint8_t *)"\x05", 1, t), 0);
	assert_int_equal(raw_read(s, 1), ZTP_ECONFLICT);
	assert_no_crl_held(s);
	/* SIGN_CSR and PING in between leave it alone */
	assert_int_equal(raw_begin(s, 1), 0);
	assert_int_equal(signer_ping(s), 0);
	assert_int_equal(raw_entries(s, (const uint8_t *)"\x05", 1, t), 0);
	assert_int_equal(raw_end(s, 1), 0); /* one part: done */
	assert_no_crl_held(s);
	assert_int_equal(signer_pid(s), pid);
}

static void
test_crl_sequence_counts_must_match(void **state)
{
	struct signer *s = *state;
	int64_t t = (int64_t)time(NULL) - 5;
	pid_t pid = signer_pid(s);

	/* more entries than announced */
	assert_int_equal(raw_begin(s, 1), 0);
	assert_int_equal(raw_entries(s, (const uint8_t *)"\x05\x06", 2, t), ZTP_ERANGE);
	assert_no_crl_held(s);
	assert_int_equal(raw_begin(s, 2), 0);
	assert_int_equal(raw_entries(s, (const uint8_t *)"\x05", 1, t), 0);
	assert_int_equal(raw_entries(s, (const uint8_t *)"\x06\x07", 2, t), ZTP_ERANGE);
	assert_no_crl_held(s);
	/* CRL_END before all have come */
	assert_int_equal(raw_begin(s, 2), 0);
	assert_int_equal(raw_entries(s, (const uint8_t *)"\x05", 1, t), 0);
	assert_int_equal(raw_end(s, 2), ZTP_EMALFORMED);
	assert_no_crl_held(s);
	/* CRL_END with another total */
	assert_int_equal(raw_begin(s, 2), 0);
	assert_int_equal(raw_entries(s, (const uint8_t *)"\x05\x06", 2, t), 0);
	assert_int_equal(raw_end(s, 3), ZTP_EMALFORMED);
	assert_no_crl_held(s);
	/* a total over the cap: the codec refuses it */
	{
		uint8_t b[] = { 0x00, 0x04, 0x00, 0x00, 0x00, 0x1c,
			0x00, 0x10, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 1,
			0x00, 0x11, 0x00, 0x04, 0x00, 0x00, 0x0e, 0x10,
			0x00, 0x13, 0x00, 0x04, (uint8_t)((SIGNER_CRL_TOTAL_MAX + 1) >> 24),
			(uint8_t)((SIGNER_CRL_TOTAL_MAX + 1) >> 16),
			(uint8_t)((SIGNER_CRL_TOTAL_MAX + 1) >> 8), (uint8_t)(SIGNER_CRL_TOTAL_MAX + 1) };
		assert_int_equal(raw_error(s, b, sizeof(b)), ZTP_ERANGE);
	}
	assert_no_crl_held(s);
	/* the cap itself is accepted */
	assert_int_equal(raw_begin(s, SIGNER_CRL_TOTAL_MAX), 0);
	assert_int_equal(raw_end(s, SIGNER_CRL_TOTAL_MAX), ZTP_EMALFORMED);
	assert_no_crl_held(s);
	assert_int_equal(signer_pid(s), pid);
}

static void
test_crl_sequence_serials_ascend_across_messages(void **state)
{
	struct signer *s = *state;
	struct signer_msg m = { .type = SIGNER_MSG_CRL_ENTRIES };
	struct signer_revoked e[2];
	int64_t t = (int64_t)time(NULL) - 5;
	int code;

	/* the same serial in two messages */
	assert_int_equal(raw_begin(s, 2), 0);
	assert_int_equal(raw_entries(s, (const uint8_t *)"\x05", 1, t), 0);
	assert_int_equal(raw_entries(s, (const uint8_t *)"\x05", 1, t), ZTP_EMALFORMED);
	assert_no_crl_held(s);
	/* a lower one */
	assert_int_equal(raw_begin(s, 3), 0);
	assert_int_equal(raw_entries(s, (const uint8_t *)"\x05\x09", 2, t), 0);
	assert_int_equal(raw_entries(s, (const uint8_t *)"\x07", 1, t), ZTP_EMALFORMED);
	assert_no_crl_held(s);
	/* lower as a number though higher as bytes: 0x0100, then 0xff */
	memset(e, 0, sizeof(e));
	e[0].serial[0] = 0x01;
	e[0].serial_len = 2;
	e[0].revoked_at = t;
	e[1].serial[0] = 0xff;
	e[1].serial_len = 1;
	e[1].revoked_at = t;
	assert_int_equal(raw_begin(s, 2), 0);
	m.u.crl.revoked = &e[0];
	m.u.crl.n_revoked = 1;
	assert_int_equal(raw_msg(s, &m, &code), SIGNER_MSG_CRL_ACK);
	m.u.crl.revoked = &e[1];
	assert_int_equal(raw_msg(s, &m, &code), SIGNER_MSG_ERROR);
	assert_int_equal(code, ZTP_EMALFORMED);
	assert_no_crl_held(s);
	/* a revocation in the future */
	assert_int_equal(raw_begin(s, 1), 0);
	assert_int_equal(raw_entries(s, (const uint8_t *)"\x05", 1, time(NULL) + 86400),
	    ZTP_ERANGE);
	assert_no_crl_held(s);
	/* a CRL_ENTRIES that does not even decode (reason 7) drops it as well */
	assert_int_equal(raw_begin(s, 1), 0);
	{
		uint8_t b[] = { 0x00, 0x05, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x12, 0x00, 0x0b, 0x01, 0x05,
			0x07, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00 };
		assert_int_equal(raw_error(s, b, sizeof(b)), ZTP_ERANGE);
	}
	assert_no_crl_held(s);
	assert_int_equal(signer_ping(s), 0);
}

static void
test_crl_parts_are_read_in_order_once(void **state)
{
	struct signer *s = *state;
	struct signer_revoked *list = make_revoked(3 * SIGNER_REVOKED_MAX);
	struct signer_msg m = { .type = SIGNER_MSG_CRL_ENTRIES };
	uint32_t part;
	size_t i;
	int code;

	/* sorted as the client sends them */
	for (i = 0; i < 3 * SIGNER_REVOKED_MAX / 2; i++) {
		struct signer_revoked x = list[i];
		list[i] = list[3 * SIGNER_REVOKED_MAX - 1 - i];
		list[3 * SIGNER_REVOKED_MAX - 1 - i] = x;
	}
	assert_int_equal(raw_begin(s, 3 * SIGNER_REVOKED_MAX), 0);
	for (i = 0; i < 3; i++) {
		m.u.crl.revoked = list + i * SIGNER_REVOKED_MAX;
		m.u.crl.n_revoked = SIGNER_REVOKED_MAX;
		assert_int_equal(raw_msg(s, &m, &code), SIGNER_MSG_CRL_ACK);
	}
	/* about 130 kB: three parts */
	assert_int_equal(raw_end(s, 3 * SIGNER_REVOKED_MAX), 0);
	part = SIGNER_CRL_PART_MAX;
	/* not the next offset: refused, and the CRL is gone */
	assert_int_equal(raw_read(s, part + 1), ZTP_ECONFLICT);
	assert_int_equal(raw_read(s, part), ZTP_ECONFLICT);
	assert_no_crl_held(s);
	/* read to the end, then nothing more */
	assert_int_equal(raw_begin(s, 3 * SIGNER_REVOKED_MAX), 0);
	for (i = 0; i < 3; i++) {
		m.u.crl.revoked = list + i * SIGNER_REVOKED_MAX;
		assert_int_equal(raw_msg(s, &m, &code), SIGNER_MSG_CRL_ACK);
	}
	assert_int_equal(raw_end(s, 3 * SIGNER_REVOKED_MAX), 0);
	assert_int_equal(raw_read(s, part), 0);
	assert_int_equal(raw_read(s, 2 * part), 0);
	assert_int_equal(raw_read(s, 2 * part), ZTP_ECONFLICT);
	assert_no_crl_held(s);
	free(list);
}

static void
test_crl_client_checks_every_entry_before_sending(void **state)
{
	struct signer *s = *state;
	struct signer_revoked *list = make_revoked(2 * SIGNER_REVOKED_MAX);
	uint8_t *der;
	size_t len;
	pid_t pid = signer_pid(s);

	/* a serial twice, in what would be two messages */
	list[SIGNER_REVOKED_MAX] = list[SIGNER_REVOKED_MAX - 1];
	assert_int_equal(signer_sign_crl(s, 1, 3600, list, 2 * SIGNER_REVOKED_MAX, &der, &len),
	    ZTP_EMALFORMED);
	assert_null(der);
	free(list);
	/* a bad entry far down the list */
	list = make_revoked(2 * SIGNER_REVOKED_MAX);
	list[1500].reason = 8;
	assert_int_equal(signer_sign_crl(s, 1, 3600, list, 2 * SIGNER_REVOKED_MAX, &der, &len),
	    ZTP_ERANGE);
	list[1500].reason = 0;
	list[1700].serial_len = SIGNER_SERIAL_MAX + 1;
	assert_int_equal(signer_sign_crl(s, 1, 3600, list, 2 * SIGNER_REVOKED_MAX, &der, &len),
	    ZTP_ERANGE);
	/* nothing was begun there */
	assert_no_crl_held(s);
	assert_int_equal(signer_pid(s), pid);
	free(list);
}

static void
test_crl_signing_may_take_longer_than_one_request(void **state)
{
	/* 100 ms a request; 50,000 entries take longer than that to sign here */
	struct signer_opts quick = { 100, 5000, 0 };
	struct signer_revoked *list = make_revoked(50000);
	struct signer *s;
	X509_CRL *crl;
	pid_t pid;

	assert_int_equal(signer_start(&s, dir, datakey, &quick), 0);
	pid = signer_pid(s);
	crl = sign_crl(s, 7, 3600, list, 50000);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 50000);
	assert_int_equal(signer_pid(s), pid);
	X509_CRL_free(crl);
	free(list);
	signer_free(s);
}

/* ---- malformed requests ---- */

static void
test_malformed_requests_get_an_error_and_the_signer_stays(void **state)
{
	struct signer *s = *state;
	static uint8_t big[SIGNER_MSG_MAX + 100];
	pid_t pid = signer_pid(s);

	/* empty, short, header length wrong, unknown type, a response, a field twice */
	assert_int_equal(raw_error(s, (const uint8_t *)"", 0), ZTP_EMALFORMED);
	assert_int_equal(raw_error(s, (const uint8_t *)"\x00\x01\x00", 3), ZTP_EMALFORMED);
	assert_int_equal(raw_error(s, (const uint8_t *)"\x00\x01\x00\x00\x00\x01", 6),
	    ZTP_EMALFORMED);
	assert_int_equal(raw_error(s, (const uint8_t *)"\x00\x09\x00\x00\x00\x00", 6),
	    ZTP_EMALFORMED);
	assert_int_equal(raw_error(s, (const uint8_t *)"\x80\x01\x00\x00\x00\x00", 6),
	    ZTP_EMALFORMED);
	assert_int_equal(raw_error(s,
			     (const uint8_t *)"\x00\x03\x00\x00\x00\x18"
					      "\x00\x10\x00\x08\x00\x00\x00\x00\x00\x00\x00\x01"
					      "\x00\x10\x00\x08\x00\x00\x00\x00\x00\x00\x00\x02",
			     30),
	    ZTP_EMALFORMED);
	/* over the maximum, with a consistent header */
	memcpy(big, "\x80\x03\x00\x01\x00\x5e", 6);
	assert_int_equal(raw_error(s, big, sizeof(big)), ZTP_ETOOBIG);

	assert_int_equal(signer_pid(s), pid);
	assert_int_equal(signer_ping(s), 0);
}

/* ---- failure and restart ---- */

static void
test_killed_signer_fails_the_next_call_and_restarts(void **state)
{
	struct signer *s;
	struct signer_issued iss;
	struct signer_opts slow_restart = fast;
	pid_t pid, pid2;
	X509 *cert;

	slow_restart.restart_interval_ms = 60000;
	assert_int_equal(signer_start(&s, dir, datakey, &slow_restart), 0);
	pid = signer_pid(s);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(signer_ping(s), ZTP_EIO);
	assert_int_equal(signer_pid(s), 0);
	assert_true(gone(pid)); /* reaped */
	/* too soon for an automatic restart */
	memset(&iss, 0x5a, sizeof(iss));
	{
		struct signer_csr_req req;
		uint8_t *csr;
		size_t len = make_csr(dev_key, "d", &csr);
		base_req(&req, csr, len);
		assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_EIO);
		assert_null(iss.der);
		OPENSSL_free(csr);
	}
	assert_int_equal(signer_pid(s), 0);

	assert_int_equal(signer_restart(s), 0);
	assert_true((pid2 = signer_pid(s)) > 0);
	assert_int_not_equal(pid2, pid);
	cert = issue(s, &iss);
	assert_int_equal(X509_verify(cert, X509_get0_pubkey(ca_cert)), 1);
	X509_free(cert);
	signer_issued_free(&iss);
	signer_free(s);
}

static void
test_next_call_after_a_failure_starts_a_new_signer(void **state)
{
	struct signer *s = *state;
	struct signer_issued iss;
	uint8_t *der;
	size_t len;
	pid_t pid = signer_pid(s);
	X509 *cert;

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(signer_sign_crl(s, 1, 3600, NULL, 0, &der, &len), ZTP_EIO);
	cert = issue(s, &iss); /* restart_interval_ms 0: at once */
	assert_true(signer_pid(s) > 0);
	assert_int_not_equal(signer_pid(s), pid);
	X509_free(cert);
	signer_issued_free(&iss);
}

static void
test_hung_signer_times_out_and_is_killed(void **state)
{
	struct signer *s;
	struct signer_opts quick = { 300, 5000, 0 };
	int64_t t0;
	pid_t pid;

	assert_int_equal(signer_start(&s, dir, datakey, &quick), 0);
	pid = signer_pid(s);
	assert_int_equal(kill(pid, SIGSTOP), 0);
	t0 = mono_ms();
	assert_int_equal(signer_ping(s), ZTP_EIO);
	assert_true(mono_ms() - t0 >= 300);
	assert_true(mono_ms() - t0 < 3000);
	assert_true(gone(pid));
	assert_int_equal(signer_ping(s), 0); /* a new one */
	signer_free(s);
}

static void
test_signer_outlives_sigterm_and_sigint(void **state)
{
	struct signer *s = *state;
	pid_t pid = signer_pid(s);

	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(kill(pid, SIGINT), 0);
	assert_int_equal(kill(pid, SIGHUP), 0);
	assert_int_equal(signer_ping(s), 0);
	assert_int_equal(signer_pid(s), pid);
}

/* ---- the boundary ---- */

/* 1 if one of this process's descriptors is the file path. */
static int
have_open(const char *path)
{
	char link[64], target[PATH_MAX + 1];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	ssize_t n;
	int found = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		if ((n = readlink(link, target, sizeof(target) - 1)) <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, path) == 0)
			found = 1;
	}
	closedir(d);
	return found;
}

static void
test_this_process_never_holds_the_ca_key(void **state)
{
	struct signer *s = *state;
	struct signer_issued iss;
	char key[PATH_MAX + 16], moved[PATH_MAX + 16];
	X509 *cert;

	snprintf(key, sizeof(key), "%s/ca.key", dir);
	snprintf(moved, sizeof(moved), "%s/ca.key.away", dir);

	cert = issue(s, &iss);
	X509_free(cert);
	signer_issued_free(&iss);
	assert_int_equal(signer_restart(s), 0);
	assert_int_equal(signer_key_loads(), 0);
	assert_false(have_open(key));

	/* the key file is not needed here: signing goes on without it */
	assert_int_equal(rename(key, moved), 0);
	cert = issue(s, &iss);
	X509_free(cert);
	signer_issued_free(&iss);
	/* only a new signer needs it */
	assert_int_equal(signer_restart(s), ZTP_EIO);
	assert_int_equal(rename(moved, key), 0);
	assert_int_equal(signer_restart(s), 0);
	assert_int_equal(signer_ping(s), 0);
	assert_int_equal(signer_key_loads(), 0);
}

static void
test_signer_closes_every_other_descriptor(void **state)
{
	struct signer *s;
	struct pollfd p;
	char c;
	int fds[2];

	/* a pipe without close-on-exec: the child inherits its write end */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(signer_start(&s, dir, datakey, &fast), 0);
	close(fds[1]);
	/* if the signer kept its copy, no end of file would come */
	p.fd = fds[0];
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(read(fds[0], &c, 1), 0);
	close(fds[0]);
	assert_int_equal(signer_ping(s), 0);
	signer_free(s);
}

/* ---- threads ---- */

#define THREADS 4
#define PER_THREAD 25

struct worker_arg {
	struct signer *s;
	uint8_t serials[PER_THREAD][16];
	int failures;
};

static void *
worker(void *p)
{
	struct worker_arg *a = p;
	struct signer_csr_req req;
	struct signer_issued iss;
	uint8_t *csr;
	size_t len = make_csr(dev_key, "t", &csr);
	int i;

	base_req(&req, csr, len);
	for (i = 0; i < PER_THREAD; i++) {
		if (signer_sign_csr(a->s, &req, &iss) != 0 || iss.serial_len != 16) {
			a->failures++;
			continue;
		}
		memcpy(a->serials[i], iss.serial, 16);
		signer_issued_free(&iss);
	}
	OPENSSL_free(csr);
	return NULL;
}

static void
test_threads_share_one_signer(void **state)
{
	static struct worker_arg args[THREADS];
	pthread_t th[THREADS];
	int i, j, k, l;

	for (i = 0; i < THREADS; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].s = *state;
		assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].failures, 0);
	}
	for (i = 0; i < THREADS; i++)
		for (j = 0; j < PER_THREAD; j++)
			for (k = i; k < THREADS; k++)
				for (l = (k == i ? j + 1 : 0); l < PER_THREAD; l++)
					assert_int_not_equal(
					    memcmp(args[i].serials[j], args[k].serials[l], 16), 0);
}

/* ---- a CA not made by datadir.c: P-384, and a CSR with the CA's own key ---- */

static void
test_imported_p384_ca_signs_with_sha384_and_refuses_its_own_key(void **state)
{
	char other[64], path[128], pass[65];
	uint8_t key2[CRYPTO_KEY_LEN], k[32], *csr;
	EVP_PKEY *cakey = EVP_EC_gen("P-384");
	X509 *ca = X509_new(), *cert;
	X509_NAME *name;
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	struct signer *s;
	struct signer_csr_req req;
	struct signer_issued iss;
	const unsigned char *p;
	size_t len;
	FILE *f;

	assert_non_null(cakey);
	assert_non_null(ca);
	snprintf(other, sizeof(other), "/tmp/ztp-test-signer2.XXXXXX");
	assert_non_null(mkdtemp(other));
	memset(key2, 0x77, sizeof(key2));

	/* a P-384 CA as an operator would import it, stored as datadir.c stores keys */
	X509_set_version(ca, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(ca), 1);
	X509_gmtime_adj(X509_getm_notBefore(ca), -60);
	X509_gmtime_adj(X509_getm_notAfter(ca), 86400L * 365);
	X509_set_pubkey(ca, cakey);
	name = X509_get_subject_name(ca);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"P-384 CA", -1,
	    -1, 0);
	X509_set_issuer_name(ca, name);
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, ca, ca, NULL, NULL, 0);
	assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
			    "critical,CA:TRUE"));
	X509_add_ext(ca, ext, -1);
	X509_EXTENSION_free(ext);
	/* no subjectKeyIdentifier: the signer computes the AKI */
	assert_true(X509_sign(ca, cakey, EVP_sha384()) > 0);
	snprintf(path, sizeof(path), "%s/ca.pem", other);
	assert_non_null(f = fopen(path, "w"));
	PEM_write_X509(f, ca);
	fclose(f);
	assert_int_equal(crypto_derive(key2, "ztp pem passphrase v1", k, sizeof(k)), 0);
	hex_encode(k, sizeof(k), pass, sizeof(pass));
	snprintf(path, sizeof(path), "%s/ca.key", other);
	assert_non_null(f = fopen(path, "w"));
	PEM_write_PrivateKey(f, cakey, EVP_aes_256_cbc(), (unsigned char *)pass,
	    (int)strlen(pass), NULL, NULL);
	fclose(f);

	assert_int_equal(signer_start(&s, other, key2, &fast), 0);
	len = make_csr(dev_key, "d", &csr);
	base_req(&req, csr, len);
	assert_int_equal(signer_sign_csr(s, &req, &iss), 0);
	p = iss.der;
	assert_non_null(cert = d2i_X509(NULL, &p, (long)iss.der_len));
	assert_int_equal(X509_verify(cert, cakey), 1);
	assert_int_equal(X509_get_signature_nid(cert), NID_ecdsa_with_SHA384);
	assert_non_null(X509_get0_authority_key_id(cert));
	X509_free(cert);
	signer_issued_free(&iss);
	OPENSSL_free(csr);

	len = make_csr(cakey, "d", &csr);
	base_req(&req, csr, len);
	assert_int_equal(signer_sign_csr(s, &req, &iss), ZTP_EINVAL);
	OPENSSL_free(csr);

	signer_free(s);

	/*
	 * That ca.key came from an earlier version (encrypted with the data
	 * key's derivation): the signer gave it a ca.pass of its own, and the
	 * data key no longer opens it.
	 */
	{
		struct stat st;
		EVP_PKEY *k2;
		snprintf(path, sizeof(path), "%s/ca.pass", other);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		snprintf(path, sizeof(path), "%s/ca.key", other);
		assert_non_null(f = fopen(path, "r"));
		k2 = PEM_read_PrivateKey(f, NULL, NULL, pass);
		fclose(f);
		assert_null(k2);
		ERR_clear_error();
		assert_int_equal(cakey_load(other, NULL, &k2), 0);
		assert_int_equal(EVP_PKEY_eq(k2, cakey), 1);
		EVP_PKEY_free(k2);
	}
	X509_free(ca);
	EVP_PKEY_free(cakey);
	rm_dir(other);
}


/* ---- SIGN_SPKI ---- */

/* key's DER SubjectPublicKeyInfo; the caller frees *der (OPENSSL_free). */
static size_t
spki_of(EVP_PKEY *key, uint8_t **der)
{
	int n;

	*der = NULL;
	n = i2d_PUBKEY(key, der);
	assert_true(n > 0);
	return (size_t)n;
}

/* A SIGN_SPKI request for spki: CN=dev-0001, 30 days, digitalSignature, clientAuth. */
static void
spki_req(struct signer_csr_req *r, const uint8_t *spki, size_t len, uint8_t type,
    uint16_t bits)
{
	memset(r, 0, sizeof(*r));
	r->spki = spki;
	r->spki_len = len;
	r->key_type = type;
	r->key_bits = bits;
	strcpy(r->subject.cn, "dev-0001");
	r->profile.days = 30;
	r->profile.key_usage = SIGNER_KU_DIGITAL_SIGNATURE;
	r->profile.ext_key_usage = SIGNER_EKU_CLIENT_AUTH;
}

/* Issue for key (type, bits): the certificate verifies and holds exactly its SPKI. */
static void
issue_and_check_spki(struct signer *s, EVP_PKEY *key, uint8_t type, uint16_t bits,
    uint16_t extra_ku)
{
	struct signer_csr_req req;
	struct signer_issued iss;
	const uint8_t *p;
	uint8_t *spki, *got = NULL;
	size_t len = spki_of(key, &spki);
	X509 *cert;
	int n;

	spki_req(&req, spki, len, type, bits);
	req.profile.key_usage |= extra_ku;
	assert_int_equal(signer_sign_spki(s, &req, &iss), 0);
	p = iss.der;
	assert_non_null(cert = d2i_X509(NULL, &p, (long)iss.der_len));
	assert_int_equal(X509_verify(cert, X509_get0_pubkey(ca_cert)), 1);
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &got);
	assert_int_equal(n, (int)len);
	assert_memory_equal(got, spki, len);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), key), 1);
	OPENSSL_free(got);
	X509_free(cert);
	signer_issued_free(&iss);
	OPENSSL_free(spki);
}

static void
test_spki_issues_a_certificate_for_exactly_that_key(void **state)
{
	struct signer *s = *state;
	EVP_PKEY *p384 = EVP_EC_gen("P-384"), *rsa = EVP_RSA_gen(2048);
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), *comp = EVP_EC_gen("P-256");

	assert_non_null(p384);
	assert_non_null(rsa);
	assert_non_null(ed);
	assert_non_null(comp);
	issue_and_check_spki(s, dev_key, SIGNER_KEY_EC_P256, 256, SIGNER_KU_KEY_AGREEMENT);
	issue_and_check_spki(s, p384, SIGNER_KEY_EC_P384, 384, 0);
	issue_and_check_spki(s, rsa, SIGNER_KEY_RSA, 2048, SIGNER_KU_KEY_ENCIPHERMENT);
	issue_and_check_spki(s, ed, SIGNER_KEY_ED25519, 256, 0);
	/* a compressed point is a key too, and stays as it came */
	assert_int_equal(EVP_PKEY_set_utf8_string_param(comp, "point-format", "compressed"), 1);
	issue_and_check_spki(s, comp, SIGNER_KEY_EC_P256, 256, 0);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(comp);
}

static void
test_spki_outside_the_policy_or_malformed_is_refused(void **state)
{
	struct signer *s = *state;
	struct signer_csr_req req;
	struct signer_issued iss;
	EVP_PKEY *rsa1024 = EVP_RSA_gen(1024), *p521 = EVP_EC_gen("P-521");
	uint8_t *spki, buf[SIGNER_SPKI_MAX];
	size_t len;

	assert_non_null(rsa1024);
	assert_non_null(p521);
	len = spki_of(dev_key, &spki);
	assert_true(len + 1 <= sizeof(buf));

	/* trailing bytes, a truncation, a point off the curve: not one DER SPKI */
	memcpy(buf, spki, len);
	buf[len] = 0;
	spki_req(&req, buf, len + 1, SIGNER_KEY_EC_P256, 256);
	assert_int_equal(signer_sign_spki(s, &req, &iss), ZTP_EMALFORMED);
	spki_req(&req, buf, len - 1, SIGNER_KEY_EC_P256, 256);
	assert_int_equal(signer_sign_spki(s, &req, &iss), ZTP_EMALFORMED);
	buf[len - 1] ^= 0x01;
	spki_req(&req, buf, len, SIGNER_KEY_EC_P256, 256);
	assert_int_equal(signer_sign_spki(s, &req, &iss), ZTP_EMALFORMED);

	/* not of the type or size the request says */
	spki_req(&req, spki, len, SIGNER_KEY_EC_P384, 384);
	assert_int_equal(signer_sign_spki(s, &req, &iss), ZTP_EINVAL);
	spki_req(&req, spki, len, SIGNER_KEY_EC_P256, 255);
	assert_int_equal(signer_sign_spki(s, &req, &iss), ZTP_EINVAL);
	/* keyEncipherment for an EC key */
	spki_req(&req, spki, len, SIGNER_KEY_EC_P256, 256);
	req.profile.key_usage |= SIGNER_KU_KEY_ENCIPHERMENT;
	assert_int_equal(signer_sign_spki(s, &req, &iss), ZTP_EINVAL);
	OPENSSL_free(spki);

	/* a key type the CA does not certify, an RSA key too small */
	len = spki_of(p521, &spki);
	spki_req(&req, spki, len, SIGNER_KEY_EC_P384, 384);
	assert_int_equal(signer_sign_spki(s, &req, &iss), ZTP_EINVAL);
	OPENSSL_free(spki);
	len = spki_of(rsa1024, &spki);
	spki_req(&req, spki, len, SIGNER_KEY_RSA, 1024);
	assert_int_equal(signer_sign_spki(s, &req, &iss), ZTP_EINVAL);
	OPENSSL_free(spki);

	/* the CA's own key */
	len = spki_of(X509_get0_pubkey(ca_cert), &spki);
	spki_req(&req, spki, len, SIGNER_KEY_EC_P256, 256);
	assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(ca_cert)), EVP_PKEY_EC);
	assert_int_equal(signer_sign_spki(s, &req, &iss), ZTP_EINVAL);
	OPENSSL_free(spki);

	/* the signer still works */
	len = spki_of(dev_key, &spki);
	spki_req(&req, spki, len, SIGNER_KEY_EC_P256, 256);
	assert_int_equal(signer_sign_spki(s, &req, &iss), 0);
	signer_issued_free(&iss);
	OPENSSL_free(spki);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(p521);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_start_answers_ping_and_this_process_loads_no_key, setup, teardown),
		cmocka_unit_test(test_wrong_ca_pass_fails_to_start),
		cmocka_unit_test(test_free_ends_the_signer),
		cmocka_unit_test_setup_teardown(
		    test_certificate_verifies_with_the_requested_subject_and_profile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_serials_differ, setup, teardown),
		cmocka_unit_test_setup_teardown(test_san_and_server_auth_as_requested, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_validity_ends_with_the_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csr_with_a_bad_signature_is_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_csr_for_another_key_than_expected_is_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_what_is_not_one_csr_is_malformed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_keys_and_usages_outside_the_policy_are_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_spki_issues_a_certificate_for_exactly_that_key,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_spki_outside_the_policy_or_malformed_is_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_profiles_are_refused_on_both_sides, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crl_verifies_and_lists_the_revoked_serials,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_crl_leaves_certificates_valid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crl_with_bad_entries_is_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_largest_crl_fits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crl_of_any_size_lists_every_serial, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crl_sequence_out_of_order_is_refused_and_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_crl_sequence_counts_must_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crl_sequence_serials_ascend_across_messages,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_crl_parts_are_read_in_order_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crl_client_checks_every_entry_before_sending,
		    setup, teardown),
		cmocka_unit_test(test_crl_signing_may_take_longer_than_one_request),
		cmocka_unit_test_setup_teardown(
		    test_malformed_requests_get_an_error_and_the_signer_stays, setup, teardown),
		cmocka_unit_test(test_killed_signer_fails_the_next_call_and_restarts),
		cmocka_unit_test_setup_teardown(test_next_call_after_a_failure_starts_a_new_signer,
		    setup, teardown),
		cmocka_unit_test(test_hung_signer_times_out_and_is_killed),
		cmocka_unit_test_setup_teardown(test_signer_outlives_sigterm_and_sigint, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_this_process_never_holds_the_ca_key, setup,
		    teardown),
		cmocka_unit_test(test_signer_closes_every_other_descriptor),
		cmocka_unit_test_setup_teardown(test_threads_share_one_signer, setup, teardown),
		cmocka_unit_test(test_imported_p384_ca_signs_with_sha384_and_refuses_its_own_key),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
