/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-sim's AT commands of the root of trust's services (at_usec.h,
 * docs/security-service.md): PSK and security profiles, end-to-end and
 * local data protection. Each command's syntax is checked whole before
 * the module is asked; a syntax error is ERROR, a refusal of the module
 * (feature off, not bootstrapped, a tampered file) is +CME ERROR.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "at_usec.h"
#include "hex.h"
#include "log.h"
#include "modmsg.h"
#include "num.h"
#include "ztp/err.h"
#include "ztp/rotsvc.h"

#define NOT_ALLOWED "+CME ERROR: operation not allowed"
#define NOT_FOUND "+CME ERROR: not found"
#define PRF_MAX 5          /* security profiles 0..4 */
#define PRF_PSK_MAX 64     /* bytes */
#define PRF_ID_MAX 128     /* characters */

/* ---- small parsers over the command's arguments (not NUL-terminated) */

/* A quoted string at s[0..n): its inside, without a quote in it. */
static int
quoted(const char *s, size_t n, const char **in, size_t *inlen)
{
	if (n < 2 || s[0] != '"' || s[n - 1] != '"' || memchr(s + 1, '"', n - 2) != NULL)
		return -1;
	*in = s + 1;
	*inlen = n - 2;
	return 0;
}

/* Split s[0..n) at commas outside quotes into at most max fields. */
static int
fields(const char *s, size_t n, const char **f, size_t *fl, int max)
{
	size_t i, start = 0;
	int k = 0, inq = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] == '"')
			inq = !inq;
		if (i == n || (s[i] == ',' && !inq)) {
			if (k == max)
				return -1;
			f[k] = s + start;
			fl[k++] = i - start;
			start = i + 1;
		}
	}
	return inq ? -1 : k;
}

static int
number(const char *s, size_t n, uint64_t lo, uint64_t hi, uint64_t *v)
{
	return num_parse_u64(s, n, lo, hi, v);
}

/* An answer "+NAME: <n>,"<hex of data>"". */
static void
answer_hex(struct at *at, const char *name, const uint8_t *data, size_t n)
{
	static char text[32 + 2 * (ZTP_E2E_DATA_MAX + 64)];
	int k = snprintf(text, sizeof(text), "+%s: %zu,\"", name, n);

	if (k < 0 || hex_encode(data, n, text + k, sizeof(text) - (size_t)k - 2) != 0) {
		at_answer(at, "ERROR");
		return;
	}
	k += (int)(2 * n);
	text[k++] = '"';
	at_answer_n(at, text, (size_t)k);
	at_answer(at, "OK");
}

/* The module said no: why, for the log; the DTE sees +CME ERROR. */
static void
refused(struct at *at, const char *what, int rc)
{
	log_info("module: %s refused: %s", what, ztp_strerror(rc));
	at_answer(at, rc == ZTP_ENOENT ? NOT_FOUND : NOT_ALLOWED);
}

/* ---- AT+USECPSK=16|32 */

static void
cmd_psk(struct at_usec *u, struct at *at, const char *s, size_t n)
{
	uint8_t id[ZTP_PSK_ID_LEN], psk[32];
	char text[128], idh[2 * ZTP_PSK_ID_LEN + 1], pskh[65];
	uint64_t len;
	int rc;

	if (number(s, n, 16, 32, &len) != 0 || (len != 16 && len != 32)) {
		at_answer(at, "ERROR");
		return;
	}
	if ((rc = module_psk(u->m, (size_t)len, id, psk)) != 0) {
		refused(at, "AT+USECPSK", rc);
		return;
	}
	hex_encode(id, sizeof(id), idh, sizeof(idh));
	hex_encode(psk, (size_t)len, pskh, sizeof(pskh));
	snprintf(text, sizeof(text), "+USECPSK: \"%s\",\"%s\"", idh, pskh);
	at_answer(at, text);
	at_answer(at, "OK");
	OPENSSL_cleanse(psk, sizeof(psk));
	OPENSSL_cleanse(pskh, sizeof(pskh));
	OPENSSL_cleanse(text, sizeof(text));
}

/* ---- AT+USECPRF: security profiles (stored in MODULE_SEC_USECPRF) */

struct prf {
	uint8_t used, autopsk;
	uint8_t psk[PRF_PSK_MAX];
	size_t psk_len;
	char id[PRF_ID_MAX];
	size_t id_len;
};

