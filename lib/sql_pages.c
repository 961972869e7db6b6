/*
 * sql_pages.c: the queries of the end-user pages (status page, list,
 * download, form posts) and of their CSRF secret. Declared in sql.h.
 */
#include "config.h"

#include "sql.h"

#define T(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"
#define AGO(col) "TIMESTAMPDIFF(SECOND, " col ", NOW(6))"

/* the columns of a job as the pages read it (page_status.c, BJ_PJ_*) */
#define PAGE_JOB_COLS \
    "id, token, kind, owner, title, state, stage, stage_count," \
    " n_total, n_pending, n_claimed, n_succeeded, n_failed, n_cancelled," \
    " " T("created_at") ", " T("started_at") ", " T("finished_at") "," \
    " " T("deadline_at") ", artifact, " T("artifact_expires_at") "," \
    " artifact_deleted_at IS NOT NULL, artifact_expires_at <= NOW(6), language," \
    " " AGO("created_at") ", " AGO("started_at") ", " AGO("finished_at") "," \
    " " AGO("deadline_at") ", " AGO("artifact_expires_at") "," \
    " TIMESTAMPDIFF(SECOND, started_at, COALESCE(finished_at, NOW(6)))"

/*
 * The page job columns, then where the open stage stands: how many stages
 * come before it, its first item's key and its second item's id (NULL when
 * it has one item). The job row is a constant (unique token), so each
 * subquery is a few dives into ix_items_job_stage, a loose index scan for
 * the distinct stages: none reads a job's items one by one.
 */
const char BJ_SQL_PAGES_JOB_BY_TOKEN[] =
    "SELECT " PAGE_JOB_COLS ","
    " (SELECT COUNT(DISTINCT i.job_id, i.stage) FROM items i"
    "   WHERE i.job_id = jobs.id AND i.stage < jobs.stage),"
    " (SELECT i.`key` FROM items i WHERE i.job_id = jobs.id AND i.stage = jobs.stage"
    "   ORDER BY i.id LIMIT 1),"
    " (SELECT i.id FROM items i WHERE i.job_id = jobs.id AND i.stage = jobs.stage"
    "   ORDER BY i.id LIMIT 1 OFFSET 1)"
    " FROM jobs WHERE token = ?";

const char BJ_SQL_PAGES_LIST[] =
    "SELECT " PAGE_JOB_COLS " FROM jobs WHERE owner = ? AND id < ?"
    " ORDER BY id DESC LIMIT ?";

const char BJ_SQL_PAGES_STAGE[] =
    "SELECT (SELECT COUNT(DISTINCT stage) FROM items WHERE job_id = ? AND stage < ?),"
    " COUNT(*), MIN(`key`) FROM items WHERE job_id = ? AND stage = ?";

const char BJ_SQL_PAGES_FAILURES[] =
    "SELECT i.`key`, f.attempt, f.error, " T("f.failed_at") ", i.state"
    " FROM item_failures f JOIN items i ON i.id = f.item_id"
    " WHERE f.job_id = ? ORDER BY f.id DESC LIMIT ?";

const char BJ_SQL_PAGES_EVENTS[] =
    "SELECT " T("at") ", type, detail FROM job_events"
    " WHERE job_id = ? ORDER BY id DESC LIMIT ?";

const char BJ_SQL_PAGES_NOTIFICATIONS[] =
    "SELECT channel, target, state, attempts, last_error, " T("next_attempt_at") ","
    " " T("sent_at") ", event FROM notifications WHERE job_id = ? ORDER BY id";

/*
 * The status page's three lists in one round trip, each bounded and read
 * through its job index: part 1 failed attempts (key, attempt, error, at),
 * newest first; part 2 notifications (channel, target, state, attempts,
 * last error), oldest first; part 3 the timeline (at, type, detail),
 * newest first. Columns: part, order, then the part's own.
 */
const char BJ_SQL_PAGES_DETAILS[] =
    "(SELECT 1 AS part, -f.id AS ord, i.`key` AS c1, f.attempt AS c2, f.error AS c3,"
    "  " T("f.failed_at") " AS c4, NULL AS c5"
    "  FROM item_failures f JOIN items i ON i.id = f.item_id"
    "  WHERE f.job_id = ? ORDER BY f.id DESC LIMIT ?)"
    " UNION ALL"
    " (SELECT 2, id, channel, target, state, attempts, last_error FROM notifications"
    "  WHERE job_id = ? ORDER BY id LIMIT ?)"
    " UNION ALL"
    " (SELECT 3, -id, " T("at") ", type, detail, NULL, NULL FROM job_events"
    "  WHERE job_id = ? ORDER BY id DESC LIMIT ?)"
    " ORDER BY part, ord";

const char BJ_SQL_PAGES_SECRET_GET[] =
    "SELECT secret FROM http_secrets WHERE id = 1";

const char BJ_SQL_PAGES_SECRET_INSERT[] =
    "INSERT IGNORE INTO http_secrets (id, secret, created_at) VALUES (1, ?, NOW(6))";
