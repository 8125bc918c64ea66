#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# EST serverkeygen (RFC 7030 §4.4) with curl and openssl as the client:
#   - the key made is of the CSR key's kind: RSA 3072 -> RSA 3072, P-384 ->
#     P-384, P-256 -> P-256, and it is the key of the certificate returned;
#   - a CSR with a key serverkeygen does not make (Ed25519, RSA 1024): 400
#     saying why, an enrol_refused event, no certificate, and the one-time
#     password not used up (the same password with a good CSR enrols);
#   - a key being made does not stall the worker: with one worker and the
#     key held (ZTP_FAULT_KEYGEN_GATE, a FIFO), other requests are answered,
#     an enrolment included; more than two keys at a time get 202 with
#     Retry-After and spend nothing; a client that gives up while its key is
#     made gets nothing issued and keeps its password.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_est.sh"

K=$T/k
mkdir -p "$K"

# key NAME ALG: a private key K/NAME.key (p256, p384, rsa1024, rsa3072, rsa4096, ed25519)
key() {
	case $2 in
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$K/$1.key" ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$K/$1.key" ;;
	rsa*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa}" -out "$K/$1.key" ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$K/$1.key" ;;
	esac 2>/dev/null || fail "key $1 $2"
}

# csr UDID ALG: a key of ALG and a DER CSR for UDID, K/UDID.csr
csr() {
	key "$1" "$2"
	est_csr "$K/$1.key" "$1" "$K/$1.csr"
}

# keygen UDID [curl options...]: POST K/UDID.csr to serverkeygen; prints
# the status. On 200, K/UDID.p8 is the key (DER PKCS#8), K/UDID.pem the
# certificate.
keygen() {
	local u=$1 code
	shift
	openssl base64 -in "$K/$u.csr" -out "$K/$u.b64"
	code=$(est /.well-known/est/serverkeygen -H 'Content-Type: application/pkcs10' \
		--data-binary "@$K/$u.b64" "$@")
	if [ "$code" = 200 ]; then
		keygen_parts "$EST_OUT" "$EST_HDR" "$K/$u" || code=bad
	fi
	echo "$code"
}

# keygen_parts BODY HEADERS OUT: the parts of a multipart/mixed answer:
# OUT.p8 (application/pkcs8) and OUT.pem (the certificate of the PKCS#7)
keygen_parts() {
	python3 - "$1" "$2" "$3" <<'EOF' || return 1
import sys, email, base64
body, hdr, out = sys.argv[1:4]
ctype = [l.split(b':', 1)[1].strip() for l in open(hdr, 'rb').read().split(b'\r\n')
         if l.lower().startswith(b'content-type:')][0]
msg = email.message_from_bytes(b'Content-Type: ' + ctype + b'\r\n\r\n' + open(body, 'rb').read())
parts = {p.get_content_type(): base64.b64decode(p.get_payload()) for p in msg.get_payload()}
open(out + '.p8', 'wb').write(parts['application/pkcs8'])
open(out + '.p7', 'wb').write(parts['application/pkcs7-mime'])
EOF
	openssl pkcs7 -inform DER -in "$3.p7" -print_certs -out "$3.pem"
}

# check_key UDID WHAT: K/UDID.p8 is WHAT ("RSA 3072", "EC P-384", ...) and
# the key of the certificate K/UDID.pem, which our CA issued to UDID
check_key() {
	local u=$1 want=$2 text
	text=$(openssl pkey -inform DER -in "$K/$u.p8" -noout -text 2>&1) || fail "$u: the key does not read: $text"
	case $want in
	"RSA "*)
		# no pipes into grep -q: under pipefail an early exit is a SIGPIPE, a failure
		[[ "${text%%$'\n'*}" == *"Private-Key: (${want#RSA } bit, 2 primes)"* ]] ||
			fail "$u: want $want, the key is: ${text%%$'\n'*}"
		openssl x509 -in "$K/$u.pem" -noout -ext keyUsage | grep -q "Key Encipherment" ||
			fail "$u: an RSA key's certificate without keyEncipherment"
		;;
	"EC "*)
		grep -q "NIST CURVE: ${want#EC }" <<<"$text" ||
			fail "$u: want $want, the key is: $(grep -m1 -i curve <<<"$text")"
		openssl x509 -in "$K/$u.pem" -noout -ext keyUsage | grep -q "Key Encipherment" &&
			fail "$u: an EC key's certificate with keyEncipherment"
		;;
	esac
	cmp -s <(openssl x509 -in "$K/$u.pem" -pubkey -noout) \
		<(openssl pkey -inform DER -in "$K/$u.p8" -pubout) ||
		fail "$u: the key returned is not the certificate's"
	openssl verify -CAfile "$DATA/ca.pem" "$K/$u.pem" >/dev/null || fail "$u: the certificate does not verify"
	openssl x509 -in "$K/$u.pem" -noout -subject | grep -q "CN = $u" || fail "$u: the certificate's subject"
	[ "$(db "SELECT method FROM certs WHERE udid='$u'")" = serverkeygen ] || fail "$u: the record"
	# the key the CSR carried is not the key certified
	cmp -s <(openssl x509 -in "$K/$u.pem" -pubkey -noout) <(openssl pkey -in "$K/$u.key" -pubout) &&
		fail "$u: the certificate is for the CSR's key"
	grep -q "BEGIN.*PRIVATE\|$(head -c 40 "$K/$u.p8" | openssl base64 -A | head -c 40)" "$T/ztpd.log" &&
		fail "$u: the key is in the log"
	return 0
}

