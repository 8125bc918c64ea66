#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# EST enrolment rate against its bound, side by side in one run on this
# machine, with the same client (ztp-bench --ca):
#
#   ztpd_est_w1    ztpd --workers 1 --est-listen: simpleenroll
#   ztpd_est_w2    ztpd --workers 2 --est-listen: simpleenroll
#   s_server_mtls  openssl s_server -tls1_3 -Verify 1 -HTTP: a mutual-TLS
#                  handshake (P-256 server and client certificates) and one
#                  small GET
#
# Each enrolment is a new TCP connection, a full TLS 1.3 handshake (x25519,
# the server's P-256 certificate and its CA, no client certificate: the
# device is on the allowlist) and one POST /.well-known/est/simpleenroll of
# a CSR (base64 DER PKCS#10, P-256, CN = the UDID): each time ztpd parses
# and checks the CSR, has its CA process sign a new certificate, records it
# in SQLite and answers the PKCS#7. The CSR is that of a random one of
# BENCH_EST_DEVICES allowlisted devices (ztp-bench --est-devices): ztpd
# looks at a device's certificate history on every enrolment, so one
# device enrolling thousands of times would slow down from run to run and
# bias the alternation. The baseline is "the bound":
# what one full handshake with certificates on both sides costs, with the
# same client, suite and group; s_server sends its CA too, as ztpd does,
# and no session tickets, as ztpd.
#
# The servers run in turn, the order rotated every round; each figure is
# the median over the rounds. Besides the rates and their ratios: latency
# p50/p99, and the CPU time per enrolment of ztpd's whole process tree
# (the ztpd process and all its descendants, found by their parent pids in
# /proc/*/stat: today the front and its CA process, tomorrow whatever
# processes ztpd runs; each apart too) and per handshake of s_server;
# that does not depend on which side was the bottleneck (the client runs
# on the same cores). The tree is read again after every run: a process
# that came or went during a run would have its CPU time missed, so that
# stops the benchmark. The last line says whether CPU per enrolment is at
# most CPU_TARGET (1.3) times CPU per mutual-TLS handshake. A 202 (the CA
# process busy) is counted apart (busy_202) and must not happen.
#
# usage: bash bench/est.sh BUILD_DIR
# env:   BENCH_EST_ROUNDS (3), BENCH_SECONDS (3 per run), BENCH_CONNS (8),
#        BENCH_EST_DEVICES (256)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${BENCH_EST_ROUNDS:-3}
SECS=${BENCH_SECONDS:-3}
CONNS=${BENCH_CONNS:-8}
WARMUP=0.5
DEVICES=${BENCH_EST_DEVICES:-256}
PREFIX=bench-est
# CPU per enrolment of all ztpd processes over CPU per s_server mutual-TLS handshake: at most this
CPU_TARGET=1.3
# one allowlist import takes 1 to 5000 entries
if ! [[ "$DEVICES" =~ ^[0-9]+$ ]] || [ "$DEVICES" -lt 1 ] || [ "$DEVICES" -gt 5000 ]; then
	die "BENCH_EST_DEVICES must be 1 to 5000"
fi
SERVERS=(ztpd_est_w1 ztpd_est_w2 s_server_mtls)
declare -A SRV_PORT SRV_PIDS TREE


echo "== est: ztpd EST enrolments, --workers 1 and 2, and an openssl s_server mutual-TLS handshake loop; $ROUNDS rounds of ${SECS} s, $CONNS connections"

# start_est NAME WORKERS: ztpd with only its EST and admin listeners; waits
# (30 s at most) for run.json and for its CA process
start_est() {
	local name=$1 data=$T/$1 pid child
	# each device enrols far more than the default 10 an hour here: a limit that never
	# trips, but is counted on every enrolment as it is by default (0 would skip the count)
	"$ZTPD" --data "$data" --device-listen off --admin-listen 127.0.0.1:0 \
		--est-listen 127.0.0.1:0 --workers "$2" --log-level warn --est-certs-per-hour 1000000 \
		>>"$T/$name.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	for _ in $(seq 1 300); do
		if [ -s "$data/run.json" ] && [ "$(jq -r .pid "$data/run.json" 2>/dev/null)" = "$pid" ]; then
			break
		fi
		kill -0 "$pid" 2>/dev/null || die "ztpd $name exited at start"
		sleep 0.1
	done
	[ -s "$data/run.json" ] || die "ztpd $name did not write run.json within 30 s"
	# at least its CA process besides; the whole tree is read once it has enrolled (measure_tree)
	for _ in $(seq 1 100); do
		child=$(tree_of "$pid")
		[ "$child" != "$pid" ] && break
		sleep 0.1
	done
	[ "$child" != "$pid" ] || die "ztpd $name: no CA process"
	ZTPD_PID[$name]=$pid
	ZTPD_DATA[$name]=$data
	ZTPD_ADMIN[$name]=$(jq -r .admin "$data/run.json")
	SRV_PORT[$name]=$(jq -r .est "$data/run.json" | sed 's/.*://')
	[ -n "${SRV_PORT[$name]}" ] || die "ztpd $name wrote no EST address"
}

