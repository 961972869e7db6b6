/*
 * test_reaper_cron.c: bulkjobs-reaper and bulkjobsctl doctor as cron runs
 * them: `env -i PATH=/usr/bin:/bin`, no HOME, a config file and the real
 * database. A lost claim comes back and then fails with one notification;
 * a deadline expires once; a held lock means no change and no output; an
 * expired artifact goes and nothing outside the root does; planted
 * impossible rows are repaired, never fatal.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "harness.h"
#include "sql.h"

static struct bj_db *db;
static char dir[600], conf_path[700], arts[700], calls[700], prom[700], outside[700];

static struct bj_e2e e2e;
static char token[128];

/*
 * Start nginx + bulkjobs-fcgi with a config whose [reaper] names a notifier
 * that records how it was called and whether the reaper's lock was free.
 */
static int
init(void)
{
	struct bj_conf *c;
	char notifier[700], extra[2400], *tok;
	FILE *f;

	db = bj_test_db("reaper_cron");
	c = bj_test_conf("reaper_cron");
	snprintf(dir, sizeof dir, "%s", bj_test_path("reaper_cron"));
	mkdir(dir, 0755);
	snprintf(outside, sizeof outside, "%s/outside.txt", dir);
	snprintf(calls, sizeof calls, "%s/notifier.calls", dir);
	snprintf(prom, sizeof prom, "%s/reaper.prom", dir);
	unlink(calls);
	unlink(prom);
	snprintf(notifier, sizeof notifier, "%s/notify.sh", dir);
	if ((f = fopen(notifier, "w")) == NULL)
		return -1;
	fprintf(f, "#!/bin/sh\nfree=$(mariadb --no-defaults -S '%s' -uroot -N -e"
	    " \"SELECT IS_FREE_LOCK('bulkjobs.reaper')\")\necho \"$* lock-free=$free\" >> '%s'\n",
	    c->db_socket, calls);
	fclose(f);
	chmod(notifier, 0755);
	snprintf(extra, sizeof extra,
	    "[reaper]\nbatch = 3\nnotifier = %s\nnotifier_timeout = 20\nmetrics_textfile = %s\n",
	    notifier, prom);
	if (bj_e2e_start(&e2e, "reaper_cron", extra) == -1)
		return -1;
	snprintf(conf_path, sizeof conf_path, "%s", e2e.conf_path);
	snprintf(arts, sizeof arts, "%s/artifacts", e2e.root);
	if ((tok = bj_e2e_token(&e2e, "reaper-e2e", "submit,work,admin", NULL)) == NULL)
		return -1;
	snprintf(token, sizeof token, "%s", tok);
	free(tok);
	return 0;
}

static int
clean(void)
{
	bj_e2e_stop(&e2e);
	return 0;
}

