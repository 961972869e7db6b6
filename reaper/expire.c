/*
 * expire.c: step 4, jobs past their deadline, and how the reaper ends a
 * job (failed or expired): bj_job_finish_later() changes the job row,
 * cancels its claims, counts its pending items cancelled, records its
 * notifications (one per target, once whoever records them) and its
 * timeline entry, all in the caller's transaction: a few rows, however
 * big the job. The pending item rows themselves are cancelled afterwards
 * in batches by bj_reaper_leftovers(), for at most [reaper] cancel_seconds
 * per run; the next runs go on where it stopped. Meanwhile nothing can
 * claim them (claims need a queued or running job) and the API and the
 * pages show them cancelled.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "job.h"
#include "log.h"
#include "reaper.h"
#include "sql.h"

/* Seconds on the monotonic clock. */
static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 while the run may spend more time cancelling leftovers. */
static int
cancel_budget(struct bj_reaper *r)
{
	if (!r->cancel_started) {
		r->cancel_started = 1;
		r->cancel_left = r->conf->cancel_seconds;
	}
	return r->cancel_left > 0;
}

/* Cancel one batch of a terminal job's items in state; returns the count or -1. */
static long long
cancel_batch(struct bj_reaper *r, long long job_id, int claimed)
{
	unsigned long long n = 0;

	if (bj_db_exec(r->db, claimed ? BJ_SQL_REAPER_CANCEL_CLAIMED : BJ_SQL_REAPER_CANCEL_PENDING,
	    &n, "iii", job_id, job_id, (long long)r->batch) == -1)
		return -1;
	if (n > 0 && bj_db_exec(r->db, claimed ? BJ_SQL_REAPER_COUNT_CANCELLED_CLAIMED :
	    BJ_SQL_REAPER_COUNT_CANCELLED_PENDING, NULL, "iii", (long long)n, (long long)n,
	    job_id) == -1)
		return -1;
	return (long long)n;
}

/* End a non-terminal job the way every program does (bj_job_finish); 1 changed, 0 already ended, -1 error. */
int
bj_reaper_finish(struct bj_reaper *r, long long job_id, enum bj_job_state to,
    const char *detail)
{
	enum bj_err e;

	/* the counters say what is cancelled: make sure they match the items */
	if (bj_db_exec(r->db, BJ_SQL_REAPER_RECOUNT_ENDING, NULL, "ii", job_id,
	    job_id) == -1)
		return -1;
	e = bj_job_finish_later(r->db, job_id, to, detail);
	if (e == BJ_ERR_INVALID_TRANSITION || e == BJ_ERR_JOB_NOT_FOUND)
		return 0;
	if (e != BJ_OK)
		return -1;
	if (to == BJ_JOB_EXPIRED &&
	    bj_db_exec(r->db, BJ_SQL_REAPER_ARTIFACT_EXPIRE_NOW, NULL, "i", job_id) == -1)
		return -1;
	bj_reaper_count_end(r, job_id, to);
	return 1;
}

/* Cancel the rest of a terminal job's items, one batch per transaction, within the budget. */
int
bj_reaper_leftovers(struct bj_reaper *r, long long job_id, int claims_too)
{
	int busy = 0;

	for (int claimed = 0; claimed <= (claims_too ? 1 : 0); claimed++) {
		long long n;

		do {
			double t0 = now_mono();
			int rc;

			if (!bj_reaper_go_on(r) || !cancel_budget(r))
				return 0;
			if (bj_db_begin(r->db) == -1)
				goto err;
			rc = (n = cancel_batch(r, job_id, claimed)) == -1 ? -1 : bj_db_commit(r->db);
			r->cancel_left -= now_mono() - t0;
			if (rc == -1) {
				bj_db_rollback(r->db);
				/* another writer holds these rows: try again, a few times */
				if (bj_reaper_busy(r->db) && ++busy < 5) {
					n = r->batch;
					continue;
				}
				goto err;
			}
		} while (n == r->batch);
	}
	return 0;
err:
	bj_log_err("job %lld: cancelling its items: %s", job_id, bj_db_error(r->db));
	bj_db_rollback(r->db);
	return -1;
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
		rows = bj_db_query(r->db, BJ_SQL_REAPER_LEFTOVERS_DUE, "ii", after,
		    (long long)r->batch);
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
	return rc;
}

/* Jobs expired per transaction: a few short row changes each, one commit for all. */
#define EXPIRE_GROUP 50

/*
 * Expire rows[from..to) in one transaction: the number that changed, or
 * -1 after a rollback (the run's counts put back).
 */
static int
expire_group(struct bj_reaper *r, const struct bj_rows *rows, int from, int to)
{
	struct bj_reaper_stats saved = r->st;
	int changed = 0;

	if (bj_db_begin(r->db) == -1)
		goto err;
	for (int i = from; i < to; i++) {
		int rc = bj_reaper_finish(r, bj_rows_int(rows, i, 0), BJ_JOB_EXPIRED,
		    "past its deadline");

		if (rc == -1)
			goto err;
		changed += rc;
	}
	if (bj_db_commit(r->db) == -1)
		goto err;
	return changed;
err:
	bj_db_rollback(r->db);
	r->st = saved;
	return -1;
}

/* Expire a batch of due jobs, a group per transaction; a group that fails goes job by job. */
static int
expire_batch(struct bj_reaper *r, const struct bj_rows *rows)
{
	int changed = 0;

	for (int g = 0; g < rows->nrows; g += EXPIRE_GROUP) {
		int end = g + EXPIRE_GROUP < rows->nrows ? g + EXPIRE_GROUP : rows->nrows, n;

		if (!bj_reaper_go_on(r))
			return changed;
		if ((n = expire_group(r, rows, g, end)) >= 0) {
			changed += n;
			continue;
		}
		for (int i = g; i < end; i++) {
			long long id = bj_rows_int(rows, i, 0);

			if ((n = expire_group(r, rows, i, i + 1)) >= 0) {
				changed += n;
				continue;
			}
			if (!bj_reaper_busy(r->db)) {
				bj_log_err("job %lld: %s", id, bj_db_error(r->db));
				return -1;
			}
			bj_log_info("job %lld: %s; left for the next batch", id, bj_db_error(r->db));
		}
	}
	return changed;
}

/* Step 4: jobs past deadline_at (database clock) become expired. */
int
bj_reaper_expire(struct bj_reaper *r)
{
	for (;;) {
		struct bj_rows *rows;
		int nrows, changed = 0;

		if (!bj_reaper_go_on(r))
			return 0;
		if ((rows = bj_db_query(r->db, BJ_SQL_REAPER_EXPIRE_DUE, "i", (long long)r->batch)) == NULL) {
			bj_log_err("deadline sweep: %s", bj_db_error(r->db));
			return -1;
		}
		nrows = rows->nrows;
		if (r->dry_run) {
			for (int i = 0; i < nrows; i++) {
				bj_log_info("would expire job %lld: past its deadline",
				    bj_rows_int(rows, i, 0));
				r->st.expired++;
			}
		} else if ((changed = expire_batch(r, rows)) == -1) {
			bj_rows_free(rows);
			return -1;
		}
		bj_rows_free(rows);
		if (nrows < r->batch || changed == 0 || r->dry_run)
			break;
	}
	/* then their pending rows, and those of jobs that ended in earlier runs */
	return bj_reaper_cancel_leftovers(r);
}
