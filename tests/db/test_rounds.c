/*
 * test_rounds.c: retrying a failed job (a new round) against a real
 * MariaDB, through claims, failures and completions: what goes back, the
 * counters, the attempts budget, the deadline, the notifications of each
 * round, and the retries that are refused or repeated.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "claim.h"
#include "create.h"
#include "harness.h"
#include "job.h"
#include "lease.h"

static struct bj_db *db;

static int
init(void)
{
	db = bj_test_db("rounds");
	return db == NULL ? -1 : 0;
}

/* A scalar query built printf-style. */
#define q(...)	bj_test_scalarf(db, __VA_ARGS__)

/* A job of kind with n items (item i in stage i % stages), one webhook and one email. */
static long long
make(const char *kind, int n, int stages, int max_attempts)
{
	return bj_test_make_job(db, &(struct bj_test_job){ .kind = kind, .n = (size_t)n,
	    .stages = stages, .on_item_failure = BJ_ON_FAIL_JOB, .max_attempts = max_attempts,
	    .webhook = "http://127.0.0.1:9/hook", .email = "alice@example.org" });
}

/* Claim up to limit due items of kind. */
#define claim(kind, limit, c)	bj_test_claim(db, kind, limit, c)

/* Make job's backed-off items due now. */
static void
due_now(long long job)
{
	bj_test_sqlf(db, "UPDATE items SET run_after = NOW(6) WHERE job_id = %lld", job);
}

/* The job's state as the model reads it. */
static enum bj_job_state
state_of(long long id)
{
	struct bj_job *j;
	enum bj_job_state s;

	CU_ASSERT_FATAL(bj_job_get(db, id, &j) == BJ_OK);
	s = j->state;
	bj_job_free(j);
	return s;
}

/*
 * Claim the open stage's items and end them: the first fails for good
 * when fail_first, the others succeed. Returns how many were claimed.
 */
static int
run_stage(const char *kind, int fail_first)
{
	struct bj_claimed *c;
	int n = claim(kind, 10, &c);

	for (int i = 0; i < n; i++) {
		enum bj_err e = i == 0 && fail_first ?
		    bj_lease_fail(db, c[i].id, c[i].lease_token, "boom", 0) :
		    bj_lease_complete(db, c[i].id, c[i].lease_token, NULL, NULL);

		CU_ASSERT_EQUAL(e, BJ_OK);
	}
	bj_claimed_free(c, n);
	return n;
}

/* Notifications of job for event in round. */
static long long
notes(long long job, const char *event, int round)
{
	return q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld AND event = '%s'"
	    " AND round = %d", job, event, round);
}

