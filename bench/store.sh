#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The store on PostgreSQL against SQLite, side by side in one run
# (docs/scale-out.md). Four parts, each with its goal, met or not:
#
#  1. fetches  ztpd on SQLite (in-process), on PostgreSQL with durable
#              settings (pg) and with pg.sh's test settings (pg_nosync), the
#              same load (ztp-bench, psk_ke, BENCH_CONNS connections), the
#              servers in turn, order rotated each round. CPU per fetch: the
#              ztpd process tree, plus on PostgreSQL every process of the
#              cluster (postmaster and all its children: backends, walwriter,
#              checkpointer...), utime+stime from /proc before and after each
#              run, and the children a root reaped meanwhile (its cutime).
#              Goal: PostgreSQL's (ztpd + cluster) <= 1.3 x SQLite's.
#  2. delay    ztpd reaching PostgreSQL over TCP through delayproxy
#              (bench/delayproxy.c) adding BENCH_STORE_DELAY_MS (2) each way,
#              against the same proxy adding nothing, BENCH_STORE_FAR_CONNS
#              (64) client connections, both ztpd with
#              --store-connections BENCH_STORE_CONNECTIONS (16: a statement
#              takes a round trip of 4 ms there, and a worker has that many
#              in flight; docs/scale-out.md). Goal: fetches/s >= 0.8 x.
#  3. import   BENCH_STORE_SIMS (1,000,000) SIMs with `ztpctl sim import`
#              into a fresh ztpd on SQLite, then one on PostgreSQL (durable)
#              as ztpd is, stopped at BENCH_STORE_IMPORT_SECONDS (30, the
#              goal: past it the goal is not met, and the count imported by
#              then is printed), then the same ztpd on a database whose
#              sessions plan each statement for its parameters
#              (plan_cache_mode = force_custom_plan: a diagnosis, see
#              below). Where the time goes: wall, CPU of ztpctl, ztpd and the
#              cluster, and the sims table's sequential and index scans
#              (pg_stat_user_tables). Goal: PostgreSQL <= 30 s for 1,000,000
#              (scaled to the count).
#              Why custom plans: ztpd prepares the import's lookup (iccid IN
#              (?1..?64)) once per connection; after five runs PostgreSQL
#              keeps a generic plan, made while sims was empty: a sequential
#              scan, kept until autovacuum updates the table's statistics
#              (a minute or so), each lookup reading the whole table.
#  4. nodes    1, 2 and 3 ztpd (BENCH_STORE_NODES) on one database behind
#              HAProxy (TCP mode, round robin; one haproxy per node count,
#              all running), the load of part 1 through it. Per node: its
#              fetches (HAProxy's per-server session count) and its tree's
#              CPU. Goal: CPU per fetch per node with 3 nodes <= 1.3 x with 1
#              (flat). The extra nodes share node 1's secret.key and CA
#              (ca.pem, ca.key, ca.pass copied into their data directories
#              before their first start).
#
# Durability: SQLite runs with synchronous = FULL (a commit is on disk when
# it returns). The fair PostgreSQL is fsync = on, synchronous_commit = on,
# full_page_writes = on (and max_wal_size 1GB, PostgreSQL's defaults all):
# tests/pg/pg.sh starts its clusters with those off, for tests, and has no
# option for settings, so the bench sets them with ALTER SYSTEM and a
# reload on the cluster "pg" (every part), and keeps pg.sh's settings on the
# cluster "pg_nosync" (part 1 only: a fetch reads, three statements, and
# writes nothing once the SIM's Device ID is bound, so it should not differ).
# Every PostgreSQL connection is TCP on loopback (pg.sh --tcp auto, scram,
# a password file), as a deployment's would be.
#
# usage: bash bench/store.sh BUILD_DIR
# env:   BENCH_STORE_ROUNDS (3), BENCH_SECONDS (3 per run), BENCH_CONNS (8),
#        BENCH_STORE_FAR_CONNS (64), BENCH_STORE_DELAY_MS (2), BENCH_STORE_CONNECTIONS (16),
#        BENCH_STORE_SIMS (1000000), BENCH_STORE_WORKERS (2, every ztpd),
#        BENCH_STORE_NODES (3)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/pg/pg.sh
. "$SRC/tests/pg/pg.sh"

