#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ztpctl's certificate commands end to end against a real ztpd
# (docs/admin-api.md, docs/certificates.md): the allowlist (add with a PEM
# key, a certificate, a CSR or a SHA-256; the same entry again; another
# one; a streamed CSV import with malformed lines, run twice, and across a
# batch boundary), one-time enrolment passwords (shown once, only a hash
# stored), manufacturer CAs, groups with EST options, devices (block and
# unblock with their SIM), issued certificates (enrolled over EST with curl,
# listed, revoked, on the CRL at once). Every change is an admin_change
# event; every refusal changes nothing.
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_ztpctl_certs.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ -x "$ZTPCTL" ] || fail "no ztpctl at $ZTPCTL"

# ---- helpers ----

. "$(dirname "$0")/lib_ztpctl.sh"
no_change() { eq "$(changes)" "$1" "admin_change events after $2"; }
# the tables a refused request must leave alone
cert_snapshot() {
	db "SELECT udid, hex(key_sha256), group_name, iccid FROM allowlist ORDER BY udid;
	    SELECT name, hex(sha256), group_name FROM mfr_cas ORDER BY name;
	    SELECT udid, blocked FROM things ORDER BY udid; SELECT serial, revoked_at, reason FROM certs;
	    SELECT count(*) FROM enrol_passwords; SELECT iccid, blocked FROM sims ORDER BY iccid;"
}
# luhn DIGITS: DIGITS with its Luhn check digit
luhn() {
	local s=$1 sum=0 i d n=${#1}
	for ((i = 0; i < n; i++)); do
		d=${s:n-1-i:1}
		if ((i % 2 == 0)); then
			d=$((d * 2))
			((d > 9)) && d=$((d - 9))
		fi
		sum=$((sum + d))
	done
	echo "$s$(((10 - sum % 10) % 10))"
}
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$1.key" 2>/dev/null; }
pubpem() { openssl pkey -in "$T/$1.key" -pubout -out "$T/$1.pub"; }
# spki_sha NAME: the SHA-256 of the key's DER SubjectPublicKeyInfo, lower-case hex
spki_sha() { openssl pkey -in "$T/$1.key" -pubout -outform DER | sha256sum | cut -d' ' -f1; }
spki_b64() { openssl pkey -in "$T/$1.key" -pubout -outform DER | base64 -w0; }
db_key() { db "SELECT lower(hex(key_sha256)) FROM allowlist WHERE udid='$1'"; }

# est PATH [curl args]: an EST request; the body in $T/body, prints the status
est() {
	local path=$1
	shift
	curl -sS --cacert "$DATA/ca.pem" -o "$T/body" -w '%{http_code}' "$@" \
		"https://$EST$path" 2>"$T/curl.err" || true
}
# enrol NAME UDID [curl args]: simpleenroll with a CSR of NAME's key for UDID;
# the certificate goes to $T/NAME.crt; prints the status
enrol() {
	local name=$1 udid=$2 code
	shift 2
	openssl req -new -key "$T/$name.key" -subj "/CN=$udid" -outform DER 2>/dev/null |
		base64 >"$T/$name.b64"
	code=$(est /.well-known/est/simpleenroll -H 'Content-Type: application/pkcs10' \
		--data-binary @"$T/$name.b64" "$@")
	if [ "$code" = 200 ]; then
		openssl base64 -d -in "$T/body" | openssl pkcs7 -inform DER -print_certs -out "$T/$name.crt" ||
			fail "enrol $udid: the answer is no PKCS#7"
	fi
	echo "$code"
}
serial_of() { openssl x509 -in "$T/$1.crt" -noout -serial | cut -d= -f2; }
# crl_has SERIAL: the published CRL lists it
crl_has() {
	[ "$(est /crl)" = 200 ] || fail "GET /crl"
	openssl crl -inform DER -in "$T/body" -noout -text | grep -q "Serial Number: $1"
}

T_START=$(date -u +%s)
start_ztpd --est-listen 127.0.0.1:0
EST=127.0.0.1:$(jq -r .est "$DATA/run.json" | sed 's/.*://')
: >"$T/all"
SECRET=$(jq -r .secret "$DATA/admin.json")

ICCID_S=$(luhn 894450250918638970)
ICCID_I=$(luhn 894450250918638971)
PSK2=00112233445566778899AABBCCDDEEFF
ZERO64=$(printf '%064d' 0)

# ---- help and local argument checks (exit 2 before the admin file is read) ----

ok_run --help
for c in "allowlist add" "allowlist import" "allowlist list" "allowlist show" "allowlist delete" \
	"password create" "mfr-ca add" "mfr-ca list" "mfr-ca show" "mfr-ca delete" "cert list" \
	"cert show" "cert revoke" "device list" "device show" "device block" "device unblock" \
	"--pubkey" "--key-sha256" "--iccid" "--ttl" "--udid" "--reason" "--est-auth" "--cert-days" \
	"--reenroll-grace"; do
	grep -qF -- "$c" "$T/out" || fail "--help does not mention '$c'"
done

export ZTP_ADMIN=$T/no-such-admin.json
for u in "" "a b" "a/b" "$(printf 'x%.0s' {1..65})" "dév"; do
	bad_run 2 allowlist show -- "$u"
	err_has 'invalid UDID' "allowlist show '$u'"
done
bad_run 2 allowlist add dev-x
err_has 'exactly one of --pubkey FILE and --key-sha256 HEX'
bad_run 2 allowlist add dev-x --pubkey /dev/null --key-sha256 "$ZERO64"
bad_run 2 allowlist add dev-x --key-sha256 00
err_has 'invalid --key-sha256'
bad_run 2 allowlist add dev-x --key-sha256 "${ZERO64}0"
bad_run 2 allowlist add dev-x --key-sha256 "$ZERO64" --iccid 123
err_has 'invalid ICCID'
bad_run 2 allowlist add dev-x --key-sha256 "$ZERO64" --group 'a b'
bad_run 2 password create dev-x --ttl 59
err_has 'invalid --ttl'
bad_run 2 password create dev-x --ttl 2592001
bad_run 2 cert show 12:AB
err_has 'invalid serial'
bad_run 2 cert revoke 12AB --reason KeyCompromise
err_has 'invalid --reason'
bad_run 2 device block dev-x --reason removeFromCRL
bad_run 2 cert list --udid 'a b'
bad_run 2 group create g --est-auth allowlist,allowlist
err_has 'invalid --est-auth'
bad_run 2 group create g --est-auth ''
bad_run 2 group create g --est-auth psk
bad_run 2 group create g --cert-days 7301
err_has 'invalid --cert-days'
bad_run 2 group create g --reenroll-grace -2
err_has 'invalid --reenroll-grace'
bad_run 2 group create g --reenroll-grace 157680001
bad_run 2 mfr-ca add 'a b' /dev/null
bad_run 2 mfr-ca add maker
ok "local argument checks"
export ZTP_ADMIN=$DATA/admin.json

# ---- groups with EST options ----

n=$(changes)
ok_run group create est-a --est-auth allowlist,password --cert-days 30 --reenroll-grace 86400
eq "$(cat "$T/out")" "group est-a created" "group create output"
expect_change "$n" "group create"
eq "$(db "SELECT est_auth, cert_days, reenroll_grace_s FROM groups WHERE name='est-a'")" "3|30|86400" \
	"the group's EST columns"
ok_run group show est-a
out_has '^est_auth: +allowlist,password$' "group show"
out_has '^cert_days: +30$' "group show"
out_has '^reenroll_grace_s: +86400$' "group show"
ok_run --json group create est-b --est-auth manufacturer --reenroll-grace -1
jq_true '.est_auth == ["manufacturer"] and .cert_days == 0 and .reenroll_grace_s == -1' "group create --json"
ok_run --json group create plain
jq_true '.est_auth == null and .cert_days == 0 and .reenroll_grace_s == -1' \
	"a group's EST defaults"
ok_run --json group show est-a
jq_true '.name == "est-a" and .est_auth == ["allowlist", "password"] and .cert_days == 30 and .derive == false' \
	"group show --json"
ok_run group list
out_has '^est-a ' "group list"
ok "groups with EST options"

# ---- allowlist add: PEM key, certificate, CSR, SHA-256; same; another ----

newkey k1
pubpem k1
K1=$(spki_sha k1)
n=$(changes)
ok_run allowlist add dev-1 --pubkey "$T/k1.pub"
eq "$(cat "$T/out")" "allowlist entry dev-1 added (key sha256 $K1)" "allowlist add output"
eq "$(db_key dev-1)" "$K1" "the stored key of dev-1"
expect_change "$n" "allowlist add"

# the same entry: unchanged, exit 0, no event
n=$(changes)
ok_run allowlist add dev-1 --key-sha256 "$(echo "$K1" | tr a-f A-F)"
out_has '^allowlist entry dev-1 unchanged' "the same allowlist entry again"
no_change "$n" "the same allowlist entry again"

# another key for the same UDID: 409, nothing changes
SNAP=$(cert_snapshot)
bad_run 1 allowlist add dev-1 --key-sha256 "$ZERO64"
err_has '^ztpctl: conflict: .*another allowlist entry.*\(HTTP 409\)$' "another allowlist entry"
[ "$(cert_snapshot)" = "$SNAP" ] || fail "a refused allowlist add changed the store"
no_change "$n" "a refused allowlist add"
bad_run 1 allowlist add dev-1 --pubkey "$T/k1.pub" --group est-a
err_has 'HTTP 409'

# a certificate and a CSR give the key of the same SubjectPublicKeyInfo
openssl req -new -x509 -key "$T/k1.key" -subj /CN=dev-2 -days 1 -out "$T/k1.crt" 2>/dev/null
openssl req -new -key "$T/k1.key" -subj /CN=dev-3 -out "$T/k1.csr" 2>/dev/null
ok_run allowlist add dev-2 --pubkey "$T/k1.crt" --group est-a
ok_run --json allowlist add dev-3 --pubkey "$T/k1.csr"
jq_true ".udid == \"dev-3\" and .key_sha256 == \"$K1\" and .group == null and .iccid == null and (.created_at | type == \"string\")" \
	"allowlist add --json"
eq "$(db_key dev-2)" "$K1" "the key of a certificate"
eq "$(db "SELECT group_name FROM allowlist WHERE udid='dev-2'")" est-a "the group of dev-2"

# a private key is refused here and never sent
openssl pkey -in "$T/k1.key" -out "$T/k1-pkcs8.key"
SNAP=$(cert_snapshot)
n=$(changes)
bad_run 1 allowlist add dev-4 --pubkey "$T/k1-pkcs8.key"
err_has 'private key.*nothing was sent' "a private key as --pubkey"
bad_run 1 allowlist add dev-4 --pubkey "$T/no-such-file"
bad_run 1 allowlist add dev-4 --pubkey /etc/hostname
err_has 'not a PEM file'
# the server's refusals: an unknown group, a key that is no key
bad_run 1 allowlist add dev-4 --key-sha256 "$ZERO64" --group nosuch
err_has '^ztpctl: not_found: no group nosuch \(HTTP 404\)$' "allowlist add to an unknown group"
printf -- '-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n' >"$T/bad.pub"
bad_run 1 allowlist add dev-4 --pubkey "$T/bad.pub"
err_has '^ztpctl: bad_request: .*\(HTTP 400\)$' "a malformed key"
[ "$(cert_snapshot)" = "$SNAP" ] || fail "a refused allowlist add changed the store"
no_change "$n" "refused allowlist adds"
ok "allowlist add"

# ---- allowlist import: a few hundred lines, malformed ones among them ----

keys=()
for i in 1 2 3 4 5; do
	newkey imp$i
	keys+=("$(spki_b64 imp$i)")
done
{
	printf '\xef\xbb\xbf# a factory batch\n'
	echo "udid,key,group,iccid"
	echo
	for i in $(seq 1 300); do
		case $((i % 60)) in
		7) echo "imp-$i,${ZERO64:1}" ;;                       # 63 hex digits
		13) echo "imp $i,$ZERO64" ;;                          # a space in the UDID
		19) echo "imp-$i,$ZERO64,fleet a" ;;                  # a bad group name
		23) echo "imp-$i,$ZERO64,,123" ;;                     # a bad ICCID
		29) echo "imp-$i,\"$ZERO64\"" ;;                      # quotes
		31) echo "imp-$i,$ZERO64,est-a,$ICCID_I,extra" ;;     # five fields
		37) echo "imp-$i,QUJD" ;;                             # base64, not a key
		41) echo "imp-$i,$ZERO64,nosuch" ;;                   # the server refuses: no group
		43) echo "imp-$i" ;;                                  # one field
		*)
			if ((i % 4 == 0)); then
				echo "imp-$i,${keys[$((i % 5))]},est-a"
			elif ((i % 10 == 1)); then
				printf 'imp-%d,%064x,,%s\r\n' "$i" "$i" "$(luhn 8944502509$(printf '%08d' "$i"))"
			else
				printf 'imp-%d,%064X\n' "$i" "$i"
			fi
			;;
		esac
	done
	echo "# the end"
	echo "dev-1,$ZERO64" # another key for an allowlisted UDID: the server refuses it
} >"$T/allow.csv"
LINES=$(wc -l <"$T/allow.csv")
# the refused lines: the file's line numbers (data starts on line 4)
BAD=$(awk -F, 'NR > 3 && $0 !~ /^#/ && ($1 ~ / / || $0 ~ /"/ || NF == 1 || NF > 4 ||
	$3 ~ / / || $3 == "nosuch" || $4 == "123" || $2 == "QUJD" || length($2) == 63 ||
	$1 == "dev-1") {print NR}' "$T/allow.csv" | sort -n | tr '\n' ' ')
