#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ztpctl psk and e2e (docs/admin-api.md "Services of the root of trust")
# against a real ztpd and a real module, ztp-sim --module, bootstrapped
# and sealed with a profile of acme that has psk and e2e; ztpctl runs
# with acme's own API key, as a customer's server would:
#
#   1. psk get: the PSK of an identity the module printed (AT+USECPSK=16
#      and =32) is the one it printed; --json is the API's object;
#      globex's key gets "no such device", a malformed identity is a usage
#      error
#   2. e2e decrypt: what the module encrypted (AT+USECE2EDATAENC, long
#      and short key identities, 16- and 8-byte MACs) comes back, from its
#      answer line, its hex alone with whitespace around it, or its bytes;
#      --out is written 0600; a flipped byte anywhere after the key
#      identity is refused and nothing is written; globex's key gets "no
#      such device"; e2e params shows the parameters
#   3. e2e encrypt: the message (bytes, or --hex) given to the module
#      (AT+USECE2EDATADEC) gives the clear text back, once: the same
#      message again is refused (replay); ztpctl decrypts it too; the
#      feature e2e off is refused; globex's key gets "no such device"
#   4. an event of each kind for acme's module
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_ztpctl_svc.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_module.sh"
. "$(dirname "$0")/lib_ztpctl.sh"

# wait_status NAME WANT: until AT+USECDEVINFO? answers WANT; fails after 20 s
wait_status() {
	local st
	for _ in $(seq 1 80); do
		st=$(mstatus "$1")
		[ "$st" = dead ] && fail "$1: ztp-sim died"
		[ "$st" = "$2" ] && return 0
		sleep 0.25
	done
	fail "$1: AT+USECDEVINFO? still $st, expected $2"
}

# The AT commands that take data after the "> " prompt: the command
# line ended by CR alone (an LF would be the data's first byte), the
# file's bytes, the answer up to its final result code, printed as it came
# (echo off first). Exit 1 on a 10 s deadline, 2 if the pty is not our
# ztp-sim's (as pty_chat.py).
cat >"$T/data_chat.py" <<'EOF'
import os, re, select, sys, time, tty
pty, cmd, path = sys.argv[1:4]
pid = os.environ.get('ZTP_SIM_PID')
def ours():
    try:
        return any(os.readlink('/proc/%s/fd/%s' % (pid, f)) == pty for f in os.listdir('/proc/%s/fd' % pid))
    except OSError:
        return False
if not ours():
    sys.exit(2)
