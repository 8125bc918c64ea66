#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# EST (RFC 7030) end to end with nothing of ztp on the client side: curl and
# openssl enrol, re-enrol and use the certificates; every refusal gets its
# status, an event and no certificate. A TLS 1.2 + HTTP Basic request in the
# shape libest's estclient sends (its header names, LF base64) stands in for
# estclient, which Debian does not ship.
. "$(dirname "$0")/lib.sh"

start_est() {
	start_ztpd --est-listen 127.0.0.1:0 "$@"
	EST=127.0.0.1:$(jq -r .est "$DATA/run.json" | sed 's/.*://')
}

# est PATH [curl args]: the body goes to $T/body, headers to $T/hdr; prints the status
est() {
	local path=$1
	shift
	curl -sS --cacert "$DATA/ca.pem" -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" \
		"https://$EST$path" 2>"$T/curl.err" || true
}
enroll() { # enroll OP CSR_NAME [curl args]
	local op=$1 name=$2
	shift 2
	est "/.well-known/est/$op" -H 'Content-Type: application/pkcs10' \
		--data-binary @"$T/$name.b64" "$@"
}
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$1.key" 2>/dev/null; }
pubpem() { openssl pkey -in "$T/$1.key" -pubout; }
# csr NAME SUBJECT [KEYNAME]: $T/NAME.der and its base64 $T/NAME.b64
csr() {
	openssl req -new -key "$T/${3:-$1}.key" -subj "$2" -outform DER -out "$T/$1.der" &&
		openssl base64 -in "$T/$1.der" -out "$T/$1.b64"
}
# the certificate of a PKCS#7 answer in $T/body, as PEM, to FILE
p7cert() { openssl base64 -d -in "$T/body" | openssl pkcs7 -inform DER -print_certs >"$1"; }
certs() { db "SELECT count(*) FROM certs"; }
allow() { # allow UDID KEYNAME [extra json members]
	admin POST /v1/allowlist "$(jq -nc --arg u "$1" --arg k "$(pubpem "$2")" \
		"{udid: \$u, pubkey: \$k} ${3:+ + $3}")"
}
# refused STATUS_GOT STATUS_WANT CERTS_BEFORE EVENTS_BEFORE WHAT
refused() {
	[ "$1" = "$2" ] || fail "$5: status $1, want $2 ($(head -c 200 "$T/body"))"
	[ "$(certs)" = "$3" ] || fail "$5: a certificate was recorded"
	expect_new_event enrol_refused "$4"
	grep -q "BEGIN\|MII" "$T/body" && fail "$5: the answer holds a certificate"
	ok "$5: $2, event, nothing issued"
}
# challenged STATUS_GOT CERTS_BEFORE EVENTS_BEFORE WHAT: a request with no
# credential at all is asked for one (401, WWW-Authenticate), not refused:
# no enrol_refused event (clients such as libest always ask so first)
challenged() {
	[ "$1" = 401 ] || fail "$4: status $1, want 401 ($(head -c 200 "$T/body"))"
	grep -qi '^WWW-Authenticate: Basic' "$T/hdr" || fail "$4: 401 without WWW-Authenticate"
	[ "$(certs)" = "$2" ] || fail "$4: a certificate was recorded"
	[ "$(ev_count enrol_refused)" = "$3" ] || fail "$4: an enrol_refused event for a bare request"
	ok "$4: 401 asking for credentials, no event, nothing issued"
}

start_est

# ---- cacerts, csrattrs ----
[ "$(est /.well-known/est/cacerts)" = 200 ] || fail "cacerts"
grep -qi '^Content-Type: application/pkcs7-mime' "$T/hdr" || fail "cacerts media type"
grep -qi '^Content-Transfer-Encoding: base64' "$T/hdr" || fail "cacerts transfer encoding"
grep -qi '^Content-Length: ' "$T/hdr" || fail "cacerts Content-Length"
p7cert "$T/cacerts.pem"
cmp <(openssl x509 -in "$T/cacerts.pem" -outform DER) <(openssl x509 -in "$DATA/ca.pem" -outform DER) ||
	fail "cacerts is not ca.pem"
ok "cacerts: the CA as PKCS#7 certs-only, base64"
[ "$(est /.well-known/est/csrattrs)" = 200 ] || fail "csrattrs"
grep -qi '^Content-Type: application/csrattrs' "$T/hdr" || fail "csrattrs media type"
openssl base64 -d -in "$T/body" | openssl asn1parse -inform DER | grep -q prime256v1 ||
	fail "csrattrs does not ask for P-256"
