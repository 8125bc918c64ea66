/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "applet.h"
#include "msg.h"
#include "ztp/err.h"

/* F0 'podgsafe2' 01 01 */
static const uint8_t safe2_aid[] = { 0xF0, 0x70, 0x6F, 0x64, 0x67, 0x73, 0x61, 0x66, 0x65,
	0x32, 0x01, 0x01 };

void
applet_init(struct applet *a, struct modem *m)
{
	a->m = m;
	a->channel = 0;
}

static const char *
sw_name(uint16_t sw)
{
	switch (sw) {
	case 0x9000:
		return "success";
	case 0x6700:
		return "wrong length";
	case 0x6881:
		return "logical channel not supported or not open";
	case 0x6982:
		return "security status not satisfied";
	case 0x6985:
		return "conditions of use not satisfied";
	case 0x6A81:
		return "function not supported: no free logical channel";
	case 0x6A82:
		return "applet not found";
	case 0x6A86:
		return "incorrect P1 P2";
	case 0x6A88:
		return "referenced data not found";
	case 0x6D00:
		return "instruction not supported";
	case 0x6E00:
		return "class not supported";
	case 0x6F00:
		return "no precise diagnosis";
	default:
		return "unexpected";
	}
}

/*
 * Send apdu[0..len) (the command called name in messages) and return the
 * response data in resp (cap bytes; NULL when none is wanted, then data
 * is an error) and the status word. Modem problems are reported here.
 */
static int
applet_cmd(struct applet *a, const char *name, const uint8_t *apdu, size_t len, uint8_t *resp,
    size_t cap, size_t *rlen, uint16_t *sw)
{
	uint8_t none[MODEM_RESP_MAX];
	char why[MODEM_LINE_MAX + 64];
	size_t n = 0;
	int rc;

	if (resp == NULL) {
		resp = none;
		cap = sizeof(none);
	}
	rc = modem_apdu(a->m, apdu, len, resp, cap, &n, sw);
	if (rc != 0) {
		if (rc != ZTP_EIO && rc != ZTP_EBUSY) {
			modem_describe(a->m, rc, why, sizeof(why));
			msg_err("%s (%02X %02X %02X %02X): %s", name, apdu[0], apdu[1], apdu[2],
			    apdu[3], why);
		}
		return rc;
	}
	if (resp == none && n != 0 && *sw == 0x9000) {
		msg_err("%s (%02X %02X %02X %02X): %zu bytes of response data where none "
			"were expected", name, apdu[0], apdu[1], apdu[2], apdu[3], n);
		return ZTP_EMALFORMED;
	}
	if (rlen != NULL)
		*rlen = n;
	return 0;
}

/* Report a status word that the command called name should not get. */
static int
applet_bad_sw(const char *name, const uint8_t *apdu, uint16_t sw, const char *hint)
{
	msg_err("%s (%02X %02X %02X %02X): status word %04X (%s)%s", name, apdu[0], apdu[1],
	    apdu[2], apdu[3], sw, sw_name(sw), hint != NULL ? hint : "");
	return ZTP_ECONFLICT;
}

int
applet_open(struct applet *a)
{
	static const uint8_t open_apdu[] = { 0x00, 0x70, 0x00, 0x00, 0x01 };
	uint8_t select[5 + sizeof(safe2_aid)], resp[MODEM_RESP_MAX];
	size_t n;
	uint16_t sw;
	int rc;

	if (a->channel != 0)
		return ZTP_EINVAL;
	rc = applet_cmd(a, "MANAGE CHANNEL open", open_apdu, sizeof(open_apdu), resp,
	    sizeof(resp), &n, &sw);
	if (rc != 0)
		return rc;
	if (sw != 0x9000)
		return applet_bad_sw("MANAGE CHANNEL open", open_apdu, sw,
		    sw == 0x6A81 ? "; channels 1 to 3 are all open, a reset of the modem "
				   "frees them" : NULL);
	if (n != 1 || resp[0] < 1 || resp[0] > 3) {
		msg_err("MANAGE CHANNEL open: expected one byte, a channel from 1 to 3; got "
			"%zu bytes%s%02X", n, n > 0 ? " starting with " : "", n > 0 ? resp[0] : 0);
		return ZTP_EMALFORMED;
	}
	a->channel = resp[0];
	msg_debug("channel %u open", a->channel);

	select[0] = a->channel;
	select[1] = 0xA4;
	select[2] = 0x04;
	select[3] = 0x0C;
	select[4] = sizeof(safe2_aid);
	memcpy(select + 5, safe2_aid, sizeof(safe2_aid));
	rc = applet_cmd(a, "SELECT SAFE2 applet", select, sizeof(select), NULL, 0, NULL, &sw);
	if (rc == 0 && sw != 0x9000)
		rc = applet_bad_sw("SELECT SAFE2 applet", select, sw,
		    sw == 0x6A82 ? ": is this a SAFE2 SIM?" : NULL);
	if (rc != 0 && rc != ZTP_EIO)
		(void)applet_close(a);
	if (rc != 0)
		a->channel = 0;
	return rc;
}

