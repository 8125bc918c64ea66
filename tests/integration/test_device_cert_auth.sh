#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Certificate devices on the device endpoint (ztpd --device-cert-auth): a
# device enrolled over EST with curl and openssl (and one with ztp-enroll's
# key store) fetches its SIM's configuration and posts telemetry with curl
# over mutual TLS, on the same routes and the same listener as the SIMs'
# PSKs, which keep working as before. Refused, each with its status or its
# failed handshake and its event: a revoked certificate, a blocked device,
# a certificate ztp's CA signed but never recorded, an expired one, one of
# another CA, a manufacturer's IDevID, a device with no SIM, another SIM's
# iccid, another Device ID; without --device-cert-auth a certificate alone
# gets no handshake. A proxied SIM's upstream learns the device's UDID.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_est.sh"

D=$T/dev # device keys, CSRs, certificates
mkdir -p "$D"
UP_PID=""
up_cleanup() {
	local rc=$?
	if [ -n "$UP_PID" ]; then
		kill "$UP_PID" 2>/dev/null || true
		wait "$UP_PID" 2>/dev/null || true
	fi
	(exit $rc)
	cleanup
}
trap up_cleanup EXIT

DEV_OUT=$T/dev.out # body of the last dcurl
DEV_HDR=$T/dev.hdr # its headers
DEV_ERR=$T/dev.err # curl's error, if any
# dcurl PATH [curl options...]: an HTTPS request to the device listener,
# trusting DATA/ca.pem; prints the status, 000 when there was no HTTP
# answer (a refused handshake). Never fails.
dcurl() {
	local path=$1 code rc=0
	shift
	code=$(curl -sS --max-time 20 --tlsv1.3 --cacert "$DATA/ca.pem" -o "$DEV_OUT" -D "$DEV_HDR" \
		-w '%{http_code}' "$@" "https://127.0.0.1:$DEVICE_PORT$path" 2>"$DEV_ERR") || rc=$?
	[ "$rc" = 0 ] || code=000
	echo "$code"
}
# as NAME: curl's options for the certificate and key D/NAME.pem, D/NAME.key
as() { echo "--cert $D/$1.pem --key $D/$1.key"; }
# enrol UDID [ICCID]: allowlist UDID (with its SIM ICCID, if given) and get
# its certificate over EST: D/UDID.key, D/UDID.pem
enrol() {
	local out
	est_key "$D/$1.key"
	est_csr "$D/$1.key" "$1" "$D/$1.csr"
	out=$(admin POST /v1/allowlist "$(jq -nc --arg u "$1" --arg k "$(openssl pkey -in "$D/$1.key" -pubout)" \
		--arg i "${2:-}" '{udid: $u, pubkey: $k} + (if $i == "" then {} else {iccid: $i} end)')")
	[ "$(tail -1 <<<"$out")" = 201 ] || fail "allowlist $1: $out"
	[ "$(est_enroll simpleenroll "$D/$1.csr" "$D/$1.pem")" = 200 ] ||
		fail "enrol $1: $(head -c 300 "$EST_OUT")"
}
ef() { printf '%s' "${1}F" | sed 's/\(.\)\(.\)/\2\1/g'; } # ICCID digits -> EF_ICCID hex
header_of() { tr -d '\r' <"$DEV_HDR" | sed -n "s/^$1: //Ip" | head -1; }
# refused_handshake WHAT CODE: dcurl answered CODE, which must be no HTTP answer
refused_handshake() {
	[ "$2" = 000 ] || fail "$1: HTTP $2, want a refused handshake ($(head -c 200 "$DEV_OUT"))"
}

# ---- an expired certificate: issued by a ztpd three days ago, valid one day
# (faketime ahead of ASan's runtime in sanitizer builds, as test_est_ca.sh)
PAST=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	DONT_FAKE_MONOTONIC=1 faketime -f -3d)
est_start_under "${PAST[@]}" -- --cert-days 1
enrol dev-old
est_stop

