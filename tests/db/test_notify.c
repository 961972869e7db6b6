/*
 * test_notify.c: bulkjobs-notify against a real MariaDB, a real webhook
 * receiver (tests/notify_receiver.py, which checks signatures itself with
 * Python's hmac) and a real SMTP server (aiosmtpd, tests/smtp_sink.py), all
 * on loopback. Jobs and notifications are planted by SQL; the program is
 * run as the reaper runs it. "Time passing" is a due date moved by SQL.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "harness.h"
#include "job.h"
#include "notify.h"
#include "notify_hist.h"
#include "render_notify.h"

static const char SECRET[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

static struct bj_db *db;
static char dir[600], conf_path[700], hook[64];
static int hook_port, smtp_port;
static long long flaky_job;	/* the job of test_500_then_200 */
static pid_t helpers[8];
static int nhelpers;

static const char Q_JOB[] =
    "INSERT INTO jobs (token, kind, owner, title, state, n_total, n_succeeded, n_failed,"
    " created_at, updated_at, started_at, finished_at, deadline_at, artifact,"
    " artifact_expires_at, retention_seconds, max_attempts, lease_seconds)"
    " VALUES (?, 'export', 'alice', ?, ?, 3, 2, 1, NOW(6), NOW(6), NOW(6), NOW(6),"
    " NOW(6) + INTERVAL 1 DAY, 'exports/a.zip', NOW(6) + INTERVAL 7 DAY, 604800, 3, 300)";
static const char Q_ITEM[] =
    "INSERT INTO items (job_id, `key`, state, attempt, run_after, error)"
    " VALUES (?, ?, 'failed', 3, NOW(6), ?)";
static const char Q_NOTE[] =
    "INSERT INTO notifications (job_id, event, channel, target_hash, target, next_attempt_at,"
    " created_at) VALUES (?, ?, ?, SHA2(?, 256), ?, NOW(6), NOW(6))";
static const char Q_TARGET[] =
    "INSERT INTO job_targets (job_id, channel, target_hash, target) VALUES (?, ?, SHA2(?, 256), ?)";
static const char Q_LATER[] =
    "UPDATE notifications SET next_attempt_at = NOW(6) + INTERVAL 1 DAY WHERE state = 'pending'";
static const char Q_DUE[] =
    "UPDATE notifications SET next_attempt_at = NOW(6) WHERE id = ?";

/* Start a Python helper from the source tree and wait for its port. */
static pid_t
start_helper(const char *script, int port, const char *arg3)
{
	const char *src = getenv("BJ_SRCDIR");
	char path[700], port_s[16], log[700];
	/* Debian's python3-aiosmtpd belongs to the system interpreter */
	char *argv[] = { "/usr/bin/python3", path, port_s, dir, (char *)arg3, NULL };
	pid_t pid;

	snprintf(path, sizeof path, "%s/tests/%s", src ? src : ".", script);
	snprintf(port_s, sizeof port_s, "%d", port);
	snprintf(log, sizeof log, "%s/%s.log", dir, script);
	pid = bj_test_spawn(argv, log);
	helpers[nhelpers++] = pid;
	for (int i = 0; i < 200 && !bj_test_port_open(port); i++)
		usleep(50000);
	if (!bj_test_port_open(port))
		fprintf(stderr, "test_notify: %s did not come up; see %s\n", script, log);
	return pid;
}

/* Stop one helper and its process group, and forget it. */
static void
stop_helper(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	for (int i = 0; i < nhelpers; i++)
		if (helpers[i] == pid)
			helpers[i] = 0;
}

/* Stop every helper still running (also at exit). */
static void
stop_all(void)
{
	for (int i = 0; i < nhelpers; i++)
		stop_helper(helpers[i]);
}

/*
 * Write a config for the notifier (mode 0600: it holds the webhook secret).
 * The receivers listen on loopback, which the fence refuses by default, so
 * the config allows loopback; webhook_extra lines come after and may say
 * "allow_networks =" to take that back.
 */
static int
write_conf(const char *path, const char *mail_transport, const char *webhook_extra)
{
	struct bj_conf *c = bj_test_conf("notify");
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fchmod(fileno(f), 0600);
	fprintf(f, "[database]\nsocket = %s\nuser = root\nname = %s\n"
	    "[http]\npublic_url = https://jobs.example.org/bulkjobs\n"
	    "[mail]\ntransport = %s\nfrom = bulkjobs@example.org\n"
	    "[webhook]\nsecret = %s\ntimeout = 2\nallow_networks = 127.0.0.0/8, ::1/128\n%s\n"
	    "[notify]\nbackoff = 5, 300\nmax_attempts = 3\nparallel = 4\n",
	    c->db_socket, c->db_name, mail_transport, SECRET, webhook_extra ? webhook_extra : "");
	return fclose(f) == 0 ? 0 : -1;
}

/* The database, the receiver, the SMTP server and the notifier's config. */
static int
init(void)
{
	char transport[64];

	db = bj_test_db("notify");
	snprintf(dir, sizeof dir, "%s", bj_test_path("notify"));
	mkdir(dir, 0755);
	unlink(bj_test_path("notify/received.jsonl"));
	unlink(bj_test_path("notify/mail.jsonl"));
	hook_port = bj_test_free_port();
	smtp_port = bj_test_free_port();
	snprintf(hook, sizeof hook, "http://127.0.0.1:%d", hook_port);
	atexit(stop_all);
	start_helper("notify_receiver.py", hook_port, SECRET);
	start_helper("smtp_sink.py", smtp_port, "");
	if (!bj_test_port_open(hook_port) || !bj_test_port_open(smtp_port))
		return -1;
	snprintf(conf_path, sizeof conf_path, "%s/bulkjobs.conf", dir);
	snprintf(transport, sizeof transport, "smtp://127.0.0.1:%d", smtp_port);
	return write_conf(conf_path, transport, NULL);
}

/* Stop the peers. */
static int
clean(void)
{
	stop_all();
	return 0;
}

/* Run bulkjobs-notify with conf, extra arguments and environment (may be NULL); its exit status. */
static int
run_notify_env(const char *env, const char *conf, const char *args)
{
	const char *bld = getenv("BJ_BUILDDIR");
	char *cmd = bj_xasprintf("%s%s%s/notifier/bulkjobs-notify -c '%s' %s >>'%s/notify.out' 2>&1",
	    env ? "env " : "", env ? env : "", bld ? bld : ".", conf, args ? args : "", dir);
	int st = system(cmd);

	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Run bulkjobs-notify with conf and extra arguments; its exit status. */
static int
run_notify(const char *conf, const char *args)
{
	return run_notify_env(NULL, conf, args);
}

/* Plant a finished job with one failed item; its id. */
static long long
plant_job(const char *title, const char *state)
{
	static int seq;
	char token[40];
	long long id;

	snprintf(token, sizeof token, "tok%029d", ++seq);
	CU_ASSERT_EQUAL_FATAL(bj_db_execp(db, Q_JOB, NULL, BJ_PARAMS(BJ_P_STR(token),
	    BJ_P_STR(title), BJ_P_STR(state))), 0);
	id = (long long)bj_db_insert_id(db);
	CU_ASSERT_EQUAL_FATAL(bj_db_execp(db, Q_ITEM, NULL, BJ_PARAMS(BJ_P_INT(id),
	    BJ_P_STR("orders-2026.csv"), BJ_P_STR("row 17: bad date"))), 0);
	return id;
}

/* Plant a due notification; its id. */
static long long
plant_note(long long job, const char *event, const char *channel, const char *target)
{
	CU_ASSERT_EQUAL_FATAL(bj_db_execp(db, Q_NOTE, NULL, BJ_PARAMS(BJ_P_INT(job),
	    BJ_P_STR(event), BJ_P_STR(channel), BJ_P_STR(target), BJ_P_STR(target))), 0);
	return (long long)bj_db_insert_id(db);
}

/* A one-value query, printf-style. */
#define scalar(...)	bj_test_scalarf(db, __VA_ARGS__)

/* The lines of a JSONL file whose member key equals value (all when key is NULL); caller puts. */
static struct json_object *
records(const char *file, const char *key, const char *value)
{
	struct json_object *out = json_object_new_array();
	FILE *f = fopen(bj_test_path(file), "r");
	char line[65536];

	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		struct json_object *o = json_tokener_parse(line), *v;
		if (o == NULL)
			continue;
		if (key == NULL || (json_object_object_get_ex(o, key, &v) &&
		    json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), value) == 0))
			json_object_array_add(out, o);
		else
			json_object_put(o);
	}
	if (f != NULL)
		fclose(f);
	return out;
}

