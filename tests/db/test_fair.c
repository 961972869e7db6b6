/*
 * test_fair.c: fair claiming against a real MariaDB: shares across owners
 * and jobs, priority weights, paused and ended jobs, new jobs served
 * soon, concurrency limits under racing claimers, and a claim's cost with
 * many owners.
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
	db = bj_test_db("fair");
	conf = bj_test_conf("fair");
	return db == NULL ? -1 : 0;
}

#define q(...)	bj_test_scalarf(db, __VA_ARGS__)

/* A job of n items of kind for owner, with priority and max_concurrency (0: none). */
static long long
make(const char *kind, const char *owner, size_t n, int priority, int max_conc)
{
	return bj_test_make_job(db, &(struct bj_test_job){ .kind = kind, .owner = owner, .n = n,
	    .priority = priority, .max_concurrency = max_conc,
	    .on_item_failure = BJ_ON_FAIL_CONTINUE, .max_attempts = 100 });
}

/* Claim limit items of kind n times on d; the number of items received. */
static int
claim_n(struct bj_db *d, const char *kind, int times, int limit)
{
	const char *kinds[] = { kind };
	struct bj_claim_req r = { "w", kinds, 1, limit, 0, conf->max_per_owner,
	    conf->max_per_kind, NULL };
	struct bj_claimed *c;
	int n, total = 0;

	for (int i = 0; i < times; i++) {
		enum bj_err e = bj_claim(d, &r, &c, &n);

		if (e != BJ_OK)
			fprintf(stderr, "claim: %s (%s)\n", bj_err_code(e), bj_db_error(d));
		CU_ASSERT_EQUAL_FATAL(e, BJ_OK);
		total += n;
		bj_claimed_free(c, n);
	}
	return total;
}

/* Items of kind claimed so far for owner. */
static long long
claimed_of(const char *kind, const char *owner)
{
	return q("SELECT COUNT(*) FROM items i JOIN jobs j ON j.id = i.job_id WHERE j.kind = '%s'"
	    " AND j.owner = '%s' AND i.state = 'claimed'", kind, owner);
}

/* Ten backlogged owners (one of them with three jobs) share 1,000 claims equally. */
static void
test_share_across_owners(void)
{
	char owner[10][16];

	for (int i = 0; i < 10; i++) {
		snprintf(owner[i], sizeof owner[i], "o%d", i);
		make("share", owner[i], 200, 0, 0);
	}
	make("share", "o0", 200, 0, 0);
	make("share", "o0", 200, 0, 0);
	CU_ASSERT_EQUAL(claim_n(db, "share", 1000, 1), 1000);
	for (int i = 0; i < 10; i++) {
		long long got = claimed_of("share", owner[i]);

		CU_ASSERT(got >= 90 && got <= 110);
		if (got < 90 || got > 110)
			fprintf(stderr, "owner %s got %lld of 1000\n", owner[i], got);
	}
	/* o0's three jobs share o0's part */
	CU_ASSERT(q("SELECT MIN(n_claimed) FROM jobs WHERE kind = 'share' AND owner = 'o0'") >= 30);
}

struct sharer {
	pthread_t	 t;
	int		 got, errors;
};

/* One claimer on its own connection: 40 claims of 10 items of kind "cshare". */
static void *
share_claimer(void *arg)
{
	struct sharer *me = arg;
	struct bj_db *mine;
	const char *kinds[] = { "cshare" };
	struct bj_claim_req r = { "w", kinds, 1, 10, 0, 0, NULL, NULL };
	struct bj_claimed *c;
	int n;

	mysql_thread_init();
	mine = bj_db_new(conf);
	if (bj_db_connect(mine) == -1)
		me->errors++;
	else
		for (int i = 0; i < 40; i++) {
			if (bj_claim(mine, &r, &c, &n) != BJ_OK) {
				me->errors++;
				continue;
			}
			me->got += n;
			bj_claimed_free(c, n);
		}
	bj_db_free(mine);
	mysql_thread_end();
	return NULL;
}

