/*
 * settle.c: the job-level state changes shared by the API, the reaper and
 * the pages: fan-in (stage advance, job completion), terminal moves, the
 * notification outbox and the timeline. Every function runs inside the
 * caller's transaction and writes only conditionally, so a second run, or
 * a run from another process, changes nothing. Declared in job.h, with the
 * rest of the job model (loading and the transaction runner are job.c's).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "claim.h"
#include "job.h"
#include "sql.h"
#include "tally.h"

/* The outbox event for a terminal state, or NULL. */
static const char *
event_for(enum bj_job_state s)
{
	switch (s) {
	case BJ_JOB_SUCCEEDED:	return "job.succeeded";
	case BJ_JOB_FAILED:	return "job.failed";
	case BJ_JOB_CANCELLED:	return "job.cancelled";
	case BJ_JOB_EXPIRED:	return "job.expired";
	default:		return NULL;
	}
}

/* Timeline entry, notifications and tally for a job of kind that just reached state to. */
static enum bj_err
record_end(struct bj_db *db, long long job_id, const char *kind, enum bj_job_state to,
    const char *detail)
{
	char text[600];
	const char *type = "finished";
	enum bj_err e;

	if (to == BJ_JOB_CANCELLED || to == BJ_JOB_EXPIRED)
		type = bj_job_state_name(to);
	if (detail != NULL && *detail)
		snprintf(text, sizeof text, "%s: %s", bj_job_state_name(to), detail);
	else
		snprintf(text, sizeof text, "%s", bj_job_state_name(to));
	if ((e = bj_event_add(db, job_id, type, text)) != BJ_OK)
		return e;
	bj_tally_job(kind, to);
	return bj_outbox_record(db, job_id, event_for(to));
}

enum bj_err
bj_job_settle(struct bj_db *db, long long job_id)
{
	struct bj_rows *r = NULL, *c = NULL;
	enum bj_err e = BJ_OK;
	enum bj_job_state st, to;
	long long stage, remaining, left, succeeded, failed;
	int cont, s;
	unsigned long long n;
	char detail[64];

	if ((r = bj_db_queryp(db, BJ_SQL_JOB_LOCK, BJ_PARAMS(BJ_P_INT(job_id)))) == NULL)
		return bj_job_db_error(db);
	if (r->nrows == 0) {
		e = BJ_ERR_JOB_NOT_FOUND;
		goto out;
	}
	s = bj_job_state_parse(bj_rows_get(r, 0, 0));
	if (s < 0 || bj_job_state_terminal((enum bj_job_state)s))
		goto out;
	st = (enum bj_job_state)s;
	stage = bj_rows_int(r, 0, 1);
	remaining = bj_rows_int(r, 0, 2);
	cont = strcmp(bj_rows_get(r, 0, 3), "continue") == 0;
	succeeded = bj_rows_int(r, 0, 5);
	failed = bj_rows_int(r, 0, 6);
	if (remaining > 0)
		goto out;

	/* The counter says the stage is over: make sure the items agree. */
	if ((c = bj_db_queryp(db, BJ_SQL_STAGE_LEFT, BJ_PARAMS(BJ_P_INT(job_id),
	    BJ_P_INT(stage)))) == NULL) {
		e = bj_job_db_error(db);
		goto out;
	}
	left = bj_rows_int(c, 0, 0);
	bj_rows_free(c);
	c = NULL;
	if (left > 0) {
		if (bj_db_execp(db, BJ_SQL_STAGE_REMAINING_SET, NULL,
		    BJ_PARAMS(BJ_P_INT(left), BJ_P_INT(job_id), BJ_P_INT(stage))) == -1)
			e = bj_job_db_error(db);
		goto out;
	}

	if (!cont && failed > 0) {
		e = bj_job_finish(db, job_id, BJ_JOB_FAILED, "an item failed");
		goto out;
	}

	if ((c = bj_db_queryp(db, BJ_SQL_STAGE_NEXT, BJ_PARAMS(BJ_P_INT(job_id),
	    BJ_P_INT(stage)))) == NULL) {
		e = bj_job_db_error(db);
		goto out;
	}
	if (bj_rows_get(c, 0, 0) != NULL) {
		long long next = bj_rows_int(c, 0, 0);

		if (bj_db_execp(db, BJ_SQL_STAGE_OPEN, &n, BJ_PARAMS(BJ_P_INT(next),
		    BJ_P_INT(job_id), BJ_P_INT(next), BJ_P_INT(job_id),
		    BJ_P_INT(stage))) == -1) {
			e = bj_job_db_error(db);
			goto out;
		}
		if (n == 1) {
			snprintf(detail, sizeof detail, "stage %lld", next);
			e = bj_event_add(db, job_id, "stage_advanced", detail);
		}
		goto out;
	}

	/* Every item has ended. */
	to = BJ_JOB_SUCCEEDED;
	if (failed > 0 && (!cont || succeeded == 0))
		to = BJ_JOB_FAILED;
	if (bj_db_execp(db, BJ_SQL_JOB_END, &n, BJ_PARAMS(BJ_P_STR(bj_job_state_name(to)),
	    BJ_P_INT(job_id), BJ_P_STR(bj_job_state_name(st)))) == -1) {
		e = bj_job_db_error(db);
		goto out;
	}
	if (n == 1)
		e = record_end(db, job_id, bj_rows_get(r, 0, 7), to, NULL);
out:
	bj_rows_free(c);
	bj_rows_free(r);
	return e;
}

