#!/bin/bash
# make demo: the chain on one machine, on a fresh data directory.
# ztpd starts, ztpctl registers a SIM and the seed's configuration, and a
# device fetches it over TLS 1.3 with the SIM's PSK (openssl s_client plays
# the SIM); the operator switches the alarm off and the device sees it.
set -euo pipefail
BUILD=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=$root/$BUILD
[ -x "$BUILD/ztpd" ] && BIN=$(cd "$BUILD" && pwd)
demo=$(mktemp -d /tmp/ztp-demo.XXXXXX)
DATA=$demo/ztp-data
ZTPD_PID=""

cleanup() {
	if [ -n "$ZTPD_PID" ]; then
		kill -TERM "$ZTPD_PID" 2>/dev/null || true
		wait "$ZTPD_PID" 2>/dev/null || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "data directory kept: $DATA"
	else
		rm -rf "$demo"
	fi
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ ztpctl %s\n' "${*:2}"; "$@"; }

ICCID=8944502509186389635
ICCID_EF=984405529081369836F5      # EF_ICCID as the SIM stores it
DEVID=B58D51C5504D5257352E3120FF0D1338
PSK=$(openssl rand -hex 32)         # personalised into the SIM at the factory
ON='{"configuration":{"version":"2021-05-05","config":[{"action":"iot:Alarm","effect":"On"}]}}'
OFF='{"configuration":{"version":"2021-05-06","config":[{"action":"iot:Alarm","effect":"Off"}]}}'

step "start ztpd on a fresh data directory"
"$BIN/ztpd" --data "$DATA" --device-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
	--allow-psk-ke >"$demo/ztpd.log" 2>&1 &
ZTPD_PID=$!
for _ in $(seq 1 100); do
	[ -s "$DATA/run.json" ] && break
	sleep 0.05
done
[ -s "$DATA/run.json" ] || { cat "$demo/ztpd.log"; echo "ztpd did not start" >&2; exit 1; }
cat "$demo/ztpd.log"
DEVICE=$(jq -r .device "$DATA/run.json")
export ZTP_ADMIN=$DATA/admin.json
echo "data directory: $(ls "$DATA" | tr '\n' ' ')"

step "the operator registers the SIM and its configuration"
echo "\$ ztpctl sim add $ICCID --psk <the SIM's PSK>"
"$BIN/ztpctl" sim add "$ICCID" --psk "$PSK"
run "$BIN/ztpctl" config set "$ICCID" --body "$ON"
run "$BIN/ztpctl" sim list

fetch() { # fetch [If-None-Match]
	local extra=""
	[ -n "${1:-}" ] && extra="If-None-Match: $1"$'\r\n'
	printf 'GET /v1/config/%s?iccid=%s HTTP/1.1\r\nHost: localhost\r\n%sConnection: close\r\n\r\n' \
		"$DEVID" "$ICCID_EF" "$extra" |
		openssl s_client -tls1_3 -psk "$PSK" -psk_identity "$ICCID" -connect "$DEVICE" \
			-quiet -ign_eof 2>/dev/null | tr -d '\r'
	echo
}

step "the device fetches its configuration over TLS 1.3 PSK (openssl s_client as the SIM)"
echo "\$ openssl s_client -tls1_3 -psk <PSK> -psk_identity $ICCID -connect $DEVICE"
out=$(fetch)
echo "$out"
etag=$(echo "$out" | sed -n 's/^ETag: //p')
echo "$out" | grep -q '"effect":"On"' && echo ">>> iot:Alarm configured as ON"

step "the device asks again with If-None-Match: nothing changed"
fetch "$etag" | sed -n 1p

step "the operator switches the alarm off"
run "$BIN/ztpctl" config set "$ICCID" --body "$OFF"
out=$(fetch "$etag")
echo "$out"
echo "$out" | grep -q '"effect":"Off"' && echo ">>> iot:Alarm configured as OFF"

step "what the server knows"
run "$BIN/ztpctl" sim show "$ICCID"
run "$BIN/ztpctl" config history "$ICCID"

step "a clone with the wrong key is refused, and that is an event"
printf 'GET /v1/config/%s?iccid=%s HTTP/1.1\r\n\r\n' "$DEVID" "$ICCID_EF" |
	openssl s_client -tls1_3 -psk "$(openssl rand -hex 32)" -psk_identity "$ICCID" \
		-connect "$DEVICE" -quiet -ign_eof >/dev/null 2>&1 || true
sleep 0.2
run "$BIN/ztpctl" events

step "done"
echo "ztpd log: $(grep -c . "$demo/ztpd.log") lines; stopping ztpd"
