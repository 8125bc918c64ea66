#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Gateways over MQTT, ztpd's side (docs/gateways.md), with a real Mosquitto
# and the gateway played by the broker's own clients (mosquitto_pub/sub),
# openssl and curl, so that every message ztpd takes or gives is checked
# byte by byte against docs/protocol/gateways.md (test_gateway.sh runs the
# same flow with ztp-agent):
#
#   1. the factory: a manufacturer CA and an IDevID, an LDevID CA and an
#      LDevID; both CAs imported (ztpctl mfr-ca add); a batch made
#      (ztpctl gateway-batch create: its password printed once, stored as a
#      salted HMAC)
#   2. a request with a wrong batch password, a forged IDevID signature, an
#      IDevID of an unknown CA, a UDID that is not the LDevID's: refused,
#      recorded, a refusal answer on the gateway's own topic, events
#   3. a request waits (gateway requests), is approved; the bundle comes on
#      the gateway's topic only (another gateway subscribed to it gets
#      nothing); a repeated request gets the same bundle; the group's
#      configuration is in it
#   4. EST with the LDevID and the one-time password (both needed: the
#      LDevID alone with a wrong password is refused; the password spent)
#   5. the operational listener: the bundle's credentials with the issued
#      certificate; another gateway's topics refused; the status makes it
#      online
#   6. a signed command: its signature verifies with the bundle's
#      command_cert (openssl); the result comes back through ztpctl
#   7. an expected gateway is approved at once; a rejected one gets a
#      rejection
#   8. revocation cuts it: its connection closed, a reconnect refused
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_gateway_server.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$SRC/tests/integration/lib_est.sh"
. "$SRC/tests/integration/lib_ztpctl.sh"
. "$SRC/tests/integration/lib_mqtt.sh"

. "$SRC/tests/integration/lib_gateway.sh"

# ---- 1. the factory, the broker, ztpd ----
GW=gw-0001
GW2=gw-0002
gw_identities $GW
gw_identities $GW2
gw_setup
ok_run gateway-batch create line-7
out_has "^batch_password = "
BATCH_PW=$(sed -n 's/^batch_password = //p' "$T/out")
out_has "^prov_url = mqtts://127.0.0.1:$MQTT_PROV_PORT"
grep -qF -- "$BATCH_PW" <<<"$(db 'SELECT pass_hash FROM gw_batches')" && fail "the batch password is stored"
bad_run 1 gateway-batch create line-7
ok "a batch: its password shown once, kept as a salted HMAC, names unique"

# ---- 2. refusals ----
ev0=$(ev_count_now gateway_refused)
msub $GW "ztp/prov/$GW/bundle" "$T/refusal"
request $GW "$T/req.badpw" line-7 wrong-password
mpub $GW "ztp/prov/$GW/req" "$T/req.badpw"
wait_file "$T/refusal" || fail "no refusal answer"
jq -e '.v == 1 and .state == "refused" and (.reason | test("batch password"))' "$T/refusal" >/dev/null ||
	fail "refusal: $(cat "$T/refusal")"
eq "$(db "SELECT state FROM gateways WHERE udid='$GW'")" 5 "a refused request's state"
# a forged IDevID signature (another key), a wrong batch
for what in sig batch; do
	if [ $what = sig ]; then
		request $GW "$T/req.$what" line-7 "$BATCH_PW" "$F/$GW2.idevid.key"
	else
		request $GW "$T/req.$what" nobatch "$BATCH_PW"
	fi
	mpub $GW "ztp/prov/$GW/req" "$T/req.$what"
done
# the LDevID of another gateway in a request on this gateway's topic
request $GW "$T/req.ldev" line-7 "$BATCH_PW" "$F/$GW.idevid.key" $GW2
mpub $GW "ztp/prov/$GW/req" "$T/req.ldev"
# not JSON
printf 'not json' >"$T/req.junk"
mpub $GW "ztp/prov/$GW/req" "$T/req.junk"
wait_ev_count gateway_refused $((ev0 + 5))
for pat in 'wrong batch password' 'idevid_sig does not verify' 'no such batch' \
	'LDevID names another device' 'not JSON'; do
	[ "$(db "SELECT count(*) FROM events WHERE kind='gateway_refused' AND detail LIKE '%$pat%'")" -ge 1 ] ||
		fail "no refusal event for: $pat"
done
ok "refused: wrong batch password, forged IDevID signature, unknown batch, another's LDevID, junk"

# ---- 3. a request waits, is approved; its bundle to it alone ----
ok_run gateway group-set plant-a --file <(echo '{"ntp":"pool.example","interval":60}')
msub $GW "ztp/prov/$GW/bundle" "$T/bundle"
# another gateway (GW2, a valid LDevID) subscribes to GW's bundle topic
msub $GW2 "ztp/prov/$GW/bundle" "$T/stolen"
STOLEN_PID=$MSUB_PID
request $GW "$T/req.ok"
mpub $GW "ztp/prov/$GW/req" "$T/req.ok"
for _ in $(seq 1 100); do
	[ "$(db "SELECT state FROM gateways WHERE udid='$GW'")" = 0 ] && break
	sleep 0.1
