/* sql_api.c: SQL texts of the job model, claims, leases and fan-in (see sql.h). */
#include "config.h"

#include "sql.h"

/* ISO 8601 UTC with microseconds, as every JSON time is written. */
#define T(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%fZ')"

#define JOB_COLUMNS \
    "SELECT id, token, kind, owner, title, params, language, state, stage," \
    " stage_count, n_total, n_pending, n_claimed, n_succeeded, n_failed," \
    " n_cancelled, " T("created_at") ", " T("updated_at") ", " T("started_at") "," \
    " " T("finished_at") ", " T("deadline_at") ", artifact, " T("artifact_expires_at") "," \
    " artifact_deleted_at IS NOT NULL," \
    " artifact_expires_at IS NOT NULL AND artifact_expires_at <= NOW(6)," \
    " retention_seconds, max_attempts, lease_seconds, on_item_failure," \
    " idempotency_key FROM jobs"

const char BJ_SQL_JOB_GET[] = JOB_COLUMNS " WHERE id = ?";
const char BJ_SQL_JOB_BY_TOKEN[] = JOB_COLUMNS " WHERE token = ?";

const char BJ_SQL_JOB_LOCK[] =
    "SELECT state, stage, stage_remaining, on_item_failure, n_total,"
    " n_succeeded, n_failed FROM jobs WHERE id = ? FOR UPDATE";

const char BJ_SQL_STAGE_LEFT[] =
    "SELECT COUNT(*) FROM items WHERE job_id = ? AND state IN ('pending', 'claimed')"
    " AND stage = ?";

const char BJ_SQL_STAGE_REMAINING_SET[] =
    "UPDATE jobs SET stage_remaining = ?, updated_at = NOW(6)"
    " WHERE id = ? AND stage = ?";

const char BJ_SQL_STAGE_NEXT[] =
    "SELECT MIN(stage) FROM items WHERE job_id = ? AND state = 'pending' AND stage > ?";

const char BJ_SQL_STAGE_OPEN[] =
    "UPDATE jobs SET stage = ?, stage_remaining ="
    " (SELECT COUNT(*) FROM items WHERE job_id = ? AND state = 'pending' AND stage = ?),"
    " updated_at = NOW(6)"
    " WHERE id = ? AND stage = ? AND state IN ('queued', 'running', 'paused')";

const char BJ_SQL_JOB_END[] =
    "UPDATE jobs SET state = ?, finished_at = NOW(6), updated_at = NOW(6),"
    " artifact_expires_at = NOW(6) + INTERVAL retention_seconds SECOND"
    " WHERE id = ? AND state = ?";

const char BJ_SQL_ITEMS_CANCEL_PENDING[] =
    "UPDATE items SET state = 'cancelled', finished_at = NOW(6)"
    " WHERE job_id = ? AND state = 'pending'";

const char BJ_SQL_ITEMS_CANCEL_CLAIMED[] =
    "UPDATE items SET state = 'cancelled', finished_at = NOW(6), lease_token = NULL,"
    " lease_expires_at = NULL WHERE job_id = ? AND state = 'claimed'";

const char BJ_SQL_JOB_COUNT_CANCEL[] =
    "UPDATE jobs SET n_pending = n_pending - ?, n_claimed = n_claimed - ?,"
    " n_cancelled = n_cancelled + ? + ?, updated_at = NOW(6) WHERE id = ?";

const char BJ_SQL_OUTBOX_RECORD[] =
    "INSERT INTO notifications (job_id, event, channel, target_hash, target, state,"
    " attempts, next_attempt_at, created_at)"
    " SELECT job_id, ?, channel, target_hash, target, 'pending', 0, NOW(6), NOW(6)"
    " FROM job_targets WHERE job_id = ?"
    " ON DUPLICATE KEY UPDATE id = id";

const char BJ_SQL_EVENT_ADD[] =
    "INSERT INTO job_events (job_id, at, type, detail) VALUES (?, NOW(6), ?, ?)";
