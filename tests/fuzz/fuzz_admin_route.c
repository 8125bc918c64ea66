/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the admin API's route matcher (admin_route.h) on the
 * API's own table.
 *
 * The first byte picks the method (its low five bits, one method each, or
 * none); the rest is the URI path as libevent hands it over, a C string
 * (cut at a NUL). The answer is checked against what admin_route.h says.
 */
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "admin_route.h"
#include "fuzz.h"
#include "ztp/err.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned methods[] = { ADMINROUTE_GET, ADMINROUTE_POST, ADMINROUTE_PUT,
		ADMINROUTE_DELETE, ADMINROUTE_OTHER };
	struct adminroute_path p;
	struct adminroute_match m;
	unsigned method;
	char *path, allow[48];
	size_t i;
	int rc;

	if (size == 0)
		return 0;
	method = methods[data[0] % 5];
	if ((path = malloc(size)) == NULL)
		return 0;
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';
	rc = adminroute_split(path, &p);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_ETOOBIG);
		goto out;
	}
	FUZZ_CHECK(p.nseg <= ADMINROUTE_SEG_MAX);
	for (i = 0; i < p.nseg; i++)
		FUZZ_CHECK(p.seg[i][0] != '\0' && strchr(p.seg[i], '/') == NULL);
	rc = adminroute_match(admin_api_routes, admin_api_nroutes, method, &p, &m);
	switch (rc) {
	case 0:
		FUZZ_CHECK(m.route != NULL && (m.route->methods & method));
		FUZZ_CHECK(m.route >= admin_api_routes &&
		    m.route < admin_api_routes + admin_api_nroutes);
		break;
	case ZTP_EINVAL:
		FUZZ_CHECK(m.route != NULL && m.allow != 0 && !(m.allow & method));
		FUZZ_CHECK(strlen(adminroute_allow(m.allow, 1, allow, sizeof(allow))) > 0);
		break;
	case ZTP_EMALFORMED:
		FUZZ_CHECK(m.route != NULL && m.why != NULL && m.param == NULL);
		break;
	default:
		FUZZ_CHECK(rc == ZTP_ENOENT && m.route == NULL);
		break;
	}
	if (m.param != NULL)
		FUZZ_CHECK(strlen(m.param) < ADMINROUTE_PATH_MAX);
	if (m.param == m.value)
		FUZZ_CHECK(strlen(m.value) <= ADMINROUTE_VALUE_MAX);
out:
	free(path);
	return 0;
}
