/*
 * job.h: the job model shared by the API, the pages, the reaper and the
 * notifier: loading a job, and the transactional state changes that every
 * program must make the same way. job.c loads jobs and runs transactions;
 * settle.c makes the changes (fan-in, terminal moves, outbox, timeline).
 *
 * Ownership: a struct bj_job and its strings belong to the caller and are
 * released with bj_job_free(). Times are ISO 8601 UTC strings as the
 * database formats them ("2026-11-22T08:24:32.123456Z"), or NULL.
 *
 * Counters: jobs.n_* always equal the items' states, and
 * jobs.stage_remaining counts the items of the open stage that are pending
 * or claimed. Every item transition changes them in its own transaction,
 * only when the item's conditional UPDATE matched: claimed → pending
 * (retry) moves one from n_claimed to n_pending and leaves stage_remaining;
 * an item of the open stage that ends decrements stage_remaining
 * (BJ_SQL_COUNT_SUCCEEDED, BJ_SQL_COUNT_FAILED). One exception, when a
 * job ends before all its items did (bj_job_finish): its counters count
 * its pending items cancelled at once, while their rows stay pending
 * until the reaper cancels them in bounded batches; nothing claims an
 * item of an ended job, and the API and the pages show those items as
 * cancelled. To end a claim from outside a worker (an expired
 * lease), call bj_lease_fail() with the item's current lease token: it
 * records the failure, backs off or fails the item, and settles the job.
 *
 * The change functions (bj_job_settle, bj_job_finish, bj_outbox_record,
 * bj_event_add) run inside the caller's transaction (bj_db_begin) and are
 * written as conditional UPDATEs / upserts, so running them twice, or from
 * two processes at once, does no harm.
 */
#ifndef BJ_JOB_H
#define BJ_JOB_H

#include "db.h"
#include "err.h"
#include "state.h"

struct bj_job {
	long long	 id;
	char		*token;
	char		*kind;
	char		*owner;
	char		*title;
	char		*params;		/* JSON text or NULL */
	char		*language;
	enum bj_job_state state;
	int		 stage;			/* the open stage */
	int		 stage_count;
	long long	 n_total, n_pending, n_claimed, n_succeeded, n_failed, n_cancelled;
	char		*created_at, *updated_at, *started_at, *finished_at, *deadline_at;
	char		*artifact;		/* relative to [artifacts] root, or NULL */
	char		*artifact_expires_at;
	int		 artifact_deleted;	/* the reaper removed the file */
	int		 artifact_expired;	/* artifact_expires_at has passed (db clock) */
	long long	 retention_seconds;
	int		 max_attempts;
	int		 lease_seconds;
	int		 on_item_failure;	/* enum bj_on_fail */
	char		*idempotency_key;
	int		 priority;		/* BJ_PRIORITY_MIN..BJ_PRIORITY_MAX */
	long long	 max_concurrency;	/* items claimed at once, 0: no limit */
	const char	*waiting_on;		/* static: the limit it waits on, or NULL (bj_claim_waiting) */
	long long	 version;		/* moves with every change a reader can see */
	long long	 idle_seconds;		/* since its row last changed */
	int		 round;			/* 1, and one more for each retry */
};

/*
 * Seconds a poller should wait before asking about job again (the
 * Poll-Interval header): longer the longer it has not moved, -1 once it
 * has ended.
 */
int bj_job_poll_interval(const struct bj_job *job);

/* Load by id or by status-page token: BJ_OK, BJ_ERR_JOB_NOT_FOUND or BJ_ERR_DB_UNAVAILABLE. */
enum bj_err bj_job_get(struct bj_db *db, long long id, struct bj_job **out);
enum bj_err bj_job_by_token(struct bj_db *db, const char *token, struct bj_job **out);
void bj_job_free(struct bj_job *job);
/*
 * Jobs newest first with id < before (0: from the newest), filtered by
 * the non-NULL of owner, state, kind; *out has *n jobs, freed with
 * bj_job_list_free().
 */
enum bj_err bj_job_list(struct bj_db *db, const char *owner, const char *state,
    const char *kind, long long before, int limit, struct bj_job ***out, int *n);
void bj_job_list_free(struct bj_job **jobs, int n);

/*
 * queued|running → paused, and paused → running (queued if it never
 * started), with a timeline event; inside the caller's transaction.
 * BJ_ERR_INVALID_TRANSITION when the job is in another state. detail
 * (who asked, may be NULL) goes to the timeline.
 */
enum bj_err bj_job_pause(struct bj_db *db, long long job_id, const char *detail);
enum bj_err bj_job_resume(struct bj_db *db, long long job_id, const char *detail);

