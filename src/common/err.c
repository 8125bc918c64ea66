/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>

#include "ztp/err.h"

const char *
ztp_strerror(int rc)
{
	switch (rc) {
	case ZTP_OK:
		return "success";
#define ZTP_ERR_CASE(name, msg) \
	case ZTP_E##name:       \
		return msg;
		ZTP_ERRNO_MAP(ZTP_ERR_CASE)
#undef ZTP_ERR_CASE
	default:
		return "unknown error";
	}
}

int
ztp_errf(char *buf, size_t cap, int rc, const char *fmt, ...)
{
	va_list ap;

	if (buf != NULL && cap > 0) {
		va_start(ap, fmt);
		vsnprintf(buf, cap, fmt, ap);
		va_end(ap);
	}
	return rc;
}
