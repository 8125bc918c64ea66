/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SIM state file: strict JSON in, atomic durable JSON out.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "atomicfile.h"
#include "hex.h"
#include "log.h"
#include "num.h"
#include "simfile.h"
#include "ztp/err.h"

#define SIMFILE_MAX (64 * 1024)

static const char *const known_fields[] = { "iccid", "host", "port", "path", "identity", "psk",
	"psk_generation", "device_id", "locked", "max_attempts", "retry_base_ms", "retry_max_ms",
	"pending_psk", "pending_generation", NULL };

static int
known(const char *key)
{
	int i;

	for (i = 0; known_fields[i] != NULL; i++)
		if (!strcmp(key, known_fields[i]))
			return 1;
	return 0;
}

/* 1 if every byte is printable ASCII other than space (as the applet's D1/D3). */
static int
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* The string field key, or NULL if absent; ZTP_EMALFORMED if not a string. */
static int
get_str(json_t *root, const char *key, const char **out, char *err, size_t errcap)
{
	json_t *v = json_object_get(root, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return ztp_errf(err, errcap, ZTP_EMALFORMED, "%s: must be a string", key);
	*out = json_string_value(v);
	return 0;
}

/* The integer field key in [min, max] into *out; absent leaves *out alone. */
static int
get_u32(json_t *root, const char *key, uint32_t min, uint32_t max, uint32_t *out, char *err,
    size_t errcap)
{
	json_t *v = json_object_get(root, key);
	json_int_t n;

	if (v == NULL)
		return 0;
	if (!json_is_integer(v))
		return ztp_errf(err, errcap, ZTP_EMALFORMED, "%s: must be an integer", key);
	n = json_integer_value(v);
	if (n < (json_int_t)min || n > (json_int_t)max)
		return ztp_errf(err, errcap, ZTP_ERANGE, "%s: must be from %lu to %lu", key,
		    (unsigned long)min, (unsigned long)max);
	*out = (uint32_t)n;
	return 0;
}

/*
 * The hex string field key, min..max bytes, into out. Absent: *present = 0.
 * The message does not quote the value (it may be the PSK).
 */
static int
get_hex(json_t *root, const char *key, size_t min, size_t max, uint8_t *out, size_t *outlen,
    int *present, char *err, size_t errcap)
{
	const char *s;
	size_t slen;
	int rc;

	*present = 0;
	if ((rc = get_str(root, key, &s, err, errcap)) != 0 || s == NULL)
		return rc;
	slen = strlen(s);
	if (slen % 2 != 0 || (slen > 0 && !hex_valid(s, slen)))
		return ztp_errf(err, errcap, ZTP_EMALFORMED, "%s: must be hex digits, in pairs", key);
	if (slen / 2 < min || slen / 2 > max)
		return ztp_errf(err, errcap, ZTP_ERANGE, "%s: must be %zu to %zu bytes, not %zu", key,
		    min, max, slen / 2);
	if (slen > 0 && hex_decode(s, slen, out, max, outlen) != 0)
		return ztp_errf(err, errcap, ZTP_EMALFORMED, "%s: must be hex digits, in pairs", key);
	if (slen == 0)
		*outlen = 0;
	*present = 1;
	return 0;
}

/* Copy jansson's message without its "near '<text>'" part, which may quote the PSK. */
static int
json_fail(const json_error_t *je, char *err, size_t errcap)
{
	char text[JSON_ERROR_TEXT_LENGTH];
	char *near;

	snprintf(text, sizeof(text), "%s", je->text);
	if ((near = strstr(text, " near ")) != NULL)
		*near = '\0';
	return ztp_errf(err, errcap, ZTP_EMALFORMED, "not valid JSON (line %d, column %d): %s",
	    je->line, je->column, text);
}

int
simfile_parse(const char *text, size_t len, struct safe2_persist *p, json_t **extra, char *err,
    size_t errcap)
{
	json_error_t je;
	json_t *root = NULL, *ex = NULL, *v;
	const char *s, *key;
	uint32_t port;
	uint8_t ef[ICCID_EF_LEN];
	int rc, present;

	*extra = NULL;
	safe2_persist_defaults(p);
	p->locked = 1;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		rc = json_fail(&je, err, errcap);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = ztp_errf(err, errcap, ZTP_EMALFORMED, "not a JSON object");
		goto out;
	}

	if ((rc = get_str(root, "iccid", &s, err, errcap)) != 0)
		goto out;
	if (s == NULL) {
		rc = ztp_errf(err, errcap, ZTP_EMALFORMED, "iccid: missing");
		goto out;
	}
	if (!iccid_valid(s, strlen(s)) || iccid_to_ef(s, ef) != 0) {
		rc = ztp_errf(err, errcap, ZTP_EMALFORMED, "iccid: must be 18 to 20 decimal digits");
		goto out;
	}
	snprintf(p->iccid, sizeof(p->iccid), "%s", s);

	if ((rc = get_str(root, "host", &s, err, errcap)) != 0)
		goto out;
	if (s != NULL) {
		if (s[0] == '\0' || strlen(s) > SAFE2_HOST_MAX || !printable(s)) {
			rc = ztp_errf(err, errcap, ZTP_EMALFORMED,
			    "host: must be 1 to %d printable characters, no spaces", SAFE2_HOST_MAX);
			goto out;
		}
		snprintf(p->host, sizeof(p->host), "%s", s);
	}

	port = p->port;
	if ((rc = get_u32(root, "port", 1, 65535, &port, err, errcap)) != 0)
		goto out;
	p->port = (uint16_t)port;

	if ((rc = get_str(root, "path", &s, err, errcap)) != 0)
		goto out;
	if (s != NULL) {
		if (s[0] != '/' || strlen(s) > SAFE2_PATH_MAX || !printable(s)) {
			rc = ztp_errf(err, errcap, ZTP_EMALFORMED,
			    "path: must start with '/', at most %d printable characters, no spaces",
			    SAFE2_PATH_MAX);
			goto out;
		}
		snprintf(p->path, sizeof(p->path), "%s", s);
	}

	if ((rc = get_hex(root, "identity", 1, SAFE2_IDENTITY_MAX, p->identity, &p->identity_len,
	    &present, err, errcap)) != 0)
		goto out;
	if (!present) {
		memcpy(p->identity, ef, sizeof(ef));
		p->identity_len = sizeof(ef);
	}

	if ((v = json_object_get(root, "locked")) != NULL) {
		if (!json_is_boolean(v)) {
			rc = ztp_errf(err, errcap, ZTP_EMALFORMED, "locked: must be true or false");
			goto out;
		}
		p->locked = json_is_true(v);
	}

	if ((rc = get_hex(root, "psk", SAFE2_PSK_MIN, SAFE2_PSK_MAX, p->psk, &p->psk_len, &present,
	    err, errcap)) != 0)
		goto out;
	if (!present && p->locked) {
		rc = ztp_errf(err, errcap, ZTP_EMALFORMED, "psk: missing (required unless \"locked\" is false)");
		goto out;
	}

	if ((rc = get_u32(root, "psk_generation", 0, UINT32_MAX, &p->psk_generation, err,
	    errcap)) != 0)
		goto out;

	if ((rc = get_hex(root, "device_id", 0, SAFE2_DEVID_MAX, p->device_id, &p->device_id_len,
	    &present, err, errcap)) != 0)
		goto out;

	/* a rotation in progress: the next key and its generation, both or neither */
	if ((rc = get_hex(root, "pending_psk", SAFE2_PSK_MIN, SAFE2_PSK_MAX, p->pending_psk,
	    &p->pending_len, &present, err, errcap)) != 0 ||
	    (rc = get_u32(root, "pending_generation", 0, UINT32_MAX, &p->pending_generation, err,
	    errcap)) != 0)
		goto out;
	if ((p->pending_len > 0) != (p->pending_generation > 0) ||
	    (p->pending_len > 0 && p->pending_generation != p->psk_generation + 1)) {
		rc = ztp_errf(err, errcap, ZTP_EMALFORMED,
		    "pending_psk and pending_generation (psk_generation + 1) go together");
		goto out;
	}

	if ((rc = get_u32(root, "max_attempts", 0, UINT32_MAX, &p->max_attempts, err, errcap)) != 0 ||
	    (rc = get_u32(root, "retry_base_ms", 1, UINT32_MAX, &p->retry_base_ms, err, errcap)) != 0 ||
	    (rc = get_u32(root, "retry_max_ms", 1, UINT32_MAX, &p->retry_max_ms, err, errcap)) != 0)
		goto out;
	if (p->retry_max_ms < p->retry_base_ms) {
		rc = ztp_errf(err, errcap, ZTP_ERANGE, "retry_max_ms: must be at least retry_base_ms (%lu)",
		    (unsigned long)p->retry_base_ms);
		goto out;
	}

	if ((ex = json_object()) == NULL) {
		rc = ztp_errf(err, errcap, ZTP_ENOMEM, "out of memory");
		goto out;
	}
	json_object_foreach(root, key, v) {
		char safe[80];
		if (known(key))
			continue;
		log_sanitize(key, strlen(key), safe, sizeof(safe));
		log_warnx("SIM file: unknown field \"%s\" ignored (kept in the file)", safe);
		if (json_object_set(ex, key, v) != 0) {
			rc = ztp_errf(err, errcap, ZTP_ENOMEM, "out of memory");
			goto out;
		}
	}
	*extra = ex;
	ex = NULL;
	rc = 0;
out:
	json_decref(ex);
	json_decref(root);
	if (rc != 0)
		OPENSSL_cleanse(p->psk, sizeof(p->psk));
	return rc;
}

