#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make size: how big the device core (libztp's portable part) is on a
# module's microcontroller, and what it asks of its RAM.
#
#   bash scripts/size.sh [BUILD_DIR]          (default build; work in BUILD_DIR/size)
#   bash scripts/size.sh --check-alloc DIR [EXTRA.c...]
#                               the core's objects only (and EXTRA files, as
#                               if they were core files: the test's probe),
#                               into DIR; exit 1 if one of them references an
#                               allocator, OpenSSL or the OS
#                               (tests/integration/test_size.sh)
#
# Links the core (CORE_SOURCES below) with a stub platform
# (size/stub_platform.c: struct ztp_crypto with callbacks that compute
# nothing, and main) into an image, at -Os with --gc-sections, every public
# entry point of the core kept (-Wl,-u): for a Cortex-M4 with
# arm-none-eabi-gcc and newlib-nano, and for x86-64 with the host's gcc
# (glibc shared there, so the core's own bytes only). Prints, for each, the
# image's text (code and read-only data, what goes to flash) and .data +
# .bss, split between the core, the stub and the C library, then the size
# of every context the caller provides (CONTEXTS below), and compares with
# the goal of issue 14: <= 12 KB of text for the core and the libc it pulls
# in, <= 2 KB of static RAM plus contexts. The goal is a figure to report:
# "not met" does not fail; a build that fails does (exit 1).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)

# --- the device core: the one list (the lead adds each new core file here) ---
# Sources whose every global symbol is a public entry point of the core:
# each is kept in the image whether the stub calls it or not.
CORE_SOURCES=(
	src/device/apdu.c     # ISO 7816-4 command parsing and encoding
	src/device/card.c     # the SIM card: logical channels, SELECT, T=0 GET RESPONSE
	src/device/safe2.c    # the SAFE2 applet
	src/device/rot.c      # the module's root of trust: key ratchet, NVM image
	src/device/usec.c     # the host side of the module's security AT commands
	src/device/symcrypto.c # HMAC, HKDF, AES-128-CBC/CCM over the platform's primitives
	src/device/rotsvc.c   # the RoT's services: PSK, E2E data protection, local data protection
	src/device/c2c.c      # the chip-to-chip channel: frames, v1/v2, pairings
	src/device/ztpcert.c  # the ZTP certificate bundle's bounded parser
)
# Portable helpers the core calls: linked, kept only where referenced.
CORE_SUPPORT=(
	src/common/modmsg.c src/common/err.c src/common/hex.c src/common/num.c src/common/iccid.c
)
# The contexts and buffers the caller provides, "header|C expression|what|
# role": role state lives as long as the device (or its session) does, call
# for one operation (a contact, a command).
CONTEXTS=(
	"ztp/symcrypto.h|sizeof(struct ztp_crypto)|struct ztp_crypto|state"
	"ztp/c2c.h|sizeof(struct ztp_c2c_table)|struct ztp_c2c_table|state"
	"ztp/c2c.h|sizeof(struct ztp_c2c_keys)|struct ztp_c2c_keys|state"
	"ztp/c2c.h|sizeof(struct ztp_c2c_dec)|struct ztp_c2c_dec|state"
	"ztp/c2c.h|ZTP_C2C_FRAME_MAX|c2c decoder's frame buffer|state"
	"ztp/c2c.h|ZTP_C2C_CHUNK_MAX|c2c chunk|call"
	"ztp/c2c.h|sizeof(struct ztp_c2c_answer)|struct ztp_c2c_answer|call"
	"ztp/rotsvc.h|sizeof(struct ztp_e2e_ki)|struct ztp_e2e_ki|call"
	"ztp/rot.h|sizeof(struct ztp_rot)|struct ztp_rot|state"
	"ztp/rot.h|sizeof(struct ztp_rot_req)|struct ztp_rot_req|call"
	"ztp/rot.h|sizeof(struct ztp_rot_answer)|struct ztp_rot_answer|call"
	"ztp/rot.h|sizeof(struct ztp_rot_psk)|struct ztp_rot_psk|call"
	"ztp/rot.h|ZTP_ROT_STATE_LEN|ztp_rot_save()'s image|call"
	"ztp/usec.h|sizeof(struct usec_answer)|struct usec_answer|call"
	"ztp/usec.h|USEC_CMD_MAX|usec_*_cmd()'s command|call"
	"ztp/card.h|sizeof(struct card)|struct card|state"
	"ztp/safe2.h|sizeof(struct safe2)|struct safe2|state"
	"ztp/safe2.h|sizeof(struct safe2_platform)|struct safe2_platform|state"
	"ztp/apdu.h|sizeof(struct apdu)|struct apdu|call"
	"ztp/apdu.h|APDU_MAX_CMD + APDU_MAX_RESP|card_process()'s command, answer|call"
)
# What the core must never reference (nm -u): the allocator, strdup, the
# OS's I/O, the process, OpenSSL.
FORBIDDEN='^(_?(malloc|free|calloc|realloc|reallocarray|aligned_alloc|posix_memalign|memalign|valloc|pvalloc|strdup|strndup|asprintf|vasprintf)(_r)?|_(malloc|free|calloc|realloc)_r|fopen|fclose|fread|fwrite|fprintf|printf|vprintf|puts|perror|open|close|read|write|socket|getrandom|time|gettimeofday|clock_gettime|abort|exit|_exit|__assert_fail|(OPENSSL|CRYPTO|EVP|BIO|SSL|SSL_CTX|ERR|RAND|HMAC|AES|SHA256|BN|EC|X509|PEM|OSSL)_.*|d2i_.*|i2d_.*)$'

