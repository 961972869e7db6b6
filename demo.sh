#!/bin/sh
# demo.sh: build bulkjobs and run the whole system on this machine.
#
# Everything lives under ./run of the checkout: a private MariaDB on a unix
# socket, bulkjobs-fcgi behind nginx on http://127.0.0.1:8080/bulkjobs/, the
# artifacts root, the logs. Ctrl-C (or SIGTERM) stops every process it
# started; the data stays in ./run for the next start (rm -rf run to reset).
set -eu
cd "$(dirname "$0")"
top=$(pwd)
run=$top/run
port=${BULKJOBS_DEMO_PORT:-8080}
jobs=${JOBS:-2}

./deps.sh run

# its own build directory: test.sh configures _build/ with --enable-werror,
# and objects built here without it would count as up to date there
echo "== building in _build-demo/"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p _build-demo
(cd _build-demo && { [ -f Makefile ] || "$top/configure" -q; } && make -s -j"$jobs")
bin=$top/_build-demo

mkdir -p "$run/artifacts" "$run/log" "$run/nginx"

# the catalogs where the programs look for them, as make install would put
# them: without them a reader who asks for Japanese gets English
for lang in $(cat "$top/po/LINGUAS"); do
	mkdir -p "$run/locale/$lang/LC_MESSAGES"
	msgfmt -o "$run/locale/$lang/LC_MESSAGES/bulkjobs.mo" "$top/po/$lang.po"
