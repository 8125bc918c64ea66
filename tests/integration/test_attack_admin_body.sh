#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# An unauthenticated caller cannot make the front hold request bodies
# (issue 11): 300 TLS connections to the admin port at once, each a POST
# with Content-Length 2 MiB and no Authorization header that writes its
# whole body as fast as the server takes it, then holds. The front's RSS
# (VmRSS) stays within 50 MB of its idle RSS during the attack and is back
# within 50 MB after it. A memory figure, not a time: RSS is polled, the
# waits have deadlines. Prints idle, peak and after.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_attack.sh"

N=${ATTACK_BODIES:-300}
SIZE=$((2 * 1024 * 1024))
LIMIT_MB=50

# a sanitizer build (CI's second pass) keeps up to 256 MB of freed memory in
# ASan's quarantine, which RSS would count: keep it small (a plain build
# ignores the variable)
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8
start_ztpd
setup_seed_sim
FRONT=$FRONT_PID
[ -n "$FRONT" ] && [ -r "/proc/$FRONT/status" ] || fail "no front process in run.json"

# idle: after a few calls of each kind, so that the first-use allocations are made
measure "$T/warm" -n 20 --pause-ms 10
idle=$(rss_mb "$FRONT")

start_attack bodies bodies "$N" "$SIZE" --target "127.0.0.1:$ADMIN_PORT" --src "$ATTACK_SRC" \
	--duration 300
# during: until every connection is past its handshake and has either
# written its whole body or been closed, or has written nothing more for
# 3 s (a server that stops reading), 60 s at most; then 2 s more
peak=$idle
quiet=0
last_out=-1
settled=""
for _ in $(seq 1 600); do
	r=$(rss_mb "$FRONT")
	[ "$r" -gt "$peak" ] && peak=$r
	kill -0 "${ATTACK_PID[bodies]}" 2>/dev/null || fail "the attacker exited: $(tail -3 "$T/bodies.err")"
	if [ -z "$settled" ] && [ "$(progress_of bodies connects)" -ge "$N" ] &&
		[ "$(progress_of bodies connecting)" = 0 ] && [ "$(progress_of bodies handshaking)" = 0 ]; then
		if [ "$(progress_of bodies sending)" = 0 ]; then
			settled="every body written or refused"
		else
			out=$(grep -c '^progress:' "$T/bodies.err")
			# progress lines come every second; compare bodies_written+closed
			now="$(progress_of bodies bodies_written)/$(progress_of bodies closed_by_server)"
			if [ "$now" = "$last_out" ]; then
				quiet=$((quiet + 1))
			else
				quiet=0
				last_out=$now
			fi
			[ "$quiet" -ge 30 ] && settled="connections held, no more progress for 3 s ($out s)"
		fi
		[ -n "$settled" ] && break
	fi
	sleep 0.1
done
[ -n "$settled" ] || echo "attack_admin_body: the attack did not settle within 60 s"
for _ in $(seq 1 20); do
	r=$(rss_mb "$FRONT")
	[ "$r" -gt "$peak" ] && peak=$r
	sleep 0.1
done
echo "attack_admin_body: $(grep '^progress:' "$T/bodies.err" | tail -1)"
stop_attack bodies
show_attack bodies

# after: back within the limit, 30 s at most
after=$(rss_mb "$FRONT")
for _ in $(seq 1 300); do
	after=$(rss_mb "$FRONT")
	[ $((after - idle)) -le "$LIMIT_MB" ] && break
	sleep 0.1
done
echo "attack_admin_body: front VmRSS idle $idle MB, peak $peak MB (+$((peak - idle))), after $after MB (+$((after - idle))); $N x $((SIZE / 1024)) KiB unauthenticated bodies (${settled:-not settled})"
[ $((peak - idle)) -le "$LIMIT_MB" ] ||
	fail "the front's RSS rose by $((peak - idle)) MB under $N unauthenticated bodies (limit $LIMIT_MB MB)"
ok "RSS during the attack within $LIMIT_MB MB of idle (+$((peak - idle)) MB)"
[ $((after - idle)) -le "$LIMIT_MB" ] ||
	fail "the front's RSS stayed $((after - idle)) MB above idle after the attack (limit $LIMIT_MB MB)"
ok "RSS after the attack within $LIMIT_MB MB of idle (+$((after - idle)) MB)"

# the admin API still answers
measure "$T/after" -n 3 --pause-ms 10
[ "$(figure "$T/after" admin_failures)" = 0 ] || fail "admin calls fail after the attack"
ok "admin calls answered after the attack"
echo "attack_admin_body: all checks passed"
