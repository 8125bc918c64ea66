# SPDX-License-Identifier: Apache-2.0
# Three ztpd on one PostgreSQL behind HAProxy, on one machine: the setup
# that scripts/demo-cluster.sh shows and tests/integration/test_cluster_haproxy.sh
# puts under load and kills a node of (docs/cluster-haproxy.md). Sourced;
# every function is prefixed hc_ and every variable HC_.
#
#   hc_init BIN DIR         ztpd, ztpctl... in BIN; everything below lives in DIR
#   hc_pg_start             a throwaway PostgreSQL (tests/pg/pg.sh) and the
#                           database ztp in it; HC_URL is its URL
#   hc_node_start I [opts]  node I (1..3): ztpd --store HC_URL on DIR/nI with
#                           device, admin and EST listeners on free loopback
#                           ports; node 1 makes the data key and the CA on its
#                           first start, nodes 2 and 3 join with node 1's
#                           (hc_join I, unless done before)
#   hc_haproxy_start        DIR/haproxy.cfg for the nodes started, HAProxy on
#                           it (HC_DEVICE, HC_ADMIN, HC_EST: its ports), waits
#                           until every server is up
#   hc_haproxy_state [BACKEND]  "backend server state" per server (UP, DOWN...)
#   hc_wait_down I          until HAProxy has taken node I out of every backend
#   hc_node_tree I          the pids of node I: parent, front, signer and any
#                           process below them
#   hc_node_kill I          kill -9 of that whole tree at once; returns once
#                           each of them is gone (HC_KILL_T0, HC_KILL_T1: the
#                           times, $EPOCHREALTIME, before the signal and after)
#   hc_sim_start FILE LINK  ztp-sim on the SIM file FILE, its modem's pty
#                           linked as LINK (HC_SIM_PID, HC_PTY)
#   hc_sim_round DEVID      one configuration fetch through that modem, as
#                           the alarm application does it: "0007 BODY" (a
#                           configuration), 0003 (none), 000F/xxxx (an
#                           error), dead or timeout
#   hc_stop_all             ztp-sim, HAProxy, every node, PostgreSQL: each
#                           by its pid
#
# Started as root, the nodes' front and signer run as the user ztp, and so
# does PostgreSQL (pg.sh): DIR must be searchable by ztp.

HC_HAPROXY=${HC_HAPROXY:-/usr/sbin/haproxy}
HC_NODES=""
HC_HAPROXY_PID=""
HC_SIM_PID=""
HC_URL=""

hc_init() {
	HC_BIN=$1
	HC_DIR=$2
	HC_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	HC_PG_SH=${ZTP_PG_SH:-$HC_SRC/tests/pg/pg.sh}
	[ -f "$HC_PG_SH" ] || { echo "cluster: no $HC_PG_SH (tests/pg/pg.sh)" >&2; return 1; }
	[ -x "$HC_HAPROXY" ] || { echo "cluster: no HAProxy at $HC_HAPROXY (apt-get install haproxy)" >&2; return 1; }
	mkdir -p "$HC_DIR"
	chmod 711 "$HC_DIR"
	# the interpreter itself: a version manager's shim can cost a second a call
	HC_PY=$(python3 -c 'import sys; print(sys.executable)') || return 1
}

hc_pg_start() {
	bash "$HC_PG_SH" start "$HC_DIR/pg" >/dev/null 2>"$HC_DIR/pg.log" || { cat "$HC_DIR/pg.log" >&2; return 1; }
	bash "$HC_PG_SH" createdb "$HC_DIR/pg" ztp >>"$HC_DIR/pg.log" 2>&1 || { cat "$HC_DIR/pg.log" >&2; return 1; }
	HC_URL=$(bash "$HC_PG_SH" url "$HC_DIR/pg" ztp)
}

# hc_psql SQL: the rows of SQL on the shared database, |-separated, no header
hc_psql() { bash "$HC_PG_SH" psql "$HC_DIR/pg" ztp -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }

