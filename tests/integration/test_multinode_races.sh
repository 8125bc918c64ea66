#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Two ztpd on one PostgreSQL database (lib_cluster.sh), and the two sides
# of each race sent to the two nodes at once. Each race runs RACE_N times
# (default 100) and must have exactly one winner every time:
#
#  1. one one-time EST password used twice, once per node: one certificate
#     issued, the other request refused (401, the password was used);
#  2. the first Device ID bound to a SIM: two fetches of one SIM with two
#     Device IDs, one per node: one is bound and served, the other 409;
#  3. a PSK rotation offered on node 1, then the SIM's connection with the
#     new key made to both nodes at once: both handshakes succeed, exactly
#     one commit (one psk_rotated event, one generation bump), and the next
#     offer is for the generation after it on both sides;
#  4. two enrolments of one allowlisted device at once, one per node (see
#     below): exactly one certificate with --est-certs-per-hour 1;
#  5. two revocations at once, one per node: both recorded, and the CRL
#     that both nodes then serve is the same, holds every revocation so far,
#     and its number is above the one before (no number is signed twice).
#
# Then: every serial either signer issued is distinct, a certificate
# revoked through node 1 is refused at mutual TLS by node 2 (see the bound
# below), and the events are the same whichever node answers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cluster.sh"

N=${RACE_N:-100}
PSK_CLIENT=$BUILD/tests/psk_client
CA=$T/node1/ca.pem
START=$SECONDS
declare -A WON # race -> iterations with exactly one winner
BAD=""         # the first iterations that did not, for the failure message

