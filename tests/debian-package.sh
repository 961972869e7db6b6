#!/bin/sh
# debian-package.sh SRCDIR BUILDDIR SANITIZERS [ENABLED]: the Debian package, end to end.
#
# Builds it from a copy of the source tree (dpkg-buildpackage -us -uc -b,
# without the suite: nocheck), checks it with lintian (no error, no
# warning), installs it with dpkg -i, configures it as an operator would
# (a database user on the suite's MariaDB, /etc/bulkjobs/bulkjobs.conf),
# runs the installed `bulkjobsctl migrate`, serves /healthz through nginx
# with the installed snippets and the installed bulkjobs-fcgi, upgrades it,
# removes it and purges it, checking what each step keeps and leaves.
#
# Skipped (77) where dpkg-buildpackage cannot run (not Debian), in the
# sanitizer build (the package builds its own binaries: the plain build's
# suite covers it), under configure --disable-package-test (ENABLED "no":
# distcheck, whose plain build ran it), and after the build and lintian when not root (dpkg -i
# needs root). It refuses to touch a machine where bulkjobs is installed or
# its user or directories exist. Whatever fails, it stops what it started
# and purges the package again.
set -u
src=$1
build=$2
sanitizers=$3
enabled=${4:-yes}

if [ "$enabled" = no ]; then
	echo "debian-package: skipped (--disable-package-test)"
	exit 77
fi
if [ "$sanitizers" = yes ]; then
	echo "debian-package: skipped: the plain build's suite builds and tests the package"
	exit 77
fi
if ! command -v dpkg-buildpackage >/dev/null 2>&1; then
	echo "debian-package: skipped: dpkg-buildpackage cannot run here (not Debian)"
	exit 77
fi
if [ ! -f "$src/debian/control" ]; then
	echo "debian-package: skipped: $src has no debian/ directory"
	exit 77
fi
for tool in dh lintian curl mariadb; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "debian-package: $tool not found (./deps.sh test)" >&2
		exit 1
	fi
done

work=${BJ_TEST_DIR:?run with make check}/debian
rm -rf "$work"
mkdir -p "$work/src/bulkjobs"
log=$work/log
status=0
installed=
pids=
dbname=
dbsock=

say() { echo "debian-package: $*"; }
fail() { echo "debian-package: FAIL: $*"; status=1; }
# check DESCRIPTION COMMAND...: run it, say ok or FAIL
check() {
	desc=$1; shift
	if "$@" >/dev/null 2>&1; then echo "ok - $desc"; else fail "$desc"; fi
}
# show NAME FILE: a step's output, indented
show() { echo "== $1"; sed 's/^/   /' "$2"; }
# dpkg_do ARGS...: dpkg, output in $log, waiting up to a minute for
# another dpkg or apt to let go of the database
dpkg_do() {
	i=0
	while ! dpkg "$@" >"$log" 2>&1; do
		grep -q 'frontend lock\|database is locked' "$log" && [ $i -lt 30 ] || return 1
		sleep 2
		i=$((i + 1))
	done
}

cleanup() {
	for p in $pids; do
		kill -TERM -"$p" 2>/dev/null
	done
	sleep 0.5
	for p in $pids; do
		kill -KILL -"$p" 2>/dev/null
	done
	pids=
	if [ -n "$installed" ]; then
		dpkg_do --purge bulkjobs
		rm -rf /var/lib/bulkjobs /run/bulkjobs
		installed=
	fi
	if [ -n "$dbname" ]; then
		mariadb --no-defaults -S "$dbsock" -uroot -e "DROP DATABASE IF EXISTS \`$dbname\`;
		    DROP USER IF EXISTS bulkjobs@localhost" 2>/dev/null
		dbname=
	fi
}
trap 'cleanup' EXIT
trap 'cleanup; exit 1' INT TERM HUP

# --- build ---------------------------------------------------------------
# From a copy: dh_autoreconf rewrites the tree it builds in. A git checkout
# gives its files (uncommitted changes included); a release tree, all but
# its build directories.
srcabs=$(cd "$src" && pwd)
if [ "$(git -C "$src" rev-parse --show-toplevel 2>/dev/null)" = "$srcabs" ]; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
	    tar -cf - --null -T -) | tar -xf - -C "$work/src/bulkjobs"
else
	(cd "$src" && tar -cf - --exclude=./_build --exclude='./_build-*' \
	    --exclude=./_inst --exclude=./run --exclude=./.git .) |
	    tar -xf - -C "$work/src/bulkjobs"
