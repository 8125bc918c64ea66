#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ztpd's trust boundaries (docs/architecture.md), started as root as a
# service manager would:
#   1. ps shows the parent as root, the front and the signer as ztp;
#   2. the front cannot open ca.key or ca.pass, and neither the CA key, nor
#      ca.pass, nor ca.key's bytes are anywhere in its memory
#      (/proc/PID/mem), while the data key it needs is (the search works);
#   3. the signer runs under a system-call filter: a forbidden call kills
#      it (SIGSYS), the parent starts a new one, certificates are issued
#      again;
#   4. SIGHUP reads the configuration again: a new front with it, on the
#      same ports, the old one drained; an invalid file changes nothing;
#   5. a second ztpd on the same data directory exits at once, naming the
#      pid that holds it, and changes nothing;
#   6. --user root is the only way to keep root; a missing user is refused.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_est.sh"

if [ "$(id -u)" != 0 ] || ! id ztp >/dev/null 2>&1; then
	echo "SKIP: needs root and the user ztp (scripts/install-deps.sh creates it)"
	exit 0
fi
ZTP_UID=$(id -u ztp)

# ---- 1. three processes, two users
ZTPD=$ZTPD_FAULT est_start_under env ZTP_FAULT=signer_syscall --
user_of() { ps -o user= -p "$1" | tr -d ' '; }
[ "$(user_of "$ZTPD_PID")" = root ] || fail "the parent runs as $(user_of "$ZTPD_PID")"
[ "$(user_of "$FRONT_PID")" = ztp ] || fail "the front runs as $(user_of "$FRONT_PID")"
[ "$(user_of "$SIGNER_PID")" = ztp ] || fail "the signer runs as $(user_of "$SIGNER_PID")"
[ "$(ps -o comm= -p "$FRONT_PID")" = ztpd-front ] && [ "$(ps -o comm= -p "$SIGNER_PID")" = ztpd-signer ] ||
	fail "process names: $(ps -o pid,comm --ppid "$ZTPD_PID")"
for p in "$FRONT_PID" "$SIGNER_PID"; do
	grep -Eq "^Uid:\s+$ZTP_UID\s+$ZTP_UID\s+$ZTP_UID\s+$ZTP_UID$" "/proc/$p/status" ||
		fail "$p: not ztp in every uid: $(grep Uid "/proc/$p/status")"
	grep -Eq '^CapEff:\s+0+$' "/proc/$p/status" || fail "$p has capabilities: $(grep CapEff "/proc/$p/status")"
done
grep -Eq '^Seccomp:\s+2$' "/proc/$SIGNER_PID/status" || fail "the signer has no seccomp filter"
grep -Eq '^NoNewPrivs:\s+1$' "/proc/$SIGNER_PID/status" || fail "the signer can gain privileges"
ps -o user,pid,ppid,comm -p "$ZTPD_PID,$FRONT_PID,$SIGNER_PID"
ok "ps: parent $ZTPD_PID root, front $FRONT_PID ztp, signer $SIGNER_PID ztp (no capabilities; the signer filtered)"

for f in ca.key ca.pass secret.key; do
	[ "$(stat -c '%U %a' "$DATA/$f")" = "root 600" ] || fail "$f: $(stat -c '%U %a' "$DATA/$f")"
done
[ "$(stat -c '%U %G %a' "$DATA")" = "root ztp 1770" ] || fail "data directory: $(stat -c '%U %G %a' "$DATA")"
store_is_pg || [ "$(stat -c '%U' "$DATA/ztp.db")" = ztp ] || fail "ztp.db: $(stat -c '%U' "$DATA/ztp.db")"
ok "ownership: ca.key, ca.pass, secret.key root 0600; the directory root:ztp 1770; the store ztp's"

# ---- 2. the CA secret is out of the front's reach
for f in ca.key ca.pass; do
	if setpriv --reuid="$ZTP_UID" --regid="$(id -g ztp)" --clear-groups cat "$DATA/$f" >/dev/null 2>"$T/err"; then
		fail "the front's user can read $f"
	fi
	grep -q 'Permission denied' "$T/err" || fail "reading $f as ztp: $(cat "$T/err")"
	# nor replace it: the directory is sticky
	if setpriv --reuid="$ZTP_UID" --regid="$(id -g ztp)" --clear-groups mv "$DATA/$f" "$DATA/$f.x" 2>/dev/null; then
		fail "the front's user can rename $f"
	fi
