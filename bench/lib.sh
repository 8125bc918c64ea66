# SPDX-License-Identifier: Apache-2.0
# Shared helpers of the benchmark drivers (sourced by bench/*.sh).
#
# usage of a driver: bash bench/NAME.sh BUILD_DIR
# Every process a driver starts listens on a loopback ephemeral port and is
# stopped on exit (trap); every wait has a deadline. The figures are
# printed last, one per line, "name: value unit", and written with the raw
# runs to bench/results/NAME.json.
# shellcheck disable=SC2034 # the variables set here are the drivers'
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_ARG=${1:-build}
if [ -d "$BUILD_ARG" ]; then
	BIN=$(cd "$BUILD_ARG" && pwd)
elif [ -d "$SRC/$BUILD_ARG" ]; then
	BIN=$(cd "$SRC/$BUILD_ARG" && pwd)
else
	echo "bench: no build directory $BUILD_ARG (run make build, or pass it)" >&2
	exit 2
fi
ZTPD=$BIN/ztpd
ZTPCTL=$BIN/ztpctl
ZTPBENCH=$BIN/bench/ztp-bench
ZTPSIM=$BIN/ztp-sim
ALARM=$BIN/alarm
for b in "$ZTPD" "$ZTPCTL" "$ZTPBENCH"; do
	[ -x "$b" ] || { echo "bench: $b is missing (build first)" >&2; exit 2; }
done
for t in jq curl openssl sqlite3 bc; do
	command -v "$t" >/dev/null || { echo "bench: $t is missing (make deps)" >&2; exit 2; }
done

RESULTS=$SRC/bench/results
mkdir -p "$RESULTS"
T=$(mktemp -d /tmp/ztp-bench.XXXXXX)
chmod 711 "$T" # started as root, ztpd runs as ztp: it must reach its data directory
NCPU=$(nproc 2>/dev/null || echo 1)

# the seed's SIM and configuration (spec safe2.md section 1); a fresh PSK per run
ICCID=8944502509186389635
ICCID_EF=984405529081369836F5
DEVID=B58D51C5504D5257352E3120FF0D1338
PSK=$(openssl rand -hex 32 | tr 'a-f' 'A-F')
SEED_CONFIG='{"configuration":{"version":"2021-05-05","config":[{"action":"iot:Alarm","effect":"On"}]}}'
CONFIG_PATH="/v1/config/$DEVID?iccid=$ICCID_EF"

# ---- processes: every one we start is in PIDS and stopped on exit

PIDS=()

