# SPDX-License-Identifier: Apache-2.0
# Shared helpers of the integration tests (sourced by tests/integration/test_*.sh).
# Real binaries, ephemeral loopback ports, a temporary data directory; the
# store in it (SQLite), or with ZTP_TEST_PG a PostgreSQL database of its own
# (below: "the store on PostgreSQL"; docs/testing.md).
set -euo pipefail

BUILD=${ZTP_BUILD:?set ZTP_BUILD to the build directory}
SRC=${ZTP_SRC:?set ZTP_SRC to the source directory}
ZTPD=$BUILD/ztpd
# the test build's ztpd with fault points (src/common/fault.h): for the tests
# that set ZTP_FAULT; the installed ztpd ignores it
ZTPD_FAULT=$BUILD/ztpd-fault
ZTPCTL=$BUILD/ztpctl
T=$(mktemp -d /tmp/ztp-it.XXXXXX)
# started as root, ztpd's front and signer run as the user ztp: it must reach
# the data directory below (search only; nothing here is listed to others)
chmod 711 "$T"
DATA=$T/data
ZTPD_PID=""
NFAIL=0

# the seed's SIM and configuration (spec safe2.md section 1)
ICCID=8944502509186389635
ICCID_EF=984405529081369836F5
PSK=000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
DEVID=B58D51C5504D5257352E3120FF0D1338
SEED_CONFIG='{"configuration":{"version":"2021-05-05","config":[{"action":"iot:Alarm","effect":"On"}]}}'

fail() { echo "FAIL: $*" >&2; NFAIL=$((NFAIL + 1)); exit 1; }
ok() { echo "ok: $*"; }

# ztpd is three processes (docs/architecture.md): ZTPD_PID is the parent,
# FRONT_PID and SIGNER_PID its children, as run.json names them.
ztpd_children() {
	FRONT_PID=$(jq -r '.front_pid // empty' "$DATA/run.json" 2>/dev/null || true)
	SIGNER_PID=$(jq -r '.signer_pid // empty' "$DATA/run.json" 2>/dev/null || true)
}

# wait_front_change OLD: until run.json names a front other than OLD (the
# parent started a new one); fails after 10 s
wait_front_change() {
	for _ in $(seq 1 200); do
		ztpd_children
		[ -n "$FRONT_PID" ] && [ "$FRONT_PID" != "$1" ] && return 0
		sleep 0.05
	done
	fail "no new front after $1"
}

# kill_ztpd_hard: a power cut: the parent and both children killed at once
kill_ztpd_hard() {
	ztpd_children
	kill -KILL "$ZTPD_PID" ${FRONT_PID:+"$FRONT_PID"} ${SIGNER_PID:+"$SIGNER_PID"} 2>/dev/null || true
}

stop_ztpd() {
	local kids=""
	if [ -n "$ZTPD_PID" ] && kill -0 "$ZTPD_PID" 2>/dev/null; then
		ztpd_children
		kids="${FRONT_PID:-} ${SIGNER_PID:-}"
		kill -TERM "$ZTPD_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$ZTPD_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$ZTPD_PID" 2>/dev/null || true
		wait "$ZTPD_PID" 2>/dev/null || true
	fi
	# children outlive a parent killed with -9 only until they notice
	for p in $kids; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	ZTPD_PID=""
}

cleanup() {
	local rc=$?
	stop_ztpd
	if [ $rc -ne 0 ] && [ -f "$T/ztpd.log" ]; then
		echo "---- ztpd log (last 40 lines) ----" >&2
		tail -n 40 "$T/ztpd.log" >&2
	fi
	pg_cleanup
	[ -n "${KEEP_T:-}" ] || rm -rf "$T"
	exit $rc
}
trap cleanup EXIT

