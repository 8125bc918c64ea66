#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The module security service (docs/security-service.md): what a module's
# bootstrap and heartbeat cost on the wire, and how many of them ztpd takes
# per second, with ztp-modfleet (bench/ztp-modfleet.c: N modules' roots of
# trust in one process, the real module client over TLS 1.3, T threads).
#
# 1. Bytes: BENCH_MOD_BYTES_N (100) new modules, sealed with a profile,
#    bootstrap then heartbeat once, one thread: the TCP payload of each
#    contact in both directions, TLS handshake included (counted by the
#    module client at its socket), min/mean/max, beside the vendor's figure
#    for a bootstrap ("4 individual communication phases over which at
#    least 1048 bytes are transferred", application note section 4.2) and
#    the ratio. The vendor's count may include IP headers (it "can depend
#    on" IPv4 or IPv6); ours does not, so the segments of one bootstrap and
#    one heartbeat are counted too: the least growth of the kernel's
#    Tcp OutSegs (/proc/net/snmp; loopback, so both directions) over
#    BENCH_MOD_SEG_RUNS (10) single-module runs each (other tenants of the
#    machine only add to it), and what IPv4 with TCP timestamps (52 bytes
#    of headers a segment) would make of it.
# 2. Rates: BENCH_MOD_FLEET (1000) new modules bootstrap (one ztp-modfleet
#    run, its state in a state directory), then heartbeat (a second run), at
#    1 and at 8 threads, alternately, BENCH_MOD_ROUNDS (3) rounds, a fresh
#    batch each run on one ztpd (SQLite, --workers default): contacts per
#    second (medians), and the CPU time per contact of ztpd (its process
#    tree, /proc/PID/stat) and of the fleet (getrusage).
#
# usage: bash bench/module.sh BUILD_DIR
# env:   BENCH_MOD_BYTES_N (100), BENCH_MOD_SEG_RUNS (10), BENCH_MOD_FLEET (1000),
#        BENCH_MOD_ROUNDS (3), BENCH_MOD_THREADS ("1 8")
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

FLEET=$BIN/bench/ztp-modfleet
[ -x "$FLEET" ] || die "$FLEET is missing (build first)"
BYTES_N=${BENCH_MOD_BYTES_N:-100}
SEG_RUNS=${BENCH_MOD_SEG_RUNS:-10}
FLEET_N=${BENCH_MOD_FLEET:-1000}
ROUNDS=${BENCH_MOD_ROUNDS:-3}
THREADS=${BENCH_MOD_THREADS:-"1 8"}
VENDOR_BOOTSTRAP=1048
HZ=$(getconf CLK_TCK)

echo "== module: bytes of a bootstrap and a heartbeat ($BYTES_N modules), contacts/s at threads $THREADS ($FLEET_N modules, $ROUNDS rounds)"
start_ztpd mod
DATA=${ZTPD_DATA[mod]}
DEV=127.0.0.1:${ZTPD_PORT[mod]}
PID=${ZTPD_PID[mod]}
# ztpctl owner create is not there yet everywhere: the owner straight into the store
sqlite3 -cmd '.timeout 10000' "$DATA/ztp.db" "INSERT INTO owners(name, created_at) VALUES('bench', 1)" ||
	die "cannot add the owner"
P=$(ztpctl_of mod profile create bench --owner bench --heartbeat-min-interval 1) || die "profile create"

# batch NAME COUNT: a new batch of COUNT modules, imported
n_batch=0
batch() {
	"$FLEET" --make-batch "$2" --out "$T/$1.csv" >/dev/null || die "ztp-modfleet --make-batch"
	ztpctl_of mod module import "$T/$1.csv" >"$T/import.out" || die "import: $(cat "$T/import.out")"
}

# server_cpu: ztpd's CPU time so far (its process tree), in clock ticks
server_cpu() {
	local p sum=0 f
	for p in $(tree_of "$PID"); do
		f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
		# fields after the name: state is 1, utime 12, stime 13
		sum=$((sum + $(echo "$f" | awk '{ print $12 + $13 }')))
	done
	echo "$sum"
}

# fleet NAME JSON ARGS...: ztp-modfleet on batch NAME (state in $T/NAME.state); fails the bench if a module is not done
fleet() {
	local name=$1 json=$2
	shift 2
	"$FLEET" --server "$DEV" --batch "$T/$name.csv" --state-dir "$T/$name.state" --json "$json" \
		--quiet "$@" 2>"$T/fleet.err" || die "ztp-modfleet $*: $(tail -5 "$T/fleet.err")"
}

jget() { jq -r "$2" "$1"; }

# ---- 1. bytes

batch bytes "$BYTES_N"
fleet bytes "$T/bytes.json" --seal "$P" --threads 1 bootstrap heartbeat
for c in bootstrap heartbeat; do
	for s in "" _in _out; do
		for m in min mean max; do
			fig "${c}_bytes${s}_$m" "$(jget "$T/bytes.json" ".$c.bytes${s}_$m")" bytes
		done
	done
	[ "$(jget "$T/bytes.json" ".$c.connections")" = "$BYTES_N" ] ||
		die "$c: not one connection per module"
