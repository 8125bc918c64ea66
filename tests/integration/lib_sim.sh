# SPDX-License-Identifier: Apache-2.0
# Helpers of the ztp-sim integration tests (sourced after lib.sh): start
# and stop ztp-sim on a SIM file, talk AT to its pty, exchange APDUs as a
# device application does in either card mode, poll the applet, read JSON
# files strictly.
#
# SIM_MODE (environment): "default", or "t0" for a T=0 card: start_sim
# then runs ztp-sim with --t0, and card/expect_card fetch the data that a
# 61xx answer announces with GET RESPONSE, as the public SAFE2 device
# library does. A script written with card/expect_card runs unchanged in
# both modes (the CTest entries integration.test_sim_seed_t0 and _states_t0 set SIM_MODE=t0).
SIM=$BUILD/ztp-sim
[ -x "$SIM" ] || fail "no ztp-sim at $SIM"
SIM_FAULT=$BUILD/ztp-sim-fault # with fault points: for ZTP_FAULT=sim_*
SIM_PID=""
SIM_MODE=${SIM_MODE:-default}
case $SIM_MODE in
default | t0) ;;
*) fail "SIM_MODE: default or t0, not '$SIM_MODE'" ;;
esac
# on exit: stop ztp-sim, show its log if the test failed, then lib.sh's cleanup
sim_cleanup() {
	local rc=$?
	set +e # (exit $rc) below must not end the trap before cleanup
	stop_sim
	if [ $rc -ne 0 ] && [ -f "$T/sim.log" ]; then
		echo "---- ztp-sim log (last 40 lines) ----" >&2
		tail -n 40 "$T/sim.log" >&2
	fi
	(exit $rc)
	cleanup
}
trap sim_cleanup EXIT

# The pty driver: opens the pty (a new open per call, as a device
# application that closes and reopens the port), then for each LINE sends
# it and reads the answer up to its final result code with a deadline,
# after the last one 50 ms more to catch any stray byte, and prints each
# answer on a line of its own with CR, LF and other control bytes escaped
# (\r, \n, \xNN). Exit 1 on a deadline, with what it got.

