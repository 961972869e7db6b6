/*
 * test_db.c: the database layer against a real MariaDB: binding, NULLs,
 * big values, reconnect, batches, and a job insert retried after a lock
 * wait time-out.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "create.h"
#include "harness.h"
#include "sql.h"

static struct bj_db *db;

static int
init(void)
{
	db = bj_test_db("db");
	return bj_db_exec_text(db, "CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT,"
	    " s LONGTEXT NULL, n BIGINT NULL, d DATETIME(6) NULL)");
}

static const char Q_INS[] = "INSERT INTO t (s, n, d) VALUES (?, ?, NOW(6))";
static const char Q_GET[] = "SELECT s, n, d FROM t WHERE id = ?";
static const char Q_TZ[] = "SELECT @@session.time_zone, @@character_set_client";

static void
test_bind_and_fetch(void)
{
	unsigned long long affected = 0, id;
	struct bj_rows *r;

	CU_ASSERT_EQUAL_FATAL(bj_db_execp(db, Q_INS, &affected, BJ_PARAMS(BJ_P_STR("héllo ✓"),
	    BJ_P_INT(42))), 0);
	CU_ASSERT_EQUAL(affected, 1);
	id = bj_db_insert_id(db);
	r = bj_db_queryp(db, Q_GET, BJ_PARAMS(BJ_P_INT(id)));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->nrows, 1);
	CU_ASSERT_STRING_EQUAL(bj_rows_get(r, 0, 0), "héllo ✓");
	CU_ASSERT_EQUAL(bj_rows_int(r, 0, 1), 42);
	CU_ASSERT_PTR_NOT_NULL(bj_rows_get(r, 0, 2));
	CU_ASSERT_PTR_NULL(bj_rows_get(r, 1, 0));	/* out of range */
	bj_rows_free(r);
}

static void
test_nulls(void)
{
	struct bj_rows *r;

	CU_ASSERT_EQUAL_FATAL(bj_db_execp(db, Q_INS, NULL, BJ_PARAMS(BJ_P_NULL, BJ_P_INT(0))),
	    0);
	r = bj_db_queryp(db, Q_GET, BJ_PARAMS(BJ_P_INT(bj_db_insert_id(db))));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NULL(bj_rows_get(r, 0, 0));
	bj_rows_free(r);
}

/* The format-string form binds as the arrays do, and refuses an unknown letter. */
static void
test_format_strings(void)
{
	struct bj_rows *r;

	CU_ASSERT_EQUAL_FATAL(bj_db_exec(db, Q_INS, NULL, "si", "by format", 9LL), 0);
	r = bj_db_query(db, Q_GET, "i", (long long)bj_db_insert_id(db));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(bj_rows_get(r, 0, 0), "by format");
	CU_ASSERT_EQUAL(bj_rows_int(r, 0, 1), 9);
	bj_rows_free(r);
	CU_ASSERT_EQUAL(bj_db_exec(db, Q_INS, NULL, "sx", "bad", 1LL), -1);
}

static void
test_large_value(void)
{
	struct bj_buf b = { 0 };
	struct bj_rows *r;

	for (int i = 0; i < 300000; i++)
		bj_buf_addc(&b, (char)('a' + i % 26));
	CU_ASSERT_EQUAL_FATAL(bj_db_execp(db, Q_INS, NULL, BJ_PARAMS(BJ_P_BYTES(b.data,
	    b.len), BJ_P_INT(1))), 0);
	r = bj_db_queryp(db, Q_GET, BJ_PARAMS(BJ_P_INT(bj_db_insert_id(db))));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->lens[0], b.len);
	CU_ASSERT_EQUAL(memcmp(bj_rows_get(r, 0, 0), b.data, b.len), 0);
	bj_rows_free(r);
	bj_buf_free(&b);
}

