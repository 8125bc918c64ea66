# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# Helpers of the attack tests (sourced after lib.sh; issue 11): ztp-attack
# (bench/ztp-attack.c) run in the background by name, its progress lines,
# its measuring side, and the figures of its outputs. Every attacker started
# here is stopped by its pid on exit, before ztpd.

ATTACK=$BUILD/bench/ztp-attack
[ -x "$ATTACK" ] || fail "$ATTACK is missing (it is built with the bench targets)"
# the attackers' source addresses; the legitimate callers stay on 127.0.0.1
# shellcheck disable=SC2034 # used by the tests
ATTACK_SRC=127.0.0.2-127.0.0.250
declare -A ATTACK_PID

attack_cleanup() {
	local rc=$? n
	set +e
	for n in "${!ATTACK_PID[@]}"; do
		stop_attack "$n" >/dev/null 2>&1
	done
	(exit $rc)
	cleanup
}
trap attack_cleanup EXIT

# start_attack NAME MODE ARGS...: ztp-attack MODE ARGS --progress in the
# background; its summary goes to $T/NAME.out, its progress to $T/NAME.err
start_attack() {
	local name=$1
	shift
	"$ATTACK" "$@" --progress >"$T/$name.out" 2>"$T/$name.err" &
	ATTACK_PID[$name]=$!
}

# stop_attack NAME: SIGTERM (it prints its summary), 10 s to exit, then SIGKILL
stop_attack() {
	local pid=${ATTACK_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "ATTACK_PID[$1]"
}

# wait_attack NAME SECONDS: until the attacker exits by itself; fails after SECONDS
wait_attack() {
	local pid=${ATTACK_PID[$1]}
	for _ in $(seq 1 $(($2 * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "$1 still running after $2 s"
	wait "$pid" || fail "$1 failed: $(tail -3 "$T/$1.err")"
	unset "ATTACK_PID[$1]"
}

# progress_of NAME FIELD: FIELD of NAME's last progress line (0 before the first)
progress_of() {
	local v
	v=$(grep '^progress:' "$T/$1.err" 2>/dev/null | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p")
	echo "${v:-0}"
}

# wait_progress NAME FIELD MIN SECONDS: until FIELD >= MIN; fails after SECONDS
wait_progress() {
	for _ in $(seq 1 $(($4 * 10))); do
		[ "$(progress_of "$1" "$2")" -ge "$3" ] && return 0
		kill -0 "${ATTACK_PID[$1]}" 2>/dev/null || fail "$1 exited: $(tail -3 "$T/$1.err")"
		sleep 0.1
	done
	fail "$1: $2 did not reach $3 within $4 s (last: $(grep '^progress:' "$T/$1.err" | tail -1))"
}

# figure FILE NAME: the value of "NAME: value unit" in FILE
figure() {
	local v
	v=$(sed -n "s/^$2: \([^ ]*\).*/\1/p" "$1" | tail -1)
	[ -n "$v" ] || fail "no $2 in $1: $(head -c 300 "$1")"
	echo "$v"
}

# measure OUT ARGS...: the measuring side (ztp-attack measure ARGS) with the
# seed SIM's fetch and an admin GET; its figures go to OUT. Never fails by
# itself: the test asserts on the figures.
measure() {
	local out=$1
	shift
	"$ATTACK" measure --device "127.0.0.1:$DEVICE_PORT" --iccid "$ICCID" --psk "$PSK" \
		--admin "127.0.0.1:$ADMIN_PORT" --token "$ADMIN_TOKEN" --timeout 5 "$@" \
		>"$out" 2>"$out.err" || true
	[ -s "$out" ] || fail "measure printed nothing: $(tail -3 "$out.err")"
}

# measure_fetch OUT ARGS...: the same, the device side only
measure_fetch() {
	local out=$1
	shift
	"$ATTACK" measure --device "127.0.0.1:$DEVICE_PORT" --iccid "$ICCID" --psk "$PSK" \
		--timeout 5 "$@" >"$out" 2>"$out.err" || true
	[ -s "$out" ] || fail "measure printed nothing: $(tail -3 "$out.err")"
}

# rss_mb PID: VmRSS of PID in MB (integer)
rss_mb() { awk '$1 == "VmRSS:" { printf "%d\n", $2 / 1024 }' "/proc/$1/status"; }

# show_attack NAME: its summary, indented, for the log
show_attack() { sed "s/^/  $1: /" "$T/$1.out"; }
