/* SPDX-License-Identifier: Apache-2.0 */
/*
 * delayproxy: a TCP proxy that adds a fixed delay each way, for
 * bench/store.sh (ztpd talking to PostgreSQL as over a network with a
 * round trip of twice --delay-ms). Every connection accepted on
 * 127.0.0.1:--port (ephemeral by default) is connected to --to HOST:PORT;
 * what arrives from either side is held --delay-ms milliseconds from its
 * arrival, then written to the other, in order. The delay is the same for
 * every chunk, so the queue of each direction is in release order and one
 * timer per direction suffices. --delay-ms 0 passes the bytes through the
 * same queues (one event loop turn later), so that a run through it is the
 * baseline of a delayed one with the proxy's own cost in both.
 *
 * One libevent loop with precise timers (timerfd: epoll_wait alone would
 * round the delay up to the next millisecond); TCP_NODELAY on both sides
 * (libpq and PostgreSQL set it on theirs). When a side ends (EOF or an
 * error), what it sent before is still delivered after the delay, then
 * both sides are closed.
 *
 * It prints "port: N" once it accepts; SIGTERM or SIGINT stops it, and it
 * prints "connections: N" and "bytes: M" then. Exit 0, 1 on a failure to
 * start, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "clock.h"
#include "num.h"

/* What one read brought, or the end of the side (data NULL), and when it is due. */
struct chunk {
	struct chunk *next;
	struct evbuffer *data;
	uint64_t due_us;
};

struct pair;

/* One direction: from the bufferevent "from" to the other side of the pair. */
struct dir {
	struct pair *pair;
	struct bufferevent *from, *to;
	struct chunk *head, *tail;
	struct event *timer;
};

/* A proxied connection: the client's side and the server's. */
struct pair {
	struct bufferevent *client, *server;
	struct dir up, down; /* client to server, server to client */
	int closing;
};

static struct event_base *base;
static struct sockaddr_in to_addr;
static uint64_t delay_us;
static uint64_t n_connections, n_bytes;

static void
usage(void)
{
	fprintf(stderr, "usage: delayproxy --to HOST:PORT --delay-ms MS [--port PORT]\n"
			"Adds MS milliseconds each way between the clients of 127.0.0.1:PORT\n"
			"(ephemeral by default; printed as \"port: N\") and HOST:PORT.\n");
	exit(2);
}

static void
dir_free(struct dir *d)
{
	struct chunk *c, *n;

	for (c = d->head; c != NULL; c = n) {
		n = c->next;
		if (c->data != NULL)
			evbuffer_free(c->data);
		free(c);
	}
	d->head = d->tail = NULL;
	if (d->timer != NULL)
		event_free(d->timer);
	d->timer = NULL;
}

static void
pair_free(struct pair *p)
{
	dir_free(&p->up);
	dir_free(&p->down);
	if (p->client != NULL)
		bufferevent_free(p->client);
	if (p->server != NULL)
		bufferevent_free(p->server);
	free(p);
}

/* The pair ends once what the closing side's peer still has to send is written. */
static void
drained_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	pair_free(arg);
}

static void
pair_close_after_flush(struct pair *p, struct bufferevent *to)
{
	p->closing = 1;
	bufferevent_disable(p->client, EV_READ);
	bufferevent_disable(p->server, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(to)) == 0) {
		pair_free(p);
		return;
	}
	bufferevent_setcb(to, NULL, drained_cb, NULL, p);
}

static void
dir_arm(struct dir *d, uint64_t now)
{
	struct timeval tv;
	uint64_t wait = d->head->due_us > now ? d->head->due_us - now : 0;

	tv.tv_sec = (time_t)(wait / 1000000u);
	tv.tv_usec = (suseconds_t)(wait % 1000000u);
	evtimer_add(d->timer, &tv);
}

/* Release the chunks that are due; the end of a side closes the pair. */
static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dir *d = arg;
	struct chunk *c;
	uint64_t now = clock_mono_us();

	(void)fd;
	(void)what;
	if (d->pair->closing)
		return; /* the other side ended first: the pair goes once it is flushed */
	while ((c = d->head) != NULL && c->due_us <= now) {
		d->head = c->next;
		if (d->head == NULL)
			d->tail = NULL;
		if (c->data == NULL) {
			free(c);
			pair_close_after_flush(d->pair, d->to);
			return;
		}
		bufferevent_write_buffer(d->to, c->data);
		evbuffer_free(c->data);
		free(c);
	}
	if (d->head != NULL)
		dir_arm(d, now);
}

/* Queue what arrived (data NULL: the end of the side) for delay_us from now. */
static int
dir_push(struct dir *d, struct evbuffer *data)
{
	struct chunk *c;
	uint64_t now = clock_mono_us();

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->data = data;
	c->due_us = now + delay_us;
	if (d->tail != NULL) {
		d->tail->next = c;
		d->tail = c;
		return 0;
	}
	d->head = d->tail = c;
	dir_arm(d, now);
	return 0;
}

