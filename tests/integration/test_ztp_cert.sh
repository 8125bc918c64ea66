#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ZTP certificates (docs/security-service.md "ZTP certificates"), end to
# end with a real ztpd and ztp-sim --module:
#
#   1. an owner's CA made in the signer; its proof-of-possession
#      certificate for a registration code verifies against it (openssl
#      verify) and has the code as its CN; an imported CA too; the CA's
#      key is nowhere in the store in clear
#   2. owner scope, route by route: another owner's key neither sees nor
#      uses the CA (list, show, pop, a profile's or a module's CA), and an
#      owner's key makes CAs for its own owner only
#   3. enabled on a profile before the bootstrap: the module bootstraps,
#      AT+USECDEVCERT? answers +USECDEVCERT: 0,0,0, the device certificate
#      verifies against the CA, and the module's key and certificate open a
#      mutual-TLS connection to an openssl s_server that trusts that CA only,
#      while a certificate of another CA is refused there
#   4. enabled on a device after its bootstrap: delivered at the next
#      heartbeat (AT+USECCONN)
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_ztp_cert.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$SRC/tests/integration/lib_ztpctl.sh"
. "$SRC/tests/integration/lib_module.sh"

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
want() { eq "$(status)" "$1" "$2: $(body | head -c 300)"; }
snapshot() { db_snapshot >"$T/snap.$1"; }
unchanged() { db_snapshot | cmp -s - "$T/snap.$1" || fail "$2: the store changed"; }

start_ztpd "${MOD_ZTPD_OPTS[@]}"
ok_run owner create acme
ok_run owner create globex
ok_run apikey create acme-ops --owner acme --save "$T/acme.json"
ok_run apikey create globex-ops --owner globex --save "$T/globex.json"
ACME=$(token_of "$T/acme.json")
GLOBEX=$(token_of "$T/globex.json")
[ -n "$ACME" ] && [ "$ACME" != null ] || fail "no token for acme's key"

# ---- 1. a CA, its PoP certificate; an imported CA
ok_run --admin "$T/acme.json" ztp-ca create fleet --ca-days 3650 --device-days 90
cp "$T/out" "$T/fleet.pem"
openssl x509 -in "$T/fleet.pem" -noout -ext basicConstraints 2>/dev/null | grep -q 'CA:TRUE' ||
	fail "ztp-ca create printed no CA certificate: $(head -c 300 "$T/out")"
openssl verify -CAfile "$T/fleet.pem" "$T/fleet.pem" >/dev/null || fail "the CA is not self-signed"
CODE=6e5b2c3f0c0d6b1a9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a49382
ok_run --admin "$T/acme.json" ztp-ca pop fleet --registration-code "$CODE"
cp "$T/out" "$T/pop.pem"
openssl verify -CAfile "$T/fleet.pem" "$T/pop.pem" >/dev/null ||
	fail "the PoP certificate does not verify against the CA"
eq "$(openssl x509 -in "$T/pop.pem" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')" \
	"$CODE" "the PoP certificate's CN"
ok "ztp-ca create: a CA certificate; ztp-ca pop: CN = the registration code, verified against the CA"

# an all-owners key names the owner; an imported CA (P-384)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$T/own.key" \
	-out "$T/own.pem" -days 30 -subj "/CN=own CA" -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
bad_run 1 ztp-ca import own --cert "$T/own.pem" --key "$T/own.key"
err_has "owner"
ok_run ztp-ca import own --cert "$T/own.pem" --key "$T/own.key" --owner acme
ok_run ztp-ca list --owner acme
out_has "fleet"
out_has "own"
# a non-CA certificate is refused, and changes nothing
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/leaf.key" \
	-out "$T/leaf.pem" -days 30 -subj "/CN=leaf" -addext basicConstraints=critical,CA:FALSE 2>/dev/null
snapshot imp
bad_run 1 ztp-ca import leaf --cert "$T/leaf.pem" --key "$T/leaf.key" --owner acme
err_has "not a CA"
unchanged imp "a refused import"
# the key in clear is nowhere in the store
KEYHEX=$(openssl pkey -in "$T/own.key" -outform DER | xxd -p | tr -d '\n' | cut -c 80-140)
if ! store_is_pg; then
	for f in "$DATA"/ztp.db*; do
		xxd -p "$f" | tr -d '\n' | grep -q "$KEYHEX" && fail "the imported CA key is in $f in clear"
	done
fi
eq "$(db "SELECT count(*) FROM ztp_cas WHERE owner = 'acme'")" 2 "acme's CAs in the store"
ok "ztp-ca import: a CA and its key (wrapped by the signer); a non-CA refused"

# ---- 2. owner scope
snapshot scope
as "$GLOBEX" GET /v1/ztp-cas
want 200 "GET /v1/ztp-cas as globex"
eq "$(body | jq -c '.ztp_cas')" "[]" "globex's CA list"
as "$GLOBEX" GET "/v1/ztp-cas?owner=acme"
want 200 "GET /v1/ztp-cas?owner=acme as globex"
eq "$(body | jq -c '.ztp_cas')" "[]" "globex asking for acme's CAs"
as "$GLOBEX" GET /v1/ztp-cas/fleet
want 404 "GET acme's CA as globex"
as "$GLOBEX" GET "/v1/ztp-cas/fleet?owner=acme"
want 404 "GET acme's CA as globex, ?owner=acme"
as "$GLOBEX" POST "/v1/ztp-cas/fleet/pop?owner=acme" '{"registration_code":"x"}'
want 404 "a PoP with acme's CA as globex"
as "$GLOBEX" POST /v1/ztp-cas '{"name":"x","owner":"acme"}'
want 403 "a CA for acme made by globex's key"
as "$ACME" GET /v1/ztp-cas
want 200 "GET /v1/ztp-cas as acme"
eq "$(body | jq -c '[.ztp_cas[].name]')" '["fleet","own"]' "acme's CA list"
as "$ACME" GET /v1/ztp-cas/fleet
want 200 "GET its own CA"
body | jq -j .certificate | cmp -s - "$T/fleet.pem" || fail "GET /v1/ztp-cas/fleet: another certificate"
ok_run ztp-ca show fleet --owner acme
out_has "BEGIN CERTIFICATE"
bad_run 1 ztp-ca show fleet
err_has "owner"
# a profile of globex cannot name acme's CA
as "$GLOBEX" POST /v1/profiles '{"name":"meter","features":["ztp-cert"]}'
want 201 "globex's profile"
PG=$(body | jq -r .uid)
snapshot scope
as "$GLOBEX" PUT "/v1/profiles/$PG/ztp-ca" '{"ztp_ca":"fleet"}'
want 400 "globex's profile naming a CA it has not"
unchanged scope "a profile naming another owner's CA"
as "$ACME" PUT "/v1/profiles/$PG/ztp-ca" '{"ztp_ca":"fleet"}'
want 404 "acme naming the CA of globex's profile"
unchanged scope "a change of another owner's profile"
ok "owner scope: another owner's CAs are neither listed, shown, used nor named"

# ---- 3. enabled on a profile: delivered at the bootstrap
run --admin "$T/acme.json" profile create meters --features ztp-cert --heartbeat-min-interval 1 \
	--ztp-ca fleet
[ "$RC" -eq 0 ] || fail "profile create --ztp-ca: $(cat "$T/err")"
PA=$(cat "$T/out")
as "$ACME" GET "/v1/profiles/$PA/ztp-ca"
want 200 "GET the profile's CA"
eq "$(body | jq -r .ztp_ca)" fleet "the profile's CA"
