#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Time to configuration: from the start of a fresh virtual SIM (ztp-sim on
# a new SIM file, psk_ke as a SIM does it) to the exit of the alarm
# application with "configured", through the modem's AT+CSIM, the SAFE2
# applet, TLS 1.3 PSK and the device endpoint:
#
#   ztp-sim --sim NEW_FILE --psk-ke  &&  alarm --once --poll 0.1 --device PTY --device-id HEX
#
# One ztpd serves every run. The baseline, run between the runs, is
# ztp-bench fetching the same configuration alone the way the SIM does
# (one connection, psk_ke, EF_ICCID identity, TLS_AES_128_CCM_SHA256):
# the ratio says how much the modem and applet path adds to a fetch.
#
# A run that fails is reported (failed_runs; its logs and AT trace are in
# the results file) and replaced, up to RUNS extra attempts.
#
# usage: bash bench/time_to_config.sh BUILD_DIR
# env:   BENCH_TTC_RUNS (10)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_TTC_RUNS:-10}
for b in "$ZTPSIM" "$ALARM"; do
	[ -x "$b" ] || die "$b is missing (build first)"
done

echo "== time to configuration: ztp-sim + alarm --once, $RUNS runs, ztp-bench single fetches between them"
start_ztpd ttc --allow-psk-ke
setup_seed ttc
PORT=${ZTPD_PORT[ttc]}
mkdir -p "$T/runs"

# a SIM as it leaves the factory: locked, personalised with this run's PSK
write_sim() {
	jq -n --arg iccid "$ICCID" --argjson port "$PORT" --arg psk "$PSK" \
		'{iccid: $iccid, host: "127.0.0.1", port: $port, psk: $psk, psk_generation: 0,
		  locked: true}' >"$1"
	chmod 600 "$1"
}

ms_since() { echo "($2 - $1) * 1000" | bc -l; }

ttc=()
starts=()
runs=()
failed=0
i=0
# a failed run (which should not happen) is kept with its logs and AT trace,
# reported, and replaced: at most RUNS more attempts
while [ "${#ttc[@]}" -lt "$RUNS" ] && [ "$i" -lt $((2 * RUNS)) ]; do
	i=$((i + 1))
	f=$T/runs/fetch-$i.json
	"$ZTPBENCH" --port "$PORT" --iccid "$ICCID" --psk "$PSK" --kex psk_ke --identity bcd \
		-c 1 -n 3 --server-pid "${ZTPD_PID[ttc]}" --label "single_fetch" --json "$f" --quiet ||
		die "ztp-bench could not fetch the configuration"
	runs+=("$f")

	write_sim "$T/sim-$i.json"
	: >"$T/sim-$i.out"
	t0=$EPOCHREALTIME
	"$ZTPSIM" --sim "$T/sim-$i.json" --psk-ke --trace "$T/trace-$i" >"$T/sim-$i.out" \
		2>"$T/sim-$i.log" &
	sim_pid=$!
	PIDS+=("$sim_pid")
	for _ in $(seq 1 1000); do
		[ -s "$T/sim-$i.out" ] && break
		kill -0 "$sim_pid" 2>/dev/null || die "ztp-sim exited at start"
		sleep 0.01
	done
	pty=$(head -1 "$T/sim-$i.out")
	[ -c "$pty" ] || die "ztp-sim did not print a pty: '$pty'"
	t1=$EPOCHREALTIME
	rc=0
	timeout 30 "$ALARM" --once --poll 0.1 --device "$pty" --device-id "$DEVID" \
		>"$T/alarm-$i.log" 2>&1 || rc=$?
	t2=$EPOCHREALTIME
	stop_pid "$sim_pid"
	if [ "$rc" -ne 0 ] || ! grep -q 'configured as ON' "$T/alarm-$i.log"; then
		failed=$((failed + 1))
		touch "$T/trace-$i" "$T/sim-$i.log"
		echo "bench: run $i failed after $(round "$(ms_since "$t0" "$t2")") ms (alarm exit $rc):" \
			"$(tail -1 "$T/alarm-$i.log")" >&2
		jq -n --argjson run "$i" --argjson rc "$rc" --argjson ms "$(ms_since "$t0" "$t2")" \
			--rawfile alarm "$T/alarm-$i.log" --rawfile sim "$T/sim-$i.log" \
			--rawfile trace "$T/trace-$i" \
			'{label: "time_to_config_failed", run: $run, alarm_exit: $rc, ms: $ms,
			  alarm_log: $alarm, sim_log: $sim, at_trace: $trace}' >"$T/runs/ttc-$i.json"
		runs+=("$T/runs/ttc-$i.json")
		continue
	fi
	ttc+=("$(ms_since "$t0" "$t2")")
	starts+=("$(ms_since "$t0" "$t1")")
	printf '  run %2d: %7.1f ms to configuration (ztp-sim up after %5.1f ms); single fetch p50 %.2f ms\n' \
		"$i" "${ttc[-1]}" "${starts[-1]}" "$(jq .latency_p50 "$f")"
	jq -n --argjson run "$i" --argjson ms "${ttc[-1]}" --argjson start "${starts[-1]}" \
		'{label: "time_to_config", run: $run, time_to_config_ms: $ms, sim_start_ms: $start}' \
		>"$T/runs/ttc-$i.json"
	runs+=("$T/runs/ttc-$i.json")
done
[ "${#ttc[@]}" -eq "$RUNS" ] || die "only ${#ttc[@]} of $RUNS runs succeeded in $i attempts"

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
t_med=$(median "${ttc[@]}")
t_min=$(printf '%s\n' "${ttc[@]}" | sort -g | head -1)
t_max=$(printf '%s\n' "${ttc[@]}" | sort -g | tail -1)
fetch=$(median_of latency_p50 "$T"/runs/fetch-*.json)
fig time_to_config_p50 "$(round "$t_med")" "ms"
fig time_to_config_min "$(round "$t_min")" "ms"
fig time_to_config_max "$(round "$t_max")" "ms"
fig sim_start_p50 "$(round "$(median "${starts[@]}")")" "ms"
fig single_fetch_p50 "$(round "$fetch" 3)" "ms"
fig single_fetch_handshake_p50 "$(round "$(median_of handshake_p50 "$T"/runs/fetch-*.json)" 3)" "ms"
fig ratio_time_to_config_vs_fetch "$(ratio "$t_med" "$fetch" 1)" "x"
fig alarm_poll_interval 100 "ms"
fig runs "$RUNS" "runs"
fig failed_runs "$failed" "runs"

finish time_to_config "${runs[@]}"
