/*
 * test_faults.c: faults injected into a running system (nginx +
 * bulkjobs-fcgi, the real bulkjobs-worker, bulkjobs-reaper and
 * bulkjobs-notify, a loopback webhook receiver):
 *
 * - a worker killed with SIGKILL mid-item: the item comes back after its
 *   lease and completes once;
 * - a worker stopped (SIGSTOP) past its lease: the reaper requeues the
 *   item, another worker claims it, and the first one's late completion
 *   is refused with 409 LEASE_LOST and changes nothing;
 * - the reaper killed with SIGKILL, or its database connection killed
 *   (KILL CONNECTION), mid-sweep: the next run finishes the work and no
 *   notification is recorded or delivered twice;
 * - a full artifacts disk (a 1 MB tmpfs): a clear, retryable failure, no
 *   half-written artifact served, and the retry succeeds once there is
 *   room; a command that names an artifact it did not write fails.
 *
 * Leases are 3 s so that each case takes seconds; every wait polls with
 * a deadline that only stops a broken run from hanging.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "json.h"

#define SECRET	"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static struct bj_e2e e2e;
static struct bj_db *db;
static char token[128];
static char marks[700];		/* the commands' marker files */
static char arts[700];		/* the artifacts root */
static char hook[128];		/* the receiver's URL */
static pid_t receiver;
static int mounted;

/* --- helpers ---------------------------------------------------------- */

/* One-value queries on the suite's database, and polling them. */
#define q(...)		bj_test_scalarf(db, __VA_ARGS__)
#define wait_q(want, limit, ...) bj_test_wait_scalarf(db, want, limit, __VA_ARGS__)

/* An API request with the suite's token; the reply parsed into *obj when asked. */
static long
api(const char *method, const char *path, const char *body, struct json_object **obj)
{
	return bj_e2e_api(&e2e, token, method, path, body, obj);
}

/* Create a job of kind with items (JSON) and a webhook to the receiver; its id or -1. */
static long long
submit(const char *kind, const char *items, const char *extra)
{
	char *body = bj_xasprintf("{\"kind\":\"%s\",\"owner\":\"tester\",\"items\":%s,"
	    "\"notify\":{\"webhooks\":[\"%s/ok\"]}%s%s}", kind, items, hook,
	    extra ? "," : "", extra ? extra : "");
	long long id = bj_e2e_submit(&e2e, token, body);

	free(body);
	return id;
}

/* The job as GET /v1/jobs/ID shows it (caller puts), or NULL. */
static struct json_object *
job_get(long long id)
{
	return bj_e2e_job(&e2e, token, id);
}

/* A string member of the job, compared with want (NULL: the member is null). */
static int
job_str_is(long long id, const char *key, const char *want)
{
	struct json_object *j = job_get(id);
	const char *v = j ? bj_json_str(j, key) : NULL;
	int ok = j != NULL && (want == NULL ? v == NULL : v != NULL && strcmp(v, want) == 0);

	if (!ok)
		fprintf(stderr, "job %lld: %s is %s, not %s\n", id, key, v ? v : "null",
		    want ? want : "null");
	json_object_put(j);
	return ok;
}

/* The job's counts.name, or -1. */
static long long
job_count(long long id, const char *name)
{
	struct json_object *j = job_get(id), *counts;
	long long v = -1;

	if (j != NULL && json_object_object_get_ex(j, "counts", &counts))
		bj_json_int(counts, name, &v);
	json_object_put(j);
	return v;
}

/* Poll until the job is in state; 0, or -1 after limit seconds. */
static int
wait_job(long long id, const char *state, int limit)
{
	return bj_e2e_wait_state(&e2e, token, id, state, limit);
}

/* The job's only item id. */
static long long
item_of(long long job)
{
	return q("SELECT MIN(id) FROM items WHERE job_id = %lld", job);
}

