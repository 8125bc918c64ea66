/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SAFE2 applet: commands of spec safe2.md section 4, the request state
 * machine, retries with exponential back-off and jitter.
 *
 * States per job: IDLE -> IN_PROGRESS (result 0 throughout, during an
 * attempt and while waiting to retry, as the seed's log shows 0001/0000;
 * the attempt count stays in struct safe2_request for the host)
 * -> DONE | DATA | FAILED; a new start leaves any final state. Persistent
 * changes are handed to the platform before the APDU is answered; if that
 * fails, the change is undone and the answer is 6581.
 */
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "ztp/safe2.h"

#define INS_PUT_DATA 0xDA
#define INS_GET_DATA 0xCA
#define INS_STATUS 0xCC

#define TAG_DEVICE_ID 0xC0
#define TAG_TELEMETRY 0xC1
#define TAG_HOST 0xD1
#define TAG_PORT 0xD2
#define TAG_PATH 0xD3
#define TAG_IDENTITY 0xD4
#define TAG_KEY 0xD5
#define TAG_LOCK 0xDF

void
safe2_persist_defaults(struct safe2_persist *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->host, sizeof(p->host), "127.0.0.1");
	p->port = 11111;
	snprintf(p->path, sizeof(p->path), "/v1/config");
	p->max_attempts = 10;
	p->retry_base_ms = 1000;
	p->retry_max_ms = 60000;
}

void
safe2_init(struct safe2 *s, const struct safe2_platform *plat, const struct safe2_persist *p)
{
	memset(s, 0, sizeof(*s));
	s->p = *p;
	s->plat = plat;
}

void
safe2_reset(struct safe2 *s)
{
	int j;

	for (j = 0; j < SAFE2_JOBS; j++) {
		if (s->req[j].in_flight && s->plat && s->plat->cancel)
			s->plat->cancel(s->plat->arg, (enum safe2_job)j);
		memset(&s->req[j], 0, sizeof(s->req[j]));
	}
	s->have_kept = 0;
	s->kept_len = 0;
	s->etag[0] = '\0';
}

static uint64_t
now_ms(struct safe2 *s)
{
	return s->plat && s->plat->now_ms ? s->plat->now_ms(s->plat->arg) : 0;
}

