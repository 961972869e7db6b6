/* test_settle.c: fan-in, terminal moves, the outbox and the timeline against a real MariaDB. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "job.h"

static struct bj_db *db;

static int
init(void)
{
	db = bj_test_db("settle");
	return db == NULL ? -1 : 0;
}

/* A job row with the given counters, state and on_item_failure; returns its id. */
static long long
make_job(const char *state, const char *onfail, int stage, int remaining, int total,
    int pending, int claimed, int succeeded, int failed)
{
	char sql[1024];
	static int seq;

	snprintf(sql, sizeof sql, "INSERT INTO jobs (token, kind, owner, state, stage,"
	    " stage_count, stage_remaining, n_total, n_pending, n_claimed, n_succeeded,"
	    " n_failed, created_at, updated_at, deadline_at, retention_seconds,"
	    " max_attempts, lease_seconds, on_item_failure) VALUES ('tok%025d', 'export',"
	    " 'alice', '%s', %d, 2, %d, %d, %d, %d, %d, %d, NOW(6), NOW(6),"
	    " NOW(6) + INTERVAL 1 DAY, 3600, 3, 60, '%s')", ++seq, state, stage, remaining,
	    total, pending, claimed, succeeded, failed, onfail);
	bj_test_sql(db, sql);
	return (long long)bj_db_insert_id(db);
}

/* An item of job in stage with state. */
static void
make_item(long long job, int stage, const char *state)
{
	char sql[512];

	snprintf(sql, sizeof sql, "INSERT INTO items (job_id, stage, `key`, state, run_after)"
	    " VALUES (%lld, %d, 'k', '%s', NOW(6))", job, stage, state);
	bj_test_sql(db, sql);
}

/* Targets: one email and one webhook. */
static void
make_targets(long long job)
{
	char sql[512];

	snprintf(sql, sizeof sql, "INSERT INTO job_targets (job_id, channel, target_hash, target)"
	    " VALUES (%lld, 'email', SHA2('a@example.org', 256), 'a@example.org'),"
	    " (%lld, 'webhook', SHA2('http://127.0.0.1/h', 256), 'http://127.0.0.1/h')", job, job);
	bj_test_sql(db, sql);
}

/* A scalar query built from fmt. */
#define q(...)	bj_test_scalarf(db, __VA_ARGS__)

static void
test_stage_advance_then_success(void)
{
	long long id = make_job("running", "fail_job", 0, 0, 3, 1, 0, 2, 0);
	struct bj_job *j;

	make_item(id, 0, "succeeded");
	make_item(id, 0, "succeeded");
	make_item(id, 1, "pending");
	make_targets(id);
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL(bj_job_settle(db, id), BJ_OK);
	CU_ASSERT_EQUAL(bj_db_commit(db), 0);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->stage, 1);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_RUNNING);
	bj_job_free(j);
	CU_ASSERT_EQUAL(q("SELECT stage_remaining FROM jobs WHERE id = %lld", id), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM job_events WHERE job_id = %lld"
	    " AND type = 'stage_advanced'", id), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld", id), 0);

	/* the last item ends: the job succeeds, once */
	bj_test_sql(db, "UPDATE items SET state = 'succeeded' WHERE state = 'pending'");
	{
		char sql[256];
		snprintf(sql, sizeof sql, "UPDATE jobs SET n_pending = 0, n_succeeded = 3,"
		    " stage_remaining = 0 WHERE id = %lld", id);
		bj_test_sql(db, sql);
	}
	for (int round = 0; round < 2; round++) {
		CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
		CU_ASSERT_EQUAL(bj_job_settle(db, id), BJ_OK);
		CU_ASSERT_EQUAL(bj_db_commit(db), 0);
	}
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_SUCCEEDED);
	CU_ASSERT_PTR_NOT_NULL(j->finished_at);
	CU_ASSERT_PTR_NOT_NULL(j->artifact_expires_at);
	CU_ASSERT_PTR_NOT_NULL(strchr(j->created_at, 'T'));
	CU_ASSERT_EQUAL(j->created_at[strlen(j->created_at) - 1], 'Z');
	bj_job_free(j);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld"
	    " AND event = 'job.succeeded' AND state = 'pending'", id), 2);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM job_events WHERE job_id = %lld"
	    " AND type = 'finished'", id), 1);
}

static void
test_continue_all_failed_fails(void)
{
	long long id = make_job("running", "continue", 0, 0, 1, 0, 0, 0, 1);
	struct bj_job *j;

	make_item(id, 0, "failed");
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL(bj_job_settle(db, id), BJ_OK);
	CU_ASSERT_EQUAL(bj_db_commit(db), 0);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_FAILED);
	bj_job_free(j);
}