done
fig vendor_bootstrap_bytes_min "$VENDOR_BOOTSTRAP" bytes
fig bootstrap_bytes_vs_vendor "$(ratio "$(jget "$T/bytes.json" .bootstrap.bytes_mean)" "$VENDOR_BOOTSTRAP")" ""
fig bootstrap_bytes_fewer_than_vendor "$(echo "$VENDOR_BOOTSTRAP - $(jget "$T/bytes.json" .bootstrap.bytes_mean)" | bc -l | xargs printf '%.0f')" bytes

# segments: the least growth of OutSegs over single-module runs
outsegs() { awk '$1 == "Tcp:" && $2 ~ /^[0-9]+$/ { print $12 }' /proc/net/snmp; }
[ "$(awk '$1 == "Tcp:" && $2 !~ /^[0-9]+$/ { print $12 }' /proc/net/snmp)" = OutSegs ] ||
	die "/proc/net/snmp: Tcp OutSegs is not its 12th field"
boot_segs="" hb_segs=""
for i in $(seq 1 "$SEG_RUNS"); do
	batch "seg$i" 1
	"$FLEET" --server "$DEV" --batch "$T/seg$i.csv" --state-dir "$T/seg$i.state" --seal "$P" --quiet ||
		die "ztp-modfleet: cannot seal"
	for c in bootstrap heartbeat; do
		sleep 0.2 # the import's connection closed
		a=$(outsegs)
		"$FLEET" --server "$DEV" --batch "$T/seg$i.csv" --state-dir "$T/seg$i.state" --quiet "$c" ||
			die "ztp-modfleet $c: one module"
		sleep 0.2 # the last ACKs and FINs of the closed connection
		d=$(($(outsegs) - a))
		if [ $c = bootstrap ]; then
			[ -z "$boot_segs" ] || [ "$d" -lt "$boot_segs" ] && boot_segs=$d
		else
			[ -z "$hb_segs" ] || [ "$d" -lt "$hb_segs" ] && hb_segs=$d
		fi
	done
done
fig bootstrap_segments "$boot_segs" ""
fig heartbeat_segments "$hb_segs" ""
fig bootstrap_bytes_ipv4 "$(echo "$(jget "$T/bytes.json" .bootstrap.bytes_mean) + 52 * $boot_segs" | bc | xargs printf '%.0f')" bytes
fig heartbeat_bytes_ipv4 "$(echo "$(jget "$T/bytes.json" .heartbeat.bytes_mean) + 52 * $hb_segs" | bc | xargs printf '%.0f')" bytes

# ---- 2. rates

runs=()
for r in $(seq 1 "$ROUNDS"); do
	order=$THREADS
	# alternate which goes first
	[ $((r % 2)) -eq 0 ] && order=$(echo "$THREADS" | tr ' ' '\n' | tac | tr '\n' ' ')
	for t in $order; do
		n_batch=$((n_batch + 1))
		name=rate$n_batch
		batch "$name" "$FLEET_N"
		"$FLEET" --batch "$T/$name.csv" --state-dir "$T/$name.state" --seal "$P" --quiet ||
			die "ztp-modfleet: cannot seal"
		for c in bootstrap heartbeat; do
			c0=$(server_cpu)
			fleet "$name" "$T/$name.$c.json" --threads "$t" "$c"
			c1=$(server_cpu)
			jq --arg t "$t" --arg c "$c" --argjson r "$r" \
				--argjson scpu "$(echo "($c1 - $c0) / $HZ" | bc -l)" \
				'.[$c] + {round: $r, threads: ($t | tonumber), command: $c, server_cpu: $scpu,
				  server_cpu_per_contact: ($scpu * 1000 / .[$c].contacts)}' \
				"$T/$name.$c.json" >"$T/run.$name.$c.json"
			runs+=("$T/run.$name.$c.json")
			echo "round $r, $t thread(s), $c: $(jget "$T/run.$name.$c.json" .contacts_per_s) contacts/s," \
				"ztpd $(printf '%.2f' "$(jget "$T/run.$name.$c.json" .server_cpu_per_contact)") ms CPU each"
		done
	done
done
# median_sel FIELD COMMAND THREADS: the median of FIELD over those runs
median_sel() {
	jq -s --arg f "$1" --arg c "$2" --argjson t "$3" '[.[] | select(.command == $c and .threads == $t) | .[$f]] | sort |
		if length == 0 then 0
		elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end' "${runs[@]}"
}
for c in bootstrap heartbeat; do
	for t in $THREADS; do
		fig "${c}_per_s_t$t" "$(round "$(median_sel contacts_per_s "$c" "$t")")" /s
	done
	for t in $THREADS; do
		fig "${c}_server_cpu_per_contact_t$t" "$(round "$(median_sel server_cpu_per_contact "$c" "$t")" 2)" ms
		fig "${c}_client_cpu_per_contact_t$t" "$(round "$(median_sel client_cpu_per_contact "$c" "$t")" 2)" ms
	done
done

finish module "${runs[@]}"
