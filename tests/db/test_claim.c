/* test_claim.c: creating jobs and claiming their items against a real MariaDB, with racing claimers. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "buf.h"
#include "claim.h"
#include "create.h"
#include "harness.h"
#include "job.h"
#include "sql.h"

static struct bj_db *db;
static struct bj_conf *conf;

static int
init(void)
{
	db = bj_test_db("claim");
	conf = bj_test_conf("claim");
	return db == NULL ? -1 : 0;
}

/* A scalar query built from fmt. */
#define q(...)	bj_test_scalarf(db, __VA_ARGS__)

/* A spec of n items of kind, stage i % stages; items is caller-provided. */
static void
spec_init(struct bj_job_spec *s, const char *kind, struct bj_item_spec *items, size_t n,
    int stages, char (*keys)[16])
{
	bj_test_job_spec(s, kind, items, keys, n, stages);
	s->title = "t";
	for (size_t i = 0; i < n; i++)
		items[i].payload = "{\"n\":1}";
}

static void
test_create_whole_and_big(void)
{
	size_t n = 1234;
	struct bj_item_spec *items = bj_xcalloc(n, sizeof *items);
	char (*keys)[16] = bj_xcalloc(n, 16);
	struct bj_job_spec s;
	struct bj_job *j;
	long long id;
	int existed;
	char why[200];

	spec_init(&s, "bigone", items, n, 2, keys);
	CU_ASSERT_EQUAL_FATAL(bj_job_spec_check(&s, 1000000, why, sizeof why), BJ_OK);
	CU_ASSERT_EQUAL_FATAL(bj_job_create(db, &s, &id, &existed), BJ_OK);
	CU_ASSERT_EQUAL(existed, 0);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE job_id = %lld", id), 1234);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE job_id = %lld AND stage = 1", id), 617);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->n_total, 1234);
	CU_ASSERT_EQUAL(j->n_pending, 1234);
	CU_ASSERT_EQUAL(j->stage, 0);
	CU_ASSERT_EQUAL(j->stage_count, 2);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_QUEUED);
	CU_ASSERT_EQUAL(strlen(j->token), 32);
	bj_job_free(j);
	CU_ASSERT_EQUAL(q("SELECT stage_remaining FROM jobs WHERE id = %lld", id), 617);
	free(items);
	free(keys);
}

static void
test_big_payloads_go_row_by_row(void)
{
	size_t n = 600;
	struct bj_item_spec *items = bj_xcalloc(n, sizeof *items);
	char (*keys)[16] = bj_xcalloc(n, 16);
	char *payload = bj_xmalloc(9003);
	struct bj_job_spec s;
	long long id;
	int existed;
	char why[200];

	payload[0] = '"';
	memset(payload + 1, 'p', 9000);
	payload[9001] = '"';
	payload[9002] = '\0';
	spec_init(&s, "heavy", items, n, 1, keys);
	for (size_t i = 0; i < n; i++)
		items[i].payload = payload;
	CU_ASSERT_EQUAL_FATAL(bj_job_spec_check(&s, 1000000, why, sizeof why), BJ_OK);
	CU_ASSERT_EQUAL_FATAL(bj_job_create(db, &s, &id, &existed), BJ_OK);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE job_id = %lld AND LENGTH(payload) = 9002", id), 600);
	free(items);
	free(keys);
	free(payload);
}

static void
test_idempotency(void)
{
	struct bj_item_spec items[1];
	char keys[1][16];
	struct bj_job_spec s;
	long long id1, id2;
	int existed;

	spec_init(&s, "idem", items, 1, 1, keys);
	s.idempotency_key = "order-7";
	memset(s.request_hash, 'a', 64);
	CU_ASSERT_EQUAL_FATAL(bj_job_create(db, &s, &id1, &existed), BJ_OK);
	CU_ASSERT_EQUAL(existed, 0);
	CU_ASSERT_EQUAL_FATAL(bj_job_create(db, &s, &id2, &existed), BJ_OK);
	CU_ASSERT_EQUAL(existed, 1);
	CU_ASSERT_EQUAL(id1, id2);
	memset(s.request_hash, 'b', 64);
	CU_ASSERT_EQUAL(bj_job_create(db, &s, &id2, &existed), BJ_ERR_IDEMPOTENCY_MISMATCH);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM jobs WHERE idempotency_key = 'order-7'"), 1);
	/* another owner may use the same key */
	s.owner = "bob";
	CU_ASSERT_EQUAL(bj_job_create(db, &s, &id2, &existed), BJ_OK);
	CU_ASSERT_NOT_EQUAL(id1, id2);
}