fi || { fail "copying the source"; exit 1; }
chmod -R u+w "$work/src"	# a distcheck tree is read-only

cd "$work/src/bulkjobs" || exit 1
if ! dpkg-checkbuilddeps >"$log" 2>&1; then
	show "dpkg-checkbuilddeps" "$log"
	fail "build dependencies missing (./deps.sh test)"
	exit 1
fi
# the outer make's flags and jobserver are not debian/rules' business
unset MAKEFLAGS MFLAGS MAKELEVEL
say "building the package (dpkg-buildpackage -us -uc -b)"
if ! DEB_BUILD_OPTIONS="nocheck parallel=${JOBS:-2}" dpkg-buildpackage -us -uc -b \
    >"$work/build.log" 2>&1; then
	tail -n 40 "$work/build.log"
	fail "dpkg-buildpackage (log: $work/build.log)"
	exit 1
fi
cd "$work/src" || exit 1
deb=$(ls bulkjobs_*.deb 2>/dev/null | head -n 1)
check "dpkg-buildpackage made bulkjobs_*.deb" test -n "$deb"
check "and its debug symbols, bulkjobs-dbgsym_*.deb" sh -c 'ls bulkjobs-dbgsym_*.deb'
[ -n "$deb" ] || exit 1
deb=$work/src/$deb

# --- lintian ---------------------------------------------------------------
if lintian --fail-on error,warning bulkjobs_*.changes >"$log" 2>&1; then
	echo "ok - lintian: no error, no warning"
else
	fail "lintian"
fi
grep -v 'root privileges is not recommended' "$log" | sed 's/^/   lintian: /'

if [ "$(id -u)" != 0 ]; then
	echo "debian-package: skipped the rest: installing with dpkg -i needs root"
	[ $status = 0 ] && exit 77
	exit $status
fi

# --- install ---------------------------------------------------------------
# one suite at a time installs the package on this machine (other build
# trees may run theirs at the same time)
lockdir=/run/lock
[ -d $lockdir ] || lockdir=/tmp
exec 9>"$lockdir/bulkjobs-debian-package.lock"
if ! flock -w 900 9; then
	fail "another suite has held $lockdir/bulkjobs-debian-package.lock for 15 minutes"
	exit 1
fi
for p in /etc/bulkjobs /var/lib/bulkjobs /run/bulkjobs; do
	if [ -e "$p" ]; then
		fail "$p exists: this machine has bulkjobs already; not touching it"
		exit 1
	fi
done
if dpkg-query -W -f='${Status}' bulkjobs 2>/dev/null | grep -qv not-installed ||
    getent passwd bulkjobs >/dev/null || getent group bulkjobs >/dev/null; then
	fail "bulkjobs is installed, or its user exists: not touching this machine"
	exit 1
fi
installed=1
if ! dpkg_do -i "$deb"; then
	show "dpkg -i" "$log"
	fail "dpkg -i"
	exit 1
fi
show "dpkg -i $(basename "$deb")" "$log"
check "a first install says what to do next" \
    grep -q 'create its database and user' "$log"
check "  ... bulkjobsctl migrate" grep -q 'bulkjobsctl migrate' "$log"
check "  ... and the snippet" grep -q 'include /etc/nginx/snippets/bulkjobs.conf' "$log"

for f in /usr/bin/bulkjobs-fcgi /usr/bin/bulkjobs-reaper /usr/bin/bulkjobs-notify \
    /usr/bin/bulkjobs-worker /usr/bin/bulkjobsctl; do
	check "installed $f" test -x "$f"
done
for f in /usr/share/man/man8/bulkjobsctl.8.gz /usr/share/man/man5/bulkjobs.conf.5.gz \
    /usr/share/locale/ja/LC_MESSAGES/bulkjobs.mo \
    /lib/systemd/system/bulkjobs-fcgi.socket /lib/systemd/system/bulkjobs-fcgi.service \
    /lib/systemd/system/bulkjobs-reaper.timer /lib/systemd/system/bulkjobs-reaper.service \
    /lib/systemd/system/bulkjobs-worker@.service /etc/cron.d/bulkjobs \
    /etc/nginx/snippets/bulkjobs.conf /etc/nginx/snippets/bulkjobs-http.conf \
    /etc/apache2/conf-available/bulkjobs.conf /usr/share/doc/bulkjobs/README.Debian; do
	check "installed $f" test -f "$f"
done
check "/etc/bulkjobs/bulkjobs.conf is a conffile" \
    sh -c "dpkg-query -W -f='\${Conffiles}\n' bulkjobs | grep -q '^ /etc/bulkjobs/bulkjobs.conf '"