# ---- the two sides of a race, at once
# Over HTTPS: race_https.py, started once, runs each pair of requests in
# two threads released by a barrier: both connect, shake hands and send
# together. Over TLS-PSK: two psk_client in the background, each blocked
# opening its fifo ($T/gate1, $T/gate2) for its request; the shell opens
# both (which waits until both racers are there), writes the requests and
# closes both ends in one command. Process starts are what costs most on
# 2 busy cores: an iteration starts as few as it can.
CODE=()
RACER_PID=""
# https LINE: one line to race_https.py (a JSON list of requests); CODE[1..]
# the statuses, in order (000: no answer)
https() {
	local codes
	printf '%s\n' "$1" >&"${HTTPS[1]}"
	read -r codes <&"${HTTPS[0]}" || fail "race_https.py is gone"
	IFS=" " read -r -a CODE <<<"0 $codes"
}
# pair URL1 URL2 [JSON members...]: both requests at once, with the same
# members (method, headers, auth, body: race_https.py); their answers in
# $T/out1, $T/out2
pair() {
	local u1=$1 u2=$2 m IFS=,
	shift 2
	m=${*:+,$*}
	https "[{\"url\":\"$u1\",\"out\":\"$T/out1\"$m},{\"url\":\"$u2\",\"out\":\"$T/out2\"$m}]"
}
race_cleanup() {
	local rc=$?
	set +e # (exit $rc) below must not end the trap before cluster_cleanup
	[ -z "$RACER_PID" ] || kill "$RACER_PID" 2>/dev/null
	for p in "${RACER[@]}" ${CSR4_PID:-}; do kill "$p" 2>/dev/null; done
	(exit $rc)
	cluster_cleanup
}
trap race_cleanup EXIT
mkfifo "$T/gate1" "$T/gate2"
RACER=()
# psk_racer I PORT IDENTITY PSK: psk_client in the background, waiting for
# its request on gate I; its answer in $T/outI
psk_racer() {
	"$PSK_CLIENT" --port "$2" --identity "$3" --psk "$4" --request-file "$T/gate$1" \
		>"$T/out$1" 2>"$T/err$1" &
	RACER[$1]=$!
}
# psk_go REQ1 REQ2: let both psk racers go; CODE[1], CODE[2] the status of
# their answers (000: none, e.g. a refused handshake)
psk_go() {
	local g1 g2 i c
	exec {g1}>"$T/gate1" {g2}>"$T/gate2"
	printf '%s' "$1" >&$g1
	printf '%s' "$2" >&$g2
	exec {g1}>&- {g2}>&-
	for i in 1 2; do
		wait "${RACER[i]}" || true
		c=""
		read -r _ c _ <"$T/out$i" || true
		CODE[i]=${c:-000}
	done
}
# verdict RACE I OK [WHY]: iteration I of RACE had exactly one winner if OK is 1
verdict() {
	if [ "$3" = 1 ]; then
		WON[$1]=$((${WON[$1]:-0} + 1))
	elif [ -z "$BAD" ] || [ "$(wc -l <<<"$BAD")" -lt 10 ]; then
		BAD+="race $1, iteration $2: ${4:-} (statuses ${CODE[1]} ${CODE[2]})"$'\n'
	fi
}
report() {
	echo "race $1 ($2): ${WON[$1]:-0}/$N iterations with exactly one winner ($((SECONDS - T0)) s)"
	T0=$SECONDS
}
get() { # get PORT PATH OUT [curl options]: prints the status
	local port=$1 path=$2 out=$3
	shift 3
	curl -sS --max-time 20 --cacert "$CA" -o "$out" -w '%{http_code}' "$@" \
		"https://127.0.0.1:$port$path" 2>>"$T/curl.err" || true
}
# adm NODE METHOD PATH [JSON]: the admin API of a node; the body, then the status
adm() {
	local out body=()
	[ $# -lt 4 ] || body=(-d "$4")
	out=$(curl -sS --max-time 20 --cacert "$CA" -X "$2" -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' "${body[@]}" -w '\n%{http_code}' \
		"https://127.0.0.1:${NODE_ADM[$1]}$3") || true
	printf '%s\n' "$out"
}
# adm_batch NODE FILE: the admin POSTs of FILE (lines "PATH OUT JSON") on one
# connection; every status must be 201 or 200
adm_batch() {
	local cfg=$T/batch.cfg path out json first=1
	: >"$cfg"
	while read -r path out json; do
		[ $first = 1 ] || echo next >>"$cfg"
		first=0
		printf 'url = "https://127.0.0.1:%s%s"\ncacert = "%s"\nsilent\nshow-error\n' \
			"${NODE_ADM[$1]}" "$path" "$CA" >>"$cfg"
		printf 'header = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\n' \
			"$TOKEN" >>"$cfg"
		printf 'data = "%s"\noutput = "%s"\nwrite-out = "%%{http_code}\\n"\n' \
			"${json//\"/\\\"}" "$out" >>"$cfg"
	done <"$2"
	curl -K "$cfg" >"$T/batch.codes" || fail "admin batch $2: curl failed"
	grep -qv '^20[01]$' "$T/batch.codes" && fail "admin batch $2: statuses $(sort "$T/batch.codes" | uniq -c | tr '\n' ' ')"
	return 0
}
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
# csr KEY UDID OUT: the body of a simpleenroll (base64 of a DER CSR with
# CN=UDID): the PEM CSR without its two armour lines, one openssl only
csr() {
	local line b64=""
	while IFS= read -r line; do
		case $line in -----*) ;; *) b64+=$line$'\n' ;; esac
	done < <(openssl req -new -key "$1" -subj "/CN=$2")
	[ -n "$b64" ] || fail "no CSR for $2"
	printf '%s' "$b64" >"$3"
}
# fetch_req VAR DEVICE_ID ICCID: VAR gets the request of a configuration
# fetch (the ICCID as EF_ICCID hex: digits swapped in pairs, F filler)
fetch_req() {
	local d="${3}F" ef="" k
	for ((k = 0; k < ${#d}; k += 2)); do ef+=${d:k+1:1}${d:k:1}; done
	printf -v "$1" 'GET /v1/config/%s?iccid=%s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' \
		"$2" "$ef"
}

# ---- two nodes on one database
cluster_pg_start
node_start 1
node_join 2 1
node_start 2
TOKEN=$(curl -sS --cacert "$CA" -X POST "https://127.0.0.1:${NODE_ADM[1]}/v1/auth/token" \
	-H 'Content-Type: application/json' -d "$(jq -c '{key_id, secret}' "$T/node1/admin.json")" | jq -r .token)
[ -n "$TOKEN" ] && [ "$TOKEN" != null ] || fail "no admin token from node 1"
[ "$(adm 2 GET /v1/sims | tail -1)" = 200 ] || fail "node 2 does not take node 1's admin token"
cmp -s "$T/node1/ca.pem" "$T/node2/ca.pem" || fail "the nodes have different CAs"
coproc HTTPS { exec python3 "$SRC/tests/integration/race_https.py" --ca "$CA" 2>>"$T/race_https.err"; }
RACER_PID=$HTTPS_PID
AUTH="\"headers\":{\"Authorization\":\"Bearer $TOKEN\",\"Content-Type\":\"application/json\"}"
PKCS10='"method":"POST","headers":{"Content-Type":"application/pkcs10"}'
ok "two nodes on one PostgreSQL database, one CA, one admin key ($((SECONDS - START)) s)"
T0=$SECONDS
EST_URL=(- "https://127.0.0.1:${NODE_EST[1]}/.well-known/est/simpleenroll"
	"https://127.0.0.1:${NODE_EST[2]}/.well-known/est/simpleenroll")

# ---- race 1: one one-time password, two enrolments at once
key "$T/k1.key"
: >"$T/pw.batch"
for i in $(seq 1 "$N"); do
	csr "$T/k1.key" "r1-$i" "$T/r1-$i.b64"
	echo "/v1/enrolment-passwords $T/pw.$i {\"udid\":\"r1-$i\",\"ttl_s\":600}" >>"$T/pw.batch"
done
adm_batch 1 "$T/pw.batch"
files=()
for i in $(seq 1 "$N"); do files+=("$T/pw.$i"); done
mapfile -t PW < <(jq -r .password "${files[@]}")
[ "${#PW[@]}" = "$N" ] || fail "race 1: ${#PW[@]} passwords for $N devices"
for i in $(seq 1 "$N"); do
	pair "${EST_URL[1]}" "${EST_URL[2]}" "$PKCS10" "\"auth\":\"r1-$i:${PW[i - 1]}\"" \
		"\"body\":\"$T/r1-$i.b64\""
	case "${CODE[1]} ${CODE[2]}" in
	"200 401") verdict 1 "$i" 1; w=1 ;;
	"401 200") verdict 1 "$i" 1; w=2 ;;
	*) verdict 1 "$i" 0 "not one 200 and one 401"; w="" ;;
	esac
	# the first winner's certificate: the client certificate of the revocation check
	[ "$i" != 1 ] || [ -z "$w" ] || openssl base64 -d -in "$T/out$w" |
		openssl pkcs7 -inform DER -print_certs -out "$T/mtls.pem"