ok "csrattrs"

# ---- allowlist enrolment, the certificate, mutual TLS, re-enrolment ----
newkey dev1
csr dev1 /CN=dev-0001
[ "$(allow dev-0001 dev1 | tail -1)" = 201 ] || fail "allowlist add"
[ "$(enroll simpleenroll dev1)" = 200 ] || fail "simpleenroll: $(cat "$T/body")"
grep -qi '^Content-Type: application/pkcs7-mime; smime-type=certs-only' "$T/hdr" ||
	fail "simpleenroll media type"
p7cert "$T/dev1.pem"
openssl verify -CAfile "$T/cacerts.pem" "$T/dev1.pem" >/dev/null || fail "cert does not verify"
openssl x509 -in "$T/dev1.pem" -noout -subject | grep -q "CN = dev-0001" || fail "subject"
openssl x509 -in "$T/dev1.pem" -noout -ext extendedKeyUsage | grep -q "Client Auth" ||
	fail "no clientAuth"
cmp <(openssl x509 -in "$T/dev1.pem" -pubkey -noout) <(pubpem dev1) || fail "not the CSR's key"
SERIAL1=$(openssl x509 -in "$T/dev1.pem" -noout -serial | cut -d= -f2)
[ "$(db "SELECT udid || ',' || method FROM certs WHERE serial='$SERIAL1'")" = "dev-0001,allowlist" ] ||
	fail "the certificate's record"
[ "$(db "SELECT count(*) FROM things WHERE udid='dev-0001' AND blocked=0")" = 1 ] ||
	fail "no device record"
[ "$(ev_count cert_issued)" -ge 1 ] || fail "no cert_issued event"
ok "simpleenroll (allowlist): a certificate for the UDID and key, verified, recorded"

n=$(certs)
[ "$(enroll simplereenroll dev1 --cert "$T/dev1.pem" --key "$T/dev1.key")" = 200 ] ||
	fail "simplereenroll: $(cat "$T/body")"
p7cert "$T/dev1b.pem"
SERIAL2=$(openssl x509 -in "$T/dev1b.pem" -noout -serial | cut -d= -f2)
[ "$SERIAL2" != "$SERIAL1" ] || fail "re-enrolment gave the same serial"
openssl verify -CAfile "$T/cacerts.pem" "$T/dev1b.pem" >/dev/null || fail "renewed cert"
[ "$(certs)" = $((n + 1)) ] || fail "renewal not recorded"
[ "$(db "SELECT method FROM certs WHERE serial='$SERIAL2'")" = reenroll ] || fail "method"
ok "simplereenroll over mutual TLS with the first certificate"

# a request over mutual TLS with the certificate: TLS 1.3 and TLS 1.2
e=$(ev_count client_cert_refused)
for v in --tlsv1.3 "--tlsv1.2 --tls-max 1.2"; do
	# shellcheck disable=SC2086
	[ "$(est /.well-known/est/cacerts $v --cert "$T/dev1b.pem" --key "$T/dev1.key")" = 200 ] ||
		fail "mutual TLS ($v) with the renewed certificate: $(cat "$T/curl.err")"
done
[ "$(ev_count client_cert_refused)" = "$e" ] || fail "the certificate was refused"
ok "mutual TLS with the issued certificate"

# ---- refusals: status, event, nothing issued ----
n=$(certs)
e=$(ev_count enrol_refused)
newkey other
csr dev1other /CN=dev-0001 other
refused "$(enroll simpleenroll dev1other)" 401 "$n" "$e" "CSR with another key than the allowlisted one"
cp "$T/body" "$T/body.otherkey"

e=$(ev_count enrol_refused)
csr notlisted /CN=dev-9999 dev1
challenged "$(enroll simpleenroll notlisted)" "$n" "$e" "CSR for a UDID not on the allowlist, no credentials"
# a client that proved nothing cannot tell an allowlisted UDID from another
cmp -s "$T/body" "$T/body.otherkey" || fail "the answers tell allowlisted UDIDs apart"
ev_settle
[ "$(db "SELECT count(*) FROM events WHERE kind='enrol_refused' AND detail LIKE '%not the key allowlisted%'")" -ge 1 ] ||
	fail "the event does not keep the reason"
ok "an unauthenticated refusal says the same whatever the reason (the event keeps it)"

