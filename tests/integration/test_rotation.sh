#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# PSK rotation over the air (spec safe2.md section 6) with the real parts:
# ztpd, ztpctl's admin API and ztp-sim through its pty. A rotation asked
# for by the operator is offered in ZTP-PSK-Rotate, derived on both sides
# from the TLS exporter, kept pending, committed by the first handshake
# with it; the old key is refused afterwards (stale_key). Then the crash
# tests: ztpd killed at each step of a rotation, and ztp-sim killed at each
# step (fault points, ZTP_FAULT=name): after restarts the SIM connects
# again every time, and both sides agree on the generation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sim.sh"

SELECT=01A4040C0CF0706F646773616665320101
CHAT=$SRC/tests/integration/pty_chat.py

# chat LINE...: like at, but a dead modem is an answer ("dead"), not a failure
chat() { ZTP_SIM_PID=$SIM_PID python3 "$CHAT" "$PTY" "$@" 2>/dev/null || echo dead; }

# round: one configuration fetch through the pty, as the alarm does it;
# prints the final state (0007, 0003, 000F/xxxx) or "dead"
round() {
	local r i
	r=$(chat ATE0 'AT+CSIM=10,"0070000001"' "AT+CSIM=34,\"$SELECT\"" \
		"AT+CSIM=42,\"01DA02C010$DEVID\"" 'AT+CSIM=10,"01CA000000"')
	case "$r" in *dead*) echo dead; return ;; esac
	for i in $(seq 1 100); do
		r=$(chat 'AT+CSIM=10,"01CC020000"')
		case "$r" in
		*dead*) echo dead; return ;;
		*'"00070000'*) chat 'AT+CSIM=10,"01CA010000"' 'AT+CSIM=10,"0070800100"' >/dev/null; echo 0007; return ;;
		*'"00030000'*) chat 'AT+CSIM=10,"0070800100"' >/dev/null; echo 0003; return ;;
		*'"000F'*) chat 'AT+CSIM=10,"0070800100"' >/dev/null; echo "000F/${r:25:4}"; return ;;
		esac
		kill -0 "$SIM_PID" 2>/dev/null || { echo dead; return; }
		sleep 0.1
	done
	echo timeout
}

# the SIM file's key generation and pending generation (sim_get: a missing
# or empty file fails the test rather than reading as some value)
sim_gen() { sim_get .psk_generation; }
sim_pending() { sim_get '.pending_generation // 0'; }
srv_gen() { db "SELECT psk_generation FROM sims WHERE iccid='$ICCID'"; }
srv_pending() { db "SELECT pending_psk IS NOT NULL FROM sims WHERE iccid='$ICCID'"; }

# restart_ztpd [env...]: ztpd again on the same ports (a fault point maybe
# armed: then ZTPD=$ZTPD_FAULT for the call)
restart_ztpd() {
	stop_ztpd
	env "$@" "$ZTPD" --data "$DATA" --device-listen "127.0.0.1:$DEVICE_PORT" \
		--admin-listen "127.0.0.1:$ADMIN_PORT" --workers 1 >>"$T/ztpd.log" 2>&1 &
	ZTPD_PID=$!
	for _ in $(seq 1 100); do
		if [ -n "$(ss -ltnH "sport = :$DEVICE_PORT" 2>/dev/null)" ] &&
			[ "$(jq -r .pid "$DATA/run.json" 2>/dev/null)" = "$ZTPD_PID" ]; then
			ztpd_children
			return 0
		fi
		sleep 0.05
	done
	fail "ztpd did not come back on port $DEVICE_PORT"
}
# restart_sim [env...]: ztp-sim again on the same SIM file (a card reset)
restart_sim() {
	stop_sim
	: >"$T/sim.out"
	env "$@" "$SIM" --sim "$T/sim.json" --verbose >"$T/sim.out" 2>>"$T/sim.log" &
	SIM_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$T/sim.out" ] && break
		sleep 0.05
	done
	PTY=$(head -1 "$T/sim.out")
	[ -c "$PTY" ] || fail "ztp-sim did not come back"
}

