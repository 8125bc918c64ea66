/* SPDX-License-Identifier: Apache-2.0 */
/*
 * psk_client: a small TLS 1.3 PSK client of the integration tests, the way
 * a SIM connects: the identity as the 10 EF_ICCID bytes (or any string),
 * TLS_AES_128_CCM_SHA256, and psk_ke when asked.
 *
 * OpenSSL 3.0 clients always send a key share. To get psk_ke, the client
 * offers only ffdhe2048, which ztpd does not accept for key exchange, with
 * psk_ke allowed: the server then has no usable share and, if its policy
 * allows psk_ke, completes without (EC)DHE. The ServerHello is checked for
 * the absence of a key_share extension, so "kex: psk_ke" is what happened.
 *
 * usage: psk_client --port P (--iccid-bcd DIGITS | --identity STR) --psk HEX
 *          [--suite ccm|gcm] [--psk-ke] [--request TEXT | --request-file F]
 *          [--partial TEXT --wait SECONDS] [--rotate-key FILE]
 * Prints the server's response on stdout, "kex: ...", "cipher: ..." on
 * stderr. --rotate-key: if the answer offers a key rotation
 * (ZTP-PSK-Rotate: N), FILE gets "N HEX", the key of generation N as the
 * SIM derives it from this session (the TLS exporter, as ztpd does);
 * otherwise FILE is left empty. Exit 0 on a completed handshake, 3 if the
 * handshake failed, 4 if --partial was not closed by the server within
 * --wait, 2 on usage.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "crypto.h"
#include "hex.h"
#include "num.h"
#include "ztp/iccid.h"

static uint8_t identity[64];
static size_t identity_len;
static uint8_t psk[64];
static size_t psk_len;
static int ccm = 1;
static int saw_key_share = -1; /* -1: no ServerHello seen */

static int
use_session(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
    SSL_SESSION **sess)
{
	static const unsigned char ccm_id[] = { 0x13, 0x04 }, gcm_id[] = { 0x13, 0x01 };
	const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, ccm ? ccm_id : gcm_id);
	SSL_SESSION *s;

	if ((s = crypto_psk_session(cipher, psk, psk_len)) == NULL)
		return 0;
	*sess = s;
	*id = identity;
	*idlen = identity_len;
	return 1;
}

/* Look for key_share (51) in the ServerHello's extensions, bounds checked. */
static void
msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
    void *arg)
{
	const uint8_t *p = buf;
	size_t off, extlen, end;

	if (write_p || content_type != 22 || len < 4 || p[0] != 2)
		return;
	off = 4 + 2 + 32;
	if (off + 1 > len)
		return;
	off += 1 + p[off];
	off += 2 + 1;
	if (off + 2 > len)
		return;
	extlen = (size_t)p[off] << 8 | p[off + 1];
	off += 2;
	end = off + extlen > len ? len : off + extlen;
	saw_key_share = 0;
	while (off + 4 <= end) {
		unsigned type = (unsigned)p[off] << 8 | p[off + 1];
		size_t l = (size_t)p[off + 2] << 8 | p[off + 3];
		if (type == 51)
			saw_key_share = 1;
		off += 4 + l;
	}
}

/*
 * The rotation offered in the response resp (ZTP-PSK-Rotate: N in its
 * head): "N HEX" into path, the next key from this session's exporter with
 * N as the context (server side: device_api.c's maybe_rotate). path is
 * created empty when nothing was offered. 0, or -1 on an error.
 */
static int
rotate_key(SSL *ssl, const char *resp, size_t len, const char *path)
{
	static const char label[] = "EXPORTER-ztp-psk-rotate", hdr[] = "\r\nZTP-PSK-Rotate: ";
	const char *p = NULL, *end;
	uint8_t key[32];
	char hexkey[65], gen[16];
	size_t i, n = 0;
	FILE *f;

	for (i = 0; i + sizeof(hdr) - 1 <= len; i++) {
		if (i + 4 <= len && memcmp(resp + i, "\r\n\r\n", 4) == 0)
			break;
		if (strncasecmp(resp + i, hdr, sizeof(hdr) - 1) == 0) {
			p = resp + i + sizeof(hdr) - 1;
			break;
		}
	}
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	if (p != NULL) {
		end = resp + len;
		while (p + n < end && n < sizeof(gen) - 1 && p[n] >= '0' && p[n] <= '9')
			n++;
		memcpy(gen, p, n);
		gen[n] = '\0';
		if (n == 0 || SSL_export_keying_material(ssl, key, sizeof(key), label,
				  sizeof(label) - 1, (const unsigned char *)gen, n, 1) != 1 ||
		    hex_encode(key, sizeof(key), hexkey, sizeof(hexkey)) != 0) {
			fclose(f);
			return -1;
		}
		fprintf(f, "%s %s\n", gen, hexkey);
	}
	return fclose(f) == 0 ? 0 : -1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: psk_client --port P (--iccid-bcd DIGITS | --identity STR) --psk HEX\n"
			"         [--suite ccm|gcm] [--psk-ke] [--request TEXT | --request-file F]\n"
			"         [--partial TEXT --wait SECONDS] [--rotate-key FILE]\n");
	exit(2);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 20);

	if (f == NULL || buf == NULL)
		return NULL;
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

