/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl's core, what every noun's file (ctl_<noun>.c) uses: messages and
 * local files (ctl.c), argument checks (ctl_check.c), the command options
 * (ctl_opts.c), the admin file (ctl_admin.c), the admin API over HTTPS
 * (ctl_http.c), tables and JSON on stdout (ctl_out.c), requests that print
 * what comes back (ctl_req.c) and the batch imports (ctl_import.c).
 *
 * Inside ztpctl, ZTP_EINVAL means a usage error and nothing else: main
 * turns it into exit status 2, any other error into 1.
 */
#ifndef ZTP_CLI_CTL_H
#define ZTP_CLI_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>
#include <jansson.h>

#include "allowcsv.h"

#define ZTPCTL_VERSION "0.1.0"

#define CELL_MAX 256   /* a table cell, a value in a message */
#define DETAIL_MAX 512 /* a table's last cell, a "key: value" line's value */
#define BODY_CELL_MAX 52 /* a configuration's or telemetry record's body in a table */
#define UDID_MAX ALLOWCSV_UDID_MAX /* characters */

#define CTL_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* the admin file's contents; every string is owned and freed by ctl_admin_free */
struct ctl_admin {
	char *url; /* without a trailing '/' */
	char *key_id;
	char *secret;
	char *ca;
};

/* one run of the tool */
struct ctl {
	const char *admin_path; /* --admin, NULL if not given */
	int json;               /* --json */
	struct ctl_admin admin;
	CURL *curl;  /* NULL until the first request */
	char *token; /* NULL until authenticated */
	char errbuf[CURL_ERROR_SIZE];
	int quiet_404; /* a 404 answer is ZTP_ENOENT, not printed */
};

/* the options commands take; a bit each (ctl_opts.c has their names) */
enum {
	OPT_PSK = 1 << 0,
	OPT_LIMIT = 1 << 1,
	OPT_ALL = 1 << 2,
	OPT_BODY = 1 << 3,
	OPT_FILE = 1 << 4,
	OPT_SINCE = 1 << 5,
	OPT_GROUP = 1 << 6,
	OPT_PREFIX = 1 << 7,
	OPT_DERIVE = 1 << 8,
	OPT_KEY_FILE = 1 << 9,
	OPT_PSK_KE = 1 << 10,
	OPT_ROTATION = 1 << 11,
	OPT_PUBKEY = 1 << 12,
	OPT_KEY_SHA = 1 << 13,
	OPT_ICCID = 1 << 14,
	OPT_TTL = 1 << 15,
	OPT_UDID = 1 << 16,
	OPT_REASON = 1 << 17,
	OPT_EST_AUTH = 1 << 18,
	OPT_CERT_DAYS = 1 << 19,
	OPT_GRACE = 1 << 20,
	OPT_DERIVED = 1 << 21,
	OPT_DEVICE_ID = 1 << 22,
	OPT_UPSTREAM = 1 << 23,
	OPT_UPSTREAM_CA = 1 << 24,
	OPT_UPSTREAM_CERT = 1 << 25,
	OPT_UPSTREAM_KEY = 1 << 26,
	OPT_OWNER = 1 << 27,
	OPT_ALL_OWNERS = 1 << 28,
	OPT_SAVE = 1 << 29,
};

/* the module security service's options (ctl_module.c), past an int's bits */
#define OPT_FEATURES (1ULL << 33)
#define OPT_HB (1ULL << 34)
#define OPT_HB_MIN (1ULL << 35)
#define OPT_TO (1ULL << 36)
#define OPT_ENABLE (1ULL << 37)
#define OPT_DISABLE (1ULL << 38)
#define OPT_PROFILE (1ULL << 39)
#define OPT_DEVICES (1ULL << 40)
#define OPT_QUARANTINED (1ULL << 41)
/* foreign PKIs' CRLs (ctl_pki.c) */
#define OPT_CRL_URL (1ULL << 42)
#define OPT_INTERVAL (1ULL << 43)
#define OPT_CA (1ULL << 44)
/* ZTP certificates (ctl_ztpca.c) */
#define OPT_CA_DAYS (1ULL << 48)
#define OPT_DEVICE_DAYS (1ULL << 49)
#define OPT_CERT (1ULL << 50)
#define OPT_KEY (1ULL << 51)
#define OPT_REG_CODE (1ULL << 52)
#define OPT_ZTP_CA (1ULL << 53)
#define OPT_DAYS (1ULL << 54)
/* the root of trust's services' (ctl_svc.c) */
#define OPT_IN (1ULL << 55)
#define OPT_OUT (1ULL << 56)
#define OPT_HEX (1ULL << 57)
/* gateways' (ctl_gateway.c) */
#define OPT_ARGS (1ULL << 45)
#define OPT_AUTO_REONBOARD (1ULL << 46)
#define OPT_STATE (1ULL << 47)
#define OPT_TIMEOUT (1ULL << 58)

