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

/* Load row i of the claimed list into c. */
static void
load_claimed(const struct bj_rows *r, int i, struct bj_claimed *c)
{
	const char *s;

	c->id = bj_rows_int(r, i, 0);
	c->job_id = bj_rows_int(r, i, 1);
	c->kind = bj_xstrdup(bj_rows_get(r, i, 2));
	c->key = bj_xstrdup(bj_rows_get(r, i, 3));
	c->stage = (int)bj_rows_int(r, i, 4);
	s = bj_rows_get(r, i, 5);
	c->payload = s ? bj_xstrdup(s) : NULL;
	c->attempt = (int)bj_rows_int(r, i, 6);
	c->lease_token = bj_xstrdup(bj_rows_get(r, i, 7));
	c->lease_expires_at = bj_xstrdup(bj_rows_get(r, i, 8));
}

/*
 * The locked ids of rows r with a fresh token each, as the JSON array of
 * [id, "token"] pairs that the claim statements take (ids are digits and
 * tokens base64url, so nothing needs escaping). NULL when no randomness.
 */
static char *
pairs(const struct bj_rows *r)
{
	struct bj_buf b = { 0 };
	char token[BJ_TOKEN_LEN + 1];

	bj_buf_adds(&b, "[");
	for (int i = 0; i < r->nrows; i++) {
		if (bj_token_new(token) == -1) {
			bj_buf_free(&b);
			return NULL;
		}
		bj_buf_printf(&b, "%s[%lld,\"%s\"]", i ? "," : "", bj_rows_int(r, i, 0), token);
	}
	bj_buf_adds(&b, "]");
	return bj_buf_steal(&b);
}

/*
 * Claim from one job: lock its due items (skipping those other claimers
 * hold), claim them all with one UPDATE and read them back with one
 * SELECT, so a batch costs the same few round trips whatever its size.
 * Returns BJ_OK with *got items appended to out, or BJ_ERR_CONFLICT when
 * the job stopped being claimable (the caller rolls back and skips it).
 */
static enum bj_err
claim_job(struct bj_db *db, const struct bj_claim_req *req, long long job, long long stage,
    int lease, int want, struct bj_claimed *out, int *got)
{
	struct bj_rows *r, *c = NULL;
	unsigned long long n;
	char *set = NULL;
	enum bj_err e = BJ_OK;

	*got = 0;
	if ((r = bj_db_query(db, BJ_SQL_CLAIM_ITEMS, "iii", job, stage, (long long)want)) == NULL)
		return bj_job_db_error(db);
	if (r->nrows == 0)
		goto out;
	if ((set = pairs(r)) == NULL) {
		e = BJ_ERR_INTERNAL;
		goto out;
	}
	if (bj_db_exec(db, BJ_SQL_CLAIM_SET, &n, "sis", set, (long long)lease,
	    req->worker) == -1 ||
	    (c = bj_db_query(db, BJ_SQL_CLAIMED_LIST, "s", set)) == NULL) {
		e = bj_job_db_error(db);
		goto out;
	}
	if (n != (unsigned long long)c->nrows || c->nrows > want) {
		e = BJ_ERR_INTERNAL;	/* the rows were locked: this cannot differ */
		goto out;
	}
	for (int i = 0; i < c->nrows; i++)
		load_claimed(c, i, &out[i]);
	*got = c->nrows;
	if (bj_db_exec(db, BJ_SQL_CLAIM_COUNT, &n, "iiii", (long long)*got,
	    (long long)*got, job, stage) == -1) {
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
	free(set);
	bj_rows_free(c);
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
		if (e == BJ_ERR_INTERNAL && bj_db_retryable(db))
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
