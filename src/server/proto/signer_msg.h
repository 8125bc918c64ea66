/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signer's messages: the typed requests that ztpd sends to the CA
 * process (signer.c) and its answers. Both sides link this codec; the
 * client encodes only what the decoder accepts (signer_msg_encode() checks
 * its output with signer_msg_decode()), and the signer decodes everything
 * it receives with the same code. No allocation; the decoder is fuzzed
 * (tests/fuzz/fuzz_signer_msg.c).
 *
 * Wire format. One message per SOCK_SEQPACKET datagram; integers are
 * big-endian and unsigned unless said otherwise.
 *
 *   message = type:u16 length:u32 field*      length: bytes after the header
 *   field   = tag:u16 len:u16 value[len]
 *
 * - A datagram is exactly one message: 6 + length bytes, at most
 *   SIGNER_MSG_MAX (65536) in all. A longer datagram is ZTP_ETOOBIG; a
 *   shorter or longer header length, a field running past the end or a
 *   partial field header at the end is ZTP_EMALFORMED.
 * - Fields come in ascending tag order. Only SAN_DNS, SAN_IP and REVOKED
 *   may repeat (hence consecutively); any other tag twice is malformed. So
 *   a message has one encoding: decoding and re-encoding it gives back the
 *   same bytes.
 * - Malformed (ZTP_EMALFORMED): an unknown type, a tag the type does not
 *   define, a missing required field, an empty value, a fixed-size value of
 *   another size, a character outside a field's set, invalid UTF-8.
 *   Out of range (ZTP_ERANGE): a well-formed value outside its bounds,
 *   including a variable-length value longer than its maximum and too many
 *   repeats.
 *
 * Types and their fields (R required, O optional, * repeatable):
 *
 *   0x0001 PING          no fields; the signer answers PONG
 *   0x8001 PONG          no fields
 *
 *   0x0002 SIGN_CSR      issue a certificate for the CSR's key
 *     0x01 CSR           R   PKCS#10 DER, 1..8192 bytes; the signer parses
 *                            it and checks its signature
 *     0x02 CN            O   subject commonName: UTF-8, 1..64 bytes, no
 *                            control characters
 *     0x03 SERIAL_NUMBER O   subject serialNumber: 1..64 PrintableString
 *                            characters (A-Z a-z 0-9 space '()+,-./:=?)
 *     0x04 ORG           O   subject organizationName, as CN
 *     0x05 ORG_UNIT      O   subject organizationalUnitName, as CN
 *     0x06 DAYS          R   u32 validity in days, 1..7300; the signer ends
 *                            it no later than the CA certificate
 *     0x07 KEY_USAGE     R   u16, a non-empty set of SIGNER_KU_*
 *     0x08 EXT_KEY_USAGE R   u16, a non-empty set of SIGNER_EKU_*
 *     0x09 KEY_SHA256    O   32 bytes: SHA-256 of the DER
 *                            SubjectPublicKeyInfo the CSR must carry
 *     0x0A SAN_DNS       O*  a DNS name: 1..253 bytes, dot-separated
 *                            labels of 1..63 letters, digits and inner '-'
 *     0x0B SAN_IP        O*  an IPv4 (4 bytes) or IPv6 (16 bytes) address
 *     At least one of CN and SERIAL_NUMBER; at most 16 SAN_DNS and 16
 *     SAN_IP. The subject is the request's, never the CSR's: the caller
 *     decides it (from its allowlist).
 *
 *   0x0008 SIGN_SPKI     issue a certificate for a public key whose CSR
 *                        the caller has decoded and verified (signer.h:
 *                        why the signer need not see the CSR)
 *     0x02..0x08, 0x0A, 0x0B as SIGN_CSR (CN, SERIAL_NUMBER, ORG, ORG_UNIT,
 *                            DAYS R, KEY_USAGE R, EXT_KEY_USAGE R, SAN_DNS,
 *                            SAN_IP), with the same rules
 *     0x0C SPKI          R   the DER SubjectPublicKeyInfo, 1..2048 bytes;
 *                            its structure is the signer's to check
 *                            (signer_spki_parse())
 *     0x0D KEY_TYPE      R   u8, the key's SIGNER_KEY_* as the caller found it
 *     0x0E KEY_BITS      R   u16, its size as the caller found it: 1..16384
 *     No CSR and no KEY_SHA256: the caller hashed the SPKI itself.
 *
 *   0x8002 CERT          the issued certificate
 *     0x20 CERT          R   X.509 DER, 1..16384 bytes
 *     0x21 SERIAL        R   1..20 bytes, unsigned, no leading zero byte
 *     0x22 NOT_BEFORE    R   u64 Unix seconds, 0..253402300799
 *     0x23 NOT_AFTER     R   u64 Unix seconds, after NOT_BEFORE
 *
 *   0x0003 SIGN_CRL      sign a CRL (v2, with CRL number and AKI)
 *     0x10 CRL_NUMBER    R   u64
 *     0x11 NEXT_UPDATE   R   u32 seconds from the time of signing,
 *                            60..31622400 (366 days)
 *     0x12 REVOKED       O*  serial_len:u8 serial reason:u8 revoked_at:u64:
 *                            serial as SERIAL; reason an RFC 5280 CRLReason
 *                            (0-6, 9, 10); revoked_at Unix seconds,
 *                            1..253402300799. At most 1000, serials
 *                            strictly ascending (so no duplicates).
 *
 *   0x8003 CRL           the signed CRL
 *     0x24 CRL           R   DER, 1..65526 bytes
 *
 *   Between the parent and its children (control socket; parent.c):
 *
 *   0x0101 READY         a child has started: the signer once it holds the
 *                        CA; the front once it listens, with the addresses
 *                        it bound (empty fields: listener off)
 *     0x38 DEVICE_ADDR   O   "ADDR:PORT" or "[ADDR6]:PORT", printable ASCII,
 *                            1..79 bytes
 *     0x39 ADMIN_ADDR    O   as DEVICE_ADDR
 *     0x3A EST_ADDR      O   as DEVICE_ADDR
 *   0x0102 PASS_FD       no fields; the datagram carries exactly one file
 *                        descriptor (SCM_RIGHTS): a new socket between the
 *                        front and the signer, to the front or to the
 *                        signer (ipc.h)
 *
 * A CRL of any size (ztpd's own path; SIGN_CRL is for one that fits one
 * message) is a sequence of requests, each answered by one message:
 *
 *   0x0004 CRL_BEGIN     start building a CRL; answered CRL_ACK
 *     0x10 CRL_NUMBER    R   as SIGN_CRL
 *     0x11 NEXT_UPDATE   R   as SIGN_CRL
 *     0x13 CRL_TOTAL     R   u32 entries that will follow, 0..1000000
 *   0x0005 CRL_ENTRIES   the next entries; answered CRL_ACK
 *     0x12 REVOKED       R*  as SIGN_CRL: 1..1000 per message, ascending
 *   0x0006 CRL_END       sign it; answered with the first CRL_PART
 *     0x13 CRL_TOTAL     R   the same total again
 *   0x0007 CRL_READ      the next part of the signed CRL; answered CRL_PART
 *     0x14 READ_OFFSET   R   u32 where the part starts, 1..SIGNER_CRL_DER_MAX-1
 *
 *   0x8004 CRL_ACK       entries so far
 *     0x25 RECEIVED      R   u32, 0..1000000
 *   0x8005 CRL_PART      a part of the signed CRL (DER)
 *     0x24 CRL           R   1..SIGNER_CRL_PART_MAX bytes
 *     0x26 CRL_SIZE      R   u32 size of the whole DER, 1..SIGNER_CRL_DER_MAX
 *     0x27 PART_OFFSET   R   u32 where this part starts; it ends within CRL_SIZE
 *
 * The codec checks each message alone; the signer checks the sequence
 * (signer.c): BEGIN, ENTRIES until TOTAL entries have come, END, then
 * READ at each next offset until the last byte; serials ascend across
 * messages too. Anything else is refused and drops the CRL being built.
 *
 * ZTP certificate authorities (issue 14, docs/security-service.md "ZTP
 * certificates"): an owner's CA whose private key only the signer ever
 * sees in clear. The signer hands it out wrapped (AES-256-GCM under a key
 * it derives from its own CA key, with the CA's identity as associated
 * data); the front keeps the wrapped key and the certificate in the store
 * and sends both back with every request that signs with that CA. The
 * signer is stateless here: a wrapped key that does not open under its
 * identity, or is not the certificate's key, is refused.
 *
 *   0x0009 ZTPCA_CREATE  make a new CA: an EC P-256 key and a self-signed
 *                        certificate (CA:TRUE, pathlen 0, keyCertSign, cRLSign)
 *     0x02 CN            R   its subject commonName, as SIGN_CSR's
 *     0x04 ORG           O   its subject organizationName
 *     0x06 DAYS          R   its validity, 1..7300 days
 *     0x17 ZTPCA_ID      R   the CA's identity: "<owner>/<name>", 3..129
 *                            printable ASCII; the wrapped key's associated data
 *   0x000A ZTPCA_IMPORT  wrap an existing CA's key
 *     0x15 ZTPCA_CERT    R   its certificate, DER, 1..SIGNER_ZTPCA_CERT_MAX
 *     0x17 ZTPCA_ID      R
 *     0x18 PRIVKEY       R   its private key, PKCS#8 DER (not encrypted),
 *                            1..SIGNER_ZTPCA_PKCS8_MAX. The signer checks that
 *                            it is the certificate's key, that the certificate
 *                            is a CA (basicConstraints CA:TRUE, keyCertSign
 *                            if keyUsage is present) and valid now, and that
 *                            the key is EC P-256/P-384 or RSA 2048-4096.
 *   0x8006 ZTPCA         the CA, answer to both
 *     0x16 ZTPCA_KEY     R   the wrapped key, 1..SIGNER_ZTPCA_KEY_MAX
 *     0x20 CERT          R   its certificate (DER)
 *     0x22 NOT_BEFORE    R   as CERT
 *     0x23 NOT_AFTER     R   as CERT
 *
 *   0x000B ZTPCA_SIGN    issue a device certificate with a ZTP CA, answered CERT
 *     0x02..0x08, 0x0C..0x0E as SIGN_SPKI (CN, SERIAL_NUMBER, ORG, ORG_UNIT,
 *                            DAYS R, KEY_USAGE R, EXT_KEY_USAGE R, SPKI R,
 *                            KEY_TYPE R, KEY_BITS R); no SANs
 *     0x15 ZTPCA_CERT    R   the CA's certificate
 *     0x16 ZTPCA_KEY     R   its wrapped key
 *     0x17 ZTPCA_ID      R   its identity
 *   0x000C ZTPCA_POP     a proof-of-possession certificate (what a cloud's
 *                        CA registration asks for): subject CN = the code,
 *                        for a key the signer makes and forgets; answered CERT
 *     0x02 CN            R   the registration code
 *     0x06 DAYS          R
 *     0x15 ZTPCA_CERT    R
 *     0x16 ZTPCA_KEY     R
 *     0x17 ZTPCA_ID      R
 *
 *   0x000D ZTPCA_SIGN_DATA  sign a SHA-256 digest with a ZTP CA's key (the
 *                        key that signs gateways' commands, docs/gateways.md);
 *                        answered SIGNATURE
 *     0x19 DIGEST        R   32 bytes
 *     0x15 ZTPCA_CERT    R
 *     0x16 ZTPCA_KEY     R
 *     0x17 ZTPCA_ID      R
 *   0x8007 SIGNATURE     the signature (DER ECDSA-Sig-Value, or PKCS#1 v1.5 for RSA)
 *     0x28 SIGNATURE     R   1..SIGNER_SIGNATURE_MAX bytes
 *
 *   0x80FF ERROR         the request was refused
 *     0x30 CODE          R   s32 (two's complement), a ZTP_E... code
 *     0x31 TEXT          O   printable ASCII, 1..200 bytes, for the log
 *
 * The signer answers every request with exactly one message: the request's
 * response type or ERROR. Responses sent to the signer are refused.
 */
#ifndef ZTP_SIGNER_MSG_H
#define ZTP_SIGNER_MSG_H
#include <stddef.h>
#include <stdint.h>

#define SIGNER_MSG_HDR_LEN 6
#define SIGNER_FIELD_HDR_LEN 4
#define SIGNER_MSG_MAX 65536

#define SIGNER_MSG_PING 0x0001
#define SIGNER_MSG_SIGN_CSR 0x0002
#define SIGNER_MSG_SIGN_CRL 0x0003
#define SIGNER_MSG_CRL_BEGIN 0x0004
#define SIGNER_MSG_CRL_ENTRIES 0x0005
#define SIGNER_MSG_CRL_END 0x0006
#define SIGNER_MSG_CRL_READ 0x0007
#define SIGNER_MSG_SIGN_SPKI 0x0008
#define SIGNER_MSG_ZTPCA_CREATE 0x0009
#define SIGNER_MSG_ZTPCA_IMPORT 0x000A
#define SIGNER_MSG_ZTPCA_SIGN 0x000B
#define SIGNER_MSG_ZTPCA_POP 0x000C
#define SIGNER_MSG_ZTPCA_SIGN_DATA 0x000D
#define SIGNER_MSG_PONG 0x8001
#define SIGNER_MSG_CERT 0x8002
#define SIGNER_MSG_CRL 0x8003
#define SIGNER_MSG_CRL_ACK 0x8004
#define SIGNER_MSG_CRL_PART 0x8005
#define SIGNER_MSG_ZTPCA 0x8006
#define SIGNER_MSG_SIGNATURE 0x8007
#define SIGNER_MSG_ERROR 0x80FF
#define SIGNER_MSG_READY 0x0101
#define SIGNER_MSG_PASS_FD 0x0102

#define SIGNER_TAG_CSR 0x01
#define SIGNER_TAG_CN 0x02
#define SIGNER_TAG_SERIAL_NUMBER 0x03
#define SIGNER_TAG_ORG 0x04
#define SIGNER_TAG_ORG_UNIT 0x05
#define SIGNER_TAG_DAYS 0x06
#define SIGNER_TAG_KEY_USAGE 0x07
#define SIGNER_TAG_EXT_KEY_USAGE 0x08
#define SIGNER_TAG_KEY_SHA256 0x09
#define SIGNER_TAG_SAN_DNS 0x0A
#define SIGNER_TAG_SAN_IP 0x0B
#define SIGNER_TAG_SPKI 0x0C
#define SIGNER_TAG_KEY_TYPE 0x0D
#define SIGNER_TAG_KEY_BITS 0x0E
#define SIGNER_TAG_CRL_NUMBER 0x10
#define SIGNER_TAG_NEXT_UPDATE 0x11
#define SIGNER_TAG_REVOKED 0x12
#define SIGNER_TAG_CRL_TOTAL 0x13
#define SIGNER_TAG_READ_OFFSET 0x14
#define SIGNER_TAG_ZTPCA_CERT 0x15
#define SIGNER_TAG_ZTPCA_KEY 0x16
#define SIGNER_TAG_ZTPCA_ID 0x17
#define SIGNER_TAG_PRIVKEY 0x18
#define SIGNER_TAG_DIGEST 0x19
#define SIGNER_TAG_CERT 0x20
#define SIGNER_TAG_SERIAL 0x21
#define SIGNER_TAG_NOT_BEFORE 0x22
#define SIGNER_TAG_NOT_AFTER 0x23
#define SIGNER_TAG_CRL 0x24
#define SIGNER_TAG_RECEIVED 0x25
#define SIGNER_TAG_CRL_SIZE 0x26
#define SIGNER_TAG_PART_OFFSET 0x27
#define SIGNER_TAG_SIGNATURE 0x28
#define SIGNER_TAG_CODE 0x30
#define SIGNER_TAG_TEXT 0x31
#define SIGNER_TAG_DEVICE_ADDR 0x38
#define SIGNER_TAG_ADMIN_ADDR 0x39
#define SIGNER_TAG_EST_ADDR 0x3A

/* bounds */
#define SIGNER_CSR_MAX 8192
#define SIGNER_SPKI_MAX 2048 /* an RSA 4096 SPKI is 550 bytes */
#define SIGNER_KEY_BITS_MAX 16384
#define SIGNER_NAME_MAX 64
#define SIGNER_DAYS_MAX 7300
#define SIGNER_SAN_MAX 16
#define SIGNER_DNS_MAX 253
#define SIGNER_CERT_MAX 16384
#define SIGNER_SERIAL_MAX 20
#define SIGNER_REVOKED_MAX 1000
#define SIGNER_NEXT_UPDATE_MIN 60
#define SIGNER_NEXT_UPDATE_MAX 31622400
#define SIGNER_TIME_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define SIGNER_CRL_MAX (SIGNER_MSG_MAX - SIGNER_MSG_HDR_LEN - SIGNER_FIELD_HDR_LEN)
#define SIGNER_TEXT_MAX 200
#define SIGNER_ADDR_MAX 79
/* ZTP CAs: a certificate a module can hold, an RSA 4096 key in PKCS#8 (2.4 KB) */
#define SIGNER_ZTPCA_CERT_MAX 2048
#define SIGNER_ZTPCA_PKCS8_MAX 3072
#define SIGNER_ZTPCA_WRAP_OVERHEAD (1 + 12 + 16) /* version, nonce, tag */
#define SIGNER_ZTPCA_KEY_MAX (SIGNER_ZTPCA_PKCS8_MAX + SIGNER_ZTPCA_WRAP_OVERHEAD)
#define SIGNER_SIGNATURE_MAX 1024 /* an RSA 4096 signature is 512 */
#define SIGNER_ZTPCA_ID_MAX 129 /* "<owner>/<name>", each up to 64 */
/*
 * A CRL built in parts: at most SIGNER_CRL_TOTAL_MAX entries. The signer
 * holds them all as OpenSSL objects before it signs, about 330 bytes an
 * entry: measured, a million entries peak at 330 MB in the signer and
 * sign in 6 s (44 MB of DER); ten million would need over 3 GB. Its DER
 * is at most SIGNER_CRL_ENTRY_DER_MAX bytes an entry (the largest serial,
 * a GeneralizedTime, a reason: 56) plus room for the rest.
 */
#define SIGNER_CRL_TOTAL_MAX 1000000
#define SIGNER_CRL_ENTRY_DER_MAX 64
#define SIGNER_CRL_DER_MAX \
	((uint32_t)SIGNER_CRL_TOTAL_MAX * SIGNER_CRL_ENTRY_DER_MAX + (uint32_t)SIGNER_MSG_MAX)
#define SIGNER_CRL_PART_MAX \
	(SIGNER_MSG_MAX - SIGNER_MSG_HDR_LEN - 3 * SIGNER_FIELD_HDR_LEN - 8)

/* KEY_USAGE bits (end-entity uses only: no keyCertSign, no cRLSign) */
#define SIGNER_KU_DIGITAL_SIGNATURE 0x0001
#define SIGNER_KU_KEY_ENCIPHERMENT 0x0002 /* RSA keys only */
#define SIGNER_KU_KEY_AGREEMENT 0x0004    /* EC keys only */
#define SIGNER_KU_ALL 0x0007

/* EXT_KEY_USAGE bits */
#define SIGNER_EKU_CLIENT_AUTH 0x0001
#define SIGNER_EKU_SERVER_AUTH 0x0002
#define SIGNER_EKU_ALL 0x0003

/* RFC 5280 CRLReason values a CRL entry may carry (7 is unused, 8 is delta-CRL only) */
#define SIGNER_REASON_UNSPECIFIED 0
#define SIGNER_REASON_KEY_COMPROMISE 1
#define SIGNER_REASON_CA_COMPROMISE 2
#define SIGNER_REASON_AFFILIATION_CHANGED 3
#define SIGNER_REASON_SUPERSEDED 4
#define SIGNER_REASON_CESSATION_OF_OPERATION 5
#define SIGNER_REASON_CERTIFICATE_HOLD 6
#define SIGNER_REASON_PRIVILEGE_WITHDRAWN 9
#define SIGNER_REASON_AA_COMPROMISE 10

/* KEY_TYPE values (the same numbers as est_req.h's enum est_key_type) */
#define SIGNER_KEY_EC_P256 1
#define SIGNER_KEY_EC_P384 2
#define SIGNER_KEY_RSA 3
#define SIGNER_KEY_ED25519 4

/* Strings are NUL-terminated; "" means absent. */
struct signer_subject {
	char cn[SIGNER_NAME_MAX + 1];
	char serial_number[SIGNER_NAME_MAX + 1];
	char org[SIGNER_NAME_MAX + 1];
	char org_unit[SIGNER_NAME_MAX + 1];
};

struct signer_profile {
	uint32_t days;
	uint16_t key_usage;     /* SIGNER_KU_* */
	uint16_t ext_key_usage; /* SIGNER_EKU_* */
};

/*
 * SIGN_CSR and SIGN_SPKI: one struct for both, as they differ only in how
 * the key comes. SIGN_CSR sets csr (and optionally key_sha256), SIGN_SPKI
 * sets spki, key_type and key_bits; the encoder refuses a field the type
 * does not define. Decoded: csr and spki point into the message buffer.
 */
struct signer_csr_req {
	const uint8_t *csr;
	size_t csr_len;
	const uint8_t *spki;
	size_t spki_len;
	uint8_t key_type;  /* SIGNER_KEY_* */
	uint16_t key_bits; /* 256, 384, the RSA modulus */
	struct signer_subject subject;
	struct signer_profile profile;
	int has_key_sha256;
	uint8_t key_sha256[32];
	size_t n_dns;
	char dns[SIGNER_SAN_MAX][SIGNER_DNS_MAX + 1];
	size_t n_ip;
	uint8_t ip[SIGNER_SAN_MAX][16];
	uint8_t ip_len[SIGNER_SAN_MAX]; /* 4 or 16 */
};

/* One CRL entry. */
struct signer_revoked {
	uint8_t serial[SIGNER_SERIAL_MAX]; /* unsigned big-endian, no leading zero */
	size_t serial_len;
	uint8_t reason; /* SIGNER_REASON_* */
	int64_t revoked_at;
};

/*
 * SIGN_CRL, CRL_BEGIN (crl_number, next_update, total), CRL_ENTRIES
 * (n_revoked: 1..SIGNER_REVOKED_MAX), CRL_END (total). To encode: revoked points to n_revoked entries, serials
 * strictly ascending (signer_sign_crl() sorts them). Decoded: revoked is
 * NULL and the entries are read with signer_msg_revoked_next() from the
 * REVOKED fields, which stay in the message buffer.
 */
struct signer_crl_req {
	uint64_t crl_number;
	uint32_t next_update; /* seconds after signing */
	uint32_t total;       /* CRL_BEGIN, CRL_END: CRL_TOTAL */
	size_t n_revoked;
	const struct signer_revoked *revoked;
	const uint8_t *revoked_fields; /* decoded: the REVOKED fields, back to back */
	size_t revoked_fields_len;
};

/* CERT. Decoded: cert points into the message buffer. */
struct signer_cert_resp {
	const uint8_t *cert;
	size_t cert_len;
	uint8_t serial[SIGNER_SERIAL_MAX];
	size_t serial_len;
	int64_t not_before;
	int64_t not_after;
};

/*
 * CRL, and CRL_PART (with size and offset, both 0 in a CRL). Decoded: crl
 * points into the message buffer.
 */
struct signer_crl_resp {
	const uint8_t *crl;
	size_t crl_len;
	uint32_t size;   /* of the whole DER */
	uint32_t offset; /* of this part in it */
};

/* CRL_READ */
struct signer_crl_read {
	uint32_t offset;
};

/* CRL_ACK */
struct signer_crl_ack {
	uint32_t received;
};

struct signer_error {
	int code;                        /* a ZTP_E... code */
	char text[SIGNER_TEXT_MAX + 1]; /* "" if absent */
};

/* READY. Strings are NUL-terminated; "" means absent. */
struct signer_ready {
	char device[SIGNER_ADDR_MAX + 1];
	char admin[SIGNER_ADDR_MAX + 1];
	char est[SIGNER_ADDR_MAX + 1];
};

/*
 * The ZTP CA fields (ZTPCA_CREATE, ZTPCA_IMPORT, ZTPCA_SIGN, ZTPCA_POP,
 * ZTPCA), beside the union: ZTPCA_SIGN has SIGN_SPKI's fields too (in
 * u.csr), ZTPCA_CREATE and ZTPCA_POP their CN, ORG and DAYS, ZTPCA its
 * certificate and validity in u.cert. Set only what the type has.
 * Decoded: the pointers point into the message buffer.
 */
struct signer_ztpca {
	const uint8_t *cert; /* ZTPCA_CERT */
	size_t cert_len;
	const uint8_t *key; /* ZTPCA_KEY: wrapped */
	size_t key_len;
	const uint8_t *privkey; /* PRIVKEY: PKCS#8 in clear (ZTPCA_IMPORT only) */
	size_t privkey_len;
	char id[SIGNER_ZTPCA_ID_MAX + 1]; /* ZTPCA_ID; "" absent */
	int has_digest; /* DIGEST (ZTPCA_SIGN_DATA only) */
	uint8_t digest[32];
};

/* SIGNATURE. Decoded: sig points into the message buffer. */
struct signer_sig_resp {
	const uint8_t *sig;
	size_t sig_len;
};

struct signer_msg {
	uint16_t type; /* SIGNER_MSG_* */
	union {
		struct signer_csr_req csr;      /* SIGN_CSR, SIGN_SPKI */
		struct signer_crl_req crl;      /* SIGN_CRL, CRL_BEGIN, CRL_ENTRIES, CRL_END */
		struct signer_crl_read crl_read; /* CRL_READ */
		struct signer_cert_resp cert;   /* CERT */
		struct signer_crl_resp crl_der; /* CRL, CRL_PART */
		struct signer_crl_ack crl_ack;  /* CRL_ACK */
		struct signer_error error;      /* ERROR */
		struct signer_ready ready;      /* READY */
		struct signer_sig_resp sig;     /* SIGNATURE */
	} u;
	struct signer_ztpca ztpca; /* ZTPCA_* */
};

/*
 * Decode the datagram buf[0..len) into *out, checking everything the
 * format above says. Pointers in *out point into buf. Returns 0,
 * ZTP_EMALFORMED, ZTP_ERANGE or ZTP_ETOOBIG; *out is written only on
 * success.
 */
int signer_msg_decode(const uint8_t *buf, size_t len, struct signer_msg *out);

/*
 * Encode m into buf (cap bytes; SIGNER_MSG_MAX is always enough) and set
 * *len. The output is decoded again before it is accepted, so what one
 * side sends the other accepts: an invalid m gives the code the decoder
 * would give. Returns 0, ZTP_EMALFORMED, ZTP_ERANGE, ZTP_ETOOBIG (over
 * SIGNER_MSG_MAX or cap), or ZTP_EINVAL (unknown type, NULL pointers).
 */
int signer_msg_encode(const struct signer_msg *m, uint8_t *buf, size_t cap, size_t *len);

/*
 * The next CRL entry of a decoded SIGN_CRL request: start with *pos = 0.
 * Returns 1 and fills *out, or 0 after the last entry.
 */
int signer_msg_revoked_next(const struct signer_crl_req *req, size_t *pos,
    struct signer_revoked *out);

/*
 * The checks a REVOKED value gets, on an entry before it is encoded:
 * 0, ZTP_EMALFORMED or ZTP_ERANGE, as signer_msg_encode() would return.
 */
int signer_msg_revoked_check(const struct signer_revoked *e);

/*
 * A SubjectPublicKeyInfo as signer_spki_parse() found it. Pointers into the
 * parsed buffer.
 */
struct signer_spki {
	uint8_t key_type;       /* SIGNER_KEY_* */
	uint16_t key_bits;      /* 256, 384, the RSA modulus's bit length */
	const uint8_t *key;     /* the subjectPublicKey BIT STRING's bytes */
	size_t key_len;
	const uint8_t *modulus; /* RSA: n, big-endian, no leading zero byte */
	size_t modulus_len;
};

/*
 * Parse der[0..len) as one SubjectPublicKeyInfo (RFC 5280 4.1.2.7) in
 * strict DER: definite minimal lengths, nothing after it, a BIT STRING
 * with no unused bits. Pure: no allocation, no OpenSSL. Returns 0 and
 * *out; ZTP_EMALFORMED if it is not that, or if the key of a listed
 * algorithm is not as said below; ZTP_EINVAL for an algorithm or curve
 * not listed; ZTP_ERANGE over SIGNER_SPKI_MAX. *out is written only on
 * success. The keys:
 *   id-ecPublicKey, parameters the namedCurve prime256v1 or secp384r1 (no
 *     explicit parameters, RFC 5480 2.1.1), the point uncompressed (04 X Y)
 *     or compressed (02/03 X), of the curve's size: SIGNER_KEY_EC_P256/384,
 *     bits 256/384. Whether the point is on the curve is not checked here.
 *   rsaEncryption, parameters NULL, RSAPublicKey (RFC 8017 A.1.1) in DER
 *     with n and e positive, e odd and above 1: SIGNER_KEY_RSA, bits the
 *     bit length of n.
 *   id-Ed25519, no parameters (RFC 8410), 32 bytes: SIGNER_KEY_ED25519, 256.
 * Sizes are not judged here (an RSA key of 1024 bits parses).
 */
int signer_spki_parse(const uint8_t *der, size_t len, struct signer_spki *out);

/* Compare two serials (no leading zeros) as numbers: <0, 0, >0. */
int signer_msg_serial_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

#endif
