#!/bin/sh
# run.sh SECONDS OUTDIR: build each libFuzzer target with clang (ASan+UBSan)
# and fuzz it for SECONDS, starting from its seed corpus in tests/fuzz/corpus.
# A crash leaves its input in OUTDIR; copy it to tests/fuzz/regressions/<target>/
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

# the library and the request layer, instrumented once for every target
mkdir -p "$out/obj"
objs=
for src in "$top"/lib/*.c "$build/lib/migrations.c" "$top"/fcgi/*.c; do
	case $src in */fcgi/main.c) continue ;; esac
	obj="$out/obj/$(basename "$(dirname "$src")")_$(basename "$src" .c).o"
	# shellcheck disable=SC2086
	$CC $cflags -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
	objs="$objs $obj"
done

status=0
for t in ${FUZZ_TARGETS:-conf route form json artifact items spec}; do
	# shellcheck disable=SC2086
	$CC $cflags -fsanitize=fuzzer -o "$out/fuzz_$t" "$here/fuzz_$t.c" $objs $libs
	mkdir -p "$out/corpus_$t"
	cp "$here/corpus/$t/"* "$out/corpus_$t/" 2>/dev/null || true
	echo "== fuzzing $t for ${secs}s"
	if ! (cd "$out" && "./fuzz_$t" -max_total_time="$secs" -max_len=65536 \
	    "corpus_$t" > "fuzz_$t.log" 2>&1); then
		echo "run.sh: fuzz_$t found a crash; see $out/fuzz_$t.log and $out/crash-*" >&2
		tail -30 "$out/fuzz_$t.log" >&2
		status=1
	else
		grep -E '^#[0-9]+' "$out/fuzz_$t.log" | tail -1
	fi
done
exit $status
