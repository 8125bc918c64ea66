#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The device endpoint with real TLS 1.3 PSK clients we did not write
# (openssl s_client, gnutls-cli) and with our own SIM-like client (10-byte
# BCD identity, TLS_AES_128_CCM_SHA256, psk_ke); the routes of spec
# safe2.md section 5; every refusal with its status, its event, and an
# unchanged store.
. "$(dirname "$0")/lib.sh"

start_ztpd --allow-psk-ke --request-timeout 2
setup_seed_sim
seed=$(printf '%s' "$SEED_CONFIG" | xxd -p | tr -d '\n')

# ---- interop: three clients get the configuration byte for byte
resp=$(s_client_get "$(config_path)")
[ "$(echo "$resp" | status_of)" = 200 ] || fail "s_client: expected 200, got: $resp"
got=$(printf '%s' "$resp" | body_of | xxd -p | tr -d '\n')
[ "$got" = "$seed" ] || fail "s_client: body differs: $got"
etag=$(echo "$resp" | sed -n 's/^ETag: \(.*\)\r$/\1/p')
[[ "$etag" =~ ^\"1-[0-9a-f]{8}\"$ ]] || fail "ETag looks wrong: $etag"
ok "openssl s_client gets the configuration byte for byte (ETag $etag)"

[ "$(db "SELECT device_id FROM sims WHERE iccid='$ICCID'")" = "$DEVID" ] ||
	fail "the first Device ID was not bound"
ok "the first Device ID seen is bound"

for prio in "NORMAL:-VERS-ALL:+VERS-TLS1.3:-KX-ALL:+ECDHE-PSK:+DHE-PSK" \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:-KX-ALL:+PSK"; do
	resp=$( (request GET "$(config_path)"; sleep 1) |
		timeout 10 gnutls-cli --priority "$prio" --pskusername "$ICCID" --pskkey "$PSK" \
			-p "$DEVICE_PORT" 127.0.0.1 2>/dev/null | sed -n '/^HTTP\/1.1/,$p') || true
	[ "$(echo "$resp" | status_of)" = 200 ] || fail "gnutls-cli ($prio): no 200: $resp"
	got=$(printf '%s' "$resp" | body_of | head -c ${#SEED_CONFIG} | xxd -p | tr -d '\n')
	[ "$got" = "$seed" ] || fail "gnutls-cli ($prio): body differs"
done
ok "gnutls-cli gets it too, with psk_dhe_ke and with psk_ke"

request GET "$(config_path)" >"$T/get"
out=$("$PSK_CLIENT" --port "$DEVICE_PORT" --iccid-bcd "$ICCID" --psk "$PSK" --suite ccm --psk-ke \
	--request-file "$T/get" 2>"$T/err") || fail "psk_client failed: $(cat "$T/err")"
grep -q '^kex: psk_ke$' "$T/err" || fail "psk_client did not negotiate psk_ke: $(cat "$T/err")"
grep -q '^cipher: TLS_AES_128_CCM_SHA256$' "$T/err" || fail "not CCM: $(cat "$T/err")"
got=$(printf '%s' "$out" | body_of | xxd -p | tr -d '\n')
[ "$got" = "$seed" ] || fail "psk_client: body differs"
ok "10-byte BCD identity, TLS_AES_128_CCM_SHA256, psk_ke: byte for byte"

out=$(S_ID="$ICCID.0" s_client_get "$(config_path)")
[ "$(echo "$out" | status_of)" = 200 ] || fail "identity with generation .0 refused"
ok "an identity with a generation suffix (.0) is accepted"

# ---- ETag and 304, 204
resp=$(s_client_get "$(config_path)" "If-None-Match: $etag"$'\r\n')
[ "$(echo "$resp" | status_of)" = 304 ] || fail "If-None-Match: expected 304: $resp"
[ -z "$(printf '%s' "$resp" | body_of)" ] || fail "304 carries a body"
resp=$(s_client_get "$(config_path)" "If-None-Match: \"1-00000000\""$'\r\n')
[ "$(echo "$resp" | status_of)" = 200 ] || fail "stale If-None-Match: expected 200"
ok "304 with a matching If-None-Match, 200 otherwise"

ICCID2=8944502509186389643
ICCID2_EF=$(printf '%s' "${ICCID2}F" | sed 's/\(.\)\(.\)/\2\1/g')
admin POST /v1/sims "{\"iccid\":\"$ICCID2\",\"psk\":\"$PSK\"}" >/dev/null
resp=$(S_ID=$ICCID2 s_client_get "$(config_path AA "$ICCID2_EF")")
[ "$(echo "$resp" | status_of)" = 204 ] || fail "no configuration: expected 204: $resp"
ok "204 when no configuration exists"

# ---- telemetry and device registration
resp=$(request POST "/v1/data/$DEVID?iccid=$ICCID_EF" "" "temp=21.5" |
	timeout 10 openssl s_client -tls1_3 -psk "$PSK" -psk_identity "$ICCID" \
		-connect "127.0.0.1:$DEVICE_PORT" -quiet -ign_eof 2>/dev/null)
[ "$(echo "$resp" | status_of)" = 204 ] || fail "telemetry: expected 204: $resp"
[ "$(db "SELECT body FROM telemetry WHERE iccid='$ICCID'")" = "temp=21.5" ] || fail "telemetry not stored"
[ "$(db "SELECT received_at > 0 FROM telemetry WHERE iccid='$ICCID'")" = 1 ] || fail "no arrival time"
ok "telemetry stored with its arrival time (204)"

dev() {
	request POST "/v1/dev/$DEVID?iccid=$ICCID_EF" |
		timeout 10 openssl s_client -tls1_3 -psk "$PSK" -psk_identity "$ICCID" \
			-connect "127.0.0.1:$DEVICE_PORT" -quiet -ign_eof 2>/dev/null | body_of
}
c1=$(dev)
c2=$(dev)
# one JSON object (jq 1.6's -e alone passes an empty answer)
jq -n -e '[inputs] | length == 1 and (.[0] | .cli and .usr and (.pwd | length >= 32))' <<<"$c1" >/dev/null 2>&1 ||
	fail "credentials: '$c1'"
[ "$c1" = "$c2" ] || fail "the same call returned other credentials"
pwd=$(echo "$c1" | jq -r .pwd)
db_dump | grep -q "$pwd" && fail "the device password is stored in clear"
ok "device registration returns the same credentials twice, stored encrypted"

# ---- refusals: status, event, store unchanged
snap=$(db_snapshot)
unchanged() { [ "$(db_snapshot)" = "$snap" ] || fail "$1 changed the store"; }

n=$(ev_count handshake_refused)
out=$(S_PSK=$(openssl rand -hex 32) s_client_get "$(config_path)") || true
[ -z "$out" ] || fail "wrong PSK: got a response"
expect_new_event handshake_refused "$n"
unchanged "wrong PSK"
ok "wrong PSK: handshake refused, event, store unchanged"

n=$(ev_count unknown_identity)
out=$(S_ID=8944502509186389999 s_client_get "$(config_path)") || true
[ -z "$out" ] || fail "unknown identity: got a response"
expect_new_event unknown_identity "$n"
out=$(S_ID=not-an-iccid s_client_get "$(config_path)") || true
wait_ev_count unknown_identity $((n + 2)) || fail "malformed identity: no event"
out=$(S_ID="$ICCID.1" s_client_get "$(config_path)") || true
[ -z "$out" ] || fail "an unknown key generation was accepted"
unchanged "unknown identity"
ok "unknown, malformed and wrong-generation identities: refused, events, store unchanged"

n=$(ev_count iccid_mismatch)
resp=$(s_client_get "$(config_path "$DEVID" "$ICCID2_EF")")
[ "$(echo "$resp" | status_of)" = 403 ] || fail "ICCID mismatch: expected 403: $resp"
expect_new_event iccid_mismatch "$n"
unchanged "ICCID mismatch"
ok "ICCID mismatch: 403, event, store unchanged"

n=$(ev_count rebind_refused)
resp=$(s_client_get "$(config_path 0102030405)")
[ "$(echo "$resp" | status_of)" = 409 ] || fail "second Device ID: expected 409: $resp"
expect_new_event rebind_refused "$n"
unchanged "second Device ID"
ok "second Device ID: 409, event, store unchanged"

n=$(ev_count request_refused)
big=$(head -c 9000 /dev/zero | tr '\0' 'a')
resp=$(s_client_get "$(config_path)" "X-Big: $big"$'\r\n')
[ "$(echo "$resp" | status_of)" = 431 ] || fail "oversize header: expected 431: $(head -1 <<<"$resp")"
expect_new_event request_refused "$n"
unchanged "oversize header"
ok "oversize header: 431, event, store unchanged"

n=$(ev_count request_refused)
body=$(head -c 256 /dev/zero | tr '\0' 'x')
resp=$(request POST "/v1/data/$DEVID?iccid=$ICCID_EF" "" "$body" |
	timeout 10 openssl s_client -tls1_3 -psk "$PSK" -psk_identity "$ICCID" \
		-connect "127.0.0.1:$DEVICE_PORT" -quiet -ign_eof 2>/dev/null)
[ "$(echo "$resp" | status_of)" = 413 ] || fail "oversize body: expected 413: $resp"
expect_new_event request_refused "$n"
unchanged "oversize body"
ok "telemetry over 255 bytes: 413, event, store unchanged"

n=$(ev_count request_refused)
"$PSK_CLIENT" --port "$DEVICE_PORT" --identity "$ICCID" --psk "$PSK" \
	--partial $'GET /v1/config/AA?iccid=984405529081369836F5 HTTP/1.1\r\nHost: x\r\n' --wait 8 \
	2>"$T/err" >/dev/null || fail "slow client not cut off: $(cat "$T/err")"
sleep 0.3
expect_new_event request_refused "$n"
db "SELECT detail FROM events WHERE kind='request_refused' ORDER BY id DESC LIMIT 1" | grep -q "slow client" ||
	fail "the slow client event does not say so"
unchanged "slow client"
ok "slow client: cut off after the request time-out, event, store unchanged"

admin POST "/v1/sims/$ICCID/block" >/dev/null
snap=$(db_snapshot)
n=$(ev_count blocked_sim)
resp=$(s_client_get "$(config_path)")
[ "$(echo "$resp" | status_of)" = 403 ] || fail "blocked SIM: expected 403: $resp"
expect_new_event blocked_sim "$n"
unchanged "blocked SIM"
ok "blocked SIM: 403, event, store unchanged"
admin POST "/v1/sims/$ICCID/unblock" >/dev/null

resp=$(s_client_get "/v1/nothing")
[ "$(echo "$resp" | status_of)" = 404 ] || fail "unknown path: expected 404"
resp=$(s_client_get "/v1/config/XYZ?iccid=$ICCID_EF")
[ "$(echo "$resp" | status_of)" = 400 ] || fail "bad Device ID: expected 400"
resp=$(request DELETE "$(config_path)" | timeout 10 openssl s_client -tls1_3 -psk "$PSK" \
	-psk_identity "$ICCID" -connect "127.0.0.1:$DEVICE_PORT" -quiet -ign_eof 2>/dev/null)
[ "$(echo "$resp" | status_of)" = 405 ] || fail "wrong method: expected 405: $(head -1 <<<"$resp")"
ok "404 unknown path, 400 bad Device ID, 405 wrong method"

# ---- no secret reaches the log
grep -qi "$PSK" "$T/ztpd.log" && fail "the PSK is in the log"
grep -q "$(jq -r .secret "$DATA/admin.json")" "$T/ztpd.log" && fail "the API secret is in the log"
grep -q "$pwd" "$T/ztpd.log" && fail "a device password is in the log"
ok "no PSK, API secret or device password in the log"

# ---- psk_ke only when the policy allows it
stop_ztpd
start_ztpd --request-timeout 2
"$PSK_CLIENT" --port "$DEVICE_PORT" --iccid-bcd "$ICCID" --psk "$PSK" --psk-ke \
	--request-file "$T/get" >/dev/null 2>&1 && fail "psk_ke accepted without --allow-psk-ke"
out=$("$PSK_CLIENT" --port "$DEVICE_PORT" --iccid-bcd "$ICCID" --psk "$PSK" \
	--request-file "$T/get" 2>"$T/err")
grep -q '^kex: psk_dhe_ke$' "$T/err" || fail "psk_dhe_ke not negotiated"
ok "psk_ke refused unless allowed; psk_dhe_ke always accepted"
echo "device endpoint: all checks passed"