/* Start bulkjobs-worker with --artifacts and args, logging to LOGNAME.log; its pid. */
static pid_t
worker(const char *logname, const char *const *args)
{
	const char *argv[32];
	int n = 0;

	argv[n++] = "--artifacts";
	argv[n++] = arts;
	for (int i = 0; args[i] != NULL && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return bj_e2e_worker(&e2e, token, logname, argv);
}

/* Wait for a child to exit; its exit status, or -1 (then it is killed). */
static int
child_wait(pid_t pid, int limit)
{
	return bj_test_child_wait(pid, limit);
}

/* Stop a worker left running: two SIGTERMs stop it and its commands. */
static int
worker_stop(pid_t pid)
{
	kill(pid, SIGCONT);
	kill(pid, SIGTERM);
	usleep(100000);
	kill(pid, SIGTERM);
	return child_wait(pid, 30);
}

/* Poll until the worker log LOGNAME.log contains text; 0, or -1 after limit seconds. */
static int
wait_log(const char *logname, const char *text, int limit)
{
	char path[800];

	snprintf(path, sizeof path, "%s/%s.log", e2e.root, logname);
	for (int i = 0; i < limit * 20; i++) {
		char *s = bj_test_slurp(path, NULL);
		int hit = s != NULL && strstr(s, text) != NULL;
		free(s);
		if (hit)
			return 0;
		usleep(50000);
	}
	fprintf(stderr, "%s has no \"%s\"\n", path, text);
	return -1;
}

/* Once attempt 1 of item is claimed: the pid its command wrote into pidfile, or 0. */
static pid_t
first_attempt_pid(long long item, const char *pidfile)
{
	pid_t pid = 0;
	char *s;

	CU_ASSERT_EQUAL_FATAL(wait_q(1, 20, "SELECT COUNT(*) FROM items WHERE id = %lld"
	    " AND state = 'claimed' AND attempt = 1", item), 0);
	for (int i = 0; i < 100 && access(pidfile, F_OK) != 0; i++)
		usleep(50000);
	if ((s = bj_test_slurp(pidfile, NULL)) != NULL)
		pid = (pid_t)atoi(s);
	free(s);
	return pid;
}

/* Start bulkjobs-reaper on the suite's config, logging to reaper.log; its pid. */
static pid_t
reaper_start(void)
{
	const char *bld = getenv("BJ_BUILDDIR");
	char bin[600], log[800];
	char *argv[] = { bin, "-c", e2e.conf_path, NULL };

	snprintf(bin, sizeof bin, "%s/reaper/bulkjobs-reaper", bld);
	snprintf(log, sizeof log, "%s/reaper.log", e2e.root);
	return bj_test_spawn(argv, log);
}

/* One reaper run as cron starts it, once the lock is free; its exit status. */
static int
reap(void)
{
	CU_ASSERT_EQUAL(wait_q(1, 20, "SELECT IS_FREE_LOCK('bulkjobs.reaper')"), 0);
	return child_wait(reaper_start(), 60);
}

/* How many webhooks with webhook-id msg_NOTE the receiver got. */
static int
deliveries(long long note)
{
	char path[800], want[64];
	char *s, *p;
	int n = 0;

	snprintf(path, sizeof path, "%s/received.jsonl", e2e.root);
	snprintf(want, sizeof want, "\"id\": \"msg_%lld\"", note);
	if ((s = bj_test_slurp(path, NULL)) == NULL)
		return 0;
	for (p = s; (p = strstr(p, want)) != NULL; p++)
		n++;
	free(s);
	return n;
}

/*
 * The outbox and the receiver after a job ended in event: one webhook row,
 * sent, delivered once. Another reaper run (and so notifier run) changes
 * nothing.
 */
static void
assert_notified_once(long long job, const char *event)
{
	long long note;

	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld", job), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld"
	    " AND event = '%s' AND channel = 'webhook'", job, event), 1);
	note = q("SELECT MIN(id) FROM notifications WHERE job_id = %lld", job);
	CU_ASSERT_EQUAL(wait_q(1, 30, "SELECT COUNT(*) FROM notifications WHERE id = %lld"
	    " AND state = 'sent'", note), 0);
	CU_ASSERT_EQUAL(deliveries(note), 1);
	CU_ASSERT_EQUAL(reap(), 0);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld", job), 1);
	CU_ASSERT_EQUAL(deliveries(note), 1);
}

