#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Proxy mode (docs/proxy.md): device requests of a SIM whose group names an
# upstream go to the customer's own server (tests/integration/upstream.py,
# started here) after ztpd authenticated the SIM and checked its Device-ID
# binding and blocks. The upstream gets ZTP-ICCID, ZTP-Device-ID and
# ZTP-PSK-Generation (never the device's own); the SIM gets the body byte
# for byte, through ztp-sim's applet too; upstream down, slow, oversized
# (the applet's FF02) and 5xx; HTTPS with a CA file and a client
# certificate; a group set to "off" and the server's default; bad settings
# refused through the API and ztpctl.
. "$(dirname "$0")/lib.sh"
SIM_MODE=default
. "$(dirname "$0")/lib_sim.sh"
. "$(dirname "$0")/lib_ztpctl.sh"

UP_PIDS=()
up_cleanup() {
	local rc=$? p
	set +e # (exit $rc) below must not end the trap before sim_cleanup
	for p in "${UP_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	(exit $rc)
	sim_cleanup
}
trap up_cleanup EXIT

# start_upstream NAME [upstream.py options]: an upstream with its own directory
# $T/NAME; sets UP_PORT and UP_PID
start_upstream() {
	local name=$1
	shift
	mkdir -p "$T/$name"
	: >"$T/$name/port"
	python3 "$SRC/tests/integration/upstream.py" --dir "$T/$name" "$@" >"$T/$name/port" \
		2>"$T/$name/err" &
	UP_PID=$!
	UP_PIDS+=("$UP_PID")
	for _ in $(seq 1 100); do
		[ -s "$T/$name/port" ] && break
		kill -0 "$UP_PID" 2>/dev/null || fail "upstream $name exited at start: $(cat "$T/$name/err")"
		sleep 0.05
	done
	UP_PORT=$(head -1 "$T/$name/port")
	[[ "$UP_PORT" =~ ^[0-9]+$ ]] || fail "upstream $name printed no port"
}
# answer NAME JSON: what upstream NAME answers from now on
answer() { printf '%s\n' "$2" >"$T/$1/answer.json"; }
# nreq NAME: requests upstream NAME received
nreq() { if [ -f "$T/$1/requests.jsonl" ]; then wc -l <"$T/$1/requests.jsonl"; else echo 0; fi; }
# last_req NAME FILTER: jq -r FILTER of the last request upstream NAME received
last_req() {
	[ -s "$T/$1/requests.jsonl" ] || fail "upstream $1 received nothing"
	tail -1 "$T/$1/requests.jsonl" | jq -r "$2"
}
# hdr NAME HEADER: the value(s) of HEADER (any case) in the last request of NAME
hdr() { last_req "$1" "[.headers[] | select(.[0] | ascii_downcase == (\"$2\" | ascii_downcase)) | .[1]] | join(\",\")"; }
# dev METHOD PATH [extra header lines] [body]: a device request over TLS-PSK as the seed's SIM
dev() {
	request "$@" >"$T/req"
	"$PSK_CLIENT" --port "$DEVICE_PORT" --identity "${S_ID:-$ICCID}" --psk "${S_PSK:-$PSK}" \
		--suite ccm --request-file "$T/req" 2>"$T/dev.err" || fail "psk_client: $(cat "$T/dev.err")"
}
ztpctl() { "$ZTPCTL" "$@"; }
header_of() { tr -d '\r' | sed -n "s/^$1: //Ip" | head -1; }

start_upstream a
UP_A=$UP_PORT
# one worker: its pool of upstream connections is the one every request uses
start_ztpd --allow-psk-ke --upstream-timeout 2 --workers 1
ADMIN_TOKEN=$(admin_token)
export ADMIN_TOKEN