static void
test_session_is_utc_utf8mb4(void)
{
	struct bj_rows *r = bj_db_queryp(db, Q_TZ, NULL, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(bj_rows_get(r, 0, 0), "+00:00");
	CU_ASSERT_STRING_EQUAL(bj_rows_get(r, 0, 1), "utf8mb4");
	bj_rows_free(r);
}

/* Times read as stored: microseconds since the epoch and ISO 8601, NULL as no time. */
static void
test_times_as_stored(void)
{
	struct bj_rows *r = bj_db_queryp(db, "SELECT CAST('2026-12-05 09:29:34.012345' AS DATETIME(6)),"
	    " CAST('1970-01-01 00:00:01' AS DATETIME), NULL, 'soon',"
	    " CAST('2026-12-05 09:29:34.12' AS DATETIME(2))", NULL, 0);
	long long us = -1;
	char *iso;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(bj_rows_time(r, 0, 0, &us), 1);
	CU_ASSERT_EQUAL(us, 1796462974012345LL);
	iso = bj_rows_iso(r, 0, 0, 1, NULL);
	CU_ASSERT_STRING_EQUAL(iso, "2026-12-05T09:29:34.012345Z");
	free(iso);
	iso = bj_rows_iso(r, 0, 0, 0, &us);
	CU_ASSERT_STRING_EQUAL(iso, "2026-12-05T09:29:34Z");
	free(iso);
	CU_ASSERT_EQUAL(bj_rows_time(r, 0, 1, &us), 1);
	CU_ASSERT_EQUAL(us, 1000000);
	iso = bj_rows_iso(r, 0, 1, 1, NULL);
	CU_ASSERT_STRING_EQUAL(iso, "1970-01-01T00:00:01.000000Z");
	free(iso);
	CU_ASSERT_EQUAL(bj_rows_time(r, 0, 2, &us), 0);
	CU_ASSERT_EQUAL(us, 0);
	CU_ASSERT_PTR_NULL(bj_rows_iso(r, 0, 2, 1, &us));
	CU_ASSERT_EQUAL(bj_rows_time(r, 0, 3, &us), 0);
	/* fewer digits: hundredths */
	CU_ASSERT_EQUAL(bj_rows_time(r, 0, 4, &us), 1);
	CU_ASSERT_EQUAL(us, 1796462974120000LL);
	iso = bj_rows_iso(r, 0, 4, 1, NULL);
	CU_ASSERT_STRING_EQUAL(iso, "2026-12-05T09:29:34.120000Z");
	free(iso);
	bj_rows_free(r);

	/* the API's spelling reads the same; anything else is no time */
	CU_ASSERT_EQUAL(bj_time_parse("2026-12-05T09:29:34Z", &us), 1);
	CU_ASSERT_EQUAL(us, 1796462974000000LL);
	CU_ASSERT_EQUAL(bj_time_parse("2026-12-05T09:29:34.012345Z", &us), 1);
	CU_ASSERT_EQUAL(us, 1796462974012345LL);
	{
		const char *bad[] = { "", "2026-12-05", "2026-12-05 09:29", "2026-12-05x09:29:34",
		    "2026-12-05 09:29:34.", "2026-12-05 09:29:34Zx", "2026-12-05 9:29:34",
		    " 2026-12-05 09:29:34", "2026-12-05 09:29:34 " };

		for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
			us = -1;
			CU_ASSERT_EQUAL(bj_time_parse(bad[i], &us), 0);
			CU_ASSERT_EQUAL(us, 0);
		}
	}
}

/* A killed connection is replaced on the next statement outside a transaction. */
static void
test_reconnect_after_kill(void)
{
	struct bj_db *other = bj_db_new(bj_test_conf("db"));
	long long id = bj_test_scalar(db, "SELECT CONNECTION_ID()");
	char sql[64];
	struct bj_rows *r;

	CU_ASSERT_EQUAL_FATAL(bj_db_connect(other), 0);
	snprintf(sql, sizeof sql, "KILL CONNECTION %lld", id);
	CU_ASSERT_EQUAL(bj_db_exec_text(other, sql), 0);
	r = bj_db_queryp(db, Q_GET, BJ_PARAMS(BJ_P_INT(1)));
	CU_ASSERT_PTR_NOT_NULL(r);
	bj_rows_free(r);
	CU_ASSERT_NOT_EQUAL(bj_test_scalar(db, "SELECT CONNECTION_ID()"), id);
	bj_db_free(other);
}

