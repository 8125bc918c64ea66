#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ztp-sim --module against a real ztpd (docs/protocol/security-service.md):
# the AT commands of section 9 over the pty, the bootstrap (sealed before,
# and the two-stage one: sealed after), the seal once, the minimum
# interval, AT+USECCONN, the byte count of a bootstrap, and power cuts of
# the module's state file at every write of a bootstrap and of a heartbeat
# (ztp-sim-fault killed at module_save_N_before_rename and _after): the
# module always ends with the key the server holds, and no cut is taken
# for a clone.
#
#   1. module files made with --module-create from the maker's batch file
#      that ztpctl module import takes
#   2. an unreachable server: +USECDEVINFO: 0,0,0, AT+USECCONN refused
#   3. unsealed bootstrap: 1,0,1; sealed then: 1,1,1 (owner assigned); a
#      second AT+USECDEVINFO answers OK and changes nothing
#   4. sealed before the bootstrap: 1,1,1 at once; AT+USECCONN moves the
#      key (minimum interval 1 s), within a minimum interval it is refused
#   5. power cuts at every write
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_module_sim.sh
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/integration/lib_ztpctl.sh"

SIM=$BUILD/ztp-sim
SIM_FAULT=$BUILD/ztp-sim-fault
[ -x "$SIM" ] || fail "no ztp-sim at $SIM"
[ -x "$SIM_FAULT" ] || fail "no ztp-sim-fault at $SIM_FAULT"

MOD_PID=""
MPTY=""
mod_cleanup() {
	local rc=$?
	set +e
	stop_mod
	if [ $rc -ne 0 ] && [ -f "$T/mod.log" ]; then
		echo "---- ztp-sim log (last 40 lines) ----" >&2
		tail -n 40 "$T/mod.log" >&2
	fi
	(exit $rc)
	cleanup
}
trap mod_cleanup EXIT

rot() { printf '00112233445566778899aabbcc%06x' "$1"; }
secret() { printf '%064x' "$(($1 * 7919 + 1))"; }

# new_module I: the maker's batch line imported, and the module's state file $T/mI.bin
new_module() {
	printf '%s,%s,test\n' "$(rot "$1")" "$(secret "$1")" >"$T/batch$1.csv"
	ok_run module import "$T/batch$1.csv"
	secret "$1" >"$T/key$1"
	chmod 600 "$T/key$1"
	"$SIM" --module "$T/m$1.bin" --module-create "$(rot "$1")" --factory-key-file "$T/key$1" \
		2>>"$T/mod.log" || fail "ztp-sim --module-create $(rot "$1")"
	rm -f "$T/key$1"
	[ "$(stat -c %a "$T/m$1.bin")" = 600 ] || fail "m$1.bin: mode $(stat -c %a "$T/m$1.bin")"
}

# start_mod FILE PORT [PROGRAM]: ztp-sim --module FILE against 127.0.0.1:PORT; sets MPTY, MOD_PID
start_mod() {
	local prog=${3:-$SIM}
	: >"$T/mod.out"
	"$prog" --module "$1" --module-server "127.0.0.1:$2" --verbose >"$T/mod.out" \
		2>>"$T/mod.log" &
	MOD_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$T/mod.out" ] && break
		kill -0 "$MOD_PID" 2>/dev/null || fail "ztp-sim exited at start"
		sleep 0.05
	done
	MPTY=$(head -1 "$T/mod.out")
	[ -c "$MPTY" ] || fail "ztp-sim did not print a pty: '$MPTY'"
}

stop_mod() {
	[ -n "$MOD_PID" ] || return 0
	kill -TERM "$MOD_PID" 2>/dev/null || true
	for _ in $(seq 1 200); do kill -0 "$MOD_PID" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$MOD_PID" 2>/dev/null || true
	wait "$MOD_PID" 2>/dev/null || true
	MOD_PID=""
}

# mat LINE: the escaped answer (pty_chat.py) to one AT line
mat() {
	local r
	r=$(ZTP_SIM_PID=$MOD_PID python3 "$SRC/tests/integration/pty_chat.py" "$MPTY" "$1") ||
		fail "$1: no final result code within 10 s, got '$r'"
	printf '%s\n' "$r"
}
expect_mat() {
	local got
	got=$(mat "$1")
	[ "$got" = "$2" ] || fail "$1: expected '$2', got '$got'"
}
STATUS_OK='\\r\\n+USECDEVINFO: %s\\r\\n\\r\\nOK\\r\\n'
CME='\r\n+CME ERROR: operation not allowed\r\n'
# echo on: the command comes back first, with its CR
answer() { printf '%s\\r%s' "$1" "$2"; }
status_is() { expect_mat "AT+USECDEVINFO?" "$(answer "AT+USECDEVINFO?" "$(printf "$STATUS_OK" "$1")")"; }
# wait_status WANT: AT+USECDEVINFO? until it says WANT (x,y,z), at most 30 s
wait_status() {
	local want got=""
	want=$(answer "AT+USECDEVINFO?" "$(printf "$STATUS_OK" "$1")")
	for _ in $(seq 1 150); do
		got=$(mat "AT+USECDEVINFO?")
		[ "$got" = "$want" ] && return 0
		sleep 0.2
	done
	fail "AT+USECDEVINFO?: never $1 (last: '$got')"
}

