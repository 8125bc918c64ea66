#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ztp-sim against a real ztpd, through its pty: the seed's exchange of spec
# safe2.md section 1 replayed line by line, every response byte for byte
# (descriptor, polling, the configuration body), then a configuration
# change through the admin API, a 304 served from the kept body, a
# restart (card reset: channels and requests gone, Device ID kept),
# psk_ke, registration states, the SIM file (mode 0600, no PSK in logs),
# the --link symlink and the --trace file; last, the seed's session on a
# T=0 card, answer by answer.
#
# SIM_MODE=t0 (CTest: integration.test_sim_seed_t0) runs all of it on a T=0 card: every
# APDU goes through card/expect_card, which follow a 61xx answer with GET
# RESPONSE as the public device library does and check both answers.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/lib_sim.sh"

start_ztpd --allow-psk-ke
setup_seed_sim
write_sim_file
start_sim
ok "ztp-sim prints its pty ($PTY) and links it"

# ---- the modem (section 2)
expect_at ATE0 'ATE0\r\r\nOK\r\n'
expect_at AT '\r\nOK\r\n'
expect_at ATE1 '\r\nOK\r\n'
expect_at at 'at\r\r\nOK\r\n'
expect_at ate0 'ate0\r\r\nOK\r\n'
EOL=$'\r' expect_at AT '\r\nOK\r\n'
expect_at AT+CREG? '\r\n+CREG: 0,1\r\n\r\nOK\r\n'
expect_at AT+CCID "\\r\\n+CCID: $ICCID\\r\\n\\r\\nOK\\r\\n"
expect_at at+iccid "\\r\\n+ICCID: $ICCID\\r\\n\\r\\nOK\\r\\n"
[[ "$(at AT+CGSN)" =~ ^\\r\\n[0-9]{15}\\r\\n\\r\\nOK\\r\\n$ ]] || fail "AT+CGSN: $(at AT+CGSN)"
[[ "$(at ATI)" =~ ^\\r\\n[[:print:]]+\\r\\n\\r\\nOK\\r\\n$ ]] || fail "ATI: $(at ATI)"
expect_at AT+FOO '\r\nERROR\r\n'
for bad in 'at+csim=9,"007000000"' 'at+csim=10,"00700000G1"' 'at+csim=12,"0070000001"' \
	'at+csim=10,0070000001' 'at+csim=10,"0070000001"x' "at+csim=524,\"$(printf '%0524d' 0)\""; do
	expect_at "$bad" '\r\nERROR\r\n'
done
expect_at "AT$(printf '%0700d' 0)" '\r\nERROR\r\n'
expect_at AT '\r\nOK\r\n'
ok "AT, ATE0/ATE1, CR and CR LF, +CREG, +CCID, +ICCID, +CGSN, ATI, ERROR for unknown and malformed lines"

# ---- the seed's exchange (section 1), byte for byte
expect_card 0070000001 019000
expect_card 01A4040C0CF0706F646773616665320101 9000
expect_card 01CA000000 6985 # no Device ID yet
expect_card "01DA02C010$DEVID" 9000
expect_card 0070800100 9000
sim_true '.device_id == $d' --arg d "$DEVID" || fail "the Device ID did not reach the SIM file"
[ "$(stat -c %a "$T/sim.json")" = 600 ] || fail "SIM file mode is $(stat -c %a "$T/sim.json")"
ok "open, select, PUT DATA 02C0 (Device ID saved, file mode 0600), close ($SIM_MODE mode)"

expect_card 0070000001 019000
expect_card 01A4040C0CF0706F646773616665320101 9000
desc="127.0.0.1:$DEVICE_PORT/v1/config/$DEVID?iccid=$ICCID_EF"
deschex=$(hexof "$desc")
while [ ${#deschex} -lt 512 ]; do deschex=${deschex}00; done
# GET DATA 0000, then the first poll: usually still in progress then
r=$(card 01CA000000)
[ "$r" = "${deschex}9000" ] || fail "GET DATA 0000: not the descriptor of $desc: $r"
case "$(card 01CC020000)" in
000100009000) first="in progress" ;;
000700009000) first="already done" ;;
*) fail "first poll: expected the seed's 000100009000 or 000700009000" ;;
esac
poll_config
expect_card 01CA010000 "$(hexof "$SEED_CONFIG")9000"
expect_card 01CA010000 6A88
expect_card 0070800100 9000
grep -q 'configuration attempt: 127.0.0.1, psk_dhe_ke, TLS_AES_128_CCM_SHA256, .*status 200' "$T/sim.log" ||
	fail "no psk_dhe_ke handshake with TLS_AES_128_CCM_SHA256 in the log"
ok "GET DATA 0000: descriptor $desc; polled (first: $first) to 0007; the seed's configuration ($SIM_MODE mode)"

