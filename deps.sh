#!/bin/sh
# deps.sh: install the Debian 12 packages bulkjobs needs, only those missing.
# Usage: ./deps.sh [build|run|test|bench]...   (sourced or run; needs root for apt-get)
# Package services are not started during installation: the demo and the
# tests start their own private servers and stop them again.
set -eu

BUILD_PKGS="gcc make autoconf automake libtool pkg-config libc6-dev gettext autopoint
 libmariadb-dev libfcgi-dev libjson-c-dev libxml2-dev libcunit1-dev
 libcurl4-openssl-dev libssl-dev ca-certificates"
RUN_PKGS="mariadb-server mariadb-client nginx-light curl python3 tzdata"
TEST_PKGS="python3-aiosmtpd python3-html5lib clang libclang-rt-14-dev apache2
 libapache2-mod-xsendfile chromium fonts-noto-cjk"
TEST_PKGS="$TEST_PKGS valgrind"	# tests/valgrind-e2e
# docs/openapi.yaml: linted with Redocly's CLI (npm), held to the server by
# tests/check_contract.py; examples/clients/ run in each language
TEST_PKGS="$TEST_PKGS python3-yaml python3-jsonschema nodejs php-cli php-curl ruby"
TEST_PKGS="$TEST_PKGS galera-4 rsync haproxy"	# tests/galera.sh: the three-node cluster and its IST; the proxy in front
TEST_PKGS="$TEST_PKGS build-essential dpkg-dev debhelper lintian"	# tests/debian-package
TEST_PKGS="$TEST_PKGS prometheus"	# promtool checks /metrics, the reaper's file, conf/ rules
BENCH_PKGS="wrk beanstalkd"
BENCH_PKGS="$BENCH_PKGS postgresql nodejs"	# the pg-boss peer of claim_complete
BENCH_PKGS="$BENCH_PKGS galera-4 rsync"	# galera_claim_complete: tests/galera.sh's cluster
# a Node.js from another source ships its own npm and conflicts with Debian's
if ! command -v npm >/dev/null 2>&1; then
	TEST_PKGS="$TEST_PKGS npm"
	BENCH_PKGS="$BENCH_PKGS npm"
fi

want=""
for set in "${@:-build}"; do
	case $set in
	build) want="$want $BUILD_PKGS" ;;
	run) want="$want $BUILD_PKGS $RUN_PKGS" ;;
	test) want="$want $BUILD_PKGS $RUN_PKGS $TEST_PKGS" ;;
	bench) want="$want $BUILD_PKGS $RUN_PKGS $BENCH_PKGS" ;;
	*) echo "deps.sh: unknown set $set" >&2; exit 64 ;;
	esac
done

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root, or install them)" >&2
	exit 69
fi
echo "deps.sh: installing$missing"
# keep package scripts from starting system services (no systemd here)
own_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	own_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ -n "$own_policy" ] && rm -f /usr/sbin/policy-rc.d
exit 0