int
applet_close(struct applet *a)
{
	uint8_t apdu[5] = { 0x00, 0x70, 0x80, a->channel, 0x00 };
	uint16_t sw;
	int rc;

	if (a->channel == 0)
		return 0;
	a->channel = 0;
	rc = applet_cmd(a, "MANAGE CHANNEL close", apdu, sizeof(apdu), NULL, 0, NULL, &sw);
	if (rc == 0 && sw != 0x9000)
		rc = applet_bad_sw("MANAGE CHANNEL close", apdu, sw, NULL);
	return rc;
}

int
applet_set_device_id(struct applet *a, const uint8_t *id, size_t len)
{
	uint8_t apdu[5 + APPLET_DEVICE_ID_MAX];
	uint16_t sw;
	int rc;

	if (a->channel == 0 || len == 0 || len > APPLET_DEVICE_ID_MAX)
		return ZTP_EINVAL;
	apdu[0] = a->channel;
	apdu[1] = 0xDA;
	apdu[2] = 0x02;
	apdu[3] = 0xC0;
	apdu[4] = (uint8_t)len;
	memcpy(apdu + 5, id, len);
	rc = applet_cmd(a, "PUT DATA Device ID", apdu, 5 + len, NULL, 0, NULL, &sw);
	if (rc == 0 && sw != 0x9000)
		rc = applet_bad_sw("PUT DATA Device ID", apdu, sw, NULL);
	return rc;
}

int
applet_start_request(struct applet *a, uint8_t desc[APPLET_DESCRIPTOR_LEN])
{
	uint8_t apdu[5] = { a->channel, 0xCA, 0x00, 0x00, 0x00 };
	uint8_t resp[MODEM_RESP_MAX];
	size_t n;
	uint16_t sw;
	int rc;

	if (a->channel == 0)
		return ZTP_EINVAL;
	rc = applet_cmd(a, "GET DATA start request", apdu, sizeof(apdu), resp, sizeof(resp),
	    &n, &sw);
	if (rc != 0)
		return rc;
	if (sw != 0x9000)
		return applet_bad_sw("GET DATA start request", apdu, sw,
		    sw == 0x6985 ? ": no Device ID set?" : NULL);
	if (n != APPLET_DESCRIPTOR_LEN) {
		msg_err("GET DATA start request: a request descriptor of %zu bytes, expected %d",
		    n, APPLET_DESCRIPTOR_LEN);
		return ZTP_EMALFORMED;
	}
	memcpy(desc, resp, APPLET_DESCRIPTOR_LEN);
	return 0;
}

int
applet_status(struct applet *a, uint8_t which, uint16_t *state, uint16_t *result)
{
	uint8_t apdu[5] = { a->channel, 0xCC, which, 0x00, 0x00 };
	uint8_t resp[MODEM_RESP_MAX];
	const char *name = which == APPLET_STATUS_CONFIG ? "GET STATUS configuration"
							 : "GET STATUS telemetry";
	size_t n;
	uint16_t sw;
	int rc;

	if (a->channel == 0)
		return ZTP_EINVAL;
	rc = applet_cmd(a, name, apdu, sizeof(apdu), resp, sizeof(resp), &n, &sw);
	if (rc != 0)
		return rc;
	if (sw != 0x9000)
		return applet_bad_sw(name, apdu, sw, NULL);
	if (n != 4) {
		msg_err("%s: %zu bytes of status, expected 4 (state, result)", name, n);
		return ZTP_EMALFORMED;
	}
	*state = (uint16_t)(resp[0] << 8 | resp[1]);
	*result = (uint16_t)(resp[2] << 8 | resp[3]);
	return 0;
}

