#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Three ztpd on one PostgreSQL behind HAProxy in TCP mode
# (docs/cluster-haproxy.md), under a steady mixed load through the one
# HAProxy address: configuration fetches and telemetry posts (psk_client,
# TLS 1.3 PSK), EST enrolments (curl), admin changes (SIMs created,
# configurations set) and PSK rotations (ztp-sim through its pty). Midway
# one ztpd's whole process tree is killed with SIGKILL: the node that has
# just offered a rotation to the ztp-sim SIM, whose key is pending on both
# sides; a connection held open on it through HAProxy (a request head
# half sent) is in flight for sure. Then:
#  - the held connection is closed, without an answer;
#  - no client saw more failures than it had operations in flight between
#    the signal and the last killed process gone (one at most per client:
#    each client runs one operation at a time and goes on with the next);
#  - nothing a client was told succeeded is missing from PostgreSQL: every
#    SIM created, configuration version, telemetry body, certificate;
#  - the rotation pending on the killed node is committed by the SIM's next
#    connection through HAProxy, on another node, and both sides agree on
#    the key generation at the end.
# Every process is stopped by its pid at the end. Nothing here is timed:
# the load runs for a while, the checks are about what happened.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_est.sh"
. "$SRC/scripts/cluster-haproxy.sh"

LOAD_BEFORE=${ZTP_CLUSTER_LOAD_BEFORE:-8} # seconds of load before the kill
LOAD_AFTER=${ZTP_CLUSTER_LOAD_AFTER:-10}  # and after it
OPS=$T/ops                                # one file per client: start end ok|fail kind detail...
mkdir -p "$OPS" "$T/est"
CLIENT_PIDS=""

