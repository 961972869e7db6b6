/* test_complete_batch.c: bj_lease_complete_batch against a real MariaDB. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "buf.h"
#include "claim.h"
#include "create.h"
#include "harness.h"
#include "job.h"
#include "lease.h"
#include "sql.h"

static struct bj_conf *conf;
static struct bj_db *db;

static int
init(void)
{
	db = bj_test_db("complete_batch");
	conf = bj_test_conf("complete_batch");
	return db == NULL ? -1 : 0;
}

/* A scalar query built printf-style. */
#define q(...)	bj_test_scalarf(db, __VA_ARGS__)

/* A job of kind with n items (item i in stage i % stages); returns its id. */
static long long
make(const char *kind, int n, int stages)
{
	return bj_test_make_job(db, &(struct bj_test_job){ .kind = kind, .n = (size_t)n,
	    .stages = stages, .webhook = "http://127.0.0.1:9/hook" });
}

/* Claim up to limit items of kind on connection d. */
#define claim_on(d, kind, limit, c)	bj_test_claim(d, kind, limit, c)

/* The claimed item of job among c[0..n). */
static const struct bj_claimed *
of_job(const struct bj_claimed *c, int n, long long job, int skip)
{
	for (int i = 0; i < n; i++)
		if (c[i].job_id == job && skip-- == 0)
			return &c[i];
	return NULL;
}

/* Counts must equal what the items say. */
#define assert_counts_match(id)	bj_test_assert_counts(db, id)

static void
test_mixed_tokens_two_jobs(void)
{
	long long a = make("mix", 3, 1), b = make("mix", 2, 1);
	const struct bj_claimed *a0, *a1, *b0, *b1;
	struct bj_completion c[6];
	struct bj_claimed *cl;
	struct bj_job *j;
	int n = claim_on(db, "mix", 10, &cl);

	CU_ASSERT_EQUAL_FATAL(n, 5);
	a0 = of_job(cl, n, a, 0);
	a1 = of_job(cl, n, a, 1);
	b0 = of_job(cl, n, b, 0);
	b1 = of_job(cl, n, b, 1);
	CU_ASSERT_FATAL(a0 && a1 && b0 && b1);
	/* request order is not id order: b's items first, then a's */
	memset(c, 0, sizeof c);
	c[0] = (struct bj_completion){ b1->id, b1->lease_token, "{\"rows\":2}", NULL, BJ_ERR_INTERNAL };
	c[1] = (struct bj_completion){ a1->id, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, NULL,
	    BJ_ERR_INTERNAL };
	c[2] = (struct bj_completion){ 99999999, a0->lease_token, NULL, NULL, BJ_ERR_INTERNAL };
	c[3] = (struct bj_completion){ a0->id, a0->lease_token, "{\"rows\":1}", "out/a.csv",
	    BJ_ERR_INTERNAL };
	c[4] = (struct bj_completion){ b0->id, b0->lease_token, NULL, "out/b.csv", BJ_ERR_INTERNAL };
	c[5] = (struct bj_completion){ a0->id, a0->lease_token, NULL, NULL, BJ_ERR_INTERNAL };
	CU_ASSERT_EQUAL(bj_lease_complete_batch(db, c, 6), BJ_OK);
	CU_ASSERT_EQUAL(c[0].outcome, BJ_OK);
	CU_ASSERT_EQUAL(c[1].outcome, BJ_ERR_LEASE_LOST);
	CU_ASSERT_EQUAL(c[2].outcome, BJ_ERR_ITEM_NOT_FOUND);
	CU_ASSERT_EQUAL(c[3].outcome, BJ_OK);
	CU_ASSERT_EQUAL(c[4].outcome, BJ_OK);
	CU_ASSERT_EQUAL(c[5].outcome, BJ_ERR_ALREADY_COMPLETED);	/* the same item twice */

	/* the stale token changed nothing: a1 is still claimed under its own */
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'claimed'"
	    " AND lease_token = '%s'", a1->id, a1->lease_token), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE id = %lld AND state = 'succeeded'"
	    " AND result = '{\"rows\":1}' AND artifact = 'out/a.csv' AND lease_token = '%s'",
	    a0->id, a0->lease_token), 1);

	/* b has ended through the batch: settled once, with one notification */
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, b, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_SUCCEEDED);
	CU_ASSERT_EQUAL(j->n_succeeded, 2);
	CU_ASSERT_STRING_EQUAL(j->artifact, "out/b.csv");
	bj_job_free(j);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld"
	    " AND event = 'job.succeeded'", b), 1);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM job_events WHERE job_id = %lld"
	    " AND type = 'finished'", b), 1);
	/* a goes on: two of its items are still claimed */
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, a, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_RUNNING);
	CU_ASSERT_EQUAL(j->n_succeeded, 1);
	CU_ASSERT_EQUAL(j->n_claimed, 2);
	bj_job_free(j);
	assert_counts_match(a);
	assert_counts_match(b);

	/* completing again is refused and changes nothing */
	c[0].outcome = BJ_ERR_INTERNAL;
	CU_ASSERT_EQUAL(bj_lease_complete_batch(db, c, 1), BJ_OK);
	CU_ASSERT_EQUAL(c[0].outcome, BJ_ERR_ALREADY_COMPLETED);
	CU_ASSERT_EQUAL(q("SELECT n_succeeded FROM jobs WHERE id = %lld", b), 2);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld", b), 1);
	bj_claimed_free(cl, n);
}

