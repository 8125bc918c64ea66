#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The per-device issuance limit (--est-certs-per-hour), as an attacker who
# captured an allowlisted device's CSR would meet it, with curl and openssl
# as the clients:
#   - with --est-certs-per-hour 3, the replayed CSR gets 3 certificates, the
#     4th request 429 with a Retry-After that matches the oldest
#     certificate's age, an enrol_refused event with the limit and the
#     count; the store keeps 3 certificates and the signer was asked 3 times;
#   - re-enrolment with the device's certificate is limited too, another
#     device still enrols;
#   - certificates of every method count together (password, simplereenroll,
#     serverkeygen); a refused request does not spend its one-time password,
#     which works once the limit allows (a restart with a higher one);
#   - concurrent requests on two workers never get past the limit;
#   - 0 is no limit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_est.sh"

K=$T/k
mkdir -p "$K"

# signed UDID: how many certificates the signer issued for UDID (its log)
signed() { grep -c "signer: issued serial [0-9A-F]*, CN \"$1\"" "$T/ztpd.log" || true; }
# retry_after: the Retry-After of the last answer ("" if none)
retry_after() { sed -n 's/^[Rr]etry-[Aa]fter: *\([^[:space:]]*\).*/\1/p' "$EST_HDR" | tr -d '\r'; }
# last_refusal UDID: the detail of the newest enrol_refused event about UDID
last_refusal() { ev_settle; db "SELECT detail FROM events WHERE kind='enrol_refused' AND detail LIKE '$1:%' ORDER BY id DESC LIMIT 1"; }
# limited WHAT UDID STATUS T0 T1 COUNT MAX: the answer was 429 with a
# Retry-After consistent with UDID's certificates (the server's clock was
# somewhere in [T0, T1] ms when it answered), no certificate in it, and an
# event naming the limit and the count
limited() {
	local what=$1 udid=$2 st=$3 t0=$4 t1=$5 count=$6 max=$7 ra free detail
	[ "$st" = 429 ] || fail "$what: status $st, want 429 ($(head -c 200 "$EST_OUT"))"
	ra=$(retry_after)
	[[ "$ra" =~ ^[0-9]+$ ]] && [ "$ra" -ge 1 ] && [ "$ra" -le 3600 ] ||
		fail "$what: Retry-After '$ra', want 1 to 3600 s"
	# the certificate whose leaving the window frees a place: the (count-max+1)-th oldest
	free=$(db "SELECT issued_at FROM certs WHERE udid='$udid' ORDER BY issued_at LIMIT 1 OFFSET $((count - max))")
	# Retry-After = ceil((free + 1 h - now) / 1 s) for some now in [t0, t1]
	[ $((free + 3600000 - ra * 1000)) -le "$t1" ] && [ $((free + 3600000 - (ra - 1) * 1000)) -gt "$t0" ] ||
		fail "$what: Retry-After $ra s does not match the certificate issued at $free ms (asked between $t0 and $t1)"
	grep -q "BEGIN\|MII" "$EST_OUT" && fail "$what: the answer holds a certificate"
	detail=$(last_refusal "$udid")
	[[ "$detail" == *"$count certificates issued in the last hour, the limit is $max"* ]] ||
		fail "$what: enrol_refused event without the limit and the count: '$detail'"
	ok "$what: 429, Retry-After $ra s, event '$detail'"
}
now_ms() { date +%s%3N; }

# ---- 1. a captured CSR replayed, limit 3 ----
est_start --est-certs-per-hour 3
est_device dev-r1 "$K"
est_device dev-r2 "$K"
issued0=$(ev_count cert_issued)
refused0=$(ev_count enrol_refused)
for i in 1 2 3; do
	st=$(est_enroll simpleenroll "$K/dev-r1.csr" "$T/r1-$i.pem")
	[ "$st" = 200 ] || fail "replay $i: status $st ($(cat "$EST_OUT"))"
