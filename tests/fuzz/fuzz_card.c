/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A scripted target for the card and the SAFE2 applet (curl-fuzzer's TLV
 * idea): the input is a sequence of operations, each one byte of opcode
 * followed by its operands:
 *   0x00 len bytes[len]  one command APDU to card_process()
 *   0x01 job outcome status_hi status_lo alert len bytes[len]
 *                        the host completes a network attempt
 *   0x02 ms_hi ms_lo     time passes, then safe2_tick()
 *   0x03                 card reset (power cycle)
 *   0x04                 switch T=0 mode and reset
 * Invariants: every answer is 2..258 bytes ending in a status word; states
 * are among the documented ones, and in progress always reads result 0;
 * the Device ID is at most 16 bytes; a body read never exceeds what was
 * received. T=0: data comes at once only to GET RESPONSE or to a case 2
 * command whose Le is its length; the default mode never answers 61xx.
 */
#include <string.h>

#include "fuzz.h"
#include "ztp/apdu.h"
#include "ztp/card.h"
#include "ztp/safe2.h"

static uint64_t now;
static int in_flight[SAFE2_JOBS];

static int
p_persist(void *arg, const struct safe2_persist *p)
{
	FUZZ_CHECK(p->device_id_len <= SAFE2_DEVID_MAX);
	FUZZ_CHECK(p->psk_len <= SAFE2_PSK_MAX && p->identity_len <= SAFE2_IDENTITY_MAX);
	return 0;
}

static int
p_start(void *arg, const struct safe2_http_req *r)
{
	FUZZ_CHECK(r->job < SAFE2_JOBS);
	FUZZ_CHECK(strlen(r->target) < SAFE2_TARGET_MAX);
	FUZZ_CHECK(r->body_len <= SAFE2_BODY_MAX);
	in_flight[r->job] = 1;
	return 0;
}

static void
p_cancel(void *arg, enum safe2_job job)
{
	in_flight[job] = 0;
}

static uint64_t
p_now(void *arg)
{
	return now;
}

static uint32_t
p_random(void *arg)
{
	return (uint32_t)now * 2654435761u;
}

static const struct safe2_platform plat = { p_persist, p_start, p_cancel, p_now, p_random, NULL };

static void
check_states(const struct safe2 *s)
{
	int j;

	for (j = 0; j < SAFE2_JOBS; j++) {
		uint16_t st = s->req[j].state;
		FUZZ_CHECK(st == SAFE2_IDLE || st == SAFE2_IN_PROGRESS || st == SAFE2_DONE ||
		    st == SAFE2_DATA || st == SAFE2_FAILED);
		FUZZ_CHECK(s->req[j].read_off <= s->req[j].body_len);
		FUZZ_CHECK(s->req[j].body_len <= SAFE2_BODY_MAX);
		FUZZ_CHECK(st != SAFE2_IN_PROGRESS || s->req[j].result == 0);
	}
	FUZZ_CHECK(s->p.device_id_len <= SAFE2_DEVID_MAX);
}

/* The T=0 rule of include/ztp/card.h, seen from outside the card. */
static void
check_t0(const uint8_t *cmd, size_t len, const uint8_t *resp, size_t n, int t0)
{
	struct apdu a;

	if (!t0) {
		FUZZ_CHECK(resp[n - 2] != 0x61);
		return;
	}
	if (n == 2)
		return;
	FUZZ_CHECK(apdu_parse(cmd, len, &a) == 0);
	FUZZ_CHECK(a.ins == 0xC0 || (a.apdu_case == 2 && a.le == n - 2));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct safe2 s;
	static struct card c;
	struct safe2_persist p;
	uint8_t resp[APDU_MAX_RESP];
	size_t i = 0, n, len;
	int t0 = 0;

	now = 1;
	memset(in_flight, 0, sizeof(in_flight));
	safe2_persist_defaults(&p);
	memcpy(p.iccid, "8944502509186389635", 20);
	iccid_to_ef(p.iccid, p.identity);
	p.identity_len = ICCID_EF_LEN;
	memset(p.psk, 0x42, 32);
	p.psk_len = 32;
	p.max_attempts = 4;
	safe2_init(&s, &plat, &p);
	card_init(&c, &s, 0);

	while (i < size) {
		uint8_t op = data[i++];
		switch (op % 5) {
		case 0:
			if (i >= size)
				return 0;
			len = data[i++];
			if (len > size - i)
				len = size - i;
			n = card_process(&c, data + i, len, resp, sizeof(resp));
			FUZZ_CHECK(n >= 2 && n <= APDU_MAX_RESP);
			check_t0(data + i, len, resp, n, t0);
			i += len;
			break;
		case 1: {
			struct safe2_http_resp r;
			uint8_t body[SAFE2_BODY_MAX];
			if (size - i < 6)
				return 0;
			memset(&r, 0, sizeof(r));
			enum safe2_job job = (enum safe2_job)(data[i] % SAFE2_JOBS);
			r.outcome = (enum safe2_outcome)(data[i + 1] % 4);
			r.status = data[i + 2] << 8 | data[i + 3];
			r.alert = data[i + 4];
			len = data[i + 5];
			i += 6;
			if (len > size - i)
				len = size - i;
			memcpy(body, data + i, len);
			r.body = body;
			r.body_len = len;
			r.etag = (len & 1) ? "\"1-00000000\"" : NULL;
			i += len;
			if (in_flight[job]) {
				in_flight[job] = 0;
				safe2_complete(&s, job, &r);
			}
			break;
		}
		case 2:
			if (size - i < 2)
				return 0;
			now += (uint64_t)(data[i] << 8 | data[i + 1]) * 10;
			i += 2;
			safe2_tick(&s);
			break;
		case 3:
			card_reset(&c);
			break;
		case 4:
			t0 = !t0;
			card_init(&c, &s, t0);
			break;
		}
		check_states(&s);
	}
	return 0;
}