# ---- a group with an upstream; the SIM in it
r=$(admin POST /v1/groups "{\"name\":\"fleet\",\"upstream\":\"http://127.0.0.1:$UP_A/base/\"}")
[ "$(tail -1 <<<"$r")" = 201 ] || fail "cannot create a proxied group: $r"
[ "$(head -1 <<<"$r" | jq -r .upstream)" = "http://127.0.0.1:$UP_A/base/" ] || fail "group answer: $r"
[ "$(admin POST /v1/sims "{\"iccid\":\"$ICCID\",\"psk\":\"$PSK\",\"group\":\"fleet\"}" | tail -1)" = 201 ] ||
	fail "cannot create the SIM"
ok "group fleet forwards to http://127.0.0.1:$UP_A/base/"

BODY='{"configuration":{"version":"upstream-1","config":[{"action":"iot:Alarm","effect":"On"}]}}'
answer a "$(jq -nc --arg b "$BODY" '{status: 200, body: $b, headers: {ETag: "\"u1\"", "Content-Type": "application/json"}}')"
out=$(dev GET "$(config_path)" $'ZTP-ICCID: 8944502509186389999\r\nztp-device-id: 00\r\nZTP-PSK-Generation: 9\r\n')
[ "$(status_of <<<"$out")" = 200 ] || fail "proxied GET: $out"
[ "$(printf '%s' "$out" | body_of | xxd -p | tr -d '\n')" = "$(printf '%s' "$BODY" | xxd -p | tr -d '\n')" ] ||
	fail "the body differs from the upstream's: $out"
[ "$(header_of ETag <<<"$out")" = '"u1"' ] || fail "ETag not passed on: $out"
[ "$(header_of Content-Type <<<"$out")" = application/json ] || fail "Content-Type not passed on"
[ "$(last_req a .method)" = GET ] || fail "upstream: not a GET"
[ "$(last_req a .path)" = "/base$(config_path)" ] || fail "upstream path: $(last_req a .path)"
[ "$(hdr a ZTP-ICCID)" = "$ICCID" ] || fail "upstream ZTP-ICCID: '$(hdr a ZTP-ICCID)'"
[ "$(hdr a ZTP-Device-ID)" = "$DEVID" ] || fail "upstream ZTP-Device-ID: '$(hdr a ZTP-Device-ID)'"
[ "$(hdr a ZTP-PSK-Generation)" = 0 ] || fail "upstream ZTP-PSK-Generation: '$(hdr a ZTP-PSK-Generation)'"
[ "$(hdr a Host)" = "127.0.0.1:$UP_A" ] || fail "upstream Host: $(hdr a Host)"
grep -q 8944502509186389999 "$T/a/requests.jsonl" && fail "the device's spoofed ZTP-ICCID reached the upstream"
[ "$(db "SELECT device_id FROM sims WHERE iccid='$ICCID'")" = "$DEVID" ] || fail "the Device ID was not bound"
[ "$(db "SELECT count(*) FROM configs")" = 0 ] || fail "a proxied configuration was stored"
ok "GET: the upstream's body byte for byte with its ETag; identity headers set by ztpd, the device's ZTP-* dropped"

answer a '{"status": 304, "headers": {"ETag": "\"u1\""}}'
out=$(dev GET "$(config_path)" $'If-None-Match: "u1"\r\n')
[ "$(status_of <<<"$out")" = 304 ] || fail "If-None-Match: expected the upstream's 304: $out"
[ "$(hdr a If-None-Match)" = '"u1"' ] || fail "If-None-Match not forwarded: $(hdr a If-None-Match)"
answer a '{"status": 204}'
out=$(dev POST "/v1/data/$DEVID?iccid=$ICCID_EF" $'Content-Type: text/plain\r\n' "temp=21.5")
[ "$(status_of <<<"$out")" = 204 ] || fail "proxied telemetry: $out"
[ "$(last_req a .method) $(last_req a .body)" = "POST $(printf temp=21.5 | xxd -p)" ] ||
	fail "telemetry did not reach the upstream: $(tail -1 "$T/a/requests.jsonl")"
[ "$(hdr a Content-Type)" = text/plain ] || fail "telemetry Content-Type: $(hdr a Content-Type)"
[ "$(db "SELECT count(*) FROM telemetry")" = 0 ] || fail "proxied telemetry was stored here"
answer a '{"status": 200, "body": "{\"cli\":\"c1\",\"usr\":\"u1\",\"pwd\":\"from-upstream\"}"}'
out=$(dev POST "/v1/dev/$DEVID?iccid=$ICCID_EF")
[ "$(printf '%s' "$out" | body_of | jq -r .pwd)" = from-upstream ] || fail "registration: $out"
answer a '{"status": 404, "body": "no such device"}'
out=$(dev GET "$(config_path)")
[ "$(status_of <<<"$out")" = 404 ] || fail "the upstream's 404 was not passed on: $out"
ok "304 with If-None-Match, telemetry POST (body, Content-Type, not stored here), registration, a 4xx passed on"

