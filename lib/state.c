/* state.c: the job and item state machines as tables (docs/design.md §2). */
#include "config.h"

#include <string.h>

#include "state.h"

static const char *const job_names[BJ_JOB_NSTATES] = {
	"queued", "running", "paused", "succeeded", "failed", "cancelled", "expired",
};

/* job_next[from][to]: 1 where the contract allows the change. */
static const unsigned char job_next[BJ_JOB_NSTATES][BJ_JOB_NSTATES] = {
	/*              queued run paused succ fail cancel expired */
	[BJ_JOB_QUEUED]  = { 0, 1, 1, 0, 0, 1, 1 },
	[BJ_JOB_RUNNING] = { 0, 0, 1, 1, 1, 1, 1 },
	/* claimed items may finish while paused: the last one ends the job */
	[BJ_JOB_PAUSED]  = { 1, 1, 0, 1, 1, 1, 1 },
	/* a retry (bj_job_retry_round): a new round of a failed job */
	[BJ_JOB_FAILED]  = { 1, 1, 0, 0, 0, 0, 0 },
	/* the other terminal states never change again */
};

static const char *const item_names[BJ_ITEM_NSTATES] = {
	"pending", "claimed", "succeeded", "failed", "cancelled",
};

static const unsigned char item_next[BJ_ITEM_NSTATES][BJ_ITEM_NSTATES] = {
	/*                 pend claim succ fail cancel */
	[BJ_ITEM_PENDING] = { 0, 1, 0, 0, 1 },
	[BJ_ITEM_CLAIMED] = { 1, 0, 1, 1, 1 },
};

const char *
bj_job_state_name(enum bj_job_state s)
{
	return (unsigned)s < BJ_JOB_NSTATES ? job_names[s] : "unknown";
}

int
bj_job_state_parse(const char *name)
{
	for (int i = 0; i < BJ_JOB_NSTATES; i++)
		if (name != NULL && !strcmp(name, job_names[i]))
			return i;
	return -1;
}

int
bj_job_state_terminal(enum bj_job_state s)
{
	return s == BJ_JOB_SUCCEEDED || s == BJ_JOB_FAILED ||
	    s == BJ_JOB_CANCELLED || s == BJ_JOB_EXPIRED;
}

int
bj_job_can(enum bj_job_state from, enum bj_job_state to)
{
	if ((unsigned)from >= BJ_JOB_NSTATES || (unsigned)to >= BJ_JOB_NSTATES)
		return 0;
	return job_next[from][to];
}

int
bj_job_can_retry(enum bj_job_state s)
{
	return bj_job_state_terminal(s) && bj_job_can(s, BJ_JOB_RUNNING);
}

const char *
bj_item_state_name(enum bj_item_state s)
{
	return (unsigned)s < BJ_ITEM_NSTATES ? item_names[s] : "unknown";
}

int
bj_item_state_parse(const char *name)
{
	for (int i = 0; i < BJ_ITEM_NSTATES; i++)
		if (name != NULL && !strcmp(name, item_names[i]))
			return i;
	return -1;
}

int
bj_item_state_terminal(enum bj_item_state s)
{
	return s == BJ_ITEM_SUCCEEDED || s == BJ_ITEM_FAILED || s == BJ_ITEM_CANCELLED;
}

int
bj_item_can(enum bj_item_state from, enum bj_item_state to)
{
	if ((unsigned)from >= BJ_ITEM_NSTATES || (unsigned)to >= BJ_ITEM_NSTATES)
		return 0;
	return item_next[from][to];
}
