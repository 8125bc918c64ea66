/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl group: the SIM groups (/v1/groups, docs/psk-sources.md): their
 * ICCID prefixes, derived keys and master keys, PSK rotation, their
 * devices' certificates (EST) and proxy mode (docs/proxy.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "hex.h"
#include "num.h"
#include "ztp/err.h"
#include "ztp/iccid.h"

#define MASTER_KEY_LEN 32 /* bytes */
#define MASTER_KEY_HEX (2 * MASTER_KEY_LEN)
#define KEY_FILE_MAX 256
#define ROTATION_MAX (10ULL * 365 * 86400) /* the server's limit: 10 years */
#define CERT_DAYS_MAX 7300ULL
#define GRACE_MAX (5ULL * 365 * 86400)

/*
 * Read the master key of an existing FILE into hex (MASTER_KEY_HEX + 1
 * bytes): exactly 32 bytes are the raw key, else 64 hex digits with an
 * optional line end. Returns 0, ZTP_ENOENT if FILE does not exist, or
 * another code (printed). The file's bytes are wiped.
 */
static int
read_master_key(const char *path, char *hex)
{
	char spath[256], *data = NULL;
	size_t len = 0;
	struct stat sb;
	FILE *f;
	int rc;

	ctl_san(path, spath, sizeof(spath));
	f = fopen(path, "rb");
	if (f == NULL) {
		if (errno == ENOENT)
			return ZTP_ENOENT;
		ctl_errorf("%s: %s", spath, strerror(errno));
		return ZTP_EIO;
	}
	setvbuf(f, NULL, _IONBF, 0);
	if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 077) != 0)
		fprintf(stderr, "ztpctl: warning: %s holds a master key and others can read it "
				"(mode %03o): chmod 600 it\n",
		    spath, (unsigned)(sb.st_mode & 0777));
	rc = ctl_read_bounded(f, KEY_FILE_MAX, &data, &len);
	if (rc != 0 && rc != ZTP_ETOOBIG) {
		ctl_errorf("%s: %s", spath, ztp_strerror(rc));
		goto out;
	}
	if (rc == 0 && len == MASTER_KEY_LEN) {
		hex_encode((const uint8_t *)data, len, hex, MASTER_KEY_HEX + 1);
		goto out;
	}
	while (rc == 0 && len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (rc != 0 || len != MASTER_KEY_HEX || !hex_valid(data, len)) {
		ctl_errorf("%s is not a master key: expected %d hex digits or %d bytes", spath,
		    MASTER_KEY_HEX, MASTER_KEY_LEN);
		rc = ZTP_EMALFORMED;
		goto out;
	}
	memcpy(hex, data, MASTER_KEY_HEX);
	hex[MASTER_KEY_HEX] = '\0';
	rc = 0;
out:
	if (data != NULL) {
		explicit_bzero(data, len);
		free(data);
	}
	fclose(f);
	return rc;
}

