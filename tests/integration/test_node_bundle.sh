#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The node bundle (docs/node-bundle.md): ztpd export-node on one data
# directory, ztpd join into a new one, and a second node that serves the
# first node's SIMs:
#   1. export-node writes a 0600 file with nothing in clear;
#   2. join refuses a wrong passphrase, a changed byte, a cut file, a
#      non-empty directory, a missing passphrase, a --store that would not
#      read back, and leaves the directory as it was (absent stays absent);
#   3. join writes secret.key, ca.pem, ca.key, ca.pass with the first
#      node's bytes and modes, no server.key/server.pem, and --store into
#      ztpd.conf (0600);
#   4. ztpd on the joined directory, on the first node's store (join
#      --store sqlite:DIR1/ztp.db, or its PostgreSQL database with
#      ZTP_TEST_PG; read from ztpd.conf), opens the SIM's PSK (a device
#      fetch), takes the first node's admin token, and has a server
#      certificate of its own from the same CA; with another secret.key
#      the same fetch fails and the token is refused;
#   5. a data directory with ca.pem and no ca.key: the signer refuses to
#      start, saying why, and no new CA is made.
. "$(dirname "$0")/lib.sh"

# The first node runs as every test's ztpd does ($ZTPD: with ZTP_TEST_PG, on
# a PostgreSQL database of its own); the commands and the other nodes run
# the binary itself, so that their store is the one join gave them.
NODE=$BUILD/ztpd
D1=$DATA
D2=$T/node2
BUNDLE=$T/node.bundle
PASS_FILE=$T/pass
printf 'correct horse battery staple\n' >"$PASS_FILE"
printf 'correct horse battery stapler\n' >"$T/wrong"
chmod 600 "$PASS_FILE" "$T/wrong"
seed=$(printf '%s' "$SEED_CONFIG" | xxd -p | tr -d '\n')

mode() { stat -c %a "$1"; }
# on_tty N WORD... CMD...: runs CMD on a new terminal and types the N WORDs,
# each once its prompt is out and the terminal's echo is off; prints what
# the terminal showed; exits with CMD's status
cat >"$T/on_tty.py" <<'EOF_PY'
import os, pty, select, sys, termios, time
n = int(sys.argv[1])
words, cmd = sys.argv[2:2 + n], sys.argv[2 + n:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cmd[0], cmd)
out = b''
def pump(secs):
    global out
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                d = os.read(fd, 4096)
            except OSError:
                return False
            if not d:
                return False
            out += d
    return True
for i, w in enumerate(words):
    end = time.monotonic() + 20
    while out.count(b'assphrase') <= i or termios.tcgetattr(fd)[3] & termios.ECHO:
        if time.monotonic() > end or not pump(0.05):
            sys.exit('no prompt %d with the echo off; got %r' % (i + 1, out))
    os.write(fd, w.encode() + b'\n')
while pump(0.2):
    pass
_, st = os.waitpid(pid, 0)
print(out.decode('latin-1'))
sys.exit(os.waitstatus_to_exitcode(st))
EOF_PY
on_tty() { python3 "$T/on_tty.py" "$@"; }
# join_refused DIR FILE PASSFILE WHAT: join fails, its message has WHAT
join_refused() {
	local rc=0
	"$NODE" --data "$1" join "$2" --passphrase-file "$3" >"$T/join.out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || fail "join $2 into $1 succeeded: $(cat "$T/join.out")"
	grep -q -- "$4" "$T/join.out" || fail "join $2: no '$4' in: $(cat "$T/join.out")"
}
# fetch: the seed's configuration over TLS 1.3 PSK from the running ztpd, byte for byte
fetch_ok() {
	local resp got
	resp=$(s_client_get "$(config_path)")
	[ "$(echo "$resp" | status_of)" = 200 ] || fail "$1: no 200: $resp"
	got=$(printf '%s' "$resp" | body_of | xxd -p | tr -d '\n')
	[ "$got" = "$seed" ] || fail "$1: the body differs"
}

