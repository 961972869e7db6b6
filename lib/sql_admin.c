/*
 * sql_admin.c: the queries of the operators' console (fcgi/page_admin*.c).
 * Declared in sql.h.
 *
 * What the overview reads is bounded by the work going on, never by the
 * history kept (design.md §12): jobs not ended through ix_jobs_state_kind,
 * jobs and items ended in the last hour through ix_jobs_finished and
 * ix_items_finished, claims through ix_items_lease, failures through
 * ix_item_failures_at, the outbox's pending and dead rows through
 * ix_notifications_due, the reaper's last runs through the primary key.
 */
#include "config.h"

#include "sql.h"

#define T(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"
#define AGO(col) "TIMESTAMPDIFF(SECOND, " col ", NOW(6))"
#define LAST_HOUR "NOW(6) - INTERVAL 1 HOUR"

const char BJ_SQL_ADMIN_JOB_COUNTS[] =
    "SELECT 1, state, kind, COUNT(*) FROM jobs FORCE INDEX (ix_jobs_state_kind)"
    " WHERE state IN ('queued', 'running', 'paused') GROUP BY state, kind"
    " UNION ALL"
    " SELECT 2, state, kind, COUNT(*) FROM jobs FORCE INDEX (ix_jobs_finished)"
    " WHERE finished_at >= " LAST_HOUR " GROUP BY state, kind";

/*
 * Per kind, the items waiting and how long the oldest due one has: one
 * probe of ix_items_claim per claimable job (its oldest due item of the
 * open stage), never a job's items one by one. Forced, so that no
 * statistics can make it read a job's pending items through another
 * index and sort them.
 */
const char BJ_SQL_ADMIN_WAITING[] =
    "SELECT j.kind, SUM(j.n_pending), MAX(" AGO("(SELECT i.run_after"
    "  FROM items i FORCE INDEX (ix_items_claim) WHERE i.job_id = j.id"
    "  AND i.state = 'pending' AND i.stage = j.stage"
    "  AND i.run_after <= NOW(6) ORDER BY i.run_after LIMIT 1)") ")"
    " FROM jobs j FORCE INDEX (ix_jobs_state_kind)"
    " WHERE j.state IN ('queued', 'running') GROUP BY j.kind ORDER BY j.kind";

/* a range of ix_items_finished (finished_at, state), read from the index alone */
const char BJ_SQL_ADMIN_MINUTES[] =
    "SELECT TIMESTAMPDIFF(MINUTE, finished_at, NOW(6)) m, COUNT(*)"
    " FROM items FORCE INDEX (ix_items_finished)"
    " WHERE finished_at >= " LAST_HOUR " AND state = 'succeeded' GROUP BY m";

const char BJ_SQL_ADMIN_REAPER[] =
    "SELECT " T("started_at") ", " AGO("started_at") ", seconds, outcome, host,"
    " requeued, items_failed, finished, expired, artifacts, purged, repairs, notifications"
    " FROM reaper_runs ORDER BY id DESC LIMIT ?";

/* held through GET_LOCK (on this server), or as the reaper_lock row ([reaper] lock = table) */
const char BJ_SQL_ADMIN_LOCK[] =
    "SELECT IS_USED_LOCK(?) IS NOT NULL"
    " OR EXISTS (SELECT 1 FROM reaper_lock WHERE name = ? AND expires_at > NOW(6))";

const char BJ_SQL_ADMIN_NOTIFY_COUNTS[] =
    "SELECT state, COUNT(*) FROM notifications FORCE INDEX (ix_notifications_due)"
    " WHERE state IN ('pending', 'dead') GROUP BY state";

/*
 * Every worker seen in the last hour, in three parts the page merges:
 * what each holds now, what it completed, and its failed attempts (the
 * failure record keeps the worker; the item forgets it on a retry).
 */
const char BJ_SQL_ADMIN_WORKERS[] =
    "SELECT 1, claimed_by, COUNT(*), " AGO("MAX(claimed_at)") ", " AGO("MAX(heartbeat_at)")
    " FROM items FORCE INDEX (ix_items_lease) WHERE state = 'claimed' GROUP BY claimed_by"
    " UNION ALL"
    " SELECT 2, claimed_by, COUNT(*), " AGO("MAX(claimed_at)") ", " AGO("MAX(heartbeat_at)")
    " FROM items FORCE INDEX (ix_items_finished)"
    " WHERE finished_at >= " LAST_HOUR " AND state = 'succeeded' AND claimed_by IS NOT NULL"
    " GROUP BY claimed_by"
    " UNION ALL"
    " SELECT 3, worker, COUNT(*), NULL, NULL FROM item_failures FORCE INDEX (ix_item_failures_at)"
    " WHERE failed_at >= " LAST_HOUR " AND worker IS NOT NULL GROUP BY worker";

/* the last day's failed attempts, grouped by their error's first 200 characters */
const char BJ_SQL_ADMIN_FAILURE_GROUPS[] =
    "SELECT LEFT(COALESCE(error, ''), 200) e, COUNT(*), COUNT(DISTINCT job_id),"
    " " AGO("MAX(failed_at)")
    " FROM item_failures FORCE INDEX (ix_item_failures_at)"
    " WHERE failed_at >= NOW(6) - INTERVAL 1 DAY GROUP BY e ORDER BY COUNT(*) DESC, e LIMIT ?";

const char BJ_SQL_ADMIN_FAILURES[] =
    "SELECT f.error, f.attempt, f.job_id, j.token, j.title, i.`key`, f.worker,"
    " " T("f.failed_at") ", " AGO("f.failed_at")
    " FROM item_failures f FORCE INDEX (ix_item_failures_at)"
    " JOIN jobs j ON j.id = f.job_id JOIN items i ON i.id = f.item_id"
    " WHERE f.failed_at >= NOW(6) - INTERVAL 1 DAY ORDER BY f.failed_at DESC LIMIT ?";

const char BJ_SQL_ADMIN_NOTES[] =
    "SELECT n.id, n.job_id, j.token, n.event, n.channel, n.target, n.attempts,"
    " n.last_error, " AGO("n.next_attempt_at")
    " FROM notifications n FORCE INDEX (ix_notifications_due) JOIN jobs j ON j.id = n.job_id"
    " WHERE n.state = ? ORDER BY n.next_attempt_at DESC LIMIT ?";

const char BJ_SQL_ADMIN_REAPER_RUN[] =
    "INSERT INTO reaper_runs (started_at, seconds, outcome, host, requeued, items_failed,"
    " finished, expired, artifacts, purged, repairs, notifications)"
    " VALUES (NOW(6) - INTERVAL ? MICROSECOND, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
