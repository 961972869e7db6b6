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
#include <strings.h>

#include "buf.h"
#include "claim.h"
#include "conf.h"
#include "job.h"
#include "sql.h"

#define MAX_ROUNDS 10	/* attempts at a claim whose jobs change under it */

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
 * Append [id, "token"] to the JSON array in b (opened with "["), the form
 * the claim statements and the claim keys take: ids are digits and tokens
 * base64url, so nothing needs escaping.
 */
static void
pair_add(struct bj_buf *b, long long id, const char *token)
{
	bj_buf_printf(b, "%s[%lld,\"%s\"]", b->len > 1 ? "," : "", id, token);
}

/* The locked ids of rows r with a fresh token each, as pairs. NULL when no randomness. */
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
		pair_add(&b, bj_rows_int(r, i, 0), token);
	}
	bj_buf_adds(&b, "]");
	return bj_buf_steal(&b);
}

/* A claimable job as the queue's pick reads it. */
struct pick {
	long long	 id, stage, pass, max_concurrency;
	int		 lease, priority, queued;
};

static void
load_pick(const struct bj_rows *r, int i, struct pick *p)
{
	const char *st = bj_rows_get(r, i, 5);

	p->id = bj_rows_int(r, i, 0);
	p->stage = bj_rows_int(r, i, 1);
	p->lease = (int)bj_rows_int(r, i, 2);
	p->priority = (int)bj_rows_int(r, i, 3);
	p->max_concurrency = bj_rows_int(r, i, 4);
	p->queued = st != NULL && strcmp(st, "queued") == 0;
	p->pass = bj_rows_int(r, i, 6);
}

/*
 * Take items of one job: lock its due items (skipping those other
 * claimers hold), claim them all with one UPDATE and read them back with
 * one SELECT, so a batch costs the same few round trips whatever its
 * size. *got items are appended to out; the job's row is counted later
 * (count_job), after its queue's.
 */
static enum bj_err
claim_job(struct bj_db *db, const struct bj_claim_req *req, const struct pick *p, int want,
    struct bj_claimed *out, int *got)
{
	int lease = req->lease_seconds > 0 ? req->lease_seconds : p->lease;
	struct bj_rows *r, *c = NULL;
	unsigned long long n;
	char *set = NULL;
	enum bj_err e = BJ_OK;

	*got = 0;
	if ((r = bj_db_queryp(db, BJ_SQL_CLAIM_ITEMS, BJ_PARAMS(BJ_P_INT(p->id),
	    BJ_P_INT(p->stage), BJ_P_INT((long long)want)))) == NULL)
		return bj_job_db_error(db);
	if (r->nrows == 0)
		goto out;
	if ((set = pairs(r)) == NULL) {
		e = BJ_ERR_INTERNAL;
		goto out;
	}
	if (bj_db_execp(db, BJ_SQL_CLAIM_SET, &n, BJ_PARAMS(BJ_P_STR(set),
	    BJ_P_INT((long long)lease), BJ_P_STR(req->worker))) == -1 ||
	    (c = bj_db_queryp(db, BJ_SQL_CLAIMED_LIST, BJ_PARAMS(BJ_P_STR(set)))) == NULL) {
		e = bj_job_db_error(db);
		goto out;
	}
	/*
	 * The rows are locked, so on one server this cannot differ; on a
	 * cluster another node's claim may have won them: start over.
	 */
	if (n != (unsigned long long)c->nrows || c->nrows > want) {
		e = BJ_ERR_CONFLICT;
		goto out;
	}
	for (int i = 0; i < c->nrows; i++)
		load_claimed(c, i, &out[i]);
	*got = c->nrows;
out:
	free(set);
	bj_rows_free(c);
	bj_rows_free(r);
	return e;
}

/*
 * Count got items claimed from job p: its counters and pass, conditional
 * on it still being claimable in the same stage (BJ_ERR_CONFLICT: paused
 * or ended meanwhile; the caller rolls back and starts over), and its
 * start when it was queued.
 */
