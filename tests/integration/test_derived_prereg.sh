#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A SIM of a derived group pre-registered before its first handshake
# (`ztpctl sim add ICCID --derived`, docs/psk-sources.md): no PSK is stored,
# yet it can be blocked (its first contact is refused and recorded), given a
# configuration (its first fetch gets it, over the key derived from the
# group's master key), bound to a Device ID (another one is refused with
# 409) or rebound. An ICCID outside every derived group is refused with a
# clear message and changes nothing. No key in any output.
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_derived_prereg.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib_ztpctl.sh"

[ -x "$ZTPCTL" ] || fail "no ztpctl at $ZTPCTL"

# the master key of docs/psk-sources.md's test vectors: the bytes 0 to 31
MASTER=000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
OTHER_DEVID=00112233445566778899AABBCCDDEEFF
ICCID2=8944502509186389643
ICCID3=8944502509186389650
ICCID4=8944502509186389668
OUTSIDE_PLAIN=8944601234567890123 # under a plain group's prefix only
OUTSIDE=8812345678901234567       # under no group's prefix

# dkey ICCID: the SIM's key for its identity in ASCII digits, HMAC-SHA256(master, identity)
dkey() { printf '%s' "$1" | openssl mac -digest SHA256 -macopt "hexkey:$MASTER" HMAC; }
# ef ICCID: EF_ICCID in hex (F filler, nibbles swapped), as in iccid=
ef() {
	local s=$1
	while [ ${#s} -lt 20 ]; do s+=F; done
	sed -E 's/(.)(.)/\2\1/g' <<<"$s"
}
# fetch ICCID DEVID [KEY]: GET the configuration as that SIM (ASCII identity)
# with its derived key (or KEY); the raw response in $T/resp, its status printed
fetch() {
	S_ID=$1 S_PSK=${3:-$(dkey "$1")} s_client_get "$(config_path "$2" "$(ef "$1")")" >"$T/resp" || true
	status_of <"$T/resp"
}
sims_of() { db "SELECT count(*) FROM sims WHERE iccid='$1'"; }

start_ztpd
: >"$T/all"

# the derived key is the one of the documented test vector
eq "$(dkey "$ICCID" | tr 'A-F' 'a-f')" f01f0a297e8df2e45b3d2a6b091458a2c31211a449015cfef2c6dcadcb7fbea0 \
	"the derived key of the test vector"
eq "$(ef "$ICCID")" "$ICCID_EF" "EF_ICCID of the seed's ICCID"

printf '%s\n' "$MASTER" >"$T/fleet.key"
chmod 600 "$T/fleet.key"
ok_run group create fleet --iccid-prefix 89445025 --derive --master-key-file "$T/fleet.key"
ok_run group create plain --iccid-prefix 89446
ok "a derived group and a plain one"

# ---- usage errors: nothing reaches the server ----

ok_run --help
for w in "sim add ICCID --derived" "--device-id"; do
	grep -qF -- "$w" "$T/out" || fail "--help does not mention '$w'"
done
n=$(changes)
bad_run 2 sim add "$ICCID" --derived --psk "$PSK"
err_has 'neither --psk nor --group' "--derived with --psk"
bad_run 2 sim add "$ICCID" --derived --group fleet
err_has 'neither --psk nor --group' "--derived with --group"
bad_run 2 sim add "$ICCID" --derived --device-id XYZ
err_has 'invalid --device-id' "a bad --device-id"
bad_run 2 sim add "$ICCID" --derived --device-id 0A0
bad_run 2 sim add "$ICCID" --derived --device-id "${DEVID}00"
bad_run 2 sim add "$ICCID" --psk "$PSK" --device-id 0A
err_has -- '--device-id goes with --derived' "--device-id without --derived"
bad_run 2 sim add "$ICCID"
err_has -- '--derived' "sim add without a key names --derived"
eq "$(db 'SELECT count(*) FROM sims')" 0 "SIMs after usage errors"
expect_change "$n" "usage errors" 0
ok "usage errors of sim add --derived"

# ---- outside every derived group: refused, nothing changes ----

snap=$(db_snapshot)
n=$(changes)
for out in "$OUTSIDE_PLAIN" "$OUTSIDE"; do
	bad_run 1 sim add "$out" --derived
	err_has "^ztpctl: bad_request: no derived group's ICCID prefix matches $out \(HTTP 400\)$" \
		"sim add --derived of $out"
	eq "$(sims_of "$out")" 0 "a refused pre-registration stored $out"
done
res=$(admin POST /v1/sims "{\"iccid\":\"$OUTSIDE\",\"derived\":true}")
eq "$(tail -1 <<<"$res")" 400 "POST /v1/sims derived outside every derived group"
eq "$(head -n -1 <<<"$res" | jq -r .error)" bad_request "its error"
# the API refuses a PSK or a group with derived, and a Device ID without it
for body in "{\"iccid\":\"$ICCID\",\"derived\":true,\"psk\":\"$PSK\"}" \
	"{\"iccid\":\"$ICCID\",\"derived\":true,\"group\":\"fleet\"}" \
	"{\"iccid\":\"$ICCID\",\"psk\":\"$PSK\",\"device_id\":\"$DEVID\"}" \
	"{\"iccid\":\"$ICCID\",\"derived\":true,\"device_id\":\"XYZ\"}"; do
	eq "$(admin POST /v1/sims "$body" | tail -1)" 400 "POST /v1/sims $body"
done
eq "$(db_snapshot)" "$snap" "the store after refused pre-registrations"
expect_change "$n" "refused pre-registrations" 0
ok "sim add --derived outside every derived group: refused with a clear message, nothing changed"

# ---- pre-registered, then blocked: its first contact is refused ----

n=$(changes)
ok_run sim add "$ICCID" --derived
eq "$(cat "$T/out")" "SIM $ICCID pre-registered in derived group fleet (no PSK stored: its key is derived)" \
	"sim add --derived output"
expect_change "$n" "sim add --derived"
eq "$(db "SELECT length(psk), group_name, psk_generation, blocked, device_id IS NULL, pending_psk IS NULL FROM sims WHERE iccid='$ICCID'")" \
	"0|fleet|0|0|1|1" "the row of a pre-registered SIM (no PSK stored)"
db "SELECT detail FROM events WHERE kind='admin_change' ORDER BY id DESC LIMIT 1" | grep -q "pre-registered: $ICCID in derived group fleet" ||
	fail "the admin_change event of a pre-registration"
ok_run --json sim show "$ICCID"
jq_true '.derived == true and .group == "fleet" and .device_id == null and .psk_generation == 0 and .blocked == false and (has("psk") | not)' \
	"sim show --json of a pre-registered SIM"
ok_run sim show "$ICCID"
out_has '^derived: +yes$' "sim show: derived"
out_has '^group: +fleet$' "sim show: group"
ok_run sim list
out_has "^$ICCID +no +- +0 \(derived\) +0 +20[0-9-]+T" "sim list row of a derived SIM"
bad_run 1 sim add "$ICCID" --derived
err_has '^ztpctl: conflict: SIM [0-9]+ exists \(HTTP 409\)$' "a second pre-registration"
eq "$(admin POST /v1/sims "{\"iccid\":\"$ICCID\",\"derived\":true}" | tail -1)" 409 "POST /v1/sims of a SIM that exists"
ok_run group show fleet --json
jq_true '.sims == 1' "the derived group counts its pre-registered SIM"

ok_run sim block "$ICCID"
ok_run config set "$ICCID" --body "$SEED_CONFIG"
B=$(ev_count blocked_sim)
R=$(ev_count sim_registered)
eq "$(fetch "$ICCID" "$DEVID")" 403 "the first contact of a blocked pre-registered SIM"
grep -q 'SIM blocked' "$T/resp" || fail "the refusal says why: $(cat "$T/resp")"
expect_new_event blocked_sim "$B"
eq "$(db "SELECT iccid FROM events WHERE kind='blocked_sim' ORDER BY id DESC LIMIT 1")" "$ICCID" "the blocked_sim event's ICCID"
eq "$(db "SELECT blocked, device_id IS NULL, length(psk) FROM sims WHERE iccid='$ICCID'")" "1|1|0" \
	"a blocked SIM's contact binds nothing and stores no key"
eq "$(ev_count sim_registered)" "$R" "sim_registered events (it was registered already)"
ok "a pre-registered SIM blocked before its first contact is refused (403, blocked_sim)"

# ---- unblocked: the first fetch, with the derived key, gets the configuration set before ----

H=$(ev_count handshake_refused)
eq "$(fetch "$ICCID" "$DEVID" "$PSK")" "" "a pre-registered SIM with a key that is not its derived one"
expect_new_event handshake_refused "$H"
ok_run sim unblock "$ICCID"
eq "$(fetch "$ICCID" "$DEVID")" 200 "the first fetch of a pre-registered SIM (derived key)"
eq "$(body_of <"$T/resp")" "$SEED_CONFIG" "the configuration set before the first contact"
eq "$(db "SELECT device_id, length(psk), psk_generation FROM sims WHERE iccid='$ICCID'")" "$DEVID|0|0" \
	"bound at its first fetch, the key still derived"
eq "$(fetch "$ICCID" "$DEVID")" 200 "a second fetch"
eq "$(ev_count sim_registered)" "$R" "sim_registered events after the first fetch"
ok "unblocked, the pre-registered SIM fetches its configuration with its derived key"

# ---- a Device ID bound before the first contact ----

ok_run --json sim add "$ICCID2" --derived --device-id "$(tr 'A-F' 'a-f' <<<"$DEVID")"
jq_true ".iccid == \"$ICCID2\" and .derived == true and .group == \"fleet\" and .device_id == \"$DEVID\"" \
	"sim add --derived --device-id --json (kept in upper case)"
ok_run config set "$ICCID2" --body 'for the bound device'
RB=$(ev_count rebind_refused)
eq "$(fetch "$ICCID2" "$OTHER_DEVID")" 409 "another Device ID than the pre-bound one"
expect_new_event rebind_refused "$RB"
eq "$(db "SELECT device_id FROM sims WHERE iccid='$ICCID2'")" "$DEVID" "the pre-bound Device ID stays"
eq "$(fetch "$ICCID2" "$DEVID")" 200 "the pre-bound Device ID"
eq "$(body_of <"$T/resp")" 'for the bound device' "its configuration"
ok "a Device ID pre-bound before the first contact is enforced (409 for another)"

# ---- sim rebind before the first contact ----

ok_run sim add "$ICCID3" --derived --device-id "$OTHER_DEVID"
ok_run sim rebind "$ICCID3"
eq "$(db "SELECT device_id IS NULL FROM sims WHERE iccid='$ICCID3'")" 1 "rebound before its first contact"
eq "$(fetch "$ICCID3" "$DEVID")" 204 "the first contact after a rebind (no configuration)"
eq "$(db "SELECT device_id FROM sims WHERE iccid='$ICCID3'")" "$DEVID" "bound at its first contact"
ok "sim rebind before the first contact"

# ---- a SIM of the group that was not pre-registered still registers itself ----

R=$(ev_count sim_registered)
eq "$(fetch "$ICCID4" "$DEVID")" 204 "a derived SIM that was not pre-registered"
expect_new_event sim_registered "$R"
eq "$(db "SELECT group_name, length(psk) FROM sims WHERE iccid='$ICCID4'")" "fleet|0" "registered on its first handshake"
ok "registration on the first handshake is unchanged"

# ---- no key in any output ----

grep -qiF "$MASTER" "$T/all" && fail "ztpctl printed the master key"
for i in "$ICCID" "$ICCID2" "$ICCID3" "$ICCID4"; do
	grep -qiF "$(dkey "$i")" "$T/all" && fail "ztpctl printed the derived key of $i"
	grep -qiF "$(dkey "$i")" "$T/ztpd.log" && fail "ztpd logged the derived key of $i"
done
grep -qiF "$MASTER" "$T/ztpd.log" && fail "ztpd logged the master key"
ok "no key in any output"

stop_ztpd
echo "derived_prereg: all checks passed"
