/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node bundle's format (nodebundle.h): sections, header, scrypt and
 * AES-256-GCM. Every read of the untrusted file checks the bytes left
 * first; nothing is allocated from a length the file gives before that
 * length has been checked against its bound and against the file's size.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "nodebundle.h"
#include "ztp/err.h"

static const uint8_t magic[8] = { 'Z', 'T', 'P', '-', 'N', 'O', 'D', 'E' };

#define SECTION_HEAD 5 /* type, length */

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
is_hex(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
			(p[i] >= 'A' && p[i] <= 'F')))
			return 0;
	return 1;
}

/*
 * The rules of one section's value: 0, or ZTP_EMALFORMED with the reason.
 * The same rules check what export-node encodes and what join decodes.
 */
static int
section_ok(int type, const uint8_t *v, size_t len, char *why, size_t whycap)
{
	switch (type) {
	case NODEBUNDLE_SECRET_KEY:
		if (len != NODEBUNDLE_SECRET_KEY_LEN)
			return ztp_errf(why, whycap, ZTP_EMALFORMED,
			    "secret.key: %zu bytes, not %d", len, NODEBUNDLE_SECRET_KEY_LEN);
		return 0;
	case NODEBUNDLE_CA_PEM:
	case NODEBUNDLE_CA_KEY: {
		size_t max = type == NODEBUNDLE_CA_PEM ? NODEBUNDLE_CA_PEM_MAX : NODEBUNDLE_CA_KEY_MAX;
		const char *name = type == NODEBUNDLE_CA_PEM ? "ca.pem" : "ca.key";
		if (len == 0 || len > max)
			return ztp_errf(why, whycap, ZTP_EMALFORMED,
			    "%s: %zu bytes, not 1 to %zu", name, len, max);
		if (memchr(v, '\0', len) != NULL)
			return ztp_errf(why, whycap, ZTP_EMALFORMED, "%s: a NUL byte in text",
			    name);
		return 0;
	}
	case NODEBUNDLE_CA_PASS:
		if (len != NODEBUNDLE_CA_PASS_LEN || !is_hex(v, len))
			return ztp_errf(why, whycap, ZTP_EMALFORMED,
			    "ca.pass: not %d hexadecimal characters", NODEBUNDLE_CA_PASS_LEN);
		return 0;
	default:
		return ztp_errf(why, whycap, ZTP_EMALFORMED, "unknown section type %d", type);
	}
}

/*
 * nb as its list of sections (type, value, length; a NULL value: absent),
 * in type order. 0, or ZTP_EINVAL if a required one is missing or ca.pass
 * comes without ca.key.
 */
static int
sections_of(const struct nodebundle *nb, const uint8_t *v[5], size_t l[5])
{
	memset(v, 0, 5 * sizeof(v[0]));
	memset(l, 0, 5 * sizeof(l[0]));
	v[NODEBUNDLE_SECRET_KEY] = nb->secret_key;
	l[NODEBUNDLE_SECRET_KEY] = NODEBUNDLE_SECRET_KEY_LEN;
	v[NODEBUNDLE_CA_PEM] = nb->ca_pem;
	l[NODEBUNDLE_CA_PEM] = nb->ca_pem_len;
	v[NODEBUNDLE_CA_KEY] = nb->ca_key;
	l[NODEBUNDLE_CA_KEY] = nb->ca_key_len;
	v[NODEBUNDLE_CA_PASS] = nb->ca_pass;
	l[NODEBUNDLE_CA_PASS] = nb->ca_pass_len;
	if (nb->secret_key == NULL || nb->ca_pem == NULL ||
	    (nb->ca_pass != NULL && nb->ca_key == NULL))
		return ZTP_EINVAL;
	for (int t = 1; t <= NODEBUNDLE_CA_PASS; t++)
		if (v[t] != NULL && section_ok(t, v[t], l[t], NULL, 0) != 0)
			return ZTP_EINVAL;
	return 0;
}