static enum bj_err
count_job(struct bj_db *db, const struct pick *p, int got)
{
	unsigned long long n;

	if (bj_db_execp(db, BJ_SQL_CLAIM_COUNT, &n, BJ_PARAMS(BJ_P_INT((long long)got),
	    BJ_P_INT((long long)got), BJ_P_INT(got * bj_claim_cost(p->priority)),
	    BJ_P_INT(p->id), BJ_P_INT(p->stage))) == -1)
		return bj_job_db_error(db);
	if (n == 0)
		return BJ_ERR_CONFLICT;
	if (!p->queued)
		return BJ_OK;
	if (bj_db_execp(db, BJ_SQL_JOB_START, &n, BJ_PARAMS(BJ_P_INT(p->id))) == -1)
		return bj_job_db_error(db);
	return n == 1 ? bj_event_add(db, p->id, "started", NULL) : BJ_OK;
}

long long
bj_claim_cost(int priority)
{
	if (priority < BJ_PRIORITY_MIN)
		priority = BJ_PRIORITY_MIN;
	if (priority > BJ_PRIORITY_MAX)
		priority = BJ_PRIORITY_MAX;
	return 1LL << (BJ_PRIORITY_MAX - priority);
}

/* The number a one-row query of one string parameter s answers, into *v; -1 on a database error. */
static int
scalar(struct bj_db *db, const char *sql, long long *v, const char *s)
{
	struct bj_rows *r = bj_db_queryp(db, sql, BJ_PARAMS(BJ_P_STR(s)));

	if (r == NULL)
		return -1;
	*v = r->nrows > 0 ? bj_rows_int(r, 0, 0) : 0;
	bj_rows_free(r);
	return 0;
}

/* Free places under limit lim (0: none) for a scope whose locked count is read by sql. */
static enum bj_err
scope_room(struct bj_db *db, const char *scope, const char *name, const char *sql,
    long long lim, long long *room)
{
	long long used;

	*room = -1;
	if (lim <= 0)
		return BJ_OK;
	if (bj_db_execp(db, BJ_SQL_LIMIT_LOCK, NULL, BJ_PARAMS(BJ_P_STR(scope),
	    BJ_P_STR(name))) == -1 ||
	    scalar(db, sql, &used, name) == -1)
		return bj_job_db_error(db);
	*room = lim > used ? lim - used : 0;
	return BJ_OK;
}

/*
 * One claim in progress: the request, and the room left under each
 * asked kind's limit (-1: none). limited is set when a limit held a
 * queue back.
 */
struct run {
	const struct bj_claim_req	*req;
	long long			 kroom[BJ_SQL_MAX_KINDS];
	int				 limited;
};

/* Index of kind among the asked kinds (the database compares them case-blind). */
static int
kind_index(const struct bj_claim_req *req, const char *kind)
{
	for (int i = 0; i < req->nkinds; i++)
		if (strcasecmp(req->kinds[i], kind) == 0)
			return i;
	return 0;
}

/*
 * The room under each asked kind's limit, its row locked first and in
 * name order, before any queue: claimers of a limited kind then queue up
 * on that one row instead of each holding a queue the other wants.
 */
static enum bj_err
kinds_room(struct bj_db *db, struct run *run)
{
	const struct bj_claim_req *req = run->req;
	int order[BJ_SQL_MAX_KINDS];

	for (int i = 0; i < req->nkinds; i++) {
		int j = i;

		for (; j > 0 && strcmp(req->kinds[order[j - 1]], req->kinds[i]) > 0; j--)
			order[j] = order[j - 1];
		order[j] = i;
		run->kroom[i] = -1;
	}
	for (int i = 0; i < req->nkinds; i++) {
		const char *kind = req->kinds[order[i]];
		enum bj_err e;

		if (i > 0 && strcasecmp(kind, req->kinds[order[i - 1]]) == 0)
			continue;
		if ((e = scope_room(db, "kind", kind, BJ_SQL_KIND_CLAIMED,
		    bj_conf_kind_limit(req->max_per_kind, kind), &run->kroom[order[i]])) != BJ_OK)
			return e;
	}
	return BJ_OK;
}

/*
 * Free places for queue (kind, owner), at most want, under its kind's
 * room and the per-owner limit (the owner's row stays locked until the
 * claim commits).
 */
