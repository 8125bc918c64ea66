/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-enroll: a Linux gateway gets and renews its device certificate over
 * EST (RFC 7030) with the libztp EST client (ztp/est.h), its key in a file
 * key store (ztp/keystore.h). Meant to run at boot and from a timer: it
 * does only what is needed, and says what with its exit status. One run
 * is enroll_run() (enroll.c, which ztp-agent shares): the key made once,
 * cacerts, then enrol, renew or nothing, the issued certificate checked
 * and stored. This file is its command line.
 *
 * Exit status: see usage() and docs/enroll.md. The password and the keys
 * are never printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "enroll.h"
#include "num.h"
#include "ztp/csr.h"
#include "ztp/err.h"
#include "ztp/est.h"
#include "ztp/keystore.h"

#define EXIT_DONE ENROLL_DONE       /* a new certificate was stored */
#define EXIT_USAGE ENROLL_USAGE     /* a bad command line, or a file it names cannot be used */
#define EXIT_NOTHING ENROLL_NOTHING /* the certificate is valid and not due */
#define EXIT_REFUSED ENROLL_REFUSED /* the server refused (4xx) */
#define EXIT_TEMP ENROLL_TEMP       /* network, TLS, 5xx, unusable answer, 202 too long */
#define EXIT_LOCAL ENROLL_LOCAL     /* the key store, or no certificate for --days-left */

#define PASSWORD_ENV "ZTP_ENROLL_PASSWORD"
#define MAX_WAIT_DEFAULT 300
#define MAX_WAIT_MAX 86400
#define TIMEOUT_DEFAULT 30
#define TIMEOUT_MAX 600
#define RENEW_BEFORE_MAX ((uint64_t)ENROLL_RENEW_BEFORE_MAX)

struct args {
	const char *server, *ca, *store, *id;
	const char *password_file, *idevid_cert, *idevid_key;
	char *password; /* malloc'd; cleansed before exit */
	int have_password_arg;
	int64_t renew_before; /* -1: a third of the lifetime */
	int force, days_left, public_key, verbose;
	uint32_t max_wait, timeout_s;
};

static int verbose;

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A line on stderr, "ztp-enroll: ...". */
static void
msg(const char *fmt, ...)
{
	va_list ap;

	fputs("ztp-enroll: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ztp-enroll --server URL --ca FILE --store DIR --id UDID\n"
	    "                  [--password-file FILE | --password P] [--idevid-cert FILE\n"
	    "                  --idevid-key FILE] [--renew-before SECONDS] [--force]\n"
	    "                  [--max-wait SECONDS] [--timeout SECONDS] [-v]\n"
	    "       ztp-enroll --store DIR --days-left\n"
	    "       ztp-enroll --store DIR --public-key\n"
	    "\n"
	    "Gets the device certificate over EST (RFC 7030) or renews it when it is due.\n"
	    "\n"
	    "  --server URL          the EST server, https://HOST[:PORT]\n"
	    "  --ca FILE             PEM certificate(s) the server's TLS certificate must\n"
	    "                        verify against (its name or address is checked too)\n"
	    "  --store DIR           the key store (created, mode 0700): slot 0 the device\n"
	    "                        key, 10 the certificate, 11 the CA certificates\n"
	    "  --id UDID             the device's identity: subject CN and serialNumber of\n"
	    "                        the request, and the HTTP Basic user\n"
	    "  --password-file FILE  the one-time enrolment password (first line); the\n"
	    "                        environment variable " PASSWORD_ENV " works too\n"
	    "  --password P          the same on the command line, which other users can\n"
	    "                        see (ps); prefer the file or the variable\n"
	    "  --idevid-cert FILE, --idevid-key FILE\n"
	    "                        a manufacturer certificate and its key (PEM, key not\n"
	    "                        encrypted) for TLS client authentication on enrolment\n"
	    "  --renew-before SECS   renew when less than SECS of validity are left\n"
	    "                        (default: when a third of its lifetime is left)\n"
	    "  --force               renew now (enrol if there is no valid certificate)\n"
	    "  --max-wait SECS       wait at most SECS in all when the server answers 202\n"
	    "                        (default %d)\n"
	    "  --timeout SECS        each request, connection to answer (default %d)\n"
	    "  --days-left           print the whole days the stored certificate has left\n"
	    "                        (negative if expired); no server contact\n"
	    "  --public-key          print the device's public key (PEM), making the key\n"
	    "                        if there is none, for the server's allowlist\n"
	    "  -v, --verbose         say what is done\n"
	    "\n"
	    "Exit status:\n"
	    "  0  a new certificate was stored (prints \"enrolled\" or \"renewed\", the\n"
	    "     serial number and notAfter); --days-left, --public-key: done\n"
	    "  2  usage error, or a file named on the command line cannot be used\n"
	    "  3  nothing to do: the certificate is valid and not due (prints when it is)\n"
	    "  4  refused by the server (prints the HTTP status and the server's reason)\n"
	    "  5  temporary failure: network, TLS, server error (5xx), an unusable answer,\n"
	    "     or still 202 after --max-wait; nothing was stored, try again later\n"
	    "  6  local error: the key store (or no certificate, for --days-left)\n",
	    MAX_WAIT_DEFAULT, TIMEOUT_DEFAULT);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ztp-enroll: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(ztp-enroll --help for the options)\n", stderr);
	return EXIT_USAGE;
}