/* the section: per used profile: number, auto, psk_len, psk, id_len, id */
static int
prf_load(struct at_usec *u, struct prf p[PRF_MAX])
{
	static uint8_t b[MODULE_SECTION_MAX];
	size_t len = 0, off = 0;
	int rc;

	memset(p, 0, sizeof(struct prf) * PRF_MAX);
	if ((rc = module_section_get(u->m, MODULE_SEC_USECPRF, b, sizeof(b), &len)) != 0)
		return rc;
	while (off < len) {
		struct prf *q;
		if (len - off < 3 || b[off] >= PRF_MAX || b[off + 2] > PRF_PSK_MAX)
			goto bad;
		q = &p[b[off]];
		q->used = 1;
		q->autopsk = b[off + 1];
		q->psk_len = b[off + 2];
		off += 3;
		if (len - off < q->psk_len + 1)
			goto bad;
		memcpy(q->psk, b + off, q->psk_len);
		off += q->psk_len;
		q->id_len = b[off++];
		if (q->id_len > PRF_ID_MAX || len - off < q->id_len)
			goto bad;
		memcpy(q->id, b + off, q->id_len);
		off += q->id_len;
	}
	OPENSSL_cleanse(b, len);
	return 0;
bad:
	OPENSSL_cleanse(b, len);
	memset(p, 0, sizeof(struct prf) * PRF_MAX);
	return ZTP_EMALFORMED;
}

static int
prf_store(struct at_usec *u, const struct prf p[PRF_MAX])
{
	static uint8_t b[PRF_MAX * (4 + PRF_PSK_MAX + PRF_ID_MAX)];
	size_t off = 0;
	int i, rc;

	for (i = 0; i < PRF_MAX; i++) {
		if (!p[i].used)
			continue;
		b[off++] = (uint8_t)i;
		b[off++] = p[i].autopsk;
		b[off++] = (uint8_t)p[i].psk_len;
		memcpy(b + off, p[i].psk, p[i].psk_len);
		off += p[i].psk_len;
		b[off++] = (uint8_t)p[i].id_len;
		memcpy(b + off, p[i].id, p[i].id_len);
		off += p[i].id_len;
	}
	rc = module_section_put(u->m, MODULE_SEC_USECPRF, b, off);
	OPENSSL_cleanse(b, off);
	return rc;
}

/*
 * AT+USECPRF=<p>: what profile p holds (never its PSK);
 * AT+USECPRF=<p>,8,"<psk>"[,<0 text|1 hex>]; =<p>,9,"<identity>"[,<0|1>];
 * =<p>,11,<0|1>: automatic PSK (needs the feature psk).
 */
static void
cmd_prf(struct at_usec *u, struct at *at, const char *s, size_t n)
{
	static struct prf p[PRF_MAX];
	const char *f[4], *in;
	size_t fl[4], inlen, got = 0;
	uint64_t pn, op, fmt = 0;
	char text[PRF_ID_MAX + 32];
	int k, boot, claimed, rc;
	uint32_t features;

	k = fields(s, n, f, fl, 4);
	if (k < 1 || number(f[0], fl[0], 0, PRF_MAX - 1, &pn) != 0 ||
	    (k >= 2 && number(f[1], fl[1], 0, 99, &op) != 0) ||
	    (k == 4 && number(f[3], fl[3], 0, 1, &fmt) != 0)) {
		at_answer(at, "ERROR");
		return;
	}
	if ((rc = prf_load(u, p)) != 0) {
		refused(at, "AT+USECPRF", rc);
		return;
	}
	if (k == 1) {
		if (p[pn].id_len > 0) {
			snprintf(text, sizeof(text), "+USECPRF: %u,9,\"%.*s\"", (unsigned)pn,
			    (int)p[pn].id_len, p[pn].id);
			at_answer(at, text);
		}
		snprintf(text, sizeof(text), "+USECPRF: %u,11,%u", (unsigned)pn, p[pn].autopsk);
		at_answer(at, text);
		at_answer(at, "OK");
		goto out;
	}
	if (op == 11) {
		uint64_t on;
		if (k != 3 || number(f[2], fl[2], 0, 1, &on) != 0)
			goto syntax;
		module_rot_flags(u->m, &boot, &claimed, &features);
		if (on && (!boot || !(features & MODMSG_F_PSK))) {
			refused(at, "AT+USECPRF automatic PSK", ZTP_EAUTH);
			goto out;
		}
		p[pn].autopsk = (uint8_t)on;
	} else if (op == 8 || op == 9) {
		if (k < 3 || quoted(f[2], fl[2], &in, &inlen) != 0 || inlen == 0)
			goto syntax;
		if (op == 8) {
			if (fmt == 1 ? (inlen % 2 != 0 || inlen / 2 > PRF_PSK_MAX ||
					   hex_decode(in, inlen, p[pn].psk, PRF_PSK_MAX, &got) != 0) :
					 inlen > PRF_PSK_MAX)
				goto syntax;
			if (fmt == 0) {
				memcpy(p[pn].psk, in, inlen);
				got = inlen;
			}
			p[pn].psk_len = got;
		} else {
			if (inlen > PRF_ID_MAX)
				goto syntax;
			memcpy(p[pn].id, in, inlen);
			p[pn].id_len = inlen;
		}
	} else {
		goto syntax;
	}
	p[pn].used = 1;
	if ((rc = prf_store(u, p)) != 0)
		refused(at, "AT+USECPRF", rc);
	else
		at_answer(at, "OK");
	goto out;
syntax:
	at_answer(at, "ERROR");
out:
	OPENSSL_cleanse(p, sizeof(p));
}

