/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SAFE2 applet of the SIM, seen through the modem (spec safe2.md
 * sections 3 and 4): a session is a logical channel with the applet
 * selected on it; the commands set the Device ID, start and poll the
 * configuration request, read its body, and queue telemetry.
 *
 * Every function reports its own failures: the message names the command
 * (with its APDU header) and the status word or the modem's problem.
 * Return codes: 0; ZTP_ECONFLICT for an unexpected status word or an
 * error answer of the modem; ZTP_EMALFORMED for response data of the
 * wrong length; ZTP_EEXPIRED for a time-out; ZTP_EBUSY when a stop was
 * requested; ZTP_EIO when the serial device failed (fatal).
 */
#ifndef ALARM_APPLET_H
#define ALARM_APPLET_H
#include <stddef.h>
#include <stdint.h>

#include "modem.h"

#define APPLET_DESCRIPTOR_LEN 256
#define APPLET_DEVICE_ID_MAX 16
#define APPLET_TELEMETRY_MAX 255

/* the states of GET STATUS (CC 02 00 and CC 01 00) */
#define APPLET_STATE_IDLE 0x0000
#define APPLET_STATE_BUSY 0x0001
#define APPLET_STATE_DONE 0x0003   /* nothing to read: 204, or telemetry delivered */
#define APPLET_STATE_DATA 0x0007   /* result: body length */
#define APPLET_STATE_FAILED 0x000F /* result: error code */

/* P1 of GET STATUS */
#define APPLET_STATUS_TELEMETRY 0x01
#define APPLET_STATUS_CONFIG 0x02

struct applet {
	struct modem *m; /* borrowed */
	uint8_t channel; /* 1..3 while a session is open, 0 otherwise */
};

/* Start using m; no session yet. */
void applet_init(struct applet *a, struct modem *m);

/*
 * Open a session: MANAGE CHANNEL open (00 70 00 00 01), then SELECT the
 * applet (0N A4 04 0C 0C F0706F64677361666532 0101) on the new channel.
 * If the SELECT fails the channel is closed again.
 */
int applet_open(struct applet *a);

/*
 * Close the session's channel (00 70 80 0N 00) if one is open. The
 * channel counts as closed afterwards whatever the answer.
 */
int applet_close(struct applet *a);

/* PUT DATA 02 C0: set the Device ID (1..16 bytes). */
int applet_set_device_id(struct applet *a, const uint8_t *id, size_t len);

/*
 * GET DATA 00 00: start the configuration request. desc gets the 256-byte
 * request descriptor (ASCII request line, padded with zero bytes).
 */
int applet_start_request(struct applet *a, uint8_t desc[APPLET_DESCRIPTOR_LEN]);

/*
 * GET STATUS with P1 = which (APPLET_STATUS_CONFIG or _TELEMETRY): the
 * state and the result, both u16 big-endian on the card.
 */
int applet_status(struct applet *a, uint8_t which, uint16_t *state, uint16_t *result);

/*
 * GET DATA 01 00, repeated: read the configuration body into buf (cap
 * bytes) until the card answers something else than 9000 with data; 6A88
 * (all read) ends the body, any other status word is an error, as is a
 * body over cap (ZTP_ETOOBIG). *len gets the body length.
 */
int applet_read_body(struct applet *a, uint8_t *buf, size_t cap, size_t *len);

/* PUT DATA 02 C1: queue 1..255 bytes of telemetry for the server. */
int applet_send_telemetry(struct applet *a, const uint8_t *data, size_t len);

/*
 * Describe the error code of the failed state (000F) into out (cap
 * bytes): a TLS alert, an HTTP status or one of ztp's FFxx codes.
 */
void applet_describe_error(uint16_t code, char *out, size_t cap);

#endif