NBAD=$(echo "$BAD" | wc -w)
[ "$NBAD" -eq 46 ] || fail "the test file has $NBAD bad lines, expected 46"
NGOOD=$((300 - NBAD + 1))
n=$(changes)
run allowlist import "$T/allow.csv"
eq "$RC" 1 "exit status of an import that refused lines"
out_has "^added $NGOOD, unchanged 0, refused $NBAD$" "allowlist import summary"
eq "$(grep -oE '^line [0-9]+' "$T/out" | awk '{print $2}' | tr '\n' ' ')" "$BAD" "refused line numbers"
out_has "^line 10: invalid key" "a 63-digit key"
out_has "^line 16: invalid UDID" "a UDID with a space"
out_has "^line 22: invalid group name" "a bad group"
out_has "^line 26: invalid ICCID" "a bad ICCID"
out_has "^line 32: quotes" "quotes"
out_has "^line 34: more than 4 fields" "five fields"
out_has "^line 44: no such group" "an unknown group (the server's)"
out_has "^line $LINES: the UDID has another allowlist entry" "another entry (the server's)"
eq "$(db "SELECT count(*) FROM allowlist WHERE udid LIKE 'imp-%'")" "$NGOOD" "allowlist rows after the import"
expect_change "$n" "allowlist import"
eq "$(db_key imp-8)" "$(spki_sha imp4)" "a base64 SubjectPublicKeyInfo is stored as its SHA-256"
eq "$(db_key imp-2)" "$(printf '%064x' 2)" "a hex key"
eq "$(db "SELECT group_name, iccid FROM allowlist WHERE udid='imp-8'")" "est-a|" "group of a row"
eq "$(db "SELECT group_name IS NULL, iccid FROM allowlist WHERE udid='imp-11'")" \
	"1|$(luhn 894450250900000011)" "an empty group and an ICCID, CRLF line end"
