#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Gateways over MQTT end to end (docs/gateways.md): ztpd with --mqtt, a
# real Mosquitto with its two listeners, and the real ztp-agent, with the
# factory's identities made by the test:
#
#   1. a gateway asks, waits in the queue, is approved; its agent enrols
#      over EST with its LDevID and the bundle's password and comes online
#      on the operational listener, with the group's configuration
#   2. signed commands: status and fetch-config answered through ztpctl; a
#      forged command (another key) and a replayed one run nothing; the
#      broker password rotated, the gateway still answers after it
#   3. its certificate revoked: the broker closes its connection, it asks
#      again with its LDevID, is approved again (a new approval) and comes
#      back with a new certificate; with --auto-reonboard on its group it
#      comes back by itself
#   4. agents killed at each step resume: a second gateway killed while it
#      waits, after its bundle, and once online: one certificate per
#      approval, no second request once online
#   5. CRL synchronisation: the maker's CRL (served over HTTP) lists the
#      second gateway's IDevID: ztpd blocks it and cuts it off the broker
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_gateway.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$SRC/tests/integration/lib_est.sh"
. "$SRC/tests/integration/lib_ztpctl.sh"
. "$SRC/tests/integration/lib_mqtt.sh"
. "$SRC/tests/integration/lib_gateway.sh"

AGENT=$BUILD/ztp-agent
declare -A AGENT_PID=()
agents_stop() {
	local n
	for n in "${!AGENT_PID[@]}"; do kill "${AGENT_PID[$n]}" 2>/dev/null || true; done
}
trap 'rc=$?; set +eu; agents_stop; (exit $rc); gw_cleanup' EXIT

gw_setup
ok_run gateway-batch create line-7
BATCH_PW=$(sed -n 's/^batch_password = //p' "$T/out")
ok_run gateway group-set plant-a --file <(echo '{"ntp":"pool.example","poll_s":30}')

