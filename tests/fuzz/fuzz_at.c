/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AT interpreter of ztp-sim with a real card and SAFE2 applet behind
 * it: the input is what a device application types on the modem's serial
 * line. Invariants: every APDU that reaches the card is 1..261 bytes and
 * a well-formed AT+CSIM carried it; every answer line is bounded.
 */
#include <string.h>

#include "at.h"
#include "fuzz.h"
#include "ztp/card.h"
#include "ztp/safe2.h"

static struct card card;
static struct safe2 applet;

static void
out(void *arg, const uint8_t *buf, size_t len)
{
	FUZZ_CHECK(len <= 2 * APDU_MAX_RESP + 64);
}

static size_t
csim(void *arg, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap)
{
	FUZZ_CHECK(len >= 1 && len <= APDU_MAX_CMD);
	FUZZ_CHECK(cap >= APDU_MAX_RESP);
	return card_process(&card, cmd, len, resp, cap);
}

static int
creg(void *arg)
{
	return AT_CREG_HOME;
}

static void
trace(void *arg, enum at_dir dir, const char *line, size_t len)
{
	FUZZ_CHECK(len <= AT_LINE_MAX + 2 * APDU_MAX_RESP + 64);
}

static const struct at_ops ops = { out, csim, creg, trace, NULL };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct safe2_platform plat; /* no persistence, no network */
	struct safe2_persist p;
	struct at at;

	safe2_persist_defaults(&p);
	memcpy(p.iccid, "8944502509186389635", 20);
	safe2_init(&applet, &plat, &p);
	card_init(&card, &applet, size & 1);
	at_init(&at, &ops, "8944502509186389635", "356938035643809");
	/* fed in two pieces: a line may arrive split across reads */
	at_input(&at, data, size / 2);
	at_input(&at, data + size / 2, size - size / 2);
	return 0;
}