/* Start tests/notify_receiver.py on port, recording into the suite's directory. */
static pid_t
receiver_start(int port)
{
	const char *src = getenv("BJ_SRCDIR");
	char script[600], port_s[16], log[800], secret[] = SECRET;
	char *argv[] = { "/usr/bin/python3", script, port_s, e2e.root, secret, NULL };
	pid_t pid;

	snprintf(script, sizeof script, "%s/tests/notify_receiver.py", src);
	snprintf(port_s, sizeof port_s, "%d", port);
	snprintf(log, sizeof log, "%s/receiver.log", e2e.root);
	pid = bj_test_spawn(argv, log);
	for (int i = 0; i < 200 && !bj_test_port_open(port); i++)
		usleep(50000);
	return bj_test_port_open(port) ? pid : -1;
}

static int
download(long long job, struct bj_http_reply *r)
{
	const char *login[] = { "Authorization: Basic dGVzdGVyOnRlc3Rlci1wdw==", NULL };
	struct json_object *j = job_get(job);
	const char *tok = j ? bj_json_str(j, "token") : NULL;
	char url[600];
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (tok != NULL) {
		snprintf(url, sizeof url, "%s/jobs/%s/download", e2e.url, tok);
		rc = bj_http("GET", url, login, NULL, 0, r);
	}
	json_object_put(j);
	return rc;
}

/* Take the tmpfs off the artifacts root (also at exit, whatever failed). */
static void
unmount_artifacts(void)
{
	if (mounted && umount2(arts, MNT_DETACH) == 0)
		mounted = 0;
}

/* Stop the webhook receiver and its process group. */
static void
stop_receiver(void)
{
	if (receiver > 0) {
		kill(-receiver, SIGTERM);
		waitpid(receiver, NULL, 0);
		receiver = 0;
	}
}

/* nginx + bulkjobs-fcgi whose reaper runs the real notifier, the receiver, a token. */
static int
init(void)
{
	const char *bld = getenv("BJ_BUILDDIR");
	char extra[1200], *tok;
	int port = bj_test_free_port();

	snprintf(hook, sizeof hook, "http://127.0.0.1:%d", port);
	snprintf(extra, sizeof extra,
	    "[reaper]\nbatch = 1\nnotifier = %s/notifier/bulkjobs-notify\nnotifier_timeout = 20\n"
	    "[webhook]\nsecret = %s\ntimeout = 5\n"
	    "allow_networks = 127.0.0.0/8\n", bld, SECRET);	/* the receiver is on loopback */
	if (bj_e2e_start(&e2e, "faults", extra) == -1)
		return -1;
	db = bj_test_db("faults");
	snprintf(arts, sizeof arts, "%s/artifacts", e2e.root);
	snprintf(marks, sizeof marks, "%s/marks", e2e.root);
	mkdir(marks, 0755);
	{
		char rec[800];
		snprintf(rec, sizeof rec, "%s/received.jsonl", e2e.root);
		unlink(rec);
	}
	atexit(unmount_artifacts);
	atexit(stop_receiver);
	if ((receiver = receiver_start(port)) <= 0) {
		fprintf(stderr, "test_faults: the webhook receiver did not come up\n");
		return -1;
	}
	if ((tok = bj_e2e_token(&e2e, "faults", "submit,work,admin", "tester")) == NULL)
		return -1;
	snprintf(token, sizeof token, "%s", tok);
	free(tok);
	return bj_e2e_htpasswd(&e2e, "tester");
}

/* Undo init, the mount first. */
static int
clean(void)
{
	unmount_artifacts();
	stop_receiver();
	bj_e2e_stop(&e2e);
	return 0;
}

/* --- the faults ------------------------------------------------------- */

