#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Anti-cloning of the module security service (docs/protocol/security-service.md
# section 6) with the real parts: ztpd, ztpctl, and ztp-sim --module on
# copies of one module's state file (a clone is a copy of the module's
# whole NVM), each behind its own pty.
#
#  a. Clone before bootstrap, 50 times: two copies of a fresh module
#     started at once, both bootstrap. Exactly one ends bootstrapped
#     (AT+USECDEVINFO? 1,x,1, never both), at the server's epoch; the other
#     never is, and once it comes back after the winner's commit (the sim
#     retries with back-off after a 409) its factory secret is a retired
#     key: the RoT is in quarantine with a module_clone event.
#  b. Clone after bootstrap, the original first: the original heartbeats,
#     then the copy's heartbeat is refused (+CME ERROR), the RoT is in
#     quarantine (module_clone event, ztpctl device show), the original is
#     refused too while it is; after ztpctl device release the original
#     heartbeats again and the copy is caught again.
#  c. Clone after bootstrap, the copy first: the copy wins, the original is
#     refused and the RoT quarantined (the first wins).
#  d. A copy several epochs behind is recognised from the key history. The
#     server keeps the last 8 keys before the current one (section 6;
#     STORE_MODKEY_HISTORY): a copy exactly 8 epochs behind is a clone,
#     one 9 behind offers a key the server no longer has, which it cannot
#     tell from any made-up identity: refused (unknown_psk_identity), a
#     module_unknown_key event, no quarantine.
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_module_clones.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_module.sh"
. "$(dirname "$0")/lib_ztpctl.sh"

PAIRS=${CLONE_PAIRS:-50}   # clones before bootstrap
AT_ONCE=${CLONE_AT_ONCE:-5} # pairs at a time

# wait_status NAME WANT: until AT+USECDEVINFO? answers WANT (a regex); fails after 20 s
wait_status() {
	local st
	for _ in $(seq 1 80); do
		st=$(mstatus "$1")
		[ "$st" = dead ] && fail "$1: ztp-sim died"
		[[ $st =~ ^$2$ ]] && return 0
		sleep 0.25
	done
	fail "$1: AT+USECDEVINFO? still $st, expected $2"
}
# refused NAME: AT+USECCONN answers +CME ERROR, and the module's log says
# the server refused it (not its own minimum interval)
refused() {
	local before r
	before=$(grep -c 'refused: \(answer \)\?403\|failed\|unknown' "$T/$1.log" || true)
	for _ in $(seq 1 30); do
		r=$(mconn "$1")
		[ "$r" = OK ] && fail "$1: AT+USECCONN answered OK"
		[ "$r" = CME ] || fail "$1: ztp-sim died"
		[ "$(grep -c 'refused: \(answer \)\?403\|failed\|unknown' "$T/$1.log" || true)" -gt "$before" ] && return 0
		sleep 0.4 # refused by the module itself within its minimum interval: again
	done
	fail "$1: AT+USECCONN never reached the server"
}
# agree NAME UID: the module at the server's epoch, nothing pending on either side
agree() {
	local me mp se sp
	read -r me mp _ <<<"$(mfile "$1")"
	IFS='|' read -r se sp <<<"$(srv "$2" 'epoch, pending_epoch')"
	[ "$me" = "$se" ] && [ "$mp" = 0 ] && [ "$sp" = 0 ] ||
		fail "$1: module epoch $me pending $mp, server epoch $se pending $sp"
}
# bootstrapped_module NAME I: module I fresh, started, bootstrapped, sealed
# with the profile, claimed (1,1,1), at the server's epoch
bootstrapped_module() {
	mod_new "$1" "$2"
	msim_start "$1" || fail "$1: ztp-sim died at start"
	wait_status "$1" '1,0,1'
	mseal "$1" "$P" "SN-$1"
	wait_status "$1" '1,1,1'
	agree "$1" "$(mod_uid "$2")"
}
# copy FROM TO: a clone: FROM's whole state file, as it is now
copy() { cp -p "$T/$1.nvm" "$T/$2.nvm"; }

