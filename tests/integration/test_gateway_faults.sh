#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Gateways over MQTT when things break (docs/gateways.md "Faults"), with a
# real Mosquitto and the gateway played by the broker's clients:
#
#   1. the broker restarted while ztpd runs: ztpd reconnects (with back-off)
#      and the requests that come after are served; the broker accounts
#      made before (dynamic security's file) still work
#   2. ztpd's front killed between the approval and the bundle, at each of
#      three points (nothing made yet; the bundle kept but not published;
#      published but not recorded as sent): the restarted front delivers
#      the bundle, every answer the gateway hears carries the same bundle
#      id, and that bundle's one-time password enrols
#
# By hand: ZTP_BUILD=build ZTP_SRC=. bash tests/integration/test_gateway_faults.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$SRC/tests/integration/lib_est.sh"
. "$SRC/tests/integration/lib_ztpctl.sh"
. "$SRC/tests/integration/lib_mqtt.sh"
. "$SRC/tests/integration/lib_gateway.sh"

gw_setup
ok_run gateway-batch create line-9
BATCH_PW=$(sed -n 's/^batch_password = //p' "$T/out")

# ask UDID OUT [N]: the gateway UDID asks; its answers (at most N, 15 s) go to OUT
ask() {
	gw_identities "$1"
	msub "$1" "ztp/prov/$1/bundle" "$2" "${3:-1}"
	request "$1" "$2.req" line-9 "$BATCH_PW"
	mpub "$1" "ztp/prov/$1/req" "$2.req"
}

# ---- 1. the broker restarted ----
ok_run gateway expect gw-before
ask gw-before "$T/before"
wait_file "$T/before" || fail "no bundle before the restart"
n=$(grep -c 'mqtt: connected to the broker' "$T/ztpd.log")
mqtt_restart
gw_wait_connected $((n + 1))
ok_run gateway expect gw-after
ask gw-after "$T/after"
wait_file "$T/after" || fail "no bundle after the broker's restart"
eq "$(jq -r .state "$T/after")" approved "answer after the restart"
# the account made before the restart still opens the operational listener
B=$T/before
est_key "$T/before.key"
est_csr "$T/before.key" gw-before "$T/before.csr"
code=$(EST_CA=$DATA/ca.pem est_enroll simpleenroll "$T/before.csr" "$T/before.pem" \
	--cert "$F/gw-before.ldevid.pem" --key "$F/gw-before.ldevid.key" \
	-u "gw-before:$(jq -r .est_password "$B")")
eq "$code" 200 "enrolment with the bundle from before the restart"
oppub "$T/before.pem" "$T/before.key" gw-before "$(jq -r .mqtt_password "$B")" \
	"ztp/dev/gw-before/status" \
	"{\"v\":1,\"udid\":\"gw-before\",\"state\":\"online\",\"serial\":\"$(est_serial "$T/before.pem")\"}"
ok "the broker restarted: ztpd reconnected, accounts kept, requests served"

# ---- 2. ztpd's front killed between the approval and the bundle ----
i=0
for fp in gw_before_bundle gw_bundle_kept gw_bundle_published; do
	i=$((i + 1))
	u=gw-fault-$i
	ZTPD=$ZTPD_FAULT est_start_under env ZTP_FAULT=$fp -- "${ZTPD_GW_OPTS[@]}"
	gw_wait_connected 1
	ztpd_children
	front=$FRONT_PID
	n=$(grep -c 'mqtt: connected to the broker' "$T/ztpd.log")
	ok_run gateway expect $u
	ask $u "$T/f$i" 3
	wait_front_change "$front"
	wait_file "$T/f$i" || fail "$fp: no bundle after the front's restart"
	sleep 2 # time for a second answer, if any
	ids=$(jq -r .bundle_id "$T/f$i" | sort -u)
	[ "$(wc -l <<<"$ids")" = 1 ] || fail "$fp: answers with several bundle ids: $ids"
	eq "$(jq -r .state "$T/f$i" | sort -u)" approved "$fp: the answers"
	eq "$(db "SELECT state FROM gateways WHERE udid='$u'")" 2 "$fp: state"
	eq "$(db "SELECT bundle_id FROM gateways WHERE udid='$u'")" "$ids" "$fp: the bundle on record"
	est_key "$T/f$i.key"
	est_csr "$T/f$i.key" $u "$T/f$i.csr"
	code=$(EST_CA=$DATA/ca.pem est_enroll simpleenroll "$T/f$i.csr" "$T/f$i.pem" \
		--cert "$F/$u.ldevid.pem" --key "$F/$u.ldevid.key" \
		-u "$u:$(head -1 "$T/f$i" | jq -r .est_password)")
	eq "$code" 200 "$fp: enrolment with the delivered bundle"
	eq "$(est_ncerts $u)" 1 "$fp: certificates"
	ok "front killed at $fp: one bundle delivered, it enrols"
done
