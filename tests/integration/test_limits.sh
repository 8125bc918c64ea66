#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Connections per worker are bounded: at the limit the worker stops
# accepting until a connection ends; the others wait in the backlog.
. "$(dirname "$0")/lib.sh"

start_ztpd --workers 1 --max-connections 2 --request-timeout 3
setup_seed_sim

# two connections that never finish their request hold both slots
pids=""
for i in 1 2; do
	"$PSK_CLIENT" --port "$DEVICE_PORT" --identity "$ICCID" --psk "$PSK" \
		--partial $'GET / HTTP/1.1\r\n' --wait 10 >/dev/null 2>&1 &
	pids="$pids $!"
done
sleep 0.5
start=$(date +%s.%N)
resp=$(s_client_get "$(config_path)")
took=$(echo "$(date +%s.%N) - $start" | bc)
[ "$(echo "$resp" | status_of)" = 200 ] || fail "the waiting client was not served after the slots freed"
# the third was only served once the request time-out freed a slot
echo "$took > 2" | bc | grep -q 1 || fail "a third connection was served at once ($took s) with max-connections 2"
# shellcheck disable=SC2086
wait $pids
ok "max-connections 2: the third connection waits until a slot frees (${took}s), then is served"
echo "limits: all checks passed"