# ---- the key of the CSR's kind ----
est_start
for spec in "dev-rsa3072 rsa3072 RSA 3072" "dev-p384 p384 EC P-384" "dev-p256 p256 EC P-256" \
	"dev-rsa2048 rsa2048 RSA 2048"; do
	set -- $spec
	csr "$1" "$2"
	e=$(ev_count cert_issued)
	code=$(keygen "$1" -u "$1:$(est_password "$1")")
	[ "$code" = 200 ] || fail "$1: serverkeygen: $code $(cat "$EST_OUT")"
	grep -qi '^Cache-Control: no-store' "$EST_HDR" || fail "$1: the answer may be cached"
	check_key "$1" "$3 $4"
	expect_new_event cert_issued "$e"
	ok "serverkeygen, CSR key $2: made a $3 $4 key, the certificate's, verified, recorded"
done

# ---- keys serverkeygen does not make: 400, event, nothing spent ----
for spec in "dev-ed ed25519 Ed25519" "dev-r1k rsa1024 RSA.*2048"; do
	set -- $spec
	csr "$1" "$2"
	pw=$(est_password "$1")
	n=$(est_ncerts "$1")
	e=$(ev_count enrol_refused)
	code=$(keygen "$1" -u "$1:$pw")
	[ "$code" = 400 ] || fail "$1: a CSR with an $2 key: $code, want 400 ($(cat "$EST_OUT"))"
	grep -q "$3" "$EST_OUT" || fail "$1: the answer does not say why: $(cat "$EST_OUT")"
	expect_new_event enrol_refused "$e"
	[ "$(est_ncerts "$1")" = "$n" ] || fail "$1: a certificate was recorded"
	[ "$(db "SELECT count(*) FROM enrol_passwords WHERE udid='$1' AND used_at = 0")" = 1 ] ||
		fail "$1: the password was used up"
	ok "serverkeygen, CSR key $2: 400 ($(head -c 120 "$EST_OUT" | tr -d '\n')), event, nothing issued"
	# the password was not spent: with a good CSR it enrols
	est_csr "$(key "$1" p256; echo "$K/$1.key")" "$1" "$K/$1.csr"
	code=$(keygen "$1" -u "$1:$pw")
	[ "$code" = 200 ] || fail "$1: the same password with a P-256 CSR: $code $(cat "$EST_OUT")"
	check_key "$1" "EC P-256"
	[ "$(est_ncerts "$1")" = $((n + 1)) ] || fail "$1: not one certificate"
	ok "the same password with a P-256 CSR afterwards: 200"
done

# ---- a key being made does not stall the worker ----
# ZTP_FAULT_KEYGEN_GATE: each key, once made, waits until the FIFO is opened
# for writing and closed; without the FIFO, keys do not wait. The request
# time-out is long: the keys are held while other requests are checked.
GATE=$T/gate
ZTPD=$ZTPD_FAULT est_start_under env ZTP_FAULT_KEYGEN_GATE="$GATE" -- --workers 1 --log-level debug \
	--request-timeout 600

# held UDID: wait until UDID's key is made and held at the gate
held() {
	for _ in $(seq 1 1200); do
		grep -q "the key for $1 is made, held at" "$T/ztpd.log" && return 0
		sleep 0.05
	done
	fail "the key of $1 was never held"
}
# release: every key held goes on (the FIFO opened for writing and closed),
# and later keys are not held (no FIFO)
release() {
	: >"$GATE"
	rm -f "$GATE"
}