/* Inside a transaction a lost link is an error, never a silent retry. */
static void
test_no_silent_retry_in_transaction(void)
{
	struct bj_db *other = bj_db_new(bj_test_conf("db"));
	long long id;
	char sql[64];

	CU_ASSERT_EQUAL_FATAL(bj_db_connect(other), 0);
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	CU_ASSERT_EQUAL(bj_db_execp(db, Q_INS, NULL, BJ_PARAMS(BJ_P_STR("in-tx"),
	    BJ_P_INT(7))), 0);
	id = bj_test_scalar(db, "SELECT CONNECTION_ID()");
	snprintf(sql, sizeof sql, "KILL CONNECTION %lld", id);
	CU_ASSERT_EQUAL(bj_db_exec_text(other, sql), 0);
	CU_ASSERT_EQUAL(bj_db_execp(db, Q_INS, NULL, BJ_PARAMS(BJ_P_STR("after-kill"),
	    BJ_P_INT(8))), -1);
	CU_ASSERT_TRUE(bj_db_gone(db));
	bj_db_rollback(db);
	/* the next transaction starts on a new link, and nothing of the old one survived */
	CU_ASSERT_EQUAL(bj_db_begin(db), 0);
	bj_db_rollback(db);
	CU_ASSERT_EQUAL(bj_test_scalar(db, "SELECT COUNT(*) FROM t WHERE s IN ('in-tx','after-kill')"), 0);
	bj_db_free(other);
}

static void
test_duplicate_key_errno(void)
{
	CU_ASSERT_EQUAL(bj_db_exec_text(db, "INSERT INTO t (id) VALUES (1)"), -1);
	CU_ASSERT_EQUAL(bj_db_errno(db), 1062);
	CU_ASSERT_FALSE(bj_db_gone(db));
}

/*
 * Inside a transaction a plain read sees what another session committed
 * after the transaction's first read (READ COMMITTED): the fan-in counts
 * open items after other workers completed theirs.
 */
static void
test_reads_see_later_commits(void)
{
	struct bj_db *other = bj_db_new(bj_test_conf("db"));
	long long before, after;

	CU_ASSERT_EQUAL_FATAL(bj_db_connect(other), 0);
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(db), 0);
	before = bj_test_scalar(db, "SELECT COUNT(*) FROM t");
	CU_ASSERT_EQUAL(bj_db_execp(other, Q_INS, NULL,
	    BJ_PARAMS(BJ_P_STR("committed meanwhile"), BJ_P_INT(7))), 0);
	after = bj_test_scalar(db, "SELECT COUNT(*) FROM t");
	CU_ASSERT_EQUAL(after, before + 1);
	CU_ASSERT_EQUAL(bj_db_commit(db), 0);
	bj_db_free(other);
}

/* Row i of the batch tests: key i (or 3 again at row 5 when asked), its text. */
static void
batch_row(void *arg, size_t i, struct bj_param *p)
{
	const int *dup = arg;
	static const char big[] = "a longer value than max_bytes allows in one batch";

	p[0] = BJ_P_INT(*dup && i == 5 ? 3 : i);
	p[1] = BJ_P_STR(i == 6 ? big : "v");
}

/*
 * Eight rows in batches of three: two batches and two single rows, or
 * single rows only where a batch's values are too big; a failing row
 * reports the server's error.
 */
