/*
 * stages.c: step 3, fan-in. Wherever every item of a job's open stage has
 * ended, the next stage opens or the job ends (the API does the same on
 * its hot path; this is the safety net for a crash in between).
 *
 * bj_reaper_settle() runs inside the caller's transaction and locks the
 * job row first, as every writer of a job's counters does.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "reaper.h"
#include "sql.h"

/* A one-cell integer query; -1 on error, NULL cells count as -2. */
static long long
scalar(struct bj_db *db, const char *sql, long long a, long long b, int two)
{
	struct bj_rows *rows = two ? bj_db_query(db, sql, "ii", a, b) : bj_db_query(db, sql, "i", a);
	long long v;

	if (rows == NULL)
		return -1;
	v = bj_rows_get(rows, 0, 0) == NULL ? -2 : bj_rows_int(rows, 0, 0);
	bj_rows_free(rows);
	return v;
}

/* Open the next stage or end the job when its open stage has ended. */
int
bj_reaper_settle(struct bj_reaper *r, long long job_id)
{
	struct bj_rows *job;
	const char *state;
	long long stage, open, failed, next;
	int fail_job, rc = -1;
	unsigned long long n = 0;

	if ((job = bj_db_query(r->db, BJ_SQL_REAPER_JOB_SETTLE_INFO, "i", job_id)) == NULL)
		return -1;
	if (job->nrows == 0 || bj_job_state_terminal(bj_job_state_parse(bj_rows_get(job, 0, 0)))) {
		rc = 0;
		goto out;
	}
	state = bj_rows_get(job, 0, 0);
	stage = bj_rows_int(job, 0, 1);
	fail_job = strcmp(bj_rows_get(job, 0, 2), "fail_job") == 0;
	if ((open = scalar(r->db, BJ_SQL_REAPER_STAGE_OPEN, job_id, stage, 1)) < 0)
		goto out;
	if (open > 0) {
		rc = bj_db_exec(r->db, BJ_SQL_REAPER_SET_REMAINING, NULL, "iiis",
		    open, job_id, stage, state);
		goto out;
	}
	if ((failed = scalar(r->db, BJ_SQL_REAPER_HAS_FAILED, job_id, 0, 0)) < 0)
		goto out;
	if (failed && fail_job) {
		rc = bj_reaper_finish(r, job_id, BJ_JOB_FAILED, "an item failed") == -1 ? -1 : 0;
		goto out;
	}
	if ((next = scalar(r->db, BJ_SQL_REAPER_NEXT_STAGE, job_id, 0, 0)) == -1)
		goto out;
	if (next >= 0) {
		char detail[64];

		if ((open = scalar(r->db, BJ_SQL_REAPER_STAGE_OPEN, job_id, next, 1)) < 0)
			goto out;
		if (bj_db_exec(r->db, BJ_SQL_REAPER_STAGE_ADVANCE, &n, "iiiis",
		    next, open, job_id, stage, state) == -1)
			goto out;
		if (n == 1) {
			snprintf(detail, sizeof detail, "stage %lld opened", next);
			if (bj_reaper_event(r, job_id, "stage_advanced", detail) == -1)
				goto out;
		}
		rc = 0;
		goto out;
	}
	/* every item has ended */
	{
		const char *to = failed ? "failed" : "succeeded";
		const char *event = failed ? "job.failed" : "job.succeeded";

		if (bj_db_exec(r->db, BJ_SQL_REAPER_JOB_END, &n, "sis", to, job_id, state) == -1)
			goto out;
		if (n == 1) {
			if (bj_reaper_outbox(r, job_id, event) == -1 ||
			    bj_reaper_event(r, job_id, "finished", to) == -1)
				goto out;
			r->st.finished++;
		}
	}
	rc = 0;
out:
	bj_rows_free(job);
	return rc;
}

/* Step 3: every active job whose open stage has no pending or claimed item. */
int
bj_reaper_stages(struct bj_reaper *r)
{
	long long after = 0;

	for (;;) {
		struct bj_rows *rows;
		int nrows;

		if (!bj_reaper_go_on(r))
			return 0;
		rows = bj_db_query(r->db, BJ_SQL_REAPER_SETTLE_DUE, "ii", after, (long long)r->batch);
		if (rows == NULL) {
			bj_log_err("stage sweep: %s", bj_db_error(r->db));
			return -1;
		}
		nrows = rows->nrows;
		for (int i = 0; i < nrows; i++) {
			long long id = bj_rows_int(rows, i, 0);

			after = id;
			if (r->dry_run) {
				bj_log_info("would advance or finish job %lld: its open stage has ended", id);
				r->st.finished++;
				continue;
			}
			if (bj_db_begin(r->db) == -1 || bj_reaper_settle(r, id) == -1 ||
			    bj_db_commit(r->db) == -1) {
				bj_db_rollback(r->db);
				if (bj_reaper_busy(r->db)) {
					bj_log_info("job %lld: %s; left for the next run", id,
					    bj_db_error(r->db));
					continue;
				}
				bj_log_err("job %lld: %s", id, bj_db_error(r->db));
				bj_rows_free(rows);
				return -1;
			}
			bj_reaper_leftovers(r, id, 0);
		}
		bj_rows_free(rows);
		if (nrows < r->batch)
			return 0;
	}
}
