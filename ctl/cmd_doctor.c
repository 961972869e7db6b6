/*
 * cmd_doctor.c: bulkjobsctl doctor. Reports, without changing anything,
 * the inconsistencies the reaper's step 6 repairs: counters that drifted
 * from the items (counted in full here, so it reads every item of the
 * active jobs: an operator's command, not a cron job), terminal jobs with pending or claimed items, claims
 * whose attempt already has a failure record, and active jobs whose open
 * stage has ended. Exit 0 when clean, 1 when something was found.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "sql.h"

#define DOCTOR_LIMIT 1000LL

/* Print one line per row of a finding; the number of rows, or -1. */
static int
report(struct bj_ctl *ctl, const char *what, struct bj_rows *rows)
{
	if (rows == NULL) {
		fprintf(stderr, "bulkjobsctl: doctor: %s: %s\n", what, bj_db_error(ctl->db));
		return -1;
	}
	for (int i = 0; i < rows->nrows; i++) {
		printf("%s:", what);
		for (int c = 0; c < rows->ncols; c++) {
			const char *v = bj_rows_get(rows, i, c);
			printf(" %s", v ? v : "NULL");
		}
		printf("\n");
	}
	return rows->nrows;
}

int
bj_ctl_doctor(struct bj_ctl *ctl, int argc, char **argv)
{
	int found = 0, n, err = 0;
	struct bj_rows *rows;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: bulkjobsctl doctor\n");
		return EX_USAGE;
	}

	rows = bj_db_queryp(ctl->db, BJ_SQL_REAPER_DRIFTED_FULL, BJ_PARAMS(BJ_P_INT(0),
	    BJ_P_INT(DOCTOR_LIMIT)));
	if ((n = report(ctl, "counts drifted, job", rows)) < 0)
		err = 1;
	else
		found += n;
	bj_rows_free(rows);

	rows = bj_db_queryp(ctl->db, BJ_SQL_REAPER_TERMINAL_LEFTOVERS,
	    BJ_PARAMS(BJ_P_INT(DOCTOR_LIMIT)));
	if ((n = report(ctl, "terminal job with unfinished items, job/state/item state",
	    rows)) < 0)
		err = 1;
	else
		found += n;
	bj_rows_free(rows);

	rows = bj_db_queryp(ctl->db, BJ_SQL_REAPER_FAILED_CLAIMS,
	    BJ_PARAMS(BJ_P_INT(DOCTOR_LIMIT)));
	if ((n = report(ctl, "claim with a failure record, item/job/attempt/stage", rows)) < 0)
		err = 1;
	else
		found += n;
	bj_rows_free(rows);

	rows = bj_db_queryp(ctl->db, BJ_SQL_REAPER_SETTLE_DUE, BJ_PARAMS(BJ_P_INT(0),
	    BJ_P_INT(DOCTOR_LIMIT)));
	if ((n = report(ctl, "active job whose open stage has ended, job", rows)) < 0)
		err = 1;
	else
		found += n;
	bj_rows_free(rows);

	if (err)
		return EX_UNAVAILABLE;
	if (found == 0)
		printf("no inconsistencies found\n");
	else
		printf("%d inconsistenc%s found; bulkjobs-reaper repairs them (drifted counts"
		    " at the latest when the job ends)\n", found, found == 1 ? "y" : "ies");
	return found ? 1 : EX_OK;
}
