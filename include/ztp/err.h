/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ztp error codes, shared by every part of ztp (device SDK, server, tools).
 * Functions return 0 on success and a negative ZTP_E... code on failure.
 */
#ifndef ZTP_ERR_H
#define ZTP_ERR_H
#include <stddef.h>

#define ZTP_ERRNO_MAP(X)                                              \
	X(INVAL, "invalid argument")                                  \
	X(NOMEM, "out of memory")                                     \
	X(RANGE, "value out of range")                                \
	X(MALFORMED, "malformed input")                               \
	X(TOOBIG, "input too large")                                  \
	X(NOENT, "no such entry")                                     \
	X(EXIST, "entry exists")                                      \
	X(CONFLICT, "conflicting state")                              \
	X(AUTH, "authentication failed")                              \
	X(EXPIRED, "expired")                                         \
	X(IO, "input/output error")                                   \
	X(CRYPTO, "cryptographic operation failed")                   \
	X(STORE, "store error")                                       \
	X(BUSY, "busy")                                               \
	X(INTERNAL, "internal error")

enum ztp_err {
	ZTP_OK = 0,
#define ZTP_ERR_ENUM(name, msg) ZTP_E##name,
	ZTP_E__FIRST = -1000,
	ZTP_ERRNO_MAP(ZTP_ERR_ENUM)
#undef ZTP_ERR_ENUM
	ZTP_E__LAST
};

/* A static string describing rc (0 or a ZTP_E... code). */
const char *ztp_strerror(int rc);

/*
 * Format a reason into buf (cap bytes; nothing if buf is NULL or cap 0)
 * and return rc: `return ztp_errf(why, cap, ZTP_EMALFORMED, "...", ...);`.
 */
int ztp_errf(char *buf, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
