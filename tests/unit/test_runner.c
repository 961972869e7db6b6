/* test_runner.c: the worker's command runner with real /bin/sh commands; claims replies. */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"
#include "../../worker/worker.h"

/* Drive r until the command is finished, like the worker's loop does; 0 or -1 when it never ends. */
static int
wait_run(struct bj_run *r, double stop_after)
{
	double start = bj_now();
	int stopped = 0;

	for (;;) {
		struct pollfd pfd[4];
		int n = bj_run_pollfds(r, pfd);
		double now;

		poll(pfd, (nfds_t)n, 100);
		now = bj_now();
		bj_run_io(r, pfd, n, now);
		if (bj_run_finished(r, now))
			return 0;
		if (stop_after >= 0 && !stopped && now - start >= stop_after) {
			bj_run_stop(r, now, 0.3);
			stopped = 1;
		}
		bj_run_tick(r, now);
		if (now - start > 30)
			return -1;
	}
}

/* Run command with input to the end. */
static void
run(struct bj_run *r, const char *command, char *const *env, const char *input)
{
	CU_ASSERT_EQUAL_FATAL(bj_run_start(r, command, env, input, input ? strlen(input) : 0), 0);
	CU_ASSERT_EQUAL_FATAL(wait_run(r, -1), 0);
}

static void
test_progress_lines(void)
{
	long long d = -1, t = -1;

	CU_ASSERT_EQUAL(bj_progress_parse("progress 3 10", &d, &t), 0);
	CU_ASSERT_EQUAL(d, 3);
	CU_ASSERT_EQUAL(t, 10);
	CU_ASSERT_EQUAL(bj_progress_parse("progress  0\t0 \r", &d, &t), 0);
	CU_ASSERT_EQUAL(d, 0);
	CU_ASSERT_EQUAL(t, 0);
	CU_ASSERT_EQUAL(bj_progress_parse("progress 11 10", &d, &t), -1);
	CU_ASSERT_EQUAL(bj_progress_parse("progress -1 10", &d, &t), -1);
	CU_ASSERT_EQUAL(bj_progress_parse("progress 1", &d, &t), -1);
	CU_ASSERT_EQUAL(bj_progress_parse("progress 1 2 3", &d, &t), -1);
	CU_ASSERT_EQUAL(bj_progress_parse("progressive 1 2", &d, &t), -1);
	CU_ASSERT_EQUAL(bj_progress_parse("progress 99999999999999999999 1", &d, &t), -1);
	CU_ASSERT_EQUAL(bj_progress_parse("done 1 2", &d, &t), -1);
}

static void
test_utf8_clean(void)
{
	char *s = bj_utf8_clean("caf\xc3\xa9 \xff ok\x80", 11);

	CU_ASSERT_STRING_EQUAL(s, "caf\xc3\xa9 ? ok?");
	free(s);
	s = bj_utf8_clean("a\0b", 3);
	CU_ASSERT_STRING_EQUAL(s, "a?b");
	free(s);
	/* a 3-byte sequence cut short, an overlong '/' and a surrogate */
	s = bj_utf8_clean("\xe2\x82 \xc0\xaf \xed\xa0\x80", 9);
	CU_ASSERT_STRING_EQUAL(s, "?? ?? ???");
	free(s);
}

