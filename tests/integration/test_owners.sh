#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Owners and owner-scoped API keys (docs/admin-api.md "Owners and API
# keys"): two owners with a key each and a second all-owners key; every
# route of the admin route table that is not an owner's (read from
# admin_api.c, so that a new route is covered without a change here)
# answers an owner's key 403 and changes nothing, and works for an
# all-owners key; GET /v1/events shows an owner's key its own events
# only; a revocation holds at once, for the tokens already issued too; a
# secret is shown once and never appears in a list, the log, the events
# or the store; ztpctl owner/apikey, and ztpctl acting as an owner with
# the admin file apikey create --save wrote.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ztpctl.sh"

start_ztpd
URL=https://127.0.0.1:$ADMIN_PORT

# token KEY_ID SECRET: a bearer token, or "" (the status is in $T/token.code)
token() {
	curl -sS --cacert "$DATA/ca.pem" -o "$T/token.json" -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json' \
		-d "$(jq -nc --arg k "$1" --arg s "$2" '{key_id: $k, secret: $s}')" \
		"$URL/v1/auth/token" >"$T/token.code"
	jq -r '.token // empty' "$T/token.json"
}
# call TOKEN METHOD PATH [BODY]: the body in $T/body, the status on stdout
call() {
	local tok=$1 method=$2 path=$3 body=${4:-}
	if [ -n "$body" ]; then
		curl -sS --cacert "$DATA/ca.pem" -o "$T/body" -w '%{http_code}' -X "$method" \
			-H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
			-d "$body" "$URL$path"
	else
		curl -sS --cacert "$DATA/ca.pem" -o "$T/body" -w '%{http_code}' -X "$method" \
			-H "Authorization: Bearer $tok" "$URL$path"
	fi
}
# want CODE TOKEN METHOD PATH [BODY]
want() {
	local code=$1 got
	shift
	got=$(call "$@")
	[ "$got" = "$code" ] || fail "$2 $3 ${4:-}: expected $code, got $got: $(head -c 300 "$T/body")"
}

ROOT=$(admin_token)
[ -n "$ROOT" ] || fail "no token for the data directory's key"
FIRST_ID=$(jq -r .key_id "$DATA/admin.json")

# ---- the first key: all owners, named admin
want 200 "$ROOT" GET /v1/apikeys
json_true "$T/body" '(.apikeys | length) == 1 and .apikeys[0].key_id == $id and .apikeys[0].name == "admin"
	 and .apikeys[0].owner == null and .apikeys[0].all_owners == true
	 and .apikeys[0].revoked_at == null and (.apikeys[0] | has("secret") | not)' --arg id "$FIRST_ID" ||
	fail "the first key: $(cat "$T/body")"
ok "the data directory's first key acts for all owners, named admin"

# ---- owners
want 201 "$ROOT" POST /v1/owners '{"name":"acme"}'
json_true "$T/body" '.name == "acme" and .api_keys == 0 and .profiles == 0 and .modules == 0 and (.created_at | length > 0)' ||
	fail "owner: $(cat "$T/body")"
want 201 "$ROOT" POST /v1/owners '{"name":"globex"}'
want 409 "$ROOT" POST /v1/owners '{"name":"acme"}'
for bad in '{"name":""}' '{"name":"a b"}' '{"name":"a/b"}' '{}' '{"name":"x","y":1}' 'nope' \
	"{\"name\":\"$(printf 'x%.0s' $(seq 1 65))\"}"; do
	want 400 "$ROOT" POST /v1/owners "$bad"
done
want 200 "$ROOT" GET /v1/owners/acme
json_true "$T/body" '.name == "acme"' || fail "owner get: $(cat "$T/body")"
want 404 "$ROOT" GET /v1/owners/initech
want 400 "$ROOT" GET '/v1/owners/a%20b'
want 200 "$ROOT" GET '/v1/owners?limit=1'
json_true "$T/body" '(.owners | map(.name)) == ["acme"] and .next == "acme"' || fail "owners page 1: $(cat "$T/body")"
want 200 "$ROOT" GET '/v1/owners?limit=1&after=acme'
json_true "$T/body" '(.owners | map(.name)) == ["globex"]' || fail "owners page 2: $(cat "$T/body")"
[ "$(db "SELECT count(*) FROM owners")" = 2 ] || fail "owners in the store"
ok "owners: create (201, 409, 400 for bad names), get (404, 400), list paged by name"

