/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateways onboarding over MQTT in the store (store_gateway.c), on a real
 * SQLite file or with ZTP_TEST_PG on a fresh PostgreSQL database per test
 * (store_fixture.h): batches and their passwords, expectations, each
 * gateway's state machine, bundles sealed at rest, what the MQTT client has
 * to do and whom to cut, commands, their secrets, and the command key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "signer_msg.h"
#include "store.h"
#include "ztp/err.h"

#include "store_fixture.h"

static const uint8_t key[CRYPTO_KEY_LEN] = { 9 };

#define BATCH "line-7"
#define BATCH_PW "factory-batch-pass-7Q"
#define GW1 "gw-0001"
#define GW2 "gw-0002"
#define GW3 "gw-0003"
#define NONCE1 "00112233445566778899aabbccddeeff"
#define NONCE2 "ffeeddccbbaa99887766554433221100"
#define BUNDLE_ID "5d1e0000000000000000000000000001"
#define LDEVID "-----BEGIN CERTIFICATE-----\nLDEVID\n-----END CERTIFICATE-----\n"
#define IDEVID "-----BEGIN CERTIFICATE-----\nIDEVID\n-----END CERTIFICATE-----\n"
#define BROKER_PW "Broker-Pass-Zq81mXv"
#define BUNDLE                                                                               \
	"{\"v\":1,\"udid\":\"gw-0001\",\"state\":\"approved\",\"mqtt_password\":\"" BROKER_PW \
	"\",\"est_password\":\"Est-OneTime-7781\"}"

static int
setup(void **state)
{
	struct fx *fx;

	log_init("test", LOG_FORMAT_TEXT, LOG_LEVEL_WARN + 1);
	if (fixture_setup(state, key) != 0)
		return -1;
	fx = *state;
	return store_gw_batch_create(fx->st, BATCH, "", BATCH_PW, 1000) == 0 ? 0 : -1;
}

/* A verified request of udid with nonce, at now; the row after into *g. */
static int
request(struct fx *fx, const char *udid, const char *nonce, int64_t now, struct store_gateway *g)
{
	struct store_gw_request r = { .udid = udid, .batch = BATCH, .owner = "", .firmware = "1.4.2",
		.nonce = nonce, .ldevid = LDEVID, .idevid = IDEVID };

	return store_gw_request(fx->st, &r, now, g);
}

static struct store_gateway
get(struct fx *fx, const char *udid)
{
	struct store_gateway g;

	assert_int_equal(store_gw_get(fx->st, udid, &g), 0);
	return g;
}

/* udid asks and is approved at once (expected), then its bundle is made and sent. */
static void
bundled(struct fx *fx, const char *udid, const char *group, int64_t now)
{
	struct store_gateway g;

	assert_int_equal(store_gw_expect(fx->st, udid, group, now), 0);
	assert_int_equal(request(fx, udid, NONCE1, now, &g), 0);
	assert_int_equal(g.state, STORE_GW_APPROVED);
	assert_int_equal(store_gw_bundle_put(fx->st, udid, BUNDLE_ID, (const uint8_t *)BUNDLE,
			     strlen(BUNDLE), now + 1),
	    0);
	assert_int_equal(store_gw_answer_sent(fx->st, udid, now + 2), 0);
}

/* bundled(), then it reported online with serial */
static void
online(struct fx *fx, const char *udid, const char *group, const char *serial, int64_t now)
{
	bundled(fx, udid, group, now);
	assert_int_equal(store_gw_online(fx->st, udid, serial, "1.4.3", now + 3), 0);
}

/* ---- batches ---- */

static void
test_batch_create_and_check(void **state)
{
	struct fx *fx = *state;
	char owner[STORE_OWNER_MAX + 1];

	assert_int_equal(store_gw_batch_check(fx->st, BATCH, BATCH_PW, owner), 0);
	assert_string_equal(owner, "");
	assert_int_equal(store_gw_batch_check(fx->st, BATCH, "factory-batch-pass-7q", owner),
	    ZTP_EAUTH);
	assert_int_equal(store_gw_batch_check(fx->st, BATCH, "", owner), ZTP_EAUTH);
	assert_int_equal(store_gw_batch_check(fx->st, "line-8", BATCH_PW, owner), ZTP_ENOENT);
	assert_int_equal(store_gw_batch_check(fx->st, "no such/name", BATCH_PW, owner), ZTP_ENOENT);
	/* a name is taken once, whatever the password */
	assert_int_equal(store_gw_batch_create(fx->st, BATCH, "", "another", 2000), ZTP_EEXIST);
	assert_int_equal(store_gw_batch_check(fx->st, BATCH, BATCH_PW, owner), 0);
	assert_int_equal(store_gw_batch_check(fx->st, BATCH, "another", owner), ZTP_EAUTH);
	/* an owner's batch tells its owner */
	assert_int_equal(store_gw_batch_create(fx->st, "line-8", "acme", "p8", 2000), 0);
	assert_int_equal(store_gw_batch_check(fx->st, "line-8", "p8", owner), 0);
	assert_string_equal(owner, "acme");
}

