#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Fault points (src/common/fault.h) exist only in the test build's programs:
#   1. the programs and libraries a user builds and installs have none: no
#      fault_* symbol (nm), no "ZTP_FAULT" among their bytes; the test
#      build's ztpd-fault and ztp-sim-fault have both, so the check sees them;
#   2. ZTP_FAULT=atomicfile_before_rename stops ztpd-fault at start (the
#      first child that writes a file is killed), while the installed ztpd,
#      started with the same environment, runs, answers, and logs no fault.
. "$(dirname "$0")/lib.sh"

# has_faults FILE: 0 if FILE holds fault points
has_faults() {
	grep -aq ZTP_FAULT "$1" && return 0
	command -v nm >/dev/null || return 1
	nm -A "$1" 2>/dev/null | grep -Eq ' [A-Za-z] fault_(point|active|disarm)$'
}

# ---- 1. the binaries
for f in "$ZTPD_FAULT" "$BUILD/ztp-sim-fault"; do
	[ -x "$f" ] || fail "no $f: the test build makes it"
	has_faults "$f" || fail "$f has no fault points: the check below would see nothing"
done
shipped=("$ZTPD" "$ZTPCTL" "$BUILD/ztp-sim" "$BUILD/ztp-enroll" "$BUILD/alarm" "$BUILD"/lib*.a)
for f in "${shipped[@]}"; do
	[ -f "$f" ] || fail "no $f"
	! has_faults "$f" || fail "$f has fault points"
done
ok "no fault points in ${#shipped[@]} installed programs and libraries ($(cd "$BUILD" && echo ztpd ztpctl ztp-sim ztp-enroll alarm lib*.a)); ztpd-fault and ztp-sim-fault have them"

# ---- 2. ZTP_FAULT at start
export ZTP_FAULT=atomicfile_before_rename
rc=0
timeout 60 "$ZTPD_FAULT" --data "$T/faulty" --device-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
	--workers 1 >"$T/fault.log" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "ztpd-fault with ZTP_FAULT=$ZTP_FAULT: status $rc, expected an exit at start"
grep -q "fault point $ZTP_FAULT: killing myself" "$T/fault.log" ||
	fail "ztpd-fault did not stop at its fault point: $(tail -5 "$T/fault.log")"
ok "ztpd-fault with ZTP_FAULT=$ZTP_FAULT: a child killed at its first file, ztpd exits ($rc)"

start_ztpd --workers 1
[ -s "$DATA/ca.pem" ] && [ -s "$DATA/admin.json" ] || fail "the data directory was not created"
tok=$(admin_token)
[ -n "$tok" ] && [ "$tok" != null ] || fail "no admin token from ztpd with ZTP_FAULT set"
sleep 0.3
kill -0 "$ZTPD_PID" 2>/dev/null && kill -0 "$FRONT_PID" 2>/dev/null && kill -0 "$SIGNER_PID" 2>/dev/null ||
	fail "a process of ztpd ended with ZTP_FAULT set"
! grep -q "fault point" "$T/ztpd.log" || fail "ztpd logged a fault point: $(grep "fault point" "$T/ztpd.log")"
ok "ztpd with ZTP_FAULT=$ZTP_FAULT: starts on a new data directory (run.json, CA, keys written), answers, all three processes alive"
unset ZTP_FAULT
stop_ztpd
echo "faults: all checks passed"
