/*
 * claim.c: POST /v1/claims in the model. Each item claimed gets a fresh
 * random lease token and attempt + 1; its job's counters move in the same
 * transaction, conditional on the job still being claimable (queued or
 * running, same open stage). A job that was paused or cancelled meanwhile
 * makes the transaction start over without it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "claim.h"
#include "job.h"
#include "sql.h"

#define MAX_SKIP 8

/* 1 when id is in the list of skipped jobs. */
static int
skipped(const long long *skip, int nskip, long long id)
{
	for (int i = 0; i < nskip; i++)
		if (skip[i] == id)
			return 1;
	return 0;
}

/* Load the claimed item's JSON fields into c. */
static enum bj_err
load_claimed(struct bj_db *db, long long id, struct bj_claimed *c)
{
	struct bj_rows *r = bj_db_query(db, BJ_SQL_CLAIMED_GET, "i", id);
	const char *s;

	if (r == NULL)
		return bj_job_db_error(db);
	if (r->nrows == 0) {
		bj_rows_free(r);
		return BJ_ERR_INTERNAL;
	}
	c->id = bj_rows_int(r, 0, 0);
	c->job_id = bj_rows_int(r, 0, 1);
	c->kind = bj_xstrdup(bj_rows_get(r, 0, 2));
	c->key = bj_xstrdup(bj_rows_get(r, 0, 3));
	c->stage = (int)bj_rows_int(r, 0, 4);
	s = bj_rows_get(r, 0, 5);
	c->payload = s ? bj_xstrdup(s) : NULL;
	c->attempt = (int)bj_rows_int(r, 0, 6);
	c->lease_token = bj_xstrdup(bj_rows_get(r, 0, 7));
	c->lease_expires_at = bj_xstrdup(bj_rows_get(r, 0, 8));
	bj_rows_free(r);
	return BJ_OK;
}

/*
 * Claim from one job. Returns BJ_OK with *got items appended to out,
 * or BJ_ERR_CONFLICT when the job stopped being claimable (the caller
 * rolls back and skips it).
 */
static enum bj_err
claim_job(struct bj_db *db, const struct bj_claim_req *req, long long job, long long stage,
    int lease, int want, struct bj_claimed *out, int *got)
{
	struct bj_rows *r;
	unsigned long long n, claimed = 0;
	char token[BJ_TOKEN_LEN + 1];
	enum bj_err e = BJ_OK;

	*got = 0;
	if ((r = bj_db_query(db, BJ_SQL_CLAIM_ITEMS, "iii", job, stage, (long long)want)) == NULL)
		return bj_job_db_error(db);
	for (int i = 0; i < r->nrows; i++) {
		long long id = bj_rows_int(r, i, 0);

		if (bj_token_new(token) == -1) {
			e = BJ_ERR_INTERNAL;
			goto out;
		}
		if (bj_db_exec(db, BJ_SQL_CLAIM_ITEM, &n, "sisi", token, (long long)lease,
		    req->worker, id) == -1) {
			e = bj_job_db_error(db);
			goto out;
		}
		if (n == 1) {
			if ((e = load_claimed(db, id, &out[claimed])) != BJ_OK)
				goto out;
			claimed++;
			*got = (int)claimed;
		}
	}
	if (claimed == 0)
		goto out;
	if (bj_db_exec(db, BJ_SQL_CLAIM_COUNT, &n, "iiii", (long long)claimed,
	    (long long)claimed, job, stage) == -1) {
		e = bj_job_db_error(db);
		goto out;
	}
	if (n == 0) {
		e = BJ_ERR_CONFLICT;
		goto out;
	}
	if (bj_db_exec(db, BJ_SQL_JOB_START, &n, "i", job) == -1) {
		e = bj_job_db_error(db);
		goto out;
	}
	if (n == 1)
		e = bj_event_add(db, job, "started", NULL);
out:
	bj_rows_free(r);
	return e;
}

/* One attempt at the whole claim transaction. */
static enum bj_err
claim_once(struct bj_db *db, const struct bj_claim_req *req, long long *skip, int *nskip,
    struct bj_claimed *out, int *n)
{
	struct bj_rows *jobs = NULL;
	const char *sql = bj_sql_claim_jobs(req->nkinds);
	enum bj_err e = BJ_OK;
	int got;