static void
test_exit0_payload_and_result(void)
{
	struct bj_run r;
	char *err = (char *)"x", *res, *art;

	run(&r, "cat >/dev/null; echo 'a log line'; "
	    "echo '{\"rows\":42,\"artifact\":\"jobs/1/part.csv\"}'", NULL, "{\"table\":\"issues\"}");
	CU_ASSERT_EQUAL(bj_run_outcome(&r, &err), BJ_OUT_COMPLETE);
	CU_ASSERT_PTR_NULL(err);
	bj_run_result(&r, &res, &art);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	CU_ASSERT_STRING_EQUAL(res, "{\"rows\":42,\"artifact\":\"jobs/1/part.csv\"}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(art);
	CU_ASSERT_STRING_EQUAL(art, "jobs/1/part.csv");
	free(res);
	free(art);
	bj_run_free(&r);

	/* the payload arrives on stdin, byte for byte */
	run(&r, "cat", NULL, "{\"table\":\"issues\"}");
	bj_run_result(&r, &res, &art);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	CU_ASSERT_STRING_EQUAL(res, "{\"table\":\"issues\"}");
	CU_ASSERT_PTR_NULL(art);
	free(res);
	free(art);
	bj_run_free(&r);

	/* plain text on stdout is no result */
	run(&r, "echo hello", NULL, NULL);
	CU_ASSERT_EQUAL(bj_run_outcome(&r, &err), BJ_OUT_COMPLETE);
	bj_run_result(&r, &res, &art);
	CU_ASSERT_PTR_NULL(res);
	CU_ASSERT_PTR_NULL(art);
	bj_run_free(&r);
}

static void
test_large_payload(void)
{
	size_t n = 3 * 1024 * 1024;
	char *big = malloc(n + 1);
	struct bj_run r;
	char *err;

	memset(big, 'x', n);
	big[n] = '\0';
	run(&r, "wc -c", NULL, big);
	CU_ASSERT_EQUAL(bj_run_outcome(&r, &err), BJ_OUT_COMPLETE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.out.data);
	CU_ASSERT_EQUAL(atoll(r.out.data), (long long)n);
	bj_run_free(&r);
	/* a command that never reads its stdin still ends normally */
	run(&r, "exit 0", NULL, big);
	CU_ASSERT_EQUAL(bj_run_outcome(&r, &err), BJ_OUT_COMPLETE);
	bj_run_free(&r);
	free(big);
}

static void
test_exit_codes(void)
{
	struct bj_run r;
	char *err;

	run(&r, "echo 'database busy' >&2; exit 75", NULL, NULL);
	CU_ASSERT_EQUAL(bj_run_outcome(&r, &err), BJ_OUT_RETRY);
	CU_ASSERT_STRING_EQUAL(err, "database busy");
	free(err);
	bj_run_free(&r);

	run(&r, "echo 'starting' >&2; echo 'no such table: issuez' >&2; exit 1", NULL, NULL);
	CU_ASSERT_EQUAL(bj_run_outcome(&r, &err), BJ_OUT_FAIL);
	CU_ASSERT_STRING_EQUAL(err, "starting\nno such table: issuez");
	free(err);
	bj_run_free(&r);

	run(&r, "exit 3", NULL, NULL);
	CU_ASSERT_EQUAL(bj_run_outcome(&r, &err), BJ_OUT_FAIL);
	CU_ASSERT_STRING_EQUAL(err, "command exited with status 3");
	free(err);
	bj_run_free(&r);

	run(&r, "kill -KILL $$", NULL, NULL);
	CU_ASSERT_EQUAL(bj_run_outcome(&r, &err), BJ_OUT_RETRY);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "signal 9"));
	free(err);
	bj_run_free(&r);

	/* a child killed under a shell that did not exec it: 128+N */
	run(&r, "sh -c 'kill -TERM $$'; exit $?", NULL, NULL);
	CU_ASSERT_EQUAL(bj_run_outcome(&r, &err), BJ_OUT_RETRY);
	free(err);
	bj_run_free(&r);
}

static void
test_stderr_tail_is_bounded(void)
{
	struct bj_run r;
	char *err;

	/* 20000 bytes of noise, then the line that matters, some of it not UTF-8 */
	run(&r, "i=0; while [ $i -lt 400 ]; do echo 'noise noise noise noise noise noise noise' >&2; "
	    "i=$((i+1)); done; printf 'bad \\377 byte\\nfatal: disk full\\n' >&2; exit 2", NULL, NULL);
	CU_ASSERT_EQUAL(bj_run_outcome(&r, &err), BJ_OUT_FAIL);
	CU_ASSERT(strlen(err) <= BJ_RUN_STDERR_TAIL);
	CU_ASSERT(strlen(err) > 1000);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad ? byte\nfatal: disk full"));
	CU_ASSERT_EQUAL(strcmp(err + strlen(err) - 15, "fatal: disk full" + 1), 0);
	free(err);
	bj_run_free(&r);
}

