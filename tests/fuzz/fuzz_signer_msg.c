/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the signer's message decoder (src/server/proto/signer_msg.h),
 * which reads every request the CA process receives.
 *
 * The bytes are one datagram. A refusal must be one of the documented
 * codes and leave the output untouched. An accepted message must keep the
 * documented bounds and be canonical: encoding what was decoded gives back
 * the input byte for byte (the entries of a SIGN_CRL or CRL_ENTRIES are
 * first read back with signer_msg_revoked_next(), which must yield them in
 * ascending order). The CRL sequence's order is the signer's to check
 * (tests/unit/test_signer.c), not the codec's.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "signer_msg.h"
#include "ztp/err.h"

static struct signer_msg m, before;
static struct signer_revoked entries[SIGNER_REVOKED_MAX + 1];
static uint8_t again[SIGNER_MSG_MAX];

static int
bits_ok(unsigned v, unsigned all)
{
	return v != 0 && (v & ~all) == 0;
}

static void
check_csr(const struct signer_csr_req *r, const uint8_t *data, size_t size)
{
	size_t i;

	FUZZ_CHECK(r->csr_len >= 1 && r->csr_len <= SIGNER_CSR_MAX);
	FUZZ_CHECK(r->csr >= data && r->csr + r->csr_len <= data + size);
	FUZZ_CHECK(r->subject.cn[0] != '\0' || r->subject.serial_number[0] != '\0');
	FUZZ_CHECK(strnlen(r->subject.cn, sizeof(r->subject.cn)) <= SIGNER_NAME_MAX);
	FUZZ_CHECK(r->profile.days >= 1 && r->profile.days <= SIGNER_DAYS_MAX);
	FUZZ_CHECK(bits_ok(r->profile.key_usage, SIGNER_KU_ALL));
	FUZZ_CHECK(bits_ok(r->profile.ext_key_usage, SIGNER_EKU_ALL));
	FUZZ_CHECK(r->n_dns <= SIGNER_SAN_MAX && r->n_ip <= SIGNER_SAN_MAX);
	for (i = 0; i < r->n_dns; i++) {
		size_t n = strnlen(r->dns[i], sizeof(r->dns[i]));
		FUZZ_CHECK(n >= 1 && n <= SIGNER_DNS_MAX);
		FUZZ_CHECK(r->dns[i][0] != '-' && r->dns[i][0] != '.' && r->dns[i][n - 1] != '.');
	}
	for (i = 0; i < r->n_ip; i++)
		FUZZ_CHECK(r->ip_len[i] == 4 || r->ip_len[i] == 16);
}

/*
 * SIGN_SPKI: the fields SIGN_CSR shares, and the SPKI run through the
 * signer's parser, whose answer must point inside it.
 */
static void
check_spki(const struct signer_csr_req *r, const uint8_t *data, size_t size)
{
	struct signer_spki k;

	FUZZ_CHECK(r->csr == NULL && r->csr_len == 0 && !r->has_key_sha256);
	FUZZ_CHECK(r->spki_len >= 1 && r->spki_len <= SIGNER_SPKI_MAX);
	FUZZ_CHECK(r->spki >= data && r->spki + r->spki_len <= data + size);
	FUZZ_CHECK(r->key_type >= SIGNER_KEY_EC_P256 && r->key_type <= SIGNER_KEY_ED25519);
	FUZZ_CHECK(r->key_bits >= 1 && r->key_bits <= SIGNER_KEY_BITS_MAX);
	FUZZ_CHECK(r->subject.cn[0] != '\0' || r->subject.serial_number[0] != '\0');
	FUZZ_CHECK(r->profile.days >= 1 && r->profile.days <= SIGNER_DAYS_MAX);
	FUZZ_CHECK(r->n_dns <= SIGNER_SAN_MAX && r->n_ip <= SIGNER_SAN_MAX);
	if (signer_spki_parse(r->spki, r->spki_len, &k) == 0) {
		FUZZ_CHECK(k.key_type >= SIGNER_KEY_EC_P256 && k.key_type <= SIGNER_KEY_ED25519);
		FUZZ_CHECK(k.key_len >= 1 && k.key >= r->spki &&
		    k.key + k.key_len <= r->spki + r->spki_len);
		FUZZ_CHECK(k.key_type != SIGNER_KEY_RSA ||
		    (k.modulus >= k.key && k.modulus + k.modulus_len <= k.key + k.key_len &&
			k.modulus[0] != 0 && k.key_bits > (k.modulus_len - 1) * 8));
	}
}

