#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The CA behind the EST endpoint, with the real parts (ztpd, its signer
# process, openssl, curl, strace, faketime):
#   1. the serving process never opens ca.key: only the signer does;
#   2. the signer killed: 202 with Retry-After and nothing recorded, then a
#      new signer and a certificate;
#   3. ztpd killed during enrolments (kill -9, and the fault points
#      est_before_record, est_after_record): every certificate a client
#      received is on record;
#   4. --import-ca of an intermediate with its chain, and its refusals;
#   5. expired certificates and the re-enrolment grace;
#   6. the CRL: signature, number, validity, revocations, re-signing in
#      the second half of its validity.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_est.sh"

CRL_VALIDITY=7200 # the main data directory's CRLs: from thisUpdate to nextUpdate
D=$T/dev          # device keys, CSRs, certificates
mkdir -p "$D"
# ztpd 3 days ago. faketime preloads its library ahead of ASan's runtime
# (sanitizer builds); CLOCK_MONOTONIC is left alone (uptime minus 3 days
# would be negative).
PAST=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	DONT_FAKE_MONOTONIC=1 faketime -f -3d)
# ztpd under strace (LeakSanitizer cannot run under ptrace)
TRACED=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	strace -f -qq -e trace=open,openat -o "$T/strace.log")

ncerts() { db "SELECT count(*) FROM certs"; }
has_cert() { [ "$(db "SELECT count(*) FROM certs WHERE serial='$1'")" = 1 ]; }
# gone PID: the process has exited (a zombie counts as gone)
gone() { ! ps -o stat= -p "$1" 2>/dev/null | grep -qv Z; }
wait_gone() {
	for _ in $(seq 1 100); do
		gone "$1" && return 0
		sleep 0.05
	done
	return 1
}
# crl_time DER lastupdate|nextupdate: that field in Unix seconds
crl_time() { date -d "$(openssl crl -inform DER -in "$1" -noout -"$2" | sed 's/^[a-zA-Z]*=//')" +%s; }
get_crl() { # get_crl OUT: GET /crl into OUT (DER)
	[ "$(EST_OUT=$1 est /crl)" = 200 ] || fail "GET /crl: $(cat "$1")"
	openssl crl -inform DER -in "$1" -noout || fail "/crl is not a DER CRL"
}

# ---- 1. only the signer opens ca.key (first start: the CA is created too)
est_start_under "${TRACED[@]}" -- --crl-validity "$CRL_VALIDITY"
main=$ZTPD_PID
signer=$(est_signer_pid)
front=$FRONT_PID
[ -n "$signer" ] && [ -n "$front" ] || fail "run.json names no signer or no front"
[ "$signer" != "$ZTPD_PID" ] && [ "$front" != "$ZTPD_PID" ] && [ "$signer" != "$front" ] ||
	fail "the signer, the front and the parent are not three processes"
for c in "$signer" "$front"; do
	[ "$(ps -o ppid= -p "$c" | tr -d ' ')" = "$ZTPD_PID" ] || fail "$c is not a child of ztpd $ZTPD_PID"
done
est_device dev1 "$D"
[ "$(est_enroll simpleenroll "$D/dev1.csr" "$D/dev1.pem")" = 200 ] || fail "enrolment under strace: $(cat "$EST_OUT")"
tasks=" $(ls /proc/"$front"/task | tr '\n' ' ') $main "
grep -Eq "^$front +open(at)?\(.*/ca\.pem\"" "$T/strace.log" ||
	fail "the trace does not show the front opening ca.pem: the check below would prove nothing"
grep -Eq "^$signer +open(at)?\(.*\"$DATA/ca\.key\", O_RDONLY" "$T/strace.log" ||
	fail "the signer $signer did not open ca.key"
for p in $(grep -E '^[0-9]+ +open(at)?\(.*ca\.(key|pass)' "$T/strace.log" | awk '{print $1}' | sort -u); do
	case "$tasks" in *" $p "*) fail "the front or the parent ($p) opened the CA key: $(grep "^$p .*ca\.key" "$T/strace.log")" ;; esac
