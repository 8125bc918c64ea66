#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Registry scale: how fast SIMs go into ztpd's registry, and what a large
# registry costs the handshake (the PSK lookup) and ztpd's memory.
#
# The SIMs are FIRST .. FIRST+N-1 with PSK = SHA-256(ICCID digits), so that
# ztp-bench knows every key (ztp-bench --print-sims writes the list). They
# go in through what exists, fastest first:
#   ztpctl sim import FILE   if `ztpctl sim import --help` describes it
#   POST /v1/sims/import     batches of 5000 rows, if the admin API has it
#   POST /v1/sims            one per SIM, curl with keep-alive, 4 in parallel
# and the first BENCH_SINGLE_SIMS (2000) always one by one, to measure that
# path too. Every import step has a deadline (BENCH_IMPORT_SECONDS, 600 s);
# the SIMs actually in the registry are the ones used, and printed.
#
# Then, alternately (one connection, psk_ke, EF_ICCID identity as a SIM):
#   one SIM     every fetch the same SIM (its row hot in every cache)
#   N SIMs      every fetch a random SIM of the registry
# none has a configuration: the answer is 204. The handshake time is the
# PSK lookup's place; the fetch includes binding the Device ID at a SIM's
# first contact. Last, a loaded run (8 connections) over the N SIMs, and
# ztpd's VmRSS / VmHWM (/proc/PID/status).
#
# usage: bash bench/registry.sh BUILD_DIR
# env:   BENCH_SIMS (1000000, as the issue asks; 20000 for a quick run), BENCH_REG_ROUNDS (3),
#        BENCH_SECONDS (3), BENCH_SINGLE_SIMS (2000), BENCH_IMPORT_SECONDS (600)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

N=${BENCH_SIMS:-1000000}
ROUNDS=${BENCH_REG_ROUNDS:-3}
SECS=${BENCH_SECONDS:-3}
SINGLE=${BENCH_SINGLE_SIMS:-2000}
DEADLINE_S=${BENCH_IMPORT_SECONDS:-600}
FIRST=8944500000000000000
BATCH=5000
CHUNK=1000
[ "$SINGLE" -le "$N" ] || SINGLE=$N

echo "== registry: $N SIMs, handshake latency with one SIM and with all of them, ztpd's memory"
start_ztpd reg --allow-psk-ke
PID=${ZTPD_PID[reg]}
DATA=${ZTPD_DATA[reg]}
ADMIN=${ZTPD_ADMIN[reg]}
rss_start=$(rss_of "$PID" VmRSS)
"$ZTPBENCH" --iccid-range "$FIRST:$N" --print-sims >"$T/sims.csv"
[ "$(wc -l <"$T/sims.csv")" -eq "$N" ] || die "ztp-bench --print-sims did not print $N SIMs"
TOKEN=$(admin_token reg)
if [ -z "$TOKEN" ] || [ "$TOKEN" = null ]; then die "no admin token"; fi
import_start=$(date +%s)
over_deadline() { [ $(($(date +%s) - import_start)) -ge "$DEADLINE_S" ]; }

# post_single FROM COUNT: POST /v1/sims for lines FROM+1 .. FROM+COUNT of
# sims.csv, one curl with keep-alive connections, 4 transfers at a time;
# prints how many were created
post_single() {
	local cfg=$T/curl.cfg
	sed -n "$(($1 + 1)),$(($1 + $2))p" "$T/sims.csv" |
		awk -F, -v url="https://$ADMIN/v1/sims" -v tok="$TOKEN" -v ca="$DATA/ca.pem" '{
			print "next"
			print "url = \"" url "\""
			print "cacert = \"" ca "\""
			print "header = \"Authorization: Bearer " tok "\""
			print "header = \"Content-Type: application/json\""
			print "data = \"{\\\"iccid\\\":\\\"" $1 "\\\",\\\"psk\\\":\\\"" $2 "\\\"}\""
			print "output = \"/dev/null\""
			print "write-out = \"%{http_code}\\n\""
			print "max-time = 30"
		}' | sed '1d' >"$cfg"
	curl -sS --parallel --parallel-max 4 -K "$cfg" 2>>"$T/curl.log" | grep -c '^201$' || true
	rm -f "$cfg"
}

