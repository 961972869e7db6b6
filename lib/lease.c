/*
 * lease.c: heartbeat, complete and fail of a claimed item. Complete and
 * fail are one transaction each: the conditional item UPDATE, the job's
 * counters (only when the item UPDATE matched), then fan-in
 * (bj_job_settle) or the job's failure. A batch completion is one
 * transaction for many items: the same item change for each, the job's
 * counters and fan-in once per job.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "job.h"
#include "lease.h"
#include "sql.h"
#include "tally.h"
#include "token.h"

/*
 * Why a conditional item change matched nothing: no such item, the item
 * already succeeded under this very token (a completion retried after its
 * answer was lost), a failure was already reported under it (a /fail
 * retried so: BJ_OK, it counted once), or the lease is lost.
 */
static enum bj_err
why_not(struct bj_db *db, long long item_id, const char *token)
{
	struct bj_rows *r = bj_db_queryp(db, BJ_SQL_ITEM_DONE_UNDER,
	    BJ_PARAMS(BJ_P_STR(token), BJ_P_STR(token), BJ_P_INT(item_id)));
	enum bj_err e;

	if (r == NULL)
		return bj_job_db_error(db);
	if (r->nrows == 0)
		e = BJ_ERR_ITEM_NOT_FOUND;
	else if (bj_rows_int(r, 0, 0) == 1)
		e = BJ_ERR_ALREADY_COMPLETED;
	else
		e = bj_rows_int(r, 0, 0) == 2 ? BJ_OK : BJ_ERR_LEASE_LOST;
	bj_rows_free(r);
	return e;
}

int
bj_lease_backoff(int attempt)
{
	int s = BJ_BACKOFF_FIRST;

	for (int i = 1; i < attempt && s < BJ_BACKOFF_MAX; i++)
		s *= BJ_BACKOFF_FACTOR;
	return s > BJ_BACKOFF_MAX ? BJ_BACKOFF_MAX : s;
}

void
bj_lease_status_free(struct bj_lease_status *st)
{
	if (st == NULL)
		return;
	free(st->lease_expires_at);
	st->lease_expires_at = NULL;
}

enum bj_err
bj_lease_heartbeat(struct bj_db *db, long long item_id, const char *token,
    int lease_seconds, long long done, long long total, struct bj_lease_status *st)
{
	unsigned long long n;
	struct bj_rows *r;
	const char *s;
	enum bj_err e = BJ_OK;
	int js;
	char sdone[24], stotal[24];

	memset(st, 0, sizeof *st);
	/* progress binds as decimal text so that "unchanged" can be NULL */
	snprintf(sdone, sizeof sdone, "%lld", done);
	snprintf(stotal, sizeof stotal, "%lld", total);
	if (bj_db_execp(db, BJ_SQL_LEASE_HEARTBEAT, &n, BJ_PARAMS(BJ_P_INT(lease_seconds),
	    BJ_P_INT(lease_seconds), BJ_P_STR(done >= 0 ? sdone : NULL),
	    BJ_P_STR(total >= 0 ? stotal : NULL), BJ_P_INT(item_id), BJ_P_STR(token))) == -1)
		return bj_job_db_error(db);
	if ((r = bj_db_queryp(db, BJ_SQL_LEASE_STATUS, BJ_PARAMS(BJ_P_INT(item_id)))) == NULL)
		return bj_job_db_error(db);
	if (r->nrows == 0) {
		bj_rows_free(r);
		return BJ_ERR_ITEM_NOT_FOUND;
	}
	if (n == 0)
		e = BJ_ERR_LEASE_LOST;
	else if ((s = bj_rows_get(r, 0, 0)) != NULL)
		st->lease_expires_at = bj_xstrdup(s);
	js = bj_job_state_parse(bj_rows_get(r, 0, 1));
	st->job_state = js < 0 ? BJ_JOB_QUEUED : (enum bj_job_state)js;
	st->item_state = bj_item_state_parse(bj_rows_get(r, 0, 2));
	bj_rows_free(r);
	return e;
}

