/*
 * test_apache.c: the end-user pages through real Apache httpd with
 * conf/apache.conf (mod_proxy_fcgi): login, status page, list, form posts,
 * the operators' console, and downloads by X-Sendfile (mod_xsendfile) and
 * by streaming.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apache.h"
#include "harness.h"
#include "pages_plant.h"

static struct bj_e2e e2e;
static struct bj_apache ap;
static struct bj_db *db;

/* bulkjobs-fcgi with the given download mode, behind Apache. */
static int
start(const char *name, const char *mode, int xsendfile)
{
	char extra[100];

	snprintf(extra, sizeof extra, "download = %s\n[http]\nadmins = carol\n", mode);
	if (bj_e2e_start(&e2e, name, extra) == -1 || bj_plant_users(e2e.root) == -1)
		return -1;
	if ((db = bj_test_db(name)) == NULL)
		return -1;
	return bj_apache_start(&ap, &e2e, xsendfile);
}

static int
init_xsendfile(void)
{
	if (!bj_apache_has_xsendfile()) {
		fprintf(stderr, "test_apache: mod_xsendfile is not installed "
		    "(libapache2-mod-xsendfile)\n");
		return -1;
	}
	return start("apache", "x-sendfile", 1);
}

static int
init_stream(void)
{
	return start("apachestream", "stream", 0);
}

static int
clean(void)
{
	bj_apache_stop(&ap);
	bj_e2e_stop(&e2e);
	return 0;
}

/* A succeeded job of alice's with a file; its token in tok. */
static void
plant_with_file(const char *rel, const char *content, char tok[33])
{
	struct bj_plant p = { .owner = "alice", .title = "Apache report", .state = "succeeded",
	    .total = 1, .succeeded = 1, .started_min_ago = 2, .finished = 1,
	    .artifact = rel, .artifact_expires_min = 120 };
	char path[900];
	FILE *f;

	snprintf(path, sizeof path, "%s/artifacts/%s", e2e.root, rel);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(content, f);
	fclose(f);
	bj_plant_job(db, &p, tok);
}

/* The status page and the list through Apache: login, headers, only her jobs. */
static void
test_pages_through_apache(void)
{
	struct bj_plant mine = { .owner = "alice", .title = "<script>alert(1)</script>",
	    .state = "running", .total = 4, .succeeded = 1, .pending = 3, .started_min_ago = 1 };
	struct bj_plant theirs = { .owner = "bob", .title = "Bob only", .state = "queued" };
	struct bj_http_reply r;
	char tok[33], path[100], *csp;

	bj_plant_job(db, &theirs, tok);
	bj_plant_job(db, &mine, tok);
	snprintf(path, sizeof path, "/jobs/%s", tok);

	bj_plant_get(ap.url, path, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 401);
	bj_http_reply_free(&r);

	bj_plant_get(ap.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "<script"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "25% done"));
	CU_ASSERT(bj_plant_valid_html(r.body));
	csp = bj_http_header(&r, "Content-Security-Policy");
	CU_ASSERT_PTR_NOT_NULL(csp);
	CU_ASSERT(csp != NULL && strstr(csp, "frame-ancestors 'none'") != NULL);
	free(csp);
	bj_http_reply_free(&r);

	bj_plant_get(ap.url, "/jobs", "alice", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Signed in as <strong>alice</strong>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "&lt;script&gt;"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "Bob only"));
	bj_http_reply_free(&r);
}