/* kill -9 a worker mid-item: the item comes back after its lease and completes once. */
static void
test_worker_killed(void)
{
	char cmd[1200], pidfile[800];
	const char *args[] = { "--kind", "k9", "--lease", "3", "--exec", cmd, NULL };
	const char *again[] = { "--kind", "k9", "--drain", "--exec", cmd, NULL };
	long long job, item;
	pid_t a, b, group;

	snprintf(pidfile, sizeof pidfile, "%s/k9.pid", marks);
	unlink(pidfile);
	/* the first attempt hangs (its pid noted), later ones finish at once */
	snprintf(cmd, sizeof cmd, "if [ \"$BULKJOBS_ATTEMPT\" = 1 ]; then echo $$ > '%s'; "
	    "exec sleep 60; fi; echo \"{\\\"attempt\\\":$BULKJOBS_ATTEMPT}\"", pidfile);
	job = submit("k9", "[{\"key\":\"only\"}]", "\"lease_seconds\":3,\"max_attempts\":3");
	CU_ASSERT_FATAL(job > 0);
	item = item_of(job);
	a = worker("k9-a", args);
	group = first_attempt_pid(item, pidfile);
	CU_ASSERT_FATAL(group > 0);

	/* the worker dies without a word; so does what it ran (as with the machine) */
	kill(a, SIGKILL);
	CU_ASSERT_EQUAL(child_wait(a, 10), -1);
	kill(-group, SIGKILL);

	/* its lease still runs: the reaper leaves the claim alone */
	CU_ASSERT_EQUAL(reap(), 0);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'claimed'"
	    " AND attempt = 1", item), 1);
	/* once it has run out, the reaper brings the item back */
	CU_ASSERT_EQUAL(wait_q(1, 10, "SELECT COUNT(*) FROM items WHERE id = %lld"
	    " AND lease_expires_at < NOW(6)", item), 0);
	CU_ASSERT_EQUAL(reap(), 0);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'pending'"
	    " AND attempt = 1 AND lease_token IS NULL", item), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld AND attempt = 1"
	    " AND error LIKE 'lease expired%%'", item), 1);
	CU_ASSERT_EQUAL(job_count(job, "pending"), 1);
	CU_ASSERT_EQUAL(job_count(job, "claimed"), 0);

	/* after its back-off another worker runs it as attempt 2 */
	CU_ASSERT_EQUAL(wait_q(1, 10, "SELECT COUNT(*) FROM items WHERE id = %lld"
	    " AND run_after <= NOW(6)", item), 0);
	b = worker("k9-b", again);
	CU_ASSERT_EQUAL(child_wait(b, 30), 0);
	CU_ASSERT_EQUAL(wait_job(job, "succeeded", 10), 0);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'succeeded'"
	    " AND attempt = 2 AND JSON_EXTRACT(result, '$.attempt') = 2", item), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld", item), 1);
	CU_ASSERT_EQUAL(job_count(job, "succeeded"), 1);
	CU_ASSERT_EQUAL(job_count(job, "total"), 1);
	CU_ASSERT_EQUAL(job_count(job, "claimed"), 0);
	CU_ASSERT_EQUAL(reap(), 0);	/* runs the notifier */
	assert_notified_once(job, "job.succeeded");
}

/* 1 when process pid has exited (a zombie nobody reaped yet counts). */
static int
exited(pid_t pid)
{
	char path[64], *s, *p;
	int gone;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((s = bj_test_slurp(path, NULL)) == NULL)
		return 1;
	p = strrchr(s, ')');
	gone = p == NULL || p[1] == '\0' || p[2] == 'Z' || p[2] == 'X';
	free(s);
	return gone;
}

/*
 * SIGSTOP a worker past its lease: the reaper requeues the item, a second
 * worker claims it; the first one, continued, completes late while the
 * second holds the claim: 409 LEASE_LOST, and nothing changes.
 */