#define ARGS_MAX_POS 2

/* a command's parsed arguments; the strings point into argv */
struct ctl_args {
	const char *pos[ARGS_MAX_POS];
	size_t npos;
	const char *psk;
	const char *limit;
	const char *body;
	const char *file;
	const char *since;
	const char *group;
	const char *prefix;
	const char *key_file;
	const char *rotation;
	const char *pubkey;
	const char *key_sha;
	const char *iccid;
	const char *ttl;
	const char *udid;
	const char *reason;
	const char *est_auth;
	const char *cert_days;
	const char *grace;
	const char *device_id;
	const char *upstream, *upstream_ca, *upstream_cert, *upstream_key;
	/* the module security service's (ctl_owner.c, ctl_module.c) */
	const char *owner, *save, *features, *hb, *hb_min, *to, *enable, *disable, *profile,
	    *devices;
	/* ZTP certificates' (ctl_ztpca.c) */
	const char *ca_days, *device_days, *cert, *key, *reg_code, *ztp_ca, *days;
	int all_owners;
	int quarantined;
	int all;
	int derive;
	int psk_ke;
	int derived;
	/* the root of trust's services' (ctl_svc.c) */
	const char *in, *out;
	int hex;
	/* gateways' (ctl_gateway.c) */
	const char *args, *state, *timeout;
	int auto_reonboard;
	/* foreign PKIs' (ctl_pki.c) */
	const char *crl_url, *interval, *ca;
};

/* a noun's command: a row of the table its file hands to ctl_opts_run */
struct ctl_cmd {
	const char *name; /* NULL: the noun is the command */
	uint64_t opts;    /* the OPT_ bits it takes */
	size_t npos;      /* exactly this many positional arguments */
	const char *synopsis; /* for usage errors */
	int (*run)(struct ctl *, const struct ctl_args *);
};

/*
 * A noun: the table of its commands and its lines of ztpctl --help. Its
 * file, ctl_<noun>.c, defines it as ctl_<noun>; ztpctl.c's noun table
 * names it.
 */
struct ctl_noun {
	const struct ctl_cmd *cmds;
	size_t ncmds;
	const char *help;
};

/* how a list prints as a table: head, and cells from the members cols or from cell */
struct ctl_table_spec {
	const char *const *head;
	const char *const *cols;
	size_t ncols;
	void (*cell)(const json_t *item, size_t col, char *out, size_t cap);
};

/* ---- ctl.c: messages, secrets, local files ---- */

void ctl_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ctl_nomem(void);
void ctl_progress_mark(void);
void ctl_progress_end(void);
void ctl_free_secret(char *s);
const char *ctl_san(const char *s, char *out, size_t cap);
int ctl_read_bounded(FILE *f, size_t max, char **out, size_t *outlen);
int ctl_read_pem(const char *path, char **out, size_t *outlen);

/* ---- ctl_check.c: arguments, each a usage error (ZTP_EINVAL) if wrong ---- */

int ctl_check_iccid(const char *s);
int ctl_check_group(const char *s);
int ctl_check_udid(const char *s);
int ctl_check_reason(const char *s);
int ctl_check_limit(const char *s, uint64_t *out);
int ctl_check_list_max(const struct ctl_args *a, uint64_t *max);

/* ---- ctl_opts.c: a command's words and options ---- */

int ctl_opts_takes_value(const char *arg);
int ctl_opts_run(struct ctl *c, const struct ctl_noun *noun, int argc, char **argv);

/* ---- ctl_admin.c: the admin file ---- */

int ctl_admin_load(struct ctl *c);
void ctl_admin_free(struct ctl_admin *a);

/* ---- ctl_http.c: the admin API ---- */

int ctl_http_auth(struct ctl *c);
int ctl_http_call(struct ctl *c, const char *method, const char *path, const json_t *body,
    json_t **out);