/* Write the generated key (hex and a newline) to the reserved fd, and close it. */
static int
write_master_key(int fd, const char *hex)
{
	char line[MASTER_KEY_HEX + 1];
	size_t off = 0;
	ssize_t n;
	int rc = 0;

	memcpy(line, hex, MASTER_KEY_HEX);
	line[MASTER_KEY_HEX] = '\n';
	while (off < sizeof(line)) {
		n = write(fd, line + off, sizeof(line) - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = ZTP_EIO;
			break;
		}
		off += (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = ZTP_EIO;
	if (close(fd) != 0 && rc == 0)
		rc = ZTP_EIO;
	explicit_bzero(line, sizeof(line));
	return rc;
}

/*
 * --est-auth LIST: 1 to 3 distinct of allowlist, password, manufacturer,
 * comma-separated, into a new JSON array in *out.
 */
static int
parse_est_auth(const char *list, json_t **out)
{
	static const char *const names[] = { "allowlist", "password", "manufacturer" };
	char sarg[96];
	const char *p = list;
	size_t n, k;
	int seen = 0;
	json_t *arr;

	*out = NULL;
	if ((arr = json_array()) == NULL)
		return ctl_nomem();
	for (;;) {
		n = strcspn(p, ",");
		for (k = 0; k < 3; k++)
			if (strlen(names[k]) == n && strncmp(p, names[k], n) == 0)
				break;
		if (k == 3 || (seen & (1 << k))) {
			json_decref(arr);
			return ctl_usage_error("invalid --est-auth '%s': expected a comma-separated list "
					   "of allowlist, password, manufacturer, each once",
			    ctl_san(list, sarg, sizeof(sarg)));
		}
		seen |= 1 << k;
		if (json_array_append_new(arr, json_string(names[k])) != 0) {
			json_decref(arr);
			return ctl_nomem();
		}
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	*out = arr;
	return 0;
}

/*
 * The proxy members of a group request: "upstream" (url; NULL: not set
 * here) and the paths of --upstream-ca/-cert/-key, made absolute when they
 * name a file here (they are read by ztpd, on its host).
 */
static int
upstream_members(json_t *req, const char *url, const struct ctl_args *a)
{
	const char *names[3] = { "upstream_ca", "upstream_cert", "upstream_key" };
	const char *vals[3] = { a->upstream_ca, a->upstream_cert, a->upstream_key };
	char abs[PATH_MAX], sarg[64];
	size_t i;

	if (url == NULL && (vals[0] || vals[1] || vals[2]) && a->pos[1] == NULL)
		return ctl_usage_error("--upstream-ca, --upstream-cert and --upstream-key go with --upstream");
	if ((vals[1] != NULL) != (vals[2] != NULL))
		return ctl_usage_error("--upstream-cert and --upstream-key go together");
	if (url != NULL && json_object_set_new(req, "upstream", json_string(url)) != 0)
		return ctl_nomem();
	for (i = 0; i < 3; i++) {
		if (vals[i] == NULL)
			continue;
		if (vals[i][0] != '/' && realpath(vals[i], abs) == NULL)
			return ctl_usage_error("%s: %s", ctl_san(vals[i], sarg, sizeof(sarg)), strerror(errno));
		if (json_object_set_new(req, names[i], json_string(vals[i][0] == '/' ? vals[i] : abs)) != 0)
			return ctl_nomem();
	}
	return 0;
}

/* PUT the proxy members req to the group name; *out as ctl_http_call's */
static int
group_put_upstream(struct ctl *c, const char *name, const json_t *req, json_t **out)
{
	char path[128];

	snprintf(path, sizeof(path), "/v1/groups/%s/upstream", name);
	return ctl_http_call(c, "PUT", path, req, out);
}

/*
 * group create NAME: a derived group's master key is given (--master-key-file
 * FILE that exists) or generated by the server. A generated key goes to
 * FILE, which is created (O_EXCL, 0600) before the request so that no
 * other file can take its place, and removed if the request fails; without
 * FILE it is printed once on stdout, the only place it will ever be shown.
 */
static int
group_create(struct ctl *c, const struct ctl_args *a)
{
	const char *name = a->pos[0];
	char key[MASTER_KEY_HEX + 1] = "", spath[256], sarg[64];
	const char *generated = NULL;
	json_t *req = NULL, *grp = NULL, *mk, *est = NULL;
	uint64_t rotation = 0, days = 0, grace = 0;
	int rc, fd = -1, have_key = 0;

	rc = ctl_check_group(name);
	if (rc != 0)
		return rc;
	if (a->cert_days != NULL && num_parse_u64z(a->cert_days, 0, CERT_DAYS_MAX, &days) != 0)
		return ctl_usage_error("invalid --cert-days '%s': expected days from 0 (the server's "
				   "default) to %llu",
		    ctl_san(a->cert_days, sarg, sizeof(sarg)), CERT_DAYS_MAX);
	if (a->grace != NULL && strcmp(a->grace, "-1") != 0 &&
	    num_parse_u64z(a->grace, 0, GRACE_MAX, &grace) != 0)
		return ctl_usage_error("invalid --reenroll-grace '%s': expected seconds from 0 to %llu "
				   "(5 years), or -1 for the server's default",
		    ctl_san(a->grace, sarg, sizeof(sarg)), GRACE_MAX);
	if (a->prefix != NULL && (strlen(a->prefix) == 0 || strlen(a->prefix) > ICCID_MAX_DIGITS ||
	    strspn(a->prefix, "0123456789") != strlen(a->prefix)))
		return ctl_usage_error("invalid --iccid-prefix '%s': expected 1 to %d digits",
		    ctl_san(a->prefix, sarg, sizeof(sarg)), ICCID_MAX_DIGITS);
	if (a->rotation != NULL && num_parse_u64z(a->rotation, 0, ROTATION_MAX, &rotation) != 0)
		return ctl_usage_error("invalid --rotation-period '%s': expected seconds from 0 to %llu",
		    ctl_san(a->rotation, sarg, sizeof(sarg)), ROTATION_MAX);
	if (a->key_file != NULL && !a->derive)
		return ctl_usage_error("--master-key-file goes with --derive");
	if (a->est_auth != NULL && (rc = parse_est_auth(a->est_auth, &est)) != 0)
		return rc;
	if (a->key_file != NULL) {
		ctl_san(a->key_file, spath, sizeof(spath));
		rc = read_master_key(a->key_file, key);
		if (rc == 0) {
			have_key = 1;
		} else if (rc == ZTP_ENOENT) {
			fd = open(a->key_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd < 0 || fchmod(fd, 0600) != 0) {
				ctl_errorf("cannot create %s: %s", spath, strerror(errno));
				rc = ZTP_EIO;
				goto out;
			}
		} else {
			goto out;
		}
	}
	req = json_pack("{s:s, s:b, s:b, s:I}", "name", name, "derive", a->derive,
	    "allow_psk_ke", a->psk_ke, "rotation_period_s", (json_int_t)rotation);
	if (req == NULL ||
	    (a->prefix != NULL && json_object_set_new(req, "iccid_prefix", json_string(a->prefix)) != 0) ||
	    (have_key && json_object_set_new(req, "master_key", json_string(key)) != 0) ||
	    (est != NULL && json_object_set(req, "est_auth", est) != 0) ||
	    (a->cert_days != NULL &&
		json_object_set_new(req, "cert_days", json_integer((json_int_t)days)) != 0) ||
	    (a->grace != NULL && json_object_set_new(req, "reenroll_grace_s",
				     json_integer(strcmp(a->grace, "-1") == 0 ? -1 :
										(json_int_t)grace)) != 0)) {
		rc = ctl_nomem();
		goto out;
	}
	if ((rc = upstream_members(req, a->upstream, a)) != 0)
		goto out;
	rc = ctl_http_call(c, "POST", "/v1/groups", req, &grp);
	if (rc != 0)
		goto out;
	mk = json_object_get(grp, "master_key");
	if (a->derive && !have_key) {
		if (!json_is_string(mk) || json_string_length(mk) != MASTER_KEY_HEX ||
		    !hex_valid(json_string_value(mk), MASTER_KEY_HEX)) {
			ctl_errorf("group %s was created, but the server's answer has no master key", name);
			rc = ZTP_EMALFORMED;
			goto out;
		}
		generated = json_string_value(mk);
		if (fd >= 0) {
			rc = write_master_key(fd, generated);
			fd = -1;
			if (rc != 0) {
				/* the server will never show it again: this is its last chance */
				ctl_errorf("group %s was created, but its master key could not be written "
				       "to %s (%s): here it is, once",
				    name, spath, strerror(errno));
				unlink(a->key_file);
				printf("%s\n", generated);
				goto out;
			}
		}
	}
	if (c->json) {
		if (a->key_file != NULL && json_object_set_new(grp, "master_key_file",
						json_string(a->key_file)) != 0) {
			rc = ctl_nomem();
			goto out;
		}
		if (a->key_file != NULL && mk != NULL) {
			/* it is in the file: best effort to leave no copy in memory */
			if (json_is_string(mk))
				explicit_bzero((char *)json_string_value(mk), json_string_length(mk));
			json_object_del(grp, "master_key");
			generated = NULL;
		}
		rc = ctl_out_json(grp);
	} else if (generated != NULL && a->key_file == NULL) {
		printf("%s\n", generated);
		rc = 0;
	} else if (generated != NULL) {
		printf("group %s created; its master key was written to %s (mode 0600)\n", name,
		    spath);
		rc = 0;
	} else if (have_key) {
		printf("group %s created with the master key of %s\n", name, spath);
		rc = 0;
	} else {
		printf("group %s created\n", name);
		rc = 0;
	}
	if (rc == 0 && generated != NULL && a->key_file == NULL) {
		fflush(stdout);
		fprintf(stderr, "ztpctl: group %s created; its master key (on stdout) is never "
				"shown again: keep it offline\n",
		    name);
	}
out:
	if (fd >= 0) {
		/* the request failed: the reserved file is empty, remove it */
		close(fd);
		unlink(a->key_file);
	}
	explicit_bzero(key, sizeof(key));
	json_decref(est);
	json_decref(req);
	if (grp != NULL && json_is_string(json_object_get(grp, "master_key"))) {
		mk = json_object_get(grp, "master_key");
		explicit_bzero((char *)json_string_value(mk), json_string_length(mk));
	}
	json_decref(grp);
	return rc;
}

/*
 * group upstream NAME (URL | off | default) [--upstream-ca F] [--upstream-cert F
 * --upstream-key F]: where the group's device requests go (docs/proxy.md).
 */
static int
group_upstream(struct ctl *c, const struct ctl_args *a)
{
	const char *name = a->pos[0], *url = a->pos[1];
	json_t *req = json_object(), *grp = NULL;
	char sname[80], surl[128];
	int rc;

	if ((rc = ctl_check_group(name)) != 0)
		goto out;
	if (a->upstream != NULL) {
		rc = ctl_usage_error("group upstream takes the URL as its second argument, not --upstream");
		goto out;
	}
	if (req == NULL) {
		rc = ctl_nomem();
		goto out;
	}
	if ((rc = upstream_members(req, strcmp(url, "default") == 0 ? NULL : url, a)) != 0)
		goto out;
	if (strcmp(url, "default") == 0 && json_object_set_new(req, "upstream", json_null()) != 0) {
		rc = ZTP_ENOMEM;
		goto out;
	}
	snprintf(sname, sizeof(sname), "%s", name);
	if ((rc = group_put_upstream(c, sname, req, &grp)) != 0)
		goto out;
	if (c->json) {
		rc = ctl_out_json(grp);
		goto out;
	}
	ctl_san(url, surl, sizeof(surl));
	if (strcmp(url, "default") == 0)
		printf("group %s: device requests follow the server's default upstream\n", name);
	else if (strcmp(url, "off") == 0)
		printf("group %s: device requests answered from this server's store\n", name);
	else
		printf("group %s: device requests forwarded to %s\n", name, surl);
out:
	json_decref(req);
	json_decref(grp);
	return rc;
}

static const char *const group_head[] = { "NAME", "ICCID PREFIX", "DERIVE", "PSK_KE",
	"ROTATION", "SIMS", "CREATED" };

/* the group's cells; no prefix (every ICCID) shows as "-" */
static void
group_cell(const json_t *item, size_t col, char *out, size_t cap)
{
	static const char *const cols[] = { "name", "iccid_prefix", "derive", "allow_psk_ke",
		"rotation_period_s", "sims", "created_at" };
	const json_t *v = json_object_get(item, cols[col]);

	if (col == 1 && json_is_string(v) && json_string_length(v) == 0)
		v = NULL;
	ctl_out_value(v, out, cap);
}

static int
group_list(struct ctl *c, const struct ctl_args *a)
{
	static const struct ctl_table_spec t = { group_head, NULL, 7, group_cell };

	return ctl_req_get_list(c, "/v1/groups", "groups", &t);
}

static int
group_show(struct ctl *c, const struct ctl_args *a)
{
	return ctl_req_thing(c, a, ctl_check_group, "GET", "/v1/groups", "", NULL, NULL);
}

static const struct ctl_cmd group_cmds[] = {
	{ "create", OPT_PREFIX | OPT_DERIVE | OPT_KEY_FILE | OPT_PSK_KE | OPT_ROTATION |
		OPT_EST_AUTH | OPT_CERT_DAYS | OPT_GRACE | OPT_UPSTREAM | OPT_UPSTREAM_CA |
		OPT_UPSTREAM_CERT | OPT_UPSTREAM_KEY, 1,
	    "group create NAME [--iccid-prefix DIGITS] [--derive [--master-key-file FILE]] "
	    "[--allow-psk-ke] [--rotation-period SECONDS] [--est-auth LIST] [--cert-days N] "
	    "[--reenroll-grace SECONDS] [--upstream URL [--upstream-ca FILE] "
	    "[--upstream-cert FILE --upstream-key FILE]]",
	    group_create },
	{ "upstream", OPT_UPSTREAM_CA | OPT_UPSTREAM_CERT | OPT_UPSTREAM_KEY, 2,
	    "group upstream NAME (URL | off | default) [--upstream-ca FILE] "
	    "[--upstream-cert FILE --upstream-key FILE]",
	    group_upstream },
	{ "list", 0, 0, "group list", group_list },
	{ "show", 0, 1, "group show NAME", group_show },
};

/* the noun group: its commands, its lines of ztpctl --help */
const struct ctl_noun ctl_group = {
	group_cmds,
	CTL_NELEM(group_cmds),
	"  group create NAME [--iccid-prefix DIGITS] [--allow-psk-ke]\n"
	"               [--derive [--master-key-file FILE]] [--rotation-period SECONDS]\n"
	"               [--est-auth LIST] [--cert-days N] [--reenroll-grace SECONDS]\n"
	"               [--upstream URL [--upstream-ca FILE] [--upstream-cert FILE\n"
	"               --upstream-key FILE]]\n"
	"                                 create a SIM group; --derive: its SIMs' keys are\n"
	"                                 HMAC-SHA256(master key, PSK identity), for the\n"
	"                                 ICCIDs with the prefix. The master key is read\n"
	"                                 from FILE if it exists (64 hex digits or 32\n"
	"                                 bytes), else generated and written to FILE\n"
	"                                 (mode 0600), or printed once without FILE.\n"
	"                                 Its devices' certificates (EST): --est-auth:\n"
	"                                 how one may get its first, comma-separated of\n"
	"                                 allowlist, password, manufacturer (default:\n"
	"                                 all); --cert-days: their validity (1..7300, 0:\n"
	"                                 the server's); --reenroll-grace: how long\n"
	"                                 after expiry a device may still re-enrol\n"
	"                                 (-1: the server's). --upstream URL: proxy mode\n"
	"                                 (docs/proxy.md), as group upstream\n"
	"  group upstream NAME (URL | off | default) [--upstream-ca FILE]\n"
	"               [--upstream-cert FILE --upstream-key FILE]\n"
	"                                 forward the group's device requests to the\n"
	"                                 customer's server at URL (http:// or https://;\n"
	"                                 --upstream-ca: its CAs, default the system's;\n"
	"                                 --upstream-cert/-key: ztpd's client\n"
	"                                 certificate; files on the ztpd host), answer\n"
	"                                 them from ztpd's store (off), or follow the\n"
	"                                 server's --upstream (default)\n"
	"  group list                     list the groups\n"
	"  group show NAME                show one group\n"
};
