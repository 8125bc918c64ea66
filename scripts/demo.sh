#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make demo: the whole chain on one machine, on a fresh data directory: the
# seed's story in seconds instead of minutes.
# ztpd starts; ztpctl registers a SIM and the seed's configuration; ztp-sim
# is the modem with the virtual SIM (personalised with the same PSK); the
# alarm application drives it with AT+CSIM and switches its output ON; the
# operator changes the configuration to OFF and the alarm follows. Then a
# gateway gets its certificate over EST: allowlisted, enrolled with
# ztp-enroll, renewed over mutual TLS, revoked and refused. Last, proxy mode:
# a SIM of a group whose configuration comes from the device maker's own
# server, through ztpd.
set -euo pipefail
BUILD=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=$root/$BUILD
[ -x "$BUILD/ztpd" ] && BIN=$(cd "$BUILD" && pwd)
demo=$(mktemp -d /tmp/ztp-demo.XXXXXX)
# started as root, ztpd runs its front and signer as the user ztp: let it reach DATA
chmod 711 "$demo"
DATA=$demo/ztp-data
ZTPD_PID=""
SIM_PID=""
ALARM_PID=""
UP_PID=""
MOD_PID=""
CLONE_PID=""
MQTT_PID=""
AGENT_PID=""

cleanup() {
	for pid in $AGENT_PID $CLONE_PID $MOD_PID $ALARM_PID $SIM_PID $UP_PID $ZTPD_PID $MQTT_PID; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
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
	--est-listen 127.0.0.1:0 --allow-psk-ke >"$demo/ztpd.log" 2>&1 &
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


step "the SIM, personalised at the factory: ztp-sim holds it behind a modem on a pty"
jq -n --arg iccid "$ICCID" --arg host "${DEVICE%:*}" --argjson port "${DEVICE##*:}" --arg psk "$PSK" \
	'{iccid: $iccid, host: $host, port: $port, psk: $psk, psk_generation: 0, locked: true,
	  retry_base_ms: 500, retry_max_ms: 4000}' >"$demo/sim.json"
chmod 600 "$demo/sim.json"
"$BIN/ztp-sim" --sim "$demo/sim.json" --link "$demo/modem" --trace "$demo/at.trace" \
	>"$demo/sim.out" 2>"$demo/sim.log" &
SIM_PID=$!
for _ in $(seq 1 100); do
	[ -s "$demo/sim.out" ] && break
	sleep 0.05
done
echo "ztp-sim: modem on $(head -1 "$demo/sim.out") (linked as $demo/modem)"

step "the alarm device application (examples/alarm): poll 0.2 s, a round every 4 s"
echo "\$ alarm --device $demo/modem --device-id $DEVID --poll 0.2 --interval 4 --led $demo/led"
"$BIN/alarm" --device "$demo/modem" --device-id "$DEVID" --poll 0.2 --interval 4 \
	--led "$demo/led" >"$demo/alarm.log" 2>&1 &
ALARM_PID=$!

# wait_for TEXT: until the alarm's log holds TEXT (at most 30 s); shows the log meanwhile
shown=0
wait_for() {
	for _ in $(seq 1 300); do
		total=$(wc -l <"$demo/alarm.log")
		if [ "$total" -gt "$shown" ]; then
			sed -n "$((shown + 1)),${total}p" "$demo/alarm.log" | sed 's/^/  alarm| /'
			shown=$total
		fi
		tail -n +1 "$demo/alarm.log" | grep -q "$1" && [ "$(grep -c "$1" "$demo/alarm.log")" -ge "${2:-1}" ] && return 0
		sleep 0.1
	done
	echo "the alarm did not report '$1'" >&2
	exit 1
}
wait_for "configured as ON"
echo ">>> LED file: $(cat "$demo/led")"

step "the operator switches the alarm off"
run "$BIN/ztpctl" config set "$ICCID" --body "$OFF"
wait_for "configured as OFF"
echo ">>> LED file: $(cat "$demo/led")"

step "the AT traffic of one round, as the modem saw it (ztp-sim --trace)"
grep -m 14 -E 'CSIM' "$demo/at.trace" | cut -c1-110

step "what the server knows"
run "$BIN/ztpctl" sim show "$ICCID"
run "$BIN/ztpctl" config history "$ICCID"