static void
test_batch_create_refuses_bad_arguments(void **state)
{
	struct fx *fx = *state;
	char pw[STORE_PASSWORD_MAX + 2];

	assert_int_equal(store_gw_batch_create(fx->st, "", "", "p", 1), ZTP_EINVAL);
	assert_int_equal(store_gw_batch_create(fx->st, "a b", "", "p", 1), ZTP_EINVAL);
	assert_int_equal(store_gw_batch_create(fx->st, "b", "", "", 1), ZTP_EINVAL);
	assert_int_equal(store_gw_batch_create(fx->st, "b", "", NULL, 1), ZTP_EINVAL);
	assert_int_equal(store_gw_batch_create(fx->st, "b", "a c", "p", 1), ZTP_EINVAL);
	memset(pw, 'p', sizeof(pw));
	pw[STORE_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(store_gw_batch_create(fx->st, "b", "", pw, 1), ZTP_EINVAL);
	pw[STORE_PASSWORD_MAX] = '\0';
	assert_int_equal(store_gw_batch_create(fx->st, "b", "", pw, 1), 0);
}

struct batches {
	int n;
	struct store_gw_batch b[4];
};

static int
batch_cb(const struct store_gw_batch *b, void *arg)
{
	struct batches *l = arg;

	assert_true(l->n < 4);
	l->b[l->n++] = *b;
	return 0;
}

static void
test_batch_list_counts_gateways(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;
	struct batches l = { 0 };

	assert_int_equal(store_gw_batch_create(fx->st, "a-first", "", "p", 5), 0);
	assert_int_equal(request(fx, GW1, NONCE1, 10, &g), 0);
	assert_int_equal(request(fx, GW2, NONCE1, 10, &g), 0);
	assert_int_equal(request(fx, GW2, NONCE2, 11, &g), 0); /* the same gateway again */
	assert_int_equal(store_gw_batch_list(fx->st, batch_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.b[0].name, "a-first");
	assert_int_equal(l.b[0].gateways, 0);
	assert_int_equal(l.b[0].created_at, 5);
	assert_string_equal(l.b[1].name, BATCH);
	assert_int_equal(l.b[1].gateways, 2);
}

/* The batch password is kept as a salted HMAC, never in clear. */
static void
test_batch_password_not_stored_in_clear(void **state)
{
	struct fx *fx = *state;

	assert_false(sql_rows_contain(fx->path, "SELECT * FROM gw_batches", BATCH_PW));
	assert_true(sql_rows_contain(fx->path, "SELECT * FROM gw_batches", BATCH));
	/* two batches with one password do not share a hash */
	assert_int_equal(store_gw_batch_create(fx->st, "line-9", "", BATCH_PW, 2), 0);
	assert_int_equal(sql_int(fx->path,
			     "SELECT count(DISTINCT pass_hash) FROM gw_batches WHERE name IN"
			     " ('line-7', 'line-9')",
			     NULL),
	    2);
	assert_true(db_contains(fx, "line-9", 6));
	assert_false(db_contains(fx, BATCH_PW, strlen(BATCH_PW)));
}

/* ---- requests and decisions ---- */

static void
test_expected_request_is_approved_at_once(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;
	char pem[256];

	assert_int_equal(store_gw_expect(fx->st, GW1, "plant-a", 100), 0);
	assert_int_equal(request(fx, GW1, NONCE1, 200, &g), 0);
	assert_string_equal(g.udid, GW1);
	assert_string_equal(g.batch, BATCH);
	assert_int_equal(g.state, STORE_GW_APPROVED);
	assert_string_equal(store_gw_state_name(g.state), "approved");
	assert_string_equal(g.group, "plant-a");
	assert_string_equal(g.firmware, "1.4.2");
	assert_string_equal(g.request_id, NONCE1);
	assert_int_equal(g.requests, 1);
	assert_int_equal(g.requested_at, 200);
	assert_int_equal(g.decided_at, 200);
	assert_string_equal(g.bundle_id, "");
	assert_int_equal(g.mqtt_state, STORE_GW_MQTT_NONE);
	assert_int_equal(store_gw_get_pem(fx->st, GW1, 1, pem, sizeof(pem)), 0);
	assert_string_equal(pem, LDEVID);
	assert_int_equal(store_gw_get_pem(fx->st, GW1, 0, pem, sizeof(pem)), 0);
	assert_string_equal(pem, IDEVID);
	assert_int_equal(store_gw_get_pem(fx->st, GW1, 0, pem, strlen(IDEVID)), ZTP_ETOOBIG);
	assert_int_equal(store_gw_get_pem(fx->st, GW2, 0, pem, sizeof(pem)), ZTP_ENOENT);
}

static void
test_unexpected_request_waits(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;

	assert_int_equal(store_gw_get(fx->st, GW1, &g), ZTP_ENOENT);
	assert_int_equal(request(fx, GW1, NONCE1, 200, &g), 0);
	assert_int_equal(g.state, STORE_GW_PENDING);
	assert_int_equal(g.decided_at, 0);
	assert_string_equal(g.group, "");
	/* asking again changes nothing but what it sent */
	assert_int_equal(request(fx, GW1, NONCE2, 300, &g), 0);
	assert_int_equal(g.state, STORE_GW_PENDING);
	assert_int_equal(g.requests, 2);
	assert_int_equal(g.requested_at, 300);
	assert_string_equal(g.request_id, NONCE2);
	/* an expectation that comes later does not decide for the operator */
	assert_int_equal(store_gw_expect(fx->st, GW1, "plant-a", 350), 0);
	assert_int_equal(request(fx, GW1, NONCE1, 400, &g), 0);
	assert_int_equal(g.state, STORE_GW_PENDING);
}

static void
test_request_refuses_bad_arguments(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;
	struct store_gw_request r = { .udid = "gw 1", .batch = BATCH, .owner = "", .firmware = "",
		.nonce = NONCE1, .ldevid = LDEVID, .idevid = IDEVID };
	static char big[STORE_GW_PEM_MAX + 2];

	assert_int_equal(store_gw_request(fx->st, &r, 1, &g), ZTP_EINVAL);
	r.udid = GW1;
	r.batch = "bad batch";
	assert_int_equal(store_gw_request(fx->st, &r, 1, &g), ZTP_EINVAL);
	r.batch = BATCH;
	memset(big, 'A', STORE_GW_PEM_MAX + 1);
	r.ldevid = big;
	assert_int_equal(store_gw_request(fx->st, &r, 1, &g), ZTP_EINVAL);
	assert_int_equal(store_gw_get(fx->st, GW1, &g), ZTP_ENOENT);
	assert_int_equal(store_gw_expect(fx->st, "gw/1", "", 1), ZTP_EINVAL);
}

static void
test_approve_and_reject_transitions(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;

	assert_int_equal(store_gw_approve(fx->st, GW1, NULL, 1), ZTP_ENOENT);
	assert_int_equal(store_gw_reject(fx->st, GW1, "x", 1), ZTP_ENOENT);
	assert_int_equal(request(fx, GW1, NONCE1, 100, &g), 0);
	/* pending -> approved, into a group */
	assert_int_equal(store_gw_approve(fx->st, GW1, "plant-b", 200), 0);
	g = get(fx, GW1);
	assert_int_equal(g.state, STORE_GW_APPROVED);
	assert_string_equal(g.group, "plant-b");
	assert_int_equal(g.decided_at, 200);
	assert_int_equal(store_gw_approve(fx->st, GW1, NULL, 210), ZTP_ECONFLICT);
	/* approved -> rejected, with its reason cleaned */
	assert_int_equal(store_gw_reject(fx->st, GW1, "not ours\xff", 300), 0);
	g = get(fx, GW1);
	assert_int_equal(g.state, STORE_GW_REJECTED);
	assert_string_equal(g.reason, "not ours?");
	assert_int_equal(g.decided_at, 300);
	assert_int_equal(store_gw_reject(fx->st, GW1, "again", 310), ZTP_ECONFLICT);
	/* rejected -> approved; NULL keeps the row's group */
	assert_int_equal(store_gw_approve(fx->st, GW1, NULL, 400), 0);
	g = get(fx, GW1);
	assert_int_equal(g.state, STORE_GW_APPROVED);
	assert_string_equal(g.group, "plant-b");
	assert_string_equal(g.reason, "");
	/* pending -> rejected */
	assert_int_equal(request(fx, GW2, NONCE1, 100, &g), 0);
	assert_int_equal(store_gw_reject(fx->st, GW2, NULL, 500), 0);
	assert_int_equal(get(fx, GW2).state, STORE_GW_REJECTED);
	assert_int_equal(store_gw_approve(fx->st, GW2, "", 600), 0);
	assert_string_equal(get(fx, GW2).group, "");
	/* a group name too long */
	assert_int_equal(store_gw_approve(fx->st, GW2, "0123456789012345678901234567890123456789"
							   "012345678901234567890123",
			     700),
	    ZTP_EINVAL);
}

static void
test_bundled_and_online_cannot_be_decided(void **state)
{
	struct fx *fx = *state;

	bundled(fx, GW1, "", 100);
	assert_int_equal(get(fx, GW1).state, STORE_GW_BUNDLED);
	assert_int_equal(store_gw_approve(fx->st, GW1, NULL, 200), ZTP_ECONFLICT);
	assert_int_equal(store_gw_reject(fx->st, GW1, "late", 200), ZTP_ECONFLICT);
	online(fx, GW2, "", "0A02", 100);
	assert_int_equal(get(fx, GW2).state, STORE_GW_ONLINE);
	assert_int_equal(store_gw_approve(fx->st, GW2, NULL, 200), ZTP_ECONFLICT);
	assert_int_equal(store_gw_reject(fx->st, GW2, "late", 200), ZTP_ECONFLICT);
	/* once its broker account is cut, the operator may let it in again */
	assert_int_equal(store_gw_set_mqtt(fx->st, GW2, STORE_GW_MQTT_CUT, 300), 0);
	assert_int_equal(store_gw_approve(fx->st, GW2, NULL, 400), 0);
	assert_int_equal(get(fx, GW2).state, STORE_GW_APPROVED);
	assert_string_equal(get(fx, GW2).bundle_id, "");
	assert_int_equal(store_gw_approve(fx->st, GW2, NULL, 410), ZTP_ECONFLICT);
}

/* A lost answer: the gateway asks again and gets the same bundle. */
static void
test_repeated_request_of_bundled_keeps_its_bundle(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;
	uint8_t out[512];
	size_t n;

	bundled(fx, GW1, "plant-a", 100);
	g = get(fx, GW1);
	assert_int_equal(g.bundle_sent_at, 102);
	assert_string_equal(g.bundle_id, BUNDLE_ID);
	assert_int_equal(g.mqtt_state, STORE_GW_MQTT_ACTIVE);
	assert_int_equal(request(fx, GW1, NONCE2, 500, &g), 0);
	assert_int_equal(g.state, STORE_GW_BUNDLED);
	assert_string_equal(g.bundle_id, BUNDLE_ID);
	assert_string_equal(g.group, "plant-a");
	assert_int_equal(g.bundle_sent_at, 0); /* to send again */
	assert_int_equal(g.decided_at, 100);
	assert_int_equal(g.requests, 2);
	assert_int_equal(store_gw_bundle_get(fx->st, GW1, out, sizeof(out), &n), 0);
	assert_int_equal(n, strlen(BUNDLE));
	assert_memory_equal(out, BUNDLE, n);
}

static void
test_repeated_request_of_rejected_is_answered_again(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;

	assert_int_equal(request(fx, GW1, NONCE1, 100, &g), 0);
	assert_int_equal(store_gw_reject(fx->st, GW1, "unknown device", 200), 0);
	assert_int_equal(store_gw_answer_sent(fx->st, GW1, 210), 0);
	assert_int_equal(get(fx, GW1).bundle_sent_at, 210);
	assert_int_equal(request(fx, GW1, NONCE2, 300, &g), 0);
	assert_int_equal(g.state, STORE_GW_REJECTED);
	assert_string_equal(g.reason, "unknown device");
	assert_int_equal(g.bundle_sent_at, 0);
	assert_int_equal(g.decided_at, 200);
}

static void
test_refusal_recorded_only_before_approval(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;
	int recorded = -1;

	/* a gateway never seen */
	assert_int_equal(store_gw_refuse(fx->st, GW1, BATCH, "bad signature", 100, &recorded), 0);
	assert_int_equal(recorded, 1);
	g = get(fx, GW1);
	assert_int_equal(g.state, STORE_GW_REFUSED);
	assert_string_equal(g.reason, "bad signature");
	assert_string_equal(g.batch, BATCH);
	/* an unknown batch name is not recorded as one */
	assert_int_equal(store_gw_refuse(fx->st, GW3, "no such/batch", "no batch", 100, &recorded),
	    0);
	assert_int_equal(recorded, 1);
	assert_string_equal(get(fx, GW3).batch, "");
	/* refused again: still refused, the reason of the last */
	assert_int_equal(store_gw_refuse(fx->st, GW1, BATCH, "expired\xc3", 150, &recorded), 0);
	assert_int_equal(recorded, 1);
	assert_string_equal(get(fx, GW1).reason, "expired?");
	/* pending: refused */
	assert_int_equal(request(fx, GW2, NONCE1, 100, &g), 0);
	assert_int_equal(store_gw_refuse(fx->st, GW2, BATCH, "bad password", 200, &recorded), 0);
	assert_int_equal(recorded, 1);
	assert_int_equal(get(fx, GW2).state, STORE_GW_REFUSED);
	/* approved, bundled, online: a bad request (a forger's?) does not undo them */
	assert_int_equal(store_gw_approve(fx->st, GW2, NULL, 250), ZTP_ECONFLICT);
	assert_int_equal(store_gw_expect(fx->st, GW2, "", 260), 0);
	assert_int_equal(request(fx, GW2, NONCE2, 270, &g), 0);
	assert_int_equal(g.state, STORE_GW_APPROVED);
	assert_int_equal(store_gw_refuse(fx->st, GW2, BATCH, "forged", 280, &recorded), 0);
	assert_int_equal(recorded, 0);
	assert_int_equal(get(fx, GW2).state, STORE_GW_APPROVED);
	online(fx, "gw-0004", "", "0A04", 300);
	assert_int_equal(store_gw_refuse(fx->st, "gw-0004", BATCH, "forged", 400, &recorded), 0);
	assert_int_equal(recorded, 0);
	g = get(fx, "gw-0004");
	assert_int_equal(g.state, STORE_GW_ONLINE);
	assert_string_equal(g.reason, "");
	assert_int_equal(store_gw_refuse(fx->st, "gw 4", BATCH, "x", 1, &recorded), ZTP_EINVAL);
}

static void
test_refused_gateway_starts_again(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;
	int recorded;

	assert_int_equal(store_gw_refuse(fx->st, GW1, BATCH, "bad signature", 100, &recorded), 0);
	assert_int_equal(request(fx, GW1, NONCE1, 200, &g), 0);
	assert_int_equal(g.state, STORE_GW_PENDING);
	assert_string_equal(g.reason, "");
	assert_string_equal(g.request_id, NONCE1);
	/* refused, then expected: approved at once */
	assert_int_equal(store_gw_refuse(fx->st, GW1, BATCH, "bad signature", 300, &recorded), 0);
	assert_int_equal(store_gw_expect(fx->st, GW1, "plant-c", 310), 0);
	assert_int_equal(request(fx, GW1, NONCE2, 400, &g), 0);
	assert_int_equal(g.state, STORE_GW_APPROVED);
	assert_string_equal(g.group, "plant-c");
	assert_int_equal(g.decided_at, 400);
	assert_string_equal(g.reason, "");
}

static void
test_reonboarding_after_a_cut(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;
	uint8_t out[512];
	size_t n;

	/* a group without automatic re-onboarding: the operator decides again */
	online(fx, GW1, "plant-a", "0A01", 100);
	assert_int_equal(store_gw_set_mqtt(fx->st, GW1, STORE_GW_MQTT_CUT, 200), 0);
	assert_int_equal(request(fx, GW1, NONCE2, 300, &g), 0);
	assert_int_equal(g.state, STORE_GW_PENDING);
	assert_int_equal(g.decided_at, 0);
	assert_string_equal(g.bundle_id, "");
	assert_string_equal(g.group, "plant-a");
	assert_int_equal(store_gw_bundle_get(fx->st, GW1, out, sizeof(out), &n), ZTP_ENOENT);
	/* a bundled one whose account was cut asks again: the same */
	bundled(fx, GW2, "plant-a", 100);
	assert_int_equal(store_gw_set_mqtt(fx->st, GW2, STORE_GW_MQTT_CUT, 200), 0);
	assert_int_equal(request(fx, GW2, NONCE2, 300, &g), 0);
	assert_int_equal(g.state, STORE_GW_PENDING);
	assert_string_equal(g.bundle_id, "");
	/* a group that re-onboards by itself: approved at once */
	assert_int_equal(store_gw_group_set(fx->st, "plant-b", "{}", 1, 50), 0);
	online(fx, GW3, "plant-b", "0A03", 100);
	assert_int_equal(store_gw_set_mqtt(fx->st, GW3, STORE_GW_MQTT_CUT, 200), 0);
	assert_int_equal(request(fx, GW3, NONCE2, 300, &g), 0);
	assert_int_equal(g.state, STORE_GW_APPROVED);
	assert_int_equal(g.decided_at, 300);
	assert_string_equal(g.bundle_id, "");
	/* and its new bundle replaces the old one */
	assert_int_equal(store_gw_bundle_put(fx->st, GW3, "5d1e0000000000000000000000000002",
			     (const uint8_t *)"{\"new\":1}", 9, 400),
	    0);
	g = get(fx, GW3);
	assert_int_equal(g.mqtt_state, STORE_GW_MQTT_ACTIVE);
	assert_string_equal(g.serial, "");
	assert_int_equal(store_gw_bundle_get(fx->st, GW3, out, sizeof(out), &n), 0);
	assert_int_equal(n, 9);
	assert_memory_equal(out, "{\"new\":1}", 9);
}

/* An online gateway that asks again (its disk was wiped) is onboarded anew. */
static void
test_online_gateway_asking_again(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;

	online(fx, GW1, "plant-a", "0A01", 100);
	assert_int_equal(request(fx, GW1, NONCE2, 300, &g), 0);
	assert_int_equal(g.state, STORE_GW_PENDING);
	assert_int_equal(store_gw_group_set(fx->st, "plant-a", "{\"a\":1}", 1, 350), 0);
	assert_int_equal(request(fx, GW1, NONCE1, 400, &g), 0);
	assert_int_equal(g.state, STORE_GW_PENDING); /* pending stays pending */
	online(fx, GW2, "plant-a", "0A02", 100);
	assert_int_equal(request(fx, GW2, NONCE2, 300, &g), 0);
	assert_int_equal(g.state, STORE_GW_APPROVED);
}

/* ---- bundles ---- */

static void
test_bundle_put_only_when_approved(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;
	static uint8_t big[STORE_GW_BUNDLE_MAX + 1];

	assert_int_equal(store_gw_bundle_put(fx->st, GW1, BUNDLE_ID, (const uint8_t *)"{}", 2, 1),
	    ZTP_ECONFLICT);
	assert_int_equal(request(fx, GW1, NONCE1, 100, &g), 0);
	assert_int_equal(store_gw_bundle_put(fx->st, GW1, BUNDLE_ID, (const uint8_t *)"{}", 2, 1),
	    ZTP_ECONFLICT);
	assert_int_equal(store_gw_get(fx->st, GW1, &g), 0);
	assert_int_equal(g.state, STORE_GW_PENDING);
	assert_int_equal(store_gw_approve(fx->st, GW1, NULL, 200), 0);
	assert_int_equal(store_gw_bundle_put(fx->st, GW1, BUNDLE_ID, big, sizeof(big), 300),
	    ZTP_ETOOBIG);
	assert_int_equal(store_gw_bundle_put(fx->st, GW1, BUNDLE_ID, (const uint8_t *)BUNDLE,
			     strlen(BUNDLE), 300),
	    0);
	g = get(fx, GW1);
	assert_int_equal(g.state, STORE_GW_BUNDLED);
	assert_string_equal(g.bundle_id, BUNDLE_ID);
	assert_int_equal(g.bundle_sent_at, 0);
	assert_int_equal(g.mqtt_state, STORE_GW_MQTT_ACTIVE);
	/* one approval, one bundle: a second one is refused */
	assert_int_equal(store_gw_bundle_put(fx->st, GW1, "5d1e0000000000000000000000000009",
			     (const uint8_t *)"{}", 2, 400),
	    ZTP_ECONFLICT);
	assert_string_equal(get(fx, GW1).bundle_id, BUNDLE_ID);
	/* rejected: no bundle */
	assert_int_equal(request(fx, GW2, NONCE1, 100, &g), 0);
	assert_int_equal(store_gw_reject(fx->st, GW2, "no", 200), 0);
	assert_int_equal(store_gw_bundle_put(fx->st, GW2, BUNDLE_ID, (const uint8_t *)"{}", 2, 300),
	    ZTP_ECONFLICT);
}

static void
test_bundle_get_round_trip(void **state)
{
	struct fx *fx = *state;
	uint8_t out[512];
	size_t n = 0;

	assert_int_equal(store_gw_bundle_get(fx->st, GW1, out, sizeof(out), &n), ZTP_ENOENT);
	bundled(fx, GW1, "", 100);
	assert_int_equal(store_gw_bundle_get(fx->st, GW1, out, sizeof(out), &n), 0);
	assert_int_equal(n, strlen(BUNDLE));
	assert_memory_equal(out, BUNDLE, n);
	assert_int_not_equal(store_gw_bundle_get(fx->st, GW1, out, strlen(BUNDLE) - 1, &n), 0);
	/* a sealed bundle moved to another gateway's row does not open there */
	assert_int_equal(request(fx, GW2, NONCE1, 100, &(struct store_gateway){ 0 }), 0);
	sql_run(fx->path, "UPDATE gateways SET bundle = (SELECT bundle FROM gateways WHERE"
			  " udid = 'gw-0001'), bundle_id = '" BUNDLE_ID "' WHERE udid = 'gw-0002'");
	assert_int_not_equal(store_gw_bundle_get(fx->st, GW2, out, sizeof(out), &n), 0);
}

/* The bundle holds broker and EST passwords: sealed at rest. */
static void
test_bundle_sealed_at_rest(void **state)
{
	struct fx *fx = *state;

	bundled(fx, GW1, "", 100);
	assert_true(db_contains(fx, BUNDLE_ID, strlen(BUNDLE_ID)));
	assert_false(db_contains(fx, BROKER_PW, strlen(BROKER_PW)));
	assert_false(db_contains(fx, "Est-OneTime-7781", 16));
}

/* ---- what the MQTT client has to do ---- */

struct names {
	int n;
	char udid[8][STORE_UDID_MAX + 1];
	int state[8];
};

static int
names_cb(const struct store_gateway *g, void *arg)
{
	struct names *l = arg;

	assert_true(l->n < 8);
	snprintf(l->udid[l->n], sizeof(l->udid[0]), "%s", g->udid);
	l->state[l->n++] = g->state;
	return 0;
}

static int
has(const struct names *l, const char *udid)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->udid[i], udid) == 0)
			return 1;
	return 0;
}

