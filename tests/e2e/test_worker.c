/*
 * test_worker.c: bulkjobs-worker against nginx + bulkjobs-fcgi with real
 * commands: the export example's fan-out and merge to a downloadable
 * archive, heartbeats that outlive the lease, retry on exit 75, a
 * permanent failure with stderr as the error, SIGTERM draining, and a
 * cancel from the API stopping a running command.
 *
 * The waits below poll until a state is reached, with generous limits
 * that only stop a broken run from hanging; nothing asserts speed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "json.h"

static struct bj_e2e e2e;
static struct bj_db *db;
static char token[128];
static char scripts[600];	/* a directory for the commands' marker files */

/* An API request with the suite's token; reply is parsed into *obj when asked. */
static long
api(const char *method, const char *path, const char *body, struct json_object **obj)
{
	return bj_e2e_api(&e2e, token, method, path, body, obj);
}

/* Create a job of kind "e2e" with the given items JSON and extra members; its id or -1. */
static long long
submit(const char *items, const char *extra)
{
	char *body = bj_xasprintf("{\"kind\":\"e2e\",\"owner\":\"tester\",\"items\":%s%s%s}",
	    items, extra ? "," : "", extra ? extra : "");
	long long id = bj_e2e_submit(&e2e, token, body);

	free(body);
	return id;
}

/* The job's JSON (caller puts), or NULL. */
static struct json_object *
job(long long id)
{
	return bj_e2e_job(&e2e, token, id);
}

/* Poll until the job is in state; 0, or -1 after limit seconds. */
static int
wait_job(long long id, const char *state, int limit)
{
	return bj_e2e_wait_state(&e2e, token, id, state, limit);
}

/* The first item of the job whose key is key (caller puts), from GET /v1/jobs/ID/items. */
static struct json_object *
item(long long id, const char *key)
{
	char path[96];
	struct json_object *obj = NULL, *items, *found = NULL;

	snprintf(path, sizeof path, "/v1/jobs/%lld/items?limit=100", id);
	if (api("GET", path, NULL, &obj) != 200 || obj == NULL ||
	    !json_object_object_get_ex(obj, "items", &items)) {
		json_object_put(obj);
		return NULL;
	}
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		const char *k = bj_json_str(it, "key");
		if (k != NULL && strcmp(k, key) == 0) {
			found = json_object_get(it);
			break;
		}
	}
	json_object_put(obj);
	return found;
}

/* Count rows by a query on the suite's database, and poll such a count. */
#define count(...)	bj_test_scalarf(db, __VA_ARGS__)
#define wait_count(want, limit, ...) bj_test_wait_scalarf(db, want, limit, __VA_ARGS__)

/* Start bulkjobs-worker with the given arguments after the common ones; its pid. */
static pid_t
worker(const char *const *args)
{
	return bj_e2e_worker(&e2e, token, "worker", args);
}

/* Wait for the worker to exit; its exit status, or -1 (then it is killed). */
static int
worker_wait(pid_t pid, int limit)
{
	return bj_test_child_wait(pid, limit);
}

/* Stop a worker left running by a test. */
static void
worker_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	kill(pid, SIGTERM);
	worker_wait(pid, 30);
}

static int
init(void)
{
	struct bj_http_reply r;
	char url[400];
	char *tok;

	if (bj_e2e_start(&e2e, "worker", "[jobs]\nlease_seconds = 30\n") == -1)
		return -1;
	db = bj_test_db("worker");
	if ((tok = bj_e2e_token(&e2e, "e2e-worker", "submit,work", "tester")) == NULL)
		return -1;
	snprintf(token, sizeof token, "%s", tok);
	free(tok);
	if (bj_e2e_htpasswd(&e2e, "tester") == -1)
		return -1;
	snprintf(scripts, sizeof scripts, "%s/marks", e2e.root);
	mkdir(scripts, 0755);
	/* the lease protocol is served by bulkjobs-fcgi: without it there is nothing to test */
	snprintf(url, sizeof url, "%s/v1/claims", e2e.url);
	if (bj_http("POST", url, NULL, "{}", 2, &r) == 0 && r.status == 404) {
		bj_http_reply_free(&r);
		fprintf(stderr, "SKIP: this bulkjobs-fcgi has no /v1/claims\n");
		bj_e2e_stop(&e2e);
		exit(77);
	}
	bj_http_reply_free(&r);
	return 0;
}

