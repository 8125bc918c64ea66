#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ztp-enroll end to end against a real ztpd with its EST listener
# (docs/enroll.md): enrolment with a one-time password (file, environment,
# command line) and with an allowlisted key, "nothing to do", renewal with
# simplereenroll (--force, --renew-before), an expired certificate renewed
# within the server's grace and enrolled again after it, refusals, a
# revoked certificate, an untrusted server, a dead server, usage and key
# store errors; every exit status, what the store holds (modes, slots 0, 10
# and 11), that each stored certificate verifies against the CA and is for
# the store's key, and that no password is ever printed.
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_enroll.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib_est.sh"

ENROLL=$BUILD/ztp-enroll
[ -x "$ENROLL" ] || fail "no ztp-enroll at $ENROLL"
command -v faketime >/dev/null || fail "faketime is not installed (scripts/install-deps.sh)"
# later DAYS: LATER_RUN, a wrapper that runs a command DAYS later. faketime preloads
# its library ahead of ASan's runtime, which ASan refuses unless told.
later() {
	LATER_RUN=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
		DONT_FAKE_MONOTONIC=1 faketime -f "+$1")
}

# run [env NAME=VALUE... | faketime ...] -- ARGS...: runs ztp-enroll; stdout in
# $T/out, stderr in $T/err, status in RC; all output is kept in $T/all
run() {
	local pre=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		pre+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	set +e
	"${pre[@]}" "$ENROLL" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	cat "$T/out" "$T/err" >>"$T/all"
}

# expect STATUS [prefix --] ARGS...: runs ztp-enroll and wants that exit status
expect() {
	local want=$1
	shift
	case " $* " in *" -- "*) ;; *) set -- -- "$@" ;; esac
	run "$@"
	[ "$RC" -eq "$want" ] ||
		fail "ztp-enroll $*: exit $RC, expected $want; stdout: $(head -c 400 "$T/out"); stderr: $(head -c 800 "$T/err")"
}
out_has() { grep -qE -- "$1" "$T/out" || fail "stdout: no /$1/ in: $(head -c 600 "$T/out")"; }
err_has() { grep -qE -- "$1" "$T/err" || fail "stderr: no /$1/ in: $(head -c 800 "$T/err")"; }
eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }

# srv: the EST options of the running ztpd
srv() { echo --server "https://127.0.0.1:$EST_PORT" --ca "$DATA/ca.pem"; }

# password UDID FILE: a one-time enrolment password from the admin API into FILE (0600)
password() {
	local r
	r=$(admin POST /v1/enrolment-passwords "{\"udid\":\"$1\",\"ttl_s\":3600}")
	eq "$(echo "$r" | tail -1)" 201 "password for $1"
	(umask 077 && echo "$r" | sed '$d' | jq -r .password >"$2")
	PASSWORDS+=("$(cat "$2")")
}

# allow UDID PUBKEY_PEM: puts UDID on the allowlist with that key (admin API)
allow() {
	eq "$(admin POST /v1/allowlist "$(jq -nc --arg u "$1" --rawfile k "$2" '{udid: $u, pubkey: $k}')" |
		tail -1)" 201 "allowlist $1"
}

# check_store STORE UDID [openssl verify options]: the store's certificate
# verifies against the CA, names UDID, is for the key of slot 0 and is the
# one whose serial ztp-enroll printed; modes 0700/0600
check_store() {
	local s=$1 u=$2
	shift 2
	openssl verify "$@" -CAfile "$DATA/ca.pem" "$s/slot-10" >/dev/null 2>&1 ||
		fail "$s/slot-10 does not verify: $(openssl verify "$@" -CAfile "$DATA/ca.pem" "$s/slot-10" 2>&1)"
	openssl x509 -in "$s/slot-10" -noout -subject -nameopt RFC2253 | grep -qE "CN=$u(,|$)" ||
		fail "$s/slot-10: subject is not CN=$u"
	eq "$(openssl x509 -in "$s/slot-10" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)" \
		"$(openssl pkey -in "$s/slot-00" -pubout -outform DER | sha256sum)" "$s: certificate key vs slot 0"
	eq "$(sed -n 's/.* serial=\([0-9A-F]*\) .*/\1/p' "$T/out")" "$(est_serial "$s/slot-10")" \
		"the serial ztp-enroll printed"
	eq "$(stat -c %a "$s")" 700 "mode of $s"
	for f in "$s"/slot-*; do eq "$(stat -c %a "$f")" 600 "mode of $f"; done
}