start_ztpd "${MOD_ZTPD_OPTS[@]}"
db_exec "INSERT INTO owners(name, created_at) VALUES('acme', 1)"
P=$("$ZTPCTL" profile create meter --owner acme --heartbeat-min-interval 1) ||
	fail "profile create"
[[ $P =~ ^[0-9a-f]{32}$ ]] || fail "profile create printed '$P'"
mod_import 1 $((PAIRS + 10))
ok "owner acme, profile $P, $((PAIRS + 10)) modules imported"

# ---- a. clone before bootstrap: both copies started at once
# pair_state J: "done" once pair J settled (one bootstrapped, the RoT in
# quarantine with a clone event), "wait" before; a second bootstrapped
# copy, or a change of winner, fails the test
declare -A WINNER=()
pair_state() {
	local j=$1 uid sa sb w l
	uid=$(mod_uid "$j")
	sa=$(mstatus "a$j")
	sb=$(mstatus "b$j")
	[ "$sa" != dead ] && [ "$sb" != dead ] || fail "pair $j: a ztp-sim died"
	[[ $sa == 1,* && $sb == 1,* ]] && fail "pair $j: both copies bootstrapped ($sa, $sb)"
	w=""
	[[ $sa == 1,* ]] && w=a
	[[ $sb == 1,* ]] && w=b
	[ -z "$w" ] && { echo wait; return 0; }
	[ -z "${WINNER[$j]:-}" ] || [ "${WINNER[$j]}" = "$w" ] ||
		fail "pair $j: copy ${WINNER[$j]} was bootstrapped, now copy $w is"
	WINNER[$j]=$w
	[ "$(srv "$uid" quarantined)" = 1 ] && [ "$(ev_mod module_clone "$uid")" -ge 1 ] ||
		{ echo wait; return 0; }
	echo "done"
}
races=0
for first in $(seq 1 "$AT_ONCE" "$PAIRS"); do
	last=$((first + AT_ONCE - 1))
	[ "$last" -le "$PAIRS" ] || last=$PAIRS
	for j in $(seq "$first" "$last"); do
		mod_new "a$j" "$j"
		copy "a$j" "b$j"
	done
	# every process of the batch started before any is waited for: each
	# bootstraps as soon as it has loaded its file
	for j in $(seq "$first" "$last"); do
		msim_launch "a$j"
		msim_launch "b$j"
	done
	for j in $(seq "$first" "$last"); do
		msim_ready "a$j" || fail "a$j: ztp-sim died at start"
		msim_ready "b$j" || fail "b$j: ztp-sim died at start"
	done
	left=$(seq "$first" "$last")
	for _ in $(seq 1 60); do
		next=""
		for j in $left; do
			# pair_state in this shell: WINNER is kept
			pair_state "$j" >"$T/pair"
			[ "$(cat "$T/pair")" = "done" ] || next="$next $j"
		done
		left=$next
		[ -z "$left" ] && break
		sleep 0.5
	done
	[ -z "$left" ] || fail "pairs$left did not settle: winners ${WINNER[*]:-none}"
	winners=""
	for j in $(seq "$first" "$last"); do
		uid=$(mod_uid "$j")
		w=${WINNER[$j]}
		winners="$winners$w"
		l=$([ "$w" = a ] && echo b || echo a)
		# the settled state, read again: the loser never bootstrapped, the
		# winner at the server's epoch, nothing pending anywhere
		[ "$(mstatus "$l$j")" = 0,0,0 ] || fail "pair $j: the loser $l$j is $(mstatus "$l$j")"
		read -r le lp _ <<<"$(mfile "$l$j")"
		[ "$le" = 0 ] && [ "$lp" = 0 ] || fail "pair $j: the loser's file has epoch $le pending $lp"
		[ "$(mstatus "$w$j")" = 1,0,1 ] || fail "pair $j: the winner $w$j is $(mstatus "$w$j")"
		[ "$(srv "$uid" 'factory_retired, quarantined')" = "1|1" ] ||
			fail "pair $j: server retired|quarantined $(srv "$uid" 'factory_retired, quarantined')"
		[ "$(srv "$uid" clones)" -ge 1 ] || fail "pair $j: no clone counted"
		agree "$w$j" "$uid"
		# a race (a 409: the other's registration replaced this one's pending key)
		! grep -q 'refused: 409\|answer 409' "$T/a$j.log" "$T/b$j.log" || races=$((races + 1))
		msim_stop "a$j"
		msim_stop "b$j"
	done
	ok "clones before bootstrap, pairs $first-$last: one bootstrapped in each (copies $winners), the other caught, quarantined"
