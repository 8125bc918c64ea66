/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server side of TLS on a bufferevent, with a handshake that can wait.
 *
 * libevent 2.1's OpenSSL bufferevent runs SSL_do_handshake itself and
 * closes the connection on an answer it does not know, such as
 * SSL_ERROR_WANT_CLIENT_HELLO_CB: a handshake whose key must be looked up
 * in a database that answers over a socket cannot wait for the answer
 * without stopping the whole worker. This one can.
 *
 * It is a filter bufferevent over a socket bufferevent, because evhttp
 * makes a connection's bufferevent before it knows the socket and gives
 * the socket with bufferevent_setfd, which a filter passes down. The SSL
 * reads from the socket bufferevent's input through a BIO of ours, and
 * writes straight to the socket, as OpenSSL's socket BIO does: when the
 * socket takes no more, SSL_write says so and the plaintext stays in the
 * user's output until the socket is writable again. (evhttp frees a
 * connection, and shuts its socket, once its output is empty: nothing may
 * wait in a buffer below it.) The input filter runs the handshake, then
 * SSL_read; the output filter SSL_write. When a handshake callback asks
 * to wait, the input filter holds everything until tlsbev_resume.
 *
 * A filter does not report its errors or an end of stream it finds
 * itself: those go to the user's event callback from an event of ours, at
 * the next turn of the loop, never from inside the filter (the user frees
 * the bufferevent there).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/bio.h>
#include <openssl/err.h>

#include "tlsbev.h"
#include "ztp/err.h"

#define RECORD_MAX 16384

/* what the event of a tlsbev has to do at the next turn of the loop */
#define LATER_ERROR 0x01  /* tell the user: BEV_EVENT_ERROR */
#define LATER_EOF 0x02    /* tell the user: BEV_EVENT_EOF (the peer's close_notify) */
#define LATER_RESUME 0x04 /* go on with a handshake that waited */
#define LATER_WRITE 0x08  /* the handshake is done: write what the user wrote before */

struct tlsbev {
	SSL *ssl;
	struct bufferevent *top;  /* the user's */
	struct bufferevent *sock; /* under it */
	struct event *later;
	int later_what;
	struct event *writable; /* the socket took no more: until it takes again */
	int fd;             /* known once the user gave it: -1 before */
	int handshake_done;
	int parked;         /* a handshake callback is waiting for its answer */
	int failed;
};

static BIO_METHOD *bio_method;
static int tlsbev_idx = -1;
/* the tlsbev of each socket, found from its bufferevent's socket */
static struct tlsbev **by_fd;
static size_t by_fd_len;

static void
learn_fd(struct tlsbev *t)
{
	if (t->fd >= 0)
		return;
	t->fd = bufferevent_getfd(t->sock);
	if (t->fd >= 0 && (size_t)t->fd < by_fd_len)
		by_fd[t->fd] = t;
}

/* ---- the BIO: reads the socket bufferevent's input, writes to the socket ---- */

static int
bio_read(BIO *b, char *out, int len)
{
	struct tlsbev *t = BIO_get_data(b);
	int n;

	BIO_clear_retry_flags(b);
	if (out == NULL || len <= 0)
		return 0;
	n = evbuffer_remove(bufferevent_get_input(t->sock), out, (size_t)len);
	if (n <= 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	return n;
}

static void want_write(struct tlsbev *t);

static int
bio_write(BIO *b, const char *in, int len)
{
	struct tlsbev *t = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	learn_fd(t);
	if (t->fd < 0) {
		BIO_set_retry_write(b);
		return -1;
	}
	n = send(t->fd, in, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		BIO_set_retry_write(b);
		want_write(t);
	}
	return -1;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tlsbev *t = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_C_GET_FD:
		learn_fd(t);
		if (ptr != NULL)
			*(int *)ptr = t->fd;
		return t->fd;
	case BIO_CTRL_PENDING:
		return (long)evbuffer_get_length(bufferevent_get_input(t->sock));
	default:
		return 0;
	}
}

static int
bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

int
tlsbev_init(void)
{
	struct rlimit rl;

	if (bio_method != NULL)
		return 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > (1u << 22))
		rl.rlim_cur = 1u << 22;
	by_fd_len = (size_t)rl.rlim_cur;
	if ((by_fd = calloc(by_fd_len, sizeof(*by_fd))) == NULL)
		return ZTP_ENOMEM;
	tlsbev_idx = SSL_get_ex_new_index(0, "ztp tlsbev", NULL, NULL, NULL);
	if (tlsbev_idx < 0 ||
	    (bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
		 "ztp tlsbev")) == NULL ||
	    !BIO_meth_set_read(bio_method, bio_read) || !BIO_meth_set_write(bio_method, bio_write) ||
	    !BIO_meth_set_ctrl(bio_method, bio_ctrl) || !BIO_meth_set_create(bio_method, bio_create))
		return ZTP_ENOMEM;
	return 0;
}

