/*
 * test_pages.c: the end-user pages through real nginx (conf/nginx.conf)
 * and bulkjobs-fcgi: status page, list, downloads by X-Accel-Redirect,
 * and the form posts with their CSRF tokens. Jobs are planted by SQL.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "harness.h"
#include "pages_plant.h"
#include "token.h"

static struct bj_e2e e2e;
static struct bj_db *db;

static int
init(void)
{
	if (bj_plant_catalogs("pages") == -1 || bj_e2e_start(&e2e, "pages", NULL) == -1)
		return -1;
	if (bj_plant_users(e2e.root) == -1)
		return -1;
	db = bj_test_db("pages");
	return db == NULL ? -1 : 0;
}

static int
clean(void)
{
	bj_e2e_stop(&e2e);
	return 0;
}

/* A header's value equals want. */
static void
assert_header(const struct bj_http_reply *r, const char *name, const char *want)
{
	char *v = bj_http_header(r, name);

	CU_ASSERT_PTR_NOT_NULL(v);
	if (v != NULL && strcmp(v, want) != 0) {
		fprintf(stderr, "%s: got \"%s\", want \"%s\"\n", name, v, want);
		CU_FAIL("header value");
	}
	free(v);
}

static long long
scalar_s(const char *sql, const char *arg)
{
	struct bj_rows *r = bj_db_queryp(db, sql, BJ_PARAMS(BJ_P_STR(arg)));
	long long v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	v = bj_rows_int(r, 0, 0);
	bj_rows_free(r);
	return v;
}

static const char *
job_state(const char *token)
{
	static char st[32];
	struct bj_rows *r = bj_db_queryp(db, "SELECT state FROM jobs WHERE token = ?",
	    BJ_PARAMS(BJ_P_STR(token)));

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	snprintf(st, sizeof st, "%s", bj_rows_get(r, 0, 0) ? bj_rows_get(r, 0, 0) : "");
	bj_rows_free(r);
	return st;
}

/* The csrf value of the forms on job token's page as user sees it (200 asserted), or NULL; caller frees. */
static char *
page_csrf(const char *token, const char *user)
{
	struct bj_http_reply r;
	char path[64], *csrf;

	snprintf(path, sizeof path, "/jobs/%s", token);
	bj_plant_get(e2e.url, path, user, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	csrf = bj_plant_attr_after(r.body, "name=\"csrf\"", "value");
	bj_http_reply_free(&r);
	return csrf;
}

/* POST job token's retry form as alice (csrf and round); asserts status and, when not NULL, that the reply says text. */
static void
post_retry(const char *token, const char *csrf, const char *round, long status, const char *text)
{
	struct bj_http_reply r;
	char path[64], form[160];

	snprintf(path, sizeof path, "/jobs/%s/retry", token);
	snprintf(form, sizeof form, "csrf=%s&round=%s", csrf, round);
	bj_plant_post(e2e.url, path, "alice", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, status);
	if (text != NULL)
		CU_ASSERT_PTR_NOT_NULL(r.body && strstr(r.body, text));
	bj_http_reply_free(&r);
}

/* A running two-stage job: progress, stage name, estimate, refresh, headers. */
static void
test_status_page_of_running_job(void)
{
	struct bj_plant p = { .owner = "alice", .title = "Nightly export", .state = "running",
	    .stage = 1, .stage_count = 2, .total = 4, .succeeded = 2, .claimed = 1,
	    .pending = 0, .failed = 1, .started_min_ago = 10 };
	struct bj_http_reply r;
	char tok[33], path[100], *csp;
	long long id = bj_plant_job(db, &p, tok), it;

	bj_plant_item(db, id, 0, "users", "succeeded");
	bj_plant_item(db, id, 0, "orders", "succeeded");
	it = bj_plant_item(db, id, 0, "invoices", "failed");
	bj_plant_item(db, id, 1, "merging", "claimed");
	bj_plant_failure(db, id, it, 1, "disk full while writing invoices.csv");
	bj_plant_event(db, id, "started", NULL);
	/* a GET of a form's target is 405 naming the method it takes */
	snprintf(path, sizeof path, "/jobs/%s/cancel", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 405);
	assert_header(&r, "Allow", "POST");
	bj_http_reply_free(&r);

	snprintf(path, sizeof path, "/jobs/%s", tok);

	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<h1>Nightly export</h1>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Running"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<progress max=\"4\" value=\"3\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "75% done: 3 of 4 items"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Stage 2 of 2: merging"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Expected to finish in 3 minutes at the current rate."));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "http-equiv=\"refresh\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "disk full while writing invoices.csv"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "/cancel\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "/pause\""));
	CU_ASSERT_PTR_NULL(strstr(r.body, "/resume\""));
	CU_ASSERT_PTR_NULL(strstr(r.body, "<script"));
	CU_ASSERT(bj_plant_valid_html(r.body));
	assert_header(&r, "Content-Type", "text/html; charset=utf-8");
	assert_header(&r, "X-Content-Type-Options", "nosniff");
	assert_header(&r, "Referrer-Policy", "no-referrer");
	assert_header(&r, "Cache-Control", "private, no-cache");
	assert_header(&r, "Poll-Interval", "5");
	assert_header(&r, "X-Frame-Options", "DENY");
	csp = bj_http_header(&r, "Content-Security-Policy");
	CU_ASSERT_PTR_NOT_NULL_FATAL(csp);
	CU_ASSERT_PTR_NOT_NULL(strstr(csp, "default-src 'none'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(csp, "form-action 'self'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(csp, "frame-ancestors 'none'"));
	{
		/* the policy allows the style sheet by its hash, and nothing else */
		const char *css = strstr(r.body, "<style>"), *end;
		unsigned char md[32];
		char *b64, want[80];

		CU_ASSERT_PTR_NOT_NULL_FATAL(css);
		css += 7;
		end = strstr(css, "</style>");
		CU_ASSERT_PTR_NOT_NULL_FATAL(end);
		bj_sha256(css, (size_t)(end - css), md);
		b64 = bj_base64(md, sizeof md, 0);
		snprintf(want, sizeof want, "style-src 'sha256-%s';", b64);
		CU_ASSERT_PTR_NOT_NULL(strstr(csp, want));
		free(b64);
	}
	free(csp);
	bj_http_reply_free(&r);
}

