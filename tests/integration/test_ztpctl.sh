#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ztpctl end to end against a real ztpd (docs/admin-api.md): every command,
# its table and --json output, the store after each change, the errors and
# their exit status, events --since, config rollback, and how the admin
# file is found (--admin, $ZTP_ADMIN, ./ztp-data/admin.json).
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_ztpctl.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ -x "$ZTPCTL" ] || fail "no ztpctl at $ZTPCTL"

# ---- helpers ----

# luhn ICCID_WITHOUT_CHECK_DIGIT: prints the ICCID with its Luhn check digit
luhn() {
	local s=$1 sum=0 i d n=${#1}
	for ((i = 0; i < n; i++)); do
		d=${s:n-1-i:1}
		if ((i % 2 == 0)); then
			d=$((d * 2))
			((d > 9)) && d=$((d - 9))
		fi
		sum=$((sum + d))
	done
	echo "$s$(((10 - sum % 10) % 10))"
}

ICCID2=$(luhn 894450250918638964)
ICCID3=$(luhn 894450250918638965)
UNKNOWN=$(luhn 894450250918638999)
PSK2=00112233445566778899AABBCCDDEEFF

. "$(dirname "$0")/lib_ztpctl.sh"

# s_client_req METHOD PATH [BODY]: one device request over TLS 1.3 PSK as
# the seed SIM; prints the raw HTTP response
s_client_req() {
	local method=$1 path=$2 body=${3:-}
	printf '%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s' \
		"$method" "$path" "${#body}" "$body" |
		timeout 10 openssl s_client -tls1_3 -psk "$PSK" -psk_identity "$ICCID" \
			-connect "127.0.0.1:$DEVICE_PORT" -quiet -ign_eof 2>/dev/null
}

start_ztpd
: >"$T/all"
SECRET=$(jq -r .secret "$DATA/admin.json")
[ -n "$SECRET" ] && [ "$SECRET" != null ] || fail "admin.json has no secret"

# ---- help, version, usage errors (local: no admin file needed) ----

ok_run --help
for c in "sim add" "sim list" "sim show" "sim block" "sim unblock" "sim rebind" "sim delete" \
	"config set" "config get" "config history" "config rollback" "telemetry" "events" \
	"--admin" "--json" "--since" "--limit" "--psk" "--body" "--file"; do
	grep -qF -- "$c" "$T/out" || fail "--help does not mention '$c'"
done
ok_run help
out_has '^Usage: ztpctl' "help"
ok_run --version
out_has '^ztpctl [0-9]' "--version"
bad_run 2
err_has 'no command' "no command"
bad_run 2 frobnicate
err_has "unknown command 'frobnicate'"
bad_run 2 sim
bad_run 2 sim show
bad_run 2 sim show "$ICCID" extra
ok "help, version and command errors"

# argument checks come before the admin file is read: exit 2 even without one
export ZTP_ADMIN=$T/no-such-admin.json
for bad in 1234 89445025091863896 894450250918638963512 8944502509186389A35 " 8944502509186389635" "" -1; do
	bad_run 2 sim show -- "$bad"
	err_has 'invalid ICCID' "sim show '$bad'"
done
bad_run 2 sim add "$ICCID2" --psk XYZ
err_has 'invalid --psk'
bad_run 2 sim add "$ICCID2" --psk 000102030405060708090A0B0C0D0E # 15 bytes
bad_run 2 sim add "$ICCID2" --psk "$(printf '%0130d' 0)"           # 65 bytes
bad_run 2 sim add "$ICCID2" --psk 0001020304050607080
bad_run 2 sim add "$ICCID2"
err_has -- '--psk'
bad_run 2 sim add "$ICCID2" --psk "$PSK2" --bogus
err_has "unknown option '--bogus'"
bad_run 2 sim list --limit 0
bad_run 2 sim list --limit abc
bad_run 2 sim list --limit
bad_run 2 config set "$ICCID"
bad_run 2 config set "$ICCID" --body x --file /dev/null
bad_run 2 config rollback "$ICCID" abc
bad_run 2 config rollback "$ICCID" 0
bad_run 2 config rollback "$ICCID"
bad_run 2 events --since yesterday
err_has 'invalid --since'
bad_run 2 events --since 2026-13-01T00:00:00Z
bad_run 2 telemetry "$ICCID" --limit -3
head -c 70000 /dev/zero | tr '\0' x >"$T/huge.txt"
bad_run 2 config set "$ICCID" --file "$T/huge.txt"
err_has 'larger than 64 KiB'
printf 'caf\xe9' >"$T/latin1.txt"
bad_run 2 config set "$ICCID" --file "$T/latin1.txt"
err_has 'UTF-8'
ok "local argument checks exit 2 before the admin file is read"

# the admin file itself
bad_run 1 sim list
err_has 'no-such-admin.json' "missing admin file"
export ZTP_ADMIN=$DATA/admin.json

# ---- sim add ----

SNAP=$(db_snapshot)
n=$(changes)
ok_run sim add "$ICCID" --psk "$PSK"
eq "$(cat "$T/out")" "SIM $ICCID added" "sim add output"
eq "$(db "SELECT count(*) FROM sims WHERE iccid='$ICCID'")" 1 "sims rows after sim add"
eq "$(db "SELECT blocked FROM sims WHERE iccid='$ICCID'")" 0 "blocked after sim add"
expect_change "$n" "sim add"

n=$(changes)
ok_run --json sim add "$ICCID2" --psk "$PSK2"
jq_true ".iccid == \"$ICCID2\" and .blocked == false and .device_id == null and .psk_generation == 0 and .config_version == 0" "sim add --json"
jq_true '(has("psk") | not) and (.created_at | type == "string") and (.updated_at | type == "string")' "sim add --json"
grep -qi "$PSK2" "$T/out" && fail "sim add --json shows the PSK"
eq "$(db "SELECT count(*) FROM sims WHERE iccid='$ICCID2'")" 1 "sims rows after sim add --json"
expect_change "$n" "sim add --json"

# duplicate: 409, nothing changes
SNAP=$(db_snapshot)
n=$(changes)
bad_run 1 sim add "$ICCID" --psk "$PSK2"
err_has '^ztpctl: conflict: .*\(HTTP 409\)$' "duplicate sim add"
[ "$(db_snapshot)" = "$SNAP" ] || fail "a refused sim add changed the store"
eq "$(changes)" "$n" "admin_change events after a refused sim add"
ok "sim add"

# ---- sim list, sim show ----

ok_run sim list
out_has '^ICCID +BLOCKED +DEVICE ID +GEN +CONFIG +UPDATED$' "sim list header"
out_has "^$ICCID +no +- +0 +0 +20[0-9-]+T" "sim list row"
out_has "^$ICCID2 " "sim list row 2"
eq "$(wc -l <"$T/out")" 3 "sim list lines"
ok_run sim list --json
jq_true ".next == null and (.sims | length) == $(db 'SELECT count(*) FROM sims')" "sim list --json"
jq_true "[.sims[].iccid] | sort == [\"$ICCID\", \"$ICCID2\"]" "sim list --json iccids"
ok_run sim list --limit 1 --json
jq_true '(.sims | length) == 1 and (.next | type == "string")' "sim list --limit 1"
ok_run sim list --limit 1 --all --json
jq_true '(.sims | length) == 2' "sim list --limit 1 --all"

ok_run sim show "$ICCID"
out_has "^iccid: +$ICCID$" "sim show"
out_has '^blocked: +no$' "sim show"
out_has '^device_id: +-$' "sim show"
out_has '^config_version: +0$' "sim show"
grep -qi "$PSK" "$T/out" && fail "sim show shows the PSK"
ok_run sim show "$ICCID" --json # --json after the command
jq_true ".iccid == \"$ICCID\" and .blocked == false and (has(\"psk\") | not)" "sim show --json"
bad_run 1 sim show "$UNKNOWN"
err_has "^ztpctl: not_found: .*\(HTTP 404\)$" "sim show of an unknown SIM"
bad_run 1 --json sim show "$UNKNOWN"
err_has 'not_found' "sim show --json of an unknown SIM"
[ -s "$T/out" ] && fail "an error printed something on stdout"
ok "sim list and sim show"

# ---- block, unblock, rebind (with a Device ID bound by a device request) ----

n=$(changes)
ok_run sim block "$ICCID"
eq "$(cat "$T/out")" "SIM $ICCID blocked" "sim block output"
eq "$(db "SELECT blocked FROM sims WHERE iccid='$ICCID'")" 1 "blocked after sim block"
expect_change "$n" "sim block"
ok_run --json sim show "$ICCID"
jq_true '.blocked == true' "sim show after block"
ok_run sim list
out_has "^$ICCID +yes " "sim list after block"
s_client_req GET "/v1/config/$DEVID?iccid=$ICCID_EF" >"$T/dev.txt" || true
head -n1 "$T/dev.txt" | grep -q ' 403 ' || fail "blocked SIM's device request: $(head -n1 "$T/dev.txt")"
expect_event blocked_sim
eq "$(db "SELECT device_id IS NULL FROM sims WHERE iccid='$ICCID'")" 1 "device_id after a blocked request"

n=$(changes)
ok_run --json sim unblock "$ICCID"
jq_true ".iccid == \"$ICCID\" and .blocked == false" "sim unblock --json"
eq "$(db "SELECT blocked FROM sims WHERE iccid='$ICCID'")" 0 "blocked after sim unblock"
expect_change "$n" "sim unblock"
bad_run 1 sim block "$UNKNOWN"
err_has 'not_found'

# the first device request binds the Device ID
s_client_req GET "/v1/config/$DEVID?iccid=$ICCID_EF" >"$T/dev.txt" || true
head -n1 "$T/dev.txt" | grep -q ' 20[04] ' || fail "device config request: $(head -n1 "$T/dev.txt")"
eq "$(db "SELECT device_id FROM sims WHERE iccid='$ICCID'")" "$DEVID" "device_id after the first device request"
ok_run sim show "$ICCID"
out_has "^device_id: +$DEVID$" "sim show of a bound SIM"
ok_run sim list
out_has "^$ICCID +no +$DEVID " "sim list of a bound SIM"

n=$(changes)
ok_run sim rebind "$ICCID"
out_has "^SIM $ICCID rebound" "sim rebind output"
eq "$(db "SELECT device_id IS NULL FROM sims WHERE iccid='$ICCID'")" 1 "device_id after sim rebind"
expect_change "$n" "sim rebind"
ok_run --json sim rebind "$ICCID"
jq_true ".iccid == \"$ICCID\" and .device_id == null" "sim rebind --json"
ok "sim block, unblock and rebind"

# ---- configurations ----

bad_run 1 config get "$ICCID"
err_has '^ztpctl: not_found: .*\(HTTP 404\)$' "config get with no configuration"

n=$(changes)
ok_run config set "$ICCID" --body "$SEED_CONFIG"
out_has "^SIM $ICCID configuration version 1 stored \(${#SEED_CONFIG} bytes\)$" "config set output"
eq "$(db "SELECT CAST(body AS TEXT) FROM configs WHERE iccid='$ICCID' AND version=1")" "$SEED_CONFIG" "stored configuration 1"
eq "$(db "SELECT source FROM configs WHERE iccid='$ICCID' AND version=1")" set "source of configuration 1"
eq "$(db "SELECT config_version FROM sims WHERE iccid='$ICCID'")" 1 "config_version after config set"
expect_change "$n" "config set"

# config get prints the body exactly (no newline added when not on a tty)
ok_run config get "$ICCID"
printf '%s' "$SEED_CONFIG" | cmp -s - "$T/out" || fail "config get: $(head -c 300 "$T/out")"
ok_run config get "$ICCID" --json
jq_true ".iccid == \"$ICCID\" and .version == 1 and .source == \"set\" and .size == ${#SEED_CONFIG} and (.etag | type == \"string\")" "config get --json"
[ "$(jq -r .body "$T/out")" = "$SEED_CONFIG" ] || fail "config get --json body"

# --file keeps every byte, a trailing newline too
printf 'line one\nline two\n' >"$T/cfg2.txt"
ok_run --json config set "$ICCID" --file "$T/cfg2.txt"
jq_true '.version == 2 and .source == "set" and .size == 18' "config set --file --json"
ok_run config get "$ICCID"
cmp -s "$T/cfg2.txt" "$T/out" || fail "config get after --file differs from the file"
eq "$(db "SELECT hex(body) FROM configs WHERE iccid='$ICCID' AND version=2")" \
	"$(xxd -p -u "$T/cfg2.txt" | tr -d '\n')" "stored configuration 2"

# --file - is standard input; 255 bytes is the largest accepted
MAXCFG=$(head -c 255 /dev/zero | tr '\0' y)
set +e
printf '%s' "$MAXCFG" | "$ZTPCTL" config set "$ICCID" --file - >"$T/out" 2>"$T/err"
RC=$?
set -e
[ "$RC" -eq 0 ] || fail "config set --file - of 255 bytes: exit $RC: $(cat "$T/err")"
out_has "configuration version 3 stored \(255 bytes\)" "config set --file -"
eq "$(db "SELECT length(body) FROM configs WHERE iccid='$ICCID' AND version=3")" 255 "stored configuration 3"

# 256 bytes: the server's 413 is shown, nothing is stored
SNAP=$(db_snapshot)
n=$(changes)
bad_run 1 config set "$ICCID" --body "${MAXCFG}y"
err_has '^ztpctl: too_large: .*\(HTTP 413\)$' "config set of 256 bytes"
[ "$(db_snapshot)" = "$SNAP" ] || fail "a refused config set changed the store"
eq "$(changes)" "$n" "admin_change events after a refused config set"
eq "$(db "SELECT count(*) FROM configs WHERE iccid='$ICCID'")" 3 "configuration versions after a refused config set"
bad_run 1 config set "$UNKNOWN" --body x
err_has 'not_found'

# history, newest first
ok_run config history "$ICCID"
out_has '^VERSION +CREATED +SIZE +SOURCE +ETAG' "config history header"
eq "$(sed -n '2p' "$T/out" | awk '{print $1}')" 3 "config history: first row"
eq "$(sed -n '4p' "$T/out" | awk '{print $1}')" 1 "config history: last row"
eq "$(wc -l <"$T/out")" 4 "config history lines"
ok_run config history "$ICCID" --json
jq_true '[.versions[].version] == [3, 2, 1]' "config history --json"
jq_true ".versions[2].body == $(jq -n --arg b "$SEED_CONFIG" '$b')" "config history --json body"
bad_run 1 config history "$UNKNOWN"
err_has 'not_found'

# rollback: a new version with the old body
n=$(changes)
ok_run config rollback "$ICCID" 1
out_has "^SIM $ICCID configuration version 4 stored with version 1's body" "config rollback output"
eq "$(db "SELECT source FROM configs WHERE iccid='$ICCID' AND version=4")" rollback:1 "source of the rollback"
eq "$(db "SELECT CAST(body AS TEXT) FROM configs WHERE iccid='$ICCID' AND version=4")" "$SEED_CONFIG" "body of the rollback"
eq "$(db "SELECT config_version FROM sims WHERE iccid='$ICCID'")" 4 "config_version after the rollback"
expect_change "$n" "config rollback"
ok_run config get "$ICCID"
printf '%s' "$SEED_CONFIG" | cmp -s - "$T/out" || fail "config get after the rollback"
ok_run --json config rollback "$ICCID" 2
jq_true '.version == 5 and .source == "rollback:2" and .body == "line one\nline two\n"' "config rollback --json"

SNAP=$(db_snapshot)
bad_run 1 config rollback "$ICCID" 99
err_has '^ztpctl: not_found: .*\(HTTP 404\)$' "rollback to a missing version"
[ "$(db_snapshot)" = "$SNAP" ] || fail "a refused rollback changed the store"

# the device gets the current version
s_client_req GET "/v1/config/$DEVID?iccid=$ICCID_EF" >"$T/dev.txt" || true
grep -q '^line two' "$T/dev.txt" || fail "the device did not get configuration 5: $(head -c 300 "$T/dev.txt")"
ok "config set, get, history and rollback"

# ---- telemetry ----

ok_run telemetry "$ICCID"
out_has '^ID +RECEIVED +DEVICE ID +SIZE +BODY$' "telemetry header"
eq "$(wc -l <"$T/out")" 1 "telemetry lines with no record"
ok_run --json telemetry "$ICCID"
jq_true '.telemetry == [] and .next == null' "telemetry --json with no record"

for body in hello world "$(printf 'bin\001ary')"; do
	s_client_req POST "/v1/data/$DEVID?iccid=$ICCID_EF" "$body" >"$T/dev.txt" || true
	head -n1 "$T/dev.txt" | grep -q ' 20[014] ' || fail "telemetry post: $(head -n1 "$T/dev.txt")"
done
eq "$(db "SELECT count(*) FROM telemetry WHERE iccid='$ICCID'")" 3 "telemetry rows"
ok_run telemetry "$ICCID"
eq "$(wc -l <"$T/out")" 4 "telemetry lines"
out_has "^[0-9]+ +20[0-9-]+T[^ ]+ +$DEVID +5 +world$" "telemetry row (newest first)"
eq "$(sed -n '2p' "$T/out" | awk '{print $NF}')" "hex:62696E01617279" "binary telemetry shown as hex"
ok_run telemetry "$ICCID" --json
jq_true '[.telemetry[].body] == [null, "world", "hello"] and .telemetry[2].body_hex == "68656C6C6F" and .next == null' "telemetry --json"
ok_run telemetry "$ICCID" --limit 2 --json
jq_true '(.telemetry | length) == 2 and .telemetry[1].body == "world" and .next != null' "telemetry --limit 2"
bad_run 1 telemetry "$UNKNOWN"
err_has 'not_found'
ok "telemetry"

# ---- events ----

ok_run events
out_has '^TIME +KIND +ICCID +DEVICE +OWNER +PEER +DETAIL$' "events header"
out_has "admin_change +$ICCID " "events rows"
eq "$(($(wc -l <"$T/out") - 1))" "$(db 'SELECT count(*) FROM events')" "events lines"
ok_run events --json
jq_true ".next == null and (.events | length) == $(db 'SELECT count(*) FROM events')" "events --json"
jq_true '[.events[].id] == ([.events[].id] | sort) and ([.events[].kind] | index("admin_change")) != null' "events --json: oldest first"
ok_run events --limit 2 --json
jq_true '(.events | length) == 2 and .next != null' "events --limit 2"

# --since: RFC 3339 and Unix seconds select the same events, from T0 on
sleep 1.1
T0=$(date -u +%s)
T0_RFC=$(date -u -d "@$T0" +%Y-%m-%dT%H:%M:%SZ)
ok_run sim block "$ICCID2"
ok_run sim unblock "$ICCID2"
ok_run events --since "$T0" --json
jq_true "(.events | length) == 2 and ([.events[].kind] | unique) == [\"admin_change\"] and ([.events[].iccid] | unique) == [\"$ICCID2\"]" "events --since $T0"
cp "$T/out" "$T/since-unix.json"
ok_run events --since "$T0_RFC" --json
cmp -s "$T/out" "$T/since-unix.json" || fail "events --since $T0_RFC differs from --since $T0"
ok_run events --since "$T0_RFC"
eq "$(wc -l <"$T/out")" 3 "events --since table lines"
ok_run events --since 2100-01-01T00:00:00Z --json
jq_true '.events == [] and .next == null' "events --since the future"
ok "events"

# ---- sim delete: the SIM and everything of it ----

ok_run sim add "$ICCID3" --psk "$PSK2"
ok_run config set "$ICCID3" --body 'x=1'
n=$(changes)
ok_run sim delete "$ICCID"
eq "$(cat "$T/out")" "SIM $ICCID deleted" "sim delete output"
for t in sims configs telemetry devices; do
	eq "$(db "SELECT count(*) FROM $t WHERE iccid='$ICCID'")" 0 "$t rows after sim delete"
done
expect_change "$n" "sim delete"
eq "$(db "SELECT count(*) FROM configs WHERE iccid='$ICCID3'")" 1 "other SIMs' configurations after sim delete"
bad_run 1 sim show "$ICCID"
err_has 'not_found'
bad_run 1 sim delete "$ICCID"
err_has '^ztpctl: not_found: .*\(HTTP 404\)$' "sim delete of a deleted SIM"
ok_run --json sim delete "$ICCID3"
[ -s "$T/out" ] && fail "sim delete --json printed: $(cat "$T/out")"
eq "$(db "SELECT count(*) FROM configs WHERE iccid='$ICCID3'")" 0 "configs after sim delete --json"
ok "sim delete"

# ---- paging: more SIMs than one page (1000) ----

TOKEN=$(admin_token)
[ -n "$TOKEN" ] && [ "$TOKEN" != null ] || fail "no admin token"
# one curl process, 8 connections at a time
for i in $(seq 1000 2050); do
	[ "$i" -gt 1000 ] && echo 'next'
	echo "url = \"https://127.0.0.1:$ADMIN_PORT/v1/sims\""
	echo "cacert = \"$DATA/ca.pem\""
	echo "data = \"{\\\"iccid\\\":\\\"$(luhn 89440000000000$i)\\\",\\\"psk\\\":\\\"$PSK2\\\"}\""
	echo 'header = "Content-Type: application/json"'
	echo "header = \"Authorization: Bearer $TOKEN\""
	echo 'output = "/dev/null"'
	echo 'write-out = "%{http_code}\\n"'
done >"$T/bulk.curlrc"
curl -sS -Z --parallel-max 8 -K "$T/bulk.curlrc" >"$T/bulk.codes" 2>"$T/bulk.err" ||
	fail "bulk sim add with curl: $(tail -c 300 "$T/bulk.err")"
eq "$(wc -l <"$T/bulk.codes")" 1051 "answers to the bulk sim add"
[ "$(sort -u "$T/bulk.codes")" = 201 ] || fail "bulk sim add: $(sort "$T/bulk.codes" | uniq -c)"
NSIMS=$(db 'SELECT count(*) FROM sims')
[ "$NSIMS" -gt 1000 ] || fail "only $NSIMS SIMs after the bulk add"
ok_run sim list --json
jq_true "(.sims | length) == $NSIMS and ([.sims[].iccid] | unique | length) == $NSIMS and .next == null" "sim list over several pages"
ok_run sim list
eq "$(($(wc -l <"$T/out") - 1))" "$NSIMS" "sim list table rows over several pages"
ok_run sim list --limit 1001 --json
jq_true "(.sims | length) == 1001 and .next != null" "sim list --limit 1001 (two pages)"
NEV=$(db 'SELECT count(*) FROM events')
[ "$NEV" -gt 1000 ] || fail "only $NEV events after the bulk add"
ok_run events --json
jq_true "(.events | length) == $NEV and ([.events[].id] | unique | length) == $NEV and .next == null" "events over several pages"
ok "paging over several pages"

# ---- authentication and TLS failures ----

jq '.secret = "00"' "$DATA/admin.json" >"$T/wrong-secret.json"
bad_run 1 --admin "$T/wrong-secret.json" sim list
err_has '^ztpctl: unauthorized: .*\(HTTP 401\)$' "wrong secret"
expect_event token_refused

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other.key" \
	-out "$T/other-ca.pem" -days 1 -subj /CN=other >/dev/null 2>&1 || fail "openssl req"
jq --arg ca "$T/other-ca.pem" '.ca = $ca' "$DATA/admin.json" >"$T/wrong-ca.json"
bad_run 1 --admin "$T/wrong-ca.json" sim list
err_has "^ztpctl: https://127.0.0.1:$ADMIN_PORT: .*(certificate|SSL)" "a server not signed by the admin file's CA"

# a port nobody listens on: the one a stopped listener had
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
jq --arg u "https://127.0.0.1:$PORT" '.url = $u' "$DATA/admin.json" >"$T/bad-url.json"
bad_run 1 --admin "$T/bad-url.json" sim list
err_has "^ztpctl: https://127.0.0.1:$PORT: " "unreachable server"
jq '.url = "http://127.0.0.1:1"' "$DATA/admin.json" >"$T/http-url.json"
bad_run 1 --admin "$T/http-url.json" sim list
err_has 'not https' "plain http url"
jq 'del(.ca)' "$DATA/admin.json" >"$T/no-ca.json"
bad_run 1 --admin "$T/no-ca.json" sim list
err_has '"ca"' "admin file without ca"
echo '{"url": "https://x", "secret": "' >"$T/broken.json"
bad_run 1 --admin "$T/broken.json" sim list
err_has 'not a JSON object' "broken admin file"
ok "authentication and TLS failures"

# ---- admin file resolution: --admin, then $ZTP_ADMIN, then ./ztp-data/admin.json ----

mkdir -p "$T/cwd-with" "$T/cwd-without"
ln -s "$DATA" "$T/cwd-with/ztp-data"
cd "$T/cwd-without" || fail "cd $T/cwd-without"
unset ZTP_ADMIN
ok_run --admin "$DATA/admin.json" sim show "$ICCID2"
out_has "^iccid: +$ICCID2$" "--admin FILE"
ok_run sim show "$ICCID2" --admin="$DATA/admin.json"
out_has "^iccid: +$ICCID2$" "--admin=FILE after the command"
bad_run 1 sim show "$ICCID2"
err_has '\./ztp-data/admin\.json' "no admin file anywhere"
ZTP_ADMIN=$DATA/admin.json ok_run sim show "$ICCID2"
out_has "^iccid: +$ICCID2$" "\$ZTP_ADMIN"
ZTP_ADMIN=$T/nope.json ok_run --admin "$DATA/admin.json" sim show "$ICCID2"
out_has "^iccid: +$ICCID2$" "--admin before \$ZTP_ADMIN"
cd "$T/cwd-with" || fail "cd $T/cwd-with"
ok_run sim show "$ICCID2"
out_has "^iccid: +$ICCID2$" "./ztp-data/admin.json"
ZTP_ADMIN=$T/nope.json bad_run 1 sim show "$ICCID2"
err_has 'nope\.json' "\$ZTP_ADMIN before ./ztp-data/admin.json"
ZTP_ADMIN='' ok_run sim show "$ICCID2"
out_has "^iccid: +$ICCID2$" "empty \$ZTP_ADMIN"
cd / || fail "cd /"
export ZTP_ADMIN=$DATA/admin.json
ok "admin file resolution"

# ---- the secret and the token never show ----

grep -qF "$SECRET" "$T/all" && fail "ztpctl printed the admin secret"
grep -qF "$TOKEN" "$T/all" && fail "ztpctl printed a token"
grep -qE 'Bearer|ztp1\.[A-Za-z0-9_.-]{8}' "$T/all" && fail "ztpctl printed a token: $(grep -E 'Bearer|ztp1\.' "$T/all" | head -3)"
ok "no secret in any output"

stop_ztpd
echo "ztpctl: all checks passed"