/* How many webhooks with this webhook-id the receiver got. */
static int
received(long long note)
{
	char id[32];
	struct json_object *r;
	int n;

	snprintf(id, sizeof id, "msg_%lld", note);
	r = records("notify/received.jsonl", "id", id);
	n = (int)json_object_array_length(r);
	json_object_put(r);
	return n;
}

/* A string member of o, or "" when absent or not a string. */
static const char *
str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

/* The mails whose To header is exactly addr; caller puts. */
static struct json_object *
mails_to(const char *addr)
{
	return records("notify/mail.jsonl", "to", addr);
}

/* How the timeline names a target: a webhook by its origin, an address as it is. */
static void
test_target_shown(void)
{
	static const struct {
		const char	*channel, *target, *shown;
	} cases[] = {
		{ "webhook", "https://hooks.example.com/services/T00/B00/XXXX?token=s3cret",
		  "https://hooks.example.com/\u2026" },
		{ "webhook", "http://10.0.0.7:8080/hook", "http://10.0.0.7:8080/\u2026" },
		{ "webhook", "https://user:pw@example.com/", "https://example.com/\u2026" },
		{ "webhook", "not a url at all", "(a webhook URL that could not be read)" },
		{ "email", "alice@example.org", "a\u2026@example.org" },
		{ "email", "\u00e9lise@example.org", "\u00e9\u2026@example.org" },
		{ "email", "x@example.org", "x\u2026@example.org" },
		{ "email", "@example.org", "(an address that could not be read)" },
		{ "email", "alice@", "(an address that could not be read)" },
		{ "webhook", NULL, "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *shown = bj_notify_target_shown(cases[i].channel, cases[i].target);

		CU_ASSERT_STRING_EQUAL(shown, cases[i].shown);
		free(shown);
	}
}

/* Done when: a finished job produces one signed webhook that verifies, and one email. */
static void
test_finished_job_one_webhook_one_email(void)
{
	long long job = plant_job("Orders 2026", "succeeded");
	char url[128];
	long long wh, em;
	struct json_object *r, *rec, *body, *data, *mails, *m;

	snprintf(url, sizeof url, "%s/ok", hook);
	wh = plant_note(job, "job.succeeded", "webhook", url);
	em = plant_note(job, "job.succeeded", "email", "alice@example.org");
	CU_ASSERT_EQUAL(run_notify(conf_path, "-v"), 0);

	CU_ASSERT_EQUAL(received(wh), 1);
	snprintf(url, sizeof url, "msg_%lld", wh);
	r = records("notify/received.jsonl", "id", url);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(r), 1);
	rec = json_object_array_get_idx(r, 0);
	CU_ASSERT_TRUE(json_object_get_boolean(json_object_object_get(rec, "sig_ok")));
	CU_ASSERT_STRING_EQUAL(str(rec, "content_type"), "application/json");
	CU_ASSERT_EQUAL(strspn(str(rec, "timestamp"), "0123456789"), strlen(str(rec, "timestamp")));
	body = json_tokener_parse(str(rec, "body"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	CU_ASSERT_STRING_EQUAL(str(body, "type"), "job.succeeded");
	CU_ASSERT_EQUAL(str(body, "timestamp")[4], '-');
	data = json_object_object_get(body, "data");
	CU_ASSERT_EQUAL(json_object_get_int64(json_object_object_get(data, "id")), job);
	CU_ASSERT_STRING_EQUAL(str(data, "state"), "succeeded");
	CU_ASSERT_STRING_EQUAL(str(data, "title"), "Orders 2026");
	CU_ASSERT_EQUAL(json_object_get_int64(json_object_object_get(
	    json_object_object_get(data, "counts"), "failed")), 1);
	CU_ASSERT_EQUAL(strncmp(str(json_object_object_get(data, "links"), "status_page"),
	    "https://jobs.example.org/bulkjobs/jobs/tok", 42), 0);
	json_object_put(body);
	json_object_put(r);

	mails = mails_to("alice@example.org");
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(mails), 1);
	m = json_object_array_get_idx(mails, 0);
	CU_ASSERT_STRING_EQUAL(str(m, "subject"), "[bulkjobs] Orders 2026: Succeeded");
	CU_ASSERT_STRING_EQUAL(str(m, "mail_from"), "bulkjobs@example.org");
	CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(
	    json_object_object_get(m, "rcpt_tos"), 0)), "alice@example.org");
	CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(m, "defects")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "message_id"), "@example.org>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "date"), "+0000"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "text"), "Job: Orders 2026\nKind: export\nState: Succeeded\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "text"), "100% done: 3 of 3 items ended\n"
	    "(2 succeeded, 1 failed, 0 cancelled, 0 in progress, 0 waiting)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "text"), "orders-2026.csv: row 17: bad date"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "text"), "Status page: https://jobs.example.org/bulkjobs/jobs/tok"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "text"), "/download\n  Available until "));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "html"), "<strong>Orders 2026</strong>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "html"), "href=\"https://jobs.example.org/bulkjobs/jobs/tok"));
	json_object_put(mails);

	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'sent'"
	    " AND attempts = 1 AND last_status = 200", wh), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'sent'", em), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notification_attempts WHERE notification_id = %lld"
	    " AND attempt = 1 AND status = 200 AND error IS NULL", wh), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM job_events WHERE job_id = %lld AND type = 'notified'", job), 2);
	/* the timeline names the webhook by its origin only (a path may be its secret) */
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM job_events WHERE job_id = %lld AND type = 'notified'"
	    " AND detail = 'job.succeeded webhook sent to %s/\u2026 (attempt 1)'", job, hook), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM job_events WHERE job_id = %lld AND type = 'notified'"
	    " AND detail = 'job.succeeded email sent to a\u2026@example.org (attempt 1)'", job), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM job_events WHERE job_id = %lld"
	    " AND detail LIKE '%%/ok%%'", job), 0);

	/* running the notifier again sends nothing twice */
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 1);
	mails = mails_to("alice@example.org");
	CU_ASSERT_EQUAL(json_object_array_length(mails), 1);
	json_object_put(mails);
}

/* The body of note's one signed delivery to the receiver, parsed (caller puts), or NULL. */
static struct json_object *
delivered_body(long long note)
{
	char id[64];
	struct json_object *r, *body = NULL;

	snprintf(id, sizeof id, "msg_%lld", note);
	r = records("notify/received.jsonl", "id", id);
	CU_ASSERT_EQUAL(json_object_array_length(r), 1);
	if (json_object_array_length(r) == 1) {
		CU_ASSERT_TRUE(json_object_get_boolean(json_object_object_get(
		    json_object_array_get_idx(r, 0), "sig_ok")));
		body = json_tokener_parse(str(json_object_array_get_idx(r, 0), "body"));
	}
	json_object_put(r);
	return body;
}