done
[ "$(db "SELECT count(*) FROM modules WHERE rot_uid <= '$(mod_uid "$PAIRS")' AND epoch = 1 AND quarantined = 1")" = "$PAIRS" ] ||
	fail "not every RoT of the $PAIRS pairs is at epoch 1 in quarantine"
clone_events_match
ok "clone before bootstrap, $PAIRS times: exactly one copy bootstrapped each time, the other quarantined as a clone ($races raced to a 409 first)"

# ---- b. clone after bootstrap, the original first
I=$((PAIRS + 1))
U=$(mod_uid $I)
bootstrapped_module o $I
e=$(s_epoch "$U")
copy o c
msim_start c || fail "the copy's ztp-sim died at start"
mconn_ok o
agree o "$U"
[ "$(s_epoch "$U")" = $((e + 1)) ] || fail "the original's heartbeat did not move the key"
clones=$(ev_mod module_clone "$U")
refused c
[ "$(srv "$U" 'quarantined, clones')" = "1|1" ] || fail "the copy did not put the RoT in quarantine"
wait_ev_mod module_clone "$U" $((clones + 1))
grep -q 'heartbeat refused: \(answer \)\?403, reason 1' "$T/c.log" || fail "the copy was not told it is a clone (403, reason 1)"
# the owner's keys see it: the event carries the device's owner
[ "$(db "SELECT DISTINCT owner FROM events WHERE kind = 'module_clone' AND device = '$U'")" = acme ] ||
	fail "the module_clone event does not name the device's owner"
ok_run device show "$U"
out_has '[Qq]uarantined.*(yes|true)' "device show"
out_has "clone: the key of epoch $e was used after it was retired" "device show"
ok_run --json device show "$U"
jq_true ".quarantined == true and .clones == 1 and (.quarantine_reason | test(\"clone\"))"
[ "$(mstatus c)" = 1,1,1 ] && [ "$(m_epoch c)" = "$e" ] || fail "the copy's own state changed"
ok "clone after bootstrap, the original first: the copy's heartbeat refused (+CME ERROR), quarantine, module_clone event, device show says why"

refused o
grep -q 'refused: \(answer \)\?403, reason 2' "$T/o.log" || fail "the original was not told the RoT is in quarantine (403, reason 2)"
[ "$(s_epoch "$U")" = $((e + 1)) ] && [ "$(m_epoch o)" = $((e + 1)) ] || fail "a key moved in quarantine"
ok_run device release "$U"
[ "$(srv "$U" quarantined)" = 0 ] || fail "device release: still in quarantine"
mconn_ok o
agree o "$U"
[ "$(s_epoch "$U")" = $((e + 2)) ] || fail "the original's heartbeat after the release did not move the key"
clones=$(ev_mod module_clone "$U")
refused c
[ "$(srv "$U" 'quarantined, clones')" = "1|2" ] || fail "the copy was not caught again"
wait_ev_mod module_clone "$U" $((clones + 1))
ok_run device release "$U"
msim_stop c
msim_stop o
ok "in quarantine the original is refused too; released, it heartbeats again; the copy is caught again"