# ---- keys: one per owner, a second all-owners key
newkey() { # newkey BODY: sets KID and KSECRET from the 201
	want 201 "$ROOT" POST /v1/apikeys "$1"
	KID=$(jq -r .key_id "$T/body")
	KSECRET=$(jq -r .secret "$T/body")
	[[ "$KID" =~ ^ak_[0-9a-f]{16}$ ]] || fail "key id: $KID"
	[[ "$KSECRET" =~ ^[0-9a-f]{64}$ ]] || fail "secret: not 64 hex digits"
}
newkey '{"name":"acme-ops","owner":"acme"}'
json_true "$T/body" '.owner == "acme" and .all_owners == false and .name == "acme-ops" and .revoked_at == null' ||
	fail "acme's key: $(jq 'del(.secret)' "$T/body")"
A_ID=$KID A_SECRET=$KSECRET
newkey '{"name":"globex-ops","owner":"globex"}'
B_ID=$KID B_SECRET=$KSECRET
newkey '{"name":"ops2","all_owners":true}'
json_true "$T/body" '.owner == null and .all_owners == true' || fail "all-owners key: $(jq 'del(.secret)' "$T/body")"
R_ID=$KID R_SECRET=$KSECRET
want 404 "$ROOT" POST /v1/apikeys '{"name":"x","owner":"initech"}'
for bad in '{"name":"x"}' '{"name":"x","owner":"acme","all_owners":true}' '{"name":"x","all_owners":false}' \
	'{"name":"a b","owner":"acme"}' '{"owner":"acme"}' '{"name":"x","owner":"acme","secret":"s"}'; do
	want 400 "$ROOT" POST /v1/apikeys "$bad"
done
[ "$(db "SELECT count(*) FROM api_keys")" = 4 ] || fail "keys in the store: $(db "SELECT key_id FROM api_keys")"
want 200 "$ROOT" GET /v1/owners/acme
json_true "$T/body" '.api_keys == 1' || fail "acme's keys: $(cat "$T/body")"
A=$(token "$A_ID" "$A_SECRET")
B=$(token "$B_ID" "$B_SECRET")
R=$(token "$R_ID" "$R_SECRET")
[ -n "$A" ] && [ -n "$B" ] && [ -n "$R" ] || fail "no token for a new key"
[ "$(token "$A_ID" "$B_SECRET")" = "" ] && [ "$(cat "$T/token.code")" = 401 ] || fail "a key with another's secret got a token"
ok "API keys: one per owner and an all-owners one (201 with a secret), 404/400 refused, tokens for each"

# ---- what an owner's key may not touch: a SIM, a group, an allowlist entry, a
# manufacturer-CA-less EST setup, made by the all-owners key
want 201 "$R" POST /v1/sims "{\"iccid\":\"$ICCID\",\"psk\":\"$PSK\"}"
want 201 "$R" PUT "/v1/sims/$ICCID/config" "$(jq -nc --arg b "$SEED_CONFIG" '{body:$b}')"
want 201 "$R" POST /v1/groups '{"name":"g1"}'
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/dev.key" 2>/dev/null
want 201 "$R" POST /v1/allowlist "$(jq -nc --arg k "$(openssl pkey -in "$T/dev.key" -pubout)" '{udid: "dev-1", pubkey: $k}')"

snapshot() {
	db_snapshot
	db "SELECT name FROM groups ORDER BY name; SELECT udid FROM allowlist ORDER BY udid;
	    SELECT id, udid, used_at FROM enrol_passwords ORDER BY id; SELECT name FROM mfr_cas ORDER BY name;
	    SELECT serial, revoked_at FROM certs ORDER BY serial; SELECT udid, blocked FROM things ORDER BY udid;
	    SELECT name FROM owners ORDER BY name; SELECT key_id, name, owner, revoked_at FROM api_keys ORDER BY key_id;
	    SELECT count(*) FROM profiles; SELECT count(*) FROM modules; SELECT count(*) FROM campaigns;
	    SELECT id, kind, detail FROM events WHERE kind <> 'token_refused' ORDER BY id;"
}

