/*
 * test_api_dbdown.c: the test MariaDB is stopped and started again while
 * clients keep calling the API through nginx. Every answer in between is
 * 200 or 503 with Retry-After (never a 500 or a dead gateway), and the
 * same FastCGI processes serve again once the database is back. Then the
 * same with kill -9 under a load of claims and completions: no committed
 * completion is lost and none is counted twice.
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "harness.h"

static struct bj_e2e e2e;
static char *tok;
static volatile int stop_load;
static char argv_buf[8192];
static char *db_argv[64];

static int
init(void)
{
	if (bj_e2e_start(&e2e, "dbdown", NULL) == -1)
		return -1;
	tok = bj_e2e_token(&e2e, "load", "admin", NULL);
	return tok != NULL ? 0 : -1;
}

static int
clean(void)
{
	bj_e2e_stop(&e2e);
	free(tok);
	return 0;
}

/* The pid of the test MariaDB, from its pid file. */
static pid_t
db_pid(void)
{
	FILE *f = fopen(bj_test_path("mariadb.pid"), "r");
	long pid = -1;

	if (f != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = -1;
		fclose(f);
	}
	return (pid_t)pid;
}

/* Remember how the server was started, from /proc. */
static int
save_cmdline(pid_t pid)
{
	char path[64];
	ssize_t n;
	int fd, k = 0;

	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	n = read(fd, argv_buf, sizeof argv_buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	argv_buf[n] = '\0';
	for (ssize_t i = 0; i < n && k < 63; i += (ssize_t)strlen(argv_buf + i) + 1)
		db_argv[k++] = argv_buf + i;
	db_argv[k] = NULL;
	return 0;
}

/* Start the server again, detached, with the same arguments and data. */
static void
restart_db(void)
{
	pid_t p = fork();

	if (p == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		setsid();
		execv(db_argv[0], db_argv);
		_exit(127);
	}
}

/* GET path with the token: the status, and whether Retry-After came with it. */
static long
probe(const char *path, int *retry_after)
{
	char url[300], auth[128];
	const char *h[2];
	struct bj_http_reply r;
	long st;
	char *ra;

	snprintf(url, sizeof url, "%s%s", e2e.url, path);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
	h[0] = auth;
	h[1] = NULL;
	if (bj_http("GET", url, h, NULL, 0, &r) == -1)
		return -1;
	st = r.status;
	ra = bj_http_header(&r, "Retry-After");
	*retry_after = ra != NULL;
	free(ra);
	bj_http_reply_free(&r);
	return st;
}

/* Poll /healthz until it answers status, at most tries times pause_us apart; 1 once it did. */
static int
health_is(long status, int tries, useconds_t pause_us)
{
	int ra;

	for (int i = 0; i < tries; i++) {
		if (probe("/healthz", &ra) == status)
			return 1;
		usleep(pause_us);
	}
	return 0;
}

struct tally {
	long ok, unavailable, other, no_retry_after;
};

/* Keep calling the API until told to stop; count what comes back. */
static void *
load(void *arg)
{
	struct tally *t = arg;
	int ra;

	while (!stop_load) {
		long st = probe("/v1/jobs?limit=1", &ra);
		if (st == 200)
			t->ok++;
		else if (st == 503) {
			t->unavailable++;
			if (!ra)
				t->no_retry_after++;
		} else {
			t->other++;
		}
	}
	return NULL;
}

/*
 * How often needle (not empty) is in the FastCGI log from byte from on,
 * with the log's size in *end when asked.
 */
static int
log_lines(long from, const char *needle, long *end)
{
	char path[700], *text, *p;
	size_t len = 0;
	int n = 0;

	snprintf(path, sizeof path, "%s/fcgi.log", e2e.root);
	if ((text = bj_test_slurp(path, &len)) == NULL)
		return -1;
	for (p = text + ((size_t)from < len ? (size_t)from : len); (p = strstr(p, needle)) != NULL;
	    p += strlen(needle))
		n++;
	if (end != NULL)
		*end = (long)len;
	free(text);
	return n;
}

static void
test_database_stops_and_starts(void)
{
	struct tally t = { 0 };
	pthread_t th;
	pid_t pid = db_pid();
	int ra, logged;
	long st, log_from = 0;

	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL_FATAL(save_cmdline(pid), 0);
	CU_ASSERT_EQUAL(probe("/v1/jobs", &ra), 200);
	log_lines(0, "\n", &log_from);
	pthread_create(&th, NULL, load, &t);

	kill(pid, SIGTERM);
	for (int i = 0; i < 300 && kill(pid, 0) == 0; i++)
		usleep(100000);
	CU_ASSERT_NOT_EQUAL_FATAL(kill(pid, 0), 0);
	st = probe("/v1/jobs", &ra);
	CU_ASSERT_EQUAL(st, 503);
	CU_ASSERT_TRUE(ra);
	CU_ASSERT_EQUAL(probe("/healthz", &ra), 503);

	restart_db();
	CU_ASSERT_TRUE(health_is(200, 300, 100000));
	/* every process serves again: a run of successes */
	for (int i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(probe("/v1/jobs?limit=1", &ra), 200);
	stop_load = 1;
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(t.other, 0);
	CU_ASSERT_EQUAL(t.no_retry_after, 0);
	CU_ASSERT(t.unavailable > 0);
	CU_ASSERT(t.ok > 0);
	/*
	 * The 503s were logged with their route and the database's words,
	 * but at most ten lines a minute by each of the four processes.
	 */
	logged = log_lines(log_from, "GET /v1/jobs: DB_UNAVAILABLE; last database error: ", NULL);
	CU_ASSERT(logged >= 1);
	CU_ASSERT(logged <= 4 * 10);
	CU_ASSERT(t.unavailable > logged);
	CU_ASSERT_EQUAL(log_lines(log_from, "last database error: none", NULL), 0);
}

/* --- kill -9 under a load of claims and completions ------------------ */

#define CRASH_ITEMS	300
#define CRASH_CLIENTS	4

static atomic_int done_count[CRASH_ITEMS];	/* 200s per item, as the clients saw them */
static atomic_long crash_ok, crash_503, crash_transport, crash_409, crash_other;
static atomic_long crash_replayed;	/* 409s that say the retried completion had counted */
static atomic_int crash_stop;
static time_t crash_deadline;

/* POST body to path with the token until the answer is not 503 or a transport error. */
static long
post_retrying(const char *path, const char *body, struct json_object **out)
{
	char url[300], auth[128];
	const char *h[3];
	struct bj_http_reply r;
	long st;

	snprintf(url, sizeof url, "%s%s", e2e.url, path);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
	h[0] = auth;
	h[1] = "Content-Type: application/json";
	h[2] = NULL;
	for (;;) {
		if (bj_http("POST", url, h, body, strlen(body), &r) == -1)
			st = -1;
		else
			st = r.status;
		if (st == -1)
			atomic_fetch_add(&crash_transport, 1);
		else if (st == 503)
			atomic_fetch_add(&crash_503, 1);
		else if (st == 200 || st == 201)
			atomic_fetch_add(&crash_ok, 1);
		else if (st == 409)
			atomic_fetch_add(&crash_409, 1);
		else {
			fprintf(stderr, "dbcrash: POST %s: %ld %s\n", path, st,
			    r.body ? r.body : "");
			atomic_fetch_add(&crash_other, 1);
		}
		if (st != -1 && st != 503) {
			if (out != NULL)
				*out = json_tokener_parse(r.body);
			bj_http_reply_free(&r);
			return st;
		}
		bj_http_reply_free(&r);
		if (time(NULL) > crash_deadline)
			return st;
		usleep(50000);	/* the same call again, with the same lease token */
	}
}

/* A string member of o, or "". */
static const char *
member_str(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

/* An integer member of o, or -1. */
static long long
member_int(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

/* Complete one claimed item, naming it in the result; count a 200 for it. */
static void
complete_one(struct json_object *it)
{
	char path[96], body[300];
	long long id = member_int(it, "id");
	const char *key = member_str(it, "key");
	struct json_object *r = NULL, *err;
	int k = -1;

	if (sscanf(key, "c%d", &k) != 1 || k < 0 || k >= CRASH_ITEMS) {
		atomic_fetch_add(&crash_other, 1);
		return;
	}
	snprintf(path, sizeof path, "/v1/items/%lld/complete", id);
	snprintf(body, sizeof body, "{\"lease_token\":\"%s\",\"result\":{\"item\":\"%s\"}}",
	    member_str(it, "lease_token"), key);
	switch (post_retrying(path, body, &r)) {
	case 200:
		atomic_fetch_add(&done_count[k], 1);
		break;
	case 409:
		/*
		 * A try that answered 503 (or nothing) may have been committed
		 * before the database died: the retry is then told so.
		 */
		if (json_object_object_get_ex(r, "error", &err) &&
		    strcmp(member_str(err, "message"),
		    "the item was already completed under this lease token") == 0) {
			atomic_fetch_add(&done_count[k], 1);
			atomic_fetch_add(&crash_replayed, 1);
		}
		break;
	}
	json_object_put(r);
}

/* A worker: claim up to 5, complete each, until every item is done or time is up. */
static void *
crash_client(void *arg)
{
	const char *claim = "{\"worker\":\"crash\",\"kinds\":[\"crash\"],\"limit\":5}";
	struct json_object *root, *items;

	(void)arg;
	while (!atomic_load(&crash_stop) && time(NULL) <= crash_deadline) {
		size_t n;

		root = NULL;
		if (post_retrying("/v1/claims", claim, &root) != 200 ||
		    !json_object_object_get_ex(root, "items", &items) ||
		    (n = json_object_array_length(items)) == 0) {
			json_object_put(root);
			usleep(50000);	/* others hold the rest, or nothing is left */
			continue;
		}
		for (size_t i = 0; i < n; i++)
			complete_one(json_object_array_get_idx(items, i));
		json_object_put(root);
	}
	return NULL;
}

/* Successful completions so far, over all items. */
static long
crash_done(void)
{
	long n = 0;

	for (int i = 0; i < CRASH_ITEMS; i++)
		n += atomic_load(&done_count[i]);
	return n;
}

/* Submit the job of CRASH_ITEMS items; its id, or -1. */
static long long
crash_submit(void)
{
	struct json_object *job = NULL;
	char *body = malloc(64 * CRASH_ITEMS + 200);
	size_t len;
	long long id = -1;

	len = (size_t)sprintf(body, "{\"kind\":\"crash\",\"owner\":\"crash\","
	    "\"lease_seconds\":15,\"items\":[");
	for (int i = 0; i < CRASH_ITEMS; i++)
		len += (size_t)sprintf(body + len, "%s{\"key\":\"c%d\"}", i ? "," : "", i);
	sprintf(body + len, "]}");
	if (post_retrying("/v1/jobs", body, &job) == 201)
		id = member_int(job, "id");
	json_object_put(job);
	free(body);
	return id;
}

/* The job's state and counts, by GET. */
static void
crash_job(long long id, char *state, size_t statesz, long long counts[6])
{
	static const char *names[6] = { "total", "pending", "claimed", "succeeded", "failed",
	    "cancelled" };
	char url[300], auth[128];
	const char *h[2];
	struct bj_http_reply r;
	struct json_object *o, *c;

	snprintf(url, sizeof url, "%s/v1/jobs/%lld", e2e.url, id);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
	h[0] = auth;
	h[1] = NULL;
	snprintf(state, statesz, "?");
	for (int i = 0; i < 6; i++)
		counts[i] = -1;
	if (bj_http("GET", url, h, NULL, 0, &r) == -1)
		return;
	CU_ASSERT_EQUAL(r.status, 200);
	if ((o = json_tokener_parse(r.body)) != NULL) {
		snprintf(state, statesz, "%s", member_str(o, "state"));
		if (json_object_object_get_ex(o, "counts", &c))
			for (int i = 0; i < 6; i++)
				counts[i] = member_int(c, names[i]);
		json_object_put(o);
	}
	bj_http_reply_free(&r);
}

/*
 * One bulkjobs-reaper run, as cron would start it: a claim committed just
 * before the database died, its answer lost, comes back after its lease.
 */
static void
reap_once(void)
{
	const char *bld = getenv("BJ_BUILDDIR");
	char bin[600];
	pid_t p;

	snprintf(bin, sizeof bin, "%s/reaper/bulkjobs-reaper", bld ? bld : ".");
	if ((p = fork()) == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 1);
		dup2(null, 2);
		execl(bin, bin, "-c", e2e.conf_path, (char *)NULL);
		_exit(127);
	}
	if (p > 0)
		waitpid(p, NULL, 0);
}

static void
test_database_killed_under_claims(void)
{
	pthread_t th[CRASH_CLIENTS];
	pid_t pid = db_pid();
	pid_t fcgi = e2e.fcgi_pid;
	struct bj_db *db;
	long long job, counts[6];
	char state[32], sql[512];
	int ra, once = 0;

	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL_FATAL(save_cmdline(pid), 0);
	crash_deadline = time(NULL) + 60;
	job = crash_submit();
	CU_ASSERT_FATAL(job > 0);
	for (int i = 0; i < CRASH_CLIENTS; i++)
		pthread_create(&th[i], NULL, crash_client, NULL);

	/* kill -9 in the middle of the load */
	while (crash_done() < 50 && time(NULL) <= crash_deadline)
		usleep(2000);
	CU_ASSERT(crash_done() >= 50);
	kill(pid, SIGKILL);
	/* the server may be our child, restarted by the test above: reap it */
	for (int i = 0; i < 100 && waitpid(pid, NULL, WNOHANG) <= 0 && kill(pid, 0) == 0; i++)
		usleep(10000);
	CU_ASSERT_NOT_EQUAL(kill(pid, 0), 0);
	CU_ASSERT_TRUE(health_is(503, 50, 20000));
	sleep(1);
	restart_db();
	CU_ASSERT_TRUE(health_is(200, 300, 100000));

	/* the reaper runs meanwhile, as cron would, for claims whose answer was lost */
	for (time_t next = 0; crash_done() < CRASH_ITEMS && time(NULL) <= crash_deadline;
	    usleep(20000))
		if (time(NULL) >= next) {
			reap_once();
			next = time(NULL) + 2;
		}
	atomic_store(&crash_stop, 1);
	for (int i = 0; i < CRASH_CLIENTS; i++)
		pthread_join(th[i], NULL);
	fprintf(stderr, "dbcrash: ok %ld, 503 %ld, transport %ld, 409 %ld (%ld replays),"
	    " other %ld\n", atomic_load(&crash_ok), atomic_load(&crash_503),
	    atomic_load(&crash_transport), atomic_load(&crash_409),
	    atomic_load(&crash_replayed), atomic_load(&crash_other));
	CU_ASSERT_PTR_NOT_NULL_FATAL(db = bj_test_db("dbdown"));

	/*
	 * Only 200, 503 and transport errors while it was down, and 409s that
	 * say a retried completion had counted; any other lost lease is one
	 * the reaper took back (its failure record says so).
	 */
	CU_ASSERT(atomic_load(&crash_503) > 0);
	CU_ASSERT_EQUAL(atomic_load(&crash_other), 0);
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM item_failures WHERE job_id = %lld", job);
	CU_ASSERT(atomic_load(&crash_409) - atomic_load(&crash_replayed) <=
	    bj_test_scalar(db, sql));
	/* each item succeeded once, as the clients saw it */
	for (int i = 0; i < CRASH_ITEMS; i++) {
		if (atomic_load(&done_count[i]) != 1) {
			fprintf(stderr, "dbcrash: item c%d: %d successful completions\n", i,
			    atomic_load(&done_count[i]));
			once++;
		}
	}
	CU_ASSERT_EQUAL(once, 0);
	crash_job(job, state, sizeof state, counts);
	CU_ASSERT_STRING_EQUAL(state, "succeeded");
	CU_ASSERT_EQUAL(counts[0], CRASH_ITEMS);
	CU_ASSERT_EQUAL(counts[3], CRASH_ITEMS);
	CU_ASSERT_EQUAL(counts[1] + counts[2] + counts[4] + counts[5], 0);
	/*
	 * and as the database has it: the result naming the item, one attempt
	 * each but for a claim the reaper took back (one failure record each)
	 */
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM items i WHERE job_id = %lld"
	    " AND state = 'succeeded' AND JSON_VALUE(result, '$.item') = `key`"
	    " AND attempt = 1 + (SELECT COUNT(*) FROM item_failures f WHERE f.item_id = i.id)",
	    job);
	CU_ASSERT_EQUAL(bj_test_scalar(db, sql), CRASH_ITEMS);
	/* the same FastCGI parent served throughout */
	CU_ASSERT_EQUAL(waitpid(fcgi, NULL, WNOHANG), 0);
	CU_ASSERT_EQUAL(kill(fcgi, 0), 0);
	CU_ASSERT_EQUAL(probe("/v1/jobs?limit=1", &ra), 200);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("e2e database down", init, clean);

	CU_add_test(s, "the database stops and starts under load: only 503s between",
	    test_database_stops_and_starts);
	CU_add_test(s, "the database is killed under claims and completions: each item once",
	    test_database_killed_under_claims);
	return bj_test_run();
}
