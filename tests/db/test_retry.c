/*
 * test_retry.c: worker calls retried after a lost answer (the call
 * committed, then its connection was killed before the answer could go
 * out) answer as the first did; a big job ends in one short transaction,
 * its pending rows left to the reaper, the counters exact throughout.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "buf.h"
#include "claim.h"
#include "create.h"
#include "harness.h"
#include "job.h"
#include "lease.h"
#include "reaper.h"
#include "sql.h"

static struct bj_db *db;
static struct bj_conf *conf;

static int
init(void)
{
	db = bj_test_db("retry");
	conf = bj_test_conf("retry");
	return db == NULL ? -1 : 0;
}

#define q(...)	bj_test_scalarf(db, __VA_ARGS__)

/* A job of n items of kind; its id. */
static long long
make(const char *kind, size_t n)
{
	return bj_test_make_job(db, &(struct bj_test_job){ .kind = kind, .n = n });
}

/* A worker's own connection. */
static struct bj_db *
connect_one(void)
{
	struct bj_db *d = bj_db_new(conf);

	CU_ASSERT_EQUAL_FATAL(bj_db_connect(d), 0);
	return d;
}

/* Kill d's connection from outside, as a dying front end or network would. */
static void
kill_connection(struct bj_db *d)
{
	long long id = bj_test_scalar(d, "SELECT CONNECTION_ID()");

	bj_test_sqlf(db, "KILL CONNECTION %lld", id);
}

static int
claim_key(struct bj_db *d, const char *kind, int limit, const char *key,
    struct bj_claimed **c)
{
	const char *kinds[] = { kind };
	struct bj_claim_req r = { "w1", kinds, 1, limit, 0, 0, NULL, key };
	int n = -1;

	CU_ASSERT_EQUAL(bj_claim(d, &r, c, &n), BJ_OK);
	return n;
}

/* A claim whose answer was lost: its retry gets the same items under the same tokens. */
static void
test_claim_retried_after_lost_answer(void)
{
	long long job = make("rclaim", 10);
	struct bj_db *a = connect_one(), *b;
	struct bj_claimed *first, *again, *other;
	int n1, n2, n3;

	n1 = claim_key(a, "rclaim", 4, "k-1", &first);
	CU_ASSERT_EQUAL_FATAL(n1, 4);
	kill_connection(a);
	bj_db_free(a);
	b = connect_one();
	n2 = claim_key(b, "rclaim", 4, "k-1", &again);
	CU_ASSERT_EQUAL_FATAL(n2, 4);
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(again[i].id, first[i].id);
		CU_ASSERT_STRING_EQUAL(again[i].lease_token, first[i].lease_token);
		CU_ASSERT_EQUAL(again[i].attempt, 1);
	}
	/* nothing more was claimed */
	CU_ASSERT_EQUAL(q("SELECT n_claimed FROM jobs WHERE id = %lld", job), 4);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE job_id = %lld AND state = 'claimed'",
	    job), 4);
	/* one completed meanwhile: a retry gets the three still claimed */
	CU_ASSERT_EQUAL(bj_lease_complete(b, first[0].id, first[0].lease_token, NULL, NULL), BJ_OK);
	bj_claimed_free(again, n2);
	n2 = claim_key(b, "rclaim", 4, "k-1", &again);
	CU_ASSERT_EQUAL(n2, 3);
	/* another key, or none, claims anew */
	n3 = claim_key(b, "rclaim", 4, "k-2", &other);
	CU_ASSERT_EQUAL(n3, 4);
	for (int i = 0; i < n3; i++)
		for (int k = 0; k < n1; k++)
			CU_ASSERT_NOT_EQUAL(other[i].id, first[k].id);
	CU_ASSERT_EQUAL(q("SELECT n_claimed FROM jobs WHERE id = %lld", job), 7);
	bj_test_assert_counts(db, job);
	/* the reaper forgets keys older than the longest lease, not younger ones */
	{
		struct bj_reaper rp;

		bj_test_sql(db, "UPDATE claim_keys SET created_at = NOW(6) - INTERVAL 2 DAY"
		    " WHERE key_hash = SHA2(CONCAT('w1', CHAR(10), 'k-1'), 256)");
		memset(&rp, 0, sizeof rp);
		rp.conf = conf;
		rp.db = db;
		rp.batch = 100;
		CU_ASSERT_EQUAL(bj_reaper_purge(&rp), 0);
		CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM claim_keys WHERE key_hash ="
		    " SHA2(CONCAT('w1', CHAR(10), 'k-1'), 256)"), 0);
		CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM claim_keys WHERE key_hash ="
		    " SHA2(CONCAT('w1', CHAR(10), 'k-2'), 256)"), 1);
	}
	bj_claimed_free(first, n1);
	bj_claimed_free(again, n2);
	bj_claimed_free(other, n3);
	bj_db_free(b);
}

