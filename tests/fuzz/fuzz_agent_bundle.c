/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: what ztp-agent reads off its bundle topic, the answer
 * to its request (agent_msg_parse_answer()), and, from the same bytes as
 * a C string, the MQTT URL parser. An accepted answer must be what the
 * contract says (states, lengths, hex, the P-256 command key, the
 * configuration's size); an approval goes through a round trip as
 * bundle.json holds it, a password rotation and its settlement included.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent_msg.h"
#include "fuzz.h"
#include "ztp/err.h"

static void
check_approval(struct agent_bundle *b)
{
	struct agent_bundle again;
	char *text = NULL, why[256];
	size_t len = 0, i;

	FUZZ_CHECK(strlen(b->bundle_id) == AGENT_BUNDLE_ID_LEN);
	for (i = 0; i < AGENT_BUNDLE_ID_LEN; i++)
		FUZZ_CHECK((b->bundle_id[i] >= '0' && b->bundle_id[i] <= '9') ||
		    (b->bundle_id[i] >= 'a' && b->bundle_id[i] <= 'f'));
	FUZZ_CHECK(strlen(b->est_password) >= 1 && strlen(b->est_password) <= AGENT_SECRET_MAX);
	FUZZ_CHECK(strlen(b->mqtt_password) >= 1 && strlen(b->mqtt_password) <= AGENT_SECRET_MAX);
	FUZZ_CHECK(strlen(b->mqtt_username) >= 1 && strlen(b->mqtt_username) <= AGENT_SECRET_MAX);
	FUZZ_CHECK(b->mqtt.port != 0 && b->mqtt.host[0] != '\0');
	FUZZ_CHECK(sk_X509_num(b->est_ca) >= 1 && sk_X509_num(b->mqtt_ca) >= 1);
	FUZZ_CHECK(b->command_cert != NULL && b->command_key != NULL);
	FUZZ_CHECK(json_is_object(b->config) &&
	    json_dumpb(b->config, NULL, 0, JSON_COMPACT) <= AGENT_CONFIG_MAX);

	/* bundle.json reads back the same; a rotation settles either way */
	FUZZ_CHECK(agent_bundle_set_mqtt_password(b, "rotated", 1) == 0);
	FUZZ_CHECK(agent_bundle_dump(b, &text, &len) == 0);
	if (len <= AGENT_MSG_MAX) {
		FUZZ_CHECK(agent_msg_parse_answer((const uint8_t *)text, len, &again, why,
		    sizeof(why)) == 0);
		FUZZ_CHECK(strcmp(again.bundle_id, b->bundle_id) == 0);
		FUZZ_CHECK(strcmp(again.mqtt_password, "rotated") == 0);
		FUZZ_CHECK(again.mqtt_password_prev != NULL);
		FUZZ_CHECK(agent_bundle_settle_password(&again, 0) == 0);
		FUZZ_CHECK(again.mqtt_password_prev == NULL);
		agent_bundle_free(&again);
	}
	free(text);
	FUZZ_CHECK(agent_bundle_settle_password(b, 1) == 0);
	FUZZ_CHECK(strcmp(b->mqtt_password, "rotated") == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_bundle b;
	struct agent_url u;
	char why[256], *s;
	int rc;

	why[0] = '\0';
	rc = agent_msg_parse_answer(data, size, &b, why, sizeof(why));
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EMALFORMED || rc == ZTP_ETOOBIG || rc == ZTP_ENOMEM);
		FUZZ_CHECK(b.root == NULL && b.est_ca == NULL && b.command_key == NULL);
		FUZZ_CHECK(why[0] != '\0');
	} else {
		FUZZ_CHECK(size <= AGENT_MSG_MAX);
		FUZZ_CHECK(agent_udid_valid(b.udid));
		FUZZ_CHECK(b.state == AGENT_ANSWER_REJECTED || b.state == AGENT_ANSWER_REFUSED ||
		    b.state == AGENT_ANSWER_APPROVED);
		FUZZ_CHECK(b.reason != NULL);
		if (b.state == AGENT_ANSWER_APPROVED)
			check_approval(&b);
		agent_bundle_free(&b);
	}

	/* the same bytes as a URL */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (agent_parse_mqtt_url(s, &u) == 0)
		FUZZ_CHECK(u.port != 0 && u.host[0] != '\0' && strlen(u.host) <= AGENT_HOST_MAX);
	free(s);
	return 0;
}
