/*
 * test_reaper.c: the reaper's steps against a real MariaDB, with rows
 * planted in every awkward state: lost claims, a failure record that
 * already exists (Solid Queue #699), terminal jobs with claimed items,
 * drifted counters, deadlines, artifacts around symlinks; two sweeps at
 * once; a sweep killed with SIGKILL and run again.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "claim.h"
#include "harness.h"
#include "job.h"
#include "lease.h"
#include "reaper.h"
#include "sql.h"

static struct bj_db *db;
static struct bj_conf *conf;
static char artroot[600];
static char outside[600];

static int
init(void)
{
	db = bj_test_db("reaper");
	conf = bj_test_conf("reaper");
	snprintf(artroot, sizeof artroot, "%s", bj_test_path("reaper-artifacts"));
	snprintf(outside, sizeof outside, "%s", bj_test_path("reaper-outside"));
	mkdir(artroot, 0755);
	mkdir(outside, 0755);
	free(conf->artifacts_root);
	conf->artifacts_root = bj_xstrdup(artroot);
	return 0;
}

/* A reaper on the test connection, without the lock, in small batches. */
static void
reaper_init(struct bj_reaper *r, struct bj_db *d, int batch)
{
	memset(r, 0, sizeof *r);
	r->conf = conf;
	r->db = d;
	r->batch = batch;
	r->cancel_left = conf->cancel_seconds;
}

/* A formatted statement (asserting success), and a formatted scalar query. */
#define sqlf(...)	bj_test_sqlf(db, __VA_ARGS__)
#define scalarf(...)	bj_test_scalarf(db, __VA_ARGS__)

static int token_seq;

/* Plant a job (two notification targets); deadline is seconds from now. */
static long long
plant_job(const char *state, int max_attempts, const char *on_fail, int deadline)
{
	long long id;

	token_seq++;
	sqlf("INSERT INTO jobs (token, kind, owner, state, created_at, updated_at, started_at,"
	    " deadline_at, retention_seconds, max_attempts, lease_seconds, on_item_failure)"
	    " VALUES (LPAD('%d', 32, 't'), 'export', 'alice', '%s', NOW(6), NOW(6), NOW(6),"
	    " NOW(6) + INTERVAL %d SECOND, 3600, %d, 60, '%s')",
	    token_seq, state, deadline, max_attempts, on_fail);
	id = (long long)bj_db_insert_id(db);
	sqlf("INSERT INTO job_targets (job_id, channel, target_hash, target) VALUES"
	    " (%lld, 'email', SHA2('a@example.org', 256), 'a@example.org'),"
	    " (%lld, 'webhook', SHA2('http://127.0.0.1:9/h', 256), 'http://127.0.0.1:9/h')",
	    id, id);
	return id;
}

/* Plant an item; lease is seconds from now (negative: expired) for claimed ones. */
static long long
plant_item(long long job, int stage, const char *state, int attempt, int lease)
{
	sqlf("INSERT INTO items (job_id, stage, `key`, state, attempt, lease_token,"
	    " lease_expires_at, claimed_by, run_after, finished_at) VALUES (%lld, %d,"
	    " CONCAT('k', UUID_SHORT()), '%s', %d, IF('%s' = 'claimed', LPAD('x', 32, 'x'), NULL),"
	    " IF('%s' = 'claimed', NOW(6) + INTERVAL %d SECOND, NULL),"
	    " IF('%s' = 'claimed', 'w1', NULL), NOW(6),"
	    " IF('%s' IN ('succeeded','failed','cancelled'), NOW(6), NULL))",
	    job, stage, state, attempt, state, state, lease, state, state);
	return (long long)bj_db_insert_id(db);
}

/* Set a job's counters from its items, as the API keeps them. */
static void
count_job(long long job)
{
	sqlf("UPDATE jobs j SET n_total = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id),"
	    " n_pending = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'pending'),"
	    " n_claimed = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'claimed'),"
	    " n_succeeded = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'succeeded'),"
	    " n_failed = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'failed'),"
	    " n_cancelled = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'cancelled'),"
	    " stage_count = (SELECT COUNT(DISTINCT stage) FROM items i WHERE i.job_id = j.id),"
	    " stage_remaining = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id"
	    "  AND i.stage = j.stage AND i.state IN ('pending','claimed'))"
	    " WHERE j.id = %lld", job);
}

/* 1 when the job's stored counters match its items. */
static int
counts_ok(long long job)
{
	return scalarf("SELECT COUNT(*) FROM jobs j WHERE j.id = %lld"
	    " AND n_total = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id)"
	    " AND n_pending = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'pending')"
	    " AND n_claimed = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'claimed')"
	    " AND n_succeeded = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'succeeded')"
	    " AND n_failed = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'failed')"
	    " AND n_cancelled = (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'cancelled')",
	    job) == 1;
}

static int
job_state_is(long long job, const char *state)
{
	return scalarf("SELECT COUNT(*) FROM jobs WHERE id = %lld AND state = '%s'", job, state) == 1;
}

static int
item_state_is(long long item, const char *state)
{
	return scalarf("SELECT COUNT(*) FROM items WHERE id = %lld AND state = '%s'", item, state) == 1;
}

static long long
notifications(long long job, const char *event)
{
	return scalarf("SELECT COUNT(*) FROM notifications WHERE job_id = %lld AND event = '%s'",
	    job, event);
}

/* A lost claim with attempts left comes back as pending, later, with a failure record. */
static void
test_lost_claim_requeued(void)
{
	struct bj_reaper r;
	long long job = plant_job("running", 3, "fail_job", 3600);
	long long lost = plant_item(job, 0, "claimed", 1, -5);
	long long live = plant_item(job, 0, "claimed", 1, 300);

	count_job(job);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_orphans(&r), 0);
	CU_ASSERT(item_state_is(lost, "pending"));
	CU_ASSERT(item_state_is(live, "claimed"));
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld AND lease_token IS NULL"
	    " AND claimed_by IS NULL AND run_after > NOW(6)", lost), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld AND attempt = 1",
	    lost), 1);
	CU_ASSERT_EQUAL(r.st.requeued, 1);
	CU_ASSERT(job_state_is(job, "running"));
	CU_ASSERT(counts_ok(job));
	/* a second run finds nothing to do */
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_orphans(&r), 0);
	CU_ASSERT_EQUAL(r.st.requeued, 0);
}

/*
 * A retried job's items count their attempts from the retry (attempt_base):
 * a lost claim on the round's first attempt is requeued after the first
 * back-off (not failed, not the long back-off of its fourth attempt
 * overall), and one that used the round's every attempt fails.
 */
