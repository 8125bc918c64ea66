#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The EST audit trail as an operator reads it, through the admin API
# (GET /v1/events), with curl and openssl as the device: times in event
# details are ISO 8601 UTC ("until 2027-12-07T03:14:14Z"), never a raw
# epoch.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_est.sh"

# api_events_after ID: the events with an id over ID, as one JSON array,
# oldest first (every page of GET /v1/events)
api_events_after() {
	local after=$1 out all='[]' next
	: "${ADMIN_TOKEN:=$(admin_token)}"
	while :; do
		out=$(admin GET "/v1/events?after=$after&limit=1000")
		[ "$(echo "$out" | tail -1)" = 200 ] || fail "GET /v1/events: $out"
		all=$(jq -c --argjson a "$all" '$a + .events' <<<"$(echo "$out" | head -n -1)")
		next=$(echo "$out" | head -n -1 | jq -r .next)
		[ "$next" = null ] && break
		after=$next
	done
	echo "$all"
}

# api_last_event_id: the id of the newest event (0 if none)
api_last_event_id() { api_events_after 0 | jq '(map(.id) | max) // 0'; }

# enrol OP NAME [curl options]: POST T/NAME.der to OP; prints the status
enrol() {
	local op=$1 name=$2
	shift 2
	est_enroll "$op" "$T/$name.der" "$T/$name.pem" "$@"
}

mkdir -p "$T/k"
est_start --log-level debug

# ---- times in event details: ISO 8601 UTC ----
est_device dev-a1 "$T/k"
cp "$T/k/dev-a1.csr" "$T/a1.der"
last=$(api_last_event_id)
[ "$(enrol simpleenroll a1)" = 200 ] || fail "allowlist enrolment: $(cat "$EST_OUT")"
ev=$(api_events_after "$last" | jq -c '[.[] | select(.kind == "cert_issued")] | last')
[ "$ev" != null ] || fail "no cert_issued event through the admin API"
detail=$(jq -r .detail <<<"$ev")
until=$(sed -n 's/.*, until \(.*\)$/\1/p' <<<"$detail")
[[ "$until" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] ||
	fail "cert_issued detail does not end in an ISO 8601 UTC time: $detail"
# the certificate's notAfter, to the second
want=$(date -u -d "$(openssl x509 -in "$T/a1.pem" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
[ "$until" = "$want" ] || fail "cert_issued says until $until, the certificate $want"
grep -Eq '(^|[^0-9])[0-9]{9,}([^0-9]|$)' <<<"${detail//$(est_serial "$T/a1.pem")/}" &&
	fail "a raw epoch in the detail: $detail"
ok "cert_issued detail: until $until (ISO 8601 UTC, the certificate's notAfter)"

if [ "$NFAIL" = 0 ]; then echo "all EST audit tests passed"; fi