# stop_pid PID: SIGTERM, up to 5 s to exit, then SIGKILL
stop_pid() {
	local pid=$1
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
	local rc=$? pid
	set +e
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	if [ $rc -ne 0 ]; then
		for f in "$T"/*.log; do
			[ -s "$f" ] || continue
			echo "---- $f (last 20 lines) ----" >&2
			tail -n 20 "$f" >&2
		done
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "bench: temporary files kept in $T" >&2
	else
		rm -rf "$T"
	fi
	exit $rc
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "bench: $*" >&2
	exit 1
}

# ---- ztpd

declare -A ZTPD_PID ZTPD_PORT ZTPD_ADMIN ZTPD_DATA

# start_ztpd NAME [ztpd options...]: ztpd on a fresh data directory with
# ephemeral loopback ports; waits (30 s at most) for its run.json
# port_of PID FILE SED_SCRIPT WHAT: waits (10 s at most) until FILE, the output of
# the server PID, has the line SED_SCRIPT (sed -n) prints the port from; prints it
port_of() {
	local pid=$1 file=$2 script=$3 what=$4 port=""
	for _ in $(seq 1 100); do
		port=$(sed -n "$script" "$file" 2>/dev/null | head -1)
		[ -n "$port" ] && break
		kill -0 "$pid" 2>/dev/null || die "$what exited at start"
		sleep 0.1
	done
	[ -n "$port" ] || die "$what did not say its port"
	echo "$port"
}
# the port line of openssl s_server: "ACCEPT host:port"
S_SERVER_PORT='s/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p'

start_ztpd() {
	local name=$1 data=$T/$1 pid
	shift
	"$ZTPD" --data "$data" --device-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
		--log-level warn "$@" >>"$T/$name.log" 2>&1 &
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
	ZTPD_PID[$name]=$pid
	ZTPD_DATA[$name]=$data
	ZTPD_PORT[$name]=$(jq -r .device "$data/run.json" | sed 's/.*://')
	ZTPD_ADMIN[$name]=$(jq -r .admin "$data/run.json")
}

# ztpctl_of NAME ARGS...: ztpctl against ztpd NAME
ztpctl_of() {
	local name=$1
	shift
	ZTP_ADMIN=${ZTPD_DATA[$name]}/admin.json "$ZTPCTL" "$@"
}

# admin_token NAME: a bearer token of ztpd NAME's admin key
admin_token() {
	local d=${ZTPD_DATA[$1]}
	curl -sS --max-time 10 --cacert "$d/ca.pem" -X POST "https://${ZTPD_ADMIN[$1]}/v1/auth/token" \
		-H 'Content-Type: application/json' -d "$(jq -c '{key_id, secret}' "$d/admin.json")" |
		jq -r .token
}

# setup_seed NAME: the seed's SIM (with this run's PSK) and configuration on ztpd NAME
setup_seed() {
	ztpctl_of "$1" sim add "$ICCID" --psk "$PSK" >/dev/null || die "cannot add the SIM to $1"
	ztpctl_of "$1" config set "$ICCID" --body "$SEED_CONFIG" >/dev/null ||
		die "cannot set the configuration on $1"
}

# rss_of PID FIELD: VmRSS or VmHWM of PID in KiB
rss_of() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# ---- figures

FIG_NAMES=()
declare -A FIG_VALUE FIG_UNIT

# fig NAME VALUE UNIT: one figure of this benchmark
fig() {
	FIG_NAMES+=("$1")
	FIG_VALUE[$1]=$2
	FIG_UNIT[$1]=$3
}

# median_of FIELD FILE...: the median of FIELD over ztp-bench JSON files
median_of() {
	local field=$1
	shift
	jq -s --arg f "$field" '[.[][$f]] | sort |
		if length == 0 then 0
		elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end' "$@"
}

# ratio A B [DIGITS]: A / B, 0 if B is 0
ratio() {
	local d=${3:-3}
	if [ "$(echo "$2 == 0" | bc -l)" = 1 ]; then echo 0; return; fi
	printf '%.*f' "$d" "$(echo "$1 / $2" | bc -l)"
}

# round VALUE [DIGITS]
round() { printf '%.*f' "${2:-1}" "$1"; }

# finish NAME RUNS_JSON_FILES...: prints the figures, writes bench/results/NAME.json
finish() {
	local name=$1 n out=$RESULTS/$1.json figs runs
	shift
	figs=$T/figures.json
	echo '{}' >"$figs"
	for n in "${FIG_NAMES[@]}"; do
		jq --arg n "$n" --arg v "${FIG_VALUE[$n]}" --arg u "${FIG_UNIT[$n]}" \
			'.[$n] = {value: ($v | tonumber? // $v), unit: $u}' "$figs" >"$figs.tmp"
		mv "$figs.tmp" "$figs"
	done
	runs=$T/runs.json
	if [ $# -gt 0 ]; then jq -s . "$@" >"$runs"; else echo '[]' >"$runs"; fi
	jq -n --arg name "$name" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		--arg commit "$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		--arg dirty "$(git -C "$SRC" status --porcelain 2>/dev/null | grep -qv '^??' && echo yes || echo no)" \
		--arg openssl "$(openssl version)" --argjson ncpu "$NCPU" \
		--arg cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" \
		--slurpfile figures "$figs" --slurpfile runs "$runs" \
		'{benchmark: $name, date: $date, commit: $commit, uncommitted_changes: $dirty,
		  host: {cpus: $ncpu, cpu: $cpu, openssl: $openssl},
		  figures: $figures[0], runs: $runs[0]}' >"$out"
	echo
	echo "== $name: figures (also in ${out#"$SRC"/})"
	for n in "${FIG_NAMES[@]}"; do
		echo "$n: ${FIG_VALUE[$n]} ${FIG_UNIT[$n]}"
	done
}

# tree_of PID: PID and all its descendants, ascending, on one line (from
# each process's parent pid: field 4 of /proc/*/stat, after the command
# name in parentheses, which may itself hold spaces or ')')
tree_of() {
	# a process may end while it is read: cat fails then, not the listing
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$1" '
		{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); parent[$1] = f[2] }
		END {
			t[root] = 1
			do {
				more = 0
				for (p in parent)
					if (!(p in t) && (parent[p] in t)) { t[p] = 1; more = 1 }
			} while (more)
			for (p in t) print p
		}' | sort -n | tr '\n' ' ' | sed 's/ *$//'
}
