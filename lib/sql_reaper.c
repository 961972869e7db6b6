/*
 * sql_reaper.c: SQL texts of the reaper's sweeps and of bulkjobsctl doctor
 * (see sql.h). Every change is conditional on the state it expects, so a
 * second reaper running the same statements at the same time does no harm.
 */
#include "config.h"

#include "sql.h"

/* --- step 2: expired leases --- */

/* ix_items_lease: claimed items whose lease ended, oldest first */
const char BJ_SQL_REAPER_ORPHANS[] =
    "SELECT id, job_id, attempt, stage FROM items"
    " WHERE state = 'claimed' AND lease_expires_at < NOW(6)"
    " ORDER BY lease_expires_at LIMIT ?";

/*
 * ix_items_state_job (claimed items only) then uq_item_failures: claims
 * whose attempt already failed. STRAIGHT_JOIN keeps the optimizer from
 * reading every failure record instead of the few claims.
 */
const char BJ_SQL_REAPER_FAILED_CLAIMS[] =
    "SELECT STRAIGHT_JOIN i.id, i.job_id, i.attempt, i.stage FROM items i"
    " JOIN item_failures f ON f.item_id = i.id AND f.attempt = i.attempt"
    " WHERE i.state = 'claimed' ORDER BY i.id LIMIT ?";

const char BJ_SQL_REAPER_JOB_LOCK[] =
    "SELECT state, stage, max_attempts, on_item_failure FROM jobs"
    " WHERE id = ? FOR UPDATE";

/* the condition every orphan change carries: still this attempt, still lost */
#define ORPHAN_WHERE \
    " WHERE id = ? AND state = 'claimed' AND attempt = ?" \
    " AND (lease_expires_at < NOW(6) OR EXISTS (SELECT 1 FROM item_failures f" \
    "  WHERE f.item_id = items.id AND f.attempt = items.attempt))"

/* the error: the recorded failure's when there is one, else the lease's */
#define ORPHAN_ERROR \
    " error = COALESCE((SELECT f.error FROM item_failures f" \
    "  WHERE f.item_id = items.id AND f.attempt = items.attempt), ?)"

const char BJ_SQL_REAPER_ITEM_REQUEUE[] =
    "UPDATE items SET state = 'pending', lease_token = NULL,"
    " lease_expires_at = NULL, claimed_by = NULL, claimed_at = NULL,"
    " run_after = NOW(6) + INTERVAL ? SECOND," ORPHAN_ERROR
    ORPHAN_WHERE;

const char BJ_SQL_REAPER_ITEM_FAIL[] =
    "UPDATE items SET state = 'failed', lease_token = NULL,"
    " lease_expires_at = NULL, finished_at = NOW(6)," ORPHAN_ERROR
    ORPHAN_WHERE;

const char BJ_SQL_REAPER_ITEM_REVOKE[] =
    "UPDATE items SET state = 'cancelled', lease_token = NULL,"
    " lease_expires_at = NULL, finished_at = NOW(6)"
    ORPHAN_WHERE;

const char BJ_SQL_REAPER_FAILURE_UPSERT[] =
    "INSERT INTO item_failures (item_id, job_id, attempt, error, failed_at)"
    " VALUES (?, ?, ?, ?, NOW(6))"
    " ON DUPLICATE KEY UPDATE error = COALESCE(item_failures.error, VALUES(error))";

const char BJ_SQL_REAPER_COUNT_REQUEUE[] =
    "UPDATE jobs SET n_claimed = n_claimed - LEAST(n_claimed, 1),"
    " n_pending = n_pending + 1, updated_at = NOW(6) WHERE id = ?";

const char BJ_SQL_REAPER_COUNT_FAIL[] =
    "UPDATE jobs SET n_claimed = n_claimed - LEAST(n_claimed, 1),"
    " n_failed = n_failed + 1,"
    " stage_remaining = stage_remaining - IF(stage = ?, LEAST(stage_remaining, 1), 0),"
    " updated_at = NOW(6) WHERE id = ?";

const char BJ_SQL_REAPER_COUNT_REVOKE[] =
    "UPDATE jobs SET n_claimed = n_claimed - LEAST(n_claimed, 1),"
    " n_cancelled = n_cancelled + 1, updated_at = NOW(6) WHERE id = ?";

/* --- job outcomes (bj_job_settle and bj_job_finish decide them) --- */

