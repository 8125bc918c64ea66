/* SPDX-License-Identifier: Apache-2.0 */
/* Owners and API keys: not built yet (issue 13). */
#include "admin_int.h"
#include "http_util.h"

#define NOT_YET(fn) void fn(struct areq *a) { http_reply_error(a->req, 501, "not_implemented", #fn); }
NOT_YET(admin_owner_list)
NOT_YET(admin_owner_create)
NOT_YET(admin_owner_get)
NOT_YET(admin_apikey_list)
NOT_YET(admin_apikey_create)
NOT_YET(admin_apikey_revoke)
