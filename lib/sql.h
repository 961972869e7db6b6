/*
 * sql.h: every runtime SQL text of bulkjobs.
 *
 * Each text is a statement prepared once per connection (db.c caches them
 * by text). Every value is a '?' placeholder; the comment beside each says
 * the parameters it binds, in order: i an integer (BJ_P_INT), s a string
 * (BJ_P_STR, or BJ_P_NULL).
 * Grouped by the module that runs them: the texts are defined in sql.c
 * and sql_<area>.c beside it. Only two kinds of statement live elsewhere,
 * because they are not runtime queries: db.c's session setup and
 * transaction starts, and migrate.c's bookkeeping table and the
 * migrations themselves (the files under sql/, embedded at build time).
 */
#ifndef BJ_SQL_H
#define BJ_SQL_H

#include <stddef.h>

/* --- health and migrations --- */
extern const char BJ_SQL_MIGRATIONS_MAX[];
extern const char BJ_SQL_MIGRATIONS_TABLE_EXISTS[];	/* s: database name */
extern const char BJ_SQL_MIGRATION_RECORD[];		/* i: version, s: name */
extern const char BJ_SQL_MIGRATION_APPLIED[];		/* i: version */
extern const char BJ_SQL_GET_LOCK[];			/* s: name, i: timeout */
extern const char BJ_SQL_RELEASE_LOCK[];		/* s: name */
extern const char BJ_SQL_IS_LOCK_MINE[];		/* s: name */
extern const char BJ_SQL_WSREP_ON[];		/* -> 1 on a Galera node (an error: no wsrep) */
extern const char BJ_SQL_WSREP_STATE[];		/* -> name, value of wsrep_ready and the state */
extern const char BJ_SQL_SYNC_WAIT_SET[];	/* + a number: the session's wsrep_sync_wait */
extern const char BJ_SQL_LEASE_LOCK_TAKE[];	/* s name, s holder, i seconds */
extern const char BJ_SQL_LEASE_LOCK_HOLDER[];	/* s name -> holder */
extern const char BJ_SQL_LEASE_LOCK_RENEW[];	/* i seconds, s name, s holder */
extern const char BJ_SQL_LEASE_LOCK_RELEASE[];	/* s name, s holder */

/* --- api tokens --- */
extern const char BJ_SQL_TOKEN_INSERT[];	/* s name, s hash, s scopes, s owner */
extern const char BJ_SQL_TOKEN_LIST[];
extern const char BJ_SQL_TOKEN_REVOKE[];	/* s name */
extern const char BJ_SQL_TOKEN_LOOKUP[];	/* s hash -> id, name, scopes, owner */
extern const char BJ_SQL_TOKEN_TOUCH[];		/* i id */

