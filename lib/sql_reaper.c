/*
 * sql_reaper.c: SQL texts of the reaper's sweeps and of bulkjobsctl doctor
 * (see sql.h). Every change is conditional on the state it expects, so a
 * second reaper running the same statements at the same time does no harm.
 */
#include "config.h"

#include "sql.h"

/* --- step 2: expired leases, a batch at a time, set-based --- */

/*
 * The batch at hand: one row per lost claim, with what happens to it.
 * A temporary table is the connection's own, so two reapers never share
 * it, and it is rolled back with the transaction that filled it. The
 * optimizer knows nothing of its size, so every join starts from it
 * (STRAIGHT_JOIN) and reaches the big tables by an index: a join that
 * started from items would read them all.
 */
const char BJ_SQL_REAPER_ORPHANS_TABLE[] =
    "CREATE TEMPORARY TABLE IF NOT EXISTS reaper_orphans ("
    " id BIGINT UNSIGNED NOT NULL PRIMARY KEY, job_id BIGINT UNSIGNED NOT NULL,"
    " attempt INT UNSIGNED NOT NULL, stage INT UNSIGNED NOT NULL,"
    " fate ENUM('requeue','fail','revoke') NULL, job_stage INT UNSIGNED NULL,"
    " fail_job TINYINT NULL, worker VARCHAR(255) NULL, KEY (job_id)) ENGINE=InnoDB";

const char BJ_SQL_REAPER_ORPHANS_CLEAR[] = "DELETE FROM reaper_orphans";

/*
 * ix_items_lease: claimed items whose lease ended, oldest first, locked
 * (FOR UPDATE) so that a heartbeat or a completion either came first and
 * the item is not picked, or waits for this batch's commit.
 */
const char BJ_SQL_REAPER_ORPHANS_PICK[] =
    "INSERT INTO reaper_orphans (id, job_id, attempt, stage, worker)"
    " SELECT id, job_id, attempt, stage, claimed_by FROM items"
    " WHERE state = 'claimed' AND lease_expires_at < NOW(6)"
    " ORDER BY lease_expires_at LIMIT ? FOR UPDATE";

/*
 * ix_items_state_job (claimed items only) then uq_item_failures: claims
 * whose attempt already failed. STRAIGHT_JOIN keeps the optimizer from
 * reading every failure record instead of the few claims. One text for
 * bulkjobsctl doctor's list and the sweep's pick, so they cannot differ.
 */
#define FAILED_CLAIMS \
    "SELECT STRAIGHT_JOIN i.id, i.job_id, i.attempt, i.stage, i.claimed_by FROM items i" \
    " JOIN item_failures f ON f.item_id = i.id AND f.attempt = i.attempt" \
    " WHERE i.state = 'claimed' ORDER BY i.id LIMIT ?"

const char BJ_SQL_REAPER_FAILED_CLAIMS[] = FAILED_CLAIMS;

/* the same, picked into the batch */
const char BJ_SQL_REAPER_FAILED_CLAIMS_PICK[] =
    "INSERT INTO reaper_orphans (id, job_id, attempt, stage, worker) " FAILED_CLAIMS
    " FOR UPDATE";

/* the batch's jobs, locked after their items as the API does */
const char BJ_SQL_REAPER_ORPHANS_LOCK_JOBS[] =
    "SELECT j.id FROM (SELECT DISTINCT job_id FROM reaper_orphans) o"
    " STRAIGHT_JOIN jobs j ON j.id = o.job_id ORDER BY j.id FOR UPDATE";

/*
 * Each claim's fate from its job: an ended or missing job cancels it, an
 * attempt left in its round (attempts count from the item's attempt_base)
 * requeues it, else it fails.
 *
 * This statement and the next read the other tables by joins, not by
 * correlated subqueries: MariaDB 10.11.19 was seen to crash (signal 11,
 * in the optimizer's Item_equal::sort for an unflattened subquery of a
 * prepared multi-table UPDATE) running the subquery form of the next one.
 */
const char BJ_SQL_REAPER_ORPHANS_FATE[] =
    "UPDATE reaper_orphans o LEFT JOIN jobs j ON j.id = o.job_id"
    " LEFT JOIN items i ON i.id = o.id SET"
    " o.fate = CASE WHEN j.id IS NULL"
    "  OR j.state IN ('succeeded','failed','cancelled','expired') THEN 'revoke'"
    "  WHEN o.attempt < j.max_attempts + i.attempt_base THEN 'requeue' ELSE 'fail' END,"
    " o.job_stage = j.stage,"
    " o.fail_job = j.id IS NULL OR j.on_item_failure = 'fail_job'";

