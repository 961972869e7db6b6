#!/bin/sh
# servers.sh start|stop|start-keep|stop-keep DIR: a private MariaDB.
#
# start: a throwaway datadir (mariadb-install-db), mariadbd on a unix socket
# (no TCP), root allowed by socket, then DIR/socket names the socket.
# stop: shut it down and remove the datadir. Both are safe to repeat.
# start-keep / stop-keep: the same, but the datadir is kept between runs
# (the demo uses these).
set -u
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
MARIADBD=${MARIADBD:-$(command -v mariadbd || echo /usr/sbin/mariadbd)}
MARIADB_INSTALL_DB=${MARIADB_INSTALL_DB:-$(command -v mariadb-install-db || echo /usr/bin/mariadb-install-db)}

sockpath() {
	# unix socket paths are limited to 107 bytes: fall back to /tmp
	s="$dir/mysql.sock"
	if [ ${#s} -gt 100 ]; then
		[ -f "$dir/sockdir" ] || mktemp -d /tmp/bjtest.XXXXXX > "$dir/sockdir"
		s="$(cat "$dir/sockdir")/mysql.sock"
	fi
	echo "$s"
}

halt() {
	if [ -f "$dir/mariadb.pid" ]; then
		pid=$(cat "$dir/mariadb.pid")
		kill "$pid" 2>/dev/null
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null
		rm -f "$dir/mariadb.pid"
	fi
}

stop() {
	halt
	[ -f "$dir/sockdir" ] && rm -rf "$(cat "$dir/sockdir")" "$dir/sockdir"
	rm -rf "$dir/data" "$dir/tmp" "$dir/socket"
}

case $cmd in
start|start-keep)
	if [ "$cmd" = start ]; then stop; else halt; fi
	mkdir -p "$dir"
	sock=$(sockpath)
	user_opt=
	[ "$(id -u)" = 0 ] && user_opt=--user=root
	# tests trade durability for speed; benchmarks set BJ_DB_DURABLE=1
	flush=2
	[ "${BJ_DB_DURABLE:-0}" = 1 ] && flush=1
	if [ -d "$dir/data/mysql" ]; then
		: # kept from an earlier run
	elif ! "$MARIADB_INSTALL_DB" --no-defaults --datadir="$dir/data" $user_opt \
	    --auth-root-authentication-method=socket --skip-test-db \
	    > "$dir/install.log" 2>&1; then
		echo "servers.sh: mariadb-install-db failed:" >&2
		cat "$dir/install.log" >&2
		exit 1
	fi
	# its own temporary directory: nothing else can remove its temp files
	mkdir -p "$dir/tmp"
	"$MARIADBD" --no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp" --socket="$sock" \
	    --skip-networking --pid-file="$dir/mariadb.pid" $user_opt \
	    --log-error="$dir/mariadb.err" --innodb-buffer-pool-size=256M \
	    --innodb-flush-log-at-trx-commit="$flush" --max-connections=500 \
	    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
	    > /dev/null 2>&1 &
	i=0
	until mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 300 ]; then
			echo "servers.sh: mariadbd did not start:" >&2
			tail -20 "$dir/mariadb.err" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "$sock" > "$dir/socket"
	echo "MariaDB up on $sock"
	;;
stop)
	stop
	echo "MariaDB stopped"
	;;
stop-keep)
	halt
	rm -f "$dir/socket"
	echo "MariaDB stopped (data kept in $dir/data)"
	;;
*)
	echo "usage: servers.sh start|stop DIR" >&2
	exit 64
	;;
esac
