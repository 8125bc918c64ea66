/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device core: APDU parsing, the card (channels, selection, T=0) and
 * the SAFE2 applet's commands, states and errors (spec safe2.md 3 and 4),
 * driven through card_process() as a modem would, with a recording
 * platform in place of the network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"
#include "ztp/apdu.h"
#include "ztp/card.h"
#include "ztp/err.h"
#include "ztp/safe2.h"

struct fake {
	int persists, persist_fail, starts, cancels;
	uint16_t state_at_persist; /* of the configuration request, when persist ran */
	struct safe2_persist saved;
	enum safe2_job last_job;
	char last_target[SAFE2_TARGET_MAX];
	char last_method[8];
	char last_inm[SAFE2_ETAG_MAX + 1];
	uint8_t last_body[SAFE2_BODY_MAX];
	size_t last_body_len;
	uint8_t last_identity[SAFE2_IDENTITY_MAX + 11];
	size_t last_identity_len;
	uint8_t last_psk[SAFE2_PSK_MAX];
	size_t last_psk_len;
	uint64_t now;
};

static struct fake F;
static struct safe2 S;
static struct card C;

static int
f_persist(void *arg, const struct safe2_persist *p)
{
	if (F.persist_fail)
		return -1;
	F.persists++;
	F.saved = *p;
	F.state_at_persist = S.req[SAFE2_JOB_CONFIG].state;
	return 0;
}

static int
f_start(void *arg, const struct safe2_http_req *r)
{
	F.starts++;
	F.last_job = r->job;
	snprintf(F.last_target, sizeof(F.last_target), "%s", r->target);
	snprintf(F.last_method, sizeof(F.last_method), "%s", r->method);
	snprintf(F.last_inm, sizeof(F.last_inm), "%s", r->if_none_match ? r->if_none_match : "");
	memcpy(F.last_body, r->body ? r->body : (const uint8_t *)"", r->body_len);
	F.last_body_len = r->body_len;
	memcpy(F.last_identity, r->identity, r->identity_len);
	F.last_identity_len = r->identity_len;
	memcpy(F.last_psk, r->psk, r->psk_len);
	F.last_psk_len = r->psk_len;
	return 0;
}

static void
f_cancel(void *arg, enum safe2_job job)
{
	F.cancels++;
}

static uint64_t
f_now(void *arg)
{
	return F.now;
}

static uint32_t
f_random(void *arg)
{
	return 0;
}

static const struct safe2_platform plat = { f_persist, f_start, f_cancel, f_now, f_random, NULL };

static const char *ICCID = "8944502509186389635";
static const char *SEED =
    "{\"configuration\":{\"version\":\"2021-05-05\",\"config\":[{\"action\":\"iot:Alarm\",\"effect\":\"On\"}]}}";

static int
setup(void **state)
{
	struct safe2_persist p;

	memset(&F, 0, sizeof(F));
	F.now = 1000;
	safe2_persist_defaults(&p);
	snprintf(p.iccid, sizeof(p.iccid), "%s", ICCID);
	iccid_to_ef(p.iccid, p.identity);
	p.identity_len = ICCID_EF_LEN;
	memset(p.psk, 0x11, 32);
	p.psk_len = 32;
	p.locked = 1;
	p.retry_base_ms = 100;
	p.retry_max_ms = 1000;
	p.max_attempts = 3;
	safe2_init(&S, &plat, &p);
	card_init(&C, &S, 0);
	return 0;
}

/* Send hex, return the response as upper-case hex (data + SW). */
static const char *
apdu(const char *hex)
{
	static char out[2 * APDU_MAX_RESP + 1];
	uint8_t cmd[APDU_MAX_CMD + 8], resp[APDU_MAX_RESP];
	size_t len, n;

	assert_int_equal(hex_decode(hex, strlen(hex), cmd, sizeof(cmd), &len), 0);
	n = card_process(&C, cmd, len, resp, sizeof(resp));
	assert_true(n >= 2);
	hex_encode(resp, n, out, sizeof(out));
	return out;
}

static const char *
sw(const char *hex)
{
	const char *r = apdu(hex);
	return r + strlen(r) - 4;
}

static void
open_select(void)
{
	assert_string_equal(apdu("0070000001"), "019000");
	assert_string_equal(apdu("01A4040C0CF0706F646773616665320101"), "9000");
}

