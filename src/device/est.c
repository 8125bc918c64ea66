/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device's EST client (ztp/est.h): one HTTPS request per call, on a
 * libevent event_base of its own (evhttp over an OpenSSL bufferevent, as
 * transport.c), the server authenticated against explicit trust anchors.
 *
 * The file has three parts:
 *  - the parsers of what the server sends (URL of the server, the base64
 *    PKCS#7 certs-only answer, Retry-After, Content-Type, a refusal's
 *    text): pure functions over (bytes, length), fuzzed;
 *  - what the device does with certificates (check an issued certificate
 *    against its key and the CA certificates, renewal dates, store them);
 *  - the client: TLS context, one request, the answer's status mapped to a
 *    ZTP_E... code.
 *
 * A request's life: call_run() builds the connection and the request,
 * arms a deadline and runs the event_base until on_done() or the deadline
 * breaks the loop; then, outside every libevent callback, it frees the
 * connection, the resolver and the base. What must be known about the TLS
 * session (verification error, alert) is recorded by OpenSSL callbacks
 * while it happens, since evhttp resets the connection before it reports a
 * failure. call_do() says so when a server's verdict on the client
 * certificate may have been lost in TLS 1.3 (see there).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "b64.h"
#include "num.h"
#include "ztp/err.h"
#include "ztp/est.h"
#include "ztp/keystore.h"

#define EST_PREFIX "/.well-known/est/"
#define CSR_DER_MAX 8192 /* a P-256 request is about 300 bytes */
#define IMF_FIXDATE_LEN 29

/* ---- small helpers ---- */

static int
is_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* ---- parsers of the server's bytes ---- */

static int
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.';
}

int
est_parse_url(const char *url, struct est_url *out)
{
	struct in_addr v4;
	struct in6_addr v6;
	const char *p, *h, *e;
	size_t hlen, i;
	uint64_t port = 443;

	if (url == NULL || out == NULL)
		return ZTP_EINVAL;
	memset(out, 0, sizeof(*out));
	if (strnlen(url, EST_URL_MAX + 1) > EST_URL_MAX || strncasecmp(url, "https://", 8) != 0)
		return ZTP_EINVAL;
	p = url + 8;
	if (*p == '[') {
		h = p + 1;
		if ((e = strchr(h, ']')) == NULL)
			return ZTP_EINVAL;
		hlen = (size_t)(e - h);
		if (hlen == 0 || hlen > EST_HOST_MAX)
			return ZTP_EINVAL;
		memcpy(out->host, h, hlen);
		out->host[hlen] = '\0';
		if (inet_pton(AF_INET6, out->host, &v6) != 1)
			return ZTP_EINVAL;
		out->is_ip = 1;
		p = e + 1;
	} else {
		h = p;
		for (e = h; *e != '\0' && *e != ':' && *e != '/'; e++)
			if (!is_name_char(*e))
				return ZTP_EINVAL;
		hlen = (size_t)(e - h);
		if (hlen == 0 || hlen > EST_HOST_MAX || h[0] == '-' || h[0] == '.')
			return ZTP_EINVAL;
		for (i = 0; i < hlen; i++)
			out->host[i] = h[i];
		out->host[hlen] = '\0';
		out->is_ip = inet_pton(AF_INET, out->host, &v4) == 1;
		p = e;
	}
	if (*p == ':') {
		for (e = ++p; *e >= '0' && *e <= '9'; e++)
			;
		if (num_parse_u64(p, (size_t)(e - p), 1, 65535, &port) != 0)
			return ZTP_EINVAL;
		p = e;
	}
	if (*p == '/')
		p++;
	if (*p != '\0')
		return ZTP_EINVAL;
	out->port = (uint16_t)port;
	return 0;
}

int
est_parse_certs(const uint8_t *body, size_t len, STACK_OF(X509) **certs, char *why,
    size_t whycap)
{
	uint8_t *der = NULL;
	size_t derlen = 0;
	const unsigned char *p;
	PKCS7 *p7 = NULL;
	STACK_OF(X509) *in, *sk = NULL;
	int n, i, rc;

	if (why != NULL && whycap > 0)
		why[0] = '\0';
	if (certs == NULL || (body == NULL && len > 0))
		return ZTP_EINVAL;
	*certs = NULL;
	if (len > EST_RESPONSE_MAX)
		return ztp_errf(why, whycap, ZTP_ETOOBIG, "answer of %zu bytes, at most %d", len,
		    EST_RESPONSE_MAX);
	if (len == 0)
		return ztp_errf(why, whycap, ZTP_EMALFORMED, "empty answer");
	/* RFC 8951's base64 (b64.h); a buffer for the most it can decode to */
	if ((der = malloc(len / 4 * 3 + 1)) == NULL)
		return ZTP_ENOMEM;
	if (b64_decode((const char *)body, len, der, len / 4 * 3 + 1, &derlen) != 0) {
		free(der);
		return ztp_errf(why, whycap, ZTP_EMALFORMED,
		    "not base64 (CR LF SP TAB between the characters, '=' only at the end)");
	}
	if (derlen == 0) {
		free(der);
		return ztp_errf(why, whycap, ZTP_EMALFORMED, "empty answer");
	}
	ERR_set_mark();
	p = der;
	if ((p7 = d2i_PKCS7(NULL, &p, (long)derlen)) == NULL) {
		rc = ztp_errf(why, whycap, ZTP_EMALFORMED, "not a DER PKCS#7 structure");
		goto out;
	}
	if (p != der + derlen) {
		rc = ztp_errf(why, whycap, ZTP_EMALFORMED, "%zu bytes after the PKCS#7 structure",
		    (size_t)(der + derlen - p));
		goto out;
	}
	if (!PKCS7_type_is_signed(p7) || p7->d.sign == NULL) {
		rc = ztp_errf(why, whycap, ZTP_EMALFORMED,
		    "the PKCS#7 structure is not SignedData");
		goto out;
	}
	in = p7->d.sign->cert;
	n = in != NULL ? sk_X509_num(in) : 0;
	if (n <= 0) {
		rc = ztp_errf(why, whycap, ZTP_EMALFORMED, "no certificate in the answer");
		goto out;
	}
	if (n > EST_CERTS_MAX) {
		rc = ztp_errf(why, whycap, ZTP_ETOOBIG, "%d certificates in the answer, at most %d",
		    n, EST_CERTS_MAX);
		goto out;
	}
	if ((sk = sk_X509_new_null()) == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		X509 *x = sk_X509_value(in, i);
		if (x == NULL || !X509_up_ref(x)) {
			rc = ztp_errf(why, whycap, ZTP_EMALFORMED, "certificate %d is missing",
			    i + 1);
			goto out;
		}
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			rc = ZTP_ENOMEM;
			goto out;
		}
	}
	*certs = sk;
	sk = NULL;
	rc = 0;
out:
	ERR_pop_to_mark();
	sk_X509_pop_free(sk, X509_free);
	PKCS7_free(p7);
	free(der);
	return rc;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