static void
test_work_lists_what_is_to_do(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;
	struct names l = { 0 };
	int recorded;

	assert_int_equal(store_gw_work(fx->st, 10, names_cb, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(request(fx, "gw-pending", NONCE1, 100, &g), 0);
	assert_int_equal(store_gw_expect(fx->st, "gw-approved", "", 1), 0);
	assert_int_equal(request(fx, "gw-approved", NONCE1, 110, &g), 0);
	bundled(fx, "gw-sent", "", 120);
	bundled(fx, "gw-unsent", "", 130);
	sql_run(fx->path, "UPDATE gateways SET bundle_sent_at = 0 WHERE udid = 'gw-unsent'");
	online(fx, "gw-online", "", "0A01", 140);
	assert_int_equal(request(fx, "gw-rejected", NONCE1, 150, &g), 0);
	assert_int_equal(store_gw_reject(fx->st, "gw-rejected", "no", 160), 0);
	assert_int_equal(store_gw_refuse(fx->st, "gw-refused", BATCH, "bad", 170, &recorded), 0);
	assert_int_equal(store_gw_work(fx->st, 10, names_cb, &l), 0);
	assert_int_equal(l.n, 4);
	assert_true(has(&l, "gw-approved"));
	assert_true(has(&l, "gw-unsent"));
	assert_true(has(&l, "gw-rejected"));
	assert_true(has(&l, "gw-refused"));
	/* answered: no more to do */
	assert_int_equal(store_gw_answer_sent(fx->st, "gw-rejected", 200), 0);
	assert_int_equal(store_gw_answer_sent(fx->st, "gw-refused", 200), 0);
	assert_int_equal(store_gw_answer_sent(fx->st, "gw-unknown", 200), ZTP_ENOENT);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_gw_work(fx->st, 10, names_cb, &l), 0);
	assert_int_equal(l.n, 2);
	/* the limit */
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_gw_work(fx->st, 1, names_cb, &l), 0);
	assert_int_equal(l.n, 1);
}

