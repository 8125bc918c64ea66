#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# CRL synchronisation of a foreign PKI (docs/pki-crl.md), with ztpd, ztpctl,
# curl, openssl (the foreign CA, its IDevIDs and CRLs: openssl ca) and
# python3 -m http.server serving the CRL on 127.0.0.1:
#   - two devices enrol over EST with IDevIDs of the foreign CA (a
#     manufacturer CA): their certificates are seen;
#   - pki add: the PKI's first sync follows without being asked, and blocks
#     the device the CRL lists (its EST enrolments then refused, our
#     certificate of it revoked and on our CRL), with one pki_revoked event;
#   - pki sync again: nothing blocked twice, no second event;
#   - a CRL signed by another key under the CA's name: refused, the error
#     recorded (last_error, a pki_sync_failed event), nothing blocked;
#   - an older CRL replayed: refused;
#   - a newer CRL (DER this time): applied by the periodic fetch, without
#     pki sync (waited for by polling, with a deadline);
#   - a URL that answers 404, bad arguments: errors, nothing changed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_est.sh"
. "$(dirname "$0")/lib_ztpctl.sh"

D=$T/pki
WWW=$T/www
mkdir -p "$D" "$WWW"
ctl() { "$ZTPCTL" "$@"; }

HTTP_PID=""
http_cleanup() {
	local rc=$?
	set +e # (exit $rc) below must not end the trap before cleanup
	if [ -n "$HTTP_PID" ]; then
		kill "$HTTP_PID" 2>/dev/null
		wait "$HTTP_PID" 2>/dev/null
	fi
	(exit $rc)
	cleanup
}
trap http_cleanup EXIT

# ---- the foreign PKI: a CA that openssl ca runs, its IDevIDs, its CRLs ----

# foreign_ca DIR: a CA in DIR (ca.key, ca.pem, openssl ca's database), subject
# "/O=maker/CN=maker IDevID CA" whatever the key (a second one is an impostor)
foreign_ca() {
	local dir=$1
	mkdir -p "$dir"
	: >"$dir/index.txt"
	echo 1000 >"$dir/crlnumber"
	est_key "$dir/ca.key"
	openssl req -x509 -new -key "$dir/ca.key" -subj "/O=maker/CN=maker IDevID CA" -days 30 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/ca.pem"
	cat >"$dir/ca.cnf" <<EOF
[ ca ]
default_ca = foreign
[ foreign ]
database = $dir/index.txt
crlnumber = $dir/crlnumber
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
default_crl_days = 7
EOF
}

# revoke DIR CERT: CERT on DIR's CA's list of revoked certificates
revoke() { openssl ca -config "$1/ca.cnf" -revoke "$2" -crl_reason keyCompromise 2>/dev/null; }

# crl DIR OUT [der]: DIR's CA's CRL (the next number), PEM or DER, to OUT
crl() {
	openssl ca -config "$1/ca.cnf" -gencrl -out "$2.tmp" 2>/dev/null
	if [ "${3:-}" = der ]; then
		openssl crl -in "$2.tmp" -outform DER -out "$2.tmp2"
		mv "$2.tmp2" "$2.tmp"
	fi
	mv "$2.tmp" "$2"
}

# idevid UDID: an IDevID of the foreign CA for UDID ($D/UDID-idev.{key,pem}), a
# device key and CSR ($D/UDID.{key,csr})
idevid() {
	est_key "$D/$1-idev.key"
	openssl req -new -key "$D/$1-idev.key" -subj "/CN=model-x/serialNumber=$1" -out "$D/$1.idreq"
	openssl x509 -req -in "$D/$1.idreq" -CA "$D/maker/ca.pem" -CAkey "$D/maker/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 30 -out "$D/$1-idev.pem" 2>/dev/null
	est_key "$D/$1.key"
	est_csr "$D/$1.key" "$1" "$D/$1.csr"
}

