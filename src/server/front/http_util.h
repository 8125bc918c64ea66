/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers shared by the device and admin handlers.
 */
#ifndef ZTP_HTTP_UTIL_H
#define ZTP_HTTP_UTIL_H
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct evhttp_request;

/* Send obj (stolen, may be NULL for no body) with status. */
void http_reply_json(struct evhttp_request *req, int status, json_t *obj);
/* Send {"error": code, "detail": detail} with status. */
void http_reply_error(struct evhttp_request *req, int status, const char *code,
    const char *detail);
/* The reason phrase of a status. */
const char *http_reason(int status);
const char *http_error_code(int status);
/*
 * Copy the request body into buf (cap bytes). Returns its length, or -1 if
 * it is larger than cap (nothing copied).
 */
long http_body(struct evhttp_request *req, uint8_t *buf, size_t cap);
/* The request's method ("GET", "POST", "PUT", "DELETE", "HEAD"), or other for any other. */
const char *http_method_name(struct evhttp_request *req, const char *other);
/* Length of the request body. */
size_t http_body_len(struct evhttp_request *req);

#endif