/* Run a program of the build under cron's environment; its output (owned) and exit status. */
static char *
run_cron(const char *prog, const char *args, int *status)
{
	const char *bld = getenv("BJ_BUILDDIR");
	char *cmd = bj_xasprintf("env -i PATH=/usr/bin:/bin %s/%s -c '%s' %s 2>&1",
	    bld ? bld : ".", prog, conf_path, args);
	struct bj_buf b = { 0 };
	char chunk[1024];
	size_t n;
	FILE *p = popen(cmd, "r");
	int st;

	free(cmd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
		bj_buf_add(&b, chunk, n);
	st = pclose(p);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return bj_buf_steal(&b);
}

/* Run the reaper expecting success and silence. */
static void
reap_quietly(void)
{
	int st;
	char *out = run_cron("reaper/bulkjobs-reaper", "", &st);

	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	if (*out)
		fprintf(stderr, "reaper said: %s\n", out);
	free(out);
}

/* Statements and one-value queries on the suite's database, printf-style. */
#define sqlf(...)	bj_test_sqlf(db, __VA_ARGS__)
#define scalarf(...)	bj_test_scalarf(db, __VA_ARGS__)

static int seq;

/* A job with one email and one webhook target, counted as the API would. */
static long long
plant_job(int max_attempts, int deadline)
{
	long long id;

	seq++;
	sqlf("INSERT INTO jobs (token, kind, owner, state, created_at, updated_at, started_at,"
	    " deadline_at, retention_seconds, max_attempts, lease_seconds)"
	    " VALUES (LPAD('%d', 32, 'c'), 'export', 'bob', 'running', NOW(6), NOW(6), NOW(6),"
	    " NOW(6) + INTERVAL %d SECOND, 3600, %d, 60)", seq, deadline, max_attempts);
	id = (long long)bj_db_insert_id(db);
	sqlf("INSERT INTO job_targets (job_id, channel, target_hash, target) VALUES"
	    " (%lld, 'email', SHA2('b@example.org', 256), 'b@example.org'),"
	    " (%lld, 'webhook', SHA2('http://127.0.0.1:9/w', 256), 'http://127.0.0.1:9/w')", id, id);
	return id;
}

/* A claimed item whose worker vanished (lease ran out), as a claim leaves it. */
static long long
plant_lost_claim(long long job, int attempt)
{
	long long id;

	sqlf("INSERT INTO items (job_id, stage, `key`, state, attempt, lease_token,"
	    " lease_expires_at, claimed_by, claimed_at, run_after) VALUES (%lld, 0, 'k%d',"
	    " 'claimed', %d, LPAD('l', 32, 'l'), NOW(6) - INTERVAL 1 SECOND, 'w9',"
	    " NOW(6) - INTERVAL 61 SECOND, NOW(6))", job, ++seq, attempt);
	id = (long long)bj_db_insert_id(db);
	sqlf("UPDATE jobs SET n_total = n_total + 1, n_claimed = n_claimed + 1,"
	    " stage_remaining = stage_remaining + 1 WHERE id = %lld", job);
	return id;
}

static void
test_idle_run_is_silent_and_runs_notifier(void)
{
	char line[1024] = "";
	FILE *f;

	reap_quietly();
	f = fopen(calls, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	{
		/* -c passed on, and the lock already released while it runs */
		char *want = bj_xasprintf("-c %s lock-free=1", conf_path);
		CU_ASSERT_STRING_EQUAL(line, want);
		free(want);
	}
	CU_ASSERT_EQUAL(access(prom, R_OK), 0);
	{
		/* the file the cron run wrote is what Prometheus accepts */
		char *text = bj_test_slurp(prom, NULL);

		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		CU_ASSERT_EQUAL(bj_test_promtool(text), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(text, "# TYPE bulkjobs_reaper_runs_total counter\n"));
		free(text);
	}
}

/* A vanished worker's claim is retried, then fails after its attempts, notified once. */
static void
test_vanished_worker(void)
{
	long long job = plant_job(2, 3600), item = plant_lost_claim(job, 1);

	reap_quietly();
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'pending'"
	    " AND lease_token IS NULL", item), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT n_pending FROM jobs WHERE id = %lld", job), 1);
	/* a worker claims it again (attempt 2) and vanishes too */
	sqlf("UPDATE items SET state = 'claimed', attempt = 2, lease_token = LPAD('m', 32, 'm'),"
	    " lease_expires_at = NOW(6) - INTERVAL 1 SECOND, claimed_by = 'w10' WHERE id = %lld", item);
	sqlf("UPDATE jobs SET n_pending = 0, n_claimed = 1 WHERE id = %lld", job);
	for (int i = 0; i < 3; i++)
		reap_quietly();
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'failed'",
	    item), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id = %lld AND state = 'failed'",
	    job), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld", item), 2);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM notifications WHERE job_id = %lld", job), 2);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM notifications WHERE job_id = %lld"
	    " AND event = 'job.failed' AND channel = 'webhook'", job), 1);
}

/* An authenticated API call; the parsed JSON reply (caller puts it) and the status. */
static struct json_object *
api(const char *method, const char *path, const char *body, long *status)
{
	struct json_object *o;

	*status = bj_e2e_api(&e2e, token, method, path, body, &o);
	return o;
}

/* An integer or string field at "a.b" style path one level deep into o. */
static long long
jint(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, k1, &v))
		return -1;
	if (k2 != NULL && !json_object_object_get_ex(v, k2, &v))
		return -1;
	return json_object_get_int64(v);
}

