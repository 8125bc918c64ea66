#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# PostgreSQL only: a worker does not wait on the database while its other
# connections could go on (coro.c, tlsbev.c). One worker; another session
# holds the configurations table locked, so a fetch waits in the database
# for as long as the test wants. Meanwhile, on that same worker:
#   - admin requests are answered (they read other tables);
#   - device handshakes finish (their PSK is looked up in the database
#     while the handshake is parked) and their requests are answered;
#   - a second fetch waits too, and its client goes away while it waits.
# Then the lock goes: the first fetch gets its configuration, the server
# is the same process and serves on. Before the coroutines, the first
# fetch stopped the worker until the lock went: every check in between
# timed out.
. "$(dirname "$0")/lib.sh"

if ! store_is_pg; then
	echo "skip: needs ZTP_TEST_PG (ctest -L pg)"
	exit 77
fi

start_ztpd --workers 1 --store-connections 4
setup_seed_sim
FRONT=$FRONT_PID
URL=$(pg_db_url) || fail "no database"

# waiting_in_db: sessions of this database waiting for a lock
waiting_in_db() {
	printf "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock';\n" |
		PGOPTIONS=$PG_PSQL_OPTIONS pg_psql_url "$URL" -q -A -t
}
wait_waiting() { # wait_waiting N
	local i
	for i in $(seq 1 100); do
		[ "$(waiting_in_db)" = "$1" ] && return 0
		sleep 0.1
	done
	fail "expected $1 sessions waiting for the lock, saw $(waiting_in_db)"
}

# ---- another session holds the configurations locked (until COMMIT on fd 7)
mkfifo "$T/lock.in"
PGOPTIONS=$PG_PSQL_OPTIONS pg_psql_url "$URL" -q -A -t -v ON_ERROR_STOP=1 <"$T/lock.in" >"$T/lock.out" 2>&1 &
LOCK_PID=$!
exec 7>"$T/lock.in"
echo "BEGIN; LOCK TABLE configs IN ACCESS EXCLUSIVE MODE; SELECT 'locked';" >&7
for _ in $(seq 1 100); do grep -q locked "$T/lock.out" && break; sleep 0.1; done
grep -q locked "$T/lock.out" || fail "could not lock the table: $(cat "$T/lock.out")"

# ---- a fetch waits in the database
s_client_get "$(config_path)" >"$T/fetch1" &
FETCH1=$!
wait_waiting 1
ok "a fetch waits in the database for the locked configurations"

# ---- the same worker goes on meanwhile
out=$(curl -sS --max-time 5 --cacert "$DATA/ca.pem" -H "Authorization: Bearer $ADMIN_TOKEN" \
	-w '\n%{http_code}' "https://127.0.0.1:$ADMIN_PORT/v1/sims/$ICCID") ||
	fail "the admin request was not answered while a fetch waits in the database"
[ "$(echo "$out" | tail -1)" = 200 ] || fail "admin request: $(echo "$out" | tail -1)"
echo "$out" | head -n -1 | jq -e --arg i "$ICCID" '.iccid == $i' >/dev/null || fail "admin body: $out"
for i in 1 2 3; do
	r=$(s_client_get "/v1/nothing-here-$i") || true
	[ "$(echo "$r" | status_of)" = 404 ] ||
		fail "device connection $i (handshake with a PSK from the database, then a request): '$(head -1 <<<"$r")'"
done
kill -0 "$FETCH1" 2>/dev/null || fail "the waiting fetch ended early: $(head -1 "$T/fetch1")"
[ "$(waiting_in_db)" = 1 ] || fail "the waiting fetch does not wait any more"
ok "while it waits: admin requests answered, three device handshakes and requests served"

# ---- a second fetch waits, and its client goes away meanwhile
printf 'GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n' "$(config_path)" |
	openssl s_client -tls1_3 -psk "$PSK" -psk_identity "$ICCID" \
		-connect "127.0.0.1:$DEVICE_PORT" -quiet -ign_eof >/dev/null 2>&1 &
GONE=$!
wait_waiting 2
kill "$GONE" 2>/dev/null
wait "$GONE" 2>/dev/null || true
sleep 0.3
ok "a second fetch waits too; its client went away"

# ---- the lock goes
echo "COMMIT;" >&7
exec 7>&-
wait "$LOCK_PID" || fail "the locking session failed: $(cat "$T/lock.out")"
wait "$FETCH1" || true
[ "$(status_of <"$T/fetch1")" = 200 ] || fail "the waiting fetch: '$(head -1 "$T/fetch1")'"
[ "$(body_of <"$T/fetch1")" = "$SEED_CONFIG" ] || fail "the waiting fetch's body: $(body_of <"$T/fetch1")"
wait_waiting 0
r=$(s_client_get "$(config_path)")
[ "$(echo "$r" | status_of)" = 200 ] || fail "a fetch after: '$(head -1 <<<"$r")'"
ztpd_children
[ "$FRONT_PID" = "$FRONT" ] || fail "the front was restarted ($FRONT -> $FRONT_PID): it crashed"
ok "the lock gone: the waiting fetch got its configuration; same front, serving on"