ROUNDS=${BENCH_STORE_ROUNDS:-3}
SECS=${BENCH_SECONDS:-3}
CONNS=${BENCH_CONNS:-8}
FAR_CONNS=${BENCH_STORE_FAR_CONNS:-64}
DELAY_MS=${BENCH_STORE_DELAY_MS:-2}
STORE_CONNS=${BENCH_STORE_CONNECTIONS:-16}
N_SIMS=${BENCH_STORE_SIMS:-1000000}
WORKERS=${BENCH_STORE_WORKERS:-2}
NODES=${BENCH_STORE_NODES:-3}
IMPORT_DEADLINE=${BENCH_STORE_IMPORT_SECONDS:-30}
IMPORT_MAX=${BENCH_STORE_IMPORT_MAX_SECONDS:-300}
CPU_GOAL=1.3
DELAY_GOAL=0.8
IMPORT_GOAL_S=30 # for 1,000,000 SIMs
NODES_GOAL=1.3
FIRST=8944500000000000000
DELAYPROXY=$BIN/bench/delayproxy
HAPROXY=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
HZ=$(getconf CLK_TCK)
[ -x "$DELAYPROXY" ] || die "$DELAYPROXY is missing (build first)"
[ -x "$HAPROXY" ] || die "no haproxy (make deps)"
pg_bin >/dev/null || die "no PostgreSQL server binaries (make deps)"

echo "== store: ztpd on PostgreSQL vs SQLite; $ROUNDS rounds of $SECS s, $CONNS connections" \
	"($FAR_CONNS with ${DELAY_MS} ms each way), $N_SIMS SIMs imported, 1..$NODES nodes behind HAProxy," \
	"--workers $WORKERS"

# ---- cleanup: ztpd, proxies and haproxy by pid (lib.sh), then the clusters (pg.sh stop: pg_ctl, then the pid)

PG_DIRS=()
store_cleanup() {
	local rc=$? pid d
	set +e
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
	PIDS=()
	for d in "${PG_DIRS[@]}"; do pg_stop "$d" >/dev/null 2>&1; done
	(exit "$rc")
	bench_cleanup
}
trap store_cleanup EXIT

# ---- CPU time from /proc

# cpu_ticks ROOT...: clock ticks of every ROOT's process tree (utime+stime of
# each process, every thread) plus what each ROOT's reaped children took
# (cutime+cstime: a PostgreSQL backend or autovacuum worker that ended)
cpu_ticks() {
	local r p files=()
	for r in "$@"; do
		for p in $(tree_of "$r"); do files+=("/proc/$p/stat"); done
	done
	{ cat "${files[@]}" 2>/dev/null || true; } | awk -v roots=" $* " '
		{ pid = $1; s = $0; sub(/.*\) /, "", s); split(s, f, " ")
		  t += f[12] + f[13]
		  if (index(roots, " " pid " ")) t += f[14] + f[15] }
		END { printf "%d\n", t }'
}
# us_per TICKS COUNT: microseconds per item
us_per() {
	if [ "$2" -le 0 ]; then echo 0; return; fi
	echo "$1 * 1000000 / $HZ / $2" | bc -l
}
met() { [ "$(echo "$1" | bc -l)" = 1 ] && echo met || echo "NOT met"; }

# free_port: a loopback port nothing answers on (for haproxy, which cannot say an ephemeral one)
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	die "no free loopback port"
}

# ---- PostgreSQL: two clusters of tests/pg/pg.sh, one made durable

# pg_super DIR SQL...: psql as the bootstrap superuser on DIR's Unix socket
pg_super() {
	local dir=$1
	shift
	PGOPTIONS='-c client_min_messages=warning' "$(pg_bin)/psql" -X -q -At -v ON_ERROR_STOP=1 \
		-h "$(cat "$dir/socket")" -p "$(cat "$dir/port")" -U postgres -d postgres "$@"
}

for c in pg pg_nosync; do
	PG_DIRS+=("$T/$c")
	pg_start "$T/$c" --tcp auto >/dev/null 2>"$T/pg_start_$c.log" ||
		die "pg.sh start $c failed: $(tail -3 "$T/pg_start_$c.log")"
done
PG_PID=$(cat "$T/pg/pid")
PG_NOSYNC_PID=$(cat "$T/pg_nosync/pid")
pg_super "$T/pg" -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
	-c "ALTER SYSTEM SET full_page_writes = on" -c "ALTER SYSTEM SET max_wal_size = '1GB'" \
	-c "SELECT pg_reload_conf()" >/dev/null || die "cannot make the cluster durable"
