/*
 * reaper.h: one run of bulkjobs-reaper, step by step (docs/design.md §7).
 *
 * Each step is a file: lock.c (the advisory lock), orphans.c (expired
 * leases), stages.c (fan-in and job outcomes), expire.c (deadlines),
 * purge.c (artifacts and old rows), repair.c (inconsistencies). Every step
 * works in batches of conf->reaper_batch rows, each its own transaction,
 * and asks bj_reaper_go_on() before each batch: a SIGTERM or a lost lock
 * ends the run after the batch at hand.
 *
 * Ownership: struct bj_reaper borrows conf and both database handles; the
 * caller creates and frees them.
 */
#ifndef BJ_REAPER_H
#define BJ_REAPER_H

#include <signal.h>

#include "conf.h"
#include "db.h"
#include "state.h"

struct bj_reaper_stats {
	long long	requeued;	/* expired claims back to pending */
	long long	items_failed;	/* expired claims out of attempts */
	long long	finished;	/* jobs that succeeded or failed */
	long long	expired;	/* jobs past their deadline */
	long long	artifacts;	/* artifact files deleted */
	long long	rows;		/* rows purged */
	long long	repairs;	/* inconsistencies repaired (or found, dry run) */
	long long	notifications;	/* notification rows recorded */
};

struct bj_reaper {
	const struct bj_conf	*conf;
	struct bj_db		*db;		/* the work connection */
	struct bj_db		*lockdb;	/* holds the lock; NULL: no lock check */
	int			 dry_run;	/* say what would change, change nothing */
	int			 batch;
	volatile sig_atomic_t	*stop;		/* set by SIGTERM; may be NULL */
	int			 halted;	/* a check said stop */
	double			 cancel_left;	/* seconds left for cancelling leftovers;
						 * conf->cancel_seconds at the start */
	int			 leftovers_done;	/* a sweep of them went through */
	char			 holder[256];	/* [reaper] lock = table: this run's id in the row */
	double			 renewed;	/* when the row's lease was last renewed */
	struct bj_reaper_stats	 st;
};

/*
 * lock.c, after a failed batch (rolled back): 1 try it again (it met
 * another writer's locks; *busy counts the tries in a row, the caller
 * zeroes it after a success), 0 leave it for the next run, -1 an error.
 * Logged under what.
 */
int bj_reaper_retry(struct bj_db *db, int *busy, const char *what);
/* lock.c: begin a batch, its temporary table (table, clear) filled by pick; 0 or -1. */
int bj_reaper_pick(struct bj_db *db, const char *table, const char *clear, const char *pick,
    long long limit);
/* lock.c: 1 taken, 0 held elsewhere, -1 error (logged). */
int bj_reaper_lock(struct bj_reaper *r);
void bj_reaper_unlock(struct bj_reaper *r);
/* 1 while the run may start another batch (no SIGTERM, lock still ours). */
int bj_reaper_go_on(struct bj_reaper *r);

/* Each step returns 0, or -1 after a database error it logged. */
int bj_reaper_orphans(struct bj_reaper *r);
int bj_reaper_stages(struct bj_reaper *r);
int bj_reaper_expire(struct bj_reaper *r);
int bj_reaper_purge(struct bj_reaper *r);
int bj_reaper_repair(struct bj_reaper *r);
/* orphans.c, for step 6: claims whose attempt already has a failure record. */
int bj_reaper_failed_claims(struct bj_reaper *r);
/* All steps in order; 0 or -1. */
int bj_reaper_sweep(struct bj_reaper *r);

/*
 * stages.c, inside the caller's transaction: if the job's open stage has
 * ended, open the next one or end the job, through bj_job_settle() (job.h).
 * Idempotent. A job's end is counted into st (the run's, or the batch's
 * until it commits).
 */
int bj_reaper_settle(struct bj_reaper *r, long long job_id, struct bj_reaper_stats *st);
/*
 * expire.c, inside the caller's transaction: a non-terminal job to failed
 * through bj_job_finish() (job.h), counted into st. 1 changed, 0
 * the job was already terminal, -1 error.
 */
int bj_reaper_finish(struct bj_reaper *r, long long job_id, const char *detail,
    struct bj_reaper_stats *st);
/*
 * Cancel the rest of a terminal job's pending (and claimed) items, a batch
 * per transaction, while the run's cancel_seconds last.
 */
int bj_reaper_leftovers(struct bj_reaper *r, long long job_id, int claims_too);
/* expire.c: the same for every ended job that has such rows (repairs logged). */
int bj_reaper_cancel_leftovers(struct bj_reaper *r);
/* stages.c: count a job that succeeded or failed into st (notifications: one per target). */
void bj_reaper_count_end(struct bj_reaper *r, long long job_id, struct bj_reaper_stats *st);
/* Add a committed transaction's counts to the run's summary. */
void bj_reaper_stats_add(struct bj_reaper_stats *to, const struct bj_reaper_stats *from);

/* purge.c: unlink root/rel if it is a regular file reached without symlinks or "..". */
int bj_reaper_unlink_artifact(const char *root, const char *rel, char **cause);

/* metrics.c: write the Prometheus text file atomically (ok: the run had no error); 0 or -1 (logged). */
int bj_reaper_write_metrics(const struct bj_reaper *r, const char *path, double seconds,
    int ok);

#endif