int
main(int argc, char **argv)
{
	const char *request = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	const char *partial = NULL, *rotate_path = NULL;
	char *filebuf = NULL, *resp = NULL;
	size_t resplen = 0;
	size_t reqlen;
	uint64_t port = 0, wait_s = 5;
	int psk_ke = 0, i, fd, rc, status = 1;
	struct sockaddr_in sin;
	SSL_CTX *ctx;
	SSL *ssl;
	char buf[4096];

	reqlen = strlen(request);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--psk-ke")) {
			psk_ke = 1;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (!strcmp(a, "--port")) {
			if (num_parse_u64z(v, 1, 65535, &port) != 0)
				usage();
		} else if (!strcmp(a, "--iccid-bcd")) {
			if (iccid_to_ef(v, identity) != 0)
				usage();
			identity_len = ICCID_EF_LEN;
		} else if (!strcmp(a, "--identity")) {
			identity_len = strlen(v) < sizeof(identity) ? strlen(v) : sizeof(identity);
			memcpy(identity, v, identity_len);
		} else if (!strcmp(a, "--psk")) {
			if (hex_decode(v, strlen(v), psk, sizeof(psk), &psk_len) != 0)
				usage();
		} else if (!strcmp(a, "--suite")) {
			ccm = !strcmp(v, "ccm");
		} else if (!strcmp(a, "--request")) {
			request = v;
			reqlen = strlen(v);
		} else if (!strcmp(a, "--request-file")) {
			if ((filebuf = read_file(v, &reqlen)) == NULL)
				usage();
			request = filebuf;
		} else if (!strcmp(a, "--rotate-key")) {
			rotate_path = v;
		} else if (!strcmp(a, "--partial")) {
			partial = v;
		} else if (!strcmp(a, "--wait")) {
			if (num_parse_u64z(v, 1, 600, &wait_s) != 0)
				usage();
		} else {
			usage();
		}
	}
	if (port == 0 || identity_len == 0 || psk_len == 0)
		usage();

	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_ciphersuites(ctx, ccm ? "TLS_AES_128_CCM_SHA256" : "TLS_AES_128_GCM_SHA256");
	if (psk_ke) {
		SSL_CTX_set_options(ctx, SSL_OP_ALLOW_NO_DHE_KEX);
		SSL_CTX_set1_groups_list(ctx, "ffdhe2048");
	}
	SSL_CTX_set_psk_use_session_callback(ctx, use_session);
	SSL_CTX_set_msg_callback(ctx, msg_cb);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		perror("connect");
		return 1;
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		fprintf(stderr, "handshake failed\n");
		ERR_print_errors_fp(stderr);
		status = 3;
		goto out;
	}
	fprintf(stderr, "kex: %s\n", saw_key_share == 0 ? "psk_ke" : "psk_dhe_ke");
	fprintf(stderr, "cipher: %s\n", SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)));

	if (partial != NULL) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		time_t start = time(NULL);
		SSL_write(ssl, partial, (int)strlen(partial));
		status = 4;
		while (status == 4 && time(NULL) - start <= (time_t)wait_s) {
			if (poll(&pfd, 1, 200) <= 0)
				continue;
			rc = SSL_read(ssl, buf, sizeof(buf));
			if (rc <= 0) {
				fprintf(stderr, "closed by the server after %ld s\n",
				    (long)(time(NULL) - start));
				status = 0;
			} else {
				fwrite(buf, 1, (size_t)rc, stdout);
			}
		}
		if (status == 4)
			fprintf(stderr, "still open after %lu s\n", (unsigned long)wait_s);
		goto out;
	}
	if (SSL_write(ssl, request, (int)reqlen) <= 0) {
		fprintf(stderr, "write failed\n");
		status = 1;
		goto out;
	}
	while ((rc = SSL_read(ssl, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)rc, stdout);
		if (rotate_path != NULL) {
			char *more = realloc(resp, resplen + (size_t)rc);
			if (more == NULL) {
				status = 1;
				goto out;
			}
			memcpy(more + resplen, buf, (size_t)rc);
			resp = more;
			resplen += (size_t)rc;
		}
	}
	status = 0;
	if (rotate_path != NULL && rotate_key(ssl, resp, resplen, rotate_path) != 0) {
		fprintf(stderr, "cannot write the rotation key to %s\n", rotate_path);
		status = 1;
	}
out:
	free(resp);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	free(filebuf);
	return status;
}
