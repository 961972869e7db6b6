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
dup_cell(const struct bj_rows *r, int col)
{
	const char *s = bj_rows_get(r, 0, col);

	return s != NULL ? bj_xstrdup(s) : NULL;
}

/* Build a job from the single row of a JOB_COLUMNS query. */
static struct bj_job *
from_row(const struct bj_rows *r)
{
	struct bj_job *j = bj_xcalloc(1, sizeof *j);
	const char *s;
	int st;

	j->id = bj_rows_int(r, 0, 0);
	j->token = dup_cell(r, 1);
	j->kind = dup_cell(r, 2);
	j->owner = dup_cell(r, 3);
	j->title = dup_cell(r, 4);
	j->params = dup_cell(r, 5);
	j->language = dup_cell(r, 6);
	st = bj_job_state_parse(bj_rows_get(r, 0, 7));
	j->state = st < 0 ? BJ_JOB_QUEUED : (enum bj_job_state)st;
	j->stage = (int)bj_rows_int(r, 0, 8);
	j->stage_count = (int)bj_rows_int(r, 0, 9);
	j->n_total = bj_rows_int(r, 0, 10);
	j->n_pending = bj_rows_int(r, 0, 11);
	j->n_claimed = bj_rows_int(r, 0, 12);
	j->n_succeeded = bj_rows_int(r, 0, 13);
	j->n_failed = bj_rows_int(r, 0, 14);
	j->n_cancelled = bj_rows_int(r, 0, 15);
	j->created_at = dup_cell(r, 16);
	j->updated_at = dup_cell(r, 17);
	j->started_at = dup_cell(r, 18);
	j->finished_at = dup_cell(r, 19);
	j->deadline_at = dup_cell(r, 20);
	j->artifact = dup_cell(r, 21);
	j->artifact_expires_at = dup_cell(r, 22);
	j->artifact_deleted = bj_rows_int(r, 0, 23) != 0;
	j->artifact_expired = bj_rows_int(r, 0, 24) != 0;
	j->retention_seconds = bj_rows_int(r, 0, 25);
	j->max_attempts = (int)bj_rows_int(r, 0, 26);
	j->lease_seconds = (int)bj_rows_int(r, 0, 27);
	s = bj_rows_get(r, 0, 28);
	j->on_item_failure = (s != NULL && strcmp(s, "continue") == 0) ?
	    BJ_ON_FAIL_CONTINUE : BJ_ON_FAIL_JOB;
	j->idempotency_key = dup_cell(r, 29);
	return j;
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
	*out = from_row(r);
	bj_rows_free(r);
	return BJ_OK;
}

enum bj_err
bj_job_get(struct bj_db *db, long long id, struct bj_job **out)
{
	return load(db, bj_db_query(db, BJ_SQL_JOB_GET, "i", id), out);
}

enum bj_err
bj_job_by_token(struct bj_db *db, const char *token, struct bj_job **out)
{
	return load(db, bj_db_query(db, BJ_SQL_JOB_BY_TOKEN, "s", token), out);
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