/*
 * Move the batch's items, each still on the same attempt and still lost.
 * The error is the recorded failure's when there is one, else the
 * lease's; the back-off is bj_lease_backoff()'s, bound as
 * (BJ_BACKOFF_MAX, BJ_BACKOFF_FIRST, BJ_BACKOFF_FACTOR). state and the lease go last: MariaDB
 * assigns left to right and the IF()s read the old values.
 */
const char BJ_SQL_REAPER_ORPHANS_MOVE[] =
    "UPDATE reaper_orphans o STRAIGHT_JOIN items i ON i.id = o.id"
    " LEFT JOIN item_failures f ON f.item_id = i.id AND f.attempt = i.attempt SET"
    " i.error = IF(o.fate = 'revoke', i.error, COALESCE(f.error, ?)),"
    " i.run_after = IF(o.fate = 'requeue', NOW(6) + INTERVAL"
    "  LEAST(?, ? * POW(?, GREATEST(i.attempt - i.attempt_base, 1) - 1)) SECOND, i.run_after),"
    " i.claimed_by = IF(o.fate = 'requeue', NULL, i.claimed_by),"
    " i.claimed_at = IF(o.fate = 'requeue', NULL, i.claimed_at),"
    " i.finished_at = IF(o.fate = 'requeue', i.finished_at, NOW(6)),"
    " i.state = CASE o.fate WHEN 'requeue' THEN 'pending' WHEN 'fail' THEN 'failed'"
    "  ELSE 'cancelled' END,"
    " i.lease_token = NULL, i.lease_expires_at = NULL"
    " WHERE i.state = 'claimed' AND i.attempt = o.attempt"
    " AND (i.lease_expires_at < NOW(6) OR f.id IS NOT NULL)";

/* the batch is locked, so every pick moved; keep only those that did, to be sure */
const char BJ_SQL_REAPER_ORPHANS_UNMOVED[] =
    "DELETE o FROM reaper_orphans o LEFT JOIN items i ON i.id = o.id"
    " WHERE i.id IS NULL OR i.state = 'claimed'";

/* one failure record per attempt, upserted: an existing one is kept (Solid Queue #699) */
const char BJ_SQL_REAPER_ORPHANS_FAILURES[] =
    "INSERT INTO item_failures (item_id, job_id, attempt, error, failed_at, worker)"
    " SELECT id, job_id, attempt, ?, NOW(6), worker FROM reaper_orphans"
    " WHERE fate <> 'revoke' ORDER BY id"
    " ON DUPLICATE KEY UPDATE error = COALESCE(item_failures.error, VALUES(error))";

const char BJ_SQL_REAPER_ORPHANS_EVENTS[] =
    "INSERT INTO job_events (job_id, at, type, detail)"
    " SELECT job_id, NOW(6), 'item_failed', CONCAT('item ', id, ' attempt ', attempt, ': ',"
    " ?, IF(fate = 'fail', ', no attempts left', ', retrying'))"
    " FROM reaper_orphans WHERE fate <> 'revoke' ORDER BY id";

/* the counters, one UPDATE per job for the whole batch */
const char BJ_SQL_REAPER_ORPHANS_COUNT[] =
    "UPDATE (SELECT job_id, COUNT(*) n, SUM(fate = 'requeue') rq,"
    "  SUM(fate = 'fail') fl, SUM(fate = 'revoke') rv,"
    "  SUM(fate = 'fail' AND stage = job_stage) fs"
    "  FROM reaper_orphans GROUP BY job_id) c STRAIGHT_JOIN jobs j ON j.id = c.job_id SET"
    " j.n_claimed = j.n_claimed - LEAST(j.n_claimed, c.n),"
    " j.n_pending = j.n_pending + c.rq, j.n_failed = j.n_failed + c.fl,"
    " j.n_cancelled = j.n_cancelled + c.rv,"
    " j.stage_remaining = j.stage_remaining - LEAST(j.stage_remaining, c.fs),"
    " j.updated_at = NOW(6), j.version = j.version + 1";

/* the batch, for the log and the summary (i: 1 for every row, 0 for cancelled ones only) */
const char BJ_SQL_REAPER_ORPHANS_LIST[] =
    "SELECT id, job_id, attempt, fate FROM reaper_orphans"
    " WHERE ? = 1 OR fate = 'revoke' ORDER BY id";