eq "$(db_key dev-1)" "$K1" "dev-1 after an import that refused its other key"

# again: idempotent
n=$(changes)
run --json allowlist import "$T/allow.csv"
eq "$RC" 1 "exit status of an import that refused lines, again"
jq_true ".added == 0 and .unchanged == $NGOOD and (.refused | length) == $NBAD and .lines == $LINES and .complete == true" \
	"allowlist import again"
jq_true "[.refused[].line] | map(tostring) | join(\" \") == \"${BAD% }\"" "refused lines, again"
no_change "$n" "an import that added nothing"
# from standard input, a clean file: exit 0
grep -v -e nosuch -e '^dev-1' "$T/allow.csv" | awk -F, 'NR <= 3 || ($1 !~ / / && $0 !~ /"/ && NF > 1 && NF < 5 &&
	$3 !~ / / && $4 != "123" && $2 != "QUJD" && length($2) != 63)' >"$T/clean.csv"
set +e
"$ZTPCTL" allowlist import - <"$T/clean.csv" >"$T/out" 2>"$T/err"
RC=$?
set -e
[ "$RC" -eq 0 ] || fail "allowlist import - of a clean file: exit $RC: $(cat "$T/err")"
out_has "^added 0, unchanged $NGOOD, refused 0$" "allowlist import -"

