/*
 * notify.h: bulkjobs-notify, delivering the notification outbox.
 *
 * One pass: bj_notify_claim() leases due rows in a short transaction,
 * bj_notify_load() reads each one's job, the webhooks go out together
 * through libcurl's multi interface (bj_webhook_deliver) and the emails
 * one by one (bj_mail_deliver); each sets the note's outcome, and
 * bj_notify_record() writes it back conditionally. No transaction is
 * open while anything is delivered.
 *
 * Ownership: the notes array and every note belong to the caller and are
 * released with bj_notes_free(); the config is borrowed throughout.
 */
#ifndef BJ_NOTIFY_H
#define BJ_NOTIFY_H

#include <sys/socket.h>

#include "conf.h"
#include "db.h"
#include "job.h"

#define BJ_NOTE_MAX_ERRORS	5	/* the first failed items named in an email */

enum bj_note_outcome {
	BJ_NOTE_UNTRIED,	/* nothing was sent (e.g. the job could not be read) */
	BJ_NOTE_SENT,
	BJ_NOTE_RETRY,		/* try again after the back-off (or Retry-After) */
	BJ_NOTE_DEAD,		/* stop: the peer refused for good */
};

struct bj_note {
	long long	 id;
	long long	 job_id;
	char		*event;		/* "job.succeeded" … */
	char		*channel;	/* "email" | "webhook" */
	char		*target;	/* address or URL */
	int		 attempt;	/* this attempt's number, 1 … */
	int		 attempt_base;	/* attempts made before the last "deliver again" */
	long long	 now;		/* database time at the claim, unix seconds */
	int		 round;		/* the job's round whose end recorded it */
	char		*job_at_end;	/* the job as it ended (JSON), or NULL */
	struct bj_job	*job;		/* NULL until bj_notify_load(): as it ended */
	int		 retried_since;	/* the job has started a later round */
	int		 n_errors;
	char		*err_key[BJ_NOTE_MAX_ERRORS];
	char		*err_text[BJ_NOTE_MAX_ERRORS];

	/* the outcome, set by the delivery */
	enum bj_note_outcome outcome;
	int		 status;	/* HTTP status, SMTP reply code, exit status, or 0 */
	char		*error;		/* what went wrong, or NULL */
	long long	 retry_after;	/* seconds the peer asked for, or -1 */
};

/*
 * Lease up to limit due notifications for lease seconds. Returns the
 * number claimed (*out, caller frees with bj_notes_free) or -1 on a
 * database error.
 */
int bj_notify_claim(struct bj_db *db, int limit, int lease, struct bj_note ***out);
/*
 * Read the note's job, with its state, stage, counters, finished_at and
 * artifact_expires_at as they were when the event was recorded, and
 * (unless it was retried since) its first failed items: 0, 1 when the job
 * is gone, -1 on a database error.
 */
int bj_notify_load(struct bj_db *db, struct bj_note *note);
/*
 * Write the note's outcome: sent, rescheduled after the back-off, or
 * dead once max_attempts are spent; the attempt is kept. Returns 1 when
 * recorded, 0 when the lease had been lost, -1 on a database error.
 */
int bj_notify_record(struct bj_db *db, const struct bj_conf *conf, struct bj_note *note);
void bj_notes_free(struct bj_note **notes, int n);

/* Set a note's outcome; error may be NULL. */
void bj_note_set(struct bj_note *note, enum bj_note_outcome outcome, int status,
    const char *error);

#define BJ_BACKOFF_STEP_MAX	(7 * 86400)	/* one step of [notify] backoff: a week */
#define BJ_RETRY_AFTER_MAX	86400		/* a receiver's Retry-After is followed up to a day */
#define BJ_WATCH_MAX		86400		/* --watch: a pass at least daily */

/* 0 when spec ("5,300,1800") is a valid back-off list (steps 1..BJ_BACKOFF_STEP_MAX), else -1. */
int bj_backoff_check(const char *spec);
/* The delay before attempt + 1: the list's entry for attempt (the last one repeats), ±10 %. */
long long bj_backoff_delay(const char *spec, int attempt);

/* The status page of a job: public_url + "/jobs/" + token (caller frees). */
char *bj_note_status_url(const struct bj_conf *conf, const struct bj_note *note);

/* Deliver every webhook note of notes[0..n) at once, [notify] parallel at a time. */
void bj_webhook_deliver(const struct bj_conf *conf, struct bj_note **notes, int n);
/* 0 when [webhook] allow_networks and deny_networks parse, else -1 with a static *why. */
int bj_webhook_fence_check(const struct bj_conf *conf, const char **why);
/*
 * Why the webhook fence refuses to connect to sa under conf's lists (a
 * static message), or NULL when it may.
 */
const char *bj_webhook_fence_refuses(const struct bj_conf *conf, const struct sockaddr *sa);
/* 0 when [mail] transport names a usable transport, else -1 with a static *why. */
int bj_mail_transport_check(const char *transport, const char **why);

/* Deliver one email note by the configured transport. */
void bj_mail_deliver(const struct bj_conf *conf, struct bj_note *note);

#endif
