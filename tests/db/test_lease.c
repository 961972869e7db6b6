/* test_lease.c: heartbeat, complete and fail against a real MariaDB, through to the job's end. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "claim.h"
#include "create.h"
#include "harness.h"
#include "job.h"
#include "lease.h"

static struct bj_db *db;

static int
init(void)
{
	db = bj_test_db("lease");
	return db == NULL ? -1 : 0;
}

/* A scalar query built printf-style. */
#define q(...)	bj_test_scalarf(db, __VA_ARGS__)

/* A job of kind with n items (item i in stage i % stages); returns its id. */
static long long
make(const char *kind, int n, int stages, int onfail, int max_attempts)
{
	return bj_test_make_job(db, &(struct bj_test_job){ .kind = kind, .n = (size_t)n,
	    .stages = stages, .on_item_failure = onfail, .max_attempts = max_attempts,
	    .webhook = "http://127.0.0.1:9/hook" });
}

/* Claim up to limit items of kind. */
#define claim(kind, limit, c)	bj_test_claim(db, kind, limit, c)

/* Counts must equal what the items say. */
#define assert_counts_match(id)	bj_test_assert_counts(db, id)

static void
test_two_stages_to_success(void)
{
	long long id = make("walk", 3, 2, BJ_ON_FAIL_JOB, 3);
	struct bj_claimed *c;
	struct bj_job *j;
	int n;

	n = claim("walk", 10, &c);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(bj_lease_complete(db, c[0].id, c[0].lease_token, "{\"rows\":1}", NULL), BJ_OK);
	/* the second completion, and a stale token, change nothing */
	CU_ASSERT_EQUAL(bj_lease_complete(db, c[0].id, c[0].lease_token, NULL, NULL),
	    BJ_ERR_ALREADY_COMPLETED);
	CU_ASSERT_EQUAL(bj_lease_fail(db, c[0].id, c[0].lease_token, "late", 1),
	    BJ_ERR_ALREADY_COMPLETED);
	CU_ASSERT_EQUAL(bj_lease_complete(db, c[0].id, c[1].lease_token, NULL, NULL),
	    BJ_ERR_LEASE_LOST);
	CU_ASSERT_EQUAL(bj_lease_complete(db, c[1].id, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, NULL),
	    BJ_ERR_LEASE_LOST);
	CU_ASSERT_EQUAL(bj_lease_complete(db, 99999999, c[1].lease_token, NULL, NULL),
	    BJ_ERR_ITEM_NOT_FOUND);
	assert_counts_match(id);
	{
		struct bj_claimed *none;
		CU_ASSERT_EQUAL(claim("walk", 10, &none), 0);	/* stage 1 still gated */
		bj_claimed_free(none, 0);
	}
	CU_ASSERT_EQUAL(bj_lease_complete(db, c[1].id, c[1].lease_token, NULL, NULL), BJ_OK);
	bj_claimed_free(c, n);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->stage, 1);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_RUNNING);
	bj_job_free(j);
	n = claim("walk", 10, &c);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(c[0].stage, 1);
	CU_ASSERT_EQUAL(bj_lease_complete(db, c[0].id, c[0].lease_token, NULL, "out/final.csv"), BJ_OK);
	bj_claimed_free(c, n);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_SUCCEEDED);
	CU_ASSERT_STRING_EQUAL(j->artifact, "out/final.csv");
	CU_ASSERT_EQUAL(j->n_succeeded, 3);
	bj_job_free(j);
	assert_counts_match(id);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld"
	    " AND event = 'job.succeeded'", id), 1);
}

static void
test_heartbeat(void)
{
	long long id = make("beat", 1, 1, BJ_ON_FAIL_JOB, 3);
	struct bj_lease_status st;
	struct bj_claimed *c;
	int n = claim("beat", 1, &c);

	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(bj_lease_heartbeat(db, c[0].id, c[0].lease_token, 600, 5, 10, &st), BJ_OK);
	CU_ASSERT_PTR_NOT_NULL(st.lease_expires_at);
	CU_ASSERT_EQUAL(st.job_state, BJ_JOB_RUNNING);
	bj_lease_status_free(&st);
	CU_ASSERT_EQUAL(q("SELECT progress_done * 100 + progress_total FROM items WHERE id = %lld",
	    c[0].id), 510);
	CU_ASSERT(q("SELECT lease_expires_at > NOW(6) + INTERVAL 500 SECOND FROM items"
	    " WHERE id = %lld", c[0].id) == 1);
	CU_ASSERT_EQUAL(bj_lease_heartbeat(db, c[0].id, "wrongwrongwrongwrongwrongwrong12", 0,
	    -1, -1, &st), BJ_ERR_LEASE_LOST);
	bj_lease_status_free(&st);

	/* cancel the job: the next heartbeat says so */
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL(bj_job_finish(db, id, BJ_JOB_CANCELLED, NULL), BJ_OK);
	CU_ASSERT_EQUAL(bj_db_commit(db), 0);
	CU_ASSERT_EQUAL(bj_lease_heartbeat(db, c[0].id, c[0].lease_token, 0, -1, -1, &st),
	    BJ_ERR_LEASE_LOST);
	CU_ASSERT_EQUAL(st.job_state, BJ_JOB_CANCELLED);
	bj_lease_status_free(&st);
	bj_claimed_free(c, n);
	assert_counts_match(id);
}

