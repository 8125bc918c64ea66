/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl: the command-line client of ztpd's admin API (docs/admin-api.md).
 *
 * It reads one API key from the admin file ({"url", "key_id", "secret",
 * "ca"}), verifies the server against that file's CA only, exchanges the
 * key for a bearer token and sends one request per command (several for
 * the paged lists and sim import, all on one connection). Tables by
 * default, the server's JSON with --json.
 *
 * Exit status: 0 success, 1 an error from the server, the connection or a
 * local file, or a line that sim import or allowlist import refused, 2 a
 * usage error (ZTP_EINVAL inside ztpctl means exactly that). The secret,
 * the token, PSKs and master keys are never printed, but for a generated
 * master key or enrolment password that has nowhere else to go, and the
 * keys psk get and e2e params exist to fetch.
 *
 * This file is main, its global options and the table of nouns; the core
 * that the nouns use is declared in ctl.h, and each noun (sim, group, ...)
 * is a file of its own, ctl_<noun>.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ctl.h"
#include "ztp/err.h"

#define EXIT_USAGE 2

/*
 * The nouns, in the order of --help: X(word, noun, heading). A noun is
 * one file, ctl_<noun>.c, that defines const struct ctl_noun ctl_<noun>
 * (the table of its commands and its lines of --help), and one line here;
 * a later noun (owner, apikey, module, profile, gateway...) is that and
 * nothing more, but its file in ztpctl's source list in CMakeLists.txt.
 * heading starts a section of --help before the noun's lines (after a
 * blank line); NULL: the noun's lines go on the section before.
 */
#define NOUNS(X)                                                        \
	X("sim", ctl_sim, "SIMs:\n")                                     \
	X("group", ctl_group, "Groups (docs/psk-sources.md):\n")         \
	X("allowlist", ctl_allowlist, "Certificates (EST enrolment):\n") \
	X("password", ctl_password, NULL)                                \
	X("mfr-ca", ctl_mfr_ca, NULL)                                    \
	X("cert", ctl_cert, NULL)                                        \
	X("device", ctl_device, NULL)                                    \
	X("pki", ctl_pki, NULL)                                          \
	X("profile", ctl_profile, "Module security service (docs/security-service.md):\n") \
	X("module", ctl_module, NULL)                                    \
	X("campaign", ctl_campaign, NULL)                                \
	X("ztp-ca", ctl_ztpca, NULL)                                     \
	X("psk", ctl_psk, "Services of the root of trust (docs/security-service.md):\n") \
	X("e2e", ctl_e2e, NULL)                                          \
	X("gateway-batch", ctl_gateway_batch, "Gateways over MQTT (docs/gateways.md):\n") \
	X("gateway", ctl_gateway, NULL)                                  \
	X("config", ctl_config, "Configurations:\n")                     \
	X("telemetry", ctl_telemetry, "Device data:\n")                  \
	X("events", ctl_events, NULL)                                    \
	X("owner", ctl_owner, "Owners and API keys (docs/admin-api.md):\n") \
	X("apikey", ctl_apikey, NULL)

#define NOUN_DECLARE(word, noun, heading) extern const struct ctl_noun noun;
NOUNS(NOUN_DECLARE)

static void usage(FILE *f);

/* ztpctl help: the same as --help */
static int
help_run(struct ctl *c, const struct ctl_args *a)
{
	usage(stdout);
	return 0;
}

static const struct ctl_cmd help_cmds[] = {
	{ NULL, 0, 0, "help", help_run },
};

/* help: a noun of ztpctl itself, the last in the table and in --help */
static const struct ctl_noun help_noun = {
	help_cmds,
	CTL_NELEM(help_cmds),
	"  help                           print this help\n",
};

static const struct {
	const char *word; /* on the command line */
	const struct ctl_noun *noun;
	const char *heading; /* after a blank line, its '\n' included; NULL: none */
} nouns[] = {
#define NOUN_ROW(word, noun, heading) { word, &noun, heading },
	NOUNS(NOUN_ROW)
#undef NOUN_ROW
	{ "help", &help_noun, "" },
};