# across a batch boundary: two requests, one transaction and one event each
seq 1 5100 | awk '{printf "big-%d,%064x\n", $1, $1}' >"$T/big.csv"
n=$(changes)
ok_run allowlist import "$T/big.csv"
out_has '^added 5100, unchanged 0, refused 0$' "an import of two batches"
eq "$(db "SELECT count(*) FROM allowlist WHERE udid LIKE 'big-%'")" 5100 "rows of two batches"
expect_change "$n" "an import of two batches" 2
bad_run 1 allowlist import "$T/no-such.csv"
ok "allowlist import"

# ---- allowlist list, show, delete ----

NALLOW=$(db 'SELECT count(*) FROM allowlist')
ok_run allowlist list
out_has '^UDID +GROUP +ICCID +CREATED +KEY SHA256$' "allowlist list header"
out_has "^dev-2 +est-a +- +20[0-9-]+T[^ ]+ +$K1$" "allowlist list row"
eq "$(($(wc -l <"$T/out") - 1))" "$NALLOW" "allowlist list rows over several pages"
ok_run --json allowlist list --limit 3
jq_true '(.allowlist | length) == 3 and (.next | type == "string")' "allowlist list --limit 3"
ok_run allowlist show dev-2
out_has '^udid: +dev-2$' "allowlist show"
out_has "^key_sha256: +$K1$" "allowlist show"
out_has '^group: +est-a$' "allowlist show"
n=$(changes)
ok_run allowlist delete dev-3
eq "$(cat "$T/out")" "allowlist entry dev-3 deleted" "allowlist delete output"
eq "$(db "SELECT count(*) FROM allowlist WHERE udid='dev-3'")" 0 "allowlist rows after delete"
expect_change "$n" "allowlist delete"
bad_run 1 allowlist show dev-3
err_has '^ztpctl: not_found: .*\(HTTP 404\)$' "allowlist show of a deleted entry"
bad_run 1 allowlist delete dev-3
err_has 'not_found'
ok "allowlist list, show and delete"