static void
test_batch(void)
{
	int dup = 0;
	struct bj_db_batch b = {
		.many = "INSERT INTO u (k, v) VALUES (?, ?), (?, ?), (?, ?)",
		.one = "INSERT INTO u (k, v) VALUES (?, ?)",
		.rows = 3, .cols = 2, .max_bytes = 60, .fill = batch_row, .arg = &dup,
	};

	bj_test_sql(db, "CREATE TABLE u (k INT PRIMARY KEY, v TEXT NOT NULL)");
	CU_ASSERT_EQUAL(bj_db_exec_batch(db, &b, 8), 0);
	CU_ASSERT_EQUAL(bj_test_scalar(db, "SELECT COUNT(*) FROM u"), 8);
	CU_ASSERT_EQUAL(bj_test_scalar(db, "SELECT SUM(k) FROM u"), 28);
	bj_test_sql(db, "DELETE FROM u");
	dup = 1;
	CU_ASSERT_EQUAL(bj_db_exec_batch(db, &b, 8), -1);
	CU_ASSERT_EQUAL(bj_db_errno(db), 1062);
	CU_ASSERT_PTR_NOT_NULL(strstr(bj_db_error(db), "Duplicate"));
	CU_ASSERT_EQUAL(bj_test_scalar(db, "SELECT COUNT(*) FROM u"), 3);
}

/* Roll back the other session's transaction after 1.5 s. */
static void *
release_later(void *other)
{
	usleep(1500000);
	bj_db_rollback(other);
	return NULL;
}

/*
 * Another session holds the gap at the end of the items table: a new
 * job's item insert waits, times out (1205) and bj_job_create tries the
 * whole transaction again, which goes through once the lock is gone.
 */
static void
test_job_create_retries_lock_wait(void)
{
	struct bj_db *other = bj_db_new(bj_test_conf("db"));
	struct bj_item_spec items[BJ_SQL_ITEM_BATCH + 1];
	char keys[BJ_SQL_ITEM_BATCH + 1][16];
	struct bj_job_spec spec;
	long long before, id = 0;
	int existed;
	pthread_t th;

	bj_test_job_spec(&spec, "lockwait", items, keys, BJ_SQL_ITEM_BATCH + 1, 1);
	before = bj_test_scalar(db, "SELECT COALESCE(MAX(id), 0) FROM jobs");
	CU_ASSERT_EQUAL_FATAL(bj_db_connect(other), 0);
	bj_test_sql(other, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
	CU_ASSERT_EQUAL_FATAL(bj_db_begin(other), 0);
	bj_test_sql(other, "SELECT id FROM items WHERE id >= 0 FOR UPDATE");
	bj_test_sql(db, "SET SESSION innodb_lock_wait_timeout = 1");
	pthread_create(&th, NULL, release_later, other);
	CU_ASSERT_EQUAL(bj_job_create(db, &spec, &id, &existed), BJ_OK);
	pthread_join(th, NULL);
	bj_test_sql(db, "SET SESSION innodb_lock_wait_timeout = DEFAULT");
	/* the first try's job row was rolled back, its id not reused */
	CU_ASSERT(id > before + 1);
	CU_ASSERT_EQUAL(bj_test_scalar(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'lockwait'"), 1);
	CU_ASSERT_EQUAL(bj_test_scalar(db, "SELECT COUNT(*) FROM items"), BJ_SQL_ITEM_BATCH + 1);
	bj_db_free(other);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("db", init, NULL);

	CU_add_test(s, "bind and fetch utf8mb4", test_bind_and_fetch);
	CU_add_test(s, "NULL binds and fetches", test_nulls);
	CU_add_test(s, "format strings still bind", test_format_strings);
	CU_add_test(s, "a 300 kB value round-trips", test_large_value);
	CU_add_test(s, "sessions are UTC and utf8mb4", test_session_is_utc_utf8mb4);
	CU_add_test(s, "times read as stored", test_times_as_stored);
	CU_add_test(s, "reconnect after KILL CONNECTION", test_reconnect_after_kill);
	CU_add_test(s, "no silent retry inside a transaction", test_no_silent_retry_in_transaction);
	CU_add_test(s, "duplicate key is reported, not fatal", test_duplicate_key_errno);
	CU_add_test(s, "reads in a transaction see later commits", test_reads_see_later_commits);
	CU_add_test(s, "batches of rows, and their errors", test_batch);
	CU_add_test(s, "a job insert is tried again after a lock wait time-out",
	    test_job_create_retries_lock_wait);
	return bj_test_run();
}