static void
test_worker_stopped_completes_late(void)
{
	char cmd[2400], pidfile[800], go[800], want[200];
	const char *args[] = { "--kind", "stop", "--lease", "3", "--exec", cmd, NULL };
	const char *args_b[] = { "--kind", "stop", "--lease", "3", "--drain", "--exec", cmd, NULL };
	long long job, item;
	pid_t a, b, first;

	snprintf(pidfile, sizeof pidfile, "%s/stop.pid", marks);
	snprintf(go, sizeof go, "%s/stop.go", marks);
	unlink(pidfile);
	unlink(go);
	/*
	 * Attempt 1 writes its artifact and result after 3 s; attempt 2 writes
	 * its own at once, then waits for the go file before reporting.
	 */
	snprintf(cmd, sizeof cmd,
	    "d=\"$BULKJOBS_ARTIFACTS/jobs/$BULKJOBS_JOB_ID\"; mkdir -p \"$d\"; "
	    "if [ \"$BULKJOBS_ATTEMPT\" = 1 ]; then echo $$ > '%s'; sleep 3; "
	    "echo first > \"$d/first.txt\"; "
	    "echo \"{\\\"by\\\":\\\"first\\\",\\\"artifact\\\":\\\"jobs/$BULKJOBS_JOB_ID/first.txt\\\"}\"; "
	    "else echo second > \"$d/second.txt\"; "
	    "while [ ! -e '%s' ]; do sleep 0.1; done; "
	    "echo \"{\\\"by\\\":\\\"second\\\",\\\"artifact\\\":\\\"jobs/$BULKJOBS_JOB_ID/second.txt\\\"}\"; fi",
	    pidfile, go);
	job = submit("stop", "[{\"key\":\"only\"}]", "\"lease_seconds\":3,\"max_attempts\":3");
	CU_ASSERT_FATAL(job > 0);
	item = item_of(job);
	a = worker("stop-a", args);
	first = first_attempt_pid(item, pidfile);
	CU_ASSERT_FATAL(first > 0);
	/* the worker stops (its command goes on and finishes meanwhile) */
	CU_ASSERT_EQUAL_FATAL(kill(a, SIGSTOP), 0);

	CU_ASSERT_EQUAL(wait_q(1, 10, "SELECT COUNT(*) FROM items WHERE id = %lld"
	    " AND lease_expires_at < NOW(6)", item), 0);
	CU_ASSERT_EQUAL(reap(), 0);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'pending'"
	    " AND attempt = 1", item), 1);
	CU_ASSERT_EQUAL(wait_q(1, 10, "SELECT COUNT(*) FROM items WHERE id = %lld"
	    " AND run_after <= NOW(6)", item), 0);
	b = worker("stop-b", args_b);
	CU_ASSERT_EQUAL_FATAL(wait_q(1, 20, "SELECT COUNT(*) FROM items WHERE id = %lld"
	    " AND state = 'claimed' AND attempt = 2", item), 0);
	/* the first command has ended and its worker has its outcome in hand */
	for (int i = 0; i < 200 && !exited(first); i++)
		usleep(50000);
	CU_ASSERT_FATAL(exited(first));

	/* continued, the first worker reports late and is refused */
	CU_ASSERT_EQUAL(kill(a, SIGCONT), 0);
	snprintf(want, sizeof want, "item %lld: report refused: /v1/items/%lld/complete: "
	    "HTTP 409 LEASE_LOST", item, item);
	CU_ASSERT_EQUAL(wait_log("stop-a", want, 20), 0);
	/* nothing changed: still the second worker's claim, no result, job running */
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'claimed'"
	    " AND attempt = 2 AND result IS NULL AND artifact IS NULL", item), 1);
	CU_ASSERT(job_str_is(job, "state", "running"));
	CU_ASSERT(job_str_is(job, "artifact", NULL));
	CU_ASSERT_EQUAL(job_count(job, "claimed"), 1);
	CU_ASSERT_EQUAL(job_count(job, "succeeded"), 0);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld", job), 0);

	/* the second worker finishes: its result and artifact are the item's */
	close(open(go, O_WRONLY | O_CREAT, 0644));
	CU_ASSERT_EQUAL(child_wait(b, 30), 0);
	CU_ASSERT_EQUAL(wait_job(job, "succeeded", 10), 0);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'succeeded'"
	    " AND attempt = 2 AND JSON_VALUE(result, '$.by') = 'second'"
	    " AND artifact = CONCAT('jobs/', job_id, '/second.txt')", item), 1);
	{
		char art[64];
		snprintf(art, sizeof art, "jobs/%lld/second.txt", job);
		CU_ASSERT(job_str_is(job, "artifact", art));
	}
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld", item), 1);
	CU_ASSERT_EQUAL(job_count(job, "succeeded"), 1);
	CU_ASSERT_EQUAL(job_count(job, "total"), 1);
	/* the first worker took the refusal in its stride */
	CU_ASSERT_EQUAL(kill(a, 0), 0);
	CU_ASSERT_EQUAL(worker_stop(a), 0);
	CU_ASSERT_EQUAL(reap(), 0);
	assert_notified_once(job, "job.succeeded");
}

enum reaper_fault { KILL_PROCESS, KILL_CONNECTION };

/*
 * Four jobs of one item each, claimed by a worker that vanished, one
 * attempt allowed: each lost claim fails its job. The third job's row is
 * locked here so the reaper (batch 1) stops mid-sweep after two jobs;
 * then it, or its database connection, is killed. The next run finishes.
 */