static void
test_online_only_from_an_active_account(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;

	assert_int_equal(store_gw_online(fx->st, GW1, "0A01", "", 1), ZTP_ENOENT);
	assert_int_equal(store_gw_expect(fx->st, GW1, "", 1), 0);
	assert_int_equal(request(fx, GW1, NONCE1, 100, &g), 0);
	assert_int_equal(store_gw_online(fx->st, GW1, "0A01", "", 110), ZTP_ENOENT);
	assert_int_equal(store_gw_bundle_put(fx->st, GW1, BUNDLE_ID, (const uint8_t *)"{}", 2, 120),
	    0);
	assert_int_equal(store_gw_online(fx->st, GW1, "0A01", "2.0", 130), 0);
	g = get(fx, GW1);
	assert_int_equal(g.state, STORE_GW_ONLINE);
	assert_string_equal(g.serial, "0A01");
	assert_string_equal(g.firmware, "2.0");
	/* again, with its next certificate */
	assert_int_equal(store_gw_online(fx->st, GW1, "0B02", "2.0", 140), 0);
	assert_string_equal(get(fx, GW1).serial, "0B02");
	assert_int_equal(store_gw_set_mqtt(fx->st, GW1, STORE_GW_MQTT_CUT, 150), 0);
	assert_int_equal(store_gw_online(fx->st, GW1, "0B02", "2.0", 160), ZTP_ENOENT);
	assert_int_equal(store_gw_set_mqtt(fx->st, "gw-unknown", STORE_GW_MQTT_CUT, 150),
	    ZTP_ENOENT);
}