/* ---- end-to-end data protection */

/* the optional ",<mac 16|8>[,<short 0|1>]" after the first argument */
static int
e2e_flags(const char **f, const size_t *fl, int k, unsigned *flags)
{
	uint64_t mac = 16, shrt = 0;

	*flags = 0;
	if ((k >= 2 && number(f[1], fl[1], 8, 16, &mac) != 0) || (mac != 8 && mac != 16) ||
	    (k >= 3 && number(f[2], fl[2], 0, 1, &shrt) != 0))
		return -1;
	if (mac == 8)
		*flags |= ZTP_E2E_MAC8;
	if (shrt)
		*flags |= ZTP_E2E_SHORT;
	return 0;
}

static void
e2e_seal_answer(struct at_usec *u, struct at *at, const char *name, const uint8_t *data,
    size_t n)
{
	static uint8_t out[ZTP_E2E_DATA_MAX + 64];
	size_t len = 0;
	int rc;

	rc = module_e2e_seal(u->m, u->e2e_flags, data, n, out, sizeof(out), &len);
	if (rc != 0)
		refused(at, name, rc);
	else
		answer_hex(at, name + 3, out, len); /* name without "AT+" */
}

static void
on_e2e_data(void *arg, struct at *at, const uint8_t *data, size_t n)
{
	e2e_seal_answer(arg, at, "AT+USECE2EDATAENC", data, n);
}

/* AT+USECE2EDATAENC=<len>[,<mac>[,<short>]], then the data after "> " */
static void
cmd_e2e_data(struct at_usec *u, struct at *at, const char *s, size_t n)
{
	const char *f[3];
	size_t fl[3];
	uint64_t len;
	int k = fields(s, n, f, fl, 3);

	if (k < 1 || number(f[0], fl[0], 1, ZTP_E2E_DATA_MAX, &len) != 0 ||
	    e2e_flags(f, fl, k, &u->e2e_flags) != 0 ||
	    at_read_data(at, (size_t)len, on_e2e_data, u) != 0)
		at_answer(at, "ERROR");
}

/* AT+USECE2EFILEENC="<file>"[,<mac>[,<short>]]: a file of the module's file system */
static void
cmd_e2e_file(struct at_usec *u, struct at *at, const char *s, size_t n)
{
	static uint8_t data[ZTP_E2E_DATA_MAX];
	const char *f[3], *name;
	size_t fl[3], namelen, len = 0;
	int k = fields(s, n, f, fl, 3), rc;

	if (k < 1 || quoted(f[0], fl[0], &name, &namelen) != 0 ||
	    e2e_flags(f, fl, k, &u->e2e_flags) != 0) {
		at_answer(at, "ERROR");
		return;
	}
	if ((rc = module_file_read(u->m, name, namelen, data, sizeof(data), &len)) != 0) {
		refused(at, "AT+USECE2EFILEENC", rc);
		return;
	}
	e2e_seal_answer(u, at, "AT+USECE2EFILEENC", data, len);
	OPENSSL_cleanse(data, len);
}

static void
on_e2e_dec(void *arg, struct at *at, const uint8_t *data, size_t n)
{
	struct at_usec *u = arg;
	static uint8_t out[ZTP_E2E_DATA_MAX + 64];
	size_t len = 0;
	int rc;

	if ((rc = module_e2e_open(u->m, data, n, out, sizeof(out), &len)) != 0)
		refused(at, "AT+USECE2EDATADEC", rc);
	else
		answer_hex(at, "USECE2EDATADEC", out, len);
	OPENSSL_cleanse(out, len);
}

/* AT+USECE2EDATADEC=<len>, then the server's message (binary) after "> " */
static void
cmd_e2e_dec(struct at_usec *u, struct at *at, const char *s, size_t n)
{
	uint64_t len;

	if (number(s, n, ZTP_E2E_KI_SHORT_LEN, ZTP_E2E_DATA_MAX + 64, &len) != 0 ||
	    at_read_data(at, (size_t)len, on_e2e_dec, u) != 0)
		at_answer(at, "ERROR");
}

