/*
 * repair.c: step 6, rows that should not exist. Each repair is logged and
 * conditional; none is fatal:
 *  - a claim whose attempt already has a failure record (orphans.c ends it);
 *  - a terminal job that still has pending items, or claimed ones (a failed
 *    job's claims excepted: they may finish, or their lease runs out);
 *  - counters of an active job that contradict its items (recounted); the
 *    checks cost an index probe each, and every job is recounted anyway
 *    before bj_job_settle()/bj_job_finish() decide how it ends.
 * A job stuck in running with every item ended is step 3's work.
 */
#include "config.h"

#include "log.h"
#include "reaper.h"
#include "sql.h"

/* Active jobs whose counters differ from their items: recount them. */
static int
repair_counts(struct bj_reaper *r)
{
	long long after = 0;

	for (;;) {
		struct bj_rows *rows;
		int nrows;

		if (!bj_reaper_go_on(r))
			return 0;
		rows = bj_db_queryp(r->db, BJ_SQL_REAPER_DRIFTED, BJ_PARAMS(BJ_P_INT(after),
		    BJ_P_INT(r->batch)));
		if (rows == NULL) {
			bj_log_err("count check: %s", bj_db_error(r->db));
			return -1;
		}
		nrows = rows->nrows;
		for (int i = 0; i < nrows; i++) {
			long long id = bj_rows_int(rows, i, 0);

			after = id;
			r->st.repairs++;
			if (r->dry_run) {
				bj_log_info("would recount job %lld: its counters drifted", id);
				continue;
			}
			bj_log_info("repairing: job %lld counters drifted from its items; recounted", id);
			if (bj_db_execp(r->db, BJ_SQL_JOB_RECOUNT, NULL,
			    BJ_PARAMS(BJ_P_INT(id), BJ_P_INT(id))) == -1) {
				bj_log_err("job %lld: %s", id, bj_db_error(r->db));
				bj_rows_free(rows);
				return -1;
			}
		}
		bj_rows_free(rows);
		if (nrows < r->batch)
			return 0;
	}
}

/* Step 6. */
int
bj_reaper_repair(struct bj_reaper *r)
{
	int rc = 0;

	if (bj_reaper_failed_claims(r) == -1)
		rc = -1;
	/*
	 * Terminal jobs with pending or claimed items (expire.c), unless step
	 * 4 went through them all: no step since leaves any (a job failed by
	 * a claim with a failure record has its rows cancelled at once).
	 */
	if (!r->leftovers_done && bj_reaper_cancel_leftovers(r) == -1)
		rc = -1;
	if (repair_counts(r) == -1)
		rc = -1;
	return rc;
}

/* All steps in order; a failed step does not keep the later ones from running. */
int
bj_reaper_sweep(struct bj_reaper *r)
{
	int rc = 0;

	if (bj_reaper_orphans(r) == -1)
		rc = -1;
	if (bj_reaper_stages(r) == -1)
		rc = -1;
	if (bj_reaper_expire(r) == -1)
		rc = -1;
	if (bj_reaper_purge(r) == -1)
		rc = -1;
	if (bj_reaper_repair(r) == -1)
		rc = -1;
	/* repairs can end a stage (recounted, leftovers cancelled): settle again */
	if (!r->dry_run && bj_reaper_stages(r) == -1)
		rc = -1;
	return rc;
}
