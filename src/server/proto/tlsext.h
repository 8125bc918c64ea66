/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The identities of a ClientHello's pre_shared_key extension (RFC 8446
 * 4.2.11), which OpenSSL hands over raw to the client hello callback:
 *   identities<7..2^16-1>: { identity<1..2^16-1>, obfuscated_ticket_age u32 }
 *   binders<33..2^16-1>
 * Bounded: every length is checked against the bytes left.
 */
#ifndef ZTP_TLSEXT_H
#define ZTP_TLSEXT_H
#include <stddef.h>
#include <stdint.h>

#define TLSEXT_PSK_IDENTITIES_MAX 8

struct tlsext_psk_identity {
	const uint8_t *id; /* points into the extension */
	size_t len;
};

/*
 * Parse ext[0..len) into at most max identities (out). Returns the number
 * found (1..max; further ones are ignored), or ZTP_EMALFORMED.
 */
int tlsext_psk_identities(const uint8_t *ext, size_t len, struct tlsext_psk_identity *out,
    int max);

#endif
