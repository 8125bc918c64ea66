/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-agent's configuration file (agent_conf.h). One table drives it: a
 * key is one line of conf_keys[], with its kind, bounds, default and help.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agent_conf.h"
#include "num.h"
#include "ztp/csr.h"
#include "ztp/err.h"

enum conf_kind {
	CONF_TEXT, /* a string, checked by the key's check function */
	CONF_PATH, /* a file name, relative to the state directory if not absolute */
	CONF_SECS, /* seconds, min..max */
};

struct conf_key {
	const char *name;
	enum conf_kind kind;
	size_t offset;
	int required;
	int64_t min, max, def; /* CONF_SECS */
	int (*check)(const char *v, char *why, size_t cap);
	const char *help;
};

#define STR(f) offsetof(struct agent_conf, f)

static int
check_udid(const char *v, char *why, size_t cap)
{
	if (!agent_udid_valid(v))
		return ztp_errf(why, cap, ZTP_EINVAL, "1 to 64 of A-Z a-z 0-9 . _ : - expected");
	/*
	 * The agent enrols with a CSR whose serialNumber is the UDID (a
	 * PrintableString: no '_') and sends it as the HTTP Basic user (no ':').
	 */
	if (!csr_udid_valid(v) || strchr(v, ':') != NULL)
		return ztp_errf(why, cap, ZTP_EINVAL, "ztp-agent enrols with this UDID as the HTTP "
		    "Basic user and in its request: no '_' nor ':' in it");
	return 0;
}

static int
check_url(const char *v, char *why, size_t cap)
{
	struct agent_url u;

	if (agent_parse_mqtt_url(v, &u) != 0)
		return ztp_errf(why, cap, ZTP_EINVAL, "mqtts://HOST:PORT expected");
	return 0;
}

/* printable text, no control characters, 1..max */
static int
printable(const char *v, size_t min, size_t max)
{
	size_t n = strlen(v), i;

	if (n < min || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return 0;
	return 1;
}

static int
check_batch(const char *v, char *why, size_t cap)
{
	if (!printable(v, 1, AGENT_BATCH_MAX))
		return ztp_errf(why, cap, ZTP_EINVAL, "1 to %d printable characters expected",
		    AGENT_BATCH_MAX);
	return 0;
}

/* a secret: 1..128 printable ASCII (what the request's password may be) */
static int
check_secret(const char *v, char *why, size_t cap)
{
	size_t i, n = strlen(v);

	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			n = 0;
	if (n == 0 || n > AGENT_SECRET_MAX)
		return ztp_errf(why, cap, ZTP_EINVAL, "1 to %d printable ASCII characters expected",
		    AGENT_SECRET_MAX);
	return 0;
}

static int
check_firmware(const char *v, char *why, size_t cap)
{
	size_t i, n = strlen(v);

	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			n = AGENT_FIRMWARE_MAX + 1;
	if (n > AGENT_FIRMWARE_MAX)
		return ztp_errf(why, cap, ZTP_EINVAL, "0 to %d printable ASCII characters expected",
		    AGENT_FIRMWARE_MAX);
	return 0;
}

/* a topic prefix: 1..64 of A-Z a-z 0-9 _ . - /, no empty level, no wildcard */
static int
check_prefix(const char *v, char *why, size_t cap)
{
	size_t n = strlen(v);

	if (n == 0 || n > AGENT_PREFIX_MAX || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_.-/") != n || v[0] == '/' || v[n - 1] == '/' ||
	    strstr(v, "//") != NULL || v[0] == '$')
		return ztp_errf(why, cap, ZTP_EINVAL, "1 to %d of A-Z a-z 0-9 _ . - and '/' between "
		    "levels expected", AGENT_PREFIX_MAX);
	return 0;
}

static const struct conf_key conf_keys[] = {
	{ "udid", CONF_TEXT, STR(udid), 1, 0, 0, 0, check_udid,
	    "the gateway's UDID, the subject CN of its LDevID" },
	{ "prov_url", CONF_TEXT, STR(prov_url), 1, 0, 0, 0, check_url,
	    "the provisioning listener, mqtts://HOST:PORT" },
	{ "prov_ca", CONF_PATH, STR(prov_ca), 1, 0, 0, 0, NULL,
	    "PEM file: the CA certificate(s) that authenticate the provisioning broker" },
	{ "batch", CONF_TEXT, STR(batch), 1, 0, 0, 0, check_batch,
	    "the batch name (ztpctl gateway-batch create)" },
	{ "batch_password_file", CONF_PATH, STR(batch_password_file), 0, 0, 0, 0, NULL,
	    "file whose first line is the batch password (mode 0600); or:" },
	{ "batch_password", CONF_TEXT, STR(batch_password), 0, 0, 0, 0, check_secret,
	    "the batch password itself, as ztpctl gateway-batch create prints it (then the "
	    "configuration file should be 0600)" },
	{ "ldevid_cert", CONF_PATH, STR(ldevid_cert), 1, 0, 0, 0, NULL,
	    "PEM file: the LDevID, then its intermediate CAs if any" },
	{ "ldevid_key", CONF_PATH, STR(ldevid_key), 1, 0, 0, 0, NULL,
	    "PEM file: the LDevID's private key (unencrypted)" },
	{ "idevid_cert", CONF_PATH, STR(idevid_cert), 1, 0, 0, 0, NULL,
	    "PEM file: the IDevID, then its intermediate CAs if any" },
	{ "idevid_key", CONF_PATH, STR(idevid_key), 1, 0, 0, 0, NULL,
	    "PEM file: the IDevID's private key (EC or RSA, unencrypted)" },
	{ "firmware", CONF_TEXT, STR(firmware), 0, 0, 0, 0, check_firmware,
	    "the firmware version reported in the request and the status (optional)" },
	{ "prefix", CONF_TEXT, STR(prefix), 0, 0, 0, 0, check_prefix,
	    "the topic prefix (default ztp)" },
	{ "retry_s", CONF_SECS, offsetof(struct agent_conf, retry_s), 0, 1, AGENT_RETRY_MAX,
	    AGENT_RETRY_DEFAULT, NULL,
	    "seconds before the request is repeated, doubling up to 300 (default 30)" },
	{ "renew_before_s", CONF_SECS, offsetof(struct agent_conf, renew_before_s), 0, 0,
	    INT64_C(3153600000), -1, NULL,
	    "renew the certificate when less than this is left (default: a third of its "
	    "lifetime)" },
};
#define CONF_NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

void
agent_conf_free(struct agent_conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->batch_password != NULL)
		OPENSSL_cleanse(c->batch_password, strlen(c->batch_password));
	for (i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].kind != CONF_SECS)
			free(*(char **)((char *)c + conf_keys[i].offset));
	memset(c, 0, sizeof(*c));
}

