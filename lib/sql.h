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
extern const char BJ_SQL_REAPER_ORPHANS[];	/* i limit -> id, job_id, attempt, stage */
extern const char BJ_SQL_REAPER_FAILED_CLAIMS[];	/* i limit -> id, job_id, attempt, stage */
extern const char BJ_SQL_REAPER_JOB_LOCK[];	/* i job -> state, stage, max_attempts, on_item_failure */
extern const char BJ_SQL_REAPER_ITEM_REQUEUE[];	/* i backoff seconds, s error, i item, i attempt */
extern const char BJ_SQL_REAPER_ITEM_FAIL[];	/* s error, i item, i attempt */
extern const char BJ_SQL_REAPER_ITEM_REVOKE[];	/* i item, i attempt */
extern const char BJ_SQL_REAPER_FAILURE_UPSERT[];	/* i item, i job, i attempt, s error */
extern const char BJ_SQL_REAPER_COUNT_REQUEUE[];	/* i job */
extern const char BJ_SQL_REAPER_COUNT_FAIL[];	/* i item stage, i job */
extern const char BJ_SQL_REAPER_COUNT_REVOKE[];	/* i job */
extern const char BJ_SQL_REAPER_JOB_SETTLE_INFO[];	/* i job -> state, stage, on_item_failure */
extern const char BJ_SQL_REAPER_STAGE_OPEN[];	/* i job, i stage -> count */
extern const char BJ_SQL_REAPER_HAS_FAILED[];	/* i job -> 0/1 */
extern const char BJ_SQL_REAPER_NEXT_STAGE[];	/* i job -> stage or NULL */
extern const char BJ_SQL_REAPER_SET_REMAINING[];	/* i remaining, i job, i stage, s state */
extern const char BJ_SQL_REAPER_STAGE_ADVANCE[];	/* i new stage, i remaining, i job, i old stage, s state */
extern const char BJ_SQL_REAPER_JOB_END[];	/* s new state, i job, s old state */
extern const char BJ_SQL_REAPER_JOB_FINISH[];	/* s state, s state, i job */
extern const char BJ_SQL_REAPER_CANCEL_PENDING[];	/* i job, i job, i limit */
extern const char BJ_SQL_REAPER_CANCEL_CLAIMED[];	/* i job, i job, i limit */
extern const char BJ_SQL_REAPER_COUNT_CANCELLED_PENDING[];	/* i n, i n, i job */
extern const char BJ_SQL_REAPER_COUNT_CANCELLED_CLAIMED[];	/* i n, i n, i job */
extern const char BJ_SQL_REAPER_OUTBOX[];	/* s event, i job, s event */
extern const char BJ_SQL_REAPER_EVENT[];	/* i job, s type, s detail */
extern const char BJ_SQL_REAPER_SETTLE_DUE[];	/* i after id, i limit -> id */
extern const char BJ_SQL_REAPER_EXPIRE_DUE[];	/* i limit -> id */
extern const char BJ_SQL_REAPER_ARTIFACTS_DUE[];	/* i limit -> id, artifact */
extern const char BJ_SQL_REAPER_ARTIFACT_GONE[];	/* i job */
extern const char BJ_SQL_REAPER_PURGE_DUE[];	/* i age seconds, i limit -> id */
extern const char BJ_SQL_REAPER_PURGE_ITEMS[];	/* i job, i limit */
extern const char BJ_SQL_REAPER_PURGE_FAILURES[];	/* i job, i limit */
extern const char BJ_SQL_REAPER_PURGE_EVENTS[];	/* i job, i limit */
extern const char BJ_SQL_REAPER_PURGE_ATTEMPTS[];	/* i job */
extern const char BJ_SQL_REAPER_PURGE_NOTIFICATIONS[];	/* i job, i limit */
extern const char BJ_SQL_REAPER_PURGE_TARGETS[];	/* i job, i limit */
extern const char BJ_SQL_REAPER_PURGE_JOB[];	/* i job, i age seconds */
extern const char BJ_SQL_REAPER_DRIFTED[];	/* i after id, i limit -> id */
extern const char BJ_SQL_REAPER_RECOUNT[];	/* i job */
extern const char BJ_SQL_REAPER_TERMINAL_LEFTOVERS[];	/* i limit -> job id, job state, item state */

/* --- notifier outbox (sql_notify.c) --- */

#endif
