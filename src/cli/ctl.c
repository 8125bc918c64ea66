/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl's messages and local files: errors on stderr as "ztpctl: ...",
 * usage errors with their hint, the sanitizing of what the user or the
 * server controls, and bounded reads of the files commands take.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "ztp/err.h"

#define PEM_FILE_MAX (64u * 1024) /* --pubkey FILE, mfr-ca add's FILE */

/* 1 while sim import's progress line is on the terminal without its newline */
static int progress_open;

/* The progress line is on the terminal (ctl_import.c): end it before a message. */
void
ctl_progress_mark(void)
{
	progress_open = 1;
}

/* End the progress line, so that a message starts on a line of its own. */
void
ctl_progress_end(void)
{
	if (progress_open) {
		fputc('\n', stderr);
		progress_open = 0;
	}
}

static void message(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* "ztpctl: <message>" on stderr, without its line end */
static void
message(const char *fmt, va_list ap)
{
	ctl_progress_end();
	fputs("ztpctl: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* "ztpctl: <message>" on stderr */
void
ctl_errorf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	message(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Print a usage error with a hint; returns ZTP_EINVAL (exit status 2). */
int
ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	message(fmt, ap);
	va_end(ap);
	fputs("\nTry 'ztpctl --help' for more information.\n", stderr);
	return ZTP_EINVAL;
}

/* Print that memory ran out; returns ZTP_ENOMEM. */
int
ctl_nomem(void)
{
	ctl_errorf("%s", ztp_strerror(ZTP_ENOMEM));
	return ZTP_ENOMEM;
}

/* Overwrite and free a NUL-terminated secret; NULL is fine. */
void
ctl_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* A sanitized copy of what the user or the server controls, for messages. */
const char *
ctl_san(const char *s, char *out, size_t cap)
{
	log_sanitize(s, strlen(s), out, cap);
	return out;
}

/*
 * Read at most max bytes of f into a new NUL-terminated buffer (the caller
 * frees *out). Returns 0, ZTP_ETOOBIG if f holds more, ZTP_EIO or
 * ZTP_ENOMEM.
 */
int
ctl_read_bounded(FILE *f, size_t max, char **out, size_t *outlen)
{
	char *data = NULL;
	size_t len = 0, n;
	int rc;

	/* one byte more than allowed tells "too big" from "exactly max" */
	data = malloc(max + 2);
	if (data == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	while ((n = fread(data + len, 1, max + 1 - len, f)) > 0) {
		len += n;
		if (len > max) {
			rc = ZTP_ETOOBIG;
			goto out;
		}
	}
	if (ferror(f)) {
		rc = ZTP_EIO;
		goto out;
	}
	data[len] = '\0';
	*out = data;
	*outlen = len;
	data = NULL;
	rc = 0;
out:
	if (data != NULL) {
		explicit_bzero(data, len);
		free(data);
	}
	return rc;
}

/*
 * Read a PEM file (at most PEM_FILE_MAX bytes) into *out (the caller frees
 * it). A file that holds a private key is refused, wiped and never sent.
 */
int
ctl_read_pem(const char *path, char **out, size_t *outlen)
{
	char spath[256], *data = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	ctl_san(path, spath, sizeof(spath));
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		ctl_errorf("%s: %s", spath, strerror(errno));
		return ZTP_EIO;
	}
	rc = ctl_read_bounded(f, PEM_FILE_MAX, &data, &len);
	if (f != stdin)
		fclose(f);
	if (rc != 0) {
		ctl_errorf("%s: %s", spath, rc == ZTP_ETOOBIG ? "larger than 64 KiB" : ztp_strerror(rc));
		return rc;
	}
	if (strstr(data, "PRIVATE KEY-----") != NULL) {
		ctl_errorf("%s holds a private key: give the public key (openssl pkey -pubout), the "
		       "certificate or the CSR; nothing was sent",
		    spath);
		rc = ZTP_EMALFORMED;
	} else if (strstr(data, "-----BEGIN ") == NULL || memchr(data, '\0', len) != NULL) {
		ctl_errorf("%s is not a PEM file", spath);
		rc = ZTP_EMALFORMED;
	}
	if (rc != 0) {
		explicit_bzero(data, len);
		free(data);
		return rc;
	}
	*out = data;
	*outlen = len;
	return 0;
}