/* The job model's own state change records the notifications; the notifier delivers them. */
static void
test_from_a_state_change(void)
{
	long long job = plant_job("Cancelled export", "running"), wh, em;
	char url[128];
	struct json_object *body, *mails;

	snprintf(url, sizeof url, "%s/ok", hook);
	CU_ASSERT_EQUAL_FATAL(bj_db_execp(db, Q_TARGET, NULL, BJ_PARAMS(BJ_P_INT(job),
	    BJ_P_STR("webhook"), BJ_P_STR(url), BJ_P_STR(url))), 0);
	CU_ASSERT_EQUAL_FATAL(bj_db_execp(db, Q_TARGET, NULL, BJ_PARAMS(BJ_P_INT(job),
	    BJ_P_STR("email"), BJ_P_STR("erin@example.org"), BJ_P_STR("erin@example.org"))),
	    0);
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL_FATAL(bj_job_finish(db, job, BJ_JOB_CANCELLED, "cancelled by the test"), BJ_OK);
	CU_ASSERT_EQUAL_FATAL(bj_db_commit(db), 0);
	wh = scalar("SELECT id FROM notifications WHERE job_id = %lld AND channel = 'webhook'"
	    " AND event = 'job.cancelled'", job);
	em = scalar("SELECT id FROM notifications WHERE job_id = %lld AND channel = 'email'"
	    " AND event = 'job.cancelled'", job);
	CU_ASSERT_TRUE_FATAL(wh > 0 && em > 0);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 1);
	body = delivered_body(wh);
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	CU_ASSERT_STRING_EQUAL(str(body, "type"), "job.cancelled");
	CU_ASSERT_STRING_EQUAL(str(json_object_object_get(body, "data"), "state"), "cancelled");
	json_object_put(body);
	mails = mails_to("erin@example.org");
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(mails), 1);
	CU_ASSERT_STRING_EQUAL(str(json_object_array_get_idx(mails, 0), "subject"),
	    "[bulkjobs] Cancelled export: Cancelled");
	json_object_put(mails);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE job_id = %lld AND state = 'sent'", job), 2);

	/*
	 * Recording the same event again (a retried transaction, a repair) is
	 * harmless: no second row, the sent ones stay sent, nothing is resent.
	 */
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL(bj_outbox_record(db, job, "job.cancelled"), BJ_OK);
	CU_ASSERT_EQUAL_FATAL(bj_db_commit(db), 0);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE job_id = %lld", job), 2);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE job_id = %lld AND state = 'sent'"
	    " AND attempts = 1", job), 2);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 1);
	mails = mails_to("erin@example.org");
	CU_ASSERT_EQUAL(json_object_array_length(mails), 1);
	json_object_put(mails);
}

/*
 * A job retried before its notifier ran: the webhook and the email still
 * describe the job as it ended (its state, round and counts), the email
 * says it was retried since and offers neither the next round's failures
 * nor a download of a file the next round is to make again.
 */
static void
test_retried_before_delivery(void)
{
	long long job = plant_job("Retried export", "running"), wh, em;
	char url[128];
	struct json_object *body, *data, *counts, *mails, *m;

	snprintf(url, sizeof url, "%s/ok", hook);
	CU_ASSERT_EQUAL_FATAL(bj_db_execp(db, Q_TARGET, NULL, BJ_PARAMS(BJ_P_INT(job),
	    BJ_P_STR("webhook"), BJ_P_STR(url), BJ_P_STR(url))), 0);
	CU_ASSERT_EQUAL_FATAL(bj_db_execp(db, Q_TARGET, NULL, BJ_PARAMS(BJ_P_INT(job),
	    BJ_P_STR("email"), BJ_P_STR("rita@example.org"), BJ_P_STR("rita@example.org"))), 0);
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL_FATAL(bj_job_finish(db, job, BJ_JOB_FAILED, "failed by the test"), BJ_OK);
	CU_ASSERT_EQUAL_FATAL(bj_db_commit(db), 0);
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL_FATAL(bj_job_retry_round(db, job, 0, "retried by the test"), BJ_OK);
	CU_ASSERT_EQUAL_FATAL(bj_db_commit(db), 0);
	/* the job has moved on: round 2, running again, its failure counted no more */
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM jobs WHERE id = %lld AND round = 2"
	    " AND state IN ('queued', 'running') AND n_failed = 0 AND finished_at IS NULL", job), 1);
	wh = scalar("SELECT id FROM notifications WHERE job_id = %lld AND channel = 'webhook'"
	    " AND event = 'job.failed' AND round = 1", job);
	em = scalar("SELECT id FROM notifications WHERE job_id = %lld AND channel = 'email'"
	    " AND event = 'job.failed' AND round = 1", job);
	CU_ASSERT_TRUE_FATAL(wh > 0 && em > 0);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);

	CU_ASSERT_EQUAL(received(wh), 1);
	body = delivered_body(wh);
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	CU_ASSERT_STRING_EQUAL(str(body, "type"), "job.failed");
	data = json_object_object_get(body, "data");
	CU_ASSERT_STRING_EQUAL(str(data, "state"), "failed");
	CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(data, "round")), 1);
	counts = json_object_object_get(data, "counts");
	CU_ASSERT_EQUAL(json_object_get_int64(json_object_object_get(counts, "succeeded")), 2);
	CU_ASSERT_EQUAL(json_object_get_int64(json_object_object_get(counts, "failed")), 1);
	CU_ASSERT_EQUAL(json_object_get_int64(json_object_object_get(counts, "pending")), 0);
	CU_ASSERT_EQUAL(strlen(str(data, "finished_at")), strlen("2026-12-05T09:29:34.123456Z"));
	CU_ASSERT_EQUAL(str(data, "finished_at")[26], 'Z');
	json_object_put(body);

	mails = mails_to("rita@example.org");
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(mails), 1);
	m = json_object_array_get_idx(mails, 0);
	CU_ASSERT_STRING_EQUAL(str(m, "subject"), "[bulkjobs] Retried export: Failed");
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "text"), "State: Failed\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "text"), "100% done: 3 of 3 items ended\n"
	    "(2 succeeded, 1 failed, 0 cancelled, 0 in progress, 0 waiting)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "text"), "The job has been retried since."));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "html"), "The job has been retried since."));
	CU_ASSERT_PTR_NULL(strstr(str(m, "text"), "Failed items"));
	CU_ASSERT_PTR_NULL(strstr(str(m, "text"), "/download"));
	json_object_put(mails);
}

/* A job in Japanese gets its email in Japanese (the pages' catalog). */
static void
test_email_in_the_jobs_language(void)
{
	const char *src = getenv("BJ_SRCDIR");
	char cmd[1500];
	long long job = plant_job("月次レポート", "succeeded"), em;
	struct json_object *mails, *m;

	snprintf(cmd, sizeof cmd, "mkdir -p '%s/ja/LC_MESSAGES' && msgfmt -o "
	    "'%s/ja/LC_MESSAGES/%s.mo' '%s/po/ja.po'", bj_test_path("locale"),
	    bj_test_path("locale"), PACKAGE, src ? src : ".");
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	CU_ASSERT_EQUAL_FATAL(setenv("BULKJOBS_LOCALEDIR", bj_test_path("locale"), 1), 0);
	snprintf(cmd, sizeof cmd, "UPDATE jobs SET language = 'ja' WHERE id = %lld", job);
	bj_test_sql(db, cmd);
	em = plant_note(job, "job.succeeded", "email", "hana@example.org");
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	unsetenv("BULKJOBS_LOCALEDIR");
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'sent'", em), 1);
	mails = mails_to("hana@example.org");
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(mails), 1);
	m = json_object_array_get_idx(mails, 0);
	CU_ASSERT_STRING_EQUAL(str(m, "subject"), "[bulkjobs] 月次レポート: 完了");
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "text"), "ジョブ: 月次レポート\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "text"), "ステータスページ: https://jobs.example.org/bulkjobs/jobs/tok"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "html"), "lang=\"ja\""));
	json_object_put(mails);
}

