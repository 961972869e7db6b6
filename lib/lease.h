/*
 * lease.h: what a worker does with a claimed item: heartbeat, complete,
 * fail. Each is conditional on the item being claimed under the given
 * lease token; otherwise BJ_ERR_LEASE_LOST (BJ_ERR_ALREADY_COMPLETED when
 * the item already succeeded under this very token, e.g. a completion
 * retried after its answer was lost; or BJ_ERR_ITEM_NOT_FOUND) and
 * nothing changes. Strings in results are owned by the caller.
 */
#ifndef BJ_LEASE_H
#define BJ_LEASE_H

#include "db.h"
#include "err.h"
#include "state.h"

struct bj_lease_status {
	char			*lease_expires_at;	/* NULL when the lease is gone */
	enum bj_job_state	 job_state;
	int			 item_state;		/* enum bj_item_state */
};

/*
 * Extend the lease from the database clock by lease_seconds (0: the
 * job's), storing progress (done/total < 0: unchanged). On BJ_OK and on
 * BJ_ERR_LEASE_LOST, *st says the job's state so a worker learns of a
 * cancel.
 */
enum bj_err bj_lease_heartbeat(struct bj_db *db, long long item_id, const char *token,
    int lease_seconds, long long done, long long total, struct bj_lease_status *st);

/* Succeed the item; result is JSON text or NULL, artifact a normalised relative path or NULL. */
enum bj_err bj_lease_complete(struct bj_db *db, long long item_id, const char *token,
    const char *result, const char *artifact);

/*
 * Fail the attempt: recorded in item_failures; with retryable and
 * attempts left the item goes back to pending after a back-off, else it
 * fails (and with on_item_failure=fail_job, so does the job).
 */
enum bj_err bj_lease_fail(struct bj_db *db, long long item_id, const char *token,
    const char *error, int retryable);

#define BJ_COMPLETE_MAX	1000	/* items of one batch completion */

/* One item of a batch completion; the strings are borrowed. */
struct bj_completion {
	long long	 id;
	const char	*lease_token;
	const char	*result;	/* JSON text or NULL */
	const char	*artifact;	/* a normalised relative path or NULL */
	enum bj_err	 outcome;	/* set: BJ_OK, BJ_ERR_LEASE_LOST, _ALREADY_COMPLETED, _ITEM_NOT_FOUND */
};

/*
 * Succeed 1..BJ_COMPLETE_MAX items in one transaction (one commit): each
 * item exactly as bj_lease_complete() would, its outcome in c[i].outcome,
 * so that a stale token refuses that item alone. Rows are locked in item
 * id order, then job id order; each job's counters move once per stage and
 * it settles once. BJ_OK when the transaction committed; any other value
 * means nothing changed (and every outcome is that value).
 */
enum bj_err bj_lease_complete_batch(struct bj_db *db, struct bj_completion *c, int n);

/*
 * The operator's requeue: a claimed, failed or cancelled item of a job
 * that has not ended goes back to pending, due now, in its job's open
 * stage or a later one. BJ_ERR_INVALID_TRANSITION otherwise.
 */
enum bj_err bj_item_requeue(struct bj_db *db, long long item_id);

/*
 * The retry delay in seconds after failed attempt n (1, 2, …):
 * BJ_BACKOFF_FIRST, times BJ_BACKOFF_FACTOR per attempt, at most
 * BJ_BACKOFF_MAX. The reaper's requeue (BJ_SQL_REAPER_ORPHANS_MOVE) binds
 * the same three numbers.
 */
#define BJ_BACKOFF_FIRST	2
#define BJ_BACKOFF_FACTOR	4
#define BJ_BACKOFF_MAX		3600
int bj_lease_backoff(int attempt);

void bj_lease_status_free(struct bj_lease_status *st);

#endif
