# SPDX-License-Identifier: Apache-2.0
# The gateway tests' world (sourced after lib.sh, lib_est.sh, lib_ztpctl.sh,
# lib_mqtt.sh): a factory (a manufacturer CA for IDevIDs, the operator's
# LDevID CA, a broker CA), a real Mosquitto configured as docs/gateways.md
# says, ztpd with --mqtt, and a gateway played by the broker's own clients.
#
#   gw_setup [ztpd options...]   all of it; ZTPD_GW_OPTS are ztpd's --mqtt options
#   gw_identities UDID           its IDevID and LDevID in $F
#   request UDID OUT [BATCH] [PASSWORD] [SIGNER KEY] [LDEVID OF]
#   mpub/msub/wait_file          the provisioning listener as a gateway
#   opsub/oppub                  the operational listener
F=$T/factory
mkdir -p "$F"

# background processes of the test (mosquitto_sub as a gateway): stopped at the end
GW_BG_PIDS=""
mqtt_bg() { GW_BG_PIDS="$GW_BG_PIDS $1"; }
gw_cleanup() {
	local rc=$? p
	set +e
	for p in $GW_BG_PIDS; do kill "$p" 2>/dev/null; done
	for p in $GW_BG_PIDS; do wait "$p" 2>/dev/null; done
	(exit $rc)
	mqtt_cleanup
}
trap gw_cleanup EXIT

# mqtt_ca_cert DIR NAME: a test CA DIR/NAME.{key,pem}
mqtt_ca_cert() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1/$2.key" 2>/dev/null
	openssl req -x509 -new -key "$1/$2.key" -subj "/O=test/CN=$2" -days 30 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1/$2.pem" 2>/dev/null
}

# mqtt_leaf_cert DIR CA NAME SUBJECT [EXT]: DIR/NAME.{key,pem} issued by DIR/CA
mqtt_leaf_cert() {
	local d=$1 ca=$2 name=$3 subj=$4 ext=${5:-}
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$name.key" 2>/dev/null
	openssl req -new -key "$d/$name.key" -subj "$subj" -out "$d/$name.csr" 2>/dev/null
	printf '%s\n' "${ext:-basicConstraints=CA:FALSE}" >"$d/$name.ext"
	openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$d/$name.ext" \
		-out "$d/$name.pem" 2>/dev/null
}
ctl() { "$ZTPCTL" "$@"; }
mqtt_ca_cert "$F" mfr
mqtt_ca_cert "$F" ldevca
mqtt_ca_cert "$F" brokerca
mqtt_leaf_cert "$F" brokerca broker "/CN=broker" "subjectAltName=IP:127.0.0.1,DNS:localhost"

# gw_identities UDID: an IDevID (manufacturer) and an LDevID (operator's LDevID CA)
gw_identities() {
	mqtt_leaf_cert "$F" mfr "$1.idevid" "/O=maker/CN=$1/serialNumber=SN-$1"
	mqtt_leaf_cert "$F" ldevca "$1.ldevid" "/O=operator/CN=$1" \
		"extendedKeyUsage=clientAuth"
}
gw_setup() {

	# a first start makes the data directory (its CA signs the operational certificates)
	est_start
	ctl mfr-ca add maker "$F/mfr.pem" >/dev/null
	ctl mfr-ca add operator-ldevid "$F/ldevca.pem" >/dev/null
	est_stop

	mqtt_start "$T/mqtt" "$F/ldevca.pem" "$DATA/ca.pem" "$F/broker.pem" "$F/broker.key" "$F/brokerca.pem"
	ZTPD_GW_OPTS=(--mqtt "mqtts://127.0.0.1:$MQTT_OP_PORT" --mqtt-ca "$F/brokerca.pem"
		--mqtt-password-file "$MQTT_DIR/ztpd.pass"
		--gateway-provisioning-url "mqtts://127.0.0.1:$MQTT_PROV_PORT")
	est_start "${ZTPD_GW_OPTS[@]}" "$@"
	gw_wait_connected
	ok "ztpd is a client of the broker"
}

# gw_wait_connected: until ztpd's MQTT client is connected (again: after the Nth time)
gw_wait_connected() {
	local n=${1:-1}
	for _ in $(seq 1 300); do
		[ "$(grep -c 'mqtt: connected to the broker' "$T/ztpd.log")" -ge "$n" ] && return 0
		sleep 0.1
	done
	fail "ztpd did not connect to the broker: $(grep mqtt "$T/ztpd.log" | tail -5)"
}

mpub() { # mpub UDID TOPIC FILE: publish as the gateway UDID on the provisioning listener
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PROV_PORT" --cafile "$F/brokerca.pem" \
		--cert "$F/$1.ldevid.pem" --key "$F/$1.ldevid.key" -q 1 -t "$2" -f "$3"
}
msub() { # msub UDID TOPIC OUT [N]: wait in the background for N messages (default 1)
	mosquitto_sub -h 127.0.0.1 -p "$MQTT_PROV_PORT" --cafile "$F/brokerca.pem" \
		--cert "$F/$1.ldevid.pem" --key "$F/$1.ldevid.key" -q 1 -t "$2" -C "${4:-1}" \
		-W 30 >"$3" 2>"$3.err" &
	mqtt_bg $!
	MSUB_PID=$!
	sleep 0.3 # subscribed before anything is published
}
wait_file() { # wait_file FILE: until it has a line (or the subscriber gave up)
	for _ in $(seq 1 300); do
		[ -s "$1" ] && return 0
		kill -0 "$MSUB_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -s "$1" ]
}
# request UDID OUT [batch] [password] [signer key] [ldevid of]: a provisioning request
request() {
	local udid=$1 out=$2 batch=${3:-line-7} pw=${4:-$BATCH_PW} signer=${5:-$F/$1.idevid.key}
	local ldev=${6:-$1} nonce
	nonce=$(openssl rand -hex 16)
	printf 'ztp-gw-req\0%s\0%s' "$udid" "$nonce" >"$out.tbs"
	openssl dgst -sha256 -sign "$signer" -out "$out.sig" "$out.tbs"
	jq -n --arg u "$udid" --arg b "$batch" --arg p "$pw" --arg n "$nonce" \
		--rawfile l "$F/$ldev.ldevid.pem" --rawfile i "$F/$udid.idevid.pem" \
		--arg s "$(base64 -w0 "$out.sig")" \
		'{v: 1, udid: $u, batch: $b, password: $p, firmware: "1.4.2", ldevid: $l,
		  idevid: $i, nonce: $n, idevid_sig: $s}' >"$out"
}

opsub() { # opsub CERT KEY USER PASS TOPIC OUT [N]
	mosquitto_sub -h 127.0.0.1 -p "$MQTT_OP_PORT" --cafile "$F/brokerca.pem" --cert "$1" \
		--key "$2" -u "$3" -P "$4" -i "ztp-$3" -q 1 -t "$5" -C "${7:-1}" -W 30 -v >"$6" 2>"$6.err" &
	mqtt_bg $!
	MSUB_PID=$!
	sleep 0.3
}
oppub() { # oppub CERT KEY USER PASS TOPIC MESSAGE
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_OP_PORT" --cafile "$F/brokerca.pem" --cert "$1" \
		--key "$2" -u "$3" -P "$4" -q 1 -t "$5" -m "$6"
}