for _ in $(seq 1 50); do
	durable=$(pg_super "$T/pg" -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
		WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_level')")
	[ "$durable" = "fsync=on full_page_writes=on synchronous_commit=on wal_level=minimal" ] && break
	sleep 0.1
done
[ "$durable" = "fsync=on full_page_writes=on synchronous_commit=on wal_level=minimal" ] ||
	die "the cluster did not take the durable settings: $durable"
nosync=$(pg_super "$T/pg_nosync" -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
	WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')")
echo "  PostgreSQL $("$(pg_bin)/postgres" -V | awk '{ print $3 }'): pg: $durable; pg_nosync: $nosync"
for db in fetch near far nodes imp imp_custom; do pg_createdb "$T/pg" "$db" >/dev/null || die "createdb $db"; done
pg_createdb "$T/pg_nosync" fetch >/dev/null || die "createdb fetch (pg_nosync)"

# delayproxy NAME MS: a delaying proxy to the cluster pg; its port in PROXY_PORT[NAME]
declare -A PROXY_PORT PROXY_PID
start_delayproxy() {
	"$DELAYPROXY" --to "127.0.0.1:$(cat "$T/pg/port")" --delay-ms "$2" >"$T/delayproxy_$1.out" \
		2>"$T/delayproxy_$1.log" &
	PROXY_PID[$1]=$!
	PIDS+=("$!")
	PROXY_PORT[$1]=$(port_of "$!" "$T/delayproxy_$1.out" 's/^port: \([0-9]*\)$/\1/p' "delayproxy $1")
}
start_delayproxy near 0
start_delayproxy far "$DELAY_MS"

# the password file of every ztpd: pg.sh's passwords for each cluster's port and the
# proxies', readable by the user the front runs as (ztp when started as root)
pw_of() { head -1 "$1/pgpass" | cut -d: -f5-; }
{
	printf '127.0.0.1:%s:*:ztp:%s\n' "$(cat "$T/pg/port")" "$(pw_of "$T/pg")"
	printf '127.0.0.1:%s:*:ztp:%s\n' "$(cat "$T/pg_nosync/port")" "$(pw_of "$T/pg_nosync")"
	printf '127.0.0.1:%s:*:ztp:%s\n' "${PROXY_PORT[near]}" "$(pw_of "$T/pg")"
	printf '127.0.0.1:%s:*:ztp:%s\n' "${PROXY_PORT[far]}" "$(pw_of "$T/pg")"
} >"$T/pgpass"
chmod 600 "$T/pgpass"
[ "$(id -u)" != 0 ] || chown ztp: "$T/pgpass"
export PGPASSFILE=$T/pgpass
url_of() { echo "postgresql://ztp@127.0.0.1:$1/$2"; } # url_of PORT DATABASE

# ---- measuring one run

# measure FILE PORT CONNS ZTPD_ROOTS PG_ROOTS [ztp-bench args]: a timed ztp-bench run
# against PORT; FILE gets its figures with the CPU per fetch of the ztpd trees
# (ztpd_cpu_per_fetch) and of the cluster (pg_cpu_per_fetch), in us
measure() {
	local f=$1 port=$2 conns=$3 zroots=$4 proots=$5 z0 z1 p0=0 p1=0 n
	shift 5
	# shellcheck disable=SC2086 # lists of pids
	{
		z0=$(cpu_ticks $zroots)
		[ -z "$proots" ] || p0=$(cpu_ticks $proots)
	}
	"$ZTPBENCH" --port "$port" --iccid "$ICCID" --psk "$PSK" --kex psk_ke -c "$conns" -d "$SECS" \
		--json "$f" --quiet "$@" || echo "bench: $f had errors" >&2
	# shellcheck disable=SC2086
	{
		z1=$(cpu_ticks $zroots)
		[ -z "$proots" ] || p1=$(cpu_ticks $proots)
	}
	n=$(jq '.fetches | floor' "$f")
	jq --argjson z "$(us_per $((z1 - z0)) "$n")" --argjson p "$(us_per $((p1 - p0)) "$n")" \
		'. + {ztpd_cpu_per_fetch: $z, pg_cpu_per_fetch: $p, total_cpu_per_fetch: ($z + $p)}' \
		"$f" >"$f.tmp" && mv "$f.tmp" "$f"
}
mkdir -p "$T/runs"
RUNS=()
errors_of() { jq '.errors | floor' "$1"; }
preflight() { # preflight PORT WHAT: three fetches answer 200
	"$ZTPBENCH" --port "$1" --iccid "$ICCID" --psk "$PSK" --kex psk_ke -n 3 --quiet ||
		die "$2 does not serve the fetch"
}

# ==== 1. fetches: SQLite, PostgreSQL durable, PostgreSQL with pg.sh's settings

echo
echo "-- 1. fetches: sqlite, pg, pg_nosync ($CONNS connections) (at ${SECONDS} s)"
start_ztpd sqlite --workers "$WORKERS" --allow-psk-ke
start_ztpd pg --workers "$WORKERS" --allow-psk-ke --store "$(url_of "$(cat "$T/pg/port")" fetch)"
start_ztpd pg_nosync --workers "$WORKERS" --allow-psk-ke \
	--store "$(url_of "$(cat "$T/pg_nosync/port")" fetch)"
declare -A PG_ROOTS=([sqlite]="" [pg]=$PG_PID [pg_nosync]=$PG_NOSYNC_PID)
S1=(sqlite pg pg_nosync)
for s in "${S1[@]}"; do
	setup_seed "$s"
	preflight "${ZTPD_PORT[$s]}" "ztpd $s"
	# the SIM's first contact binds its Device ID (a write): done before timing
	"$ZTPBENCH" --port "${ZTPD_PORT[$s]}" --iccid "$ICCID" --psk "$PSK" --kex psk_ke -c "$CONNS" -n 200 --quiet ||
		die "ztpd $s: warm-up fetches failed"
done
for r in $(seq 1 "$ROUNDS"); do
	for i in 0 1 2; do
		s=${S1[$(((i + r - 1) % 3))]}
		f=$T/runs/fetch-$s-$r.json
		measure "$f" "${ZTPD_PORT[$s]}" "$CONNS" "${ZTPD_PID[$s]}" "${PG_ROOTS[$s]}" --label "fetch/$s"
		RUNS+=("$f")
		printf '  round %d %-9s %7.1f fetches/s  ztpd %6.1f us/fetch  postgres %6.1f us/fetch  total %6.1f us/fetch  others %.2f cores\n' \
			"$r" "$s" "$(jq .fetches_per_s "$f")" "$(jq .ztpd_cpu_per_fetch "$f")" \
			"$(jq .pg_cpu_per_fetch "$f")" "$(jq .total_cpu_per_fetch "$f")" "$(jq '.other_cpu // 0' "$f")"
	done
done
declare -A RATE1 CPU1
for s in "${S1[@]}"; do
	files=("$T/runs/fetch-$s"-*.json)
	RATE1[$s]=$(median_of fetches_per_s "${files[@]}")
	CPU1[$s]=$(median_of total_cpu_per_fetch "${files[@]}")
	fig "fetch_${s}_fetches_per_s" "$(round "${RATE1[$s]}")" "/s"
	fig "fetch_${s}_ztpd_cpu_per_fetch" "$(round "$(median_of ztpd_cpu_per_fetch "${files[@]}")")" "us"
	[ "$s" = sqlite ] ||
		fig "fetch_${s}_postgres_cpu_per_fetch" "$(round "$(median_of pg_cpu_per_fetch "${files[@]}")")" "us"
	fig "fetch_${s}_total_cpu_per_fetch" "$(round "${CPU1[$s]}")" "us"
done
CPU_RATIO=$(ratio "${CPU1[pg]}" "${CPU1[sqlite]}")
fig fetch_ratio_cpu_per_fetch_pg_vs_sqlite "$CPU_RATIO" "x"
fig fetch_ratio_cpu_per_fetch_pg_nosync_vs_sqlite "$(ratio "${CPU1[pg_nosync]}" "${CPU1[sqlite]}")" "x"
fig fetch_ratio_fetches_per_s_pg_vs_sqlite "$(ratio "${RATE1[pg]}" "${RATE1[sqlite]}")" "x"
for s in "${S1[@]}"; do stop_pid "${ZTPD_PID[$s]}"; done

# ==== 2. a network between ztpd and PostgreSQL: delayproxy adding DELAY_MS each way

echo
echo "-- 2. delay: ztpd -> delayproxy (+0 ms / +$DELAY_MS ms each way) -> pg ($FAR_CONNS connections, --store-connections $STORE_CONNS) (at ${SECONDS} s)"
start_ztpd near --workers "$WORKERS" --store-connections "$STORE_CONNS" --allow-psk-ke \
	--store "$(url_of "${PROXY_PORT[near]}" near)"
start_ztpd far --workers "$WORKERS" --store-connections "$STORE_CONNS" --allow-psk-ke \
	--store "$(url_of "${PROXY_PORT[far]}" far)"
S2=(near far)
for s in "${S2[@]}"; do
	setup_seed "$s"
	preflight "${ZTPD_PORT[$s]}" "ztpd $s"
	"$ZTPBENCH" --port "${ZTPD_PORT[$s]}" --iccid "$ICCID" --psk "$PSK" --kex psk_ke -c "$FAR_CONNS" -n 200 \
		--quiet || die "ztpd $s: warm-up fetches failed"
done
for r in $(seq 1 "$ROUNDS"); do
	for i in 0 1; do
		s=${S2[$(((i + r - 1) % 2))]}
		f=$T/runs/delay-$s-$r.json
		measure "$f" "${ZTPD_PORT[$s]}" "$FAR_CONNS" "${ZTPD_PID[$s]}" "$PG_PID ${PROXY_PID[$s]}" \
			--label "delay/$s"
		RUNS+=("$f")
		printf '  round %d %-4s %7.1f fetches/s  latency p50 %7.2f ms p99 %7.2f ms  ztpd %6.1f us/fetch\n' \
			"$r" "$s" "$(jq .fetches_per_s "$f")" "$(jq .latency_p50 "$f")" "$(jq .latency_p99 "$f")" \
			"$(jq .ztpd_cpu_per_fetch "$f")"
	done
done
declare -A RATE2
for s in "${S2[@]}"; do
	files=("$T/runs/delay-$s"-*.json)
	RATE2[$s]=$(median_of fetches_per_s "${files[@]}")
	fig "delay_${s}_fetches_per_s" "$(round "${RATE2[$s]}")" "/s"
	fig "delay_${s}_latency_p50" "$(round "$(median_of latency_p50 "${files[@]}")" 2)" "ms"
	fig "delay_${s}_latency_p99" "$(round "$(median_of latency_p99 "${files[@]}")" 2)" "ms"
done
DELAY_RATIO=$(ratio "${RATE2[far]}" "${RATE2[near]}")
fig delay_ratio_fetches_per_s_far_vs_near "$DELAY_RATIO" "x"
fig delay_ms_each_way "$DELAY_MS" "ms"
for s in "${S2[@]}"; do stop_pid "${ZTPD_PID[$s]}"; done

# ==== 3. importing SIMs: SQLite, then PostgreSQL as ztpd is, then with custom plans

echo
echo "-- 3. import: $N_SIMS SIMs with ztpctl sim import: sqlite, pg (deadline $IMPORT_DEADLINE s), pg_custom_plans (at ${SECONDS} s)"
"$ZTPBENCH" --iccid-range "$FIRST:$N_SIMS" --print-sims >"$T/sims.csv"
[ "$(wc -l <"$T/sims.csv")" -eq "$N_SIMS" ] || die "ztp-bench --print-sims did not print $N_SIMS SIMs"
# pg_custom_plans: the same ztpd on a database whose sessions plan every statement
# for its parameters (plan_cache_mode = force_custom_plan) instead of reusing a
# generic plan made on the connection once: a diagnosis, not a deployment setting
pg_super "$T/pg" -c "ALTER DATABASE imp_custom SET plan_cache_mode = force_custom_plan" ||
	die "cannot set plan_cache_mode on imp_custom"
declare -A IMP_S IMP_N IMP_CTL IMP_ZTPD IMP_PG IMP_DONE IMP_SEQ IMP_SEQ_TUP IMP_IDX
S3=(sqlite pg pg_custom_plans)
declare -A IMP_DB=([pg]=imp [pg_custom_plans]=imp_custom)
declare -A IMP_DL=([sqlite]=$IMPORT_MAX [pg]=$IMPORT_DEADLINE [pg_custom_plans]=$IMPORT_MAX)
for k in "${S3[@]}"; do
	s=imp_$k
	if [ "$k" = sqlite ]; then
		start_ztpd "$s" --workers "$WORKERS"
	else
		start_ztpd "$s" --workers "$WORKERS" --store "$(url_of "$(cat "$T/pg/port")" "${IMP_DB[$k]}")"
	fi
	roots=${ZTPD_PID[$s]}
	z0=$(cpu_ticks "$roots")
	p0=$(cpu_ticks "$PG_PID")
	t0=$EPOCHREALTIME
	# ztpctl's own CPU: bash's time of it (user, system); 124: the deadline
	rc=0
	{ TIMEFORMAT='%3U %3S' && time timeout "${IMP_DL[$k]}" env ZTP_ADMIN="${ZTPD_DATA[$s]}/admin.json" \
		"$ZTPCTL" sim import "$T/sims.csv" >"$T/import_$s.log" 2>&1; } 2>"$T/import_$s.time" || rc=$?
	t1=$EPOCHREALTIME
	z1=$(cpu_ticks "$roots")
	p1=$(cpu_ticks "$PG_PID")
	case $rc in
	0) IMP_DONE[$k]=yes ;;
	124) IMP_DONE[$k]="no: stopped at its deadline" ;;
	*) die "ztpctl sim import into $s failed: $(tail -2 "$T/import_$s.log")" ;;
	esac
	# a batch ztpd had begun goes on after ztpctl is gone: the count once ztpd is stopped
	stop_pid "$roots"
	if [ "$k" = sqlite ]; then
		IMP_N[$k]=$(sqlite3 -readonly "${ZTPD_DATA[$s]}/ztp.db" "SELECT count(*) FROM sims")
	else
		IMP_N[$k]=$(pg_psql "$T/pg" "${IMP_DB[$k]}" -At -c "SELECT count(*) FROM sims")
		# how the lookups read the table (the backends flushed their counts as they ended)
		read -r seq seq_tup idx < <(pg_psql "$T/pg" "${IMP_DB[$k]}" -At -F ' ' -c \
			"SELECT seq_scan, seq_tup_read, coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'sims'")
		IMP_SEQ[$k]=$seq IMP_SEQ_TUP[$k]=$seq_tup IMP_IDX[$k]=$idx
	fi
	[ "${IMP_DONE[$k]}" != yes ] || [ "${IMP_N[$k]}" -eq "$N_SIMS" ] ||
		die "$s holds ${IMP_N[$k]} SIMs after the import, expected $N_SIMS"
	IMP_S[$k]=$(echo "$t1 - $t0" | bc -l)
	IMP_ZTPD[$k]=$(echo "($z1 - $z0) / $HZ" | bc -l)
	IMP_PG[$k]=$(echo "($p1 - $p0) / $HZ" | bc -l)
	IMP_CTL[$k]=$(awk '{ printf "%.3f", $1 + $2 }' "$T/import_$s.time")
	printf '  %-15s %7d SIMs %8.2f s %8.0f SIMs/s  CPU: ztpctl %6.2f s  ztpd %6.2f s  postgres %6.2f s  complete: %s\n' \
		"$k" "${IMP_N[$k]}" "${IMP_S[$k]}" "$(echo "${IMP_N[$k]} / ${IMP_S[$k]}" | bc -l)" "${IMP_CTL[$k]}" \
		"${IMP_ZTPD[$k]}" "${IMP_PG[$k]}" "${IMP_DONE[$k]}"
	[ "$k" = sqlite ] || printf '  %-15s sims: %s sequential scans reading %s rows, %s index scans\n' \
		"" "${IMP_SEQ[$k]}" "${IMP_SEQ_TUP[$k]}" "${IMP_IDX[$k]}"