# hc_free_ports N: N loopback ports nothing listens on now
hc_free_ports() {
	"$HC_PY" -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# hc_join I: the data directory of node I gets what node 1's holds that the
# store's contents depend on: the data key (the PSKs are sealed with it, the
# admin tokens signed), the CA certificate, key and passphrase (each node's
# signer issues that node's server certificate), through a node bundle
# (ztpd export-node, ztpd join: docs/node-bundle.md). With HC_VERBOSE=1 it
# says what it runs.
hc_join() {
	if [ ! -f "$HC_DIR/node.bundle" ]; then
		(umask 077 && openssl rand -hex 16 >"$HC_DIR/bundle.pass")
		[ "${HC_VERBOSE:-0}" != 1 ] || echo "\$ ztpd --data n1 export-node --out node.bundle --passphrase-file bundle.pass"
		"$HC_BIN/ztpd" --data "$HC_DIR/n1" export-node --out "$HC_DIR/node.bundle" \
			--passphrase-file "$HC_DIR/bundle.pass" >>"$HC_DIR/n1.log" 2>&1 ||
			{ tail -n 5 "$HC_DIR/n1.log" >&2; return 1; }
	fi
	[ "${HC_VERBOSE:-0}" != 1 ] || echo "\$ ztpd --data n$1 --store '$HC_URL' join node.bundle --passphrase-file bundle.pass"
	"$HC_BIN/ztpd" --data "$HC_DIR/n$1" --store "$HC_URL" join "$HC_DIR/node.bundle" \
		--passphrase-file "$HC_DIR/bundle.pass" >>"$HC_DIR/n$1.log" 2>&1 ||
		{ tail -n 5 "$HC_DIR/n$1.log" >&2; return 1; }
}

hc_node_start() {
	local i=$1 d=$HC_DIR/n$1 pid=""
	shift
	[ "$i" = 1 ] || [ -f "$HC_DIR/n$i/secret.key" ] || hc_join "$i"
	rm -f "$d/run.json"
	"$HC_BIN/ztpd" --data "$d" --store "$HC_URL" --device-listen 127.0.0.1:0 \
		--admin-listen 127.0.0.1:0 --est-listen 127.0.0.1:0 "$@" >>"$HC_DIR/n$i.log" 2>&1 &
	pid=$!
	disown # no job report when it is killed; hc_gone takes its zombie for gone
	eval "HC_PID_$i=$pid"
	for _ in $(seq 1 400); do
		[ "$(jq -r .pid "$d/run.json" 2>/dev/null)" = "$pid" ] && break
		kill -0 "$pid" 2>/dev/null || { tail -n 20 "$HC_DIR/n$i.log" >&2; echo "cluster: node $i exited at start" >&2; return 1; }
		sleep 0.05
	done
	[ "$(jq -r .pid "$d/run.json" 2>/dev/null)" = "$pid" ] || { echo "cluster: node $i wrote no run.json" >&2; return 1; }
	case " $HC_NODES " in *" $i "*) ;; *) HC_NODES="$HC_NODES $i" ;; esac
}

# hc_addr I KIND: node I's bound address of KIND (device, admin, est)
hc_addr() { jq -r ".$2" "$HC_DIR/n$1/run.json"; }

# hc_haproxy_cfg FILE: the configuration of docs/examples/haproxy.cfg with
# this machine's ports and shorter health checks. HC_CHECK=http (default):
# an HTTPS request to each node's EST listener (GET cacerts, the server
# certificate verified against the CA), which the device and admin servers
# of that node track: a node whose front no longer answers leaves every
# backend. HC_CHECK=tcp: a TCP connect to each listener.
hc_haproxy_cfg() {
	local kind i check
	cat >"$1" <<EOF
# written by scripts/cluster-haproxy.sh; docs/examples/haproxy.cfg explains each line
global
    log stdout format raw local0 info
    maxconn 4000
    stats socket $HC_DIR/haproxy.sock mode 600 level admin

defaults
    mode tcp
    log global
    log-format "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq via %bi:%bp"
    option dontlognull
    balance roundrobin
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout check 2s
    retries 3
    option redispatch 1
    default-server inter 500ms fastinter 200ms downinter 1s fall 2 rise 2

frontend device
    bind 127.0.0.1:$HC_DEVICE
    stick-table type ip size 1m expire 2m store conn_cur,conn_rate(60s)
    tcp-request connection track-sc0 src
    tcp-request connection reject if { sc0_conn_cur gt 256 } || { sc0_conn_rate gt 6000 }
    default_backend ztpd_device
frontend est
    bind 127.0.0.1:$HC_EST
    default_backend ztpd_est
frontend admin
    bind 127.0.0.1:$HC_ADMIN
    default_backend ztpd_admin
EOF
	for kind in est device admin; do
		printf '\nbackend ztpd_%s\n' "$kind" >>"$1"
		if [ "${HC_CHECK:-http}" = http ] && [ "$kind" = est ]; then
			cat >>"$1" <<EOF
    option httpchk
    http-check send meth GET uri /.well-known/est/cacerts ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
EOF
		fi
		for i in $HC_NODES; do
			if [ "${HC_CHECK:-http}" != http ]; then
				check=check
			elif [ "$kind" = est ]; then
				check="check check-ssl verify required ca-file $HC_DIR/n1/ca.pem"
			else
				check="track ztpd_est/n$i"
			fi
			printf '    server n%s %s %s\n' "$i" "$(hc_addr "$i" "$kind")" "$check" >>"$1"
		done
	done
}

