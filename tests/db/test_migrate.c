/* test_migrate.c: the schema on a real MariaDB; migrate is idempotent and refuses newer databases. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "migrate.h"

static struct bj_db *db;

static int
init(void)
{
	db = bj_test_db("migrate");
	return db == NULL;
}

static void
test_tables_exist(void)
{
	static const char *tables[] = { "jobs", "items", "item_failures", "notifications",
	    "job_events", "api_tokens", "schema_migrations", "job_targets",
	    "notification_attempts" };
	char sql[256];

	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM information_schema.tables "
		    "WHERE table_schema = DATABASE() AND table_name = '%s' AND engine = 'InnoDB'",
		    tables[i]);
		CU_ASSERT_EQUAL(bj_test_scalar(db, sql), 1);
	}
}

static void
test_second_run_is_noop(void)
{
	char *cause = NULL;
	const char *name = bj_test_conf("migrate")->db_name;

	CU_ASSERT_EQUAL(bj_migrate_current(db, name), bj_migrate_latest());
	CU_ASSERT_EQUAL(bj_migrate(db, name, &cause), 0);
	CU_ASSERT_PTR_NULL(cause);
	free(cause);
	CU_ASSERT_EQUAL(bj_test_scalar(db, "SELECT COUNT(*) FROM schema_migrations"),
	    bj_nmigrations);
}

static void
test_unique_keys_the_contract_needs(void)
{
	static const char *keys[][2] = {
		{ "item_failures", "uq_item_failures" },
		{ "notifications", "uq_notifications" },
		{ "jobs", "uq_jobs_owner_idem" },
		{ "jobs", "uq_jobs_token" },
	};
	char sql[300];

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM information_schema.statistics "
		    "WHERE table_schema = DATABASE() AND table_name = '%s' AND index_name = '%s' "
		    "AND non_unique = 0", keys[i][0], keys[i][1]);
		CU_ASSERT_TRUE(bj_test_scalar(db, sql) >= 1);
	}
	/* the same failure twice is refused by the key, as the upsert relies on */
	bj_test_sql(db, "INSERT INTO item_failures (item_id, job_id, attempt, error, failed_at)"
	    " VALUES (1, 1, 1, 'x', NOW(6))");
	CU_ASSERT_NOT_EQUAL(bj_db_exec_text(db, "INSERT INTO item_failures "
	    "(item_id, job_id, attempt, error, failed_at) VALUES (1, 1, 1, 'y', NOW(6))"), 0);
	CU_ASSERT_EQUAL(bj_db_errno(db), 1062);
	bj_test_sql(db, "DELETE FROM item_failures");
}

static void
test_refuses_newer_database(void)
{
	char *cause = NULL;
	const char *name = bj_test_conf("migrate")->db_name;

	bj_test_sql(db, "INSERT INTO schema_migrations (version, name, applied_at)"
	    " VALUES (9999, '9999_future.sql', NOW(6))");
	CU_ASSERT_EQUAL(bj_migrate(db, name, &cause), -1);
	CU_ASSERT_PTR_NOT_NULL(cause);
	if (cause)
		CU_ASSERT_PTR_NOT_NULL(strstr(cause, "newer"));
	free(cause);
	bj_test_sql(db, "DELETE FROM schema_migrations WHERE version = 9999");
}

/*
 * A migration numbered below one already applied (two branches merged in
 * another order than their numbers) is still applied, not skipped.
 */
static void
test_applies_a_lower_unrecorded_migration(void)
{
	const struct bj_conf *c = bj_test_conf("migrate");
	struct bj_db *gap;
	char name[80], sql[200], *cause = NULL;
	int high = bj_migrations[bj_nmigrations - 1].version;

	CU_ASSERT_FATAL(bj_nmigrations >= 2 && bj_migrations[0].version < high);
	snprintf(name, sizeof name, "%s_gap", c->db_name);
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS `%s`", name);
	bj_test_sql(db, sql);
	snprintf(sql, sizeof sql, "CREATE DATABASE `%s` CHARACTER SET utf8mb4", name);
	bj_test_sql(db, sql);
	gap = bj_db_new(c);
	bj_db_set_name(gap, name);
	CU_ASSERT_EQUAL_FATAL(bj_db_connect(gap), 0);
	/* only the highest migration is recorded: every lower one is pending */
	bj_test_sql(gap, "CREATE TABLE schema_migrations (version INT UNSIGNED NOT NULL"
	    " PRIMARY KEY, name VARCHAR(200) NOT NULL, applied_at DATETIME(6) NOT NULL)");
	snprintf(sql, sizeof sql, "INSERT INTO schema_migrations VALUES (%d, 'x.sql', NOW(6))",
	    high);
	bj_test_sql(gap, sql);

	CU_ASSERT_EQUAL(bj_migrate_pending(gap, name), bj_nmigrations - 1);
	CU_ASSERT_EQUAL(bj_migrate(gap, name, &cause), bj_nmigrations - 1);
	CU_ASSERT_PTR_NULL(cause);
	free(cause);
	cause = NULL;
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM schema_migrations WHERE version = %d",
	    bj_migrations[0].version);
	CU_ASSERT_EQUAL(bj_test_scalar(gap, sql), 1);
	CU_ASSERT_EQUAL(bj_test_scalar(gap, "SELECT COUNT(*) FROM information_schema.tables"
	    " WHERE table_schema = DATABASE() AND table_name = 'jobs'"), 1);
	CU_ASSERT_EQUAL(bj_migrate_pending(gap, name), 0);
	/* and again: nothing left to do */
	CU_ASSERT_EQUAL(bj_migrate(gap, name, &cause), 0);
	CU_ASSERT_PTR_NULL(cause);
	free(cause);
	snprintf(sql, sizeof sql, "DROP DATABASE `%s`", name);
	bj_test_sql(db, sql);
	bj_db_free(gap);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("migrate", init, NULL);

	CU_add_test(s, "every table exists, InnoDB", test_tables_exist);
	CU_add_test(s, "migrate twice is a no-op", test_second_run_is_noop);
	CU_add_test(s, "the contract's unique keys", test_unique_keys_the_contract_needs);
	CU_add_test(s, "a newer database is refused", test_refuses_newer_database);
	CU_add_test(s, "a lower unrecorded migration is applied",
	    test_applies_a_lower_unrecorded_migration);
	return bj_test_run();
}
