/*
 * test_admin.c: the operators' console (/admin) through real nginx and
 * bulkjobs-fcgi, with [http] admins = carol and public_links = no: every
 * page, "deliver again", an admin's actions on another owner's job, the
 * reaper's recorded runs, Japanese, and who is refused.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "buf.h"
#include "harness.h"
#include "pages_plant.h"

static struct bj_e2e e2e;
static struct bj_db *db;

#define sqlf(...)	bj_test_sqlf(db, __VA_ARGS__)
#define scalarf(...)	bj_test_scalarf(db, __VA_ARGS__)

static int
init(void)
{
	if (bj_plant_catalogs("admin") == -1 || bj_e2e_start(&e2e, "admin",
	    "[http]\npublic_links = no\nadmins = carol, dave\n[reaper]\nnotifier =\n") == -1 ||
	    bj_plant_users(e2e.root) == -1)
		return -1;
	db = bj_test_db("admin");
	return db == NULL ? -1 : 0;
}

static int
clean(void)
{
	bj_e2e_stop(&e2e);
	return 0;
}

/* GET path as user: the status, and the body checked as HTML5. */
static long
get(const char *path, const char *user, struct bj_http_reply *r)
{
	bj_plant_get(e2e.url, path, user, r);
	if (r->status == 200 || r->status == 403)
		CU_ASSERT(bj_plant_valid_html(r->body));
	return r->status;
}

/* body has s; says which is missing. */
static int
has(const struct bj_http_reply *r, const char *s)
{
	if (strstr(r->body, s) != NULL)
		return 1;
	fprintf(stderr, "\nthe page lacks \"%s\"\n", s);
	return 0;
}

static long long running_job, bob_job;
static char running_tok[33];

/* Jobs, items, failures, a reaper run and notifications to show. */
static void
test_setup(void)
{
	struct bj_plant a = { .owner = "alice", .title = "Nightly export", .state = "running",
	    .kind = "export", .total = 4, .succeeded = 2, .claimed = 1, .pending = 1,
	    .started_min_ago = 20 };
	struct bj_plant b = { .owner = "bob", .title = "Old import", .state = "succeeded",
	    .kind = "import", .total = 1, .succeeded = 1, .started_min_ago = 30, .finished = 1 };
	char tok[33];
	long long it;

	running_job = bj_plant_job(db, &a, running_tok);
	bob_job = bj_plant_job(db, &b, tok);
	it = bj_plant_item(db, running_job, 0, "users", "succeeded");
	sqlf("UPDATE items SET claimed_by = 'worker-a', claimed_at = NOW(6) - INTERVAL 5 MINUTE,"
	    " heartbeat_at = NOW(6) - INTERVAL 4 MINUTE, finished_at = NOW(6) - INTERVAL 3 MINUTE"
	    " WHERE id = %lld", it);
	it = bj_plant_item(db, running_job, 0, "orders", "succeeded");
	sqlf("UPDATE items SET claimed_by = 'worker-b', claimed_at = NOW(6) - INTERVAL 9 MINUTE,"
	    " finished_at = NOW(6) - INTERVAL 8 MINUTE WHERE id = %lld", it);
	it = bj_plant_item(db, running_job, 0, "invoices", "claimed");
	sqlf("UPDATE items SET claimed_by = 'worker-a', claimed_at = NOW(6) - INTERVAL 1 MINUTE,"
	    " heartbeat_at = NOW(6), attempt = 2, lease_token = REPEAT('a', 32),"
	    " lease_expires_at = NOW(6) + INTERVAL 1 HOUR WHERE id = %lld", it);
	bj_plant_failure(db, running_job, it, 1, "disk full while writing invoices.csv");
	sqlf("UPDATE item_failures SET worker = 'worker-c' WHERE item_id = %lld", it);
	it = bj_plant_item(db, running_job, 0, "refunds", "pending");
	bj_plant_failure(db, running_job, it, 1, "disk full while writing invoices.csv");
	/* history: an hour and more ago, not in the last hour's figures */
	it = bj_plant_item(db, bob_job, 0, "ancient", "succeeded");
	sqlf("UPDATE items SET claimed_by = 'worker-old', finished_at = NOW(6) - INTERVAL 2 HOUR"
	    " WHERE id = %lld", it);
	bj_plant_notification(db, running_job, "webhook", "https://hooks.example/a", "dead", 12,
	    "503 Service Unavailable");
	bj_plant_notification(db, bob_job, "email", "bob@example.org", "pending", 1, NULL);
}