# agent_dir UDID: its state directory with its identities and agent.conf
agent_dir() {
	local u=$1 d=$T/gw-$1
	gw_identities "$u"
	mkdir -p "$d"
	chmod 700 "$d"
	cp "$F/$u.idevid.pem" "$d/idevid.pem"
	cp "$F/$u.idevid.key" "$d/idevid.key"
	cp "$F/$u.ldevid.pem" "$d/ldevid.pem"
	cp "$F/$u.ldevid.key" "$d/ldevid.key"
	(umask 077 && printf '%s\n' "$BATCH_PW" >"$d/batch.pass")
	cat >"$d/agent.conf" <<EOF
udid = $u
prov_url = mqtts://127.0.0.1:$MQTT_PROV_PORT
prov_ca = $F/brokerca.pem
batch = line-7
batch_password_file = batch.pass
ldevid_cert = ldevid.pem
ldevid_key = ldevid.key
idevid_cert = idevid.pem
idevid_key = idevid.key
firmware = 2.0.1
retry_s = 2
EOF
}
agent_start() { # agent_start NAME UDID [ARGS...]
	local name=$1 u=$2
	shift 2
	"$AGENT" --state "$T/gw-$u" "$@" >>"$T/agent-$name.log" 2>&1 &
	AGENT_PID[$name]=$!
}
agent_kill() { # agent_kill NAME [SIGNAL]
	kill "-${2:-KILL}" "${AGENT_PID[$1]}" 2>/dev/null || true
	wait "${AGENT_PID[$1]}" 2>/dev/null || true
	unset "AGENT_PID[$1]"
}
gw_state() { db "SELECT state FROM gateways WHERE udid='$1'"; }
wait_state() { # wait_state UDID STATE WHAT
	for _ in $(seq 1 600); do
		[ "$(gw_state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "$3: $1 is in state '$(gw_state "$1")', not $2; agent: $(tail -n 5 "$T"/agent-*.log)"
}
wait_log() { # wait_log FILE REGEX WHAT
	for _ in $(seq 1 600); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$3: no /$2/ in $1: $(tail -n 5 "$1")"
}

# ---- 1. ask, wait, approval, EST, online ----
G=gw-e2e-1
agent_dir $G
agent_start run $G
wait_state $G 0 "the request"
ok_run gateway requests
out_has "$G"
ok_run gateway approve $G --group plant-a
wait_state $G 3 "online after the approval"
openssl verify -CAfile "$DATA/ca.pem" "$T/gw-$G/keys/slot-10" >/dev/null || fail "not ztpd's certificate"
SERIAL1=$(openssl x509 -in "$T/gw-$G/keys/slot-10" -noout -serial | sed 's/serial=//')
eq "$(db "SELECT serial FROM gateways WHERE udid='$G'")" "$SERIAL1" "the serial it reported"
eq "$(est_ncerts $G)" 1 "certificates of $G"
eq "$(db "SELECT method FROM certs WHERE udid='$G'")" mfr+password "the enrolment method"
ok "asked, approved, enrolled with the LDevID and the one-time password, online"

# ---- 2. signed commands ----
ok_run gateway command $G status
out_has "$SERIAL1"
ok_run gateway command $G fetch-config
wait_log "$T/gw-$G/config.json" 'pool.example' "the group's configuration"
# forged (another key) and replayed commands, published on the gateway's topic as ztpd
est_key "$T/forger.key"
n=$(db "SELECT cmd_counter FROM gateways WHERE udid='$G'")
printf '{"v":1,"udid":"%s","id":%d,"name":"status","args":{},"issued_at":1}' $G $((n + 5)) >"$T/forged.payload"
openssl dgst -sha256 -sign "$T/forger.key" -out "$T/forged.sig" "$T/forged.payload"
jq -n --arg p "$(base64 -w0 "$T/forged.payload")" --arg s "$(base64 -w0 "$T/forged.sig")" \
	'{payload: $p, sig: $s}' >"$T/forged.json"
mqtt_pub -q 1 -t "ztp/dev/$G/cmd" -f "$T/forged.json"
wait_log "$T/agent-run.log" 'refused a command.*' "the forged command refused"
nref=$(grep -c 'refused a command' "$T/agent-run.log")
# a replay: command 1 as ztpd signed it, sent again (taken off the broker by a subscriber as ztpd)
mqtt_watch "$T/cmds.out" test-cmds "ztp/dev/$G/cmd"
ok_run gateway command $G status
line=$(mqtt_wait_line "$T/cmds.out" "^ztp/dev/$G/cmd " "command 3")
mqtt_pub -q 1 -t "ztp/dev/$G/cmd" -m "${line#* }"
for _ in $(seq 1 100); do
	[ "$(grep -c 'refused a command' "$T/agent-run.log")" -gt "$nref" ] && break
	sleep 0.1
done
[ "$(grep -c 'refused a command' "$T/agent-run.log")" -gt "$nref" ] || fail "the replayed command was not refused"
eq "$(db "SELECT count(*) FROM gw_commands WHERE udid='$G' AND state = 2")" 3 "commands answered"
ok "signed commands answered; forged and replayed ones refused, unanswered"

ok_run gateway command $G rotate-mqtt
for _ in $(seq 1 100); do
	[ "$(db "SELECT count(*) FROM events WHERE kind='gateway_command' AND detail LIKE '%new broker password in force%'")" -ge 1 ] && break
	sleep 0.1
done
ok_run gateway command $G status --timeout 60
out_has "$SERIAL1"
ok "the broker password rotated; the gateway answers after it"

# ---- 3. revoked: cut off, asks again, a new approval, back ----
nreq=$(db "SELECT requests FROM gateways WHERE udid='$G'")
ok_run cert revoke "$SERIAL1" --reason keyCompromise
wait_state $G 0 "asking again after the revocation"
eq "$(db "SELECT mqtt_state FROM gateways WHERE udid='$G'")" 2 "its broker account"
[ "$(db "SELECT requests FROM gateways WHERE udid='$G'")" -gt "$nreq" ] || fail "no new request"
ok_run gateway approve $G
wait_state $G 3 "online after the new approval"
SERIAL2=$(openssl x509 -in "$T/gw-$G/keys/slot-10" -noout -serial | sed 's/serial=//')
[ "$SERIAL2" != "$SERIAL1" ] || fail "the same certificate after re-onboarding"
eq "$(est_ncerts $G)" 2 "certificates of $G"
ok_run gateway command $G status
out_has "$SERIAL2"
ok "revoked: cut off, a new request, a new approval, a new certificate, commands again"

ok_run gateway group-set plant-a --file <(echo '{"ntp":"pool.example","poll_s":30}') --auto-reonboard
ok_run cert revoke "$SERIAL2" --reason keyCompromise
for _ in $(seq 1 600); do
	s3=$(openssl x509 -in "$T/gw-$G/keys/slot-10" -noout -serial 2>/dev/null | sed 's/serial=//' || true)
	[ -n "$s3" ] && [ "$s3" != "$SERIAL2" ] && [ "$(gw_state $G)" = 3 ] && break
	sleep 0.1
done
[ "$(gw_state $G)" = 3 ] && [ "$s3" != "$SERIAL2" ] || fail "no automatic re-onboarding"
ok "with --auto-reonboard: back by itself"
agent_kill run TERM

# ---- 4. agents killed at each step ----
G2=gw-e2e-2
agent_dir $G2
agent_start k1 $G2
wait_state $G2 0 "the request"
agent_kill k1
ok_run gateway approve $G2 --group plant-a
# the bundle waits for it in its broker session; a restarted agent takes it
agent_start k2 $G2
for _ in $(seq 1 600); do
	[ -s "$T/gw-$G2/bundle.json" ] && break
	sleep 0.05
done
agent_kill k2
agent_start k3 $G2
wait_state $G2 3 "online after the kills"
eq "$(est_ncerts $G2)" 1 "certificates of $G2 after the kills"
nreq=$(db "SELECT requests FROM gateways WHERE udid='$G2'")
agent_kill k3
agent_start k4 $G2
wait_log "$T/agent-k4.log" 'operational: status published' "online again after a restart"
eq "$(db "SELECT requests FROM gateways WHERE udid='$G2'")" "$nreq" "requests after a restart once online"
eq "$(est_ncerts $G2)" 1 "certificates of $G2 after a restart once online"
agent_kill k4 TERM
ok "killed while waiting, after its bundle, once online: it resumes; one certificate, no new request"

# ---- 5. CRL synchronisation: the maker's CRL lists G2's IDevID: blocked, cut off ----
C=$T/makerca
mkdir -p "$C"
idserial=$(openssl x509 -in "$F/$G2.idevid.pem" -noout -serial | sed 's/serial=//')
printf 'R\t%s\t%s,keyCompromise\t%s\tunknown\t/O=maker/CN=%s\n' "301231000000Z" \
	"$(date -u +%y%m%d%H%M%SZ)" "$idserial" "$G2" >"$C/index.txt"
echo 1000 >"$C/crlnumber"
cat >"$C/ca.cnf" <<EOF
[ ca ]
default_ca = maker
[ maker ]
database = $C/index.txt
crlnumber = $C/crlnumber
certificate = $F/mfr.pem
private_key = $F/mfr.key
default_md = sha256
default_crl_days = 7
EOF
mkdir -p "$T/www"
openssl ca -config "$C/ca.cnf" -gencrl -out "$T/www/maker.crl" 2>"$T/crl.err" || fail "no CRL: $(cat "$T/crl.err")"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$T/www" >"$T/http.log" 2>&1 &
mqtt_bg $!
HTTP_PORT=""
for _ in $(seq 1 100); do
	HTTP_PORT=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$T/http.log" | head -n 1)
	[ -n "$HTTP_PORT" ] && break
	sleep 0.05
done
[ -n "$HTTP_PORT" ] || fail "no HTTP server"
agent_start k5 $G2
wait_log "$T/agent-k5.log" 'operational: status published' "online before the CRL"
ok_run pki add maker-pki --crl-url "http://127.0.0.1:$HTTP_PORT/maker.crl" --ca "$F/mfr.pem"
ok_run pki sync maker-pki
for _ in $(seq 1 100); do
	[ "$(db "SELECT mqtt_state FROM gateways WHERE udid='$G2'")" = 2 ] && break
	sleep 0.1
done
eq "$(db "SELECT blocked FROM things WHERE udid='$G2'")" 1 "$G2 blocked by the maker's CRL"
eq "$(db "SELECT mqtt_state FROM gateways WHERE udid='$G2'")" 2 "$G2's broker account after the CRL"
[ "$(ev_count_now pki_revoked)" -ge 1 ] || fail "no pki_revoked event"
agent_kill k5 TERM
ok "the maker's CRL lists its IDevID: blocked, cut off the broker, an event"

for f in "$T"/agent-*.log "$T/ztpd.log"; do
	grep -qF -- "$BATCH_PW" "$f" && fail "the batch password in $(basename "$f")"
done
ok "no secret in the logs"