EXTRA_SOURCES=()

GOAL_TEXT=12288
GOAL_RAM=2048

die() { echo "size: $*" >&2; exit 1; }

# every listed file must exist: a missing one is a list to complete, not a
# file to leave out of the figures quietly
check_sources() {
	local f missing=""
	for f in "${CORE_SOURCES[@]}" "${CORE_SUPPORT[@]}" size/stub_platform.c; do
		[ -f "$src/$f" ] || missing="$missing $f"
	done
	[ -z "$missing" ] || die "listed in scripts/size.sh but not in the tree:$missing" \
		"(merge the branch that adds it, or take it off CORE_SOURCES/CORE_SUPPORT)"
	local c h
	for c in "${CONTEXTS[@]}"; do
		h=${c%%|*}
		[ -f "$src/include/$h" ] || [ -f "$src/src/common/$h" ] ||
			die "CONTEXTS in scripts/size.sh names $h, which is not in the tree"
	done
}

CFLAGS_ALL=(-std=c11 -Os -ffunction-sections -fdata-sections -fno-common
	-D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Wno-unused-parameter
	-I"$src/include" -I"$src/src/common")
CFLAGS_HOST=(-fno-pie -fno-asynchronous-unwind-tables -fno-unwind-tables)
CFLAGS_CM4=(-mcpu=cortex-m4 -mthumb)
LDFLAGS_CM4=(--specs=nano.specs --specs=nosys.specs)
# --check-alloc: what the source asks for, not what the optimiser leaves
# (at -Os gcc drops a malloc whose block is only freed: the check would
# miss it); the warnings are make size's to show
CFLAGS_CHECK=(-O0 -fno-builtin -w)

