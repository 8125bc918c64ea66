#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Connect-and-close is not a refused handshake. Only a handshake that fails
# on bytes the peer sent is an event:
#   - 5,000 TCP connections to the device port that send nothing and close
#     (and 100 more closed with a reset): no handshake_refused event;
#   - SIM fetches whose client closes right after its 200, with no
#     close_notify (openssl s_client killed) or with one (s_client's stdin
#     closed): none either;
#   - one handshake with a wrong key: exactly one event; one that sends a
#     malformed ClientHello (garbage): one more.
# Events may be written up to about 2 s after the fact: each count is taken
# once the front has closed every device connection and is then watched
# for 3 s more.
. "$(dirname "$0")/lib.sh"

NBAD=0
bad() { echo "FAIL: $*" >&2; NBAD=$((NBAD + 1)); }

start_ztpd
setup_seed_sim

# settle: until the front holds no device connection (it handled every
# connection made so far), then 3 s more for events written late
settle() {
	local n=""
	for _ in $(seq 1 200); do
		n=$(ss -Htn state all "( sport = :$DEVICE_PORT )" | grep -cv 'LISTEN\|TIME-WAIT' || true)
		[ "$n" = 0 ] && break
		sleep 0.05
	done
	[ "$n" = 0 ] || echo "note: $n device connections still open on the server's side"
}
# stays KIND N: the count of KIND is N now and for the next 3 s
stays() {
	local n
	for _ in $(seq 1 30); do
		n=$(ev_count_now "$1")
		[ "$n" = "$2" ] || return 1
		sleep 0.1
	done
}
refused_log() { grep -c 'event: handshake_refused' "$T/ztpd.log" || true; }

H0=$(ev_count handshake_refused)
U0=$(ev_count unknown_identity)
[ "$H0" = 0 ] || fail "handshake_refused events before the test: $H0"

# ---- 5,000 bare TCP connect-and-close, then 100 closed with a reset
start=$(date +%s.%N)
python3 - "$DEVICE_PORT" <<'PY' || fail "the connect loop failed"
import socket, struct, sys
port = int(sys.argv[1])
for i in range(5000):
    s = socket.create_connection(("127.0.0.1", port))
    s.close()
for i in range(100):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
PY
took=$(echo "$(date +%s.%N) - $start" | bc)
settle
h=$(ev_count handshake_refused)
stays handshake_refused "$h" || h=$(ev_count handshake_refused)
echo "saw: 5,000 connect-and-close + 100 resets in ${took}s: handshake_refused $H0 -> $h, unknown_identity $U0 -> $(ev_count unknown_identity), log lines $(refused_log)"
[ "$h" = "$H0" ] || bad "5,000 connect-and-close recorded $((h - H0)) handshake_refused events: $(db "SELECT detail FROM events WHERE kind='handshake_refused' LIMIT 1")"
[ "$(ev_count unknown_identity)" = "$U0" ] || bad "connect-and-close recorded unknown_identity events"
[ $NBAD = 0 ] && ok "5,000 connect-and-close and 100 resets: no handshake_refused event"