size_t
nodebundle_encoded_len(const struct nodebundle *nb)
{
	const uint8_t *v[5];
	size_t l[5], n = 0;

	if (sections_of(nb, v, l) != 0)
		return 0;
	for (int t = 1; t <= NODEBUNDLE_CA_PASS; t++)
		if (v[t] != NULL)
			n += SECTION_HEAD + l[t];
	return n;
}

int
nodebundle_encode(const struct nodebundle *nb, uint8_t *out, size_t cap, size_t *len)
{
	const uint8_t *v[5];
	size_t l[5], n = 0, need;

	if ((need = nodebundle_encoded_len(nb)) == 0 || sections_of(nb, v, l) != 0)
		return ZTP_EINVAL;
	if (need > cap)
		return ZTP_ERANGE;
	for (int t = 1; t <= NODEBUNDLE_CA_PASS; t++) {
		if (v[t] == NULL)
			continue;
		out[n] = (uint8_t)t;
		put32(out + n + 1, (uint32_t)l[t]);
		memcpy(out + n + SECTION_HEAD, v[t], l[t]);
		n += SECTION_HEAD + l[t];
	}
	*len = n;
	return 0;
}

int
nodebundle_decode(const uint8_t *plain, size_t len, struct nodebundle *nb, char *why,
    size_t whycap)
{
	struct nodebundle got;
	size_t pos = 0, slen;
	int last = 0, type, rc;

	memset(nb, 0, sizeof(*nb));
	memset(&got, 0, sizeof(got));
	while (pos < len) {
		if (len - pos < SECTION_HEAD)
			return ztp_errf(why, whycap, ZTP_EMALFORMED,
			    "a section header cut short at byte %zu", pos);
		type = plain[pos];
		slen = get32(plain + pos + 1);
		pos += SECTION_HEAD;
		if (type <= last)
			return ztp_errf(why, whycap, ZTP_EMALFORMED,
			    "section type %d after %d: out of order or repeated", type, last);
		if (slen > len - pos)
			return ztp_errf(why, whycap, ZTP_EMALFORMED,
			    "section %d: %zu bytes, only %zu left", type, slen, len - pos);
		if ((rc = section_ok(type, plain + pos, slen, why, whycap)) != 0)
			return rc;
		switch (type) {
		case NODEBUNDLE_SECRET_KEY:
			got.secret_key = plain + pos;
			break;
		case NODEBUNDLE_CA_PEM:
			got.ca_pem = plain + pos;
			got.ca_pem_len = slen;
			break;
		case NODEBUNDLE_CA_KEY:
			got.ca_key = plain + pos;
			got.ca_key_len = slen;
			break;
		case NODEBUNDLE_CA_PASS:
			got.ca_pass = plain + pos;
			got.ca_pass_len = slen;
			break;
		}
		last = type;
		pos += slen;
	}
	if (got.secret_key == NULL)
		return ztp_errf(why, whycap, ZTP_EMALFORMED, "no secret.key");
	if (got.ca_pem == NULL)
		return ztp_errf(why, whycap, ZTP_EMALFORMED, "no ca.pem");
	if (got.ca_pass != NULL && got.ca_key == NULL)
		return ztp_errf(why, whycap, ZTP_EMALFORMED, "ca.pass without ca.key");
	*nb = got;
	return 0;
}

/* 0 if h's KDF and costs are within the bounds of nodebundle.h. */
static int
kdf_ok(const struct nodebundle_header *h, char *why, size_t whycap)
{
	if (h->kdf != NODEBUNDLE_KDF_SCRYPT)
		return ztp_errf(why, whycap, ZTP_EMALFORMED, "unknown KDF %d", h->kdf);
	if (h->log2n < NODEBUNDLE_LOG2N_MIN || h->log2n > NODEBUNDLE_LOG2N_MAX ||
	    h->r < 1 || h->r > NODEBUNDLE_R_MAX || h->p < 1 || h->p > NODEBUNDLE_P_MAX ||
	    ((uint64_t)128 * h->r << h->log2n) > NODEBUNDLE_KDF_MEM_MAX)
		return ztp_errf(why, whycap, ZTP_EMALFORMED,
		    "scrypt costs out of bounds (log2 N %d, r %d, p %d)", h->log2n, h->r, h->p);
	return 0;
}