/* Done when: a 500 gets the same webhook-id again after the back-off, nothing more after a 200. */
static void
test_500_then_200(void)
{
	long long job = flaky_job = plant_job("flaky", "failed");
	char url[128], id[32];
	long long wh;
	struct json_object *r;
	FILE *f = fopen(bj_test_path("notify/flaky"), "w");

	fputs("500\n", f);
	fclose(f);
	snprintf(url, sizeof url, "%s/flaky", hook);
	wh = plant_note(job, "job.failed", "webhook", url);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'pending'"
	    " AND attempts = 1 AND last_status = 500 AND last_error = 'HTTP 500'", wh), 1);
	/* rescheduled by the first back-off step (5 s, less 10 % jitter at most) */
	CU_ASSERT_EQUAL(scalar("SELECT next_attempt_at > NOW(6) + INTERVAL 4 SECOND"
	    " FROM notifications WHERE id = %lld", wh), 1);
	/* not due yet: a second run leaves it alone */
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 1);

	f = fopen(bj_test_path("notify/flaky"), "w");
	fputs("200\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(bj_db_execp(db, Q_DUE, NULL, BJ_PARAMS(BJ_P_INT(wh))), 0);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 2);
	snprintf(id, sizeof id, "msg_%lld", wh);
	r = records("notify/received.jsonl", "id", id);
	for (size_t i = 0; i < json_object_array_length(r); i++) {
		struct json_object *rec = json_object_array_get_idx(r, i);
		CU_ASSERT_TRUE(json_object_get_boolean(json_object_object_get(rec, "sig_ok")));
	}
	json_object_put(r);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'sent'"
	    " AND attempts = 2", wh), 1);
	CU_ASSERT_EQUAL(scalar("SELECT GROUP_CONCAT(status ORDER BY attempt) = '500,200'"
	    " FROM notification_attempts WHERE notification_id = %lld", wh), 1);
	/* nothing more once it answered 200, even when asked to look again */
	CU_ASSERT_EQUAL(bj_db_execp(db, Q_DUE, NULL, BJ_PARAMS(BJ_P_INT(wh))), 0);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 2);
}

/* Each attempt's outcome is there for the job's JSON and page. */
static void
test_history(void)
{
	struct bj_notify_hists *h = NULL;
	struct json_object *j, *n, *log;

	CU_ASSERT_EQUAL_FATAL(bj_notify_hist_load(db, flaky_job, &h), BJ_OK);
	CU_ASSERT_EQUAL_FATAL(h->n, 1);
	CU_ASSERT_STRING_EQUAL(h->items[0].state, "sent");
	CU_ASSERT_STRING_EQUAL(h->items[0].channel, "webhook");
	CU_ASSERT_EQUAL_FATAL(h->items[0].n_tries, 2);
	CU_ASSERT_EQUAL(h->items[0].tries[0].status, 500);
	CU_ASSERT_STRING_EQUAL(h->items[0].tries[0].error, "HTTP 500");
	CU_ASSERT_EQUAL(h->items[0].tries[1].status, 200);
	CU_ASSERT_PTR_NULL(h->items[0].tries[1].error);
	j = bj_render_notifications(h);
	CU_ASSERT_EQUAL(json_object_array_length(j), 1);
	n = json_object_array_get_idx(j, 0);
	CU_ASSERT_STRING_EQUAL(str(n, "event"), "job.failed");
	CU_ASSERT_PTR_NULL(json_object_object_get(n, "next_attempt_at"));
	log = json_object_object_get(n, "attempts_log");
	CU_ASSERT_EQUAL(json_object_array_length(log), 2);
	CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(json_object_array_get_idx(log, 0),
	    "status")), 500);
	CU_ASSERT_EQUAL(str(json_object_array_get_idx(log, 1), "at")[4], '-');
	json_object_put(j);
	bj_notify_hist_free(h);
	/* a job without notifications has an empty history */
	CU_ASSERT_EQUAL_FATAL(bj_notify_hist_load(db, 999999, &h), BJ_OK);
	CU_ASSERT_EQUAL(h->n, 0);
	bj_notify_hist_free(h);
}

/* Done when: 410 is not retried. */
static void
test_410_is_dead_at_once(void)
{
	long long job = plant_job("gone", "cancelled");
	char url[128];
	long long wh;

	snprintf(url, sizeof url, "%s/gone", hook);
	wh = plant_note(job, "job.cancelled", "webhook", url);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'dead'"
	    " AND attempts = 1 AND last_status = 410", wh), 1);
	CU_ASSERT_EQUAL(bj_db_execp(db, Q_DUE, NULL, BJ_PARAMS(BJ_P_INT(wh))), 0);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM job_events WHERE job_id = %lld AND type = 'notify_failed'", job), 1);
}

/* Other failures retry until [notify] max_attempts, then the row is dead; "deliver again" gives as many more. */
static void
test_max_attempts_then_dead(void)
{
	long long job = plant_job("always failing", "failed");
	char url[128];
	long long wh;

	snprintf(url, sizeof url, "%s/fail", hook);
	wh = plant_note(job, "job.failed", "webhook", url);
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
		CU_ASSERT_EQUAL(bj_db_execp(db, Q_DUE, NULL, BJ_PARAMS(BJ_P_INT(wh))), 0);
	}
	CU_ASSERT_EQUAL(received(wh), 3);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'dead'"
	    " AND attempts = 3 AND last_error = 'HTTP 500'", wh), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notification_attempts WHERE notification_id = %lld", wh), 3);
	/* delivered again (the console): max_attempts more, numbered on, the history kept */
	CU_ASSERT_EQUAL(bj_notify_redeliver(db, job, wh, "by test"), BJ_OK);
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
		CU_ASSERT_EQUAL(bj_db_execp(db, Q_DUE, NULL, BJ_PARAMS(BJ_P_INT(wh))), 0);
	}
	CU_ASSERT_EQUAL(received(wh), 6);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'dead'"
	    " AND attempts = 6 AND attempt_base = 3", wh), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(DISTINCT attempt) FROM notification_attempts"
	    " WHERE notification_id = %lld AND attempt BETWEEN 1 AND 6", wh), 6);
}

/* A Retry-After answer decides when the next attempt is. */
static void
test_retry_after_is_honoured(void)
{
	long long job = plant_job("busy receiver", "succeeded");
	char url[128];
	long long wh;

	snprintf(url, sizeof url, "%s/retry-after", hook);
	wh = plant_note(job, "job.succeeded", "webhook", url);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 1);
	CU_ASSERT_EQUAL(scalar("SELECT next_attempt_at > NOW(6) + INTERVAL 3000 SECOND"
	    " AND state = 'pending' AND last_status = 503 FROM notifications WHERE id = %lld", wh), 1);
}

