#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The chip-to-chip secure channel (docs/protocol/security-service.md,
# "Chip-to-chip secure channel"): ztp-c2c's frames checked by tools we did not write, and
# ztp-sim --module's AT+USECC2C against a real ztpd.
#
#   1. ztp-c2c encode | ztp-c2c decode round trips, both versions, several
#      lengths; a version 2 and a version 1 frame rebuilt byte for byte with
#      openssl enc / openssl dgst (and the FCS in a few lines of Python)
#   2. before the bootstrap (ztpd down): AT+USECC2C=0 pairs (keys, tag),
#      the tag comes back encrypted by openssl (=4): OK; the same pairing
#      again: NOT_ALLOWED; a wrong confirmation is refused; a session as a
#      trial: =1 answers OK in plain text, AT+CGSN runs in frames, =2's OK
#      comes in a frame
#   3. bootstrapped, not claimed: =0 and =1 NOT_ALLOWED
#   4. claimed, features off: NOT_ALLOWED; with c2c and c2c-pairing on
#      (ztpctl device features, delivered by a heartbeat): a new pairing
#      for the same TE secret, a session, an AT command in it, closed
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_c2c.sh
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/integration/lib_module.sh"

C2C=$BUILD/ztp-c2c
C2C_CHAT=$SRC/tests/integration/c2c_chat.py
[ -x "$C2C" ] || fail "no ztp-c2c at $C2C"
KEY=000102030405060708090a0b0c0d0e0f
HMK=101112131415161718191a1b1c1d1e1f
TE=a0324cff236f45804865a0324cff2361
IV=5f5e5d5c5b5a59585756555453525150
NA='\r\n+CME ERROR: operation not allowed\r\n'

# fcs HEX: RFC 1662 FCS-16 of the bytes, as 4 hex digits little-endian
fcs() {
	"$PY" -S -c '
import sys
f = 0xFFFF
for b in bytes.fromhex(sys.argv[1]):
    f ^= b
    for _ in range(8):
        f = (f >> 1) ^ 0x8408 if f & 1 else f >> 1
f ^= 0xFFFF
print("%02x%02x" % (f & 0xFF, f >> 8))' "$1"
}
le16() { printf '%02x%02x' $(($1 & 255)) $(($1 >> 8)); }
hmac16() { xxd -r -p | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -binary | xxd -p -c 256 | cut -c1-32; }

# ---- 1. the tool: round trips, and frames rebuilt by openssl
for v in 1 2; do
	for len in 0 1 15 16 17 255 256 510 600 1100; do
		msg=$(head -c "$len" /dev/urandom | xxd -p -c 4096)
		"$C2C" encode --version $v --key $KEY --hmac-key $HMK --te-secret $TE <<<"$msg" >"$T/frames"
		[ "$(wc -l <"$T/frames")" = $(((len + 254) / 255)) ] || fail "v$v $len bytes: $(wc -l <"$T/frames") frames"
		out=$("$C2C" decode --version $v --key $KEY --hmac-key $HMK --te-secret $TE <"$T/frames") ||
			fail "v$v decode of $len bytes"
		[ "$out" = "$msg" ] || fail "v$v round trip of $len bytes"
	done
done
ok "ztp-c2c encode | decode: versions 1 and 2, 0 to 1100 bytes, 255 a frame"

