#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The host MCU's example application examples/module against the real
# processes: ztpd as the security service, the operator's ztpctl (owner,
# profile, module import), ztp-sim --module holding one module's root of
# trust behind its pty, and build/module driving it with the security AT
# commands (docs/protocol/security-service.md section 9, include/ztp/usec.h).
#
#   - a fresh module: module seals the profile and a serial, polls
#     AT+USECDEVINFO? until 1,x,1, triggers AT+USECCONN: exit 0, the status
#     lines and "Heartbeat: OK"; the server shows the module bootstrapped,
#     assigned to the profile's owner, with the serial
#   - a second run at once: the seal answers OK and changes nothing (the
#     server still has the first serial), the module is already 1,1,1, and
#     the heartbeat is refused within the minimum interval: exit 4 with
#     "+CME ERROR: operation not allowed" shown
#   - usage errors (exit 2) before the serial device is opened
#   - a module that cannot reach its server: exit 3 after --timeout
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_example_module.sh
. "$(dirname "$0")/lib.sh"

MODULE=$BUILD/module
SIM=$BUILD/ztp-sim
[ -x "$MODULE" ] || fail "no module example at $MODULE"
[ -x "$SIM" ] || fail "no ztp-sim at $SIM"

ROT=00112233445566778899aabbccddeeff
SECRET=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
SERIAL=SN-0001
MIN_INTERVAL=300
SIM_PID=""

# ctl ARGS...: ztpctl, which must succeed; its stdout in $T/ctl.out
ctl() {
	"$ZTPCTL" "$@" >"$T/ctl.out" 2>"$T/ctl.err" ||
		fail "ztpctl $*: exit $?: $(head -c 300 "$T/ctl.err")"
}

# start_module_sim [options]: ztp-sim --module $T/module.nvm behind a pty,
# linked as $T/modem; sets PTY
start_module_sim() {
	: >"$T/sim.out"
	"$SIM" --module "$T/module.nvm" --link "$T/modem" --verbose "$@" \
		>"$T/sim.out" 2>>"$T/sim.log" &
	SIM_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$T/sim.out" ] && break
		kill -0 "$SIM_PID" 2>/dev/null || fail "ztp-sim --module exited at start: $(tail -5 "$T/sim.log")"
		sleep 0.05
	done
	PTY=$(head -1 "$T/sim.out")
	[ -c "$PTY" ] || fail "ztp-sim --module did not print a pty: '$PTY'"
}

# stop_module_sim: SIGTERM, SIGKILL after 5 s
stop_module_sim() {
	[ -n "$SIM_PID" ] || return 0
	kill -TERM "$SIM_PID" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$SIM_PID" 2>/dev/null || true
	wait "$SIM_PID" 2>/dev/null || true
	SIM_PID=""
}

module_cleanup() {
	local rc=$?
	set +e
	stop_module_sim
	if [ $rc -ne 0 ] && [ -f "$T/sim.log" ]; then
		echo "---- ztp-sim log (last 40 lines) ----" >&2
		tail -n 40 "$T/sim.log" >&2
	fi
	(exit $rc)
	cleanup
}
trap module_cleanup EXIT

# module_run ARGS...: build/module ARGS, killed after 60 s; stdout in
# $T/module.out, stderr in $T/module.err, exit status in MODULE_RC
module_run() {
	set +e
	timeout 60 "$MODULE" "$@" >"$T/module.out" 2>"$T/module.err"
	MODULE_RC=$?
	set -e
	! grep -q 'Sanitizer\|runtime error:' "$T/module.err" || fail "module $*: $(head -c 600 "$T/module.err")"
}
module_said() { echo "exit $MODULE_RC, stdout: $(tr '\n' '|' <"$T/module.out" | head -c 600) stderr: $(tr '\n' '|' <"$T/module.err" | head -c 600)"; }

# write_module FILE: a factory-fresh module of $ROT (its maker's personalisation)
write_module() {
	rm -f "$1"
	printf '%s\n' "$SECRET" >"$T/factory.key"
	chmod 600 "$T/factory.key"
	"$SIM" --module "$1" --module-create "$ROT" --factory-key-file "$T/factory.key" \
		>>"$T/sim.log" 2>&1 || fail "ztp-sim --module-create: $(tail -3 "$T/sim.log")"
}

# restart_ztpd: ztpd again on the same ports and data directory
restart_ztpd() {
	"$ZTPD" --data "$DATA" --device-listen "127.0.0.1:$DEVICE_PORT" \
		--admin-listen "127.0.0.1:$ADMIN_PORT" --workers 1 >>"$T/ztpd.log" 2>&1 &
	ZTPD_PID=$!
	for _ in $(seq 1 200); do
		if [ -n "$(ss -ltnH "sport = :$DEVICE_PORT" 2>/dev/null)" ] &&
			[ "$(jq -r .pid "$DATA/run.json" 2>/dev/null)" = "$ZTPD_PID" ]; then
			ztpd_children
			return 0
		fi
		sleep 0.05
	done
	fail "ztpd did not come back on port $DEVICE_PORT"
}

start_ztpd

# ---- the operator: an owner, a profile, the module maker's batch file
ctl owner create acme
ctl profile create sensors --owner acme --features psk,e2e \
	--heartbeat-min-interval "$MIN_INTERVAL"
