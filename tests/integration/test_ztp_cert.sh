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
as "$GLOBEX" GET "/v1/profiles/$PA/ztp-ca"
want 404 "GET acme's profile's CA as globex"

# devcert NAME: AT+USECDEVCERT?'s three digits, or dead; anything else fails the test
devcert() {
	local r
	r=$(mat "$1" 'AT+USECDEVCERT?')
	[ "$r" = dead ] && { echo dead; return 0; }
	[[ "$r" =~ ^\\r\\n\+USECDEVCERT:\ ([01],[01],[01])\\r\\n\\r\\nOK\\r\\n$ ]] ||
		fail "$1: AT+USECDEVCERT? answered '$r'"
	echo "${BASH_REMATCH[1]}"
}
# wait_devcert NAME WANT: until AT+USECDEVCERT? answers WANT; fails after 20 s
wait_devcert() {
	local r
	for _ in $(seq 1 100); do
		r=$(devcert "$1")
		[ "$r" = "$2" ] && return 0
		[ "$r" = dead ] && fail "$1: ztp-sim died"
		sleep 0.2
	done
	fail "$1: AT+USECDEVCERT? still '$r', not '$2'"
}
# part NAME N FILE: AT+USECDEVCERT=N's DER into FILE
part() {
	local r
	r=$(mat "$1" "AT+USECDEVCERT=$2")
	[[ "$r" =~ ^\\r\\n\+USECDEVCERT:\ $2,([0-9]+),\"([0-9A-F]+)\"\\r\\n\\r\\nOK\\r\\n$ ]] ||
		fail "$1: AT+USECDEVCERT=$2 answered '${r:0:200}'"
	printf '%s' "${BASH_REMATCH[2]}" | xxd -r -p >"$3"
	eq "$(stat -c %s "$3")" "${BASH_REMATCH[1]}" "AT+USECDEVCERT=$2: the byte count"
}

mod_import 1 2
R1=$(mod_uid 1)
R2=$(mod_uid 2)
mod_new m1 1
# sealed before it can reach the server (a port nobody listens on), then bootstrapped
REAL_PORT=$DEVICE_PORT
DEVICE_PORT=9
msim_start m1 || fail "m1 did not start"
mseal m1 "$PA" SN-0001
eq "$(devcert m1)" 1,1,1 "AT+USECDEVCERT? before the bootstrap"
eq "$(mat m1 'AT+USECDEVCERT=0')" '\r\n+USECDEVCERT: 0,1\r\n\r\nOK\r\n' "AT+USECDEVCERT=0 before"
eq "$(mat m1 'AT+USECDEVCERT=2')" '\r\n+CME ERROR: operation not allowed\r\n' \
	"AT+USECDEVCERT=2 before"
msim_stop m1
DEVICE_PORT=$REAL_PORT
msim_start m1 || fail "m1 did not start again"
wait_devcert m1 0,0,0
eq "$(mstatus m1)" 1,1,1 "m1's AT+USECDEVINFO?"
eq "$(mat m1 'AT+USECDEVCERT=0')" '\r\n+USECDEVCERT: 0,0\r\n\r\nOK\r\n' "AT+USECDEVCERT=0"
eq "$(mat m1 'AT+USECDEVCERT=?')" '\r\n+USECDEVCERT: (0-3)\r\n\r\nOK\r\n' "AT+USECDEVCERT=?"
part m1 1 "$T/m1.ca.der"
part m1 2 "$T/m1.cert.der"
part m1 3 "$T/m1.key.der"
openssl x509 -inform DER -in "$T/m1.ca.der" -out "$T/m1.ca.pem"
openssl x509 -inform DER -in "$T/m1.cert.der" -out "$T/m1.cert.pem"
openssl pkey -inform DER -in "$T/m1.key.der" -out "$T/m1.key.pem"
cmp -s "$T/m1.ca.pem" "$T/fleet.pem" || fail "AT+USECDEVCERT=1 is not the CA certificate"
openssl verify -CAfile "$T/fleet.pem" "$T/m1.cert.pem" >/dev/null ||
	fail "the device certificate does not verify against the CA"
SUBJ=$(openssl x509 -in "$T/m1.cert.pem" -noout -subject -nameopt multiline)
grep -q "commonName *= *$R1" <<<"$SUBJ" || fail "device certificate: not CN=$R1: $SUBJ"
grep -q "serialNumber *= *SN-0001" <<<"$SUBJ" || fail "device certificate: not serialNumber=SN-0001: $SUBJ"
[ "$(openssl x509 -in "$T/m1.cert.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)" = \
	"$(openssl pkey -in "$T/m1.key.pem" -pubout -outform DER | sha256sum)" ] ||
	fail "the private key is not the device certificate's"
eq "$(db "SELECT count(*) FROM ztp_bundles WHERE rot_uid = '$R1' AND delivered_at > 0")" 1 \
	"the bundle confirmed in the store"
ok "enabled on a profile: at the bootstrap the module holds its key, a device certificate of the CA (CN = RoT UID, serialNumber = serial) and the CA's; +USECDEVCERT: 0,0,0"

# mutual TLS: a server that trusts that CA only takes the module's certificate
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/srv.key" \
	-out "$T/srv.pem" -days 1 -subj /CN=127.0.0.1 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/rogue.key" \
	-out "$T/rogue.pem" -days 1 -subj "/CN=$R1" 2>/dev/null
# mtls CERT KEY: "gnip" if the handshake with client certificate CERT passed, else the reason
mtls() {
	local sp port r
	: >"$T/ss.out"
	openssl s_server -accept 127.0.0.1:0 -cert "$T/srv.pem" -key "$T/srv.key" -Verify 1 \
		-verify_return_error -CAfile "$T/fleet.pem" -naccept 1 -rev >"$T/ss.out" 2>&1 &
	sp=$!
	for _ in $(seq 1 100); do grep -q '^ACCEPT' "$T/ss.out" && break; sleep 0.05; done
	port=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$T/ss.out")
	[ -n "$port" ] || { kill "$sp" 2>/dev/null; fail "openssl s_server did not start: $(cat "$T/ss.out")"; }
	r=$( (echo ping; sleep 1) | timeout 10 openssl s_client -connect "127.0.0.1:$port" \
		-cert "$1" -key "$2" -CAfile "$T/srv.pem" -quiet 2>"$T/sc.err" | head -1 || true)
	kill "$sp" 2>/dev/null || true
	wait "$sp" 2>/dev/null || true
	echo "${r:-refused}"
}
eq "$(mtls "$T/m1.cert.pem" "$T/m1.key.pem")" gnip "mutual TLS with the module's certificate"
grep -q "$R1" "$T/ss.out" || fail "s_server did not see the module's certificate: $(cat "$T/ss.out")"
[ "$(mtls "$T/rogue.pem" "$T/rogue.key")" != gnip ] || fail "a certificate of another CA was taken"
grep -q 'certificate verify failed' "$T/ss.out" ||
	fail "s_server did not refuse the other CA's certificate for its chain: $(head -c 400 "$T/ss.out")"
ok "mutual TLS: the module's key and certificate reach a server that trusts only its CA; another CA's certificate is refused"

# ---- 4. enabled on a device after its bootstrap: at the next heartbeat
as "$ACME" POST /v1/profiles '{"name":"plain","heartbeat_min_interval_s":1}'
want 201 "a profile without ztp-cert"
P2=$(body | jq -r .uid)
mod_new m2 2
msim_start m2 || fail "m2 did not start"
for _ in $(seq 1 100); do [ "$(mstatus m2)" = 1,0,1 ] && break; sleep 0.1; done
mseal m2 "$P2" SN-0002
for _ in $(seq 1 100); do [ "$(mstatus m2)" = 1,1,1 ] && break; sleep 0.1; done
eq "$(mstatus m2)" 1,1,1 "m2 claimed"
eq "$(devcert m2)" 1,1,1 "m2 before ztp-cert is on"
snapshot dev
as "$GLOBEX" PUT "/v1/modules/$R2/ztp-ca" '{"ztp_ca":"fleet"}'
want 404 "globex naming a CA for acme's module"
unchanged dev "another owner's module"
ok_run --admin "$T/acme.json" device features "$R2" --enable ztp-cert
ok_run --admin "$T/acme.json" device ztp-ca "$R2" fleet
grep -q '"effective_ztp_ca": *"fleet"\|effective_ztp_ca: fleet' "$T/out" || out_has "fleet"
eq "$(devcert m2)" 1,1,1 "m2 before its next heartbeat"
mconn_ok m2
wait_devcert m2 0,0,0
part m2 2 "$T/m2.cert.der"
openssl x509 -inform DER -in "$T/m2.cert.der" -out "$T/m2.cert.pem"
openssl verify -CAfile "$T/fleet.pem" "$T/m2.cert.pem" >/dev/null ||
	fail "m2's certificate does not verify against the CA"
as "$ACME" GET "/v1/modules/$R2/ztp-ca"
want 200 "GET the module's ZTP state"
[ "$(body | jq -r '.bundle.delivered_at != null and .effective_ztp_ca == "fleet"')" = true ] ||
	fail "the module's ZTP state: $(body)"
as "$GLOBEX" GET "/v1/modules/$R2/ztp-ca"
want 404 "GET acme's module's ZTP state as globex"
ok "enabled on a device after its bootstrap: delivered at the next heartbeat (AT+USECCONN)"

# the private keys of the modules are nowhere in the store in clear, nor in ztpd's log
KEYHEX=$(xxd -p "$T/m1.key.der" | tr -d '\n' | cut -c 100-160)
if ! store_is_pg; then
	for f in "$DATA"/ztp.db*; do
		xxd -p "$f" | tr -d '\n' | grep -q "$KEYHEX" && fail "a module's key is in $f in clear"
	done
fi
! grep -q "$(xxd -p "$T/m1.key.der" | tr -d '\n' | cut -c 100-140)" "$T/ztpd.log" ||
	fail "a module's key in the log"
ok "the bundles are sealed in the store"

# every route of this service is documented
for p in /v1/ztp-cas /v1/ztp-cas/{name} /v1/ztp-cas/{name}/pop /v1/profiles/{uid}/ztp-ca \
	/v1/modules/{rot}/ztp-ca; do
	grep -qF "  $p:" "$SRC/docs/openapi.yaml" || fail "docs/openapi.yaml has no $p"
	grep -qF "$p" "$SRC/docs/admin-api.md" || fail "docs/admin-api.md has no $p"
done
ok "routes documented"