/* Only the failed and the cancelled items go back; the counters follow; it then succeeds. */
static void
test_failed_items_run_again(void)
{
	long long id = make("again", 4, 2, 2);
	long long failed_item, succeeded_item;
	struct bj_claimed *c;
	struct bj_job *j;
	int n;

	/* stage 0: one fails for good, one succeeds; stage 1 is counted cancelled */
	CU_ASSERT_EQUAL_FATAL(run_stage("again", 1), 2);
	CU_ASSERT_EQUAL_FATAL(state_of(id), BJ_JOB_FAILED);
	failed_item = q("SELECT id FROM items WHERE job_id = %lld AND state = 'failed'", id);
	succeeded_item = q("SELECT id FROM items WHERE job_id = %lld AND state = 'succeeded'", id);
	CU_ASSERT_EQUAL(notes(id, "job.failed", 1), 2);

	CU_ASSERT_EQUAL(bj_job_change(db, id, BJ_CHANGE_RETRY, "by alice"), BJ_OK);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_RUNNING);
	CU_ASSERT_EQUAL(j->round, 2);
	CU_ASSERT_EQUAL(j->stage, 0);
	CU_ASSERT_EQUAL(j->n_total, 4);
	CU_ASSERT_EQUAL(j->n_succeeded, 1);
	CU_ASSERT_EQUAL(j->n_pending, 3);
	CU_ASSERT_EQUAL(j->n_failed, 0);
	CU_ASSERT_EQUAL(j->n_cancelled, 0);
	CU_ASSERT_PTR_NULL(j->finished_at);
	CU_ASSERT_PTR_NULL(j->artifact_expires_at);
	bj_job_free(j);
	bj_test_assert_counts(db, id);
	CU_ASSERT_EQUAL(q("SELECT stage_remaining FROM jobs WHERE id = %lld", id), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'succeeded'",
	    succeeded_item), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM job_events WHERE job_id = %lld AND type = 'retried'"
	    " AND detail LIKE 'round 2: 3 items again, by alice'", id), 1);
	/* the failure of round 1 stays in the history */
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld", failed_item), 1);

	/* a fresh budget of 2: the first attempt of the round fails and is retried */
	n = claim("again", 10, &c);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(c[0].id, failed_item);
	CU_ASSERT_EQUAL(c[0].attempt, 2);
	CU_ASSERT_EQUAL(bj_lease_fail(db, c[0].id, c[0].lease_token, "flaky", 1), BJ_OK);
	bj_claimed_free(c, n);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'pending'"
	    " AND run_after <= NOW(6) + INTERVAL 5 SECOND", failed_item), 1);
	CU_ASSERT_EQUAL(state_of(id), BJ_JOB_RUNNING);
	due_now(id);
	CU_ASSERT_EQUAL(run_stage("again", 0), 1);
	CU_ASSERT_EQUAL(run_stage("again", 0), 2);	/* stage 1 */
	CU_ASSERT_EQUAL(state_of(id), BJ_JOB_SUCCEEDED);
	bj_test_assert_counts(db, id);
	CU_ASSERT_EQUAL(notes(id, "job.succeeded", 2), 2);
	CU_ASSERT_EQUAL(notes(id, "job.failed", 1), 2);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld", id), 4);
}

/* A second round that fails again notifies again, once per target; recording twice adds nothing. */
static void
test_second_round_notifies_again(void)
{
	long long id = make("twice", 2, 1, 1);

	CU_ASSERT_EQUAL_FATAL(run_stage("twice", 1), 2);
	CU_ASSERT_EQUAL_FATAL(state_of(id), BJ_JOB_FAILED);
	CU_ASSERT_EQUAL(bj_job_change(db, id, BJ_CHANGE_RETRY, "by alice"), BJ_OK);
	CU_ASSERT_EQUAL(run_stage("twice", 1), 1);
	CU_ASSERT_EQUAL_FATAL(state_of(id), BJ_JOB_FAILED);
	CU_ASSERT_EQUAL(notes(id, "job.failed", 1), 2);
	CU_ASSERT_EQUAL(notes(id, "job.failed", 2), 2);
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL(bj_outbox_record(db, id, "job.failed"), BJ_OK);
	CU_ASSERT_EQUAL(bj_db_commit(db), 0);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld", id), 4);
	/* the item failed at attempt 1, then at attempt 2: two records */
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM item_failures WHERE job_id = %lld", id), 2);
	bj_test_assert_counts(db, id);
}