check "the config is 0640 root:bulkjobs" \
    test "$(stat -c '%a %U %G' /etc/bulkjobs/bulkjobs.conf)" = "640 root bulkjobs"
check "bulkjobs is a system user without a login shell" \
    sh -c 'getent passwd bulkjobs | awk -F: '\''$3 < 1000 && $7 == "/usr/sbin/nologin"'\'' | grep -q .'
asbj="setpriv --reuid=bulkjobs --regid=bulkjobs --init-groups --"
check "the bulkjobs user reads the config" $asbj test -r /etc/bulkjobs/bulkjobs.conf
check "others do not" setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
    sh -c '! test -r /etc/bulkjobs/bulkjobs.conf'
check "/var/lib/bulkjobs/artifacts belongs to bulkjobs" \
    test "$(stat -c %U /var/lib/bulkjobs/artifacts)" = bulkjobs
check "cron does nothing where systemd runs" \
    grep -q 'test -d /run/systemd/system ||' /etc/cron.d/bulkjobs
check "cron runs nothing before it is configured" \
    sh -c '! grep -q "^[^#]*bulkjobs-reaper" /etc/cron.d/bulkjobs'
if [ -d /run/systemd/system ]; then
	for u in bulkjobs-fcgi.socket bulkjobs-fcgi.service bulkjobs-reaper.timer; do
		check "$u neither enabled nor started" \
		    sh -c "! systemctl -q is-enabled $u && ! systemctl -q is-active $u"
	done
fi