# compile CC DIR FLAGS...: the core and the stub into DIR (core/*.o, stub.o)
compile() {
	local cc=$1 dir=$2 f o
	shift 2
	rm -rf "$dir" && mkdir -p "$dir/core"
	for f in "${CORE_SOURCES[@]}" "${CORE_SUPPORT[@]}" "${EXTRA_SOURCES[@]}"; do
		case $f in /*) ;; *) f=$src/$f ;; esac
		o=$dir/core/$(basename "$f" .c).o
		"$cc" "${CFLAGS_ALL[@]}" "$@" -fstack-usage -c "$f" -o "$o" ||
			die "$cc: ${f#"$src"/} does not compile"
	done
	"$cc" "${CFLAGS_ALL[@]}" "$@" -c "$src/size/stub_platform.c" -o "$dir/stub.o" ||
		die "$cc: size/stub_platform.c does not compile"
}

# forbidden NM DIR: the forbidden references of the core's objects, one
# "file: symbol" a line
forbidden() {
	local nm=$1 dir=$2 o s
	for o in "$dir"/core/*.o; do
		for s in $("$nm" -u "$o" | awk '{ print $NF }'); do
			if [[ $s =~ $FORBIDDEN ]]; then
				echo "$(basename "$o" .o).c: $s"
			fi
		done
	done
}

# roots NM DIR: -Wl,-u,SYM for every global the core's entry sources define
roots() {
	local nm=$1 dir=$2 f
	for f in "${CORE_SOURCES[@]}"; do
		"$nm" -g --defined-only "$dir/core/$(basename "$f" .c).o" | awk '{ print "-Wl,-u," $3 }'
	done
}

# sections OBJDUMP IMAGE: "name class" for each allocated section, class
# text (read-only: flash), data (written, with contents) or bss
sections() {
	"$1" -h "$2" | awk '
		$1 ~ /^[0-9]+$/ { name = $2; next }
		name != "" {
			if ($0 ~ /ALLOC/) {
				if ($0 ~ /READONLY/) c = "text"
				else if ($0 ~ /CONTENTS/) c = "data"
				else c = "bss"
				print name, c
			}
			name = ""
		}'
}

# breakdown MAP SECTIONS DIR: from the linker's map, the bytes each input
# file put into the image, by class: "group file text data bss" lines,
# group core, stub, libc or dyn (the dynamic linker's tables: x86-64)
breakdown() {
	awk -v dir="$3" '
	function hex(s,   i, n, c) {
		n = 0; s = tolower(s); sub(/^0x/, "", s)
		for (i = 1; i <= length(s); i++) {
			c = index("0123456789abcdef", substr(s, i, 1)) - 1
			n = n * 16 + c
		}
		return n
	}
	function add(file, size,   g, k) {
		if (!(out in class) || size == 0) return
		if (out ~ /^\.(interp|note|gnu|dynsym|dynstr|rela|plt|iplt|got|dynamic|hash)/) { g = "dyn"; k = out }
		else if (index(file, dir "/core/") == 1) { g = "core"; k = substr(file, length(dir) + 7) }
		else if (file == dir "/stub.o") { g = "stub"; k = "stub_platform.o" }
		else { g = "libc"; k = file; sub(/.*\//, "", k) }
		key = g " " k
		sz[key, class[out]] += size
		seen[key] = 1
	}
	FNR == NR { class[$1] = $2; next }
	/^Linker script and memory map/ { inmap = 1; next }
	!inmap { next }
	/^[^ ]/ { out = ($1 ~ /^\./) ? $1 : ""; pend = ""; next }
	pend != "" && $1 ~ /^0x/ && $2 ~ /^0x/ && NF >= 3 { add($3, hex($2)); pend = ""; next }
	{ pend = "" }
	/^ [.A-Z]/ && NF == 1 { pend = $1; next }
	/^ [.A-Z]/ && NF >= 4 && $2 ~ /^0x/ && $3 ~ /^0x/ { add($4, hex($3)) }
	END {
		for (k in seen)
			print k, sz[k, "text"] + 0, sz[k, "data"] + 0, sz[k, "bss"] + 0
	}' <(sections "$4" "$5") "$1"
}

# pulled MAP: why each archive member is in the image, "member root", root
# the first file outside the C library that asked for it (through the chain
# of members), e.g. "libc_nano.a(lib_a-nano-mallocr.o) safe2.o(snprintf)";
# the startup files' members have "startup"
pulled() {
	awk '
	function base(f) { sub(/.*\//, "", f); return f }
	/^Archive member included/ { on = 1; next }
	on && /^(Discarded input sections|Memory Configuration)/ { on = 0 }
	!on || NF == 0 { next }
	/^[^ ]/ { m = base($1); next }
	m != "" { by[m] = base($1); sym[m] = $2; gsub(/[()]/, "", sym[m]); m = "" }
	function root(x,   n) {
		for (n = 0; (x in by) && n < 100; n++) {
			if (!(by[x] in by)) {
				if (by[x] ~ /^crt/) return "startup"
				return by[x] "(" sym[x] ")"
			}
			x = by[x]
		}
		return "startup"
	}
	END { for (x in by) print x, root(x) }' "$1"
}

# totals OBJDUMP IMAGE: "text data bss" of the whole image
totals() {
	"$1" -h "$2" | awk '
		$1 ~ /^[0-9]+$/ { name = $2; size = $3; next }
		name != "" {
			n = 0; s = tolower(size)
			for (i = 1; i <= length(s); i++)
				n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			if ($0 ~ /ALLOC/) {
				if ($0 ~ /READONLY/) t += n
				else if ($0 ~ /CONTENTS/) d += n
				else b += n
			}
			name = ""
		}
		END { print t + 0, d + 0, b + 0 }'
}

# contexts CC NM DIR FLAGS...: "role size what" for each of CONTEXTS,
# measured by the compiler for the target (an array of each size, read
# back with nm: nothing is run)
contexts() {
	local cc=$1 nm=$2 dir=$3 c h e w r i
	shift 3
	{
		for c in "${CONTEXTS[@]}"; do
			IFS='|' read -r h e w r <<<"$c"
			echo "#include \"$h\""
		done
		i=0
		for c in "${CONTEXTS[@]}"; do
			IFS='|' read -r h e w r <<<"$c"
			echo "char ztp_sizeof_${i}[$e];"
			i=$((i + 1))
		done
	} >"$dir/contexts.c"
	"$cc" "${CFLAGS_ALL[@]}" "$@" -c "$dir/contexts.c" -o "$dir/contexts.o" ||
		die "$cc: the contexts' sizes do not compile (CONTEXTS in scripts/size.sh)"
	local sizes
	sizes=$("$nm" -S --defined-only "$dir/contexts.o")
	i=0
	for c in "${CONTEXTS[@]}"; do
		IFS='|' read -r h e w r <<<"$c"
		awk -v want="ztp_sizeof_$i" -v w="$w" -v r="$r" '
			$NF == want {
				n = 0; x = tolower($2)
				for (k = 1; k <= length(x); k++)
					n = n * 16 + index("0123456789abcdef", substr(x, k, 1)) - 1
				print r, n, w
			}' <<<"$sizes"
		i=$((i + 1))
	done
}

# report LABEL CC NM OBJDUMP DIR IMAGE LIBC CFLAGS...: the figures of one
# image; LIBC yes when the C library is linked in (and so counted)
report() {
	local label=$1 cc=$2 nm=$3 objdump=$4 dir=$5 image=$6 libc=$7
	shift 7
	local t d b rows ctx
	read -r t d b < <(totals "$objdump" "$image")
	rows=$(breakdown "$dir/image.map" "" "$dir" "$objdump" "$image")
	echo
	echo "== $label"
	echo "   $("$cc" --version | sed -n 1p)"
	echo "   image: $image (map: $dir/image.map)"
	printf '   %-34s %7s %7s %7s\n' "bytes" text data bss
	awk -v libc="$libc" '
		function row(indent, name, t, d, b) {
			return sprintf("%s%-" (37 - length(indent)) "s %7d %7d %7d", indent, name, t, d, b)
		}
		FILENAME == ARGV[1] { why[$1] = $2; next }
		{
			T[$1] += $3; D[$1] += $4; B[$1] += $5
			if ($1 == "core") print $3 "\t" row("     ", $2, $3, $4, $5) | "sort -t\"\t\" -k1,1nr | cut -f2-"
			if ($1 == "libc") {
				r = ($2 in why) ? why[$2] : "startup"
				r = (r == "startup") ? "startup (crt0, init, exit)" : "for " r
				lt[r] += $3; ld[r] += $4; lb[r] += $5; n++
			}
		}
		END {
			close("sort -t\"\t\" -k1,1nr | cut -f2-")
			print row("   ", "device core", T["core"], D["core"], B["core"])
			print row("   ", "stub platform", T["stub"], D["stub"], B["stub"])
			if (libc == "yes") {
				print row("   ", "C library (" n " members)", T["libc"], D["libc"], B["libc"])
				for (r in lt) print lt[r] "\t" row("     ", r, lt[r], ld[r], lb[r]) | "sort -t\"\t\" -k1,1nr | cut -f2-"
				close("sort -t\"\t\" -k1,1nr | cut -f2-")
			}
			if (T["dyn"] + D["dyn"] + B["dyn"] > 0)
				print row("   ", "dynamic linking (not counted)", T["dyn"], D["dyn"], B["dyn"])
		}' <(pulled "$dir/image.map") - <<<"$rows"
	printf '   %-34s %7d %7d %7d\n' "image (all sections, padding)" "$t" "$d" "$b"
	if [ "$libc" = yes ]; then
		local malloc_in
		malloc_in=$("$nm" "$image" | awk '$NF ~ /^_?(malloc|_malloc_r|free|_free_r|realloc|_realloc_r)$/ { print $NF }' | sort -u | tr '\n' ' ')
		if [ -n "$malloc_in" ]; then
			echo "   allocator in the image: ${malloc_in}(the C library's own, for its printf; the core calls none)"
		else
			echo "   allocator in the image: none"
		fi
	else
		# what the image counts: the core and the stub, not the dynamic linker's tables
		read -r t d b < <(awk '$1 == "core" || $1 == "stub" { t += $3; d += $4; b += $5 }
			END { print t + 0, d + 0, b + 0 }' <<<"$rows")
	fi
	echo "   largest stack frames of the core (-fstack-usage; one frame each, not a call depth):"
	# (awk stops printing after 3 but reads everything: no SIGPIPE under pipefail)
	cat "$dir"/core/*.su | sort -t$'\t' -k2,2nr |
		awk -F'\t' 'NR <= 3 { n = split($1, p, ":"); f = p[1]; sub(/.*\//, "", f); printf "     %6d  %s (%s)\n", $2, p[n], f }'

	echo "   contexts and buffers the caller provides (sizeof on this target):"
	ctx=$(contexts "$cc" "$nm" "$dir" "$@")
	awk '{ r = $1; n = $2; $1 = $2 = ""; sub(/^ +/, "")
		printf "     %-40s %6d  %s\n", $0, n, (r == "state" ? "lives with the device" : "one operation") }' <<<"$ctx"
	local state all ram
	state=$(awk '$1 == "state" { s += $2 } END { print s + 0 }' <<<"$ctx")
	all=$(awk '{ s += $2 } END { print s + 0 }' <<<"$ctx")
	ram=$((d + b))
	echo "   static RAM (.data + .bss): $ram B; + long-lived contexts: $((ram + state)) B;" \
		"+ the per-operation ones too: $((ram + all)) B"
	if [ "$libc" = yes ]; then
		verdict "text, core + C library + startup" "$t" "$GOAL_TEXT"
	else
		verdict "text, core + stub (no C library)" "$t" "$GOAL_TEXT"
	fi
	verdict "static RAM + long-lived contexts" "$((ram + state))" "$GOAL_RAM"
	verdict "static RAM + all contexts" "$((ram + all))" "$GOAL_RAM"
}

verdict() {
	if [ "$2" -le "$3" ]; then
		printf '   goal: %-44s %6d <= %d B: met\n' "$1" "$2" "$3"
	else
		printf '   goal: %-44s %6d >  %d B: not met\n' "$1" "$2" "$3"
	fi
}

indent() {
	local l
	while IFS= read -r l; do printf '  %s\n' "$l"; done <<<"$1"
}
objects() { local o=("$1"/core/*.o); echo "${#o[@]}"; }

# --- --check-alloc DIR: the objects and the forbidden references only ---
if [ "${1:-}" = --check-alloc ]; then
	[ $# -ge 2 ] || die "usage: $0 --check-alloc DIR [EXTRA.c...]"
	check_sources
	dir=$2
	shift 2
	for f in "$@"; do
		[ -f "$f" ] || die "no such file: $f"
		EXTRA_SOURCES+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
	done
	bad=0
	compile gcc "$dir/host" "${CFLAGS_HOST[@]}" "${CFLAGS_CHECK[@]}"
	hits=$(forbidden nm "$dir/host")
	if [ -n "$hits" ]; then
		echo "size: the core references what it must not (x86-64 objects):" >&2
		indent "$hits" >&2
		bad=1
	else
		echo "size: x86-64: $(objects "$dir/host") core objects, no allocator, OpenSSL or OS reference"
	fi
	if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
		compile arm-none-eabi-gcc "$dir/cm4" "${CFLAGS_CM4[@]}" "${CFLAGS_CHECK[@]}"
		hits=$(forbidden arm-none-eabi-nm "$dir/cm4")
		if [ -n "$hits" ]; then
			echo "size: the core references what it must not (Cortex-M4 objects):" >&2
			indent "$hits" >&2
			bad=1
		else
			echo "size: Cortex-M4: $(objects "$dir/cm4") core objects, no allocator, OpenSSL or OS reference"
		fi
	else
		echo "size: SKIPPED the Cortex-M4 half: no arm-none-eabi-gcc (make deps installs gcc-arm-none-eabi)"
	fi
	exit $bad
fi

build=${1:-build}
case $build in /*) ;; *) build=$src/$build ;; esac
work=$build/size
check_sources
mkdir -p "$work"

echo "make size: the device core ($((${#CORE_SOURCES[@]} + ${#CORE_SUPPORT[@]})) files) with a stub platform, -Os, --gc-sections"
echo "   core: ${CORE_SOURCES[*]}"
echo "   support (kept where referenced): ${CORE_SUPPORT[*]}"
status=0

# Cortex-M4, newlib-nano
if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
	dir=$work/cm4
	compile arm-none-eabi-gcc "$dir" "${CFLAGS_CM4[@]}"
	mapfile -t keep < <(roots arm-none-eabi-nm "$dir")
	arm-none-eabi-gcc "${CFLAGS_CM4[@]}" -Os "${LDFLAGS_CM4[@]}" -Wl,--gc-sections \
		-Wl,-Map="$dir/image.map" "${keep[@]}" "$dir/stub.o" "$dir"/core/*.o \
		-o "$dir/core.elf" || die "arm-none-eabi-gcc: the Cortex-M4 image does not link"
	report "Cortex-M4 (-mcpu=cortex-m4 -mthumb -Os, newlib-nano, nosys)" arm-none-eabi-gcc \
		arm-none-eabi-nm arm-none-eabi-objdump "$dir" "$dir/core.elf" yes "${CFLAGS_CM4[@]}"
	hits=$(forbidden arm-none-eabi-nm "$dir" | sed 's/^/Cortex-M4: /')
else
	echo
	echo "== Cortex-M4: NOT MEASURED: no arm-none-eabi-gcc (make deps installs gcc-arm-none-eabi and libnewlib-arm-none-eabi)"
	status=1
fi

# x86-64, the host's gcc; glibc stays shared: its bytes are not the core's
dir=$work/x86-64
compile gcc "$dir" "${CFLAGS_HOST[@]}"
mapfile -t keep < <(roots nm "$dir")
gcc -no-pie -nostartfiles -Wl,-e,main -Wl,--build-id=none -Wl,--gc-sections -Wl,-Map="$dir/image.map" \
	"${keep[@]}" "$dir/stub.o" "$dir"/core/*.o -o "$dir/core.elf" ||
	die "gcc: the x86-64 image does not link"
report "x86-64 (gcc -Os, no startup files, glibc shared: not counted)" gcc nm objdump \
	"$dir" "$dir/core.elf" no "${CFLAGS_HOST[@]}"
hits=$(printf '%s\n%s' "${hits:-}" "$(forbidden nm "$dir" | sed 's/^/x86-64: /')" | sed '/^$/d')

echo
if [ -n "$hits" ]; then
	echo "size: the core references what it must not (tests/integration/test_size.sh fails):"
	indent "$hits"
else
	echo "size: the core references no allocator, OpenSSL or OS function"
fi
exit $status
