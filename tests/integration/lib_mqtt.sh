# SPDX-License-Identifier: Apache-2.0
# Helpers of the gateway tests (sourced after lib.sh): a real Mosquitto 2.0
# broker as docs/protocol/gateways.md describes it, on two free loopback
# ports, in a directory of the test:
#
#  - the provisioning listener (MQTT_PROV_PORT): mutual TLS against the
#    LDevID CA, the certificate's CN as the user name
#    (use_identity_as_username), an ACL file that lets a client write only
#    ztp/prov/<its CN>/req and read only ztp/prov/<its CN>/bundle;
#  - the operational listener (MQTT_OP_PORT): mutual TLS against the
#    operational CA (ztpd's, for the certificates it issues) and the
#    dynamic-security plugin (user names and passwords, roles), with an
#    admin (MQTT_ADMIN_USER, MQTT_ADMIN_PASS) and a client `ztpd` (role
#    ztpd: publish, receive, subscribe, unsubscribe on ztp/# and
#    $CONTROL/dynamic-security/#) whose password is in $MQTT_DIR/ztpd.pass.
#
# per_listener_settings true: the ACL file belongs to the first listener,
# the plugin to the second. Topics are the broker's, shared by both.
#
# The test clients of the operational listener (mosquitto_ctrl as admin,
# mosquitto_sub/pub as ztpd) need a client certificate that listener
# accepts: mqtt_start makes a small CA of its own for them
# ($MQTT_DIR/clients-ca.pem, added to the listener's cafile after the
# operational CA) and a certificate for them, MQTT_CLIENT_CERT and
# MQTT_CLIENT_KEY (CN=ztpd-test). A real ztpd uses its own certificate from
# the operational CA.
#
#   mqtt_start DIR LDEVID_CA_PEM OP_CA_PEM SERVER_CERT SERVER_KEY [SERVER_CA]
#       starts mosquitto (stopped by the cleanup trap); SERVER_CERT is both
#       listeners' certificate, SERVER_CA (default OP_CA_PEM) the CA the
#       test clients verify it with. Exports MQTT_DIR, MQTT_PID,
#       MQTT_PROV_PORT, MQTT_OP_PORT, MQTT_ADMIN_USER, MQTT_ADMIN_PASS,
#       MQTT_SERVER_CA, MQTT_CLIENT_CERT, MQTT_CLIENT_KEY.
#   mqtt_stop           stops it (SIGTERM, then SIGKILL), by pid
#   mqtt_restart        stops and starts it again: same ports, same
#                       dynamic-security clients, same persistent sessions
#   mqtt_ctrl ARGS...   mosquitto_ctrl dynsec ARGS... as admin; fails the
#                       test if the broker says no
#   mqtt_sub ARGS...    mosquitto_sub on the operational listener as ztpd
#   mqtt_pub ARGS...    mosquitto_pub on the operational listener as ztpd
#   mqtt_watch FILE ID TOPIC...
#                       mosquitto_sub as ztpd, client id ID, in the
#                       background: "topic payload" lines into FILE; returns
#                       once the broker has its subscriptions; a persistent
#                       session (clean session off), so that mqtt_restart
#                       starts it again with nothing lost (stopped with the
#                       broker, or by mqtt_unwatch ID)
#   mqtt_wait_line FILE REGEX [WHAT]
#                       waits (60 s at most) for a line of FILE matching
#                       the extended REGEX; prints it
#   mqtt_log            the broker's log file

command -v mosquitto >/dev/null || fail "mosquitto is not installed (scripts/install-deps.sh)"
command -v mosquitto_ctrl >/dev/null || fail "mosquitto-clients is not installed (scripts/install-deps.sh)"
MQTT_DYNSEC=${MQTT_DYNSEC:-/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so}
[ -f "$MQTT_DYNSEC" ] || MQTT_DYNSEC=$(find /usr/lib -name mosquitto_dynamic_security.so 2>/dev/null | head -n 1)
[ -n "$MQTT_DYNSEC" ] && [ -f "$MQTT_DYNSEC" ] || fail "no mosquitto_dynamic_security.so (package mosquitto)"
MQTT_PID=""
MQTT_DIR=""
declare -A MQTT_WATCH=()      # client id -> pid of its mosquitto_sub
declare -A MQTT_WATCH_ARGS=() # client id -> its file and topics, one a line

