/*
 * tally.h: what a transaction ended (items by result, jobs by outcome),
 * handed to the program's sink when the transaction commits. The model
 * records as it goes; bj_db_begin() and bj_db_rollback() forget what was
 * recorded, bj_db_commit() passes it on, so a transaction rolled back or
 * tried again after a deadlock is counted once or not at all. Without a
 * sink nothing is recorded. One per process (a process serves one request
 * at a time); the sink gets borrowed strings.
 */
#ifndef BJ_TALLY_H
#define BJ_TALLY_H

#include "state.h"

enum bj_tally_result {
	BJ_TALLY_SUCCEEDED,	/* the item succeeded */
	BJ_TALLY_FAILED,	/* the item failed for good */
	BJ_TALLY_RETRIED,	/* the attempt failed, the item waits for another */
	BJ_TALLY_NRESULTS
};

struct bj_tally {
	const char		*kind;		/* the job's kind */
	int			 job;		/* 1: a job ended (outcome); 0: an item */
	enum bj_tally_result	 result;	/* an item's */
	enum bj_job_state	 outcome;	/* a job's terminal state */
	double			 seconds;	/* an item's claim to its end; < 0 unknown */
};

/* Receive what a committed transaction ended (NULL: record nothing). */
void bj_tally_set_sink(void (*sink)(const struct bj_tally *));
/* Record an attempt that ended, seconds after its claim. */
void bj_tally_item(const char *kind, enum bj_tally_result result, double seconds);
/* Record a job that reached terminal state outcome. */
void bj_tally_job(const char *kind, enum bj_job_state outcome);
/* Forget what was recorded (a transaction begins or rolls back). */
void bj_tally_forget(void);
/* Pass what was recorded to the sink, then forget it (a transaction committed). */
void bj_tally_commit(void);

#endif