static void
test_spec_check_names_field(void)
{
	struct bj_item_spec items[2];
	char keys[2][16];
	struct bj_job_spec s;
	char why[200];
	const char *emails[] = { "a@b.c\r\nBcc: x@y.z" };
	const char *hooks[] = { "file:///etc/passwd" };

	spec_init(&s, "x", items, 2, 1, keys);
	s.kind = "bad kind";
	CU_ASSERT_EQUAL(bj_job_spec_check(&s, 10, why, sizeof why), BJ_ERR_VALIDATION);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "kind"));
	s.kind = "x";
	CU_ASSERT_EQUAL(bj_job_spec_check(&s, 1, why, sizeof why), BJ_ERR_VALIDATION);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "items"));
	s.emails = emails;
	s.nemails = 1;
	CU_ASSERT_EQUAL(bj_job_spec_check(&s, 10, why, sizeof why), BJ_ERR_VALIDATION);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "notify.email[0]"));
	s.nemails = 0;
	s.webhooks = hooks;
	s.nwebhooks = 1;
	CU_ASSERT_EQUAL(bj_job_spec_check(&s, 10, why, sizeof why), BJ_ERR_VALIDATION);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "notify.webhooks[0]"));
	{
		const char *whyurl = NULL;

		CU_ASSERT_TRUE(bj_webhook_ok("https://example.org/hook?x=1", &whyurl));
		CU_ASSERT_TRUE(bj_webhook_ok("https://example.org/hook?at=a@b", &whyurl));
		CU_ASSERT_FALSE(bj_webhook_ok("http://user:pw@127.0.0.1/hook", &whyurl));
		CU_ASSERT_PTR_NOT_NULL(strstr(whyurl, "user info"));
		CU_ASSERT_FALSE(bj_webhook_ok("https://token@example.org", &whyurl));
		CU_ASSERT_PTR_NOT_NULL(strstr(whyurl, "user info"));
		CU_ASSERT_FALSE(bj_webhook_ok("ftp://example.org/", &whyurl));
		CU_ASSERT_PTR_NOT_NULL(strstr(whyurl, "http or https"));
	}
	CU_ASSERT_TRUE(bj_email_ok("ops@example.org"));
	CU_ASSERT_FALSE(bj_email_ok("Ops <ops@example.org>"));
}

/* Create a job of kind with n items over stages and return its id. */
static long long
make(const char *kind, size_t n, int stages)
{
	return bj_test_make_job(db, &(struct bj_test_job){ .kind = kind, .n = n, .stages = stages,
	    .title = "t", .payload = "{\"n\":1}" });
}

static void
test_claim_basics_and_gating(void)
{
	const char *kinds[] = { "gate" };
	struct bj_claim_req r = { "w1", kinds, 1, 10, 0, 0, NULL, NULL };
	struct bj_claimed *c;
	struct bj_job *j;
	int n;
	long long id = make("gate", 4, 2);	/* two items in stage 0, two in stage 1 */

	CU_ASSERT_EQUAL_FATAL(bj_claim(db, &r, &c, &n), BJ_OK);
	CU_ASSERT_EQUAL(n, 2);		/* stage 1 is gated */
	for (int i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(c[i].job_id, id);
		CU_ASSERT_EQUAL(c[i].stage, 0);
		CU_ASSERT_EQUAL(c[i].attempt, 1);
		CU_ASSERT_EQUAL(strlen(c[i].lease_token), 32);
		CU_ASSERT_STRING_EQUAL(c[i].kind, "gate");
		CU_ASSERT_STRING_EQUAL(c[i].payload, "{\"n\":1}");
		CU_ASSERT_PTR_NOT_NULL(c[i].lease_expires_at);
	}
	CU_ASSERT_STRING_NOT_EQUAL(c[0].lease_token, c[1].lease_token);
	bj_claimed_free(c, n);
	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, id, &j), BJ_OK);
	CU_ASSERT_EQUAL(j->state, BJ_JOB_RUNNING);
	CU_ASSERT_PTR_NOT_NULL(j->started_at);
	CU_ASSERT_EQUAL(j->n_claimed, 2);
	CU_ASSERT_EQUAL(j->n_pending, 2);
	bj_job_free(j);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM job_events WHERE job_id = %lld AND type = 'started'", id), 1);
	/* nothing more to claim now */
	CU_ASSERT_EQUAL_FATAL(bj_claim(db, &r, &c, &n), BJ_OK);
	CU_ASSERT_EQUAL(n, 0);
	bj_claimed_free(c, n);
}