# on exit: the broker, its log if the test failed, then the trap that was there
MQTT_PREV_TRAP=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
mqtt_cleanup() {
	local rc=$?
	set +e
	mqtt_stop
	if [ $rc -ne 0 ] && [ -n "$MQTT_DIR" ] && [ -f "$MQTT_DIR/mosquitto.log" ]; then
		echo "---- mosquitto log (last 30 lines) ----" >&2
		tail -n 30 "$MQTT_DIR/mosquitto.log" >&2
	fi
	(exit $rc)
	eval "${MQTT_PREV_TRAP:-cleanup}"
}
trap mqtt_cleanup EXIT

# mqtt_free_port: a loopback TCP port nobody listens on now
mqtt_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# mqtt_listening PORT: 0 if something accepts connections on 127.0.0.1:PORT
mqtt_listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# mqtt_launch: mosquitto on $MQTT_DIR/mosquitto.conf; waits for both ports
mqtt_launch() {
	mosquitto -c "$MQTT_DIR/mosquitto.conf" >>"$MQTT_DIR/mosquitto.out" 2>&1 &
	MQTT_PID=$!
	for _ in $(seq 1 200); do
		if mqtt_listening "$MQTT_PROV_PORT" && mqtt_listening "$MQTT_OP_PORT"; then
			return 0
		fi
		kill -0 "$MQTT_PID" 2>/dev/null || { MQTT_PID=""; return 1; }
		sleep 0.05
	done
	fail "mosquitto does not listen on $MQTT_PROV_PORT and $MQTT_OP_PORT: $(tail -n 5 "$MQTT_DIR/mosquitto.log" 2>/dev/null)"
}

# mqtt_conf: the configuration for the ports and files chosen
mqtt_conf() {
	cat >"$MQTT_DIR/mosquitto.conf" <<EOF
# made by tests/integration/lib_mqtt.sh
per_listener_settings true
user $(id -un)
persistence true
persistence_location $MQTT_DIR/
set_tcp_nodelay true
log_dest file $MQTT_DIR/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
log_type subscribe
connection_messages true

# provisioning: the LDevID, its CN as the user name, the ACL file
listener $MQTT_PROV_PORT 127.0.0.1
cafile $MQTT_LDEVID_CA
certfile $MQTT_SERVER_CERT
keyfile $MQTT_SERVER_KEY
require_certificate true
use_identity_as_username true
acl_file $MQTT_DIR/prov.acl
allow_anonymous false

# operational: the issued certificate, dynamic security
listener $MQTT_OP_PORT 127.0.0.1
cafile $MQTT_DIR/op-cafile.pem
certfile $MQTT_SERVER_CERT
keyfile $MQTT_SERVER_KEY
require_certificate true
plugin $MQTT_DYNSEC
plugin_opt_config_file $MQTT_DIR/dynsec.json
allow_anonymous false
EOF
}