done
est_stop
ok "ca.key and ca.pass are opened by the signer (pid $signer), never by the front ($front) or the parent ($main)"

# dev3 below enrols up to 30 times in a loop, then again at each fault point:
# far more than --est-certs-per-hour's default 10 an hour, so no limit
# (test_est_ratelimit.sh tests the limit)
NOLIMIT=(--est-certs-per-hour 0)
est_start --crl-validity "$CRL_VALIDITY" "${NOLIMIT[@]}"

# ---- 2. the signer killed (the parent held still, so that it cannot start a new one yet)
est_device dev2 "$D"
s1=$(est_signer_pid)
kill -STOP "$ZTPD_PID"
kill -KILL "$s1"
for _ in $(seq 1 100); do [ -d "/proc/$s1" ] && [ "$(ps -o stat= -p "$s1")" != Z ] || break; sleep 0.05; done
n=$(ncerts)
code=$(est_enroll simpleenroll "$D/dev2.csr" "$D/dev2.pem")
[ "$code" = 202 ] || { kill -CONT "$ZTPD_PID"; fail "enrolment with a dead signer: expected 202, got $code: $(cat "$EST_OUT")"; }
grep -Eiq '^Retry-After: *[0-9]+' "$EST_HDR" || { kill -CONT "$ZTPD_PID"; fail "202 without Retry-After: $(cat "$EST_HDR")"; }
[ ! -s "$D/dev2.pem" ] || { kill -CONT "$ZTPD_PID"; fail "a certificate came with the 202"; }
[ "$(ncerts)" = "$n" ] || { kill -CONT "$ZTPD_PID"; fail "a certificate was recorded with the signer dead"; }
kill -CONT "$ZTPD_PID"
wait_gone "$s1" || fail "the killed signer $s1 was not reaped"
for _ in $(seq 1 100); do
	s2=$(est_signer_pid)
	[ -n "$s2" ] && [ "$s2" != "$s1" ] && break
	sleep 0.05
done
[ -n "$s2" ] && [ "$s2" != "$s1" ] || fail "no new signer (old $s1, now '$s2')"
sleep 0.3
code=$(est_enroll simpleenroll "$D/dev2.csr" "$D/dev2.pem")
[ "$code" = 200 ] || fail "enrolment after the restart: expected 200, got $code: $(cat "$EST_OUT")"
has_cert "$(est_serial "$D/dev2.pem")" || fail "the certificate after the restart is not on record"
kill -0 "$ZTPD_PID" 2>/dev/null || fail "ztpd died with its signer"
grep -q "signer $s1 was killed by signal 9" "$T/ztpd.log" || fail "the parent did not log the signer's end"
ok "signer killed: 202 + Retry-After, nothing recorded; the parent started a new signer ($s2), and a certificate"

# ---- 3. ztpd killed during enrolments: what a client got is on record
est_device dev3 "$D"
L=$T/loop
mkdir -p "$L"
old_signer=$(est_signer_pid)
(
	for i in $(seq 1 30); do
		EST_OUT=$L/$i.b64 EST_HDR=$L/$i.hdr EST_ERR=$L/$i.err \
			est_enroll simpleenroll "$D/dev3.csr" "$L/$i.pem" >"$L/$i.code.tmp"
		mv "$L/$i.code.tmp" "$L/$i.code"
	done
) &
loop=$!
k=$((RANDOM % 20 + 5)) # kill while the k-th enrolment is under way
for _ in $(seq 1 600); do
	[ -e "$L/$k.code.tmp" ] || [ -e "$L/$k.code" ] && break
	sleep 0.01
done
kill_ztpd_hard
wait "$loop"
est_wait_dead
got=0
refused=0
for i in $(seq 1 30); do
	case "$(cat "$L/$i.code")" in
	200)
		got=$((got + 1))
		s=$(est_serial "$L/$i.pem")
		has_cert "$s" || fail "enrolment $i: the client received certificate $s, which is not on record"
		;;
	000) refused=$((refused + 1)) ;;
	*) fail "enrolment $i: unexpected status $(cat "$L/$i.code"): $(cat "$L/$i.b64")" ;;
	esac
