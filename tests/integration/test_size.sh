#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The device core allocates nothing and calls neither OpenSSL nor the OS
# (issue 14, "the device core stays small"): its objects, compiled as make
# size compiles them (scripts/size.sh, the one list of the core's files),
# for x86-64 with the host's gcc and for a Cortex-M4 with arm-none-eabi-gcc
# when it is installed, reference no malloc, free, calloc, realloc, strdup,
# OpenSSL or I/O function (nm -u). First the check itself is checked: a
# probe file that calls each kind of forbidden function, compiled as if it
# were a core file, must be caught, by name. Nothing here is timed or uses
# the network.
. "$(dirname "$0")/lib.sh"

SIZE=$SRC/scripts/size.sh

# the probe: one forbidden call of each kind, in functions the compiler
# cannot drop (external, their results returned)
cat >"$T/size_probe.c" <<'EOF'
#include <stdlib.h>
#include <string.h>

int EVP_MD_get_size(const void *md); /* OpenSSL's, declared here: no header on the target */

void *probe_malloc(size_t n) { return malloc(n); }
void *probe_calloc(size_t n) { return calloc(n, 2); }
void *probe_realloc(void *p, size_t n) { return realloc(p, n); }
void probe_free(void *p) { free(p); }
char *probe_strdup(const char *s) { return strdup(s); }
int probe_openssl(const void *md) { return EVP_MD_get_size(md); }
EOF

# the check catches the probe, on every target it builds
rc=0
bash "$SIZE" --check-alloc "$T/probe" "$T/size_probe.c" >"$T/probe.out" 2>"$T/probe.err" || rc=$?
cat "$T/probe.out" "$T/probe.err"
[ $rc -eq 1 ] || fail "the probe's malloc was not caught (exit $rc)"
for sym in malloc calloc realloc free strdup EVP_MD_get_size; do
	grep -Eq "^  size_probe\.c: $sym\$" "$T/probe.err" || fail "the check did not name $sym"
done
if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
	grep -q '(Cortex-M4 objects)' "$T/probe.err" || fail "the Cortex-M4 objects were not checked"
fi
ok "a core file that calls malloc, calloc, realloc, free, strdup or OpenSSL is caught"

# the core itself
rc=0
bash "$SIZE" --check-alloc "$T/core" >"$T/core.out" 2>"$T/core.err" || rc=$?
cat "$T/core.out" "$T/core.err"
[ $rc -eq 0 ] || fail "the device core references an allocator, OpenSSL or the OS (above)"
grep -q '^size: x86-64: .* no allocator' "$T/core.out" || fail "no x86-64 verdict"
ok "x86-64: the device core references no allocator, OpenSSL or OS function"
if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
	grep -q '^size: Cortex-M4: .* no allocator' "$T/core.out" || fail "no Cortex-M4 verdict"
	ok "Cortex-M4: the device core references no allocator, OpenSSL or OS function"
else
	grep -q 'SKIPPED the Cortex-M4 half' "$T/core.out" || fail "no word on the Cortex-M4 half"
	echo "SKIPPED: the Cortex-M4 half (no arm-none-eabi-gcc: make deps installs gcc-arm-none-eabi)"
fi