P=$(printf 'AT+CGSN\r\n' | xxd -p)
got=$("$C2C" encode --version 2 --key $KEY --hmac-key $HMK --te-secret $TE --iv $IV <<<"$P")
C=$(xxd -r -p <<<"$P" | openssl enc -aes-128-cbc -K $KEY -iv $IV | xxd -p -c 4096)
MAC=$(hmac16 $HMK <<<"$IV$C$TE")
LEN=$(le16 $(((${#IV} + ${#C} + ${#MAC}) / 2)))
want="f9$LEN$IV$C$MAC$(fcs "$LEN$IV$C$MAC")f9"
[ "$got" = "$want" ] || fail "v2 frame: ztp-c2c $got, openssl $want"
PAD=$(printf '%s0a0a0a0a0a0a0a0a0a0a' "$(printf 'AT+CGS' | xxd -p)") # 6 bytes, 10 of padding
H=$(xxd -r -p <<<"$PAD" | openssl dgst -sha256 -binary | xxd -p -c 64)
C=$(xxd -r -p <<<"$PAD$H" | openssl enc -aes-128-cbc -nopad -K $KEY -iv $IV | xxd -p -c 4096)
LEN=$(le16 $(((${#C} + ${#IV}) / 2)))
got=$("$C2C" encode --version 1 --key $KEY --iv $IV <<<"$(printf 'AT+CGS' | xxd -p)")
[ "$got" = "f9$LEN$C$IV$(fcs "$LEN$C$IV")f9" ] || fail "v1 frame: ztp-c2c $got"
bad=${want%??}00
err=$("$C2C" decode --version 2 --key $KEY --hmac-key $HMK --te-secret $TE <<<"$bad" 2>&1) &&
	fail "a frame without its end flag decoded"
[[ $err == *"no end flag"* ]] || fail "decode's reason: $err"
err=$("$C2C" decode --version 2 --key $KEY --hmac-key $HMK --te-secret ${TE/a0/b0} <<<"$want" 2>&1) &&
	fail "a frame decoded under another TE secret"
[[ $err == *"bad MAC"* ]] || fail "decode's reason: $err"
ok "ztp-c2c frames match openssl enc + dgst -mac HMAC + FCS-16 byte for byte (v1, v2); bad end flag, bad MAC refused"

# ---- the service: an owner, a profile without c2c, the module
start_ztpd "${MOD_ZTPD_OPTS[@]}"
"$ZTPCTL" owner create acme >/dev/null || fail "owner create"
PROFILE=$("$ZTPCTL" profile create meter --owner acme --features psk --heartbeat-min-interval 1) ||
	fail "profile create"
mod_import 1 1
ROT=$(mod_uid 1)
mod_new m 1
stop_ztpd

# pair NAME TE: AT+USECC2C=0 and =4 (its tag encrypted by openssl); sets K, HK, and R (=4's answer)
pair() {
	local r iv c
	r=$(mat "$1" "AT+USECC2C=0,\"$2\"")
	[[ $r =~ ^\\r\\n\+USECC2C:\ 0,0,\"([0-9A-F]{32})\",\"([0-9A-F]{32})\",\"([0-9A-F]{32})\"\\r\\n\\r\\nOK\\r\\n$ ]] ||
		fail "$1: AT+USECC2C=0 answered '$r'"
	K=${BASH_REMATCH[1]} HK=${BASH_REMATCH[2]}
	local tag=${BASH_REMATCH[3]}
	iv=$(openssl rand -hex 16)
	c=$(xxd -r -p <<<"$tag" | openssl enc -aes-128-cbc -K "$K" -iv "$iv" | xxd -p -c 256)
	R=$(mat "$1" "AT+USECC2C=4,\"$2\",\"$iv$c$(hmac16 "$HK" <<<"$iv$c$2")\"")
}
# session NAME TE LINE...: c2c_chat.py with the keys of the last pair
session() {
	local name=$1 te=$2
	shift 2
	ZTP_C2C=$C2C C2C_KEY=$K C2C_HMAC=$HK C2C_TE=$te "$PY" -S "$C2C_CHAT" "${MPTY[$name]}" "$@" ||
		fail "c2c_chat: $*"
}

# ---- 2. before the bootstrap
msim_start m
[ "$(mstatus m)" = 0,0,0 ] || fail "the module bootstrapped without its server"
pair m $TE
[ "$R" = '\r\nOK\r\n' ] || fail "AT+USECC2C=4 answered '$R'"
r=$(mat m "AT+USECC2C=0,\"$TE\"")
[ "$r" = "$NA" ] || fail "a second pairing before the bootstrap answered '$r'"
r=$(mat m "AT+USECC2C=0,\"${TE/a0/b0}\"")
[[ $r == '\r\n+USECC2C: 0,0,'* ]] || fail "another TE secret: '$r'"
r=$(mat m "AT+USECC2C=4,\"${TE/a0/b0}\",\"$(openssl rand -hex 64)\"")
[ "$r" = '\r\n+CME ERROR: incorrect password\r\n' ] || fail "a wrong confirmation answered '$r'"
r=$(mat m "AT+USECC2C=1,\"${TE/a0/b0}\"")
[ "$r" = "$NA" ] || fail "a session on an unconfirmed pairing answered '$r'"
for bad in 'AT+USECC2C=0,"00"' 'AT+USECC2C=5,"'$TE'"' 'AT+USECC2C=0' 'AT+USECC2C=2' 'AT+USECC2C=1,'$TE; do
	r=$(mat m "$bad")
	[ "$r" = '\r\nERROR\r\n' ] || fail "$bad answered '$r'"
done
ok "before the bootstrap: paired once (v2, confirmed by an openssl-made tag), again NOT_ALLOWED, a bad tag refused, bad syntax ERROR"

session m $TE 'AT+CGSN' >"$T/s1"
sed -n 1p "$T/s1" | grep -qx '\\r\\nOK\\r\\n' || fail "=1: $(cat "$T/s1")"
sed -n 2p "$T/s1" | grep -Eqx '\\r\\n35[0-9]{13}\\r\\n\\r\\nOK\\r\\n' || fail "AT+CGSN in frames: $(cat "$T/s1")"
sed -n 3p "$T/s1" | grep -qx '\\r\\nOK\\r\\n' || fail "=2: $(cat "$T/s1")"
r=$(mat m 'AT')
[ "$r" = '\r\nOK\r\n' ] || fail "plain AT after the session: '$r'"
ok "a trial session before the bootstrap: OK in plain text, AT+CGSN and =2's OK in frames, plain again after"

# ---- 3. bootstrapped, not claimed
restart_ztpd
for _ in $(seq 1 600); do [ "$(mstatus m)" = 1,0,1 ] && break; sleep 0.1; done
[ "$(mstatus m)" = 1,0,1 ] || fail "the module did not bootstrap"
for c in "AT+USECC2C=0,\"$TE\"" "AT+USECC2C=1,\"$TE\""; do
	r=$(mat m "$c")
	[ "$r" = "$NA" ] || fail "not claimed: $c answered '$r'"
done
ok "bootstrapped, not claimed: pairing and session NOT_ALLOWED"

# ---- 4. claimed; the features
mseal m "$PROFILE" SN-C2C
for _ in $(seq 1 600); do [ "$(mstatus m)" = 1,1,1 ] && break; sleep 0.1; done
[ "$(mstatus m)" = 1,1,1 ] || fail "the module was not claimed"
for c in "AT+USECC2C=0,\"$TE\"" "AT+USECC2C=1,\"$TE\""; do
	r=$(mat m "$c")
	[ "$r" = "$NA" ] || fail "claimed, features off: $c answered '$r'"
done
"$ZTPCTL" device features "$ROT" --enable c2c,c2c-pairing >/dev/null || fail "device features"
mconn_ok m
pair m $TE
[ "$R" = '\r\nOK\r\n' ] || fail "claimed, c2c-pairing on: =4 answered '$R'"
session m $TE 'AT+USECDEVINFO?' >"$T/s2"
sed -n 2p "$T/s2" | grep -qx '\\r\\n+USECDEVINFO: 1,1,1\\r\\n\\r\\nOK\\r\\n' ||
	fail "AT+USECDEVINFO? in frames: $(cat "$T/s2")"
sed -n 3p "$T/s2" | grep -qx '\\r\\nOK\\r\\n' || fail "=2: $(cat "$T/s2")"
# =3: new keys, told in the session under the old ones; the session ends
C2C_NO_CLOSE=1 session m $TE 'AT+USECC2C=3' >"$T/s3"
[[ $(sed -n 2p "$T/s3") =~ ^\\r\\n\+USECC2C:\ 3,0,\"([0-9A-F]{32})\",\"([0-9A-F]{32})\",\"[0-9A-F]{32}\"\\r\\n\\r\\nOK\\r\\n$ ]] ||
	fail "=3 in frames: $(cat "$T/s3")"
[ "${BASH_REMATCH[1]}" != "$K" ] || fail "=3 gave the same key"
K=${BASH_REMATCH[1]} HK=${BASH_REMATCH[2]}
session m $TE 'ATI' >"$T/s4"
sed -n 2p "$T/s4" | grep -q 'ztp-sim virtual modem' || fail "a session under the new keys: $(cat "$T/s4")"
"$ZTPCTL" device features "$ROT" --disable c2c >/dev/null || fail "device features --disable"
mconn_ok m
r=$(mat m "AT+USECC2C=1,\"$TE\"")
[ "$r" = "$NA" ] || fail "c2c off again: =1 answered '$r'"
ok "claimed: NOT_ALLOWED with the features off; with c2c-pairing and c2c on, paired again, AT+USECDEVINFO? in a session; rekeyed (=3) and a session under the new keys; c2c off: NOT_ALLOWED"
! grep -q "$K" "$T/m.log" || fail "a key in ztp-sim's log"