/*
 * The stage line counts stages, not items, across gaps in their numbers,
 * and names a stage only when it has a single item; the lists come newest
 * first (failures, timeline) and oldest first (notifications).
 */
static void
test_status_page_stages_and_lists(void)
{
	struct bj_plant p = { .owner = "alice", .title = "Gappy stages", .state = "running",
	    .stage = 10, .stage_count = 3, .total = 5, .succeeded = 3, .claimed = 1,
	    .pending = 1, .started_min_ago = 3 };
	struct bj_http_reply r;
	char tok[33], path[100];
	const char *a, *b;
	long long id = bj_plant_job(db, &p, tok), it;

	bj_plant_item(db, id, 0, "extract-a", "succeeded");
	it = bj_plant_item(db, id, 0, "extract-b", "succeeded");
	bj_plant_item(db, id, 5, "transform", "succeeded");
	bj_plant_item(db, id, 10, "load-1", "claimed");
	bj_plant_item(db, id, 10, "load-2", "pending");
	bj_plant_failure(db, id, it, 1, "first failure");
	bj_plant_failure(db, id, it, 2, "second failure");
	bj_plant_event(db, id, "started", "first event");
	bj_plant_event(db, id, "item_requeued", "second event");
	bj_plant_event(db, id, "stage_advanced", "stage 10");
	snprintf(path, sizeof path, "/jobs/%s", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Stage 3 of 3</p>"));
	/* the timeline names the stage as the header does, not by its number */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Next stage</strong>: stage 3 of 3<"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "stage 10"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Priority: 0</p>"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "Waiting:"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "load-1"));
	a = strstr(r.body, "second failure");
	b = strstr(r.body, "first failure");
	CU_ASSERT(a != NULL && b != NULL && a < b);
	a = strstr(r.body, "second event");
	b = strstr(r.body, "first event");
	CU_ASSERT(a != NULL && b != NULL && a < b);
	a = strstr(r.body, "first failure");
	CU_ASSERT(a != NULL && b != NULL && a < b);
	CU_ASSERT_PTR_NULL(strstr(r.body, "Notifications</h2>"));
	CU_ASSERT(bj_plant_valid_html(r.body));
	bj_http_reply_free(&r);
	/* at its own limit, with an item waiting: the page says so */
	CU_ASSERT_EQUAL(bj_db_exec(db, "UPDATE jobs SET max_concurrency = 1, priority = 3"
	    " WHERE id = ?", NULL, "i", id), 0);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Priority: 3</p>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body,
	    "<p class=\"waiting\">Waiting: this job runs at most 1 item at a time.</p>"));
	CU_ASSERT(bj_plant_valid_html(r.body));
	bj_http_reply_free(&r);
	/* the job ends: the sections keep their order, failures, notifications, timeline */
	CU_ASSERT_EQUAL(bj_db_execp(db,
	    "UPDATE jobs SET state = 'failed', finished_at = NOW(6)"
	    " WHERE id = ?", NULL, BJ_PARAMS(BJ_P_INT(id))), 0);
	bj_plant_event(db, id, "finished", "third event");
	bj_plant_notification(db, id, "email", "first@example.org", "sent", 1, NULL);
	bj_plant_notification(db, id, "email", "second@example.org", "dead", 0, NULL);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	a = strstr(r.body, "first@example.org");
	b = strstr(r.body, "second@example.org");
	CU_ASSERT(a != NULL && b != NULL && a < b);
	a = strstr(r.body, "first failure");
	b = strstr(r.body, "first@example.org");
	CU_ASSERT(a != NULL && b != NULL && a < b);
	CU_ASSERT(b != NULL && strstr(b, "third event") != NULL);
	CU_ASSERT(bj_plant_valid_html(r.body));
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(bj_db_execp(db,
	    "UPDATE jobs SET state = 'running', finished_at = NULL"
	    " WHERE id = ?", NULL, BJ_PARAMS(BJ_P_INT(id))), 0);
	/* down to one item in the open stage: it names the stage */
	CU_ASSERT_EQUAL(bj_db_execp(db,
	    "DELETE FROM items WHERE job_id = ? AND `key` = 'load-2'",
	    NULL, BJ_PARAMS(BJ_P_INT(id))), 0);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Stage 3 of 3: load-1"));
	bj_http_reply_free(&r);
	/* a job of one stage and one item: that item names it */
	{
		struct bj_plant one = { .owner = "alice", .title = "One thing", .state = "queued",
		    .total = 1, .pending = 1 };
		id = bj_plant_job(db, &one, tok);
		bj_plant_item(db, id, 0, "the-only-item", "pending");
		snprintf(path, sizeof path, "/jobs/%s", tok);
		bj_plant_get(e2e.url, path, "alice", &r);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Stage 1 of 1: the-only-item"));
		bj_http_reply_free(&r);
	}
}

/*
 * A job still going reads its failures only when its timeline shows one:
 * a retried attempt (no item has failed for good) is listed, and so is a
 * failure older than the timeline the page shows.
 */
static void
test_status_page_failures_of_running_job(void)
{
	struct bj_plant p = { .owner = "alice", .title = "Retrying", .state = "running",
	    .total = 2, .pending = 1, .claimed = 1, .started_min_ago = 2 };
	struct bj_http_reply r;
	char tok[33], path[100];
	long long id = bj_plant_job(db, &p, tok), it;

	it = bj_plant_item(db, id, 0, "flaky", "pending");
	bj_plant_item(db, id, 0, "steady", "claimed");
	snprintf(path, sizeof path, "/jobs/%s", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	CU_ASSERT_PTR_NULL(strstr(r.body, "Failed items</h2>"));
	bj_http_reply_free(&r);
	bj_plant_failure(db, id, it, 1, "connection reset, will retry");
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	/* no item has failed for good: the attempt was retried */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Failed attempts that were retried</h2>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "connection reset, will retry"));
	bj_http_reply_free(&r);
	/* 250 later entries push the failure out of the 200 the timeline shows */
	CU_ASSERT_EQUAL_FATAL(bj_db_execp(db,
	    "INSERT INTO job_events (job_id, at, type, detail)"
	    " SELECT ?, NOW(6), 'progress', CONCAT('step ', seq) FROM seq_1_to_250", NULL,
	    BJ_PARAMS(BJ_P_INT(id))), 0);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "step 250"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "item_failed"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "connection reset, will retry"));
	CU_ASSERT(bj_plant_valid_html(r.body));
	bj_http_reply_free(&r);
}