done
ok_run gateway requests
out_has "$GW"
out_has "pending"
[ -s "$T/bundle" ] && fail "a bundle before the approval"
ok_run gateway approve $GW --group plant-a
wait_file "$T/bundle" || fail "no bundle: $(cat "$T/bundle.err")"
B=$T/bundle
jq -e --arg u $GW '.v == 1 and .udid == $u and .state == "approved" and
	(.bundle_id | test("^[0-9a-f]{32}$")) and (.est_url | startswith("https://127.0.0.1:")) and
	(.est_password | length >= 16) and (.mqtt_username == $u) and
	(.mqtt_password | length >= 16) and (.command_cert | test("BEGIN CERTIFICATE")) and
	(.group == "plant-a") and (.config.ntp == "pool.example")' "$B" >/dev/null ||
	fail "bundle: $(jq -c 'del(.est_password, .mqtt_password)' "$B")"
sleep 1
[ -s "$T/stolen" ] && fail "another gateway read the bundle"
db_dump >"$T/dump"
for s in est_password mqtt_password; do
	v=$(jq -r .$s "$B")
	grep -qF -- "$v" "$T/ztpd.log" && fail "$s in the log"
	grep -qF -- "$v" "$T/dump" && fail "$s in the store in clear"
	grep -qF -- "$(printf %s "$v" | xxd -p | tr -d '\n')" "$T/dump" && fail "$s in the store in clear (hex)"
done
ok "pending, approved: the bundle on its own topic only, secrets sealed and never logged"

msub $GW "ztp/prov/$GW/bundle" "$T/bundle2"
request $GW "$T/req.again"
mpub $GW "ztp/prov/$GW/req" "$T/req.again"
wait_file "$T/bundle2" || fail "no second answer"
eq "$(jq -r .bundle_id "$T/bundle2")" "$(jq -r .bundle_id "$B")" "bundle id of a repeated request"
eq "$(jq -r .est_password "$T/bundle2")" "$(jq -r .est_password "$B")" "password of a repeated request"
ok "a repeated request gets the same bundle"

# ---- 4. EST: the LDevID and the one-time password ----
EST_URL=$(jq -r .est_url "$B")
jq -r .est_ca "$B" >"$T/est_ca.pem"
est_key "$T/op.key"
est_csr "$T/op.key" $GW "$T/op.csr"
code=$(EST_CA=$T/est_ca.pem est_enroll simpleenroll "$T/op.csr" "$T/op.pem" \
	--cert "$F/$GW.ldevid.pem" --key "$F/$GW.ldevid.key" -u "$GW:wrong-one-time")
eq "$code" 401 "EST with the LDevID and a wrong password"
code=$(EST_CA=$T/est_ca.pem est_enroll simpleenroll "$T/op.csr" "$T/op.pem" \
	--cert "$F/$GW.ldevid.pem" --key "$F/$GW.ldevid.key" -u "$GW:$(jq -r .est_password "$B")")
eq "$code" 200 "EST with the LDevID and the bundle's password: $(head -c 300 "$EST_OUT")"
openssl verify -CAfile "$DATA/ca.pem" "$T/op.pem" >/dev/null || fail "the certificate does not verify"
code=$(EST_CA=$T/est_ca.pem est_enroll simpleenroll "$T/op.csr" "$T/op2.pem" \
	--cert "$F/$GW.ldevid.pem" --key "$F/$GW.ldevid.key" -u "$GW:$(jq -r .est_password "$B")")
eq "$code" 401 "the one-time password again"
eq "$(db "SELECT method FROM certs WHERE udid='$GW'")" mfr+password "the method on record"
SERIAL=$(est_serial "$T/op.pem")
ok "EST: the LDevID with the one-time password, once"

# ---- 5. the operational listener ----
MQ_PW=$(jq -r .mqtt_password "$B")
opsub "$T/op.pem" "$T/op.key" $GW "$MQ_PW" "ztp/dev/$GW/cmd" "$T/cmd" 1
CMD_SUB=$MSUB_PID
# its credentials open nothing of another gateway
set +e
mosquitto_sub -h 127.0.0.1 -p "$MQTT_OP_PORT" --cafile "$F/brokerca.pem" --cert "$T/op.pem" \
	--key "$T/op.key" -u $GW -P "$MQ_PW" -t "ztp/dev/$GW2/cmd" -t "ztp/prov/#" -C 1 -W 2 \
	>"$T/other" 2>&1
set -e
grep -qE 'denied|Timed out' "$T/other" || fail "another's topic: $(cat "$T/other")"
oppub "$T/op.pem" "$T/op.key" $GW "$MQ_PW" "ztp/dev/$GW/status" \
	"{\"v\":1,\"udid\":\"$GW\",\"state\":\"online\",\"serial\":\"$SERIAL\",\"firmware\":\"1.4.2\"}"