	*n = 0;
	if (sql == NULL)
		return BJ_ERR_VALIDATION;
	if (bj_db_begin(db) == -1)
		return bj_job_db_error(db);
	/*
	 * The kinds are bound one by one with the format "sss…" of nkinds
	 * letters; arguments past the format are not read.
	 */
	{
		char fmt[BJ_SQL_MAX_KINDS + 1];

		memset(fmt, 's', (size_t)req->nkinds);
		fmt[req->nkinds] = '\0';
		jobs = bj_db_query(db, sql, fmt, req->kinds[0], req->kinds[1 % req->nkinds],
		    req->kinds[2 % req->nkinds], req->kinds[3 % req->nkinds],
		    req->kinds[4 % req->nkinds], req->kinds[5 % req->nkinds],
		    req->kinds[6 % req->nkinds], req->kinds[7 % req->nkinds],
		    req->kinds[8 % req->nkinds], req->kinds[9 % req->nkinds],
		    req->kinds[10 % req->nkinds], req->kinds[11 % req->nkinds],
		    req->kinds[12 % req->nkinds], req->kinds[13 % req->nkinds],
		    req->kinds[14 % req->nkinds], req->kinds[15 % req->nkinds]);
	}
	if (jobs == NULL) {
		e = bj_job_db_error(db);
		goto out;
	}
	for (int i = 0; i < jobs->nrows && *n < req->limit; i++) {
		long long job = bj_rows_int(jobs, i, 0);
		int lease = req->lease_seconds > 0 ? req->lease_seconds :
		    (int)bj_rows_int(jobs, i, 2);

		if (skipped(skip, *nskip, job))
			continue;
		e = claim_job(db, req, job, bj_rows_int(jobs, i, 1), lease, req->limit - *n,
		    out + *n, &got);
		*n += got;
		if (e == BJ_ERR_CONFLICT && *nskip < MAX_SKIP)
			skip[(*nskip)++] = job;
		if (e != BJ_OK)
			goto out;
	}
	if (bj_db_commit(db) == -1)
		e = bj_job_db_error(db);
out:
	bj_rows_free(jobs);
	if (e != BJ_OK) {
		bj_db_rollback(db);
		bj_claimed_free_items(out, *n);
		*n = 0;
	}
	return e;
}

enum bj_err
bj_claim(struct bj_db *db, const struct bj_claim_req *req, struct bj_claimed **out, int *n)
{
	struct bj_claimed *items;
	long long skip[MAX_SKIP];
	int nskip = 0;
	enum bj_err e = BJ_ERR_INTERNAL;

	*out = NULL;
	*n = 0;
	if (req->nkinds < 1 || req->nkinds > BJ_SQL_MAX_KINDS || req->limit < 1 ||
	    req->limit > BJ_CLAIM_MAX_LIMIT)
		return BJ_ERR_VALIDATION;
	items = bj_xcalloc((size_t)req->limit, sizeof *items);
	for (int round = 0; round < MAX_SKIP + 2; round++) {
		e = claim_once(db, req, skip, &nskip, items, n);
		if (e == BJ_ERR_CONFLICT)
			continue;	/* a job changed state under us: again without it */
		if (e == BJ_ERR_INTERNAL && (bj_db_errno(db) == 1213 || bj_db_errno(db) == 1205))
			continue;	/* deadlock or lock wait: the transaction is gone, retry */
		break;
	}
	if (e != BJ_OK) {
		free(items);
		return e;
	}
	*out = items;
	return BJ_OK;
}

/* Free the strings of n claimed items (not the array). */
void
bj_claimed_free_items(struct bj_claimed *c, int n)
{
	for (int i = 0; i < n; i++) {
		free(c[i].kind);
		free(c[i].key);
		free(c[i].payload);
		free(c[i].lease_token);
		free(c[i].lease_expires_at);
		memset(&c[i], 0, sizeof c[i]);
	}
}

void
bj_claimed_free(struct bj_claimed *c, int n)
{
	if (c == NULL)
		return;
	bj_claimed_free_items(c, n);
	free(c);
}
