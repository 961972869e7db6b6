/* sql_api.c: SQL texts of the job model, claims, leases and fan-in (see sql.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "create.h"
#include "db.h"
#include "sql.h"

/* ISO 8601 UTC with microseconds, as every JSON time is written. */
#define T(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%fZ')"

/* the times as stored, written out by job.c (bj_rows_iso), the time now last */
#define JOB_COLUMNS \
    "SELECT id, token, kind, owner, title, params, language, state, stage," \
    " stage_count, n_total, n_pending, n_claimed, n_succeeded, n_failed," \
    " n_cancelled, created_at, updated_at, started_at, finished_at, deadline_at," \
    " artifact, artifact_expires_at, artifact_deleted_at IS NOT NULL," \
    " retention_seconds, max_attempts, lease_seconds, on_item_failure," \
    " idempotency_key, priority, max_concurrency, version, round, NOW(6) FROM jobs"

const char BJ_SQL_JOB_GET[] = JOB_COLUMNS " WHERE id = ?";
const char BJ_SQL_JOB_BY_TOKEN[] = JOB_COLUMNS " WHERE token = ?";

const char BJ_SQL_JOB_LOCK[] =
    "SELECT state, stage, stage_remaining, on_item_failure, n_total,"
    " n_succeeded, n_failed, kind FROM jobs WHERE id = ? FOR UPDATE";

const char BJ_SQL_STAGE_LEFT[] =
    "SELECT COUNT(*) FROM items WHERE job_id = ? AND state IN ('pending', 'claimed')"
    " AND stage = ?";

const char BJ_SQL_STAGE_REMAINING_SET[] =
    "UPDATE jobs SET stage_remaining = ?, updated_at = NOW(6), version = version + 1"
    " WHERE id = ? AND stage = ?";

const char BJ_SQL_STAGE_NEXT[] =
    "SELECT MIN(stage) FROM items WHERE job_id = ? AND state = 'pending' AND stage > ?";

const char BJ_SQL_STAGE_OPEN[] =
    "UPDATE jobs SET stage = ?, stage_remaining ="
    " (SELECT COUNT(*) FROM items WHERE job_id = ? AND state = 'pending' AND stage = ?),"
    " updated_at = NOW(6), version = version + 1"
    " WHERE id = ? AND stage = ? AND state IN ('queued', 'running', 'paused')";

const char BJ_SQL_JOB_END[] =
    "UPDATE jobs SET state = ?, finished_at = NOW(6), updated_at = NOW(6), version = version + 1,"
    " artifact_expires_at = NOW(6) + INTERVAL retention_seconds SECOND"
    " WHERE id = ? AND state = ?";

const char BJ_SQL_ITEMS_CANCEL_CLAIMED[] =
    "UPDATE items SET state = 'cancelled', finished_at = NOW(6), lease_token = NULL,"
    " lease_expires_at = NULL WHERE job_id = ? AND state = 'claimed'";

/* n_cancelled first: MariaDB assigns left to right, so it reads the old n_pending */
const char BJ_SQL_JOB_COUNT_CANCEL_LATER[] =
    "UPDATE jobs SET n_cancelled = n_cancelled + n_pending + ?, n_pending = 0,"
    " n_claimed = GREATEST(CAST(n_claimed AS SIGNED) - ?, 0), stage_remaining = 0,"
    " updated_at = NOW(6), version = version + 1 WHERE id = ?";

/*
 * The outbox rows of the jobs in a JSON array of ids, one per target, in
 * each job's current round: one text for every end of a job (settle.c)
 * and the reaper's expiry of a batch. Once per job, round, event and
 * target, whoever records it (uq_notifications). Run after the job's row
 * took its end state: job_at_end keeps the job as it ended, for a
 * delivery after a retry has moved it on.
 */