# start_ztpd [extra ztpd options...]: starts ztpd on DATA with ephemeral
# ports and waits until it listens. Sets DEVICE_PORT, ADMIN_PORT, ZTP_ADMIN.
start_ztpd() {
	rm -f "$DATA/run.json"
	"$ZTPD" --data "$DATA" --device-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
		--workers 2 "$@" >>"$T/ztpd.log" 2>&1 &
	ZTPD_PID=$!
	for _ in $(seq 1 200); do
		if [ -s "$DATA/run.json" ] && [ "$(jq -r .pid "$DATA/run.json" 2>/dev/null)" = "$ZTPD_PID" ]; then
			break
		fi
		kill -0 "$ZTPD_PID" 2>/dev/null || fail "ztpd exited at start"
		sleep 0.05
	done
	[ -s "$DATA/run.json" ] || fail "ztpd did not write run.json"
	DEVICE_PORT=$(jq -r .device "$DATA/run.json" | sed 's/.*://')
	ADMIN_PORT=$(jq -r .admin "$DATA/run.json" | sed 's/.*://')
	ztpd_children
	export ZTP_ADMIN=$DATA/admin.json
}

# admin_token: prints a bearer token for the data directory's admin key
admin_token() {
	curl -sS --cacert "$DATA/ca.pem" -X POST "https://127.0.0.1:$ADMIN_PORT/v1/auth/token" \
		-H 'Content-Type: application/json' \
		-d "$(jq -c '{key_id, secret}' "$DATA/admin.json")" | jq -r .token
}

# admin METHOD PATH [JSON]: calls the admin API; prints the body, then the
# status code on the last line.
admin() {
	local method=$1 path=$2 body=${3:-}
	local tok
	tok=${ADMIN_TOKEN:-$(admin_token)}
	if [ -n "$body" ]; then
		curl -sS --cacert "$DATA/ca.pem" -X "$method" -H "Authorization: Bearer $tok" \
			-H 'Content-Type: application/json' -d "$body" -w '\n%{http_code}' \
			"https://127.0.0.1:$ADMIN_PORT$path"
	else
		curl -sS --cacert "$DATA/ca.pem" -X "$method" -H "Authorization: Bearer $tok" \
			-w '\n%{http_code}' "https://127.0.0.1:$ADMIN_PORT$path"
	fi
}

# ---- the store on PostgreSQL
# With ZTP_TEST_PG (the directory of `tests/pg/pg.sh start DIR`, or a base
# URL), each data directory gets a database of its own, ztp_it_<pid>_<n>:
# $ZTPD and $ZTPD_FAULT are wrappers (pg_ztpd.sh) that make it when ztpd
# is started on a data directory that has no secret.key yet (a new one, or
# one made anew: the store's secrets are sealed with that key) and pass
# ztpd --store with its URL; the cleanup drops them. db, db_exec, db_dump
# and db_snapshot then read and write that database with psql, in the
# output format of sqlite3 (|-separated, no header), and SQLite's dialect
# as the tests write it is made to work:
#  - functions PostgreSQL lacks (hex, zeroblob, printf('%0NX'),
#    group_concat, CAST(.. AS BLOB)) are in the schema ztp_compat of every
#    test database (tests/pg/compat.sql), on the session's search_path;
#  - blob literals x'00FF' become '\x00FF'::bytea (pg_sql);
#  - bytea is written out as text, as sqlite3 prints a blob (bytea_output
#    escape: printable bytes as they are), so SELECT body and
#    CAST(body AS TEXT) read the same on both;
#  - booleans (x > 0, x IS NULL) are printed 1 and 0, not t and f (pg_bools:
#    a text column whose value is exactly t or f would be changed too).
# What is about SQLite itself (PRAGMA, the ztp.db file) asks store_is_pg.
store_is_pg() { [ -n "${ZTP_TEST_PG:-}" ]; }
if store_is_pg; then
	# shellcheck source=../pg/pg.sh
	. "$SRC/tests/pg/pg.sh"
	# once: the server's URL (a --tcp server's password file for psql and
	# ztpd), psql's directory
	pg_passfile "$ZTP_TEST_PG"
	[ -z "$PG_PASSFILE" ] || export PGPASSFILE=${PGPASSFILE:-$PG_PASSFILE}
	ZTP_TEST_PG=$(pg_base_url "$ZTP_TEST_PG") || fail "ZTP_TEST_PG=$ZTP_TEST_PG: no PostgreSQL server there"
	ZTP_PG_BIN=$(pg_bin) || fail "no PostgreSQL programs"
	export ZTP_TEST_PG ZTP_PG_BIN ZTP_SRC=$SRC
	export ZTP_PG_MAP=$T/pg.map ZTP_PG_PREFIX=ztp_it_$$ # lines "DATA-DIR DATABASE"
	: >"$ZTP_PG_MAP"
	mkdir "$T/pg"
	for b in ztpd ztpd-fault; do
		printf '#!/bin/bash\nexec bash "%s" "%s" "$@"\n' "$SRC/tests/integration/pg_ztpd.sh" "$BUILD/$b" >"$T/pg/$b"
		chmod 755 "$T/pg/$b"
	done
	ZTPD=$T/pg/ztpd
	ZTPD_FAULT=$T/pg/ztpd-fault