static void
complete_http(enum safe2_job job, int status, const char *body, const char *etag)
{
	struct safe2_http_resp r = { SAFE2_OUT_HTTP, status, 0, (const uint8_t *)body,
		body ? strlen(body) : 0, etag, 0, NULL, 0 };
	safe2_complete(&S, job, &r);
}

/* ---- APDU parsing ---- */

static void
test_apdu_cases(void **state)
{
	struct apdu a;
	uint8_t c1[] = { 0, 0x70, 0x80, 1 }, c2[] = { 1, 0xCA, 0, 0, 0 };
	uint8_t c3[] = { 1, 0xDA, 2, 0xC0, 2, 0xAA, 0xBB }, c4[] = { 1, 0xDA, 2, 0xC0, 1, 0xAA, 0x10 };

	assert_int_equal(apdu_parse(c1, 4, &a), 0);
	assert_int_equal(a.apdu_case, 1);
	assert_int_equal(apdu_parse(c2, 5, &a), 0);
	assert_int_equal(a.apdu_case, 2);
	assert_int_equal(a.le, 256);
	assert_int_equal(apdu_parse(c3, sizeof(c3), &a), 0);
	assert_int_equal(a.apdu_case, 3);
	assert_int_equal(a.lc, 2);
	assert_int_equal(apdu_parse(c4, sizeof(c4), &a), 0);
	assert_int_equal(a.apdu_case, 4);
	assert_int_equal(a.le, 16);
}

static void
test_apdu_malformed_lengths(void **state)
{
	struct apdu a;
	uint8_t b[300] = { 1, 0xDA, 2, 0xC0, 3, 1, 2 };

	assert_int_equal(apdu_parse(b, 3, &a), ZTP_EMALFORMED);          /* short */
	assert_int_equal(apdu_parse(b, 7, &a), ZTP_EMALFORMED);          /* Lc 3, 2 bytes */
	assert_int_equal(apdu_parse(b, 10, &a), ZTP_EMALFORMED);         /* too many */
	b[4] = 0;
	assert_int_equal(apdu_parse(b, 7, &a), ZTP_EMALFORMED);          /* extended */
	assert_int_equal(apdu_parse(b, 262, &a), ZTP_EMALFORMED);        /* over 261 */
	assert_int_equal(apdu_parse(NULL, 4, &a), ZTP_EMALFORMED);
}

static void
test_apdu_encode_round_trip(void **state)
{
	uint8_t data[3] = { 1, 2, 3 }, out[16];
	struct apdu a;
	size_t n = apdu_encode(1, 0xDA, 2, 0xC1, data, 3, 256, out, sizeof(out));

	assert_int_equal(n, 9);
	assert_int_equal(out[8], 0);
	assert_int_equal(apdu_parse(out, n, &a), 0);
	assert_int_equal(a.le, 256);
	assert_int_equal(apdu_encode(1, 0xDA, 2, 0xC1, data, 3, 0, out, 5), 0);
}

/* ---- card ---- */

static void
test_open_channels_until_none_free(void **state)
{
	assert_string_equal(apdu("0070000001"), "019000");
	assert_string_equal(apdu("0070000001"), "029000");
	assert_string_equal(apdu("0070000001"), "039000");
	assert_string_equal(apdu("0070000001"), "6A81");
	assert_string_equal(apdu("0070800200"), "9000");
	assert_string_equal(apdu("0070000001"), "029000");
}

static void
test_close_both_cla_forms(void **state)
{
	apdu("0070000001");
	apdu("0070000001");
	assert_string_equal(apdu("0070800100"), "9000");
	assert_string_equal(apdu("0270800200"), "9000");
}

static void
test_close_a_closed_channel_is_6881(void **state)
{
	assert_string_equal(apdu("0070800100"), "6881");
	assert_string_equal(apdu("0070800000"), "6A86");
	assert_string_equal(apdu("0070800400"), "6A86");
}

static void
test_command_on_closed_channel_is_6881(void **state)
{
	assert_string_equal(sw("02CC020000"), "6881");
}

static void
test_command_on_unselected_channel_is_6985(void **state)
{
	apdu("0070000001");
	assert_string_equal(sw("01CC020000"), "6985");
}

static void
test_select_unknown_aid_is_6A82(void **state)
{
	apdu("0070000001");
	assert_string_equal(apdu("01A4040C03010203"), "6A82");
	assert_string_equal(apdu("01A4000C0CF0706F646773616665320101"), "6A86");
}

