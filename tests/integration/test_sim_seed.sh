#!/bin/bash
# ztp-sim against a real ztpd, through its pty: the seed's exchange of spec
# safe2.md section 1 replayed line by line, every response byte for byte
# (descriptor, polling, the configuration body), then a configuration
# change through the admin API, a 304 served from the kept body, a
# restart (card reset: channels and requests gone, Device ID kept), T=0,
# psk_ke, registration states, the SIM file (mode 0600, no PSK in logs),
# the --link symlink and the --trace file.
. "$(dirname "$0")/lib.sh"

SIM=$BUILD/ztp-sim
[ -x "$SIM" ] || fail "no ztp-sim at $SIM"
SIM_PID=""
# on exit: stop ztp-sim, show its log if the test failed, then lib.sh's cleanup
sim_cleanup() {
	local rc=$?
	set +e # (exit $rc) below must not end the trap before cleanup
	stop_sim
	if [ $rc -ne 0 ] && [ -f "$T/sim.log" ]; then
		echo "---- ztp-sim log (last 40 lines) ----" >&2
		tail -n 40 "$T/sim.log" >&2
	fi
	(exit $rc)
	cleanup
}
trap sim_cleanup EXIT

# The pty driver: opens the pty (a new open per call, as a device
# application that closes and reopens the port), then for each LINE sends
# it and reads the answer up to its final result code with a deadline,
# after the last one 50 ms more to catch any stray byte, and prints each
# answer on a line of its own with CR, LF and other control bytes escaped
# (\r, \n, \xNN). Exit 1 on a deadline, with what it got.
cat >"$T/chat.py" <<'EOF'
import os, select, sys, time, tty
eol = os.environ.get('EOL', '\r\n').encode()
lines = sys.argv[2:]
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
esc = {13: '\\r', 10: '\\n', 92: '\\\\'}
rc = 0
for i, line in enumerate(lines):
    os.write(fd, line.encode('latin-1') + eol)
    got, end, done = b'', time.monotonic() + 10, None
    while True:
        left = (done if done is not None else end) - time.monotonic()
        if left <= 0:
            break
        if select.select([fd], [], [], left)[0]:
            got += os.read(fd, 4096)
            if done is None and (got.endswith(b'\r\nOK\r\n') or got.endswith(b'\r\nERROR\r\n')):
                done = time.monotonic() + (0.05 if i == len(lines) - 1 else 0)
    print(''.join(esc.get(c, chr(c) if 32 <= c < 127 else '\\x%02x' % c) for c in got))
    if done is None:
        rc = 1
        break
os.close(fd)
sys.exit(rc)
EOF

# at LINE...: the escaped answer to each LINE, one per line
at() {
	local r
	r=$(python3 "$T/chat.py" "$PTY" "$@") || fail "$*: no final result code within 10 s, got '$r'"
	printf '%s\n' "$r"
}
# expect_at LINE ANSWER: the answer is exactly ANSWER (escaped as at prints it)
expect_at() {
	local got
	got=$(at "$1")
	[ "$got" = "$2" ] || fail "$1: expected '$2', got '$got'"
}
# csim APDU: the escaped answer to AT+CSIM with APDU (hex), in the seed's lower case
csim() { at "at+csim=${#1},\"$1\""; }
# expect_csim APDU RESPONSE: +CSIM: <n>,"RESPONSE", an empty line, OK
expect_csim() { expect_at "at+csim=${#1},\"$1\"" "\\r\\n+CSIM: ${#2},\"$2\"\\r\\n\\r\\nOK\\r\\n"; }
hexof() { printf '%s' "$1" | xxd -p -u | tr -d '\n'; }

write_sim_file() {
	jq -n --arg iccid "$ICCID" --argjson port "$DEVICE_PORT" --arg psk "$PSK" \
		'{iccid: $iccid, host: "127.0.0.1", port: $port, psk: $psk, psk_generation: 0,
		  locked: true, retry_base_ms: 200, retry_max_ms: 1000}' >"$T/sim.json"
	chmod 600 "$T/sim.json"
}

