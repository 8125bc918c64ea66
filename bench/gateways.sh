#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Gateways onboarding over MQTT (docs/gateways.md, issue 15), against the
# EST-only figure, side by side in one run on this machine, with the same
# client (ztp-gwfleet, the same libcurl EST code in both):
#
#   onboard   N gateways, THREADS at a time, each from start to finish: its
#             LDevID on the provisioning listener, the request (IDevID
#             signature), the bundle (ztpd: the request verified, the
#             expectation applied, a dynamic-security client and role made
#             in the broker, the bundle sealed and published), EST with
#             the LDevID and the bundle's one-time password, the
#             operational listener with the certificate and the bundle's
#             credentials, the status (PUBACK). End to end: from the
#             request's publication to the status's PUBACK.
#   est_only  N devices, THREADS at a time, that only enrol over EST the
#             same way (mutual TLS with an LDevID, HTTP Basic with a
#             one-time password made beforehand through the admin API):
#             from the key's generation to the certificate in hand.
#
# Each gateway and device is new (the UDIDs carry the round), so nothing
# is re-used; what ztpd must know first (an expectation per gateway, a
# password per device) is made before each run and not timed. The runs
# alternate, their order swapped every round; each figure is the median
# over the rounds. After each onboarding run the first CUT gateways, still
# online, are cut off one at a time, alternately by revoking their
# certificate (POST /v1/certs/{serial}/revoke) and by blocking their
# device (POST /v1/devices/{udid}/block): the time from the admin call to
# the broker closing that gateway's connection is the cut latency.
#
# The world, as docs/gateways.md configures it: a manufacturer CA and the
# operator's LDevID CA (both imported with ztpctl mfr-ca add), one
# Mosquitto with the provisioning listener (LDevID, CN as user name, a %u
# ACL file) and the operational one (ztp's certificates, dynamic
# security), ztpd with --mqtt and --est-listen on SQLite, a batch made
# with ztpctl gateway-batch create. Also measured: the CPU time per
# gateway (per enrolment) of ztpd's whole process tree and of Mosquitto,
# read from /proc before and after each run.
#
# usage: bash bench/gateways.sh BUILD_DIR
# env:   BENCH_GATEWAYS (1000), BENCH_GW_ROUNDS (2), BENCH_GW_THREADS (8),
#        BENCH_GW_CUT (40; at most BENCH_GATEWAYS)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

N=${BENCH_GATEWAYS:-1000}
ROUNDS=${BENCH_GW_ROUNDS:-2}
THREADS=${BENCH_GW_THREADS:-8}
CUT=${BENCH_GW_CUT:-40}
NODELAY=${BENCH_GW_NODELAY:-0}
GWFLEET=$BIN/bench/ztp-gwfleet
PREFIX=ztp
for v in N ROUNDS THREADS; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive number, not '${!v}'"
done
[[ "$CUT" =~ ^[0-9]+$ ]] || die "BENCH_GW_CUT must be a number"
[ "$CUT" -le "$N" ] || CUT=$N
[ -x "$GWFLEET" ] || die "$GWFLEET is missing (build first)"
for t in mosquitto mosquitto_ctrl; do
	command -v "$t" >/dev/null || die "$t is missing (apt-get install mosquitto mosquitto-clients)"
done
DYNSEC=$(find /usr/lib -name mosquitto_dynamic_security.so 2>/dev/null | head -1)
[ -n "$DYNSEC" ] || die "the dynamic-security plugin (mosquitto_dynamic_security.so) is missing"

echo "== gateways: $N gateways onboarding over MQTT and $N EST-only enrolments, $THREADS at a time; $ROUNDS rounds; $CUT cut off per round"

# ---- the factory: a manufacturer CA, the LDevID CA, the broker's CA and certificate
F=$T/factory
mkdir -p "$F"
ca_cert() { # ca_cert NAME
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$F/$1.key" 2>/dev/null
	openssl req -x509 -new -key "$F/$1.key" -subj "/O=bench/CN=$1" -days 2 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$F/$1.pem" 2>/dev/null ||
		die "cannot make the CA $1"
}
ca_cert mfr
ca_cert ldevca
ca_cert brokerca
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$F/broker.key" 2>/dev/null
openssl req -new -key "$F/broker.key" -subj "/CN=broker" -out "$F/broker.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$F/broker.ext"
openssl x509 -req -in "$F/broker.csr" -CA "$F/brokerca.pem" -CAkey "$F/brokerca.key" \
	-set_serial "0x$(openssl rand -hex 8)" -days 2 -extfile "$F/broker.ext" \
	-out "$F/broker.pem" 2>/dev/null || die "cannot make the broker's certificate"