done
for k in "${S3[@]}"; do
	fig "import_${k}_sims" "${IMP_N[$k]}" "SIMs"
	fig "import_${k}_complete" "${IMP_DONE[$k]%%:*}" "-"
	fig "import_${k}_seconds" "$(round "${IMP_S[$k]}" 2)" "s"
	fig "import_${k}_sims_per_s" "$(round "$(echo "${IMP_N[$k]} / ${IMP_S[$k]}" | bc -l)" 0)" "/s"
	fig "import_${k}_ztpctl_cpu" "$(round "${IMP_CTL[$k]}" 2)" "s"
	fig "import_${k}_ztpd_cpu_per_sim" "$(round "$(echo "${IMP_ZTPD[$k]} * 1000000 / ${IMP_N[$k]}" | bc -l)" 2)" "us"
	[ "$k" = sqlite ] && continue
	fig "import_${k}_postgres_cpu_per_sim" "$(round "$(echo "${IMP_PG[$k]} * 1000000 / ${IMP_N[$k]}" | bc -l)" 2)" "us"
	# what none of ztpctl, ztpd and the cluster was running for: waiting (round trips, fsync, the machine)
	fig "import_${k}_seconds_not_on_cpu" \
		"$(round "$(echo "${IMP_S[$k]} - ${IMP_CTL[$k]} - ${IMP_ZTPD[$k]} - ${IMP_PG[$k]}" | bc -l)" 2)" "s"
	fig "import_${k}_seq_scans" "${IMP_SEQ[$k]}" "scans"
	fig "import_${k}_seq_rows_read_per_sim" "$(round "$(echo "${IMP_SEQ_TUP[$k]} / ${IMP_N[$k]}" | bc -l)" 1)" "rows"