# the value of each kind of parameter, and a body that would change something
param() {
	local p=$1
	p=${p//\{iccid\}/$ICCID}
	p=${p//\{udid\}/dev-1}
	p=${p//\{serial\}/01}
	p=${p//\{ca\}/ca1}
	p=${p//\{group\}/g1}
	p=${p//\{owner\}/acme}
	p=${p//\{apikey\}/$A_ID}
	p=${p//\{profile\}/0123456789abcdef0123456789abcdef}
	p=${p//\{rot\}/00112233445566778899aabbccddeeff}
	p=${p//\{campaign\}/1}
	p=${p//\*\*/x/y}
	p=${p//\*/x}
	printf '%s' "$p"
}
body_for() { # body_for METHOD PATTERN
	case "$1 $2" in
	"POST /v1/sims") echo '{"iccid":"8944502509186389643","psk":"'"$PSK"'"}' ;;
	"POST /v1/groups") echo '{"name":"evil"}' ;;
	"POST /v1/owners") echo '{"name":"evil"}' ;;
	"POST /v1/apikeys") echo '{"name":"evil","all_owners":true}' ;;
	"POST /v1/enrolment-passwords") echo '{"udid":"dev-2"}' ;;
	"PUT /v1/sims/{iccid}/config") jq -nc '{body: "{}"}' ;;
	"POST /v1/sims/{iccid}/config/rollback") echo '{"version":1}' ;;
	POST* | PUT*) echo '{}' ;;
	esac
}

ROUTES=$SRC/src/server/front/admin_api.c
grep -E '^\s*\{ ADMINROUTE_' "$ROUTES" >"$T/routes"
[ "$(wc -l <"$T/routes")" -ge 60 ] || fail "the route table was not read: $(wc -l <"$T/routes") rows"
ev_settle
before=$(snapshot)
n=0 n_open=0
while read -r line; do
	methods=$(echo "$line" | sed -E 's/^\s*\{ ([A-Z_| ]+), .*/\1/')
	pattern=$(echo "$line" | sed -E 's/^[^"]*"([^"]*)".*/\1/')
	case "$line" in
	*ADMINROUTE_PUBLIC* | *ADMINROUTE_OWNER_OK*)
		n_open=$((n_open + 1))
		continue
		;;
	esac
	case "$methods" in
	*ANY*) list="GET POST PUT DELETE" ;;
	*) list=$(echo "$methods" | tr '|' '\n' | sed -E 's/.*ADMINROUTE_//' | tr -d ' ' | tr '\n' ' ') ;;
	esac
	path=$(param "$pattern")
	for m in $list; do
		for tok in "$A" "$B"; do
			got=$(call "$tok" "$m" "$path" "$(body_for "$m" "$pattern")")
			[ "$got" = 403 ] || fail "an owner's key on $m $path ($pattern): $got, not 403: $(head -c 300 "$T/body")"
			json_true "$T/body" '.error == "forbidden"' || fail "$m $path: error body $(cat "$T/body")"
		done
		n=$((n + 1))
		# the all-owners key gets past the dispatch (read-only calls only here)
		if [ "$m" = GET ]; then
			got=$(call "$R" GET "$path")
			case "$got" in 401 | 403 | 5*) fail "the all-owners key on GET $path: $got: $(head -c 300 "$T/body")" ;; esac
		fi
	done
done <"$T/routes"
[ "$n" -ge 40 ] || fail "only $n calls made"
[ "$n_open" -ge 2 ] || fail "no owner routes found"
ev_settle
after=$(snapshot)
[ "$before" = "$after" ] || fail "an owner's refused call changed the store: $(diff <(echo "$before") <(echo "$after") | head -20)"
ok "every route that is not an owner's ($n method and path pairs): 403 for both owners' keys, nothing changed; GETs work for the all-owners key"

