#!/bin/sh
# run.sh SECONDS OUTDIR: build each libFuzzer target with clang (ASan+UBSan)
# and fuzz it for SECONDS, starting from its seed corpus in tests/fuzz/corpus.
# A crash leaves its input in OUTDIR (TARGET-crash-*); copy it to tests/fuzz/regressions/<target>/
# so that `make check` replays it from then on. FUZZ_TARGETS="items spec"
# fuzzes only those.
set -eu
secs=${1:-20}
out=${2:-fuzz-out}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BJ_BUILDDIR:-$top/_build}
CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null || { echo "run.sh: $CC not found (apt-get install clang)" >&2; exit 69; }
mkdir -p "$out"
pkgs="json-c fcgi libmariadb libcrypto libxml-2.0 libcurl"
cflags="-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined
 -I$top/lib -I$build/lib -I$build -I$top/fcgi $(pkg-config --cflags $pkgs)
 -DSYSCONFDIR=\"/etc\" -DBINDIR=\"/usr/bin\" -DPKGDATADIR=\"/usr/share/bulkjobs\""
libs="$(pkg-config --libs $pkgs)"
[ -f "$build/lib/migrations.c" ] || { echo "run.sh: build first (missing $build/lib/migrations.c)" >&2; exit 69; }

par=${JOBS:-2}
case $par in ''|*[!0-9]*|0) par=1 ;; esac

# the library and the request layer, instrumented once for every target,
# $par files at a time
mkdir -p "$out/obj"
objs=
srcs=
for src in "$top"/lib/*.c "$build/lib/migrations.c" "$top"/fcgi/*.c; do
	case $src in */fcgi/main.c) continue ;; esac
	srcs="$srcs $src"
	objs="$objs $out/obj/$(basename "$(dirname "$src")")_$(basename "$src" .c).o"
done
export CC cflags out
# shellcheck disable=SC2086,SC2016
printf '%s\n' $srcs | xargs -P "$par" -n 1 sh -c \
    'exec $CC $cflags -fsanitize=fuzzer-no-link -c "$1" \
        -o "$out/obj/$(basename "$(dirname "$1")")_$(basename "$1" .c).o"' sh

targets=${FUZZ_TARGETS:-conf route form json artifact items spec html}
for t in $targets; do
	# shellcheck disable=SC2086
	$CC $cflags -fsanitize=fuzzer -o "$out/fuzz_$t" "$here/fuzz_$t.c" $objs $libs
	mkdir -p "$out/corpus_$t"
	cp "$here/corpus/$t/"* "$out/corpus_$t/" 2>/dev/null || true
done

# Fuzz target $1 for $secs seconds; 1 after a crash.
fuzz() {
	if ! (cd "$out" && "./fuzz_$1" -max_total_time="$secs" -max_len=65536 \
	    -artifact_prefix="$1-" "corpus_$1" > "fuzz_$1.log" 2>&1); then
		echo "run.sh: fuzz_$1 found a crash; see $out/fuzz_$1.log and $out/$1-crash-*" >&2
		tail -30 "$out/fuzz_$1.log" >&2
		return 1
	fi
	echo "== fuzzed $1 for ${secs}s: $(grep -E '^#[0-9]+' "$out/fuzz_$1.log" | tail -1)"
}

# $par targets at a time (each fuzzer runs on one core)
status=0
# shellcheck disable=SC2086
set -- $targets
while [ $# -gt 0 ]; do
	pids=
	i=0
	while [ $# -gt 0 ] && [ $i -lt "$par" ]; do
		fuzz "$1" &
		pids="$pids $!"
		i=$((i + 1))
		shift
	done
	for p in $pids; do
		wait "$p" || status=1
	done
done
exit $status