# ---- one-time enrolment passwords ----

n=$(changes)
ok_run password create dev-p --group est-a
PW=$(cat "$T/out")
[[ "$PW" =~ ^[0-9a-f]{32}$ ]] || fail "password create printed '$PW'"
err_has "the enrolment password of dev-p, usable once until 20[0-9-]+T" "password create note"
expect_change "$n" "password create"
eq "$(db "SELECT count(*), max(group_name) FROM enrol_passwords WHERE udid='dev-p'")" "1|est-a" "password rows"
T_NOW=$(date -u +%s)
ok_run --json password create dev-q --ttl 600
jq_true '.udid == "dev-q" and (.password | test("^[0-9a-f]{32}$")) and .group == null' "password create --json"
PW2=$(jq -r .password "$T/out")
EXP=$(date -u -d "$(jq -r .expires_at "$T/out")" +%s)
[ $((EXP - T_NOW)) -ge 595 ] && [ $((EXP - T_NOW)) -le 610 ] || fail "--ttl 600 expires in $((EXP - T_NOW)) s"
[ "$PW" != "$PW2" ] || fail "two passwords are the same"
bad_run 1 password create dev-q --group nosuch
err_has 'not_found'
# only its hash is stored, and it is logged nowhere
for p in "$PW" "$PW2"; do
	grep -rqF "$p" "$DATA" && fail "a password is in the data directory"
	grep -qF "$p" "$T/ztpd.log" && fail "a password is in ztpd's log"
	[ "$(db "SELECT count(*) FROM events WHERE detail LIKE '%$p%'")" = 0 ] || fail "a password is in an event"
done
db_dump | grep -qF "$PW" && fail "a password is in the database"
# and it is the password: it enrols dev-p once (EST, HTTP Basic)
newkey kp
[ "$(enrol kp dev-p -u "dev-p:$PW")" = 200 ] || fail "enrolment with the password: $(head -c 200 "$T/body")"
[ "$(enrol kp dev-p -u "dev-p:$PW")" != 200 ] || fail "a used password enrolled again"
ok "password create"

