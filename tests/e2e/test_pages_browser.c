/*
 * test_pages_browser.c: a real browser (headless Chromium) loads the
 * status page and the list through nginx; the test reads the DOM the
 * browser built, watches a job progress and finish, reads a page in the
 * language the browser asks for, and keeps a screenshot of each page
 * (status-page.png, jobs-list.png, console.png and console-phone.png in
 * the suite's directory; the README's are taken from the demo).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "pages_plant.h"

#define CHROMIUM "/usr/bin/chromium"

static struct bj_e2e e2e;
static struct bj_db *db;
static int profile_n;

static int
init(void)
{
	if (access(CHROMIUM, X_OK) != 0) {
		fprintf(stderr, "test_pages_browser: %s is not installed (chromium)\n", CHROMIUM);
		return -1;
	}
	if (bj_plant_catalogs("browser") == -1 ||
	    bj_e2e_start(&e2e, "browser", "[http]\nadmins = carol\n") == -1 ||
	    bj_plant_users(e2e.root) == -1)
		return -1;
	db = bj_test_db("browser");
	return db == NULL ? -1 : 0;
}

static int
clean(void)
{
	bj_e2e_stop(&e2e);
	return 0;
}

/*
 * Run Chromium on path (below the app) signed in as user, with mode
 * "--dump-dom" or "--screenshot=FILE"; returns its stdout (caller frees).
 */
static char *
chromium(const char *path, const char *user, const char *mode, const char *size)
{
	struct bj_buf cmd = { 0 }, out = { 0 };
	char profile[700], url[600], chunk[4096], *host;
	size_t n;
	FILE *p;
	int st;

	/* a new, empty profile each run */
	snprintf(profile, sizeof profile, "%s/chromium-%d", e2e.root, ++profile_n);
	mkdir(profile, 0700);
	host = strstr(e2e.url, "://");
	snprintf(url, sizeof url, "http://%s:%s-pw@%s%s", user, user, host + 3, path);
	bj_buf_printf(&cmd, "cd '%s' && timeout 90 " CHROMIUM " --headless --no-sandbox "
	    "--disable-gpu --disable-quic --no-first-run --disable-background-networking "
	    "--disable-component-update --disable-sync --user-data-dir='%s' "
	    "--window-size=%s %s '%s' 2>'%s/chromium.err'",
	    e2e.root, profile, size, mode, url, e2e.root);
	p = popen(cmd.data, "r");
	bj_buf_free(&cmd);
	if (p == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
		bj_buf_add(&out, chunk, n);
	st = pclose(p);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "chromium exited with %d; see %s/chromium.err\n", st, e2e.root);
		bj_buf_free(&out);
		return NULL;
	}
	return bj_buf_steal(&out);
}

/* 1 when file is a PNG of some size. */
static int
is_png(const char *file)
{
	unsigned char sig[8];
	struct stat st;
	FILE *f = fopen(file, "rb");
	int ok;

	if (f == NULL)
		return 0;
	ok = fread(sig, 1, 8, f) == 8 && memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0;
	fclose(f);
	return ok && stat(file, &st) == 0 && st.st_size > 2000;
}

/* Screenshot path as user at size into the suite's directory as name: 1 when a PNG came out. */
static int
screenshot(const char *path, const char *user, const char *name, const char *size)
{
	char shot[800], mode[900];

	snprintf(shot, sizeof shot, "%s/%s", e2e.root, name);
	snprintf(mode, sizeof mode, "--screenshot='%s'", shot);
	free(chromium(path, user, mode, size));
	return is_png(shot);
}

/* Watch a two-stage job in the browser: running at 50 %, then finished. */
static void
test_browser_watches_a_job(void)
{
	struct bj_plant p = { .owner = "alice", .title = "Quarterly export <b>Q3</b>",
	    .state = "running", .stage = 1, .stage_count = 2, .total = 4, .succeeded = 2,
	    .claimed = 1, .pending = 1, .started_min_ago = 12 };
	char tok[33], path[100], *dom;
	long long id = bj_plant_job(db, &p, tok), it;

	bj_plant_item(db, id, 0, "customers", "succeeded");
	it = bj_plant_item(db, id, 0, "orders", "succeeded");
	bj_plant_item(db, id, 1, "merging", "claimed");
	bj_plant_item(db, id, 1, "compress", "pending");
	bj_plant_failure(db, id, it, 1, "timeout talking to <db-replica-2>");
	bj_plant_event(db, id, "created", NULL);
	bj_plant_event(db, id, "started", "worker w1");
	bj_plant_event(db, id, "stage", "stage 2 opened");
	bj_plant_notification(db, id, "email", "alice@example.org", "pending", 0, NULL);
	snprintf(path, sizeof path, "/jobs/%s", tok);

	dom = chromium(path, "alice", "--dump-dom", "412,900");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dom);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "<h1>Quarterly export &lt;b&gt;Q3&lt;/b&gt;</h1>"));
	CU_ASSERT_PTR_NULL(strstr(dom, "<b>Q3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "<progress max=\"4\" value=\"2\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "Stage 2 of 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "Running"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "timeout talking to &lt;db-replica-2&gt;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "http-equiv=\"refresh\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, ">Pause</button>"));
	free(dom);

	CU_ASSERT(screenshot(path, "alice", "status-page.png", "412,1400"));

	/* the workers finish: the page shows it and stops refreshing */
	CU_ASSERT_EQUAL_FATAL(bj_db_execp(db, "UPDATE jobs SET state = 'succeeded',"
	    " n_succeeded = 4, n_claimed = 0, n_pending = 0, finished_at = NOW(6)"
	    " WHERE id = ?", NULL, BJ_PARAMS(BJ_P_INT(id))), 0);
	dom = chromium(path, "alice", "--dump-dom", "412,900");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dom);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "Succeeded"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "<progress max=\"4\" value=\"4\""));
	CU_ASSERT_PTR_NULL(strstr(dom, "refresh"));
	CU_ASSERT_PTR_NULL(strstr(dom, "<form"));
	free(dom);
}