done
[ "$got" -ge 3 ] && [ "$refused" -ge 1 ] || fail "the kill was not mid-loop: $got certificates, $refused failures"
wait_gone "$old_signer" || fail "the signer $old_signer outlived ztpd killed with -9"
ok "kill -9 of ztpd (all three processes) at enrolment $k of 30: all $got delivered certificates are on record; the signer exited"

for fault in est_before_record est_after_record; do
	ZTPD=$ZTPD_FAULT est_start_under env ZTP_FAULT=$fault -- --crl-validity "$CRL_VALIDITY" "${NOLIMIT[@]}"
	n=$(ncerts)
	rm -f "$D/dev3.pem"
	code=$(est_enroll simpleenroll "$D/dev3.csr" "$D/dev3.pem")
	[ "$code" = 000 ] && [ ! -s "$D/dev3.pem" ] ||
		fail "$fault: the client got an answer ($code) from a ztpd that should have died"
	est_wait_dead
	case $fault in
	est_before_record) [ "$(ncerts)" = "$n" ] || fail "$fault: a certificate was recorded" ;;
	est_after_record)
		[ "$(ncerts)" = $((n + 1)) ] || fail "$fault: the issued certificate is not on record"
		[ "$(db "SELECT udid FROM certs ORDER BY issued_at DESC LIMIT 1")" = dev3 ] ||
			fail "$fault: the newest record is not dev3's"
		;;
	esac
	est_start --crl-validity "$CRL_VALIDITY" "${NOLIMIT[@]}"
	[ "$(est_enroll simpleenroll "$D/dev3.csr" "$D/dev3.pem")" = 200 ] || fail "$fault: no enrolment after the restart"
	has_cert "$(est_serial "$D/dev3.pem")" || fail "$fault: the certificate after the restart is not on record"
	est_stop
	ok "the front killed at $fault: the client got nothing, $( [ $fault = est_before_record ] && echo 'no record' || echo 'the record is kept'); it serves again after a restart"
done
est_start --crl-validity "$CRL_VALIDITY"

# ---- 6. the CRL (main data directory, --crl-validity 7200)
get_crl "$T/crl1.der"
openssl crl -inform DER -in "$T/crl1.der" -CAfile "$DATA/ca.pem" -noout -verify 2>&1 | grep -q 'verify OK' ||
	fail "/crl is not signed by the CA"
n1=$(est_crl_number "$T/crl1.der")
[ "$n1" -ge 1 ] || fail "no CRL number"
[ $(($(crl_time "$T/crl1.der" nextupdate) - $(crl_time "$T/crl1.der" lastupdate))) = "$CRL_VALIDITY" ] ||
	fail "nextUpdate is not thisUpdate + $CRL_VALIDITY"
ok "/crl: DER, signed by the CA, CRL number $n1, nextUpdate = thisUpdate + --crl-validity"

est_device dev6 "$D"
[ "$(est_enroll simpleenroll "$D/dev6.csr" "$D/dev6.pem")" = 200 ] || fail "dev6 enrolment"
[ "$(est /.well-known/est/cacerts --cert "$D/dev6.pem" --key "$D/dev6.key")" = 200 ] ||
	fail "mutual TLS with a valid certificate refused: $(cat "$EST_ERR")"
s6=$(est_serial "$D/dev6.pem")
est_revoke "$s6"
[ "$(db "SELECT reason FROM certs WHERE serial='$s6' AND revoked_at > 0")" = 1 ] ||
	fail "the revocation (keyCompromise) is not on record"
get_crl "$T/crl2.der"
n2=$(est_crl_number "$T/crl2.der")
[ "$n2" -gt "$n1" ] || fail "the CRL number did not rise after a revocation ($n1, then $n2)"
openssl crl -inform DER -in "$T/crl2.der" -noout -text | grep -A4 "Serial Number: $s6" | grep -q "Key Compromise" ||
	fail "the revoked serial $s6 is not on the CRL as keyCompromise"
