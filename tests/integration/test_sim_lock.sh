#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# One ztp-sim per SIM file (the file is locked through FILE.lock): a second
# ztp-sim on the file, by the same name or another spelling of it, exits
# non-zero at once with a message naming the file and the first one's pid,
# and touches nothing (the SIM file, the first one's temporary files, its
# --link); the first goes on working and saving. Once the first has exited
# (SIGTERM, or SIGKILL as a power cut) the next one starts; a second SIM
# file in the same folder runs beside the first.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/lib_sim.sh"

OTHER_PID=""
lock_cleanup() {
	local rc=$?
	set +e
	[ -z "$OTHER_PID" ] || kill -KILL "$OTHER_PID" 2>/dev/null
	(exit $rc)
	sim_cleanup
}
trap lock_cleanup EXIT

DEVICE_PORT=1 # no server needed: nothing here reaches the network
write_sim_file
start_sim
expect_at ATE0 'ATE0\r\r\nOK\r\n'
first=$SIM_PID
[ -f "$T/sim.json.lock" ] || fail "no lock file beside the SIM file"
[ "$(stat -c %a "$T/sim.json.lock")" = 600 ] || fail "lock file mode $(stat -c %a "$T/sim.json.lock")"

# second NAME [options]: another ztp-sim on the SIM file called NAME; it
# must exit by itself (timeout: a safety net, not a measure); SECOND_RC,
# $T/second.out and $T/second.err
second() {
	local name=$1
	shift
	set +e
	timeout 10 "$SIM" --sim "$name" "$@" >"$T/second.out" 2>"$T/second.err"
	SECOND_RC=$?
	set -e
	[ "$SECOND_RC" != 124 ] || fail "a second ztp-sim on $name did not exit: $(cat "$T/second.err")"
}

# a save of the first one cut short would leave a temporary file like this;
# the second must not remove it (only the lock's holder may clean up)
printf 'x' >"$T/.sim.json.ABC123"
chmod 600 "$T/.sim.json.ABC123"
cp "$T/sim.json" "$T/sim.before"
link_before=$(readlink "$T/modem")
for name in "$T/sim.json" "$T/./sim.json" "$T/../$(basename "$T")/sim.json"; do
	second "$name" --link "$T/modem"
	[ "$SECOND_RC" != 0 ] || fail "a second ztp-sim on $name exited 0"
	grep -q "$name is in use by another ztp-sim (pid $first " "$T/second.err" ||
		fail "second ztp-sim on $name: no message naming the file and pid $first: $(cat "$T/second.err")"
	[ ! -s "$T/second.out" ] || fail "the second ztp-sim printed a pty: $(cat "$T/second.out")"
done
[ -f "$T/.sim.json.ABC123" ] || fail "the second ztp-sim removed the first one's temporary file"
cmp -s "$T/sim.json" "$T/sim.before" || fail "the second ztp-sim changed the SIM file"
[ "$(readlink "$T/modem")" = "$link_before" ] || fail "the second ztp-sim replaced the --link"
kill -0 "$first" 2>/dev/null || fail "the first ztp-sim died"
rm -f "$T/.sim.json.ABC123"
ok "a second ztp-sim on the SIM file (3 spellings of its name) exits $SECOND_RC: '$(head -1 "$T/second.err")'; the file, the first's temporary file and --link untouched"

# the first still works, and saves
expect_csim 0070000001 019000
expect_csim 01A4040C0CF0706F646773616665320101 9000
expect_csim "01DA02C010$DEVID" 9000
expect_csim 0070800100 9000
[ "$(sim_get .device_id)" = "$DEVID" ] || fail "the first ztp-sim did not save the Device ID"
ok "the first ztp-sim answers and saves as before"

# another SIM file in the same folder: its own lock
jq '.iccid = "8944502509186380002"' "$T/sim.json" >"$T/sim2.json"
chmod 600 "$T/sim2.json"
: >"$T/other.out"
"$SIM" --sim "$T/sim2.json" >"$T/other.out" 2>"$T/other.err" &
OTHER_PID=$!
for _ in $(seq 1 100); do
	[ -s "$T/other.out" ] && break
	kill -0 "$OTHER_PID" 2>/dev/null || fail "ztp-sim on a second SIM file exited: $(cat "$T/other.err")"
	sleep 0.05
done
[ -c "$(head -1 "$T/other.out")" ] || fail "ztp-sim on a second SIM file printed no pty"
kill -TERM "$OTHER_PID"
wait "$OTHER_PID" || fail "ztp-sim on the second SIM file: exit $? on SIGTERM"
OTHER_PID=""
ok "a ztp-sim on another SIM file in the same folder runs beside the first"

# the first exits: the next one starts; after a SIGKILL too (the lock file
# stays, with a dead pid in it, and means nothing)
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
[ -f "$T/sim.json.lock" ] || fail "the lock file was removed"
start_sim
expect_at ATE0 'ATE0\r\r\nOK\r\n'
kill -KILL "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true
SIM_PID=""
start_sim
expect_at ATE0 'ATE0\r\r\nOK\r\n'
[ "$(cat "$T/sim.json.lock")" = "$SIM_PID" ] || fail "the lock file holds '$(cat "$T/sim.json.lock")', not the pid $SIM_PID"
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
ok "after SIGTERM, and after SIGKILL, the next ztp-sim takes the SIM file (lock file kept, its pid written)"
echo "test_sim_lock: all checks passed"
