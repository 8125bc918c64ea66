#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Owner isolation on the module security service's routes: a key of one
# owner never sees nor changes another owner's profiles, modules (devices),
# campaigns or events, nor a module that has no owner yet; the operator's
# routes (module import, transfer, release) refuse it. One check per route,
# each with the store unchanged after a refusal (test_owners.sh does the
# routes that no owner may use at all).
#
# The states a module reaches through the device protocol (bootstrapped,
# claimed) are written with db_exec, as in test_modules_admin.sh.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$SRC/tests/integration/lib_ztpctl.sh"

rot() { printf '00112233445566778899aabbcc%06x' "$1"; }
bootstrapped() {
	local owner=${2:+"'$2'"} profile=${3:+"'$3'"}
	db_exec "UPDATE modules SET factory_retired = 1, epoch = 1, bootstrapped_at = 1000,
		owner = ${owner:-NULL}, profile_uid = ${profile:-NULL}, features = 1,
		features_applied = 1 WHERE rot_uid = '$(rot "$1")'"
}
token_of() {
	curl -sS --cacert "$DATA/ca.pem" -X POST "https://127.0.0.1:$ADMIN_PORT/v1/auth/token" \
		-H 'Content-Type: application/json' -d "$(jq -c '{key_id, secret}' "$1")" | jq -r .token
}
# as TOKEN METHOD PATH [BODY]: the API as that key; body and status in $T/api
as() {
	local tok=$1
	shift
	ADMIN_TOKEN=$tok admin "$@" >"$T/api"
}
status() { tail -1 "$T/api"; }
body() { sed '$d' "$T/api"; }
want() { eq "$(status)" "$1" "$2"; }
snapshot() { db_snapshot >"$T/snap.$1"; }
unchanged() { db_snapshot | cmp -s - "$T/snap.$1" || fail "$2: the store changed"; }

start_ztpd
ok_run owner create acme
ok_run owner create globex
ok_run apikey create acme-ops --owner acme --save "$T/acme.json"
ok_run apikey create globex-ops --owner globex --save "$T/globex.json"
ACME=$(token_of "$T/acme.json")
GLOBEX=$(token_of "$T/globex.json")
[ -n "$ACME" ] && [ "$ACME" != null ] || fail "no token for acme's key"

# ---- profiles
as "$ACME" POST /v1/profiles '{"name":"meter","features":["psk"]}'
want 201 "POST /v1/profiles as acme"
PA=$(body | jq -r .uid)
as "$GLOBEX" POST /v1/profiles '{"name":"meter","features":["e2e"]}'
want 201 "POST /v1/profiles as globex"
PG=$(body | jq -r .uid)
snapshot p
as "$ACME" POST /v1/profiles '{"name":"sneaky","owner":"globex"}'
want 403 "POST /v1/profiles for another owner"
unchanged p "a profile for another owner"
as "$ACME" GET /v1/profiles
want 200 "GET /v1/profiles"
eq "$(body | jq -c '[.profiles[].uid]')" "[\"$PA\"]" "acme's profile list"
as "$ACME" GET "/v1/profiles/$PG"
want 404 "GET another owner's profile"
as "$ACME" PUT "/v1/profiles/$PG" '{"features":["c2c"]}'
want 404 "PUT another owner's profile"
unchanged p "a change of another owner's profile"
as "$ACME" GET "/v1/profiles/$PA"
want 200 "GET its own profile"
ok "profiles: another owner's are neither listed, shown, changed nor made"

# ---- modules and the devices they are
for i in 1 2 3; do printf '%s,%064x,lot\n' "$(rot "$i")" "$i"; done >"$T/mods.csv"
snapshot m
as "$ACME" POST /v1/modules/import \
	"$(jq -nc --arg a "$(rot 9)" '{modules: [{rot_uid: $a, factory_secret: ("00" * 32)}]}')"
want 403 "POST /v1/modules/import as an owner"
unchanged m "an owner's import"
ok_run module import "$T/mods.csv"
bootstrapped 1 acme "$PA"
bootstrapped 2 globex "$PG"
bootstrapped 3 # bootstrapped unsealed: no owner yet
as "$ACME" GET /v1/modules
want 200 "GET /v1/modules"
eq "$(body | jq -c '[.modules[].rot_uid]')" "[\"$(rot 1)\"]" "acme's module list"
as "$ACME" GET "/v1/modules?owner=globex"
[ "$(status)" = 403 ] || eq "$(body | jq -c '[.modules[].owner] | unique')" '[]' \
	"acme asking for globex's modules"