const char BJ_SQL_REAPER_ORPHANS_SUMMARY[] =
    "SELECT COUNT(*), COALESCE(SUM(fate = 'requeue'), 0), COALESCE(SUM(fate = 'fail'), 0),"
    " COALESCE(SUM(fate = 'revoke'), 0) FROM reaper_orphans";

/* jobs with an item out of attempts: fail_job fails them, continue settles them */
const char BJ_SQL_REAPER_ORPHANS_ENDED[] =
    "SELECT job_id, MAX(fail_job) FROM reaper_orphans WHERE fate = 'fail'"
    " GROUP BY job_id ORDER BY job_id";

const char BJ_SQL_REAPER_JOB_LOCK[] =
    "SELECT state, stage, max_attempts, on_item_failure FROM jobs"
    " WHERE id = ? FOR UPDATE";

/* --- job outcomes (bj_job_settle and bj_job_finish decide them) --- */

/* how many notifications a job's end records: one per target */
const char BJ_SQL_REAPER_TARGETS[] = "SELECT COUNT(*) FROM job_targets WHERE job_id = ?";

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

/*
 * Only what the counters still count as pending (or claimed) moves: the
 * rows of a job ended by bj_job_finish() are counted cancelled
 * already. n_cancelled first, while n_pending is the old value.
 */
const char BJ_SQL_REAPER_COUNT_CANCELLED_PENDING[] =
    "UPDATE jobs SET n_cancelled = n_cancelled + LEAST(n_pending, ?),"
    " n_pending = n_pending - LEAST(n_pending, ?) WHERE id = ?";

const char BJ_SQL_REAPER_COUNT_CANCELLED_CLAIMED[] =
    "UPDATE jobs SET n_cancelled = n_cancelled + LEAST(n_claimed, ?),"
    " n_claimed = n_claimed - LEAST(n_claimed, ?) WHERE id = ?";

/* --- step 3: every item of the open stage has ended --- */

/*
 * ix_jobs_state_kind, then one ix_items_claim probe per active job. A
 * scalar subquery with LIMIT 1, not NOT EXISTS: with the statistics of a
 * freshly filled table the optimizer turned NOT EXISTS into a
 * materialized IN list of every pending item (1,000,000 rows read by an
 * idle run instead of 2,000).
 */
const char BJ_SQL_REAPER_SETTLE_DUE[] =
    "SELECT j.id FROM jobs j WHERE j.state IN ('queued','running','paused')"
    " AND j.id > ? AND (SELECT i.id FROM items i WHERE i.job_id = j.id"
    "  AND i.state IN ('pending','claimed') AND i.stage = j.stage LIMIT 1) IS NULL"
    " ORDER BY j.id LIMIT ?";

/* --- step 4: deadlines --- */

/* ix_jobs_deadline: one text for the dry run's list and the sweep's pick */
#define EXPIRE_DUE \
    "SELECT id FROM jobs WHERE state IN ('queued','running','paused')" \
    " AND deadline_at < NOW(6) ORDER BY deadline_at LIMIT ?"

const char BJ_SQL_REAPER_EXPIRE_DUE[] = EXPIRE_DUE;

/*
 * A batch of jobs past their deadline, expired set-based: the statements
 * below do for the whole batch what bj_job_finish() does for one
 * job (same counters, timeline entry and notifications).
 */
const char BJ_SQL_REAPER_EXPIRING_TABLE[] =
    "CREATE TEMPORARY TABLE IF NOT EXISTS reaper_expiring ("
    " id BIGINT UNSIGNED NOT NULL PRIMARY KEY) ENGINE=InnoDB";

const char BJ_SQL_REAPER_EXPIRING_CLEAR[] = "DELETE FROM reaper_expiring";

/* EXPIRE_DUE's jobs, their rows locked */
const char BJ_SQL_REAPER_EXPIRING_PICK[] =
    "INSERT INTO reaper_expiring (id) " EXPIRE_DUE " FOR UPDATE";