# start_sim [options]: ztp-sim on $T/sim.json with --link and --trace; sets PTY
start_sim() {
	: >"$T/sim.out"
	"$SIM" --sim "$T/sim.json" --link "$T/modem" --trace "$T/trace" --verbose "$@" \
		>"$T/sim.out" 2>>"$T/sim.log" &
	SIM_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$T/sim.out" ] && break
		kill -0 "$SIM_PID" 2>/dev/null || fail "ztp-sim exited at start"
		sleep 0.05
	done
	PTY=$(head -1 "$T/sim.out")
	[ -c "$PTY" ] || fail "ztp-sim did not print a pty: '$PTY'"
	[ "$(readlink "$T/modem")" = "$PTY" ] || fail "--link does not point to $PTY"
}

# stop_sim: SIGTERM; SIM_RC gets its exit status (137 if it had to be killed)
stop_sim() {
	SIM_RC=""
	[ -n "$SIM_PID" ] || return 0
	kill -TERM "$SIM_PID" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$SIM_PID" 2>/dev/null || true
	SIM_RC=0
	wait "$SIM_PID" 2>/dev/null || SIM_RC=$?
	SIM_PID=""
}

# poll_config: CC 02 00 on channel 1 until data is available; every answer
# must be one of the seed's two
poll_config() {
	local r
	for _ in $(seq 1 100); do
		r=$(csim 01CC020000)
		case "$r" in
		'\r\n+CSIM: 12,"000700009000"\r\n\r\nOK\r\n') return 0 ;;
		'\r\n+CSIM: 12,"000100009000"\r\n\r\nOK\r\n') sleep 0.1 ;;
		*) fail "poll: expected the seed's 000100009000 or 000700009000, got '$r'" ;;
		esac
	done
	fail "poll: no data after 10 s"
}

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
expect_csim 0070000001 019000
expect_csim 01A4040C0CF0706F646773616665320101 9000
expect_csim 01CA000000 6985 # no Device ID yet
expect_csim "01DA02C010$DEVID" 9000
expect_csim 0070800100 9000
jq -e --arg d "$DEVID" '.device_id == $d' "$T/sim.json" >/dev/null ||
	fail "the Device ID did not reach the SIM file"
[ "$(stat -c %a "$T/sim.json")" = 600 ] || fail "SIM file mode is $(stat -c %a "$T/sim.json")"
ok "open, select, PUT DATA 02C0 (Device ID saved, file mode 0600), close"

expect_csim 0070000001 019000
expect_csim 01A4040C0CF0706F646773616665320101 9000
desc="127.0.0.1:$DEVICE_PORT/v1/config/$DEVID?iccid=$ICCID_EF"
deschex=$(hexof "$desc")
while [ ${#deschex} -lt 512 ]; do deschex=${deschex}00; done
# GET DATA 0000 and the first poll at once: usually still in progress then
r=$(at 'at+csim=10,"01CA000000"' 'at+csim=10,"01CC020000"')
[ "$(sed -n 1p <<<"$r")" = "\\r\\n+CSIM: 516,\"${deschex}9000\"\\r\\n\\r\\nOK\\r\\n" ] ||
	fail "GET DATA 0000: not the descriptor of $desc: $(sed -n 1p <<<"$r")"
case "$(sed -n 2p <<<"$r")" in
'\r\n+CSIM: 12,"000100009000"\r\n\r\nOK\r\n') first="in progress" ;;
'\r\n+CSIM: 12,"000700009000"\r\n\r\nOK\r\n') first="already done" ;;
*) fail "first poll: expected the seed's 000100009000 or 000700009000, got '$(sed -n 2p <<<"$r")'" ;;
esac
poll_config
expect_csim 01CA010000 "$(hexof "$SEED_CONFIG")9000"
expect_csim 01CA010000 6A88
expect_csim 0070800100 9000
grep -q 'configuration attempt: 127.0.0.1, psk_dhe_ke, TLS_AES_128_CCM_SHA256, .*status 200' "$T/sim.log" ||
	fail "no psk_dhe_ke handshake with TLS_AES_128_CCM_SHA256 in the log"
