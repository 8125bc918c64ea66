/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpctl's checks of the arguments that more than one noun takes: each
 * returns 0, or prints a usage error and returns ZTP_EINVAL (exit status 2).
 */
#include <stdint.h>
#include <string.h>

#include "allowcsv.h"
#include "ctl.h"
#include "num.h"
#include "simcsv.h"
#include "ztp/err.h"
#include "ztp/iccid.h"

#define LIST_MAX 1000000000ULL

/* an ICCID: ICCID_MIN_DIGITS to ICCID_MAX_DIGITS digits */
int
ctl_check_iccid(const char *s)
{
	char buf[64];

	if (!iccid_valid(s, strlen(s)))
		return ctl_usage_error("invalid ICCID '%s': expected %d to %d digits",
		    ctl_san(s, buf, sizeof(buf)), ICCID_MIN_DIGITS, ICCID_MAX_DIGITS);
	return 0;
}

/* a group name: 1 to 63 of [A-Za-z0-9_.-] */
int
ctl_check_group(const char *s)
{
	char buf[96];

	if (!simcsv_group_valid(s, strlen(s)))
		return ctl_usage_error("invalid group name '%s': expected 1 to %d of A-Z a-z 0-9 _ . -",
		    ctl_san(s, buf, sizeof(buf)), SIMCSV_GROUP_MAX);
	return 0;
}

/* a UDID: 1 to UDID_MAX of [A-Za-z0-9-.:_] */
int
ctl_check_udid(const char *s)
{
	char buf[96];

	if (!allowcsv_udid_valid(s, strlen(s)))
		return ctl_usage_error("invalid UDID '%s': expected 1 to %d of A-Z a-z 0-9 - . : _",
		    ctl_san(s, buf, sizeof(buf)), UDID_MAX);
	return 0;
}

static const char *const reason_names[] = { "unspecified", "keyCompromise", "caCompromise",
	"affiliationChanged", "superseded", "cessationOfOperation", "certificateHold",
	"privilegeWithdrawn", "aACompromise" };

/* --reason R: one of the RFC 5280 names */
int
ctl_check_reason(const char *s)
{
	char buf[64];
	size_t i;

	for (i = 0; i < CTL_NELEM(reason_names); i++)
		if (strcmp(s, reason_names[i]) == 0)
			return 0;
	return ctl_usage_error("invalid --reason '%s': expected one of unspecified, keyCompromise, "
			   "caCompromise, affiliationChanged, superseded, cessationOfOperation, "
			   "certificateHold, privilegeWithdrawn, aACompromise",
	    ctl_san(s, buf, sizeof(buf)));
}

/* --limit N; *out is untouched without the option */
int
ctl_check_limit(const char *s, uint64_t *out)
{
	char buf[64];

	if (s != NULL && num_parse_u64z(s, 1, LIST_MAX, out) != 0)
		return ctl_usage_error("invalid --limit '%s': expected a number from 1 to %llu",
		    ctl_san(s, buf, sizeof(buf)), (unsigned long long)LIST_MAX);
	return 0;
}

/* --limit N, or --all (0: every item), into *max; untouched without either */
int
ctl_check_list_max(const struct ctl_args *a, uint64_t *max)
{
	int rc;

	if ((rc = ctl_check_limit(a->limit, max)) != 0)
		return rc;
	if (a->all)
		*max = 0;
	return 0;
}
