/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SAFE2 applet (spec safe2.md section 4): holds the server address and
 * the PSK, fetches the configuration and posts telemetry on the device
 * application's request, and reports states and results.
 *
 * Portable C: no allocation, no I/O. What it needs from its host comes
 * through struct safe2_platform: persist the state that must survive a
 * power cut (before the APDU that changed it is answered), start one
 * network attempt (the host reports its outcome with safe2_complete()),
 * the clock and random numbers for back-off with jitter.
 */
#ifndef ZTP_SAFE2_H
#define ZTP_SAFE2_H
#include <stddef.h>
#include <stdint.h>

#include "ztp/apdu.h"
#include "ztp/iccid.h"

#define SAFE2_DEVID_MAX 16
#define SAFE2_HOST_MAX 63
#define SAFE2_PATH_MAX 63
#define SAFE2_IDENTITY_MAX 32
#define SAFE2_PSK_MIN 16
#define SAFE2_PSK_MAX 64
#define SAFE2_BODY_MAX 255
#define SAFE2_DESCRIPTOR_LEN 256
#define SAFE2_ETAG_MAX 64
#define SAFE2_TARGET_MAX 192

/*
 * States reported by CC 02 00 / CC 01 00 (state, result), as the seed's log
 * has them: IN_PROGRESS with 0 (during an attempt and while waiting to
 * retry; the count is in struct safe2_request's attempts), DATA with 0 (the
 * body's length comes with the reads), DONE with 0, FAILED with an error
 * code.
 */
#define SAFE2_IDLE 0x0000
#define SAFE2_IN_PROGRESS 0x0001
#define SAFE2_DONE 0x0003
#define SAFE2_DATA 0x0007
#define SAFE2_FAILED 0x000F

/* results of SAFE2_FAILED */
#define SAFE2_ERR_ALERT 0x0100 /* | alert received */
#define SAFE2_ERR_NO_DEVICE_ID 0xFF01
#define SAFE2_ERR_TOO_LARGE 0xFF02
#define SAFE2_ERR_GAVE_UP 0xFF03

/* What survives a card reset; the host stores it (the SIM file). */
struct safe2_persist {
	char iccid[ICCID_STR_SIZE];
	char host[SAFE2_HOST_MAX + 1];
	uint16_t port;
	char path[SAFE2_PATH_MAX + 1]; /* of the configuration; default "/v1/config" */
	uint8_t identity[SAFE2_IDENTITY_MAX]; /* default: the 10 EF_ICCID bytes */
	size_t identity_len;
	uint8_t psk[SAFE2_PSK_MAX];
	size_t psk_len;
	uint32_t psk_generation;
	/* rotation (section 6): the next key, kept until a handshake with it succeeds */
	uint8_t pending_psk[SAFE2_PSK_MAX];
	size_t pending_len; /* 0: none */
	uint32_t pending_generation;
	uint8_t device_id[SAFE2_DEVID_MAX];
	size_t device_id_len; /* 0: not set */
	int locked;           /* personalisation refused once set */
	/* retry policy */
	uint32_t max_attempts; /* 0: never give up */
	uint32_t retry_base_ms;
	uint32_t retry_max_ms;
};

enum safe2_job { SAFE2_JOB_CONFIG = 0, SAFE2_JOB_TELEMETRY = 1, SAFE2_JOBS = 2 };

/* One network attempt for the host to make. Pointers are valid during start() only. */
struct safe2_http_req {
	enum safe2_job job;
	const char *host;
	uint16_t port;
	const uint8_t *identity;
	size_t identity_len;
	const uint8_t *psk;
	size_t psk_len;
	const char *method; /* "GET" or "POST" */
	const char *target; /* path and query */
	const uint8_t *body;
	size_t body_len;
	const char *if_none_match; /* NULL: none */
};

enum safe2_outcome {
	SAFE2_OUT_HTTP,      /* an HTTP response was received: status, body */
	SAFE2_OUT_TRANSIENT, /* resolve, connect, time-out, closed: retry */
	SAFE2_OUT_ALERT,     /* the server sent a fatal TLS alert */
	SAFE2_OUT_TOO_LARGE, /* the response body exceeded SAFE2_BODY_MAX */
};