/* A receiver that is down for a while gets the notification later, exactly once. */
static void
test_receiver_down_then_up(void)
{
	long long job = plant_job("late receiver", "succeeded");
	int port = bj_test_free_port();
	char url[128];
	long long wh;
	pid_t late;

	snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", port);
	wh = plant_note(job, "job.succeeded", "webhook", url);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'pending'"
	    " AND attempts = 1 AND last_status IS NULL AND last_error LIKE 'Couldn''t connect%%'", wh), 1);
	CU_ASSERT_EQUAL(received(wh), 0);

	late = start_helper("notify_receiver.py", port, SECRET);
	CU_ASSERT_EQUAL(bj_db_execp(db, Q_DUE, NULL, BJ_PARAMS(BJ_P_INT(wh))), 0);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(bj_db_execp(db, Q_DUE, NULL, BJ_PARAMS(BJ_P_INT(wh))), 0);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'sent'"
	    " AND attempts = 2", wh), 1);
	stop_helper(late);
}

/* An SMTP server down for a while: the email is retried and arrives once. */
static void
test_smtp_down_then_up(void)
{
	long long job = plant_job("late mail server", "succeeded");
	int port = bj_test_free_port();
	char conf2[700], transport[64];
	long long em;
	struct json_object *mails;
	pid_t late;

	snprintf(conf2, sizeof conf2, "%s/smtp-late.conf", dir);
	snprintf(transport, sizeof transport, "smtp://127.0.0.1:%d", port);
	CU_ASSERT_EQUAL_FATAL(write_conf(conf2, transport, NULL), 0);
	em = plant_note(job, "job.succeeded", "email", "late-mail@example.org");
	CU_ASSERT_EQUAL(run_notify(conf2, NULL), 0);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'pending'"
	    " AND attempts = 1 AND last_error LIKE 'Couldn''t connect%%'", em), 1);
	mails = mails_to("late-mail@example.org");
	CU_ASSERT_EQUAL(json_object_array_length(mails), 0);
	json_object_put(mails);

	late = start_helper("smtp_sink.py", port, "");
	CU_ASSERT_EQUAL(bj_db_execp(db, Q_DUE, NULL, BJ_PARAMS(BJ_P_INT(em))), 0);
	CU_ASSERT_EQUAL(run_notify(conf2, NULL), 0);
	CU_ASSERT_EQUAL(bj_db_execp(db, Q_DUE, NULL, BJ_PARAMS(BJ_P_INT(em))), 0);
	CU_ASSERT_EQUAL(run_notify(conf2, NULL), 0);
	mails = mails_to("late-mail@example.org");
	CU_ASSERT_EQUAL(json_object_array_length(mails), 1);
	json_object_put(mails);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'sent'"
	    " AND attempts = 2", em), 1);
	stop_helper(late);
}

/* A receiver slower than [webhook] timeout is a failed attempt, retried later. */
static void
test_timeout_retries(void)
{
	long long job = plant_job("slow receiver", "succeeded");
	char url[128];
	long long wh;

	snprintf(url, sizeof url, "%s/hang", hook);
	wh = plant_note(job, "job.succeeded", "webhook", url);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'pending'"
	    " AND last_error LIKE 'Timeout was reached%%'", wh), 1);
	/* keep it out of the later tests' passes */
	CU_ASSERT_EQUAL(bj_db_execp(db, Q_LATER, NULL, NULL, 0), 0);
}

/* Two notifiers at once (two hosts): every row is delivered exactly once. */
static void
test_two_notifiers_at_once(void)
{
	const char *bld = getenv("BJ_BUILDDIR");
	long long job = plant_job("parallel", "succeeded"), first = 0, id;
	char url[128], *cmd;
	int st;

	for (int i = 0; i < 40; i++) {
		snprintf(url, sizeof url, "%s/ok?n=%d", hook, i);
		id = plant_note(job, "job.succeeded", "webhook", url);
		if (i == 0)
			first = id;
	}
	cmd = bj_xasprintf("N='%s/notifier/bulkjobs-notify -c %s'; $N --limit 7 & $N & $N & wait",
	    bld ? bld : ".", conf_path);
	st = system(cmd);
	free(cmd);
	CU_ASSERT_EQUAL(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	for (id = first; id < first + 40; id++)
		CU_ASSERT_EQUAL(received(id), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE job_id = %lld AND state = 'sent'"
	    " AND attempts = 1", job), 40);
}

/* A leased row is not claimed again; a notifier that lost its lease records nothing. */
static void
test_lease(void)
{
	struct bj_conf *conf = bj_test_conf("notify");
	long long job = plant_job("lease", "succeeded"), wh;
	struct bj_note **notes = NULL;
	char url[128];
	int n;

	CU_ASSERT_EQUAL(bj_db_execp(db, Q_LATER, NULL, NULL, 0), 0);
	snprintf(url, sizeof url, "%s/ok", hook);
	wh = plant_note(job, "job.succeeded", "webhook", url);
	n = bj_notify_claim(db, 10, 600, &notes);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(notes[0]->id, wh);
	CU_ASSERT_EQUAL(notes[0]->attempt, 1);
	CU_ASSERT_EQUAL(bj_notify_load(db, notes[0]), 0);
	CU_ASSERT_STRING_EQUAL(notes[0]->job->title, "lease");
	/* while the lease holds, another notifier leaves the row alone */
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 0);
	/* the lease runs out (the first notifier hung): another one delivers */
	CU_ASSERT_EQUAL(bj_db_execp(db, Q_DUE, NULL, BJ_PARAMS(BJ_P_INT(wh))), 0);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 1);
	/* the first one wakes up: its outcome is not recorded */
	bj_note_set(notes[0], BJ_NOTE_RETRY, 500, "HTTP 500");
	CU_ASSERT_EQUAL(bj_notify_record(db, conf, notes[0]), 0);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'sent'"
	    " AND attempts = 2 AND last_status = 200", wh), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notification_attempts WHERE notification_id = %lld", wh), 1);
	bj_notes_free(notes, n);
}

/* Done when: a title carrying \r\nBcc: adds no header; a bad address is never used. */
static void
test_header_injection(void)
{
	long long job = plant_job("Report\r\nBcc: eve@evil.test\r\nX-Evil: 1", "succeeded");
	long long em, bad;
	struct json_object *mails, *m, *names;

	em = plant_note(job, "job.succeeded", "email", "bob@example.org");
	bad = plant_note(job, "job.succeeded", "email", "carol@example.org\r\nBcc: eve@evil.test");
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	mails = mails_to("bob@example.org");
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(mails), 1);
	m = json_object_array_get_idx(mails, 0);
	names = json_object_object_get(m, "header_names");
	for (size_t i = 0; i < json_object_array_length(names); i++) {
		const char *n = json_object_get_string(json_object_array_get_idx(names, i));
		CU_ASSERT_NOT_EQUAL(strcasecmp(n, "Bcc"), 0);
		CU_ASSERT_NOT_EQUAL(strcasecmp(n, "X-Evil"), 0);
	}
	CU_ASSERT_EQUAL(json_object_array_length(json_object_object_get(m, "rcpt_tos")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(str(m, "subject"), "Bcc: eve@evil.test"));
	json_object_put(mails);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'sent'", em), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'dead'"
	    " AND last_error = 'the recipient address is not valid'", bad), 1);
	mails = records("notify/mail.jsonl", NULL, NULL);
	for (size_t i = 0; i < json_object_array_length(mails); i++) {
		struct json_object *rc = json_object_object_get(json_object_array_get_idx(mails, i), "rcpt_tos");
		for (size_t k = 0; k < json_object_array_length(rc); k++)
			CU_ASSERT_PTR_NULL(strstr(json_object_get_string(json_object_array_get_idx(rc, k)), "evil"));
	}
	json_object_put(mails);
}

