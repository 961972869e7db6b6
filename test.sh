#!/bin/sh
# test.sh: install what is missing, build, and run every test.
#
#   1. the Debian packages (./deps.sh test)
#   2. a -Werror build in _build/ and `make check`
#   3. the same suites in an ASan + UBSan build in _build-asan/ (less the
#      Galera cluster, the browser and the client programs, whose requests
#      the other suites send the sanitized programs)
#   4. the libFuzzer targets in tests/fuzz, each for a bounded time
#   5. `make distcheck` (the tarball builds, installs and passes on its own;
#      the Galera cluster, the Debian package and valgrind, which step 2
#      ran, are skipped there)
#
# Each suite starts its own MariaDB, nginx and peers on loopback and stops
# them at the end, also when a test fails.
set -eu
cd "$(dirname "$0")"
top=$(pwd)
jobs=${JOBS:-2}
start=$(date +%s)
step() {	# step NAME: announce the next step, with the time so far
	echo "== $1 (at $(( $(date +%s) - start ))s)"
}

./deps.sh test
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

build() {	# build DIR CONFIGURE-ARGS...
	dir=$1; shift
	mkdir -p "$dir"
	# objects built under other flags look up to date to make: start clean
	# when the configure arguments are not the ones of the last build here
	if [ "$(cat "$dir/.configured-with" 2>/dev/null)" != "$*" ] && [ -f "$dir/Makefile" ]; then
		(cd "$dir" && make -s clean >/dev/null 2>&1) || true
	fi
	(cd "$dir" && "$top/configure" -q "$@" && make -s -j"$jobs")
	echo "$*" > "$dir/.configured-with"
}

step "build with -Werror"
build _build --enable-werror
step "make check"
(cd _build && make -s -j"$jobs" check)

step "ASan + UBSan build and make check"
build _build-asan --enable-werror --enable-sanitizers
(cd _build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions="$top/tests/lsan.supp" make -s -j"$jobs" check)

step "fuzzing the parsers (libFuzzer, ${FUZZ_SECONDS:-15}s each)"
BJ_BUILDDIR="$top/_build" tests/fuzz/run.sh "${FUZZ_SECONDS:-15}" "$top/_build/fuzz"

step "make distcheck"
(cd _build && make -s -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror)
echo "== all tests passed in $(( $(date +%s) - start ))s"