static void
test_last_items_settle_the_job(void)
{
	long long id = make("walk", 4, 2);
	struct bj_completion c[2];
	struct bj_claimed *cl;
	struct bj_job *j;
	int n = claim_on(db, "walk", 10, &cl);

	CU_ASSERT_EQUAL_FATAL(n, 2);	/* stage 1 is gated */
	memset(c, 0, sizeof c);
	for (int i = 0; i < n; i++)
		c[i] = (struct bj_completion){ cl[i].id, cl[i].lease_token, NULL, NULL,
		    BJ_ERR_INTERNAL };
	CU_ASSERT_EQUAL(bj_lease_complete_batch(db, c, n), BJ_OK);
	CU_ASSERT(c[0].outcome == BJ_OK && c[1].outcome == BJ_OK);
	bj_claimed_free(cl, n);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->stage, 1);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_RUNNING);
	bj_job_free(j);
	CU_ASSERT_EQUAL(q("SELECT stage_remaining FROM jobs WHERE id = %lld", id), 2);

	n = claim_on(db, "walk", 10, &cl);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	/* the higher id first: the artifact given last in the request wins */
	c[0] = (struct bj_completion){ cl[1].id, cl[1].lease_token, NULL, "out/first.csv",
	    BJ_ERR_INTERNAL };
	c[1] = (struct bj_completion){ cl[0].id, cl[0].lease_token, NULL, "out/final.csv",
	    BJ_ERR_INTERNAL };
	CU_ASSERT_EQUAL(bj_lease_complete_batch(db, c, 2), BJ_OK);
	CU_ASSERT(c[0].outcome == BJ_OK && c[1].outcome == BJ_OK);
	bj_claimed_free(cl, n);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_SUCCEEDED);
	CU_ASSERT_EQUAL(j->n_succeeded, 4);
	CU_ASSERT_EQUAL(j->n_claimed, 0);
	CU_ASSERT_STRING_EQUAL(j->artifact, "out/final.csv");
	bj_job_free(j);
	assert_counts_match(id);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld"
	    " AND event = 'job.succeeded'", id), 1);
}