/* n decimal digits at s into *v; 0 or -1. */
static int
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (29 bytes), into Unix seconds. */
static int
parse_imf_fixdate(const char *s, size_t len, int64_t *t)
{
	static const char days[] = "MonTueWedThuFriSatSun";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int d, y, h, mi, sec, m = 0, i, ok = 0;

	if (len != IMF_FIXDATE_LEN || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
	    s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25] != ' ' ||
	    memcmp(s + 26, "GMT", 3) != 0)
		return ZTP_EMALFORMED;
	for (i = 0; i < 7; i++)
		if (memcmp(s, days + 3 * i, 3) == 0)
			ok = 1;
	for (i = 0; i < 12; i++)
		if (memcmp(s + 8, months + 3 * i, 3) == 0)
			m = i + 1;
	if (!ok || m == 0 || digits(s + 5, 2, &d) != 0 || digits(s + 12, 4, &y) != 0 ||
	    digits(s + 17, 2, &h) != 0 || digits(s + 20, 2, &mi) != 0 ||
	    digits(s + 23, 2, &sec) != 0)
		return ZTP_EMALFORMED;
	if (d < 1 || d > days_in_month(y, m) || h > 23 || mi > 59 || sec > 60)
		return ZTP_EMALFORMED;
	if (sec == 60) /* a leap second: the same as the next second's start */
		sec = 59;
	*t = days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