step "a gateway gets its certificate over EST (its key never leaves its key store)"
EST=$(jq -r .est "$DATA/run.json")
GW=gw-0001
echo "\$ ztp-enroll --store gw --public-key > gw.pub     # at the factory"
"$BIN/ztp-enroll" --store "$demo/gw" --public-key >"$demo/gw.pub"
run "$BIN/ztpctl" allowlist add "$GW" --pubkey "$demo/gw.pub"
enroll() {
	printf '$ ztp-enroll --server https://%s --ca ca.pem --store gw --id %s %s\n' "$EST" "$GW" "$*"
	"$BIN/ztp-enroll" --server "https://$EST" --ca "$DATA/ca.pem" --store "$demo/gw" --id "$GW" "$@"
}
enroll
enroll || echo "(exit $?: nothing to do)"
enroll --force
SERIAL=$("$BIN/ztpctl" --json device show "$GW" | jq -r .newest_serial)
run "$BIN/ztpctl" cert revoke "$SERIAL" --reason keyCompromise
enroll --force || echo "(exit $?: refused, the certificate is revoked)"
run "$BIN/ztpctl" cert list --udid "$GW"

step "proxy mode: a device maker's own server answers its SIMs, through ztpd"
mkdir -p "$demo/up"
printf '%s\n' '{"status": 200, "body": "{\"configuration\":{\"version\":\"from-the-maker\"}}"}' >"$demo/up/answer.json"
python3 "$root/tests/integration/upstream.py" --dir "$demo/up" >"$demo/up/port" 2>/dev/null &
UP_PID=$!
for _ in $(seq 1 100); do [ -s "$demo/up/port" ] && break; sleep 0.05; done
UP=http://127.0.0.1:$(head -1 "$demo/up/port")/maker
ICCID2=8944502509186389643
PSK2=$(openssl rand -hex 32)
run "$BIN/ztpctl" group create maker --upstream "$UP"
echo "\$ ztpctl sim add $ICCID2 --psk <its PSK> --group maker"
"$BIN/ztpctl" sim add "$ICCID2" --psk "$PSK2" --group maker
echo "\$ openssl s_client -psk_identity $ICCID2 ...   # any TLS 1.3 PSK client, as a SIM"
printf 'GET /v1/config/%s?iccid=%s HTTP/1.1\r\nHost: x\r\nZTP-ICCID: 1234\r\nConnection: close\r\n\r\n' "$DEVID" \
	"$(printf '%sF' "$ICCID2" | sed 's/\(.\)\(.\)/\2\1/g')" |
	openssl s_client -tls1_3 -psk "$PSK2" -psk_identity "$ICCID2" -connect "$DEVICE" -quiet -ign_eof 2>/dev/null |
	tr -d '\r' | sed -n '$p'
echo
echo ">>> the maker's server got: $(jq -r '.path + "  " + ([.headers[] | select(.[0] | startswith("ZTP-")) | join(": ")] | join(", "))' "$demo/up/requests.jsonl")"
echo "    (the SIM's own ZTP-ICCID header was dropped; ztpd set these after checking its PSK)"

step "a clone with the wrong key is refused, and that is an event"
printf 'GET /v1/config/%s?iccid=%s HTTP/1.1\r\n\r\n' "$DEVID" "$ICCID_EF" |
	openssl s_client -tls1_3 -psk "$(openssl rand -hex 32)" -psk_identity "$ICCID" \
		-connect "$DEVICE" -quiet -ign_eof >/dev/null 2>&1 || true
sleep 0.2
run "$BIN/ztpctl" events

step "the module security service: an owner, a device profile, the module maker's batch"
run "$BIN/ztpctl" owner create acme
ROT=$(openssl rand -hex 16)                  # the module's RoT UID, from its maker
openssl rand -hex 32 >"$demo/factory.key"    # its factory secret, from its maker
chmod 600 "$demo/factory.key"
printf '# rot_uid,factory_secret,batch\n%s,%s,demo\n' "$ROT" "$(cat "$demo/factory.key")" >"$demo/modules.csv"
run "$BIN/ztpctl" module import "$demo/modules.csv"
echo "\$ ztpctl profile create meter --owner acme --features psk,e2e --heartbeat-min-interval 1"
PROFILE=$("$BIN/ztpctl" profile create meter --owner acme --features psk,e2e --heartbeat-min-interval 1)
echo "DeviceProfileUID: $PROFILE"

step "the module (ztp-sim --module) boots; the host application (examples/module) seals it"
"$BIN/ztp-sim" --module "$demo/module.bin" --module-create "$ROT" --factory-key-file "$demo/factory.key" \
	2>/dev/null
cp "$demo/module.bin" "$demo/clone.bin"      # a copy of the module's whole memory, made now
# --creg-delay: the module finds a network 2 s after power-up; the host seals it first,
# as on a production line, so its bootstrap carries the seal
"$BIN/ztp-sim" --module "$demo/module.bin" --module-server "$DEVICE" --creg-delay 2 \
	>"$demo/module.out" 2>"$demo/module.log" &