PROFILE=$(head -1 "$T/ctl.out")
[[ $PROFILE =~ ^[0-9a-f]{32}$ ]] || fail "profile create: no DeviceProfileUID in $(cat "$T/ctl.out")"
printf 'rot_uid,factory_secret\n%s,%s\n' "$ROT" "$SECRET" >"$T/batch.csv"
chmod 600 "$T/batch.csv"
ctl module import "$T/batch.csv"
ok "ztpctl owner create, profile create ($PROFILE), module import"

# ---- usage errors: exit 2, nothing sent
for bad in "--profile ${PROFILE^^} --serial $SERIAL" "--profile $PROFILE" \
	"--serial $SERIAL" "--profile $PROFILE --serial a\"b" "--timeout 0" "--poll x" "--bogus"; do
	# shellcheck disable=SC2086 # word splitting of the options is meant
	module_run --device "$T/nonexistent" $bad
	[ "$MODULE_RC" = 2 ] || fail "module $bad: expected exit 2; $(module_said)"
	[ ! -s "$T/module.out" ] || fail "module $bad: wrote to stdout: $(module_said)"
done
ok "module: usage errors exit 2 before opening the device"

# ---- a fresh module: seal, bootstrap, heartbeat. As on a production line,
# the seal comes before the module first reaches its server (ztpd is down
# while the host seals): its bootstrap carries the seal, and the host's
# heartbeat is the first. (Sealed after a bootstrap, the module reports the
# seal in a heartbeat of its own at once, and a host's AT+USECCONN right
# after it is within the minimum interval.)
write_module "$T/module.nvm"
stop_ztpd
start_module_sim --module-server "127.0.0.1:$DEVICE_PORT"
set +e
timeout 60 "$MODULE" --device "$T/modem" --profile "$PROFILE" --serial "$SERIAL" --timeout 60 \
	--poll 1 >"$T/module.out" 2>"$T/module.err" &
MODULE_BG=$!
set -e
for _ in $(seq 1 100); do grep -q '^Seal: OK' "$T/module.out" 2>/dev/null && break; sleep 0.1; done
restart_ztpd
set +e
wait "$MODULE_BG"
MODULE_RC=$?
set -e
[ "$MODULE_RC" = 0 ] || fail "module on a fresh module: $(module_said)"
[ ! -s "$T/module.err" ] || fail "module succeeded but wrote to stderr: $(module_said)"
head -2 "$T/module.out" | cmp -s - <(printf '%s\n' "Modem: OK" \
	"Seal: OK (profile $PROFILE, serial $SERIAL)") || fail "module's first lines: $(module_said)"
grep -Eq '^status: 1,[01],1 \(bootstrapped' "$T/module.out" || fail "never 1,x,1: $(module_said)"
grep -vE '^(Modem: OK|Seal: OK .*|status: (0,0,0|1,0,1|1,1,1) \(.*\)|Heartbeat: OK)$' "$T/module.out" &&
	fail "unexpected lines: $(module_said)"
[ "$(grep -c '^Heartbeat: OK$' "$T/module.out")" = 1 ] || fail "no Heartbeat: OK: $(module_said)"
[ "$(tail -1 "$T/module.out")" = "status: 1,1,1 (bootstrapped and assigned to an owner)" ] ||
	fail "the status after the heartbeat: $(module_said)"
ctl --json device show "$ROT"
json_true "$T/ctl.out" '.owner == "acme" and .serial == $s and .profile == $p' \
	--arg s "$SERIAL" --arg p "$PROFILE" || fail "ztpctl device show after the run: $(cat "$T/ctl.out")"
ok "module on a fresh module: sealed, 1,1,1, Heartbeat: OK, exit 0; the server has it under acme with $SERIAL"

# ---- again at once: the seal changes nothing, the heartbeat is too soon
module_run --device "$PTY" --profile "$PROFILE" --serial SN-OTHER --timeout 10 --poll 1
[ "$MODULE_RC" = 4 ] || fail "module within the minimum interval: expected exit 4; $(module_said)"
cmp -s "$T/module.out" <(printf '%s\n' "Modem: OK" "Seal: OK (profile $PROFILE, serial SN-OTHER)" \
	"status: 1,1,1 (bootstrapped and assigned to an owner)" \
	"Heartbeat: refused (operation not allowed)") || fail "second run: $(module_said)"
grep -qx 'module: heartbeat refused: the module answered +CME ERROR: operation not allowed' "$T/module.err" ||
	fail "second run's error: $(module_said)"
ctl --json device show "$ROT"
json_true "$T/ctl.out" '.serial == $s' --arg s "$SERIAL" || fail "a second seal changed the serial: $(cat "$T/ctl.out")"
ok "a second run: the seal answers OK and changes nothing, AT+USECCONN within $MIN_INTERVAL s refused: exit 4"
stop_module_sim

# ---- a module that cannot reach its server: 0,0,0 until --timeout
stop_ztpd
write_module "$T/module.nvm"
start_module_sim --module-server "127.0.0.1:$DEVICE_PORT"
module_run --device "$T/modem" --timeout 2 --poll 1
[ "$MODULE_RC" = 3 ] || fail "module without a server: expected exit 3; $(module_said)"
grep -qx 'status: 0,0,0 (bootstrap not done)' "$T/module.out" || fail "no 0,0,0: $(module_said)"
grep -q '^module: not bootstrapped after 2 s' "$T/module.err" || fail "no time-out message: $(module_said)"
ok "a module without its server: 0,0,0, exit 3 after --timeout 2"