# ---- checks before forwarding: nothing reaches the upstream
n=$(nreq a)
out=$(dev GET "$(config_path 0123456789ABCDEF)")
[ "$(status_of <<<"$out")" = 409 ] || fail "another Device ID: expected 409: $out"
out=$(dev GET "/v1/config/$DEVID?iccid=984405529081369836F6")
[ "$(status_of <<<"$out")" = 403 ] || fail "another ICCID in the query: expected 403: $out"
[ "$(admin POST "/v1/sims/$ICCID/block" '{}' | tail -1)" = 200 ] || fail "cannot block"
out=$(dev GET "$(config_path)")
[ "$(status_of <<<"$out")" = 403 ] || fail "blocked SIM: expected 403: $out"
[ "$(admin POST "/v1/sims/$ICCID/unblock" '{}' | tail -1)" = 200 ] || fail "cannot unblock"
[ "$(nreq a)" = "$n" ] || fail "a refused request reached the upstream"
out=$(S_PSK=${PSK/00/FF} "$PSK_CLIENT" --port "$DEVICE_PORT" --identity "$ICCID" --psk "${PSK/00/FF}" \
	--suite ccm --request-file "$T/req" 2>&1) && fail "a wrong PSK completed a handshake"
[ "$(nreq a)" = "$n" ] || fail "a wrong key reached the upstream"
ok "wrong PSK, other Device ID (409), other ICCID (403), blocked SIM (403): the upstream sees nothing"

# ---- the upstream failing
ev=$(ev_count upstream_error)
answer a '{"status": 503, "body": "down for maintenance"}'
out=$(dev GET "$(config_path)")
[ "$(status_of <<<"$out")" = 502 ] || fail "upstream 503: expected 502: $out"
expect_new_event upstream_error "$ev"
db "SELECT detail FROM events WHERE kind='upstream_error' ORDER BY id DESC LIMIT 1" | grep -q 'answered 503' ||
	fail "event detail: $(db "SELECT detail FROM events ORDER BY id DESC LIMIT 1")"
answer a '{"status": 302, "headers": {"Location": "http://elsewhere/"}}'
[ "$(dev GET "$(config_path)" | status_of)" = 502 ] || fail "upstream redirect: expected 502"
answer a '{"status": 200, "body_len": 256}'
out=$(dev GET "$(config_path)")
[ "$(status_of <<<"$out")" = 502 ] || fail "256-byte body: expected 502: $out"
[ "$(header_of ZTP-Error <<<"$out")" = body-too-large ] || fail "no ZTP-Error: body-too-large: $out"
db "SELECT detail FROM events WHERE kind='upstream_error' ORDER BY id DESC LIMIT 1" | grep -q 'of 256 bytes, over 255' ||
	fail "event detail: $(db "SELECT detail FROM events ORDER BY id DESC LIMIT 1")"
answer a '{"status": 200, "body_len": 255}'
out=$(dev GET "$(config_path)")
[ "$(printf '%s' "$out" | body_of | wc -c)" = 255 ] || fail "a 255-byte body was not passed on"
answer a '{"status": 200, "body_len": 300, "chunked": true}'
out=$(dev GET "$(config_path)")
[ "$(header_of ZTP-Error <<<"$out")" = body-too-large ] || fail "a chunked body of 300 bytes: $out"
answer a '{"status": 200, "body_len": 250, "chunked": true}'
[ "$(dev GET "$(config_path)" | body_of | wc -c)" = 250 ] || fail "a chunked body of 250 bytes was not passed on"
answer a '{"raw": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"}'
out=$(dev GET "$(config_path)")
[ "$(status_of <<<"$out")" = 502 ] && [ -z "$(header_of ZTP-Error <<<"$out")" ] ||
	fail "a malformed chunked answer: expected a plain 502 (the SIM retries), got $out"
answer a '{"status": 200, "body": "late", "delay": 4}'
ev=$(ev_count upstream_error)
out=$(dev GET "$(config_path)")
[ "$(status_of <<<"$out")" = 504 ] || fail "slow upstream: expected 504: $out"
expect_new_event upstream_error "$ev"
ok "upstream 503 and 302: 502; a body of 256 bytes (or chunked 300): 502 + ZTP-Error (255 passes); a malformed chunked answer: plain 502; slow: 504; each an event"