/* The buttons work through Apache; a post without the token does not. */
static void
test_form_post_through_apache(void)
{
	struct bj_plant p = { .owner = "alice", .title = "Cancel via Apache",
	    .state = "queued", .total = 1, .pending = 1 };
	struct bj_http_reply r;
	char tok[33], path[120], form[100], *csrf;
	long long id = bj_plant_job(db, &p, tok);

	bj_plant_item(db, id, 0, "only", "pending");
	snprintf(path, sizeof path, "/jobs/%s", tok);
	bj_plant_get(ap.url, path, "alice", &r);
	csrf = bj_plant_attr_after(r.body, "name=\"csrf\"", "value");
	bj_http_reply_free(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(csrf);

	snprintf(path, sizeof path, "/jobs/%s/cancel", tok);
	bj_plant_post(ap.url, path, "alice", "csrf=", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	bj_http_reply_free(&r);
	snprintf(form, sizeof form, "csrf=%s", csrf);
	bj_plant_post(ap.url, path, "alice", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(bj_test_scalar(db, "SELECT COUNT(*) FROM jobs WHERE title ="
	    " 'Cancel via Apache' AND state = 'cancelled'"), 1);
	free(csrf);
}

/* The console through Apache: its login, an admin, a non-admin, "deliver again". */
static void
test_console_through_apache(void)
{
	struct bj_plant p = { .owner = "alice", .title = "Apache console job", .state = "failed",
	    .total = 1, .failed = 1, .started_min_ago = 3, .finished = 1 };
	const char *forged[] = { "Authorization: Basic Y2Fyb2w6d3Jvbmc=", NULL };
	struct bj_http_reply r;
	char tok[33], url[300], path[120], form[100], *csrf;
	long long id = bj_plant_job(db, &p, tok), note;

	bj_plant_notification(db, id, "webhook", "https://apache.example/hook", "dead", 12,
	    "410 Gone");
	note = bj_test_scalar(db, "SELECT MAX(id) FROM notifications");
	snprintf(url, sizeof url, "%s/admin", ap.url);
	CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, forged, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.status, 401);
	bj_http_reply_free(&r);
	bj_plant_get(ap.url, "/admin", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 401);
	bj_http_reply_free(&r);
	bj_plant_get(ap.url, "/admin", "alice", &r);
	CU_ASSERT_EQUAL(r.status, 403);
	bj_http_reply_free(&r);
	bj_plant_get(ap.url, "/admin", "carol", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<h1>Operators' console</h1>"));
	CU_ASSERT(bj_plant_valid_html(r.body));
	bj_http_reply_free(&r);
	bj_plant_get(ap.url, "/admin/notifications", "carol", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "https://apache.example/hook"));
	csrf = bj_plant_attr_after(r.body, "/deliver\"", "value");
	bj_http_reply_free(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(csrf);
	snprintf(path, sizeof path, "/admin/notifications/%lld/deliver", note);
	snprintf(form, sizeof form, "csrf=%s", csrf);
	bj_plant_post(ap.url, path, "alice", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	bj_http_reply_free(&r);
	bj_plant_post(ap.url, path, "carol", form, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	bj_http_reply_free(&r);
	CU_ASSERT_EQUAL(bj_test_scalar(db, "SELECT COUNT(*) FROM notifications WHERE"
	    " target = 'https://apache.example/hook' AND state = 'pending' AND attempt_base = attempts"), 1);
	free(csrf);
}

/* A download arrives whole with a safe filename, whichever way it is sent. */
static void
test_download_through_apache(void)
{
	struct bj_http_reply r;
	char tok[33], path[100], *cd, *xs;

	plant_with_file("naïve \"quoted\".txt", "hello from apache\n", tok);
	snprintf(path, sizeof path, "/jobs/%s/download", tok);
	bj_plant_get(ap.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.len, strlen("hello from apache\n"));
	CU_ASSERT_STRING_EQUAL(r.body, "hello from apache\n");
	cd = bj_http_header(&r, "Content-Disposition");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cd);
	CU_ASSERT_STRING_EQUAL(cd, "attachment; filename=\"na__ve _quoted_.txt\"; "
	    "filename*=UTF-8''na%C3%AFve%20%22quoted%22.txt");
	xs = bj_http_header(&r, "X-Sendfile");
	CU_ASSERT_PTR_NULL(xs);		/* consumed, the path never reaches the client */
	free(xs);
	free(cd);
	bj_http_reply_free(&r);

	bj_plant_get(ap.url, "/jobs/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/download", "alice", &r);
	CU_ASSERT_EQUAL(r.status, 404);
	bj_http_reply_free(&r);
}

/*
 * A symlink swapped in the artifacts root while streamed downloads run
 * through Apache: nothing from outside the root. (mod_xsendfile follows
 * links when it opens the file and has no setting against it, which is
 * why conf/apache.conf recommends download = stream.)
 */
static void
test_download_symlink_race(void)
{
	int inside = 0;

	CU_ASSERT_EQUAL(bj_plant_symlink_race(db, ap.url, e2e.root, 3.0, &inside), 0);
	CU_ASSERT(inside > 0);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("apache x-sendfile", init_xsendfile, clean);

	CU_add_test(s, "pages through apache", test_pages_through_apache);
	CU_add_test(s, "form post through apache", test_form_post_through_apache);
	CU_add_test(s, "console through apache", test_console_through_apache);
	CU_add_test(s, "download by x-sendfile", test_download_through_apache);
	s = bj_test_suite("apache stream", init_stream, clean);
	CU_add_test(s, "download streamed", test_download_through_apache);
	CU_add_test(s, "streamed: a symlink race leads nowhere", test_download_symlink_race);
	return bj_test_run();
}
