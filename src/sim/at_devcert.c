/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AT+USECDEVCERT (at_devcert.h), as the vendor's application note lists it
 * (section 7.1.4), in our words:
 *
 *   AT+USECDEVCERT?    +USECDEVCERT: <ca>,<cert>,<key>   each 0 when that
 *                      part is present, 1 when it is not: 0,0,0 once the
 *                      bundle came (it comes whole: 0,0,0 or 1,1,1)
 *   AT+USECDEVCERT=0   +USECDEVCERT: 0,<0: all three present, 1: not>
 *   AT+USECDEVCERT=1   +USECDEVCERT: 1,<bytes>,"<hex>"  the CA certificate (DER)
 *   AT+USECDEVCERT=2   +USECDEVCERT: 2,<bytes>,"<hex>"  the device certificate (DER)
 *   AT+USECDEVCERT=3   +USECDEVCERT: 3,<bytes>,"<hex>"  the private key (PKCS#8 DER)
 *   AT+USECDEVCERT=?   +USECDEVCERT: (0-3)
 *
 * then OK. DER in hex, one line: an AT interface reads lines, and a host's
 * TLS library takes DER as it is. 1 to 3 answer +CME ERROR: operation not
 * allowed while nothing was delivered or when the server has turned the
 * ztp-cert feature off; anything else is ERROR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "at_devcert.h"
#include "hex.h"
#include "modmsg.h"
#include "module.h"
#include "ztp/ztpcert.h"

#define AT_CME_NOT_ALLOWED "+CME ERROR: operation not allowed"
#define CMD "+USECDEVCERT"

/* 1 if c[0..n) is word, ignoring ASCII case. */
static int
is(const char *c, size_t n, const char *word)
{
	size_t i;

	if (n != strlen(word))
		return 0;
	for (i = 0; i < n; i++) {
		char a = c[i], b = word[i];
		if (a >= 'a' && a <= 'z')
			a = (char)(a - 'a' + 'A');
		if (b >= 'a' && b <= 'z')
			b = (char)(b - 'a' + 'A');
		if (a != b)
			return 0;
	}
	return 1;
}

/* The bundle of m into buf (ZTP_CERT_BUNDLE_MAX) and *b: 1 if there is a whole one. */
static int
bundle_of(struct module *m, uint8_t *buf, struct ztp_cert_bundle *b)
{
	size_t len = 0;

	return module_section_get(m, MODULE_SEC_ZTPCERT, buf, ZTP_CERT_BUNDLE_MAX, &len) == 0 &&
	    len > 0 && ztp_cert_parse(buf, len, b) == 0;
}

/* AT+USECDEVCERT=<part>: the part as hex, or CME ERROR. */
static void
read_part(struct module *m, struct at *at, int which)
{
	/* which 1..3: CA, device certificate, key */
	static const enum ztp_cert_part parts[] = { 0, ZTP_CERT_CA, ZTP_CERT_DEVICE, ZTP_CERT_KEY };
	uint8_t buf[ZTP_CERT_BUNDLE_MAX];
	struct ztp_cert_bundle b;
	int boot, claimed;
	uint32_t features;
	size_t n, hl;
	char *line;

	module_rot_flags(m, &boot, &claimed, &features);
	if (!(features & MODMSG_F_ZTP_CERT) || !bundle_of(m, buf, &b)) {
		at_answer(at, AT_CME_NOT_ALLOWED);
		goto out;
	}
	n = b.len[parts[which]];
	if ((line = malloc(40 + 2 * n)) == NULL) {
		at_answer(at, AT_CME_NOT_ALLOWED);
		goto out;
	}
	hl = (size_t)snprintf(line, 40, CMD ": %d,%zu,\"", which, n);
	hex_encode(b.part[parts[which]], n, line + hl, 2 * n + 1);
	hl += 2 * n;
	line[hl++] = '"';
	at_answer_n(at, line, hl);
	OPENSSL_clear_free(line, 40 + 2 * n);
	at_answer(at, "OK");
out:
	OPENSSL_cleanse(buf, sizeof(buf));
}

static int
command(void *arg, struct at *at, const char *c, size_t n)
{
	struct module *m = arg;
	uint8_t buf[ZTP_CERT_BUNDLE_MAX];
	struct ztp_cert_bundle b;
	char text[64];
	int have;

	if (n < strlen(CMD) || !is(c, strlen(CMD), CMD))
		return 0;
	c += strlen(CMD);
	n -= strlen(CMD);
	if (is(c, n, "?") || is(c, n, "=0")) {
		have = bundle_of(m, buf, &b);
		OPENSSL_cleanse(buf, sizeof(buf));
		if (n == 1)
			snprintf(text, sizeof(text), CMD ": %d,%d,%d", !have, !have, !have);
		else
			snprintf(text, sizeof(text), CMD ": 0,%d", !have);
		at_answer(at, text);
		at_answer(at, "OK");
	} else if (is(c, n, "=?")) {
		at_answer(at, CMD ": (0-3)");
		at_answer(at, "OK");
	} else if (n == 2 && c[0] == '=' && c[1] >= '1' && c[1] <= '3') {
		read_part(m, at, c[1] - '0');
	} else {
		at_answer(at, "ERROR");
	}
	return 1;
}

void
at_devcert_ext(struct at_ext *e, struct module *m)
{
	e->command = command;
	e->arg = m;
}
