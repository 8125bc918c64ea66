# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# Helpers of the module security service's device-side tests (sourced
# after lib.sh): modules made and imported, any number of ztp-sim --module
# at once (each by a NAME: its state file $T/NAME.nvm, its pty, its log
# $T/NAME.log), their AT commands, the module's state read from its file
# (docs/protocol/security-service.md section 9, the image of
# src/device/rot.c) and the server's from the store, ztpd restarted on
# its ports with a fault point armed.
#
# Both sides are read strictly: a state file that is not one whole image
# (magic, length, CRC-32) fails the test, and so does a RoT the store lacks.
MSIM=$BUILD/ztp-sim
# shellcheck disable=SC2034 # for the tests that source this
MSIM_FAULT=$BUILD/ztp-sim-fault # with fault points: ZTP_FAULT=module_save_N_*
CHAT=$SRC/tests/integration/pty_chat.py
# the interpreter itself, without site (a version manager's shim and site's
# imports cost a second a call on a busy machine; these tests call it often)
PY=$(python3 -c 'import sys; print(sys.executable)')
[ -x "$MSIM" ] || fail "no ztp-sim at $MSIM"
declare -A MPID=() MPTY=()
MSIM_LAST="" # the module started last: its log is shown if the test fails

# fail, also from a command substitution: the test stops there, not at the
# next check of the value it printed
trap 'exit 1' USR1
fail() {
	echo "FAIL: $*" >&2
	[ "$BASHPID" = "$$" ] || kill -USR1 "$$" 2>/dev/null || true
	exit 1
}

# on exit: every module stopped, the logs of the last ones shown if the test failed
msim_cleanup() {
	local rc=$? n live=()
	set +e
	for n in "${!MPID[@]}"; do [ -z "${MPID[$n]}" ] || live+=("$n"); done
	for n in "${!MPID[@]}"; do msim_stop "$n"; done
	if [ $rc -ne 0 ]; then
		for n in "${live[@]:0:2}" ${MSIM_LAST:+"$MSIM_LAST"}; do
			echo "---- ztp-sim $n (last 25 lines) ----" >&2
			tail -n 25 "$T/$n.log" >&2
		done
	fi
	(exit $rc)
	cleanup
}
trap msim_cleanup EXIT

# mod_uid I, mod_secret I: the RoT UID and factory secret of module number I
mod_uid() { printf '4d0d%028x' "$1"; }
mod_secret() { printf 'factory secret %d' "$1" | sha256sum | cut -c1-64; }

# mod_import FIRST LAST: the module maker's batch of modules FIRST..LAST, imported
mod_import() {
	local i
	for i in $(seq "$1" "$2"); do printf '%s,%s\n' "$(mod_uid "$i")" "$(mod_secret "$i")"; done \
		>"$T/batch.csv"
	chmod 600 "$T/batch.csv"
	"$ZTPCTL" module import "$T/batch.csv" >"$T/import.out" 2>&1 ||
		fail "module import $1..$2: $(tail -3 "$T/import.out")"
	rm -f "$T/batch.csv"
}

# mod_new NAME I: a factory-fresh state file $T/NAME.nvm for module I
mod_new() {
	local key=$T/$1.key
	rm -f "$T/$1.nvm"
	(umask 077 && mod_secret "$2" >"$key")
	"$MSIM" --module "$T/$1.nvm" --module-create "$(mod_uid "$2")" --factory-key-file "$key" \
		>>"$T/$1.log" 2>&1 || fail "ztp-sim --module-create for $1: $(tail -2 "$T/$1.log")"
	rm -f "$key"
}

