/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-sim's chip-to-chip channel (at_c2c.h). Two modes: plain (bytes go
 * to the AT interpreter a line at a time, so that a mode change takes
 * effect at the end of the command line that made it) and session (bytes
 * go through the frame decoder first). A command only says what happens
 * after its line (x->next); the change is made once the interpreter has
 * written the line's answer, so the OK to =1 goes out plain and the OK to
 * =2 goes out in a frame.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "at_c2c.h"
#include "hex.h"
#include "log.h"
#include "modmsg.h"
#include "ztp/err.h"

#define NOT_ALLOWED "+CME ERROR: operation not allowed"
#define MEMORY_FULL "+CME ERROR: memory full"
#define BAD_TAG "+CME ERROR: incorrect password"

static void input(struct at_c2c *x, const uint8_t *buf, size_t len);
static int ext_command(void *arg, struct at *at, const char *c, size_t n);

int
at_c2c_init(struct at_c2c *x, struct module *m, const struct ztp_crypto *c, struct at *at,
    const char *term, void (*out)(void *, const uint8_t *, size_t), void *arg, char *err,
    size_t errcap)
{
	static uint8_t sec[MODULE_SECTION_MAX];
	char uid[33];
	size_t len = 0, n = 0;
	int rc;

	memset(x, 0, sizeof(*x));
	x->m = m;
	x->c = c;
	x->at = at;
	x->out = out;
	x->arg = arg;
	x->session = -1;
	x->term_len = strlen(term);
	if (x->term_len == 0 || x->term_len > sizeof(x->term)) {
		ztp_errf(err, errcap, ZTP_EINVAL, "c2c: terminal name %s too long", term);
		return -1;
	}
	memcpy(x->term, term, x->term_len);
	module_uid_hex(m, uid);
	if (hex_decode(uid, 32, x->uid, sizeof(x->uid), &n) != 0 || n != sizeof(x->uid)) {
		ztp_errf(err, errcap, ZTP_EINVAL, "c2c: bad RoT UID");
		return -1;
	}
	if ((rc = module_section_get(m, MODULE_SEC_C2C, sec, sizeof(sec), &len)) != 0) {
		ztp_errf(err, errcap, rc, "c2c: cannot read the pairings: %s", ztp_strerror(rc));
		return -1;
	}
	if (len > 0 && ztp_c2c_table_load(&x->table, sec, len) != 0) {
		OPENSSL_cleanse(sec, len);
		ztp_errf(err, errcap, ZTP_EMALFORMED, "c2c: the pairings in the module file are corrupt");
		return -1;
	}
	OPENSSL_cleanse(sec, len);
	x->ext.command = ext_command;
	x->ext.arg = x;
	if (at_add_ext(at, &x->ext) != 0) {
		ztp_errf(err, errcap, ZTP_EBUSY, "c2c: no room for another AT extension");
		return -1;
	}
	return 0;
}

void
at_c2c_free(struct at_c2c *x)
{
	if (x == NULL)
		return;
	OPENSSL_cleanse(&x->table, sizeof(x->table));
	OPENSSL_cleanse(&x->keys, sizeof(x->keys));
	OPENSSL_cleanse(x->decbuf, sizeof(x->decbuf));
	OPENSSL_cleanse(x->clear, sizeof(x->clear));
}

/* Write t to the module file, then make it ours: 0, or -1 with nothing changed. */
static int
commit(struct at_c2c *x, const struct ztp_c2c_table *t)
{
	uint8_t b[ZTP_C2C_TABLE_BYTES];
	int rc;

	ztp_c2c_table_save(t, b);
	rc = module_section_put(x->m, MODULE_SEC_C2C, b, sizeof(b));
	OPENSSL_cleanse(b, sizeof(b));
	if (rc != 0) {
		log_warnx("c2c: cannot write the pairings: %s", ztp_strerror(rc));
		return -1;
	}
	x->table = *t;
	return 0;
}

/* ---- the commands ---- */

/* The keys of pairing p (its TE secret included) and its confirmation tag. */
static int
keys_of(struct at_c2c *x, const struct ztp_c2c_pairing *p, struct ztp_c2c_keys *k,
    uint8_t tag[ZTP_C2C_TAG_LEN])
{
	if (ztp_c2c_derive(x->c, x->uid, sizeof(x->uid), p->slave, k, tag) != 0)
		return -1;
	memcpy(k->te_secret, p->te_secret, ZTP_C2C_TE_SECRET_LEN);
	return 0;
}