const char BJ_SQL_OUTBOX_RECORD[] =
    "INSERT INTO notifications (job_id, round, job_at_end, event, channel, target_hash,"
    " target, state, attempts, next_attempt_at, created_at)"
    " SELECT j.id, j.round, JSON_OBJECT('state', j.state, 'stage', j.stage,"
    " 'total', j.n_total, 'pending', j.n_pending, 'claimed', j.n_claimed,"
    " 'succeeded', j.n_succeeded, 'failed', j.n_failed, 'cancelled', j.n_cancelled,"
    " 'finished_at', j.finished_at, 'artifact_expires_at', j.artifact_expires_at),"
    " ?, t.channel, t.target_hash, t.target, 'pending', 0, NOW(6), NOW(6)"
    " FROM JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) x"
    " STRAIGHT_JOIN jobs j ON j.id = x.id STRAIGHT_JOIN job_targets t ON t.job_id = j.id"
    " ON DUPLICATE KEY UPDATE notifications.id = notifications.id";

const char BJ_SQL_EVENT_ADD[] =
    "INSERT INTO job_events (job_id, at, type, detail) VALUES (?, NOW(6), ?, ?)";

/* --- claims (claim.c) --- */

const char BJ_SQL_CLAIM_ITEMS[] =
    "SELECT id FROM items WHERE job_id = ? AND state = 'pending' AND stage = ?"
    " AND run_after <= NOW(6) ORDER BY run_after, id LIMIT ? FOR UPDATE SKIP LOCKED";

/*
 * One batch of claims in one statement: the ids locked by BJ_SQL_CLAIM_ITEMS
 * with a fresh token each, as a JSON array of [id, "token"] pairs.
 */
#define CLAIM_PAIRS \
    "JSON_TABLE(?, '$[*]' COLUMNS (n FOR ORDINALITY, id BIGINT UNSIGNED PATH '$[0]'," \
    " tok CHAR(32) CHARACTER SET ascii COLLATE ascii_bin PATH '$[1]')) t"

/*
 * By primary key, forced: when few items are pending the optimizer would
 * rather walk ix_items_lease's 'pending' range, reading and locking the
 * pending rows of every job on the way (test_complete_batch's plan check
 * saw it once that suite left few pending rows).
 */
const char BJ_SQL_CLAIM_SET[] =
    "UPDATE items i FORCE INDEX (PRIMARY) JOIN " CLAIM_PAIRS " ON i.id = t.id"
    " SET i.state = 'claimed', i.attempt = i.attempt + 1, i.lease_token = t.tok,"
    " i.lease_expires_at = NOW(6) + INTERVAL ? SECOND, i.claimed_by = ?,"
    " i.claimed_at = NOW(6), i.heartbeat_at = NULL WHERE i.state = 'pending'";

/* the job's counters and its pass (its virtual time among its owner's jobs) */
const char BJ_SQL_CLAIM_COUNT[] =
    "UPDATE jobs SET n_pending = n_pending - ?, n_claimed = n_claimed + ?,"
    " pass = pass + ?, updated_at = NOW(6), version = version + 1"
    " WHERE id = ? AND state IN ('queued', 'running') AND stage = ?";

/*
 * A claim's Idempotency-Key: taken in the claim's transaction (a retry
 * running at the same time waits for it, then finds it), the pairs it
 * handed out, and, for a retry, those items still claimed under them.
 */
const char BJ_SQL_CLAIM_KEY_TAKE[] =
    "INSERT INTO claim_keys (key_hash, pairs, created_at) VALUES (?, '[]', NOW(6))";
const char BJ_SQL_CLAIM_KEY_SET[] =
    "UPDATE claim_keys SET pairs = ? WHERE key_hash = ?";
const char BJ_SQL_CLAIM_KEY_GET[] =
    "SELECT pairs FROM claim_keys WHERE key_hash = ?";
const char BJ_SQL_CLAIMED_AGAIN[] =
    "SELECT i.id, i.job_id, j.kind, i.`key`, i.stage, i.payload, i.attempt,"
    " i.lease_token, " T("i.lease_expires_at") " FROM " CLAIM_PAIRS
    " JOIN items i ON i.id = t.id JOIN jobs j ON j.id = i.job_id"
    " WHERE i.lease_token = t.tok AND i.state = 'claimed' ORDER BY t.n";