MOD_PID=$!
for _ in $(seq 1 100); do [ -s "$demo/module.out" ] && break; sleep 0.05; done
MPTY=$(head -1 "$demo/module.out")
echo "\$ module --device $MPTY --profile $PROFILE --serial SN-0001"
"$BIN/module" --device "$MPTY" --profile "$PROFILE" --serial SN-0001 --timeout 30 || true
echo ">>> $(grep -o 'bootstrap done: .*' "$demo/module.log" | head -1)"
echo "    (the vendor's document: at least 1,048 bytes over four phases)"
run "$BIN/ztpctl" device show "$ROT"

step "end-to-end data protection: the module encrypts, only its owner can have it decrypted"
# the host application's side of AT+USECE2EDATAENC: the command, the "> " prompt, the data
python3 - "$MPTY" HELLO >"$demo/e2e.out" <<'PYEOF'
import os, select, sys, time, tty
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
def until(end, limit=10):
    got, t = b'', time.monotonic() + limit
    while not got.endswith(end) and time.monotonic() < t:
        if select.select([fd], [], [], 0.2)[0]:
            got += os.read(fd, 4096)
    return got
os.write(fd, b'ATE0\r'); until(b'OK\r\n')
os.write(fd, b'AT+USECE2EDATAENC=%d\r' % len(sys.argv[2])); until(b'> ')
os.write(fd, sys.argv[2].encode()); print(until(b'OK\r\n').decode().strip())
PYEOF
echo "\$ AT+USECE2EDATAENC=5   (then HELLO after the > prompt)"
sed -n 1p "$demo/e2e.out"
sed -n 's/.*"\([0-9A-F]*\)".*/\1/p' "$demo/e2e.out" >"$demo/hello.hex"
echo ">>> $(($(wc -c <"$demo/hello.hex") / 2)) bytes: a 16-byte key identity, 5 of ciphertext, a 16-byte MAC"
run "$BIN/ztpctl" e2e decrypt --in "$demo/hello.hex"
echo
echo "    (ztpctl asked ztpd for the key identity's parameters, as the owner's server would,"
echo "     and checked the MAC with AES-128-CCM itself)"

step "a clone made from the module's memory before its bootstrap is refused and quarantined"
"$BIN/ztp-sim" --module "$demo/clone.bin" --module-server "$DEVICE" >"$demo/clone.out" \
	2>"$demo/clone.log" &
CLONE_PID=$!
for _ in $(seq 1 100); do
	grep -q "reason 1\|refused" "$demo/clone.log" 2>/dev/null && break
	sleep 0.1
done
kill -TERM "$CLONE_PID" 2>/dev/null || true
wait "$CLONE_PID" 2>/dev/null || true
CLONE_PID=""
echo ">>> the clone: $(grep -o 'bootstrap.*refused.*' "$demo/clone.log" | head -1)"
sleep 1.2
run "$BIN/ztpctl" device show "$ROT"
run "$BIN/ztpctl" events

step "a gateway onboards itself over MQTT (docs/gateways.md): the broker and the factory"
mq=$demo/mqtt
mkdir -p "$mq"
ca() { # ca NAME: a CA of the demo
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$mq/$1.key" \
		-out "$mq/$1.pem" -subj "/O=demo/CN=$1" -days 2 \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
}
leaf() { # leaf CA NAME SUBJECT EXT: a certificate of CA
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$mq/$2.key" \
		-out "$mq/$2.csr" -subj "$3" 2>/dev/null
	printf '%s\n' "$4" >"$mq/$2.ext"
	openssl x509 -req -in "$mq/$2.csr" -CA "$mq/$1.pem" -CAkey "$mq/$1.key" -days 2 \
		-set_serial "0x$(openssl rand -hex 8)" -extfile "$mq/$2.ext" -out "$mq/$2.pem" 2>/dev/null
}
ca maker; ca ldevca; ca brokerca; ca admins
leaf brokerca broker /CN=broker "subjectAltName=IP:127.0.0.1"
leaf admins admin /CN=admin "extendedKeyUsage=clientAuth"
GWM=gw-mqtt-1
leaf maker idevid "/O=maker/CN=$GWM/serialNumber=SN-1" "extendedKeyUsage=clientAuth"
leaf ldevca ldevid "/O=operator/CN=$GWM" "extendedKeyUsage=clientAuth"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PROV=$(port)
OP=$(port)
cat "$DATA/ca.pem" "$mq/admins.pem" >"$mq/op-ca.pem"
printf 'pattern write ztp/prov/%%u/req\npattern read ztp/prov/%%u/bundle\n' >"$mq/prov.acl"
ADMIN_PW=$(openssl rand -hex 12)
mosquitto_ctrl dynsec init "$mq/dynsec.json" admin "$ADMIN_PW" >/dev/null
cat >"$mq/mosquitto.conf" <<EOF
per_listener_settings true
user $(id -un)
log_dest file $mq/mosquitto.log
listener $PROV 127.0.0.1
cafile $mq/ldevca.pem
certfile $mq/broker.pem
keyfile $mq/broker.key
require_certificate true
use_identity_as_username true
acl_file $mq/prov.acl
listener $OP 127.0.0.1
cafile $mq/op-ca.pem
certfile $mq/broker.pem
keyfile $mq/broker.key
require_certificate true
plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so
plugin_opt_config_file $mq/dynsec.json
EOF
mosquitto -c "$mq/mosquitto.conf" >"$mq/mosquitto.out" 2>&1 &
MQTT_PID=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$OP") 2>/dev/null && break; sleep 0.05; done
echo "mosquitto: provisioning listener 127.0.0.1:$PROV, operational listener 127.0.0.1:$OP"
ctrl() { mosquitto_ctrl -h 127.0.0.1 -p "$OP" --cafile "$mq/brokerca.pem" --cert "$mq/admin.pem" \
	--key "$mq/admin.key" -u admin -P "$ADMIN_PW" dynsec "$@" >/dev/null; }