# the routes that are an owner's pass the dispatch (their handlers filter)
for path in /v1/events /v1/profiles /v1/modules /v1/campaigns; do
	got=$(call "$A" GET "$path")
	[ "$got" != 403 ] && [ "$got" != 401 ] || fail "an owner's key on GET $path: $got"
done
ok "an owner's key passes the dispatch of its own routes"

# ---- events: an owner's key sees its own only
want 200 "$A" GET '/v1/events?limit=1000'
json_true "$T/body" '(.events | length) >= 2 and all(.events[]; .owner == "acme")' ||
	fail "acme's events: $(cat "$T/body")"
json_true "$T/body" '[.events[].detail] | any(startswith("owner created: acme")) and any(startswith("API key created:"))' ||
	fail "acme does not see its creation and its key's: $(cat "$T/body")"
want 200 "$B" GET '/v1/events?limit=1000'
json_true "$T/body" '(.events | length) >= 2 and all(.events[]; .owner == "globex")' ||
	fail "globex's events: $(cat "$T/body")"
want 200 "$R" GET '/v1/events?limit=1000'
json_true "$T/body" '([.events[] | select(.owner == "acme")] | length) >= 2 and
	([.events[] | select(.owner == "globex")] | length) >= 2 and
	([.events[] | select(.owner == null)] | length) >= 1 and all(.events[]; has("owner") and has("device"))' ||
	fail "the all-owners key's events: $(cat "$T/body")"
ok "GET /v1/events: an owner's key sees its owner's events only, an all-owners key all (owner, device members)"

# ---- revocation holds at once, for a token already issued
want 200 "$A" GET /v1/events
want 200 "$ROOT" DELETE "/v1/apikeys/$A_ID"
json_true "$T/body" '.key_id == $id and .revoked_at != null and (has("secret") | not)' --arg id "$A_ID" ||
	fail "revoke: $(cat "$T/body")"
want 401 "$A" GET /v1/events
json_true "$T/body" '.error == "unauthorized"' || fail "revoked: $(cat "$T/body")"
[ "$(token "$A_ID" "$A_SECRET")" = "" ] && [ "$(cat "$T/token.code")" = 401 ] || fail "a revoked key got a token"
want 409 "$ROOT" DELETE "/v1/apikeys/$A_ID"
want 404 "$ROOT" DELETE /v1/apikeys/ak_0000000000000000
want 400 "$ROOT" DELETE '/v1/apikeys/a%20b'
want 200 "$B" GET /v1/events # the other owner's key is untouched
want 200 "$ROOT" GET /v1/owners/acme
json_true "$T/body" '.api_keys == 0' || fail "acme's keys after revocation: $(cat "$T/body")"
# the last all-owners key in force cannot go; the others can
want 200 "$R" DELETE "/v1/apikeys/$FIRST_ID"
want 401 "$ROOT" GET /v1/apikeys
want 409 "$R" DELETE "/v1/apikeys/$R_ID"
json_true "$T/body" '.detail | test("last all-owners key")' || fail "last key: $(cat "$T/body")"
want 200 "$R" GET /v1/apikeys
ok "revocation: 200, the key's token refused at the next request (401), no new token; 409 again, 404, 400; the last all-owners key stays"

# ---- the secret is shown once: never in a list, the log, the events or the store
json_true "$T/body" 'all(.apikeys[]; has("secret") | not) and (.apikeys | length) == 4' || fail "key list: $(cat "$T/body")"
for s in "$A_SECRET" "$B_SECRET" "$R_SECRET"; do
	grep -q "$s" "$T/body" && fail "a secret is in the key list"
	grep -q "$s" "$T/ztpd.log" && fail "a secret is in the log"
	db "SELECT * FROM events" | grep -q "$s" && fail "a secret is in the events"
	db_dump | grep -qi "$s" && fail "a secret is in the store"
