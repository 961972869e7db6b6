/* test_worker_submit.c: bulkjobsctl submit from NDJSON into the real database; its errors. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/wait.h>

#include "buf.h"
#include "harness.h"

static struct bj_e2e e2e;
static struct bj_db *db;

static int
init(void)
{
	if (bj_e2e_start(&e2e, "submit", NULL) == -1)
		return -1;
	db = bj_test_db("submit");
	return 0;
}

static int
clean(void)
{
	bj_e2e_stop(&e2e);
	return 0;
}

/* Write text to a file under the suite's directory; returns its path (static). */
static const char *
items_file(const char *name, const char *text)
{
	static char path[700];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", e2e.root, name);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Run bulkjobsctl submit ARGS with stderr appended to stdout; all output in *out. */
static int
submit(const char *args, char *out, size_t len)
{
	const char *bld = getenv("BJ_BUILDDIR");
	char *cmd = bj_xasprintf("%s/ctl/bulkjobsctl -c '%s' submit %s 2>&1", bld, e2e.conf_path,
	    args);
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	int st;

	free(cmd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	while (n + 1 < len && fgets(out + n, (int)(len - n), p) != NULL)
		n += strlen(out + n);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_submit_creates_job_and_items(void)
{
	const char *path = items_file("ok.ndjson",
	    "{\"key\":\"projects\",\"stage\":0,\"payload\":{\"table\":\"projects\"}}\n"
	    "\n"
	    "{\"key\":\"issues\",\"stage\":0,\"payload\":{\"table\":\"issues\",\"path\":\"a/b\"}}\r\n"
	    "{\"key\":\"merge\",\"stage\":1}\n");
	char args[900], out[2048], sql[600], *link, tok[128];
	long long id;

	snprintf(args, sizeof args, "--kind project_export --owner alice --title 'Nightly export' "
	    "--items '%s'", path);
	CU_ASSERT_EQUAL_FATAL(submit(args, out, sizeof out), 0);
	CU_ASSERT_EQUAL_FATAL(sscanf(out, "created job %lld with 3 items", &id), 1);
	CU_ASSERT_EQUAL(bj_test_scalar(db, "SELECT COUNT(*) FROM jobs"), 1);
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM jobs WHERE id = %lld AND kind = 'project_export' "
	    "AND owner = 'alice' AND title = 'Nightly export' AND state IN ('queued','running')", id);
	CU_ASSERT_EQUAL(bj_test_scalar(db, sql), 1);
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM items WHERE job_id = %lld", id);
	CU_ASSERT_EQUAL(bj_test_scalar(db, sql), 3);
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM items WHERE job_id = %lld AND `key` = 'merge' "
	    "AND stage = 1", id);
	CU_ASSERT_EQUAL(bj_test_scalar(db, sql), 1);
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM items WHERE job_id = %lld AND stage = 0 "
	    "AND JSON_VALUE(payload, '$.table') = `key`", id);
	CU_ASSERT_EQUAL(bj_test_scalar(db, sql), 2);
	/* the status page link carries the job's token */
	link = strstr(out, "status page: ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(link);
	CU_ASSERT_EQUAL(strncmp(link + 13, e2e.url, strlen(e2e.url)), 0);
	CU_ASSERT_EQUAL(sscanf(link + 13 + strlen(e2e.url), "/jobs/%127[A-Za-z0-9_-]", tok), 1);
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM jobs WHERE id = %lld AND token = '%s'", id, tok);
	CU_ASSERT_EQUAL(bj_test_scalar(db, sql), 1);
}

static void
test_submit_refuses_bad_input(void)
{
	char args[900], out[2048];
	long long before = bj_test_scalar(db, "SELECT COUNT(*) FROM jobs");
	const char *path;

	/* a broken line is named by file and line, and nothing is created */
	path = items_file("bad.ndjson", "{\"key\":\"a\",\"stage\":0}\n{\"key\":\"b\",\"stage\":0\n");
	snprintf(args, sizeof args, "--kind k --owner o --items '%s'", path);
	CU_ASSERT_EQUAL(submit(args, out, sizeof out), 65);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bad.ndjson:2: "));

	path = items_file("nokey.ndjson", "{\"stage\":0}\n");
	snprintf(args, sizeof args, "--kind k --owner o --items '%s'", path);
	CU_ASSERT_EQUAL(submit(args, out, sizeof out), 65);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "nokey.ndjson:1: \"key\""));

	path = items_file("stage.ndjson", "{\"key\":\"a\",\"stage\":\"one\"}\n");
	snprintf(args, sizeof args, "--kind k --owner o --items '%s'", path);
	CU_ASSERT_EQUAL(submit(args, out, sizeof out), 65);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"stage\""));

	/* the model's own checks, as for POST /v1/jobs */
	path = items_file("negative.ndjson", "{\"key\":\"a\",\"stage\":-1}\n");
	snprintf(args, sizeof args, "--kind k --owner o --items '%s'", path);
	CU_ASSERT_EQUAL(submit(args, out, sizeof out), 65);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "items[0].stage"));

	path = items_file("empty.ndjson", "\n\n");
	snprintf(args, sizeof args, "--kind k --owner o --items '%s'", path);
	CU_ASSERT_EQUAL(submit(args, out, sizeof out), 65);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "at least one item"));

	path = items_file("one.ndjson", "{\"key\":\"a\"}\n");
	snprintf(args, sizeof args, "--kind 'bad kind' --owner o --items '%s'", path);
	CU_ASSERT_EQUAL(submit(args, out, sizeof out), 65);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "kind:"));

	snprintf(args, sizeof args, "--kind k --owner o --webhook ftp://x/ --items '%s'", path);
	CU_ASSERT_EQUAL(submit(args, out, sizeof out), 65);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "notify.webhooks[0]"));

	CU_ASSERT_EQUAL(submit("--kind k --owner o --items /nonexistent/items.ndjson", out,
	    sizeof out), 66);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "/nonexistent/items.ndjson"));

	CU_ASSERT_EQUAL(submit("--owner o --items x", out, sizeof out), 64);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "usage:"));

	CU_ASSERT_EQUAL(bj_test_scalar(db, "SELECT COUNT(*) FROM jobs"), before);
}