mqtt_start() {
	local dir=$1 ldevid_ca=$2 op_ca=$3 cert=$4 key=$5 server_ca=${6:-$3} f pass try
	[ $# -ge 5 ] || fail "mqtt_start DIR LDEVID_CA_PEM OP_CA_PEM SERVER_CERT SERVER_KEY [SERVER_CA]"
	for f in "$ldevid_ca" "$op_ca" "$cert" "$key" "$server_ca"; do
		[ -r "$f" ] || fail "mqtt_start: cannot read $f"
	done
	mkdir -p "$dir"
	chmod 700 "$dir"
	MQTT_DIR=$(cd "$dir" && pwd)
	MQTT_LDEVID_CA=$(realpath "$ldevid_ca")
	MQTT_SERVER_CERT=$(realpath "$cert")
	MQTT_SERVER_KEY=$(realpath "$key")
	MQTT_SERVER_CA=$(realpath "$server_ca")

	# the test clients' CA and certificate
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$MQTT_DIR/clients-ca.key" 2>/dev/null
	openssl req -x509 -new -key "$MQTT_DIR/clients-ca.key" -subj "/CN=lib_mqtt test clients CA" -days 2 \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
		-out "$MQTT_DIR/clients-ca.pem" 2>/dev/null
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$MQTT_DIR/client.key" 2>/dev/null
	openssl req -new -key "$MQTT_DIR/client.key" -subj "/CN=ztpd-test" -out "$MQTT_DIR/client.csr" 2>/dev/null
	printf 'extendedKeyUsage=clientAuth\n' >"$MQTT_DIR/client.ext"
	openssl x509 -req -in "$MQTT_DIR/client.csr" -CA "$MQTT_DIR/clients-ca.pem" \
		-CAkey "$MQTT_DIR/clients-ca.key" -set_serial "0x$(openssl rand -hex 8)" -days 2 \
		-extfile "$MQTT_DIR/client.ext" -out "$MQTT_DIR/client.pem" 2>/dev/null
	MQTT_CLIENT_CERT=$MQTT_DIR/client.pem
	MQTT_CLIENT_KEY=$MQTT_DIR/client.key
	cat "$op_ca" "$MQTT_DIR/clients-ca.pem" >"$MQTT_DIR/op-cafile.pem"

	printf 'pattern write ztp/prov/%%u/req\npattern read ztp/prov/%%u/bundle\n' >"$MQTT_DIR/prov.acl"
	MQTT_ADMIN_USER="admin"
	MQTT_ADMIN_PASS=$(openssl rand -hex 16)
	rm -f "$MQTT_DIR/dynsec.json"
	mosquitto_ctrl dynsec init "$MQTT_DIR/dynsec.json" "$MQTT_ADMIN_USER" "$MQTT_ADMIN_PASS" >/dev/null ||
		fail "mosquitto_ctrl dynsec init"
	chmod 600 "$MQTT_DIR/dynsec.json"

	# two free ports; another process may take one between the check and the bind
	for try in 1 2 3 4 5; do
		MQTT_PROV_PORT=$(mqtt_free_port)
		MQTT_OP_PORT=$(mqtt_free_port)
		[ "$MQTT_PROV_PORT" != "$MQTT_OP_PORT" ] || continue
		mqtt_conf
		mqtt_launch && break
		[ "$try" -lt 5 ] || fail "mosquitto did not start: $(tail -n 5 "$MQTT_DIR/mosquitto.log" 2>/dev/null)"
	done
	export MQTT_DIR MQTT_PID MQTT_PROV_PORT MQTT_OP_PORT MQTT_ADMIN_USER MQTT_ADMIN_PASS \
		MQTT_SERVER_CA MQTT_CLIENT_CERT MQTT_CLIENT_KEY

	# ztpd's client and role
	pass=$(openssl rand -hex 24)
	(umask 077 && printf '%s\n' "$pass" >"$MQTT_DIR/ztpd.pass")
	mqtt_ctrl createRole ztpd
	# shellcheck disable=SC2016 # the topic is $CONTROL/..., literally
	for f in 'ztp/#' '$CONTROL/dynamic-security/#'; do
		mqtt_ctrl addRoleACL ztpd publishClientSend "$f" allow
		mqtt_ctrl addRoleACL ztpd publishClientReceive "$f" allow
		mqtt_ctrl addRoleACL ztpd subscribePattern "$f" allow
		mqtt_ctrl addRoleACL ztpd unsubscribePattern "$f" allow
	done
	mqtt_ctrl createClient ztpd -p "$pass"
	mqtt_ctrl addClientRole ztpd ztpd
}

mqtt_stop() {
	local id
	for id in "${!MQTT_WATCH[@]}"; do
		mqtt_unwatch "$id"
	done
	[ -n "$MQTT_PID" ] || return 0
	kill -TERM "$MQTT_PID" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$MQTT_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$MQTT_PID" 2>/dev/null || true
	wait "$MQTT_PID" 2>/dev/null || true
	MQTT_PID=""
}

mqtt_restart() {
	local id args=() saved
	[ -n "$MQTT_DIR" ] || fail "mqtt_restart: no broker was started"
	declare -A saved_args=()
	for id in "${!MQTT_WATCH_ARGS[@]}"; do
		saved_args[$id]=${MQTT_WATCH_ARGS[$id]}
	done
	mqtt_stop
	mqtt_launch || fail "mosquitto did not start again: $(tail -n 5 "$MQTT_DIR/mosquitto.log" 2>/dev/null)"
	export MQTT_PID
	# the watchers again, on their sessions: what came meanwhile waits there
	for id in "${!saved_args[@]}"; do
		saved=${saved_args[$id]}
		mapfile -t args <<<"$saved"
		mqtt_watch "${args[0]}" "$id" "${args[@]:1}"
	done
}

# the TLS options of a test client of the operational listener
mqtt_tls_opts() {
	echo --cafile "$MQTT_SERVER_CA" --cert "$MQTT_CLIENT_CERT" --key "$MQTT_CLIENT_KEY"
}

mqtt_ctrl() {
	local out
	# shellcheck disable=SC2046
	out=$(mosquitto_ctrl -h 127.0.0.1 -p "$MQTT_OP_PORT" $(mqtt_tls_opts) \
		-u "$MQTT_ADMIN_USER" -P "$MQTT_ADMIN_PASS" dynsec "$@" 2>&1) ||
		fail "mosquitto_ctrl dynsec $1 ${2:-}: $out"
	case $out in
	*[Ee]rror*) fail "mosquitto_ctrl dynsec $1 ${2:-}: $out" ;;
	esac
	[ -z "$out" ] || printf '%s\n' "$out"
}

