/*
 * state.h: job and item states and the transitions between them.
 *
 * The allowed transitions are tables in state.c; everything that changes a
 * state asks bj_job_can()/bj_item_can() first and then writes it with an
 * UPDATE conditional on the old state. The numeric values of the enums are
 * not stored anywhere: the database holds the names.
 */
#ifndef BJ_STATE_H
#define BJ_STATE_H

enum bj_job_state {
	BJ_JOB_QUEUED,
	BJ_JOB_RUNNING,
	BJ_JOB_PAUSED,
	BJ_JOB_SUCCEEDED,
	BJ_JOB_FAILED,
	BJ_JOB_CANCELLED,
	BJ_JOB_EXPIRED,
	BJ_JOB_NSTATES
};

enum bj_item_state {
	BJ_ITEM_PENDING,
	BJ_ITEM_CLAIMED,
	BJ_ITEM_SUCCEEDED,
	BJ_ITEM_FAILED,
	BJ_ITEM_CANCELLED,
	BJ_ITEM_NSTATES
};

const char *bj_job_state_name(enum bj_job_state s);
/* Returns the state, or -1 for an unknown name. */
int bj_job_state_parse(const char *name);
int bj_job_state_terminal(enum bj_job_state s);
/* 1 when from → to is allowed. */
int bj_job_can(enum bj_job_state from, enum bj_job_state to);
/* 1 when a job that ended in s may run again in a new round (failed only). */
int bj_job_can_retry(enum bj_job_state s);

const char *bj_item_state_name(enum bj_item_state s);
int bj_item_state_parse(const char *name);
int bj_item_state_terminal(enum bj_item_state s);
int bj_item_can(enum bj_item_state from, enum bj_item_state to);

#endif