done
ok "as the front's user, ca.key and ca.pass can be neither read nor renamed"

# an enrolment first: the front has talked to the signer
est_device dev1 "$T"
[ "$(est_enroll simpleenroll "$T/dev1.csr" "$T/dev1.pem")" = 200 ] || fail "enrolment: $(cat "$EST_OUT")"

# what would give the CA key away: its private scalar, ca.pass (text and
# bytes), ca.key's encrypted body; and, to show the search finds what is
# there, the data key the front must hold
openssl pkey -in "$DATA/ca.key" -passin "file:$DATA/ca.pass" -noout -text 2>/dev/null |
	awk '/^priv:/{p=1; next} /^pub:/{p=0} p' | tr -d ' :\n' >"$T/ca.priv.hex"
[ "$(wc -c <"$T/ca.priv.hex")" -ge 60 ] || fail "cannot read the CA's private scalar for the search"
python3 - "$FRONT_PID" "$DATA" "$T/ca.priv.hex" <<'EOF' || fail "the front's memory search failed"
import binascii, re, sys
pid, data, privfile = sys.argv[1], sys.argv[2], sys.argv[3]
priv = binascii.unhexlify(open(privfile).read().strip())
priv = priv.lstrip(b"\0") if len(priv) > 32 else priv
passtxt = open(data + "/ca.pass", "rb").read().strip()
body = b"".join(l for l in open(data + "/ca.key", "rb").read().splitlines() if l and not l.startswith(b"-") and b":" not in l)
needles = {
    "CA private key": priv,
    "ca.pass (text)": passtxt,
    "ca.pass (bytes)": binascii.unhexlify(passtxt),
    "ca.pass (upper-case text)": passtxt.upper(),
    "ca.key (encrypted body)": body[:48],
}
datakey = open(data + "/secret.key", "rb").read()
found = {k: 0 for k in needles}
control = 0
mem = open("/proc/%s/mem" % pid, "rb", 0)
total = 0
CHUNK, OVERLAP = 4 << 20, 64
for line in open("/proc/%s/maps" % pid):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
    lo, hi, perms = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
    # not readable, the kernel's, or a reservation over 1 GiB (a sanitizer's
    # shadow memory): not where a key is kept
    if perms[0] != "r" or "[vvar]" in line or "[vsyscall]" in line or hi - lo > (1 << 30):
        continue
    pos = lo
    while pos < hi:
        try:
            mem.seek(pos)
            chunk = mem.read(min(CHUNK + OVERLAP, hi - pos))
        except OSError:
            break
        total += len(chunk)
        for k, n in needles.items():
            if n in chunk:
                found[k] += 1
        if datakey in chunk:
            control += 1
        pos += CHUNK
print("searched %d MiB of the front's memory" % (total >> 20))
if control == 0:
    print("the data key was not found: the search does not work")
    sys.exit(1)
bad = [k for k, v in found.items() if v]
if bad:
    print("found in the front's memory: " + ", ".join(bad))
    sys.exit(1)
EOF
ok "the front's memory (/proc/$FRONT_PID/mem) holds the data key but not the CA key, ca.pass or ca.key"

# ---- 3. the seccomp filter: a forbidden call kills the signer, the parent starts another
s1=$SIGNER_PID
kill -USR1 "$s1" # ZTP_FAULT=signer_syscall: the signer calls socket()
for _ in $(seq 1 100); do [ -d "/proc/$s1" ] || break; sleep 0.05; done
[ -d "/proc/$s1" ] && fail "the signer survived a forbidden system call"
grep -q "signer $s1 was killed by signal 31" "$T/ztpd.log" ||
	fail "the parent did not log the signer's SIGSYS: $(grep "signer $s1" "$T/ztpd.log")"
for _ in $(seq 1 100); do
	ztpd_children
	[ -n "$SIGNER_PID" ] && [ "$SIGNER_PID" != "$s1" ] && break
	sleep 0.05
done
[ "$SIGNER_PID" != "$s1" ] || fail "no new signer"
grep -Eq '^Seccomp:\s+2$' "/proc/$SIGNER_PID/status" || fail "the new signer has no filter"
sleep 0.3
est_device dev2 "$T"
[ "$(est_enroll simpleenroll "$T/dev2.csr" "$T/dev2.pem")" = 200 ] || fail "enrolment after the restart: $(cat "$EST_OUT")"
ok "a forbidden system call killed the signer $s1 (SIGSYS); the parent started $SIGNER_PID, which issues certificates"