/* +USECC2C: <op>,0,"<key>","<hmac key>","<tag>" */
static void
keys_line(int op, const struct ztp_c2c_keys *k, const uint8_t *tag, char *info, size_t cap)
{
	char a[33], b[33], c[33];

	hex_encode(k->key, ZTP_C2C_KEY_LEN, a, sizeof(a));
	hex_encode(k->hmac_key, ZTP_C2C_HMAC_KEY_LEN, b, sizeof(b));
	hex_encode(tag, ZTP_C2C_TAG_LEN, c, sizeof(c));
	snprintf(info, cap, "+USECC2C: %d,0,\"%s\",\"%s\",\"%s\"", op, a, b, c);
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	OPENSSL_cleanse(c, sizeof(c));
}

/* A fresh slave secret and keys for slot i of t (the caller's copy). */
static int
new_keys(struct at_c2c *x, struct ztp_c2c_table *t, int i, enum ztp_c2c_state st,
    struct ztp_c2c_keys *k, uint8_t tag[ZTP_C2C_TAG_LEN])
{
	t->p[i].state = (uint8_t)st;
	if (x->c->random(x->c->arg, t->p[i].slave, ZTP_C2C_SLAVE_LEN) != 0)
		return -1;
	return keys_of(x, &t->p[i], k, tag);
}

static const char *
cmd_pair(struct at_c2c *x, const uint8_t *te, char *info, size_t cap)
{
	struct ztp_c2c_table t = x->table;
	struct ztp_c2c_keys k;
	uint8_t tag[ZTP_C2C_TAG_LEN];
	const char *rc = "ERROR";
	int boot, claimed, i;
	uint32_t f;

	module_rot_flags(x->m, &boot, &claimed, &f);
	i = ztp_c2c_table_slot(&t, te, x->term, x->term_len);
	if (boot && !(claimed && (f & MODMSG_F_C2C_PAIRING)))
		return NOT_ALLOWED;
	if (!boot && i >= 0 && t.p[i].state == ZTP_C2C_PAIRED)
		return NOT_ALLOWED; /* once per pairing before the bootstrap */
	if (i < 0)
		return MEMORY_FULL;
	memcpy(t.p[i].te_secret, te, ZTP_C2C_TE_SECRET_LEN);
	t.p[i].term_len = (uint8_t)x->term_len;
	memcpy(t.p[i].term, x->term, x->term_len);
	if (new_keys(x, &t, i, ZTP_C2C_PENDING, &k, tag) == 0 && commit(x, &t) == 0) {
		keys_line(0, &k, tag, info, cap);
		log_info("c2c: pairing %d on %s pending confirmation", i, x->term);
		rc = "OK";
	}
	OPENSSL_cleanse(&t, sizeof(t));
	OPENSSL_cleanse(&k, sizeof(k));
	OPENSSL_cleanse(tag, sizeof(tag));
	return rc;
}

static const char *
cmd_confirm(struct at_c2c *x, const uint8_t *te, const uint8_t *enc, size_t elen)
{
	struct ztp_c2c_table t = x->table;
	struct ztp_c2c_keys k;
	uint8_t tag[ZTP_C2C_TAG_LEN];
	const char *rc = "ERROR";
	int i = ztp_c2c_table_find(&t, te, x->term, x->term_len);

	if (i < 0 || t.p[i].state != ZTP_C2C_PENDING)
		return NOT_ALLOWED;
	if (keys_of(x, &t.p[i], &k, tag) != 0) {
		rc = "ERROR";
	} else if (ztp_c2c_confirm_check(x->c, &k, enc, elen, tag) != 0) {
		rc = BAD_TAG;
	} else {
		t.p[i].state = ZTP_C2C_PAIRED;
		if (commit(x, &t) == 0) {
			log_info("c2c: pairing %d on %s complete", i, x->term);
			rc = "OK";
		}
	}
	OPENSSL_cleanse(&t, sizeof(t));
	OPENSSL_cleanse(&k, sizeof(k));
	OPENSSL_cleanse(tag, sizeof(tag));
	return rc;
}

static const char *
cmd_open(struct at_c2c *x, const uint8_t *te)
{
	struct ztp_c2c_table t = x->table;
	uint8_t tag[ZTP_C2C_TAG_LEN];
	int boot, claimed, i = ztp_c2c_table_find(&t, te, x->term, x->term_len);
	uint32_t f;

	module_rot_flags(x->m, &boot, &claimed, &f);
	if (i < 0 || t.p[i].state != ZTP_C2C_PAIRED)
		return NOT_ALLOWED;
	if (boot && !(claimed && (f & MODMSG_F_C2C)))
		return NOT_ALLOWED;
	if (!boot) {
		if (t.trials >= AT_C2C_TRIALS)
			return NOT_ALLOWED;
		t.trials++;
		if (commit(x, &t) != 0)
			return "ERROR";
	}
	if (keys_of(x, &t.p[i], &x->keys, tag) != 0)
		return "ERROR";
	OPENSSL_cleanse(tag, sizeof(tag));
	x->next = AT_C2C_OPEN_NEXT;
	x->next_slot = i;
	return "OK";
}

