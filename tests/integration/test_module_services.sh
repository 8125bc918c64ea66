#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The root of trust's services end to end (issue 14; docs/security-service.md
# "Services"), with real processes and tools we did not write: ztpd,
# ztp-sim --module behind its pty, openssl s_server / s_client, Python's
# PyCryptodome (AES CCM), curl.
#
#   - PSK: AT+USECPSK=32 on the module; a customer's TLS server gets the
#     same key from GET /v1/psk/{identity} with its owner's key, and
#     openssl s_client with the module's PSK reaches openssl s_server with
#     the API's; another owner's key, another owner's device, a device with
#     psk off or in quarantine are refused; an event for every lookup;
#     security profiles (AT+USECPRF 8, 9, 11) kept and read back without
#     the PSK
#   - E2E upstream: "HELLO" is 37 bytes (16 key identity, 5, 16 MAC);
#     PyCryptodome decrypts it with only what the API returns; a flipped
#     byte fails its MAC; after a heartbeat (the key ratchet) the old
#     message still decrypts; CCM_8 and the short key identity
#   - E2E downstream: the server encrypts, AT+USECE2EDATADEC gives the
#     clear text back once; the same message again is refused (replay)
#   - local data: AT+USECDATAENC / AT+USECFILEDEC round trip as the
#     document shows; a tampered or truncated file, a renamed one, the
#     file on another module are refused; a module without the feature
#     refuses
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_module.sh"
. "$(dirname "$0")/lib_ztpctl.sh"

SRV_PID=""
svc_cleanup() {
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null
	[ -n "$SRV_PID" ] && wait "$SRV_PID" 2>/dev/null
	return 0
}
trap 'rc=$?; svc_cleanup; (exit $rc); msim_cleanup' EXIT

# Debian's python3-pycryptodome is for Debian's interpreter (not a version manager's)
DPY=/usr/bin/python3
"$DPY" -c 'import Cryptodome.Cipher.AES' 2>/dev/null ||
	fail "no PyCryptodome for $DPY (python3-pycryptodome; scripts/install-deps.sh)"

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

# token FILE: a bearer token for the key saved in FILE (apikey create --save)
token() {
	curl -sS --cacert "$DATA/ca.pem" -X POST -H 'Content-Type: application/json' \
		-d "$(jq -c '{key_id, secret}' "$1")" "$URL/v1/auth/token" | jq -r '.token // empty'
}
# call TOKEN METHOD PATH [BODY]: the status; the body in $T/body
call() {
	local tok=$1 method=$2 path=$3 body=${4:-} extra=()
	[ -n "$body" ] && extra=(-H 'Content-Type: application/json' -d "$body")
	curl -sS --cacert "$DATA/ca.pem" -o "$T/body" -w '%{http_code}' -X "$method" \
		-H "Authorization: Bearer $tok" "${extra[@]}" "$URL$path"
}
# adata NAME COMMAND HEXDATA: a command with data after the "> " prompt
adata() {
	ZTP_SIM_PID=${MPID[$1]} "$PY" -S "$SRC/tests/integration/at_data.py" "${MPTY[$1]}" "$2" "$3" ||
		fail "$1: $2 did not answer: $("$PY" -S "$SRC/tests/integration/at_data.py" "${MPTY[$1]}" "$2" "$3" 2>&1 | head -c 300)"
}
hexof() { printf '%s' "$1" | xxd -p | tr -d '\n'; }

start_ztpd "${MOD_ZTPD_OPTS[@]}"
URL=https://127.0.0.1:$ADMIN_PORT
ok_run owner create acme
ok_run owner create other
ok_run profile create meters --owner acme --features psk,e2e,local-data --heartbeat-min-interval 1
PA=$(head -1 "$T/out")
ok_run profile create pumps --owner other --features psk,e2e --heartbeat-min-interval 1
PB=$(head -1 "$T/out")
ok_run apikey create acme-srv --owner acme --save "$T/acme.json"
ok_run apikey create other-srv --owner other --save "$T/other.json"
TA=$(token "$T/acme.json")
TB=$(token "$T/other.json")
[ -n "$TA" ] && [ -n "$TB" ] || fail "no token for the owners' keys"
mod_import 1 3
for i in 1 2 3; do
	mod_new "m$i" "$i"
	msim_start "m$i" || fail "m$i: ztp-sim died at start"