# msim_launch NAME [VAR=VALUE...]: ztp-sim ($MSIM_BIN, default $MSIM) on
# $T/NAME.nvm with the environment given, not waited for; sets MPID[NAME]
msim_launch() {
	local name=$1 bin=${MSIM_BIN:-$MSIM}
	shift
	MSIM_LAST=$name
	: >"$T/$name.out"
	env "$@" "$bin" --module "$T/$name.nvm" --module-server "127.0.0.1:$DEVICE_PORT" --verbose \
		>"$T/$name.out" 2>>"$T/$name.log" &
	MPID[$name]=$!
	MPTY[$name]=""
}
# msim_ready NAME: until it printed its pty; sets MPTY[NAME]. False if it
# is dead by the time its pty is checked (a fault point at one of its
# first writes).
msim_ready() {
	local name=$1
	for _ in $(seq 1 200); do
		[ -s "$T/$name.out" ] && break
		msim_alive "$name" || return 1
		sleep 0.05
	done
	MPTY[$name]=$(head -1 "$T/$name.out")
	[ -c "${MPTY[$name]}" ] && return 0
	msim_alive "$name" || return 1 # its pty went with it
	fail "ztp-sim $name did not print a pty: '${MPTY[$name]}'"
}
# msim_start NAME [VAR=VALUE...]: msim_launch, then msim_ready
msim_start() {
	msim_launch "$@"
	msim_ready "$1"
}

# msim_alive NAME: its ztp-sim runs (a dead one is reaped)
msim_alive() {
	local p=${MPID[$1]:-}
	[ -n "$p" ] || return 1
	kill -0 "$p" 2>/dev/null && return 0
	wait "$p" 2>/dev/null || true
	MPID[$1]=""
	return 1
}

# msim_wait_dead NAME: until its ztp-sim is gone (a fault point fired); fails after 15 s
msim_wait_dead() {
	for _ in $(seq 1 300); do
		msim_alive "$1" || return 0
		sleep 0.05
	done
	fail "ztp-sim $1 did not reach its fault point"
}

# msim_stop NAME: SIGTERM, SIGKILL after 5 s
msim_stop() {
	local p=${MPID[$1]:-}
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	MPID[$1]=""
}

# msim_kill NAME: a power cut (SIGKILL)
msim_kill() {
	local p=${MPID[$1]:-}
	[ -n "$p" ] || return 0
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	MPID[$1]=""
}

# mat NAME LINE...: the escaped answers (pty_chat.py) of its modem, echo
# off (ATE0 first, its answer not shown); "dead" if its ztp-sim is gone,
# "timeout" if it did not answer within 10 s
mat() {
	local name=$1 r
	shift
	msim_alive "$name" || { echo dead; return 0; }
	if r=$(ZTP_SIM_PID=${MPID[$name]} "$PY" -S "$CHAT" "${MPTY[$name]}" ATE0 "$@" 2>/dev/null); then
		printf '%s\n' "$r" | tail -n +2
	elif msim_alive "$name"; then
		echo timeout
	else
		echo dead
	fi
}

# mstatus NAME: AT+USECDEVINFO?'s three digits (0,0,0 1,0,1 1,1,1), or
# dead; anything else fails the test
mstatus() {
	local r
	r=$(mat "$1" 'AT+USECDEVINFO?')
	[ "$r" = dead ] && { echo dead; return 0; }
	[[ "$r" =~ ^\\r\\n\+USECDEVINFO:\ ([01],[01],[01])\\r\\n\\r\\nOK\\r\\n$ ]] ||
		fail "$1: AT+USECDEVINFO? answered '$r'"
	echo "${BASH_REMATCH[1]}"
}

# mconn NAME: AT+USECCONN: OK, CME (+CME ERROR: operation not allowed) or
# dead; anything else fails the test
mconn() {
	local r
	r=$(mat "$1" 'AT+USECCONN')
	case "$r" in
	'\r\nOK\r\n') echo OK ;;
	'\r\n+CME ERROR: operation not allowed\r\n') echo CME ;;
	dead) echo dead ;;
	*) fail "$1: AT+USECCONN answered '$r'" ;;
	esac
}

# mseal NAME PROFILE SERIAL: AT+USECDEVINFO= answers OK (sealed now, or ignored)
mseal() {
	local r
	r=$(mat "$1" "AT+USECDEVINFO=\"$2\",\"$3\"")
	[ "$r" = '\r\nOK\r\n' ] || fail "$1: AT+USECDEVINFO=\"$2\",\"$3\" answered '$r'"
}