done
fig import_ratio_seconds_pg_custom_plans_vs_sqlite "$(ratio "${IMP_S[pg_custom_plans]}" "${IMP_S[sqlite]}")" "x"
fig import_ratio_sims_per_s_sqlite_vs_pg "$(ratio "$(echo "${IMP_N[sqlite]} / ${IMP_S[sqlite]}" | bc -l)" \
	"$(echo "${IMP_N[pg]} / ${IMP_S[pg]}" | bc -l)")" "x"
fig import_sims_asked "$N_SIMS" "SIMs"
IMPORT_GOAL_SCALED=$(echo "$IMPORT_GOAL_S * $N_SIMS / 1000000" | bc -l)
rm -f "$T/sims.csv"

# ==== 4. nodes behind HAProxy on one database

echo
echo "-- 4. nodes: 1..$NODES ztpd on one database behind HAProxy ($CONNS connections) (at ${SECONDS} s)"
NODES_URL=$(url_of "$(cat "$T/pg/port")" nodes)
start_ztpd n1 --workers "$WORKERS" --allow-psk-ke --store "$NODES_URL"
for i in $(seq 2 "$NODES"); do
	# node 1's data key and CA: what a node must share (docs/scale-out.md)
	install -d -m 0700 "$T/n$i"
	for f in secret.key ca.pem ca.key ca.pass; do cp -p "$T/n1/$f" "$T/n$i/$f"; done
	start_ztpd "n$i" --workers "$WORKERS" --allow-psk-ke --store "$NODES_URL"
	cmp -s "$T/n1/secret.key" "$T/n$i/secret.key" || die "node $i made its own data key"