# ---- the path the upstream gets is rebuilt by ztpd: nothing of the SIM's own bytes
answer a '{"status": 200, "body": "canonical"}'
lower=$(tr 'A-F' 'a-f' <<<"$DEVID")
printf 'GET /v1/config/%s?iccid=%s&x=1 HTTP/1.1\rZTP-ICCID: 8944502509186389999\rX: y HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n' \
	"$lower" "$(tr 'A-F' 'a-f' <<<"$ICCID_EF")" >"$T/req"
"$PSK_CLIENT" --port "$DEVICE_PORT" --identity "$ICCID" --psk "$PSK" --suite ccm --request-file "$T/req" \
	>"$T/out" 2>/dev/null || fail "psk_client"
[ "$(status_of <"$T/out")" = 400 ] || fail "a request line with bare CRs: $(cat "$T/out")"
grep -q 8944502509186389999 "$T/a/requests.jsonl" && fail "a ZTP-ICCID hidden in the request line reached the upstream"
ok "a request line with bare CRs: 400 before anything is forwarded (parsers disagree on a bare CR)"
printf 'GET /v1/config/%s?iccid=%s&x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n' \
	"$lower" "$(tr 'A-F' 'a-f' <<<"$ICCID_EF")" >"$T/req"
"$PSK_CLIENT" --port "$DEVICE_PORT" --identity "$ICCID" --psk "$PSK" --suite ccm --request-file "$T/req" \
	>"$T/out" 2>/dev/null || fail "psk_client"
[ "$(body_of <"$T/out")" = canonical ] || fail "extra parameters, lower-case hex: $(cat "$T/out")"
[ "$(last_req a .path)" = "/base$(config_path)" ] || fail "the upstream got the SIM's bytes: $(last_req a .path)"
ok "extra parameters and lower-case hex: the upstream gets /base/v1/config/<DEVID>?iccid=<EF> only"

# ---- the device hangs up while its request is upstream: ztpd drops the answer and goes on
answer a '{"status": 200, "body": "too late", "delay": 1.2}'
request GET "$(config_path)" >"$T/req"
for _ in 1 2 3; do
	timeout 0.4 "$PSK_CLIENT" --port "$DEVICE_PORT" --identity "$ICCID" --psk "$PSK" --suite ccm \
		--request-file "$T/req" >/dev/null 2>&1 && fail "psk_client was not cut off"
done
answer a '{"status": 200, "body": "still here", "delay": 3}'
timeout 0.4 "$PSK_CLIENT" --port "$DEVICE_PORT" --identity "$ICCID" --psk "$PSK" --suite ccm \
	--request-file "$T/req" >/dev/null 2>&1 && fail "psk_client was not cut off"
sleep 3.5 # past the upstream's answers and the 2 s deadline of the last one
answer a '{"status": 200, "body": "still here"}'
[ "$(dev GET "$(config_path)" | body_of)" = "still here" ] || fail "ztpd after devices hung up"
kill -0 "$ZTPD_PID" || fail "ztpd died"
ok "devices that hang up while the upstream answers (and past the deadline): ztpd goes on"

# ---- ztp-sim's applet through the proxy: the body, and FF02 for a body too large
answer a "$(jq -nc --arg b "$BODY" '{status: 200, body: $b, headers: {ETag: "\"u2\""}}')"
write_sim_file
start_sim --psk-ke
expect_at ATE0 'ATE0\r\r\nOK\r\n'
card 0070000001 >/dev/null
expect_card 01A4040C0CF0706F646773616665320101 9000
expect_card "01DA02C010$DEVID" 9000
card 01CA000000 >/dev/null
poll_config
expect_card 01CA010000 "$(hexof "$BODY")9000"
answer a '{"status": 200, "body_len": 400}'
card 01CA000000 >/dev/null
for _ in $(seq 1 100); do
	s=$(card 01CC020000)
	[ "$s" = 000100009000 ] || break
	sleep 0.1
done
[ "$s" = 000FFF029000 ] || fail "ztp-sim: a body over 255 bytes upstream: expected state 000F result FF02, got $s"
expect_card 0070800100 9000
stop_sim
ok "ztp-sim (psk_ke, CCM): the upstream's body through the applet (+CSIM GET DATA 0100); a body too large upstream fails FF02"

