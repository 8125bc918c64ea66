#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The half-close: a request followed at once by the client's TLS
# close_notify gets its answer (TLS 1.3 allows the half-close, RFC 8446
# 6.1). gnutls-cli does exactly that when its stdin ends: gnutls-cli 3.7.9
# reads the request from stdin, sends it in one record, reads EOF, sends a
# close_notify alert (gnutls_bye(GNUTLS_SHUT_WR): an alert record, no TCP
# shutdown) and keeps reading until the server closes; it exits 0 either
# way. So the answer must be on its stdout, and it exits on its own once
# the server has answered and closed.
# On the device listener (TLS 1.3 PSK, psk_dhe_ke), the admin listener
# (certificate, bearer token) and the EST listener (certificate).
. "$(dirname "$0")/lib.sh"

NBAD=0
bad() { echo "FAIL: $*" >&2; NBAD=$((NBAD + 1)); }

start_ztpd --est-listen 127.0.0.1:0
EST_PORT=$(jq -r .est "$DATA/run.json" | sed 's/.*://')
setup_seed_sim
H0=$(ev_count handshake_refused)

PRIO_PSK="NORMAL:-VERS-ALL:+VERS-TLS1.3:-KX-ALL:+ECDHE-PSK:+DHE-PSK"
# halfclose NAME GNUTLS_OPTIONS...: gnutls-cli with $T/NAME.req as its
# stdin (so it ends right after the request); its stdout in $T/NAME.out;
# prints what it saw; RC is gnutls-cli's exit status (124: still running
# after 10 s, killed)
halfclose() {
	local name=$1
	shift
	RC=0
	timeout 10 gnutls-cli "$@" 127.0.0.1 <"$T/$name.req" >"$T/$name.out" 2>"$T/$name.err" || RC=$?
	RESP=$(sed -n '/^HTTP\/1\.1 /,$p' "$T/$name.out")
	echo "saw [$name]: exit $RC, answer: $(head -1 <<<"$RESP" | tr -d '\r')${RESP:+ ($(printf '%s' "$RESP" | wc -c) bytes)}; last line: $(tail -1 "$T/$name.out" | tr -d '\r' | head -c 100)"
}
device() { halfclose "$1" --priority "$PRIO_PSK" --pskusername "$ICCID" --pskkey "$PSK" -p "$DEVICE_PORT"; }
cert() { halfclose "$1" --x509cafile "$DATA/ca.pem" -p "$2"; }

# ---- device: a configuration fetch, keep-alive and Connection: close
printf 'GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n' "$(config_path)" >"$T/dev_get.req"
request GET "$(config_path)" >"$T/dev_get_close.req"
# the control: the same request with stdin still open a second after it (as
# test_device.sh does): whatever the half-close does, this one is answered
RC=0
(cat "$T/dev_get_close.req"; sleep 1) | timeout 10 gnutls-cli --priority "$PRIO_PSK" --pskusername "$ICCID" \
	--pskkey "$PSK" -p "$DEVICE_PORT" 127.0.0.1 >"$T/control.out" 2>&1 || RC=$?
echo "saw [control, stdin open 1 s more]: exit $RC, answer: $(grep -a '^HTTP/1.1 ' "$T/control.out" | tr -d '\r')"
grep -aq '^HTTP/1.1 200 ' "$T/control.out" || fail "control: gnutls-cli with stdin held open gets no 200"
for name in dev_get dev_get_close; do
	device $name
	[ "$(echo "$RESP" | status_of)" = 200 ] || bad "device ($name): no 200 on gnutls-cli's output"
	printf '%s' "$RESP" | body_of | head -c ${#SEED_CONFIG} | cmp -s - <(printf '%s' "$SEED_CONFIG") ||
		bad "device ($name): not the configuration"
	[ "$RC" != 124 ] || bad "device ($name): the server did not close after its answer"
done
# telemetry: the body arrives with the close_notify right behind it
t0=$(db "SELECT count(*) FROM telemetry")
request POST "/v1/data/$DEVID?iccid=$ICCID_EF" "" "temp=22.5" >"$T/dev_post.req"
device dev_post
[ "$(echo "$RESP" | status_of)" = 204 ] || bad "device telemetry: no 204 on gnutls-cli's output"
[ "$(db "SELECT count(*) FROM telemetry")" = $((t0 + 1)) ] || bad "device telemetry: not stored"
[ "$RC" != 124 ] || bad "device telemetry: the server did not close after its answer"
[ $NBAD = 0 ] && ok "device: gnutls-cli with stdin closed after the request gets its 200 (configuration) and 204 (telemetry stored)"

# ---- admin: a listing with a bearer token
printf 'GET /v1/sims HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n\r\n' "$ADMIN_TOKEN" >"$T/admin_get.req"
cert admin_get "$ADMIN_PORT"
[ "$(echo "$RESP" | status_of)" = 200 ] || bad "admin: no 200 on gnutls-cli's output"
grep -q "$ICCID" <<<"$RESP" || bad "admin: the listing does not name the SIM"
[ "$RC" != 124 ] || bad "admin: the server did not close after its answer"
# a POST: the body, then the close_notify
body="{\"iccid\":\"8944502509186389643\",\"psk\":\"$PSK\"}"
printf 'POST /v1/sims HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
	"$ADMIN_TOKEN" ${#body} "$body" >"$T/admin_post.req"
cert admin_post "$ADMIN_PORT"
[ "$(echo "$RESP" | status_of)" = 201 ] || bad "admin POST: no 201 on gnutls-cli's output"
[ "$(db "SELECT count(*) FROM sims WHERE iccid='8944502509186389643'")" = 1 ] || bad "admin POST: the SIM was not created"
[ $NBAD = 0 ] && ok "admin: gnutls-cli with stdin closed after the request gets its 200 (GET) and 201 (POST)"

# ---- EST: cacerts
printf 'GET /.well-known/est/cacerts HTTP/1.1\r\nHost: localhost\r\n\r\n' >"$T/est_get.req"
cert est_get "$EST_PORT"
[ "$(echo "$RESP" | status_of)" = 200 ] || bad "EST: no 200 on gnutls-cli's output"
[ "$RC" != 124 ] || bad "EST: the server did not close after its answer"
[ $NBAD = 0 ] && ok "EST: gnutls-cli with stdin closed after the request gets its 200 (cacerts)"

echo "handshake_refused events during the half-closes: $H0 -> $(ev_count handshake_refused)"
[ $NBAD = 0 ] || fail "$NBAD half-close checks failed"
echo "half-close: all checks passed"