/* The error for a failed statement: BJ_ERR_DB_UNAVAILABLE when the link is gone, else BJ_ERR_INTERNAL. */
enum bj_err bj_job_db_error(const struct bj_db *db);

/*
 * Run fn(db, arg) in a transaction of its own, committed when it returns
 * BJ_OK and rolled back otherwise; tried again (8 tries in all, with
 * jittered pauses) after a deadlock, a lock wait time-out, a Galera
 * certification failure or a lost node (bj_job_retry).
 */
enum bj_err bj_job_in_tx(struct bj_db *db, enum bj_err (*fn)(struct bj_db *, void *), void *arg);
/*
 * After try attempt (from 0) of tries of a transaction failed with *e and
 * was rolled back: 1 to try again (after a jittered pause) when the
 * failure was a conflict or a lost node, else 0; on the last try *e
 * becomes BJ_ERR_CONTENDED or BJ_ERR_DB_UNAVAILABLE (503, not 500).
 */
int bj_job_retry(struct bj_db *db, int attempt, int tries, enum bj_err *e);

/*
 * failed → running (queued if nothing was ever claimed): a new round of
 * the job (docs/design.md §2, "Rounds"), inside the caller's
 * transaction. Its failed items, and those its failure cancelled, go back
 * to pending with max_attempts attempts more; succeeded ones stay. The
 * open stage is the lowest with items to do, the deadline as far as it
 * was from the job's creation, the claim queue joined as on resume.
 * round is the round the caller saw fail (0: the current one): when the
 * job has gone past it, that retry was made already and this one changes
 * nothing (BJ_OK), so a call repeated after a lost answer starts no
 * second round. BJ_ERR_INVALID_TRANSITION when the job is not failed (or
 * round is one it has not reached), BJ_ERR_FILES_REMOVED when the reaper
 * removed its files at the end of its retention. detail (who) goes to the
 * timeline.
 */
enum bj_err bj_job_retry_round(struct bj_db *db, long long job_id, int round,
    const char *detail);

/* What a person may do to a job, from the API or its page. */
enum bj_job_change { BJ_CHANGE_CANCEL, BJ_CHANGE_PAUSE, BJ_CHANGE_RESUME, BJ_CHANGE_RETRY };
/*
 * Make the change in a transaction of its own (bj_job_in_tx); detail is
 * the timeline entry's text (who made the change; for a retry, after the
 * round). BJ_ERR_INVALID_TRANSITION when the job's state does not allow
 * it. A retry is of the job's current round; bj_job_change_round() names
 * the round (bj_job_retry_round).
 */
enum bj_err bj_job_change(struct bj_db *db, long long job_id, enum bj_job_change c,
    const char *detail);
enum bj_err bj_job_change_round(struct bj_db *db, long long job_id, enum bj_job_change c,
    int round, const char *detail);

/*
 * Fan-in: if the job's open stage has no pending or claimed item left,
 * open the next stage that has items, or end the job (succeeded or failed
 * as docs/design.md §2 says), recording its notifications and events. Call it
 * after any item change, inside the same transaction. Idempotent.
 */
enum bj_err bj_job_settle(struct bj_db *db, long long job_id);

/*
 * Move a non-terminal job to a terminal state (failed, cancelled,
 * expired): conditional on its current state, counts its pending items
 * cancelled (their rows are left to the reaper: a job of a million items
 * ends in one short transaction), revokes its claims for cancelled and
 * expired, records one notification per target for the matching event
 * and a timeline event. Returns BJ_ERR_INVALID_TRANSITION (changing
 * nothing) when the job is already terminal.
 */
enum bj_err bj_job_finish(struct bj_db *db, long long job_id, enum bj_job_state to,
    const char *detail);

/*
 * Record the job's notifications for event ("job.succeeded" …) in its
 * current round: one row per target, upserted. bj_outbox_record_jobs()
 * does it for the jobs of a JSON array of ids (the reaper's expired batch)
 * with the same statement.
 */
enum bj_err bj_outbox_record(struct bj_db *db, long long job_id, const char *event);
enum bj_err bj_outbox_record_jobs(struct bj_db *db, const char *ids, const char *event);

/*
 * "Deliver again": the dead notification id of job_id goes back to
 * pending with a fresh attempt budget, in a transaction of its own, with
 * a timeline entry saying detail. BJ_ERR_INVALID_TRANSITION when it is not
 * dead (or not the job's).
 */
enum bj_err bj_notify_redeliver(struct bj_db *db, long long job_id, long long id,
    const char *detail);

/* Append to the job's timeline; detail may be NULL. */
enum bj_err bj_event_add(struct bj_db *db, long long job_id, const char *type,
    const char *detail);

#endif
