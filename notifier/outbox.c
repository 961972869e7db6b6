/*
 * outbox.c: claiming due notifications under a lease and recording what
 * became of them (see notify.h). Every write is conditional on the lease
 * (id, state 'pending', attempts), so a slow notifier that was overtaken
 * changes nothing and nothing is recorded twice.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "notify.h"
#include "render_notify.h"
#include "sql.h"
#include "token.h"

/* A copy of a cell, or NULL for SQL NULL. */
static char *
cell_dup(const struct bj_rows *r, int row, int col)
{
	const char *s = bj_rows_get(r, row, col);

	return s ? bj_xstrdup(s) : NULL;
}

/*
 * Move the version of notification id's job: its page shows the
 * notification's state and attempts (docs/design.md, "Conditional GET").
 * Run after the commit, not inside it: the API locks a job before its
 * notifications, and a reader who saw the change under the old version
 * only gets it once more.
 */
static void
touch_job(struct bj_db *db, long long id)
{
	if (bj_db_execp(db, BJ_SQL_NOTIFY_JOB_TOUCH, NULL, BJ_PARAMS(BJ_P_INT(id))) == -1)
		bj_log_warn("notification %lld: job version: %s", id, bj_db_error(db));
}

/* Tries of a claim that lost its rows to another notifier, and of a record that met a conflict. */
#define CLAIM_TRIES	3
#define RECORD_TRIES	5

static int claim_once(struct bj_db *, int, int, struct bj_note ***);

/*
 * Lease due rows in one short transaction, then read them outside it.
 * A claim whose rows another notifier leased at the same moment (a lock
 * wait, or on Galera a certification failure at COMMIT: 1213) is theirs:
 * tried again for other rows, then nothing claimed, not an error.
 */
int
bj_notify_claim(struct bj_db *db, int limit, int lease, struct bj_note ***out)
{
	int n;

	for (int i = 0; i < CLAIM_TRIES; i++) {
		if ((n = claim_once(db, limit, lease, out)) != -2)
			return n;
		bj_log_info("claiming notifications: %s; another notifier has them",
		    bj_db_error(db));
		bj_db_backoff(i);
	}
	return 0;
}

/* One claim; as bj_notify_claim, or -2 when it lost to another notifier. */
static int
claim_once(struct bj_db *db, int limit, int lease, struct bj_note ***out)
{
	struct bj_rows *ids = NULL, *r;
	struct bj_note **notes = NULL;
	int n = 0;

	*out = NULL;
	if (bj_db_begin(db) == -1)
		return -1;
	if ((ids = bj_db_queryp(db, BJ_SQL_NOTIFY_DUE, BJ_PARAMS(BJ_P_INT(limit)))) == NULL)
		goto fail;
	for (int i = 0; i < ids->nrows; i++) {
		unsigned long long affected = 0;

		if (bj_db_execp(db, BJ_SQL_NOTIFY_LEASE, &affected, BJ_PARAMS(BJ_P_INT(lease),
		    BJ_P_INT(bj_rows_int(ids, i, 0)))) == -1)
			goto fail;
	}
	if (bj_db_commit(db) == -1)
		goto fail;
	if (ids->nrows == 0) {
		bj_rows_free(ids);
		return 0;
	}
	notes = bj_xcalloc((size_t)ids->nrows, sizeof *notes);
	for (int i = 0; i < ids->nrows; i++) {
		struct bj_note *note;

		touch_job(db, bj_rows_int(ids, i, 0));

		if ((r = bj_db_queryp(db, BJ_SQL_NOTIFY_GET,
		    BJ_PARAMS(BJ_P_INT(bj_rows_int(ids, i, 0))))) == NULL) {
			bj_notes_free(notes, n);
			bj_rows_free(ids);
			return -1;
		}
		if (r->nrows == 1) {
			note = bj_xcalloc(1, sizeof *note);
			note->id = bj_rows_int(r, 0, 0);
			note->job_id = bj_rows_int(r, 0, 1);
			note->event = cell_dup(r, 0, 2);
			note->channel = cell_dup(r, 0, 3);
			note->target = cell_dup(r, 0, 4);
			note->attempt = (int)bj_rows_int(r, 0, 5);
			note->now = bj_rows_int(r, 0, 6);
			note->attempt_base = (int)bj_rows_int(r, 0, 7);
			note->round = (int)bj_rows_int(r, 0, 8);
			note->job_at_end = cell_dup(r, 0, 9);
			note->retry_after = -1;
			notes[n++] = note;
		}
		bj_rows_free(r);
	}
	bj_rows_free(ids);
	*out = notes;
	return n;
fail:
	bj_db_rollback(db);
	bj_rows_free(ids);
	if (bj_db_retryable(db))
		return -2;
	bj_log_err("claiming notifications: %s", bj_db_error(db));
	return -1;
}