const char BJ_SQL_JOB_START[] =
    "UPDATE jobs SET state = 'running', started_at = COALESCE(started_at, NOW(6)),"
    " version = version + 1"
    " WHERE id = ? AND state = 'queued'";

const char BJ_SQL_CLAIMED_LIST[] =
    "SELECT i.id, i.job_id, j.kind, i.`key`, i.stage, i.payload, i.attempt,"
    " i.lease_token, " T("i.lease_expires_at") " FROM " CLAIM_PAIRS
    " JOIN items i ON i.id = t.id JOIN jobs j ON j.id = i.job_id"
    " WHERE i.lease_token = t.tok ORDER BY t.n";

/*
 * The claim's candidates for n kinds: the active queues of each kind in
 * pass order (ix_claim_queues_pass, so each part reads only the rows it
 * returns), merged by pass. Texts for 1..BJ_SQL_MAX_KINDS, built once.
 */
const char *
bj_sql_claim_queues(int nkinds)
{
	static char texts[BJ_SQL_MAX_KINDS][BJ_SQL_MAX_KINDS * 160];
	char *t;

	if (nkinds < 1 || nkinds > BJ_SQL_MAX_KINDS)
		return NULL;
	t = texts[nkinds - 1];
	if (t[0] == '\0') {
		size_t len = 0;

		for (int i = 0; i < nkinds; i++)
			len += (size_t)snprintf(t + len, sizeof texts[0] - len,
			    "%s(SELECT kind, owner, pass FROM claim_queues"
			    " WHERE kind = ? AND active = 1 ORDER BY pass LIMIT %d)",
			    i ? " UNION ALL " : "", BJ_CLAIM_QUEUES);
		snprintf(t + len, sizeof texts[0] - len, " ORDER BY pass LIMIT %d",
		    BJ_CLAIM_QUEUES);
	}
	return t;
}

/* A candidate queue, locked for this claim unless another claimer holds it. */
const char BJ_SQL_QUEUE_TRY[] =
    "SELECT active FROM claim_queues WHERE kind = ? AND owner = ? FOR UPDATE SKIP LOCKED";

/* An owner's claimable jobs of a kind, least served first (ix_jobs_claim). */
const char BJ_SQL_QUEUE_JOBS[] =
    "SELECT id, stage, lease_seconds, priority, COALESCE(max_concurrency, 0), state, pass"
    " FROM jobs FORCE INDEX (ix_jobs_claim)"
    " WHERE kind = ? AND owner = ? AND claimable = 1 AND deadline_at > NOW(6)"
    " ORDER BY pass, id LIMIT " BJ_STR(BJ_CLAIM_QUEUE_JOBS);

/*
 * A queue's pass after a claim that holds its row: the cost of what it
 * got and what claims without the row owe it (claim_debts, folded in).
 */
const char BJ_SQL_QUEUE_CHARGE[] =
    "UPDATE claim_queues q LEFT JOIN claim_debts d ON d.kind = q.kind AND d.owner = q.owner"
    " SET q.pass = q.pass + ? + COALESCE(d.debt, 0), d.debt = 0"
    " WHERE q.kind = ? AND q.owner = ?";
/* What a claim without the queue's row owes its pass. */
const char BJ_SQL_QUEUE_OWE[] =
    "INSERT INTO claim_debts (kind, owner, debt) VALUES (?, ?, ?)"
    " ON DUPLICATE KEY UPDATE debt = debt + VALUES(debt)";
/* A queue raised past another's pass (nothing due) */
const char BJ_SQL_QUEUE_RAISE[] =
    "UPDATE claim_queues SET pass = GREATEST(pass, ?) WHERE kind = ? AND owner = ?";
const char BJ_SQL_JOB_RAISE[] =
    "UPDATE jobs SET pass = GREATEST(pass, ?) WHERE id = ?";
