#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The SAFE2 host transport (src/device/transport.c), through its driver
# transport_client, against the real ztpd: the seed's configuration byte for
# byte with the BCD identity and CCM, psk_ke where the server allows it,
# 304, telemetry, concurrent jobs, every refusal as the alert OpenSSL sends;
# then against servers that misbehave (openssl s_server fed a canned
# response, TCP listeners that never answer or close at once) and a small
# DNS server, for too_large, transient within the time-out, cancel/free,
# and the DNS cache with its TTL.
. "$(dirname "$0")/lib.sh"

TC=${TRANSPORT_CLIENT:-$BUILD/tests/transport_client}
[ -x "$TC" ] || fail "no transport_client at $TC (set TRANSPORT_CLIENT)"
HELPERS=()
stop_helpers() {
	local rc=$? p
	set +e # (exit $rc) below must not end the trap before cleanup
	for p in "${HELPERS[@]}"; do kill "$p" 2>/dev/null || true; done
	(exit $rc)
	cleanup
}
trap stop_helpers EXIT

# tc ARGS...: run the driver (stderr kept in $T/tc.err); fails the test if it
# does not exit 0 within 30 s
tc() {
	local out
	out=$(timeout 30 "$TC" "$@" 2>>"$T/tc.err") || fail "transport_client $* exited $?: $out"
	printf '%s\n' "$out"
}
outcome() { sed -n 's/^outcome: //p' | head -1; }
info() { grep '^info:' | head -1; }
# field NAME: the value of NAME= on the info line on stdin
field() { info | tr ' ' '\n' | sed -n "s/^$1=//p"; }
seed_args() { echo --port "$DEVICE_PORT" --iccid "$ICCID" --psk "$PSK" --target "$(config_path)"; }

start_ztpd
setup_seed_sim
seed=$(printf '%s' "$SEED_CONFIG" | xxd -p | tr -d '\n')