# ---- manufacturer CAs ----

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/maker.key" \
	-subj "/O=Maker/CN=Maker Root CA" -days 30 -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$T/maker.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/leaf.key" \
	-subj "/CN=not a ca" -days 30 -addext "basicConstraints=critical,CA:FALSE" \
	-out "$T/leaf.pem" 2>/dev/null
MAKER_SHA=$(openssl x509 -in "$T/maker.pem" -outform DER | sha256sum | cut -d' ' -f1)
{ echo "Some text before"; cat "$T/maker.pem"; } >"$T/maker-text.pem"
n=$(changes)
ok_run mfr-ca add maker "$T/maker-text.pem" --group est-b
out_has "^manufacturer CA maker added: CN=Maker Root CA,O=Maker, valid until 20[0-9-]+T[^ ]+, sha256 $MAKER_SHA$" \
	"mfr-ca add output"
expect_change "$n" "mfr-ca add"
eq "$(db "SELECT lower(hex(sha256)), group_name FROM mfr_cas WHERE name='maker'")" "$MAKER_SHA|est-b" "mfr_cas row"
SNAP=$(cert_snapshot)
n=$(changes)
bad_run 1 mfr-ca add leaf "$T/leaf.pem"
err_has '^ztpctl: bad_request: .*not a CA certificate.*\(HTTP 400\)$' "a non-CA certificate"
cat "$T/maker.pem" "$T/maker.pem" >"$T/two.pem"
bad_run 1 mfr-ca add two "$T/two.pem"
err_has 'exactly one PEM CERTIFICATE'
cat "$T/maker.pem" "$T/maker.key" >"$T/with-key.pem"
bad_run 1 mfr-ca add withkey "$T/with-key.pem"
err_has 'private key.*nothing was sent'
bad_run 1 mfr-ca add maker "$T/maker.pem"
err_has '^ztpctl: conflict: .*\(HTTP 409\)$' "the same name again"
bad_run 1 mfr-ca add maker2 "$T/maker.pem"
err_has 'HTTP 409' "the same certificate again"
bad_run 1 mfr-ca add maker3 "$T/maker.pem" --group nosuch
err_has 'not_found'
[ "$(cert_snapshot)" = "$SNAP" ] || fail "a refused mfr-ca add changed the store"
no_change "$n" "refused mfr-ca adds"

ok_run mfr-ca list
out_has '^NAME +GROUP +NOT AFTER +SHA256 +SUBJECT$' "mfr-ca list header"
out_has "^maker +est-b +20[0-9-]+T[^ ]+ +$MAKER_SHA +CN=Maker Root CA,O=Maker$" "mfr-ca list row"
ok_run --json mfr-ca list
jq_true '(.manufacturer_cas | length) == 1 and (.manufacturer_cas[0] | has("pem") | not)' "mfr-ca list --json"
ok_run mfr-ca show maker
out_has '^subject: +CN=Maker Root CA,O=Maker$' "mfr-ca show"
sed -n '/BEGIN CERTIFICATE/,$p' "$T/out" | openssl x509 -outform DER | cmp -s - <(openssl x509 -in "$T/maker.pem" -outform DER) ||
	fail "mfr-ca show does not print the certificate"
ok_run --json mfr-ca show maker
jq_true ".name == \"maker\" and .sha256 == \"$MAKER_SHA\" and (.pem | startswith(\"-----BEGIN CERTIFICATE-----\n\"))" \
	"mfr-ca show --json (the stored PEM is the certificate alone)"
bad_run 1 mfr-ca show nosuch
err_has 'not_found'
n=$(changes)
ok_run mfr-ca delete maker
eq "$(cat "$T/out")" "manufacturer CA maker deleted" "mfr-ca delete output"
expect_change "$n" "mfr-ca delete"
ok_run --json mfr-ca list
jq_true '.manufacturer_cas == []' "mfr-ca list after delete"
bad_run 1 mfr-ca delete maker
err_has 'not_found'
ok "manufacturer CAs"

# ---- devices: block an allowlisted UDID with no certificate yet, and its SIM ----