# hc_haproxy_cmd CMD: CMD on HAProxy's stats socket; prints the answer
hc_haproxy_cmd() {
	"$HC_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())' "$HC_DIR/haproxy.sock" "$1"
}

# hc_haproxy_state [BACKEND]: one line "backend server UP|DOWN|..." per
# server (of BACKEND: device, est, admin; of all three by default)
hc_haproxy_state() {
	hc_haproxy_cmd "show stat" | awk -F, -v b="${1:+ztpd_$1}" \
		'$1 ~ /^ztpd_/ && (b == "" || $1 == b) && $2 != "BACKEND" && $2 != "FRONTEND" { print substr($1, 6), $2, $18 }'
}

hc_haproxy_start() {
	local ports
	ports=$(hc_free_ports 3)
	read -r HC_DEVICE HC_EST HC_ADMIN <<<"$ports"
	hc_haproxy_cfg "$HC_DIR/haproxy.cfg"
	"$HC_HAPROXY" -c -q -f "$HC_DIR/haproxy.cfg" || return 1
	"$HC_HAPROXY" -db -f "$HC_DIR/haproxy.cfg" >>"$HC_DIR/haproxy.log" 2>&1 &
	HC_HAPROXY_PID=$!
	for _ in $(seq 1 200); do
		[ "$(hc_haproxy_state 2>/dev/null | grep -c ' UP$')" = $((3 * $(echo $HC_NODES | wc -w))) ] && return 0
		kill -0 "$HC_HAPROXY_PID" 2>/dev/null || { cat "$HC_DIR/haproxy.log" >&2; return 1; }
		sleep 0.1
	done
	echo "cluster: HAProxy does not see every node up" >&2
	return 1
}

# hc_wait_down I: until node I is DOWN in the three backends (false after 30 s)
hc_wait_down() {
	for _ in $(seq 1 300); do
		[ "$(hc_haproxy_state | grep -c " n$1 DOWN\$")" = 3 ] && return 0
		sleep 0.1
	done
	return 1
}

# hc_children PID...: every process below the PIDs (from /proc)
hc_children() {
	local p c
	for p in "$@"; do
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
			echo "$c"
			hc_children "$c"
		done
	done
}

hc_node_tree() {
	local d=$HC_DIR/n$1 parent front signer p
	parent=$(eval echo "\${HC_PID_$1:-}")
	front=$(jq -r '.front_pid // empty' "$d/run.json" 2>/dev/null || true)
	signer=$(jq -r '.signer_pid // empty' "$d/run.json" 2>/dev/null || true)
	{
		for p in $parent $front $signer; do hc_gone "$p" || echo "$p"; done
		hc_children $parent $front $signer
	} | sort -un
}

# hc_gone PID: no such process, or a zombie (its descriptors are closed);
# shell builtins only, to see it as soon as it happens
hc_gone() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 0
	st=${st##*) }
	[ "${st%% *}" = Z ]
}