/* Claim one export item as worker; its id, lease token (into tok) and attempt. */
static long long
claim_one(const char *worker, char *tok, size_t toklen, long long *attempt)
{
	char body[256];
	long st;
	struct json_object *o, *items, *it, *v;
	long long id = -1;

	snprintf(body, sizeof body, "{\"worker\":\"%s\",\"kinds\":[\"export\"],\"limit\":1,"
	    "\"lease_seconds\":60}", worker);
	o = api("POST", "/v1/claims", body, &st);
	CU_ASSERT_EQUAL(st, 200);
	if (o != NULL && json_object_object_get_ex(o, "items", &items) &&
	    json_object_array_length(items) == 1) {
		it = json_object_array_get_idx(items, 0);
		id = jint(it, "id", NULL);
		*attempt = jint(it, "attempt", NULL);
		if (json_object_object_get_ex(it, "lease_token", &v))
			snprintf(tok, toklen, "%s", json_object_get_string(v));
	}
	json_object_put(o);
	return id;
}

/*
 * Through the real API: a worker claims an item and vanishes. Cron's
 * reaper brings the item back, it is claimed and retried, the second
 * worker vanishes too, and the job fails with one notification per target.
 */
static void
test_vanished_worker_through_the_api(void)
{
	const char *create = "{\"kind\":\"export\",\"owner\":\"carol\",\"max_attempts\":2,"
	    "\"items\":[{\"key\":\"only\"}],\"notify\":{\"email\":[\"carol@example.org\"],"
	    "\"webhooks\":[\"http://127.0.0.1:9/hook\"]}}";
	char lease1[80] = "", lease2[80] = "", path[128], body[200];
	long long job, item, item2, attempt = 0;
	struct json_object *o;
	long st;

	o = api("POST", "/v1/jobs", create, &st);
	CU_ASSERT_EQUAL_FATAL(st, 201);
	job = jint(o, "id", NULL);
	json_object_put(o);
	item = claim_one("w-vanishing", lease1, sizeof lease1, &attempt);
	CU_ASSERT_FATAL(item > 0);
	CU_ASSERT_EQUAL(attempt, 1);

	/* the worker vanished and its lease ran out */
	sqlf("UPDATE items SET lease_expires_at = NOW(6) - INTERVAL 1 SECOND WHERE id = %lld", item);
	reap_quietly();
	snprintf(path, sizeof path, "/v1/jobs/%lld", job);
	o = api("GET", path, NULL, &st);
	CU_ASSERT_EQUAL(st, 200);
	CU_ASSERT_EQUAL(jint(o, "counts", "pending"), 1);
	CU_ASSERT_EQUAL(jint(o, "counts", "claimed"), 0);
	json_object_put(o);
	/* the vanished worker's lease is gone for good */
	snprintf(path, sizeof path, "/v1/items/%lld/heartbeat", item);
	snprintf(body, sizeof body, "{\"lease_token\":\"%s\"}", lease1);
	o = api("POST", path, body, &st);
	CU_ASSERT_EQUAL(st, 409);
	json_object_put(o);

	/* after its back-off the item is claimed again: the retry */
	sqlf("UPDATE items SET run_after = NOW(6) WHERE id = %lld", item);
	item2 = claim_one("w-second", lease2, sizeof lease2, &attempt);
	CU_ASSERT_EQUAL(item2, item);
	CU_ASSERT_EQUAL(attempt, 2);
	sqlf("UPDATE items SET lease_expires_at = NOW(6) - INTERVAL 1 SECOND WHERE id = %lld", item);
	for (int i = 0; i < 3; i++)
		reap_quietly();

	snprintf(path, sizeof path, "/v1/jobs/%lld", job);
	o = api("GET", path, NULL, &st);
	CU_ASSERT_EQUAL(st, 200);
	{
		struct json_object *v = NULL;
		CU_ASSERT(json_object_object_get_ex(o, "state", &v) &&
		    strcmp(json_object_get_string(v), "failed") == 0);
	}
	CU_ASSERT_EQUAL(jint(o, "counts", "failed"), 1);
	json_object_put(o);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM notifications WHERE job_id = %lld", job), 2);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM notifications WHERE job_id = %lld"
	    " AND event = 'job.failed'", job), 2);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld", item), 2);
}