/* A reader whose browser asks for Japanese gets the page in Japanese. */
static void
test_page_in_the_readers_language(void)
{
	struct bj_plant p = { .owner = "alice", .title = "月次エクスポート", .state = "running",
	    .total = 2, .succeeded = 1, .pending = 1, .started_min_ago = 4 };
	struct bj_http_reply r;
	char tok[33], url[300];
	const char *ja[] = { bj_plant_auth("alice"), "Accept-Language: ja-JP,ja;q=0.9,en;q=0.5",
	    NULL };
	const char *en[] = { bj_plant_auth("alice"), "Accept-Language: en-GB,en;q=0.9", NULL };

	bj_plant_job(db, &p, tok);
	snprintf(url, sizeof url, "%s/jobs/%s", e2e.url, tok);
	CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, ja, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<html lang=\"ja\">"));
	/* in UTF-8, not as character references */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "実行中"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "一時停止"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "&#"));
	CU_ASSERT_PTR_NULL(strstr(r.body, ">Pause<"));
	CU_ASSERT(bj_plant_valid_html(r.body));
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, en, NULL, 0, &r), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<html lang=\"en\">"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, ">Pause<"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "4 minutes ago"));
	bj_http_reply_free(&r);
}

/* A finished job: no refresh, no buttons, a download button with its expiry. */
static void
test_finished_job_stops_refreshing(void)
{
	struct bj_plant p = { .owner = "alice", .title = "Done export", .state = "succeeded",
	    .total = 1, .succeeded = 1, .started_min_ago = 5, .finished = 1,
	    .artifact = "done.csv", .artifact_expires_min = 60 * 24 };
	struct bj_http_reply r;
	char tok[33], path[100];

	long long id = bj_plant_job(db, &p, tok);

	bj_plant_notification(db, id, "email", "alice@example.org", "pending", 2,
	    "451 try later");
	bj_plant_notification(db, id, "webhook", "http://10.0.0.5:8080/h", "dead", 3,
	    "Couldn't connect to server: Failed to connect to 10.0.0.5 port 8080");
	snprintf(path, sizeof path, "/jobs/%s", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Succeeded"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "retrying"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "email to alice@example.org"));
	/* the delivery errors (addresses, ports, the peer's words) are not for page readers */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "could not be delivered"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "451 try later"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "10.0.0.5"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "8080"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "refresh"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "<form"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "/download\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Available until"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "(in 24 hours)"));
	CU_ASSERT(bj_plant_valid_html(r.body));
	bj_http_reply_free(&r);
	/* bob holds the link (public_links): he sees that an email went, not to whom */
	bj_plant_get(e2e.url, path, "bob", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "email to a\u2026@example.org"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "alice@"));
	bj_http_reply_free(&r);
}

/*
 * GET base path as user (NULL: signed out), with Accept-Language
 * accept_language and If-None-Match inm (each NULL: none): the status; its
 * ETag into etag; the reply into r, when not NULL (the caller frees it).
 */
static long
get_page(const char *base, const char *path, const char *user, const char *accept_language,
    const char *inm, struct bj_http_reply *r, char etag[48])
{
	struct bj_http_reply own;
	char url[700], lang[80], cond[100], *v;
	const char *h[4] = { NULL, NULL, NULL, NULL };
	int n = 0;
	long st;

	if (r == NULL)
		r = &own;
	if (user != NULL)
		h[n++] = bj_plant_auth(user);
	if (accept_language != NULL) {
		snprintf(lang, sizeof lang, "Accept-Language: %s", accept_language);
		h[n++] = lang;
	}
	if (inm != NULL) {
		snprintf(cond, sizeof cond, "If-None-Match: %s", inm);
		h[n++] = cond;
	}
	snprintf(url, sizeof url, "%s%s", base, path);
	CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, h, NULL, 0, r), 0);
	st = r->status;
	v = bj_http_header(r, "ETag");
	snprintf(etag, 48, "%s", v ? v : "");
	free(v);
	if (r == &own)
		bj_http_reply_free(&own);
	return st;
}

/* GET path as user with If-None-Match inm (NULL: none): the status; its ETag into etag. */
static long
get_cond(const char *base, const char *path, const char *user, const char *inm,
    char etag[48])
{
	return get_page(base, path, user, NULL, inm, NULL, etag);
}

/*
 * A polled page: the same bytes while nothing changes, 304 under its
 * ETag; a new one when only the clock moved what it says ("10 minutes
 * ago"), and for another reader.
 */