/* Nobody, a non-admin, and an admin at each page. */
static void
test_who_may_open_it(void)
{
	const char *pages[] = { "/admin", "/admin/jobs", "/admin/workers", "/admin/failures",
	    "/admin/notifications" };
	/* carol's name with a wrong password: the web server's login refuses it */
	const char *forged[] = { "Authorization: Basic Y2Fyb2w6d3Jvbmc=", NULL };
	struct bj_http_reply r;
	char url[300];

	for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
		snprintf(url, sizeof url, "%s%s", e2e.url, pages[i]);
		CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, forged, NULL, 0, &r), 0);
		CU_ASSERT_EQUAL(r.status, 401);
		CU_ASSERT_PTR_NULL(strstr(r.body, "Nightly export"));
		bj_http_reply_free(&r);
		CU_ASSERT_EQUAL(get(pages[i], NULL, &r), 401);
		bj_http_reply_free(&r);
		CU_ASSERT_EQUAL(get(pages[i], "alice", &r), 403);
		CU_ASSERT_PTR_NULL(strstr(r.body, "Nightly export"));
		bj_http_reply_free(&r);
		CU_ASSERT_EQUAL(get(pages[i], "carol", &r), 200);
		CU_ASSERT(has(&r, "nav class=\"admin\""));
		CU_ASSERT_PTR_NULL(strstr(r.body, "<script"));
		bj_http_reply_free(&r);
	}
}