/* "<path>/<DeviceID hex>?iccid=<EF_ICCID hex>" */
static int
make_target(struct safe2 *s, const char *path, char *out, size_t cap)
{
	uint8_t ef[ICCID_EF_LEN];
	char dev[2 * SAFE2_DEVID_MAX + 1], efhex[2 * ICCID_EF_LEN + 1];
	int n;

	if (iccid_to_ef(s->p.iccid, ef) != 0)
		return -1;
	if (hex_encode(s->p.device_id, s->p.device_id_len, dev, sizeof(dev)) != 0 ||
	    hex_encode(ef, sizeof(ef), efhex, sizeof(efhex)) != 0)
		return -1;
	n = snprintf(out, cap, "%s/%s?iccid=%s", path, dev, efhex);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* One attempt of job, now. A platform that cannot start it counts as a transient failure. */
static void
start_attempt(struct safe2 *s, enum safe2_job job)
{
	struct safe2_request *r = &s->req[job];
	struct safe2_http_req h;
	struct safe2_http_resp fail;

	uint32_t gen;
	size_t n;

	memset(&h, 0, sizeof(h));
	h.job = job;
	h.host = s->p.host;
	h.port = s->p.port;
	/* the pending key of a rotation first; the current one if it fails */
	r->used_pending = s->p.pending_len > 0;
	if (r->used_pending) {
		h.psk = s->p.pending_psk;
		h.psk_len = s->p.pending_len;
		gen = s->p.pending_generation;
	} else {
		h.psk = s->p.psk;
		h.psk_len = s->p.psk_len;
		gen = s->p.psk_generation;
	}
	r->used_generation = gen;
	memcpy(s->identity, s->p.identity, s->p.identity_len);
	n = s->p.identity_len;
	if (gen > 0) {
		char suffix[12];
		int m = snprintf(suffix, sizeof(suffix), ".%u", gen);
		memcpy(s->identity + n, suffix, (size_t)m);
		n += (size_t)m;
	}
	h.identity = s->identity;
	h.identity_len = n;
	h.target = r->target;
	if (job == SAFE2_JOB_CONFIG) {
		h.method = "GET";
		h.if_none_match = s->have_kept && s->etag[0] ? s->etag : NULL;
	} else {
		h.method = "POST";
		h.body = r->body;
		h.body_len = r->body_len;
	}
	r->retry_at = 0;
	r->waiting = 0;
	r->in_flight = 1;
	if (s->plat == NULL || s->plat->start == NULL || s->plat->start(s->plat->arg, &h) != 0) {
		memset(&fail, 0, sizeof(fail));
		fail.outcome = SAFE2_OUT_TRANSIENT;
		safe2_complete(s, job, &fail);
	}
}

static void
begin(struct safe2 *s, enum safe2_job job)
{
	struct safe2_request *r = &s->req[job];

	r->state = SAFE2_IN_PROGRESS;
	r->attempts = 1;
	r->result = 0; /* and so while it retries: the seed's log shows 0001/0000 */
	r->read_off = 0;
	start_attempt(s, job);
}

static void
finish(struct safe2_request *r, uint16_t state, uint16_t result)
{
	r->state = state;
	r->result = result;
	r->in_flight = 0;
	r->retry_at = 0;
	r->waiting = 0;
}

/* Exponential back-off with jitter: a delay in [d/2, d], d = base * 2^(n-1), capped. */
static uint64_t
backoff(struct safe2 *s, uint32_t attempt)
{
	uint64_t d = s->p.retry_base_ms ? s->p.retry_base_ms : 1;
	uint32_t i, rnd;

	for (i = 1; i < attempt && d < s->p.retry_max_ms; i++)
		d *= 2;
	if (s->p.retry_max_ms && d > s->p.retry_max_ms)
		d = s->p.retry_max_ms;
	rnd = s->plat && s->plat->random ? s->plat->random(s->plat->arg) : 0;
	return d / 2 + rnd % (d / 2 + 1);
}

static void
retry_later(struct safe2 *s, enum safe2_job job)
{
	struct safe2_request *r = &s->req[job];

	r->in_flight = 0;
	if (s->p.max_attempts != 0 && r->attempts >= s->p.max_attempts) {
		finish(r, SAFE2_FAILED, SAFE2_ERR_GAVE_UP);
		return;
	}
	r->retry_at = now_ms(s) + backoff(s, r->attempts);
	r->waiting = 1;
	r->attempts++; /* the result stays 0: retrying is still 0001/0000 */
}

/* Hand the persistent state to the platform; 0 if it is durable. */
static int persist(struct safe2 *s);

/*
 * The key steps of a rotation, each persisted before anything depends on
 * it; a failed persist leaves the state as it was.
 */
static void
rotation_step(struct safe2 *s, struct safe2_request *r, const struct safe2_http_resp *resp)
{
	struct safe2_persist old = s->p;
	/* still the pending key this attempt used (the other job may have committed it) */
	int same = r->used_pending && s->p.pending_len > 0 &&
	    s->p.pending_generation == r->used_generation;

	if (same && resp->outcome == SAFE2_OUT_HTTP) {
		/* the server knows the new key: it is ours now, the old one is gone */
		memcpy(s->p.psk, s->p.pending_psk, s->p.pending_len);
		s->p.psk_len = s->p.pending_len;
		s->p.psk_generation = s->p.pending_generation;
		memset(s->p.pending_psk, 0, sizeof(s->p.pending_psk));
		s->p.pending_len = 0;
		s->p.pending_generation = 0;
		if (persist(s) != 0)
			s->p = old;
		return;
	}
	if (resp->outcome == SAFE2_OUT_HTTP && resp->rotate_generation != 0 &&
	    resp->rotate_generation == s->p.psk_generation + 1 && resp->rotate_key != NULL &&
	    resp->rotate_key_len >= SAFE2_PSK_MIN && resp->rotate_key_len <= SAFE2_PSK_MAX) {
		memcpy(s->p.pending_psk, resp->rotate_key, resp->rotate_key_len);
		s->p.pending_len = resp->rotate_key_len;
		s->p.pending_generation = resp->rotate_generation;
		if (persist(s) != 0)
			s->p = old;
	}
}

void
safe2_complete(struct safe2 *s, enum safe2_job job, const struct safe2_http_resp *resp)
{
	struct safe2_request *r;
	size_t n;

	if ((unsigned)job >= SAFE2_JOBS || resp == NULL)
		return;
	r = &s->req[job];
	if (!r->in_flight || r->state != SAFE2_IN_PROGRESS)
		return;
	r->in_flight = 0;
	if (r->used_pending && resp->outcome == SAFE2_OUT_ALERT && s->p.pending_len > 0 &&
	    s->p.pending_generation == r->used_generation) {
		/* the server does not know this pending key: drop it, go on with the current one */
		struct safe2_persist old = s->p;
		memset(s->p.pending_psk, 0, sizeof(s->p.pending_psk));
		s->p.pending_len = 0;
		s->p.pending_generation = 0;
		if (persist(s) != 0) {
			s->p = old;
			retry_later(s, job);
			return;
		}
		r->used_pending = 0;
		start_attempt(s, job);
		return;
	}
	rotation_step(s, r, resp);
	r->used_pending = 0;
	switch (resp->outcome) {
	case SAFE2_OUT_TRANSIENT:
		retry_later(s, job);
		return;
	case SAFE2_OUT_ALERT:
		finish(r, SAFE2_FAILED, (uint16_t)(SAFE2_ERR_ALERT | resp->alert));
		return;
	case SAFE2_OUT_TOO_LARGE:
		finish(r, SAFE2_FAILED, SAFE2_ERR_TOO_LARGE);
		return;
	case SAFE2_OUT_HTTP:
		break;
	default:
		retry_later(s, job);
		return;
	}
	if (resp->status >= 500 && resp->status <= 599) {
		retry_later(s, job);
		return;
	}
	if (job == SAFE2_JOB_TELEMETRY) {
		if (resp->status >= 200 && resp->status <= 299)
			finish(r, SAFE2_DONE, 0);
		else
			finish(r, SAFE2_FAILED, (uint16_t)resp->status);
		return;
	}
	switch (resp->status) {
	case 200:
		if (resp->body_len > SAFE2_BODY_MAX) {
			finish(r, SAFE2_FAILED, SAFE2_ERR_TOO_LARGE);
			return;
		}
		n = resp->body_len;
		memcpy(r->body, resp->body, n);
		r->body_len = n;
		/* keep it for a later 304, with its ETag */
		memcpy(s->kept, resp->body, n);
		s->kept_len = n;
		s->have_kept = resp->etag != NULL && strlen(resp->etag) <= SAFE2_ETAG_MAX;
		if (s->have_kept)
			snprintf(s->etag, sizeof(s->etag), "%s", resp->etag);
		else
			s->etag[0] = '\0';
		r->read_off = 0;
		/* the seed's log reads 0007 0000: the length comes with the reads */
		finish(r, SAFE2_DATA, 0);
		return;
	case 304:
		if (!s->have_kept) {
			finish(r, SAFE2_FAILED, 304);
			return;
		}
		memcpy(r->body, s->kept, s->kept_len);
		r->body_len = s->kept_len;
		r->read_off = 0;
		finish(r, SAFE2_DATA, 0);
		return;
	case 204:
		r->body_len = 0;
		finish(r, SAFE2_DONE, 0);
		return;
	default:
		finish(r, SAFE2_FAILED, (uint16_t)resp->status);
		return;
	}
}

int64_t
safe2_tick(struct safe2 *s)
{
	int64_t next = -1;
	uint64_t now = now_ms(s);
	int j;

	for (j = 0; j < SAFE2_JOBS; j++) {
		struct safe2_request *r = &s->req[j];
		if (r->state != SAFE2_IN_PROGRESS || r->in_flight || !r->waiting)
			continue;
		if (now >= r->retry_at) {
			start_attempt(s, (enum safe2_job)j);
			if (r->state == SAFE2_IN_PROGRESS && !r->in_flight && r->waiting)
				next = next < 0 || (int64_t)(r->retry_at - now) < next ?
				    (int64_t)(r->retry_at - now) : next;
		} else {
			int64_t left = (int64_t)(r->retry_at - now);
			if (next < 0 || left < next)
				next = left;
		}
	}
	return next;
}

/* Hand the persistent state to the platform; 0 if it is durable. */
static int
persist(struct safe2 *s)
{
	if (s->plat == NULL || s->plat->persist == NULL)
		return 0;
	return s->plat->persist(s->plat->arg, &s->p);
}

static int
printable(const uint8_t *b, size_t n, int allow_slash_first)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] <= 0x20 || b[i] >= 0x7f)
			return 0;
	return allow_slash_first ? n > 0 && b[0] == '/' : 1;
}