static enum bj_err
queue_room(struct bj_db *db, struct run *run, int k, const char *owner, int want, int *room)
{
	long long r;
	enum bj_err e;

	*room = want;
	if (run->kroom[k] >= 0 && run->kroom[k] < *room)
		*room = (int)run->kroom[k];
	if (*room > 0 && (e = scope_room(db, "owner", owner, BJ_SQL_OWNER_CLAIMED,
	    run->req->max_per_owner, &r)) != BJ_OK)
		return e;
	else if (*room > 0 && r >= 0 && r < *room)
		*room = (int)r;
	if (*room == 0)
		run->limited = 1;
	return BJ_OK;
}

/*
 * Room a job with max_concurrency leaves, at most want, read under the
 * job's row lock (held until commit, so its claimers count one by one).
 */
static enum bj_err
job_room(struct bj_db *db, const struct pick *p, int want, int *room)
{
	struct bj_rows *r;
	long long left;

	*room = want;
	if (p->max_concurrency <= 0)
		return BJ_OK;
	if ((r = bj_db_queryp(db, BJ_SQL_JOB_CLAIMED_LOCK, BJ_PARAMS(BJ_P_INT(p->id)))) == NULL)
		return bj_job_db_error(db);
	left = r->nrows > 0 ? p->max_concurrency - bj_rows_int(r, 0, 0) : 0;
	bj_rows_free(r);
	if (left < *room)
		*room = left < 0 ? 0 : (int)left;
	return BJ_OK;
}

/* Wait for queue (kind, owner)'s row lock (charging it nothing); *locked = 1. */
static enum bj_err
lock_queue(struct bj_db *db, const char *kind, const char *owner, int *locked)
{
	if (bj_db_execp(db, BJ_SQL_QUEUE_RAISE, NULL, BJ_PARAMS(BJ_P_INT(0LL), BJ_P_STR(kind),
	    BJ_P_STR(owner))) == -1)
		return bj_job_db_error(db);
	*locked = 1;
	return BJ_OK;
}

/*
 * Claim up to want items from queue (kind, owner): its jobs least served
 * first, each up to its own limit. Its pass grows by what the items
 * cost; when it had nothing due it is raised past next_pass (the next
 * queue's, or -1), so a queue cannot save up a turn while it has nothing
 * to give. With its row locked by this claim (locked), a queue without
 * any claimable job becomes idle.
 */