static void
reaper_fault(const char *kind, enum reaper_fault how)
{
	struct bj_db *holder;
	long long jobs[4], conn = 0;
	const char *dbname = bj_test_conf("faults")->db_name;
	char body[200], sql[600];
	pid_t r;
	int st;

	for (int i = 0; i < 4; i++) {
		struct json_object *o = NULL, *items = NULL;

		jobs[i] = submit(kind, "[{\"key\":\"only\"}]", "\"max_attempts\":1");
		CU_ASSERT_FATAL(jobs[i] > 0);
		/* claimed one after another: the reaper meets them in this order */
		snprintf(body, sizeof body, "{\"worker\":\"vanishing\",\"kinds\":[\"%s\"],"
		    "\"limit\":1,\"lease_seconds\":1}", kind);
		CU_ASSERT_EQUAL(api("POST", "/v1/claims", body, &o), 200);
		CU_ASSERT(o != NULL && json_object_object_get_ex(o, "items", &items) &&
		    json_object_array_length(items) == 1);
		json_object_put(o);
		usleep(20000);
	}
	CU_ASSERT_EQUAL(wait_q(0, 10, "SELECT COUNT(*) FROM items WHERE job_id BETWEEN %lld AND %lld"
	    " AND lease_expires_at >= NOW(6)", jobs[0], jobs[3]), 0);

	holder = bj_db_new(bj_test_conf("faults"));
	CU_ASSERT_FATAL(bj_db_connect(holder) == 0);
	bj_test_sql(holder, "BEGIN");
	snprintf(sql, sizeof sql, "SELECT id FROM jobs WHERE id = %lld FOR UPDATE", jobs[2]);
	CU_ASSERT_EQUAL(bj_test_scalar(holder, sql), jobs[2]);

	r = reaper_start();
	/* the reaper's work connection, waiting for the third job's row */
	/* (the only statement of this database running for a second or more) */
	snprintf(sql, sizeof sql, "SELECT COALESCE(MAX(id), 0) FROM information_schema.processlist"
	    " WHERE db = '%s' AND id <> CONNECTION_ID() AND command IN ('Query', 'Execute')"
	    " AND time >= 1 AND info LIKE '%%FOR UPDATE%%'", dbname);
	for (int i = 0; i < 200 && (conn = bj_test_scalar(db, sql)) == 0; i++)
		usleep(50000);
	if (conn == 0) {
		kill(r, SIGKILL);
		waitpid(r, NULL, 0);
		bj_db_free(holder);
		CU_FAIL_FATAL("the reaper never waited for the locked job row");
	}
	/* mid-sweep: two jobs failed (and notifications queued), two still running */
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM jobs WHERE id IN (%lld, %lld) AND state = 'failed'",
	    jobs[0], jobs[1]), 2);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM jobs WHERE id IN (%lld, %lld) AND state = 'running'",
	    jobs[2], jobs[3]), 2);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id BETWEEN %lld AND %lld",
	    jobs[0], jobs[3]), 2);

	if (how == KILL_PROCESS) {
		kill(r, SIGKILL);
		CU_ASSERT(waitpid(r, &st, 0) == r && WIFSIGNALED(st));
	} else {
		snprintf(sql, sizeof sql, "KILL CONNECTION %lld", conn);
		bj_test_sql(db, sql);
		/* the reaper notices and says so; the sweep's step is abandoned */
		CU_ASSERT_EQUAL(wait_log("reaper", "error: lease sweep: Lost connection", 30), 0);
		/* it goes on with its other steps (the job row free again), then ends with 75 */
		bj_test_sql(holder, "ROLLBACK");
		CU_ASSERT_EQUAL(child_wait(r, 60), EX_TEMPFAIL);
	}
	bj_test_sql(holder, "ROLLBACK");	/* (a second ROLLBACK is harmless) */
	bj_db_free(holder);

	/* the next run finishes the work */
	CU_ASSERT_EQUAL(reap(), 0);
	for (int i = 0; i < 4; i++) {
		long long item = item_of(jobs[i]);

		CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'failed'"
		    " AND attempt = 1", item), 1);
		CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld", item), 1);
		CU_ASSERT(job_str_is(jobs[i], "state", "failed"));
		CU_ASSERT_EQUAL(job_count(jobs[i], "failed"), 1);
		CU_ASSERT_EQUAL(job_count(jobs[i], "claimed"), 0);
		assert_notified_once(jobs[i], "job.failed");
	}
}

