/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Short command APDUs (ISO 7816-4 cases 1 to 4) and status words.
 * Portable C: no allocation, no I/O.
 */
#ifndef ZTP_APDU_H
#define ZTP_APDU_H
#include <stddef.h>
#include <stdint.h>

#define APDU_HEADER_LEN 4
#define APDU_MAX_DATA 255
#define APDU_MAX_CMD (APDU_HEADER_LEN + 1 + APDU_MAX_DATA + 1) /* 261 */
#define APDU_MAX_RESP_DATA 256
#define APDU_MAX_RESP (APDU_MAX_RESP_DATA + 2)

/* status words of spec safe2.md sections 3 and 4 */
#define SW_OK 0x9000
#define SW_BYTES_REMAINING 0x6100 /* | length, T=0 */
#define SW_WRONG_LENGTH 0x6700
#define SW_CHANNEL_NOT_SUPPORTED 0x6881
#define SW_SECURITY_NOT_SATISFIED 0x6982
#define SW_CONDITIONS_NOT_SATISFIED 0x6985
#define SW_FILE_NOT_FOUND 0x6A82
#define SW_NOT_ENOUGH_MEMORY 0x6A81 /* no free channel */
#define SW_WRONG_P1P2 0x6A86
#define SW_REFERENCED_DATA_NOT_FOUND 0x6A88
#define SW_INS_NOT_SUPPORTED 0x6D00
#define SW_CLA_NOT_SUPPORTED 0x6E00
#define SW_MEMORY_FAILURE 0x6581

struct apdu {
	uint8_t cla, ins, p1, p2;
	int apdu_case;       /* 1..4 */
	size_t lc;           /* data length, 0 for cases 1 and 2 */
	const uint8_t *data; /* points into the parsed buffer, NULL if lc == 0 */
	size_t le;           /* expected length, 1..256 (00 means 256); 0 if absent */
};

/*
 * Parse a short command APDU from buf[0..len). The whole buffer must be
 * one APDU: 4 bytes (case 1), 5 (case 2), 5+Lc (case 3) or 5+Lc+1
 * (case 4), with Lc from 1 to 255. Returns 0, or ZTP_EMALFORMED (answer
 * 6700). out->data points into buf.
 */
int apdu_parse(const uint8_t *buf, size_t len, struct apdu *out);

/*
 * Encode a command APDU into out (cap bytes): header, then Lc and data if
 * lc > 0, then Le if le > 0 (256 is written as 00). Returns the length, or
 * 0 if it does not fit or is not a valid short APDU.
 */
size_t apdu_encode(uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
    size_t lc, size_t le, uint8_t *out, size_t cap);

#endif