static enum bj_err
claim_queue(struct bj_db *db, struct run *run, const char *kind, const char *owner,
    int locked, long long next_pass, struct bj_claimed *out, int want, int *got)
{
	const struct bj_claim_req *req = run->req;
	struct bj_rows *jobs;
	struct pick took[BJ_CLAIM_QUEUE_JOBS];
	int ntook = 0, ngot[BJ_CLAIM_QUEUE_JOBS];
	long long cost = 0;
	enum bj_err e;
	int room, g, nempty = 0, k = kind_index(req, kind);

	*got = 0;
	/* a limit's row or a job's row is only ever locked after the queue's */
	if (!locked && req->max_per_owner > 0 &&
	    (e = lock_queue(db, kind, owner, &locked)) != BJ_OK)
		return e;
	if ((e = queue_room(db, run, k, owner, want, &room)) != BJ_OK || room == 0)
		return e;
	if ((jobs = bj_db_queryp(db, BJ_SQL_QUEUE_JOBS, BJ_PARAMS(BJ_P_STR(kind),
	    BJ_P_STR(owner)))) == NULL)
		return bj_job_db_error(db);
	if (jobs->nrows == 0) {
		bj_rows_free(jobs);
		if (locked && bj_db_execp(db, BJ_SQL_QUEUE_IDLE, NULL, BJ_PARAMS(BJ_P_STR(kind),
		    BJ_P_STR(owner))) == -1)
			return bj_job_db_error(db);
		return BJ_OK;
	}
	for (int i = 0; i < jobs->nrows && *got < room; i++) {
		struct pick p;
		int jroom;

		load_pick(jobs, i, &p);
		if (!locked && p.max_concurrency > 0 &&
		    (e = lock_queue(db, kind, owner, &locked)) != BJ_OK)
			goto out;
		if ((e = job_room(db, &p, room - *got, &jroom)) != BJ_OK)
			goto out;
		if (jroom == 0)
			continue;
		if ((e = claim_job(db, req, &p, jroom, out + *got, &g)) != BJ_OK)
			goto out;
		*got += g;
		cost += g * bj_claim_cost(p.priority);
		if (g > 0 && ntook < BJ_CLAIM_QUEUE_JOBS) {
			took[ntook] = p;
			ngot[ntook++] = g;
		}
		if (g == 0 && i + 1 < jobs->nrows) {
			/* nothing due: no saved-up turn among the owner's jobs either */
			nempty++;
			if (bj_db_execp(db, BJ_SQL_JOB_RAISE, NULL,
			    BJ_PARAMS(BJ_P_INT(bj_rows_int(jobs, i + 1, 6) + 1),
			    BJ_P_INT(p.id))) == -1) {
				e = bj_job_db_error(db);
				goto out;
			}
		}
	}
	if (run->kroom[k] > 0)
		run->kroom[k] -= *got;
	/*
	 * The jobs' rows, then the queue's pass: charged when this claim
	 * holds the queue's row, else owed (claim_debts) without waiting for
	 * the claim that holds it; both last, so their locks are held briefly.
	 */
	if (cost > 0) {
		int rc = 0;

		for (int i = 0; i < ntook && e == BJ_OK; i++)
			e = count_job(db, &took[i], ngot[i]);
		if (e == BJ_OK && locked)
			rc = bj_db_execp(db, BJ_SQL_QUEUE_CHARGE, NULL, BJ_PARAMS(BJ_P_INT(cost),
			    BJ_P_STR(kind), BJ_P_STR(owner)));
		else if (e == BJ_OK)
			rc = bj_db_execp(db, BJ_SQL_QUEUE_OWE, NULL, BJ_PARAMS(BJ_P_STR(kind),
			    BJ_P_STR(owner), BJ_P_INT(cost)));
		if (rc == -1)
			e = bj_job_db_error(db);
	} else if (next_pass >= 0 && nempty + 1 >= jobs->nrows) {
		if (bj_db_execp(db, BJ_SQL_QUEUE_RAISE, NULL, BJ_PARAMS(BJ_P_INT(next_pass + 1),
		    BJ_P_STR(kind), BJ_P_STR(owner))) == -1)
			e = bj_job_db_error(db);
	}
out:
	bj_rows_free(jobs);
	return e;
}

/*
 * Take the claim's key in its transaction: 0, 1 when it was taken before
 * (a retry: answer from bj_claim_replay), -1 on error. A retry sent while
 * the first is still running waits here for it to commit.
 */
static int
take_key(struct bj_db *db, const char *hash)
{
	if (bj_db_execp(db, BJ_SQL_CLAIM_KEY_TAKE, NULL, BJ_PARAMS(BJ_P_STR(hash))) == 0)
		return 0;
	return bj_db_duplicate(db) ? 1 : -1;
}

/* Record the n items handed out under the claim's key. */
static enum bj_err
keep_key(struct bj_db *db, const char *hash, const struct bj_claimed *out, int n)
{
	struct bj_buf b = { 0 };
	int rc;

	bj_buf_adds(&b, "[");
	for (int i = 0; i < n; i++)
		pair_add(&b, out[i].id, out[i].lease_token);
	bj_buf_adds(&b, "]");
	rc = bj_db_execp(db, BJ_SQL_CLAIM_KEY_SET, NULL, BJ_PARAMS(BJ_P_STR(b.data),
	    BJ_P_STR(hash)));
	bj_buf_free(&b);
	return rc == -1 ? bj_job_db_error(db) : BJ_OK;
}

/*
 * A retried claim: the items the first one handed out under the key that
 * are still claimed under the same tokens (none claimed anew).
 */