fd = os.open(pty, os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
def final(g):
    return (g.endswith(b'\r\nOK\r\n') or g.endswith(b'\r\nERROR\r\n')
            or re.search(rb'\r\n\+CME ERROR: [^\r\n]*\r\n$', g) is not None)
def until(done):
    got, end = b'', time.monotonic() + 10
    while not done(got):
        left = end - time.monotonic()
        r = select.select([fd], [], [], left)[0] if left > 0 else []
        more = os.read(fd, 4096) if r else b''
        if not more:
            sys.stdout.write(got.decode('latin-1'))
            sys.exit(1)
        got += more
    return got
os.write(fd, b'ATE0\r')
until(final)
os.write(fd, cmd.encode() + b'\r')
got = until(lambda g: g.endswith(b'\r\n> ') or final(g))
if got.endswith(b'\r\n> '):
    data = open(path, 'rb').read()
    while data:
        data = data[os.write(fd, data):]
    got = until(final)
sys.stdout.write(got.decode('latin-1'))
EOF
# mdata NAME COMMAND FILE: the module's answer to COMMAND with FILE after the prompt, CRs dropped
mdata() {
	local r
	r=$(ZTP_SIM_PID=${MPID[$1]} "$PY" -S "$T/data_chat.py" "${MPTY[$1]}" "$2" "$3") ||
		fail "$1: $2: no final result code, got '$r'"
	printf '%s\n' "$r" | tr -d '\r'
}
# menc FILE [ARGS]: AT+USECE2EDATAENC=<size>[ARGS] with FILE on m1: its answer line
menc() {
	local r
	r=$(mdata m1 "AT+USECE2EDATAENC=$(stat -c %s "$1")${2:-}" "$1")
	grep -E '^\+USECE2EDATAENC: [0-9]+,"[0-9A-F]+"$' <<<"$r" ||
		fail "AT+USECE2EDATAENC=$(stat -c %s "$1")${2:-}: '$r'"
}
line_hex() { sed -E 's/.*"([0-9A-F]+)"$/\1/' <<<"$1"; }
line_len() { sed -E 's/^[^ ]+ ([0-9]+),.*/\1/' <<<"$1"; }
# flip FILE OFFSET OUT: FILE with the byte at OFFSET xor 0x01
flip() {
	"$PY" -S -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[int(sys.argv[2])] ^= 1; open(sys.argv[3], "wb").write(b)' "$@"
}
ACME=(--admin "$T/acme.json")
GLOBEX=(--admin "$T/globex.json")

start_ztpd "${MOD_ZTPD_OPTS[@]}"
ok_run owner create acme
ok_run owner create globex
ok_run apikey create acme-ops --owner acme --save "$T/acme.json"
ok_run apikey create globex-ops --owner globex --save "$T/globex.json"
ok_run profile create meter --owner acme --features psk,e2e --heartbeat-min-interval 1
P=$(head -1 "$T/out")
mod_import 1 1
U=$(mod_uid 1)
mod_new m1 1
msim_start m1 || fail "m1: ztp-sim died at start"
wait_status m1 1,0,1
mseal m1 "$P" SN-1
wait_status m1 1,1,1
# the heartbeat that reported the seal delivered the profile's features
for _ in $(seq 1 100); do
	[ "$(srv "$U" 'features_applied')" = 3 ] && break
	sleep 0.1
done
eq "$(srv "$U" 'owner || features_applied')" acme3 "m1's owner and features"
ok "m1 ($U) bootstrapped, sealed with acme's profile (psk, e2e)"

# ---- 1. psk get ----
for bits in 16 32; do
	r=$(mat m1 "AT+USECPSK=$bits")
	[[ "$r" =~ ^\\r\\n\+USECPSK:\ \"([0-9A-F]{28})\",\"([0-9A-F]+)\"\\r\\n\\r\\nOK\\r\\n$ ]] ||
		fail "AT+USECPSK=$bits answered '$r'"
	ID=${BASH_REMATCH[1]} PSK=${BASH_REMATCH[2]}
	eq "${#PSK}" $((2 * bits)) "the length of AT+USECPSK=$bits's PSK"
	ok_run "${ACME[@]}" psk get "$ID"
	eq "$(cat "$T/out")" "$PSK" "psk get $ID"
	ok_run "${ACME[@]}" psk get "${ID,,}"
	eq "$(cat "$T/out")" "$PSK" "psk get of the identity in lower case"
	ok_run "${ACME[@]}" --json psk get "$ID"
	jq_true ".device == \"$U\" and .identity == \"$ID\" and .psk_bits == $((8 * bits))" "psk get --json"
	eq "$(jq -r .psk "$T/out" | base64 -d | xxd -p -c 64 | tr a-f A-F)" "$PSK" "psk get --json's psk"
done
bad_run 1 "${GLOBEX[@]}" psk get "$ID"
err_has 'no such device'
[ -s "$T/out" ] && fail "psk get with globex's key printed: $(cat "$T/out")"
bad_run 1 "${ACME[@]}" psk get "${ID:0:4}FFFFFFFF${ID:12}"
err_has 'no such device'
bad_run 2 "${ACME[@]}" psk get "${ID}00"
err_has 'invalid PSK identity'
bad_run 2 "${ACME[@]}" psk get "${ID:0:27}g"
ok "psk get: the module's PSKs (16 and 32 bytes), --json; another owner's key and an unknown identity refused"

# ---- 2. e2e decrypt ----
printf HELLO >"$T/hello"
L=$(menc "$T/hello")
eq "$(line_len "$L")" 37 "HELLO's message: 37 bytes"
H=$(line_hex "$L")
printf '%s\r\n' "$L" >"$T/line.txt"
printf '  \n\t%s \r\n\n' "$H" >"$T/hex.txt"
printf '"%s"\n' "$H" >"$T/quoted.txt"
xxd -r -p <<<"$H" >"$T/msg.bin"
for f in line.txt hex.txt quoted.txt msg.bin; do
	ok_run "${ACME[@]}" e2e decrypt --in "$T/$f"
	eq "$(cat "$T/out")" HELLO "e2e decrypt --in $f"
done
"$ZTPCTL" "${ACME[@]}" e2e decrypt --in - <"$T/msg.bin" >"$T/stdin.out" || fail "e2e decrypt --in -"
eq "$(cat "$T/stdin.out")" HELLO "e2e decrypt --in -"
ok_run "${ACME[@]}" e2e decrypt --in "$T/line.txt" --out "$T/clear"
eq "$(cat "$T/clear")" HELLO "e2e decrypt --out"
eq "$(stat -c %a "$T/clear")" 600 "the mode of --out's file"
[ -s "$T/out" ] && fail "e2e decrypt --out printed: $(cat "$T/out")"
ok_run "${ACME[@]}" e2e params "${H:0:32}"
out_has '^algorithm: +AES_128_CCM$'
out_has '^direction: +upstream$'
ok_run "${ACME[@]}" --json e2e params "${H:0:32}"
jq_true ".device == \"$U\" and .mac_len == 16 and (.nonce | length) == 16 and (.key | length) == 24" "e2e params --json"
ok "e2e decrypt: HELLO (37 bytes) from the answer line, the hex, quoted, the bytes, stdin; --out 0600; e2e params"

# long and short key identities, 16- and 8-byte MACs, binary data up to the most a message carries
head -c 1000 /dev/urandom >"$T/r1000"
head -c 4096 /dev/urandom >"$T/r4096"
for args in ",16,0:r1000" ",8,0:r1000" ",16,1:r1000" ",8,1:hello" ",16,0:r4096"; do
	f=${args#*:}
	L=$(menc "$T/$f" "${args%:*}")
	H=$(line_hex "$L")
	case ${args%:*} in
	,16,0) want=11 ;; ,8,0) want=12 ;; ,16,1) want=21 ;; ,8,1) want=22 ;;
	esac
	eq "${H:0:2}" "$want" "the key identity's first byte of AT+USECE2EDATAENC=n${args%:*}"
	printf '%s\n' "$L" >"$T/m.txt"
	ok_run "${ACME[@]}" e2e decrypt --in "$T/m.txt" --out "$T/m.clear"
	cmp -s "$T/m.clear" "$T/$f" || fail "e2e decrypt of AT+USECE2EDATAENC=n${args%:*} with $f"