/* libevent's own messages, only with -v. */
static void
event_log(int severity, const char *line)
{
	if (verbose)
		msg("libevent: %s", line);
}

static int
password_ok(const char *p)
{
	size_t i, n = strnlen(p, CSR_PASSWORD_MAX + 1);

	if (n == 0 || n > CSR_PASSWORD_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return 0;
	return 1;
}

/*
 * The password from the first line of path (without its line end): a
 * regular file of at most CSR_PASSWORD_MAX + 2 bytes. A file others may
 * read gets a warning.
 */
static int
password_from_file(const char *path, char **out)
{
	char buf[CSR_PASSWORD_MAX + 3];
	struct stat st;
	ssize_t n;
	size_t got = 0, len;
	int fd, rc = EXIT_USAGE;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
		return usage_error("--password-file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = usage_error("--password-file %s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077)
		msg("warning: %s can be read by other users (chmod 600)", path);
	while (got < sizeof(buf)) {
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = usage_error("--password-file %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	len = 0;
	while (len < got && buf[len] != '\n' && buf[len] != '\r')
		len++;
	if (got == sizeof(buf) && len == got) {
		rc = usage_error("--password-file %s: the password is longer than %d characters",
		    path, CSR_PASSWORD_MAX);
		goto out;
	}
	buf[len] = '\0';
	if (!password_ok(buf)) {
		rc = usage_error("--password-file %s: the password must be 1 to %d printable "
		    "ASCII characters", path, CSR_PASSWORD_MAX);
		goto out;
	}
	if ((*out = strdup(buf)) == NULL) {
		rc = usage_error("out of memory");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return rc;
}

static int
parse_secs(const char *opt, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (num_parse_u64z(v, min, max, out) != 0)
		return usage_error("invalid %s '%s': expected seconds from %llu to %llu", opt, v,
		    (unsigned long long)min, (unsigned long long)max);
	return 0;
}

enum {
	OPT_SERVER = 256, OPT_CA, OPT_STORE, OPT_ID, OPT_PASSWORD, OPT_PASSWORD_FILE,
	OPT_IDEVID_CERT, OPT_IDEVID_KEY, OPT_RENEW_BEFORE, OPT_FORCE, OPT_DAYS_LEFT,
	OPT_PUBLIC_KEY, OPT_MAX_WAIT, OPT_TIMEOUT,
};

static int
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "ca", required_argument, NULL, OPT_CA },
		{ "store", required_argument, NULL, OPT_STORE },
		{ "id", required_argument, NULL, OPT_ID },
		{ "password", required_argument, NULL, OPT_PASSWORD },
		{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
		{ "idevid-cert", required_argument, NULL, OPT_IDEVID_CERT },
		{ "idevid-key", required_argument, NULL, OPT_IDEVID_KEY },
		{ "renew-before", required_argument, NULL, OPT_RENEW_BEFORE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "days-left", no_argument, NULL, OPT_DAYS_LEFT },
		{ "public-key", no_argument, NULL, OPT_PUBLIC_KEY },
		{ "max-wait", required_argument, NULL, OPT_MAX_WAIT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct est_url url;
	const char *env;
	uint64_t v;
	int c, rc;

	memset(a, 0, sizeof(*a));
	a->renew_before = -1;
	a->max_wait = MAX_WAIT_DEFAULT;
	a->timeout_s = TIMEOUT_DEFAULT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SERVER:
			a->server = optarg;
			break;
		case OPT_CA:
			a->ca = optarg;
			break;
		case OPT_STORE:
			a->store = optarg;
			break;
		case OPT_ID:
			a->id = optarg;
			break;
		case OPT_PASSWORD:
			if (a->password != NULL)
				return usage_error("--password given twice");
			if ((a->password = strdup(optarg)) == NULL)
				return usage_error("out of memory");
			/* out of /proc/PID/cmdline from now on (ps saw it until here) */
			OPENSSL_cleanse(optarg, strlen(optarg));
			a->have_password_arg = 1;
			break;
		case OPT_PASSWORD_FILE:
			a->password_file = optarg;
			break;
		case OPT_IDEVID_CERT:
			a->idevid_cert = optarg;
			break;
		case OPT_IDEVID_KEY:
			a->idevid_key = optarg;
			break;
		case OPT_RENEW_BEFORE:
			rc = parse_secs("--renew-before", optarg, 0, RENEW_BEFORE_MAX, &v);
			if (rc != 0)
				return rc;
			a->renew_before = (int64_t)v;
			break;
		case OPT_FORCE:
			a->force = 1;
			break;
		case OPT_DAYS_LEFT:
			a->days_left = 1;
			break;
		case OPT_PUBLIC_KEY:
			a->public_key = 1;
			break;
		case OPT_MAX_WAIT:
			if ((rc = parse_secs("--max-wait", optarg, 0, MAX_WAIT_MAX, &v)) != 0)
				return rc;
			a->max_wait = (uint32_t)v;
			break;
		case OPT_TIMEOUT:
			if ((rc = parse_secs("--timeout", optarg, 1, TIMEOUT_MAX, &v)) != 0)
				return rc;
			a->timeout_s = (uint32_t)v;
			break;
		case 'v':
			a->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (a->store == NULL)
		return usage_error("--store DIR is required");
	if (a->days_left && a->public_key)
		return usage_error("--days-left and --public-key go alone");
	if (a->days_left || a->public_key)
		return 0;
	if (a->server == NULL || a->ca == NULL || a->id == NULL)
		return usage_error("--server URL, --ca FILE, --store DIR and --id UDID are "
		    "required");
	if (est_parse_url(a->server, &url) != 0)
		return usage_error("invalid --server '%s': expected https://HOST[:PORT] (HOST a "
		    "name, an IPv4 address or [IPv6])", a->server);
	if (!csr_udid_valid(a->id))
		return usage_error("invalid --id '%s': 1 to %d letters, digits, '-', '.' or ':'",
		    a->id, CSR_UDID_MAX);
	if ((a->idevid_cert == NULL) != (a->idevid_key == NULL))
		return usage_error("--idevid-cert and --idevid-key go together");
	if (a->password != NULL && a->password_file != NULL)
		return usage_error("give one of --password and --password-file");
	if (a->password_file != NULL) {
		if ((rc = password_from_file(a->password_file, &a->password)) != 0)
			return rc;
	} else if (a->password == NULL && (env = getenv(PASSWORD_ENV)) != NULL && env[0] != '\0') {
		if ((a->password = strdup(env)) == NULL)
			return usage_error("out of memory");
	}
	if (a->password != NULL && !password_ok(a->password))
		return usage_error("the password must be 1 to %d printable ASCII characters",
		    CSR_PASSWORD_MAX);
	if (a->password != NULL && strchr(a->id, ':') != NULL)
		return usage_error("--id %s: a UDID with ':' cannot be the user name of HTTP Basic "
		    "(RFC 7617), which a password is sent with: enrol it with an IDevID or the "
		    "allowlist", a->id);
	return 0;
}

static int
cmd_days_left(const char *store)
{
	struct keystore *ks = NULL;
	X509 *cert = NULL;
	char err[KEYSTORE_ERR_MAX];
	int64_t nb, na, left, now = (int64_t)time(NULL);
	int rc;

	if (keystore_file_open(store, 0, &ks, err, sizeof(err)) != 0) {
		msg("key store: %s", err);
		return EXIT_LOCAL;
	}
	if (enroll_stored_cert(ks, &cert, err, sizeof(err)) != 0 || est_cert_times(cert, &nb, &na) != 0) {
		msg("%s", cert == NULL ? err : "slot 10: unreadable validity");
		rc = EXIT_LOCAL;
		goto out;
	}
	left = na - now;
	/* whole days, rounded down: -1 as soon as it has expired */
	printf("%lld\n", (long long)(left >= 0 ? left / 86400 : -((-left + 86399) / 86400)));
	rc = EXIT_DONE;
out:
	X509_free(cert);
	keystore_close(ks);
	return rc;
}

static int
cmd_public_key(const char *store)
{
	struct keystore *ks = NULL;
	uint8_t *pem = NULL;
	size_t len = 0;
	char why[EST_WHY_MAX];
	int made = 0, rc;

	if ((rc = enroll_open_store(store, &ks, &made, why, sizeof(why))) != 0) {
		msg("%s", why);
		goto out;
	}
	if (made)
		msg("generated the device key (P-256) in slot %d", KEYSTORE_SLOT_DEVICE_KEY);
	if (csr_public_key(ks, KEYSTORE_SLOT_DEVICE_KEY, CSR_PEM, &pem, &len) != 0) {
		msg("key store: %s", keystore_error(ks));
		rc = EXIT_LOCAL;
		goto out;
	}
	fwrite(pem, 1, len, stdout);
	rc = EXIT_DONE;
out:
	free(pem);
	keystore_close(ks);
	return rc;
}

/* enroll_run()'s lines, "ztp-enroll: ..." on stderr */
static void
enroll_msg(void *arg, const char *line)
{
	msg("%s", line);
}

int
main(int argc, char **argv)
{
	struct args a;
	struct enroll_opts o;
	struct enroll_outcome res;
	STACK_OF(X509) *idev_chain = NULL;
	X509 *idev_cert = NULL;
	EVP_PKEY *idev_key = NULL;
	char why[EST_WHY_MAX], t1[32], t2[32];
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if ((rc = parse_args(argc, argv, &a)) != 0)
		goto out;
	verbose = a.verbose;
	event_set_log_callback(event_log);
	if (a.days_left) {
		rc = cmd_days_left(a.store);
		goto out;
	}
	if (a.public_key) {
		rc = cmd_public_key(a.store);
		goto out;
	}
	if (a.have_password_arg)
		msg("warning: --password is visible to other users (ps); prefer --password-file "
		    "or " PASSWORD_ENV);

	/* the IDevID first: a bad file on the command line is a usage error */
	if (a.idevid_cert != NULL && est_identity_from_files(a.idevid_cert, a.idevid_key,
	    &idev_cert, &idev_chain, &idev_key, why, sizeof(why)) != 0) {
		rc = usage_error("IDevID: %s", why);
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.server = a.server;
	o.ca_file = a.ca;
	o.store = a.store;
	o.id = a.id;
	o.client_cert = idev_cert;
	o.client_key = idev_key;
	o.client_chain = idev_chain;
	o.password = a.password;
	o.renew_before = a.renew_before;
	o.force = a.force;
	o.max_wait = a.max_wait;
	o.timeout_s = a.timeout_s;
	o.verbose = a.verbose;
	o.msg = enroll_msg;
	rc = enroll_run(&o, &res);
	switch (rc) {
	case EXIT_USAGE:
		fputs("(ztp-enroll --help for the options)\n", stderr);
		break;
	case EXIT_NOTHING:
		enroll_fmt_time(res.not_after, t1, sizeof(t1));
		enroll_fmt_time(res.due_at, t2, sizeof(t2));
		printf("valid serial=%s notAfter=%s renewal due %s\n", res.serial, t1, t2);
		break;
	case EXIT_DONE:
		enroll_fmt_time(res.not_after, t1, sizeof(t1));
		printf("%s serial=%s notAfter=%s\n", res.renewed ? "renewed" : "enrolled",
		    res.serial, t1);
		break;
	}
out:
	fflush(stdout);
	X509_free(idev_cert);
	EVP_PKEY_free(idev_key);
	sk_X509_pop_free(idev_chain, X509_free);
	if (a.password != NULL)
		OPENSSL_clear_free(a.password, strlen(a.password));
	return rc;
}