/* =3: new keys for the session's pairing, told under the old ones; the session ends. */
static const char *
cmd_rekey(struct at_c2c *x, char *info, size_t cap)
{
	struct ztp_c2c_table t = x->table;
	struct ztp_c2c_keys k;
	uint8_t tag[ZTP_C2C_TAG_LEN];
	const char *rc = "ERROR";

	if (new_keys(x, &t, x->session, ZTP_C2C_PAIRED, &k, tag) == 0 && commit(x, &t) == 0) {
		keys_line(3, &k, tag, info, cap);
		x->next = AT_C2C_CLOSE_NEXT;
		log_info("c2c: pairing %d on %s rekeyed", x->session, x->term);
		rc = "OK";
	}
	OPENSSL_cleanse(&t, sizeof(t));
	OPENSSL_cleanse(&k, sizeof(k));
	OPENSSL_cleanse(tag, sizeof(tag));
	return rc;
}

/* ,"<hex>" at s[*off] into out (cap bytes): 0, or -1 for anything else. */
static int
quoted_hex(const char *s, size_t n, size_t *off, uint8_t *out, size_t cap, size_t *outlen)
{
	const char *q;
	size_t start;

	if (n - *off < 3 || s[*off] != ',' || s[*off + 1] != '"')
		return -1;
	start = *off + 2;
	if ((q = memchr(s + start, '"', n - start)) == NULL)
		return -1;
	if (!hex_valid(s + start, (size_t)(q - (s + start))) ||
	    hex_decode(s + start, (size_t)(q - (s + start)), out, cap, outlen) != 0)
		return -1;
	*off = (size_t)(q - s) + 1;
	return 0;
}

/* AT+USECC2C=<s[0..n)>: the final result code, and an information line in info (empty: none). */
static const char *
command(struct at_c2c *x, const char *s, size_t n, char *info, size_t cap)
{
	uint8_t te[ZTP_C2C_TE_SECRET_LEN], enc[ZTP_C2C_ENC_TAG_LEN];
	size_t off = 1, tlen = 0, elen = 0;
	int op, has_te, in_session = x->session >= 0;
	const char *rc = "ERROR";

	info[0] = '\0';
	if (n < 1 || s[0] < '0' || s[0] > '4')
		return "ERROR";
	op = s[0] - '0';
	has_te = off < n;
	if (has_te && (quoted_hex(s, n, &off, te, sizeof(te), &tlen) != 0 || tlen != sizeof(te)))
		return "ERROR";
	if (op == ZTP_C2C_CONFIRM && quoted_hex(s, n, &off, enc, sizeof(enc), &elen) != 0)
		return "ERROR";
	if (off != n || (!has_te && op != ZTP_C2C_CLOSE && op != ZTP_C2C_REKEY))
		return "ERROR";
	/* =2 and =3 only within a session, the others only outside one */
	if (in_session != (op == ZTP_C2C_CLOSE || op == ZTP_C2C_REKEY))
		return "ERROR";
	if (in_session && has_te && !ztp_ct_equal(te, x->keys.te_secret, sizeof(te)))
		return "ERROR";
	switch (op) {
	case ZTP_C2C_PAIR:
		rc = cmd_pair(x, te, info, cap);
		break;
	case ZTP_C2C_OPEN:
		rc = cmd_open(x, te);
		break;
	case ZTP_C2C_CLOSE:
		x->next = AT_C2C_CLOSE_NEXT;
		rc = "OK";
		break;
	case ZTP_C2C_REKEY:
		rc = cmd_rekey(x, info, cap);
		break;
	case ZTP_C2C_CONFIRM:
		rc = cmd_confirm(x, te, enc, elen);
		break;
	}
	OPENSSL_cleanse(te, sizeof(te));
	return rc;
}

/* The interpreter's extension: 1 if c[0..n) is AT+USECC2C=..., answered. */
static int
ext_command(void *arg, struct at *at, const char *c, size_t n)
{
	static const char head[] = "+USECC2C=";
	struct at_c2c *x = arg;
	char info[AT_C2C_INFO_MAX];
	const char *final;
	size_t i, m = sizeof(head) - 1;

	if (n < m)
		return 0;
	for (i = 0; i < m; i++)
		if ((c[i] | 0x20) != (head[i] | 0x20))
			return 0;
	final = command(x, c + m, n - m, info, sizeof(info));
	if (info[0] != '\0')
		at_answer(at, info);
	at_answer(at, final);
	OPENSSL_cleanse(info, sizeof(info));
	return 1;
}

/* ---- the byte paths ---- */