# admin_post NAME PATH JSON OUT: POST to ztpd NAME's admin API (the token in $T/token); prints the status
admin_post() {
	curl -sS --max-time 30 --cacert "${ZTPD_DATA[$1]}/ca.pem" -o "$4" -w '%{http_code}' \
		-H "Authorization: Bearer $(cat "$T/token")" -H 'Content-Type: application/json' \
		-d "$3" "https://${ZTPD_ADMIN[$1]}$2"
}

# ---- ztpd, a first time: its CA (the operational listener's) and the broker administrator's certificate
start_ztpd gw --est-listen 127.0.0.1:0
DATA=${ZTPD_DATA[gw]}
(umask 077 && admin_token gw >"$T/token")
if [ ! -s "$T/token" ] || [ "$(cat "$T/token")" = null ]; then die "no admin token"; fi
EST=$(jq -r .est "$DATA/run.json")
code=$(admin_post gw /v1/enrolment-passwords '{"udid":"mqtt-admin","ttl_s":600}' "$T/pw.json")
[ "$code" = 201 ] || die "enrolment password for the broker administrator: $code $(cat "$T/pw.json")"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$F/mqadmin.key" 2>/dev/null
openssl req -new -key "$F/mqadmin.key" -subj "/CN=mqtt-admin" -outform DER 2>/dev/null |
	openssl base64 >"$F/mqadmin.csr.b64"
code=$(curl -sS --max-time 30 --cacert "$DATA/ca.pem" -o "$F/mqadmin.p7" -w '%{http_code}' \
	-u "mqtt-admin:$(jq -r .password "$T/pw.json")" -H 'Content-Type: application/pkcs10' \
	--data-binary "@$F/mqadmin.csr.b64" "https://$EST/.well-known/est/simpleenroll")
rm -f "$T/pw.json"
[ "$code" = 200 ] || die "EST for the broker administrator: $code"
tr -d '\r\n ' <"$F/mqadmin.p7" | openssl base64 -d -A |
	openssl pkcs7 -inform DER -print_certs -out "$F/mqadmin.pem" || die "the administrator's certificate"
stop_pid "${ZTPD_PID[gw]}"

# ---- the broker: two listeners, as docs/gateways.md says
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
M=$T/mqtt
mkdir -p "$M"
PROV_PORT=$(free_port)
OP_PORT=$(free_port)
while [ "$OP_PORT" = "$PROV_PORT" ]; do OP_PORT=$(free_port); done
MQ_ADMIN_PASS=$(openssl rand -hex 16)
printf 'pattern write %s/prov/%%u/req\npattern read %s/prov/%%u/bundle\n' "$PREFIX" "$PREFIX" >"$M/acl"
mosquitto_ctrl dynsec init "$M/dynsec.json" admin "$MQ_ADMIN_PASS" >/dev/null ||
	die "mosquitto_ctrl dynsec init failed"
chmod 600 "$M/dynsec.json"
cat >"$M/mosquitto.conf" <<EOF
user $(id -un)
per_listener_settings true
persistence true
persistence_location $M/
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
$([ "$NODELAY" = 1 ] && echo "set_tcp_nodelay true")

listener $PROV_PORT 127.0.0.1
cafile $F/ldevca.pem
certfile $F/broker.pem
keyfile $F/broker.key
require_certificate true
use_identity_as_username true
acl_file $M/acl