static void
test_lost_claim_of_retried_job(void)
{
	struct bj_reaper r;
	long long job = plant_job("running", 3, "continue", 3600);
	long long again = plant_item(job, 0, "claimed", 4, -5);
	long long spent = plant_item(job, 0, "claimed", 6, -5);

	sqlf("UPDATE items SET attempt_base = 3 WHERE job_id = %lld", job);
	sqlf("UPDATE jobs SET round = 2 WHERE id = %lld", job);
	count_job(job);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_orphans(&r), 0);
	CU_ASSERT(item_state_is(again, "pending"));
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld"
	    " AND run_after > NOW(6) AND run_after <= NOW(6) + INTERVAL %d SECOND",
	    again, BJ_BACKOFF_FIRST), 1);
	CU_ASSERT(item_state_is(spent, "failed"));
	CU_ASSERT_EQUAL(r.st.requeued, 1);
	CU_ASSERT(job_state_is(job, "running"));
	CU_ASSERT(counts_ok(job));
}

/*
 * Solid Queue #699: the failure record of the attempt already exists. The
 * sweep keeps it, fails the item, fails the job once, and goes on.
 */
static void
test_existing_failure_record(void)
{
	struct bj_reaper r;
	long long job = plant_job("running", 2, "fail_job", 3600);
	long long item = plant_item(job, 0, "claimed", 2, -5);
	long long other = plant_item(job, 0, "pending", 0, 0);

	count_job(job);
	sqlf("INSERT INTO item_failures (item_id, job_id, attempt, error, failed_at)"
	    " VALUES (%lld, %lld, 2, 'boom', NOW(6))", item, job);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_orphans(&r), 0);
	CU_ASSERT(item_state_is(item, "failed"));
	CU_ASSERT(item_state_is(other, "cancelled"));
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld", item), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld"
	    " AND error = 'boom'", item), 1);
	CU_ASSERT(job_state_is(job, "failed"));
	CU_ASSERT_EQUAL(notifications(job, "job.failed"), 2);
	CU_ASSERT(counts_ok(job));
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
	CU_ASSERT_EQUAL(notifications(job, "job.failed"), 2);
}

/* A claim whose attempt already failed (live lease) is ended by the repair step. */
static void
test_claim_with_failure_record(void)
{
	struct bj_reaper r;
	long long job = plant_job("running", 3, "fail_job", 3600);
	long long item = plant_item(job, 0, "claimed", 1, 300);

	count_job(job);
	sqlf("INSERT INTO item_failures (item_id, job_id, attempt, error, failed_at)"
	    " VALUES (%lld, %lld, 1, 'worker said no', NOW(6))", item, job);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_repair(&r), 0);
	CU_ASSERT(item_state_is(item, "pending"));
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld"
	    " AND error = 'worker said no'", item), 1);
	CU_ASSERT_EQUAL(r.st.repairs, 1);
	CU_ASSERT(counts_ok(job));
	CU_ASSERT(job_state_is(job, "running"));
}

/* A lost claim whose job row is gone is cancelled, not left to block the sweep. */
static void
test_lost_claim_of_missing_job(void)
{
	struct bj_reaper r;
	long long job = plant_job("running", 3, "fail_job", 3600);
	long long item = plant_item(job, 0, "claimed", 1, -5);

	sqlf("DELETE FROM jobs WHERE id = %lld", job);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_orphans(&r), 0);
	CU_ASSERT(item_state_is(item, "cancelled"));
	CU_ASSERT_EQUAL(r.st.repairs, 1);
}

/* on_item_failure=continue: the last item failing ends the job, notified once. */
static void
test_continue_ends_job(void)
{
	struct bj_reaper r;
	long long job = plant_job("running", 1, "continue", 3600);
	long long ok = plant_item(job, 0, "succeeded", 1, 0);
	long long bad = plant_item(job, 0, "claimed", 1, -1);

	count_job(job);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_orphans(&r), 0);
	CU_ASSERT(item_state_is(ok, "succeeded"));
	CU_ASSERT(item_state_is(bad, "failed"));
	/* continue: some items succeeded, so the job did (bj_job_settle's rule) */
	CU_ASSERT(job_state_is(job, "succeeded"));
	CU_ASSERT_EQUAL(notifications(job, "job.succeeded"), 2);
	CU_ASSERT_EQUAL(notifications(job, "job.failed"), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM job_events WHERE job_id = %lld"
	    " AND type = 'finished'", job), 1);
	CU_ASSERT(counts_ok(job));
}

/*
 * A batch that fails after one of its jobs has ended is rolled back whole,
 * and so is its count: the run reports nothing it did not commit. Here the
 * second job's notifications are refused (a trigger) after the first job
 * failed in the same transaction.
 */
static void
test_rolled_back_batch_not_counted(void)
{
	struct bj_reaper r;
	long long a = plant_job("running", 1, "fail_job", 3600);
	long long b = plant_job("running", 1, "fail_job", 3600);
	long long ia = plant_item(a, 0, "claimed", 1, -5);
	long long ib = plant_item(b, 0, "claimed", 1, -5);

	count_job(a);
	count_job(b);
	sqlf("CREATE TRIGGER refuse_outbox BEFORE INSERT ON notifications FOR EACH ROW"
	    " IF NEW.job_id = %lld THEN SIGNAL SQLSTATE '45000'"
	    " SET MESSAGE_TEXT = 'refused'; END IF", b);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_orphans(&r), -1);
	sqlf("DROP TRIGGER refuse_outbox");
	CU_ASSERT(job_state_is(a, "running"));
	CU_ASSERT(item_state_is(ia, "claimed"));
	CU_ASSERT_EQUAL(notifications(a, "job.failed"), 0);
	CU_ASSERT_EQUAL(r.st.finished, 0);
	CU_ASSERT_EQUAL(r.st.notifications, 0);
	CU_ASSERT_EQUAL(r.st.items_failed, 0);
	/* the next run does it all, and counts it once */
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_orphans(&r), 0);
	CU_ASSERT(job_state_is(a, "failed"));
	CU_ASSERT(job_state_is(b, "failed"));
	CU_ASSERT(item_state_is(ib, "failed"));
	CU_ASSERT_EQUAL(r.st.finished, 2);
	CU_ASSERT_EQUAL(r.st.notifications, 4);
	CU_ASSERT_EQUAL(r.st.items_failed, 2);
}

/* Fan-in: a stage whose items all ended opens the next; the last one ends the job. */
static void
test_stage_advance_and_success(void)
{
	struct bj_reaper r;
	long long job = plant_job("running", 3, "fail_job", 3600);
	long long a, b;

	plant_item(job, 0, "succeeded", 1, 0);
	plant_item(job, 0, "succeeded", 1, 0);
	a = plant_item(job, 1, "pending", 0, 0);
	b = plant_item(job, 1, "pending", 0, 0);
	count_job(job);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_stages(&r), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT stage FROM jobs WHERE id = %lld", job), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT stage_remaining FROM jobs WHERE id = %lld", job), 2);
	CU_ASSERT(job_state_is(job, "running"));
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM job_events WHERE job_id = %lld"
	    " AND type = 'stage_advanced'", job), 1);

	/* the workers finish stage 1 but the API crashed before its fan-in */
	sqlf("UPDATE items SET state = 'succeeded', finished_at = NOW(6),"
	    " artifact = IF(id = %lld, 'exports/final.zip', NULL) WHERE id IN (%lld, %lld)", b, a, b);
	sqlf("UPDATE jobs SET artifact = 'exports/final.zip' WHERE id = %lld", job);
	count_job(job);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_stages(&r), 0);
	CU_ASSERT(job_state_is(job, "succeeded"));
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id = %lld AND artifact ="
	    " 'exports/final.zip' AND finished_at IS NOT NULL AND artifact_expires_at > NOW(6)", job), 1);
	CU_ASSERT_EQUAL(notifications(job, "job.succeeded"), 2);
	CU_ASSERT_EQUAL(r.st.finished, 1);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
	CU_ASSERT_EQUAL(notifications(job, "job.succeeded"), 2);
}