e=$(ev_count enrol_refused)
csr otherudid /CN=dev-0002 dev1
[ "$(allow dev-0002 other | tail -1)" = 201 ] || fail "allowlist add dev-0002"
refused "$(enroll simpleenroll otherudid)" 401 "$n" "$e" "CSR for another allowlisted UDID (with dev-0001's key)"

e=$(ev_count enrol_refused)
cp "$T/dev1.der" "$T/bad.der"
len=$(stat -c %s "$T/bad.der")
printf '\x55' | dd of="$T/bad.der" bs=1 seek=$((len - 3)) conv=notrunc 2>/dev/null
openssl base64 -in "$T/bad.der" -out "$T/bad.b64"
refused "$(enroll simpleenroll bad)" 400 "$n" "$e" "CSR with a bad signature"

e=$(ev_count enrol_refused)
refused "$(enroll simplereenroll dev1)" 401 "$n" "$e" "simplereenroll without a client certificate"

# re-enrolment for another UDID with dev1's certificate
e=$(ev_count enrol_refused)
refused "$(enroll simplereenroll otherudid --cert "$T/dev1b.pem" --key "$T/dev1.key")" 403 "$n" "$e" \
	"simplereenroll of another UDID with dev-0001's certificate"

# ---- one-time enrolment password (HTTP Basic) ----
out=$(admin POST /v1/enrolment-passwords '{"udid":"dev-pw1","ttl_s":600}')
[ "$(echo "$out" | tail -1)" = 201 ] || fail "password create: $out"
PW=$(head -1 <<<"$out" | jq -r .password)
[ -n "$PW" ] && [ "$PW" != null ] || fail "no password"
newkey pw1
csr pw1 /CN=dev-pw1
e=$(ev_count enrol_refused)
refused "$(enroll simpleenroll pw1 -u "dev-pw1:wrong$PW")" 401 "$n" "$e" "wrong enrolment password"
e=$(ev_count enrol_refused)
refused "$(enroll simpleenroll pw1 -u "dev-pw2:$PW")" 401 "$n" "$e" "the password of another UDID"
[ "$(enroll simpleenroll pw1 -u "dev-pw1:$PW")" = 200 ] || fail "password enrolment: $(cat "$T/body")"
p7cert "$T/pw1.pem"
openssl verify -CAfile "$T/cacerts.pem" "$T/pw1.pem" >/dev/null || fail "password cert"
n=$(certs)
ok "simpleenroll with a one-time password"
e=$(ev_count enrol_refused)
refused "$(enroll simpleenroll pw1 -u "dev-pw1:$PW")" 401 "$n" "$e" "a used password"
grep -q "was used" "$T/body" || fail "the reason does not say the password was used"
# an expired one: the expiry is the store's, moved into the past
out=$(admin POST /v1/enrolment-passwords '{"udid":"dev-pw1","ttl_s":600}')
PW2=$(head -1 <<<"$out" | jq -r .password)
db_exec "UPDATE enrol_passwords SET expires_at = 1 WHERE used_at = 0 AND udid = 'dev-pw1'"
e=$(ev_count enrol_refused)
refused "$(enroll simpleenroll pw1 -u "dev-pw1:$PW2")" 401 "$n" "$e" "an expired password"
grep -q "expired" "$T/body" || fail "the reason does not say expired"
grep -q "$PW\|$PW2" "$T/ztpd.log" && fail "a password is in the log"
[ "$(db "SELECT count(*) FROM enrol_passwords WHERE hash = CAST('$PW' AS BLOB)")" = 0 ] ||
	fail "password stored in clear"

