/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl's command options: one table of their names, whether they take a
 * value and where that goes in struct ctl_args. A noun's file lists its
 * commands with the options each takes (struct ctl_cmd); ctl_opts_run
 * finds the command its words name, parses its arguments and runs it.
 */
#include <stddef.h>
#include <string.h>

#include "ctl.h"
#include "ztp/err.h"

/*
 * A command option: has_arg ones store their value (a const char * into
 * argv) at offset in struct ctl_args, the others set the int there to 1.
 */
static const struct {
	const char *name;
	uint64_t bit;
	int has_arg;
	size_t offset;
} cmd_opts[] = {
	{ "--psk", OPT_PSK, 1, offsetof(struct ctl_args, psk) },
	{ "--limit", OPT_LIMIT, 1, offsetof(struct ctl_args, limit) },
	{ "--all", OPT_ALL, 0, offsetof(struct ctl_args, all) },
	{ "--body", OPT_BODY, 1, offsetof(struct ctl_args, body) },
	{ "--file", OPT_FILE, 1, offsetof(struct ctl_args, file) },
	{ "--since", OPT_SINCE, 1, offsetof(struct ctl_args, since) },
	{ "--group", OPT_GROUP, 1, offsetof(struct ctl_args, group) },
	{ "--iccid-prefix", OPT_PREFIX, 1, offsetof(struct ctl_args, prefix) },
	{ "--derive", OPT_DERIVE, 0, offsetof(struct ctl_args, derive) },
	{ "--master-key-file", OPT_KEY_FILE, 1, offsetof(struct ctl_args, key_file) },
	{ "--allow-psk-ke", OPT_PSK_KE, 0, offsetof(struct ctl_args, psk_ke) },
	{ "--rotation-period", OPT_ROTATION, 1, offsetof(struct ctl_args, rotation) },
	{ "--pubkey", OPT_PUBKEY, 1, offsetof(struct ctl_args, pubkey) },
	{ "--key-sha256", OPT_KEY_SHA, 1, offsetof(struct ctl_args, key_sha) },
	{ "--iccid", OPT_ICCID, 1, offsetof(struct ctl_args, iccid) },
	{ "--ttl", OPT_TTL, 1, offsetof(struct ctl_args, ttl) },
	{ "--udid", OPT_UDID, 1, offsetof(struct ctl_args, udid) },
	{ "--reason", OPT_REASON, 1, offsetof(struct ctl_args, reason) },
	{ "--est-auth", OPT_EST_AUTH, 1, offsetof(struct ctl_args, est_auth) },
	{ "--cert-days", OPT_CERT_DAYS, 1, offsetof(struct ctl_args, cert_days) },
	{ "--reenroll-grace", OPT_GRACE, 1, offsetof(struct ctl_args, grace) },
	{ "--derived", OPT_DERIVED, 0, offsetof(struct ctl_args, derived) },
	{ "--device-id", OPT_DEVICE_ID, 1, offsetof(struct ctl_args, device_id) },
	{ "--upstream", OPT_UPSTREAM, 1, offsetof(struct ctl_args, upstream) },
	{ "--upstream-ca", OPT_UPSTREAM_CA, 1, offsetof(struct ctl_args, upstream_ca) },
	{ "--upstream-cert", OPT_UPSTREAM_CERT, 1, offsetof(struct ctl_args, upstream_cert) },
	{ "--upstream-key", OPT_UPSTREAM_KEY, 1, offsetof(struct ctl_args, upstream_key) },
	/* the module security service's (ctl_module.c) */
	{ "--owner", OPT_OWNER, 1, offsetof(struct ctl_args, owner) },
	{ "--all-owners", OPT_ALL_OWNERS, 0, offsetof(struct ctl_args, all_owners) },
	{ "--save", OPT_SAVE, 1, offsetof(struct ctl_args, save) },
	{ "--features", OPT_FEATURES, 1, offsetof(struct ctl_args, features) },
	{ "--heartbeat-interval", OPT_HB, 1, offsetof(struct ctl_args, hb) },
	{ "--heartbeat-min-interval", OPT_HB_MIN, 1, offsetof(struct ctl_args, hb_min) },
	{ "--to", OPT_TO, 1, offsetof(struct ctl_args, to) },
	{ "--enable", OPT_ENABLE, 1, offsetof(struct ctl_args, enable) },
	{ "--disable", OPT_DISABLE, 1, offsetof(struct ctl_args, disable) },
	{ "--profile", OPT_PROFILE, 1, offsetof(struct ctl_args, profile) },
	{ "--devices", OPT_DEVICES, 1, offsetof(struct ctl_args, devices) },
	{ "--quarantined", OPT_QUARANTINED, 0, offsetof(struct ctl_args, quarantined) },
	/* ZTP certificates' (ctl_ztpca.c) */
	{ "--ca-days", OPT_CA_DAYS, 1, offsetof(struct ctl_args, ca_days) },
	{ "--device-days", OPT_DEVICE_DAYS, 1, offsetof(struct ctl_args, device_days) },
	{ "--cert", OPT_CERT, 1, offsetof(struct ctl_args, cert) },
	{ "--key", OPT_KEY, 1, offsetof(struct ctl_args, key) },
	{ "--registration-code", OPT_REG_CODE, 1, offsetof(struct ctl_args, reg_code) },
	{ "--ztp-ca", OPT_ZTP_CA, 1, offsetof(struct ctl_args, ztp_ca) },
	{ "--days", OPT_DAYS, 1, offsetof(struct ctl_args, days) },
	/* the root of trust's services' (ctl_svc.c) */
	{ "--in", OPT_IN, 1, offsetof(struct ctl_args, in) },
	{ "--out", OPT_OUT, 1, offsetof(struct ctl_args, out) },
	{ "--hex", OPT_HEX, 0, offsetof(struct ctl_args, hex) },
	/* gateways' (ctl_gateway.c) */
	{ "--args", OPT_ARGS, 1, offsetof(struct ctl_args, args) },
	{ "--auto-reonboard", OPT_AUTO_REONBOARD, 0, offsetof(struct ctl_args, auto_reonboard) },
	{ "--state", OPT_STATE, 1, offsetof(struct ctl_args, state) },
	{ "--timeout", OPT_TIMEOUT, 1, offsetof(struct ctl_args, timeout) },
	/* foreign PKIs' (ctl_pki.c) */
	{ "--crl-url", OPT_CRL_URL, 1, offsetof(struct ctl_args, crl_url) },
	{ "--interval", OPT_INTERVAL, 1, offsetof(struct ctl_args, interval) },
	{ "--ca", OPT_CA, 1, offsetof(struct ctl_args, ca) },
};

