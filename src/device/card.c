/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The card in front of the applet: channel management, selection, T=0
 * (the rules are in include/ztp/card.h). Every (command, state) pair has
 * an answer; nothing is undefined.
 */
#include <string.h>

#include "ztp/card.h"
#include "ztp/safe2.h"

#define INS_MANAGE_CHANNEL 0x70
#define INS_SELECT 0xA4
#define INS_GET_RESPONSE 0xC0

const uint8_t card_safe2_aid[12] = { 0xF0, 'p', 'o', 'd', 'g', 's', 'a', 'f', 'e', '2', 0x01,
	0x01 };

void
card_init(struct card *c, struct safe2 *applet, int t0)
{
	memset(c, 0, sizeof(*c));
	c->applet = applet;
	c->t0 = t0;
	card_reset(c);
}

void
card_reset(struct card *c)
{
	memset(c->open, 0, sizeof(c->open));
	memset(c->selected, 0, sizeof(c->selected));
	c->open[0] = 1; /* the basic channel is always open */
	c->pending_len = 0;
	c->pending_channel = -1;
	if (c->applet != NULL)
		safe2_reset(c->applet);
}

static size_t
sw_only(uint16_t sw, uint8_t *resp)
{
	resp[0] = (uint8_t)(sw >> 8);
	resp[1] = (uint8_t)sw;
	return 2;
}

static uint16_t
manage_channel(struct card *c, const struct apdu *a, uint8_t *data, size_t *dlen)
{
	int n;

	if (a->p1 == 0x00 && a->p2 == 0x00) {
		/* open: 00 70 00 00 01 */
		if (a->apdu_case != 2 || a->le != 1)
			return SW_WRONG_LENGTH;
		for (n = 1; n < CARD_CHANNELS; n++) {
			if (!c->open[n]) {
				c->open[n] = 1;
				c->selected[n] = 0;
				data[0] = (uint8_t)n;
				*dlen = 1;
				return SW_OK;
			}
		}
		return SW_NOT_ENOUGH_MEMORY;
	}
	if (a->p1 == 0x80) {
		/* close channel P2: 00 70 80 0N 00 or 0N 70 80 0N 00 */
		if (a->apdu_case > 2)
			return SW_WRONG_LENGTH;
		if (a->p2 == 0 || a->p2 >= CARD_CHANNELS)
			return SW_WRONG_P1P2;
		if (!c->open[a->p2])
			return SW_CHANNEL_NOT_SUPPORTED;
		c->open[a->p2] = 0;
		c->selected[a->p2] = 0;
		if (c->pending_channel == a->p2)
			c->pending_channel = -1;
		return SW_OK;
	}
	return SW_WRONG_P1P2;
}

static uint16_t
select_aid(struct card *c, int ch, const struct apdu *a)
{
	if (a->p1 != 0x04 || (a->p2 != 0x0C && a->p2 != 0x00))
		return SW_WRONG_P1P2;
	if (a->apdu_case != 3 && a->apdu_case != 4)
		return SW_WRONG_LENGTH;
	c->selected[ch] = 0;
	if (a->lc != sizeof(card_safe2_aid) || memcmp(a->data, card_safe2_aid, a->lc) != 0)
		return SW_FILE_NOT_FOUND;
	c->selected[ch] = 1;
	return SW_OK;
}

/*
 * GET RESPONSE: hand out what a T=0 command left waiting on channel ch.
 * Nothing waiting (and always in the default mode): 6985.
 */
static size_t
get_response(struct card *c, int ch, const struct apdu *a, uint8_t *resp)
{
	size_t n;

	if (a->p1 != 0 || a->p2 != 0)
		return sw_only(SW_WRONG_P1P2, resp);
	if (a->apdu_case != 2)
		return sw_only(SW_WRONG_LENGTH, resp);
	if (c->pending_channel != ch || c->pending_len == 0)
		return sw_only(SW_CONDITIONS_NOT_SATISFIED, resp);
	if (a->le > c->pending_len) /* wrong Le: tell the right one, keep the data */
		return sw_only((uint16_t)(0x6C00 | (c->pending_len & 0xff)), resp);
	n = a->le;
	memcpy(resp, c->pending, n);
	if (n < c->pending_len) {
		/* a shorter Le: the rest stays for the next GET RESPONSE */
		memmove(c->pending, c->pending + n, c->pending_len - n);
		c->pending_len -= n;
		return n + sw_only((uint16_t)(SW_BYTES_REMAINING | (c->pending_len & 0xff)), resp + n);
	}
	c->pending_len = 0;
	c->pending_channel = -1;
	return n + sw_only(c->pending_sw, resp + n);
}

size_t
card_process(struct card *c, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap)
{
	uint8_t data[APDU_MAX_RESP_DATA];
	size_t dlen = 0;
	struct apdu a;
	uint16_t sw;
	int ch;

	if (cap < APDU_MAX_RESP)
		return 0;
	if (apdu_parse(cmd, len, &a) != 0)
		return sw_only(SW_WRONG_LENGTH, resp);
	if ((a.cla & ~0x03) != 0)
		return sw_only(SW_CLA_NOT_SUPPORTED, resp);
	ch = a.cla & 0x03;
	if (!c->open[ch])
		return sw_only(SW_CHANNEL_NOT_SUPPORTED, resp);
	if (a.ins == INS_GET_RESPONSE)
		return get_response(c, ch, &a, resp);
	/* any other command drops data nobody fetched */
	if (c->pending_channel == ch) {
		c->pending_len = 0;
		c->pending_channel = -1;
	}

	if (a.ins == INS_MANAGE_CHANNEL)
		sw = manage_channel(c, &a, data, &dlen);
	else if (a.ins == INS_SELECT)
		sw = select_aid(c, ch, &a);
	else if (!c->selected[ch])
		sw = SW_CONDITIONS_NOT_SATISFIED;
	else
		sw = safe2_process(c->applet, &a, data, sizeof(data), &dlen);

	/*
	 * T=0: the data travels with the command only when the command asked
	 * for exactly that many bytes (case 2, Le = the length; Le 00 is 256).
	 * Otherwise 61xx tells the length, and GET RESPONSE fetches it.
	 */
	if (dlen > 0 && c->t0 && !(a.apdu_case == 2 && a.le == dlen)) {
		memcpy(c->pending, data, dlen);
		c->pending_len = dlen;
		c->pending_sw = sw;
		c->pending_channel = ch;
		return sw_only((uint16_t)(SW_BYTES_REMAINING | (dlen & 0xff)), resp);
	}
	memcpy(resp, data, dlen);
	return dlen + sw_only(sw, resp + dlen);
}