PASSWORDS=()
est_start
ADMIN_TOKEN=$(admin_token)
export ADMIN_TOKEN
: >"$T/all"

# ---- no credentials, not allowlisted: refused, but the key and the CA certificates are kept ----
S1=$T/s1
expect 4 $(srv) --store "$S1" --id dev-0001
err_has 'refused by the server: HTTP 401: .*not authorised'
[ -f "$S1/slot-00" ] && [ -f "$S1/slot-11" ] && [ ! -e "$S1/slot-10" ] || fail "s1: slots after a refusal"
eq "$(openssl x509 -in "$S1/slot-11" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in "$DATA/ca.pem" -noout -fingerprint -sha256)" "slot 11 vs ca.pem"
ok "refused without credentials (exit 4), key and CA certificates stored"

# ---- a one-time password from a file ----
password dev-0001 "$T/pw1"
expect 0 $(srv) --store "$S1" --id dev-0001 --password-file "$T/pw1"
out_has '^enrolled serial=[0-9A-F]+ notAfter=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'
check_store "$S1" dev-0001
eq "$(db "SELECT method FROM certs WHERE serial='$(est_serial "$S1/slot-10")'")" password "method"
SERIAL1=$(est_serial "$S1/slot-10")
ok "enrolled with a password file (exit 0)"

# ---- nothing to do ----
expect 3 $(srv) --store "$S1" --id dev-0001
out_has "^valid serial=$SERIAL1 notAfter=.* renewal due [0-9]{4}-"
eq "$(est_serial "$S1/slot-10")" "$SERIAL1" "serial after nothing to do"
ok "valid and not due (exit 3)"

# ---- the password was used: another store for dev-0001 is refused ----
expect 4 $(srv) --store "$T/s1b" --id dev-0001 --password-file "$T/pw1"
err_has 'HTTP 401: .*was used'
[ ! -e "$T/s1b/slot-10" ] || fail "s1b: a certificate after a refusal"
ok "a used password is refused (exit 4)"

# ---- renewal: --force, --renew-before (simplereenroll over mutual TLS) ----
expect 0 $(srv) --store "$S1" --id dev-0001 --force
out_has '^renewed serial='
check_store "$S1" dev-0001
SERIAL2=$(est_serial "$S1/slot-10")
[ "$SERIAL2" != "$SERIAL1" ] || fail "--force: the serial did not change"
eq "$(db "SELECT method FROM certs WHERE serial='$SERIAL2'")" reenroll "method after --force"
expect 3 $(srv) --store "$S1" --id dev-0001 --renew-before 86400
expect 0 $(srv) --store "$S1" --id dev-0001 --renew-before 31622400
out_has '^renewed serial='
check_store "$S1" dev-0001
SERIAL3=$(est_serial "$S1/slot-10")
ok "renewed with --force and --renew-before (exit 0), not before (exit 3)"

expect 0 --store "$S1" --days-left
out_has '^36[45]$'
expect 6 --store "$T/none" --days-left
ok "--days-left"

# ---- the allowlist: --public-key, then no credentials ----
S2=$T/s2
expect 0 --store "$S2" --public-key
cp "$T/out" "$T/s2.pub"
grep -q 'BEGIN PUBLIC KEY' "$T/s2.pub" || fail "--public-key printed no PEM public key"
allow dev-0002 "$T/s2.pub"
expect 0 $(srv) --store "$S2" --id dev-0002
out_has '^enrolled serial='
check_store "$S2" dev-0002
eq "$(db "SELECT method FROM certs WHERE serial='$(est_serial "$S2/slot-10")'")" allowlist "method"
# another key claiming the allowlisted UDID
expect 4 $(srv) --store "$T/s2b" --id dev-0002
err_has 'HTTP 401: .*not authorised'
ok "enrolled with an allowlisted key (exit 0); another key refused (exit 4)"

