/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport_client: drives the SAFE2 host transport (src/device/transport.c)
 * for the integration tests: one attempt on an event_base, or a few.
 *
 * usage: transport_client --port P (--iccid DIGITS | --identity STR) --psk HEX
 *          [--host H] [--target PATH?QUERY] [--post TEXT] [--if-none-match ETAG]
 *          [--psk-ke] [--gcm] [--timeout-ms N] [--nameserver IP[:PORT]]
 *          [--dns-ttl-fallback S] [--repeat N] [--repeat-delay-ms N]
 *          [--also-post TEXT --also-target PATH] [--cancel-after-ms N]
 *          [--free-after-ms N] [--free-in-callback] [--verbose]
 *
 * --iccid sends the identity as the 10 EF_ICCID bytes (BCD), --identity as
 * the bytes of STR. A GET is the configuration job, a POST (--post) the
 * telemetry job. --repeat N starts the same request N more times, each
 * from the previous one's callback (after --repeat-delay-ms). --also-post
 * runs a telemetry POST concurrently with a GET. --cancel-after-ms and
 * --free-after-ms cancel every job or free the transport mid-way,
 * --free-in-callback frees it from the first callback: any callback after
 * that is an error.
 *
 * For each outcome, on stdout:
 *   outcome: http status=200 etag="1-0a1b2c3d" body_len=90   (etag=- if none)
 *   <the body, then a newline>
 *   info: job=config addr=127.0.0.1 from=numeric handshake=1 cipher=... kex=... ms=12
 * or "outcome: alert 51", "outcome: transient", "outcome: too_large",
 * each followed by its info line; "cancelled" or "freed" when done so.
 * Exit 0 when the run went as asked, 1 on an error, 2 on a usage error.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "hex.h"
#include "num.h"
#include "ztp/err.h"
#include "ztp/iccid.h"
#include "ztp/transport.h"

struct run {
	struct event_base *base;
	struct transport *t;
	struct safe2_http_req req;
	struct safe2_http_req also;
	int have_also;
	uint64_t repeat_left;
	uint64_t repeat_delay_ms;
	struct event *repeat_ev;
	int stopped; /* cancelled or freed: no callback may come */
	int free_in_cb; /* free the transport from the first callback */
	int errors;
};

static const char *
addr_from_name(enum transport_addr_from f)
{
	switch (f) {
	case TRANSPORT_ADDR_NONE:
		return "none";
	case TRANSPORT_ADDR_NUMERIC:
		return "numeric";
	case TRANSPORT_ADDR_LOCAL:
		return "local";
	case TRANSPORT_ADDR_CACHE:
		return "cache";
	case TRANSPORT_ADDR_DNS:
		return "dns";
	}
	return "?";
}

static void
start(struct run *run, const struct safe2_http_req *req);

static void
done(void *arg, enum safe2_job job, const struct safe2_http_resp *r)
{
	struct run *run = arg;
	struct transport_info info;

	if (run->stopped) {
		printf("error: callback after cancel or free\n");
		run->errors++;
	}
	switch (r->outcome) {
	case SAFE2_OUT_HTTP:
		printf("outcome: http status=%d etag=%s body_len=%zu\n", r->status,
		    r->etag != NULL ? r->etag : "-", r->body_len);
		if (r->body_len > 0)
			fwrite(r->body, 1, r->body_len, stdout);
		printf("\n");
		break;
	case SAFE2_OUT_ALERT:
		printf("outcome: alert %u\n", r->alert);
		break;
	case SAFE2_OUT_TRANSIENT:
		printf("outcome: transient\n");
		break;
	case SAFE2_OUT_TOO_LARGE:
		printf("outcome: too_large\n");
		break;
	}
	if (transport_last_info(run->t, job, &info) != 0) {
		printf("error: no info for the job\n");
		run->errors++;
	} else {
		printf("info: job=%s addr=%s from=%s handshake=%d cipher=%s kex=%s ms=%u in=%llu out=%llu\n",
		    job == SAFE2_JOB_CONFIG ? "config" : "telemetry",
		    info.addr[0] ? info.addr : "-", addr_from_name(info.addr_from),
		    info.handshake_done, info.cipher ? info.cipher : "-",
		    !info.handshake_done ? "-" : info.psk_ke ? "psk_ke" : "psk_dhe_ke",
		    info.elapsed_ms, (unsigned long long)info.bytes_in, (unsigned long long)info.bytes_out);
	}
	fflush(stdout);
	if (run->free_in_cb) {
		transport_free(run->t);
		run->t = NULL;
		run->stopped = 1;
		run->repeat_left = 0;
		printf("freed\n");
		fflush(stdout);
		return;
	}
	if (job == run->req.job && run->repeat_left > 0) {
		run->repeat_left--;
		if (run->repeat_delay_ms > 0) {
			struct timeval tv = { (time_t)(run->repeat_delay_ms / 1000),
				(suseconds_t)(run->repeat_delay_ms % 1000) * 1000 };
			evtimer_add(run->repeat_ev, &tv);
		} else {
			start(run, &run->req); /* from inside the callback, on purpose */
		}
	}
}