static void
test_unknown_cla_ins_p1p2(void **state)
{
	open_select();
	assert_string_equal(sw("81CC020000"), "6E00");
	assert_string_equal(sw("01EE000000"), "6D00");
	assert_string_equal(sw("01CC030000"), "6A86");
	assert_string_equal(sw("01CA020000"), "6A86");
	assert_string_equal(sw("01DA03C001AA"), "6A86");
	assert_string_equal(sw("01DA02C5"), "6A86");
}

static void
test_wrong_length_is_6700(void **state)
{
	open_select();
	assert_string_equal(sw("01DA02C0"), "6700");        /* no Device ID bytes */
	assert_string_equal(sw("01DA02C011000102030405060708090A0B0C0D0E0F10"), "6700"); /* 17 */
	assert_string_equal(sw("01CA000001AA"), "6700");    /* data where none is taken */
	assert_string_equal(sw("01CC0200"), "9000");        /* case 1 is fine */
	assert_string_equal(sw("01DA02C00201"), "6700");    /* Lc 2, 1 byte */
}

/*
 * T=0 (ISO/IEC 7816-3): data comes at once only for a case 2 command whose
 * Le is the data's length; otherwise 61xx and GET RESPONSE.
 */
static void
open_select_t0(void)
{
	card_init(&C, &S, 1);
	assert_string_equal(apdu("0070000001"), "019000");
	assert_string_equal(apdu("01A4040C0CF0706F646773616665320101"), "9000");
}

static void
test_t0_case1_with_data_answers_61xx(void **state)
{
	open_select_t0();
	assert_string_equal(apdu("01CC0200"), "6104"); /* no Le at all */
	assert_string_equal(apdu("01C0000004"), "000000009000");
	assert_string_equal(apdu("00708001"), "9000"); /* case 1, no data: at once */
}

static void
test_t0_case2_exact_le_answers_at_once(void **state)
{
	const char *r;

	card_init(&C, &S, 1);
	/* a real T=0 card: 01 9000, not 6101 (the public library expects it) */
	assert_string_equal(apdu("0070000001"), "019000");
	assert_string_equal(apdu("01C0000001"), "6985"); /* nothing was left waiting */
	assert_string_equal(apdu("0070000001"), "029000");
	assert_string_equal(apdu("01A4040C0CF0706F646773616665320101"), "9000");
	assert_string_equal(apdu("01CC020004"), "000000009000");
	assert_string_equal(apdu("01DA02C001AA"), "9000");
	/* Le 00 is 256: the 256-byte descriptor comes at once */
	r = apdu("01CA000000");
	assert_int_equal(strlen(r), 516);
	assert_string_equal(r + 512, "9000");
	complete_http(SAFE2_JOB_CONFIG, 200, "abcdefghij", NULL);
	assert_string_equal(apdu("01CA010004"), "616263649000");
	assert_string_equal(apdu("01CA010006"), "65666768696A9000");
}

static void
test_t0_case2_le00_on_a_4_byte_answer_is_6104(void **state)
{
	open_select_t0();
	assert_string_equal(apdu("01CC020000"), "6104");
	assert_string_equal(apdu("01C0000004"), "000000009000");
	assert_string_equal(apdu("01CC020002"), "6104"); /* a shorter Le: 61xx as well */
	assert_string_equal(apdu("01C0000004"), "000000009000");
	assert_string_equal(apdu("01CC020008"), "6104"); /* a longer one too */
	assert_string_equal(apdu("01C0000004"), "000000009000");
	/* the body as the public library reads it: CA 01 00 00, 61xx, GET RESPONSE */
	apdu("01DA02C001AA");
	apdu("01CA000000");
	complete_http(SAFE2_JOB_CONFIG, 200, "abcdefghij", NULL);
	assert_string_equal(apdu("01CA010000"), "610A");
	assert_string_equal(apdu("01C000000A"), "6162636465666768696A9000");
	assert_string_equal(apdu("01CA010000"), "6A88"); /* no data: the status word at once */
}

/*
 * Case 4: ISO/IEC 7816-3 sends it without Le and the data comes with 61xx.
 * None of this applet's commands has data for a case 4 APDU (those that
 * answer data are case 1 or 2; a case 4 form is 6700), so what is left to
 * see is that a case 4 command answers its status word at once, with
 * nothing waiting afterwards.
 */
