#!/bin/sh
# galera.sh start|stop|status|kill N|restart N|stop-node N DIR: a private
# three-node MariaDB Galera cluster on 127.0.0.1.
#
# start: node 1 is installed (mariadb-install-db) and bootstrapped alone,
# given a TCP user 'bulkjobs'@'127.0.0.1' without password, stopped cleanly,
# and its datadir (with grastate.dat) copied to nodes 2 and 3; then node 1
# bootstraps the cluster again and nodes 2 and 3 join it with the same
# state, so no state transfer is needed (no SST, no rsync, seconds).
# DIR/ports says "N client_port gcomm_port ist_port sst_port" per node, DIR/hosts
# the "[database] hosts" value of the three nodes in order.
# kill N: SIGKILL node N. restart N: recover its position with
# `mariadbd --wsrep-recover` and start it with --wsrep-start-position, so
# it rejoins by IST (or with nothing to transfer); waits until Synced.
# stop-node N: a clean shutdown of node N. status: each node's state.
# stop: every node down and DIR's data removed. Safe to repeat.
set -u
cmd=$1
shift
node=
case $cmd in kill|restart|stop-node) node=$1; shift ;; esac
mkdir -p "$1"
dir=$(cd "$1" && pwd)
MARIADBD=${MARIADBD:-$(command -v mariadbd || echo /usr/sbin/mariadbd)}
MARIADB_INSTALL_DB=${MARIADB_INSTALL_DB:-$(command -v mariadb-install-db || echo /usr/bin/mariadb-install-db)}
GALERA=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
user_opt=
[ "$(id -u)" = 0 ] && user_opt=--user=root

die() {
	echo "galera.sh: $*" >&2
	exit 1
}

# Twelve free TCP ports on 127.0.0.1, four per node.
pick_ports() {
	python3 - <<'EOF'
import socket
socks = []
for n in range(1, 4):
	ports = []
	for _ in range(4):
		s = socket.socket()
		s.bind(("127.0.0.1", 0))
		socks.append(s)
		ports.append(s.getsockname()[1])
	print(n, *ports)
EOF
}

port() {	# port NODE FIELD (2 client, 3 gcomm, 4 ist, 5 sst)
	awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$dir/ports"
}