# measure_tree NAME: ztpd NAME's process tree, each process a --server-pid
# of ztp-bench (which takes 4 at most), its root first
measure_tree() {
	local name=$1 p
	TREE[$name]=$(tree_of "${ZTPD_PID[$name]}")
	# shellcheck disable=SC2086 # a list of pids
	set -- ${TREE[$name]}
	[ $# -le 4 ] || die "ztpd $name runs $# processes: ztp-bench measures 4 at most"
	SRV_PIDS[$name]="--server-pid ${ZTPD_PID[$name]}"
	for p in "$@"; do
		[ "$p" = "${ZTPD_PID[$name]}" ] || SRV_PIDS[$name]+=" --server-pid $p"
	done
}

# check_tree NAME: the tree measured is still ztpd NAME's whole tree (read again)
check_tree() {
	local now
	now=$(tree_of "${ZTPD_PID[$1]}")
	[ "$now" = "${TREE[$1]}" ] ||
		die "$1: its processes changed during a run (${TREE[$1]} -> ${now:-none}; see $1.log): the CPU figures would miss some"
}

# allowlist NAME: every device's UDID and public key on ztpd NAME's
# allowlist, in one POST /v1/allowlist/import
allowlist() {
	local name=$1 d=${ZTPD_DATA[$1]} tok code
	tok=$(admin_token "$name")
	if [ -z "$tok" ] || [ "$tok" = null ]; then die "no admin token from $name"; fi
	code=$(curl -sS --max-time 60 --cacert "$d/ca.pem" -o "$T/allow-$name.json" -w '%{http_code}' \
		-H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
		--data-binary "@$T/allowlist.json" "https://${ZTPD_ADMIN[$name]}/v1/allowlist/import")
	if [ "$code" != 200 ] ||
		[ "$(jq '(.refused | length) == 0 and .added + .unchanged == '"$DEVICES" "$T/allow-$name.json")" != true ]; then
		die "POST /v1/allowlist/import on $name answered $code: $(head -c 300 "$T/allow-$name.json")"
	fi
}

# ---- the devices: P-256 keys derived from their UDIDs, their CSRs, allowlist entries
"$ZTPBENCH" --est-devices "$PREFIX:$DEVICES" --print-devices >"$T/devices.csv" ||
	die "ztp-bench cannot make the devices"
[ "$(wc -l <"$T/devices.csv")" -eq "$DEVICES" ] || die "ztp-bench did not print $DEVICES devices"
mkdir -p "$T/pki" "$T/www"
# the import: {"entries": [{"udid", "pubkey": PEM}, ...]}
jq -R -n -c '{entries: [inputs | split(",") | {udid: .[0], pubkey: ("-----BEGIN PUBLIC KEY-----\n" +
	(.[2] | [scan(".{1,64}")] | join("\n")) + "\n-----END PUBLIC KEY-----\n")}]}' \
	"$T/devices.csv" >"$T/allowlist.json"
# device 0's CSR as it sends it, for the check by hand
UDID0=$(head -1 "$T/devices.csv" | cut -d, -f1)
head -1 "$T/devices.csv" | cut -d, -f4 | fold -w 64 >"$T/csr0.b64"

start_est ztpd_est_w1 1
start_est ztpd_est_w2 2
for s in ztpd_est_w1 ztpd_est_w2; do
	allowlist "$s"
	# one enrolment by hand: 200, a PKCS#7 holding a certificate of that CA for the UDID
	d=${ZTPD_DATA[$s]}
	code=$(curl -sS --max-time 10 --cacert "$d/ca.pem" -o "$T/enrol-$s.b64" -w '%{http_code}' \
		-H 'Content-Type: application/pkcs10' --data-binary "@$T/csr0.b64" \
		"https://127.0.0.1:${SRV_PORT[$s]}/.well-known/est/simpleenroll")
	[ "$code" = 200 ] || die "$s: simpleenroll answered $code: $(head -c 300 "$T/enrol-$s.b64")"
	openssl base64 -d -in "$T/enrol-$s.b64" | openssl pkcs7 -inform DER -print_certs \
		-out "$T/enrolled-$s.pem" 2>/dev/null || die "$s: the answer is not a PKCS#7"
	openssl verify -CAfile "$d/ca.pem" "$T/enrolled-$s.pem" >/dev/null 2>&1 ||
		die "$s: the certificate does not verify against its CA"
	openssl x509 -in "$T/enrolled-$s.pem" -noout -subject | grep -Eq "CN *= *$UDID0(,|\$)" ||
		die "$s: the certificate is not for $UDID0"
	# ztpd has enrolled once: every process it runs for that is up
	measure_tree "$s"
	echo "  $s: processes ${TREE[$s]} (ztpd ${ZTPD_PID[$s]} first)"
