/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpd's configuration: defaults, then a config file (key = value, the
 * long option names), then the command line, which wins. Every option is
 * one entry of config_opts[] (config.c), from which come the getopt table,
 * the config-file keys, the defaults, the bound checks and --help.
 */
#ifndef ZTP_CONFIG_H
#define ZTP_CONFIG_H
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "log.h"
#include "store.h"

struct config {
	char data[PATH_MAX];
	char store[1024]; /* "": sqlite:DATA/ztp.db */
	int store_connections; /* PostgreSQL: coroutines and their connections per worker */
	char device_listen[128]; /* "" or "off": no device listener */
	char admin_listen[128];
	int workers;
	enum log_format log_format;
	enum log_level log_level;
	int allow_psk_ke;
	int device_cert_auth; /* the device listener also takes certificates of ours (mutual TLS) */
	int token_ttl;       /* s */
	int request_timeout; /* s: handshake and one complete request */
	int idle_timeout;    /* s: between reads/writes */
	int max_connections; /* per listener and worker */
	int handshake_timeout;       /* s: accept to finished TLS handshake */
	int max_handshakes_per_peer; /* unfinished handshakes per address, listener and worker */
	int max_failed_handshakes;   /* refused handshakes per address and minute, 0: no limit */
	int max_header_size; /* bytes of request line and headers */
	/* certificates (EST) */
	char est_listen[128];  /* "" or "off": no EST listener (the default) */
	int est_auth;          /* STORE_EST_* set for devices without a group policy */
	int cert_days;         /* validity of device certificates */
	int reenroll_grace;    /* s after expiry during which simplereenroll is allowed */
	int crl_validity;      /* s from one CRL to its nextUpdate */
	int est_certs_per_hour; /* certificates per UDID per rolling hour; 0: no limit */
	/* proxy mode (docs/proxy.md): the default upstream of SIMs whose group has none */
	struct store_upstream upstream; /* url "": none, answer from the store */
	int upstream_timeout;           /* s: connect to complete answer */
	int upstream_connections;       /* per upstream and worker */
	/* ztpd --import-ca CERT KEY: import the CA into the data directory and exit */
	char import_ca_cert[PATH_MAX];
	char import_ca_key[PATH_MAX];
	/* ztpd migrate --from URL --to URL [--resume]: copy a store into another and exit */
	int migrate;
	char migrate_from[1024];
	char migrate_to[1024];
	int migrate_resume;
	/*
	 * Nodes sharing one store (docs/node-bundle.md): the commands
	 * export-node and join FILE, which run in the parent and exit
	 */
	int command;               /* CONFIG_CMD_* of the argument after the options */
	char node_file[PATH_MAX];  /* join FILE */
	char node_out[PATH_MAX];   /* export-node --out FILE */
	char passphrase_file[PATH_MAX]; /* "": ask on the terminal */
	int with_ca_key;           /* export-node --with-ca-key: the default, said explicitly */
	/* the audit trail (events.c) and retention (retention.c) */
	int event_window;     /* s: repeats of one event within it are one row */
	int event_rate;       /* new event rows per peer address and window */
	int retain_events;    /* days; 0: keep */
	int retain_telemetry; /* days; 0: keep */
	/* gateways over MQTT (gwmqtt.c, docs/gateways.md): "" mqtt: off */
	char mqtt[256];          /* mqtts://HOST:PORT of the broker's operational listener */
	char mqtt_ca[PATH_MAX];  /* CA certificates that authenticate the broker */
	char mqtt_cert[PATH_MAX]; /* ztpd's client certificate ("": the server certificate) */
	char mqtt_key[PATH_MAX];
	char mqtt_user[128];     /* its dynamic-security user name */
	char mqtt_password_file[PATH_MAX];
	char mqtt_prefix[64];    /* the topics' prefix */
	char gw_est_url[256];    /* the EST URL bundles carry ("": from est-listen) */
	char gw_mqtt_url[256];   /* the operational URL bundles carry ("": --mqtt) */
	char gw_mqtt_ca[PATH_MAX]; /* the broker CA bundles carry ("": --mqtt-ca) */
	char gw_prov_url[256];   /* the provisioning URL ztpctl gateway-batch create prints */
	/* privilege separation */
	char user[64];  /* started as root: the front and the signer run as this user */
	char child[16]; /* --child front|signer (internal, set by the parent's exec); "" */
};

