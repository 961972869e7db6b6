/*
 * stages.c: step 3, fan-in. Wherever every item of a job's open stage has
 * ended, the next stage opens or the job ends (the API does the same on
 * its hot path; this is the safety net for a crash in between). How a job
 * ends is bj_job_settle()'s decision, the same for every program.
 *
 * bj_reaper_settle() runs inside the caller's transaction and locks the
 * job row first, as every writer of a job's counters does.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "job.h"
#include "log.h"
#include "reaper.h"
#include "sql.h"

/* The job's state under its row lock; -1 when it is missing, -2 on error. */
static int
locked_state(struct bj_reaper *r, long long job_id)
{
	struct bj_rows *rows = bj_db_queryp(r->db, BJ_SQL_REAPER_JOB_LOCK,
	    BJ_PARAMS(BJ_P_INT(job_id)));
	int st = -1;

	if (rows == NULL)
		return -2;
	if (rows->nrows == 1)
		st = bj_job_state_parse(bj_rows_get(rows, 0, 0));
	bj_rows_free(rows);
	return st;
}

/*
 * Count into st a job that just succeeded or failed, and the notifications
 * its end recorded: one per target. (Expired jobs are counted by step 4.)
 */
void
bj_reaper_stats_add(struct bj_reaper_stats *to, const struct bj_reaper_stats *from)
{
	to->requeued += from->requeued;
	to->items_failed += from->items_failed;
	to->finished += from->finished;
	to->expired += from->expired;
	to->artifacts += from->artifacts;
	to->rows += from->rows;
	to->repairs += from->repairs;
	to->notifications += from->notifications;
}

void
bj_reaper_count_end(struct bj_reaper *r, long long job_id, struct bj_reaper_stats *st)
{
	struct bj_rows *rows = bj_db_queryp(r->db, BJ_SQL_REAPER_TARGETS,
	    BJ_PARAMS(BJ_P_INT(job_id)));

	if (rows != NULL)
		st->notifications += bj_rows_int(rows, 0, 0);
	bj_rows_free(rows);
	st->finished++;
}

/* Open the next stage or end the job when its open stage has ended (bj_job_settle decides). */
int
bj_reaper_settle(struct bj_reaper *r, long long job_id, struct bj_reaper_stats *st)
{
	int before, after;

	if ((before = locked_state(r, job_id)) == -2)
		return -1;
	if (before < 0 || bj_job_state_terminal(before))
		return 0;
	/* the counters decide what settle does: put them right first */
	if (bj_db_execp(r->db, BJ_SQL_JOB_RECOUNT, NULL, BJ_PARAMS(BJ_P_INT(job_id),
	    BJ_P_INT(job_id))) == -1)
		return -1;
	if (bj_job_settle(r->db, job_id) != BJ_OK)
		return -1;
	if ((after = locked_state(r, job_id)) == -2)
		return -1;
	if (after >= 0 && bj_job_state_terminal(after))
		bj_reaper_count_end(r, job_id, st);
	return 0;
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
		rows = bj_db_queryp(r->db, BJ_SQL_REAPER_SETTLE_DUE,
		    BJ_PARAMS(BJ_P_INT(after), BJ_P_INT(r->batch)));
		if (rows == NULL) {
			bj_log_err("stage sweep: %s", bj_db_error(r->db));
			return -1;
		}
		nrows = rows->nrows;
		for (int i = 0; i < nrows; i++) {
			long long id = bj_rows_int(rows, i, 0);
			struct bj_reaper_stats st = { 0 };

			after = id;
			if (r->dry_run) {
				bj_log_info("would advance or finish job %lld: its open stage has ended", id);
				r->st.finished++;
				continue;
			}
			/* counted once committed: a rolled-back job is the next run's */
			if (bj_db_begin(r->db) == -1 || bj_reaper_settle(r, id, &st) == -1 ||
			    bj_db_commit(r->db) == -1) {
				bj_db_rollback(r->db);
				if (bj_db_retryable(r->db)) {
					bj_log_info("job %lld: %s; left for the next run", id,
					    bj_db_error(r->db));
					continue;
				}
				bj_log_err("job %lld: %s", id, bj_db_error(r->db));
				bj_rows_free(rows);
				return -1;
			}
			bj_reaper_stats_add(&r->st, &st);
			bj_reaper_leftovers(r, id, 0);
		}
		bj_rows_free(rows);
		if (nrows < r->batch)
			return 0;
	}
}