/* A job past its deadline: exactly one job.expired per target however often cron runs. */
static void
test_deadline(void)
{
	long long job = plant_job(3, -1);

	plant_lost_claim(job, 1);
	for (int i = 0; i < 3; i++)
		reap_quietly();
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id = %lld AND state = 'expired'",
	    job), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM notifications WHERE job_id = %lld"
	    " AND event = 'job.expired'", job), 2);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM notifications WHERE job_id = %lld", job), 2);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE job_id = %lld"
	    " AND state <> 'cancelled'", job), 0);
}

/* While another session holds the lock: no change, no output, exit 0. */
static void
test_lock_held_elsewhere(void)
{
	struct bj_db *holder = bj_db_new(bj_test_conf("reaper_cron"));
	struct bj_rows *r;
	long long job = plant_job(3, 3600), item = plant_lost_claim(job, 1);

	CU_ASSERT_FATAL(bj_db_connect(holder) == 0);
	r = bj_db_queryp(holder, BJ_SQL_GET_LOCK, BJ_PARAMS(BJ_P_STR("bulkjobs.reaper"),
	    BJ_P_INT(0)));
	CU_ASSERT_EQUAL(bj_rows_int(r, 0, 0), 1);
	bj_rows_free(r);
	unlink(calls);
	reap_quietly();
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'claimed'",
	    item), 1);
	CU_ASSERT_NOT_EQUAL(access(calls, F_OK), 0);	/* not even the notifier ran */
	bj_db_free(holder);				/* the lock goes with the session */
	reap_quietly();
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'pending'",
	    item), 1);
}

/* An expired artifact disappears; nothing outside the root is touched. */
static void
test_artifact_expiry(void)
{
	char path[800];
	FILE *f;
	long long job = plant_job(3, 3600), esc = plant_job(3, 3600);

	snprintf(path, sizeof path, "%s/report.csv", arts);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("a,b\n", f);
	fclose(f);
	f = fopen(outside, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("keep\n", f);
	fclose(f);
	sqlf("UPDATE jobs SET state = 'succeeded', finished_at = NOW(6), artifact = 'report.csv',"
	    " artifact_expires_at = NOW(6) - INTERVAL 1 SECOND WHERE id = %lld", job);
	sqlf("UPDATE jobs SET state = 'succeeded', finished_at = NOW(6), artifact = '../outside.txt',"
	    " artifact_expires_at = NOW(6) - INTERVAL 1 SECOND WHERE id = %lld", esc);
	{
		int st;
		char *out = run_cron("reaper/bulkjobs-reaper", "", &st);
		CU_ASSERT_EQUAL(st, 0);
		/* the refused path is worth a warning in cron's mail */
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "../outside.txt"));
		free(out);
	}
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	CU_ASSERT_EQUAL(access(outside, F_OK), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id IN (%lld, %lld)"
	    " AND artifact_deleted_at IS NOT NULL", job, esc), 2);
	reap_quietly();
}

/* Impossible rows: doctor reports them (exit 1), the reaper repairs them, doctor is clean. */
static void
test_impossible_rows_repaired(void)
{
	long long job = plant_job(3, 3600), done = plant_job(3, 3600);
	int st;
	char *out;

	plant_lost_claim(done, 1);
	sqlf("UPDATE items SET lease_expires_at = NOW(6) + INTERVAL 1 HOUR WHERE job_id = %lld", done);
	sqlf("UPDATE jobs SET state = 'succeeded', finished_at = NOW(6) WHERE id = %lld", done);
	sqlf("INSERT INTO items (job_id, stage, `key`, state, run_after) VALUES (%lld, 0, 'p1',"
	    " 'pending', NOW(6))", job);
	sqlf("UPDATE jobs SET n_total = 5, n_pending = 0, n_failed = 3 WHERE id = %lld", job);

	out = run_cron("ctl/bulkjobsctl", "doctor", &st);
	CU_ASSERT_EQUAL(st, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "counts drifted"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "terminal job with unfinished items"));
	free(out);
	CU_ASSERT_EQUAL(scalarf("SELECT n_total FROM jobs WHERE id = %lld", job), 5);	/* unchanged */

	reap_quietly();
	out = run_cron("ctl/bulkjobsctl", "doctor", &st);
	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "no inconsistencies found"));
	free(out);
	CU_ASSERT_EQUAL(scalarf("SELECT n_total FROM jobs WHERE id = %lld", job), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE job_id = %lld"
	    " AND state = 'cancelled'", done), 1);
}