static struct dir *
dir_of(struct pair *p, struct bufferevent *bev)
{
	return bev == p->client ? &p->up : &p->down;
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct pair *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev), *data;

	if (p->closing)
		return;
	n_bytes += evbuffer_get_length(in);
	if ((data = evbuffer_new()) == NULL || evbuffer_add_buffer(data, in) != 0 ||
	    dir_push(dir_of(p, bev), data) != 0) {
		if (data != NULL)
			evbuffer_free(data);
		pair_free(p);
	}
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct pair *p = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) || p->closing)
		return;
	if (!(what & BEV_EVENT_ERROR) || bev == p->client) {
		/* what the side sent before it ended still goes, after the delay */
		bufferevent_disable(bev, EV_READ);
		if (dir_push(dir_of(p, bev), NULL) == 0)
			return;
	}
	pair_free(p);
}

static void
nodelay(evutil_socket_t fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct pair *p;

	(void)l;
	(void)sa;
	(void)len;
	(void)arg;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		close(fd);
		return;
	}
	nodelay(fd);
	p->client = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	p->server = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (p->client == NULL || p->server == NULL) {
		if (p->client == NULL)
			close(fd);
		pair_free(p);
		return;
	}
	p->up = (struct dir){ .pair = p, .from = p->client, .to = p->server };
	p->down = (struct dir){ .pair = p, .from = p->server, .to = p->client };
	p->up.timer = evtimer_new(base, timer_cb, &p->up);
	p->down.timer = evtimer_new(base, timer_cb, &p->down);
	if (p->up.timer == NULL || p->down.timer == NULL ||
	    bufferevent_socket_connect(p->server, (struct sockaddr *)&to_addr, sizeof(to_addr)) != 0) {
		pair_free(p);
		return;
	}
	nodelay(bufferevent_getfd(p->server));
	bufferevent_setcb(p->client, read_cb, NULL, event_cb, p);
	bufferevent_setcb(p->server, read_cb, NULL, event_cb, p);
	bufferevent_enable(p->client, EV_READ | EV_WRITE);
	bufferevent_enable(p->server, EV_READ | EV_WRITE);
	n_connections++;
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	event_base_loopexit(base, NULL);
}

static void
parse_to(const char *v)
{
	const char *colon = strrchr(v, ':');
	char host[64];
	uint64_t port = 0;

	if (colon == NULL || (size_t)(colon - v) >= sizeof(host) ||
	    num_parse_u64z(colon + 1, 1, 65535, &port) != 0)
		usage();
	memcpy(host, v, (size_t)(colon - v));
	host[colon - v] = '\0';
	memset(&to_addr, 0, sizeof(to_addr));
	to_addr.sin_family = AF_INET;
	to_addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &to_addr.sin_addr) != 1)
		usage();
}

int
main(int argc, char **argv)
{
	struct event_config *cfg;
	struct evconnlistener *l;
	struct event *sigterm, *sigint;
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	uint64_t port = 0, ms = UINT64_MAX;
	int i, have_to = 0;

	for (i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			usage();
		if (!strcmp(a, "--to")) {
			parse_to(v);
			have_to = 1;
		} else if (!strcmp(a, "--delay-ms")) {
			if (num_parse_u64z(v, 0, 10000, &ms) != 0)
				usage();
		} else if (!strcmp(a, "--port")) {
			if (num_parse_u64z(v, 0, 65535, &port) != 0)
				usage();
		} else {
			usage();
		}
	}
	if (!have_to || ms == UINT64_MAX)
		usage();
	delay_us = ms * 1000u;
	signal(SIGPIPE, SIG_IGN);

	if ((cfg = event_config_new()) == NULL)
		return 1;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (base == NULL) {
		fprintf(stderr, "delayproxy: no event loop\n");
		return 1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	l = evconnlistener_new_bind(base, accept_cb, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
	    128, (struct sockaddr *)&sin, sizeof(sin));
	if (l == NULL || getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin, &slen) != 0) {
		perror("delayproxy: listen on 127.0.0.1");
		return 1;
	}
	sigterm = evsignal_new(base, SIGTERM, signal_cb, NULL);
	sigint = evsignal_new(base, SIGINT, signal_cb, NULL);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) != 0 ||
	    evsignal_add(sigint, NULL) != 0) {
		fprintf(stderr, "delayproxy: cannot catch signals\n");
		return 1;
	}
	printf("port: %u\n", ntohs(sin.sin_port));
	fflush(stdout);
	event_base_dispatch(base);
	printf("connections: %" PRIu64 "\nbytes: %" PRIu64 "\n", n_connections, n_bytes);
	event_free(sigterm);
	event_free(sigint);
	evconnlistener_free(l);
	event_base_free(base);
	return 0;
}