done
ok "the same CSR replayed 3 times, no credential: 200 200 200"
t0=$(now_ms)
st=$(est_enroll simpleenroll "$K/dev-r1.csr" "$T/r1-4.pem")
t1=$(now_ms)
limited "4th replay (simpleenroll, allowlist)" dev-r1 "$st" "$t0" "$t1" 3 3
[[ "$(last_refusal dev-r1)" == *"nothing signed"* ]] || fail "the event does not say nothing was signed"
n=$(est_ncerts dev-r1)
[ "$n" = 3 ] || fail "dev-r1 has $n certificates on record, want 3"
[ "$(signed dev-r1)" = 3 ] || fail "the signer issued $(signed dev-r1) certificates for dev-r1, want 3"
[ "$(($(ev_count cert_issued) - issued0))" = 3 ] || fail "cert_issued events: $(($(ev_count cert_issued) - issued0)), want 3"
[ "$(($(ev_count enrol_refused) - refused0))" = 1 ] || fail "enrol_refused events: $(($(ev_count enrol_refused) - refused0)), want 1"
ok "dev-r1: certs on record $n, signer issued $(signed dev-r1), cert_issued +3, enrol_refused +1"

# re-enrolment with the device's own certificate: limited too
t0=$(now_ms)
st=$(est_enroll simplereenroll "$K/dev-r1.csr" "$T/r1-re.pem" --cert "$T/r1-1.pem" --key "$K/dev-r1.key")
t1=$(now_ms)
limited "simplereenroll with its certificate" dev-r1 "$st" "$t0" "$t1" 3 3
[ "$(est_ncerts dev-r1)" = 3 ] && [ "$(signed dev-r1)" = 3 ] || fail "dev-r1 got a certificate by re-enrolment"

# another device is not held back
st=$(est_enroll simpleenroll "$K/dev-r2.csr" "$T/r2-1.pem")
[ "$st" = 200 ] || fail "dev-r2: status $st ($(cat "$EST_OUT"))"
ok "another allowlisted device enrols meanwhile: $st (dev-r2 certs $(est_ncerts dev-r2))"

# ---- 2. every method counts; a refused request keeps its password ----
# dev-p is not allowlisted: a password, then its certificate
est_key "$K/dev-p.key"
est_csr "$K/dev-p.key" dev-p "$K/dev-p.csr"
pw1=$(est_password dev-p)
st=$(est_enroll simpleenroll "$K/dev-p.csr" "$T/p-1.pem" -u "dev-p:$pw1")
[ "$st" = 200 ] || fail "dev-p password enrolment: status $st ($(cat "$EST_OUT"))"
st=$(est_enroll simplereenroll "$K/dev-p.csr" "$T/p-2.pem" --cert "$T/p-1.pem" --key "$K/dev-p.key")
[ "$st" = 200 ] || fail "dev-p re-enrolment: status $st ($(cat "$EST_OUT"))"
# serverkeygen with its certificate: a key made here and certified
openssl base64 -in "$K/dev-p.csr" -out "$T/p-kg.req"
st=$(est /.well-known/est/serverkeygen -H 'Content-Type: application/pkcs10' --data-binary "@$T/p-kg.req" \
	--cert "$T/p-2.pem" --key "$K/dev-p.key")
[ "$st" = 200 ] || fail "dev-p serverkeygen: status $st ($(head -c 200 "$EST_OUT"))"
methods=$(db "SELECT group_concat(method, ',') FROM (SELECT method FROM certs WHERE udid='dev-p' ORDER BY issued_at) AS m")
[ "$methods" = password,reenroll,serverkeygen ] || fail "dev-p's certificates: $methods"
ok "dev-p: one certificate each by password, simplereenroll, serverkeygen: 200 200 200"

# now every way in is at the limit: serverkeygen, and a fresh password
t0=$(now_ms)
st=$(est /.well-known/est/serverkeygen -H 'Content-Type: application/pkcs10' --data-binary "@$T/p-kg.req" \
	--cert "$T/p-2.pem" --key "$K/dev-p.key")