# ---- the first node: a SIM with its PSK, a token, then stopped
start_ztpd
setup_seed_sim
fetch_ok "node 1"
TOKEN1=$ADMIN_TOKEN
stop_ztpd
if store_is_pg; then STORE1=$(pg_db_url); else STORE1=sqlite:$D1/ztp.db; fi
ok "node 1: a SIM with its PSK and configuration"

# ---- 1. export-node
"$NODE" --data "$D1" export-node --out "$BUNDLE" --passphrase-file "$PASS_FILE" \
	>"$T/export.out" 2>&1 || fail "export-node: $(cat "$T/export.out")"
[ "$(mode "$BUNDLE")" = 600 ] || fail "the bundle's mode is $(mode "$BUNDLE")"
[ "$(head -c 10 "$BUNDLE" | xxd -p)" = "5a54502d4e4f44450001" ] || fail "no ZTP-NODE v1 header"
! grep -qa -e CERTIFICATE -e PRIVATE "$BUNDLE" || fail "PEM text in clear in the bundle"
! grep -qF "$(xxd -p -c 64 "$D1/secret.key")" <(xxd -p -c 100000 "$BUNDLE") ||
	fail "secret.key in clear in the bundle"
! grep -qF "$(cat "$D1/ca.pass")" "$BUNDLE" || fail "ca.pass in clear in the bundle"
! grep -q "correct horse" "$T/export.out" || fail "the passphrase was logged"
! "$NODE" --data "$T/none" export-node --out "$T/b2" --passphrase-file "$PASS_FILE" \
	>/dev/null 2>&1 || fail "export-node of no data directory"
[ ! -e "$T/none" ] || fail "export-node created a data directory"
printf 'short\n' >"$T/short"
! "$NODE" --data "$D1" export-node --out "$T/b2" --passphrase-file "$T/short" \
	>"$T/short.out" 2>&1 || fail "export-node took a 5-character passphrase"
grep -q "at least 8" "$T/short.out" || fail "short passphrase: $(cat "$T/short.out")"
# the passphrase typed on a terminal: twice, without echo
on_tty 2 "typed on a tty" "typed on a tty" "$NODE" --data "$D1" export-node --out "$T/tty.bundle" \
	>"$T/tty.out" 2>&1 || fail "export-node on a terminal: $(cat "$T/tty.out")"
[ "$(grep -o 'assphrase' "$T/tty.out" | wc -l)" -ge 2 ] || fail "not asked twice: $(cat "$T/tty.out")"
! grep -q "typed on" "$T/tty.out" || fail "the passphrase was echoed: $(cat "$T/tty.out")"
[ "$(mode "$T/tty.bundle")" = 600 ] || fail "tty bundle mode"
! on_tty 2 "typed on a tty" "typed on a ttx" "$NODE" --data "$D1" export-node --out "$T/tty2" \
	>"$T/tty.out" 2>&1 || fail "export-node took two different passphrases"
[ ! -e "$T/tty2" ] || fail "export-node wrote a bundle with two different passphrases"
on_tty 1 "typed on a tty" "$NODE" --data "$T/ttynode" join "$T/tty.bundle" >"$T/tty.out" 2>&1 ||
	fail "join on a terminal: $(cat "$T/tty.out")"
! grep -q "typed on" "$T/tty.out" || fail "the passphrase was echoed: $(cat "$T/tty.out")"
cmp -s "$D1/secret.key" "$T/ttynode/secret.key" || fail "join on a terminal: secret.key differs"
ok "export-node: a 0600 file, no key or certificate in clear, refusals; on a terminal asked twice without echo"