void
agent_conf_help(void (*line)(void *arg, const char *text), void *arg)
{
	char text[512], buf[128];
	const char *p, *cut;
	size_t i, room;
	int first;

	for (i = 0; i < CONF_NKEYS; i++) {
		snprintf(text, sizeof(text), "%s%s", conf_keys[i].help,
		    conf_keys[i].required ? " (required)" : "");
		/* 80 columns: the help wrapped after the key's column */
		for (p = text, first = 1; *p != '\0'; first = 0) {
			room = 80 - 23;
			cut = p + strlen(p);
			if (strlen(p) > room) {
				for (cut = p + room; cut > p && *cut != ' '; cut--)
					;
				if (cut == p)
					cut = p + room;
			}
			snprintf(buf, sizeof(buf), "  %-20s %.*s", first ? conf_keys[i].name : "",
			    (int)(cut - p), p);
			line(arg, buf);
			for (p = cut; *p == ' '; p++)
				;
		}
	}
}

/* A key's value into *c; dir for relative paths. */
static int
conf_set(const struct conf_key *k, const char *v, const char *dir, struct agent_conf *c,
    char *why, size_t cap)
{
	char **slot = (char **)((char *)c + k->offset);
	uint64_t n;
	size_t len;
	int rc;

	switch (k->kind) {
	case CONF_TEXT:
		if (k->check != NULL && (rc = k->check(v, why, cap)) != 0)
			return rc;
		if ((*slot = strdup(v)) == NULL)
			return ztp_errf(why, cap, ZTP_ENOMEM, "out of memory");
		return 0;
	case CONF_PATH:
		if (v[0] == '\0' || strlen(v) > 1024)
			return ztp_errf(why, cap, ZTP_EINVAL, "a file name expected");
		if (v[0] == '/' || dir == NULL) {
			*slot = strdup(v);
		} else {
			len = strlen(dir) + 1 + strlen(v) + 1;
			if ((*slot = malloc(len)) != NULL)
				snprintf(*slot, len, "%s/%s", dir, v);
		}
		return *slot == NULL ? ztp_errf(why, cap, ZTP_ENOMEM, "out of memory") : 0;
	case CONF_SECS:
		if (num_parse_u64z(v, (uint64_t)k->min, (uint64_t)k->max, &n) != 0)
			return ztp_errf(why, cap, ZTP_EINVAL, "seconds from %lld to %lld expected",
			    (long long)k->min, (long long)k->max);
		*(int64_t *)((char *)c + k->offset) = (int64_t)n;
		return 0;
	}
	return ztp_errf(why, cap, ZTP_EINVAL, "unknown kind");
}

static int
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

