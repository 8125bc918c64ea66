/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-c2c: chip-to-chip frames (ztp/c2c.h) in and out as hex, for interop
 * checks against other implementations.
 *
 *   ztp-c2c encode --version 1|2 --key HEX [--hmac-key HEX --te-secret HEX]
 *                  [--iv HEX[,HEX...]]
 *     reads the clear text as hex on stdin (whitespace ignored), prints
 *     each frame as hex on a line of its own; one IV per frame, or random
 *   ztp-c2c decode --version 1|2 --key HEX [--hmac-key HEX --te-secret HEX]
 *     reads frames as hex on stdin (one stream), prints the clear text as
 *     hex on one line, or exits 1 with the reason
 *
 * Exit status: 0 done, 1 a rejected frame or bad input, 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hex.h"
#include "ztp/c2c.h"
#include "ztp/crypto_ossl.h"
#include "ztp/err.h"

/* hex characters read from stdin at most: 256 KiB of clear text or frames */
#define IN_HEX_MAX (512 * 1024)
#define MSG_MAX (IN_HEX_MAX / 2)
#define IV_MAX ((MSG_MAX + ZTP_C2C_CHUNK_MAX - 1) / ZTP_C2C_CHUNK_MAX)

struct opts {
	int encode;
	struct ztp_c2c_keys k;
	int have_key, have_hmac, have_te;
	const char *ivs;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ztp-c2c encode --version 1|2 --key HEX [--hmac-key HEX --te-secret HEX]\n"
	    "                      [--iv HEX[,HEX...]]\n"
	    "       ztp-c2c decode --version 1|2 --key HEX [--hmac-key HEX --te-secret HEX]\n"
	    "\n"
	    "Chip-to-chip frames (F9 | LEN | BODY | FCS | F9) as hex. encode reads the\n"
	    "clear text as hex on stdin and prints each frame (255 clear-text bytes at\n"
	    "most) as hex on its own line, with one --iv per frame (16 bytes each) or\n"
	    "random IVs; decode reads frames as hex on stdin and prints the clear text as\n"
	    "hex, or exits 1 with the reason. Keys are 16 bytes (32 hex digits); version\n"
	    "2 needs --hmac-key and --te-secret. Whitespace in the input is ignored.\n");
}

/* Exactly 16 bytes of hex into out. */
static int
hex16(const char *name, const char *s, uint8_t out[16])
{
	size_t n = 0;

	if (strlen(s) != 32 || hex_decode(s, 32, out, 16, &n) != 0 || n != 16) {
		fprintf(stderr, "ztp-c2c: %s: 32 hex digits (16 bytes)\n", name);
		return -1;
	}
	return 0;
}