/* A queue with no claimable job left; the claimer holds its row lock. */
const char BJ_SQL_QUEUE_IDLE[] =
    "UPDATE claim_queues SET active = 0 WHERE kind = ? AND owner = ?";

/*
 * A job's queue becomes active (job creation, resume). A queue that was
 * idle comes back at the least pass of the kind's active queues, and the
 * job at the least of its owner's claimable jobs, so that nothing is
 * owed for the time they waited.
 */
const char BJ_SQL_QUEUE_FLOOR[] =
    "SELECT COALESCE(MIN(pass), 0) FROM claim_queues WHERE kind = ? AND active = 1";
const char BJ_SQL_QUEUE_JOIN[] =
    "INSERT INTO claim_queues (kind, owner, active, pass) VALUES (?, ?, 1, ?)"
    " ON DUPLICATE KEY UPDATE pass = IF(active = 1, pass, GREATEST(pass, VALUES(pass))),"
    " active = 1";
const char BJ_SQL_JOB_FLOOR[] =
    "SELECT COALESCE(MIN(pass), 0) FROM jobs FORCE INDEX (ix_jobs_claim)"
    " WHERE kind = ? AND owner = ? AND claimable = 1 AND id <> ?";
const char BJ_SQL_JOB_QUEUE[] =
    "SELECT kind, owner FROM jobs WHERE id = ?";

/* A limited job's claimed items, read under its row lock. */
const char BJ_SQL_JOB_CLAIMED_LOCK[] =
    "SELECT n_claimed FROM jobs WHERE id = ? FOR UPDATE";

/*
 * Per-owner and per-kind limits: the scope's row serialises the claimers
 * of that scope; under it, the items claimed now are the sum of the
 * counters of the scope's jobs that have not ended (read committed, so
 * every claim that held the row before is seen).
 */
const char BJ_SQL_LIMIT_LOCK[] =
    "INSERT INTO claim_limits (scope, name) VALUES (?, ?) ON DUPLICATE KEY UPDATE name = name";
const char BJ_SQL_OWNER_CLAIMED[] =
    "SELECT COALESCE(SUM(n_claimed), 0) FROM jobs FORCE INDEX (ix_jobs_owner_state)"
    " WHERE owner = ? AND state IN ('queued', 'running', 'paused')";
const char BJ_SQL_KIND_CLAIMED[] =
    "SELECT COALESCE(SUM(n_claimed), 0) FROM jobs FORCE INDEX (ix_jobs_state_kind)"
    " WHERE state IN ('queued', 'running', 'paused') AND kind = ?";

/* --- leases (lease.c) --- */


/* 1 when it succeeded under token, 2 when a failure was reported under it, else 0 */
const char BJ_SQL_ITEM_DONE_UNDER[] =
    "SELECT IF(i.state = 'succeeded' AND i.lease_token <=> ?, 1,"
    " IF(EXISTS (SELECT 1 FROM item_failures f WHERE f.item_id = i.id AND f.lease_token = ?),"
    " 2, 0)) FROM items i WHERE i.id = ?";

/*
 * The item's lease and progress show in the job's item list: its version
 * moves too. The item is locked before its job, the order of completions.
 */
const char BJ_SQL_LEASE_HEARTBEAT[] =
    "UPDATE items i STRAIGHT_JOIN jobs j ON j.id = i.job_id"
    " SET i.lease_expires_at = NOW(6) + INTERVAL IF(? > 0, ?, j.lease_seconds) SECOND,"
    " i.progress_done = COALESCE(?, i.progress_done),"
    " i.progress_total = COALESCE(?, i.progress_total), i.heartbeat_at = NOW(6),"
    " j.version = j.version + 1"
    " WHERE i.id = ? AND i.state = 'claimed' AND i.lease_token = ?";

const char BJ_SQL_LEASE_STATUS[] =
    "SELECT " T("i.lease_expires_at") ", j.state, i.state FROM items i JOIN jobs j"
    " ON j.id = i.job_id WHERE i.id = ?";

