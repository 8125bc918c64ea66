#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Crash tests of the module security service (docs/protocol/security-service.md
# sections 4 and 5: "every phase either completes or leaves both sides where
# a restart from phase 1 is safe"), with the real parts: ztpd (ztpd-fault
# for its fault points), ztpctl, ztp-sim --module (ztp-sim-fault for the
# module's) behind its pty.
#
#  a. ztpd's front killed at each of its fault points (module_after_pending,
#     module_before_confirm, module_after_confirm, module_before_commit,
#     module_after_commit), once during a bootstrap and once during a
#     heartbeat; the commit points are those of a pending key at its first
#     use, so the module is first cut right after it stored its pending key
#     (ztp-sim-fault). After ztpd comes back the module ends bootstrapped
#     (or heartbeated: AT+USECCONN OK), at the server's epoch, no key
#     pending on either side, no quarantine, no module_clone event.
#  b. The module's power cut at every write of its state file, before the
#     rename and after it (module_save_N_before_rename / _after), for N = 1
#     until a bootstrap, a seal and the heartbeat it triggers, and one
#     AT+USECCONN heartbeat complete without the fault firing: the file is
#     always one whole image, the module holds a key the server accepts, and
#     ztp-sim restarted on the same file always ends bootstrapped, sealed
#     and claimed (1,1,1), heartbeating, at the server's epoch, with no
#     quarantine: no false alarm when a module loses power in the middle of
#     a heartbeat.
#  c. The module killed (SIGKILL) at random moments while it heartbeats, a
#     few times: the same.
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_module_crash.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_module.sh"
[ -x "$MSIM_FAULT" ] || fail "no ztp-sim-fault at $MSIM_FAULT"

# settled NAME UID [stale]: the module bootstrapped (AT+USECDEVINFO? 1,x,1),
# no key pending on either side, one epoch on both; prints it. With
# "stale", the server may keep a pending key the module never stored (an
# answer lost): the next request replaces it, nothing else uses it.
settled() {
	local st me mp se sp
	st=$(mstatus "$1")
	[[ $st == 1,[01],1 ]] || return 1
	read -r me mp _ <<<"$(mfile "$1")"
	IFS='|' read -r se sp <<<"$(srv "$2" 'epoch, pending_epoch')"
	[ "$mp" = 0 ] && [ "$me" = "$se" ] || return 1
	[ "$sp" = 0 ] || { [ "${3:-}" = stale ] && [ "$sp" = $((se + 1)) ]; } || return 1
	echo "$me"
}
# converge NAME UID MIN WHAT [stale]: until settled at an epoch of at least
# MIN (the module goes on by itself: a pending key is due at once, a failed
# contact is retried with back-off); fails after 20 s
converge() {
	local e
	for _ in $(seq 1 80); do
		msim_alive "$1" || fail "$4: ztp-sim died without a fault armed"
		if e=$(settled "$1" "$2" "${5:-}") && [ "$e" -ge "$3" ]; then
			echo "$e"
			return 0
		fi
		sleep 0.25
	done
	fail "$4: the two sides did not settle at epoch >= $3: module '$(mfile "$1")' (epoch pending sealed unreported status heartbeats boots), status $(mstatus "$1"), server epoch|pending|retired $(srv "$2" 'epoch, pending_epoch, factory_retired')"
}
# clean UID WHAT: no quarantine, no clone counted
clean() {
	[ "$(srv "$1" 'quarantined, clones')" = "0|0" ] ||
		fail "$2: the RoT is in quarantine or has clones: $(srv "$1" 'quarantined, clones, quarantine_reason')"
}
# one_key NAME UID WHAT: (the module stopped) at most one key pending on
# each side, the next epoch's, and the module holds a key of an epoch the
# server accepts (its current or its pending one)
one_key() {
	local me mp se sp
	read -r me mp _ <<<"$(mfile "$1")"
	IFS='|' read -r se sp <<<"$(srv "$2" 'epoch, pending_epoch')"
	{ [ "$sp" = 0 ] || [ "$sp" = $((se + 1)) ]; } &&
		{ [ "$mp" = 0 ] || [ "$mp" = $((me + 1)) ]; } &&
		{ [ "$me" = "$se" ] || [ "$me" = "$sp" ] || { [ "$mp" != 0 ] && { [ "$mp" = "$se" ] || [ "$mp" = "$sp" ]; }; }; } ||
		fail "$3: module epoch $me pending $mp, server epoch $se pending $sp"
}
# wait_status NAME WANT: until AT+USECDEVINFO? answers WANT (a regex); false
# if ztp-sim died; fails after 20 s
wait_status() {
	local st
	for _ in $(seq 1 80); do
		st=$(mstatus "$1")
		[ "$st" = dead ] && return 1
		[[ $st =~ ^$2$ ]] && return 0
		sleep 0.25
	done
	fail "$1: AT+USECDEVINFO? still $st, expected $2"
}

