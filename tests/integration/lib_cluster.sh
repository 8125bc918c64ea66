# SPDX-License-Identifier: Apache-2.0
# Helpers of the multi-node tests (sourced after lib.sh): a throwaway
# PostgreSQL of the test's own under $T (tests/pg/pg.sh), and ztpd nodes
# 1, 2, ... that share its database, each with its own data directory
# ($T/nodeN), ephemeral ports and log ($T/nodeN.log). Node 1 makes the data
# key and the CA; the others join with its node bundle (ztpd export-node,
# ztpd join), so that every node seals and opens the same PSKs, signs with
# the same CA and accepts the same admin tokens. Every process is stopped
# by its pid on exit.
#
#   cluster_pg_start            start PostgreSQL, create the database; CLUSTER_URL
#   node_start N [options]      ztpd on $T/nodeN and CLUSTER_URL; sets NODE_PID[N],
#                               NODE_DEV[N], NODE_ADM[N], NODE_EST[N] (ports)
#   node_join N FROM            $T/nodeN joins with node FROM's bundle (CA key included)
#   node_stop N                 SIGTERM, then SIGKILL: the parent and its children
#   cluster_stop                every node, then PostgreSQL
#   cluster_sql SQL             psql on the shared database (|-separated, no header)
#
# The test's own ztpd: the binary of the build, not lib.sh's wrapper of the
# PostgreSQL runs (ZTP_TEST_PG), since these tests make their database.

# tests/pg/pg.sh, sourced: pg_start, pg_stop, pg_createdb, pg_url, pg_psql
# (ZTP_PG_SH: another copy of it)
# shellcheck source=../pg/pg.sh
. "${ZTP_PG_SH:-$SRC/tests/pg/pg.sh}"

CLUSTER_ZTPD=$BUILD/ztpd
CLUSTER_PG=$T/pg
CLUSTER_DB=ztp_cluster
CLUSTER_URL=""
NODE_PID=()
NODE_DEV=()
NODE_ADM=()
NODE_EST=()

cluster_pg_start() {
	pg_start "$CLUSTER_PG" >/dev/null 2>>"$T/pg.log" || fail "cannot start PostgreSQL ($(tail -n 5 "$T/pg.log"))"
	pg_createdb "$CLUSTER_PG" "$CLUSTER_DB" >>"$T/pg.log" 2>&1 || fail "cannot create the database"
	CLUSTER_URL=$(pg_url "$CLUSTER_PG" "$CLUSTER_DB")
}

# cluster_sql SQL: the rows of SQL on the shared database, as sqlite3 prints them
cluster_sql() {
	PGOPTIONS='-c client_min_messages=warning' pg_psql "$CLUSTER_PG" "$CLUSTER_DB" \
		-q -A -t -F '|' -v ON_ERROR_STOP=1 -c "$1"
}

# node_children N: FRONT_PID and SIGNER_PID of node N (its run.json)
node_children() {
	FRONT_PID=$(jq -r '.front_pid // empty' "$T/node$1/run.json" 2>/dev/null || true)
	SIGNER_PID=$(jq -r '.signer_pid // empty' "$T/node$1/run.json" 2>/dev/null || true)
}

node_start() {
	local n=$1 dir=$T/node$1 pid
	shift
	rm -f "$dir/run.json"
	"$CLUSTER_ZTPD" --data "$dir" --store "$CLUSTER_URL" --device-listen 127.0.0.1:0 \
		--admin-listen 127.0.0.1:0 --est-listen 127.0.0.1:0 --workers 2 "$@" \
		>>"$T/node$n.log" 2>&1 &
	pid=$!
	NODE_PID[n]=$pid
	for _ in $(seq 1 400); do
		[ -s "$dir/run.json" ] && [ "$(jq -r .pid "$dir/run.json" 2>/dev/null)" = "$pid" ] && break
		kill -0 "$pid" 2>/dev/null || fail "node $n exited at start ($(tail -n 5 "$T/node$n.log"))"
		sleep 0.05
	done
	[ -s "$dir/run.json" ] || fail "node $n did not write run.json"
	NODE_DEV[n]=$(jq -r .device "$dir/run.json" | sed 's/.*://')
	NODE_ADM[n]=$(jq -r .admin "$dir/run.json" | sed 's/.*://')
	NODE_EST[n]=$(jq -r .est "$dir/run.json" | sed 's/.*://')
}

node_join() {
	local n=$1 from=$2 bundle=$T/node$2.bundle pass=$T/bundle.pass
	[ -f "$pass" ] || (umask 077 && openssl rand -hex 24 >"$pass")
	rm -f "$bundle"
	"$CLUSTER_ZTPD" --data "$T/node$from" export-node --out "$bundle" --passphrase-file "$pass" \
		--with-ca-key >>"$T/node$from.log" 2>&1 || fail "export-node of node $from failed"
	"$CLUSTER_ZTPD" --data "$T/node$n" --store "$CLUSTER_URL" join "$bundle" \
		--passphrase-file "$pass" >>"$T/node$n.log" 2>&1 || fail "node $n could not join"
}

node_stop() {
	local n=$1 pid=${NODE_PID[$1]:-} kids p
	[ -n "$pid" ] || return 0
	node_children "$n"
	kids="${FRONT_PID:-} ${SIGNER_PID:-}"
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	for p in $kids; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	NODE_PID[n]=""
}

cluster_stop() {
	local n
	for n in "${!NODE_PID[@]}"; do node_stop "$n"; done
	pg_stop "$CLUSTER_PG" >/dev/null 2>&1 || true
}

# on exit: the nodes and PostgreSQL, their logs if the test failed, then lib.sh's cleanup
cluster_cleanup() {
	local rc=$? n
	set +e
	cluster_stop
	# ZTP_KEEP_LOGS=DIR: the nodes' logs are copied there
	[ -z "${ZTP_KEEP_LOGS:-}" ] || cp "$T"/node*.log "$ZTP_KEEP_LOGS/" 2>/dev/null
	if [ $rc -ne 0 ]; then
		for n in "${!NODE_PID[@]}"; do
			echo "---- node $n log (last 30 lines) ----" >&2
			tail -n 30 "$T/node$n.log" >&2
		done
	fi
	(exit $rc)
	cleanup
}
trap cluster_cleanup EXIT
# a test stopped by a signal (ctest's time-out, ^C) still stops its nodes and PostgreSQL
trap 'exit 143' TERM
trap 'exit 130' INT
