#!/bin/sh
# openapi-lint.sh SRCDIR BUILDDIR: lint docs/openapi.yaml with Redocly's CLI.
#
# The CLI comes from the npm registry into BUILDDIR/npm (never into the
# source tree), once; later runs reuse it. The version is pinned so that a
# new release's rules cannot turn a clean description red overnight; 1.34
# is the last line that runs on Debian 12's Node.js 18.
set -eu
src=$1
npmdir=$2/npm
version=1.34.20
cli=$npmdir/node_modules/.bin/redocly

if ! command -v npm >/dev/null 2>&1; then
	echo "openapi-lint: npm is missing (./deps.sh test installs it)" >&2
	exit 1
fi
if [ ! -x "$cli" ] || [ "$("$cli" --version 2>/dev/null | head -n 1)" != "$version" ]; then
	mkdir -p "$npmdir"
	echo "openapi-lint: installing @redocly/cli@$version into $npmdir"
	npm install --prefix "$npmdir" --no-audit --no-fund --no-save --loglevel=error \
		"@redocly/cli@$version" >"$npmdir/install.log" 2>&1 || {
		cat "$npmdir/install.log" >&2
		exit 1
	}
fi
# no telemetry, no update check: the tests reach only the registry.
# Clean means no error and no warning either.
rc=0
out=$(REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	"$cli" lint --format stylish --max-problems 100 "$src/docs/openapi.yaml" 2>&1) || rc=$?
printf '%s\n' "$out"
case $out in
*[Ww]arning*) echo "openapi-lint: warnings count as failures" >&2; exit 1 ;;
esac
exit $rc