ctrl createRole ztpd
for t in 'ztp/#' '$CONTROL/dynamic-security/#'; do
	for a in publishClientSend publishClientReceive subscribePattern unsubscribePattern; do
		ctrl addRoleACL ztpd $a "$t" allow
	done
done
(umask 077 && openssl rand -hex 16 >"$mq/ztpd.pass")
ctrl createClient ztpd -p "$(cat "$mq/ztpd.pass")"
ctrl addClientRole ztpd ztpd
echo "\$ mosquitto_ctrl dynsec createClient ztpd ...   # ztpd's account at the broker"

step "ztpd restarts as a client of the broker"
kill -TERM "$ZTPD_PID"
wait "$ZTPD_PID" 2>/dev/null || true
rm -f "$DATA/run.json"
echo "\$ ztpd --mqtt mqtts://127.0.0.1:$OP --mqtt-ca brokerca.pem --mqtt-password-file ztpd.pass ..."
"$BIN/ztpd" --data "$DATA" --device-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
	--est-listen 127.0.0.1:0 --mqtt "mqtts://127.0.0.1:$OP" --mqtt-ca "$mq/brokerca.pem" \
	--mqtt-password-file "$mq/ztpd.pass" \
	--gateway-provisioning-url "mqtts://127.0.0.1:$PROV" >>"$demo/ztpd.log" 2>&1 &
ZTPD_PID=$!
for _ in $(seq 1 200); do
	grep -q 'mqtt: connected to the broker' "$demo/ztpd.log" && break
	sleep 0.05
done
grep 'mqtt: ' "$demo/ztpd.log" | tail -2
run "$BIN/ztpctl" mfr-ca add maker "$mq/maker.pem"
run "$BIN/ztpctl" mfr-ca add operator-ldevid "$mq/ldevca.pem"
run "$BIN/ztpctl" gateway-batch create line-1 >"$mq/batch.out"
sed 's/^batch_password = .*/batch_password = (shown once: it goes into the factory configuration)/' "$mq/batch.out"
run "$BIN/ztpctl" gateway expect "$GWM" --group plant-a

step "the gateway's first start: ztp-agent asks, gets its bundle, enrols, comes online"
gd=$demo/gateway
mkdir -m 700 "$gd"
cp "$mq/idevid.pem" "$mq/idevid.key" "$mq/ldevid.pem" "$mq/ldevid.key" "$gd/"
(umask 077 && sed -n 's/^batch_password = //p' "$mq/batch.out" >"$gd/batch.pass")
cat >"$gd/agent.conf" <<EOF
udid = $GWM
prov_url = mqtts://127.0.0.1:$PROV
prov_ca = $mq/brokerca.pem
batch = line-1
batch_password_file = batch.pass
ldevid_cert = ldevid.pem
ldevid_key = ldevid.key
idevid_cert = idevid.pem
idevid_key = idevid.key
firmware = 2.0.1
EOF
echo "\$ ztp-agent --state gateway --once"
"$BIN/ztp-agent" --state "$gd" --once --max-wait 60 2>&1 | sed 's/^/    /'
run "$BIN/ztpctl" gateway show "$GWM"

step "a signed command and its result"
"$BIN/ztp-agent" --state "$gd" >"$demo/agent.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 1 100); do
	grep -q 'operational: status published' "$demo/agent.log" && break
	sleep 0.1
done
run "$BIN/ztpctl" gateway command "$GWM" status

step "done"
echo "ztpd log: $(grep -c . "$demo/ztpd.log") lines; stopping ztpd"