/* the counters from the items first (one ix_items_job_state pass per job) */
const char BJ_SQL_REAPER_EXPIRING_RECOUNT[] =
    "UPDATE (SELECT e.id job_id, COUNT(i.id) t,"
    "  COALESCE(SUM(i.state = 'pending'), 0) p, COALESCE(SUM(i.state = 'claimed'), 0) c,"
    "  COALESCE(SUM(i.state = 'succeeded'), 0) s, COALESCE(SUM(i.state = 'failed'), 0) f,"
    "  COALESCE(SUM(i.state = 'cancelled'), 0) x"
    "  FROM reaper_expiring e LEFT JOIN items i FORCE INDEX (ix_items_job_state)"
    "  ON i.job_id = e.id GROUP BY e.id) n"
    " STRAIGHT_JOIN jobs j ON j.id = n.job_id SET j.n_total = n.t, j.n_pending = n.p,"
    " j.n_claimed = n.c, j.n_succeeded = n.s, j.n_failed = n.f, j.n_cancelled = n.x";

/* ix_items_job_state: their claims are revoked now (a few rows per job) */
const char BJ_SQL_REAPER_EXPIRING_CLAIMS[] =
    "UPDATE reaper_expiring e STRAIGHT_JOIN items i FORCE INDEX (ix_items_job_state)"
    " ON i.job_id = e.id AND i.state = 'claimed' SET"
    " i.state = 'cancelled', i.finished_at = NOW(6), i.lease_token = NULL,"
    " i.lease_expires_at = NULL";

/*
 * The jobs end: pending and claimed counted cancelled (the pending rows
 * are cancelled later, bj_reaper_leftovers), the artifact due now.
 * n_cancelled first: MariaDB assigns left to right.
 */
const char BJ_SQL_REAPER_EXPIRING_END[] =
    "UPDATE reaper_expiring e STRAIGHT_JOIN jobs j ON j.id = e.id SET"
    " j.n_cancelled = j.n_cancelled + j.n_pending + j.n_claimed, j.n_pending = 0,"
    " j.n_claimed = 0, j.stage_remaining = 0, j.state = 'expired',"
    " j.finished_at = NOW(6), j.updated_at = NOW(6), j.version = j.version + 1,"
    " j.artifact_expires_at = IF(j.artifact_deleted_at IS NULL, NOW(6),"
    "  NOW(6) + INTERVAL j.retention_seconds SECOND)"
    " WHERE j.state IN ('queued','running','paused')";

/* the timeline entry bj_job_finish() writes */
const char BJ_SQL_REAPER_EXPIRING_EVENTS[] =
    "INSERT INTO job_events (job_id, at, type, detail)"
    " SELECT id, NOW(6), 'expired', 'expired: past its deadline' FROM reaper_expiring"
    " ORDER BY id";

/* the batch: jobs expired, notifications recorded (one per target), ids as a JSON array */
const char BJ_SQL_REAPER_EXPIRING_SUMMARY[] =
    "SELECT (SELECT COUNT(*) FROM reaper_expiring),"
    " (SELECT COUNT(*) FROM reaper_expiring e STRAIGHT_JOIN job_targets t"
    "  ON t.job_id = e.id), (SELECT JSON_ARRAYAGG(id) FROM reaper_expiring)";

/* --- step 5: artifacts and old rows --- */

/* ix_jobs_artifact_due (003) */
const char BJ_SQL_REAPER_ARTIFACTS_DUE[] =
    "SELECT id, artifact FROM jobs WHERE artifact_deleted_at IS NULL"
    " AND artifact_expires_at < NOW(6) ORDER BY artifact_expires_at LIMIT ?";

/*
 * One due job's row, locked for the rest of its files' transaction: a
 * retry (which locks the row first and clears artifact_expires_at) either
 * committed before, and the job is no longer due, or waits and then finds
 * the files gone (409 FILES_REMOVED).
 */
const char BJ_SQL_REAPER_ARTIFACT_LOCK[] =
    "SELECT artifact FROM jobs WHERE id = ? AND artifact_deleted_at IS NULL"
    " AND artifact_expires_at < NOW(6) FOR UPDATE";

/* claims' Idempotency-Keys past the longest lease (ix_claim_keys_created) */
const char BJ_SQL_REAPER_PURGE_CLAIM_KEYS[] =
    "DELETE FROM claim_keys WHERE created_at < NOW(6) - INTERVAL ? SECOND LIMIT ?";

/* the reaper's own runs, kept as long as ended jobs (ix_reaper_runs_started) */
const char BJ_SQL_REAPER_PURGE_RUNS[] =
    "DELETE FROM reaper_runs WHERE started_at < NOW(6) - INTERVAL ? SECOND LIMIT ?";

/* the intermediate files of a job whose artifact is due (its items, read once per job) */
const char BJ_SQL_REAPER_ITEM_ARTIFACTS[] =
    "SELECT id, artifact FROM items WHERE job_id = ? AND artifact IS NOT NULL LIMIT ?";
