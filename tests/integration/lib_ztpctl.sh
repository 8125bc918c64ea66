# SPDX-License-Identifier: Apache-2.0
# Helpers of the tests that drive ztpctl (sourced after lib.sh; needs $ZTPCTL).

# run ARGS...: runs ztpctl; stdout in $T/out, stderr in $T/err, status in RC.
# Everything it printed is kept in $T/all to look for secrets at the end.
run() {
	set +e
	"$ZTPCTL" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	cat "$T/out" "$T/err" >>"$T/all"
}

# ok_run ARGS...: runs ztpctl and wants exit status 0
ok_run() {
	run "$@"
	[ "$RC" -eq 0 ] || fail "ztpctl $*: exit $RC: $(head -c 500 "$T/err")"
}

# bad_run STATUS ARGS...: runs ztpctl and wants that exit status and a
# message on stderr
bad_run() {
	local want=$1
	shift
	run "$@"
	[ "$RC" -eq "$want" ] || fail "ztpctl $*: exit $RC, expected $want; stderr: $(head -c 500 "$T/err")"
	[ -s "$T/err" ] || fail "ztpctl $*: exit $RC with nothing on stderr"
}

out_has() { grep -qE -- "$1" "$T/out" || fail "${2:-stdout}: no /$1/ in: $(head -c 800 "$T/out")"; }
err_has() { grep -qE -- "$1" "$T/err" || fail "${2:-stderr}: no /$1/ in: $(head -c 800 "$T/err")"; }
# jq_true FILTER [WHAT]: the --json output satisfies the jq filter
jq_true() { json_true "$T/out" "$1" || fail "${2:-json}: $1 is not true for: $(head -c 800 "$T/out")"; }
eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }
changes() { db "SELECT count(*) FROM events WHERE kind='admin_change'"; }
# expect_change BEFORE WHAT [N]: exactly N (default 1) more admin_change events than BEFORE
expect_change() { eq "$(changes)" "$(($1 + ${3:-1}))" "admin_change events after $2"; }
