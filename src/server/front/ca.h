/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The serving process's use of the CA: everything here goes through the
 * signer process (signer.h); nothing here loads the CA key.
 *
 *   ca_crl_update()   re-sign and publish the CRL when a revocation made it
 *                     stale or it is in the second half of its validity
 *                     (force: always). Called by the admin API after a
 *                     revocation or a block, and by main every minute.
 *   ca_crl_der()      the published CRL (DER), for GET /crl.
 */
#ifndef ZTP_CA_H
#define ZTP_CA_H
#include <stddef.h>
#include <stdint.h>

struct server;
struct store;

int ca_crl_update(struct server *srv, struct store *st, int force);
/* *der malloc'd; ZTP_ENOENT if none has been signed yet. */
int ca_crl_der(struct store *st, uint8_t **der, size_t *len);

#endif