static enum bj_err
replay(struct bj_db *db, const char *hash, struct bj_claimed *out, int limit, int *n)
{
	struct bj_rows *k, *c = NULL;
	enum bj_err e = BJ_OK;

	*n = 0;
	if ((k = bj_db_queryp(db, BJ_SQL_CLAIM_KEY_GET, BJ_PARAMS(BJ_P_STR(hash)))) == NULL)
		return bj_job_db_error(db);
	if (k->nrows > 0 && (c = bj_db_queryp(db, BJ_SQL_CLAIMED_AGAIN,
	    BJ_PARAMS(BJ_P_STR(bj_rows_get(k, 0, 0))))) == NULL)
		e = bj_job_db_error(db);
	for (int i = 0; c != NULL && i < c->nrows && i < limit; i++)
		load_claimed(c, i, &out[(*n)++]);
	bj_rows_free(c);
	bj_rows_free(k);
	return e;
}

/* One attempt at the whole claim transaction; *again when its key was taken before. */
static enum bj_err
claim_once(struct bj_db *db, const struct bj_claim_req *req, const char *hash,
    struct bj_claimed *out, int *n, int *again)
{
	struct bj_rows *q = NULL, *lk;
	const char *sql = bj_sql_claim_queues(req->nkinds);
	struct bj_param k[BJ_SQL_MAX_KINDS];
	struct run run = { req, { 0 }, 0 };
	enum bj_err e = BJ_OK;
	int got, wait = -1;

	*n = 0;
	if (sql == NULL)
		return BJ_ERR_VALIDATION;
	if (bj_db_begin(db) == -1)
		return bj_job_db_error(db);
	if (hash != NULL && (*again = take_key(db, hash)) != 0) {
		e = *again == 1 ? BJ_OK : bj_job_db_error(db);
		bj_db_rollback(db);
		return e;
	}
	if ((e = kinds_room(db, &run)) != BJ_OK)
		goto out;
	/* one kind per "?" */
	for (int i = 0; i < req->nkinds; i++)
		k[i] = BJ_P_STR(req->kinds[i]);
	if ((q = bj_db_queryp(db, sql, k, (size_t)req->nkinds)) == NULL) {
		e = bj_job_db_error(db);
		goto out;
	}
	/*
	 * Candidates least served first; one that another claimer holds is
	 * passed over, so concurrent claimers spread across owners. When no
	 * other one gave anything, the first passed over is claimed from
	 * without its lock (claimers of one owner then take its items side by
	 * side, as from one job, and meet only on its rows' counters at the
	 * end); not when a limit held one back.
	 */
	for (int i = 0; i < q->nrows && *n < req->limit; i++) {
		const char *kind = bj_rows_get(q, i, 0), *owner = bj_rows_get(q, i, 1);
		int active;

		if ((lk = bj_db_queryp(db, BJ_SQL_QUEUE_TRY, BJ_PARAMS(BJ_P_STR(kind),
		    BJ_P_STR(owner)))) == NULL) {
			e = bj_job_db_error(db);
			goto out;
		}
		active = lk->nrows > 0 ? (int)bj_rows_int(lk, 0, 0) : -1;
		bj_rows_free(lk);
		if (active == -1 && wait == -1)
			wait = i;
		if (active != 1)
			continue;
		e = claim_queue(db, &run, kind, owner, 1,
		    i + 1 < q->nrows ? bj_rows_int(q, i + 1, 2) : -1, out + *n,
		    req->limit - *n, &got);
		*n += got;
		if (e != BJ_OK)
			goto out;
	}
	if (*n == 0 && wait >= 0 && !run.limited) {
		e = claim_queue(db, &run, bj_rows_get(q, wait, 0), bj_rows_get(q, wait, 1), 0, -1,
		    out, req->limit, &got);
		*n += got;
		if (e != BJ_OK)
			goto out;
	}
	if (hash != NULL && (e = keep_key(db, hash, out, *n)) != BJ_OK)
		goto out;
	if (bj_db_commit(db) == -1)
		e = bj_job_db_error(db);
out:
	bj_rows_free(q);
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
	enum bj_err e = BJ_ERR_INTERNAL;
	char hash[BJ_SHA256_HEX];
	int again = 0;