done

# ---- the bound: a P-256 CA, a server and a client certificate of it
pki=$T/pki
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -sha256 \
	-subj "/O=bench/CN=bench CA" -keyout "$pki/ca.key" -out "$pki/ca.pem" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	2>/dev/null
for who in server client; do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
		-subj "/O=bench/CN=$who" -keyout "$pki/$who.key" -out "$pki/$who.csr" 2>/dev/null
	if [ "$who" = server ]; then
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$pki/$who.ext"
	else
		printf 'extendedKeyUsage=clientAuth\n' >"$pki/$who.ext"
	fi
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' >>"$pki/$who.ext"
	openssl x509 -req -in "$pki/$who.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
		-CAcreateserial -days 2 -sha256 -extfile "$pki/$who.ext" -out "$pki/$who.pem" 2>/dev/null ||
		die "cannot make the $who certificate"
done
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n' \
	>"$T/www/ok"
(cd "$T/www" && exec openssl s_server -accept 127.0.0.1:0 -tls1_3 -num_tickets 0 \
	-cert "$pki/server.pem" -key "$pki/server.key" -cert_chain "$pki/ca.pem" \
	-CAfile "$pki/ca.pem" -Verify 1 -verify_return_error -HTTP >"$T/s_server.out" 2>"$T/s_server.log") &
pid=$!
PIDS+=("$pid")
SRV_PORT[s_server_mtls]=$(port_of "$pid" "$T/s_server.out" "$S_SERVER_PORT" "openssl s_server")
SRV_PIDS[s_server_mtls]="--server-pid $pid"

client() { # client SERVER ARGS...: ztp-bench against SERVER, as that server wants
	local s=$1
	shift
	# shellcheck disable=SC2086 # SRV_PIDS holds options
	if [ "$s" = s_server_mtls ]; then
		"$ZTPBENCH" --port "${SRV_PORT[$s]}" --ca "$pki/ca.pem" --cert "$pki/client.pem" \
			--key "$pki/client.key" --path /ok ${SRV_PIDS[$s]} --label "$s" "$@"
	else
		"$ZTPBENCH" --port "${SRV_PORT[$s]}" --ca "${ZTPD_DATA[$s]}/ca.pem" \
			--est-devices "$PREFIX:$DEVICES" ${SRV_PIDS[$s]} --label "$s" "$@"
	fi
}

# every server answers with the expected status, and s_server asked for the client's certificate
for s in "${SERVERS[@]}"; do
	client "$s" -n 3 --quiet || die "$s does not answer the client"
done

mkdir -p "$T/runs"
runs=()
for r in $(seq 1 "$ROUNDS"); do
	order=()
	for i in 0 1 2; do order+=("${SERVERS[$(((i + r - 1) % 3))]}"); done
	for s in "${order[@]}"; do
		f=$T/runs/$s-$r.json
		client "$s" -c "$CONNS" -d "$SECS" --warmup "$WARMUP" --json "$f" --quiet ||
			echo "bench: $s round $r had errors" >&2
		[ "$s" = s_server_mtls ] || check_tree "$s"
		jq --argjson round "$r" --arg server "$s" '. + {round: $round, server: $server}' \
			"$f" >"$f.tmp" && mv "$f.tmp" "$f"
		runs+=("$f")
		printf '  round %d %-13s %7.1f /s  p50 %6.2f ms  server %6.1f us/op %.2f cores  client %6.1f us/op %.2f cores  others %.2f cores\n' \
			"$r" "$s" "$(jq .fetches_per_s "$f")" "$(jq .latency_p50 "$f")" \
			"$(jq .server_cpu_per_fetch "$f")" "$(jq .server_cpu "$f")" \
			"$(jq .client_cpu_per_fetch "$f")" "$(jq .client_cpu "$f")" "$(jq '.other_cpu // 0' "$f")"
	done
done

# the processes measured are the ones that worked: none was restarted
for s in ztpd_est_w1 ztpd_est_w2; do
	check_tree "$s"
done

errors=0
busy=0
for f in "${runs[@]}"; do
	errors=$((errors + $(jq '.errors | floor' "$f")))
	busy=$((busy + $(jq '.busy_202 // 0 | floor' "$f")))
done
declare -A RATE CPU
for s in "${SERVERS[@]}"; do
	files=("$T/runs/$s"-*.json)
	RATE[$s]=$(median_of fetches_per_s "${files[@]}")
	CPU[$s]=$(median_of server_cpu_per_fetch "${files[@]}")