done
n=$(cluster_sql "SELECT count(*) FROM certs WHERE udid LIKE 'r1-%'")
[ "$n" = "${WON[1]:-0}" ] || fail "race 1: $n certificates recorded for ${WON[1]:-0} winners"
used=$(cluster_sql "SELECT count(*) FROM enrol_passwords WHERE udid LIKE 'r1-%' AND used_at <> 0")
[ "$used" = "$N" ] || fail "race 1: $used of $N passwords used"
# how many losers got past the password check before the winner spent it
# (the race inside the server, decided in the recording transaction)
inside=$(cat "$T"/node[12].log | grep -c 'r1-[0-9]*: the enrolment password was used meanwhile' || true)
report 1 "one-time password used on both nodes at once; $inside decided in the store's transaction"

# race 4's keys and CSRs, made meanwhile (the next races mostly wait on the network)
key "$T/k4.key"
for i in $(seq 1 "$N"); do csr "$T/k4.key" "r4-$i" "$T/r4-$i.b64"; done &
CSR4_PID=$!

# ---- race 2: the first Device ID bound to a SIM
DEVA=A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1
DEVB=B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2
rows=$(for i in $(seq 1 "$N"); do printf '894400000000%07d\n' "$i"; done |
	jq -R --arg psk "$PSK" '{iccid: ., psk: $psk}' | jq -sc '{rows: .}')