static void
test_progress_on_fd3(void)
{
	struct bj_run r;
	char *err;

	run(&r, "echo 'progress 1 10' >&3; echo 'garbage' >&3; echo 'progress 7 10' >&3; "
	    "echo 'progress 12 10' >&3", NULL, NULL);
	CU_ASSERT_EQUAL(bj_run_outcome(&r, &err), BJ_OUT_COMPLETE);
	CU_ASSERT_EQUAL(r.done, 7);
	CU_ASSERT_EQUAL(r.total, 10);
	bj_run_free(&r);

	run(&r, "true", NULL, NULL);
	CU_ASSERT_EQUAL(r.total, -1);
	bj_run_free(&r);
}

static void
test_environment(void)
{
	char *env[] = { "BULKJOBS_ITEM_KEY=issues", "BULKJOBS_STAGE=0", NULL };
	struct bj_run r;

	setenv("BULKJOBS_TOKEN", "bj_secret", 1);
	setenv("BULKJOBS_STAGE", "9", 1);	/* the item's value wins over the worker's */
	setenv("BULKJOBS_TEST_KEEP", "kept", 1);
	run(&r, "printf '%s/%s/%s/%s' \"$BULKJOBS_ITEM_KEY\" \"$BULKJOBS_STAGE\" "
	    "\"${BULKJOBS_TOKEN-unset}\" \"$BULKJOBS_TEST_KEEP\"", env, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.out.data);
	CU_ASSERT_STRING_EQUAL(r.out.data, "issues/0/unset/kept");
	bj_run_free(&r);
	unsetenv("BULKJOBS_TOKEN");
	unsetenv("BULKJOBS_STAGE");
	unsetenv("BULKJOBS_TEST_KEEP");
	/* only 0..3 are open in the command */
	run(&r, "ls /proc/self/fd | sort -n | tr '\\n' ' '", NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.out.data);
	/* ls itself opens one more descriptor for the directory */
	CU_ASSERT_EQUAL(strncmp(r.out.data, "0 1 2 3 4 ", 10), 0);
	CU_ASSERT_EQUAL(strlen(r.out.data), 10);
	bj_run_free(&r);
}

