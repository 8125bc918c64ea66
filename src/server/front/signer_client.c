/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signer's client, in the front (see signer.h): it sends requests on
 * the socket to the signer process and reads the answers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "clock.h"
#include "crypto.h"
#include "log.h"
#include "signer.h"
#include "signer_client.h"
#include "ztp/err.h"

#define SOCKBUF (2 * SIGNER_MSG_MAX + 4096)

struct signer {
	pthread_mutex_t mu;
	int fd;             /* -1: no signer */
	pid_t pid;          /* 0: no signer */
	int64_t last_start; /* monotonic ms of the last start, 0: never */
	struct signer_opts opts;
	char dir[PATH_MAX];
	uint8_t datakey[CRYPTO_KEY_LEN];
	uint8_t buf[SIGNER_MSG_MAX]; /* request, then answer; under mu */
};

static void
describe_status(int status, char *out, size_t cap)
{
	if (WIFEXITED(status))
		snprintf(out, cap, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, cap, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(out, cap, "ended");
}

/* Close the socket, end the child (SIGKILL unless it already ended) and reap it. */
static void
stop_child(struct signer *s)
{
	char how[64];
	pid_t r;
	int status;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->pid <= 0)
		return;
	while ((r = waitpid(s->pid, &status, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r == 0) {
		kill(s->pid, SIGKILL);
		while ((r = waitpid(s->pid, &status, 0)) < 0 && errno == EINTR)
			;
	}
	if (r == s->pid) {
		describe_status(status, how, sizeof(how));
		log_info("signer %d %s", (int)s->pid, how);
	} else {
		/* reaped elsewhere (SIGCHLD ignored?): its pid may be another's by now */
		log_warn("signer %d: waitpid", (int)s->pid);
	}
	s->pid = 0;
}

/* Wait until fd is ready for events or the deadline. 0 ready, 1 time-out, -1 error. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p;
	int64_t left;
	int n;

	for (;;) {
		if ((left = deadline - clock_mono_ms()) <= 0)
			return 1;
		p.fd = fd;
		p.events = events;
		p.revents = 0;
		n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 0; /* POLLHUP and POLLERR too: the next call says what */
		if (n == 0)
			return 1;
		if (errno != EINTR)
			return -1;
	}
}

/*
 * Send req[0..len) and receive one answer into resp (cap bytes) within
 * timeout_ms. Returns 0 or ZTP_EIO, after which the child is gone.
 */
static int
transact(struct signer *s, const uint8_t *req, size_t len, uint8_t *resp, size_t cap,
    size_t *rlen, int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;
	int w = 0;

	for (;;) {
		if ((n = send(s->fd, req, len, MSG_NOSIGNAL | MSG_DONTWAIT)) == (ssize_t)len)
			break;
		if (n >= 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
			log_warn("signer %d: send", (int)s->pid);
			goto fail;
		}
		if (errno != EINTR && (w = wait_fd(s->fd, POLLOUT, deadline)) != 0)
			goto wait_failed;
	}
	for (;;) {
		iov.iov_base = resp;
		iov.iov_len = cap;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if ((n = recvmsg(s->fd, &mh, MSG_DONTWAIT)) > 0) {
			if (mh.msg_flags & MSG_TRUNC) {
				log_warnx("signer %d: answer over %zu bytes", (int)s->pid, cap);
				goto fail;
			}
			*rlen = (size_t)n;
			return 0;
		}
		if (n == 0) {
			log_warnx("signer %d: connection closed", (int)s->pid);
			goto fail;
		}
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
			log_warn("signer %d: recv", (int)s->pid);
			goto fail;
		}
		if (errno != EINTR && (w = wait_fd(s->fd, POLLIN, deadline)) != 0)
			goto wait_failed;
	}
wait_failed:
	if (w > 0)
		log_warnx("signer %d: no answer within %d ms", (int)s->pid, timeout_ms);
	else
		log_warn("signer %d: poll", (int)s->pid);
fail:
	stop_child(s);
	return ZTP_EIO;
}