t1=$(now_ms)
limited "serverkeygen at the limit" dev-p "$st" "$t0" "$t1" 3 3
pw2=$(est_password dev-p)
pwid=$(db "SELECT max(id) FROM enrol_passwords WHERE udid='dev-p'")
t0=$(now_ms)
st=$(est_enroll simpleenroll "$K/dev-p.csr" "$T/p-4.pem" -u "dev-p:$pw2")
t1=$(now_ms)
limited "a valid one-time password at the limit" dev-p "$st" "$t0" "$t1" 3 3
used=$(db "SELECT used_at FROM enrol_passwords WHERE id=$pwid")
[ "$used" = 0 ] || fail "the refused request spent the password (used_at $used)"
[ "$(est_ncerts dev-p)" = 3 ] && [ "$(signed dev-p)" = 3 ] || fail "dev-p: certificates $(est_ncerts dev-p), signed $(signed dev-p), want 3"
ok "the password's used_at is still $used; dev-p certs on record $(est_ncerts dev-p), signer issued $(signed dev-p)"

# once the limit allows (here: raised to 4), the same password works, once
est_start --est-certs-per-hour 4
st=$(est_enroll simpleenroll "$K/dev-p.csr" "$T/p-4.pem" -u "dev-p:$pw2")
[ "$st" = 200 ] || fail "the kept password after the limit was raised: status $st ($(cat "$EST_OUT"))"
used=$(db "SELECT used_at FROM enrol_passwords WHERE id=$pwid")
[ "$used" -gt 0 ] || fail "the password was not marked used"
t0=$(now_ms)
st=$(est_enroll simplereenroll "$K/dev-p.csr" "$T/p-5.pem" --cert "$T/p-4.pem" --key "$K/dev-p.key")
t1=$(now_ms)
limited "simplereenroll at the raised limit" dev-p "$st" "$t0" "$t1" 4 4
ok "limit 4: the kept password enrols (200, now used), the 5th certificate is refused"

# ---- 3. concurrent requests on two workers: never past the limit ----
est_device dev-r3 "$K"
openssl base64 -in "$K/dev-r3.csr" -out "$T/r3.req"
pids=()
for i in 1 2 3 4 5 6 7 8; do
	curl -sS --max-time 20 --cacert "$DATA/ca.pem" -o /dev/null -w '%{http_code}\n' \
		-H 'Content-Type: application/pkcs10' --data-binary "@$T/r3.req" \
		"https://127.0.0.1:$EST_PORT/.well-known/est/simpleenroll" >"$T/r3-$i.st" 2>/dev/null &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