/* how many notifications a job's end records: one per target */
const char BJ_SQL_REAPER_TARGETS[] = "SELECT COUNT(*) FROM job_targets WHERE job_id = ?";

/* an expired job loses its artifact now: step 5 deletes the file */
const char BJ_SQL_REAPER_ARTIFACT_EXPIRE_NOW[] =
    "UPDATE jobs SET artifact_expires_at = NOW(6)"
    " WHERE id = ? AND state = 'expired' AND artifact_deleted_at IS NULL";

/* ix_items_job_state: a batch of a terminal job's leftovers (never an active job's) */
const char BJ_SQL_REAPER_CANCEL_PENDING[] =
    "UPDATE items SET state = 'cancelled', finished_at = NOW(6)"
    " WHERE job_id = ? AND state = 'pending' AND (SELECT j.state FROM jobs j"
    "  WHERE j.id = ?) IN ('succeeded','failed','cancelled','expired') LIMIT ?";

const char BJ_SQL_REAPER_CANCEL_CLAIMED[] =
    "UPDATE items SET state = 'cancelled', lease_token = NULL,"
    " lease_expires_at = NULL, finished_at = NOW(6)"
    " WHERE job_id = ? AND state = 'claimed' AND (SELECT j.state FROM jobs j"
    "  WHERE j.id = ?) IN ('succeeded','cancelled','expired') LIMIT ?";

const char BJ_SQL_REAPER_COUNT_CANCELLED_PENDING[] =
    "UPDATE jobs SET n_pending = n_pending - LEAST(n_pending, ?),"
    " n_cancelled = n_cancelled + ? WHERE id = ?";

const char BJ_SQL_REAPER_COUNT_CANCELLED_CLAIMED[] =
    "UPDATE jobs SET n_claimed = n_claimed - LEAST(n_claimed, ?),"
    " n_cancelled = n_cancelled + ? WHERE id = ?";

/* --- step 3: every item of the open stage has ended --- */

/* ix_jobs_state_kind, then one ix_items_claim probe per active job */
const char BJ_SQL_REAPER_SETTLE_DUE[] =
    "SELECT j.id FROM jobs j WHERE j.state IN ('queued','running','paused')"
    " AND j.id > ? AND NOT EXISTS (SELECT 1 FROM items i WHERE i.job_id = j.id"
    "  AND i.state IN ('pending','claimed') AND i.stage = j.stage)"
    " ORDER BY j.id LIMIT ?";

/* --- step 4: deadlines --- */

/* ix_jobs_deadline */
const char BJ_SQL_REAPER_EXPIRE_DUE[] =
    "SELECT id FROM jobs WHERE state IN ('queued','running','paused')"
    " AND deadline_at < NOW(6) ORDER BY deadline_at LIMIT ?";

/* --- step 5: artifacts and old rows --- */

/* ix_jobs_artifact_due (003) */
const char BJ_SQL_REAPER_ARTIFACTS_DUE[] =
    "SELECT id, artifact FROM jobs WHERE artifact_deleted_at IS NULL"
    " AND artifact_expires_at < NOW(6) ORDER BY artifact_expires_at LIMIT ?";

const char BJ_SQL_REAPER_ARTIFACT_GONE[] =
    "UPDATE jobs SET artifact_deleted_at = NOW(6)"
    " WHERE id = ? AND artifact_deleted_at IS NULL AND artifact_expires_at < NOW(6)";

/* ix_jobs_finished: ended jobs past the purge age whose file is gone */
const char BJ_SQL_REAPER_PURGE_DUE[] =
    "SELECT id FROM jobs WHERE finished_at < NOW(6) - INTERVAL ? SECOND"
    " AND state IN ('succeeded','failed','cancelled','expired')"
    " AND (artifact IS NULL OR artifact_deleted_at IS NOT NULL)"
    " ORDER BY finished_at LIMIT ?";

const char BJ_SQL_REAPER_PURGE_ITEMS[] = "DELETE FROM items WHERE job_id = ? LIMIT ?";
const char BJ_SQL_REAPER_PURGE_FAILURES[] =
    "DELETE FROM item_failures WHERE job_id = ? LIMIT ?";
const char BJ_SQL_REAPER_PURGE_EVENTS[] = "DELETE FROM job_events WHERE job_id = ? LIMIT ?";
const char BJ_SQL_REAPER_PURGE_ATTEMPTS[] =
    "DELETE a FROM notification_attempts a JOIN notifications n"
    " ON n.id = a.notification_id WHERE n.job_id = ?";