# enrol UDID OUT: simpleenroll with the device's IDevID; prints the status
enrol() {
	est_enroll simpleenroll "$D/$1.csr" "$2" --cert "$D/$1-idev.pem" --key "$D/$1-idev.key"
}

blocked() { ctl --json device show "$1" | jq -r .blocked; }
revoked_events() { db "SELECT count(*) FROM events WHERE kind='pki_revoked' AND detail LIKE '%device $1 %'"; }
pki_json() { ctl --json pki show maker | jq -r "$1"; }

# wait_until DEADLINE_S WHAT COMMAND...: polls COMMAND until it succeeds; fails
# with WHAT after DEADLINE_S seconds
wait_until() {
	local deadline=$(($(date +%s) + $1)) what=$2
	shift 2
	until "$@"; do
		[ "$(date +%s)" -lt "$deadline" ] || fail "$what: not within the deadline"
		sleep 0.2
	done
}

foreign_ca "$D/maker"
foreign_ca "$D/impostor"

# ---- ztpd, the manufacturer CA, two devices enrolled with their IDevIDs ----

est_start
ctl mfr-ca add maker "$D/maker/ca.pem" >/dev/null
for u in pki-a pki-b; do
	idevid $u
	code=$(enrol $u "$D/$u.pem")
	[ "$code" = 200 ] || fail "IDevID enrolment of $u: $code $(cat "$EST_OUT")"
done
[ "$(db "SELECT count(*) FROM foreign_certs WHERE kind = 'idevid' AND udid IN ('pki-a', 'pki-b')")" = 2 ] ||
	fail "the IDevIDs were not recorded: $(db 'SELECT * FROM foreign_certs')"
serial_a=$(est_serial "$D/pki-a-idev.pem")
[ "$(db "SELECT udid FROM foreign_certs WHERE serial = '$serial_a'")" = pki-a ] ||
	fail "the IDevID of pki-a is not recorded by its serial $serial_a"
ok "two devices enrolled with IDevIDs of the foreign CA: their certificates are recorded"

# ---- the CRL server ----

revoke "$D/maker" "$D/pki-a-idev.pem"
crl "$D/maker" "$WWW/maker.crl"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$WWW" >"$T/http.log" 2>&1 &
HTTP_PID=$!
for _ in $(seq 1 100); do
	HTTP_PORT=$(sed -n 's/.* port \([0-9][0-9]*\) .*/\1/p' "$T/http.log" | head -n 1)
	[ -n "$HTTP_PORT" ] && break
	kill -0 "$HTTP_PID" 2>/dev/null || fail "python3 -m http.server exited: $(cat "$T/http.log")"
	sleep 0.05
done
[ -n "$HTTP_PORT" ] || fail "python3 -m http.server printed no port"
URL="http://127.0.0.1:$HTTP_PORT/maker.crl"

# ---- bad arguments change nothing ----

bad_run 2 pki add maker --crl-url "$URL"
bad_run 2 pki add maker --ca "$D/maker/ca.pem"
bad_run 2 pki add maker --crl-url "$URL" --ca "$D/maker/ca.pem" --interval 59
bad_run 2 pki add "bad name" --crl-url "$URL" --ca "$D/maker/ca.pem"
bad_run 1 pki add maker --crl-url "ftp://127.0.0.1/maker.crl" --ca "$D/maker/ca.pem"
err_has "crl_url"
bad_run 1 pki add maker --crl-url "http://u:pw@127.0.0.1/maker.crl" --ca "$D/maker/ca.pem"
bad_run 1 pki add maker --crl-url "$URL" --ca "$D/pki-a-idev.pem"
err_has "not a CA"
bad_run 1 pki add maker --crl-url "$URL" --ca "$D/maker/ca.key"
[ "$(db 'SELECT count(*) FROM pkis')" = 0 ] || fail "a refused pki add left a PKI"
ok "pki add with bad arguments: usage errors and refusals, no PKI"

# ---- pki add: the first sync follows by itself ----

