#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# PSK sources end to end (docs/psk-sources.md): ztpctl sim import of a SIM
# maker's batch file (header, CRLF, blank lines, every kind of malformed
# line, idempotence, conflicts, --json, stdin, a 20,000-row file, a server
# that dies mid-import, a token that expires mid-import), SIM groups (plain,
# derived with a generated or a given master key; list, show, conflicts), a
# SIM of a derived group connecting with no stored PSK and being registered,
# the longest prefix winning, both identity forms, and psk_ke allowed per
# group. No PSK and no master key in any output but where they must be.
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_import.sh
# ZTP_IMPORT_ROWS=1000000 for the large import (its time is printed).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ -x "$ZTPCTL" ] || fail "no ztpctl at $ZTPCTL"
[ -x "$PSK_CLIENT" ] || fail "no psk_client at $PSK_CLIENT"

# ---- helpers ----

# run ARGS...: runs ztpctl; stdout in $T/out, stderr in $T/err, status in RC.
# Everything it printed is kept in $T/all to look for secrets at the end.
run() {
	set +e
	"$ZTPCTL" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	cat "$T/out" "$T/err" >>"$T/all"
}
ok_run() {
	run "$@"
	[ "$RC" -eq 0 ] || fail "ztpctl $*: exit $RC: $(head -c 500 "$T/err")"
}
bad_run() { # bad_run STATUS ARGS...
	local want=$1
	shift
	run "$@"
	[ "$RC" -eq "$want" ] || fail "ztpctl $*: exit $RC, expected $want; stderr: $(head -c 500 "$T/err")"
}
out_has() { grep -qE -- "$1" "$T/out" || fail "${2:-stdout}: no /$1/ in: $(head -c 800 "$T/out")"; }
err_has() { grep -qE -- "$1" "$T/err" || fail "${2:-stderr}: no /$1/ in: $(head -c 800 "$T/err")"; }
jq_true() { json_true "$T/out" "$1" || fail "${2:-json}: $1 is not true for: $(head -c 800 "$T/out")"; }
eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }
nsims() { db "SELECT count(*) FROM sims"; }

