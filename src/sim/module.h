/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp-sim --module FILE: a cellular module's root of trust (ztp/rot.h)
 * behind the AT commands of docs/protocol/security-service.md section 9,
 * its NVM in FILE (ztp_rot_save's bytes, mode 0600, locked through
 * FILE.lock while ztp-sim runs).
 *
 * Every change of the state is written whole before it is used: to a
 * temporary file beside FILE, fsync, rename over FILE, fsync of the
 * directory. In ztp-sim-fault (the test build) the Nth write of a run
 * (counting from 1: the boot counter at start is the first) has two
 * fault points, "module_save_N_before_rename" and "module_save_N_after",
 * where ZTP_FAULT kills the process: a power cut at every write.
 *
 * The network runs on a thread of its own (the blocking client,
 * ztp/modclient.h), so that the AT interpreter answers meanwhile: the
 * bootstrap at start until it is done (back-off with jitter on failures,
 * a random pause after a 409), a contact at start when a key is pending
 * or a seal unreported, at once after a seal, and a heartbeat every
 * heartbeat interval. AT+USECCONN runs one heartbeat in the caller's
 * thread, after any contact in flight. One contact at a time.
 */
#ifndef ZTP_SIM_MODULE_H
#define ZTP_SIM_MODULE_H
#include <stddef.h>
#include <stdint.h>

struct module;

struct module_opts {
	const char *path;     /* the state file */
	const char *host;     /* the server's device listener */
	uint16_t port;
	const char *firmware; /* 1..32 printable ASCII */
	uint32_t timeout_ms;  /* the client's waits; 0: its default */
	uint64_t network_delay_ms; /* no contact before the network is registered (--creg-delay) */
};

/*
 * Create a module's state file at path: RoT UID uid_hex (32 hex digits,
 * either case) and the factory secret read from keyfile (64 hex digits,
 * whitespace around them allowed; the file should be mode 0600). Refuses
 * to replace an existing file. Returns 0, or a ZTP_E code with why in err.
 */
int module_create(const char *path, const char *uid_hex, const char *keyfile, char *err,
    size_t errcap);

/*
 * Lock and load the state file, count a boot (written at once), start the
 * network thread. NULL with why in err (the file is in use, unreadable or
 * corrupt, the options are bad).
 */
struct module *module_start(const struct module_opts *o, char *err, size_t errcap);

/* Stop the thread (after a contact in flight), release the lock, wipe the keys. NULL: nothing. */
void module_stop(struct module *m);

/* The RoT UID in hex, for a log line (33 bytes). */
void module_uid_hex(struct module *m, char out[33]);

/*
 * AT+USECDEVINFO="<profile>","<serial>": 0 to answer OK (sealed now, or
 * already sealed: nothing changed), -1 for +CME ERROR (a malformed
 * argument, sealed or not, or the state could not be written). The
 * profile may come in either case; it is sealed in lower case.
 */
int module_seal(struct module *m, const char *profile, size_t plen, const char *serial,
    size_t slen);

/* AT+USECDEVINFO?: the three numbers. */
void module_status(struct module *m, int *registered, int *claimed, int *bootstrapped);

/*
 * AT+USECCONN: one heartbeat, blocking until it is over. 0 when it
 * completed, -1 while the bootstrap is not done, within the minimum
 * interval, or when it failed.
 */
int module_conn(struct module *m);

/*
 * The module's other non-volatile data (issue 14): sections beside the
 * root of trust's state in the same file, each a tag and up to
 * MODULE_SECTION_MAX bytes, written with the state (whole or not at all,
 * the same fault points). Tags are fixed here; each service owns one.
 */
#define MODULE_SECTION_MAX 8192
enum module_section {
	MODULE_SEC_USECPRF = 1, /* AT+USECPRF security profiles (PSK, identity, automatic PSK) */
	MODULE_SEC_C2C = 2,     /* chip-to-chip pairings (src/sim/at_c2c.c) */
	MODULE_SEC_ZTPCERT = 3, /* ZTP certificate bundle: key, device certificate, CA (AT+USECDEVCERT) */
	MODULE_SEC__MAX = 4,
};

/*
 * Copy section tag into buf (cap bytes): 0 with *len (0 when the section
 * is absent), ZTP_ETOOBIG when cap is short, ZTP_EINVAL for a bad tag.
 */
int module_section_get(struct module *m, enum module_section tag, uint8_t *buf, size_t cap,
    size_t *len);

/*
 * Replace section tag with data[0..len) (len 0 removes it) and write the
 * file before returning: 0, or ZTP_E code (nothing changed, in memory or
 * on disk).
 */
int module_section_put(struct module *m, enum module_section tag, const uint8_t *data,
    size_t len);

/*
 * What the AT side needs of the root of trust: bootstrapped, claimed
 * (the server's status bit), the features the server delivered
 * (MODMSG_F_*), in one consistent read.
 */
void module_rot_flags(struct module *m, int *bootstrapped, int *claimed, uint32_t *features);

/*
 * The root of trust's services (ztp/rotsvc.h), each under the module's
 * lock, the state written before anything leaves the module when the call
 * changed it. They return ztp/rotsvc.h's codes; ZTP_EIO when the state
 * could not be written (the output is then dropped).
 */
int module_psk(struct module *m, size_t psk_len, uint8_t *id, uint8_t *psk);
int module_e2e_seal(struct module *m, unsigned flags, const uint8_t *in, size_t len, uint8_t *out,
    size_t cap, size_t *outlen);
int module_e2e_open(struct module *m, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
    size_t *outlen);
/*
 * Local data protection into / out of the module's file system: the
 * directory FILE.fs beside the state file; a name is 1..64 of
 * [A-Za-z0-9._-], not starting with '.' (ZTP_EINVAL). module_file_read
 * reads a file of that directory as it is (AT+USECE2EFILEENC).
 */
#define MODULE_LOCAL_MAX 4096 /* the most clear text one file holds */
int module_local_seal(struct module *m, const char *name, size_t namelen, const uint8_t *in,
    size_t len);
int module_local_open(struct module *m, const char *name, size_t namelen, uint8_t *out,
    size_t cap, size_t *outlen);
int module_file_read(struct module *m, const char *name, size_t namelen, uint8_t *out, size_t cap,
    size_t *outlen);

#endif
