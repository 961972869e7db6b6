/*
 * expire.c: step 4, jobs past their deadline, and how the reaper ends a
 * job (expired, or failed by an orphaned claim).
 *
 * Expiry is set-based, EXPIRE_GROUP jobs per transaction (the
 * BJ_SQL_REAPER_EXPIRING_* statements): recount, revoke the claims, end
 * the jobs with their pending items counted cancelled, record the timeline
 * entries and the notifications (one per target, once whoever records
 * them). A job that an orphaned claim fails goes through bj_reaper_finish()
 * and bj_job_finish(), which do the same for one job. Either way a
 * job ends in a few short row changes, however many items it has.
 *
 * The pending item rows themselves are cancelled afterwards in batches by
 * bj_reaper_leftovers(), for at most [reaper] cancel_seconds per run; the
 * next runs go on where it stopped. Meanwhile nothing can claim them
 * (claims need a queued or running job) and the API and the pages show
 * them cancelled.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "job.h"
#include "log.h"
#include "reaper.h"
#include "sql.h"

/* 1 while the run may spend more time cancelling leftovers. */
static int
cancel_budget(const struct bj_reaper *r)
{
	return r->cancel_left > 0;
}

/* Cancel one batch of a terminal job's items in state; returns the count or -1. */
static long long
cancel_batch(struct bj_reaper *r, long long job_id, int claimed)
{
	unsigned long long n = 0;
	struct bj_rows *lock;

	/*
	 * The job's row first, as a retry locks it before its items: a failed
	 * job retried meanwhile is running again, and the batch then cancels
	 * nothing of the items its retry sent back to pending.
	 */
	if ((lock = bj_db_queryp(r->db, BJ_SQL_JOB_LOCK, BJ_PARAMS(BJ_P_INT(job_id)))) == NULL)
		return -1;
	bj_rows_free(lock);
	if (bj_db_execp(r->db,
	    claimed ? BJ_SQL_REAPER_CANCEL_CLAIMED : BJ_SQL_REAPER_CANCEL_PENDING, &n,
	    BJ_PARAMS(BJ_P_INT(job_id), BJ_P_INT(job_id), BJ_P_INT(r->batch))) == -1)
		return -1;
	if (n > 0 && bj_db_execp(r->db, claimed ? BJ_SQL_REAPER_COUNT_CANCELLED_CLAIMED :
	    BJ_SQL_REAPER_COUNT_CANCELLED_PENDING, NULL,
	    BJ_PARAMS(BJ_P_INT(n), BJ_P_INT(n), BJ_P_INT(job_id))) == -1)
		return -1;
	return (long long)n;
}

/*
 * Fail a non-terminal job as bj_job_finish() does, its pending rows left
 * for bj_reaper_leftovers() (bj_job_finish); 1 changed, 0 already
 * ended, -1 error.
 */
int
bj_reaper_finish(struct bj_reaper *r, long long job_id, const char *detail,
    struct bj_reaper_stats *st)
{
	enum bj_err e;

	/* the counters say what is cancelled: make sure they match the items */
	if (bj_db_execp(r->db, BJ_SQL_REAPER_RECOUNT_ENDING, NULL, BJ_PARAMS(BJ_P_INT(job_id),
	    BJ_P_INT(job_id))) == -1)
		return -1;
	e = bj_job_finish(r->db, job_id, BJ_JOB_FAILED, detail);
	if (e == BJ_ERR_INVALID_TRANSITION || e == BJ_ERR_JOB_NOT_FOUND)
		return 0;
	if (e != BJ_OK)
		return -1;
	bj_reaper_count_end(r, job_id, st);
	return 1;
}

/* Cancel the rest of a terminal job's items, one batch per transaction, within the budget. */
int
bj_reaper_leftovers(struct bj_reaper *r, long long job_id, int claims_too)
{
	char what[64];
	int busy = 0;

	snprintf(what, sizeof what, "job %lld: cancelling its items", job_id);
	for (int claimed = 0; claimed <= (claims_too ? 1 : 0); claimed++) {
		long long n;

		do {
			double t0 = bj_now();
			int rc;

			if (!bj_reaper_go_on(r) || !cancel_budget(r))
				return 0;
			rc = bj_db_begin(r->db) == -1 ||
			    (n = cancel_batch(r, job_id, claimed)) == -1 ||
			    bj_db_commit(r->db) == -1 ? -1 : 0;
			r->cancel_left -= bj_now() - t0;
			if (rc == -1) {
				bj_db_rollback(r->db);
				if ((rc = bj_reaper_retry(r->db, &busy, what)) != 1)
					return rc;
				n = r->batch;	/* the same batch again */
				continue;
			}
			busy = 0;
		} while (n == r->batch);
	}
	return 0;
}