const char BJ_SQL_LEASE_HOLDER[] =
    "SELECT i.job_id, i.stage, i.attempt, j.max_attempts + i.attempt_base,"
    " j.on_item_failure, j.kind, TIMESTAMPDIFF(MICROSECOND, i.claimed_at, NOW(6)) / 1e6,"
    " i.attempt - i.attempt_base"
    " FROM items i JOIN jobs j ON j.id = i.job_id"
    " WHERE i.id = ? AND i.state = 'claimed' AND i.lease_token = ? FOR UPDATE";

const char BJ_SQL_ITEM_RETRY[] =
    "UPDATE items SET state = 'pending', error = ?, lease_token = NULL,"
    " lease_expires_at = NULL, claimed_by = NULL,"
    " run_after = NOW(6) + INTERVAL ? SECOND"
    " WHERE id = ? AND state = 'claimed' AND lease_token = ?";

const char BJ_SQL_ITEM_FAIL[] =
    "UPDATE items SET state = 'failed', error = ?, finished_at = NOW(6),"
    " lease_token = NULL, lease_expires_at = NULL"
    " WHERE id = ? AND state = 'claimed' AND lease_token = ?";

/* with the worker that held the attempt (the console's failures and workers) */
const char BJ_SQL_FAILURE_RECORD[] =
    "INSERT INTO item_failures (item_id, job_id, attempt, error, failed_at, lease_token,"
    " worker) SELECT id, ?, ?, ?, NOW(6), ?, claimed_by FROM items WHERE id = ?"
    " ON DUPLICATE KEY UPDATE error = VALUES(error), lease_token = VALUES(lease_token)";

/* an item of stage failed for good */
const char BJ_SQL_COUNT_FAILED[] =
    "UPDATE jobs SET n_claimed = IF(n_claimed > 0, n_claimed - 1, 0),"
    " n_failed = n_failed + 1,"
    " stage_remaining = IF(stage = ? AND stage_remaining > 0, stage_remaining - 1,"
    " stage_remaining), updated_at = NOW(6), version = version + 1 WHERE id = ?";

const char BJ_SQL_COUNT_RETRY[] =
    "UPDATE jobs SET n_claimed = IF(n_claimed > 0, n_claimed - 1, 0),"
    " n_pending = n_pending + 1, updated_at = NOW(6), version = version + 1 WHERE id = ?";

/* --- job creation (create.c) --- */

const char BJ_SQL_JOB_BY_IDEM[] =
    "SELECT id, request_hash FROM jobs WHERE owner = ? AND idempotency_key = ?";

const char BJ_SQL_JOB_INSERT[] =
    "INSERT INTO jobs (token, kind, owner, title, params, state, stage, stage_count,"
    " stage_remaining, n_total, n_pending, created_at, updated_at, deadline_at,"
    " retention_seconds, idempotency_key, request_hash, max_attempts, lease_seconds,"
    " on_item_failure, language, priority, max_concurrency) VALUES (?, ?, ?, ?, ?, 'queued',"
    " ?, ?, ?, ?, ?, NOW(6), NOW(6), NOW(6) + INTERVAL ? SECOND, ?, ?, ?, ?, ?, ?, ?, ?,"
    " NULLIF(?, 0))";

const char BJ_SQL_TARGET_INSERT[] =
    "INSERT IGNORE INTO job_targets (job_id, channel, target_hash, target) VALUES (?, ?, ?, ?)";

/* Multi-row item INSERT of n rows (1 or BJ_SQL_ITEM_BATCH), built once. */
const char *
bj_sql_items_insert(int n)
{
	static char *batch, *single;
	struct { char **slot; int rows; } want = { n == 1 ? &single : &batch, n };
	char *t, *p;
	static const char head[] = "INSERT INTO items (job_id, stage, `key`, payload, run_after)"
	    " VALUES ";
	static const char row[] = "(?, ?, ?, ?, NOW(6))";

	if (n != 1 && n != BJ_SQL_ITEM_BATCH)
		return NULL;
	if (*want.slot != NULL)
		return *want.slot;
	t = bj_xmalloc(sizeof head + (size_t)want.rows * (sizeof row + 1));
	p = t + snprintf(t, sizeof head, "%s", head);
	for (int i = 0; i < want.rows; i++)
		p += sprintf(p, "%s%s", i ? "," : "", row);
	*want.slot = t;
	return t;
}