cluster_cleanup() {
	local rc=$? p i
	set +e
	touch "$T/stop" "$T/go"
	for p in $CLIENT_PIDS ${HELD_PIDS:-}; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ $rc -ne 0 ]; then
		for i in 1 2 3; do
			[ -f "$T/c/n$i.log" ] || continue
			echo "---- node $i log (last 25 lines) ----" >&2
			tail -n 25 "$T/c/n$i.log" >&2
		done
		if [ -f "$T/c/sim.log" ]; then
			echo "---- ztp-sim log (last 15 lines) ----" >&2
			tail -n 15 "$T/c/sim.log" >&2
		fi
		if [ -f "$T/c/haproxy.log" ]; then
			echo "---- haproxy log (last 25 lines) ----" >&2
			tail -n 25 "$T/c/haproxy.log" >&2
		fi
		for p in "$OPS"/*; do
			[ -f "$p" ] || continue
			echo "---- $(basename "$p"): failures ----" >&2
			awk '$3 == "fail"' "$p" >&2
		done
	fi
	hc_stop_all
	(exit $rc)
	cleanup
}
trap cluster_cleanup EXIT

q() { hc_psql "$1"; }

# ---- the cluster: PostgreSQL, three ztpd, HAProxy
hc_init "$BUILD" "$T/c" || fail "cluster setup"
hc_pg_start || fail "PostgreSQL did not start"
for i in 1 2 3; do
	# (the held connections below wait longer than the default time-outs)
	hc_node_start "$i" --workers 1 --allow-psk-ke --est-certs-per-hour 0 \
		--request-timeout 120 --idle-timeout 120 || fail "node $i did not start"
done
hc_haproxy_start || fail "HAProxy did not start, or does not see the three nodes"
ok "PostgreSQL, three ztpd (one store), HAProxy: device :$HC_DEVICE, EST :$HC_EST, admin :$HC_ADMIN"

# every client below talks to HAProxy only; node 1's admin key and CA serve
# them all (the nodes share the data key and the CA)
DATA=$T/c/n1
ADMIN_PORT=$HC_ADMIN
EST_PORT=$HC_EST
export ZTP_ADMIN=$DATA/admin.json
ADMIN_TOKEN=$(admin_token)
export ADMIN_TOKEN
[ -n "$ADMIN_TOKEN" ] && [ "$ADMIN_TOKEN" != null ] || fail "no admin token through HAProxy"

ef_of() { printf '%sF' "$1" | sed 's/\(.\)\(.\)/\2\1/g'; }
sim_add() {
	[ "$(admin POST /v1/sims "{\"iccid\":\"$1\",\"psk\":\"$2\"}" | tail -1)" = 201 ] || fail "cannot create SIM $1"
	[ "$(admin PUT "/v1/sims/$1/config" "$(jq -nc --arg b "$SEED_CONFIG" '{body:$b}')" | tail -1)" = 201 ] ||
		fail "cannot set the configuration of $1"
}
# F fetches its configuration, T posts telemetry, R rotates its key (ztp-sim)
F=$ICCID F_EF=$ICCID_EF F_PSK=$PSK
T_ICCID=8944502509186389643 T_EF=$(ef_of 8944502509186389643) T_PSK=$(openssl rand -hex 32)
R=8944502509186380036 R_PSK=$(openssl rand -hex 32)
sim_add "$F" "$F_PSK"
sim_add "$T_ICCID" "$T_PSK"
sim_add "$R" "$R_PSK"
ok "SIMs and configurations created through HAProxy's admin frontend"

# the EST client's devices: a key and a CSR each, allowlisted beforehand
NEST=20
for k in $(seq 1 $NEST); do
	est_key "$T/est/$k.key"
	est_csr "$T/est/$k.key" "cl-$k" "$T/est/$k.csr"
done
for k in $(seq 1 $NEST); do
	jq -nc --arg u "cl-$k" --arg h "$(est_key_sha256 "$T/est/$k.key")" '{udid: $u, key_sha256: $h}'
done | jq -sc '{entries: .}' >"$T/est/allow.json"
out=$(admin POST /v1/allowlist/import "$(cat "$T/est/allow.json")")
[ "$(echo "$out" | tail -1)" = 200 ] && [ "$(head -1 <<<"$out" | jq .added)" = "$NEST" ] ||
	fail "allowlist import: $out"
ok "$NEST EST devices allowlisted"

# ztp-sim holds R; its modem's port goes to HAProxy
jq -n --arg iccid "$R" --argjson port "$HC_DEVICE" --arg psk "$R_PSK" \
	'{iccid: $iccid, host: "127.0.0.1", port: $port, psk: $psk, psk_generation: 0,
	  locked: true, retry_base_ms: 200, retry_max_ms: 1000}' >"$T/sim.json"
chmod 600 "$T/sim.json"
hc_sim_start "$T/sim.json" "$T/modem" || fail "ztp-sim did not start"

# ---- the clients: one operation at a time each, until $T/stop
# round: one configuration fetch through ztp-sim's pty: 0007 (the
# configuration), 0003, 000F/xxxx, dead or timeout
round() { hc_sim_round "$DEVID" | cut -d' ' -f1; }
simf() { jq -r "$1" "$T/sim.json" 2>/dev/null || echo "?"; }

# op FILE START RESULT KIND DETAIL...: one line of a client's log
op() {
	local f=$1 s=$2
	shift 2
	echo "$s $EPOCHREALTIME $*" >>"$f"
}
# cadmin METHOD PATH [JSON]: admin, with a deadline (a client must go on)
cadmin() {
	curl -sS --max-time 30 --cacert "$DATA/ca.pem" -X "$1" -H "Authorization: Bearer $ADMIN_TOKEN" \
		-H 'Content-Type: application/json' ${3:+-d "$3"} -w '\n%{http_code}' "https://127.0.0.1:$HC_ADMIN$2"
}
# psk REQUEST-FILE ICCID PSK: psk_client through HAProxy; prints the status code
psk() {
	local out
	out=$(timeout 30 "$PSK_CLIENT" --port "$HC_DEVICE" --identity "$2" --psk "$3" --request-file "$1" 2>/dev/null) || true
	head -1 <<<"$out" | awk '{print $2}'
}

client_fetch() {
	local s st f=$OPS/fetch
	request GET "$(config_path "$DEVID" "$F_EF")" >"$T/fetch.req"
	while [ ! -e "$T/stop" ]; do
		s=$EPOCHREALTIME
		st=$(psk "$T/fetch.req" "$F" "$F_PSK")
		case $st in
		200 | 304) op "$f" "$s" ok config "$st" ;;
		*) op "$f" "$s" fail config "${st:-none}" ;;
		esac
		sleep 0.1
	done
}

client_telemetry() {
	local s st n=0 f=$OPS/telemetry
	while [ ! -e "$T/stop" ]; do
		n=$((n + 1))
		request POST "/v1/data/$DEVID?iccid=$T_EF" "" "seq=$n" >"$T/tele.req"
		s=$EPOCHREALTIME
		st=$(psk "$T/tele.req" "$T_ICCID" "$T_PSK")
		if [ "$st" = 204 ]; then op "$f" "$s" ok telemetry "seq=$n"; else op "$f" "$s" fail telemetry "seq=$n" "${st:-none}"; fi
		sleep 0.1
	done
}

client_admin() {
	local s out code n=0 iccid="" v f=$OPS/admin
	while [ ! -e "$T/stop" ]; do
		n=$((n + 1))
		s=$EPOCHREALTIME
		if [ $((n % 2)) = 1 ]; then
			iccid=894450250990$(printf '%07d' "$n")
			out=$(cadmin POST /v1/sims "{\"iccid\":\"$iccid\",\"psk\":\"$(openssl rand -hex 16)\"}" 2>/dev/null) || true
			code=$(echo "$out" | tail -1)
			if [ "$code" = 201 ]; then op "$f" "$s" ok sim "$iccid"; else op "$f" "$s" fail sim "$iccid" "${code:-none}"; iccid=""; fi
		elif [ -n "$iccid" ]; then
			out=$(cadmin PUT "/v1/sims/$iccid/config" "$(jq -nc --arg b "{\"n\":$n}" '{body:$b}')" 2>/dev/null) || true
			code=$(echo "$out" | tail -1)
			v=$(head -1 <<<"$out" | jq -r '.version // empty' 2>/dev/null) || true
			if [ "$code" = 201 ] && [ -n "$v" ]; then op "$f" "$s" ok config "$iccid" "$v"; else op "$f" "$s" fail config "$iccid" "${code:-none}"; fi
		fi
		sleep 0.1
	done
}

# enrolments of new devices (allowlist), and renewals over mutual TLS
# through HAProxy (TCP mode: the client certificate reaches ztpd) of the
# devices enrolled so far, in turn
client_est() {
	local s code k=0 n=0 r f=$OPS/est
	EST_OUT=$T/est/out EST_HDR=$T/est/hdr EST_ERR=$T/est/err
	while [ ! -e "$T/stop" ]; do
		n=$((n + 1))
		s=$EPOCHREALTIME
		if [ $((n % 2)) = 1 ] && [ $k -lt $NEST ]; then
			k=$((k + 1))
			code=$(est_enroll simpleenroll "$T/est/$k.csr" "$T/est/$k.pem")
			if [ "$code" = 200 ]; then op "$f" "$s" ok cert "cl-$k" "$(est_serial "$T/est/$k.pem")"; else op "$f" "$s" fail cert "cl-$k" "$code"; fi
		else
			# the oldest device enrolled that renewed least recently
			r=$(ls -tr "$T"/est/*.pem 2>/dev/null | head -1)
			[ -n "$r" ] || continue
			r=$(basename "$r" .pem)
			code=$(est_enroll simplereenroll "$T/est/$r.csr" "$T/est/$r.new" --cert "$T/est/$r.pem" --key "$T/est/$r.key")
			if [ "$code" = 200 ]; then
				mv "$T/est/$r.new" "$T/est/$r.pem"
				op "$f" "$s" ok cert "cl-$r" "$(est_serial "$T/est/$r.pem")" renew
			else
				op "$f" "$s" fail cert "cl-$r" "$code" renew
			fi
		fi
		sleep 0.2
	done
}

# rotations of R: asked for (admin), offered (a round: the SIM keeps the
# key pending), committed (the next round uses it). With $T/hold present,
# it stops after an offer, says so in $T/offered, and waits for $T/go.
client_rotate() {
	local s r g code f=$OPS/rotate
	while [ ! -e "$T/stop" ]; do
		g=$(simf .psk_generation)
		s=$EPOCHREALTIME
		code=$(cadmin POST "/v1/sims/$R/rotate" 2>/dev/null | tail -1) || true
		if [ "$code" = 200 ]; then op "$f" "$s" ok rotate "$g"; else op "$f" "$s" fail rotate "$g" "${code:-none}"; continue; fi
		s=$EPOCHREALTIME
		r=$(round)
		if [ "$r" = 0007 ] && [ "$(simf '.pending_generation // 0')" = $((g + 1)) ]; then
			op "$f" "$s" ok offer "$((g + 1))"
		else
			op "$f" "$s" fail offer "$((g + 1))" "$r"
		fi
		if [ -e "$T/hold" ] && [ ! -e "$T/offered" ] && [ "$(simf '.pending_generation // 0')" = $((g + 1)) ]; then
			echo "$((g + 1))" >"$T/offered"
			while [ ! -e "$T/go" ]; do sleep 0.05; done
		fi
		# commit, and whatever else it takes for the SIM and the server to agree
		for _ in 1 2 3; do
			s=$EPOCHREALTIME
			r=$(round)
			if [ "$r" = 0007 ] && [ "$(simf .psk_generation)" -gt "$g" ] && [ "$(simf '.pending_generation // 0')" = 0 ]; then
				op "$f" "$s" ok commit "$(simf .psk_generation)"
				break
			fi
			op "$f" "$s" fail commit "$((g + 1))" "$r"
		done
	done
}

for c in fetch telemetry admin est rotate; do
	: >"$OPS/$c"
	(
		set +e
		"client_$c"
	) &
	CLIENT_PIDS="$CLIENT_PIDS $!"
done
ok "five clients started: fetch, telemetry, admin, est, rotate"
sleep "$LOAD_BEFORE"

# ---- the kill: the node that offered R its next key, just after the offer
touch "$T/hold"
for _ in $(seq 1 1200); do
	[ -s "$T/offered" ] && break
	sleep 0.05
done
[ -s "$T/offered" ] || fail "no rotation offered to $R within 60 s: $(tail -n 3 "$OPS/rotate")"
G=$(cat "$T/offered")
VICTIM=""
last=""
for i in 1 2 3; do
	line=$(grep -h "$R: key generation $G offered" "$T/c/n$i.log" | tail -1) || true
	[ -n "$line" ] || continue
	if [ -z "$last" ] || [[ "$line" > "$last" ]]; then
		last=$line
		VICTIM=$i
	fi
done
[ -n "$VICTIM" ] || fail "no node logged the offer of generation $G to $R"
[ "$(q "SELECT psk_generation, pending_psk IS NOT NULL FROM sims WHERE iccid='$R'")" = "$((G - 1))|t" ] ||
	fail "the store does not hold generation $G pending for $R"

# a connection held open on the victim through HAProxy, its request head
# half sent: it is in flight at the kill for sure. psk_client connections
# are opened until HAProxy has sent one to the victim (show sess names the
# server of each client port); the others are closed after the kill.
held_port() { # the local port of psk_client PID's connection to HAProxy
	ss -tnpH "dport = :$HC_DEVICE" 2>/dev/null | grep "pid=$1," | awk '{print $4}' | sed 's/.*://' | head -1
}
HELD_PIDS="" HELD_VICTIM=""
for k in $(seq 1 15); do
	"$PSK_CLIENT" --port "$HC_DEVICE" --identity "$F" --psk "$F_PSK" --wait 100 \
		--partial "GET $(config_path "$DEVID" "$F_EF") HTTP/1.1"$'\r\nHost: x\r\n' >/dev/null 2>"$T/held.$k" &
	pid=$!
	HELD_PIDS="$HELD_PIDS $pid"
	for _ in $(seq 1 400); do
		grep -q '^kex:' "$T/held.$k" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	port=$(held_port "$pid")
	if [ -n "$port" ] && hc_haproxy_cmd "show sess" | grep "src=127.0.0.1:$port " | grep -q "srv=n$VICTIM "; then
		HELD_VICTIM=$pid HELD_K=$k HELD_START=$EPOCHREALTIME
		break
	fi
done
[ -n "$HELD_VICTIM" ] || fail "no held connection reached node $VICTIM through HAProxy"
tree=$(hc_node_tree "$VICTIM")
hc_node_kill "$VICTIM" || fail "node $VICTIM's processes did not all die"
touch "$T/go"
KILLED_AT=$HC_KILL_T0
ok "node $VICTIM (offered generation $G to $R) killed: $(echo $tree | wc -w) processes ($(echo $tree)) gone in $(awk -v a="$HC_KILL_T0" -v b="$HC_KILL_T1" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms"
held_rc=0
wait "$HELD_VICTIM" || held_rc=$?
held_end=$EPOCHREALTIME
grep -q "closed by the server" "$T/held.$HELD_K" && [ "$held_rc" = 0 ] ||
	fail "the held connection on node $VICTIM: $(cat "$T/held.$HELD_K") (exit $held_rc)"
echo "$HELD_START $held_end fail held connection-closed-without-answer" >"$OPS/held"
for p in $HELD_PIDS; do [ "$p" = "$HELD_VICTIM" ] || kill -TERM "$p" 2>/dev/null || true; done
for p in $HELD_PIDS; do [ "$p" = "$HELD_VICTIM" ] || wait "$p" 2>/dev/null || true; done
ok "the connection held open on node $VICTIM was closed, no answer, $(awk -v a="$HC_KILL_T0" -v b="$held_end" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms after the signal"
hc_wait_down "$VICTIM" || fail "HAProxy did not take node $VICTIM out of rotation"
ok "HAProxy took node $VICTIM out of its three backends"

# the SIM's next connection (through HAProxy, to another node) commits it
for _ in $(seq 1 1200); do
	grep -q " ok commit $G\$" "$OPS/rotate" && break
	sleep 0.05
done
grep -q " ok commit $G\$" "$OPS/rotate" || fail "the rotation to generation $G did not complete after the kill: $(tail -n 3 "$OPS/rotate")"
[ "$(q "SELECT psk_generation >= $G FROM sims WHERE iccid='$R'")" = t ] || fail "the store did not commit generation $G for $R"
committer=""
for i in 1 2 3; do
	grep "key generation $G committed" "$T/c/n$i.log" | grep -q "$R" && committer="$committer $i"
done
[ -n "$committer" ] && [ "$committer" != " $VICTIM" ] || fail "generation $G committed by node(s)$committer"
ok "the rotation pending on the killed node was committed by node$committer on R's next connection"

sleep "$LOAD_AFTER"
touch "$T/stop"
for p in $CLIENT_PIDS; do wait "$p" || true; done
CLIENT_PIDS=""
ok "load stopped"

# ---- failures against operations in flight at the kill
K0=$HC_KILL_T0 K1=$HC_KILL_T1
tot_ops=0 tot_fail=0 tot_inflight=0
for c in fetch telemetry admin est rotate held; do
	f=$OPS/$c
	n=$(wc -l <"$f")
	nf=$(awk '$3 == "fail"' "$f" | wc -l)
	# in flight: started before the last killed process was gone, ended after the signal
	ni=$(awk -v a="$K0" -v b="$K1" '$1 + 0 < b + 0 && $2 + 0 > a + 0' "$f" | wc -l)
	after=$(awk -v b="$K1" '$1 + 0 > b + 0 && $3 == "ok"' "$f" | wc -l)
	echo "   $c: $n operations, $nf failed, $ni in flight at the kill, $after succeeded after it"
	[ "$nf" -le "$ni" ] || fail "$c: $nf failures, but $ni operations in flight at the kill: $(awk '$3 == "fail"' "$f" | head -3)"
	[ "$after" -gt 0 ] || [ "$c" = held ] || fail "$c: nothing succeeded after the kill"
	tot_ops=$((tot_ops + n)) tot_fail=$((tot_fail + nf)) tot_inflight=$((tot_inflight + ni))
done
ok "$tot_ops operations, $tot_fail failed, $tot_inflight in flight at the kill: no client failed more than it had in flight"
retries=$(hc_haproxy_cmd "show stat" | awk -F, '$2 == "BACKEND" { r += $16; d += $17 } END { print r + 0 "/" d + 0 }')
echo "   HAProxy: ${retries%/*} connection retries, ${retries#*/} redispatches"