/* -v prints one summary line; --dry-run says what it would do and changes nothing. */
static void
test_verbose_and_dry_run(void)
{
	long long job = plant_job(3, 3600), item = plant_lost_claim(job, 1);
	int st;
	char *out;

	out = run_cron("reaper/bulkjobs-reaper", "--dry-run", &st);
	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "would requeue item"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "dry run, would change: orphans requeued 1,"));
	free(out);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'claimed'",
	    item), 1);

	out = run_cron("reaper/bulkjobs-reaper", "-v", &st);
	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "orphans requeued 1, failed 0; jobs finished 0"));
	CU_ASSERT_PTR_NULL(strchr(out, '\n') ? strchr(strchr(out, '\n') + 1, '\n') : NULL);
	free(out);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'pending'",
	    item), 1);
}

/* A config like the suite's whose notifier is slow; returns its path (static). */
static const char *
slow_conf(int timeout, const char *marks)
{
	static char path[800];
	char script[800];
	struct bj_conf *c = bj_test_conf("reaper_cron");
	FILE *f;

	snprintf(script, sizeof script, "%s/slow-notify.sh", dir);
	f = fopen(script, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "#!/bin/sh\ntrap 'echo term >> \"%s\"; exit 0' TERM\n"
	    "echo started >> \"%s\"\nsleep 30 &\nwait $!\n", marks, marks);
	fclose(f);
	chmod(script, 0755);
	snprintf(path, sizeof path, "%s/slow.conf", dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "[database]\nsocket = %s\nuser = root\nname = %s\n[artifacts]\nroot = %s\n"
	    "[reaper]\nnotifier = %s\nnotifier_timeout = %d\n",
	    c->db_socket, c->db_name, arts, script, timeout);
	fclose(f);
	return path;
}

/* 1 when the file at path holds text. */
static int
holds(const char *path, const char *text)
{
	char *s = bj_test_slurp(path, NULL);
	int hit = s != NULL && strstr(s, text) != NULL;

	free(s);
	return hit;
}

/* A notifier that outlives notifier_timeout is stopped, and the run reports it (75). */
static void
test_slow_notifier_is_stopped(void)
{
	const char *bld = getenv("BJ_BUILDDIR");
	char marks[800], *cmd, out[2048] = "";
	FILE *p;
	size_t n;
	int st;

	snprintf(marks, sizeof marks, "%s/slow.marks", dir);
	unlink(marks);
	cmd = bj_xasprintf("env -i PATH=/usr/bin:/bin %s/reaper/bulkjobs-reaper -c '%s' 2>&1",
	    bld ? bld : ".", slow_conf(1, marks));
	p = popen(cmd, "r");
	free(cmd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	st = pclose(p);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == EX_TEMPFAIL);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "still running after 1 s"));
	CU_ASSERT(holds(marks, "started\nterm\n"));
}

/* SIGTERM while the notifier runs: it is stopped too, and the reaper exits cleanly. */
static void
test_sigterm_stops_cleanly(void)
{
	const char *bld = getenv("BJ_BUILDDIR");
	char marks[800], prog[700];
	const char *conf = NULL;
	pid_t pid;
	int st = -1;

	snprintf(marks, sizeof marks, "%s/term.marks", dir);
	unlink(marks);
	conf = slow_conf(20, marks);
	snprintf(prog, sizeof prog, "%s/reaper/bulkjobs-reaper", bld ? bld : ".");
	{
		char *argv[] = { "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", prog, "-c",
		    (char *)conf, NULL };
		pid = bj_test_spawn(argv, "/dev/null");
	}
	CU_ASSERT_FATAL(pid > 0);
	/* wait until the notifier runs, however long that takes here */
	for (int i = 0; i < 400 && !holds(marks, "started"); i++)
		usleep(25000);
	CU_ASSERT(holds(marks, "started"));
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT(holds(marks, "term"));
}