struct item_rows {
	long long			 job;
	const struct bj_item_spec	*items;
};

/* The parameters of item i's row (bj_sql_items_insert's four). */
static void
item_row(void *arg, size_t i, struct bj_param *p)
{
	const struct item_rows *a = arg;
	const struct bj_item_spec *it = &a->items[i];

	p[0] = BJ_P_INT(a->job);
	p[1] = BJ_P_INT(it->stage);
	p[2] = BJ_P_STR(it->key);
	p[3] = BJ_P_STR(it->payload);
}

int
bj_sql_items_bulk(struct bj_db *db, long long job, const struct bj_item_spec *items, size_t n)
{
	struct item_rows a = { job, items };
	struct bj_db_batch b = {
		.many = bj_sql_items_insert(BJ_SQL_ITEM_BATCH),
		.one = bj_sql_items_insert(1),
		.rows = BJ_SQL_ITEM_BATCH,
		.cols = 4,
		.max_bytes = BJ_SQL_BATCH_BYTES,
		.fill = item_row,
		.arg = &a,
	};

	return bj_db_exec_batch(db, &b, n);
}

/* --- pause, resume, lists (settle.c, job.c, api_jobs.c) --- */

const char BJ_SQL_JOB_PAUSE[] =
    "UPDATE jobs SET state = 'paused', updated_at = NOW(6), version = version + 1"
    " WHERE id = ? AND state IN ('queued', 'running')";

const char BJ_SQL_JOB_RESUME[] =
    "UPDATE jobs SET state = IF(started_at IS NULL, 'queued', 'running'),"
    " updated_at = NOW(6), version = version + 1 WHERE id = ? AND state = 'paused'";

/* --- retry of a failed job (settle.c) --- */

const char BJ_SQL_JOB_RETRY_LOCK[] =
    "SELECT state, round, artifact_deleted_at IS NOT NULL FROM jobs WHERE id = ? FOR UPDATE";

/*
 * ix_items_job_state: its failed items, the ones its failure cancelled and
 * the pending rows still waiting for the reaper to cancel them, back to
 * pending, each with max_attempts attempts from the one it reached.
 */
const char BJ_SQL_ITEMS_RETRY[] =
    "UPDATE items SET attempt_base = attempt, run_after = NOW(6), finished_at = NULL,"
    " claimed_by = NULL, claimed_at = NULL, lease_token = NULL, lease_expires_at = NULL,"
    " state = 'pending' WHERE job_id = ? AND state IN ('failed', 'cancelled', 'pending')";
/* A claim of the failed round still running gets the new round's budget too (its attempt is the first). */
const char BJ_SQL_ITEMS_RETRY_CLAIMED[] =
    "UPDATE items SET attempt_base = attempt - 1 WHERE job_id = ? AND state = 'claimed'";

/*
 * The next round: running again (queued if nothing was ever claimed), the
 * open stage the lowest with items to do, and as long to its deadline as
 * it was given at its creation. Binds i job, i round.
 */
const char BJ_SQL_JOB_RETRY_START[] =
    "UPDATE jobs SET state = IF(started_at IS NULL, 'queued', 'running'), round = round + 1,"
    " stage = COALESCE((SELECT MIN(i.stage) FROM items i WHERE i.job_id = jobs.id"
    "  AND i.state IN ('pending', 'claimed')), stage),"
    " deadline_at = NOW(6) + INTERVAL TIMESTAMPDIFF(MICROSECOND, created_at, deadline_at)"
    "  MICROSECOND,"
    " finished_at = NULL, artifact_expires_at = NULL, updated_at = NOW(6),"
    " version = version + 1 WHERE id = ? AND state = 'failed' AND round = ?";