sock() {
	s="$dir/n$1.sock"
	if [ ${#s} -gt 100 ]; then
		[ -f "$dir/sockdir" ] || mktemp -d /tmp/bjgalera.XXXXXX > "$dir/sockdir"
		s="$(cat "$dir/sockdir")/n$1.sock"
	fi
	echo "$s"
}

cluster_address() {
	echo "gcomm://127.0.0.1:$(port 1 3),127.0.0.1:$(port 2 3),127.0.0.1:$(port 3 3)"
}

# The options of node N (the same for --wsrep-recover and for running).
opts() {
	n=$1
	echo --no-defaults --datadir="$dir/n$n" --tmpdir="$dir/tmp$n" \
	    --socket="$(sock "$n")" --port="$(port "$n" 2)" --bind-address=127.0.0.1 \
	    --pid-file="$dir/n$n.pid" --log-error="$dir/n$n.err" $user_opt \
	    --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 \
	    --innodb-log-file-size=64M --max-connections=300 \
	    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
	    --binlog-format=ROW --innodb-autoinc-lock-mode=2 --default-storage-engine=InnoDB \
	    --wsrep-on=ON --wsrep-provider="$GALERA" --wsrep-cluster-name=bulkjobs-test \
	    --wsrep-node-name="n$n" --wsrep-node-address="127.0.0.1:$(port "$n" 3)" \
	    --wsrep-node-incoming-address="127.0.0.1:$(port "$n" 2)" \
	    --wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$(port "$n" 5)" \
	    --wsrep-slave-threads=2 --wsrep-cluster-address="$(cluster_address)" \
	    --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$(port "$n" 3);ist.recv_addr=127.0.0.1:$(port "$n" 4);gcache.size=256M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.install_timeout=PT4S"
}

client() {	# client N SQL...
	n=$1
	shift
	mariadb --no-defaults --socket="$(sock "$n")" -uroot -N -B -e "$*" 2>/dev/null
}

state() {
	client "$1" "SHOW STATUS LIKE 'wsrep_local_state_comment'" | awk '{ print $2 }'
}

# Wait until node N answers and is Synced (up to 60 s).
wait_synced() {
	i=0
	while [ "$(state "$1")" != Synced ]; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 "$(cat "$dir/n$1.pid" 2>/dev/null || echo 0)" 2>/dev/null &&
		    [ $i -gt 50 ]; then
			tail -30 "$dir/n$1.err" >&2
			die "node $1 did not reach Synced"
		fi
		sleep 0.1
	done
}

# Start node N in the background with extra options.
run() {
	n=$1
	shift
	mkdir -p "$dir/tmp$n"
	# a root server's rsync transfer (IST too) writes as nobody
	[ "$(id -u)" = 0 ] && chmod 0777 "$dir/n$n"
	# shellcheck disable=SC2046
	"$MARIADBD" $(opts "$n") "$@" > "$dir/n$n.out" 2>&1 &
	echo $! > "$dir/n$n.pid"
}

halt() {	# halt N SIGNAL
	f="$dir/n$1.pid"
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	kill -"$2" "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null
	rm -f "$f"
}

stop_all() {
	for n in 3 2 1; do halt $n TERM; done
	[ -f "$dir/sockdir" ] && rm -rf "$(cat "$dir/sockdir")" "$dir/sockdir"
	rm -rf "$dir/n1" "$dir/n2" "$dir/n3" "$dir/tmp1" "$dir/tmp2" "$dir/tmp3" \
	    "$dir/hosts" "$dir/ports"
}

case $cmd in
start)
	[ -x "$MARIADBD" ] || die "no mariadbd"
	[ -r "$GALERA" ] || die "no Galera provider at $GALERA (Debian: galera-4)"
	stop_all
	pick_ports > "$dir/ports" || die "cannot pick ports"
	"$MARIADB_INSTALL_DB" --no-defaults --datadir="$dir/n1" $user_opt \
	    --auth-root-authentication-method=socket --skip-test-db \
	    > "$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; die "mariadb-install-db failed"; }
	run 1 --wsrep-new-cluster
	wait_synced 1
	client 1 "CREATE USER 'bulkjobs'@'127.0.0.1'; GRANT ALL ON *.* TO 'bulkjobs'@'127.0.0.1' WITH GRANT OPTION" ||
	    die "cannot create the TCP user"
	halt 1 TERM
	grep -q 'seqno: *-1' "$dir/n1/grastate.dat" && die "node 1 did not save its position"
	for n in 2 3; do
		cp -a "$dir/n1" "$dir/n$n"
		rm -f "$dir/n$n/gvwstate.dat" "$dir/n$n"/*.pid
	done
	run 1 --wsrep-new-cluster
	wait_synced 1
	run 2
	wait_synced 2
	run 3
	wait_synced 3
	echo "127.0.0.1:$(port 1 2), 127.0.0.1:$(port 2 2), 127.0.0.1:$(port 3 2)" > "$dir/hosts"
	echo "Galera up: $(cat "$dir/hosts"), cluster size $(client 1 "SHOW STATUS LIKE 'wsrep_cluster_size'" | awk '{ print $2 }')"
	;;
kill)
	halt "$node" 9
	echo "node $node killed"
	;;
stop-node)
	halt "$node" TERM
	echo "node $node stopped"
	;;
restart)
	[ -f "$dir/n$node.pid" ] && kill -0 "$(cat "$dir/n$node.pid")" 2>/dev/null && die "node $node is running"
	# shellcheck disable=SC2046
	"$MARIADBD" $(opts "$node") --wsrep-recover --log-error="$dir/n$node.recover" > /dev/null 2>&1
	pos=$(sed -n 's/.*WSREP: Recovered position: *\([^ ]*\).*/\1/p' "$dir/n$node.recover" | tail -1)
	rm -f "$dir/n$node.recover"
	[ -n "$pos" ] || die "node $node: no position recovered"
	run "$node" --wsrep-start-position="$pos"
	wait_synced "$node"
	echo "node $node rejoined at $pos"
	;;
status)
	for n in 1 2 3; do echo "node $n: $(state $n)"; done
	;;
stop)
	stop_all
	echo "Galera stopped"
	;;
*)
	echo "usage: galera.sh start|stop|status|kill N|restart N|stop-node N DIR" >&2
	exit 64
	;;
esac
