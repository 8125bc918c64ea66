/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The front: ztpd --child front, exec'd by the parent (parent.c). It
 * faces the network: the TLS and HTTP workers of the device, admin and
 * EST listeners. It holds the data key (secret.key: sealed PSKs, admin
 * tokens) and the server's TLS key, never the CA key nor what opens it
 * (ca.pass); certificates and CRLs are the signer's to sign, asked
 * through the socket the parent gave (FRONT_SIGNER_FD).
 *
 * Start-up, as root when ztpd was started as root: read secret.key and
 * ca.pem, bind the listeners (ports below 1024 need root), then become the unprivileged
 * user (privsep.h) before anything reads a byte from the network. Then:
 * the server certificate, the store, the thread that follows foreign
 * PKIs' CRLs (pki.h), the workers, READY to the parent.
 * SIGTERM or SIGINT (forwarded by the parent) drains and exits; the
 * parent's PASS_FD replaces the signer socket after a signer restart; the
 * control socket closing (the parent is gone) drains and exits too.
 */
#define _GNU_SOURCE /* signalfd */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "ca.h"
#include "config.h"
#include "datadir.h"
#include "front.h"
#include "gwmqtt.h"
#include "ipc.h"
#include "log.h"
#include "pki.h"
#include "privsep.h"
#include "proxy.h"
#include "server.h"
#include "signer_client.h"
#include "store.h"
#include "tlsbev.h"
#include "ztp/err.h"

#define LISTEN_BACKLOG 1024
#define CRL_TICK_MS 60000

