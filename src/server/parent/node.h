/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpd export-node and ztpd join FILE (node.c; docs/node-bundle.md): the
 * parent runs them instead of starting its children, and exits.
 */
#ifndef ZTP_NODE_H
#define ZTP_NODE_H

struct config;

/*
 * export-node: read secret.key, ca.pem, ca.key and ca.pass (if there is
 * one) of cfg->data, which must exist (it is never created here), ask for
 * the passphrase (cfg->passphrase_file or the terminal, twice), and write
 * the sealed bundle to cfg->node_out, mode 0600. Returns the exit status.
 */
int node_export(const struct config *cfg);

/*
 * join: make cfg->data (absent, or an empty directory) a node of the
 * bundle cfg->node_file: the bundle is read, decrypted and checked whole
 * before anything is written; then secret.key, ca.pem, ca.key, ca.pass and
 * (with cfg->store) ztpd.conf are written, into a new directory that is
 * renamed to cfg->data when it was absent. On any failure nothing is left
 * behind. Returns the exit status.
 */
int node_join(const struct config *cfg);

#endif