listener $OP_PORT 127.0.0.1
cafile $DATA/ca.pem
certfile $F/broker.pem
keyfile $F/broker.key
require_certificate true
plugin $DYNSEC
plugin_opt_config_file $M/dynsec.json
EOF
# as many descriptors as it may have: every held gateway is a connection
(ulimit -n "$(ulimit -Hn)" && exec mosquitto -c "$M/mosquitto.conf") >>"$T/mosquitto.log" 2>&1 &
MQTT_PID=$!
PIDS+=("$MQTT_PID")
for port in "$PROV_PORT" "$OP_PORT"; do
	for _ in $(seq 1 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		kill -0 "$MQTT_PID" 2>/dev/null || die "mosquitto exited at start"
		sleep 0.05
	done
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || die "mosquitto does not listen on $port"
done
mqctl() {
	mosquitto_ctrl -h 127.0.0.1 -p "$OP_PORT" --cafile "$F/brokerca.pem" --cert "$F/mqadmin.pem" \
		--key "$F/mqadmin.key" -u admin -P "$MQ_ADMIN_PASS" dynsec "$@" >/dev/null ||
		die "mosquitto_ctrl dynsec $1 failed"
}
(umask 077 && openssl rand -hex 24 >"$M/ztpd.pass")
mqctl createRole ztpd
# shellcheck disable=SC2016 # the topic, as it is
for t in "$PREFIX/#" '$CONTROL/dynamic-security/#'; do
	for a in publishClientSend publishClientReceive subscribePattern unsubscribePattern; do
		mqctl addRoleACL ztpd "$a" "$t" allow
	done
done
mqctl createClient ztpd -p "$(cat "$M/ztpd.pass")"
mqctl addClientRole ztpd ztpd

# ---- ztpd again, now a client of the broker
start_ztpd gw --est-listen 127.0.0.1:0 --mqtt "mqtts://127.0.0.1:$OP_PORT" \
	--mqtt-ca "$F/brokerca.pem" --mqtt-password-file "$M/ztpd.pass" \
	--mqtt-prefix "$PREFIX" --gateway-provisioning-url "mqtts://127.0.0.1:$PROV_PORT"
EST=$(jq -r .est "$DATA/run.json")
for _ in $(seq 1 300); do
	grep -q "u'ztpd')" "$T/mosquitto.log" && break
	kill -0 "${ZTPD_PID[gw]}" 2>/dev/null || die "ztpd exited"
	sleep 0.1
done
grep -q "u'ztpd')" "$T/mosquitto.log" || die "ztpd did not connect to the broker within 30 s"
(umask 077 && admin_token gw >"$T/token")
ztpctl_of gw mfr-ca add maker "$F/mfr.pem" >/dev/null || die "mfr-ca add maker"
ztpctl_of gw mfr-ca add operator-ldevid "$F/ldevca.pem" >/dev/null || die "mfr-ca add operator-ldevid"
ztpctl_of gw gateway-batch create bench >"$T/batch.out" || die "gateway-batch create"
(umask 077 && sed -n 's/^batch_password = //p' "$T/batch.out" >"$T/batch.pass")
rm -f "$T/batch.out"
[ -s "$T/batch.pass" ] || die "gateway-batch create printed no password"

# ---- CPU time: ztpd's whole tree and the broker, in clock ticks
HZ=$(getconf CLK_TCK)
# ticks PID...: user + system time of these processes (fields 14 and 15 of
# /proc/PID/stat, counted after the command name in parentheses)
ticks() {
	local p s sum=0
	for p in "$@"; do
		s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		s=${s##*) }
		# shellcheck disable=SC2086 # the fields
		set -- $s
		sum=$((sum + ${12} + ${13}))
	done
	echo "$sum"
}

common=(--gateways "$N" --threads "$THREADS" --ldev-ca "$F/ldevca.pem" --ldev-key "$F/ldevca.key"
	--admin "${ZTPD_ADMIN[gw]}" --admin-ca "$DATA/ca.pem" --token-file "$T/token")
[ "$NODELAY" = 1 ] && common+=(--tcp-nodelay)
# run MODE ROUND: one run of ztp-gwfleet, its figures and the servers' CPU in $T/runs/MODE-ROUND.json
run() {
	local mode=$1 r=$2 f=$T/runs/$1-$2.json tree z0 z1 m0 m1 rc=0 ok online cut accounts
	# the broker accounts (dynamic-security clients) ztpd has made so far
	accounts=$(sqlite3 -cmd ".timeout 5000" "$DATA/ztp.db" "SELECT count(*) FROM gateways WHERE mqtt_state > 0")
	tree=$(tree_of "${ZTPD_PID[gw]}")
	# shellcheck disable=SC2086 # a list of pids
	z0=$(ticks $tree)
	m0=$(ticks "$MQTT_PID")
	if [ "$mode" = est_only ]; then
		"$GWFLEET" "${common[@]}" --quiet --est-only --udid-prefix "est-r$r" --est "https://$EST" \
			--est-ca "$DATA/ca.pem" --json "$f" 2>>"$T/gwfleet.log" || rc=$?
	else
		"$GWFLEET" "${common[@]}" --quiet --udid-prefix "gw-r$r" --prov "127.0.0.1:$PROV_PORT" \
			--broker-ca "$F/brokerca.pem" --mfr-ca "$F/mfr.pem" --mfr-key "$F/mfr.key" \
			--batch bench --batch-password-file "$T/batch.pass" --prefix "$PREFIX" --expect \
			--cut "$CUT" --cut-by both --progress --json "$f" 2>>"$T/gwfleet.log" || rc=$?
	fi
	[ -s "$f" ] || die "$mode round $r: ztp-gwfleet wrote no figures (exit $rc; see gwfleet.log)"
	# shellcheck disable=SC2086 # a list of pids
	z1=$(ticks $tree)
	m1=$(ticks "$MQTT_PID")
	[ "$(tree_of "${ZTPD_PID[gw]}")" = "$tree" ] ||
		die "ztpd's processes changed during $mode round $r (see gw.log): the CPU figures would miss some"
	[ "$rc" = 0 ] || echo "bench: $mode round $r had failures (see below)" >&2
	ok=$(jq '.ok | floor' "$f")
	if [ "$mode" = onboard ]; then
		# what ztpd recorded: every gateway that said so is online, the ones cut are cut
		for _ in $(seq 1 100); do
			online=$(sqlite3 -cmd ".timeout 5000" "$DATA/ztp.db" \
				"SELECT count(*) FROM gateways WHERE udid LIKE 'gw-r$r-%' AND state = 3")
			[ "$online" -ge "$ok" ] && break
			sleep 0.1
		done
		cut=$(sqlite3 -cmd ".timeout 5000" "$DATA/ztp.db" \
			"SELECT count(*) FROM gateways WHERE udid LIKE 'gw-r$r-%' AND mqtt_state = 2")
	else
		online=$(sqlite3 -cmd ".timeout 5000" "$DATA/ztp.db" \
			"SELECT count(*) FROM certs WHERE udid LIKE 'est-r$r-%' AND method = 'mfr+password'")
		cut=0
	fi
	jq --argjson round "$r" --arg mode "$mode" --argjson hz "$HZ" --argjson z "$((z1 - z0))" \
		--argjson m "$((m1 - m0))" --argjson online "$online" --argjson cut "$cut" \
		--argjson accounts "$accounts" --argjson dynsec "$(stat -c %s "$M/dynsec.json")" \
		'. + {round: $round, mode: $mode, recorded: $online, recorded_cut: $cut,
		 broker_accounts_before: $accounts, dynsec_json_bytes_after: $dynsec,
		 ztpd_cpu_s: ($z / $hz), mosquitto_cpu_s: ($m / $hz),
		 ztpd_cpu_per_gateway_ms: (if .ok > 0 then $z / $hz * 1000 / .ok else 0 end),
		 mosquitto_cpu_per_gateway_ms: (if .ok > 0 then $m / $hz * 1000 / .ok else 0 end)}' \
		"$f" >"$f.tmp" && mv "$f.tmp" "$f"
	runs+=("$f")
	if [ "$mode" = est_only ]; then
		printf '  round %d %-8s %7.1f /s  p50 %7.1f ms  p99 %7.1f ms  ztpd %5.2f ms/op  broker %5.2f ms/op  fleet %5.2f ms/op  failed %d\n' \
			"$r" "$mode" "$(jq .enrolments_per_s "$f")" "$(jq .enrol_p50 "$f")" "$(jq .enrol_p99 "$f")" \
			"$(jq .ztpd_cpu_per_gateway_ms "$f")" "$(jq .mosquitto_cpu_per_gateway_ms "$f")" \
			"$(jq .client_cpu_per_gateway "$f")" "$(jq '.failed | floor' "$f")"
	else
		printf '  round %d %-8s %7.1f /s  p50 %7.1f ms  p99 %7.1f ms  ztpd %5.2f ms/op  broker %5.2f ms/op  fleet %5.2f ms/op  failed %d  cut p50 %.1f/%.1f ms (revoke/block)  accounts %d, dynsec.json %d KiB after\n' \
			"$r" "$mode" "$(jq .onboarded_per_s "$f")" "$(jq .e2e_p50 "$f")" "$(jq .e2e_p99 "$f")" \
			"$(jq .ztpd_cpu_per_gateway_ms "$f")" "$(jq .mosquitto_cpu_per_gateway_ms "$f")" \
			"$(jq .client_cpu_per_gateway "$f")" "$(jq '.failed | floor' "$f")" \
			"$(jq '.cut_revoke_p50 // 0' "$f")" "$(jq '.cut_block_p50 // 0' "$f")" \
			"$accounts" "$(($(jq .dynsec_json_bytes_after "$f") / 1024))"
		[ "$online" -ge "$ok" ] || die "onboard round $r: $ok gateways said online, ztpd recorded $online"
		[ "$cut" -ge "$(jq '(.cut_revoke_n // 0) + (.cut_block_n // 0) | floor' "$f")" ] ||
			die "onboard round $r: ztpd recorded $cut broker accounts cut"
	fi
}

# a small check first: one gateway onboards, one device enrols (not counted)
mkdir -p "$T/runs"
"$GWFLEET" "${common[@]}" --gateways 1 --udid-prefix gw-check --prov "127.0.0.1:$PROV_PORT" \
	--broker-ca "$F/brokerca.pem" --mfr-ca "$F/mfr.pem" --mfr-key "$F/mfr.key" --batch bench \
	--batch-password-file "$T/batch.pass" --prefix "$PREFIX" --expect --cut 1 --cut-by revoke \
	--json "$T/check.json" >"$T/check.out" 2>&1 ||
	die "one gateway does not onboard: $(cat "$T/check.out")"
"$GWFLEET" "${common[@]}" --gateways 1 --udid-prefix est-check --est-only \
	--est "https://$EST" --est-ca "$DATA/ca.pem" --json "$T/check2.json" >"$T/check2.out" 2>&1 ||
	die "one device does not enrol: $(cat "$T/check2.out")"

runs=()
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then order=(est_only onboard); else order=(onboard est_only); fi
	for mode in "${order[@]}"; do
		run "$mode" "$r"
	done
done

# ---- the figures: medians over the rounds
on=("$T"/runs/onboard-*.json)
eo=("$T"/runs/est_only-*.json)
med() { round "$(median_of "$1" "${@:2}")" "${PREC:-1}"; }
failed=0
for f in "${runs[@]}"; do failed=$((failed + $(jq '.failed | floor' "$f"))); done
cut_failed=0
for f in "${on[@]}"; do
	cut_failed=$((cut_failed + $(jq '(.cut_revoke_failed // 0) + (.cut_block_failed // 0) | floor' "$f")))
done
ON_RATE=$(median_of onboarded_per_s "${on[@]}")
EO_RATE=$(median_of enrolments_per_s "${eo[@]}")
E2E50=$(median_of e2e_p50 "${on[@]}")
E2E99=$(median_of e2e_p99 "${on[@]}")
EO50=$(median_of enrol_p50 "${eo[@]}")
EO99=$(median_of enrol_p99 "${eo[@]}")
fig onboard_gateways_per_s "$(round "$ON_RATE" 2)" "/s"
fig onboard_bundles_per_s "$(med bundles_per_s "${on[@]}")" "/s"
fig onboard_e2e_p50 "$(round "$E2E50" 1)" "ms"
fig onboard_e2e_p99 "$(round "$E2E99" 1)" "ms"
fig onboard_request_to_bundle_p50 "$(med bundle_p50 "${on[@]}")" "ms"
fig onboard_request_to_bundle_p99 "$(med bundle_p99 "${on[@]}")" "ms"
fig onboard_est_step_p50 "$(med est_step_p50 "${on[@]}")" "ms"
fig onboard_est_step_p99 "$(med est_step_p99 "${on[@]}")" "ms"
fig onboard_operational_step_p50 "$(med op_step_p50 "${on[@]}")" "ms"
fig onboard_operational_step_p99 "$(med op_step_p99 "${on[@]}")" "ms"
fig est_only_enrolments_per_s "$(round "$EO_RATE" 2)" "/s"
fig est_only_p50 "$(round "$EO50" 1)" "ms"
fig est_only_p99 "$(round "$EO99" 1)" "ms"
fig ratio_onboard_e2e_p50_vs_est_only_p50 "$(ratio "$E2E50" "$EO50" 2)" "x"
fig ratio_onboard_e2e_p99_vs_est_only_p99 "$(ratio "$E2E99" "$EO99" 2)" "x"
fig ratio_onboard_rate_vs_est_only_rate "$(ratio "$ON_RATE" "$EO_RATE" 3)" "x"
PREC=2
fig onboard_ztpd_cpu_per_gateway "$(med ztpd_cpu_per_gateway_ms "${on[@]}")" "ms"
fig est_only_ztpd_cpu_per_enrolment "$(med ztpd_cpu_per_gateway_ms "${eo[@]}")" "ms"
fig onboard_mosquitto_cpu_per_gateway "$(med mosquitto_cpu_per_gateway_ms "${on[@]}")" "ms"
fig onboard_client_cpu_per_gateway "$(med client_cpu_per_gateway "${on[@]}")" "ms"
fig est_only_client_cpu_per_enrolment "$(med client_cpu_per_gateway "${eo[@]}")" "ms"
PREC=1
if [ "$CUT" -gt 0 ]; then
	for by in revoke block; do
		fig "cut_${by}_p50" "$(med "cut_${by}_p50" "${on[@]}")" "ms"
		fig "cut_${by}_p99" "$(med "cut_${by}_p99" "${on[@]}")" "ms"
		fig "cut_${by}_max" "$(med "cut_${by}_max" "${on[@]}")" "ms"
		fig "cut_${by}_admin_call_p50" "$(med "cut_${by}_api_p50" "${on[@]}")" "ms"
		fig "cut_${by}_per_round" "$(jq "(.cut_${by}_n // 0) | floor" "${on[0]}")" "gateways"
	done
fi
# round by round: the broker holds every account made before (a client and a role per gateway)
for r in $(seq 1 "$ROUNDS"); do
	f=$T/runs/onboard-$r.json
	fig "onboard_round${r}_broker_accounts_before" "$(jq .broker_accounts_before "$f")" "accounts"
	fig "onboard_round${r}_gateways_per_s" "$(round "$(jq .onboarded_per_s "$f")" 2)" "/s"
	fig "onboard_round${r}_e2e_p50" "$(round "$(jq .e2e_p50 "$f")" 1)" "ms"
	fig "onboard_round${r}_e2e_p99" "$(round "$(jq .e2e_p99 "$f")" 1)" "ms"
	fig "onboard_round${r}_mosquitto_cpu_per_gateway" "$(round "$(jq .mosquitto_cpu_per_gateway_ms "$f")" 2)" "ms"
	fig "onboard_round${r}_dynsec_json_after" "$(jq .dynsec_json_bytes_after "$f")" "bytes"
done
fig failed_gateways "$failed" "gateways"
fig failed_cuts "$cut_failed" "gateways"
fig gateways "$N" "per run"
fig threads "$THREADS" "at a time"
fig rounds "$ROUNDS" "rounds"
fig tcp_nodelay "$NODELAY" "(1: broker set_tcp_nodelay, gateways MOSQ_OPT_TCP_NODELAY)"
fig cpus "$NCPU" "cores"

finish gateways "${runs[@]}"
echo
printf 'gateways: onboarding end to end p50 %s ms (%s x EST-only), p99 %s ms (%s x); %s gateways/s against %s EST enrolments/s; cut p50 %s ms (revoke), %s ms (block)\n' \
	"${FIG_VALUE[onboard_e2e_p50]}" "${FIG_VALUE[ratio_onboard_e2e_p50_vs_est_only_p50]}" \
	"${FIG_VALUE[onboard_e2e_p99]}" "${FIG_VALUE[ratio_onboard_e2e_p99_vs_est_only_p99]}" \
	"${FIG_VALUE[onboard_gateways_per_s]}" "${FIG_VALUE[est_only_enrolments_per_s]}" \
	"${FIG_VALUE[cut_revoke_p50]:-n/a}" "${FIG_VALUE[cut_block_p50]:-n/a}"
[ "$failed" -eq 0 ] && [ "$cut_failed" -eq 0 ] || exit 1