as "$ACME" GET "/v1/modules?profile=$PG"
[ "$(status)" = 403 ] || [ "$(status)" = 404 ] ||
	eq "$(body | jq -c '[.modules[].rot_uid]')" '[]' "acme asking for globex's profile's modules"
as "$ACME" GET "/v1/modules/$(rot 1)"
want 200 "GET its own module"
as "$ACME" GET "/v1/modules/$(rot 2)"
want 404 "GET another owner's module"
as "$ACME" GET "/v1/modules/$(rot 3)"
want 404 "GET a module without an owner"
snapshot f
as "$ACME" PUT "/v1/modules/$(rot 2)/features" '{"enable":["c2c"]}'
want 404 "PUT another owner's module's features"
as "$ACME" PUT "/v1/modules/$(rot 3)/features" '{"enable":["c2c"]}'
want 404 "PUT features of a module without an owner"
as "$ACME" POST "/v1/modules/$(rot 1)/transfer" '{"owner":"acme"}'
want 403 "POST transfer as an owner"
as "$ACME" POST "/v1/modules/$(rot 2)/transfer" '{"owner":"acme"}'
want 403 "POST transfer of another owner's module to itself"
db_exec "UPDATE modules SET quarantined = 1, quarantine_reason = 'test' WHERE rot_uid = '$(rot 1)'"
snapshot f
as "$ACME" POST "/v1/modules/$(rot 1)/release"
want 403 "POST release as an owner (the operator looks first)"
unchanged f "refused module changes"
ok_run device release "$(rot 1)"
as "$ACME" PUT "/v1/modules/$(rot 1)/features" '{"enable":["c2c"]}'
want 200 "PUT its own module's features"
eq "$(db "SELECT features FROM modules WHERE rot_uid = '$(rot 2)'")" 1 "globex's module's features"
ok "modules: another owner's and unowned ones are neither listed, shown nor changed; import, transfer and release are the operator's"

# ---- campaigns
snapshot c
as "$ACME" POST /v1/campaigns "{\"profile\":\"$PG\",\"enable\":[\"e2e\"]}"
want 404 "a campaign over another owner's profile"
unchanged c "a campaign over another owner's profile"
as "$ACME" POST /v1/campaigns "{\"devices\":[\"$(rot 1)\",\"$(rot 2)\",\"$(rot 3)\"],\"enable\":[\"e2e\"]}"
want 201 "a campaign over a list of devices"
eq "$(body | jq -c '[.devices, .owner]')" '[1,"acme"]' "acme's campaign covers acme's device only"
CA=$(body | jq -r .id)
eq "$(db "SELECT rot_uid FROM campaign_devices WHERE campaign_id = $CA")" "$(rot 1)" "acme's campaign's rows"
eq "$(db "SELECT features FROM modules WHERE rot_uid IN ('$(rot 2)', '$(rot 3)') GROUP BY features")" 1 \
	"features of the devices acme does not own"
as "$GLOBEX" POST /v1/campaigns "{\"profile\":\"$PG\",\"enable\":[\"c2c\"]}"
want 201 "globex's campaign"
CG=$(body | jq -r .id)
as "$ACME" GET /v1/campaigns
want 200 "GET /v1/campaigns"
eq "$(body | jq -c '[.campaigns[].id]')" "[$CA]" "acme's campaign list"
as "$ACME" GET "/v1/campaigns/$CG"
want 404 "GET another owner's campaign"
as "$GLOBEX" GET "/v1/campaigns/$CA"
want 404 "GET another owner's campaign (the other way)"
ok "campaigns: over its own devices only, another owner's neither listed nor shown"

# ---- events: each owner's own only (its profiles, its module changes, its keys)
ev_settle
as "$ACME" GET "/v1/events?limit=1000"
want 200 "GET /v1/events as acme"
[ "$(body | jq '.events | length')" -gt 0 ] || fail "acme sees none of its events"
eq "$(body | jq -c '[.events[].owner] | unique')" '["acme"]' "owners of the events acme sees"
body | jq -e --arg p "$PA" '[.events[].detail] | any(contains($p))' >/dev/null ||
	fail "acme does not see its profile's creation"
body | jq -e --arg d "$(rot 1)" '[.events[].device] | index($d) != null' >/dev/null ||
	fail "acme does not see its module's events"
as "$GLOBEX" GET "/v1/events?limit=1000"
eq "$(body | jq -c '[.events[].owner] | unique')" '["globex"]' "owners of the events globex sees"
ok "events: each owner sees its own"
