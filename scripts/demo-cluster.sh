#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make demo-cluster: three ztpd on one PostgreSQL behind HAProxy, on one
# machine (docs/cluster-haproxy.md). A throwaway PostgreSQL starts; node 1
# makes the data key and the CA, nodes 2 and 3 join with them; HAProxy
# spreads the device, EST and admin ports over the three in TCP mode. A
# SIM in ztp-sim fetches its configuration through the one HAProxy
# address a few times (HAProxy's log says which node answered), then one
# node is killed with SIGKILL, parent and children, and the fetches and the
# admin API go on through the two others. Everything stops at the end, or
# on Ctrl-C.
set -euo pipefail
BUILD=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=$root/$BUILD
[ -x "$BUILD/ztpd" ] && BIN=$(cd "$BUILD" && pwd)
. "$root/scripts/cluster-haproxy.sh"
demo=$(mktemp -d /tmp/ztp-demo-cluster.XXXXXX)

cleanup() {
	trap - EXIT INT TERM
	echo
	echo "stopping ztp-sim, HAProxy, the ztpd nodes and PostgreSQL"
	hc_stop_all
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept: $demo"
	else
		rm -rf "$demo"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '$ %s\n' "$*"; }

ICCID=8944502509186389635
DEVID=B58D51C5504D5257352E3120FF0D1338
PSK=$(openssl rand -hex 32)
ON='{"configuration":{"version":"2021-05-05","config":[{"action":"iot:Alarm","effect":"On"}]}}'
OFF='{"configuration":{"version":"2021-05-06","config":[{"action":"iot:Alarm","effect":"Off"}]}}'

hc_init "$BIN" "$demo"

step "a PostgreSQL for the three nodes (tests/pg/pg.sh: a throwaway cluster)"
hc_pg_start
echo "store: $HC_URL"

step "node 1 creates the data key, the CA and the schema"
say "ztpd --data n1 --store '$HC_URL' --device-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --est-listen 127.0.0.1:0"
hc_node_start 1 --workers 1 --allow-psk-ke
sed 's/^/  n1| /' "$demo/n1.log"

step "nodes 2 and 3 join: node 1's data key and CA, their own server certificates"
for i in 2 3; do
	HC_VERBOSE=1 hc_join "$i"
	say "ztpd --data n$i --store '$HC_URL' ..."
	hc_node_start "$i" --workers 1 --allow-psk-ke
done
for i in 1 2 3; do
	printf '  node %s: pid %s, device %s, admin %s, EST %s\n' "$i" "$(jq -r .pid "$demo/n$i/run.json")" \
		"$(hc_addr "$i" device)" "$(hc_addr "$i" admin)" "$(hc_addr "$i" est)"
done

step "HAProxy in front of them: TCP mode, round robin, health checks (docs/examples/haproxy.cfg)"
hc_haproxy_start
grep -v '^#' "$demo/haproxy.cfg" | sed '/^$/d; s/^/  | /'
echo "one address for everyone: device 127.0.0.1:$HC_DEVICE, EST 127.0.0.1:$HC_EST, admin 127.0.0.1:$HC_ADMIN"

# the admin key of node 1, pointed at HAProxy: ztpctl reaches whichever node
jq --arg u "https://127.0.0.1:$HC_ADMIN" '.url = $u' "$demo/n1/admin.json" >"$demo/admin.json"
chmod 600 "$demo/admin.json"
export ZTP_ADMIN=$demo/admin.json

step "the operator registers a SIM and its configuration, through HAProxy"
echo "\$ ztpctl sim add $ICCID --psk <the SIM's PSK>"
"$BIN/ztpctl" sim add "$ICCID" --psk "$PSK"
say "ztpctl config set $ICCID --body '$ON'"
"$BIN/ztpctl" config set "$ICCID" --body "$ON"

step "the SIM (ztp-sim) fetches its configuration from 127.0.0.1:$HC_DEVICE"
jq -n --arg iccid "$ICCID" --argjson port "$HC_DEVICE" --arg psk "$PSK" \
	'{iccid: $iccid, host: "127.0.0.1", port: $port, psk: $psk, psk_generation: 0, locked: true,
	  retry_base_ms: 200, retry_max_ms: 2000}' >"$demo/sim.json"
chmod 600 "$demo/sim.json"
hc_sim_start "$demo/sim.json" "$demo/modem"
echo "ztp-sim: modem on $HC_PTY"

# fetch N: N fetches, each with the node HAProxy chose for it (its log)
fetch() {
	local r before
	for _ in $(seq 1 "$1"); do
		before=$(grep -c ' device ztpd_device/' "$demo/haproxy.log" || true)
		r=$(hc_sim_round "$DEVID")
		sleep 0.2 # HAProxy logs a connection when it closes
		printf '  fetch: %-60s served by %s\n' "$r" \
			"$(grep ' device ztpd_device/' "$demo/haproxy.log" | tail -n +$((before + 1)) |
				sed -n 's/.* ztpd_device\/\(n[0-9]\).*/\1/p' | paste -sd, -)"
	done
}
fetch 4

step "node 2 dies: kill -9 of its parent, front and signer"
tree=$(hc_node_tree 2)
say "kill -KILL $(echo $tree)"
hc_node_kill 2
echo "gone $(awk -v a="$HC_KILL_T0" -v b="$HC_KILL_T1" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms after the signal"
hc_wait_down 2
grep -h 'n2 is DOWN' "$demo/haproxy.log" | grep -v '^\[' | sed 's/^/  haproxy| /'

step "the SIM goes on fetching, from nodes 1 and 3"
fetch 4

step "and the operator changes the configuration, through HAProxy, with node 2 gone"
say "ztpctl config set $ICCID --body '$OFF'"
"$BIN/ztpctl" config set "$ICCID" --body "$OFF"
fetch 2
say "ztpctl config history $ICCID"
"$BIN/ztpctl" config history "$ICCID"

step "what HAProxy counted per node (show stat: sessions, connection errors, retries, redispatches, status)"
hc_haproxy_cmd "show stat" | awk -F, '$1 ~ /^ztpd_/ && $2 != "FRONTEND" {
	printf "  %-14s %-8s sessions %-4s errors %-3s retries %-3s redispatches %-3s %s\n", $1, $2, $8, $14, $16, $17, $18 }'

step "done"