static uint16_t
personalise(struct safe2 *s, const struct apdu *a)
{
	struct safe2_persist old = s->p;

	if (s->p.locked)
		return SW_SECURITY_NOT_SATISFIED;
	if (a->p2 == TAG_LOCK) {
		if (a->apdu_case > 2)
			return SW_WRONG_LENGTH;
		if (s->p.host[0] == '\0' || s->p.port == 0 || s->p.psk_len == 0 ||
		    s->p.identity_len == 0)
			return SW_CONDITIONS_NOT_SATISFIED;
		s->p.locked = 1;
	} else {
		if (a->apdu_case != 3)
			return SW_WRONG_LENGTH;
		switch (a->p2) {
		case TAG_HOST:
			if (a->lc > SAFE2_HOST_MAX || !printable(a->data, a->lc, 0))
				return SW_WRONG_LENGTH;
			memcpy(s->p.host, a->data, a->lc);
			s->p.host[a->lc] = '\0';
			break;
		case TAG_PORT:
			if (a->lc != 2 || (a->data[0] == 0 && a->data[1] == 0))
				return SW_WRONG_LENGTH;
			s->p.port = (uint16_t)(a->data[0] << 8 | a->data[1]);
			break;
		case TAG_PATH:
			if (a->lc > SAFE2_PATH_MAX || !printable(a->data, a->lc, 1))
				return SW_WRONG_LENGTH;
			memcpy(s->p.path, a->data, a->lc);
			s->p.path[a->lc] = '\0';
			break;
		case TAG_IDENTITY:
			if (a->lc > SAFE2_IDENTITY_MAX)
				return SW_WRONG_LENGTH;
			memcpy(s->p.identity, a->data, a->lc);
			s->p.identity_len = a->lc;
			break;
		case TAG_KEY:
			if (a->lc < SAFE2_PSK_MIN || a->lc > SAFE2_PSK_MAX)
				return SW_WRONG_LENGTH;
			memcpy(s->p.psk, a->data, a->lc);
			s->p.psk_len = a->lc;
			s->p.psk_generation = 0;
			/* a new key from the factory ends any rotation of the old one */
			memset(s->p.pending_psk, 0, sizeof(s->p.pending_psk));
			s->p.pending_len = 0;
			s->p.pending_generation = 0;
			break;
		default:
			return SW_WRONG_P1P2;
		}
	}
	if (persist(s) != 0) {
		s->p = old;
		return SW_MEMORY_FAILURE;
	}
	return SW_OK;
}

