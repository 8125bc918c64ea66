/* SPDX-License-Identifier: Apache-2.0 */
/* Profiles, modules, campaigns: not built yet (issue 13). */
#include "admin_int.h"
#include "http_util.h"

#define NOT_YET(fn) void fn(struct areq *a) { http_reply_error(a->req, 501, "not_implemented", #fn); }
NOT_YET(admin_profile_list)
NOT_YET(admin_profile_create)
NOT_YET(admin_profile_get)
NOT_YET(admin_profile_update)
NOT_YET(admin_module_import)
NOT_YET(admin_module_list)
NOT_YET(admin_module_get)
NOT_YET(admin_module_transfer)
NOT_YET(admin_module_release)
NOT_YET(admin_module_features)
NOT_YET(admin_campaign_list)
NOT_YET(admin_campaign_create)
NOT_YET(admin_campaign_get)
