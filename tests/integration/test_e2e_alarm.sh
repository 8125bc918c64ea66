#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The SAFE2 demo end to end with the real processes (what make demo shows,
# as checks): ztpd; the operator's ztpctl (sim add, config set, sim block,
# telemetry); ztp-sim holding the seed's SIM behind its pty; and the device
# application examples/alarm driving it with AT+CSIM, once per run.
#
#   - the seed's configuration: exit 0, the seed's log lines in order
#     (Set Device ID: OK, receiving state: N, received:90), version
#     2021-05-05, iot:Alarm ON, the LED file holds 1; the server bound the
#     SIM to the Device ID
#   - the operator switches to Off: the next run says OFF, the LED holds 0
#   - --telemetry: delivered, and ztpctl telemetry shows it byte for byte
#     (also one of the maximum 255 bytes)
#   - ztp-sim --t0: alarm takes the data a T=0 card answers at once (the
#     channel, the descriptor) and follows 61xx with GET RESPONSE (the
#     status, the body)
#   - refusals: a blocked SIM (0193), another Device ID (0199), ztpd down
#     (FF03 after max_attempts 2): exit 1 with the error shown, LED untouched
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_e2e_alarm.sh
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/lib_sim.sh"

ALARM=$BUILD/alarm
[ -x "$ALARM" ] || fail "no alarm at $ALARM"
OFF='{"configuration":{"version":"2021-05-06","config":[{"action":"iot:Alarm","effect":"Off"}]}}'
OTHER=0102030405060708090A0B0C0D0E0F10

# ctl ARGS...: ztpctl, which must succeed; its stdout in $T/ctl.out
ctl() {
	"$ZTPCTL" "$@" >"$T/ctl.out" 2>"$T/ctl.err" ||
		fail "ztpctl $*: exit $?: $(head -c 300 "$T/ctl.err")"
}

# alarm_run ARGS...: alarm --device-id DEVID --once --poll 0.1 --led $T/led
# ARGS (a later --device-id wins), killed after $ALARM_TIMEOUT (30) s; stdout
# in $T/alarm.out, stderr in $T/alarm.err, exit status in ALARM_RC, seconds
# taken in ALARM_S
alarm_run() {
	local t0=$SECONDS
	set +e
	timeout "${ALARM_TIMEOUT:-30}" "$ALARM" --device-id "$DEVID" --once --poll 0.1 --led "$T/led" "$@" \
		>"$T/alarm.out" 2>"$T/alarm.err"
	ALARM_RC=$?
	set -e
	ALARM_S=$((SECONDS - t0))
	! grep -q 'Sanitizer\|runtime error:' "$T/alarm.err" || fail "alarm $*: $(head -c 600 "$T/alarm.err")"
}
alarm_said() { echo "stdout: $(uniq "$T/alarm.out" | tr '\n' '|' | head -c 600) stderr: $(tr '\n' '|' <"$T/alarm.err" | head -c 600)"; }

# expect_config VERSION ON|OFF LENGTH: the last run succeeded with the
# seed's log: the lines below in this order, any number of "receiving
# state: 1" (in progress) before the 7 (data available), nothing else
expect_config() {
	local want
	[ "$ALARM_RC" = 0 ] || fail "alarm exited $ALARM_RC; $(alarm_said)"
	[ ! -s "$T/alarm.err" ] || fail "alarm succeeded but wrote to stderr: $(cat "$T/alarm.err")"
	want=$(printf '%s\n' "Modem: OK" "Network: registered (home)" "Set Device ID: OK" \
		"receiving state: 7" "received:$3" "configuration version: $1" "iot:Alarm configured as $2")
	[ "$(grep -vx 'receiving state: 1' "$T/alarm.out")" = "$want" ] ||
		fail "alarm's log is not the seed's: $(alarm_said)"
	awk '/^Set Device ID: OK$/ { s = NR } /^receiving state: 7$/ { e = NR }
		/^receiving state: 1$/ { if (!s || e) bad = 1 } END { exit bad }' "$T/alarm.out" ||
		fail "alarm: 'receiving state: 1' outside the polling: $(alarm_said)"
}
# expect_led 0|1: the LED file holds exactly that digit and a newline
expect_led() {
	[ "$(od -An -c "$T/led" | tr -d ' ')" = "$1\\n" ] || fail "LED file holds '$(od -An -c "$T/led" | tr -d ' ')', expected '$1\\n'"
}

start_ztpd --allow-psk-ke

# ---- the operator registers the SIM and the seed's configuration
ctl sim add "$ICCID" --psk "$PSK"
ctl config set "$ICCID" --body "$SEED_CONFIG"
ctl --json config get "$ICCID"
json_true "$T/ctl.out" '.body == $b and .version == 1' --arg b "$SEED_CONFIG" ||
	fail "ztpctl config get: not the seed's configuration: $(cat "$T/ctl.out")"
write_sim_file
start_sim
ok "ztpctl sim add, config set; ztp-sim on $PTY"