static struct store_cert
cert(const char *serial, const char *udid)
{
	struct store_cert c;

	memset(&c, 0, sizeof(c));
	snprintf(c.serial, sizeof(c.serial), "%s", serial);
	snprintf(c.udid, sizeof(c.udid), "%s", udid);
	snprintf(c.subject, sizeof(c.subject), "/CN=%s", udid);
	memset(c.key_sha256, 0x42, sizeof(c.key_sha256));
	c.not_before = 1700000000;
	c.not_after = 4000000000;
	snprintf(c.method, sizeof(c.method), "mfr+password");
	return c;
}

static void
test_to_cut_blocked_or_revoked(void **state)
{
	struct fx *fx = *state;
	struct store_cert c;
	struct names l = { 0 };

	/* GW1's certificate is revoked; GW2's device is blocked; GW3 is fine */
	online(fx, GW1, "", "0A01", 100);
	online(fx, GW2, "", "0A02", 100);
	online(fx, GW3, "", "0A03", 100);
	c = cert("0A01", GW1);
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), 0);
	c = cert("0A02", GW2);
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), 0);
	c = cert("0A03", GW3);
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), 0);
	assert_int_equal(store_gw_to_cut(fx->st, 10, names_cb, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(store_cert_revoke(fx->st, "0A01", SIGNER_REASON_KEY_COMPROMISE), 0);
	assert_int_equal(store_thing_block(fx->st, GW2, SIGNER_REASON_UNSPECIFIED, NULL), 0);
	assert_int_equal(store_gw_to_cut(fx->st, 10, names_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_true(has(&l, GW1));
	assert_true(has(&l, GW2));
	/* cut: no longer listed */
	assert_int_equal(store_gw_set_mqtt(fx->st, GW1, STORE_GW_MQTT_CUT, 200), 0);
	assert_int_equal(store_gw_set_mqtt(fx->st, GW2, STORE_GW_MQTT_CUT, 200), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_gw_to_cut(fx->st, 10, names_cb, &l), 0);
	assert_int_equal(l.n, 0);
}

/* A bundled gateway (no serial reported yet) whose device is blocked is cut too. */
static void
test_to_cut_blocked_before_online(void **state)
{
	struct fx *fx = *state;
	struct store_cert c = cert("0B01", GW1);
	struct names l = { 0 };

	bundled(fx, GW1, "", 100);
	assert_int_equal(store_cert_record(fx->st, &c, NULL, 0), 0);
	assert_int_equal(store_gw_to_cut(fx->st, 10, names_cb, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(store_thing_block(fx->st, GW1, SIGNER_REASON_UNSPECIFIED, NULL), 0);
	assert_int_equal(store_gw_to_cut(fx->st, 10, names_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.udid[0], GW1);
	assert_int_equal(l.state[0], STORE_GW_BUNDLED);
}

/* An online gateway that asked again and was rejected keeps no broker account. */
static void
test_to_cut_rejected_with_an_account(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;
	struct names l = { 0 };

	online(fx, GW1, "", "0A01", 100);
	assert_int_equal(request(fx, GW1, NONCE2, 200, &g), 0);
	assert_int_equal(g.state, STORE_GW_PENDING);
	assert_int_equal(g.mqtt_state, STORE_GW_MQTT_ACTIVE);
	assert_int_equal(store_gw_to_cut(fx->st, 10, names_cb, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(store_gw_reject(fx->st, GW1, "stolen", 300), 0);
	assert_int_equal(store_gw_to_cut(fx->st, 10, names_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.state[0], STORE_GW_REJECTED);
}

static void
test_list_by_state_and_page(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;
	struct names l = { 0 };

	assert_int_equal(request(fx, GW3, NONCE1, 100, &g), 0);
	assert_int_equal(request(fx, GW1, NONCE1, 100, &g), 0);
	assert_int_equal(store_gw_expect(fx->st, GW2, "", 1), 0);
	assert_int_equal(request(fx, GW2, NONCE1, 100, &g), 0);
	assert_int_equal(store_gw_list(fx->st, -1, "", 10, names_cb, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.udid[0], GW1);
	assert_string_equal(l.udid[2], GW3);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_gw_list(fx->st, STORE_GW_PENDING, NULL, 10, names_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.udid[0], GW1);
	assert_string_equal(l.udid[1], GW3);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_gw_list(fx->st, -1, GW1, 1, names_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.udid[0], GW2);
}

/* ---- groups ---- */

static void
test_group_settings(void **state)
{
	struct fx *fx = *state;
	struct store_gw_group grp;

	assert_int_equal(store_gw_group_get(fx->st, "plant-a", &grp), ZTP_ENOENT);
	assert_string_equal(grp.config, "{}");
	assert_false(grp.auto_reonboard);
	assert_int_equal(store_gw_group_set(fx->st, "plant-a", "{\"a\":1}", 1, 10), 0);
	assert_int_equal(store_gw_group_get(fx->st, "plant-a", &grp), 0);
	assert_string_equal(grp.config, "{\"a\":1}");
	assert_true(grp.auto_reonboard);
	assert_int_equal(grp.updated_at, 10);
	assert_int_equal(store_gw_group_set(fx->st, "plant-a", "{}", 0, 20), 0);
	assert_int_equal(store_gw_group_get(fx->st, "plant-a", &grp), 0);
	assert_string_equal(grp.config, "{}");
	assert_false(grp.auto_reonboard);
	assert_int_equal(store_gw_group_set(fx->st, "", "{}", 0, 20), ZTP_EINVAL);
	assert_int_equal(store_gw_group_set(fx->st, "g", NULL, 0, 20), ZTP_EINVAL);
}

/* ---- commands ---- */

static void
test_command_ids_increase_per_gateway(void **state)
{
	struct fx *fx = *state;
	struct store_gw_cmd c;
	int64_t id = -1;
	static char big[STORE_GW_ARGS_MAX + 2];

	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "status", "{}", 1, &id), ZTP_ENOENT);
	bundled(fx, GW1, "", 100);
	bundled(fx, GW2, "", 100);
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "status", "{}", 200, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "reenroll", "{}", 210, &id), 0);
	assert_int_equal(id, 2);
	assert_int_equal(store_gw_cmd_add(fx->st, GW2, "status", "{}", 220, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "fetch-config", "{\"config\":{}}", 230, &id),
	    0);
	assert_int_equal(id, 3);
	assert_int_equal(get(fx, GW1).cmd_counter, 3);
	assert_int_equal(store_gw_cmd_get(fx->st, GW1, 3, &c), 0);
	assert_string_equal(c.udid, GW1);
	assert_int_equal(c.id, 3);
	assert_string_equal(c.name, "fetch-config");
	assert_string_equal(c.args, "{\"config\":{}}");
	assert_int_equal(c.state, STORE_GW_CMD_QUEUED);
	assert_int_equal(c.created_at, 230);
	assert_int_equal(c.sent_at, 0);
	assert_int_equal(store_gw_cmd_get(fx->st, GW1, 4, &c), ZTP_ENOENT);
	/* refused arguments take no number */
	memset(big, 'a', STORE_GW_ARGS_MAX + 1);
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "status", big, 240, &id), ZTP_EINVAL);
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "", "{}", 240, &id), ZTP_EINVAL);
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "status", NULL, 240, &id), ZTP_EINVAL);
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "a-name-of-thirty-two-characters!", "{}",
			     240, &id),
	    ZTP_EINVAL);
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "status", "{}", 250, &id), 0);
	assert_int_equal(id, 4);
}

