#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A campaign over 10,000 modules, to completion (issue 13): ztp-modfleet
# (bench/ztp-modfleet.c) makes a module maker's batch of 10,000 random
# modules, ztpctl module import takes it, a profile of owner acme (minimum
# heartbeat interval 1 s); the fleet seals every module with the profile and
# bootstraps them all over real TLS to ztpd (its state kept in a state
# directory between its runs); every module is bootstrapped and claimed on
# the server; a campaign enabling c2c over the profile has 10,000 devices
# pending; the fleet heartbeats every module once; the campaign then has
# 10,000 applied, none pending or failed, and every module has c2c applied
# on the server and delivered on the module.
#
# About two minutes on two shared cores, four when they are busy (label
# slow), on SQLite or PostgreSQL. FLEET_N=N: fewer modules.
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_module_campaign.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$SRC/tests/integration/lib_ztpctl.sh"

FLEET=$BUILD/bench/ztp-modfleet
[ -x "$FLEET" ] || fail "no ztp-modfleet at $FLEET"
N=${FLEET_N:-10000}
C2C=8 # bit 3 (docs/protocol/security-service.md section 7)

# fleet ARGS...: ztp-modfleet against this ztpd, the modules of the batch, their state in $T/state
fleet() {
	set +e
	"$FLEET" --server "127.0.0.1:$DEVICE_PORT" --batch "$T/batch.csv" --state-dir "$T/state" \
		--progress "$@" >"$T/fleet.out" 2>"$T/fleet.err"
	RC=$?
	set -e
	cat "$T/fleet.out"
}
# figure NAME: a figure of the fleet's last summary
figure() { sed -n "s/^$1: \([0-9.]*\).*/\1/p" "$T/fleet.out"; }
mods() { db "SELECT count(*) FROM modules WHERE $1"; }
t0=$(date +%s)
elapsed() { echo "$(($(date +%s) - t0)) s"; }

start_ztpd
db_exec "INSERT INTO owners(name, created_at) VALUES('acme', 1)"

# ---- the batch, imported ----

"$FLEET" --make-batch "$N" --out "$T/batch.csv" >"$T/out" || fail "--make-batch: $(cat "$T/out")"
eq "$(stat -c %a "$T/batch.csv")" 600 "the batch file's mode (factory secrets)"
eq "$(grep -c '^[0-9a-f]\{32\},[0-9a-f]\{64\},modfleet$' "$T/batch.csv")" "$N" "modules in the batch"
set +e
"$FLEET" --make-batch 1 --out "$T/batch.csv" >"$T/out" 2>"$T/err"
rc=$?
set -e
eq "$rc" 2 "--make-batch over an existing file: exit status"
grep -q 'never replaced' "$T/err" || fail "--make-batch over an existing file: $(cat "$T/err")"
ok_run module import "$T/batch.csv"
out_has "^added $N, unchanged 0, refused 0$"
eq "$(mods "rot_uid IS NOT NULL")" "$N" "modules on the server"
ok_run profile create fleet --owner acme --heartbeat-min-interval 1
P=$(cat "$T/out")
[[ $P =~ ^[0-9a-f]{32}$ ]] || fail "profile create printed '$P'"
ok "$N modules imported, profile $P ($(elapsed))"

# ---- sealed and bootstrapped ----

fleet --seal "$P" bootstrap
eq "$RC" 0 "fleet bootstrap: exit status (stderr: $(tail -5 "$T/fleet.err"))"
grep -q "^sealed: $N " "$T/fleet.out" || fail "fleet: not every module sealed"
eq "$(figure bootstrap_done)" "$N" "modules the fleet bootstrapped"
eq "$(figure bootstrap_claimed)" "$N" "modules that say 1,1,1 (bootstrapped and claimed)"
eq "$(figure bootstrap_failed)" 0 "bootstrap failures"
eq "$(figure bootstrap_refused)" 0 "bootstrap refusals"
# the vendor's module needs at least 1,048 bytes; ours, handshake included, fewer
[ "$(figure bootstrap_bytes_max)" -lt 1048 ] ||
	fail "a bootstrap took $(figure bootstrap_bytes_max) bytes, not fewer than the vendor's 1,048"
