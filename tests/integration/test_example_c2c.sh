#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The host MCU's example application examples/c2c (build/c2c-host) against
# ztp-sim --module, a module not yet bootstrapped (its server is not up):
#
#   - pair: AT+USECC2C=0, the confirmation tag back encrypted (=4), the keys
#     written to a file of mode 0600: exit 0, "Paired: version 2"
#   - run: a session (=1), three AT commands in frames with their answers
#     decrypted and printed, closed (=2, its OK in a frame): exit 0
#   - pair again on the same TE secret before the bootstrap: refused, exit 4
#   - a keys file with the wrong HMAC key: the module drops the frames, the
#     example gets no answer (its deadline): exit 1
#   - usage errors: exit 2
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_example_c2c.sh
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/integration/lib_module.sh"

HOST=$BUILD/c2c-host
[ -x "$HOST" ] || fail "no c2c-host at $HOST"
TE=00112233445566778899AABBCCDDEEFF

# run ARGS...: c2c-host, killed after 60 s; stdout in $T/h.out, stderr in $T/h.err, status in RC
run() {
	set +e
	timeout 60 "$HOST" "$@" >"$T/h.out" 2>"$T/h.err"
	RC=$?
	set -e
}
said() { echo "exit $RC, stdout: $(tr '\n' '|' <"$T/h.out") stderr: $(tr '\n' '|' <"$T/h.err")"; }

start_ztpd
mod_import 1 1
mod_new m 1
stop_ztpd # the module stays before its bootstrap
msim_start m
DEV=${MPTY[m]}

run --device "$DEV" --keys "$T/keys" pair --te-secret $TE
[ "$RC" = 0 ] || fail "pair: $(said)"
[ "$(tail -1 "$T/h.out")" = "Paired: version 2, keys in $T/keys" ] || fail "pair: $(said)"
[ "$(stat -c %a "$T/keys")" = 600 ] || fail "keys file mode $(stat -c %a "$T/keys")"
grep -qx "te-secret $TE" "$T/keys" || fail "keys file: $(cat "$T/keys")"
ok "c2c-host pair: paired and confirmed, keys in a file of mode 0600"

run --device "$DEV" --keys "$T/keys" run AT+CGSN 'AT+USECDEVINFO?' ATI
[ "$RC" = 0 ] || fail "run: $(said)"
grep -vx 'Modem: OK' "$T/h.out" | sed 's/^< 35[0-9]\{13\}$/< IMEI/' >"$T/h.txt"
cmp -s "$T/h.txt" - <<'OUT' || fail "run: $(said)"
Session: open (version 2)
> AT+CGSN
< IMEI
< OK
> AT+USECDEVINFO?
< +USECDEVINFO: 0,0,0
< OK
> ATI
< ztp-sim virtual modem (SAFE2 SIM)
< OK
> AT+USECC2C=2
< OK
Session: closed
OUT
[ ! -s "$T/h.err" ] || fail "run wrote to stderr: $(said)"
grep -q 'c2c: session on pairing 0 closed' "$T/m.log" || fail "ztp-sim did not log the close"
ok "c2c-host run: a session, three commands answered in frames, closed"

run --device "$DEV" --keys "$T/keys2" pair --te-secret $TE
[ "$RC" = 4 ] || fail "a second pairing: $(said)"
grep -qx 'Pairing: refused (+CME ERROR: operation not allowed)' "$T/h.out" || fail "a second pairing: $(said)"
[ ! -e "$T/keys2" ] || fail "a refused pairing wrote keys"
ok "a second pairing before the bootstrap: refused (exit 4), no keys written"

sed 's/^hmac-key .*/hmac-key 000102030405060708090A0B0C0D0E0F/' "$T/keys" >"$T/keys3"
run --device "$DEV" --keys "$T/keys3" run AT
[ "$RC" = 1 ] || fail "wrong keys: $(said)"
grep -q 'frame rejected: bad MAC' "$T/m.log" || fail "the module did not reject the frame"
ok "wrong keys: the module rejects the frame, the host gets no answer (exit 1)"

for bad in "pair" "--keys $T/k pair" "--device $DEV --keys $T/k run" "--device $DEV --keys $T/k fly"; do
	# shellcheck disable=SC2086 # word splitting of the options is meant
	run $bad
	[ "$RC" = 2 ] || fail "c2c-host $bad: $(said)"
done
ok "usage errors: exit 2"
