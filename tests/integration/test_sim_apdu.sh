#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ztp-sim's card and applet through its pty, the way the public device
# library for SAFE2 drives them (spec safe2.md sections 1, 3, 4 and 6):
# ate0 first, channels closed with 0N 70 80 0N 00 as well as 00 70 80 0N 00,
# T=0 as ISO/IEC 7816-3 has it (data at once to a case 2 command whose Le
# is its length: the channel number, the 256-byte descriptor, chunks of a
# full Le; 61xx and GET RESPONSE otherwise: the status with Le 00, the body,
# case 1, a short or a long Le, 6985 when nothing waits), the body read in
# chunks until the status word is not 9000,
# telemetry with DA 02 C1 and CC 01 00; every status word of the spec for an
# APDU that is wrong or comes at the wrong time; personalisation of an
# unlocked SIM (DA 02 D1..D5, DA 02 DF 00), saved to the SIM file, then
# refused with 6982, and the SIM so personalised fetches from ztpd.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/lib_sim.sh"

SELECT=01A4040C0CF0706F646773616665320101
SEED_HEX=$(hexof "$SEED_CONFIG")

# lc_hex HEX: the length in bytes of HEX, as two hex digits
lc_hex() { printf '%02X' $((${#1} / 2)); }
# descriptor_hex: the 256-byte descriptor of the seed's request on DEVICE_PORT
descriptor_hex() {
	local hex
	hex=$(hexof "127.0.0.1:$DEVICE_PORT/v1/config/$DEVID?iccid=$ICCID_EF")
	while [ ${#hex} -lt 512 ]; do hex=${hex}00; done
	echo "$hex"
}
# expect_csims APDU:RESPONSE...: as expect_csim for each, in one opening of the pty
expect_csims() {
	local lines=() want=() pair apdu resp got line i=0
	for pair in "$@"; do
		apdu=${pair%%:*} resp=${pair#*:}
		lines+=("at+csim=${#apdu},\"$apdu\"")
		want+=("\\r\\n+CSIM: ${#resp},\"$resp\"\\r\\n\\r\\nOK\\r\\n")
	done
	got=$(at "${lines[@]}")
	while IFS= read -r line; do
		[ "$line" = "${want[i]:-}" ] || fail "${lines[i]:-(none)}: expected '${want[i]:-}', got '$line'"
		i=$((i + 1))
	done <<<"$got"
	[ $i = ${#lines[@]} ] || fail "$i answers to ${#lines[@]} commands: $got"
}
# wait_state P1 [T0]: polls CC P1 00 on channel 1 until the state is not
# 0001 (each answer checked: state, result, 9000; with T0, 6104 and GET
# RESPONSE); prints the final state and result
wait_state() {
	local r s
	for _ in $(seq 1 100); do
		if [ -n "${2:-}" ]; then
			expect_csim "01CC${1}0000" 6104
			r=$(csim 01C0000004 | csim_hex)
		else
			r=$(csim "01CC${1}0000" | csim_hex)
		fi
		[[ "$r" =~ ^([0-9A-F]{8})9000$ ]] || fail "CC $1 00: not a state, a result and 9000: '$r'"
		s=${BASH_REMATCH[1]}
		[ "${s:0:4}" = 0001 ] || { echo "$s"; return 0; }
		sleep 0.1
	done
	fail "CC $1 00: still in progress after 10 s"
}

start_ztpd
setup_seed_sim
write_sim_file # locked, no Device ID yet
start_sim

# ---- the public library starts with ate0 (echo is on at power-up)
expect_at ate0 'ate0\r\r\nOK\r\n'
expect_at AT '\r\nOK\r\n'
ok "ate0 first: echoed once, then echo off"

# ---- channels and selection (section 3)
steps=(
	0070000001:019000
	02CC020000:6881 # channel 2 is not open
	01CC020000:6985 # no applet selected on channel 1
	01A4040C0CF0706F646773616665320102:6A82
	01CC020000:6985 # still none after an unknown AID
	01A4040C0BF0706F6467736166653201:6A82 # a prefix of the AID
	"$SELECT:9000"
	01CC020000:000000009000
	00CC020000:6985 # the basic channel has no applet selected
	0070000001:029000
	0070000001:039000
	0070000001:6A81 # channels 1 to 3 are taken; 0 is never given out
	0070800200:9000 # 00 70 80 0N 00
	0070800200:6881 # already closed
	02CC020000:6881 # a command on a closed channel
	0370800300:9000 # 0N 70 80 0N 00, the public library's form
	0370800300:6881 # on channel 3, which is closed now
	0070800300:6881
	0070000001:029000 # the lowest free channel again
	02CC020000:6985
	0270800200:9000
)
expect_csims "${steps[@]}"
ok "channels: open gives 1, 2, 3 then 6A81; close in both forms; 6881 for closing or using a closed channel; 6985 without a selection; 6A82 for an unknown AID"

# ---- wrong CLA, INS, P1/P2, length
steps=()
for apdu in 80CC020000 A0CC020000 41CC020000 FFCC020000 81CA000000; do
	steps+=("$apdu:6E00")
done
for apdu in 01B0000000 01A0000000 0120000000 01DB02C00111 01C2000000; do
	steps+=("$apdu:6D00")
done
for apdu in 01CC030000 01CC000000 01CC020100 01CC010100 01CA020000 01CA000100 01CA010100 \
	01DA03C0021122 01DA02C2021122 01DA02BF021122 0070010000 0070000100 0070800000 0070800400 \
	01A4000C0CF0706F646773616665320101 01A4040D0CF0706F646773616665320101; do
	steps+=("$apdu:6A86")
done
for apdu in 01CC02 01 01CC0200021234 01CC020002123400 01DA02C0051122 01DA02C00511223344556677 \
	0070000002 0070000000 00708001021234 "01DA02C011$(printf '%034d' 0)" 01DA02C000 01DA02C0 \
	01A4040C 01A4040C00 01CA0000021234; do
	steps+=("$apdu:6700")
done
expect_csims "${steps[@]}"
ok "6E00 for a CLA other than 00..03, 6D00 for unknown INS, 6A86 for wrong P1/P2, 6700 for malformed lengths"

# ---- what comes too early: no Device ID, no data; a locked SIM
expect_csims 01CA010000:6985 01CA000000:6985 "01DA02C109$(hexof temp=21.5):6985" \
	01CC020000:000000009000 01CC010000:000000009000
locked_before=$(cat "$T/sim.json")
expect_csims "01DA02D109$(hexof 127.0.0.2):6982" 01DA02D2022B67:6982 "01DA02D307$(hexof /v1/foo):6982" \
	"01DA02D413$(hexof "$ICCID"):6982" "01DA02D520$(openssl rand -hex 32 | tr a-f A-F):6982" 01DA02DF00:6982
[ "$(cat "$T/sim.json")" = "$locked_before" ] || fail "a refused personalisation changed the SIM file"
ok "6985 for the body before data, CA 00 00 and DA 02 C1 without a Device ID; 6982 for DA 02 D1..D5 and DF on a locked SIM, file unchanged"

# ---- the configuration, read in chunks of 16 bytes until the status word is not 9000
# (CA 01 00: still no data after the Device ID)
expect_csims "01DA02C010$DEVID:9000" 01CA010000:6985 "01CA000000:$(descriptor_hex)9000"
s=$(wait_state 02)
[ "$s" = 00070000 ] || fail "configuration: expected 0007/0000, got $s"
body="" chunks=0
while :; do
	r=$(csim 01CA010010 | csim_hex)
	[ -n "$r" ] || fail "CA 01 00 10: no +CSIM answer"
	sw=${r: -4}
	[ "$sw" = 9000 ] || break
	data=${r:0:${#r}-4}
	[ ${#data} -ge 2 ] && [ ${#data} -le 32 ] || fail "a chunk of $((${#data} / 2)) bytes for Le 16: $r"
	body=$body$data
	chunks=$((chunks + 1))
	[ $chunks -le 20 ] || fail "more than 20 chunks"
done
[ "$r" = 6A88 ] || fail "after the last chunk: expected 6A88 with no data, got $r"
[ "$body" = "$SEED_HEX" ] || fail "the body read in chunks differs: $body"
[ $chunks = $(((${#SEED_CONFIG} + 15) / 16)) ] || fail "$chunks chunks of 16 bytes for ${#SEED_CONFIG} bytes"
expect_csim 01CA010000 6A88
ok "the seed's configuration read in $chunks chunks of Le 16 until 6A88"

# ---- telemetry: DA 02 C1, then CC 01 00
text='{"temp":21.5,"door":"open"}'
expect_csim "01DA02C1$(lc_hex "$(hexof "$text")")$(hexof "$text")" 9000
s=$(wait_state 01)
[ "$s" = 00030000 ] || fail "telemetry: expected 0003/0000, got $s"
[ "$(db "SELECT body FROM telemetry WHERE iccid='$ICCID' ORDER BY id DESC LIMIT 1")" = "$text" ] ||
	fail "telemetry not stored: $(db "SELECT body FROM telemetry")"
expect_csim 01CC020000 000700009000 # the configuration's state is its own
expect_csim 0170800100 9000
expect_csim 0070800100 6881
ok "telemetry DA 02 C1: 9000, CC 01 00 to 0003/0000, stored; channel 1 closed with 01 70 80 01 00"

# ---- T=0: at once when Le is the data's length, else 61xx and GET RESPONSE
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
start_sim --t0
expect_at ate0 'ate0\r\r\nOK\r\n'
steps=(
	0070000001:019000 # Le 01 for one byte: at once, as a real T=0 card
	00C0000001:6985 # nothing waits
	"$SELECT:9000"
	"01CA000000:$(descriptor_hex)9000" # Le 00 (256) for 256 bytes: at once
	01C0000000:6985
	01CC010000:6104 # Le 00 for 4 bytes (the telemetry's state: idle)
	01C0000008:6C04 # Le too long: the right one, the data kept
	00C0000004:6985 # waiting on channel 1, not 0
	01C0000002:00006102 # a shorter Le: the rest waits
	01C0000002:00009000
	01C0000002:6985 # nothing left
	01CC010004:000000009000 # Le 04: at once
	01CC0100:6104 # case 1, no Le: 61xx
	01CC010004:000000009000 # another command drops what waited
	01C0000004:6985
	01CC010008:6104 # Le 08 for 4 bytes
	01C0000004:000000009000
)
expect_csims "${steps[@]}"
s=$(wait_state 02 t0)
[ "$s" = 00070000 ] || fail "T=0 configuration: expected 0007/0000, got $s"
steps=(
	01CA010000:615A # 90 bytes, Le 00
	"01C0000020:${SEED_HEX:0:64}613A" # 32 bytes, 58 left
	"01C000003A:${SEED_HEX:64}9000"
	01CA010000:6A88 # no data: the status word at once
)
expect_csims "${steps[@]}"
# chunks of Le 32 until the status word is not 9000: a full chunk comes at
# once, the last one (26 bytes) through 611A and GET RESPONSE
expect_csims "01CA000000:$(descriptor_hex)9000"
s=$(wait_state 02 t0)
[ "$s" = 00070000 ] || fail "T=0, second request: expected 0007/0000, got $s"
body="" how=""
while :; do
	r=$(csim 01CA010020 | csim_hex)
	if [[ "$r" =~ ^61([0-9A-F]{2})$ ]]; then
		how="$how ${r}+C0"
		r=$(csim "01C00000${BASH_REMATCH[1]}" | csim_hex)
		[ "${r: -4}" = 9000 ] || fail "GET RESPONSE: $r"
	else
		how="$how $((${#r} / 2 - 2))"
	fi
	[ "${r: -4}" = 9000 ] || break
	body=$body${r:0:${#r}-4}
	[ ${#how} -le 200 ] || fail "more than 20 chunks:$how"
done
[ "$r" = 6A88 ] || fail "T=0 chunks: expected 6A88 at the end, got $r"
[ "$body" = "$SEED_HEX" ] || fail "T=0: the body read in chunks differs: $body"
[ "$how" = " 32 32 611A+C0 0" ] || fail "T=0 chunks of Le 32: expected 32 and 32 bytes at once, then 611A and GET RESPONSE, then 6A88; got:$how"
expect_csim 0170800100 9000
ok "--t0: 019000 for the channel and the descriptor (Le 00) at once; 6104 for the state (Le 00, 08, none), 6C04 for a long GET RESPONSE, 6102 for a short one, 6985 when nothing waits; 615A for the body; chunks of Le 32:$how"

# ---- personalisation of an unlocked SIM, then lock
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
jq -n --arg iccid "$ICCID" '{iccid: $iccid, host: "example.invalid", port: 1, locked: false,
	retry_base_ms: 200, retry_max_ms: 1000}' >"$T/sim.json"
chmod 600 "$T/sim.json"
start_sim
expect_at ate0 'ate0\r\r\nOK\r\n'
port_hex=$(printf '%04X' "$DEVICE_PORT")
steps=(
	0070000001:019000
	"$SELECT:9000"
	01DA02DF00:6985 # no PSK yet: it cannot be locked
	"01DA02D109$(hexof 127.0.0.1):9000"
	"01DA02D202$port_hex:9000"
	"01DA02D30A$(hexof /v1/config):9000"
	"01DA02D413$(hexof "$ICCID"):9000"
	"01DA02D50F$(printf '%030d' 0):6700" # 15 bytes: too short
	01DA02D2030001BB:6700
	01DA02D2020000:6700
	"01DA02D303$(hexof abc):6700" # no leading slash
	"01DA02D10A$(hexof '127.0.0.1 '):6700" # a space
	01DA02D6021122:6A86
	"01DA02D520$PSK:9000"
	01DA02DF0101:6700
)
expect_csims "${steps[@]}"
sim_true '.locked == false and .host == "127.0.0.1" and .port == $port and .path == "/v1/config" and
	 (.identity | ascii_upcase) == $id and (.psk | ascii_upcase) == $psk' \
	--arg psk "$PSK" --arg id "$(hexof "$ICCID")" --argjson port "$DEVICE_PORT" ||
	fail "personalisation not saved: $(jq -c 'del(.psk)' "$T/sim.json")"
expect_csim 01DA02DF00 9000
sim_true '.locked == true' || fail "the lock was not saved: $(jq -c 'del(.psk)' "$T/sim.json")"
[ "$(stat -c %a "$T/sim.json")" = 600 ] || fail "SIM file mode is $(stat -c %a "$T/sim.json")"
expect_csims "01DA02D109$(hexof 127.0.0.2):6982" "01DA02D520$PSK:6982" 01DA02DF00:6982
grep -q "$PSK" "$T/trace" "$T/sim.log" && fail "the PSK appears in ztp-sim's trace or log"
ok "unlocked SIM: DA 02 D1..D5 (bad lengths 6700, unknown tag 6A86), saved; DA 02 DF 00 locks, saved; then 6982"

# the personalised SIM reaches ztpd with the ASCII identity; the lock survives a restart
expect_csims "01DA02C010$DEVID:9000" "01CA000000:$(descriptor_hex)9000"
s=$(wait_state 02)
[ "$s" = 00070000 ] || fail "personalised SIM: expected 0007/0000, got $s"
expect_csims "01CA010000:${SEED_HEX}9000" 0170800100:9000
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
start_sim
expect_at ate0 'ate0\r\r\nOK\r\n'
expect_csims 0070000001:019000 "$SELECT:9000" "01DA02D109$(hexof 127.0.0.2):6982" 0170800100:9000
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
ok "the personalised SIM fetches the seed's configuration from ztpd; still locked after a restart"

echo "test_sim_apdu: all checks passed"
