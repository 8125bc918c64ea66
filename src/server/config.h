/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpd's configuration: defaults, then a config file (key = value, the
 * long option names), then the command line, which wins.
 */
#ifndef ZTP_CONFIG_H
#define ZTP_CONFIG_H
#include <limits.h>
#include <sys/socket.h>

#include "log.h"
#include "store.h"

struct config {
	char data[PATH_MAX];
	char device_listen[128]; /* "" or "off": no device listener */
	char admin_listen[128];
	int workers;
	enum log_format log_format;
	enum log_level log_level;
	int allow_psk_ke;
	int token_ttl;       /* s */
	int request_timeout; /* s: handshake and one complete request */
	int idle_timeout;    /* s: between reads/writes */
	int max_connections; /* per worker */
	int max_header_size; /* bytes of request line and headers */
	/* certificates (EST) */
	char est_listen[128];  /* "" or "off": no EST listener (the default) */
	int est_auth;          /* STORE_EST_* set for devices without a group policy */
	int cert_days;         /* validity of device certificates */
	int reenroll_grace;    /* s after expiry during which simplereenroll is allowed */
	int crl_validity;      /* s from one CRL to its nextUpdate */
	/* proxy mode (docs/proxy.md): the default upstream of SIMs whose group has none */
	struct store_upstream upstream; /* url "": none, answer from the store */
	int upstream_timeout;           /* s: connect to complete answer */
	int upstream_connections;       /* per upstream and worker */
	/* ztpd --import-ca CERT KEY: import the CA into the data directory and exit */
	char import_ca_cert[PATH_MAX];
	char import_ca_key[PATH_MAX];
	/* privilege separation (parent.c) */
	char user[64];  /* started as root, the children run as this user */
	char child[16]; /* internal: "front" or "signer" in a child process */
};

void config_defaults(struct config *cfg);
/* Set one key; errbuf gets the reason on failure (ZTP_EINVAL). */
int config_set(struct config *cfg, const char *key, const char *value, char *errbuf,
    size_t errcap);
/* Read a key = value file ('#' comments). */
int config_load_file(struct config *cfg, const char *path, char *errbuf, size_t errcap);
/*
 * Parse the command line (a --config file is applied first, then the other
 * options). Returns 0, 1 if --help or --version was printed, or ZTP_EINVAL.
 */
int config_parse_args(struct config *cfg, int argc, char **argv);

/* "allowlist,password,manufacturer" into STORE_EST_* bits: 0 or ZTP_EINVAL. */
int config_parse_est_auth(const char *value, int *out);

/* Parse "ADDR:PORT" or "[ADDR6]:PORT" (numeric) into ss. */
int config_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len);

#endif
