#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Power cuts of ztp-sim (spec safe2.md sections 4 and 6: the Device ID is
# persistent, and no power cut may leave the SIM unable to connect). The
# SIM file is saved through a temporary file, fsync and rename
# (src/sim/simfile.c); whatever moment ztp-sim dies at, the file must parse,
# keep mode 0600 and every field but the Device ID, and hold a Device ID
# that was sent: the last one acknowledged with 9000, or the one sent after
# it (never a torn or an older value). A temporary file a cut leaves behind
# must be mode 0600 (it holds the PSK) and must not be loaded (ztp-sim
# does not remove them: they pile up, one per cut inside a save).
#
#   1. every save replaces the file (a new inode: never rewritten in place)
#   2. crash points: ztp-sim killed just before each system call of one
#      save in turn (strace fault injection; skipped without strace)
#   3. random cuts: SIGKILL at a random moment while the device sets the
#      Device ID in a tight loop with two alternating IDs (each one a save),
#      or runs the seed's whole session against ztpd (TLS and all)
#   4. after the last cut: the Device ID survived (CA 00 00 without setting
#      it gives the descriptor, not 6985) and the configuration arrives
#
# A killed ztp-sim's /dev/pts number is soon another's: the device side
# opens the pty only while our ztp-sim holds it, and a round into which a
# concurrent test wrote (a stale path of its own, now our pty: seen in the
# --trace file) is repeated, at most 5 times.
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_sim_powercut.sh
# (PC_SEED=N repeats the random cuts of an earlier run; PC_ROUNDS=N, PC_SECONDS=N)
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/lib_sim.sh"

ALT=0123456789ABCDEF0011223344556677 # a second Device ID, only ever set, never requested
SEED=${PC_SEED:-$$}
ROUNDS=${PC_ROUNDS:-25}
BUDGET=${PC_SECONDS:-40}