done
want 200 "$R" GET '/v1/events?limit=1000'
for s in "$A_SECRET" "$B_SECRET" "$R_SECRET"; do grep -q "$s" "$T/body" && fail "a secret is in GET /v1/events"; done
ok "the secrets are in no list, log line, event or store row"

# ---- ztpctl owner and apikey, and ztpctl acting as an owner
jq --arg k "$R_ID" --arg s "$R_SECRET" '.key_id = $k | .secret = $s' "$DATA/admin.json" >"$T/root.json"
chmod 600 "$T/root.json"
export ZTP_ADMIN=$T/root.json
ok_run owner create initech
out_has '^owner initech created$'
bad_run 1 owner create initech
bad_run 2 owner create 'a b'
ok_run owner list
out_has '^NAME +API KEYS +PROFILES +MODULES +CREATED'
out_has '^initech '
ok_run --json owner show initech
jq_true '.name == "initech" and .api_keys == 0'
bad_run 2 apikey create k1
bad_run 2 apikey create k1 --owner initech --all-owners
ok_run apikey create init-ops --owner initech
out_has '^key_id  ak_[0-9a-f]{16}$'
out_has '^secret  [0-9a-f]{64}$'
err_has 'never shown again'
shown=$(awk '$1 == "secret" {print $2}' "$T/out")
ok_run apikey create init-ci --owner initech --save "$T/initech.json"
[ "$(stat -c %a "$T/initech.json")" = 600 ] || fail "the saved admin file is not 0600"
out_has "ztpctl --admin $T/initech.json"
grep -Eq '[0-9a-f]{64}' "$T/out" && fail "apikey create --save printed the secret"
json_true "$T/initech.json" '.url == $u and (.key_id | startswith("ak_")) and (.secret | length) == 64 and (.ca | startswith("/"))' --arg u "$URL" ||
	fail "the saved admin file: $(jq 'del(.secret)' "$T/initech.json")"
bad_run 1 apikey create again --owner initech --save "$T/initech.json" # exists: not overwritten
ok_run apikey list
out_has '^KEY ID +NAME +OWNER +CREATED +REVOKED'
out_has 'init-ci +initech '
out_has '\(all owners\)'
grep -q "$shown" "$T/out" && fail "apikey list shows a secret"
# acting as the owner: its events, not the operator's routes
ok_run --admin "$T/initech.json" events
out_has 'owner created: initech'
bad_run 1 --admin "$T/initech.json" sim list
err_has '403|one owner'
bad_run 1 --admin "$T/initech.json" owner list
bad_run 1 --admin "$T/initech.json" apikey create x --all-owners
INIT_ID=$(jq -r .key_id "$T/initech.json")
ok_run apikey revoke "$INIT_ID"
out_has "^API key $INIT_ID revoked$"
bad_run 1 --admin "$T/initech.json" events
bad_run 2 apikey revoke 'bad id'
grep -q "$shown" "$T/ztpd.log" && fail "a secret ztpctl showed is in the log"
grep -q "$(jq -r .secret "$T/initech.json")" "$T/ztpd.log" && fail "a saved secret is in the log"
ok "ztpctl owner create/list/show, apikey create (printed once, or --save FILE 0600)/list/revoke, and acting as an owner with --admin FILE"

# ---- the descriptions hold the routes
for p in /v1/owners "/v1/owners/{owner}" /v1/apikeys "/v1/apikeys/{key_id}"; do
	grep -qF "  $p:" "$SRC/docs/openapi.yaml" || fail "docs/openapi.yaml has no $p"
done
grep -q '^## Owners and API keys' "$SRC/docs/admin-api.md" || fail "docs/admin-api.md has no section on owners"
ok "docs/openapi.yaml and docs/admin-api.md describe owners and API keys"
ok_run --help
for c in "owner create NAME" "owner list" "owner show NAME" "apikey create NAME (--owner OWNER | --all-owners)" \
	"apikey list" "apikey revoke KEYID" "--save FILE"; do
	grep -qF -- "$c" "$T/out" || fail "--help does not mention '$c'"
done
ok "ztpctl --help lists owner and apikey"