/* Write a config file named name in the suite's directory; its path (static). */
static const char *
write_conf(const char *name, const char *text)
{
	static char path[800];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Run prog with args under cron's environment: its exit status, the first line of its output in line. */
static int
run_args(const char *prog, const char *args, char *line, size_t len)
{
	const char *bld = getenv("BJ_BUILDDIR");
	char *cmd = bj_xasprintf("env -i PATH=/usr/bin:/bin %s/%s %s 2>&1 </dev/null",
	    bld ? bld : ".", prog, args);
	FILE *p = popen(cmd, "r");
	char rest[512];
	int st;

	free(cmd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	if (fgets(line, (int)len, p) == NULL)
		line[0] = '\0';
	while (fgets(rest, sizeof rest, p) != NULL)
		;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * The same exit status for the same trouble in every program (sysexits):
 * 78 for a broken config (the message names the file and line), 64 for an
 * unknown option, 69 when the database cannot be reached.
 */
static void
test_exit_codes(void)
{
	static const struct {
		const char	*prog, *args;	/* args after -c FILE */
		int		 uses_db;
	} progs[] = {
		{ "reaper/bulkjobs-reaper", "", 1 },
		{ "notifier/bulkjobs-notify", "", 1 },
		{ "ctl/bulkjobsctl", "doctor", 1 },
		{ "fcgi/bulkjobs-fcgi", "", 0 },
		{ "worker/bulkjobs-worker", "--kind k --exec true --token t", 0 },
	};
	char bad[800], nodb[800], args[2048], line[1024];
	char *text = bj_xasprintf("[database]\nsocket = %s/no-server.sock\n", dir);

	snprintf(bad, sizeof bad, "%s", write_conf("bad.conf", "[reaper]\nbatch = lots\n"));
	snprintf(nodb, sizeof nodb, "%s", write_conf("nodb.conf", text));
	free(text);
	for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
		snprintf(args, sizeof args, "-c '%s' %s", bad, progs[i].args);
		CU_ASSERT_EQUAL(run_args(progs[i].prog, args, line, sizeof line), 78);
		if (strstr(line, "bad.conf:2") == NULL)
			fprintf(stderr, "%s: %s", progs[i].prog, line);
		CU_ASSERT_PTR_NOT_NULL(strstr(line, "bad.conf:2"));
		snprintf(args, sizeof args, "--no-such-option %s", progs[i].args);
		CU_ASSERT_EQUAL(run_args(progs[i].prog, args, line, sizeof line), 64);
		if (!progs[i].uses_db)
			continue;
		snprintf(args, sizeof args, "-c '%s' %s", nodb, progs[i].args);
		CU_ASSERT_EQUAL(run_args(progs[i].prog, args, line, sizeof line), 69);
	}
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("reaper under cron", init, clean);

	CU_add_test(s, "idle run is silent, runs the notifier", test_idle_run_is_silent_and_runs_notifier);
	CU_add_test(s, "vanished worker: retried, then failed once", test_vanished_worker);
	CU_add_test(s, "vanished worker through the API", test_vanished_worker_through_the_api);
	CU_add_test(s, "deadline: one job.expired per target", test_deadline);
	CU_add_test(s, "lock held elsewhere", test_lock_held_elsewhere);
	CU_add_test(s, "artifact expiry stays in the root", test_artifact_expiry);
	CU_add_test(s, "impossible rows repaired; doctor", test_impossible_rows_repaired);
	CU_add_test(s, "-v and --dry-run", test_verbose_and_dry_run);
	CU_add_test(s, "slow notifier stopped", test_slow_notifier_is_stopped);
	CU_add_test(s, "SIGTERM stops cleanly", test_sigterm_stops_cleanly);
	CU_add_test(s, "exit codes: config 78, usage 64, no database 69", test_exit_codes);
	return bj_test_run();
}