/* The job half: the counters of n items of stage that succeeded (artifact may be NULL). */
static enum bj_err
count_succeeded(struct bj_db *db, long long job, long long stage, long long n,
    const char *artifact)
{
	if (bj_db_execp(db, BJ_SQL_COUNT_SUCCEEDED, NULL, BJ_PARAMS(BJ_P_INT(n), BJ_P_INT(n),
	    BJ_P_INT(n), BJ_P_INT(stage), BJ_P_INT(n), BJ_P_INT(n), BJ_P_STR(artifact),
	    BJ_P_INT(job))) == -1)
		return bj_job_db_error(db);
	return BJ_OK;
}

/* Fail inside an open transaction. */
static enum bj_err
fail_tx(struct bj_db *db, long long item_id, const char *token, const char *error,
    int retryable)
{
	struct bj_rows *r;
	unsigned long long n;
	long long job, stage, attempt, max, nth;
	int cont;
	char detail[600], kind[65];
	double seconds;
	enum bj_err e;

	if ((r = bj_db_queryp(db, BJ_SQL_LEASE_HOLDER, BJ_PARAMS(BJ_P_INT(item_id),
	    BJ_P_STR(token)))) == NULL)
		return bj_job_db_error(db);
	if (r->nrows == 0) {
		bj_rows_free(r);
		return why_not(db, item_id, token);
	}
	job = bj_rows_int(r, 0, 0);
	stage = bj_rows_int(r, 0, 1);
	attempt = bj_rows_int(r, 0, 2);
	max = bj_rows_int(r, 0, 3);
	cont = strcmp(bj_rows_get(r, 0, 4), "continue") == 0;
	snprintf(kind, sizeof kind, "%s", bj_rows_get(r, 0, 5));
	seconds = bj_rows_get(r, 0, 6) ? strtod(bj_rows_get(r, 0, 6), NULL) : -1;
	nth = bj_rows_int(r, 0, 7);	/* the back-off starts again in a retried job's round */
	bj_rows_free(r);
	if (bj_db_execp(db, BJ_SQL_FAILURE_RECORD, NULL, BJ_PARAMS(BJ_P_INT(job),
	    BJ_P_INT(attempt), BJ_P_STR(error), BJ_P_STR(token), BJ_P_INT(item_id))) == -1)
		return bj_job_db_error(db);
	snprintf(detail, sizeof detail, "item %lld attempt %lld: %.500s", item_id, attempt,
	    error ? error : "failed");
	if ((e = bj_event_add(db, job, "item_failed", detail)) != BJ_OK)
		return e;
	if (retryable && attempt < max) {
		if (bj_db_execp(db, BJ_SQL_ITEM_RETRY, &n, BJ_PARAMS(BJ_P_STR(error),
		    BJ_P_INT((long long)bj_lease_backoff((int)nth)), BJ_P_INT(item_id),
		    BJ_P_STR(token))) == -1)
			return bj_job_db_error(db);
		if (n == 0)
			return BJ_ERR_LEASE_LOST;
		if (bj_db_execp(db, BJ_SQL_COUNT_RETRY, NULL, BJ_PARAMS(BJ_P_INT(job))) == -1)
			return bj_job_db_error(db);
		bj_tally_item(kind, BJ_TALLY_RETRIED, seconds);
		return BJ_OK;
	}
	if (bj_db_execp(db, BJ_SQL_ITEM_FAIL, &n, BJ_PARAMS(BJ_P_STR(error),
	    BJ_P_INT(item_id), BJ_P_STR(token))) == -1)
		return bj_job_db_error(db);
	if (n == 0)
		return BJ_ERR_LEASE_LOST;
	if (bj_db_execp(db, BJ_SQL_COUNT_FAILED, NULL, BJ_PARAMS(BJ_P_INT(stage),
	    BJ_P_INT(job))) == -1)
		return bj_job_db_error(db);
	bj_tally_item(kind, BJ_TALLY_FAILED, seconds);
	if (!cont) {
		snprintf(detail, sizeof detail, "item %lld failed", item_id);
		e = bj_job_finish(db, job, BJ_JOB_FAILED, detail);
		if (e == BJ_ERR_INVALID_TRANSITION)
			e = BJ_OK;	/* already ended: the item's end is still recorded */
		return e;
	}
	return bj_job_settle(db, job);
}