/* The commands given after the options: ztpd [options] [export-node | join FILE]. */
enum config_command {
	CONFIG_CMD_NONE,        /* run the server */
	CONFIG_CMD_EXPORT_NODE, /* write the node bundle of the data directory (--out) */
	CONFIG_CMD_JOIN,        /* make the data directory a node from a bundle */
};

/* How an option's value is read and where it is stored. */
enum config_type {
	CONFIG_STRING,  /* char[size]: any text shorter than size */
	CONFIG_LISTEN,  /* char[size]: ADDR:PORT, [ADDR6]:PORT (numeric), "off" or "" */
	CONFIG_INT,     /* int: a decimal number in [min, max] */
	CONFIG_BOOL,    /* int 0/1: a flag on the command line; true|yes|1|false|no|0 in a file */
	CONFIG_ENUM,    /* int: one of names, stored as its value */
	CONFIG_WORD,    /* char[size]: one of names, stored as the text */
	CONFIG_SET,     /* int: a comma-separated non-empty subset of names, values OR'ed */
	CONFIG_FILE,    /* --config FILE: read before the rest of the command line */
	CONFIG_HELP,    /* --help: print the usage, exit 0 */
	CONFIG_VERSION, /* --version */
};

#define CONFIG_CLI_ONLY 0x1  /* refused in a config file */
#define CONFIG_HIDDEN 0x2    /* left out of --help: internal */
#define CONFIG_EARLY 0x4     /* also applied before the config file, which it locates */
#define CONFIG_DEF_CORES 0x8 /* default: the number of online cores, min if out of bounds */

struct config_name {
	const char *name;
	int value;
};

struct config_opt {
	const char *name;  /* the long option and the config-file key */
	enum config_type type;
	size_t offset;     /* of the field in struct config */
	size_t size;       /* of the field */
	long long min, max;                /* CONFIG_INT */
	const char *def;                   /* default, read as a value; NULL: zero */
	const struct config_name *names;   /* ENUM, WORD, SET; ends with a NULL name */
	int flags;                         /* CONFIG_CLI_ONLY, ... */
	const char *arg;                   /* --help's placeholder; NULL: the names */
	const char *help;
	const char *section;               /* --help heading before this option ("": blank line) */
};

/* Every option, in --help order. */
extern const struct config_opt config_opts[];
extern const size_t config_nopts;

/* The option named name (no leading --), or NULL. */
const struct config_opt *config_opt_find(const char *name);

/* Every option's default (zero where the table gives none). */
void config_defaults(struct config *cfg);
/*
 * Set one key as a config-file line does: options only the command line
 * takes are refused. On failure (ZTP_EINVAL) cfg is unchanged and errbuf
 * gets the reason, which names the key.
 */
int config_set(struct config *cfg, const char *key, const char *value, char *errbuf,
    size_t errcap);
/* Read a key = value file ('#' comments). */
int config_load_file(struct config *cfg, const char *path, char *errbuf, size_t errcap);
/*
 * Parse the command line (a --config file is applied first, then the other
 * options). Returns 0, 1 if --help or --version was printed, or ZTP_EINVAL.
 */
int config_parse_args(struct config *cfg, int argc, char **argv);
/* Print --help: every option of the table but the hidden ones. */
void config_usage(FILE *f);

/* "allowlist,password,manufacturer" into STORE_EST_* bits: 0 or ZTP_EINVAL. */
int config_parse_est_auth(const char *value, int *out);

/* Parse "ADDR:PORT" or "[ADDR6]:PORT" (numeric) into ss. */
int config_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len);

#endif