/* ---- local data protection */

static void
on_local_data(void *arg, struct at *at, const uint8_t *data, size_t n)
{
	struct at_usec *u = arg;
	int rc = module_local_seal(u->m, u->file, u->file_len, data, n);

	if (rc != 0)
		refused(at, "AT+USECDATAENC", rc);
	else
		at_answer(at, "OK");
}

/* AT+USECDATAENC=<len>,"<file>", then the data after "> " */
static void
cmd_local_enc(struct at_usec *u, struct at *at, const char *s, size_t n)
{
	const char *f[2], *name;
	size_t fl[2], namelen;
	uint64_t len;

	if (fields(s, n, f, fl, 2) != 2 || number(f[0], fl[0], 1, MODULE_LOCAL_MAX, &len) != 0 ||
	    quoted(f[1], fl[1], &name, &namelen) != 0 || namelen == 0 ||
	    namelen > sizeof(u->file)) {
		at_answer(at, "ERROR");
		return;
	}
	memcpy(u->file, name, namelen);
	u->file_len = namelen;
	if (at_read_data(at, (size_t)len, on_local_data, u) != 0)
		at_answer(at, "ERROR");
}

/* AT+USECFILEDEC="<file>": +USECFILEDEC: <len>,"<data>" (the bytes as they are) */
static void
cmd_local_dec(struct at_usec *u, struct at *at, const char *s, size_t n)
{
	static uint8_t out[MODULE_LOCAL_MAX];
	static char text[MODULE_LOCAL_MAX + 40];
	const char *name;
	size_t namelen, len = 0;
	int k, rc;

	if (quoted(s, n, &name, &namelen) != 0) {
		at_answer(at, "ERROR");
		return;
	}
	if ((rc = module_local_open(u->m, name, namelen, out, sizeof(out), &len)) != 0) {
		refused(at, "AT+USECFILEDEC", rc);
		return;
	}
	k = snprintf(text, sizeof(text), "+USECFILEDEC: %zu,\"", len);
	memcpy(text + k, out, len);
	text[k + (int)len] = '"';
	at_answer_n(at, text, (size_t)k + len + 1);
	at_answer(at, "OK");
	OPENSSL_cleanse(out, len);
	OPENSSL_cleanse(text, (size_t)k + len + 1);
}

/* ---- dispatch */

static int
starts(const char *c, size_t n, const char *prefix, size_t *skip)
{
	size_t m = strlen(prefix), i;

	if (n < m)
		return 0;
	for (i = 0; i < m; i++) {
		char a = c[i];
		if (a >= 'a' && a <= 'z')
			a = (char)(a - 32);
		if (a != prefix[i])
			return 0;
	}
	*skip = m;
	return 1;
}

static int
ext_command(void *arg, struct at *at, const char *c, size_t n)
{
	struct at_usec *u = arg;
	size_t k;

	if (starts(c, n, "+USECPSK=", &k))
		cmd_psk(u, at, c + k, n - k);
	else if (starts(c, n, "+USECPRF=", &k))
		cmd_prf(u, at, c + k, n - k);
	else if (starts(c, n, "+USECE2EDATAENC=", &k))
		cmd_e2e_data(u, at, c + k, n - k);
	else if (starts(c, n, "+USECE2EFILEENC=", &k))
		cmd_e2e_file(u, at, c + k, n - k);
	else if (starts(c, n, "+USECE2EDATADEC=", &k))
		cmd_e2e_dec(u, at, c + k, n - k);
	else if (starts(c, n, "+USECDATAENC=", &k))
		cmd_local_enc(u, at, c + k, n - k);
	else if (starts(c, n, "+USECFILEDEC=", &k))
		cmd_local_dec(u, at, c + k, n - k);
	else
		return 0;
	return 1;
}

int
at_usec_init(struct at_usec *u, struct module *m, struct at *at)
{
	memset(u, 0, sizeof(*u));
	u->m = m;
	u->ext.command = ext_command;
	u->ext.arg = u;
	return at_add_ext(at, &u->ext);
}

size_t
at_usec_redact(const char *line, size_t len)
{
	/* answers with a key or clear text, and the command that sets a PSK */
	static const char *const secret[] = { "+USECPSK:", "+USECDEVCERT: 3,", "+USECFILEDEC:",
		"+USECE2EDATADEC:", "AT+USECPRF=" };
	size_t i, k;

	for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (starts(line, len, secret[i], &k))
			return k;
	return len;
}