/* A job past its deadline expires once, whatever the number of runs. */
static void
test_deadline_expires_once(void)
{
	struct bj_reaper r;
	long long job = plant_job("running", 3, "fail_job", -10);
	long long claimed = plant_item(job, 0, "claimed", 1, 300);

	for (int i = 0; i < 5; i++)
		plant_item(job, 0, "pending", 0, 0);
	plant_item(job, 0, "succeeded", 1, 0);
	count_job(job);
	for (int run = 0; run < 3; run++) {
		reaper_init(&r, db, 2);
		CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
		CU_ASSERT_EQUAL(r.st.expired, run == 0 ? 1 : 0);
	}
	CU_ASSERT(job_state_is(job, "expired"));
	CU_ASSERT(item_state_is(claimed, "cancelled"));
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE job_id = %lld"
	    " AND state IN ('pending','claimed')", job), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE job_id = %lld"
	    " AND state = 'succeeded'", job), 1);
	CU_ASSERT_EQUAL(notifications(job, "job.expired"), 2);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM notifications WHERE job_id = %lld"
	    " AND channel = 'email' AND event = 'job.expired'", job), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM job_events WHERE job_id = %lld"
	    " AND type = 'expired'", job), 1);
	CU_ASSERT(counts_ok(job));
}

/*
 * One batch of lost claims across three jobs, mixing retries and final
 * failures: fail_job fails its job (and cancels the rest), continue
 * settles its job, the third job's claims come back with a back-off that
 * grows with the attempt; an existing failure record is kept.
 */
static void
test_orphan_batch_mixed(void)
{
	struct bj_reaper r;
	long long a = plant_job("running", 2, "fail_job", 3600);
	long long b = plant_job("running", 2, "continue", 3600);
	long long c = plant_job("running", 3, "fail_job", 3600);
	long long a1 = plant_item(a, 0, "claimed", 1, -5);
	long long a2 = plant_item(a, 0, "claimed", 2, -5);
	long long a3 = plant_item(a, 0, "pending", 0, 0);
	long long b1 = plant_item(b, 0, "claimed", 2, -5);
	long long b2 = plant_item(b, 0, "succeeded", 1, 0);
	long long c1 = plant_item(c, 0, "claimed", 1, -5);
	long long c2 = plant_item(c, 0, "claimed", 2, -5);
	long long c3 = plant_item(c, 0, "claimed", 1, 300);

	count_job(a);
	count_job(b);
	count_job(c);
	sqlf("INSERT INTO item_failures (item_id, job_id, attempt, error, failed_at)"
	    " VALUES (%lld, %lld, 2, 'boom', NOW(6))", a2, a);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_orphans(&r), 0);
	CU_ASSERT_EQUAL(r.st.requeued, 3);
	CU_ASSERT_EQUAL(r.st.items_failed, 2);
	/* fail_job: the job failed, its requeued and pending items cancelled */
	CU_ASSERT(job_state_is(a, "failed"));
	CU_ASSERT(item_state_is(a2, "failed"));
	CU_ASSERT(item_state_is(a1, "cancelled"));
	CU_ASSERT(item_state_is(a3, "cancelled"));
	CU_ASSERT_EQUAL(notifications(a, "job.failed"), 2);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld AND error = 'boom'",
	    a2), 1);
	/* continue: its last item failed, one succeeded: the job succeeded */
	CU_ASSERT(item_state_is(b1, "failed"));
	CU_ASSERT(item_state_is(b2, "succeeded"));
	CU_ASSERT(job_state_is(b, "succeeded"));
	CU_ASSERT_EQUAL(notifications(b, "job.succeeded"), 2);
	/* attempts left: back to pending after 2 s, then 8 s (bj_lease_backoff); the live claim stays */
	CU_ASSERT(job_state_is(c, "running"));
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'pending'"
	    " AND lease_token IS NULL AND run_after BETWEEN NOW(6) + INTERVAL 1 SECOND"
	    " AND NOW(6) + INTERVAL 2 SECOND", c1), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'pending'"
	    " AND run_after BETWEEN NOW(6) + INTERVAL 7 SECOND AND NOW(6) + INTERVAL 8 SECOND",
	    c2), 1);
	CU_ASSERT(item_state_is(c3, "claimed"));
	/* one failure record per lost attempt, the existing one kept; one event each */
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM item_failures WHERE job_id IN"
	    " (%lld, %lld, %lld)", a, b, c), 5);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld"
	    " AND error = 'boom'", a2), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM job_events WHERE job_id IN"
	    " (%lld, %lld, %lld) AND type = 'item_failed'", a, b, c), 5);
	CU_ASSERT(counts_ok(a));
	CU_ASSERT(counts_ok(b));
	CU_ASSERT(counts_ok(c));
	CU_ASSERT_EQUAL(scalarf("SELECT stage_remaining FROM jobs WHERE id = %lld", c), 3);
	/* a second run finds nothing to do */
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
	CU_ASSERT_EQUAL(r.st.requeued + r.st.items_failed, 0);
	CU_ASSERT_EQUAL(notifications(a, "job.failed"), 2);
	CU_ASSERT_EQUAL(notifications(b, "job.succeeded"), 2);
}

/* The state the API and the pages show for an item (BJ_SQL_ITEM_GET's column). */
static int
shown_as(long long item, const char *state)
{
	struct bj_rows *rows = bj_db_queryp(db, BJ_SQL_ITEM_GET, BJ_PARAMS(BJ_P_INT(item)));
	int ok = rows != NULL && rows->nrows == 1 && strcmp(bj_rows_get(rows, 0, 4), state) == 0;

	bj_rows_free(rows);
	return ok;
}

/* Rows BJ_SQL_ITEMS_LIST_ENDED lists for ?state=cancelled of an ended job. */
static int
listed_cancelled(long long job)
{
	struct bj_rows *rows = bj_db_queryp(db, BJ_SQL_ITEMS_LIST_ENDED,
	    BJ_PARAMS(BJ_P_INT(job), BJ_P_INT(0), BJ_P_INT(100), BJ_P_INT(job), BJ_P_INT(0),
	    BJ_P_INT(100), BJ_P_INT(100)));
	int n = rows == NULL ? -1 : rows->nrows;

	for (int i = 0; rows != NULL && i < rows->nrows; i++)
		CU_ASSERT_STRING_EQUAL(bj_rows_get(rows, i, 4), "cancelled");
	bj_rows_free(rows);
	return n;
}