/* Four claimers at once, batches of 10: the owners' shares stay within 10%. */
static void
test_share_with_concurrent_claimers(void)
{
	static struct sharer sh[4];
	char owner[10][16];
	int total = 0;

	for (int i = 0; i < 10; i++) {
		snprintf(owner[i], sizeof owner[i], "c%d", i);
		make("cshare", owner[i], 400, 0, 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_create(&sh[i].t, NULL, share_claimer, &sh[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(sh[i].t, NULL);
		CU_ASSERT_EQUAL(sh[i].errors, 0);
		total += sh[i].got;
	}
	CU_ASSERT_EQUAL(total, 1600);
	for (int i = 0; i < 10; i++) {
		long long got = claimed_of("cshare", owner[i]);

		CU_ASSERT(got >= 144 && got <= 176);
		if (got < 144 || got > 176)
			fprintf(stderr, "owner %s got %lld of 1600\n", owner[i], got);
	}
}

/* Priority p weighs 2^p: across owners 4:2:1, and among one owner's jobs 4:1. */
static void
test_priority_weights(void)
{
	long long a, b, c, hi, lo;

	make("prio", "pa", 600, 1, 0);
	make("prio", "pb", 600, 0, 0);
	make("prio", "pc", 600, -1, 0);
	CU_ASSERT_EQUAL(claim_n(db, "prio", 700, 1), 700);
	a = claimed_of("prio", "pa");
	b = claimed_of("prio", "pb");
	c = claimed_of("prio", "pc");
	CU_ASSERT(a >= 360 && a <= 440);
	CU_ASSERT(b >= 180 && b <= 220);
	CU_ASSERT(c >= 90 && c <= 110);
	/* a lower priority is slowed, never starved */
	CU_ASSERT(c > 0);

	hi = make("prio2", "pd", 600, 2, 0);
	lo = make("prio2", "pd", 600, 0, 0);
	CU_ASSERT_EQUAL(claim_n(db, "prio2", 500, 1), 500);
	CU_ASSERT(q("SELECT n_claimed FROM jobs WHERE id = %lld", hi) >= 360);
	CU_ASSERT(q("SELECT n_claimed FROM jobs WHERE id = %lld", lo) >= 90);
	CU_ASSERT(q("SELECT n_claimed FROM jobs WHERE id = %lld", lo) <= 110);
}

/* A paused or cancelled job's share goes to the others; a resumed one is owed nothing. */
static void
test_paused_share_goes_to_others(void)
{
	long long x = make("pause", "px", 500, 0, 0);
	long long y = make("pause", "py", 500, 0, 0);
	long long z = make("pause", "pz", 500, 0, 0);

	CU_ASSERT_EQUAL(claim_n(db, "pause", 30, 1), 30);
	CU_ASSERT_EQUAL(bj_job_change(db, x, BJ_CHANGE_PAUSE, NULL), BJ_OK);
	CU_ASSERT_EQUAL(bj_job_change(db, z, BJ_CHANGE_CANCEL, NULL), BJ_OK);
	CU_ASSERT_EQUAL(claim_n(db, "pause", 200, 1), 200);
	CU_ASSERT_EQUAL(q("SELECT n_claimed FROM jobs WHERE id = %lld", x), 10);
	CU_ASSERT_EQUAL(q("SELECT n_claimed FROM jobs WHERE id = %lld", y), 210);
	/* back after 200 claims it did not get: it shares from now on, no burst */
	CU_ASSERT_EQUAL(bj_job_change(db, x, BJ_CHANGE_RESUME, NULL), BJ_OK);
	CU_ASSERT_EQUAL(claim_n(db, "pause", 100, 1), 100);
	CU_ASSERT(q("SELECT n_claimed FROM jobs WHERE id = %lld", x) - 10 >= 45);
	CU_ASSERT(q("SELECT n_claimed FROM jobs WHERE id = %lld", x) - 10 <= 55);
}

/* The items of the claims that follow a new job's arrival, by job. */
static void
test_new_job_served_within_two_batches(void)
{
	const char *kinds[] = { "newjob" };
	struct bj_claim_req r = { "w", kinds, 1, 20, 0, 0, NULL, NULL };
	struct bj_claimed *c;
	long long small, mine;
	int n, seen = 0;

	make("newjob", "big", 2000, 0, 0);
	CU_ASSERT_EQUAL(claim_n(db, "newjob", 5, 20), 100);
	small = make("newjob", "small", 5, 0, 0);
	for (int b = 0; b < 2; b++) {
		CU_ASSERT_EQUAL_FATAL(bj_claim(db, &r, &c, &n), BJ_OK);
		for (int i = 0; i < n; i++)
			seen += c[i].job_id == small;
		bj_claimed_free(c, n);
	}
	CU_ASSERT_EQUAL(seen, 5);
	/* the same for a second job of the busy owner itself */
	mine = make("newjob", "big", 5, 0, 0);
	seen = 0;
	for (int b = 0; b < 2; b++) {
		CU_ASSERT_EQUAL_FATAL(bj_claim(db, &r, &c, &n), BJ_OK);
		for (int i = 0; i < n; i++)
			seen += c[i].job_id == mine;
		bj_claimed_free(c, n);
	}
	CU_ASSERT_EQUAL(seen, 5);
}

/* --- limits under racing claimers --- */

#define LIMIT_THREADS 8

struct limit_run {
	const char	*kind;
	volatile int	 stop;
	int		 errors;
	long long	 max_seen;
	const char	*sample;	/* the claimed items in the limited scope */
};

/*
 * A worker on its own connection: claim up to 3, then complete, fail (a
 * retry) or abandon each item (its 1 s lease is left to the reaper),
 * until told to stop.
 */
static void *
limit_worker(void *arg)
{
	struct limit_run *lr = arg;
	struct bj_db *mine;
	const char *kinds[] = { lr->kind };
	struct bj_claim_req r = { "lw", kinds, 1, 3, 1, conf->max_per_owner, conf->max_per_kind, NULL };
	struct bj_claimed *c;
	unsigned seed = (unsigned)(size_t)&r;
	int n;

	mysql_thread_init();
	mine = bj_db_new(conf);
	if (bj_db_connect(mine) == -1) {
		__atomic_add_fetch(&lr->errors, 1, __ATOMIC_SEQ_CST);
		goto out;
	}
	while (!lr->stop) {
		enum bj_err e = bj_claim(mine, &r, &c, &n);

		if (e != BJ_OK) {
			fprintf(stderr, "claim: %s (%s)\n", bj_strerror(e), bj_db_error(mine));
			__atomic_add_fetch(&lr->errors, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		usleep(2000);
		for (int i = 0; i < n; i++) {
			int what = (int)(rand_r(&seed) % 10);
			struct bj_lease_status st;

			if (what < 6)
				bj_lease_complete(mine, c[i].id, c[i].lease_token, NULL, NULL);
			else if (what < 8)
				bj_lease_fail(mine, c[i].id, c[i].lease_token, "try again", 1);
			else if (what < 9) {
				bj_lease_heartbeat(mine, c[i].id, c[i].lease_token, 1, -1, -1, &st);
				bj_lease_status_free(&st);
			}
			/* else abandoned: the reaper takes it back */
		}
		bj_claimed_free(c, n);
		if (n == 0)
			usleep(5000);
	}
out:
	bj_db_free(mine);
	mysql_thread_end();
	return NULL;
}

/* Sample the claimed items of the scope until told to stop; the largest seen. */
static void *
limit_sampler(void *arg)
{
	struct limit_run *lr = arg;
	struct bj_db *mine;

	mysql_thread_init();
	mine = bj_db_new(conf);
	if (bj_db_connect(mine) == -1)
		lr->errors++;
	else
		while (!lr->stop) {
			long long v = bj_test_scalar(mine, lr->sample);

			if (v > lr->max_seen)
				lr->max_seen = v;
		}
	bj_db_free(mine);
	mysql_thread_end();
	return NULL;
}

/* Run 8 workers and a sampler on kind for about seconds, with the reaper every 300 ms. */
static void
race_limit(struct limit_run *lr, int seconds)
{
	pthread_t w[LIMIT_THREADS], s;
	struct bj_reaper rp;
	time_t end = time(NULL) + seconds;

	memset(&rp, 0, sizeof rp);
	rp.conf = conf;
	rp.db = db;
	rp.batch = 100;
	pthread_create(&s, NULL, limit_sampler, lr);
	for (int i = 0; i < LIMIT_THREADS; i++)
		pthread_create(&w[i], NULL, limit_worker, lr);
	while (time(NULL) < end) {
		usleep(300000);
		rp.cancel_left = 1;
		CU_ASSERT_EQUAL(bj_reaper_orphans(&rp), 0);
	}
	lr->stop = 1;
	for (int i = 0; i < LIMIT_THREADS; i++)
		pthread_join(w[i], NULL);
	pthread_join(s, NULL);
	CU_ASSERT_EQUAL(lr->errors, 0);
}

/* The counters of kind's jobs equal their items' states. */
static void
assert_counts(const char *kind)
{
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM jobs j WHERE j.kind = '%s' AND j.n_claimed <>"
	    " (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'claimed')", kind), 0);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM jobs j WHERE j.kind = '%s' AND j.n_pending <>"
	    " (SELECT COUNT(*) FROM items i WHERE i.job_id = j.id AND i.state = 'pending')", kind), 0);
}

static void
test_job_limit_holds(void)
{
	static char sample[200];
	struct limit_run lr = { "jlim", 0, 0, 0, sample };
	long long id = make("jlim", "lj", 400, 0, 3);

	make("jlim", "lj2", 400, 0, 0);	/* others keep the workers busy meanwhile */
	snprintf(sample, sizeof sample,
	    "SELECT COUNT(*) FROM items WHERE job_id = %lld AND state = 'claimed'", id);
	race_limit(&lr, 4);
	CU_ASSERT(lr.max_seen <= 3);
	CU_ASSERT_EQUAL(lr.max_seen, 3);	/* the limit was reached, so it was tested */
	CU_ASSERT(q("SELECT n_succeeded FROM jobs WHERE id = %lld", id) > 0);
	assert_counts("jlim");
}

static void
test_owner_limit_holds(void)
{
	static const char sample[] = "SELECT COUNT(*) FROM items i JOIN jobs j ON j.id = i.job_id"
	    " WHERE j.owner = 'lo' AND i.state = 'claimed'";
	struct limit_run lr = { "olim", 0, 0, 0, sample };

	make("olim", "lo", 300, 0, 0);
	make("olim", "lo", 300, 2, 0);
	make("olim", "other", 300, 0, 0);
	conf->max_per_owner = 5;
	race_limit(&lr, 4);
	conf->max_per_owner = 0;
	CU_ASSERT(lr.max_seen <= 5);
	CU_ASSERT_EQUAL(lr.max_seen, 5);
	CU_ASSERT(claimed_of("olim", "other") + q("SELECT COUNT(*) FROM items i JOIN jobs j"
	    " ON j.id = i.job_id WHERE j.owner = 'other' AND i.state = 'succeeded'") > 0);
	assert_counts("olim");
}

static void
test_kind_limit_holds(void)
{
	static const char sample[] = "SELECT COUNT(*) FROM items i JOIN jobs j ON j.id = i.job_id"
	    " WHERE j.kind = 'klim' AND i.state = 'claimed'";
	struct limit_run lr = { "klim", 0, 0, 0, sample };
	static char limits[] = "other=1, klim=4";
	char *saved = conf->max_per_kind;

	make("klim", "k1", 300, 0, 0);
	make("klim", "k2", 300, 0, 0);
	make("klim", "k3", 300, 0, 0);
	conf->max_per_kind = limits;
	race_limit(&lr, 4);
	conf->max_per_kind = saved;
	CU_ASSERT(lr.max_seen <= 4);
	CU_ASSERT_EQUAL(lr.max_seen, 4);
	assert_counts("klim");
}

/* waiting_on names the limit that holds a job back. */
static void
test_waiting_on(void)
{
	struct bj_job *j;
	long long id = make("wait", "wo", 10, 0, 2);

	CU_ASSERT_EQUAL(claim_n(db, "wait", 1, 5), 2);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(bj_claim_waiting(db, j, 0, NULL), BJ_OK);
	CU_ASSERT_STRING_EQUAL(j->waiting_on, "max_concurrency");
	CU_ASSERT_EQUAL(j->max_concurrency, 2);
	bj_job_free(j);

	id = make("wait2", "wo2", 10, -2, 0);
	CU_ASSERT_EQUAL(claim_n(db, "wait2", 1, 3), 3);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->priority, -2);
	CU_ASSERT_EQUAL(bj_claim_waiting(db, j, 0, NULL), BJ_OK);
	CU_ASSERT_PTR_NULL(j->waiting_on);
	CU_ASSERT_EQUAL(bj_claim_waiting(db, j, 3, NULL), BJ_OK);
	CU_ASSERT_STRING_EQUAL(j->waiting_on, "owner_limit");
	CU_ASSERT_EQUAL(bj_claim_waiting(db, j, 0, "wait2=3"), BJ_OK);
	CU_ASSERT_STRING_EQUAL(j->waiting_on, "kind_limit");
	CU_ASSERT_EQUAL(bj_claim_waiting(db, j, 0, "*=4"), BJ_OK);
	CU_ASSERT_PTR_NULL(j->waiting_on);
	bj_job_free(j);
}

