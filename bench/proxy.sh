#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The cost of proxy mode (docs/proxy.md), side by side in one run on this
# machine: the same fetch (psk_ke by default, the seed's body) answered
#
#   local          from ztpd's own store (the SIM's group has no upstream)
#   proxied        by an upstream over HTTP: the SIM's group forwards to
#                  bench-upstream (bench/bench-upstream.c), kept-alive connections
#   proxied_https  the same over HTTPS (a P-256 certificate, --upstream-ca)
#
# each by ztpd --workers 1 and --workers 2 (--allow-psk-ke). One ztpd per
# worker count serves all three modes: three SIMs, each in a group of its
# own ("local" without an upstream, so that every mode looks its group up),
# so that nothing but the forwarding differs. bench-upstream answers what
# ztpd answers from its store: the same status, body, ETag and
# Content-Type, fixed, from one event loop (BENCH_UPSTREAM_THREADS); it
# counts the requests it got, checked against the fetches before timing.
#
# The runs alternate: each round takes the worker counts in turn (the
# order swapped every round) and, for each, the modes in an order rotated
# every round (A B C, B C A, C A B); each figure is the median over the
# rounds, and each ratio or difference to local the median of those of
# the same round (a drift of the machine cancels out). Each round ends with one connection at a time (-c 1,
# BENCH_PROXY_LAT_FETCHES fetches per mode, --workers 1): the latency the
# forwarding adds when nothing waits for a CPU. Every run samples the CPU
# time of ztpd and of both upstreams (/proc), so "ztpd_cpu_per_fetch" and
# "extra_ztpd_cpu_per_fetch" (proxied less local) do not depend on which
# side was the bottleneck, and the upstream's CPU per request is a figure
# of its own ("upstream_busy_max" near 0: it was never the bottleneck).
#
# usage: bash bench/proxy.sh BUILD_DIR
# env:   BENCH_PROXY_ROUNDS (3), BENCH_SECONDS (2 per run), BENCH_CONNS (8),
#        BENCH_PROXY_MODES ("proxied proxied_https"; local is always run),
#        BENCH_PROXY_KEX (psk_ke, or psk_dhe_ke), BENCH_UPSTREAM_THREADS (1),
#        BENCH_PROXY_LAT_FETCHES (300)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${BENCH_PROXY_ROUNDS:-3}
SECS=${BENCH_SECONDS:-2}
CONNS=${BENCH_CONNS:-8}
KEX=${BENCH_PROXY_KEX:-psk_ke}
UP_THREADS=${BENCH_UPSTREAM_THREADS:-1}
LAT_FETCHES=${BENCH_PROXY_LAT_FETCHES:-300}
WARMUP=0.5
UPSTREAM=$BIN/bench/bench-upstream
[ -x "$UPSTREAM" ] || die "$UPSTREAM is missing (build first)"
case $KEX in psk_ke | psk_dhe_ke) ;; *) die "BENCH_PROXY_KEX: psk_ke or psk_dhe_ke" ;; esac

MODES=(local)
for m in ${BENCH_PROXY_MODES:-proxied proxied_https}; do
	case $m in
	local) ;;
	proxied | proxied_https) MODES+=("$m") ;;
	*) die "BENCH_PROXY_MODES: of local, proxied, proxied_https" ;;
	esac