static void
test_retry_then_fail_job(void)
{
	long long id = make("retry", 2, 1, BJ_ON_FAIL_JOB, 2);
	struct bj_claimed *c;
	struct bj_job *j;
	int n = claim("retry", 1, &c);
	long long item;

	CU_ASSERT_EQUAL_FATAL(n, 1);
	item = c[0].id;
	CU_ASSERT_EQUAL(bj_lease_fail(db, item, c[0].lease_token, "timeout", 1), BJ_OK);
	/* the same failure again (a retry after a lost answer): answered as the first, counted once */
	CU_ASSERT_EQUAL(bj_lease_fail(db, item, c[0].lease_token, "timeout", 1), BJ_OK);
	bj_claimed_free(c, n);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'pending'"
	    " AND run_after > NOW(6) AND run_after <= NOW(6) + INTERVAL 5 SECOND", item), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld", item), 1);
	assert_counts_match(id);
	/* due now: the second attempt fails for good and fails the job */
	{
		char sql[200];
		snprintf(sql, sizeof sql, "UPDATE items SET run_after = NOW(6) WHERE id = %lld", item);
		bj_test_sql(db, sql);
	}
	n = claim("retry", 2, &c);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	for (int i = 0; i < n; i++) {
		if (c[i].id != item)
			continue;
		CU_ASSERT_EQUAL(c[i].attempt, 2);
		CU_ASSERT_EQUAL(bj_lease_fail(db, item, c[i].lease_token, "bad row", 1), BJ_OK);
	}
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_FAILED);
	CU_ASSERT_EQUAL(j->n_failed, 1);
	CU_ASSERT_EQUAL(j->n_claimed, 1);	/* the other claim may still finish */
	bj_job_free(j);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld", item), 2);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld"
	    " AND event = 'job.failed'", id), 1);
	for (int i = 0; i < n; i++)
		if (c[i].id != item)
			CU_ASSERT_EQUAL(bj_lease_complete(db, c[i].id, c[i].lease_token, NULL, NULL), BJ_OK);
	bj_claimed_free(c, n);
	assert_counts_match(id);
	CU_ASSERT_EQUAL(q("SELECT state = 'failed' FROM jobs WHERE id = %lld", id), 1);
}

static void
test_continue_mixed_succeeds(void)
{
	long long id = make("cont", 2, 1, BJ_ON_FAIL_CONTINUE, 1);
	struct bj_claimed *c;
	struct bj_job *j;
	int n = claim("cont", 2, &c);

	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(bj_lease_fail(db, c[0].id, c[0].lease_token, "nope", 1), BJ_OK);
	CU_ASSERT_EQUAL(bj_lease_complete(db, c[1].id, c[1].lease_token, NULL, NULL), BJ_OK);
	bj_claimed_free(c, n);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_SUCCEEDED);
	CU_ASSERT_EQUAL(j->n_failed, 1);
	bj_job_free(j);
	assert_counts_match(id);
}

static void
test_backoff_grows(void)
{
	CU_ASSERT_EQUAL(bj_lease_backoff(1), 2);	/* what the reaper test sees too */
	CU_ASSERT_EQUAL(bj_lease_backoff(2), 8);
	CU_ASSERT(bj_lease_backoff(2) > bj_lease_backoff(1));
	CU_ASSERT(bj_lease_backoff(3) > bj_lease_backoff(2));
	CU_ASSERT_EQUAL(bj_lease_backoff(50), 3600);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("lease", init, NULL);

	CU_add_test(s, "two stages from claims to success", test_two_stages_to_success);
	CU_add_test(s, "heartbeat extends, stores progress, reports a cancel", test_heartbeat);
	CU_add_test(s, "retryable failure backs off, then fails the job", test_retry_then_fail_job);
	CU_add_test(s, "continue: one failure, one success succeeds", test_continue_mixed_succeeds);
	CU_add_test(s, "back-off grows from under 5 s", test_backoff_grows);
	return bj_test_run();
}