struct cmds {
	int n;
	char udid[8][STORE_UDID_MAX + 1];
	int64_t id[8];
};

static int
cmds_cb(const struct store_gw_cmd *c, void *arg)
{
	struct cmds *l = arg;

	assert_true(l->n < 8);
	snprintf(l->udid[l->n], sizeof(l->udid[0]), "%s", c->udid);
	l->id[l->n++] = c->id;
	return 0;
}

static void
test_commands_queued_only_for_active_accounts(void **state)
{
	struct fx *fx = *state;
	struct store_gateway g;
	struct cmds l = { 0 };
	int64_t id;

	bundled(fx, GW1, "", 100);
	assert_int_equal(request(fx, GW2, NONCE1, 100, &g), 0); /* pending: no account */
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "status", "{}", 200, &id), 0);
	assert_int_equal(store_gw_cmd_add(fx->st, GW2, "status", "{}", 210, &id), 0);
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "reenroll", "{}", 220, &id), 0);
	assert_int_equal(store_gw_cmd_queued(fx->st, 10, cmds_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.udid[0], GW1);
	assert_int_equal(l.id[0], 1);
	assert_int_equal(l.id[1], 2);
	/* sent: no longer queued */
	assert_int_equal(store_gw_cmd_sent(fx->st, GW1, 1, 300), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_gw_cmd_queued(fx->st, 10, cmds_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.id[0], 2);
	/* cut: its commands wait */
	assert_int_equal(store_gw_set_mqtt(fx->st, GW1, STORE_GW_MQTT_CUT, 400), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_gw_cmd_queued(fx->st, 10, cmds_cb, &l), 0);
	assert_int_equal(l.n, 0);
}

static void
test_command_sent_then_one_result(void **state)
{
	struct fx *fx = *state;
	struct store_gw_cmd c;
	int64_t id;
	static char big[STORE_GW_RESULT_MAX + 2];

	bundled(fx, GW1, "", 100);
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "status", "{}", 200, &id), 0);
	/* a result of a command not sent yet is not taken */
	assert_int_equal(store_gw_cmd_result(fx->st, GW1, id, 1, "{}", 250), ZTP_ECONFLICT);
	assert_int_equal(store_gw_cmd_sent(fx->st, GW1, id, 300), 0);
	assert_int_equal(store_gw_cmd_sent(fx->st, GW1, id, 310), ZTP_ENOENT);
	assert_int_equal(store_gw_cmd_sent(fx->st, GW1, 99, 310), ZTP_ENOENT);
	assert_int_equal(store_gw_cmd_get(fx->st, GW1, id, &c), 0);
	assert_int_equal(c.state, STORE_GW_CMD_SENT);
	assert_int_equal(c.sent_at, 300);
	memset(big, 'r', STORE_GW_RESULT_MAX + 1);
	assert_int_equal(store_gw_cmd_result(fx->st, GW1, id, 1, big, 350), ZTP_EINVAL);
	assert_int_equal(store_gw_cmd_result(fx->st, GW1, id, 1, "{\"serial\":\"0A01\"}", 400), 0);
	assert_int_equal(store_gw_cmd_get(fx->st, GW1, id, &c), 0);
	assert_int_equal(c.state, STORE_GW_CMD_DONE);
	assert_string_equal(c.result, "{\"serial\":\"0A01\"}");
	assert_int_equal(c.done_at, 400);
	/* the first result stays */
	assert_int_equal(store_gw_cmd_result(fx->st, GW1, id, 0, "late", 500), ZTP_ECONFLICT);
	assert_int_equal(store_gw_cmd_get(fx->st, GW1, id, &c), 0);
	assert_int_equal(c.state, STORE_GW_CMD_DONE);
	assert_string_equal(c.result, "{\"serial\":\"0A01\"}");
	/* an error result */
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "reenroll", "{}", 600, &id), 0);
	assert_int_equal(store_gw_cmd_sent(fx->st, GW1, id, 610), 0);
	assert_int_equal(store_gw_cmd_result(fx->st, GW1, id, 0, "EST refused", 620), 0);
	assert_int_equal(store_gw_cmd_get(fx->st, GW1, id, &c), 0);
	assert_int_equal(c.state, STORE_GW_CMD_FAILED);
	assert_string_equal(c.result, "EST refused");
	assert_int_equal(store_gw_cmd_result(fx->st, GW1, 42, 1, "{}", 700), ZTP_ECONFLICT);
}