/* --- jobs, claims, leases, fan-in (sql_api.c) --- */
extern const char BJ_SQL_JOB_GET[];		/* i id -> the columns of struct bj_job */
extern const char BJ_SQL_JOB_BY_TOKEN[];	/* s token -> same */
extern const char BJ_SQL_JOB_LOCK[];		/* i id -> state, stage, stage_remaining, on_item_failure, n_total, n_succeeded, n_failed, kind */
extern const char BJ_SQL_STAGE_LEFT[];		/* i job, i stage -> items not ended */
extern const char BJ_SQL_STAGE_REMAINING_SET[];	/* i n, i job, i stage */
extern const char BJ_SQL_STAGE_NEXT[];		/* i job, i stage -> next stage with pending items or NULL */
extern const char BJ_SQL_STAGE_OPEN[];		/* i new, i job, i new, i job, i old */
extern const char BJ_SQL_JOB_END[];		/* s to, i id, s from */
extern const char BJ_SQL_ITEMS_CANCEL_CLAIMED[];	/* i job */
extern const char BJ_SQL_JOB_COUNT_CANCEL_LATER[];	/* i claimed, i claimed, i job */
extern const char BJ_SQL_OUTBOX_RECORD[];	/* s event, s job ids as a JSON array */
extern const char BJ_SQL_EVENT_ADD[];		/* i job, s type, s detail */
#define BJ_SQL_MAX_KINDS 16
#define BJ_STR_(x) #x
#define BJ_STR(x) BJ_STR_(x)
#define BJ_CLAIM_QUEUES 8		/* candidate queues a claim reads */
#define BJ_CLAIM_QUEUE_JOBS 4		/* jobs of one queue a claim tries */
/* s kind x nkinds -> kind, owner, pass: the active claim queues, least pass first */
const char *bj_sql_claim_queues(int nkinds);
extern const char BJ_SQL_QUEUE_TRY[];		/* s kind, s owner -> active (locks, skips locked) */
extern const char BJ_SQL_QUEUE_JOBS[];		/* s kind, s owner -> id, stage, lease_seconds, priority, max_concurrency, state, pass */
extern const char BJ_SQL_QUEUE_CHARGE[];	/* i cost, s kind, s owner */
extern const char BJ_SQL_QUEUE_OWE[];		/* s kind, s owner, i cost */
extern const char BJ_SQL_QUEUE_RAISE[];		/* i pass, s kind, s owner */
extern const char BJ_SQL_JOB_RAISE[];		/* i pass, i job */
extern const char BJ_SQL_QUEUE_IDLE[];		/* s kind, s owner */
extern const char BJ_SQL_QUEUE_FLOOR[];		/* s kind -> least pass of its active queues */
extern const char BJ_SQL_QUEUE_JOIN[];		/* s kind, s owner, i pass */
extern const char BJ_SQL_JOB_FLOOR[];		/* s kind, s owner, i job -> least pass of the others */
extern const char BJ_SQL_JOB_QUEUE[];		/* i job -> kind, owner */
extern const char BJ_SQL_JOB_CLAIMED_LOCK[];	/* i job -> n_claimed (locks) */
extern const char BJ_SQL_LIMIT_LOCK[];		/* s scope, s name */
extern const char BJ_SQL_OWNER_CLAIMED[];	/* s owner -> items claimed */
extern const char BJ_SQL_KIND_CLAIMED[];	/* s kind -> items claimed */
extern const char BJ_SQL_CLAIM_ITEMS[];		/* i job, i stage, i limit -> id (locks, skips locked) */
extern const char BJ_SQL_CLAIM_SET[];		/* s [[id,"token"],…], i seconds, s worker */
extern const char BJ_SQL_CLAIM_COUNT[];		/* i n, i n, i cost, i job, i stage */
extern const char BJ_SQL_CLAIM_KEY_TAKE[];	/* s key hash (1062: taken before) */
extern const char BJ_SQL_CLAIM_KEY_SET[];	/* s [[id,"token"],…], s key hash */
extern const char BJ_SQL_CLAIM_KEY_GET[];	/* s key hash -> pairs */
extern const char BJ_SQL_CLAIMED_AGAIN[];	/* s [[id,"token"],…] -> as BJ_SQL_CLAIMED_LIST, those still claimed */
extern const char BJ_SQL_JOB_START[];		/* i job */
extern const char BJ_SQL_CLAIMED_LIST[];	/* s [[id,"token"],…] -> id, job_id, kind, key, stage, payload, attempt, lease_token, lease_expires_at, in that order */
extern const char BJ_SQL_ITEM_DONE_UNDER[];	/* s token, s token, i item -> 1 succeeded under it, 2 failed under it, 0 */
extern const char BJ_SQL_LEASE_HEARTBEAT[];	/* i secs, i secs, i done, i total, i item, s token */
extern const char BJ_SQL_LEASE_STATUS[];	/* i item -> lease_expires_at, job state, item state */
extern const char BJ_SQL_LEASE_HOLDER[];	/* i item, s token -> job_id, stage, attempt, its last attempt, on_item_failure, kind, seconds since the claim, attempt in this round */
extern const char BJ_SQL_ITEM_RETRY[];		/* s error, i delay, i item, s token */
extern const char BJ_SQL_ITEM_FAIL[];		/* s error, i item, s token */
extern const char BJ_SQL_FAILURE_RECORD[];	/* i job, i attempt, s error, s token, i item */
extern const char BJ_SQL_COUNT_FAILED[];	/* i stage, i job */
extern const char BJ_SQL_COUNT_RETRY[];		/* i job */
extern const char BJ_SQL_JOB_BY_IDEM[];		/* s owner, s key -> id, request_hash */
extern const char BJ_SQL_JOB_INSERT[];		/* s token, s kind, s owner, s title, s params, i stage, i stage_count, i remaining, i total, i pending, i deadline secs, i retention, s idem key, s hash, i max_attempts, i lease, s on_failure, s language, i priority, i max_concurrency (0: none) */
extern const char BJ_SQL_TARGET_INSERT[];	/* i job, s channel, s hash, s target */
#define BJ_SQL_ITEM_BATCH 500
#define BJ_SQL_BATCH_BYTES (4 << 20)	/* bigger batches go row by row */
/* (i job, i stage, s key, s payload) x n rows; n is 1 or BJ_SQL_ITEM_BATCH */
const char *bj_sql_items_insert(int n);
struct bj_db;
struct bj_item_spec;
/* Insert n items of job in batches of BJ_SQL_ITEM_BATCH inside the caller's transaction; 0 or -1. */
extern const char BJ_SQL_JOB_STATE[];	/* i job -> state */
extern const char BJ_SQL_JOB_PAUSE[];		/* i job */
extern const char BJ_SQL_JOB_RESUME[];		/* i job */
extern const char BJ_SQL_JOB_RETRY_LOCK[];	/* i job -> state, round, files removed */
extern const char BJ_SQL_ITEMS_RETRY[];		/* i job */
extern const char BJ_SQL_ITEMS_RETRY_CLAIMED[];	/* i job */
extern const char BJ_SQL_JOB_RETRY_START[];	/* i job, i round */
/* job list for filter mask (1 owner, 2 state, 4 kind): s per filter, i before-id, i limit */
const char *bj_sql_jobs_list(int mask);
extern const char BJ_SQL_ITEMS_FIRST[];		/* i job -> smallest item id */
extern const char BJ_SQL_ITEMS_LIST[];		/* i after-id, i job, i limit -> render.h item columns */
extern const char BJ_SQL_ITEMS_LIST_STATE[];	/* i job, s state, i after-id, i limit -> same */
extern const char BJ_SQL_ITEMS_LIST_ENDED[];	/* (i job, i after-id, i limit) x 2, i limit -> same */
extern const char BJ_SQL_ITEM_GET[];		/* i item -> same */
extern const char BJ_SQL_EVENTS_LIST[];		/* i job, i after-id, i limit -> at, type, detail */
extern const char BJ_SQL_METRICS_JOBS[];	/* -> state, count */
extern const char BJ_SQL_METRICS_ITEMS[];	/* -> pending, claimed, succeeded, failed, cancelled */
extern const char BJ_SQL_METRICS_OLDEST[];	/* -> seconds the oldest claimable item has waited */
extern const char BJ_SQL_METRICS_NOTIFY[];	/* -> state, count */
extern const char BJ_SQL_REQUEUE_LOCK[];	/* i item -> job_id, item state, item stage, job state, job stage */
extern const char BJ_SQL_ITEM_REQUEUE[];	/* i item, s from-state */
extern const char BJ_SQL_COUNT_REQUEUE[];	/* s from x4, i item stage, i job */
int bj_sql_items_bulk(struct bj_db *db, long long job, const struct bj_item_spec *items,
    size_t n);