/* ---- the filters ---- */

static void
later(struct tlsbev *t, int what)
{
	t->later_what |= what;
	event_active(t->later, EV_TIMEOUT, 1);
}

static void
fail(struct tlsbev *t)
{
	t->failed = 1;
	later(t, LATER_ERROR);
}

/* 1: done, 0: waits (for bytes or for a callback's answer), -1: failed */
static int
handshake(struct tlsbev *t)
{
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		t->handshake_done = 1;
		if (evbuffer_get_length(bufferevent_get_output(t->top)) > 0)
			later(t, LATER_WRITE);
		return 1;
	}
	switch ((e = SSL_get_error(t->ssl, r))) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	case SSL_ERROR_WANT_CLIENT_HELLO_CB:
	case SSL_ERROR_WANT_X509_LOOKUP:
#ifdef SSL_ERROR_WANT_RETRY_VERIFY
	case SSL_ERROR_WANT_RETRY_VERIFY:
#endif
		t->parked = 1;
		return 0;
	default:
		fail(t);
		return -1;
	}
}

static enum bufferevent_filter_result
filter_in(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct tlsbev *t = arg;
	struct evbuffer_iovec v;
	int n, e, got = 0;

	learn_fd(t);
	if (t->failed) {
		evbuffer_drain(src, evbuffer_get_length(src));
		return BEV_ERROR;
	}
	if (t->parked)
		return BEV_NEED_MORE;
	if (!t->handshake_done) {
		n = handshake(t);
		if (n < 0)
			return BEV_ERROR;
		if (n == 0)
			return BEV_NEED_MORE;
	}
	for (;;) {
		if (evbuffer_reserve_space(dst, RECORD_MAX, &v, 1) < 1)
			return BEV_ERROR;
		ERR_clear_error();
		n = SSL_read(t->ssl, v.iov_base, (int)(v.iov_len > INT32_MAX ? INT32_MAX : v.iov_len));
		if (n > 0) {
			v.iov_len = (size_t)n;
			evbuffer_commit_space(dst, &v, 1);
			got = 1;
			continue;
		}
		evbuffer_commit_space(dst, &v, 0);
		e = SSL_get_error(t->ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			break;
		if (e == SSL_ERROR_ZERO_RETURN) {
			evbuffer_drain(src, evbuffer_get_length(src));
			later(t, LATER_EOF);
			break;
		}
		fail(t);
		return BEV_ERROR;
	}
	return got ? BEV_OK : BEV_NEED_MORE;
}

static enum bufferevent_filter_result
filter_out(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct tlsbev *t = arg;
	struct evbuffer_iovec v;
	int n, did = 0;

	if (t->failed)
		return BEV_ERROR;
	if (!t->handshake_done)
		return BEV_NEED_MORE; /* written once the handshake is done (LATER_WRITE) */
	while (evbuffer_peek(src, -1, NULL, &v, 1) > 0) {
		size_t len = v.iov_len > RECORD_MAX ? RECORD_MAX : v.iov_len;
		ERR_clear_error();
		n = SSL_write(t->ssl, v.iov_base, (int)len);
		if (n <= 0) {
			int e = SSL_get_error(t->ssl, n);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				break;
			fail(t);
			return BEV_ERROR;
		}
		evbuffer_drain(src, (size_t)n);
		did = 1;
	}
	return did ? BEV_OK : BEV_NEED_MORE;
}

/*
 * 0 once the filter is being freed: its last reference went, it let go of
 * the socket bufferevent (whose callbacks are then NULL), and only its
 * free_context is to come. (A user's bufferevent_free alone does not end
 * it while someone else holds a reference: tlsbev_resume's callers do.)
 */
static int
alive(struct tlsbev *t)
{
	bufferevent_data_cb r;

	bufferevent_getcb(t->sock, &r, NULL, NULL, NULL);
	return r != NULL;
}

/* Go on reading (a handshake that waited, an SSL_read that had to write) and writing. */
static void
pump(struct tlsbev *t)
{
	size_t before;

	if (!alive(t))
		return;
	before = evbuffer_get_length(bufferevent_get_input(t->top));

	if (!t->parked)
		bufferevent_flush(t->top, EV_READ, BEV_NORMAL);
	if (evbuffer_get_length(bufferevent_get_input(t->top)) > before)
		bufferevent_trigger(t->top, EV_READ, 0);
	if (t->handshake_done && !t->failed)
		bufferevent_flush(t->top, EV_WRITE, BEV_NORMAL);
}

static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tlsbev *t = arg;
	int todo = t->later_what;

	t->later_what = 0;
	if (!alive(t))
		return;
	if (todo & LATER_RESUME)
		t->parked = 0;
	if (todo & (LATER_RESUME | LATER_WRITE))
		pump(t);
	todo |= t->later_what & (LATER_ERROR | LATER_EOF);
	t->later_what &= ~(LATER_ERROR | LATER_EOF);
	/* last: the user may free the bufferevent here */
	if (todo & LATER_ERROR)
		bufferevent_trigger_event(t->top, BEV_EVENT_READING | BEV_EVENT_ERROR, 0);
	else if (todo & LATER_EOF)
		bufferevent_trigger_event(t->top, BEV_EVENT_READING | BEV_EVENT_EOF, 0);
}

