/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpd: parse the configuration, prepare the data directory, bind the
 * listening sockets (one per worker and listener, SO_REUSEPORT), start the
 * workers, and wait for SIGTERM or SIGINT to drain and exit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/ssl.h>

#include "ca.h"
#include "config.h"
#include "datadir.h"
#include "log.h"
#include "proxy.h"
#include "server.h"
#include "signer.h"
#include "store.h"
#include "ztp/err.h"

#define LISTEN_BACKLOG 1024

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
	if (config_parse_addr(addr, &ss, &len) != 0)
		fatalx("bad listen address %s", addr);
	if ((srv->fds[kind] = calloc((size_t)srv->nworkers, sizeof(int))) == NULL)
		return ZTP_ENOMEM;
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

int
main(int argc, char **argv)
{
	struct config cfg;
	struct datadir dd;
	struct server srv;
	struct store *st = NULL;
	char dbpath[PATH_MAX], runpath[PATH_MAX], dev_bound[80], adm_bound[80], est_bound[80];
	char url[128], errbuf[256];
	struct timespec tick = { 60, 0 };
	sigset_t set;
	int i, k, sig, rc;

	config_defaults(&cfg);
	if ((rc = config_parse_args(&cfg, argc, argv)) != 0)
		return rc > 0 ? 0 : 2;
	log_init("ztpd", cfg.log_format, cfg.log_level);

	/* secrets and the database: owner only; certificates are chmod'ed 0644 */
	umask(077);

	/* every thread blocks the signals; main waits for them */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (tls_init() != 0)
		fatalx("cannot initialise TLS");
	if (proxy_upstream_try(&cfg.upstream, errbuf, sizeof(errbuf)) != 0) {
		fprintf(stderr, "ztpd: --upstream: %s\n", errbuf);
		return 2;
	}
	if (cfg.import_ca_cert[0] != '\0') {
		if (datadir_import_ca(cfg.data, cfg.import_ca_cert, cfg.import_ca_key) != 0)
			fatalx("the CA was not imported");
		return 0;
	}
	if (datadir_open(&dd, cfg.data) != 0)
		fatalx("cannot prepare the data directory %s", cfg.data);

	memset(&srv, 0, sizeof(srv));
	srv.cfg = &cfg;
	srv.dd = &dd;
	srv.nworkers = cfg.workers;
	/* the CA process, forked while this process has one thread */
	if (signer_start(&srv.signer, dd.dir, dd.key, NULL) != 0)
		fatalx("cannot start the CA signer process");
	if (datadir_server_cert(&dd, srv.signer) != 0)
		fatalx("cannot get a server certificate");
	datadir_path(&dd, "ztp.db", dbpath);
	if (store_open(&st, dbpath, dd.key) != 0)
		fatalx("cannot open the store %s", dbpath);

	if ((srv.ctx[LISTENER_DEVICE] = tls_device_ctx(&srv)) == NULL ||
	    (srv.ctx[LISTENER_ADMIN] = tls_admin_ctx(&srv)) == NULL ||
	    (srv.ctx[LISTENER_EST] = tls_est_ctx(&srv)) == NULL)
		fatalx("cannot create the TLS contexts");
	if (bind_all(&srv, LISTENER_DEVICE, cfg.device_listen, dev_bound, sizeof(dev_bound)) != 0 ||
	    bind_all(&srv, LISTENER_ADMIN, cfg.admin_listen, adm_bound, sizeof(adm_bound)) != 0 ||
	    bind_all(&srv, LISTENER_EST, cfg.est_listen, est_bound, sizeof(est_bound)) != 0)
		fatalx("cannot bind the listeners");
	if (dev_bound[0] == '\0' && adm_bound[0] == '\0' && est_bound[0] == '\0')
		fatalx("no listener: set device-listen, admin-listen or est-listen");

	admin_url(adm_bound[0] ? adm_bound : "127.0.0.1:11443", url, sizeof(url));
	if (datadir_admin_key(&dd, st, url) != 0)
		fatalx("cannot create the admin API key");
	if (ca_crl_update(&srv, st, 0) != 0)
		log_warnx("cannot sign the CRL now; trying again in a minute");

	if ((srv.workers = calloc((size_t)srv.nworkers, sizeof(struct worker))) == NULL)
		fatalx("out of memory");
	for (i = 0; i < srv.nworkers; i++) {
		srv.workers[i].id = i;
		if (worker_start(&srv, &srv.workers[i]) != 0)
			fatalx("cannot start worker %d", i);
	}
	if (datadir_write_run(&dd, dev_bound, adm_bound, est_bound) != 0)
		log_warnx("cannot write run.json");
	log_info("ztpd listening: device %s, admin %s, EST %s, %d workers, data %s",
	    dev_bound[0] ? dev_bound : "off", adm_bound[0] ? adm_bound : "off",
	    est_bound[0] ? est_bound : "off", srv.nworkers, dd.dir);

	/* wait for a signal; every minute, re-sign the CRL when it is due */
	while ((sig = sigtimedwait(&set, NULL, &tick)) < 0) {
		if (errno == EAGAIN && ca_crl_update(&srv, st, 0) != 0)
			log_warnx("cannot re-sign the CRL; trying again in a minute");
	}
	log_info("signal %d: draining", sig);
	for (i = 0; i < srv.nworkers; i++)
		worker_stop(&srv.workers[i]);
	for (i = 0; i < srv.nworkers; i++)
		worker_join(&srv.workers[i]);

	datadir_path(&dd, "run.json", runpath);
	unlink(runpath);
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
	log_info("stopped");
	return 0;
}