/* --- end-user pages (sql_pages.c) --- */
extern const char BJ_SQL_PAGES_JOB_BY_TOKEN[];	/* s token -> the page's job columns */
extern const char BJ_SQL_PAGES_LAPSED[];	/* i job, i time -> claims lapsed before it, latest lease */
extern const char BJ_SQL_PAGES_LIST[];		/* s owner, i before id, i limit */
extern const char BJ_SQL_PAGES_STAGE[];		/* (i job, i stage) x3 -> stages before, first key, second id */
extern const char BJ_SQL_PAGES_SECRET_GET[];
extern const char BJ_SQL_PAGES_SECRET_INSERT[];	/* s secret */
/* i job, i limit x3 (failures, notifications, events) -> part, order, 5 columns by part */
extern const char BJ_SQL_PAGES_DETAILS[];

/* --- reaper sweeps and doctor (sql_reaper.c) --- */
extern const char BJ_SQL_REAPER_ORPHANS_TABLE[];	/* text: CREATE TEMPORARY TABLE */
extern const char BJ_SQL_REAPER_ORPHANS_CLEAR[];
extern const char BJ_SQL_REAPER_ORPHANS_PICK[];	/* i limit */
extern const char BJ_SQL_REAPER_FAILED_CLAIMS[];	/* i limit -> id, job_id, attempt, stage, worker */
extern const char BJ_SQL_REAPER_FAILED_CLAIMS_PICK[];	/* i limit */
extern const char BJ_SQL_REAPER_ORPHANS_LOCK_JOBS[];	/* -> job id */
extern const char BJ_SQL_REAPER_ORPHANS_FATE[];
extern const char BJ_SQL_REAPER_ORPHANS_MOVE[];	/* s error */
extern const char BJ_SQL_REAPER_ORPHANS_UNMOVED[];
extern const char BJ_SQL_REAPER_ORPHANS_FAILURES[];	/* s error */
extern const char BJ_SQL_REAPER_ORPHANS_EVENTS[];	/* s cause */
extern const char BJ_SQL_REAPER_ORPHANS_COUNT[];
extern const char BJ_SQL_REAPER_ORPHANS_LIST[];	/* i all -> id, job_id, attempt, fate */
extern const char BJ_SQL_REAPER_ORPHANS_SUMMARY[];	/* -> n, requeue, fail, revoke */
extern const char BJ_SQL_REAPER_ORPHANS_ENDED[];	/* -> job id, fail_job */
extern const char BJ_SQL_REAPER_JOB_LOCK[];	/* i job -> state, stage, max_attempts, on_item_failure */
extern const char BJ_SQL_REAPER_TARGETS[];	/* i job -> count */
extern const char BJ_SQL_REAPER_CANCEL_PENDING[];	/* i job, i job, i limit */
extern const char BJ_SQL_REAPER_CANCEL_CLAIMED[];	/* i job, i job, i limit */
extern const char BJ_SQL_REAPER_COUNT_CANCELLED_PENDING[];	/* i n, i n, i job */
extern const char BJ_SQL_REAPER_COUNT_CANCELLED_CLAIMED[];	/* i n, i n, i job */
extern const char BJ_SQL_REAPER_SETTLE_DUE[];	/* i after id, i limit -> id */
extern const char BJ_SQL_REAPER_EXPIRE_DUE[];	/* i limit -> id */
extern const char BJ_SQL_REAPER_EXPIRING_TABLE[];	/* text: CREATE TEMPORARY TABLE */
extern const char BJ_SQL_REAPER_EXPIRING_CLEAR[];
extern const char BJ_SQL_REAPER_EXPIRING_PICK[];	/* i limit */
extern const char BJ_SQL_REAPER_EXPIRING_RECOUNT[];
extern const char BJ_SQL_REAPER_EXPIRING_CLAIMS[];
extern const char BJ_SQL_REAPER_EXPIRING_END[];
extern const char BJ_SQL_REAPER_EXPIRING_EVENTS[];
extern const char BJ_SQL_REAPER_EXPIRING_SUMMARY[];	/* -> jobs, notifications, ids (JSON) */
extern const char BJ_SQL_REAPER_ARTIFACTS_DUE[];	/* i limit -> id, artifact */
extern const char BJ_SQL_REAPER_ARTIFACT_LOCK[];	/* i job -> artifact */
extern const char BJ_SQL_REAPER_PURGE_CLAIM_KEYS[];	/* i age seconds, i limit */
extern const char BJ_SQL_REAPER_PURGE_RUNS[];	/* i age seconds, i limit */
extern const char BJ_SQL_REAPER_ITEM_ARTIFACTS[];	/* i job, i limit -> item id, artifact */
extern const char BJ_SQL_REAPER_ITEM_ARTIFACT_GONE[];	/* i item */
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
extern const char BJ_SQL_REAPER_DRIFTED_FULL[];	/* i after id, i limit -> id */
extern const char BJ_SQL_JOB_RECOUNT[];	/* i job, i job (the reaper and a retry) */
extern const char BJ_SQL_REAPER_RECOUNT_ENDING[];	/* i job, i job */
extern const char BJ_SQL_REAPER_TERMINAL_LEFTOVERS[];	/* i limit -> job id, job state, item state */
extern const char BJ_SQL_REAPER_LEFTOVERS_DUE[];	/* i after id, i limit -> job id, job state, item state, repair */

