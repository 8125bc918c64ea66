#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Build the libFuzzer targets and fuzz each one for a while.
#
#   scripts/fuzz.sh [SECONDS]      (default 20 seconds per target)
#
# Configures and builds build-fuzz (clang, libFuzzer, ASan + UBSan), then
# runs every tests/fuzz/fuzz_*.c target for SECONDS on a copy of its seed
# corpus with its dictionary. New inputs and crash files go to a temporary
# directory, never into the repository; it is removed when no target
# crashed and kept (and named) otherwise. Exits non-zero if any target
# crashed, leaked, timed out or ran out of memory. Installs nothing.
# ZTP_FUZZ_BUILD names another build directory than build-fuzz.
set -euo pipefail

secs=${1:-20}
case $secs in
'' | *[!0-9]* | 0) echo "usage: $0 [SECONDS > 0]" >&2; exit 2 ;;
esac
src=$(cd "$(dirname "$0")/.." && pwd)
build=${ZTP_FUZZ_BUILD:-$src/build-fuzz}
fuzzdir=$src/tests/fuzz

command -v clang >/dev/null 2>&1 || { echo "fuzz: clang is needed (make deps)" >&2; exit 1; }

echo "== building the fuzz targets in $build"
CC=clang cmake -S "$src" -B "$build" -DZTP_FUZZ=ON -DZTP_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target fuzzers >/dev/null

work=$(mktemp -d /tmp/ztp-fuzz.XXXXXX)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=""

for c in "$fuzzdir"/fuzz_*.c; do
	name=$(basename "$c" .c)
	bin=$build/tests/fuzz/$name
	# longest input worth trying: a bit over what each parser accepts
	case $name in
	fuzz_identity) maxlen=64 ;;     # ICCID_IDENTITY_MAX is 31
	fuzz_token) maxlen=256 ;;       # TOKEN_MAX is 128
	fuzz_devroute) maxlen=640 ;;    # DEVROUTE_URI_MAX is 512
	fuzz_modmsg) maxlen=640 ;;      # MODMSG_BODY_MAX is 512
	fuzz_usec) maxlen=1024 ;;       # a few answer lines
	*) maxlen=8192 ;;
	esac
	mkdir -p "$work/$name/corpus" "$work/$name/crashes"
	cp -R "$fuzzdir/corpus/$name/." "$work/$name/corpus/"
	echo "== $name: ${secs}s"
	rc=0
	"$bin" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 \
		-dict="$fuzzdir/$name.dict" -artifact_prefix="$work/$name/crashes/" \
		-print_final_stats=1 "$work/$name/corpus" >"$work/$name.log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$name.log")
	cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$work/$name.log" | tail -1 || true)
	echo "   ${runs:-?} runs, ${speed:-?} exec/s, $cov, corpus $(ls "$work/$name/corpus" | wc -l) files"
	if [ "$rc" -ne 0 ]; then
		echo "   FAILED (exit $rc): $(ls "$work/$name/crashes" | tr '\n' ' ')"
		grep -E -A40 '^==[0-9]+==ERROR|runtime error|invariant broken|^ALARM|out-of-memory' \
			"$work/$name.log" | head -60 | sed 's/^/   | /'
		failed="$failed $name"
	fi
done

if [ -n "$failed" ]; then
	echo "== fuzz: crashed:$failed; inputs and logs kept in $work"
	exit 1
fi
rm -rf "$work"
echo "== fuzz: no crash in $(ls "$fuzzdir"/fuzz_*.c | wc -l) targets"
