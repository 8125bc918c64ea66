# SPDX-License-Identifier: Apache-2.0
# Shared helpers of the integration tests (sourced by tests/integration/test_*.sh).
# Real binaries, ephemeral loopback ports, a temporary data directory.
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
	rm -rf "$T"
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

# sqlite QUERY: runs a read-only query on the store
db() { sqlite3 -readonly "$DATA/ztp.db" "$1"; }

# db_snapshot: a dump of the tables a refused request must not change
db_snapshot() {
	sqlite3 -readonly "$DATA/ztp.db" \
		"SELECT * FROM sims; SELECT iccid,version,hex(body),source FROM configs; SELECT id,iccid,hex(body) FROM telemetry; SELECT iccid,device_id,cli,usr FROM devices;"
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
