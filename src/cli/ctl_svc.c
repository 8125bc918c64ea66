/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl psk and e2e: a customer's side of the root of trust's services
 * (docs/admin-api.md "Services of the root of trust"), with an owner's
 * API key as a customer's server would use it:
 *
 *   psk get IDENTITY            GET /v1/psk/{identity}: the PSK in hex
 *   e2e params KEY_IDENTITY     POST /v1/e2e/decryption-parameters
 *   e2e decrypt --in FILE       the parameters of a module's message, then
 *                               AES-128-CCM here: the clear text
 *   e2e encrypt ROT --in FILE   POST /v1/devices/{rot}/e2e/encrypt: a
 *                               message for the module (AT+USECE2EDATADEC)
 *
 * Keys, nonces and clear text are wiped once used; a file written holds
 * a whole result or nothing (a temporary file renamed), mode 0600.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "atomicfile.h"
#include "b64.h"
#include "ctl.h"
#include "hex.h"
#include "ztp/err.h"
#include "ztp/rotsvc.h"

#define MSG_MAX (ZTP_E2E_DATA_MAX + 64) /* a whole message: key identity, data, MAC */
#define MAC_MIN 8
/* a message as text: the module's answer line around its hex, whitespace around that */
#define TEXT_MAX (sizeof("+USECE2EDATAENC: 4160,\"\"") + 2 * MSG_MAX + 4096)
#define B64_MAX(n) (4 * (((n) + 2) / 3) + 1)

/* ---- arguments ---- */

/* 28 hex digits, either case: a PSK identity as AT+USECPSK prints it */
static int
check_psk_identity(const char *s)
{
	char sarg[64];

	if (strlen(s) == 2 * ZTP_PSK_ID_LEN && hex_valid(s, strlen(s)))
		return 0;
	return ctl_usage_error("invalid PSK identity '%s': expected %d hex digits, as "
			       "AT+USECPSK prints them",
	    ctl_san(s, sarg, sizeof(sarg)), 2 * ZTP_PSK_ID_LEN);
}

/* a key identity's length in hex digits from its first one: 32 ('1'), 22 ('2'), else 0 */
static size_t
ki_hex_len(char first)
{
	return first == '1' ? 2 * ZTP_E2E_KI_LEN : first == '2' ? 2 * ZTP_E2E_KI_SHORT_LEN : 0;
}

static int
check_key_identity(const char *s)
{
	char sarg[64];
	size_t n = strlen(s);

	if (n > 0 && n == ki_hex_len(s[0]) && hex_valid(s, n))
		return 0;
	return ctl_usage_error("invalid key identity '%s': the first 16 bytes of the message "
			       "(32 hex digits, starting with 1) or 11 (22, starting with 2)",
	    ctl_san(s, sarg, sizeof(sarg)));
}

/* ---- files ---- */

/*
 * Read path ('-': stdin), at most max bytes, into a new buffer (the caller
 * wipes and frees *out). Errors are printed.
 */
static int
read_input(const char *path, size_t max, char **out, size_t *len)
{
	char spath[256];
	FILE *f;
	int rc;

	ctl_san(path, spath, sizeof(spath));
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		ctl_errorf("%s: %s", spath, strerror(errno));
		return ZTP_EIO;
	}
	rc = ctl_read_bounded(f, max, out, len);
	if (f != stdin)
		fclose(f);
	if (rc == ZTP_ETOOBIG)
		ctl_errorf("%s: larger than %zu bytes", spath, max);
	else if (rc != 0)
		ctl_errorf("%s: %s", spath, ztp_strerror(rc));
	return rc;
}

/*
 * Write b[0..n) to path, or to stdout when path is NULL or "-". A file is
 * written whole or not at all: a temporary file (mode 0600) in the same
 * directory, renamed over path once it is on disk.
 */
static int
write_output(const char *path, const void *b, size_t n)
{
	char err[PATH_MAX + 128];

	if (path == NULL || strcmp(path, "-") == 0) {
		if (fwrite(b, 1, n, stdout) != n || fflush(stdout) != 0) {
			ctl_errorf("stdout: %s", strerror(errno));
			return ZTP_EIO;
		}
		return 0;
	}
	/* whole or not at all, mode 0600: the project's atomic write */
	if (atomicfile_write(path, b, n, 0600, err, sizeof(err)) != 0) {
		ctl_errorf("%s", err);
		return ZTP_EIO;
	}
	return 0;
}