start_ztpd --workers 1 "${MOD_ZTPD_OPTS[@]}"
db_exec "INSERT INTO owners(name, created_at) VALUES('acme', 1)"
P=$("$ZTPCTL" profile create meter --owner acme --heartbeat-min-interval 1) ||
	fail "profile create"
[[ $P =~ ^[0-9a-f]{32}$ ]] || fail "profile create printed '$P'"
mod_import 1 60
ok "owner acme, profile $P (minimum interval 1 s), 60 modules imported"

# ---- a. ztpd killed at each of its fault points
FAULTS="after_pending before_confirm after_confirm before_commit after_commit"
i=0
for f in $FAULTS; do
	i=$((i + 1))
	name=boot_$f
	uid=$(mod_uid "$i")
	mod_new "$name" "$i"
	if [[ $f == *commit ]]; then
		# the module cut right after it stored the pending key of its bootstrap
		# (writes: 1 at start, 2 the pending key): the server has it pending too
		MSIM_BIN=$MSIM_FAULT msim_start "$name" ZTP_FAULT=module_save_2_after || true
		msim_wait_dead "$name"
		[ "$(m_pending "$name")" = 1 ] && [ "$(srv "$uid" pending_epoch)" = 1 ] ||
			fail "$f: the key of epoch 1 is not pending on both sides"
	fi
	ZTPD=$ZTPD_FAULT restart_ztpd ZTP_FAULT=module_$f
	front=$FRONT_PID
	msim_start "$name" || fail "$f: ztp-sim died at start"
	front_wait_dead "$front" || fail "bootstrap: the front did not reach module_$f"
	restart_ztpd
	e=$(converge "$name" "$uid" 1 "bootstrap, module_$f")
	clean "$uid" "bootstrap, module_$f"
	[ "$(mstatus "$name")" = 1,0,1 ] || fail "bootstrap, module_$f: not 1,0,1"
	[ "$(srv "$uid" factory_retired)" = 1 ] || fail "bootstrap, module_$f: the factory secret is not retired"
	msim_stop "$name"
	ok "bootstrap, the front killed at module_$f: bootstrapped on both sides at epoch $e"
done

# the heartbeats: one module, bootstrapped, sealed and claimed
HB=hb
i=$((i + 1))
uid=$(mod_uid "$i")
mod_new $HB "$i"
msim_start $HB
wait_status $HB 1,0,1 || fail "the heartbeat module did not bootstrap"
mseal $HB "$P" SN-HB
wait_status $HB 1,1,1 || fail "the heartbeat module was not claimed after its seal"
before=$(converge $HB "$uid" 2 "the seal's heartbeat")
for f in $FAULTS; do
	if [[ $f == *commit ]]; then
		# cut right after it stored the pending key of a heartbeat (writes: 1 at
		# start, 2 the pending key)
		msim_stop $HB
		MSIM_BIN=$MSIM_FAULT msim_start $HB ZTP_FAULT=module_save_2_after
		for _ in $(seq 1 30); do
			[ "$(mconn $HB)" = dead ] && break
			sleep 0.4
		done
		msim_wait_dead $HB
		[ "$(m_pending $HB)" = $((before + 1)) ] && [ "$(srv "$uid" pending_epoch)" = $((before + 1)) ] ||
			fail "heartbeat, $f: the key of epoch $((before + 1)) is not pending on both sides"
		ZTPD=$ZTPD_FAULT restart_ztpd ZTP_FAULT=module_$f
		front=$FRONT_PID
		msim_start $HB || fail "$f: ztp-sim died at start"
	else
		ZTPD=$ZTPD_FAULT restart_ztpd ZTP_FAULT=module_$f
		front=$FRONT_PID
		for _ in $(seq 1 30); do
			kill -0 "$front" 2>/dev/null || break
			r=$(mconn $HB)
			[ "$r" = OK ] && fail "heartbeat, module_$f: AT+USECCONN OK across the fault point"
			sleep 0.4
		done
	fi
	front_wait_dead "$front" || fail "heartbeat: the front did not reach module_$f"
	restart_ztpd
	# the module finishes what it had in hand by itself (a key the server
	# keeps pending after a lost answer waits for the next heartbeat), then
	# heartbeats on demand
	e=$(converge $HB "$uid" "$before" "heartbeat, module_$f" stale)
	mconn_ok $HB
	e=$(converge $HB "$uid" $((e + 1)) "heartbeat after module_$f")
	clean "$uid" "heartbeat, module_$f"
	[ "$(mstatus $HB)" = 1,1,1 ] || fail "heartbeat, module_$f: not 1,1,1"
	ok "heartbeat, the front killed at module_$f: the module heartbeats again, epoch $before -> $e on both sides"
	before=$e
done
msim_stop $HB
c=$(ev_count module_clone)
[ "$c" = 0 ] || fail "server faults: $c module_clone events"
[ "$(db "SELECT count(*) FROM modules WHERE quarantined != 0 OR clones != 0")" = 0 ] ||
	fail "server faults: a module in quarantine"