/* [webhook] deny_networks is checked against the address connected to; allow_hosts by name. */
static void
test_fences(void)
{
	char path[700], transport[64], url[128];
	long long job = plant_job("fenced", "succeeded"), a, b;

	snprintf(transport, sizeof transport, "smtp://127.0.0.1:%d", smtp_port);
	snprintf(path, sizeof path, "%s/fenced.conf", dir);
	CU_ASSERT_EQUAL_FATAL(write_conf(path, transport, "deny_networks = 10.0.0.0/8, 127.0.0.0/8"), 0);
	snprintf(url, sizeof url, "http://localhost:%d/ok", hook_port);
	a = plant_note(job, "job.succeeded", "webhook", url);
	CU_ASSERT_EQUAL(run_notify(path, NULL), 0);
	CU_ASSERT_EQUAL(received(a), 0);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'dead'"
	    " AND last_error = 'the address is in [webhook] deny_networks'", a), 1);

	CU_ASSERT_EQUAL_FATAL(write_conf(path, transport, "allow_hosts = hooks.example.org, .example.net"), 0);
	snprintf(url, sizeof url, "%s/ok", hook);
	b = plant_note(job, "job.succeeded", "webhook", url);
	CU_ASSERT_EQUAL(run_notify(path, NULL), 0);
	CU_ASSERT_EQUAL(received(b), 0);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'dead'"
	    " AND last_error = 'the host is not in [webhook] allow_hosts'", b), 1);
}

/* What the fence stores in last_error. */
static const char WHY_NEVER[] =
    "the address is unspecified, multicast or broadcast: never a webhook receiver";
static const char WHY_INTERNAL[] =
    "the address is internal (loopback, private, link-local, CGNAT or ULA);"
    " [webhook] allow_networks can allow it";
static const char WHY_DENIED[] = "the address is in [webhook] deny_networks";

/* 1 when notification id is dead with exactly why as its last error. */
static int
dead_because(long long id, const char *why)
{
	char *q = bj_xasprintf("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'dead'"
	    " AND last_error = '%s'", id, why);
	int ok = scalar("%s", q) == 1;

	if (!ok) {
		struct bj_rows *r = bj_db_query(db, "SELECT state, last_error FROM notifications"
		    " WHERE id = ?", "i", id);
		if (r != NULL && r->nrows == 1)
			fprintf(stderr, "test_notify: notification %lld: %s: %s\n", id,
			    bj_rows_get(r, 0, 0), bj_rows_get(r, 0, 1) ? bj_rows_get(r, 0, 1) : "-");
		bj_rows_free(r);
	}
	free(q);
	return ok;
}

/*
 * Every spelling of the local host from the probe, through the real
 * notifier to the real receiver on loopback: refused by default before any
 * connection (the receiver gets nothing, the reason is the fence's), sent
 * once loopback is allowed, and the unspecified addresses refused even when
 * allow_networks names every network (connecting to 0.0.0.0 would reach
 * the receiver).
 */
static void
test_fence_local_forms(void)
{
	static const struct {
		const char	*host;
		int		 unspecified;	/* never allowed */
		int		 v4;		/* the receiver (127.0.0.1) gets it once allowed */
	} forms[] = {
		{ "127.0.0.1", 0, 1 },
		{ "127.1", 0, 1 },
		{ "2130706433", 0, 1 },
		{ "0x7f000001", 0, 1 },
		{ "0177.0.0.1", 0, 1 },
		{ "localhost", 0, 1 },
		{ "[::ffff:127.0.0.1]", 0, 1 },
		{ "[::1]", 0, 0 },
		{ "0.0.0.0", 1, 0 },
		{ "0", 1, 0 },
		{ "[::]", 1, 0 },
		{ "[::ffff:0.0.0.0]", 1, 0 },
	};
	enum { N = sizeof forms / sizeof forms[0] };
	char path[700], transport[64], url[128];
	long long job = plant_job("local forms", "succeeded"), id[N];

	snprintf(transport, sizeof transport, "smtp://127.0.0.1:%d", smtp_port);
	snprintf(path, sizeof path, "%s/fence.conf", dir);
	CU_ASSERT_EQUAL(bj_db_exec(db, Q_LATER, NULL, ""), 0);

	/* the default: nothing local */
	CU_ASSERT_EQUAL_FATAL(write_conf(path, transport, "allow_networks ="), 0);
	for (int i = 0; i < N; i++) {
		snprintf(url, sizeof url, "http://%s:%d/ok", forms[i].host, hook_port);
		id[i] = plant_note(job, "job.succeeded", "webhook", url);
	}
	CU_ASSERT_EQUAL(run_notify(path, NULL), 0);
	for (int i = 0; i < N; i++) {
		if (received(id[i]) != 0 || !dead_because(id[i],
		    forms[i].unspecified ? WHY_NEVER : WHY_INTERNAL))
			CU_FAIL(forms[i].host);
	}

	/* every network allowed: loopback goes out, the unspecified addresses still do not */
	CU_ASSERT_EQUAL_FATAL(write_conf(path, transport, "allow_networks = 0.0.0.0/0, ::/0"), 0);
	for (int i = 0; i < N; i++) {
		snprintf(url, sizeof url, "http://%s:%d/ok", forms[i].host, hook_port);
		id[i] = plant_note(job, "job.failed", "webhook", url);
	}
	CU_ASSERT_EQUAL(run_notify(path, NULL), 0);
	for (int i = 0; i < N; i++) {
		if (forms[i].unspecified) {
			if (received(id[i]) != 0 || !dead_because(id[i], WHY_NEVER))
				CU_FAIL(forms[i].host);
		} else if (forms[i].v4) {
			if (received(id[i]) != 1 || scalar("SELECT COUNT(*) FROM notifications"
			    " WHERE id = %lld AND state = 'sent'", id[i]) != 1)
				CU_FAIL(forms[i].host);
		} else {
			/* [::1]: the fence lets it through; the receiver listens on IPv4 only */
			if (scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld"
			    " AND last_error LIKE 'the address%%'", id[i]) != 0)
				CU_FAIL(forms[i].host);
		}
	}
	CU_ASSERT_EQUAL(bj_db_exec(db, Q_LATER, NULL, ""), 0);
}

/* Fill ss with the numeric address text (a test fixture, not the fence's parsing). */
static const struct sockaddr *
sockaddr_of(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, text, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
	} else {
		CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET6, text,
		    &((struct sockaddr_in6 *)ss)->sin6_addr), 1);
		ss->ss_family = AF_INET6;
	}
	return (const struct sockaddr *)ss;
}

/*
 * The fence's verdict on addresses no test may send to (private, CGNAT,
 * link-local, public): the check the open-socket callback makes, on
 * sockaddrs, under three configurations.
 */