/* Overwrite the string member name of o (a key, a PSK) before o is freed. */
static void
wipe_member(json_t *o, const char *name)
{
	json_t *s = json_object_get(o, name);

	if (json_is_string(s))
		OPENSSL_cleanse((char *)json_string_value(s), json_string_length(s));
}

/*
 * The base64 member name of o, exactly want bytes (want 0: 1..cap), into
 * out; a missing or malformed member is printed.
 */
static int
b64_member(const json_t *o, const char *name, uint8_t *out, size_t cap, size_t want,
    size_t *got)
{
	const json_t *s = json_object_get(o, name);

	*got = 0;
	if (!json_is_string(s) ||
	    b64_decode(json_string_value(s), json_string_length(s), out, cap, got) != 0 ||
	    (want != 0 ? *got != want : *got == 0)) {
		OPENSSL_cleanse(out, cap);
		ctl_errorf("the server's answer has no usable \"%s\"", name);
		return ZTP_EMALFORMED;
	}
	return 0;
}

/* ---- psk ---- */

/* psk get IDENTITY: the PSK in hex (openssl s_server -psk), or the answer with --json */
static int
psk_get(struct ctl *c, const struct ctl_args *a)
{
	uint8_t psk[32];
	char path[64], hex[2 * sizeof(psk) + 1];
	json_t *res = NULL, *bits;
	size_t n = 0;
	int rc;

	if ((rc = check_psk_identity(a->pos[0])) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/psk/%s", a->pos[0]);
	if ((rc = ctl_http_call(c, "GET", path, NULL, &res)) != 0)
		goto out;
	if (c->json) {
		rc = ctl_out_json(res);
		goto out;
	}
	bits = json_object_get(res, "psk_bits");
	if ((rc = b64_member(res, "psk", psk, sizeof(psk), 0, &n)) != 0)
		goto out;
	if ((n != 16 && n != 32) || !json_is_integer(bits) ||
	    json_integer_value(bits) != (json_int_t)(8 * n)) {
		ctl_errorf("the server's answer has a PSK of %zu bytes, \"psk_bits\" that do not "
			   "match",
		    n);
		rc = ZTP_EMALFORMED;
		goto out;
	}
	hex_encode(psk, n, hex, sizeof(hex));
	printf("%s\n", hex);
	rc = 0;
out:
	OPENSSL_cleanse(psk, sizeof(psk));
	OPENSSL_cleanse(hex, sizeof(hex));
	wipe_member(res, "psk");
	json_decref(res);
	return rc;
}

static const struct ctl_cmd psk_cmds[] = {
	{ "get", 0, 1, "psk get IDENTITY", psk_get },
};

const struct ctl_noun ctl_psk = {
	psk_cmds,
	CTL_NELEM(psk_cmds),
	"  psk get IDENTITY               the PSK of an identity a module gave with\n"
	"                                 AT+USECPSK (28 hex digits), in hex: what\n"
	"                                 openssl s_server -psk takes\n",
};

/* ---- e2e ---- */

/* POST the decryption parameters of the key identity kihex; *res is the answer */
static int
params_call(struct ctl *c, const char *kihex, json_t **res)
{
	json_t *req;
	int rc;

	if ((req = json_pack("{s:s}", "key_identity", kihex)) == NULL)
		return ctl_nomem();
	rc = ctl_http_call(c, "POST", "/v1/e2e/decryption-parameters", req, res);
	json_decref(req);
	return rc;
}

/* e2e params KEY_IDENTITY: the answer as "key: value" lines, or its JSON */
static int
e2e_params(struct ctl *c, const struct ctl_args *a)
{
	json_t *res = NULL;
	int rc;

	if ((rc = check_key_identity(a->pos[0])) != 0)
		return rc;
	if ((rc = params_call(c, a->pos[0], &res)) == 0)
		rc = ctl_out_show(c, res);
	wipe_member(res, "key");
	wipe_member(res, "nonce");
	json_decref(res);
	return rc;
}

static int
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * A message as text, t[0..n) (whitespace around it allowed): its hex, in
 * double quotes or not, or the module's answer line +USECE2EDATAENC: <n>,"<hex>"
 * (or +USECE2EFILEENC), whose count must be the bytes'. Decoded into
 * out (MSG_MAX bytes); ZTP_EMALFORMED if t is none of them.
 */
static int
text_message(const char *t, size_t n, uint8_t *out, size_t *outlen)
{
	static const char *const heads[] = { "+USECE2EDATAENC:", "+USECE2EFILEENC:" };
	uint64_t count = 0;
	size_t i, k, digits;
	int have_count = 0;

	while (n > 0 && is_space(t[0])) {
		t++;
		n--;
	}
	while (n > 0 && is_space(t[n - 1]))
		n--;
	for (i = 0; i < CTL_NELEM(heads); i++) {
		k = strlen(heads[i]);
		if (n < k || memcmp(t, heads[i], k) != 0)
			continue;
		t += k;
		n -= k;
		while (n > 0 && t[0] == ' ') {
			t++;
			n--;
		}
		for (digits = 0; digits < n && t[digits] >= '0' && t[digits] <= '9'; digits++)
			;
		if (digits == 0 || digits > 5 || digits == n || t[digits] != ',')
			return ZTP_EMALFORMED;
		for (k = 0; k < digits; k++)
			count = count * 10 + (uint64_t)(t[k] - '0');
		t += digits + 1;
		n -= digits + 1;
		if (n < 2 || t[0] != '"')
			return ZTP_EMALFORMED;
		have_count = 1;
		break;
	}
	if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
		t++;
		n -= 2;
	}
	if (n == 0 || n > 2 * MSG_MAX || !hex_valid(t, n) ||
	    hex_decode(t, n, out, MSG_MAX, outlen) != 0)
		return ZTP_EMALFORMED;
	if (have_count && count != *outlen)
		return ZTP_EMALFORMED;
	return 0;
}

