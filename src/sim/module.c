/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-sim's module (module.h): the root of trust's state file, its lock,
 * the network thread and the AT commands' side.
 *
 * Two locks: mu guards the root of trust and its file (every change is
 * written under it, so the file always holds the state last used), and
 * contact_mu makes contacts one at a time (the thread's and
 * AT+USECCONN's). Nobody waits for contact_mu while holding mu.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "atomicfile.h"
#include "clock.h"
#include "fault.h"
#include "hex.h"
#include "log.h"
#include "modmsg.h"
#include "module.h"
#include "simfile.h"
#include "ztp/err.h"
#include "ztp/modclient.h"
#include "ztp/crypto_ossl.h"
#include "ztp/rot.h"
#include "ztp/rotsvc.h"

/* the root of trust's image, then the sections: refuse anything larger */
#define SEC_MAGIC "ZSEC"
#define SEC_HEAD 3 /* tag u8, length u16 big-endian */
#define MODULE_FILE_MAX (ZTP_ROT_STATE_LEN + 5 + (MODULE_SEC__MAX - 1) * (SEC_HEAD + MODULE_SECTION_MAX))
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define REFUSED_WAIT_MS 60000 /* after a 403: quarantined or cloned, nothing to hurry */
#define WAIT_MAX_S 3600       /* re-evaluate the schedule at least this often */

struct module {
	char path[PATH_MAX];
	int lock_fd;
	pthread_mutex_t mu; /* rot, the file, saves, stop, kick, retry_at_ms */
	pthread_mutex_t contact_mu;
	pthread_cond_t cv;
	struct ztp_rot rot;
	/* the other sections of the file (module_section_get/put), index = tag */
	uint8_t sec[MODULE_SEC__MAX][MODULE_SECTION_MAX];
	size_t sec_len[MODULE_SEC__MAX];
	struct modclient *client;
	pthread_t thread;
	int thread_started;
	int stop;
	int kick;
	unsigned saves;
	int64_t retry_at_ms; /* monotonic; 0: none */
	uint32_t backoff_ms;
};

/* ---- the state file */

/*
 * Write data to path whole or not at all (atomicfile.c), its fault points
 * numbered by n: module_save_<n>_before_rename and module_save_<n>_after,
 * so that the test build cuts the power at any write.
 */
static int
save_file(const char *path, const uint8_t *data, size_t len, unsigned n, char *err, size_t cap)
{
	char points[32];

	snprintf(points, sizeof(points), "module_save_%u", n);
	return atomicfile_write_points(path, data, len, 0600, points, err, cap);
}

/*
 * The file: r's image (its length in its header), then, when any section
 * is present, "ZSEC", their count, and each as tag u8, length u16
 * big-endian, bytes; in tag order, each at most once, none empty.
 */
static int
image(const struct module *m, const struct ztp_rot *r, uint8_t *img, size_t cap, size_t *len)
{
	size_t n = 0, count = 0, t;

	if (ztp_rot_save(r, img, cap, &n) != 0)
		return -1;
	for (t = 1; t < MODULE_SEC__MAX; t++)
		count += m->sec_len[t] > 0;
	if (count == 0) {
		*len = n;
		return 0;
	}
	memcpy(img + n, SEC_MAGIC, 4);
	img[n + 4] = (uint8_t)count;
	n += 5;
	for (t = 1; t < MODULE_SEC__MAX; t++) {
		if (m->sec_len[t] == 0)
			continue;
		img[n] = (uint8_t)t;
		img[n + 1] = (uint8_t)(m->sec_len[t] >> 8);
		img[n + 2] = (uint8_t)m->sec_len[t];
		memcpy(img + n + SEC_HEAD, m->sec[t], m->sec_len[t]);
		n += SEC_HEAD + m->sec_len[t];
	}
	*len = n;
	return 0;
}

/* Write r and the sections to the file (m->mu held). 0 or -1, logged. */
static int
save(struct module *m, const struct ztp_rot *r)
{
	static uint8_t img[MODULE_FILE_MAX]; /* under m->mu; one module per process */
	char err[PATH_MAX + 64];
	size_t len;
	int rc;

	if (image(m, r, img, sizeof(img), &len) != 0)
		return -1;
	rc = save_file(m->path, img, len, ++m->saves, err, sizeof(err));
	OPENSSL_cleanse(img, len);
	if (rc != 0) {
		log_warnx("module: cannot write the state: %s", err);
		return -1;
	}
	log_debug("module: state saved (epoch %u%s)", r->epoch, r->pending ? ", a key pending" : "");
	return 0;
}

/* Parse the sections of the file, b[0..len) after the image, into m. */
static int
load_sections(struct module *m, const uint8_t *b, size_t len, char *err, size_t cap)
{
	size_t count, i, t, n, off = 5, last = 0;

	if (len == 0)
		return 0;
	if (len < 5 || memcmp(b, SEC_MAGIC, 4) != 0)
		return ztp_errf(err, cap, ZTP_EMALFORMED, "bytes after the state that are not sections");
	count = b[4];
	for (i = 0; i < count; i++) {
		if (len - off < SEC_HEAD)
			return ztp_errf(err, cap, ZTP_EMALFORMED, "section %zu truncated", i + 1);
		t = b[off];
		n = ((size_t)b[off + 1] << 8) | b[off + 2];
		if (t <= last || t >= MODULE_SEC__MAX)
			return ztp_errf(err, cap, ZTP_EMALFORMED, "section tag %zu unknown or out of order", t);
		if (n == 0 || n > MODULE_SECTION_MAX || len - off - SEC_HEAD < n)
			return ztp_errf(err, cap, ZTP_EMALFORMED, "section %zu: bad length %zu", t, n);
		memcpy(m->sec[t], b + off + SEC_HEAD, n);
		m->sec_len[t] = n;
		off += SEC_HEAD + n;
		last = t;
	}
	if (off != len)
		return ztp_errf(err, cap, ZTP_EMALFORMED, "%zu bytes after the last section", len - off);
	return 0;
}

/* The image's length from its header (bytes 6..7), at most len. */
static size_t
image_len(const uint8_t *b, size_t len)
{
	size_t n;

	if (len < 8)
		return len;
	n = ((size_t)b[6] << 8) | b[7];
	return n < len ? n : len;
}

/* Read path (at most MODULE_FILE_MAX bytes) and parse it into r and m's sections. */
static int
load_file(const char *path, struct module *m, struct ztp_rot *r, char *err, size_t cap)
{
	static uint8_t buf[MODULE_FILE_MAX + 1];
	size_t ilen;
	size_t len = 0;
	ssize_t n;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return ztp_errf(err, cap, ZTP_EIO, "%s: %s", path, strerror(errno));
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ztp_errf(err, cap, ZTP_EIO, "%s: %s", path, strerror(errno));
			close(fd);
			OPENSSL_cleanse(buf, sizeof(buf));
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	ilen = image_len(buf, len);
	if (len > MODULE_FILE_MAX)
		rc = ztp_errf(err, cap, ZTP_EMALFORMED, "%s: not a module state file (too long)",
		    path);
	else if ((rc = ztp_rot_load(r, buf, ilen, err, cap)) != 0 ||
	    (rc = load_sections(m, buf + ilen, len - ilen, err, cap)) != 0) {
		char why[160];
		snprintf(why, sizeof(why), "%s", err);
		ztp_errf(err, cap, rc, "%s: %s", path, why);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

int
module_create(const char *path, const char *uid_hex, const char *keyfile, char *err,
    size_t errcap)
{
	uint8_t uid[ZTP_ROT_UID_LEN], key[ZTP_ROT_KEY_LEN], img[ZTP_ROT_STATE_LEN];
	char text[256], *s, *e;
	struct ztp_rot r;
	struct stat st;
	size_t n = 0, len;
	FILE *f;
	int rc;

	if (uid_hex == NULL || strlen(uid_hex) != 2 * ZTP_ROT_UID_LEN ||
	    hex_decode(uid_hex, strlen(uid_hex), uid, sizeof(uid), &len) != 0)
		return ztp_errf(err, errcap, ZTP_EINVAL, "RoT UID: 32 hex digits");
	if (lstat(path, &st) == 0)
		return ztp_errf(err, errcap, ZTP_EEXIST,
		    "%s exists: a module's state is never replaced", path);
	if ((f = fopen(keyfile, "re")) == NULL)
		return ztp_errf(err, errcap, ZTP_EIO, "%s: %s", keyfile, strerror(errno));
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	for (s = text; *s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'; s++)
		;
	for (e = s; *e != '\0' && *e != ' ' && *e != '\t' && *e != '\r' && *e != '\n'; e++)
		;
	rc = 0;
	if ((size_t)(e - s) != 2 * ZTP_ROT_KEY_LEN ||
	    hex_decode(s, (size_t)(e - s), key, sizeof(key), &len) != 0)
		rc = ZTP_EINVAL;
	for (; *e == ' ' || *e == '\t' || *e == '\r' || *e == '\n'; e++)
		;
	if (*e != '\0')
		rc = ZTP_EINVAL;
	OPENSSL_cleanse(text, sizeof(text));
	if (rc != 0)
		return ztp_errf(err, errcap, ZTP_EINVAL, "%s: the factory secret: 64 hex digits",
		    keyfile);
	ztp_rot_init(&r, uid, key);
	OPENSSL_cleanse(key, sizeof(key));
	ztp_rot_save(&r, img, sizeof(img), &len);
	ztp_rot_wipe(&r);
	rc = save_file(path, img, len, 0, err, errcap);
	OPENSSL_cleanse(img, sizeof(img));
	return rc;
}

/* ---- the network thread */

static void
client_lock(void *arg, int take)
{
	struct module *m = arg;

	if (take)
		pthread_mutex_lock(&m->mu);
	else
		pthread_mutex_unlock(&m->mu);
}

static int
client_store(void *arg, const struct ztp_rot *r)
{
	return save(arg, r);
}

/* a ZTP certificate bundle the client fetched: kept in its section (issue 14) */
static int
client_store_cert(void *arg, const uint8_t *bundle, size_t len)
{
	return module_section_put(arg, MODULE_SEC_ZTPCERT, bundle, len);
}

static void
client_log(void *arg, enum modclient_log_level level, const char *msg)
{
	switch (level) {
	case MODCLIENT_LOG_DEBUG:
		log_debug("module: %s", msg);
		break;
	case MODCLIENT_LOG_INFO:
		log_info("module: %s", msg);
		break;
	default:
		log_warnx("module: %s", msg);
		break;
	}
}

static uint32_t
random_u32(void)
{
	uint32_t r = 0;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return 0;
	return r;
}

static const char *
outcome_name(enum modclient_outcome o)
{
	switch (o) {
	case ZTP_MOD_DONE:
		return "done";
	case ZTP_MOD_REFUSED:
		return "refused";
	case ZTP_MOD_KEY_UNKNOWN:
		return "key unknown";
	case ZTP_MOD_TRANSIENT:
		return "failed";
	default:
		return "local error";
	}
}

/* One contact, after any other (contact_mu), logged. */
static void
contact(struct module *m, struct modclient_result *res)
{
	pthread_mutex_lock(&m->contact_mu);
	modclient_contact(m->client, &m->rot, res);
	pthread_mutex_unlock(&m->contact_mu);
	if (res->outcome == ZTP_MOD_DONE) {
		if (res->bootstrapped)
			log_info("module: bootstrap done: %llu bytes (%llu in, %llu out, %u "
				 "connection%s, %s)",
			    (unsigned long long)(res->bytes_in + res->bytes_out),
			    (unsigned long long)res->bytes_in, (unsigned long long)res->bytes_out,
			    res->connections, res->connections == 1 ? "" : "s", res->cipher);
		else
			log_info("module: heartbeat done: %llu bytes (%llu in, %llu out)",
			    (unsigned long long)(res->bytes_in + res->bytes_out),
			    (unsigned long long)res->bytes_in, (unsigned long long)res->bytes_out);
		return;
	}
	log_info("module: %s %s%s%s (%llu bytes)",
	    res->kind == ZTP_ROT_HEARTBEAT ? "heartbeat" :
	    res->kind == ZTP_ROT_BOOTSTRAP ? "bootstrap" : "contact",
	    outcome_name(res->outcome), res->error[0] ? ": " : "", res->error,
	    (unsigned long long)(res->bytes_in + res->bytes_out));
}

/* When to try again after res (m->mu held). */
static void
schedule(struct module *m, const struct modclient_result *res)
{
	int64_t now = clock_mono_ms();
	uint32_t wait;

	if (res->outcome == ZTP_MOD_DONE) {
		m->backoff_ms = 0;
		m->retry_at_ms = 0;
		return;
	}
	if (res->outcome == ZTP_MOD_REFUSED && res->status == 409) {
		/* another bootstrap raced ours: a random pause, then again */
		wait = 100 + random_u32() % 1900;
	} else if (res->outcome == ZTP_MOD_REFUSED && res->status == 429) {
		wait = res->retry_after > 0 ? (res->retry_after > 86400 ? 86400000u :
								    res->retry_after * 1000u) :
					      BACKOFF_MAX_MS;
		wait += random_u32() % 1000;
	} else if (res->outcome == ZTP_MOD_REFUSED) {
		wait = REFUSED_WAIT_MS;
	} else {
		m->backoff_ms = m->backoff_ms == 0 ? BACKOFF_MIN_MS :
		    m->backoff_ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : m->backoff_ms * 2;
		/* jitter: half to all of the back-off */
		wait = m->backoff_ms / 2 + random_u32() % (m->backoff_ms / 2 + 1);
	}
	m->retry_at_ms = now + wait;
}

static void *
worker(void *arg)
{
	struct module *m = arg;
	struct modclient_result res;
	struct timespec ts;
	int64_t due_s, left_ms;

	pthread_mutex_lock(&m->mu);
	while (!m->stop) {
		due_s = ztp_rot_next_contact(&m->rot, (int64_t)time(NULL));
		left_ms = due_s < 0 ? (int64_t)WAIT_MAX_S * 1000 : due_s * 1000;
		if (m->kick)
			left_ms = 0;
		if (m->retry_at_ms != 0 && m->retry_at_ms - clock_mono_ms() > left_ms)
			left_ms = m->retry_at_ms - clock_mono_ms();
		if (left_ms > 0) {
			if (left_ms > (int64_t)WAIT_MAX_S * 1000)
				left_ms = (int64_t)WAIT_MAX_S * 1000;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (time_t)(left_ms / 1000);
			ts.tv_nsec += (long)(left_ms % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&m->cv, &m->mu, &ts);
			continue;
		}
		m->kick = 0;
		pthread_mutex_unlock(&m->mu);
		contact(m, &res);
		pthread_mutex_lock(&m->mu);
		schedule(m, &res);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

/* ---- start, stop */

struct module *
module_start(const struct module_opts *o, char *err, size_t errcap)
{
	struct modclient_opts co;
	pthread_condattr_t ca;
	struct module *m;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		ztp_errf(err, errcap, ZTP_ENOMEM, "out of memory");
		return NULL;
	}
	m->lock_fd = -1;
	pthread_mutex_init(&m->mu, NULL);
	pthread_mutex_init(&m->contact_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((size_t)snprintf(m->path, sizeof(m->path), "%s", o->path) >= sizeof(m->path)) {
		ztp_errf(err, errcap, ZTP_EINVAL, "%s: path too long", o->path);
		goto fail;
	}
	/* one ztp-sim per module file; then what a cut write left is removed */
	if ((m->lock_fd = simfile_lock(m->path, err, errcap)) < 0)
		goto fail;
	atomicfile_clean(m->path);
	if (load_file(m->path, m, &m->rot, err, errcap) != 0)
		goto fail;
	ztp_rot_boot(&m->rot);
	/* local data protection's secret, made once (a module of issue 13 gets it now) */
	if (ztp_rot_local_setup(&m->rot, ztp_crypto_openssl()) < 0) {
		ztp_errf(err, errcap, ZTP_ECRYPTO, "cannot make the local data secret");
		goto fail;
	}
	if (save(m, &m->rot) != 0) {
		ztp_errf(err, errcap, ZTP_EIO, "%s: cannot write the state", m->path);
		goto fail;
	}
	memset(&co, 0, sizeof(co));
	co.host = o->host;
	co.port = o->port;
	co.firmware = o->firmware;
	co.timeout_ms = o->timeout_ms;
	co.store = client_store;
	co.lock = client_lock;
	co.log = client_log;
	co.store_cert = client_store_cert;
	co.arg = m;
	if ((m->client = modclient_new(&co, err, errcap)) == NULL)
		goto fail;
	/* no contact before the modem is registered to a network (--creg-delay) */
	if (o->network_delay_ms > 0)
		m->retry_at_ms = clock_mono_ms() + (int64_t)o->network_delay_ms;
	if (pthread_create(&m->thread, NULL, worker, m) != 0) {
		ztp_errf(err, errcap, ZTP_EIO, "cannot start the module's thread");
		goto fail;
	}
	m->thread_started = 1;
	return m;
fail:
	module_stop(m);
	return NULL;
}

void
module_stop(struct module *m)
{
	if (m == NULL)
		return;
	if (m->thread_started) {
		pthread_mutex_lock(&m->mu);
		m->stop = 1;
		pthread_cond_signal(&m->cv);
		pthread_mutex_unlock(&m->mu);
		pthread_join(m->thread, NULL);
	}
	modclient_free(m->client);
	ztp_rot_wipe(&m->rot);
	OPENSSL_cleanse(m->sec, sizeof(m->sec));
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->contact_mu);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void
module_uid_hex(struct module *m, char out[33])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < ZTP_ROT_UID_LEN; i++) {
		out[2 * i] = digits[m->rot.uid[i] >> 4];
		out[2 * i + 1] = digits[m->rot.uid[i] & 15];
	}
	out[32] = '\0';
}

/* ---- the AT commands */

int
module_seal(struct module *m, const char *profile, size_t plen, const char *serial, size_t slen)
{
	char lower[ZTP_ROT_PROFILE_LEN];
	struct ztp_rot before;
	size_t i;
	int rc;

	/* a malformed argument is an error, sealed or not; a good one after the seal is ignored */
	if (plen != sizeof(lower))
		return -1;
	for (i = 0; i < plen; i++)
		lower[i] = profile[i] >= 'A' && profile[i] <= 'F' ? (char)(profile[i] + 32) :
								     profile[i];
	if (!modmsg_profile_valid(lower, plen) || !modmsg_serial_valid(serial, slen))
		return -1;
	pthread_mutex_lock(&m->mu);
	before = m->rot;
	rc = ztp_rot_seal(&m->rot, lower, plen, serial, slen);
	if (rc == 0 && save(m, &m->rot) != 0) {
		m->rot = before;
		rc = ZTP_EIO;
	}
	OPENSSL_cleanse(&before, sizeof(before));
	if (rc == 0) {
		log_info("module: sealed (profile %.*s)", (int)plen, lower);
		m->kick = 1; /* report it now */
		pthread_cond_signal(&m->cv);
	}
	pthread_mutex_unlock(&m->mu);
	if (rc == ZTP_EEXIST)
		log_info("module: already sealed: AT+USECDEVINFO ignored");
	return rc == 0 || rc == ZTP_EEXIST ? 0 : -1;
}

void
module_status(struct module *m, int *registered, int *claimed, int *bootstrapped)
{
	pthread_mutex_lock(&m->mu);
	ztp_rot_status(&m->rot, registered, claimed, bootstrapped);
	pthread_mutex_unlock(&m->mu);
}

int
module_conn(struct module *m)
{
	struct modclient_result res;
	uint32_t wait = 0;
	int rc;

	pthread_mutex_lock(&m->mu);
	rc = ztp_rot_heartbeat_allowed(&m->rot, (int64_t)time(NULL), &wait);
	pthread_mutex_unlock(&m->mu);
	if (rc == ZTP_ECONFLICT) {
		log_info("module: AT+USECCONN refused: the bootstrap is not done");
		return -1;
	}
	if (rc == ZTP_EBUSY) {
		log_info("module: AT+USECCONN refused: within the minimum interval (%u s left)",
		    wait);
		return -1;
	}
	/* the automatic contact may have run meanwhile: ask again once it is over */
	pthread_mutex_lock(&m->contact_mu);
	pthread_mutex_lock(&m->mu);
	rc = ztp_rot_heartbeat_allowed(&m->rot, (int64_t)time(NULL), &wait);
	pthread_mutex_unlock(&m->mu);
	if (rc != 0) {
		pthread_mutex_unlock(&m->contact_mu);
		log_info("module: AT+USECCONN refused after the contact in flight");
		return -1;
	}
	modclient_contact(m->client, &m->rot, &res);
	pthread_mutex_unlock(&m->contact_mu);
	if (res.outcome == ZTP_MOD_DONE)
		log_info("module: heartbeat done: %llu bytes (%llu in, %llu out)",
		    (unsigned long long)(res.bytes_in + res.bytes_out),
		    (unsigned long long)res.bytes_in, (unsigned long long)res.bytes_out);
	else
		log_info("module: AT+USECCONN: heartbeat %s%s%s", outcome_name(res.outcome),
		    res.error[0] ? ": " : "", res.error);
	pthread_mutex_lock(&m->mu);
	schedule(m, &res);
	/*
	 * the thread may sleep on a schedule made before this contact (an hour
	 * when nothing was due): a key this one left pending is due now
	 */
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	return res.outcome == ZTP_MOD_DONE ? 0 : -1;
}

/* ---- the sections (issue 14) */

int
module_section_get(struct module *m, enum module_section tag, uint8_t *buf, size_t cap,
    size_t *len)
{
	int rc = 0;

	if ((int)tag <= 0 || tag >= MODULE_SEC__MAX)
		return ZTP_EINVAL;
	pthread_mutex_lock(&m->mu);
	if (m->sec_len[tag] > cap)
		rc = ZTP_ETOOBIG;
	else {
		memcpy(buf, m->sec[tag], m->sec_len[tag]);
		*len = m->sec_len[tag];
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int
module_section_put(struct module *m, enum module_section tag, const uint8_t *data, size_t len)
{
	static uint8_t old[MODULE_SECTION_MAX]; /* under m->mu */
	size_t oldlen;
	int rc = 0;

	if ((int)tag <= 0 || tag >= MODULE_SEC__MAX || len > MODULE_SECTION_MAX ||
	    (data == NULL && len > 0))
		return ZTP_EINVAL;
	pthread_mutex_lock(&m->mu);
	oldlen = m->sec_len[tag];
	memcpy(old, m->sec[tag], oldlen);
	if (len > 0)
		memcpy(m->sec[tag], data, len);
	m->sec_len[tag] = len;
	if (save(m, &m->rot) != 0) {
		memcpy(m->sec[tag], old, oldlen);
		m->sec_len[tag] = oldlen;
		rc = ZTP_EIO;
	}
	OPENSSL_cleanse(old, oldlen);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

void
module_rot_flags(struct module *m, int *bootstrapped, int *claimed, uint32_t *features)
{
	pthread_mutex_lock(&m->mu);
	*bootstrapped = ztp_rot_bootstrapped(&m->rot);
	*claimed = (m->rot.status & ZTP_ROT_STATUS_CLAIMED) != 0;
	*features = m->rot.features;
	pthread_mutex_unlock(&m->mu);
}

/* ---- the services (issue 14) */

int
module_psk(struct module *m, size_t psk_len, uint8_t *id, uint8_t *psk)
{
	int rc;

	pthread_mutex_lock(&m->mu);
	rc = ztp_rot_psk_new(&m->rot, ztp_crypto_openssl(), psk_len, id, psk);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

/*
 * A service ran on copy (rc its result): when it succeeded and changed
 * what is stored, write copy first; keep it only then. A failed call
 * leaves the state as it was. m->mu held.
 */
static int
commit_copy(struct module *m, struct ztp_rot *copy, int changed, int rc)
{
	if (rc == 0 && changed && save(m, copy) != 0)
		rc = ZTP_EIO;
	if (rc == 0)
		m->rot = *copy;
	OPENSSL_cleanse(copy, sizeof(*copy));
	return rc;
}

int
module_e2e_seal(struct module *m, unsigned flags, const uint8_t *in, size_t len, uint8_t *out,
    size_t cap, size_t *outlen)
{
	struct ztp_rot copy;
	int rc, store = 0;

	pthread_mutex_lock(&m->mu);
	copy = m->rot;
	rc = ztp_rot_e2e_seal(&copy, ztp_crypto_openssl(), flags, in, len, out, cap, outlen, &store);
	/* a new reservation is written before the ciphertext leaves */
	rc = commit_copy(m, &copy, store, rc);
	pthread_mutex_unlock(&m->mu);
	if (rc != 0)
		OPENSSL_cleanse(out, cap);
	return rc;
}

int
module_e2e_open(struct module *m, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct ztp_rot copy;
	int rc;

	pthread_mutex_lock(&m->mu);
	copy = m->rot;
	rc = ztp_rot_e2e_open(&copy, ztp_crypto_openssl(), in, len, out, cap, outlen);
	rc = commit_copy(m, &copy, 1, rc);
	pthread_mutex_unlock(&m->mu);
	if (rc != 0)
		OPENSSL_cleanse(out, cap);
	return rc;
}

/* FILE.fs/<name> into path; ZTP_EINVAL for a name outside the rules. */
static int
fs_path(struct module *m, const char *name, size_t namelen, char *path, size_t cap)
{
	size_t i;

	if (namelen == 0 || namelen > 64 || name[0] == '.')
		return ZTP_EINVAL;
	for (i = 0; i < namelen; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			ch == '.' || ch == '_' || ch == '-'))
			return ZTP_EINVAL;
	}
	if ((size_t)snprintf(path, cap, "%s.fs/%.*s", m->path, (int)namelen, name) >= cap)
		return ZTP_EINVAL;
	return 0;
}

int
module_local_seal(struct module *m, const char *name, size_t namelen, const uint8_t *in,
    size_t len)
{
	static uint8_t out[ZTP_LOCAL_OVERHEAD + MODULE_LOCAL_MAX]; /* under m->mu */
	char path[PATH_MAX + 80], dir[PATH_MAX + 8], err[PATH_MAX + 64];
	struct ztp_rot copy;
	size_t n = 0;
	int rc;

	if ((rc = fs_path(m, name, namelen, path, sizeof(path))) != 0)
		return rc;
	if (len > MODULE_LOCAL_MAX)
		return ZTP_ETOOBIG;
	snprintf(dir, sizeof(dir), "%s.fs", m->path);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ZTP_EIO;
	pthread_mutex_lock(&m->mu);
	copy = m->rot;
	rc = ztp_rot_local_seal(&copy, ztp_crypto_openssl(), name, namelen, in, len, out,
	    sizeof(out), &n);
	/* a trial before the bootstrap counts: stored first */
	rc = commit_copy(m, &copy, copy.local_trial != m->rot.local_trial, rc);
	if (rc == 0 && atomicfile_write(path, out, n, 0600, err, sizeof(err)) != 0) {
		log_warnx("module: %s", err);
		rc = ZTP_EIO;
	}
	OPENSSL_cleanse(out, n);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

/* Read FILE.fs/<name> whole into buf (cap bytes). */
static int
fs_read(struct module *m, const char *name, size_t namelen, uint8_t *buf, size_t cap,
    size_t *len)
{
	char path[PATH_MAX + 80];
	ssize_t r;
	int fd, rc;

	if ((rc = fs_path(m, name, namelen, path, sizeof(path))) != 0)
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? ZTP_ENOENT : ZTP_EIO;
	*len = 0;
	while ((r = read(fd, buf + *len, cap - *len)) > 0 && *len + (size_t)r < cap)
		*len += (size_t)r;
	if (r > 0)
		*len += (size_t)r;
	rc = r < 0 ? ZTP_EIO : 0;
	/* one more byte would not fit: too big */
	if (rc == 0 && *len == cap && read(fd, &(uint8_t){ 0 }, 1) == 1)
		rc = ZTP_ETOOBIG;
	close(fd);
	return rc;
}

int
module_local_open(struct module *m, const char *name, size_t namelen, uint8_t *out, size_t cap,
    size_t *outlen)
{
	static uint8_t in[ZTP_LOCAL_OVERHEAD + MODULE_LOCAL_MAX]; /* under m->mu */
	struct ztp_rot copy;
	size_t n = 0;
	int rc;

	pthread_mutex_lock(&m->mu);
	rc = fs_read(m, name, namelen, in, sizeof(in), &n);
	if (rc == 0) {
		copy = m->rot;
		rc = ztp_rot_local_open(&copy, ztp_crypto_openssl(), name, namelen, in, n, out, cap,
		    outlen);
		rc = commit_copy(m, &copy, copy.local_trial != m->rot.local_trial, rc);
	}
	OPENSSL_cleanse(in, n);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int
module_file_read(struct module *m, const char *name, size_t namelen, uint8_t *out, size_t cap,
    size_t *outlen)
{
	int rc;

	pthread_mutex_lock(&m->mu);
	rc = fs_read(m, name, namelen, out, cap, outlen);
	pthread_mutex_unlock(&m->mu);
	return rc;
}