static void
test_fence_table(void)
{
	enum { OK, NEVER, INTERNAL, DENIED };
	static const struct {
		const char	*addr;
		int		 by_default;	/* no lists */
		int		 allowed;	/* allow_networks = 10.0.0.0/8, 0.0.0.0/0, ::/0 */
		int		 fenced;	/* and deny_networks = 10.9.0.0/16, 2001:db8:1::/48 */
	} rows[] = {
		{ "127.0.0.1", INTERNAL, OK, OK },
		{ "127.255.255.254", INTERNAL, OK, OK },
		{ "10.1.2.3", INTERNAL, OK, OK },
		{ "10.9.8.7", INTERNAL, OK, DENIED },
		{ "172.16.0.1", INTERNAL, OK, OK },
		{ "172.31.255.255", INTERNAL, OK, OK },
		{ "172.32.0.1", OK, OK, OK },
		{ "192.168.1.1", INTERNAL, OK, OK },
		{ "169.254.169.254", INTERNAL, OK, OK },
		{ "100.64.0.1", INTERNAL, OK, OK },
		{ "100.127.255.255", INTERNAL, OK, OK },
		{ "100.128.0.1", OK, OK, OK },
		{ "192.0.0.8", INTERNAL, OK, OK },
		{ "0.0.0.0", NEVER, NEVER, NEVER },
		{ "0.1.2.3", NEVER, NEVER, NEVER },
		{ "224.0.0.1", NEVER, NEVER, NEVER },
		{ "239.255.255.250", NEVER, NEVER, NEVER },
		{ "255.255.255.255", NEVER, NEVER, NEVER },
		{ "203.0.113.7", OK, OK, OK },
		{ "::1", INTERNAL, OK, OK },
		{ "::", NEVER, NEVER, NEVER },
		{ "::127.0.0.1", INTERNAL, OK, OK },
		{ "fe80::1", INTERNAL, OK, OK },
		{ "fc00::1", INTERNAL, OK, OK },
		{ "fd12:3456::1", INTERNAL, OK, OK },
		{ "fec0::1", INTERNAL, OK, OK },
		{ "ff02::1", NEVER, NEVER, NEVER },
		{ "::ffff:127.0.0.1", INTERNAL, OK, OK },
		{ "::ffff:10.9.8.7", INTERNAL, OK, DENIED },
		{ "::ffff:169.254.169.254", INTERNAL, OK, OK },
		{ "::ffff:100.64.1.1", INTERNAL, OK, OK },
		{ "::ffff:0.0.0.0", NEVER, NEVER, NEVER },
		{ "::ffff:255.255.255.255", NEVER, NEVER, NEVER },
		{ "::ffff:203.0.113.7", OK, OK, OK },
		{ "64:ff9b::7f00:1", INTERNAL, OK, OK },
		{ "64:ff9b::a09:807", INTERNAL, OK, DENIED },
		{ "64:ff9b::cb00:7107", OK, OK, OK },
		{ "2001:db8::1", OK, OK, OK },
		{ "2001:db8:1::1", OK, OK, DENIED },
	};
	static const char *const whys[] = { NULL, WHY_NEVER, WHY_INTERNAL, WHY_DENIED };
	struct bj_conf c;
	struct sockaddr_storage ss;
	const char *why;

	bj_conf_defaults(&c);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct sockaddr *sa = sockaddr_of(rows[i].addr, &ss);
		const char *got, *want;
		int verdict[3] = { rows[i].by_default, rows[i].allowed, rows[i].fenced };

		for (int k = 0; k < 3; k++) {
			free(c.webhook_allow_networks);
			free(c.webhook_deny_networks);
			c.webhook_allow_networks = bj_xstrdup(k ? "10.0.0.0/8, 0.0.0.0/0, ::/0" : "");
			c.webhook_deny_networks = bj_xstrdup(k == 2 ?
			    "10.9.0.0/16, 2001:db8:1::/48" : "");
			got = bj_webhook_fence_refuses(&c, sa);
			want = whys[verdict[k]];
			if (!(got == NULL ? want == NULL : want != NULL && strcmp(got, want) == 0)) {
				fprintf(stderr, "test_notify: %s (config %d): %s\n", rows[i].addr, k,
				    got ? got : "allowed");
				CU_FAIL(rows[i].addr);
			}
		}
	}
	/* allowing all of IPv6 does not allow the internal IPv4 addresses it can carry */
	free(c.webhook_allow_networks);
	c.webhook_allow_networks = bj_xstrdup("::/0");
	{
		static const char *const carried[] = { "::ffff:127.0.0.1", "::ffff:10.1.2.3",
		    "64:ff9b::a01:203" };
		for (size_t i = 0; i < sizeof carried / sizeof carried[0]; i++) {
			const char *got = bj_webhook_fence_refuses(&c, sockaddr_of(carried[i], &ss));
			CU_ASSERT_PTR_NOT_NULL(got);
			CU_ASSERT_STRING_EQUAL(got ? got : "", WHY_INTERNAL);
		}
		CU_ASSERT_PTR_NULL(bj_webhook_fence_refuses(&c, sockaddr_of("fd00::1", &ss)));
	}
	/* bad lists are refused at start-up */
	free(c.webhook_allow_networks);
	c.webhook_allow_networks = bj_xstrdup("10.0.0.0/33");
	CU_ASSERT_EQUAL(bj_webhook_fence_check(&c, &why), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "allow_networks"));
	bj_conf_free(&c);
}

/*
 * Proxy variables in the notifier's environment are ignored: with the
 * receiver named as the proxy, a webhook to a private address is refused
 * by the fence on its own address, before connecting, instead of being
 * handed to the "proxy". A proxy named in the config is used, and the
 * fence judges the proxy's address.
 */
static void
test_fence_proxy(void)
{
	static const struct {
		const char	*var;
		const char	*scheme;
	} vars[] = {
		{ "http_proxy", "http" },
		{ "HTTP_PROXY", "http" },
		{ "https_proxy", "https" },
		{ "HTTPS_PROXY", "https" },
		{ "all_proxy", "http" },
		{ "ALL_PROXY", "https" },
	};
	enum { N = sizeof vars / sizeof vars[0] };
	char path[700], transport[64], url[128], env[256], extra[128];
	long long job = plant_job("proxied", "succeeded"), id[N], p, q;

	snprintf(transport, sizeof transport, "smtp://127.0.0.1:%d", smtp_port);
	CU_ASSERT_EQUAL(bj_db_exec(db, Q_LATER, NULL, ""), 0);
	for (int i = 0; i < N; i++) {
		snprintf(url, sizeof url, "%s://10.255.255.1:9/ok?%d", vars[i].scheme, i);
		id[i] = plant_note(job, "job.succeeded", "webhook", url);
		snprintf(env, sizeof env, "%s=http://127.0.0.1:%d no_proxy= NO_PROXY= ",
		    vars[i].var, hook_port);
		CU_ASSERT_EQUAL(run_notify_env(env, conf_path, NULL), 0);
		if (received(id[i]) != 0 || !dead_because(id[i], WHY_INTERNAL))
			CU_FAIL(vars[i].var);
	}

	/* [webhook] proxy: used; on loopback it must be allowed like any address */
	snprintf(path, sizeof path, "%s/proxy.conf", dir);
	snprintf(extra, sizeof extra, "proxy = http://127.0.0.1:%d", hook_port);
	CU_ASSERT_EQUAL_FATAL(write_conf(path, transport, extra), 0);
	p = plant_note(job, "job.failed", "webhook", "http://10.255.255.1:9/ok");
	CU_ASSERT_EQUAL(run_notify(path, NULL), 0);
	CU_ASSERT_EQUAL(received(p), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'sent'", p), 1);
	snprintf(extra, sizeof extra, "proxy = http://127.0.0.1:%d\nallow_networks =", hook_port);
	CU_ASSERT_EQUAL_FATAL(write_conf(path, transport, extra), 0);
	q = plant_note(job, "job.cancelled", "webhook", "http://10.255.255.1:9/ok");
	CU_ASSERT_EQUAL(run_notify(path, NULL), 0);
	CU_ASSERT_EQUAL(received(q), 0);
	CU_ASSERT_TRUE(dead_because(q, WHY_INTERNAL));
}

/* A URL with user info (planted past the API's check) is never sent, so no Basic credentials leave. */
static void
test_fence_user_info(void)
{
	char url[128];
	long long job = plant_job("user info", "succeeded"), n;

	snprintf(url, sizeof url, "http://user:pw@127.0.0.1:%d/ok", hook_port);
	n = plant_note(job, "job.succeeded", "webhook", url);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(n), 0);
	CU_ASSERT_TRUE(dead_because(n, "the webhook URL has user info (user:password@): not sent"));
}

