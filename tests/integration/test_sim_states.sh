#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ztp-sim's applet states (spec safe2.md section 4) through its pty, each
# read with CC 02 00 (configuration) or CC 01 00 (telemetry) and checked
# exactly: a server that is down and comes up (0001/0000 while the applet
# retries, attempt after attempt in ztp-sim's log, then 0007 and the body;
# telemetry 0001/0000 then 0003 and stored, a second POST refused with 6985
# while one is in progress), giving up (000F/FF03), a wrong PSK and an
# unknown ICCID (000F/01xx: the alert), a blocked SIM (000F/0193), a SIM
# bound to another Device ID (000F/0199), no configuration (0003, then
# CA 01 00 answers 6985), a body over 255 bytes from openssl s_server
# (000F/FF02), and a 304 served from the kept body with fewer bytes on the
# wire than the 200 (ztp-sim's debug log).
#
# SIM_MODE=t0 (CTest: integration.test_sim_states_t0) runs all of it on a T=0 card: the
# APDUs go through card/expect_card (lib_sim.sh), GET RESPONSE after 61xx.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/lib_sim.sh"

HELPERS=()
states_cleanup() {
	local rc=$? p
	set +e
	for p in "${HELPERS[@]}"; do kill "$p" 2>/dev/null; done
	(exit $rc)
	sim_cleanup
}
trap states_cleanup EXIT