/* Jobs by state and kind, waiting items, the chart, the reaper, notifications. */
static void
test_overview(void)
{
	struct bj_http_reply r;
	int st;

	/* one reaper run, recorded by the reaper itself */
	{
		char *cmd = bj_xasprintf("%s/reaper/bulkjobs-reaper -c '%s'",
		    getenv("BJ_BUILDDIR") ? getenv("BJ_BUILDDIR") : ".", e2e.conf_path);

		st = system(cmd);
		free(cmd);
		CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM reaper_runs WHERE outcome = 'done'"), 1);
	CU_ASSERT_EQUAL(get("/admin", "carol", &r), 200);
	CU_ASSERT(has(&r, "<h1>Operators' console</h1>"));
	CU_ASSERT(has(&r, "Jobs not ended"));
	CU_ASSERT(has(&r, "<td>export</td>"));
	CU_ASSERT(has(&r, "Jobs ended in the last hour"));
	CU_ASSERT(has(&r, "<td>import</td>"));
	CU_ASSERT(has(&r, "2 items completed in the last hour, at most 1 in a minute."));
	CU_ASSERT(has(&r, "<svg"));
	CU_ASSERT(has(&r, "<rect"));
	CU_ASSERT(has(&r, "No reaper holds the lock now."));
	CU_ASSERT(has(&r, "<td>done</td>"));
	CU_ASSERT(has(&r, "1 pending, 1 dead."));
	bj_http_reply_free(&r);
}

/* Every owner's jobs, filtered and paged. */
static void
test_jobs(void)
{
	struct bj_http_reply r;
	char path[500];

	CU_ASSERT_EQUAL(get("/admin/jobs", "carol", &r), 200);
	CU_ASSERT(has(&r, "Nightly export"));
	CU_ASSERT(has(&r, "Old import"));
	CU_ASSERT(has(&r, running_tok));
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(get("/admin/jobs?owner=bob&state=&kind=", "carol", &r), 200);
	CU_ASSERT_PTR_NULL(strstr(r.body, "Nightly export"));
	CU_ASSERT(has(&r, "Old import"));
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(get("/admin/jobs?state=running&kind=export", "carol", &r), 200);
	CU_ASSERT(has(&r, "Nightly export"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "Old import"));
	bj_http_reply_free(&r);
	snprintf(path, sizeof path, "/admin/jobs?after=%lld", bob_job);
	CU_ASSERT_EQUAL(get(path, "carol", &r), 200);
	CU_ASSERT(has(&r, "Nightly export"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "Old import"));
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(get("/admin/jobs?state=sleeping", "carol", &r), 400);
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(get("/admin/jobs?after=x", "carol", &r), 400);
	bj_http_reply_free(&r);
	{
		/* an owner longer than any is refused, not dropped (that listed every owner) */
		char longer[400];

		memset(longer, 'b', 300);
		longer[300] = '\0';
		snprintf(path, sizeof path, "/admin/jobs?owner=%s", longer);
		CU_ASSERT_EQUAL(get(path, "carol", &r), 400);
		CU_ASSERT_PTR_NULL(strstr(r.body, "Nightly export"));
		bj_http_reply_free(&r);
	}
}

/* A page of 50 and the link to the next, with the filters kept. */
static void
test_jobs_paging(void)
{
	struct bj_plant p = { .owner = "dora", .title = "Paged", .state = "queued",
	    .kind = "page me", .total = 1, .pending = 1 };
	struct bj_http_reply r;
	char tok[33], *next;

	for (int i = 0; i < 51; i++)
		bj_plant_job(db, &p, tok);
	CU_ASSERT_EQUAL(get("/admin/jobs?kind=page+me", "carol", &r), 200);
	next = bj_plant_attr_after(r.body, "<nav><a", "href");
	CU_ASSERT_PTR_NOT_NULL_FATAL(next);
	CU_ASSERT_PTR_NOT_NULL(strstr(next, "?kind=page%20me&amp;after="));
	bj_http_reply_free(&r);
	free(next);
}

/* Every worker of the last hour: what it holds, its times, its counts. */
static void
test_workers(void)
{
	struct bj_http_reply r;

	CU_ASSERT_EQUAL(get("/admin/workers", "carol", &r), 200);
	CU_ASSERT(has(&r, "<td>worker-a</td><td>1</td>"));
	CU_ASSERT(has(&r, "<td>worker-b</td><td>0</td>"));
	CU_ASSERT(has(&r, "<td>worker-c</td><td>0</td><td>not in the last hour</td>"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "worker-old"));
	bj_http_reply_free(&r);
}

/* Failed attempts grouped by their error. */
static void
test_failures(void)
{
	struct bj_http_reply r;

	CU_ASSERT_EQUAL(get("/admin/failures", "carol", &r), 200);
	CU_ASSERT(has(&r, "<td><code>disk full while writing invoices.csv</code></td><td>2</td>"
	    "<td>1</td>"));
	CU_ASSERT(has(&r, "<td>worker-c</td>"));
	CU_ASSERT(has(&r, running_tok));
	bj_http_reply_free(&r);
}

/* "Deliver again": CSRF, 303, fresh budget, timeline, and no repeat on reload. */
static void
test_deliver_again(void)
{
	struct bj_http_reply r;
	long long id = scalarf("SELECT id FROM notifications WHERE state = 'dead'");
	char *csrf, path[200], form[200];

	CU_ASSERT_EQUAL(get("/admin/notifications", "carol", &r), 200);
	CU_ASSERT(has(&r, "https://hooks.example/a"));
	CU_ASSERT(has(&r, "503 Service Unavailable"));
	CU_ASSERT(has(&r, "bob@example.org"));
	csrf = bj_plant_attr_after(r.body, "/deliver\"", "value");
	CU_ASSERT_PTR_NOT_NULL_FATAL(csrf);
	bj_http_reply_free(&r);
	snprintf(path, sizeof path, "/admin/notifications/%lld/deliver", id);
	/* without the token, with a wrong one, or by a non-admin: refused, nothing changed */
	bj_plant_post(e2e.url, path, "carol", "", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	bj_http_reply_free(&r);
	bj_plant_post(e2e.url, path, "carol", "csrf=AAAA", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	bj_http_reply_free(&r);
	snprintf(form, sizeof form, "csrf=%s", csrf);
	bj_plant_post(e2e.url, path, "alice", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	bj_http_reply_free(&r);
	bj_plant_post(e2e.url, path, "dave", form, NULL, &r);	/* carol's token is carol's */
	CU_ASSERT_EQUAL(r.status, 403);
	bj_http_reply_free(&r);
	bj_plant_post(e2e.url, path, "carol", form, "Sec-Fetch-Site: cross-site", &r);
	CU_ASSERT_EQUAL(r.status, 403);
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(scalarf("SELECT state = 'dead' FROM notifications WHERE id = %lld", id), 1);

	bj_plant_post(e2e.url, path, "carol", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(scalarf("SELECT state = 'pending' AND attempt_base = attempts AND"
	    " next_attempt_at <= NOW(6) FROM notifications WHERE id = %lld", id), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM job_events WHERE job_id = %lld AND"
	    " type = 'notify_redelivered' AND detail = 'webhook to https://hooks.example/\u2026:"
	    " delivered again from the console, by carol'", running_job), 1);
	/* the same post again (a reload) changes nothing more */
	bj_plant_post(e2e.url, path, "carol", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 409);
	CU_ASSERT(bj_plant_valid_html(r.body));
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM job_events WHERE job_id = %lld AND"
	    " type = 'notify_redelivered'", running_job), 1);
	bj_plant_post(e2e.url, "/admin/notifications/999999999/deliver", "carol", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);	/* the token is bound to the notification */
	bj_http_reply_free(&r);
	free(csrf);
}

/* An admin opens alice's job (public_links = no) with her buttons; the timeline names the admin. */
static void
test_admin_on_status_page(void)
{
	struct bj_http_reply r;
	char path[200], form[200], *csrf;

	snprintf(path, sizeof path, "/jobs/%s", running_tok);
	CU_ASSERT_EQUAL(get(path, "bob", &r), 404);
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(get(path, "carol", &r), 200);
	CU_ASSERT(has(&r, "Nightly export"));
	csrf = bj_plant_attr_after(r.body, "/pause\"", "value");
	CU_ASSERT_PTR_NOT_NULL_FATAL(csrf);
	bj_http_reply_free(&r);
	snprintf(path, sizeof path, "/jobs/%s/pause", running_tok);
	snprintf(form, sizeof form, "csrf=%s", csrf);
	bj_plant_post(e2e.url, path, "bob", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	bj_http_reply_free(&r);
	bj_plant_post(e2e.url, path, "carol", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(scalarf("SELECT state = 'paused' FROM jobs WHERE id = %lld", running_job),
	    1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM job_events WHERE job_id = %lld AND"
	    " type = 'paused' AND detail = 'from the status page, by carol'", running_job), 1);
	snprintf(path, sizeof path, "/jobs/%s/resume", running_tok);
	bj_plant_post(e2e.url, path, "carol", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM job_events WHERE job_id = %lld AND"
	    " type = 'resumed' AND detail = 'from the status page, by carol'", running_job), 1);
	free(csrf);
}

/* The console in Japanese. */
static void
test_japanese(void)
{
	const char *ja[] = { bj_plant_auth("carol"), "Accept-Language: ja", NULL };
	const char *pages[] = { "/admin", "/admin/jobs", "/admin/workers", "/admin/failures",
	    "/admin/notifications" };
	struct bj_http_reply r;
	char url[300];

	for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
		snprintf(url, sizeof url, "%s%s", e2e.url, pages[i]);
		CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, ja, NULL, 0, &r), 0);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT(has(&r, "<html lang=\"ja\">"));
		if (i == 0)
			CU_ASSERT(has(&r, "<h1>運用コンソール</h1>"));
		CU_ASSERT_PTR_NULL(strstr(r.body, ">Overview<"));
		CU_ASSERT(bj_plant_valid_html(r.body));
		bj_http_reply_free(&r);
	}
}