enum bj_err
bj_job_finish(struct bj_db *db, long long job_id, enum bj_job_state to, const char *detail)
{
	struct bj_rows *r;
	unsigned long long n, nc = 0;
	enum bj_job_state from;
	int s;
	char kind[65];

	if ((r = bj_db_queryp(db, BJ_SQL_JOB_LOCK, BJ_PARAMS(BJ_P_INT(job_id)))) == NULL)
		return bj_job_db_error(db);
	if (r->nrows == 0) {
		bj_rows_free(r);
		return BJ_ERR_JOB_NOT_FOUND;
	}
	s = bj_job_state_parse(bj_rows_get(r, 0, 0));
	snprintf(kind, sizeof kind, "%s", bj_rows_get(r, 0, 7));
	bj_rows_free(r);
	if (s < 0)
		return BJ_ERR_INTERNAL;
	from = (enum bj_job_state)s;
	if (!bj_job_state_terminal(to) || !bj_job_can(from, to))
		return BJ_ERR_INVALID_TRANSITION;
	if (bj_db_execp(db, BJ_SQL_JOB_END, &n, BJ_PARAMS(BJ_P_STR(bj_job_state_name(to)),
	    BJ_P_INT(job_id), BJ_P_STR(bj_job_state_name(from)))) == -1)
		return bj_job_db_error(db);
	if (n == 0)
		return BJ_ERR_INVALID_TRANSITION;
	/* claims are few (workers x batch): revoked now; pending rows are many */
	if ((to == BJ_JOB_CANCELLED || to == BJ_JOB_EXPIRED) &&
	    bj_db_execp(db, BJ_SQL_ITEMS_CANCEL_CLAIMED, &nc, BJ_PARAMS(BJ_P_INT(job_id))) == -1)
		return bj_job_db_error(db);
	if (bj_db_execp(db, BJ_SQL_JOB_COUNT_CANCEL_LATER, NULL,
	    BJ_PARAMS(BJ_P_INT(nc), BJ_P_INT(nc), BJ_P_INT(job_id))) == -1)
		return bj_job_db_error(db);
	return record_end(db, job_id, kind, to, detail);
}

enum bj_err
bj_outbox_record_jobs(struct bj_db *db, const char *ids, const char *event)
{
	if (event == NULL || ids == NULL)
		return BJ_ERR_INTERNAL;
	if (bj_db_execp(db, BJ_SQL_OUTBOX_RECORD, NULL, BJ_PARAMS(BJ_P_STR(event),
	    BJ_P_STR(ids))) == -1)
		return bj_job_db_error(db);
	return BJ_OK;
}

enum bj_err
bj_outbox_record(struct bj_db *db, long long job_id, const char *event)
{
	char ids[32];

	snprintf(ids, sizeof ids, "[%lld]", job_id);
	return bj_outbox_record_jobs(db, ids, event);
}

enum bj_err
bj_event_add(struct bj_db *db, long long job_id, const char *type, const char *detail)
{
	if (bj_db_execp(db, BJ_SQL_EVENT_ADD, NULL, BJ_PARAMS(BJ_P_INT(job_id),
	    BJ_P_STR(type), BJ_P_STR(detail))) == -1)
		return bj_job_db_error(db);
	return BJ_OK;
}

/* Run a conditional job UPDATE: missing job, wrong state, or done with an event. */
static enum bj_err
conditional(struct bj_db *db, long long job_id, const char *sql, const char *event,
    const char *detail)
{
	unsigned long long n;
	struct bj_rows *r;
	enum bj_err e;

	if (bj_db_execp(db, sql, &n, BJ_PARAMS(BJ_P_INT(job_id))) == -1)
		return bj_job_db_error(db);
	if (n == 0) {
		if ((r = bj_db_queryp(db, BJ_SQL_JOB_STATE,
		    BJ_PARAMS(BJ_P_INT(job_id)))) == NULL)
			return bj_job_db_error(db);
		e = r->nrows == 0 ? BJ_ERR_JOB_NOT_FOUND : BJ_ERR_INVALID_TRANSITION;
		bj_rows_free(r);
		return e;
	}
	return bj_event_add(db, job_id, event, detail);
}

enum bj_err
bj_job_pause(struct bj_db *db, long long job_id, const char *detail)
{
	return conditional(db, job_id, BJ_SQL_JOB_PAUSE, "paused", detail);
}

