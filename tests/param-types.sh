#!/bin/sh
# param-types.sh: a parameter of the wrong kind does not compile.
# Usage: param-types.sh CC SRCDIR BUILDDIR
cc=$1 src=$2 build=$3
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
status=0

# try WANT BODY: compile BODY with db.h; WANT is ok or refused
try() {
	printf '#include <stddef.h>\n#include "db.h"\nvoid f(size_t n, const char *s, double d);\nvoid f(size_t n, const char *s, double d)\n{\n\tstruct bj_param p;\n\t(void)n; (void)s; (void)d;\n\t%s\n\t(void)p;\n}\n' "$2" > "$dir/t.c"
	if $cc -std=gnu11 -c -I"$src/lib" -I"$build" -I"$build/lib" -o "$dir/t.o" "$dir/t.c" 2>/dev/null; then
		got=ok
	else
		got=refused
	fi
	if [ "$got" = "$1" ]; then
		echo "$got as it should: $2"
	else
		echo "FAIL: $got: $2"
		status=1
	fi
}

try ok 'p = BJ_P_INT(n); p = BJ_P_STR(s); p = BJ_P_STR("x"); p = BJ_P_DOUBLE(d); p = BJ_P_NULL;'
try ok 'p = BJ_P_BYTES(s, n);'
try refused 'p = BJ_P_STR(n);'
try refused 'p = BJ_P_STR(NULL);'
try refused 'p = BJ_P_INT(s);'
try refused 'p = BJ_P_INT(d);'
try refused 'p = BJ_P_DOUBLE(s);'
try refused 'p = BJ_P_BYTES(n, s);'
exit $status