done
fig ztpd_est_w1_enrolments_per_s "$(round "${RATE[ztpd_est_w1]}")" "/s"
fig ztpd_est_w2_enrolments_per_s "$(round "${RATE[ztpd_est_w2]}")" "/s"
fig s_server_mtls_handshakes_per_s "$(round "${RATE[s_server_mtls]}")" "/s"
fig ratio_ztpd_est_w1_vs_s_server_mtls "$(ratio "${RATE[ztpd_est_w1]}" "${RATE[s_server_mtls]}")" "x"
fig ratio_ztpd_est_w2_vs_s_server_mtls "$(ratio "${RATE[ztpd_est_w2]}" "${RATE[s_server_mtls]}")" "x"
fig ratio_ztpd_est_w2_vs_w1 "$(ratio "${RATE[ztpd_est_w2]}" "${RATE[ztpd_est_w1]}")" "x"
for s in "${SERVERS[@]}"; do
	files=("$T/runs/$s"-*.json)
	fig "${s}_latency_p50" "$(round "$(median_of latency_p50 "${files[@]}")" 3)" "ms"
	fig "${s}_latency_p99" "$(round "$(median_of latency_p99 "${files[@]}")" 3)" "ms"
done
# CPU per operation: all of ztpd's processes, and each apart (ztpd itself
# is "main"; with one other process, that is its CA process)
for s in ztpd_est_w1 ztpd_est_w2; do
	files=("$T/runs/$s"-*.json)
	fig "${s}_cpu_per_enrolment" "$(round "${CPU[$s]}")" "us"
	# shellcheck disable=SC2086 # a list of pids
	set -- ${TREE[$s]}
	n=$#
	for i in $(seq 1 "$n"); do
		if [ "$i" = 1 ]; then what=main; elif [ "$n" = 2 ]; then what=ca_process; else what=process_$i; fi
		fig "${s}_${what}_cpu_per_enrolment" \
			"$(round "$(median_of "server_cpu_per_fetch_$i" "${files[@]}")")" "us"
	done
	fig "${s}_processes" "$n" "processes"
done
fig s_server_mtls_cpu_per_handshake "$(round "${CPU[s_server_mtls]}")" "us"
# ztpd's CPU per enrolment over s_server's per handshake: what an enrolment costs in handshakes
for s in ztpd_est_w1 ztpd_est_w2; do
	fig "cpu_ratio_${s}_vs_s_server_mtls" "$(ratio "${CPU[$s]}" "${CPU[s_server_mtls]}")" "x"
done
for s in "${SERVERS[@]}"; do
	files=("$T/runs/$s"-*.json)
	fig "${s}_server_cores" "$(round "$(median_of server_cpu "${files[@]}")" 2)" "cores"
done
for s in ztpd_est_w1 s_server_mtls; do
	files=("$T/runs/$s"-*.json)
	fig "${s}_client_cpu_per_op" "$(round "$(median_of client_cpu_per_fetch "${files[@]}")")" "us"
	fig "${s}_tls_bytes_per_op" "$(round "$(median_of tls_bytes_per_fetch "${files[@]}")")" "bytes"
done
for s in ztpd_est_w1 ztpd_est_w2; do
	fig "${s}_certificates_recorded" \
		"$(sqlite3 -cmd ".timeout 5000" "${ZTPD_DATA[$s]}/ztp.db" 'SELECT count(*) FROM certs')" "certificates"
done
fig suite "$(jq -r .suite "${runs[0]}")" "(TLS 1.3)"
fig other_cpu_median "$(round "$(median_of other_cpu "${runs[@]}")" 2)" "cores"
fig cpus "$NCPU" "cores"
fig errors "$errors" "operations"
fig busy_202 "$busy" "enrolments"
fig devices "$DEVICES" "devices"
fig connections "$CONNS" "connections"
fig rounds "$ROUNDS" "rounds"

finish est "${runs[@]}"
# the target, last: met only if both worker counts meet it
met=met
for s in ztpd_est_w1 ztpd_est_w2; do
	[ "$(echo "${FIG_VALUE[cpu_ratio_${s}_vs_s_server_mtls]} <= $CPU_TARGET" | bc -l)" = 1 ] || met="NOT met"
done
echo
printf 'est: CPU per enrolment (all ztpd processes) / CPU per s_server mutual-TLS handshake: %s x (--workers 1), %s x (--workers 2); target <= %s: %s\n' \
	"${FIG_VALUE[cpu_ratio_ztpd_est_w1_vs_s_server_mtls]}" "${FIG_VALUE[cpu_ratio_ztpd_est_w2_vs_s_server_mtls]}" \
	"$CPU_TARGET" "$met"
[ "$errors" -eq 0 ] && [ "$busy" -eq 0 ] || exit 1
