/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The files of ztp-agent's state directory (docs/gateways-agent.md): read
 * bounded, written whole or not at all (atomicfile.h), secrets with mode
 * 0600. Every function returns 0 or a ZTP_E... code with why.
 */
#ifndef ZTP_AGENT_STATE_H
#define ZTP_AGENT_STATE_H
#include <stddef.h>
#include <stdint.h>

/*
 * The regular file path, at most max bytes, into *out (malloc'd,
 * NUL-terminated after *len bytes; free it with OPENSSL_clear_free(*out,
 * *len + 1) if it may hold a secret). ZTP_ENOENT if it does not exist;
 * ZTP_ETOOBIG; ZTP_EIO.
 */
int agent_file_read(const char *path, size_t max, char **out, size_t *len, char *why,
    size_t whycap);

/*
 * The first line of path (a secret: the batch password), 1..max printable
 * ASCII characters, into *out (malloc'd; OPENSSL_clear_free it).
 * *loose is 1 if group or others may read the file.
 */
int agent_file_secret(const char *path, size_t max, char **out, int *loose, char *why,
    size_t whycap);

/* A number kept in path as decimal text; 0 if the file does not exist. */
int agent_file_get_u64(const char *path, uint64_t *v, char *why, size_t whycap);
int agent_file_put_u64(const char *path, uint64_t v, char *why, size_t whycap);

/* Remove path (no error if it is gone) and make that durable (the directory fsync'd). */
int agent_file_remove(const char *path, char *why, size_t whycap);

#endif
