# SPDX-License-Identifier: Apache-2.0
# Helpers of the EST integration tests (sourced after lib.sh): ztpd with
# an EST listener, possibly under a wrapper (faketime, strace, env), an
# `est` request wrapper, device keys and CSRs made with openssl, PKCS#7
# answers to PEM, the allowlist and revocations through the admin API.
#
# EST answers are base64 in lines (RFC 8951: CRLF or LF); est_b64_decode
# takes either (coreutils' base64 -d chokes on a CR).

EST_PORT=""
EST_OUT=$T/est.out # body of the last est call
EST_HDR=$T/est.hdr # its response headers
EST_ERR=$T/est.err # curl's error message, if any

# est_start [ztpd options...]: start_ztpd with an EST listener; sets EST_PORT
est_start() { est_start_under -- "$@"; }

# est_start_under [WRAPPER...] -- [ztpd options...]: ztpd run by a wrapper
# command (e.g. `faketime -f -3d`, `env ZTP_FAULT=x`, `strace -f -o F`;
# a fault armed needs ZTPD=$ZTPD_FAULT for the call)
# that may fork. ZTPD_PID is ztpd's own pid (from run.json), so that
# stop_ztpd, kill -9 and the cleanup trap reach ztpd and not the wrapper;
# wrappers exit with it. EST_LAUNCH_PID is the launched command's pid.
# A ztpd this script started before is stopped first: one at a time.
est_start_under() {
	local wrap=() pid=""
	est_stop
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		wrap+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	rm -f "$DATA/run.json"
	"${wrap[@]}" "$ZTPD" --data "$DATA" --device-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
		--est-listen 127.0.0.1:0 --workers 2 "$@" >>"$T/ztpd.log" 2>&1 &
	EST_LAUNCH_PID=$!
	disown # no "Killed" job reports from kill -9 tests; est_stop waits for it
	for _ in $(seq 1 400); do
		if [ -s "$DATA/run.json" ]; then
			pid=$(jq -r .pid "$DATA/run.json" 2>/dev/null || true)
			[ -n "$pid" ] && [ "$pid" != null ] && kill -0 "$pid" 2>/dev/null && break
			pid=""
		fi
		kill -0 "$EST_LAUNCH_PID" 2>/dev/null || fail "ztpd exited at start (${wrap[*]} $*)"
		sleep 0.05
	done
	if [ -z "$pid" ]; then
		pkill -KILL -P "$EST_LAUNCH_PID" 2>/dev/null || true
		kill -KILL "$EST_LAUNCH_PID" 2>/dev/null || true
		fail "ztpd did not write run.json (${wrap[*]} $*)"
	fi
	ZTPD_PID=$pid
	DEVICE_PORT=$(jq -r .device "$DATA/run.json" | sed 's/.*://')
	ADMIN_PORT=$(jq -r .admin "$DATA/run.json" | sed 's/.*://')
	EST_PORT=$(jq -r .est "$DATA/run.json" | sed 's/.*://')
	ztpd_children
	[ -n "$EST_PORT" ] && [ "$EST_PORT" != null ] || fail "run.json has no EST address"
	export ZTP_ADMIN=$DATA/admin.json
	unset ADMIN_TOKEN
}

# est_stop: stop ztpd (SIGTERM, then SIGKILL) and wait for its wrapper
est_stop() {
	stop_ztpd
	if [ -n "${EST_LAUNCH_PID:-}" ]; then
		for _ in $(seq 1 100); do
			kill -0 "$EST_LAUNCH_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$EST_LAUNCH_PID" 2>/dev/null || true
		EST_LAUNCH_PID=""
	fi
}

# est_wait_dead: after the front killed itself (a fault point) or ztpd was
# killed: wait until that front is gone, then stop what is left
est_wait_dead() {
	local front=$FRONT_PID
	for _ in $(seq 1 100); do
		kill -0 "$front" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$front" 2>/dev/null && fail "the front $front is still running"
	est_stop
}

# est PATH [curl options...]: an HTTPS request to the EST listener, trusting
# EST_CA (default DATA/ca.pem). The body goes to EST_OUT, the headers to
# EST_HDR, curl's error to EST_ERR. Prints the status code, 000 when there
# was no complete HTTP answer (a refused handshake, a dead server, a cut
# body). Never fails.
est() {
	local path=$1 code rc=0
	shift
	code=$(curl -sS --max-time 20 --cacert "${EST_CA:-$DATA/ca.pem}" -o "$EST_OUT" -D "$EST_HDR" \
		-w '%{http_code}' "$@" "https://127.0.0.1:$EST_PORT$path" 2>"$EST_ERR") || rc=$?
	[ "$rc" = 0 ] || code=000
	echo "$code"
}

# est_b64_decode: base64 (any line ends) on stdin to bytes on stdout
est_b64_decode() { tr -d '\r\n ' | openssl base64 -d -A; }