struct safe2_http_resp {
	enum safe2_outcome outcome;
	int status;    /* SAFE2_OUT_HTTP */
	uint8_t alert; /* SAFE2_OUT_ALERT */
	const uint8_t *body;
	size_t body_len;
	const char *etag; /* NULL if none */
	/*
	 * ZTP-PSK-Rotate: the generation the server offers (0: none) and the
	 * key the host exported from that TLS session for it (label
	 * EXPORTER-ztp-psk-rotate, context the generation in ASCII, 32 bytes).
	 */
	uint32_t rotate_generation;
	const uint8_t *rotate_key;
	size_t rotate_key_len;
};

struct safe2_platform {
	/* Store p durably; 0 on success. */
	int (*persist)(void *arg, const struct safe2_persist *p);
	/* Start one attempt; its outcome comes back through safe2_complete(). 0 if started. */
	int (*start)(void *arg, const struct safe2_http_req *req);
	/* Abandon an attempt in flight (card reset). */
	void (*cancel)(void *arg, enum safe2_job job);
	uint64_t (*now_ms)(void *arg);
	uint32_t (*random)(void *arg);
	void *arg;
};

struct safe2_request {
	uint16_t state;
	uint16_t result;
	uint32_t attempts; /* the attempt in flight or due next, from 1; CC reports result 0 */
	int in_flight;
	int waiting;       /* a retry is due at retry_at */
	uint64_t retry_at; /* ms */
	int used_pending;  /* the attempt in flight uses the pending key */
	uint32_t used_generation; /* of the key it uses */
	char target[SAFE2_TARGET_MAX];
	uint8_t body[SAFE2_BODY_MAX]; /* config: response; telemetry: what to post */
	size_t body_len;
	size_t read_off; /* config body: bytes read by CA 01 00 */
};

struct safe2 {
	struct safe2_persist p;
	const struct safe2_platform *plat;
	struct safe2_request req[SAFE2_JOBS];
	/* the identity of the attempt in flight: base identity, ".<generation>" if > 0 */
	uint8_t identity[SAFE2_IDENTITY_MAX + 11];
	/* the last 200: its ETag and body, served again on 304 */
	char etag[SAFE2_ETAG_MAX + 1];
	uint8_t kept[SAFE2_BODY_MAX];
	size_t kept_len;
	int have_kept;
};

/* Initialise with the persistent state p (copied) and the host's platform. */
void safe2_init(struct safe2 *s, const struct safe2_platform *plat, const struct safe2_persist *p);
/* Fill p with the defaults of a new SIM (port 11111, path /v1/config, retries). */
void safe2_persist_defaults(struct safe2_persist *p);
/* Card reset: requests and kept bodies are gone; the persistent state stays. */
void safe2_reset(struct safe2 *s);

/*
 * Process a command addressed to the applet (CLA already checked by the
 * card). Response data goes to resp (cap >= APDU_MAX_RESP_DATA), its
 * length to *resp_len. Returns the status word.
 */
uint16_t safe2_process(struct safe2 *s, const struct apdu *a, uint8_t *resp, size_t cap,
    size_t *resp_len);

/*
 * The host reports the outcome of the attempt it started for job.
 * Rotation: an attempt made with the pending key that got an HTTP answer
 * commits it (persisted before the state changes); one refused with a TLS
 * alert drops it and retries at once with the current key. An offered
 * generation (current + 1) is persisted as pending before the request is
 * reported done; if persisting fails, the offer is ignored (the server
 * offers again, as nothing was committed).
 */
void safe2_complete(struct safe2 *s, enum safe2_job job, const struct safe2_http_resp *r);

/*
 * Start the attempts whose back-off has passed. Returns the milliseconds
 * until the next one is due, or -1 if none is waiting.
 */
int64_t safe2_tick(struct safe2 *s);

#endif
