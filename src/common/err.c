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