# mconn_ok NAME: AT+USECCONN until OK (refused within the minimum interval
# of either side: a pause, then again); fails after 30 tries
mconn_ok() {
	local r
	for _ in $(seq 1 30); do
		r=$(mconn "$1")
		[ "$r" = OK ] && return 0
		[ "$r" = dead ] && fail "$1: ztp-sim died during AT+USECCONN"
		sleep 0.4
	done
	fail "$1: AT+USECCONN never answered OK"
}

# mfile NAME: the module's state from $T/NAME.nvm as
# "epoch pending_epoch sealed seal_unreported status heartbeats boots"
# (pending_epoch 0: no key pending); a file that is not one whole image
# (version 2, 339 bytes, maybe followed by the services' sections) fails
# the test
mfile() {
	local out
	out=$("$PY" -S - "$T/$1.nvm" <<'EOF' 2>&1
import struct, sys, zlib
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('>H', b[6:8])[0] if len(b) >= 8 else 0
if n != 339 or len(b) < n or b[:4] != b'ZROT' or struct.unpack('>I', b[n - 4:n])[0] != zlib.crc32(b[:n - 4]):
    sys.exit('not one whole module state image (%d bytes)' % len(b))
if len(b) > n and b[n:n + 4] != b'ZSEC':
    sys.exit('bytes after the image that are not sections')
u32 = lambda o: struct.unpack('>I', b[o:o + 4])[0]
flags = u32(8)
print(u32(157), u32(193) if flags & 4 else 0, flags & 1, (flags >> 1) & 1, b[254], u32(259), u32(255))
EOF
	) || fail "$1's state file: $out"
	echo "$out"
}
m_epoch() { mfile "$1" | cut -d' ' -f1; }
m_pending() { mfile "$1" | cut -d' ' -f2; }

# srv UID COLUMNS: columns of the RoT's row in the store (|-separated)
srv() {
	local r
	r=$(db "SELECT $2 FROM modules WHERE rot_uid = '$1'")
	[ -n "$r" ] || fail "no module $1 in the store"
	echo "$r"
}
s_epoch() { srv "$1" epoch; }

# Every module runs on 127.0.0.1: ztpd must not fold the events of this
# one peer address beyond --event-rate new rows a window into one
# events_suppressed row (docs/admin-api.md), or a clone could go unseen.
# Start ztpd with these options.
MOD_ZTPD_OPTS=(--event-rate 1000000)

# ev_mod KIND UID: events of KIND about the RoT UID (its own rows: the
# detail, which names the RoT until events carry their device
# (events_note_dev), is part of what makes a row)
ev_mod() {
	db "SELECT coalesce(sum(count), 0) FROM events WHERE kind = '$1'
		AND (device = '$2' OR detail LIKE 'module $2:%')"
}
# wait_ev_mod KIND UID MIN: until at least MIN events of KIND about UID
# (events are written about once a second); fails after 10 s
wait_ev_mod() {
	for _ in $(seq 1 200); do
		[ "$(ev_mod "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.05
	done
	fail "fewer than $3 $1 events about $2: $(ev_mod "$1" "$2")"
}
# clone_events_match: (events written) as many module_clone events as
# clones the store counted on all RoTs, none suppressed
clone_events_match() {
	local ev cl
	ev_settle
	ev=$(ev_count_now module_clone)
	cl=$(db "SELECT coalesce(sum(clones), 0) FROM modules")
	[ "$ev" = "$cl" ] || fail "$ev module_clone events for $cl clones counted"
	[ "$(ev_count_now events_suppressed)" = 0 ] || fail "events were suppressed"
}

# restart_ztpd [VAR=VALUE...]: ztpd again on the same data and ports,
# with that environment (a fault point armed: ZTPD=$ZTPD_FAULT for the call)
restart_ztpd() {
	stop_ztpd
	env "$@" "$ZTPD" --data "$DATA" --device-listen "127.0.0.1:$DEVICE_PORT" \
		--admin-listen "127.0.0.1:$ADMIN_PORT" --workers 1 "${MOD_ZTPD_OPTS[@]}" \
		>>"$T/ztpd.log" 2>&1 &
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

# front_wait_dead PID: until that front process is gone (its fault point
# fired); false after 15 s
front_wait_dead() {
	for _ in $(seq 1 300); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}