static void
test_t0_case4_without_data_answers_at_once(void **state)
{
	card_init(&C, &S, 1);
	assert_string_equal(apdu("0070000001"), "019000");
	/* SELECT with P2 00 and Le: no response data here */
	assert_string_equal(apdu("01A404000CF0706F64677361666532010100"), "9000");
	assert_string_equal(apdu("01C0000001"), "6985");
	assert_string_equal(apdu("01CC020002123404"), "6700");
	assert_string_equal(apdu("01DA02C001AA10"), "6700");
	assert_string_equal(apdu("01C0000001"), "6985");
}

static void
test_t0_get_response_short_le_keeps_the_rest(void **state)
{
	open_select_t0();
	apdu("01DA02C001AA");
	apdu("01CA000000");
	complete_http(SAFE2_JOB_CONFIG, 200, "abcdefghij", NULL);
	assert_string_equal(apdu("01CA010000"), "610A");
	assert_string_equal(apdu("01C0000004"), "616263646106");  /* 6 left */
	assert_string_equal(apdu("01C0000004"), "656667686102");  /* 2 left */
	assert_string_equal(apdu("01C0000008"), "6C02");          /* Le too long: kept */
	assert_string_equal(apdu("01C0000002"), "696A9000");
	assert_string_equal(apdu("01C0000002"), "6985");          /* nothing left */
	apdu("01CC020000");
	assert_string_equal(apdu("01C0000002"), "00076102");
	assert_string_equal(apdu("01C0000002"), "00009000");
}

static void
test_get_response_with_nothing_pending_is_6985(void **state)
{
	/* the default mode: data always comes at once, GET RESPONSE has none */
	open_select();
	assert_string_equal(apdu("01CC020000"), "000000009000");
	assert_string_equal(apdu("01C0000004"), "6985");
	assert_string_equal(apdu("00C0000001"), "6985");
	/* T=0: after data that came at once, on another channel, or dropped */
	open_select_t0();
	assert_string_equal(apdu("01C0000001"), "6985");
	assert_string_equal(apdu("01CC020000"), "6104");
	assert_string_equal(apdu("00C0000004"), "6985");          /* it waits on channel 1 */
	assert_string_equal(apdu("01CC010004"), "000000009000"); /* any command drops it */
	assert_string_equal(apdu("01C0000004"), "6985");
	assert_string_equal(apdu("01C00000"), "6700");           /* GET RESPONSE is case 2 */
	assert_string_equal(apdu("01C0010004"), "6A86");
}

/* ---- applet ---- */

static void
test_seed_exchange(void **state)
{
	char body_hex[2 * 256 + 8], expect[600];
	const char *r;

	open_select();
	assert_string_equal(apdu("01DA02C010B58D51C5504D5257352E3120FF0D1338"), "9000");
	assert_int_equal(F.persists, 1);
	assert_int_equal(F.saved.device_id_len, 16);
	assert_string_equal(apdu("0070800100"), "9000");
	open_select();
	r = apdu("01CA000000");
	assert_int_equal(strlen(r), 516);
	assert_string_equal(r + 512, "9000");
	assert_int_equal(F.starts, 1);
	assert_string_equal(F.last_method, "GET");
	assert_string_equal(F.last_target,
	    "/v1/config/B58D51C5504D5257352E3120FF0D1338?iccid=984405529081369836F5");
	assert_string_equal(apdu("01CC020000"), "000100009000"); /* as in the seed's log */
	complete_http(SAFE2_JOB_CONFIG, 200, SEED, "\"1-abcdef12\"");
	assert_string_equal(apdu("01CC020000"), "000700009000");
	hex_encode((const uint8_t *)SEED, strlen(SEED), body_hex, sizeof(body_hex));
	snprintf(expect, sizeof(expect), "%s9000", body_hex);
	assert_string_equal(apdu("01CA010000"), expect);
	assert_string_equal(apdu("01CA010000"), "6A88");
	assert_string_equal(apdu("0070800100"), "9000");
}

static void
test_descriptor_is_the_request_line_padded(void **state)
{
	uint8_t cmd[] = { 1, 0xCA, 0, 0, 0 }, resp[APDU_MAX_RESP];
	const char *want = "127.0.0.1:11111/v1/config/AABB?iccid=984405529081369836F5";
	size_t n;

	open_select();
	apdu("01DA02C002AABB");
	n = card_process(&C, cmd, sizeof(cmd), resp, sizeof(resp));
	assert_int_equal(n, 258);
	assert_memory_equal(resp, want, strlen(want));
	for (size_t i = strlen(want); i < 256; i++)
		assert_int_equal(resp[i], 0);
}