# ---- upstream down; the GET tried again on a connection the upstream closed
answer a '{"status": 200, "body": "after idle"}'
kill "$UP_PID"
wait "$UP_PID" 2>/dev/null || true
ev=$(ev_count upstream_error)
out=$(dev GET "$(config_path)")
[ "$(status_of <<<"$out")" = 502 ] || fail "upstream down: expected 502: $out"
expect_new_event upstream_error "$ev"
db "SELECT detail FROM events WHERE kind='upstream_error' ORDER BY id DESC LIMIT 1" | grep -q 'cannot connect' ||
	fail "event detail: $(db "SELECT detail FROM events ORDER BY id DESC LIMIT 1")"
start_upstream b --idle 1.5
UP_B=$UP_PORT
r=$(admin PUT /v1/groups/fleet/upstream "{\"upstream\":\"http://127.0.0.1:$UP_PORT\"}")
[ "$(tail -1 <<<"$r")" = 200 ] || fail "cannot change the group's upstream: $r"
answer b '{"status": 200, "body": "b"}'
for i in 1 2 3; do
	[ "$(dev GET "$(config_path)" | body_of)" = b ] || fail "GET $i after the upstream closed an idle connection"
	sleep 1.8
done
[ "$(last_req b .path)" = "$(config_path)" ] || fail "an upstream without a path gets the device's path: $(last_req b .path)"
ok "upstream down: 502 + event (cannot connect); a new upstream; GETs after it closed idle connections"

# a kept-alive connection that the upstream closes as a request arrives: the GET
# is sent again on a new connection, a POST is not (it may have been received)
answer b '{"status": 200, "body": "b"}'
[ "$(dev GET "$(config_path)" | body_of)" = b ] || fail "GET before the drop test"
answer b '{"status": 200, "body": "b2", "drop_reused": true}'
n=$(nreq b)
[ "$(dev GET "$(config_path)" | body_of)" = b2 ] || fail "GET on a connection the upstream dropped: not tried again"
[ "$(tail -n +$((n + 1)) "$T/b/requests.jsonl" | jq -s 'map(select(.dropped)) | length')" = 1 ] ||
	fail "the GET was not dropped once then sent again: $(tail -n +$((n + 1)) "$T/b/requests.jsonl")"
answer b '{"status": 200, "body": "b"}'
[ "$(dev GET "$(config_path)" | body_of)" = b ] || fail "GET before the POST drop test"
answer b '{"status": 204, "drop_reused": true}'
n=$(nreq b)
[ "$(dev POST "/v1/data/$DEVID?iccid=$ICCID_EF" "" "t=1" | status_of)" = 502 ] ||
	fail "POST on a connection the upstream dropped: expected 502"
[ "$(nreq b)" = $((n + 1)) ] || fail "a POST was sent to the upstream more than once"
answer b '{"status": 200, "body": "b"}'
ok "a GET the upstream dropped on a kept-alive connection is sent again (200); a POST is not (502, received once)"

# ---- "off", the server's default, and ztpctl
ztpctl group upstream fleet off >/dev/null || fail "ztpctl group upstream fleet off"
[ "$(admin PUT "/v1/sims/$ICCID/config" "$(jq -nc --arg b "$SEED_CONFIG" '{body:$b}')" | tail -1)" = 201 ] ||
	fail "cannot set a configuration"
n=$(nreq b)
[ "$(dev GET "$(config_path)" | body_of)" = "$SEED_CONFIG" ] || fail "group off: not answered from the store"
[ "$(nreq b)" = "$n" ] || fail "group off: the upstream was asked"
ztpctl group upstream fleet default >/dev/null || fail "ztpctl group upstream fleet default"
[ "$(ztpctl --json group show fleet | jq -r .upstream)" = null ] || fail "default: upstream not null"
[ "$(dev GET "$(config_path)" | body_of)" = "$SEED_CONFIG" ] || fail "no default upstream: not from the store"
stop_ztpd
start_ztpd --allow-psk-ke --upstream "http://127.0.0.1:$UP_PORT/dflt" --workers 1
ADMIN_TOKEN=$(admin_token)
[ "$(dev GET "$(config_path)" | body_of)" = b ] || fail "the server's --upstream was not used"
[ "$(last_req b .path)" = "/dflt$(config_path)" ] || fail "default upstream path: $(last_req b .path)"
ok "group upstream off: from the store; default: the server's --upstream (or the store without one)"