est_start --device-cert-auth --allow-psk-ke
setup_seed_sim
seed=$(printf '%s' "$SEED_CONFIG" | xxd -p | tr -d '\n')

# ---- a device enrolled over EST, bound to the seed's SIM by its allowlist entry
enrol dev-c1 "$ICCID"
[ "$(dcurl "$(config_path)" $(as dev-c1))" = 200 ] ||
	fail "GET with the certificate: $(cat "$DEV_ERR" "$DEV_OUT")"
[ "$(xxd -p <"$DEV_OUT" | tr -d '\n')" = "$seed" ] || fail "the configuration differs: $(cat "$DEV_OUT")"
etag=$(header_of ETag)
[[ "$etag" =~ ^\"1-[0-9a-f]{8}\"$ ]] || fail "ETag: $etag"
[ "$(dcurl "$(config_path)" $(as dev-c1) -H "If-None-Match: $etag")" = 304 ] || fail "If-None-Match: not 304"
[ "$(db "SELECT device_id FROM sims WHERE iccid='$ICCID'")" = "$DEVID" ] || fail "the Device ID was not bound"
ok "a certificate device gets its SIM's configuration (200, ETag, 304) and binds the Device ID"

[ "$(dcurl "/v1/data/$DEVID?iccid=$ICCID_EF" $(as dev-c1) --data-binary temp=21.5)" = 204 ] ||
	fail "telemetry with the certificate: $(cat "$DEV_ERR" "$DEV_OUT")"
[ "$(db "SELECT body || ',' || device_id FROM telemetry WHERE iccid='$ICCID'")" = "temp=21.5,$DEVID" ] ||
	fail "telemetry not stored under the SIM"
[ "$(dcurl "/v1/dev/$DEVID?iccid=$ICCID_EF" $(as dev-c1) -X POST)" = 200 ] || fail "POST /v1/dev"
jq -e '.cli and .usr and .pwd' "$DEV_OUT" >/dev/null || fail "/v1/dev: $(cat "$DEV_OUT")"
ok "telemetry (204, stored under the SIM) and device credentials (200) with the certificate"

# ---- the PSKs on the same listener, as before: no certificate shown to them
resp=$(s_client_get "$(config_path)")
[ "$(status_of <<<"$resp")" = 200 ] || fail "PSK (s_client) on the same listener: $resp"
[ "$(printf '%s' "$resp" | body_of | xxd -p | tr -d '\n')" = "$seed" ] || fail "PSK: body differs"
request GET "$(config_path)" >"$T/get"
out=$("$PSK_CLIENT" --port "$DEVICE_PORT" --iccid-bcd "$ICCID" --psk "$PSK" --suite ccm --psk-ke \
	--request-file "$T/get" 2>"$T/psk.err") || fail "psk_client: $(cat "$T/psk.err")"
grep -q '^kex: psk_ke$' "$T/psk.err" || fail "psk_client did not get psk_ke: $(cat "$T/psk.err")"
[ "$(printf '%s' "$out" | body_of | xxd -p | tr -d '\n')" = "$seed" ] || fail "psk_client: body differs"
hs=$(timeout 10 openssl s_client -tls1_3 -psk "$PSK" -psk_identity "$ICCID" \
	-connect "127.0.0.1:$DEVICE_PORT" </dev/null 2>&1 || true)
grep -q 'no peer certificate available' <<<"$hs" || fail "a PSK handshake was shown a certificate: $hs"
grep -q 'Acceptable client certificate CA names' <<<"$hs" && fail "a PSK client was asked for a certificate"
ok "PSK clients on the same listener: s_client, psk_client with psk_ke and CCM; no certificate shown or asked"

# ---- what the SIM's own checks refuse a certificate device too
ICCID2=8944502509186389643
[ "$(admin POST /v1/sims "{\"iccid\":\"$ICCID2\",\"psk\":\"$PSK\"}" | tail -1)" = 201 ] || fail "SIM 2"
e=$(ev_count iccid_mismatch)
snap=$(db_snapshot)
[ "$(dcurl "$(config_path "$DEVID" "$(ef $ICCID2)")" $(as dev-c1))" = 403 ] || fail "another SIM's iccid: not 403"
grep -q "not the device's SIM" "$DEV_OUT" || fail "another SIM's iccid: $(cat "$DEV_OUT")"
expect_new_event iccid_mismatch "$e"
db "SELECT detail FROM events WHERE kind='iccid_mismatch' ORDER BY id DESC LIMIT 1" | grep -q dev-c1 ||
	fail "the iccid_mismatch event does not name the device"
e=$(ev_count rebind_refused)
[ "$(dcurl "$(config_path AA01)" $(as dev-c1))" = 409 ] || fail "another Device ID: not 409"
expect_new_event rebind_refused "$e"
[ "$(db_snapshot)" = "$snap" ] || fail "a refused request changed the store"
ok "another SIM's iccid (403, iccid_mismatch), another Device ID (409, rebind_refused): nothing changed"

# ---- a device with no SIM
enrol dev-c2
e=$(ev_count unbound_device)
[ "$(dcurl "$(config_path)" $(as dev-c2))" = 403 ] || fail "a device with no SIM: not 403"
grep -q 'no SIM bound to this device' "$DEV_OUT" || fail "no SIM: $(cat "$DEV_OUT")"
expect_new_event unbound_device "$e"
db "SELECT detail FROM events WHERE kind='unbound_device'" | grep -q dev-c2 ||
	fail "the unbound_device event does not name the device"
ok "a device whose allowlist entry names no SIM: 403 and an unbound_device event"

# ---- ztp-enroll's key store, as a gateway keeps it: slot-00 the key, slot-10 the certificate
KS=$T/ks3
"$BUILD/ztp-enroll" --store "$KS" --public-key >"$T/ks3.pub" || fail "ztp-enroll --public-key"
out=$(admin POST /v1/allowlist "$(jq -nc --rawfile k "$T/ks3.pub" --arg i "$ICCID2" \
	'{udid: "dev-c3", pubkey: $k, iccid: $i}')")
[ "$(tail -1 <<<"$out")" = 201 ] || fail "allowlist dev-c3: $out"
"$BUILD/ztp-enroll" --server "https://127.0.0.1:$EST_PORT" --ca "$DATA/ca.pem" --store "$KS" --id dev-c3 \
	>"$T/enroll.out" 2>&1 || fail "ztp-enroll: $(cat "$T/enroll.out")"
[ "$(dcurl "$(config_path 0102 "$(ef $ICCID2)")" --cert "$KS/slot-10" --key "$KS/slot-00")" = 204 ] ||
	fail "ztp-enroll's certificate: $(cat "$DEV_ERR" "$DEV_OUT")"
[ "$(dcurl "/v1/data/0102?iccid=$(ef $ICCID2)" --cert "$KS/slot-10" --key "$KS/slot-00" --data-binary on)" = 204 ] ||
	fail "ztp-enroll's certificate, telemetry"
[ "$(db "SELECT body FROM telemetry WHERE iccid='$ICCID2'")" = on ] || fail "dev-c3's telemetry"
ok "ztp-enroll's key store (slot-00, slot-10) with curl: 204 (no configuration yet), telemetry stored"

# ---- proxy mode: the upstream learns the UDID, and no PSK generation
mkdir -p "$T/up"
python3 "$SRC/tests/integration/upstream.py" --dir "$T/up" >"$T/up/port" 2>"$T/up/err" &
UP_PID=$!
for _ in $(seq 1 100); do
	[ -s "$T/up/port" ] && break
	kill -0 "$UP_PID" 2>/dev/null || fail "upstream.py exited: $(cat "$T/up/err")"
	sleep 0.05
done
UP_PORT=$(head -1 "$T/up/port")
[[ "$UP_PORT" =~ ^[0-9]+$ ]] || fail "upstream.py printed no port"
printf '%s\n' '{"status": 200, "body": "from upstream"}' >"$T/up/answer.json"
ICCID4=8944502509186389650
[ "$(admin POST /v1/groups "{\"name\":\"fleet\",\"upstream\":\"http://127.0.0.1:$UP_PORT\"}" | tail -1)" = 201 ] ||
	fail "group fleet"
[ "$(admin POST /v1/sims "{\"iccid\":\"$ICCID4\",\"psk\":\"$PSK\",\"group\":\"fleet\"}" | tail -1)" = 201 ] ||
	fail "SIM 4"
enrol dev-c4 "$ICCID4"
[ "$(dcurl "$(config_path "$DEVID" "$(ef $ICCID4)")" $(as dev-c4))" = 200 ] || fail "proxied GET: $(cat "$DEV_OUT")"
[ "$(cat "$DEV_OUT")" = "from upstream" ] || fail "proxied body: $(cat "$DEV_OUT")"
hdrs=$(tail -1 "$T/up/requests.jsonl" | jq -c '[.headers[] | select(.[0] | ascii_downcase | startswith("ztp-"))]
	| map({(.[0] | ascii_downcase): .[1]}) | add')
[ "$(jq -r '."ztp-udid"' <<<"$hdrs")" = dev-c4 ] || fail "upstream ZTP-UDID: $hdrs"
[ "$(jq -r '."ztp-iccid"' <<<"$hdrs")" = "$ICCID4" ] || fail "upstream ZTP-ICCID: $hdrs"
[ "$(jq -r '."ztp-psk-generation"' <<<"$hdrs")" = null ] || fail "a PSK generation for a certificate: $hdrs"
ok "proxy mode: forwarded with ZTP-ICCID and ZTP-UDID, no ZTP-PSK-Generation"

# ---- revoked: refused with each request (403), its connection closed
SERIAL1=$(est_serial "$D/dev-c1.pem")
est_revoke "$SERIAL1"
e=$(ev_count client_cert_refused)
snap=$(db_snapshot)
[ "$(dcurl "$(config_path)" $(as dev-c1))" = 403 ] || fail "revoked certificate: not 403"
grep -q "$SERIAL1 is revoked" "$DEV_OUT" || fail "revoked: $(cat "$DEV_OUT")"
grep -qi '^Connection: close' "$DEV_HDR" || fail "revoked: the connection stays open"
[ "$(dcurl "/v1/data/$DEVID?iccid=$ICCID_EF" $(as dev-c1) --data-binary x)" = 403 ] ||
	fail "revoked certificate, telemetry: not 403"
[ "$(db_snapshot)" = "$snap" ] || fail "a revoked certificate changed the store"
expect_new_event client_cert_refused "$e"
db "SELECT detail FROM events WHERE kind='client_cert_refused'" | grep -q "device listener: client certificate $SERIAL1 is revoked" ||
	fail "the event does not say why"
[ "$(status_of <<<"$(s_client_get "$(config_path)")")" = 200 ] || fail "the SIM's PSK after the revocation"
ok "a revoked certificate: 403 with each request, client_cert_refused; the SIM's own PSK still works"

# a blocked device: its certificates are revoked with it
[ "$(admin POST /v1/devices/dev-c3/block | tail -1)" = 200 ] || fail "block dev-c3"
[ "$(dcurl "$(config_path 0102 "$(ef $ICCID2)")" --cert "$KS/slot-10" --key "$KS/slot-00")" = 403 ] ||
	fail "a blocked device: not 403"
ok "a blocked device: 403"

# ---- certificates refused in the handshake, each with client_cert_refused
# ztp's CA signed it, but it is on no record
openssl req -new -key "$D/dev-c4.key" -subj /CN=dev-c4 -out "$D/norec.csr"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >"$D/ext.cnf"
openssl x509 -req -in "$D/norec.csr" -CA "$DATA/ca.pem" -CAkey "$DATA/ca.key" -passin "file:$DATA/ca.pass" \
	-set_serial "0x$(openssl rand -hex 12)" -days 30 -extfile "$D/ext.cnf" -out "$D/norec.pem" 2>/dev/null ||
	fail "cannot sign with the data directory's CA"
e=$(ev_count client_cert_refused)
[ "$(dcurl "$(config_path "$DEVID" "$(ef $ICCID4)")" --cert "$D/norec.pem" --key "$D/dev-c4.key")" = 403 ] ||
	fail "a certificate on no record: not 403"
grep -q 'not on record' "$DEV_OUT" || fail "on no record: $(cat "$DEV_OUT")"
expect_new_event client_cert_refused "$e"
ok "a certificate of ztp's CA that is on no record: 403, client_cert_refused"

e=$(ev_count client_cert_refused)
refused_handshake "expired certificate" "$(dcurl "$(config_path)" $(as dev-old))"
expect_new_event client_cert_refused "$e"
db "SELECT detail FROM events WHERE kind='client_cert_refused'" | grep -q 'device listener: client certificate refused: certificate has expired' ||
	fail "the event does not say it expired"
ok "an expired certificate of ours: the handshake fails, client_cert_refused"

est_mfr_ca other "$D"
est_idevid other "$D" fake "/CN=dev-c4/serialNumber=dev-c4"
e=$(ev_count client_cert_refused)
refused_handshake "another CA's certificate" "$(dcurl "$(config_path)" --cert "$D/fake.pem" --key "$D/fake.key")"
expect_new_event client_cert_refused "$e"
ok "a certificate of another CA for a known UDID: the handshake fails, client_cert_refused"

# a manufacturer's IDevID: good for EST, not for the device listener
est_mfr_ca maker "$D"
est_idevid maker "$D" idev "/CN=model-x/serialNumber=dev-c4"
[ "$(admin POST /v1/manufacturer-cas "$(jq -nc --rawfile p "$D/maker.pem" '{name: "maker", pem: $p}')" | tail -1)" = 201 ] ||
	fail "import the manufacturer CA"
[ "$(est /.well-known/est/cacerts --cert "$D/idev.pem" --key "$D/idev.key")" = 200 ] ||
	fail "the IDevID on the EST listener: $(cat "$EST_ERR")"
e=$(ev_count client_cert_refused)
refused_handshake "an IDevID" "$(dcurl "$(config_path)" --cert "$D/idev.pem" --key "$D/idev.key")"
expect_new_event client_cert_refused "$e"
ok "a manufacturer's IDevID (taken by the EST listener): the handshake fails"

e=$(ev_count handshake_refused)
refused_handshake "neither a PSK nor a certificate" "$(dcurl "$(config_path)")"
expect_new_event handshake_refused "$e"
ok "neither a PSK nor a certificate: the handshake fails, handshake_refused"

# ---- without --device-cert-auth a certificate alone gets no handshake
est_start --allow-psk-ke
e=$(ev_count handshake_refused)
refused_handshake "a certificate without --device-cert-auth" "$(dcurl "$(config_path "$DEVID" "$(ef $ICCID4)")" $(as dev-c4))"
expect_new_event handshake_refused "$e"
[ "$(status_of <<<"$(s_client_get "$(config_path)")")" = 200 ] || fail "PSK without --device-cert-auth"
hs=$(timeout 10 openssl s_client -tls1_3 -psk "$PSK" -psk_identity "$ICCID" \
	-connect "127.0.0.1:$DEVICE_PORT" </dev/null 2>&1 || true)
grep -q 'no peer certificate available' <<<"$hs" || fail "a certificate shown without the option: $hs"
ok "without --device-cert-auth: a certificate alone is refused in the handshake; PSKs work"

# the option from the configuration file
printf 'device-cert-auth = yes\nallow-psk-ke = true\n' >"$DATA/ztpd.conf"
est_start
[ "$(dcurl "$(config_path "$DEVID" "$(ef $ICCID4)")" $(as dev-c4))" = 200 ] ||
	fail "device-cert-auth = yes in ztpd.conf: $(cat "$DEV_ERR" "$DEV_OUT")"
ok "device-cert-auth = yes in ztpd.conf"
