/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The identities of a ClientHello's pre_shared_key extension, raw from the
 * network. Invariant: every identity found lies inside the input and is
 * non-empty; each then goes through the identity parser.
 */
#include "fuzz.h"
#include "tlsext.h"
#include "ztp/iccid.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsext_psk_identity ids[TLSEXT_PSK_IDENTITIES_MAX];
	struct iccid_identity id;
	int n, i;

	n = tlsext_psk_identities(data, size, ids, TLSEXT_PSK_IDENTITIES_MAX);
	FUZZ_CHECK(n < 0 || (n >= 1 && n <= TLSEXT_PSK_IDENTITIES_MAX));
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(ids[i].len > 0);
		FUZZ_CHECK(ids[i].id >= data && ids[i].id + ids[i].len <= data + size);
		iccid_parse_identity(ids[i].id, ids[i].len, &id);
	}
	return 0;
}