# ---- TLS 1.2 + Basic, in the shape of libest's estclient ----
out=$(admin POST /v1/enrolment-passwords '{"udid":"dev-libest","ttl_s":600}')
PW3=$(head -1 <<<"$out" | jq -r .password)
newkey le
csr le /serialNumber=dev-libest
body=$(openssl base64 -in "$T/le.der") # LF line ends, as estclient sends
auth=$(printf 'dev-libest:%s' "$PW3" | openssl base64 -A)
{
	printf 'POST /.well-known/est/simpleenroll HTTP/1.1\r\nUser-Agent: Cisco EST client 1.0\r\n'
	printf 'Connection: close\r\nHost: %s\r\nAccept: */*\r\n' "$EST"
	printf 'Authorization: Basic %s\r\nContent-Type: application/pkcs10\r\n' "$auth"
	printf 'Content-Length: %d\r\n\r\n%s\n' $((${#body} + 1)) "$body"
} >"$T/le.req"
openssl s_client -connect "$EST" -tls1_2 -CAfile "$DATA/ca.pem" -verify_return_error -quiet \
	-ign_eof <"$T/le.req" >"$T/le.resp" 2>"$T/le.err" || fail "TLS 1.2 client: $(cat "$T/le.err")"
head -1 "$T/le.resp" | grep -q "200" || fail "TLS 1.2 Basic enrolment: $(head -5 "$T/le.resp")"
grep -qi '^content-length:' "$T/le.resp" || fail "no Content-Length"
sed '1,/^\r*$/d' "$T/le.resp" | openssl base64 -d | openssl pkcs7 -inform DER -print_certs |
	openssl x509 -noout -subject | grep -q "dev-libest" || fail "TLS 1.2 answer"
ok "TLS 1.2 + HTTP Basic in estclient's shape: 200 with Content-Length"
n=$(certs)

# ---- manufacturer identity (IDevID) ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/mfr.key" \
	-out "$T/mfr.pem" -subj "/O=Maker/CN=Maker IDevID CA" -days 30 \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
newkey idev
openssl req -new -key "$T/idev.key" -subj "/serialNumber=dev-idev1" -out "$T/idev.csr"
openssl x509 -req -in "$T/idev.csr" -CA "$T/mfr.pem" -CAkey "$T/mfr.key" -CAcreateserial \
	-days 30 -out "$T/idev.pem" 2>/dev/null
newkey ld
csr ld /CN=dev-idev1
e=$(ev_count client_cert_refused)
enroll simpleenroll ld --cert "$T/idev.pem" --key "$T/idev.key" >/dev/null
[ "$(certs)" = "$n" ] || fail "an IDevID of an unknown CA got a certificate"
expect_new_event client_cert_refused "$e"
ok "IDevID of an unknown manufacturer CA: refused in the handshake, event, nothing issued"
[ "$(admin POST /v1/manufacturer-cas "$(jq -nc --rawfile p "$T/mfr.pem" '{name: "maker", pem: $p}')" | tail -1)" = 201 ] ||
	fail "manufacturer CA add"
[ "$(enroll simpleenroll ld --cert "$T/idev.pem" --key "$T/idev.key")" = 200 ] ||
	fail "IDevID enrolment: $(cat "$T/body") $(cat "$T/curl.err")"
p7cert "$T/ld.pem"
openssl x509 -in "$T/ld.pem" -noout -subject | grep -q dev-idev1 || fail "IDevID cert subject"
[ "$(db "SELECT method FROM certs WHERE udid='dev-idev1'")" = manufacturer ] || fail "method"
n=$(certs)
ok "IDevID of an imported manufacturer CA: enrolled"
e=$(ev_count enrol_refused)
csr ldother /CN=dev-idev2 ld
refused "$(enroll simpleenroll ldother --cert "$T/idev.pem" --key "$T/idev.key")" 403 "$n" "$e" \
	"IDevID asking for another UDID"

# ---- group policy ----
[ "$(admin POST /v1/groups '{"name":"pwonly","est_auth":["password"]}' | tail -1)" = 201 ] ||
	fail "group create"
newkey g1
csr g1 /CN=dev-g1
allow dev-g1 g1 '{group: "pwonly"}' >/dev/null
e=$(ev_count enrol_refused)
challenged "$(enroll simpleenroll g1)" "$n" "$e" "allowlist enrolment in a password-only group"
out=$(admin POST /v1/enrolment-passwords '{"udid":"dev-g1","ttl_s":600}')
[ "$(enroll simpleenroll g1 -u "dev-g1:$(head -1 <<<"$out" | jq -r .password)")" = 200 ] ||
	fail "password enrolment in the password-only group: $(cat "$T/body")"
n=$(certs)
ok "the password-only group's device enrols with a password"

# ---- serverkeygen ----
out=$(admin POST /v1/enrolment-passwords '{"udid":"dev-skg","ttl_s":600}')
PW4=$(head -1 <<<"$out" | jq -r .password)
newkey skg
csr skg /CN=dev-skg
[ "$(enroll serverkeygen skg -u "dev-skg:$PW4")" = 200 ] || fail "serverkeygen: $(cat "$T/body")"
grep -qi '^Content-Type: multipart/mixed; boundary=' "$T/hdr" || fail "serverkeygen media type"
python3 - "$T/body" "$T" <<'EOF' || fail "serverkeygen parts"
import sys, email, base64
raw = open(sys.argv[1], 'rb').read()
msg = email.message_from_bytes(b'Content-Type: ' + open(sys.argv[2] + '/hdr', 'rb').read().split(b'ontent-Type: ', 2)[1].split(b'\r\n')[0] + b'\r\n\r\n' + raw)
parts = {p.get_content_type(): base64.b64decode(p.get_payload()) for p in msg.get_payload()}
open(sys.argv[2] + '/skg.p8', 'wb').write(parts['application/pkcs8'])
open(sys.argv[2] + '/skg.p7', 'wb').write(parts['application/pkcs7-mime'])
EOF
openssl pkcs7 -inform DER -in "$T/skg.p7" -print_certs >"$T/skg.pem"
cmp <(openssl x509 -in "$T/skg.pem" -pubkey -noout) <(openssl pkey -inform DER -in "$T/skg.p8" -pubout) ||
	fail "serverkeygen key does not match its certificate"
ok "serverkeygen: a PKCS#8 key and its certificate"
n=$(certs)

# ---- bad requests ----
e=$(ev_count enrol_refused)
[ "$(est /.well-known/est/simpleenroll -H 'Content-Type: text/plain' --data-binary @"$T/dev1.b64")" = 415 ] ||
	fail "content type"
[ "$(est /.well-known/est/somelabel/simpleenroll -X POST)" = 404 ] || fail "CA label"
[ "$(est /.well-known/est/cacerts -X DELETE)" = 405 ] || fail "method"
printf 'not base64 !!' >"$T/junk.b64"
refused "$(enroll simpleenroll junk)" 400 "$n" "$e" "a body that is not base64"
head -c 20000 /dev/zero | tr '\0' 'A' >"$T/big.b64"
[ "$(enroll simpleenroll big)" = 413 ] || fail "oversized body"
[ "$(certs)" = "$n" ] || fail "a bad request issued something"
ok "415, 404, 405, 400, 413 for bad requests"

# ---- revocation and blocking ----
out=$(admin POST "/v1/certs/$SERIAL2/revoke" '{"reason":"keyCompromise"}')
[ "$(echo "$out" | tail -1)" = 200 ] || fail "revoke: $out"
[ "$(est /crl)" = 200 ] || fail "GET /crl"
grep -qi '^Content-Type: application/pkix-crl' "$T/hdr" || fail "CRL media type"
openssl crl -inform DER -in "$T/body" -CAfile "$DATA/ca.pem" -noout -text >"$T/crl.txt" 2>&1 ||
	fail "CRL does not verify"
grep -q "$SERIAL2" "$T/crl.txt" || fail "revoked serial not in the CRL"
openssl crl -inform DER -in "$T/body" -out "$T/crl.pem"
out=$(openssl verify -crl_check -CAfile "$DATA/ca.pem" -CRLfile "$T/crl.pem" "$T/dev1b.pem" 2>&1 || true)
grep -q "revoked" <<<"$out" || fail "openssl verify does not see the revocation: $out"
e=$(ev_count client_cert_refused)
enroll simplereenroll dev1 --cert "$T/dev1b.pem" --key "$T/dev1.key" >/dev/null
[ "$(certs)" = "$n" ] || fail "a revoked certificate re-enrolled"
expect_new_event client_cert_refused "$e"
ok "revoked: in the CRL, refused at mutual TLS with an event"

out=$(admin POST /v1/devices/dev-pw1/block '{}')
[ "$(echo "$out" | tail -1)" = 200 ] || fail "device block: $out"
[ "$(db "SELECT revoked_at > 0 FROM certs WHERE udid='dev-pw1'")" = 1 ] || fail "block did not revoke"
out=$(admin POST /v1/enrolment-passwords '{"udid":"dev-pw1","ttl_s":600}')
PW5=$(head -1 <<<"$out" | jq -r .password)
e=$(ev_count enrol_refused)
refused "$(enroll simpleenroll pw1 -u "dev-pw1:$PW5")" 403 "$n" "$e" "a blocked device"
[ "$(est /crl)" = 200 ] && openssl crl -inform DER -in "$T/body" -noout -text |
	grep -q "$(db "SELECT serial FROM certs WHERE udid='dev-pw1'")" || fail "blocked device's cert not in the CRL"
ok "device block: its certificates revoked and in the CRL, enrolment refused"

grep -q "BEGIN.*PRIVATE" "$T/ztpd.log" && fail "a private key in the log"
pgrep -f "ztpd --data $DATA" >/dev/null || fail "ztpd died"
echo "all EST tests passed"