/* The number member name of o, or def when there is none. */
static long long
end_int(struct json_object *o, const char *name, long long def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

/* The time member name of o in the API's spelling (caller frees), or NULL. */
static char *
end_time(struct json_object *o, const char *name, long long *us)
{
	struct json_object *v;

	*us = 0;
	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return bj_time_iso(json_object_get_string(v), 1, us);
}

/*
 * Put back what the job was when the note's event was recorded: a retry
 * moves its state, stage and counters on at once, and the notifier may
 * run after it. Rows recorded before job_at_end existed keep the job as
 * it is.
 */
static void
as_it_ended(struct bj_note *note)
{
	struct bj_job *j = note->job;
	struct json_object *o;
	long long expires;
	int st;

	note->retried_since = j->round > note->round;
	if (note->job_at_end == NULL || (o = json_tokener_parse(note->job_at_end)) == NULL)
		return;
	if (json_object_is_type(o, json_type_object)) {
		struct json_object *v;

		if (json_object_object_get_ex(o, "state", &v) &&
		    (st = bj_job_state_parse(json_object_get_string(v))) >= 0)
			j->state = (enum bj_job_state)st;
		j->round = note->round;
		j->stage = (int)end_int(o, "stage", j->stage);
		j->n_total = end_int(o, "total", j->n_total);
		j->n_pending = end_int(o, "pending", j->n_pending);
		j->n_claimed = end_int(o, "claimed", j->n_claimed);
		j->n_succeeded = end_int(o, "succeeded", j->n_succeeded);
		j->n_failed = end_int(o, "failed", j->n_failed);
		j->n_cancelled = end_int(o, "cancelled", j->n_cancelled);
		free(j->finished_at);
		j->finished_at = end_time(o, "finished_at", &expires);
		free(j->artifact_expires_at);
		j->artifact_expires_at = end_time(o, "artifact_expires_at", &expires);
		j->artifact_expired = j->artifact_expires_at != NULL &&
		    expires <= note->now * 1000000;
	}
	json_object_put(o);
}

/*
 * The job through the job model, as it ended, and its first failed items
 * for the email: not when it was retried since, as they are the next
 * round's items then.
 */
int
bj_notify_load(struct bj_db *db, struct bj_note *note)
{
	struct bj_rows *e;
	enum bj_err err;

	if ((err = bj_job_get(db, note->job_id, &note->job)) == BJ_ERR_JOB_NOT_FOUND)
		return 1;
	if (err != BJ_OK)
		return -1;
	as_it_ended(note);
	if (note->retried_since)
		return 0;
	if ((e = bj_db_queryp(db, BJ_SQL_NOTIFY_FIRST_ERRORS,
	    BJ_PARAMS(BJ_P_INT(note->job_id), BJ_P_INT(BJ_NOTE_MAX_ERRORS)))) == NULL)
		return -1;
	for (int i = 0; i < e->nrows && i < BJ_NOTE_MAX_ERRORS; i++) {
		note->err_key[i] = cell_dup(e, i, 0);
		note->err_text[i] = cell_dup(e, i, 1);
		note->n_errors++;
	}
	bj_rows_free(e);
	return 0;
}

/* Validate a back-off list: whole seconds from 1 s to a week, comma-separated. */
int
bj_backoff_check(const char *spec)
{
	const char *p = spec;
	int n = 0;

	if (spec == NULL || *spec == '\0')
		return -1;
	while (*p) {
		char *end;
		long long v;

		while (*p == ' ')
			p++;
		v = strtoll(p, &end, 10);
		if (end == p || *p == '-' || *p == '+' || v < 1 || v > BJ_BACKOFF_STEP_MAX)
			return -1;
		p = end;
		while (*p == ' ')
			p++;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return -1;
		n++;
	}
	return n > 0 ? 0 : -1;
}

/* The delay after a failed attempt: its step of the list, the last one repeating, with jitter. */
long long
bj_backoff_delay(const char *spec, int attempt)
{
	const char *p = spec;
	long long v = 300, jitter;
	unsigned int rnd = 0;

	for (int i = 1; p != NULL && *p; i++) {
		v = strtoll(p, NULL, 10);
		if (i >= attempt)
			break;
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	if (v < 1)
		v = 1;
	/* ±10 % so that rows that failed together do not retry together */
	jitter = v / 10;
	if (jitter > 0 && bj_random_bytes(&rnd, sizeof rnd) == 0)
		v += (long long)(rnd % (unsigned)(2 * jitter + 1)) - jitter;
	return v;
}

/* Record what a delivery did; the error text is copied. */
void
bj_note_set(struct bj_note *note, enum bj_note_outcome outcome, int status, const char *error)
{
	note->outcome = outcome;
	note->status = status;
	free(note->error);
	note->error = error ? bj_xstrdup(error) : NULL;
}

/* The job's status page link, as the emails and webhooks give it. */
char *
bj_note_status_url(const struct bj_conf *conf, const struct bj_note *note)
{
	const char *base = conf->public_url ? conf->public_url : "";
	size_t len = strlen(base);

	while (len > 0 && base[len - 1] == '/')
		len--;
	return bj_xasprintf("%.*s/jobs/%s", (int)len, base, note->job && note->job->token ? note->job->token : "");
}

/* The timeline entry of a delivered or abandoned notification. */
static char *
event_detail(const struct bj_note *note, const char *what)
{
	char *to = bj_notify_target_shown(note->channel, note->target);
	char *s = bj_xasprintf("%s %s %s to %s (attempt %d)", note->event, note->channel, what,
	    to, note->attempt);

	free(to);
	return s;
}

/* One try of bj_notify_record; -2 after a conflict or a lost node worth another try. */
static int
record_once(struct bj_db *db, const struct bj_conf *conf, struct bj_note *note)
{
	unsigned long long affected = 0;
	enum bj_note_outcome outcome = note->outcome;
	const char *err = note->error;
	char status_s[16], *status = NULL, *detail = NULL;
	int rc;

	if (outcome == BJ_NOTE_UNTRIED) {
		outcome = BJ_NOTE_RETRY;
		if (err == NULL)
			err = "not attempted";
	}
	if (outcome == BJ_NOTE_RETRY &&
	    note->attempt - note->attempt_base >= conf->notify_max_attempts)
		outcome = BJ_NOTE_DEAD;
	/* no status (a connection that failed) is stored as NULL */
	if (note->status != 0) {
		snprintf(status_s, sizeof status_s, "%d", note->status);
		status = status_s;
	}
	if (bj_db_begin(db) == -1)
		return bj_db_transient(db) ? -2 : -1;
	switch (outcome) {
	case BJ_NOTE_SENT:
		rc = bj_db_execp(db, BJ_SQL_NOTIFY_SENT, &affected,
		    BJ_PARAMS(BJ_P_STR(status), BJ_P_INT(note->id),
		    BJ_P_INT(note->attempt)));
		break;
	case BJ_NOTE_RETRY: {
		long long delay = bj_backoff_delay(conf->notify_backoff,
		    note->attempt - note->attempt_base);

		if (note->retry_after > 0)
			delay = note->retry_after > BJ_RETRY_AFTER_MAX ? BJ_RETRY_AFTER_MAX :
			    note->retry_after;
		rc = bj_db_execp(db, BJ_SQL_NOTIFY_RETRY, &affected,
		    BJ_PARAMS(BJ_P_INT(delay), BJ_P_STR(status), BJ_P_STR(err),
		    BJ_P_INT(note->id), BJ_P_INT(note->attempt)));
		break;
	}
	case BJ_NOTE_DEAD:
	default:
		rc = bj_db_execp(db, BJ_SQL_NOTIFY_DEAD, &affected,
		    BJ_PARAMS(BJ_P_STR(status), BJ_P_STR(err), BJ_P_INT(note->id),
		    BJ_P_INT(note->attempt)));
		break;
	}
	if (rc == -1)
		goto fail;
	if (affected != 1) {
		/* the lease ran out and another notifier took the row over */
		bj_db_rollback(db);
		return 0;
	}
	if (bj_db_execp(db, BJ_SQL_NOTIFY_ATTEMPT, NULL, BJ_PARAMS(BJ_P_INT(note->id),
	    BJ_P_INT(note->attempt), BJ_P_STR(status),
	    BJ_P_STR(outcome == BJ_NOTE_SENT ? NULL : err))) == -1)
		goto fail;
	if (outcome != BJ_NOTE_RETRY) {
		detail = event_detail(note, outcome == BJ_NOTE_SENT ? "sent" : "given up");
		if (bj_event_add(db, note->job_id, outcome == BJ_NOTE_SENT ? "notified" : "notify_failed",
		    detail) != BJ_OK)
			goto fail;
	}
	if (bj_db_commit(db) == -1)
		goto fail;
	touch_job(db, note->id);
	free(detail);
	note->outcome = outcome;
	return 1;
fail:
	bj_db_rollback(db);
	free(detail);
	if (bj_db_transient(db))
		return -2;
	bj_log_err("recording notification %lld: %s", note->id, bj_db_error(db));
	return -1;
}

/*
 * Write the outcome, the attempt and (when final) a timeline event in one
 * transaction, under the lease: 1 written, 0 the lease was lost, -1 error.
 * Conflicts with other writers (Galera certification) are tried again.
 */
int
bj_notify_record(struct bj_db *db, const struct bj_conf *conf, struct bj_note *note)
{
	int rc = -2;

	for (int i = 0; i < RECORD_TRIES && rc == -2; i++) {
		if (i > 0)
			bj_db_backoff(i - 1);
		rc = record_once(db, conf, note);
	}
	if (rc == -2) {
		bj_log_err("recording notification %lld: %s", note->id, bj_db_error(db));
		rc = -1;
	}
	return rc;
}

/* Release the notes of a claim; NULL is a no-op. */
void
bj_notes_free(struct bj_note **notes, int n)
{
	if (notes == NULL)
		return;
	for (int i = 0; i < n; i++) {
		struct bj_note *note = notes[i];

		if (note == NULL)
			continue;
		free(note->event);
		free(note->channel);
		free(note->target);
		free(note->job_at_end);
		bj_job_free(note->job);
		for (int k = 0; k < note->n_errors; k++) {
			free(note->err_key[k]);
			free(note->err_text[k]);
		}
		free(note->error);
		free(note);
	}
	free(notes);
}