# at LINE...: the escaped answer to each LINE, one per line
at() {
	local r
	r=$(ZTP_SIM_PID=$SIM_PID python3 "$SRC/tests/integration/pty_chat.py" "$PTY" "$@") || fail "$*: no final result code within 10 s, got '$r'"
	printf '%s\n' "$r"
}
# expect_at LINE ANSWER: the answer is exactly ANSWER (escaped as at prints it)
expect_at() {
	local got
	got=$(at "$1")
	[ "$got" = "$2" ] || fail "$1: expected '$2', got '$got'"
}
# csim APDU: the escaped answer to AT+CSIM with APDU (hex), in the seed's lower case
csim() { at "at+csim=${#1},\"$1\""; }
# expect_csim APDU RESPONSE: +CSIM: <n>,"RESPONSE", an empty line, OK
expect_csim() { expect_at "at+csim=${#1},\"$1\"" "\\r\\n+CSIM: ${#2},\"$2\"\\r\\n\\r\\nOK\\r\\n"; }
hexof() { printf '%s' "$1" | xxd -p -u | tr -d '\n'; }
# csim_hex: the hex of the escaped +CSIM answer on stdin, status word
# included ("" if there is none, or if its length is not the count of hex
# characters that follow)
csim_hex() {
	local line
	IFS= read -r line || true
	[[ "$line" =~ ^\\r\\n\+CSIM:\ ([0-9]+),\"([0-9A-F]*)\"\\r\\n\\r\\nOK\\r\\n$ ]] || return 0
	[ "${BASH_REMATCH[1]}" = "${#BASH_REMATCH[2]}" ] || return 0
	echo "${BASH_REMATCH[2]}"
}

# card APDU: the card's answer to APDU (hex: data and status word), as the
# device application ends up with it. Default mode: the +CSIM answer, which
# must not be 61xx. T=0 mode: a 61xx answer is followed by GET RESPONSE
# (CLA of the command, C0 00 00 xx), whose answer is returned; checked on
# the way, as ISO/IEC 7816-3 T=0 has it: GET RESPONSE returns exactly the
# xx bytes announced (00: 256), and data comes at once only to a case 2
# command whose Le (00: 256) is the data's length, through 61xx otherwise.
card() {
	local apdu=$1 raw r xx n le=""
	raw=$(csim "$apdu")
	r=$(csim_hex <<<"$raw")
	[ -n "$r" ] || fail "$apdu: no well-formed +CSIM answer: '$raw'"
	# the Le of a case 2 command (header and Le: 5 bytes)
	if [ ${#apdu} = 10 ]; then
		le=$((16#${apdu:8:2}))
		[ "$le" != 0 ] || le=256
	fi
	if [[ "$r" =~ ^61([0-9A-F]{2})$ ]]; then
		[ "$SIM_MODE" = t0 ] || fail "$apdu: 61xx ($r) from a card not in T=0 mode"
		xx=${BASH_REMATCH[1]}
		n=$((16#$xx))
		[ "$n" != 0 ] || n=256
		[ "$le" != "$n" ] || fail "$apdu: 61$xx, but Le is the length of the data: it should come at once"
		raw=$(csim "${apdu:0:2}C00000$xx")
		r=$(csim_hex <<<"$raw")
		[ ${#r} -ge 4 ] && [ $((${#r} / 2 - 2)) = "$n" ] ||
			fail "$apdu: 61$xx, then GET RESPONSE ${apdu:0:2}C00000$xx answers not $n bytes of data: '$raw'"
	elif [ ${#r} -gt 4 ] && [ "$SIM_MODE" = t0 ]; then
		[ "$le" = $((${#r} / 2 - 2)) ] ||
			fail "$apdu: $((${#r} / 2 - 2)) bytes at once from a T=0 card, to a command with ${le:+Le $le}${le:-no Le}: '$r'"
	fi
	echo "$r"
}
# expect_card APDU RESPONSE: card APDU answers RESPONSE (data and status word)
expect_card() {
	local got
	got=$(card "$1")
	[ "$got" = "$2" ] || fail "$1: expected '$2' ($SIM_MODE mode), got '$got'"
}

# sim_get FILTER: json_get of the SIM file
sim_get() { json_get "$T/sim.json" "$1"; }
# sim_true FILTER [jq options...]: json_true of the SIM file
sim_true() {
	local filter=$1
	shift
	json_true "$T/sim.json" "$filter" "$@"
}

write_sim_file() {
	jq -n --arg iccid "$ICCID" --argjson port "$DEVICE_PORT" --arg psk "$PSK" \
		'{iccid: $iccid, host: "127.0.0.1", port: $port, psk: $psk, psk_generation: 0,
		  locked: true, retry_base_ms: 200, retry_max_ms: 1000}' >"$T/sim.json"
	chmod 600 "$T/sim.json"
}

# start_sim [options]: ztp-sim on $T/sim.json with --link and --trace (and
# --t0 in SIM_MODE t0); sets PTY
start_sim() {
	local mode=()
	[ "$SIM_MODE" = default ] || mode=(--t0)
	: >"$T/sim.out"
	"$SIM" --sim "$T/sim.json" --link "$T/modem" --trace "$T/trace" --verbose "${mode[@]}" "$@" \
		>"$T/sim.out" 2>>"$T/sim.log" &
	SIM_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$T/sim.out" ] && break
		kill -0 "$SIM_PID" 2>/dev/null || fail "ztp-sim exited at start"
		sleep 0.05
	done
	PTY=$(head -1 "$T/sim.out")
	[ -c "$PTY" ] || fail "ztp-sim did not print a pty: '$PTY'"
	[ "$(readlink "$T/modem")" = "$PTY" ] || fail "--link does not point to $PTY"
}

# stop_sim: SIGTERM; SIM_RC gets its exit status (137 if it had to be killed)
stop_sim() {
	SIM_RC=""
	[ -n "$SIM_PID" ] || return 0
	kill -TERM "$SIM_PID" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$SIM_PID" 2>/dev/null || true
	SIM_RC=0
	wait "$SIM_PID" 2>/dev/null || SIM_RC=$?
	SIM_PID=""
}

# poll_config: CC 02 00 on channel 1 (card: with GET RESPONSE in T=0 mode)
# until data is available; every answer must be one of the seed's two
poll_config() {
	local r
	for _ in $(seq 1 100); do
		r=$(card 01CC020000)
		case "$r" in
		000700009000) return 0 ;;
		000100009000) sleep 0.1 ;;
		*) fail "poll: expected the seed's 000100009000 or 000700009000, got '$r'" ;;
		esac
	done
	fail "poll: no data after 10 s"
}