start_ztpd
setup_seed_sim
write_sim_file
desc="127.0.0.1:$DEVICE_PORT/v1/config/$DEVID?iccid=$ICCID_EF"
deschex=$(hexof "$desc")
while [ ${#deschex} -lt 512 ]; do deschex=${deschex}00; done

# The device side of a round (a new open of the pty, as pty_chat.py). It
# appends "sent ID" before and "ack ID" after each DA 02 C0 to LOG, so the
# test knows which Device IDs the SIM file may hold. Exit 0 once the modem
# is gone (the power cut), 1 on an unexpected answer or a time-out.
cat >"$T/pc_driver.py" <<'EOF'
"""usage: SIM_PID=N pc_driver.py PTY LOG MODE ID [ID...]
once:    open channel, select, set the first ID, close channel
flood:   open channel, select, then set the IDs in turn, without end
session: without end: open, select, set the first ID, CA 00 00 (must be
         $DESC), poll CC 02 00 until 0007, CA 01 00 (must be $BODY), close
"""
import os, re, select, sys, time, tty
pty, log, mode, ids = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
lf = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
def note(s):
    os.write(lf, (s + '\n').encode())
def gone():
    note('modem gone')
    sys.exit(0)
def bad(s):
    note('unexpected: ' + s)
    sys.exit(1)
def held():
    # the pty is still our ztp-sim's (it keeps the slave open): after a cut,
    # its number may at once be another process's pty, not to be talked to
    d = '/proc/%s/fd' % os.environ['SIM_PID']
    try:
        return any(os.readlink(d + '/' + f) == pty for f in os.listdir(d))
    except OSError:
        return False
if not held():
    gone() # cut before we could open it
try:
    fd = os.open(pty, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
except OSError:
    gone()
if not held():
    gone() # what we opened may not be ours
def csim(apdu):
    try:
        os.write(fd, b'at+csim=%d,"%s"\r\n' % (len(apdu), apdu.encode()))
    except OSError:
        gone()
    got, end = b'', time.monotonic() + 10
    while not (got.endswith(b'\r\nOK\r\n') or got.endswith(b'\r\nERROR\r\n')):
        left = end - time.monotonic()
        if left <= 0:
            bad('%s: no final result code within 10 s: %r' % (apdu, got))
        try:
            if select.select([fd], [], [], left)[0]:
                b = os.read(fd, 4096)
                if not b:
                    gone()
                got += b
        except OSError:
            gone()
    m = re.search(rb'\r\n\+CSIM: (\d+),"([0-9A-F]*)"\r\n\r\nOK\r\n$', got)
    if not m or int(m.group(1)) != len(m.group(2)):
        bad('%s: %r' % (apdu, got))
    return m.group(2).decode()
def expect(apdu, want):
    r = csim(apdu)
    if r != want:
        bad('%s: expected %s, got %s' % (apdu, want, r))
def set_id(i):
    note('sent ' + i)
    expect('01DA02C0%02X%s' % (len(i) // 2, i), '9000')
    note('ack ' + i)
def open_select():
    expect('0070000001', '019000')
    expect('01A4040C0CF0706F646773616665320101', '9000')
if mode == 'once':
    open_select()
    set_id(ids[0])
    expect('0070800100', '9000')
    note('done')
elif mode == 'flood':
    open_select()
    n = 0
    while True:
        set_id(ids[n % len(ids)])
        n += 1
elif mode == 'session':
    while True:
        open_select()
        set_id(ids[0])
        expect('01CA000000', os.environ['DESC'])
        for _ in range(500):
            s = csim('01CC020000')
            if s == '000700009000':
                break
            if s != '000100009000':
                bad('CC 02 00: %s' % s)
            time.sleep(0.02)
        else:
            bad('no data within 10 s')
        expect('01CA010000', os.environ['BODY'])
        note('configuration')
        expect('0070800100', '9000')
EOF

# drive PID MODE ID...: the driver in the background on $PTY, which
# ztp-sim PID holds; sets DRV_PID, DRV_LOG, and TRACE_FROM (the --trace
# file's size before it)
drive() {
	local pid=$1
	shift
	DRV_LOG=$T/drv.$((++NDRV)).log
	: >"$DRV_LOG"
	TRACE_FROM=$(stat -c %s "$T/trace" 2>/dev/null || echo 0)
	SIM_PID=$pid DESC="${deschex}9000" BODY="$(hexof "$SEED_CONFIG")9000" \
		python3 "$T/pc_driver.py" "$PTY" "$DRV_LOG" "$@" &
	DRV_PID=$!
}
NDRV=0

# interfered WHAT: true if, since drive, ztp-sim's trace shows input lines
# that the driver never sends (it sends only "at+csim=" lines): another
# process on the machine (a concurrent test whose ztp-sim died) opened a
# stale /dev/pts path that is now our pty. Such a round says nothing and
# is repeated. Call after the driver ended.
interfered() {
	local other
	other=$(tail -c +$((TRACE_FROM + 1)) "$T/trace" | grep -a ' > ' | grep -av ' > at+csim=' | head -3 || true)
	[ -n "$other" ] || return 1
	echo "note: $1: another process wrote to our pty ($(echo $other | cut -c1-120)); repeated"
	NINTERFERED=$((NINTERFERED + 1))
	[ "$NINTERFERED" -le 5 ] || fail "other processes wrote to our pty in $NINTERFERED rounds"
}
NINTERFERED=0

# driver_end: wait for the driver (at most 5 s after the cut); DRV_RC
driver_end() {
	for _ in $(seq 1 100); do kill -0 "$DRV_PID" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$DRV_PID" 2>/dev/null && fail "the device side still runs 5 s after the cut"
	DRV_RC=0
	wait "$DRV_PID" || DRV_RC=$?
}

# driver_ok WHAT: the driver noticed the cut and saw nothing wrong before it
driver_ok() {
	[ "$DRV_RC" = 0 ] || fail "$1: the device side got a wrong answer: $(grep unexpected "$DRV_LOG")"
	grep -q '^modem gone$' "$DRV_LOG" || fail "$1: the device side did not see the modem go: $(tail -3 "$DRV_LOG")"
}

# power_cut: SIGKILL ztp-sim, as a power cut; the --link symlink stays behind
power_cut() {
	kill -KILL "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null || true
	SIM_PID=""
}

# The SIM file's fields other than the Device ID, as the first save wrote them
REF=""
rest_of() { jq -S -c 'del(.device_id)' "$1"; }

# check_file WHAT BEFORE LOG: the SIM file after a cut. BEFORE is the Device
# ID the file held before the round; LOG the driver's log of the round
# (empty: do not check the Device ID, some other process may have set it).
check_file() {
	local what=$1 before=$2 log=$3 id allowed f
	for f in "$T"/.sim.json.*; do
		[ -e "$f" ] || continue
		[ "$(stat -c %a "$f")" = 600 ] || fail "$what: temporary file $f has mode $(stat -c %a "$f") (it holds the PSK)"
	done
	# one JSON object (jq 1.6's -e alone passes an empty file)
	jq -s -e 'length == 1 and (.[0] | type) == "object"' "$T/sim.json" >/dev/null 2>&1 ||
		fail "$what: the SIM file does not parse: '$(head -c 200 "$T/sim.json" | tr '\n' ' ')' ($(stat -c %s "$T/sim.json") bytes)"
	[ "$(stat -c %a "$T/sim.json")" = 600 ] || fail "$what: SIM file mode $(stat -c %a "$T/sim.json")"
	[ "$(rest_of "$T/sim.json")" = "$REF" ] ||
		fail "$what: the SIM file's other fields changed: $(rest_of "$T/sim.json")"
	id=$(jq -r '.device_id // "none"' "$T/sim.json")
	[ -n "$log" ] || return 0
	# the last Device ID acknowledged (else the one before the round), and
	# the one sent after it if no 9000 came back yet
	allowed=$(awk -v b="$before" '$1 == "sent" { p = $2 } $1 == "ack" { b = $2; p = "" }
		END { print b; if (p != "") print p }' "$log")
	grep -qx -- "$id" <<<"$allowed" ||
		fail "$what: the SIM file holds Device ID $id; expected one of: $(echo $allowed)"
	CUT_ID=$id
	CUT_ACKED=$(head -1 <<<"$allowed")
}

ntemp() { find "$T" -maxdepth 1 -name '.sim.json.*' | wc -l; }

# ---- 1. every save replaces the file: a new inode each time, no temporary left
start_sim
expect_at ATE0 'ATE0\r\r\nOK\r\n'
expect_csim 0070000001 019000
expect_csim 01A4040C0CF0706F646773616665320101 9000
for id in $DEVID $ALT $DEVID; do
	ino=$(stat -c %i "$T/sim.json")
	expect_csim "01DA02C010$id" 9000
	[ "$(stat -c %i "$T/sim.json")" != "$ino" ] ||
		fail "DA 02 C0 $id: the SIM file was rewritten in place (same inode $ino), not replaced by rename"
	[ "$(jq -r .device_id "$T/sim.json")" = "$id" ] || fail "DA 02 C0 $id acknowledged but not in the SIM file"
	[ "$(stat -c %a "$T/sim.json")" = 600 ] || fail "SIM file mode $(stat -c %a "$T/sim.json") after a save"
	[ "$(ntemp)" = 0 ] || fail "a completed save left a temporary file: $(ls -a "$T")"
done
expect_csim 0070800100 9000
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM"
REF=$(rest_of "$T/sim.json")
ok "each save replaces the SIM file (new inode, mode 0600, nothing left behind)"

# ---- 2. crash points: killed just before each system call of a save
# strace_sim NAME K: ztp-sim under strace, SIGKILLed on entering the K-th
# call of system call NAME (no injection if NAME is empty); sets PTY,
# ST_PID (strace's subshell) and TRACED (ztp-sim's pid)
strace_sim() {
	local inj=() p
	[ -n "$1" ] && inj=(-e "trace=$1" -e "inject=$1:signal=KILL:when=$2")
	: >"$T/sim.out"
	# in a subshell whose stderr is closed: no "Killed" notice from bash
	{ strace -f -qq -o "$T/strace.out" "${inj[@]}" "$SIM" --sim "$T/sim.json" \
		--trace "$T/trace" --verbose >"$T/sim.out" 2>>"$T/sim.log"; } 2>/dev/null &
	ST_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$T/sim.out" ] && break
		kill -0 "$ST_PID" 2>/dev/null || fail "ztp-sim under strace exited at start"
		sleep 0.05
	done
	PTY=$(head -1 "$T/sim.out")
	[ -c "$PTY" ] || fail "ztp-sim under strace did not print a pty: '$PTY'"
	TRACED=""
	for p in $(pgrep -P "$ST_PID") $(for c in $(pgrep -P "$ST_PID"); do pgrep -P "$c"; done); do
		[ "$(ps -o comm= -p "$p")" = ztp-sim ] && TRACED=$p
	done
	[ -n "$TRACED" ] || fail "cannot find the traced ztp-sim"
}
# strace_end [now]: the traced ztp-sim is gone: it died at its crash point,
# or is killed by its pid now or after 5 s (SIGTERM to strace would only
# detach from it). While strace runs, TRACED is its live tracee.
strace_end() {
	if [ "${1:-}" = now ] && kill -0 "$ST_PID" 2>/dev/null; then kill -KILL "$TRACED"; fi
	for _ in $(seq 1 100); do kill -0 "$ST_PID" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$ST_PID" 2>/dev/null; then kill -KILL "$TRACED" 2>/dev/null || true; fi
	wait "$ST_PID" 2>/dev/null || true
}
# the other Device ID than the file's
other_id() { if [ "$(jq -r '.device_id // ""' "$T/sim.json")" = "$DEVID" ]; then echo "$ALT"; else echo "$DEVID"; fi; }

if strace -f -qq -o /dev/null true 2>/dev/null; then
	# calibration: the system calls of one save, each as (name, how many of
	# that name ztp-sim had made by then), from the pty read of DA 02 C0 up
	# to and including the write of its answer. Only the calls on files: the
	# count of others (getrandom, mmap) need not be the same the next time.
	for _ in 1 2 3; do
		strace_sim "" 0
		drive "$TRACED" once "$(other_id)"
		driver_end
		strace_end now
		interfered calibration || break
	done
	[ "$DRV_RC" = 0 ] && grep -q '^done$' "$DRV_LOG" ||
		fail "calibration: no 9000 to DA 02 C0: $(tail -3 "$DRV_LOG")"
	awk -v files=' open openat creat write writev pwrite64 pwritev fchmod fsync fdatasync close rename renameat renameat2 link linkat unlink unlinkat truncate ftruncate ' '
	/^[0-9]+ +[a-z_0-9]+\(/ {
		name = $2; sub(/\(.*/, "", name); n[name]++
		if (on && index(files, " " name " ")) { print name, n[name]; if (name == "writev") exit }
		if (name == "read" && /01DA02C0/) on = 1
	}' "$T/strace.out" >"$T/points"
	grep -q '^rename ' "$T/points" || fail "calibration: no rename in the save's system calls: $(tr '\n' ' ' <"$T/points")"
	grep -q '^fsync ' "$T/points" || fail "calibration: no fsync in the save's system calls: $(tr '\n' ' ' <"$T/points")"
	npoints=0
	old_seen=0
	new_seen=0
	while read -r name k; do
		what="crash point before $name #$k"
		for _ in 1 2 3; do
			before=$(jq -r '.device_id // "none"' "$T/sim.json")
			id=$(other_id)
			strace_sim "$name" "$k"
			drive "$TRACED" once "$id"
			driver_end
			strace_end
			if interfered "$what"; then
				check_file "$what" "" ""
				continue
			fi
			grep -q '^done$' "$DRV_LOG" &&
				fail "$what: not reached, DA 02 C0 was answered (not the calibration run's system calls?)"
			driver_ok "$what"
			grep -q '+++ killed by SIGKILL +++' "$T/strace.out" ||
				fail "$what: ztp-sim was not killed there: $(tail -2 "$T/strace.out")"
			check_file "$what" "$before" "$DRV_LOG"
			break
		done
		if [ "$CUT_ID" = "$id" ]; then new_seen=$((new_seen + 1)); else old_seen=$((old_seen + 1)); fi
		npoints=$((npoints + 1))
	done <"$T/points"
	# a cut before the rename keeps the old ID, one after it has the new: both happened
	[ "$old_seen" -gt 0 ] && [ "$new_seen" -gt 0 ] ||
		fail "crash points: $old_seen kept the old Device ID, $new_seen had the new one; expected both"
	ok "crash points: killed before each of the $npoints system calls of a save ($(awk '{print $1}' "$T/points" | tr '\n' ' ' | sed 's/ $//')): the file always parses, mode 0600, old ($old_seen) or new ($new_seen) Device ID; $(ntemp) temporary files left, all 0600"
else
	echo "skipped: crash points (strace is not available or not permitted)"
fi

# ---- 3. random cuts
RANDOM=$SEED
echo "random cuts: PC_SEED=$SEED"
start_s=$SECONDS
hits=0
unacked=0
configs=0
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	r=$((r + 1))
	last=0
	[ "$r" = "$ROUNDS" ] || [ $((SECONDS - start_s)) -ge "$BUDGET" ] && last=1
	before=$(jq -r '.device_id // "none"' "$T/sim.json")
	t0=$(ntemp)
	start_sim
	# odd rounds flood DA 02 C0 (a save each); even ones, and the last, run
	# the seed's session against ztpd
	if [ $((r % 2)) = 1 ] && [ "$last" = 0 ]; then
		mode=flood
		drive "$SIM_PID" flood "$DEVID" "$ALT"
	else
		mode=session
		drive "$SIM_PID" session "$DEVID"
	fi
	if [ "$last" = 1 ]; then
		# the last cut comes after the Device ID was acknowledged
		for _ in $(seq 1 100); do grep -q "^ack $DEVID\$" "$DRV_LOG" && break; sleep 0.05; done
	fi
	ms=$((RANDOM % 301))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	kill -0 "$SIM_PID" 2>/dev/null || fail "round $r: ztp-sim died before the cut"
	power_cut
	what="round $r ($mode, cut after $ms ms)"
	driver_end
	if interfered "$what"; then
		check_file "$what" "" ""
		r=$((r - 1))
		continue
	fi
	driver_ok "$what"
	check_file "$what" "$before" "$DRV_LOG"
	[ "$(ntemp)" -gt "$t0" ] && hits=$((hits + 1))
	[ "$CUT_ID" != "$CUT_ACKED" ] && unacked=$((unacked + 1))
	configs=$((configs + $(grep -c '^configuration$' "$DRV_LOG" || true)))
	if [ "$last" = 1 ]; then
		grep -q "^ack $DEVID\$" "$DRV_LOG" || fail "$what: no 9000 to DA 02 C0 within 5 s: $(tail -3 "$DRV_LOG")"
		break
	fi
done
[ "$CUT_ID" = "$DEVID" ] || fail "the last round's Device ID $DEVID was acknowledged, the file holds $CUT_ID"
kill -0 "$ZTPD_PID" 2>/dev/null || fail "ztpd died during the cuts"
ok "$r random cuts in $((SECONDS - start_s)) s (0 to 300 ms): every start succeeded, the file always parsed, mode 0600, an acknowledged or in-flight Device ID; $hits cuts fell inside a save (a temporary file left), $unacked kept a Device ID not yet acknowledged, $configs configurations fetched between cuts"

# ---- 4. after the last cut: the Device ID survived, the SIM still connects,
# and the temporary files the cuts left (and a planted one) are not loaded
left=$(ntemp)
jq --arg d "$ALT" '.device_id = $d' "$T/sim.json" >"$T/.sim.json.Zdecoy"
chmod 600 "$T/.sim.json.Zdecoy"
start_sim
expect_at ATE0 'ATE0\r\r\nOK\r\n'
expect_csim 0070000001 019000
expect_csim 01A4040C0CF0706F646773616665320101 9000
expect_csim 01CA000000 "${deschex}9000"
poll_config
expect_csim 01CA010000 "$(hexof "$SEED_CONFIG")9000"
expect_csim 01CA010000 6A88
expect_csim 0070800100 9000
stop_sim
[ "$SIM_RC" = 0 ] || fail "ztp-sim exited with status $SIM_RC on SIGTERM after the cuts"
[ "$(jq -r .device_id "$T/sim.json")" = "$DEVID" ] || fail "the clean stop changed the Device ID"
[ "$(stat -c %a "$T/sim.json")" = 600 ] || fail "SIM file mode $(stat -c %a "$T/sim.json") at the end"
rm -f "$T/.sim.json.Zdecoy"
ok "after the last cut: CA 00 00 without DA 02 C0 gives the descriptor (Device ID kept), 0007 and the seed's configuration; $left temporary files left by the cuts were ignored, as was a planted one with another Device ID (ztp-sim does not remove them)"

stop_ztpd
# a sanitizer build reports into the logs
! grep -q 'Sanitizer\|runtime error:' "$T/sim.log" "$T/ztpd.log" ||
	fail "sanitizer report: $(grep -h -m3 'Sanitizer\|runtime error:' "$T/sim.log" "$T/ztpd.log")"
echo "test_sim_powercut: all checks passed"