openssl crl -inform DER -in "$T/crl2.der" -out "$T/crl2.pem"
out=$(openssl verify -crl_check -CAfile "$DATA/ca.pem" -CRLfile "$T/crl2.pem" "$D/dev6.pem" 2>&1) &&
	fail "openssl verify -crl_check accepts the revoked certificate: $out"
grep -q "certificate revoked" <<<"$out" || fail "openssl verify: $out"
openssl verify -crl_check -CAfile "$DATA/ca.pem" -CRLfile "$T/crl2.pem" "$D/dev3.pem" >/dev/null ||
	fail "openssl verify -crl_check refuses a certificate that is not revoked"
nref=$(ev_count client_cert_refused)
code=$(est /.well-known/est/cacerts --cert "$D/dev6.pem" --key "$D/dev6.key")
[ "$code" = 000 ] || fail "mutual TLS with a revoked certificate: expected a refused handshake, got $code"
expect_new_event client_cert_refused "$nref"
ok "revocation: CRL number $n1 -> $n2, the serial listed, openssl verify -crl_check says revoked, mutual TLS refused (event)"
est_stop

# ---- 4. --import-ca: an intermediate with its chain
P=$T/pki
mkdir -p "$P"
cat >"$P/openssl.cnf" <<'CNF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
for k in root int leaf old; do est_key "$P/$k.key"; done
openssl req -x509 -new -config "$P/openssl.cnf" -extensions ca -key "$P/root.key" \
	-subj "/O=ztp test/CN=Test Root CA" -days 3650 -out "$P/root.pem"
sign() { # sign NAME SUBJECT EXTENSIONS DAYS: NAME.pem for NAME.key, issued by the root
	openssl req -new -config "$P/openssl.cnf" -key "$P/$1.key" -subj "$2" -out "$P/$1.csr"
	openssl x509 -req -in "$P/$1.csr" -CA "$P/root.pem" -CAkey "$P/root.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days "$4" -extfile "$P/openssl.cnf" -extensions "$3" \
		-out "$P/$1.pem" 2>/dev/null
}
sign int "/O=ztp test/CN=Test Issuing CA" ca 1825
sign leaf "/O=ztp test/CN=not a CA" leaf 365
cat "$P/int.pem" "$P/root.pem" >"$P/chain.pem"
faketime -f -10d openssl req -x509 -new -config "$P/openssl.cnf" -extensions ca -key "$P/old.key" \
	-subj "/O=ztp test/CN=Expired CA" -days 2 -out "$P/old.pem"
openssl x509 -in "$P/old.pem" -noout -checkend 0 >/dev/null && fail "the expired test CA has not expired"

refuse_import() { # refuse_import WHAT DIR CERT KEY LOG-PATTERN
	local rc=0
	"$ZTPD" --data "$2" --import-ca "$3" "$4" >"$T/import.log" 2>&1 || rc=$?
	[ "$rc" != 0 ] || fail "--import-ca of $1 succeeded"
	grep -Eiq "$5" "$T/import.log" || fail "--import-ca of $1: no log line with '$5': $(cat "$T/import.log")"
}
for bad in "another CA's key|$P/chain.pem|$P/root.key|does not match" \
	"an end-entity certificate|$P/leaf.pem|$P/leaf.key|not a CA" \
	"an expired CA|$P/old.pem|$P/old.key|expired"; do
	IFS='|' read -r what cert key pat <<<"$bad"
	dir=$T/imp-refused-$RANDOM
	refuse_import "$what" "$dir" "$cert" "$key" "$pat"
	[ ! -e "$dir/ca.key" ] && [ ! -e "$dir/ca.pem" ] || fail "--import-ca of $what wrote the CA"
	ls -A "$dir" | grep -q '^\.ca\.' && fail "--import-ca of $what left a temporary file"
done
ok "--import-ca refuses another CA's key, an end-entity certificate, an expired CA (non-zero, log line, no ca.key)"

