/*
 * job.c: loading a job (struct bj_job) from its row. The caller owns the
 * result and frees it with bj_job_free().
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "job.h"
#include "sql.h"

/* A cell duplicated, or NULL for SQL NULL. */
static char *
dup_cell(const struct bj_rows *r, int row, int col)
{
	const char *s = bj_rows_get(r, row, col);

	return s != NULL ? bj_xstrdup(s) : NULL;
}

/* Build a job from one row of a JOB_COLUMNS query. */
static struct bj_job *
from_row(const struct bj_rows *r, int row)
{
	struct bj_job *j = bj_xcalloc(1, sizeof *j);
	const char *s;
	long long now, updated, expires;
	int st;

	j->id = bj_rows_int(r, row, 0);
	j->token = dup_cell(r, row, 1);
	j->kind = dup_cell(r, row, 2);
	j->owner = dup_cell(r, row, 3);
	j->title = dup_cell(r, row, 4);
	j->params = dup_cell(r, row, 5);
	j->language = dup_cell(r, row, 6);
	st = bj_job_state_parse(bj_rows_get(r, row, 7));
	j->state = st < 0 ? BJ_JOB_QUEUED : (enum bj_job_state)st;
	j->stage = (int)bj_rows_int(r, row, 8);
	j->stage_count = (int)bj_rows_int(r, row, 9);
	j->n_total = bj_rows_int(r, row, 10);
	j->n_pending = bj_rows_int(r, row, 11);
	j->n_claimed = bj_rows_int(r, row, 12);
	j->n_succeeded = bj_rows_int(r, row, 13);
	j->n_failed = bj_rows_int(r, row, 14);
	j->n_cancelled = bj_rows_int(r, row, 15);
	bj_rows_time(r, row, 33, &now);
	j->created_at = bj_rows_iso(r, row, 16, 1, NULL);
	j->updated_at = bj_rows_iso(r, row, 17, 1, &updated);
	j->started_at = bj_rows_iso(r, row, 18, 1, NULL);
	j->finished_at = bj_rows_iso(r, row, 19, 1, NULL);
	j->deadline_at = bj_rows_iso(r, row, 20, 1, NULL);
	j->artifact = dup_cell(r, row, 21);
	j->artifact_expires_at = bj_rows_iso(r, row, 22, 1, &expires);
	j->artifact_deleted = bj_rows_int(r, row, 23) != 0;
	j->artifact_expired = j->artifact_expires_at != NULL && expires <= now;
	j->retention_seconds = bj_rows_int(r, row, 24);
	j->max_attempts = (int)bj_rows_int(r, row, 25);
	j->lease_seconds = (int)bj_rows_int(r, row, 26);
	s = bj_rows_get(r, row, 27);
	j->on_item_failure = (s != NULL && strcmp(s, "continue") == 0) ?
	    BJ_ON_FAIL_CONTINUE : BJ_ON_FAIL_JOB;
	j->idempotency_key = dup_cell(r, row, 28);
	j->priority = (int)bj_rows_int(r, row, 29);
	j->max_concurrency = bj_rows_int(r, row, 30);
	j->version = bj_rows_int(r, row, 31);
	j->idle_seconds = bj_us_seconds(updated, now);
	j->round = (int)bj_rows_int(r, row, 32);
	return j;
}

int
bj_job_poll_interval(const struct bj_job *job)
{
	if (bj_job_state_terminal(job->state))
		return -1;
	if (job->idle_seconds < 60)
		return 5;
	if (job->idle_seconds < 600)
		return 15;
	if (job->idle_seconds < 3600)
		return 30;
	return 60;
}

/* Run a one-row job query and convert the outcome. */
static enum bj_err
load(struct bj_db *db, struct bj_rows *r, struct bj_job **out)
{
	*out = NULL;
	if (r == NULL)
		return bj_db_gone(db) ? BJ_ERR_DB_UNAVAILABLE : BJ_ERR_INTERNAL;
	if (r->nrows == 0) {
		bj_rows_free(r);
		return BJ_ERR_JOB_NOT_FOUND;
	}
	*out = from_row(r, 0);
	bj_rows_free(r);
	return BJ_OK;
}

