#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The HTTP edges on all three listeners (device: TLS 1.3 PSK; admin: HTTPS
# with a bearer token; EST: HTTPS), raw requests through openssl s_client
# (PSK) and python3's ssl module (raw_http.py):
#   - a request head over --max-header-size (8 KiB), whatever its size (9,
#     20, 100 KiB): 431, a request_refused event that names the header size
#     limit, the connection closed after the answer;
#   - two Content-Length headers that differ: 400, connection closed; two
#     identical ones: accepted; Content-Length with Transfer-Encoding: 400,
#     connection closed (RFC 9112 6.1: the server must close after it);
#   - a body over the route's limit: 413 and an event (device telemetry 256
#     and 4,097 bytes; admin 64 KiB + 1 on a plain route, 2 MiB + 1 on an
#     import; EST over EST_BODY_MAX, 16 KiB, below and above twice that);
#   - admin: a request without a token gets 401 after its headers, its body
#     never read: with Expect: 100-continue the 401 comes instead of a 100.
# Every case prints what it saw ("saw ..."); every check is made, then the
# test fails if any did.
. "$(dirname "$0")/lib.sh"

RAWPY=$SRC/tests/integration/raw_http.py
NBAD=0
bad() { echo "FAIL: $*" >&2; NBAD=$((NBAD + 1)); }

start_ztpd --est-listen 127.0.0.1:0
EST_PORT=$(jq -r .est "$DATA/run.json" | sed 's/.*://')
setup_seed_sim
TOKEN=$ADMIN_TOKEN

# raw LISTENER NAME [raw_http.py options]: sends the bytes of $T/NAME.req on
# a new connection to LISTENER (device, admin, est); R is what raw_http.py
# saw (one JSON line), printed; the answer is in $T/NAME.resp
raw() {
	local l=$1 name=$2
	shift 2
	case $l in
	device) set -- --port "$DEVICE_PORT" --psk "$PSK" --identity "$ICCID" "$@" ;;
	admin) set -- --port "$ADMIN_PORT" --ca "$DATA/ca.pem" "$@" ;;
	est) set -- --port "$EST_PORT" --ca "$DATA/ca.pem" "$@" ;;
	esac
	R=$(python3 "$RAWPY" --wait-close 5 --req "$T/$name.req" --out "$T/$name.resp" "$@") ||
		fail "raw_http.py failed ($l $name)"
	echo "saw [$l $name]: $R; first line: $(head -1 "$T/$name.resp" | tr -d '\r' | head -c 100)"
}
status() { jq -r .status <<<"$R"; }
statuses() { jq -r '.statuses | map(tostring) | join(",")' <<<"$R"; }
closed() { jq -r .closed <<<"$R"; }
# wait_event KIND BEFORE: an event of KIND past BEFORE, within 4 s (events
# may be written up to about 2 s after the answer)
wait_event() {
	for _ in $(seq 1 40); do
		[ "$(ev_count "$1")" -gt "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
last_detail() { db "SELECT detail FROM events WHERE kind='$1' ORDER BY id DESC LIMIT 1"; }
pad() { head -c "$1" /dev/zero | tr '\0' a; }

# the request line, Host and, per listener, what makes the request valid
# but for the edge under test
path_of() {
	case $1 in
	device) echo "GET $(config_path) HTTP/1.1" ;;
	admin) echo "GET /v1/sims HTTP/1.1" ;;
	est) echo "GET /.well-known/est/cacerts HTTP/1.1" ;;
	esac
}
auth_of() { [ "$1" = admin ] && printf 'Authorization: Bearer %s\r\n' "$TOKEN" || true; }

# ---- a request head over --max-header-size: 431, event, closed
for l in device admin est; do
	for kib in 9 20 100; do
		name=head_${l}_$kib
		{
			printf '%s\r\nHost: localhost\r\n' "$(path_of "$l")"
			auth_of "$l"
			printf 'X-Pad: %s\r\n\r\n' "$(pad $((kib * 1024)))"
		} >"$T/$name.req"
		n=$(ev_count request_refused)
		raw "$l" "$name"
		[ "$(status)" = 431 ] || bad "$l: a $kib KiB head: status $(status), want 431"
		[ "$(closed)" = true ] || bad "$l: a $kib KiB head: the connection stayed open after the answer"
		if wait_event request_refused "$n"; then
			last_detail request_refused | grep -qi 'header' ||
				bad "$l: a $kib KiB head: the event does not name the header limit: $(last_detail request_refused)"
		else
			bad "$l: a $kib KiB head: no request_refused event"
		fi
		echo "  $l $kib KiB head: request_refused $n -> $(ev_count request_refused): $(last_detail request_refused)"
	done