fi
PG_PSQL_OPTIONS='-c search_path="$user",public,ztp_compat -c bytea_output=escape -c client_min_messages=warning'

# pg_db_url: the URL of the database of $DATA
pg_db_url() {
	local name
	name=$(awk -v d="$(realpath -m "$DATA")" '$1 == d { n = $2 } END { print n }' "$ZTP_PG_MAP")
	[ -n "$name" ] || { echo "lib.sh: no PostgreSQL database for $DATA: ztpd was never started on it" >&2; return 1; }
	pg_url "$ZTP_TEST_PG" "$name"
}
# pg_sql: SQL on stdin with SQLite's blob literals x'..' as PostgreSQL's
pg_sql() { sed -E "s/(^|[^[:alnum:]_'])[xX]'([0-9A-Fa-f]*)'/\1'\\\\x\2'::bytea/g"; }
# pg_bools: psql's t and f fields as sqlite3's 1 and 0
pg_bools() { awk 'BEGIN { FS = OFS = "|" } { for (i = 1; i <= NF; i++) if ($i == "t") $i = 1; else if ($i == "f") $i = 0; print }'; }
# pg_run [psql options]: the SQL on stdin on $DATA's database, as sqlite3 prints it
pg_run() {
	local url
	url=$(pg_db_url) || return 1
	pg_sql | PGOPTIONS=$PG_PSQL_OPTIONS pg_psql_url "$url" -q -A -t -F '|' -v ON_ERROR_STOP=1 "$@" -f - | pg_bools
}
# pg_cleanup: drop the databases of this test
pg_cleanup() {
	local d name
	store_is_pg && [ -f "${ZTP_PG_MAP:-}" ] || return 0
	while read -r d name; do
		pg_dropdb "$ZTP_TEST_PG" "$name" >/dev/null 2>&1 || echo "lib.sh: could not drop $name" >&2
	done <"$ZTP_PG_MAP"
}

# db QUERY: runs a read-only query on the store
db() {
	if store_is_pg; then
		printf '%s\n' "$1" | pg_run
	else
		sqlite3 -readonly "$DATA/ztp.db" "$1"
	fi
}