static int
clean(void)
{
	bj_e2e_stop(&e2e);
	return 0;
}

static void
test_export_fan_out_and_merge(void)
{
	const char *src = getenv("BJ_SRCDIR");
	char cmd[2000], items[1024], exec_cmd[700], dbname[64], path[900];
	const char *tables[] = { "projects", "milestones", "labels", "issues", "issue_labels" };
	struct json_object *j, *it, *res;
	struct bj_http_reply r;
	long long id, rows = 0;
	const char *art, *tok;
	pid_t pid;
	struct bj_buf b = { 0 };

	/* the sample application database, on the same private server */
	snprintf(dbname, sizeof dbname, "bjt_export_app_%d", (int)getpid());
	setenv("DEMO_DB_SOCKET", bj_test_conf("worker")->db_socket, 1);
	setenv("DEMO_DB_NAME", dbname, 1);
	snprintf(cmd, sizeof cmd, "%s/examples/export/create-sample-db >/dev/null", src);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);

	bj_buf_adds(&b, "[");
	for (size_t i = 0; i < 5; i++)
		bj_buf_printf(&b, "{\"key\":\"%s\",\"stage\":0,\"payload\":{\"table\":\"%s\"}},",
		    tables[i], tables[i]);
	bj_buf_adds(&b, "{\"key\":\"merge\",\"stage\":1,\"payload\":{\"tables\":"
	    "[\"projects\",\"milestones\",\"labels\",\"issues\",\"issue_labels\"]}}]");
	snprintf(items, sizeof items, "%s", b.data);
	bj_buf_free(&b);
	id = submit(items, NULL);
	CU_ASSERT_FATAL(id > 0);

	snprintf(exec_cmd, sizeof exec_cmd, "%s/examples/export/export", src);
	{
		const char *args[] = { "--kind", "e2e", "-j", "3", "--drain", "--artifacts",
		    NULL, "--exec", exec_cmd, NULL };
		char arts[600];
		snprintf(arts, sizeof arts, "%s/artifacts", e2e.root);
		args[6] = arts;
		pid = worker(args);
		CU_ASSERT_EQUAL(worker_wait(pid, 120), 0);
	}
	CU_ASSERT_EQUAL_FATAL(wait_job(id, "succeeded", 10), 0);
	j = job(id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	art = bj_json_str(j, "artifact");
	CU_ASSERT_PTR_NOT_NULL_FATAL(art);
	snprintf(path, sizeof path, "jobs/%lld/export.tar.gz", id);
	CU_ASSERT_STRING_EQUAL(art, path);

	/* each part reported its rows as the item's result */
	for (size_t i = 0; i < 5; i++) {
		long long n = 0;
		it = item(id, tables[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(it);
		CU_ASSERT_STRING_EQUAL(bj_json_str(it, "state"), "succeeded");
		CU_ASSERT(json_object_object_get_ex(it, "result", &res));
		CU_ASSERT_EQUAL(bj_json_int(res, "rows", &n), 1);
		rows += n;
		json_object_put(it);
	}
	CU_ASSERT_EQUAL(rows, 200 + 600 + 600 + 4000 + 5960);

	/* the archive holds the five parts, line for line */
	snprintf(cmd, sizeof cmd, "test \"$(tar -xzOf '%s/artifacts/%s' | wc -l)\" = %lld",
	    e2e.root, path, rows);
	CU_ASSERT_EQUAL(system(cmd), 0);

	/* and the status page's download link serves it */
	tok = bj_json_str(j, "token");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	snprintf(path, sizeof path, "%s/jobs/%s/download", e2e.url, tok);
	{
		/* the owner, signed in at the web server ("tester:tester-pw") */
		const char *login[] = { "Authorization: Basic dGVzdGVyOnRlc3Rlci1wdw==", NULL };
		CU_ASSERT_EQUAL_FATAL(bj_http("GET", path, login, NULL, 0, &r), 0);
	}
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(r.len > 1000);
	CU_ASSERT(r.len >= 2 && (unsigned char)r.body[0] == 0x1f && (unsigned char)r.body[1] == 0x8b);
	{
		char ondisk[900];
		struct stat st;
		snprintf(ondisk, sizeof ondisk, "%s/artifacts/%s", e2e.root, art);
		CU_ASSERT(stat(ondisk, &st) == 0 && (size_t)st.st_size == r.len);
	}
	bj_http_reply_free(&r);
	json_object_put(j);
}

static void
test_heartbeats_outlive_the_lease(void)
{
	/* no --lease: the worker times its heartbeats by the job's 3 s lease */
	const char *args[] = { "--kind", "e2e", "--exec",
	    "echo 'progress 1 2' >&3; sleep 7; echo 'progress 2 2' >&3; echo '{\"slept\":7}'", NULL };
	long long id = submit("[{\"key\":\"slow\",\"stage\":0,\"payload\":{}}]",
	    "\"lease_seconds\":3");
	struct json_object *it;
	pid_t pid;

	CU_ASSERT_FATAL(id > 0);
	pid = worker(args);
	CU_ASSERT_EQUAL(wait_count(1, 30, "SELECT COUNT(*) FROM items WHERE job_id = %lld "
	    "AND state = 'claimed'", id), 0);
	sleep(5);
	/* claimed 5 s ago with a 3 s lease: still ours only because of heartbeats */
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM items WHERE job_id = %lld AND state = 'claimed' "
	    "AND lease_expires_at > NOW(6)", id), 1);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM items WHERE job_id = %lld AND progress_done = 1 "
	    "AND progress_total = 2", id), 1);
	CU_ASSERT_EQUAL(wait_job(id, "succeeded", 30), 0);
	it = item(id, "slow");
	CU_ASSERT_PTR_NOT_NULL_FATAL(it);
	{
		long long attempt = 0;
		struct json_object *res = NULL;
		CU_ASSERT_EQUAL(bj_json_int(it, "attempt", &attempt), 1);
		CU_ASSERT_EQUAL(attempt, 1);
		CU_ASSERT(json_object_object_get_ex(it, "result", &res));
		CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN),
		    "{\"slept\":7}");
	}
	json_object_put(it);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM item_failures f JOIN items i ON i.id = f.item_id "
	    "WHERE i.job_id = %lld", id), 0);
	worker_stop(pid);
}

