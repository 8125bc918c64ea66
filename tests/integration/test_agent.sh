#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ztp-agent end to end (docs/gateways-agent.md, docs/protocol/gateways.md)
# with a real ztpd (EST), a real Mosquitto (lib_mqtt.sh), and this script
# playing the factory (openssl: the manufacturer's IDevID, the operator's
# LDevID) and the ztpd side of the MQTT exchange (mosquitto_sub/pub as the
# dynamic-security client ztpd: the request read and its IDevID signature
# checked with openssl, the gateway's broker client made with
# mosquitto_ctrl, the bundle published, commands signed with openssl).
#
#  1. onboarding: the request's members and signature; the bundle; EST with
#     the LDevID; the operational connection; --once exits 0; the key
#     store's certificate is ztpd's; the status names it;
#  2. commands: a signed status is answered; a forged one, a replayed id and
#     another UDID's are logged and not answered; fetch-config,
#     rotate-mqtt (the new password for the next connection; a rotation the
#     broker never got, then the broker restarted: the previous password
#     kept), reenroll (a new certificate, a new connection with it), an
#     unknown command;
#  3. a rejected request (the batch password in agent.conf): exit 4;
#  4. killed after the bundle was stored (and the key made): resumes with
#     that bundle and key, no second request, one certificate;
#  5. the broker's dynamic security disables the gateway: the running agent
#     gives its bundle up and asks again (a new request);
#  6. its certificate revoked: a reenroll command is refused by EST as
#     revoked, answered so, and the agent gives its bundle up and asks again.
# No secret in any log.
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_agent.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib_est.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib_mqtt.sh"

AGENT=$BUILD/ztp-agent
[ -x "$AGENT" ] || fail "no ztp-agent at $AGENT"

# the agents this script runs: stopped by the trap before the broker and ztpd
declare -A AGENT_PID=()
AGENT_PREV_TRAP=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
agent_cleanup() {
	local rc=$? g
	set +e
	for g in "${!AGENT_PID[@]}"; do
		kill -KILL "${AGENT_PID[$g]}" 2>/dev/null
		wait "${AGENT_PID[$g]}" 2>/dev/null
	done
	if [ $rc -ne 0 ]; then
		for g in "$T"/agent-*.log; do
			[ -f "$g" ] || continue
			echo "---- $(basename "$g") (last 30 lines) ----" >&2
			tail -n 30 "$g" >&2
		done
	fi
	(exit $rc)
	eval "$AGENT_PREV_TRAP"
}
trap agent_cleanup EXIT

eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }
# count FILE REGEX: lines of FILE matching REGEX (0 if none or no file)
count() {
	local n
	n=$(grep -cE -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}
# wait_count FILE REGEX N WHAT: until FILE has at least N such lines (60 s at most)
wait_count() {
	for _ in $(seq 1 1200); do
		[ "$(count "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.05
	done
	fail "$4: fewer than $3 lines /$2/ in $1 within 60 s"
}
# wait_file FILE WHAT: until FILE exists (60 s at most)
wait_file() {
	for _ in $(seq 1 1200); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	fail "$2: no $1 within 60 s"
}
# payload_of LINE: the payload of a "topic payload" line of mosquitto_sub -v
payload_of() { printf '%s\n' "${1#* }"; }

# ---- the factory and the PKIs
PKI=$T/pki
mkdir -p "$PKI"
# the manufacturer's IDevID CA and the operator's LDevID CA
est_mfr_ca acme "$PKI"
est_mfr_ca operator "$PKI"
# the broker's own CA and its certificate for 127.0.0.1
est_mfr_ca broker "$PKI"
est_key "$PKI/server.key"
openssl req -new -key "$PKI/server.key" -subj "/CN=broker" -out "$PKI/server.csr"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$PKI/server.ext"
openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/broker.pem" -CAkey "$PKI/broker.key" \
	-set_serial "0x$(openssl rand -hex 8)" -days 2 -extfile "$PKI/server.ext" \
	-out "$PKI/server.pem" 2>/dev/null
# ztpd's command key (it lives in ztpd's signer; a key of this test here)
est_key "$PKI/cmd.key"
openssl req -x509 -new -key "$PKI/cmd.key" -subj "/CN=ztpd commands" -days 2 -out "$PKI/cmd.pem"
est_key "$PKI/forger.key"

# gateway UDID DIR: the factory's identities of a gateway (IDevID from acme,
# LDevID from the operator, both with CN=UDID) and its state directory with
# agent.conf; the batch password in DIR/batch.pass
gateway() {
	local u=$1 d=$2
	mkdir -p "$d"
	chmod 700 "$d"
	est_idevid acme "$PKI" "$u-idevid" "/CN=$u/serialNumber=$u"
	est_idevid operator "$PKI" "$u-ldevid" "/CN=$u"
	cp "$PKI/$u-idevid.pem" "$d/idevid.pem"
	cp "$PKI/$u-idevid.key" "$d/idevid.key"
	cp "$PKI/$u-ldevid.pem" "$d/ldevid.pem"
	cp "$PKI/$u-ldevid.key" "$d/ldevid.key"
	(umask 077 && printf '%s\n' "$BATCH_PASS" >"$d/batch.pass")
	cat >"$d/agent.conf" <<EOF
# $u
udid = $u
prov_url = mqtts://127.0.0.1:$MQTT_PROV_PORT
prov_ca = $PKI/broker.pem
batch = line-7
batch_password_file = batch.pass
ldevid_cert = ldevid.pem
ldevid_key = ldevid.key
idevid_cert = idevid.pem
idevid_key = idevid.key
firmware = 1.4.2
retry_s = 2
EOF
}

# agent_start NAME ARGS...: ztp-agent in the background, its log in $T/agent-NAME.log
agent_start() {
	local name=$1
	shift
	"$AGENT" "$@" >>"$T/agent-$name.log" 2>&1 &
	AGENT_PID[$name]=$!
}
# agent_wait NAME: waits for it to exit (60 s at most); its status in RC
agent_wait() {
	local pid=${AGENT_PID[$1]}
	for _ in $(seq 1 1200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && fail "agent $1 still runs after 60 s"
	set +e
	wait "$pid"
	RC=$?
	set -e
	unset "AGENT_PID[$1]"
}

# ---- ztpd (EST on a fixed port, so that it can be stopped and started again) and the broker
EST_FIXED=$(mqtt_free_port)
est_start --est-listen "127.0.0.1:$EST_FIXED"
eq "$EST_PORT" "$EST_FIXED" "ztpd's EST port"
"$ZTPCTL" mfr-ca add operator "$PKI/operator.pem" >/dev/null
mqtt_start "$T/mqtt" "$PKI/operator.pem" "$DATA/ca.pem" "$PKI/server.pem" "$PKI/server.key" "$PKI/broker.pem"
BATCH_PASS=$(openssl rand -hex 12)
SECRETS=("$BATCH_PASS")
REQS=$T/requests.out
DEV=$T/dev.out
mqtt_watch "$REQS" ztpd-reqs 'ztp/prov/+/req'
mqtt_watch "$DEV" ztpd-dev 'ztp/dev/+/status' 'ztp/dev/+/result'

# check_request LINE UDID DIR: the request's members and its IDevID signature
check_request() {
	local p u=$2 d=$3
	p=$(payload_of "$1")
	eq "$(jq -r '.v' <<<"$p")" 1 "request v"
	eq "$(jq -r '.udid' <<<"$p")" "$u" "request udid"
	eq "$(jq -r '.batch' <<<"$p")" line-7 "request batch"
	eq "$(jq -r '.password' <<<"$p")" "$BATCH_PASS" "request password"
	eq "$(jq -r '.firmware' <<<"$p")" 1.4.2 "request firmware"
	jq -e '.nonce | test("^[0-9a-f]{32}$")' <<<"$p" >/dev/null || fail "request nonce: $p"
	jq -r .ldevid <<<"$p" >"$T/req-ldevid.pem"
	jq -r .idevid <<<"$p" >"$T/req-idevid.pem"
	cmp -s <(openssl x509 -in "$T/req-ldevid.pem" -outform DER) <(openssl x509 -in "$d/ldevid.pem" -outform DER) ||
		fail "request ldevid is not the gateway's"
	cmp -s <(openssl x509 -in "$T/req-idevid.pem" -outform DER) <(openssl x509 -in "$d/idevid.pem" -outform DER) ||
		fail "request idevid is not the gateway's"
	openssl x509 -in "$T/req-idevid.pem" -pubkey -noout >"$T/req-idevid.pub"
	printf 'ztp-gw-req\0%s\0%s' "$u" "$(jq -r .nonce <<<"$p")" >"$T/req.tbs"
	jq -r .idevid_sig <<<"$p" | openssl base64 -d -A >"$T/req.sig"
	openssl dgst -sha256 -verify "$T/req-idevid.pub" -signature "$T/req.sig" "$T/req.tbs" >/dev/null ||
		fail "the request's idevid_sig does not verify with the IDevID"
}

# approve UDID: the gateway's broker client and role (as ztpd makes them),
# an enrolment password; sets BUNDLE (the answer's JSON) and MQTT_PW
approve() {
	local u=$1 estpw
	MQTT_PW=$(openssl rand -hex 16)
	mqtt_ctrl createRole "ztp-gw-$u" >/dev/null
	mqtt_ctrl addRoleACL "ztp-gw-$u" publishClientSend "ztp/dev/$u/status" allow
	mqtt_ctrl addRoleACL "ztp-gw-$u" publishClientSend "ztp/dev/$u/result" allow
	mqtt_ctrl addRoleACL "ztp-gw-$u" subscribeLiteral "ztp/dev/$u/cmd" allow
	mqtt_ctrl addRoleACL "ztp-gw-$u" publishClientReceive "ztp/dev/$u/cmd" allow
	mqtt_ctrl createClient "$u" -p "$MQTT_PW" >/dev/null
	mqtt_ctrl addClientRole "$u" "ztp-gw-$u"
	estpw=$("$ZTPCTL" password create "$u" 2>/dev/null)
	SECRETS+=("$MQTT_PW" "$estpw")
	BUNDLE=$(jq -cn --arg u "$u" --arg id "$(openssl rand -hex 16)" \
		--arg est "https://127.0.0.1:$EST_PORT" --rawfile estca "$DATA/ca.pem" --arg estpw "$estpw" \
		--arg mqtt "mqtts://127.0.0.1:$MQTT_OP_PORT" --rawfile mqttca "$PKI/broker.pem" \
		--arg pw "$MQTT_PW" --rawfile cmd "$PKI/cmd.pem" \
		'{v: 1, udid: $u, state: "approved", bundle_id: $id, est_url: $est, est_ca: $estca,
		  est_password: $estpw, mqtt_url: $mqtt, mqtt_ca: $mqttca, mqtt_username: $u,
		  mqtt_password: $pw, command_cert: $cmd, group: "plant-a", config: {"poll_s": 30}}')
}

# answer UDID JSON: published on the gateway's bundle topic, QoS 1
answer() { mqtt_pub -q 1 -t "ztp/prov/$1/bundle" -m "$2"; }

# command UDID ID NAME ARGS KEY: publishes a command signed with KEY; the envelope in $T/cmd-ID.json
command() {
	local u=$1 id=$2 name=$3 args=$4 key=$5
	jq -cjn --arg u "$u" --argjson id "$id" --arg n "$name" --argjson a "$args" \
		'{v: 1, udid: $u, id: $id, name: $n, args: $a, issued_at: 1796692385123}' >"$T/cmd-$id.payload"
	openssl dgst -sha256 -sign "$key" -out "$T/cmd-$id.sig" "$T/cmd-$id.payload"
	jq -cn --arg p "$(openssl base64 -A -in "$T/cmd-$id.payload")" \
		--arg s "$(openssl base64 -A -in "$T/cmd-$id.sig")" '{payload: $p, sig: $s}' >"$T/cmd-$id.json"
	mqtt_pub -q 1 -t "ztp/dev/$u/cmd" -f "$T/cmd-$id.json"
}

# ---- 1. onboarding
GW=gw-0001
G1=$T/gw1
gateway $GW "$G1"
agent_start one --state "$G1" --once --max-wait 120
line=$(mqtt_wait_line "$REQS" "^ztp/prov/$GW/req " "a request of $GW")
check_request "$line" $GW "$G1"
ok "the request: udid, batch, password, firmware, LDevID, IDevID, nonce; idevid_sig verifies"
approve $GW
BUNDLE1=$BUNDLE
answer $GW "$BUNDLE1"
agent_wait one
eq "$RC" 0 "ztp-agent --once after the bundle (log: $(tail -n 5 "$T/agent-one.log"))"
openssl verify -CAfile "$DATA/ca.pem" "$G1/keys/slot-10" >/dev/null || fail "the key store's certificate is not ztpd's"
openssl x509 -in "$G1/keys/slot-10" -noout -subject | grep -q "CN *= *$GW" || fail "the certificate is not for $GW"
SERIAL1=$(est_serial "$G1/keys/slot-10")
eq "$(est_ncerts $GW)" 1 "certificates issued to $GW"
status=$(mqtt_wait_line "$DEV" "^ztp/dev/$GW/status " "the status of $GW")
eq "$(payload_of "$status" | jq -r '"\(.v) \(.udid) \(.state) \(.serial) \(.firmware)"')" \
	"1 $GW online $SERIAL1 1.4.2" "the status"
eq "$(stat -c %a "$G1/bundle.json")" 600 "bundle.json's mode"
eq "$(stat -c %a "$G1/keys")" 700 "the key store's mode"
eq "$(jq -r .bundle_id "$G1/bundle.json")" "$(jq -r .bundle_id <<<"$BUNDLE1")" "the stored bundle"
ok "onboarded: bundle stored (0600), enrolled over EST with the LDevID (serial $SERIAL1), status published"

# ---- 2. commands, with the agent running
agent_start run --state "$G1" -v # debug lines too: no secret in them either
wait_count "$DEV" "^ztp/dev/$GW/status " 2 "the status after a restart"
command $GW 1 status '{}' "$PKI/cmd.key"
res=$(mqtt_wait_line "$DEV" "^ztp/dev/$GW/result .*\"id\":1[,}]" "the result of command 1")
eq "$(payload_of "$res" | jq -r '"\(.udid) \(.ok) \(.result.serial)"')" "$GW true $SERIAL1" "the status command's result"
ok "a signed status command is answered"

command $GW 2 status '{}' "$PKI/forger.key"   # forged
mqtt_pub -q 1 -t "ztp/dev/$GW/cmd" -f "$T/cmd-1.json" # replayed
command gw-other 3 status '{}' "$PKI/cmd.key" # another UDID's
mqtt_pub -q 1 -t "ztp/dev/$GW/cmd" -f "$T/cmd-3.json"
mqtt_pub -q 1 -t "ztp/dev/$GW/cmd" -m '{"payload": 7}' # no envelope
command $GW 4 fetch-config '{"config": {"poll_s": 60, "site": "b"}}' "$PKI/cmd.key"
res=$(mqtt_wait_line "$DEV" "^ztp/dev/$GW/result .*\"id\":4[,}]" "the result of command 4")
eq "$(payload_of "$res" | jq -r .ok)" true "fetch-config's result"
eq "$(jq -c . "$G1/config.json")" '{"poll_s":60,"site":"b"}' "config.json"
eq "$(stat -c %a "$G1/config.json")" 600 "config.json's mode"
# commands are handled in order: 2, 1 again, 3 and the bad envelope came before 4
eq "$(count "$DEV" "^ztp/dev/$GW/result ")" 2 "results after the refused commands"
eq "$(count "$T/agent-run.log" 'refused a command.*signature does not verify')" 1 "the forged command's log line"
eq "$(count "$T/agent-run.log" 'refused a command.*a replay')" 1 "the replayed command's log line"
eq "$(count "$T/agent-run.log" 'refused a command.*another UDID')" 1 "the other UDID's command's log line"
eq "$(count "$T/agent-run.log" 'refused a command')" 4 "refused commands"
eq "$(cat "$G1/cmd-id")" 4 "cmd-id"
ok "a forged, a replayed, another UDID's command and a bad envelope: logged, not answered; fetch-config stored config.json"

command $GW 5 frobnicate '{}' "$PKI/cmd.key"
res=$(mqtt_wait_line "$DEV" "^ztp/dev/$GW/result .*\"id\":5[,}]" "the result of command 5")
eq "$(payload_of "$res" | jq -r '"\(.ok) \(.error)"')" "false unknown command frobnicate" "an unknown command's result"

# rotate-mqtt: the gateway stores the new password and answers; then ztpd sets
# it in the broker, which closes the gateway's connection (dynamic security
# does): the gateway connects again with the new one
NEWPW=$(openssl rand -hex 16)
SECRETS+=("$NEWPW")
command $GW 6 rotate-mqtt "$(jq -cn --arg p "$NEWPW" '{password: $p}')" "$PKI/cmd.key"
res=$(mqtt_wait_line "$DEV" "^ztp/dev/$GW/result .*\"id\":6[,}]" "the result of command 6")
eq "$(payload_of "$res" | jq -r .ok)" true "rotate-mqtt's result"
eq "$(jq -r .mqtt_password "$G1/bundle.json")" "$NEWPW" "the stored MQTT password"
mqtt_ctrl setClientPassword $GW "$NEWPW"
wait_count "$DEV" "^ztp/dev/$GW/status " 3 "the status after rotate-mqtt (a new connection)"
wait_count "$T/agent-run.log" "the new MQTT password was accepted" 1 "the new password accepted"
eq "$(jq -r '.mqtt_password_prev // "none"' "$G1/bundle.json")" none "the previous password after it"
ok "rotate-mqtt: the new password stored, then used for the next connection"

# a rotation the broker never got, and the broker restarted: the new password
# is refused, the previous one accepted and kept
LOSTPW=$(openssl rand -hex 16)
SECRETS+=("$LOSTPW")
command $GW 7 rotate-mqtt "$(jq -cn --arg p "$LOSTPW" '{password: $p}')" "$PKI/cmd.key"
mqtt_wait_line "$DEV" "^ztp/dev/$GW/result .*\"id\":7[,}]" "the result of command 7" >/dev/null
mqtt_restart # the watchers reconnect by themselves to their sessions
wait_count "$T/agent-run.log" "the previous MQTT password was accepted" 1 "the previous password accepted"
eq "$(jq -r .mqtt_password "$G1/bundle.json")" "$NEWPW" "the MQTT password after the lost rotation"
wait_count "$DEV" "^ztp/dev/$GW/status " 4 "the status after the broker's restart"
ok "the broker restarted after a rotation it never got: the previous password kept, status published again"

command $GW 8 reenroll '{}' "$PKI/cmd.key"
res=$(mqtt_wait_line "$DEV" "^ztp/dev/$GW/result .*\"id\":8[,}]" "the result of command 8")
eq "$(payload_of "$res" | jq -r .ok)" true "reenroll's result ($res)"
SERIAL2=$(est_serial "$G1/keys/slot-10")
[ "$SERIAL2" != "$SERIAL1" ] || fail "reenroll: the same certificate"
eq "$(payload_of "$res" | jq -r .result.serial)" "$SERIAL2" "reenroll's result serial"
wait_count "$DEV" "^ztp/dev/$GW/status .*\"serial\":\"$SERIAL2\"" 1 "the status with the new certificate"
ok "reenroll: a new certificate ($SERIAL2), a new connection with it"

# ---- 3. a rejected request: exit 4
GW2=gw-0002
G2=$T/gw2
gateway $GW2 "$G2"
# this one has the batch password in agent.conf, as gateway-batch create prints it
sed -i "s/^batch_password_file = .*/batch_password = $BATCH_PASS/" "$G2/agent.conf"
chmod 600 "$G2/agent.conf"
agent_start two --state "$G2" --once --max-wait 120
line=$(mqtt_wait_line "$REQS" "^ztp/prov/$GW2/req " "a request of $GW2")
eq "$(payload_of "$line" | jq -r .password)" "$BATCH_PASS" "the password of batch_password"
answer $GW2 "{\"v\":1,\"udid\":\"$GW2\",\"state\":\"rejected\",\"reason\":\"unknown device\"}"
agent_wait two
eq "$RC" 4 "ztp-agent after a rejection"
grep -q 'rejected by the operator: unknown device' "$T/agent-two.log" || fail "no rejection line in the log"
[ ! -e "$G2/bundle.json" ] || fail "a bundle.json after a rejection"
ok "a rejected request: exit 4, the reason logged, nothing stored"

# ---- 4. killed after the bundle was stored and the key made
GW3=gw-0003
G3=$T/gw3
gateway $GW3 "$G3"
approve $GW3
est_stop # EST unreachable: the agent stores the bundle, makes its key, then waits
agent_start three --state "$G3"
mqtt_wait_line "$REQS" "^ztp/prov/$GW3/req " "a request of $GW3" >/dev/null
answer $GW3 "$BUNDLE"
wait_file "$G3/bundle.json" "the bundle of $GW3"
wait_file "$G3/keys/slot-00" "the key of $GW3"
kill -KILL "${AGENT_PID[three]}"
agent_wait three
nreq=$(count "$REQS" "^ztp/prov/$GW3/req ")
key3=$(openssl pkey -in "$G3/keys/slot-00" -pubout | sha256sum)
est_start --est-listen "127.0.0.1:$EST_FIXED"
agent_start three-again --state "$G3" --once --max-wait 120
agent_wait three-again
eq "$RC" 0 "ztp-agent resumed after the kill (log: $(tail -n 5 "$T/agent-three-again.log"))"
grep -q 'starting with the stored bundle' "$T/agent-three-again.log" || fail "the agent did not resume with its bundle"
eq "$(count "$REQS" "^ztp/prov/$GW3/req ")" "$nreq" "requests of $GW3 after the kill"
eq "$(openssl pkey -in "$G3/keys/slot-00" -pubout | sha256sum)" "$key3" "the key after the kill"
eq "$(est_ncerts $GW3)" 1 "certificates issued to $GW3"
openssl verify -CAfile "$DATA/ca.pem" "$G3/keys/slot-10" >/dev/null || fail "$GW3's certificate is not ztpd's"
ok "killed after the bundle and the key: resumed with both, no second request, one certificate"

# ---- 5. the broker disables the running gateway: it asks again
nreq=$(count "$REQS" "^ztp/prov/$GW/req ")
mqtt_ctrl disableClient $GW
wait_count "$REQS" "^ztp/prov/$GW/req " $((nreq + 1)) "a new request of $GW after disableClient"
[ ! -e "$G1/bundle.json" ] || fail "bundle.json kept after the broker refused the credentials"
eq "$(cat "$G1/given-up-bundle")" "$(jq -r .bundle_id <<<"$BUNDLE1")" "the bundle given up"
grep -q 'giving up bundle' "$T/agent-run.log" || fail "no line about the bundle given up"
# the old bundle again (a late copy): ignored
answer $GW "$BUNDLE1"
wait_count "$T/agent-run.log" "ignored bundle .*it was given up" 1 "the old bundle ignored"
[ ! -e "$G1/bundle.json" ] || fail "the given-up bundle was taken again"
kill -TERM "${AGENT_PID[run]}"
agent_wait run
eq "$RC" 0 "ztp-agent after SIGTERM"
ok "disabled in the broker: the bundle given up, a new request; SIGTERM: exit 0"

# ---- 6. revoked: the re-enrolment refused as revoked, the bundle given up
agent_start three-run --state "$G3"
wait_count "$DEV" "^ztp/dev/$GW3/status " 2 "the status of $GW3 running"
nreq=$(count "$REQS" "^ztp/prov/$GW3/req ")
est_revoke "$(est_serial "$G3/keys/slot-10")"
command $GW3 1 reenroll '{}' "$PKI/cmd.key"
res=$(mqtt_wait_line "$DEV" "^ztp/dev/$GW3/result .*\"id\":1[,}]" "the result of $GW3's reenroll")
eq "$(payload_of "$res" | jq -r '"\(.ok) \(.error)"')" "false the certificate is revoked: onboarding again" \
	"reenroll of a revoked certificate"
wait_count "$REQS" "^ztp/prov/$GW3/req " $((nreq + 1)) "a new request of $GW3 after the revocation"
[ ! -e "$G3/bundle.json" ] && [ ! -e "$G3/keys/slot-10" ] || fail "$GW3 kept its bundle or certificate"
kill -TERM "${AGENT_PID[three-run]}"
agent_wait three-run
eq "$RC" 0 "ztp-agent after SIGTERM"
ok "revoked: reenroll answered with the refusal, the bundle and certificate given up, a new request"

# ---- no secret in any log
for s in "${SECRETS[@]}"; do
	for f in "$T"/agent-*.log; do
		grep -qF -- "$s" "$f" && fail "a secret in $(basename "$f")"
	done
done
ok "no password in the agents' logs"