# post_batch FROM COUNT: POST /v1/sims/import with those lines; prints added + unchanged
post_batch() {
	sed -n "$(($1 + 1)),$(($1 + $2))p" "$T/sims.csv" |
		jq -R -n -c '{rows: [inputs | split(",") | {iccid: .[0], psk: .[1]}]}' >"$T/batch.json"
	curl -sS --max-time 120 --cacert "$DATA/ca.pem" -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' --data-binary "@$T/batch.json" \
		"https://$ADMIN/v1/sims/import" 2>>"$T/curl.log" |
		jq -r 'if (.refused // [] | length) > 0 then 0 else (.added // 0) + (.unchanged // 0) end' 2>/dev/null ||
		echo 0
}

# 1. one by one, the first SINGLE SIMs
done_n=0
t0=$EPOCHREALTIME
while [ "$done_n" -lt "$SINGLE" ] && ! over_deadline; do
	n=$((SINGLE - done_n < CHUNK ? SINGLE - done_n : CHUNK))
	got=$(post_single "$done_n" "$n")
	[ "$got" -eq "$n" ] || die "POST /v1/sims created $got of $n SIMs (see $T/curl.log)"
	done_n=$((done_n + n))
done
single_rate=$(echo "$done_n / ($EPOCHREALTIME - $t0)" | bc -l)
printf '  POST /v1/sims, one SIM each: %d SIMs, %.0f SIMs/s\n' "$done_n" "$single_rate"

# 2. the rest, the fastest way there is
if "$ZTPCTL" sim import --help 2>&1 | grep -q 'sim import'; then
	method=ztpctl_sim_import
elif [ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$DATA/ca.pem" \
	-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"rows":[]}' \
	"https://$ADMIN/v1/sims/import")" = 400 ]; then
	method=admin_batch_import
else
	method=admin_post_each
fi
rest=$((N - done_n))
t0=$EPOCHREALTIME
if [ "$rest" -gt 0 ] && ! over_deadline; then
	case $method in
	ztpctl_sim_import)
		tail -n +"$((done_n + 1))" "$T/sims.csv" >"$T/rest.csv"
		timeout "$DEADLINE_S" env ZTP_ADMIN="$DATA/admin.json" "$ZTPCTL" sim import "$T/rest.csv" \
			>"$T/import.log" 2>&1 || echo "bench: ztpctl sim import failed: $(tail -2 "$T/import.log")" >&2
		# the import is in file order: the registry holds a prefix of the list
		done_n=$(sqlite3 -readonly "$DATA/ztp.db" "SELECT count(*) FROM sims WHERE iccid >= '$FIRST'")
		;;
	admin_batch_import)
		while [ "$done_n" -lt "$N" ] && ! over_deadline; do
			n=$((N - done_n < BATCH ? N - done_n : BATCH))
			got=$(post_batch "$done_n" "$n")
			[ "$got" -eq "$n" ] || die "POST /v1/sims/import took $got of $n SIMs (see $T/curl.log)"
			done_n=$((done_n + n))
		done
		;;
	admin_post_each)
		while [ "$done_n" -lt "$N" ] && ! over_deadline; do
			n=$((N - done_n < CHUNK ? N - done_n : CHUNK))
			got=$(post_single "$done_n" "$n")
			[ "$got" -eq "$n" ] || die "POST /v1/sims created $got of $n SIMs (see $T/curl.log)"
			done_n=$((done_n + n))
		done
		;;
	esac
fi
imported=$((done_n - SINGLE))
import_rate=$(echo "$imported / ($EPOCHREALTIME - $t0)" | bc -l)
[ "$imported" -gt 0 ] || import_rate=0
printf '  %s: %d SIMs, %.0f SIMs/s\n' "$method" "$imported" "$import_rate"

K=$done_n
in_db=$(sqlite3 -readonly "$DATA/ztp.db" "SELECT count(*) FROM sims")
[ "$in_db" -eq "$K" ] || die "the registry holds $in_db SIMs, expected $K"
[ "$K" -lt "$N" ] && echo "bench: import deadline reached: $K of $N SIMs used" >&2
rss_imported=$(rss_of "$PID" VmRSS)