/* Only http and https URLs are ever fetched. */
static void
test_other_schemes_refused(void)
{
	long long job = plant_job("file url", "succeeded");
	long long n = plant_note(job, "job.succeeded", "webhook", "file:///etc/passwd");

	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'dead'"
	    " AND last_error = 'only http and https webhook URLs are allowed'", n), 1);
}

/* An SMTP 5xx refusal is final, a 4xx one is retried; nothing was accepted either way. */
static void
test_smtp_refusals(void)
{
	long long job = plant_job("refused", "succeeded");
	long long rej = plant_note(job, "job.succeeded", "email", "reject@example.org");
	long long busy = plant_note(job, "job.succeeded", "email", "busy@example.org");

	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'dead'"
	    " AND last_status = 550", rej), 1);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'pending'"
	    " AND last_status = 451 AND next_attempt_at > NOW(6)", busy), 1);
	CU_ASSERT_EQUAL(bj_db_execp(db, Q_LATER, NULL, NULL, 0), 0);
}

/* Without a [webhook] secret nothing goes out unsigned: the row waits, saying why. */
static void
test_no_secret_no_webhook(void)
{
	char path[700], transport[64], url[128];
	long long job = plant_job("unsigned", "succeeded"), wh;

	snprintf(transport, sizeof transport, "smtp://127.0.0.1:%d", smtp_port);
	snprintf(path, sizeof path, "%s/nosecret.conf", dir);
	CU_ASSERT_EQUAL_FATAL(write_conf(path, transport, "secret ="), 0);
	snprintf(url, sizeof url, "%s/ok", hook);
	wh = plant_note(job, "job.succeeded", "webhook", url);
	CU_ASSERT_EQUAL(run_notify(path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 0);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'pending'"
	    " AND last_error LIKE '[webhook] secret is not set%%'", wh), 1);
	/* with the secret back, it goes out signed */
	CU_ASSERT_EQUAL(bj_db_execp(db, Q_DUE, NULL, BJ_PARAMS(BJ_P_INT(wh))), 0);
	CU_ASSERT_EQUAL(run_notify(conf_path, NULL), 0);
	CU_ASSERT_EQUAL(received(wh), 1);
}

/* sendmail:PATH gets -t -oi and the message on stdin; exit 75 retries. */
static void
test_sendmail_transport(void)
{
	char path[720], script[700], transport[720], out[700], code[700];
	long long job = plant_job("Exporté ✓", "succeeded"), n;
	FILE *f;
	char line[64], *text;

	snprintf(script, sizeof script, "%s/sendmail", dir);
	snprintf(out, sizeof out, "%s/sendmail.out", dir);
	snprintf(code, sizeof code, "%s/sendmail.code", dir);
	f = fopen(script, "w");
	fprintf(f, "#!/bin/sh\necho \"$@\" > '%s.args'\ncat > '%s'\nexit $(cat '%s')\n", out, out, code);
	fclose(f);
	chmod(script, 0755);
	f = fopen(code, "w");
	fputs("75\n", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/sendmail.conf", dir);
	snprintf(transport, sizeof transport, "sendmail:%s", script);
	CU_ASSERT_EQUAL_FATAL(write_conf(path, transport, NULL), 0);
	n = plant_note(job, "job.succeeded", "email", "dave@example.org");
	CU_ASSERT_EQUAL(run_notify(path, NULL), 0);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'pending'"
	    " AND last_status = 75", n), 1);

	f = fopen(code, "w");
	fputs("0\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(bj_db_execp(db, Q_DUE, NULL, BJ_PARAMS(BJ_P_INT(n))), 0);
	CU_ASSERT_EQUAL(run_notify(path, NULL), 0);
	CU_ASSERT_EQUAL(scalar("SELECT COUNT(*) FROM notifications WHERE id = %lld AND state = 'sent'"
	    " AND attempts = 2", n), 1);
	text = bj_test_slurp(out, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "To: dave@example.org\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "Subject: =?UTF-8?B?"));
	CU_ASSERT_PTR_NULL(strchr(text, '\r'));
	free(text);
	snprintf(path, sizeof path, "%s.args", out);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
	fclose(f);
	CU_ASSERT_STRING_EQUAL(line, "-t -oi\n");
}

/* Exit 78 on a config error, 69 when the database cannot be reached, 64 on bad usage. */
static void
test_exit_codes(void)
{
	char path[700];
	FILE *f;

	snprintf(path, sizeof path, "%s/bad.conf", dir);
	f = fopen(path, "w");
	fputs("[notify]\nbackoff = soon\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(run_notify(path, NULL), 78);
	f = fopen(path, "w");
	fputs("[database]\nsocket = /nonexistent/mysql.sock\nuser = root\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(run_notify(path, NULL), 69);
	CU_ASSERT_EQUAL(run_notify(conf_path, "--limit 0"), 64);
	CU_ASSERT_EQUAL(run_notify(conf_path, "extra"), 64);
}

/* Register the suite and run it. */
int
main(void)
{
	CU_pSuite s = bj_test_suite("notify", init, clean);

	CU_add_test(s, "a finished job: one signed webhook, one email, nothing twice",
	    test_finished_job_one_webhook_one_email);
	CU_add_test(s, "a state change's notifications are delivered once", test_from_a_state_change);
	CU_add_test(s, "the timeline names a webhook by its origin, an email by its domain", test_target_shown);
	CU_add_test(s, "the email speaks the job's language", test_email_in_the_jobs_language);
	CU_add_test(s, "500 then 200: same webhook-id after the back-off, then done", test_500_then_200);
	CU_add_test(s, "the attempts are kept for the job's JSON and page", test_history);
	CU_add_test(s, "a job retried before delivery", test_retried_before_delivery);
	CU_add_test(s, "410 is not retried", test_410_is_dead_at_once);
	CU_add_test(s, "retries end at max_attempts", test_max_attempts_then_dead);
	CU_add_test(s, "Retry-After is honoured", test_retry_after_is_honoured);
	CU_add_test(s, "a receiver down for a while gets it later, once", test_receiver_down_then_up);
	CU_add_test(s, "an SMTP server down for a while gets it later, once", test_smtp_down_then_up);
	CU_add_test(s, "a time-out is retried", test_timeout_retries);
	CU_add_test(s, "two notifiers at once deliver each row once", test_two_notifiers_at_once);
	CU_add_test(s, "leases: held rows are skipped, a lost lease records nothing", test_lease);
	CU_add_test(s, "header injection through titles and addresses", test_header_injection);
	CU_add_test(s, "deny_networks and allow_hosts", test_fences);
	CU_add_test(s, "the fence: every spelling of the local host", test_fence_local_forms);
	CU_add_test(s, "the fence: addresses by range, IPv4 and IPv6", test_fence_table);
	CU_add_test(s, "the fence: proxy variables are ignored", test_fence_proxy);
	CU_add_test(s, "the fence: no user info", test_fence_user_info);
	CU_add_test(s, "only http and https", test_other_schemes_refused);
	CU_add_test(s, "SMTP 5xx is final, 4xx is retried", test_smtp_refusals);
	CU_add_test(s, "no secret, no webhook", test_no_secret_no_webhook);
	CU_add_test(s, "sendmail transport", test_sendmail_transport);
	CU_add_test(s, "exit codes", test_exit_codes);
	return bj_test_run();
}