done
mseal m1 "$PA" SN-1
mseal m2 "$PB" SN-2
mseal m3 "$PA" SN-3
for i in 1 2 3; do wait_status "m$i" 1,1,1; done
U1=$(mod_uid 1)
U2=$(mod_uid 2)
[ "$(srv "$U1" sid)" -gt 0 ] || fail "m1 has no service id"
ok "three modules bootstrapped and claimed: m1, m3 of acme (psk, e2e, local-data), m2 of other (psk, e2e)"

# ---- PSK ----
r=$(mat m1 'AT+USECPSK=32')
[[ $r =~ ^\\r\\n\+USECPSK:\ \"(11[0-9A-Fa-f]{26})\",\"([0-9A-Fa-f]{64})\"\\r\\n\\r\\nOK\\r\\n$ ]] ||
	fail "AT+USECPSK=32 answered '$r'"
ID=${BASH_REMATCH[1]}
PSK=${BASH_REMATCH[2],,}
r=$(mat m1 'AT+USECPSK=16')
[[ $r =~ ^\\r\\n\+USECPSK:\ \"(1101[0-9A-Fa-f]{24})\",\"([0-9A-Fa-f]{32})\"\\r\\n\\r\\nOK\\r\\n$ ]] ||
	fail "AT+USECPSK=16 answered '$r' (the document's form: identity 14 bytes, PSK 16)"
ID16=${BASH_REMATCH[1]}
PSK16=${BASH_REMATCH[2],,}
[ "$ID16" != "$ID" ] || fail "two calls gave the same identity"
[ "$(mat m1 'AT+USECPSK=24')" = '\r\nERROR\r\n' ] || fail "AT+USECPSK=24 accepted"
[ "$(call "$TA" GET "/v1/psk/$ID")" = 200 ] || fail "GET /v1/psk: $(cat "$T/body")"
API_PSK=$(jq -r .psk "$T/body" | base64 -d | xxd -p | tr -d '\n')
[ "$API_PSK" = "$PSK" ] || fail "the API's PSK differs from the module's"
jq -e --arg u "$U1" '.device == $u and .psk_bits == 256' "$T/body" >/dev/null || fail "PSK answer: $(cat "$T/body")"
[ "$(call "$TA" GET "/v1/psk/$ID16")" = 200 ] || fail "GET /v1/psk (16): $(cat "$T/body")"
[ "$(jq -r .psk "$T/body" | base64 -d | xxd -p)" = "$PSK16" ] || fail "the 16-byte PSK differs"
ok "AT+USECPSK=32 and =16: the server derives the same keys from the identities alone"

# a TLS server whose key came from the API, a client with the module's
# (-www: the server answers an HTTP GET with its status page; it does not read its stdin)
openssl s_server -accept 127.0.0.1:0 -nocert -psk "$API_PSK" -psk_identity "$ID" \
	-naccept 1 -www </dev/null >"$T/s_server.out" 2>"$T/s_server.err" &
SRV_PID=$!
PORT=""
for _ in $(seq 1 100); do
	PORT=$(sed -n 's/^ACCEPT 127.0.0.1:\([0-9]*\)$/\1/p' "$T/s_server.out")
	[ -n "$PORT" ] && break
	sleep 0.05
done
[ -n "$PORT" ] || fail "openssl s_server did not start: $(cat "$T/s_server.err")"
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
	-psk "$PSK" -psk_identity "$ID" -quiet -ign_eof >"$T/s_client.out" 2>"$T/s_client.err" || true
grep -q '^HTTP/1.0 200 ok' "$T/s_client.out" ||
	fail "openssl s_client did not get through: $(tail -3 "$T/s_client.err") / $(tail -3 "$T/s_server.err")"
for _ in $(seq 1 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.05; done
wait "$SRV_PID" 2>/dev/null || true
SRV_PID=""
ok "openssl s_client with the module's PSK reached openssl s_server with the API's"

[ "$(call "$TB" GET "/v1/psk/$ID")" = 404 ] || fail "another owner's key got acme's PSK: $(cat "$T/body")"
r=$(mat m2 'AT+USECPSK=16')
[[ $r =~ \"(11[0-9A-Fa-f]{26})\" ]] || fail "m2: AT+USECPSK answered '$r'"
ID2=${BASH_REMATCH[1]}
[ "$(call "$TA" GET "/v1/psk/$ID2")" = 404 ] || fail "acme's key got other's device's PSK"
[ "$(call "$TB" GET "/v1/psk/$ID2")" = 200 ] || fail "other's key refused its own device: $(cat "$T/body")"
[ "$(call "$TA" GET "/v1/psk/zz")" = 400 ] || fail "a malformed identity"
[ "$(call "$TA" GET "/v1/psk/12${ID:2}")" = 400 ] || fail "an identity of another kind"
# psk off for m1: the module refuses, and so does the API
ok_run device features "$U1" --disable psk
[ "$(call "$TA" GET "/v1/psk/$ID")" = 403 ] || fail "PSK given with the feature off: $(cat "$T/body")"
mconn_ok m1
[ "$(mat m1 'AT+USECPSK=16')" = '\r\n+CME ERROR: operation not allowed\r\n' ] ||
	fail "AT+USECPSK with psk off: $(mat m1 'AT+USECPSK=16')"
ok_run device features "$U1" --enable psk
mconn_ok m1
# quarantine: never a PSK
db_exec "UPDATE modules SET quarantined = 1 WHERE rot_uid = '$U2'"
[ "$(call "$TB" GET "/v1/psk/$ID2")" = 403 ] || fail "a quarantined device's PSK was given"
db_exec "UPDATE modules SET quarantined = 0 WHERE rot_uid = '$U2'"
ev_settle
n=$(db "SELECT count(*) FROM events WHERE kind = 'psk_lookup'")
[ "$n" = 7 ] || fail "$n psk_lookup events for 7 lookups (the two malformed ones are 400s, not lookups)"
db "SELECT detail FROM events WHERE kind = 'psk_lookup'" | grep -qi "$PSK" && fail "a PSK in an event"
ok "PSK refused: another owner's key or device (404), malformed (400), feature off, quarantine (403); $n events, no key in them"

# security profiles
[ "$(mat m1 "AT+USECPRF=0,8,\"$PSK16\",1")" = '\r\nOK\r\n' ] || fail "AT+USECPRF=0,8"
[ "$(mat m1 "AT+USECPRF=0,9,\"$ID16\"")" = '\r\nOK\r\n' ] || fail "AT+USECPRF=0,9"
[ "$(mat m1 'AT+USECPRF=0,11,1')" = '\r\nOK\r\n' ] || fail "AT+USECPRF=0,11,1"
r=$(mat m1 'AT+USECPRF=0')
[ "$r" = "\\r\\n+USECPRF: 0,9,\"$ID16\"\\r\\n\\r\\n+USECPRF: 0,11,1\\r\\n\\r\\nOK\\r\\n" ] ||
	fail "AT+USECPRF=0 read back '$r'"
[ "$(mat m2 'AT+USECPRF=1,11,1')" = '\r\nOK\r\n' ] || fail "m2: automatic PSK"
[ "$(mat m1 'AT+USECPRF=5,11,1')" = '\r\nERROR\r\n' ] || fail "profile 5 accepted"
[ "$(mat m1 'AT+USECPRF=0,8,"abc",1')" = '\r\nERROR\r\n' ] || fail "odd hex PSK accepted"
msim_stop m1
msim_start m1 || fail "m1 did not restart"
[ "$(mat m1 'AT+USECPRF=0')" = "$r" ] || fail "the profile did not survive a restart"
ok "AT+USECPRF 8, 9, 11 kept in the module's file (across a restart), read back without the PSK"

# ---- E2E upstream ----
# decrypt HEX TOKEN: what a customer's server does, with PyCryptodome and the API alone
decrypt() {
	local hex=$1 tok=$2 nib kil code
	nib=${hex:0:1}
	kil=$([ "$nib" = 1 ] && echo 32 || echo 22)
	code=$(call "$tok" POST /v1/e2e/decryption-parameters "{\"key_identity\": \"${hex:0:$kil}\"}")
	[ "$code" = 200 ] || { echo "api $code"; return 0; }
	"$DPY" - "$hex" "$T/body" <<'PYEOF'
import binascii, json, sys
from base64 import b64decode
from Cryptodome.Cipher import AES
data = binascii.unhexlify(sys.argv[1])
p = json.load(open(sys.argv[2]))
kil = 16 if data[0] >> 4 == 1 else 11
ml = p['mac_len']
assert p['algorithm'] == ('AES_128_CCM' if ml == 16 else 'AES_128_CCM_8')
ct, tag = data[kil:len(data) - ml], data[len(data) - ml:]
c = AES.new(b64decode(p['key']), AES.MODE_CCM, nonce=b64decode(p['nonce']), mac_len=ml)
try:
    print('clear ' + c.decrypt_and_verify(ct, tag).hex())
except (ValueError, KeyError):
    print('mac failed')
PYEOF
}
r=$(adata m1 'AT+USECE2EDATAENC=5' "$(hexof HELLO)")
[[ $r =~ ^\\r\\n\+USECE2EDATAENC:\ 37,\"([0-9A-F]{74})\"\\r\\n\\r\\nOK\\r\\n$ ]] ||
	fail "AT+USECE2EDATAENC=5 HELLO answered '$r'"
HELLO=${BASH_REMATCH[1],,}
[ "${HELLO:0:1}" = 1 ] || fail "the first nibble is not 1: $HELLO"
[ "$(decrypt "$HELLO" "$TA")" = "clear $(hexof HELLO)" ] || fail "PyCryptodome: $(decrypt "$HELLO" "$TA")"
jq -e '.algorithm == "AES_128_CCM" and .mac_len == 16 and .direction == "upstream"' "$T/body" >/dev/null ||
	fail "decryption parameters: $(jq -c 'del(.key, .nonce)' "$T/body")"
# a flipped byte (in the ciphertext, in the MAC) fails the MAC
bad=${HELLO:0:36}$(printf '%02x' $((0x${HELLO:36:2} ^ 1)))${HELLO:38}
[ "$(decrypt "$bad" "$TA")" = "mac failed" ] || fail "a flipped ciphertext byte decrypted"
bad=${HELLO:0:72}$(printf '%02x' $((0x${HELLO:72:2} ^ 0x80)))
[ "$(decrypt "$bad" "$TA")" = "mac failed" ] || fail "a flipped MAC byte decrypted"
[ "$(decrypt "$HELLO" "$TB")" = "api 404" ] || fail "another owner's key got the parameters"
ok "\"HELLO\" is 37 bytes (key identity 16, 5, MAC 16); PyCryptodome decrypts it with the API's parameters alone; a flipped byte fails; another owner: 404"

# CCM_8 and the short key identity: 11 + 5 + 8
r=$(adata m1 'AT+USECE2EDATAENC=5,8,1' "$(hexof HELLO)")
[[ $r =~ \+USECE2EDATAENC:\ 24,\"(2[0-9A-F]{47})\" ]] || fail "CCM_8, short: '$r'"
[ "$(decrypt "${BASH_REMATCH[1],,}" "$TA")" = "clear $(hexof HELLO)" ] || fail "CCM_8 did not decrypt"
# the ratchet: a heartbeat moves the key; the old message still decrypts
e=$(srv "$U1" epoch)
mconn_ok m1
[ "$(srv "$U1" epoch)" -gt "$e" ] || fail "the heartbeat did not move m1's key"
r=$(adata m1 'AT+USECE2EDATAENC=3' "$(hexof new)")
[[ $r =~ \+USECE2EDATAENC:\ 35,\"([0-9A-F]{70})\" ]] || fail "after the heartbeat: '$r'"
NEW=${BASH_REMATCH[1],,}
[ "${NEW:0:32}" != "${HELLO:0:32}" ] || fail "the same key identity twice"
[ "$(decrypt "$NEW" "$TA")" = "clear $(hexof new)" ] || fail "the new message"
[ "$(decrypt "$HELLO" "$TA")" = "clear $(hexof HELLO)" ] || fail "the old message after the ratchet"
# a file of the module's file system
mkdir -p "$T/m1.nvm.fs"
printf 'log line 1\n' >"$T/m1.nvm.fs/log.txt"
r=$(mat m1 'AT+USECE2EFILEENC="log.txt"')
[[ $r =~ \+USECE2EFILEENC:\ 43,\"([0-9A-F]{86})\" ]] || fail "AT+USECE2EFILEENC: '$r'"
[ "$(decrypt "${BASH_REMATCH[1],,}" "$TA")" = "clear $(hexof $'log line 1\n')" ] || fail "the file"
[ "$(mat m1 'AT+USECE2EFILEENC="nofile"')" = '\r\n+CME ERROR: not found\r\n' ] || fail "a missing file"
ok "CCM_8 with the 11-byte key identity; after the heartbeat's ratchet old and new messages decrypt; AT+USECE2EFILEENC"

# ---- E2E downstream ----
[ "$(call "$TA" POST "/v1/devices/$U1/e2e/encrypt" "{\"data\": \"$(printf reboot | base64)\"}")" = 200 ] ||
	fail "encrypt for m1: $(cat "$T/body")"
DOWN=$(jq -r .data "$T/body" | base64 -d | xxd -p | tr -d '\n')
n=$((${#DOWN} / 2))
r=$(adata m1 "AT+USECE2EDATADEC=$n" "$DOWN")
[ "$r" = "\\r\\n+USECE2EDATADEC: 6,\"$(hexof reboot | tr a-f A-F)\"\\r\\n\\r\\nOK\\r\\n" ] ||
	fail "AT+USECE2EDATADEC answered '$r'"
r=$(adata m1 "AT+USECE2EDATADEC=$n" "$DOWN")
[ "$r" = '\r\n+CME ERROR: operation not allowed\r\n' ] || fail "a replayed message: '$r'"
r=$(adata m3 "AT+USECE2EDATADEC=$n" "$DOWN")
[ "$r" = '\r\n+CME ERROR: operation not allowed\r\n' ] || fail "m3 took m1's message: '$r'"
[ "$(call "$TB" POST "/v1/devices/$U1/e2e/encrypt" '{"data": "eA=="}')" = 404 ] ||
	fail "another owner encrypted for acme's device"
ok "downstream: the server encrypts, the module decrypts once; a replay and another module refused"

# ---- local data ----
r=$(adata m1 'AT+USECDATAENC=13,"ciphertextfile"' "$(hexof datatoencrypt)")
[ "$r" = '\r\nOK\r\n' ] || fail "AT+USECDATAENC answered '$r'"
[ "$(mat m1 'AT+USECFILEDEC="ciphertextfile"')" = '\r\n+USECFILEDEC: 13,"datatoencrypt"\r\n\r\nOK\r\n' ] ||
	fail "AT+USECFILEDEC: $(mat m1 'AT+USECFILEDEC="ciphertextfile"')"
F=$T/m1.nvm.fs/ciphertextfile
cp "$F" "$T/good"
printf '\x01' | dd of="$F" bs=1 seek=20 conv=notrunc 2>/dev/null
[ "$(mat m1 'AT+USECFILEDEC="ciphertextfile"')" = '\r\n+CME ERROR: operation not allowed\r\n' ] ||
	fail "a tampered file decrypted"
head -c 30 "$T/good" >"$F"
[ "$(mat m1 'AT+USECFILEDEC="ciphertextfile"')" = '\r\n+CME ERROR: operation not allowed\r\n' ] ||
	fail "a truncated file decrypted"
cp "$T/good" "$T/m1.nvm.fs/renamed"
[ "$(mat m1 'AT+USECFILEDEC="renamed"')" = '\r\n+CME ERROR: operation not allowed\r\n' ] ||
	fail "a renamed file decrypted"
mkdir -p "$T/m3.nvm.fs"
cp "$T/good" "$T/m3.nvm.fs/ciphertextfile"
[ "$(mat m3 'AT+USECFILEDEC="ciphertextfile"')" = '\r\n+CME ERROR: operation not allowed\r\n' ] ||
	fail "another module decrypted m1's file"
cp "$T/good" "$F"
[ "$(mat m1 'AT+USECFILEDEC="ciphertextfile"')" = '\r\n+USECFILEDEC: 13,"datatoencrypt"\r\n\r\nOK\r\n' ] ||
	fail "the good file again"
r=$(adata m2 'AT+USECDATAENC=1,"x"' 41)
[ "$r" = '\r\n+CME ERROR: operation not allowed\r\n' ] || fail "m2 (no local-data) encrypted: '$r'"
[ "$(mat m1 'AT+USECFILEDEC="../m1.nvm"')" = '\r\n+CME ERROR: operation not allowed\r\n' ] ||
	fail "a path outside the module's file system"
ok "local data: round trip as the document; tampered, truncated, renamed, another module's: refused; feature off refused"

# ---- ztp-sim --trace never writes a key or clear text ----
msim_stop m3
printf '#!/bin/sh\nexec "%s" --trace "%s" "$@"\n' "$MSIM" "$T/trace.txt" >"$T/sim-trace"
chmod 755 "$T/sim-trace"
MSIM_BIN=$T/sim-trace msim_start m3 || fail "m3 with --trace"
r=$(mat m3 'AT+USECPSK=32')
[[ $r =~ \"([0-9A-F]{64})\" ]] || fail "m3: AT+USECPSK=32 answered '$r'"
P3=${BASH_REMATCH[1]}
mat m3 "AT+USECPRF=2,8,\"$P3\",1" >/dev/null
r=$(adata m3 'AT+USECDATAENC=6,"t"' "$(hexof secret)")
mat m3 'AT+USECFILEDEC="t"' >/dev/null
grep -q 'USECPSK' "$T/trace.txt" || fail "nothing traced: $(head -5 "$T/trace.txt")"
grep -qi "$P3" "$T/trace.txt" && fail "the PSK is in the trace"
grep -q 'secret' "$T/trace.txt" && fail "local data's clear text is in the trace"
ok "ztp-sim --trace: the PSK, a profile's PSK and decrypted data are not in the trace"