static void
test_exit75_is_retried(void)
{
	const char *args[] = { "--kind", "e2e", "--exec",
	    "if [ \"$BULKJOBS_ATTEMPT\" = 1 ]; then echo 'database busy' >&2; exit 75; fi; "
	    "echo \"{\\\"attempt\\\":$BULKJOBS_ATTEMPT}\"", NULL };
	long long id = submit("[{\"key\":\"flaky\",\"stage\":0,\"payload\":{}}]",
	    "\"max_attempts\":3");
	struct json_object *it;
	long long attempt = 0;
	pid_t pid;

	CU_ASSERT_FATAL(id > 0);
	pid = worker(args);
	CU_ASSERT_EQUAL(wait_job(id, "succeeded", 90), 0);
	worker_stop(pid);
	it = item(id, "flaky");
	CU_ASSERT_PTR_NOT_NULL_FATAL(it);
	CU_ASSERT_EQUAL(bj_json_int(it, "attempt", &attempt), 1);
	CU_ASSERT_EQUAL(attempt, 2);
	json_object_put(it);
	/* the failed first attempt is on record with its stderr */
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM item_failures f JOIN items i ON i.id = f.item_id "
	    "WHERE i.job_id = %lld AND f.attempt = 1 AND f.error = 'database busy'", id), 1);
}