/* Frame and send what the interpreter wrote in a session. */
static void
flush(struct at_c2c *x)
{
	uint8_t f[ZTP_C2C_FRAME_MAX];
	size_t flen = 0;
	int rc;

	if (x->session < 0 || x->clear_len == 0)
		return;
	rc = ztp_c2c_frame_encode(x->c, &x->keys, NULL, x->clear, x->clear_len, f, sizeof(f), &flen);
	OPENSSL_cleanse(x->clear, x->clear_len);
	x->clear_len = 0;
	if (rc != 0) {
		log_warnx("c2c: cannot encrypt an answer: %s", ztp_strerror(rc));
		return;
	}
	x->out(x->arg, f, flen);
}

void
at_c2c_out(struct at_c2c *x, const uint8_t *buf, size_t len)
{
	size_t n;

	if (x->session < 0) {
		x->out(x->arg, buf, len);
		return;
	}
	while (len > 0) {
		n = sizeof(x->clear) - x->clear_len;
		if (n > len)
			n = len;
		memcpy(x->clear + x->clear_len, buf, n);
		x->clear_len += n;
		buf += n;
		len -= n;
		if (x->clear_len == sizeof(x->clear))
			flush(x);
	}
}

static void
open_session(struct at_c2c *x)
{
	x->session = x->next_slot;
	x->clear_len = 0;
	ztp_c2c_dec_init(&x->dec, x->c, &x->keys, x->decbuf, sizeof(x->decbuf));
	log_info("c2c: session open on pairing %d", x->session);
}

/* The answer goes out under the session's keys, then the keys go. */
static void
close_session(struct at_c2c *x)
{
	flush(x);
	OPENSSL_cleanse(&x->keys, sizeof(x->keys));
	log_info("c2c: session on pairing %d closed", x->session);
	x->session = -1;
}

/* To the interpreter up to and including the first CR, then what the line asked for. */
static size_t
feed_line(struct at_c2c *x, const uint8_t *buf, size_t len)
{
	const uint8_t *cr = memchr(buf, '\r', len);
	size_t n = cr != NULL ? (size_t)(cr - buf) + 1 : len;
	enum at_c2c_next next;

	at_input(x->at, buf, n);
	next = x->next;
	x->next = AT_C2C_STAY;
	if (next == AT_C2C_OPEN_NEXT)
		open_session(x);
	else if (next == AT_C2C_CLOSE_NEXT)
		close_session(x);
	return n;
}

/* Decrypted bytes: lines to the interpreter, the session may end in between. */
static void
feed_clear(struct at_c2c *x, const uint8_t *buf, size_t len)
{
	size_t n;

	while (len > 0) {
		n = feed_line(x, buf, len);
		buf += n;
		len -= n;
	}
}

/*
 * Bytes in a session: through the decoder, every frame it finds in them.
 * Returns how many were taken; when a frame closed the session, what the
 * decoder held after it is plain input again, before the rest.
 */
static size_t
feed_frames(struct at_c2c *x, const uint8_t *buf, size_t len)
{
	uint8_t clear[ZTP_C2C_CHUNK_MAX], spill[ZTP_C2C_FRAME_MAX];
	size_t total = 0, used, clen, n;
	int rc;

	do {
		rc = ztp_c2c_dec_push(&x->dec, buf + total, len - total, &used, clear,
		    sizeof(clear), &clen);
		total += used;
		if (rc < 0)
			log_warnx("c2c: frame rejected: %s", ztp_c2c_fault_str(x->dec.fault));
		if (rc == 1)
			feed_clear(x, clear, clen);
		OPENSSL_cleanse(clear, sizeof(clear));
	} while (rc != 0 && x->session >= 0);
	if (x->session < 0 && x->dec.len > 0) {
		n = x->dec.len;
		memcpy(spill, x->decbuf, n);
		ztp_c2c_dec_reset(&x->dec);
		input(x, spill, n);
		OPENSSL_cleanse(spill, n);
	}
	return total;
}

static void
input(struct at_c2c *x, const uint8_t *buf, size_t len)
{
	size_t n;

	while (len > 0) {
		n = x->session < 0 ? feed_line(x, buf, len) : feed_frames(x, buf, len);
		buf += n;
		len -= n;
	}
}

void
at_c2c_input(struct at_c2c *x, const uint8_t *buf, size_t len)
{
	input(x, buf, len);
	flush(x);
}

size_t
at_c2c_redact(const char *line, size_t len)
{
	static const char *const heads[] = { "+USECC2C:", "AT+USECC2C=" };
	size_t i, j, m;

	for (i = 0; i < 2; i++) {
		m = strlen(heads[i]);
		if (len <= m + 1)
			continue;
		for (j = 0; j < m && (line[j] | 0x20) == (heads[i][j] | 0x20); j++)
			;
		if (j == m)
			return m + 1; /* the operation's digit, never the secrets */
	}
	return len;
}