/* A retried job that expires notifies in its round, beside its first round's failure. */
static void
test_retried_job_expires_in_its_round(void)
{
	struct bj_reaper r;
	long long job = plant_job("running", 3, "fail_job", -10);

	plant_item(job, 0, "pending", 0, 0);
	count_job(job);
	sqlf("UPDATE jobs SET round = 2 WHERE id = %lld", job);
	sqlf("INSERT INTO notifications (job_id, round, event, channel, target_hash, target,"
	    " state, attempts, next_attempt_at, created_at) SELECT job_id, 1, 'job.expired',"
	    " channel, target_hash, target, 'sent', 1, NOW(6), NOW(6) FROM job_targets"
	    " WHERE job_id = %lld", job);
	reaper_init(&r, db, 2);
	CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
	CU_ASSERT_EQUAL(r.st.expired, 1);
	CU_ASSERT(job_state_is(job, "expired"));
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM notifications WHERE job_id = %lld"
	    " AND event = 'job.expired' AND round = 2 AND state = 'pending'", job), 2);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM notifications WHERE job_id = %lld"
	    " AND round = 1 AND state = 'sent'", job), 2);
}

/*
 * A failed job retried before the reaper cancelled its leftover pending
 * rows: they are the job's work again, and the sweep leaves them alone.
 */
static void
test_retried_job_keeps_its_pending_rows(void)
{
	struct bj_reaper r;
	long long job = plant_job("running", 1, "fail_job", 3600);
	long long failed = plant_item(job, 0, "failed", 1, 0);
	long long left = plant_item(job, 1, "pending", 0, 0);

	count_job(job);
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL(bj_job_finish(db, job, BJ_JOB_FAILED, "an item failed"), BJ_OK);
	CU_ASSERT_EQUAL(bj_db_commit(db), 0);
	CU_ASSERT(item_state_is(left, "pending"));	/* counted cancelled, the row is the reaper's */
	CU_ASSERT_EQUAL(bj_job_change(db, job, BJ_CHANGE_RETRY, "by alice"), BJ_OK);
	reaper_init(&r, db, 2);
	CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
	CU_ASSERT(job_state_is(job, "running"));
	CU_ASSERT(item_state_is(failed, "pending"));
	CU_ASSERT(item_state_is(left, "pending"));
	CU_ASSERT_EQUAL(scalarf("SELECT n_pending FROM jobs WHERE id = %lld", job), 2);
	CU_ASSERT(counts_ok(job));
}

/*
 * An expired job whose pending rows the run had no time left to cancel:
 * the job has ended all the same (counters, notifications), nothing can
 * claim its items, they are shown cancelled, and the next run cancels the
 * rows without counting them twice or notifying again.
 */
static void
test_expired_rows_cancelled_later(void)
{
	static const char *const kinds[] = { "later" };
	struct bj_claim_req req = { "w1", kinds, 1, 10, 0, 0, NULL, NULL };
	struct bj_claimed *got = NULL;
	struct bj_reaper r;
	long long job = plant_job("running", 3, "fail_job", -10);
	long long claimed = plant_item(job, 0, "claimed", 1, 300);
	long long pending[5];
	int n = -1;

	for (int i = 0; i < 5; i++)
		pending[i] = plant_item(job, 0, "pending", 0, 0);
	plant_item(job, 0, "succeeded", 1, 0);
	sqlf("UPDATE jobs SET kind = 'later' WHERE id = %lld", job);
	count_job(job);
	reaper_init(&r, db, 2);
	r.cancel_left = 0;		/* the run's cancel_seconds are spent */
	CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
	CU_ASSERT_EQUAL(r.st.expired, 1);
	CU_ASSERT(job_state_is(job, "expired"));
	CU_ASSERT(item_state_is(claimed, "cancelled"));
	CU_ASSERT(item_state_is(pending[0], "pending"));
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id = %lld AND n_pending = 0"
	    " AND n_claimed = 0 AND n_cancelled = 6 AND n_succeeded = 1 AND n_total = 7", job), 1);
	CU_ASSERT_EQUAL(notifications(job, "job.expired"), 2);
	/* nothing claims them; they are shown and listed cancelled, never pending */
	CU_ASSERT_EQUAL(bj_claim(db, &req, &got, &n), BJ_OK);
	CU_ASSERT_EQUAL(n, 0);
	bj_claimed_free(got, n);
	CU_ASSERT(shown_as(pending[0], "cancelled"));
	CU_ASSERT(shown_as(claimed, "cancelled"));
	CU_ASSERT_EQUAL(listed_cancelled(job), 6);	/* ?state=pending lists none (test_api) */
	/* the rows are still pending in the table, yet bulkjobsctl doctor sees nothing wrong */
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM (SELECT j.id FROM jobs j JOIN items i"
	    " ON i.job_id = j.id WHERE j.id = %lld AND i.state = 'pending') x", job), 5);
	{
		struct bj_rows *rows = bj_db_queryp(db, BJ_SQL_REAPER_TERMINAL_LEFTOVERS,
		    BJ_PARAMS(BJ_P_INT(1000)));

		CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
		for (int i = 0; i < rows->nrows; i++)
			CU_ASSERT_NOT_EQUAL(bj_rows_int(rows, i, 0), job);
		bj_rows_free(rows);
	}
	/* the next run, with time to spare, cancels the rows (two per batch) */
	reaper_init(&r, db, 2);
	CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
	CU_ASSERT_EQUAL(r.st.expired, 0);
	CU_ASSERT_EQUAL(r.st.repairs, 0);
	for (int i = 0; i < 5; i++)
		CU_ASSERT(item_state_is(pending[i], "cancelled"));
	CU_ASSERT(counts_ok(job));
	CU_ASSERT_EQUAL(notifications(job, "job.expired"), 2);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM job_events WHERE job_id = %lld"
	    " AND type = 'expired'", job), 1);
}

/* Write a small file. */
static void
put_file(const char *path)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("data\n", f);
	fclose(f);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Expired artifacts go; nothing outside the root is touched, no symlink followed. */