# ef ICCID: EF_ICCID in hex (swapped nibbles, F filler), as in iccid=
ef() {
	local s=$1 out="" i
	while [ ${#s} -lt 20 ]; do s=${s}F; done
	for ((i = 0; i < 20; i += 2)); do out+=${s:i+1:1}${s:i:1}; done
	echo "$out"
}
# hmac_ascii MASTER_HEX ICCID: the derived key for the identity in ASCII digits
hmac_ascii() { printf '%s' "$2" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" | awk '{print $NF}'; }
# hmac_bcd MASTER_HEX ICCID: the derived key for the identity as EF_ICCID bytes
hmac_bcd() { ef "$2" | xxd -r -p | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" | awk '{print $NF}'; }
# req_file ICCID: a GET of the configuration for psk_client --request-file; prints its path
req_file() {
	request GET "$(config_path "$DEVID" "$(ef "$1")")" >"$T/req-$1"
	echo "$T/req-$1"
}
# get_as ICCID KEY: GET the configuration with s_client, identity in ASCII; prints the status
get_as() {
	S_ID=$1 S_PSK=$2 s_client_get "$(config_path "$DEVID" "$(ef "$1")")" | status_of || true
}

start_ztpd
: >"$T/all"
PSKS=() # every PSK written to a file, to look for in the output at the end

# ---- help and usage errors (before the admin file is read) ----

ok_run --help
for c in "sim import" "sim rotate" "group create" "group list" "group show" "--group" "--iccid-prefix" \
	"--derive" "--master-key-file" "--allow-psk-ke" "--rotation-period" "refused line"; do
	grep -qF -- "$c" "$T/out" || fail "--help does not mention '$c'"
done
export ZTP_ADMIN=$T/no-such-admin.json
bad_run 2 sim import
bad_run 2 sim import a b
bad_run 2 group create
bad_run 2 group create 'bad name'
err_has 'invalid group name'
bad_run 2 group create "$(printf 'g%.0s' $(seq 64))"
bad_run 2 group create g --master-key-file "$T/k"
err_has 'goes with --derive'
bad_run 2 group create g --iccid-prefix 89x
bad_run 2 group create g --iccid-prefix ''
bad_run 2 group create g --iccid-prefix 894450250918638963512
bad_run 2 group create g --rotation-period -1
bad_run 2 group create g --rotation-period 315360001
bad_run 2 group show 'a/b'
bad_run 2 sim add "$ICCID" --psk "$PSK" --group 'a b'
[ ! -e "$T/k" ] || fail "a usage error created the key file"
bad_run 1 sim import "$T/no-such-file.csv"
err_has 'no-such-file.csv: No such file'
export ZTP_ADMIN=$DATA/admin.json
ok "help and usage errors"

# ---- groups ----

n=$(db "SELECT count(*) FROM groups")
ok_run group create fleet-a
eq "$(cat "$T/out")" "group fleet-a created" "group create output"
eq "$(db "SELECT count(*) FROM groups")" "$((n + 1))" "groups after group create"
ok_run --json group create plain-b --iccid-prefix 8944599 --allow-psk-ke --rotation-period 86400
jq_true '.name == "plain-b" and .iccid_prefix == "8944599" and .derive == false and .allow_psk_ke == true and .rotation_period_s == 86400 and .sims == 0 and (has("master_key") | not)' "group create --json"

# derived, the generated key written to a new file (0600), shown nowhere
ok_run group create gen --derive --iccid-prefix 89445017 --master-key-file "$T/gen.key"
out_has "^group gen created; its master key was written to .*gen\.key \(mode 0600\)$" "derived group with a generated key"
[ -f "$T/gen.key" ] || fail "no key file"
eq "$(stat -c %a "$T/gen.key")" 600 "mode of the generated key file"
GEN_KEY=$(cat "$T/gen.key")
[[ $GEN_KEY =~ ^[0-9A-Fa-f]{64}$ ]] || fail "the key file does not hold 64 hex digits"
eq "$(wc -c <"$T/gen.key")" 65 "size of the key file (64 hex digits and a newline)"
ok_run --json group show gen
jq_true '.name == "gen" and .derive == true and .iccid_prefix == "89445017" and (has("master_key") | not)' "group show of a derived group"

# derived, the key given in a file: 64 hex digits, or 32 raw bytes
openssl rand -hex 32 >"$T/given.key"
chmod 600 "$T/given.key"
GIVEN_KEY=$(cat "$T/given.key")
ok_run group create given --derive --iccid-prefix 89445018 --master-key-file "$T/given.key"
out_has "^group given created with the master key of .*given\.key$" "derived group with a given key"
eq "$(cat "$T/given.key")" "$GIVEN_KEY" "the given key file after group create"
head -c 32 /dev/urandom >"$T/raw.key"
chmod 644 "$T/raw.key"
RAW_KEY=$(xxd -p -c 64 "$T/raw.key")
ok_run --json group create raw --derive --iccid-prefix 89445019 --master-key-file "$T/raw.key"
jq_true '.name == "raw" and .derive == true and (has("master_key") | not)' "derived group with a raw key file"
err_has 'others can read it' "warning about a readable key file"

# derived without a file: the key once on stdout, a warning on stderr
ok_run group create printed --derive --iccid-prefix 89445016
PRINTED_KEY=$(cat "$T/out")
[[ $PRINTED_KEY =~ ^[0-9A-Fa-f]{64}$ ]] || fail "group create --derive: stdout is not the key: $PRINTED_KEY"
err_has 'never shown again' "warning of a printed master key"
eq "$(wc -l <"$T/err")" 1 "lines of the warning"
# a shorter prefix than gen's: gen's ICCIDs are gen's (the longest prefix wins)
ok_run group create short --derive --iccid-prefix 894450 --master-key-file "$T/short.key"
SHORT_KEY=$(cat "$T/short.key")

# refused: a group that exists (the reserved key file is removed), a bad key file
bad_run 1 group create fleet-a
err_has '^ztpctl: conflict: .*\(HTTP 409\)$' "duplicate group"
bad_run 1 group create gen --derive --master-key-file "$T/dup.key"
err_has 'conflict' "duplicate derived group"
[ ! -e "$T/dup.key" ] || fail "a refused group create left its key file"
printf 'hello\n' >"$T/bad.key"
bad_run 1 group create bad --derive --master-key-file "$T/bad.key"
err_has 'is not a master key' "a bad key file"
bad_run 1 group show nosuch
err_has 'not_found' "group show of an unknown group"

ok_run group list
out_has '^NAME +ICCID PREFIX +DERIVE +PSK_KE +ROTATION +SIMS +CREATED$' "group list header"
out_has '^fleet-a +- +no +no +0 +0 +20' "group list row of a plain group"
out_has '^gen +89445017 +yes +no ' "group list row of a derived group"
eq "$(($(wc -l <"$T/out") - 1))" "$(db 'SELECT count(*) FROM groups')" "group list rows"
ok_run --json group list
jq_true '[.groups[].name] | sort == ["fleet-a", "gen", "given", "plain-b", "printed", "raw", "short"]' "group list --json"
jq_true '[.groups[] | has("master_key")] | any | not' "group list shows no master key"
ok_run group show plain-b
out_has '^allow_psk_ke: +yes$' "group show"
out_has '^rotation_period_s: +86400$' "group show"
ok "groups: create, list, show, conflicts"

# ---- a batch file with every kind of line ----

P1=000102030405060708090A0B0C0D0E0F
P2=00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF
P3=F0E0D0C0B0A090807060504030201000
PSKS+=("$P1" "$P2" "$P3")
{
	printf 'ICCID,PSK_HEX,GROUP\r\n'                        # 1 header
	printf '8944500100000000001,%s\r\n' "$P1"               # 2
	printf '\r\n'                                           # 3 blank
	printf '8944500100000000002,%s,fleet-a\r\n' "$P2"       # 4
	printf '89445001000000003,%s\r\n' "$P1"                 # 5 bad ICCID (17 digits)
	printf '8944500100000000004,000102030405060708\r\n'     # 6 short PSK
	printf '8944500100000000005,%sZZ\r\n' "${P1:2}"         # 7 bad hex
	printf '8944500100000000006,%s,fleet-a,x\r\n' "$P1"     # 8 four fields
	printf '8944500100000000007,%s,nosuch\r\n' "$P1"        # 9 unknown group
	printf '\n'                                             # 10 blank (LF)
	printf '"8944500100000000008","%s"\r\n' "$P1"           # 11 quotes
	printf '8944500100000000009,%s,' "$P1"                  # 12 line over 512 bytes
	head -c 600 /dev/zero | tr '\0' g
	printf '\r\n'
	printf '8944500100000000010,%s\n' "$P3"                 # 13 after the long line
	printf '8944500100000000011,%s,plain-b' "$P3"           # 14 no line end
} >"$T/batch.csv"
REFUSED_LINES='5 6 7 8 9 11 12'

SNAP=$(nsims)
bad_run 1 sim import "$T/batch.csv"
cp "$T/out" "$T/first.out"
eq "$(head -1 "$T/out")" "added 4, unchanged 0, refused 7" "first import summary"
for l in $REFUSED_LINES; do out_has "^line $l: " "refused line $l"; done
out_has '^line 5: invalid ICCID' "bad ICCID reason"
out_has '^line 6: invalid PSK: shorter than 16 bytes' "short PSK reason"
out_has '^line 7: invalid PSK: not hex' "bad hex reason"
out_has '^line 8: more than 3 fields' "four fields reason"
out_has '^line 9: no group nosuch' "unknown group reason (from the server)"
out_has '^line 11: quotes are not supported' "quotes reason"
out_has '^line 12: line longer than 512 bytes' "long line reason"
eq "$(($(wc -l <"$T/out") - 1))" 7 "refused lines listed"
eq "$(sed -n '2,$p' "$T/out" | awk '{print $2}' | tr -d : | tr '\n' ' ')" "$REFUSED_LINES " "refused lines in file order"
eq "$(nsims)" "$((SNAP + 4))" "SIMs after the first import"
for i in 01 02 10 11; do
	eq "$(db "SELECT count(*) FROM sims WHERE iccid='89445001000000000$i'")" 1 "imported SIM ...$i"
done
for i in 03 04 05 06 07 08 09; do
	eq "$(db "SELECT count(*) FROM sims WHERE iccid LIKE '894450010000000%$i'")" 0 "refused SIM ...$i"
done
eq "$(db "SELECT group_name FROM sims WHERE iccid='8944500100000000002'")" fleet-a "group of an imported SIM"
eq "$(db "SELECT group_name FROM sims WHERE iccid='8944500100000000011'")" plain-b "group of the last line"
ok_run --json sim show 8944500100000000002
jq_true '.group == "fleet-a" and .derived == false and (has("psk") | not)' "sim show of an imported SIM"
ok_run sim show 8944500100000000001
out_has '^group: +-$' "sim show: no group"
out_has '^derived: +no$' "sim show: derived"
# the imported PSK is the one the SIM uses
eq "$(get_as 8944500100000000002 "$P2")" 204 "an imported SIM's handshake with its PSK"

# the same file again: nothing changes, the same refusals
SNAP=$(db_snapshot)
bad_run 1 sim import "$T/batch.csv"
eq "$(head -1 "$T/out")" "added 0, unchanged 4, refused 7" "second import summary"
diff <(sed 1d "$T/first.out") <(sed 1d "$T/out") >/dev/null || fail "the second import's refusals differ"
[ "$(db_snapshot)" = "$SNAP" ] || fail "importing the same file again changed the store"

# --json: every refusal with its line, and from stdin
bad_run 1 --json sim import - <"$T/batch.csv"
jq_true '.added == 0 and .unchanged == 4 and (.refused | length) == 7 and .lines == 14 and .complete == true and .stopped_at_line == null' "import --json"
jq_true '[.refused[].line] == [5, 6, 7, 8, 9, 11, 12] and ([.refused[].error | type] | unique) == ["string"]' "import --json refusals"
jq_true '(keys | sort) == ["added", "complete", "lines", "refused", "stopped_at_line", "unchanged"]' "import --json keys"
jq_true '[.refused[] | keys] | unique == [["error", "line"]]' "import --json refusal keys"
ok "batch file: header, CRLF, blank lines, each malformed line, idempotence, --json, stdin"

# a SIM that exists with another PSK or another group is refused; a good file exits 0
{
	printf '8944500100000000001,%s\n' "$P3"          # another PSK
	printf '8944500100000000002,%s\n' "$P2"          # its group is fleet-a, not none
	printf '8944500100000000012,%s,fleet-a\n' "$P3" # new
	printf '8944500100000000012,%s,fleet-a\n' "$P3" # the same, twice in the file
	printf '8944500100000000013,%s\n' "$P3"          # new
	printf '8944500100000000013,%s\n' "$P1"          # again, another PSK
} >"$T/conflict.csv"
SNAP=$(nsims)
bad_run 1 sim import "$T/conflict.csv"
eq "$(head -1 "$T/out")" "added 2, unchanged 1, refused 3" "conflicting import summary"
out_has '^line 1: SIM exists with another PSK or group$' "another PSK"
out_has '^line 2: SIM exists with another PSK or group$' "another group"
out_has '^line 6: SIM exists with another PSK or group$' "another PSK later in the file"
eq "$(nsims)" "$((SNAP + 2))" "SIMs after the conflicting import"
eq "$(get_as 8944500100000000001 "$P1")" 204 "a refused import row kept the old PSK"

printf 'iccid,psk\n8944500100000000014,%s\n' "$P1" >"$T/good.csv"
ok_run sim import "$T/good.csv"
eq "$(cat "$T/out")" "added 1, unchanged 0, refused 0" "a good file"
ok_run sim import "$T/good.csv"
eq "$(cat "$T/out")" "added 0, unchanged 1, refused 0" "a good file again"
: >"$T/empty.csv"
ok_run sim import "$T/empty.csv"
eq "$(cat "$T/out")" "added 0, unchanged 0, refused 0" "an empty file"
ok "conflicts, exit statuses"

# more than 50 refused lines: the first 50, then "... and N more"; --json has all
awk 'BEGIN { for (i = 1; i <= 60; i++) printf "bad%d,00\n", i }' >"$T/many.csv"
bad_run 1 sim import "$T/many.csv"
eq "$(head -1 "$T/out")" "added 0, unchanged 0, refused 60" "many refusals"
eq "$(grep -c '^line ' "$T/out")" 50 "refused lines shown"
eq "$(tail -1 "$T/out")" "... and 10 more" "the rest"
bad_run 1 --json sim import "$T/many.csv"
jq_true '(.refused | length) == 60 and .refused[59].line == 60' "--json: every refusal"
ok "more than 50 refusals"

# ---- a large file: 20,000 rows (ZTP_IMPORT_ROWS for more), several batches ----

NROWS=${ZTP_IMPORT_ROWS:-20000}
awk -v n="$NROWS" 'BEGIN { for (i = 0; i < n; i++)
	printf "89446%014d,%08x%08x%08x%08x%08x%08x%08x%08x\n", i, i, i * 3, i * 7, i * 11, i * 13, i * 17, i * 19, i * 31 }' >"$T/large.csv"
SNAP=$(nsims)
START=$(date +%s.%N)
ok_run sim import "$T/large.csv"
END=$(date +%s.%N)
eq "$(cat "$T/out")" "added $NROWS, unchanged 0, refused 0" "large import summary"
eq "$(nsims)" "$((SNAP + NROWS))" "SIMs after the large import"
echo "time: $NROWS rows imported in $(awk "BEGIN { printf \"%.2f\", $END - $START }") s"
ok_run --json sim import "$T/large.csv"
jq_true ".added == 0 and .unchanged == $NROWS and .refused == []" "large import again"
ROW=$(sed -n '12346p' "$T/large.csv")
eq "$(get_as "${ROW%%,*}" "${ROW#*,}")" 204 "a SIM of the large import connects with its PSK"
PSKS+=("${ROW#*,}")
ok "large import ($NROWS rows)"

# ---- sim add --group ----

ok_run --json sim add 8944599000000000001 --psk "$P1" --group plain-b
jq_true '.group == "plain-b" and .derived == false' "sim add --group"
bad_run 1 sim add 8944599000000000002 --psk "$P1" --group nosuch
err_has 'not_found' "sim add to an unknown group"
eq "$(db "SELECT count(*) FROM sims WHERE iccid='8944599000000000002'")" 0 "sim add to an unknown group stored nothing"
# sim rotate (docs/psk-rotation.md): the request is recorded
ok_run sim rotate 8944599000000000001
out_has '^SIM 8944599000000000001 rotation asked' "sim rotate"
ok_run --json sim show 8944599000000000001
jq_true '.rotation_pending == true' "sim show after sim rotate"
bad_run 1 sim rotate 8944599000000000002
err_has 'not_found' "sim rotate of an unknown SIM"
ok "sim add --group, sim rotate"

# ---- a SIM of a derived group: no stored PSK, registered on its first handshake ----

D1=8944501700000000001
eq "$(db "SELECT count(*) FROM sims WHERE iccid='$D1'")" 0 "the derived SIM before its first handshake"
bad_run 1 sim show "$D1"
REG=$(ev_count sim_registered)
K1=$(hmac_ascii "$GEN_KEY" "$D1")
eq "$(get_as "$D1" "$K1")" 204 "a derived SIM's first handshake (identity in ASCII)"
expect_new_event sim_registered "$REG"
ok_run --json sim show "$D1"
jq_true ".iccid == \"$D1\" and .derived == true and .group == \"gen\" and .device_id == \"$DEVID\"" "sim show of a registered derived SIM"
ok_run sim show "$D1"
out_has '^derived: +yes$' "sim show: derived"
out_has '^group: +gen$' "sim show: group"
eq "$(get_as "$D1" "$K1")" 204 "a registered derived SIM's second handshake"
eq "$(db "SELECT count(*) FROM events WHERE kind='sim_registered' AND iccid='$D1'")" 1 "sim_registered once"
ok_run --json group show gen
jq_true '.sims == 1' "the derived group counts its SIM"

# a wrong derived key is refused, and nothing is registered
D2=8944501700000000002
HS=$(ev_count handshake_refused)
eq "$(get_as "$D2" "$(hmac_ascii "$GIVEN_KEY" "$D2")")" "" "a derived SIM with another group's key"
eq "$(get_as "$D2" "$(hmac_bcd "$GEN_KEY" "$D2")")" "" "a derived SIM with the key of the other identity form"
expect_new_event handshake_refused "$HS"
eq "$(db "SELECT count(*) FROM sims WHERE iccid='$D2'")" 0 "a refused derived SIM is not registered"

# the longest prefix wins: 894450 (short) does not give the keys of 89445017 (gen)
eq "$(get_as "$D2" "$(hmac_ascii "$SHORT_KEY" "$D2")")" "" "the shorter prefix's key"
D3=8944502000000000003
eq "$(get_as "$D3" "$(hmac_ascii "$SHORT_KEY" "$D3")")" 204 "the shorter prefix's own SIM"
eq "$(db "SELECT group_name FROM sims WHERE iccid='$D3'")" short "group of the shorter prefix's SIM"

# the given keys, hex and raw, and the printed one
for g in given:89445018:$GIVEN_KEY raw:89445019:$RAW_KEY printed:89445016:$PRINTED_KEY; do
	IFS=: read -r name prefix key <<<"$g"
	D=${prefix}00000000009
	eq "$(get_as "$D" "$(hmac_ascii "$key" "$D")")" 204 "a SIM of group $name"
	eq "$(db "SELECT group_name FROM sims WHERE iccid='$D'")" "$name" "group of the SIM of $name"
done

# the identity as EF_ICCID bytes (what a SIM sends by default): HMAC over those 10 bytes
D4=8944501700000000004
out=$("$PSK_CLIENT" --port "$DEVICE_PORT" --iccid-bcd "$D4" --psk "$(hmac_bcd "$GEN_KEY" "$D4")" \
	--request-file "$(req_file "$D4")" 2>"$T/pc.err") ||
	fail "psk_client with a derived key over EF_ICCID: $(cat "$T/pc.err")"
eq "$(printf '%s' "$out" | status_of)" 204 "a derived SIM with its EF_ICCID identity"
eq "$(db "SELECT group_name FROM sims WHERE iccid='$D4'")" gen "group of the BCD-identity SIM"
"$PSK_CLIENT" --port "$DEVICE_PORT" --iccid-bcd "$D4" --psk "$(hmac_ascii "$GEN_KEY" "$D4")" \
	--request-file "$(req_file "$D4")" >/dev/null 2>&1 &&
	fail "the ASCII identity's key was accepted for the EF_ICCID identity"
ok "derived groups: registration, wrong keys, longest prefix, given and printed keys, both identity forms"

# ---- psk_ke per group (ztpd runs without --allow-psk-ke) ----

ok_run group create kegroup --allow-psk-ke
ok_run sim add 8944598000000000001 --psk "$P1" --group kegroup
ok_run sim add 8944598000000000002 --psk "$P1"
psk_ke() { # psk_ke ICCID: GET with psk_ke only
	"$PSK_CLIENT" --port "$DEVICE_PORT" --iccid-bcd "$1" --psk "$P1" --psk-ke \
		--request-file "$(req_file "$1")" 2>"$T/pc.err"
}
psk_ke 8944598000000000001 >"$T/pc.out" || fail "psk_ke refused for a SIM of an allow_psk_ke group: $(cat "$T/pc.err")"
grep -q '^kex: psk_ke$' "$T/pc.err" || fail "no psk_ke: $(cat "$T/pc.err")"
eq "$(status_of <"$T/pc.out")" 204 "psk_ke request of a SIM of an allow_psk_ke group"
psk_ke 8944598000000000002 >/dev/null && fail "psk_ke accepted for a SIM outside the group"
psk_ke 8944500100000000001 >/dev/null && fail "psk_ke accepted for an imported SIM without a group"
# a derived group's policy: gen does not allow it, kederived does
ok_run group create kederived --derive --allow-psk-ke --iccid-prefix 89445015 --master-key-file "$T/ke.key"
D5=8944501500000000005
"$PSK_CLIENT" --port "$DEVICE_PORT" --iccid-bcd "$D5" --psk "$(hmac_bcd "$(cat "$T/ke.key")" "$D5")" --psk-ke \
	--request-file "$(req_file "$D5")" >/dev/null 2>"$T/pc.err" ||
	fail "psk_ke refused for a derived SIM of an allow_psk_ke group: $(cat "$T/pc.err")"
"$PSK_CLIENT" --port "$DEVICE_PORT" --iccid-bcd "$D4" --psk "$(hmac_bcd "$GEN_KEY" "$D4")" --psk-ke \
	--request-file "$(req_file "$D4")" >/dev/null 2>&1 &&
	fail "psk_ke accepted for a derived group that does not allow it"
ok "psk_ke per group"

# ---- a server that goes away mid-import; a token that expires mid-import ----

# slow_import GO_FILE ARGS...: ztpctl sim import - of large.csv's first 5,000
# rows, then (once GO_FILE exists) 5,000 more, in the background
awk 'NR <= 5000' "$T/large.csv" | sed 's/^89446/89447/' >"$T/part1.csv"
awk 'NR > 5000 && NR <= 10000' "$T/large.csv" | sed 's/^89446/89447/' >"$T/part2.csv"
slow_import() {
	local go=$1
	shift
	{
		cat "$T/part1.csv"
		for _ in $(seq 1 1200); do [ -e "$go" ] && break; sleep 0.05; done
		cat "$T/part2.csv"
	} | "$ZTPCTL" "$@" sim import - >"$T/out" 2>"$T/err" &
	SLOW_PID=$!
}
# wait_sims PATTERN N: until N SIMs match the LIKE pattern
wait_sims() {
	for _ in $(seq 1 200); do
		[ "$(db "SELECT count(*) FROM sims WHERE iccid LIKE '$1'")" -ge "$2" ] && return 0
		sleep 0.05
	done
	fail "no $2 SIMs like $1"
}

slow_import "$T/go1" --json
wait_sims '89447%' 5000
# the server dies (SIGTERM would let it serve the open connection while it drains)
kill_ztpd_hard
wait "$ZTPD_PID" 2>/dev/null || true
ZTPD_PID=""
touch "$T/go1"
set +e
wait "$SLOW_PID"
RC=$?
set -e
cat "$T/out" "$T/err" >>"$T/all"
eq "$RC" 1 "exit status of an import whose server went away"
err_has 'lines 5001 and after were not imported' "an import that stopped"
jq_true '.added == 5000 and .complete == false and .stopped_at_line == 5001 and .refused == []' "--json of an import that stopped"

start_ztpd --token-ttl 1
TR=$(ev_count token_refused)
slow_import "$T/go2"
wait_sims '89447%' 5000
sleep 1.5 # the token expires: the second batch gets a 401, a new token, and is sent again
touch "$T/go2"
set +e
wait "$SLOW_PID"
RC=$?
set -e
cat "$T/out" "$T/err" >>"$T/all"
eq "$RC" 0 "exit status of an import that outlived its token: $(cat "$T/err")"
eq "$(cat "$T/out")" "added 5000, unchanged 5000, refused 0" "an import that outlived its token"
expect_new_event token_refused "$TR"
eq "$(db "SELECT count(*) FROM sims WHERE iccid LIKE '89447%'")" 10000 "SIMs after the interrupted imports"
ok "an import that stopped (and is taken up again), an import that outlived its token"

# ---- no secret in any output ----

SECRET=$(jq -r .secret "$DATA/admin.json")
grep -qF "$SECRET" "$T/all" && fail "ztpctl printed the admin secret"
for p in "${PSKS[@]}"; do
	grep -qiF "$p" "$T/all" && fail "ztpctl printed a PSK ($p)"
done
for k in "$GEN_KEY" "$GIVEN_KEY" "$RAW_KEY" "$SHORT_KEY"; do
	grep -qiF "$k" "$T/all" && fail "ztpctl printed a master key kept in a file"
done
# the printed key was printed exactly once
eq "$(grep -ciF "$PRINTED_KEY" "$T/all")" 1 "outputs with the printed master key"
ok "no PSK, master key or secret in any output"

stop_ztpd
echo "import: all checks passed"