for _ in $(seq 1 100); do
	[ "$(db "SELECT state FROM gateways WHERE udid='$GW'")" = 3 ] && break
	sleep 0.1
done
eq "$(db "SELECT state || ' ' || serial FROM gateways WHERE udid='$GW'")" "3 $SERIAL" "online"
ok "operational: the bundle's credentials with ztp's certificate; online"

# ---- 6. a signed command and its result ----
ok_run gateway command $GW status --timeout 0
out_has "command 1 queued"
wait_file "$T/cmd" || fail "no command: $(cat "$T/cmd.err")"
sed "s|^ztp/dev/$GW/cmd ||" "$T/cmd" >"$T/cmd.json"
jq -r .payload "$T/cmd.json" | base64 -d >"$T/cmd.payload"
jq -r .sig "$T/cmd.json" | base64 -d >"$T/cmd.sig"
jq -r .command_cert "$B" >"$T/cmd_cert.pem"
openssl x509 -in "$T/cmd_cert.pem" -pubkey -noout >"$T/cmd_pub.pem"
openssl dgst -sha256 -verify "$T/cmd_pub.pem" -signature "$T/cmd.sig" "$T/cmd.payload" >/dev/null ||
	fail "the command's signature does not verify"
jq -e --arg u $GW '.v == 1 and .udid == $u and .id == 1 and .name == "status" and (.args | type == "object")' \
	"$T/cmd.payload" >/dev/null || fail "command payload: $(cat "$T/cmd.payload")"
oppub "$T/op.pem" "$T/op.key" $GW "$MQ_PW" "ztp/dev/$GW/result" \
	"{\"v\":1,\"udid\":\"$GW\",\"id\":1,\"ok\":true,\"result\":{\"uptime\":42}}"
for _ in $(seq 1 100); do
	[ "$(db "SELECT state FROM gw_commands WHERE udid='$GW' AND id=1")" = 2 ] && break
	sleep 0.1
done
ok_run --json gateway show $GW
ADMIN_TOKEN=$(admin_token)
out=$(admin GET "/v1/gateways/$GW/commands/1")
jq -e '.state == "done" and .result.uptime == 42' <<<"$(head -1 <<<"$out")" >/dev/null ||
	fail "the command's result: $out"
ok "a signed command (verified with the bundle's command_cert), its result recorded"

# ---- 7. expected: approved at once; rejected: told ----
ok_run gateway expect $GW2 --group plant-a
msub $GW2 "ztp/prov/$GW2/bundle" "$T/bundle.gw2"
request $GW2 "$T/req.gw2"
mpub $GW2 "ztp/prov/$GW2/req" "$T/req.gw2"
wait_file "$T/bundle.gw2" || fail "no bundle for the expected gateway"
eq "$(jq -r .state "$T/bundle.gw2")" approved "an expected gateway's answer"
gw_identities gw-0003
msub gw-0003 "ztp/prov/gw-0003/bundle" "$T/bundle.gw3"
request gw-0003 "$T/req.gw3"
mpub gw-0003 "ztp/prov/gw-0003/req" "$T/req.gw3"
for _ in $(seq 1 100); do
	[ "$(db "SELECT state FROM gateways WHERE udid='gw-0003'")" = 0 ] && break
	sleep 0.1
done
ok_run gateway reject gw-0003 --reason "not ours"
wait_file "$T/bundle.gw3" || fail "no rejection"
jq -e '.state == "rejected" and .reason == "not ours"' "$T/bundle.gw3" >/dev/null ||
	fail "rejection: $(cat "$T/bundle.gw3")"
ok "expected: approved at once; rejected: told"

# ---- 8. revocation cuts the gateway off the broker ----
opsub "$T/op.pem" "$T/op.key" $GW "$MQ_PW" "ztp/dev/$GW/cmd" "$T/cmd.long" 100
LONG_SUB=$MSUB_PID
ok_run cert revoke "$SERIAL" --reason keyCompromise
for _ in $(seq 1 100); do
	kill -0 $LONG_SUB 2>/dev/null || break
	sleep 0.1
done
kill -0 $LONG_SUB 2>/dev/null && fail "the revoked gateway is still connected"
eq "$(db "SELECT mqtt_state FROM gateways WHERE udid='$GW'")" 2 "broker account"
set +e
oppub "$T/op.pem" "$T/op.key" $GW "$MQ_PW" "ztp/dev/$GW/status" '{}' 2>"$T/refused"
rc=$?
set -e
[ $rc -ne 0 ] || fail "a revoked gateway reconnected"
[ "$(ev_count_now gateway_cut)" -ge 1 ] || fail "no gateway_cut event"
ok "revoked: connection closed, reconnect refused, event"