# the module file's fields (src/device/rot.c's layout): epoch at 157, flags at 8
file_u32() { od -An -tu4 --endian=big -j "$2" -N4 "$1" | tr -d ' '; }
file_epoch() { file_u32 "$1" 157; }
file_pending() { echo $(($(file_u32 "$1" 8) & 4)); }
db_epoch() { db "SELECT epoch FROM modules WHERE rot_uid = '$(rot "$1")'"; }
# in_step I: the module's file and the server agree on one key, nothing pending
# on the module, no quarantine, no clone
in_step() {
	local f=$T/m$1.bin
	[ "$(file_pending "$f")" = 0 ] || fail "m$1: a key still pending"
	[ "$(file_epoch "$f")" = "$(db_epoch "$1")" ] ||
		fail "m$1: module epoch $(file_epoch "$f"), server $(db_epoch "$1")"
	[ "$(db "SELECT quarantined + clones FROM modules WHERE rot_uid = '$(rot "$1")'")" = 0 ] ||
		fail "m$1: quarantined or taken for a clone"
}
# usecconn_ok I: AT+USECCONN answers OK and m$I's key moves (the minimum
# interval is 1 s: a refusal within it is tried again, 5 times at most)
usecconn_ok() {
	local e got=""
	for _ in 1 2 3 4 5; do
		e=$(file_epoch "$T/m$1.bin")
		got=$(mat "AT+USECCONN")
		if [ "$got" = "$(answer "AT+USECCONN" '\r\nOK\r\n')" ]; then
			[ "$(file_epoch "$T/m$1.bin")" -gt "$e" ] || fail "AT+USECCONN: OK, but the key did not move"
			return 0
		fi
		[ "$got" = "$(answer "AT+USECCONN" "$CME")" ] || fail "AT+USECCONN: '$got'"
		sleep 1.1
	done
	fail "AT+USECCONN: refused 5 times, 1.1 s apart"
}
# wait_in_step I: until in_step holds (the module's thread finishes its contact), 30 s
wait_in_step() {
	local f=$T/m$1.bin
	for _ in $(seq 1 150); do
		if [ "$(file_pending "$f")" = 0 ] && [ "$(file_epoch "$f")" = "$(db_epoch "$1")" ] &&
			[ "$(file_epoch "$f")" -ge 1 ]; then
			in_step "$1"
			return 0
		fi
		sleep 0.2
	done
	in_step "$1"
}

start_ztpd
db_exec "INSERT INTO owners(name, created_at) VALUES('acme', 1)" 2>/dev/null ||
	ok_run owner create acme
ok_run profile create p0 --owner acme --features psk,e2e --heartbeat-min-interval 1
P0=$(head -1 "$T/out")
ok_run profile create p1 --owner acme --features psk --heartbeat-min-interval 3600
P1=$(head -1 "$T/out")
ok "profiles $P0 (minimum interval 1 s), $P1 (3600 s)"

# ---- 1, 2: created; nothing reached yet ----
new_module 1
[ "$(stat -c %s "$T/m1.bin")" = 339 ] || fail "m1.bin is not 339 bytes"
"$SIM" --module "$T/m1.bin" --module-create "$(rot 1)" --factory-key-file /dev/null \
	2>>"$T/mod.log" && fail "--module-create replaced an existing file"
ok "module files created, never replaced"

# the admin listener answers TLS with a certificate: the module never gets through
start_mod "$T/m1.bin" "$ADMIN_PORT"
status_is 0,0,0
expect_mat "AT+USECCONN" "$(answer "AT+USECCONN" "$CME")"
expect_mat "AT+USECDEVINFO=x" "$(answer "AT+USECDEVINFO=x" '\r\nERROR\r\n')"
expect_mat 'AT+USECDEVINFO="nothex","SN"' "$(answer 'AT+USECDEVINFO="nothex","SN"' "$CME")"
status_is 0,0,0
stop_mod
ok "unreachable: 0,0,0, AT+USECCONN refused, syntax ERROR, malformed argument +CME ERROR"

# ---- 3: the two-stage bootstrap ----
start_mod "$T/m1.bin" "$DEVICE_PORT"
wait_status 1,0,1
grep -qE "bootstrap done: [0-9]+ bytes" "$T/mod.log" || fail "no 'bootstrap done' line"
BYTES=$(grep -oE "bootstrap done: [0-9]+ bytes" "$T/mod.log" | tail -1 | grep -oE '[0-9]+')
[ "$BYTES" -lt 1048 ] || fail "the bootstrap took $BYTES bytes, the seed's module 1048"
wait_in_step 1
[ "$(db "SELECT coalesce(owner, '') FROM modules WHERE rot_uid = '$(rot 1)'")" = "" ] ||
	fail "m1 has an owner before it is sealed"