out=$(adm 1 POST /v1/sims/import "$rows")
[ "$(tail -1 <<<"$out")" = 200 ] && [ "$(head -1 <<<"$out" | jq .added)" = "$N" ] ||
	fail "SIM import: $out"
: >"$T/r2.expect"
ra="" rb=""
for i in $(seq 1 "$N"); do
	printf -v iccid '894400000000%07d' "$i"
	psk_racer 1 "${NODE_DEV[1]}" "$iccid" "$PSK"
	psk_racer 2 "${NODE_DEV[2]}" "$iccid" "$PSK"
	fetch_req ra "$DEVA" "$iccid"
	fetch_req rb "$DEVB" "$iccid"
	psk_go "$ra" "$rb"
	case "${CODE[1]} ${CODE[2]}" in
	"204 409") echo "$iccid|$DEVA" >>"$T/r2.expect" ;;
	"409 204") echo "$iccid|$DEVB" >>"$T/r2.expect" ;;
	*) verdict 2 "$i" 0 "not one 204 and one 409"; echo "$iccid|?" >>"$T/r2.expect" ;;
	esac
done
# a single winner is also the one the store bound
cluster_sql "SELECT iccid, device_id FROM sims WHERE iccid LIKE '894400000000%' ORDER BY iccid" >"$T/r2.bound"
while IFS='|' read -r iccid want && IFS='|' read -r biccid bound <&3; do
	[ "$iccid" = "$biccid" ] || fail "race 2: SIM $iccid missing from the store"
	if [ "$want" = "$bound" ]; then
		verdict 2 "$((10#${iccid: -7}))" 1
	elif [ "$want" != "?" ]; then
		verdict 2 "$((10#${iccid: -7}))" 0 "served $want but the store bound '$bound'"
	fi
done <"$T/r2.expect" 3<"$T/r2.bound"
report 2 "two Device IDs of one SIM at once"

# ---- race 3: the commit of a rotation, the new key used on both nodes at once
ICCID3=8944000000009999999
[ "$(adm 1 POST /v1/sims "{\"iccid\":\"$ICCID3\",\"psk\":\"$PSK\"}" | tail -1)" = 201 ] ||
	fail "cannot create the rotation SIM"
gen=0
key=$PSK
req=""
fetch_req req "$DEVID" "$ICCID3"
for i in $(seq 1 "$N"); do
	https "[{\"url\":\"https://127.0.0.1:${NODE_ADM[1]}/v1/sims/$ICCID3/rotate\",\"method\":\"POST\",$AUTH}]"
	[ "${CODE[1]}" = 200 ] || fail "race 3, iteration $i: rotate: ${CODE[1]}"
	id=$ICCID3
	[ "$gen" = 0 ] || id=$ICCID3.$gen
	"$PSK_CLIENT" --port "${NODE_DEV[1]}" --identity "$id" --psk "$key" \
		--request "$req" --rotate-key "$T/rot" >"$T/offer" 2>"$T/offer.err" ||
		fail "race 3, iteration $i: the fetch with generation $gen failed: $(cat "$T/offer.err")"
	read -r ngen nkey <"$T/rot" || fail "race 3, iteration $i: no rotation offered: $(head -c 300 "$T/offer")"
	if [ "$ngen" != $((gen + 1)) ]; then
		verdict 3 "$i" 0 "generation $ngen offered after $gen: the sides disagree"
		break
	fi
	psk_racer 1 "${NODE_DEV[1]}" "$ICCID3.$ngen" "$nkey"
	psk_racer 2 "${NODE_DEV[2]}" "$ICCID3.$ngen" "$nkey"
	psk_go "$req" "$req"
	case "${CODE[1]} ${CODE[2]}" in
	"204 204") echo "$ngen" >>"$T/r3.ok" ;;
	*) verdict 3 "$i" 0 "both fetches with the new key should be served: $(cat "$T/err1" "$T/err2" | grep -v '^kex\|^cipher' | head -c 300)" ;;
	esac
	gen=$ngen
	key=$nkey