# est_p7_pem IN OUT: the certificates of a base64 PKCS#7 answer, as PEM
est_p7_pem() {
	est_b64_decode <"$1" | openssl pkcs7 -inform DER -print_certs -out "$2"
}

# est_key FILE: a new P-256 private key (PEM)
est_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# est_csr KEY UDID OUT: a DER PKCS#10 request with CN=UDID for KEY
est_csr() { openssl req -new -key "$1" -subj "/CN=$2" -outform DER -out "$3"; }

# est_key_sha256 KEY: hex SHA-256 of the DER SubjectPublicKeyInfo of KEY
est_key_sha256() { openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -c1-64; }

# est_serial CERT: the serial of a PEM certificate, upper-case hex as stored
est_serial() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'; }

# est_enroll OP CSR OUT [curl options...]: POST the DER CSR to
# /.well-known/est/OP (simpleenroll, simplereenroll); on 200 the issued
# certificate goes to OUT as PEM. Prints the status code; the raw answer is
# in EST_OUT. OUT.req is the request body.
est_enroll() {
	local op=$1 csr=$2 out=$3 code
	shift 3
	openssl base64 -in "$csr" -out "$out.req"
	code=$(est "/.well-known/est/$op" -H 'Content-Type: application/pkcs10' \
		--data-binary "@$out.req" "$@")
	if [ "$code" = 200 ]; then
		est_p7_pem "$EST_OUT" "$out" || code=bad
	fi
	echo "$code"
}

# est_allow UDID KEY: puts UDID on the allowlist with the public key of KEY
# (admin API)
est_allow() {
	local out
	: "${ADMIN_TOKEN:=$(admin_token)}"
	out=$(admin POST /v1/allowlist "$(jq -nc --arg u "$1" --arg k "$(openssl pkey -in "$2" -pubout)" \
		'{udid: $u, pubkey: $k}')")
	case "$(echo "$out" | tail -1)" in
	200 | 201) ;;
	*) fail "allowlist $1: $out" ;;
	esac
}

# est_revoke SERIAL [REASON]: revokes a certificate (admin API; default
# keyCompromise); ztpd re-signs the CRL at once
est_revoke() {
	local out
	: "${ADMIN_TOKEN:=$(admin_token)}"
	out=$(admin POST "/v1/certs/$1/revoke" "$(jq -nc --arg r "${2:-keyCompromise}" '{reason: $r}')")
	[ "$(echo "$out" | tail -1)" = 200 ] || fail "revoke $1: $out"
}

# est_device UDID DIR: a key and a CSR for UDID (DIR/UDID.key, DIR/UDID.csr),
# allowlisted
est_device() {
	est_key "$2/$1.key"
	est_csr "$2/$1.key" "$1" "$2/$1.csr"
	est_allow "$1" "$2/$1.key"
}

# est_signer_pid: the pid of ztpd's CA signer process (run.json)
est_signer_pid() { ztpd_children; echo "$SIGNER_PID"; }

# est_crl_number DER: the CRL number of a DER CRL, in decimal
est_crl_number() {
	local n
	n=$(openssl crl -inform DER -in "$1" -noout -crlnumber | sed 's/^crlNumber=//; s/^0x//')
	echo $((16#$n))
}

# est_password UDID [GROUP]: prints a new one-time enrolment password for
# UDID (admin API, 10 minutes), its group GROUP if given
est_password() {
	local out
	: "${ADMIN_TOKEN:=$(admin_token)}"
	out=$(admin POST /v1/enrolment-passwords "$(jq -nc --arg u "$1" --arg g "${2:-}" \
		'{udid: $u, ttl_s: 600} + (if $g == "" then {} else {group: $g} end)')")
	[ "$(echo "$out" | tail -1)" = 201 ] || fail "password for $1: $out"
	head -1 <<<"$out" | jq -r .password
}

# est_mfr_ca NAME DIR: a self-signed manufacturer (IDevID) CA, DIR/NAME.key
# and DIR/NAME.pem, subject "/O=NAME/CN=NAME IDevID CA" (distinct subjects:
# trust stores look CAs up by subject)
est_mfr_ca() {
	est_key "$2/$1.key"
	openssl req -x509 -new -key "$2/$1.key" -subj "/O=$1/CN=$1 IDevID CA" -days 30 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$2/$1.pem"
}

# est_idevid CA DIR NAME SUBJECT: an IDevID issued by the manufacturer CA
# DIR/CA.{key,pem} for SUBJECT (e.g. "/CN=model-x/serialNumber=SN123"):
# DIR/NAME.key and DIR/NAME.pem
est_idevid() {
	est_key "$2/$3.key"
	openssl req -new -key "$2/$3.key" -subj "$4" -out "$2/$3.idreq"
	openssl x509 -req -in "$2/$3.idreq" -CA "$2/$1.pem" -CAkey "$2/$1.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 30 -out "$2/$3.pem" 2>/dev/null
}

# est_ncerts UDID: the number of certificates on record for UDID
est_ncerts() { db "SELECT count(*) FROM certs WHERE udid='$1'"; }
