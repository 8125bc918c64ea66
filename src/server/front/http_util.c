/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <sys/queue.h>

#include <event2/keyvalq_struct.h>

#include "http_util.h"

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 402: return "Payment Required";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 412: return "Precondition Failed";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 423: return "Locked";
	case 429: return "Too Many Requests";
	case 413: return "Payload Too Large";
	case 431: return "Request Header Fields Too Large";
	case 414: return "URI Too Long";
	case 411: return "Length Required";
	case 505: return "HTTP Version Not Supported";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}


/* The "error" member of our JSON errors for a status the guard answers. */
const char *
http_error_code(int status)
{
	switch (status) {
	case 400: return "bad_request";
	case 401: return "unauthorized";
	case 411: return "length_required";
	case 413: return "too_large";
	case 431: return "headers_too_large";
	case 501: return "not_implemented";
	case 505: return "version_not_supported";
	case 503: return "unavailable";
	default: return "internal";
	}
}

void
http_reply_json(struct evhttp_request *req, int status, json_t *obj)
{
	struct evbuffer *buf = evbuffer_new();
	char *text = NULL;

	if (obj != NULL && buf != NULL && (text = json_dumps(obj, JSON_COMPACT)) != NULL) {
		evbuffer_add(buf, text, strlen(text));
		evbuffer_add(buf, "\n", 1);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
		    "application/json");
	}
	evhttp_send_reply(req, status, http_reason(status), buf);
	free(text);
	json_decref(obj);
	if (buf != NULL)
		evbuffer_free(buf);
}

void
http_reply_error(struct evhttp_request *req, int status, const char *code, const char *detail)
{
	http_reply_json(req, status, json_pack("{s:s, s:s}", "error", code, "detail", detail));
}

size_t
http_body_len(struct evhttp_request *req)
{
	return evbuffer_get_length(evhttp_request_get_input_buffer(req));
}

long
http_body(struct evhttp_request *req, uint8_t *buf, size_t cap)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);

	if (len > cap)
		return -1;
	if (len > 0 && evbuffer_copyout(in, buf, len) != (ev_ssize_t)len)
		return -1;
	return (long)len;
}

const char *
http_method_name(struct evhttp_request *req, const char *other)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_HEAD: return "HEAD";
	default: return other;
	}
}