static void
test_status_page_revalidates(void)
{
	struct bj_plant p = { .owner = "alice", .title = "Polled", .state = "running",
	    .total = 4, .succeeded = 1, .pending = 3, .started_min_ago = 10 };
	struct bj_http_reply a, b;
	char tok[33], path[100], etag[48], now[48];
	long long id = bj_plant_job(db, &p, tok);

	snprintf(path, sizeof path, "/jobs/%s", tok);
	bj_plant_get(e2e.url, path, "alice", &a);
	bj_plant_get(e2e.url, path, "alice", &b);
	CU_ASSERT_EQUAL(a.status, 200);
	CU_ASSERT(a.len == b.len && memcmp(a.body, b.body, a.len) == 0);
	bj_http_reply_free(&a);
	bj_http_reply_free(&b);
	CU_ASSERT_EQUAL(get_cond(e2e.url, path, "alice", NULL, etag), 200);
	CU_ASSERT_EQUAL(get_cond(e2e.url, path, "alice", etag, now), 304);
	/* bob may see the link's page (public_links), but it is his own page */
	CU_ASSERT_EQUAL(get_cond(e2e.url, path, "bob", etag, now), 200);
	CU_ASSERT_STRING_NOT_EQUAL(now, etag);
	CU_ASSERT_EQUAL(get_cond(e2e.url, path, NULL, etag, now), 401);
	{
		/* another language is another page */
		char url[700], cond[80];
		const char *ja[] = { bj_plant_auth("alice"), "Accept-Language: ja", cond, NULL };

		snprintf(cond, sizeof cond, "If-None-Match: %s", etag);
		snprintf(url, sizeof url, "%s%s", e2e.url, path);
		CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, ja, NULL, 0, &a), 0);
		CU_ASSERT_EQUAL(a.status, 200);
		bj_http_reply_free(&a);
	}
	/* no write to the job, only time: "started 10 minutes ago" became "2 hours ago" */
	bj_test_sqlf(db, "UPDATE jobs SET started_at = started_at - INTERVAL 2 HOUR WHERE id = %lld",
	    id);
	CU_ASSERT_EQUAL(get_cond(e2e.url, path, "alice", etag, now), 200);
	CU_ASSERT_STRING_NOT_EQUAL(now, etag);
	/* the list too */
	CU_ASSERT_EQUAL(get_cond(e2e.url, "/jobs", "alice", NULL, etag), 200);
	CU_ASSERT_EQUAL(get_cond(e2e.url, "/jobs", "alice", etag, now), 304);
	CU_ASSERT_EQUAL(get_cond(e2e.url, "/jobs", "bob", etag, now), 200);
	bj_test_sqlf(db, "UPDATE jobs SET version = version + 1 WHERE id = %lld", id);
	CU_ASSERT_EQUAL(get_cond(e2e.url, "/jobs", "alice", etag, now), 200);
}

/* GET path as alice in the language of accept_language: the status; its body and ETag. */
static long
get_lang(const char *path, const char *accept_language, const char *inm,
    struct bj_http_reply *r, char etag[48])
{
	return get_page(e2e.url, path, "alice", accept_language, inm, r, etag);
}

/*
 * While a job has claims its page's ETag names the clock's step of 15 s:
 * a poll that crosses a step is sent the page again under the next tag.
 * Ask again with that tag once, which lands within one step.
 */
static int
get_unchanged(const char *path, char etag[48])
{
	struct bj_http_reply r;
	char now[48];
	int status = get_lang(path, "en", etag, &r, now);

	if (status == 200 && strcmp(now, etag) != 0) {
		bj_http_reply_free(&r);
		snprintf(etag, 48, "%s", now);
		status = get_lang(path, "en", etag, &r, now);
	}
	bj_http_reply_free(&r);
	return status;
}

/*
 * A worker claims three items, completes one and stops answering: once
 * the leases of the other two have run out, the page no longer promises
 * an end at the current rate but says what they wait for, in a new page
 * under a new ETag although nothing but the clock moved.
 */
static void
test_status_page_of_a_lost_worker(void)
{
	char *admin = bj_e2e_token(&e2e, "pages-lost", "admin", NULL), path[100], etag[48],
	    now[48], body[200];
	struct json_object *job = NULL, *cl = NULL, *done = NULL, *items;
	struct bj_http_reply r;
	long long id, first;

	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	CU_ASSERT_EQUAL_FATAL(bj_e2e_api(&e2e, admin, "POST", "/v1/jobs", "{\"kind\":\"lost\","
	    "\"owner\":\"alice\",\"title\":\"Lost worker\",\"items\":[{\"key\":\"a\"},"
	    "{\"key\":\"b\"},{\"key\":\"c\"},{\"key\":\"d\"}]}", &job), 201);
	id = json_object_get_int64(bj_test_json_get(job, "id"));
	snprintf(path, sizeof path, "/jobs/%s",
	    json_object_get_string(bj_test_json_get(job, "token")));
	CU_ASSERT_EQUAL_FATAL(bj_e2e_api(&e2e, admin, "POST", "/v1/claims", "{\"worker\":"
	    "\"w-lost\",\"kinds\":[\"lost\"],\"limit\":3,\"lease_seconds\":60}", &cl), 200);
	items = bj_test_json_get(cl, "items");
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(items), 3);
	first = json_object_get_int64(bj_test_json_get(json_object_array_get_idx(items, 0),
	    "id"));
	snprintf(body, sizeof body, "{\"lease_token\":\"%s\"}", json_object_get_string(
	    bj_test_json_get(json_object_array_get_idx(items, 0), "lease_token")));
	{
		char item[80];
		snprintf(item, sizeof item, "/v1/items/%lld/complete", first);
		CU_ASSERT_EQUAL(bj_e2e_api(&e2e, admin, "POST", item, body, &done), 200);
	}
	/* ten seconds in, one item done: less than a minute to go, not "just now" */
	bj_test_sqlf(db, "UPDATE jobs SET started_at = NOW(6) - INTERVAL 10 SECOND"
	    " WHERE id = %lld", id);
	CU_ASSERT_EQUAL(get_lang(path, "en", NULL, &r, etag), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body,
	    "Expected to finish in less than a minute at the current rate."));
	bj_http_reply_free(&r);
	/* it has run for ten minutes: one item in, three to go */
	bj_test_sqlf(db, "UPDATE jobs SET started_at = NOW(6) - INTERVAL 10 MINUTE"
	    " WHERE id = %lld", id);
	CU_ASSERT_EQUAL(get_lang(path, "en", NULL, &r, etag), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Expected to finish in 30 minutes at the current rate."));
	CU_ASSERT_PTR_NULL(strstr(r.body, "stopped answering"));
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(get_unchanged(path, etag), 304);

	/*
	 * The worker is gone and a minute passes: its two leases run out and
	 * nothing is written. The page looks at leases as of its last step of
	 * 15 s: the poller that still holds the old tag is sent the new page
	 * by the next step.
	 */
	bj_test_sqlf(db, "UPDATE items SET lease_expires_at = NOW(6) - INTERVAL 20 SECOND"
	    " WHERE job_id = %lld AND state = 'claimed'", id);
	for (int tries = 0; tries < 40; tries++) {
		if (get_lang(path, "en", etag, &r, now) != 304)
			break;
		bj_http_reply_free(&r);
		usleep(500 * 1000);
	}
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	CU_ASSERT_STRING_NOT_EQUAL(now, etag);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<p class=\"lapsed\">2 items wait for a worker "
	    "that stopped answering; they go back to the queue by "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, " UTC (the next reaper run).</p>"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "Expected to finish"));
	CU_ASSERT(bj_plant_valid_html(r.body));
	bj_http_reply_free(&r);
	snprintf(etag, sizeof etag, "%s", now);
	CU_ASSERT_EQUAL(get_unchanged(path, etag), 304);
	CU_ASSERT_EQUAL(get_lang(path, "ja", NULL, &r, now), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "2件の項目が、応答しなくなったワーカーを待っています。"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "完了する見込み"));
	bj_http_reply_free(&r);

	/* the reaper is late: the page makes no promise of a time that has passed */
	bj_test_sqlf(db, "UPDATE items SET lease_expires_at = NOW(6) - INTERVAL 5 MINUTE"
	    " WHERE job_id = %lld AND state = 'claimed'", id);
	CU_ASSERT_EQUAL(get_lang(path, "en", NULL, &r, now), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "2 items wait for a worker that stopped answering;"
	    " they go back to the queue at the next reaper run."));
	bj_http_reply_free(&r);
	json_object_put(job);
	json_object_put(cl);
	json_object_put(done);
	free(admin);
}

