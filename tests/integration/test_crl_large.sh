#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A CRL of 100,000 revoked certificates, a hundred times what one message
# to the signer holds (ztpd, its signer process, sqlite3, openssl, faketime):
#   1. seeded into the store while ztpd is stopped: the CRL signed at start
#      lists every one of them and verifies against the CA;
#   2. one more revoked through the admin API: 100,001 listed, a higher
#      CRL number;
#   3. a CRL in the second half of its validity is re-signed at start,
#      before its nextUpdate, with all 100,001.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_est.sh"

N=100000
VALIDITY=345600 # 4 days: signed 3 days ago, a CRL is in its second half now
# ztpd 3 days ago (as test_est_ca.sh: faketime ahead of ASan's runtime,
# CLOCK_MONOTONIC left alone)
PAST=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	DONT_FAKE_MONOTONIC=1 faketime -f -3d)

# crl_time DER lastupdate|nextupdate: that field in Unix seconds
crl_time() { date -d "$(openssl crl -inform DER -in "$1" -noout -"$2" | sed 's/^[a-zA-Z]*=//')" +%s; }
get_crl() { # get_crl OUT: GET /crl into OUT (DER)
	[ "$(EST_OUT=$1 est /crl)" = 200 ] || fail "GET /crl: $(head -c 200 "$1")"
}
# check_crl DER COUNT: signed by the CA, COUNT entries, exactly the store's
# unexpired revoked serials
check_crl() {
	openssl crl -inform DER -in "$1" -CAfile "$DATA/ca.pem" -noout 2>&1 | grep -q 'verify OK' ||
		fail "$1: the signature does not verify against the CA"
	openssl crl -inform DER -in "$1" -noout -text |
		sed -n 's/^ *Serial Number: *//p' | sort >"$1.serials"
	[ "$(wc -l <"$1.serials")" = "$2" ] || fail "$1 lists $(wc -l <"$1.serials") serials, not $2"
	db "SELECT serial FROM certs WHERE revoked_at > 0 AND not_after > $(date +%s)" |
		tr a-f A-F | sort >"$T/store.serials"
	cmp -s "$1.serials" "$T/store.serials" ||
		fail "$1 does not list the store's revoked serials: $(diff "$1.serials" "$T/store.serials" | head -5)"
}

# ---- a data directory made 3 days ago, then the seed
est_start_under "${PAST[@]}" -- --crl-validity "$VALIDITY"
get_crl "$T/crl0.der"
n0=$(est_crl_number "$T/crl0.der")
est_stop
now=$(date +%s)
# the milliseconds in the shell: PostgreSQL's integer literals are 32 bits
ms10d=$(((now - 864000) * 1000)) ms100d=$(((now - 8640000) * 1000))
EXTRA=5000000000000000000000000000000A # issued, not revoked: revoked in step 2
t0=$(date +%s%N)
db_exec <<SQL
BEGIN;
WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < $N)
INSERT INTO certs(serial, udid, subject, key_sha256, not_before, not_after, issued_at, method,
	revoked_at, reason)
SELECT printf('4%031X', n * 2654435761), 'dev-' || n, '/CN=dev-' || n, zeroblob(32),
	$now - 864000, $now + 31536000, $ms10d, 'allowlist', $now - 432000, n % 7
FROM i;
INSERT INTO certs(serial, udid, subject, key_sha256, not_before, not_after, issued_at, method)
VALUES('$EXTRA', 'dev-extra', '/CN=dev-extra', zeroblob(32), $now - 864000, $now + 31536000,
	$ms10d, 'allowlist');
-- an expired revoked certificate: not on the CRL
INSERT INTO certs(serial, udid, subject, key_sha256, not_before, not_after, issued_at, method,
	revoked_at, reason)
VALUES('6000000000000000000000000000000B', 'dev-old', '/CN=dev-old', zeroblob(32),
	$now - 8640000, $now - 864000, $ms100d, 'allowlist', $now - 864001, 1);
-- what store_cert_revoke() does for each: the CRL is now stale
UPDATE counters SET value = value + $N + 1 WHERE name = 'revocations';
COMMIT;
SQL
[ "$(db "SELECT count(*) FROM certs WHERE revoked_at > 0")" = $((N + 1)) ] || fail "the seed"
ok "seeded $N revoked certificates in $((($(date +%s%N) - t0) / 1000000)) ms"

# ---- 1. all of them on the CRL signed at start (3 days ago)
t0=$(date +%s%N)
est_start_under "${PAST[@]}" -- --crl-validity "$VALIDITY"
start_ms=$((($(date +%s%N) - t0) / 1000000))
get_crl "$T/crl1.der"
n1=$(est_crl_number "$T/crl1.der")
[ "$n1" -gt "$n0" ] || fail "no new CRL at start (number $n0, then $n1)"
check_crl "$T/crl1.der" "$N"
[ $(($(crl_time "$T/crl1.der" nextupdate) - $(crl_time "$T/crl1.der" lastupdate))) = "$VALIDITY" ] ||
	fail "nextUpdate is not thisUpdate + $VALIDITY"
grep -q "CRL $n1 signed: $N revoked certificates" "$T/ztpd.log" || fail "no log line of CRL $n1"
ok "CRL $n1: all $N serials, verifies against the CA, $(stat -c %s "$T/crl1.der") bytes, ztpd up in $start_ms ms ($(sed -n "s/.*CRL $n1 signed: .*bytes, \(in [0-9]* ms\).*/signed \1/p" "$T/ztpd.log"))"

# ---- 2. one more, through the admin API
t0=$(date +%s%N)
est_revoke "$EXTRA" keyCompromise
revoke_ms=$((($(date +%s%N) - t0) / 1000000))
get_crl "$T/crl2.der"
n2=$(est_crl_number "$T/crl2.der")
[ "$n2" -gt "$n1" ] || fail "the CRL number did not rise after a revocation ($n1, then $n2)"
check_crl "$T/crl2.der" $((N + 1))
openssl crl -inform DER -in "$T/crl2.der" -noout -text | grep -A4 "Serial Number: $EXTRA" |
	grep -q "Key Compromise" || fail "$EXTRA is not on the CRL as keyCompromise"
ok "revoked one more through the admin API ($revoke_ms ms with the re-signing): CRL $n2 lists $((N + 1))"
est_stop

# ---- 3. now, 3 days later: in the second half of its validity, re-signed at start
now=$(date +%s)
next2=$(crl_time "$T/crl2.der" nextupdate)
[ "$next2" -gt "$now" ] && [ $((next2 - now)) -lt $((VALIDITY / 2)) ] ||
	fail "CRL $n2 is not in the second half of its validity (nextUpdate $next2, now $now)"
est_start --crl-validity "$VALIDITY"
get_crl "$T/crl3.der"
n3=$(est_crl_number "$T/crl3.der")
[ "$n3" -gt "$n2" ] || fail "the CRL in its second half was not re-signed at start ($n2, then $n3)"
last3=$(crl_time "$T/crl3.der" lastupdate)
[ $(($(date +%s) - last3)) -lt 120 ] || fail "the re-signed CRL's thisUpdate is not now: $last3"
[ "$last3" -lt "$next2" ] || fail "re-signed only after the nextUpdate of the one before"
check_crl "$T/crl3.der" $((N + 1))
ok "CRL $n2 re-signed as $n3 at start, $(((next2 - last3) / 3600)) h before its nextUpdate, with all $((N + 1))"
est_stop