/*
 * The message in the file's bytes f[0..n): text (text_message) or raw
 * bytes, which start with a key identity: 0x11, 0x12, 0x21 or 0x22.
 * Into out (MSG_MAX bytes); a file that is neither is printed.
 */
static int
file_message(const char *spath, const char *f, size_t n, uint8_t *out, size_t *outlen)
{
	unsigned first = n > 0 ? (uint8_t)f[0] : 0;

	if (text_message(f, n, out, outlen) == 0)
		return 0;
	if ((first >> 4 == 1 || first >> 4 == 2) && ((first & 0x0f) == 1 || (first & 0x0f) == 2)) {
		if (n > MSG_MAX) {
			ctl_errorf("%s: a message is at most %u bytes", spath, (unsigned)MSG_MAX);
			return ZTP_ETOOBIG;
		}
		memcpy(out, f, n);
		*outlen = n;
		return 0;
	}
	ctl_errorf("%s: not an E2E message: neither its bytes (a key identity first, 0x11, "
		   "0x12, 0x21 or 0x22) nor its hex (alone, or the module's line "
		   "+USECE2EDATAENC: <n>,\"<hex>\")",
	    spath);
	return ZTP_EMALFORMED;
}

/*
 * AES-128-CCM with a 12-byte nonce, no associated data: ct[0..n) and its
 * tag into out (n bytes). ZTP_EAUTH when the tag does not verify (out
 * wiped).
 */
static int
ccm_open(const uint8_t key[ZTP_E2E_KEY_LEN], const uint8_t nonce[ZTP_E2E_NONCE_LEN],
    const uint8_t *ct, size_t n, const uint8_t *tag, size_t taglen, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	int len = 0, rc = ZTP_EIO;
	static const uint8_t none[1];

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return ZTP_ENOMEM;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_128_ccm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, ZTP_E2E_NONCE_LEN, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, (int)taglen, (void *)tag) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &len, NULL, (int)n) != 1)
		goto out;
	/* CCM checks the tag here: one update with all of the ciphertext */
	if (EVP_DecryptUpdate(ctx, out, &len, n > 0 ? ct : none, (int)n) != 1) {
		OPENSSL_cleanse(out, n);
		rc = ZTP_EAUTH;
		goto out;
	}
	rc = (size_t)len == n ? 0 : ZTP_EIO;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/*
 * The decryption parameters in the answer res for the message m (key
 * identity kihex, kilen bytes, mlen bytes in all): key, nonce and MAC
 * length, checked against the message. Printed if unusable.
 */
