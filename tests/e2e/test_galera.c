/*
 * test_galera: bulkjobs on a three-node Galera cluster on loopback
 * (tests/galera.sh). Front end A lists the nodes 1, 2, 3 and B 2, 3, 1, so
 * both nodes take writes at once; worker threads claim and complete through
 * both, reapers with [reaper] lock = table run against nodes 1 and 3, and
 * node 2 is killed -9 mid-run and restarted (IST). The job must succeed,
 * every item be completed once, every notification row be alone of its job,
 * event and target, every completion answered 200 show its item succeeded,
 * no answer be a 5xx other than 503, no two reapers hold the lock at once,
 * and node 2 rejoin. Then HAProxy in front of the cluster (when Debian's
 * haproxy is installed) must send connections to a Synced node. Skipped
 * (77) when Galera cannot run, in the sanitizer build (its slower front
 * ends miss the time limits) and under --disable-cluster-tests
 * (distcheck: the plain make check runs it).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <mysql.h>

#include "buf.h"
#include "harness.h"
#include "migrate.h"

#define ITEMS		400
#define CLIENTS		6
#define REAPER_RUNS	400
#define HAPROXY		"/usr/sbin/haproxy"

static char cluster_dir[600], hosts[3][64], dbname[64];
static struct bj_e2e fe[2];
static char *tok;
static atomic_int done_count[ITEMS];
static atomic_long n_ok, n_503, n_5xx, n_409, n_transport;
static atomic_long n_unsaid;	/* completions answered 200 whose item is not succeeded */
static atomic_int stop_all, n_done;	/* n_done: items completed, for the clients' end */
static time_t deadline;