/* Retrying a job that is not failed is refused and changes nothing. */
static void
test_refused(void)
{
	long long id = make("busy", 2, 1, 2);
	long long version = q("SELECT version FROM jobs WHERE id = %lld", id);
	long long done;

	CU_ASSERT_EQUAL(bj_job_change(db, id, BJ_CHANGE_RETRY, "by alice"),
	    BJ_ERR_INVALID_TRANSITION);
	CU_ASSERT_EQUAL(q("SELECT version FROM jobs WHERE id = %lld", id), version);
	CU_ASSERT_EQUAL(q("SELECT round FROM jobs WHERE id = %lld", id), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM job_events WHERE job_id = %lld"
	    " AND type = 'retried'", id), 0);
	CU_ASSERT_EQUAL(bj_job_change(db, 99999999, BJ_CHANGE_RETRY, NULL), BJ_ERR_JOB_NOT_FOUND);

	/* a succeeded job */
	done = make("done", 1, 1, 2);
	CU_ASSERT_EQUAL(run_stage("done", 0), 1);
	CU_ASSERT_EQUAL_FATAL(state_of(done), BJ_JOB_SUCCEEDED);
	CU_ASSERT_EQUAL(bj_job_change(db, done, BJ_CHANGE_RETRY, NULL), BJ_ERR_INVALID_TRANSITION);
	CU_ASSERT_EQUAL(state_of(done), BJ_JOB_SUCCEEDED);

	/* a failed job whose files the reaper removed after its retention */
	CU_ASSERT_EQUAL(run_stage("busy", 1), 2);
	CU_ASSERT_EQUAL_FATAL(state_of(id), BJ_JOB_FAILED);
	bj_test_sqlf(db, "UPDATE jobs SET artifact_deleted_at = NOW(6) WHERE id = %lld", id);
	version = q("SELECT version FROM jobs WHERE id = %lld", id);
	CU_ASSERT_EQUAL(bj_job_change(db, id, BJ_CHANGE_RETRY, NULL), BJ_ERR_FILES_REMOVED);
	CU_ASSERT_EQUAL(state_of(id), BJ_JOB_FAILED);
	CU_ASSERT_EQUAL(q("SELECT version FROM jobs WHERE id = %lld", id), version);
	CU_ASSERT_EQUAL(q("SELECT n_failed FROM jobs WHERE id = %lld", id), 1);
}

/*
 * A retry that finds nothing to run again (the job's item rows gone,
 * though its files are not) does not leave the job running with nothing
 * to do: it ends again in the same transaction.
 */
static void
test_nothing_to_run_again(void)
{
	long long id = make("empty", 2, 1, 2);

	CU_ASSERT_EQUAL(run_stage("empty", 1), 2);
	CU_ASSERT_EQUAL_FATAL(state_of(id), BJ_JOB_FAILED);
	bj_test_sqlf(db, "DELETE FROM item_failures WHERE job_id = %lld", id);
	bj_test_sqlf(db, "DELETE FROM items WHERE job_id = %lld", id);
	CU_ASSERT_EQUAL(bj_job_change(db, id, BJ_CHANGE_RETRY, "by alice"), BJ_OK);
	CU_ASSERT_EQUAL(q("SELECT round FROM jobs WHERE id = %lld", id), 2);
	CU_ASSERT(bj_job_state_terminal(state_of(id)));
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM job_events WHERE job_id = %lld AND type = 'retried'"
	    " AND detail LIKE 'round 2: 0 items again%%'", id), 1);
}

/* A retry of round 1 sent twice (a lost answer) starts one round. */
static void
test_same_round_twice(void)
{
	long long id = make("once", 2, 1, 2);
	long long version;

	CU_ASSERT_EQUAL(run_stage("once", 1), 2);
	CU_ASSERT_EQUAL_FATAL(state_of(id), BJ_JOB_FAILED);
	CU_ASSERT_EQUAL(bj_job_change_round(db, id, BJ_CHANGE_RETRY, 2, NULL),
	    BJ_ERR_INVALID_TRANSITION);	/* a round it has not reached */
	CU_ASSERT_EQUAL(bj_job_change_round(db, id, BJ_CHANGE_RETRY, 1, "by alice"), BJ_OK);
	version = q("SELECT version FROM jobs WHERE id = %lld", id);
	CU_ASSERT_EQUAL(bj_job_change_round(db, id, BJ_CHANGE_RETRY, 1, "by alice"), BJ_OK);
	CU_ASSERT_EQUAL(q("SELECT version FROM jobs WHERE id = %lld", id), version);
	CU_ASSERT_EQUAL(q("SELECT round FROM jobs WHERE id = %lld", id), 2);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM job_events WHERE job_id = %lld"
	    " AND type = 'retried'", id), 1);
	/* without a round: the job is running, nothing to retry */
	CU_ASSERT_EQUAL(bj_job_change(db, id, BJ_CHANGE_RETRY, NULL), BJ_ERR_INVALID_TRANSITION);
	bj_test_assert_counts(db, id);
}