#define NOPTS CTL_NELEM(cmd_opts)

/*
 * 1 if arg is a command option that takes a value as the next argument:
 * main's pass over the global options leaves that value to the command.
 */
int
ctl_opts_takes_value(const char *arg)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (cmd_opts[i].has_arg && strcmp(arg, cmd_opts[i].name) == 0)
			return 1;
	return 0;
}

/*
 * Parse a command's arguments (after its name) into *out: the options its
 * opts allow, as "--opt VALUE" or "--opt=VALUE", and exactly npos
 * positional arguments ("--" ends the options).
 */
static int
opts_parse(const struct ctl_cmd *cmd, int argc, char **argv, struct ctl_args *out)
{
	char sarg[64];
	int i, dashdash = 0;
	size_t k, namelen;
	const char *val;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (!dashdash && strcmp(arg, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (dashdash || arg[0] != '-' || strcmp(arg, "-") == 0) {
			if (out->npos == cmd->npos || out->npos == ARGS_MAX_POS)
				return ctl_usage_error("%s: unexpected argument '%s'", cmd->synopsis,
				    ctl_san(arg, sarg, sizeof(sarg)));
			out->pos[out->npos++] = arg;
			continue;
		}
		namelen = strcspn(arg, "=");
		for (k = 0; k < NOPTS; k++)
			if (strlen(cmd_opts[k].name) == namelen &&
			    strncmp(arg, cmd_opts[k].name, namelen) == 0)
				break;
		if (k == NOPTS || !(cmd->opts & cmd_opts[k].bit))
			return ctl_usage_error("%s: unknown option '%s'", cmd->synopsis,
			    ctl_san(arg, sarg, sizeof(sarg)));
		val = NULL;
		if (arg[namelen] == '=') {
			if (!cmd_opts[k].has_arg)
				return ctl_usage_error("%s takes no value", cmd_opts[k].name);
			val = arg + namelen + 1;
		} else if (cmd_opts[k].has_arg) {
			if (i + 1 >= argc)
				return ctl_usage_error("%s needs a value", cmd_opts[k].name);
			val = argv[++i];
		}
		if (cmd_opts[k].has_arg)
			*(const char **)((char *)out + cmd_opts[k].offset) = val;
		else
			*(int *)((char *)out + cmd_opts[k].offset) = 1;
		/* the later of --limit and --all wins */
		if (cmd_opts[k].bit == OPT_LIMIT)
			out->all = 0;
	}
	if (out->npos != cmd->npos)
		return ctl_usage_error("usage: ztpctl %s", cmd->synopsis);
	return 0;
}

/*
 * Run the command of a noun that argv names: argv[0] is the noun, argv[1]
 * the command's name unless the noun's table has a row without one (the
 * noun is the command). Returns what
 * the command returns, or ZTP_EINVAL for an unknown or missing command or
 * bad arguments (printed).
 */
int
ctl_opts_run(struct ctl *c, const struct ctl_noun *noun, int argc, char **argv)
{
	const struct ctl_cmd *cmd = NULL;
	struct ctl_args a;
	char sarg[64];
	size_t i;
	int used = 0, rc;

	for (i = 0; i < noun->ncmds && cmd == NULL; i++) {
		if (noun->cmds[i].name == NULL) {
			cmd = &noun->cmds[i];
			used = 1;
		} else if (argc > 1 && strcmp(argv[1], noun->cmds[i].name) == 0) {
			cmd = &noun->cmds[i];
			used = 2;
		}
	}
	if (cmd == NULL && argc > 1)
		return ctl_usage_error("unknown command '%s %s'", argv[0],
		    ctl_san(argv[1], sarg, sizeof(sarg)));
	if (cmd == NULL)
		return ctl_usage_error("'%s' needs a subcommand", argv[0]);
	rc = opts_parse(cmd, argc - used, argv + used, &a);
	if (rc != 0)
		return rc;
	return cmd->run(c, &a);
}
