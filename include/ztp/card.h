/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The card: ISO 7816-4 logical channels 0 to 3, MANAGE CHANNEL, SELECT by
 * AID, GET RESPONSE and the T=0 "61xx" mode, in front of the SAFE2 applet
 * (spec safe2.md section 3). Portable C: no allocation, no I/O.
 */
#ifndef ZTP_CARD_H
#define ZTP_CARD_H
#include <stddef.h>
#include <stdint.h>

#include "ztp/apdu.h"

#define CARD_CHANNELS 4

struct safe2;

struct card {
	struct safe2 *applet;
	int t0; /* answer 61xx and keep response data for GET RESPONSE */
	uint8_t open[CARD_CHANNELS];
	uint8_t selected[CARD_CHANNELS];
	/* T=0: response data waiting for GET RESPONSE, and its status word */
	uint8_t pending[APDU_MAX_RESP_DATA];
	size_t pending_len;
	uint16_t pending_sw;
	int pending_channel; /* -1: none */
};

/* The AID of the SAFE2 applet: F0 'podgsafe2' 01 01. */
extern const uint8_t card_safe2_aid[12];

void card_init(struct card *c, struct safe2 *applet, int t0);
/* Power cycle: channels closed, selections and pending data gone. */
void card_reset(struct card *c);

/*
 * Process one command APDU cmd[0..len). Writes the response data followed
 * by the two status word bytes into resp and returns their total length
 * (at least 2); 0 only if cap is below APDU_MAX_RESP.
 */
size_t card_process(struct card *c, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap);

#endif