/* A browser set to Japanese (its Accept-Language) gets the page in Japanese. */
static void
test_browser_reads_japanese(void)
{
	struct bj_plant p = { .owner = "alice", .title = "月次エクスポート", .state = "running",
	    .total = 4, .succeeded = 1, .pending = 3, .started_min_ago = 6 };
	char tok[33], path[100], *dom;

	bj_plant_job(db, &p, tok);
	snprintf(path, sizeof path, "/jobs/%s", tok);
	dom = chromium(path, "alice", "--accept-lang=ja --dump-dom", "412,900");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dom);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "<html lang=\"ja\">"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "<h1>月次エクスポート</h1>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "実行中"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, ">一時停止</button>"));
	CU_ASSERT_PTR_NULL(strstr(dom, ">Pause</button>"));
	free(dom);
	/* the same browser set to English */
	dom = chromium(path, "alice", "--accept-lang=en-US --dump-dom", "412,900");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dom);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, ">Pause</button>"));
	free(dom);
}

/* The list in the browser: alice's jobs only. */
static void
test_browser_lists_own_jobs(void)
{
	struct bj_plant mine[] = {
		{ .owner = "alice", .title = "Customer export", .state = "succeeded",
		  .total = 3, .succeeded = 3, .started_min_ago = 50, .finished = 1 },
		{ .owner = "alice", .title = "Invoice import", .state = "failed",
		  .total = 8, .succeeded = 5, .failed = 3, .started_min_ago = 20, .finished = 1 },
		{ .owner = "alice", .title = "Product feed", .state = "running",
		  .total = 100, .succeeded = 37, .claimed = 4, .pending = 59,
		  .started_min_ago = 3 },
	};
	struct bj_plant other = { .owner = "bob", .title = "Bob private export",
	    .state = "queued" };
	char tok[33], *dom;

	bj_plant_job(db, &other, tok);
	for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++)
		bj_plant_job(db, &mine[i], tok);
	dom = chromium("/jobs", "alice", "--dump-dom", "1000,700");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dom);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "Your jobs"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "Product feed"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "Invoice import"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "37 of 100"));
	CU_ASSERT_PTR_NULL(strstr(dom, "Bob private export"));
	free(dom);
	CU_ASSERT(screenshot("/jobs", "alice", "jobs-list.png", "1000,600"));
}

/* The operators' console's overview in the browser, on a desktop and on a phone. */
static void
test_browser_console(void)
{
	struct bj_plant p = { .owner = "bob", .title = "Catalogue import", .state = "running",
	    .kind = "import", .total = 400, .succeeded = 180, .claimed = 4, .pending = 216,
	    .started_min_ago = 55 };
	char tok[33], *dom;
	long long id = bj_plant_job(db, &p, tok);

	/* completions over the last hour, a few a minute, by two workers */
	for (int m = 0; m < 55; m++)
		bj_test_sqlf(db, "INSERT INTO items (job_id, `key`, state, run_after, claimed_by,"
		    " claimed_at, finished_at) VALUES"
		    " (%lld, 'a%d', 'succeeded', NOW(6), 'web-1', NOW(6) - INTERVAL %d MINUTE,"
		    "  NOW(6) - INTERVAL %d MINUTE),"
		    " (%lld, 'b%d', 'succeeded', NOW(6), 'web-2', NOW(6) - INTERVAL %d MINUTE,"
		    "  NOW(6) - INTERVAL %d MINUTE - INTERVAL %d SECOND)",
		    id, m, m, m, id, m, m, m, (m * 7) % 50);
	bj_test_sqlf(db, "INSERT INTO reaper_runs (started_at, seconds, outcome, host, requeued,"
	    " finished, purged) VALUES (NOW(6) - INTERVAL 40 SECOND, 0.042, 'done', 'web-1', 2,"
	    " 1, 30)");
	dom = chromium("/admin", "carol", "--dump-dom", "412,900");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dom);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "Operators' console"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "<svg"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "<rect"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "<td>import</td>"));
	free(dom);
	CU_ASSERT(screenshot("/admin", "carol", "console.png", "1000,1300"));
	CU_ASSERT(screenshot("/admin", "carol", "console-phone.png", "412,1800"));
	/* alice is no admin: the browser gets the refusal */
	dom = chromium("/admin", "alice", "--dump-dom", "412,900");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dom);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "Refused"));
	CU_ASSERT_PTR_NULL(strstr(dom, "Catalogue import"));
	free(dom);
}

int
main(void)
{
	CU_pSuite s;

	/* test_pages sends the sanitized program the same requests */
	if (bj_test_sanitized_skip("test_pages_browser", "the pages' requests run in test_pages"))
		return 77;
	s = bj_test_suite("pages in a browser", init, clean);

	CU_add_test(s, "browser watches a job", test_browser_watches_a_job);
	CU_add_test(s, "browser lists own jobs", test_browser_lists_own_jobs);
	CU_add_test(s, "browser reads the page in Japanese", test_browser_reads_japanese);
	CU_add_test(s, "browser opens the console", test_browser_console);
	return bj_test_run();
}