# ---- SIM fetches that close right after their 200
# fetch_close MODE COUNT: COUNT fetches with openssl s_client, each closed as
# soon as its 200 and body are read: MODE kill (SIGKILL: no close_notify, the
# kernel closes the socket) or notify (stdin closed: s_client sends its
# close_notify and exits). Prints the statuses.
fetch_close() {
	python3 - "$DEVICE_PORT" "$ICCID" "$PSK" "$(config_path)" "$1" "$2" <<'PY'
import os, select, subprocess, sys, time
port, iccid, psk, path, mode, count = sys.argv[1:]
got = []
for i in range(int(count)):
    # -quiet implies -ign_eof: only the kill mode may use it
    p = subprocess.Popen(["openssl", "s_client", "-tls1_3", "-psk", psk, "-psk_identity", iccid,
                          "-connect", "127.0.0.1:" + port, "-quiet" if mode == "kill" else "-no_ign_eof"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    # keep-alive: the server has no reason to close first
    p.stdin.write(("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())
    p.stdin.flush()
    buf, deadline, status = b"", time.monotonic() + 10, None
    while time.monotonic() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.1)
        if r:
            d = os.read(p.stdout.fileno(), 65536)
            if not d:
                break
            buf += d
        k = buf.find(b"HTTP/1.1 ")
        if k >= 0 and b"\r\n\r\n" in buf[k:]:
            head, _, body = buf[k:].partition(b"\r\n\r\n")
            cl = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
            if cl and len(body) >= cl[0]:
                status = int(head.split()[1])
                break
    if mode == "kill":
        p.kill()
    else:
        p.stdin.close()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    got.append(status)
print(" ".join(str(s) for s in got))
PY
}
nb=$NBAD
for mode in kill notify; do
	h0=$(ev_count handshake_refused)
	statuses=$(fetch_close $mode 20)
	settle
	h=$(ev_count handshake_refused)
	stays handshake_refused "$h" || h=$(ev_count handshake_refused)
	echo "saw: 20 fetches closed after their 200 ($mode): statuses $statuses; handshake_refused $h0 -> $h, log lines $(refused_log)"
	[ "$(echo "$statuses" | tr ' ' '\n' | grep -c '^200$')" = 20 ] || bad "fetches ($mode): not all 200: $statuses"
	[ "$h" = "$h0" ] || bad "a SIM closing after its 200 ($mode) recorded $((h - h0)) handshake_refused events: $(db "SELECT iccid, detail FROM events WHERE kind='handshake_refused' ORDER BY id DESC LIMIT 1")"
done
[ $NBAD = "$nb" ] && ok "SIM fetches closed right after their 200, without close_notify and with it: no handshake_refused event"

# ---- a wrong key: one event; a malformed ClientHello: one more
nb=$NBAD
H0=$(ev_count handshake_refused)
out=$(S_PSK=$(openssl rand -hex 32) s_client_get "$(config_path)") || true
[ -z "$out" ] || bad "wrong PSK: got an answer: $out"
settle
for _ in $(seq 1 50); do
	[ "$(ev_count handshake_refused)" -gt "$H0" ] && break
	sleep 0.1
done
h=$(ev_count handshake_refused)
stays handshake_refused "$h" || h=$(ev_count handshake_refused)
echo "saw: a wrong key: handshake_refused $H0 -> $h: $(db "SELECT iccid, detail FROM events WHERE kind='handshake_refused' ORDER BY id DESC LIMIT 1")"
[ "$h" = $((H0 + 1)) ] || bad "a wrong key: $((h - H0)) handshake_refused events, want 1"
db "SELECT iccid FROM events WHERE kind='handshake_refused' ORDER BY id DESC LIMIT 1" | grep -qx "$ICCID" ||
	bad "the wrong-key event does not name the SIM"
h1=$h
# garbage: a handshake record whose ClientHello is 60 bytes of 0xff
python3 - "$DEVICE_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"\x16\x03\x01\x00\x40" + b"\x01\x00\x00\x3c" + b"\xff" * 60)
try:
    while s.recv(4096):
        pass
except OSError:
    pass
s.close()
PY
settle
for _ in $(seq 1 50); do
	[ "$(ev_count handshake_refused)" -gt "$h1" ] && break
	sleep 0.1
done
h=$(ev_count handshake_refused)
echo "saw: a malformed ClientHello: handshake_refused $h1 -> $h: $(db "SELECT detail FROM events WHERE kind='handshake_refused' ORDER BY id DESC LIMIT 1")"
[ "$h" -gt "$h1" ] || bad "a malformed ClientHello on the device port: no handshake_refused event"
# for the record, not checked: plain HTTP on the TLS port (OpenSSL refuses
# it without sending an alert)
h1=$h
printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' >"$T/plain.req"
python3 - "$DEVICE_PORT" "$T/plain.req" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(open(sys.argv[2], "rb").read())
try:
    while s.recv(4096):
        pass
except OSError:
    pass
s.close()
PY
settle
sleep 2.5 # events written late; informational only
echo "saw: plain HTTP on the TLS port (not checked): handshake_refused $h1 -> $(ev_count handshake_refused)"
[ $NBAD = "$nb" ] && ok "a wrong key: exactly one handshake_refused event, naming the SIM; a malformed ClientHello: one more"
[ $NBAD = 0 ] || fail "$NBAD connect-and-close checks failed"
echo "connect-and-close: all checks passed"