static void
test_bounds(void)
{
	struct bj_completion *c = bj_xcalloc(BJ_COMPLETE_MAX + 1, sizeof *c);
	long long id = make("bound", 1, 1);
	struct bj_claimed *cl;
	int n = claim_on(db, "bound", 1, &cl);

	CU_ASSERT_EQUAL_FATAL(n, 1);
	for (int i = 0; i <= BJ_COMPLETE_MAX; i++)
		c[i] = (struct bj_completion){ cl[0].id, cl[0].lease_token, NULL, NULL,
		    BJ_ERR_INTERNAL };
	CU_ASSERT_EQUAL(bj_lease_complete_batch(db, c, 0), BJ_ERR_VALIDATION);
	CU_ASSERT_EQUAL(bj_lease_complete_batch(db, c, BJ_COMPLETE_MAX + 1), BJ_ERR_VALIDATION);
	CU_ASSERT_EQUAL(q("SELECT state = 'claimed' FROM items WHERE id = %lld", cl[0].id), 1);
	/* the largest batch: the first succeeds, every repeat is refused */
	CU_ASSERT_EQUAL(bj_lease_complete_batch(db, c, BJ_COMPLETE_MAX), BJ_OK);
	CU_ASSERT_EQUAL(c[0].outcome, BJ_OK);
	CU_ASSERT_EQUAL(c[BJ_COMPLETE_MAX - 1].outcome, BJ_ERR_ALREADY_COMPLETED);
	CU_ASSERT_EQUAL(q("SELECT n_succeeded FROM jobs WHERE id = %lld", id), 1);
	assert_counts_match(id);
	bj_claimed_free(cl, n);
	free(c);
}

#define THREADS 4
#define RACE_JOBS 3
#define RACE_ITEMS 300

struct racer {
	pthread_t	 t;
	int		 done, errors;
};

/*
 * One worker on its own connection: claim batches across the jobs and
 * complete each batch in reverse order, so that requests interleave rows
 * of several jobs in every order; the locks must still be taken in one.
 */
static void *
race(void *arg)
{
	struct racer *me = arg;
	struct bj_completion c[16];
	struct bj_claimed *cl;
	struct bj_db *mine;
	int n, empty = 0;

	mysql_thread_init();
	mine = bj_db_new(conf);
	if (bj_db_connect(mine) == -1) {
		me->errors++;
		goto out;
	}
	while (empty < 3) {
		const char *kinds[] = { "race" };
		struct bj_claim_req r = { "racer", kinds, 1, 16, 0, 0, NULL, NULL };

		if (bj_claim(mine, &r, &cl, &n) != BJ_OK) {
			me->errors++;
			continue;
		}
		empty = n == 0 ? empty + 1 : 0;
		for (int i = 0; i < n; i++)
			c[n - 1 - i] = (struct bj_completion){ cl[i].id, cl[i].lease_token, NULL,
			    NULL, BJ_ERR_INTERNAL };
		if (n > 0 && bj_lease_complete_batch(mine, c, n) != BJ_OK)
			me->errors++;
		for (int i = 0; i < n; i++)
			me->done += c[i].outcome == BJ_OK;
		bj_claimed_free(cl, n);
	}
out:
	bj_db_free(mine);
	mysql_thread_end();
	return NULL;
}

static void
test_concurrent_batches(void)
{
	static struct racer rs[THREADS];
	long long jobs[RACE_JOBS];
	int done = 0, errors = 0;

	/* batches of 16 over jobs of 100 items: some straddle two jobs */
	for (int i = 0; i < RACE_JOBS; i++)
		jobs[i] = make("race", RACE_ITEMS / RACE_JOBS, 1);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&rs[i].t, NULL, race, &rs[i]);
	for (int i = 0; i < THREADS; i++)
		pthread_join(rs[i].t, NULL);
	for (int i = 0; i < THREADS; i++) {
		done += rs[i].done;
		errors += rs[i].errors;
	}
	CU_ASSERT_EQUAL(errors, 0);
	CU_ASSERT_EQUAL(done, RACE_ITEMS);
	for (int i = 0; i < RACE_JOBS; i++) {
		CU_ASSERT_EQUAL(q("SELECT state = 'succeeded' FROM jobs WHERE id = %lld", jobs[i]), 1);
		CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld",
		    jobs[i]), 1);
		assert_counts_match(jobs[i]);
	}
}

/*
 * EXPLAIN of text with its placeholders written as the literals lit, into
 * buf (static: statements are cached by their text's address); asserts
 * that items is read by primary key, one row per id in the list, and
 * never scanned (a locking statement would lock every row it scans).
 */