ok_run pki add maker --crl-url "$URL" --ca "$D/maker/ca.pem" --interval 60
out_has "PKI maker added"
a_blocked() { [ "$(blocked pki-a)" = true ]; }
wait_until 30 "pki-a blocked by the first sync after pki add" a_blocked
[ "$(blocked pki-b)" = false ] || fail "pki-b, not on the CRL, is blocked"
[ "$(revoked_events pki-a)" = 1 ] || fail "pki_revoked events of pki-a: $(revoked_events pki-a)"
grep -q "pki_sync" <<<"$(db "SELECT kind FROM events WHERE kind = 'pki_sync'")" ||
	fail "no pki_sync event"
[ "$(pki_json .crl_number)" = 1000 ] || fail "crl_number $(pki_json .crl_number)"
[ "$(pki_json .revoked)" = 1 ] && [ "$(pki_json .last_error)" = null ] && [ "$(pki_json .ok)" = true ] ||
	fail "PKI state after its first sync: $(ctl --json pki show maker)"
ok "pki add: its first sync, unasked, blocked pki-a (one pki_revoked event), not pki-b"

# the block as a device's: EST refused, our certificate of it revoked and on our CRL
code=$(enrol pki-a "$D/pki-a-2.pem")
[ "$code" = 403 ] || fail "IDevID enrolment of the blocked pki-a: $code, want 403"
code=$(est_enroll simplereenroll "$D/pki-a.csr" "$D/pki-a-3.pem" --cert "$D/pki-a.pem" --key "$D/pki-a.key")
case $code in
000 | 401 | 403) ;;
*) fail "re-enrolment of the blocked pki-a with its revoked certificate: $code" ;;
esac
ours_a=$(est_serial "$D/pki-a.pem")
[ "$(db "SELECT revoked_at > 0 FROM certs WHERE serial = '$ours_a'")" = 1 ] ||
	fail "our certificate $ours_a of pki-a is not revoked"
code=$(est /crl)
[ "$code" = 200 ] || fail "GET /crl: $code"
openssl crl -inform DER -in "$EST_OUT" -noout -text | grep -q "Serial Number: $ours_a" ||
	fail "our CRL does not list $ours_a"
code=$(enrol pki-b "$D/pki-b-2.pem")
[ "$code" = 200 ] || fail "IDevID enrolment of pki-b, not listed: $code"
ok "pki-a: EST enrolment and re-enrolment refused, its certificate revoked and on our CRL; pki-b enrols"

# ---- pki sync: nothing twice ----

ok_run pki sync maker
out_has "PKI maker synced: CRL 1000"
out_has "0 blocked now"
ok_run --json pki sync maker
jq_true '.ok and .blocked == 0 and .earlier == 1 and .entries == 1' "pki sync --json"
[ "$(revoked_events pki-a)" = 1 ] || fail "a second sync made another pki_revoked event"
ok "pki sync of the same CRL: nothing blocked twice, no second pki_revoked event"

# ---- a CRL of another key under the CA's name: refused, recorded, nothing blocked ----

revoke "$D/impostor" "$D/pki-b-idev.pem"
crl "$D/impostor" "$WWW/maker.crl"
failed_before=$(ev_count_now pki_sync_failed)
bad_run 1 pki sync maker
err_has "signature"
[ "$(blocked pki-b)" = false ] || fail "a CRL of another key blocked pki-b"
grep -q "signature" <<<"$(pki_json .last_error)" || fail "last_error: $(pki_json .last_error)"
[ "$(pki_json .ok)" = false ] || fail "the PKI is ok after a refused CRL"
[ "$(pki_json .crl_number)" = 1000 ] || fail "a refused CRL moved crl_number"
[ "$(ev_count_now pki_sync_failed)" -gt "$failed_before" ] || fail "no pki_sync_failed event"
ok "a CRL signed by another key: refused (exit 1), last_error and event, pki-b not blocked"

# ---- an older CRL replayed: refused ----

