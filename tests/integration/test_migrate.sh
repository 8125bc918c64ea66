#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ztpd migrate (docs/migrate.md): a ztpd on SQLite with SIMs, a group, a
# configuration, telemetry a device posted and the events of all that is
# stopped; its store is copied into PostgreSQL; a second copy into the
# same database is refused, with --resume it adds nothing and counts as
# many rows; ztpd started on PostgreSQL (--store) with the same data
# directory serves the SIM its configuration with its PSK, and the admin
# API lists the same SIMs, telemetry and events as before. No secret in
# migrate's output. Then the way back: PostgreSQL into a new SQLite file.
#
# PostgreSQL: the server of the test run (ZTP_TEST_PG, the fixture pg of
# tests/CMakeLists.txt), else one this test starts with tests/pg/pg.sh and
# stops; skipped if there are no PostgreSQL server binaries.
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_migrate.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../pg/pg.sh
. "$SRC/tests/pg/pg.sh"

# ztpd itself: the stores are named below (with ZTP_TEST_PG lib.sh's $ZTPD
# would put every start on a database of its own)
ZTPD=$BUILD/ztpd
ICCID2=8944502509186389643
PSK2=202122232425262728292A2B2C2D2E2F
OWN_PG="" PGDIR="" DB=ztp_migrate_$$

migrate_cleanup() {
	local rc=$?
	stop_ztpd
	if [ -n "$PGDIR" ]; then
		pg_dropdb "$PGDIR" "$DB" >/dev/null 2>&1 || true
		[ -z "$OWN_PG" ] || pg_stop "$PGDIR" >/dev/null 2>&1 || true
	fi
	(exit $rc)
	cleanup
}
trap migrate_cleanup EXIT

if [ -n "${ZTP_TEST_PG:-}" ]; then
	PGDIR=$ZTP_TEST_PG
elif pg_bin >/dev/null 2>&1; then
	PGDIR=$T/pg-server
	OWN_PG=1
	pg_start "$PGDIR" >/dev/null 2>"$T/pg-start.log" || fail "pg.sh start: $(cat "$T/pg-start.log")"
else
	echo "SKIP: no PostgreSQL server binaries (initdb): apt-get install postgresql, or set ZTP_PG_BIN"
	exit 0