static void
test_start_without_device_id_is_6985(void **state)
{
	open_select();
	assert_string_equal(sw("01CA000000"), "6985");
	assert_int_equal(F.starts, 0);
}

static void
test_start_while_in_progress_starts_nothing(void **state)
{
	open_select();
	apdu("01DA02C001AA");
	apdu("01CA000000");
	apdu("01CA000000");
	assert_int_equal(F.starts, 1);
}

static void
test_request_survives_channel_close_not_reset(void **state)
{
	open_select();
	apdu("01DA02C001AA");
	apdu("01CA000000");
	apdu("0070800100");
	open_select();
	assert_string_equal(apdu("01CC020000"), "000100009000");
	card_reset(&C);
	assert_int_equal(F.cancels, 1);
	open_select();
	assert_string_equal(apdu("01CC020000"), "000000009000");
	assert_int_equal(S.p.device_id_len, 1); /* the Device ID stays */
}

static void
test_read_before_data_is_6985(void **state)
{
	open_select();
	assert_string_equal(sw("01CA010000"), "6985");
	apdu("01DA02C001AA");
	apdu("01CA000000");
	assert_string_equal(sw("01CA010000"), "6985");
}

static void
test_chunked_read_with_short_le(void **state)
{
	open_select();
	apdu("01DA02C001AA");
	apdu("01CA000000");
	complete_http(SAFE2_JOB_CONFIG, 200, "abcdefghij", NULL);
	assert_string_equal(apdu("01CA010004"), "616263649000");
	assert_string_equal(apdu("01CA010004"), "656667689000");
	assert_string_equal(apdu("01CA010004"), "69" "6A" "9000");
	assert_string_equal(apdu("01CA010004"), "6A88");
}

static void
test_204_is_done_nothing_to_read(void **state)
{
	open_select();
	apdu("01DA02C001AA");
	apdu("01CA000000");
	complete_http(SAFE2_JOB_CONFIG, 204, NULL, NULL);
	assert_string_equal(apdu("01CC020000"), "000300009000");
	assert_string_equal(sw("01CA010000"), "6985");
}

static void
test_304_serves_the_kept_body(void **state)
{
	open_select();
	apdu("01DA02C001AA");
	apdu("01CA000000");
	complete_http(SAFE2_JOB_CONFIG, 200, "hello", "\"1-aa\"");
	apdu("01CA010000");
	apdu("01CA000000");
	assert_string_equal(F.last_inm, "\"1-aa\"");
	complete_http(SAFE2_JOB_CONFIG, 304, NULL, NULL);
	assert_string_equal(apdu("01CC020000"), "000700009000");
	assert_string_equal(apdu("01CA010000"), "68656C6C6F9000");
}

static void
test_http_errors_fail_with_the_status(void **state)
{
	open_select();
	apdu("01DA02C001AA");
	apdu("01CA000000");
	complete_http(SAFE2_JOB_CONFIG, 403, NULL, NULL);
	assert_string_equal(apdu("01CC020000"), "000F01939000");
	apdu("01CA000000");
	complete_http(SAFE2_JOB_CONFIG, 409, NULL, NULL);
	assert_string_equal(apdu("01CC020000"), "000F01999000");
}

static void
test_alert_and_too_large(void **state)
{
	struct safe2_http_resp r = { SAFE2_OUT_ALERT, 0, 0x33, NULL, 0, NULL, 0, NULL, 0 };

	open_select();
	apdu("01DA02C001AA");
	apdu("01CA000000");
	safe2_complete(&S, SAFE2_JOB_CONFIG, &r);
	assert_string_equal(apdu("01CC020000"), "000F01339000");
	apdu("01CA000000");
	r.outcome = SAFE2_OUT_TOO_LARGE;
	safe2_complete(&S, SAFE2_JOB_CONFIG, &r);
	assert_string_equal(apdu("01CC020000"), "000FFF029000");
}