done
# one commit per generation: its psk_rotated event (one row each: events_record
# writes no repeats), and the store's generation is the last one
cluster_sql "SELECT substring(detail from 'key generation ([0-9]+) committed') FROM events
	WHERE kind = 'psk_rotated' AND iccid = '$ICCID3'" >"$T/r3.commits"
declare -A COMMITS
while read -r g; do COMMITS[$g]=$((${COMMITS[$g]:-0} + 1)); done <"$T/r3.commits"
while read -r g; do
	c=${COMMITS[$g]:-0}
	if [ "$c" = 1 ]; then verdict 3 "$g" 1; else verdict 3 "$g" 0 "$c commits of generation $g"; fi
done <"$T/r3.ok"
[ "$(cluster_sql "SELECT psk_generation, pending_psk IS NULL FROM sims WHERE iccid = '$ICCID3'")" = "$gen|t" ] ||
	fail "race 3: the store is not at generation $gen with nothing pending"
report 3 "a rotation's new key on both nodes at once"

# ---- race 4: one allowlisted device enrolled on both nodes at once
# store_cert_record() (store_est.c) lets a device have several
# certificates: an allowlisted device that enrols twice gets two, as it
# would one after the other on one node (re-issuance is allowed, and
# nothing else in cert_record refuses the second). What it does bound is
# the count per device and hour (--est-certs-per-hour, counted again
# inside the recording transaction, under the store's writer lock). So the
# nodes run with --est-certs-per-hour 1 here: exactly one enrolment
# succeeds, the other gets 429 (before signing, or signed and dropped when
# both passed the first count), and the store holds one certificate.
for n in 1 2; do
	node_stop $n
	node_start $n --est-certs-per-hour 1
	EST_URL[n]="https://127.0.0.1:${NODE_EST[n]}/.well-known/est/simpleenroll"
done
T0=$SECONDS
wait "$CSR4_PID" || fail "race 4: the CSRs were not made"
sha=$(openssl pkey -in "$T/k4.key" -pubout -outform DER | sha256sum | cut -c1-64)
entries=$(for i in $(seq 1 "$N"); do echo "r4-$i"; done |
	jq -R --arg k "$sha" '{udid: ., key_sha256: $k}' | jq -sc '{entries: .}')
out=$(adm 2 POST /v1/allowlist/import "$entries")
[ "$(tail -1 <<<"$out")" = 200 ] && [ "$(head -1 <<<"$out" | jq .added)" = "$N" ] ||
	fail "allowlist import: $out"
for i in $(seq 1 "$N"); do
	pair "${EST_URL[1]}" "${EST_URL[2]}" "$PKCS10" "\"body\":\"$T/r4-$i.b64\""
	case "${CODE[1]} ${CODE[2]}" in
	"200 429" | "429 200") echo "r4-$i" >>"$T/r4.ok" ;;
	*) verdict 4 "$i" 0 "not one 200 and one 429" ;;
	esac
done
cluster_sql "SELECT udid, count(*) FROM certs WHERE udid LIKE 'r4-%' GROUP BY udid" >"$T/r4.count"
declare -A NCERT
while IFS='|' read -r u c; do NCERT[$u]=$c; done <"$T/r4.count"
while read -r u; do
	c=${NCERT[$u]:-0}
	if [ "$c" = 1 ]; then verdict 4 "${u#r4-}" 1; else verdict 4 "${u#r4-}" 0 "$c certificates recorded"; fi