static void
test_artifact_purge_stays_in_root(void)
{
	struct bj_reaper r;
	char p[1200], victim[1200], vdir[1200];
	const char *rels[] = { "a/b.txt", "link.txt", "../reaper-outside/victim.txt",
	    "dirlink/victim.txt", "/etc/hostname", "a/./b2.txt", "gone.txt" };
	long long ids[7];

	snprintf(victim, sizeof victim, "%s/victim.txt", outside);
	put_file(victim);
	snprintf(p, sizeof p, "%s/a", artroot);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/a/b.txt", artroot);
	put_file(p);
	snprintf(p, sizeof p, "%s/a/b2.txt", artroot);
	put_file(p);
	snprintf(p, sizeof p, "%s/link.txt", artroot);
	unlink(p);
	CU_ASSERT_EQUAL(symlink(victim, p), 0);
	snprintf(p, sizeof p, "%s/dirlink", artroot);
	snprintf(vdir, sizeof vdir, "%s", outside);
	unlink(p);
	CU_ASSERT_EQUAL(symlink(vdir, p), 0);
	for (int i = 0; i < 7; i++) {
		ids[i] = plant_job("succeeded", 3, "fail_job", 3600);
		sqlf("UPDATE jobs SET finished_at = NOW(6), artifact = '%s',"
		    " artifact_expires_at = NOW(6) - INTERVAL 1 SECOND WHERE id = %lld", rels[i], ids[i]);
	}
	/* one not yet due */
	snprintf(p, sizeof p, "%s/keep.txt", artroot);
	put_file(p);
	{
		long long keep = plant_job("succeeded", 3, "fail_job", 3600);
		sqlf("UPDATE jobs SET finished_at = NOW(6), artifact = 'keep.txt',"
		    " artifact_expires_at = NOW(6) + INTERVAL 1 HOUR WHERE id = %lld", keep);
	}

	reaper_init(&r, db, 3);
	CU_ASSERT_EQUAL(bj_reaper_purge(&r), 0);
	snprintf(p, sizeof p, "%s/a/b.txt", artroot);
	CU_ASSERT_FALSE(exists(p));
	CU_ASSERT_TRUE(exists(victim));
	snprintf(p, sizeof p, "%s/link.txt", artroot);
	CU_ASSERT_TRUE(exists(p));		/* a symlink is not a regular file */
	snprintf(p, sizeof p, "%s/a/b2.txt", artroot);
	CU_ASSERT_TRUE(exists(p));		/* "." refused */
	snprintf(p, sizeof p, "%s/keep.txt", artroot);
	CU_ASSERT_TRUE(exists(p));
	CU_ASSERT_EQUAL(r.st.artifacts, 1);
	for (int i = 0; i < 7; i++)
		CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id = %lld"
		    " AND artifact_deleted_at IS NOT NULL", ids[i]), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE artifact = 'keep.txt'"
	    " AND artifact_deleted_at IS NULL"), 1);
}

/*
 * A job's intermediate files (its items' artifacts) go with its artifact,
 * under the same rules (a link or a path out of the root is refused), and
 * more of them than one batch takes several turns; a job not yet due
 * keeps its items' files.
 */
static void
test_item_artifacts_purged_with_job(void)
{
	struct bj_reaper r;
	char p[1200], victim[1200];
	long long job = plant_job("succeeded", 3, "fail_job", 3600);
	long long keep = plant_job("succeeded", 3, "fail_job", 3600);
	long long kept_item;

	snprintf(victim, sizeof victim, "%s/victim2.txt", outside);
	put_file(victim);
	snprintf(p, sizeof p, "%s/stage", artroot);
	mkdir(p, 0755);
	for (int i = 0; i < 5; i++) {
		long long it = plant_item(job, 0, "succeeded", 1, 0);

		snprintf(p, sizeof p, "%s/stage/part%d.csv", artroot, i);
		put_file(p);
		sqlf("UPDATE items SET artifact = 'stage/part%d.csv' WHERE id = %lld", i, it);
	}
	sqlf("UPDATE items SET artifact = '../reaper-outside/victim2.txt' WHERE id = %lld",
	    plant_item(job, 0, "succeeded", 1, 0));
	kept_item = plant_item(keep, 0, "succeeded", 1, 0);
	snprintf(p, sizeof p, "%s/stage/kept.csv", artroot);
	put_file(p);
	sqlf("UPDATE items SET artifact = 'stage/kept.csv' WHERE id = %lld", kept_item);
	sqlf("UPDATE jobs SET finished_at = NOW(6), artifact = 'stage/part4.csv',"
	    " artifact_expires_at = NOW(6) - INTERVAL 1 SECOND WHERE id = %lld", job);
	sqlf("UPDATE jobs SET finished_at = NOW(6), artifact = NULL,"
	    " artifact_expires_at = NOW(6) + INTERVAL 1 HOUR WHERE id = %lld", keep);

	/* a dry run counts what it would delete and deletes nothing */
	reaper_init(&r, db, 2);
	r.dry_run = 1;
	CU_ASSERT_EQUAL(bj_reaper_purge(&r), 0);
	CU_ASSERT(r.st.artifacts >= 2);
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof p, "%s/stage/part%d.csv", artroot, i);
		CU_ASSERT_TRUE(exists(p));
	}
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE job_id = %lld"
	    " AND artifact IS NOT NULL", job), 6);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id = %lld"
	    " AND artifact_deleted_at IS NULL", job), 1);

	reaper_init(&r, db, 2);		/* batches of 2: three turns for the job's six */
	CU_ASSERT_EQUAL(bj_reaper_purge(&r), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof p, "%s/stage/part%d.csv", artroot, i);
		CU_ASSERT_FALSE(exists(p));
	}
	CU_ASSERT_TRUE(exists(victim));
	snprintf(p, sizeof p, "%s/stage/kept.csv", artroot);
	CU_ASSERT_TRUE(exists(p));
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE job_id = %lld"
	    " AND artifact IS NOT NULL", job), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id = %lld"
	    " AND artifact_deleted_at IS NOT NULL", job), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld"
	    " AND artifact = 'stage/kept.csv'", kept_item), 1);
}

/*
 * A retry holding the job's row while the reaper sweeps its expired files
 * (the retry locks the row, then clears artifact_expires_at): the sweep
 * waits for it, finds the job no longer due, and the retried round keeps
 * its first stage's file, which its second stage is to read.
 */
