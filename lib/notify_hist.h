/*
 * notify_hist.h: a job's notifications and every delivery attempt, for
 * the job's JSON (bj_render_notifications) and its status page.
 *
 * Ownership: bj_notify_hist_load() returns an allocated list the caller
 * releases with bj_notify_hist_free(); all strings belong to it.
 */
#ifndef BJ_NOTIFY_HIST_H
#define BJ_NOTIFY_HIST_H

#include "db.h"
#include "err.h"

struct bj_notify_attempt {
	int		 attempt;
	char		*at;		/* ISO 8601 UTC */
	int		 has_status;
	int		 status;	/* HTTP status, SMTP reply code or exit status */
	char		*error;		/* NULL when it succeeded */
};

struct bj_notify_hist {
	long long		  id;
	int			  round;	/* the job's round whose end recorded it */
	char			 *event;	/* "job.succeeded" … */
	char			 *channel;	/* "email" | "webhook" */
	char			 *target;
	char			 *state;	/* "pending" | "sent" | "dead" */
	int			  attempts;
	char			 *next_attempt_at;
	int			  n_tries;
	struct bj_notify_attempt *tries;
};

struct bj_notify_hists {
	int			 n;
	struct bj_notify_hist	*items;
};

/* Load job_id's notifications with their attempts: BJ_OK or BJ_ERR_DB_UNAVAILABLE. */
enum bj_err bj_notify_hist_load(struct bj_db *db, long long job_id, struct bj_notify_hists **out);
void bj_notify_hist_free(struct bj_notify_hists *h);

#endif