eq "$(find "$T/state" -maxdepth 1 -type f -name '[0-9a-f]*' | wc -l)" "$N" "the fleet's state files"
eq "$(mods "factory_retired = 1 AND epoch = 1 AND pending_epoch = 0 AND bootstrapped_at > 0")" "$N" \
	"modules bootstrapped on the server (factory secret retired, key of epoch 1)"
eq "$(mods "owner = 'acme' AND claimed_at > 0 AND profile_uid = '$P'")" "$N" \
	"modules claimed by acme through the profile"
eq "$(db "SELECT count(DISTINCT serial) FROM modules WHERE serial LIKE 'SN-%'")" "$N" "sealed serials"
eq "$(mods "quarantined = 1")" 0 "modules in quarantine"
ok "$N modules sealed, bootstrapped and claimed: $(figure bootstrap_contacts) contacts in $(figure bootstrap_elapsed) s, $(figure bootstrap_contacts_per_s)/s, $(figure bootstrap_bytes_mean) bytes each ($(elapsed))"

# a second bootstrap run has nothing to do, and contacts no one
fleet bootstrap
eq "$RC" 0 "fleet bootstrap again: exit status"
eq "$(figure bootstrap_already_done)" "$N" "modules already bootstrapped"
eq "$(figure bootstrap_contacts)" 0 "contacts of a bootstrap with nothing to do"

# ---- the campaign ----

ok_run campaign create --profile "$P" --enable c2c
out_has "^campaign ([0-9]+) created: $N devices pending "
CAMP=$(sed -n 's/^campaign \([0-9]*\) created.*/\1/p' "$T/out")
ok_run --json campaign show "$CAMP" --limit 1
jq_true ".devices == $N and .pending == $N and .applied == 0 and .failed == 0" "campaign before the heartbeats"
eq "$(mods "(features & $C2C) != 0 AND (features_applied & $C2C) = 0")" "$N" \
	"modules with c2c enabled, not applied yet"
ok "campaign $CAMP: $N devices pending ($(elapsed))"

fleet heartbeat
eq "$RC" 0 "fleet heartbeat: exit status (stderr: $(tail -5 "$T/fleet.err"))"
eq "$(figure heartbeat_done)" "$N" "modules that heartbeat"
eq "$(figure heartbeat_failed)" 0 "heartbeat failures"
eq "$(figure heartbeat_refused)" 0 "heartbeat refusals"
eq "$(figure heartbeat_feature_c2c)" "$N" "modules that hold c2c"
[ "$(figure heartbeat_bytes_max)" -lt 1048 ] || fail "a heartbeat took $(figure heartbeat_bytes_max) bytes"
ok_run --json campaign show "$CAMP" --limit 1
jq_true ".devices == $N and .pending == 0 and .applied == $N and .failed == 0" "campaign after the heartbeats"
ok_run campaign show "$CAMP" --limit 1
out_has "^pending: +0$"
out_has "^applied: +$N$"
out_has "^failed: +0$"
eq "$(mods "(features_applied & $C2C) != 0")" "$N" "modules with c2c applied on the server"
eq "$(mods "epoch = 2 AND pending_epoch = 0 AND heartbeats = 1 AND last_heartbeat_at > 0")" "$N" \
	"modules one heartbeat on (key of epoch 2)"
eq "$(mods "quarantined = 1")" 0 "modules in quarantine after the heartbeats"
ok "campaign $CAMP applied to $N modules: $(figure heartbeat_contacts) contacts in $(figure heartbeat_elapsed) s, $(figure heartbeat_contacts_per_s)/s, $(figure heartbeat_bytes_mean) bytes each ($(elapsed))"