[ "$(ev_count_now events_suppressed)" = 0 ] || fail "events were suppressed"
ok "server faults: no module_clone event, no quarantine"

# ---- b. the module's power cut at every write of its state file
# scenario NAME: bootstrap, seal, the seal's heartbeat, one AT+USECCONN
# heartbeat; false as soon as ztp-sim is dead
scenario() {
	local r
	wait_status "$1" '1,[01],1' || return 1
	r=$(mat "$1" "AT+USECDEVINFO=\"$P\",\"SN-$1\"")
	[ "$r" = dead ] && return 1
	[ "$r" = '\r\nOK\r\n' ] || fail "$1: AT+USECDEVINFO= answered '$r'"
	wait_status "$1" 1,1,1 || return 1
	for _ in $(seq 1 30); do
		r=$(mconn "$1")
		[ "$r" = OK ] && return 0
		[ "$r" = dead ] && return 1
		sleep 0.4
	done
	fail "$1: AT+USECCONN never answered OK"
}
cuts=0
for n in $(seq 1 30); do
	fired=0
	for when in before_rename after; do
		i=$((i + 1))
		name=cut_${n}_$when
		uid=$(mod_uid "$i")
		[ "$i" -le 60 ] || fail "more writes than modules imported"
		mod_new "$name" "$i"
		if MSIM_BIN=$MSIM_FAULT msim_start "$name" ZTP_FAULT=module_save_${n}_$when && scenario "$name"; then
			msim_stop "$name"
			continue
		fi
		msim_wait_dead "$name"
		grep -q "fault point module_save_${n}_$when: killing myself" "$T/$name.log" ||
			fail "$name: ztp-sim died, not at its fault point"
		fired=$((fired + 1))
		cuts=$((cuts + 1))
		mfile "$name" >/dev/null
		one_key "$name" "$uid" "power cut at write $n, $when"
		# powered up again on the same file: what the cut left is cleaned up, it goes on
		msim_start "$name" || fail "$name: ztp-sim died at its restart"
		scenario "$name" || fail "$name: ztp-sim died after its restart"
		e=$(converge "$name" "$uid" 3 "power cut at write $n, $when")
		[ "$(mstatus "$name")" = 1,1,1 ] || fail "$name: not 1,1,1"
		clean "$uid" "power cut at write $n, $when"
		[ "$(srv "$uid" "owner || '|' || serial")" = "acme|SN-$name" ] ||
			fail "$name: the server has owner|serial $(srv "$uid" "owner || '|' || serial")"
		compgen -G "$T/.$name.nvm.*" >/dev/null && fail "$name: a cut write's temporary file is left"
		msim_stop "$name"
	done
	[ $fired = 0 ] && break
	[ $fired = 2 ] || fail "the fault at write $n fired in one mode only"
	ok "power cut at write $n (before the rename and after): bootstrapped, 1,1,1, epoch $e on both sides"
done
[ $fired = 0 ] || fail "the scenario writes its state more than 30 times"
# a bootstrap (3 writes: start, pending, commit), a seal, two heartbeats (2 each)
[ "$n" -ge 9 ] || fail "the scenario completed after only $((n - 1)) writes"
c=$(ev_count module_clone)
[ "$c" = 0 ] || fail "power cuts: $c module_clone events"
ok "power cuts at each of the $((n - 1)) writes, $cuts cuts: no quarantine, no module_clone event"

# ---- c. the module killed at random moments while it heartbeats
K=killed
i=$((i + 1))
uid=$(mod_uid "$i")
mod_new $K "$i"
msim_start $K
scenario $K || fail "$K: ztp-sim died"
inside=0
for round in $(seq 1 8); do
	sleep 1.1 # past the minimum interval: the AT+USECCONN below starts a heartbeat
	mat $K AT+USECCONN >/dev/null &
	chat=$!
	sleep "$(printf '0.%03d' $((20 + RANDOM % 100)))"
	msim_kill $K
	wait $chat 2>/dev/null || true
	mfile $K >/dev/null
	one_key $K "$uid" "killed in round $round"
	# a key pending on either side: the kill fell inside the heartbeat
	[ "$(m_pending $K)" = 0 ] && [ "$(srv "$uid" pending_epoch)" = 0 ] || inside=$((inside + 1))
	msim_start $K || fail "$K: ztp-sim died at its restart"
	e=$(converge $K "$uid" 3 "killed in round $round" stale)
	mconn_ok $K
	e=$(converge $K "$uid" $((e + 1)) "killed in round $round, then AT+USECCONN")
	clean "$uid" "killed in round $round"
done
msim_stop $K
c=$(ev_count module_clone)
[ "$c" = 0 ] || fail "random kills: $c module_clone events"
ok "killed at random moments of a heartbeat 8 times ($inside inside it, a key pending): heartbeating again each time, epoch $e on both sides, no quarantine"
echo "module crash: all checks passed"