static void
test_exit1_fails_with_stderr(void)
{
	const char *args[] = { "--kind", "e2e", "--drain", "--exec",
	    "echo 'reading issues' >&2; echo 'ERROR 1146: table issuez does not exist' >&2; exit 1",
	    NULL };
	long long id = submit("[{\"key\":\"broken\",\"stage\":0,\"payload\":{}}]",
	    "\"max_attempts\":3");
	struct json_object *it;
	long long attempt = 0;

	CU_ASSERT_FATAL(id > 0);
	CU_ASSERT_EQUAL(worker_wait(worker(args), 60), 0);
	CU_ASSERT_EQUAL(wait_job(id, "failed", 10), 0);
	it = item(id, "broken");
	CU_ASSERT_PTR_NOT_NULL_FATAL(it);
	CU_ASSERT_STRING_EQUAL(bj_json_str(it, "state"), "failed");
	CU_ASSERT_PTR_NOT_NULL(bj_json_str(it, "error"));
	if (bj_json_str(it, "error") != NULL)
		CU_ASSERT_STRING_EQUAL(bj_json_str(it, "error"),
		    "reading issues\nERROR 1146: table issuez does not exist");
	/* permanent: no second attempt although three were allowed */
	CU_ASSERT_EQUAL(bj_json_int(it, "attempt", &attempt), 1);
	CU_ASSERT_EQUAL(attempt, 1);
	json_object_put(it);
}

static void
test_refused_completion_fails_the_item(void)
{
	const char *args[] = { "--kind", "e2e", "--drain", "--exec",
	    "echo '{\"artifact\":\"../../etc/passwd\"}'", NULL };
	long long id = submit("[{\"key\":\"escape\",\"stage\":0,\"payload\":{}}]", NULL);
	struct json_object *it;
	const char *err;

	CU_ASSERT_FATAL(id > 0);
	CU_ASSERT_EQUAL(worker_wait(worker(args), 60), 0);
	/* not left claimed until its lease runs out: failed at once, saying why */
	CU_ASSERT_EQUAL(wait_job(id, "failed", 10), 0);
	it = item(id, "escape");
	CU_ASSERT_PTR_NOT_NULL_FATAL(it);
	CU_ASSERT_STRING_EQUAL(bj_json_str(it, "state"), "failed");
	err = bj_json_str(it, "error");
	CU_ASSERT_PTR_NOT_NULL(err);
	if (err != NULL) {
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "refused the completion"));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "BAD_ARTIFACT_PATH"));
	}
	json_object_put(it);
}

static void
test_sigterm_drains(void)
{
	char cmd[900];
	const char *args[] = { "--kind", "e2e", "-j", "1", "--exec", cmd, NULL };
	long long id;
	pid_t pid;

	snprintf(cmd, sizeof cmd, "touch '%s/started-$BULKJOBS_ITEM_KEY'; sleep 3; "
	    "echo '{\"finished\":true}'", scripts);
	id = submit("[{\"key\":\"first\",\"stage\":0,\"payload\":{}},"
	    "{\"key\":\"second\",\"stage\":0,\"payload\":{}}]", NULL);
	CU_ASSERT_FATAL(id > 0);
	pid = worker(args);
	CU_ASSERT_EQUAL_FATAL(wait_count(1, 30, "SELECT COUNT(*) FROM items WHERE job_id = %lld "
	    "AND state = 'claimed'", id), 0);
	kill(pid, SIGTERM);
	/* the running command finishes and is reported; nothing new is claimed */
	CU_ASSERT_EQUAL(worker_wait(pid, 30), 0);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM items WHERE job_id = %lld AND state = 'succeeded'",
	    id), 1);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM items WHERE job_id = %lld AND state = 'pending' "
	    "AND attempt = 0", id), 1);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM items WHERE job_id = %lld AND state = 'claimed'",
	    id), 0);
	/* the rest goes to the next worker */
	{
		const char *again[] = { "--kind", "e2e", "--drain", "--exec", "echo '{}'", NULL };
		CU_ASSERT_EQUAL(worker_wait(worker(again), 60), 0);
		CU_ASSERT_EQUAL(wait_job(id, "succeeded", 10), 0);
	}
}