static void
test_retry_keeps_files_from_the_sweep(void)
{
	long long job = plant_job("failed", 3, "fail_job", 3600), it;
	char p[1200];
	int st = -1, waited = 0, ended = 0;
	pid_t pid;

	snprintf(p, sizeof p, "%s/stage", artroot);
	mkdir(p, 0755);
	it = plant_item(job, 0, "succeeded", 1, 0);
	plant_item(job, 1, "failed", 3, 0);
	count_job(job);
	snprintf(p, sizeof p, "%s/stage/round1.csv", artroot);
	put_file(p);
	sqlf("UPDATE items SET artifact = 'stage/round1.csv' WHERE id = %lld", it);
	sqlf("UPDATE jobs SET finished_at = NOW(6), artifact = NULL,"
	    " artifact_expires_at = NOW(6) - INTERVAL 1 SECOND WHERE id = %lld", job);

	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	fflush(NULL);
	if (bj_job_retry_round(db, job, 0, "by the test") != BJ_OK || (pid = fork()) == -1) {
		/* no open transaction may outlive the test */
		CU_FAIL("retry or fork failed");
		bj_db_rollback(db);
		return;
	}
	if (pid == 0) {
		struct bj_db *d = bj_db_new(conf);
		struct bj_reaper r;

		if (bj_db_connect(d) == -1)
			_exit(2);
		reaper_init(&r, d, 10);
		_exit(bj_reaper_purge(&r) == 0 ? 0 : 1);
	}
	/* until the sweep waits for the job's row (or has ended without waiting), 30 s at most */
	for (int i = 0; i < 600 && !waited && !ended; i++) {
		usleep(50000);
		waited = scalarf("SELECT COUNT(*) FROM information_schema.INNODB_TRX"
		    " WHERE trx_state = 'LOCK WAIT'") > 0;
		ended = waitpid(pid, &st, WNOHANG) == pid;
	}
	CU_ASSERT_TRUE(waited);
	CU_ASSERT_EQUAL_FATAL(bj_db_commit(db), 0);
	if (!ended)
		waitpid(pid, &st, 0);
	CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_TRUE(exists(p));
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld"
	    " AND artifact = 'stage/round1.csv'", it), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id = %lld AND round = 2"
	    " AND artifact_deleted_at IS NULL AND artifact_expires_at IS NULL", job), 1);
}

/* The path walker on its own: refusals and results. */
static void
test_unlink_artifact_rules(void)
{
	char *cause = NULL, p[1200];

	snprintf(p, sizeof p, "%s/plain.txt", artroot);
	put_file(p);
	CU_ASSERT_EQUAL(bj_reaper_unlink_artifact(artroot, "plain.txt", &cause), 1);
	CU_ASSERT_EQUAL(bj_reaper_unlink_artifact(artroot, "plain.txt", &cause), 0);
	CU_ASSERT_EQUAL(bj_reaper_unlink_artifact(artroot, "..", &cause), -1);
	CU_ASSERT_PTR_NOT_NULL(cause);
	free(cause);
	CU_ASSERT_EQUAL(bj_reaper_unlink_artifact(artroot, "a//b.txt", &cause), -1);
	free(cause);
	CU_ASSERT_EQUAL(bj_reaper_unlink_artifact(artroot, "/etc/passwd", &cause), -1);
	free(cause);
	CU_ASSERT_EQUAL(bj_reaper_unlink_artifact(artroot, "a", &cause), -1);	/* a directory */
	free(cause);
	CU_ASSERT_TRUE(exists("/etc/passwd"));
}

/* Ended jobs past the purge age go with all their rows; younger ones stay. */
static void
test_row_purge(void)
{
	struct bj_reaper r;
	long long old = plant_job("succeeded", 3, "fail_job", 3600);
	long long young = plant_job("succeeded", 3, "fail_job", 3600);

	for (int i = 0; i < 5; i++) {
		plant_item(old, 0, "succeeded", 1, 0);
		plant_item(young, 0, "succeeded", 1, 0);
	}
	count_job(old);
	count_job(young);
	sqlf("UPDATE jobs SET finished_at = NOW(6) - INTERVAL 40 DAY WHERE id = %lld", old);
	sqlf("UPDATE jobs SET finished_at = NOW(6) WHERE id = %lld", young);
	sqlf("INSERT INTO job_events (job_id, at, type) VALUES (%lld, NOW(6), 'created')", old);
	sqlf("INSERT INTO notifications (job_id, event, channel, target_hash, target, state,"
	    " next_attempt_at, created_at) VALUES (%lld, 'job.succeeded', 'email', SHA2('x', 256),"
	    " 'x@example.org', 'sent', NOW(6), NOW(6))", old);
	sqlf("INSERT INTO notification_attempts (notification_id, attempt, at, status)"
	    " VALUES (%lld, 1, NOW(6), 250)", (long long)bj_db_insert_id(db));
	reaper_init(&r, db, 2);
	CU_ASSERT_EQUAL(bj_reaper_purge(&r), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id = %lld", old), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE job_id = %lld", old), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM job_events WHERE job_id = %lld", old), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM notifications WHERE job_id = %lld", old), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM job_targets WHERE job_id = %lld", old), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM notification_attempts a LEFT JOIN"
	    " notifications n ON n.id = a.notification_id WHERE n.id IS NULL"), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id = %lld", young), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE job_id = %lld", young), 5);
	CU_ASSERT(r.st.rows >= 10);
}

/*
 * A job past the purge age whose retention runs longer, without a file of
 * its own (a failed job) but with its first stage's: its rows, the only
 * record of that file, stay until the file has gone with its retention.
 */
static void
test_row_purge_waits_for_files(void)
{
	struct bj_reaper r;
	long long job = plant_job("failed", 3, "fail_job", 3600);
	long long it = plant_item(job, 0, "succeeded", 1, 0);
	char p[1200];

	plant_item(job, 1, "failed", 3, 0);
	count_job(job);
	snprintf(p, sizeof p, "%s/stage", artroot);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/stage/long.csv", artroot);
	put_file(p);
	sqlf("UPDATE items SET artifact = 'stage/long.csv' WHERE id = %lld", it);
	sqlf("UPDATE jobs SET finished_at = NOW(6) - INTERVAL 40 DAY, artifact = NULL,"
	    " artifact_expires_at = NOW(6) + INTERVAL 10 DAY WHERE id = %lld", job);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_purge(&r), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id = %lld", job), 1);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE id = %lld"
	    " AND artifact = 'stage/long.csv'", it), 1);
	CU_ASSERT_TRUE(exists(p));

	/* retention over: the file goes, then the rows, in one run */
	sqlf("UPDATE jobs SET artifact_expires_at = NOW(6) - INTERVAL 1 SECOND WHERE id = %lld", job);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_purge(&r), 0);
	CU_ASSERT_FALSE(exists(p));
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id = %lld", job), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE job_id = %lld", job), 0);
}