static uint16_t
put_data(struct safe2 *s, const struct apdu *a)
{
	struct safe2_request *r;
	uint8_t old[SAFE2_DEVID_MAX];
	size_t oldlen;

	if (a->p1 != 0x02)
		return SW_WRONG_P1P2;
	switch (a->p2) {
	case TAG_DEVICE_ID:
		if (a->apdu_case != 3 || a->lc > SAFE2_DEVID_MAX)
			return SW_WRONG_LENGTH;
		memcpy(old, s->p.device_id, sizeof(old));
		oldlen = s->p.device_id_len;
		memcpy(s->p.device_id, a->data, a->lc);
		s->p.device_id_len = a->lc;
		if (persist(s) != 0) {
			memcpy(s->p.device_id, old, sizeof(old));
			s->p.device_id_len = oldlen;
			return SW_MEMORY_FAILURE;
		}
		return SW_OK;
	case TAG_TELEMETRY:
		if (a->apdu_case != 3 || a->lc > SAFE2_BODY_MAX)
			return SW_WRONG_LENGTH;
		r = &s->req[SAFE2_JOB_TELEMETRY];
		if (s->p.device_id_len == 0 || r->state == SAFE2_IN_PROGRESS)
			return SW_CONDITIONS_NOT_SATISFIED;
		if (make_target(s, "/v1/data", r->target, sizeof(r->target)) != 0)
			return SW_CONDITIONS_NOT_SATISFIED;
		memcpy(r->body, a->data, a->lc);
		r->body_len = a->lc;
		begin(s, SAFE2_JOB_TELEMETRY);
		return SW_OK;
	case TAG_HOST:
	case TAG_PORT:
	case TAG_PATH:
	case TAG_IDENTITY:
	case TAG_KEY:
	case TAG_LOCK:
		return personalise(s, a);
	default:
		return SW_WRONG_P1P2;
	}
}