static int
listen_socket(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* accepted sockets inherit TCP_NODELAY: small responses go out at once */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    (ss->ss_family == AF_INET6 &&
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * One socket per worker on addr; port 0 is resolved by the first bind and
 * reused by the others. The bound address goes to bound ("addr:port").
 * SO_REUSEPORT is safe here: the parent's lock on the data directory keeps
 * a second ztpd from binding the same ports.
 */
static int
bind_all(struct server *srv, enum listener_kind kind, const char *addr, char *bound, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char host[INET6_ADDRSTRLEN];
	int i;

	bound[0] = '\0';
	if (addr[0] == '\0' || strcmp(addr, "off") == 0)
		return 0;
	if (config_parse_addr(addr, &ss, &len) != 0) {
		log_warnx("bad listen address %s", addr);
		return ZTP_EINVAL;
	}
	if ((srv->fds[kind] = calloc((size_t)srv->nworkers, sizeof(int))) == NULL)
		return ZTP_ENOMEM;
	for (i = 0; i < srv->nworkers; i++)
		srv->fds[kind][i] = -1;
	for (i = 0; i < srv->nworkers; i++) {
		if ((srv->fds[kind][i] = listen_socket(&ss, len)) < 0) {
			log_warn("cannot listen on %s", addr);
			return ZTP_EIO;
		}
		if (i == 0 && getsockname(srv->fds[kind][0], (struct sockaddr *)&ss, &len) != 0)
			return ZTP_EIO;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(bound, cap, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(bound, cap, "%s:%u", host, ntohs(s4->sin_port));
	}
	return 0;
}

/* The URL clients use for a bound admin address (wildcards become loopback). */
static void
admin_url(const char *bound, char *out, size_t cap)
{
	const char *colon = strrchr(bound, ':');

	if (!strncmp(bound, "0.0.0.0:", 8))
		snprintf(out, cap, "https://127.0.0.1%s", colon);
	else if (!strncmp(bound, "[::]:", 5))
		snprintf(out, cap, "https://[::1]%s", colon);
	else
		snprintf(out, cap, "https://%s", bound);
}

void
server_store_target(const struct server *srv, char *out, size_t cap)
{
	if (srv->cfg->store[0] != '\0')
		snprintf(out, cap, "%s", srv->cfg->store);
	else
		snprintf(out, cap, "sqlite:%s/ztp.db", srv->dd->dir);
}

/*
 * Wait for a signal, the parent's messages and the CRL's minute. Returns
 * when a signal asks to stop or the parent is gone.
 */
static void
serve_control(struct server *srv, struct store *st, int sigfd)
{
	uint8_t buf[IPC_CTL_MAX];
	struct signalfd_siginfo si;
	struct signer_msg m;
	struct pollfd p[2];
	int fd, rc;

	for (;;) {
		p[0] = (struct pollfd){ sigfd, POLLIN, 0 };
		p[1] = (struct pollfd){ FRONT_CTL_FD, POLLIN, 0 };
		rc = poll(p, 2, CRL_TICK_MS);
		if (rc < 0 && errno != EINTR) {
			log_warn("poll");
			return;
		}
		if (rc == 0) {
			if (ca_crl_update(srv, st, 0) != 0)
				log_warnx("cannot re-sign the CRL; trying again in a minute");
			continue;
		}
		if (p[0].revents != 0 && read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			log_info("signal %u: draining", si.ssi_signo);
			return;
		}
		if (p[1].revents == 0)
			continue;
		rc = ipc_recv(FRONT_CTL_FD, buf, sizeof(buf), &m, &fd);
		if (rc == ZTP_ENOENT || rc == ZTP_EIO) {
			log_warnx("the parent process is gone: draining");
			return;
		}
		if (rc == 0 && m.type == SIGNER_MSG_PASS_FD) {
			signer_set_fd(srv->signer, fd);
			/* a CRL that was due while there was no signer */
			if (ca_crl_update(srv, st, 0) != 0)
				log_warnx("cannot re-sign the CRL; trying again in a minute");
		} else if (rc != ZTP_EBUSY) {
			log_warnx("unexpected message from the parent (%s)",
			    rc != 0 ? ztp_strerror(rc) : "type");
			if (fd >= 0)
				close(fd);
		}
	}
}

/*
 * Every connection is a descriptor: take all the kernel allows, and say
 * when that is less than the connection budgets add up to.
 */
static void
raise_nofile(const struct config *cfg)
{
	struct rlimit rl;
	long long want = (long long)cfg->workers * LISTENER__COUNT * cfg->max_connections + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && (long long)rl.rlim_cur < want)
		log_warnx("open files limited to %llu, the connection budgets want %lld: "
			  "connections may be refused by the kernel (raise LimitNOFILE or lower "
			  "--max-connections)", (unsigned long long)rl.rlim_cur, want);
}

int
front_main(struct config *cfg, const struct privsep_user *u)
{
	struct signer_msg ready = { .type = SIGNER_MSG_READY };
	struct datadir dd;
	struct server srv;
	struct store *st = NULL;
	struct gwmqtt *gw = NULL;
	char dev_bound[80], adm_bound[80], est_bound[80], url[128], errbuf[256];
	char dbpath[1100];
	sigset_t set;
	int i, k, sigfd;

	prctl(PR_SET_NAME, "ztpd-front", 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN); /* the parent's: it starts a new front (parent.c) */
	/* every thread blocks these; the main thread reads them from sigfd */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0)
		fatalx("signalfd: %s", strerror(errno));

	if (tls_init() != 0)
		fatalx("cannot initialise TLS");
	raise_nofile(cfg);
	if (tlsbev_init() != 0)
		fatalx("cannot initialise TLS");
	if (proxy_upstream_try(&cfg->upstream, errbuf, sizeof(errbuf)) != 0)
		fatalx("--upstream: %s", errbuf);
	if (datadir_open(&dd, cfg->data) != 0)
		fatalx("cannot prepare the data directory %s", cfg->data);

	memset(&srv, 0, sizeof(srv));
	srv.cfg = cfg;
	srv.dd = &dd;
	srv.nworkers = cfg->workers;
	if (bind_all(&srv, LISTENER_DEVICE, cfg->device_listen, dev_bound, sizeof(dev_bound)) != 0 ||
	    bind_all(&srv, LISTENER_ADMIN, cfg->admin_listen, adm_bound, sizeof(adm_bound)) != 0 ||
	    bind_all(&srv, LISTENER_EST, cfg->est_listen, est_bound, sizeof(est_bound)) != 0)
		fatalx("cannot bind the listeners");
	if (dev_bound[0] == '\0' && adm_bound[0] == '\0' && est_bound[0] == '\0')
		fatalx("no listener: set device-listen, admin-listen or est-listen");

	if (gwmqtt_prepare(cfg, &gw) != 0)
		fatalx("cannot use the MQTT options (--mqtt)");
	/* nothing above read from the network; from here on, no root */
	if (privsep_drop(u) != 0)
		fatalx("cannot drop privileges");
	if (access(dd.dir, R_OK | W_OK | X_OK) != 0)
		fatalx("user %s cannot use the data directory %s (%s): every directory above it must"
		       " let %s search it (x)", u->name, dd.dir, strerror(errno), u->name);

	if (signer_open_fd(&srv.signer, FRONT_SIGNER_FD, NULL) != 0)
		fatalx("no socket to the signer");
	if (datadir_server_cert(&dd, srv.signer) != 0)
		fatalx("cannot get a server certificate");
	server_store_target(&srv, dbpath, sizeof(dbpath));
	if (store_open(&st, dbpath, dd.key) != 0)
		fatalx("cannot open the store (%s)", cfg->store[0] ? "--store" : "DATA/ztp.db");
	if ((srv.ctx[LISTENER_DEVICE] = tls_device_ctx(&srv)) == NULL ||
	    (srv.ctx[LISTENER_ADMIN] = tls_admin_ctx(&srv)) == NULL ||
	    (srv.ctx[LISTENER_EST] = tls_est_ctx(&srv)) == NULL)
		fatalx("cannot create the TLS contexts");

	admin_url(adm_bound[0] ? adm_bound : "127.0.0.1:11443", url, sizeof(url));
	if (datadir_admin_key(&dd, st, url) != 0)
		fatalx("cannot create the admin API key");
	if (ca_crl_update(&srv, st, 0) != 0)
		log_warnx("cannot sign the CRL now; trying again in a minute");

	/* foreign PKIs' CRLs: their own thread and store connection, before any worker asks */
	if (pki_start(&srv) != 0)
		fatalx("cannot start the CRL synchronisation of foreign PKIs");
	if ((srv.workers = calloc((size_t)srv.nworkers, sizeof(struct worker))) == NULL)
		fatalx("out of memory");
	for (i = 0; i < srv.nworkers; i++) {
		srv.workers[i].id = i;
		if (worker_start(&srv, &srv.workers[i]) != 0)
			fatalx("cannot start worker %d", i);
	}
	if (gwmqtt_start(gw, &srv, est_bound) != 0)
		fatalx("cannot start the MQTT client (--mqtt)");
	snprintf(ready.u.ready.device, sizeof(ready.u.ready.device), "%s", dev_bound);
	snprintf(ready.u.ready.admin, sizeof(ready.u.ready.admin), "%s", adm_bound);
	snprintf(ready.u.ready.est, sizeof(ready.u.ready.est), "%s", est_bound);
	if (ipc_send(FRONT_CTL_FD, &ready, -1) != 0)
		fatalx("the parent process is gone");
	log_info("ztpd listening: device %s, admin %s, EST %s, %d workers, data %s, user %s",
	    dev_bound[0] ? dev_bound : "off", adm_bound[0] ? adm_bound : "off",
	    est_bound[0] ? est_bound : "off", srv.nworkers, dd.dir, u->name);

	serve_control(&srv, st, sigfd);

	gwmqtt_stop(gw);

	/* a fetch under way is cut; the syncs that wait are answered by their workers */
	pki_stop();
	for (i = 0; i < srv.nworkers; i++)
		worker_stop(&srv.workers[i]);
	for (i = 0; i < srv.nworkers; i++)
		worker_join(&srv.workers[i]);
	for (k = 0; k < LISTENER__COUNT; k++) {
		SSL_CTX_free(srv.ctx[k]);
		if (srv.fds[k] != NULL)
			for (i = 0; i < srv.nworkers; i++)
				if (srv.fds[k][i] >= 0)
					close(srv.fds[k][i]);
		free(srv.fds[k]);
	}
	free(srv.workers);
	store_close(st);
	signer_free(srv.signer);
	datadir_close(&dd);
	close(sigfd);
	log_info("front stopped");
	privsep_before_exit();
	return 0;
}