void
nodebundle_header_write(const struct nodebundle_header *h, uint8_t out[NODEBUNDLE_HEADER_LEN])
{
	memcpy(out, magic, sizeof(magic));
	out[8] = (uint8_t)(h->version >> 8);
	out[9] = (uint8_t)h->version;
	out[10] = h->kdf;
	out[11] = h->log2n;
	out[12] = h->r;
	out[13] = h->p;
	out[14] = out[15] = 0;
	memcpy(out + 16, h->salt, NODEBUNDLE_SALT_LEN);
	memcpy(out + 32, h->nonce, NODEBUNDLE_NONCE_LEN);
	put32(out + 44, h->plain_len);
}

int
nodebundle_header_read(const uint8_t *buf, size_t len, struct nodebundle_header *h, char *why,
    size_t whycap)
{
	struct nodebundle_header got;
	uint64_t want;
	int rc;

	memset(h, 0, sizeof(*h));
	if (len > NODEBUNDLE_FILE_MAX)
		return ztp_errf(why, whycap, ZTP_ETOOBIG, "%zu bytes: a bundle has at most %d",
		    len, NODEBUNDLE_FILE_MAX);
	if (len == 0 || memcmp(buf, magic, len < sizeof(magic) ? len : sizeof(magic)) != 0)
		return ztp_errf(why, whycap, ZTP_EMALFORMED, "not a ztp node bundle");
	if (len < 10)
		return ztp_errf(why, whycap, ZTP_EMALFORMED, "truncated: %zu bytes", len);
	memset(&got, 0, sizeof(got));
	got.version = (uint16_t)(buf[8] << 8 | buf[9]);
	if (got.version != NODEBUNDLE_VERSION)
		return ztp_errf(why, whycap, ZTP_ERANGE,
		    "format version %u: this ztpd reads version %d", got.version,
		    NODEBUNDLE_VERSION);
	if (len < NODEBUNDLE_HEADER_LEN + NODEBUNDLE_TAG_LEN)
		return ztp_errf(why, whycap, ZTP_EMALFORMED, "truncated: %zu bytes", len);
	got.kdf = buf[10];
	got.log2n = buf[11];
	got.r = buf[12];
	got.p = buf[13];
	if (buf[14] != 0 || buf[15] != 0)
		return ztp_errf(why, whycap, ZTP_EMALFORMED, "reserved header bytes not zero");
	if ((rc = kdf_ok(&got, why, whycap)) != 0)
		return rc;
	memcpy(got.salt, buf + 16, NODEBUNDLE_SALT_LEN);
	memcpy(got.nonce, buf + 32, NODEBUNDLE_NONCE_LEN);
	got.plain_len = get32(buf + 44);
	if (got.plain_len > NODEBUNDLE_PLAIN_MAX)
		return ztp_errf(why, whycap, ZTP_EMALFORMED,
		    "a plaintext of %u bytes: at most %d", got.plain_len, NODEBUNDLE_PLAIN_MAX);
	want = (uint64_t)NODEBUNDLE_HEADER_LEN + got.plain_len + NODEBUNDLE_TAG_LEN;
	if (len < want)
		return ztp_errf(why, whycap, ZTP_EMALFORMED,
		    "truncated: %zu bytes of %llu", len, (unsigned long long)want);
	if (len > want)
		return ztp_errf(why, whycap, ZTP_EMALFORMED,
		    "%llu bytes after the end of the bundle", (unsigned long long)(len - want));
	*h = got;
	return 0;
}