/* Read the CRL entries back into entries[]; returns how many. */
static size_t
read_crl(const struct signer_crl_req *r)
{
	size_t pos = 0, n = 0;

	while (n <= SIGNER_REVOKED_MAX && signer_msg_revoked_next(r, &pos, &entries[n])) {
		const struct signer_revoked *e = &entries[n];
		FUZZ_CHECK(e->serial_len >= 1 && e->serial_len <= SIGNER_SERIAL_MAX);
		FUZZ_CHECK(e->serial[0] != 0);
		FUZZ_CHECK(e->revoked_at >= 1 && e->revoked_at <= SIGNER_TIME_MAX);
		FUZZ_CHECK(e->reason <= 10 && e->reason != 7 && e->reason != 8);
		if (n > 0)
			FUZZ_CHECK(signer_msg_serial_cmp(entries[n - 1].serial,
				       entries[n - 1].serial_len, e->serial, e->serial_len) < 0);
		n++;
	}
	FUZZ_CHECK(pos == r->revoked_fields_len);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct signer_msg copy;
	size_t len;
	int rc;

	memset(&m, 0xa5, sizeof(m));
	before = m;
	rc = signer_msg_decode(data, size, &m);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ERANGE || rc == ZTP_ETOOBIG);
		FUZZ_CHECK(memcmp(&m, &before, sizeof(m)) == 0);
		return 0;
	}
	FUZZ_CHECK(size >= SIGNER_MSG_HDR_LEN && size <= SIGNER_MSG_MAX);
	copy = m;
	switch (m.type) {
	case SIGNER_MSG_PING:
	case SIGNER_MSG_PONG:
		FUZZ_CHECK(size == SIGNER_MSG_HDR_LEN);
		break;
	case SIGNER_MSG_SIGN_CSR:
		check_csr(&m.u.csr, data, size);
		break;
	case SIGNER_MSG_SIGN_SPKI:
		check_spki(&m.u.csr, data, size);
		break;
	case SIGNER_MSG_SIGN_CRL:
		FUZZ_CHECK(m.u.crl.next_update >= SIGNER_NEXT_UPDATE_MIN &&
		    m.u.crl.next_update <= SIGNER_NEXT_UPDATE_MAX);
		FUZZ_CHECK(m.u.crl.revoked == NULL);
		FUZZ_CHECK(read_crl(&m.u.crl) == m.u.crl.n_revoked);
		copy.u.crl.revoked = entries;
		break;
	case SIGNER_MSG_CRL_BEGIN:
		FUZZ_CHECK(m.u.crl.next_update >= SIGNER_NEXT_UPDATE_MIN &&
		    m.u.crl.next_update <= SIGNER_NEXT_UPDATE_MAX);
		FUZZ_CHECK(m.u.crl.total <= SIGNER_CRL_TOTAL_MAX);
		FUZZ_CHECK(m.u.crl.n_revoked == 0 && m.u.crl.revoked_fields == NULL);
		break;
	case SIGNER_MSG_CRL_ENTRIES:
		FUZZ_CHECK(m.u.crl.n_revoked >= 1 && m.u.crl.n_revoked <= SIGNER_REVOKED_MAX);
		FUZZ_CHECK(m.u.crl.revoked == NULL);
		FUZZ_CHECK(read_crl(&m.u.crl) == m.u.crl.n_revoked);
		copy.u.crl.revoked = entries;
		break;
	case SIGNER_MSG_CRL_END:
		FUZZ_CHECK(m.u.crl.total <= SIGNER_CRL_TOTAL_MAX && m.u.crl.n_revoked == 0);
		break;
	case SIGNER_MSG_CRL_READ:
		FUZZ_CHECK(m.u.crl_read.offset >= 1 && m.u.crl_read.offset < SIGNER_CRL_DER_MAX);
		break;
	case SIGNER_MSG_CRL_ACK:
		FUZZ_CHECK(m.u.crl_ack.received <= SIGNER_CRL_TOTAL_MAX);
		break;
	case SIGNER_MSG_CRL_PART:
		FUZZ_CHECK(m.u.crl_der.crl_len >= 1 && m.u.crl_der.crl_len <= SIGNER_CRL_PART_MAX);
		FUZZ_CHECK(m.u.crl_der.crl >= data &&
		    m.u.crl_der.crl + m.u.crl_der.crl_len <= data + size);
		FUZZ_CHECK(m.u.crl_der.size >= 1 && m.u.crl_der.size <= SIGNER_CRL_DER_MAX);
		FUZZ_CHECK(m.u.crl_der.offset < m.u.crl_der.size &&
		    m.u.crl_der.crl_len <= m.u.crl_der.size - m.u.crl_der.offset);
		break;
	case SIGNER_MSG_CERT:
		FUZZ_CHECK(m.u.cert.cert_len >= 1 && m.u.cert.cert_len <= SIGNER_CERT_MAX);
		FUZZ_CHECK(m.u.cert.serial_len >= 1 && m.u.cert.serial_len <= SIGNER_SERIAL_MAX);
		FUZZ_CHECK(m.u.cert.not_before >= 0 && m.u.cert.not_after > m.u.cert.not_before);
		break;
	case SIGNER_MSG_CRL:
		FUZZ_CHECK(m.u.crl_der.crl_len >= 1 && m.u.crl_der.crl_len <= SIGNER_CRL_MAX);
		FUZZ_CHECK(m.u.crl_der.size == 0 && m.u.crl_der.offset == 0);
		break;
	case SIGNER_MSG_ERROR:
		FUZZ_CHECK(m.u.error.code > ZTP_E__FIRST && m.u.error.code < ZTP_E__LAST);
		break;
	case SIGNER_MSG_READY: {
		const char *a[3] = { m.u.ready.device, m.u.ready.admin, m.u.ready.est };
		for (int i = 0; i < 3; i++) {
			FUZZ_CHECK(strlen(a[i]) <= SIGNER_ADDR_MAX);
			for (const char *c = a[i]; *c; c++)
				FUZZ_CHECK(*c >= 0x20 && *c <= 0x7e);
		}
		break;
	}
	case SIGNER_MSG_PASS_FD:
		break; /* no fields; the descriptor is ipc.c's */
	case SIGNER_MSG_ZTPCA_SIGN:
		check_spki(&m.u.csr, data, size);
		/* fall through: the CA's fields */
	case SIGNER_MSG_ZTPCA_POP:
		FUZZ_CHECK(m.ztpca.key_len >= 1 && m.ztpca.key_len <= SIGNER_ZTPCA_KEY_MAX);
		FUZZ_CHECK(m.ztpca.key >= data && m.ztpca.key + m.ztpca.key_len <= data + size);
		/* fall through */
	case SIGNER_MSG_ZTPCA_IMPORT:
		FUZZ_CHECK(m.ztpca.cert_len >= 1 && m.ztpca.cert_len <= SIGNER_ZTPCA_CERT_MAX);
		FUZZ_CHECK(m.ztpca.cert >= data && m.ztpca.cert + m.ztpca.cert_len <= data + size);
		/* fall through */
	case SIGNER_MSG_ZTPCA_CREATE: {
		size_t n = strnlen(m.ztpca.id, sizeof(m.ztpca.id));
		FUZZ_CHECK(n >= 3 && n <= SIGNER_ZTPCA_ID_MAX && strchr(m.ztpca.id, '/') != NULL);
		FUZZ_CHECK((m.type == SIGNER_MSG_ZTPCA_IMPORT) == (m.ztpca.privkey != NULL));
		if (m.type == SIGNER_MSG_ZTPCA_IMPORT)
			FUZZ_CHECK(m.ztpca.privkey_len >= 1 &&
			    m.ztpca.privkey_len <= SIGNER_ZTPCA_PKCS8_MAX);
		if (m.type == SIGNER_MSG_ZTPCA_CREATE || m.type == SIGNER_MSG_ZTPCA_POP)
			FUZZ_CHECK(m.u.csr.subject.cn[0] != '\0' && m.u.csr.profile.days >= 1 &&
			    m.u.csr.profile.days <= SIGNER_DAYS_MAX);
		break;
	}
	case SIGNER_MSG_ZTPCA:
		FUZZ_CHECK(m.ztpca.key_len >= 1 && m.ztpca.key_len <= SIGNER_ZTPCA_KEY_MAX);
		FUZZ_CHECK(m.u.cert.cert_len >= 1 && m.u.cert.cert_len <= SIGNER_CERT_MAX);
		FUZZ_CHECK(m.u.cert.not_after > m.u.cert.not_before);
		break;
	default:
		FUZZ_CHECK(!"decoded an unknown type");
	}
	/* canonical: the encoder writes the same bytes back */
	rc = signer_msg_encode(&copy, again, sizeof(again), &len);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(len == size);
	FUZZ_CHECK(memcmp(again, data, size) == 0);
	return 0;
}