/* Impossible rows: terminal jobs with claimed/pending items, drifted counters. */
static void
test_repairs(void)
{
	struct bj_reaper r;
	long long done = plant_job("succeeded", 3, "fail_job", 3600);
	long long gone = plant_job("cancelled", 3, "fail_job", 3600);
	long long failed = plant_job("failed", 3, "fail_job", 3600);
	long long drift = plant_job("running", 3, "fail_job", 3600);
	long long c1 = plant_item(done, 0, "claimed", 1, 300);
	long long p1 = plant_item(done, 0, "pending", 0, 0);
	long long c2 = plant_item(gone, 0, "claimed", 1, 300);
	long long c3 = plant_item(failed, 0, "claimed", 1, 300);	/* may still finish */
	long long p3 = plant_item(failed, 0, "pending", 0, 0);

	plant_item(drift, 0, "pending", 0, 0);
	plant_item(drift, 0, "succeeded", 1, 0);
	count_job(done);
	count_job(gone);
	count_job(failed);
	sqlf("UPDATE jobs SET n_total = 7, n_pending = 0, n_succeeded = 9, stage_remaining = 4"
	    " WHERE id = %lld", drift);
	CU_ASSERT_FALSE(counts_ok(drift));

	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_repair(&r), 0);
	CU_ASSERT(item_state_is(c1, "cancelled"));
	CU_ASSERT(item_state_is(p1, "cancelled"));
	CU_ASSERT(item_state_is(c2, "cancelled"));
	CU_ASSERT(item_state_is(c3, "claimed"));
	CU_ASSERT(item_state_is(p3, "cancelled"));
	CU_ASSERT(counts_ok(done));
	CU_ASSERT(counts_ok(gone));
	CU_ASSERT(counts_ok(failed));
	CU_ASSERT(counts_ok(drift));
	CU_ASSERT_EQUAL(scalarf("SELECT stage_remaining FROM jobs WHERE id = %lld", drift), 1);
	CU_ASSERT(r.st.repairs >= 4);
	CU_ASSERT(job_state_is(done, "succeeded"));	/* terminal states never change */
	CU_ASSERT(job_state_is(gone, "cancelled"));
	/* the failed job's claim ends when its lease runs out */
	sqlf("UPDATE items SET lease_expires_at = NOW(6) - INTERVAL 1 SECOND WHERE id = %lld", c3);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
	CU_ASSERT(item_state_is(c3, "cancelled"));
	CU_ASSERT(counts_ok(failed));
	CU_ASSERT_EQUAL(notifications(done, "job.failed") + notifications(gone, "job.failed"), 0);
}

/* Counters that add up but lie (failed for succeeded): the job still ends by its items. */
static void
test_outcome_decided_by_items(void)
{
	struct bj_reaper r;
	long long job = plant_job("running", 3, "fail_job", 3600);

	plant_item(job, 0, "succeeded", 1, 0);
	plant_item(job, 0, "succeeded", 1, 0);
	count_job(job);
	sqlf("UPDATE jobs SET n_succeeded = 0, n_failed = 2 WHERE id = %lld", job);
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
	CU_ASSERT(job_state_is(job, "succeeded"));
	CU_ASSERT_EQUAL(notifications(job, "job.succeeded"), 2);
	CU_ASSERT_EQUAL(notifications(job, "job.failed"), 0);
	CU_ASSERT(counts_ok(job));
}

/* A snapshot of everything the reaper may change. */
static long long
checksum(void)
{
	return scalarf("SELECT CRC32(CONCAT_WS('|',"
	    " (SELECT GROUP_CONCAT(CONCAT_WS(',', id, state, stage, stage_remaining, n_pending,"
	    "   n_claimed, n_failed, n_cancelled, n_succeeded, COALESCE(artifact_deleted_at, '-'))"
	    "   ORDER BY id) FROM jobs),"
	    " (SELECT GROUP_CONCAT(CONCAT_WS(',', id, state, attempt, COALESCE(lease_token, '-'))"
	    "   ORDER BY id) FROM items),"
	    " (SELECT COUNT(*) FROM item_failures), (SELECT COUNT(*) FROM notifications),"
	    " (SELECT COUNT(*) FROM job_events)))");
}

/* --dry-run reports what it would do and changes nothing. */
static void
test_dry_run_changes_nothing(void)
{
	struct bj_reaper r;
	long long job = plant_job("running", 3, "fail_job", -5);
	long long before;

	plant_item(job, 0, "claimed", 1, -5);
	plant_item(job, 0, "pending", 0, 0);
	count_job(job);
	before = checksum();
	reaper_init(&r, db, 10);
	r.dry_run = 1;
	CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
	CU_ASSERT(r.st.requeued >= 1);
	CU_ASSERT(r.st.expired >= 1);
	CU_ASSERT_EQUAL(checksum(), before);
	/* leave a clean slate for the next tests */
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
	CU_ASSERT(job_state_is(job, "expired"));
}

/* Plant a mixed workload: lost claims, dead claims, deadlines; returns the first job id. */
static long long
plant_workload(int njobs, long long *first_expiring)
{
	long long first = 0;

	for (int j = 0; j < njobs; j++) {
		long long job = plant_job("running", 2, j % 2 ? "continue" : "fail_job",
		    j % 3 == 0 ? -5 : 3600);
		if (first == 0)
			first = job;
		for (int i = 0; i < 4; i++)
			plant_item(job, 0, "claimed", i % 2 ? 2 : 1, -5);
		plant_item(job, 0, "pending", 0, 0);
		count_job(job);
	}
	*first_expiring = first;
	return first;
}

/* What a finished sweep must leave, checked job by job. */
static void
assert_workload_done(long long first, int njobs)
{
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM items WHERE job_id >= %lld"
	    " AND state = 'claimed'", first), 0);
	/* every ended job has exactly one notification per target for one event */
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM (SELECT job_id, channel, COUNT(*) c"
	    " FROM notifications WHERE job_id >= %lld GROUP BY job_id, channel HAVING c <> 1) x",
	    first), 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id >= %lld AND state IN"
	    " ('failed','expired','succeeded') AND id NOT IN (SELECT job_id FROM notifications)",
	    first), 0);
	/* past their deadline: failed by a lost claim first, or expired */
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM jobs WHERE id >= %lld AND deadline_at < NOW(6)"
	    " AND state NOT IN ('failed','expired')", first), 0);
	CU_ASSERT(scalarf("SELECT COUNT(*) FROM jobs WHERE id >= %lld AND state = 'expired'",
	    first) > 0);
	CU_ASSERT_EQUAL(scalarf("SELECT COUNT(*) FROM item_failures f JOIN items i ON i.id = f.item_id"
	    " WHERE i.job_id >= %lld", first), scalarf("SELECT COUNT(DISTINCT f.item_id, f.attempt)"
	    " FROM item_failures f JOIN items i ON i.id = f.item_id WHERE i.job_id >= %lld", first));
	for (long long j = first; j < first + njobs; j++)
		CU_ASSERT(counts_ok(j));
}

/* A sweep in a child process on its own connection. */
static pid_t
sweep_child(int batch)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct bj_db *d = bj_db_new(conf);
		struct bj_reaper r;
		int rc;

		if (bj_db_connect(d) == -1)
			_exit(2);
		reaper_init(&r, d, batch);
		rc = bj_reaper_sweep(&r);
		_exit(rc == 0 ? 0 : 1);
	}
	return pid;
}

