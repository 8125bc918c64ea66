/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-agent's configuration file (docs/gateways-agent.md): lines
 * "key = value", '#' comments and blank lines, one table of keys
 * (agent_conf.c) that drives the parser, the checks and the defaults.
 * Relative paths are taken relative to the state directory. A file of at
 * most AGENT_CONF_MAX bytes, lines of at most AGENT_CONF_LINE_MAX; an
 * unknown key, a key given twice, a missing required key or a value out
 * of its bounds is an error that names the line.
 */
#ifndef ZTP_AGENT_CONF_H
#define ZTP_AGENT_CONF_H
#include <stddef.h>
#include <stdint.h>

#include "agent_msg.h"

#define AGENT_CONF_MAX (64 * 1024)
#define AGENT_CONF_LINE_MAX 4096
#define AGENT_PREFIX_MAX 64
#define AGENT_RETRY_DEFAULT 30 /* s: the request is repeated after it, doubling */
#define AGENT_RETRY_MAX 300    /* s: up to this */

struct agent_conf {
	/* malloc'd, NUL-terminated; paths made absolute or relative to the cwd */
	char *udid, *prov_url, *prov_ca, *batch, *batch_password_file;
	char *batch_password; /* or the password itself (wiped when freed); one of the two */
	char *ldevid_cert, *ldevid_key, *idevid_cert, *idevid_key;
	char *firmware; /* NULL if not set */
	char *prefix;   /* the topic prefix P, default "ztp" */
	int64_t retry_s;        /* 1..AGENT_RETRY_MAX, default AGENT_RETRY_DEFAULT */
	int64_t renew_before_s; /* -1 (default): when a third of the lifetime is left */
	struct agent_url prov;  /* prov_url parsed */
};

/*
 * Parse text[len] (the file's bytes) into *c with paths relative to dir.
 * Returns 0; ZTP_EMALFORMED, ZTP_ETOOBIG, ZTP_EINVAL with why ("line N:
 * ..."); ZTP_ENOMEM. On failure *c holds nothing.
 */
int agent_conf_parse(const char *text, size_t len, const char *dir, struct agent_conf *c,
    char *why, size_t whycap);

/* Read the file path (a regular file) and parse it. Also ZTP_ENOENT, ZTP_EIO. */
int agent_conf_load(const char *path, const char *dir, struct agent_conf *c, char *why,
    size_t whycap);

void agent_conf_free(struct agent_conf *c);

/* The keys, one per line with their help, for --help. */
void agent_conf_help(void (*line)(void *arg, const char *text), void *arg);

#endif
