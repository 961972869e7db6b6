/*
 * orphans.c: step 2, claims whose worker vanished (the lease ran out on
 * the database clock), and claims whose attempt already has a failure
 * record (a crash between recording the failure and moving the item).
 *
 * Set-based, one transaction per batch of conf->reaper_batch claims: pick
 * and lock the batch into a temporary table, lock its jobs, decide each
 * claim's fate from its job, move the items conditionally (still claimed,
 * same attempt, still lost), upsert their failure records so that an
 * existing one is kept rather than fatal, add the timeline entries, adjust
 * each job's counters once for the whole batch, then decide the outcome
 * of the jobs whose items ran out of attempts. A statement costs the
 * batch, not the tables, and a batch costs one commit.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "job.h"
#include "lease.h"
#include "log.h"
#include "reaper.h"
#include "sql.h"

#define LEASE_ERROR "lease expired: the worker stopped sending heartbeats"

/*
 * Log the batch: every row in a dry run or a repair, else its cancelled
 * claims, which count as repairs. n is the batch's size, st its counts:
 * the list is read only when it has something to say.
 */
static int
log_batch(struct bj_reaper *r, int repair, long long n, const struct bj_reaper_stats *st)
{
	struct bj_rows *rows;

	if ((r->dry_run ? n : st->repairs) == 0)
		return 0;
	rows = bj_db_queryp(r->db, BJ_SQL_REAPER_ORPHANS_LIST,
	    BJ_PARAMS(BJ_P_INT(r->dry_run || repair)));
	if (rows == NULL)
		return -1;
	for (int i = 0; i < rows->nrows; i++) {
		const char *fate = bj_rows_get(rows, i, 3);
		int revoke = strcmp(fate, "revoke") == 0;

		if (r->dry_run)
			bj_log_info("would %s item %lld of job %lld (attempt %lld)%s",
			    revoke ? "cancel" : strcmp(fate, "fail") == 0 ? "fail" : "requeue",
			    bj_rows_int(rows, i, 0), bj_rows_int(rows, i, 1),
			    bj_rows_int(rows, i, 2), repair ? ": its attempt already failed" : "");
		else
			bj_log_info("repaired: %s item %lld of job %lld (attempt %lld)",
			    revoke ? "cancelled the claimed" : "ended the claim of",
			    bj_rows_int(rows, i, 0), bj_rows_int(rows, i, 1),
			    bj_rows_int(rows, i, 2));
	}
	bj_rows_free(rows);
	return 0;
}

/* Count the batch into st; returns the number of claims in it, or -1. */
static long long
count_batch(struct bj_reaper *r, int repair, struct bj_reaper_stats *st)
{
	struct bj_rows *rows = bj_db_queryp(r->db, BJ_SQL_REAPER_ORPHANS_SUMMARY, NULL, 0);
	long long n;

	if (rows == NULL)
		return -1;
	n = bj_rows_int(rows, 0, 0);
	if (repair)
		st->repairs += n;
	else {
		st->requeued += bj_rows_int(rows, 0, 1);
		st->items_failed += bj_rows_int(rows, 0, 2);
		st->repairs += bj_rows_int(rows, 0, 3);
	}
	bj_rows_free(rows);
	return n;
}

/*
 * The jobs whose items ran out of attempts (ended, the rows of
 * BJ_SQL_REAPER_ORPHANS_ENDED): fail them (fail_job) or settle them,
 * counted into st.
 */
static int
end_jobs(struct bj_reaper *r, struct bj_rows *ended, struct bj_reaper_stats *st)
{
	int rc = 0;

	for (int i = 0; i < ended->nrows && rc == 0; i++) {
		long long job = bj_rows_int(ended, i, 0);

		if (bj_rows_int(ended, i, 1))
			rc = bj_reaper_finish(r, job, "an item failed", st) == -1 ? -1 : 0;
		else
			rc = bj_reaper_settle(r, job, st);
	}
	return rc;
}

/* After the commit: cancel the pending rows of the jobs the batch failed (budgeted). */
static int
failed_jobs_leftovers(struct bj_reaper *r, struct bj_rows *ended)
{
	int rc = 0;

	for (int i = 0; i < ended->nrows && rc == 0; i++)
		if (bj_rows_int(ended, i, 1))
			rc = bj_reaper_leftovers(r, bj_rows_int(ended, i, 0), 0);
	return rc;
}