done
ok "e2e decrypt: long and short key identities, 16- and 8-byte MACs, 1000 and 4096 random bytes"

# a flipped byte after the key identity (ciphertext, MAC) is refused, nothing written
L=$(menc "$T/r1000")
xxd -r -p <<<"$(line_hex "$L")" >"$T/good.bin"
n=$(stat -c %s "$T/good.bin")
for off in 16 17 500 $((n - 17)) $((n - 16)) $((n - 1)); do
	flip "$T/good.bin" "$off" "$T/bad.bin"
	rm -f "$T/bad.clear"
	bad_run 1 "${ACME[@]}" e2e decrypt --in "$T/bad.bin" --out "$T/bad.clear"
	err_has 'MAC does not verify'
	[ -e "$T/bad.clear" ] && fail "a flipped byte at $off: --out was written"
	compgen -G "$T/.ztpctl.*" >/dev/null && fail "a temporary file was left behind"
	bad_run 1 "${ACME[@]}" e2e decrypt --in "$T/bad.bin"
	[ -s "$T/out" ] && fail "a flipped byte at $off: clear text printed"
done
# and one in the key identity: another message's parameters, or none
flip "$T/good.bin" 15 "$T/bad.bin"
bad_run 1 "${ACME[@]}" e2e decrypt --in "$T/bad.bin"
[ -s "$T/out" ] && fail "a flipped byte in the key identity: clear text printed"
ok_run "${ACME[@]}" e2e decrypt --in "$T/good.bin" --out "$T/good.clear"
cmp -s "$T/good.clear" "$T/r1000" || fail "the unchanged message after the flipped ones"
# another owner's key: no such device, nothing written
bad_run 1 "${GLOBEX[@]}" e2e decrypt --in "$T/good.bin" --out "$T/globex.clear"
err_has 'no such device'
[ -e "$T/globex.clear" ] && fail "e2e decrypt with globex's key wrote --out"
bad_run 1 "${GLOBEX[@]}" e2e params "$(line_hex "$L" | cut -c1-32)"
err_has 'no such device'
# files that are no message
printf 'hello world\n' >"$T/junk.txt"
bad_run 1 "${ACME[@]}" e2e decrypt --in "$T/junk.txt"
err_has 'not an E2E message'
printf '+USECE2EDATAENC: 38,"%s"\n' "$(line_hex "$(menc "$T/hello")")" >"$T/count.txt"
bad_run 1 "${ACME[@]}" e2e decrypt --in "$T/count.txt"
err_has 'not an E2E message'
head -c 20 "$T/good.bin" >"$T/short.bin"
bad_run 1 "${ACME[@]}" e2e decrypt --in "$T/short.bin"
err_has 'shorter than'
{ head -c 1 "$T/good.bin"; head -c 5000 /dev/zero; } >"$T/big.bin"
bad_run 1 "${ACME[@]}" e2e decrypt --in "$T/big.bin"
bad_run 1 "${ACME[@]}" e2e decrypt --in "$T/nonexistent"
bad_run 2 "${ACME[@]}" e2e decrypt
bad_run 2 "${ACME[@]}" e2e params 3abc
ok "e2e decrypt: flipped bytes refused, nothing written; another owner's key, malformed files refused"