enum bj_err
bj_job_resume(struct bj_db *db, long long job_id, const char *detail)
{
	enum bj_err e = conditional(db, job_id, BJ_SQL_JOB_RESUME, "resumed", detail);

	if (e == BJ_OK)
		e = bj_claim_queue_join(db, job_id);
	/* its last claims may have ended while it was paused */
	return e == BJ_OK ? bj_job_settle(db, job_id) : e;
}

enum bj_err
bj_job_retry_round(struct bj_db *db, long long job_id, int round, const char *detail)
{
	struct bj_rows *r;
	unsigned long long n;
	long long now, gone;
	int s;
	char text[300];
	enum bj_err e;

	if ((r = bj_db_queryp(db, BJ_SQL_JOB_RETRY_LOCK, BJ_PARAMS(BJ_P_INT(job_id)))) == NULL)
		return bj_job_db_error(db);
	if (r->nrows == 0) {
		bj_rows_free(r);
		return BJ_ERR_JOB_NOT_FOUND;
	}
	s = bj_job_state_parse(bj_rows_get(r, 0, 0));
	now = bj_rows_int(r, 0, 1);
	gone = bj_rows_int(r, 0, 2);
	bj_rows_free(r);
	if (round > 0 && round < now)
		return BJ_OK;	/* retried already: the first call counted */
	if (s < 0 || !bj_job_can_retry((enum bj_job_state)s) || (round > 0 && round != now))
		return BJ_ERR_INVALID_TRANSITION;
	if (gone)
		return BJ_ERR_FILES_REMOVED;
	if (bj_db_execp(db, BJ_SQL_ITEMS_RETRY, &n, BJ_PARAMS(BJ_P_INT(job_id))) == -1 ||
	    bj_db_execp(db, BJ_SQL_ITEMS_RETRY_CLAIMED, NULL, BJ_PARAMS(BJ_P_INT(job_id))) == -1 ||
	    bj_db_execp(db, BJ_SQL_JOB_RETRY_START, NULL, BJ_PARAMS(BJ_P_INT(job_id),
	    BJ_P_INT(now))) == -1 ||
	    bj_db_execp(db, BJ_SQL_JOB_RECOUNT, NULL, BJ_PARAMS(BJ_P_INT(job_id),
	    BJ_P_INT(job_id))) == -1)
		return bj_job_db_error(db);
	snprintf(text, sizeof text, "round %lld: %llu items again%s%.200s", now + 1, n,
	    detail != NULL && *detail ? ", " : "", detail != NULL ? detail : "");
	if ((e = bj_event_add(db, job_id, "retried", text)) != BJ_OK ||
	    (e = bj_claim_queue_join(db, job_id)) != BJ_OK)
		return e;
	/* nothing went back and no claim of the failed round runs: it ends again now */
	return bj_job_settle(db, job_id);
}

struct change {
	long long		 job_id;
	enum bj_job_change	 what;
	int			 round;
	const char		*detail;
};

static enum bj_err
change_tx(struct bj_db *db, void *arg)
{
	const struct change *c = arg;

	switch (c->what) {
	case BJ_CHANGE_CANCEL:
		return bj_job_finish(db, c->job_id, BJ_JOB_CANCELLED, c->detail);
	case BJ_CHANGE_PAUSE:
		return bj_job_pause(db, c->job_id, c->detail);
	case BJ_CHANGE_RETRY:
		return bj_job_retry_round(db, c->job_id, c->round, c->detail);
	case BJ_CHANGE_RESUME:
	default:
		return bj_job_resume(db, c->job_id, c->detail);
	}
}

enum bj_err
bj_job_change_round(struct bj_db *db, long long job_id, enum bj_job_change what, int round,
    const char *detail)
{
	struct change c = { job_id, what, round, detail };

	return bj_job_in_tx(db, change_tx, &c);
}

enum bj_err
bj_job_change(struct bj_db *db, long long job_id, enum bj_job_change what, const char *detail)
{
	return bj_job_change_round(db, job_id, what, 0, detail);
}

struct redeliver {
	long long	 job_id, id;
	const char	*detail;
};

/* The dead row back to pending (the notifier's next run takes it), the job's version, the timeline. */
static enum bj_err
redeliver_tx(struct bj_db *db, void *arg)
{
	const struct redeliver *rd = arg;
	unsigned long long n;

	if (bj_db_execp(db, BJ_SQL_NOTIFY_REDELIVER, &n, BJ_PARAMS(BJ_P_INT(rd->id),
	    BJ_P_INT(rd->job_id))) == -1)
		return bj_job_db_error(db);
	if (n == 0)
		return BJ_ERR_INVALID_TRANSITION;
	if (bj_db_execp(db, BJ_SQL_NOTIFY_JOB_TOUCH, NULL, BJ_PARAMS(BJ_P_INT(rd->id))) == -1)
		return bj_job_db_error(db);
	return bj_event_add(db, rd->job_id, "notify_redelivered", rd->detail);
}

enum bj_err
bj_notify_redeliver(struct bj_db *db, long long job_id, long long id, const char *detail)
{
	struct redeliver rd = { job_id, id, detail };

	return bj_job_in_tx(db, redeliver_tx, &rd);
}