static void
start(struct run *run, const struct safe2_http_req *req)
{
	int rc = transport_start(run->t, req, done, run);

	if (rc != 0) {
		printf("error: transport_start: %s\n", ztp_strerror(rc));
		run->errors++;
	}
}

static void
repeat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *run = arg;

	start(run, &run->req);
}

static void
cancel_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *run = arg;

	transport_cancel(run->t, SAFE2_JOB_CONFIG);
	transport_cancel(run->t, SAFE2_JOB_TELEMETRY);
	run->stopped = 1;
	run->repeat_left = 0;
	printf("cancelled\n");
	fflush(stdout);
}

static void
free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *run = arg;

	transport_free(run->t);
	run->t = NULL;
	run->stopped = 1;
	run->repeat_left = 0;
	printf("freed\n");
	fflush(stdout);
}

static void
log_cb(void *arg, enum transport_log_level level, const char *msg)
{
	static const char *names[] = { "debug", "info", "warn" };

	fprintf(stderr, "transport %s: %s\n", names[level], msg);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: transport_client --port P (--iccid DIGITS | --identity STR) --psk HEX\n"
	    "         [--host H] [--target PATH?QUERY] [--post TEXT] [--if-none-match ETAG]\n"
	    "         [--psk-ke] [--gcm] [--timeout-ms N] [--nameserver IP[:PORT]]\n"
	    "         [--dns-ttl-fallback S] [--repeat N] [--repeat-delay-ms N]\n"
	    "         [--also-post TEXT --also-target PATH] [--cancel-after-ms N]\n"
	    "         [--free-after-ms N] [--free-in-callback] [--verbose]\n");
	exit(2);
}