static void
assert_by_primary_key(char *buf, size_t len, const char *text, const char *const *lit)
{
	struct bj_rows *r;
	const char *t = text, *qm;
	size_t o = (size_t)snprintf(buf, len, "EXPLAIN ");
	int found = 0;

	for (int k = 0; (qm = strchr(t, '?')) != NULL; k++) {
		o += (size_t)snprintf(buf + o, len - o, "%.*s%s", (int)(qm - t), t, lit[k]);
		t = qm + 1;
	}
	snprintf(buf + o, len - o, "%s", t);
	r = bj_db_queryp(db, buf, NULL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	/* columns: id, select_type, table, type, possible_keys, key, … */
	for (int i = 0; i < r->nrows; i++) {
		if (strcmp(bj_rows_get(r, i, 2), "i") != 0)
			continue;
		found = 1;
		CU_ASSERT_STRING_EQUAL(bj_rows_get(r, i, 3), "eq_ref");
		CU_ASSERT_STRING_EQUAL(bj_rows_get(r, i, 5), "PRIMARY");
	}
	CU_ASSERT_TRUE(found);
	bj_rows_free(r);
}

static void
test_batch_plans_use_primary_key(void)
{
	static char s1[2048], s2[2048], s3[2048], s4[2048];
	const char *ids[] = { "'[1,2,3]'" };
	const char *pairs[] = { "'[[1,\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"],[2,\"B\"]]'", "60", "'w'" };

	assert_by_primary_key(s1, sizeof s1, BJ_SQL_ITEMS_LOCATE, ids);
	assert_by_primary_key(s2, sizeof s2, BJ_SQL_CLAIM_SET, pairs);
	assert_by_primary_key(s3, sizeof s3, BJ_SQL_CLAIMED_LIST, pairs);
	{
		const char *done[] = { "'[[1,\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"{}\",null]]'" };

		assert_by_primary_key(s4, sizeof s4, BJ_SQL_ITEMS_SUCCEED, done);
	}
}

/* Row-lock waits so far, server-wide (the suites run one at a time). */
static long long
lock_waits(void)
{
	return q("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
	    " WHERE VARIABLE_NAME = 'INNODB_ROW_LOCK_WAITS'");
}

/*
 * A batch whose rows another transaction keeps locked is tried again
 * after each lock wait time-out, a bounded number of times, then refused
 * whole (CONTENDED, a 503 to clients): every item carries the error and
 * nothing changed. Once the rows
 * are free the same batch completes.
 */
static void
test_locked_rows_exhaust_retries(void)
{
	long long job = make("locked", 2, 1), waits;
	struct bj_completion c[2];
	struct bj_claimed *cl;
	struct bj_db *other = bj_db_new(conf);
	int n = claim_on(db, "locked", 2, &cl);

	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL_FATAL(bj_db_connect(other), 0);
	memset(c, 0, sizeof c);
	for (int i = 0; i < 2; i++) {
		c[i].id = cl[i].id;
		c[i].lease_token = cl[i].lease_token;
	}
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(other), 0);
	CU_ASSERT_EQUAL(bj_test_scalarf(other, "SELECT COUNT(*) FROM (SELECT id FROM items"
	    " WHERE job_id = %lld FOR UPDATE) AS locked", job), 2);
	bj_test_sql(db, "SET SESSION innodb_lock_wait_timeout = 1");
	waits = lock_waits();
	CU_ASSERT_EQUAL(bj_lease_complete_batch(db, c, 2), BJ_ERR_CONTENDED);
	CU_ASSERT(lock_waits() - waits >= 3);	/* tried again, not given up at once */
	CU_ASSERT_EQUAL(c[0].outcome, BJ_ERR_CONTENDED);
	CU_ASSERT_EQUAL(c[1].outcome, BJ_ERR_CONTENDED);
	bj_db_rollback(other);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE job_id = %lld AND state = 'claimed'",
	    job), 2);
	assert_counts_match(job);

	CU_ASSERT_EQUAL(bj_lease_complete_batch(db, c, 2), BJ_OK);
	CU_ASSERT_EQUAL(c[0].outcome, BJ_OK);
	CU_ASSERT_EQUAL(c[1].outcome, BJ_OK);
	CU_ASSERT_EQUAL(q("SELECT n_succeeded FROM jobs WHERE id = %lld", job), 2);
	assert_counts_match(job);
	bj_test_sql(db, "SET SESSION innodb_lock_wait_timeout = DEFAULT");
	bj_claimed_free(cl, n);
	bj_db_free(other);
}