ok "unsealed bootstrap: 1,0,1, $BYTES bytes (TCP payload, both ways, handshake included)"
expect_mat "AT+USECDEVINFO=\"${P1^^}\",\"SN-1\"" \
	"$(answer "AT+USECDEVINFO=\"${P1^^}\",\"SN-1\"" '\r\nOK\r\n')"
wait_status 1,1,1
wait_in_step 1
[ "$(db "SELECT owner || ' ' || profile_uid || ' ' || serial FROM modules WHERE rot_uid = '$(rot 1)'")" = "acme $P1 SN-1" ] ||
	fail "m1 not assigned: $(db "SELECT owner, profile_uid, serial FROM modules WHERE rot_uid = '$(rot 1)'")"
# sealed once: a later call answers OK and changes nothing
cp "$T/m1.bin" "$T/m1.before"
expect_mat "AT+USECDEVINFO=\"$P0\",\"SN-2\"" "$(answer "AT+USECDEVINFO=\"$P0\",\"SN-2\"" '\r\nOK\r\n')"
cmp -s "$T/m1.bin" "$T/m1.before" || fail "a second AT+USECDEVINFO changed the state"
# p1: the minimum interval (3600 s) of the heartbeat that reported the seal
expect_mat "AT+USECCONN" "$(answer "AT+USECCONN" "$CME")"
stop_mod
ok "sealed after: 1,1,1, owner acme; sealed once; AT+USECCONN within the minimum interval refused"

# ---- 4: sealed before the bootstrap ----
new_module 2
start_mod "$T/m2.bin" "$ADMIN_PORT"
expect_mat "AT+USECDEVINFO=\"$P0\",\"SN-2\"" "$(answer "AT+USECDEVINFO=\"$P0\",\"SN-2\"" '\r\nOK\r\n')"
status_is 0,0,0
stop_mod
start_mod "$T/m2.bin" "$DEVICE_PORT"
wait_status 1,1,1
wait_in_step 2
[ "$(db "SELECT owner FROM modules WHERE rot_uid = '$(rot 2)'")" = acme ] || fail "m2: no owner"
# the profile's features (psk, e2e) delivered at the bootstrap
[ "$(file_u32 "$T/m2.bin" 242)" = 3 ] || fail "m2: features $(file_u32 "$T/m2.bin" 242), not 3"
e=$(file_epoch "$T/m2.bin")
expect_mat "AT+USECCONN" "$(answer "AT+USECCONN" '\r\nOK\r\n')"
[ "$(file_epoch "$T/m2.bin")" = $((e + 1)) ] || fail "AT+USECCONN did not move the key"
in_step 2
# within the minimum interval (1 s) of that heartbeat, or after it
usecconn_ok 2
in_step 2
stop_mod
ok "sealed before: 1,1,1 with the profile's features; AT+USECCONN moves the key each time"

# ---- 5: power cuts at every write ----
# a bootstrap's writes: 1 the boot counter, 2 the pending key, 3 the commit
n=10
for w in 2 3; do
	for where in before_rename after; do
		n=$((n + 1))
		new_module $n
		# it may die before the pty is looked at: not start_mod
		ZTP_FAULT=module_save_${w}_$where "$SIM_FAULT" --module "$T/m$n.bin" \
			--module-server "127.0.0.1:$DEVICE_PORT" --verbose >/dev/null 2>>"$T/mod.log" &
		MOD_PID=$!
		for _ in $(seq 1 300); do kill -0 "$MOD_PID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$MOD_PID" 2>/dev/null && fail "module_save_${w}_$where: never reached"
		wait "$MOD_PID" 2>/dev/null || true
		MOD_PID=""
		start_mod "$T/m$n.bin" "$DEVICE_PORT"
		wait_status 1,0,1
		wait_in_step $n
		stop_mod
		ls -a "$T" | grep -q "^\.m$n\.bin\." && fail "a temporary file of m$n.bin left behind"
		ok "bootstrap cut at write $w ($where): bootstrapped, in step with the server"
	done
done
# a heartbeat's (AT+USECCONN on m2, minimum interval 1 s): 2 the pending key, 3 the commit
for w in 2 3; do
	for where in before_rename after; do
		ZTP_FAULT=module_save_${w}_$where start_mod "$T/m2.bin" "$DEVICE_PORT" "$SIM_FAULT"
		sleep 1.1 # past the minimum interval of the last heartbeat
		ZTP_SIM_PID=$MOD_PID python3 "$SRC/tests/integration/pty_chat.py" "$MPTY" \
			"AT+USECCONN" >/dev/null 2>&1 || true
		for _ in $(seq 1 300); do kill -0 "$MOD_PID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$MOD_PID" 2>/dev/null && fail "heartbeat module_save_${w}_$where: never reached"
		wait "$MOD_PID" 2>/dev/null || true
		MOD_PID=""
		start_mod "$T/m2.bin" "$DEVICE_PORT"
		wait_in_step 2
		usecconn_ok 2
		in_step 2
		stop_mod
		ok "heartbeat cut at write $w ($where): in step, the next heartbeat goes through"
	done
done
[ "$(db "SELECT count(*) FROM events WHERE kind = 'module_clone'")" = 0 ] ||
	fail "a power cut was taken for a clone"
ok "no clone events"