# ---- nothing a client was told succeeded is missing
inlist() { awk "$1" "$2" | sed "s/.*/'&'/" | paste -sd, -; }
sims=$(inlist '$3 == "ok" && $4 == "sim" { print $5 }' "$OPS/admin")
nsims=$(awk '$3 == "ok" && $4 == "sim"' "$OPS/admin" | wc -l)
[ "$nsims" -gt 0 ] || fail "no SIM was created under load"
[ "$(q "SELECT count(*) FROM sims WHERE iccid IN ($sims)")" = "$nsims" ] || fail "a SIM created (201) is missing"
cfgs=$(awk '$3 == "ok" && $4 == "config" { printf "%s(%s,%s)", (n++ ? "," : ""), "\x27" $5 "\x27", $6 }' "$OPS/admin")
ncfgs=$(awk '$3 == "ok" && $4 == "config"' "$OPS/admin" | wc -l)
[ "$ncfgs" -gt 0 ] || fail "no configuration was set under load"
[ "$(q "SELECT count(*) FROM configs WHERE (iccid, version) IN ($cfgs)")" = "$ncfgs" ] ||
	fail "a configuration version set (201) is missing"
tele=$(inlist '$3 == "ok" { print $5 }' "$OPS/telemetry")
ntele=$(awk '$3 == "ok"' "$OPS/telemetry" | wc -l)
[ "$(q "SELECT count(DISTINCT body) FROM telemetry WHERE iccid='$T_ICCID' AND convert_from(body, 'UTF8') IN ($tele)")" = "$ntele" ] ||
	fail "a telemetry body acknowledged (204) is missing"
