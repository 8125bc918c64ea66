#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The server keeps its own minimum interval between heartbeats (issue 13,
# docs/protocol/security-service.md section 5): a modified module that does
# not wait out its own (ztp-modfleet --flood) is refused 429 with a
# retry-after, and nothing moves: no key pending, the epoch and the
# heartbeat count as they were.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$SRC/tests/integration/lib_ztpctl.sh"

FLEET=$BUILD/bench/ztp-modfleet
[ -x "$FLEET" ] || fail "no ztp-modfleet at $FLEET"

start_ztpd
ok_run owner create acme
ok_run profile create meter --owner acme --heartbeat-min-interval 3600
P=$(head -1 "$T/out")
"$FLEET" --make-batch 1 --out "$T/batch.csv" >/dev/null || fail "ztp-modfleet --make-batch"
ok_run module import "$T/batch.csv"
fleet() {
	"$FLEET" --server "127.0.0.1:$DEVICE_PORT" --batch "$T/batch.csv" --state-dir "$T/state" \
		--seal "$P" --threads 1 "$@" >"$T/fleet.out" 2>&1
}
fleet bootstrap heartbeat || fail "bootstrap and a first heartbeat: $(tail -20 "$T/fleet.out")"
row() { db "SELECT epoch, pending_epoch, heartbeats, last_heartbeat_at FROM modules"; }
before=$(row)
[ "$(echo "$before" | cut -d'|' -f1-3)" = "2|0|1" ] || fail "after one heartbeat: $before"
set +e
fleet --flood --max-tries 1 --json "$T/flood.json" heartbeat
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a heartbeat within the server's minimum interval was not refused"
jq -e '.heartbeat.refused_too_soon_429 == 1 and .heartbeat.done == 0' "$T/flood.json" >/dev/null ||
	fail "the flood's summary: $(cat "$T/flood.json")"
eq "$(row)" "$before" "the module's row after a refused heartbeat"
ok "a heartbeat inside the profile's minimum interval, sent anyway, is refused 429 and changes nothing"