done
setup_seed n1
for i in $(seq 1 "$NODES"); do preflight "${ZTPD_PORT[n$i]}" "node $i"; done

# one haproxy per node count: TCP mode, round robin, a stats page for the per-node sessions
declare -A HA_PORT HA_STATS HA_PID
declare -a nz0 nz1 s0 s1
for k in $(seq 1 "$NODES"); do
	HA_PORT[$k]=$(free_port)
	HA_STATS[$k]=$(free_port)
	{
		printf 'global\n\tnbthread 1\n\tmaxconn 4096\n'
		printf 'defaults\n\tmode tcp\n\ttimeout connect 5s\n\ttimeout client 30s\n\ttimeout server 30s\n'
		printf 'frontend fe\n\tbind 127.0.0.1:%s\n\tdefault_backend ztpd\n' "${HA_PORT[$k]}"
		printf 'backend ztpd\n\tbalance roundrobin\n'
		for i in $(seq 1 "$k"); do printf '\tserver n%d 127.0.0.1:%s\n' "$i" "${ZTPD_PORT[n$i]}"; done
		printf 'listen stats\n\tmode http\n\tbind 127.0.0.1:%s\n\tstats enable\n\tstats uri /stats\n' "${HA_STATS[$k]}"
	} >"$T/haproxy$k.cfg"
	"$HAPROXY" -db -f "$T/haproxy$k.cfg" >"$T/haproxy$k.log" 2>&1 &
	HA_PID[$k]=$!
	PIDS+=("$!")
