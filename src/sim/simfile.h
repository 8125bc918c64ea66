/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SIM state file of ztp-sim: the applet's persistent state
 * (struct safe2_persist) as one JSON object.
 *
 *   {"iccid": "8944502509186389635", "host": "127.0.0.1", "port": 11111,
 *    "psk": "<hex>", "device_id": "<hex>", "psk_generation": 0,
 *    "locked": true}
 *
 * plus optional "identity" (hex; default the 10 EF_ICCID bytes), "path"
 * (default /v1/config), "max_attempts", "retry_base_ms", "retry_max_ms".
 * Required: "iccid", and "psk" unless the SIM is unlocked (a blank SIM,
 * personalised later with DA 02 D1..D5). "locked" defaults to true: a
 * file describes a SIM as it left the factory. Everything else defaults
 * to safe2_persist_defaults().
 *
 * Parsing is strict (duplicate keys, wrong types, bad hex, out-of-range
 * values are refused with a message naming the field); unknown fields are
 * accepted with a warning, kept, and written back unchanged, so that a
 * newer file survives an older ztp-sim. Saving is atomic and durable
 * (temporary file in the same directory, fsync, rename, fsync of the
 * directory), mode 0600: the file holds the PSK.
 */
#ifndef ZTP_SIM_SIMFILE_H
#define ZTP_SIM_SIMFILE_H
#include <stddef.h>

#include <jansson.h>

#include "ztp/safe2.h"

struct simfile {
	char *path;   /* owned */
	json_t *extra; /* unknown fields of the loaded file, owned; never NULL after load */
};

/*
 * Parse the JSON text[0..len) into *p. On success *extra (owned by the
 * caller, json_decref) holds the unknown fields, and a warning naming
 * each is logged. On failure returns ZTP_EMALFORMED or ZTP_ERANGE with a
 * message naming the field in err (errcap bytes); *p and *extra are then
 * unspecified / NULL. The message never contains the PSK.
 */
int simfile_parse(const char *text, size_t len, struct safe2_persist *p, json_t **extra,
    char *err, size_t errcap);

/*
 * Read and parse the file at path. On success sf owns a copy of path and
 * the unknown fields; release with simfile_free(). ZTP_EIO if the file
 * cannot be read (or is larger than 64 KiB), else as simfile_parse().
 */
int simfile_load(struct simfile *sf, const char *path, struct safe2_persist *p, char *err,
    size_t errcap);

/*
 * The JSON text for p and the extra fields (may be NULL), one object with
 * a trailing newline; the caller frees it with free(). NULL on failure.
 */
char *simfile_dump(const struct safe2_persist *p, const json_t *extra);

/*
 * Write p to sf->path atomically and durably, mode 0600; returns only
 * once the data and the rename are on disk. ZTP_EIO with a message in
 * err on failure; the old file is then unchanged.
 */
int simfile_save(const struct simfile *sf, const struct safe2_persist *p, char *err,
    size_t errcap);

/*
 * Take the SIM file's lock, so that one ztp-sim at a time runs on it: an
 * exclusive, non-blocking flock(2) on "<path>.lock", created beside the
 * file (mode 0600, not followed if a symlink) and never removed; our pid
 * is written in it for another instance's message. Call it before
 * simfile_load(), which removes the temporary files of a save.
 *
 * Returns the lock's descriptor (the caller keeps it open for as long as
 * it uses the file; closing it, or exiting, releases the lock), ZTP_EBUSY
 * if another process holds the lock (err names the file and that
 * process's pid when it wrote one), or ZTP_EIO.
 */
int simfile_lock(const char *path, char *err, size_t errcap);

/* Release what sf owns; sf may be zeroed or NULL. */
void simfile_free(struct simfile *sf);

#endif