int ctl_http_call_status(struct ctl *c, const char *method, const char *path,
    const json_t *body, json_t **out, long *status);
int ctl_http_list(struct ctl *c, const char *path, const char *query, const char *key,
    const char *cursor, uint64_t max, json_t **out);
int ctl_http_post_batch(struct ctl *c, const char *path, const char *body, size_t len,
    json_t **out);
void ctl_http_close(struct ctl *c);

/* ---- ctl_out.c: stdout ---- */

void ctl_out_value(const json_t *v, char *out, size_t cap);
int ctl_out_table(const json_t *arr, const struct ctl_table_spec *t);
int ctl_out_json(const json_t *v);
void ctl_out_object(const json_t *o);
int ctl_out_list(struct ctl *c, const json_t *res, const char *key,
    const struct ctl_table_spec *t);
int ctl_out_show(struct ctl *c, const json_t *o);

/* ---- ctl_req.c: requests that print what comes back ---- */

int ctl_req_get_list(struct ctl *c, const char *path, const char *key,
    const struct ctl_table_spec *t);
int ctl_req_pages(struct ctl *c, const char *path, const char *query, const char *key,
    const char *cursor, uint64_t max, const struct ctl_table_spec *t);
int ctl_req_thing(struct ctl *c, const struct ctl_args *a, int (*check)(const char *),
    const char *method, const char *base, const char *suffix, const char *what,
    const char *done);
int ctl_req_show_tail(struct ctl *c, const char *path, const char *tail, json_t **out);

/* ---- ctl_import.c: sim import, allowlist import ---- */

#define CTL_IMPORT_BATCH 5000                  /* rows per request: the server's maximum */
#define CTL_IMPORT_BODY_MAX (2u * 1024 * 1024) /* the server's limit for an import body */
#define CTL_IMPORT_SKIP 1 /* a line's parser: nothing to import on it */
#define CTL_IMPORT_LINE_MAX ALLOWCSV_LINE_MAX /* longer lines are cut: the parsers refuse them */

struct ctl_import;

/* what differs between the imports; each noun's file has its own */
struct ctl_import_kind {
	const char *endpoint; /* POST one batch here */
	const char *head;     /* the batch's start: its array member */
	size_t row_max;       /* the longest row as JSON, its comma included */
	/*
	 * Parse a line of the file and append its row to the batch (0), or
	 * say there is nothing on it (CTL_IMPORT_SKIP), or refuse it
	 * (ZTP_EMALFORMED, *why a static sentence).
	 */
	int (*line)(struct ctl_import *im, const char *line, size_t len, uint64_t lineno,
	    const char **why);
};

int ctl_import_run(struct ctl *c, const char *path, const struct ctl_import_kind *kind);
int ctl_import_rows_seen(const struct ctl_import *im);
void ctl_import_row_start(struct ctl_import *im);
void ctl_import_field(struct ctl_import *im, const char *name, const char *val, size_t len);
void ctl_import_row_end(struct ctl_import *im, uint64_t line);

/* ---- shared between nouns ---- */

/* ctl_cert.c's table of certificates: device show prints a device's with it */
extern const struct ctl_table_spec ctl_cert_table;

/*
 * ctl_module.c: the device commands of a module (a RoT UID, 32 lower-case
 * hex digits). ctl_module_is_rot says if a device's UID is one;
 * ctl_module_device_show answers ZTP_ENOENT (nothing printed) when the
 * server has no such module, so that device show tries the EST devices.
 */
int ctl_module_is_rot(const char *uid);
int ctl_module_device_show(struct ctl *c, const char *rot);
int ctl_module_device_release(struct ctl *c, const struct ctl_args *a);
int ctl_module_device_transfer(struct ctl *c, const struct ctl_args *a);
int ctl_module_device_features(struct ctl *c, const struct ctl_args *a);

/*
 * ctl_ztpca.c: ZTP certificates. ctl_ztpca_check_name checks a CA's name;
 * ctl_ztpca_profile_link sets the CA of a profile (NULL or "none": none);
 * the commands profile ztp-ca and device ztp-ca.
 */
int ctl_ztpca_check_name(const char *name);
int ctl_ztpca_profile_link(struct ctl *c, const char *uid, const char *name, int quiet);
int ctl_ztpca_profile_cmd(struct ctl *c, const struct ctl_args *a);
int ctl_ztpca_device_cmd(struct ctl *c, const struct ctl_args *a);

#endif