int
agent_conf_parse(const char *text, size_t len, const char *dir, struct agent_conf *c,
    char *why, size_t whycap)
{
	char line[AGENT_CONF_LINE_MAX + 1], err[160];
	unsigned char seen[CONF_NKEYS];
	size_t pos = 0, n, i, lineno = 0;
	char *key, *val, *eq, *end;
	int rc;

	memset(c, 0, sizeof(*c));
	memset(seen, 0, sizeof(seen));
	if (len > AGENT_CONF_MAX)
		return ztp_errf(why, whycap, ZTP_ETOOBIG, "over %d bytes", AGENT_CONF_MAX);
	if (memchr(text, '\0', len) != NULL)
		return ztp_errf(why, whycap, ZTP_EMALFORMED, "a NUL byte in the file");
	while (pos < len) {
		lineno++;
		n = 0;
		while (pos + n < len && text[pos + n] != '\n')
			n++;
		if (n > AGENT_CONF_LINE_MAX) {
			rc = ztp_errf(why, whycap, ZTP_ETOOBIG, "line %zu: over %d bytes", lineno,
			    AGENT_CONF_LINE_MAX);
			goto fail;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		for (key = line; is_space(*key); key++)
			;
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			rc = ztp_errf(why, whycap, ZTP_EMALFORMED, "line %zu: key = value expected",
			    lineno);
			goto fail;
		}
		for (end = eq; end > key && is_space(end[-1]); end--)
			;
		*end = '\0';
		for (val = eq + 1; is_space(*val); val++)
			;
		for (end = val + strlen(val); end > val && is_space(end[-1]); end--)
			;
		*end = '\0';
		for (i = 0; i < CONF_NKEYS; i++)
			if (strcmp(conf_keys[i].name, key) == 0)
				break;
		if (i == CONF_NKEYS) {
			char shown[40];
			snprintf(shown, sizeof(shown), "%.32s", key);
			for (n = 0; shown[n] != '\0'; n++)
				if ((unsigned char)shown[n] < 0x20 || (unsigned char)shown[n] > 0x7e)
					shown[n] = '?';
			rc = ztp_errf(why, whycap, ZTP_EINVAL, "line %zu: unknown key '%s'", lineno,
			    shown);
			goto fail;
		}
		if (seen[i]) {
			rc = ztp_errf(why, whycap, ZTP_EINVAL, "line %zu: %s given twice", lineno,
			    conf_keys[i].name);
			goto fail;
		}
		seen[i] = 1;
		if ((rc = conf_set(&conf_keys[i], val, dir, c, err, sizeof(err))) != 0) {
			ztp_errf(why, whycap, rc, "line %zu: %s: %s", lineno, conf_keys[i].name, err);
			goto fail;
		}
	}
	for (i = 0; i < CONF_NKEYS; i++) {
		if (seen[i])
			continue;
		if (conf_keys[i].required) {
			rc = ztp_errf(why, whycap, ZTP_EINVAL, "%s is required", conf_keys[i].name);
			goto fail;
		}
		if (conf_keys[i].kind == CONF_SECS)
			*(int64_t *)((char *)c + conf_keys[i].offset) = conf_keys[i].def;
	}
	if ((c->batch_password == NULL) == (c->batch_password_file == NULL)) {
		rc = ztp_errf(why, whycap, ZTP_EINVAL, "give one of batch_password_file and "
		    "batch_password");
		goto fail;
	}
	if (c->prefix == NULL && (c->prefix = strdup("ztp")) == NULL) {
		rc = ztp_errf(why, whycap, ZTP_ENOMEM, "out of memory");
		goto fail;
	}
	agent_parse_mqtt_url(c->prov_url, &c->prov);
	return 0;
fail:
	agent_conf_free(c);
	return rc;
}

int
agent_conf_load(const char *path, const char *dir, struct agent_conf *c, char *why,
    size_t whycap)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc;

	memset(c, 0, sizeof(*c));
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
		return ztp_errf(why, whycap, errno == ENOENT ? ZTP_ENOENT : ZTP_EIO, "%s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ztp_errf(why, whycap, ZTP_EIO, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > AGENT_CONF_MAX) {
		rc = ztp_errf(why, whycap, ZTP_ETOOBIG, "%s: over %d bytes", path, AGENT_CONF_MAX);
		goto out;
	}
	if ((buf = malloc(AGENT_CONF_MAX + 1)) == NULL) {
		rc = ztp_errf(why, whycap, ZTP_ENOMEM, "out of memory");
		goto out;
	}
	while (got <= AGENT_CONF_MAX) {
		n = read(fd, buf + got, AGENT_CONF_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ztp_errf(why, whycap, ZTP_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	rc = agent_conf_parse(buf, got, dir, c, why, whycap);
out:
	free(buf);
	close(fd);
	return rc;
}