# ---- the password from the environment and from the command line ----
password dev-0003 "$T/pw3"
expect 0 env ZTP_ENROLL_PASSWORD="$(cat "$T/pw3")" -- $(srv) --store "$T/s3" --id dev-0003
check_store "$T/s3" dev-0003
password dev-0004 "$T/pw4"
expect 0 $(srv) --store "$T/s4" --id dev-0004 --password "$(cat "$T/pw4")"
err_has 'visible to other users'
check_store "$T/s4" dev-0004
echo wrong-password-123 >"$T/pw5" && chmod 600 "$T/pw5"
PASSWORDS+=(wrong-password-123)
expect 4 $(srv) --store "$T/s5" --id dev-0005 --password-file "$T/pw5"
err_has 'HTTP 401'
ok "passwords from the environment and argv (exit 0), a wrong one refused (exit 4)"

# ---- a certificate for another UDID in the store is not kept as ours ----
SUM=$(sha256sum <"$S1/slot-10")
expect 4 $(srv) --store "$S1" --id dev-0099
err_has 'cannot be used .*another device'
eq "$(sha256sum <"$S1/slot-10")" "$SUM" "slot 10 after a refused enrolment"
ok "a certificate of another UDID means enrolling; refused: nothing changed"

# ---- an untrusted server; a server whose answers are not for us ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other.key" \
	-subj /CN=other -days 2 -out "$T/other.pem" 2>/dev/null
expect 5 --server "https://127.0.0.1:$EST_PORT" --ca "$T/other.pem" --store "$T/s6" --id dev-0006
err_has 'does not verify against the trust anchors'
[ ! -e "$T/s6/slot-11" ] || fail "s6: CA certificates stored from an untrusted server"
ok "an untrusted server (exit 5), nothing stored"

# ---- usage and key store errors ----
expect 2 $(srv) --store "$T/s7"
expect 2 --server http://127.0.0.1:1 --ca "$DATA/ca.pem" --store "$T/s7" --id dev-0007
expect 2 $(srv) --store "$T/s7" --id dev-0007 --password x --password-file "$T/pw1"
expect 2 $(srv) --store "$T/s7" --id 'dev 7'
expect 2 $(srv) --store "$T/s7" --id dev:0007 --password-file "$T/pw5"
err_has "cannot be the user name of HTTP Basic"
expect 2 $(srv) --store "$T/s7" --id dev-0007 --renew-before -1
expect 2 $(srv) --store "$T/s7" --id dev-0007 --idevid-cert "$T/other.pem"
expect 2 $(srv) --store "$T/s7" --id dev-0007 --password-file "$T/nonexistent"
expect 2 --server "https://127.0.0.1:$EST_PORT" --ca "$T/nonexistent" --store "$T/s7" --id dev-0007
expect 0 --help
out_has 'Exit status'
mkdir -m 755 "$T/s8"
expect 6 $(srv) --store "$T/s8" --id dev-0008
err_has 'chmod 700'
ok "usage errors (exit 2), a key store others can read (exit 6)"