/* Fork a new signer and wait for its PONG. Returns 0 or ZTP_EIO. */
static int
start_child(struct signer *s)
{
	struct signer_msg ping = { .type = SIGNER_MSG_PING }, pong;
	uint8_t req[SIGNER_MSG_HDR_LEN], resp[512];
	size_t len, rlen;
	int sv[2], size = SOCKBUF;
	pid_t pid;

	s->last_start = clock_mono_ms();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		log_warn("signer: socketpair");
		return ZTP_EIO;
	}
	/* room for a largest message whatever the system's default */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if ((pid = fork()) < 0) {
		log_warn("signer: fork");
		close(sv[0]);
		close(sv[1]);
		return ZTP_EIO;
	}
	if (pid == 0) {
		close(sv[0]);
		signer_child_main(sv[1], s->dir, s->datakey);
	}
	close(sv[1]);
	s->fd = sv[0];
	s->pid = pid;
	if (signer_msg_encode(&ping, req, sizeof(req), &len) != 0 ||
	    transact(s, req, len, resp, sizeof(resp), &rlen, s->opts.start_timeout_ms) != 0)
		goto fail;
	if (signer_msg_decode(resp, rlen, &pong) != 0 || pong.type != SIGNER_MSG_PONG) {
		log_warnx("signer %d: no PONG to the first PING", (int)pid);
		goto fail;
	}
	log_info("signer %d: started, CA %s/ca.pem", (int)pid, s->dir);
	return 0;
fail:
	stop_child(s);
	log_warnx("signer: cannot start (see above)");
	return ZTP_EIO;
}

/* A signer to talk to: the running one, or a new one if it is time to try. */
static int
ensure_running(struct signer *s)
{
	if (s->fd >= 0)
		return 0;
	if (s->dir[0] == '\0')
		return ZTP_EIO; /* signer_open_fd(): the parent restarts the signer */
	if (s->last_start != 0 && clock_mono_ms() - s->last_start < s->opts.restart_interval_ms)
		return ZTP_EIO;
	return start_child(s);
}

/*
 * Send req and decode the answer into *resp (pointing into s->buf),
 * waiting at most timeout_ms. With mu held. Returns 0 for an answer of
 * type want, the signer's code for an ERROR (resp->type is then
 * SIGNER_MSG_ERROR), ZTP_EIO if there is no working signer, or the
 * encoder's code (nothing sent).
 */
static int
call_ms(struct signer *s, const struct signer_msg *req, uint16_t want, struct signer_msg *resp,
    int timeout_ms)
{
	size_t len, rlen;
	int rc;

	resp->type = 0;
	if ((rc = signer_msg_encode(req, s->buf, sizeof(s->buf), &len)) != 0)
		return rc;
	if ((rc = ensure_running(s)) != 0)
		return rc;
	if ((rc = transact(s, s->buf, len, s->buf, sizeof(s->buf), &rlen, timeout_ms)) != 0)
		return rc;
	if ((rc = signer_msg_decode(s->buf, rlen, resp)) != 0 ||
	    (resp->type != want && resp->type != SIGNER_MSG_ERROR)) {
		log_warnx("signer %d: unexpected answer (%s)", (int)s->pid,
		    rc != 0 ? ztp_strerror(rc) : "wrong type");
		stop_child(s);
		return ZTP_EIO;
	}
	if (resp->type == SIGNER_MSG_ERROR) {
		log_debug("signer %d: refused: %s (%s)", (int)s->pid, resp->u.error.text,
		    ztp_strerror(resp->u.error.code));
		return resp->u.error.code == ZTP_EIO ? ZTP_EINTERNAL : resp->u.error.code;
	}
	return 0;
}

/* call_ms() within the per-request time-out. */
static int
call(struct signer *s, const struct signer_msg *req, uint16_t want, struct signer_msg *resp)
{
	return call_ms(s, req, want, resp, s->opts.timeout_ms);
}

int
signer_start(struct signer **out, const char *datadir, const uint8_t datakey[32],
    const struct signer_opts *opts)
{
	static const struct signer_opts defaults = { 5000, 10000, 1000 };
	struct signer *s;

	*out = NULL;
	if (datadir == NULL || datakey == NULL)
		return ZTP_EINVAL;
	if (opts == NULL)
		opts = &defaults;
	if (opts->timeout_ms <= 0 || opts->start_timeout_ms <= 0 || opts->restart_interval_ms < 0)
		return ZTP_EINVAL;
	if (strlen(datadir) >= sizeof(s->dir) - 16)
		return ZTP_ERANGE;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ZTP_ENOMEM;
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		free(s);
		return ZTP_ENOMEM;
	}
	s->fd = -1;
	s->opts = *opts;
	snprintf(s->dir, sizeof(s->dir), "%s", datadir);
	memcpy(s->datakey, datakey, CRYPTO_KEY_LEN);
	if (start_child(s) != 0) {
		signer_free(s);
		return ZTP_EIO;
	}
	*out = s;
	return 0;
}