SELECT=01A4040C0CF0706F646773616665320101
# a second SIM, with no configuration
ICCID2=8944502509186380002
PSK2=$(openssl rand -hex 32 | tr a-f A-F)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_listen() {
	for _ in $(seq 1 100); do
		[ -n "$(ss -ltnH "sport = :$1" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	fail "nothing listens on port $1"
}
# ef_of ICCID: EF_ICCID in hex (BCD, nibbles swapped, F filler)
ef_of() {
	local d=$1 out="" i
	while [ ${#d} -lt 20 ]; do d=${d}F; done
	for ((i = 0; i < 20; i += 2)); do out=$out${d:i+1:1}${d:i:1}; done
	echo "$out"
}
[ "$(ef_of "$ICCID")" = "$ICCID_EF" ] || fail "ef_of: $(ef_of "$ICCID") is not $ICCID_EF"

# sim_file JQ: $T/sim.json for the seed's SIM with its Device ID, on
# DEVICE_PORT, retries from 200 to 1000 ms, with the fields of the jq
# object JQ put over these
sim_file() {
	jq -n --arg iccid "$ICCID" --argjson port "$DEVICE_PORT" --arg psk "$PSK" --arg dev "$DEVID" \
		"{iccid: \$iccid, host: \"127.0.0.1\", port: \$port, psk: \$psk, psk_generation: 0,
		  device_id: \$dev, locked: true, retry_base_ms: 200, retry_max_ms: 1000} + ($1)" \
		>"$T/sim.json" || fail "sim_file: bad jq object $1"
	chmod 600 "$T/sim.json"
}
# new_sim JQ [ztp-sim options]: ztp-sim restarted on sim_file JQ; echo
# off, channel 1 open with the applet selected
new_sim() {
	local spec=$1
	shift
	stop_sim
	sim_file "$spec"
	start_sim "$@"
	expect_at ATE0 'ATE0\r\r\nOK\r\n'
	expect_card 0070000001 019000
	expect_card $SELECT 9000
}
# status P1: state and result (8 hex digits) that CC P1 00 answers on channel 1
status() {
	local r
	r=$(card "01CC${1}0000")
	[[ "$r" =~ ^([0-9A-F]{8})9000$ ]] || fail "CC $1 00: not a state, a result and 9000: '$r'"
	echo "${BASH_REMATCH[1]}"
}
# settle P1 [SECONDS]: polls CC P1 00 every 0.1 s while the state is 0001;
# prints the first other state and result
settle() {
	local s end=$((SECONDS + ${2:-15}))
	while :; do
		s=$(status "$1") || exit 1
		[ "${s:0:4}" = 0001 ] || break
		[ $SECONDS -lt $end ] || fail "CC $1 00: still 0001 after ${2:-15} s ($s)"
		sleep 0.1
	done
	echo "$s"
}
# expect_final P1 REGEX WHAT: the state and result the request ends in match REGEX
expect_final() {
	local s
	s=$(settle "$1")
	[[ "$s" =~ ^($2)$ ]] || fail "$3: expected state and result $2, got $s"
	FINAL=$s
}
# start_config [PORT [DEVID [EF]]]: CA 00 00 answers the descriptor of
# that request line, zero-padded to 256 bytes, and 9000
start_config() {
	local desc hex
	desc="127.0.0.1:${1:-$DEVICE_PORT}/v1/config/${2:-$DEVID}?iccid=${3:-$ICCID_EF}"
	hex=$(hexof "$desc")
	while [ ${#hex} -lt 512 ]; do hex=${hex}00; done
	expect_card 01CA000000 "${hex}9000"
}
# telemetry TEXT: the APDU DA 02 C1 queueing TEXT, on channel 1
telemetry() { printf '01DA02C1%02X%s' ${#1} "$(hexof "$1")"; }
# attempts: the number of configuration attempts in ztp-sim's log
attempts() { grep -c 'ztp-sim debug: configuration attempt: ' "$T/sim.log" || true; }
SEED_HEX=$(hexof "$SEED_CONFIG")

# ---- ztpd: the seed's SIM with its configuration, a second SIM without;
# then ztpd stops, and its device port is chosen for it to come back on
start_ztpd
setup_seed_sim
[ "$(admin POST /v1/sims "{\"iccid\":\"$ICCID2\",\"psk\":\"$PSK2\"}" | tail -1)" = 201 ] ||
	fail "cannot create the second SIM"
stop_ztpd
DOWN_PORT=$(free_port)
ok "ztpd set up (the seed's SIM and configuration, SIM $ICCID2 without one) and stopped"

# ---- nothing listens, two attempts at most: 000F/FF03
DEVICE_PORT=$DOWN_PORT
new_sim '{max_attempts: 2}'
before=$(attempts)
start_config
expect_final 02 000FFF03 "two attempts to a closed port"
[ $(($(attempts) - before)) = 2 ] || fail "gave up after $(($(attempts) - before)) attempts, not 2"
refused=$(grep 'configuration attempt: ' "$T/sim.log" | tail -2 |
	grep -c ': 127\.0\.0\.1, no handshake, no cipher, .*, 0 bytes in, 0 bytes out$' || true)
[ "$refused" = 2 ] || fail "refused connections: not 0 bytes in and out: $(grep 'configuration attempt' "$T/sim.log" | tail -2)"
ok "max_attempts 2, nothing listening: 000F/FF03 after 2 attempts, each 0 bytes in and out"

# ---- the server is down, then comes up: 0001/0000 all along while the
# applet retries (spec section 4: the result of 0001 is 0000), polled at
# least three times and until at least three attempts have failed
new_sim '{max_attempts: 0}'
before=$(attempts)
start_config
expect_card "$(telemetry temp=21.5)" 9000
s=$(status 01)
[ "$s" = 00010000 ] || fail "telemetry with the server down: expected 0001/0000, got $s"
expect_card "$(telemetry door=open)" 6985 # a POST is in progress
polls=0
end=$((SECONDS + 30))
while [ $(($(attempts) - before)) -lt 3 ] || [ $polls -lt 3 ]; do
	s=$(status 02)
	[ "$s" = 00010000 ] ||
		fail "server down, after $(($(attempts) - before)) failed attempts: expected 0001/0000, got $s"
	polls=$((polls + 1))
	[ $SECONDS -lt $end ] || fail "server down: fewer than 3 attempts in 30 s"
	sleep 0.1
done
failed=$(($(attempts) - before))
s=$(status 02)
[ "$s" = 00010000 ] || fail "server down, after $failed failed attempts: expected 0001/0000, got $s"
s=$(status 01)
[ "$s" = 00010000 ] || fail "telemetry, server down, retrying: expected 0001/0000, got $s"
ok "server down: 0001/0000 at each of $((polls + 1)) polls while $failed attempts failed and the applet retried; telemetry 0001/0000, a second DA 02 C1 6985"

start_ztpd --device-listen "127.0.0.1:$DOWN_PORT"
[ "$DEVICE_PORT" = "$DOWN_PORT" ] || fail "ztpd listens on $DEVICE_PORT, not $DOWN_PORT"
export ADMIN_TOKEN; ADMIN_TOKEN=$(admin_token) # after the restart
expect_final 02 00070000 "server back"
expect_card 01CA010000 "${SEED_HEX}9000"
expect_card 01CA010000 6A88
expect_final 01 00030000 "telemetry, server back"
[ "$(db "SELECT count(*) FROM telemetry WHERE iccid='$ICCID'"):$(db "SELECT body FROM telemetry WHERE iccid='$ICCID'")" = "1:temp=21.5" ] ||
	fail "telemetry: expected the one POST temp=21.5 stored: $(db "SELECT body FROM telemetry")"
ok "ztpd comes up on that port: 0007 and the seed's body, then 6A88; telemetry 0003, stored once"

# ---- 200, then 304 from the kept body, with fewer bytes in
new_sim '{}'
start_config
expect_final 02 00070000 "first fetch"
expect_card 01CA010000 "${SEED_HEX}9000"
start_config
expect_final 02 00070000 "second fetch"
expect_card 01CA010000 "${SEED_HEX}9000"
expect_card 01CA010000 6A88
re='configuration attempt: .*, status ([0-9]+), ([0-9]+) bytes in, ([0-9]+) bytes out$'
l200=$(grep 'configuration attempt: ' "$T/sim.log" | tail -2 | head -1)
l304=$(grep 'configuration attempt: ' "$T/sim.log" | tail -1)
[[ "$l200" =~ $re ]] && [ "${BASH_REMATCH[1]}" = 200 ] || fail "first fetch: not a 200: $l200"
in200=${BASH_REMATCH[2]} out200=${BASH_REMATCH[3]}
[[ "$l304" =~ $re ]] && [ "${BASH_REMATCH[1]}" = 304 ] || fail "second fetch: ztpd did not answer 304: $l304"
in304=${BASH_REMATCH[2]} out304=${BASH_REMATCH[3]}
[ "$in304" -lt "$in200" ] || fail "304: $in304 bytes in, not fewer than the 200's $in200"
[ "$in304" -gt 0 ] || fail "304: no bytes in"
# the second request carries If-None-Match
[ "$out304" -gt "$out200" ] || fail "304: $out304 bytes out, not more than the 200's $out200"
ok "200, then 304 served from the kept body byte for byte: $in200 then $in304 bytes in, $out200 then $out304 out"

# ---- blocked: 403
[ "$(admin POST "/v1/sims/$ICCID/block" | tail -1)" = 200 ] || fail "cannot block the SIM"
n=$(ev_count blocked_sim)
start_config
expect_final 02 000F0193 "blocked SIM"
expect_card 01CA010000 6985
expect_new_event blocked_sim "$n"
[ "$(admin POST "/v1/sims/$ICCID/unblock" | tail -1)" = 200 ] || fail "cannot unblock the SIM"
ok "a blocked SIM: 000F/0193, no data (6985), blocked_sim recorded"

# ---- another Device ID: 409
n=$(ev_count rebind_refused)
new_sim '{device_id: "AABBCCDD"}'
start_config "$DEVICE_PORT" AABBCCDD
expect_final 02 000F0199 "another Device ID"
expect_new_event rebind_refused "$n"
ok "the SIM bound to another Device ID: 000F/0199, rebind_refused recorded"

# ---- TLS alerts: a wrong PSK, an unknown ICCID
new_sim "{psk: \"$(openssl rand -hex 32)\"}"
start_config
expect_final 02 '000F012F|000F0133' "wrong PSK"
wrong=$FINAL
unknown=8944502509186389999
new_sim "{iccid: \"$unknown\"}"
start_config "$DEVICE_PORT" "$DEVID" "$(ef_of $unknown)"
expect_final 02 '000F0128|000F0173' "unknown ICCID"
ok "wrong PSK: $wrong; unknown ICCID: $FINAL"

# ---- no configuration: 204
new_sim "{iccid: \"$ICCID2\", psk: \"$PSK2\"}"
start_config "$DEVICE_PORT" "$DEVID" "$(ef_of $ICCID2)"
expect_final 02 00030000 "no configuration"
expect_card 01CA010000 6985
ok "no configuration: 0003/0000, CA 01 00 6985"

# ---- a body over 255 bytes, from openssl s_server (the ASCII identity)
CANNED_PORT=$(free_port)
big=$(head -c 300 /dev/zero | tr '\0' x)
(
	printf 'HTTP/1.1 200 OK\r\nContent-Length: 300\r\nConnection: close\r\n\r\n%s' "$big"
	sleep 10
) 2>/dev/null | timeout 20 openssl s_server -tls1_3 -psk "$PSK" -psk_identity "$ICCID" -nocert -naccept 1 \
	-accept "127.0.0.1:$CANNED_PORT" -quiet >"$T/s_server.out" 2>&1 &
HELPERS+=($!)
wait_listen "$CANNED_PORT"
new_sim "{port: $CANNED_PORT, identity: \"$(hexof "$ICCID")\", max_attempts: 1}"
start_config "$CANNED_PORT"
expect_final 02 000FFF02 "a 300-byte body"
expect_card 01CA010000 6985
grep -q "^GET /v1/config/$DEVID?iccid=$ICCID_EF HTTP/1.1" "$T/s_server.out" ||
	fail "s_server did not get the request: $(head -c 300 "$T/s_server.out")"
ok "a 300-byte body from s_server: 000F/FF02, CA 01 00 6985"

stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
echo "test_sim_states: all checks passed"