/* Rows one claim reads on its connection (InnoDB handler reads). */
static long long
reads(void)
{
	return q("SELECT SUM(VARIABLE_VALUE) FROM information_schema.SESSION_STATUS"
	    " WHERE VARIABLE_NAME LIKE 'HANDLER_READ%%'");
}

/* With 1,000 owners' active jobs, a claim reads a few rows, not all of them. */
static void
test_claim_cost_with_many_owners(void)
{
	long long before, per_claim;

	/* planted as rows: 1,000 jobs through bj_job_create would only be slower */
	bj_test_sql(db, "INSERT INTO jobs (token, kind, owner, state, n_total, n_pending,"
	    " stage_remaining, created_at, updated_at, deadline_at, retention_seconds,"
	    " max_attempts, lease_seconds) SELECT CONCAT('many', LPAD(seq, 28, '0')), 'many',"
	    " CONCAT('mo', seq), 'queued', 2, 2, 2, NOW(6), NOW(6), NOW(6) + INTERVAL 1 HOUR,"
	    " 3600, 3, 60 FROM seq_1_to_1000");
	bj_test_sql(db, "INSERT INTO items (job_id, stage, `key`, run_after) SELECT j.id, 0,"
	    " CONCAT('k', s.seq), NOW(6) FROM jobs j JOIN seq_1_to_2 s WHERE j.kind = 'many'");
	bj_test_sql(db, "INSERT INTO claim_queues (kind, owner, active, pass)"
	    " SELECT 'many', owner, 1, 0 FROM jobs WHERE kind = 'many'");
	CU_ASSERT_EQUAL(claim_n(db, "many", 1, 16), 16);	/* warm */
	before = reads();
	CU_ASSERT_EQUAL(claim_n(db, "many", 10, 16), 160);
	per_claim = (reads() - before) / 10;
	fprintf(stderr, "handler reads per claim of 16 with 1,000 owners: %lld\n", per_claim);
	CU_ASSERT(per_claim < 400);
}