for bad in '{"upstream":"ftp://127.0.0.1/"}' '{"upstream":"http://127.0.0.1:/x"}' \
	'{"upstream":"http://u:p@127.0.0.1/"}' '{"upstream":"http://127.0.0.1/x?q=1"}' \
	'{"upstream":"http://127.0.0.1/","upstream_ca":"/etc/ssl/certs/ca-certificates.crt"}' \
	'{"upstream":"https://127.0.0.1/","upstream_cert":"/x.pem"}' \
	'{"upstream":"https://127.0.0.1/","upstream_ca":"relative.pem"}' \
	'{"upstream":"https://127.0.0.1/","upstream_ca":"/nonexistent/ca.pem"}' '{"upstream":5}' \
	'{"upstream":"http://127.0.0.1/","other":1}'; do
	r=$(admin PUT /v1/groups/fleet/upstream "$bad")
	[ "$(tail -1 <<<"$r")" = 400 ] || fail "$bad: expected 400, got $r"
done
[ "$(admin PUT /v1/groups/nosuch/upstream '{"upstream":"off"}' | tail -1)" = 404 ] || fail "no such group: not 404"
[ "$(ztpctl --json group show fleet | jq -r .upstream)" = null ] || fail "a refused setting changed the group"
[ "$(admin POST /v1/groups '{"name":"g2","upstream":"gopher://x/"}' | tail -1)" = 400 ] || fail "create: bad upstream"
[ "$(admin GET /v1/groups/g2 | tail -1)" = 404 ] || fail "a refused group was created"
ztpctl group upstream fleet ftp://x/ >/dev/null 2>&1 && fail "ztpctl took ftp://"
ztpctl group upstream fleet https://x/ --upstream-cert /x.pem >/dev/null 2>&1 && fail "ztpctl: a certificate without its key"
ztpctl group create g3 --upstream "http://127.0.0.1:$UP_PORT/g3" >/dev/null || fail "ztpctl group create --upstream"
[ "$(ztpctl --json group show g3 | jq -r .upstream)" = "http://127.0.0.1:$UP_PORT/g3" ] || fail "group g3: upstream not set"
"$ZTPD" --data "$T/d2" --upstream ftp://x/ >/dev/null 2>&1 && fail "ztpd started with --upstream ftp://"
ok "refused with 400 and nothing changed: other schemes, empty port, user, query, CA without https, cert without key, relative and missing files, unknown members; ztpd --upstream ftp:// refuses to start"

# ---- HTTPS: the upstream's certificate checked against a CA file, our client certificate
P=$T/pki
mkdir -p "$P"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/ca.key" -out "$P/ca.pem" \
	-days 2 -subj /CN=upstream-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/srv.key" -out "$P/srv.csr" \
	-subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$P/srv.ext"
openssl x509 -req -in "$P/srv.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -days 2 \
	-extfile "$P/srv.ext" -out "$P/srv.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/cli.key" -out "$P/cli.csr" \
	-subj /CN=ztpd 2>/dev/null
openssl x509 -req -in "$P/cli.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -days 2 \
	-out "$P/cli.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/other.key" \
	-out "$P/other.pem" -days 2 -subj /CN=other 2>/dev/null
chmod 600 "$P"/*.key
# started as root, ztpd's front runs as ztp and reads the client key when it connects
if [ "$(id -u)" = 0 ] && id ztp >/dev/null 2>&1; then chown ztp "$P/cli.key"; fi
start_upstream s --tls "$P/srv.pem" "$P/srv.key" --client-ca "$P/ca.pem"
answer s '{"status": 200, "body": "over https"}'
ztpctl group upstream fleet "https://127.0.0.1:$UP_PORT/s" --upstream-ca "$P/ca.pem" \
	--upstream-cert "$P/cli.pem" --upstream-key "$P/cli.key" >/dev/null || fail "ztpctl group upstream https"
[ "$(dev GET "$(config_path)" | body_of)" = "over https" ] || fail "https upstream with a client certificate"
[ "$(hdr s ZTP-ICCID)" = "$ICCID" ] || fail "https upstream: ZTP-ICCID"
ztpctl group upstream fleet "https://127.0.0.1:$UP_PORT/s" --upstream-ca "$P/other.pem" \
	--upstream-cert "$P/cli.pem" --upstream-key "$P/cli.key" >/dev/null || fail "ztpctl: other CA"
ev=$(ev_count upstream_error)
n=$(nreq s)
[ "$(dev GET "$(config_path)" | status_of)" = 502 ] || fail "an upstream certificate from another CA was accepted"
expect_new_event upstream_error "$ev"
db "SELECT detail FROM events WHERE kind='upstream_error' ORDER BY id DESC LIMIT 1" | grep -q 'certificate verify failed' ||
	fail "event detail: $(db "SELECT detail FROM events ORDER BY id DESC LIMIT 1")"
ztpctl group upstream fleet "https://127.0.0.1:$UP_PORT/s" --upstream-ca "$P/ca.pem" >/dev/null ||
	fail "ztpctl: no client certificate"
[ "$(dev GET "$(config_path)" | status_of)" = 502 ] || fail "the upstream required a client certificate"
[ "$(nreq s)" = "$n" ] || fail "a request reached the upstream over a refused TLS connection"
ok "https: the upstream verified against --upstream-ca, ztpd's client certificate; another CA or no client certificate: 502 + event"

# a CA file replaced in place is read again at the next request, with no API call
cp "$P/other.pem" "$P/ca-live.pem"
ztpctl group upstream fleet "https://127.0.0.1:$UP_PORT/s" --upstream-ca "$P/ca-live.pem" \
	--upstream-cert "$P/cli.pem" --upstream-key "$P/cli.key" >/dev/null || fail "ztpctl: ca-live"
[ "$(dev GET "$(config_path)" | status_of)" = 502 ] || fail "the wrong CA in ca-live.pem was accepted"
cp "$P/ca.pem" "$P/ca-live.pem.new"
mv "$P/ca-live.pem.new" "$P/ca-live.pem"
[ "$(dev GET "$(config_path)" | body_of)" = "over https" ] || fail "the replaced CA file was not read again"
grep -q 'file changed; reading it again' "$T/ztpd.log" || fail "no log line for the changed file"
openssl pkey -in "$P/cli.key" -aes256 -passout pass:secret -out "$P/enc.key" 2>/dev/null
chmod 600 "$P/enc.key"
r=$(admin PUT /v1/groups/fleet/upstream "$(jq -nc --arg u "https://127.0.0.1:$UP_PORT/s" --arg ca "$P/ca.pem" \
	--arg c "$P/cli.pem" --arg k "$P/enc.key" '{upstream:$u, upstream_ca:$ca, upstream_cert:$c, upstream_key:$k}')")
[ "$(tail -1 <<<"$r")" = 400 ] || fail "an encrypted client key: expected 400, got $r"
grep -q 'unencrypted' <<<"$r" || fail "the refusal does not say the key must be unencrypted: $r"
ok "a CA file replaced in place is used from the next request on; an encrypted client key is refused (400, no prompt)"

# ---- SIGTERM while a POST is upstream: the drain waits for its answer (3.5 s: beyond
# its usual 2 s, within --upstream-timeout, 5 s here)
ztpctl group upstream fleet "http://127.0.0.1:$UP_B" >/dev/null || fail "ztpctl group upstream"
answer b '{"status": 204, "delay": 3.5}'
nb=$(nreq b)
request POST "/v1/data/$DEVID?iccid=$ICCID_EF" "" "t=2" >"$T/req"
"$PSK_CLIENT" --port "$DEVICE_PORT" --identity "$ICCID" --psk "$PSK" --suite ccm --request-file "$T/req" \
	>"$T/drain.out" 2>/dev/null &
drain_pid=$!
# SIGTERM once the POST is upstream (a fixed sleep lost the race on a loaded machine)
for _ in $(seq 1 200); do [ "$(nreq b)" -gt "$nb" ] && break; sleep 0.05; done
[ "$(nreq b)" -gt "$nb" ] || fail "the POST did not reach the upstream"
kill -TERM "$ZTPD_PID"
wait "$drain_pid" || fail "psk_client during the drain"
[ "$(status_of <"$T/drain.out")" = 204 ] || fail "SIGTERM with a POST upstream: the device got no answer: $(cat "$T/drain.out")"
for _ in $(seq 1 100); do kill -0 "$ZTPD_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$ZTPD_PID" 2>/dev/null && fail "ztpd did not stop after the drain"
ZTPD_PID=""
answer b '{"status": 200, "body": "b"}'
ok "SIGTERM while a POST is upstream: the device gets its 204, then ztpd stops"
pgrep -f -- "--data $DATA" >/dev/null && fail "a ztpd of this test is still running: $(pgrep -af -- "--data $DATA")"
ok "no ztpd of this test left running"