ok "GET DATA 0000: descriptor $desc; polled (first: $first) to 0007; the seed's configuration (+CSIM: 184)"

# ---- a new configuration, then a 304 served from the kept body
OFF=${SEED_CONFIG/\"On\"/\"Off\"}
[ "$(admin PUT "/v1/sims/$ICCID/config" "$(jq -nc --arg b "$OFF" '{body:$b}')" | tail -1)" = 201 ] ||
	fail "cannot change the configuration"
for round in changed unchanged; do
	expect_csim 0070000001 019000
	expect_csim 01A4040C0CF0706F646773616665320101 9000
	expect_csim 01CA000000 "${deschex}9000"
	poll_config
	r=$(csim 01CA010000)
	[ "$r" = "\\r\\n+CSIM: 186,\"$(hexof "$OFF")9000\"\\r\\n\\r\\nOK\\r\\n" ] ||
		fail "$round configuration: got $r"
	expect_csim 0070800100 9000
done
ok "after the change to Off: +CSIM: 186 with the new body, twice (200, then 304 from the kept body)"

grep -q "$PSK" "$T/sim.log" "$T/trace" && fail "the PSK appears in ztp-sim's log or trace"
grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} > at\+csim=10,"01CA010000"$' "$T/trace" ||
	fail "trace: no input line"
grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} < \+CSIM: 186,"7B22' "$T/trace" ||
	fail "trace: no output line"
ok "--trace: HH:MM:SS.mmm > / < lines; no PSK in the log or the trace"

# ---- restart = card reset: channels closed, Device ID kept; psk_ke; +CREG states
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
[ ! -e "$T/modem" ] || fail "--link symlink left behind after SIGTERM"
ok "SIGTERM: clean exit, symlink removed"
start_sim --psk-ke --creg-delay 2 --roaming
expect_at ATE0 'ATE0\r\r\nOK\r\n'
expect_at AT+CREG? '\r\n+CREG: 0,2\r\n\r\nOK\r\n'
expect_csim 01CC020000 6881 # channel 1 is closed after the reset
expect_csim 0070000001 019000
expect_csim 01A4040C0CF0706F646773616665320101 9000
expect_csim 01CC020000 000000009000 # no request survives a reset
expect_csim 01CA000000 "${deschex}9000" # the Device ID did
poll_config
r=$(csim 01CA010000)
[ "$r" = "\\r\\n+CSIM: 186,\"$(hexof "$OFF")9000\"\\r\\n\\r\\nOK\\r\\n" ] ||
	fail "after a restart with --psk-ke: got $r"
# a locked SIM refuses a new key (6982); the trace never shows key bytes
key=5EC2E75EC2E75EC2E75EC2E75EC2E75E
expect_csim "01DA02D510$key" 6982
grep -q "$key" "$T/trace" && fail "the trace shows the data of DA 02 D5"
grep -q '> at+csim=42,"01DA02D510\.\.$' "$T/trace" || fail "the trace lacks the redacted DA 02 D5 line"
expect_csim 0070800100 9000
grep -q 'configuration attempt: 127.0.0.1, psk_ke, TLS_AES_128_CCM_SHA256, .*status 200' "$T/sim.log" ||
	fail "--psk-ke: no psk_ke handshake in the log"
sleep 2
expect_at AT+CREG? '\r\n+CREG: 0,5\r\n\r\nOK\r\n'
ok "restart: channels and requests gone, Device ID kept; psk_ke fetch; locked (6982), key redacted in the trace; +CREG 2 then 5 (--roaming)"

# ---- T=0: data through 61xx and GET RESPONSE
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
start_sim --t0
expect_at ATE0 'ATE0\r\r\nOK\r\n'
expect_csim 0070000001 6101
expect_csim 00C0000001 019000
expect_csim 01A4040C0CF0706F646773616665320101 9000
expect_csim 01CC020000 6104
expect_csim 01C0000004 000000009000
expect_csim 0070800100 9000
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
ok "--t0: 61xx and GET RESPONSE"