static void
test_command_secret_sealed_and_rotations(void **state)
{
	struct fx *fx = *state;
	struct cmds l = { 0 };
	char out[STORE_PASSWORD_MAX + 1], big[STORE_PASSWORD_MAX + 2];
	int64_t id, other;

	bundled(fx, GW1, "", 100);
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "rotate-mqtt", "{}", 200, &id), 0);
	assert_int_equal(store_gw_cmd_secret_get(fx->st, GW1, id, out, sizeof(out)), ZTP_ENOENT);
	assert_int_equal(store_gw_cmd_secret_put(fx->st, GW1, id, "New-Broker-Pass-91x"), 0);
	assert_int_equal(store_gw_cmd_secret_get(fx->st, GW1, id, out, sizeof(out)), 0);
	assert_string_equal(out, "New-Broker-Pass-91x");
	assert_int_not_equal(store_gw_cmd_secret_get(fx->st, GW1, id, out, 5), 0);
	memset(big, 's', sizeof(big));
	big[STORE_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(store_gw_cmd_secret_put(fx->st, GW1, id, big), ZTP_EINVAL);
	assert_int_equal(store_gw_cmd_secret_put(fx->st, GW1, 77, "x"), ZTP_ENOENT);
	/* not a rotation to finish until the gateway acknowledged it */
	assert_int_equal(store_gw_rotations(fx->st, 10, cmds_cb, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(store_gw_cmd_sent(fx->st, GW1, id, 300), 0);
	assert_int_equal(store_gw_rotations(fx->st, 10, cmds_cb, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(store_gw_cmd_result(fx->st, GW1, id, 1, "{}", 400), 0);
	assert_int_equal(store_gw_rotations(fx->st, 10, cmds_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.id[0], id);
	/* sealed to its row: moved to another command, it does not open */
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "rotate-mqtt", "{}", 500, &other), 0);
	sql_run(fx->path, "UPDATE gw_commands SET signed = (SELECT signed FROM gw_commands"
			  " WHERE udid = 'gw-0001' AND id = 1) WHERE udid = 'gw-0001' AND id = 2");
	assert_int_equal(other, 2);
	assert_int_not_equal(store_gw_cmd_secret_get(fx->st, GW1, other, out, sizeof(out)), 0);
	/* the broker has it: cleared, no longer a rotation */
	assert_int_equal(store_gw_cmd_secret_put(fx->st, GW1, id, ""), 0);
	assert_int_equal(store_gw_cmd_secret_get(fx->st, GW1, id, out, sizeof(out)), ZTP_ENOENT);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_gw_rotations(fx->st, 10, cmds_cb, &l), 0);
	assert_int_equal(l.n, 0);
	/* a failed rotation is none to finish */
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "rotate-mqtt", "{}", 600, &id), 0);
	assert_int_equal(store_gw_cmd_secret_put(fx->st, GW1, id, "Other-Pass-3"), 0);
	assert_int_equal(store_gw_cmd_sent(fx->st, GW1, id, 610), 0);
	assert_int_equal(store_gw_cmd_result(fx->st, GW1, id, 0, "disk full", 620), 0);
	assert_int_equal(store_gw_rotations(fx->st, 10, cmds_cb, &l), 0);
	assert_int_equal(l.n, 0);
}