# ---- c. clone after bootstrap, the copy first
I=$((PAIRS + 2))
U=$(mod_uid $I)
bootstrapped_module o2 $I
e=$(s_epoch "$U")
copy o2 c2
msim_start c2 || fail "the copy's ztp-sim died at start"
mconn_ok c2
agree c2 "$U"
refused o2
[ "$(srv "$U" 'quarantined, clones')" = "1|1" ] || fail "the original did not put the RoT in quarantine"
grep -q 'heartbeat refused: \(answer \)\?403, reason 1' "$T/o2.log" || fail "the original was not told it is a clone"
[ "$(s_epoch "$U")" = $((e + 1)) ] && [ "$(m_epoch c2)" = $((e + 1)) ] && [ "$(m_epoch o2)" = "$e" ] ||
	fail "epochs: server $(s_epoch "$U"), copy $(m_epoch c2), original $(m_epoch o2)"
wait_ev_mod module_clone "$U" 1
refused c2
grep -q 'refused: \(answer \)\?403, reason 2' "$T/c2.log" || fail "the copy was not refused in quarantine"
msim_stop c2
msim_stop o2
ok "clone after bootstrap, the copy first: the copy goes on, the original is refused as a clone, the RoT quarantined (the first wins)"

# ---- d. copies behind by several epochs
I=$((PAIRS + 3))
U=$(mod_uid $I)
bootstrapped_module o3 $I
e=$(s_epoch "$U")
copy o3 c3
for _ in 1 2 3; do mconn_ok o3; done
agree o3 "$U"
[ "$(s_epoch "$U")" = $((e + 3)) ] || fail "three heartbeats did not move the key 3 epochs"
msim_start c3 || fail "c3: ztp-sim died at start"
clones=$(ev_mod module_clone "$U")
refused c3
[ "$(srv "$U" 'quarantined, clones')" = "1|1" ] || fail "a copy 3 epochs behind was not caught"
wait_ev_mod module_clone "$U" $((clones + 1))
[[ $(srv "$U" quarantine_reason) == *"epoch $e was used after it was retired"* ]] ||
	fail "quarantine reason: $(srv "$U" quarantine_reason)"
msim_stop c3
ok_run device release "$U"
ok "a copy 3 epochs behind is recognised from the key history: quarantine"

# the edge of the history: c9 is 9 epochs behind, c8 8
m=$(s_epoch "$U")
copy o3 c9
mconn_ok o3
copy o3 c8
for _ in $(seq 1 8); do mconn_ok o3; done
agree o3 "$U"
[ "$(s_epoch "$U")" = $((m + 9)) ] || fail "nine heartbeats did not move the key 9 epochs"
[ "$(db "SELECT min(epoch) || '-' || max(epoch) FROM module_keys WHERE rot_uid = '$U'")" = "$((m + 1))-$((m + 8))" ] ||
	fail "the key history: $(db "SELECT group_concat(epoch) FROM module_keys WHERE rot_uid = '$U'")"
unknown=$(ev_mod module_unknown_key "$U")
clones=$(ev_mod module_clone "$U")
msim_start c9 || fail "c9: ztp-sim died at start"
refused c9
grep -q 'heartbeat key unknown' "$T/c9.log" || fail "c9 was not refused as an unknown key"
wait_ev_mod module_unknown_key "$U" $((unknown + 1))
[ "$(srv "$U" 'quarantined, clones')" = "0|1" ] || fail "a copy 9 epochs behind put the RoT in quarantine"
ev_settle
[ "$(ev_mod module_clone "$U")" = "$clones" ] || fail "a copy 9 epochs behind is a module_clone event"
agree o3 "$U"
msim_stop c9
ok "a copy 9 epochs behind: refused, module_unknown_key, no quarantine (its key is no longer kept)"
msim_start c8 || fail "c8: ztp-sim died at start"
refused c8
[ "$(srv "$U" 'quarantined, clones')" = "1|2" ] || fail "a copy 8 epochs behind was not caught"
[[ $(srv "$U" quarantine_reason) == *"epoch $((m + 1)) was used after it was retired"* ]] ||
	fail "quarantine reason: $(srv "$U" quarantine_reason)"
wait_ev_mod module_clone "$U" $((clones + 1))
msim_stop c8
ok_run device release "$U"
mconn_ok o3
agree o3 "$U"
msim_stop o3
clone_events_match
ok "a copy 8 epochs behind (the oldest key kept): a clone, quarantine; released, the original goes on"
echo "module clones: all checks passed"