/* A reaper that finds the lock held records a busy run. */
static void
test_reaper_busy_run(void)
{
	struct bj_db *holder = bj_db_new(bj_test_conf("admin"));
	struct bj_http_reply r;
	char *cmd;
	int st;

	CU_ASSERT_EQUAL_FATAL(bj_db_connect(holder), 0);
	CU_ASSERT_EQUAL(bj_test_scalarf(holder, "SELECT GET_LOCK('bulkjobs.reaper', 0)"), 1);
	cmd = bj_xasprintf("%s/reaper/bulkjobs-reaper -c '%s'",
	    getenv("BJ_BUILDDIR") ? getenv("BJ_BUILDDIR") : ".", e2e.conf_path);
	st = system(cmd);
	free(cmd);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM reaper_runs WHERE outcome = 'busy'"), 1);
	CU_ASSERT_EQUAL(get("/admin", "carol", &r), 200);
	CU_ASSERT(has(&r, "A reaper holds the lock now."));
	CU_ASSERT(has(&r, "another reaper held the lock"));
	bj_http_reply_free(&r);
	bj_db_free(holder);
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = bj_test_suite("operators' console", init, clean);
	CU_add_test(s, "set-up", test_setup);
	CU_add_test(s, "who may open it", test_who_may_open_it);
	CU_add_test(s, "overview", test_overview);
	CU_add_test(s, "jobs", test_jobs);
	CU_add_test(s, "jobs paging", test_jobs_paging);
	CU_add_test(s, "workers", test_workers);
	CU_add_test(s, "failures", test_failures);
	CU_add_test(s, "deliver again", test_deliver_again);
	CU_add_test(s, "admin on a status page", test_admin_on_status_page);
	CU_add_test(s, "Japanese", test_japanese);
	CU_add_test(s, "reaper busy run", test_reaper_busy_run);
	return bj_test_run();
}