struct failure {
	long long	 item_id;
	const char	*token, *error;
	int		 retryable;
};

static enum bj_err
failure_tx(struct bj_db *db, void *arg)
{
	const struct failure *f = arg;

	return fail_tx(db, f->item_id, f->token, f->error, f->retryable);
}

/* Fail in a transaction of its own, retrying deadlocks. */
enum bj_err
bj_lease_fail(struct bj_db *db, long long item_id, const char *token,
    const char *error, int retryable)
{
	struct failure f = { item_id, token, error, retryable };

	return bj_job_in_tx(db, failure_tx, &f);
}

/* One completion is a batch of one: the same locking, counters and fan-in. */
enum bj_err
bj_lease_complete(struct bj_db *db, long long item_id, const char *token,
    const char *result, const char *artifact)
{
	struct bj_completion c = { item_id, token, result, artifact, BJ_ERR_INTERNAL };
	enum bj_err e = bj_lease_complete_batch(db, &c, 1);

	return e != BJ_OK ? e : c.outcome;
}

/* Items of a batch in a stable lock order: by id, then as given. */
static int
by_id(const void *a, const void *b)
{
	const struct bj_completion *x = *(const struct bj_completion *const *)a;
	const struct bj_completion *y = *(const struct bj_completion *const *)b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* The succeeded items of a batch that share a job and a stage: counted once. */
struct ended {
	long long			 job, stage, n;
	const struct bj_completion	*last;	/* the latest given with an artifact */
};

/* Jobs in a stable lock order, and each job's stages in order. */
static int
by_job(const void *a, const void *b)
{
	const struct ended *x = a, *y = b;

	if (x->job != y->job)
		return x->job < y->job ? -1 : 1;
	return x->stage < y->stage ? -1 : x->stage > y->stage;
}

/* Count item c, which succeeded in job and stage, into the list end. */
static void
tally(struct ended *end, int *nend, long long job, long long stage,
    const struct bj_completion *c)
{
	struct ended *g = NULL;

	for (int i = 0; i < *nend && g == NULL; i++)
		if (end[i].job == job && end[i].stage == stage)
			g = &end[i];
	if (g == NULL) {
		g = &end[(*nend)++];
		memset(g, 0, sizeof *g);
		g->job = job;
		g->stage = stage;
	}
	g->n++;
	/* the artifact given last in the request wins, as with one call each */
	if (c->artifact != NULL && (g->last == NULL || c > g->last))
		g->last = c;
}

/* Where an item of a batch belongs (job 0: no such item), its state and lease token. */
struct place {
	long long	 job, stage;
	int		 claimed, succeeded;	/* its state */
	char		 token[BJ_TOKEN_LEN + 1];
	char		 kind[65];		/* its job's */
	double		 seconds;		/* since its claim; < 0 unknown */
};

/*
 * Lock the items of a batch in id order, and learn where each belongs,
 * its state and its lease token: where[k] for by[k], in one query over
 * the JSON array of their ids. With the rows locked, what the
 * conditional UPDATE will match is known before it runs.
 */
static enum bj_err
locate(struct bj_db *db, struct bj_completion **by, int n, struct place *where)
{
	struct bj_buf b = { 0 };
	struct bj_rows *r;

	bj_buf_adds(&b, "[");
	for (int k = 0; k < n; k++)
		bj_buf_printf(&b, "%s%lld", k ? "," : "", by[k]->id);
	bj_buf_adds(&b, "]");
	r = bj_db_queryp(db, BJ_SQL_ITEMS_LOCATE, BJ_PARAMS(BJ_P_STR(b.data)));
	bj_buf_free(&b);
	if (r == NULL)
		return bj_job_db_error(db);
	memset(where, 0, (size_t)n * sizeof *where);
	for (int i = 0; i < r->nrows; i++) {
		long long k = bj_rows_int(r, i, 0) - 1;

		if (k >= 0 && k < n) {
			const char *st = bj_rows_get(r, i, 3), *tok = bj_rows_get(r, i, 4);

			where[k].job = bj_rows_int(r, i, 1);
			where[k].stage = bj_rows_int(r, i, 2);
			where[k].claimed = st != NULL && strcmp(st, "claimed") == 0;
			where[k].succeeded = st != NULL && strcmp(st, "succeeded") == 0;
			snprintf(where[k].token, sizeof where[k].token, "%s", tok ? tok : "");
			snprintf(where[k].kind, sizeof where[k].kind, "%s",
			    bj_rows_get(r, i, 5) ? bj_rows_get(r, i, 5) : "");
			where[k].seconds = bj_rows_get(r, i, 6) ?
			    strtod(bj_rows_get(r, i, 6), NULL) : -1;
		}
	}
	bj_rows_free(r);
	return BJ_OK;
}

/*
 * A batch inside an open transaction: each item's outcome from its locked
 * row (claimed under its token: it succeeds; succeeded under it: a retry
 * whose answer was lost; else its lease is lost), then one conditional
 * UPDATE for all that succeed, then per job (in id order) its counters
 * once per stage and fan-in once. A fixed number of statements per job,
 * whatever the number of items.
 */
struct batch {
	struct bj_completion	**by;	/* in id order */
	int			  n;
	struct place		 *where;
	struct ended		 *end;
};

/*
 * The outcome of c from its locked row w; 1 when it is to succeed. done is
 * 1 when an earlier entry of the batch for the same item succeeds: the
 * first one given counts, as with one call each.
 */
static int
judge(struct bj_completion *c, const struct place *w, int done)
{
	int same = strcmp(w->token, c->lease_token) == 0;

	if (w->job == 0)
		c->outcome = BJ_ERR_ITEM_NOT_FOUND;
	else if (done)
		c->outcome = same ? BJ_ERR_ALREADY_COMPLETED : BJ_ERR_LEASE_LOST;
	else if (w->claimed && same)
		c->outcome = BJ_OK;
	else
		c->outcome = w->succeeded && same ? BJ_ERR_ALREADY_COMPLETED : BJ_ERR_LEASE_LOST;
	return c->outcome == BJ_OK;
}

static enum bj_err
complete_batch_tx(struct bj_db *db, void *arg)
{
	struct batch *b = arg;
	struct bj_completion **by = b->by;
	struct place *where = b->where;
	struct ended *end = b->end;
	struct bj_buf set = { 0 };
	unsigned long long changed;
	long long nok = 0, last_ok = 0;
	int n = b->n, nend = 0;
	enum bj_err e;

	if ((e = locate(db, by, n, where)) != BJ_OK)
		return e;
	bj_buf_adds(&set, "[");
	for (int k = 0; k < n; k++) {
		if (!judge(by[k], &where[k], by[k]->id == last_ok))
			continue;
		last_ok = by[k]->id;
		bj_buf_printf(&set, "%s[%lld,\"%s\",", nok++ ? "," : "", by[k]->id, where[k].token);
		bj_buf_json_str(&set, by[k]->result);
		bj_buf_addc(&set, ',');
		bj_buf_json_str(&set, by[k]->artifact);
		bj_buf_addc(&set, ']');
		tally(end, &nend, where[k].job, where[k].stage, by[k]);
		bj_tally_item(where[k].kind, BJ_TALLY_SUCCEEDED, where[k].seconds);
	}
	bj_buf_adds(&set, "]");
	if (nok > 0 && bj_db_execp(db, BJ_SQL_ITEMS_SUCCEED, &changed,
	    BJ_PARAMS(BJ_P_STR(set.data))) == -1)
		e = bj_job_db_error(db);
	else if (nok > 0 && changed != (unsigned long long)nok)
		e = BJ_ERR_INTERNAL;	/* the rows were locked: this cannot differ */
	bj_buf_free(&set);
	if (e != BJ_OK)
		return e;
	qsort(end, (size_t)nend, sizeof *end, by_job);
	for (int i = 0; i < nend; i++) {
		if ((e = count_succeeded(db, end[i].job, end[i].stage, end[i].n,
		    end[i].last ? end[i].last->artifact : NULL)) != BJ_OK)
			return e;
		if (i + 1 < nend && end[i + 1].job == end[i].job)
			continue;	/* settle after the job's last stage is counted */
		if ((e = bj_job_settle(db, end[i].job)) != BJ_OK)
			return e;
	}
	return BJ_OK;
}

enum bj_err
bj_lease_complete_batch(struct bj_db *db, struct bj_completion *c, int n)
{
	struct batch b;
	enum bj_err e;

	if (n < 1 || n > BJ_COMPLETE_MAX)
		return BJ_ERR_VALIDATION;
	b.n = n;
	b.by = bj_xcalloc((size_t)n, sizeof *b.by);
	b.end = bj_xcalloc((size_t)n, sizeof *b.end);
	b.where = bj_xcalloc((size_t)n, sizeof *b.where);
	for (int i = 0; i < n; i++)
		b.by[i] = &c[i];
	qsort(b.by, (size_t)n, sizeof *b.by, by_id);
	if ((e = bj_job_in_tx(db, complete_batch_tx, &b)) != BJ_OK) {
		for (int i = 0; i < n; i++)
			c[i].outcome = e;	/* rolled back: nothing changed */
	}
	free(b.by);
	free(b.end);
	free(b.where);
	return e;
}

/* Requeue inside an open transaction. */
static enum bj_err
requeue_tx(struct bj_db *db, long long item_id)
{
	struct bj_rows *r;
	unsigned long long n;
	long long job, stage, open;
	char from[16];
	int js;
	enum bj_err e = BJ_OK;

	if ((r = bj_db_queryp(db, BJ_SQL_REQUEUE_LOCK, BJ_PARAMS(BJ_P_INT(item_id)))) == NULL)
		return bj_job_db_error(db);
	if (r->nrows == 0) {
		bj_rows_free(r);
		return BJ_ERR_ITEM_NOT_FOUND;
	}
	job = bj_rows_int(r, 0, 0);
	snprintf(from, sizeof from, "%s", bj_rows_get(r, 0, 1));
	stage = bj_rows_int(r, 0, 2);
	js = bj_job_state_parse(bj_rows_get(r, 0, 3));
	open = bj_rows_int(r, 0, 4);
	bj_rows_free(r);
	if (js < 0 || bj_job_state_terminal((enum bj_job_state)js) ||
	    strcmp(from, "pending") == 0 || stage < open)
		return BJ_ERR_INVALID_TRANSITION;
	if (bj_db_execp(db, BJ_SQL_ITEM_REQUEUE, &n, BJ_PARAMS(BJ_P_INT(item_id),
	    BJ_P_STR(from))) == -1)
		return bj_job_db_error(db);
	if (n == 0)
		return BJ_ERR_INVALID_TRANSITION;
	if (bj_db_execp(db, BJ_SQL_COUNT_REQUEUE, NULL, BJ_PARAMS(BJ_P_STR(from),
	    BJ_P_STR(from), BJ_P_STR(from), BJ_P_STR(from), BJ_P_INT(stage),
	    BJ_P_INT(job))) == -1)
		return bj_job_db_error(db);
	{
		char detail[64];
		snprintf(detail, sizeof detail, "item %lld requeued from %s", item_id, from);
		e = bj_event_add(db, job, "item_requeued", detail);
	}
	return e;
}

enum bj_err
bj_item_requeue(struct bj_db *db, long long item_id)
{
	enum bj_err e;

	if (bj_db_begin(db) == -1)
		return bj_job_db_error(db);
	e = requeue_tx(db, item_id);
	if (e == BJ_OK && bj_db_commit(db) == -1)
		e = bj_job_db_error(db);
	if (e != BJ_OK)
		bj_db_rollback(db);
	return e;
}
