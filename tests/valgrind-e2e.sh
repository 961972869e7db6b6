#!/bin/sh
# valgrind-e2e.sh BUILDDIR SANITIZERS [ENABLED]: the end-to-end API, pages and hostile suites
# with bulkjobs-fcgi (the prefork parent and its children) under valgrind
# memcheck. Fails when a suite fails, or when any process's log has an
# error or a definite leak (printing that log): a long-running FastCGI
# process must free what each request allocated. The sanitizer build
# (SANITIZERS=yes) cannot run under valgrind: skipped there (77), as under
# configure --disable-valgrind-test (ENABLED "no": distcheck, whose plain
# build ran it).
set -u
build=$1
sanitizers=$2
if [ "${3:-yes}" = no ]; then
	echo "valgrind-e2e: skipped (--disable-valgrind-test)"
	exit 77
fi
if [ "$sanitizers" = yes ]; then
	echo "valgrind-e2e: skipped: valgrind cannot run an ASan build"
	exit 77
fi
if ! command -v valgrind >/dev/null; then
	echo "valgrind-e2e: valgrind not found (./deps.sh test)" >&2
	exit 1
fi
logs=${BJ_TEST_DIR:?run with make check}/valgrind
rm -rf "$logs"
mkdir -p "$logs"
case $logs in *' '*) echo "valgrind-e2e: $logs has a space" >&2; exit 1 ;; esac

# the harness splits this at spaces and puts it before bulkjobs-fcgi's own argv
BJ_TEST_FCGI_WRAPPER="valgrind --leak-check=full --show-leak-kinds=definite
 --errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=30
 --log-file=$logs/fcgi.%p.log"
export BJ_TEST_FCGI_WRAPPER

status=0
for t in test_api test_pages test_hostile; do
	echo "== $t with bulkjobs-fcgi under valgrind"
	"$build/tests/e2e/$t" >"$logs/$t.out" 2>&1 || {
		echo "valgrind-e2e: $t failed:"
		cat "$logs/$t.out"
		status=1
	}
	tail -n 6 "$logs/$t.out" | grep -E 'tests|asserts'
done

n=0
for f in "$logs"/fcgi.*.log; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	if ! grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
		echo "valgrind-e2e: errors or definite leaks in $f:"
		cat "$f"
		status=1
	fi
done
if [ "$n" -lt 2 ]; then
	echo "valgrind-e2e: expected logs of the parent and its children, found $n" >&2
	status=1
fi
echo "valgrind-e2e: $n bulkjobs-fcgi processes checked"
exit $status