static void
test_wrong_counter_is_repaired_not_trusted(void)
{
	long long id = make_job("running", "fail_job", 0, 0, 2, 2, 0, 0, 0);
	struct bj_job *j;

	make_item(id, 0, "pending");
	make_item(id, 0, "pending");
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL(bj_job_settle(db, id), BJ_OK);
	CU_ASSERT_EQUAL(bj_db_commit(db), 0);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_RUNNING);
	bj_job_free(j);
	CU_ASSERT_EQUAL(q("SELECT stage_remaining FROM jobs WHERE id = %lld", id), 2);
}

static void
test_cancel_running_job(void)
{
	long long id = make_job("running", "fail_job", 0, 3, 3, 2, 1, 0, 0);
	struct bj_job *j;

	make_item(id, 0, "pending");
	make_item(id, 0, "pending");
	make_item(id, 0, "claimed");
	make_targets(id);
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL(bj_job_finish(db, id, BJ_JOB_CANCELLED, "by alice"), BJ_OK);
	CU_ASSERT_EQUAL(bj_db_commit(db), 0);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_CANCELLED);
	CU_ASSERT_EQUAL(j->n_pending, 0);
	CU_ASSERT_EQUAL(j->n_claimed, 0);
	CU_ASSERT_EQUAL(j->n_cancelled, 3);
	bj_job_free(j);
	/* the claim is revoked at once; the pending rows are left to the reaper */
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE job_id = %lld"
	    " AND state = 'cancelled'", id), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE job_id = %lld"
	    " AND state = 'pending'", id), 2);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld"
	    " AND event = 'job.cancelled'", id), 2);

	/* terminal: a second move changes nothing */
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL(bj_job_finish(db, id, BJ_JOB_EXPIRED, NULL), BJ_ERR_INVALID_TRANSITION);
	bj_db_rollback(db);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld", id), 2);
}

/*
 * Counters that drifted below the items never make a cancel fail: the
 * claims it revokes are counted, the pending rows as the row says (none
 * here), and the reaper's repair step recounts the rest.
 */
static void
test_cancel_with_drifted_counters(void)
{
	/* the row says nothing is pending or claimed; the items say otherwise */
	long long id = make_job("running", "fail_job", 0, 3, 3, 0, 0, 0, 0);
	struct bj_job *j;

	make_item(id, 0, "pending");
	make_item(id, 0, "pending");
	make_item(id, 0, "claimed");
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL(bj_job_finish(db, id, BJ_JOB_CANCELLED, NULL), BJ_OK);
	CU_ASSERT_EQUAL(bj_db_commit(db), 0);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_CANCELLED);
	CU_ASSERT_EQUAL(j->n_pending, 0);
	CU_ASSERT_EQUAL(j->n_claimed, 0);
	CU_ASSERT_EQUAL(j->n_cancelled, 1);
	bj_job_free(j);
}

static void
test_fail_job_keeps_claims(void)
{
	long long id = make_job("running", "fail_job", 0, 2, 2, 1, 1, 0, 0);
	struct bj_job *j;

	make_item(id, 0, "pending");
	make_item(id, 0, "claimed");
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL(bj_job_finish(db, id, BJ_JOB_FAILED, "item 7 failed"), BJ_OK);
	CU_ASSERT_EQUAL(bj_db_commit(db), 0);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_FAILED);
	CU_ASSERT_EQUAL(j->n_pending, 0);
	CU_ASSERT_EQUAL(j->n_claimed, 1);
	CU_ASSERT_EQUAL(j->n_cancelled, 1);
	bj_job_free(j);
}

static void
test_missing_job(void)
{
	struct bj_job *j = NULL;

	CU_ASSERT_EQUAL(bj_job_get(db, 999999, &j), BJ_ERR_JOB_NOT_FOUND);
	CU_ASSERT_PTR_NULL(j);
	CU_ASSERT_EQUAL(bj_job_by_token(db, "nope", &j), BJ_ERR_JOB_NOT_FOUND);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("settle", init, NULL);

	CU_add_test(s, "stage advance, then success with notifications", test_stage_advance_then_success);
	CU_add_test(s, "continue: every item failed fails the job", test_continue_all_failed_fails);
	CU_add_test(s, "a drifted stage counter is repaired", test_wrong_counter_is_repaired_not_trusted);
	CU_add_test(s, "cancel a running job", test_cancel_running_job);
	CU_add_test(s, "cancel with drifted counters", test_cancel_with_drifted_counters);
	CU_add_test(s, "failing a job keeps its claims", test_fail_job_keeps_claims);
	CU_add_test(s, "missing job", test_missing_job);
	return bj_test_run();
}
