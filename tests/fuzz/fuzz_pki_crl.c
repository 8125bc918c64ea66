/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the check of a fetched CRL's bytes (pki_crl_check,
 * src/server/front/pki.h), which ztpd runs on whatever a foreign PKI's URL
 * answers. OpenSSL parses (DER, PEM); the target checks what ztpd decides.
 *
 * The CA is fixed (below; the seed corpus holds CRLs its key signed: valid
 * ones in DER and PEM, and ones of another key, another issuer, a delta,
 * an indirect CRL, an unknown critical extension, a future thisUpdate,
 * trailing bytes, a cut one), and so is "now" (2030-01-01), so that the
 * seeds keep their meaning. A refusal must be a documented code with a
 * reason within its cap and leave the output untouched. An accepted CRL
 * has its number in bounds, times in order and not from the future, and
 * every entry's serial either as the store keeps serials or refused with
 * a code; checking the same bytes again gives the same CRL.
 */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fuzz.h"
#include "pki.h"
#include "ztp/err.h"

#define NOW 1893456000LL /* 2030-01-01T00:00:00Z */
#define WHY_CAP 128
#define CANARY 0x5a

/* "O=Fuzz, CN=Fuzz PKI CA", P-256, keyCertSign and cRLSign */
static const char ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBsTCCAVegAwIBAgIUAcZvwXQy8NSa2ETZ7fE1kDiPBqowCgYIKoZIzj0EAwIw\n"
	"JTENMAsGA1UECgwERnV6ejEUMBIGA1UEAwwLRnV6eiBQS0kgQ0EwIBcNMjYxMjA4\n"
	"MDE0MTQzWhgPMjEyNjExMTQwMTQxNDNaMCUxDTALBgNVBAoMBEZ1enoxFDASBgNV\n"
	"BAMMC0Z1enogUEtJIENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEvi94n2Bb\n"
	"r/lxyhnRXb1fsxCgcxoHQx3WySFBuD7SZ0sY7zrenx5Xb3lkIv/Zf5ndhYpmXyQ7\n"
	"oswr/bBnHGL0v6NjMGEwHQYDVR0OBBYEFBDAAnqIy+byhgd5nLn1LtTPkSOIMB8G\n"
	"A1UdIwQYMBaAFBDAAnqIy+byhgd5nLn1LtTPkSOIMA8GA1UdEwEB/wQFMAMBAf8w\n"
	"DgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0gAMEUCIQCQNoMJHSR/uLH/wBE3\n"
	"AZ5kvQONXXpEw5Pu51/qaeebugIgKDTgRB+xGvjWHamw7N8J4KocP89ME12pNMa/\n"
	"JCyRTUs=\n"
	"-----END CERTIFICATE-----\n";

static X509 *
the_ca(void)
{
	static X509 *ca;
	BIO *b;

	if (ca == NULL) {
		b = BIO_new_mem_buf(ca_pem, -1);
		FUZZ_CHECK(b != NULL);
		ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
		FUZZ_CHECK(ca != NULL);
	}
	return ca;
}

static int
all_canary(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != CANARY)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[WHY_CAP + 16], serial[STORE_SERIAL_HEX];
	struct pki_crl c, again;
	size_t i, n;
	int rc;

	memset(&c, CANARY, sizeof(c));
	memset(why, CANARY, sizeof(why));
	rc = pki_crl_check(data, size, the_ca(), NOW, &c, why, WHY_CAP);
	FUZZ_CHECK(all_canary(why + WHY_CAP, sizeof(why) - WHY_CAP));
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ETOOBIG || rc == ZTP_EAUTH ||
		    rc == ZTP_EINVAL || rc == ZTP_ENOMEM);
		FUZZ_CHECK(rc != ZTP_ETOOBIG || size > PKI_CRL_MAX);
		FUZZ_CHECK(why[0] != '\0' && memchr(why, '\0', WHY_CAP) != NULL);
		FUZZ_CHECK(all_canary(&c, sizeof(c)));
		return 0;
	}
	FUZZ_CHECK(c.crl != NULL && size <= PKI_CRL_MAX);
	n = strnlen(c.number, sizeof(c.number));
	FUZZ_CHECK(n < sizeof(c.number));
	for (i = 0; i < n; i++)
		FUZZ_CHECK((c.number[i] >= '0' && c.number[i] <= '9') ||
		    (c.number[i] >= 'A' && c.number[i] <= 'F'));
	FUZZ_CHECK(c.this_update >= 0 && c.this_update <= NOW + PKI_FUTURE_SKEW_S);
	FUZZ_CHECK(c.next_update == 0 || c.next_update >= c.this_update);
	for (i = 0; i < c.entries; i++) {
		rc = pki_crl_serial(&c, i, serial);
		FUZZ_CHECK(rc == 0 || rc == ZTP_ERANGE || rc == ZTP_EMALFORMED);
		if (rc == 0)
			FUZZ_CHECK(strlen(serial) >= 2 && strlen(serial) % 2 == 0);
	}
	FUZZ_CHECK(pki_crl_serial(&c, c.entries, serial) == ZTP_EINVAL);
	FUZZ_CHECK(pki_crl_check(data, size, the_ca(), NOW, &again, why, WHY_CAP) == 0);
	FUZZ_CHECK(again.entries == c.entries && again.this_update == c.this_update &&
	    again.next_update == c.next_update && strcmp(again.number, c.number) == 0);
	pki_crl_free(&again);
	pki_crl_free(&c);
	return 0;
}