done
[ $NBAD = 0 ] && ok "heads of 9, 20 and 100 KiB: 431, a request_refused event naming the header limit, closed, on all three listeners"

# ---- Content-Length: two that differ, two the same, with Transfer-Encoding
telemetry() { db "SELECT count(*) FROM telemetry"; }
sims() { db "SELECT count(*) FROM sims"; }
# post_of LISTENER: the request line and headers of a POST with a body
post_of() {
	case $1 in
	device) printf 'POST /v1/data/%s?iccid=%s HTTP/1.1\r\nHost: localhost\r\n' "$DEVID" "$ICCID_EF" ;;
	admin) printf 'POST /v1/sims HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n' "$TOKEN" ;;
	est) printf 'POST /.well-known/est/simpleenroll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/pkcs10\r\n' ;;
	esac
}
# EST: a real CSR, without credentials (401 with one Content-Length)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/dev.key" 2>/dev/null
openssl req -new -key "$T/dev.key" -subj /CN=edge-1 -outform DER -out "$T/dev.csr" ||
	fail "cannot make a CSR"
csr_b64=$(openssl base64 -A -in "$T/dev.csr")
n_before=$(ev_count request_refused)
i=0
for l in device admin est; do
	i=$((i + 1))
	# body_of_case CASE: the POST's body (the admin one creates a SIM of its own)
	body_of_case() {
		case $l in
		device) echo 'temp=1' ;;
		admin) echo "{\"iccid\":\"89445025091863${i}${1}00\",\"psk\":\"$PSK\"}" ;;
		est) echo "$csr_b64" ;;
		esac
	}
	body=$(body_of_case 1)
	len=${#body}
	t0=$(telemetry) s0=$(sims)
	{ post_of "$l"; printf 'Content-Length: %d\r\nContent-Length: %d\r\n\r\n%s' "$len" $((len + 1)) "$body"; } >"$T/cl2_$l.req"
	raw "$l" "cl2_$l"
	[ "$(status)" = 400 ] || bad "$l: two Content-Length ($len, $((len + 1))): status $(status), want 400"
	[ "$(closed)" = true ] || bad "$l: two Content-Length that differ: the connection stayed open"
	[ "$(telemetry)" = "$t0" ] && [ "$(sims)" = "$s0" ] || bad "$l: two Content-Length that differ: something was stored"

	body=$(body_of_case 2)
	len=${#body}
	t0=$(telemetry) s0=$(sims)
	{ post_of "$l"; printf 'Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n' \
		$((len + 12)) "$len" "$body"; } >"$T/clte_$l.req"
	raw "$l" "clte_$l"
	[ "$(status)" = 400 ] || bad "$l: Content-Length with Transfer-Encoding: status $(status), want 400"
	[ "$(closed)" = true ] || bad "$l: Content-Length with Transfer-Encoding: the connection stayed open"
	[ "$(telemetry)" = "$t0" ] && [ "$(sims)" = "$s0" ] || bad "$l: Content-Length with Transfer-Encoding: something was stored"

	# two identical Content-Length: as with one
	body=$(body_of_case 3)
	len=${#body}
	t0=$(telemetry) s0=$(sims)
	{ post_of "$l"; printf 'Connection: close\r\nContent-Length: %d\r\n\r\n%s' "$len" "$body"; } >"$T/cl1_$l.req"
	{ post_of "$l"; printf 'Connection: close\r\nContent-Length: %d\r\nContent-Length: %d\r\n\r\n%s' "$len" "$len" "$body"; } >"$T/cleq_$l.req"
	case $l in
	device)
		raw "$l" "cleq_$l"
		[ "$(status)" = 204 ] && [ "$(telemetry)" = $((t0 + 1)) ] ||
			bad "device: two identical Content-Length: status $(status), want 204 and the telemetry stored"
		;;
	admin)
		raw "$l" "cleq_$l"
		[ "$(status)" = 201 ] && [ "$(sims)" = $((s0 + 1)) ] ||
			bad "admin: two identical Content-Length: status $(status), want 201 and the SIM created"
		;;
	est)
		raw "$l" "cl1_$l"
		want=$(status)
		raw "$l" "cleq_$l"
		[ "$(status)" = "$want" ] && [ "$want" = 401 ] ||
			bad "est: two identical Content-Length: status $(status); with one: $want (want 401 both)"
		;;
	esac