# bg_keygen UDID: serverkeygen for UDID with a new password, in the
# background (BG_PID): its status to K/UDID.code, its answer to K/UDID.body/.hdr
bg_keygen() {
	local u=$1 pw
	pw=$(est_password "$u")
	echo "$pw" >"$K/$u.pw"
	openssl base64 -in "$K/$u.csr" -out "$K/$u.b64"
	curl -sS --max-time 600 --cacert "$DATA/ca.pem" -o "$K/$u.body" -D "$K/$u.hdr" \
		-w '%{http_code}' -H 'Content-Type: application/pkcs10' --data-binary "@$K/$u.b64" \
		-u "$u:$pw" "https://127.0.0.1:$EST_PORT/.well-known/est/serverkeygen" \
		>"$K/$u.code" 2>"$K/$u.err" &
	BG_PID=$!
}

mkfifo "$GATE"
csr dev-held1 rsa4096
bg_keygen dev-held1
held1=$BG_PID
held dev-held1
# the key is held: the worker's loop serves others meanwhile
[ "$(est /.well-known/est/cacerts)" = 200 ] || fail "cacerts while a key is made: $(cat "$EST_ERR")"
est_device dev-other "$K"
[ "$(est_enroll simpleenroll "$K/dev-other.csr" "$K/dev-other.pem")" = 200 ] ||
	fail "an enrolment while a key is made: $(cat "$EST_OUT")"
kill -0 "$held1" 2>/dev/null || fail "the serverkeygen answered while its key was held: $(cat "$K/dev-held1.code")"
ok "one worker making an RSA 4096 key still answers cacerts and enrols another device"

# two keys at a time per worker: a third is told to come back, and spends nothing
csr dev-held2 p256
bg_keygen dev-held2
held2=$BG_PID
held dev-held2
csr dev-third p384
pw3=$(est_password dev-third)
e=$(ev_count enrol_refused)
[ "$(keygen dev-third -u "dev-third:$pw3")" = 202 ] || fail "a third key at a time: $(cat "$EST_OUT")"
grep -qi '^Retry-After: [0-9]' "$EST_HDR" || fail "202 without Retry-After"
[ "$(est_ncerts dev-third)" = 0 ] || fail "the third got a certificate"
[ "$(ev_count enrol_refused)" = "$e" ] || fail "202 recorded as a refusal"
ok "a third key while two are made: 202 with Retry-After, nothing issued"

release
wait "$held1" || fail "dev-held1: curl: $(cat "$K/dev-held1.err")"
wait "$held2" || fail "dev-held2: curl: $(cat "$K/dev-held2.err")"
for u in dev-held1:"RSA 4096" dev-held2:"EC P-256"; do
	[ "$(cat "$K/${u%%:*}.code")" = 200 ] || fail "${u%%:*}: $(cat "$K/${u%%:*}.code") $(cat "$K/${u%%:*}.body")"
	keygen_parts "$K/${u%%:*}.body" "$K/${u%%:*}.hdr" "$K/${u%%:*}" || fail "${u%%:*}: the answer"
	check_key "${u%%:*}" "${u#*:}"
done
ok "once released, both keys held are answered: an RSA 4096 and a P-256 key"

# the third comes back with the same password
[ "$(keygen dev-third -u "dev-third:$pw3")" = 200 ] || fail "dev-third again: $(cat "$EST_OUT")"
check_key dev-third "EC P-384"
ok "the third, back with the same password: 200"

# a client that gives up while its key is made: nothing issued, password kept
mkfifo "$GATE"
csr dev-gone p256
bg_keygen dev-gone
held dev-gone
kill "$BG_PID" 2>/dev/null || fail "the client of dev-gone was answered while its key was held"
wait "$BG_PID" 2>/dev/null || true
release
for _ in $(seq 1 1200); do
	grep -q "while the key of dev-gone was made: nothing issued" "$T/ztpd.log" && break
	sleep 0.05
done
grep -q "the client closed the connection while the key of dev-gone was made: nothing issued" \
	"$T/ztpd.log" || fail "no log line for the client that went away"
[ "$(est_ncerts dev-gone)" = 0 ] || fail "a certificate for a client that went away"
[ "$(keygen dev-gone -u "dev-gone:$(cat "$K/dev-gone.pw")")" = 200 ] ||
	fail "the password of the client that went away: $(cat "$EST_OUT")"
check_key dev-gone "EC P-256"
ok "a client gone while its key was made: nothing issued, its password enrols afterwards"

kill -0 "$ZTPD_PID" 2>/dev/null || fail "ztpd died"
est_stop
echo "all serverkeygen tests passed"