static void
test_command_secret_not_in_clear(void **state)
{
	struct fx *fx = *state;
	int64_t id;

	bundled(fx, GW1, "", 100);
	assert_int_equal(store_gw_cmd_add(fx->st, GW1, "rotate-mqtt", "{}", 200, &id), 0);
	assert_int_equal(store_gw_cmd_secret_put(fx->st, GW1, id, "New-Broker-Pass-91x"), 0);
	assert_true(db_contains(fx, "rotate-mqtt", 11));
	assert_false(db_contains(fx, "New-Broker-Pass-91x", 19));
}

/* ---- the command key ---- */

static void
test_command_key_first_writer_wins(void **state)
{
	struct fx *fx = *state;
	uint8_t cert[64], wkey[64];
	size_t cl = sizeof(cert), kl = sizeof(wkey);

	assert_int_equal(store_gw_key_get(fx->st, "commands", cert, &cl, wkey, &kl), ZTP_ENOENT);
	assert_int_equal(store_gw_key_put(fx->st, "commands", (const uint8_t *)"cert-A", 6,
			     (const uint8_t *)"key-A", 5, 10),
	    0);
	/* another node was second: its key is not kept */
	assert_int_equal(store_gw_key_put(fx->st, "commands", (const uint8_t *)"cert-BB", 7,
			     (const uint8_t *)"key-BB", 6, 20),
	    0);
	cl = sizeof(cert);
	kl = sizeof(wkey);
	assert_int_equal(store_gw_key_get(fx->st, "commands", cert, &cl, wkey, &kl), 0);
	assert_int_equal(cl, 6);
	assert_memory_equal(cert, "cert-A", 6);
	assert_int_equal(kl, 5);
	assert_memory_equal(wkey, "key-A", 5);
	cl = 5;
	kl = sizeof(wkey);
	assert_int_equal(store_gw_key_get(fx->st, "commands", cert, &cl, wkey, &kl), ZTP_ETOOBIG);
	cl = sizeof(cert);
	kl = 4;
	assert_int_equal(store_gw_key_get(fx->st, "commands", cert, &cl, wkey, &kl), ZTP_ETOOBIG);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_batch_create_and_check),
		T(test_batch_create_refuses_bad_arguments),
		T(test_batch_list_counts_gateways),
		T(test_batch_password_not_stored_in_clear),
		T(test_expected_request_is_approved_at_once),
		T(test_unexpected_request_waits),
		T(test_request_refuses_bad_arguments),
		T(test_approve_and_reject_transitions),
		T(test_bundled_and_online_cannot_be_decided),
		T(test_repeated_request_of_bundled_keeps_its_bundle),
		T(test_repeated_request_of_rejected_is_answered_again),
		T(test_refusal_recorded_only_before_approval),
		T(test_refused_gateway_starts_again),
		T(test_reonboarding_after_a_cut),
		T(test_online_gateway_asking_again),
		T(test_bundle_put_only_when_approved),
		T(test_bundle_get_round_trip),
		T(test_bundle_sealed_at_rest),
		T(test_work_lists_what_is_to_do),
		T(test_online_only_from_an_active_account),
		T(test_to_cut_blocked_or_revoked),
		T(test_to_cut_blocked_before_online),
		T(test_to_cut_rejected_with_an_account),
		T(test_list_by_state_and_page),
		T(test_group_settings),
		T(test_command_ids_increase_per_gateway),
		T(test_commands_queued_only_for_active_accounts),
		T(test_command_sent_then_one_result),
		T(test_command_secret_sealed_and_rotations),
		T(test_command_secret_not_in_clear),
		T(test_command_key_first_writer_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