# ---- 3. e2e encrypt ----
printf 'switch on, then report' >"$T/down"
ok_run "${ACME[@]}" e2e encrypt "$U" --in "$T/down" --out "$T/down.bin"
eq "$(stat -c %a "$T/down.bin")" 600 "the mode of --out's file"
eq "$(stat -c %s "$T/down.bin")" $((16 + 22 + 16)) "the downstream message's length"
r=$(mdata m1 "AT+USECE2EDATADEC=$(stat -c %s "$T/down.bin")" "$T/down.bin")
eq "$r" "$(printf '\n+USECE2EDATADEC: 22,"%s"\n\nOK' "$(xxd -p -c 64 "$T/down" | tr a-f A-F)")" \
	"AT+USECE2EDATADEC with e2e encrypt's message"
r=$(mdata m1 "AT+USECE2EDATADEC=$(stat -c %s "$T/down.bin")" "$T/down.bin")
[[ "$r" == *'+CME ERROR'* ]] || fail "the same message a second time: '$r'"
ok_run "${ACME[@]}" e2e decrypt --in "$T/down.bin"
eq "$(cat "$T/out")" "switch on, then report" "e2e decrypt of a downstream message"
ok_run "${ACME[@]}" e2e encrypt "$U" --in "$T/r1000" --hex
xxd -r -p "$T/out" >"$T/down2.bin"
r=$(mdata m1 "AT+USECE2EDATADEC=$(stat -c %s "$T/down2.bin")" "$T/down2.bin")
eq "$(grep -oE '"[0-9A-F]+"' <<<"$r" | tr -d '"')" "$(xxd -p -c 2000 "$T/r1000" | tr a-f A-F)" \
	"AT+USECE2EDATADEC with e2e encrypt --hex's message"