ok_run sim add "$ICCID_S" --psk "$PSK2"
ok_run allowlist add dev-s --key-sha256 "$ZERO64" --iccid "$ICCID_S" --group est-a
eq "$(db "SELECT count(*) FROM things WHERE udid='dev-s'")" 0 "no device record before the block"
n=$(changes)
ok_run device block dev-s
eq "$(cat "$T/out")" "device dev-s blocked: 0 certificates revoked" "device block output"
expect_change "$n" "device block"
eq "$(db "SELECT blocked, iccid, group_name FROM things WHERE udid='dev-s'")" "1|$ICCID_S|est-a" "the device record"
eq "$(db "SELECT blocked FROM sims WHERE iccid='$ICCID_S'")" 1 "its SIM after the block"
ok_run sim show "$ICCID_S"
out_has '^blocked: +yes$' "sim show after device block"
ok_run device show dev-s
out_has '^blocked: +yes$' "device show"
out_has "^iccid: +$ICCID_S$" "device show"
out_has '^certs: +0$' "device show"
ok_run --json device show dev-s
jq_true ".udid == \"dev-s\" and .blocked == true and .certificates == [] and .newest_serial == null" "device show --json"
ok_run device list
out_has '^UDID +BLOCKED +GROUP +ICCID +CERTS +UPDATED$' "device list header"
out_has "^dev-s +yes +est-a +$ICCID_S +0 +20" "device list row"
n=$(changes)
ok_run --json device unblock dev-s
jq_true '.udid == "dev-s" and .blocked == false' "device unblock --json"
expect_change "$n" "device unblock"
eq "$(db "SELECT blocked FROM sims WHERE iccid='$ICCID_S'")" 0 "its SIM after the unblock"
ok_run device unblock dev-s
eq "$(cat "$T/out")" "device dev-s unblocked" "device unblock output"
SNAP=$(cert_snapshot)
n=$(changes)
bad_run 1 device block nosuch
err_has '^ztpctl: not_found: .*\(HTTP 404\)$' "device block of an unknown UDID"
bad_run 1 device show nosuch
err_has 'not_found'
bad_run 1 device unblock nosuch
[ "$(cert_snapshot)" = "$SNAP" ] || fail "a refused device block changed the store"
no_change "$n" "refused device blocks"
ok "device block and unblock"

# ---- issued certificates: enrolled over EST, listed, revoked, on the CRL ----

newkey ke
pubpem ke
ok_run allowlist add dev-e --pubkey "$T/ke.pub"
[ "$(enrol ke dev-e)" = 200 ] || fail "enrolment of dev-e: $(head -c 200 "$T/body")"
SE=$(serial_of ke)
ok_run cert list
out_has '^SERIAL +UDID +METHOD +ISSUED +NOT AFTER +REVOKED$' "cert list header"
out_has "^$SE +dev-e +allowlist +20[^ ]+ +20[^ ]+ +no$" "cert list row"
eq "$(($(wc -l <"$T/out") - 1))" "$(db 'SELECT count(*) FROM certs')" "cert list rows"
ok_run --json cert list --udid dev-e
jq_true "(.certs | length) == 1 and .certs[0].serial == \"$SE\" and .certs[0].revoked == false and .certs[0].key_sha256 == \"$(spki_sha ke)\"" \
	"cert list --udid"
ok_run --json cert list --udid dev-s
jq_true '.certs == []' "cert list of a device with none"
ok_run cert show "$SE"
out_has "^serial: +$SE$" "cert show"
out_has '^method: +allowlist$' "cert show"
ok_run cert show "000$(echo "$SE" | tr A-F a-f)"
out_has "^serial: +$SE$" "cert show of a lower-case serial with leading zeros"
bad_run 1 cert show 0123456789ABCDEF
err_has '^ztpctl: not_found: .*\(HTTP 404\)$' "cert show of an unknown serial"
ok_run device show dev-e
out_has "^newest_serial: +$SE$" "device show"
out_has "^$SE +dev-e +allowlist " "device show: its certificates"
crl_has "$SE" && fail "the CRL lists a certificate before its revocation"