static void
test_second_signal_stops_and_retries(void)
{
	const char *args[] = { "--kind", "e2e", "--grace", "1", "--exec", "sleep 60", NULL };
	long long id = submit("[{\"key\":\"long\",\"stage\":0,\"payload\":{}}]", "\"max_attempts\":3");
	pid_t pid;

	CU_ASSERT_FATAL(id > 0);
	pid = worker(args);
	CU_ASSERT_EQUAL_FATAL(wait_count(1, 30, "SELECT COUNT(*) FROM items WHERE job_id = %lld "
	    "AND state = 'claimed'", id), 0);
	kill(pid, SIGTERM);
	usleep(300000);
	kill(pid, SIGTERM);
	CU_ASSERT_EQUAL(worker_wait(pid, 30), 0);
	/* reported as a retryable failure: back to pending, the attempt on record */
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM items WHERE job_id = %lld AND state = 'pending' "
	    "AND attempt = 1", id), 1);
	CU_ASSERT_EQUAL(count("SELECT COUNT(*) FROM item_failures f JOIN items i ON i.id = f.item_id "
	    "WHERE i.job_id = %lld AND f.attempt = 1", id), 1);
	{
		char path[64];

		/* out of the way of the next tests' workers */
		snprintf(path, sizeof path, "/v1/jobs/%lld/cancel", id);
		api("POST", path, "{}", NULL);
	}
}

static void
test_cancel_stops_the_command(void)
{
	char cmd[900], mark[700], path[64];
	const char *args[] = { "--kind", "e2e", "--lease", "3", "--grace", "2", "--exec", cmd, NULL };
	long long id;
	pid_t pid;
	int i;

	snprintf(mark, sizeof mark, "%s/stopped-by-cancel", scripts);
	unlink(mark);	/* left by an earlier run in the same directory */
	snprintf(cmd, sizeof cmd, "trap 'echo stopped > \"%s\"; exit 143' TERM; "
	    "sleep 120 & wait", mark);
	id = submit("[{\"key\":\"endless\",\"stage\":0,\"payload\":{}}]", "\"lease_seconds\":3");
	CU_ASSERT_FATAL(id > 0);
	pid = worker(args);
	CU_ASSERT_EQUAL_FATAL(wait_count(1, 30, "SELECT COUNT(*) FROM items WHERE job_id = %lld "
	    "AND state = 'claimed'", id), 0);
	snprintf(path, sizeof path, "/v1/jobs/%lld/cancel", id);
	CU_ASSERT_EQUAL(api("POST", path, "{}", NULL), 200);
	/* the next heartbeat learns of it and the command gets SIGTERM */
	for (i = 0; i < 300 && access(mark, F_OK) != 0; i++)
		usleep(100000);
	CU_ASSERT_EQUAL(access(mark, F_OK), 0);
	CU_ASSERT_EQUAL(wait_job(id, "cancelled", 5), 0);
	/* the worker itself keeps going */
	CU_ASSERT_EQUAL(kill(pid, 0), 0);
	worker_stop(pid);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("e2e worker", init, clean);

	signal(SIGPIPE, SIG_IGN);
	CU_add_test(s, "export example: fan-out, merge, downloadable archive",
	    test_export_fan_out_and_merge);
	CU_add_test(s, "a command slower than its lease survives by heartbeats",
	    test_heartbeats_outlive_the_lease);
	CU_add_test(s, "exit 75 is retried", test_exit75_is_retried);
	CU_add_test(s, "exit 1 fails permanently with stderr as the error",
	    test_exit1_fails_with_stderr);
	CU_add_test(s, "a completion the server refuses fails the item",
	    test_refused_completion_fails_the_item);
	CU_add_test(s, "SIGTERM: running commands finish, nothing new is claimed",
	    test_sigterm_drains);
	CU_add_test(s, "a second signal stops commands as retryable failures",
	    test_second_signal_stops_and_retries);
	CU_add_test(s, "a cancel from the API stops a running command",
	    test_cancel_stops_the_command);
	return bj_test_run();
}
