/*
 * sql.h: every runtime SQL text of bulkjobs.
 *
 * Each text is a statement prepared once per connection (db.c caches them
 * by text). Every value is a '?' placeholder; the comment above each says
 * the parameters it binds, in bj_db_exec()'s format letters.
 * Grouped by the module that runs them: the texts are defined in sql.c
 * and sql_<area>.c beside it, and nowhere else.
 */
#ifndef BJ_SQL_H
#define BJ_SQL_H

/* --- health and migrations --- */
extern const char BJ_SQL_PING[];
extern const char BJ_SQL_MIGRATIONS_MAX[];
extern const char BJ_SQL_MIGRATIONS_TABLE_EXISTS[];	/* s: database name */
extern const char BJ_SQL_MIGRATION_RECORD[];		/* i: version, s: name */
extern const char BJ_SQL_GET_LOCK[];			/* s: name, i: timeout */
extern const char BJ_SQL_RELEASE_LOCK[];		/* s: name */
extern const char BJ_SQL_IS_LOCK_MINE[];		/* s: name */

/* --- api tokens --- */
extern const char BJ_SQL_TOKEN_INSERT[];	/* s name, s hash, s scopes, s owner */
extern const char BJ_SQL_TOKEN_LIST[];
extern const char BJ_SQL_TOKEN_REVOKE[];	/* s name */
extern const char BJ_SQL_TOKEN_LOOKUP[];	/* s hash -> id, name, scopes, owner */
extern const char BJ_SQL_TOKEN_TOUCH[];		/* i id */

/* --- jobs, claims, leases, fan-in (sql_api.c) --- */

/* --- end-user pages (sql_pages.c) --- */

/* --- reaper sweeps and doctor (sql_reaper.c) --- */
extern const char BJ_SQL_REAPER_ORPHANS[];
extern const char BJ_SQL_REAPER_FAILED_CLAIMS[];
extern const char BJ_SQL_REAPER_JOB_LOCK[];
extern const char BJ_SQL_REAPER_ITEM_REQUEUE[];
extern const char BJ_SQL_REAPER_ITEM_FAIL[];
extern const char BJ_SQL_REAPER_ITEM_REVOKE[];
extern const char BJ_SQL_REAPER_FAILURE_UPSERT[];
extern const char BJ_SQL_REAPER_COUNT_REQUEUE[];
extern const char BJ_SQL_REAPER_COUNT_FAIL[];
extern const char BJ_SQL_REAPER_COUNT_REVOKE[];
extern const char BJ_SQL_REAPER_JOB_SETTLE_INFO[];
extern const char BJ_SQL_REAPER_STAGE_OPEN[];
extern const char BJ_SQL_REAPER_HAS_FAILED[];
extern const char BJ_SQL_REAPER_NEXT_STAGE[];
extern const char BJ_SQL_REAPER_SET_REMAINING[];
extern const char BJ_SQL_REAPER_STAGE_ADVANCE[];
extern const char BJ_SQL_REAPER_JOB_END[];
extern const char BJ_SQL_REAPER_JOB_FINISH[];
extern const char BJ_SQL_REAPER_CANCEL_PENDING[];
extern const char BJ_SQL_REAPER_CANCEL_CLAIMED[];
extern const char BJ_SQL_REAPER_COUNT_CANCELLED_PENDING[];
extern const char BJ_SQL_REAPER_COUNT_CANCELLED_CLAIMED[];
extern const char BJ_SQL_REAPER_OUTBOX[];
extern const char BJ_SQL_REAPER_EVENT[];
extern const char BJ_SQL_REAPER_SETTLE_DUE[];
extern const char BJ_SQL_REAPER_EXPIRE_DUE[];
extern const char BJ_SQL_REAPER_ARTIFACTS_DUE[];
extern const char BJ_SQL_REAPER_ARTIFACT_GONE[];
extern const char BJ_SQL_REAPER_PURGE_DUE[];
extern const char BJ_SQL_REAPER_PURGE_ITEMS[];
extern const char BJ_SQL_REAPER_PURGE_FAILURES[];
extern const char BJ_SQL_REAPER_PURGE_EVENTS[];
extern const char BJ_SQL_REAPER_PURGE_ATTEMPTS[];
extern const char BJ_SQL_REAPER_PURGE_NOTIFICATIONS[];
extern const char BJ_SQL_REAPER_PURGE_TARGETS[];
extern const char BJ_SQL_REAPER_PURGE_JOB[];
extern const char BJ_SQL_REAPER_DRIFTED[];
extern const char BJ_SQL_REAPER_JOB_DRIFTED[];
extern const char BJ_SQL_REAPER_RECOUNT[];
extern const char BJ_SQL_REAPER_TERMINAL_LEFTOVERS[];

/* --- notifier outbox (sql_notify.c) --- */

#endif