enum bj_err
bj_job_get(struct bj_db *db, long long id, struct bj_job **out)
{
	return load(db, bj_db_queryp(db, BJ_SQL_JOB_GET, BJ_PARAMS(BJ_P_INT(id))), out);
}

enum bj_err
bj_job_by_token(struct bj_db *db, const char *token, struct bj_job **out)
{
	return load(db, bj_db_queryp(db, BJ_SQL_JOB_BY_TOKEN, BJ_PARAMS(BJ_P_STR(token))),
	    out);
}

void
bj_job_free(struct bj_job *j)
{
	if (j == NULL)
		return;
	free(j->token);
	free(j->kind);
	free(j->owner);
	free(j->title);
	free(j->params);
	free(j->language);
	free(j->created_at);
	free(j->updated_at);
	free(j->started_at);
	free(j->finished_at);
	free(j->deadline_at);
	free(j->artifact);
	free(j->artifact_expires_at);
	free(j->idempotency_key);
	free(j);
}

enum bj_err
bj_job_db_error(const struct bj_db *db)
{
	return bj_db_gone(db) ? BJ_ERR_DB_UNAVAILABLE : BJ_ERR_INTERNAL;
}

/*
 * Tries of one transaction. Under Galera every claim and completion of a
 * job updates its row from whichever node took the request: two nodes
 * taking writes at once certify against each other and one gets 1213 at
 * COMMIT, again and again on a hot row, so a few quick tries are not
 * enough; the pauses between tries double (bj_db_backoff), about 0.5 s in all.
 */
#define TX_TRIES	8

int
bj_job_retry(struct bj_db *db, int attempt, int tries, enum bj_err *e)
{
	if (*e != BJ_ERR_INTERNAL && *e != BJ_ERR_DB_UNAVAILABLE)
		return 0;
	if (!bj_db_transient(db))
		return 0;
	if (attempt + 1 < tries) {
		bj_db_backoff(attempt);
		return 1;
	}
	/* out of tries: the client is asked to come back (503), never told 500 */
	*e = bj_db_retryable(db) ? BJ_ERR_CONTENDED : BJ_ERR_DB_UNAVAILABLE;
	return 0;
}

enum bj_err
bj_job_in_tx(struct bj_db *db, enum bj_err (*fn)(struct bj_db *, void *), void *arg)
{
	enum bj_err e = BJ_ERR_INTERNAL;

	for (int i = 0; i < TX_TRIES; i++) {
		if (bj_db_begin(db) == -1)
			e = bj_job_db_error(db);
		else {
			e = fn(db, arg);
			if (e == BJ_OK && bj_db_commit(db) == -1)
				e = bj_job_db_error(db);
			if (e == BJ_OK)
				return BJ_OK;
			bj_db_rollback(db);
		}
		if (!bj_job_retry(db, i, TX_TRIES, &e))
			break;
	}
	return e;
}

enum bj_err
bj_job_list(struct bj_db *db, const char *owner, const char *state, const char *kind,
    long long before, int limit, struct bj_job ***out, int *n)
{
	const char *v[3] = { owner, state, kind };
	struct bj_param p[5];
	int mask = 0, k = 0;
	struct bj_rows *r;

	*out = NULL;
	*n = 0;
	/* bind the present filters, then the cursor and the limit */
	for (int i = 0; i < 3; i++) {
		if (v[i] != NULL) {
			mask |= 1 << i;
			p[k++] = BJ_P_STR(v[i]);
		}
	}
	if (before <= 0)
		before = 0x7fffffffffffffffLL;
	p[k++] = BJ_P_INT(before);
	p[k++] = BJ_P_INT(limit);
	r = bj_db_queryp(db, bj_sql_jobs_list(mask), p, (size_t)k);
	if (r == NULL)
		return bj_job_db_error(db);
	*out = bj_xcalloc((size_t)r->nrows + 1, sizeof **out);
	for (int i = 0; i < r->nrows; i++)
		(*out)[i] = from_row(r, i);
	*n = r->nrows;
	bj_rows_free(r);
	return BJ_OK;
}

void
bj_job_list_free(struct bj_job **jobs, int n)
{
	if (jobs == NULL)
		return;
	for (int i = 0; i < n; i++)
		bj_job_free(jobs[i]);
	free(jobs);
}