/* A /fail or a heartbeat whose answer was lost: the retry answers as the first did. */
static void
test_fail_and_heartbeat_retried(void)
{
	long long job = make("rfail", 3);
	struct bj_db *a = connect_one(), *b;
	struct bj_claimed *c;
	struct bj_lease_status st;
	int n = claim_key(a, "rfail", 2, NULL, &c);

	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(bj_lease_fail(a, c[0].id, c[0].lease_token, "boom", 1), BJ_OK);
	CU_ASSERT_EQUAL(bj_lease_heartbeat(a, c[1].id, c[1].lease_token, 60, 1, 2, &st), BJ_OK);
	bj_lease_status_free(&st);
	kill_connection(a);
	bj_db_free(a);
	b = connect_one();
	CU_ASSERT_EQUAL(bj_lease_fail(b, c[0].id, c[0].lease_token, "boom", 1), BJ_OK);
	CU_ASSERT_EQUAL(bj_lease_heartbeat(b, c[1].id, c[1].lease_token, 60, 1, 2, &st), BJ_OK);
	CU_ASSERT_PTR_NOT_NULL(st.lease_expires_at);
	bj_lease_status_free(&st);
	/* counted once: one failure record, one retry, attempt still 1 */
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM item_failures WHERE item_id = %lld", c[0].id), 1);
	CU_ASSERT_EQUAL(q("SELECT attempt FROM items WHERE id = %lld", c[0].id), 1);
	CU_ASSERT_EQUAL(q("SELECT n_pending FROM jobs WHERE id = %lld", job), 2);
	bj_test_assert_counts(db, job);
	/* a token that never failed it is still refused */
	CU_ASSERT_EQUAL(bj_lease_fail(b, c[0].id, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x", 1),
	    BJ_ERR_LEASE_LOST);
	/* a completed item's token cannot fail it */
	CU_ASSERT_EQUAL(bj_lease_complete(b, c[1].id, c[1].lease_token, NULL, NULL), BJ_OK);
	CU_ASSERT_EQUAL(bj_lease_fail(b, c[1].id, c[1].lease_token, "x", 1),
	    BJ_ERR_ALREADY_COMPLETED);
	bj_claimed_free(c, n);
	bj_db_free(b);
}

struct claimer {
	pthread_t	 t;
	volatile int	*stop;
	int		 got, errors, after;	/* after: items claimed once the cancel answered */
	volatile int	*cancelled;
};

/* A worker of another kind on its own connection: claim and complete until told to stop. */
static void *
other_worker(void *arg)
{
	struct claimer *me = arg;
	struct bj_db *mine;
	const char *kinds[] = { "rother" };
	struct bj_claim_req r = { "ow", kinds, 1, 4, 0, 0, NULL, NULL };
	struct bj_claimed *c;
	int n;

	mysql_thread_init();
	mine = bj_db_new(conf);
	if (bj_db_connect(mine) == -1)
		me->errors++;
	else
		while (!*me->stop) {
			if (bj_claim(mine, &r, &c, &n) != BJ_OK) {
				me->errors++;
				continue;
			}
			for (int i = 0; i < n; i++)
				if (bj_lease_complete(mine, c[i].id, c[i].lease_token, NULL,
				    NULL) != BJ_OK)
					me->errors++;
			me->got += n;
			if (*me->cancelled)
				me->after += n;
			bj_claimed_free(c, n);
		}
	bj_db_free(mine);
	mysql_thread_end();
	return NULL;
}

/*
 * A 50,000-item job is cancelled in one short transaction while four
 * workers claim and complete another job: its counters at once, its
 * claims revoked, its pending rows left to the reaper's leftovers sweep,
 * which cancels them in batches; nothing claims them, and the other
 * job's workers go on without an error.
 */
static void
test_cancel_big_job_defers_rows(void)
{
	long long job = make("rbig", 50000), other = make("rbig", 10);
	struct claimer w[4];
	volatile int stop = 0, cancelled = 0;
	struct bj_claimed *c;
	struct bj_reaper rp;
	int n = claim_key(db, "rbig", 5, NULL, &c);

	make("rother", 20000);
	CU_ASSERT_EQUAL_FATAL(n, 5);
	for (int i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].stop = &stop;
		w[i].cancelled = &cancelled;
		pthread_create(&w[i].t, NULL, other_worker, &w[i]);
	}
	usleep(300000);
	CU_ASSERT_EQUAL_FATAL(bj_job_change(db, job, BJ_CHANGE_CANCEL, "test"), BJ_OK);
	cancelled = 1;
	usleep(300000);
	stop = 1;
	for (int i = 0; i < 4; i++) {
		pthread_join(w[i].t, NULL);
		CU_ASSERT_EQUAL(w[i].errors, 0);
		CU_ASSERT(w[i].got > 0);
	}
	CU_ASSERT(w[0].after + w[1].after + w[2].after + w[3].after > 0);
	CU_ASSERT_EQUAL(q("SELECT state = 'cancelled' FROM jobs WHERE id = %lld", job), 1);
	CU_ASSERT_EQUAL(q("SELECT n_pending + n_claimed FROM jobs WHERE id = %lld", job), 0);
	CU_ASSERT_EQUAL(q("SELECT n_cancelled + n_succeeded FROM jobs WHERE id = %lld", job), 50000);
	/* the claims are revoked at once; the pending rows wait for the reaper */
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE job_id = %lld AND state = 'claimed'",
	    job), 0);
	CU_ASSERT(q("SELECT COUNT(*) FROM items WHERE job_id = %lld AND state = 'pending'", job) > 0);
	bj_claimed_free(c, n);
	/* claims go on with the other job only */
	n = claim_key(db, "rbig", 20, NULL, &c);
	CU_ASSERT_EQUAL(n, 10);
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(c[i].job_id, other);
	bj_claimed_free(c, n);
	/* the reaper's sweep cancels the rows, the counters unchanged */
	memset(&rp, 0, sizeof rp);
	rp.conf = conf;
	rp.db = db;
	rp.batch = 5000;
	for (int run = 0; run < 20 && q("SELECT COUNT(*) FROM items WHERE job_id = %lld"
	    " AND state = 'pending'", job) > 0; run++) {
		rp.cancel_left = 30;
		CU_ASSERT_EQUAL(bj_reaper_cancel_leftovers(&rp), 0);
	}
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE job_id = %lld AND state = 'pending'",
	    job), 0);
	bj_test_assert_counts(db, job);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM notifications WHERE job_id = %lld", job),
	    q("SELECT COUNT(*) FROM job_targets WHERE job_id = %lld", job));
}

int
main(void)
{
	CU_pSuite s;

	mysql_library_init(0, NULL, NULL);
	s = bj_test_suite("retry", init, NULL);
	CU_add_test(s, "a claim retried after its answer was lost gets the same items",
	    test_claim_retried_after_lost_answer);
	CU_add_test(s, "/fail and heartbeat retried after a lost answer answer as the first did",
	    test_fail_and_heartbeat_retried);
	CU_add_test(s, "a 50,000-item job is cancelled at once, its rows later",
	    test_cancel_big_job_defers_rows);
	return bj_test_run();
}
