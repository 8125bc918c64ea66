/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-sim --module: AT+USECDEVCERT (at_devcert.c), the ZTP certificate
 * bundle the module received (docs/security-service.md "ZTP
 * certificates"), read from the module file's MODULE_SEC_ZTPCERT section.
 */
#ifndef ZTP_SIM_AT_DEVCERT_H
#define ZTP_SIM_AT_DEVCERT_H

#include "at.h"

struct module;

/* Fill e with the AT+USECDEVCERT commands of m (e must outlive the interpreter). */
void at_devcert_ext(struct at_ext *e, struct module *m);

#endif