/* Two sweeps at once, without the lock, leave what one would. */
static void
test_two_sweeps_at_once(void)
{
	long long first, exp;
	pid_t a, b;
	int sa = -1, sb = -1;

	sqlf("UPDATE jobs SET state = 'cancelled', finished_at = NOW(6)"
	    " WHERE state IN ('queued','running','paused')");
	first = plant_workload(12, &exp);
	a = sweep_child(1);
	b = sweep_child(1);
	CU_ASSERT(a > 0 && b > 0);
	waitpid(a, &sa, 0);
	waitpid(b, &sb, 0);
	CU_ASSERT(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
	CU_ASSERT(WIFEXITED(sb) && WEXITSTATUS(sb) == 0);
	assert_workload_done(first, 12);
}

/* kill -9 mid-sweep, then a new run: the work completes, nothing is notified twice. */
static void
test_killed_sweep_then_rerun(void)
{
	struct bj_reaper r;
	long long first, exp;
	pid_t a;
	int st;

	sqlf("UPDATE jobs SET state = 'cancelled', finished_at = NOW(6)"
	    " WHERE state IN ('queued','running','paused')");
	first = plant_workload(30, &exp);
	a = sweep_child(1);
	CU_ASSERT_FATAL(a > 0);
	/* kill it once it has changed something, wherever it is */
	for (int i = 0; i < 2000; i++) {
		if (scalarf("SELECT COUNT(*) FROM item_failures f JOIN items i ON i.id = f.item_id"
		    " WHERE i.job_id >= %lld", first) > 0)
			break;
		usleep(1000);
	}
	kill(a, SIGKILL);
	waitpid(a, &st, 0);
	reaper_init(&r, db, 5);
	CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
	assert_workload_done(first, 30);
}

/* The lock: a second session cannot take it; losing it stops the run. */
static void
test_lock(void)
{
	struct bj_db *holder = bj_db_new(conf), *mine = bj_db_new(conf);
	struct bj_reaper r;
	struct bj_rows *rows;

	CU_ASSERT_FATAL(bj_db_connect(holder) == 0 && bj_db_connect(mine) == 0);
	reaper_init(&r, db, 10);
	r.lockdb = mine;
	rows = bj_db_queryp(holder, BJ_SQL_GET_LOCK, BJ_PARAMS(BJ_P_STR(conf->lock_name),
	    BJ_P_INT(0)));
	CU_ASSERT_EQUAL(bj_rows_int(rows, 0, 0), 1);
	bj_rows_free(rows);
	CU_ASSERT_EQUAL(bj_reaper_lock(&r), 0);
	rows = bj_db_queryp(holder, BJ_SQL_RELEASE_LOCK,
	    BJ_PARAMS(BJ_P_STR(conf->lock_name)));
	bj_rows_free(rows);
	CU_ASSERT_EQUAL(bj_reaper_lock(&r), 1);
	CU_ASSERT_EQUAL(bj_reaper_go_on(&r), 1);
	/* the lock lost behind the reaper's back: it stops before the next batch */
	rows = bj_db_queryp(mine, BJ_SQL_RELEASE_LOCK, BJ_PARAMS(BJ_P_STR(conf->lock_name)));
	bj_rows_free(rows);
	CU_ASSERT_EQUAL(bj_reaper_go_on(&r), 0);
	CU_ASSERT_EQUAL(r.halted, 1);
	bj_db_free(holder);
	bj_db_free(mine);
}

/* SIGTERM: the flag set, no further batch starts. */
static void
test_stop_flag(void)
{
	struct bj_reaper r;
	volatile sig_atomic_t flag = 1;
	long long job = plant_job("running", 3, "fail_job", 3600);
	long long item = plant_item(job, 0, "claimed", 1, -5);

	count_job(job);
	reaper_init(&r, db, 10);
	r.stop = &flag;
	CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
	CU_ASSERT(item_state_is(item, "claimed"));
	reaper_init(&r, db, 10);
	CU_ASSERT_EQUAL(bj_reaper_sweep(&r), 0);
	CU_ASSERT(item_state_is(item, "pending"));
}

/*
 * The metrics text file is replaced whole, promtool accepts it, and its
 * counters carry on from the file it replaces.
 */
static void
test_metrics_file(void)
{
	struct bj_reaper r;
	char path[700], *text;

	reaper_init(&r, db, 10);
	r.st.requeued = 3;
	r.st.rows = 5;
	snprintf(path, sizeof path, "%s", bj_test_path("reaper.prom"));
	unlink(path);
	CU_ASSERT_EQUAL(bj_reaper_write_metrics(&r, path, 0.25, 1), 0);
	r.st.requeued = 2;
	r.st.rows = 0;
	CU_ASSERT_EQUAL(bj_reaper_write_metrics(&r, path, 0.25, 0), 0);
	text = bj_test_slurp(path, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(bj_test_promtool(text), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text,
	    "bulkjobs_reaper_items_total{result=\"requeued\"} 5\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "bulkjobs_reaper_purged_total{what=\"rows\"} 5\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "bulkjobs_reaper_runs_total{result=\"ok\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "bulkjobs_reaper_runs_total{result=\"error\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "bulkjobs_reaper_last_run_success 0\n"));
	free(text);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("reaper", init, NULL);

	CU_add_test(s, "a retried job expires with its round's notifications",
	    test_retried_job_expires_in_its_round);
	CU_add_test(s, "a retried job keeps the pending rows its failure left",
	    test_retried_job_keeps_its_pending_rows);
	CU_add_test(s, "lost claim requeued", test_lost_claim_requeued);
	CU_add_test(s, "a retried job's lost claims count from the retry", test_lost_claim_of_retried_job);
	CU_add_test(s, "existing failure record (Solid Queue #699)", test_existing_failure_record);
	CU_add_test(s, "claim with a failure record repaired", test_claim_with_failure_record);
	CU_add_test(s, "lost claim of a missing job", test_lost_claim_of_missing_job);
	CU_add_test(s, "continue: last failure ends the job", test_continue_ends_job);
	CU_add_test(s, "rolled back batch not counted", test_rolled_back_batch_not_counted);
	CU_add_test(s, "stage advance and success", test_stage_advance_and_success);
	CU_add_test(s, "deadline expires once", test_deadline_expires_once);
	CU_add_test(s, "a batch of lost claims across jobs", test_orphan_batch_mixed);
	CU_add_test(s, "expired job's rows cancelled later", test_expired_rows_cancelled_later);
	CU_add_test(s, "artifact purge stays in the root", test_artifact_purge_stays_in_root);
	CU_add_test(s, "artifact path rules", test_unlink_artifact_rules);
	CU_add_test(s, "items' artifacts go with the job's, in the root only",
	    test_item_artifacts_purged_with_job);
	CU_add_test(s, "a retry keeps its files from the artifact sweep",
	    test_retry_keeps_files_from_the_sweep);
	CU_add_test(s, "row purge", test_row_purge);
	CU_add_test(s, "row purge waits for a job's files", test_row_purge_waits_for_files);
	CU_add_test(s, "repairs", test_repairs);
	CU_add_test(s, "outcome decided by the items", test_outcome_decided_by_items);
	CU_add_test(s, "dry run changes nothing", test_dry_run_changes_nothing);
	CU_add_test(s, "two sweeps at once", test_two_sweeps_at_once);
	CU_add_test(s, "killed sweep, then a rerun", test_killed_sweep_then_rerun);
	CU_add_test(s, "lock", test_lock);
	CU_add_test(s, "stop flag", test_stop_flag);
	CU_add_test(s, "metrics file", test_metrics_file);
	return bj_test_run();
}