done
# sessions_of K: "n1 n2 ..." session totals of haproxy K's servers
sessions_of() {
	curl -sS --max-time 5 "http://127.0.0.1:${HA_STATS[$1]}/stats;csv" |
		awk -F, '$1 == "ztpd" && $2 ~ /^n[0-9]+$/ { printf "%s ", $8 }'
}
for k in $(seq 1 "$NODES"); do
	for _ in $(seq 1 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/${HA_PORT[$k]}") 2>/dev/null && break
		kill -0 "${HA_PID[$k]}" 2>/dev/null || die "haproxy ($k nodes) exited: $(tail -3 "$T/haproxy$k.log")"
		sleep 0.1
	done
	preflight "${HA_PORT[$k]}" "haproxy ($k nodes)"
	"$ZTPBENCH" --port "${HA_PORT[$k]}" --iccid "$ICCID" --psk "$PSK" --kex psk_ke -c "$CONNS" -n 200 --quiet ||
		die "haproxy ($k nodes): warm-up fetches failed"
done
for r in $(seq 1 "$ROUNDS"); do
	for j in $(seq 0 $((NODES - 1))); do
		k=$(((j + r - 1) % NODES + 1))
		f=$T/runs/nodes-$k-$r.json
		for i in $(seq 1 "$k"); do nz0[i]=$(cpu_ticks "${ZTPD_PID[n$i]}"); done
		read -r -a s0 <<<"$(sessions_of "$k")"
		measure "$f" "${HA_PORT[$k]}" "$CONNS" "${HA_PID[$k]}" "$PG_PID" --label "nodes/$k"
		read -r -a s1 <<<"$(sessions_of "$k")"
		for i in $(seq 1 "$k"); do nz1[i]=$(cpu_ticks "${ZTPD_PID[n$i]}"); done
		# measure's "ztpd" here is haproxy; the nodes' own: their ticks over their sessions
		zt=0 nt=0 line=""
		for i in $(seq 1 "$k"); do
			d=$((nz1[i] - nz0[i]))
			n=$((s1[i - 1] - s0[i - 1]))
			zt=$((zt + d))
			nt=$((nt + n))
			line+=$(printf ' n%d %5d fetches %6.1f us/fetch' "$i" "$n" "$(us_per "$d" "$n")")
		done
		jq --argjson c "$(us_per "$zt" "$nt")" --argjson n "$nt" \
			'. + {node_cpu_per_fetch: $c, node_sessions: $n, haproxy_cpu_per_fetch: .ztpd_cpu_per_fetch}' \
			"$f" >"$f.tmp" && mv "$f.tmp" "$f"
		RUNS+=("$f")
		printf '  round %d %d node(s) %7.1f fetches/s  node %6.1f us/fetch  postgres %6.1f  haproxy %5.1f us/fetch |%s\n' \
			"$r" "$k" "$(jq .fetches_per_s "$f")" "$(jq .node_cpu_per_fetch "$f")" "$(jq .pg_cpu_per_fetch "$f")" \
			"$(jq .haproxy_cpu_per_fetch "$f")" "$line"
	done
done
declare -A NODE_CPU
for k in $(seq 1 "$NODES"); do
	files=("$T/runs/nodes-$k"-*.json)
	NODE_CPU[$k]=$(median_of node_cpu_per_fetch "${files[@]}")
	fig "nodes_${k}_fetches_per_s" "$(round "$(median_of fetches_per_s "${files[@]}")")" "/s"
	fig "nodes_${k}_cpu_per_fetch_per_node" "$(round "${NODE_CPU[$k]}")" "us"
	fig "nodes_${k}_postgres_cpu_per_fetch" "$(round "$(median_of pg_cpu_per_fetch "${files[@]}")")" "us"
	fig "nodes_${k}_haproxy_cpu_per_fetch" "$(round "$(median_of haproxy_cpu_per_fetch "${files[@]}")")" "us"
done
NODES_RATIO=$(ratio "${NODE_CPU[$NODES]}" "${NODE_CPU[1]}")
fig "nodes_ratio_cpu_per_fetch_per_node_${NODES}_vs_1" "$NODES_RATIO" "x"

errors=0
for f in "${RUNS[@]}"; do errors=$((errors + $(errors_of "$f"))); done
fig other_cpu_median "$(round "$(median_of other_cpu "${RUNS[@]}")" 2)" "cores"
fig cpus "$NCPU" "cores"
fig workers "$WORKERS" "per ztpd"
fig connections "$CONNS" "connections"
fig rounds "$ROUNDS" "rounds"
fig errors "$errors" "fetches"
fig elapsed "$SECONDS" "s"
finish store "${RUNS[@]}"

echo
printf 'store: 1. CPU per fetch, PostgreSQL (ztpd + cluster, durable) / SQLite: %s x; goal <= %s: %s\n' \
	"$CPU_RATIO" "$CPU_GOAL" "$(met "$CPU_RATIO <= $CPU_GOAL")"
printf 'store: 2. fetches/s with %s ms each way / with 0 ms (%s connections): %s x; goal >= %s: %s\n' \
	"$DELAY_MS" "$FAR_CONNS" "$DELAY_RATIO" "$DELAY_GOAL" "$(met "$DELAY_RATIO >= $DELAY_GOAL")"
if [ "${IMP_DONE[pg]}" = yes ]; then pg_import="${FIG_VALUE[import_pg_seconds]} s"; pg_met=$(met "${IMP_S[pg]} <= $IMPORT_GOAL_SCALED")
else pg_import="${IMP_N[pg]} SIMs in ${FIG_VALUE[import_pg_seconds]} s, stopped"; pg_met="NOT met"; fi
printf 'store: 3. import of %s SIMs into PostgreSQL: %s (SQLite %s s; with custom plans %s s); goal <= %s s: %s\n' \
	"$N_SIMS" "$pg_import" "${FIG_VALUE[import_sqlite_seconds]}" "${FIG_VALUE[import_pg_custom_plans_seconds]}" \
	"$(round "$IMPORT_GOAL_SCALED" 1)" "$pg_met"
printf 'store: 4. CPU per fetch per node, %s nodes / 1 node: %s x; goal <= %s: %s\n' \
	"$NODES" "$NODES_RATIO" "$NODES_GOAL" "$(met "$NODES_RATIO <= $NODES_GOAL")"
[ "$errors" -eq 0 ] || exit 1