/* Titles, keys and errors from strangers show as text. */
static void
test_hostile_text_is_escaped(void)
{
	struct bj_plant p = { .owner = "alice", .title = "<script>alert(1)</script>",
	    .state = "running", .total = 1, .failed = 1, .started_min_ago = 1 };
	struct bj_http_reply r;
	char tok[33], path[100];
	long long id = bj_plant_job(db, &p, tok);
	long long it = bj_plant_item(db, id, 0, "\"><img src=x onerror=alert(2)>", "failed");

	bj_plant_failure(db, id, it, 1, "</td><iframe src=//evil.example></iframe>");
	bj_plant_event(db, id, "note", "<b onmouseover=alert(3)>hi</b>");
	snprintf(path, sizeof path, "/jobs/%s", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "&lt;img src=x onerror=alert(2)&gt;"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "<script"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "<img"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "<iframe"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "<b "));
	CU_ASSERT(bj_plant_valid_html(r.body));
	bj_http_reply_free(&r);
}

/* An unknown or malformed token: a 404 page that does not echo it. */
static void
test_unknown_token_is_404(void)
{
	struct bj_http_reply r;

	bj_plant_get(e2e.url, "/jobs/NoSuchTokenAtAllXYZ123", "alice", &r);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT_PTR_NULL(strstr(r.body, "NoSuchTokenAtAllXYZ123"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "There is no job at this address."));
	CU_ASSERT(bj_plant_valid_html(r.body));
	bj_http_reply_free(&r);
	bj_plant_get(e2e.url, "/jobs/%3Cscript%3E/download", "alice", &r);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT_PTR_NULL(strstr(r.body, "script"));
	bj_http_reply_free(&r);
}

/* /jobs: 401 for nobody; alice sees only hers, newest first, 25 a page. */
static void
test_list_shows_only_own_jobs(void)
{
	struct bj_plant a1 = { .owner = "bob", .title = "Bob first", .state = "queued" };
	struct bj_plant a2 = { .owner = "bob", .title = "Bob second", .state = "running",
	    .total = 10, .succeeded = 4, .started_min_ago = 2 };
	struct bj_plant c = { .owner = "alice", .title = "Alice secret", .state = "queued" };
	struct bj_http_reply r;
	char tok[33], *older;
	const char *first, *second;

	bj_plant_job(db, &a1, tok);
	bj_plant_job(db, &a2, tok);
	bj_plant_job(db, &c, tok);

	bj_plant_get(e2e.url, "/jobs", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 401);
	bj_http_reply_free(&r);

	bj_plant_get(e2e.url, "/jobs", "bob", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	first = strstr(r.body, "Bob first");
	second = strstr(r.body, "Bob second");
	CU_ASSERT(first != NULL && second != NULL && second < first);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "4 of 10"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "Alice secret"));
	CU_ASSERT(bj_plant_valid_html(r.body));
	bj_http_reply_free(&r);

	/* carol has 30 jobs: 25, then 5 behind "Older jobs" */
	for (int i = 0; i < 30; i++) {
		char title[32];
		struct bj_plant m = { .owner = "carol", .title = title, .state = "queued" };
		snprintf(title, sizeof title, "Carol job %02d", i);
		bj_plant_job(db, &m, tok);
	}
	bj_plant_get(e2e.url, "/jobs", "carol", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Carol job 29"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Carol job 05"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "Carol job 04"));
	older = bj_plant_attr_after(r.body, "<nav>", "href");
	CU_ASSERT_PTR_NOT_NULL_FATAL(older);
	bj_http_reply_free(&r);
	CU_ASSERT_FATAL(strncmp(older, "/bulkjobs/jobs?after=", 21) == 0);
	bj_plant_get(e2e.url, older + strlen("/bulkjobs"), "carol", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Carol job 04"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Carol job 00"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "Carol job 05"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "Older jobs"));
	bj_http_reply_free(&r);
	free(older);

	bj_plant_get(e2e.url, "/jobs?after=abc", "carol", &r);
	CU_ASSERT_EQUAL(r.status, 400);
	bj_http_reply_free(&r);
}

/* Write ROOT/artifacts/rel with content. */
static void
write_artifact(const char *rel, const char *content)
{
	char path[900];
	FILE *f;

	snprintf(path, sizeof path, "%s/artifacts/out", e2e.root);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/artifacts/%s", e2e.root, rel);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(content, f);
	fclose(f);
}