fi
pg_createdb "$PGDIR" "$DB" >/dev/null
URL=$(pg_url "$PGDIR" "$DB")
pg_passfile "$PGDIR"
[ -z "$PG_PASSFILE" ] || export PGPASSFILE=${PGPASSFILE:-$PG_PASSFILE}
psql_db() { pg_psql "$PGDIR" "$DB" -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
lite() { sqlite3 -readonly "$1" "$2"; }

TABLES="groups sims configs telemetry devices events api_keys allowlist enrol_passwords mfr_cas things certs counters crl"
# counts FILE|pg: "table count" per table of the SQLite file or of the database
counts() {
	local t
	for t in $TABLES; do
		if [ "$1" = pg ]; then
			echo "$t $(psql_db "SELECT count(*) FROM $t")"
		else
			echo "$t $(lite "$1" "SELECT count(*) FROM $t")"
		fi
	done
}
# migrate ARGS...: ztpd migrate on DATA; output in $T/mig, status in RC
migrate() {
	set +e
	"$ZTPD" --data "$DATA" migrate "$@" >"$T/mig" 2>&1
	RC=$?
	set -e
	cat "$T/mig" >>"$T/mig-all"
}

# ---- a ztpd on SQLite with data in every kind of table a device and the admin write ----
start_ztpd
setup_seed_sim
[ "$(admin POST /v1/groups '{"name":"fleet"}' | tail -1)" = 201 ] || fail "cannot create the group"
[ "$(admin POST /v1/sims "{\"iccid\":\"$ICCID2\",\"psk\":\"$PSK2\",\"group\":\"fleet\"}" | tail -1)" = 201 ] ||
	fail "cannot create the second SIM"
resp=$(s_client_get "$(config_path)")
[ "$(echo "$resp" | status_of)" = 200 ] || fail "configuration on SQLite: $resp"
resp=$(request POST "/v1/data/$DEVID?iccid=$ICCID_EF" "" "temp=21.5" |
	timeout 10 openssl s_client -tls1_3 -psk "$PSK" -psk_identity "$ICCID" \
		-connect "127.0.0.1:$DEVICE_PORT" -quiet -ign_eof 2>/dev/null)
[ "$(echo "$resp" | status_of)" = 204 ] || fail "telemetry on SQLite: $resp"
ev_settle
admin GET "/v1/sims?limit=100" | head -1 >"$T/sims-before"
admin GET "/v1/sims/$ICCID/telemetry" | head -1 >"$T/tele-before"
admin GET "/v1/events?limit=1000" | head -1 >"$T/events-before"
[ "$(json_get "$T/sims-before" '.sims | length')" = 2 ] || fail "two SIMs: $(cat "$T/sims-before")"
[ "$(json_get "$T/tele-before" '.telemetry | length')" = 1 ] || fail "one telemetry: $(cat "$T/tele-before")"
NEV=$(json_get "$T/events-before" '.events | length')
[ "$NEV" -gt 0 ] || fail "no events"
ok "ztpd on SQLite: 2 SIMs, a group, a configuration fetched, telemetry, $NEV events"

# ---- migrate ----
: >"$T/mig-all"
migrate --from "sqlite:$DATA/ztp.db" --to "$URL"
[ "$RC" -ne 0 ] && grep -q "in use by another ztpd" "$T/mig" || fail "migrate ran while ztpd serves the data directory: $RC $(cat "$T/mig")"
ok "refused while ztpd runs on the data directory"
stop_ztpd

migrate --from "sqlite:$DATA/no-such.db" --to "$URL"
[ "$RC" -ne 0 ] && grep -q "does not exist" "$T/mig" || fail "a missing source: $RC $(cat "$T/mig")"
[ ! -e "$DATA/no-such.db" ] || fail "a missing source was created"
ok "a SQLite source that does not exist is refused, not created"

migrate --from "sqlite:$DATA/ztp.db" --to "$URL"
[ "$RC" = 0 ] || fail "migrate: exit $RC: $(cat "$T/mig")"
for t in $TABLES; do
	grep -qE "migrate: $t: [0-9]+ rows copied \([0-9]+ new\) in [0-9.]+ s, [0-9]+ rows/s" "$T/mig" ||
		fail "no progress line for $t: $(cat "$T/mig")"
done
grep -q "migrate: done" "$T/mig" || fail "no verification line: $(cat "$T/mig")"
[ "$(counts "$DATA/ztp.db")" = "$(counts pg)" ] || fail "counts differ: $(diff <(counts "$DATA/ztp.db") <(counts pg))"
grep -q "sims: 2 rows copied (2 new)" "$T/mig" || fail "sims: $(grep sims "$T/mig")"
ok "migrated: every table has as many rows in PostgreSQL, a progress line per table"

migrate --from "sqlite:$DATA/ztp.db" --to "$URL"
[ "$RC" -ne 0 ] || fail "a second migrate into the same database was not refused"
grep -q "the target is not empty" "$T/mig" || fail "refusal: $(cat "$T/mig")"
[ "$(counts "$DATA/ztp.db")" = "$(counts pg)" ] || fail "the refused migrate changed the counts"
ok "a second migrate without --resume is refused"

migrate --from "sqlite:$DATA/ztp.db" --to "$URL" --resume
[ "$RC" = 0 ] || fail "migrate --resume: exit $RC: $(cat "$T/mig")"
grep -q "sims: 2 rows copied (0 new)" "$T/mig" || fail "resume added SIMs: $(grep sims "$T/mig")"
grep -q "migrate: done" "$T/mig" || fail "no verification line: $(cat "$T/mig")"
[ "$(counts "$DATA/ztp.db")" = "$(counts pg)" ] || fail "counts differ after --resume"
ok "migrate --resume: nothing new, counts equal"

# no secret in anything migrate printed
for s in "$PSK" "$PSK2" "$(jq -r .secret "$DATA/admin.json")" "temp=21.5"; do
	! grep -qiF -- "$s" "$T/mig-all" || fail "a secret or a value in migrate's output"
done
ok "no PSK, no API secret, no value in migrate's output"

# ---- ztpd on PostgreSQL with the same data directory ----
start_ztpd --store "$URL"
ADMIN_TOKEN=$(admin_token)
admin GET "/v1/sims?limit=100" | head -1 >"$T/sims-after"
jq -S 'del(.sims[].updated_at)' "$T/sims-before" >"$T/a"
jq -S 'del(.sims[].updated_at)' "$T/sims-after" >"$T/b"
cmp -s "$T/a" "$T/b" || fail "SIMs differ: $(diff "$T/a" "$T/b")"
admin GET "/v1/sims/$ICCID/telemetry" | head -1 >"$T/tele-after"
cmp -s <(jq -S . "$T/tele-before") <(jq -S . "$T/tele-after") || fail "telemetry differs"
admin GET "/v1/events?limit=1000" | head -1 >"$T/events-after"
jq -S ".events[:$NEV]" "$T/events-before" >"$T/a"
jq -S ".events[:$NEV]" "$T/events-after" >"$T/b"
cmp -s "$T/a" "$T/b" || fail "events differ: $(diff "$T/a" "$T/b")"
ok "the admin API lists the same SIMs, telemetry and events as on SQLite"

resp=$(s_client_get "$(config_path)")
[ "$(echo "$resp" | status_of)" = 200 ] || fail "configuration on PostgreSQL: $resp"
[ "$(echo "$resp" | body_of)" = "$SEED_CONFIG" ] || fail "configuration body differs: $resp"
resp=$(S_ID=$ICCID2 S_PSK=$PSK2 s_client_get "$(config_path AA "$(printf '%s' "${ICCID2}F" | sed 's/\(.\)\(.\)/\2\1/g')")")
[ "$(echo "$resp" | status_of)" = 204 ] || fail "the second SIM's PSK on PostgreSQL: $resp"
ok "on PostgreSQL the SIMs connect with their PSKs, the configuration is served"

# new rows continue after the copied ids
[ "$(admin POST /v1/sims '{"iccid":"8944502509186389650","psk":"'"$PSK2"'"}' | tail -1)" = 201 ] ||
	fail "cannot create a SIM on PostgreSQL"
ev_settle
[ "$(psql_db "SELECT count(*) FROM events")" -gt "$NEV" ] || fail "no new event on PostgreSQL"
[ "$(psql_db "SELECT max(id) FROM events")" -gt "$(json_get "$T/events-before" '[.events[].id] | max')" ] ||
	fail "no event after the copied ids"
resp=$(request POST "/v1/data/$DEVID?iccid=$ICCID_EF" "" "temp=22" |
	timeout 10 openssl s_client -tls1_3 -psk "$PSK" -psk_identity "$ICCID" \
		-connect "127.0.0.1:$DEVICE_PORT" -quiet -ign_eof 2>/dev/null)
[ "$(echo "$resp" | status_of)" = 204 ] || fail "telemetry on PostgreSQL: $resp"
[ "$(psql_db "SELECT count(*) FROM telemetry")" = 2 ] || fail "telemetry not added after the copied row"
ok "new events and telemetry get ids after the copied ones"
stop_ztpd

# ---- the way back: PostgreSQL into a new SQLite file ----
migrate --from "$URL" --to "sqlite:$T/back.db"
[ "$RC" = 0 ] || fail "migrate back: exit $RC: $(cat "$T/mig")"
[ "$(counts "$T/back.db")" = "$(counts pg)" ] || fail "counts differ on the way back"
ok "PostgreSQL back into SQLite: counts equal"

exit 0