/* --- the operators' console (sql_admin.c) --- */
/* -> part 1 (state, kind, n): jobs not ended; part 2: jobs ended in the last hour */
extern const char BJ_SQL_ADMIN_JOB_COUNTS[];
extern const char BJ_SQL_ADMIN_WAITING[];	/* -> kind, items pending, seconds the oldest due one waited */
extern const char BJ_SQL_ADMIN_MINUTES[];	/* -> minutes ago (0-59), items succeeded */
extern const char BJ_SQL_ADMIN_REAPER[];	/* i limit -> the last runs (reaper_runs columns) */
extern const char BJ_SQL_ADMIN_LOCK[];		/* s lock name x2 -> 1 when a reaper holds it now */
extern const char BJ_SQL_ADMIN_NOTIFY_COUNTS[];	/* -> state, count (pending and dead) */
/* -> part (1 holds, 2 succeeded, 3 failed attempts), worker, n, claim ago, heartbeat ago */
extern const char BJ_SQL_ADMIN_WORKERS[];
extern const char BJ_SQL_ADMIN_FAILURE_GROUPS[];	/* i limit -> error, attempts, jobs, seconds ago */
/* i limit -> error, attempt, job id, token, title, key, worker, at, seconds ago */
extern const char BJ_SQL_ADMIN_FAILURES[];
/* s state, i limit -> id, job id, token, event, channel, target, attempts, last error, ago */
extern const char BJ_SQL_ADMIN_NOTES[];
extern const char BJ_SQL_ADMIN_REAPER_RUN[];	/* i microseconds, d seconds, s outcome, s host, i counts x8 */