/* kill -9 the reaper while it waits for a row mid-sweep. */
static void
test_reaper_killed_mid_sweep(void)
{
	reaper_fault("reap9", KILL_PROCESS);
}

/* KILL CONNECTION of the reaper's work connection mid-sweep. */
static void
test_reaper_connection_killed_mid_sweep(void)
{
	reaper_fault("reapconn", KILL_CONNECTION);
}

/*
 * A command that exits 0 naming an artifact it never wrote fails its item
 * (retryable, the artifact and the errno text as the error); one naming a
 * symlink out of the root fails for good.
 */
static void
test_artifact_not_written(void)
{
	const char *cmd = "d=\"$BULKJOBS_ARTIFACTS/jobs/$BULKJOBS_JOB_ID\"; mkdir -p \"$d\"; "
	    "case $BULKJOBS_ITEM_KEY in "
	    "missing) echo \"{\\\"artifact\\\":\\\"jobs/$BULKJOBS_JOB_ID/never-written.bin\\\"}\";; "
	    "escape) ln -sf /etc/passwd \"$d/escape\"; "
	    "echo \"{\\\"artifact\\\":\\\"jobs/$BULKJOBS_JOB_ID/escape\\\"}\";; esac";
	const char *args[] = { "--kind", "noart", "-j", "2", "--exec", cmd, NULL };
	long long job, missing, escape;
	pid_t w;

	job = submit("noart", "[{\"key\":\"missing\"},{\"key\":\"escape\"}]",
	    "\"max_attempts\":2,\"on_item_failure\":\"continue\"");
	CU_ASSERT_FATAL(job > 0);
	missing = q("SELECT id FROM items WHERE job_id = %lld AND `key` = 'missing'", job);
	escape = q("SELECT id FROM items WHERE job_id = %lld AND `key` = 'escape'", job);
	w = worker("noart", args);
	CU_ASSERT_EQUAL(wait_job(job, "failed", 30), 0);
	CU_ASSERT_EQUAL(worker_stop(w), 0);

	/* retried once, then out of attempts; each failure names the file and why */
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'failed'"
	    " AND attempt = 2 AND artifact IS NULL", missing), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld"
	    " AND error = CONCAT('artifact jobs/', job_id, '/never-written.bin:"
	    " No such file or directory')", missing), 2);
	/* a way out of the root is not worth a second attempt */
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'failed'"
	    " AND attempt = 1 AND artifact IS NULL", escape), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld"
	    " AND error = CONCAT('artifact jobs/', job_id, '/escape:"
	    " leads out of the artifacts root')", escape), 1);
	CU_ASSERT(job_str_is(job, "artifact", NULL));
	CU_ASSERT_EQUAL(job_count(job, "failed"), 2);
	CU_ASSERT_EQUAL(reap(), 0);
	assert_notified_once(job, "job.failed");
}