static void
writable_cb(evutil_socket_t fd, short what, void *arg)
{
	pump(arg);
}

static void
want_write(struct tlsbev *t)
{
	if (t->writable == NULL &&
	    (t->writable = event_new(bufferevent_get_base(t->top), t->fd, EV_WRITE, writable_cb,
		 t)) == NULL) {
		fail(t);
		return;
	}
	event_add(t->writable, NULL);
}

/*
 * The user wrote. A filter bufferevent passes output on when it is added
 * only if writing is enabled then, and evhttp enables it after adding its
 * answer (enabling does not pass it on): pass it on at the next turn.
 */
static void
out_added_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct tlsbev *t = arg;

	if (info->n_added > 0 && t->handshake_done && !(t->later_what & LATER_WRITE))
		later(t, LATER_WRITE);
}

static void
free_context(void *arg)
{
	struct tlsbev *t = arg;

	if (t->fd >= 0 && (size_t)t->fd < by_fd_len && by_fd[t->fd] == t)
		by_fd[t->fd] = NULL;
	event_free(t->later);
	if (t->writable != NULL)
		event_free(t->writable);
	SSL_free(t->ssl);
	free(t);
}

struct bufferevent *
tlsbev_new(struct event_base *base, SSL *ssl)
{
	struct tlsbev *t;
	BIO *bio;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->fd = -1;
	t->ssl = ssl;
	if ((t->later = event_new(base, -1, 0, later_cb, t)) == NULL)
		goto fail;
	/* freeing the filter frees the socket bufferevent, which closes the socket */
	if ((t->sock = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		goto fail;
	if ((bio = BIO_new(bio_method)) == NULL)
		goto fail;
	BIO_set_data(bio, t);
	SSL_set_bio(ssl, bio, bio);
	SSL_set_accept_state(ssl);
	SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_set_ex_data(ssl, tlsbev_idx, t);
	t->top = bufferevent_filter_new(t->sock, filter_in, filter_out, BEV_OPT_CLOSE_ON_FREE,
	    free_context, t);
	if (t->top == NULL) {
		SSL_set_ex_data(ssl, tlsbev_idx, NULL);
		goto fail;
	}
	if (evbuffer_add_cb(bufferevent_get_output(t->top), out_added_cb, t) == NULL) {
		SSL_set_ex_data(ssl, tlsbev_idx, NULL);
		t->ssl = NULL; /* the caller's again */
		bufferevent_free(t->top); /* frees t (free_context) and the socket bufferevent */
		return NULL;
	}
	return t->top;
fail:
	if (t->sock != NULL)
		bufferevent_free(t->sock);
	if (t->later != NULL)
		event_free(t->later);
	free(t);
	return NULL;
}

SSL *
tlsbev_ssl(struct bufferevent *bev)
{
	int fd;
	struct tlsbev *t;

	if (bev == NULL || (fd = bufferevent_getfd(bev)) < 0 || (size_t)fd >= by_fd_len ||
	    (t = by_fd[fd]) == NULL || t->top != bev)
		return NULL;
	return t->ssl;
}

void
tlsbev_resume(SSL *ssl)
{
	struct tlsbev *t = SSL_get_ex_data(ssl, tlsbev_idx);

	if (t != NULL && t->parked)
		later(t, LATER_RESUME);
}