/*
 * A claim that finds its queue's row held elsewhere claims without it and
 * owes the cost (claim_debts); the next claim that holds the row pays it
 * into the pass, so no served item goes uncharged.
 */
static void
test_debt_folded_into_pass(void)
{
	struct bj_db *other = bj_db_new(conf);
	const char *pass = "SELECT pass FROM claim_queues WHERE kind = 'debt' AND owner = 'dora'";
	const char *debt = "SELECT COALESCE(SUM(debt), 0) FROM claim_debts"
	    " WHERE kind = 'debt' AND owner = 'dora'";
	long long cost = bj_claim_cost(0), before;

	CU_ASSERT_EQUAL_FATAL(bj_db_connect(other), 0);
	make("debt", "dora", 10, 0, 0);
	before = q("%s", pass);
	bj_test_sql(other, "START TRANSACTION");
	CU_ASSERT_EQUAL(bj_test_scalar(other, "SELECT pass FROM claim_queues"
	    " WHERE kind = 'debt' AND owner = 'dora' FOR UPDATE"), before);
	CU_ASSERT_EQUAL(claim_n(db, "debt", 1, 2), 2);
	CU_ASSERT_EQUAL(q("%s", debt), 2 * cost);
	bj_test_sql(other, "COMMIT");
	CU_ASSERT_EQUAL(q("%s", pass), before);
	CU_ASSERT_EQUAL(claim_n(db, "debt", 1, 1), 1);
	CU_ASSERT_EQUAL(q("%s", pass), before + 3 * cost);
	CU_ASSERT_EQUAL(q("%s", debt), 0);
	bj_db_free(other);
}