# db_exec [SQL]: changes the store behind ztpd's back (SQL, or stdin)
db_exec() {
	if store_is_pg; then
		if [ $# -gt 0 ]; then printf '%s\n' "$1" | pg_run; else pg_run; fi
	elif [ $# -gt 0 ]; then
		sqlite3 -cmd '.timeout 10000' "$DATA/ztp.db" "$1"
	else
		sqlite3 -cmd '.timeout 10000' "$DATA/ztp.db"
	fi
}

# db_dump: the whole store as text, to grep for what must not be in it in
# clear (PostgreSQL: blobs once as hex and once as text)
db_dump() {
	local url
	if store_is_pg; then
		url=$(pg_db_url) || return 1
		PGOPTIONS='-c bytea_output=hex' "$ZTP_PG_BIN/pg_dump" "$url"
		PGOPTIONS='-c bytea_output=escape' "$ZTP_PG_BIN/pg_dump" "$url"
	else
		sqlite3 -readonly "$DATA/ztp.db" .dump
	fi
}

# db_snapshot: a dump of the tables a refused request must not change
db_snapshot() {
	db "SELECT * FROM sims ORDER BY iccid; SELECT iccid,version,hex(body),source FROM configs ORDER BY iccid, version; SELECT id,iccid,hex(body) FROM telemetry ORDER BY id; SELECT iccid,device_id,cli,usr FROM devices ORDER BY iccid, device_id;"
}

# expect_event KIND: an event of that kind was recorded (events a peer can
# trigger are written about once a second: waits up to 10 s)
expect_event() {
	wait_ev_count "$1" 1 || fail "no $1 event recorded"
}

# s_client_get PATH [extra request headers]: fetch over TLS 1.3 PSK with
# openssl s_client and the ASCII ICCID identity; prints the raw HTTP response
s_client_get() {
	local path=$1 extra=${2:-}
	printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s\r\n' "$path" "$extra" |
		timeout 10 openssl s_client -tls1_3 -psk "${S_PSK:-$PSK}" -psk_identity "${S_ID:-$ICCID}" \
			-connect "127.0.0.1:$DEVICE_PORT" -quiet -ign_eof 2>/dev/null
}

# ev_count KIND: number of events of that kind (a row may stand for several
# repeats: its count)
ev_count_now() { db "SELECT coalesce(sum(count), 0) FROM events WHERE kind='$1'"; }
# Events a peer can cause are queued in the front and written about once a
# second (EVQ_FLUSH_MS in events.h): ev_settle waits out one write, so that
# what is read after it holds every event caused before it. ev_count settles
# first: a count before an action and one after it are both complete.
ev_settle() { sleep 1.5; }
ev_count() {
	ev_settle
	ev_count_now "$1"
}

# wait_ev_count KIND MIN: until there are at least MIN events of KIND; false
# after 10 s (events a peer can trigger are queued and written about once a
# second, docs/admin-api.md)
wait_ev_count() {
	local _
	for _ in $(seq 1 200); do
		[ "$(ev_count_now "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# expect_new_event KIND BEFORE: more events of KIND than BEFORE (waits as wait_ev_count)
expect_new_event() {
	wait_ev_count "$1" $(($2 + 1)) || fail "no new $1 event (had $2, have $(ev_count "$1"))"
}

# json_true FILE FILTER [jq options...]: FILE ("-": stdin) holds exactly one
# JSON value and FILTER (with the jq options, --arg and such) is true of
# it. A missing, empty or unparsable file is false (jq 1.6's -e alone
# exits 0 on empty input).
json_true() {
	local file=$1 filter=$2
	shift 2
	if [ "$file" = - ]; then
		jq -n -e "$@" "[inputs] | length == 1 and (.[0] | $filter)" >/dev/null 2>&1
	else
		[ -f "$file" ] && jq -n -e "$@" "[inputs] | length == 1 and (.[0] | $filter)" "$file" >/dev/null 2>&1
	fi
}
# json_get FILE FILTER: jq -r FILTER of the one JSON value in FILE; the test
# fails (nothing is printed) if FILE is missing, empty or not one JSON value
json_get() {
	local out
	[ -f "$1" ] || fail "$1: no such file (reading $2)"
	out=$(jq -n -r "[inputs] | if length == 1 then .[0] | $2 else error(\"not one JSON value\") end" "$1" 2>&1) ||
		fail "$1: not one JSON value ('$(head -c 200 "$1" | tr '\n' ' ')'), reading $2: $out"
	printf '%s\n' "$out"
}
# body_of: the body of a raw HTTP response on stdin
body_of() { sed '1,/^\r*$/d'; }
# status_of: the status code of a raw HTTP response on stdin
status_of() { head -1 | awk '{print $2}'; }

# psk_get [psk_client options]: GET the seed's configuration path with psk_client
PSK_CLIENT=$BUILD/tests/psk_client
config_path() { echo "/v1/config/${1:-$DEVID}?iccid=${2:-$ICCID_EF}"; }
request() { # request METHOD PATH [extra header lines] [body]
	local extra=${3:-} body=${4:-}
	printf '%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%sContent-Length: %d\r\n\r\n%s' \
		"$1" "$2" "$extra" "${#body}" "$body"
}

# setup_seed_sim: registers the seed's SIM and configuration through the admin API
setup_seed_sim() {
	ADMIN_TOKEN=$(admin_token)
	export ADMIN_TOKEN
	[ "$(admin POST /v1/sims "{\"iccid\":\"$ICCID\",\"psk\":\"$PSK\"}" | tail -1)" = 201 ] ||
		fail "cannot create the SIM"
	[ "$(admin PUT "/v1/sims/$ICCID/config" "$(jq -nc --arg b "$SEED_CONFIG" '{body:$b}')" | tail -1)" = 201 ] ||
		fail "cannot set the configuration"
}