# ---- 4. SIGHUP: the configuration read again, a new front on the same ports
crl_span() { # the CRL's nextUpdate - lastUpdate, in seconds
	[ "$(EST_OUT=$T/crl.der est /crl)" = 200 ] || fail "GET /crl"
	echo $(($(date -d "$(openssl crl -inform DER -in "$T/crl.der" -noout -nextupdate | cut -d= -f2)" +%s) -
		$(date -d "$(openssl crl -inform DER -in "$T/crl.der" -noout -lastupdate | cut -d= -f2)" +%s)))
}
f1=$FRONT_PID
ports=$(jq -c '[.device, .admin, .est]' "$DATA/run.json")
echo "crl-validity = nonsense" >"$DATA/ztpd.conf"
kill -HUP "$ZTPD_PID"
for _ in $(seq 1 100); do grep -q "SIGHUP: the configuration is not valid" "$T/ztpd.log" && break; sleep 0.05; done
grep -q "SIGHUP: the configuration is not valid" "$T/ztpd.log" || fail "an invalid configuration on SIGHUP was not reported"
ztpd_children
[ "$FRONT_PID" = "$f1" ] || fail "an invalid configuration replaced the front"
echo "crl-validity = 7200" >"$DATA/ztpd.conf"
kill -HUP "$ZTPD_PID"
wait_front_change "$f1"
for _ in $(seq 1 100); do [ -d "/proc/$f1" ] || break; sleep 0.1; done
[ -d "/proc/$f1" ] && fail "the old front $f1 did not drain and exit"
[ "$(jq -c '[.device, .admin, .est]' "$DATA/run.json")" = "$ports" ] || fail "the ports changed: $ports, now $(jq -c '[.device, .admin, .est]' "$DATA/run.json")"
[ "$(user_of "$FRONT_PID")" = ztp ] || fail "the new front runs as $(user_of "$FRONT_PID")"
unset ADMIN_TOKEN
est_revoke "$(est_serial "$T/dev1.pem")"
[ "$(crl_span)" = 7200 ] || fail "the new front does not use crl-validity 7200: $(crl_span)"
rm -f "$DATA/ztpd.conf"
ok "SIGHUP: an invalid file is reported and changes nothing; a valid one starts front $FRONT_PID on the same ports ($ports) with it, the old front $f1 drained"

# ---- 5. one ztpd per data directory
before=$(cat "$DATA/run.json")
set +e
"$ZTPD" --data "$DATA" --device-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 >"$T/second.out" 2>&1
rc=$?
set -e
[ "$rc" != 0 ] || fail "a second ztpd on the same data directory started"
grep -q "in use by another ztpd (pid $ZTPD_PID)" "$T/second.out" || fail "the refusal does not name pid $ZTPD_PID: $(cat "$T/second.out")"
[ "$(cat "$DATA/run.json")" = "$before" ] || fail "the second ztpd changed run.json"
[ "$(pgrep -c -f -- "--data $DATA ")" = 3 ] || fail "processes on $DATA: $(pgrep -a -f -- "--data $DATA ")"
[ "$(est /.well-known/est/cacerts)" = 200 ] || fail "the first ztpd stopped serving"
ok "a second ztpd on $DATA exits ($rc): 'in use by another ztpd (pid $ZTPD_PID)'; run.json unchanged"
est_stop
[ ! -e "$DATA/run.json" ] || fail "run.json left after the stop"
[ -z "$(pgrep -f -- "--data $DATA " || true)" ] || fail "processes left: $(pgrep -a -f -- "--data $DATA ")"
ok "SIGTERM: the parent, the front and the signer are gone, run.json removed"

# ---- 6. users
set +e
"$ZTPD" --data "$DATA" --user ztp-no-such-user --admin-listen 127.0.0.1:0 >"$T/nouser.out" 2>&1
rc=$?
set -e
[ "$rc" != 0 ] && grep -q "user ztp-no-such-user does not exist" "$T/nouser.out" ||
	fail "a missing user: $rc $(cat "$T/nouser.out")"
est_start --user root
[ "$(user_of "$FRONT_PID")" = root ] || fail "--user root: the front runs as $(user_of "$FRONT_PID")"
est_stop
ok "--user NAME that does not exist is refused; --user root keeps root, explicitly"