int
nodebundle_derive(const struct nodebundle_header *h, const char *pass, size_t passlen,
    uint8_t key[NODEBUNDLE_KEY_LEN])
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[7];
	uint64_t n, maxmem = NODEBUNDLE_KDF_MEM_MAX + 1024 * 1024;
	uint32_t r, p;
	int rc = ZTP_ECRYPTO;

	if (kdf_ok(h, NULL, 0) != 0 || passlen == 0 || passlen > NODEBUNDLE_PASS_MAX)
		return ZTP_EINVAL;
	n = (uint64_t)1 << h->log2n;
	r = h->r;
	p = h->p;
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pass,
	    passlen);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)h->salt,
	    NODEBUNDLE_SALT_LEN);
	params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	params[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	params[6] = OSSL_PARAM_construct_end();
	if ((kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL ||
	    EVP_KDF_derive(ctx, key, NODEBUNDLE_KEY_LEN, params) != 1) {
		OPENSSL_cleanse(key, NODEBUNDLE_KEY_LEN);
		ERR_clear_error();
		goto out;
	}
	rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int
nodebundle_seal_key(struct nodebundle_header *h, const uint8_t key[NODEBUNDLE_KEY_LEN],
    const uint8_t *plain, size_t plainlen, uint8_t *out, size_t cap, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n, rc = ZTP_ECRYPTO;

	if (plainlen > NODEBUNDLE_PLAIN_MAX)
		return ZTP_ERANGE;
	if (cap < NODEBUNDLE_HEADER_LEN + plainlen + NODEBUNDLE_TAG_LEN)
		return ZTP_ERANGE;
	h->plain_len = (uint32_t)plainlen;
	nodebundle_header_write(h, out);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NODEBUNDLE_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, h->nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, out, NODEBUNDLE_HEADER_LEN) != 1)
		goto out;
	if (plainlen > 0 && (EVP_EncryptUpdate(ctx, out + NODEBUNDLE_HEADER_LEN, &n, plain,
				 (int)plainlen) != 1 ||
				(size_t)n != plainlen))
		goto out;
	if (EVP_EncryptFinal_ex(ctx, out + NODEBUNDLE_HEADER_LEN + plainlen, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, NODEBUNDLE_TAG_LEN,
		out + NODEBUNDLE_HEADER_LEN + plainlen) != 1)
		goto out;
	*outlen = NODEBUNDLE_HEADER_LEN + plainlen + NODEBUNDLE_TAG_LEN;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (rc != 0)
		ERR_clear_error();
	return rc;
}

int
nodebundle_open_key(const uint8_t *buf, size_t len, const struct nodebundle_header *h,
    const uint8_t key[NODEBUNDLE_KEY_LEN], uint8_t *plain, size_t cap, size_t *plainlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	size_t n = h->plain_len;
	uint8_t tag[NODEBUNDLE_TAG_LEN];
	int m, rc = ZTP_EAUTH;

	if (n > NODEBUNDLE_PLAIN_MAX || cap < n ||
	    len != NODEBUNDLE_HEADER_LEN + n + NODEBUNDLE_TAG_LEN)
		return ZTP_ERANGE;
	memcpy(tag, buf + NODEBUNDLE_HEADER_LEN + n, sizeof(tag));
	/* the header as read, not as h says: every byte of it is authenticated */
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NODEBUNDLE_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, h->nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &m, buf, NODEBUNDLE_HEADER_LEN) != 1)
		goto out;
	if (n > 0 && (EVP_DecryptUpdate(ctx, plain, &m, buf + NODEBUNDLE_HEADER_LEN, (int)n) != 1 ||
			 (size_t)m != n))
		goto out;
	/* the tag is compared in constant time by OpenSSL's GCM */
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, sizeof(tag), tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, plain + n, &m) != 1)
		goto out;
	*plainlen = n;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (rc != 0) {
		OPENSSL_cleanse(plain, n);
		ERR_clear_error();
	}
	return rc;
}