DATA=$T/data-imported
"$ZTPD" --data "$DATA" --import-ca "$P/chain.pem" "$P/int.key" >>"$T/ztpd.log" 2>&1 || fail "--import-ca of the intermediate failed"
[ "$(stat -c %a "$DATA/ca.key")" = 600 ] || fail "the imported ca.key is not mode 0600"
grep -q 'ENCRYPTED' "$DATA/ca.key" || fail "the imported ca.key is not encrypted"
sum=$(sha256sum <"$DATA/ca.key")
refuse_import "a second CA" "$DATA" "$P/chain.pem" "$P/int.key" "CA already"
[ "$(sha256sum <"$DATA/ca.key")" = "$sum" ] || fail "a refused import changed ca.key"
ok "--import-ca of the intermediate with its chain; a second import into the directory is refused"

est_start --crl-validity "$CRL_VALIDITY"
[ "$(EST_CA=$P/root.pem est /.well-known/est/cacerts)" = 200 ] ||
	fail "cacerts over TLS trusting only the root: $(cat "$EST_ERR")"
est_p7_pem "$EST_OUT" "$T/cacerts.pem"
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256; }
got=$(awk '/BEGIN/{n++} {print > "'"$T"'/cacert" n ".pem"}' "$T/cacerts.pem"; grep -c BEGIN "$T/cacerts.pem")
[ "$got" = 2 ] || fail "cacerts returned $got certificates, not 2"
[ "$(fp "$T/cacert1.pem")" = "$(fp "$P/int.pem")" ] && [ "$(fp "$T/cacert2.pem")" = "$(fp "$P/root.pem")" ] ||
	fail "cacerts is not the intermediate then the root"
[ "$(openssl x509 -in "$DATA/server.pem" -noout -issuer)" = "issuer=$(openssl x509 -in "$P/int.pem" -noout -subject | sed 's/^subject=//')" ] ||
	fail "server.pem is not issued by the intermediate: $(openssl x509 -in "$DATA/server.pem" -noout -issuer)"
openssl verify -CAfile "$P/root.pem" -untrusted "$P/int.pem" "$DATA/server.pem" >/dev/null ||
	fail "server.pem does not verify up to the root"
est_device dev4 "$D"
code=$(EST_CA=$P/root.pem est_enroll simpleenroll "$D/dev4.csr" "$D/dev4.pem")
[ "$code" = 200 ] || fail "enrolment under the imported CA: $code $(cat "$EST_OUT" "$EST_ERR")"
openssl verify -CAfile "$P/root.pem" -untrusted "$P/int.pem" "$D/dev4.pem" >/dev/null ||
	fail "the enrolled certificate does not verify up to the root"
code=$(EST_CA=$P/root.pem est_enroll simplereenroll "$D/dev4.csr" "$D/dev4b.pem" --cert "$D/dev4.pem" --key "$D/dev4.key")
[ "$code" = 200 ] || fail "re-enrolment (mutual TLS) under the imported CA: $code $(cat "$EST_OUT" "$EST_ERR")"
get_crl "$T/crl-imp.der"
openssl crl -inform DER -in "$T/crl-imp.der" -CAfile "$P/chain.pem" -noout -verify 2>&1 | grep -q 'verify OK' ||
	fail "the CRL is not signed by the imported intermediate"
ok "imported intermediate: cacerts = intermediate + root, server.pem and device certificates verify to the root, TLS with --cacert root.pem"
est_stop

# a CA with less than 30 days left: ztpd still starts (the server
# certificate ends with the CA and is kept, with a warning)
est_key "$P/short.key"
sign short "/O=ztp test/CN=Short-lived CA" ca 20
cat "$P/short.pem" "$P/root.pem" >"$P/short-chain.pem"
DATA=$T/data-short
"$ZTPD" --data "$DATA" --import-ca "$P/short-chain.pem" "$P/short.key" >>"$T/ztpd.log" 2>&1 ||
	fail "--import-ca of a CA with 20 days left failed"
est_start
[ "$(EST_CA=$P/root.pem est /.well-known/est/cacerts)" = 200 ] || fail "a CA with 20 days left: no EST"
est_stop
ok "a CA with 20 days left is imported and serves"