done
export BULKJOBS_LOCALEDIR=$run/locale
pids=""
cleanup() {
	trap - EXIT INT TERM
	echo
	echo "== stopping"
	[ -f "$run/worker.pid" ] && kill "$(cat "$run/worker.pid")" 2>/dev/null || true
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	[ -f "$run/nginx/nginx.pid" ] && kill "$(cat "$run/nginx/nginx.pid")" 2>/dev/null || true
	sleep 1
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	[ -f "$run/worker.pid" ] && kill -9 "$(cat "$run/worker.pid")" 2>/dev/null || true
	sh "$top/tests/servers.sh" stop-keep "$run/db" >/dev/null 2>&1 || true
	echo "stopped; data kept in $run"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# Run "$@" every $1 seconds until SIGTERM, which also ends the sleep under
# way: a stopped demo leaves no sleep behind.
every() {	# run in the background: every SECONDS COMMAND... &
	period=$1
	shift
	trap 'kill $nap 2>/dev/null; exit 0' TERM
	nap=
	while :; do
		"$@"
		sleep "$period" &
		nap=$!
		wait $nap
		nap=
	done
}

echo "== MariaDB (private, unix socket under $run/db)"
sh "$top/tests/servers.sh" start-keep "$run/db"
sock=$(cat "$run/db/socket")
mariadb --no-defaults --socket="$sock" -uroot -e \
	"CREATE DATABASE IF NOT EXISTS bulkjobs CHARACTER SET utf8mb4"

conf=$run/bulkjobs.conf
cat > "$conf" <<CONF
# written by demo.sh
[database]
socket = $sock
user = root
name = bulkjobs

[http]
base_path = /bulkjobs
public_url = http://127.0.0.1:$port/bulkjobs
# the operators' console (/bulkjobs/admin) for the demo's user
admins = ${BULKJOBS_DEMO_USER:-demo}

[artifacts]
root = $run/artifacts
download = x-accel-redirect

[mail]
transport = sendmail:/usr/sbin/sendmail
from = bulkjobs@localhost

[webhook]
secret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
# the demo's receiver is on loopback, which webhooks may not reach by default
allow_networks = 127.0.0.0/8

[reaper]
notifier = $bin/notifier/bulkjobs-notify
CONF
# it holds the webhook secret: the programs refuse a world-readable one
chmod 600 "$conf"
export BULKJOBS_CONF=$conf

"$bin/ctl/bulkjobsctl" migrate
token=$("$bin/ctl/bulkjobsctl" token list | awk '$1 == "demo-admin" { print "exists" }')
if [ -z "$token" ]; then
	token=$("$bin/ctl/bulkjobsctl" token create --name demo-admin --scope admin | tail -1)
	echo "$token" > "$run/admin.token"
	chmod 600 "$run/admin.token"
fi
token=$(cat "$run/admin.token")

echo "== bulkjobs-fcgi and nginx on 127.0.0.1:$port"
"$bin/fcgi/bulkjobs-fcgi" --listen "$run/fcgi.sock" --processes 4 --socket-mode 0666 \
	>> "$run/log/fcgi.log" 2>&1 &
pids="$pids $!"
sed -e "s|unix:/run/bulkjobs/fcgi.sock|unix:$run/fcgi.sock|" \
    -e "s|/var/lib/bulkjobs/artifacts/|$run/artifacts/|" \
    -e "s|/etc/bulkjobs/htpasswd|$run/nginx/htpasswd|" \
	"$top/conf/nginx.conf" > "$run/nginx/bulkjobs.conf"
cp "$top/conf/nginx-http.conf" "$run/nginx/bulkjobs-http.conf"
# the status pages sit behind the site's login: one user, "demo" (the jobs'
# owner, whoever runs the demo), password "demo"
demo_user=${BULKJOBS_DEMO_USER:-demo}
python3 -c 'import base64, hashlib, sys
print("%s:{SHA}%s" % (sys.argv[1], base64.b64encode(hashlib.sha1(b"demo").digest()).decode()))' \
	"$demo_user" > "$run/nginx/htpasswd"
echo "== status pages: user $demo_user, password demo"
user_line=
[ "$(id -u)" = 0 ] && user_line="user root root;"
cat > "$run/nginx/nginx.conf" <<NGINX
daemon off;
worker_processes 2;
$user_line
pid $run/nginx/nginx.pid;
error_log $run/log/nginx-error.log;
events { worker_connections 512; }
http {
    access_log $run/log/nginx-access.log;
    client_body_temp_path $run/nginx/body;
    fastcgi_temp_path $run/nginx/fastcgi;
    proxy_temp_path $run/nginx/proxy;
    uwsgi_temp_path $run/nginx/uwsgi;
    scgi_temp_path $run/nginx/scgi;
    include $run/nginx/bulkjobs-http.conf;
    server {
        listen 127.0.0.1:$port;
        location = / { return 302 /bulkjobs/jobs; }
        include $run/nginx/bulkjobs.conf;
    }
}
NGINX
nginx -p "$run/nginx" -c "$run/nginx/nginx.conf" &
pids="$pids $!"

i=0
until curl -fsS "http://127.0.0.1:$port/bulkjobs/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "demo.sh: bulkjobs did not come up; see $run/log" >&2
		exit 1
	fi
	sleep 0.1
done

# --- the export demo: sample data, webhook receiver, reaper, notifier, worker
echo "== sample application database and tokens"
export DEMO_DB_SOCKET=$sock
sh "$top/examples/export/create-sample-db"
for t in worker:work submit:submit; do
	name=${t%%:*}
	scope=${t#*:}
	if [ ! -s "$run/$name.token" ]; then
		"$bin/ctl/bulkjobsctl" token revoke "demo-$name" >/dev/null 2>&1 || true
		# the submit token may only submit jobs for the signed-in demo user
		owner=
		[ "$scope" = submit ] && owner="--owner $demo_user"
		"$bin/ctl/bulkjobsctl" token create --name "demo-$name" --scope "$scope" $owner \
			| tail -1 > "$run/$name.token"
		chmod 600 "$run/$name.token"
	fi
done
webhook_port=${BULKJOBS_DEMO_WEBHOOK_PORT:-8099}
secret=$(sed -n 's/^secret = //p' "$conf" | grep '^whsec_' | head -1)

echo "== webhook receiver on 127.0.0.1:$webhook_port"
python3 "$top/examples/webhook-receiver" --port "$webhook_port" --secret "$secret" \
	--log "$run/log/webhooks.jsonl" >> "$run/log/webhooks.log" 2>&1 &
pids="$pids $!"

# cron's stand-in: the reaper every minute (it runs the notifier after each
# sweep), and the notifier alone every few seconds so webhooks arrive promptly
if [ -x "$bin/reaper/bulkjobs-reaper" ]; then
	echo "== reaper every minute"
	every 60 "$bin/reaper/bulkjobs-reaper" -v >> "$run/log/reaper.log" 2>&1 &
	pids="$pids $!"
else
	echo "== (no bulkjobs-reaper in this build: expired leases are not swept)"
fi
if [ -x "$bin/notifier/bulkjobs-notify" ]; then
	echo "== notifier every 5 seconds"
	every 5 "$bin/notifier/bulkjobs-notify" -v >> "$run/log/notify.log" 2>&1 &
	pids="$pids $!"
else
	echo "== (no bulkjobs-notify in this build: notifications stay queued)"
fi

# the worker, restarted when it dies as systemd's Restart= would;
# EXPORT_DELAY slows the export down enough to watch it (and to kill it)
echo "== bulkjobs-worker -j 4 running examples/export/export"
(
	trap 'kill $nap 2>/dev/null; exit 0' TERM
	nap=
	while :; do
		BULKJOBS_TOKEN=$(cat "$run/worker.token") EXPORT_DELAY=${EXPORT_DELAY:-1} \
			"$bin/worker/bulkjobs-worker" -c "$conf" -j 4 --lease 60 --kind project_export \
			--worker-id demo-worker -v --exec "$top/examples/export/export" &
		echo $! > "$run/worker.pid"
		wait $! && break
		echo "worker exited; restarting in 2 s"
		sleep 2 &
		nap=$!
		wait $nap
		nap=
	done
) >> "$run/log/worker.log" 2>&1 &
pids="$pids $!"

cat <<EOT

bulkjobs is running.

  URL:          http://127.0.0.1:$port/bulkjobs/
  health:       curl http://127.0.0.1:$port/bulkjobs/healthz
  admin token:  $token
  config:       $conf   (export BULKJOBS_CONF=$conf for bulkjobsctl)
  logs:         $run/log/

The tour (in a second terminal, from $top):

  1. Submit a parallel export: one item per table, then a merge into one archive.
       BULKJOBS_TOKEN=\$(cat run/submit.token) BULKJOBS_URL=http://127.0.0.1:$port/bulkjobs \\
         examples/export/submit --owner $demo_user --webhook http://127.0.0.1:$webhook_port/hooks/export
  2. Open the printed status page (user $demo_user, password demo) and reload
     it: the progress bar moves as the four worker slots export their tables
     (tail -f run/log/worker.log).
  3. When the job has succeeded, the page offers export.tar.gz for download.
  4. The webhook arrives at the receiver, signature checked:
       tail run/log/webhooks.log
  5. Submit again and kill the worker mid-run:  kill -9 \$(cat run/worker.pid)
     Its items stay claimed until their 60 s lease runs out (the status page
     then says how many wait for the lost worker, and by when they go back to
     the queue); the reaper (every minute) hands them out again, the restarted
     worker runs them as attempt 2, and the job still ends with one archive and
     one webhook.
     A plain kill (SIGTERM) instead lets the running exports finish first.
  6. The operators' console (same login): what is waiting, completions per
     minute, the reaper's last runs, the workers, failures, notifications:
       http://127.0.0.1:$port/bulkjobs/admin

Press Ctrl-C to stop everything.
EOT
wait