/* Downloads through nginx's X-Accel-Redirect; 404, 410, no way out of root. */
static void
test_download_through_nginx(void)
{
	struct bj_plant p = { .owner = "alice", .title = "Report", .state = "succeeded",
	    .total = 1, .succeeded = 1, .started_min_ago = 3, .finished = 1,
	    .artifact = "out/rapport été 1.csv", .artifact_expires_min = 60 };
	struct bj_http_reply r;
	char tok[33], path[100], *cd;

	write_artifact("out/rapport été 1.csv", "id,name\n1,Zoë\n");
	bj_plant_job(db, &p, tok);
	snprintf(path, sizeof path, "/jobs/%s/download", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.body, "id,name\n1,Zoë\n");
	cd = bj_http_header(&r, "Content-Disposition");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cd);
	CU_ASSERT_STRING_EQUAL(cd, "attachment; filename=\"rapport __t__ 1.csv\"; "
	    "filename*=UTF-8''rapport%20%C3%A9t%C3%A9%201.csv");
	free(cd);
	assert_header(&r, "Content-Type", "text/csv; charset=utf-8");	/* kept by nginx */
	cd = bj_http_header(&r, "X-Accel-Redirect");
	CU_ASSERT_PTR_NULL(cd);		/* nginx consumed it */
	free(cd);
	/* the redirect drops the app's other headers: the internal location sets them */
	cd = bj_http_header(&r, "X-Content-Type-Options");
	CU_ASSERT_PTR_NOT_NULL(cd);
	CU_ASSERT_STRING_EQUAL(cd ? cd : "", "nosniff");
	free(cd);
	bj_http_reply_free(&r);

	/* expired: 410 */
	p.artifact_expires_min = -5;
	p.artifact = "out/old.csv";
	write_artifact("out/old.csv", "old");
	bj_plant_job(db, &p, tok);
	snprintf(path, sizeof path, "/jobs/%s/download", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 410);
	CU_ASSERT_PTR_NULL(strstr(r.body, "old"));
	bj_http_reply_free(&r);
	snprintf(path, sizeof path, "/jobs/%s", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "no longer available"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "/download\""));
	bj_http_reply_free(&r);

	/* no artifact: 404 */
	p.artifact = NULL;
	bj_plant_job(db, &p, tok);
	snprintf(path, sizeof path, "/jobs/%s/download", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 404);
	bj_http_reply_free(&r);

	/* a path out of the root: refused, the config is not served */
	p.artifact = "../bulkjobs.conf";
	p.artifact_expires_min = 60;
	bj_plant_job(db, &p, tok);
	snprintf(path, sizeof path, "/jobs/%s/download", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT_PTR_NULL(strstr(r.body, "[database]"));
	bj_http_reply_free(&r);
	{
		char link[900], target[900];
		snprintf(target, sizeof target, "%s/bulkjobs.conf", e2e.root);
		snprintf(link, sizeof link, "%s/artifacts/out/link.conf", e2e.root);
		unlink(link);
		CU_ASSERT_EQUAL(symlink(target, link), 0);
	}
	/* a directory is no file */
	p.artifact = "out";
	bj_plant_job(db, &p, tok);
	snprintf(path, sizeof path, "/jobs/%s/download", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 404);
	bj_http_reply_free(&r);

	p.artifact = "out/link.conf";
	bj_plant_job(db, &p, tok);
	snprintf(path, sizeof path, "/jobs/%s/download", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT_PTR_NULL(strstr(r.body, "[database]"));
	bj_http_reply_free(&r);
}

/*
 * A symlink swapped in the artifacts root while downloads run: nginx
 * (disable_symlinks on the internal location) sends nothing from outside.
 */
static void
test_download_symlink_race(void)
{
	int inside = 0;

	CU_ASSERT_EQUAL(bj_plant_symlink_race(db, e2e.url, e2e.root, 3.0, &inside), 0);
	CU_ASSERT(inside > 0);
}

/* Cross-site posts and posts without the token are refused; the page's own work. */
static void
test_form_posts_need_csrf(void)
{
	struct bj_plant p = { .owner = "alice", .title = "Cancel me", .state = "running",
	    .total = 2, .pending = 1, .claimed = 1, .started_min_ago = 1 };
	struct bj_http_reply r;
	char tok[33], other[33], path[120], form[200], *csrf, *csrf_other;
	long long id = bj_plant_job(db, &p, tok);

	bj_plant_item(db, id, 0, "a", "pending");
	bj_plant_item(db, id, 0, "b", "claimed");
	bj_plant_job(db, &p, other);
	CU_ASSERT_EQUAL(bj_db_execp(db,
	    "INSERT INTO job_targets (job_id, channel, target_hash,"
	    " target) VALUES (?, 'email', SHA2('alice@example.org', 256), 'alice@example.org')",
	    NULL, BJ_PARAMS(BJ_P_INT(id))), 0);

	csrf = page_csrf(tok, "alice");
	csrf_other = page_csrf(other, "alice");
	CU_ASSERT_PTR_NOT_NULL_FATAL(csrf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(csrf_other);
	CU_ASSERT_STRING_NOT_EQUAL(csrf, csrf_other);

	snprintf(path, sizeof path, "/jobs/%s/cancel", tok);
	/* no token */
	bj_plant_post(e2e.url, path, "alice", "", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	bj_http_reply_free(&r);
	/* another job's token */
	snprintf(form, sizeof form, "csrf=%s", csrf_other);
	bj_plant_post(e2e.url, path, "alice", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	bj_http_reply_free(&r);
	/* the right token, but for another user */
	snprintf(form, sizeof form, "csrf=%s", csrf);
	bj_plant_post(e2e.url, path, "bob", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	bj_http_reply_free(&r);
	/* the right token from a cross-site page */
	bj_plant_post(e2e.url, path, "alice", form, "Sec-Fetch-Site: cross-site", &r);
	CU_ASSERT_EQUAL(r.status, 403);
	bj_http_reply_free(&r);
	/* a form far larger than the page's own is 413, not a bad request */
	{
		struct bj_buf big = { 0 };
		bj_buf_printf(&big, "csrf=%s&pad=", csrf);
		for (int i = 0; i < 10000; i++)
			bj_buf_addc(&big, 'x');
		bj_plant_post(e2e.url, path, "alice", big.data, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 413);
		bj_http_reply_free(&r);
		bj_buf_free(&big);
	}
	CU_ASSERT_STRING_EQUAL(job_state(tok), "running");

	/* pause, resume, cancel from the page */
	snprintf(path, sizeof path, "/jobs/%s/pause", tok);
	bj_plant_post(e2e.url, path, "alice", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	{
		char *loc = bj_http_header(&r, "Location"), want[120];
		snprintf(want, sizeof want, "/bulkjobs/jobs/%s", tok);
		CU_ASSERT_PTR_NOT_NULL_FATAL(loc);
		CU_ASSERT_STRING_EQUAL(loc, want);
		free(loc);
	}
	bj_http_reply_free(&r);
	CU_ASSERT_STRING_EQUAL(job_state(tok), "paused");
	bj_plant_post(e2e.url, path, "alice", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 409);		/* paused already */
	bj_http_reply_free(&r);
	snprintf(path, sizeof path, "/jobs/%s", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Paused"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "/resume\""));
	CU_ASSERT_PTR_NULL(strstr(r.body, "/pause\""));
	bj_http_reply_free(&r);
	snprintf(path, sizeof path, "/jobs/%s/resume", tok);
	bj_plant_post(e2e.url, path, "alice", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	bj_http_reply_free(&r);
	CU_ASSERT_STRING_EQUAL(job_state(tok), "running");

	snprintf(path, sizeof path, "/jobs/%s/cancel", tok);
	bj_plant_post(e2e.url, path, "alice", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	bj_http_reply_free(&r);
	CU_ASSERT_STRING_EQUAL(job_state(tok), "cancelled");
	/* counted cancelled at once; the pending rows are left for the reaper */
	CU_ASSERT_EQUAL(scalar_s("SELECT COUNT(*) FROM items i JOIN jobs j ON j.id = i.job_id"
	    " WHERE j.token = ? AND i.state IN ('cancelled', 'pending')", tok), 2);
	CU_ASSERT_EQUAL(scalar_s("SELECT n_cancelled FROM jobs WHERE token = ?", tok), 2);
	CU_ASSERT_EQUAL(scalar_s("SELECT n_pending + n_claimed FROM jobs WHERE token = ?", tok), 0);
	CU_ASSERT_EQUAL(scalar_s("SELECT COUNT(*) FROM notifications n JOIN jobs j"
	    " ON j.id = n.job_id WHERE j.token = ? AND n.event = 'job.cancelled'", tok), 1);
	CU_ASSERT_EQUAL(scalar_s("SELECT COUNT(*) FROM job_events e JOIN jobs j"
	    " ON j.id = e.job_id WHERE j.token = ? AND e.type IN ('paused','resumed','cancelled')",
	    tok), 3);
	bj_plant_post(e2e.url, path, "alice", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 409);		/* terminal: nothing changes */
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(scalar_s("SELECT COUNT(*) FROM notifications n JOIN jobs j"
	    " ON j.id = n.job_id WHERE j.token = ?", tok), 1);
	free(csrf);
	free(csrf_other);
}

/*
 * A failed job's page offers its owner "Retry failed items": without the
 * csrf field nothing changes; with it the job runs again (303 to the
 * page); the same form posted again (a reload) starts no second round.
 */
static void
test_retry_button(void)
{
	struct bj_plant p = { .owner = "alice", .title = "Retry me", .state = "failed",
	    .total = 2, .succeeded = 1, .failed = 1, .started_min_ago = 5, .finished = 1 };
	struct bj_http_reply r;
	char tok[33], path[120], form[200], *csrf, *round;
	long long id = bj_plant_job(db, &p, tok);

	bj_plant_item(db, id, 0, "a", "succeeded");
	bj_plant_item(db, id, 0, "b", "failed");
	snprintf(path, sizeof path, "/jobs/%s", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	CU_ASSERT(bj_plant_valid_html(r.body));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "/retry\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Retry failed items"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "/cancel\""));
	csrf = bj_plant_attr_after(r.body, "name=\"csrf\"", "value");
	round = bj_plant_attr_after(r.body, "name=\"round\"", "value");
	bj_http_reply_free(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(csrf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(round);
	CU_ASSERT_STRING_EQUAL(round, "1");

	snprintf(path, sizeof path, "/jobs/%s/retry", tok);
	snprintf(form, sizeof form, "round=%s", round);
	bj_plant_post(e2e.url, path, "alice", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	bj_http_reply_free(&r);
	CU_ASSERT_STRING_EQUAL(job_state(tok), "failed");
	CU_ASSERT_EQUAL(scalar_s("SELECT round * 10 + n_failed FROM jobs WHERE token = ?", tok), 11);

	/* a round that is not one the page could have shown: 400, nothing changed */
	{
		/* "2": a round this job has not reached */
		const char *bad[] = { "", "abc", "-3", "0", "1x", "4294967297", "2" };

		for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
			post_retry(tok, csrf, bad[i], 400, NULL);
		CU_ASSERT_EQUAL(scalar_s("SELECT round * 10 + n_failed FROM jobs WHERE token = ?",
		    tok), 11);
	}
	snprintf(form, sizeof form, "csrf=%s&round=%s", csrf, round);
	for (int post = 0; post < 2; post++) {
		bj_plant_post(e2e.url, path, "alice", form, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 303);
		bj_http_reply_free(&r);
		CU_ASSERT_STRING_EQUAL(job_state(tok), "running");
		CU_ASSERT_EQUAL(scalar_s("SELECT round FROM jobs WHERE token = ?", tok), 2);
		CU_ASSERT_EQUAL(scalar_s("SELECT n_pending * 10 + n_succeeded FROM jobs"
		    " WHERE token = ?", tok), 11);
		CU_ASSERT_EQUAL(scalar_s("SELECT COUNT(*) FROM job_events e JOIN jobs j"
		    " ON j.id = e.job_id WHERE j.token = ? AND e.type = 'retried'"
		    " AND e.detail LIKE '%by alice'", tok), 1);
	}
	/* round 2 runs: a retry form for it is refused until it fails */
	post_retry(tok, csrf, "2", 409, "Only a failed job can be retried.");
	CU_ASSERT_EQUAL(scalar_s("SELECT round FROM jobs WHERE token = ?", tok), 2);
	snprintf(path, sizeof path, "/jobs/%s", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_PTR_NULL(strstr(r.body, "/retry\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Retried"));
	bj_http_reply_free(&r);
	free(csrf);
	free(round);

	/*
	 * A failed job whose files the reaper removed after its page was shown:
	 * the button posted then is refused (409), nothing changes, and the page
	 * no longer offers it.
	 */
	id = bj_plant_job(db, &p, tok);
	bj_plant_item(db, id, 0, "b", "failed");
	csrf = page_csrf(tok, "alice");
	CU_ASSERT_PTR_NOT_NULL_FATAL(csrf);
	bj_test_sqlf(db, "UPDATE jobs SET artifact_deleted_at = NOW(6) WHERE id = %lld", id);
	post_retry(tok, csrf, "1", 409, "files were removed");
	CU_ASSERT_EQUAL(scalar_s("SELECT round * 10 + n_failed FROM jobs WHERE token = ?", tok), 11);
	snprintf(path, sizeof path, "/jobs/%s", tok);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NULL(strstr(r.body, "/retry\""));
	bj_http_reply_free(&r);
	free(csrf);
}

/*
 * When the database fails, pages are 503 with Retry-After, as bulkjobs-fcgi(8)
 * says, also when only the status page's second statement fails.
 */
static void
test_database_trouble_is_503(void)
{
	struct bj_plant p = { .owner = "alice", .title = "Soon back", .state = "running",
	    .total = 1, .pending = 1, .started_min_ago = 1 };
	struct bj_http_reply r;
	char tok[33], path[120];

	bj_plant_job(db, &p, tok);
	snprintf(path, sizeof path, "/jobs/%s", tok);
	bj_test_sql(db, "RENAME TABLE jobs TO jobs_away");
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 503);
	assert_header(&r, "Retry-After", "5");
	bj_http_reply_free(&r);
	bj_plant_get(e2e.url, "/jobs", "alice", &r);
	CU_ASSERT_EQUAL(r.status, 503);
	assert_header(&r, "Retry-After", "5");
	bj_http_reply_free(&r);
	bj_test_sql(db, "RENAME TABLE jobs_away TO jobs");
	/* the job answers but its timeline does not: 503, not a page without it */
	bj_test_sql(db, "RENAME TABLE job_events TO job_events_away");
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 503);
	assert_header(&r, "Retry-After", "5");
	CU_ASSERT_PTR_NULL(strstr(r.body, "Soon back"));
	bj_http_reply_free(&r);
	bj_test_sql(db, "RENAME TABLE job_events_away TO job_events");
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Soon back"));
	bj_http_reply_free(&r);
}

static struct bj_e2e priv;
static struct bj_db *privdb;

static int
init_private(void)
{
	if (bj_e2e_start(&priv, "pagespriv", "[http]\npublic_links = no\n") == -1 ||
	    bj_plant_users(priv.root) == -1)
		return -1;
	privdb = bj_test_db("pagespriv");
	return privdb == NULL ? -1 : 0;
}

static int
clean_private(void)
{
	bj_e2e_stop(&priv);
	return 0;
}

/* public_links = no: only the owner sees the page and gets the file. */
static void
test_private_links_need_the_owner(void)
{
	struct bj_plant p = { .owner = "alice", .title = "Private", .state = "running",
	    .total = 2, .pending = 2, .started_min_ago = 1 };
	struct bj_http_reply r;
	char tok[33], path[120], form[120], *csrf;

	bj_plant_job(privdb, &p, tok);
	snprintf(path, sizeof path, "/jobs/%s", tok);
	bj_plant_get(priv.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<h1>Private</h1>"));
	csrf = bj_plant_attr_after(r.body, "name=\"csrf\"", "value");
	bj_http_reply_free(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(csrf);

	/* bob holds the link: the job does not exist for him, whatever tag he sends */
	{
		char etag[48], now[48];
		CU_ASSERT_EQUAL(get_cond(priv.url, path, "alice", NULL, etag), 200);
		CU_ASSERT_EQUAL(get_cond(priv.url, path, "bob", etag, now), 404);
		CU_ASSERT_EQUAL(get_cond(priv.url, path, "bob", "*", now), 404);
	}
	bj_plant_get(priv.url, path, "bob", &r);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT_PTR_NULL(strstr(r.body, "Private"));
	bj_http_reply_free(&r);
	snprintf(path, sizeof path, "/jobs/%s/pause", tok);
	snprintf(form, sizeof form, "csrf=%s", csrf);
	bj_plant_post(priv.url, path, "bob", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(bj_test_scalar(privdb, "SELECT COUNT(*) FROM jobs WHERE title = 'Private'"
	    " AND state = 'running'"), 1);
	free(csrf);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("pages", init, clean);

	CU_add_test(s, "status page of a running job", test_status_page_of_running_job);
	CU_add_test(s, "stage line and lists of the status page", test_status_page_stages_and_lists);
	CU_add_test(s, "page in the reader's language", test_page_in_the_readers_language);
	CU_add_test(s, "failures of a running job", test_status_page_failures_of_running_job);
	CU_add_test(s, "finished job stops refreshing", test_finished_job_stops_refreshing);
	CU_add_test(s, "a polled page revalidates", test_status_page_revalidates);
	CU_add_test(s, "status page of a lost worker", test_status_page_of_a_lost_worker);
	CU_add_test(s, "hostile text is escaped", test_hostile_text_is_escaped);
	CU_add_test(s, "unknown token is 404", test_unknown_token_is_404);
	CU_add_test(s, "list shows only own jobs", test_list_shows_only_own_jobs);
	CU_add_test(s, "download through nginx", test_download_through_nginx);
	CU_add_test(s, "download: a symlink race leads nowhere", test_download_symlink_race);
	CU_add_test(s, "form posts need csrf", test_form_posts_need_csrf);
	CU_add_test(s, "a failed job's retry button", test_retry_button);
	CU_add_test(s, "database trouble is 503 with Retry-After", test_database_trouble_is_503);
	s = bj_test_suite("pages with public_links = no", init_private, clean_private);
	CU_add_test(s, "private links need the owner", test_private_links_need_the_owner);
	return bj_test_run();
}