const char BJ_SQL_REAPER_ITEM_ARTIFACT_GONE[] =
    "UPDATE items SET artifact = NULL WHERE id = ?";

const char BJ_SQL_REAPER_ARTIFACT_GONE[] =
    "UPDATE jobs SET artifact_deleted_at = NOW(6), version = version + 1"
    " WHERE id = ? AND artifact_deleted_at IS NULL AND artifact_expires_at < NOW(6)";

/*
 * ix_jobs_finished: ended jobs past the purge age whose files are gone.
 * Ending a job sets its artifact_expires_at, and the artifact sweep marks
 * it deleted even without a file of its own: its items' intermediate files
 * go then, so a job whose retention outlasts the purge age keeps its rows
 * (the files' only record) until they are gone. A row without an expiry
 * (written by hand, or by the tests and the bench) has no files to wait
 * for.
 */
const char BJ_SQL_REAPER_PURGE_DUE[] =
    "SELECT id FROM jobs WHERE finished_at < NOW(6) - INTERVAL ? SECOND"
    " AND state IN ('succeeded','failed','cancelled','expired')"
    " AND (artifact_deleted_at IS NOT NULL OR artifact_expires_at IS NULL)"
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

/*
 * One pass over the job's ix_items_job_state entries for the counts (a
 * subquery per counter read them once per counter), one over the open
 * stage's ix_items_claim entries for stage_remaining.
 */
#define RECOUNT \
    "UPDATE jobs j LEFT JOIN (SELECT job_id, COUNT(*) t, SUM(state = 'pending') p," \
    "  SUM(state = 'claimed') c, SUM(state = 'succeeded') s, SUM(state = 'failed') f," \
    "  SUM(state = 'cancelled') x FROM items WHERE job_id = ? GROUP BY job_id) n" \
    " ON n.job_id = j.id SET" \
    " n_total = COALESCE(n.t, 0), n_pending = COALESCE(n.p, 0)," \
    " n_claimed = COALESCE(n.c, 0), n_succeeded = COALESCE(n.s, 0)," \
    " n_failed = COALESCE(n.f, 0), n_cancelled = COALESCE(n.x, 0),"

const char BJ_SQL_JOB_RECOUNT[] =
    RECOUNT
    " stage_remaining = IF(j.state IN ('queued','running','paused'),"
    "  (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.stage = j.stage"
    "   AND i.state IN ('pending','claimed')), 0),"
    " updated_at = NOW(6), version = version + 1"
    " WHERE j.id = ?";

/*
 * The same for a job about to end (bj_reaper_finish): no open stage to
 * count, and never a job that has ended (its counters may count pending
 * rows cancelled already).
 */
const char BJ_SQL_REAPER_RECOUNT_ENDING[] =
    RECOUNT " stage_remaining = 0, updated_at = NOW(6), version = version + 1"
    " WHERE j.id = ? AND j.state IN ('queued','running','paused')";

/*
 * ix_items_state_job (003), read as a loose index scan: terminal jobs that
 * still have pending items, or claimed ones (a failed job's running claims
 * may still finish: the lease sweep ends them when their lease runs out).
 */
#define LEFTOVERS \
    " FROM (SELECT state, job_id FROM items WHERE state IN ('pending','claimed')" \
    "  GROUP BY state, job_id) x" \
    " JOIN jobs j ON j.id = x.job_id" \
    " WHERE ((x.state = 'pending' AND j.state IN ('succeeded','failed','cancelled','expired'))" \
    "  OR (x.state = 'claimed' AND j.state IN ('succeeded','cancelled','expired')))"

/*
 * The inconsistent ones only: pending rows of an ended job whose counters
 * already count them cancelled (bj_job_finish) are waiting for
 * BJ_SQL_REAPER_LEFTOVERS_DUE's sweep, not wrong.
 */
const char BJ_SQL_REAPER_TERMINAL_LEFTOVERS[] =
    "SELECT j.id, j.state, x.state" LEFTOVERS
    " AND (x.state = 'claimed' OR j.n_pending > 0) ORDER BY j.id LIMIT ?";

/* all of them, for the sweep (the last column: 1 when it is a repair) */
const char BJ_SQL_REAPER_LEFTOVERS_DUE[] =
    "SELECT j.id, j.state, x.state, x.state = 'claimed' OR j.n_pending > 0" LEFTOVERS
    " AND j.id > ? ORDER BY j.id LIMIT ?";
