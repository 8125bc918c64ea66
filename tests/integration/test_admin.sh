#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The admin API over HTTPS with curl: tokens (missing, expired, forged,
# wrong secret), every SIM and configuration call, paging, errors, and
# refused requests that change nothing. Also first start and restart of
# the data directory, file modes, JSON logs, config file and SIGTERM.
. "$(dirname "$0")/lib.sh"

start_ztpd --token-ttl 2 --log-format json

# ---- first start
files="secret.key ca.key server.key admin.json"
store_is_pg || files="$files ztp.db" # the store is a file of the data directory
for f in $files; do
	[ "$(stat -c %a "$DATA/$f")" = 600 ] || fail "$f is not mode 0600: $(stat -c %a "$DATA/$f")"
done
json_true "$DATA/admin.json" '.url and .key_id and .secret and .ca' || fail "admin.json incomplete"
[ "$(jq -r .url "$DATA/admin.json")" = "https://127.0.0.1:$ADMIN_PORT" ] || fail "admin.json url is not the bound port"
if ! store_is_pg; then
	[ "$(db 'PRAGMA journal_mode')" = wal ] || fail "the database is not in WAL mode"
	[ "$(db 'PRAGMA user_version')" -ge 1 ] || fail "no schema version"
fi
openssl verify -CAfile "$DATA/ca.pem" "$DATA/server.pem" >/dev/null || fail "server.pem does not verify"
san=$(openssl x509 -in "$DATA/server.pem" -noout -ext subjectAltName)
for n in "DNS:localhost" "IP Address:127.0.0.1" "IP Address:0:0:0:0:0:0:0:1"; do
	grep -q "$n" <<<"$san" || fail "server certificate SAN lacks $n: $san"
done
ok "first start: keys 0600, admin.json, WAL database, server certificate with its SANs"

# ---- tokens
snap=$(db_snapshot)
n=$(ev_count token_refused)
code=$(curl -sS -o "$T/out" -w '%{http_code}' --cacert "$DATA/ca.pem" "https://127.0.0.1:$ADMIN_PORT/v1/sims")
[ "$code" = 401 ] || fail "no token: expected 401, got $code"
json_true "$T/out" '.error == "unauthorized" and (.detail | length > 0)' || fail "error body: $(cat "$T/out")"
expect_new_event token_refused "$n"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$DATA/ca.pem" -X POST \
	-d "{\"key_id\":\"$(jq -r .key_id "$DATA/admin.json")\",\"secret\":\"00\"}" \
	"https://127.0.0.1:$ADMIN_PORT/v1/auth/token")
[ "$code" = 401 ] || fail "wrong secret: expected 401, got $code"
tok=$(admin_token)
[[ "$tok" == ztp1.* ]] || fail "no token: $tok"
forged="${tok%?}$( [ "${tok: -1}" = 0 ] && echo 1 || echo 0)"
code=$(ADMIN_TOKEN=$forged admin POST /v1/sims "{\"iccid\":\"$ICCID\",\"psk\":\"$PSK\"}" | tail -1)
[ "$code" = 401 ] || fail "forged token: expected 401, got $code"
other="ztp1.ak_00000000.9999999999.$(printf '%064d' 0)"
code=$(ADMIN_TOKEN=$other admin GET /v1/sims | tail -1)
[ "$code" = 401 ] || fail "made-up token: expected 401, got $code"
sleep 3
code=$(ADMIN_TOKEN=$tok admin POST /v1/sims "{\"iccid\":\"$ICCID\",\"psk\":\"$PSK\"}" | tail -1)
[ "$code" = 401 ] || fail "expired token: expected 401, got $code"
# refusals anyone can cause are queued and written about once a second
for _ in $(seq 1 100); do
	db "SELECT detail FROM events WHERE kind='token_refused'" | grep -q expired && break
	sleep 0.1
done
db "SELECT detail FROM events WHERE kind='token_refused'" | grep -q expired || fail "no expired-token event"
[ "$(db_snapshot)" = "$snap" ] || fail "a refused admin request changed the store"
ok "no token, wrong secret, forged, made-up and expired tokens: 401, events, nothing changed"

# ---- SIMs (tokens live 2 s here: a fresh one for each call)
unset ADMIN_TOKEN
out=$(admin POST /v1/sims "{\"iccid\":\"$ICCID\",\"psk\":\"$PSK\"}")
[ "$(echo "$out" | tail -1)" = 201 ] || fail "create: $out"
head -1 <<<"$out" | json_true - ".iccid == \"$ICCID\" and .blocked == false and .device_id == null and (has(\"psk\") | not)" ||
	fail "SIM object: $out"