statuses=$(cat "$T"/r3-*.st | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')
n200=$(cat "$T"/r3-*.st | grep -c '^200$' || true)
n429=$(cat "$T"/r3-*.st | grep -c '^429$' || true)
[ "$n200" = 4 ] && [ "$n429" = 4 ] || fail "8 concurrent requests, limit 4: $statuses"
[ "$(est_ncerts dev-r3)" = 4 ] || fail "dev-r3 has $(est_ncerts dev-r3) certificates, want 4"
# a request that passed the first count while another was being signed is
# refused by the store's count in the record's transaction: signed, never sent
ev_settle
# (the same event from one worker is one row with its count: sum the counts)
raced=$(db "SELECT coalesce(sum(count), 0) FROM events WHERE kind='enrol_refused' AND detail LIKE 'dev-r3:%reached meanwhile: signed, not returned%'")
[ "$(signed dev-r3)" = $((4 + raced)) ] || fail "dev-r3: the signer issued $(signed dev-r3), want 4 + $raced raced"
ok "8 concurrent replays on 2 workers, limit 4: $statuses; dev-r3 certs on record $(est_ncerts dev-r3), signer issued $(signed dev-r3) ($raced refused at the record: signed, not returned)"

# ---- 4. the race made certain: a key held while the last place is taken ----
# ZTP_FAULT_KEYGEN_GATE (a FIFO, as in test_est_keygen.sh): a serverkeygen
# whose key is made waits, after the first count, until the FIFO is opened
# for writing and closed. Meanwhile a re-enrolment takes the last place;
# released, the held request is signed, and the count in the record's
# transaction refuses it: 429, not recorded, its password not spent.
GATE=$T/gate
ZTPD=$ZTPD_FAULT est_start_under env ZTP_FAULT_KEYGEN_GATE="$GATE" -- --est-certs-per-hour 2 --log-level debug \
	--request-timeout 600
est_key "$K/dev-k.key"
est_csr "$K/dev-k.key" dev-k "$K/dev-k.csr"
pw=$(est_password dev-k)
[ "$(est_enroll simpleenroll "$K/dev-k.csr" "$T/k-1.pem" -u "dev-k:$pw")" = 200 ] ||
	fail "dev-k password enrolment: $(cat "$EST_OUT")"
pw=$(est_password dev-k)
pwid=$(db "SELECT max(id) FROM enrol_passwords WHERE udid='dev-k'")
mkfifo "$GATE"
openssl base64 -in "$K/dev-k.csr" -out "$T/k-kg.req"
curl -sS --max-time 600 --cacert "$DATA/ca.pem" -o "$T/k-kg.body" -D "$T/k-kg.hdr" -w '%{http_code}' \
	-H 'Content-Type: application/pkcs10' --data-binary "@$T/k-kg.req" -u "dev-k:$pw" \
	"https://127.0.0.1:$EST_PORT/.well-known/est/serverkeygen" >"$T/k-kg.code" 2>"$T/k-kg.err" &
held_pid=$!
for _ in $(seq 1 1200); do
	grep -q "the key for dev-k is made, held at" "$T/ztpd.log" && break
	sleep 0.05
done
grep -q "the key for dev-k is made, held at" "$T/ztpd.log" || fail "the key of dev-k was never held"
st=$(est_enroll simplereenroll "$K/dev-k.csr" "$T/k-2.pem" --cert "$T/k-1.pem" --key "$K/dev-k.key")
[ "$st" = 200 ] || fail "dev-k re-enrolment while the key is held: $st ($(cat "$EST_OUT"))"
: >"$GATE"
rm -f "$GATE"
wait "$held_pid" || fail "the held serverkeygen: curl: $(cat "$T/k-kg.err")"
st=$(cat "$T/k-kg.code")
[ "$st" = 429 ] || fail "the held serverkeygen: status $st, want 429 ($(head -c 200 "$T/k-kg.body"))"
grep -qi '^Retry-After: [1-9]' "$T/k-kg.hdr" || fail "the held serverkeygen: 429 without Retry-After"
grep -q "PRIVATE\|application/pkcs8" "$T/k-kg.body" && fail "the refused answer holds a key"
detail=$(last_refusal dev-k)
[[ "$detail" == *"2 certificates issued in the last hour, the limit is 2"*"reached meanwhile: signed, not returned"* ]] ||
	fail "the held serverkeygen's event: '$detail'"
[ "$(est_ncerts dev-k)" = 2 ] || fail "dev-k has $(est_ncerts dev-k) certificates on record, want 2"
used=$(db "SELECT used_at FROM enrol_passwords WHERE id=$pwid")
[ "$used" = 0 ] || fail "the refused serverkeygen spent its password (used_at $used)"
ok "a serverkeygen held past the first count while the last place was taken: $st, event '$detail'; dev-k certs on record $(est_ncerts dev-k), signer issued $(signed dev-k), password used_at $used"

# ---- 5. 0: no limit; the default ----
est_start --est-certs-per-hour 0
st=$(est_enroll simpleenroll "$K/dev-r1.csr" "$T/r1-5.pem")
[ "$st" = 200 ] || fail "--est-certs-per-hour 0: status $st ($(cat "$EST_OUT"))"
ok "--est-certs-per-hour 0: dev-r1's 4th certificate within the hour: $st"
"$ZTPD" --help >"$T/help"
tr -s ' \n' ' ' <"$T/help" | grep -q -- '--est-certs-per-hour N certificates per device .*(default 10; 0: no limit)' ||
	fail "--help does not show the default 10"
ok "--help: --est-certs-per-hour, default 10"
est_stop