# ---- 5. expiry and the re-enrolment grace; 6b. the CRL re-signed in its second half
DATA=$T/data-past
est_start_under "${PAST[@]}" -- --cert-days 1 --crl-validity 345600
est_device dev5 "$D"
[ "$(est_enroll simpleenroll "$D/dev5.csr" "$D/dev5.pem")" = 200 ] || fail "enrolment 3 days ago: $(cat "$EST_OUT")"
na=$(date -d "$(openssl x509 -in "$D/dev5.pem" -noout -enddate | sed 's/^notAfter=//')" +%s)
now=$(date +%s)
[ "$na" -gt $((now - 3 * 86400 + 600)) ] && [ "$na" -lt $((now - 86400 - 600)) ] ||
	fail "the certificate of 3 days ago did not expire about 2 days ago: notAfter $na, now $now"
get_crl "$T/crl-past.der"
np=$(est_crl_number "$T/crl-past.der")
est_stop

est_start --reenroll-grace 259200 --crl-validity 345600
get_crl "$T/crl-now.der"
nn=$(est_crl_number "$T/crl-now.der")
[ "$nn" -gt "$np" ] || fail "the CRL in its second half was not re-signed at start (number $np, then $nn)"
t=$(crl_time "$T/crl-now.der" lastupdate)
[ $(($(date +%s) - t)) -lt 120 ] || fail "the re-signed CRL's thisUpdate is not now: $t"
ok "a CRL in the second half of its validity is re-signed at start (number $np -> $nn)"

code=$(est_enroll simpleenroll "$D/dev5.csr" "$D/x.pem" --cert "$D/dev5.pem" --key "$D/dev5.key")
[ "$code" = 403 ] || fail "simpleenroll with an expired certificate (within grace): expected 403, got $code"
code=$(est_enroll simplereenroll "$D/dev5.csr" "$D/dev5b.pem" --cert "$D/dev5.pem" --key "$D/dev5.key")
[ "$code" = 200 ] || fail "simplereenroll within the grace: expected 200, got $code: $(cat "$EST_OUT" "$EST_ERR")"
openssl verify -CAfile "$DATA/ca.pem" "$D/dev5b.pem" >/dev/null || fail "the re-enrolled certificate is not valid now"
[ "$(openssl x509 -in "$D/dev5b.pem" -noout -subject)" = "subject=CN = dev5, serialNumber = dev5" ] ||
	fail "re-enrolled subject: $(openssl x509 -in "$D/dev5b.pem" -noout -subject)"
[ "$(db "SELECT method FROM certs WHERE serial='$(est_serial "$D/dev5b.pem")'")" = reenroll ] ||
	fail "the re-enrolled certificate is not on record as a re-enrolment"
ok "expired 2 days ago, grace 3 days: simplereenroll 200 (a certificate valid now), simpleenroll 403"
est_stop

est_start --reenroll-grace 86400 --crl-validity 345600
nref=$(ev_count client_cert_refused)
code=$(est_enroll simplereenroll "$D/dev5.csr" "$D/x.pem" --cert "$D/dev5.pem" --key "$D/dev5.key")
[ "$code" = 000 ] || fail "expired past the grace: expected a refused handshake, got $code"
expect_new_event client_cert_refused "$nref"
db "SELECT detail FROM events WHERE kind='client_cert_refused'" | grep -q "$(est_serial "$D/dev5.pem")" ||
	fail "the refusal event does not name the certificate"
code=$(est_enroll simplereenroll "$D/dev5.csr" "$D/dev5c.pem" --cert "$D/dev5b.pem" --key "$D/dev5.key")
[ "$code" = 200 ] || fail "the current certificate is refused too: $code"
ok "expired 2 days ago, grace 1 day: the handshake is refused (client_cert_refused); the current certificate works"
est_stop

left=$(pgrep -f -- "--data $T/" || true)
[ -z "$left" ] || fail "ztpd processes of this test are left running: $left"
! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/ztpd.log" ||
	fail "sanitizer report: $(grep -E -m3 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/ztpd.log")"
echo "est_ca: all checks passed"