/* --iv HEX[,HEX...]: count IVs into ivs (16 bytes each, cap of them). */
static int
parse_ivs(const char *s, uint8_t *ivs, size_t cap, size_t *count)
{
	char one[33];
	const char *comma;
	size_t n = 0, len;

	for (;;) {
		comma = strchr(s, ',');
		len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		if (n == cap || len != 32) {
			fprintf(stderr, "ztp-c2c: --iv: IVs of 32 hex digits, comma-separated\n");
			return -1;
		}
		memcpy(one, s, 32);
		one[32] = '\0';
		if (hex16("--iv", one, ivs + 16 * n) != 0)
			return -1;
		n++;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	*count = n;
	return 0;
}

/* All of stdin as hex (whitespace skipped) into out (cap bytes). */
static int
read_hex(uint8_t *out, size_t cap, size_t *outlen)
{
	static char hex[IN_HEX_MAX];
	size_t n = 0;
	int ch;

	while ((ch = getchar()) != EOF) {
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			continue;
		if (n == sizeof(hex)) {
			fprintf(stderr, "ztp-c2c: more than %d hex digits on stdin\n", IN_HEX_MAX);
			return -1;
		}
		hex[n++] = (char)ch;
	}
	if (n > 0 && hex_decode(hex, n, out, cap, outlen) != 0) {
		fprintf(stderr, "ztp-c2c: stdin is not hex (an even number of hex digits)\n");
		return -1;
	}
	if (n == 0)
		*outlen = 0;
	return 0;
}

static void
print_hex(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

static int
do_encode(const struct opts *o, const uint8_t *msg, size_t len)
{
	static uint8_t ivs[IV_MAX * 16];
	uint8_t frame[ZTP_C2C_FRAME_MAX];
	size_t niv = 0, nframes = (len + ZTP_C2C_CHUNK_MAX - 1) / ZTP_C2C_CHUNK_MAX, i, n, flen;
	int rc;

	if (o->ivs != NULL && parse_ivs(o->ivs, ivs, IV_MAX, &niv) != 0)
		return 2;
	if (o->ivs != NULL && niv != nframes) {
		fprintf(stderr, "ztp-c2c: --iv: %zu IVs for %zu frames\n", niv, nframes);
		return 2;
	}
	for (i = 0; i < nframes; i++) {
		n = len - i * ZTP_C2C_CHUNK_MAX;
		if (n > ZTP_C2C_CHUNK_MAX)
			n = ZTP_C2C_CHUNK_MAX;
		rc = ztp_c2c_frame_encode(ztp_crypto_openssl(), &o->k,
		    o->ivs != NULL ? ivs + 16 * i : NULL, msg + i * ZTP_C2C_CHUNK_MAX, n, frame,
		    sizeof(frame), &flen);
		if (rc != 0) {
			fprintf(stderr, "ztp-c2c: encode: %s\n", ztp_strerror(rc));
			return 1;
		}
		print_hex(frame, flen);
	}
	return 0;
}

static int
do_decode(const struct opts *o, const uint8_t *in, size_t len)
{
	static uint8_t clear[MSG_MAX];
	uint8_t buf[ZTP_C2C_FRAME_MAX], chunk[ZTP_C2C_CHUNK_MAX];
	struct ztp_c2c_dec d;
	size_t off = 0, total = 0, used, clen;
	int rc;

	if (ztp_c2c_dec_init(&d, ztp_crypto_openssl(), &o->k, buf, sizeof(buf)) != 0)
		return 2;
	do {
		rc = ztp_c2c_dec_push(&d, in + off, len - off, &used, chunk, sizeof(chunk), &clen);
		off += used;
		if (rc < 0) {
			fprintf(stderr, "ztp-c2c: frame rejected: %s\n", ztp_c2c_fault_str(d.fault));
			return 1;
		}
		if (rc == 1) {
			memcpy(clear + total, chunk, clen); /* a frame's clear text is shorter than it */
			total += clen;
		}
	} while (rc != 0);
	if (d.len > 0) {
		fprintf(stderr, "ztp-c2c: an incomplete frame at the end of the input\n");
		return 1;
	}
	print_hex(clear, total);
	OPENSSL_cleanse(clear, total);
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "version", required_argument, NULL, 'v' },
		{ "key", required_argument, NULL, 'k' },
		{ "hmac-key", required_argument, NULL, 'm' },
		{ "te-secret", required_argument, NULL, 't' },
		{ "iv", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	if (argc < 2 || (strcmp(argv[1], "encode") != 0 && strcmp(argv[1], "decode") != 0)) {
		usage(stderr);
		return -1;
	}
	o->encode = strcmp(argv[1], "encode") == 0;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			if (strcmp(optarg, "1") != 0 && strcmp(optarg, "2") != 0) {
				fprintf(stderr, "ztp-c2c: --version: 1 or 2\n");
				return -1;
			}
			o->k.version = optarg[0] - '0';
			break;
		case 'k':
			if (hex16("--key", optarg, o->k.key) != 0)
				return -1;
			o->have_key = 1;
			break;
		case 'm':
			if (hex16("--hmac-key", optarg, o->k.hmac_key) != 0)
				return -1;
			o->have_hmac = 1;
			break;
		case 't':
			if (hex16("--te-secret", optarg, o->k.te_secret) != 0)
				return -1;
			o->have_te = 1;
			break;
		case 'i':
			if (!o->encode) {
				fprintf(stderr, "ztp-c2c: --iv is encode's\n");
				return -1;
			}
			o->ivs = optarg;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || o->k.version == 0 || !o->have_key ||
	    (o->k.version == 2 && (!o->have_hmac || !o->have_te))) {
		fprintf(stderr, "ztp-c2c: needs --version and --key, and for version 2 "
				"--hmac-key and --te-secret (ztp-c2c --help)\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static uint8_t in[MSG_MAX];
	struct opts o;
	size_t len = 0;
	int rc;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	memset(&o, 0, sizeof(o));
	if (parse_opts(argc, argv, &o) != 0) {
		OPENSSL_cleanse(&o, sizeof(o));
		return 2;
	}
	if (read_hex(in, sizeof(in), &len) != 0)
		rc = 1;
	else
		rc = o.encode ? do_encode(&o, in, len) : do_decode(&o, in, len);
	OPENSSL_cleanse(&o, sizeof(o));
	OPENSSL_cleanse(in, len);
	return rc;
}