static void
test_claim_skips_paused_future_and_other_kinds(void)
{
	const char *kinds[] = { "skipme" };
	struct bj_claim_req r = { "w1", kinds, 1, 10, 0, 0, NULL, NULL };
	struct bj_claimed *c;
	int n;
	long long a = make("skipme", 1, 1), b = make("skipme", 1, 1), d = make("skipme", 1, 1);
	long long e = make("skipme", 1, 1);

	make("otherkind", 1, 1);
	{
		char sql[200];
		snprintf(sql, sizeof sql, "UPDATE jobs SET state = 'paused' WHERE id = %lld", a);
		bj_test_sql(db, sql);
		snprintf(sql, sizeof sql, "UPDATE items SET run_after = NOW(6) + INTERVAL 1 HOUR"
		    " WHERE job_id = %lld", b);
		bj_test_sql(db, sql);
		snprintf(sql, sizeof sql, "UPDATE jobs SET state = 'cancelled' WHERE id = %lld", d);
		bj_test_sql(db, sql);
		snprintf(sql, sizeof sql, "UPDATE jobs SET deadline_at = NOW(6) - INTERVAL 1 SECOND"
		    " WHERE id = %lld", e);
		bj_test_sql(db, sql);
	}
	CU_ASSERT_EQUAL_FATAL(bj_claim(db, &r, &c, &n), BJ_OK);
	CU_ASSERT_EQUAL(n, 0);
	bj_claimed_free(c, n);
}