/* One row of BJ_SQL_REAPER_LEFTOVERS_DUE: log a repair, cancel the rows; 0 or -1. */
static int
leftovers_of(struct bj_reaper *r, struct bj_rows *rows, int i)
{
	long long id = bj_rows_int(rows, i, 0);
	const char *jstate = bj_rows_get(rows, i, 1), *istate = bj_rows_get(rows, i, 2);
	int claimed = strcmp(istate, "claimed") == 0;

	/* rows already counted cancelled are the normal case, not a repair */
	if (bj_rows_int(rows, i, 3)) {
		r->st.repairs++;
		if (r->dry_run)
			bj_log_info("would cancel the %s items of %s job %lld", istate,
			    jstate, id);
		else
			bj_log_info("repairing: %s job %lld still has %s items; cancelling them",
			    jstate, id, istate);
	}
	if (!r->dry_run && bj_reaper_leftovers(r, id, claimed) == -1)
		return -1;
	return 0;
}

/* Ended jobs that still have pending or claimed rows: cancel them, within the budget. */
int
bj_reaper_cancel_leftovers(struct bj_reaper *r)
{
	long long after = 0;
	int rc = 0, nrows;

	do {
		struct bj_rows *rows;

		if (!bj_reaper_go_on(r) || !cancel_budget(r))
			return rc;
		rows = bj_db_queryp(r->db, BJ_SQL_REAPER_LEFTOVERS_DUE,
		    BJ_PARAMS(BJ_P_INT(after), BJ_P_INT(r->batch)));
		if (rows == NULL) {
			bj_log_err("leftover sweep: %s", bj_db_error(r->db));
			return -1;
		}
		nrows = rows->nrows;
		for (int i = 0; i < nrows && rc == 0 && cancel_budget(r); i++)
			rc = leftovers_of(r, rows, i);
		if (nrows > 0)
			after = bj_rows_int(rows, nrows - 1, 0);
		bj_rows_free(rows);
	} while (rc == 0 && nrows == r->batch);
	/* within budget to the end: step 6 need not look again */
	if (rc == 0 && cancel_budget(r) && !r->dry_run)
		r->leftovers_done = 1;
	return rc;
}

/* Jobs expired per transaction: their items are read once for the recount. */
#define EXPIRE_GROUP 50

/*
 * Expire up to EXPIRE_GROUP due jobs in one transaction, set-based: the
 * number expired, or -1 after a rollback.
 */
static long long
expire_group(struct bj_reaper *r)
{
	struct bj_rows *sum;
	long long n;

	if (bj_reaper_pick(r->db, BJ_SQL_REAPER_EXPIRING_TABLE, BJ_SQL_REAPER_EXPIRING_CLEAR,
	    BJ_SQL_REAPER_EXPIRING_PICK, EXPIRE_GROUP) == -1 ||
	    bj_db_execp(r->db, BJ_SQL_REAPER_EXPIRING_RECOUNT, NULL, NULL, 0) == -1 ||
	    bj_db_execp(r->db, BJ_SQL_REAPER_EXPIRING_CLAIMS, NULL, NULL, 0) == -1 ||
	    bj_db_execp(r->db, BJ_SQL_REAPER_EXPIRING_END, NULL, NULL, 0) == -1 ||
	    bj_db_execp(r->db, BJ_SQL_REAPER_EXPIRING_EVENTS, NULL, NULL, 0) == -1 ||
	    (sum = bj_db_queryp(r->db, BJ_SQL_REAPER_EXPIRING_SUMMARY, NULL, 0)) == NULL)
		goto err;
	n = bj_rows_int(sum, 0, 0);
	/* the notifications of their round, by the statement every job's end uses */
	if ((n > 0 && bj_outbox_record_jobs(r->db, bj_rows_get(sum, 0, 2),
	    "job.expired") != BJ_OK) || bj_db_commit(r->db) == -1) {
		bj_rows_free(sum);
		goto err;
	}
	r->st.expired += n;
	r->st.notifications += bj_rows_int(sum, 0, 1);
	bj_rows_free(sum);
	return n;
err:
	bj_db_rollback(r->db);
	return -1;
}

/* Step 4: jobs past deadline_at (database clock) become expired. */
int
bj_reaper_expire(struct bj_reaper *r)
{
	int busy = 0;

	if (r->dry_run) {
		struct bj_rows *rows;

		rows = bj_db_queryp(r->db, BJ_SQL_REAPER_EXPIRE_DUE,
		    BJ_PARAMS(BJ_P_INT(r->batch)));
		if (rows == NULL) {
			bj_log_err("deadline sweep: %s", bj_db_error(r->db));
			return -1;
		}
		for (int i = 0; i < rows->nrows; i++) {
			bj_log_info("would expire job %lld: past its deadline", bj_rows_int(rows, i, 0));
			r->st.expired++;
		}
		bj_rows_free(rows);
		return 0;
	}
	for (;;) {
		long long n;

		if (!bj_reaper_go_on(r))
			return 0;
		if ((n = expire_group(r)) == -1) {
			int again = bj_reaper_retry(r->db, &busy, "deadline sweep");

			if (again == 1)
				continue;
			if (again == -1)
				return -1;
			break;
		}
		busy = 0;
		if (n < EXPIRE_GROUP)
			break;
	}
	/* then their pending rows, and those of jobs that ended in earlier runs */
	return bj_reaper_cancel_leftovers(r);
}