ok_run "${ACME[@]}" --json e2e encrypt "$U" --in "$T/hello"
jq_true ".device == \"$U\" and .length == 37 and (.data | length) == 52" "e2e encrypt --json"
: >"$T/empty"
ok_run "${ACME[@]}" e2e encrypt "$U" --in "$T/empty" --out "$T/empty.bin"
eq "$(stat -c %s "$T/empty.bin")" 32 "the length of an empty message"
ok_run "${ACME[@]}" e2e decrypt --in "$T/empty.bin"
[ -s "$T/out" ] && fail "e2e decrypt of an empty message printed: $(cat "$T/out")"
r=$(mdata m1 "AT+USECE2EDATADEC=32" "$T/empty.bin")
eq "$r" "$(printf '\n+USECE2EDATADEC: 0,""\n\nOK')" "AT+USECE2EDATADEC with an empty message"
ok "e2e encrypt: the module decrypts it once (the second time refused: replay), --hex, --json, empty"

bad_run 1 "${GLOBEX[@]}" e2e encrypt "$U" --in "$T/down" --out "$T/globex.bin"
err_has 'no such device'
[ -e "$T/globex.bin" ] && fail "e2e encrypt with globex's key wrote --out"
head -c 4097 /dev/zero >"$T/4097"
bad_run 1 "${ACME[@]}" e2e encrypt "$U" --in "$T/4097" --hex
err_has 'larger than 4096'
bad_run 2 "${ACME[@]}" e2e encrypt "${U^^}" --in "$T/down" --hex
ok_run device features "$U" --disable e2e
bad_run 1 "${ACME[@]}" e2e encrypt "$U" --in "$T/down" --hex
err_has 'feature e2e is off'
bad_run 1 "${ACME[@]}" e2e decrypt --in "$T/good.bin"
err_has 'feature e2e is off'
ok_run device features "$U" --enable e2e
ok_run "${ACME[@]}" e2e decrypt --in "$T/good.bin" --out "$T/good.clear"
ok "e2e encrypt: another owner's key, more than 4096 bytes, the feature off refused"

# ---- 4. events ----
for k in psk_lookup e2e_params e2e_encrypt; do wait_ev_mod "$k" "$U" 1; done
[ "$(db "SELECT count(*) FROM events WHERE kind IN ('psk_lookup', 'e2e_params', 'e2e_encrypt')
	AND owner = 'globex' AND device IS NOT NULL")" = 0 ] || fail "globex's refusals name the device"
ok "events psk_lookup, e2e_params, e2e_encrypt for $U"

# ---- the documentation: the routes in both API documents, the commands in --help ----
for r in "GET /v1/psk/{identity}" "POST /v1/e2e/decryption-parameters" "POST /v1/devices/{rot}/e2e/encrypt"; do
	grep -qF "  ${r#* }:" "$SRC/docs/openapi.yaml" || fail "docs/openapi.yaml has no ${r#* }"
	grep -qF "| \`$r\` |" "$SRC/docs/admin-api.md" || fail "docs/admin-api.md has no $r"
done
ok_run help
for c in "psk get IDENTITY" "e2e params KEY_IDENTITY" "e2e decrypt --in FILE [--out FILE]" \
	"e2e encrypt ROT --in FILE [--out FILE] [--hex]"; do
	grep -qF -- "$c" "$T/out" || fail "ztpctl help does not mention '$c'"
	grep -qF -- "\`$c\`" "$SRC/docs/security-service.md" || fail "docs/security-service.md does not mention '$c'"
done
ok "the routes in docs/admin-api.md and docs/openapi.yaml, the commands in ztpctl help and docs/security-service.md"
