/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztpd's MQTT client (docs/gateways.md): one thread of the front, with its
 * own store connection, that talks to the broker's operational listener
 * as the dynamic-security client --mqtt-user. It reads gateways'
 * provisioning requests, statuses and command results; it makes and
 * publishes bundles (creating each gateway's broker account first), signs
 * and publishes commands, and disables the broker account of a gateway
 * that was blocked, revoked or rejected. What it must do lives in the
 * store (the gateways and gw_commands tables), so that a restart, another
 * node or an admin request on any worker finds it: the admin API writes
 * the store and calls gwmqtt_kick(); the thread also looks every second.
 */
#ifndef ZTP_GWMQTT_H
#define ZTP_GWMQTT_H

struct server;
struct gwmqtt;

struct config;

/*
 * Check the --mqtt options and read the files that may be root's (the
 * password, the broker CA bundles carry), before the front drops its
 * privileges: *out NULL if --mqtt is not set. ZTP_EINVAL for a
 * configuration that cannot work (logged).
 */
int gwmqtt_prepare(const struct config *cfg, struct gwmqtt **out);
/*
 * Start the thread (g NULL: nothing to do). est_bound is the bound EST
 * address ("" if none), for the bundles' default EST URL. Connecting is
 * the thread's: a broker that is down is retried with back-off.
 */
int gwmqtt_start(struct gwmqtt *g, struct server *srv, const char *est_bound);
/* Stop and free what gwmqtt_prepare made (NULL: nothing). */
void gwmqtt_stop(struct gwmqtt *g);
/* Wake the thread of this process now (there is work in the store). Any thread. */
void gwmqtt_kick(void);

#endif
