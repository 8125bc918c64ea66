/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The card: ISO 7816-4 logical channels 0 to 3, MANAGE CHANNEL, SELECT by
 * AID, GET RESPONSE and a T=0 mode, in front of the SAFE2 applet (spec
 * safe2.md section 3). Portable C: no allocation, no I/O.
 *
 * Response data, by mode:
 *   default  the data and the status word come back at once, whatever the
 *            command's case and Le (the seed's modem shows this).
 *   T=0      as a card on ISO/IEC 7816-3 T=0: a case 2 command whose Le
 *            equals the length of its data (Le 00 is 256) gets the data and
 *            the status word at once; any other command that has data (case
 *            4, case 2 with another Le, or case 1 or 3) answers 61xx, xx the
 *            data's length (00 for 256), and the data waits for GET
 *            RESPONSE. So MANAGE CHANNEL open with Le 01 answers 01 9000,
 *            CA 00 00 00 its 256-byte descriptor and 9000, CC 02 00 00 with
 *            its 4 bytes 6104.
 * GET RESPONSE (0N C0 00 00 Le) on the channel whose command left data:
 * Le equal to what waits gets it and the command's status word; a shorter
 * Le gets that much and 61xx for the rest, which keeps waiting; a longer
 * one 6Cxx (xx: what waits), the data kept. With nothing waiting on that
 * channel (always so in the default mode) it answers 6985. Any other
 * command on that channel drops what waits.
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
	int t0; /* T=0: 61xx unless a case 2 command's Le is the data's length */
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