/* CA 00 00: the 256-byte request descriptor, starting the request if none runs. */
static uint16_t
start_request(struct safe2 *s, const struct apdu *a, uint8_t *resp, size_t cap, size_t *len)
{
	struct safe2_request *r = &s->req[SAFE2_JOB_CONFIG];
	int n;

	if (a->apdu_case > 2)
		return SW_WRONG_LENGTH;
	if (cap < SAFE2_DESCRIPTOR_LEN)
		return SW_WRONG_LENGTH;
	if (s->p.device_id_len == 0)
		return SW_CONDITIONS_NOT_SATISFIED;
	if (r->state != SAFE2_IN_PROGRESS) {
		if (make_target(s, s->p.path, r->target, sizeof(r->target)) != 0)
			return SW_CONDITIONS_NOT_SATISFIED;
		r->body_len = 0;
		begin(s, SAFE2_JOB_CONFIG);
	}
	/* the request line: host, port, path and query; no secret */
	memset(resp, 0, SAFE2_DESCRIPTOR_LEN);
	n = snprintf((char *)resp, SAFE2_DESCRIPTOR_LEN, "%s:%u%s", s->p.host, s->p.port, r->target);
	if (n >= SAFE2_DESCRIPTOR_LEN)
		resp[SAFE2_DESCRIPTOR_LEN - 1] = 0;
	*len = SAFE2_DESCRIPTOR_LEN;
	return SW_OK;
}

static uint16_t
read_body(struct safe2 *s, const struct apdu *a, uint8_t *resp, size_t cap, size_t *len)
{
	struct safe2_request *r = &s->req[SAFE2_JOB_CONFIG];
	size_t n, want;

	if (a->apdu_case > 2)
		return SW_WRONG_LENGTH;
	if (r->state != SAFE2_DATA)
		return SW_CONDITIONS_NOT_SATISFIED;
	if (r->read_off >= r->body_len)
		return SW_REFERENCED_DATA_NOT_FOUND;
	want = a->le ? a->le : APDU_MAX_RESP_DATA;
	n = r->body_len - r->read_off;
	if (n > want)
		n = want;
	if (n > cap)
		n = cap;
	memcpy(resp, r->body + r->read_off, n);
	r->read_off += n;
	*len = n;
	return SW_OK;
}

static uint16_t
status(struct safe2 *s, const struct apdu *a, uint8_t *resp, size_t cap, size_t *len)
{
	struct safe2_request *r;

	if (a->p2 != 0x00 || (a->p1 != 0x01 && a->p1 != 0x02))
		return SW_WRONG_P1P2;
	if (a->apdu_case > 2 || cap < 4)
		return SW_WRONG_LENGTH;
	safe2_tick(s);
	r = &s->req[a->p1 == 0x02 ? SAFE2_JOB_CONFIG : SAFE2_JOB_TELEMETRY];
	resp[0] = (uint8_t)(r->state >> 8);
	resp[1] = (uint8_t)r->state;
	resp[2] = (uint8_t)(r->result >> 8);
	resp[3] = (uint8_t)r->result;
	*len = 4;
	return SW_OK;
}

uint16_t
safe2_process(struct safe2 *s, const struct apdu *a, uint8_t *resp, size_t cap, size_t *resp_len)
{
	*resp_len = 0;
	switch (a->ins) {
	case INS_PUT_DATA:
		return put_data(s, a);
	case INS_GET_DATA:
		if (a->p1 == 0x00 && a->p2 == 0x00)
			return start_request(s, a, resp, cap, resp_len);
		if (a->p1 == 0x01 && a->p2 == 0x00)
			return read_body(s, a, resp, cap, resp_len);
		return SW_WRONG_P1P2;
	case INS_STATUS:
		return status(s, a, resp, cap, resp_len);
	default:
		return SW_INS_NOT_SUPPORTED;
	}
}