# ---- a new configuration, then a 304 served from the kept body
OFF=${SEED_CONFIG/\"On\"/\"Off\"}
[ "$(admin PUT "/v1/sims/$ICCID/config" "$(jq -nc --arg b "$OFF" '{body:$b}')" | tail -1)" = 201 ] ||
	fail "cannot change the configuration"
for round in changed unchanged; do
	expect_card 0070000001 019000
	expect_card 01A4040C0CF0706F646773616665320101 9000
	expect_card 01CA000000 "${deschex}9000"
	poll_config
	r=$(card 01CA010000)
	[ "$r" = "$(hexof "$OFF")9000" ] || fail "$round configuration: got $r"
	expect_card 0070800100 9000
done
ok "after the change to Off: the new body (91 bytes), twice (200, then 304 from the kept body)"

grep -q "$PSK" "$T/sim.log" "$T/trace" && fail "the PSK appears in ztp-sim's log or trace"
grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} > at\+csim=10,"01CA010000"$' "$T/trace" ||
	fail "trace: no input line"
grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} < \+CSIM: 186,"7B22' "$T/trace" ||
	fail "trace: no output line with the body (+CSIM: 186)"
ok "--trace: HH:MM:SS.mmm > / < lines; no PSK in the log or the trace"

# ---- restart = card reset: channels closed, Device ID kept; psk_ke; +CREG states
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
[ ! -e "$T/modem" ] || fail "--link symlink left behind after SIGTERM"
ok "SIGTERM: clean exit, symlink removed"
# registration takes 8 s: long enough to ask before it, on a loaded machine too
start_sim --psk-ke --creg-delay 8 --roaming
expect_at ATE0 'ATE0\r\r\nOK\r\n'
expect_at AT+CREG? '\r\n+CREG: 0,2\r\n\r\nOK\r\n'
expect_card 01CC020000 6881 # channel 1 is closed after the reset
expect_card 0070000001 019000
expect_card 01A4040C0CF0706F646773616665320101 9000
expect_card 01CC020000 000000009000 # no request survives a reset
expect_card 01CA000000 "${deschex}9000" # the Device ID did
poll_config
r=$(card 01CA010000)
[ "$r" = "$(hexof "$OFF")9000" ] || fail "after a restart with --psk-ke: got $r"
# a locked SIM refuses a new key (6982); the trace never shows key bytes
key=5EC2E75EC2E75EC2E75EC2E75EC2E75E
expect_card "01DA02D510$key" 6982
grep -q "$key" "$T/trace" && fail "the trace shows the data of DA 02 D5"
grep -q '> at+csim=42,"01DA02D510\.\.$' "$T/trace" || fail "the trace lacks the redacted DA 02 D5 line"
expect_card 0070800100 9000
grep -q 'configuration attempt: 127.0.0.1, psk_ke, TLS_AES_128_CCM_SHA256, .*status 200' "$T/sim.log" ||
	fail "--psk-ke: no psk_ke handshake in the log"
for _ in $(seq 1 40); do
	r=$(at AT+CREG?)
	[ "$r" = '\r\n+CREG: 0,5\r\n\r\nOK\r\n' ] && break
	[ "$r" = '\r\n+CREG: 0,2\r\n\r\nOK\r\n' ] || fail "AT+CREG? while registering: $r"
	sleep 0.5
done
[ "$r" = '\r\n+CREG: 0,5\r\n\r\nOK\r\n' ] || fail "AT+CREG?: not registered (roaming) 20 s after the delay began"
ok "restart: channels and requests gone, Device ID kept; psk_ke fetch; locked (6982), key redacted in the trace; +CREG 2 then 5 (--roaming)"

# ---- the seed's session on a T=0 card, answer by answer (spec section 3):
# data at once to a case 2 command whose Le is its length, 61xx otherwise
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
SIM_MODE=t0 # from here on, in either run
start_sim
expect_at ATE0 'ATE0\r\r\nOK\r\n'
expect_csim 0070000001 019000 # Le 01, one byte: at once, as a real T=0 card
expect_csim 00C0000001 6985   # so nothing waits for GET RESPONSE
expect_csim 01A4040C0CF0706F646773616665320101 9000
expect_csim 01CC020000 6104   # Le 00 (256) for 4 bytes
expect_csim 01C0000004 000000009000
expect_csim 01C0000004 6985
expect_csim 01CC020004 000000009000 # Le 04: at once
expect_csim 01CA000000 "${deschex}9000" # Le 00 (256) for the 256-byte descriptor: at once
poll_config
expect_csim 01CA010000 615B # Le 00 for the 91 bytes of the body
expect_csim 01C000005B "$(hexof "$OFF")9000"
expect_csim 01CA010000 6A88 # no data: the status word at once
expect_csim 0070800100 9000
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
ok "--t0: MANAGE CHANNEL open 019000 and the descriptor at once; 6104 and 615B, then GET RESPONSE"