# ---- 202: ztpd's CA signer is down; ztp-enroll waits for Retry-After and asks again ----
# kill_signer: kills ztpd's CA signer process; ztpd answers the next
# enrolment 202 with Retry-After. ztpd's parent, which starts a new signer
# within a fraction of a second, is held still for a second meanwhile, so
# that the next enrolment does meet no signer
kill_signer() {
	local s
	s=$(est_signer_pid | head -1)
	[ -n "$s" ] || fail "no signer process: $(grep -i signer "$T/ztpd.log" | tail -3)"
	kill -STOP "$ZTPD_PID"
	(sleep 1; kill -CONT "$ZTPD_PID" 2>/dev/null) &
	kill -KILL "$s"
	for _ in $(seq 1 100); do
		case "$(ps -o stat= -p "$s" | tr -d ' ')" in "" | Z*) return ;; esac
		sleep 0.02
	done
	fail "the signer $s survived kill -9"
}
S10=$T/s10
expect 0 --store "$S10" --public-key
cp "$T/out" "$T/s10.pub"
allow dev-0010 "$T/s10.pub"
kill_signer
expect 0 $(srv) --store "$S10" --id dev-0010
err_has 'accepted, not yet issued: asking again in [0-9]+ s'
out_has '^enrolled serial='
check_store "$S10" dev-0010
kill_signer
expect 5 $(srv) --store "$S10" --id dev-0010 --force --max-wait 0
err_has 'accepted the request but has not issued the certificate'
eq "$(est_serial "$S10/slot-10")" "$(sed -n 's/.* serial=\([0-9A-F]*\) .*/\1/p' "$T/all" | tail -1)" \
	"s10: slot 10 after a 202"
ok "202 + Retry-After: waited and asked again (exit 0); not within --max-wait (exit 5)"

# ---- a revoked certificate cannot renew ----
"$ZTPCTL" cert revoke "$SERIAL3" --reason keyCompromise >/dev/null ||
	fail "ztpctl cert revoke $SERIAL3"
expect 4 $(srv) --store "$S1" --id dev-0001 --force
err_has 'refused by the server in the TLS handshake: TLS alert'
eq "$(est_serial "$S1/slot-10")" "$SERIAL3" "slot 10 after a refused renewal"
ok "a revoked certificate: renewal refused (exit 4)"

# ---- a dead server ----
est_stop
expect 5 --server "https://127.0.0.1:$EST_PORT" --ca "$DATA/ca.pem" --store "$S2" --id dev-0002 --force
err_has 'no TLS server answered'
ok "no server (exit 5)"

# ---- an expired certificate: renewed within the grace, enrolled again after it ----
est_start --cert-days 1
ADMIN_TOKEN=$(admin_token)
S9=$T/s9
expect 0 --store "$S9" --public-key
cp "$T/out" "$T/s9.pub"
allow dev-0009 "$T/s9.pub"
expect 0 $(srv) --store "$S9" --id dev-0009
check_store "$S9" dev-0009
SERIAL9=$(est_serial "$S9/slot-10")
est_stop
# two days later (both sides): expired, within the 30-day grace
later 2d
est_start_under "${LATER_RUN[@]}" -- --cert-days 1
LATER=$(($(date +%s) + 2 * 86400 + 60))
expect 0 "${LATER_RUN[@]}" -- $(srv) --store "$S9" --id dev-0009
out_has '^renewed serial='
err_has 'expired at .*: renewing'
check_store "$S9" dev-0009 -attime "$LATER"
[ "$(est_serial "$S9/slot-10")" != "$SERIAL9" ] || fail "expired: the serial did not change"
eq "$(db "SELECT method FROM certs WHERE serial='$(est_serial "$S9/slot-10")'")" reenroll "method"
est_stop
# ten days later, with a grace of an hour: refused in the handshake, enrolled anew
later 10d
est_start_under "${LATER_RUN[@]}" -- --cert-days 1 --reenroll-grace 3600
LATER=$(($(date +%s) + 10 * 86400 + 60))
expect 0 "${LATER_RUN[@]}" -- $(srv) --store "$S9" --id dev-0009
out_has '^enrolled serial='
err_has 'renewal of the expired certificate failed'
check_store "$S9" dev-0009 -attime "$LATER"
eq "$(db "SELECT method FROM certs WHERE serial='$(est_serial "$S9/slot-10")'")" allowlist "method"
est_stop
ok "an expired certificate: renewed within the grace, enrolled again after it (exit 0)"

# ---- never a password in what ztp-enroll printed ----
for p in "${PASSWORDS[@]}"; do
	[ -n "$p" ] || fail "an empty password"
	if grep -qF -- "$p" "$T/all"; then fail "a password was printed"; fi
done
ok "no password in the output"
