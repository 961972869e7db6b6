/* test_state.c: every allowed and every refused job and item transition. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "state.h"

/* The contract (docs/design.md §2) written out independently of state.c's table. */
static int
job_allowed(int from, int to)
{
	/* a retry: a failed job's next round (docs/design.md §2, "Rounds") */
	if (from == BJ_JOB_FAILED)
		return to == BJ_JOB_QUEUED || to == BJ_JOB_RUNNING;
	if (bj_job_state_terminal(from))
		return 0;
	if (to == BJ_JOB_CANCELLED || to == BJ_JOB_EXPIRED)
		return 1;
	switch (from) {
	case BJ_JOB_QUEUED:
		return to == BJ_JOB_RUNNING || to == BJ_JOB_PAUSED;
	case BJ_JOB_RUNNING:
		return to == BJ_JOB_SUCCEEDED || to == BJ_JOB_FAILED || to == BJ_JOB_PAUSED;
	case BJ_JOB_PAUSED:
		/* claimed items may still finish while paused, ending the job */
		return to == BJ_JOB_QUEUED || to == BJ_JOB_RUNNING ||
		    to == BJ_JOB_SUCCEEDED || to == BJ_JOB_FAILED;
	}
	return 0;
}

static int
item_allowed(int from, int to)
{
	switch (from) {
	case BJ_ITEM_PENDING:
		return to == BJ_ITEM_CLAIMED || to == BJ_ITEM_CANCELLED;
	case BJ_ITEM_CLAIMED:
		return to == BJ_ITEM_SUCCEEDED || to == BJ_ITEM_FAILED ||
		    to == BJ_ITEM_PENDING || to == BJ_ITEM_CANCELLED;
	}
	return 0;
}

static void
test_job_matrix(void)
{
	int allowed = 0;

	for (int f = 0; f < BJ_JOB_NSTATES; f++)
		for (int t = 0; t < BJ_JOB_NSTATES; t++) {
			if (bj_job_can(f, t) != job_allowed(f, t)) {
				fprintf(stderr, "job %s -> %s: table says %d\n", bj_job_state_name(f),
				    bj_job_state_name(t), bj_job_can(f, t));
				CU_FAIL("job transition differs from the contract");
			}
			allowed += bj_job_can(f, t);
		}
	CU_ASSERT_EQUAL(allowed, 17);
}

/* Terminal states never change, but for a failed job's retry into its next round. */
static void
test_job_terminal_never_changes(void)
{
	int terminal[] = { BJ_JOB_SUCCEEDED, BJ_JOB_FAILED, BJ_JOB_CANCELLED, BJ_JOB_EXPIRED };

	for (size_t i = 0; i < 4; i++) {
		CU_ASSERT_TRUE(bj_job_state_terminal(terminal[i]));
		for (int t = 0; t < BJ_JOB_NSTATES; t++)
			CU_ASSERT_EQUAL(bj_job_can(terminal[i], t), terminal[i] == BJ_JOB_FAILED &&
			    (t == BJ_JOB_QUEUED || t == BJ_JOB_RUNNING));
	}
	CU_ASSERT_FALSE(bj_job_state_terminal(BJ_JOB_QUEUED));
	CU_ASSERT_FALSE(bj_job_state_terminal(BJ_JOB_RUNNING));
	CU_ASSERT_FALSE(bj_job_state_terminal(BJ_JOB_PAUSED));
	CU_ASSERT_FALSE(bj_job_can(-1, BJ_JOB_RUNNING));
	CU_ASSERT_FALSE(bj_job_can(BJ_JOB_QUEUED, BJ_JOB_NSTATES));
	/* only a job that ended may be retried, and of those only a failed one */
	for (int s = 0; s < BJ_JOB_NSTATES; s++)
		CU_ASSERT_EQUAL(bj_job_can_retry(s), s == BJ_JOB_FAILED);
}

static void
test_item_matrix(void)
{
	int allowed = 0;

	for (int f = 0; f < BJ_ITEM_NSTATES; f++)
		for (int t = 0; t < BJ_ITEM_NSTATES; t++) {
			if (bj_item_can(f, t) != item_allowed(f, t)) {
				fprintf(stderr, "item %s -> %s: table says %d\n", bj_item_state_name(f),
				    bj_item_state_name(t), bj_item_can(f, t));
				CU_FAIL("item transition differs from the contract");
			}
			allowed += bj_item_can(f, t);
		}
	CU_ASSERT_EQUAL(allowed, 6);
	CU_ASSERT_TRUE(bj_item_state_terminal(BJ_ITEM_SUCCEEDED));
	CU_ASSERT_TRUE(bj_item_state_terminal(BJ_ITEM_FAILED));
	CU_ASSERT_TRUE(bj_item_state_terminal(BJ_ITEM_CANCELLED));
	CU_ASSERT_FALSE(bj_item_state_terminal(BJ_ITEM_PENDING));
	CU_ASSERT_FALSE(bj_item_state_terminal(BJ_ITEM_CLAIMED));
}

static void
test_names_round_trip(void)
{
	for (int s = 0; s < BJ_JOB_NSTATES; s++)
		CU_ASSERT_EQUAL(bj_job_state_parse(bj_job_state_name(s)), s);
	for (int s = 0; s < BJ_ITEM_NSTATES; s++)
		CU_ASSERT_EQUAL(bj_item_state_parse(bj_item_state_name(s)), s);
	CU_ASSERT_EQUAL(bj_job_state_parse("done"), -1);
	CU_ASSERT_EQUAL(bj_job_state_parse(NULL), -1);
	CU_ASSERT_EQUAL(bj_item_state_parse("Pending"), -1);
	CU_ASSERT_STRING_EQUAL(bj_job_state_name(BJ_JOB_EXPIRED), "expired");
	CU_ASSERT_STRING_EQUAL(bj_item_state_name(BJ_ITEM_CLAIMED), "claimed");
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("state", NULL, NULL);

	CU_add_test(s, "job transitions match the contract", test_job_matrix);
	CU_add_test(s, "terminal jobs never change", test_job_terminal_never_changes);
	CU_add_test(s, "item transitions match the contract", test_item_matrix);
	CU_add_test(s, "state names round-trip", test_names_round_trip);
	return bj_test_run();
}