[ "$(admin POST /v1/sims "{\"iccid\":\"$ICCID\",\"psk\":\"$PSK\"}" | tail -1)" = 409 ] || fail "duplicate: expected 409"
for bad in '{"iccid":"123","psk":"'$PSK'"}' '{"iccid":"'$ICCID'","psk":"0011"}' \
	'{"iccid":"'$ICCID'","psk":"zz"}' '{"iccid":"'$ICCID'"}' 'not json' '[1]' \
	'{"iccid":"'$ICCID'","psk":"'$PSK'","extra":1}'; do
	out=$(admin POST /v1/sims "$bad")
	[ "$(echo "$out" | tail -1)" = 400 ] || fail "bad body $bad: expected 400: $out"
	head -1 <<<"$out" | json_true - '.error == "bad_request"' || fail "error shape: $out"
done
db_dump | grep -qi "$PSK" && fail "the PSK is stored in clear"
ok "SIM create: 201, 409 duplicate, 400 for each malformed body, PSK not stored in clear"

for i in $(seq 10 14); do
	admin POST /v1/sims "{\"iccid\":\"89445025091863896$i\",\"psk\":\"$PSK\"}" >/dev/null
done
page1=$(admin GET "/v1/sims?limit=4" | head -1)
[ "$(echo "$page1" | jq '.sims | length')" = 4 ] || fail "paging: $page1"
next=$(echo "$page1" | jq -r .next)
page2=$(admin GET "/v1/sims?limit=4&after=$next" | head -1)
[ "$(echo "$page2" | jq '.sims | length')" = 2 ] || fail "page 2: $page2"
[ "$(echo "$page2" | jq -r .next)" = null ] || fail "last page has a next"
[ "$(admin GET "/v1/sims?limit=0" | tail -1)" = 400 ] || fail "limit=0 accepted"
[ "$(admin GET "/v1/sims?after=abc" | tail -1)" = 400 ] || fail "after=abc accepted"
ok "SIM list pages with limit and after"

[ "$(admin GET "/v1/sims/$ICCID" | head -1 | jq -r .iccid)" = "$ICCID" ] || fail "show"
[ "$(admin GET "/v1/sims/8944502509186389999" | tail -1)" = 404 ] || fail "unknown SIM: expected 404"
[ "$(admin GET "/v1/sims/12ab" | tail -1)" = 400 ] || fail "bad ICCID: expected 400"
[ "$(admin POST "/v1/sims/$ICCID/block" | head -1 | jq -r .blocked)" = true ] || fail "block"
[ "$(db "SELECT blocked FROM sims WHERE iccid='$ICCID'")" = 1 ] || fail "block not stored"
[ "$(admin POST "/v1/sims/$ICCID/unblock" | head -1 | jq -r .blocked)" = false ] || fail "unblock"
db_exec "UPDATE sims SET device_id='AABB' WHERE iccid='$ICCID'"
[ "$(admin POST "/v1/sims/$ICCID/rebind" | head -1 | jq -r .device_id)" = null ] || fail "rebind"
[ "$(admin POST "/v1/sims/$ICCID/explode" | tail -1)" = 404 ] || fail "unknown action: expected 404"
[ "$(admin PUT "/v1/sims/$ICCID" '{}' | tail -1)" = 405 ] || fail "PUT on a SIM: expected 405"
ok "SIM show, block, unblock, rebind; 404 and 400 and 405 where due"

# ---- configurations
cfg=$(jq -nc --arg b "$SEED_CONFIG" '{body:$b}')
out=$(admin PUT "/v1/sims/$ICCID/config" "$cfg")
[ "$(echo "$out" | tail -1)" = 201 ] || fail "config set: $out"
[ "$(head -1 <<<"$out" | jq -r .version)" = 1 ] || fail "first version is not 1"
[ "$(admin GET "/v1/sims/$ICCID/config" | head -1 | jq -r .body)" = "$SEED_CONFIG" ] || fail "config get"
off=${SEED_CONFIG/On/Off}
admin PUT "/v1/sims/$ICCID/config" "$(jq -nc --arg b "$off" '{body:$b}')" >/dev/null
snap=$(db_snapshot)
big=$(head -c 256 /dev/zero | tr '\0' 'x')
out=$(admin PUT "/v1/sims/$ICCID/config" "{\"body\":\"$big\"}")
[ "$(echo "$out" | tail -1)" = 413 ] || fail "256-byte config: expected 413: $out"
head -1 <<<"$out" | json_true - '.error == "too_large"' || fail "413 body: $out"
[ "$(db_snapshot)" = "$snap" ] || fail "the 256-byte configuration changed the store"
ok255=$(head -c 255 /dev/zero | tr '\0' 'y')
[ "$(admin PUT "/v1/sims/$ICCID/config" "{\"body\":\"$ok255\"}" | tail -1)" = 201 ] || fail "255 bytes refused"
hist=$(admin GET "/v1/sims/$ICCID/config/history" | head -1)
[ "$(echo "$hist" | jq '[.versions[].version]')" = "$(jq -n '[3,2,1]')" ] || fail "history: $hist"
out=$(admin POST "/v1/sims/$ICCID/config/rollback" '{"version":1}')
[ "$(echo "$out" | tail -1)" = 201 ] || fail "rollback: $out"
head -1 <<<"$out" | json_true - ".version == 4 and .source == \"rollback:1\" and .body == $(jq -n --arg b "$SEED_CONFIG" '$b')" ||
	fail "rollback result: $out"
snap=$(db_snapshot)
[ "$(admin POST "/v1/sims/$ICCID/config/rollback" '{"version":9}' | tail -1)" = 404 ] || fail "rollback to nothing"
[ "$(admin POST "/v1/sims/$ICCID/config/rollback" '{"version":0}' | tail -1)" = 400 ] || fail "rollback to 0"
[ "$(db_snapshot)" = "$snap" ] || fail "a refused rollback changed the store"
[ "$(admin GET "/v1/sims/8944502509186389610/config" | tail -1)" = 404 ] || fail "no config: expected 404"
ok "config set (255 ok, 256 is 413 and nothing stored), get, history, rollback"

# ---- telemetry and events
db_exec "INSERT INTO telemetry(iccid, device_id, body, received_at) VALUES('$ICCID','AA',CAST('hi' AS BLOB),1), ('$ICCID','AA',X'00FF',2)"
tel=$(admin GET "/v1/sims/$ICCID/telemetry" | head -1)
echo "$tel" | json_true - '.telemetry[0].body == null and .telemetry[0].body_hex == "00FF" and .telemetry[1].body == "hi"' ||
	fail "telemetry: $tel"
[ "$(admin GET "/v1/sims/$ICCID/telemetry?limit=1" | head -1 | jq '.telemetry | length')" = 1 ] || fail "telemetry limit"
ev=$(admin GET "/v1/events?limit=1000" | head -1)
echo "$ev" | json_true - '[.events[].kind] | index("admin_change") and index("token_refused")' ||
	fail "events: $ev"
echo "$ev" | json_true - '[.events[] | select(.kind == "admin_change")][0].detail | test("by ak_")' ||
	fail "admin_change events do not name the key"
[ "$(admin GET "/v1/events?since=2999-01-01T00:00:00Z" | head -1 | jq '.events | length')" = 0 ] || fail "since"
[ "$(admin GET "/v1/events?since=yesterday" | tail -1)" = 400 ] || fail "since=yesterday accepted"
ok "telemetry (text and binary), events with since"

[ "$(admin DELETE "/v1/sims/$ICCID" | tail -1)" = 204 ] || fail "delete"
[ "$(db "SELECT count(*) FROM configs WHERE iccid='$ICCID'")" = 0 ] || fail "configs survive the SIM"
[ "$(admin DELETE "/v1/sims/$ICCID" | tail -1)" = 404 ] || fail "second delete: expected 404"
ok "delete removes the SIM with its configurations; again is 404"

# ---- logs
grep -v '^{' "$T/ztpd.log" | grep -q . && fail "a log line is not JSON: $(grep -v '^{' "$T/ztpd.log" | head -1)"
jq -n -e '[inputs] | length > 0' "$T/ztpd.log" >/dev/null 2>&1 || fail "the log is empty or not JSON lines"
grep -q "$(jq -r .secret "$DATA/admin.json")" "$T/ztpd.log" && fail "the API secret is in the log"
grep -q "ztp1\." "$T/ztpd.log" && fail "a token is in the log"
ok "--log-format json: one JSON object per line, no secret, no token"

# ---- SIGTERM and restart
ca1=$(openssl x509 -in "$DATA/ca.pem" -noout -fingerprint)
key1=$(jq -r .key_id "$DATA/admin.json")
kill -TERM "$ZTPD_PID"
rc=0
wait "$ZTPD_PID" || rc=$?
ZTPD_PID=""
[ "$rc" = 0 ] || fail "ztpd exited $rc on SIGTERM"
[ -e "$DATA/run.json" ] && fail "run.json left behind"
cat >"$DATA/ztpd.conf" <<CONF
# a config file sets the same keys as the options
workers = 1
token-ttl = 600
CONF
start_ztpd
[ "$(openssl x509 -in "$DATA/ca.pem" -noout -fingerprint)" = "$ca1" ] || fail "the CA changed on restart"
[ "$(jq -r .key_id "$DATA/admin.json")" = "$key1" ] || fail "the admin key changed on restart"
[ "$(curl -sS --cacert "$DATA/ca.pem" -X POST -d "$(jq -c '{key_id, secret}' "$DATA/admin.json")" \
	"https://127.0.0.1:$ADMIN_PORT/v1/auth/token" | jq .expires_in)" = 600 ] || fail "ztpd.conf not applied"
[ "$(db "SELECT count(*) FROM sims")" = 5 ] || fail "SIMs lost on restart"
ok "SIGTERM exits 0; restart reuses the CA, the admin key, the store; ztpd.conf is read"

# into a file: grep -q exits at its match, and ztpd writing the rest (over 4 KiB) would die of SIGPIPE
"$ZTPD" --help >"$T/help" || fail "ztpd --help failed"
grep -q -- "--allow-psk-ke" "$T/help" || fail "--help does not document --allow-psk-ke"
grep -q -- "--retain-events DAYS" "$T/help" || fail "--help does not document --retain-events"
"$ZTPD" --workers 0 2>/dev/null && fail "--workers 0 accepted"
"$ZTPD" --device-listen nonsense 2>/dev/null && fail "bad listen address accepted"
ok "--help documents the options; bad options refused"
echo "admin API: all checks passed"