cp "$WWW/maker.crl" "$T/impostor.crl"
crl "$D/maker" "$T/newer.crl"  # 1001: the one after, not served yet
openssl ca -config "$D/maker/ca.cnf" -gencrl -out "$T/1002.crl" 2>/dev/null # skips to 1002
cp "$T/1002.crl" "$WWW/maker.crl"
ok_run pki sync maker
out_has "CRL 1002"
cp "$T/newer.crl" "$WWW/maker.crl"
bad_run 1 pki sync maker
err_has "older"
[ "$(pki_json .crl_number)" = 1002 ] || fail "an older CRL moved crl_number"
ok "an older CRL (1001 after 1002): refused"

# ---- the periodic fetch: a newer CRL applied without pki sync ----

revoke "$D/maker" "$D/pki-b-idev.pem"
crl "$D/maker" "$WWW/maker.crl" der # 1003, DER
last=$(db "SELECT last_fetch_at FROM pkis WHERE name = 'maker'")
b_blocked() { [ "$(blocked pki-b)" = true ]; }
wait_until 150 "pki-b blocked by the periodic fetch (every 60 s)" b_blocked
[ "$(db "SELECT last_fetch_at > $last FROM pkis WHERE name = 'maker'")" = 1 ] ||
	fail "pki-b blocked without a new fetch"
[ "$(pki_json .crl_number)" = 1003 ] || fail "crl_number after the periodic fetch: $(pki_json .crl_number)"
[ "$(revoked_events pki-b)" = 1 ] || fail "pki_revoked events of pki-b: $(revoked_events pki-b)"
[ "$(revoked_events pki-a)" = 1 ] || fail "the periodic fetch made another event for pki-a"
grep -q 'GET /maker.crl' "$T/http.log" || fail "the CRL server saw no GET"
ok "a newer CRL (DER) applied by the periodic fetch, unasked: pki-b blocked, one event each"

# ---- a URL that fails; list, show, delete ----

ok_run pki add gone --crl-url "http://127.0.0.1:$HTTP_PORT/missing.crl" --ca "$D/maker/ca.pem"
bad_run 1 pki sync gone
err_has "404"
[ "$(db "SELECT count(*) FROM events WHERE kind = 'pki_sync_failed' AND detail LIKE 'PKI gone:%404%'")" -ge 1 ] &&
	[ "$(db "SELECT count(*) FROM events WHERE kind = 'pki_sync' AND detail LIKE 'PKI gone:%'")" = 0 ] ||
	fail "the events of a failed fetch: $(db "SELECT kind, detail FROM events WHERE detail LIKE 'PKI gone:%'")"
grep -q "404" <<<"$(ctl --json pki show gone | jq -r .last_error)" || fail "last_error of gone"
bad_run 1 pki sync nosuch
err_has "no such PKI"
ok_run pki list
out_has "^maker +60 "
out_has "^gone +3600 "
ok_run pki show maker
out_has "BEGIN CERTIFICATE"
ok_run pki delete gone
bad_run 1 pki delete gone
[ "$(db "SELECT count(*) FROM pkis")" = 1 ] || fail "pki delete"
ok "a CRL URL that answers 404: the sync fails (exit 1); list, show, delete"

# every route and event kind is documented
for p in /v1/pkis /v1/pkis/{name} /v1/pkis/{name}/sync; do
	grep -qF "  $p:" "$SRC/docs/openapi.yaml" || fail "docs/openapi.yaml has no $p"
	grep -qF "$p" "$SRC/docs/admin-api.md" || fail "docs/admin-api.md has no $p"
done
for k in pki_sync pki_sync_failed pki_revoked; do
	grep -qF "$k" "$SRC/docs/openapi.yaml" && grep -qF "$k" "$SRC/docs/admin-api.md" &&
		grep -qF "$k" "$SRC/docs/pki-crl.md" || fail "event kind $k not documented"
done
ok "routes and events documented"

kill "$HTTP_PID"
wait "$HTTP_PID" 2>/dev/null || true
HTTP_PID=""
stop_ztpd
echo "PASS: test_pki_crl"
