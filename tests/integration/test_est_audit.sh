#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The EST audit trail as an operator reads it, through the admin API
# (GET /v1/events), with curl and openssl as the device:
#   - times in event details are ISO 8601 UTC ("until 2027-12-07T03:14:14Z"),
#     never a raw epoch;
#   - a password enrolment by a client that first asks without credentials
#     and retries after the 401 (as libest does) leaves exactly one event,
#     cert_issued: the credential-less try is a challenge, not a refusal;
#   - a credential-less request that is never retried leaves no event, only
#     a debug log line;
#   - wrong credentials stay an event (wrong password, another key than the
#     allowlisted one).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_est.sh"

# api_events_after ID: the events with an id over ID, as one JSON array,
# oldest first (every page of GET /v1/events)
api_events_after() {
	local after=$1 out all='[]' next
	ev_settle
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

# api_new_events LAST: the kinds of the events after id LAST, one per line
api_new_events() { api_events_after "$1" | jq -r '.[].kind'; }

# ---- a password enrolment that first asks without credentials ----
# (libest's estclient does this: every request goes out bare first, and is
# sent again with HTTP Basic after the 401)
est_key "$T/k/dev-pw1.key"
est_csr "$T/k/dev-pw1.key" dev-pw1 "$T/pw1.der"
PW=$(est_password dev-pw1)
last=$(api_last_event_id)
[ "$(enrol simpleenroll pw1)" = 401 ] || fail "a bare request: $(cat "$EST_OUT")"
grep -qi '^WWW-Authenticate: Basic' "$EST_HDR" || fail "the 401 does not ask for Basic"
[ "$(enrol simpleenroll pw1 -u "dev-pw1:$PW")" = 200 ] || fail "the retry: $(cat "$EST_OUT")"
kinds=$(api_new_events "$last")
[ "$kinds" = cert_issued ] || fail "a bare request then its retry left [$(echo $kinds)], want [cert_issued]"
grep -q "dev-pw1 asked without credentials" "$T/ztpd.log" || fail "no debug line for the bare request"
ok "bare request, 401, retry with the password: exactly one event, cert_issued"

# ---- the same with serverkeygen ----
est_key "$T/k/dev-pw2.key"
est_csr "$T/k/dev-pw2.key" dev-pw2 "$T/pw2.der"
PW=$(est_password dev-pw2)
last=$(api_last_event_id)
[ "$(est_enroll serverkeygen "$T/pw2.der" "$T/pw2.out")" = 401 ] || fail "bare serverkeygen"
est "/.well-known/est/serverkeygen" -H 'Content-Type: application/pkcs10' \
	--data-binary "@$T/pw2.out.req" -u "dev-pw2:$PW" >"$T/code"
[ "$(cat "$T/code")" = 200 ] || fail "serverkeygen retry: $(cat "$EST_OUT")"
kinds=$(api_new_events "$last")
[ "$kinds" = cert_issued ] || fail "bare serverkeygen then its retry left [$(echo $kinds)]"
ok "serverkeygen, bare then with the password: exactly one event, cert_issued"

# ---- a bare request never retried: no event, a debug line ----
est_key "$T/k/scan.key"
est_csr "$T/k/scan.key" dev-nobody "$T/scan.der"
last=$(api_last_event_id)
[ "$(enrol simpleenroll scan)" = 401 ] || fail "bare request of an unknown UDID"
[ -z "$(api_new_events "$last")" ] || fail "a bare request left an event: $(api_new_events "$last")"
grep -q "dev-nobody asked without credentials" "$T/ztpd.log" || fail "no debug line for it"
[ "$(est_ncerts dev-nobody)" = 0 ] || fail "a certificate for dev-nobody"
ok "bare request never retried: 401, no event, a debug log line"

# ---- wrong credentials stay events ----
est_key "$T/k/dev-pw3.key"
est_csr "$T/k/dev-pw3.key" dev-pw3 "$T/pw3.der"
PW=$(est_password dev-pw3)
last=$(api_last_event_id)
[ "$(enrol simpleenroll pw3 -u "dev-pw3:wrong$PW")" = 401 ] || fail "wrong password"
ev=$(api_events_after "$last" | jq -c 'map(select(.kind == "enrol_refused")) | last')
[ "$ev" != null ] || fail "a wrong password left no enrol_refused event"
jq -r .detail <<<"$ev" | grep -q "wrong enrolment password for dev-pw3" ||
	fail "the event does not say why: $ev"
grep -q "$PW" "$T/ztpd.log" && fail "the password is in the log"
ok "wrong password: 401 and an enrol_refused event"

est_key "$T/k/other.key"
est_csr "$T/k/other.key" dev-a1 "$T/a1other.der"
last=$(api_last_event_id)
[ "$(enrol simpleenroll a1other)" = 401 ] || fail "another key for an allowlisted UDID"
api_events_after "$last" | jq -r '.[] | select(.kind == "enrol_refused") | .detail' |
	grep -q "not the key allowlisted for dev-a1" || fail "another key for an allowlisted UDID left no event"
ok "another key than the allowlisted one, no credentials: 401 and an event (a wrong credential)"

if [ "$NFAIL" = 0 ]; then echo "all EST audit tests passed"; fi