int
main(void)
{
	CU_pSuite s;

	mysql_library_init(0, NULL, NULL);
	s = bj_test_suite("fair", init, NULL);
	CU_add_test(s, "ten backlogged owners share 1,000 claims equally", test_share_across_owners);
	CU_add_test(s, "four concurrent claimers keep the shares", test_share_with_concurrent_claimers);
	CU_add_test(s, "priority weighs 2^p across owners and among jobs", test_priority_weights);
	CU_add_test(s, "a paused or cancelled job's share goes to the others",
	    test_paused_share_goes_to_others);
	CU_add_test(s, "a new job is served within the next two batches",
	    test_new_job_served_within_two_batches);
	CU_add_test(s, "max_concurrency holds under 8 racing workers", test_job_limit_holds);
	CU_add_test(s, "[claims] max_per_owner holds under 8 racing workers", test_owner_limit_holds);
	CU_add_test(s, "[claims] max_per_kind holds under 8 racing workers", test_kind_limit_holds);
	CU_add_test(s, "waiting_on names the limit", test_waiting_on);
	CU_add_test(s, "a claim's cost does not grow with the owners", test_claim_cost_with_many_owners);
	CU_add_test(s, "a claim without its queue's lock owes, the next one pays",
	    test_debt_folded_into_pass);
	return bj_test_run();
}