hc_node_kill() {
	local pids p
	pids=$(hc_node_tree "$1")
	HC_KILL_T0=$EPOCHREALTIME
	kill -KILL $pids 2>/dev/null || true
	for _ in $(seq 1 5000); do
		for p in $pids; do hc_gone "$p" || { sleep 0.002; continue 2; }; done
		break
	done
	HC_KILL_T1=$EPOCHREALTIME
	for p in $pids; do hc_gone "$p" || return 1; done
	HC_NODES=$(echo $HC_NODES | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

# hc_node_stop I: SIGTERM to its parent (the front drains, then the
# signer), SIGKILL to what is left after 10 s
hc_node_stop() {
	local pids p
	pids=$(hc_node_tree "$1")
	[ -n "$pids" ] || return 0
	kill -TERM "$(eval echo "\${HC_PID_$1:-}")" 2>/dev/null || true
	for _ in $(seq 1 100); do
		for p in $pids; do hc_gone "$p" || { sleep 0.1; continue 2; }; done
		break
	done
	for p in $pids; do hc_gone "$p" || kill -KILL "$p" 2>/dev/null || true; done
	eval "HC_PID_$1="
}

hc_sim_start() {
	: >"$HC_DIR/sim.out"
	"$HC_BIN/ztp-sim" --sim "$1" --link "$2" >"$HC_DIR/sim.out" 2>>"$HC_DIR/sim.log" &
	HC_SIM_PID=$!
	for _ in $(seq 1 200); do
		[ -s "$HC_DIR/sim.out" ] && break
		kill -0 "$HC_SIM_PID" 2>/dev/null || { echo "cluster: ztp-sim exited at start" >&2; return 1; }
		sleep 0.05
	done
	HC_PTY=$(head -1 "$HC_DIR/sim.out")
	[ -c "$HC_PTY" ] || { echo "cluster: ztp-sim printed no pty" >&2; return 1; }
}

# hc_chat LINE...: the modem's escaped answers (pty_chat.py), "dead" if it is gone
hc_chat() {
	ZTP_SIM_PID=$HC_SIM_PID "$HC_PY" "$HC_SRC/tests/integration/pty_chat.py" "$HC_PTY" "$@" 2>/dev/null || echo dead
}

hc_sim_round() {
	local r hex
	# reset, the SAFE2 applet on channel 1, the Device ID, fetch the configuration
	r=$(hc_chat ATE0 'AT+CSIM=10,"0070000001"' 'AT+CSIM=34,"01A4040C0CF0706F646773616665320101"' \
		"AT+CSIM=42,\"01DA02C010$1\"" 'AT+CSIM=10,"01CA000000"')
	case "$r" in *dead*) echo dead; return ;; esac
	for _ in $(seq 1 600); do
		r=$(hc_chat 'AT+CSIM=10,"01CC020000"') # poll
		case "$r" in
		*dead*) echo dead; return ;;
		*'"00070000'*)
			r=$(hc_chat 'AT+CSIM=10,"01CA010000"' 'AT+CSIM=10,"0070800100"') # read, close the channel
			hex=$(printf '%s' "$r" | head -1 | sed -n 's/.*+CSIM: [0-9]*,"\([0-9A-F]*\)9000".*/\1/p')
			echo "0007 $(printf '%s' "$hex" | xxd -r -p | tr -d '\r\n')"
			return
			;;
		*'"00030000'*) hc_chat 'AT+CSIM=10,"0070800100"' >/dev/null; echo 0003; return ;;
		*'"000F'*) hc_chat 'AT+CSIM=10,"0070800100"' >/dev/null; echo "000F/${r:25:4}"; return ;;
		esac
		sleep 0.1
	done
	echo timeout
}

hc_stop_all() {
	local i
	if [ -n "$HC_SIM_PID" ]; then
		kill -TERM "$HC_SIM_PID" 2>/dev/null || true
		wait "$HC_SIM_PID" 2>/dev/null || true
		HC_SIM_PID=""
	fi
	if [ -n "$HC_HAPROXY_PID" ]; then
		kill -TERM "$HC_HAPROXY_PID" 2>/dev/null || true
		wait "$HC_HAPROXY_PID" 2>/dev/null || true
		HC_HAPROXY_PID=""
	fi
	for i in 1 2 3; do hc_node_stop "$i"; done
	HC_NODES=""
	[ -z "${HC_PG_SH:-}" ] || [ ! -d "$HC_DIR/pg" ] || bash "$HC_PG_SH" stop "$HC_DIR/pg" >/dev/null 2>&1 || true
}