static void
test_transient_failures_retry_with_backoff_then_give_up(void **state)
{
	struct safe2_http_resp t = { SAFE2_OUT_TRANSIENT, 0, 0, NULL, 0, NULL, 0, NULL, 0 };

	open_select();
	apdu("01DA02C001AA");
	apdu("01CA000000");
	safe2_complete(&S, SAFE2_JOB_CONFIG, &t);
	assert_string_equal(apdu("01CC020000"), "000100009000"); /* 1 failed, waiting */
	assert_int_equal(F.starts, 1);
	assert_true(safe2_tick(&S) > 0);
	F.now += 100; /* base 100 ms, jitter 0: first retry after 50 ms */
	apdu("01CC020000");
	assert_int_equal(F.starts, 2);
	complete_http(SAFE2_JOB_CONFIG, 503, NULL, NULL); /* 5xx is transient too */
	F.now += 1000;
	safe2_tick(&S);
	assert_int_equal(F.starts, 3);
	safe2_complete(&S, SAFE2_JOB_CONFIG, &t);
	assert_string_equal(apdu("01CC020000"), "000FFF039000"); /* 3 attempts: gave up */
}

/*
 * Spec section 4: in progress reads 0001/0000 while the applet retries, as
 * during the first attempt (the seed's log); the count is kept inside.
 */
static void
test_retrying_request_reads_0001_0000(void **state)
{
	struct safe2_http_resp t = { SAFE2_OUT_TRANSIENT, 0, 0, NULL, 0, NULL, 0, NULL, 0 };
	int i;

	S.p.max_attempts = 0; /* never give up */
	open_select();
	apdu("01DA02C001AA");
	apdu("01CA000000");
	assert_string_equal(apdu("01CC020000"), "000100009000"); /* the first attempt */
	for (i = 0; i < 6; i++) {
		if (i % 2)
			complete_http(SAFE2_JOB_CONFIG, 500 + i, NULL, NULL);
		else
			safe2_complete(&S, SAFE2_JOB_CONFIG, &t);
		assert_string_equal(apdu("01CC020000"), "000100009000"); /* waiting */
		F.now += 10000;
		assert_string_equal(apdu("01CC020000"), "000100009000"); /* the next one runs */
		assert_int_equal(F.starts, i + 2);
		assert_int_equal(S.req[SAFE2_JOB_CONFIG].attempts, (uint32_t)i + 2);
	}
	/* telemetry retries the same way */
	apdu("01DA02C10161");
	safe2_complete(&S, SAFE2_JOB_TELEMETRY, &t);
	assert_string_equal(apdu("01CC010000"), "000100009000");
	complete_http(SAFE2_JOB_CONFIG, 200, "ok", NULL);
	assert_string_equal(apdu("01CC020000"), "000700009000");
}

static void
test_transient_then_success(void **state)
{
	struct safe2_http_resp t = { SAFE2_OUT_TRANSIENT, 0, 0, NULL, 0, NULL, 0, NULL, 0 };

	open_select();
	apdu("01DA02C001AA");
	apdu("01CA000000");
	safe2_complete(&S, SAFE2_JOB_CONFIG, &t);
	F.now += 10000;
	safe2_tick(&S);
	complete_http(SAFE2_JOB_CONFIG, 200, "ok", NULL);
	assert_string_equal(apdu("01CC020000"), "000700009000");
}

static void
test_telemetry_post(void **state)
{
	open_select();
	assert_string_equal(sw("01DA02C10568656C6C6F"), "6985"); /* no Device ID yet */
	apdu("01DA02C001AA");
	assert_string_equal(apdu("01DA02C10568656C6C6F"), "9000");
	assert_string_equal(F.last_method, "POST");
	assert_string_equal(F.last_target, "/v1/data/AA?iccid=984405529081369836F5");
	assert_int_equal(F.last_body_len, 5);
	assert_string_equal(sw("01DA02C10161"), "6985"); /* still in progress */
	assert_string_equal(apdu("01CC010000"), "000100009000");
	complete_http(SAFE2_JOB_TELEMETRY, 204, NULL, NULL);
	assert_string_equal(apdu("01CC010000"), "000300009000");
	assert_string_equal(apdu("01CC020000"), "000000009000"); /* config untouched */
}