/* --- notifier outbox (sql_notify.c) --- */
extern const char BJ_SQL_NOTIFY_DUE[];		/* i limit -> id (FOR UPDATE SKIP LOCKED) */
extern const char BJ_SQL_NOTIFY_LEASE[];	/* i lease seconds, i id */
extern const char BJ_SQL_NOTIFY_GET[];		/* i id -> id, job_id, event, channel, target, attempts, now, attempt_base */
extern const char BJ_SQL_NOTIFY_FIRST_ERRORS[];	/* i job id, i limit -> key, error */
extern const char BJ_SQL_NOTIFY_SENT[];		/* s status (NULL: none), i id, i attempts */
extern const char BJ_SQL_NOTIFY_RETRY[];	/* i delay seconds, s status, s error, i id, i attempts */
extern const char BJ_SQL_NOTIFY_DEAD[];		/* s status, s error, i id, i attempts */
extern const char BJ_SQL_NOTIFY_JOB_TOUCH[];	/* i notification id */
extern const char BJ_SQL_NOTIFY_ATTEMPT[];	/* i notification id, i attempt, s status, s error */
extern const char BJ_SQL_NOTIFY_REDELIVER[];	/* i id, i job -> a dead one pending again, fresh budget */
extern const char BJ_SQL_NOTIFY_HISTORY[];	/* i job id -> a job's notifications and attempts */


/* --- batch completions (sql_api.c) --- */
extern const char BJ_SQL_ITEMS_LOCATE[];	/* s [id,…] -> ordinal in the array, job_id, stage, state, lease_token, kind, seconds since the claim (locks the items, in array order; the subquery reads the job unlocked) */
extern const char BJ_SQL_ITEMS_SUCCEED[];	/* s [[id,"token",result,artifact],…] */
extern const char BJ_SQL_COUNT_SUCCEEDED[];	/* i n, i n, i n, i stage, i n, i n, s artifact, i job */
/* --- status page of a job that has not ended (sql_pages.c) --- */
/* i job, i limit -> part 3, order, at, type, detail: the timeline alone */
extern const char BJ_SQL_PAGES_TIMELINE[];
/* i job, i limit -> part 1, order, key, attempt, error, at: failed attempts alone */
extern const char BJ_SQL_PAGES_FAILED[];
#endif