/*
 * The job list, newest first, for the filters in mask (1 owner, 2 state,
 * 4 kind): eight texts, built once. Binds: the set filters in that order,
 * then i before-id, i limit.
 */
const char *
bj_sql_jobs_list(int mask)
{
	static char texts[8][1200];
	char *t;
	size_t o;

	if (mask < 0 || mask > 7)
		return NULL;
	t = texts[mask];
	if (t[0] != '\0')
		return t;
	o = (size_t)snprintf(t, sizeof texts[0], "%s WHERE 1", JOB_COLUMNS);
	if (mask & 1)
		o += (size_t)snprintf(t + o, sizeof texts[0] - o, " AND owner = ?");
	if (mask & 2)
		o += (size_t)snprintf(t + o, sizeof texts[0] - o, " AND state = ?");
	if (mask & 4)
		o += (size_t)snprintf(t + o, sizeof texts[0] - o, " AND kind = ?");
	snprintf(t + o, sizeof texts[0] - o, " AND id < ? ORDER BY id DESC LIMIT ?");
	return t;
}

/* a pending item of an ended job waits to be cancelled: it is shown cancelled */
#define ITEM_STATE \
    "IF(state = 'pending' AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = items.job_id" \
    " AND j.state IN ('succeeded','failed','cancelled','expired')), 'cancelled', state)"

#define ITEM_COLUMNS \
    "SELECT id, job_id, `key`, stage, " ITEM_STATE ", attempt, error, result, artifact," \
    " claimed_by, " T("lease_expires_at") ", progress_done, progress_total," \
    " " T("finished_at") " FROM items"

const char BJ_SQL_ITEMS_FIRST[] = "SELECT MIN(id) FROM items WHERE job_id = ?";

const char BJ_SQL_ITEMS_LIST[] =
    ITEM_COLUMNS " FORCE INDEX (PRIMARY) WHERE id > ? AND job_id = ? ORDER BY id LIMIT ?";

const char BJ_SQL_ITEMS_LIST_STATE[] =
    ITEM_COLUMNS " WHERE job_id = ? AND state = ? AND id > ? ORDER BY id LIMIT ?";

/*
 * ?state=cancelled of an ended job: its cancelled rows and its pending
 * ones (cancelled in effect, until the reaper gets to them), each read as
 * an ordered range of ix_items_job_state and at most limit rows, merged.
 * One IN over both states would read and sort every row after the cursor
 * on every page.
 */
const char BJ_SQL_ITEMS_LIST_ENDED[] =
    "(" ITEM_COLUMNS " WHERE job_id = ? AND state = 'cancelled' AND id > ? ORDER BY id LIMIT ?)"
    " UNION ALL"
    " (" ITEM_COLUMNS " WHERE job_id = ? AND state = 'pending' AND id > ? ORDER BY id LIMIT ?)"
    " ORDER BY id LIMIT ?";

const char BJ_SQL_ITEM_GET[] = ITEM_COLUMNS " WHERE id = ?";

const char BJ_SQL_EVENTS_LIST[] =
    "SELECT " T("at") ", type, detail FROM job_events WHERE job_id = ? AND id > ?"
    " ORDER BY id LIMIT ?";

const char BJ_SQL_JOB_STATE[] = "SELECT state FROM jobs WHERE id = ?";

/* --- /metrics (api_metrics.c) --- */

const char BJ_SQL_METRICS_JOBS[] = "SELECT state, COUNT(*) FROM jobs GROUP BY state";

const char BJ_SQL_METRICS_ITEMS[] =
    "SELECT COALESCE(SUM(n_pending), 0), COALESCE(SUM(n_claimed), 0),"
    " COALESCE(SUM(n_succeeded), 0), COALESCE(SUM(n_failed), 0),"
    " COALESCE(SUM(n_cancelled), 0) FROM jobs";