mqtt_sub() {
	# shellcheck disable=SC2046
	mosquitto_sub -h 127.0.0.1 -p "$MQTT_OP_PORT" $(mqtt_tls_opts) -u ztpd \
		-P "$(cat "$MQTT_DIR/ztpd.pass")" "$@"
}

mqtt_pub() {
	# shellcheck disable=SC2046
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_OP_PORT" $(mqtt_tls_opts) -u ztpd \
		-P "$(cat "$MQTT_DIR/ztpd.pass")" "$@"
}

mqtt_log() { echo "$MQTT_DIR/mosquitto.log"; }

mqtt_watch() {
	local file=$1 id=$2 t args=() pid
	shift 2
	for t in "$@"; do
		args+=(-t "$t")
	done
	# shellcheck disable=SC2046
	mosquitto_sub -h 127.0.0.1 -p "$MQTT_OP_PORT" $(mqtt_tls_opts) -u ztpd \
		-P "$(cat "$MQTT_DIR/ztpd.pass")" -i "$id" -c -q 1 -v "${args[@]}" >>"$file" 2>>"$file.err" &
	pid=$!
	MQTT_WATCH[$id]=$pid
	MQTT_WATCH_ARGS[$id]=$(printf '%s\n' "$file" "$@")
	for t in "$@"; do
		for _ in $(seq 1 400); do
			grep -qF -- " $id 1 $t" "$MQTT_DIR/mosquitto.log" 2>/dev/null && break
			kill -0 "$pid" 2>/dev/null || fail "mosquitto_sub $id exited: $(cat "$file.err")"
			sleep 0.05
		done
		grep -qF -- " $id 1 $t" "$MQTT_DIR/mosquitto.log" || fail "mosquitto_sub $id did not subscribe to $t"
	done
}

mqtt_unwatch() {
	local pid=${MQTT_WATCH[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "MQTT_WATCH[$1]" "MQTT_WATCH_ARGS[$1]"
}

mqtt_wait_line() {
	local file=$1 re=$2 what=${3:-$2} line
	for _ in $(seq 1 1200); do
		if [ -f "$file" ] && line=$(grep -E -m 1 -- "$re" "$file"); then
			printf '%s\n' "$line"
			return 0
		fi
		sleep 0.05
	done
	fail "no $what within 60 s in $file"
}