int
simfile_load(struct simfile *sf, const char *path, struct safe2_persist *p, char *err,
    size_t errcap)
{
	char *buf = NULL, msg[256];
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd = -1, rc;

	memset(sf, 0, sizeof(*sf));
	if (atomicfile_clean(path) > 0) /* they may hold a PSK */
		log_info("%s: removed temporary files left by a save that was cut short", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = ztp_errf(err, errcap, ZTP_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > SIMFILE_MAX) {
		rc = ztp_errf(err, errcap, ZTP_EIO, "%s: not a regular file of at most %d bytes", path,
		    SIMFILE_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = ztp_errf(err, errcap, ZTP_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = ztp_errf(err, errcap, ZTP_EIO, "%s: %s", path,
			    n < 0 ? strerror(errno) : "file shrank while reading");
			goto out;
		}
		got += (size_t)n;
	}
	if ((rc = simfile_parse(buf, got, p, &sf->extra, msg, sizeof(msg))) != 0) {
		ztp_errf(err, errcap, rc, "%s: %s", path, msg);
		goto out;
	}
	if ((sf->path = strdup(path)) == NULL) {
		rc = ztp_errf(err, errcap, ZTP_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, got);
		free(buf);
	}
	if (rc != 0)
		simfile_free(sf);
	return rc;
}

/* Set key to a hex string of b[0..n); 0 or -1. */
static int
set_hex(json_t *o, const char *key, const uint8_t *b, size_t n)
{
	char hex[2 * SAFE2_PSK_MAX + 1];
	int rc;

	if (hex_encode(b, n, hex, sizeof(hex)) != 0)
		return -1;
	rc = json_object_set_new(o, key, json_string(hex));
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

char *
simfile_dump(const struct safe2_persist *p, const json_t *extra)
{
	uint8_t ef[ICCID_EF_LEN];
	json_t *o = NULL;
	char *text = NULL, *out = NULL;
	size_t n;
	int bad = 0;

	if ((o = json_object()) == NULL)
		goto done;
	bad |= json_object_set_new(o, "iccid", json_string(p->iccid));
	bad |= json_object_set_new(o, "host", json_string(p->host));
	bad |= json_object_set_new(o, "port", json_integer(p->port));
	bad |= json_object_set_new(o, "path", json_string(p->path));
	/* the identity only when it is not the default, so a changed ICCID carries it along */
	if (!(iccid_to_ef(p->iccid, ef) == 0 && p->identity_len == sizeof(ef) &&
	    memcmp(p->identity, ef, sizeof(ef)) == 0))
		bad |= set_hex(o, "identity", p->identity, p->identity_len);
	if (p->psk_len > 0)
		bad |= set_hex(o, "psk", p->psk, p->psk_len);
	bad |= json_object_set_new(o, "psk_generation", json_integer(p->psk_generation));
	if (p->device_id_len > 0)
		bad |= set_hex(o, "device_id", p->device_id, p->device_id_len);
	if (p->pending_len > 0) {
		bad |= set_hex(o, "pending_psk", p->pending_psk, p->pending_len);
		bad |= json_object_set_new(o, "pending_generation",
		    json_integer(p->pending_generation));
	}
	bad |= json_object_set_new(o, "locked", json_boolean(p->locked));
	bad |= json_object_set_new(o, "max_attempts", json_integer(p->max_attempts));
	bad |= json_object_set_new(o, "retry_base_ms", json_integer(p->retry_base_ms));
	bad |= json_object_set_new(o, "retry_max_ms", json_integer(p->retry_max_ms));
	if (extra != NULL)
		bad |= json_object_update_missing(o, (json_t *)extra);
	if (bad)
		goto done;
	if ((text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL)
		goto done;
	n = strlen(text);
	if ((out = malloc(n + 2)) == NULL)
		goto done;
	memcpy(out, text, n);
	out[n] = '\n';
	out[n + 1] = '\0';
done:
	if (text != NULL) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	json_decref(o);
	return out;
}


int
simfile_save(const struct simfile *sf, const struct safe2_persist *p, char *err, size_t errcap)
{
	char *text;
	size_t tlen;
	int rc;

	if (sf == NULL || sf->path == NULL)
		return ztp_errf(err, errcap, ZTP_EINVAL, "no SIM file");
	if ((text = simfile_dump(p, sf->extra)) == NULL)
		return ztp_errf(err, errcap, ZTP_ENOMEM, "%s: cannot encode the SIM state", sf->path);
	tlen = strlen(text);
	/* it holds the PSK: owner only */
	rc = atomicfile_write(sf->path, text, tlen, 0600, err, errcap);
	OPENSSL_cleanse(text, tlen);
	free(text);
	return rc;
}

/*
 * Why a lock file rather than the SIM file itself: every save replaces the
 * SIM file by rename(2), so a lock on its inode would guard a file that is
 * no longer the one at path, and a second process opening path after a
 * save would lock the new inode unhindered. "<path>.lock" is never
 * replaced, and never removed either: unlinking it at exit would let a
 * third process create and lock a new one while a second still holds the
 * old. flock(2) locks go with the open file, so a process that dies, even
 * by SIGKILL, releases its lock; a stale pid in the file means nothing.
 * (Another name for the same file, through a symlink as the last path
 * component, is another lock: name the SIM file one way.)
 */
int
simfile_lock(const char *path, char *err, size_t errcap)
{
	char lockpath[PATH_MAX], buf[32];
	uint64_t pid;
	ssize_t n;
	size_t len;
	int fd, e;

	if ((size_t)snprintf(lockpath, sizeof(lockpath), "%s.lock", path) >= sizeof(lockpath))
		return ztp_errf(err, errcap, ZTP_EIO, "%s: path too long", path);
	if ((fd = open(lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return ztp_errf(err, errcap, ZTP_EIO, "%s: %s", lockpath, strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		e = errno;
		if (e == EINTR)
			continue;
		if (e != EWOULDBLOCK) {
			close(fd);
			return ztp_errf(err, errcap, ZTP_EIO, "%s: cannot lock: %s", lockpath,
			    strerror(e));
		}
		/* the holder's pid, if it wrote one: "<digits>\n" */
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		close(fd);
		len = n > 0 ? (size_t)n : 0;
		if (len > 0 && buf[len - 1] == '\n')
			len--;
		if (len > 0 && num_parse_u64(buf, len, 1, INT32_MAX, &pid) == 0)
			return ztp_errf(err, errcap, ZTP_EBUSY,
			    "%s is in use by another ztp-sim (pid %llu holds %s); "
			    "one modem per SIM file", path, (unsigned long long)pid, lockpath);
		return ztp_errf(err, errcap, ZTP_EBUSY,
		    "%s is in use by another process (it holds %s); one modem per SIM file", path,
		    lockpath);
	}
	/* ours: our pid, for the message of whoever comes next */
	len = (size_t)snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, len, 0) != (ssize_t)len)
		log_warn("%s: cannot write our pid", lockpath);
	return fd;
}

void
simfile_free(struct simfile *sf)
{
	if (sf == NULL)
		return;
	free(sf->path);
	json_decref(sf->extra);
	sf->path = NULL;
	sf->extra = NULL;
}