static void
test_personalisation_before_lock(void **state)
{
	S.p.locked = 0;
	open_select();
	assert_string_equal(apdu("01DA02D10B6578616D706C652E6F7267"), "9000"); /* example.org */
	assert_string_equal(S.p.host, "example.org");
	assert_string_equal(apdu("01DA02D202115C"), "9000");
	assert_int_equal(S.p.port, 4444);
	assert_string_equal(apdu("01DA02D3042F762F63"), "9000");
	assert_string_equal(S.p.path, "/v/c");
	assert_string_equal(apdu("01DA02D403414243"), "9000");
	assert_int_equal(S.p.identity_len, 3);
	assert_string_equal(sw("01DA02D50300"), "6700"); /* short key */
	assert_string_equal(apdu("01DA02D510000102030405060708090A0B0C0D0E0F"), "9000");
	assert_int_equal(S.p.psk_len, 16);
	assert_string_equal(apdu("01DA02DF00"), "9000");
	assert_true(S.p.locked);
	assert_int_equal(F.saved.locked, 1);
	assert_string_equal(sw("01DA02D103616263"), "6982");
	assert_string_equal(sw("01DA02D510000102030405060708090A0B0C0D0E0F"), "6982");
	assert_string_equal(sw("01DA02DF00"), "6982");
}

static void
test_persist_failure_changes_nothing(void **state)
{
	open_select();
	F.persist_fail = 1;
	assert_string_equal(sw("01DA02C001AA"), "6581");
	assert_int_equal(S.p.device_id_len, 0);
	assert_string_equal(sw("01CA000000"), "6985");
}

/* ---- rotation (section 6) ---- */

static const uint8_t NEWKEY[32] = { 0x5E, 0x5E, 0x5E, 0x5E, 0x01 };

static void
offer_rotation(void)
{
	struct safe2_http_resp r = { SAFE2_OUT_HTTP, 200, 0, (const uint8_t *)"cfg", 3, NULL, 1,
		NEWKEY, sizeof(NEWKEY) };

	open_select();
	apdu("01DA02C001AA");
	apdu("01CA000000");
	safe2_complete(&S, SAFE2_JOB_CONFIG, &r);
}

static void
test_rotation_offer_is_persisted_before_done(void **state)
{
	offer_rotation();
	assert_int_equal(F.state_at_persist, SAFE2_IN_PROGRESS); /* persisted, then done */
	assert_int_equal(F.saved.pending_generation, 1);
	assert_int_equal(F.saved.pending_len, 32);
	assert_memory_equal(F.saved.pending_psk, NEWKEY, 32);
	assert_int_equal(F.saved.psk_generation, 0); /* not committed yet */
	assert_string_equal(apdu("01CC020000"), "000700009000");
}

static void
test_next_attempt_uses_the_pending_key_and_commits(void **state)
{
	uint8_t ident[ICCID_EF_LEN + 2];

	offer_rotation();
	apdu("01CA010000");
	apdu("01CA000000");
	iccid_to_ef(ICCID, ident);
	memcpy(ident + ICCID_EF_LEN, ".1", 2);
	assert_int_equal(F.last_identity_len, sizeof(ident));
	assert_memory_equal(F.last_identity, ident, sizeof(ident));
	assert_memory_equal(F.last_psk, NEWKEY, 32);
	complete_http(SAFE2_JOB_CONFIG, 200, "cfg", NULL);
	assert_int_equal(F.saved.psk_generation, 1);
	assert_int_equal(F.saved.pending_len, 0);
	assert_memory_equal(F.saved.psk, NEWKEY, 32);
	/* from now on the identity carries the generation */
	apdu("01CA000000");
	assert_memory_equal(F.last_identity, ident, sizeof(ident));
	assert_memory_equal(F.last_psk, NEWKEY, 32);
}

static void
test_pending_key_refused_falls_back_to_the_current_one(void **state)
{
	struct safe2_http_resp alert = { SAFE2_OUT_ALERT, 0, 0x73, NULL, 0, NULL, 0, NULL, 0 };
	int starts;

	offer_rotation();
	apdu("01CA010000");
	apdu("01CA000000");
	starts = F.starts;
	safe2_complete(&S, SAFE2_JOB_CONFIG, &alert);
	assert_int_equal(F.starts, starts + 1); /* at once, with the old key */
	assert_int_equal(F.last_identity_len, ICCID_EF_LEN);
	assert_int_equal(F.last_psk[0], 0x11);
	assert_int_equal(F.saved.pending_len, 0);
	assert_string_equal(apdu("01CC020000"), "000100009000"); /* not a failed attempt */
}