int
est_parse_retry_after(const char *v, size_t len, int64_t now_s, uint32_t *secs)
{
	int64_t t, delta;
	uint64_t n;
	size_t i;
	int rc;

	if (v == NULL || secs == NULL)
		return ZTP_EMALFORMED;
	while (len > 0 && (v[0] == ' ' || v[0] == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len == 0)
		return ZTP_EMALFORMED;
	for (i = 0; i < len && v[i] >= '0' && v[i] <= '9'; i++)
		;
	if (i == len) { /* delta-seconds = 1*DIGIT */
		while (len > 1 && v[0] == '0') {
			v++;
			len--;
		}
		if (len > 20)
			return ZTP_ERANGE;
		if ((rc = num_parse_u64(v, len, 0, UINT32_MAX, &n)) != 0)
			return rc;
		*secs = (uint32_t)n;
		return 0;
	}
	if ((rc = parse_imf_fixdate(v, len, &t)) != 0)
		return rc;
	if (__builtin_sub_overflow(t, now_s, &delta))
		return ZTP_ERANGE;
	if (delta > (int64_t)UINT32_MAX)
		return ZTP_ERANGE;
	*secs = delta > 0 ? (uint32_t)delta : 0;
	return 0;
}

int
est_ctype_is_pkcs7(const char *v, size_t len)
{
	static const char want[] = "application/pkcs7-mime";
	size_t n = sizeof(want) - 1;

	if (v == NULL)
		return 0;
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	if (len < n || strncasecmp(v, want, n) != 0)
		return 0;
	return len == n || v[n] == ';' || v[n] == ' ' || v[n] == '\t';
}

size_t
est_reason_text(const uint8_t *body, size_t len, char *out, size_t cap)
{
	size_t o = 0, i;
	int space = 0;

	if (out == NULL || cap == 0)
		return 0;
	out[0] = '\0';
	if (body == NULL)
		return 0;
	for (i = 0; i < len; i++) {
		uint8_t c = body[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = o > 0;
			continue;
		}
		if (c < 0x20 || c > 0x7e)
			c = '?';
		if (o + (size_t)space + 1 > cap - 1) {
			/* cut: end with "..." where it fits */
			size_t keep = cap - 1 >= 3 ? cap - 1 - 3 : 0;
			if (o > keep)
				o = keep;
			while (o > 0 && out[o - 1] == ' ')
				o--;
			if (cap - 1 >= 3) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			out[o] = '\0';
			return o;
		}
		if (space)
			out[o++] = ' ';
		space = 0;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return o;
}

/* Never prompt for a passphrase: keys given to ztp have none. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

int
est_certs_parse(const uint8_t *data, size_t len, size_t max, STACK_OF(X509) **certs)
{
	STACK_OF(X509) *sk = NULL;
	const unsigned char *p, *end;
	BIO *bio = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *pd = NULL;
	long dlen;
	unsigned long e;
	X509 *x = NULL;
	int rc;

	if (certs == NULL)
		return ZTP_EINVAL;
	*certs = NULL;
	if (data == NULL || len == 0)
		return ZTP_EMALFORMED;
	if (len > INT_MAX)
		return ZTP_ETOOBIG;
	ERR_set_mark();
	if ((sk = sk_X509_new_null()) == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	if (data[0] == 0x30) { /* DER: a SEQUENCE; anything else is taken for PEM */
		p = data;
		end = data + len;
		while (p < end) {
			if ((x = d2i_X509(NULL, &p, (long)(end - p))) == NULL) {
				rc = ZTP_EMALFORMED;
				goto out;
			}
			if ((size_t)sk_X509_num(sk) >= max) {
				rc = ZTP_ETOOBIG;
				goto out;
			}
			if (!sk_X509_push(sk, x)) {
				rc = ZTP_ENOMEM;
				goto out;
			}
			x = NULL;
		}
	} else {
		if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL) {
			rc = ZTP_ENOMEM;
			goto out;
		}
		for (;;) {
			if (PEM_read_bio(bio, &name, &header, &pd, &dlen) != 1) {
				e = ERR_peek_last_error();
				if (sk_X509_num(sk) > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
				    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
					break; /* the end */
				rc = ZTP_EMALFORMED;
				goto out;
			}
			if (strcmp(name, PEM_STRING_X509) != 0) {
				rc = ZTP_EMALFORMED;
				goto out;
			}
			p = pd;
			if ((x = d2i_X509(NULL, &p, dlen)) == NULL || p != pd + dlen) {
				rc = ZTP_EMALFORMED;
				goto out;
			}
			if ((size_t)sk_X509_num(sk) >= max) {
				rc = ZTP_ETOOBIG;
				goto out;
			}
			if (!sk_X509_push(sk, x)) {
				rc = ZTP_ENOMEM;
				goto out;
			}
			x = NULL;
			OPENSSL_free(name);
			OPENSSL_free(header);
			OPENSSL_free(pd);
			name = header = NULL;
			pd = NULL;
		}
	}
	if (sk_X509_num(sk) == 0) {
		rc = ZTP_EMALFORMED;
		goto out;
	}
	*certs = sk;
	sk = NULL;
	rc = 0;
out:
	ERR_pop_to_mark();
	X509_free(x);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(pd);
	BIO_free(bio);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

int
est_certs_pem(STACK_OF(X509) *certs, uint8_t **out, size_t *outlen)
{
	BIO *bio = NULL;
	char *p;
	long n;
	int i, rc;

	if (out == NULL || outlen == NULL)
		return ZTP_EINVAL;
	*out = NULL;
	*outlen = 0;
	if (certs == NULL || sk_X509_num(certs) <= 0)
		return ZTP_EINVAL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return ZTP_ENOMEM;
	for (i = 0; i < sk_X509_num(certs); i++)
		if (PEM_write_bio_X509(bio, sk_X509_value(certs, i)) != 1) {
			rc = ZTP_ECRYPTO;
			goto out;
		}
	if ((n = BIO_get_mem_data(bio, &p)) <= 0) {
		rc = ZTP_ECRYPTO;
		goto out;
	}
	if ((*out = malloc((size_t)n + 1)) == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	memcpy(*out, p, (size_t)n);
	(*out)[n] = '\0';
	*outlen = (size_t)n;
	rc = 0;
out:
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

/* ---- certificates on the device ---- */

static int
asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return ZTP_EMALFORMED;
	*out = days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 86400 +
	    tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return 0;
}

int
est_cert_times(X509 *cert, int64_t *not_before, int64_t *not_after)
{
	if (cert == NULL || not_before == NULL || not_after == NULL)
		return ZTP_EINVAL;
	if (asn1_time_unix(X509_get0_notBefore(cert), not_before) != 0 ||
	    asn1_time_unix(X509_get0_notAfter(cert), not_after) != 0)
		return ZTP_EMALFORMED;
	return 0;
}

int
est_renew_due(int64_t not_before, int64_t not_after, int64_t now, int64_t renew_before,
    int64_t *due_at)
{
	int64_t due, life;

	if (not_after <= not_before) {
		due = not_before;
	} else if (renew_before < 0) {
		/*
		 * A third of the lifetime left. If the lifetime overflows, not_after
		 * is at least 0 and not_after - INT64_MAX / 3 cannot.
		 */
		if (__builtin_sub_overflow(not_after, not_before, &life))
			life = INT64_MAX;
		due = not_after - life / 3;
	} else if (__builtin_sub_overflow(not_after, renew_before, &due)) {
		due = INT64_MIN;
	}
	if (due_at != NULL)
		*due_at = due;
	return now >= due;
}

/* *pk: a new EVP_PKEY holding the P-256 public key pub[len] (04 || X || Y). */
static int
pubkey_from_point(const uint8_t *pub, size_t len, EVP_PKEY **pk)
{
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[3];
	char group[] = SN_X9_62_prime256v1;
	int rc;

	*pk = NULL;
	if (pub == NULL || len != KEYSTORE_P256_PUBKEY_LEN || pub[0] != 0x04)
		return ZTP_EINVAL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, len);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		rc = ZTP_EINVAL;
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* 1 if the subject's entry nid is exactly udid. */
static int
name_entry_is(const X509_NAME *name, int nid, const char *udid)
{
	const ASN1_STRING *s;
	int i = -1;

	while ((i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0) {
		s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
		if (s != NULL && (size_t)ASN1_STRING_length(s) == strlen(udid) &&
		    memcmp(ASN1_STRING_get0_data(s), udid, strlen(udid)) == 0)
			return 1;
	}
	return 0;
}

int
est_cert_check(X509 *cert, const uint8_t *pub, size_t publen, const char *udid,
    STACK_OF(X509) *cas, int64_t now_s, char *why, size_t whycap)
{
	EVP_PKEY *mine = NULL, *theirs;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *vp;
	const X509_NAME *subj;
	int i, err, rc;

	if (why != NULL && whycap > 0)
		why[0] = '\0';
	if (cert == NULL || cas == NULL || sk_X509_num(cas) <= 0)
		return ztp_errf(why, whycap, ZTP_EINVAL, "certificate check: bad argument");
	ERR_set_mark();
	if (pubkey_from_point(pub, publen, &mine) != 0) {
		rc = ztp_errf(why, whycap, ZTP_EINVAL, "the device key is not a P-256 public key");
		goto out;
	}
	if ((theirs = X509_get0_pubkey(cert)) == NULL || EVP_PKEY_eq(theirs, mine) != 1) {
		rc = ztp_errf(why, whycap, ZTP_ECONFLICT,
		    "the certificate is for another key than the device's");
		goto out;
	}
	subj = X509_get_subject_name(cert);
	if (udid != NULL && (subj == NULL || (!name_entry_is(subj, NID_commonName, udid) &&
	    !name_entry_is(subj, NID_serialNumber, udid)))) {
		rc = ztp_errf(why, whycap, ZTP_ECONFLICT,
		    "the certificate names another device (neither CN nor serialNumber is %s)",
		    udid);
		goto out;
	}
	if (X509_check_ca(cert) == 1) {
		rc = ztp_errf(why, whycap, ZTP_ECONFLICT, "the certificate is a CA certificate");
		goto out;
	}
	if ((store = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	for (i = 0; i < sk_X509_num(cas); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(cas, i)) != 1) {
			rc = ztp_errf(why, whycap, ZTP_ECRYPTO, "cannot use CA certificate %d",
			    i + 1);
			goto out;
		}
	if (X509_STORE_CTX_init(ctx, store, cert, cas) != 1) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	vp = X509_STORE_CTX_get0_param(ctx);
	/* every CA certificate from cacerts is a trust anchor, intermediate or root */
	X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_time(vp, (time_t)now_s);
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		rc = (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID) &&
		    X509_STORE_CTX_get_error_depth(ctx) == 0 ? ZTP_EEXPIRED : ZTP_ECRYPTO;
		rc = ztp_errf(why, whycap, rc,
		    "the certificate does not verify against the CA certificates: %s (depth %d)",
		    X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(ctx));
		goto out;
	}
	rc = 0;
out:
	ERR_pop_to_mark();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	EVP_PKEY_free(mine);
	return rc;
}

/* Slot `slot`'s content: *buf (malloc'd) and *len. */
static int
slot_read(struct keystore *ks, int slot, uint8_t **buf, size_t *len)
{
	size_t n = 0;
	int rc;

	*buf = NULL;
	*len = 0;
	rc = keystore_get(ks, slot, NULL, 0, &n);
	if (rc != ZTP_ERANGE)
		return rc == 0 ? ZTP_EMALFORMED : rc;
	if (n == 0 || n > KEYSTORE_DATA_MAX || (*buf = malloc(n)) == NULL)
		return n == 0 || n > KEYSTORE_DATA_MAX ? ZTP_EMALFORMED : ZTP_ENOMEM;
	if ((rc = keystore_get(ks, slot, *buf, n, len)) != 0) {
		free(*buf);
		*buf = NULL;
		*len = 0;
	}
	return rc;
}

int
est_store_cert(struct keystore *ks, X509 *cert, const char *udid, STACK_OF(X509) *cas,
    int64_t now_s, char *why, size_t whycap)
{
	uint8_t pub[KEYSTORE_P256_PUBKEY_LEN], *pem = NULL;
	size_t publen = 0, pemlen = 0;
	STACK_OF(X509) *one = NULL;
	int rc;

	if (ks == NULL || cert == NULL)
		return ztp_errf(why, whycap, ZTP_EINVAL, "store certificate: bad argument");
	if ((rc = keystore_public_key(ks, KEYSTORE_SLOT_DEVICE_KEY, pub, sizeof(pub),
	    &publen)) != 0)
		return ztp_errf(why, whycap, rc, "slot %d: %s", KEYSTORE_SLOT_DEVICE_KEY,
		    keystore_error(ks));
	if ((rc = est_cert_check(cert, pub, publen, udid, cas, now_s, why, whycap)) != 0)
		return rc;
	if ((one = sk_X509_new_null()) == NULL || !sk_X509_push(one, cert)) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	rc = est_certs_pem(one, &pem, &pemlen);
	sk_X509_pop(one); /* cert is the caller's */
	if (rc != 0)
		goto out;
	if ((rc = keystore_put(ks, KEYSTORE_SLOT_DEVICE_CERT, pem, pemlen)) != 0) {
		rc = ztp_errf(why, whycap, rc, "%s", keystore_error(ks));
		goto out;
	}
	rc = 0;
out:
	sk_X509_free(one);
	free(pem);
	return rc;
}

int
est_store_cacerts(struct keystore *ks, STACK_OF(X509) *cas, int *changed, char *why,
    size_t whycap)
{
	uint8_t *pem = NULL, *old = NULL;
	size_t pemlen = 0, oldlen = 0;
	int rc;

	if (changed != NULL)
		*changed = 0;
	if (ks == NULL || cas == NULL || sk_X509_num(cas) <= 0)
		return ztp_errf(why, whycap, ZTP_EINVAL, "store CA certificates: bad argument");
	if ((rc = est_certs_pem(cas, &pem, &pemlen)) != 0)
		return ztp_errf(why, whycap, rc, "cannot encode the CA certificates");
	rc = slot_read(ks, KEYSTORE_SLOT_CA_CERT, &old, &oldlen);
	if (rc == 0 && oldlen == pemlen && memcmp(old, pem, pemlen) == 0)
		goto out; /* rc 0, unchanged */
	if ((rc = keystore_put(ks, KEYSTORE_SLOT_CA_CERT, pem, pemlen)) != 0) {
		rc = ztp_errf(why, whycap, rc, "%s", keystore_error(ks));
		goto out;
	}
	if (changed != NULL)
		*changed = 1;
out:
	free(old);
	free(pem);
	return rc;
}

/* ---- TLS client identities ---- */

/* Read a regular file of at most max bytes: *buf (malloc'd), *len. */
static int
file_read(const char *path, size_t max, uint8_t **buf, size_t *len, char *why, size_t whycap)
{
	struct stat st;
	uint8_t *b = NULL;
	size_t got = 0, size;
	ssize_t n;
	int fd, rc;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
		return ztp_errf(why, whycap, errno == ENOENT ? ZTP_ENOENT : ZTP_EIO, "%s: %s",
		    path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = ztp_errf(why, whycap, ZTP_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = ztp_errf(why, whycap, ZTP_EMALFORMED, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > max) {
		rc = ztp_errf(why, whycap, st.st_size <= 0 ? ZTP_EMALFORMED : ZTP_ETOOBIG,
		    "%s: %lld bytes (1 to %zu)", path, (long long)st.st_size, max);
		goto out;
	}
	size = (size_t)st.st_size;
	if ((b = malloc(size + 1)) == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	while (got < size + 1) {
		n = read(fd, b + got, size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ztp_errf(why, whycap, ZTP_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != size) {
		rc = ztp_errf(why, whycap, ZTP_EIO, "%s: changed while it was read", path);
		goto out;
	}
	*buf = b;
	*len = size;
	b = NULL;
	rc = 0;
out:
	if (b != NULL)
		OPENSSL_clear_free(b, size + 1);
	close(fd);
	return rc;
}

int
est_identity_from_files(const char *cert_file, const char *key_file, X509 **cert,
    STACK_OF(X509) **chain, EVP_PKEY **key, char *why, size_t whycap)
{
	uint8_t *cbuf = NULL, *kbuf = NULL;
	size_t clen = 0, klen = 0;
	STACK_OF(X509) *sk = NULL;
	BIO *bio = NULL;
	EVP_PKEY *pk = NULL;
	int rc;

	if (cert == NULL || chain == NULL || key == NULL)
		return ZTP_EINVAL;
	*cert = NULL;
	*chain = NULL;
	*key = NULL;
	if (cert_file == NULL || key_file == NULL)
		return ztp_errf(why, whycap, ZTP_EINVAL, "a certificate and a key file are needed");
	ERR_set_mark();
	if ((rc = file_read(cert_file, EST_TRUST_FILE_MAX, &cbuf, &clen, why, whycap)) != 0)
		goto out;
	if ((rc = est_certs_parse(cbuf, clen, EST_CERTS_MAX, &sk)) != 0) {
		rc = ztp_errf(why, whycap, rc, "%s: %s", cert_file, rc == ZTP_ETOOBIG ?
		    "too many certificates" : "not PEM or DER certificates");
		goto out;
	}
	if ((rc = file_read(key_file, KEYSTORE_DATA_MAX, &kbuf, &klen, why, whycap)) != 0)
		goto out;
	if ((bio = BIO_new_mem_buf(kbuf, (int)klen)) == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	if ((pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) == NULL) {
		rc = ztp_errf(why, whycap, ZTP_EMALFORMED,
		    "%s: not an unencrypted PEM private key", key_file);
		goto out;
	}
	if (X509_check_private_key(sk_X509_value(sk, 0), pk) != 1) {
		rc = ztp_errf(why, whycap, ZTP_ECONFLICT, "%s is not the key of %s", key_file,
		    cert_file);
		goto out;
	}
	*cert = sk_X509_shift(sk);
	*chain = sk;
	*key = pk;
	sk = NULL;
	pk = NULL;
	rc = 0;
out:
	ERR_pop_to_mark();
	EVP_PKEY_free(pk);
	BIO_free(bio);
	sk_X509_pop_free(sk, X509_free);
	if (kbuf != NULL)
		OPENSSL_clear_free(kbuf, klen);
	free(cbuf);
	return rc;
}

int
est_identity_from_keystore(struct keystore *ks, X509 **cert, EVP_PKEY **key, char *why,
    size_t whycap)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	STACK_OF(X509) *sk = NULL;
	EVP_PKEY *pk = NULL;
	int rc;

	if (ks == NULL || cert == NULL || key == NULL)
		return ZTP_EINVAL;
	*cert = NULL;
	*key = NULL;
	if ((rc = slot_read(ks, KEYSTORE_SLOT_DEVICE_CERT, &buf, &len)) != 0) {
		rc = ztp_errf(why, whycap, rc, "slot %d: %s", KEYSTORE_SLOT_DEVICE_CERT,
		    rc == ZTP_ENOENT ? "no certificate" : keystore_error(ks));
		goto out;
	}
	if ((rc = est_certs_parse(buf, len, EST_CERTS_MAX, &sk)) != 0) {
		rc = ztp_errf(why, whycap, rc, "slot %d: not a certificate",
		    KEYSTORE_SLOT_DEVICE_CERT);
		goto out;
	}
	if ((rc = keystore_pkey(ks, KEYSTORE_SLOT_DEVICE_KEY, &pk)) != 0) {
		rc = ztp_errf(why, whycap, rc, "slot %d: %s", KEYSTORE_SLOT_DEVICE_KEY,
		    keystore_error(ks));
		goto out;
	}
	*cert = sk_X509_shift(sk);
	*key = pk;
	pk = NULL;
	rc = 0;
out:
	EVP_PKEY_free(pk);
	sk_X509_pop_free(sk, X509_free);
	free(buf);
	return rc;
}

/* ---- the client ---- */

struct est_client {
	struct est_url url;
	SSL_CTX *ctx;
	char *authz; /* "Basic <base64 user:password>", cleansed when freed; NULL: none */
	size_t authz_len;
	int has_identity;
	uint32_t timeout_ms;
	void (*log)(void *arg, enum est_log_level level, const char *msg);
	void *log_arg;
};

/* One request in flight. */
struct est_call {
	struct est_client *c;
	const char *op; /* "cacerts", ... */
	struct event_base *base;
	struct evhttp_connection *evcon;
	SSL *ssl;

	int done, timed_out, headers_done, too_large, got_response;
	enum evhttp_request_error req_err;
	int have_req_err;
	unsigned long ssl_err; /* the first OpenSSL error libevent saw; 0 none */
	int heard;             /* 1: a ServerHello was read: a TLS server answered */
	int handshake_done;    /* 1: the TLS handshake completed */
	int tls13;             /* 1: ... in TLS 1.3 */
	int verify_err;        /* X509_V_OK: none */
	int verify_depth;
	int alert;             /* a fatal alert received: its number; -1 none */

	int status;
	char ctype[128];
	int have_ctype;
	char retry_after[64];
	int have_retry_after;
	int www_basic;
	uint8_t *body;
	size_t body_len;
};

static void elog(const struct est_client *c, enum est_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Log through the integrator's callback; nothing secret is ever passed here. */
static void
elog(const struct est_client *c, enum est_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (c->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->log(c->log_arg, level, msg);
}

/* The first verification error of the server's chain, kept for the message. */
static int
verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct est_call *k = ssl != NULL ? SSL_get_app_data(ssl) : NULL;

	if (!ok && k != NULL && k->verify_err == X509_V_OK) {
		k->verify_err = X509_STORE_CTX_get_error(x);
		k->verify_depth = X509_STORE_CTX_get_error_depth(x);
		if (k->verify_err == X509_V_OK)
			k->verify_err = X509_V_ERR_UNSPECIFIED;
	}
	return ok;
}

static void
info_cb(const SSL *ssl, int where, int ret)
{
	struct est_call *k = SSL_get_app_data(ssl);

	if (k == NULL)
		return;
	if ((where & SSL_CB_CONNECT_LOOP) && SSL_get_state(ssl) == TLS_ST_CR_SRVR_HELLO)
		k->heard = 1;
	if (where & SSL_CB_HANDSHAKE_DONE) {
		k->handshake_done = 1;
		k->tls13 = SSL_version(ssl) == TLS1_3_VERSION;
	}
	if ((where & SSL_CB_ALERT) && (where & SSL_CB_READ) && (ret >> 8) == SSL3_AL_FATAL &&
	    k->alert < 0)
		k->alert = ret & 0xff;
}

/* Add every certificate of certs to the context's trust store: 0 or -1. */
static int
trust_add(SSL_CTX *ctx, STACK_OF(X509) *certs)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	int i;

	for (i = 0; i < sk_X509_num(certs); i++)
		if (X509_STORE_add_cert(st, sk_X509_value(certs, i)) != 1)
			return -1;
	return 0;
}

static int
credential_valid(const char *s, size_t max, int colon_ok)
{
	size_t n = strnlen(s, max + 1);

	return n > 0 && n <= max && is_printable(s) && (colon_ok || strchr(s, ':') == NULL);
}

/* "Basic " + base64(user ":" password) into c->authz. */
static int
make_authz(struct est_client *c, const char *user, const char *password)
{
	size_t ul = strlen(user), pl = strlen(password), n = ul + 1 + pl;
	size_t cap = 6 + 4 * ((n + 2) / 3) + 1;
	unsigned char *plain;

	if ((plain = malloc(n)) == NULL)
		return ZTP_ENOMEM;
	if ((c->authz = malloc(cap)) == NULL) {
		free(plain);
		return ZTP_ENOMEM;
	}
	c->authz_len = cap;
	memcpy(plain, user, ul);
	plain[ul] = ':';
	memcpy(plain + ul + 1, password, pl);
	memcpy(c->authz, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)c->authz + 6, plain, (int)n);
	OPENSSL_clear_free(plain, n);
	return 0;
}

int
est_client_new(const struct est_client_opts *opts, struct est_client **out, char *why,
    size_t whycap)
{
	struct est_client *c = NULL;
	STACK_OF(X509) *file_certs = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int i, rc;

	if (out == NULL)
		return ZTP_EINVAL;
	*out = NULL;
	if (opts == NULL)
		return ztp_errf(why, whycap, ZTP_EINVAL, "no options");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ZTP_ENOMEM;
	ERR_set_mark();
	if (est_parse_url(opts->url, &c->url) != 0) {
		rc = ztp_errf(why, whycap, ZTP_EINVAL,
		    "bad server URL: expected https://HOST[:PORT] (HOST a name, an IPv4 "
		    "address or [IPv6])");
		goto out;
	}
	if ((opts->user == NULL) != (opts->password == NULL)) {
		rc = ztp_errf(why, whycap, ZTP_EINVAL, "a user needs a password and back");
		goto out;
	}
	if (opts->user != NULL && (!credential_valid(opts->user, EST_USER_MAX, 0) ||
	    !credential_valid(opts->password, EST_PASSWORD_MAX, 1))) {
		rc = ztp_errf(why, whycap, ZTP_EINVAL,
		    "bad credentials: a user of 1 to %d and a password of 1 to %d printable "
		    "ASCII characters (no ':' in the user)", EST_USER_MAX, EST_PASSWORD_MAX);
		goto out;
	}
	if ((opts->client_cert == NULL) != (opts->client_key == NULL)) {
		rc = ztp_errf(why, whycap, ZTP_EINVAL,
		    "a client certificate needs its key and back");
		goto out;
	}
	if (opts->trust_file == NULL && (opts->trust == NULL || sk_X509_num(opts->trust) <= 0)) {
		rc = ztp_errf(why, whycap, ZTP_EINVAL, "no trust anchor for the server");
		goto out;
	}
	c->timeout_ms = opts->timeout_ms != 0 ? opts->timeout_ms : EST_TIMEOUT_MS_DEFAULT;
	c->log = opts->log;
	c->log_arg = opts->log_arg;

	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION)) {
		rc = ztp_errf(why, whycap, ZTP_ECRYPTO, "cannot make a TLS context");
		goto out;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_info_callback(c->ctx, info_cb);
	/* the explicit trust anchors only, never the system's store */
	if (opts->trust_file != NULL) {
		if ((rc = file_read(opts->trust_file, EST_TRUST_FILE_MAX, &buf, &len, why,
		    whycap)) != 0)
			goto out;
		if ((rc = est_certs_parse(buf, len, EST_TRUST_MAX, &file_certs)) != 0) {
			rc = ztp_errf(why, whycap, rc, "%s: %s", opts->trust_file,
			    rc == ZTP_ETOOBIG ? "too many certificates" :
			    "not PEM certificates (and nothing else)");
			goto out;
		}
		if (trust_add(c->ctx, file_certs) != 0) {
			rc = ztp_errf(why, whycap, ZTP_ECRYPTO, "cannot use %s", opts->trust_file);
			goto out;
		}
	}
	if (opts->trust != NULL && trust_add(c->ctx, opts->trust) != 0) {
		rc = ztp_errf(why, whycap, ZTP_ECRYPTO, "cannot use the trust anchors");
		goto out;
	}
	if (opts->client_cert != NULL) {
		if (SSL_CTX_use_certificate(c->ctx, opts->client_cert) != 1 ||
		    SSL_CTX_use_PrivateKey(c->ctx, opts->client_key) != 1 ||
		    SSL_CTX_check_private_key(c->ctx) != 1) {
			rc = ztp_errf(why, whycap, ZTP_EINVAL,
			    "the client key does not go with the client certificate");
			goto out;
		}
		for (i = 0; opts->client_chain != NULL && i < sk_X509_num(opts->client_chain); i++)
			if (SSL_CTX_add1_chain_cert(c->ctx,
			    sk_X509_value(opts->client_chain, i)) != 1) {
				rc = ztp_errf(why, whycap, ZTP_ECRYPTO,
				    "cannot use the client certificate chain");
				goto out;
			}
		c->has_identity = 1;
	}
	if (opts->user != NULL && (rc = make_authz(c, opts->user, opts->password)) != 0)
		goto out;
	*out = c;
	c = NULL;
	rc = 0;
out:
	ERR_pop_to_mark();
	sk_X509_pop_free(file_certs, X509_free);
	free(buf);
	est_client_free(c);
	return rc;
}

void
est_client_free(struct est_client *c)
{
	if (c == NULL)
		return;
	if (c->authz != NULL)
		OPENSSL_clear_free(c->authz, c->authz_len);
	SSL_CTX_free(c->ctx);
	free(c);
}

/* Headers are in (the handshake is done). -1 drops the connection. */
static int
on_headers(struct evhttp_request *req, void *arg)
{
	struct est_call *k = arg;
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *v;
	uint64_t len;

	if (k->done)
		return -1;
	k->headers_done = 1;
	k->status = evhttp_request_get_response_code(req);
	if ((v = evhttp_find_header(h, "Content-Length")) != NULL) {
		if (num_parse_u64z(v, 0, UINT64_MAX, &len) != 0) {
			elog(k->c, EST_LOG_INFO, "%s: malformed Content-Length", k->op);
			return -1;
		}
		if (len > EST_RESPONSE_MAX) {
			elog(k->c, EST_LOG_INFO, "%s: an answer of %llu bytes, at most %d", k->op,
			    (unsigned long long)len, EST_RESPONSE_MAX);
			k->too_large = 1;
			return -1;
		}
	}
	if ((v = evhttp_find_header(h, "Content-Type")) != NULL) {
		snprintf(k->ctype, sizeof(k->ctype), "%s", v);
		k->have_ctype = 1;
	}
	if ((v = evhttp_find_header(h, "Retry-After")) != NULL) {
		snprintf(k->retry_after, sizeof(k->retry_after), "%s", v);
		k->have_retry_after = strlen(v) < sizeof(k->retry_after);
	}
	if ((v = evhttp_find_header(h, "WWW-Authenticate")) != NULL &&
	    strncasecmp(v, "Basic", 5) == 0)
		k->www_basic = 1;
	return 0;
}

static void
note_ssl_error(struct est_call *k)
{
	struct bufferevent *bev;
	unsigned long e;

	if (k->evcon == NULL || (bev = evhttp_connection_get_bufferevent(k->evcon)) == NULL)
		return;
	/* libevent also queues SSL_get_error() codes here: only OpenSSL's own count */
	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		if (k->ssl_err == 0 && ERR_GET_LIB(e) != 0)
			k->ssl_err = e;
}

static void
on_error(enum evhttp_request_error err, void *arg)
{
	struct est_call *k = arg;

	if (k->done)
		return;
	k->req_err = err;
	k->have_req_err = 1;
	if (err == EVREQ_HTTP_DATA_TOO_LONG && k->headers_done)
		k->too_large = 1;
	note_ssl_error(k);
}

/* The request is over (req NULL or without a status: it failed); evhttp frees req. */
static void
on_done(struct evhttp_request *req, void *arg)
{
	struct est_call *k = arg;
	struct evbuffer *in;
	size_t n;

	if (k->done)
		return;
	k->done = 1;
	note_ssl_error(k);
	if (req != NULL && k->headers_done && evhttp_request_get_response_code(req) > 0) {
		in = evhttp_request_get_input_buffer(req);
		n = evbuffer_get_length(in);
		if (n > EST_RESPONSE_MAX) {
			k->too_large = 1;
		} else if (n > 0 && ((k->body = malloc(n)) == NULL ||
		    evbuffer_copyout(in, k->body, n) != (ev_ssize_t)n)) {
			free(k->body);
			k->body = NULL;
		} else {
			k->body_len = n;
			k->got_response = 1;
		}
	}
	event_base_loopbreak(k->base);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct est_call *k = arg;

	if (!k->done) {
		k->done = 1;
		k->timed_out = 1;
	}
	event_base_loopbreak(k->base);
}

static const char *
evreq_error_name(enum evhttp_request_error err)
{
	switch (err) {
	case EVREQ_HTTP_TIMEOUT:
		return "time-out";
	case EVREQ_HTTP_EOF:
		return "connection closed";
	case EVREQ_HTTP_INVALID_HEADER:
		return "invalid or too large answer header";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "I/O error";
	case EVREQ_HTTP_REQUEST_CANCEL:
		return "cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "answer body too large or malformed";
	}
	return "error";
}

static void
result_init(struct est_result *res)
{
	memset(res, 0, sizeof(*res));
}

/* 1 if a fatal alert from the server is about the client's certificate. */
static int
alert_refuses_cert(int alert)
{
	switch (alert) {
	case SSL_AD_BAD_CERTIFICATE:
	case SSL_AD_UNSUPPORTED_CERTIFICATE:
	case SSL_AD_CERTIFICATE_REVOKED:
	case SSL_AD_CERTIFICATE_EXPIRED:
	case SSL_AD_CERTIFICATE_UNKNOWN:
	case SSL_AD_UNKNOWN_CA:
	case SSL_AD_ACCESS_DENIED:
	case SSL_AD_CERTIFICATE_REQUIRED:
		return 1;
	}
	return 0;
}

/* What went wrong when there was no answer, into res->why; returns the code. */
static int
no_answer(struct est_call *k, struct est_result *res)
{
	struct est_client *c = k->c;
	char e[160] = "";

	if (k->timed_out)
		return ztp_errf(res->why, sizeof(res->why), ZTP_EIO,
		    "%s: no answer from %s port %u within %u ms", k->op, c->url.host, c->url.port,
		    c->timeout_ms);
	if (k->too_large)
		return ztp_errf(res->why, sizeof(res->why), ZTP_ETOOBIG,
		    "%s: the answer is larger than %d bytes", k->op, EST_RESPONSE_MAX);
	if (k->verify_err != X509_V_OK)
		return ztp_errf(res->why, sizeof(res->why), ZTP_EIO,
		    "%s: TLS: the server's certificate does not verify against the trust "
		    "anchors: %s (depth %d)", k->op, X509_verify_cert_error_string(k->verify_err),
		    k->verify_depth);
	if (k->alert >= 0 && alert_refuses_cert(k->alert)) {
		/* about our certificate (or its absence): a refusal, not a failure */
		snprintf(res->reason, sizeof(res->reason), "TLS alert %d, %s", k->alert,
		    SSL_alert_desc_string_long(k->alert));
		res->tls_alert = k->alert;
		return ztp_errf(res->why, sizeof(res->why), ZTP_EAUTH,
		    "%s: the server refused %s in the TLS handshake (%s)", k->op,
		    c->has_identity ? "the client certificate" : "a connection without a client "
		    "certificate", res->reason);
	}
	if (k->alert >= 0)
		return ztp_errf(res->why, sizeof(res->why), ZTP_EIO,
		    "%s: TLS: the server sent alert %d (%s)", k->op, k->alert,
		    SSL_alert_desc_string_long(k->alert));
	if (!k->heard)
		return ztp_errf(res->why, sizeof(res->why), ZTP_EIO,
		    "%s: no TLS server answered at %s port %u (connection refused or closed, "
		    "unreachable, or the name does not resolve)", k->op, c->url.host, c->url.port);
	if (k->ssl_err != 0)
		ERR_error_string_n(k->ssl_err, e, sizeof(e));
	return ztp_errf(res->why, sizeof(res->why), ZTP_EIO,
	    "%s: no answer from %s port %u (%s%s%s)", k->op, c->url.host, c->url.port,
	    k->have_req_err ? evreq_error_name(k->req_err) : "connection closed",
	    e[0] != '\0' ? ": " : "", e);
}

/*
 * Make one request: method POST with body[blen] (and the Basic credentials
 * if authz), or GET; path under EST_PREFIX. k holds the answer afterwards
 * (the caller frees k->body). Returns
 * 0 if there was an answer (any status), else the ZTP_E... code with
 * res->why.
 */
static int
call_run(struct est_client *c, const char *op, int post, const char *body, size_t blen,
    int authz, struct est_call *k, struct est_result *res)
{
	struct evdns_base *dns = NULL;
	struct bufferevent *bev = NULL;
	struct evhttp_request *req = NULL;
	struct event *deadline = NULL;
	struct evkeyvalq *h;
	struct timeval tv;
	X509_VERIFY_PARAM *vp;
	char hosthdr[EST_HOST_MAX + 16], num[24], path[64];
	const char *connect_to = c->url.host;
	SSL *ssl = NULL;
	int v6 = strchr(c->url.host, ':') != NULL, rc;

	memset(k, 0, sizeof(*k));
	k->c = c;
	k->op = op;
	k->alert = -1;
	k->verify_err = X509_V_OK;
	snprintf(path, sizeof(path), EST_PREFIX "%s", op);
	if ((k->base = event_base_new()) == NULL) {
		rc = ztp_errf(res->why, sizeof(res->why), ZTP_ENOMEM, "%s: no event base", op);
		goto out;
	}
	if (!strcasecmp(c->url.host, "localhost")) {
		connect_to = "127.0.0.1"; /* never asked of a name server */
	} else if (!c->url.is_ip) {
		if ((dns = evdns_base_new(k->base, 0)) == NULL) {
			rc = ztp_errf(res->why, sizeof(res->why), ZTP_ENOMEM, "%s: no resolver",
			    op);
			goto out;
		}
		/* name servers, search list and /etc/hosts; evdns falls back to 127.0.0.1 */
		if (evdns_base_resolv_conf_parse(dns, DNS_OPTIONS_ALL, "/etc/resolv.conf") != 0)
			elog(c, EST_LOG_WARN, "cannot read /etc/resolv.conf");
	}
	if ((ssl = SSL_new(c->ctx)) == NULL) {
		rc = ztp_errf(res->why, sizeof(res->why), ZTP_ECRYPTO, "%s: no TLS session", op);
		goto out;
	}
	SSL_set_app_data(ssl, k);
	vp = SSL_get0_param(ssl);
	if (c->url.is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, c->url.host) != 1) {
			rc = ztp_errf(res->why, sizeof(res->why), ZTP_EINVAL, "%s: bad address",
			    op);
			goto out;
		}
	} else {
		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (X509_VERIFY_PARAM_set1_host(vp, c->url.host, 0) != 1 ||
		    SSL_set_tlsext_host_name(ssl, c->url.host) != 1) {
			rc = ztp_errf(res->why, sizeof(res->why), ZTP_EINVAL, "%s: bad host name",
			    op);
			goto out;
		}
	}
	if (c->has_identity)
		SSL_set_post_handshake_auth(ssl, 1);
	bev = bufferevent_openssl_socket_new(k->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) { /* libevent 2.1 does not free ssl on failure */
		rc = ztp_errf(res->why, sizeof(res->why), ZTP_ENOMEM, "%s: no connection", op);
		goto out;
	}
	k->ssl = ssl;
	ssl = NULL; /* bev owns it */
	k->evcon = evhttp_connection_base_bufferevent_new(k->base, dns, bev, connect_to,
	    c->url.port);
	if (k->evcon == NULL) {
		rc = ztp_errf(res->why, sizeof(res->why), ZTP_ENOMEM, "%s: no connection", op);
		goto out;
	}
	bev = NULL; /* evcon owns it */
	tv.tv_sec = c->timeout_ms / 1000;
	tv.tv_usec = (c->timeout_ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(k->evcon, &tv);
	evhttp_connection_set_retries(k->evcon, 0);
	evhttp_connection_set_max_headers_size(k->evcon, EST_HEADERS_MAX);
	evhttp_connection_set_max_body_size(k->evcon, EST_RESPONSE_MAX);

	if ((req = evhttp_request_new(on_done, k)) == NULL) {
		rc = ztp_errf(res->why, sizeof(res->why), ZTP_ENOMEM, "%s: no request", op);
		goto out;
	}
	evhttp_request_set_header_cb(req, on_headers);
	evhttp_request_set_error_cb(req, on_error);
	h = evhttp_request_get_output_headers(req);
	snprintf(hosthdr, sizeof(hosthdr), v6 ? "[%s]:%u" : "%s:%u", c->url.host, c->url.port);
	if (evhttp_add_header(h, "Host", hosthdr) != 0 ||
	    evhttp_add_header(h, "Connection", "close") != 0 ||
	    evhttp_add_header(h, "User-Agent", "libztp-est") != 0 ||
	    evhttp_add_header(h, "Accept", "application/pkcs7-mime") != 0) {
		rc = ztp_errf(res->why, sizeof(res->why), ZTP_ENOMEM, "%s: no request", op);
		goto out;
	}
	if (post) {
		snprintf(num, sizeof(num), "%zu", blen);
		if (evhttp_add_header(h, "Content-Type", "application/pkcs10") != 0 ||
		    evhttp_add_header(h, "Content-Transfer-Encoding", "base64") != 0 ||
		    evhttp_add_header(h, "Content-Length", num) != 0 ||
		    (authz && c->authz != NULL &&
			evhttp_add_header(h, "Authorization", c->authz) != 0) ||
		    evbuffer_add(evhttp_request_get_output_buffer(req), body, blen) != 0) {
			rc = ztp_errf(res->why, sizeof(res->why), ZTP_ENOMEM, "%s: no request", op);
			goto out;
		}
	}
	if ((deadline = evtimer_new(k->base, on_deadline, k)) == NULL ||
	    evtimer_add(deadline, &tv) != 0) {
		rc = ztp_errf(res->why, sizeof(res->why), ZTP_ENOMEM, "%s: no timer", op);
		goto out;
	}
	elog(c, EST_LOG_DEBUG, "%s %s to %s port %u%s%s", post ? "POST" : "GET", path,
	    c->url.host, c->url.port, c->has_identity ? ", client certificate" : "",
	    post && authz && c->authz != NULL ? ", Basic credentials" : "");
	rc = evhttp_make_request(k->evcon, req, post ? EVHTTP_REQ_POST : EVHTTP_REQ_GET, path);
	req = NULL; /* evhttp's now, also on failure */
	if (rc != 0) {
		k->done = 1;
	}
	if (!k->done)
		event_base_dispatch(k->base);
	rc = k->got_response ? 0 : no_answer(k, res);
	if (rc == 0)
		res->status = k->status;
out:
	if (req != NULL)
		evhttp_request_free(req);
	if (k->evcon != NULL) /* frees bev and the SSL; no callback of ours after this */
		evhttp_connection_free(k->evcon);
	k->evcon = NULL;
	k->ssl = NULL;
	if (bev != NULL)
		bufferevent_free(bev);
	SSL_free(ssl);
	if (dns != NULL)
		evdns_base_free(dns, 0);
	if (deadline != NULL)
		event_free(deadline);
	if (k->base != NULL)
		event_base_free(k->base);
	k->base = NULL;
	ERR_clear_error();
	return rc;
}

/*
 * call_run(), with a clearer reason when a TLS 1.3 connection that
 * presented a client certificate ended after the handshake with neither an
 * answer nor an alert. In TLS 1.3 the server judges the client certificate
 * after the client's last handshake message, when the request is on its
 * way: a server that then closes over the unread request resets the
 * connection, and the reset can swallow its alert (ztpd keeps such sockets
 * open a moment so that the alert arrives). It is reported as a temporary
 * failure: asking again over TLS 1.2 would learn the verdict, but would
 * also let anyone who can cut connections make the client send its
 * certificate in clear, so it is not done.
 */
static int
call_do(struct est_client *c, const char *op, int post, const char *body, size_t blen,
    int authz, struct est_call *k, struct est_result *res)
{
	int rc = call_run(c, op, post, body, blen, authz, k, res);

	if (rc != ZTP_EIO || !c->has_identity || !k->handshake_done || !k->tls13 ||
	    k->alert >= 0 || k->timed_out || k->too_large)
		return rc;
	snprintf(res->why, sizeof(res->why), "%s: the connection ended after the TLS 1.3 "
	    "handshake with no answer (the server may have refused the client certificate)", op);
	return rc;
}

/*
 * The answer's status as a ZTP_E... code; 0 for 200 (and 202 where
 * accepted is allowed, as ZTP_EBUSY).
 */
static int
status_code(struct est_call *k, int accepted_ok, struct est_result *res)
{
	int s = k->status;

	if (s == 200)
		return 0;
	if (s >= 400 && s <= 599)
		est_reason_text(k->body, k->body_len, res->reason, sizeof(res->reason));
	if (s == 202 && accepted_ok) {
		res->retry_after = EST_RETRY_AFTER_DEFAULT;
		if (!k->have_retry_after || est_parse_retry_after(k->retry_after,
		    strlen(k->retry_after), (int64_t)time(NULL), &res->retry_after) != 0)
			elog(k->c, EST_LOG_INFO, "%s: 202 without a usable Retry-After: %u s",
			    k->op, (unsigned)res->retry_after);
		return ztp_errf(res->why, sizeof(res->why), ZTP_EBUSY,
		    "%s: accepted, not yet issued: ask again in %u s", k->op,
		    (unsigned)res->retry_after);
	}
	if (s == 401 || s == 403)
		return ztp_errf(res->why, sizeof(res->why), ZTP_EAUTH, "%s: refused (HTTP %d)%s",
		    k->op, s, s == 401 && k->www_basic && k->c->authz == NULL ?
		    ": the server asks for credentials (HTTP Basic)" : "");
	if (s >= 400 && s <= 499)
		return ztp_errf(res->why, sizeof(res->why), ZTP_EINVAL, "%s: refused (HTTP %d)",
		    k->op, s);
	if (s >= 500 && s <= 599)
		return ztp_errf(res->why, sizeof(res->why), ZTP_EIO, "%s: server error (HTTP %d)",
		    k->op, s);
	return ztp_errf(res->why, sizeof(res->why), ZTP_EIO, "%s: unexpected HTTP status %d",
	    k->op, s);
}

/* A 200 answer's certificates: checks the Content-Type, then est_parse_certs(). */
static int
answer_certs(struct est_call *k, STACK_OF(X509) **certs, struct est_result *res)
{
	char why[160];
	int rc;

	if (!k->have_ctype || !est_ctype_is_pkcs7(k->ctype, strlen(k->ctype))) {
		char t[64];
		est_reason_text((const uint8_t *)k->ctype, strlen(k->ctype), t, sizeof(t));
		return ztp_errf(res->why, sizeof(res->why), ZTP_EMALFORMED,
		    "%s: the answer is \"%s\", not application/pkcs7-mime", k->op,
		    k->have_ctype ? t : "(no Content-Type)");
	}
	if ((rc = est_parse_certs(k->body, k->body_len, certs, why, sizeof(why))) != 0)
		return ztp_errf(res->why, sizeof(res->why), rc, "%s: %s", k->op, why);
	return 0;
}

int
est_cacerts(struct est_client *c, STACK_OF(X509) **certs, struct est_result *res)
{
	struct est_result dummy;
	struct est_call k;
	int rc;

	if (res == NULL)
		res = &dummy;
	result_init(res);
	if (certs != NULL)
		*certs = NULL;
	if (c == NULL || certs == NULL)
		return ztp_errf(res->why, sizeof(res->why), ZTP_EINVAL, "cacerts: bad argument");
	if ((rc = call_do(c, "cacerts", 0, NULL, 0, 0, &k, res)) != 0)
		goto out;
	if ((rc = status_code(&k, 0, res)) != 0)
		goto out;
	if ((rc = answer_certs(&k, certs, res)) != 0)
		goto out;
	elog(c, EST_LOG_INFO, "cacerts: %d CA certificate(s)", sk_X509_num(*certs));
out:
	free(k.body);
	return rc;
}

/* The public key of a DER request we made ourselves; NULL if it cannot be read. */
static EVP_PKEY *
csr_pubkey(const uint8_t *csr, size_t len)
{
	const unsigned char *p = csr;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
	EVP_PKEY *pk = req != NULL ? X509_REQ_get_pubkey(req) : NULL;

	X509_REQ_free(req);
	return pk;
}

static int
enroll(struct est_client *c, const char *op, const uint8_t *csr, size_t len, X509 **cert,
    struct est_result *res)
{
	struct est_result dummy;
	struct est_call k;
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *want = NULL;
	char *b64 = NULL;
	size_t b64cap;
	int i, pick = 0, rc;

	if (res == NULL)
		res = &dummy;
	result_init(res);
	memset(&k, 0, sizeof(k));
	if (cert != NULL)
		*cert = NULL;
	if (c == NULL || cert == NULL || csr == NULL || len == 0 || len > CSR_DER_MAX)
		return ztp_errf(res->why, sizeof(res->why), ZTP_EINVAL, "%s: bad argument", op);
	b64cap = 4 * ((len + 2) / 3) + 1;
	if ((b64 = malloc(b64cap)) == NULL)
		return ZTP_ENOMEM;
	EVP_EncodeBlock((unsigned char *)b64, csr, (int)len);
	if ((rc = call_do(c, op, 1, b64, strlen(b64), 1, &k, res)) != 0)
		goto out;
	if ((rc = status_code(&k, 1, res)) != 0)
		goto out;
	if ((rc = answer_certs(&k, &certs, res)) != 0)
		goto out;
	/* several certificates: the one for the request's key, else the first */
	ERR_set_mark();
	if (sk_X509_num(certs) > 1 && (want = csr_pubkey(csr, len)) != NULL)
		for (i = 0; i < sk_X509_num(certs); i++)
			if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(certs, i)), want) == 1) {
				pick = i;
				break;
			}
	ERR_pop_to_mark();
	*cert = sk_X509_delete(certs, pick);
	elog(c, EST_LOG_INFO, "%s: a certificate issued", op);
	rc = 0;
out:
	EVP_PKEY_free(want);
	sk_X509_pop_free(certs, X509_free);
	free(k.body);
	free(b64);
	return rc;
}

int
est_simpleenroll(struct est_client *c, const uint8_t *csr, size_t len, X509 **cert,
    struct est_result *res)
{
	return enroll(c, "simpleenroll", csr, len, cert, res);
}

int
est_simplereenroll(struct est_client *c, const uint8_t *csr, size_t len, X509 **cert,
    struct est_result *res)
{
	return enroll(c, "simplereenroll", csr, len, cert, res);
}