done <"$T/r4.ok"
inside=$(cat "$T"/node[12].log | grep -c 'r4-[0-9]*: simpleenroll (allowlist).*signed, not returned' || true)
report 4 "one allowlisted device on both nodes at once, --est-certs-per-hour 1; $inside decided in the store's transaction"

# ---- serials: every certificate either signer issued (the server
# certificates, the enrolments, those signed and then dropped over the
# limit) has a serial of its own. The signer draws them at random
# (signer.c set_serial: 16 random bytes, top bit clear): unique by their
# size, unpredictable as RFC 5280 (4.1.2.2) and the CA/B Forum ask, and so
# not increasing; nothing orders serials, their uniqueness is the test.
grep -ho 'signer: issued serial [0-9A-F]*' "$T"/node[12].log | awk '{print $4}' | sort >"$T/serials"
nser=$(wc -l <"$T/serials")
[ "$nser" -ge $((2 * N)) ] || fail "only $nser serials in the signers' logs"
[ "$(uniq -d "$T/serials" | wc -l)" = 0 ] || fail "a serial was issued twice: $(uniq -d "$T/serials" | head -3)"
cluster_sql "SELECT serial FROM certs ORDER BY serial" >"$T/recorded"
[ -z "$(comm -23 "$T/recorded" "$T/serials")" ] || fail "a recorded serial that no signer logged"
ok "$nser serials from both signers, all distinct (random, so unordered)"

# ---- race 5: revocations on both nodes at once; the CRL after each pair
# A client certificate revoked through node 1 is refused by node 2: a
# node's mutual TLS reads the certificate's record at every handshake
# (est_api.c check_ours: store_cert_get, revoked_at), with no session
# tickets or cache (tls.c), so the bound is the next handshake after the
# revocation's commit; the poll below allows 5 s of scheduling slack.
[ -s "$T/mtls.pem" ] || fail "no certificate from race 1's first iteration"
# mtls: one GET of node 2's EST listener with the client certificate; CODE[1]
mtls() {
	https "[{\"url\":\"https://127.0.0.1:${NODE_EST[2]}/.well-known/est/cacerts\",\"out\":\"$T/cacerts\",\"cert\":\"$T/mtls.pem\",\"key\":\"$T/k1.key\"}]"
}
mtls
[ "${CODE[1]}" = 200 ] || fail "node 2 refuses the client certificate before its revocation: ${CODE[1]}"
mserial=$(openssl x509 -in "$T/mtls.pem" -noout -serial | sed 's/^serial=//')
{
	echo "$mserial"
	cluster_sql "SELECT serial FROM certs WHERE serial <> '$mserial' ORDER BY issued_at"
} >"$T/torevoke"
[ "$(wc -l <"$T/torevoke")" -ge $((2 * N)) ] || fail "fewer than $((2 * N)) certificates to revoke"
mapfile -t REV <"$T/torevoke"
echo '{"reason":"keyCompromise"}' >"$T/revoke.json"
last=0
for i in $(seq 1 "$N"); do
	a=${REV[2 * i - 2]}
	b=${REV[2 * i - 1]}
	pair "https://127.0.0.1:${NODE_ADM[1]}/v1/certs/$a/revoke" \
		"https://127.0.0.1:${NODE_ADM[2]}/v1/certs/$b/revoke" '"method":"POST"' "$AUTH" \
		"\"body\":\"$T/revoke.json\""
	revoked="${CODE[1]} ${CODE[2]}"
	if [ "$i" = 1 ]; then
		t=$(date +%s%N)
		for _ in $(seq 1 100); do
			mtls
			[ "${CODE[1]}" = 000 ] && break
			sleep 0.05
		done
		[ "${CODE[1]}" = 000 ] || fail "node 2 still accepts the certificate revoked through node 1 after 5 s"
		ok "node 2 refuses at mutual TLS a certificate revoked through node 1 after $((($(date +%s%N) - t) / 1000000)) ms"
	fi
	[ "$revoked" = "200 200" ] || { verdict 5 "$i" 0 "a revocation failed: $revoked"; continue; }
	pair "https://127.0.0.1:${NODE_EST[1]}/crl" "https://127.0.0.1:${NODE_EST[2]}/crl"
	[ "${CODE[1]} ${CODE[2]}" = "200 200" ] || { verdict 5 "$i" 0 "GET /crl"; continue; }
	cmp -s "$T/out1" "$T/out2" || { verdict 5 "$i" 0 "the nodes serve different CRLs"; continue; }
	openssl crl -inform DER -in "$T/out1" -noout -text >"$T/crl.txt" ||
		{ verdict 5 "$i" 0 "the CRL does not parse"; continue; }
	num="" nrev=0 prev=""
	while read -r line; do
		case $line in
		"Serial Number:"*) nrev=$((nrev + 1)) ;;
		*) [ "$prev" != "X509v3 CRL Number:" ] || num=$line ;;
		esac
		prev=$line
	done <"$T/crl.txt"
	if [ "$nrev" != $((2 * i)) ]; then
		verdict 5 "$i" 0 "CRL $num holds $nrev revocations, not $((2 * i))"
	elif [ "$num" -le "$last" ]; then
		verdict 5 "$i" 0 "CRL $num after CRL $last"
	else
		verdict 5 "$i" 1
	fi
	last=$num