	*out = NULL;
	*n = 0;
	if (req->nkinds < 1 || req->nkinds > BJ_SQL_MAX_KINDS || req->limit < 1 ||
	    req->limit > BJ_CLAIM_MAX_LIMIT)
		return BJ_ERR_VALIDATION;
	if (req->idempotency_key != NULL) {
		char *k = bj_xasprintf("%s\n%s", req->worker, req->idempotency_key);

		bj_sha256_hex(k, strlen(k), hash);
		free(k);
	}
	items = bj_xcalloc((size_t)req->limit, sizeof *items);
	for (int round = 0; round < MAX_ROUNDS; round++) {
		e = claim_once(db, req, req->idempotency_key ? hash : NULL, items, n, &again);
		if (e == BJ_OK && again)
			e = replay(db, hash, items, req->limit, n);
		if (e == BJ_ERR_CONFLICT)
			continue;	/* a job changed state under us: the next pick skips it */
		/* deadlock, lock wait, certification failure, lost node: the transaction is gone */
		if (bj_job_retry(db, round, MAX_ROUNDS, &e))
			continue;
		break;
	}
	if (e == BJ_ERR_CONFLICT)
		e = BJ_ERR_CONTENDED;	/* jobs kept changing under it: come back (503) */
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

enum bj_err
bj_claim_queue_join(struct bj_db *db, long long job_id)
{
	struct bj_rows *r;
	long long floor;
	enum bj_err e = BJ_OK;
	const char *kind, *owner;

	if ((r = bj_db_queryp(db, BJ_SQL_JOB_QUEUE, BJ_PARAMS(BJ_P_INT(job_id)))) == NULL)
		return bj_job_db_error(db);
	if (r->nrows == 0) {
		bj_rows_free(r);
		return BJ_ERR_JOB_NOT_FOUND;
	}
	kind = bj_rows_get(r, 0, 0);
	owner = bj_rows_get(r, 0, 1);
	if (scalar(db, BJ_SQL_QUEUE_FLOOR, &floor, kind) == -1 ||
	    bj_db_execp(db, BJ_SQL_QUEUE_JOIN, NULL, BJ_PARAMS(BJ_P_STR(kind), BJ_P_STR(owner),
	    BJ_P_INT(floor))) == -1)
		e = bj_job_db_error(db);
	else {
		struct bj_rows *f = bj_db_queryp(db, BJ_SQL_JOB_FLOOR, BJ_PARAMS(BJ_P_STR(kind),
		    BJ_P_STR(owner), BJ_P_INT(job_id)));

		if (f == NULL || bj_db_execp(db, BJ_SQL_JOB_RAISE, NULL,
		    BJ_PARAMS(BJ_P_INT(f->nrows > 0 ? bj_rows_int(f, 0, 0) : 0),
		    BJ_P_INT(job_id))) == -1)
			e = bj_job_db_error(db);
		bj_rows_free(f);
	}
	bj_rows_free(r);
	return e;
}

enum bj_err
bj_claim_waiting(struct bj_db *db, struct bj_job *job, int max_per_owner,
    const char *max_per_kind)
{
	long long used, lim;

	job->waiting_on = NULL;
	if ((job->state != BJ_JOB_QUEUED && job->state != BJ_JOB_RUNNING) || job->n_pending == 0)
		return BJ_OK;
	if (job->max_concurrency > 0 && job->n_claimed >= job->max_concurrency) {
		job->waiting_on = "max_concurrency";
		return BJ_OK;
	}
	if (max_per_owner > 0) {
		if (scalar(db, BJ_SQL_OWNER_CLAIMED, &used, job->owner) == -1)
			return bj_job_db_error(db);
		if (used >= max_per_owner) {
			job->waiting_on = "owner_limit";
			return BJ_OK;
		}
	}
	lim = bj_conf_kind_limit(max_per_kind, job->kind);
	if (lim > 0) {
		if (scalar(db, BJ_SQL_KIND_CLAIMED, &used, job->kind) == -1)
			return bj_job_db_error(db);
		if (used >= lim)
			job->waiting_on = "kind_limit";
	}
	return BJ_OK;
}