/* Run tests/galera.sh with args; its exit status. */
static int
galera(const char *args)
{
	char cmd[1600];
	int st;

	snprintf(cmd, sizeof cmd, "sh '%s/tests/galera.sh' %s '%s' >> '%s/galera.log' 2>&1",
	    getenv("BJ_SRCDIR"), args, cluster_dir, cluster_dir);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Run sql on node n (0-based) as the test user; the client's exit status. */
static int
galera_sql(int n, const char *sql)
{
	char cmd[1600];
	int st;

	snprintf(cmd, sizeof cmd, "mariadb --no-defaults -h127.0.0.1 -P%s -ubulkjobs -e \"%s\"",
	    strchr(hosts[n], ':') + 1, sql);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The [database] lines of a program whose hosts list starts at node first (0-based). */
static void
db_lines(char *out, size_t len, int first, const char *more)
{
	snprintf(out, len, "[database]\nhosts = %s, %s, %s\nuser = bulkjobs\nname = %s\n%s",
	    hosts[first], hosts[(first + 1) % 3], hosts[(first + 2) % 3], dbname, more);
}

/* c: the defaults, with [database] hosts = list, user bulkjobs and, when not NULL, name. */
static void
cluster_conf(struct bj_conf *c, const char *list, const char *name)
{
	bj_conf_defaults(c);
	free(c->db_hosts);
	c->db_hosts = bj_xstrdup(list);
	free(c->db_user);
	c->db_user = bj_xstrdup("bulkjobs");
	if (name != NULL) {
		free(c->db_name);
		c->db_name = bj_xstrdup(name);
	}
}

/* Create and migrate the database on the cluster; 0 or -1. */
static int
cluster_db(void)
{
	struct bj_conf c;
	struct bj_db *db;
	char sql[200], *cause = NULL, h[256];
	int rc = -1;

	snprintf(h, sizeof h, "%s, %s, %s", hosts[0], hosts[1], hosts[2]);
	cluster_conf(&c, h, NULL);
	db = bj_db_new(&c);
	bj_db_set_name(db, "");
	snprintf(sql, sizeof sql, "CREATE DATABASE `%s` CHARACTER SET utf8mb4", dbname);
	if (bj_db_connect(db) == -1 || bj_db_exec_text(db, sql) == -1) {
		fprintf(stderr, "galera: %s\n", bj_db_error(db));
		goto out;
	}
	bj_db_free(db);
	db = bj_db_new(&c);
	bj_db_set_name(db, dbname);
	if (bj_db_connect(db) == -1 || bj_migrate(db, dbname, &cause) < 0) {
		fprintf(stderr, "galera: migrating: %s\n", cause ? cause : bj_db_error(db));
		goto out;
	}
	rc = 0;
out:
	free(cause);
	bj_db_free(db);
	bj_conf_free(&c);
	return rc;
}

/* POST body to path through front end f until the answer is not 503 or a transport error. */
static long
post(int f, const char *path, const char *body, struct json_object **out)
{
	char url[300], auth[128];
	const char *h[3];
	struct bj_http_reply r;
	long st;

	snprintf(url, sizeof url, "%s%s", fe[f].url, path);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
	h[0] = auth;
	h[1] = "Content-Type: application/json";
	h[2] = NULL;
	for (;;) {
		st = bj_http("POST", url, h, body, strlen(body), &r) == -1 ? -1 : r.status;
		if (st == -1)
			atomic_fetch_add(&n_transport, 1);
		else if (st == 503)
			atomic_fetch_add(&n_503, 1);
		else if (st >= 500) {
			fprintf(stderr, "galera: POST %s: %ld %s\n", path, st, r.body ? r.body : "");
			atomic_fetch_add(&n_5xx, 1);
		} else if (st == 409)
			atomic_fetch_add(&n_409, 1);
		else if (st < 300)
			atomic_fetch_add(&n_ok, 1);
		if (st != -1 && st != 503) {
			if (out != NULL)
				*out = json_tokener_parse(r.body);
			bj_http_reply_free(&r);
			return st;
		}
		if (st != -1)
			bj_http_reply_free(&r);
		if (time(NULL) > deadline)
			return st;
		usleep(20000);
	}
}

/* A member of o as a string ("" if none) or an integer (-1 if none). */
static const char *
mstr(struct json_object *o, const char *name)
{
	struct json_object *v;

	return json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : "";
}

static long long
mint(struct json_object *o, const char *name)
{
	struct json_object *v;

	return json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_int) ?
	    json_object_get_int64(v) : -1;
}

/* A worker thread: claims 5 at a time through front end (arg % 2), completes each. */
static void *
client(void *arg)
{
	int f = (int)(long)arg % 2;
	const char *claim = "{\"worker\":\"g\",\"kinds\":[\"galera\"],\"limit\":5}";
	struct json_object *root, *items, *r, *err;

	while (!atomic_load(&stop_all) && atomic_load(&n_done) < ITEMS && time(NULL) <= deadline) {
		size_t n;

		root = NULL;
		if (post(f, "/v1/claims", claim, &root) != 200 ||
		    !json_object_object_get_ex(root, "items", &items) ||
		    (n = json_object_array_length(items)) == 0) {
			json_object_put(root);
			usleep(50000);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			struct json_object *it = json_object_array_get_idx(items, i);
			char path[96], body[300];
			int k = -1;

			if (sscanf(mstr(it, "key"), "g%d", &k) != 1 || k < 0 || k >= ITEMS)
				continue;
			snprintf(path, sizeof path, "/v1/items/%lld/complete", mint(it, "id"));
			snprintf(body, sizeof body, "{\"lease_token\":\"%s\",\"result\":{\"k\":%d}}",
			    mstr(it, "lease_token"), k);
			r = NULL;
			switch (post(f, path, body, &r)) {
			case 200:
				if (strcmp(mstr(r, "state"), "succeeded") != 0) {
					fprintf(stderr, "galera: item %lld answered 200, state %s\n",
					    mint(it, "id"), mstr(r, "state"));
					atomic_fetch_add(&n_unsaid, 1);
				}
				atomic_fetch_add(&done_count[k], 1);
				atomic_fetch_add(&n_done, 1);
				break;
			case 409:
				/* a try lost with its node may have committed: the retry says so */
				if (json_object_object_get_ex(r, "error", &err) &&
				    strcmp(mstr(err, "message"),
				    "the item was already completed under this lease token") == 0)
				{
					atomic_fetch_add(&done_count[k], 1);
					atomic_fetch_add(&n_done, 1);
				}
				break;
			}
			json_object_put(r);
		}
		json_object_put(root);
	}
	return NULL;
}

struct reaper_arg {
	char	conf[700];
	char	log[700];
	int	failures;	/* runs that exited neither 0 nor 75 */
};

/* Reaper runs one after another against one node, as cron would on two hosts. */
static void *
reaper(void *arg)
{
	struct reaper_arg *a = arg;
	char bin[600];
	char *argv[] = { bin, (char *)"-vv", (char *)"-c", a->conf, NULL };

	snprintf(bin, sizeof bin, "%s/reaper/bulkjobs-reaper", getenv("BJ_BUILDDIR"));
	for (int i = 0; i < REAPER_RUNS && !atomic_load(&stop_all); i++) {
		pid_t p = bj_test_spawn(argv, a->log);
		int st = 0;

		if (p > 0 && waitpid(p, &st, 0) == p && !(WIFEXITED(st) &&
		    (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 75)))
			a->failures++;
		usleep(100000);
	}
	return NULL;
}

struct hold {
	char	holder[128];
	double	from, to;
};

/* The lock's holds from the reapers' logs into h (at most max); how many. */
static int
holds(const char *log, struct hold *h, int n, int max)
{
	FILE *f = fopen(log, "r");
	char line[1024], who[128];
	double t;

	if (f == NULL)
		return n;
	while (fgets(line, sizeof line, f) != NULL) {
		char *p;

		if ((p = strstr(line, "' taken by ")) != NULL &&
		    sscanf(p, "' taken by %127s on %*s at %lf", who, &t) == 2 && n < max) {
			snprintf(h[n].holder, sizeof h[n].holder, "%s", who);
			h[n].from = t;
			h[n++].to = 0;
		} else if ((p = strstr(line, "' released by ")) != NULL &&
		    sscanf(p, "' released by %127s at %lf", who, &t) == 2) {
			for (int i = n - 1; i >= 0; i--)
				if (strcmp(h[i].holder, who) == 0) {
					h[i].to = t;
					break;
				}
		}
	}
	fclose(f);
	return n;
}

static void
test_cluster_survives_a_killed_node(void)
{
	pthread_t th[CLIENTS], rt[2];
	struct reaper_arg ra[2];
	struct hold *h = calloc(4 * REAPER_RUNS, sizeof *h);
	char extra[600], *body, buf[800];
	struct json_object *job = NULL;
	struct bj_conf c;
	struct bj_db *db;
	long long id = -1;
	size_t len;
	int nh, overlaps = 0, once = 0, twice = 0, none = 0;

	deadline = time(NULL) + 150;
	/* the job, submitted through A, with two notification targets */
	body = malloc(32 * ITEMS + 300);
	len = (size_t)sprintf(body, "{\"kind\":\"galera\",\"owner\":\"g\",\"lease_seconds\":20,"
	    "\"notify\":{\"email\":[\"ops@example.org\"],"
	    "\"webhooks\":[\"https://hooks.example.org/bulkjobs\"]},\"items\":[");
	for (int i = 0; i < ITEMS; i++)
		len += (size_t)sprintf(body + len, "%s{\"key\":\"g%d\"}", i ? "," : "", i);
	sprintf(body + len, "]}");
	if (post(0, "/v1/jobs", body, &job) == 201)
		id = mint(job, "id");
	json_object_put(job);
	free(body);
	CU_ASSERT_FATAL(id > 0);
	/* read-your-writes: B (node 2 first) sees at once the job A wrote on node 1 */
	{
		struct json_object *o = bj_e2e_job(&fe[1], tok, id);

		CU_ASSERT_PTR_NOT_NULL(o);
		json_object_put(o);
	}

	for (int i = 0; i < 2; i++) {
		char more[200];

		snprintf(more, sizeof more, "[reaper]\nlock = table\nlock_seconds = 10\nnotifier = %s/notifier/bulkjobs-notify\n",
		    getenv("BJ_BUILDDIR"));
		db_lines(extra, sizeof extra, i == 0 ? 0 : 2, more);
		snprintf(ra[i].conf, sizeof ra[i].conf, "%s/reaper%d.conf", cluster_dir, i);
		snprintf(ra[i].log, sizeof ra[i].log, "%s/reaper%d.log", cluster_dir, i);
		ra[i].failures = 0;
		{
			FILE *f = fopen(ra[i].conf, "w");

			CU_ASSERT_PTR_NOT_NULL_FATAL(f);
			fchmod(fileno(f), 0600);
			fputs(extra, f);
			fclose(f);
		}
		pthread_create(&rt[i], NULL, reaper, &ra[i]);
	}
	for (long i = 0; i < CLIENTS; i++)
		pthread_create(&th[i], NULL, client, (void *)i);

	/* mid-run: node 2, B's node, killed and brought back */
	sleep(2);
	CU_ASSERT_EQUAL(galera("kill 2"), 0);
	sleep(2);
	CU_ASSERT_EQUAL(galera("restart 2"), 0);

	for (int i = 0; i < CLIENTS; i++)
		pthread_join(th[i], NULL);
	CU_ASSERT_EQUAL(bj_e2e_wait_state(&fe[1], tok, id, "succeeded", 30), 0);
	sleep(3);	/* a reaper pass records the job's notifications */
	atomic_store(&stop_all, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(rt[i], NULL);

	for (int i = 0; i < ITEMS; i++) {
		int d = atomic_load(&done_count[i]);

		once += d == 1;
		twice += d > 1;
		none += d == 0;
	}
	fprintf(stderr, "galera: %d items once, %d twice, %d never; %ld ok, %ld 503, %ld 409,"
	    " %ld other 5xx, %ld transport errors, %ld completions answered 200 but not done\n",
	    once, twice, none, atomic_load(&n_ok), atomic_load(&n_503), atomic_load(&n_409),
	    atomic_load(&n_5xx), atomic_load(&n_transport), atomic_load(&n_unsaid));
	/*
	 * Every item answered 200 at least once. A completion whose node went
	 * away at COMMIT answers 503 though it may have been applied; its retry
	 * under the same token is answered again: a second 200 to the client,
	 * not a second completion (the counters below say so).
	 */
	CU_ASSERT_EQUAL(none, 0);
	CU_ASSERT(twice <= atomic_load(&n_503));
	/* a 200 means done: a transaction the cluster aborted is never answered as committed */
	CU_ASSERT_EQUAL(atomic_load(&n_unsaid), 0);
	CU_ASSERT_EQUAL(atomic_load(&n_5xx), 0);

	/* the database, through node 3 */
	cluster_conf(&c, hosts[2], dbname);
	db = bj_db_new(&c);
	CU_ASSERT_EQUAL_FATAL(bj_db_connect(db), 0);
	CU_ASSERT_EQUAL(bj_test_scalarf(db, "SELECT COUNT(*) FROM items WHERE job_id = %lld"
	    " AND state = 'succeeded'", id), ITEMS);
	CU_ASSERT_EQUAL(bj_test_scalarf(db, "SELECT n_succeeded FROM jobs WHERE id = %lld", id),
	    ITEMS);
	CU_ASSERT(bj_test_scalarf(db, "SELECT COUNT(*) FROM notifications WHERE job_id = %lld",
	    id) >= 2);
	CU_ASSERT_EQUAL(bj_test_scalarf(db, "SELECT COUNT(*) - COUNT(DISTINCT job_id, event,"
	    " target) FROM notifications"), 0);
	bj_db_free(db);
	bj_conf_free(&c);

	/* never two reapers at once: the holds of both logs do not overlap */
	nh = holds(ra[0].log, h, 0, 4 * REAPER_RUNS);
	nh = holds(ra[1].log, h, nh, 4 * REAPER_RUNS);
	for (int i = 0; i < nh; i++)
		for (int j = i + 1; j < nh; j++) {
			double ti = h[i].to ? h[i].to : 1e18, tj = h[j].to ? h[j].to : 1e18;

			if (h[i].from < tj && h[j].from < ti)
				overlaps++;
		}
	fprintf(stderr, "galera: %d reaper holds, %d overlapping; runs failed %d and %d\n",
	    nh, overlaps, ra[0].failures, ra[1].failures);
	CU_ASSERT(nh >= 2);
	CU_ASSERT_EQUAL(overlaps, 0);
	free(h);

	/* node 2 came back by IST and is Synced */
	snprintf(buf, sizeof buf, "grep -q 'IST received' '%s/n2.err'", cluster_dir);
	CU_ASSERT_EQUAL(system(buf), 0);
	CU_ASSERT_EQUAL(galera("status"), 0);
}

/* The name of the node db's link is on (@@wsrep_node_name), into name; 0 or -1. */
static int
node_of(struct bj_db *db, char *name, size_t len)
{
	struct bj_rows *r = bj_db_queryp(db, "SELECT @@wsrep_node_name", NULL, 0);

	name[0] = '\0';
	if (r == NULL)
		return -1;
	snprintf(name, len, "%s", bj_rows_get(r, 0, 0) ? bj_rows_get(r, 0, 0) : "");
	bj_rows_free(r);
	return 0;
}

/*
 * A front end's link that failed over goes back: node 1 not ready
 * (desynced) when it connects, so it takes node 2; node 1 ready again,
 * the link stays on node 2 through a transaction, and between
 * transactions, once BJ_DB_FAILBACK_SECONDS have passed, moves to node 1.
 * Without failback it would stay: node 2 for it, node 1 for whoever
 * connects later, two writers.
 */
static void
test_failback_to_the_first_node(void)
{
	struct bj_conf c;
	struct bj_db *db;
	char h[256], name[64];

	snprintf(h, sizeof h, "%s, %s, %s", hosts[0], hosts[1], hosts[2]);
	cluster_conf(&c, h, dbname);
	db = bj_db_new(&c);
	bj_db_set_failback(db, 1);

	CU_ASSERT_EQUAL_FATAL(galera_sql(0, "SET GLOBAL wsrep_desync = ON"), 0);
	CU_ASSERT_EQUAL(bj_db_connect(db), 0);
	CU_ASSERT_STRING_EQUAL(bj_db_node(db), hosts[1]);
	CU_ASSERT_EQUAL(galera_sql(0, "SET GLOBAL wsrep_desync = OFF"), 0);
	CU_ASSERT_EQUAL(node_of(db, name, sizeof name), 0);
	CU_ASSERT_STRING_EQUAL(name, "n2");

	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	sleep(BJ_DB_FAILBACK_SECONDS + 1);
	CU_ASSERT_EQUAL(node_of(db, name, sizeof name), 0);
	CU_ASSERT_STRING_EQUAL(name, "n2");	/* not inside a transaction */
	CU_ASSERT_EQUAL(bj_db_commit(db), 0);

	CU_ASSERT_EQUAL(node_of(db, name, sizeof name), 0);
	CU_ASSERT_STRING_EQUAL(name, "n1");
	CU_ASSERT_STRING_EQUAL(bj_db_node(db), hosts[0]);
	bj_db_free(db);
	bj_conf_free(&c);
}

/*
 * The answer of a one-number query through a new bulkjobs connection to
 * host:port (a new connection, so that the proxy picks a node again); -1
 * when it cannot connect.
 */
static long long
through(const char *host, int port, const char *sql)
{
	struct bj_conf c;
	struct bj_db *db;
	long long v = -1;

	bj_conf_defaults(&c);
	free(c.db_host);
	c.db_host = bj_xstrdup(host);
	c.db_port = port;
	free(c.db_user);
	c.db_user = bj_xstrdup("bulkjobs");
	free(c.db_name);
	c.db_name = bj_xstrdup(dbname);
	db = bj_db_new(&c);
	if (bj_db_connect(db) == 0)
		v = bj_test_scalarf(db, "%s", sql);
	bj_db_free(db);
	bj_conf_free(&c);
	return v;
}

/* Poll until the proxy's connections reach node name (up to limit seconds); 0 or -1. */
static int
proxy_reaches(int port, const char *name, int limit)
{
	char sql[128];

	snprintf(sql, sizeof sql, "SELECT @@wsrep_node_name = '%s'", name);
	for (int i = 0; i < limit * 5; i++) {
		if (through("127.0.0.1", port, sql) == 1)
			return 0;
		usleep(200000);
	}
	fprintf(stderr, "galera: the proxy did not reach %s in %d s\n", name, limit);
	return -1;
}

/*
 * HAProxy (Debian's) in front of the cluster as conf/haproxy-galera.cfg
 * sets it up: node 1 active, nodes 2 and 3 backups, conf/galera-check as
 * the health check. Connections reach node 1; node 1 desynced (no longer
 * Synced, as a donor is) is marked down and connections reach a backup
 * that is Synced; node 1 synced again takes them back.
 */
static void
test_haproxy_sends_to_a_synced_node(void)
{
	char cfg[700], log[700], text[2048], check[600];
	const char *sql_synced = "SELECT VARIABLE_VALUE = 'Synced' FROM information_schema.GLOBAL_STATUS"
	    " WHERE VARIABLE_NAME = 'wsrep_local_state_comment'";
	int port = bj_test_free_port();
	pid_t p;
	FILE *f;

	CU_ASSERT_FATAL(port > 0);
	/* the check's unprivileged user (the status needs no grant) */
	CU_ASSERT_EQUAL(galera_sql(0, "CREATE USER IF NOT EXISTS 'haproxy_check'@'127.0.0.1'"), 0);
	snprintf(check, sizeof check, "%s/conf/galera-check", getenv("BJ_SRCDIR"));
	snprintf(cfg, sizeof cfg, "%s/haproxy.cfg", cluster_dir);
	snprintf(log, sizeof log, "%s/haproxy.log", cluster_dir);
	snprintf(text, sizeof text, "global\n external-check\n insecure-fork-wanted\n"
	    "defaults\n mode tcp\n timeout connect 2s\n timeout client 1h\n timeout server 1h\n"
	    "listen galera\n bind 127.0.0.1:%d\n option external-check\n"
	    " external-check path \"/usr/bin:/bin\"\n external-check command %s\n"
	    " default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions\n"
	    " server n1 %s check\n server n2 %s check backup\n server n3 %s check backup\n",
	    port, check, hosts[0], hosts[1], hosts[2]);
	f = fopen(cfg, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	{
		char *argv[] = { (char *)HAPROXY, (char *)"-db", (char *)"-f", cfg, NULL };

		p = bj_test_spawn(argv, log);
	}
	CU_ASSERT_FATAL(p > 0);

	CU_ASSERT_EQUAL(proxy_reaches(port, "n1", 20), 0);
	CU_ASSERT_EQUAL(galera_sql(0, "SET GLOBAL wsrep_desync = ON"), 0);
	CU_ASSERT_EQUAL(proxy_reaches(port, "n2", 20), 0);
	/* what bulkjobs reaches through the proxy now is Synced */
	CU_ASSERT_EQUAL(through("127.0.0.1", port, sql_synced), 1);
	CU_ASSERT_EQUAL(galera_sql(0, "SET GLOBAL wsrep_desync = OFF"), 0);
	CU_ASSERT_EQUAL(proxy_reaches(port, "n1", 20), 0);

	kill(p, SIGTERM);
	waitpid(p, NULL, 0);
}

int
main(void)
{
	const char *bld = getenv("BJ_BUILDDIR");
	char extra[600], path[1000];
	FILE *f;
	int rc;

	if (bld == NULL || getenv("BJ_SRCDIR") == NULL) {
		fprintf(stderr, "test_galera: run with make check\n");
		return 1;
	}
	if (bj_test_sanitized_skip("test_galera", "its front ends are too slow for its time limits"))
		return 77;
	if (getenv("BJ_CLUSTER_TESTS") != NULL && strcmp(getenv("BJ_CLUSTER_TESTS"), "no") == 0) {
		fprintf(stderr, "test_galera: skipped (--disable-cluster-tests)\n");
		return 77;
	}
	if (access("/usr/lib/galera/libgalera_smm.so", R_OK) != 0 &&
	    getenv("GALERA_PROVIDER") == NULL) {
		fprintf(stderr, "test_galera: SKIP: no Galera provider"
		    " (/usr/lib/galera/libgalera_smm.so, Debian's galera-4)\n");
		return 77;
	}
	snprintf(cluster_dir, sizeof cluster_dir, "%s", bj_test_path("galera"));
	mkdir(cluster_dir, 0755);
	if (galera("start") != 0) {
		snprintf(path, sizeof path, "%s/galera.log", cluster_dir);
		fprintf(stderr, "test_galera: SKIP: the cluster did not start (see %s)\n", path);
		galera("stop");
		return 77;
	}
	snprintf(path, sizeof path, "%s/ports", cluster_dir);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	for (int i = 0; i < 3; i++) {
		int n, cp;

		if (fscanf(f, "%d %d %*d %*d %*d", &n, &cp) != 2)
			return 1;
		snprintf(hosts[i], sizeof hosts[i], "127.0.0.1:%d", cp);
	}
	fclose(f);
	snprintf(dbname, sizeof dbname, "bjg_%d", (int)getpid());
	mysql_library_init(0, NULL, NULL);
	if (cluster_db() == -1) {
		galera("stop");
		return 1;
	}
	/* front end A writes to node 1, B to node 2: two writers at once */
	db_lines(extra, sizeof extra, 0, "");
	if (bj_e2e_start(&fe[0], "galera_a", extra) == -1)
		goto fail;
	db_lines(extra, sizeof extra, 1, "");
	if (bj_e2e_start(&fe[1], "galera_b", extra) == -1)
		goto fail;
	if ((tok = bj_e2e_token(&fe[0], "galera", "admin", NULL)) == NULL)
		goto fail;
	CU_pSuite s = bj_test_suite("galera", NULL, NULL);
	CU_add_test(s, "three nodes, two front ends, node 2 killed", test_cluster_survives_a_killed_node);
	CU_add_test(s, "a link that failed over goes back to the first node", test_failback_to_the_first_node);
	if (access(HAPROXY, X_OK) == 0)
		CU_add_test(s, "HAProxy sends connections to a Synced node", test_haproxy_sends_to_a_synced_node);
	else
		fprintf(stderr, "test_galera: no %s (Debian's haproxy): the proxy case is not run\n", HAPROXY);
	rc = bj_test_run();
	free(tok);
	bj_e2e_stop(&fe[1]);
	bj_e2e_stop(&fe[0]);
	galera("stop");
	return rc;
fail:
	bj_e2e_stop(&fe[1]);
	bj_e2e_stop(&fe[0]);
	galera("stop");
	return 1;
}
