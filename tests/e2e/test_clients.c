/*
 * test_clients.c: the programs of examples/clients/ in PHP, Python, Ruby
 * and Node.js, run against nginx + bulkjobs-fcgi as a reader would run them.
 *
 * For each language: its webhook endpoint is started; its export client
 * submits an export (with an Idempotency-Key and the endpoint as webhook),
 * prints the status page link and polls as the API asks (its ETag back in
 * If-None-Match, waiting Poll-Interval seconds: a poll before any worker
 * came must hear 304); its worker, run until nothing is due, does the
 * items and fails a poisoned one for good; the client then
 * downloads the artifact, which must be the worker's CSV byte for byte.
 * bulkjobs-notify delivers the job's end to the endpoint as a real signed
 * webhook; then deliveries signed here (lib/webhook_sig.c, as the notifier
 * signs) check that the endpoint takes a good one and refuses a bad
 * signature and a stale timestamp.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "json.h"
#include "webhook_sig.h"

#define SECRET	"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define TABLES	{ "customers", "orders", "invoices" }

struct lang {
	const char	*name;
	const char	*interp;	/* looked up in PATH */
	const char	*ext;		/* of the three programs */
	int		 php_server;	/* the endpoint runs under php -S */
};

static struct bj_e2e e2e;
static struct bj_db *db;
static char submit_token[128], work_token[128];
static pid_t endpoint;

/* Stop the webhook endpoint and its process group. */
static void
endpoint_stop(void)
{
	if (endpoint > 0) {
		kill(-endpoint, SIGTERM);
		waitpid(endpoint, NULL, 0);
		endpoint = 0;
	}
}

/* nginx + bulkjobs-fcgi with a webhook secret and loopback allowed, two tokens, a login. */
static int
init(void)
{
	char *t;

	if (bj_e2e_start(&e2e, "clients", "[webhook]\nsecret = " SECRET "\ntimeout = 5\n"
	    "allow_networks = 127.0.0.0/8\n") == -1)	/* the endpoints are on loopback */
		return -1;
	db = bj_test_db("clients");
	atexit(endpoint_stop);
	if ((t = bj_e2e_token(&e2e, "app", "submit", "alice")) == NULL)
		return -1;
	snprintf(submit_token, sizeof submit_token, "%s", t);
	free(t);
	if ((t = bj_e2e_token(&e2e, "workers", "work", NULL)) == NULL)
		return -1;
	snprintf(work_token, sizeof work_token, "%s", t);
	free(t);
	return bj_e2e_htpasswd(&e2e, "alice");
}

static int
clean(void)
{
	endpoint_stop();
	bj_e2e_stop(&e2e);
	return 0;
}

/* The path of examples/clients/LANG/PROG.EXT into out. */
static void
program(const struct lang *l, const char *prog, char *out, size_t len)
{
	snprintf(out, len, "%s/examples/clients/%s/%s.%s", getenv("BJ_SRCDIR"), l->name, prog,
	    l->ext);
}

/* Start the language's example PROG with one argument (or none); its output to ROOT/LANG-PROG.log. */
static pid_t
run(const struct lang *l, const char *prog, const char *arg)
{
	char script[700], log[800];
	char *argv[] = { (char *)l->interp, script, (char *)arg, NULL };

	program(l, prog, script, sizeof script);
	snprintf(log, sizeof log, "%s/%s-%s.log", e2e.root, l->name, prog);
	return bj_test_spawn(argv, log);
}

/* 1 when the file holds needle. */
static int
file_has(const char *path, const char *needle)
{
	char *s = bj_test_slurp(path, NULL);
	int found = s != NULL && strstr(s, needle) != NULL;

	free(s);
	return found;
}

/* Poll until the file holds needle: 0, or -1 (its content said) after limit seconds. */
static int
wait_file_has(const char *path, const char *needle, int limit)
{
	char *s;

	for (int i = 0; i < limit * 10; i++) {
		if (file_has(path, needle))
			return 0;
		usleep(100000);
	}
	s = bj_test_slurp(path, NULL);
	fprintf(stderr, "%s never said \"%s\"; it holds:\n%s\n", path, needle, s ? s : "(nothing)");
	free(s);
	return -1;
}

/* A delivery to the endpoint signed with key at time stamp (sig NULL: signed right); the status. */
static long
deliver(int port, const char *body, long long stamp, const char *sig)
{
	unsigned char *key;
	size_t keylen;
	const char *why;
	char url[64], h_id[64], h_ts[64], h_sig[200], *good;
	const char *headers[] = { "Content-Type: application/json", h_id, h_ts, h_sig, NULL };
	struct bj_http_reply r;
	long status;

	key = bj_webhook_key(SECRET, &keylen, &why);
	CU_ASSERT_PTR_NOT_NULL_FATAL(key);
	good = bj_webhook_sign(key, keylen, "msg_test", stamp, body, strlen(body));
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", port);
	snprintf(h_id, sizeof h_id, "webhook-id: msg_test");
	snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %lld", stamp);
	snprintf(h_sig, sizeof h_sig, "webhook-signature: %s", sig ? sig : good);
	status = bj_http("POST", url, headers, body, strlen(body), &r) == 0 ? r.status : -1;
	bj_http_reply_free(&r);
	free(good);
	free(key);
	return status;
}

