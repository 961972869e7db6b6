/*
 * claim.h: handing pending items to workers under a lease.
 *
 * One claim is one transaction: active jobs of the wanted kinds (oldest
 * first), then per job the due pending items of its open stage with
 * SELECT … FOR UPDATE SKIP LOCKED, so concurrent claimers never receive
 * the same item. The caller owns the returned array (bj_claimed_free).
 */
#ifndef BJ_CLAIM_H
#define BJ_CLAIM_H

#include "db.h"
#include "err.h"
#include "token.h"

#define BJ_CLAIM_MAX_LIMIT	100
#define BJ_LEASE_MAX_SECONDS	86400

struct bj_claim_req {
	const char	*worker;		/* borrowed */
	const char	*const *kinds;		/* borrowed, 1..BJ_SQL_MAX_KINDS */
	int		 nkinds;
	int		 limit;			/* 1..BJ_CLAIM_MAX_LIMIT */
	int		 lease_seconds;		/* 0: each job's own */
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
/* Free the strings of n items but not the array. */
void bj_claimed_free_items(struct bj_claimed *c, int n);

#endif