static void
test_stop_term_then_kill(void)
{
	struct bj_run r;
	char *err;

	/* a command that ignores SIGTERM, with a child of its own */
	CU_ASSERT_EQUAL_FATAL(bj_run_start(&r, "trap '' TERM; sleep 60 & sleep 60; wait", NULL,
	    NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(wait_run(&r, 0.2), 0);
	CU_ASSERT_EQUAL(bj_run_outcome(&r, &err), BJ_OUT_RETRY);
	CU_ASSERT(WIFSIGNALED(r.status));
	CU_ASSERT_EQUAL(WTERMSIG(r.status), SIGKILL);
	free(err);
	bj_run_free(&r);

	/* a command that obeys SIGTERM */
	CU_ASSERT_EQUAL_FATAL(bj_run_start(&r, "exec sleep 60", NULL, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(wait_run(&r, 0.1), 0);
	CU_ASSERT(WIFSIGNALED(r.status));
	CU_ASSERT_EQUAL(WTERMSIG(r.status), SIGTERM);
	bj_run_free(&r);
}

static void
test_leftover_child_does_not_hang(void)
{
	struct bj_run r;
	char *err;

	/* the shell exits, its background child keeps stdout open */
	run(&r, "sleep 60 & echo '{\"ok\":true}'", NULL, NULL);
	CU_ASSERT_EQUAL(bj_run_outcome(&r, &err), BJ_OUT_COMPLETE);
	CU_ASSERT_PTR_NOT_NULL(r.out.data);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.data, "{\"ok\":true}"));
	bj_run_free(&r);
}

static void
test_claims_reply(void)
{
	const char *ok = "{\"items\":[{\"id\":7,\"job_id\":3,\"kind\":\"export\",\"key\":\"issues\","
	    "\"stage\":0,\"payload\":{\"table\":\"issues\"},\"attempt\":2,\"lease_token\":\"lt1\","
	    "\"lease_expires_at\":\"2026-11-22T08:00:00Z\"},{\"id\":8,\"job_id\":3,\"kind\":\"export\","
	    "\"key\":\"merge\",\"stage\":1,\"payload\":null,\"attempt\":1,\"lease_token\":\"lt2\"}]}";
	struct bj_held **v;
	const char *why;
	int n;

	CU_ASSERT_EQUAL_FATAL(bj_held_parse(ok, strlen(ok), &v, &n, &why), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(v[0]->id, 7);
	CU_ASSERT_EQUAL(v[0]->job_id, 3);
	CU_ASSERT_STRING_EQUAL(v[0]->key, "issues");
	CU_ASSERT_STRING_EQUAL(v[0]->payload, "{\"table\":\"issues\"}");
	CU_ASSERT_EQUAL(v[0]->attempt, 2);
	CU_ASSERT_STRING_EQUAL(v[0]->lease_token, "lt1");
	CU_ASSERT_EQUAL(v[1]->stage, 1);
	CU_ASSERT_STRING_EQUAL(v[1]->payload, "null");
	for (int i = 0; i < n; i++)
		bj_held_free(v[i]);
	free(v);

	CU_ASSERT_EQUAL(bj_held_parse("{\"items\":[]}", 12, &v, &n, &why), 0);
	CU_ASSERT_EQUAL(n, 0);
	free(v);
	CU_ASSERT_EQUAL(bj_held_parse("{\"items\":[{\"id\":1}]}", 20, &v, &n, &why), -1);
	CU_ASSERT_PTR_NULL(v);
	CU_ASSERT_EQUAL(bj_held_parse("{\"items\":[{\"id\":\"1\",\"job_id\":1,\"lease_token\":\"x\"}]}",
	    50, &v, &n, &why), -1);
	CU_ASSERT_EQUAL(bj_held_parse("[]", 2, &v, &n, &why), -1);
	CU_ASSERT_EQUAL(bj_held_parse("{\"items\":[]} x", 14, &v, &n, &why), -1);
}

static void
test_lease_left(void)
{
	time_t date = 1795336472;	/* 2026-11-22T08:34:32Z */

	CU_ASSERT_DOUBLE_EQUAL(bj_lease_left("2026-11-22T08:35:32.500000Z", date), 60.5, 0.001);
	CU_ASSERT_DOUBLE_EQUAL(bj_lease_left("2026-11-22T08:34:35Z", date), 3, 0.001);
	CU_ASSERT_DOUBLE_EQUAL(bj_lease_left("2026-11-23T08:34:32.000000Z", date), 86400, 0.001);
	CU_ASSERT(bj_lease_left("2026-11-22T08:34:30Z", date) < 0);
	CU_ASSERT_EQUAL(bj_lease_left("yesterday", date), -1);
	CU_ASSERT_EQUAL(bj_lease_left(NULL, date), -1);
	CU_ASSERT_EQUAL(bj_lease_left("2026-11-22T08:35:32Z", 0), -1);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("worker runner", NULL, NULL);

	signal(SIGPIPE, SIG_IGN);
	CU_add_test(s, "fd 3 progress lines", test_progress_lines);
	CU_add_test(s, "UTF-8 cleaning for error texts", test_utf8_clean);
	CU_add_test(s, "exit 0: payload on stdin, JSON result and artifact", test_exit0_payload_and_result);
	CU_add_test(s, "payload larger than a pipe", test_large_payload);
	CU_add_test(s, "exit 75 / signal retry, other exits fail with stderr", test_exit_codes);
	CU_add_test(s, "stderr tail is bounded and clean", test_stderr_tail_is_bounded);
	CU_add_test(s, "progress from fd 3", test_progress_on_fd3);
	CU_add_test(s, "environment of the command", test_environment);
	CU_add_test(s, "stop: SIGTERM, then SIGKILL for the group", test_stop_term_then_kill);
	CU_add_test(s, "a leftover background child does not hang the run", test_leftover_child_does_not_hang);
	CU_add_test(s, "claims reply parsing", test_claims_reply);
	CU_add_test(s, "lease length from lease_expires_at and Date", test_lease_left);
	return bj_test_run();
}
