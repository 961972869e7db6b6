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
extern const char BJ_SQL_JOB_GET[];		/* i id -> the columns of struct bj_job */
extern const char BJ_SQL_JOB_BY_TOKEN[];	/* s token -> same */
extern const char BJ_SQL_JOB_LOCK[];		/* i id -> state, stage, stage_remaining, on_item_failure, n_total, n_succeeded, n_failed */
extern const char BJ_SQL_STAGE_LEFT[];		/* i job, i stage -> items not ended */
extern const char BJ_SQL_STAGE_REMAINING_SET[];	/* i n, i job, i stage */
extern const char BJ_SQL_STAGE_NEXT[];		/* i job, i stage -> next stage with pending items or NULL */
extern const char BJ_SQL_STAGE_OPEN[];		/* i new, i job, i new, i job, i old */
extern const char BJ_SQL_JOB_END[];		/* s to, i id, s from */
extern const char BJ_SQL_ITEMS_CANCEL_PENDING[];	/* i job */
extern const char BJ_SQL_ITEMS_CANCEL_CLAIMED[];	/* i job */
extern const char BJ_SQL_JOB_COUNT_CANCEL[];	/* i pending, i claimed, i pending, i claimed, i job */
extern const char BJ_SQL_OUTBOX_RECORD[];	/* s event, i job */
extern const char BJ_SQL_EVENT_ADD[];		/* i job, s type, s detail */

/* --- end-user pages (sql_pages.c) --- */
extern const char BJ_SQL_PAGES_JOB_BY_TOKEN[];	/* s token -> the page's job columns */
extern const char BJ_SQL_PAGES_LIST[];		/* s owner, i before id, i limit */
extern const char BJ_SQL_PAGES_STAGE[];		/* i job, i stage, i job, i stage -> ordinal-1, items, min key */
extern const char BJ_SQL_PAGES_FAILURES[];	/* i job, i limit -> key, attempt, error, at, item state */
extern const char BJ_SQL_PAGES_EVENTS[];	/* i job, i limit -> at, type, detail */
extern const char BJ_SQL_PAGES_NOTIFICATIONS[];	/* i job -> channel, target, state, attempts, error, next, sent, event */
extern const char BJ_SQL_PAGES_SECRET_GET[];
extern const char BJ_SQL_PAGES_SECRET_INSERT[];	/* s secret */
extern const char BJ_SQL_PAGES_SET_STATE[];	/* s new state, i job, s old state */

/* --- reaper sweeps and doctor (sql_reaper.c) --- */

/* --- notifier outbox (sql_notify.c) --- */
extern const char BJ_SQL_NOTIFY_DUE[];		/* i limit -> id (FOR UPDATE SKIP LOCKED) */
extern const char BJ_SQL_NOTIFY_LEASE[];	/* i lease seconds, i id */
extern const char BJ_SQL_NOTIFY_GET[];		/* i id -> id, job_id, event, channel, target, attempts, now */
extern const char BJ_SQL_NOTIFY_FIRST_ERRORS[];	/* i job id, i limit -> key, error */
extern const char BJ_SQL_NOTIFY_SENT[];		/* s status (NULL: none), i id, i attempts */
extern const char BJ_SQL_NOTIFY_RETRY[];	/* i delay seconds, s status, s error, i id, i attempts */
extern const char BJ_SQL_NOTIFY_DEAD[];		/* s status, s error, i id, i attempts */
extern const char BJ_SQL_NOTIFY_ATTEMPT[];	/* i notification id, i attempt, s status, s error */
extern const char BJ_SQL_NOTIFY_HISTORY[];	/* i job id -> a job's notifications and attempts */

#endif