# ---- 2. refusals that leave the directory as it was
join_refused "$D2" "$BUNDLE" "$T/wrong" "wrong passphrase"
[ ! -e "$D2" ] || fail "a refused join created $D2"
ls "$T" | grep -q 'join-' && fail "a refused join left a staging directory: $(ls "$T")"
# flip_byte FILE OFFSET: one bit of that byte changed in place
flip_byte() {
	local b
	b=$(xxd -s "$2" -l 1 -p "$1")
	printf "\\x$(printf %02x $((0x$b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
cp "$BUNDLE" "$T/flipped"
flip_byte "$T/flipped" 100
cmp -s "$BUNDLE" "$T/flipped" && fail "the flipped copy is the same"
join_refused "$D2" "$T/flipped" "$PASS_FILE" "the file was changed"
head -c $(($(stat -c %s "$BUNDLE") - 1)) "$BUNDLE" >"$T/cut"
join_refused "$D2" "$T/cut" "$PASS_FILE" "truncated"
head -c 20 "$BUNDLE" >"$T/cut"
join_refused "$D2" "$T/cut" "$PASS_FILE" "truncated"
join_refused "$D2" "$T/export.out" "$PASS_FILE" "not a ztp node bundle"
flip_byte "$T/flipped" 8 # version 0x0001 to 0x0101
join_refused "$D2" "$T/flipped" "$PASS_FILE" "version 257"
[ ! -e "$D2" ] || fail "a refused join created $D2"
# an empty directory stays empty
mkdir -m 0750 "$D2"
join_refused "$D2" "$BUNDLE" "$T/wrong" "wrong passphrase"
[ -z "$(ls -A "$D2")" ] && [ "$(mode "$D2")" = 750 ] || fail "a refused join changed $D2"
rmdir "$D2"
# a directory with anything in it: refused before the passphrase is asked
mkdir "$T/busy" && touch "$T/busy/x"
join_refused "$T/busy" "$BUNDLE" "$PASS_FILE" "not empty"
[ "$(ls -A "$T/busy")" = x ] || fail "join changed a non-empty directory"
# no passphrase file, stdin not a terminal
rc=0
"$NODE" --data "$D2" join "$BUNDLE" </dev/null >"$T/join.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && grep -q "passphrase-file" "$T/join.out" || fail "join without a passphrase: $(cat "$T/join.out")"
# a store URL that would not read back from ztpd.conf
rc=0
"$NODE" --data "$D2" --store "$(printf 'sqlite:/x\nworkers = 3')" join "$BUNDLE" \
	--passphrase-file "$PASS_FILE" >"$T/join.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "join took a store URL with a newline"
[ ! -e "$D2" ] || fail "a refused join created $D2"
# a store URL with its password in it: never written to ztpd.conf, never shown
rc=0
"$NODE" --data "$D2" --store "postgresql://ztp:hunter2secret@127.0.0.1/ztp" join "$BUNDLE" \
	--passphrase-file "$PASS_FILE" >"$T/join.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && grep -q "password file" "$T/join.out" || fail "join took a store URL with a password: $(cat "$T/join.out")"
grep -q hunter2secret "$T/join.out" && fail "join showed the URL's password"
[ ! -e "$D2" ] || fail "a refused join created $D2"
ls "$T" | grep -q 'join-' && fail "a refused join left a staging directory: $(ls "$T")"
ok "join refuses a wrong passphrase, a changed byte, a cut file, another version, a non-empty directory, no passphrase, a store URL with a password; nothing is left behind"

# ---- 3. join, with node 1's database as the store
"$NODE" --data "$D2" --store "$STORE1" join "$BUNDLE" --passphrase-file "$PASS_FILE" \
	>"$T/join.out" 2>&1 || fail "join: $(cat "$T/join.out")"
for f in secret.key ca.key ca.pass ca.pem; do
	cmp -s "$D1/$f" "$D2/$f" || fail "$f differs from node 1's"
	[ "$(mode "$D2/$f")" = "$(mode "$D1/$f")" ] || fail "$f: mode $(mode "$D2/$f"), node 1 has $(mode "$D1/$f")"
done
[ "$(mode "$D2/secret.key")" = 600 ] && [ "$(mode "$D2/ca.key")" = 600 ] &&
	[ "$(mode "$D2/ca.pass")" = 600 ] && [ "$(mode "$D2/ca.pem")" = 644 ] || fail "modes"
[ "$(mode "$D2")" = 700 ] || fail "the new directory's mode is $(mode "$D2")"
[ "$(ls -A "$D2" | sort | tr '\n' ' ')" = "ca.key ca.pass ca.pem secret.key ztpd.conf " ] ||
	fail "the joined directory holds: $(ls -A "$D2")"
[ "$(mode "$D2/ztpd.conf")" = 600 ] || fail "ztpd.conf's mode is $(mode "$D2/ztpd.conf")"
grep -qxF "store = $STORE1" "$D2/ztpd.conf" || fail "ztpd.conf: $(cat "$D2/ztpd.conf")"
! grep -q "correct horse" "$T/join.out" || fail "the passphrase was logged"
D4=$T/node4
"$NODE" --data "$D4" --store "postgresql://ztp@db.example/ztp?passfile=/etc/ztp/pgpass" join \
	"$BUNDLE" --passphrase-file "$PASS_FILE" >"$T/join.out" 2>&1 || fail "join --store: $(cat "$T/join.out")"
grep -qx 'store = postgresql://ztp@db.example/ztp?passfile=/etc/ztp/pgpass' "$D4/ztpd.conf" ||
	fail "ztpd.conf: $(cat "$D4/ztpd.conf")"
ok "join: node 1's secret.key, ca.pem, ca.key, ca.pass with their modes, no server key; --store in ztpd.conf (0600)"

# ---- 4. the second node on node 1's database
D6=$T/node6 # the same, with another secret.key: the control
cp -a "$D2" "$D6"
head -c 32 /dev/urandom >"$D6/secret.key"

DATA=$D2
ZTPD=$NODE start_ztpd # the store from DIR2/ztpd.conf
fetch_ok "node 2"
[ ! -e "$D2/ztp.db" ] || fail "node 2 made a database of its own"
[ -s "$D2/server.pem" ] && [ -s "$D2/server.key" ] || fail "node 2 issued no server certificate"
cmp -s "$D1/server.pem" "$D2/server.pem" && fail "node 2 has node 1's server certificate"
[ "$(openssl x509 -in "$D1/server.pem" -noout -pubkey)" != "$(openssl x509 -in "$D2/server.pem" -noout -pubkey)" ] ||
	fail "node 2's server key is node 1's"
openssl verify -CAfile "$D1/ca.pem" "$D2/server.pem" >/dev/null || fail "node 2's certificate does not chain to node 1's CA"
# the admin API: node 2's TLS verifies with node 1's ca.pem, and node 1's token is good here
st=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$D1/ca.pem" -H "Authorization: Bearer $TOKEN1" \
	"https://127.0.0.1:$ADMIN_PORT/v1/sims/$ICCID")
[ "$st" = 200 ] || fail "node 1's admin token on node 2: $st"
[ "$(DATA=$D1 db 'SELECT count(*) FROM api_keys')" = 1 ] || fail "node 2 created another admin key"
[ ! -e "$D2/admin.json" ] || fail "node 2 wrote an admin.json"
stop_ztpd
ok "node 2: the SIM's PSK opens (a fetch), node 1's admin token works, its own server certificate from the same CA"

DATA=$D6
ZTPD=$NODE start_ztpd
resp=$(s_client_get "$(config_path)" || true)
[ "$(echo "$resp" | status_of)" != 200 ] || fail "a node with another secret.key opened the PSK"
# it is up, and it refuses node 1's token: the token key comes from secret.key too
st=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$D1/ca.pem" -H "Authorization: Bearer $TOKEN1" \
	"https://127.0.0.1:$ADMIN_PORT/v1/sims/$ICCID")
[ "$st" = 401 ] || fail "node 1's token on a node with another secret.key: $st"
stop_ztpd
ok "control: with another secret.key the same database's PSK does not open, node 1's token is refused"

# ---- 5. the CA certificate without its key: the signer says why and makes no CA
D5=$T/node5
"$NODE" --data "$D5" join "$BUNDLE" --passphrase-file "$PASS_FILE" >/dev/null 2>&1 || fail "join node5"
rm "$D5/ca.key" "$D5/ca.pass"
rc=0
timeout 60 "$NODE" --data "$D5" --device-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
	>"$T/d5.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "ztpd ran without the CA key"
grep -q "has no ca.key beside it" "$T/d5.log" || fail "no reason given: $(cat "$T/d5.log")"
[ ! -e "$D5/ca.key" ] && cmp -s "$D1/ca.pem" "$D5/ca.pem" || fail "a new CA was made in $D5"
ok "ca.pem without ca.key: the signer refuses to start and says why; no new CA"