done
echo "  request_refused events over the Content-Length cases: $n_before -> $(ev_count request_refused)"
[ $NBAD = 0 ] && ok "two Content-Length that differ, or with Transfer-Encoding: 400 and closed, nothing stored; two identical: accepted"

# ---- bodies over the route's limit: 413 and an event
# body_case LISTENER NAME SIZE HEAD_FUNCTION KINDS: HEAD_FUNCTION prints the
# request line and headers; KINDS, the event kinds that count (one of them
# must gain a row)
body_case() {
	local l=$1 name=$2 size=$3 headfn=$4 kinds=$5 k before=() i got=""
	{ $headfn "$l"; printf 'Content-Length: %d\r\n\r\n' "$size"; head -c "$size" /dev/zero | tr '\0' x; } >"$T/$name.req"
	for k in $kinds; do before+=("$(ev_count "$k")"); done
	raw "$l" "$name" --wait-close 0
	[ "$(status)" = 413 ] || bad "$l: a body of $size bytes: status $(status), want 413"
	for _ in $(seq 1 40); do
		i=0
		for k in $kinds; do
			[ "$(ev_count "$k")" -gt "${before[$i]}" ] && got="$got $k"
			i=$((i + 1))
		done
		[ -n "$got" ] && break
		sleep 0.1
	done
	[ -n "$got" ] || bad "$l: a body of $size bytes: no event ($kinds)"
	echo "  $l body of $size bytes: status $(status), event:${got:- none}${got:+ ($(last_detail ${got##* }))}"
}
t0=$(telemetry)
body_case device body_dev_256 256 post_of request_refused
body_case device body_dev_4097 4097 post_of request_refused
[ "$(telemetry)" = "$t0" ] || bad "device: an oversized telemetry body was stored"
s0=$(sims)
import_head() {
	printf 'POST /v1/sims/import HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n' "$TOKEN"
}
body_case admin body_admin_64k $((64 * 1024 + 1)) post_of request_refused
body_case admin body_admin_import $((2 * 1024 * 1024 + 1)) import_head request_refused
[ "$(sims)" = "$s0" ] || bad "admin: an oversized body created a SIM"
# EST: the handler's enrol_refused (test_est_policy R2) or the front's
# request_refused: either is the event of a refused request
body_case est body_est_20000 20000 post_of "request_refused enrol_refused"
body_case est body_est_40000 40000 post_of "request_refused enrol_refused"
[ $NBAD = 0 ] && ok "bodies over the route's limit: 413 and an event on all three listeners"

# ---- admin: no token, 401 after the headers, the body never read
tr0=$(ev_count token_refused)
printf 'POST /v1/sims/import HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\nExpect: 100-continue\r\n\r\n' \
	>"$T/noauth_expect.req"
raw admin noauth_expect --wait-close 3 --timeout 6
[ "$(statuses)" = 401 ] || bad "admin: no token, Expect: 100-continue, no body sent: statuses '$(statuses)', want 401 alone (no 100 before it)"
echo "  no token + Expect: statuses $(statuses), closed after it: $(closed)"
printf 'POST /v1/sims/import HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n' \
	>"$T/noauth.req"
raw admin noauth --wait-close 3 --timeout 6
[ "$(status)" = 401 ] || bad "admin: no token, 1 MiB announced, no body sent: status $(status), want 401 without the body"
echo "  no token, body announced and not sent: statuses $(statuses), closed after it: $(closed)"
printf 'POST /v1/sims/import HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 16\r\nExpect: 100-continue\r\n\r\n' \
	"$TOKEN" >"$T/auth_expect.req"
raw admin auth_expect --wait-close 0 --timeout 6
[ "$(statuses)" = 100 ] || bad "admin: a valid token with Expect: 100-continue: statuses '$(statuses)', want 100 (and the body awaited)"
echo "  valid token + Expect: statuses $(statuses); token_refused events $tr0 -> $(ev_count token_refused)"
[ $NBAD = 0 ] && ok "admin: no token gets 401 right after the headers (instead of 100 Continue); a valid token gets its 100"

kill -0 "$FRONT_PID" 2>/dev/null || bad "the front is gone"
[ $NBAD = 0 ] || fail "$NBAD HTTP edge checks failed"
echo "http edges: all checks passed"
