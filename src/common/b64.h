/* SPDX-License-Identifier: Apache-2.0 */
#ifndef ZTP_B64_H
#define ZTP_B64_H
#include <stddef.h>
#include <stdint.h>

/*
 * Decode the base64 in[0..len) into out (cap bytes); *outlen gets the
 * count. RFC 8951's tolerance and nothing more: CR LF SP TAB anywhere
 * between the characters; '=' only at the end, at most two; padding
 * required (the characters other than whitespace are a multiple of 4).
 * Empty or whitespace only decodes to 0 bytes: a caller that needs bytes
 * checks *outlen. Returns 0; ZTP_EMALFORMED; ZTP_ETOOBIG if the decoded
 * bytes would pass cap (found before anything is written); ZTP_EINVAL for
 * NULL arguments. On failure out may hold part of the bytes; the copy this
 * function makes on its stack is wiped (they may be a password).
 */
int b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *outlen);

/*
 * The base64 of in[0..len) in lines of 64 characters, each ended by LF
 * (what RFC 8951 clients accept and coreutils' base64 -d reads), into *out:
 * malloc'd, NUL-terminated, the caller frees it. *outlen is its length
 * without the NUL; len 0 gives "". Returns 0, ZTP_EINVAL, ZTP_ETOOBIG or
 * ZTP_ENOMEM.
 */
int b64_encode_lines(const uint8_t *in, size_t len, char **out, size_t *outlen);

#endif