certs=$(inlist '$3 == "ok" { print $6 }' "$OPS/est")
ncerts=$(awk '$3 == "ok"' "$OPS/est" | wc -l)
[ "$ncerts" -gt 0 ] || fail "no certificate was issued under load"
[ "$(q "SELECT count(*) FROM certs WHERE serial IN ($certs)")" = "$ncerts" ] || fail "a certificate issued (200) is not on record"
ok "on record: $nsims SIMs, $ncfgs configuration versions, $ntele telemetry bodies, $ncerts certificates"

# ---- HAProxy's health checks (HTTPS to the EST listeners) and the load
# are all legitimate: no refusal on record, from HAProxy's address or any
kinds=$(q "SELECT kind || ' ' || sum(count) FROM events GROUP BY kind ORDER BY kind" | paste -sd, -)
echo "   events: $kinds"
case ",$kinds" in
*,handshake_refused* | *,request_refused* | *,token_refused* | *,unknown_identity* | *,stale_key*)
	fail "refusals on record: $kinds" ;;
esac
ok "no refusal recorded: the health checks and the clients through HAProxy cause none"

# ---- R: both sides agree at the end
sg=$(simf .psk_generation)
[ "$(simf '.pending_generation // 0')" = 0 ] || fail "the SIM ends with a pending key: $(cat "$T/sim.json")"
[ "$(q "SELECT psk_generation, pending_psk IS NULL FROM sims WHERE iccid='$R'")" = "$sg|t" ] ||
	fail "the SIM is at generation $sg, the store: $(q "SELECT psk_generation, pending_psk IS NULL FROM sims WHERE iccid='$R'")"
nrot=$(grep -c ' ok commit ' "$OPS/rotate")
ok "$nrot rotations of R committed; the SIM and the store agree on generation $sg"

hc_stop_all
for p in $tree; do hc_gone "$p" || fail "process $p of the killed node still runs"; done
ok "HAProxy, the two other nodes and PostgreSQL stopped"
echo "cluster behind HAProxy: all checks passed"