/* A job retried after its deadline has as long again to run: it does not expire at once. */
static void
test_deadline_given_again(void)
{
	long long id = make("late", 2, 1, 2);

	CU_ASSERT_EQUAL(run_stage("late", 1), 2);
	CU_ASSERT_EQUAL_FATAL(state_of(id), BJ_JOB_FAILED);
	/* created two hours ago with an hour to run */
	bj_test_sqlf(db, "UPDATE jobs SET created_at = NOW(6) - INTERVAL 2 HOUR,"
	    " deadline_at = NOW(6) - INTERVAL 1 HOUR WHERE id = %lld", id);
	CU_ASSERT_EQUAL(bj_job_change(db, id, BJ_CHANGE_RETRY, NULL), BJ_OK);
	CU_ASSERT_EQUAL(q("SELECT deadline_at BETWEEN NOW(6) + INTERVAL 59 MINUTE"
	    " AND NOW(6) + INTERVAL 61 MINUTE FROM jobs WHERE id = %lld", id), 1);
	CU_ASSERT_EQUAL(state_of(id), BJ_JOB_RUNNING);
}

/* A claim of the failed round that is still running on its last attempt gets the new round's budget. */
static void
test_live_claim_gets_the_new_budget(void)
{
	long long id = make("live", 2, 1, 2);
	struct bj_claimed *c, *d;
	int n = claim("live", 10, &c), m;

	CU_ASSERT_EQUAL_FATAL(n, 2);
	/* the second item's first attempt fails; it runs again, on its last attempt */
	CU_ASSERT_EQUAL(bj_lease_fail(db, c[1].id, c[1].lease_token, "flaky", 1), BJ_OK);
	due_now(id);
	m = claim("live", 10, &d);
	CU_ASSERT_EQUAL_FATAL(m, 1);
	CU_ASSERT_EQUAL(d[0].attempt, 2);
	/* the first fails for good: the job fails while the second is still running */
	CU_ASSERT_EQUAL(bj_lease_fail(db, c[0].id, c[0].lease_token, "boom", 0), BJ_OK);
	CU_ASSERT_EQUAL_FATAL(state_of(id), BJ_JOB_FAILED);
	CU_ASSERT_EQUAL(bj_job_change(db, id, BJ_CHANGE_RETRY, "by alice"), BJ_OK);
	/* its attempt fails now: the new round has attempts left for it */
	CU_ASSERT_EQUAL(bj_lease_fail(db, d[0].id, d[0].lease_token, "flaky", 1), BJ_OK);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'pending'",
	    d[0].id), 1);
	CU_ASSERT_EQUAL(state_of(id), BJ_JOB_RUNNING);
	bj_test_assert_counts(db, id);
	bj_claimed_free(c, n);
	bj_claimed_free(d, m);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("rounds", init, NULL);

	CU_add_test(s, "failed items run again, succeeded ones stay", test_failed_items_run_again);
	CU_add_test(s, "a second round notifies again, once per target",
	    test_second_round_notifies_again);
	CU_add_test(s, "a job that is not failed is refused, unchanged", test_refused);
	CU_add_test(s, "the same round retried twice starts one round", test_same_round_twice);
	CU_add_test(s, "a retry with nothing to run ends the job again", test_nothing_to_run_again);
	CU_add_test(s, "a retried job gets its time to run again", test_deadline_given_again);
	CU_add_test(s, "a claim still running gets the new round's budget",
	    test_live_claim_gets_the_new_budget);
	return bj_test_run();
}