static void
test_rotation_offer_ignored_if_it_cannot_be_persisted(void **state)
{
	open_select();
	apdu("01DA02C001AA");
	F.persist_fail = 1;
	apdu("01CA000000");
	{
		struct safe2_http_resp r = { SAFE2_OUT_HTTP, 200, 0, (const uint8_t *)"x", 1, NULL,
			1, NEWKEY, sizeof(NEWKEY) };
		safe2_complete(&S, SAFE2_JOB_CONFIG, &r);
	}
	assert_int_equal(S.p.pending_len, 0);
	assert_string_equal(apdu("01CC020000"), "000700009000");
}

static void
test_rotation_offer_of_another_generation_is_ignored(void **state)
{
	struct safe2_http_resp r = { SAFE2_OUT_HTTP, 200, 0, (const uint8_t *)"x", 1, NULL, 5,
		NEWKEY, sizeof(NEWKEY) };

	open_select();
	apdu("01DA02C001AA");
	apdu("01CA000000");
	safe2_complete(&S, SAFE2_JOB_CONFIG, &r);
	assert_int_equal(S.p.pending_len, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_apdu_cases, setup),
		cmocka_unit_test_setup(test_apdu_malformed_lengths, setup),
		cmocka_unit_test_setup(test_apdu_encode_round_trip, setup),
		cmocka_unit_test_setup(test_open_channels_until_none_free, setup),
		cmocka_unit_test_setup(test_close_both_cla_forms, setup),
		cmocka_unit_test_setup(test_close_a_closed_channel_is_6881, setup),
		cmocka_unit_test_setup(test_command_on_closed_channel_is_6881, setup),
		cmocka_unit_test_setup(test_command_on_unselected_channel_is_6985, setup),
		cmocka_unit_test_setup(test_select_unknown_aid_is_6A82, setup),
		cmocka_unit_test_setup(test_unknown_cla_ins_p1p2, setup),
		cmocka_unit_test_setup(test_wrong_length_is_6700, setup),
		cmocka_unit_test_setup(test_t0_case1_with_data_answers_61xx, setup),
		cmocka_unit_test_setup(test_t0_case2_exact_le_answers_at_once, setup),
		cmocka_unit_test_setup(test_t0_case2_le00_on_a_4_byte_answer_is_6104, setup),
		cmocka_unit_test_setup(test_t0_case4_without_data_answers_at_once, setup),
		cmocka_unit_test_setup(test_t0_get_response_short_le_keeps_the_rest, setup),
		cmocka_unit_test_setup(test_get_response_with_nothing_pending_is_6985, setup),
		cmocka_unit_test_setup(test_seed_exchange, setup),
		cmocka_unit_test_setup(test_descriptor_is_the_request_line_padded, setup),
		cmocka_unit_test_setup(test_start_without_device_id_is_6985, setup),
		cmocka_unit_test_setup(test_start_while_in_progress_starts_nothing, setup),
		cmocka_unit_test_setup(test_request_survives_channel_close_not_reset, setup),
		cmocka_unit_test_setup(test_read_before_data_is_6985, setup),
		cmocka_unit_test_setup(test_chunked_read_with_short_le, setup),
		cmocka_unit_test_setup(test_204_is_done_nothing_to_read, setup),
		cmocka_unit_test_setup(test_304_serves_the_kept_body, setup),
		cmocka_unit_test_setup(test_http_errors_fail_with_the_status, setup),
		cmocka_unit_test_setup(test_alert_and_too_large, setup),
		cmocka_unit_test_setup(test_transient_failures_retry_with_backoff_then_give_up, setup),
		cmocka_unit_test_setup(test_retrying_request_reads_0001_0000, setup),
		cmocka_unit_test_setup(test_transient_then_success, setup),
		cmocka_unit_test_setup(test_telemetry_post, setup),
		cmocka_unit_test_setup(test_personalisation_before_lock, setup),
		cmocka_unit_test_setup(test_persist_failure_changes_nothing, setup),
		cmocka_unit_test_setup(test_rotation_offer_is_persisted_before_done, setup),
		cmocka_unit_test_setup(test_next_attempt_uses_the_pending_key_and_commits, setup),
		cmocka_unit_test_setup(test_pending_key_refused_falls_back_to_the_current_one, setup),
		cmocka_unit_test_setup(test_rotation_offer_ignored_if_it_cannot_be_persisted, setup),
		cmocka_unit_test_setup(test_rotation_offer_of_another_generation_is_ignored, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