/* Start the language's webhook endpoint on port: 0, or -1. */
static int
endpoint_start(const struct lang *l, int port)
{
	char script[700], log[800], port_s[16], addr[32];
	char *argv[6];

	program(l, "webhook", script, sizeof script);
	snprintf(log, sizeof log, "%s/%s-webhook.log", e2e.root, l->name);
	snprintf(port_s, sizeof port_s, "%d", port);
	snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
	argv[0] = (char *)l->interp;
	if (l->php_server) {	/* the built-in server, with the endpoint as its router */
		argv[1] = "-S";
		argv[2] = addr;
		argv[3] = script;
		argv[4] = NULL;
	} else {
		argv[1] = script;
		argv[2] = port_s;
		argv[3] = NULL;
	}
	setenv("BULKJOBS_WEBHOOK_SECRET", SECRET, 1);
	endpoint = bj_test_spawn(argv, log);
	for (int i = 0; i < 200 && !bj_test_port_open(port); i++)
		usleep(50000);
	return bj_test_port_open(port) ? 0 : -1;
}

/* The whole round for one language. */
static void
round_trip(const struct lang *l)
{
	const char *tables[] = TABLES;
	char out[800], key[64], log[800], hook[64], *hooklog, *got;
	struct bj_buf want = { 0 };
	struct json_object *job = NULL;
	long long poison, id;
	int port = bj_test_free_port(), st = -1;
	pid_t client, worker;

	CU_ASSERT_FATAL(port > 0);
	/* the suite's directory outlives a run: no earlier run's output may count */
	for (size_t i = 0; i < 4; i++) {
		static const char *const logs[] = { "export", "export-again", "worker", "webhook" };
		snprintf(log, sizeof log, "%s/%s-%s.log", e2e.root, l->name, logs[i]);
		unlink(log);
	}
	CU_ASSERT_EQUAL_FATAL(endpoint_start(l, port), 0);

	/* the client submits and polls */
	snprintf(out, sizeof out, "%s/%s-export.csv", e2e.root, l->name);
	unlink(out);
	snprintf(key, sizeof key, "%s-export-1", l->name);
	snprintf(hook, sizeof hook, "http://127.0.0.1:%d/hook", port);
	setenv("BULKJOBS_URL", e2e.url, 1);
	setenv("BULKJOBS_TOKEN", submit_token, 1);
	setenv("BULKJOBS_OWNER", "alice", 1);
	setenv("BULKJOBS_USER", "alice", 1);
	setenv("BULKJOBS_PASSWORD", "alice-pw", 1);
	setenv("BULKJOBS_WEBHOOK", hook, 1);
	{
		char script[700], clog[800];
		char *argv[] = { (char *)l->interp, script, out, key, NULL };
		program(l, "export", script, sizeof script);
		snprintf(clog, sizeof clog, "%s/%s-export.log", e2e.root, l->name);
		client = bj_test_spawn(argv, clog);
	}
	CU_ASSERT_EQUAL_FATAL(bj_test_wait_scalarf(db, 1, 30, "SELECT COUNT(*) FROM jobs"
	    " WHERE owner = 'alice' AND idempotency_key = '%s'", key), 0);
	id = bj_test_scalarf(db, "SELECT id FROM jobs WHERE idempotency_key = '%s'", key);

	/* a poisoned job for the worker to fail for good */
	poison = bj_e2e_submit(&e2e, submit_token, "{\"kind\":\"export\",\"owner\":\"alice\","
	    "\"max_attempts\":3,\"items\":[{\"key\":\"bad\",\"payload\":{\"table\":\"No Such\"}}]}");
	CU_ASSERT_FATAL(poison > 0);

	/*
	 * No worker yet: the client's second poll (after the Poll-Interval its
	 * first answer gave) sends that answer's ETag back and hears 304.
	 */
	{
		char clog[800];
		snprintf(clog, sizeof clog, "%s/%s-export.log", e2e.root, l->name);
		CU_ASSERT_EQUAL(wait_file_has(clog, "queued: 0 of 4 items done\nqueued: unchanged", 20), 0);
	}

	/* the worker, until nothing is due */
	setenv("BULKJOBS_TOKEN", work_token, 1);
	{
		char arts[700];
		snprintf(arts, sizeof arts, "%s/artifacts", e2e.root);
		setenv("BULKJOBS_ARTIFACTS", arts, 1);
	}
	worker = run(l, "worker", "--drain");
	st = bj_test_child_wait(worker, 60);
	CU_ASSERT_EQUAL(st, 0);
	st = bj_test_child_wait(client, 60);
	CU_ASSERT_EQUAL(st, 0);
	snprintf(log, sizeof log, "%s/%s-export.log", e2e.root, l->name);
	if (st != 0) {
		char *s = bj_test_slurp(log, NULL);
		fprintf(stderr, "%s export client:\n%s\n", l->name, s ? s : "(no output)");
		free(s);
	}

	/* it printed the status page link, and downloaded the worker's CSV */
	job = bj_e2e_job(&e2e, submit_token, id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(job);
	CU_ASSERT_STRING_EQUAL(bj_json_str(job, "state"), "succeeded");
	CU_ASSERT(file_has(log, json_object_get_string(bj_test_json_get(job,
	    "links.status_page"))));
	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
		bj_buf_printf(&want, "table,row\n");
		for (int i = 0; i < 3; i++)
			bj_buf_printf(&want, "%s,%d\n", tables[t], i);
	}
	got = bj_test_slurp(out, NULL);
	CU_ASSERT_PTR_NOT_NULL(got);
	if (got != NULL)
		CU_ASSERT_STRING_EQUAL(got, want.data);
	free(got);
	bj_buf_free(&want);
	/* every item heartbeat its progress before it completed */
	CU_ASSERT_EQUAL(bj_test_scalarf(db, "SELECT COUNT(*) FROM items WHERE job_id = %lld"
	    " AND state = 'succeeded' AND progress_done IS NOT NULL", id), 4);

	/* the poisoned item failed at once, with the worker's reason */
	CU_ASSERT_EQUAL(bj_e2e_wait_state(&e2e, submit_token, poison, "failed", 10), 0);
	CU_ASSERT_EQUAL(bj_test_scalarf(db, "SELECT COUNT(*) FROM items WHERE job_id = %lld"
	    " AND state = 'failed' AND attempt = 1 AND error LIKE '%%no such table%%'", poison), 1);

	/* the same Idempotency-Key again: the same job, not a second one */
	{
		char script[700], clog[800];
		char *argv[] = { (char *)l->interp, script, out, key, NULL };
		setenv("BULKJOBS_TOKEN", submit_token, 1);
		program(l, "export", script, sizeof script);
		snprintf(clog, sizeof clog, "%s/%s-export-again.log", e2e.root, l->name);
		CU_ASSERT_EQUAL(bj_test_child_wait(bj_test_spawn(argv, clog), 60), 0);
		CU_ASSERT(file_has(clog, "already there"));
		CU_ASSERT_EQUAL(bj_test_scalarf(db, "SELECT COUNT(*) FROM jobs"
		    " WHERE idempotency_key = '%s'", key), 1);
	}
	hooklog = bj_xasprintf("%s/%s-webhook.log", e2e.root, l->name);

	/* bulkjobs-notify delivers the job's end to the endpoint, signed */
	{
		char *cmd = bj_xasprintf("%s/notifier/bulkjobs-notify -c '%s'", getenv("BJ_BUILDDIR"),
		    e2e.conf_path);
		char needle[64];
		CU_ASSERT_EQUAL(system(cmd), 0);
		free(cmd);
		snprintf(needle, sizeof needle, "job %lld job.succeeded", id);
		CU_ASSERT_EQUAL(wait_file_has(hooklog, needle, 20), 0);
	}

	/* deliveries signed here: a good one is taken, a bad or stale one refused */
	{
		const char *event = json_object_to_json_string_ext(job, JSON_C_TO_STRING_PLAIN);
		char *payload = bj_xasprintf("{\"type\":\"job.succeeded\",\"timestamp\":"
		    "\"2026-01-01T00:00:00Z\",\"data\":%s}", event);
		long long now = (long long)time(NULL);
		long good = deliver(port, payload, now, NULL);

		CU_ASSERT(good >= 200 && good < 300);
		CU_ASSERT_EQUAL(deliver(port, payload, now,
		    "v1,MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="), 401);
		CU_ASSERT_EQUAL(deliver(port, payload, now - 3600, NULL), 401);
		CU_ASSERT_EQUAL(deliver(port, payload, now + 3600, NULL), 401);
		free(payload);
	}
	CU_ASSERT(file_has(hooklog, "msg_test"));
	free(hooklog);
	json_object_put(job);
	endpoint_stop();
}

static void
test_python(void)
{
	static const struct lang l = { "python", "/usr/bin/python3", "py", 0 };
	round_trip(&l);
}

static void
test_php(void)
{
	static const struct lang l = { "php", "php", "php", 1 };
	round_trip(&l);
}

static void
test_ruby(void)
{
	static const struct lang l = { "ruby", "ruby", "rb", 0 };
	round_trip(&l);
}

static void
test_node(void)
{
	static const struct lang l = { "node", "node", "mjs", 0 };
	round_trip(&l);
}

int
main(void)
{
	CU_pSuite s;

	/* the clients' calls are test_api's, which the sanitizer build runs */
	if (bj_test_sanitized_skip("test_clients", "their calls run in test_api"))
		return 77;
	s = bj_test_suite("e2e clients", init, clean);
	CU_add_test(s, "Python: export, worker, webhook", test_python);
	CU_add_test(s, "PHP: export, worker, webhook", test_php);
	CU_add_test(s, "Ruby: export, worker, webhook", test_ruby);
	CU_add_test(s, "Node.js: export, worker, webhook", test_node);
	return bj_test_run();
}
