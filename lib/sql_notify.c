/*
 * sql_notify.c: SQL texts of the notification outbox (see sql.h).
 *
 * A claim is a short transaction: the due rows are locked with SKIP
 * LOCKED (several notifiers never wait on each other), and each gets
 * attempts + 1 and next_attempt_at pushed forward as a lease. Outcomes are
 * written conditionally on (id, state, attempts), so a notifier whose
 * lease ran out and was overtaken by another records nothing.
 */
#include "config.h"

#include "sql.h"

#define ISO(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%fZ')"

/* served by ix_notifications_due (state, next_attempt_at) */
const char BJ_SQL_NOTIFY_DUE[] =
    "SELECT id FROM notifications"
    " WHERE state = 'pending' AND next_attempt_at <= NOW(6)"
    " ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED";

const char BJ_SQL_NOTIFY_LEASE[] =
    "UPDATE notifications SET attempts = attempts + 1,"
    " next_attempt_at = NOW(6) + INTERVAL ? SECOND"
    " WHERE id = ? AND state = 'pending'";

const char BJ_SQL_NOTIFY_GET[] =
    "SELECT id, job_id, event, channel, target, attempts, UNIX_TIMESTAMP(NOW()), attempt_base,"
    " round, job_at_end FROM notifications WHERE id = ?";

/* served by ix_items_job_state (job_id, state, id) */
const char BJ_SQL_NOTIFY_FIRST_ERRORS[] =
    "SELECT `key`, COALESCE(error, '') FROM items"
    " WHERE job_id = ? AND state = 'failed' ORDER BY id LIMIT ?";

const char BJ_SQL_NOTIFY_SENT[] =
    "UPDATE notifications SET state = 'sent', sent_at = NOW(6), last_status = ?,"
    " last_error = NULL"
    " WHERE id = ? AND state = 'pending' AND attempts = ?";

const char BJ_SQL_NOTIFY_RETRY[] =
    "UPDATE notifications SET next_attempt_at = NOW(6) + INTERVAL ? SECOND,"
    " last_status = ?, last_error = ?"
    " WHERE id = ? AND state = 'pending' AND attempts = ?";

const char BJ_SQL_NOTIFY_DEAD[] =
    "UPDATE notifications SET state = 'dead', last_status = ?, last_error = ?"
    " WHERE id = ? AND state = 'pending' AND attempts = ?";

/* a notification's state and attempts show on its job's page: the job's version moves */
const char BJ_SQL_NOTIFY_JOB_TOUCH[] =
    "UPDATE jobs SET version = version + 1"
    " WHERE id = (SELECT job_id FROM notifications WHERE id = ?)";

/* an upsert: recording the same attempt twice is harmless */
const char BJ_SQL_NOTIFY_ATTEMPT[] =
    "INSERT INTO notification_attempts (notification_id, attempt, at, status, error)"
    " VALUES (?, ?, NOW(6), ?, ?)"
    " ON DUPLICATE KEY UPDATE status = VALUES(status), error = VALUES(error)";

/*
 * For the job's JSON and status page: one row per attempt (or one row with
 * NULL attempt columns for a notification not tried yet): notification
 * id, event, channel, target, state, attempts, next_attempt_at, attempt,
 * at, status, error, and the job's round that recorded it.
 */
const char BJ_SQL_NOTIFY_HISTORY[] =
    "SELECT n.id, n.event, n.channel, n.target, n.state, n.attempts,"
    " " ISO("n.next_attempt_at") ", a.attempt, " ISO("a.at") ", a.status, a.error,"
    " n.round"
    " FROM notifications n"
    " LEFT JOIN notification_attempts a ON a.notification_id = n.id"
    " WHERE n.job_id = ? ORDER BY n.id, a.attempt";

/*
 * "Deliver again" from the console: a dead notification is due now with a
 * fresh attempt budget; the notifier's next run claims it like any other.
 */
const char BJ_SQL_NOTIFY_REDELIVER[] =
    "UPDATE notifications SET state = 'pending', attempt_base = attempts, next_attempt_at = NOW(6)"
    " WHERE id = ? AND job_id = ? AND state = 'dead'";