/*
 * Results and artifacts with quotes, backslashes, control characters and
 * non-ASCII text are stored exactly as given; the same item three times
 * in one batch counts once.
 */
static void
test_results_stored_exactly(void)
{
	static const char result[] = "{\"s\":\"a\\\"b\\\\c\\u0001\u00e9 \xe6\x97\xa5\",\"t\":[1,2]}";
	static const char artifact[] = "out/\xe6\x97\xa5 \"q\".csv";
	struct bj_claimed *c;
	long long id = make("exact", 2, 1);
	int n = claim_on(db, "exact", 2, &c);
	struct bj_completion b[4];
	struct bj_rows *r;

	CU_ASSERT_EQUAL_FATAL(n, 2);
	b[0] = (struct bj_completion){ c[0].id, c[0].lease_token, result, artifact, BJ_ERR_INTERNAL };
	b[1] = (struct bj_completion){ c[0].id, c[0].lease_token, "{}", NULL, BJ_ERR_INTERNAL };
	b[2] = (struct bj_completion){ c[0].id, c[0].lease_token, "{}", NULL, BJ_ERR_INTERNAL };
	b[3] = (struct bj_completion){ c[1].id, c[1].lease_token, NULL, NULL, BJ_ERR_INTERNAL };
	CU_ASSERT_EQUAL_FATAL(bj_lease_complete_batch(db, b, 4), BJ_OK);
	CU_ASSERT_EQUAL(b[0].outcome, BJ_OK);
	CU_ASSERT_EQUAL(b[1].outcome, BJ_ERR_ALREADY_COMPLETED);
	CU_ASSERT_EQUAL(b[2].outcome, BJ_ERR_ALREADY_COMPLETED);
	CU_ASSERT_EQUAL(b[3].outcome, BJ_OK);
	r = bj_db_query(db, "SELECT result, artifact FROM items WHERE id = ?", "i", c[0].id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(bj_rows_get(r, 0, 0), result);
	CU_ASSERT_STRING_EQUAL(bj_rows_get(r, 0, 1), artifact);
	bj_rows_free(r);
	r = bj_db_query(db, "SELECT result IS NULL, artifact IS NULL FROM items WHERE id = ?", "i",
	    c[1].id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(bj_rows_int(r, 0, 0), 1);
	CU_ASSERT_EQUAL(bj_rows_int(r, 0, 1), 1);
	bj_rows_free(r);
	CU_ASSERT_EQUAL(q("SELECT n_succeeded FROM jobs WHERE id = %lld", id), 2);
	assert_counts_match(id);
	bj_claimed_free(c, n);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("complete_batch", init, NULL);

	CU_add_test(s, "mixed tokens and two jobs: each item its own outcome",
	    test_mixed_tokens_two_jobs);
	CU_add_test(s, "a batch with the last items advances the stage, then ends the job",
	    test_last_items_settle_the_job);
	CU_add_test(s, "empty and oversized batches are refused", test_bounds);
	CU_add_test(s, "results stored exactly; the same item thrice counts once",
	    test_results_stored_exactly);
	CU_add_test(s, "concurrent batches over several jobs all complete",
	    test_concurrent_batches);
	CU_add_test(s, "locked rows: retried, then refused whole, nothing changed",
	    test_locked_rows_exhaust_retries);
	CU_add_test(s, "the batch statements read items by primary key",
	    test_batch_plans_use_primary_key);
	return bj_test_run();
}