n=$(changes)
r=$(ev_count cert_revoked)
ok_run cert revoke "$SE" --reason keyCompromise
eq "$(cat "$T/out")" "certificate $SE of dev-e revoked (keyCompromise)" "cert revoke output"
expect_change "$n" "cert revoke"
expect_new_event cert_revoked "$r"
eq "$(db "SELECT revoked_at > 0, reason FROM certs WHERE serial='$SE'")" "1|1" "the revoked certificate"
crl_has "$SE" || fail "the CRL does not list the revoked certificate at once"
ok_run --json cert show "$SE"
jq_true '.revoked == true and .reason == "keyCompromise" and (.revoked_at | type == "string")' "cert show of a revoked certificate"
ok_run cert list --udid dev-e
out_has "^$SE +dev-e +allowlist +[^ ]+ +[^ ]+ +keyCompromise$" "cert list of a revoked certificate"
SNAP=$(cert_snapshot)
n=$(changes)
bad_run 1 cert revoke "$SE"
err_has '^ztpctl: conflict: .*revoked already.*\(HTTP 409\)$' "revoking twice"
bad_run 1 cert revoke 0123456789ABCDEF
err_has 'not_found'
[ "$(cert_snapshot)" = "$SNAP" ] || fail "a refused revocation changed the store"
no_change "$n" "refused revocations"

# blocking a device revokes its certificates (privilegeWithdrawn), on the CRL at once
newkey kb
pubpem kb
ok_run allowlist add dev-b --pubkey "$T/kb.pub"
[ "$(enrol kb dev-b)" = 200 ] || fail "enrolment of dev-b: $(head -c 200 "$T/body")"
SB=$(serial_of kb)
n=$(changes)
ok_run --json device block dev-b
jq_true '.udid == "dev-b" and .blocked == true and .revoked == 1' "device block --json"
expect_change "$n" "device block with a certificate"
eq "$(db "SELECT revoked_at > 0, reason FROM certs WHERE serial='$SB'")" "1|9" "a blocked device's certificate"
crl_has "$SB" || fail "the CRL does not list a blocked device's certificate"
[ "$(enrol kb dev-b)" != 200 ] || fail "a blocked device enrolled"
ok_run cert list --udid dev-b
out_has "^$SB +dev-b .* privilegeWithdrawn$" "cert list after device block"
ok "certificates: list, show, revoke, device block"

# ---- the events name every change; nothing secret was printed ----

ok_run events --json --since "$T_START"
for what in "enrolment password created for dev-q" "manufacturer CA added: maker" \
	"manufacturer CA deleted: maker" "device blocked: dev-s" "device unblocked: dev-s" \
	"certificate revoked: $SE" "allowlist entry deleted: dev-3"; do
	json_true "$T/out" '[.events[] | select(.kind == "admin_change") | .detail | startswith($w)] | any' \
		--arg w "$what" || fail "no admin_change event '$what'"
done
grep -qF "$SECRET" "$T/all" && fail "ztpctl printed the admin secret"
eq "$(grep -cF "$PW" "$T/all")" 1 "the password was printed once"
ok "events"

# ---- the OpenAPI description holds the new paths and is valid ----

for p in /v1/allowlist /v1/allowlist/import "/v1/allowlist/{udid}" /v1/enrolment-passwords \
	/v1/manufacturer-cas "/v1/manufacturer-cas/{name}" /v1/certs "/v1/certs/{serial}" \
	"/v1/certs/{serial}/revoke" /v1/devices "/v1/devices/{udid}" "/v1/devices/{udid}/block" \
	"/v1/devices/{udid}/unblock"; do
	grep -qF "  $p:" "$SRC/docs/openapi.yaml" || fail "docs/openapi.yaml has no $p"
done
if python3 -c 'import openapi_spec_validator' 2>/dev/null; then
	python3 -c 'import sys, yaml; from openapi_spec_validator import validate
validate(yaml.safe_load(open(sys.argv[1])))' "$SRC/docs/openapi.yaml" || fail "docs/openapi.yaml is not valid OpenAPI"
	ok "docs/openapi.yaml is valid"
else
	python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$SRC/docs/openapi.yaml" ||
		fail "docs/openapi.yaml is not YAML"
	ok "docs/openapi.yaml is YAML (openapi_spec_validator not installed)"
fi

stop_ztpd
echo "ztpctl certificates: all checks passed"
