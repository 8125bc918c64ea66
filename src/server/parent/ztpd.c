/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpd: one binary, three processes (docs/architecture.md). Without
 * --child it is the parent (parent.c), which execs itself with --child
 * signer (signer.c) and --child front (front.c).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "front.h"
#include "log.h"
#include "parent.h"
#include "privsep.h"
#include "signer.h"

int
main(int argc, char **argv)
{
	struct privsep_user u;
	struct config cfg;
	int rc;

	config_defaults(&cfg);
	if ((rc = config_parse_args(&cfg, argc, argv)) != 0)
		return rc > 0 ? 0 : 2;
	log_init(cfg.child[0] ? (strcmp(cfg.child, "front") == 0 ? "ztpd-front" : "ztpd-signer") :
				"ztpd",
	    cfg.log_format, cfg.log_level);
	if (cfg.child[0] == '\0')
		return parent_main(&cfg, argc, argv);
	/* secrets and the database: owner only; certificates are chmod'ed 0644 */
	umask(077);
	if (privsep_lookup(cfg.user, &u) != 0)
		return 2;
	if (strcmp(cfg.child, "signer") == 0)
		signer_proc_main(cfg.data, &u);
	return front_main(&cfg, &u);
}