int
signer_open_fd(struct signer **out, int fd, const struct signer_opts *opts)
{
	static const struct signer_opts defaults = { 5000, 10000, 1000 };
	struct signer *s;
	int size = SOCKBUF;

	*out = NULL;
	if (opts == NULL)
		opts = &defaults;
	if (fd < 0 || opts->timeout_ms <= 0)
		return ZTP_EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ZTP_ENOMEM;
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		free(s);
		return ZTP_ENOMEM;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	s->fd = fd;
	s->opts = *opts;
	*out = s;
	return 0;
}

void
signer_set_fd(struct signer *s, int fd)
{
	int size = SOCKBUF;

	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	pthread_mutex_lock(&s->mu);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = fd;
	pthread_mutex_unlock(&s->mu);
	log_info("signer: connected to a new signer process");
}

void
signer_free(struct signer *s)
{
	int64_t until;
	int status;

	if (s == NULL)
		return;
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	/* the signer exits on end of file; give it a second */
	for (until = clock_mono_ms() + 1000; s->pid > 0 && clock_mono_ms() < until;) {
		pid_t r = waitpid(s->pid, &status, WNOHANG);
		if (r == s->pid || (r < 0 && errno != EINTR))
			s->pid = 0;
		else if (r == 0)
			usleep(5000);
	}
	stop_child(s);
	OPENSSL_cleanse(s->datakey, sizeof(s->datakey));
	OPENSSL_cleanse(s->buf, sizeof(s->buf));
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int
signer_restart(struct signer *s)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	stop_child(s);
	rc = start_child(s);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
signer_ping(struct signer *s)
{
	struct signer_msg req = { .type = SIGNER_MSG_PING }, resp;
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = call(s, &req, SIGNER_MSG_PONG, &resp);
	pthread_mutex_unlock(&s->mu);
	return rc == 0 ? 0 : ZTP_EIO;
}

void
signer_issued_free(struct signer_issued *c)
{
	if (c == NULL)
		return;
	free(c->der);
	memset(c, 0, sizeof(*c));
}

/* SIGN_CSR or SIGN_SPKI (type) of req: the issued certificate into *out. */
static int
sign_cert(struct signer *s, uint16_t type, const struct signer_csr_req *req,
    struct signer_issued *out)
{
	static const struct signer_msg zero;
	struct signer_msg m = zero, resp;
	int rc;

	memset(out, 0, sizeof(*out));
	m.type = type;
	m.u.csr = *req;
	pthread_mutex_lock(&s->mu);
	if ((rc = call(s, &m, SIGNER_MSG_CERT, &resp)) != 0)
		goto out;
	if ((out->der = malloc(resp.u.cert.cert_len)) == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	memcpy(out->der, resp.u.cert.cert, resp.u.cert.cert_len);
	out->der_len = resp.u.cert.cert_len;
	memcpy(out->serial, resp.u.cert.serial, resp.u.cert.serial_len);
	out->serial_len = resp.u.cert.serial_len;
	out->not_before = resp.u.cert.not_before;
	out->not_after = resp.u.cert.not_after;
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
signer_sign_csr(struct signer *s, const struct signer_csr_req *req, struct signer_issued *out)
{
	return sign_cert(s, SIGNER_MSG_SIGN_CSR, req, out);
}

int
signer_sign_spki(struct signer *s, const struct signer_csr_req *req, struct signer_issued *out)
{
	return sign_cert(s, SIGNER_MSG_SIGN_SPKI, req, out);
}

static int
revoked_cmp(const void *a, const void *b)
{
	const struct signer_revoked *x = a, *y = b;

	return signer_msg_serial_cmp(x->serial, x->serial_len, y->serial, y->serial_len);
}

/*
 * The time CRL_END may take on top of the per-request time-out: signing
 * sorts and encodes every entry. Measured on a shared 2-core machine, a
 * 100,000-entry CRL signs in 0.54 s, a 1,000,000-entry one in 6.4 s
 * (docs/certificates.md); this allows 50 us an entry, about ten times
 * that (5 s more for 100,000, 50 s at the cap).
 */
static int
crl_sign_ms(size_t n)
{
	return (int)(n / 20);
}

/* The signer broke the CRL sequence: it goes (a new one starts at the next call). */
static int
crl_broken(struct signer *s, const char *what)
{
	log_warnx("signer %d: CRL sequence: %s", (int)s->pid, what);
	stop_child(s);
	return ZTP_EIO;
}

/*
 * The CRL sequence (signer_msg.h) for the n sorted, checked entries of
 * revoked, with mu held: CRL_BEGIN, CRL_ENTRIES of up to
 * SIGNER_REVOKED_MAX, CRL_END, then CRL_READ until the DER is whole. The
 * DER (malloc'd) goes to *der. The signer drops its CRL itself when it
 * refuses a step; if this side gives up in the middle for any other
 * reason, the signer is stopped, so that nothing stays half built there.
 */
static int
crl_sequence(struct signer *s, uint64_t crl_number, uint32_t next_update,
    const struct signer_revoked *revoked, size_t n, uint8_t **der, size_t *der_len)
{
	static const struct signer_msg zero;
	struct signer_msg m = zero, resp;
	uint8_t *buf = NULL;
	uint64_t bound = (uint64_t)n * SIGNER_CRL_ENTRY_DER_MAX + SIGNER_MSG_MAX;
	size_t i, k, size = 0, got = 0;
	int begun = 0, rc;

	m.type = SIGNER_MSG_CRL_BEGIN;
	m.u.crl.crl_number = crl_number;
	m.u.crl.next_update = next_update;
	m.u.crl.total = (uint32_t)n;
	if ((rc = call(s, &m, SIGNER_MSG_CRL_ACK, &resp)) != 0)
		goto out;
	begun = 1;
	if (resp.u.crl_ack.received != 0) {
		rc = crl_broken(s, "CRL_BEGIN acknowledged with entries");
		goto out;
	}
	m.type = SIGNER_MSG_CRL_ENTRIES;
	for (i = 0; i < n; i += k) {
		k = n - i < SIGNER_REVOKED_MAX ? n - i : SIGNER_REVOKED_MAX;
		m.u.crl.revoked = revoked + i;
		m.u.crl.n_revoked = k;
		if ((rc = call(s, &m, SIGNER_MSG_CRL_ACK, &resp)) != 0)
			goto out;
		if (resp.u.crl_ack.received != i + k) {
			rc = crl_broken(s, "entries acknowledged out of count");
			goto out;
		}
	}
	m = zero;
	m.type = SIGNER_MSG_CRL_END;
	m.u.crl.total = (uint32_t)n;
	rc = call_ms(s, &m, SIGNER_MSG_CRL_PART, &resp, s->opts.timeout_ms + crl_sign_ms(n));
	/* then CRL_READ at each next offset, every part checked against the first */
	m = zero;
	m.type = SIGNER_MSG_CRL_READ;
	while (rc == 0) {
		if (buf == NULL) {
			size = resp.u.crl_der.size;
			/* never more than n entries can take: the size is the peer's word */
			if (resp.u.crl_der.offset != 0 || size > bound) {
				rc = crl_broken(s, "a first part that is not the start of a CRL");
				goto out;
			}
			if ((buf = malloc(size)) == NULL) {
				rc = ZTP_ENOMEM;
				goto out;
			}
		} else if (resp.u.crl_der.size != size || resp.u.crl_der.offset != got) {
			rc = crl_broken(s, "a part out of place");
			goto out;
		}
		/* the decoder saw to it that the part is not empty and ends within size */
		memcpy(buf + got, resp.u.crl_der.crl, resp.u.crl_der.crl_len);
		got += resp.u.crl_der.crl_len;
		if (got == size)
			break;
		m.u.crl_read.offset = (uint32_t)got;
		rc = call(s, &m, SIGNER_MSG_CRL_PART, &resp);
	}
	if (rc != 0)
		goto out;
	*der = buf;
	*der_len = size;
	buf = NULL;
out:
	/* given up here, not refused there: the signer may still hold the CRL */
	if (rc != 0 && begun && s->fd >= 0 && resp.type != SIGNER_MSG_ERROR)
		crl_broken(s, "abandoned midway");
	free(buf);
	return rc;
}

int
signer_sign_crl(struct signer *s, uint64_t crl_number, uint32_t next_update,
    struct signer_revoked *revoked, size_t n, uint8_t **der, size_t *der_len)
{
	size_t i;
	int rc;

	*der = NULL;
	*der_len = 0;
	if (n > SIGNER_CRL_TOTAL_MAX)
		return ZTP_ERANGE;
	if (n > 0 && revoked == NULL)
		return ZTP_EINVAL;
	if (next_update < SIGNER_NEXT_UPDATE_MIN || next_update > SIGNER_NEXT_UPDATE_MAX)
		return ZTP_ERANGE;
	/* every check the encoder makes, before the first message: no half-sent CRL */
	for (i = 0; i < n; i++)
		if ((rc = signer_msg_revoked_check(&revoked[i])) != 0)
			return rc;
	if (n > 1)
		qsort(revoked, n, sizeof(*revoked), revoked_cmp);
	for (i = 1; i < n; i++)
		if (revoked_cmp(&revoked[i - 1], &revoked[i]) == 0)
			return ZTP_EMALFORMED;
	pthread_mutex_lock(&s->mu);
	rc = crl_sequence(s, crl_number, next_update, revoked, n, der, der_len);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* ---- ZTP certificate authorities ---- */

void
signer_ztpca_ca_free(struct signer_ztpca_ca *ca)
{
	if (ca == NULL)
		return;
	free(ca->cert);
	free(ca->key);
	memset(ca, 0, sizeof(*ca));
}

/* Set the id of m (ZTP_ERANGE if too long). */
static int
ztpca_id(struct signer_msg *m, const char *id)
{
	if (id == NULL || strlen(id) >= sizeof(m->ztpca.id))
		return ZTP_ERANGE;
	snprintf(m->ztpca.id, sizeof(m->ztpca.id), "%s", id);
	return 0;
}

/*
 * Send m (ZTPCA_CREATE or ZTPCA_IMPORT); the CA it answers into *out, or
 * the signer's reason for a refusal into why (may be NULL). With mu held.
 */
static int
ztpca_call(struct signer *s, const struct signer_msg *m, struct signer_ztpca_ca *out, char *why,
    size_t cap)
{
	struct signer_msg resp;
	int rc;

	if (why != NULL && cap > 0)
		why[0] = '\0';
	if ((rc = call(s, m, SIGNER_MSG_ZTPCA, &resp)) != 0) {
		if (resp.type == SIGNER_MSG_ERROR && why != NULL && cap > 0)
			snprintf(why, cap, "%s", resp.u.error.text);
		return rc;
	}
	out->cert = malloc(resp.u.cert.cert_len);
	out->key = malloc(resp.ztpca.key_len);
	if (out->cert == NULL || out->key == NULL) {
		signer_ztpca_ca_free(out);
		return ZTP_ENOMEM;
	}
	memcpy(out->cert, resp.u.cert.cert, resp.u.cert.cert_len);
	out->cert_len = resp.u.cert.cert_len;
	memcpy(out->key, resp.ztpca.key, resp.ztpca.key_len);
	out->key_len = resp.ztpca.key_len;
	out->not_before = resp.u.cert.not_before;
	out->not_after = resp.u.cert.not_after;
	return 0;
}

int
signer_ztpca_create(struct signer *s, const char *id, const char *cn, const char *org,
    uint32_t days, struct signer_ztpca_ca *out)
{
	static const struct signer_msg zero;
	struct signer_msg m = zero;
	int rc;

	memset(out, 0, sizeof(*out));
	m.type = SIGNER_MSG_ZTPCA_CREATE;
	if ((rc = ztpca_id(&m, id)) != 0)
		return rc;
	if (cn == NULL || strlen(cn) >= sizeof(m.u.csr.subject.cn) ||
	    (org != NULL && strlen(org) >= sizeof(m.u.csr.subject.org)))
		return ZTP_ERANGE;
	snprintf(m.u.csr.subject.cn, sizeof(m.u.csr.subject.cn), "%s", cn);
	if (org != NULL)
		snprintf(m.u.csr.subject.org, sizeof(m.u.csr.subject.org), "%s", org);
	m.u.csr.profile.days = days;
	pthread_mutex_lock(&s->mu);
	rc = ztpca_call(s, &m, out, NULL, 0);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
signer_ztpca_import(struct signer *s, const char *id, const uint8_t *cert, size_t cert_len,
    const uint8_t *pkcs8, size_t pkcs8_len, struct signer_ztpca_ca *out, char *why, size_t cap)
{
	static const struct signer_msg zero;
	struct signer_msg m = zero;
	int rc;

	memset(out, 0, sizeof(*out));
	m.type = SIGNER_MSG_ZTPCA_IMPORT;
	if ((rc = ztpca_id(&m, id)) != 0)
		return rc;
	m.ztpca.cert = cert;
	m.ztpca.cert_len = cert_len;
	m.ztpca.privkey = pkcs8;
	m.ztpca.privkey_len = pkcs8_len;
	pthread_mutex_lock(&s->mu);
	rc = ztpca_call(s, &m, out, why, cap);
	/* the request held the key in clear */
	OPENSSL_cleanse(s->buf, sizeof(s->buf));
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* ZTPCA_SIGN or ZTPCA_POP m with the CA's fields: the certificate into *out. */
static int
ztpca_issue(struct signer *s, struct signer_msg *m, const char *id, const uint8_t *cert,
    size_t cert_len, const uint8_t *key, size_t key_len, struct signer_issued *out)
{
	struct signer_msg resp;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ztpca_id(m, id)) != 0)
		return rc;
	m->ztpca.cert = cert;
	m->ztpca.cert_len = cert_len;
	m->ztpca.key = key;
	m->ztpca.key_len = key_len;
	pthread_mutex_lock(&s->mu);
	if ((rc = call(s, m, SIGNER_MSG_CERT, &resp)) != 0)
		goto out;
	if ((out->der = malloc(resp.u.cert.cert_len)) == NULL) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	memcpy(out->der, resp.u.cert.cert, resp.u.cert.cert_len);
	out->der_len = resp.u.cert.cert_len;
	memcpy(out->serial, resp.u.cert.serial, resp.u.cert.serial_len);
	out->serial_len = resp.u.cert.serial_len;
	out->not_before = resp.u.cert.not_before;
	out->not_after = resp.u.cert.not_after;
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
signer_ztpca_sign(struct signer *s, const char *id, const uint8_t *cert, size_t cert_len,
    const uint8_t *key, size_t key_len, const struct signer_csr_req *req,
    struct signer_issued *out)
{
	static const struct signer_msg zero;
	struct signer_msg m = zero;

	m.type = SIGNER_MSG_ZTPCA_SIGN;
	m.u.csr = *req;
	return ztpca_issue(s, &m, id, cert, cert_len, key, key_len, out);
}

int
signer_ztpca_pop(struct signer *s, const char *id, const uint8_t *cert, size_t cert_len,
    const uint8_t *key, size_t key_len, const char *code, uint32_t days,
    struct signer_issued *out)
{
	static const struct signer_msg zero;
	struct signer_msg m = zero;

	memset(out, 0, sizeof(*out));
	if (code == NULL || strlen(code) >= sizeof(m.u.csr.subject.cn))
		return ZTP_ERANGE;
	m.type = SIGNER_MSG_ZTPCA_POP;
	snprintf(m.u.csr.subject.cn, sizeof(m.u.csr.subject.cn), "%s", code);
	m.u.csr.profile.days = days;
	return ztpca_issue(s, &m, id, cert, cert_len, key, key_len, out);
}

int
signer_ztpca_sign_data(struct signer *s, const char *id, const uint8_t *cert, size_t cert_len,
    const uint8_t *key, size_t key_len, const uint8_t digest[32], uint8_t *sig, size_t cap,
    size_t *sig_len)
{
	static const struct signer_msg zero;
	struct signer_msg m = zero, resp;
	int rc;

	*sig_len = 0;
	if ((rc = ztpca_id(&m, id)) != 0)
		return rc;
	m.type = SIGNER_MSG_ZTPCA_SIGN_DATA;
	m.ztpca.cert = cert;
	m.ztpca.cert_len = cert_len;
	m.ztpca.key = key;
	m.ztpca.key_len = key_len;
	m.ztpca.has_digest = 1;
	memcpy(m.ztpca.digest, digest, sizeof(m.ztpca.digest));
	pthread_mutex_lock(&s->mu);
	if ((rc = call(s, &m, SIGNER_MSG_SIGNATURE, &resp)) == 0) {
		if (resp.u.sig.sig_len > cap) {
			rc = ZTP_ETOOBIG;
		} else {
			memcpy(sig, resp.u.sig.sig, resp.u.sig.sig_len);
			*sig_len = resp.u.sig.sig_len;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

pid_t
signer_pid(struct signer *s)
{
	pid_t pid;

	pthread_mutex_lock(&s->mu);
	pid = s->pid;
	pthread_mutex_unlock(&s->mu);
	return pid;
}

int
signer_exchange_raw(struct signer *s, const uint8_t *req, size_t len, uint8_t *resp, size_t cap,
    size_t *resp_len)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	if ((rc = ensure_running(s)) == 0)
		rc = transact(s, req, len, resp, cap, resp_len, s->opts.timeout_ms);
	pthread_mutex_unlock(&s->mu);
	return rc;
}
