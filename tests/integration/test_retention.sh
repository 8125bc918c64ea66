#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The bounded audit trail, end to end: with --retain-events 1 and
# --retain-telemetry 1, rows older than a day (written with db_exec while
# ztpd was stopped) are pruned in the background shortly after the start,
# in batches, while recent rows stay; then refused handshakes with unknown
# identities from one address are rate-limited and coalesced (--event-rate)
# instead of one row each. Prints what it measured.
. "$(dirname "$0")/lib.sh"

# a first start creates the database; old rows go in while ztpd is stopped
start_ztpd
stop_ztpd

now_ms=$(($(date +%s) * 1000))
old_ms=$((now_ms - 2 * 86400 * 1000))
OLD_EVENTS=2500 OLD_TELEMETRY=1500 NEW_EVENTS=7 NEW_TELEMETRY=5
db_exec <<EOF
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $OLD_EVENTS)
  INSERT INTO events(time, kind, detail) SELECT $old_ms, 'admin_change', 'old ' || i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $NEW_EVENTS)
  INSERT INTO events(time, kind, detail) SELECT $now_ms, 'admin_change', 'recent ' || i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $OLD_TELEMETRY)
  INSERT INTO telemetry(iccid, device_id, body, received_at)
  SELECT '$ICCID', '$DEVID', x'6F6C64', $old_ms FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $NEW_TELEMETRY)
  INSERT INTO telemetry(iccid, device_id, body, received_at)
  SELECT '$ICCID', '$DEVID', x'6E6577', $now_ms FROM n;
COMMIT;
EOF
[ "$(db "SELECT count(*) FROM events WHERE detail LIKE 'old %'")" = "$OLD_EVENTS" ] || fail "old events not inserted"
[ "$(db "SELECT count(*) FROM telemetry WHERE received_at = $old_ms")" = "$OLD_TELEMETRY" ] || fail "old telemetry not inserted"

# ---- retention: the old rows go, the recent ones stay
start=$(date +%s%N)
start_ztpd --retain-events 1 --retain-telemetry 1 --event-rate 5
gone=""
for _ in $(seq 1 300); do # 30 s at most; the first pass runs a few seconds after the start
	if [ "$(db "SELECT count(*) FROM events WHERE time < $now_ms - 86400000")" = 0 ] &&
		[ "$(db "SELECT count(*) FROM telemetry WHERE received_at < $now_ms - 86400000")" = 0 ]; then
		gone=1
		break
	fi
	sleep 0.1
done
took=$((($(date +%s%N) - start) / 1000000))
[ -n "$gone" ] || fail "old rows not pruned: $(db "SELECT count(*) FROM events WHERE detail LIKE 'old %'") events, $(db "SELECT count(*) FROM telemetry WHERE received_at = $old_ms") telemetry left"
eq() { [ "$1" = "$2" ] || fail "$3: expected $2, got $1"; }
eq "$(db "SELECT count(*) FROM events WHERE detail LIKE 'recent %'")" "$NEW_EVENTS" "recent events kept"
eq "$(db "SELECT count(*) FROM telemetry WHERE received_at = $now_ms")" "$NEW_TELEMETRY" "recent telemetry kept"
logline=$(grep -a "retention: pruned" "$T/ztpd.log" | tail -1)
grep -q "pruned $OLD_EVENTS events.*$OLD_TELEMETRY telemetry records" <<<"$logline" ||
	fail "the log does not say what was pruned: '$logline'"
echo "retention: $OLD_EVENTS old events and $OLD_TELEMETRY old telemetry records gone ${took} ms after the start;" \
	"log: ${logline#*retention: }"
ok "retention: old events and telemetry pruned in the background, recent rows kept"

# ---- refused handshakes from one address: coalesced and rate-limited, not one row each
ADMIN_TOKEN=$(admin_token)
export ADMIN_TOKEN
base_rows=$(db "SELECT count(*) FROM events")
N=60
for i in $(seq 1 $N); do
	# distinct unknown ICCIDs (a new key each) ...
	"$BUILD/tests/psk_client" --port "$DEVICE_PORT" --identity "89445025091800$(printf %05d "$i")" \
		--psk "$PSK" >/dev/null 2>&1 && fail "an unknown identity was accepted"
done
for i in $(seq 1 $N); do
	# ... and one unknown ICCID again and again (one key)
	"$BUILD/tests/psk_client" --port "$DEVICE_PORT" --identity 8944502509186389999 \
		--psk "$PSK" >/dev/null 2>&1 && fail "an unknown identity was accepted"
done
# every refusal is counted (in a row of its own, a repeat count or the suppressed count) once flushed
wait_ev_count unknown_identity 1 || fail "no unknown_identity event"
total=0
for _ in $(seq 1 200); do
	total=$(db "SELECT coalesce(sum(count), 0) FROM events WHERE kind IN ('unknown_identity', 'events_suppressed')")
	[ "$total" -ge $((2 * N)) ] && break
	sleep 0.05
done
rows=$(($(db "SELECT count(*) FROM events") - base_rows))
unk=$(db "SELECT count(*) FROM events WHERE kind = 'unknown_identity'")
sup=$(db "SELECT count(*) FROM events WHERE kind = 'events_suppressed'")
echo "handshakes: $((2 * N)) refused from 127.0.0.1, $rows new rows ($unk unknown_identity, $sup events_suppressed), counts add up to $total"
eq "$total" $((2 * N)) "refusals counted"
# 2 workers, each with its own queue: at most --event-rate new rows per address each, plus a summary
[ "$unk" -le 10 ] || fail "$unk unknown_identity rows for one address (--event-rate 5, 2 workers)"
[ "$sup" -ge 1 ] && [ "$sup" -le 2 ] || fail "$sup events_suppressed rows"
eq "$(db "SELECT peer FROM events WHERE kind = 'events_suppressed' LIMIT 1")" 127.0.0.1 "the suppressed row's peer"

# the admin API and ztpctl show the counts
out=$(admin GET "/v1/events?limit=1000")
[ "$(echo "$out" | tail -1)" = 200 ] || fail "GET /v1/events: $out"
echo "$out" | sed '$d' | jq -e '[.events[] | select(.kind == "events_suppressed")] | length >= 1 and
	all(.count > 1 and (.last_time | type) == "string")' >/dev/null ||
	fail "the events_suppressed row lacks count or last_time: $(echo "$out" | sed '$d' | head -c 600)"
echo "$out" | sed '$d' | jq -e 'all(.events[]; (.count | type) == "number" and .count >= 1)' >/dev/null ||
	fail "an event without a count"
"$ZTPCTL" events >"$T/ctl" 2>&1 || fail "ztpctl events: $(cat "$T/ctl")"
grep -q "events_suppressed .* times, last " "$T/ctl" || fail "ztpctl events does not show the count: $(grep suppressed "$T/ctl")"
ok "refused handshakes: coalesced and rate-limited per address; count and last_time in the API and ztpctl"

stop_ztpd
echo "retention: all checks passed"
