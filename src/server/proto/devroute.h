/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request target of the device endpoint (spec safe2.md section 5):
 *   /v1/config/<DeviceID hex>?iccid=<EF_ICCID hex>
 *   /v1/data/<DeviceID hex>?iccid=<EF_ICCID hex>
 *   /v1/dev/<DeviceID hex>?iccid=<EF_ICCID hex>
 * Device ID: 1..16 bytes in hex (either case; kept in upper case).
 * iccid: exactly once, 20 hex characters of EF_ICCID. Other query
 * parameters are ignored; no percent-encoding is accepted in ours.
 */
#ifndef ZTP_DEVROUTE_H
#define ZTP_DEVROUTE_H
#include <stddef.h>

#include "store.h"
#include "ztp/iccid.h"

#define DEVROUTE_URI_MAX 512

enum devroute_kind { DEVROUTE_CONFIG, DEVROUTE_DATA, DEVROUTE_DEV };

struct devroute {
	enum devroute_kind kind;
	char device_id[STORE_DEVID_HEX];
	char iccid[ICCID_STR_SIZE];
};

/*
 * Parse uri[0..len). Returns 0; ZTP_ENOENT for a path that is not one of
 * ours (404); ZTP_EMALFORMED for a bad Device ID or query (400), with a
 * static reason in *why. *out is only written on success.
 */
int devroute_parse(const char *uri, size_t len, struct devroute *out, const char **why);

#endif