static int
params_take(const json_t *res, const char *kihex, size_t kilen, size_t mlen,
    uint8_t key[ZTP_E2E_KEY_LEN], uint8_t nonce[ZTP_E2E_NONCE_LEN], size_t *mac_len)
{
	const json_t *ki = json_object_get(res, "key_identity"), *ml = json_object_get(res, "mac_len");
	size_t got = 0;
	int rc;

	if (!json_is_string(ki) || strcasecmp(json_string_value(ki), kihex) != 0) {
		ctl_errorf("the server's answer is for another key identity");
		return ZTP_EMALFORMED;
	}
	if (!json_is_integer(ml) || (json_integer_value(ml) != 8 && json_integer_value(ml) != 16)) {
		ctl_errorf("the server's answer has no usable \"mac_len\"");
		return ZTP_EMALFORMED;
	}
	*mac_len = (size_t)json_integer_value(ml);
	if (mlen < kilen + *mac_len) {
		ctl_errorf("the message is %zu bytes: shorter than its key identity and its %zu-byte "
			   "MAC",
		    mlen, *mac_len);
		return ZTP_EMALFORMED;
	}
	if ((rc = b64_member(res, "key", key, ZTP_E2E_KEY_LEN, ZTP_E2E_KEY_LEN, &got)) != 0 ||
	    (rc = b64_member(res, "nonce", nonce, ZTP_E2E_NONCE_LEN, ZTP_E2E_NONCE_LEN, &got)) != 0)
		return rc;
	return 0;
}

/*
 * e2e decrypt --in FILE [--out FILE]: a module's message (raw or hex),
 * its key identity's parameters from the server, then AES-128-CCM here.
 * The clear text goes to --out (0600) or stdout only once its MAC
 * verified.
 */
static int
e2e_decrypt(struct ctl *c, const struct ctl_args *a)
{
	static uint8_t msg[MSG_MAX], clear[MSG_MAX];
	uint8_t key[ZTP_E2E_KEY_LEN], nonce[ZTP_E2E_NONCE_LEN];
	char *file = NULL, spath[256], kihex[2 * ZTP_E2E_KI_LEN + 1];
	json_t *res = NULL;
	size_t flen = 0, mlen = 0, kilen, mac_len = 0, n = 0, i;
	int rc;

	if (a->in == NULL)
		return ctl_usage_error("usage: ztpctl e2e decrypt --in FILE [--out FILE]");
	ctl_san(a->in, spath, sizeof(spath));
	if ((rc = read_input(a->in, TEXT_MAX, &file, &flen)) != 0)
		goto out;
	if ((rc = file_message(spath, file, flen, msg, &mlen)) != 0)
		goto out;
	kilen = msg[0] >> 4 == 1 ? ZTP_E2E_KI_LEN : ZTP_E2E_KI_SHORT_LEN;
	if (mlen < kilen + MAC_MIN) {
		ctl_errorf("%s: %zu bytes: shorter than a key identity and a MAC", spath, mlen);
		rc = ZTP_EMALFORMED;
		goto out;
	}
	hex_encode(msg, kilen, kihex, sizeof(kihex));
	for (i = 0; kihex[i] != '\0'; i++)
		if (kihex[i] >= 'A' && kihex[i] <= 'F')
			kihex[i] = (char)(kihex[i] - 'A' + 'a');
	if ((rc = params_call(c, kihex, &res)) != 0 ||
	    (rc = params_take(res, kihex, kilen, mlen, key, nonce, &mac_len)) != 0)
		goto out;
	n = mlen - kilen - mac_len;
	rc = ccm_open(key, nonce, msg + kilen, n, msg + mlen - mac_len, mac_len, clear);
	if (rc == ZTP_EAUTH) {
		ctl_errorf("%s: the MAC does not verify: the message was changed, or is not the one "
			   "of key identity %s; nothing written",
		    spath, kihex);
		goto out;
	}
	if (rc != 0) {
		ctl_errorf("cannot decrypt: %s", ztp_strerror(rc));
		goto out;
	}
	rc = write_output(a->out, clear, n);
out:
	OPENSSL_cleanse(clear, sizeof(clear));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(nonce, sizeof(nonce));
	if (file != NULL) {
		OPENSSL_cleanse(file, flen);
		free(file);
	}
	wipe_member(res, "key");
	wipe_member(res, "nonce");
	json_decref(res);
	return rc;
}