const char BJ_SQL_REAPER_PURGE_NOTIFICATIONS[] =
    "DELETE FROM notifications WHERE job_id = ? LIMIT ?";
const char BJ_SQL_REAPER_PURGE_TARGETS[] = "DELETE FROM job_targets WHERE job_id = ? LIMIT ?";
/* last, so that a purge cut short is found again by BJ_SQL_REAPER_PURGE_DUE */
const char BJ_SQL_REAPER_PURGE_JOB[] =
    "DELETE FROM jobs WHERE id = ? AND finished_at < NOW(6) - INTERVAL ? SECOND";

/* --- step 6: repairs (and bulkjobsctl doctor, which only reads) --- */

/*
 * Active jobs whose counters contradict their items, by checks that cost
 * one index probe each (ix_items_job_state, ix_items_claim), so that a run
 * costs per active job, not per item: the counts do not add up, or a count
 * is zero while such items exist (or the reverse). A job that fails one is
 * recounted in full; every job is also recounted before it ends.
 */
#define DRIFT_CHEAP \
    "(j.n_total <> j.n_pending + j.n_claimed + j.n_succeeded + j.n_failed + j.n_cancelled" \
    " OR (j.n_pending = 0) = EXISTS (SELECT 1 FROM items i WHERE i.job_id = j.id" \
    "  AND i.state = 'pending')" \
    " OR (j.n_claimed = 0) = EXISTS (SELECT 1 FROM items i WHERE i.job_id = j.id" \
    "  AND i.state = 'claimed')" \
    " OR (j.stage_remaining = 0) = EXISTS (SELECT 1 FROM items i WHERE i.job_id = j.id" \
    "  AND i.state IN ('pending','claimed') AND i.stage = j.stage))"

const char BJ_SQL_REAPER_DRIFTED[] =
    "SELECT j.id FROM jobs j WHERE j.state IN ('queued','running','paused')"
    " AND j.id > ? AND " DRIFT_CHEAP " ORDER BY j.id LIMIT ?";

/* bulkjobsctl doctor: every counter against a full count of the items */
#define DRIFT_FULL \
    "(j.n_total <> (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id)" \
    " OR j.n_pending <> (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'pending')" \
    " OR j.n_claimed <> (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'claimed')" \
    " OR j.n_succeeded <> (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'succeeded')" \
    " OR j.n_failed <> (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'failed')" \
    " OR j.n_cancelled <> (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'cancelled')" \
    " OR j.stage_remaining <> (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id" \
    "  AND i.stage = j.stage AND i.state IN ('pending','claimed')))"

const char BJ_SQL_REAPER_DRIFTED_FULL[] =
    "SELECT j.id FROM jobs j WHERE j.state IN ('queued','running','paused')"
    " AND j.id > ? AND " DRIFT_FULL " ORDER BY j.id LIMIT ?";

const char BJ_SQL_REAPER_RECOUNT[] =
    "UPDATE jobs j SET"
    " n_total = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id),"
    " n_pending = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'pending'),"
    " n_claimed = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'claimed'),"
    " n_succeeded = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'succeeded'),"
    " n_failed = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'failed'),"
    " n_cancelled = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'cancelled'),"
    " stage_remaining = IF(j.state IN ('queued','running','paused'),"
    "  (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.stage = j.stage"
    "   AND i.state IN ('pending','claimed')), 0),"
    " updated_at = NOW(6)"
    " WHERE j.id = ?";

/*
 * ix_items_state_job (003), read as a loose index scan: terminal jobs that
 * still have pending items, or claimed ones (a failed job's running claims
 * may still finish: the lease sweep ends them when their lease runs out).
 */
const char BJ_SQL_REAPER_TERMINAL_LEFTOVERS[] =
    "SELECT j.id, j.state, x.state FROM"
    " (SELECT state, job_id FROM items WHERE state IN ('pending','claimed')"
    "  GROUP BY state, job_id) x"
    " JOIN jobs j ON j.id = x.job_id"
    " WHERE (x.state = 'pending' AND j.state IN ('succeeded','failed','cancelled','expired'))"
    "  OR (x.state = 'claimed' AND j.state IN ('succeeded','cancelled','expired'))"
    " ORDER BY j.id LIMIT ?";