const char BJ_SQL_METRICS_OLDEST[] =
    "SELECT COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(i.run_after), NOW(6)), 0) / 1000000"
    " FROM jobs j FORCE INDEX (ix_jobs_state_kind) JOIN items i ON i.job_id = j.id"
    " AND i.state = 'pending' AND i.stage = j.stage AND i.run_after <= NOW(6)"
    " WHERE j.state IN ('queued', 'running')";

const char BJ_SQL_METRICS_NOTIFY[] =
    "SELECT state, COUNT(*) FROM notifications GROUP BY state";

/* --- operator requeue (lease.c) --- */

const char BJ_SQL_REQUEUE_LOCK[] =
    "SELECT i.job_id, i.state, i.stage, j.state, j.stage FROM items i JOIN jobs j"
    " ON j.id = i.job_id WHERE i.id = ? FOR UPDATE";

const char BJ_SQL_ITEM_REQUEUE[] =
    "UPDATE items SET state = 'pending', lease_token = NULL, lease_expires_at = NULL,"
    " claimed_by = NULL, finished_at = NULL, run_after = NOW(6)"
    " WHERE id = ? AND state = ?";

const char BJ_SQL_COUNT_REQUEUE[] =
    "UPDATE jobs SET n_pending = n_pending + 1,"
    " n_claimed = n_claimed - IF(? = 'claimed', 1, 0),"
    " n_failed = n_failed - IF(? = 'failed', 1, 0),"
    " n_cancelled = n_cancelled - IF(? = 'cancelled', 1, 0),"
    " stage_remaining = stage_remaining + IF(? = 'claimed' OR stage <> ?, 0, 1),"
    " updated_at = NOW(6), version = version + 1 WHERE id = ?";

/* --- batch completions (lease.c) --- */

/*
 * A locking read on purpose: it locks the items in the array's order (ids
 * ascending) before any job row, the order every completion takes.
 */
const char BJ_SQL_ITEMS_LOCATE[] =
    "SELECT t.n, i.job_id, i.stage, i.state, i.lease_token,"
    " (SELECT j.kind FROM jobs j WHERE j.id = i.job_id),"
    " TIMESTAMPDIFF(MICROSECOND, i.claimed_at, NOW(6)) / 1e6"
    " FROM JSON_TABLE(?, '$[*]' COLUMNS"
    " (n FOR ORDINALITY, id BIGINT UNSIGNED PATH '$')) t JOIN items i ON i.id = t.id"
    " FOR UPDATE";

/*
 * The items of a batch that succeed, as a JSON array of [id, "token",
 * result, artifact] (result is JSON text as a string; null for none). A
 * succeeded item keeps the token it was completed under, so that a
 * completion retried after a lost answer can be told it already counted.
 */
const char BJ_SQL_ITEMS_SUCCEED[] =
    "UPDATE items i FORCE INDEX (PRIMARY) JOIN JSON_TABLE(?, '$[*]' COLUMNS"
    " (id BIGINT UNSIGNED PATH '$[0]',"
    " tok CHAR(32) CHARACTER SET ascii COLLATE ascii_bin PATH '$[1]',"
    " res LONGTEXT CHARACTER SET utf8mb4 PATH '$[2]',"
    " art VARCHAR(1024) CHARACTER SET utf8mb4 PATH '$[3]')) t ON i.id = t.id"
    " SET i.state = 'succeeded', i.result = t.res, i.artifact = t.art,"
    " i.finished_at = NOW(6), i.lease_expires_at = NULL"
    " WHERE i.state = 'claimed' AND i.lease_token = t.tok";

/* n items of stage succeeded (the counters of BJ_SQL_COUNT_FAILED, for success and n items) */
const char BJ_SQL_COUNT_SUCCEEDED[] =
    "UPDATE jobs SET n_claimed = IF(n_claimed > ?, n_claimed - ?, 0),"
    " n_succeeded = n_succeeded + ?,"
    " stage_remaining = IF(stage = ?, IF(stage_remaining > ?, stage_remaining - ?, 0),"
    " stage_remaining), artifact = COALESCE(?, artifact), updated_at = NOW(6), version = version + 1"
    " WHERE id = ?";