/* 2 MiB of random bytes at path; the bytes (caller frees) or NULL. */
static char *
make_seed(const char *path, size_t len)
{
	char *buf = bj_xcalloc(1, len);
	FILE *in = fopen("/dev/urandom", "rb"), *out = fopen(path, "wb");
	int ok = in != NULL && out != NULL && fread(buf, 1, len, in) == len &&
	    fwrite(buf, 1, len, out) == len;

	if (in != NULL)
		fclose(in);
	if (out != NULL && fclose(out) != 0)
		ok = 0;
	if (!ok) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * A full artifacts disk: a 1 MB tmpfs as the root, a command writing
 * 2 MiB. The attempt fails with a clear, retryable error and nothing is
 * served; with room again, the retry succeeds and the download is whole.
 */
static void
test_full_artifacts_disk(void)
{
	const size_t size = 2 * 1024 * 1024;
	char seedpath[800], cmd[2000], big[900];
	const char *args[] = { "--kind", "disk", "--drain", "--exec", cmd, NULL };
	struct bj_http_reply r;
	long long job, item;
	char *seed;

	snprintf(seedpath, sizeof seedpath, "%s/seed.bin", e2e.root);
	seed = make_seed(seedpath, size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	if (mount("tmpfs", arts, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") == -1) {
		fprintf(stderr, "test_faults: cannot mount a 1 MB tmpfs on %s: %s"
		    " (the full-disk test needs root and mount(2))\n", arts, strerror(errno));
		free(seed);
		CU_FAIL_FATAL("cannot mount a tmpfs as the artifacts root");
	}
	mounted = 1;
	/* as a careful command does: write aside, exit 75 when the write fails, rename */
	snprintf(cmd, sizeof cmd,
	    "d=\"$BULKJOBS_ARTIFACTS/jobs/$BULKJOBS_JOB_ID\"; mkdir -p \"$d\" || exit 75; "
	    "if ! cat '%s' > \"$d/big.bin.tmp\"; then rm -f \"$d/big.bin.tmp\"; exit 75; fi; "
	    "mv \"$d/big.bin.tmp\" \"$d/big.bin\" || exit 75; "
	    "echo \"{\\\"artifact\\\":\\\"jobs/$BULKJOBS_JOB_ID/big.bin\\\"}\"", seedpath);
	job = submit("disk", "[{\"key\":\"big\"}]", "\"max_attempts\":3");
	CU_ASSERT_FATAL(job > 0);
	item = item_of(job);
	snprintf(big, sizeof big, "%s/jobs/%lld/big.bin", arts, job);

	CU_ASSERT_EQUAL(child_wait(worker("disk-1", args), 30), 0);
	/* a clear failure, to be retried; the job goes on */
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'pending'"
	    " AND attempt = 1 AND artifact IS NULL", item), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld AND attempt = 1"
	    " AND error LIKE '%%No space left on device%%'", item), 1);
	CU_ASSERT(job_str_is(job, "state", "running"));
	CU_ASSERT(job_str_is(job, "artifact", NULL));
	CU_ASSERT_EQUAL(job_count(job, "pending"), 1);
	/* nothing half-written is offered */
	CU_ASSERT_EQUAL(access(big, F_OK), -1);
	CU_ASSERT_EQUAL_FATAL(download(job, &r), 0);
	CU_ASSERT_EQUAL(r.status, 404);
	bj_http_reply_free(&r);

	/* room again: the retry succeeds */
	CU_ASSERT_EQUAL_FATAL(mount("tmpfs", arts, "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV,
	    "size=8m,mode=0755"), 0);
	CU_ASSERT_EQUAL(wait_q(1, 10, "SELECT COUNT(*) FROM items WHERE id = %lld"
	    " AND run_after <= NOW(6)", item), 0);
	CU_ASSERT_EQUAL(child_wait(worker("disk-2", args), 30), 0);
	CU_ASSERT_EQUAL(wait_job(job, "succeeded", 10), 0);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'succeeded'"
	    " AND attempt = 2", item), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld", item), 1);
	CU_ASSERT_EQUAL(job_count(job, "succeeded"), 1);
	/* and the download is the whole file, byte for byte */
	CU_ASSERT_EQUAL_FATAL(download(job, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.len, size);
	CU_ASSERT(r.len == size && memcmp(r.body, seed, size) == 0);
	bj_http_reply_free(&r);
	free(seed);
	CU_ASSERT_EQUAL(reap(), 0);
	assert_notified_once(job, "job.succeeded");
	unmount_artifacts();
	CU_ASSERT_EQUAL(mounted, 0);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("e2e faults", init, clean);

	signal(SIGPIPE, SIG_IGN);
	CU_add_test(s, "kill -9 a worker mid-item: back after its lease, completed once",
	    test_worker_killed);
	CU_add_test(s, "SIGSTOP a worker past its lease: its late completion is refused",
	    test_worker_stopped_completes_late);
	CU_add_test(s, "kill -9 the reaper mid-sweep: the next run finishes, one notification",
	    test_reaper_killed_mid_sweep);
	CU_add_test(s, "KILL CONNECTION of the reaper mid-sweep: the next run finishes, one notification",
	    test_reaper_connection_killed_mid_sweep);
	CU_add_test(s, "an artifact the command did not write fails its item",
	    test_artifact_not_written);
	CU_add_test(s, "a full artifacts disk: retried, nothing half-written served",
	    test_full_artifacts_disk);
	return bj_test_run();
}
