#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Fetch throughput of the device endpoint against a baseline, side by side
# in one run on this machine, with the same PSK, suite, client and body:
#
#   ztpd_w1    ztpd --workers 1 --allow-psk-ke
#   ztpd_w2    ztpd --workers 2 --allow-psk-ke
#   s_server   openssl s_server -tls1_3 -psk ... -nocert -HTTP, serving ztpd's
#              own response bytes (status line, headers, body) from a file at
#              the same path: v1/config/<DeviceID>?iccid=<EF hex> under its cwd
#
# Each fetch is a new connection and a full TLS 1.3 PSK handshake
# (TLS_AES_128_CCM_SHA256, ASCII ICCID identity), for psk_ke and for
# psk_dhe_ke. The servers run in turn, the order rotated every round
# (A B C, B C A, C A B, ...); each figure is the median over the rounds.
# Besides fetches per second, the CPU time each server spends per fetch
# (from /proc) is printed: it does not depend on which side is the
# bottleneck, and "server_busy" (the server's CPU over its threads) says
# whether the server was saturated (near 1) or starved by the client or
# by the machine (2 cores shared with the client).
#
# usage: bash bench/throughput.sh BUILD_DIR
# env:   BENCH_ROUNDS (5), BENCH_SECONDS (3 per run), BENCH_CONNS (8)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${BENCH_ROUNDS:-5}
SECS=${BENCH_SECONDS:-3}
CONNS=${BENCH_CONNS:-8}
WARMUP=0.5
KEXES="psk_ke psk_dhe_ke"
SERVERS=(ztpd_w1 ztpd_w2 s_server)
declare -A SRV_PORT SRV_PID SRV_PIDARGS SRV_THREADS

echo "== throughput: ztpd --workers 1, --workers 2 and openssl s_server; $ROUNDS rounds of ${SECS} s, $CONNS connections"

start_ztpd ztpd_w1 --workers 1 --allow-psk-ke
start_ztpd ztpd_w2 --workers 2 --allow-psk-ke
for s in ztpd_w1 ztpd_w2; do
	setup_seed "$s"
	SRV_PORT[$s]=${ZTPD_PORT[$s]}
	SRV_PID[$s]=${ZTPD_PID[$s]}
	# ztpd is a parent, a front (the TLS and HTTP workers) and a signer: all measured
	SRV_PIDARGS[$s]=""
	for p in $(tree_of "${ZTPD_PID[$s]}"); do
		SRV_PIDARGS[$s]+=" --server-pid $p"
	done
done
SRV_THREADS[ztpd_w1]=1
SRV_THREADS[ztpd_w2]=2

# ztpd's response, byte for byte, is the file s_server serves (-HTTP: the
# file holds the status line and headers too)
printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$CONFIG_PATH" |
	timeout 10 openssl s_client -tls1_3 -psk "$PSK" -psk_identity "$ICCID" \
		-connect "127.0.0.1:${SRV_PORT[ztpd_w1]}" -quiet -ign_eof >"$T/response" 2>/dev/null || true
head -1 "$T/response" | grep -q '^HTTP/1.1 200 ' || die "ztpd did not answer 200: $(head -c 200 "$T/response")"
[ "$(sed '1,/^\r*$/d' "$T/response")" = "$SEED_CONFIG" ] || die "ztpd's body is not the configuration"
mkdir -p "$T/www/v1/config"
cp "$T/response" "$T/www/v1/config/$DEVID?iccid=$ICCID_EF"

# s_server: the same PSK and identity; (EC)DHE on the curves ztpd uses, so
# that the client's ffdhe2048-only share gives psk_ke as with ztpd; no tickets
(cd "$T/www" && exec openssl s_server -accept 127.0.0.1:0 -tls1_3 -nocert \
	-psk "$PSK" -psk_identity "$ICCID" -allow_no_dhe_kex \
	-ciphersuites TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256 \
	-groups x25519:secp256r1:x448:secp384r1:secp521r1 -num_tickets 0 \
	-HTTP >"$T/s_server.out" 2>/dev/null) &
SRV_PID[s_server]=$!
SRV_PIDARGS[s_server]="--server-pid ${SRV_PID[s_server]}"
PIDS+=("${SRV_PID[s_server]}")
SRV_THREADS[s_server]=1
SRV_PORT[s_server]=$(port_of "${SRV_PID[s_server]}" "$T/s_server.out" "$S_SERVER_PORT" "openssl s_server")

client() { # client SERVER KEX ARGS...: ztp-bench against SERVER
	local s=$1 kex=$2
	shift 2
	# shellcheck disable=SC2086 # a list of options
	"$ZTPBENCH" --port "${SRV_PORT[$s]}" --iccid "$ICCID" --psk "$PSK" --kex "$kex" \
		${SRV_PIDARGS[$s]} --label "$s/$kex" "$@"
}

# every server answers every key exchange with the expected status before we time anything
for kex in $KEXES; do
	for s in "${SERVERS[@]}"; do
		client "$s" "$kex" -n 3 --quiet || die "$s does not serve $kex fetches"
	done
done

