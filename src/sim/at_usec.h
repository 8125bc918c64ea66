/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-sim --module: the AT commands of the root of trust's services
 * (issue 14; docs/security-service.md "Services"):
 *   AT+USECPSK=16|32                    +USECPSK: "<identity hex>","<psk hex>"
 *   AT+USECPRF=<p>[,8|9|11,...]         security profiles 0..4: PSK, identity, automatic PSK
 *   AT+USECE2EDATAENC=<len>[,<mac 16|8>[,<short 0|1>]], data after "> "
 *                                       +USECE2EDATAENC: <n>,"<hex>"
 *   AT+USECE2EFILEENC="<file>"[,...]    the same for a file of the module
 *   AT+USECE2EDATADEC=<len>, the server's message after "> "
 *                                       +USECE2EDATADEC: <n>,"<hex>"
 *   AT+USECDATAENC=<len>,"<file>", data after "> "   OK
 *   AT+USECFILEDEC="<file>"             +USECFILEDEC: <n>,"<the bytes>"
 */
#ifndef ZTP_SIM_AT_USEC_H
#define ZTP_SIM_AT_USEC_H
#include <stddef.h>

#include "at.h"
#include "module.h"

struct at_usec {
	struct module *m;
	struct at_ext ext;
	unsigned e2e_flags;  /* of the command waiting for its data */
	char file[64];       /* AT+USECDATAENC's file, until its data comes */
	size_t file_len;
};

/*
 * How much of a traced line may be written (ztp-sim --trace): the prefix
 * alone of an answer that carries a key or clear text (+USECPSK,
 * +USECDEVCERT: 3, +USECFILEDEC, +USECE2EDATADEC) and of AT+USECPRF=
 * (which may set a PSK); len for any other line.
 */
size_t at_usec_redact(const char *line, size_t len);

/* Register the commands with at (u and m must outlive it). 0 or ZTP_EBUSY. */
int at_usec_init(struct at_usec *u, struct module *m, struct at *at);

#endif