static void
after_ms(struct event_base *base, uint64_t ms, event_callback_fn fn, void *arg, struct event **ev)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	if ((*ev = evtimer_new(base, fn, arg)) == NULL || evtimer_add(*ev, &tv) != 0) {
		fprintf(stderr, "cannot add a timer\n");
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	static uint8_t identity[SAFE2_IDENTITY_MAX], psk[SAFE2_PSK_MAX];
	struct run run;
	struct transport_opts opts;
	struct event *cancel_ev = NULL, *free_ev = NULL;
	const char *host = "127.0.0.1", *target = "/", *post = NULL, *inm = NULL;
	const char *also_post = NULL, *also_target = NULL;
	size_t identity_len = 0, psk_len = 0;
	uint64_t port = 0, timeout_ms = TRANSPORT_TIMEOUT_MS_DEFAULT, ttl = 0;
	uint64_t cancel_ms = 0, free_ms = 0;
	int i, have_ttl = 0, have_cancel = 0, have_free = 0, status;

	memset(&run, 0, sizeof(run));
	transport_opts_defaults(&opts);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--psk-ke")) {
			opts.psk_ke = 1;
			continue;
		} else if (!strcmp(a, "--gcm")) {
			opts.prefer_gcm = 1;
			continue;
		} else if (!strcmp(a, "--verbose")) {
			opts.log = log_cb;
			continue;
		} else if (!strcmp(a, "--free-in-callback")) {
			run.free_in_cb = 1;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (!strcmp(a, "--host")) {
			host = v;
		} else if (!strcmp(a, "--port")) {
			if (num_parse_u64z(v, 1, 65535, &port) != 0)
				usage();
		} else if (!strcmp(a, "--iccid")) {
			if (iccid_to_ef(v, identity) != 0)
				usage();
			identity_len = ICCID_EF_LEN;
		} else if (!strcmp(a, "--identity")) {
			if (strlen(v) == 0 || strlen(v) > sizeof(identity))
				usage();
			identity_len = strlen(v);
			memcpy(identity, v, identity_len);
		} else if (!strcmp(a, "--psk")) {
			if (hex_decode(v, strlen(v), psk, sizeof(psk), &psk_len) != 0)
				usage();
		} else if (!strcmp(a, "--target")) {
			target = v;
		} else if (!strcmp(a, "--post")) {
			post = v;
		} else if (!strcmp(a, "--if-none-match")) {
			inm = v;
		} else if (!strcmp(a, "--timeout-ms")) {
			if (num_parse_u64z(v, 1, 600000, &timeout_ms) != 0)
				usage();
		} else if (!strcmp(a, "--nameserver")) {
			opts.nameserver = v;
		} else if (!strcmp(a, "--dns-ttl-fallback")) {
			if (num_parse_u64z(v, 0, 86400, &ttl) != 0)
				usage();
			have_ttl = 1;
		} else if (!strcmp(a, "--repeat")) {
			if (num_parse_u64z(v, 0, 100, &run.repeat_left) != 0)
				usage();
		} else if (!strcmp(a, "--repeat-delay-ms")) {
			if (num_parse_u64z(v, 0, 600000, &run.repeat_delay_ms) != 0)
				usage();
		} else if (!strcmp(a, "--also-post")) {
			also_post = v;
		} else if (!strcmp(a, "--also-target")) {
			also_target = v;
		} else if (!strcmp(a, "--cancel-after-ms")) {
			if (num_parse_u64z(v, 0, 600000, &cancel_ms) != 0)
				usage();
			have_cancel = 1;
		} else if (!strcmp(a, "--free-after-ms")) {
			if (num_parse_u64z(v, 0, 600000, &free_ms) != 0)
				usage();
			have_free = 1;
		} else {
			usage();
		}
	}
	if (port == 0 || identity_len == 0 || psk_len == 0 ||
	    (also_post != NULL) != (also_target != NULL) || (also_post != NULL && post != NULL))
		usage();
	opts.timeout_ms = (uint32_t)timeout_ms;
	if (have_ttl)
		opts.dns_ttl_fallback_s = (uint32_t)ttl;

	signal(SIGPIPE, SIG_IGN);
	if ((run.base = event_base_new()) == NULL) {
		fprintf(stderr, "event_base_new failed\n");
		return 1;
	}
	if ((run.t = transport_new(run.base, &opts)) == NULL) {
		fprintf(stderr, "transport_new failed\n");
		event_base_free(run.base);
		return 1;
	}
	run.req.job = post != NULL ? SAFE2_JOB_TELEMETRY : SAFE2_JOB_CONFIG;
	run.req.host = host;
	run.req.port = (uint16_t)port;
	run.req.identity = identity;
	run.req.identity_len = identity_len;
	run.req.psk = psk;
	run.req.psk_len = psk_len;
	run.req.method = post != NULL ? "POST" : "GET";
	run.req.target = target;
	run.req.body = (const uint8_t *)post;
	run.req.body_len = post != NULL ? strlen(post) : 0;
	run.req.if_none_match = inm;
	if ((run.repeat_ev = evtimer_new(run.base, repeat_cb, &run)) == NULL)
		return 1;
	start(&run, &run.req);
	if (also_post != NULL) {
		run.also = run.req;
		run.also.job = SAFE2_JOB_TELEMETRY;
		run.also.method = "POST";
		run.also.target = also_target;
		run.also.body = (const uint8_t *)also_post;
		run.also.body_len = strlen(also_post);
		run.also.if_none_match = NULL;
		start(&run, &run.also);
	}
	if (have_cancel)
		after_ms(run.base, cancel_ms, cancel_cb, &run, &cancel_ev);
	if (have_free)
		after_ms(run.base, free_ms, free_cb, &run, &free_ev);

	/* ends when nothing is left: the transport must not leave events behind */
	event_base_dispatch(run.base);

	status = run.errors > 0 ? 1 : 0;
	transport_free(run.t);
	event_free(run.repeat_ev);
	if (cancel_ev != NULL)
		event_free(cancel_ev);
	if (free_ev != NULL)
		event_free(free_ev);
	event_base_free(run.base);
	return status;
}