int
applet_read_body(struct applet *a, uint8_t *buf, size_t cap, size_t *len)
{
	uint8_t apdu[5] = { a->channel, 0xCA, 0x01, 0x00, 0x00 };
	uint8_t chunk[MODEM_RESP_MAX];
	size_t n, total = 0;
	uint16_t sw;
	int rc;

	if (a->channel == 0)
		return ZTP_EINVAL;
	/* ends: every 9000 answer adds at least a byte, and total <= cap */
	for (;;) {
		rc = applet_cmd(a, "GET DATA body", apdu, sizeof(apdu), chunk, sizeof(chunk), &n,
		    &sw);
		if (rc != 0)
			return rc;
		if (sw == 0x6A88 && n == 0)
			break; /* all read */
		if (sw != 0x9000)
			return applet_bad_sw("GET DATA body", apdu, sw,
			    sw == 0x6985 ? ": no data available" : NULL);
		if (n == 0)
			break; /* a reader of the original applet would stop here too */
		if (n > cap - total) {
			msg_err("GET DATA body: the body is over %zu bytes", cap);
			return ZTP_ETOOBIG;
		}
		memcpy(buf + total, chunk, n);
		total += n;
	}
	*len = total;
	return 0;
}

int
applet_send_telemetry(struct applet *a, const uint8_t *data, size_t len)
{
	uint8_t apdu[5 + APPLET_TELEMETRY_MAX];
	uint16_t sw;
	int rc;

	if (a->channel == 0 || len == 0 || len > APPLET_TELEMETRY_MAX)
		return ZTP_EINVAL;
	apdu[0] = a->channel;
	apdu[1] = 0xDA;
	apdu[2] = 0x02;
	apdu[3] = 0xC1;
	apdu[4] = (uint8_t)len;
	memcpy(apdu + 5, data, len);
	rc = applet_cmd(a, "PUT DATA telemetry", apdu, 5 + len, NULL, 0, NULL, &sw);
	if (rc == 0 && sw != 0x9000)
		rc = applet_bad_sw("PUT DATA telemetry", apdu, sw,
		    sw == 0x6985 ? ": an earlier POST is still in progress" : NULL);
	return rc;
}

static const char *
tls_alert_name(unsigned alert)
{
	switch (alert) {
	case 0:
		return "close_notify";
	case 10:
		return "unexpected_message";
	case 20:
		return "bad_record_mac";
	case 22:
		return "record_overflow";
	case 40:
		return "handshake_failure";
	case 47:
		return "illegal_parameter";
	case 50:
		return "decode_error";
	case 51:
		return "decrypt_error";
	case 70:
		return "protocol_version";
	case 71:
		return "insufficient_security";
	case 80:
		return "internal_error";
	case 109:
		return "missing_extension";
	case 110:
		return "unsupported_extension";
	case 112:
		return "unrecognized_name";
	case 115:
		return "unknown_psk_identity";
	default:
		return "alert";
	}
}

void
applet_describe_error(uint16_t code, char *out, size_t cap)
{
	/*
	 * 01xx is a TLS alert (the alerts defined go up to 120) or an HTTP
	 * status: 0x0190..0x0257 are 400..599, so the two ranges do not meet.
	 */
	if (code >= 0x0100 && code < 0x0190)
		snprintf(out, cap, "TLS alert %u %s received", code & 0xffu,
		    tls_alert_name(code & 0xffu));
	else if (code >= 0x0190 && code <= 0x0257)
		snprintf(out, cap, "HTTP status %u%s", code,
		    code == 403   ? ": the SIM is not allowed or blocked"
		    : code == 409 ? ": the SIM is bound to another Device ID"
				  : "");
	else if (code == 0xFF01)
		snprintf(out, cap, "no Device ID");
	else if (code == 0xFF02)
		snprintf(out, cap, "response body too large");
	else if (code == 0xFF03)
		snprintf(out, cap, "gave up after the configured number of attempts");
	else
		snprintf(out, cap, "unknown error code");
}
