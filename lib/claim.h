/*
 * claim.h: handing pending items to workers under a lease, shared fairly.
 *
 * One claim is one transaction. Claims are shared first across owners,
 * then across each owner's jobs, by stride scheduling kept in MariaDB
 * (docs/design.md, "Fair claiming"): each (kind, owner) is a claim queue
 * with a pass, each job has a pass, and an item claimed adds its cost
 * 2^(5 - priority) to both; a claim serves the active queue of least
 * pass (locked, so concurrent claimers spread over owners), then its
 * claimable job of least pass, whose due pending items of the open stage
 * are taken with SELECT … FOR UPDATE SKIP LOCKED, so concurrent claimers
 * never receive the same item. Limits (a job's max_concurrency, the
 * config's per owner and per kind) are counted under a row lock of their
 * scope, so they hold with any number of claimers. The caller owns the
 * returned array (bj_claimed_free).
 */
#ifndef BJ_CLAIM_H
#define BJ_CLAIM_H

#include "conf.h"
#include "db.h"
#include "err.h"
#include "job.h"
#include "token.h"

#define BJ_CLAIM_MAX_LIMIT	100
#define BJ_PRIORITY_MIN		(-5)
#define BJ_PRIORITY_MAX		5
#define BJ_MAX_CONCURRENCY	1000000

struct bj_claim_req {
	const char	*worker;		/* borrowed */
	const char	*const *kinds;		/* borrowed, 1..BJ_SQL_MAX_KINDS */
	int		 nkinds;
	int		 limit;			/* 1..BJ_CLAIM_MAX_LIMIT */
	int		 lease_seconds;		/* 0: each job's own */
	int		 max_per_owner;		/* [claims] max_per_owner, 0: none */
	const char	*max_per_kind;		/* [claims] max_per_kind, borrowed */
	const char	*idempotency_key;	/* borrowed; NULL: none (a retry with the
						 * same worker and key gets the same items) */
};

struct bj_claimed {
	long long	 id, job_id;
	char		*kind, *key, *payload;	/* payload is JSON text or NULL */
	int		 stage, attempt;
	char		*lease_token;
	char		*lease_expires_at;
};

/* Claim up to req->limit items; *out (maybe empty) and *n on BJ_OK. */
enum bj_err bj_claim(struct bj_db *db, const struct bj_claim_req *req,
    struct bj_claimed **out, int *n);
void bj_claimed_free(struct bj_claimed *c, int n);

/* What one item claimed from a job of this priority costs its queue and job. */
long long bj_claim_cost(int priority);

/*
 * Make job's claim queue active (after creating or resuming it), inside
 * the caller's transaction: an idle queue comes back at the kind's least
 * active pass, the job at its owner's least, so nothing is owed for the
 * time they waited.
 */
enum bj_err bj_claim_queue_join(struct bj_db *db, long long job_id);

/*
 * The limit a claimable job with pending items waits on, set in
 * job->waiting_on: "max_concurrency", "owner_limit", "kind_limit" or NULL.
 * The owner's and the kind's limits cost a query each; pass 0 and NULL
 * for them to check the job's own limit only, from its row (what a list
 * of jobs does, docs/api.md).
 */
enum bj_err bj_claim_waiting(struct bj_db *db, struct bj_job *job, int max_per_owner,
    const char *max_per_kind);
/* Free the strings of n items but not the array. */
void bj_claimed_free_items(struct bj_claimed *c, int n);

#endif