#define NNOUNS CTL_NELEM(nouns)

/* --help: the global options, then each noun's lines in sections */
static void
usage(FILE *f)
{
	size_t i;

	fputs(
	    "Usage: ztpctl [--admin FILE] [--json] COMMAND [ARGS...]\n"
	    "\n"
	    "Manage a ztpd server through its admin API.\n"
	    "\n"
	    "Options (before or after the command):\n"
	    "  --admin FILE   the admin key file (default: $ZTP_ADMIN, else\n"
	    "                 ./ztp-data/admin.json)\n"
	    "  --json         print the server's JSON instead of tables\n"
	    "  -h, --help     print this help and exit\n"
	    "  -V, --version  print the version and exit\n",
	    f);
	for (i = 0; i < NNOUNS; i++) {
		if (nouns[i].heading != NULL)
			fprintf(f, "\n%s", nouns[i].heading);
		fputs(nouns[i].noun->help, f);
	}
	fputs(
	    "\n"
	    "Exit status: 0 success, 1 an error from the server or the connection, or\n"
	    "(sim import, allowlist import) a refused line, 2 a usage error.\n",
	    f);
}

/*
 * ztpctl [--admin FILE] [--json] NOUN ...: the global options anywhere
 * before "--", the rest to the noun's table (ctl_opts_run).
 */
int
main(int argc, char **argv)
{
	struct ctl c;
	char **rest = NULL;
	char sarg[64];
	size_t k;
	int nrest = 0, help = 0, version = 0, dashdash = 0, i, rc;

	memset(&c, 0, sizeof(c));
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		ctl_errorf("cannot initialize libcurl");
		return 1;
	}
	rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (rest == NULL) {
		rc = ctl_nomem();
		goto out;
	}
	/* the global options, anywhere before "--"; the rest is the command's */
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (dashdash) {
			rest[nrest++] = argv[i];
		} else if (strcmp(arg, "--") == 0) {
			dashdash = 1;
			rest[nrest++] = argv[i];
		} else if (strcmp(arg, "--json") == 0) {
			c.json = 1;
		} else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			help = 1;
		} else if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
			version = 1;
		} else if (strcmp(arg, "--admin") == 0) {
			if (i + 1 >= argc) {
				rc = ctl_usage_error("--admin needs a file");
				goto out;
			}
			c.admin_path = argv[++i];
		} else if (strncmp(arg, "--admin=", 8) == 0) {
			c.admin_path = arg + 8;
		} else if (ctl_opts_takes_value(arg) && i + 1 < argc) {
			/* a command option's value is not a global option */
			rest[nrest++] = argv[i];
			rest[nrest++] = argv[++i];
		} else {
			rest[nrest++] = argv[i];
		}
	}
	if (help) {
		usage(stdout);
		rc = 0;
		goto out;
	}
	if (version) {
		printf("ztpctl %s (libcurl %s, jansson %s)\n", ZTPCTL_VERSION, LIBCURL_VERSION,
		    JANSSON_VERSION);
		rc = 0;
		goto out;
	}
	if (nrest == 0 || strcmp(rest[0], "--") == 0) {
		rc = ctl_usage_error("no command given");
		goto out;
	}
	for (k = 0; k < NNOUNS && strcmp(rest[0], nouns[k].word) != 0; k++)
		;
	if (k == NNOUNS) {
		rc = ctl_usage_error("unknown command '%s'", ctl_san(rest[0], sarg, sizeof(sarg)));
		goto out;
	}
	rc = ctl_opts_run(&c, nouns[k].noun, nrest, rest);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_errorf("standard output: %s", strerror(errno));
		if (rc == 0)
			rc = ZTP_EIO;
	}
out:
	ctl_http_close(&c);
	free(rest);
	curl_global_cleanup();
	if (rc == 0)
		return 0;
	return rc == ZTP_EINVAL ? EXIT_USAGE : 1;
}
