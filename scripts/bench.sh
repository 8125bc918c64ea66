#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make bench: every benchmark of bench/, one after the other, on this
# machine (not part of make test). Each starts its own servers on loopback
# ephemeral ports and stops them, prints its figures last ("name: value
# unit") and writes them with its raw runs to bench/results/NAME.json.
# Absolute numbers mean little on a shared machine: read the ratios, and
# the CPU time per fetch, which each benchmark measures side by side.
#
# usage: bash scripts/bench.sh [BUILD_DIR]   (default build)
# env:   BENCH_ONLY="throughput registry"  run only these (of: throughput
#                                           time_to_config registry est proxy attack store
#                                           module gateways)
#        BENCH_SIMS=1000000                 the full registry case
#        and each benchmark's own (see bench/*.sh)
set -uo pipefail
BUILD=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
ALL="throughput time_to_config registry est proxy attack store module gateways"
failed=""
start=$(date +%s)
for b in ${BENCH_ONLY:-$ALL}; do
	[ -f "$root/bench/$b.sh" ] || { echo "bench: no benchmark $b (have: $ALL)" >&2; exit 2; }
	echo
	# each benchmark is bounded: its own loops have deadlines, this is the backstop
	if ! timeout --signal=TERM --kill-after=10 900 bash "$root/bench/$b.sh" "$BUILD"; then
		failed="$failed $b"
	fi
done
echo
echo "bench: done in $(($(date +%s) - start)) s; results in bench/results/"
if [ -n "$failed" ]; then
	echo "bench: failed:$failed" >&2
	exit 1
fi