static void
test_submit_with_targets(void)
{
	const char *path = items_file("t.ndjson", "{\"key\":\"only\",\"stage\":0,\"payload\":null}\n");
	char args[900], out[2048];

	snprintf(args, sizeof args, "--kind k --owner bob --email bob@example.org "
	    "--webhook http://127.0.0.1:9/hook --items '%s'", path);
	CU_ASSERT_EQUAL_FATAL(submit(args, out, sizeof out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "with 1 item\n"));
	CU_ASSERT_EQUAL(bj_test_scalar(db, "SELECT COUNT(*) FROM job_targets t JOIN jobs j "
	    "ON j.id = t.job_id WHERE j.owner = 'bob'"), 2);
}

static void
test_submit_from_stdin(void)
{
	const char *path = items_file("stdin.ndjson",
	    "{\"key\":\"one\",\"stage\":0}\n{\"key\":\"two\",\"stage\":2}\n");
	char args[900], out[2048];

	snprintf(args, sizeof args, "--kind k --owner carol --items - < '%s'", path);
	CU_ASSERT_EQUAL_FATAL(submit(args, out, sizeof out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "with 2 items\n"));
	CU_ASSERT_EQUAL(bj_test_scalar(db, "SELECT COUNT(*) FROM items i JOIN jobs j "
	    "ON j.id = i.job_id WHERE j.owner = 'carol'"), 2);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("bulkjobsctl submit", init, clean);

	CU_add_test(s, "NDJSON items become a job", test_submit_creates_job_and_items);
	CU_add_test(s, "bad input is refused and creates nothing", test_submit_refuses_bad_input);
	CU_add_test(s, "notification targets", test_submit_with_targets);
	CU_add_test(s, "items from standard input", test_submit_from_stdin);
	return bj_test_run();
}