client() { # client LABEL RANGE_COUNT ARGS...
	local label=$1 count=$2
	shift 2
	"$ZTPBENCH" --port "${ZTPD_PORT[reg]}" --iccid-range "$FIRST:$count" --kex psk_ke \
		--identity bcd --expect 204 --server-pid "$PID" --label "$label" --quiet "$@"
}
client preflight "$K" -n 5 || die "fetches over the imported SIMs fail"

mkdir -p "$T/runs"
runs=()
for r in $(seq 1 "$ROUNDS"); do
	for which in one all; do
		count=1
		[ "$which" = all ] && count=$K
		f=$T/runs/$which-$r.json
		client "$which" "$count" -c 1 -d "$SECS" --warmup 0.3 --json "$f" ||
			echo "bench: $which round $r had errors" >&2
		runs+=("$f")
		printf '  round %d %-4s (%7d SIMs): handshake p50 %.3f ms p99 %.3f ms, fetch p50 %.3f ms\n' \
			"$r" "$which" "$count" "$(jq .handshake_p50 "$f")" "$(jq .handshake_p99 "$f")" \
			"$(jq .latency_p50 "$f")"
	done
done
f=$T/runs/load.json
client load "$K" -c 8 -d "$SECS" --warmup 0.3 --json "$f" || echo "bench: the loaded run had errors" >&2
runs+=("$f")
rss_end=$(rss_of "$PID" VmRSS)
hwm_end=$(rss_of "$PID" VmHWM)
db_bytes=$(cat "$DATA"/ztp.db "$DATA"/ztp.db-wal 2>/dev/null | wc -c)

one=("$T"/runs/one-*.json)
all=("$T"/runs/all-*.json)
hs1=$(median_of handshake_p50 "${one[@]}")
hs99_1=$(median_of handshake_p99 "${one[@]}")
hsn=$(median_of handshake_p50 "${all[@]}")
hs99_n=$(median_of handshake_p99 "${all[@]}")
errors=0
for f in "${runs[@]}"; do errors=$((errors + $(jq '.errors | floor' "$f"))); done

fig registry_sims "$K" "SIMs"
fig registry_sims_asked "$N" "SIMs"
fig admin_post_each_sims_per_s "$(round "$single_rate")" "/s"
fig import_method "$method" "-"
fig import_sims_per_s "$(round "$import_rate")" "/s"
fig handshake_p50_one_sim "$(round "$hs1" 3)" "ms"
fig handshake_p99_one_sim "$(round "$hs99_1" 3)" "ms"
fig handshake_p50_all_sims "$(round "$hsn" 3)" "ms"
fig handshake_p99_all_sims "$(round "$hs99_n" 3)" "ms"
fig ratio_handshake_p50_all_vs_one "$(ratio "$hsn" "$hs1")" "x"
fig ratio_handshake_p99_all_vs_one "$(ratio "$hs99_n" "$hs99_1")" "x"
fig fetch_p50_one_sim "$(round "$(median_of latency_p50 "${one[@]}")" 3)" "ms"
fig fetch_p50_all_sims "$(round "$(median_of latency_p50 "${all[@]}")" 3)" "ms"
fig server_cpu_per_fetch_one_sim "$(round "$(median_of server_cpu_per_fetch "${one[@]}")")" "us"
fig server_cpu_per_fetch_all_sims "$(round "$(median_of server_cpu_per_fetch "${all[@]}")")" "us"
fig load_fetches_per_s_all_sims "$(round "$(jq .fetches_per_s "$T/runs/load.json")")" "/s"
fig load_handshake_p99_all_sims "$(round "$(jq .handshake_p99 "$T/runs/load.json")" 3)" "ms"
fig ztpd_vmrss_start "$rss_start" "KiB"
fig ztpd_vmrss_after_import "$rss_imported" "KiB"
fig ztpd_vmrss_end "$rss_end" "KiB"
fig ztpd_vmhwm_end "$hwm_end" "KiB"
fig database_bytes "$db_bytes" "bytes"
fig errors "$errors" "fetches"

finish registry "${runs[@]}"
[ "$errors" -eq 0 ] || exit 1