start_ztpd --workers 1
setup_seed_sim
write_sim_file
start_sim
[ "$(round)" = 0007 ] || fail "the first fetch failed"
ok "the seed's SIM fetches its configuration (generation 0)"

# ---- one rotation, step by step
[ "$(admin POST "/v1/sims/$ICCID/rotate" | head -1 | jq -r .rotation_pending)" = true ] ||
	fail "rotate: rotation_pending is not true"
[ "$(round)" = 0007 ] || fail "the fetch that gets the offer failed"
[ "$(sim_pending)" = 1 ] || fail "the SIM did not keep generation 1 pending: $(cat "$T/sim.json")"
[ "$(sim_gen)" = 0 ] || fail "the SIM committed too early"
[ "$(srv_pending)" = 1 ] && [ "$(srv_gen)" = 0 ] || fail "the server did not keep the pending key"
pending_psk=$(sim_get .pending_psk)
[[ "$pending_psk" =~ ^[0-9A-Fa-f]{64}$ ]] || fail "the SIM file's pending key is not 32 bytes of hex"
grep -qi "$pending_psk" "$T/sim.log" "$T/ztpd.log" && fail "a key is in a log"
ok "offered: both sides keep generation 1 pending, the current key is still 0"

[ "$(round)" = 0007 ] || fail "the fetch with the pending key failed"
[ "$(sim_gen)" = 1 ] && [ "$(sim_pending)" = 0 ] || fail "the SIM did not commit: $(cat "$T/sim.json")"
[ "$(srv_gen)" = 1 ] && [ "$(srv_pending)" = 0 ] || fail "the server did not commit"
expect_event psk_rotated
show=$(admin GET "/v1/sims/$ICCID" | head -1)
json_true - '.psk_generation == 1 and .rotation_pending == false' <<<"$show" ||
	fail "sim show after the commit: $show"
ok "committed by the first handshake with it: generation 1 on both sides, psk_rotated event"

n=$(ev_count stale_key)
out=$(s_client_get "$(config_path)") || true
[ -z "$out" ] || fail "the old key (generation 0) still works"
expect_new_event stale_key "$n"
[ "$(round)" = 0007 ] || fail "the SIM cannot connect with its new key"
ok "the old key is refused and recorded (stale_key); the SIM goes on with the new one"

# ---- a group's rotation period starts rotations by itself
ICCID3=8944502509186380036
EF3=$(printf '%s' "${ICCID3}F" | sed 's/\(.\)\(.\)/\2\1/g')
[ "$(admin POST /v1/groups '{"name":"monthly","rotation_period_s":1}' | tail -1)" = 201 ] ||
	fail "cannot create a group with a rotation period"