done
[ ${#MODES[@]} -ge 2 ] || die "BENCH_PROXY_MODES: proxied or proxied_https at least"
WORKERS=(w1 w2)
declare -A WTHREADS=([w1]=1 [w2]=2)

# one SIM per mode, each with a key of its own; the seed's SIM is local's
declare -A SIM_ICCID SIM_PSK SIM_GROUP
SIM_ICCID[local]=$ICCID
SIM_PSK[local]=$PSK
SIM_ICCID[proxied]=8944502509186389636
SIM_ICCID[proxied_https]=8944502509186389637
for m in proxied proxied_https; do
	SIM_PSK[$m]=$(openssl rand -hex 32 | tr 'a-f' 'A-F')
done
SIM_GROUP[local]=local
SIM_GROUP[proxied]=proxied
SIM_GROUP[proxied_https]=proxiedtls

echo "== proxy: ${MODES[*]} with ztpd --workers 1 and --workers 2; $ROUNDS rounds of ${SECS} s, $CONNS connections, $KEX"

for w in "${WORKERS[@]}"; do
	start_ztpd "$w" --workers "${WTHREADS[$w]}" --allow-psk-ke
done

# ---- what ztpd answers from its store: the upstream answers the same

for w in "${WORKERS[@]}"; do
	ztpctl_of "$w" group create local >/dev/null || die "cannot create group local on $w"
	ztpctl_of "$w" sim add "$ICCID" --psk "$PSK" --group local >/dev/null ||
		die "cannot add the SIM to $w"
	ztpctl_of "$w" config set "$ICCID" --body "$SEED_CONFIG" >/dev/null ||
		die "cannot set the configuration on $w"
done

# s_fetch PORT ICCID PSK OUT: one fetch with openssl s_client, the raw answer to OUT
s_fetch() {
	local iccid=$2 ef
	ef=$(printf '%s' "$iccid" | sed 's/$/FFFFFFFFFFFFFFFFFFFF/; s/^\(.\{20\}\).*/\1/' |
		sed 's/\(.\)\(.\)/\2\1/g')
	printf 'GET /v1/config/%s?iccid=%s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' \
		"$DEVID" "$ef" |
		timeout 10 openssl s_client -tls1_3 -psk "$3" -psk_identity "$iccid" \
			-connect "127.0.0.1:$1" -quiet -ign_eof >"$4" 2>/dev/null || true
}
# header_of FILE NAME: a header's value in a raw answer
header_of() { sed -n '1,/^\r*$/p' "$1" | tr -d '\r' | sed -n "s/^$2: //Ip" | head -1; }
body_of() { sed '1,/^\r*$/d' "$1"; }

s_fetch "${ZTPD_PORT[w1]}" "$ICCID" "$PSK" "$T/local.response"
head -1 "$T/local.response" | grep -q '^HTTP/1.1 200 ' ||
	die "ztpd did not answer 200: $(head -c 300 "$T/local.response")"
[ "$(body_of "$T/local.response")" = "$SEED_CONFIG" ] || die "ztpd's body is not the configuration"
ETAG=$(header_of "$T/local.response" ETag)
CTYPE=$(header_of "$T/local.response" Content-Type)
{ [ -n "$ETAG" ] && [ -n "$CTYPE" ]; } || die "ztpd's answer has no ETag or Content-Type"
printf '%s' "$SEED_CONFIG" >"$T/body"

# ---- the upstreams: HTTP, and HTTPS with a certificate for 127.0.0.1 signed by a CA of our own

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench-ca \
	-keyout "$T/up-ca.key" -out "$T/up-ca.pem" 2>/dev/null || die "cannot make the upstream's CA"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
	-keyout "$T/up.key" -out "$T/up.csr" 2>/dev/null || die "cannot make the upstream's key"
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$T/up.ext"
openssl x509 -req -in "$T/up.csr" -CA "$T/up-ca.pem" -CAkey "$T/up-ca.key" -CAcreateserial \
	-days 2 -extfile "$T/up.ext" -out "$T/up.pem" 2>/dev/null || die "cannot sign the upstream's certificate"

declare -A UP_PID UP_PORT UP_URL
# start_upstream NAME [OPTIONS...]: bench-upstream, waits (10 s at most) for its port
start_upstream() {
	local name=$1 pid
	shift
	"$UPSTREAM" --body "$T/body" --etag "$ETAG" --content-type "$CTYPE" --threads "$UP_THREADS" \
		"$@" >"$T/upstream-$name.out" 2>"$T/upstream-$name.log" &
	pid=$!
	PIDS+=("$pid")
	UP_PORT[$name]=$(port_of "$pid" "$T/upstream-$name.out" 's/^port: \([0-9][0-9]*\)$/\1/p' \
		"bench-upstream $name")
	UP_PID[$name]=$pid
}
start_upstream http
start_upstream https --cert "$T/up.pem" --key "$T/up.key"
UP_URL[proxied]=http://127.0.0.1:${UP_PORT[http]}
UP_URL[proxied_https]=https://127.0.0.1:${UP_PORT[https]}
declare -A UP_OF=([proxied]=http [proxied_https]=https)

# upstream_stats NAME: {"requests": answered so far, "refused": without ZTP-ICCID}
upstream_stats() {
	if [ "$1" = https ]; then
		curl -sS --max-time 10 --cacert "$T/up-ca.pem" "https://127.0.0.1:${UP_PORT[https]}/stats"
	else
		curl -sS --max-time 10 "http://127.0.0.1:${UP_PORT[http]}/stats"
	fi
}
# upstream_requests NAME: the requests it answered so far
upstream_requests() {
	upstream_stats "$1" | jq -e .requests || die "bench-upstream $1 does not answer /stats"
}

# ---- the SIMs on both ztpd

for w in "${WORKERS[@]}"; do
	ztpctl_of "$w" group create proxied --upstream "${UP_URL[proxied]}" >/dev/null ||
		die "cannot create group proxied on $w"
	ztpctl_of "$w" group create proxiedtls --upstream "${UP_URL[proxied_https]}" \
		--upstream-ca "$T/up-ca.pem" >/dev/null || die "cannot create group proxiedtls on $w"
	for m in proxied proxied_https; do
		ztpctl_of "$w" sim add "${SIM_ICCID[$m]}" --psk "${SIM_PSK[$m]}" --group "${SIM_GROUP[$m]}" \
			>/dev/null || die "cannot add the $m SIM to $w"
	done
done

client() { # client WORKERS MODE ARGS...: ztp-bench against ztpd WORKERS as MODE's SIM
	local w=$1 m=$2
	shift 2
	"$ZTPBENCH" --port "${ZTPD_PORT[$w]}" --iccid "${SIM_ICCID[$m]}" --psk "${SIM_PSK[$m]}" \
		--kex "$KEX" --server-pid "${ZTPD_PID[$w]}" --server-pid "${UP_PID[http]}" \
		--server-pid "${UP_PID[https]}" --label "$m/$w" "$@"
}

# every mode answers as local does, and each proxied fetch is one upstream request
for w in "${WORKERS[@]}"; do
	for m in "${MODES[@]}"; do
		s_fetch "${ZTPD_PORT[$w]}" "${SIM_ICCID[$m]}" "${SIM_PSK[$m]}" "$T/$m-$w.response"
		head -1 "$T/$m-$w.response" | grep -q '^HTTP/1.1 200 ' ||
			die "$m/$w did not answer 200: $(head -c 300 "$T/$m-$w.response")"
		[ "$(body_of "$T/$m-$w.response")" = "$SEED_CONFIG" ] || die "$m/$w's body is not the configuration"
		[ "$(header_of "$T/$m-$w.response" ETag)" = "$ETAG" ] || die "$m/$w's ETag is not $ETAG"
		[ "$(header_of "$T/$m-$w.response" Content-Type)" = "$CTYPE" ] ||
			die "$m/$w's Content-Type is not $CTYPE"
		before=0
		[ "$m" = local ] || before=$(upstream_requests "${UP_OF[$m]}")
		client "$w" "$m" -n 20 -c 4 --quiet || die "$m/$w does not serve $KEX fetches"
		if [ "$m" != local ]; then
			after=$(upstream_requests "${UP_OF[$m]}")
			[ $((after - before)) -eq 20 ] ||
				die "$m/$w: 20 fetches made $((after - before)) upstream requests"
		fi
	done
done
up0_http=$(upstream_requests http)
up0_https=$(upstream_requests https)

mkdir -p "$T/runs"
runs=()
lat_runs=()
nm=${#MODES[@]}
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then worders=(w1 w2); else worders=(w2 w1); fi
	for w in "${worders[@]}"; do
		order=()
		for i in $(seq 0 $((nm - 1))); do order+=("${MODES[$(((i + r - 1) % nm))]}"); done
		for m in "${order[@]}"; do
			f=$T/runs/$m-$w-$r.json
			client "$w" "$m" -c "$CONNS" -d "$SECS" --warmup "$WARMUP" --json "$f" --quiet ||
				echo "bench: $m/$w round $r had errors" >&2
			# ztpd's CPU alone, and the cores it used; the upstream's CPU per request
			jq --argjson round "$r" --arg mode "$m" --arg workers "$w" \
				--argjson threads "${WTHREADS[$w]}" '. + {round: $round, mode: $mode,
				server: ($mode + "_" + $workers), workers: $threads,
				ztpd_cpu_per_fetch: .server_cpu_per_fetch_1,
				ztpd_cpu: (.server_cpu_per_fetch_1 * .fetches_per_s / 1e6),
				upstream_cpu_per_request: (if $mode == "proxied" then .server_cpu_per_fetch_2
					elif $mode == "proxied_https" then .server_cpu_per_fetch_3 else 0 end)}' \
				"$f" >"$f.tmp" && mv "$f.tmp" "$f"
			runs+=("$f")
			printf '  round %d %-3s %-13s %7.1f fetches/s  ztpd %5.1f us/fetch %.2f cores  upstream %5.1f us/req  client %5.1f us/fetch %.2f cores  others %.2f cores\n' \
				"$r" "$w" "$m" "$(jq .fetches_per_s "$f")" "$(jq .ztpd_cpu_per_fetch "$f")" \
				"$(jq .ztpd_cpu "$f")" "$(jq .upstream_cpu_per_request "$f")" \
				"$(jq .client_cpu_per_fetch "$f")" "$(jq .client_cpu "$f")" \
				"$(jq '.other_cpu // 0' "$f")"
		done
	done
	for i in $(seq 0 $((nm - 1))); do
		m=${MODES[$(((i + r - 1) % nm))]}
		f=$T/runs/c1-$m-$r.json
		client w1 "$m" -c 1 -n "$LAT_FETCHES" --json "$f" --quiet ||
			echo "bench: $m/w1 -c 1 round $r had errors" >&2
		jq --argjson round "$r" --arg mode "$m" '. + {round: $round, mode: $mode,
			server: ($mode + "_w1_c1"), workers: 1}' "$f" >"$f.tmp" && mv "$f.tmp" "$f"
		lat_runs+=("$f")
		printf '  round %d w1  %-13s one connection: latency p50 %.3f ms p99 %.3f ms\n' \
			"$r" "$m" "$(jq .latency_p50 "$f")" "$(jq .latency_p99 "$f")"
	done
done

# paired A B FIELD OP: the median over the rounds of A's FIELD OP (- or /) B's
# in the same round, A and B being run files less "-ROUND.json": a drift of
# the machine between rounds cancels out
paired() {
	local a=$1 b=$2 field=$3 op=$4 r
	for r in $(seq 1 "$ROUNDS"); do
		jq -n --slurpfile a "$a-$r.json" --slurpfile b "$b-$r.json" --arg f "$field" --arg op "$op" \
			'$a[0][$f] as $x | $b[0][$f] as $y |
			if $op == "-" then $x - $y elif $y == 0 then 0 else $x / $y end'
	done | jq -s 'sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end'
}

errors=0
for f in "${runs[@]}" "${lat_runs[@]}"; do errors=$((errors + $(jq '.errors | floor' "$f"))); done
declare -A RATE CPU
for w in "${WORKERS[@]}"; do
	for m in "${MODES[@]}"; do
		files=("$T/runs/$m-$w"-*.json)
		RATE[$m-$w]=$(median_of fetches_per_s "${files[@]}")
		CPU[$m-$w]=$(median_of ztpd_cpu_per_fetch "${files[@]}")
	done
done
for w in "${WORKERS[@]}"; do
	for m in "${MODES[@]}"; do
		fig "${m}_${w}_fetches_per_s" "$(round "${RATE[$m-$w]}")" "/s"
	done
	for m in "${MODES[@]:1}"; do
		fig "ratio_${m}_vs_local_${w}" \
			"$(round "$(paired "$T/runs/$m-$w" "$T/runs/local-$w" fetches_per_s /)" 3)" "x"
	done
done
for w in "${WORKERS[@]}"; do
	for m in "${MODES[@]}"; do
		files=("$T/runs/$m-$w"-*.json)
		fig "${m}_${w}_latency_p50" "$(round "$(median_of latency_p50 "${files[@]}")" 3)" "ms"
		fig "${m}_${w}_latency_p99" "$(round "$(median_of latency_p99 "${files[@]}")" 3)" "ms"
	done
done
for m in "${MODES[@]}"; do
	files=("$T/runs/c1-$m"-*.json)
	fig "${m}_w1_c1_latency_p50" "$(round "$(median_of latency_p50 "${files[@]}")" 3)" "ms"
	fig "${m}_w1_c1_latency_p99" "$(round "$(median_of latency_p99 "${files[@]}")" 3)" "ms"
done
for m in "${MODES[@]:1}"; do
	fig "${m}_w1_c1_extra_latency_p50" \
		"$(round "$(echo "$(paired "$T/runs/c1-$m" "$T/runs/c1-local" latency_p50 -) * 1000" | bc -l)")" "us"
done
for w in "${WORKERS[@]}"; do
	for m in "${MODES[@]}"; do
		fig "${m}_${w}_ztpd_cpu_per_fetch" "$(round "${CPU[$m-$w]}")" "us"
	done
	for m in "${MODES[@]:1}"; do
		fig "${m}_${w}_extra_ztpd_cpu_per_fetch" \
			"$(round "$(paired "$T/runs/$m-$w" "$T/runs/local-$w" ztpd_cpu_per_fetch -)")" "us"
		fig "${m}_${w}_ztpd_cpu_ratio_vs_local" \
			"$(round "$(paired "$T/runs/$m-$w" "$T/runs/local-$w" ztpd_cpu_per_fetch /)" 3)" "x"
	done
done
for w in "${WORKERS[@]}"; do
	for m in "${MODES[@]}"; do
		files=("$T/runs/$m-$w"-*.json)
		fig "${m}_${w}_ztpd_busy" "$(ratio "$(median_of ztpd_cpu "${files[@]}")" "${WTHREADS[$w]}" 2)" \
			"of its workers"
	done
done
for m in "${MODES[@]:1}"; do
	files=("$T/runs/$m"-*.json)
	fig "${m}_upstream_cpu_per_request" "$(round "$(median_of upstream_cpu_per_request "${files[@]}")")" "us"
	# how much of its threads the upstream used: far from 1, it was not the bottleneck
	jq -s '[.[] | .upstream_cpu_per_request * .fetches_per_s / 1e6] | max' "${files[@]}" >"$T/upbusy"
	fig "${m}_upstream_busy_max" "$(ratio "$(cat "$T/upbusy")" "$UP_THREADS" 2)" "of its threads"
done
fig client_cpu_per_fetch "$(round "$(median_of client_cpu_per_fetch "${runs[@]}")")" "us"
# the client does the same work in every run: the spread of its CPU per fetch
# shows the machine slowing down (a neighbour on the host), which other_cpu
# does not see
fig client_cpu_per_fetch_spread "$(ratio "$(jq -s '[.[].client_cpu_per_fetch] | max' "${runs[@]}")" \
	"$(jq -s '[.[].client_cpu_per_fetch] | min' "${runs[@]}")" 2)" "x (max/min)"
# what other tenants of the machine took during the runs: the noise
fig other_cpu_median "$(round "$(median_of other_cpu "${runs[@]}")" 2)" "cores"
fig upstream_requests "$(($(upstream_requests http) - up0_http + $(upstream_requests https) - up0_https))" \
	"requests"
fig upstream_refused "$(($(upstream_stats http | jq .refused) + $(upstream_stats https | jq .refused)))" \
	"requests"
fig cpus "$NCPU" "cores"
fig errors "$errors" "fetches"
fig response_bytes "$(wc -c <"$T/local.response")" "bytes"
fig connections "$CONNS" "connections"
fig upstream_threads "$UP_THREADS" "threads"
fig rounds "$ROUNDS" "rounds"

finish proxy "${runs[@]}" "${lat_runs[@]}"
[ "$errors" -eq 0 ] || exit 1