# ---- the seed's configuration: BCD identity, CCM, psk_dhe_ke
# shellcheck disable=SC2046
out=$(tc $(seed_args))
[[ "$(echo "$out" | outcome)" =~ ^http\ status=200\ etag=(\"1-[0-9a-f]{8}\")\ body_len=${#SEED_CONFIG}$ ]] ||
	fail "expected 200 with an ETag: $out"
etag=${BASH_REMATCH[1]}
got=$(echo "$out" | sed -n 2p | tr -d '\n' | xxd -p | tr -d '\n')
[ "$got" = "$seed" ] || fail "body differs: $got"
[ "$(echo "$out" | field cipher)" = TLS_AES_128_CCM_SHA256 ] || fail "not CCM: $out"
[ "$(echo "$out" | field kex)" = psk_dhe_ke ] || fail "not psk_dhe_ke: $out"
[ "$(echo "$out" | field handshake)" = 1 ] || fail "no PSK handshake: $out"
[ "$(db "SELECT device_id FROM sims WHERE iccid='$ICCID'")" = "$DEVID" ] || fail "Device ID not bound"
ok "BCD identity, TLS_AES_128_CCM_SHA256, psk_dhe_ke: the seed's configuration byte for byte (ETag $etag)"

# shellcheck disable=SC2046
out=$(tc $(seed_args) --gcm)
[ "$(echo "$out" | field cipher)" = TLS_AES_128_GCM_SHA256 ] || fail "--gcm: not GCM: $out"
out=$(tc --port "$DEVICE_PORT" --identity "$ICCID" --psk "$PSK" --target "$(config_path)")
[ "$(echo "$out" | outcome)" = "http status=200 etag=$etag body_len=${#SEED_CONFIG}" ] ||
	fail "ASCII identity: $out"
out=$(tc --host localhost --port "$DEVICE_PORT" --iccid "$ICCID" --psk "$PSK" --target "$(config_path)")
[ "$(echo "$out" | field from)" = local ] || fail "localhost: $out"
ok "GCM when preferred; the ASCII identity; localhost"

# ---- 304 with the ETag received, 200 with a stale one
# shellcheck disable=SC2046
out=$(tc $(seed_args) --if-none-match "$etag")
[ "$(echo "$out" | outcome)" = "http status=304 etag=$etag body_len=0" ] || fail "expected 304: $out"
# shellcheck disable=SC2046
out=$(tc $(seed_args) --if-none-match '"1-00000000"')
[[ "$(echo "$out" | outcome)" =~ ^http\ status=200 ]] || fail "stale ETag: expected 200: $out"
ok "If-None-Match: 304 with the ETag returned, 200 with a stale one"

# ---- telemetry, and both jobs at once
out=$(tc --port "$DEVICE_PORT" --iccid "$ICCID" --psk "$PSK" --post "temp=21.5" \
	--target "/v1/data/$DEVID?iccid=$ICCID_EF")
[ "$(echo "$out" | outcome)" = "http status=204 etag=- body_len=0" ] || fail "POST: expected 204: $out"
[ "$(db "SELECT body FROM telemetry WHERE iccid='$ICCID' ORDER BY id DESC LIMIT 1")" = "temp=21.5" ] ||
	fail "telemetry not stored"
# shellcheck disable=SC2046
out=$(tc $(seed_args) --also-post "door=open" --also-target "/v1/data/$DEVID?iccid=$ICCID_EF")
[ "$(echo "$out" | grep -c '^outcome: http status=200 ')" = 1 ] || fail "concurrent: no 200: $out"
[ "$(echo "$out" | grep -c '^outcome: http status=204 ')" = 1 ] || fail "concurrent: no 204: $out"
grep -q '^info: job=config ' <<<"$out" || fail "concurrent: no config job: $out"
grep -q '^info: job=telemetry ' <<<"$out" || fail "concurrent: no telemetry job: $out"
[ "$(db "SELECT body FROM telemetry WHERE iccid='$ICCID' ORDER BY id DESC LIMIT 1")" = "door=open" ] ||
	fail "concurrent telemetry not stored"
# shellcheck disable=SC2046
out=$(tc $(seed_args) --repeat 2)
[ "$(echo "$out" | grep -c '^outcome: http status=200 ')" = 3 ] ||
	fail "three attempts, each started from the previous callback: $out"
ok "POST telemetry: 204 and stored; config and telemetry concurrently; restart from the callback"

# ---- 255 bytes is the largest body; 409 carries its reason
ok255=$(head -c 255 /dev/zero | tr '\0' 'z')
[ "$(admin PUT "/v1/sims/$ICCID/config" "{\"body\":\"$ok255\"}" | tail -1)" = 201 ] ||
	fail "cannot set a 255-byte configuration"
# shellcheck disable=SC2046
out=$(tc $(seed_args))
[[ "$(echo "$out" | outcome)" =~ ^http\ status=200\ etag=\"2-[0-9a-f]{8}\"\ body_len=255$ ]] ||
	fail "255-byte body: $out"
[ "$(echo "$out" | sed -n 2p)" = "$ok255" ] || fail "255-byte body differs"
out=$(tc --port "$DEVICE_PORT" --iccid "$ICCID" --psk "$PSK" --target "$(config_path AABBCC)")
[[ "$(echo "$out" | outcome)" =~ ^http\ status=409\ etag=-\ body_len=[1-9] ]] ||
	fail "another Device ID: expected 409: $out"
ok "a 255-byte configuration arrives whole; another Device ID gets 409 with its reason"

# ---- refusals: the fatal alert the server sends
# shellcheck disable=SC2046
out=$(tc $(seed_args) --psk-ke)
[ "$(echo "$out" | outcome)" = "alert 40" ] || fail "psk_ke not allowed: expected alert 40: $out"
wrong=$(openssl rand -hex 32)
out=$(tc --port "$DEVICE_PORT" --iccid "$ICCID" --psk "$wrong" --target "$(config_path)")
[[ "$(echo "$out" | outcome)" =~ ^alert\ (47|51)$ ]] || fail "wrong PSK: expected alert 47/51: $out"
wrong_alert=$(echo "$out" | outcome)
out=$(tc --port "$DEVICE_PORT" --iccid 8944502509186389999 --psk "$PSK" --target "$(config_path)")
[[ "$(echo "$out" | outcome)" =~ ^alert\ (40|115)$ ]] || fail "unknown ICCID: expected alert 40/115: $out"
unknown_alert=$(echo "$out" | outcome)
out=$(tc --port "$DEVICE_PORT" --identity not-an-iccid --psk "$PSK" --target "$(config_path)")
[[ "$(echo "$out" | outcome)" =~ ^alert\ [0-9]+$ ]] || fail "malformed identity: expected an alert: $out"
ok "refused: psk_ke when not allowed (alert 40), wrong PSK ($wrong_alert), unknown ICCID ($unknown_alert), malformed identity ($(echo "$out" | outcome))"

# ---- not a device endpoint, nothing listening
out=$(tc --port "$ADMIN_PORT" --iccid "$ICCID" --psk "$PSK" --target "$(config_path)")
[ "$(echo "$out" | outcome)" = transient ] || fail "certificate server: expected transient: $out"
[ "$(echo "$out" | field handshake)" = 0 ] || fail "a certificate was accepted: $out"
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
out=$(tc --port "$closed" --iccid "$ICCID" --psk "$PSK" --target "$(config_path)" --timeout-ms 3000)
[ "$(echo "$out" | outcome)" = transient ] || fail "nothing listening: expected transient: $out"
[ "$(echo "$out" | field ms)" -lt 1000 ] || fail "connection refused took the whole time-out: $out"
ok "a server with a certificate (admin port) and a port with nothing listening: transient"

# ---- requests transport_start refuses (nothing is sent)
bad_start() { # ARGS...
	local out
	out=$(timeout 10 "$TC" --port "$DEVICE_PORT" --iccid "$ICCID" --psk "$PSK" "$@" 2>&1) &&
		fail "transport_client $*: accepted: $out"
	grep -q '^error: transport_start: invalid argument$' <<<"$out" || fail "$*: $out"
}
bad_start --target nope
bad_start --target "/a b"
bad_start --target / --psk 00112233445566778899AABBCCDDEE
bad_start --target / --if-none-match "\"$(head -c 63 /dev/zero | tr '\0' e)\""
bad_start --target / --host bad_host
ok "transport_start refuses a bad target, a 15-byte PSK, a 65-byte ETag, a bad host name"

# ---- psk_ke where the server allows it
stop_ztpd
start_ztpd --allow-psk-ke
# shellcheck disable=SC2046
out=$(tc $(seed_args) --psk-ke)
[[ "$(echo "$out" | outcome)" =~ ^http\ status=200\ etag=\"2-[0-9a-f]{8}\"\ body_len=255$ ]] ||
	fail "psk_ke allowed: expected 200: $out"
[ "$(echo "$out" | field kex)" = psk_ke ] || fail "not psk_ke: $out"
[ "$(echo "$out" | field cipher)" = TLS_AES_128_CCM_SHA256 ] || fail "psk_ke: not CCM: $out"
# shellcheck disable=SC2046
out=$(tc $(seed_args))
[ "$(echo "$out" | field kex)" = psk_dhe_ke ] || fail "without --psk-ke: not psk_dhe_ke: $out"
ok "--allow-psk-ke: psk_ke with CCM, the SIM's way; psk_dhe_ke otherwise"

# ---- servers that misbehave: openssl s_server (TLS 1.3, the PSK, the ASCII
# identity) sends a canned answer as soon as a client is connected
wait_listen() {
	for _ in $(seq 1 100); do
		[ -n "$(ss -ltnH "sport = :$1" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	fail "nothing listens on port $1"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# canned FORMAT [ARGS...]: the answer is printf FORMAT ARGS; sets CANNED_PORT
canned() {
	CANNED_PORT=$(free_port)
	# shellcheck disable=SC2059
	( printf "$@"; sleep 5 ) 2>/dev/null | timeout 20 openssl s_server -tls1_3 -psk "$PSK" -psk_identity "$ICCID" \
		-nocert -naccept 1 -accept "127.0.0.1:$CANNED_PORT" -quiet >"$T/s_server.$CANNED_PORT" 2>&1 &
	HELPERS+=($!)
	wait_listen "$CANNED_PORT"
}
canned_client() { tc --port "$CANNED_PORT" --identity "$ICCID" --psk "$PSK" --target /v1/x "$@"; }

# the request as sent (s_server prints what it receives)
canned 'HTTP/1.1 204 No Content\r\n\r\n'
out=$(tc --port "$CANNED_PORT" --identity "$ICCID" --psk "$PSK" --target "/v1/data/AB?iccid=$ICCID_EF" \
	--post "temp=21.5" --if-none-match '"1-0a0b0c0d"')
[ "$(echo "$out" | outcome)" = "http status=204 etag=- body_len=0" ] || fail "canned 204: $out"
for _ in $(seq 1 50); do grep -q 'temp=21.5' "$T/s_server.$CANNED_PORT" && break; sleep 0.05; done
expected=$(printf 'POST /v1/data/AB?iccid=%s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\nIf-None-Match: "1-0a0b0c0d"\r\nContent-Length: 9\r\n\r\ntemp=21.5' \
	"$ICCID_EF" "$CANNED_PORT" | xxd -p | tr -d '\n')
got=$(head -c $((${#expected} / 2)) "$T/s_server.$CANNED_PORT" | xxd -p | tr -d '\n')
[ "$got" = "$expected" ] || fail "request on the wire: $(head -c 300 "$T/s_server.$CANNED_PORT")"
ok "the request on the wire: request line, Host with the port, Connection: close, If-None-Match, Content-Length, body"

big=$(head -c 300 /dev/zero | tr '\0' 'x')
canned 'HTTP/1.1 200 OK\r\nContent-Length: 300\r\nConnection: close\r\n\r\n%s' "$big"
out=$(canned_client)
[ "$(echo "$out" | outcome)" = too_large ] || fail "Content-Length 300: $out"
canned 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n12c\r\n%s\r\n0\r\n\r\n' "$big"
out=$(canned_client)
[ "$(echo "$out" | outcome)" = too_large ] || fail "chunked 300: $out"
canned 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n%s' "$big"
out=$(canned_client)
[ "$(echo "$out" | outcome)" = too_large ] || fail "300 bytes until close: $out"
canned 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'
out=$(canned_client)
[ "$(echo "$out" | outcome)" = "http status=200 etag=- body_len=5" ] || fail "chunked 5 bytes: $out"
ok "a body over 255 bytes is too_large: announced, chunked, or until close"

canned 'SSH-2.0-OpenSSH_9.2\r\n\r\n'
out=$(canned_client)
[ "$(echo "$out" | outcome)" = transient ] || fail "not HTTP: $out"
canned 'HTTP/1.1 200 OK\r\nX-Big: %s\r\nContent-Length: 2\r\n\r\nhi' "$(head -c 5000 /dev/zero | tr '\0' 'h')"
out=$(canned_client)
[ "$(echo "$out" | outcome)" = transient ] || fail "5000-byte header: $out"
canned 'HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nhi'
out=$(canned_client)
[ "$(echo "$out" | outcome)" = transient ] || fail "malformed Content-Length: $out"
long=$(head -c 63 /dev/zero | tr '\0' 'e')
canned 'HTTP/1.1 200 OK\r\nETag: "%s"\r\nContent-Length: 2\r\n\r\nhi' "$long"
out=$(canned_client)
[ "$(echo "$out" | outcome)" = "http status=200 etag=- body_len=2" ] || fail "65-byte ETag kept: $out"
canned 'HTTP/1.1 200 OK\r\nETag: "%s"\r\nContent-Length: 2\r\n\r\nhi' "${long:1}"
out=$(canned_client)
[ "$(echo "$out" | outcome)" = "http status=200 etag=\"${long:1}\" body_len=2" ] || fail "64-byte ETag: $out"
canned 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy'
out=$(canned_client)
[ "$(echo "$out" | outcome)" = "http status=503 etag=- body_len=4" ] || fail "503: $out"
ok "not HTTP, headers over 4 KiB, a bad Content-Length: transient; ETag up to 64 bytes; 503 reported as is"

canned ''
out=$(canned_client --timeout-ms 1000)
[ "$(echo "$out" | outcome)" = transient ] || fail "silent TLS server: $out"
[ "$(echo "$out" | field handshake)" = 1 ] || fail "silent TLS server: no handshake: $out"
ms=$(echo "$out" | field ms)
if [ "$ms" -lt 950 ] || [ "$ms" -ge 2000 ]; then
	fail "silent TLS server: not ended by the 1 s time-out: $out"
fi
ok "a server that completes the handshake and never answers: transient after the time-out ($ms ms)"

# ---- TCP listeners: one never answers, one closes at once
cat >"$T/listener.py" <<'EOF'
import os, socket, sys
mode, port_file = sys.argv[1], sys.argv[2]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(port_file + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
held = []
while True:
    c, _ = s.accept()
    if mode == "close":
        c.close()
    else:
        held.append(c)
EOF
listener() { # MODE: starts it, sets LPORT
	rm -f "$T/lport"
	python3 "$T/listener.py" "$1" "$T/lport" &
	HELPERS+=($!)
	for _ in $(seq 1 100); do [ -s "$T/lport" ] && break; sleep 0.05; done
	LPORT=$(cat "$T/lport")
}
listener hold
start_ns=$(date +%s%N)
out=$(tc --port "$LPORT" --iccid "$ICCID" --psk "$PSK" --target / --timeout-ms 1000)
took=$((($(date +%s%N) - start_ns) / 1000000))
[ "$(echo "$out" | outcome)" = transient ] || fail "silent TCP server: $out"
ms=$(echo "$out" | field ms)
if [ "$ms" -lt 950 ] || [ "$ms" -ge 2000 ] || [ "$took" -ge 5000 ]; then
	fail "silent TCP server: not ended by the time-out ($took ms): $out"
fi
out=$(tc --port "$LPORT" --iccid "$ICCID" --psk "$PSK" --target / --timeout-ms 5000 --cancel-after-ms 200)
[ "$out" = cancelled ] || fail "cancel: $out"
out=$(tc --port "$LPORT" --iccid "$ICCID" --psk "$PSK" --target / --timeout-ms 5000 --free-after-ms 200 \
	--also-post x --also-target /t)
[ "$out" = freed ] || fail "free with two jobs in flight: $out"
out=$(tc --port "$LPORT" --iccid "$ICCID" --psk "$PSK" --target / --timeout-ms 300 --free-in-callback \
	--also-post x --also-target /t)
if [ "$(echo "$out" | grep -c '^outcome: transient$')" != 1 ] || [ "$(echo "$out" | tail -1)" != freed ]; then
	fail "free from the callback with the other job in flight: $out"
fi
listener close
out=$(tc --port "$LPORT" --iccid "$ICCID" --psk "$PSK" --target / --timeout-ms 3000)
[ "$(echo "$out" | outcome)" = transient ] || fail "server closing at once: $out"
ok "a TCP server that never answers: transient after the 1 s time-out ($ms ms); cancel, free, free from the callback: no other callback, the loop ends; closed at once: transient"

# ---- names: a small DNS server answering ztp.test with 127.0.0.1
cat >"$T/dns.py" <<'EOF'
import os, socket, struct, sys
port_file, log_file, ttl = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(port_file + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
while True:
    q, peer = s.recvfrom(512)
    if len(q) < 17:
        continue
    qid = struct.unpack(">H", q[:2])[0]
    off, labels = 12, []
    while off < len(q) and q[off] != 0:
        n = q[off]
        labels.append(q[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    off += 1
    if off + 4 > len(q):
        continue
    qtype = struct.unpack(">H", q[off:off + 2])[0]
    question = q[12:off + 4]  # echoed as sent: evdns randomizes the case
    name = ".".join(labels).lower()
    with open(log_file, "a") as f:
        f.write(name + "\n")
    if name == "ztp.test" and qtype == 1:
        hdr = struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0)
        ans = struct.pack(">HHHIH", 0xC00C, 1, 1, ttl, 4) + socket.inet_aton("127.0.0.1")
    else:
        hdr = struct.pack(">HHHHHH", qid, 0x8183, 1, 0, 0, 0)
        ans = b""
    s.sendto(hdr + question + ans, peer)
EOF
dns_server() { # TTL: starts it, sets NS (ip:port), queries logged in $T/dns.log
	rm -f "$T/dport" "$T/dns.log"
	python3 "$T/dns.py" "$T/dport" "$T/dns.log" "$1" &
	HELPERS+=($!)
	for _ in $(seq 1 100); do [ -s "$T/dport" ] && break; sleep 0.05; done
	NS=127.0.0.1:$(cat "$T/dport")
}
queries() { [ -f "$T/dns.log" ] && wc -l <"$T/dns.log" || echo 0; }
froms() { grep '^info:' | tr ' ' '\n' | sed -n 's/^from=//p' | tr '\n' ' '; }
name_args() { echo --host ztp.test --port "$DEVICE_PORT" --iccid "$ICCID" --psk "$PSK" --target "$(config_path)" --nameserver "$NS"; }

dns_server 300
# shellcheck disable=SC2046
out=$(tc $(name_args) --repeat 2)
[ "$(echo "$out" | grep -c '^outcome: http status=200 ')" = 3 ] || fail "ztp.test: $out"
[ "$(echo "$out" | froms)" = "dns cache cache " ] || fail "TTL 300: expected dns, cache, cache: $out"
[ "$(queries)" = 1 ] || fail "TTL 300: $(queries) DNS queries for 3 attempts"
ok "a name is resolved with evdns once and the address cached for its TTL (1 query, 3 attempts)"

dns_server 1
# shellcheck disable=SC2046
out=$(tc $(name_args) --repeat 1 --repeat-delay-ms 1500)
[ "$(echo "$out" | froms)" = "dns dns " ] || fail "TTL 1: expected dns twice: $out"
[ "$(queries)" = 2 ] || fail "TTL 1: $(queries) DNS queries for 2 attempts 1.5 s apart"
dns_server 0
# shellcheck disable=SC2046
out=$(tc $(name_args) --repeat 1 --dns-ttl-fallback 0)
[ "$(echo "$out" | froms)" = "dns dns " ] || fail "TTL 0, no fallback: expected dns twice: $out"
# shellcheck disable=SC2046
out=$(tc $(name_args) --repeat 1)
[ "$(echo "$out" | froms)" = "dns cache " ] || fail "TTL 0, fallback 60 s: expected dns, cache: $out"
ok "the address expires with its TTL; a TTL of 0 is kept for the fallback time, or not at all"

out=$(tc --host nowhere.test --port "$DEVICE_PORT" --iccid "$ICCID" --psk "$PSK" --target / --nameserver "$NS")
[ "$(echo "$out" | outcome)" = transient ] || fail "NXDOMAIN: $out"
[ "$(echo "$out" | field from)" = none ] || fail "NXDOMAIN: resolved: $out"
out=$(tc --host ztp.test --port "$DEVICE_PORT" --iccid "$ICCID" --psk "$PSK" --target / \
	--nameserver "127.0.0.1:$(free_port)" --timeout-ms 1000)
[ "$(echo "$out" | outcome)" = transient ] || fail "no DNS server: $out"
[ "$(echo "$out" | field ms)" -lt 2000 ] || fail "no DNS server: not bounded by the time-out: $out"
out=$(tc --host ztp.test --port "$DEVICE_PORT" --iccid "$ICCID" --psk "$PSK" --target / \
	--nameserver "127.0.0.1:$(free_port)" --timeout-ms 5000 --cancel-after-ms 100)
[ "$out" = cancelled ] || fail "cancel while resolving: $out"
ok "an unknown name and a DNS server that does not answer: transient within the time-out; cancel while resolving"

[ "$NFAIL" = 0 ]