[ "$(admin POST /v1/sims "{\"iccid\":\"$ICCID3\",\"psk\":\"$PSK\",\"group\":\"monthly\"}" | tail -1)" = 201 ] ||
	fail "cannot create a SIM in the group"
sleep 1.2
resp=$(S_ID=$ICCID3 s_client_get "$(config_path AA "$EF3")")
grep -q '^ZTP-PSK-Rotate: 1' <<<"$resp" || fail "no rotation offered after the group's period: $resp"
[ "$(db "SELECT pending_psk IS NOT NULL FROM sims WHERE iccid='$ICCID3'")" = 1 ] ||
	fail "the offered key was not kept pending"
ok "a group's rotation period offers a new key by itself (ZTP-PSK-Rotate: 1)"

# ---- crash tests: each process killed at each step of a rotation
converge() { # the SIM connects again, and both sides agree, within a few rounds
	local i r gen
	for i in $(seq 1 6); do
		r=$(round)
		[ "$r" = dead ] && fail "$1: ztp-sim died without a fault armed"
		if [ "$r" = 0007 ] && [ "$(sim_pending)" = 0 ] && [ "$(srv_pending)" = 0 ] &&
			[ "$(sim_gen)" = "$(srv_gen)" ] && [ "$(srv_gen)" -gt "$2" ]; then
			return 0
		fi
	done
	fail "$1: no agreement after 6 rounds: SIM gen $(sim_gen) pending $(sim_pending), server gen $(srv_gen) pending $(srv_pending), last round $r"
}

for fault in server_before_pending server_after_pending server_before_commit server_after_commit; do
	gen=$(srv_gen)
	admin POST "/v1/sims/$ICCID/rotate" >/dev/null
	ZTPD=$ZTPD_FAULT restart_ztpd ZTP_FAULT=$fault
	front=$FRONT_PID
	for _ in $(seq 1 4); do
		round >/dev/null
		kill -0 "$front" 2>/dev/null || break
	done
	kill -0 "$front" 2>/dev/null && fail "$fault: the front did not reach its fault point"
	restart_ztpd
	export ADMIN_TOKEN=$(admin_token)
	converge "$fault" "$gen"
	ok "the front killed at $fault: the SIM connects again, both at generation $(srv_gen)"
done

for fault in sim_before_pending sim_after_pending sim_before_commit sim_after_commit; do
	gen=$(srv_gen)
	admin POST "/v1/sims/$ICCID/rotate" >/dev/null
	SIM=$SIM_FAULT restart_sim ZTP_FAULT=$fault
	for _ in $(seq 1 4); do
		[ "$(round)" = dead ] && break
	done
	kill -0 "$SIM_PID" 2>/dev/null && fail "$fault: ztp-sim did not reach its fault point"
	jq -s -e 'length == 1 and (.[0] | type) == "object"' "$T/sim.json" >/dev/null ||
		fail "$fault: the SIM file is not one JSON object"
	restart_sim
	converge "$fault" "$gen"
	ok "ztp-sim killed at $fault: the SIM connects again, both at generation $(srv_gen)"
done
# ---- a SIM of a derived group: after its rotation, no derived key opens it
ICCID4=8944502509186380044
EF4=$(printf '%s' "${ICCID4}F" | sed 's/\(.\)\(.\)/\2\1/g')
M=$(admin POST /v1/groups '{"name":"derived","iccid_prefix":"89445025091863800","derive":true}' |
	head -1 | jq -r .master_key)
[ ${#M} = 64 ] || fail "no generated master key"
hmac() { python3 -c 'import hmac, hashlib, sys; print(hmac.new(bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), hashlib.sha256).hexdigest())' "$1" "$2"; }
K_EF=$(hmac "$M" "$EF4")
K_ASCII=$(hmac "$M" "$(printf '%s' "$ICCID4" | xxd -p)")
jq -n --arg iccid "$ICCID4" --argjson port "$DEVICE_PORT" --arg psk "$K_EF" \
	'{iccid: $iccid, host: "127.0.0.1", port: $port, psk: $psk, psk_generation: 0, locked: true,
	  retry_base_ms: 200, retry_max_ms: 1000}' >"$T/sim.json"
chmod 600 "$T/sim.json"
restart_sim
[ "$(round)" = 0003 ] || fail "the derived SIM did not connect (no configuration: 0003)"
[ "$(admin GET "/v1/sims/$ICCID4" | head -1 | jq -r .derived)" = true ] || fail "not registered as derived"
out=$(S_ID=$ICCID4 S_PSK=$K_ASCII s_client_get "$(config_path "$DEVID" "$EF4")")
[ "$(echo "$out" | status_of)" = 204 ] || fail "the ASCII identity's derived key was refused before rotation"
admin POST "/v1/sims/$ICCID4/rotate" >/dev/null
round >/dev/null
round >/dev/null
[ "$(db "SELECT psk_generation FROM sims WHERE iccid='$ICCID4'")" = 1 ] || fail "the derived SIM did not rotate"
[ "$(round)" = 0003 ] || fail "the derived SIM cannot connect after its rotation"
n=$(ev_count stale_key)
out=$(S_ID=$ICCID4 S_PSK=$K_ASCII s_client_get "$(config_path "$DEVID" "$EF4")") || true
[ -z "$out" ] || fail "a derived key still opens the SIM after its rotation"
expect_new_event stale_key "$n"
ok "a derived SIM rotates like any other; afterwards no derived key opens it (stale_key)"
echo "rotation: all checks passed"
