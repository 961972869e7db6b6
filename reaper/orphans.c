/*
 * orphans.c: step 2, claims whose worker vanished (the lease ran out on
 * the database clock), and claims whose attempt already has a failure
 * record (a crash between recording the failure and moving the item).
 *
 * Per item, one transaction: lock the job row, move the item conditionally
 * (still claimed, same attempt, still lost), upsert the failure record so
 * that an existing one is kept rather than fatal, keep the job's counters
 * in step, then decide the job's outcome.
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

/* What to do with one lost claim, given its job. */
enum orphan_fate { FATE_REQUEUE, FATE_FAIL, FATE_REVOKE };

/* Handle one lost claim in its own transaction: 1 changed, 0 nothing to do, -1 error. */
static int
orphan_one(struct bj_reaper *r, long long item_id, long long job_id,
    long long attempt, long long stage, int repair)
{
	struct bj_rows *job = NULL;
	unsigned long long n = 0;
	enum orphan_fate fate;
	int jstate, rc = -1, fail_job;
	long long max_attempts;

	if (bj_db_begin(r->db) == -1)
		goto dberr;
	if ((job = bj_db_query(r->db, BJ_SQL_REAPER_JOB_LOCK, "i", job_id)) == NULL)
		goto dberr;
	/* an item whose job is missing is cancelled like one of an ended job */
	jstate = job->nrows == 0 ? -1 : bj_job_state_parse(bj_rows_get(job, 0, 0));
	max_attempts = bj_rows_int(job, 0, 2);
	fail_job = job->nrows == 0 || strcmp(bj_rows_get(job, 0, 3), "fail_job") == 0;
	if (jstate < 0 || bj_job_state_terminal(jstate))
		fate = FATE_REVOKE;
	else if (attempt < max_attempts)
		fate = FATE_REQUEUE;
	else
		fate = FATE_FAIL;

	if (r->dry_run) {
		bj_log_info("would %s item %lld of job %lld (attempt %lld)%s",
		    fate == FATE_REQUEUE ? "requeue" : fate == FATE_FAIL ? "fail" : "cancel",
		    item_id, job_id, attempt, repair ? ": its attempt already failed" : "");
		rc = 1;
		goto count;
	}
	switch (fate) {
	case FATE_REQUEUE:
		if (bj_db_exec(r->db, BJ_SQL_REAPER_ITEM_REQUEUE, &n, "isii",
		    (long long)bj_lease_backoff((int)attempt), LEASE_ERROR, item_id, attempt) == -1)
			goto dberr;
		if (n == 1 && bj_db_exec(r->db, BJ_SQL_REAPER_COUNT_REQUEUE, NULL, "i", job_id) == -1)
			goto dberr;
		break;
	case FATE_FAIL:
		if (bj_db_exec(r->db, BJ_SQL_REAPER_ITEM_FAIL, &n, "sii",
		    LEASE_ERROR, item_id, attempt) == -1)
			goto dberr;
		if (n == 1 && bj_db_exec(r->db, BJ_SQL_REAPER_COUNT_FAIL, NULL, "ii",
		    stage, job_id) == -1)
			goto dberr;
		break;
	case FATE_REVOKE:
		if (bj_db_exec(r->db, BJ_SQL_REAPER_ITEM_REVOKE, &n, "ii", item_id, attempt) == -1)
			goto dberr;
		if (n == 1 && bj_db_exec(r->db, BJ_SQL_REAPER_COUNT_REVOKE, NULL, "i", job_id) == -1)
			goto dberr;
		break;
	}
	if (n != 1) {
		/* a heartbeat, a completion or another reaper got there first */
		rc = 0;
		goto out;
	}
	if (fate != FATE_REVOKE) {
		char detail[128];

		if (bj_db_exec(r->db, BJ_SQL_REAPER_FAILURE_UPSERT, NULL, "iiis",
		    item_id, job_id, attempt, LEASE_ERROR) == -1)
			goto dberr;
		snprintf(detail, sizeof detail, "item %lld attempt %lld: %s%s", item_id, attempt,
		    repair ? "failed" : "lease expired",
		    fate == FATE_FAIL ? ", no attempts left" : ", retrying");
		if (bj_event_add(r->db, job_id, "item_failed", detail) != BJ_OK)
			goto dberr;
	}
	if (fate == FATE_FAIL) {
		if (fail_job) {
			if (bj_reaper_finish(r, job_id, BJ_JOB_FAILED, "an item failed") == -1)
				goto dberr;
		} else if (bj_reaper_settle(r, job_id) == -1)
			goto dberr;
	}
	if (bj_db_commit(r->db) == -1)
		goto dberr;
	if (fate == FATE_FAIL && fail_job && bj_reaper_leftovers(r, job_id, 0) == -1)
		return -1;
	if (repair || fate == FATE_REVOKE)
		bj_log_info("repaired: %s item %lld of job %lld (attempt %lld)",
		    fate == FATE_REVOKE ? "cancelled the claimed" : "ended the claim of",
		    item_id, job_id, attempt);
	rc = 1;
count:
	if (repair || fate == FATE_REVOKE)
		r->st.repairs++;
	else if (fate == FATE_REQUEUE)
		r->st.requeued++;
	else
		r->st.items_failed++;
	goto out;
dberr:
	if (bj_reaper_busy(r->db)) {
		/* someone else holds the rows: the next run tries again */
		bj_log_info("item %lld: %s; left for the next run", item_id, bj_db_error(r->db));
		rc = 0;
	} else
		bj_log_err("item %lld: %s", item_id, bj_db_error(r->db));
out:
	if (bj_db_in_tx(r->db))
		bj_db_rollback(r->db);
	bj_rows_free(job);
	return rc;
}

/* Run sql (batch of id, job_id, attempt, stage) until a batch changes nothing. */
static int
orphan_batches(struct bj_reaper *r, const char *sql, int repair)
{
	for (;;) {
		struct bj_rows *rows;
		int changed = 0, err = 0;

		if (!bj_reaper_go_on(r))
			return 0;
		if ((rows = bj_db_query(r->db, sql, "i", (long long)r->batch)) == NULL) {
			bj_log_err("lease sweep: %s", bj_db_error(r->db));
			return -1;
		}
		for (int i = 0; i < rows->nrows; i++) {
			int rc = orphan_one(r, bj_rows_int(rows, i, 0), bj_rows_int(rows, i, 1),
			    bj_rows_int(rows, i, 2), bj_rows_int(rows, i, 3), repair);
			if (rc == -1)
				err = 1;
			else
				changed += rc;
		}
		bj_rows_free(rows);
		if (err)
			return -1;
		/* a dry run changes nothing, so the same batch would come back */
		if (changed == 0 || r->dry_run)
			return 0;
	}
}

/* Step 2: lost claims back to pending, or failed when their attempts are spent. */
int
bj_reaper_orphans(struct bj_reaper *r)
{
	return orphan_batches(r, BJ_SQL_REAPER_ORPHANS, 0);
}

/* Step 6 part: claims whose attempt already has a failure record. */
int
bj_reaper_failed_claims(struct bj_reaper *r)
{
	return orphan_batches(r, BJ_SQL_REAPER_FAILED_CLAIMS, 1);
}