/*
 * e2e encrypt ROT --in FILE [--out FILE] [--hex]: the clear text of FILE
 * (at most 4096 bytes) encrypted by the server for the module; the
 * message's bytes (or hex and a newline) to --out or stdout, the answer
 * with --json.
 */
static int
e2e_encrypt(struct ctl *c, const struct ctl_args *a)
{
	static uint8_t msg[MSG_MAX];
	static char b64[B64_MAX(ZTP_E2E_DATA_MAX)], hex[2 * MSG_MAX + 2];
	char *file = NULL, path[128], sarg[64];
	json_t *req = NULL, *res = NULL;
	size_t flen = 0, n = 0;
	int rc;

	if (!ctl_module_is_rot(a->pos[0]))
		return ctl_usage_error("invalid RoT UID '%s': expected 32 lower-case hex digits",
		    ctl_san(a->pos[0], sarg, sizeof(sarg)));
	if (a->in == NULL)
		return ctl_usage_error(
		    "usage: ztpctl e2e encrypt ROT --in FILE [--out FILE] [--hex]");
	if (a->out == NULL && !a->hex && !c->json && isatty(STDOUT_FILENO))
		return ctl_usage_error("e2e encrypt: the message is binary: give --out FILE or --hex");
	if ((rc = read_input(a->in, ZTP_E2E_DATA_MAX, &file, &flen)) != 0)
		return rc;
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)file, (int)flen);
	if ((req = json_pack("{s:s}", "data", b64)) == NULL) {
		rc = ctl_nomem();
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/devices/%s/e2e/encrypt", a->pos[0]);
	if ((rc = ctl_http_call(c, "POST", path, req, &res)) != 0)
		goto out;
	if ((rc = b64_member(res, "data", msg, sizeof(msg), 0, &n)) != 0)
		goto out;
	if (n < ZTP_E2E_KI_SHORT_LEN + MAC_MIN) {
		ctl_errorf("the server's answer has a message of %zu bytes", n);
		rc = ZTP_EMALFORMED;
		goto out;
	}
	if (c->json && (rc = ctl_out_json(res)) != 0)
		goto out;
	if (c->json && a->out == NULL)
		goto out;
	if (a->hex) {
		hex_encode(msg, n, hex, sizeof(hex) - 1);
		strcat(hex, "\n");
		rc = write_output(a->out, hex, 2 * n + 1);
	} else {
		rc = write_output(a->out, msg, n);
	}
out:
	OPENSSL_cleanse(b64, sizeof(b64));
	if (file != NULL) {
		OPENSSL_cleanse(file, flen);
		free(file);
	}
	json_decref(req);
	json_decref(res);
	return rc;
}

#define OPT_IN_OUT (OPT_IN | OPT_OUT)

static const struct ctl_cmd e2e_cmds[] = {
	{ "params", 0, 1, "e2e params KEY_IDENTITY", e2e_params },
	{ "decrypt", OPT_IN_OUT, 0, "e2e decrypt --in FILE [--out FILE]", e2e_decrypt },
	{ "encrypt", OPT_IN_OUT | OPT_HEX, 1, "e2e encrypt ROT --in FILE [--out FILE] [--hex]",
	    e2e_encrypt },
};

const struct ctl_noun ctl_e2e = {
	e2e_cmds,
	CTL_NELEM(e2e_cmds),
	"  e2e params KEY_IDENTITY        the decryption parameters of a module's message\n"
	"                                 (its first 16 bytes in hex, or 11 when the\n"
	"                                 first digit is 2): algorithm, key, nonce\n"
	"  e2e decrypt --in FILE [--out FILE]\n"
	"                                 decrypt and verify a module's message (its\n"
	"                                 bytes, or its hex as AT+USECE2EDATAENC gives\n"
	"                                 it; '-' is stdin): the clear text on stdout,\n"
	"                                 or in FILE (mode 0600); nothing if the MAC fails\n"
	"  e2e encrypt ROT --in FILE [--out FILE] [--hex]\n"
	"                                 a message for the module (AT+USECE2EDATADEC)\n"
	"                                 with FILE's bytes (at most 4096): its bytes,\n"
	"                                 or hex with --hex, on stdout or in FILE\n",
};