int
nodebundle_seal(const struct nodebundle *nb, const char *pass, size_t passlen, int log2n,
    uint8_t **out, size_t *outlen)
{
	struct nodebundle_header h;
	uint8_t key[NODEBUNDLE_KEY_LEN], *plain = NULL, *file = NULL;
	size_t plen = 0, cap;
	int rc;

	*out = NULL;
	*outlen = 0;
	memset(&h, 0, sizeof(h));
	h.version = NODEBUNDLE_VERSION;
	h.kdf = NODEBUNDLE_KDF_SCRYPT;
	h.log2n = (uint8_t)(log2n == 0 ? NODEBUNDLE_LOG2N_DEFAULT : log2n);
	h.r = NODEBUNDLE_R_DEFAULT;
	h.p = NODEBUNDLE_P_DEFAULT;
	if (log2n < 0 || log2n > 255 || kdf_ok(&h, NULL, 0) != 0)
		return ZTP_EINVAL;
	if ((cap = nodebundle_encoded_len(nb)) == 0 || cap > NODEBUNDLE_PLAIN_MAX)
		return ZTP_EINVAL;
	if (RAND_bytes(h.salt, sizeof(h.salt)) != 1 || RAND_bytes(h.nonce, sizeof(h.nonce)) != 1)
		return ZTP_ECRYPTO;
	if ((plain = OPENSSL_malloc(cap)) == NULL ||
	    (file = malloc(NODEBUNDLE_HEADER_LEN + cap + NODEBUNDLE_TAG_LEN)) == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	if ((rc = nodebundle_encode(nb, plain, cap, &plen)) != 0 ||
	    (rc = nodebundle_derive(&h, pass, passlen, key)) != 0)
		goto out;
	rc = nodebundle_seal_key(&h, key, plain, plen, file,
	    NODEBUNDLE_HEADER_LEN + cap + NODEBUNDLE_TAG_LEN, outlen);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc == 0) {
		*out = file;
		file = NULL;
	}
out:
	if (plain != NULL)
		OPENSSL_clear_free(plain, cap);
	free(file);
	return rc;
}

int
nodebundle_open(const uint8_t *buf, size_t len, const char *pass, size_t passlen,
    uint8_t **plain, size_t *plainlen, struct nodebundle *nb, char *why, size_t whycap)
{
	struct nodebundle_header h;
	uint8_t key[NODEBUNDLE_KEY_LEN], *p = NULL;
	size_t n = 0;
	int rc;

	*plain = NULL;
	*plainlen = 0;
	memset(nb, 0, sizeof(*nb));
	if ((rc = nodebundle_header_read(buf, len, &h, why, whycap)) != 0)
		return rc;
	if (passlen == 0 || passlen > NODEBUNDLE_PASS_MAX)
		return ztp_errf(why, whycap, ZTP_EINVAL, "a passphrase of 1 to %d bytes",
		    NODEBUNDLE_PASS_MAX);
	/* one byte more than needed: OpenSSL_malloc(0) may give NULL */
	if ((p = OPENSSL_malloc((size_t)h.plain_len + 1)) == NULL)
		return ztp_errf(why, whycap, ZTP_ENOMEM, "out of memory");
	if ((rc = nodebundle_derive(&h, pass, passlen, key)) != 0) {
		ztp_errf(why, whycap, rc, "cannot derive the key (scrypt)");
		goto out;
	}
	rc = nodebundle_open_key(buf, len, &h, key, p, (size_t)h.plain_len + 1, &n);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc != 0) {
		ztp_errf(why, whycap, rc, "wrong passphrase, or the file was changed");
		goto out;
	}
	if ((rc = nodebundle_decode(p, n, nb, why, whycap)) != 0)
		goto out;
	*plain = p;
	*plainlen = n;
	p = NULL;
out:
	if (p != NULL)
		OPENSSL_clear_free(p, (size_t)h.plain_len + 1);
	return rc;
}

void
nodebundle_plain_free(uint8_t *plain, size_t len)
{
	/* allocated with one byte more (nodebundle_open) */
	if (plain != NULL)
		OPENSSL_clear_free(plain, len + 1);
}
