# SPDX-License-Identifier: Apache-2.0
# A real Mosquitto broker for the gateway tests (sourced after lib.sh), as
# docs/gateways.md configures it: a provisioning listener (mutual TLS with
# the LDevID, the CN as user name, an ACL file of %u patterns) and an
# operational listener (mutual TLS with the certificate ztp issued, the
# dynamic-security plugin). Started in MQTT_DIR, on two free loopback
# ports, stopped by pid at the end.
#
#   mqtt_start DIR LDEVID_CA_PEM OP_CA_PEM SERVER_CERT SERVER_KEY SERVER_CA
#       (MQTT_ADMIN_CERT/KEY: a client certificate OP_CA issued, for mqtt_ctrl)
#       exports MQTT_PROV_PORT MQTT_OP_PORT MQTT_PID MQTT_DIR
#       MQTT_ADMIN_USER MQTT_ADMIN_PASS; DIR/ztpd.pass holds the password
#       (0600) of the dynamic-security client ztpd (role ztpd: P/# and
#       $CONTROL/dynamic-security/#)
#   mqtt_stop; mqtt_restart (same ports, same state)
#   mqtt_ctrl ARGS...   mosquitto_ctrl dynsec ARGS as the admin
MQTT_PID=""
MQTT_DIR=""

# a free TCP port on 127.0.0.1 (bound and released: a small race, retried by callers)
mqtt_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

mqtt_wait_port() {
	local port=$1
	for _ in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		kill -0 "$MQTT_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

mqtt_launch() {
	mosquitto -c "$MQTT_DIR/mosquitto.conf" >>"$MQTT_DIR/mosquitto.log" 2>&1 &
	MQTT_PID=$!
	mqtt_wait_port "$MQTT_PROV_PORT" && mqtt_wait_port "$MQTT_OP_PORT" ||
		{ cat "$MQTT_DIR/mosquitto.log" >&2; fail "mosquitto did not start"; }
}

mqtt_start() {
	local dir=$1 ldev_ca=$2 op_ca=$3 cert=$4 key=$5 prefix=${MQTT_PREFIX:-ztp}
	MQTT_SERVER_CA=$6
	MQTT_DIR=$dir
	mkdir -p "$dir"
	MQTT_PROV_PORT=$(mqtt_free_port)
	MQTT_OP_PORT=$(mqtt_free_port)
	while [ "$MQTT_OP_PORT" = "$MQTT_PROV_PORT" ]; do MQTT_OP_PORT=$(mqtt_free_port); done
	MQTT_ADMIN_USER=admin
	MQTT_ADMIN_PASS=$(openssl rand -hex 16)
	cat >"$dir/acl" <<EOF
pattern write $prefix/prov/%u/req
pattern read $prefix/prov/%u/bundle
EOF
	mosquitto_ctrl dynsec init "$dir/dynsec.json" "$MQTT_ADMIN_USER" "$MQTT_ADMIN_PASS" >/dev/null
	chmod 600 "$dir/dynsec.json"
	cat >"$dir/mosquitto.conf" <<EOF
user $(id -un)
per_listener_settings true
persistence true
persistence_location $dir/
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
connection_messages true

listener $MQTT_PROV_PORT 127.0.0.1
cafile $ldev_ca
certfile $cert
keyfile $key
require_certificate true
use_identity_as_username true
acl_file $dir/acl

listener $MQTT_OP_PORT 127.0.0.1
cafile $op_ca
certfile $cert
keyfile $key
require_certificate true
plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so
plugin_opt_config_file $dir/dynsec.json
EOF
	mqtt_launch
	# ztpd's client and role
	(umask 077 && openssl rand -hex 16 >"$dir/ztpd.pass")
	mqtt_ctrl createRole ztpd >/dev/null
	local t
	for t in "$prefix/#" '$CONTROL/dynamic-security/#'; do
		mqtt_ctrl addRoleACL ztpd publishClientSend "$t" allow >/dev/null
		mqtt_ctrl addRoleACL ztpd publishClientReceive "$t" allow >/dev/null
		mqtt_ctrl addRoleACL ztpd subscribePattern "$t" allow >/dev/null
		mqtt_ctrl addRoleACL ztpd unsubscribePattern "$t" allow >/dev/null
	done
	mqtt_ctrl createClient ztpd -p "$(cat "$dir/ztpd.pass")" >/dev/null
	mqtt_ctrl addClientRole ztpd ztpd >/dev/null
	export MQTT_PROV_PORT MQTT_OP_PORT MQTT_PID MQTT_DIR MQTT_ADMIN_USER MQTT_ADMIN_PASS
}

# mosquitto_ctrl against the operational listener, as the dynamic-security admin
# (with MQTT_ADMIN_CERT and MQTT_ADMIN_KEY)
mqtt_ctrl() {
	mosquitto_ctrl -h 127.0.0.1 -p "$MQTT_OP_PORT" --cafile "$MQTT_SERVER_CA" \
		--cert "$MQTT_ADMIN_CERT" --key "$MQTT_ADMIN_KEY" \
		-u "$MQTT_ADMIN_USER" -P "$MQTT_ADMIN_PASS" dynsec "$@"
}

mqtt_stop() {
	[ -n "$MQTT_PID" ] || return 0
	kill "$MQTT_PID" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$MQTT_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$MQTT_PID" 2>/dev/null || true
	wait "$MQTT_PID" 2>/dev/null || true
	MQTT_PID=""
}

mqtt_restart() {
	mqtt_stop
	mqtt_launch
}

# background processes of the test (mosquitto_sub, agents): stopped at the end
MQTT_BG_PIDS=""
mqtt_bg() { MQTT_BG_PIDS="$MQTT_BG_PIDS $1"; }
mqtt_cleanup() {
	local rc=$? p
	set +e
	for p in $MQTT_BG_PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $MQTT_BG_PIDS; do wait "$p" 2>/dev/null || true; done
	mqtt_stop
	if [ $rc -ne 0 ] && [ -n "$MQTT_DIR" ] && [ -f "$MQTT_DIR/mosquitto.log" ]; then
		echo "---- mosquitto log (last 30 lines) ----" >&2
		tail -n 30 "$MQTT_DIR/mosquitto.log" >&2
	fi
	(exit $rc)
	cleanup
}
trap mqtt_cleanup EXIT

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
	if [ -n "$ext" ]; then
		printf '%s\n' "$ext" >"$d/$name.ext"
		openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" \
			-set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$d/$name.ext" \
			-out "$d/$name.pem" 2>/dev/null
	else
		openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" \
			-set_serial "0x$(openssl rand -hex 8)" -days 30 -out "$d/$name.pem" 2>/dev/null
	fi
}
