/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One enrolment run over EST, as ztp-enroll does it and ztp-agent reuses
 * it: the key store opened (the key made once), the CA certificates
 * fetched, the certificate of slot 10 enrolled, renewed or left alone,
 * the issued one checked and stored. See enroll.c for the steps and
 * docs/enroll.md for what they mean to a user.
 *
 * Returns one of the ENROLL_* codes below, which are ztp-enroll's exit
 * statuses. Messages go one line at a time to opts->msg (never a password
 * nor a key in them); nothing is printed by this module.
 */
#ifndef ZTP_ENROLL_H
#define ZTP_ENROLL_H
#include <signal.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ztp/est.h"

struct keystore;

#define ENROLL_DONE 0    /* a new certificate was stored */
#define ENROLL_USAGE 2   /* a bad argument (the server URL, the CA file, the identity files) */
#define ENROLL_NOTHING 3 /* the certificate is valid and not due */
#define ENROLL_REFUSED 4 /* the server refused (4xx, or the client certificate in TLS) */
#define ENROLL_TEMP 5    /* network, TLS, 5xx, unusable answer, 202 too long: try later */
#define ENROLL_LOCAL 6   /* the key store */

#define ENROLL_RENEW_BEFORE_MAX INT64_C(3153600000) /* 100 years */

struct enroll_opts {
	const char *server; /* https://host[:port] */
	/* the EST server's trust anchors: a PEM file, or certificates (up-ref'd), or both */
	const char *ca_file;
	STACK_OF(X509) *ca;
	const char *store; /* the file key store's directory (created, 0700) */
	const char *id;    /* the UDID: the request's CN and serialNumber, the Basic user */
	/*
	 * How enrolment (simpleenroll) authenticates, any of them together: a
	 * TLS client identity (an IDevID or LDevID: certificate, its key and
	 * further certificates, up-ref'd) and HTTP Basic (id and password, a
	 * one-time password). A renewal uses the current certificate instead.
	 */
	X509 *client_cert;
	EVP_PKEY *client_key;
	STACK_OF(X509) *client_chain;
	/* or the same from PEM files (the certificate, then its chain; the key) */
	const char *client_cert_file, *client_key_file;
	const char *password;
	int64_t renew_before; /* seconds; -1: when a third of the lifetime is left */
	int force;            /* renew now (enrol if there is no valid certificate) */
	uint32_t max_wait;    /* s, in all, for 202 answers */
	uint32_t timeout_s;   /* each request */
	int verbose;          /* say what is done, not only warnings and the outcome */
	/* one line (no newline) to tell the user; NULL: silent */
	void (*msg)(void *arg, const char *line);
	void *msg_arg;
	/* if not NULL: a wait for a 202 answer ends (ENROLL_TEMP) once *cancel is set */
	const volatile sig_atomic_t *cancel;
};

/* What a run came to, besides its code. */
struct enroll_outcome {
	int renewed;        /* ENROLL_DONE: 1 simplereenroll, 0 simpleenroll */
	char serial[128];   /* the new (ENROLL_DONE) or current (ENROLL_NOTHING) certificate */
	int64_t not_after;  /* its notAfter, Unix seconds */
	int64_t due_at;     /* ENROLL_NOTHING: when it is due */
	int revoked;        /* ENROLL_REFUSED: the server refused the current certificate as revoked */
	struct est_result res; /* the last request's: status, reason */
};

/*
 * One run with o (see the header of enroll.c); *out (may be NULL) says
 * what it came to. Returns an ENROLL_* code.
 */
int enroll_run(const struct enroll_opts *o, struct enroll_outcome *out);

/*
 * Open (or create, 0700) the file key store at dir and make the device
 * key in slot 0 if there is none (*made 1, may be NULL). Returns 0 or
 * ENROLL_LOCAL with why.
 */
int enroll_open_store(const char *dir, struct keystore **ks, int *made, char *why,
    size_t whycap);

/*
 * The first certificate of slot 10 into *cert (the caller frees it).
 * Returns 0, ZTP_ENOENT (none), or another ZTP_E... code, with why.
 */
int enroll_stored_cert(struct keystore *ks, X509 **cert, char *why, size_t whycap);

/*
 * 0 if the certificate of slot 10 is usable at now: for slot 0's key and
 * udid, valid under the CA certificates of slot 11 (est_cert_check()).
 * *cert (may be NULL): the certificate (the caller frees it). Else a
 * ZTP_E... code with why; nothing in the store changes.
 */
int enroll_cert_usable(struct keystore *ks, const char *udid, int64_t now, X509 **cert,
    char *why, size_t whycap);

/* The serial number of x in upper-case hex ("?" if it cannot be read). */
void enroll_fmt_serial(X509 *x, char *out, size_t cap);

/* "YYYY-MM-DDTHH:MM:SSZ" */
void enroll_fmt_time(int64_t t, char *out, size_t cap);

#endif