mkdir -p "$T/runs"
runs=()
for r in $(seq 1 "$ROUNDS"); do
	for kex in $KEXES; do
		order=()
		for i in 0 1 2; do order+=("${SERVERS[$(((i + r - 1) % 3))]}"); done
		for s in "${order[@]}"; do
			f=$T/runs/$kex-$s-$r.json
			client "$s" "$kex" -c "$CONNS" -d "$SECS" --warmup "$WARMUP" --json "$f" --quiet ||
				echo "bench: $s/$kex round $r had errors" >&2
			jq --argjson round "$r" --arg server "$s" '. + {round: $round, server: $server}' \
				"$f" >"$f.tmp" && mv "$f.tmp" "$f"
			runs+=("$f")
			printf '  round %d %-10s %-8s %7.1f fetches/s  server %5.1f us/fetch %.2f cores  client %5.1f us/fetch %.2f cores  others %.2f cores\n' \
				"$r" "$kex" "$s" "$(jq .fetches_per_s "$f")" "$(jq .server_cpu_per_fetch "$f")" \
				"$(jq .server_cpu "$f")" "$(jq .client_cpu_per_fetch "$f")" "$(jq .client_cpu "$f")" \
				"$(jq '.other_cpu // 0' "$f")"
		done
	done
done

errors=0
for f in "${runs[@]}"; do errors=$((errors + $(jq '.errors | floor' "$f"))); done
for kex in $KEXES; do
	declare -A RATE CPU
	for s in "${SERVERS[@]}"; do
		files=("$T/runs/$kex-$s"-*.json)
		RATE[$s]=$(median_of fetches_per_s "${files[@]}")
		CPU[$s]=$(median_of server_cpu_per_fetch "${files[@]}")
		fig "${kex}_${s}_fetches_per_s" "$(round "${RATE[$s]}")" "/s"
	done
	fig "${kex}_ratio_ztpd_w1_vs_s_server" "$(ratio "${RATE[ztpd_w1]}" "${RATE[s_server]}")" "x"
	fig "${kex}_ratio_ztpd_w2_vs_s_server" "$(ratio "${RATE[ztpd_w2]}" "${RATE[s_server]}")" "x"
	fig "${kex}_ratio_w2_vs_w1" "$(ratio "${RATE[ztpd_w2]}" "${RATE[ztpd_w1]}")" "x"
	for s in "${SERVERS[@]}"; do
		fig "${kex}_${s}_server_cpu_per_fetch" "$(round "${CPU[$s]}")" "us"
	done
	# CPU per fetch of s_server over ztpd's: 1 or more means ztpd spends no more per fetch
	fig "${kex}_cpu_efficiency_ztpd_w1_vs_s_server" "$(ratio "${CPU[s_server]}" "${CPU[ztpd_w1]}")" "x"
	for s in "${SERVERS[@]}"; do
		files=("$T/runs/$kex-$s"-*.json)
		busy=$(median_of server_cpu "${files[@]}")
		fig "${kex}_${s}_server_busy" "$(ratio "$busy" "${SRV_THREADS[$s]}" 2)" "of its threads"
	done
	all=("$T/runs/$kex"-*.json)
	fig "${kex}_client_cpu_per_fetch" "$(round "$(median_of client_cpu_per_fetch "${all[@]}")")" "us"
	for s in ztpd_w1 s_server; do
		files=("$T/runs/$kex-$s"-*.json)
		fig "${kex}_${s}_latency_p50" "$(round "$(median_of latency_p50 "${files[@]}")" 3)" "ms"
		fig "${kex}_${s}_latency_p99" "$(round "$(median_of latency_p99 "${files[@]}")" 3)" "ms"
	done
	for s in ztpd_w1 s_server; do
		files=("$T/runs/$kex-$s"-*.json)
		fig "${kex}_${s}_tls_bytes_per_fetch" "$(round "$(median_of tls_bytes_per_fetch "${files[@]}")")" "bytes"
		fig "${kex}_${s}_tls_records_received_per_fetch" \
			"$(round "$(median_of tls_records_received_per_fetch "${files[@]}")" 2)" "records"
	done
	ks=$(median_of client_key_share_ext "${all[@]}")
	fig "${kex}_client_key_share_ext" "$ks" "bytes"
	if [ "$kex" = psk_ke ]; then
		# a SIM doing psk_ke sends no key_share at all; an OpenSSL 3.0 client must
		files=("$T/runs/$kex"-ztpd_w1-*.json)
		fig "${kex}_ztpd_w1_tls_bytes_per_fetch_without_key_share" \
			"$(round "$(echo "$(median_of tls_bytes_per_fetch "${files[@]}") - $ks" | bc -l)")" "bytes"
	fi
	unset RATE CPU
done
# what other tenants of the machine took during the runs: the noise
fig other_cpu_median "$(round "$(median_of other_cpu "${runs[@]}")" 2)" "cores"
fig cpus "$NCPU" "cores"
fig errors "$errors" "fetches"
fig response_bytes "$(wc -c <"$T/response")" "bytes"
fig connections "$CONNS" "connections"
fig rounds "$ROUNDS" "rounds"

finish throughput "${runs[@]}"
[ "$errors" -eq 0 ] || exit 1