done
# no CRL number signed twice, by one node or both, and each signer's in
# increasing order (the numbers come from one counter in the database)
for n in 1 2; do
	grep -o 'signer: signed CRL number [0-9]*' "$T/node$n.log" | awk '{print $5}' >"$T/crlnums$n"
	sort -n -c -u "$T/crlnums$n" 2>/dev/null || fail "node $n signed CRL numbers out of order: $(tr '\n' ' ' <"$T/crlnums$n")"
done
sort -n "$T/crlnums1" "$T/crlnums2" >"$T/crlnums"
[ "$(wc -l <"$T/crlnums")" -ge "$N" ] || fail "only $(wc -l <"$T/crlnums") CRLs signed"
[ "$(uniq -d "$T/crlnums" | wc -l)" = 0 ] || fail "CRL number signed twice: $(uniq -d "$T/crlnums" | head -3)"
report 5 "two revocations at once, one per node: one newer CRL holding both"

# ---- the same events whichever node answers
# events a peer causes are queued and written about once a second
sleep 1.5
for n in 1 2; do
	after=0
	: >"$T/events$n"
	while :; do
		[ "$(get "${NODE_ADM[n]}" "/v1/events?limit=1000&after=$after" "$T/page" \
			-H "Authorization: Bearer $TOKEN")" = 200 ] || fail "GET /v1/events from node $n"
		jq -c '.events[]' "$T/page" >>"$T/events$n"
		after=$(jq -r '.next // empty' "$T/page")
		[ -n "$after" ] || break
	done
done
[ -s "$T/events1" ] && cmp -s "$T/events1" "$T/events2" ||
	fail "the nodes list different events: $(diff "$T/events1" "$T/events2" | head -5)"
ok "both nodes list the same $(wc -l <"$T/events1") events"

echo "---- $N iterations per race, $((SECONDS - START)) s in all"
fails=0
for r in 1 2 3 4 5; do
	echo "race $r: ${WON[$r]:-0}/$N with exactly one winner"
	[ "${WON[$r]:-0}" = "$N" ] || fails=1
done
[ $fails = 0 ] || fail "races without exactly one winner:"$'\n'"$BAD"
ok "every race had exactly one winner every time"