static void
test_claim_plan_uses_indexes(void)
{
	struct bj_rows *r;
	static char sql[600], sql2[1200];	/* the statement cache keeps the address */
	long long id = make("plan", 3, 1);
	int found = 0;

	snprintf(sql, sizeof sql, "EXPLAIN SELECT id FROM items WHERE job_id = %lld AND"
	    " state = 'pending' AND stage = 0 AND run_after <= NOW(6)"
	    " ORDER BY run_after, id LIMIT 10 FOR UPDATE SKIP LOCKED", id);
	r = bj_db_queryp(db, sql, NULL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	/* columns: id, select_type, table, type, possible_keys, key, … */
	for (int i = 0; i < r->nrows; i++)
		if (bj_rows_get(r, i, 5) && strcmp(bj_rows_get(r, i, 5), "ix_items_claim") == 0)
			found = 1;
	CU_ASSERT_TRUE(found);
	bj_rows_free(r);
	/* the real text, its two placeholders written as literals (EXPLAIN takes none) */
	{
		const char *t = bj_sql_claim_queues(2), *qm;
		size_t o = (size_t)snprintf(sql2, sizeof sql2, "EXPLAIN ");

		while ((qm = strchr(t, '?')) != NULL) {
			o += (size_t)snprintf(sql2 + o, sizeof sql2 - o, "%.*s'plan'", (int)(qm - t), t);
			t = qm + 1;
		}
		snprintf(sql2 + o, sizeof sql2 - o, "%s", t);
	}
	/* a second buffer: statements are cached by their text's address */
	r = bj_db_queryp(db, sql2, NULL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	/* each kind's part reads its queues in pass order from the index */
	CU_ASSERT_TRUE(r->nrows >= 2);
	for (int i = 0; i < r->nrows; i++)
		if (bj_rows_get(r, i, 2) != NULL && strcmp(bj_rows_get(r, i, 2), "claim_queues") == 0)
			CU_ASSERT_STRING_EQUAL(bj_rows_get(r, i, 5), "ix_claim_queues_pass");
	bj_rows_free(r);
}

#define THREADS 8
#define RACE_ITEMS 400

struct racer {
	pthread_t	 t;
	long long	 ids[RACE_ITEMS];
	int		 n;
	int		 errors;
};

/* One claimer on its own connection: claim until nothing is left. */
static void *
race(void *arg)
{
	struct racer *me = arg;
	struct bj_db *mine;
	const char *kinds[] = { "race" };
	struct bj_claim_req r = { "racer", kinds, 1, 7, 0, 0, NULL, NULL };
	struct bj_claimed *c;
	int n, empty = 0;

	mysql_thread_init();
	mine = bj_db_new(conf);
	if (bj_db_connect(mine) == -1) {
		me->errors++;
		goto out;
	}
	while (empty < 3) {
		if (bj_claim(mine, &r, &c, &n) != BJ_OK) {
			me->errors++;
			continue;
		}
		empty = n == 0 ? empty + 1 : 0;
		for (int i = 0; i < n && me->n < RACE_ITEMS; i++)
			me->ids[me->n++] = c[i].id;
		bj_claimed_free(c, n);
	}
out:
	bj_db_free(mine);
	mysql_thread_end();
	return NULL;
}

static void
test_concurrent_claimers_never_share(void)
{
	static struct racer rs[THREADS];
	long long id = make("race", RACE_ITEMS, 1);
	char *seen = bj_xcalloc(1, 1 << 20);
	long long total = 0, dup = 0, errors = 0, base;

	base = q("SELECT MIN(id) FROM items WHERE job_id = %lld", id);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&rs[i].t, NULL, race, &rs[i]);
	for (int i = 0; i < THREADS; i++)
		pthread_join(rs[i].t, NULL);
	for (int i = 0; i < THREADS; i++) {
		errors += rs[i].errors;
		for (int k = 0; k < rs[i].n; k++) {
			long long off = rs[i].ids[k] - base;
			if (off < 0 || off >= (1 << 20) || seen[off]++)
				dup++;
			total++;
		}
	}
	CU_ASSERT_EQUAL(errors, 0);
	CU_ASSERT_EQUAL(dup, 0);
	CU_ASSERT_EQUAL(total, RACE_ITEMS);
	CU_ASSERT_EQUAL(q("SELECT n_claimed FROM jobs WHERE id = %lld", id), RACE_ITEMS);
	CU_ASSERT_EQUAL(q("SELECT n_pending FROM jobs WHERE id = %lld", id), 0);
	CU_ASSERT_EQUAL(q("SELECT COUNT(*) FROM items WHERE job_id = %lld AND attempt = 1"
	    " AND state = 'claimed'", id), RACE_ITEMS);
	free(seen);
}

int
main(void)
{
	CU_pSuite s;

	mysql_library_init(0, NULL, NULL);
	s = bj_test_suite("claim", init, NULL);
	CU_add_test(s, "a big job is created whole", test_create_whole_and_big);
	CU_add_test(s, "batches over 4 MB go row by row", test_big_payloads_go_row_by_row);
	CU_add_test(s, "Idempotency-Key: same body, other body, other owner", test_idempotency);
	CU_add_test(s, "spec errors name the field", test_spec_check_names_field);
	CU_add_test(s, "claim: lease, attempt, start, stage gating", test_claim_basics_and_gating);
	CU_add_test(s, "claim skips paused, cancelled, past deadline, not yet due, other kinds",
	    test_claim_skips_paused_future_and_other_kinds);
	CU_add_test(s, "claim queries are served by indexes", test_claim_plan_uses_indexes);
	CU_add_test(s, "concurrent claimers never receive the same item",
	    test_concurrent_claimers_never_share);
	return bj_test_run();
}