# ---- the seed's round: ON
alarm_run --device "$T/modem"
expect_config 2021-05-05 ON 90
expect_led 1
ctl --json sim show "$ICCID"
json_true "$T/ctl.out" '.device_id == $d and .blocked == false and .config_version == 1' --arg d "$DEVID" ||
	fail "ztpctl sim show after the first round: $(cat "$T/ctl.out")"
[ "$(sim_get .device_id)" = "$DEVID" ] || fail "the Device ID did not reach the SIM file"
grep -q '> AT+CSIM=42,"01DA02C010'"$DEVID"'"' "$T/trace" || fail "the trace lacks alarm's DA 02 C0"
ok "alarm --once through the --link path: exit 0, the seed's log (Set Device ID: OK, receiving state, received:90), version 2021-05-05, ON, LED 1; the server bound $DEVID"

# ---- the operator switches the alarm off
ctl config set "$ICCID" --body "$OFF"
from=$(wc -l <"$T/sim.log")
alarm_run --device "$PTY"
expect_config 2021-05-06 OFF ${#OFF}
expect_led 0
ctl --json sim show "$ICCID"
json_true "$T/ctl.out" '.config_version == 2' || fail "ztpctl sim show: $(cat "$T/ctl.out")"
alarm_run --device "$PTY"
expect_config 2021-05-06 OFF ${#OFF}
expect_led 0
[ "$(tail -n +$((from + 1)) "$T/sim.log" | grep -o 'configuration attempt: .*status [0-9]*' | sed 's/.*status //' | tr '\n' ' ')" = "200 304 " ] ||
	fail "the two Off rounds were not a 200 and a 304: $(tail -n +$((from + 1)) "$T/sim.log" | grep 'configuration attempt')"
ok "ztpctl config set Off: alarm says OFF (version 2021-05-06, received:${#OFF}), LED 0, twice (200, then 304 from the kept body)"

# ---- telemetry
TELE='t=21.5C door="open" path=C:\x {json} & more'
alarm_run --device "$T/modem" --telemetry "$TELE"
[ "$ALARM_RC" = 0 ] || fail "alarm --telemetry exited $ALARM_RC; $(alarm_said)"
[ "$(sed -n '/^iot:Alarm/,$p' "$T/alarm.out" | grep -vx 'sending state: 1')" = "$(printf '%s\n' \
	'iot:Alarm configured as OFF' 'Send telemetry: OK' 'sending state: 3' 'telemetry delivered')" ] ||
	fail "alarm --telemetry: $(alarm_said)"
ctl --json telemetry "$ICCID"
json_true "$T/ctl.out" '(.telemetry | length) == 1 and .telemetry[0].body == $t
	and .telemetry[0].device_id == $d and .telemetry[0].size == ($t | length)' --arg t "$TELE" --arg d "$DEVID" ||
	fail "ztpctl telemetry does not hold '$TELE': $(cat "$T/ctl.out")"
T255=$(printf '%0255d' 0 | tr 0 Z)
alarm_run --device "$T/modem" --telemetry "$T255"
[ "$ALARM_RC" = 0 ] && grep -qx 'telemetry delivered' "$T/alarm.out" ||
	fail "alarm --telemetry (255 bytes): exit $ALARM_RC; $(alarm_said)"
ctl --json telemetry "$ICCID"
json_true "$T/ctl.out" '(.telemetry | length) == 2 and ([.telemetry[] | select(.body == $t and .size == 255)] | length) == 1' \
	--arg t "$T255" || fail "ztpctl telemetry lacks the 255-byte record: $(head -c 600 "$T/ctl.out")"
ok "--telemetry: delivered (sending state 3), ztpctl telemetry holds it byte for byte, with the Device ID; 255 bytes too"

# ---- T=0: a T=0 card answers at once when Le is the data's length (the
# channel number, the 256-byte descriptor) and 61xx otherwise (the status,
# the body); alarm takes the data either way, with GET RESPONSE after 61xx
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
start_sim --t0
ctl config set "$ICCID" --body "$SEED_CONFIG"
from=$(wc -l <"$T/trace")
alarm_run --device "$T/modem"
expect_config 2021-05-05 ON 90
expect_led 1
# the run's exchanges from the trace, "APDU ANSWER" a line
pairs=$(tail -n +$((from + 1)) "$T/trace" | awk '
	/ > AT\+CSIM=/ { match($0, /"[0-9A-F]*"/); a = substr($0, RSTART + 1, RLENGTH - 2) }
	/ < \+CSIM: / { match($0, /"[0-9A-F]*"/); print a, substr($0, RSTART + 1, RLENGTH - 2) }')
desc=$(hexof "127.0.0.1:$DEVICE_PORT/v1/config/$DEVID?iccid=$ICCID_EF")
while [ ${#desc} -lt 512 ]; do desc=${desc}00; done
for want in '0070000001 019000' "01CA000000 ${desc}9000" '01CC020000 6104' '01CA010000 615A' \
	"01C000005A $(hexof "$SEED_CONFIG")9000"; do
	grep -qx "$want" <<<"$pairs" || fail "--t0: no exchange '${want:0:40}...' in alarm's run: $(cut -c1-40 <<<"$pairs" | tr '\n' '|')"
done
grep -Eqx '01C0000004 000[17]00009000' <<<"$pairs" || fail "--t0: no GET RESPONSE of a state: $(cut -c1-40 <<<"$pairs" | tr '\n' '|')"
# GET RESPONSE right after each 61xx, with its Le, and at no other time
awk '{ if ($1 ~ /^0[0-3]C0/) { if (prev !~ /^61/ || substr($1, 9, 2) != substr(prev, 3, 2)) bad = 1 }
	else if (prev ~ /^61/) bad = 1; prev = $2 } END { exit bad }' <<<"$pairs" ||
	fail "--t0: GET RESPONSE not exactly after each 61xx: $(cut -c1-40 <<<"$pairs" | tr '\n' '|')"
ok "ztp-sim --t0: alarm takes 019000 and the descriptor at once, follows 6104 and 615A with GET RESPONSE; ON again (configuration set back to the seed's), LED 1"

# ---- refusals: the error is shown, exit 1, the LED stays as it was
ctl sim block "$ICCID"
alarm_run --device "$T/modem"
[ "$ALARM_RC" = 1 ] || fail "blocked SIM: alarm exited $ALARM_RC, expected 1; $(alarm_said)"
grep -q 'configuration request failed: error 0193 (HTTP status 403' "$T/alarm.err" ||
	fail "blocked SIM: no 0193 on stderr; $(alarm_said)"
grep -qx 'receiving state: 15' "$T/alarm.out" || fail "blocked SIM: no state 15 in the log; $(alarm_said)"
grep -q 'iot:Alarm' "$T/alarm.out" && fail "blocked SIM: alarm still configured the alarm; $(alarm_said)"
expect_led 1
[ "$(ev_count blocked_sim)" -ge 1 ] || fail "blocked SIM: no blocked_sim event"
ctl sim unblock "$ICCID"
alarm_run --device "$T/modem"
expect_config 2021-05-05 ON 90
ok "ztpctl sim block: alarm exits 1 with 'error 0193 (HTTP status 403 ...)', LED untouched, a blocked_sim event; after sim unblock it works again"

nrebind=$(ev_count rebind_refused)
alarm_run --device "$T/modem" --device-id "$OTHER"
[ "$ALARM_RC" = 1 ] || fail "another Device ID: alarm exited $ALARM_RC, expected 1; $(alarm_said)"
grep -q 'configuration request failed: error 0199 (HTTP status 409' "$T/alarm.err" ||
	fail "another Device ID: no 0199 on stderr; $(alarm_said)"
expect_led 1
expect_new_event rebind_refused "$nrebind"
ctl --json sim show "$ICCID"
json_true "$T/ctl.out" '.device_id == $d' --arg d "$DEVID" || fail "the binding changed: $(cat "$T/ctl.out")"
alarm_run --device "$T/modem"
expect_config 2021-05-05 ON 90
ok "another Device ID on the bound SIM: exit 1 with 'error 0199 (HTTP status 409 ...)', a rebind_refused event, binding kept; the right one works again"

# ztpd down: the applet gives up after max_attempts (2) attempts
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
sim_true 'type == "object"' || fail "the SIM file is not one JSON object: $(head -c 200 "$T/sim.json")"
jq '.max_attempts = 2' "$T/sim.json" >"$T/sim.new" && mv "$T/sim.new" "$T/sim.json"
chmod 600 "$T/sim.json"
start_sim
stop_ztpd
from=$(wc -l <"$T/sim.log")
ALARM_TIMEOUT=20 alarm_run --device "$T/modem"
[ "$ALARM_RC" = 1 ] || fail "ztpd down: alarm exited $ALARM_RC, expected 1; $(alarm_said)"
grep -q 'configuration request failed: error FF03 (gave up after the configured number of attempts)' "$T/alarm.err" ||
	fail "ztpd down: no FF03 on stderr; $(alarm_said)"
[ "$(tail -n +$((from + 1)) "$T/sim.log" | grep -c 'configuration attempt: ')" = 2 ] ||
	fail "ztpd down: not 2 attempts: $(tail -n +$((from + 1)) "$T/sim.log" | grep -c 'configuration attempt: ')"
[ "$ALARM_S" -le 10 ] || fail "ztpd down: alarm took $ALARM_S s"
expect_led 1
ok "ztpd down, max_attempts 2: alarm exits 1 after ${ALARM_S} s with 'error FF03 (gave up ...)', 2 attempts, LED untouched"

stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
# a sanitizer build reports into the logs (ztpd was stopped above)
! grep -q 'Sanitizer\|runtime error:' "$T/sim.log" "$T/ztpd.log" ||
	fail "sanitizer report: $(grep -h -m3 'Sanitizer\|runtime error:' "$T/sim.log" "$T/ztpd.log")"
echo "test_e2e_alarm: all checks passed"