/*
 * One batch in one transaction, picked by pick: returns the number of
 * claims it ended, 0 when there were none, -1 on error (rolled back).
 * Its counts and log lines wait for the commit: a batch rolled back, or
 * tried again, is neither counted nor reported.
 */
static long long
orphan_batch(struct bj_reaper *r, const char *pick, int repair)
{
	struct bj_reaper_stats st;
	struct bj_rows *jobs, *ended = NULL;
	long long n;

	memset(&st, 0, sizeof st);
	if (bj_reaper_pick(r->db, BJ_SQL_REAPER_ORPHANS_TABLE, BJ_SQL_REAPER_ORPHANS_CLEAR,
	    pick, r->batch) == -1)
		goto err;
	if ((jobs = bj_db_queryp(r->db, BJ_SQL_REAPER_ORPHANS_LOCK_JOBS, NULL, 0)) == NULL)
		goto err;
	bj_rows_free(jobs);
	if (bj_db_execp(r->db, BJ_SQL_REAPER_ORPHANS_FATE, NULL, NULL, 0) == -1)
		goto err;
	if (r->dry_run) {
		if ((n = count_batch(r, repair, &st)) == -1 || log_batch(r, repair, n, &st) == -1)
			goto err;
		bj_db_rollback(r->db);
		bj_reaper_stats_add(&r->st, &st);
		return n;
	}
	if (bj_db_execp(r->db, BJ_SQL_REAPER_ORPHANS_MOVE, NULL,
	    BJ_PARAMS(BJ_P_STR(LEASE_ERROR), BJ_P_INT(BJ_BACKOFF_MAX), BJ_P_INT(BJ_BACKOFF_FIRST),
	    BJ_P_INT(BJ_BACKOFF_FACTOR))) == -1 ||
	    bj_db_execp(r->db, BJ_SQL_REAPER_ORPHANS_UNMOVED, NULL, NULL, 0) == -1 ||
	    bj_db_execp(r->db, BJ_SQL_REAPER_ORPHANS_FAILURES, NULL,
	    BJ_PARAMS(BJ_P_STR(LEASE_ERROR))) == -1 ||
	    bj_db_execp(r->db, BJ_SQL_REAPER_ORPHANS_EVENTS, NULL,
	    BJ_PARAMS(BJ_P_STR(repair ? "failed" : "lease expired"))) == -1 ||
	    bj_db_execp(r->db, BJ_SQL_REAPER_ORPHANS_COUNT, NULL, NULL, 0) == -1 ||
	    (ended = bj_db_queryp(r->db, BJ_SQL_REAPER_ORPHANS_ENDED, NULL, 0)) == NULL ||
	    end_jobs(r, ended, &st) == -1 || (n = count_batch(r, repair, &st)) == -1 ||
	    bj_db_commit(r->db) == -1)
		goto err;
	bj_reaper_stats_add(&r->st, &st);
	/* the batch table outlives the commit; the batch is done whatever fails now */
	if (log_batch(r, repair, n, &st) == -1 || failed_jobs_leftovers(r, ended) == -1)
		bj_log_err("lease sweep: %s", bj_db_error(r->db));
	bj_rows_free(ended);
	return n;
err:
	bj_db_rollback(r->db);
	bj_rows_free(ended);
	return -1;
}

/* Batches picked by pick until one is short or empty. */
static int
orphan_batches(struct bj_reaper *r, const char *pick, int repair)
{
	int busy = 0;

	for (;;) {
		long long n;

		if (!bj_reaper_go_on(r))
			return 0;
		if ((n = orphan_batch(r, pick, repair)) == -1) {
			int again = bj_reaper_retry(r->db, &busy, "lease sweep");

			if (again == 1)
				continue;
			return again;
		}
		busy = 0;
		/* a dry run changes nothing, so the same batch would come back */
		if (n < r->batch || r->dry_run)
			return 0;
	}
}

/* Step 2: lost claims back to pending, or failed when their attempts are spent. */
int
bj_reaper_orphans(struct bj_reaper *r)
{
	return orphan_batches(r, BJ_SQL_REAPER_ORPHANS_PICK, 0);
}

/* Step 6 part: claims whose attempt already has a failure record. */
int
bj_reaper_failed_claims(struct bj_reaper *r)
{
	return orphan_batches(r, BJ_SQL_REAPER_FAILED_CLAIMS_PICK, 1);
}