# --- configure it as the operator would ----------------------------------
dbsock=$(cat "$BJ_TEST_DIR/socket" 2>/dev/null)
[ -S "$dbsock" ] || { fail "the suite's MariaDB is not running (make check)"; exit 1; }
dbname=bjt_debian_$$
pw=pw$$
if ! mariadb --no-defaults -S "$dbsock" -uroot -e "CREATE DATABASE \`$dbname\` CHARACTER SET utf8mb4;
    CREATE USER bulkjobs@localhost IDENTIFIED BY '$pw';
    GRANT ALL ON \`$dbname\`.* TO bulkjobs@localhost" >"$log" 2>&1; then
	show "mariadb" "$log"
	fail "creating the database user"
	exit 1
fi
sed -i -e "s|^socket = .*|socket = $dbsock|" -e "s|^password = .*|password = $pw|" \
    -e "s|^name = .*|name = $dbname|" /etc/bulkjobs/bulkjobs.conf
# cron's bare environment, the default config path
if env -i PATH=/usr/bin:/bin bulkjobsctl migrate >"$log" 2>&1; then
	echo "ok - the installed bulkjobsctl migrate: $(tail -n 1 "$log")"
else
	show "bulkjobsctl migrate" "$log"
	fail "the installed bulkjobsctl migrate"
fi

# bulkjobs-fcgi as the bulkjobs user where it can reach the suite's socket
# (a checkout under /root cannot be reached by anyone else), else as root
runas=$asbj
if ! $asbj test -w "$dbsock" 2>/dev/null; then
	say "the bulkjobs user cannot reach $dbsock: bulkjobs-fcgi runs as root"
	runas=
fi
check "bulkjobsctl migrate --status says nothing is pending" \
    $runas env -i PATH=/usr/bin:/bin bulkjobsctl migrate --status

# --- /healthz through nginx with the installed snippets ---------------------
install -d -o bulkjobs -g bulkjobs -m 0755 /run/bulkjobs
setsid $runas /usr/bin/bulkjobs-fcgi --listen /run/bulkjobs/fcgi.sock --processes 2 \
    --socket-mode 0666 >"$work/fcgi.log" 2>&1 9>&- &
pids="$pids $!"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
user www-data;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 64; }
http {
	access_log $work/nginx/access.log;
	client_body_temp_path $work/nginx/body;
	fastcgi_temp_path $work/nginx/fcgi;
	proxy_temp_path $work/nginx/proxy;
	uwsgi_temp_path $work/nginx/uwsgi;
	scgi_temp_path $work/nginx/scgi;
	include /etc/nginx/snippets/bulkjobs-http.conf;
	server {
		listen 127.0.0.1:$port;
		include /etc/nginx/snippets/bulkjobs.conf;
	}
}
EOF
setsid "${NGINX:-/usr/sbin/nginx}" -p "$work/nginx" -c "$work/nginx/nginx.conf" \
    >"$work/nginx/out.log" 2>&1 9>&- &
pids="$pids $!"
url=http://127.0.0.1:$port/bulkjobs/healthz
i=0
code=
while [ $i -lt 100 ]; do
	code=$(curl -s -o "$work/healthz" -w '%{http_code}' "$url")
	[ "$code" = 200 ] && break
	sleep 0.1
	i=$((i + 1))
done
if [ "$code" = 200 ] && grep -q '"database":"ok"' "$work/healthz"; then
	echo "ok - GET /bulkjobs/healthz through nginx: $(cat "$work/healthz")"
else
	fail "GET /bulkjobs/healthz through nginx answered ${code:-nothing}"
	show "nginx" "$work/nginx/error.log"
	show "bulkjobs-fcgi" "$work/fcgi.log"
fi
for p in $pids; do
	kill -TERM -"$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
pids=

# --- upgrade: the same package with a higher version ------------------------
echo "an artifact" >/var/lib/bulkjobs/artifacts/kept.txt
sum=$(md5sum </etc/bulkjobs/bulkjobs.conf)
uid=$(id -u bulkjobs)
rm -rf "$work/repack"
dpkg-deb -R "$deb" "$work/repack" &&
    sed -i 's/^Version: .*/&+1/' "$work/repack/DEBIAN/control" &&
    dpkg-deb --root-owner-group -b "$work/repack" "$work/upgrade.deb" >/dev/null ||
    { fail "repacking the package as an upgrade"; exit 1; }
if ! dpkg_do -i "$work/upgrade.deb"; then
	show "dpkg -i (upgrade)" "$log"
	fail "upgrade"
	exit 1
fi
show "dpkg -i (upgrade to $(dpkg-query -W -f='${Version}' bulkjobs))" "$log"
check "the upgrade keeps the edited config" test "$(md5sum </etc/bulkjobs/bulkjobs.conf)" = "$sum"
check "  ... its mode and group" \
    test "$(stat -c '%a %U %G' /etc/bulkjobs/bulkjobs.conf)" = "640 root bulkjobs"
check "  ... the artifacts" test -f /var/lib/bulkjobs/artifacts/kept.txt
check "  ... the user" test "$(id -u bulkjobs)" = "$uid"
check "  ... and says nothing of a first install" sh -c "! grep -q 'create its database' '$log'"
check "the schema is still current" env -i PATH=/usr/bin:/bin bulkjobsctl migrate --status

# --- remove: configuration and data stay -------------------------------------
if ! dpkg_do --remove bulkjobs; then
	show "dpkg --remove" "$log"
	fail "dpkg --remove"
	exit 1
fi
check "remove takes the programs" test ! -e /usr/bin/bulkjobs-fcgi
check "  ... keeps the config" test "$(md5sum </etc/bulkjobs/bulkjobs.conf)" = "$sum"
check "  ... the artifacts" test -f /var/lib/bulkjobs/artifacts/kept.txt
check "  ... and the user" getent passwd bulkjobs
check "  ... the package is config-files" \
    test "$(dpkg-query -W -f='${Status}' bulkjobs)" = "deinstall ok config-files"

# --- purge: configuration and user go, the data stays, and it says so -------
if ! dpkg_do --purge bulkjobs; then
	show "dpkg --purge" "$log"
	fail "dpkg --purge"
	exit 1
fi
show "dpkg --purge" "$log"
check "purge takes the config" test ! -e /etc/bulkjobs
check "  ... the snippets and cron.d" sh -c '! ls /etc/nginx/snippets/bulkjobs* \
    /etc/apache2/conf-available/bulkjobs.conf /etc/cron.d/bulkjobs 2>/dev/null | grep -q .'
check "  ... the user and the group" sh -c '! getent passwd bulkjobs && ! getent group bulkjobs'
check "  ... the mode override" sh -c '! dpkg-statoverride --list /etc/bulkjobs/bulkjobs.conf'
check "  ... keeps the artifacts" test -f /var/lib/bulkjobs/artifacts/kept.txt
check "  ... and the database" mariadb --no-defaults -S "$dbsock" -uroot \
    -e "SELECT 1 FROM \`$dbname\`.schema_migrations LIMIT 1"
check "  ... and says what it leaves: the database" grep -q 'database' "$log"
check "  ... and the artifacts" grep -q '/var/lib/bulkjobs' "$log"
check "  ... the package is gone" \
    sh -c '! dpkg-query -W -f="\${Status}" bulkjobs 2>/dev/null | grep -Eq " installed$|config-files"'

cleanup
[ $status = 0 ] && say "passed"
exit $status
